
/*
 * WebSocket opening handshake (RFC 6455 section 4.2): check the client's
 * request, answer 101 with Sec-WebSocket-Accept, or reject it with a
 * status and a one-line reason.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>

#include <ngx_http_rtagent_core.h>
#include <ws/ngx_http_rtagent_ws.h>


#define NGX_HTTP_RTAGENT_WS_GUID  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


static ngx_int_t ngx_http_rtagent_ws_reject(ngx_http_request_t *r,
    ngx_uint_t status, const char *reason);
static ngx_int_t ngx_http_rtagent_ws_connection_upgrade(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_rtagent_ws_has_token(ngx_str_t *value,
    const char *token, size_t len);
static ngx_int_t ngx_http_rtagent_ws_add_header(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);


/*
 * Returns NGX_OK with the client's key, or the HTTP status to refuse with
 * and, in *reason, why.
 */

ngx_int_t
ngx_http_rtagent_ws_handshake_check(ngx_http_request_t *r, ngx_str_t *key,
    const char **reason)
{
    u_char            buf[32];
    ngx_str_t         decoded;
    ngx_uint_t        n;
    ngx_table_elt_t  *h;

    if (r->method != NGX_HTTP_GET) {
        *reason = "method must be GET";
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (r != r->main || r->http_version != NGX_HTTP_VERSION_11) {
        /* HTTP/1.0 cannot upgrade; HTTP/2 would need RFC 8441 */
        *reason = "websocket needs HTTP/1.1";
        return NGX_HTTP_BAD_REQUEST;
    }

    if (r->headers_in.upgrade == NULL) {
        *reason = "this is a websocket endpoint: Upgrade: websocket needed";
        return 426;
    }

    if (r->headers_in.upgrade->value.len != sizeof("websocket") - 1
        || ngx_strncasecmp(r->headers_in.upgrade->value.data,
                           (u_char *) "websocket", sizeof("websocket") - 1)
           != 0)
    {
        *reason = "unsupported Upgrade: websocket only";
        return 426;
    }

    if (!ngx_http_rtagent_ws_connection_upgrade(r)) {
        *reason = "Connection: upgrade needed";
        return NGX_HTTP_BAD_REQUEST;
    }

    if (r->headers_in.content_length_n > 0 || r->headers_in.chunked) {
        *reason = "a websocket handshake has no body";
        return NGX_HTTP_BAD_REQUEST;
    }

    h = ngx_http_rtagent_header_in(r, "Sec-WebSocket-Version",
                                   sizeof("Sec-WebSocket-Version") - 1, &n);
    if (h == NULL || n != 1) {
        *reason = "one Sec-WebSocket-Version header needed";
        return NGX_HTTP_BAD_REQUEST;
    }

    if (h->value.len != 2 || ngx_strncmp(h->value.data, "13", 2) != 0) {
        *reason = "unsupported Sec-WebSocket-Version: 13 only";
        return 426;
    }

    h = ngx_http_rtagent_header_in(r, "Sec-WebSocket-Key",
                                   sizeof("Sec-WebSocket-Key") - 1, &n);
    if (h == NULL || n != 1) {
        *reason = "one Sec-WebSocket-Key header needed";
        return NGX_HTTP_BAD_REQUEST;
    }

    /* the key is 16 random bytes in base64: 24 characters */
    decoded.data = buf;
    if (h->value.len != 24
        || ngx_decode_base64(&decoded, &h->value) != NGX_OK
        || decoded.len != 16)
    {
        *reason = "Sec-WebSocket-Key is not 16 bytes in base64";
        return NGX_HTTP_BAD_REQUEST;
    }

    *key = h->value;

    return NGX_OK;
}


ngx_int_t
ngx_http_rtagent_ws_accept_key(ngx_str_t *key, u_char *out)
{
    u_char     digest[20];
    ngx_str_t  src, dst;
    ngx_sha1_t sha1;

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, key->data, key->len);
    ngx_sha1_update(&sha1, NGX_HTTP_RTAGENT_WS_GUID,
                    sizeof(NGX_HTTP_RTAGENT_WS_GUID) - 1);
    ngx_sha1_final(digest, &sha1);

    src.data = digest;
    src.len = sizeof(digest);
    dst.data = out;

    ngx_encode_base64(&dst, &src);

    return dst.len == NGX_HTTP_RTAGENT_WS_ACCEPT_LEN ? NGX_OK : NGX_ERROR;
}


