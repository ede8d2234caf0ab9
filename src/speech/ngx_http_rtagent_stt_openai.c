
/*
 * STT provider "openai": POST /audio/transcriptions of OpenAI, or of an
 * Azure OpenAI deployment (PROTOCOLS.md 10).  The utterance is kept as it
 * is fed and sent at its end as a WAV file in a multipart/form-data body
 * (a WAV header must know its length); with stream=true (models other
 * than whisper-1) the text comes back as SSE deltas, reported as partial
 * results, else as one JSON object.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <speech/ngx_http_rtagent_stt.h>
#include <speech/ngx_http_rtagent_speech_cloud.h>
#include <speech/ngx_http_rtagent_wav.h>
#include <speech/ngx_http_rtagent_multipart.h>
#include <speech/ngx_http_rtagent_stt_openai_parse.h>


/* an utterance longer than this is cut (the session bounds it first) */
#define NGX_HTTP_RTAGENT_STT_OPENAI_MAX_SEC  120

/* an SSE event or the JSON body, and the partial text, at most */
#define NGX_HTTP_RTAGENT_STT_OPENAI_EVENT    (64 * 1024)
#define NGX_HTTP_RTAGENT_STT_OPENAI_PARTIAL  (16 * 1024)


typedef struct {
    ngx_http_rtagent_stt_t          *stt;
    ngx_http_rtagent_http_job_t     *job;

    /* the utterance, on the heap: freed when sent, cancelled, closed */
    u_char                          *pcm;
    size_t                           len;
    size_t                           size;
    unsigned                         active:1;
    unsigned                         cut:1;

    /* the response */
    ngx_http_rtagent_transcript_t    parser;
    u_char                          *partial;
    size_t                           partial_len;
    ngx_str_t                        final;
    ngx_str_t                        error_body;
    ngx_msec_t                       duration;
    unsigned                         ok:1;
    unsigned                         got_final:1;
} ngx_http_rtagent_stt_openai_t;


static ngx_int_t ngx_http_rtagent_stt_openai_open(ngx_http_rtagent_stt_t *stt);
static ngx_int_t ngx_http_rtagent_stt_openai_begin(
    ngx_http_rtagent_stt_t *stt);
static ngx_int_t ngx_http_rtagent_stt_openai_feed(ngx_http_rtagent_stt_t *stt,
    const u_char *pcm, size_t len);
static ngx_int_t ngx_http_rtagent_stt_openai_finish(
    ngx_http_rtagent_stt_t *stt);
static void ngx_http_rtagent_stt_openai_cancel(ngx_http_rtagent_stt_t *stt);
static void ngx_http_rtagent_stt_openai_cleanup(void *data);
static void ngx_http_rtagent_stt_openai_free(
    ngx_http_rtagent_stt_openai_t *ctx);
static void ngx_http_rtagent_stt_openai_header(
    ngx_http_rtagent_http_job_t *job);
static void ngx_http_rtagent_stt_openai_data(ngx_http_rtagent_http_job_t *job,
    u_char *data, size_t len);
static void ngx_http_rtagent_stt_openai_done(ngx_http_rtagent_http_job_t *job);
static void ngx_http_rtagent_stt_openai_delta(void *data, const char *text,
    size_t len);
static void ngx_http_rtagent_stt_openai_final(void *data, const char *text,
    size_t len);


const ngx_http_rtagent_stt_provider_t  ngx_http_rtagent_stt_openai = {
    ngx_string("openai"),
    NULL,
    NULL,
    ngx_http_rtagent_stt_openai_open,
    ngx_http_rtagent_stt_openai_begin,
    ngx_http_rtagent_stt_openai_feed,
    ngx_http_rtagent_stt_openai_finish,
    ngx_http_rtagent_stt_openai_cancel,
    ngx_http_rtagent_stt_openai_cancel,
    NULL                                   /* configure */
};


