
/*
 * The non-blocking HTTP client (see ngx_http_rtagent_http.h): libcurl's
 * multi-socket API on nginx events, one multi handle per worker.
 *
 * How libcurl is driven (NGINX-CRAFT.md 3.2):
 *
 *   - the socket callback registers each curl socket on an nginx connection
 *     taken with ngx_get_connection(), found again through a table indexed
 *     by fd; every registration is level-triggered, as curl expects;
 *   - curl's sockets are opened and closed by our callbacks, so a socket is
 *     always taken off epoll and its connection freed before the fd is
 *     closed and can be reused by anyone else;
 *   - the timer callback only (re)arms one nginx timer; libcurl is called
 *     from that timer's handler, never from inside its own callbacks;
 *   - what must not happen inside a libcurl callback (adding, removing or
 *     unpausing a handle, and the owner's on_done) is queued on the worker
 *     and done by a posted event in the same event-loop iteration.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>

#include <curl/curl.h>

#include <ngx_http_rtagent_core.h>
#include <io/ngx_http_rtagent_http.h>
#include <io/ngx_http_rtagent_retry_after.h>


#define NGX_HTTP_RTAGENT_HTTP_NEW       0
#define NGX_HTTP_RTAGENT_HTTP_RUNNING   1
#define NGX_HTTP_RTAGENT_HTTP_BACKOFF   2
#define NGX_HTTP_RTAGENT_HTTP_DONE      3

/* response headers of one attempt */
#define NGX_HTTP_RTAGENT_HTTP_MAX_HEADERS   65536

/* the body of a response that will be retried is read (for keepalive) only
 * when it is known to be this small */
#define NGX_HTTP_RTAGENT_HTTP_MAX_DISCARD   16384

#define NGX_HTTP_RTAGENT_HTTP_BACKOFF_FIRST    500
#define NGX_HTTP_RTAGENT_HTTP_BACKOFF_MAX      8000
#define NGX_HTTP_RTAGENT_HTTP_MAX_RETRIES      10

/* a streamed request body waiting to be sent, by default */
#define NGX_HTTP_RTAGENT_HTTP_MAX_QUEUED       (256 * 1024)


typedef struct {
    ngx_connection_t                  *c;
    /* which socket the fd was when we took it (see ..._http_sock_gone()) */
    dev_t                              dev;
    ino_t                              ino;
    unsigned                           used:1;
    /* opened by our open-socket callback: its close comes through ours */
    unsigned                           owned:1;
} ngx_http_rtagent_http_sock_t;


typedef struct {
    CURLM                             *multi;
    CURLSH                            *share;      /* TLS sessions */
    ngx_log_t                         *log;

    ngx_http_rtagent_http_sock_t      *socks;      /* indexed by fd */
    ngx_uint_t                         nsocks;

    ngx_http_rtagent_timer_t           timer;      /* curl's timeout */
    ngx_http_rtagent_timer_t           post;       /* deferred work */

    ngx_queue_t                        jobs;
    ngx_queue_t                        deferred;

    /* > 0 while a libcurl call that may run our callbacks is under way */
    ngx_uint_t                         in_curl;

    ngx_uint_t                         max_jobs;
    /* exit_process has begun: no new job */
    unsigned                           exiting:1;

    ngx_http_rtagent_http_stats_t      stats;
} ngx_http_rtagent_http_worker_t;


typedef struct {
    ngx_int_t                          keepalive;
    ngx_int_t                          max_jobs;
    ngx_int_t                          max_connections;
    ngx_http_rtagent_http_worker_t    *worker;
} ngx_http_rtagent_http_main_conf_t;


typedef struct {
    ngx_queue_t                        queue;
    size_t                             len;
    size_t                             pos;
    u_char                             data[1];
} ngx_http_rtagent_http_piece_t;


