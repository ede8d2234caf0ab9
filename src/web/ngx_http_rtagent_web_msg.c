
/*
 * The browser channel's control messages (see ngx_http_rtagent_web_msg.h):
 * one safe yajl parse (src/json), then the members of each type.
 */


#include <stdio.h>
#include <string.h>

#include <json/ngx_http_rtagent_json.h>
#include <call/ngx_http_rtagent_call_id.h>
#include <web/ngx_http_rtagent_web_msg.h>


#define ngx_http_rtagent_web_err(...)                                        \
    if (err) {                                                               \
        snprintf(err, errlen, __VA_ARGS__);                                  \
    }


static ngx_http_rtagent_web_msg_rc_e ngx_http_rtagent_web_msg_start(
    ngx_http_rtagent_web_msg_t *m, char *err, size_t errlen);
static const char *ngx_http_rtagent_web_msg_shown(const char *s);


ngx_http_rtagent_web_msg_rc_e
ngx_http_rtagent_web_msg_parse(const char *p, size_t len,
    ngx_http_rtagent_web_msg_t *m, char *err, size_t errlen)
{
    const char  *type;
    char         buf[128];

    memset(m, 0, sizeof(ngx_http_rtagent_web_msg_t));

    if (err && errlen) {
        err[0] = '\0';
    }

    if (len > NGX_HTTP_RTAGENT_WEB_MSG_MAX) {
        ngx_http_rtagent_web_err("control message of %zu bytes, more than %d",
                                 len, NGX_HTTP_RTAGENT_WEB_MSG_MAX);
        return NGX_HTTP_RTAGENT_WEB_MSG_TOO_LARGE;
    }

    /* the agent's name is compared and logged up to its NUL */
    buf[0] = '\0';
    m->tree = ngx_http_rtagent_json_parse(p, len,
                                          NGX_HTTP_RTAGENT_WEB_MSG_DEPTH,
                                          NGX_HTTP_RTAGENT_JSON_NO_U0000,
                                          buf, sizeof(buf));

    if (m->tree == NULL) {
        ngx_http_rtagent_web_err("%s", buf);

        return strcmp(buf, "out of memory") == 0
               ? NGX_HTTP_RTAGENT_WEB_MSG_NO_MEMORY
               : NGX_HTTP_RTAGENT_WEB_MSG_MALFORMED;
    }

    if (!YAJL_IS_OBJECT(m->tree)) {
        ngx_http_rtagent_web_err("not a JSON object");
        return NGX_HTTP_RTAGENT_WEB_MSG_MALFORMED;
    }

    type = ngx_http_rtagent_json_str(m->tree, "type", (const char *) NULL);

    if (type == NULL) {
        ngx_http_rtagent_web_err("no \"type\" string");
        return NGX_HTTP_RTAGENT_WEB_MSG_NO_TYPE;
    }

    if (strcmp(type, "start") == 0) {
        return ngx_http_rtagent_web_msg_start(m, err, errlen);
    }

    if (strcmp(type, "stop") == 0) {
        m->type = NGX_HTTP_RTAGENT_WEB_STOP;
        return NGX_HTTP_RTAGENT_WEB_MSG_OK;
    }

    ngx_http_rtagent_web_err("unknown type \"%s\"",
                             ngx_http_rtagent_web_msg_shown(type));

    return NGX_HTTP_RTAGENT_WEB_MSG_UNKNOWN;
}


