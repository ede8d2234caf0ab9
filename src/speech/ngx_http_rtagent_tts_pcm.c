
/*
 * A streamed PCM16 response for the cloud TTS providers (see
 * ngx_http_rtagent_tts_pcm.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <speech/ngx_http_rtagent_tts_pcm.h>
#include <speech/ngx_http_rtagent_speech_cloud.h>


/* samples handed to on_audio at once, at most (aligned copies) */
#define NGX_HTTP_RTAGENT_TTS_PCM_CHUNK  2048


typedef struct {
    ngx_http_rtagent_http_job_t   *job;
    ngx_http_rtagent_http_job_t   *held;        /* waits for a token */
    ngx_http_rtagent_speech_token_waiter_t  waiter;
    ngx_uint_t                     rate;
    int16_t                       *samples;     /* CHUNK of them */
    u_char                         odd;         /* a sample's first byte */
    unsigned                       has_odd:1;
    unsigned                       audio:1;     /* a 2xx is streaming */
    ngx_str_t                      error_body;  /* of an error status */
    size_t                         bytes;       /* of audio, this piece */
} ngx_http_rtagent_tts_pcm_t;


static void ngx_http_rtagent_tts_pcm_cleanup(void *data);
static void ngx_http_rtagent_tts_pcm_header(ngx_http_rtagent_http_job_t *job);
static void ngx_http_rtagent_tts_pcm_data(ngx_http_rtagent_http_job_t *job,
    u_char *data, size_t len);
static void ngx_http_rtagent_tts_pcm_done(ngx_http_rtagent_http_job_t *job);


