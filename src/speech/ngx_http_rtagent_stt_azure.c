
/*
 * STT provider "azure": Azure Speech real-time recognition over WebSocket
 * (PROTOCOLS.md 8), with the USP codec (ngx_http_rtagent_usp) on the
 * generic WebSocket client (ngx_http_rtagent_wsc).  One connection per
 * call, opened at the first utterance and again at the next one if the
 * service closed it; speech.config once per connection; per utterance
 * speech.context and the audio from the speech onset (pre-roll included),
 * a RIFF header first, PCM16 at 16 kHz (resampled from the call's rate),
 * an empty audio message at its end.  speech.hypothesis gives partial
 * results; the phrases (detailed: NBest[0]) make the final one at
 * turn.end; NoMatch / InitialSilenceTimeout are "nomatch".
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <io/ngx_http_rtagent_wsc.h>
#include <audio/ngx_http_rtagent_resample.h>
#include <speech/ngx_http_rtagent_stt.h>
#include <speech/ngx_http_rtagent_speech_cloud.h>
#include <speech/ngx_http_rtagent_usp.h>
#include <speech/ngx_http_rtagent_wav.h>


#define NGX_HTTP_RTAGENT_STT_AZURE_RATE      16000

/* the text of a turn's phrases, of a hypothesis, at most */
#define NGX_HTTP_RTAGENT_STT_AZURE_TEXT      (16 * 1024)

/* a message from the service, at most */
#define NGX_HTTP_RTAGENT_STT_AZURE_MSG       (256 * 1024)

/*
 * From the end of the audio to turn.end: rtagent_upstream_timeout, but
 * at most this (a caller waits for the answer)
 */
#define NGX_HTTP_RTAGENT_STT_AZURE_TIMEOUT   15000

/* the audio fed before the connection is up (a token fetch), at most */
#define NGX_HTTP_RTAGENT_STT_AZURE_HELD_SEC  30


typedef struct {
    ngx_http_rtagent_stt_t                 *stt;
    ngx_http_rtagent_speech_cloud_conf_t   *scf;

    ngx_http_rtagent_wsc_t                 *wsc;
    unsigned                                configured:1;  /* speech.config */

    /* the turn */
    char                                    request_id[
                                                NGX_HTTP_RTAGENT_USP_ID_LEN
                                                + 1];
    unsigned                                active:1;
    unsigned                                finished:1;
    unsigned                                waiting:1;     /* a token */
    unsigned                                first:1;       /* audio msg */
    unsigned                                taken:1;       /* by the
                                                              service */
    unsigned                                retried:1;     /* reconnected */
    unsigned                                unkept:1;      /* held full */

    ngx_http_rtagent_speech_token_waiter_t  waiter;
    ngx_event_t                             timer;

    ngx_http_rtagent_resample_t             rs;
    int16_t                                *resampled;
    size_t                                  resampled_max;

    /*
     * The turn's audio until the service has taken the turn (its first
     * message of it): held while the connection waits for a token, and
     * kept when sent, so that a connection the service closed before it
     * took the turn is opened again and given all of it.
     */
    u_char                                 *held;
    size_t                                  held_len;
    size_t                                  held_size;

    /* the results */
    char                                   *text;          /* heap */
    char                                   *phrases;       /* heap */
    size_t                                  phrases_len;
    double                                  confidence;
    int64_t                                 offset;
    int64_t                                 end;
    ngx_uint_t                              nomatch;
} ngx_http_rtagent_stt_azure_t;


static ngx_int_t ngx_http_rtagent_stt_azure_open(ngx_http_rtagent_stt_t *stt);
static ngx_int_t ngx_http_rtagent_stt_azure_begin(
    ngx_http_rtagent_stt_t *stt);
static ngx_int_t ngx_http_rtagent_stt_azure_feed(ngx_http_rtagent_stt_t *stt,
    const u_char *pcm, size_t len);
static ngx_int_t ngx_http_rtagent_stt_azure_finish(
    ngx_http_rtagent_stt_t *stt);
static void ngx_http_rtagent_stt_azure_cancel(ngx_http_rtagent_stt_t *stt);
static void ngx_http_rtagent_stt_azure_close(ngx_http_rtagent_stt_t *stt);
static void ngx_http_rtagent_stt_azure_cleanup(void *data);

static ngx_int_t ngx_http_rtagent_stt_azure_connect(
    ngx_http_rtagent_stt_azure_t *ctx);
static void ngx_http_rtagent_stt_azure_token(void *data,
    ngx_http_rtagent_speech_err_e err, const char *detail);
static ngx_int_t ngx_http_rtagent_stt_azure_start(
    ngx_http_rtagent_stt_azure_t *ctx);
static ngx_int_t ngx_http_rtagent_stt_azure_replay(
    ngx_http_rtagent_stt_azure_t *ctx);
static ngx_int_t ngx_http_rtagent_stt_azure_hold(
    ngx_http_rtagent_stt_azure_t *ctx, const u_char *pcm, size_t len);
