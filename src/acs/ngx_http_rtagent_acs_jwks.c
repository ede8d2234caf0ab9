
/*
 * The signing keys of Call Automation's tokens when rtagent_acs_jwks names
 * a URL: each worker fetches them at start and every rtagent_acs_jwks_refresh
 * after; and the check of a request's bearer token against them.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <acs/ngx_http_rtagent_acs.h>
#include <acs/ngx_http_rtagent_acs_api.h>


/* the worker's JWKS when rtagent_acs_jwks names a URL */
typedef struct {
    ngx_http_rtagent_jwks_t         *keys;
    ngx_http_rtagent_http_job_t     *job;
    ngx_http_rtagent_timer_t         refresh;
} ngx_http_rtagent_acs_worker_t;


static void ngx_http_rtagent_acs_jwks_fetch(ngx_event_t *ev);
static void ngx_http_rtagent_acs_jwks_done(ngx_http_rtagent_http_job_t *job);


static ngx_http_rtagent_acs_worker_t  ngx_http_rtagent_acs_worker;


ngx_int_t
ngx_http_rtagent_acs_jwks_start(ngx_cycle_t *cycle,
    ngx_http_rtagent_acs_main_conf_t *amcf)
{
    ngx_http_rtagent_acs_worker_t  *w;

    if (amcf->jwks.len == 0 || amcf->jwks_file) {
        return NGX_OK;
    }

    w = &ngx_http_rtagent_acs_worker;

    ngx_http_rtagent_timer_init(&w->refresh, ngx_http_rtagent_acs_jwks_fetch,
                                w, cycle->log);
    w->refresh.event.cancelable = 1;

    /* at once: callbacks get 503 until the keys are in */
    ngx_add_timer(&w->refresh.event, 1);

    return NGX_OK;
}


void
ngx_http_rtagent_acs_jwks_stop(void)
{
    ngx_http_rtagent_acs_worker_t  *w;

    w = &ngx_http_rtagent_acs_worker;

    if (w->refresh.event.timer_set) {
        ngx_del_timer(&w->refresh.event);
    }

    if (w->job) {
        ngx_http_rtagent_http_cancel(w->job);
        w->job = NULL;
    }

    if (w->keys) {
        ngx_http_rtagent_jwks_free(w->keys);
        w->keys = NULL;
    }
}


static void
ngx_http_rtagent_acs_jwks_fetch(ngx_event_t *ev)
{
    ngx_str_t                          method;
    ngx_http_rtagent_http_job_t       *job;
    ngx_http_rtagent_acs_worker_t     *w;
    ngx_http_rtagent_acs_main_conf_t  *amcf;

    w = &ngx_http_rtagent_acs_worker;
    amcf = ngx_http_rtagent_acs_conf();

    if (w->job || ngx_exiting) {
        return;
    }

    ngx_str_set(&method, "GET");

    job = ngx_http_rtagent_http_create(amcf->http, ngx_cycle->log, NULL,
                                       &method, &amcf->jwks);
    if (job == NULL) {
        ngx_add_timer(&w->refresh.event, 10000);
        return;
    }

    job->on_done = ngx_http_rtagent_acs_jwks_done;
    job->data = w;

    if (ngx_http_rtagent_http_start(job) != NGX_OK) {
        ngx_http_rtagent_http_cancel(job);
        ngx_add_timer(&w->refresh.event, 10000);
        return;
    }

    w->job = job;
}


static void
ngx_http_rtagent_acs_jwks_done(ngx_http_rtagent_http_job_t *job)
{
    ngx_msec_t                         next;
    ngx_http_rtagent_jwks_t           *keys;
    ngx_http_rtagent_acs_worker_t     *w;
    ngx_http_rtagent_acs_main_conf_t  *amcf;
    char                               err[128];

    w = job->data;
    w->job = NULL;
    amcf = ngx_http_rtagent_acs_conf();

    /* a failure keeps the keys held, and tries again soon */
    next = w->keys ? amcf->jwks_refresh : 10000;

    if (job->rc == NGX_OK && job->status == 200) {
        keys = ngx_http_rtagent_jwks_parse((char *) job->body.data,
                                           job->body.len, err, sizeof(err));
        if (keys) {
            if (w->keys) {
                ngx_http_rtagent_jwks_free(w->keys);
            }

            w->keys = keys;
            next = amcf->jwks_refresh;

            ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                          "rtagent acs: %uz signing keys from \"%V\"",
                          ngx_http_rtagent_jwks_count(keys), &amcf->jwks);

        } else {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "rtagent acs: JWKS from \"%V\" refused: %s",
                          &amcf->jwks, err);
        }
    }

    if (!ngx_exiting) {
        ngx_add_timer(&w->refresh.event, next);
    }
}


/* JWT -------------------------------------------------------------------- */

ngx_int_t
ngx_http_rtagent_acs_check_jwt(ngx_http_request_t *r)
{
    size_t                             len;
    const char                        *token;
    ngx_table_elt_t                   *h;
    ngx_http_rtagent_jwks_t           *keys;
    ngx_http_rtagent_jwt_check_t       check;
    ngx_http_rtagent_acs_main_conf_t  *amcf;
    char                               err[128];
    u_char                             iss[512], aud[512];

    amcf = ngx_http_rtagent_acs_conf();

    if (amcf == NULL || !amcf->jwt) {
        return NGX_OK;
    }

    keys = amcf->jwks_file ? amcf->jwks_file : ngx_http_rtagent_acs_worker.keys;

    if (keys == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rtagent acs: no signing keys from \"%V\" yet, request "
                      "refused", &amcf->jwks);
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    /* nginx itself refuses a request with two Authorization lines */
    h = r->headers_in.authorization;

    if (h == NULL
        || ngx_http_rtagent_acs_api_bearer((char *) h->value.data,
                                           h->value.len, &token, &len)
           != 1)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rtagent acs: request without one \"Authorization: "
                      "Bearer\" token refused");
        return NGX_HTTP_UNAUTHORIZED;
    }

    ngx_cpystrn(iss, amcf->jwt_issuer.data,
                ngx_min(amcf->jwt_issuer.len + 1, sizeof(iss)));
    ngx_cpystrn(aud, amcf->jwt_audience.data,
                ngx_min(amcf->jwt_audience.len + 1, sizeof(aud)));

    check.issuer = (char *) iss;
    check.audience = (char *) aud;
    check.now = ngx_time();
    check.leeway = 60;

    if (ngx_http_rtagent_jwt_verify(keys, token, len, &check,
                                    err, sizeof(err))
        != 0)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rtagent acs: bearer token refused: %s", err);
        return NGX_HTTP_UNAUTHORIZED;
    }

    return NGX_OK;
}
