
/*
 * yajl's tree API made safe for untrusted JSON, shared by every parser of
 * outside input (ACS events, REST bodies, JWT, control messages): a parse
 * that refuses what the tree API mishandles, and member lookups.  Pure C,
 * no nginx.
 */


#ifndef _NGX_HTTP_RTAGENT_JSON_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_JSON_H_INCLUDED_


#include <stddef.h>

#include <yajl/yajl_tree.h>


/* what err starts with when the text itself is refused */
#define NGX_HTTP_RTAGENT_JSON_MALFORMED      "malformed JSON: "
#define NGX_HTTP_RTAGENT_JSON_MALFORMED_LEN                              \
    (sizeof(NGX_HTTP_RTAGENT_JSON_MALFORMED) - 1)

/* flags: refuse "\u0000" in a string too (the tree keeps strings without
 * their length, so such a string would compare as cut short) */
#define NGX_HTTP_RTAGENT_JSON_NO_U0000       0x01
/* flags: "invalid json" instead of yajl's message, which quotes the input */
#define NGX_HTTP_RTAGENT_JSON_TERSE          0x02


/*
 * yajl_tree_parse() of len bytes (not NUL-terminated; p may be NULL when
 * len is 0), refusing first what yajl's tree API mishandles: a NUL byte
 * (the parse would stop there), comments (not JSON, and a quote inside
 * one would hide the brackets that follow), nesting deeper than max_depth
 * (yajl_tree_free() recurses once per level).  The tree, or NULL with a
 * short reason in err (NUL-terminated, at most errlen bytes; err may be
 * NULL): "out of memory", or "malformed JSON: " and "NUL byte", "comment",
 * "nested too deeply", "\\u0000 in a string", the first line of yajl's
 * message ("unknown error" when it has none), or "invalid json".
 */
yajl_val ngx_http_rtagent_json_parse(const char *p, size_t len,
    size_t max_depth, unsigned flags, char *err, size_t errlen);


/*
 * Value helpers: the member at a path of one or more keys, NULL-ended;
 * NULL when absent or of another type.  Of duplicate keys the first one
 * counts, as yajl_tree_get() would; that function is not used because in
 * yajl 2.1.0 it tests the loop index against the length of the member
 * found instead of the object searched.
 */
yajl_val ngx_http_rtagent_json_get(yajl_val obj, ...);
const char *ngx_http_rtagent_json_str(yajl_val obj, ...);


/*
 * src into dst for a reason or a log line: NUL-terminated, at most size
 * bytes, control characters as '?'.
 */
void ngx_http_rtagent_json_printable(char *dst, size_t size,
    const char *src);

/*
 * The message of an OpenAI error body ({"error":{"message":...}}, as the
 * chat completions and the transcriptions APIs send it), len bytes at p,
 * into err as ngx_http_rtagent_json_printable() copies it: 0, or -1 when
 * the body is no such object (or holds "\u0000" in a string).
 */
int ngx_http_rtagent_json_error_message(const char *p, size_t len,
    char *err, size_t errlen);


#endif /* _NGX_HTTP_RTAGENT_JSON_H_INCLUDED_ */
