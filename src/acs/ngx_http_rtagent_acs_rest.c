
/*
 * Signed Call Automation REST requests on the worker's HTTP client
 * (PROTOCOLS.md 1.3-1.4).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/rand.h>

#include <acs/ngx_http_rtagent_acs.h>
#include <acs/ngx_http_rtagent_acs_body.h>


typedef struct {
    ngx_http_rtagent_acs_rest_pt     handler;
    void                            *data;
    ngx_str_t                        call_id;
    ngx_str_t                        what;        /* "POST /calling/..." */
} ngx_http_rtagent_acs_rest_ctx_t;


static void ngx_http_rtagent_acs_rest_done(ngx_http_rtagent_http_job_t *job);


ngx_int_t
ngx_http_rtagent_acs_rest(ngx_log_t *log, ngx_str_t *call_id,
    const char *method, ngx_str_t *path, u_char *body, size_t len,
    ngx_http_rtagent_acs_rest_pt handler, void *data)
{
    u_char                            *p, rnd[16];
    size_t                             n;
    ngx_str_t                          m, url, name, value, pq;
    ngx_http_rtagent_http_job_t       *job;
    ngx_http_rtagent_acs_rest_ctx_t   *ctx;
    ngx_http_rtagent_acs_main_conf_t  *amcf;
    ngx_http_rtagent_acs_account_t    *a;
    char                               date[NGX_HTTP_RTAGENT_ACS_DATE_LEN + 1];
    char                               hash[NGX_HTTP_RTAGENT_ACS_HASH_LEN + 1];
    char                               auth[NGX_HTTP_RTAGENT_ACS_AUTH_LEN + 1];
    u_char                             id[40];

    if (ngx_http_rtagent_acs_exiting()) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "rtagent acs: %s %V not sent: the worker is exiting, "
                      "call:%V", method, path, call_id);
        return NGX_ERROR;
    }

    amcf = ngx_http_rtagent_acs_conf();
    a = amcf->account;

    if (a == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rtagent acs: %s %V needs "
                      "rtagent_acs_connection_string, call:%V",
                      method, path, call_id);
        return NGX_ERROR;
    }

    /* the path and query exactly as sent: they are signed */
    pq.len = path->len + sizeof("?api-version=") - 1 + amcf->api_version.len;
    url.len = a->endpoint_len + pq.len;

    url.data = ngx_alloc(url.len, log);
    if (url.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(url.data, a->endpoint, a->endpoint_len);
    pq.data = p;
    p = ngx_sprintf(p, "%V?api-version=%V", path, &amcf->api_version);

    m.data = (u_char *) method;
    m.len = ngx_strlen(method);

    job = ngx_http_rtagent_http_create(amcf->http, log, call_id, &m, &url);
    if (job == NULL) {
        ngx_free(url.data);
        return NGX_ERROR;
    }

    *ngx_http_time((u_char *) date, ngx_time()) = '\0';
    ngx_http_rtagent_acs_content_hash(body, len, hash);

    n = ngx_http_rtagent_acs_authorization(a, method, (char *) pq.data,
                                           pq.len, date, hash, auth,
                                           sizeof(auth));
    ngx_free(url.data);

    if (n == 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rtagent acs: cannot sign %s %V, call:%V",
                      method, path, call_id);
        goto failed;
    }

    ctx = ngx_palloc(job->pool, sizeof(ngx_http_rtagent_acs_rest_ctx_t)
                                + call_id->len + m.len + 1 + path->len);
    if (ctx == NULL) {
        goto failed;
    }

    ctx->handler = handler;
    ctx->data = data;

    p = (u_char *) (ctx + 1);
    ctx->call_id.data = p;
    ctx->call_id.len = call_id->len;
    p = ngx_cpymem(p, call_id->data, call_id->len);
    ctx->what.data = p;
    p = ngx_sprintf(p, "%V %V", &m, path);
    ctx->what.len = p - ctx->what.data;

