
/*
 * A WebSocket client on nginx events (see the header).  The states run
 * start (a posted event, so that no callback fires inside open()) →
 * resolve (host names only) → connect → TLS (wss://) → write the upgrade
 * request → read the answer → open (wslay's client context frames the
 * messages).  Whatever ends it ends it once, through finish(); what
 * went wrong there is logged at "info" (the owner logs the error it is
 * told of, once, with its own context), a bad configuration at open() as
 * an error.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include <wslay/wslay.h>

#include <io/ngx_http_rtagent_wsc.h>
#include <io/ngx_http_rtagent_wsc_upgrade.h>
#include <ws/ngx_http_rtagent_ws.h>
#include <ws/ngx_http_rtagent_ws_hs.h>


/* the upgrade's answer, at most */
#define NGX_HTTP_RTAGENT_WSC_HS_MAX   8192


typedef enum {
    ngx_http_rtagent_wsc_st_start = 0,
    ngx_http_rtagent_wsc_st_resolve,
    ngx_http_rtagent_wsc_st_connect,
    ngx_http_rtagent_wsc_st_tls,
    ngx_http_rtagent_wsc_st_write,
    ngx_http_rtagent_wsc_st_read,
    ngx_http_rtagent_wsc_st_open
} ngx_http_rtagent_wsc_state_e;


typedef struct {
    ngx_str_t                      data;
    ngx_uint_t                     binary;
} ngx_http_rtagent_wsc_pending_t;


struct ngx_http_rtagent_wsc_s {
    ngx_pool_t                    *pool;
    ngx_http_rtagent_wsc_conf_t    conf;
    ngx_http_rtagent_wsc_state_e   state;

    ngx_url_t                      url;
    ngx_event_t                    start;
    ngx_resolver_ctx_t            *rctx;
    ngx_peer_connection_t          peer;
    ngx_connection_t              *c;

    ngx_buf_t                     *out;        /* the upgrade request */
    ngx_buf_t                     *in;         /* its answer, then frames */
    u_char                         key[NGX_HTTP_RTAGENT_WS_HS_KEY_LEN];
    u_char                         accept[NGX_HTTP_RTAGENT_WS_ACCEPT_LEN];

    wslay_event_context_ptr        wslay;
    ngx_array_t                    pending;    /* before the upgrade */

    ngx_uint_t                     busy;       /* inside our callbacks */
    unsigned                       ssl:1;
    unsigned                       dead:1;     /* closed while busy */
    unsigned                       eof:1;
    unsigned                       error:1;
};


static void ngx_http_rtagent_wsc_start(ngx_event_t *ev);
static void ngx_http_rtagent_wsc_resolved(ngx_resolver_ctx_t *ctx);
static void ngx_http_rtagent_wsc_connect(ngx_http_rtagent_wsc_t *wsc,
    struct sockaddr *sa, socklen_t socklen);
static void ngx_http_rtagent_wsc_connected(ngx_http_rtagent_wsc_t *wsc);
#if (NGX_SSL)
static ngx_int_t ngx_http_rtagent_wsc_check_host(
    ngx_http_rtagent_wsc_t *wsc);
static void ngx_http_rtagent_wsc_ssl_done(ngx_connection_t *c);
#endif
static ngx_int_t ngx_http_rtagent_wsc_request(ngx_http_rtagent_wsc_t *wsc);
static void ngx_http_rtagent_wsc_handler(ngx_event_t *ev);
static void ngx_http_rtagent_wsc_handshake(ngx_http_rtagent_wsc_t *wsc,
    ngx_event_t *ev);
static void ngx_http_rtagent_wsc_io(ngx_http_rtagent_wsc_t *wsc);
static void ngx_http_rtagent_wsc_finish(ngx_http_rtagent_wsc_t *wsc,
    ngx_http_rtagent_wsc_end_e end, ngx_uint_t code, const char *detail);