static ngx_int_t
ngx_http_rtagent_stt_openai_open(ngx_http_rtagent_stt_t *stt)
{
    ngx_pool_cleanup_t                    *cln;
    ngx_http_rtagent_stt_openai_t         *ctx;
    ngx_http_rtagent_speech_cloud_conf_t  *scf;

    scf = ngx_http_rtagent_speech_cloud_conf(stt->loc_conf);

    if (scf->openai_key.len == 0) {
        ngx_log_error(NGX_LOG_ERR, stt->log, 0,
                      "rtagent stt openai: no rtagent_openai_audio_key, "
                      "call: %V", stt->call_id);
        return NGX_ERROR;
    }

    if (stt->rate == 0 || stt->rate > 48000) {
        ngx_log_error(NGX_LOG_ERR, stt->log, 0,
                      "rtagent stt openai: audio at %ui Hz, call: %V",
                      stt->rate, stt->call_id);
        return NGX_ERROR;
    }

    ctx = ngx_pcalloc(stt->pool, sizeof(ngx_http_rtagent_stt_openai_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    /* the heap buffers go with the call's pool whatever happens */
    cln = ngx_pool_cleanup_add(stt->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_rtagent_stt_openai_cleanup;
    cln->data = ctx;

    ctx->stt = stt;
    stt->ctx = ctx;

    return NGX_OK;
}


static void
ngx_http_rtagent_stt_openai_cleanup(void *data)
{
    ngx_http_rtagent_stt_openai_t  *ctx = data;

    if (ctx->job) {
        ngx_http_rtagent_http_cancel(ctx->job);
        ctx->job = NULL;
    }

    ngx_http_rtagent_stt_openai_free(ctx);
}


static void
ngx_http_rtagent_stt_openai_free(ngx_http_rtagent_stt_openai_t *ctx)
{
    if (ctx->pcm) {
        ngx_free(ctx->pcm);
        ctx->pcm = NULL;
    }

    if (ctx->parser.buf) {
        ngx_free(ctx->parser.buf);
        ctx->parser.buf = NULL;
    }

    if (ctx->partial) {
        ngx_free(ctx->partial);
        ctx->partial = NULL;
    }

    ctx->len = 0;
    ctx->size = 0;
}


static ngx_int_t
ngx_http_rtagent_stt_openai_begin(ngx_http_rtagent_stt_t *stt)
{
    ngx_http_rtagent_stt_openai_t  *ctx = stt->ctx;

    /* a new utterance replaces one under way */
    ngx_http_rtagent_stt_openai_cancel(stt);

    ctx->active = 1;
    ctx->cut = 0;
    ctx->len = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtagent_stt_openai_feed(ngx_http_rtagent_stt_t *stt,
    const u_char *pcm, size_t len)
{
    u_char                         *p;
    size_t                          size, max;
    ngx_http_rtagent_stt_openai_t  *ctx = stt->ctx;

    if (!ctx->active) {
        return NGX_OK;
    }

    max = NGX_HTTP_RTAGENT_STT_OPENAI_MAX_SEC * stt->rate * 2;

    if (ctx->len + len > max) {
        if (!ctx->cut) {
            ngx_log_error(NGX_LOG_WARN, stt->log, 0,
                          "rtagent stt openai: the utterance is cut at "
                          "%d s, call: %V",
                          NGX_HTTP_RTAGENT_STT_OPENAI_MAX_SEC, stt->call_id);
            ctx->cut = 1;
        }

        len = max - ctx->len;
    }

    if (ctx->len + len > ctx->size) {
        size = ngx_max(ctx->size * 2, 64 * 1024);

        while (size < ctx->len + len) {
            size *= 2;
        }

        size = ngx_min(size, max);

        p = ngx_alloc(size, stt->log);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (ctx->len) {
            ngx_memcpy(p, ctx->pcm, ctx->len);
        }

        if (ctx->pcm) {
            ngx_free(ctx->pcm);
        }

        ctx->pcm = p;
        ctx->size = size;
    }

    ngx_memcpy(ctx->pcm + ctx->len, pcm, len);
    ctx->len += len;

    return NGX_OK;
}


/* the request body: the fields, the WAV file, the closing delimiter */

static u_char *
ngx_http_rtagent_stt_openai_body(ngx_http_rtagent_stt_openai_t *ctx,
    ngx_http_rtagent_speech_cloud_conf_t *scf, ngx_http_rtagent_multipart_t *mp,
    size_t *len)
{
    u_char     *body, *p, *dst;
    size_t      n, pcm_len;
    uint32_t    rnd[4];
    ngx_str_t  *lang;
    ngx_int_t   stream;
    ngx_uint_t  tries, pass, i;
    u_char      wav[NGX_HTTP_RTAGENT_WAV_HEADER];

    pcm_len = ctx->len & ~(size_t) 1;

    /* whisper-1 ignores stream=true: do not ask unless told to */
    stream = scf->openai_stt_stream;

    if (stream == NGX_CONF_UNSET) {
        stream = !(scf->openai_stt_model.len == 9
                   && ngx_strncmp(scf->openai_stt_model.data, "whisper-1", 9)
                      == 0);
    }

    lang = ctx->stt->language.len ? &ctx->stt->language
                                  : &scf->openai_stt_language;

    (void) ngx_http_rtagent_wav_header(wav, (uint32_t) ctx->stt->rate,
                                       pcm_len);

    /* a boundary that none of the parts holds (128 random bits) */

    for (tries = 0; /* void */ ; tries++) {
        for (i = 0; i < 4; i++) {
            rnd[i] = (uint32_t) ngx_random();
        }

        ngx_http_rtagent_multipart_init(mp, rnd);

        if (ngx_http_rtagent_multipart_fits(mp, ctx->pcm, pcm_len)
            && ngx_http_rtagent_multipart_fits(mp, lang->data, lang->len)
            && ngx_http_rtagent_multipart_fits(mp,
                   scf->openai_stt_model.data, scf->openai_stt_model.len))
        {
            break;
        }

        if (tries == 8) {
            return NULL;
        }
    }

    /* pass 0 counts, pass 1 writes */

    body = NULL;
    n = 0;

    for (pass = 0; pass < 2; pass++) {
        p = body;

#define put(w)  do { size_t k_ = (w); n += pass ? 0 : k_;                    \
                     if (p) p += k_; } while (0)

        dst = p;
        put(ngx_http_rtagent_multipart_field(mp, dst, "model",
                scf->openai_stt_model.data, scf->openai_stt_model.len));

        if (lang->len) {
            dst = p;
            put(ngx_http_rtagent_multipart_field(mp, dst, "language",
                    lang->data, lang->len));
        }

        dst = p;
        put(ngx_http_rtagent_multipart_field(mp, dst, "response_format",
                (u_char *) "json", 4));

        if (stream) {
            dst = p;
            put(ngx_http_rtagent_multipart_field(mp, dst, "stream",
                    (u_char *) "true", 4));
        }

        dst = p;
        put(ngx_http_rtagent_multipart_file(mp, dst, "file",
                "utterance.wav", "audio/wav"));

        if (p) {
            p = ngx_cpymem(p, wav, sizeof(wav));
            p = ngx_cpymem(p, ctx->pcm, pcm_len);

        } else {
            n += sizeof(wav) + pcm_len;
        }

        dst = p;
        put(ngx_http_rtagent_multipart_end(mp, dst));

#undef put

        if (pass == 0) {
            body = ngx_alloc(n, ctx->stt->log);
            if (body == NULL) {
                return NULL;
            }
        }
    }

    *len = n;

    return body;
}


static ngx_int_t
ngx_http_rtagent_stt_openai_finish(ngx_http_rtagent_stt_t *stt)
{
    u_char                                *body, type[128];
    size_t                                 len;
    ngx_int_t                              rc;
    ngx_str_t                              name, value;
    ngx_http_rtagent_http_job_t           *job;
    ngx_http_rtagent_multipart_t           mp;
    ngx_http_rtagent_stt_openai_t         *ctx = stt->ctx;
    ngx_http_rtagent_speech_cloud_conf_t  *scf;

    if (!ctx->active || ctx->job) {
        return NGX_ERROR;
    }

    ctx->active = 0;

    if (ctx->len < 2) {
        ngx_log_error(NGX_LOG_ERR, stt->log, 0,
                      "rtagent stt openai: an utterance without audio, "
                      "call: %V", stt->call_id);
        return NGX_ERROR;
    }

    scf = ngx_http_rtagent_speech_cloud_conf(stt->loc_conf);

    ctx->duration = (ngx_msec_t) (ctx->len / 2 * 1000 / stt->rate);

    body = ngx_http_rtagent_stt_openai_body(ctx, scf, &mp, &len);

    /* the audio is in the body now */
    ngx_free(ctx->pcm);
    ctx->pcm = NULL;
    ctx->size = 0;
    ctx->len = 0;

    if (body == NULL) {
        return NGX_ERROR;
    }

    job = ngx_http_rtagent_speech_openai_job(scf, stt->loc_conf, stt->log,
                                             stt->call_id, "transcriptions",
                                             &scf->openai_stt_model);
    if (job == NULL) {
        ngx_free(body);
        return NGX_ERROR;
    }

    rc = ngx_http_rtagent_http_set_body(job, body, len);
    ngx_free(body);

    ngx_str_set(&name, "Content-Type");
    value.data = type;
    value.len = ngx_http_rtagent_multipart_type(&mp, type);
    rc |= ngx_http_rtagent_http_add_header(job, &name, &value);

    if (rc != NGX_OK) {
        ngx_http_rtagent_http_cancel(job);
        return NGX_ERROR;
    }

    if (ctx->parser.buf == NULL) {
        ctx->parser.buf = ngx_alloc(NGX_HTTP_RTAGENT_STT_OPENAI_EVENT,
                                    stt->log);
        ctx->partial = ngx_alloc(NGX_HTTP_RTAGENT_STT_OPENAI_PARTIAL,
                                 stt->log);

        if (ctx->parser.buf == NULL || ctx->partial == NULL) {
            ngx_http_rtagent_http_cancel(job);
            return NGX_ERROR;
        }
    }

    job->data = ctx;
    job->on_header = ngx_http_rtagent_stt_openai_header;
    job->on_data = ngx_http_rtagent_stt_openai_data;
    job->on_done = ngx_http_rtagent_stt_openai_done;

    ctx->ok = 0;
    ctx->got_final = 0;
    ctx->partial_len = 0;
    ctx->final.len = 0;
    ctx->error_body.len = 0;

    if (ngx_http_rtagent_http_start(job) != NGX_OK) {
        ngx_http_rtagent_http_cancel(job);
        return NGX_ERROR;
    }

    ctx->job = job;

    return NGX_OK;
}


static void
ngx_http_rtagent_stt_openai_cancel(ngx_http_rtagent_stt_t *stt)
{
    ngx_http_rtagent_stt_openai_t  *ctx = stt->ctx;

    if (ctx == NULL) {
        return;
    }

    if (ctx->job) {
        ngx_http_rtagent_http_cancel(ctx->job);
        ctx->job = NULL;
    }

    ctx->active = 0;
    ngx_http_rtagent_stt_openai_free(ctx);
}


static void
ngx_http_rtagent_stt_openai_header(ngx_http_rtagent_http_job_t *job)
{
    ngx_str_t                      *type;
    ngx_http_rtagent_stt_openai_t  *ctx = job->data;

    ctx->ok = (job->status >= 200 && job->status < 300);

    if (!ctx->ok) {
        return;
    }

    type = ngx_http_rtagent_http_header(job, "content-type");

    /* a new parse in the buffer kept from finish() */
    ctx->parser.len = 0;
    ctx->parser.field = 0;
    ctx->parser.matched = 0;
    ctx->parser.cr = 0;
    ctx->parser.done = 0;
    ctx->parser.failed = 0;
    ctx->parser.err[0] = '\0';
    ctx->parser.size = NGX_HTTP_RTAGENT_STT_OPENAI_EVENT;
    ctx->parser.data = ctx;
    ctx->parser.on_delta = ngx_http_rtagent_stt_openai_delta;
    ctx->parser.on_final = ngx_http_rtagent_stt_openai_final;
    ctx->parser.sse = (type && type->len >= 17
                       && ngx_strncasecmp(type->data,
                                          (u_char *) "text/event-stream", 17)
                          == 0);
}


static void
ngx_http_rtagent_stt_openai_data(ngx_http_rtagent_http_job_t *job,
    u_char *data, size_t len)
{
    ngx_http_rtagent_stt_openai_t  *ctx = job->data;

    if (!ctx->ok) {
        ngx_http_rtagent_speech_keep_error(ctx->stt->pool, &ctx->error_body,
                                           data, len);
        return;
    }

    /* a bad response is reported from on_done, when it has ended */
    (void) ngx_http_rtagent_transcript_feed(&ctx->parser, (char *) data, len);
}


/* a delta: the text so far is a partial result, given at once */

static void
ngx_http_rtagent_stt_openai_delta(void *data, const char *text, size_t len)
{
    ngx_http_rtagent_stt_openai_t  *ctx = data;

    size_t                          i;
    ngx_http_rtagent_stt_result_t   res;

    len = ngx_min(len, NGX_HTTP_RTAGENT_STT_OPENAI_PARTIAL - ctx->partial_len);
    ngx_memcpy(ctx->partial + ctx->partial_len, text, len);
    ctx->partial_len += len;

    /* blanks only are no words yet (a barge-in counts characters) */
    for (i = 0; i < ctx->partial_len; i++) {
        if (ctx->partial[i] != ' ' && ctx->partial[i] != '\n'
            && ctx->partial[i] != '\t')
        {
            break;
        }
    }

    if (i == ctx->partial_len) {
        return;
    }

    ngx_memzero(&res, sizeof(res));
    res.text.data = ctx->partial;
    res.text.len = ctx->partial_len;
    res.confidence = -1;
    res.language = ctx->stt->language;
    res.duration = ctx->duration;

    ctx->stt->on_result(ctx->stt, &res);
}


static void
ngx_http_rtagent_stt_openai_final(void *data, const char *text, size_t len)
{
    ngx_http_rtagent_stt_openai_t  *ctx = data;

    ctx->got_final = 1;

    ctx->final.data = ngx_pnalloc(ctx->stt->pool, len);
    if (ctx->final.data == NULL) {
        ctx->final.len = 0;
        return;
    }

    ngx_memcpy(ctx->final.data, text, len);
    ctx->final.len = len;
}


static void
ngx_http_rtagent_stt_openai_done(ngx_http_rtagent_http_job_t *job)
{
    u_char                         *p, *last;
    ngx_uint_t                      level;
    const char                     *detail;
    ngx_http_rtagent_stt_t         *stt;
    ngx_http_rtagent_stt_result_t   res;
    ngx_http_rtagent_speech_err_e   err;
    ngx_http_rtagent_stt_openai_t  *ctx = job->data;

    stt = ctx->stt;
    ctx->job = NULL;

    err = ngx_http_rtagent_speech_http_err(job, &ctx->error_body, stt->pool,
                                           &detail);

    if (err == NGX_HTTP_RTAGENT_SPEECH_OK
        && ngx_http_rtagent_transcript_end(&ctx->parser) != 0)
    {
        err = NGX_HTTP_RTAGENT_SPEECH_SERVER;
        detail = ctx->parser.err;
    }

    if (err == NGX_HTTP_RTAGENT_SPEECH_OK && ctx->final.data == NULL) {
        err = NGX_HTTP_RTAGENT_SPEECH_INTERNAL;
        detail = "out of memory";
    }

    if (err == NGX_HTTP_RTAGENT_SPEECH_OK) {
        /* no words in it: blanks only */
        p = ctx->final.data;
        last = p + ctx->final.len;

        while (p < last && (*p == ' ' || *p == '\n' || *p == '\t')) {
            p++;
        }

        if (p == last) {
            err = NGX_HTTP_RTAGENT_SPEECH_NOMATCH;
            detail = "an empty transcript";
        }
    }

    if (err != NGX_HTTP_RTAGENT_SPEECH_OK) {
        level = (err == NGX_HTTP_RTAGENT_SPEECH_NOMATCH) ? NGX_LOG_INFO
                                                         : NGX_LOG_ERR;

        ngx_log_error(level, stt->log, 0, "rtagent stt openai: %s: %s, call: %V",
                      ngx_http_rtagent_speech_err_name(err), detail,
                      stt->call_id);

        stt->on_error(stt, err, detail);
        return;
    }

    ngx_memzero(&res, sizeof(res));
    res.text = ctx->final;
    res.confidence = -1;
    res.language = stt->language.len ? stt->language
                   : ngx_http_rtagent_speech_cloud_conf(stt->loc_conf)
                         ->openai_stt_language;
    res.duration = ctx->duration;
    res.final = 1;

    stt->on_result(stt, &res);
}