static void *ngx_http_rtagent_http_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_rtagent_http_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_rtagent_http_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_rtagent_http_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_rtagent_http_positive_msec(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_rtagent_http_positive_size(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_rtagent_http_file_slot(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_rtagent_http_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_rtagent_http_init_process(ngx_cycle_t *cycle);
static void ngx_http_rtagent_http_exit_process(ngx_cycle_t *cycle);

static ngx_http_rtagent_http_worker_t *ngx_http_rtagent_http_worker(void);
static ngx_http_rtagent_http_sock_t *ngx_http_rtagent_http_sock(
    ngx_http_rtagent_http_worker_t *w, curl_socket_t s, ngx_uint_t grow);
static void ngx_http_rtagent_http_free_sock(ngx_http_rtagent_http_worker_t *w,
    ngx_http_rtagent_http_sock_t *sock, ngx_uint_t closing);
static ngx_int_t ngx_http_rtagent_http_take_sock(
    ngx_http_rtagent_http_worker_t *w, ngx_http_rtagent_http_sock_t *sock,
    curl_socket_t s, ngx_uint_t owned);
static ngx_uint_t ngx_http_rtagent_http_sock_gone(
    ngx_http_rtagent_http_sock_t *sock, curl_socket_t s);
static int ngx_http_rtagent_http_socket_cb(CURL *easy, curl_socket_t s,
    int what, void *data, void *socketp);
static int ngx_http_rtagent_http_timer_cb(CURLM *multi, long timeout_ms,
    void *data);
static curl_socket_t ngx_http_rtagent_http_open_cb(void *data,
    curlsocktype purpose, struct curl_sockaddr *addr);
static int ngx_http_rtagent_http_close_cb(void *data, curl_socket_t s);
static void ngx_http_rtagent_http_event_handler(ngx_event_t *ev);
static void ngx_http_rtagent_http_timer_handler(ngx_event_t *ev);
static void ngx_http_rtagent_http_deferred_handler(ngx_event_t *ev);
static void ngx_http_rtagent_http_drain(ngx_http_rtagent_http_worker_t *w);

static size_t ngx_http_rtagent_http_header_cb(char *buf, size_t size,
    size_t n, void *data);
static ngx_int_t ngx_http_rtagent_http_headers_done(
    ngx_http_rtagent_http_job_t *job);
static size_t ngx_http_rtagent_http_write_cb(char *buf, size_t size,
    size_t n, void *data);
static size_t ngx_http_rtagent_http_read_cb(char *buf, size_t size,
    size_t n, void *data);
static int ngx_http_rtagent_http_seek_cb(void *data, curl_off_t offset,
    int origin);

static ngx_int_t ngx_http_rtagent_http_add(ngx_http_rtagent_http_job_t *job);
static void ngx_http_rtagent_http_resume(ngx_http_rtagent_http_job_t *job);
static void ngx_http_rtagent_http_defer(ngx_http_rtagent_http_job_t *job);
static void ngx_http_rtagent_http_finish_attempt(
    ngx_http_rtagent_http_job_t *job, CURLcode result);
static ngx_uint_t ngx_http_rtagent_http_retryable(CURLcode result);
static ngx_msec_t ngx_http_rtagent_http_retry_after(
    ngx_http_rtagent_http_job_t *job);
static const char *ngx_http_rtagent_http_value(
    ngx_http_rtagent_http_job_t *job, const char *name);
static void ngx_http_rtagent_http_retry_handler(ngx_event_t *ev);
static void ngx_http_rtagent_http_reset_attempt(
    ngx_http_rtagent_http_job_t *job);
static void ngx_http_rtagent_http_complete(ngx_http_rtagent_http_job_t *job,
    CURLcode result, const char *error);
static void ngx_http_rtagent_http_free(ngx_http_rtagent_http_job_t *job);
static u_char *ngx_http_rtagent_http_log_error(ngx_log_t *log, u_char *buf,
    size_t len);


static ngx_conf_num_bounds_t  ngx_http_rtagent_http_positive = {
    ngx_conf_check_num_bounds, 1, -1
};

static ngx_conf_num_bounds_t  ngx_http_rtagent_http_retries_bounds = {
    ngx_conf_check_num_bounds, 0, NGX_HTTP_RTAGENT_HTTP_MAX_RETRIES
};

static ngx_conf_post_t  ngx_http_rtagent_http_positive_msec_post = {
    ngx_http_rtagent_http_positive_msec
};

static ngx_conf_post_t  ngx_http_rtagent_http_positive_size_post = {
    ngx_http_rtagent_http_positive_size
};


static ngx_command_t  ngx_http_rtagent_http_commands[] = {

    { ngx_string("rtagent_upstream_keepalive"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_rtagent_http_main_conf_t, keepalive),
      &ngx_http_rtagent_http_positive },

    { ngx_string("rtagent_upstream_max_jobs"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_rtagent_http_main_conf_t, max_jobs),
      &ngx_http_rtagent_http_positive },

    { ngx_string("rtagent_upstream_max_connections"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_rtagent_http_main_conf_t, max_connections),
      &ngx_http_rtagent_http_positive },

    { ngx_string("rtagent_upstream_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rtagent_http_conf_t, connect_timeout),
      &ngx_http_rtagent_http_positive_msec_post },

    { ngx_string("rtagent_upstream_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rtagent_http_conf_t, timeout),
      &ngx_http_rtagent_http_positive_msec_post },

    { ngx_string("rtagent_upstream_retries"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rtagent_http_conf_t, retries),
      &ngx_http_rtagent_http_retries_bounds },

    { ngx_string("rtagent_upstream_ssl_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_http_file_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rtagent_http_conf_t, ssl_trusted_certificate),
      NULL },

    { ngx_string("rtagent_upstream_ssl_verify"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rtagent_http_conf_t, ssl_verify),
      NULL },

    { ngx_string("rtagent_upstream_max_response_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rtagent_http_conf_t, max_response_size),
      &ngx_http_rtagent_http_positive_size_post },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_rtagent_http_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_rtagent_http_create_main_conf, /* create main configuration */
    ngx_http_rtagent_http_init_main_conf,  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_rtagent_http_create_loc_conf, /* create location configuration */
    ngx_http_rtagent_http_merge_loc_conf   /* merge location configuration */
};


ngx_module_t  ngx_http_rtagent_http_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_http_module_ctx,     /* module context */
    ngx_http_rtagent_http_commands,        /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_rtagent_http_init_module,     /* init module */
    ngx_http_rtagent_http_init_process,    /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_rtagent_http_exit_process,    /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* configuration */

static void *
ngx_http_rtagent_http_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_rtagent_http_main_conf_t  *mcf;

    /*
     * set by ngx_pcalloc():
     *
     *     mcf->worker = NULL;
     */

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtagent_http_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    mcf->keepalive = NGX_CONF_UNSET;
    mcf->max_jobs = NGX_CONF_UNSET;
    mcf->max_connections = NGX_CONF_UNSET;

    return mcf;
}


static char *
ngx_http_rtagent_http_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_rtagent_http_main_conf_t *mcf = conf;

    ngx_conf_init_value(mcf->keepalive, 1024);
    ngx_conf_init_value(mcf->max_jobs, 1024);

    /* max_connections: in init_module, once worker_connections is known */

    return NGX_CONF_OK;
}


static void *
ngx_http_rtagent_http_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_rtagent_http_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtagent_http_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->ssl_trusted_certificate = { 0, NULL };
     */

    conf->connect_timeout = NGX_CONF_UNSET_MSEC;
    conf->timeout = NGX_CONF_UNSET_MSEC;
    conf->retries = NGX_CONF_UNSET;
    conf->ssl_verify = NGX_CONF_UNSET;
    conf->max_response_size = NGX_CONF_UNSET_SIZE;

    return conf;
}


static char *
ngx_http_rtagent_http_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_rtagent_http_conf_t *prev = parent;
    ngx_http_rtagent_http_conf_t *conf = child;

    ngx_conf_merge_msec_value(conf->connect_timeout, prev->connect_timeout,
                              5000);
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout, 60000);
    ngx_conf_merge_value(conf->retries, prev->retries, 2);
    ngx_conf_merge_str_value(conf->ssl_trusted_certificate,
                             prev->ssl_trusted_certificate, "");
    ngx_conf_merge_value(conf->ssl_verify, prev->ssl_verify, 1);
    ngx_conf_merge_size_value(conf->max_response_size,
                              prev->max_response_size, 4 * 1024 * 1024);

    return NGX_CONF_OK;
}


/* the stock slots parse; these say what was expected of a 0 */

static char *
ngx_http_rtagent_http_positive_msec(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *msp = data;

    ngx_str_t  *value;

    if (*msp > 0) {
        return NGX_CONF_OK;
    }

    value = cf->args->elts;

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"%V\": a time above 0 is "
                       "expected, such as 500ms or 5s", &value[1], &value[0]);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_rtagent_http_positive_size(ngx_conf_t *cf, void *post, void *data)
{
    size_t  *sp = data;

    ngx_str_t  *value;

    if (*sp > 0) {
        return NGX_CONF_OK;
    }

    value = cf->args->elts;

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"%V\": a size above 0 is "
                       "expected, such as 64k or 4m", &value[1], &value[0]);

    return NGX_CONF_ERROR;
}


/* a file that must exist when the configuration is loaded */

static char *
ngx_http_rtagent_http_file_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    ngx_str_t        *value, *sp;
    ngx_file_info_t   fi;

    sp = (ngx_str_t *) (p + cmd->offset);

    if (sp->data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *sp = value[1];

    if (sp->len == 0
        || ngx_conf_full_name(cf->cycle, sp, 1) != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\": a file name is "
                           "expected", &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    /* ngx_conf_full_name() leaves a NUL after the name, as curl needs */

    if (ngx_file_info(sp->data, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "invalid value \"%V\" in \"%V\": "
                           ngx_file_info_n " \"%s\" failed",
                           &value[1], &cmd->name, sp->data);
        return NGX_CONF_ERROR;
    }

    if (!ngx_is_file(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\": \"%s\" is not "
                           "a file", &value[1], &cmd->name, sp->data);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the worker */

/*
 * A libcurl that resolves names synchronously would block the event loop
 * for as long as DNS takes: refuse to start, at "nginx -t" already.
 */

static ngx_int_t
ngx_http_rtagent_http_init_module(ngx_cycle_t *cycle)
{
    ngx_int_t                           wc;
    ngx_event_conf_t                   *ecf;
    curl_version_info_data             *info;
    ngx_http_rtagent_http_main_conf_t  *mcf;

    info = curl_version_info(CURLVERSION_NOW);

    if (info == NULL || !(info->features & CURL_VERSION_ASYNCHDNS)) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "rtagent http: libcurl %s resolves names "
                      "synchronously (no AsynchDNS), which would block "
                      "nginx: build it with the threaded resolver or c-ares",
                      info ? info->version : "(unknown)");
        return NGX_ERROR;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_rtagent_http_module);
    if (mcf == NULL) {
        return NGX_OK;
    }

    /*
     * Every curl socket takes one of the worker's connections, and so may
     * the resolver's socketpair while a name is resolved: by default at
     * most a quarter of worker_connections go upstream, so that clients
     * always find free ones.  (Known only now: events{} may come after
     * http{}.)
     */

    ecf = ngx_event_get_conf(cycle->conf_ctx, ngx_event_core_module);
    wc = (ngx_int_t) ecf->connections;

    if (mcf->max_connections == NGX_CONF_UNSET) {
        mcf->max_connections = ngx_max(wc / 4, 1);

    } else if (mcf->max_connections >= wc) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "rtagent_upstream_max_connections %i is not below "
                      "worker_connections %i", mcf->max_connections, wc);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtagent_http_init_process(ngx_cycle_t *cycle)
{
    CURLMcode                           mrc;
    ngx_http_rtagent_http_worker_t     *w;
    ngx_http_rtagent_http_main_conf_t  *mcf;

    /* the cache manager and loader run init_process too; they make no calls */
    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_rtagent_http_module);
    if (mcf == NULL) {
        return NGX_OK;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "rtagent http: curl_global_init() failed");
        return NGX_ERROR;
    }

    w = ngx_pcalloc(cycle->pool, sizeof(ngx_http_rtagent_http_worker_t));
    if (w == NULL) {
        return NGX_ERROR;
    }

    w->log = cycle->log;

    w->multi = curl_multi_init();
    if (w->multi == NULL) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "rtagent http: curl_multi_init() failed");
        return NGX_ERROR;
    }

    /*
     * Jobs are short-lived easy handles; sharing TLS sessions lets a new
     * connection to an upstream resume instead of a full handshake.  One
     * thread uses it: no lock callbacks.
     */

    w->share = curl_share_init();

    if (w->share == NULL
        || curl_share_setopt(w->share, CURLSHOPT_SHARE,
                             CURL_LOCK_DATA_SSL_SESSION)
           != CURLSHE_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "rtagent http: curl_share_init() failed");
        return NGX_ERROR;
    }

    mrc = curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION,
                            ngx_http_rtagent_http_socket_cb);
    if (mrc == CURLM_OK) {
        mrc = curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
    }
    if (mrc == CURLM_OK) {
        mrc = curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION,
                                ngx_http_rtagent_http_timer_cb);
    }
    if (mrc == CURLM_OK) {
        mrc = curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
    }

    /*
     * curl's own default, 4 times the transfers under way, closes most
     * connections as a burst of jobs drains, and each new TLS connection
     * costs a full handshake.
     */

    if (mrc == CURLM_OK) {
        mrc = curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS,
                                (long) mcf->keepalive);
    }

    /*
     * Beyond this, curl holds new transfers back until a connection is
     * free (closing an idle cached one first) instead of opening more.
     */

    if (mrc == CURLM_OK) {
        mrc = curl_multi_setopt(w->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                                (long) mcf->max_connections);
    }

    if (mrc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "rtagent http: curl_multi_setopt() failed: %s",
                      curl_multi_strerror(mrc));
        return NGX_ERROR;
    }

    ngx_http_rtagent_timer_init(&w->timer, ngx_http_rtagent_http_timer_handler,
                                w, cycle->log);
    w->timer.event.cancelable = 1;

    ngx_http_rtagent_timer_init(&w->post,
                                ngx_http_rtagent_http_deferred_handler,
                                w, cycle->log);

    ngx_queue_init(&w->jobs);
    ngx_queue_init(&w->deferred);

    w->max_jobs = (ngx_uint_t) mcf->max_jobs;

    mcf->worker = w;

    return NGX_OK;
}