static void ngx_http_rtagent_wsc_free(ngx_http_rtagent_wsc_t *wsc);

static ssize_t ngx_http_rtagent_wsc_recv_cb(wslay_event_context_ptr ctx,
    uint8_t *buf, size_t len, int flags, void *user_data);
static ssize_t ngx_http_rtagent_wsc_send_cb(wslay_event_context_ptr ctx,
    const uint8_t *data, size_t len, int flags, void *user_data);
static int ngx_http_rtagent_wsc_genmask_cb(wslay_event_context_ptr ctx,
    uint8_t *buf, size_t len, void *user_data);
static void ngx_http_rtagent_wsc_msg_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *user_data);


static const struct wslay_event_callbacks  ngx_http_rtagent_wsc_callbacks = {
    ngx_http_rtagent_wsc_recv_cb,
    ngx_http_rtagent_wsc_send_cb,
    ngx_http_rtagent_wsc_genmask_cb,
    NULL,
    NULL,
    NULL,
    ngx_http_rtagent_wsc_msg_cb
};


ngx_http_rtagent_wsc_t *
ngx_http_rtagent_wsc_open(ngx_http_rtagent_wsc_conf_t *conf)
{
    ngx_pool_t              *pool;
    ngx_http_rtagent_wsc_t  *wsc;

    pool = ngx_create_pool(2048, conf->log);
    if (pool == NULL) {
        return NULL;
    }

    wsc = ngx_pcalloc(pool, sizeof(ngx_http_rtagent_wsc_t));
    if (wsc == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    wsc->pool = pool;
    wsc->conf = *conf;

    if (conf->url.len > 6
        && ngx_strncasecmp(conf->url.data, (u_char *) "wss://", 6) == 0)
    {
#if (NGX_SSL)
        wsc->ssl = 1;
        wsc->url.url.data = conf->url.data + 6;
        wsc->url.url.len = conf->url.len - 6;
        wsc->url.default_port = 443;
#else
        ngx_log_error(NGX_LOG_ERR, conf->log, 0,
                      "rtagent wsc: \"%V\": nginx has no TLS", &conf->url);
        goto failed;
#endif

    } else if (conf->url.len > 5
               && ngx_strncasecmp(conf->url.data, (u_char *) "ws://", 5)
                  == 0)
    {
        wsc->url.url.data = conf->url.data + 5;
        wsc->url.url.len = conf->url.len - 5;
        wsc->url.default_port = 80;

    } else {
        ngx_log_error(NGX_LOG_ERR, conf->log, 0,
                      "rtagent wsc: \"%V\" is not a ws:// or wss:// URL",
                      &conf->url);
        goto failed;
    }

#if (NGX_SSL)
    if (wsc->ssl && conf->ssl == NULL) {
        ngx_log_error(NGX_LOG_ERR, conf->log, 0,
                      "rtagent wsc: \"%V\": no TLS context", &conf->url);
        goto failed;
    }
#endif

    /* a numeric address or unix: here; a name through the resolver */
    wsc->url.uri_part = 1;
    wsc->url.no_resolve = 1;

    if (ngx_parse_url(pool, &wsc->url) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, conf->log, 0,
                      "rtagent wsc: \"%V\": %s", &conf->url,
                      wsc->url.err ? wsc->url.err : "a bad URL");
        goto failed;
    }

    if (wsc->url.naddrs == 0 && conf->resolver == NULL) {
        ngx_log_error(NGX_LOG_ERR, conf->log, 0,
                      "rtagent wsc: \"%V\": a host name needs a "
                      "\"resolver\"", &conf->url);
        goto failed;
    }

    if (wsc->url.uri.len == 0) {
        ngx_str_set(&wsc->url.uri, "/");
    }

    if (ngx_http_rtagent_wsc_request(wsc) != NGX_OK) {
        goto failed;
    }

    wsc->in = ngx_create_temp_buf(pool, NGX_HTTP_RTAGENT_WSC_HS_MAX);
    if (wsc->in == NULL) {
        goto failed;
    }

    if (ngx_array_init(&wsc->pending, pool, 4,
                       sizeof(ngx_http_rtagent_wsc_pending_t))
        != NGX_OK)
    {
        goto failed;
    }

    wsc->start.handler = ngx_http_rtagent_wsc_start;
    wsc->start.data = wsc;
    wsc->start.log = conf->log;

    ngx_post_event(&wsc->start, &ngx_posted_events);

    return wsc;

failed:

    ngx_destroy_pool(pool);

    return NULL;
}


