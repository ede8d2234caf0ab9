
/*
 * A WebSocket connection on nginx events.  wslay does the RFC 6455 framing
 * (masking, fragmentation, UTF-8 and control-frame rules, close codes);
 * this file feeds it the connection's bytes, keeps the timers (keepalive
 * ping, idle timeout, close-wait), bounds what is queued for a slow peer
 * and finalizes the request exactly once.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ngx_http_rtagent_core.h>
#include <ws/ngx_http_rtagent_ws.h>


static ssize_t ngx_http_rtagent_ws_recv_cb(wslay_event_context_ptr ctx,
    uint8_t *buf, size_t len, int flags, void *user_data);
static ssize_t ngx_http_rtagent_ws_send_cb(wslay_event_context_ptr ctx,
    const uint8_t *data, size_t len, int flags, void *user_data);
static void ngx_http_rtagent_ws_msg_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *user_data);
static void ngx_http_rtagent_ws_read_handler(ngx_http_request_t *r);
static void ngx_http_rtagent_ws_write_handler(ngx_http_request_t *r);
static void ngx_http_rtagent_ws_pump(ngx_http_rtagent_ws_t *ws,
    ngx_uint_t read);
static void ngx_http_rtagent_ws_flush(ngx_http_rtagent_ws_t *ws);
static void ngx_http_rtagent_ws_protocol_error(ngx_http_rtagent_ws_t *ws);
static void ngx_http_rtagent_ws_closing(ngx_http_rtagent_ws_t *ws);
static ngx_int_t ngx_http_rtagent_ws_init_process(ngx_cycle_t *cycle);
static void ngx_http_rtagent_ws_exit_process(ngx_cycle_t *cycle);


/*
 * A module of its own for the request ctx and the worker's list of live
 * WebSockets, which worker exit closes with 1001 (going away).
 */

static ngx_http_module_t  ngx_http_rtagent_ws_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_rtagent_ws_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_ws_module_ctx,       /* module context */
    NULL,                                  /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_rtagent_ws_init_process,      /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_rtagent_ws_exit_process,      /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_queue_t  ngx_http_rtagent_ws_live;
static void ngx_http_rtagent_ws_finalize(ngx_http_rtagent_ws_t *ws,
    ngx_int_t rc);
static void ngx_http_rtagent_ws_ping_handler(ngx_event_t *ev);
static void ngx_http_rtagent_ws_cleanup(void *data);
static void ngx_http_rtagent_ws_going_away(ngx_http_rtagent_ws_t *ws);


static const struct wslay_event_callbacks  ngx_http_rtagent_ws_callbacks = {
    ngx_http_rtagent_ws_recv_cb,
    ngx_http_rtagent_ws_send_cb,
    NULL,                                   /* genmask: servers do not mask */
    NULL,
    NULL,
    NULL,
    ngx_http_rtagent_ws_msg_cb
};


void
ngx_http_rtagent_ws_init_conf(ngx_http_rtagent_ws_conf_t *conf)
{
    conf->max_message_size = NGX_CONF_UNSET_SIZE;
    conf->max_send_queue = NGX_CONF_UNSET_SIZE;
    conf->ping_interval = NGX_CONF_UNSET_MSEC;
    conf->idle_timeout = NGX_CONF_UNSET_MSEC;
    conf->close_timeout = NGX_CONF_UNSET_MSEC;
}