static void ngx_http_rtagent_stt_azure_unhold(
    ngx_http_rtagent_stt_azure_t *ctx);
static ngx_int_t ngx_http_rtagent_stt_azure_text(
    ngx_http_rtagent_stt_azure_t *ctx, const char *path, const char *type,
    u_char *body, size_t len);
static ngx_int_t ngx_http_rtagent_stt_azure_audio(
    ngx_http_rtagent_stt_azure_t *ctx, const u_char *pcm, size_t len);
static void ngx_http_rtagent_stt_azure_opened(ngx_http_rtagent_wsc_t *wsc);
static void ngx_http_rtagent_stt_azure_message(ngx_http_rtagent_wsc_t *wsc,
    ngx_uint_t binary, u_char *data, size_t len);
static void ngx_http_rtagent_stt_azure_closed(ngx_http_rtagent_wsc_t *wsc,
    ngx_http_rtagent_wsc_end_e end, ngx_uint_t code, const char *detail);
static void ngx_http_rtagent_stt_azure_timeout(ngx_event_t *ev);
static void ngx_http_rtagent_stt_azure_fail(ngx_http_rtagent_stt_azure_t *ctx,
    ngx_http_rtagent_speech_err_e err, const char *detail);
static void ngx_http_rtagent_stt_azure_end_turn(
    ngx_http_rtagent_stt_azure_t *ctx);
static void ngx_http_rtagent_stt_azure_drop(ngx_http_rtagent_stt_azure_t *ctx);
#if (NGX_SSL)
static ngx_ssl_t *ngx_http_rtagent_stt_azure_ssl(
    ngx_http_rtagent_http_conf_t *hcf, ngx_log_t *log);
#endif


const ngx_http_rtagent_stt_provider_t  ngx_http_rtagent_stt_azure = {
    ngx_string("azure"),
    NULL,
    NULL,
    ngx_http_rtagent_stt_azure_open,
    ngx_http_rtagent_stt_azure_begin,
    ngx_http_rtagent_stt_azure_feed,
    ngx_http_rtagent_stt_azure_finish,
    ngx_http_rtagent_stt_azure_cancel,
    ngx_http_rtagent_stt_azure_close,
    NULL                                   /* configure */
};


