
/*
 * A WebSocket client on nginx events (RFC 6455 with wslay's client
 * context): ws:// or wss:// URL, a host name resolved with nginx's
 * resolver (never blocking), the connection by ngx_event_connect_peer(),
 * TLS by ngx_ssl, the HTTP/1.1 upgrade with its Sec-WebSocket-Accept
 * checked.  It knows nothing of what the messages mean.
 *
 * Callbacks run on the event loop, never from inside a call into the
 * client.  on_close comes once, for any end, and the client is freed
 * when it returns (do not close() it then); after close() nothing
 * follows.
 */


#ifndef _NGX_HTTP_RTAGENT_WSC_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_WSC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>


typedef struct ngx_http_rtagent_wsc_s  ngx_http_rtagent_wsc_t;


typedef enum {
    NGX_HTTP_RTAGENT_WSC_CLOSED = 0,   /* a close frame; status in code */
    NGX_HTTP_RTAGENT_WSC_NETWORK,      /* resolve, connect, TLS, reset */
    NGX_HTTP_RTAGENT_WSC_REFUSED,      /* the upgrade answered code */
    NGX_HTTP_RTAGENT_WSC_PROTOCOL,     /* a bad handshake or frame */
    NGX_HTTP_RTAGENT_WSC_TIMEOUT,
    NGX_HTTP_RTAGENT_WSC_INTERNAL
} ngx_http_rtagent_wsc_end_e;


typedef void (*ngx_http_rtagent_wsc_open_pt)(ngx_http_rtagent_wsc_t *wsc);
typedef void (*ngx_http_rtagent_wsc_msg_pt)(ngx_http_rtagent_wsc_t *wsc,
    ngx_uint_t binary, u_char *data, size_t len);
typedef void (*ngx_http_rtagent_wsc_close_pt)(ngx_http_rtagent_wsc_t *wsc,
    ngx_http_rtagent_wsc_end_e end, ngx_uint_t code, const char *detail);


typedef struct {
    ngx_str_t                       url;        /* ws://, wss:// */
    ngx_array_t                    *headers;    /* ngx_keyval_t, or NULL */
    ngx_resolver_t                 *resolver;   /* for host names */
    ngx_msec_t                      resolver_timeout;
    ngx_msec_t                      timeout;    /* connect, handshake */
#if (NGX_SSL)
    ngx_ssl_t                      *ssl;        /* for wss://, or NULL */
    ngx_flag_t                      ssl_verify;
#endif
    size_t                          max_msg;    /* of a received one */
    ngx_log_t                      *log;

    ngx_http_rtagent_wsc_open_pt    on_open;
    ngx_http_rtagent_wsc_msg_pt     on_message;
    ngx_http_rtagent_wsc_close_pt   on_close;
    void                           *data;
} ngx_http_rtagent_wsc_conf_t;


/*
 * Starts the connection; the configuration is copied.  NULL on failure
 * (logged: a bad URL, no resolver for a host name, no memory).
 */
ngx_http_rtagent_wsc_t *ngx_http_rtagent_wsc_open(
    ngx_http_rtagent_wsc_conf_t *conf);

/* queues a message (copied); before on_open it waits for the upgrade */
ngx_int_t ngx_http_rtagent_wsc_send(ngx_http_rtagent_wsc_t *wsc,
    ngx_uint_t binary, const u_char *data, size_t len);

/* ends it at once, with no callback: the memory is freed */
void ngx_http_rtagent_wsc_close(ngx_http_rtagent_wsc_t *wsc);

void *ngx_http_rtagent_wsc_data(ngx_http_rtagent_wsc_t *wsc);


#endif /* _NGX_HTTP_RTAGENT_WSC_H_INCLUDED_ */
