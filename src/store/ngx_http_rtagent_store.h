
/*
 * A call's live state in Redis (DESIGN.md section 5), written through the
 * worker's Redis connection (io/ngx_http_rtagent_redis.h).  The braces in
 * the key names are literal: every key of one call shares the Redis
 * Cluster hash tag {<call id>}.
 *
 *   rtagent:call:{<id>}             hash: agent, slots, auth (set when
 *                                   absent: the orchestrator owns them),
 *                                   owner_worker,
 *                                   owner_instance, state, started, ...;
 *                                   24 h, renewed while the call lives and
 *                                   at its end
 *   rtagent:call:{<id>}:transcript  list of JSON entries {"seq", "role",
 *                                   "text" or "dtmf", "ts"}; 1 h after the
 *                                   last entry, renewed while the call lives
 *   rtagent:call:{<id>}:context     the agents' context, written by them
 *                                   (the orchestrator: a list of JSON
 *                                   entries); renewed while the call lives,
 *                                   1 h after its end
 *   rtagent:events                  stream, XADD MAXLEN ~ 100000, fields
 *                                   type, call_id, ts (ms since the epoch),
 *                                   data (JSON)
 *   rtagent:call:{<id>}:ctl         pub/sub: JSON control messages for the
 *                                   worker that owns the call
 *   rtagent:call:{<id>}:ctlq        list: the same messages, RPUSHed with
 *                                   the PUBLISH (one script or MULTI), the
 *                                   newest 32, 1 h; the owner drains it each
 *                                   time its subscription is (again) in
 *                                   place and LREMs every message it took,
 *                                   so none is lost while it was not
 *                                   subscribed; a message's "id" makes it
 *                                   applied once when both paths bring it
 *   rtagent:event:{<id>}            string "1": an Event Grid or callback
 *                                   event id already seen; 24 h at least
 *
 * CALL_STARTED, PARTICIPANT_JOINED and CALL_ENDED are written once per
 * call although the media session and the ACS control plane (any worker,
 * any instance) both emit them: the first emitter sets a guard field
 * "ev:..." in the call's hash and only then adds the event.  A script
 * touches the keys of one call only, never rtagent:events (another slot
 * under Redis Cluster): the guard is one write, the XADD a second one sent
 * from its reply.  A session's events stay in their order behind a guard.
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

#include <store/ngx_http_rtagent_ctl_msg.h>


#define NGX_HTTP_RTAGENT_EV_CALL_STARTED              "CALL_STARTED"
#define NGX_HTTP_RTAGENT_EV_PARTICIPANT_JOINED        "PARTICIPANT_JOINED"
#define NGX_HTTP_RTAGENT_EV_TRANSCRIPTION_RECEIVED    "TRANSCRIPTION_RECEIVED"
#define NGX_HTTP_RTAGENT_EV_AGENT_RESPONSE_GENERATED  \
    "AGENT_RESPONSE_GENERATED"
#define NGX_HTTP_RTAGENT_EV_RECORDING_STARTED         "RECORDING_STARTED"
#define NGX_HTTP_RTAGENT_EV_ERROR_OCCURRED            "ERROR_OCCURRED"
#define NGX_HTTP_RTAGENT_EV_CALL_ENDED                "CALL_ENDED"


/* a control message; the strings live for the handler's call only */
typedef struct {
    ngx_http_rtagent_ctl_action_e  action;
    ngx_str_t                      name;       /* as sent */
    ngx_str_t                      target;     /* transfer */
    ngx_str_t                      text;       /* inject_text */
    ngx_str_t                      outcome;    /* hangup, optional */
    ngx_str_t                      reason;     /* hangup, optional */
} ngx_http_rtagent_ctl_t;

typedef void (*ngx_http_rtagent_store_ctl_pt)(void *data,
    ngx_http_rtagent_ctl_t *ctl);


typedef struct ngx_http_rtagent_store_call_s  ngx_http_rtagent_store_call_t;


/*
 * The call starts: its hash, CALL_STARTED (once per call), and a
 * subscription to its control channel; ctl(data, ...) is called for each
 * valid control message until ngx_http_rtagent_store_call_end().  log is
 * the call's log for as long as it lives.
 */
ngx_http_rtagent_store_call_t *ngx_http_rtagent_store_call_start(
    ngx_str_t *call_id, ngx_str_t *agent, ngx_uint_t rate, ngx_log_t *log,
    ngx_http_rtagent_store_ctl_pt ctl, void *data);

/* PARTICIPANT_JOINED the first time a participantRawID is seen (once per
 * call and participant, across sessions and the control plane) */
void ngx_http_rtagent_store_participant(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *participant);

/* a final transcription: a caller entry and TRANSCRIPTION_RECEIVED;
 * confidence < 0 when unknown, participant may be empty */
void ngx_http_rtagent_store_caller_text(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *text, double confidence, ngx_str_t *participant);

