
/*
 * Local STT: pocketsphinx in the "rtagent_speech" thread pool.
 *
 * A decoder is not thread-safe and holds its models (tens of MB), so each
 * worker keeps a bounded set of them (rtagent_stt_local_decoders, 2 by
 * default), one per concurrent decode: an utterance takes a free one when
 * it ends, or waits in the worker's queue until one is released; the
 * event loop never waits.  Decoders are made on first use, in a pool
 * thread, each with every STT search of the configuration loaded once
 * (ngx_http_rtagent_stt_search.h): the JSGF grammars as they are, the
 * phrase models as the grammars their bigrams make.  The utterance is collected as it
 * is fed (resampled to the model's 16 kHz) and decoded whole at its end
 * with the search the turn expects (stt->expect, else the location's
 * rtagent_stt_expect), else with the generic en-us language model.  When
 * the expected search yields no words (a grammar finds no path through
 * the audio), the utterance is decoded again with the generic model: it
 * is the last fallback, so an answer outside the grammar is still heard.
 * An unknown name gets the generic model and a debug line.  A job
 * outlives a cancelled session and is freed when its task comes back.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_thread_pool.h>

#include <pocketsphinx.h>

#include <speech/ngx_http_rtagent_stt.h>
#include <speech/ngx_http_rtagent_stt_search.h>
#include <audio/ngx_http_rtagent_resample.h>


#define NGX_HTTP_RTAGENT_STT_LOCAL_DECODERS  2
#define NGX_HTTP_RTAGENT_STT_LOCAL_RATE      16000
#define NGX_HTTP_RTAGENT_STT_LOCAL_MAX_SEC   60

/* pocketsphinx's own name for the search of -lm */
#define NGX_HTTP_RTAGENT_PS_GENERIC  "_default"


typedef struct ngx_http_rtagent_stt_local_job_s
    ngx_http_rtagent_stt_local_job_t;

typedef struct {
    ps_decoder_t                       *ps;     /* NULL until first use */
    ngx_http_rtagent_stt_local_job_t   *job;    /* NULL: free */
} ngx_http_rtagent_stt_local_decoder_t;


typedef struct {
    ngx_int_t                           decoders;
} ngx_http_rtagent_stt_local_main_conf_t;


struct ngx_http_rtagent_stt_local_job_s {
    ngx_thread_task_t                      task;
    ngx_queue_t                            queue;    /* waiting for one */
    ngx_http_rtagent_stt_t                *stt;      /* NULL: abandoned */
    ngx_http_rtagent_stt_local_decoder_t  *decoder;
    int16_t                               *pcm;      /* ngx_alloc'd */
    size_t                                 samples;
    ngx_http_rtagent_stt_search_t         *search;   /* NULL: generic */
    ngx_array_t                           *searches; /* the cycle's */
    const char                            *used;     /* what decoded it */
    ngx_msec_t                             cpu;      /* decode CPU time */
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
    ngx_http_rtagent_stt_search_t     *search;   /* this utterance's */
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
static ps_decoder_t *ngx_http_rtagent_stt_local_decoder(
    ngx_http_rtagent_stt_local_job_t *job, ngx_log_t *log);
static const char *ngx_http_rtagent_stt_local_decode(ps_decoder_t *ps,
    ngx_http_rtagent_stt_local_job_t *job);
static ngx_uint_t ngx_http_rtagent_stt_local_covered(ps_decoder_t *ps);
static ngx_int_t ngx_http_rtagent_stt_local_init_process(ngx_cycle_t *cycle);
static void ngx_http_rtagent_stt_local_exit_process(ngx_cycle_t *cycle);
static void *ngx_http_rtagent_stt_local_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_rtagent_stt_local_init_main_conf(ngx_conf_t *cf,
    void *conf);


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


static ngx_command_t  ngx_http_rtagent_stt_local_commands[] = {

    { ngx_string("rtagent_stt_local_decoders"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_rtagent_stt_local_main_conf_t, decoders),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_rtagent_stt_local_module_ctx = {
    NULL,                                    /* preconfiguration */
    NULL,                                    /* postconfiguration */

    ngx_http_rtagent_stt_local_create_main_conf,
    ngx_http_rtagent_stt_local_init_main_conf,

    NULL,                                    /* create server configuration */
    NULL,                                    /* merge server configuration */

    NULL,                                    /* create location configuration */
    NULL                                     /* merge location configuration */
};


ngx_module_t  ngx_http_rtagent_stt_local_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_stt_local_module_ctx,  /* module context */
    ngx_http_rtagent_stt_local_commands,     /* module directives */
    NGX_HTTP_MODULE,                         /* module type */
    NULL,                                    /* init master */
    NULL,                                    /* init module */
    ngx_http_rtagent_stt_local_init_process, /* init process */
    NULL,                                    /* init thread */
    NULL,                                    /* exit thread */
    ngx_http_rtagent_stt_local_exit_process, /* exit process */
    NULL,                                    /* exit master */
    NGX_MODULE_V1_PADDING
};


/* per worker: the decoders and the utterances waiting for one */
static ngx_http_rtagent_stt_local_decoder_t  *ngx_http_rtagent_stt_local_decoders;
static ngx_uint_t          ngx_http_rtagent_stt_local_ndecoders;
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

    if (ngx_http_rtagent_stt_local_decoders == NULL) {
        ngx_log_error(NGX_LOG_ALERT, stt->log, 0,
                      "rtagent stt local: no decoders in this process, "
                      "call:%V", stt->call_id);
        return NGX_ERROR;
    }

    stt->ctx = ctx;

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtagent_stt_local_begin(ngx_http_rtagent_stt_t *stt)
{
    ngx_str_t                         *name;
    ngx_http_rtagent_stt_local_ctx_t  *ctx = stt->ctx;

    ctx->samples = 0;

    /* what this utterance is expected to be: the turn's, else the
     * location's; resolved now, the name need not outlive the call */
    name = stt->expect.len ? &stt->expect
                           : ngx_http_rtagent_stt_search_expect(stt->loc_conf);

    ctx->search = ngx_http_rtagent_stt_search_find((ngx_cycle_t *) ngx_cycle,
                                                   name);

    if (ctx->search == NULL && name->len) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, stt->log, 0,
                       "rtagent stt local: no search \"%V\", the generic "
                       "model, call:%V", name, stt->call_id);
    }

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
    job->search = ctx->search;
    job->searches = ngx_http_rtagent_stt_searches((ngx_cycle_t *) ngx_cycle);
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

