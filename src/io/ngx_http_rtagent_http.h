
/*
 * rtagent: the non-blocking HTTP(S) client every upstream call goes through
 * (OpenAI, Speech, ACS REST, tools).  One libcurl multi handle per worker,
 * driven by nginx connection events and one nginx timer; nothing blocks.
 *
 * A job is one HTTP request with its retries:
 *
 *     job = ngx_http_rtagent_http_create(conf, log, &call_id, &method, &url);
 *     ngx_http_rtagent_http_add_header(job, &name, &value);      (any number)
 *     ngx_http_rtagent_http_set_body(job, data, len);            (or:)
 *     ngx_http_rtagent_http_stream_body(job, -1);
 *     job->data = ...; job->on_header = ...; job->on_data = ...;
 *     job->on_done = ...;
 *     ngx_http_rtagent_http_start(job);
 *     ... ngx_http_rtagent_http_write(job, piece, n, last) as audio comes
 *     ... ngx_http_rtagent_http_cancel(job) at any moment (barge-in)
 *
 * The response, exactly once per job:
 *
 *   on_header(job)          optional; job->status is set, and the headers
 *                           can be read with ngx_http_rtagent_http_header().
 *                           Called for the final attempt only: a response
 *                           that will be retried (408, 409, 429, 5xx,
 *                           "x-should-retry: true") is never shown.
 *   on_data(job, p, n)      optional; a piece of the body as it arrives
 *                           (SSE, audio); p is valid during the call only.
 *                           Without on_data the body is buffered in
 *                           job->body, at most max_response_size bytes
 *                           (more fails the job: "response too large").
 *   on_done(job)            always, unless the job was cancelled; runs from
 *                           a posted event, never inside libcurl.
 *                           job->rc is NGX_OK when a whole response arrived
 *                           (whatever its status), NGX_ERROR when none did
 *                           (job->error says why; job->timedout for
 *                           timeouts).  The job and its memory are freed
 *                           when on_done returns.
 *
 * on_header and on_data run inside libcurl's callbacks.  Everything in this
 * API may be called from them (and from anywhere on the event loop): what
 * libcurl forbids there (removing, adding or unpausing a handle) is
 * deferred to a posted event of the same event-loop iteration.
 *
 * Cancellation: after ngx_http_rtagent_http_cancel() returns, no callback
 * of the job runs again and the job must not be touched; its curl handle,
 * socket and memory are released at once, or from the posted event when
 * cancel was called inside a libcurl callback.  cancel() also frees a job
 * that was never started or whose start failed.  Inside on_done it is a
 * no-op (the job ends when on_done returns).
 *
 * Retries (PROTOCOLS.md 5.4): up to job->retries more attempts after a
 * 408/409/429/5xx response or a connection error (connect, TLS handshake,
 * a connection that died before the response headers, timeouts before
 * the response).  The delay is retry-after-ms or Retry-After (seconds or
 * an HTTP date) when 0 < value <= 120 s, else 0.5 s * 2^n capped at 8 s,
 * minus 0-25 % jitter.  A streamed request body that was partly sent is
 * never resent: such a job fails or returns the error response instead.
 * Once on_header was called, nothing is retried.
 *
 * Logging: each attempt at debug level (upstream host, status, attempt,
 * connect / first byte / total times); a job that ends without a response
 * or with a status >= 400 once at error level; each retry at info level;
 * all lines name the call id.  Callers need not log these failures again.
 *
 * Limits per worker: at most rtagent_upstream_max_jobs jobs are under way
 * at once (started, not done: start() refuses more with NGX_BUSY), and
 * at most rtagent_upstream_max_connections upstream connections are open
 * (curl holds further requests back until one is free; their timeouts run
 * meanwhile).  A streamed body
 * holds at most job->max_queued bytes not yet sent (write() refuses more
 * with NGX_AGAIN).
 *
 * Graceful shutdown: the client's timers are cancelable while no job runs;
 * a job under way (or waiting to retry) holds the worker like an upstream
 * request does, until it ends or worker_shutdown_timeout.  Once the
 * worker's exit handlers run (and after a fast shutdown began), new jobs
 * are refused: create() returns NULL and start() NGX_DECLINED, each with a
 * log line.
 *
 * Requests are HTTP/1.1 (an unknown body length uses chunked encoding);
 * redirects are not followed; curl's TLS sessions are shared by the
 * worker's jobs.
 */


