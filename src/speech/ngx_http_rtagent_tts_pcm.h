
/*
 * What the cloud TTS providers share: a request whose response body is
 * raw PCM16 little-endian mono at a known rate (Azure Speech raw-*-pcm,
 * OpenAI response_format=pcm), handed to the session as it arrives, in
 * whole samples, and its end or failure as the session's on_done.  One
 * piece at a time per session.
 */


#ifndef _NGX_HTTP_RTAGENT_TTS_PCM_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_TTS_PCM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <io/ngx_http_rtagent_http.h>
#include <speech/ngx_http_rtagent_tts.h>
#include <speech/ngx_http_rtagent_speech_cloud.h>


/* makes tts->ctx for audio at rate Hz; NGX_ERROR on failure */
ngx_int_t ngx_http_rtagent_tts_pcm_open(ngx_http_rtagent_tts_t *tts,
    ngx_uint_t rate);

/*
 * Starts job (its request made) as the session's piece; NGX_ERROR when a
 * piece is under way or the job cannot start (the job is freed).
 */
ngx_int_t ngx_http_rtagent_tts_pcm_start(ngx_http_rtagent_tts_t *tts,
    ngx_http_rtagent_http_job_t *job);

/*
 * A piece whose request waits for a bearer token: the job is held (not
 * started) and the waiter is the session's; unhold() gives the job back
 * when the token came (or not).  NGX_ERROR when a piece is under way.
 */
ngx_http_rtagent_speech_token_waiter_t *ngx_http_rtagent_tts_pcm_waiter(
    ngx_http_rtagent_tts_t *tts);
ngx_int_t ngx_http_rtagent_tts_pcm_hold(ngx_http_rtagent_tts_t *tts,
    ngx_http_rtagent_http_job_t *job);
ngx_http_rtagent_http_job_t *ngx_http_rtagent_tts_pcm_unhold(
    ngx_http_rtagent_tts_t *tts);

/* drops the piece under way (or held), if any: no callback follows */
void ngx_http_rtagent_tts_pcm_cancel(ngx_http_rtagent_tts_t *tts);


#endif /* _NGX_HTTP_RTAGENT_TTS_PCM_H_INCLUDED_ */
