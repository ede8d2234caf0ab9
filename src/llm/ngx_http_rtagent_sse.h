
/*
 * An incremental Server-Sent Events parser (WHATWG HTML 9.2.6), as the
 * chat-completions stream uses it (PROTOCOLS.md 5.3): the body is fed in
 * pieces split anywhere; lines end with CRLF, LF or CR; "data:" lines
 * accumulate, LF-joined, until a blank line dispatches the event; a line
 * starting with ':' is a comment; "event:" names the event; other fields
 * (id, retry, unknown) are skipped.  An event whose data starts with
 * "[DONE]" ends the stream.  Pure C, no nginx, no allocation: the caller
 * gives the buffer that holds one event's data, and its size bounds an
 * event; max_line bounds any one line (by default the event's size
 * and room for "data: ").  A byte-order mark at the start is
 * not stripped (OpenAI and Azure send none).
 */


#ifndef _NGX_HTTP_RTAGENT_SSE_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_SSE_H_INCLUDED_


#include <stddef.h>


#define NGX_HTTP_RTAGENT_SSE_ERR         128
#define NGX_HTTP_RTAGENT_SSE_TYPE_MAX    32


/*
 * One event: its type ("" when no event: line came; at most TYPE_MAX - 1
 * bytes) and data (without the last LF; p[len] is writable, so the
 * consumer may NUL-terminate).  Non-zero refuses it: the parse stops.
 */
typedef int (*ngx_http_rtagent_sse_event_pt)(void *data, const char *type,
    size_t tlen, char *p, size_t len);


typedef struct {
    /* the caller's, set before the first feed */
    char                           *buf;        /* size + 1 bytes */
    size_t                          size;       /* an event's data, at most */
    size_t                          max_line;   /* 0: size + 16 */
    void                           *data;
    ngx_http_rtagent_sse_event_pt   on_event;

    /* the parser's */
    size_t                          len;        /* data in buf */
    size_t                          line;       /* bytes of this line */
    size_t                          events;     /* dispatched */
    char                            name[8];    /* of the field */
    char                            type[NGX_HTTP_RTAGENT_SSE_TYPE_MAX];
    unsigned                        nlen:4;
    unsigned                        tlen:6;
    unsigned                        state:3;
    unsigned                        field:2;    /* where the value goes */
    unsigned                        cr:1;       /* a CR ended a line */
    unsigned                        has_data:1;
    unsigned                        done:1;     /* [DONE] came */
    unsigned                        failed:1;
    char                            err[NGX_HTTP_RTAGENT_SSE_ERR];
} ngx_http_rtagent_sse_t;


/* zeroes the parser's fields (the caller's stay) */
void ngx_http_rtagent_sse_init(ngx_http_rtagent_sse_t *s);

/*
 * A piece of the body: 0 (more wanted), 1 once [DONE] came (the rest is
 * ignored), -1 when the stream is refused (err: "line over N bytes",
 * "event over N bytes", "event type over N bytes", "event refused"); after
 * -1 every call returns -1.
 */
int ngx_http_rtagent_sse_feed(ngx_http_rtagent_sse_t *s, const char *p,
    size_t len);


#endif /* _NGX_HTTP_RTAGENT_SSE_H_INCLUDED_ */
