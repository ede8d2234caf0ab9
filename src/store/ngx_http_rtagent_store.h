
/*
 * A call's live state in Redis (DESIGN.md section 5), written through the
 * worker's Redis connection (io/ngx_http_rtagent_redis.h).  The braces in
 * the key names are literal: every key of one call shares the Redis
 * Cluster hash tag {<call id>}.
 *
 *   rtagent:call:{<id>}             hash: agent, slots, auth, owner_worker,
 *                                   owner_instance, state, started, ...;
 *                                   24 h, renewed while the call lives and
 *                                   at its end
 *   rtagent:call:{<id>}:transcript  list of JSON entries {"seq", "role",
 *                                   "text" or "dtmf", "ts"}; 1 h after the
 *                                   last entry, renewed while the call lives
 *   rtagent:call:{<id>}:context     string, the LLM context (JSON); renewed
 *                                   while the call lives, 1 h after its end
 *   rtagent:events                  stream, XADD MAXLEN ~ 100000, fields
 *                                   type, call_id, ts (ms since the epoch),
 *                                   data (JSON)
 *   rtagent:call:{<id>}:ctl         pub/sub: JSON control messages for the
 *                                   worker that owns the call
 *
 * Nothing said on a call is lost to a Redis outage or restart: the call's
 * transcript is kept in worker memory while the call (or any of its writes)
 * lives, transcript entries carry a sequence number that a server-side
 * script checks, and a gap (a restarted, emptied Redis) is filled from
 * memory; when the Redis server itself changes, every call this worker
 * still holds is written again.
 *
 * Without rtagent_redis every function here does nothing (start returns
 * NULL, and the others accept NULL).
 */


#ifndef _NGX_HTTP_RTAGENT_STORE_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_RTAGENT_EV_CALL_STARTED              "CALL_STARTED"
#define NGX_HTTP_RTAGENT_EV_PARTICIPANT_JOINED        "PARTICIPANT_JOINED"
#define NGX_HTTP_RTAGENT_EV_TRANSCRIPTION_RECEIVED    "TRANSCRIPTION_RECEIVED"
#define NGX_HTTP_RTAGENT_EV_AGENT_RESPONSE_GENERATED  \
    "AGENT_RESPONSE_GENERATED"
#define NGX_HTTP_RTAGENT_EV_RECORDING_STARTED         "RECORDING_STARTED"
#define NGX_HTTP_RTAGENT_EV_ERROR_OCCURRED            "ERROR_OCCURRED"
#define NGX_HTTP_RTAGENT_EV_CALL_ENDED                "CALL_ENDED"


typedef enum {
    NGX_HTTP_RTAGENT_CTL_HANGUP = 1,
    NGX_HTTP_RTAGENT_CTL_STOP_AUDIO,
    NGX_HTTP_RTAGENT_CTL_TRANSFER,
    NGX_HTTP_RTAGENT_CTL_INJECT_TEXT
} ngx_http_rtagent_ctl_action_e;


/* a control message; the strings live for the handler's call only */
typedef struct {
    ngx_http_rtagent_ctl_action_e  action;
    ngx_str_t                      name;       /* as sent */
    ngx_str_t                      target;     /* transfer */
    ngx_str_t                      text;       /* inject_text */
} ngx_http_rtagent_ctl_t;

typedef void (*ngx_http_rtagent_store_ctl_pt)(void *data,
    ngx_http_rtagent_ctl_t *ctl);


typedef struct ngx_http_rtagent_store_call_s  ngx_http_rtagent_store_call_t;


/*
 * The call starts: its hash, CALL_STARTED, and a subscription to its
 * control channel; ctl(data, ...) is called for each valid control
 * message until ngx_http_rtagent_store_call_end().  log is the call's log
 * for as long as it lives.
 */
ngx_http_rtagent_store_call_t *ngx_http_rtagent_store_call_start(
    ngx_str_t *call_id, ngx_str_t *agent, ngx_uint_t rate, ngx_log_t *log,
    ngx_http_rtagent_store_ctl_pt ctl, void *data);

/* PARTICIPANT_JOINED the first time a participantRawID is seen */
void ngx_http_rtagent_store_participant(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *participant);

/* a final transcription: a caller entry and TRANSCRIPTION_RECEIVED;
 * confidence < 0 when unknown, participant may be empty */
void ngx_http_rtagent_store_caller_text(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *text, double confidence, ngx_str_t *participant);

/* DTMF tones: a caller entry {"role":"caller","dtmf":...} */
void ngx_http_rtagent_store_caller_dtmf(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *tones);

/* the agent's words: an agent entry and AGENT_RESPONSE_GENERATED */
void ngx_http_rtagent_store_agent_text(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *text, const char *source);

/* audio the agent played without text (the echo engine) */
void ngx_http_rtagent_store_agent_audio(ngx_http_rtagent_store_call_t *sc,
    ngx_uint_t utterance, ngx_msec_t duration);

/* replaces the LLM context (a JSON document) */
void ngx_http_rtagent_store_context(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *json);

/* ERROR_OCCURRED {"error": error[, key: value]} */
void ngx_http_rtagent_store_error(ngx_http_rtagent_store_call_t *sc,
    const char *error, const char *key, ngx_str_t *value);

/* any other event; data is a JSON document */
void ngx_http_rtagent_store_event(ngx_http_rtagent_store_call_t *sc,
    const char *type, ngx_str_t *data);

/*
 * The call ended: the hash's final state, CALL_ENDED with the duration and
 * outcome ("caller_hung_up", "closed_by_control", "error"), the TTLs that
 * let its history expire, and no more control messages.  sc must not be
 * used afterwards (it is freed once its last write is answered).
 */
void ngx_http_rtagent_store_call_end(ngx_http_rtagent_store_call_t *sc,
    const char *outcome, ngx_str_t *reason);

/* publishes a control message for a call, wherever it lives */
ngx_int_t ngx_http_rtagent_store_control(ngx_str_t *call_id,
    ngx_str_t *json);


#endif /* _NGX_HTTP_RTAGENT_STORE_H_INCLUDED_ */
