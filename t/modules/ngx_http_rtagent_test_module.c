
/*
 * Test-only driver for the rtagent HTTP client (src/io): locations that run
 * jobs and stream what they get back as the HTTP response.  Never shipped.
 *
 *   rtagent_test_fetch [BASE];
 *                          GET /t?[opts&]url=<url, the rest of the query>
 *                          (a url starting with "/" is appended to BASE)
 *       method=M           the job's method (default GET; POST with a body)
 *       body=TEXT          an in-memory request body (not unescaped)
 *       pieces=N           a streamed request body: "p1;" ... "pN;", one
 *       interval=MS          piece every MS ms (default 100)
 *       length=known       with Content-Length (default: chunked)
 *       queue=BYTES        the job's max_queued (upload queue cap)
 *       burst=N            the first N pieces are written at once, before
 *                          start; a piece the queue refuses (NGX_AGAIN) is
 *                          logged and written again an interval later
 *       mode=buffer        no on_data: the body is buffered by the client
 *       cancel=start|header|BYTES|TIMEms
 *                          cancel right after start, in on_header, once
 *                          BYTES body bytes arrived, or TIME ms after start
 *       signal=URL         after the first body piece, GET URL (a second
 *                          job, started from inside on_data)
 *       call=ID            the call id for log lines
 *       header=NAME:VALUE  a request header
 *     The response has the upstream's status and Content-Type, and
 *     X-Upstream-Attempts; failures are 504 (timeout) or 502 with
 *     "error: <why>", or "[error: <why>]" appended when the body was under
 *     way; a cancelled job ends the body with "[cancelled ...]".
 *
 *   rtagent_test_fanout [BASE];
 *                          GET /fanout?n=N[&ping=URL[&release=URL]]&url=<url>
 *     N concurrent buffered jobs; replies with counts and latencies.  With
 *     ping, one more job fetches URL (e.g. a plain location of this same
 *     nginx) once the N jobs are under way, and the reply says whether it
 *     came back before they all ended ("ping=during-load"); with release,
 *     a job GETs that URL once the ping came back (to let a mock holding
 *     the N jobs answer them).
 *
 *   rtagent_test_stats;    the client's counters and this process's fds.
 *
 *   rtagent_test_exit_fetch URL;   (http{}) the worker's exit handler tries
 *                          to create a GET of URL, and to start one made
 *                          when the worker began, as work started from
 *                          another layer's teardown would, and logs what
 *                          came of each ("rtagent test: exit job: ...")
 *
 *   rtagent_test_store;    GET /store?op=OP&id=ID[&...]: the store's
 *                          stateless functions (src/store), as the ACS
 *                          control plane calls them; replies "rc=N" (the
 *                          handler's), or for get "n=N name=value|- ...",
 *                          or "declined" / "error" (the function's return)
 *       op=ended&outcome=O[&reason=R]   ngx_http_rtagent_store_call_ended
 *       op=event&type=T[&once=G]        ..._call_event, data {"via":"test"}
 *       op=set&name=N&value=V           ..._call_set, one field
 *       op=get&names=A,B,...            ..._call_get
 *       op=count                        ..._control_count {"action":"ping"}
 *       op=dedupe                       ..._dedupe (id is the event's), 24 h
 *     Arguments are taken as they are in the URL (not unescaped).
 *
 *   rtagent_test_tool;     POST /tool?agent=A&tool=T[&call=ID][&cancel=MS]
 *                          with the arguments (JSON) as the body: runs the
 *                          tool store's tool T as agent A would and replies
 *                          {"rc":"ok"|"error"|"declined","act":"none"|
 *                          "transfer"|"end","target":"...","result":...};
 *                          with cancel, the tool is cancelled MS ms after
 *                          its start and the reply is {"rc":"cancelled"}.
 *                          done() logs "rtagent test: tool done, call:ID".
 *                          The body must fit client_body_buffer_size.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <dirent.h>

#include <ngx_http_rtagent_module.h>
#include <io/ngx_http_rtagent_http.h>
#include <store/ngx_http_rtagent_store.h>
#include <agent/ngx_http_rtagent_tools.h>


#define NGX_HTTP_RTAGENT_TEST_NO_CANCEL   0
#define NGX_HTTP_RTAGENT_TEST_AT_START    1
#define NGX_HTTP_RTAGENT_TEST_AT_HEADER   2
#define NGX_HTTP_RTAGENT_TEST_AT_BYTES    3
#define NGX_HTTP_RTAGENT_TEST_AT_TIME     4


typedef struct {
    ngx_str_t                      base;
} ngx_http_rtagent_test_loc_conf_t;


typedef struct {
    ngx_str_t                      exit_url;
    ngx_http_rtagent_http_job_t   *exit_job;    /* made in init_process */
} ngx_http_rtagent_test_main_conf_t;


typedef struct {
    ngx_http_request_t            *request;
    ngx_http_rtagent_http_job_t   *job;
    ngx_http_rtagent_http_job_t   *signal_job;
    ngx_str_t                      signal;

    ngx_http_rtagent_timer_t       pieces_timer;
    ngx_uint_t                     pieces;
    ngx_uint_t                     written;
    ngx_uint_t                     burst;
    ngx_msec_t                     interval;

    ngx_http_rtagent_timer_t       cancel_timer;
    ngx_uint_t                     cancel;
    off_t                          cancel_bytes;
    ngx_msec_t                     cancel_ms;

    unsigned                       header_sent:1;
} ngx_http_rtagent_test_ctx_t;


typedef struct ngx_http_rtagent_test_fanout_s  ngx_http_rtagent_test_fanout_t;

typedef struct {
    ngx_http_rtagent_test_fanout_t  *fanout;
    ngx_http_rtagent_http_job_t     *job;
    uint64_t                         start;
    uint64_t                         latency;
} ngx_http_rtagent_test_one_t;


struct ngx_http_rtagent_test_fanout_s {
    ngx_http_request_t            *request;
    ngx_http_rtagent_test_one_t   *jobs;
    ngx_http_rtagent_http_job_t   *ping;
    ngx_http_rtagent_http_job_t   *release;
    ngx_str_t                      release_url;
    const char                    *ping_result;
    ngx_uint_t                     n;
    ngx_uint_t                     done;
    ngx_uint_t                     ok;
    ngx_uint_t                     failed;
    ngx_uint_t                     refused;
    const char                    *first_error;
    uint64_t                       start;
};