/*
 * Jobs still alive lose their curl handle; their memory stays until the
 * owner cancels them (other modules' exit_process may still do so) or the
 * process ends.  curl_multi_cleanup() closes the cached connections through
 * our close callback, which frees their nginx connections, so none is left
 * for the "open socket left" check.
 */

static void
ngx_http_rtagent_http_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                       i;
    ngx_queue_t                     *q;
    ngx_http_rtagent_http_job_t     *job;
    ngx_http_rtagent_http_worker_t  *w;

    w = ngx_http_rtagent_http_worker();
    if (w == NULL || w->multi == NULL) {
        return;
    }

    /* what other modules' exit handlers would start now is refused */
    w->exiting = 1;

    w->in_curl++;

    for (q = ngx_queue_head(&w->jobs);
         q != ngx_queue_sentinel(&w->jobs);
         q = ngx_queue_next(q))
    {
        job = ngx_queue_data(q, ngx_http_rtagent_http_job_t, queue);

        if (job->retry.event.timer_set) {
            ngx_del_timer(&job->retry.event);
        }

        if (job->in_multi) {
            (void) curl_multi_remove_handle(w->multi, job->easy);
            job->in_multi = 0;
        }

        if (job->easy) {
            curl_easy_cleanup(job->easy);
            job->easy = NULL;
        }

        job->dead = 1;
    }

    (void) curl_multi_cleanup(w->multi);
    w->multi = NULL;

    (void) curl_share_cleanup(w->share);
    w->share = NULL;

    w->in_curl--;

    /* sockets curl did not close (it should have): no fd left registered */

    for (i = 0; i < w->nsocks; i++) {
        if (w->socks[i].used) {
            ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                          "rtagent http: curl socket %ui left open", i);
            ngx_http_rtagent_http_free_sock(w, &w->socks[i], 1);
        }
    }

    if (w->timer.event.timer_set) {
        ngx_del_timer(&w->timer.event);
    }

    if (w->post.event.posted) {
        ngx_delete_posted_event(&w->post.event);
    }

    if (w->socks) {
        ngx_free(w->socks);
        w->socks = NULL;
        w->nsocks = 0;
    }

    curl_global_cleanup();
}


static ngx_http_rtagent_http_worker_t *
ngx_http_rtagent_http_worker(void)
{
    ngx_http_rtagent_http_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                              ngx_http_rtagent_http_module);

    return mcf ? mcf->worker : NULL;
}


void
ngx_http_rtagent_http_stats(ngx_http_rtagent_http_stats_t *stats)
{
    ngx_http_rtagent_http_worker_t  *w;

    w = ngx_http_rtagent_http_worker();

    if (w == NULL) {
        ngx_memzero(stats, sizeof(ngx_http_rtagent_http_stats_t));
        return;
    }

    *stats = w->stats;
}


/* the fd table */

static ngx_http_rtagent_http_sock_t *
ngx_http_rtagent_http_sock(ngx_http_rtagent_http_worker_t *w,
    curl_socket_t s, ngx_uint_t grow)
{
    ngx_uint_t                     n;
    ngx_http_rtagent_http_sock_t  *socks;

    if (s < 0) {
        return NULL;
    }

    if ((ngx_uint_t) s < w->nsocks) {
        return &w->socks[s];
    }

    if (!grow) {
        return NULL;
    }

    n = ngx_max(w->nsocks * 2, 1024);

    while (n <= (ngx_uint_t) s) {
        n *= 2;
    }

    socks = ngx_alloc(n * sizeof(ngx_http_rtagent_http_sock_t), w->log);
    if (socks == NULL) {
        return NULL;
    }

    ngx_memzero(socks, n * sizeof(ngx_http_rtagent_http_sock_t));

    if (w->socks) {
        ngx_memcpy(socks, w->socks,
                   w->nsocks * sizeof(ngx_http_rtagent_http_sock_t));
        ngx_free(w->socks);
    }

    w->socks = socks;
    w->nsocks = n;

    return &w->socks[s];
}


/*
 * Takes a socket off the event loop and frees its nginx connection, in
 * ngx_close_connection()'s order: events, then the connection, then fd -1
 * (ngx_free_connection() reads c->fd).  closing: the fd is about to be
 * closed (or was), so epoll needs no syscall.  The fd itself is left to
 * the caller.
 */

static void
ngx_http_rtagent_http_free_sock(ngx_http_rtagent_http_worker_t *w,
    ngx_http_rtagent_http_sock_t *sock, ngx_uint_t closing)
{
    ngx_uint_t         flags;
    ngx_connection_t  *c;

    c = sock->c;

    if (c != NULL) {
        flags = closing ? NGX_CLOSE_EVENT : 0;

        if (c->read->timer_set) {
            ngx_del_timer(c->read);
        }

        if (c->write->timer_set) {
            ngx_del_timer(c->write);
        }

        if (c->read->active || c->write->active) {
            if (ngx_del_conn) {
                ngx_del_conn(c, flags);

            } else {
                if (c->read->active) {
                    ngx_del_event(c->read, NGX_READ_EVENT, flags);
                }

                if (c->write->active) {
                    ngx_del_event(c->write, NGX_WRITE_EVENT, flags);
                }
            }
        }

        if (c->read->posted) {
            ngx_delete_posted_event(c->read);
        }

        if (c->write->posted) {
            ngx_delete_posted_event(c->write);
        }

        ngx_free_connection(c);
        c->fd = (ngx_socket_t) -1;

        sock->c = NULL;
        w->stats.connections--;
    }

    if (sock->used) {
        sock->used = 0;
        sock->owned = 0;
        w->stats.sockets--;
    }
}


static ngx_int_t
ngx_http_rtagent_http_take_sock(ngx_http_rtagent_http_worker_t *w,
    ngx_http_rtagent_http_sock_t *sock, curl_socket_t s, ngx_uint_t owned)
{
    struct stat  st;

    if (fstat(s, &st) == -1) {
        ngx_log_error(NGX_LOG_ALERT, w->log, ngx_errno,
                      "rtagent http: fstat(%d) failed", (int) s);
        return NGX_ERROR;
    }

    sock->dev = st.st_dev;
    sock->ino = st.st_ino;
    sock->used = 1;
    sock->owned = owned;
    w->stats.sockets++;

    return NGX_OK;
}


/*
 * Is the fd no longer the socket we registered?  libcurl 7.88 closes a
 * socket that never connected (a connect timeout, the losing address of
 * happy eyeballs) with a bare close(), bypassing our close callback, and
 * tells us CURL_POLL_REMOVE afterwards (lib/cf-socket.c, cf_socket_close).
 * By then the kernel has dropped it from epoll, and the fd number may even
 * be someone else's: no epoll call may be made for it.
 */

static ngx_uint_t
ngx_http_rtagent_http_sock_gone(ngx_http_rtagent_http_sock_t *sock,
    curl_socket_t s)
{
    struct stat  st;

    if (fstat(s, &st) == -1) {
        return 1;
    }

    return st.st_ino != sock->ino || st.st_dev != sock->dev;
}


/* libcurl's callbacks for the multi handle */

