
/*
 * The cloud speech providers' configuration (Azure Speech; OpenAI and
 * Azure OpenAI audio): endpoints, keys, voices and models, per location,
 * and what their HTTP requests share: the key headers, and what a failed
 * request is for the call session (ngx_http_rtagent_speech_err_e).
 */


#ifndef _NGX_HTTP_RTAGENT_SPEECH_CLOUD_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_SPEECH_CLOUD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <io/ngx_http_rtagent_http.h>
#include <speech/ngx_http_rtagent_speech.h>


/*
 * Azure Speech bearer tokens fetched with the key (issueToken, PROTOCOLS.md
 * 4.1): one per worker and configuration, reused for 9 of its 10 minutes;
 * requests that need one while it is fetched wait for it.
 */
typedef struct ngx_http_rtagent_speech_token_s
    ngx_http_rtagent_speech_token_t;

typedef void (*ngx_http_rtagent_speech_token_pt)(void *data,
    ngx_http_rtagent_speech_err_e err, const char *detail);

typedef struct {
    ngx_queue_t                       queue;
    ngx_http_rtagent_speech_token_pt  handler;
    void                             *data;
    unsigned                          waiting:1;
} ngx_http_rtagent_speech_token_waiter_t;


typedef struct {
    /* Azure Speech */
    ngx_str_t                    azure_region;
    ngx_str_t                    azure_key;
    ngx_http_rtagent_secret_t   *azure_token;      /* file: re-read */
    ngx_str_t                    azure_token_url;
    ngx_http_rtagent_speech_token_t  *azure_tokens;
    ngx_str_t                    azure_tts_url;
    ngx_str_t                    azure_tts_voice;
    ngx_str_t                    azure_tts_language;
    ngx_str_t                    azure_tts_rate;
    ngx_str_t                    azure_tts_style;
    ngx_uint_t                   azure_tts_hz;
    ngx_str_t                    azure_stt_url;     /* ws:// or wss:// */
    void                        *azure_stt_ssl;     /* ngx_ssl_t, lazily */

    /* OpenAI audio; Azure OpenAI when api_version is set */
    ngx_str_t                    openai_url;
    ngx_str_t                    openai_key;
    ngx_str_t                    openai_api_version;
    ngx_str_t                    openai_tts_model;
    ngx_str_t                    openai_tts_voice;
    ngx_str_t                    openai_stt_model;
    ngx_str_t                    openai_stt_language;
    ngx_flag_t                   openai_stt_stream;  /* unset: by model */
} ngx_http_rtagent_speech_cloud_conf_t;


/* a body of an error response kept for the log line, at most */
#define NGX_HTTP_RTAGENT_SPEECH_ERR_BODY  512


/* the configuration of the location that picked the provider */
#define ngx_http_rtagent_speech_cloud_conf(loc_conf)                         \
    ((ngx_http_rtagent_speech_cloud_conf_t *)                                \
         (loc_conf)[ngx_http_rtagent_speech_cloud_module.ctx_index])

#define ngx_http_rtagent_speech_http_conf(loc_conf)                          \
    ((ngx_http_rtagent_http_conf_t *)                                        \
         (loc_conf)[ngx_http_rtagent_http_module.ctx_index])


/*
 * A request of an OpenAI audio endpoint ("speech", "transcriptions"):
 * the URL of the OpenAI or the Azure OpenAI form (the model is the
 * deployment) and its key header.  NULL on failure (logged).
 */
ngx_http_rtagent_http_job_t *ngx_http_rtagent_speech_openai_job(
    ngx_http_rtagent_speech_cloud_conf_t *scf, void **loc_conf,
    ngx_log_t *log, ngx_str_t *call_id, const char *endpoint,
    ngx_str_t *model);

/* the Azure Speech key or bearer token header; NGX_ERROR on failure */
ngx_int_t ngx_http_rtagent_speech_azure_auth(
    ngx_http_rtagent_speech_cloud_conf_t *scf,
    ngx_http_rtagent_http_job_t *job);

/*
 * The same as a header for a WebSocket upgrade: the name and value, the
 * value in pool when it must be built.  NGX_ERROR on failure.
 */
ngx_int_t ngx_http_rtagent_speech_azure_auth_header(
    ngx_http_rtagent_speech_cloud_conf_t *scf, ngx_pool_t *pool,
    ngx_keyval_t *kv);

/*
 * With rtagent_azure_speech_token_url: NGX_OK when a fresh token is at
 * hand (azure_auth() then sends it), NGX_AGAIN when w waits for one (its
 * handler runs once, on the event loop, and then azure_auth() has it
 * unless err says why not), NGX_ERROR on failure (logged).  wait_cancel()
 * takes a waiter out.
 */
ngx_int_t ngx_http_rtagent_speech_azure_token(
    ngx_http_rtagent_speech_cloud_conf_t *scf, void **loc_conf,
    ngx_http_rtagent_speech_token_waiter_t *w);
void ngx_http_rtagent_speech_token_wait_cancel(
    ngx_http_rtagent_speech_token_waiter_t *w);

/*
 * Keeps the start of an error response's body (for the log line), at most
 * NGX_HTTP_RTAGENT_SPEECH_ERR_BODY bytes, its memory taken from pool the
 * first time.
 */
void ngx_http_rtagent_speech_keep_error(ngx_pool_t *pool, ngx_str_t *body,
    u_char *data, size_t len);

/*
 * What a finished job is for the call session: OK for a whole 2xx
 * response, else the kind of failure and detail, a static string or one
 * in pool ("HTTP 401: <the message of an OpenAI error body>").
 */
ngx_http_rtagent_speech_err_e ngx_http_rtagent_speech_http_err(
    ngx_http_rtagent_http_job_t *job, ngx_str_t *body, ngx_pool_t *pool,
    const char **detail);


extern ngx_module_t  ngx_http_rtagent_speech_cloud_module;


#endif /* _NGX_HTTP_RTAGENT_SPEECH_CLOUD_H_INCLUDED_ */
