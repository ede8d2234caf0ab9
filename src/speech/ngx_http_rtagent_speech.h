
/*
 * What STT and TTS providers share: the error kinds a call session acts on
 * (an apology, a log line, an ERROR_OCCURRED event) and the registry that
 * picks a provider by name for a location ("rtagent_stt local;").
 * src/speech/ knows no agents and no channels.
 */


#ifndef _NGX_HTTP_RTAGENT_SPEECH_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_SPEECH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef enum {
    NGX_HTTP_RTAGENT_SPEECH_OK = 0,
    NGX_HTTP_RTAGENT_SPEECH_NOMATCH,     /* audio, but no words in it */
    NGX_HTTP_RTAGENT_SPEECH_TIMEOUT,     /* the provider did not answer */
    NGX_HTTP_RTAGENT_SPEECH_AUTH,        /* 401, 403, a bad key or token */
    NGX_HTTP_RTAGENT_SPEECH_RATE,        /* 429 */
    NGX_HTTP_RTAGENT_SPEECH_SERVER,      /* 5xx, a close mid-stream */
    NGX_HTTP_RTAGENT_SPEECH_NETWORK,     /* connect, TLS, DNS */
    NGX_HTTP_RTAGENT_SPEECH_BAD_INPUT,   /* the provider refused the request */
    NGX_HTTP_RTAGENT_SPEECH_INTERNAL     /* out of memory, a local engine */
} ngx_http_rtagent_speech_err_e;


/* "nomatch", "timeout", ...: for log lines and ERROR_OCCURRED events */
const char *ngx_http_rtagent_speech_err_name(ngx_http_rtagent_speech_err_e e);


/*
 * A location's pick of a provider.  loc_conf is the location's module
 * configurations (an ngx_http_conf_ctx_t's loc_conf, as r->loc_conf): a
 * provider with directives of its own finds its configuration there by
 * its module's ctx_index, as ngx_http_get_module_loc_conf() does.
 */
typedef struct {
    const void                  *provider;   /* stt or tts provider */
    void                       **loc_conf;
} ngx_http_rtagent_speech_pick_t;


#endif /* _NGX_HTTP_RTAGENT_SPEECH_H_INCLUDED_ */
