
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
#include <ws/ngx_http_rtagent_ws_hs.h>


#define NGX_HTTP_RTAGENT_WS_GUID  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


static ngx_int_t ngx_http_rtagent_ws_reject(ngx_http_request_t *r,
    ngx_uint_t status, const char *reason);
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
    int                        status;
    ngx_uint_t                 i;
    ngx_list_part_t           *part;
    ngx_table_elt_t           *h;
    ngx_http_rtagent_ws_hs_t   hs;

    if (r->method != NGX_HTTP_GET) {
        *reason = "method must be GET";
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (r != r->main || r->http_version != NGX_HTTP_VERSION_11) {
        /* HTTP/1.0 cannot upgrade; HTTP/2 would need RFC 8441 */
        *reason = "websocket needs HTTP/1.1";
        return NGX_HTTP_BAD_REQUEST;
    }

    ngx_http_rtagent_ws_hs_init(&hs);

    hs.body = (r->headers_in.content_length_n > 0 || r->headers_in.chunked);

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        ngx_http_rtagent_ws_hs_header(&hs, (char *) h[i].key.data,
                                      h[i].key.len, (char *) h[i].value.data,
                                      h[i].value.len);
    }

    status = ngx_http_rtagent_ws_hs_verdict(&hs, reason);
    if (status != 0) {
        return status;
    }

    key->data = (u_char *) hs.key;
    key->len = hs.key_len;

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
