
/*
 * Local STT: pocketsphinx in the "rtagent_speech" thread pool.
 *
 * A decoder is not thread-safe and holds its models (tens of MB), so each
 * worker keeps a bounded set of them, one per concurrent decode: an
 * utterance takes a free one when it ends, or waits in the worker's queue
 * until one is released; the event loop never waits.  Decoders are made
 * on first use, in a pool thread.  The utterance is collected as it is
 * fed (resampled to the model's 16 kHz) and decoded whole at its end
 * against the generic en-us language model.  A job outlives a cancelled
 * session and is freed when its task comes back.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_thread_pool.h>

#include <pocketsphinx.h>

#include <speech/ngx_http_rtagent_stt.h>
#include <audio/ngx_http_rtagent_resample.h>


#define NGX_HTTP_RTAGENT_STT_LOCAL_DECODERS  2
#define NGX_HTTP_RTAGENT_STT_LOCAL_RATE      16000
#define NGX_HTTP_RTAGENT_STT_LOCAL_MAX_SEC   60

#define NGX_HTTP_RTAGENT_PS_MODEL  "/usr/share/pocketsphinx/model/en-us/"


typedef struct ngx_http_rtagent_stt_local_job_s
    ngx_http_rtagent_stt_local_job_t;

typedef struct {
    ps_decoder_t                       *ps;     /* NULL until first use */
    ngx_http_rtagent_stt_local_job_t   *job;    /* NULL: free */
} ngx_http_rtagent_stt_local_decoder_t;


struct ngx_http_rtagent_stt_local_job_s {
    ngx_thread_task_t                      task;
    ngx_queue_t                            queue;    /* waiting for one */
    ngx_http_rtagent_stt_t                *stt;      /* NULL: abandoned */
    ngx_http_rtagent_stt_local_decoder_t  *decoder;
    int16_t                               *pcm;      /* ngx_alloc'd */
    size_t                                 samples;
    char                                  *hyp;      /* malloc'd */
    double                                 confidence;
    const char                            *err;
};


typedef struct {
    ngx_http_rtagent_resample_t        rs;
    int16_t                           *pcm;      /* the utterance so far */
    size_t                             samples;
    size_t                             cap;
    ngx_http_rtagent_stt_local_job_t  *job;      /* decoding or waiting */
    unsigned                           open_rs:1;
} ngx_http_rtagent_stt_local_ctx_t;


static char *ngx_http_rtagent_stt_local_configure(ngx_conf_t *cf);
static ngx_int_t ngx_http_rtagent_stt_local_open(ngx_http_rtagent_stt_t *stt);
static ngx_int_t ngx_http_rtagent_stt_local_begin(
    ngx_http_rtagent_stt_t *stt);
static ngx_int_t ngx_http_rtagent_stt_local_feed(ngx_http_rtagent_stt_t *stt,
    const u_char *pcm, size_t len);
static ngx_int_t ngx_http_rtagent_stt_local_finish(
    ngx_http_rtagent_stt_t *stt);
static void ngx_http_rtagent_stt_local_cancel(ngx_http_rtagent_stt_t *stt);
static void ngx_http_rtagent_stt_local_close(ngx_http_rtagent_stt_t *stt);
static ngx_int_t ngx_http_rtagent_stt_local_post(
    ngx_http_rtagent_stt_local_job_t *job);
static void ngx_http_rtagent_stt_local_thread(void *data, ngx_log_t *log);
static void ngx_http_rtagent_stt_local_done(ngx_event_t *ev);
static void ngx_http_rtagent_stt_local_free(
    ngx_http_rtagent_stt_local_job_t *job);


const ngx_http_rtagent_stt_provider_t  ngx_http_rtagent_stt_local = {
    ngx_string("local"),
    NULL,
    NULL,
    ngx_http_rtagent_stt_local_open,
    ngx_http_rtagent_stt_local_begin,
    ngx_http_rtagent_stt_local_feed,
    ngx_http_rtagent_stt_local_finish,
    ngx_http_rtagent_stt_local_cancel,
    ngx_http_rtagent_stt_local_close,
    ngx_http_rtagent_stt_local_configure
};


