
/*
 * The chat-completions client and the model router (see
 * ngx_http_rtagent_llm.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <io/ngx_http_rtagent_retry_after.h>
#include <json/ngx_http_rtagent_json.h>
#include <llm/ngx_http_rtagent_llm.h>


static ngx_int_t ngx_http_rtagent_llm_attempt(ngx_http_rtagent_llm_req_t *req);
static void ngx_http_rtagent_llm_failover(ngx_http_rtagent_llm_req_t *req,
    const char *why);
static void ngx_http_rtagent_llm_finish(ngx_http_rtagent_llm_req_t *req,
    ngx_int_t rc, const char *err);
static void ngx_http_rtagent_llm_on_header(ngx_http_rtagent_http_job_t *job);
static void ngx_http_rtagent_llm_on_data(ngx_http_rtagent_http_job_t *job,
    u_char *data, size_t len);
static void ngx_http_rtagent_llm_on_done(ngx_http_rtagent_http_job_t *job);
static void ngx_http_rtagent_llm_on_text(void *data, const char *p,
    size_t len);
static void ngx_http_rtagent_llm_token(ngx_http_rtagent_llm_req_t *req);
static void ngx_http_rtagent_llm_first_timeout(ngx_event_t *ev);
static void ngx_http_rtagent_llm_finish_posted(ngx_event_t *ev);
static ngx_msec_t ngx_http_rtagent_llm_retry_after(
    ngx_http_rtagent_http_job_t *job);


ngx_int_t
ngx_http_rtagent_llm_start(ngx_http_rtagent_llm_req_t *req)
{
    req->rc = NGX_ERROR;
    req->err = NULL;
    req->failovers = 0;
    req->endpoint = NULL;
    req->started = ngx_current_msec;
    req->first_token = 0;
    req->next = 0;
    req->job = NULL;
    req->running = 0;
    req->cancelled = 0;
    req->feeding = 0;

    req->rt = ngx_http_rtagent_llm_route(&req->route);

    if (req->rt == NULL) {
        ngx_log_error(NGX_LOG_ERR, req->log, 0,
                      "rtagent llm: no rtagent_model_route or "
                      "rtagent_llm_endpoint \"%V\", call: %V", &req->route,
                      req->call_id);
        req->err = "no such model route";
        return NGX_ERROR;
    }

    ngx_http_rtagent_timer_init(&req->first_timer,
                                ngx_http_rtagent_llm_first_timeout, req,
                                req->log);

    ngx_memzero(&req->finish, sizeof(ngx_event_t));
    req->finish.handler = ngx_http_rtagent_llm_finish_posted;
    req->finish.data = req;
    req->finish.log = req->log;

    if (ngx_http_rtagent_llm_attempt(req) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_rtagent_llm_cancel(ngx_http_rtagent_llm_req_t *req)
{
    if (req->job) {
        ngx_http_rtagent_http_cancel(req->job);
        req->job = NULL;
    }

    if (req->first_timer.event.timer_set) {
        ngx_del_timer(&req->first_timer.event);
    }

    if (req->finish.posted) {
        ngx_delete_posted_event(&req->finish);
    }

    /* cancelled by on_text from inside the decoder: it frees on return */
    if (req->chat_init && !req->feeding) {
        ngx_http_rtagent_chat_free(&req->chat);
        req->chat_init = 0;
    }

    req->cancelled = 1;
    req->running = 0;
}


/* one attempt on the route's next endpoint that is not resting */

