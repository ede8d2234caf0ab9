
/*
 * What the test drivers (t/modules) share: a query argument,
 * URI-unescaped; a reply built line by line in the request's pool, and
 * one response that sends it and finalizes the request.  Never shipped.
 */


#ifndef _NGX_HTTP_RTAGENT_TEST_UTIL_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_TEST_UTIL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* a line is cut at this size */
#define NGX_HTTP_RTAGENT_TEST_OUT_LINE  8192


typedef struct {
    ngx_pool_t  *pool;
    ngx_str_t    text;
    size_t       size;
} ngx_http_rtagent_test_out_t;


/* the query argument name, URI-unescaped in r->pool: NGX_OK, NGX_DECLINED
 * if there is none, NGX_ERROR */
ngx_int_t ngx_http_rtagent_test_query(ngx_http_request_t *r, const char *name,
    ngx_str_t *value);

/* appends n bytes at p (nothing when out of memory) */
void ngx_http_rtagent_test_out_add(ngx_http_rtagent_test_out_t *out,
    const u_char *p, size_t n);

/* appends a line of ngx_sprintf()'s fmt and a '\n' */
void ngx_http_rtagent_test_out_line(ngx_http_rtagent_test_out_t *out,
    const char *fmt, ...);

/*
 * sends status, type and body as the whole response, finalizes r and runs
 * the posted requests (it is called from events, not from the handler)
 */
void ngx_http_rtagent_test_out_send(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, ngx_str_t *body);


#endif /* _NGX_HTTP_RTAGENT_TEST_UTIL_H_INCLUDED_ */