char *
ngx_http_rtagent_ws_merge_conf(ngx_conf_t *cf,
    ngx_http_rtagent_ws_conf_t *conf, ngx_http_rtagent_ws_conf_t *prev)
{
    /* an ACS AudioData message of 20 ms at 24 kHz is about 1.4 KiB */
    ngx_conf_merge_size_value(conf->max_message_size,
                              prev->max_message_size, 64 * 1024);
    ngx_conf_merge_size_value(conf->max_send_queue,
                              prev->max_send_queue, 512 * 1024);
    ngx_conf_merge_msec_value(conf->ping_interval, prev->ping_interval,
                              20000);
    ngx_conf_merge_msec_value(conf->idle_timeout, prev->idle_timeout,
                              60000);
    ngx_conf_merge_msec_value(conf->close_timeout, prev->close_timeout,
                              1000);

    /* the directives' bounds are checked by their posts (module.c) */

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_rtagent_ws_create(ngx_http_request_t *r,
    ngx_http_rtagent_ws_conf_t *conf, ngx_http_rtagent_ws_t **wsp)
{
    ngx_http_cleanup_t     *cln;
    ngx_http_rtagent_ws_t  *ws;

    ws = ngx_pcalloc(r->pool, sizeof(ngx_http_rtagent_ws_t));
    if (ws == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    if (wslay_event_context_server_init(&ws->wslay,
                                        &ngx_http_rtagent_ws_callbacks, ws)
        != 0)
    {
        return NGX_ERROR;
    }

    wslay_event_config_set_max_recv_msg_length(ws->wslay,
                                               conf->max_message_size);

    ngx_http_set_ctx(r, ws, ngx_http_rtagent_ws_module);

    ws->request = r;
    ws->connection = r->connection;
    ws->conf = conf;
    ngx_str_set(&ws->call_id, "-");

    cln->handler = ngx_http_rtagent_ws_cleanup;
    cln->data = ws;

    *wsp = ws;

    return NGX_OK;
}


/*
 * Holds the request open and starts the frame loop.  The content handler
 * returns what this returns (NGX_DONE).  Bytes the client sent right after
 * the handshake are already in r->header_in: a posted read event makes the
 * loop consume them even if the socket stays quiet.
 */

ngx_int_t
ngx_http_rtagent_ws_start(ngx_http_rtagent_ws_t *ws)
{
    ngx_connection_t           *c;
    ngx_http_request_t         *r;
    ngx_http_core_loc_conf_t   *clcf;

    r = ws->request;
    c = ws->connection;

    r->main->count++;
    r->read_event_handler = ngx_http_rtagent_ws_read_handler;
    r->write_event_handler = ngx_http_rtagent_ws_write_handler;

    c->log->action = "serving websocket";

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
    if (clcf->tcp_nodelay && ngx_tcp_nodelay(c) != NGX_OK) {
        ngx_http_rtagent_ws_finalize(ws, NGX_ERROR);
        return NGX_DONE;
    }

    ws->ping.handler = ngx_http_rtagent_ws_ping_handler;
    ws->ping.data = c;
    ws->ping.log = c->log;

    if (ws->conf->ping_interval) {
        ngx_add_timer(&ws->ping, ws->conf->ping_interval);
    }

    ws->last_in = ngx_current_msec;
    ngx_add_timer(c->read, ws->conf->idle_timeout);

    ngx_queue_insert_tail(&ngx_http_rtagent_ws_live, &ws->queue);

    ngx_post_event(c->read, &ngx_posted_events);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "rtagent ws: open, call:%V", &ws->call_id);

    return NGX_DONE;
}


ngx_int_t
ngx_http_rtagent_ws_send(ngx_http_rtagent_ws_t *ws, ngx_uint_t opcode,
    const u_char *data, size_t len)
{
    size_t                  queued;
    struct wslay_event_msg  msg;

    if (ws->closing || ws->error || ws->finalized) {
        return NGX_DECLINED;
    }

    queued = wslay_event_get_queued_msg_length(ws->wslay);

    if (queued + len > ws->conf->max_send_queue) {
        ngx_log_error(NGX_LOG_WARN, ws->connection->log, 0,
                      "rtagent ws: peer is not reading, %uz bytes queued, "
                      "closing, call:%V", queued, &ws->call_id);
        ngx_http_rtagent_ws_close(ws, NGX_HTTP_RTAGENT_WS_POLICY,
                                  "send queue full");
        return NGX_ERROR;
    }

    msg.opcode = (uint8_t) opcode;
    msg.msg = data;
    msg.msg_length = len;

    if (wslay_event_queue_msg(ws->wslay, &msg) != 0) {
        ws->error = 1;
        ngx_http_rtagent_ws_flush(ws);
        return NGX_ERROR;
    }

    ngx_http_rtagent_ws_flush(ws);

    return NGX_OK;
}


void
ngx_http_rtagent_ws_close(ngx_http_rtagent_ws_t *ws, ngx_uint_t code,
    const char *reason)
{
    if (ws->closing || ws->finalized) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, ws->connection->log, 0,
                  "rtagent ws: closing with %ui \"%s\", call:%V",
                  code, reason, &ws->call_id);

    if (wslay_event_queue_close(ws->wslay, (uint16_t) code,
                                (const uint8_t *) reason, ngx_strlen(reason))
        != 0)
    {
        /* a close was already queued by wslay itself */
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ws->connection->log, 0,
                       "rtagent ws: close already queued");
    }

    ngx_http_rtagent_ws_closing(ws);
    ngx_http_rtagent_ws_flush(ws);
}


static ngx_int_t
ngx_http_rtagent_ws_init_process(ngx_cycle_t *cycle)
{
    ngx_queue_init(&ngx_http_rtagent_ws_live);

    return NGX_OK;
}