static ngx_int_t
ngx_http_rtagent_llm_attempt(ngx_http_rtagent_llm_req_t *req)
{
    ngx_int_t                         rc;
    ngx_str_t                         body, method, name, value, none;
    ngx_str_t                        *key, *token;
    ngx_uint_t                        i;
    ngx_http_rtagent_json_out_t       j;
    ngx_http_rtagent_llm_conf_t      *lcf;
    ngx_http_rtagent_http_job_t      *job;
    ngx_http_rtagent_llm_endpoint_t  *ep;

    lcf = ngx_http_rtagent_llm_conf(req->loc_conf);

    /* skip the endpoints resting after a 429, but for the last one */
    for (i = req->next; i + 1 < req->rt->n; i++) {
        ep = req->rt->endpoints[i];

        if (ep->rest_until == 0
            || (ngx_msec_int_t) (ep->rest_until - ngx_current_msec) <= 0)
        {
            break;
        }

        ngx_log_error(NGX_LOG_INFO, req->log, 0,
                      "rtagent llm: endpoint %V rests for %M ms after a "
                      "429, skipped, call: %V", &ep->name,
                      ep->rest_until - ngx_current_msec, req->call_id);
    }

    req->next = i;
    ep = req->rt->endpoints[i];
    req->endpoint = ep;
    ep->requests++;

    if (req->chat_init) {
        ngx_http_rtagent_chat_free(&req->chat);
        req->chat_init = 0;
    }

    ngx_memzero(&req->chat, sizeof(ngx_http_rtagent_chat_t));
    req->chat.data = req;
    req->chat.on_text = ngx_http_rtagent_llm_on_text;

    if (ngx_http_rtagent_chat_init(&req->chat) != 0) {
        req->err = "out of memory";
        return NGX_ERROR;
    }

    req->chat_init = 1;
    req->ok_status = 0;
    req->got_token = 0;
    req->stream_failed = 0;
    req->errbody_len = 0;
    req->rest = 0;

    ngx_str_set(&method, "POST");

    job = ngx_http_rtagent_http_create(
              req->loc_conf[ngx_http_rtagent_http_module.ctx_index],
              req->log, req->call_id, &method, &ep->full_url);
    if (job == NULL) {
        req->err = "the HTTP client refused the request";
        return NGX_ERROR;
    }

    /* failover is ours: the client must not retry on the same endpoint */
    job->retries = 0;
    job->timeout = lcf->timeout;

    if (ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        ngx_http_rtagent_http_cancel(job);
        req->err = "out of memory";
        return NGX_ERROR;
    }

    if (ep->kind == NGX_HTTP_RTAGENT_LLM_OPENAI) {
        req->body.model.data = (const char *) ep->model.data;
        req->body.model.len = ep->model.len;

    } else {
        /* Azure: the deployment in the path selects the model */
        req->body.model.len = 0;
    }

    if (ngx_http_rtagent_chat_request(j.g, &req->body) != 0) {
        j.failed = 1;
    }

    rc = ngx_http_rtagent_json_out_get(&j, &body);

    if (rc == NGX_OK) {
        rc = ngx_http_rtagent_http_set_body(job, body.data, body.len);
    }

    ngx_http_rtagent_json_out_free(&j);

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, req->log, 0,
                      "rtagent llm: the request body could not be made "
                      "(text not UTF-8?), call: %V", req->call_id);
        ngx_http_rtagent_http_cancel(job);
        req->err = "the request body could not be made";
        return NGX_ERROR;
    }

    ngx_str_set(&name, "Content-Type");
    ngx_str_set(&value, "application/json");
    rc = ngx_http_rtagent_http_add_header(job, &name, &value);

    ngx_str_set(&name, "Accept");
    ngx_str_set(&value, "text/event-stream");
    rc |= ngx_http_rtagent_http_add_header(job, &name, &value);

    /* the key and token as their files say now */
    ngx_str_null(&none);
    key = ep->key ? ngx_http_rtagent_secret_value(ep->key) : &none;
    token = ep->token ? ngx_http_rtagent_secret_value(ep->token) : NULL;

    rc |= ngx_http_rtagent_http_add_key(job,
                                        ep->kind == NGX_HTTP_RTAGENT_LLM_AZURE,
                                        key, token);

    if (rc != NGX_OK) {
        ngx_http_rtagent_http_cancel(job);
        req->err = "out of memory";
        return NGX_ERROR;
    }

    job->data = req;
    job->on_header = ngx_http_rtagent_llm_on_header;
    job->on_data = ngx_http_rtagent_llm_on_data;
    job->on_done = ngx_http_rtagent_llm_on_done;

    if (ngx_http_rtagent_http_start(job) != NGX_OK) {
        /* logged; the job is freed */
        req->err = "the HTTP client refused the request";
        return NGX_ERROR;
    }

    req->job = job;
    req->running = 1;

    if (lcf->first_token_timeout) {
        ngx_add_timer(&req->first_timer.event, lcf->first_token_timeout);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, req->log, 0,
                   "rtagent llm: route %V endpoint %V, call: %V",
                   &req->rt->name, &ep->name, req->call_id);

    return NGX_OK;
}


/*
 * The endpoint failed before a first token: on to the next one of the
 * route, or the request fails when none is left.
 */

