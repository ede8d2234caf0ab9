
/*
 * Control messages (see ngx_http_rtagent_ctl_msg.h): one safe yajl parse
 * (src/json), then the members each action needs.
 */


#include <stdio.h>
#include <string.h>

#include <json/ngx_http_rtagent_json.h>
#include <store/ngx_http_rtagent_ctl_msg.h>


static void ngx_http_rtagent_ctl_msg_member(ngx_http_rtagent_ctl_msg_t *m,
    const char *key, ngx_http_rtagent_ctl_msg_str_t *s);


static const struct {
    const char                     *name;
    ngx_http_rtagent_ctl_action_e   action;
} ngx_http_rtagent_ctl_msg_actions[] = {
    { "hangup",       NGX_HTTP_RTAGENT_CTL_HANGUP },
    { "stop_audio",   NGX_HTTP_RTAGENT_CTL_STOP_AUDIO },
    { "transfer",     NGX_HTTP_RTAGENT_CTL_TRANSFER },
    { "inject_text",  NGX_HTTP_RTAGENT_CTL_INJECT_TEXT },
    { NULL,           0 }
};


ngx_http_rtagent_ctl_msg_rc_e
ngx_http_rtagent_ctl_msg_parse(const char *p, size_t len,
    ngx_http_rtagent_ctl_msg_t *m, char *err, size_t errlen)
{
    size_t     i;
    yajl_val   v;
    char       buf[128];

    memset(m, 0, sizeof(ngx_http_rtagent_ctl_msg_t));

    if (err && errlen) {
        err[0] = '\0';
    }

    if (len > NGX_HTTP_RTAGENT_CTL_MSG_MAX) {
        if (err) {
            snprintf(err, errlen, "%zu bytes, more than %d", len,
                     NGX_HTTP_RTAGENT_CTL_MSG_MAX);
        }

        return NGX_HTTP_RTAGENT_CTL_MSG_TOO_LARGE;
    }

    /* strings are compared and logged up to their NUL: no "\u0000" */
    buf[0] = '\0';
    m->tree = ngx_http_rtagent_json_parse(p, len,
                                          NGX_HTTP_RTAGENT_CTL_MSG_DEPTH,
                                          NGX_HTTP_RTAGENT_JSON_NO_U0000,
                                          buf, sizeof(buf));

    if (m->tree == NULL) {
        if (err) {
            snprintf(err, errlen, "%s", buf);
        }

        return strcmp(buf, "out of memory") == 0
               ? NGX_HTTP_RTAGENT_CTL_MSG_NO_MEMORY
               : NGX_HTTP_RTAGENT_CTL_MSG_MALFORMED;
    }

    if (!YAJL_IS_OBJECT(m->tree)) {
        if (err) {
            snprintf(err, errlen, "not a JSON object");
        }

        return NGX_HTTP_RTAGENT_CTL_MSG_MALFORMED;
    }

    v = ngx_http_rtagent_json_get(m->tree, "id", (const char *) NULL);

    if (v) {
        ngx_http_rtagent_ctl_msg_member(m, "id", &m->id);

        if (m->id.len == 0 || m->id.len > NGX_HTTP_RTAGENT_CTL_MSG_ID_MAX) {
            if (err) {
                snprintf(err, errlen, "\"id\" is not a string of 1 to %d "
                         "bytes", NGX_HTTP_RTAGENT_CTL_MSG_ID_MAX);
            }

            m->id.len = 0;
            m->id.data = NULL;

            return NGX_HTTP_RTAGENT_CTL_MSG_BAD_ID;
        }
    }

    ngx_http_rtagent_ctl_msg_member(m, "action", &m->name);

    if (m->name.data == NULL) {
        if (err) {
            snprintf(err, errlen, "no \"action\" string");
        }

        return NGX_HTTP_RTAGENT_CTL_MSG_NO_ACTION;
    }

    for (i = 0; ngx_http_rtagent_ctl_msg_actions[i].name; i++) {
        if (strcmp(m->name.data, ngx_http_rtagent_ctl_msg_actions[i].name)
            == 0)
        {
            m->action = ngx_http_rtagent_ctl_msg_actions[i].action;
            break;
        }
    }

    switch (m->action) {

    case NGX_HTTP_RTAGENT_CTL_HANGUP:
        /* how the call ended, as the control plane knows it */
        ngx_http_rtagent_ctl_msg_member(m, "outcome", &m->outcome);
        ngx_http_rtagent_ctl_msg_member(m, "reason", &m->reason);
        break;

    case NGX_HTTP_RTAGENT_CTL_STOP_AUDIO:
        break;

    case NGX_HTTP_RTAGENT_CTL_TRANSFER:
        ngx_http_rtagent_ctl_msg_member(m, "target", &m->target);

        if (m->target.len == 0) {
            if (err) {
                snprintf(err, errlen, "needs a \"target\"");
            }

            return NGX_HTTP_RTAGENT_CTL_MSG_INCOMPLETE;
        }

        break;

    case NGX_HTTP_RTAGENT_CTL_INJECT_TEXT:
        ngx_http_rtagent_ctl_msg_member(m, "text", &m->text);

        if (m->text.len == 0) {
            if (err) {
                snprintf(err, errlen, "needs a \"text\"");
            }

            return NGX_HTTP_RTAGENT_CTL_MSG_INCOMPLETE;
        }

        break;

    default:
        if (err) {
            snprintf(err, errlen, "is unknown");
        }

        return NGX_HTTP_RTAGENT_CTL_MSG_UNKNOWN;
    }

    return NGX_HTTP_RTAGENT_CTL_MSG_OK;
}


void
ngx_http_rtagent_ctl_msg_free(ngx_http_rtagent_ctl_msg_t *m)
{
    if (m->tree) {
        yajl_tree_free(m->tree);
        m->tree = NULL;
    }
}


const char *
ngx_http_rtagent_ctl_msg_error(ngx_http_rtagent_ctl_msg_rc_e rc)
{
    switch (rc) {
    case NGX_HTTP_RTAGENT_CTL_MSG_OK:
        return "ok";
    case NGX_HTTP_RTAGENT_CTL_MSG_TOO_LARGE:
        return "control message too large";
    case NGX_HTTP_RTAGENT_CTL_MSG_MALFORMED:
        return "malformed control message";
    case NGX_HTTP_RTAGENT_CTL_MSG_NO_ACTION:
        return "control message without action";
    case NGX_HTTP_RTAGENT_CTL_MSG_UNKNOWN:
        return "unknown control action";
    case NGX_HTTP_RTAGENT_CTL_MSG_INCOMPLETE:
        return "control action incomplete";
    case NGX_HTTP_RTAGENT_CTL_MSG_BAD_ID:
        return "control message with a bad id";
    default:
        return "out of memory";
    }
}


static void
ngx_http_rtagent_ctl_msg_member(ngx_http_rtagent_ctl_msg_t *m,
    const char *key, ngx_http_rtagent_ctl_msg_str_t *s)
{
    s->data = ngx_http_rtagent_json_str(m->tree, key, (const char *) NULL);
    s->len = s->data ? strlen(s->data) : 0;
}
