
/*
 * Speech to text: one interface, several providers (local pocketsphinx,
 * Azure Speech, OpenAI audio), picked per location by "rtagent_stt".
 *
 * A call opens one STT session; each utterance is then begin() at speech
 * onset, feed() with PCM16 mono frames from the pre-roll on (so a
 * streaming provider recognises while the caller talks), and finish() at
 * the end of speech.  Results come back through on_result (partials with
 * final = 0, then one final) or on_error, on the event loop, never from
 * inside a call into the provider.  cancel() abandons the utterance under
 * way: no callback follows it.  close() ends the session (call end).
 */


#ifndef _NGX_HTTP_RTAGENT_STT_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_STT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <speech/ngx_http_rtagent_speech.h>


typedef struct ngx_http_rtagent_stt_s  ngx_http_rtagent_stt_t;


typedef struct {
    ngx_str_t                    text;         /* UTF-8, provider-owned */
    double                       confidence;   /* 0..1, -1 when unknown */
    ngx_str_t                    language;     /* BCP 47, may be empty */
    ngx_msec_t                   offset;       /* from the audio's start */
    ngx_msec_t                   duration;
    unsigned                     final:1;
} ngx_http_rtagent_stt_result_t;


typedef void (*ngx_http_rtagent_stt_result_pt)(ngx_http_rtagent_stt_t *stt,
    ngx_http_rtagent_stt_result_t *res);
typedef void (*ngx_http_rtagent_stt_error_pt)(ngx_http_rtagent_stt_t *stt,
    ngx_http_rtagent_speech_err_e err, const char *detail);


typedef struct {
    ngx_str_t                    name;         /* "local", "azure", ... */

    /* per worker, NULL when none: models, pools, tokens */
    ngx_int_t                  (*init_process)(ngx_cycle_t *cycle);
    void                       (*exit_process)(ngx_cycle_t *cycle);

    ngx_int_t                  (*open)(ngx_http_rtagent_stt_t *stt);
    ngx_int_t                  (*begin)(ngx_http_rtagent_stt_t *stt);
    ngx_int_t                  (*feed)(ngx_http_rtagent_stt_t *stt,
                                       const u_char *pcm, size_t len);
    ngx_int_t                  (*finish)(ngx_http_rtagent_stt_t *stt);
    void                       (*cancel)(ngx_http_rtagent_stt_t *stt);
    void                       (*close)(ngx_http_rtagent_stt_t *stt);

    /* when a location picks it, NULL when nothing to do: a thread pool */
    char                      *(*configure)(ngx_conf_t *cf);
} ngx_http_rtagent_stt_provider_t;


struct ngx_http_rtagent_stt_s {
    /* set by the call session before open() */
    ngx_pool_t                  *pool;         /* the call's */
    ngx_log_t                   *log;
    ngx_str_t                   *call_id;
    ngx_uint_t                   rate;         /* of the PCM fed, Hz */
    ngx_str_t                    language;     /* asked for, may be empty */
    void                       **loc_conf;
    /* set before each begin(): the STT search the utterance is expected
     * to match (ngx_http_rtagent_stt_search.h; empty: the location's
     * rtagent_stt_expect, else the generic model); need not outlive it */
    ngx_str_t                    expect;
    ngx_http_rtagent_stt_result_pt  on_result;
    ngx_http_rtagent_stt_error_pt   on_error;
    void                        *data;

    const ngx_http_rtagent_stt_provider_t  *provider;
    void                        *ctx;          /* the provider's */
};


/* the provider named so, or NULL */
const ngx_http_rtagent_stt_provider_t *ngx_http_rtagent_stt_find(
    ngx_str_t *name);

/* "rtagent_stt name;": conf points at an ngx_http_rtagent_speech_pick_t */
char *ngx_http_rtagent_stt_set_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_RTAGENT_STT_H_INCLUDED_ */