static void
ngx_http_rtagent_llm_failover(ngx_http_rtagent_llm_req_t *req,
    const char *why)
{
    ngx_uint_t                       *count;
    ngx_http_rtagent_llm_endpoint_t  *ep;

    ep = req->endpoint;
    ep->failures++;

    if (req->first_timer.event.timer_set) {
        ngx_del_timer(&req->first_timer.event);
    }

    if (req->next + 1 >= req->rt->n) {
        ngx_log_error(NGX_LOG_ERR, req->log, 0,
                      "rtagent llm: endpoint %V failed (%s), the last of "
                      "route %V, call: %V", &ep->name, why, &req->rt->name,
                      req->call_id);

        if (why != (char *) req->errbuf) {
            ngx_snprintf(req->errbuf, sizeof(req->errbuf) - 1, "%s%Z", why);
        }

        ngx_http_rtagent_llm_finish(req, NGX_ERROR, (char *) req->errbuf);
        return;
    }

    req->failovers++;
    count = ngx_http_rtagent_llm_failovers();

    if (count) {
        (*count)++;
    }

    req->next++;

    ngx_log_error(NGX_LOG_WARN, req->log, 0,
                  "rtagent llm: endpoint %V failed (%s), failover %ui to %V "
                  "of route %V (%ui in this worker), call: %V",
                  &ep->name, why, req->failovers,
                  &req->rt->endpoints[req->next]->name, &req->rt->name,
                  count ? *count : 0, req->call_id);

    if (ngx_http_rtagent_llm_attempt(req) != NGX_OK) {
        ngx_http_rtagent_llm_finish(req, NGX_ERROR, req->err);
    }
}


static void
ngx_http_rtagent_llm_finish(ngx_http_rtagent_llm_req_t *req, ngx_int_t rc,
    const char *err)
{
    if (req->first_timer.event.timer_set) {
        ngx_del_timer(&req->first_timer.event);
    }

    req->running = 0;
    req->rc = rc;
    req->err = err;

    req->on_done(req);
}


static void
ngx_http_rtagent_llm_finish_posted(ngx_event_t *ev)
{
    ngx_http_rtagent_llm_req_t  *req = ev->data;

    ngx_log_error(NGX_LOG_ERR, req->log, 0,
                  "rtagent llm: endpoint %V: a bad stream: %s, call: %V",
                  &req->endpoint->name, req->chat.err, req->call_id);

    ngx_http_rtagent_llm_finish(req, NGX_ERROR, req->chat.err);
}


static void
ngx_http_rtagent_llm_on_header(ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_llm_req_t  *req = job->data;

    req->ok_status = (job->status >= 200 && job->status < 300);

    if (job->status == NGX_HTTP_TOO_MANY_REQUESTS) {
        req->rest = ngx_http_rtagent_llm_retry_after(job);
    }
}


/* retry-after-ms, else Retry-After in seconds, when 0 < value <= 120 s */

static ngx_msec_t
ngx_http_rtagent_llm_retry_after(ngx_http_rtagent_http_job_t *job)
{
    uint64_t    ms;
    ngx_str_t  *v;

    v = ngx_http_rtagent_http_header(job, "retry-after-ms");

    if (v && ngx_http_rtagent_retry_after_parse(v->data, v->len, 1, &ms) == 0
        && ngx_http_rtagent_retry_after_ok(ms))
    {
        return (ngx_msec_t) ms;
    }

    v = ngx_http_rtagent_http_header(job, "retry-after");

    if (v && ngx_http_rtagent_retry_after_parse(v->data, v->len, 1000, &ms)
             == 0
        && ngx_http_rtagent_retry_after_ok(ms))
    {
        return (ngx_msec_t) ms;
    }

    return 0;
}


static void
ngx_http_rtagent_llm_on_data(ngx_http_rtagent_http_job_t *job, u_char *data,
    size_t len)
{
    int                          rc;
    size_t                       n;
    ngx_http_rtagent_llm_req_t  *req = job->data;

    if (!req->ok_status) {
        /* an error body: its start, for the message */
        n = ngx_min(len, sizeof(req->errbody) - req->errbody_len);
        ngx_memcpy(req->errbody + req->errbody_len, data, n);
        req->errbody_len += n;
        return;
    }

    if (req->stream_failed) {
        return;
    }

    req->feeding = 1;
    rc = ngx_http_rtagent_chat_feed(&req->chat, (char *) data, len);
    req->feeding = 0;

    if (req->cancelled) {
        /* on_text cancelled the request: nothing more of it runs */
        if (req->chat_init) {
            ngx_http_rtagent_chat_free(&req->chat);
            req->chat_init = 0;
        }

        return;
    }

    if (rc != 0) {
        /*
         * A bad stream or an error event: the job goes at once (from
         * inside libcurl, cancel is deferred), the end is posted.
         */
        req->stream_failed = 1;
        ngx_http_rtagent_http_cancel(job);
        req->job = NULL;
        ngx_post_event(&req->finish, &ngx_posted_events);
        return;
    }

    if (!req->got_token && req->chat.ncalls) {
        /* a tool call is a first token too */
        ngx_http_rtagent_llm_token(req);
    }
}