ngx_int_t
ngx_http_rtagent_tts_pcm_open(ngx_http_rtagent_tts_t *tts, ngx_uint_t rate)
{
    ngx_pool_cleanup_t          *cln;
    ngx_http_rtagent_tts_pcm_t  *ctx;

    ctx = ngx_pcalloc(tts->pool, sizeof(ngx_http_rtagent_tts_pcm_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    /* a piece under way when the call's pool goes must not call back */
    cln = ngx_pool_cleanup_add(tts->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_rtagent_tts_pcm_cleanup;
    cln->data = tts;

    ctx->samples = ngx_palloc(tts->pool,
                              NGX_HTTP_RTAGENT_TTS_PCM_CHUNK * sizeof(int16_t));
    if (ctx->samples == NULL) {
        return NGX_ERROR;
    }

    ctx->rate = rate;
    tts->ctx = ctx;

    return NGX_OK;
}


ngx_int_t
ngx_http_rtagent_tts_pcm_start(ngx_http_rtagent_tts_t *tts,
    ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_tts_pcm_t  *ctx = tts->ctx;

    if (ctx->job || ctx->held) {
        ngx_log_error(NGX_LOG_ERR, tts->log, 0,
                      "rtagent tts %V: a piece is under way, call: %V",
                      &tts->provider->name, tts->call_id);
        ngx_http_rtagent_http_cancel(job);
        return NGX_ERROR;
    }

    job->data = tts;
    job->on_header = ngx_http_rtagent_tts_pcm_header;
    job->on_data = ngx_http_rtagent_tts_pcm_data;
    job->on_done = ngx_http_rtagent_tts_pcm_done;

    ctx->has_odd = 0;
    ctx->audio = 0;
    ctx->error_body.len = 0;
    ctx->bytes = 0;

    if (ngx_http_rtagent_http_start(job) != NGX_OK) {
        ngx_http_rtagent_http_cancel(job);
        return NGX_ERROR;
    }

    ctx->job = job;

    return NGX_OK;
}


ngx_http_rtagent_speech_token_waiter_t *
ngx_http_rtagent_tts_pcm_waiter(ngx_http_rtagent_tts_t *tts)
{
    ngx_http_rtagent_tts_pcm_t  *ctx = tts->ctx;

    return &ctx->waiter;
}


ngx_int_t
ngx_http_rtagent_tts_pcm_hold(ngx_http_rtagent_tts_t *tts,
    ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_tts_pcm_t  *ctx = tts->ctx;

    if (ctx->job || ctx->held) {
        ngx_log_error(NGX_LOG_ERR, tts->log, 0,
                      "rtagent tts %V: a piece is under way, call: %V",
                      &tts->provider->name, tts->call_id);
        return NGX_ERROR;
    }

    ctx->held = job;

    return NGX_OK;
}


ngx_http_rtagent_http_job_t *
ngx_http_rtagent_tts_pcm_unhold(ngx_http_rtagent_tts_t *tts)
{
    ngx_http_rtagent_http_job_t  *job;
    ngx_http_rtagent_tts_pcm_t   *ctx = tts->ctx;

    job = ctx->held;
    ctx->held = NULL;

    return job;
}


void
ngx_http_rtagent_tts_pcm_cancel(ngx_http_rtagent_tts_t *tts)
{
    ngx_http_rtagent_tts_pcm_t  *ctx = tts->ctx;

    if (ctx == NULL) {
        return;
    }

    if (ctx->held) {
        ngx_http_rtagent_speech_token_wait_cancel(&ctx->waiter);
        ngx_http_rtagent_http_cancel(ctx->held);
        ctx->held = NULL;
    }

    if (ctx->job == NULL) {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, tts->log, 0,
                   "rtagent tts: piece cancelled, call: %V", tts->call_id);

    ngx_http_rtagent_http_cancel(ctx->job);
    ctx->job = NULL;
}


static void
ngx_http_rtagent_tts_pcm_cleanup(void *data)
{
    ngx_http_rtagent_tts_t  *tts = data;

    ngx_http_rtagent_tts_pcm_cancel(tts);
}


static void
ngx_http_rtagent_tts_pcm_header(ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_tts_t  *tts = job->data;

    ngx_http_rtagent_tts_pcm_t  *ctx = tts->ctx;

    ctx->audio = (job->status >= 200 && job->status < 300);
}


static void
ngx_http_rtagent_tts_pcm_data(ngx_http_rtagent_http_job_t *job, u_char *data,
    size_t len)
{
    ngx_http_rtagent_tts_t  *tts = job->data;

    size_t                       i;
    u_char                      *p, *last;
    ngx_http_rtagent_tts_pcm_t  *ctx = tts->ctx;

    if (!ctx->audio) {
        ngx_http_rtagent_speech_keep_error(tts->pool, &ctx->error_body,
                                           data, len);
        return;
    }

    ctx->bytes += len;

    p = data;
    last = data + len;

    /* whole samples in aligned copies; a byte left over waits */

    while (p < last && ctx->job == job) {
        i = 0;

        if (ctx->has_odd) {
            ctx->samples[i++] = (int16_t) (ctx->odd | (p[0] << 8));
            ctx->has_odd = 0;
            p++;
        }

        while (i < NGX_HTTP_RTAGENT_TTS_PCM_CHUNK && last - p >= 2) {
            ctx->samples[i++] = (int16_t) (p[0] | (p[1] << 8));
            p += 2;
        }

        if (last - p == 1 && i < NGX_HTTP_RTAGENT_TTS_PCM_CHUNK) {
            ctx->odd = p[0];
            ctx->has_odd = 1;
            p++;
        }

        if (i) {
            /* may cancel the piece (barge-in): the loop then stops */
            tts->on_audio(tts, ctx->samples, i, ctx->rate);
        }
    }
}


static void
ngx_http_rtagent_tts_pcm_done(ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_tts_t  *tts = job->data;

    const char                     *detail;
    ngx_http_rtagent_tts_pcm_t     *ctx = tts->ctx;
    ngx_http_rtagent_speech_err_e   err;

    ctx->job = NULL;

    err = ngx_http_rtagent_speech_http_err(job, &ctx->error_body, tts->pool,
                                           &detail);

    if (err == NGX_HTTP_RTAGENT_SPEECH_OK && ctx->bytes == 0) {
        err = NGX_HTTP_RTAGENT_SPEECH_SERVER;
        detail = "no audio in the response";
    }

    if (err != NGX_HTTP_RTAGENT_SPEECH_OK) {
        ngx_log_error(NGX_LOG_ERR, tts->log, 0,
                      "rtagent tts %V: %s: %s, call: %V",
                      &tts->provider->name,
                      ngx_http_rtagent_speech_err_name(err), detail,
                      tts->call_id);
    }

    tts->on_done(tts, err, detail);
}