/* worker exit: tell every peer we are going away (best effort) */

static void
ngx_http_rtagent_ws_exit_process(ngx_cycle_t *cycle)
{
    ngx_queue_t            *q, *next;
    ngx_http_rtagent_ws_t  *ws;

    if (ngx_http_rtagent_ws_live.next == NULL) {
        return;
    }

    for (q = ngx_queue_head(&ngx_http_rtagent_ws_live);
         q != ngx_queue_sentinel(&ngx_http_rtagent_ws_live);
         q = next)
    {
        next = ngx_queue_next(q);
        ws = ngx_queue_data(q, ngx_http_rtagent_ws_t, queue);
        ngx_http_rtagent_ws_going_away(ws);
    }
}


static ssize_t
ngx_http_rtagent_ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf,
    size_t len, int flags, void *user_data)
{
    ssize_t                 n;
    ngx_buf_t              *b;
    ngx_http_rtagent_ws_t  *ws;

    ws = user_data;
    b = ws->request->header_in;

    /* frames pipelined behind the handshake */
    if (b != NULL && b->pos < b->last) {
        n = ngx_min((size_t) (b->last - b->pos), len);
        ngx_memcpy(buf, b->pos, n);
        b->pos += n;
        return n;
    }

    /* a short read already drained the socket: spare a recv() call */
    if (!ws->connection->read->ready) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    n = ws->connection->recv(ws->connection, buf, len);

    if (n > 0) {
        ws->last_in = ngx_current_msec;
        return n;
    }

    if (n == NGX_AGAIN) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    if (n == 0) {
        ws->eof = 1;

    } else {
        ws->error = 1;
    }

    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);

    return -1;
}


/*
 * wslay writes a frame as its header (flagged WSLAY_MSG_MORE) then its
 * payload.  The header is held back and written with the payload in one
 * send(): one syscall and one TCP segment (or TLS record) per frame.
 */

static ssize_t
ngx_http_rtagent_ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data,
    size_t len, int flags, void *user_data)
{
    u_char                 *p;
    size_t                  hlen;
    ssize_t                 n;
    ngx_http_rtagent_ws_t  *ws;

    ws = user_data;
    hlen = ws->header_len;

    if ((flags & WSLAY_MSG_MORE) && hlen == 0 && len <= sizeof(ws->header)) {
        ngx_memcpy(ws->header, data, len);
        ws->header_len = len;
        return len;
    }

    p = (u_char *) data;

    if (hlen) {
        p = ngx_http_rtagent_send_scratch(hlen + len);
        if (p == NULL) {
            ws->error = 1;
            wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
            return -1;
        }

        ngx_memcpy(p, ws->header, hlen);
        ngx_memcpy(p + hlen, data, len);
    }

    n = ws->connection->send(ws->connection, p, hlen + len);

    if (n > 0 && (size_t) n < hlen) {
        /* only part of the held header left: keep the rest, in order */
        ngx_memmove(ws->header, ws->header + n, hlen - n);
        ws->header_len = hlen - n;
        n = NGX_AGAIN;

    } else if (n > 0) {
        ws->header_len = 0;
        n -= hlen;

        if (n > 0) {
            ws->blocked = ((size_t) n < len);
            return n;
        }

        n = NGX_AGAIN;
    }

    if (n == NGX_AGAIN || n == 0) {
        ws->blocked = 1;
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    ws->error = 1;
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);

    return -1;
}


static void
ngx_http_rtagent_ws_msg_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *user_data)
{
    ngx_http_rtagent_ws_t  *ws;

    ws = user_data;

    switch (arg->opcode) {

    case WSLAY_TEXT_FRAME:
    case WSLAY_BINARY_FRAME:
        if (!ws->closing && ws->on_message) {
            ws->on_message(ws, arg->opcode, (u_char *) arg->msg,
                           arg->msg_length);
        }
        break;

    case WSLAY_CONNECTION_CLOSE:
        ngx_log_error(NGX_LOG_INFO, ws->connection->log, 0,
                      "rtagent ws: peer closed with %d, call:%V",
                      (int) wslay_event_get_status_code_received(ctx),
                      &ws->call_id);
        break;

    default:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ws->connection->log, 0,
                       "rtagent ws: control frame %d", (int) arg->opcode);
        break;
    }
}


