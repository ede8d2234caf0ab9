
/*
 * TTS provider "azure": Azure Speech text to speech over REST
 * (PROTOCOLS.md 4.2, 9).  Each text piece is one POST of SSML asking for
 * raw 16-bit PCM (raw-16khz-16bit-mono-pcm or raw-24khz-16bit-mono-pcm);
 * the audio goes to the session as it arrives, so its first frame can be
 * played while the service is still synthesizing the rest.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <speech/ngx_http_rtagent_tts.h>
#include <speech/ngx_http_rtagent_speech_cloud.h>
#include <speech/ngx_http_rtagent_ssml.h>
#include <speech/ngx_http_rtagent_tts_pcm.h>


static ngx_int_t ngx_http_rtagent_tts_azure_open(ngx_http_rtagent_tts_t *tts);
static ngx_int_t ngx_http_rtagent_tts_azure_synth(ngx_http_rtagent_tts_t *tts,
    ngx_str_t *text);
static void ngx_http_rtagent_tts_azure_cancel(ngx_http_rtagent_tts_t *tts);
static void ngx_http_rtagent_tts_azure_token(void *data,
    ngx_http_rtagent_speech_err_e err, const char *detail);


const ngx_http_rtagent_tts_provider_t  ngx_http_rtagent_tts_azure = {
    ngx_string("azure"),
    NULL,
    NULL,
    ngx_http_rtagent_tts_azure_open,
    ngx_http_rtagent_tts_azure_synth,
    ngx_http_rtagent_tts_azure_cancel,
    ngx_http_rtagent_tts_azure_cancel,
    NULL                                   /* configure */
};


static ngx_int_t
ngx_http_rtagent_tts_azure_open(ngx_http_rtagent_tts_t *tts)
{
    ngx_http_rtagent_speech_cloud_conf_t  *scf;

    scf = ngx_http_rtagent_speech_cloud_conf(tts->loc_conf);

    if (scf->azure_tts_url.len == 0
        || (scf->azure_key.len == 0 && scf->azure_token == NULL)
        || (scf->azure_tokens && scf->azure_key.len == 0))
    {
        ngx_log_error(NGX_LOG_ERR, tts->log, 0,
                      "rtagent tts azure: no %s, call: %V",
                      scf->azure_tts_url.len
                      ? "rtagent_azure_speech_key or rtagent_azure_speech_token"
                      : "rtagent_azure_speech_region or rtagent_azure_tts_url",
                      tts->call_id);
        return NGX_ERROR;
    }

    return ngx_http_rtagent_tts_pcm_open(tts, scf->azure_tts_hz);
}


/* the session's rate in percent as a prosody rate: 110 is "+10%" */

static size_t
ngx_http_rtagent_tts_azure_rate(ngx_http_rtagent_tts_t *tts, u_char *buf)
{
    ngx_int_t  d;

    if (tts->voice.rate == 0 || tts->voice.rate == 100) {
        return 0;
    }

    d = (ngx_int_t) tts->voice.rate - 100;

    return ngx_sprintf(buf, "%s%i%%", d > 0 ? "+" : "", d) - buf;
}


