
/*
 * Tool templates: "{name}" placeholders in URLs, header values, JSON
 * bodies and Redis command words (see the header for the rules).
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json/ngx_http_rtagent_json.h>

#include "ngx_http_rtagent_tool_template.h"


/* a JSON body template nests at most this deep */
#define NGX_HTTP_RTAGENT_TPL_JSON_DEPTH  32


typedef struct {
    unsigned char                   *out;
    size_t                           len;
} ngx_http_rtagent_tpl_buf_t;


static size_t ngx_http_rtagent_tpl_name(const unsigned char *p, size_t len,
    unsigned mode, ngx_http_rtagent_tpl_seg_type_e *type);
static size_t ngx_http_rtagent_tpl_scan(const unsigned char *p, size_t len,
    unsigned mode, ngx_http_rtagent_tpl_seg_t *segs);
static int ngx_http_rtagent_tpl_check_url(const ngx_http_rtagent_tpl_t *t,
    char *err, size_t errlen);
static int ngx_http_rtagent_tpl_check_json(const ngx_http_rtagent_tpl_t *t,
    char *err, size_t errlen);
static int ngx_http_rtagent_tpl_utf8(const unsigned char *p, size_t len);
static void ngx_http_rtagent_tpl_put(ngx_http_rtagent_tpl_buf_t *b,
    const void *data, size_t len);
static void ngx_http_rtagent_tpl_escape(ngx_http_rtagent_tpl_buf_t *b,
    const unsigned char *p, size_t len);


/* -1, with the reason in err; a name comes as "%.*s" with (int) len */
static int
ngx_http_rtagent_tpl_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  args;

    if (errlen) {
        va_start(args, fmt);
        (void) vsnprintf(err, errlen, fmt, args);
        va_end(args);
    }

    return -1;
}


/*
 * At p (just after a "{"), the length of "name}" or "env:NAME}" (the
 * latter in HEADER mode), or 0 when it is not a placeholder
 */
static size_t
ngx_http_rtagent_tpl_name(const unsigned char *p, size_t len, unsigned mode,
    ngx_http_rtagent_tpl_seg_type_e *type)
{
    size_t  i, start;

    start = 0;
    *type = NGX_HTTP_RTAGENT_TPL_VAR;

    if (mode == NGX_HTTP_RTAGENT_TPL_HEADER && len > 4
        && memcmp(p, "env:", 4) == 0)
    {
        start = 4;
        *type = NGX_HTTP_RTAGENT_TPL_ENV;
    }

    for (i = start; i < len && i - start <= NGX_HTTP_RTAGENT_TPL_NAME_MAX;
         i++)
    {
        if (p[i] == '}') {
            return i > start ? i + 1 : 0;
        }

        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
              || p[i] == '_' || (i > start && p[i] >= '0' && p[i] <= '9')))
        {
            return 0;
        }
    }

    return 0;
}


/* the segments of p into segs (when not NULL); their number */
static size_t
ngx_http_rtagent_tpl_scan(const unsigned char *p, size_t len, unsigned mode,
    ngx_http_rtagent_tpl_seg_t *segs)
{
    size_t                            i, n, lit, skip;
    unsigned                          in_string, escaped;
    ngx_http_rtagent_tpl_seg_type_e   type;

    n = 0;
    lit = 0;
    in_string = 0;
    escaped = 0;

    for (i = 0; i < len; /* void */ ) {

        if (p[i] == '{' && !escaped) {
            skip = ngx_http_rtagent_tpl_name(p + i + 1, len - i - 1, mode,
                                             &type);
            if (skip) {
                if (i > lit) {
                    if (segs) {
                        segs[n].type = NGX_HTTP_RTAGENT_TPL_LITERAL;
                        segs[n].data = p + lit;
                        segs[n].len = i - lit;
                        segs[n].quoted = in_string;
                    }

                    n++;
                }

                if (segs) {
                    segs[n].type = type;
                    segs[n].data = p + i + 1
                                   + (type == NGX_HTTP_RTAGENT_TPL_ENV ? 4 : 0);
                    segs[n].len = skip - 1
                                  - (type == NGX_HTTP_RTAGENT_TPL_ENV ? 4 : 0);
                    segs[n].quoted = in_string;
                }

                n++;
                i += 1 + skip;
                lit = i;
                continue;
            }
        }

        if (mode == NGX_HTTP_RTAGENT_TPL_JSON) {
            if (escaped) {
                escaped = 0;

            } else if (in_string && p[i] == '\\') {
                escaped = 1;

            } else if (p[i] == '"') {
                in_string = !in_string;
            }
        }

        i++;
    }

    if (i > lit) {
        if (segs) {
            segs[n].type = NGX_HTTP_RTAGENT_TPL_LITERAL;
            segs[n].data = p + lit;
            segs[n].len = i - lit;
            segs[n].quoted = in_string;
        }

        n++;
    }

    return n;
}