static ngx_int_t
ngx_http_rtagent_stt_azure_open(ngx_http_rtagent_stt_t *stt)
{
    ngx_pool_cleanup_t                    *cln;
    ngx_http_rtagent_stt_azure_t          *ctx;
    ngx_http_rtagent_speech_cloud_conf_t  *scf;

    scf = ngx_http_rtagent_speech_cloud_conf(stt->loc_conf);

    if (scf->azure_key.len == 0 && scf->azure_token == NULL) {
        ngx_log_error(NGX_LOG_ERR, stt->log, 0,
                      "rtagent stt azure: no rtagent_azure_speech_key or "
                      "rtagent_azure_speech_token, call: %V", stt->call_id);
        return NGX_ERROR;
    }

    if (scf->azure_stt_url.len == 0 && scf->azure_region.len == 0) {
        ngx_log_error(NGX_LOG_ERR, stt->log, 0,
                      "rtagent stt azure: no rtagent_azure_speech_region "
                      "or rtagent_azure_stt_url, call: %V", stt->call_id);
        return NGX_ERROR;
    }

    if (stt->rate == 0 || stt->rate > 48000) {
        ngx_log_error(NGX_LOG_ERR, stt->log, 0,
                      "rtagent stt azure: audio at %ui Hz, call: %V",
                      stt->rate, stt->call_id);
        return NGX_ERROR;
    }

    ctx = ngx_pcalloc(stt->pool, sizeof(ngx_http_rtagent_stt_azure_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->stt = stt;
    ctx->scf = scf;

    ctx->timer.handler = ngx_http_rtagent_stt_azure_timeout;
    ctx->timer.data = ctx;
    ctx->timer.log = stt->log;

    if (ngx_http_rtagent_resample_init(&ctx->rs, stt->rate,
                                       NGX_HTTP_RTAGENT_STT_AZURE_RATE, 5)
        != 0)
    {
        return NGX_ERROR;
    }

    /* the connection and heap buffers go with the call's pool */
    cln = ngx_pool_cleanup_add(stt->pool, 0);
    if (cln == NULL) {
        ngx_http_rtagent_resample_free(&ctx->rs);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_rtagent_stt_azure_cleanup;
    cln->data = ctx;

    ctx->text = ngx_alloc(NGX_HTTP_RTAGENT_STT_AZURE_TEXT + 1, stt->log);
    ctx->phrases = ngx_alloc(NGX_HTTP_RTAGENT_STT_AZURE_TEXT + 1, stt->log);

    if (ctx->text == NULL || ctx->phrases == NULL) {
        return NGX_ERROR;
    }

    stt->ctx = ctx;

    return NGX_OK;
}


static void
ngx_http_rtagent_stt_azure_cleanup(void *data)
{
    ngx_http_rtagent_stt_azure_t  *ctx = data;

    ngx_http_rtagent_stt_azure_drop(ctx);

    if (ctx->wsc) {
        ngx_http_rtagent_wsc_close(ctx->wsc);
        ctx->wsc = NULL;
    }

    ngx_http_rtagent_resample_free(&ctx->rs);

    if (ctx->resampled) {
        ngx_free(ctx->resampled);
        ctx->resampled = NULL;
    }

    if (ctx->text) {
        ngx_free(ctx->text);
        ctx->text = NULL;
    }

    if (ctx->phrases) {
        ngx_free(ctx->phrases);
        ctx->phrases = NULL;
    }
}


/* the turn's state goes, the connection stays */

static void
ngx_http_rtagent_stt_azure_drop(ngx_http_rtagent_stt_azure_t *ctx)
{
    if (ctx->waiting) {
        ngx_http_rtagent_speech_token_wait_cancel(&ctx->waiter);
        ctx->waiting = 0;
    }

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    ngx_http_rtagent_stt_azure_unhold(ctx);

    ctx->active = 0;
    ctx->finished = 0;
}


static void
ngx_http_rtagent_stt_azure_unhold(ngx_http_rtagent_stt_azure_t *ctx)
{
    if (ctx->held) {
        ngx_free(ctx->held);
        ctx->held = NULL;
    }

    ctx->held_len = 0;
    ctx->held_size = 0;
}


static ngx_int_t
ngx_http_rtagent_stt_azure_begin(ngx_http_rtagent_stt_t *stt)
{
    ngx_int_t                      rc;
    ngx_uint_t                     i;
    uint32_t                       rnd[4];
    ngx_http_rtagent_stt_azure_t  *ctx = stt->ctx;

    /* a new utterance replaces one under way */
    ngx_http_rtagent_stt_azure_cancel(stt);

    for (i = 0; i < 4; i++) {
        rnd[i] = (uint32_t) ngx_random();
    }

    ngx_http_rtagent_usp_id(ctx->request_id, rnd);
    ctx->request_id[NGX_HTTP_RTAGENT_USP_ID_LEN] = '\0';

    ctx->active = 1;
    ctx->first = 1;
    ctx->taken = 0;
    ctx->retried = 0;
    ctx->unkept = 0;
    ctx->phrases_len = 0;
    ctx->confidence = -1;
    ctx->offset = -1;
    ctx->end = 0;
    ctx->nomatch = 0;

    if (ctx->wsc) {
        return ngx_http_rtagent_stt_azure_start(ctx);
    }

    if (ctx->scf->azure_tokens) {
        ctx->waiter.handler = ngx_http_rtagent_stt_azure_token;
        ctx->waiter.data = ctx;

        rc = ngx_http_rtagent_speech_azure_token(ctx->scf, stt->loc_conf,
                                                 &ctx->waiter);

        if (rc == NGX_AGAIN) {
            ctx->waiting = 1;
            return NGX_OK;
        }

        if (rc != NGX_OK) {
            ctx->active = 0;
            return NGX_ERROR;
        }
    }

    if (ngx_http_rtagent_stt_azure_connect(ctx) != NGX_OK) {
        ctx->active = 0;
        return NGX_ERROR;
    }

    return ngx_http_rtagent_stt_azure_start(ctx);
}


/* a token came (or did not) for the turn waiting for it */

static void
ngx_http_rtagent_stt_azure_token(void *data,
    ngx_http_rtagent_speech_err_e err, const char *detail)
{
    ngx_http_rtagent_stt_azure_t  *ctx = data;

    ctx->waiting = 0;

    if (err != NGX_HTTP_RTAGENT_SPEECH_OK) {
        ngx_http_rtagent_stt_azure_fail(ctx, err, detail);
        return;
    }

    if (ngx_http_rtagent_stt_azure_replay(ctx) != NGX_OK) {
        ngx_http_rtagent_stt_azure_fail(ctx, NGX_HTTP_RTAGENT_SPEECH_INTERNAL,
                                        "the connection did not start");
    }
}


/* a new connection for the turn, given what it holds of the audio */

static ngx_int_t
ngx_http_rtagent_stt_azure_replay(ngx_http_rtagent_stt_azure_t *ctx)
{
    if (ngx_http_rtagent_stt_azure_connect(ctx) != NGX_OK
        || ngx_http_rtagent_stt_azure_start(ctx) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->first = 1;

    if (ctx->held_len
        && ngx_http_rtagent_stt_azure_audio(ctx, ctx->held, ctx->held_len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ctx->finished) {
        ctx->finished = 0;
        return ngx_http_rtagent_stt_azure_finish(ctx->stt);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtagent_stt_azure_connect(ngx_http_rtagent_stt_azure_t *ctx)
{
    u_char                                *p;
    size_t                                 len;
    uint32_t                               rnd[4];
    ngx_str_t                              language;
    ngx_uint_t                             i;
    ngx_array_t                           *headers;
    ngx_keyval_t                          *kv;
    ngx_http_rtagent_stt_t                *stt = ctx->stt;
    ngx_http_core_loc_conf_t              *clcf;
    ngx_http_rtagent_wsc_conf_t            wc;
    ngx_http_rtagent_http_conf_t          *hcf;
    ngx_http_rtagent_speech_cloud_conf_t  *scf = ctx->scf;

    ngx_memzero(&wc, sizeof(ngx_http_rtagent_wsc_conf_t));

    language = stt->language;
    if (language.len == 0) {
        ngx_str_set(&language, "en-US");
    }

    len = sizeof("wss://.stt.speech.microsoft.com/speech/recognition/"
                 "conversation/cognitiveservices/v1?language="
                 "&format=detailed")
          + scf->azure_region.len + scf->azure_stt_url.len + language.len;

    p = ngx_pnalloc(stt->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    wc.url.data = p;

    if (scf->azure_stt_url.len) {
        p = ngx_cpymem(p, scf->azure_stt_url.data, scf->azure_stt_url.len);

    } else {
        p = ngx_sprintf(p, "wss://%V.stt.speech.microsoft.com/speech/"
                        "recognition/conversation/cognitiveservices/v1",
                        &scf->azure_region);
    }

    p = ngx_sprintf(p, "%slanguage=%V&format=detailed",
                    ngx_strlchr(wc.url.data, p, '?') ? "&" : "?", &language);
    wc.url.len = p - wc.url.data;

    headers = ngx_array_create(stt->pool, 2, sizeof(ngx_keyval_t));
    if (headers == NULL) {
        return NGX_ERROR;
    }

    kv = ngx_array_push_n(headers, 2);
    if (kv == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_rtagent_speech_azure_auth_header(scf, stt->pool, &kv[0])
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < 4; i++) {
        rnd[i] = (uint32_t) ngx_random();
    }

    ngx_str_set(&kv[1].key, "X-ConnectionId");
    kv[1].value.data = ngx_pnalloc(stt->pool, NGX_HTTP_RTAGENT_USP_ID_LEN);
    if (kv[1].value.data == NULL) {
        return NGX_ERROR;
    }

    ngx_http_rtagent_usp_id((char *) kv[1].value.data, rnd);
    kv[1].value.len = NGX_HTTP_RTAGENT_USP_ID_LEN;

    clcf = stt->loc_conf[ngx_http_core_module.ctx_index];
    hcf = ngx_http_rtagent_speech_http_conf(stt->loc_conf);

    wc.headers = headers;
    wc.resolver = clcf->resolver;
    wc.resolver_timeout = clcf->resolver_timeout;
    wc.timeout = hcf->connect_timeout ? hcf->connect_timeout : 10000;
    wc.max_msg = NGX_HTTP_RTAGENT_STT_AZURE_MSG;
    wc.log = stt->log;
    wc.on_open = ngx_http_rtagent_stt_azure_opened;
    wc.on_message = ngx_http_rtagent_stt_azure_message;
    wc.on_close = ngx_http_rtagent_stt_azure_closed;
    wc.data = ctx;

#if (NGX_SSL)
    if (wc.url.len > 6 && ngx_strncmp(wc.url.data, "wss://", 6) == 0) {
        if (scf->azure_stt_ssl == NULL) {
            scf->azure_stt_ssl = ngx_http_rtagent_stt_azure_ssl(hcf,
                                                                stt->log);
            if (scf->azure_stt_ssl == NULL) {
                return NGX_ERROR;
            }
        }

        wc.ssl = scf->azure_stt_ssl;
        wc.ssl_verify = hcf->ssl_verify;
    }
#endif

    ctx->wsc = ngx_http_rtagent_wsc_open(&wc);
    if (ctx->wsc == NULL) {
        return NGX_ERROR;
    }

    ctx->configured = 0;

    return NGX_OK;
}


#if (NGX_SSL)

/*
 * The TLS context of a location's wss:// connections, made in the worker
 * at the first one (the cycle's pool frees it): the certificates trusted
 * are rtagent_upstream_ssl_trusted_certificate's, else the system's.
 */

static ngx_ssl_t *
ngx_http_rtagent_stt_azure_ssl(ngx_http_rtagent_http_conf_t *hcf,
    ngx_log_t *log)
{
    ngx_ssl_t           *ssl;
    ngx_pool_cleanup_t  *cln;

    ssl = ngx_pcalloc(ngx_cycle->pool, sizeof(ngx_ssl_t));
    if (ssl == NULL) {
        return NULL;
    }

    ssl->log = ngx_cycle->log;

    if (ngx_ssl_create(ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(ngx_cycle->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(ssl);
        return NULL;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = ssl;

    if (hcf->ssl_trusted_certificate.len) {
        if (SSL_CTX_load_verify_locations(ssl->ctx,
                (char *) hcf->ssl_trusted_certificate.data, NULL)
            == 0)
        {
            ngx_ssl_error(NGX_LOG_ERR, log, 0,
                          "rtagent stt azure: cannot load \"%V\"",
                          &hcf->ssl_trusted_certificate);
            return NULL;
        }

    } else if (SSL_CTX_set_default_verify_paths(ssl->ctx) == 0) {
        ngx_ssl_error(NGX_LOG_ERR, log, 0,
                      "rtagent stt azure: no system certificates");
        return NULL;
    }

    return ssl;
}

#endif


/* speech.config (once per connection), speech.context: the turn starts */

static ngx_int_t
ngx_http_rtagent_stt_azure_start(ngx_http_rtagent_stt_azure_t *ctx)
{
    static u_char  config[] =
        "{\"context\":{\"system\":{\"name\":\"rtagent\",\"version\":\"1\","
        "\"build\":\"nginx\",\"lang\":\"C\"},\"os\":{\"platform\":\"Linux\","
        "\"name\":\"Debian\",\"version\":\"12\"},\"audio\":{\"source\":"
        "{\"samplerate\":16000,\"bitspersample\":16,\"channelcount\":1,"
        "\"connectivity\":\"Unknown\",\"type\":\"Stream\"}}}}";

    static u_char  context[] =
        "{\"phraseOutput\":{\"format\":\"Detailed\"}}";

    if (!ctx->configured) {
        if (ngx_http_rtagent_stt_azure_text(ctx, "speech.config",
                                            "application/json", config,
                                            sizeof(config) - 1)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ctx->configured = 1;
    }

    return ngx_http_rtagent_stt_azure_text(ctx, "speech.context",
                                           "application/json", context,
                                           sizeof(context) - 1);
}


static ngx_int_t
ngx_http_rtagent_stt_azure_text(ngx_http_rtagent_stt_azure_t *ctx,
    const char *path, const char *type, u_char *body, size_t len)
{
    u_char     *msg;
    size_t      n;
    ngx_int_t   rc;
    char        ts[NGX_HTTP_RTAGENT_USP_TIME_LEN + 1];
    ngx_time_t *tp;

    tp = ngx_timeofday();
    ngx_http_rtagent_usp_timestamp(ts, (int64_t) tp->sec * 1000 + tp->msec);
    ts[NGX_HTTP_RTAGENT_USP_TIME_LEN] = '\0';

    n = ngx_http_rtagent_usp_text(NULL, path, ctx->request_id, ts, type,
                                  body, len);

    msg = ngx_alloc(n, ctx->stt->log);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_http_rtagent_usp_text(msg, path, ctx->request_id, ts, type,
                                     body, len);

    rc = ngx_http_rtagent_wsc_send(ctx->wsc, 0, msg, n);

    ngx_free(msg);

    return rc;
}


/* one binary audio message: the head, the WAV header first, the PCM */

static ngx_int_t
ngx_http_rtagent_stt_azure_audio(ngx_http_rtagent_stt_azure_t *ctx,
    const u_char *pcm, size_t len)
{
    u_char      *msg, *p;
    size_t       head, wav;
    ngx_int_t    rc;
    char         ts[NGX_HTTP_RTAGENT_USP_TIME_LEN + 1];
    ngx_time_t  *tp;

    tp = ngx_timeofday();
    ngx_http_rtagent_usp_timestamp(ts, (int64_t) tp->sec * 1000 + tp->msec);
    ts[NGX_HTTP_RTAGENT_USP_TIME_LEN] = '\0';

    head = ngx_http_rtagent_usp_audio_head(NULL, ctx->request_id, ts,
                                           ctx->first);
    wav = ctx->first ? NGX_HTTP_RTAGENT_WAV_HEADER : 0;

    msg = ngx_alloc(head + wav + len, ctx->stt->log);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    p = msg + ngx_http_rtagent_usp_audio_head(msg, ctx->request_id, ts,
                                              ctx->first);

    if (wav) {
        /* a stream: the RIFF and data lengths are 0 (PROTOCOLS.md 8) */
        (void) ngx_http_rtagent_wav_header(p, NGX_HTTP_RTAGENT_STT_AZURE_RATE,
                                           0);
        ngx_memzero(p + 4, 4);
        p += wav;
    }

    if (len) {
        p = ngx_cpymem(p, pcm, len);
    }

    rc = ngx_http_rtagent_wsc_send(ctx->wsc, 1, msg, p - msg);

    ngx_free(msg);

    ctx->first = 0;

    return rc;
}


static ngx_int_t
ngx_http_rtagent_stt_azure_feed(ngx_http_rtagent_stt_t *stt,
    const u_char *pcm, size_t len)
{
    long                           n;
    size_t                         max, samples;
    ngx_http_rtagent_stt_azure_t  *ctx = stt->ctx;

    if (!ctx->active || ctx->finished) {
        return NGX_OK;
    }

    samples = len / 2;

    if (ctx->rs.state) {
        max = ngx_http_rtagent_resample_out_max(&ctx->rs, samples);

        if (max > ctx->resampled_max) {
            if (ctx->resampled) {
                ngx_free(ctx->resampled);
            }

            ctx->resampled = ngx_alloc(max * 2, stt->log);
            if (ctx->resampled == NULL) {
                ctx->resampled_max = 0;
                return NGX_ERROR;
            }

            ctx->resampled_max = max;
        }

        n = ngx_http_rtagent_resample_run(&ctx->rs, (const int16_t *) pcm,
                                          samples, ctx->resampled, max);
        if (n < 0) {
            return NGX_ERROR;
        }

        pcm = (u_char *) ctx->resampled;
        len = n * 2;

    } else {
        len = samples * 2;
    }

    if (len == 0) {
        return NGX_OK;
    }

    if (!ctx->waiting
        && ngx_http_rtagent_stt_azure_audio(ctx, pcm, len) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ctx->taken) {
        return NGX_OK;
    }

    return ngx_http_rtagent_stt_azure_hold(ctx, pcm, len);
}


static ngx_int_t
ngx_http_rtagent_stt_azure_hold(ngx_http_rtagent_stt_azure_t *ctx,
    const u_char *pcm, size_t len)
{
    u_char  *p;
    size_t   max, size;

    max = NGX_HTTP_RTAGENT_STT_AZURE_HELD_SEC * NGX_HTTP_RTAGENT_STT_AZURE_RATE
          * 2;

    if (ctx->unkept || ctx->held_len + len > max) {
        /* sent audio is lost to a reconnect; unsent, it is dropped */
        ctx->unkept = 1;
        return NGX_OK;
    }

    if (ctx->held_len + len > ctx->held_size) {
        size = ngx_max(ctx->held_size * 2, ctx->held_len + len);
        size = ngx_max(size, 64 * 1024);

        p = ngx_alloc(size, ctx->stt->log);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (ctx->held) {
            ngx_memcpy(p, ctx->held, ctx->held_len);
            ngx_free(ctx->held);
        }

        ctx->held = p;
        ctx->held_size = size;
    }

    ngx_memcpy(ctx->held + ctx->held_len, pcm, len);
    ctx->held_len += len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtagent_stt_azure_finish(ngx_http_rtagent_stt_t *stt)
{
    ngx_http_rtagent_http_conf_t  *hcf;
    ngx_http_rtagent_stt_azure_t  *ctx = stt->ctx;

    if (!ctx->active || ctx->finished) {
        return NGX_OK;
    }

    ctx->finished = 1;

    if (ctx->waiting) {
        return NGX_OK;
    }

    /* the empty audio message ends the turn's audio */
    if (ngx_http_rtagent_stt_azure_audio(ctx, NULL, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    hcf = ngx_http_rtagent_speech_http_conf(stt->loc_conf);

    ngx_add_timer(&ctx->timer,
                  ngx_min(hcf->timeout, NGX_HTTP_RTAGENT_STT_AZURE_TIMEOUT));

    return NGX_OK;
}


static void
ngx_http_rtagent_stt_azure_cancel(ngx_http_rtagent_stt_t *stt)
{
    ngx_http_rtagent_stt_azure_t  *ctx = stt->ctx;

    if (!ctx->active) {
        return;
    }

    ngx_http_rtagent_stt_azure_drop(ctx);

    /*
     * The service would still recognise the audio sent: the connection
     * goes, the next utterance opens another one.
     */
    if (ctx->wsc) {
        ngx_http_rtagent_wsc_close(ctx->wsc);
        ctx->wsc = NULL;
    }
}


static void
ngx_http_rtagent_stt_azure_close(ngx_http_rtagent_stt_t *stt)
{
    ngx_http_rtagent_stt_azure_t  *ctx = stt->ctx;

    ngx_http_rtagent_stt_azure_drop(ctx);

    if (ctx->wsc) {
        ngx_http_rtagent_wsc_close(ctx->wsc);
        ctx->wsc = NULL;
    }
}


static void
ngx_http_rtagent_stt_azure_opened(ngx_http_rtagent_wsc_t *wsc)
{
    ngx_http_rtagent_stt_azure_t  *ctx = ngx_http_rtagent_wsc_data(wsc);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ctx->stt->log, 0,
                   "rtagent stt azure: connected, call: %V",
                   ctx->stt->call_id);
}


static void
ngx_http_rtagent_stt_azure_message(ngx_http_rtagent_wsc_t *wsc,
    ngx_uint_t binary, u_char *data, size_t len)
{
    ngx_http_rtagent_stt_azure_t  *ctx = ngx_http_rtagent_wsc_data(wsc);

    size_t                          n;
    char                            err[NGX_HTTP_RTAGENT_USP_ERR];
    ngx_uint_t                      phrase;
    ngx_http_rtagent_usp_msg_t      msg;
    ngx_http_rtagent_usp_result_t   res;
    ngx_http_rtagent_stt_result_t   out;

    if (binary) {
        return;
    }

    if (ngx_http_rtagent_usp_parse_text(data, len, &msg, err, sizeof(err))
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, ctx->stt->log, 0,
                      "rtagent stt azure: a bad message: %s, call: %V",
                      err, ctx->stt->call_id);
        return;
    }

    /* another turn's, or none is under way */
    if (!ctx->active
        || msg.request_id_len != NGX_HTTP_RTAGENT_USP_ID_LEN
        || ngx_strncasecmp((u_char *) msg.request_id,
                           (u_char *) ctx->request_id,
                           NGX_HTTP_RTAGENT_USP_ID_LEN) != 0)
    {
        return;
    }

    if (!ctx->taken) {
        /* the service has the turn: what it was sent need not be kept */
        ctx->taken = 1;
        ngx_http_rtagent_stt_azure_unhold(ctx);
    }

    if (ngx_http_rtagent_usp_is(&msg, "turn.end")) {
        ngx_http_rtagent_stt_azure_end_turn(ctx);
        return;
    }

    phrase = ngx_http_rtagent_usp_is(&msg, "speech.phrase");

    if (!phrase && !ngx_http_rtagent_usp_is(&msg, "speech.hypothesis")) {
        return;
    }

    if (ngx_http_rtagent_usp_result(msg.body, msg.body_len, phrase, &res,
                                    ctx->text,
                                    NGX_HTTP_RTAGENT_STT_AZURE_TEXT + 1,
                                    err, sizeof(err))
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, ctx->stt->log, 0,
                      "rtagent stt azure: a bad result: %s, call: %V",
                      err, ctx->stt->call_id);
        return;
    }

    if (!phrase) {
        ngx_memzero(&out, sizeof(ngx_http_rtagent_stt_result_t));
        out.text.data = (u_char *) res.text;
        out.text.len = res.text_len;
        out.confidence = -1;
        out.offset = (ngx_msec_t) (res.offset / 10000);
        out.duration = (ngx_msec_t) (res.duration / 10000);

        ctx->stt->on_result(ctx->stt, &out);
        return;
    }

    if (res.status == NGX_HTTP_RTAGENT_USP_NOMATCH
        || res.status == NGX_HTTP_RTAGENT_USP_INITIAL_SILENCE
        || res.status == NGX_HTTP_RTAGENT_USP_BABBLE)
    {
        ctx->nomatch++;
        return;
    }

    if (res.status != NGX_HTTP_RTAGENT_USP_SUCCESS || res.text_len == 0) {
        return;
    }

    /* the turn's phrases, joined; the lowest confidence of them */
    n = ngx_min(res.text_len, NGX_HTTP_RTAGENT_STT_AZURE_TEXT
                              - ctx->phrases_len - 1);

    if (ctx->phrases_len && n) {
        ctx->phrases[ctx->phrases_len++] = ' ';
        n--;
    }

    ngx_memcpy(ctx->phrases + ctx->phrases_len, res.text, n);
    ctx->phrases_len += n;

    if (ctx->confidence < 0
        || (res.confidence >= 0 && res.confidence < ctx->confidence))
    {
        ctx->confidence = res.confidence;
    }

    if (ctx->offset < 0) {
        ctx->offset = res.offset;
    }

    ctx->end = res.offset + res.duration;
}


static void
ngx_http_rtagent_stt_azure_end_turn(ngx_http_rtagent_stt_azure_t *ctx)
{
    ngx_http_rtagent_stt_t         *stt = ctx->stt;
    ngx_http_rtagent_stt_result_t   out;

    ngx_http_rtagent_stt_azure_drop(ctx);

    if (ctx->phrases_len == 0) {
        ngx_log_error(NGX_LOG_INFO, stt->log, 0,
                      "rtagent stt azure: nomatch, call: %V", stt->call_id);
        stt->on_error(stt, NGX_HTTP_RTAGENT_SPEECH_NOMATCH,
                      "no words recognised");
        return;
    }

    ngx_memzero(&out, sizeof(ngx_http_rtagent_stt_result_t));
    out.text.data = (u_char *) ctx->phrases;
    out.text.len = ctx->phrases_len;
    out.confidence = ctx->confidence;
    out.language = stt->language.len ? stt->language
                                     : (ngx_str_t) ngx_string("en-US");
    out.offset = (ngx_msec_t) (ctx->offset / 10000);
    out.duration = (ngx_msec_t) ((ctx->end - ctx->offset) / 10000);
    out.final = 1;

    stt->on_result(stt, &out);
}


static void
ngx_http_rtagent_stt_azure_closed(ngx_http_rtagent_wsc_t *wsc,
    ngx_http_rtagent_wsc_end_e end, ngx_uint_t code, const char *detail)
{
    ngx_http_rtagent_stt_azure_t  *ctx = ngx_http_rtagent_wsc_data(wsc);

    u_char                         *p, *q;
    ngx_int_t                       rc;
    ngx_http_rtagent_speech_err_e   err;
    u_char                          buf[128];

    ctx->wsc = NULL;

    if (!ctx->active) {
        /* between turns: the next one connects again */
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ctx->stt->log, 0,
                       "rtagent stt azure: closed between turns (%ui), "
                       "call: %V", code, ctx->stt->call_id);
        return;
    }

    /*
     * Closed (or cut) before the service took the turn: an idle
     * connection it gave up as the turn began.  Once, the turn goes on a
     * new connection with all its audio; the caller notices nothing.
     */
    if ((end == NGX_HTTP_RTAGENT_WSC_CLOSED
         || end == NGX_HTTP_RTAGENT_WSC_NETWORK)
        && !ctx->taken && !ctx->retried && !ctx->unkept && !ctx->waiting)
    {
        ctx->retried = 1;

        ngx_log_error(NGX_LOG_INFO, ctx->stt->log, 0,
                      "rtagent stt azure: closed before the turn was taken "
                      "(%s, %ui), connecting again, call: %V",
                      end == NGX_HTTP_RTAGENT_WSC_CLOSED ? "closed" : detail,
                      code, ctx->stt->call_id);

        if (ctx->scf->azure_tokens) {
            ctx->waiter.handler = ngx_http_rtagent_stt_azure_token;
            ctx->waiter.data = ctx;

            rc = ngx_http_rtagent_speech_azure_token(ctx->scf,
                                                     ctx->stt->loc_conf,
                                                     &ctx->waiter);
            if (rc == NGX_AGAIN) {
                ctx->waiting = 1;
                return;
            }

            if (rc != NGX_OK) {
                ngx_http_rtagent_stt_azure_fail(ctx,
                                                NGX_HTTP_RTAGENT_SPEECH_AUTH,
                                                "no token");
                return;
            }
        }

        if (ngx_http_rtagent_stt_azure_replay(ctx) != NGX_OK) {
            ngx_http_rtagent_stt_azure_fail(ctx,
                                            NGX_HTTP_RTAGENT_SPEECH_INTERNAL,
                                            "the connection did not start");
        }

        return;
    }

    switch (end) {

    case NGX_HTTP_RTAGENT_WSC_REFUSED:
        err = (code == 401 || code == 403) ? NGX_HTTP_RTAGENT_SPEECH_AUTH
              : (code == 429) ? NGX_HTTP_RTAGENT_SPEECH_RATE
              : (code >= 500) ? NGX_HTTP_RTAGENT_SPEECH_SERVER
              : NGX_HTTP_RTAGENT_SPEECH_BAD_INPUT;
        p = ngx_snprintf(buf, sizeof(buf) - 1, "HTTP %ui at the upgrade",
                         code);
        break;

    case NGX_HTTP_RTAGENT_WSC_CLOSED:
        err = NGX_HTTP_RTAGENT_SPEECH_SERVER;
        p = ngx_snprintf(buf, sizeof(buf) - 1, "closed mid-turn (%ui)",
                         code);
        break;

    case NGX_HTTP_RTAGENT_WSC_TIMEOUT:
        err = NGX_HTTP_RTAGENT_SPEECH_TIMEOUT;
        p = ngx_snprintf(buf, sizeof(buf) - 1, "%s", detail);
        break;

    case NGX_HTTP_RTAGENT_WSC_PROTOCOL:
        err = NGX_HTTP_RTAGENT_SPEECH_SERVER;
        p = ngx_snprintf(buf, sizeof(buf) - 1, "%s", detail);
        break;

    case NGX_HTTP_RTAGENT_WSC_INTERNAL:
        err = NGX_HTTP_RTAGENT_SPEECH_INTERNAL;
        p = ngx_snprintf(buf, sizeof(buf) - 1, "%s", detail);
        break;

    default:
        err = NGX_HTTP_RTAGENT_SPEECH_NETWORK;
        p = ngx_snprintf(buf, sizeof(buf) - 1, "%s", detail);
        break;
    }

    *p++ = '\0';

    /* the detail may be kept by the session: in the call's pool */
    q = ngx_pnalloc(ctx->stt->pool, p - buf);
    if (q == NULL) {
        ngx_http_rtagent_stt_azure_fail(ctx, err, "-");
        return;
    }

    ngx_memcpy(q, buf, p - buf);

    ngx_http_rtagent_stt_azure_fail(ctx, err, (char *) q);
}


static void
ngx_http_rtagent_stt_azure_timeout(ngx_event_t *ev)
{
    ngx_http_rtagent_stt_azure_t  *ctx = ev->data;

    /* the connection is in an unknown state: the next turn opens one */
    if (ctx->wsc) {
        ngx_http_rtagent_wsc_close(ctx->wsc);
        ctx->wsc = NULL;
    }

    ngx_http_rtagent_stt_azure_fail(ctx, NGX_HTTP_RTAGENT_SPEECH_TIMEOUT,
                                    "no turn.end");
}


static void
ngx_http_rtagent_stt_azure_fail(ngx_http_rtagent_stt_azure_t *ctx,
    ngx_http_rtagent_speech_err_e err, const char *detail)
{
    ngx_http_rtagent_stt_t  *stt = ctx->stt;

    ngx_http_rtagent_stt_azure_drop(ctx);

    if (ctx->wsc && err != NGX_HTTP_RTAGENT_SPEECH_NOMATCH) {
        ngx_http_rtagent_wsc_close(ctx->wsc);
        ctx->wsc = NULL;
    }

    ngx_log_error(NGX_LOG_ERR, stt->log, 0,
                  "rtagent stt azure: %s: %s, call: %V",
                  ngx_http_rtagent_speech_err_name(err), detail,
                  stt->call_id);

    stt->on_error(stt, err, detail);
}