static ngx_int_t
ngx_http_rtagent_tts_azure_synth(ngx_http_rtagent_tts_t *tts,
    ngx_str_t *text)
{
    u_char                                 rate[32], *ssml;
    size_t                                 n;
    ngx_int_t                              rc;
    ngx_str_t                              url, method, name, value;
    ngx_http_rtagent_http_job_t           *job;
    ngx_http_rtagent_ssml_voice_t          v;
    ngx_http_rtagent_speech_cloud_conf_t  *scf;
    ngx_http_rtagent_speech_token_waiter_t  *w;

    scf = ngx_http_rtagent_speech_cloud_conf(tts->loc_conf);

    /* the session's voice, else the location's */

    v.voice = tts->voice.voice.len ? tts->voice.voice.data
                                   : scf->azure_tts_voice.data;
    v.voice_len = tts->voice.voice.len ? tts->voice.voice.len
                                       : scf->azure_tts_voice.len;
    v.lang = tts->voice.language.len ? tts->voice.language.data
                                     : scf->azure_tts_language.data;
    v.lang_len = tts->voice.language.len ? tts->voice.language.len
                                         : scf->azure_tts_language.len;
    v.style = tts->voice.style.len ? tts->voice.style.data
                                   : scf->azure_tts_style.data;
    v.style_len = tts->voice.style.len ? tts->voice.style.len
                                       : scf->azure_tts_style.len;
    v.rate = rate;
    v.rate_len = ngx_http_rtagent_tts_azure_rate(tts, rate);

    if (v.rate_len == 0) {
        v.rate = scf->azure_tts_rate.data;
        v.rate_len = scf->azure_tts_rate.len;
    }

    url = scf->azure_tts_url;
    ngx_str_set(&method, "POST");

    job = ngx_http_rtagent_http_create(
              ngx_http_rtagent_speech_http_conf(tts->loc_conf), tts->log,
              tts->call_id, &method, &url);
    if (job == NULL) {
        return NGX_ERROR;
    }

    ssml = ngx_alloc(ngx_http_rtagent_ssml_size(&v, text->len), tts->log);
    if (ssml == NULL) {
        ngx_http_rtagent_http_cancel(job);
        return NGX_ERROR;
    }

    n = ngx_http_rtagent_ssml_build(ssml, &v, text->data, text->len);

    rc = ngx_http_rtagent_http_set_body(job, ssml, n);

    ngx_free(ssml);

    ngx_str_set(&name, "Content-Type");
    ngx_str_set(&value, "application/ssml+xml");
    rc |= ngx_http_rtagent_http_add_header(job, &name, &value);

    ngx_str_set(&name, "X-Microsoft-OutputFormat");

    if (scf->azure_tts_hz == 16000) {
        ngx_str_set(&value, "raw-16khz-16bit-mono-pcm");

    } else {
        ngx_str_set(&value, "raw-24khz-16bit-mono-pcm");
    }

    rc |= ngx_http_rtagent_http_add_header(job, &name, &value);

    /* listed as required; curl's own would do, but say who we are */
    ngx_str_set(&name, "User-Agent");
    ngx_str_set(&value, "rtagent");
    rc |= ngx_http_rtagent_http_add_header(job, &name, &value);

    if (rc != NGX_OK) {
        ngx_http_rtagent_http_cancel(job);
        return NGX_ERROR;
    }

    if (scf->azure_tokens) {
        w = ngx_http_rtagent_tts_pcm_waiter(tts);
        w->handler = ngx_http_rtagent_tts_azure_token;
        w->data = tts;

        if (ngx_http_rtagent_tts_pcm_hold(tts, job) != NGX_OK) {
            ngx_http_rtagent_http_cancel(job);
            return NGX_ERROR;
        }

        rc = ngx_http_rtagent_speech_azure_token(scf, tts->loc_conf, w);

        if (rc == NGX_AGAIN) {
            return NGX_OK;
        }

        (void) ngx_http_rtagent_tts_pcm_unhold(tts);

        if (rc != NGX_OK) {
            ngx_http_rtagent_http_cancel(job);
            return NGX_ERROR;
        }
    }

    if (ngx_http_rtagent_speech_azure_auth(scf, job) != NGX_OK) {
        ngx_http_rtagent_http_cancel(job);
        return NGX_ERROR;
    }

    return ngx_http_rtagent_tts_pcm_start(tts, job);
}


/* the token came (or failed) for a held piece */

static void
ngx_http_rtagent_tts_azure_token(void *data,
    ngx_http_rtagent_speech_err_e err, const char *detail)
{
    ngx_http_rtagent_tts_t  *tts = data;

    ngx_http_rtagent_http_job_t           *job;
    ngx_http_rtagent_speech_cloud_conf_t  *scf;

    scf = ngx_http_rtagent_speech_cloud_conf(tts->loc_conf);
    job = ngx_http_rtagent_tts_pcm_unhold(tts);

    if (err == NGX_HTTP_RTAGENT_SPEECH_OK) {
        if (ngx_http_rtagent_speech_azure_auth(scf, job) != NGX_OK) {
            ngx_http_rtagent_http_cancel(job);

        } else if (ngx_http_rtagent_tts_pcm_start(tts, job) == NGX_OK) {
            return;
        }

        /* pcm_start frees a job it could not start */
        err = NGX_HTTP_RTAGENT_SPEECH_INTERNAL;
        detail = "the request did not start";

    } else {
        ngx_http_rtagent_http_cancel(job);
    }

    ngx_log_error(NGX_LOG_ERR, tts->log, 0,
                  "rtagent tts azure: %s: no token: %s, call: %V",
                  ngx_http_rtagent_speech_err_name(err), detail,
                  tts->call_id);

    tts->on_done(tts, err, detail);
}


static void
ngx_http_rtagent_tts_azure_cancel(ngx_http_rtagent_tts_t *tts)
{
    ngx_http_rtagent_tts_pcm_cancel(tts);
}