static void
ngx_http_rtagent_ws_read_handler(ngx_http_request_t *r)
{
    ngx_msec_t              idle;
    ngx_event_t            *rev;
    ngx_http_rtagent_ws_t  *ws;

    ws = ngx_http_get_module_ctx(r, ngx_http_rtagent_ws_module);
    rev = r->connection->read;

    if (rev->timedout) {
        rev->timedout = 0;

        if (ws->closing) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "rtagent ws: no close from peer within %M ms, "
                          "call:%V", ws->conf->close_timeout, &ws->call_id);
            ngx_http_rtagent_ws_finalize(ws, NGX_OK);
            return;
        }

        /* the timer is armed once; traffic only moves last_in */
        idle = ngx_current_msec - ws->last_in;

        if (idle < ws->conf->idle_timeout) {
            ngx_add_timer(rev, ws->conf->idle_timeout - idle);
            return;
        }

        ngx_http_rtagent_ws_close(ws, NGX_HTTP_RTAGENT_WS_GOING_AWAY,
                                  "idle timeout");
        return;
    }

    ngx_http_rtagent_ws_pump(ws, 1);
}


static void
ngx_http_rtagent_ws_write_handler(ngx_http_request_t *r)
{
    ngx_int_t               rc;
    ngx_connection_t       *c;
    ngx_http_rtagent_ws_t  *ws;

    ws = ngx_http_get_module_ctx(r, ngx_http_rtagent_ws_module);
    c = r->connection;

    if (ws->header_pending) {
        rc = ngx_http_output_filter(r, NULL);

        if (rc == NGX_ERROR) {
            ngx_http_rtagent_ws_finalize(ws, NGX_ERROR);
            return;
        }

        if (r->out != NULL || c->buffered) {
            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                ngx_http_rtagent_ws_finalize(ws, NGX_ERROR);
            }
            return;
        }

        ws->header_pending = 0;
    }

    ngx_http_rtagent_ws_pump(ws, 0);
}


/*
 * Reads what the peer sent (messages go to the owner from inside
 * wslay_event_recv), writes what is queued, and either re-arms the events
 * or, once both directions are done, finalizes the request.
 */

static void
ngx_http_rtagent_ws_pump(ngx_http_rtagent_ws_t *ws, ngx_uint_t read)
{
    int                 rc;
    ngx_connection_t   *c;

    c = ws->connection;

    if (read && wslay_event_want_read(ws->wslay)) {
        rc = wslay_event_recv(ws->wslay);

        if (rc != 0 && !ws->eof && !ws->error) {
            ngx_http_rtagent_ws_protocol_error(ws);
        }

        if (rc != 0 && !ws->eof) {
            ws->error = 1;
        }
    }

    if (!ws->closing && !wslay_event_want_read(ws->wslay)) {
        /* wslay queued a close: a protocol error or the peer's close */
        ngx_http_rtagent_ws_closing(ws);
    }

    if (!ws->error && !ws->eof && !ws->header_pending
        && wslay_event_want_write(ws->wslay)
        && wslay_event_send(ws->wslay) != 0)
    {
        ws->error = 1;
    }

    if (ws->eof) {
        if (!wslay_event_get_close_received(ws->wslay)) {
            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "rtagent ws: peer went away without a close frame,"
                          " call:%V", &ws->call_id);
        }

        ngx_http_rtagent_ws_finalize(ws, NGX_HTTP_CLIENT_CLOSED_REQUEST);
        return;
    }

    if (ws->error) {
        ngx_http_rtagent_ws_finalize(ws, NGX_ERROR);
        return;
    }

    if (!wslay_event_want_read(ws->wslay)
        && !wslay_event_want_write(ws->wslay))
    {
        ngx_http_rtagent_ws_finalize(ws, NGX_OK);
        return;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_rtagent_ws_finalize(ws, NGX_ERROR);
        return;
    }

    if (wslay_event_want_write(ws->wslay) && !ws->header_pending
        && ngx_handle_write_event(c->write, 0) != NGX_OK)
    {
        ngx_http_rtagent_ws_finalize(ws, NGX_ERROR);
    }
}


/*
 * Sends from outside the event handlers (a timer, a message callback).
 * Never finalizes here: the caller's state must survive this call, so the
 * outcome is left to the write handler through a posted event.
 */