    for (i = 0; i < ngx_http_rtagent_stt_local_ndecoders; i++) {
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

    if (job->stt != NULL) {
        ngx_log_error(NGX_LOG_INFO, job->stt->log, 0,
                      "rtagent stt local: all %ui decoders are busy, the "
                      "utterance waits for one, call:%V",
                      ngx_http_rtagent_stt_local_ndecoders,
                      job->stt->call_id);
    }

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
    const char                        *hyp;
    struct timespec                    t0, t1;
    ngx_uint_t                         fresh;
    ps_decoder_t                      *ps;
    ngx_http_rtagent_stt_local_job_t  *job = data;

    fresh = (job->decoder->ps == NULL);

    ps = ngx_http_rtagent_stt_local_decoder(job, log);
    if (ps == NULL) {
        return;
    }

    (void) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);

    job->used = NGX_HTTP_RTAGENT_PS_GENERIC;

    if (job->search != NULL) {
        if (ps_set_search(ps, (char *) job->search->name.data) == 0) {
            job->used = (char *) job->search->name.data;

        } else {
            /* it failed to load into this decoder (logged then) */
            (void) ps_set_search(ps, NGX_HTTP_RTAGENT_PS_GENERIC);
        }

    } else {
        (void) ps_set_search(ps, NGX_HTTP_RTAGENT_PS_GENERIC);
    }

    /*
     * A new decoder's cepstral mean is the model's training average until
     * an utterance has adapted it, and short closed answers suffer most
     * (espeak-ng's "seven one" came out "two one" through the digits
     * grammar): its first utterance is decoded once to adapt it, unheard,
     * with the search it is for (the front end adapts whatever the
     * search; a grammar's pass costs a tenth of the generic model's).
     */
    if (fresh) {
        (void) ngx_http_rtagent_stt_local_decode(ps, job);

        if (job->err != NULL) {
            return;
        }
    }

    hyp = ngx_http_rtagent_stt_local_decode(ps, job);

    /* nothing through the expected search, or a search that took only
     * part of the speech: the generic model hears it */
    if (job->err == NULL
        && job->used != (char *) NGX_HTTP_RTAGENT_PS_GENERIC
        && (hyp == NULL || hyp[0] == '\0'
            || !ngx_http_rtagent_stt_local_covered(ps)))
    {
        job->used = NGX_HTTP_RTAGENT_PS_GENERIC;
        (void) ps_set_search(ps, NGX_HTTP_RTAGENT_PS_GENERIC);
        hyp = ngx_http_rtagent_stt_local_decode(ps, job);
    }