/*
 * On success *wsp is the new WebSocket and NGX_OK is returned.  Otherwise
 * *wsp is NULL and the return value is what the content handler returns:
 * a rejection was sent, or an error occurred.
 */

ngx_int_t
ngx_http_rtagent_ws_accept(ngx_http_request_t *r,
    ngx_http_rtagent_ws_conf_t *conf, ngx_http_rtagent_ws_t **wsp)
{
    u_char                 *accept;
    ngx_int_t               rc;
    const char             *reason;
    ngx_str_t               key, value;
    ngx_connection_t       *c;
    ngx_http_rtagent_ws_t  *ws;

    *wsp = NULL;
    c = r->connection;

    rc = ngx_http_rtagent_ws_handshake_check(r, &key, &reason);
    if (rc != NGX_OK) {
        return ngx_http_rtagent_ws_reject(r, rc, reason);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    accept = ngx_pnalloc(r->pool, NGX_HTTP_RTAGENT_WS_ACCEPT_LEN);
    if (accept == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_rtagent_ws_accept_key(&key, accept) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_rtagent_ws_create(r, conf, &ws);
    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_SWITCHING_PROTOCOLS;
    ngx_str_set(&r->headers_out.status_line, "101 Switching Protocols");
    r->headers_out.content_length_n = -1;
    r->keepalive = 0;

    /* the header filter itself adds "Connection: upgrade" for 101 */
    ngx_str_set(&value, "websocket");
    if (ngx_http_rtagent_ws_add_header(r, "Upgrade", &value) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.data = accept;
    value.len = NGX_HTTP_RTAGENT_WS_ACCEPT_LEN;
    if (ngx_http_rtagent_ws_add_header(r, "Sec-WebSocket-Accept", &value)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    /* postpone_output would otherwise hold the small header back */
    rc = ngx_http_send_special(r, NGX_HTTP_FLUSH);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    ws->header_pending = (r->out != NULL || c->buffered) ? 1 : 0;

    *wsp = ws;

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtagent_ws_reject(ngx_http_request_t *r, ngx_uint_t status,
    const char *reason)
{
    size_t        len;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_str_t     value;
    ngx_chain_t   out;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "rtagent ws: handshake rejected with %ui: %s",
                  status, reason);

    /* the client meant to leave HTTP on this connection: close it */
    r->keepalive = 0;

    (void) ngx_http_discard_request_body(r);

    r->headers_out.status = status;

    if (status == 426) {
        ngx_str_set(&r->headers_out.status_line, "426 Upgrade Required");

        ngx_str_set(&value, "websocket");
        if (ngx_http_rtagent_ws_add_header(r, "Upgrade", &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_str_set(&value, "13");
        if (ngx_http_rtagent_ws_add_header(r, "Sec-WebSocket-Version", &value)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (status == NGX_HTTP_NOT_ALLOWED) {
        ngx_str_set(&value, "GET");
        if (ngx_http_rtagent_ws_add_header(r, "Allow", &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    len = ngx_strlen(reason);

    b = ngx_create_temp_buf(r->pool, len + 1);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, reason, len);
    *b->last++ = LF;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    ngx_str_set(&r->headers_out.content_type, "text/plain");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = len + 1;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * Does a Connection header list the "upgrade" token.  nginx keeps only
 * close/keep-alive from Connection, so the headers are walked here; there
 * may be several Connection lines.
 */

static ngx_int_t
ngx_http_rtagent_ws_connection_upgrade(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return 0;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Connection") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Connection",
                               sizeof("Connection") - 1) == 0
            && ngx_http_rtagent_ws_has_token(&h[i].value, "upgrade",
                                             sizeof("upgrade") - 1))
        {
            return 1;
        }
    }
}


/* is token one of the comma-separated items of value (any case) */

static ngx_int_t
ngx_http_rtagent_ws_has_token(ngx_str_t *value, const char *token,
    size_t len)
{
    u_char  *p, *last, *start, *end;

    p = value->data;
    last = p + value->len;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        start = p;

        while (p < last && *p != ',') {
            p++;
        }

        end = p;

        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }

        if ((size_t) (end - start) == len
            && ngx_strncasecmp(start, (u_char *) token, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_rtagent_ws_add_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;

    return NGX_OK;
}
