
/*
 * The checks of a WebSocket opening handshake (RFC 6455 section 4.2.1) on
 * the request's header lines: pure C, no nginx, so that they are unit
 * tested and fuzzed on their own.  The handler feeds every header line to
 * ngx_http_rtagent_ws_hs_header() and asks for the verdict: 0, or the
 * HTTP status to refuse with (400, or 426 with "Upgrade: websocket" and
 * "Sec-WebSocket-Version: 13") and a one-line reason.
 */


#ifndef _NGX_HTTP_RTAGENT_WS_HS_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_WS_HS_H_INCLUDED_


#include <stddef.h>


/* the client's key: 16 bytes in base64, "==" included */
#define NGX_HTTP_RTAGENT_WS_HS_KEY_LEN  24


typedef struct {
    const char  *key;            /* the one Sec-WebSocket-Key, not copied */
    size_t       key_len;

    unsigned     upgrades;       /* Upgrade lines */
    unsigned     versions;       /* Sec-WebSocket-Version lines */
    unsigned     keys;           /* Sec-WebSocket-Key lines */

    unsigned     websocket:1;    /* the first Upgrade lists "websocket" */
    unsigned     connection:1;   /* a Connection line lists "upgrade" */
    unsigned     version_13:1;   /* the last Sec-WebSocket-Version is 13 */
    unsigned     body:1;         /* set by the caller: the request has one */
} ngx_http_rtagent_ws_hs_t;


void ngx_http_rtagent_ws_hs_init(ngx_http_rtagent_ws_hs_t *hs);

/* one header line, its name in any case; other names are ignored */
void ngx_http_rtagent_ws_hs_header(ngx_http_rtagent_ws_hs_t *hs,
    const char *name, size_t name_len, const char *value, size_t value_len);

/*
 * 0 with hs->key the client's key, or 400 or 426 and *reason, checked in
 * this order: Upgrade, Connection, no body, Sec-WebSocket-Version,
 * Sec-WebSocket-Key.
 */
int ngx_http_rtagent_ws_hs_verdict(ngx_http_rtagent_ws_hs_t *hs,
    const char **reason);

/*
 * Is token one of the comma-separated elements of a header list (RFC 9110
 * section 5.6.1: optional whitespace around them, empty elements allowed),
 * compared in any case.  1 or 0.
 */
int ngx_http_rtagent_ws_hs_has_token(const char *list, size_t len,
    const char *token, size_t token_len);

/* is the key 16 bytes in base64 (24 characters, the last two "=") */
int ngx_http_rtagent_ws_hs_key_valid(const char *key, size_t len);


#endif /* _NGX_HTTP_RTAGENT_WS_HS_H_INCLUDED_ */
