
/*
 * Azure Speech WebSocket ("USP") messages (see ngx_http_rtagent_usp.h).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json/ngx_http_rtagent_json.h>

#include "ngx_http_rtagent_usp.h"


#define JSON_DEPTH  32


static void
ngx_http_rtagent_usp_err(char *err, size_t errlen, const char *s)
{
    if (err && errlen) {
        snprintf(err, errlen, "%s", s);
    }
}


void
ngx_http_rtagent_usp_timestamp(char *dst, int64_t ms)
{
    char       buf[64];
    time_t     t;
    struct tm  tm;

    t = (time_t) (ms / 1000);
    gmtime_r(&t, &tm);

    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (ms % 1000));

    memcpy(dst, buf, NGX_HTTP_RTAGENT_USP_TIME_LEN);
}


void
ngx_http_rtagent_usp_id(char *dst, const uint32_t random[4])
{
    size_t              i;
    static const char   hex[] = "0123456789ABCDEF";

    for (i = 0; i < NGX_HTTP_RTAGENT_USP_ID_LEN; i++) {
        dst[i] = hex[(random[i / 8] >> (28 - 4 * (i % 8))) & 0xf];
    }
}


static size_t
ngx_http_rtagent_usp_put(unsigned char **p, const void *s, size_t len)
{
    if (*p) {
        memcpy(*p, s, len);
        *p += len;
    }

    return len;
}


#define put(p, s)  ngx_http_rtagent_usp_put(p, s, strlen(s))


static size_t
ngx_http_rtagent_usp_header(unsigned char **p, const char *name,
    const char *value, size_t len)
{
    size_t  n;

    n = put(p, name);
    n += put(p, ": ");
    n += ngx_http_rtagent_usp_put(p, value, len);
    n += put(p, "\r\n");

    return n;
}


size_t
ngx_http_rtagent_usp_text(unsigned char *dst, const char *path,
    const char *request_id, const char *timestamp, const char *type,
    const unsigned char *body, size_t len)
{
    size_t          n;
    unsigned char  *p = dst;

    n = ngx_http_rtagent_usp_header(&p, "Path", path, strlen(path));

    if (request_id) {
        n += ngx_http_rtagent_usp_header(&p, "X-RequestId", request_id,
                                         NGX_HTTP_RTAGENT_USP_ID_LEN);
    }

    n += ngx_http_rtagent_usp_header(&p, "X-Timestamp", timestamp,
                                     NGX_HTTP_RTAGENT_USP_TIME_LEN);
    n += ngx_http_rtagent_usp_header(&p, "Content-Type", type, strlen(type));
    n += put(&p, "\r\n");
    n += ngx_http_rtagent_usp_put(&p, body, len);

    return n;
}


size_t
ngx_http_rtagent_usp_audio_head(unsigned char *dst, const char *request_id,
    const char *timestamp, int first)
{
    size_t          n;
    unsigned char  *p;

    p = dst ? dst + 2 : NULL;

    n = ngx_http_rtagent_usp_header(&p, "Path", "audio", 5);
    n += ngx_http_rtagent_usp_header(&p, "X-RequestId", request_id,
                                     NGX_HTTP_RTAGENT_USP_ID_LEN);
    n += ngx_http_rtagent_usp_header(&p, "X-Timestamp", timestamp,
                                     NGX_HTTP_RTAGENT_USP_TIME_LEN);

    if (first) {
        n += ngx_http_rtagent_usp_header(&p, "Content-Type", "audio/x-wav",
                                         11);
    }

    /* "Name: value\r\n" lines, no blank line: the length says where */
    if (dst) {
        dst[0] = (unsigned char) (n >> 8);
        dst[1] = (unsigned char) n;
    }

    return n + 2;
}


static int
ngx_http_rtagent_usp_name(const unsigned char *p, size_t len,
    const char *name)
{
    size_t         i, n;
    unsigned char  a, b;

    n = strlen(name);

    if (len != n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        a = p[i];
        b = (unsigned char) name[i];

        if (a >= 'A' && a <= 'Z') {
            a |= 0x20;
        }

        if (b >= 'A' && b <= 'Z') {
            b |= 0x20;
        }

        if (a != b) {
            return 0;
        }
    }

    return 1;
}