static ngx_http_rtagent_web_msg_rc_e
ngx_http_rtagent_web_msg_start(ngx_http_rtagent_web_msg_t *m, char *err,
    size_t errlen)
{
    yajl_val     v;
    long long    rate;
    const char  *codec;

    v = ngx_http_rtagent_json_get(m->tree, "sampleRate", (const char *) NULL);

    if (v == NULL || !YAJL_IS_INTEGER(v)) {
        ngx_http_rtagent_web_err("start needs an integer \"sampleRate\"");
        return NGX_HTTP_RTAGENT_WEB_MSG_BAD_FIELD;
    }

    rate = YAJL_GET_INTEGER(v);

    if (rate < NGX_HTTP_RTAGENT_WEB_RATE_MIN
        || rate > NGX_HTTP_RTAGENT_WEB_RATE_MAX)
    {
        ngx_http_rtagent_web_err("\"sampleRate\" %lld is not from %d to %d",
                                 rate, NGX_HTTP_RTAGENT_WEB_RATE_MIN,
                                 NGX_HTTP_RTAGENT_WEB_RATE_MAX);
        return NGX_HTTP_RTAGENT_WEB_MSG_UNSUPPORTED;
    }

    m->rate = (unsigned) rate;
    m->codec = NGX_HTTP_RTAGENT_WEB_PCM16;

    v = ngx_http_rtagent_json_get(m->tree, "codec", (const char *) NULL);

    if (v) {
        codec = YAJL_IS_STRING(v) ? v->u.string : NULL;

        if (codec == NULL) {
            ngx_http_rtagent_web_err("\"codec\" is not a string");
            return NGX_HTTP_RTAGENT_WEB_MSG_BAD_FIELD;
        }

        if (strcmp(codec, "opus") == 0) {
            m->codec = NGX_HTTP_RTAGENT_WEB_OPUS;

        } else if (strcmp(codec, "pcm16") != 0) {
            ngx_http_rtagent_web_err("unsupported codec \"%s\": "
                                     "\"opus\" or \"pcm16\"",
                                     ngx_http_rtagent_web_msg_shown(codec));
            return NGX_HTTP_RTAGENT_WEB_MSG_UNSUPPORTED;
        }
    }

    if (m->codec == NGX_HTTP_RTAGENT_WEB_OPUS
        && !ngx_http_rtagent_web_opus_rate(m->rate))
    {
        ngx_http_rtagent_web_err("\"sampleRate\" %u is not an Opus rate "
                                 "(8000, 12000, 16000, 24000, 48000)",
                                 m->rate);
        return NGX_HTTP_RTAGENT_WEB_MSG_UNSUPPORTED;
    }

    v = ngx_http_rtagent_json_get(m->tree, "agent", (const char *) NULL);

    if (v && !YAJL_IS_NULL(v)) {
        if (!YAJL_IS_STRING(v)
            || !ngx_http_rtagent_call_id_valid((const unsigned char *)
                                               v->u.string,
                                               strlen(v->u.string)))
        {
            ngx_http_rtagent_web_err("\"agent\" is not a name of 1 to %d "
                                     "of [0-9A-Za-z._:-]",
                                     NGX_HTTP_RTAGENT_CALL_ID_MAX);
            return NGX_HTTP_RTAGENT_WEB_MSG_BAD_FIELD;
        }

        m->agent = v->u.string;
        m->agent_len = strlen(v->u.string);
    }

    m->type = NGX_HTTP_RTAGENT_WEB_START;

    return NGX_HTTP_RTAGENT_WEB_MSG_OK;
}


/*
 * The sender's string as the error shows it: it goes into a close frame's
 * reason, a JSON event and the log, so it must be short, plain text
 */

static const char *
ngx_http_rtagent_web_msg_shown(const char *s)
{
    size_t  i;

    for (i = 0; s[i]; i++) {
        if (i == 32 || s[i] < 0x20 || s[i] > 0x7e || s[i] == '"'
            || s[i] == '\\')
        {
            return "...";
        }
    }

    return s;
}


void
ngx_http_rtagent_web_msg_free(ngx_http_rtagent_web_msg_t *m)
{
    if (m->tree) {
        yajl_tree_free(m->tree);
        m->tree = NULL;
    }
}


int
ngx_http_rtagent_web_opus_rate(unsigned rate)
{
    return rate == 8000 || rate == 12000 || rate == 16000 || rate == 24000
           || rate == 48000;
}
