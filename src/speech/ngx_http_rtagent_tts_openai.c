
/*
 * TTS provider "openai": POST /audio/speech of OpenAI, or of an Azure
 * OpenAI deployment (PROTOCOLS.md 10), with response_format "pcm": raw
 * 16-bit little-endian samples at 24 kHz, streamed (chunked) as they are
 * made, and handed to the session as they arrive.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <speech/ngx_http_rtagent_tts.h>
#include <speech/ngx_http_rtagent_speech_cloud.h>
#include <speech/ngx_http_rtagent_tts_pcm.h>


/* the input limit of /audio/speech, in characters (bytes here: fewer) */
#define NGX_HTTP_RTAGENT_TTS_OPENAI_MAX  4096


static ngx_int_t ngx_http_rtagent_tts_openai_open(ngx_http_rtagent_tts_t *tts);
static ngx_int_t ngx_http_rtagent_tts_openai_synth(
    ngx_http_rtagent_tts_t *tts, ngx_str_t *text);
static void ngx_http_rtagent_tts_openai_cancel(ngx_http_rtagent_tts_t *tts);


const ngx_http_rtagent_tts_provider_t  ngx_http_rtagent_tts_openai = {
    ngx_string("openai"),
    NULL,
    NULL,
    ngx_http_rtagent_tts_openai_open,
    ngx_http_rtagent_tts_openai_synth,
    ngx_http_rtagent_tts_openai_cancel,
    ngx_http_rtagent_tts_openai_cancel,
    NULL                                   /* configure */
};


static ngx_int_t
ngx_http_rtagent_tts_openai_open(ngx_http_rtagent_tts_t *tts)
{
    ngx_http_rtagent_speech_cloud_conf_t  *scf;

    scf = ngx_http_rtagent_speech_cloud_conf(tts->loc_conf);

    if (scf->openai_key.len == 0) {
        ngx_log_error(NGX_LOG_ERR, tts->log, 0,
                      "rtagent tts openai: no rtagent_openai_audio_key, "
                      "call: %V", tts->call_id);
        return NGX_ERROR;
    }

    return ngx_http_rtagent_tts_pcm_open(tts, 24000);
}


static ngx_int_t
ngx_http_rtagent_tts_openai_synth(ngx_http_rtagent_tts_t *tts,
    ngx_str_t *text)
{
    ngx_int_t                              rc;
    ngx_str_t                              body, name, value, speed, *voice;
    ngx_http_rtagent_json_out_t            j;
    u_char                                 buf[16];
    ngx_http_rtagent_http_job_t           *job;
    ngx_http_rtagent_speech_cloud_conf_t  *scf;

    scf = ngx_http_rtagent_speech_cloud_conf(tts->loc_conf);

    if (text->len > NGX_HTTP_RTAGENT_TTS_OPENAI_MAX) {
        ngx_log_error(NGX_LOG_ERR, tts->log, 0,
                      "rtagent tts openai: a piece of %uz bytes is over "
                      "the input limit, call: %V", text->len, tts->call_id);
        return NGX_ERROR;
    }

    voice = tts->voice.voice.len ? &tts->voice.voice : &scf->openai_tts_voice;

    /* speed 0.25-4.0; the session's rate in percent */
    speed.len = 0;

    if (tts->voice.rate && tts->voice.rate != 100) {
        speed.data = buf;
        speed.len = ngx_sprintf(buf, "%ui.%02ui",
                                ngx_min(ngx_max(tts->voice.rate, 25), 400)
                                / 100,
                                ngx_min(ngx_max(tts->voice.rate, 25), 400)
                                % 100) - buf;
    }

    job = ngx_http_rtagent_speech_openai_job(scf, tts->loc_conf, tts->log,
                                             tts->call_id, "speech",
                                             &scf->openai_tts_model);
    if (job == NULL) {
        return NGX_ERROR;
    }

    /* the body is written in the writer's memory, copied by the job */

    if (ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        ngx_http_rtagent_http_cancel(job);
        return NGX_ERROR;
    }

    ngx_http_rtagent_json_out_str(&j, "model", scf->openai_tts_model.data,
                                  scf->openai_tts_model.len);
    ngx_http_rtagent_json_out_str(&j, "input", text->data, text->len);
    ngx_http_rtagent_json_out_str(&j, "voice", voice->data, voice->len);
    ngx_http_rtagent_json_out_cstr(&j, "response_format", "pcm");

    if (speed.len) {
        ngx_http_rtagent_json_out_num(&j, "speed", speed.data, speed.len);
    }

    rc = ngx_http_rtagent_json_out_get(&j, &body);

    if (rc == NGX_OK) {
        rc = ngx_http_rtagent_http_set_body(job, body.data, body.len);

    } else {
        ngx_log_error(NGX_LOG_ERR, tts->log, 0,
                      "rtagent tts openai: the text is not UTF-8, call: %V",
                      tts->call_id);
    }

    ngx_http_rtagent_json_out_free(&j);

    ngx_str_set(&name, "Content-Type");
    ngx_str_set(&value, "application/json");
    rc |= ngx_http_rtagent_http_add_header(job, &name, &value);

    ngx_str_set(&name, "Accept");
    ngx_str_set(&value, "application/octet-stream");
    rc |= ngx_http_rtagent_http_add_header(job, &name, &value);

    if (rc != NGX_OK) {
        ngx_http_rtagent_http_cancel(job);
        return NGX_ERROR;
    }

    return ngx_http_rtagent_tts_pcm_start(tts, job);
}


static void
ngx_http_rtagent_tts_openai_cancel(ngx_http_rtagent_tts_t *tts)
{
    ngx_http_rtagent_tts_pcm_cancel(tts);
}