static int
ngx_http_rtagent_http_socket_cb(CURL *easy, curl_socket_t s, int what,
    void *data, void *socketp)
{
    ngx_http_rtagent_http_worker_t *w = data;

    ngx_int_t                      rc;
    ngx_connection_t              *c;
    ngx_http_rtagent_http_sock_t  *sock;

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, w->log, 0,
                   "rtagent http: curl socket %d, poll %d", (int) s, what);

    sock = ngx_http_rtagent_http_sock(w, s, 0);

    if (sock != NULL && sock->used
        && ngx_http_rtagent_http_sock_gone(sock, s))
    {
        ngx_log_debug1(NGX_LOG_DEBUG_EVENT, w->log, 0,
                       "rtagent http: curl socket %d was closed by curl",
                       (int) s);

        ngx_http_rtagent_http_free_sock(w, sock, 1);
    }

    if (what == CURL_POLL_REMOVE) {

        if (sock == NULL || sock->c == NULL) {
            /* a socket we never registered (curl/curl#17949) */
            return 0;
        }

        c = sock->c;

        if (!sock->owned) {
            /*
             * Not opened through our callback (the threaded resolver's
             * socketpair): curl closes it itself right after this, so the
             * connection goes now, while the fd is still the one we know.
             */
            ngx_http_rtagent_http_free_sock(w, sock, 0);
            return 0;
        }

        /* keep the connection: curl "might soon add it again" */

        if (c->read->active || c->write->active) {
            if (ngx_del_conn) {
                if (ngx_del_conn(c, 0) != NGX_OK) {
                    return -1;
                }

            } else {
                if (c->read->active
                    && ngx_del_event(c->read, NGX_READ_EVENT, 0) != NGX_OK)
                {
                    return -1;
                }

                if (c->write->active
                    && ngx_del_event(c->write, NGX_WRITE_EVENT, 0) != NGX_OK)
                {
                    return -1;
                }
            }
        }

        return 0;
    }

    sock = ngx_http_rtagent_http_sock(w, s, 1);
    if (sock == NULL) {
        return -1;
    }

    if (!sock->used
        && ngx_http_rtagent_http_take_sock(w, sock, s, 0) != NGX_OK)
    {
        return -1;
    }

    if (sock->c == NULL) {
        c = ngx_get_connection(s, w->log);
        if (c == NULL) {
            return -1;
        }

        c->data = w;
        c->read->handler = ngx_http_rtagent_http_event_handler;
        c->write->handler = ngx_http_rtagent_http_event_handler;
        c->read->log = w->log;
        c->write->log = w->log;

        sock->c = c;
        w->stats.connections++;
    }

    c = sock->c;
    rc = NGX_OK;

    /*
     * Level-triggered for every registration on a curl fd (NGX_LEVEL_EVENT):
     * epoll_ctl(MOD) applies the flags of this call to both directions, and
     * curl does not read or write until EAGAIN.
     */

    if (what & CURL_POLL_IN) {
        if (!c->read->active) {
            rc = ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
        }

    } else if (c->read->active) {
        rc = ngx_del_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }

    if (rc != NGX_OK) {
        return -1;
    }

    if (what & CURL_POLL_OUT) {
        if (!c->write->active) {
            rc = ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
        }

    } else if (c->write->active) {
        rc = ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }

    return rc == NGX_OK ? 0 : -1;
}


/*
 * Never calls libcurl (its documentation forbids it here): the nginx timer
 * fires at the next expiry pass, 0 ms meaning the next event-loop
 * iteration.  The timer is deleted first because ngx_add_timer() keeps an
 * old expiry that is within NGX_TIMER_LAZY_DELAY (300 ms) of the new one.
 *
 * Cancelable while no transfer runs, so an idle client never holds a
 * worker in graceful shutdown; while transfers run it holds the worker as
 * an upstream's timers do, so that a reload does not cut requests waiting
 * on a job (they end by their own timeouts or worker_shutdown_timeout).
 */

static int
ngx_http_rtagent_http_timer_cb(CURLM *multi, long timeout_ms, void *data)
{
    ngx_http_rtagent_http_worker_t *w = data;

    ngx_event_t  *ev;

    ev = &w->timer.event;

    if (ev->timer_set) {
        ngx_del_timer(ev);
    }

    if (timeout_ms >= 0) {
        ev->cancelable = (w->stats.running == 0);
        ngx_add_timer(ev, (ngx_msec_t) timeout_ms);
    }

    return 0;
}


static curl_socket_t
ngx_http_rtagent_http_open_cb(void *data, curlsocktype purpose,
    struct curl_sockaddr *addr)
{
    ngx_http_rtagent_http_worker_t *w = data;

    ngx_socket_t                   s;
    ngx_http_rtagent_http_sock_t  *sock;

    s = ngx_socket(addr->family, addr->socktype, addr->protocol);

    if (s == (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_ERR, w->log, ngx_socket_errno,
                      "rtagent http: " ngx_socket_n " failed");
        return CURL_SOCKET_BAD;
    }

    sock = ngx_http_rtagent_http_sock(w, s, 1);
    if (sock == NULL) {
        (void) ngx_close_socket(s);
        return CURL_SOCKET_BAD;
    }

    if (sock->used) {
        /* a stale entry: curl closed an fd of its own without telling us */
        ngx_http_rtagent_http_free_sock(w, sock, 1);
    }

    if (ngx_http_rtagent_http_take_sock(w, sock, s, 1) != NGX_OK) {
        (void) ngx_close_socket(s);
        return CURL_SOCKET_BAD;
    }

    return s;
}


static int
ngx_http_rtagent_http_close_cb(void *data, curl_socket_t s)
{
    ngx_http_rtagent_http_worker_t *w = data;

    ngx_http_rtagent_http_sock_t  *sock;

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, w->log, 0,
                   "rtagent http: close curl socket %d", (int) s);

    sock = ngx_http_rtagent_http_sock(w, s, 0);

    if (sock != NULL && sock->used) {
        ngx_http_rtagent_http_free_sock(w, sock, 1);
    }

    if (ngx_close_socket(s) == -1) {
        ngx_log_error(NGX_LOG_ALERT, w->log, ngx_socket_errno,
                      "rtagent http: " ngx_close_socket_n " %d failed",
                      (int) s);
        return 1;
    }

    return 0;
}


/* nginx events that drive libcurl */

static void
ngx_http_rtagent_http_event_handler(ngx_event_t *ev)
{
    int                              running, mask;
    CURLMcode                        mrc;
    ngx_socket_t                     fd;
    ngx_connection_t                *c;
    ngx_http_rtagent_http_worker_t  *w;

    c = ev->data;
    w = c->data;

    /* read before the call: our callbacks inside it may free c */
    fd = c->fd;
    mask = ev->write ? CURL_CSELECT_OUT : CURL_CSELECT_IN;

    w->in_curl++;
    mrc = curl_multi_socket_action(w->multi, fd, mask, &running);
    w->in_curl--;

    if (mrc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "rtagent http: curl_multi_socket_action(%d) failed: %s",
                      fd, curl_multi_strerror(mrc));
    }

    ngx_http_rtagent_http_drain(w);
}


static void
ngx_http_rtagent_http_timer_handler(ngx_event_t *ev)
{
    int                              running;
    CURLMcode                        mrc;
    ngx_http_rtagent_timer_t        *t;
    ngx_http_rtagent_http_worker_t  *w;

    t = ev->data;
    w = t->data;

    w->in_curl++;
    mrc = curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0,
                                   &running);
    w->in_curl--;

    if (mrc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ALERT, w->log, 0,
                      "rtagent http: curl_multi_socket_action() failed: %s",
                      curl_multi_strerror(mrc));
    }

    ngx_http_rtagent_http_drain(w);
}


/* finished transfers; curl_multi_remove_handle() is safe here */

static void
ngx_http_rtagent_http_drain(ngx_http_rtagent_http_worker_t *w)
{
    int                           left;
    char                         *p;
    CURLMsg                      *msg;
    CURLcode                      result;
    ngx_http_rtagent_http_job_t  *job;

    if (w->in_curl || w->multi == NULL) {
        return;
    }

    for ( ;; ) {
        msg = curl_multi_info_read(w->multi, &left);

        if (msg == NULL) {
            break;
        }

        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        p = NULL;
        (void) curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
        job = (ngx_http_rtagent_http_job_t *) p;

        result = msg->data.result;

        if (job == NULL || job->cancelled) {
            /* a cancelled job is removed and freed by the posted event */
            continue;
        }

        ngx_http_rtagent_http_finish_attempt(job, result);
    }
}


static void
ngx_http_rtagent_http_deferred_handler(ngx_event_t *ev)
{
    ngx_queue_t                     *q;
    ngx_http_rtagent_timer_t        *t;
    ngx_http_rtagent_http_job_t     *job;
    ngx_http_rtagent_http_worker_t  *w;

    t = ev->data;
    w = t->data;

    while (!ngx_queue_empty(&w->deferred)) {
        q = ngx_queue_head(&w->deferred);
        ngx_queue_remove(q);

        job = ngx_queue_data(q, ngx_http_rtagent_http_job_t, deferred);
        job->on_deferred = 0;

        if (job->cancelled) {
            ngx_http_rtagent_http_free(job);
            continue;
        }

        if (job->state == NGX_HTTP_RTAGENT_HTTP_DONE) {
            job->notifying = 1;

            if (job->on_done) {
                job->on_done(job);
            }

            ngx_http_rtagent_http_free(job);
            continue;
        }

        if (job->start_pending) {
            job->start_pending = 0;

            if (ngx_http_rtagent_http_add(job) != NGX_OK) {
                ngx_http_rtagent_http_complete(job, CURLE_OK,
                                              "curl_multi_add_handle() failed");
                continue;
            }
        }

        if (job->resume_pending) {
            job->resume_pending = 0;
            ngx_http_rtagent_http_resume(job);
        }
    }

    ngx_http_rtagent_http_drain(w);
}