int
ngx_http_rtagent_tpl_compile(const unsigned char *p, size_t len,
    unsigned mode, ngx_http_rtagent_tpl_alloc_pt alloc, void *ctx,
    ngx_http_rtagent_tpl_t *t, char *err, size_t errlen)
{
    size_t  i;

    if (errlen) {
        err[0] = '\0';
    }

    t->mode = mode;
    t->nsegs = ngx_http_rtagent_tpl_scan(p, len, mode, NULL);
    t->segs = NULL;

    if (t->nsegs) {
        t->segs = alloc(ctx, t->nsegs * sizeof(ngx_http_rtagent_tpl_seg_t));
        if (t->segs == NULL) {
            return ngx_http_rtagent_tpl_err(err, errlen, "out of memory");
        }

        (void) ngx_http_rtagent_tpl_scan(p, len, mode, t->segs);
    }

    for (i = 0; i < len; i++) {
        if (mode == NGX_HTTP_RTAGENT_TPL_HEADER
            && (p[i] == '\r' || p[i] == '\n' || p[i] == '\0'))
        {
            return ngx_http_rtagent_tpl_err(err, errlen,
                                            "a line break or NUL in a header"
                                            " value");
        }

        if (mode == NGX_HTTP_RTAGENT_TPL_URL && (p[i] <= ' ' || p[i] >= 0x7f))
        {
            return ngx_http_rtagent_tpl_err(err, errlen,
                                            "a space, control or non-ASCII"
                                            " byte in the URL");
        }
    }

    if (mode == NGX_HTTP_RTAGENT_TPL_URL) {
        return ngx_http_rtagent_tpl_check_url(t, err, errlen);
    }

    if (mode == NGX_HTTP_RTAGENT_TPL_JSON) {
        return ngx_http_rtagent_tpl_check_json(t, err, errlen);
    }

    return 0;
}


/* http:// or https://, and the host before the first placeholder */
static int
ngx_http_rtagent_tpl_check_url(const ngx_http_rtagent_tpl_t *t, char *err,
    size_t errlen)
{
    size_t                       i, skip;
    ngx_http_rtagent_tpl_seg_t  *s;

    s = t->nsegs ? &t->segs[0] : NULL;

    if (s && s->type == NGX_HTTP_RTAGENT_TPL_LITERAL) {
        if (s->len >= 7 && strncasecmp((const char *) s->data, "http://", 7)
                          == 0)
        {
            skip = 7;

        } else if (s->len >= 8
                   && strncasecmp((const char *) s->data, "https://", 8) == 0)
        {
            skip = 8;

        } else {
            skip = 0;
        }

    } else {
        skip = 0;
    }

    if (skip == 0) {
        return ngx_http_rtagent_tpl_err(err, errlen,
                                        "not an http:// or https:// URL");
    }

    if (t->nsegs == 1) {
        return 0;
    }

    for (i = skip; i < s->len; i++) {
        if (s->data[i] == '/' || s->data[i] == '?' || s->data[i] == '#') {
            return i > skip ? 0 : ngx_http_rtagent_tpl_err(err, errlen,
                                       "the URL has no host");
        }
    }

    return ngx_http_rtagent_tpl_err(err, errlen, "a placeholder in the URL's"
                                    " host: the host must be written out");
}


