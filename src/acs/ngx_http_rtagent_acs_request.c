
/*
 * What the ACS handlers share about requests: callback URIs and their
 * tokens, the entry agent of a called number, a request body in memory,
 * the JSON answer.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/rand.h>

#include <acs/ngx_http_rtagent_acs.h>


#define NGX_HTTP_RTAGENT_ACS_REF_RAND    16


ngx_int_t
ngx_http_rtagent_acs_new_ref(ngx_pool_t *pool, ngx_str_t *ref)
{
    u_char  rnd[NGX_HTTP_RTAGENT_ACS_REF_RAND];

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        return NGX_ERROR;
    }

    /* NUL-terminated too: the REST bodies take it as a C string */
    ref->data = ngx_pnalloc(pool, 2 * sizeof(rnd) + 1);
    if (ref->data == NULL) {
        return NGX_ERROR;
    }

    ref->len = ngx_hex_dump(ref->data, rnd, sizeof(rnd)) - ref->data;
    ref->data[ref->len] = '\0';

    return NGX_OK;
}


ngx_int_t
ngx_http_rtagent_acs_callback_uri(ngx_pool_t *pool, ngx_str_t *ref,
    ngx_str_t *uri)
{
    u_char                            *p;
    ngx_http_rtagent_acs_main_conf_t  *amcf;
    char                               token[NGX_HTTP_RTAGENT_ACS_TOKEN_LEN
                                             + 1];

    amcf = ngx_http_rtagent_acs_conf();

    ngx_http_rtagent_acs_token(amcf->secret.data, amcf->secret.len,
                               (char *) ref->data, ref->len, token);

    uri->data = ngx_pnalloc(pool, amcf->callback_url.len + sizeof("?call=")
                                  + ref->len + sizeof("&token=")
                                  + NGX_HTTP_RTAGENT_ACS_TOKEN_LEN);
    if (uri->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(uri->data, "%V?call=%V&token=%s%Z", &amcf->callback_url,
                    ref, token);
    uri->len = p - 1 - uri->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_rtagent_acs_check_token(ngx_http_request_t *r)
{
    ngx_str_t                          ref, token;
    ngx_http_rtagent_acs_main_conf_t  *amcf;

    amcf = ngx_http_rtagent_acs_conf();

    if (ngx_http_arg(r, (u_char *) "token", 5, &token) != NGX_OK) {
        if (ngx_http_arg(r, (u_char *) "call", 4, &ref) != NGX_OK) {
            return NGX_DECLINED;
        }

        return NGX_ERROR;
    }

    if (ngx_http_arg(r, (u_char *) "call", 4, &ref) != NGX_OK
        || !ngx_http_rtagent_call_id_valid(ref.data, ref.len)
        || amcf->secret.len == 0)
    {
        return NGX_ERROR;
    }

    if (!ngx_http_rtagent_acs_token_check(amcf->secret.data, amcf->secret.len,
                                          (char *) ref.data, ref.len,
                                          (char *) token.data, token.len))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_str_t *
ngx_http_rtagent_acs_route(ngx_str_t *to_phone, ngx_str_t *to_raw)
{
    ngx_uint_t                         i;
    ngx_http_rtagent_acs_route_t      *route;
    ngx_http_rtagent_acs_main_conf_t  *amcf;

    amcf = ngx_http_rtagent_acs_conf();

    if (amcf->routes) {
        route = amcf->routes->elts;

        for (i = 0; i < amcf->routes->nelts; i++) {
            if ((to_phone->len == route[i].number.len
                 && ngx_strncmp(to_phone->data, route[i].number.data,
                                to_phone->len) == 0)
                || (to_raw->len == route[i].number.len
                    && ngx_strncmp(to_raw->data, route[i].number.data,
                                   to_raw->len) == 0))
            {
                return &route[i].agent;
            }
        }
    }

    return &amcf->default_agent;
}


ngx_int_t
ngx_http_rtagent_acs_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *json, size_t len)
{
    ngx_int_t    rc;
    ngx_buf_t   *b;
    ngx_chain_t  out;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (len == 0 || r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
        return ngx_http_send_header(r);
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, json, len);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_rtagent_acs_read_request_body(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt handler)
{
    ngx_int_t                  rc;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (r->headers_in.content_length_n
        > (off_t) clcf->client_body_buffer_size)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rtagent acs: a body of %O bytes is over "
                      "client_body_buffer_size (%uz): refused",
                      r->headers_in.content_length_n,
                      clcf->client_body_buffer_size);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    r->request_body_in_single_buf = 1;
    r->request_body_in_file_only = 0;

    /* too large a body: 413 from client_max_body_size */
    rc = ngx_http_read_client_request_body(r, handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


ngx_int_t
ngx_http_rtagent_acs_read_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    size_t        len;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = (u_char *) "";

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->in_file) {
            /* a chunked body that filled the buffer: reading would block */
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "rtagent acs: a body over client_body_buffer_size "
                          "went to a temp file: refused");
            return NGX_DECLINED;
        }

        len += cl->buf->last - cl->buf->pos;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    *p = '\0';
    body->len = p - body->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_rtagent_acs_copy_str(ngx_pool_t *pool, ngx_str_t *dst, u_char *data,
    size_t len)
{
    dst->data = ngx_pnalloc(pool, len + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    if (len) {
        ngx_memcpy(dst->data, data, len);
    }

    dst->data[len] = '\0';
    dst->len = len;

    return NGX_OK;
}
