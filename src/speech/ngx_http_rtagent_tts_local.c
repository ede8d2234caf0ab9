
/*
 * Local TTS: libespeak-ng in the "rtagent_speech" thread pool.
 *
 * espeak-ng keeps its state in globals (one synthesizer per process, no
 * context handle), so every call into it holds one mutex: pieces from all
 * calls of a worker are synthesized one after another, whatever the pool's
 * size.  It is initialized on first use, in a pool thread, so a worker
 * that never speaks never loads it.  A piece's audio comes back whole, at
 * espeak-ng's rate (22050 Hz), when its task completes; a job outlives a
 * cancelled or closed session and is freed when its task comes back.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_thread_pool.h>

#include <pthread.h>
#include <espeak-ng/speak_lib.h>

#include <speech/ngx_http_rtagent_tts.h>


/* a runaway piece is cut here: a minute of audio */
#define NGX_HTTP_RTAGENT_TTS_LOCAL_MAX_SEC  60

#define NGX_HTTP_RTAGENT_TTS_LOCAL_VOICE    "en-us"


typedef struct {
    ngx_thread_task_t        task;
    ngx_http_rtagent_tts_t  *tts;       /* NULL: abandoned, free on return */
    char                    *text;      /* NUL-terminated */
    char                     voice[64];
    int                      wpm;
    int16_t                 *pcm;       /* malloc'd in the thread */
    size_t                   samples;
    size_t                   cap;
    int                      rate;      /* espeak-ng's, Hz */
    const char              *err;       /* NULL: synthesized */
} ngx_http_rtagent_tts_local_job_t;


typedef struct {
    ngx_http_rtagent_tts_local_job_t  *job;    /* in flight */
    unsigned                           cancelled:1;
} ngx_http_rtagent_tts_local_ctx_t;


static char *ngx_http_rtagent_tts_local_configure(ngx_conf_t *cf);
static ngx_int_t ngx_http_rtagent_tts_local_open(ngx_http_rtagent_tts_t *tts);
static ngx_int_t ngx_http_rtagent_tts_local_synth(ngx_http_rtagent_tts_t *tts,
    ngx_str_t *text);
static void ngx_http_rtagent_tts_local_cancel(ngx_http_rtagent_tts_t *tts);
static void ngx_http_rtagent_tts_local_thread(void *data, ngx_log_t *log);
static int ngx_http_rtagent_tts_local_audio(short *wav, int n,
    espeak_EVENT *events);
static void ngx_http_rtagent_tts_local_done(ngx_event_t *ev);
static void ngx_http_rtagent_tts_local_free(
    ngx_http_rtagent_tts_local_job_t *job);


const ngx_http_rtagent_tts_provider_t  ngx_http_rtagent_tts_local = {
    ngx_string("local"),
    NULL,
    NULL,
    ngx_http_rtagent_tts_local_open,
    ngx_http_rtagent_tts_local_synth,
    ngx_http_rtagent_tts_local_cancel,
    ngx_http_rtagent_tts_local_cancel,
    ngx_http_rtagent_tts_local_configure
};


/* espeak-ng's own globals are what this mutex guards; the rate is theirs */
static pthread_mutex_t     ngx_http_rtagent_espeak_lock =
                               PTHREAD_MUTEX_INITIALIZER;
static int                 ngx_http_rtagent_espeak_rate;

/* the cycle's pool, set when a location picks this provider */
static ngx_thread_pool_t  *ngx_http_rtagent_tts_local_pool;

static ngx_str_t  ngx_http_rtagent_speech_pool_name =
                      ngx_string("rtagent_speech");