#define ngx_http_rtagent_acs_header(n, v, l)                                 \
    name.data = (u_char *) n; name.len = sizeof(n) - 1;                     \
    value.data = (u_char *) v; value.len = l;                               \
    if (ngx_http_rtagent_http_add_header(job, &name, &value) != NGX_OK) {    \
        goto failed;                                                         \
    }

    ngx_http_rtagent_acs_header("x-ms-date", date, ngx_strlen(date));
    ngx_http_rtagent_acs_header("x-ms-content-sha256", hash,
                                ngx_strlen(hash));
    ngx_http_rtagent_acs_header("Authorization", auth, n);
    ngx_http_rtagent_acs_header("x-ms-return-client-request-id", "true", 4);

    if (body) {
        ngx_http_rtagent_acs_header("Content-Type", "application/json", 16);

        if (ngx_http_rtagent_http_set_body(job, body, len) != NGX_OK) {
            goto failed;
        }
    }

    if (m.len == 4 && ngx_strncmp(method, "POST", 4) == 0) {
        /* a retried POST must not act twice (PROTOCOLS.md 1.4) */
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            goto failed;
        }

        rnd[6] = (rnd[6] & 0x0f) | 0x40;
        rnd[8] = (rnd[8] & 0x3f) | 0x80;

        p = ngx_sprintf(id, "%*xs-%*xs-%*xs-%*xs-%*xs",
                        (size_t) 4, rnd, (size_t) 2, rnd + 4,
                        (size_t) 2, rnd + 6, (size_t) 2, rnd + 8,
                        (size_t) 6, rnd + 10);

        ngx_http_rtagent_acs_header("Repeatability-Request-ID", id, p - id);
        ngx_http_rtagent_acs_header("Repeatability-First-Sent", date,
                                    ngx_strlen(date));
    }

#undef ngx_http_rtagent_acs_header

    job->data = ctx;
    job->on_done = ngx_http_rtagent_acs_rest_done;
    job->timeout = ngx_min(job->timeout, amcf->timeout);

    if (ngx_http_rtagent_http_start(job) != NGX_OK) {
        goto failed;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "rtagent acs: %V, call:%V", &ctx->what, call_id);

    return NGX_OK;

failed:

    ngx_http_rtagent_http_cancel(job);

    return NGX_ERROR;
}


static void
ngx_http_rtagent_acs_rest_done(ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_acs_result_t     res;
    ngx_http_rtagent_acs_rest_ctx_t  *ctx;

    ctx = job->data;

    if (ngx_http_rtagent_acs_exiting()) {
        /* cancelled at worker exit: its requests are not finalized now */
        return;
    }

    ngx_memzero(&res, sizeof(ngx_http_rtagent_acs_result_t));

    res.status = job->rc == NGX_OK ? job->status : 0;
    res.body = job->body;
    res.rc = (res.status >= 200 && res.status < 300) ? NGX_OK : NGX_ERROR;

    if (res.rc != NGX_OK && res.status) {
        if (ngx_http_rtagent_acs_parse_error((char *) job->body.data,
                                             job->body.len, res.code,
                                             sizeof(res.code), res.message,
                                             sizeof(res.message))
            == 0)
        {
            ngx_log_error(NGX_LOG_ERR, &job->log, 0,
                          "rtagent acs: %V: %ui %s: %s, call:%V",
                          &ctx->what, res.status, res.code, res.message,
                          &ctx->call_id);

        } else {
            ngx_log_error(NGX_LOG_ERR, &job->log, 0,
                          "rtagent acs: %V: %ui without an ACS error body, "
                          "call:%V", &ctx->what, res.status, &ctx->call_id);
        }

    } else if (res.rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, &job->log, 0,
                      "rtagent acs: %V: no response (%s), call:%V",
                      &ctx->what, job->error ? job->error : "failed",
                      &ctx->call_id);
        ngx_cpystrn((u_char *) res.message,
                    (u_char *) (job->error ? job->error : "no response"),
                    sizeof(res.message));
    }

    if (ctx->handler) {
        ctx->handler(ctx->data, &res);
    }
}
