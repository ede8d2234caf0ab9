
/*
 * The call session: what happens to a caller's audio, whatever channel
 * carries it.  It finds utterances (VAD), hands each to the engine, plays
 * the answer back paced, and stops the answer when the caller barges in.
 * Until the agent pipeline exists the engine is "echo": each utterance is
 * played back once it ends.  What is said and done on the call goes to the
 * store (Redis), and control messages from any worker come back from it.
 */


#ifndef _NGX_HTTP_RTAGENT_CALL_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_CALL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <call/ngx_http_rtagent_channel.h>
#include <call/ngx_http_rtagent_call_id.h>
#include <speech/ngx_http_rtagent_stt.h>
#include <speech/ngx_http_rtagent_tts.h>


/* what answers a caller's utterances (rtagent_engine) */
typedef enum {
    NGX_HTTP_RTAGENT_ENGINE_ECHO = 1,
    NGX_HTTP_RTAGENT_ENGINE_SAY_BACK,      /* STT, a responder, TTS */
    NGX_HTTP_RTAGENT_ENGINE_AGENTS,        /* the same, the orchestrator
                                            * answers, and greets first */
    NGX_HTTP_RTAGENT_ENGINE_LLM            /* the same, the LLM engine */
} ngx_http_rtagent_engine_e;


/*
 * How a call ended, as recorded in Redis ("outcome").  The control plane
 * (ACS) ends calls with these too, and a hang-up control message names
 * one of them.
 */
typedef enum {
    NGX_HTTP_RTAGENT_OUTCOME_CALLER_HUNG_UP = 0,
    NGX_HTTP_RTAGENT_OUTCOME_AGENT_HUNG_UP,
    NGX_HTTP_RTAGENT_OUTCOME_TRANSFERRED,
    NGX_HTTP_RTAGENT_OUTCOME_ANSWER_FAILED,
    NGX_HTTP_RTAGENT_OUTCOME_CREATE_FAILED,
    NGX_HTTP_RTAGENT_OUTCOME_ERROR,
    NGX_HTTP_RTAGENT_OUTCOME_CLOSED_BY_CONTROL,
    NGX_HTTP_RTAGENT_OUTCOME_CALLER_IDLE,     /* rtagent_idle_hangup */
    NGX_HTTP_RTAGENT_OUTCOME_ENDED_BY_AGENT   /* the responder's AFTER_END */
} ngx_http_rtagent_outcome_e;


/* the spoken apology, synthesised once per worker (see call.c) */
typedef struct ngx_http_rtagent_call_apology_s
    ngx_http_rtagent_call_apology_t;


typedef struct {
    ngx_uint_t                    engine;
    ngx_int_t                     vad_threshold;   /* dBFS */
    ngx_msec_t                    vad_start;       /* speech confirming onset */
    ngx_msec_t                    vad_end;         /* silence ending speech */
    ngx_msec_t                    max_utterance;
    ngx_msec_t                    playout_lead;
    ngx_flag_t                    barge_in;
    ngx_msec_t                    barge_in_min;    /* speech confirming */
    ngx_int_t                     barge_in_min_chars;  /* or a partial's */
    ngx_msec_t                    barge_in_resume; /* unconfirmed: resume */
    ngx_msec_t                    barge_in_echo_guard;
    ngx_msec_t                    idle_reprompt;   /* 0: off */
    ngx_msec_t                    idle_hangup;     /* after the reprompt */
    ngx_http_rtagent_speech_pick_t  stt;         /* provider NULL: none */
    ngx_http_rtagent_speech_pick_t  tts;
    ngx_http_rtagent_call_apology_t  *apologies;  /* the worker's, by rate */
} ngx_http_rtagent_call_conf_t;


typedef struct ngx_http_rtagent_call_s  ngx_http_rtagent_call_t;


/* how the channel ended; a hang-up by a control message overrides it */
typedef enum {
    NGX_HTTP_RTAGENT_CALL_HUNG_UP = 0,        /* the caller hung up */
    NGX_HTTP_RTAGENT_CALL_FAILED              /* an error, a timeout */
} ngx_http_rtagent_call_outcome_e;


/* "caller_hung_up", ...: the outcome's name in Redis */
const char *ngx_http_rtagent_outcome_name(ngx_http_rtagent_outcome_e o);


void ngx_http_rtagent_call_init_conf(ngx_http_rtagent_call_conf_t *conf);
char *ngx_http_rtagent_call_merge_conf(ngx_conf_t *cf,
    ngx_http_rtagent_call_conf_t *conf, ngx_http_rtagent_call_conf_t *prev);

ngx_http_rtagent_call_t *ngx_http_rtagent_call_create(ngx_pool_t *pool,
    ngx_http_rtagent_call_conf_t *conf, ngx_http_rtagent_channel_t *ch);
ngx_int_t ngx_http_rtagent_call_start(ngx_http_rtagent_call_t *call,
    ngx_uint_t rate, size_t frame_bytes);
ngx_int_t ngx_http_rtagent_call_audio(ngx_http_rtagent_call_t *call,
    const u_char *pcm, size_t len, ngx_uint_t silent);
void ngx_http_rtagent_call_dtmf(ngx_http_rtagent_call_t *call,
    ngx_str_t *tones);
void ngx_http_rtagent_call_participant(ngx_http_rtagent_call_t *call,
    ngx_str_t *participant);
void ngx_http_rtagent_call_transcription(ngx_http_rtagent_call_t *call,
    ngx_str_t *text, double confidence, ngx_str_t *participant);
void ngx_http_rtagent_call_end(ngx_http_rtagent_call_t *call,
    ngx_http_rtagent_call_outcome_e outcome, const char *reason);


#endif /* _NGX_HTTP_RTAGENT_CALL_H_INCLUDED_ */
