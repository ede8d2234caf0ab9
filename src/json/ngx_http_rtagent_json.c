
/*
 * yajl's tree API made safe for untrusted JSON.
 *
 * yajl_tree_parse() wants a NUL-terminated string, so the text is copied
 * first; the copy is also scanned, because yajl_tree_parse() would stop
 * at a NUL byte inside the text, and because yajl_tree_free() recurses
 * once per nesting level, so a text of a million '[' would overflow the
 * stack when the tree is freed.  The scan also refuses comments, which
 * yajl_tree_parse() accepts: they are not JSON, and a quote inside one
 * would make the scan miss the brackets that follow.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "ngx_http_rtagent_json.h"


/* yajl's verbose message quotes the input; only its first line is kept */
#define NGX_HTTP_RTAGENT_JSON_YAJL_ERR  256

/* an error body is a small object */
#define NGX_HTTP_RTAGENT_JSON_ERROR_DEPTH  32


static const char *ngx_http_rtagent_json_scan(const char *p, size_t len,
    size_t max_depth, unsigned flags);
static yajl_val ngx_http_rtagent_json_path(yajl_val obj, va_list args);


yajl_val
ngx_http_rtagent_json_parse(const char *p, size_t len, size_t max_depth,
    unsigned flags, char *err, size_t errlen)
{
    char        *copy, *nl, *yerr;
    char         ybuf[NGX_HTTP_RTAGENT_JSON_YAJL_ERR];
    size_t       ylen;
    yajl_val     tree;
    const char  *bad;

    if (err == NULL) {
        errlen = 0;
    }

    if (p == NULL) {
        len = 0;
    }

    bad = ngx_http_rtagent_json_scan(p, len, max_depth, flags);
    if (bad) {
        if (errlen) {
            snprintf(err, errlen, NGX_HTTP_RTAGENT_JSON_MALFORMED "%s",
                     bad);
        }

        return NULL;
    }

    copy = malloc(len + 1);
    if (copy == NULL) {
        if (errlen) {
            snprintf(err, errlen, "out of memory");
        }

        return NULL;
    }

    if (len) {
        memcpy(copy, p, len);
    }

    copy[len] = '\0';

    /* yajl's message is only asked for when it is passed on */

    if (errlen && !(flags & NGX_HTTP_RTAGENT_JSON_TERSE)) {
        yerr = ybuf;
        ylen = sizeof(ybuf);
        ybuf[0] = '\0';

    } else {
        yerr = NULL;
        ylen = 0;
    }

    tree = yajl_tree_parse(copy, yerr, ylen);

    free(copy);

    if (tree != NULL || errlen == 0) {
        return tree;
    }

    if (yerr == NULL) {
        snprintf(err, errlen, NGX_HTTP_RTAGENT_JSON_MALFORMED
                 "invalid json");
        return NULL;
    }

    ybuf[sizeof(ybuf) - 1] = '\0';

    nl = strchr(ybuf, '\n');
    if (nl) {
        *nl = '\0';
    }

    snprintf(err, errlen, NGX_HTTP_RTAGENT_JSON_MALFORMED "%s",
             ybuf[0] ? ybuf : "unknown error");

    return NULL;
}


yajl_val
ngx_http_rtagent_json_get(yajl_val obj, ...)
{
    va_list   args;
    yajl_val  v;

    va_start(args, obj);
    v = ngx_http_rtagent_json_path(obj, args);
    va_end(args);

    return v;
}


const char *
ngx_http_rtagent_json_str(yajl_val obj, ...)
{
    va_list   args;
    yajl_val  v;

    va_start(args, obj);
    v = ngx_http_rtagent_json_path(obj, args);
    va_end(args);

    return YAJL_IS_STRING(v) ? v->u.string : NULL;
}


void
ngx_http_rtagent_json_printable(char *dst, size_t size, const char *src)
{
    size_t  i;

    for (i = 0; i + 1 < size && src[i]; i++) {
        dst[i] = ((unsigned char) src[i] < 0x20 || src[i] == 0x7f)
                 ? '?' : src[i];
    }

    if (size) {
        dst[i] = '\0';
    }
}


int
ngx_http_rtagent_json_error_message(const char *p, size_t len, char *err,
    size_t errlen)
{
    yajl_val     root;
    const char  *msg;

    root = ngx_http_rtagent_json_parse(p, len,
                                       NGX_HTTP_RTAGENT_JSON_ERROR_DEPTH,
                                       NGX_HTTP_RTAGENT_JSON_NO_U0000
                                       |NGX_HTTP_RTAGENT_JSON_TERSE,
                                       NULL, 0);
    if (root == NULL) {
        return -1;
    }

    msg = ngx_http_rtagent_json_str(root, "error", "message", NULL);

    if (msg != NULL) {
        ngx_http_rtagent_json_printable(err, errlen, msg);
    }

    yajl_tree_free(root);

    return msg != NULL ? 0 : -1;
}


/*
 * What makes the text unfit for yajl_tree_parse(), or NULL.  Strings are
 * followed as yajl's lexer does for valid JSON, so brackets inside them
 * do not count; a malformed text may be misjudged here, but then yajl,
 * which stops at the first error, refuses it anyway.
 */

static const char *
ngx_http_rtagent_json_scan(const char *p, size_t len, size_t max_depth,
    unsigned flags)
{
    size_t         i, depth;
    unsigned char  c;
    unsigned       in_string, escaped;

    depth = 0;
    in_string = 0;
    escaped = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) p[i];

        if (c == '\0') {
            return "NUL byte";
        }

        if (in_string) {
            if (escaped) {
                escaped = 0;

            } else if (c == '\\') {
                if ((flags & NGX_HTTP_RTAGENT_JSON_NO_U0000)
                    && len - i > 5 && memcmp(&p[i + 1], "u0000", 5) == 0)
                {
                    return "\\u0000 in a string";
                }

                escaped = 1;

            } else if (c == '"') {
                in_string = 0;
            }

            continue;
        }

        switch (c) {

        case '"':
            in_string = 1;
            break;

        case '/':
            return "comment";

        case '[':
        case '{':
            if (++depth > max_depth) {
                return "nested too deeply";
            }

            break;

        case ']':
        case '}':
            if (depth) {
                depth--;
            }

            break;

        default:
            break;
        }
    }

    return NULL;
}


static yajl_val
ngx_http_rtagent_json_path(yajl_val obj, va_list args)
{
    size_t       i;
    yajl_val     v;
    const char  *key;

    for (key = va_arg(args, const char *);
         key != NULL && obj != NULL;
         key = va_arg(args, const char *))
    {
        if (!YAJL_IS_OBJECT(obj)) {
            return NULL;
        }

        v = NULL;

        for (i = 0; i < obj->u.object.len; i++) {
            if (strcmp(obj->u.object.keys[i], key) == 0) {
                v = obj->u.object.values[i];
                break;
            }
        }

        obj = v;
    }

    return obj;
}
