
/*
 * What the test drivers share: see ngx_http_rtagent_test_util.h.
 */


#include "ngx_http_rtagent_test_util.h"


ngx_int_t
ngx_http_rtagent_test_query(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    u_char  *dst, *src;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), value) != NGX_OK) {
        return NGX_DECLINED;
    }

    dst = ngx_pnalloc(r->pool, value->len + 1);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    src = value->data;
    value->data = dst;
    ngx_unescape_uri(&dst, &src, value->len, 0);
    value->len = dst - value->data;

    return NGX_OK;
}


void
ngx_http_rtagent_test_out_add(ngx_http_rtagent_test_out_t *out,
    const u_char *p, size_t n)
{
    u_char  *m;

    if (out->text.len + n > out->size) {
        out->size = ngx_max(out->size * 2, out->text.len + n + 4096);
        m = ngx_pnalloc(out->pool, out->size);
        if (m == NULL) {
            return;
        }

        ngx_memcpy(m, out->text.data, out->text.len);
        out->text.data = m;
    }

    ngx_memcpy(out->text.data + out->text.len, p, n);
    out->text.len += n;
}


void
ngx_http_rtagent_test_out_line(ngx_http_rtagent_test_out_t *out,
    const char *fmt, ...)
{
    u_char   *p, buf[NGX_HTTP_RTAGENT_TEST_OUT_LINE];
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf) - 1, fmt, args);
    va_end(args);

    *p++ = '\n';

    ngx_http_rtagent_test_out_add(out, buf, p - buf);
}


void
ngx_http_rtagent_test_out_send(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, ngx_str_t *body)
{
    ngx_int_t          rc;
    ngx_buf_t         *b;
    ngx_chain_t        out;
    ngx_connection_t  *c;

    c = r->connection;

    r->headers_out.status = status;
    r->headers_out.content_length_n = body->len;
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc != NGX_ERROR && rc <= NGX_OK && !r->header_only) {
        b = ngx_calloc_buf(r->pool);
        if (b == NULL) {
            rc = NGX_ERROR;

        } else {
            b->pos = body->data;
            b->last = body->data + body->len;
            b->memory = body->len ? 1 : 0;
            b->last_buf = 1;
            b->last_in_chain = 1;

            out.buf = b;
            out.next = NULL;

            rc = ngx_http_output_filter(r, &out);
        }
    }

    ((ngx_http_log_ctx_t *) c->log->data)->current_request = r;

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}