void *
ngx_http_rtagent_wsc_data(ngx_http_rtagent_wsc_t *wsc)
{
    return wsc->conf.data;
}


/* the upgrade request, with a fresh key and the answer it must get */

static ngx_int_t
ngx_http_rtagent_wsc_request(ngx_http_rtagent_wsc_t *wsc)
{
    size_t         len;
    u_char         rnd[16];
    ngx_str_t      src, dst;
    ngx_uint_t     i;
    ngx_buf_t     *b;
    ngx_keyval_t  *kv;

    for (i = 0; i < sizeof(rnd); i++) {
        rnd[i] = (u_char) ngx_random();
    }

    src.data = rnd;
    src.len = sizeof(rnd);
    dst.data = wsc->key;
    ngx_encode_base64(&dst, &src);

    if (ngx_http_rtagent_ws_accept_key(&dst, wsc->accept) != NGX_OK) {
        return NGX_ERROR;
    }

    len = sizeof("GET  HTTP/1.1\r\nHost: \r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: \r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n")
          + wsc->url.uri.len + wsc->url.host.len + sizeof(":65535")
          + NGX_HTTP_RTAGENT_WS_HS_KEY_LEN;

    kv = wsc->conf.headers ? wsc->conf.headers->elts : NULL;

    for (i = 0; kv && i < wsc->conf.headers->nelts; i++) {
        len += kv[i].key.len + sizeof(": \r\n") + kv[i].value.len;
    }

    b = ngx_create_temp_buf(wsc->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_sprintf(b->last, "GET %V HTTP/1.1\r\nHost: %V",
                          &wsc->url.uri, &wsc->url.host);

    if (!wsc->url.no_port) {
        b->last = ngx_sprintf(b->last, ":%d", (int) wsc->url.port);
    }

    b->last = ngx_sprintf(b->last, "\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Key: %*s\r\n"
                          "Sec-WebSocket-Version: 13\r\n",
                          (size_t) NGX_HTTP_RTAGENT_WS_HS_KEY_LEN, wsc->key);

    for (i = 0; kv && i < wsc->conf.headers->nelts; i++) {
        b->last = ngx_sprintf(b->last, "%V: %V\r\n", &kv[i].key,
                              &kv[i].value);
    }

    *b->last++ = CR; *b->last++ = LF;

    wsc->out = b;

    return NGX_OK;
}


static void
ngx_http_rtagent_wsc_start(ngx_event_t *ev)
{
    ngx_resolver_ctx_t      *rctx;
    ngx_http_rtagent_wsc_t  *wsc = ev->data;

    if (wsc->url.naddrs) {
        ngx_http_rtagent_wsc_connect(wsc, wsc->url.addrs[0].sockaddr,
                                     wsc->url.addrs[0].socklen);
        return;
    }

    wsc->state = ngx_http_rtagent_wsc_st_resolve;

    rctx = ngx_resolve_start(wsc->conf.resolver, NULL);
    if (rctx == NULL || rctx == NGX_NO_RESOLVER) {
        ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_NETWORK, 0,
                                    "no resolver");
        return;
    }

    rctx->name = wsc->url.host;
    rctx->handler = ngx_http_rtagent_wsc_resolved;
    rctx->data = wsc;
    rctx->timeout = wsc->conf.resolver_timeout;

    wsc->rctx = rctx;

    if (ngx_resolve_name(rctx) != NGX_OK) {
        wsc->rctx = NULL;
        ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_NETWORK, 0,
                                    "resolver failed");
    }
}