/* the document with every placeholder filled: "_" in a string, else " 0 " */
static int
ngx_http_rtagent_tpl_check_json(const ngx_http_rtagent_tpl_t *t, char *err,
    size_t errlen)
{
    char      *doc, *p, msg[128];
    size_t     i, len;
    yajl_val   tree;

    len = 0;

    for (i = 0; i < t->nsegs; i++) {
        len += t->segs[i].type == NGX_HTTP_RTAGENT_TPL_LITERAL
               ? t->segs[i].len : 3;
    }

    doc = malloc(len + 1);
    if (doc == NULL) {
        return ngx_http_rtagent_tpl_err(err, errlen, "out of memory");
    }

    p = doc;

    for (i = 0; i < t->nsegs; i++) {
        if (t->segs[i].type == NGX_HTTP_RTAGENT_TPL_LITERAL) {
            memcpy(p, t->segs[i].data, t->segs[i].len);
            p += t->segs[i].len;

        } else {
            /*
             * "_" inside a string: no escape sequence goes on through it,
             * so "\u{x}1234" is refused whatever x would be
             */
            if (t->segs[i].quoted) {
                *p++ = '_';

            } else {
                /* a value on its own: a string, a number, true, ... */
                *p++ = ' ';
                *p++ = '0';
                *p++ = ' ';
            }
        }
    }

    tree = ngx_http_rtagent_json_parse(doc, p - doc,
                                       NGX_HTTP_RTAGENT_TPL_JSON_DEPTH,
                                       NGX_HTTP_RTAGENT_JSON_NO_U0000, msg,
                                       sizeof(msg));
    free(doc);

    if (tree == NULL) {
        return ngx_http_rtagent_tpl_err(err, errlen, "not a JSON template"
                                        " (%s)", msg);
    }

    yajl_tree_free(tree);

    return 0;
}


