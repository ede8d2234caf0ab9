
/*
 * The WebSocket client's check of the server's answer to its upgrade
 * request (RFC 6455 section 4.1, RFC 9112 for the message syntax): pure
 * C, no nginx, so that it is unit tested and fuzzed on its own.  The
 * client hands over what it has read so far and the Sec-WebSocket-Accept
 * value it expects; the verdict says whether the head is whole yet, and
 * whether it is the 101 that opens the connection.
 */


#ifndef _NGX_HTTP_RTAGENT_WSC_UPGRADE_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_WSC_UPGRADE_H_INCLUDED_


#include <stddef.h>


typedef enum {
    NGX_HTTP_RTAGENT_WSC_UPGRADE_AGAIN = 0,  /* the head is not whole yet */
    NGX_HTTP_RTAGENT_WSC_UPGRADE_OK,         /* 101, all checks pass */
    NGX_HTTP_RTAGENT_WSC_UPGRADE_REFUSED,    /* a valid answer, not 101 */
    NGX_HTTP_RTAGENT_WSC_UPGRADE_BAD         /* not a valid upgrade answer */
} ngx_http_rtagent_wsc_upgrade_e;


typedef struct {
    size_t        head;      /* OK, REFUSED, BAD: the head's length, CRLF
                                CRLF included (frames may follow it) */
    unsigned      status;    /* OK, REFUSED: the status code */
    const char   *detail;    /* REFUSED, BAD: why, one line */
} ngx_http_rtagent_wsc_upgrade_t;


/*
 * buf, len: the bytes read so far (not NUL-terminated); accept: the
 * Sec-WebSocket-Accept the request's key asks for (28 characters).
 * Checked: the status line "HTTP/1.1 NNN reason", each header line a
 * token name, a colon, a value without control characters, CRLF-ended;
 * for a 101 "Upgrade: websocket", "Connection" listing "upgrade", the one
 * Sec-WebSocket-Accept equal to accept, and no Sec-WebSocket-Extensions
 * or Sec-WebSocket-Protocol (the client asks for none).
 */
ngx_http_rtagent_wsc_upgrade_e ngx_http_rtagent_wsc_upgrade_parse(
    const unsigned char *buf, size_t len, const char *accept,
    size_t accept_len, ngx_http_rtagent_wsc_upgrade_t *res);


#endif /* _NGX_HTTP_RTAGENT_WSC_UPGRADE_H_INCLUDED_ */