static void
ngx_http_rtagent_ws_flush(ngx_http_rtagent_ws_t *ws)
{
    ngx_connection_t  *c;

    c = ws->connection;

    if (!ws->error && !ws->header_pending
        && wslay_event_want_write(ws->wslay)
        && wslay_event_send(ws->wslay) != 0)
    {
        ws->error = 1;
    }

    if (ws->error
        || (!wslay_event_want_read(ws->wslay)
            && !wslay_event_want_write(ws->wslay)))
    {
        ngx_post_event(c->write, &ngx_posted_events);
        return;
    }

    if (wslay_event_want_write(ws->wslay) && !ws->header_pending
        && ngx_handle_write_event(c->write, 0) != NGX_OK)
    {
        ws->error = 1;
        ngx_post_event(c->write, &ngx_posted_events);
    }
}


/*
 * A frame wslay's parser rejects outright (a control frame over 125 bytes,
 * a fragmented control frame, a 64-bit length with the high bit set) makes
 * it queue a close with no status.  RFC 6455 7.1.7 asks for a status, so
 * 1002 is written directly, unless a frame of ours is half on the wire.
 */

static void
ngx_http_rtagent_ws_protocol_error(ngx_http_rtagent_ws_t *ws)
{
    static u_char  close[] = { 0x88, 0x02, 0x03, 0xea };

    ngx_log_error(NGX_LOG_INFO, ws->connection->log, 0,
                  "rtagent ws: malformed frame, closing with 1002, call:%V",
                  &ws->call_id);

    if (!ws->blocked && !ws->header_pending && ws->header_len == 0) {
        (void) ws->connection->send(ws->connection, close, sizeof(close));
    }
}


/* a close frame is queued: stop pinging and wait close_timeout at most */

static void
ngx_http_rtagent_ws_closing(ngx_http_rtagent_ws_t *ws)
{
    ws->closing = 1;

    if (ws->ping.timer_set) {
        ngx_del_timer(&ws->ping);
    }

    ngx_add_timer(ws->connection->read, ws->conf->close_timeout);
}


static void
ngx_http_rtagent_ws_finalize(ngx_http_rtagent_ws_t *ws, ngx_int_t rc)
{
    if (ws->finalized) {
        return;
    }

    ws->finalized = 1;

    ngx_log_error(NGX_LOG_INFO, ws->connection->log, 0,
                  "rtagent ws: closed, sent %d, received %d, call:%V",
                  (int) wslay_event_get_status_code_sent(ws->wslay),
                  (int) wslay_event_get_status_code_received(ws->wslay),
                  &ws->call_id);

    ngx_http_finalize_request(ws->request, rc);
}


static void
ngx_http_rtagent_ws_ping_handler(ngx_event_t *ev)
{
    ngx_connection_t       *c;
    ngx_http_request_t     *r;
    ngx_http_rtagent_ws_t  *ws;
    struct wslay_event_msg  msg;

    c = ev->data;
    r = c->data;
    ws = ngx_http_get_module_ctx(r, ngx_http_rtagent_ws_module);

    msg.opcode = WSLAY_PING;
    msg.msg = NULL;
    msg.msg_length = 0;

    if (wslay_event_queue_msg(ws->wslay, &msg) == 0) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "rtagent ws: ping, call:%V", &ws->call_id);
    }

    ngx_add_timer(&ws->ping, ws->conf->ping_interval);

    ngx_http_rtagent_ws_flush(ws);
}


/*
 * Runs once on every path that frees the request (our finalize, a client
 * abort seen by nginx, worker shutdown): the owner lets go first, then the
 * frame state is freed.
 */

static void
ngx_http_rtagent_ws_cleanup(void *data)
{
    ngx_http_rtagent_ws_t  *ws = data;

    if (ws->cleaned) {
        return;
    }

    ws->cleaned = 1;

    if (ws->ping.timer_set) {
        ngx_del_timer(&ws->ping);
    }

    if (ws->queue.next != NULL) {
        ngx_queue_remove(&ws->queue);
        ws->queue.next = NULL;
    }

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        ngx_http_rtagent_ws_going_away(ws);
    }

    if (ws->on_closed) {
        ws->on_closed(ws);
    }

    wslay_event_context_free(ws->wslay);
    ws->wslay = NULL;
}


static void
ngx_http_rtagent_ws_going_away(ngx_http_rtagent_ws_t *ws)
{
    if (ws->error || ws->eof || ws->header_pending
        || wslay_event_get_close_sent(ws->wslay))
    {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, ws->connection->log, 0,
                  "rtagent ws: closing with 1001 \"server shutting down\", "
                  "call:%V", &ws->call_id);

    (void) wslay_event_queue_close(ws->wslay, NGX_HTTP_RTAGENT_WS_GOING_AWAY,
                                   (const uint8_t *) "server shutting down",
                                   sizeof("server shutting down") - 1);
    (void) wslay_event_send(ws->wslay);
}
