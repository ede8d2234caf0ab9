
/*
 * Text to speech: one interface, several providers (local espeak-ng,
 * Azure Speech, OpenAI audio), picked per location by "rtagent_tts".
 *
 * A call opens one TTS session and synthesizes one text piece (a sentence,
 * a clause) at a time: synth() returns at once, audio comes back through
 * on_audio as PCM16 mono chunks at the provider's rate (the session
 * resamples to the call's), then on_done once, OK or an error.  Callbacks
 * run on the event loop, never from inside synth() or cancel().  cancel()
 * drops the piece under way (barge-in): no callback follows it.
 */


#ifndef _NGX_HTTP_RTAGENT_TTS_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_TTS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <speech/ngx_http_rtagent_speech.h>


typedef struct ngx_http_rtagent_tts_s  ngx_http_rtagent_tts_t;


typedef void (*ngx_http_rtagent_tts_audio_pt)(ngx_http_rtagent_tts_t *tts,
    const int16_t *pcm, size_t samples, ngx_uint_t rate);
typedef void (*ngx_http_rtagent_tts_done_pt)(ngx_http_rtagent_tts_t *tts,
    ngx_http_rtagent_speech_err_e err, const char *detail);


/* how to say it; empty strings leave the provider's defaults */
typedef struct {
    ngx_str_t                    voice;        /* "en-US-JennyNeural", "en" */
    ngx_str_t                    language;     /* BCP 47 */
    ngx_str_t                    style;        /* "cheerful", ... */
    ngx_uint_t                   rate;         /* percent, 100 is normal */
} ngx_http_rtagent_tts_voice_t;


typedef struct {
    ngx_str_t                    name;

    ngx_int_t                  (*init_process)(ngx_cycle_t *cycle);
    void                       (*exit_process)(ngx_cycle_t *cycle);

    ngx_int_t                  (*open)(ngx_http_rtagent_tts_t *tts);
    /* text is copied by the provider if it keeps it */
    ngx_int_t                  (*synth)(ngx_http_rtagent_tts_t *tts,
                                        ngx_str_t *text);
    void                       (*cancel)(ngx_http_rtagent_tts_t *tts);
    void                       (*close)(ngx_http_rtagent_tts_t *tts);

    /* when a location picks it, NULL when nothing to do: a thread pool */
    char                      *(*configure)(ngx_conf_t *cf);
} ngx_http_rtagent_tts_provider_t;


struct ngx_http_rtagent_tts_s {
    /* set by the call session before open() */
    ngx_pool_t                  *pool;
    ngx_log_t                   *log;
    ngx_str_t                   *call_id;
    ngx_http_rtagent_tts_voice_t voice;
    void                       **loc_conf;
    ngx_http_rtagent_tts_audio_pt   on_audio;
    ngx_http_rtagent_tts_done_pt    on_done;
    void                        *data;

    const ngx_http_rtagent_tts_provider_t  *provider;
    void                        *ctx;
};


const ngx_http_rtagent_tts_provider_t *ngx_http_rtagent_tts_find(
    ngx_str_t *name);

/* "rtagent_tts name;": conf points at an ngx_http_rtagent_speech_pick_t */
char *ngx_http_rtagent_tts_set_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_RTAGENT_TTS_H_INCLUDED_ */