/*
 * A turn's stage clocks: ngx_http_rtagent_monotonic_us(), 0 when the
 * stage was not reached.  END is the caller's end of speech (the start
 * of a turn of the agent's own: greeting, reprompt).
 */
typedef enum {
    NGX_HTTP_RTAGENT_STAGE_END = 0,
    NGX_HTTP_RTAGENT_STAGE_STT_FINAL,      /* the provider's final result */
    NGX_HTTP_RTAGENT_STAGE_RESPONDER,      /* the responder started */
    NGX_HTTP_RTAGENT_STAGE_FIRST_TEXT,     /* its first text */
    NGX_HTTP_RTAGENT_STAGE_TTS_REQUEST,    /* handed to the TTS provider */
    NGX_HTTP_RTAGENT_STAGE_TTS_AUDIO,      /* its audio that made the
                                              first frame */
    NGX_HTTP_RTAGENT_STAGE_FIRST_FRAME,    /* first AudioData written */
    NGX_HTTP_RTAGENT_STAGE_N
} ngx_http_rtagent_stage_e;

/*
 * A turn's per-stage timings, in ms from its start (the caller's end of
 * speech, or the reprompt); -1: the stage was not reached.  Written as
 * "turn" and "timings" {...} with TRANSCRIPTION_RECEIVED and
 * AGENT_RESPONSE_GENERATED by the _timed variants; with the stage clocks
 * from END to FIRST_FRAME, also the turn in microseconds split into the
 * intervals between its stages and "gateway_us", the sum of the
 * gateway's own (see ngx_http_rtagent_store_timings_us).
 */
typedef struct {
    ngx_uint_t                    turn;
    ngx_msec_int_t                speech;          /* the utterance audio, ms */
    ngx_msec_int_t                stt_final;
    ngx_msec_int_t                first_text;      /* from the responder */
    ngx_msec_int_t                tts_first_byte;
    ngx_msec_int_t                first_audio;     /* first frame sent */
    ngx_msec_int_t                barge_in_stop;   /* onset to StopAudio */
    int64_t                       barge_in_stop_us;    /* -1: none */
    int64_t                       barge_in_cancel_us;  /* onset to the reply
                                                          cancelled, or -1 */
    uint64_t                      stage[NGX_HTTP_RTAGENT_STAGE_N];
    unsigned                      remote_responder:1;  /* the LLM's time */
} ngx_http_rtagent_store_timings_t;

void ngx_http_rtagent_store_caller_text_timed(
    ngx_http_rtagent_store_call_t *sc, ngx_str_t *text, double confidence,
    ngx_str_t *participant, const ngx_http_rtagent_store_timings_t *t);
/* agent: the agent that spoke (NULL or empty: the call's entry agent);
 * interrupted: a barge-in cut the reply, text is what the caller heard of
 * it ("interrupted":true in the entry and the event) */
void ngx_http_rtagent_store_agent_text_timed(
    ngx_http_rtagent_store_call_t *sc, ngx_str_t *text, const char *source,
    ngx_str_t *agent, ngx_uint_t interrupted,
    const ngx_http_rtagent_store_timings_t *t);

/* DTMF tones: a caller entry {"role":"caller","dtmf":...} */
void ngx_http_rtagent_store_caller_dtmf(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *tones);

/*
 * rtagent_redact: what redacts the text of the caller and agent entries
 * and their events before they are stored (a pure function with the
 * signature of ngx_http_rtagent_safety_redact), NULL for none; the agent
 * module sets it in each worker
 */
typedef size_t (*ngx_http_rtagent_store_redact_pt)(const u_char *text,
    size_t len, u_char *out, size_t outlen, unsigned *count);

void ngx_http_rtagent_store_redact_with(
    ngx_http_rtagent_store_redact_pt redact);

/* the agent's words: an agent entry and AGENT_RESPONSE_GENERATED */
void ngx_http_rtagent_store_agent_text(ngx_http_rtagent_store_call_t *sc,
    ngx_str_t *text, const char *source);

/* audio the agent played without text (the echo engine) */
void ngx_http_rtagent_store_agent_audio(ngx_http_rtagent_store_call_t *sc,
    ngx_uint_t utterance, ngx_msec_t duration,
    const ngx_http_rtagent_store_timings_t *t);

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
 * outcome ("caller_hung_up", "closed_by_control", "error", or the outcome
 * of a control hang-up), the TTLs that let its history expire, and no more
 * control messages.  CALL_ENDED goes through the guard ev:ended: not
 * written when the call had already ended elsewhere.  sc must not be used
 * afterwards (it is freed once its last write is answered).
 */
void ngx_http_rtagent_store_call_end(ngx_http_rtagent_store_call_t *sc,
    const char *outcome, ngx_str_t *reason);

/*
 * sends a control message (a JSON object) to a call, wherever it lives:
 * an "id" is added, then one script RPUSHes it on the call's :ctlq and
 * PUBLISHes it on :ctl
 */
ngx_int_t ngx_http_rtagent_store_control(ngx_str_t *call_id,
    ngx_str_t *json);