static void
ngx_http_rtagent_wsc_resolved(ngx_resolver_ctx_t *ctx)
{
    socklen_t                socklen;
    struct sockaddr         *sa;
    ngx_http_rtagent_wsc_t  *wsc = ctx->data;

    wsc->rctx = NULL;

    if (ctx->state || ctx->naddrs == 0) {
        ngx_log_error(NGX_LOG_INFO, wsc->conf.log, 0,
                      "rtagent wsc: %V could not be resolved (%i: %s)",
                      &ctx->name, ctx->state,
                      ngx_resolver_strerror(ctx->state));
        ngx_resolve_name_done(ctx);
        ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_NETWORK, 0,
                                    "could not resolve the host");
        return;
    }

    socklen = ctx->addrs[0].socklen;
    sa = ngx_palloc(wsc->pool, socklen);
    if (sa == NULL) {
        ngx_resolve_name_done(ctx);
        ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_INTERNAL, 0,
                                    "no memory");
        return;
    }

    ngx_memcpy(sa, ctx->addrs[0].sockaddr, socklen);
    ngx_inet_set_port(sa, wsc->url.port);
    ngx_resolve_name_done(ctx);

    ngx_http_rtagent_wsc_connect(wsc, sa, socklen);
}


static void
ngx_http_rtagent_wsc_connect(ngx_http_rtagent_wsc_t *wsc,
    struct sockaddr *sa, socklen_t socklen)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    wsc->state = ngx_http_rtagent_wsc_st_connect;

    wsc->peer.sockaddr = sa;
    wsc->peer.socklen = socklen;
    wsc->peer.name = &wsc->url.host;
    wsc->peer.get = ngx_event_get_peer;
    wsc->peer.log = wsc->conf.log;
    wsc->peer.log_error = NGX_ERROR_INFO;

    rc = ngx_event_connect_peer(&wsc->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        if (wsc->peer.connection) {
            ngx_close_connection(wsc->peer.connection);
            wsc->peer.connection = NULL;
        }

        ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_NETWORK, 0,
                                    "connect failed");
        return;
    }

    c = wsc->peer.connection;
    wsc->c = c;

    /* the owner logs the end it is told of, with what it knows */
    c->log_error = NGX_ERROR_INFO;

    c->data = wsc;
    c->pool = wsc->pool;
    c->read->handler = ngx_http_rtagent_wsc_handler;
    c->write->handler = ngx_http_rtagent_wsc_handler;

    ngx_add_timer(c->write, wsc->conf.timeout);

    if (rc == NGX_AGAIN) {
        return;
    }

    ngx_http_rtagent_wsc_connected(wsc);
}


static void
ngx_http_rtagent_wsc_connected(ngx_http_rtagent_wsc_t *wsc)
{
#if (NGX_SSL)
    ngx_int_t          rc;
    ngx_connection_t  *c = wsc->c;

    if (wsc->ssl && c->ssl == NULL) {
        wsc->state = ngx_http_rtagent_wsc_st_tls;

        if (ngx_ssl_create_connection(wsc->conf.ssl, c,
                                      NGX_SSL_BUFFER|NGX_SSL_CLIENT)
            != NGX_OK)
        {
            ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_NETWORK,
                                        0, "TLS failed");
            return;
        }

        /* SNI: a name, not an address */
        if (wsc->url.naddrs == 0) {
            u_char  *name;

            name = ngx_pnalloc(wsc->pool, wsc->url.host.len + 1);
            if (name == NULL) {
                ngx_http_rtagent_wsc_finish(wsc,
                                            NGX_HTTP_RTAGENT_WSC_INTERNAL, 0,
                                            "no memory");
                return;
            }

            (void) ngx_cpystrn(name, wsc->url.host.data,
                               wsc->url.host.len + 1);
            (void) SSL_set_tlsext_host_name(c->ssl->connection,
                                            (char *) name);
        }

        rc = ngx_ssl_handshake(c);

        if (rc == NGX_AGAIN) {
            c->ssl->handler = ngx_http_rtagent_wsc_ssl_done;
            return;
        }

        ngx_http_rtagent_wsc_ssl_done(c);
        return;
    }