static void
ngx_http_rtagent_http_defer(ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_http_worker_t  *w;

    w = ngx_http_rtagent_http_worker();

    if (!job->on_deferred) {
        ngx_queue_insert_tail(&w->deferred, &job->deferred);
        job->on_deferred = 1;
    }

    ngx_post_event(&w->post.event, &ngx_posted_events);
}


/* the job API */

ngx_http_rtagent_http_job_t *
ngx_http_rtagent_http_create(ngx_http_rtagent_http_conf_t *conf,
    ngx_log_t *log, ngx_str_t *call_id, ngx_str_t *method, ngx_str_t *url)
{
    char                            *host, *port, *scheme;
    CURLU                           *u;
    CURLUcode                        urc;
    ngx_str_t                        dash = ngx_string("-");
    ngx_uint_t                       ok;
    ngx_pool_t                      *pool;
    ngx_http_rtagent_http_job_t     *job;
    ngx_http_rtagent_http_worker_t  *w;

    w = ngx_http_rtagent_http_worker();

    if (w != NULL && (w->exiting || ngx_terminate)) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "rtagent http: %V \"%V\" refused: the worker is "
                      "exiting, call: %V", method, url,
                      call_id != NULL && call_id->len ? call_id : &dash);
        return NULL;
    }

    if (w == NULL || w->multi == NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "rtagent http: no client in this process");
        return NULL;
    }

    if (method->len == 0 || url->len == 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rtagent http: a job needs a method and a url");
        return NULL;
    }

    pool = ngx_create_pool(2048, log);
    if (pool == NULL) {
        return NULL;
    }

    job = ngx_pcalloc(pool, sizeof(ngx_http_rtagent_http_job_t));
    if (job == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    job->pool = pool;

    /*
     * The job's own log: the caller's may go before the job, and every
     * line should name the call and the upstream.
     */

    job->log = *log;
    job->log.handler = ngx_http_rtagent_http_log_error;
    job->log.data = job;
    job->log.action = NULL;
    pool->log = &job->log;

    job->conf = conf;
    job->connect_timeout = conf->connect_timeout;
    job->timeout = conf->timeout;
    job->retries = conf->retries;
    job->max_response_size = conf->max_response_size;
    job->max_queued = NGX_HTTP_RTAGENT_HTTP_MAX_QUEUED;
    job->stream_length = -1;
    job->rc = NGX_ERROR;

    ngx_queue_init(&job->pieces);
    ngx_queue_insert_tail(&w->jobs, &job->queue);
    w->stats.jobs++;

    /* not cancelable: a job waiting to retry is still under way */
    ngx_http_rtagent_timer_init(&job->retry,
                                ngx_http_rtagent_http_retry_handler, job,
                                &job->log);

    /* from here on, failures free the job through cancel */

    job->method.data = ngx_pnalloc(pool, method->len + 1);
    job->url.data = ngx_pnalloc(pool, url->len + 1);
    job->errbuf = ngx_pcalloc(pool, CURL_ERROR_SIZE);

    if (job->method.data == NULL || job->url.data == NULL
        || job->errbuf == NULL)
    {
        goto failed;
    }

    job->method.len = method->len;
    ngx_memcpy(job->method.data, method->data, method->len);
    job->method.data[method->len] = '\0';

    job->url.len = url->len;
    ngx_memcpy(job->url.data, url->data, url->len);
    job->url.data[url->len] = '\0';

    if (call_id != NULL && call_id->len) {
        job->call_id.data = ngx_pstrdup(pool, call_id);
        if (job->call_id.data == NULL) {
            goto failed;
        }

        job->call_id.len = call_id->len;

    } else {
        ngx_str_set(&job->call_id, "-");
    }

    /* the upstream, for log lines; this also checks the url */

    u = curl_url();
    if (u == NULL) {
        goto failed;
    }

    host = NULL;
    port = NULL;
    scheme = NULL;

    urc = curl_url_set(u, CURLUPART_URL, (char *) job->url.data, 0);

    if (urc == CURLUE_OK) {
        urc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    }

    if (urc == CURLUE_OK) {
        urc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    }

    if (urc == CURLUE_OK) {
        urc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    }

    ok = (urc == CURLUE_OK
          && (ngx_strcmp(scheme, "https") == 0
              || ngx_strcmp(scheme, "http") == 0));

    if (ok) {
        job->host.len = ngx_strlen(host) + 1 + ngx_strlen(port);
        job->host.data = ngx_pnalloc(pool, job->host.len);

        if (job->host.data != NULL) {
            (void) ngx_sprintf(job->host.data, "%s:%s", host, port);

        } else {
            job->host.len = 0;
        }
    }

    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);

    if (!ok) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rtagent http: invalid url \"%V\": %s", url,
                      urc == CURLUE_OK ? "not http or https"
                                       : curl_url_strerror(urc));
        goto failed;
    }

    if (job->host.len == 0) {
        goto failed;
    }

    job->easy = curl_easy_init();
    if (job->easy == NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "rtagent http: curl_easy_init() failed");
        goto failed;
    }

    return job;

failed:

    ngx_http_rtagent_http_free(job);
    return NULL;
}