    if (job->err == NULL && hyp != NULL && hyp[0] != '\0') {
        job->hyp = strdup(hyp);
        if (job->hyp == NULL) {
            job->err = "out of memory";

        } else {
            job->confidence = logmath_exp(ps_get_logmath(ps),
                                          ps_get_prob(ps));
        }
    }

    (void) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);

    job->cpu = (t1.tv_sec - t0.tv_sec) * 1000
               + (t1.tv_nsec - t0.tv_nsec) / 1000000;
}


/*
 * Whether a grammar's hypothesis accounts for the speech.  A grammar
 * always finds its likeliest path, so an answer outside it ("I want to
 * report an accident" to a yes/no question) comes out as a short match
 * with silence around it: the decoder's own VAD keeps only about 0.2 s
 * before speech and 0.5 s after it (-vad_prespeech 20, -vad_postspeech
 * 50 frames), so a silence or filler of more than 0.8 s (1.2 s at the
 * end) inside what it kept was speech the grammar could not take.
 */

static ngx_uint_t
ngx_http_rtagent_stt_local_covered(ps_decoder_t *ps)
{
    int          sf, ef, silence;
    ps_seg_t    *seg;
    const char  *word;

    /* a segment is valid until the next ps_seg_next(): the length of a
     * silence is judged when what follows it, if anything, is seen */
    silence = 0;

    for (seg = ps_seg_iter(ps); seg; seg = ps_seg_next(seg)) {
        if (silence > 80) {
            ps_seg_free(seg);
            return 0;
        }

        word = ps_seg_word(seg);
        silence = 0;

        if (word[0] == '<' || word[0] == '[' || word[0] == '+') {
            ps_seg_frames(seg, &sf, &ef);
            silence = ef - sf;
        }
    }

    return silence <= 120;
}


/* the job's utterance through the active search: the hypothesis (the
 * decoder's), or NULL with job->err set, or NULL for no words */

static const char *
ngx_http_rtagent_stt_local_decode(ps_decoder_t *ps,
    ngx_http_rtagent_stt_local_job_t *job)
{
    int32   score;
    size_t  off, n;

    if (ps_start_utt(ps) < 0) {
        job->err = "pocketsphinx start failed";
        return NULL;
    }

    /* in blocks, as live audio comes: the model's cepstral mean is
     * then adapted as it goes, which suits a short utterance best */
    for (off = 0; off < job->samples; off += n) {
        n = ngx_min(job->samples - off, 2048);

        if (ps_process_raw(ps, job->pcm + off, n, 0, 0) < 0) {
            (void) ps_end_utt(ps);
            job->err = "pocketsphinx decoding failed";
            return NULL;
        }
    }

    if (ps_end_utt(ps) < 0) {
        job->err = "pocketsphinx end failed";
        return NULL;
    }

    return ps_get_hyp(ps, &score);
}


/*
 * The job's decoder, made on its first use with the generic model and
 * every search of the configuration.  A search that does not load is
 * logged and left out (its utterances get the generic model); it was
 * checked at configuration time, so this is not expected.
 */

