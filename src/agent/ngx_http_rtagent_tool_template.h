
/*
 * The tool store's templates (agents/README.md, "Templates"): a URL, a
 * header value, a JSON body or a Redis command word with "{name}"
 * placeholders, compiled once when nginx reads its configuration and
 * filled for each tool call.  A placeholder is "{" then a name (a letter
 * or "_", then letters, digits, "_"; at most 64) then "}"; in a header
 * value "{env:NAME}" too.  Any other "{" is a literal (a JSON object's
 * brace).  How a value is written depends on the template's mode:
 *
 *   TEXT     as it is (Redis command words: each word is one argument, so
 *            nothing in a value can split it)
 *   URL      percent-encoded: every byte but A-Z a-z 0-9 - . _ ~; the
 *            scheme and host are literals (http:// or https://, and the
 *            first placeholder after the host's end), so a value never
 *            picks the server
 *   JSON     the template is a JSON document once every placeholder is
 *            filled (checked at compile time); inside a string a value is
 *            JSON-escaped, outside one a string value is written as a JSON
 *            string and a number, true, false or null as itself
 *   HEADER   as it is, but neither the template nor a value may hold CR,
 *            LF or NUL (no header injection)
 *
 * Pure C, no nginx: unit tested (t/unit/test_tool_template.c) and fuzzed
 * (t/fuzz/fuzz_tool_template.c).
 */


#ifndef _NGX_HTTP_RTAGENT_TOOL_TEMPLATE_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_TOOL_TEMPLATE_H_INCLUDED_


#include <stddef.h>


#define NGX_HTTP_RTAGENT_TPL_TEXT      0
#define NGX_HTTP_RTAGENT_TPL_URL       1
#define NGX_HTTP_RTAGENT_TPL_JSON      2
#define NGX_HTTP_RTAGENT_TPL_HEADER    3

#define NGX_HTTP_RTAGENT_TPL_NAME_MAX  64


typedef enum {
    NGX_HTTP_RTAGENT_TPL_LITERAL = 0,
    NGX_HTTP_RTAGENT_TPL_VAR,           /* {name} */
    NGX_HTTP_RTAGENT_TPL_ENV            /* {env:NAME}, HEADER only */
} ngx_http_rtagent_tpl_seg_type_e;


/* data points into the compiled text (or where the owner put it) */
typedef struct {
    ngx_http_rtagent_tpl_seg_type_e  type;
    const unsigned char             *data;
    size_t                           len;
    unsigned                         quoted;    /* JSON: inside a string */
} ngx_http_rtagent_tpl_seg_t;


typedef struct {
    ngx_http_rtagent_tpl_seg_t      *segs;
    size_t                           nsegs;
    unsigned                         mode;
} ngx_http_rtagent_tpl_t;


/* a value for a placeholder: a string, or JSON text (number, bool, null) */
typedef struct {
    const unsigned char             *data;
    size_t                           len;
    unsigned                         string;
} ngx_http_rtagent_tpl_value_t;

/*
 * The value of name (len bytes): 0 and *v set; -1 when there is none;
 * -2 when it cannot be written (an object or an array)
 */
typedef int (*ngx_http_rtagent_tpl_lookup_pt)(void *ctx,
    const unsigned char *name, size_t len, ngx_http_rtagent_tpl_value_t *v);

typedef void *(*ngx_http_rtagent_tpl_alloc_pt)(void *ctx, size_t size);


/*
 * Compiles len bytes of p (which must outlive t) in mode; 0, or -1 with
 * the reason in err (NUL-terminated, at most errlen bytes).
 */
int ngx_http_rtagent_tpl_compile(const unsigned char *p, size_t len,
    unsigned mode, ngx_http_rtagent_tpl_alloc_pt alloc, void *ctx,
    ngx_http_rtagent_tpl_t *t, char *err, size_t errlen);

/* 1 if the template has a placeholder {name} */
int ngx_http_rtagent_tpl_uses(const ngx_http_rtagent_tpl_t *t,
    const char *name);

/*
 * Fills t: with out NULL, *len gets the length of the result; else
 * exactly *len bytes (from the first call) are written to out.  0, or -1
 * with the reason in err ("missing argument \"zip\"", ...).  ENV segments
 * left in t are refused: the owner turns them into literals first.
 */
int ngx_http_rtagent_tpl_fill(const ngx_http_rtagent_tpl_t *t,
    ngx_http_rtagent_tpl_lookup_pt lookup, void *ctx, unsigned char *out,
    size_t *len, char *err, size_t errlen);


#endif /* _NGX_HTTP_RTAGENT_TOOL_TEMPLATE_H_INCLUDED_ */