#endif

    wsc->state = ngx_http_rtagent_wsc_st_write;
    ngx_http_rtagent_wsc_handshake(wsc, wsc->c->write);
}


#if (NGX_SSL)

/* a name as ngx_ssl does; an address (not matched by it) by its IP SAN */

static ngx_int_t
ngx_http_rtagent_wsc_check_host(ngx_http_rtagent_wsc_t *wsc)
{
    int         rc;
    X509       *cert;
    ngx_str_t   host;
    u_char      ip[NGX_SOCKADDR_STRLEN + 1];

    if (wsc->url.naddrs == 0) {
        return ngx_ssl_check_host(wsc->c, &wsc->url.host);
    }

    host = wsc->url.host;

    if (host.len > 2 && host.data[0] == '[') {
        host.data++;
        host.len -= 2;
    }

    if (host.len >= sizeof(ip)) {
        return NGX_ERROR;
    }

    (void) ngx_cpystrn(ip, host.data, host.len + 1);

    cert = SSL_get_peer_certificate(wsc->c->ssl->connection);
    if (cert == NULL) {
        return NGX_ERROR;
    }

    rc = X509_check_ip_asc(cert, (char *) ip, 0);
    X509_free(cert);

    return rc == 1 ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_rtagent_wsc_ssl_done(ngx_connection_t *c)
{
    long                     rc;
    ngx_http_rtagent_wsc_t  *wsc = c->data;

    /* ngx_ssl's handler calls us on its timer too: a server that never
     * answers the hello is slow, not broken */
    if (c->read->timedout || c->write->timedout) {
        ngx_log_error(NGX_LOG_INFO, wsc->conf.log, NGX_ETIMEDOUT,
                      "rtagent wsc: %V timed out in the TLS handshake",
                      &wsc->url.host);
        ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_TIMEOUT, 0,
                                    "TLS handshake timed out");
        return;
    }

    if (!c->ssl->handshaked) {
        ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_NETWORK, 0,
                                    "TLS handshake failed");
        return;
    }

    if (wsc->conf.ssl_verify) {
        rc = SSL_get_verify_result(c->ssl->connection);

        if (rc != X509_V_OK) {
            ngx_log_error(NGX_LOG_INFO, wsc->conf.log, 0,
                          "rtagent wsc: %V: certificate verify error "
                          "(%l: %s)", &wsc->url.host, rc,
                          X509_verify_cert_error_string(rc));
            ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_NETWORK,
                                        0, "certificate verify error");
            return;
        }

        if (ngx_http_rtagent_wsc_check_host(wsc) != NGX_OK) {
            ngx_log_error(NGX_LOG_INFO, wsc->conf.log, 0,
                          "rtagent wsc: the certificate does not match "
                          "\"%V\"", &wsc->url.host);
            ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_NETWORK,
                                        0, "certificate name mismatch");
            return;
        }
    }

    c->read->handler = ngx_http_rtagent_wsc_handler;
    c->write->handler = ngx_http_rtagent_wsc_handler;

    wsc->state = ngx_http_rtagent_wsc_st_write;
    ngx_http_rtagent_wsc_handshake(wsc, c->write);
}

#endif