int
ngx_http_rtagent_tpl_uses(const ngx_http_rtagent_tpl_t *t, const char *name)
{
    size_t  i, len;

    len = strlen(name);

    for (i = 0; i < t->nsegs; i++) {
        if (t->segs[i].type == NGX_HTTP_RTAGENT_TPL_VAR
            && t->segs[i].len == len
            && memcmp(t->segs[i].data, name, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


int
ngx_http_rtagent_tpl_fill(const ngx_http_rtagent_tpl_t *t,
    ngx_http_rtagent_tpl_lookup_pt lookup, void *ctx, unsigned char *out,
    size_t *len, char *err, size_t errlen)
{
    int                            rc;
    size_t                         i, k;
    unsigned char                  hex[3];
    ngx_http_rtagent_tpl_buf_t     b;
    ngx_http_rtagent_tpl_seg_t    *s;
    ngx_http_rtagent_tpl_value_t   v;

    static const char  digits[] = "0123456789ABCDEF";

    if (errlen) {
        err[0] = '\0';
    }

    b.out = out;
    b.len = 0;

    for (i = 0; i < t->nsegs; i++) {
        s = &t->segs[i];

        if (s->type == NGX_HTTP_RTAGENT_TPL_LITERAL) {
            ngx_http_rtagent_tpl_put(&b, s->data, s->len);
            continue;
        }

        if (s->type == NGX_HTTP_RTAGENT_TPL_ENV) {
            return ngx_http_rtagent_tpl_err(err, errlen, "{env:%.*s} was not"
                                            " resolved", (int) s->len, s->data);
        }

        rc = lookup(ctx, s->data, s->len, &v);

        if (rc == -1) {
            return ngx_http_rtagent_tpl_err(err, errlen,
                                            "missing argument \"%.*s\"",
                                            (int) s->len, s->data);
        }

        if (rc != 0) {
            return ngx_http_rtagent_tpl_err(err, errlen,
                                            "argument \"%.*s\": not a string,"
                                            " number or boolean",
                                            (int) s->len, s->data);
        }

        switch (t->mode) {

        case NGX_HTTP_RTAGENT_TPL_URL:
            for (k = 0; k < v.len; k++) {
                if ((v.data[k] >= 'a' && v.data[k] <= 'z')
                    || (v.data[k] >= 'A' && v.data[k] <= 'Z')
                    || (v.data[k] >= '0' && v.data[k] <= '9')
                    || v.data[k] == '-' || v.data[k] == '.'
                    || v.data[k] == '_' || v.data[k] == '~')
                {
                    ngx_http_rtagent_tpl_put(&b, &v.data[k], 1);
                    continue;
                }

                hex[0] = '%';
                hex[1] = digits[v.data[k] >> 4];
                hex[2] = digits[v.data[k] & 0x0f];
                ngx_http_rtagent_tpl_put(&b, hex, 3);
            }

            break;

        case NGX_HTTP_RTAGENT_TPL_JSON:
            if (!ngx_http_rtagent_tpl_utf8(v.data, v.len)) {
                return ngx_http_rtagent_tpl_err(err, errlen,
                                                "argument \"%.*s\": not UTF-8",
                                                (int) s->len, s->data);
            }

            if (s->quoted) {
                ngx_http_rtagent_tpl_escape(&b, v.data, v.len);

            } else if (v.string) {
                ngx_http_rtagent_tpl_put(&b, "\"", 1);
                ngx_http_rtagent_tpl_escape(&b, v.data, v.len);
                ngx_http_rtagent_tpl_put(&b, "\"", 1);

            } else {
                ngx_http_rtagent_tpl_put(&b, v.data, v.len);
            }

            break;

        case NGX_HTTP_RTAGENT_TPL_HEADER:
            for (k = 0; k < v.len; k++) {
                if (v.data[k] == '\r' || v.data[k] == '\n'
                    || v.data[k] == '\0')
                {
                    return ngx_http_rtagent_tpl_err(err, errlen,
                                                "argument \"%.*s\": a line"
                                                " break or NUL in a header",
                                                (int) s->len, s->data);
                }
            }

            /* fall through */

        default:
            ngx_http_rtagent_tpl_put(&b, v.data, v.len);
            break;
        }
    }

    if (out == NULL) {
        *len = b.len;

    } else if (b.len != *len) {
        /* the lookup changed its mind between the two calls */
        return ngx_http_rtagent_tpl_err(err, errlen, "the values changed");
    }

    return 0;
}


/* writes only within the length found by the first pass */
static void
ngx_http_rtagent_tpl_put(ngx_http_rtagent_tpl_buf_t *b, const void *data,
    size_t len)
{
    if (b->out) {
        memcpy(b->out + b->len, data, len);
    }

    b->len += len;
}


static void
ngx_http_rtagent_tpl_escape(ngx_http_rtagent_tpl_buf_t *b,
    const unsigned char *p, size_t len)
{
    size_t         i;
    unsigned char  u[6];

    static const char  digits[] = "0123456789abcdef";

    for (i = 0; i < len; i++) {
        switch (p[i]) {

        case '"':
            ngx_http_rtagent_tpl_put(b, "\\\"", 2);
            break;

        case '\\':
            ngx_http_rtagent_tpl_put(b, "\\\\", 2);
            break;

        case '\n':
            ngx_http_rtagent_tpl_put(b, "\\n", 2);
            break;

        case '\r':
            ngx_http_rtagent_tpl_put(b, "\\r", 2);
            break;

        case '\t':
            ngx_http_rtagent_tpl_put(b, "\\t", 2);
            break;

        default:
            if (p[i] < 0x20) {
                u[0] = '\\';
                u[1] = 'u';
                u[2] = '0';
                u[3] = '0';
                u[4] = digits[p[i] >> 4];
                u[5] = digits[p[i] & 0x0f];
                ngx_http_rtagent_tpl_put(b, u, 6);

            } else {
                ngx_http_rtagent_tpl_put(b, &p[i], 1);
            }
        }
    }
}


/* well-formed UTF-8: no overlongs, surrogates or code points over 10FFFF */
static int
ngx_http_rtagent_tpl_utf8(const unsigned char *p, size_t len)
{
    size_t    i, n, k;
    unsigned  c, min;

    for (i = 0; i < len; i += n) {
        c = p[i];

        if (c < 0x80) {
            n = 1;
            continue;
        }

        if ((c & 0xe0) == 0xc0) {
            n = 2; c &= 0x1f; min = 0x80;

        } else if ((c & 0xf0) == 0xe0) {
            n = 3; c &= 0x0f; min = 0x800;

        } else if ((c & 0xf8) == 0xf0) {
            n = 4; c &= 0x07; min = 0x10000;

        } else {
            return 0;
        }

        if (i + n > len) {
            return 0;
        }

        for (k = 1; k < n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return 0;
            }

            c = (c << 6) | (p[i + k] & 0x3f);
        }

        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
            return 0;
        }
    }

    return 1;
}