#ifndef _NGX_HTTP_RTAGENT_HTTP_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_HTTP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ngx_http_rtagent_core.h>


/*
 * Location configuration: the rtagent_upstream_* directives.  Three more
 * are for http{} only (per worker): rtagent_upstream_keepalive N (default
 * 1024) upstream connections kept cached for reuse,
 * rtagent_upstream_max_jobs N (default 1024) jobs under way at once, and
 * rtagent_upstream_max_connections N (default a quarter of
 * worker_connections) upstream connections open at once.
 */
typedef struct {
    ngx_msec_t                         connect_timeout;
    ngx_msec_t                         timeout;
    ngx_int_t                          retries;
    ngx_str_t                          ssl_trusted_certificate;
    ngx_flag_t                         ssl_verify;
    size_t                             max_response_size;
} ngx_http_rtagent_http_conf_t;


typedef struct ngx_http_rtagent_http_job_s  ngx_http_rtagent_http_job_t;

typedef void (*ngx_http_rtagent_http_handler_pt)(
    ngx_http_rtagent_http_job_t *job);
typedef void (*ngx_http_rtagent_http_data_pt)(
    ngx_http_rtagent_http_job_t *job, u_char *data, size_t len);


struct ngx_http_rtagent_http_job_s {
    /* the owner's; set between create and start */
    void                              *data;
    ngx_http_rtagent_http_handler_pt   on_header;
    ngx_http_rtagent_http_data_pt      on_data;
    ngx_http_rtagent_http_handler_pt   on_done;

    /* from the configuration; may be changed before start */
    ngx_msec_t                         connect_timeout;
    ngx_msec_t                         timeout;      /* per attempt */
    ngx_uint_t                         retries;
    size_t                             max_response_size;
    size_t                             max_queued;   /* streamed, 256k */

    /* the response: status and headers from on_header on, all in on_done */
    ngx_int_t                          rc;
    ngx_uint_t                         status;
    ngx_str_t                          body;         /* without on_data */
    off_t                              received;     /* body bytes */
    ngx_uint_t                         attempts;
    const char                        *error;
    unsigned                           timedout:1;

    /* of the last attempt, in microseconds from its start */
    int64_t                            time_connect;
    int64_t                            time_first_byte;
    int64_t                            time_total;

    /* for log lines */
    ngx_str_t                          call_id;
    ngx_str_t                          method;
    ngx_str_t                          host;

    /* private to ngx_http_rtagent_http.c */
    ngx_pool_t                        *pool;
    ngx_log_t                          log;
    ngx_http_rtagent_http_conf_t      *conf;
    void                              *easy;         /* CURL * */
    void                              *req_headers;  /* curl_slist * */
    ngx_str_t                          url;
    ngx_str_t                          req_body;
    off_t                              stream_length;
    off_t                              written;      /* streamed */
    ngx_queue_t                        pieces;       /* streamed body */
    size_t                             queued;       /* bytes in pieces */
    size_t                             header_bytes;
    size_t                             discarded;
    size_t                             body_size;    /* allocated */
    ngx_msec_t                         retry_delay;
    ngx_http_rtagent_timer_t           retry;
    ngx_queue_t                        queue;        /* worker's jobs */
    ngx_queue_t                        deferred;     /* posted work */
    u_char                            *errbuf;       /* CURL_ERROR_SIZE */

    unsigned                           state:3;
    unsigned                           streaming:1;
    unsigned                           body_last:1;
    unsigned                           body_sent:1;  /* a piece was read */
    unsigned                           read_paused:1;
    unsigned                           in_multi:1;
    unsigned                           on_deferred:1;
    unsigned                           start_pending:1;
    unsigned                           resume_pending:1;
    unsigned                           cancelled:1;
    unsigned                           notifying:1;
    unsigned                           headers_done:1;
    unsigned                           delivered:1;  /* on_header called */
    unsigned                           discard:1;    /* will be retried */
    unsigned                           too_large:1;
    unsigned                           dead:1;       /* worker exited */
    unsigned                           active:1;     /* counted */
    unsigned                           queue_full_logged:1;
};