static void
ngx_http_rtagent_wsc_handler(ngx_event_t *ev)
{
    int                      err;
    socklen_t                len;
    ngx_connection_t        *c = ev->data;
    ngx_http_rtagent_wsc_t  *wsc = c->data;

    if (ev->timedout) {
        ngx_log_error(NGX_LOG_INFO, wsc->conf.log, NGX_ETIMEDOUT,
                      "rtagent wsc: %V timed out", &wsc->url.host);
        ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_TIMEOUT, 0,
                                    "timed out");
        return;
    }

    switch (wsc->state) {

    case ngx_http_rtagent_wsc_st_connect:
        if (!ev->write) {
            return;
        }

        /* a refused connect shows as the socket's error */
        err = 0;
        len = sizeof(ngx_err_t);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len)
            == -1)
        {
            err = ngx_socket_errno;
        }

        if (err) {
            (void) ngx_connection_error(c, err, "rtagent wsc: connect() "
                                        "failed");
            ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_NETWORK,
                                        0, "connect failed");
            return;
        }

        wsc->state = ngx_http_rtagent_wsc_st_write;
        ngx_http_rtagent_wsc_connected(wsc);
        return;

    case ngx_http_rtagent_wsc_st_write:
    case ngx_http_rtagent_wsc_st_read:
        ngx_http_rtagent_wsc_handshake(wsc, ev);
        return;

    case ngx_http_rtagent_wsc_st_open:
        ngx_http_rtagent_wsc_io(wsc);
        return;

    default:
        return;
    }
}


static void
ngx_http_rtagent_wsc_handshake(ngx_http_rtagent_wsc_t *wsc, ngx_event_t *ev)
{
    ssize_t                          n;
    ngx_buf_t                       *b;
    ngx_uint_t                       i;
    ngx_connection_t                *c = wsc->c;
    struct wslay_event_msg           msg;
    ngx_http_rtagent_wsc_upgrade_t   up;
    ngx_http_rtagent_wsc_upgrade_e   rc;
    ngx_http_rtagent_wsc_pending_t  *pm;

    if (wsc->state == ngx_http_rtagent_wsc_st_write) {
        b = wsc->out;

        while (b->pos < b->last) {
            n = c->send(c, b->pos, b->last - b->pos);

            if (n == NGX_AGAIN) {
                if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                    goto network;
                }

                return;
            }

            if (n <= 0) {
                goto network;
            }

            b->pos += n;
        }

        wsc->state = ngx_http_rtagent_wsc_st_read;

        if (c->write->timer_set) {
            ngx_del_timer(c->write);
        }

        ngx_add_timer(c->read, wsc->conf.timeout);
    }

    if (!c->read->ready) {
        if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
            goto network;
        }

        return;
    }

    b = wsc->in;

    for ( ;; ) {
        if (b->last == b->end) {
            ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_PROTOCOL,
                                        0, "the upgrade's answer is too "
                                        "long");
            return;
        }

        n = c->recv(c, b->last, b->end - b->last);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                goto network;
            }

            return;
        }

        if (n <= 0) {
            goto network;
        }

        b->last += n;

        rc = ngx_http_rtagent_wsc_upgrade_parse(b->pos, b->last - b->pos,
                                                (char *) wsc->accept,
                                                NGX_HTTP_RTAGENT_WS_ACCEPT_LEN,
                                                &up);
        if (rc != NGX_HTTP_RTAGENT_WSC_UPGRADE_AGAIN) {
            break;
        }
    }

    if (rc != NGX_HTTP_RTAGENT_WSC_UPGRADE_OK) {
        ngx_log_error(NGX_LOG_INFO, wsc->conf.log, 0,
                      "rtagent wsc: %V refused the upgrade: %s",
                      &wsc->url.host, up.detail);
        ngx_http_rtagent_wsc_finish(wsc,
                                    rc == NGX_HTTP_RTAGENT_WSC_UPGRADE_REFUSED
                                    ? NGX_HTTP_RTAGENT_WSC_REFUSED
                                    : NGX_HTTP_RTAGENT_WSC_PROTOCOL,
                                    up.status, up.detail);
        return;
    }

    /* frames behind the answer stay in the buffer for wslay */
    b->pos += up.head;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (wslay_event_context_client_init(&wsc->wslay,
                                        &ngx_http_rtagent_wsc_callbacks, wsc)
        != 0)
    {
        ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_INTERNAL, 0,
                                    "no memory");
        return;
    }

    if (wsc->conf.max_msg) {
        wslay_event_config_set_max_recv_msg_length(wsc->wslay,
                                                   wsc->conf.max_msg);
    }

    pm = wsc->pending.elts;

    for (i = 0; i < wsc->pending.nelts; i++) {
        msg.opcode = pm[i].binary ? WSLAY_BINARY_FRAME : WSLAY_TEXT_FRAME;
        msg.msg = pm[i].data.data;
        msg.msg_length = pm[i].data.len;

        if (wslay_event_queue_msg(wsc->wslay, &msg) != 0) {
            ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_INTERNAL,
                                        0, "no memory");
            return;
        }
    }

    wsc->pending.nelts = 0;

    wsc->state = ngx_http_rtagent_wsc_st_open;

    wsc->busy++;
    wsc->conf.on_open(wsc);
    wsc->busy--;

    if (wsc->dead) {
        ngx_http_rtagent_wsc_free(wsc);
        return;
    }

    ngx_http_rtagent_wsc_io(wsc);

    return;