ngx_int_t
ngx_http_rtagent_http_add_header(ngx_http_rtagent_http_job_t *job,
    ngx_str_t *name, ngx_str_t *value)
{
    u_char             *line, *p;
    struct curl_slist  *list;

    if (job->state != NGX_HTTP_RTAGENT_HTTP_NEW) {
        return NGX_ERROR;
    }

    /* "Name;" is how curl sends a header with an empty value */

    line = ngx_pnalloc(job->pool, name->len + value->len + 3);
    if (line == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(line, name->data, name->len);

    if (value->len) {
        *p++ = ':';
        *p++ = ' ';
        p = ngx_cpymem(p, value->data, value->len);

    } else {
        *p++ = ':';
    }

    *p = '\0';

    list = curl_slist_append(job->req_headers, (char *) line);
    if (list == NULL) {
        return NGX_ERROR;
    }

    job->req_headers = list;

    return NGX_OK;
}


ngx_int_t
ngx_http_rtagent_http_add_key(ngx_http_rtagent_http_job_t *job,
    ngx_uint_t azure, ngx_str_t *key, ngx_str_t *token)
{
    ngx_str_t  name, value, *secret;

    if (azure && key->len) {
        ngx_str_set(&name, "api-key");
        return ngx_http_rtagent_http_add_header(job, &name, key);
    }

    secret = (token && token->len) ? token : key;

    if (secret->len == 0) {
        return NGX_OK;
    }

    value.data = ngx_pnalloc(job->pool, sizeof("Bearer ") - 1 + secret->len);
    if (value.data == NULL) {
        return NGX_ERROR;
    }

    value.len = ngx_cpymem(ngx_cpymem(value.data, "Bearer ", 7), secret->data,
                           secret->len)
                - value.data;
    ngx_str_set(&name, "Authorization");

    return ngx_http_rtagent_http_add_header(job, &name, &value);
}


ngx_int_t
ngx_http_rtagent_http_set_body(ngx_http_rtagent_http_job_t *job,
    u_char *data, size_t len)
{
    if (job->state != NGX_HTTP_RTAGENT_HTTP_NEW || job->streaming) {
        return NGX_ERROR;
    }

    job->req_body.data = ngx_pnalloc(job->pool, len + 1);
    if (job->req_body.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(job->req_body.data, data, len);
    job->req_body.len = len;

    return NGX_OK;
}


ngx_int_t
ngx_http_rtagent_http_stream_body(ngx_http_rtagent_http_job_t *job,
    off_t length)
{
    if (job->state != NGX_HTTP_RTAGENT_HTTP_NEW || job->req_body.data) {
        return NGX_ERROR;
    }

    job->streaming = 1;
    job->stream_length = length < 0 ? -1 : length;

    return NGX_OK;
}


ngx_int_t
ngx_http_rtagent_http_start(ngx_http_rtagent_http_job_t *job)
{
    CURL                            *easy;
    ngx_uint_t                       cc;
    struct curl_slist               *list;
    ngx_http_rtagent_http_conf_t    *conf;
    ngx_http_rtagent_http_worker_t  *w;

    w = ngx_http_rtagent_http_worker();

    /* first: exit_process took the curl handle of a job not started */

    if (w->exiting || ngx_terminate) {
        ngx_log_error(NGX_LOG_WARN, &job->log, 0,
                      "rtagent http: %V %V refused: the worker is exiting",
                      &job->method, &job->host);
        return NGX_DECLINED;
    }

    if (job->state != NGX_HTTP_RTAGENT_HTTP_NEW || job->easy == NULL) {
        return NGX_ERROR;
    }

    if (w->stats.active >= w->max_jobs) {
        w->stats.refused++;
        ngx_log_error(NGX_LOG_ERR, &job->log, 0,
                      "rtagent http: %V %V refused: %ui upstream jobs are "
                      "under way in this worker (rtagent_upstream_max_jobs)",
                      &job->method, &job->host, w->stats.active);
        return NGX_BUSY;
    }

    easy = job->easy;
    conf = job->conf;

    /* curl would wait up to 1 s for a "100 Continue" on larger bodies */

    list = curl_slist_append(job->req_headers, "Expect:");
    if (list == NULL) {
        return NGX_ERROR;
    }

    job->req_headers = list;

    /* any failure leaves cc non-zero; setopt fails only on bad input */

    cc = 0;

    cc |= curl_easy_setopt(easy, CURLOPT_URL, (char *) job->url.data);
    cc |= curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *) job);
    cc |= curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    cc |= curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, (char *) job->errbuf);
    cc |= curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    cc |= curl_easy_setopt(easy, CURLOPT_HTTP_VERSION,
                           (long) CURL_HTTP_VERSION_1_1);
    cc |= curl_easy_setopt(easy, CURLOPT_USERAGENT, "rtagent");
    cc |= curl_easy_setopt(easy, CURLOPT_HTTPHEADER, job->req_headers);

    cc |= curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                           (long) job->connect_timeout);
    cc |= curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long) job->timeout);

    cc |= curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION,
                           ngx_http_rtagent_http_header_cb);
    cc |= curl_easy_setopt(easy, CURLOPT_HEADERDATA, job);
    cc |= curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION,
                           ngx_http_rtagent_http_write_cb);
    cc |= curl_easy_setopt(easy, CURLOPT_WRITEDATA, job);

    /* the close callback may run after the job is gone: its data is ours */

    cc |= curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION,
                           ngx_http_rtagent_http_open_cb);
    cc |= curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA,
                           ngx_http_rtagent_http_worker());
    cc |= curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION,
                           ngx_http_rtagent_http_close_cb);
    cc |= curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA,
                           ngx_http_rtagent_http_worker());

    cc |= curl_easy_setopt(easy, CURLOPT_SHARE,
                           ngx_http_rtagent_http_worker()->share);

    cc |= curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER,
                           conf->ssl_verify ? 1L : 0L);
    cc |= curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST,
                           conf->ssl_verify ? 2L : 0L);

    if (conf->ssl_trusted_certificate.len) {
        cc |= curl_easy_setopt(easy, CURLOPT_CAINFO,
                               (char *) conf->ssl_trusted_certificate.data);
    }

    if (job->streaming) {
        cc |= curl_easy_setopt(easy, CURLOPT_POST, 1L);
        cc |= curl_easy_setopt(easy, CURLOPT_READFUNCTION,
                               ngx_http_rtagent_http_read_cb);
        cc |= curl_easy_setopt(easy, CURLOPT_READDATA, job);
        cc |= curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION,
                               ngx_http_rtagent_http_seek_cb);
        cc |= curl_easy_setopt(easy, CURLOPT_SEEKDATA, job);

        /* -1: unknown, sent with chunked transfer-encoding */
        cc |= curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                               (curl_off_t) job->stream_length);

    } else if (job->req_body.data) {
        cc |= curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                               (curl_off_t) job->req_body.len);
        cc |= curl_easy_setopt(easy, CURLOPT_POSTFIELDS,
                               (char *) job->req_body.data);

    } else if (job->method.len == 4
               && ngx_strncmp(job->method.data, "HEAD", 4) == 0)
    {
        cc |= curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    }

    if (job->streaming || job->req_body.data) {
        if (job->method.len != 4
            || ngx_strncmp(job->method.data, "POST", 4) != 0)
        {
            cc |= curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST,
                                   (char *) job->method.data);
        }

    } else if (job->method.len != 3
               || ngx_strncmp(job->method.data, "GET", 3) != 0)
    {
        if (job->method.len != 4
            || ngx_strncmp(job->method.data, "HEAD", 4) != 0)
        {
            cc |= curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST,
                                   (char *) job->method.data);
        }
    }

    if (cc != 0) {
        ngx_log_error(NGX_LOG_ERR, &job->log, 0,
                      "rtagent http: curl_easy_setopt() failed");
        return NGX_ERROR;
    }

    job->state = NGX_HTTP_RTAGENT_HTTP_RUNNING;
    job->attempts = 1;

    if (ngx_http_rtagent_http_add(job) != NGX_OK) {
        job->state = NGX_HTTP_RTAGENT_HTTP_NEW;
        return NGX_ERROR;
    }

    /* under way until complete() or until freed, whichever comes first */
    job->active = 1;
    w->stats.active++;
    w->stats.started++;

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtagent_http_add(ngx_http_rtagent_http_job_t *job)
{
    CURLMcode                        mrc;
    ngx_http_rtagent_http_worker_t  *w;

    w = ngx_http_rtagent_http_worker();

    if (w->in_curl) {
        job->start_pending = 1;
        ngx_http_rtagent_http_defer(job);
        return NGX_OK;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, &job->log, 0,
                   "rtagent http: %V %V attempt %ui, call: %V",
                   &job->method, &job->host, job->attempts, &job->call_id);

    /* counted first: the timer callback inside looks at it */
    w->stats.running++;

    w->in_curl++;
    mrc = curl_multi_add_handle(w->multi, job->easy);
    w->in_curl--;

    if (mrc != CURLM_OK) {
        w->stats.running--;
        ngx_log_error(NGX_LOG_ALERT, &job->log, 0,
                      "rtagent http: curl_multi_add_handle() failed: %s",
                      curl_multi_strerror(mrc));
        return NGX_ERROR;
    }

    job->in_multi = 1;

    return NGX_OK;
}


ngx_int_t
ngx_http_rtagent_http_write(ngx_http_rtagent_http_job_t *job, u_char *data,
    size_t len, ngx_uint_t last)
{
    ngx_http_rtagent_http_piece_t  *piece;

    if (!job->streaming || job->body_last || job->cancelled || job->dead
        || job->state == NGX_HTTP_RTAGENT_HTTP_DONE)
    {
        return NGX_DECLINED;
    }

    if (job->stream_length >= 0
        && (off_t) len > job->stream_length - job->written)
    {
        return NGX_DECLINED;
    }

    if (len > job->max_queued - ngx_min(job->queued, job->max_queued)) {

        /* backpressure: the owner writes faster than the upstream takes */

        if (!job->queue_full_logged) {
            job->queue_full_logged = 1;
            ngx_log_error(NGX_LOG_WARN, &job->log, 0,
                          "rtagent http: %V %V upload queue full: %uz bytes "
                          "not sent yet, %uz more refused",
                          &job->method, &job->host, job->queued, len);
        }

        return NGX_AGAIN;
    }

    if (len) {
        piece = ngx_alloc(offsetof(ngx_http_rtagent_http_piece_t, data) + len,
                          &job->log);
        if (piece == NULL) {
            return NGX_ERROR;
        }

        piece->len = len;
        piece->pos = 0;
        ngx_memcpy(piece->data, data, len);

        ngx_queue_insert_tail(&job->pieces, &piece->queue);
        job->queued += len;
        job->written += len;
    }

    if (last) {
        job->body_last = 1;
    }

    if (job->read_paused) {
        ngx_http_rtagent_http_resume(job);
    }

    return NGX_OK;
}


static void
ngx_http_rtagent_http_resume(ngx_http_rtagent_http_job_t *job)
{
    CURLcode                         rc;
    ngx_http_rtagent_http_worker_t  *w;

    if (!job->in_multi || !job->read_paused) {
        return;
    }

    w = ngx_http_rtagent_http_worker();

    if (w->in_curl) {
        job->resume_pending = 1;
        ngx_http_rtagent_http_defer(job);
        return;
    }

    job->read_paused = 0;

    w->in_curl++;
    rc = curl_easy_pause(job->easy, CURLPAUSE_CONT);
    w->in_curl--;

    if (rc != CURLE_OK) {
        ngx_log_error(NGX_LOG_ALERT, &job->log, 0,
                      "rtagent http: curl_easy_pause() failed: %s",
                      curl_easy_strerror(rc));
    }

    ngx_http_rtagent_http_drain(w);
}


void
ngx_http_rtagent_http_cancel(ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_http_worker_t  *w;

    if (job == NULL || job->notifying || job->cancelled) {
        return;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, &job->log, 0,
                   "rtagent http: %V %V cancelled, call: %V",
                   &job->method, &job->host, &job->call_id);

    job->cancelled = 1;
    job->on_header = NULL;
    job->on_data = NULL;
    job->on_done = NULL;

    w = ngx_http_rtagent_http_worker();

    if (w != NULL && w->in_curl) {
        /* curl_multi_remove_handle() is not allowed inside a callback */
        ngx_http_rtagent_http_defer(job);
        return;
    }

    ngx_http_rtagent_http_free(job);
}