/* what a worker's client holds now (for metrics and tests) */
typedef struct {
    ngx_uint_t                         jobs;       /* created, not freed */
    ngx_uint_t                         running;    /* in the multi handle */
    ngx_uint_t                         sockets;    /* open curl sockets */
    ngx_uint_t                         connections; /* their nginx slots */
    ngx_uint_t                         started;    /* since the worker began */
    ngx_uint_t                         retried;
    ngx_uint_t                         failed;
    ngx_uint_t                         active;     /* started, not done */
    ngx_uint_t                         refused;    /* over max_jobs */
} ngx_http_rtagent_http_stats_t;


/*
 * Creates a job; conf is the location's (see ngx_http_rtagent_http_conf()),
 * log the caller's (copied), call_id may be NULL.  method and url are
 * copied.  NULL on failure (logged), also while the worker is exiting.
 */
ngx_http_rtagent_http_job_t *ngx_http_rtagent_http_create(
    ngx_http_rtagent_http_conf_t *conf, ngx_log_t *log, ngx_str_t *call_id,
    ngx_str_t *method, ngx_str_t *url);

/* a request header, copied; "Name" with an empty value removes curl's own */
ngx_int_t ngx_http_rtagent_http_add_header(ngx_http_rtagent_http_job_t *job,
    ngx_str_t *name, ngx_str_t *value);

/*
 * The key header of an OpenAI-style endpoint: "api-key: <key>" for the
 * Azure OpenAI form (azure) when there is a key, else "Authorization:
 * Bearer <token or key>"; none when neither is set (token may be NULL)
 */
ngx_int_t ngx_http_rtagent_http_add_key(ngx_http_rtagent_http_job_t *job,
    ngx_uint_t azure, ngx_str_t *key, ngx_str_t *token);

/* the whole request body, copied; resent as is on a retry */
ngx_int_t ngx_http_rtagent_http_set_body(ngx_http_rtagent_http_job_t *job,
    u_char *data, size_t len);

/*
 * The request body will come in pieces through ngx_http_rtagent_http_write();
 * length is the total when known (Content-Length), else -1 (chunked).
 */
ngx_int_t ngx_http_rtagent_http_stream_body(ngx_http_rtagent_http_job_t *job,
    off_t length);

/*
 * NGX_OK; NGX_BUSY when rtagent_upstream_max_jobs jobs are under way in
 * this worker, NGX_DECLINED while it is exiting, NGX_ERROR on other
 * failures: all logged, and the job is then freed with cancel.
 */
ngx_int_t ngx_http_rtagent_http_start(ngx_http_rtagent_http_job_t *job);

/*
 * Queues a piece of a streamed body (copied) and wakes the upload; last
 * ends the body.  May be called before start.  NGX_AGAIN when the piece
 * would make more than job->max_queued bytes wait (nothing is taken:
 * write it again once ngx_http_rtagent_http_queued() fell, or give up;
 * logged once per job), NGX_DECLINED when the job takes no more body
 * (ended, done, not streaming, or more than the length given to
 * stream_body), NGX_ERROR on memory failure.
 */
ngx_int_t ngx_http_rtagent_http_write(ngx_http_rtagent_http_job_t *job,
    u_char *data, size_t len, ngx_uint_t last);

/* bytes written and not yet taken by the upload */
#define ngx_http_rtagent_http_queued(job)  ((job)->queued)

void ngx_http_rtagent_http_cancel(ngx_http_rtagent_http_job_t *job);

/*
 * A header of the response shown to on_header, by name (case-insensitive;
 * the first when repeated), copied to the job's memory; or NULL.
 */
ngx_str_t *ngx_http_rtagent_http_header(ngx_http_rtagent_http_job_t *job,
    const char *name);

void ngx_http_rtagent_http_stats(ngx_http_rtagent_http_stats_t *stats);

#define ngx_http_rtagent_http_conf(r)                                        \
    ((ngx_http_rtagent_http_conf_t *)                                        \
         ngx_http_get_module_loc_conf(r, ngx_http_rtagent_http_module))


extern ngx_module_t  ngx_http_rtagent_http_module;


#endif /* _NGX_HTTP_RTAGENT_HTTP_H_INCLUDED_ */