network:

    ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_NETWORK, 0,
                                "connection lost in the upgrade");
}


ngx_int_t
ngx_http_rtagent_wsc_send(ngx_http_rtagent_wsc_t *wsc, ngx_uint_t binary,
    const u_char *data, size_t len)
{
    struct wslay_event_msg           msg;
    ngx_http_rtagent_wsc_pending_t  *pm;

    if (wsc->dead) {
        return NGX_ERROR;
    }

    if (wsc->wslay == NULL) {
        /* before the upgrade: kept until wslay's queue exists */
        pm = ngx_array_push(&wsc->pending);
        if (pm == NULL) {
            return NGX_ERROR;
        }

        pm->data.data = ngx_pnalloc(wsc->pool, len + 1);
        if (pm->data.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(pm->data.data, data, len);
        pm->data.len = len;
        pm->binary = binary;

        return NGX_OK;
    }

    msg.opcode = binary ? WSLAY_BINARY_FRAME : WSLAY_TEXT_FRAME;
    msg.msg = data;
    msg.msg_length = len;

    if (wslay_event_queue_msg(wsc->wslay, &msg) != 0) {
        return NGX_ERROR;
    }

    /* written from the event loop, so that no callback runs in here */
    if (!wsc->busy && wsc->c->write->ready) {
        ngx_post_event(wsc->c->write, &ngx_posted_events);
    }

    return NGX_OK;
}


/*
 * Reads what there is (messages go to on_message from inside
 * wslay_event_recv), writes what is queued, and re-arms the events or
 * ends the connection.
 */

static void
ngx_http_rtagent_wsc_io(ngx_http_rtagent_wsc_t *wsc)
{
    int                rc;
    ngx_connection_t  *c = wsc->c;

    wsc->busy++;

    rc = 0;

    if (wslay_event_want_read(wsc->wslay)) {
        rc = wslay_event_recv(wsc->wslay);
    }

    if (rc == 0 && wslay_event_want_write(wsc->wslay)) {
        rc = wslay_event_send(wsc->wslay);
    }

    wsc->busy--;

    if (wsc->dead) {
        ngx_http_rtagent_wsc_free(wsc);
        return;
    }

    if (wslay_event_get_close_received(wsc->wslay)) {
        ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_CLOSED,
                          wslay_event_get_status_code_received(wsc->wslay),
                          "closed by the server");
        return;
    }

    if (rc != 0 || wsc->eof || wsc->error) {
        ngx_http_rtagent_wsc_finish(wsc,
                                    rc == WSLAY_ERR_PROTO
                                        ? NGX_HTTP_RTAGENT_WSC_PROTOCOL
                                        : NGX_HTTP_RTAGENT_WSC_NETWORK,
                                    0, rc == WSLAY_ERR_PROTO
                                           ? "a bad frame"
                                           : "connection lost");
        return;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK
        || ngx_handle_write_event(c->write, 0) != NGX_OK)
    {
        ngx_http_rtagent_wsc_finish(wsc, NGX_HTTP_RTAGENT_WSC_NETWORK, 0,
                                    "event failed");
    }
}