static void *ngx_http_rtagent_test_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_rtagent_test_create_loc_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_rtagent_test_init_process(ngx_cycle_t *cycle);
static void ngx_http_rtagent_test_exit_process(ngx_cycle_t *cycle);
static char *ngx_http_rtagent_test_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_rtagent_test_fetch_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_rtagent_test_fanout_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_rtagent_test_stats_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_rtagent_test_store_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_rtagent_test_tool_handler(ngx_http_request_t *r);


static ngx_command_t  ngx_http_rtagent_test_commands[] = {

    { ngx_string("rtagent_test_fetch"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_rtagent_test_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_rtagent_test_fetch_handler },

    { ngx_string("rtagent_test_fanout"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_rtagent_test_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_rtagent_test_fanout_handler },

    { ngx_string("rtagent_test_stats"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_rtagent_test_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_rtagent_test_stats_handler },

    { ngx_string("rtagent_test_store"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_rtagent_test_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_rtagent_test_store_handler },

    { ngx_string("rtagent_test_tool"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_rtagent_test_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_rtagent_test_tool_handler },

    { ngx_string("rtagent_test_exit_fetch"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_rtagent_test_main_conf_t, exit_url),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_rtagent_test_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_rtagent_test_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_rtagent_test_create_loc_conf, /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_rtagent_test_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_test_module_ctx,     /* module context */
    ngx_http_rtagent_test_commands,        /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_rtagent_test_init_process,    /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_rtagent_test_exit_process,    /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_rtagent_test_create_main_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_rtagent_test_main_conf_t));
}


static ngx_http_rtagent_http_job_t *
ngx_http_rtagent_test_exit_create(ngx_cycle_t *cycle,
    ngx_http_rtagent_test_main_conf_t *tmcf)
{
    ngx_str_t             get = ngx_string("GET");
    ngx_str_t             call = ngx_string("exit-test");
    ngx_http_conf_ctx_t  *ctx;

    ctx = (ngx_http_conf_ctx_t *) cycle->conf_ctx[ngx_http_module.index];

    return ngx_http_rtagent_http_create(
               ctx->loc_conf[ngx_http_rtagent_http_module.ctx_index],
               cycle->log, &call, &get, &tmcf->exit_url);
}


static ngx_int_t
ngx_http_rtagent_test_init_process(ngx_cycle_t *cycle)
{
    ngx_http_rtagent_test_main_conf_t  *tmcf;

    tmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_rtagent_test_module);

    if (tmcf == NULL || tmcf->exit_url.len == 0
        || ngx_process != NGX_PROCESS_WORKER)
    {
        return NGX_OK;
    }

    tmcf->exit_job = ngx_http_rtagent_test_exit_create(cycle, tmcf);

    return tmcf->exit_job ? NGX_OK : NGX_ERROR;
}


/* runs after the rtagent modules' own exit handlers (loaded later) */

static void
ngx_http_rtagent_test_exit_process(ngx_cycle_t *cycle)
{
    ngx_int_t                           rc;
    ngx_http_rtagent_http_job_t        *job;
    ngx_http_rtagent_test_main_conf_t  *tmcf;

    tmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_rtagent_test_module);
    if (tmcf == NULL || tmcf->exit_job == NULL) {
        return;
    }

    job = ngx_http_rtagent_test_exit_create(cycle, tmcf);

    if (job == NULL) {
        ngx_log_error(NGX_LOG_INFO, cycle->log, 0,
                      "rtagent test: exit job: create refused");

    } else {
        ngx_log_error(NGX_LOG_INFO, cycle->log, 0,
                      "rtagent test: exit job: created");
        ngx_http_rtagent_http_cancel(job);
    }

    rc = ngx_http_rtagent_http_start(tmcf->exit_job);

    ngx_log_error(NGX_LOG_INFO, cycle->log, 0,
                  "rtagent test: exit job: start returned %s",
                  rc == NGX_DECLINED ? "NGX_DECLINED"
                  : rc == NGX_OK ? "NGX_OK" : "an error");

    ngx_http_rtagent_http_cancel(tmcf->exit_job);
    tmcf->exit_job = NULL;
}


static void *
ngx_http_rtagent_test_create_loc_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_rtagent_test_loc_conf_t));
}


static char *
ngx_http_rtagent_test_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rtagent_test_loc_conf_t *tlcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = (ngx_http_handler_pt) cmd->post;

    if (cf->args->nelts > 1) {
        value = cf->args->elts;
        tlcf->base = value[1];
    }

    return NGX_CONF_OK;
}