ngx_str_t *
ngx_http_rtagent_http_header(ngx_http_rtagent_http_job_t *job,
    const char *name)
{
    size_t      len;
    ngx_str_t  *v;
    const char *value;

    value = ngx_http_rtagent_http_value(job, name);
    if (value == NULL) {
        return NULL;
    }

    len = ngx_strlen(value);

    v = ngx_palloc(job->pool, sizeof(ngx_str_t));
    if (v == NULL) {
        return NULL;
    }

    v->data = ngx_pnalloc(job->pool, len + 1);
    if (v->data == NULL) {
        return NULL;
    }

    ngx_memcpy(v->data, value, len + 1);
    v->len = len;

    return v;
}


/*
 * A header of the response under way, parsed by curl: its value (NUL-
 * terminated, spaces around it removed), valid until the next libcurl
 * call on the handle, or NULL.
 */

static const char *
ngx_http_rtagent_http_value(ngx_http_rtagent_http_job_t *job,
    const char *name)
{
    struct curl_header  *h;

    if (job->easy == NULL || !job->headers_done) {
        return NULL;
    }

    if (curl_easy_header(job->easy, name, 0, CURLH_HEADER, -1, &h)
        != CURLHE_OK)
    {
        return NULL;
    }

    return h->value;
}


/* libcurl's callbacks for one transfer */

/*
 * curl parses the response headers (CURLINFO_RESPONSE_CODE,
 * curl_easy_header()); here their size is bounded, and the empty line that
 * ends them is where the attempt's fate is decided.
 */

static size_t
ngx_http_rtagent_http_header_cb(char *buf, size_t size, size_t n, void *data)
{
    ngx_http_rtagent_http_job_t *job = data;

    long    code;
    size_t  len;

    len = size * n;

    if (job->cancelled) {
        return 0;
    }

    if (job->headers_done) {
        /* trailers */
        return len;
    }

    job->header_bytes += len;

    if (job->header_bytes > NGX_HTTP_RTAGENT_HTTP_MAX_HEADERS) {
        job->error = "response headers too large";
        return 0;
    }

    if (!(len == 2 && buf[0] == CR && buf[1] == LF)
        && !(len == 1 && buf[0] == LF))
    {
        return len;
    }

    code = 0;
    (void) curl_easy_getinfo(job->easy, CURLINFO_RESPONSE_CODE, &code);

    if (code < 200) {
        /* the end of a 1xx: the final response follows */
        job->header_bytes = 0;
        return len;
    }

    job->status = (ngx_uint_t) code;

    return ngx_http_rtagent_http_headers_done(job) == NGX_OK ? len : 0;
}


/*
 * The final response's headers are in: either this attempt will be retried
 * (and its response stays unseen), or the owner gets it.
 */