static ssize_t
ngx_http_rtagent_wsc_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf,
    size_t len, int flags, void *user_data)
{
    ssize_t                  n;
    ngx_buf_t               *b;
    ngx_http_rtagent_wsc_t  *wsc = user_data;

    b = wsc->in;

    if (b->pos < b->last) {
        n = ngx_min((size_t) (b->last - b->pos), len);
        ngx_memcpy(buf, b->pos, n);
        b->pos += n;
        return n;
    }

    if (!wsc->c->read->ready) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    n = wsc->c->recv(wsc->c, buf, len);

    if (n > 0) {
        return n;
    }

    if (n == NGX_AGAIN) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    if (n == 0) {
        wsc->eof = 1;

    } else {
        wsc->error = 1;
    }

    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);

    return -1;
}


static ssize_t
ngx_http_rtagent_wsc_send_cb(wslay_event_context_ptr ctx, const uint8_t *data,
    size_t len, int flags, void *user_data)
{
    ssize_t                  n;
    ngx_http_rtagent_wsc_t  *wsc = user_data;

    n = wsc->c->send(wsc->c, (u_char *) data, len);

    if (n > 0) {
        return n;
    }

    if (n == NGX_AGAIN || n == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    wsc->error = 1;
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);

    return -1;
}


static int
ngx_http_rtagent_wsc_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf,
    size_t len, void *user_data)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        buf[i] = (uint8_t) ngx_random();
    }

    return 0;
}


static void
ngx_http_rtagent_wsc_msg_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *user_data)
{
    ngx_http_rtagent_wsc_t  *wsc = user_data;

    if (wsc->dead) {
        return;
    }

    if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME)
    {
        wsc->conf.on_message(wsc, arg->opcode == WSLAY_BINARY_FRAME,
                             (u_char *) arg->msg, arg->msg_length);
    }
}


static void
ngx_http_rtagent_wsc_finish(ngx_http_rtagent_wsc_t *wsc,
    ngx_http_rtagent_wsc_end_e end, ngx_uint_t code, const char *detail)
{
    ngx_http_rtagent_wsc_close_pt   handler;

    handler = wsc->conf.on_close;

    /* the owner learns of the end; the client is gone when it does */
    wsc->busy++;
    handler(wsc, end, code, detail);
    wsc->busy--;

    ngx_http_rtagent_wsc_free(wsc);
}


void
ngx_http_rtagent_wsc_close(ngx_http_rtagent_wsc_t *wsc)
{
    if (wsc->busy) {
        wsc->dead = 1;
        return;
    }

    ngx_http_rtagent_wsc_free(wsc);
}


static void
ngx_http_rtagent_wsc_free(ngx_http_rtagent_wsc_t *wsc)
{
    ngx_connection_t  *c;

    if (wsc->start.posted) {
        ngx_delete_posted_event(&wsc->start);
    }

    if (wsc->rctx) {
        ngx_resolve_name_done(wsc->rctx);
        wsc->rctx = NULL;
    }

    c = wsc->c;

    if (c) {
#if (NGX_SSL)
        if (c->ssl) {
            c->ssl->no_wait_shutdown = 1;
            c->ssl->no_send_shutdown = 1;
            (void) ngx_ssl_shutdown(c);
        }
#endif
        ngx_close_connection(c);
        wsc->c = NULL;
    }

    if (wsc->wslay) {
        wslay_event_context_free(wsc->wslay);
        wsc->wslay = NULL;
    }

    ngx_destroy_pool(wsc->pool);
}