static void
ngx_http_rtagent_llm_token(ngx_http_rtagent_llm_req_t *req)
{
    req->got_token = 1;
    req->first_token = ngx_current_msec;

    if (req->first_timer.event.timer_set) {
        ngx_del_timer(&req->first_timer.event);
    }
}


static void
ngx_http_rtagent_llm_on_text(void *data, const char *p, size_t len)
{
    ngx_http_rtagent_llm_req_t  *req = data;

    if (!req->got_token) {
        ngx_http_rtagent_llm_token(req);
    }

    if (req->on_text) {
        req->on_text(req, p, len);
    }
}


static void
ngx_http_rtagent_llm_first_timeout(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t    *t = ev->data;
    ngx_http_rtagent_llm_req_t  *req = t->data;

    if (req->got_token || req->job == NULL) {
        return;
    }

    ngx_http_rtagent_http_cancel(req->job);
    req->job = NULL;

    ngx_http_rtagent_llm_failover(req, "no first token in time");
}


static void
ngx_http_rtagent_llm_on_done(ngx_http_rtagent_http_job_t *job)
{
    char                        msg[160];
    ngx_http_rtagent_llm_req_t  *req = job->data;

    req->job = NULL;

    if (job->rc != NGX_OK) {
        if (req->got_token) {
            ngx_snprintf(req->errbuf, sizeof(req->errbuf) - 1,
                         "the stream broke after the first token: %s%Z",
                         job->error ? job->error : "no response");
            ngx_http_rtagent_llm_finish(req, NGX_ERROR,
                                        (char *) req->errbuf);
            return;
        }

        ngx_http_rtagent_llm_failover(req, job->timedout ? "timed out"
                                      : job->error ? job->error
                                      : "no response");
        return;
    }

    if (req->ok_status) {
        if (ngx_http_rtagent_chat_end(&req->chat) != 0) {
            ngx_log_error(NGX_LOG_ERR, req->log, 0,
                          "rtagent llm: endpoint %V: %s, call: %V",
                          &req->endpoint->name, req->chat.err,
                          req->call_id);

            if (!req->got_token && !req->chat.error_event) {
                ngx_http_rtagent_llm_failover(req, req->chat.err);
                return;
            }

            ngx_http_rtagent_llm_finish(req, NGX_ERROR, req->chat.err);
            return;
        }

        ngx_log_debug5(NGX_LOG_DEBUG_HTTP, req->log, 0,
                       "rtagent llm: %V done: finish %s, %uz calls, usage "
                       "%l+%l", &req->endpoint->name,
                       ngx_http_rtagent_chat_finish_name(req->chat.finish),
                       req->chat.ncalls, req->chat.prompt_tokens,
                       req->chat.completion_tokens);

        ngx_http_rtagent_llm_finish(req, NGX_OK, NULL);
        return;
    }

    msg[0] = '\0';
    (void) ngx_http_rtagent_json_error_message((char *) req->errbody,
                                               req->errbody_len, msg,
                                               sizeof(msg));

    ngx_snprintf(req->errbuf, sizeof(req->errbuf) - 1, "HTTP %ui%s%s%Z",
                 job->status, msg[0] ? ": " : "", msg);

    if (job->status == NGX_HTTP_TOO_MANY_REQUESTS) {
        if (req->rest) {
            req->endpoint->rest_until = ngx_current_msec + req->rest;
        }

        ngx_http_rtagent_llm_failover(req, (char *) req->errbuf);
        return;
    }

    if (job->status == NGX_HTTP_REQUEST_TIME_OUT || job->status >= 500) {
        ngx_http_rtagent_llm_failover(req, (char *) req->errbuf);
        return;
    }

    /* 400, 401, 404...: the request or the key; another would fail too */
    ngx_http_rtagent_llm_finish(req, NGX_ERROR, (char *) req->errbuf);
}