/* "Name: value" lines of len bytes (CRLF-separated, the last may lack it) */

static int
ngx_http_rtagent_usp_headers(const unsigned char *p, size_t len,
    ngx_http_rtagent_usp_msg_t *msg, char *err, size_t errlen)
{
    const unsigned char  *end, *eol, *colon, *v, *ve;

    end = p + len;

    while (p < end) {
        eol = memchr(p, '\r', end - p);

        if (eol == NULL) {
            eol = end;

        } else if (eol + 1 >= end || eol[1] != '\n') {
            ngx_http_rtagent_usp_err(err, errlen, "a header line without LF");
            return -1;
        }

        if (eol > p) {
            colon = memchr(p, ':', eol - p);
            if (colon == NULL) {
                ngx_http_rtagent_usp_err(err, errlen,
                                         "a header line without a colon");
                return -1;
            }

            v = colon + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) {
                v++;
            }

            ve = eol;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
                ve--;
            }

            if (ngx_http_rtagent_usp_name(p, colon - p, "path")) {
                msg->path = v;
                msg->path_len = ve - v;

            } else if (ngx_http_rtagent_usp_name(p, colon - p,
                                                 "x-requestid"))
            {
                msg->request_id = v;
                msg->request_id_len = ve - v;

            } else if (ngx_http_rtagent_usp_name(p, colon - p,
                                                 "content-type"))
            {
                msg->type = v;
                msg->type_len = ve - v;
            }
        }

        p = (eol == end) ? end : eol + 2;
    }

    if (msg->path == NULL || msg->path_len == 0) {
        ngx_http_rtagent_usp_err(err, errlen, "no Path header");
        return -1;
    }

    return 0;
}


int
ngx_http_rtagent_usp_parse_text(const unsigned char *p, size_t len,
    ngx_http_rtagent_usp_msg_t *msg, char *err, size_t errlen)
{
    size_t  i;

    memset(msg, 0, sizeof(ngx_http_rtagent_usp_msg_t));

    for (i = 0; i + 4 <= len; i++) {
        if (p[i] == '\r' && memcmp(p + i, "\r\n\r\n", 4) == 0) {
            break;
        }
    }

    if (i + 4 > len) {
        ngx_http_rtagent_usp_err(err, errlen, "no blank line after headers");
        return -1;
    }

    if (i > NGX_HTTP_RTAGENT_USP_HEADER_MAX) {
        ngx_http_rtagent_usp_err(err, errlen, "headers over 8192 bytes");
        return -1;
    }

    /* the last header's CRLF is the first half of the blank line */
    if (ngx_http_rtagent_usp_headers(p, i, msg, err, errlen) != 0) {
        return -1;
    }

    msg->body = p + i + 4;
    msg->body_len = len - i - 4;

    return 0;
}


int
ngx_http_rtagent_usp_parse_binary(const unsigned char *p, size_t len,
    ngx_http_rtagent_usp_msg_t *msg, char *err, size_t errlen)
{
    size_t  n;

    memset(msg, 0, sizeof(ngx_http_rtagent_usp_msg_t));

    if (len < 2) {
        ngx_http_rtagent_usp_err(err, errlen, "no header length");
        return -1;
    }

    n = (size_t) p[0] << 8 | p[1];

    if (n > len - 2) {
        ngx_http_rtagent_usp_err(err, errlen,
                                 "the header length is past the message");
        return -1;
    }

    if (ngx_http_rtagent_usp_headers(p + 2, n, msg, err, errlen) != 0) {
        return -1;
    }

    msg->body = p + 2 + n;
    msg->body_len = len - 2 - n;

    return 0;
}


int
ngx_http_rtagent_usp_is(const ngx_http_rtagent_usp_msg_t *msg,
    const char *name)
{
    return ngx_http_rtagent_usp_name(msg->path, msg->path_len, name);
}


/* Offset / Duration: a number, or a string of digits */