static uint64_t
ngx_http_rtagent_test_usec(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/* the url is the rest of the query after "url=", not unescaped */

static ngx_int_t ngx_http_rtagent_test_url(ngx_http_request_t *r,
    ngx_str_t *url);


/* "/path" becomes the location's base followed by it */

static ngx_int_t
ngx_http_rtagent_test_absolute(ngx_http_request_t *r, ngx_str_t *url)
{
    u_char                            *p;
    ngx_http_rtagent_test_loc_conf_t  *tlcf;

    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_rtagent_test_module);

    if (url->len == 0 || url->data[0] != '/' || tlcf->base.len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, tlcf->base.len + url->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(p, tlcf->base.data, tlcf->base.len), url->data,
               url->len);

    url->data = p;
    url->len += tlcf->base.len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtagent_test_url(ngx_http_request_t *r, ngx_str_t *url)
{
    u_char  *p, *last;

    p = r->args.data;
    last = p + r->args.len;

    for ( /* void */ ; p + 4 <= last; p++) {
        if ((p == r->args.data || p[-1] == '&')
            && ngx_strncmp(p, "url=", 4) == 0)
        {
            url->data = p + 4;
            url->len = last - url->data;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_rtagent_test_arg(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_str_t  args, url;

    /* stop before url=, whose own query would be taken for ours */

    args = r->args;

    if (ngx_http_rtagent_test_url(r, &url) == NGX_OK) {
        r->args.len = url.data - 4 - r->args.data;
    }

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), value) != NGX_OK) {
        r->args = args;
        return NGX_DECLINED;
    }

    r->args = args;

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtagent_test_send(ngx_http_request_t *r, u_char *data, size_t len,
    ngx_uint_t last)
{
    ngx_buf_t    *b;
    ngx_chain_t   out;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    if (len) {
        b->start = ngx_pnalloc(r->pool, len);
        if (b->start == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(b->start, data, len);
        b->pos = b->start;
        b->last = b->start + len;
        b->end = b->last;
        b->memory = 1;
    }

    b->flush = 1;
    b->last_buf = last;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* a text response from start to end, for errors and summaries */

static ngx_int_t
ngx_http_rtagent_test_reply(ngx_http_request_t *r, ngx_uint_t status,
    u_char *text, size_t len)
{
    ngx_int_t  rc;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "text/plain");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_rtagent_test_send(r, text, len, 1);
}


static void
ngx_http_rtagent_test_finalize(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_connection_t  *c;

    c = r->connection;

    ((ngx_http_log_ctx_t *) c->log->data)->current_request = r;

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/* rtagent_test_fetch */

static void
ngx_http_rtagent_test_cancel(ngx_http_rtagent_test_ctx_t *ctx,
    const char *where)
{
    u_char               buf[128], *p;
    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = ctx->request;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "rtagent test: cancelling the job %s", where);

    ngx_http_rtagent_http_cancel(ctx->job);
    ctx->job = NULL;

    if (ctx->pieces_timer.event.timer_set) {
        ngx_del_timer(&ctx->pieces_timer.event);
    }

    if (ctx->cancel_timer.event.timer_set) {
        ngx_del_timer(&ctx->cancel_timer.event);
    }

    p = ngx_snprintf(buf, sizeof(buf), "\n[cancelled %s]\n", where);

    if (ctx->header_sent) {
        rc = ngx_http_rtagent_test_send(r, buf, p - buf, 1);

    } else {
        rc = ngx_http_rtagent_test_reply(r, NGX_HTTP_OK, buf + 1,
                                         p - buf - 1);
    }

    ngx_http_rtagent_test_finalize(r, rc);
}


static void
ngx_http_rtagent_test_on_header(ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_test_ctx_t *ctx = job->data;

    ngx_int_t            rc;
    ngx_str_t           *type;
    ngx_table_elt_t     *h;
    ngx_http_request_t  *r;

    r = ctx->request;

    r->headers_out.status = job->status;

    type = ngx_http_rtagent_http_header(job, "content-type");
    if (type != NULL) {
        r->headers_out.content_type = *type;
        r->headers_out.content_type_len = type->len;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        ngx_http_rtagent_test_finalize(r, NGX_ERROR);
        return;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "X-Upstream-Attempts");
    h->value.data = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (h->value.data == NULL) {
        ngx_http_rtagent_test_finalize(r, NGX_ERROR);
        return;
    }

    h->value.len = ngx_sprintf(h->value.data, "%ui", job->attempts)
                   - h->value.data;

    rc = ngx_http_send_header(r);
    ctx->header_sent = 1;

    if (rc == NGX_ERROR || rc > NGX_OK) {
        ngx_http_rtagent_test_finalize(r, rc);
        return;
    }

    if (ctx->cancel == NGX_HTTP_RTAGENT_TEST_AT_HEADER) {
        ngx_http_rtagent_test_cancel(ctx, "in on_header");
    }
}


static void
ngx_http_rtagent_test_signal_done(ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_test_ctx_t *ctx = job->data;

    ctx->signal_job = NULL;
}


static void
ngx_http_rtagent_test_on_data(ngx_http_rtagent_http_job_t *job, u_char *data,
    size_t len)
{
    ngx_http_rtagent_test_ctx_t *ctx = job->data;

    u_char               buf[64], *p;
    ngx_str_t            get = ngx_string("GET");
    ngx_http_request_t  *r;
    ngx_http_rtagent_http_job_t  *sj;

    r = ctx->request;

    if (ngx_http_rtagent_test_send(r, data, len, 0) == NGX_ERROR) {
        ngx_http_rtagent_test_finalize(r, NGX_ERROR);
        return;
    }

    if (ctx->signal.len && ctx->signal_job == NULL) {
        /* a job started from inside a libcurl callback */
        sj = ngx_http_rtagent_http_create(ngx_http_rtagent_http_conf(r),
                                          r->connection->log, NULL, &get,
                                          &ctx->signal);
        if (sj == NULL) {
            ngx_http_rtagent_test_finalize(r, NGX_ERROR);
            return;
        }

        sj->data = ctx;
        sj->on_done = ngx_http_rtagent_test_signal_done;

        if (ngx_http_rtagent_http_start(sj) != NGX_OK) {
            ngx_http_rtagent_http_cancel(sj);
            ngx_http_rtagent_test_finalize(r, NGX_ERROR);
            return;
        }

        ctx->signal_job = sj;
        ctx->signal.len = 0;
    }

    if (ctx->cancel == NGX_HTTP_RTAGENT_TEST_AT_BYTES
        && job->received >= ctx->cancel_bytes)
    {
        p = ngx_snprintf(buf, sizeof(buf), "after %O bytes", job->received);
        *p = '\0';
        ngx_http_rtagent_test_cancel(ctx, (char *) buf);
    }
}


static void
ngx_http_rtagent_test_on_done(ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_test_ctx_t *ctx = job->data;

    u_char              *text, *p;
    size_t               len;
    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = ctx->request;
    ctx->job = NULL;

    if (ctx->pieces_timer.event.timer_set) {
        ngx_del_timer(&ctx->pieces_timer.event);
    }

    if (ctx->cancel_timer.event.timer_set) {
        ngx_del_timer(&ctx->cancel_timer.event);
    }

    if (job->rc == NGX_OK && !ctx->header_sent) {
        /* mode=buffer: the whole body is in job->body */
        rc = ngx_http_rtagent_test_reply(r, job->status, job->body.data,
                                         job->body.len);

    } else if (job->rc == NGX_OK) {
        rc = ngx_http_rtagent_test_send(r, NULL, 0, 1);

    } else {
        len = ngx_strlen(job->error) + 64;

        text = ngx_pnalloc(r->pool, len);
        if (text == NULL) {
            ngx_http_rtagent_test_finalize(r, NGX_ERROR);
            return;
        }

        if (ctx->header_sent) {
            p = ngx_snprintf(text, len, "\n[error: %s]\n", job->error);
            rc = ngx_http_rtagent_test_send(r, text, p - text, 1);

        } else {
            p = ngx_snprintf(text, len, "error: %s\nattempts=%ui\n",
                             job->error, job->attempts);
            rc = ngx_http_rtagent_test_reply(r, job->timedout
                                             ? NGX_HTTP_GATEWAY_TIME_OUT
                                             : NGX_HTTP_BAD_GATEWAY,
                                             text, p - text);
        }
    }

    ngx_http_rtagent_test_finalize(r, rc);
}


/* the next piece: NGX_OK, NGX_AGAIN (the queue is full: again later) */

static ngx_int_t
ngx_http_rtagent_test_next_piece(ngx_http_rtagent_test_ctx_t *ctx,
    ngx_log_t *log)
{
    u_char      buf[32], *p;
    ngx_int_t   rc;
    ngx_uint_t  n, last;

    n = ctx->written + 1;
    last = (n == ctx->pieces);

    p = ngx_sprintf(buf, "p%ui;", n);

    rc = ngx_http_rtagent_http_write(ctx->job, buf, p - buf, last);

    if (rc == NGX_AGAIN) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "rtagent test: piece %ui: upload queue full, %uz "
                      "bytes queued",
                      n, ngx_http_rtagent_http_queued(ctx->job));
        return NGX_AGAIN;
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rtagent test: the job took no piece %ui", n);
        return NGX_ERROR;
    }

    ctx->written = n;

    return NGX_OK;
}


static void
ngx_http_rtagent_test_write_piece(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t     *t;
    ngx_http_rtagent_test_ctx_t  *ctx;

    t = ev->data;
    ctx = t->data;

    if (ctx->job == NULL) {
        return;
    }

    if (ngx_http_rtagent_test_next_piece(ctx, ev->log) == NGX_ERROR) {
        return;
    }

    if (ctx->written < ctx->pieces) {
        ngx_add_timer(ev, ctx->interval);
    }
}


static void
ngx_http_rtagent_test_cancel_timer(ngx_event_t *ev)
{
    u_char                        buf[32], *p;
    ngx_http_rtagent_timer_t     *t;
    ngx_http_rtagent_test_ctx_t  *ctx;

    t = ev->data;
    ctx = t->data;

    if (ctx->job == NULL) {
        return;
    }

    p = ngx_snprintf(buf, sizeof(buf) - 1, "after %Mms", ctx->cancel_ms);
    *p = '\0';

    ngx_http_rtagent_test_cancel(ctx, (char *) buf);
}


static void
ngx_http_rtagent_test_cleanup(void *data)
{
    ngx_http_rtagent_test_ctx_t *ctx = data;

    if (ctx->pieces_timer.event.timer_set) {
        ngx_del_timer(&ctx->pieces_timer.event);
    }

    if (ctx->cancel_timer.event.timer_set) {
        ngx_del_timer(&ctx->cancel_timer.event);
    }

    ngx_http_rtagent_http_cancel(ctx->job);
    ngx_http_rtagent_http_cancel(ctx->signal_job);

    ctx->job = NULL;
    ctx->signal_job = NULL;
}


static ngx_int_t
ngx_http_rtagent_test_fetch_handler(ngx_http_request_t *r)
{
    off_t                         total;
    ngx_int_t                     rc, n;
    ngx_str_t                     url, method, body, call, v, name, value;
    ngx_uint_t                    i;
    ngx_http_cleanup_t           *cln;
    ngx_http_rtagent_http_job_t  *job;
    ngx_http_rtagent_test_ctx_t  *ctx;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_rtagent_test_url(r, &url) != NGX_OK) {
        return NGX_HTTP_BAD_REQUEST;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_rtagent_test_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    ctx->interval = 100;

    ngx_http_rtagent_timer_init(&ctx->pieces_timer,
                                ngx_http_rtagent_test_write_piece, ctx,
                                r->connection->log);
    ngx_http_rtagent_timer_init(&ctx->cancel_timer,
                                ngx_http_rtagent_test_cancel_timer, ctx,
                                r->connection->log);

    ngx_str_null(&body);
    ngx_str_null(&call);
    ngx_str_set(&method, "GET");

    (void) ngx_http_rtagent_test_arg(r, "call", &call);

    if (ngx_http_rtagent_test_arg(r, "body", &body) == NGX_OK) {
        ngx_str_set(&method, "POST");
    }

    if (ngx_http_rtagent_test_arg(r, "pieces", &v) == NGX_OK) {
        n = ngx_atoi(v.data, v.len);
        if (n <= 0) {
            return NGX_HTTP_BAD_REQUEST;
        }

        ctx->pieces = n;
        ngx_str_set(&method, "POST");
    }

    if (ngx_http_rtagent_test_arg(r, "interval", &v) == NGX_OK) {
        ctx->interval = ngx_atoi(v.data, v.len);
    }

    if (ngx_http_rtagent_test_arg(r, "burst", &v) == NGX_OK) {
        ctx->burst = ngx_atoi(v.data, v.len);
    }

    (void) ngx_http_rtagent_test_arg(r, "method", &method);

    if (ngx_http_rtagent_test_arg(r, "cancel", &v) == NGX_OK) {
        if (v.len == 5 && ngx_strncmp(v.data, "start", 5) == 0) {
            ctx->cancel = NGX_HTTP_RTAGENT_TEST_AT_START;

        } else if (v.len == 6 && ngx_strncmp(v.data, "header", 6) == 0) {
            ctx->cancel = NGX_HTTP_RTAGENT_TEST_AT_HEADER;

        } else if (v.len > 2 && ngx_strncmp(v.data + v.len - 2, "ms", 2) == 0)
        {
            ctx->cancel = NGX_HTTP_RTAGENT_TEST_AT_TIME;
            ctx->cancel_ms = ngx_atoi(v.data, v.len - 2);

        } else {
            ctx->cancel = NGX_HTTP_RTAGENT_TEST_AT_BYTES;
            ctx->cancel_bytes = ngx_atoof(v.data, v.len);
        }
    }

    (void) ngx_http_rtagent_test_arg(r, "signal", &ctx->signal);

    if (ngx_http_rtagent_test_absolute(r, &url) != NGX_OK
        || ngx_http_rtagent_test_absolute(r, &ctx->signal) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    job = ngx_http_rtagent_http_create(ngx_http_rtagent_http_conf(r),
                                       r->connection->log, &call, &method,
                                       &url);
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->job = job;

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        ngx_http_rtagent_http_cancel(job);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_rtagent_test_cleanup;
    cln->data = ctx;

    if (body.data != NULL
        && ngx_http_rtagent_http_set_body(job, body.data, body.len) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_rtagent_test_arg(r, "header", &v) == NGX_OK) {
        name.data = v.data;
        value.data = ngx_strlchr(v.data, v.data + v.len, ':');

        if (value.data == NULL) {
            return NGX_HTTP_BAD_REQUEST;
        }

        name.len = value.data - v.data;
        value.data++;
        value.len = v.data + v.len - value.data;

        if (ngx_http_rtagent_http_add_header(job, &name, &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ctx->pieces) {
        total = -1;

        if (ngx_http_rtagent_test_arg(r, "length", &v) == NGX_OK
            && v.len == 5 && ngx_strncmp(v.data, "known", 5) == 0)
        {
            total = 0;
            for (i = 1; i <= ctx->pieces; i++) {
                total += 3 + (i >= 10) + (i >= 100) + (i >= 1000);
            }
        }

        if (ngx_http_rtagent_http_stream_body(job, total) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_rtagent_test_arg(r, "queue", &v) == NGX_OK) {
            job->max_queued = ngx_atosz(v.data, v.len);
        }

        while (ctx->written < ngx_min(ctx->burst, ctx->pieces)) {
            rc = ngx_http_rtagent_test_next_piece(ctx, r->connection->log);

            if (rc == NGX_AGAIN) {
                break;
            }

            if (rc != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }

    job->data = ctx;
    job->on_done = ngx_http_rtagent_test_on_done;

    if (ngx_http_rtagent_test_arg(r, "mode", &v) != NGX_OK
        || v.len != 6 || ngx_strncmp(v.data, "buffer", 6) != 0)
    {
        job->on_header = ngx_http_rtagent_test_on_header;
        job->on_data = ngx_http_rtagent_test_on_data;
    }

    rc = ngx_http_rtagent_http_start(job);

    if (rc == NGX_BUSY) {
        return ngx_http_rtagent_test_reply(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           (u_char *) "error: busy\n",
                                           sizeof("error: busy\n") - 1);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->cancel == NGX_HTTP_RTAGENT_TEST_AT_START) {
        ngx_http_rtagent_http_cancel(job);
        ctx->job = NULL;

        return ngx_http_rtagent_test_reply(r, NGX_HTTP_OK,
                                           (u_char *) "[cancelled at start]\n",
                                           sizeof("[cancelled at start]\n")
                                           - 1);
    }

    r->main->count++;

    if (ctx->cancel == NGX_HTTP_RTAGENT_TEST_AT_TIME) {
        ngx_add_timer(&ctx->cancel_timer.event, ctx->cancel_ms);
    }

    if (ctx->written < ctx->pieces) {
        /* the first piece comes later: the upload starts paused */
        ngx_add_timer(&ctx->pieces_timer.event, ctx->interval);
    }

    return NGX_DONE;
}


/* rtagent_test_fanout */

static int ngx_libc_cdecl
ngx_http_rtagent_test_cmp(const void *a, const void *b)
{
    const uint64_t  *x = a, *y = b;

    return (*x > *y) - (*x < *y);
}


static void
ngx_http_rtagent_test_fanout_done(ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_test_one_t *one = job->data;

    u_char                          *text, *p, num[NGX_INT_T_LEN];
    double                           elapsed;
    uint64_t                        *lat;
    ngx_str_t                        refused;
    ngx_uint_t                       i;
    ngx_http_request_t              *r;
    ngx_http_rtagent_test_fanout_t  *f;

    f = one->fanout;
    r = f->request;

    one->latency = ngx_http_rtagent_test_usec() - one->start;
    one->job = NULL;

    f->done++;

    if (job->rc == NGX_OK && job->status == NGX_HTTP_OK) {
        f->ok++;

    } else {
        f->failed++;

        if (f->first_error == NULL) {
            f->first_error = job->rc == NGX_OK ? "status" : job->error;
        }
    }

    if (f->done < f->n) {
        return;
    }

    elapsed = (ngx_http_rtagent_test_usec() - f->start) / 1000.0;

    refused.data = num;
    refused.len = f->refused ? ngx_sprintf(num, "%ui", f->refused) - num : 0;

    lat = ngx_palloc(r->pool, f->n * sizeof(uint64_t));
    text = ngx_pnalloc(r->pool, 512);

    if (lat == NULL || text == NULL) {
        ngx_http_rtagent_test_finalize(r, NGX_ERROR);
        return;
    }

    for (i = 0; i < f->n; i++) {
        lat[i] = f->jobs[i].latency;
    }

    qsort(lat, f->n, sizeof(uint64_t), ngx_http_rtagent_test_cmp);

    p = ngx_snprintf(text, 512,
                     "jobs=%ui ok=%ui failed=%ui elapsed_ms=%.1f "
                     "jobs_per_s=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f"
                     "%s%s%s%s%s%V\n",
                     f->n, f->ok, f->failed, elapsed,
                     f->n * 1000.0 / (elapsed > 0 ? elapsed : 1),
                     lat[f->n / 2] / 1000.0,
                     lat[(f->n * 99) / 100 < f->n ? (f->n * 99) / 100
                                                 : f->n - 1] / 1000.0,
                     lat[f->n - 1] / 1000.0,
                     f->ping_result ? " ping=" : "",
                     f->ping_result ? f->ping_result : "",
                     f->first_error ? " first_error=" : "",
                     f->first_error ? f->first_error : "",
                     f->refused ? " refused=" : "", &refused);

    ngx_http_rtagent_test_finalize(r,
        ngx_http_rtagent_test_reply(r, NGX_HTTP_OK, text, p - text));
}


static void
ngx_http_rtagent_test_release_done(ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_test_fanout_t *f = job->data;

    f->release = NULL;
}


static void
ngx_http_rtagent_test_ping_done(ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_test_fanout_t *f = job->data;

    ngx_str_t                     get = ngx_string("GET");
    ngx_http_rtagent_http_job_t  *rj;

    f->ping = NULL;

    if (job->rc != NGX_OK || job->status != NGX_HTTP_OK) {
        f->ping_result = "failed";

    } else {
        f->ping_result = (f->done < f->n) ? "during-load" : "after-load";
    }

    if (f->release_url.len == 0) {
        return;
    }

    rj = ngx_http_rtagent_http_create(ngx_http_rtagent_http_conf(f->request),
                                      f->request->connection->log, NULL,
                                      &get, &f->release_url);
    if (rj == NULL) {
        return;
    }

    rj->data = f;
    rj->on_done = ngx_http_rtagent_test_release_done;

    if (ngx_http_rtagent_http_start(rj) != NGX_OK) {
        ngx_http_rtagent_http_cancel(rj);
        return;
    }

    f->release = rj;
}


static void
ngx_http_rtagent_test_fanout_cleanup(void *data)
{
    ngx_http_rtagent_test_fanout_t *f = data;

    ngx_uint_t  i;

    ngx_http_rtagent_http_cancel(f->ping);
    ngx_http_rtagent_http_cancel(f->release);
    f->ping = NULL;
    f->release = NULL;

    for (i = 0; i < f->n; i++) {
        ngx_http_rtagent_http_cancel(f->jobs[i].job);
        f->jobs[i].job = NULL;
    }
}


static ngx_int_t
ngx_http_rtagent_test_fanout_handler(ngx_http_request_t *r)
{
    u_char                           text[128], *p;
    ngx_int_t                        rc, n;
    ngx_str_t                        url, v, get = ngx_string("GET");
    ngx_uint_t                       i;
    ngx_http_cleanup_t              *cln;
    ngx_http_rtagent_http_job_t     *job;
    ngx_http_rtagent_test_fanout_t  *f;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_rtagent_test_url(r, &url) != NGX_OK
        || ngx_http_rtagent_test_arg(r, "n", &v) != NGX_OK)
    {
        return NGX_HTTP_BAD_REQUEST;
    }

    n = ngx_atoi(v.data, v.len);
    if (n <= 0 || n > 100000) {
        return NGX_HTTP_BAD_REQUEST;
    }

    if (ngx_http_rtagent_test_absolute(r, &url) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    f = ngx_pcalloc(r->pool, sizeof(ngx_http_rtagent_test_fanout_t));
    if (f == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    f->jobs = ngx_pcalloc(r->pool, n * sizeof(ngx_http_rtagent_test_one_t));
    if (f->jobs == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    f->request = r;
    f->n = n;

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_rtagent_test_fanout_cleanup;
    cln->data = f;

    f->start = ngx_http_rtagent_test_usec();

    for (i = 0; i < f->n; i++) {
        job = ngx_http_rtagent_http_create(ngx_http_rtagent_http_conf(r),
                                           r->connection->log, NULL, &get,
                                           &url);
        if (job == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        f->jobs[i].fanout = f;
        f->jobs[i].job = job;
        f->jobs[i].start = ngx_http_rtagent_test_usec();

        job->data = &f->jobs[i];
        job->on_done = ngx_http_rtagent_test_fanout_done;

        rc = ngx_http_rtagent_http_start(job);

        if (rc == NGX_BUSY || rc == NGX_DECLINED) {
            /* refused (over rtagent_upstream_max_jobs): counted, no job */
            ngx_http_rtagent_http_cancel(job);
            f->jobs[i].job = NULL;
            f->done++;
            f->failed++;
            f->refused++;

            if (f->first_error == NULL) {
                f->first_error = rc == NGX_BUSY ? "busy" : "declined";
            }

            continue;
        }

        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (f->done == f->n) {
        /* every start was refused */
        p = ngx_snprintf(text, sizeof(text),
                         "jobs=%ui ok=0 failed=%ui refused=%ui "
                         "first_error=%s\n",
                         f->n, f->failed, f->refused, f->first_error);
        return ngx_http_rtagent_test_reply(r, NGX_HTTP_OK, text, p - text);
    }

    if (ngx_http_rtagent_test_arg(r, "release", &f->release_url) == NGX_OK
        && ngx_http_rtagent_test_absolute(r, &f->release_url) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_rtagent_test_arg(r, "ping", &v) == NGX_OK) {
        job = ngx_http_rtagent_http_create(ngx_http_rtagent_http_conf(r),
                                           r->connection->log, NULL, &get,
                                           &v);
        if (job == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        f->ping = job;
        f->ping_result = "pending";
        job->data = f;
        job->on_done = ngx_http_rtagent_test_ping_done;

        if (ngx_http_rtagent_http_start(job) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    r->main->count++;

    return NGX_DONE;
}


/* rtagent_test_stats */

static ngx_int_t
ngx_http_rtagent_test_stats_handler(ngx_http_request_t *r)
{
    u_char                         text[256], *p;
    DIR                           *dir;
    ngx_int_t                      rc;
    ngx_uint_t                     fds;
    ngx_http_rtagent_http_stats_t  st;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_http_rtagent_http_stats(&st);

    fds = 0;

    dir = opendir("/proc/self/fd");
    if (dir != NULL) {
        while (readdir(dir) != NULL) {
            fds++;
        }

        /* ".", ".." and the directory's own fd */
        fds -= 3;
        closedir(dir);
    }

    p = ngx_snprintf(text, sizeof(text),
                     "jobs=%ui running=%ui sockets=%ui connections=%ui "
                     "fds=%ui started=%ui retried=%ui failed=%ui "
                     "active=%ui refused=%ui\n",
                     st.jobs, st.running, st.sockets, st.connections, fds,
                     st.started, st.retried, st.failed, st.active,
                     st.refused);

    return ngx_http_rtagent_test_reply(r, NGX_HTTP_OK, text, p - text);
}


/* rtagent_test_store */

#define NGX_HTTP_RTAGENT_TEST_FIELDS  8

/* the store may answer after the request is gone (a closed client) */
typedef struct {
    ngx_http_request_t            *r;           /* NULL once gone */
    ngx_pool_cleanup_t            *cln;
    ngx_uint_t                     n;
    ngx_str_t                      names[NGX_HTTP_RTAGENT_TEST_FIELDS];
} ngx_http_rtagent_test_store_t;


/* a NUL-terminated copy; "" when out of memory (the store then refuses) */

static char *
ngx_http_rtagent_test_cstr(ngx_pool_t *pool, ngx_str_t *s)
{
    u_char  *p;

    p = ngx_pnalloc(pool, s->len + 1);
    if (p == NULL) {
        return "";
    }

    *ngx_cpymem(p, s->data, s->len) = '\0';

    return (char *) p;
}


static void
ngx_http_rtagent_test_store_gone(void *data)
{
    ngx_http_rtagent_test_store_t  *t = data;

    t->r = NULL;
}


/* the request, if it is still there, and t freed */

static ngx_http_request_t *
ngx_http_rtagent_test_store_take(ngx_http_rtagent_test_store_t *t)
{
    ngx_http_request_t  *r;

    r = t->r;

    if (r) {
        t->cln->handler = NULL;
    }

    ngx_free(t);

    return r;
}


static void
ngx_http_rtagent_test_store_result(void *data, ngx_int_t rc)
{
    u_char               text[64], *p;
    ngx_http_request_t  *r;

    r = ngx_http_rtagent_test_store_take(data);
    if (r == NULL) {
        return;
    }

    p = ngx_snprintf(text, sizeof(text), "rc=%i\n", rc);

    ngx_http_rtagent_test_finalize(r, ngx_http_rtagent_test_reply(r,
                                          NGX_HTTP_OK, text, p - text));
}


static void
ngx_http_rtagent_test_store_fields(void *data, ngx_int_t n,
    ngx_str_t *values)
{
    u_char                         *text, *p, *last;
    size_t                          len;
    ngx_int_t                       i;
    ngx_http_request_t             *r;
    ngx_http_rtagent_test_store_t  *t = data;

    len = 32;

    for (i = 0; i < n; i++) {
        len += t->names[i].len + values[i].len + 3;
    }

    if (t->r == NULL || (text = ngx_pnalloc(t->r->pool, len)) == NULL) {
        r = ngx_http_rtagent_test_store_take(t);
        if (r) {
            ngx_http_rtagent_test_finalize(r, NGX_ERROR);
        }

        return;
    }

    last = text + len;
    p = ngx_slprintf(text, last, "n=%i", n);

    for (i = 0; i < n; i++) {
        p = ngx_slprintf(p, last, " %V=", &t->names[i]);

        /* a missing field: "name=-" */
        p = values[i].data ? ngx_slprintf(p, last, "%V", &values[i])
                           : ngx_slprintf(p, last, "-");
    }

    *p++ = '\n';

    r = ngx_http_rtagent_test_store_take(t);

    ngx_http_rtagent_test_finalize(r, ngx_http_rtagent_test_reply(r,
                                          NGX_HTTP_OK, text, p - text));
}


static ngx_int_t
ngx_http_rtagent_test_store_handler(ngx_http_request_t *r)
{
    u_char                          *p, *last, *comma;
    ngx_int_t                        rc;
    ngx_str_t                        op, id, outcome, reason, type, once;
    ngx_str_t                        json;
    ngx_uint_t                       sync;
    const char                      *names[NGX_HTTP_RTAGENT_TEST_FIELDS];
    ngx_http_rtagent_test_store_t   *t;
    ngx_http_rtagent_store_field_t   field;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_str_null(&op);
    ngx_str_null(&id);
    ngx_str_null(&outcome);
    ngx_str_null(&reason);
    ngx_str_null(&type);
    ngx_str_null(&once);

    (void) ngx_http_arg(r, (u_char *) "op", 2, &op);
    (void) ngx_http_arg(r, (u_char *) "id", 2, &id);

    t = ngx_calloc(sizeof(ngx_http_rtagent_test_store_t), r->connection->log);
    if (t == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t->cln = ngx_pool_cleanup_add(r->pool, 0);
    if (t->cln == NULL) {
        ngx_free(t);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t->r = r;
    t->cln->handler = ngx_http_rtagent_test_store_gone;
    t->cln->data = t;

    /* a store handler may run at once (a write dropped when queued) */
    r->main->count++;
    sync = 0;

    if (op.len == 5 && ngx_strncmp(op.data, "ended", 5) == 0) {
        (void) ngx_http_arg(r, (u_char *) "outcome", 7, &outcome);
        (void) ngx_http_arg(r, (u_char *) "reason", 6, &reason);

        rc = ngx_http_rtagent_store_call_ended(&id,
                 ngx_http_rtagent_test_cstr(r->pool, &outcome), &reason,
                 r->connection->log, ngx_http_rtagent_test_store_result, t);

    } else if (op.len == 5 && ngx_strncmp(op.data, "event", 5) == 0) {
        (void) ngx_http_arg(r, (u_char *) "type", 4, &type);
        (void) ngx_http_arg(r, (u_char *) "once", 4, &once);
        ngx_str_set(&json, "{\"via\":\"test\"}");

        sync = 1;
        rc = ngx_http_rtagent_store_call_event(&id,
                 ngx_http_rtagent_test_cstr(r->pool, &type), &json,
                 once.len ? ngx_http_rtagent_test_cstr(r->pool, &once) : NULL,
                 r->connection->log);


    } else if (op.len == 3 && ngx_strncmp(op.data, "set", 3) == 0) {
        (void) ngx_http_arg(r, (u_char *) "name", 4, &type);
        (void) ngx_http_arg(r, (u_char *) "value", 5, &field.value);
        field.name = ngx_http_rtagent_test_cstr(r->pool, &type);

        sync = 1;
        rc = ngx_http_rtagent_store_call_set(&id, &field, 1,
                                             r->connection->log);

    } else if (op.len == 3 && ngx_strncmp(op.data, "get", 3) == 0) {
        (void) ngx_http_arg(r, (u_char *) "names", 5, &type);

        p = type.data;
        last = p + type.len;

        while (p < last && t->n < NGX_HTTP_RTAGENT_TEST_FIELDS) {
            comma = ngx_strlchr(p, last, ',');
            if (comma == NULL) {
                comma = last;
            }

            t->names[t->n].data = p;
            t->names[t->n].len = comma - p;
            names[t->n] = ngx_http_rtagent_test_cstr(r->pool, &t->names[t->n]);
            t->n++;
            p = comma + 1;
        }

        rc = ngx_http_rtagent_store_call_get(&id, names, t->n,
                 r->connection->log, ngx_http_rtagent_test_store_fields, t);

    } else if (op.len == 5 && ngx_strncmp(op.data, "count", 5) == 0) {
        ngx_str_set(&json, "{\"action\":\"ping\"}");

        rc = ngx_http_rtagent_store_control_count(&id, &json,
                 ngx_http_rtagent_test_store_result, t);

    } else if (op.len == 6 && ngx_strncmp(op.data, "dedupe", 6) == 0) {
        /* under the 24 h minimum: the store makes it 24 h */
        rc = ngx_http_rtagent_store_dedupe(&id, 1000, r->connection->log,
                 ngx_http_rtagent_test_store_result, t);

    } else {
        rc = NGX_ERROR;
    }

    if (rc == NGX_OK && !sync) {
        return NGX_DONE;
    }

    /* no handler, or the store never calls it */
    r->main->count--;
    (void) ngx_http_rtagent_test_store_take(t);

    if (rc == NGX_OK) {
        return ngx_http_rtagent_test_reply(r, NGX_HTTP_OK,
                                           (u_char *) "rc=1\n", 5);
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_rtagent_test_reply(r, NGX_HTTP_OK,
                                           (u_char *) "declined\n", 9);
    }

    return ngx_http_rtagent_test_reply(r, NGX_HTTP_OK, (u_char *) "error\n",
                                       6);
}


/* rtagent_test_tool */

typedef struct {
    ngx_http_request_t            *r;
    ngx_http_rtagent_tool_call_t   tc;
    ngx_str_t                      call_id;
    ngx_msec_t                     cancel;
    ngx_http_rtagent_timer_t       timer;
    unsigned                       running:1;
} ngx_http_rtagent_test_tool_t;


static void
ngx_http_rtagent_test_tool_json(ngx_http_request_t *r, ngx_str_t *json)
{
    ngx_int_t  rc;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = json->len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_rtagent_test_finalize(r, rc);
        return;
    }

    ngx_http_rtagent_test_finalize(r, ngx_http_rtagent_test_send(r,
                                          json->data, json->len, 1));
}


static void
ngx_http_rtagent_test_tool_done(ngx_http_rtagent_tool_call_t *tc)
{
    ngx_http_rtagent_test_tool_t *t = tc->data;

    u_char              *p;
    size_t               len;
    ngx_str_t            json;
    ngx_http_request_t  *r;

    static const char  *acts[] = { "none", "transfer", "end" };

    r = t->r;
    t->running = 0;

    if (t->timer.event.timer_set) {
        ngx_del_timer(&t->timer.event);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "rtagent test: tool done, call:%V", &t->call_id);

    len = sizeof("{\"rc\":\"error\",\"act\":\"transfer\",\"target\":\"\","
                 "\"result\":}") + tc->target.len + tc->result.len;

    json.data = ngx_pnalloc(r->pool, len);
    if (json.data == NULL) {
        ngx_http_rtagent_test_finalize(r, NGX_ERROR);
        return;
    }

    p = ngx_snprintf(json.data, len, "{\"rc\":\"%s\",\"act\":\"%s\","
                     "\"target\":\"%V\",\"result\":%V}",
                     tc->rc == NGX_OK ? "ok" : "error",
                     acts[tc->act <= 2 ? tc->act : 0], &tc->target,
                     &tc->result);
    json.len = p - json.data;

    ngx_http_rtagent_test_tool_json(r, &json);
}


static void
ngx_http_rtagent_test_tool_cancel(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t      *timer = ev->data;
    ngx_http_rtagent_test_tool_t  *t = timer->data;

    ngx_str_t  json = ngx_string("{\"rc\":\"cancelled\"}");

    ngx_http_rtagent_tool_cancel(&t->tc);
    t->running = 0;

    ngx_log_error(NGX_LOG_INFO, t->r->connection->log, 0,
                  "rtagent test: tool cancelled, call:%V", &t->call_id);

    ngx_http_rtagent_test_tool_json(t->r, &json);
}


/* the client went away: the tool must not answer into a freed pool */
static void
ngx_http_rtagent_test_tool_gone(void *data)
{
    ngx_http_rtagent_test_tool_t  *t = data;

    if (t->running) {
        ngx_http_rtagent_tool_cancel(&t->tc);
        t->running = 0;
    }

    if (t->timer.event.timer_set) {
        ngx_del_timer(&t->timer.event);
    }
}


static void
ngx_http_rtagent_test_tool_body(ngx_http_request_t *r)
{
    u_char                        *p;
    size_t                         len;
    ngx_int_t                      rc;
    ngx_str_t                      value, json;
    ngx_chain_t                   *cl;
    ngx_pool_cleanup_t            *cln;
    ngx_http_rtagent_test_tool_t  *t;

    t = ngx_pcalloc(r->pool, sizeof(ngx_http_rtagent_test_tool_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (t == NULL || cln == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    t->r = r;
    cln->handler = ngx_http_rtagent_test_tool_gone;
    cln->data = t;

    len = 0;

    for (cl = r->request_body ? r->request_body->bufs : NULL; cl;
         cl = cl->next)
    {
        if (cl->buf->in_file) {
            ngx_http_finalize_request(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE);
            return;
        }

        len += cl->buf->last - cl->buf->pos;
    }

    t->tc.args.data = ngx_pnalloc(r->pool, len + 1);
    if (t->tc.args.data == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = t->tc.args.data;

    for (cl = r->request_body ? r->request_body->bufs : NULL; cl;
         cl = cl->next)
    {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    t->tc.args.len = len;

    if (ngx_http_arg(r, (u_char *) "agent", 5, &t->tc.agent) != NGX_OK
        || ngx_http_arg(r, (u_char *) "tool", 4, &t->tc.name) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_BAD_REQUEST);
        return;
    }

    if (ngx_http_arg(r, (u_char *) "call", 4, &t->call_id) == NGX_OK) {
        t->tc.call_id = &t->call_id;
    }

    if (ngx_http_arg(r, (u_char *) "cancel", 6, &value) == NGX_OK) {
        t->cancel = ngx_atoi(value.data, value.len);
    }

    t->tc.pool = r->pool;
    t->tc.log = r->connection->log;
    t->tc.done = ngx_http_rtagent_test_tool_done;
    t->tc.data = t;

    rc = ngx_http_rtagent_tool_run(&t->tc);

    if (rc == NGX_DECLINED) {
        ngx_str_set(&json, "{\"rc\":\"declined\"}");
        ngx_http_rtagent_test_tool_json(r, &json);
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    t->running = 1;

    if (t->cancel && t->cancel != (ngx_msec_t) NGX_ERROR) {
        ngx_http_rtagent_timer_init(&t->timer,
                                    ngx_http_rtagent_test_tool_cancel, t,
                                    r->connection->log);
        ngx_add_timer(&t->timer.event, t->cancel);
    }
}


static ngx_int_t
ngx_http_rtagent_test_tool_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_rtagent_test_tool_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}