/*
 * Stateless functions on a call id, for the ACS control plane (any worker,
 * no session object).  All return NGX_DECLINED without rtagent_redis (the
 * handler is then never called), NGX_ERROR when out of memory (nor then),
 * else NGX_OK, and the handler, if any, is called exactly once, from a
 * Redis reply or at the latest when the worker exits.  Nothing passed in
 * is used after the call returns: what is needed is copied.
 */

/* a field of the call hash */
typedef struct {
    const char                    *name;
    ngx_str_t                      value;
} ngx_http_rtagent_store_field_t;

/* HSET rtagent:call:{id} the fields (+ "call_id"), then PEXPIRE 24 h */
ngx_int_t ngx_http_rtagent_store_call_set(ngx_str_t *call_id,
    ngx_http_rtagent_store_field_t *fields, ngx_uint_t n, ngx_log_t *log);

/*
 * An event for a call on rtagent:events; with once != NULL only the first
 * emitter of that guard writes it (HSETNX rtagent:call:{id} <once> <ts>,
 * the hash given a 24 h TTL if it had none, then XADD when it was set; a
 * dropped or failed guard write emits anyway: at-least-once beats lost).
 * data is a JSON document (copied).
 */
ngx_int_t ngx_http_rtagent_store_call_event(ngx_str_t *call_id,
    const char *type, ngx_str_t *data, const char *once, ngx_log_t *log);

/* guard names used by both emitters */
#define NGX_HTTP_RTAGENT_STORE_ONCE_STARTED   "ev:started"
#define NGX_HTTP_RTAGENT_STORE_ONCE_ENDED     "ev:ended"
/* PARTICIPANT_JOINED: "ev:joined:" + rawId */
#define NGX_HTTP_RTAGENT_STORE_ONCE_JOINED    "ev:joined:"

/*
 * 1: done by this call; 0: done before (or a repeat); -1: no answer;
 * NGX_HTTP_RTAGENT_STORE_EXITING: no answer because the worker exits (a
 * handler then frees what it holds and starts nothing: no request, no
 * response, no write).  A fields handler gets it as n, too.
 */
#define NGX_HTTP_RTAGENT_STORE_EXITING  -2

typedef void (*ngx_http_rtagent_store_result_pt)(void *data, ngx_int_t rc);

/*
 * The call ended, wherever it lived (no session needed): one script on the
 * call's hash sets the guard ev:ended (HSETNX; if it was already set:
 * nothing more), state "ended", "ended" (ms), "duration_ms" (from the
 * hash's "started", else "answered", else "created"; 0 when none),
 * "outcome", "reason"; then from the reply CALL_ENDED {"duration_ms",
 * "outcome", "reason"} is XADDed, and the TTLs of DESIGN 5 applied (hash
 * 24 h, transcript and context 1 h).  handler (may be NULL) gets 1 when
 * this call wrote CALL_ENDED, 0 when it had already ended, -1 when Redis
 * did not answer (CALL_ENDED is then written anyway, without duration_ms).
 */
ngx_int_t ngx_http_rtagent_store_call_ended(ngx_str_t *call_id,
    const char *outcome, ngx_str_t *reason, ngx_log_t *log,
    ngx_http_rtagent_store_result_pt handler, void *data);

/*
 * sends a control message like ngx_http_rtagent_store_control(), and
 * tells handler how many subscribers received it at once (PUBLISH's
 * reply; -1 when Redis did not answer); with 0 the message still waits in
 * the call's :ctlq for a session of the call that subscribes within 1 h
 */
ngx_int_t ngx_http_rtagent_store_control_count(ngx_str_t *call_id,
    ngx_str_t *json, ngx_http_rtagent_store_result_pt handler, void *data);

/*
 * At-least-once delivery, deduplicated: SET rtagent:event:{<id>} 1 NX PX
 * <ttl ms> (a ttl under 24 h counts as 24 h); handler gets 1 for the first
 * time the id is seen, 0 for a repeat, -1 when Redis did not answer (treat
 * as new).
 */
ngx_int_t ngx_http_rtagent_store_dedupe(ngx_str_t *event_id,
    ngx_msec_t ttl, ngx_log_t *log, ngx_http_rtagent_store_result_pt handler,
    void *data);

/*
 * Reads fields of a call's hash: handler gets the values in order
 * (ngx_str_t with len 0 and data NULL for a missing field), n < 0 when
 * Redis did not answer; the strings live during the handler only.
 */
typedef void (*ngx_http_rtagent_store_fields_pt)(void *data, ngx_int_t n,
    ngx_str_t *values);

ngx_int_t ngx_http_rtagent_store_call_get(ngx_str_t *call_id,
    const char **names, ngx_uint_t n, ngx_log_t *log,
    ngx_http_rtagent_store_fields_pt handler, void *data);


#endif /* _NGX_HTTP_RTAGENT_STORE_H_INCLUDED_ */