static int
ngx_http_rtagent_usp_ticks(yajl_val v, int64_t *out)
{
    char       *end;
    long long   n;

    *out = 0;

    if (v == NULL) {
        return 0;
    }

    if (YAJL_IS_INTEGER(v)) {
        *out = YAJL_GET_INTEGER(v);
        return *out >= 0 ? 0 : -1;
    }

    if (YAJL_IS_STRING(v)) {
        if (v->u.string[0] < '0' || v->u.string[0] > '9') {
            return -1;
        }

        n = strtoll(v->u.string, &end, 10);

        if (*end != '\0' || n < 0) {
            return -1;
        }

        *out = n;
        return 0;
    }

    return -1;
}


int
ngx_http_rtagent_usp_result(const unsigned char *body, size_t len,
    int phrase, ngx_http_rtagent_usp_result_t *res, char *buf, size_t size,
    char *err, size_t errlen)
{
    size_t       n, i;
    yajl_val     root, best, conf;
    const char  *status, *text;
    char         jerr[96];

    static const char  *statuses[] = {
        "Success", "NoMatch", "InitialSilenceTimeout", "BabbleTimeout",
        "Error", "EndOfDictation", NULL
    };

    memset(res, 0, sizeof(ngx_http_rtagent_usp_result_t));
    res->confidence = -1;
    res->text = buf;

    if (size) {
        buf[0] = '\0';
    }

    root = ngx_http_rtagent_json_parse((const char *) body, len, JSON_DEPTH,
                                       NGX_HTTP_RTAGENT_JSON_NO_U0000
                                       |NGX_HTTP_RTAGENT_JSON_TERSE,
                                       jerr, sizeof(jerr));
    if (root == NULL) {
        ngx_http_rtagent_usp_err(err, errlen, jerr);
        return -1;
    }

    if (!YAJL_IS_OBJECT(root)
        || ngx_http_rtagent_usp_ticks(
               ngx_http_rtagent_json_get(root, "Offset", NULL), &res->offset)
           != 0
        || ngx_http_rtagent_usp_ticks(
               ngx_http_rtagent_json_get(root, "Duration", NULL),
               &res->duration)
           != 0)
    {
        yajl_tree_free(root);
        ngx_http_rtagent_usp_err(err, errlen, "bad Offset or Duration");
        return -1;
    }

    text = NULL;

    if (!phrase) {
        text = ngx_http_rtagent_json_str(root, "Text", NULL);

        if (text == NULL) {
            yajl_tree_free(root);
            ngx_http_rtagent_usp_err(err, errlen, "a hypothesis without Text");
            return -1;
        }

    } else {
        status = ngx_http_rtagent_json_str(root, "RecognitionStatus", NULL);

        if (status == NULL) {
            yajl_tree_free(root);
            ngx_http_rtagent_usp_err(err, errlen,
                                     "a phrase without RecognitionStatus");
            return -1;
        }

        res->status = NGX_HTTP_RTAGENT_USP_OTHER;

        for (i = 0; statuses[i]; i++) {
            if (strcmp(status, statuses[i]) == 0) {
                res->status = (ngx_http_rtagent_usp_status_e) i;
                break;
            }
        }

        if (res->status == NGX_HTTP_RTAGENT_USP_SUCCESS) {
            best = ngx_http_rtagent_json_get(root, "NBest", NULL);

            if (best && YAJL_IS_ARRAY(best) && best->u.array.len
                && YAJL_IS_OBJECT(best->u.array.values[0]))
            {
                /* detailed: the first of the N best is the SDK's pick */
                text = ngx_http_rtagent_json_str(best->u.array.values[0],
                                                 "Display", NULL);
                conf = ngx_http_rtagent_json_get(best->u.array.values[0],
                                                 "Confidence", NULL);

                if (conf && YAJL_IS_NUMBER(conf)) {
                    res->confidence = YAJL_GET_DOUBLE(conf);

                    if (!(res->confidence >= 0 && res->confidence <= 1)) {
                        res->confidence = -1;
                    }
                }

            } else {
                text = ngx_http_rtagent_json_str(root, "DisplayText", NULL);
            }

            if (text == NULL) {
                yajl_tree_free(root);
                ngx_http_rtagent_usp_err(err, errlen,
                                         "a Success phrase without text");
                return -1;
            }
        }
    }

    if (text && size) {
        n = strlen(text);
        n = n < size - 1 ? n : size - 1;
        memcpy(buf, text, n);
        buf[n] = '\0';
        res->text_len = n;
    }

    yajl_tree_free(root);

    return 0;
}