/* per worker: the decoders and the utterances waiting for one */
static ngx_http_rtagent_stt_local_decoder_t
    ngx_http_rtagent_stt_local_decoders[NGX_HTTP_RTAGENT_STT_LOCAL_DECODERS];
static ngx_queue_t         ngx_http_rtagent_stt_local_waiting;
static ngx_thread_pool_t  *ngx_http_rtagent_stt_local_pool;

static ngx_str_t  ngx_http_rtagent_stt_pool_name =
                      ngx_string("rtagent_speech");


static char *
ngx_http_rtagent_stt_local_configure(ngx_conf_t *cf)
{
    ngx_http_rtagent_stt_local_pool =
        ngx_thread_pool_add(cf, &ngx_http_rtagent_stt_pool_name);

    return ngx_http_rtagent_stt_local_pool ? NGX_CONF_OK : NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_rtagent_stt_local_open(ngx_http_rtagent_stt_t *stt)
{
    ngx_http_rtagent_stt_local_ctx_t  *ctx;

    ctx = ngx_pcalloc(stt->pool, sizeof(ngx_http_rtagent_stt_local_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_rtagent_resample_init(&ctx->rs, (unsigned) stt->rate,
                                       NGX_HTTP_RTAGENT_STT_LOCAL_RATE, 5)
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, stt->log, 0,
                      "rtagent stt local: cannot resample %ui Hz, call:%V",
                      stt->rate, stt->call_id);
        return NGX_ERROR;
    }

    ctx->open_rs = 1;

    if (ngx_http_rtagent_stt_local_waiting.next == NULL) {
        ngx_queue_init(&ngx_http_rtagent_stt_local_waiting);
    }

    stt->ctx = ctx;

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtagent_stt_local_begin(ngx_http_rtagent_stt_t *stt)
{
    ngx_http_rtagent_stt_local_ctx_t  *ctx = stt->ctx;

    ctx->samples = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtagent_stt_local_feed(ngx_http_rtagent_stt_t *stt,
    const u_char *pcm, size_t len)
{
    long                               n;
    size_t                             need, cap;
    int16_t                           *p;
    ngx_http_rtagent_stt_local_ctx_t  *ctx = stt->ctx;

    need = ctx->samples + ngx_http_rtagent_resample_out_max(&ctx->rs,
                                                            len / 2);

    if (need > ctx->cap) {
        cap = ngx_max(ctx->cap * 2, need + NGX_HTTP_RTAGENT_STT_LOCAL_RATE);

        if (cap > (size_t) NGX_HTTP_RTAGENT_STT_LOCAL_RATE
                  * NGX_HTTP_RTAGENT_STT_LOCAL_MAX_SEC)
        {
            return NGX_DECLINED;        /* the rest is not heard */
        }

        p = ngx_alloc(cap * sizeof(int16_t), stt->log);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (ctx->pcm != NULL) {
            ngx_memcpy(p, ctx->pcm, ctx->samples * sizeof(int16_t));
            ngx_free(ctx->pcm);
        }

        ctx->pcm = p;
        ctx->cap = cap;
    }

    n = ngx_http_rtagent_resample_run(&ctx->rs, (const int16_t *) pcm,
                                      len / 2, ctx->pcm + ctx->samples,
                                      ctx->cap - ctx->samples);
    if (n < 0) {
        return NGX_ERROR;
    }

    ctx->samples += n;

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtagent_stt_local_finish(ngx_http_rtagent_stt_t *stt)
{
    ngx_http_rtagent_stt_local_ctx_t  *ctx = stt->ctx;
    ngx_http_rtagent_stt_local_job_t  *job;

    if (ctx->job != NULL) {
        ngx_log_error(NGX_LOG_ALERT, stt->log, 0,
                      "rtagent stt local: an utterance is under way, "
                      "call:%V", stt->call_id);
        return NGX_ERROR;
    }

    job = ngx_calloc(sizeof(ngx_http_rtagent_stt_local_job_t), stt->log);
    if (job == NULL) {
        return NGX_ERROR;
    }

    /* the job takes the audio; the next utterance gets a new buffer */
    job->stt = stt;
    job->pcm = ctx->pcm;
    job->samples = ctx->samples;
    ctx->pcm = NULL;
    ctx->samples = 0;
    ctx->cap = 0;

    job->task.ctx = job;
    job->task.handler = ngx_http_rtagent_stt_local_thread;
    job->task.event.handler = ngx_http_rtagent_stt_local_done;
    job->task.event.data = job;
    /* the session, and its log, may be gone when the task comes back */
    job->task.event.log = ngx_cycle->log;

    if (ngx_http_rtagent_stt_local_post(job) == NGX_ERROR) {
        ngx_http_rtagent_stt_local_free(job);
        return NGX_ERROR;
    }

    ctx->job = job;

    return NGX_OK;
}


/* to a free decoder, or to the queue: NGX_OK, NGX_AGAIN (queued), error */

static ngx_int_t
ngx_http_rtagent_stt_local_post(ngx_http_rtagent_stt_local_job_t *job)
{
    ngx_uint_t                             i;
    ngx_http_rtagent_stt_local_decoder_t  *d;

    for (i = 0; i < NGX_HTTP_RTAGENT_STT_LOCAL_DECODERS; i++) {
        d = &ngx_http_rtagent_stt_local_decoders[i];

        if (d->job == NULL) {
            /* the thread may run the task before the post returns */
            d->job = job;
            job->decoder = d;

            if (ngx_thread_task_post(ngx_http_rtagent_stt_local_pool,
                                     &job->task)
                != NGX_OK)
            {
                d->job = NULL;
                job->decoder = NULL;
                return NGX_ERROR;
            }

            return NGX_OK;
        }
    }

    ngx_queue_insert_tail(&ngx_http_rtagent_stt_local_waiting, &job->queue);

    return NGX_AGAIN;
}


static void
ngx_http_rtagent_stt_local_cancel(ngx_http_rtagent_stt_t *stt)
{
    ngx_http_rtagent_stt_local_ctx_t  *ctx = stt->ctx;
    ngx_http_rtagent_stt_local_job_t  *job;

    if (ctx == NULL) {
        return;
    }

    ctx->samples = 0;
    job = ctx->job;

    if (job == NULL) {
        return;
    }

    ctx->job = NULL;

    if (job->decoder == NULL) {
        /* still waiting: it never runs */
        ngx_queue_remove(&job->queue);
        ngx_http_rtagent_stt_local_free(job);
        return;
    }

    job->stt = NULL;
}


static void
ngx_http_rtagent_stt_local_close(ngx_http_rtagent_stt_t *stt)
{
    ngx_http_rtagent_stt_local_ctx_t  *ctx = stt->ctx;

    if (ctx == NULL) {
        return;
    }

    ngx_http_rtagent_stt_local_cancel(stt);

    if (ctx->pcm != NULL) {
        ngx_free(ctx->pcm);
        ctx->pcm = NULL;
    }

    if (ctx->open_rs) {
        ngx_http_rtagent_resample_free(&ctx->rs);
        ctx->open_rs = 0;
    }

    stt->ctx = NULL;
}


/* in a pool thread, with the decoder to itself */

static void
ngx_http_rtagent_stt_local_thread(void *data, ngx_log_t *log)
{
    int32                                  score;
    size_t                                 off, n;
    cmd_ln_t                              *config;
    const char                            *hyp;
    ngx_http_rtagent_stt_local_job_t      *job = data;
    ngx_http_rtagent_stt_local_decoder_t  *d;

    d = job->decoder;

    if (d->ps == NULL) {
        config = cmd_ln_init(NULL, ps_args(), TRUE,
                             "-hmm", NGX_HTTP_RTAGENT_PS_MODEL "en-us",
                             "-lm", NGX_HTTP_RTAGENT_PS_MODEL "en-us.lm.bin",
                             "-dict",
                             NGX_HTTP_RTAGENT_PS_MODEL "cmudict-en-us.dict",
                             "-samprate", "16000",
                             "-logfn", "/dev/null",
                             NULL);
        if (config == NULL) {
            job->err = "pocketsphinx configuration failed";
            return;
        }

        d->ps = ps_init(config);
        (void) cmd_ln_free_r(config);

        if (d->ps == NULL) {
            job->err = "pocketsphinx failed to load its model";
            return;
        }
    }

    if (ps_start_utt(d->ps) < 0) {
        job->err = "pocketsphinx start failed";
        return;
    }

    /* in blocks, as live audio comes: the model's cepstral mean is
     * then adapted as it goes, which suits a short utterance best */
    for (off = 0; off < job->samples; off += n) {
        n = ngx_min(job->samples - off, 2048);

        if (ps_process_raw(d->ps, job->pcm + off, n, 0, 0) < 0) {
            (void) ps_end_utt(d->ps);
            job->err = "pocketsphinx decoding failed";
            return;
        }
    }

    if (ps_end_utt(d->ps) < 0) {
        job->err = "pocketsphinx end failed";
        return;
    }

    hyp = ps_get_hyp(d->ps, &score);

    if (hyp != NULL && hyp[0] != '\0') {
        job->hyp = strdup(hyp);
        if (job->hyp == NULL) {
            job->err = "out of memory";
            return;
        }

        job->confidence = logmath_exp(ps_get_logmath(d->ps),
                                      ps_get_prob(d->ps));
    }
}


/* back on the event loop: the decoder goes to the next waiting utterance */

static void
ngx_http_rtagent_stt_local_done(ngx_event_t *ev)
{
    ngx_queue_t                            *q;
    ngx_http_rtagent_stt_t                 *stt;
    ngx_http_rtagent_stt_local_ctx_t       *ctx;
    ngx_http_rtagent_stt_result_t           res;
    ngx_http_rtagent_stt_local_job_t       *job = ev->data, *next;

    job->decoder->job = NULL;
    job->decoder = NULL;

    while (!ngx_queue_empty(&ngx_http_rtagent_stt_local_waiting)) {
        q = ngx_queue_head(&ngx_http_rtagent_stt_local_waiting);
        ngx_queue_remove(q);
        next = ngx_queue_data(q, ngx_http_rtagent_stt_local_job_t, queue);

        if (ngx_http_rtagent_stt_local_post(next) == NGX_OK) {
            break;
        }

        /* the pool refused it: its session hears of it now */
        ((ngx_http_rtagent_stt_local_ctx_t *) next->stt->ctx)->job = NULL;
        next->stt->on_error(next->stt, NGX_HTTP_RTAGENT_SPEECH_INTERNAL,
                            "thread pool");
        ngx_http_rtagent_stt_local_free(next);
    }

    stt = job->stt;

    if (stt == NULL) {
        ngx_http_rtagent_stt_local_free(job);
        return;
    }

    ctx = stt->ctx;
    ctx->job = NULL;

    if (job->err != NULL) {
        ngx_log_error(NGX_LOG_ERR, stt->log, 0,
                      "rtagent stt local: %s, call:%V", job->err,
                      stt->call_id);
        ngx_http_rtagent_stt_local_free(job);
        stt->on_error(stt, NGX_HTTP_RTAGENT_SPEECH_INTERNAL, "pocketsphinx");
        return;
    }

    if (job->hyp == NULL) {
        ngx_http_rtagent_stt_local_free(job);
        stt->on_error(stt, NGX_HTTP_RTAGENT_SPEECH_NOMATCH, NULL);
        return;
    }

    ngx_memzero(&res, sizeof(ngx_http_rtagent_stt_result_t));
    res.text.data = (u_char *) job->hyp;
    res.text.len = ngx_strlen(job->hyp);
    res.confidence = job->confidence;
    ngx_str_set(&res.language, "en-US");
    res.duration = job->samples * 1000 / NGX_HTTP_RTAGENT_STT_LOCAL_RATE;
    res.final = 1;

    stt->on_result(stt, &res);

    ngx_http_rtagent_stt_local_free(job);
}


static void
ngx_http_rtagent_stt_local_free(ngx_http_rtagent_stt_local_job_t *job)
{
    if (job->pcm != NULL) {
        ngx_free(job->pcm);
    }

    free(job->hyp);
    ngx_free(job);
}
