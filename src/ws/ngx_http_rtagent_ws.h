
/*
 * RFC 6455 WebSocket server on an nginx HTTP/1.1 request: the handshake,
 * then frames (wslay) read and written on the connection's own events.
 * Any location handler can turn its request into a WebSocket with
 * ngx_http_rtagent_ws_accept() and ngx_http_rtagent_ws_start().
 */


#ifndef _NGX_HTTP_RTAGENT_WS_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_WS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <wslay/wslay.h>


#define NGX_HTTP_RTAGENT_WS_TEXT    WSLAY_TEXT_FRAME
#define NGX_HTTP_RTAGENT_WS_BINARY  WSLAY_BINARY_FRAME

#define NGX_HTTP_RTAGENT_WS_NORMAL            1000
#define NGX_HTTP_RTAGENT_WS_GOING_AWAY        1001
#define NGX_HTTP_RTAGENT_WS_PROTOCOL_ERROR    1002
#define NGX_HTTP_RTAGENT_WS_UNSUPPORTED_DATA  1003
#define NGX_HTTP_RTAGENT_WS_INVALID_PAYLOAD   1007
#define NGX_HTTP_RTAGENT_WS_POLICY            1008
#define NGX_HTTP_RTAGENT_WS_TOO_BIG           1009
#define NGX_HTTP_RTAGENT_WS_INTERNAL_ERROR    1011


typedef struct {
    size_t                         max_message_size;
    size_t                         max_send_queue;
    ngx_msec_t                     ping_interval;
    ngx_msec_t                     idle_timeout;
    ngx_msec_t                     close_timeout;
} ngx_http_rtagent_ws_conf_t;


typedef struct ngx_http_rtagent_ws_s  ngx_http_rtagent_ws_t;

/* a whole (reassembled) text or binary message */
typedef void (*ngx_http_rtagent_ws_message_pt)(ngx_http_rtagent_ws_t *ws,
    ngx_uint_t opcode, u_char *data, size_t len);

/* the WebSocket is going away; called once, before its memory is freed */
typedef void (*ngx_http_rtagent_ws_closed_pt)(ngx_http_rtagent_ws_t *ws);


struct ngx_http_rtagent_ws_s {
    ngx_http_request_t            *request;
    ngx_connection_t              *connection;
    ngx_http_rtagent_ws_conf_t    *conf;
    wslay_event_context_ptr        wslay;

    /* the owner: a channel (ACS media, browser) */
    void                          *data;
    ngx_http_rtagent_ws_message_pt on_message;
    ngx_http_rtagent_ws_closed_pt  on_closed;

    /* for log lines: the call this socket carries */
    ngx_str_t                      call_id;

    ngx_msec_t                     last_in;    /* last bytes received */
    u_char                         header[14]; /* a frame header held */
    size_t                         header_len; /* for its payload */
    ngx_event_t                    ping;
    ngx_queue_t                    queue;      /* in ws/'s live list */

    unsigned                       header_pending:1;
    unsigned                       closing:1;   /* a close was queued */
    unsigned                       eof:1;
    unsigned                       blocked:1;  /* a write is incomplete */
    unsigned                       error:1;
    unsigned                       finalized:1;
    unsigned                       cleaned:1;
};


ngx_int_t ngx_http_rtagent_ws_handshake_check(ngx_http_request_t *r,
    ngx_str_t *key, const char **reason);
ngx_int_t ngx_http_rtagent_ws_accept_key(ngx_str_t *key, u_char *out);
ngx_int_t ngx_http_rtagent_ws_create(ngx_http_request_t *r,
    ngx_http_rtagent_ws_conf_t *conf, ngx_http_rtagent_ws_t **wsp);
ngx_int_t ngx_http_rtagent_ws_accept(ngx_http_request_t *r,
    ngx_http_rtagent_ws_conf_t *conf, ngx_http_rtagent_ws_t **wsp);
ngx_int_t ngx_http_rtagent_ws_start(ngx_http_rtagent_ws_t *ws);
ngx_int_t ngx_http_rtagent_ws_send(ngx_http_rtagent_ws_t *ws,
    ngx_uint_t opcode, const u_char *data, size_t len);
void ngx_http_rtagent_ws_close(ngx_http_rtagent_ws_t *ws, ngx_uint_t code,
    const char *reason);

char *ngx_http_rtagent_ws_merge_conf(ngx_conf_t *cf,
    ngx_http_rtagent_ws_conf_t *conf, ngx_http_rtagent_ws_conf_t *prev);
void ngx_http_rtagent_ws_init_conf(ngx_http_rtagent_ws_conf_t *conf);


#define NGX_HTTP_RTAGENT_WS_ACCEPT_LEN  28


/* its request ctx is the ngx_http_rtagent_ws_t */
extern ngx_module_t  ngx_http_rtagent_ws_module;


#endif /* _NGX_HTTP_RTAGENT_WS_H_INCLUDED_ */