static ps_decoder_t *
ngx_http_rtagent_stt_local_decoder(ngx_http_rtagent_stt_local_job_t *job,
    ngx_log_t *log)
{
    FILE                                  *fp;
    cmd_ln_t                              *config;
    ngx_uint_t                             i;
    fsg_model_t                           *fsg;
    ngx_http_rtagent_stt_search_t         *s;
    ngx_http_rtagent_stt_local_decoder_t  *d;

    d = job->decoder;

    if (d->ps != NULL) {
        return d->ps;
    }

    config = cmd_ln_init(NULL, ps_args(), TRUE,
                         "-hmm", NGX_HTTP_RTAGENT_PS_MODEL "en-us",
                         "-lm", NGX_HTTP_RTAGENT_PS_MODEL "en-us.lm.bin",
                         "-dict", NGX_HTTP_RTAGENT_PS_DICT,
                         "-samprate", "16000",
                         "-logfn", "/dev/null",
                         NULL);
    if (config == NULL) {
        job->err = "pocketsphinx configuration failed";
        return NULL;
    }

    d->ps = ps_init(config);
    (void) cmd_ln_free_r(config);

    if (d->ps == NULL) {
        job->err = "pocketsphinx failed to load its model";
        return NULL;
    }

    if (job->searches == NULL) {
        return d->ps;
    }

    s = job->searches->elts;

    for (i = 0; i < job->searches->nelts; i++) {

        if (s[i].kind == NGX_HTTP_RTAGENT_STT_SEARCH_JSGF) {
            if (ps_set_jsgf_string(d->ps, (char *) s[i].name.data,
                                   (char *) s[i].text.data)
                != 0)
            {
                ngx_log_error(NGX_LOG_ERR, log, 0,
                              "rtagent stt local: the grammar of search "
                              "\"%V\" did not load", &s[i].name);
            }

            continue;
        }

        /* a phrases search: its bigram model as an FSG */

        fp = fmemopen(s[i].text.data, s[i].text.len, "r");
        fsg = NULL;

        if (fp != NULL) {
            fsg = fsg_model_read(fp, ps_get_logmath(d->ps),
                                 cmd_ln_float32_r(ps_get_config(d->ps),
                                                  "-lw"));
            (void) fclose(fp);
        }

        if (fsg == NULL || ps_set_fsg(d->ps, (char *) s[i].name.data, fsg)
                           != 0)
        {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "rtagent stt local: the language model of search "
                          "\"%V\" did not load", &s[i].name);
        }

        if (fsg != NULL) {
            (void) fsg_model_free(fsg);     /* the search keeps its own */
        }
    }

    return d->ps;
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

    ngx_log_error(NGX_LOG_INFO, stt->log, 0,
                  "rtagent stt local: \"%s\" by search \"%s\" in %M ms of "
                  "CPU for %uz ms of audio, call:%V", job->hyp, job->used,
                  job->cpu, job->samples * 1000
                            / NGX_HTTP_RTAGENT_STT_LOCAL_RATE, stt->call_id);

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


static ngx_int_t
ngx_http_rtagent_stt_local_init_process(ngx_cycle_t *cycle)
{
    ngx_http_rtagent_stt_local_main_conf_t  *lmcf;

    lmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                           ngx_http_rtagent_stt_local_module);
    if (lmcf == NULL) {
        return NGX_OK;
    }

    /* the slots only: each decoder is made on its first utterance */
    ngx_http_rtagent_stt_local_decoders = ngx_calloc(lmcf->decoders
                              * sizeof(ngx_http_rtagent_stt_local_decoder_t),
                              cycle->log);
    if (ngx_http_rtagent_stt_local_decoders == NULL) {
        return NGX_ERROR;
    }

    ngx_http_rtagent_stt_local_ndecoders = (ngx_uint_t) lmcf->decoders;
    ngx_queue_init(&ngx_http_rtagent_stt_local_waiting);

    return NGX_OK;
}


/* the thread pools have stopped by now (a core module, they exit first) */

static void
ngx_http_rtagent_stt_local_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t  i;

    if (ngx_http_rtagent_stt_local_decoders == NULL) {
        return;
    }

    for (i = 0; i < ngx_http_rtagent_stt_local_ndecoders; i++) {
        if (ngx_http_rtagent_stt_local_decoders[i].ps != NULL
            && ngx_http_rtagent_stt_local_decoders[i].job == NULL)
        {
            (void) ps_free(ngx_http_rtagent_stt_local_decoders[i].ps);
        }
    }

    ngx_free(ngx_http_rtagent_stt_local_decoders);
    ngx_http_rtagent_stt_local_decoders = NULL;
    ngx_http_rtagent_stt_local_ndecoders = 0;
}


static void *
ngx_http_rtagent_stt_local_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_rtagent_stt_local_main_conf_t  *lmcf;

    lmcf = ngx_pcalloc(cf->pool,
                       sizeof(ngx_http_rtagent_stt_local_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    lmcf->decoders = NGX_CONF_UNSET;

    return lmcf;
}


static char *
ngx_http_rtagent_stt_local_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_rtagent_stt_local_main_conf_t *lmcf = conf;

    ngx_conf_init_value(lmcf->decoders, NGX_HTTP_RTAGENT_STT_LOCAL_DECODERS);

    if (lmcf->decoders < 1 || lmcf->decoders > 64) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "rtagent_stt_local_decoders must be 1 to 64, not %i",
                      lmcf->decoders);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