static char *
ngx_http_rtagent_tts_local_configure(ngx_conf_t *cf)
{
    ngx_http_rtagent_tts_local_pool =
        ngx_thread_pool_add(cf, &ngx_http_rtagent_speech_pool_name);

    return ngx_http_rtagent_tts_local_pool ? NGX_CONF_OK : NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_rtagent_tts_local_open(ngx_http_rtagent_tts_t *tts)
{
    tts->ctx = ngx_pcalloc(tts->pool,
                           sizeof(ngx_http_rtagent_tts_local_ctx_t));

    return tts->ctx ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_rtagent_tts_local_synth(ngx_http_rtagent_tts_t *tts,
    ngx_str_t *text)
{
    size_t                             len;
    ngx_http_rtagent_tts_local_ctx_t  *ctx = tts->ctx;
    ngx_http_rtagent_tts_local_job_t  *job;

    if (ctx->job != NULL) {
        ngx_log_error(NGX_LOG_ALERT, tts->log, 0,
                      "rtagent tts local: a piece is under way, call:%V",
                      tts->call_id);
        return NGX_ERROR;
    }

    job = ngx_calloc(sizeof(ngx_http_rtagent_tts_local_job_t) + text->len + 1,
                     tts->log);
    if (job == NULL) {
        return NGX_ERROR;
    }

    job->tts = tts;
    job->text = (char *) (job + 1);
    ngx_memcpy(job->text, text->data, text->len);

    len = ngx_min(tts->voice.voice.len, sizeof(job->voice) - 1);
    if (len) {
        ngx_memcpy(job->voice, tts->voice.voice.data, len);

    } else {
        ngx_cpystrn((u_char *) job->voice,
                    (u_char *) NGX_HTTP_RTAGENT_TTS_LOCAL_VOICE,
                    sizeof(job->voice));
    }

    job->wpm = espeakRATE_NORMAL
               * (int) (tts->voice.rate ? tts->voice.rate : 100) / 100;
    job->wpm = ngx_max(espeakRATE_MINIMUM,
                       ngx_min(job->wpm, espeakRATE_MAXIMUM));

    job->task.ctx = job;
    job->task.handler = ngx_http_rtagent_tts_local_thread;
    job->task.event.handler = ngx_http_rtagent_tts_local_done;
    job->task.event.data = job;
    /* the session, and its log, may be gone when the task comes back */
    job->task.event.log = ngx_cycle->log;

    if (ngx_thread_task_post(ngx_http_rtagent_tts_local_pool, &job->task)
        != NGX_OK)
    {
        ngx_free(job);
        return NGX_ERROR;
    }

    ctx->job = job;
    ctx->cancelled = 0;

    return NGX_OK;
}


/* cancel and close: the job, if any, is left to free itself */

static void
ngx_http_rtagent_tts_local_cancel(ngx_http_rtagent_tts_t *tts)
{
    ngx_http_rtagent_tts_local_ctx_t  *ctx = tts->ctx;

    if (ctx == NULL) {
        return;
    }

    if (ctx->job != NULL) {
        ctx->job->tts = NULL;
        ctx->job = NULL;
    }

    ctx->cancelled = 1;
}


/* in a pool thread */

static void
ngx_http_rtagent_tts_local_thread(void *data, ngx_log_t *log)
{
    ngx_http_rtagent_tts_local_job_t  *job = data;

    (void) pthread_mutex_lock(&ngx_http_rtagent_espeak_lock);

    if (ngx_http_rtagent_espeak_rate == 0) {
        ngx_http_rtagent_espeak_rate =
            espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL,
                              espeakINITIALIZE_DONT_EXIT);

        if (ngx_http_rtagent_espeak_rate > 0) {
            espeak_SetSynthCallback(ngx_http_rtagent_tts_local_audio);
        }
    }

    job->rate = ngx_http_rtagent_espeak_rate;

    if (job->rate <= 0) {
        ngx_http_rtagent_espeak_rate = 0;
        job->err = "espeak-ng failed to initialize";
        goto done;
    }

    if (espeak_SetVoiceByName(job->voice) != EE_OK) {
        job->err = "no such espeak-ng voice";
        goto done;
    }

    (void) espeak_SetParameter(espeakRATE, job->wpm, 0);

    if (espeak_Synth(job->text, ngx_strlen(job->text) + 1, 0, POS_CHARACTER,
                     0, espeakCHARS_UTF8, NULL, job)
        != EE_OK)
    {
        job->err = "espeak-ng synthesis failed";
    }

done:

    (void) pthread_mutex_unlock(&ngx_http_rtagent_espeak_lock);
}


/* espeak-ng's callback, in the pool thread, under the lock */

static int
ngx_http_rtagent_tts_local_audio(short *wav, int n, espeak_EVENT *events)
{
    size_t                             cap;
    int16_t                           *p;
    ngx_http_rtagent_tts_local_job_t  *job;

    job = events->user_data;

    if (wav == NULL || n <= 0 || job == NULL) {
        return 0;
    }

    if (job->samples + n > job->cap) {
        cap = ngx_max(job->cap * 2, job->samples + n + 8192);

        if (cap > (size_t) job->rate * NGX_HTTP_RTAGENT_TTS_LOCAL_MAX_SEC) {
            job->err = "the text is too long for one piece";
            return 1;
        }

        p = realloc(job->pcm, cap * sizeof(int16_t));
        if (p == NULL) {
            job->err = "out of memory";
            return 1;
        }

        job->pcm = p;
        job->cap = cap;
    }

    ngx_memcpy(job->pcm + job->samples, wav, n * sizeof(int16_t));
    job->samples += n;

    return 0;
}


/* back on the event loop */

static void
ngx_http_rtagent_tts_local_done(ngx_event_t *ev)
{
    ngx_http_rtagent_tts_t            *tts;
    ngx_http_rtagent_tts_local_ctx_t  *ctx;
    ngx_http_rtagent_tts_local_job_t  *job = ev->data;

    tts = job->tts;

    if (tts == NULL) {
        ngx_http_rtagent_tts_local_free(job);
        return;
    }

    ctx = tts->ctx;
    ctx->job = NULL;

    if (job->err != NULL) {
        ngx_log_error(NGX_LOG_ERR, tts->log, 0,
                      "rtagent tts local: %s, call:%V", job->err,
                      tts->call_id);
        ngx_http_rtagent_tts_local_free(job);
        tts->on_done(tts, NGX_HTTP_RTAGENT_SPEECH_INTERNAL, "espeak-ng");
        return;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, tts->log, 0,
                   "rtagent tts local: %uz samples at %d Hz, call:%V",
                   job->samples, job->rate, tts->call_id);

    if (job->samples) {
        tts->on_audio(tts, job->pcm, job->samples, job->rate);
    }

    ngx_http_rtagent_tts_local_free(job);

    /* on_audio may have cancelled the session or the piece */
    if (!ctx->cancelled) {
        tts->on_done(tts, NGX_HTTP_RTAGENT_SPEECH_OK, NULL);
    }
}


static void
ngx_http_rtagent_tts_local_free(ngx_http_rtagent_tts_local_job_t *job)
{
    free(job->pcm);
    ngx_free(job);
}