static ngx_int_t
ngx_http_rtagent_http_headers_done(ngx_http_rtagent_http_job_t *job)
{
    ngx_uint_t   retry;
    curl_off_t   cl;
    const char  *v;

    job->headers_done = 1;

    cl = -1;
    (void) curl_easy_getinfo(job->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
                             &cl);

    if (job->attempts <= job->retries && !job->body_sent) {
        v = ngx_http_rtagent_http_value(job, "x-should-retry");

        if (v != NULL && ngx_strcasecmp((u_char *) v, (u_char *) "true") == 0)
        {
            retry = 1;

        } else if (v != NULL
                   && ngx_strcasecmp((u_char *) v, (u_char *) "false") == 0)
        {
            retry = 0;

        } else {
            retry = (job->status == 408 || job->status == 409
                     || job->status == 429 || job->status >= 500);
        }

        if (retry) {
            job->discard = 1;
            job->retry_delay = ngx_http_rtagent_http_retry_after(job);

            /* a long or unknown body would delay the retry: drop it */
            return (cl >= 0 && cl <= NGX_HTTP_RTAGENT_HTTP_MAX_DISCARD)
                   ? NGX_OK : NGX_ERROR;
        }
    }

    if (job->on_data == NULL && cl > (curl_off_t) job->max_response_size) {
        job->too_large = 1;
        return NGX_ERROR;
    }

    job->delivered = 1;

    if (job->on_header) {
        job->on_header(job);

        if (job->cancelled) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static size_t
ngx_http_rtagent_http_write_cb(char *buf, size_t size, size_t n, void *data)
{
    ngx_http_rtagent_http_job_t *job = data;

    u_char  *p;
    size_t   len, want;

    len = size * n;

    if (job->cancelled) {
        return 0;
    }

    if (job->discard) {
        job->discarded += len;
        return job->discarded <= NGX_HTTP_RTAGENT_HTTP_MAX_DISCARD ? len : 0;
    }

    job->received += len;

    if (job->on_data) {
        job->on_data(job, (u_char *) buf, len);
        return job->cancelled ? 0 : len;
    }

    if (len > job->max_response_size - job->body.len) {
        job->too_large = 1;
        return 0;
    }

    if (job->body.len + len > job->body_size) {
        want = ngx_max(job->body_size * 2, job->body.len + len);
        want = ngx_max(want, 4096);
        want = ngx_min(want, job->max_response_size);

        p = ngx_alloc(want, &job->log);
        if (p == NULL) {
            job->error = "out of memory";
            return 0;
        }

        if (job->body.len) {
            ngx_memcpy(p, job->body.data, job->body.len);
        }

        if (job->body.data) {
            ngx_free(job->body.data);
        }

        job->body.data = p;
        job->body_size = want;
    }

    ngx_memcpy(job->body.data + job->body.len, buf, len);
    job->body.len += len;

    return len;
}


static size_t
ngx_http_rtagent_http_read_cb(char *buf, size_t size, size_t n, void *data)
{
    ngx_http_rtagent_http_job_t *job = data;

    size_t                          want, got, k;
    ngx_queue_t                    *q;
    ngx_http_rtagent_http_piece_t  *piece;

    if (job->cancelled) {
        return CURL_READFUNC_ABORT;
    }

    want = size * n;
    got = 0;

    while (got < want && !ngx_queue_empty(&job->pieces)) {
        q = ngx_queue_head(&job->pieces);
        piece = ngx_queue_data(q, ngx_http_rtagent_http_piece_t, queue);

        k = ngx_min(piece->len - piece->pos, want - got);
        ngx_memcpy(buf + got, piece->data + piece->pos, k);

        piece->pos += k;
        got += k;
        job->queued -= k;

        if (piece->pos == piece->len) {
            ngx_queue_remove(q);
            ngx_free(piece);
        }
    }

    if (got) {
        job->body_sent = 1;
        return got;
    }

    if (job->body_last) {
        return 0;
    }

    /* nothing queued yet: ngx_http_rtagent_http_write() unpauses */

    job->read_paused = 1;

    return CURL_READFUNC_PAUSE;
}


/* curl rewinds the body to resend it; possible while none of it was read */

static int
ngx_http_rtagent_http_seek_cb(void *data, curl_off_t offset, int origin)
{
    ngx_http_rtagent_http_job_t *job = data;

    if (offset == 0 && origin == SEEK_SET && !job->body_sent) {
        return CURL_SEEKFUNC_OK;
    }

    return CURL_SEEKFUNC_CANTSEEK;
}


/* the end of an attempt: retry, or the job is done */

static void
ngx_http_rtagent_http_finish_attempt(ngx_http_rtagent_http_job_t *job,
    CURLcode result)
{
    ngx_uint_t                       retry, n;
    ngx_msec_t                       delay;
    curl_off_t                       tcp, tls, fb, total;
    const char                      *why;
    ngx_http_rtagent_http_worker_t  *w;

    w = ngx_http_rtagent_http_worker();

    tcp = 0;
    tls = 0;
    fb = 0;
    total = 0;

    (void) curl_easy_getinfo(job->easy, CURLINFO_CONNECT_TIME_T, &tcp);
    (void) curl_easy_getinfo(job->easy, CURLINFO_APPCONNECT_TIME_T, &tls);
    (void) curl_easy_getinfo(job->easy, CURLINFO_STARTTRANSFER_TIME_T, &fb);
    (void) curl_easy_getinfo(job->easy, CURLINFO_TOTAL_TIME_T, &total);

    job->time_connect = tls ? tls : tcp;
    job->time_first_byte = fb;
    job->time_total = total;

    w->in_curl++;
    (void) curl_multi_remove_handle(w->multi, job->easy);
    w->in_curl--;

    job->in_multi = 0;
    w->stats.running--;

#if (NGX_DEBUG)
    /* the log handler does not run for debug lines: name the call here */

    ngx_log_debug(NGX_LOG_DEBUG_HTTP, &job->log, 0,
                  "rtagent http: %V %V attempt %ui: status %ui, "
                  "connect %.3fms, tls %.3fms, first byte %.3fms, "
                  "total %.3fms, call: %V",
                  &job->method, &job->host, job->attempts, job->status,
                  tcp / 1000.0, tls / 1000.0, fb / 1000.0, total / 1000.0,
                  &job->call_id);

    if (result != CURLE_OK) {
        ngx_log_debug(NGX_LOG_DEBUG_HTTP, &job->log, 0,
                      "rtagent http: %V %V attempt %ui: curl error %d: %s, "
                      "call: %V",
                      &job->method, &job->host, job->attempts, (int) result,
                      job->errbuf[0] ? (char *) job->errbuf
                                     : curl_easy_strerror(result),
                      &job->call_id);
    }
#endif

    if (job->discard) {
        retry = 1;

    } else {
        retry = (result != CURLE_OK
                 && !job->delivered
                 && !job->body_sent
                 && !job->too_large
                 && job->error == NULL
                 && job->attempts <= job->retries
                 && ngx_http_rtagent_http_retryable(result));
    }

    if (!retry) {
        ngx_http_rtagent_http_complete(job, result, NULL);
        return;
    }

    delay = job->retry_delay;

    if (delay == 0) {
        /* 0.5 s * 2^n, at most 8 s, minus 0-25 % jitter (PROTOCOLS 5.4) */
        n = ngx_min(job->attempts - 1, 4);
        delay = ngx_min(NGX_HTTP_RTAGENT_HTTP_BACKOFF_FIRST << n,
                        NGX_HTTP_RTAGENT_HTTP_BACKOFF_MAX);
        delay -= delay * (ngx_random() % 2501) / 10000;
    }

    if (job->discard) {
        why = "status";

    } else {
        why = job->errbuf[0] ? (char *) job->errbuf
                             : curl_easy_strerror(result);
    }

    if (job->discard) {
        ngx_log_error(NGX_LOG_INFO, &job->log, 0,
                      "rtagent http: %V %V status %ui, retrying in %Mms "
                      "(attempt %ui of %ui)",
                      &job->method, &job->host, job->status, delay,
                      job->attempts + 1, job->retries + 1);

    } else {
        ngx_log_error(NGX_LOG_INFO, &job->log, 0,
                      "rtagent http: %V %V %s, retrying in %Mms "
                      "(attempt %ui of %ui)",
                      &job->method, &job->host, why, delay,
                      job->attempts + 1, job->retries + 1);
    }

    ngx_http_rtagent_http_reset_attempt(job);

    job->attempts++;
    job->state = NGX_HTTP_RTAGENT_HTTP_BACKOFF;
    w->stats.retried++;

    ngx_add_timer(&job->retry.event, delay);
}


static ngx_uint_t
ngx_http_rtagent_http_retryable(CURLcode result)
{
    switch (result) {

    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return 1;

    default:
        return 0;
    }
}


/* retry-after-ms, else Retry-After; 0 when absent or out of (0, 120 s] */

static ngx_msec_t
ngx_http_rtagent_http_retry_after(ngx_http_rtagent_http_job_t *job)
{
    size_t       len;
    time_t       t, now;
    uint64_t     ms;
    const char  *v;

    v = ngx_http_rtagent_http_value(job, "retry-after-ms");

    if (v != NULL
        && ngx_http_rtagent_retry_after_parse((u_char *) v, ngx_strlen(v), 1,
                                              &ms)
           == 0
        && ngx_http_rtagent_retry_after_ok(ms))
    {
        return (ngx_msec_t) ms;
    }

    v = ngx_http_rtagent_http_value(job, "retry-after");

    if (v == NULL) {
        return 0;
    }

    len = ngx_strlen(v);

    if (ngx_http_rtagent_retry_after_parse((u_char *) v, len, 1000, &ms) == 0) {
        return ngx_http_rtagent_retry_after_ok(ms) ? (ngx_msec_t) ms : 0;
    }

    /* an HTTP date */

    t = ngx_parse_http_time((u_char *) v, len);
    now = ngx_time();

    if (t == NGX_ERROR || t <= now) {
        return 0;
    }

    ms = (uint64_t) (t - now) * 1000;

    return ngx_http_rtagent_retry_after_ok(ms) ? (ngx_msec_t) ms : 0;
}


static void
ngx_http_rtagent_http_retry_handler(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t     *t;
    ngx_http_rtagent_http_job_t  *job;

    t = ev->data;
    job = t->data;

    job->state = NGX_HTTP_RTAGENT_HTTP_RUNNING;

    if (ngx_http_rtagent_http_add(job) != NGX_OK) {
        ngx_http_rtagent_http_complete(job, CURLE_OK,
                                      "curl_multi_add_handle() failed");
    }
}


static void
ngx_http_rtagent_http_reset_attempt(ngx_http_rtagent_http_job_t *job)
{
    job->status = 0;
    job->headers_done = 0;
    job->header_bytes = 0;
    job->discard = 0;
    job->discarded = 0;
    job->retry_delay = 0;
    job->received = 0;
    job->body.len = 0;
    job->read_paused = 0;
    job->error = NULL;
    job->errbuf[0] = '\0';
}


/*
 * The job's result is final.  Failures are logged here, once; on_done runs
 * from the posted event.
 */

static void
ngx_http_rtagent_http_complete(ngx_http_rtagent_http_job_t *job,
    CURLcode result, const char *error)
{
    ngx_http_rtagent_http_worker_t  *w;

    w = ngx_http_rtagent_http_worker();

    if (error == NULL && result == CURLE_OK && job->error == NULL
        && job->delivered)
    {
        job->rc = NGX_OK;

        if (job->status >= 400) {
            ngx_log_error(NGX_LOG_ERR, &job->log, 0,
                          "rtagent http: %V %V status %ui after %ui "
                          "attempt%s",
                          &job->method, &job->host, job->status,
                          job->attempts, job->attempts == 1 ? "" : "s");
        }

    } else {
        job->rc = NGX_ERROR;
        job->timedout = (result == CURLE_OPERATION_TIMEDOUT);

        if (error != NULL) {
            job->error = error;

        } else if (job->too_large) {
            job->error = "response too large";

        } else if (job->error == NULL && result == CURLE_OK) {
            job->error = "no response";

        } else if (job->error == NULL) {
            job->error = job->errbuf[0] ? (char *) job->errbuf
                                        : curl_easy_strerror(result);
        }

        w->stats.failed++;

        ngx_log_error(NGX_LOG_ERR, &job->log, 0,
                      "rtagent http: %V %V failed after %ui attempt%s: %s",
                      &job->method, &job->host, job->attempts,
                      job->attempts == 1 ? "" : "s", job->error);
    }

    job->state = NGX_HTTP_RTAGENT_HTTP_DONE;

    if (job->active) {
        job->active = 0;
        w->stats.active--;
    }

    ngx_http_rtagent_http_defer(job);
}


/* never inside a libcurl callback */

static void
ngx_http_rtagent_http_free(ngx_http_rtagent_http_job_t *job)
{
    ngx_queue_t                     *q;
    ngx_http_rtagent_http_piece_t   *piece;
    ngx_http_rtagent_http_worker_t  *w;

    w = ngx_http_rtagent_http_worker();

    if (job->retry.event.timer_set) {
        ngx_del_timer(&job->retry.event);
    }

    if (job->on_deferred) {
        ngx_queue_remove(&job->deferred);
        job->on_deferred = 0;
    }

    if (job->in_multi) {
        w->in_curl++;
        (void) curl_multi_remove_handle(w->multi, job->easy);
        w->in_curl--;

        job->in_multi = 0;
        w->stats.running--;
    }

    if (job->easy) {
        curl_easy_cleanup(job->easy);
        job->easy = NULL;
    }

    if (job->req_headers) {
        curl_slist_free_all(job->req_headers);
        job->req_headers = NULL;
    }

    while (!ngx_queue_empty(&job->pieces)) {
        q = ngx_queue_head(&job->pieces);
        ngx_queue_remove(q);
        piece = ngx_queue_data(q, ngx_http_rtagent_http_piece_t, queue);
        ngx_free(piece);
    }

    if (job->body.data) {
        ngx_free(job->body.data);
        job->body.data = NULL;
    }

    if (job->active) {
        job->active = 0;
        w->stats.active--;
    }

    ngx_queue_remove(&job->queue);
    w->stats.jobs--;

    ngx_destroy_pool(job->pool);
}


static u_char *
ngx_http_rtagent_http_log_error(ngx_log_t *log, u_char *buf, size_t len)
{
    u_char                       *p;
    ngx_http_rtagent_http_job_t  *job;

    p = buf;

    if (log->action) {
        p = ngx_snprintf(buf, len, " while %s", log->action);
        len -= p - buf;
        buf = p;
    }

    job = log->data;

    return ngx_snprintf(buf, len, ", call: %V, upstream: \"%V\"",
                        &job->call_id, &job->host);
}
