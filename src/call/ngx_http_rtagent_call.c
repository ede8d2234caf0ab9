
/*
 * The call session (see ngx_http_rtagent_call.h).
 *
 * Memory: an idle call holds only its pre-roll (the last few hundred ms,
 * so the first syllable before the onset is kept).  The utterance buffer
 * is allocated at onset and handed to the playout at its end; the playout
 * frees it when the answer has been sent or interrupted.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <ngx_http_rtagent_core.h>
#include <call/ngx_http_rtagent_call.h>
#include <call/ngx_http_rtagent_playout.h>
#include <call/ngx_http_rtagent_heard.h>
#include <audio/ngx_http_rtagent_audio.h>
#include <audio/ngx_http_rtagent_ring.h>
#include <audio/ngx_http_rtagent_vad.h>
#include <audio/ngx_http_rtagent_resample.h>
#include <call/ngx_http_rtagent_turn.h>
#include <speech/ngx_http_rtagent_sentence.h>
#include <store/ngx_http_rtagent_store.h>
#include <agent/ngx_http_rtagent_agent_module.h>
#include <agent/ngx_http_rtagent_orchestrator.h>
#include <agent/ngx_http_rtagent_safety.h>


/* the longest caller text logged when redacted */
#define NGX_HTTP_RTAGENT_CALL_LOG_TEXT  1024


/* audio kept from before the onset, beyond the onset frames themselves */
#define NGX_HTTP_RTAGENT_PREROLL_MS  200

/* unvoiced frames kept at the end of an utterance (a soft word ending) */
#define NGX_HTTP_RTAGENT_TAIL_FRAMES  2


struct ngx_http_rtagent_call_s {
    ngx_http_rtagent_call_conf_t  *conf;
    ngx_http_rtagent_channel_t    *channel;
    ngx_pool_t                    *pool;

    ngx_uint_t                     rate;
    size_t                         frame_bytes;
    ngx_msec_t                     frame_ms;

    ngx_http_rtagent_vad_t         vad;
    ngx_http_rtagent_ring_t        preroll;
    ngx_http_rtagent_ring_t        utterance;  /* buf NULL when idle */
    ngx_http_rtagent_ring_t        heard;      /* the one in STT: kept
                                                  until its final result */
    ngx_msec_t                     heard_start;
    size_t                         utterance_size;
    u_char                        *frame;      /* frame_bytes of scratch */
    ngx_http_rtagent_playout_t     playout;
    ngx_http_rtagent_store_call_t *store;      /* NULL without Redis */

    /* the say_back engine: ears, a responder, a voice */
    ngx_http_rtagent_stt_t         stt;
    ngx_http_rtagent_tts_t         tts;
    ngx_http_rtagent_turn_t        turn;
    ngx_http_rtagent_resample_t    tts_rs;     /* TTS rate to the call's */
    u_char                        *reply;      /* the turn's text so far */
    size_t                         reply_len;
    size_t                         reply_cap;
    size_t                         reply_sent; /* handed to TTS */
    /* which text of the reply went into which audio, for a barge-in to
     * know what the caller heard of it (see call_reply_cut) */
    ngx_http_rtagent_heard_piece_t  *pieces;   /* ngx_alloc */
    ngx_uint_t                     npieces;
    ngx_uint_t                     pieces_cap;
    size_t                         reply_audio;  /* queued of it, bytes */
    ngx_msec_t                     speech_start;
    ngx_msec_t                     speech_end;

    /* barge-in: the utterance under way interrupted the agent, and is
     * not yet confirmed as speech (see call_onset) */
    ngx_msec_t                     barge_onset;
    ngx_msec_t                     barge_voiced;  /* of the utterance */
    ngx_http_rtagent_timer_t       barge_timer;   /* barge_in_resume */
    ngx_uint_t                     barge_confirmed;   /* counters, */
    ngx_uint_t                     barge_resumed;     /* for metrics */
    ngx_uint_t                     barge_echo;
    uint64_t                       echo_level;  /* the agent's, at onset */

    /* the turn under way: its stage times from t0 (the end of speech or
     * the reprompt), kept for the metrics too */
    ngx_http_rtagent_store_timings_t  timings;
    ngx_msec_t                     t0;
    ngx_msec_int_t                 barge_stop;  /* this utterance's, or -1 */
    ngx_msec_int_t                 speech_ms;   /* its audio's length */
    /* microsecond clocks (ngx_http_rtagent_monotonic_us): the last onset
     * and end of speech; the onset to StopAudio and to the reply
     * cancelled at a confirmed barge-in, or -1 */
    uint64_t                       onset_us;
    uint64_t                       end_us;
    int64_t                        barge_stop_us;
    int64_t                        barge_cancel_us;

    /* the apology for a failing provider, the worker's (see
     * call_apology_get); owed: the call waits in its queue */
    ngx_http_rtagent_call_apology_t  *apology;
    ngx_queue_t                    apology_q;
    const char                    *apology_what;   /* the owed one's */

    /* a silent caller: reprompted, then said goodbye to (see call_idle) */
    ngx_http_rtagent_timer_t       idle_timer;
    ngx_uint_t                     idle_stage;

    /* what follows the reply once it has been heard (turn->after) */
    ngx_uint_t                     after;
    ngx_str_t                      after_target;
    ngx_str_t                      speaker;     /* reply_store's agent */

    ngx_uint_t                     utterances;
    const char                    *hangup;     /* a control hang-up's */
    ngx_str_t                      hangup_reason;
    unsigned                       started:1;
    unsigned                       stored:1;   /* store start was tried */
    unsigned                       hung_up:1;  /* by a control message */
    unsigned                       speech:1;   /* stt and tts are open */
    unsigned                       hearing:1;  /* an utterance in STT */
    unsigned                       turn_on:1;  /* the responder answers */
    unsigned                       reply_done:1;
    unsigned                       reply_said:1;  /* all synthesised: it
                                                     plays out */
    unsigned                       tts_busy:1;
    unsigned                       tts_rs_on:1;
    unsigned                       barge:1;     /* unconfirmed barge-in */
    unsigned                       barge_paused:1;  /* the playout by it */
    unsigned                       barge_stt:1; /* its STT waits confirm */
    unsigned                       utt_drop:1;  /* no turn: echo, noise */
    unsigned                       echo_held:1; /* taken for an echo, so
                                                   far (see call_onset) */
    unsigned                       idle_closed:1;  /* caller_idle */
    unsigned                       apology_owed:1; /* play when ready */
    unsigned                       reply_failed:1; /* apology after it */
    unsigned                       transferred:1;  /* by the responder */
    unsigned                       agent_ended:1;
};


/* the agent's name in Redis, until the orchestrator picks agents */
static ngx_str_t  ngx_http_rtagent_call_agent = ngx_string("echo");

/* by ngx_http_rtagent_outcome_e */
static const char  *ngx_http_rtagent_call_outcomes[] = {
    "caller_hung_up", "agent_hung_up", "transferred", "answer_failed",
    "create_failed", "error", "closed_by_control", "caller_idle",
    "ended_by_agent", NULL
};


static ngx_int_t ngx_http_rtagent_call_onset(ngx_http_rtagent_call_t *call,
    const u_char *pcm, size_t len);
static void ngx_http_rtagent_call_barge_confirm(ngx_http_rtagent_call_t *call,
    const char *by);
static void ngx_http_rtagent_call_barge_resume(ngx_event_t *ev);
static void ngx_http_rtagent_call_barge_end(ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_interrupt(ngx_http_rtagent_call_t *call);
static ngx_int_t ngx_http_rtagent_call_hear(ngx_http_rtagent_call_t *call);
static ngx_int_t ngx_http_rtagent_call_join(ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_heard_free(ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_idle_check(ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_idle(ngx_event_t *ev);
static void ngx_http_rtagent_call_drained(void *data);
static ngx_uint_t ngx_http_rtagent_call_after(ngx_http_rtagent_call_t *call);
static ngx_int_t ngx_http_rtagent_call_turn_start(
    ngx_http_rtagent_call_t *call, ngx_uint_t kind);
static void ngx_http_rtagent_call_timings_reset(ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_reply_store(ngx_http_rtagent_call_t *call,
    size_t len, ngx_uint_t interrupted);
static ngx_str_t *ngx_http_rtagent_call_speaker(ngx_http_rtagent_call_t *call);
static ngx_http_rtagent_call_apology_t *ngx_http_rtagent_call_apology_get(
    ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_apology_start(
    ngx_http_rtagent_call_apology_t *ap);
static void ngx_http_rtagent_call_apology_cleanup(void *data);
static void ngx_http_rtagent_call_said(ngx_http_rtagent_call_t *call,
    ngx_uint_t agent, ngx_str_t *text);
static void ngx_http_rtagent_call_apology_audio(ngx_http_rtagent_tts_t *tts,
    const int16_t *pcm, size_t samples, ngx_uint_t rate);
static void ngx_http_rtagent_call_apology_done(ngx_http_rtagent_tts_t *tts,
    ngx_http_rtagent_speech_err_e err, const char *detail);
static void ngx_http_rtagent_call_apologise(ngx_http_rtagent_call_t *call,
    const char *what);
static void ngx_http_rtagent_call_speech_frame(ngx_http_rtagent_call_t *call,
    const u_char *pcm, size_t len);
static void ngx_http_rtagent_call_utterance_end(
    ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_echo(ngx_http_rtagent_call_t *call);
static ngx_http_rtagent_store_call_t *ngx_http_rtagent_call_store(
    ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_control(void *data,
    ngx_http_rtagent_ctl_t *ctl);
static void ngx_http_rtagent_call_stop_audio(ngx_http_rtagent_call_t *call);
static ngx_int_t ngx_http_rtagent_call_speech_open(
    ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_speech_close(ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_stt_result(ngx_http_rtagent_stt_t *stt,
    ngx_http_rtagent_stt_result_t *res);
static void ngx_http_rtagent_call_stt_error(ngx_http_rtagent_stt_t *stt,
    ngx_http_rtagent_speech_err_e err, const char *detail);
static void ngx_http_rtagent_call_turn_text(ngx_http_rtagent_turn_t *turn,
    ngx_str_t *piece);
static void ngx_http_rtagent_call_turn_done(ngx_http_rtagent_turn_t *turn,
    ngx_int_t rc, const char *err);
static void ngx_http_rtagent_call_reply_cancel(ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_reply_pump(ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_reply_piece(ngx_http_rtagent_call_t *call,
    size_t end);
static size_t ngx_http_rtagent_call_reply_cut(ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_reply_over(ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_reply_free(ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_tts_audio(ngx_http_rtagent_tts_t *tts,
    const int16_t *pcm, size_t samples, ngx_uint_t rate);
static void ngx_http_rtagent_call_tts_done(ngx_http_rtagent_tts_t *tts,
    ngx_http_rtagent_speech_err_e err, const char *detail);


extern const ngx_http_rtagent_responder_t  ngx_http_rtagent_say_back;
extern const ngx_http_rtagent_responder_t  ngx_http_rtagent_llm_responder;
extern const ngx_http_rtagent_tts_provider_t  ngx_http_rtagent_tts_local;

static ngx_str_t  ngx_http_rtagent_call_apology_text =
    ngx_string("Sorry, I had a problem. Please say that again.");


const char *
ngx_http_rtagent_outcome_name(ngx_http_rtagent_outcome_e o)
{
    return ngx_http_rtagent_call_outcomes[o];
}


void
ngx_http_rtagent_call_init_conf(ngx_http_rtagent_call_conf_t *conf)
{
    conf->engine = NGX_CONF_UNSET_UINT;
    conf->vad_threshold = NGX_CONF_UNSET;
    conf->vad_start = NGX_CONF_UNSET_MSEC;
    conf->vad_end = NGX_CONF_UNSET_MSEC;
    conf->max_utterance = NGX_CONF_UNSET_MSEC;
    conf->playout_lead = NGX_CONF_UNSET_MSEC;
    conf->barge_in = NGX_CONF_UNSET;
    conf->barge_in_min = NGX_CONF_UNSET_MSEC;
    conf->barge_in_min_chars = NGX_CONF_UNSET;
    conf->barge_in_resume = NGX_CONF_UNSET_MSEC;
    conf->barge_in_echo_guard = NGX_CONF_UNSET_MSEC;
    conf->idle_reprompt = NGX_CONF_UNSET_MSEC;
    conf->idle_hangup = NGX_CONF_UNSET_MSEC;
}


char *
ngx_http_rtagent_call_merge_conf(ngx_conf_t *cf,
    ngx_http_rtagent_call_conf_t *conf, ngx_http_rtagent_call_conf_t *prev)
{
    ngx_conf_merge_uint_value(conf->engine, prev->engine,
                              NGX_HTTP_RTAGENT_ENGINE_ECHO);
    ngx_conf_merge_value(conf->vad_threshold, prev->vad_threshold, -40);
    ngx_conf_merge_msec_value(conf->vad_start, prev->vad_start, 40);
    ngx_conf_merge_msec_value(conf->vad_end, prev->vad_end, 600);
    ngx_conf_merge_msec_value(conf->max_utterance, prev->max_utterance,
                              15000);
    ngx_conf_merge_msec_value(conf->playout_lead, prev->playout_lead, 100);
    ngx_conf_merge_value(conf->barge_in, prev->barge_in, 1);
    ngx_conf_merge_msec_value(conf->barge_in_min, prev->barge_in_min, 300);
    ngx_conf_merge_value(conf->barge_in_min_chars, prev->barge_in_min_chars,
                         8);
    ngx_conf_merge_msec_value(conf->barge_in_resume, prev->barge_in_resume,
                              800);
    ngx_conf_merge_msec_value(conf->barge_in_echo_guard,
                              prev->barge_in_echo_guard, 500);
    ngx_conf_merge_msec_value(conf->idle_reprompt, prev->idle_reprompt, 0);
    ngx_conf_merge_msec_value(conf->idle_hangup, prev->idle_hangup, 0);

    if (conf->stt.provider == NULL) {
        conf->stt = prev->stt;
    }

    if (conf->tts.provider == NULL) {
        conf->tts = prev->tts;
    }

    if (conf->vad_end < conf->vad_start) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_vad_end_silence %M ms is shorter than "
                           "rtagent_vad_start %M ms",
                           conf->vad_end, conf->vad_start);
        return NGX_CONF_ERROR;
    }

    if ((conf->engine == NGX_HTTP_RTAGENT_ENGINE_SAY_BACK
         || conf->engine == NGX_HTTP_RTAGENT_ENGINE_AGENTS
         || conf->engine == NGX_HTTP_RTAGENT_ENGINE_LLM)
        && (conf->stt.provider == NULL || conf->tts.provider == NULL))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_engine %s needs rtagent_stt and "
                           "rtagent_tts",
                           conf->engine == NGX_HTTP_RTAGENT_ENGINE_AGENTS
                           ? "agents"
                           : conf->engine == NGX_HTTP_RTAGENT_ENGINE_LLM
                           ? "llm" : "say_back");
        return NGX_CONF_ERROR;
    }

    /* the apology is said by the local TTS, whatever the location's is */
    if ((conf->engine == NGX_HTTP_RTAGENT_ENGINE_SAY_BACK
         || conf->engine == NGX_HTTP_RTAGENT_ENGINE_AGENTS
         || conf->engine == NGX_HTTP_RTAGENT_ENGINE_LLM)
        && conf->tts.provider != &ngx_http_rtagent_tts_local
        && ngx_http_rtagent_tts_local.configure(cf) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_http_rtagent_call_t *
ngx_http_rtagent_call_create(ngx_pool_t *pool,
    ngx_http_rtagent_call_conf_t *conf, ngx_http_rtagent_channel_t *ch)
{
    ngx_http_rtagent_call_t  *call;

    call = ngx_pcalloc(pool, sizeof(ngx_http_rtagent_call_t));
    if (call == NULL) {
        return NULL;
    }

    call->conf = conf;
    call->channel = ch;
    call->pool = pool;

    ngx_http_rtagent_timer_init(&call->barge_timer,
                                ngx_http_rtagent_call_barge_resume, call,
                                ch->log);
    ngx_http_rtagent_timer_init(&call->idle_timer,
                                ngx_http_rtagent_call_idle, call, ch->log);

    return call;
}


/* the channel knows the audio format: 20 ms of PCM16 at rate, typically */

ngx_int_t
ngx_http_rtagent_call_start(ngx_http_rtagent_call_t *call, ngx_uint_t rate,
    size_t frame_bytes)
{
    size_t                        size;
    u_char                       *p;
    ngx_uint_t                    preroll;
    ngx_http_rtagent_vad_conf_t   vc;

    call->rate = rate;
    call->frame_bytes = frame_bytes;
    call->frame_ms = frame_bytes / (rate / 500);

    vc.threshold_dbfs = (int) call->conf->vad_threshold;
    vc.start_frames = (call->conf->vad_start + call->frame_ms - 1)
                      / call->frame_ms;
    vc.end_frames = (call->conf->vad_end + call->frame_ms - 1)
                    / call->frame_ms;
    vc.max_frames = call->conf->max_utterance / call->frame_ms;

    ngx_http_rtagent_vad_init(&call->vad, &vc);

    preroll = vc.start_frames + NGX_HTTP_RTAGENT_PREROLL_MS / call->frame_ms;

    p = ngx_pnalloc(call->pool, preroll * frame_bytes + frame_bytes);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_http_rtagent_ring_init(&call->preroll, p, preroll * frame_bytes);
    call->frame = p + preroll * frame_bytes;

    /* the cut comes at max_frames: room for it and the pre-roll */
    call->utterance_size = (vc.max_frames + preroll + 1) * frame_bytes;

    size = ngx_max(call->conf->playout_lead / call->frame_ms, 1);

    if (ngx_http_rtagent_playout_init(&call->playout, call->pool,
                                      call->channel, frame_bytes,
                                      call->frame_ms, size * call->frame_ms)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if ((call->conf->engine == NGX_HTTP_RTAGENT_ENGINE_SAY_BACK
         || call->conf->engine == NGX_HTTP_RTAGENT_ENGINE_AGENTS
         || call->conf->engine == NGX_HTTP_RTAGENT_ENGINE_LLM)
        && ngx_http_rtagent_call_speech_open(call) != NGX_OK)
    {
        return NGX_ERROR;
    }

    call->playout.drained = ngx_http_rtagent_call_drained;
    call->playout.data = call;

    call->started = 1;

    ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                  "rtagent call: started, %ui Hz, %M ms frames, call:%V",
                  rate, call->frame_ms, &call->channel->call_id);

    (void) ngx_http_rtagent_call_store(call);

    /* the agents speak first: the greeting turn, before any caller's */
    if (call->conf->engine == NGX_HTTP_RTAGENT_ENGINE_AGENTS
        || call->conf->engine == NGX_HTTP_RTAGENT_ENGINE_LLM)
    {
        ngx_http_rtagent_call_timings_reset(call);
        (void) ngx_http_rtagent_call_turn_start(call,
                                              NGX_HTTP_RTAGENT_TURN_GREETING);
    }

    /* a caller who never speaks is asked too */
    ngx_http_rtagent_call_idle_check(call);

    return NGX_OK;
}


ngx_int_t
ngx_http_rtagent_call_audio(ngx_http_rtagent_call_t *call, const u_char *pcm,
    size_t len, ngx_uint_t silent)
{
    ngx_http_rtagent_vad_event_e  ev;

    ev = ngx_http_rtagent_vad_feed(&call->vad, pcm, len, silent ? 1 : 0);

    switch (ev) {

    case NGX_HTTP_RTAGENT_VAD_SILENCE:
        (void) ngx_http_rtagent_ring_push_evict(&call->preroll, pcm, len);
        return NGX_OK;

    case NGX_HTTP_RTAGENT_VAD_ONSET:
        (void) ngx_http_rtagent_ring_push_evict(&call->preroll, pcm, len);
        return ngx_http_rtagent_call_onset(call, silent ? NULL : pcm, len);

    case NGX_HTTP_RTAGENT_VAD_SPEECH:
        ngx_http_rtagent_call_speech_frame(call, pcm, len);
        return NGX_OK;

    default: /* NGX_HTTP_RTAGENT_VAD_END */
        ngx_http_rtagent_call_speech_frame(call, pcm, len);

        if (call->barge) {
            ngx_http_rtagent_call_barge_end(call);
        }

        ngx_http_rtagent_call_utterance_end(call);
        return NGX_OK;
    }
}


/* a frame of an utterance; an unconfirmed barge-in is confirmed by it */

static void
ngx_http_rtagent_call_speech_frame(ngx_http_rtagent_call_t *call,
    const u_char *pcm, size_t len)
{
    if (call->hearing && !call->barge_stt && !call->utt_drop) {
        (void) call->stt.provider->feed(&call->stt, pcm, len);
    }

    (void) ngx_http_rtagent_ring_write(&call->utterance, pcm, len);

    /* as loud as the agent after all: a caller whose first sound was
     * soft, not an echo; the interruption starts now, heard from its
     * onset */
    if (call->echo_held
        && ngx_http_rtagent_pcm_energy(pcm, len) >= call->echo_level / 2)
    {
        call->echo_held = 0;
        call->utt_drop = 0;
        call->barge_echo--;

        ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                      "rtagent call: as loud as the agent after %M ms, "
                      "not an echo, call:%V",
                      ngx_current_msec - call->barge_onset,
                      &call->channel->call_id);

        ngx_http_rtagent_call_interrupt(call);

        if (call->speech && ngx_http_rtagent_call_hear(call) != NGX_OK) {
            return;
        }
    }

    if (call->barge && ngx_http_rtagent_vad_voiced(&call->vad)) {
        call->barge_voiced += call->frame_ms;

        if (call->barge_voiced >= call->conf->barge_in_min) {
            ngx_http_rtagent_call_barge_confirm(call, "speech");
        }
    }
}


void
ngx_http_rtagent_call_dtmf(ngx_http_rtagent_call_t *call, ngx_str_t *tones)
{
    ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                  "rtagent call: dtmf \"%V\", call:%V",
                  tones, &call->channel->call_id);

    ngx_http_rtagent_store_caller_dtmf(ngx_http_rtagent_call_store(call),
                                       tones);
}


/* who speaks on the call (ACS participantRawID), frame after frame */

void
ngx_http_rtagent_call_participant(ngx_http_rtagent_call_t *call,
    ngx_str_t *participant)
{
    ngx_http_rtagent_store_participant(call->store, participant);
}


/*
 * The caller's words as they may be logged: with rtagent_redact on, card
 * numbers, SSNs and dates of birth replaced by labels (in buf, cut at its
 * size), else the text itself.
 */

static ngx_str_t *
ngx_http_rtagent_call_loggable(ngx_str_t *text, ngx_str_t *out, u_char *buf,
    size_t size)
{
    size_t  n;

    if (!ngx_http_rtagent_agent_redact((ngx_cycle_t *) ngx_cycle)) {
        return text;
    }

    n = ngx_http_rtagent_safety_redact(text->data, text->len, buf, size,
                                       NULL);

    out->data = buf;
    out->len = ngx_min(n, size - 1);

    return out;
}


/* a final transcription of the caller's words (ACS or our own STT) */

void
ngx_http_rtagent_call_transcription(ngx_http_rtagent_call_t *call,
    ngx_str_t *text, double confidence, ngx_str_t *participant)
{
    ngx_http_rtagent_store_call_t  *sc;
#if (NGX_DEBUG)
    u_char                          buf[NGX_HTTP_RTAGENT_CALL_LOG_TEXT];
    ngx_str_t                       safe;
#endif

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, call->channel->log, 0,
                   "rtagent call: caller said \"%V\", call:%V",
                   ngx_http_rtagent_call_loggable(text, &safe, buf,
                                                  sizeof(buf)),
                   &call->channel->call_id);

    sc = ngx_http_rtagent_call_store(call);

    ngx_http_rtagent_store_participant(sc, participant);
    ngx_http_rtagent_store_caller_text(sc, text, confidence, participant);
}


void
ngx_http_rtagent_call_end(ngx_http_rtagent_call_t *call,
    ngx_http_rtagent_call_outcome_e outcome, const char *reason)
{
    ngx_str_t    r;
    const char  *how;

    if (call->started) {
        ngx_http_rtagent_playout_stop(&call->playout);
    }

    if (call->barge_timer.event.timer_set) {
        ngx_del_timer(&call->barge_timer.event);
    }

    if (call->idle_timer.event.timer_set) {
        ngx_del_timer(&call->idle_timer.event);
    }

    call->barge = 0;

    ngx_http_rtagent_call_speech_close(call);

    if (call->utterance.buf != NULL) {
        ngx_http_rtagent_audio_free(call->utterance.buf,
                                    call->utterance.size, call->channel->log);
        ngx_memzero(&call->utterance, sizeof(ngx_http_rtagent_ring_t));
    }

    ngx_http_rtagent_call_heard_free(call);

    if (call->hung_up) {
        how = call->hangup ? call->hangup
                           : ngx_http_rtagent_outcome_name(
                                 NGX_HTTP_RTAGENT_OUTCOME_CLOSED_BY_CONTROL);
        reason = NULL;

    } else if (call->idle_closed) {
        how = ngx_http_rtagent_outcome_name(
                  NGX_HTTP_RTAGENT_OUTCOME_CALLER_IDLE);
        reason = NULL;

    } else if (call->transferred || call->agent_ended) {
        how = ngx_http_rtagent_outcome_name(call->transferred
                  ? NGX_HTTP_RTAGENT_OUTCOME_TRANSFERRED
                  : NGX_HTTP_RTAGENT_OUTCOME_ENDED_BY_AGENT);
        reason = NULL;

    } else if (outcome == NGX_HTTP_RTAGENT_CALL_HUNG_UP) {
        how = ngx_http_rtagent_outcome_name(
                  NGX_HTTP_RTAGENT_OUTCOME_CALLER_HUNG_UP);
        reason = NULL;

    } else {
        how = ngx_http_rtagent_outcome_name(NGX_HTTP_RTAGENT_OUTCOME_ERROR);
    }

    ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                  "rtagent call: ended after %ui utterances, call:%V",
                  call->utterances, &call->channel->call_id);

    r.data = (u_char *) reason;
    r.len = reason ? ngx_strlen(reason) : 0;

    if (call->hung_up) {
        r = call->hangup_reason;
    }

    ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                  "rtagent call: outcome %s%s%V, call:%V",
                  how, r.len ? ": " : "", &r, &call->channel->call_id);

    ngx_http_rtagent_store_call_end(call->store, how, &r);
    call->store = NULL;
}


/*
 * Barge-in.  Caller speech while the agent's audio goes out stops it at
 * once (the far end drops its queue too: StopAudio), but that is all it
 * does until the interruption is confirmed: by rtagent_barge_in_min of
 * voiced speech or a partial transcript of rtagent_barge_in_min_chars.
 * Then the reply is cancelled (responder, TTS, the audio not heard) and
 * the utterance is heard from its start.  Unconfirmed by the end of the
 * utterance or within rtagent_barge_in_resume (a cough, "mhm", noise),
 * the reply goes on from where the caller last heard it and the sound is
 * dropped.  While the agent thinks (no audio yet) the same holds, with
 * nothing to stop.
 *
 * The echo guard: in the first rtagent_barge_in_echo_guard (500 ms) of
 * a stretch of agent audio, when a speakerphone's echo of the agent's
 * first syllables comes back, an onset more than 3 dB quieter than the
 * agent's last frame is held for an echo (attenuated on its way): no
 * StopAudio, no STT.  A frame of the utterance as loud as that (a caller
 * whose first sound was soft: "s" of "stop") ends the hold, and the
 * interruption starts then, heard from its onset; an utterance that
 * stays quieter is dropped when it ends.  A soft caller costs the time
 * to the first loud frame, an echo nothing.
 */

static ngx_int_t
ngx_http_rtagent_call_onset(ngx_http_rtagent_call_t *call, const u_char *pcm,
    size_t len)
{
    size_t                       n;
    u_char                      *buf;
    ngx_http_rtagent_playout_t  *pl;

    pl = &call->playout;

    /* the caller is there: the idle count starts again once all is quiet,
     * unless the goodbye is under way */
    if (call->idle_timer.event.timer_set && call->idle_stage < 2) {
        ngx_del_timer(&call->idle_timer.event);
    }

    if (call->idle_stage < 2) {
        call->idle_stage = 0;
    }

    call->utt_drop = 0;
    call->barge_stt = 0;
    call->barge_stop = -1;
    call->barge_stop_us = -1;
    call->barge_cancel_us = -1;
    call->barge_voiced = call->vad.conf.start_frames * call->frame_ms;

    call->echo_held = 0;
    call->barge_onset = ngx_current_msec;
    call->onset_us = ngx_http_rtagent_monotonic_us();

    if (call->conf->barge_in && ngx_http_rtagent_playout_sending(pl)
        && ngx_current_msec - pl->spoke < call->conf->barge_in_echo_guard
        && pcm != NULL
        && ngx_http_rtagent_pcm_energy(pcm, len) < pl->energy / 2)
    {
        call->barge_echo++;
        call->utt_drop = 1;
        call->echo_held = 1;
        call->echo_level = pl->energy;

        ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                      "rtagent call: barge-in held, quieter than "
                      "the agent's audio (echo guard), call:%V",
                      &call->channel->call_id);

    } else {
        ngx_http_rtagent_call_interrupt(call);
    }

    if (call->speech && !call->utt_drop
        && ngx_http_rtagent_call_hear(call) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (call->utterance.buf == NULL) {
        buf = ngx_http_rtagent_audio_alloc(call->utterance_size,
                                           call->channel->log);
        if (buf == NULL) {
            return NGX_ERROR;
        }

        ngx_http_rtagent_ring_init(&call->utterance, buf,
                                   call->utterance_size);
    }

    /* the utterance starts with the pre-roll, onset frames included */
    while (ngx_http_rtagent_ring_len(&call->preroll) > 0) {
        n = ngx_http_rtagent_ring_read(&call->preroll, call->frame,
                                       call->frame_bytes);
        (void) ngx_http_rtagent_ring_write(&call->utterance, call->frame, n);

        if (call->hearing && !call->barge_stt && !call->utt_drop) {
            (void) call->stt.provider->feed(&call->stt, call->frame, n);
        }
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, call->channel->log, 0,
                   "rtagent call: speech onset, call:%V",
                   &call->channel->call_id);

    if (call->barge && call->barge_voiced >= call->conf->barge_in_min) {
        ngx_http_rtagent_call_barge_confirm(call, "speech");
    }

    return NGX_OK;
}


/* caller speech over the agent: it stops at once, until confirmed */

static void
ngx_http_rtagent_call_interrupt(ngx_http_rtagent_call_t *call)
{
    uint64_t                     now;
    ngx_uint_t                   busy;
    ngx_http_rtagent_playout_t  *pl;

    pl = &call->playout;

    busy = call->speech
           && (call->turn_on || call->tts_busy || call->reply != NULL);

    if (call->conf->barge_in && ngx_http_rtagent_playout_sending(pl)) {
        ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                      "rtagent call: barge-in, stopping playback, "
                      "call:%V", &call->channel->call_id);

        if (ngx_http_rtagent_playout_pause(pl) != NGX_OK) {
            ngx_http_rtagent_playout_stop(pl);
        }

        (void) call->channel->stop_audio(call->channel);

        /* from the loop's time, when the onset frame was read: both
         * on CLOCK_MONOTONIC, as nginx keeps ngx_current_msec */
        now = ngx_http_rtagent_monotonic_us();
        call->barge_stop = (ngx_msec_int_t) (now / 1000)
                           - (ngx_msec_int_t) ngx_current_msec;
        call->barge_stop_us = now - call->onset_us;

        call->barge = 1;
        call->barge_paused = 1;

    } else if (call->conf->barge_in && busy) {
        call->barge = 1;
    }

    if (call->barge) {
        ngx_add_timer(&call->barge_timer.event,
                      call->conf->barge_in_resume);
    }
}


/* the utterance goes to STT (what of it there is so far too) */

static ngx_int_t
ngx_http_rtagent_call_hear(ngx_http_rtagent_call_t *call)
{
    ngx_msec_t  start;

    if (call->barge && call->hearing) {
        /* an earlier utterance is still in STT: it is not given up
         * for what may be a cough */
        call->barge_stt = 1;
        return NGX_OK;
    }

    call->stt.provider->cancel(&call->stt);

    start = call->barge_onset;

    /* a caller who paused while the words before the pause were
     * still in STT goes on: heard again, with these */
    if (call->hearing && call->heard.buf != NULL) {
        start = call->heard_start;

        if (ngx_http_rtagent_call_join(call) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    call->hearing = 0;
    call->stt.expect = call->turn.expect;

    if (call->stt.provider->begin(&call->stt) != NGX_OK) {
        return NGX_OK;
    }

    call->hearing = 1;
    call->speech_start = start;

    if (call->utterance.buf != NULL) {
        (void) call->stt.provider->feed(&call->stt, call->utterance.buf,
                                        call->utterance.len);
    }

    return NGX_OK;
}


/* the caller does interrupt: what the agent was saying is dropped */

static void
ngx_http_rtagent_call_barge_confirm(ngx_http_rtagent_call_t *call,
    const char *by)
{
    ngx_msec_t                   start;
    ngx_http_rtagent_playout_t  *pl;

    pl = &call->playout;

    call->barge = 0;
    call->barge_confirmed++;

    if (call->barge_timer.event.timer_set) {
        ngx_del_timer(&call->barge_timer.event);
    }

    ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                  "rtagent call: barge-in confirmed by %s after %M ms, "
                  "reply cancelled, call:%V", by,
                  ngx_current_msec - call->barge_onset,
                  &call->channel->call_id);

    /* what the caller heard of the reply: the rest is not said, and goes
     * neither into the transcript nor into the responder's context */
    if (call->speech && (call->turn_on || call->reply != NULL)) {
        call->turn.heard = ngx_http_rtagent_call_reply_cut(call);

        ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                      "rtagent call: the caller heard %uz of %uz bytes of "
                      "the reply, call:%V", call->turn.heard,
                      call->reply_len, &call->channel->call_id);
    }

    if (ngx_http_rtagent_playout_sending(pl)) {
        /* resumed meanwhile: the far end drops it again */
        ngx_http_rtagent_call_stop_audio(call);

    } else {
        ngx_http_rtagent_playout_stop(pl);
    }

    call->barge_paused = 0;

    if (!call->speech) {
        return;
    }

    ngx_http_rtagent_call_reply_cancel(call);
    call->barge_cancel_us = ngx_http_rtagent_monotonic_us() - call->onset_us;

    if (call->barge_stt) {
        /* the earlier utterance, still in STT, is heard again with this
         * one from its start: its words are not lost */
        call->barge_stt = 0;
        call->stt.provider->cancel(&call->stt);
        call->hearing = 0;
        call->stt.expect = call->turn.expect;

        start = call->heard.buf ? call->heard_start : call->barge_onset;

        if (ngx_http_rtagent_call_join(call) != NGX_OK) {
            return;
        }

        if (call->stt.provider->begin(&call->stt) == NGX_OK) {
            call->hearing = 1;
            call->speech_start = start;
            (void) call->stt.provider->feed(&call->stt, call->utterance.buf,
                                            call->utterance.len);
        }
    }
}


/* not confirmed in time: the reply goes on from what the caller heard */

static void
ngx_http_rtagent_call_barge_resume(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t  *t = ev->data;
    ngx_http_rtagent_call_t   *call = t->data;

    if (!call->barge) {
        return;
    }

    call->barge_resumed++;

    ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                  "rtagent call: barge-in not confirmed in %M ms, reply "
                  "resumed, call:%V", ngx_current_msec - call->barge_onset,
                  &call->channel->call_id);

    if (call->barge_paused) {
        call->barge_paused = 0;
        ngx_http_rtagent_playout_resume(&call->playout);
        ngx_http_rtagent_call_reply_over(call);
    }
}


/* an unconfirmed interruption ended: it was no speech, it is dropped */

static void
ngx_http_rtagent_call_barge_end(ngx_http_rtagent_call_t *call)
{
    if (call->barge_timer.event.timer_set) {
        ngx_del_timer(&call->barge_timer.event);
        ngx_http_rtagent_call_barge_resume(&call->barge_timer.event);
    }

    call->barge = 0;
    call->utt_drop = 1;

    if (call->barge_stt) {
        call->barge_stt = 0;

    } else if (call->hearing) {
        call->stt.provider->cancel(&call->stt);
        call->hearing = 0;
    }
}


/*
 * Words are not lost to a pause.  An utterance whose transcript has not
 * come yet when the caller speaks again (a pause longer than
 * rtagent_vad_end_silence mid-sentence, or an interruption confirmed
 * meanwhile) has its STT given up for one on both: its audio goes before
 * the one under way, and the two are one turn, one transcript.
 */

static ngx_int_t
ngx_http_rtagent_call_join(ngx_http_rtagent_call_t *call)
{
    u_char                   *buf;
    size_t                    size;
    ngx_http_rtagent_ring_t   r;

    if (call->heard.buf == NULL) {
        return NGX_OK;
    }

    size = call->heard.len + (call->utterance.buf ? call->utterance.size
                                                  : call->utterance_size);

    buf = ngx_http_rtagent_audio_alloc(size, call->channel->log);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    /* an utterance ring never wraps: it is sized for the longest one */
    ngx_http_rtagent_ring_init(&r, buf, size);
    (void) ngx_http_rtagent_ring_write(&r, call->heard.buf, call->heard.len);

    ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                  "rtagent call: %uz ms before a pause not transcribed yet, "
                  "heard again with what follows, call:%V",
                  call->heard.len / call->frame_bytes * call->frame_ms,
                  &call->channel->call_id);

    if (call->utterance.buf != NULL) {
        (void) ngx_http_rtagent_ring_write(&r, call->utterance.buf,
                                           call->utterance.len);
        ngx_http_rtagent_audio_free(call->utterance.buf,
                                    call->utterance.size, call->channel->log);
    }

    call->utterance = r;
    ngx_http_rtagent_call_heard_free(call);

    return NGX_OK;
}


static void
ngx_http_rtagent_call_heard_free(ngx_http_rtagent_call_t *call)
{
    if (call->heard.buf != NULL) {
        ngx_http_rtagent_audio_free(call->heard.buf, call->heard.size,
                                    call->channel->log);
        ngx_memzero(&call->heard, sizeof(ngx_http_rtagent_ring_t));
    }
}


static void
ngx_http_rtagent_call_utterance_end(ngx_http_rtagent_call_t *call)
{
    size_t      trim;
    ngx_uint_t  trailing;

    if (call->utt_drop) {
        call->utt_drop = 0;

        ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                      "rtagent call: %uz ms of sound over the agent "
                      "dropped, call:%V",
                      ngx_http_rtagent_ring_len(&call->utterance)
                      / call->frame_bytes * call->frame_ms,
                      &call->channel->call_id);

        ngx_http_rtagent_audio_free(call->utterance.buf,
                                    call->utterance.size, call->channel->log);
        ngx_memzero(&call->utterance, sizeof(ngx_http_rtagent_ring_t));

        ngx_http_rtagent_call_idle_check(call);
        return;
    }

    call->end_us = ngx_http_rtagent_monotonic_us();

    trailing = ngx_http_rtagent_vad_trailing(&call->vad);

    if (trailing > NGX_HTTP_RTAGENT_TAIL_FRAMES) {
        trim = (trailing - NGX_HTTP_RTAGENT_TAIL_FRAMES) * call->frame_bytes;

        /* dropping from the tail of a ring is shortening it */
        call->utterance.len -= ngx_min(trim, call->utterance.len);
    }

    call->utterances++;

    ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                  "rtagent call: utterance %ui, %uz ms%s, call:%V",
                  call->utterances,
                  ngx_http_rtagent_ring_len(&call->utterance)
                  / call->frame_bytes * call->frame_ms,
                  call->vad.cut ? " (cut at rtagent_max_utterance)" : "",
                  &call->channel->call_id);

    if (call->speech) {
        /* the words come back through the STT callbacks */
        call->speech_end = ngx_current_msec;
        call->speech_ms = ngx_http_rtagent_ring_len(&call->utterance)
                          / call->frame_bytes * call->frame_ms;

        if (call->hearing
            && call->stt.provider->finish(&call->stt) != NGX_OK)
        {
            call->hearing = 0;
            ngx_log_error(NGX_LOG_ERR, call->channel->log, 0,
                          "rtagent call: stt \"%V\" refused the utterance, "
                          "call:%V", &call->stt.provider->name,
                          &call->channel->call_id);
        }

        /* kept until its words come: heard again if the caller goes on
         * before (see call_join) */
        ngx_http_rtagent_call_heard_free(call);

        if (call->hearing) {
            call->heard = call->utterance;
            call->heard_start = call->speech_start;

        } else {
            ngx_http_rtagent_audio_free(call->utterance.buf,
                                        call->utterance.size,
                                        call->channel->log);
        }

        ngx_memzero(&call->utterance, sizeof(ngx_http_rtagent_ring_t));
        return;
    }

    /* the echo engine: the answer is the utterance itself */
    ngx_http_rtagent_call_echo(call);
}


/* the utterance played back, timed as a turn (the baseline of say_back's) */

static void
ngx_http_rtagent_call_echo(ngx_http_rtagent_call_t *call)
{
    ngx_msec_t                         ms;
    ngx_http_rtagent_store_timings_t  *t;

    ms = ngx_http_rtagent_ring_len(&call->utterance) / call->frame_bytes
         * call->frame_ms;

    ngx_http_rtagent_playout_play(&call->playout, &call->utterance);

    ngx_http_rtagent_call_timings_reset(call);

    t = &call->timings;
    t->stage[NGX_HTTP_RTAGENT_STAGE_END] = call->end_us;
    t->barge_in_stop = call->barge_stop;
    t->barge_in_stop_us = call->barge_stop_us;

    if (call->playout.frames > 0) {
        t->stage[NGX_HTTP_RTAGENT_STAGE_FIRST_FRAME] =
                                              ngx_http_rtagent_monotonic_us();
    }

    ngx_http_rtagent_store_agent_audio(call->store, call->utterances, ms, t);
}


static void
ngx_http_rtagent_call_stop_audio(ngx_http_rtagent_call_t *call)
{
    if (call->started) {
        ngx_http_rtagent_playout_stop(&call->playout);
    }

    (void) call->channel->stop_audio(call->channel);
}


/*
 * The call's state in Redis, from its start (AudioMetadata) or from
 * whatever comes first for it (a transcription, a tone).
 */

static ngx_http_rtagent_store_call_t *
ngx_http_rtagent_call_store(ngx_http_rtagent_call_t *call)
{
    ngx_str_t                 *agent;
    ngx_http_rtagent_agent_t  *entry;

    if (!call->stored) {
        call->stored = 1;

        agent = call->channel->agent.len ? &call->channel->agent
                                         : &ngx_http_rtagent_call_agent;

        /* the agents' calls start at the entry agent */
        if (call->channel->agent.len == 0
            && call->conf->engine == NGX_HTTP_RTAGENT_ENGINE_AGENTS
            && (entry = ngx_http_rtagent_agent_entry((ngx_cycle_t *)
                                                     ngx_cycle))
               != NULL)
        {
            agent = &entry->name;
        }

        call->store = ngx_http_rtagent_store_call_start(
                          &call->channel->call_id, agent, call->rate,
                          call->channel->log,
                          ngx_http_rtagent_call_control, call);
    }

    return call->store;
}


/* a control message published for this call, from any worker or instance */

static void
ngx_http_rtagent_call_control(void *data, ngx_http_rtagent_ctl_t *ctl)
{
    ngx_uint_t                   i;
    const char                  *o;
    ngx_http_rtagent_call_t     *call = data;
    ngx_http_rtagent_channel_t  *ch;

    ch = call->channel;

    switch (ctl->action) {

    case NGX_HTTP_RTAGENT_CTL_HANGUP:
        ngx_log_error(NGX_LOG_INFO, ch->log, 0,
                      "rtagent call: hang-up by control, call:%V",
                      &ch->call_id);

        call->hung_up = 1;

        /* the strings go with the message: the call keeps what it needs */
        for (i = 0; ngx_http_rtagent_call_outcomes[i]; i++) {
            o = ngx_http_rtagent_call_outcomes[i];

            if (ctl->outcome.len == ngx_strlen(o)
                && ngx_strncmp(ctl->outcome.data, o, ctl->outcome.len) == 0)
            {
                call->hangup = o;
                break;
            }
        }

        if (ctl->reason.len && call->hangup_reason.len == 0) {
            call->hangup_reason.data = ngx_pstrdup(call->pool, &ctl->reason);
            if (call->hangup_reason.data) {
                call->hangup_reason.len = ctl->reason.len;
            }
        }

        ch->close(ch, NGX_HTTP_RTAGENT_CHANNEL_NORMAL, "hung up");
        break;

    case NGX_HTTP_RTAGENT_CTL_STOP_AUDIO:
        ngx_log_error(NGX_LOG_INFO, ch->log, 0,
                      "rtagent call: audio stopped by control, call:%V",
                      &ch->call_id);

        ngx_http_rtagent_call_stop_audio(call);
        ngx_http_rtagent_call_reply_over(call);
        break;

    case NGX_HTTP_RTAGENT_CTL_TRANSFER:
        /* the call goes on until ACS connects the target and disconnects
         * the gateway (CallTransferAccepted, then CallDisconnected) */
        ngx_log_error(NGX_LOG_INFO, ch->log, 0,
                      "rtagent call: transfer to \"%V\" by control, call:%V",
                      &ctl->target, &ch->call_id);

        if (ch->transfer == NULL
            || ch->transfer(ch, &ctl->target) != NGX_OK)
        {
            ngx_http_rtagent_store_error(call->store, "transfer not sent",
                                         "target", &ctl->target);
        }

        break;

    case NGX_HTTP_RTAGENT_CTL_INJECT_TEXT:
        /* written as the agent's line; saying it needs TTS, not there yet */
        ngx_log_error(NGX_LOG_INFO, ch->log, 0,
                      "rtagent call: injected agent text \"%V\" (not "
                      "spoken: no TTS yet), call:%V",
                      &ctl->text, &ch->call_id);

        ngx_http_rtagent_store_agent_text(call->store, &ctl->text, "control");
        break;
    }
}


/* the say_back engine's STT and TTS sessions, for the call's life */

static ngx_int_t
ngx_http_rtagent_call_speech_open(ngx_http_rtagent_call_t *call)
{
    ngx_http_rtagent_stt_t      *stt;
    ngx_http_rtagent_tts_t      *tts;
    ngx_http_rtagent_channel_t  *ch;

    ch = call->channel;
    stt = &call->stt;
    tts = &call->tts;

    stt->pool = call->pool;
    stt->log = ch->log;
    stt->call_id = &ch->call_id;
    stt->rate = call->rate;
    stt->loc_conf = call->conf->stt.loc_conf;
    stt->on_result = ngx_http_rtagent_call_stt_result;
    stt->on_error = ngx_http_rtagent_call_stt_error;
    stt->data = call;
    stt->provider = call->conf->stt.provider;

    tts->pool = call->pool;
    tts->log = ch->log;
    tts->call_id = &ch->call_id;
    tts->loc_conf = call->conf->tts.loc_conf;
    tts->on_audio = ngx_http_rtagent_call_tts_audio;
    tts->on_done = ngx_http_rtagent_call_tts_done;
    tts->data = call;
    tts->provider = call->conf->tts.provider;

    if (stt->provider->open(stt) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, ch->log, 0,
                      "rtagent call: stt \"%V\" failed to open, call:%V",
                      &stt->provider->name, &ch->call_id);
        return NGX_ERROR;
    }

    if (tts->provider->open(tts) != NGX_OK) {
        stt->provider->close(stt);
        ngx_log_error(NGX_LOG_ERR, ch->log, 0,
                      "rtagent call: tts \"%V\" failed to open, call:%V",
                      &tts->provider->name, &ch->call_id);
        return NGX_ERROR;
    }

    call->turn.pool = call->pool;
    call->turn.log = ch->log;
    call->turn.call_id = &ch->call_id;
    call->turn.loc_conf = call->conf->stt.loc_conf;
    call->turn.on_text = ngx_http_rtagent_call_turn_text;
    call->turn.on_done = ngx_http_rtagent_call_turn_done;
    call->turn.data = call;
    call->turn.responder =
        call->conf->engine == NGX_HTTP_RTAGENT_ENGINE_AGENTS
        ? &ngx_http_rtagent_orchestrator
        : call->conf->engine == NGX_HTTP_RTAGENT_ENGINE_LLM
        ? &ngx_http_rtagent_llm_responder : &ngx_http_rtagent_say_back;

    call->speech = 1;

    call->apology = ngx_http_rtagent_call_apology_get(call);

    return NGX_OK;
}


static void
ngx_http_rtagent_call_speech_close(ngx_http_rtagent_call_t *call)
{
    if (!call->speech) {
        return;
    }

    ngx_http_rtagent_call_reply_cancel(call);

    call->stt.provider->close(&call->stt);
    call->tts.provider->close(&call->tts);

    if (call->apology_owed) {
        call->apology_owed = 0;
        ngx_queue_remove(&call->apology_q);
    }

    call->apology = NULL;

    if (call->tts_rs_on) {
        ngx_http_rtagent_resample_free(&call->tts_rs);
        call->tts_rs_on = 0;
    }

    call->hearing = 0;
    call->speech = 0;
}


static void
ngx_http_rtagent_call_stt_result(ngx_http_rtagent_stt_t *stt,
    ngx_http_rtagent_stt_result_t *res)
{
    u_char                          buf[NGX_HTTP_RTAGENT_CALL_LOG_TEXT];
    ngx_str_t                       none = ngx_null_string, safe;
    uint64_t                        final_us;
    ngx_http_rtagent_call_t        *call = stt->data;
    ngx_http_rtagent_transcript_t  *tr;

    final_us = ngx_http_rtagent_monotonic_us();

    if (!res->final) {
        if (call->barge && !call->barge_stt
            && ngx_utf8_length(res->text.data, res->text.len)
               >= (size_t) call->conf->barge_in_min_chars)
        {
            ngx_http_rtagent_call_barge_confirm(call, "a partial transcript");
        }

        return;
    }

    call->hearing = 0;
    ngx_http_rtagent_call_heard_free(call);

    ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                  "rtagent call: caller said \"%V\" (stt %V, %M ms after "
                  "the end of speech), call:%V",
                  ngx_http_rtagent_call_loggable(&res->text, &safe, buf,
                                                 sizeof(buf)),
                  &stt->provider->name, ngx_current_msec - call->speech_end,
                  &call->channel->call_id);

    ngx_http_rtagent_call_reply_cancel(call);

    ngx_http_rtagent_call_timings_reset(call);
    call->t0 = call->speech_end;
    call->timings.speech = call->speech_ms;
    call->timings.stt_final = ngx_current_msec - call->speech_end;
    call->timings.barge_in_stop = call->barge_stop;
    call->timings.barge_in_stop_us = call->barge_stop_us;
    call->timings.barge_in_cancel_us = call->barge_cancel_us;
    call->timings.stage[NGX_HTTP_RTAGENT_STAGE_END] = call->end_us;
    call->timings.stage[NGX_HTTP_RTAGENT_STAGE_STT_FINAL] = final_us;

    ngx_http_rtagent_store_caller_text_timed(
        ngx_http_rtagent_call_store(call), &res->text, res->confidence, &none,
        &call->timings);

    ngx_http_rtagent_call_said(call, 0, &res->text);

    tr = &call->turn.transcript;

    /* the provider's text is valid during this callback only */
    tr->text.data = ngx_pstrdup(call->pool, &res->text);
    if (tr->text.data == NULL) {
        return;
    }

    tr->text.len = res->text.len;
    tr->confidence = res->confidence;
    tr->language = res->language;
    tr->speech_start = call->speech_start;
    tr->speech_end = call->speech_end;
    tr->stt_final = ngx_current_msec;

    (void) ngx_http_rtagent_call_turn_start(call,
                                            NGX_HTTP_RTAGENT_TURN_CALLER);
}


static ngx_int_t
ngx_http_rtagent_call_turn_start(ngx_http_rtagent_call_t *call,
    ngx_uint_t kind)
{
    call->turn.kind = kind;
    call->turn.number++;
    call->reply_done = 0;

    ngx_str_null(&call->turn.expect);
    call->turn.after = NGX_HTTP_RTAGENT_TURN_AFTER_LISTEN;
    ngx_str_null(&call->turn.target);
    call->turn.heard = NGX_HTTP_RTAGENT_TURN_HEARD_ALL;

    call->timings.remote_responder = call->turn.responder->remote;
    call->timings.stage[NGX_HTTP_RTAGENT_STAGE_RESPONDER] =
                                              ngx_http_rtagent_monotonic_us();

    /* on before start(): the reply may come, and end, inside it */
    call->turn_on = 1;

    if (call->turn.responder->start(&call->turn) != NGX_OK) {
        call->turn_on = 0;

        ngx_log_error(NGX_LOG_ERR, call->channel->log, 0,
                      "rtagent call: responder \"%V\" failed to start, "
                      "call:%V", &call->turn.responder->name,
                      &call->channel->call_id);
        ngx_http_rtagent_store_error(call->store, "responder failed",
                                     NULL, NULL);
        ngx_http_rtagent_call_apologise(call, "responder");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The idle caller.  Once the agent has said all it had to say and the
 * caller is quiet, rtagent_idle_reprompt of silence gets a reprompt from
 * the responder; rtagent_idle_hangup of silence after it gets a goodbye,
 * and when that has been heard the call is ended (caller_idle).
 */

static void
ngx_http_rtagent_call_idle_check(ngx_http_rtagent_call_t *call)
{
    ngx_msec_t  t;

    if (!call->speech || call->conf->idle_reprompt == 0
        || call->after != NGX_HTTP_RTAGENT_TURN_AFTER_LISTEN
        || call->idle_timer.event.timer_set
        || call->turn_on || call->tts_busy || call->reply != NULL
        || call->hearing || call->vad.speech || call->barge
        || ngx_http_rtagent_playout_active(&call->playout))
    {
        return;
    }

    switch (call->idle_stage) {

    case 0:
        t = call->conf->idle_reprompt;
        break;

    case 1:
        t = call->conf->idle_hangup;
        break;

    default:
        /* the goodbye is out: the far end plays the last lead of it */
        t = call->conf->playout_lead + call->frame_ms;
        break;
    }

    if (t) {
        ngx_add_timer(&call->idle_timer.event, t);
    }
}


static void
ngx_http_rtagent_call_idle(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t    *t = ev->data;
    ngx_http_rtagent_call_t     *call = t->data;
    ngx_http_rtagent_channel_t  *ch;

    ch = call->channel;

    switch (call->idle_stage++) {

    case 0:
        ngx_log_error(NGX_LOG_INFO, ch->log, 0,
                      "rtagent call: caller silent for %M ms, reprompt, "
                      "call:%V", call->conf->idle_reprompt, &ch->call_id);

        ngx_memzero(&call->turn.transcript,
                    sizeof(ngx_http_rtagent_transcript_t));
        ngx_http_rtagent_call_timings_reset(call);

        if (ngx_http_rtagent_call_turn_start(call,
                                             NGX_HTTP_RTAGENT_TURN_REPROMPT)
            != NGX_OK)
        {
            ngx_http_rtagent_call_idle_check(call);
        }

        return;

    case 1:
        ngx_log_error(NGX_LOG_INFO, ch->log, 0,
                      "rtagent call: caller silent for %M ms after the "
                      "reprompt, goodbye, call:%V",
                      call->conf->idle_hangup, &ch->call_id);

        ngx_memzero(&call->turn.transcript,
                    sizeof(ngx_http_rtagent_transcript_t));
        ngx_http_rtagent_call_timings_reset(call);

        if (ngx_http_rtagent_call_turn_start(call,
                                             NGX_HTTP_RTAGENT_TURN_GOODBYE)
            != NGX_OK)
        {
            ngx_http_rtagent_call_idle_check(call);
        }

        return;

    default:
        call->idle_closed = 1;
        ch->close(ch, NGX_HTTP_RTAGENT_CHANNEL_NORMAL, "caller idle");
        return;
    }
}


static void
ngx_http_rtagent_call_drained(void *data)
{
    ngx_http_rtagent_call_t  *call = data;

    if (call->reply_said) {
        /* the reply has been heard to its end */
        ngx_http_rtagent_call_reply_over(call);
        return;
    }

    if (ngx_http_rtagent_call_after(call)) {
        return;
    }

    ngx_http_rtagent_call_idle_check(call);
}


/*
 * The reply has been heard (synthesised, sent and drained): what the
 * responder asked to follow it.  A transfer leaves the call up until the
 * channel's far end takes it away (ACS: CallTransferAccepted, then the
 * media stream closes); the end closes the channel as the idle goodbye
 * does.  1 when something was done.
 */

static ngx_uint_t
ngx_http_rtagent_call_after(ngx_http_rtagent_call_t *call)
{
    ngx_uint_t                   after;
    ngx_http_rtagent_channel_t  *ch;

    ch = call->channel;
    after = call->after;

    if (after == NGX_HTTP_RTAGENT_TURN_AFTER_LISTEN
        || call->turn_on || call->tts_busy || call->reply != NULL
        || ngx_http_rtagent_playout_active(&call->playout))
    {
        return 0;
    }

    call->after = NGX_HTTP_RTAGENT_TURN_AFTER_LISTEN;

    if (after == NGX_HTTP_RTAGENT_TURN_AFTER_TRANSFER) {
        ngx_log_error(NGX_LOG_INFO, ch->log, 0,
                      "rtagent call: the agent transfers the call to "
                      "\"%V\", call:%V", &call->after_target, &ch->call_id);

        if (ch->transfer == NULL
            || ch->transfer(ch, &call->after_target) != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, ch->log, 0,
                          "rtagent call: transfer to \"%V\" not sent, "
                          "call:%V", &call->after_target, &ch->call_id);
            ngx_http_rtagent_store_error(call->store, "transfer not sent",
                                         "target", &call->after_target);
            return 0;
        }

        call->transferred = 1;
        return 1;
    }

    ngx_log_error(NGX_LOG_INFO, ch->log, 0,
                  "rtagent call: the agent ends the call, call:%V",
                  &ch->call_id);

    call->agent_ended = 1;
    ch->close(ch, NGX_HTTP_RTAGENT_CHANNEL_NORMAL, "ended by the agent");

    return 1;
}


static void
ngx_http_rtagent_call_stt_error(ngx_http_rtagent_stt_t *stt,
    ngx_http_rtagent_speech_err_e err, const char *detail)
{
    ngx_http_rtagent_call_t  *call = stt->data;

    call->hearing = 0;
    ngx_http_rtagent_call_heard_free(call);

    if (err == NGX_HTTP_RTAGENT_SPEECH_NOMATCH) {
        ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                      "rtagent call: no words heard in the utterance, "
                      "call:%V", &call->channel->call_id);
        ngx_http_rtagent_call_idle_check(call);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, call->channel->log, 0,
                  "rtagent call: stt \"%V\" failed: %s%s%s, call:%V",
                  &stt->provider->name,
                  ngx_http_rtagent_speech_err_name(err),
                  detail ? ", " : "", detail ? detail : "",
                  &call->channel->call_id);

    ngx_http_rtagent_store_error(call->store, "stt failed", NULL, NULL);

    ngx_http_rtagent_call_apologise(call, "stt");

    ngx_http_rtagent_call_idle_check(call);
}


static void
ngx_http_rtagent_call_turn_text(ngx_http_rtagent_turn_t *turn,
    ngx_str_t *piece)
{
    size_t                    cap;
    u_char                   *p;
    ngx_http_rtagent_call_t  *call = turn->data;

    if (call->timings.first_text < 0) {
        call->timings.first_text = ngx_current_msec - call->t0;
        call->timings.stage[NGX_HTTP_RTAGENT_STAGE_FIRST_TEXT] =
                                              ngx_http_rtagent_monotonic_us();
    }

    if (call->reply_len + piece->len > call->reply_cap) {
        cap = ngx_max(call->reply_cap * 2, call->reply_len + piece->len + 256);

        p = ngx_alloc(cap, call->channel->log);
        if (p == NULL) {
            return;
        }

        if (call->reply != NULL) {
            ngx_memcpy(p, call->reply, call->reply_len);
            ngx_free(call->reply);
        }

        call->reply = p;
        call->reply_cap = cap;
    }

    ngx_memcpy(call->reply + call->reply_len, piece->data, piece->len);
    call->reply_len += piece->len;

    ngx_http_rtagent_call_reply_pump(call);
}


static void
ngx_http_rtagent_call_turn_done(ngx_http_rtagent_turn_t *turn,
    ngx_int_t rc, const char *err)
{
    ngx_http_rtagent_call_t  *call = turn->data;

    call->turn_on = 0;

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, call->channel->log, 0,
                      "rtagent call: responder \"%V\" failed: %s, call:%V",
                      &turn->responder->name, err ? err : "error",
                      &call->channel->call_id);
        ngx_http_rtagent_store_error(call->store, "responder failed",
                                     NULL, NULL);

        /* after what it said, if anything: the rest never comes */
        if (call->reply == NULL) {
            ngx_http_rtagent_call_apologise(call, "responder");

        } else {
            call->reply_failed = 1;
        }
    }

    if (rc == NGX_OK
        && turn->after != NGX_HTTP_RTAGENT_TURN_AFTER_LISTEN
        && (turn->after != NGX_HTTP_RTAGENT_TURN_AFTER_TRANSFER
            || (call->after_target.data = ngx_pstrdup(call->pool,
                                                      &turn->target))
               != NULL))
    {
        call->after = turn->after;
        call->after_target.len = turn->target.len;
    }

    /* AGENT_RESPONSE_GENERATED goes out once the reply has been
     * synthesised, with the timings of its audio */
    call->reply_done = 1;

    ngx_http_rtagent_call_reply_pump(call);
}


/* the next whole sentence of the reply to TTS, when it is free */

static void
ngx_http_rtagent_call_reply_pump(ngx_http_rtagent_call_t *call)
{
    size_t          n, len;
    ngx_str_t       piece;
    const uint8_t  *p;
#if (NGX_DEBUG)
    u_char          buf[NGX_HTTP_RTAGENT_CALL_LOG_TEXT];
    ngx_str_t       safe;
#endif

    while (!call->tts_busy && call->reply != NULL) {

        p = call->reply + call->reply_sent;
        n = ngx_http_rtagent_sentence_cut(p, call->reply_len
                                             - call->reply_sent,
                                          call->reply_done);
        if (n == 0) {
            if (call->reply_done && !call->reply_said) {
                /* all synthesised: stored once heard to its end (or
                 * what of it was heard, if a barge-in cuts it) */
                call->reply_said = 1;
                ngx_http_rtagent_playout_end(&call->playout);

                if (call->reply_failed) {
                    call->reply_failed = 0;
                    ngx_http_rtagent_call_apologise(call, "responder");
                }

                ngx_http_rtagent_call_reply_over(call);
            }

            return;
        }

        call->reply_sent += n;

        len = ngx_http_rtagent_sentence_trim(&p, n);
        if (len == 0) {
            continue;
        }

        piece.data = (u_char *) p;
        piece.len = len;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, call->channel->log, 0,
                       "rtagent call: to tts \"%V\", call:%V",
                       ngx_http_rtagent_call_loggable(&piece, &safe, buf,
                                                      sizeof(buf)),
                       &call->channel->call_id);

        if (call->tts.provider->synth(&call->tts, &piece) != NGX_OK) {
            ngx_log_error(NGX_LOG_ERR, call->channel->log, 0,
                          "rtagent call: tts \"%V\" refused a piece, "
                          "call:%V", &call->tts.provider->name,
                          &call->channel->call_id);
            continue;
        }

        ngx_http_rtagent_call_reply_piece(call, p + len - call->reply);

        call->tts_busy = 1;

        if (call->timings.stage[NGX_HTTP_RTAGENT_STAGE_TTS_REQUEST] == 0) {
            call->timings.stage[NGX_HTTP_RTAGENT_STAGE_TTS_REQUEST] =
                                              ngx_http_rtagent_monotonic_us();
        }
    }
}


/* a piece of the reply went to TTS: its audio comes next */

static void
ngx_http_rtagent_call_reply_piece(ngx_http_rtagent_call_t *call, size_t end)
{
    ngx_uint_t                       cap;
    ngx_http_rtagent_heard_piece_t  *p;

    if (call->npieces == call->pieces_cap) {
        cap = ngx_max(call->pieces_cap * 2, 8);

        p = ngx_alloc(cap * sizeof(ngx_http_rtagent_heard_piece_t),
                      call->channel->log);

        if (p == NULL) {
            /* one with the piece before it, if any */
            if (call->npieces) {
                call->pieces[call->npieces - 1].text_end = end;
            }

            return;
        }

        if (call->pieces != NULL) {
            ngx_memcpy(p, call->pieces,
                       call->npieces * sizeof(ngx_http_rtagent_heard_piece_t));
            ngx_free(call->pieces);
        }

        call->pieces = p;
        call->pieces_cap = cap;
    }

    p = &call->pieces[call->npieces++];
    p->text_end = end;
    p->audio_end = call->reply_audio;
}


/*
 * The bytes of the reply text the caller heard by now: the audio queued
 * for it but what the playout has not played (the far end dropped what it
 * had not played at StopAudio; pause() keeps that), mapped to its pieces
 */

static size_t
ngx_http_rtagent_call_reply_cut(ngx_http_rtagent_call_t *call)
{
    size_t  unheard, audio;

    if (call->reply == NULL || call->npieces == 0) {
        return 0;
    }

    unheard = ngx_http_rtagent_playout_unheard(&call->playout);
    audio = call->reply_audio > unheard ? call->reply_audio - unheard : 0;

    return ngx_http_rtagent_heard(call->reply, call->pieces, call->npieces,
                                  audio, call->tts_busy);
}


/* a reply all synthesised whose audio is all played (or gone): stored */

static void
ngx_http_rtagent_call_reply_over(ngx_http_rtagent_call_t *call)
{
    if (!call->reply_said || call->reply == NULL
        || ngx_http_rtagent_playout_active(&call->playout))
    {
        return;
    }

    ngx_http_rtagent_call_reply_store(call, call->reply_len, 0);
    ngx_http_rtagent_call_reply_free(call);

    if (!ngx_http_rtagent_call_after(call)) {
        ngx_http_rtagent_call_idle_check(call);
    }
}


static void
ngx_http_rtagent_call_reply_free(ngx_http_rtagent_call_t *call)
{
    if (call->reply != NULL) {
        ngx_free(call->reply);
        call->reply = NULL;
    }

    if (call->pieces != NULL) {
        ngx_free(call->pieces);
        call->pieces = NULL;
    }

    call->reply_len = 0;
    call->reply_cap = 0;
    call->reply_sent = 0;
    call->npieces = 0;
    call->pieces_cap = 0;
    call->reply_audio = 0;
    call->reply_said = 0;
}


/* drops the reply: the responder, the piece in TTS, the text not said */

static void
ngx_http_rtagent_call_reply_cancel(ngx_http_rtagent_call_t *call)
{
    /* a reply generated and still being said is cancelled too when a
     * barge-in cuts it: the responder keeps what was heard of it */
    if (call->turn_on
        || (call->reply != NULL
            && call->turn.heard != NGX_HTTP_RTAGENT_TURN_HEARD_ALL))
    {
        call->turn.responder->cancel(&call->turn);
        call->turn_on = 0;
    }

    if (call->tts_busy) {
        call->tts.provider->cancel(&call->tts);
        call->tts_busy = 0;
    }

    /* no more of it comes: what is queued plays out, to its last frame */
    ngx_http_rtagent_playout_end(&call->playout);

    if (call->reply != NULL) {
        if (call->turn.heard != NGX_HTTP_RTAGENT_TURN_HEARD_ALL) {
            /* cut by the caller: what they heard of it, if anything */
            ngx_http_rtagent_call_reply_store(call,
                                              ngx_min(call->turn.heard,
                                                      call->reply_len),
                                              1);

        } else if (call->reply_done) {
            /* generated, if not all heard */
            ngx_http_rtagent_call_reply_store(call, call->reply_len, 0);
        }
    }

    ngx_http_rtagent_call_reply_free(call);
    call->reply_done = 0;
    call->reply_failed = 0;

    /* what was to follow the reply goes with it */
    call->after = NGX_HTTP_RTAGENT_TURN_AFTER_LISTEN;
}


static void
ngx_http_rtagent_call_tts_audio(ngx_http_rtagent_tts_t *tts,
    const int16_t *pcm, size_t samples, ngx_uint_t rate)
{
    long                      n;
    size_t                    max;
    int16_t                  *out;
    ngx_http_rtagent_call_t  *call = tts->data;

    /* the playout's interval starts with the audio that makes the first
     * frame (a piece shorter than a frame waits for the TTS's next) */
    if (call->timings.stage[NGX_HTTP_RTAGENT_STAGE_FIRST_FRAME] == 0) {
        call->timings.stage[NGX_HTTP_RTAGENT_STAGE_TTS_AUDIO] =
                                              ngx_http_rtagent_monotonic_us();
    }

    if (!call->tts_rs_on || call->tts_rs.in_rate != rate) {
        if (call->tts_rs_on) {
            ngx_http_rtagent_resample_free(&call->tts_rs);
            call->tts_rs_on = 0;
        }

        if (ngx_http_rtagent_resample_init(&call->tts_rs, (unsigned) rate,
                                           (unsigned) call->rate, 5)
            != 0)
        {
            ngx_log_error(NGX_LOG_ERR, call->channel->log, 0,
                          "rtagent call: cannot resample tts audio from "
                          "%ui Hz, call:%V", rate, &call->channel->call_id);
            return;
        }

        call->tts_rs_on = 1;
    }

    max = ngx_http_rtagent_resample_out_max(&call->tts_rs, samples);

    out = ngx_alloc(max * sizeof(int16_t), call->channel->log);
    if (out == NULL) {
        return;
    }

    if (call->timings.tts_first_byte < 0) {
        call->timings.tts_first_byte = ngx_current_msec - call->t0;
    }

    n = ngx_http_rtagent_resample_run(&call->tts_rs, pcm, samples, out, max);

    /* the reply streams in: its stretch stays open until it is all said
     * (reply_pump ends it), so pieces that are not whole frames are not
     * padded with silence, nor sent unpaced */
    call->playout.hold = 1;

    if (n > 0
        && ngx_http_rtagent_playout_append(&call->playout, (u_char *) out,
                                           n * sizeof(int16_t))
           != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, call->channel->log, 0,
                      "rtagent call: agent audio not queued, call:%V",
                      &call->channel->call_id);

    } else if (n > 0 && call->npieces) {
        /* the audio of the piece in TTS */
        call->reply_audio += n * sizeof(int16_t);
        call->pieces[call->npieces - 1].audio_end = call->reply_audio;
    }

    if (call->timings.first_audio < 0 && call->playout.frames > 0
        && ngx_http_rtagent_playout_sending(&call->playout))
    {
        call->timings.first_audio = ngx_current_msec - call->t0;
        call->timings.stage[NGX_HTTP_RTAGENT_STAGE_FIRST_FRAME] =
                                              ngx_http_rtagent_monotonic_us();
    }

    ngx_free(out);
}


static void
ngx_http_rtagent_call_tts_done(ngx_http_rtagent_tts_t *tts,
    ngx_http_rtagent_speech_err_e err, const char *detail)
{
    ngx_http_rtagent_call_t  *call = tts->data;

    call->tts_busy = 0;

    if (err != NGX_HTTP_RTAGENT_SPEECH_OK) {
        ngx_log_error(NGX_LOG_ERR, call->channel->log, 0,
                      "rtagent call: tts \"%V\" failed: %s, call:%V",
                      &tts->provider->name,
                      ngx_http_rtagent_speech_err_name(err),
                      &call->channel->call_id);
        ngx_http_rtagent_store_error(call->store, "tts failed", NULL, NULL);

        /* the rest of the reply would fail the same way */
        ngx_http_rtagent_call_reply_cancel(call);
        ngx_http_rtagent_call_apologise(call, "tts");
        return;
    }

    ngx_http_rtagent_call_reply_pump(call);
}


/* a new turn: no stage reached yet */

static void
ngx_http_rtagent_call_timings_reset(ngx_http_rtagent_call_t *call)
{
    ngx_http_rtagent_store_timings_t  *t = &call->timings;

    t->turn = call->turn.number + 1;
    t->speech = -1;
    t->stt_final = -1;
    t->first_text = -1;
    t->tts_first_byte = -1;
    t->first_audio = -1;
    t->barge_in_stop = -1;
    t->barge_in_stop_us = -1;
    t->barge_in_cancel_us = -1;
    t->remote_responder = 0;
    ngx_memzero(t->stage, sizeof(t->stage));
    t->stage[NGX_HTTP_RTAGENT_STAGE_END] = ngx_http_rtagent_monotonic_us();

    call->t0 = ngx_current_msec;
}


/*
 * The reply into the transcript: len bytes of it, all, or what the caller
 * heard of it before a barge-in cut it (interrupted); a cut one is stored
 * even when not a word of it was heard (empty: the turn's timings are
 * still written), but not shown
 */

static void
ngx_http_rtagent_call_reply_store(ngx_http_rtagent_call_t *call, size_t len,
    ngx_uint_t interrupted)
{
    ngx_str_t  text;

    if (len == 0 && !interrupted) {
        return;
    }

    text.data = call->reply;
    text.len = len;

    ngx_http_rtagent_store_agent_text_timed(call->store, &text,
                                   (char *) call->turn.responder->name.data,
                                   ngx_http_rtagent_call_speaker(call),
                                   interrupted, &call->timings);

    if (len) {
        ngx_http_rtagent_call_said(call, 1, &text);
    }
}


/*
 * The agent that spoke the reply: the responder's active agent (a handoff
 * changes it), else none (the entry agent is named)
 */

static ngx_str_t *
ngx_http_rtagent_call_speaker(ngx_http_rtagent_call_t *call)
{
    const ngx_http_rtagent_responder_t  *r = call->turn.responder;

    if (r == NULL || r->agent == NULL
        || r->agent(&call->turn, &call->speaker) != NGX_OK)
    {
        ngx_str_null(&call->speaker);
        return NULL;
    }

    return &call->speaker;
}


/* the channel shows the conversation (the browser's transcript) */

static void
ngx_http_rtagent_call_said(ngx_http_rtagent_call_t *call, ngx_uint_t agent,
    ngx_str_t *text)
{
    ngx_http_rtagent_channel_said_t  said;

    if (call->channel->said == NULL) {
        return;
    }

    said.turn = call->timings.turn;
    said.agent = agent;
    said.text = *text;
    said.name = call->turn.responder ? call->turn.responder->name
                                     : ngx_http_rtagent_call_agent;

    if (agent && call->speaker.len) {
        said.name = call->speaker;     /* set by reply_store just before */
    }
    said.latency = agent ? call->timings.first_audio : -1;

    call->channel->said(call->channel, &said);
}


/*
 * Failures are spoken.  The apology is synthesised by the local TTS once
 * per worker, location and call sample rate, when the first call needs
 * it (at its start), kept for the worker's life in its cycle's pool, and
 * played by every call of that rate that meets a provider error; calls
 * that fail before it is ready wait for it in its queue.
 */

struct ngx_http_rtagent_call_apology_s {
    ngx_http_rtagent_call_apology_t  *next;
    ngx_uint_t                        rate;       /* the calls' */
    ngx_http_rtagent_tts_t            tts;
    ngx_http_rtagent_resample_t       rs;
    u_char                           *pcm;        /* at rate */
    size_t                            len;
    size_t                            cap;
    ngx_queue_t                       owed;       /* calls waiting */
    unsigned                          rs_on:1;
    unsigned                          busy:1;     /* being synthesised */
    unsigned                          ready:1;
};


static ngx_str_t  ngx_http_rtagent_call_apology_id = ngx_string("-");


static ngx_http_rtagent_call_apology_t *
ngx_http_rtagent_call_apology_get(ngx_http_rtagent_call_t *call)
{
    ngx_pool_cleanup_t               *cln;
    ngx_http_rtagent_call_apology_t  *ap;

    for (ap = call->conf->apologies; ap; ap = ap->next) {
        if (ap->rate == call->rate) {
            break;
        }
    }

    if (ap == NULL) {
        ap = ngx_pcalloc(ngx_cycle->pool,
                         sizeof(ngx_http_rtagent_call_apology_t));
        cln = ngx_pool_cleanup_add(ngx_cycle->pool, 0);

        if (ap == NULL || cln == NULL) {
            return NULL;
        }

        cln->handler = ngx_http_rtagent_call_apology_cleanup;
        cln->data = ap;

        ap->rate = call->rate;
        ngx_queue_init(&ap->owed);

        ap->tts.pool = ngx_cycle->pool;
        ap->tts.log = ngx_cycle->log;
        ap->tts.call_id = &ngx_http_rtagent_call_apology_id;
        ap->tts.loc_conf = call->conf->tts.loc_conf;
        ap->tts.on_audio = ngx_http_rtagent_call_apology_audio;
        ap->tts.on_done = ngx_http_rtagent_call_apology_done;
        ap->tts.data = ap;
        ap->tts.provider = &ngx_http_rtagent_tts_local;

        if (ngx_http_rtagent_tts_local.open(&ap->tts) != NGX_OK) {
            return NULL;
        }

        ap->next = call->conf->apologies;
        call->conf->apologies = ap;
    }

    /* the first call, or again after a failed synthesis */
    if (!ap->ready && !ap->busy) {
        ngx_http_rtagent_call_apology_start(ap);
    }

    return ap;
}


static void
ngx_http_rtagent_call_apology_start(ngx_http_rtagent_call_apology_t *ap)
{
    ap->len = 0;

    if (ap->rs_on) {
        ngx_http_rtagent_resample_free(&ap->rs);
        ap->rs_on = 0;
    }

    if (ngx_http_rtagent_tts_local.synth(&ap->tts,
                                         &ngx_http_rtagent_call_apology_text)
        == NGX_OK)
    {
        ap->busy = 1;
    }
}


static void
ngx_http_rtagent_call_apology_cleanup(void *data)
{
    ngx_http_rtagent_call_apology_t  *ap = data;

    ngx_http_rtagent_tts_local.close(&ap->tts);

    if (ap->rs_on) {
        ngx_http_rtagent_resample_free(&ap->rs);
        ap->rs_on = 0;
    }

    if (ap->pcm != NULL) {
        ngx_free(ap->pcm);
        ap->pcm = NULL;
    }
}


static void
ngx_http_rtagent_call_apology_audio(ngx_http_rtagent_tts_t *tts,
    const int16_t *pcm, size_t samples, ngx_uint_t rate)
{
    long                              n;
    size_t                            max, cap;
    u_char                           *p;
    ngx_http_rtagent_call_apology_t  *ap = tts->data;

    if (!ap->rs_on) {
        if (ngx_http_rtagent_resample_init(&ap->rs, (unsigned) rate,
                                           (unsigned) ap->rate, 5)
            != 0)
        {
            return;
        }

        ap->rs_on = 1;
    }

    max = ngx_http_rtagent_resample_out_max(&ap->rs, samples)
          * sizeof(int16_t);

    if (ap->len + max > ap->cap) {
        cap = ngx_max(ap->cap * 2, ap->len + max);

        p = ngx_alloc(cap, ngx_cycle->log);
        if (p == NULL) {
            return;
        }

        if (ap->pcm != NULL) {
            ngx_memcpy(p, ap->pcm, ap->len);
            ngx_free(ap->pcm);
        }

        ap->pcm = p;
        ap->cap = cap;
    }

    n = ngx_http_rtagent_resample_run(&ap->rs, pcm, samples,
                                      (int16_t *) (ap->pcm + ap->len),
                                      max / sizeof(int16_t));
    if (n > 0) {
        ap->len += n * sizeof(int16_t);
    }
}


static void
ngx_http_rtagent_call_apology_done(ngx_http_rtagent_tts_t *tts,
    ngx_http_rtagent_speech_err_e err, const char *detail)
{
    ngx_queue_t                      *q;
    ngx_http_rtagent_call_t          *call;
    ngx_http_rtagent_call_apology_t  *ap = tts->data;

    ap->busy = 0;

    if (err != NGX_HTTP_RTAGENT_SPEECH_OK || ap->len == 0) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "rtagent call: the apology could not be synthesised "
                      "for %ui Hz calls", ap->rate);

    } else {
        ap->ready = 1;

        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "rtagent call: the apology is synthesised for %ui Hz "
                      "calls (%uz ms), once for this worker", ap->rate,
                      ap->len / 2 * 1000 / ap->rate);
    }

    /* the calls that failed meanwhile get it now, or a warning */
    while (!ngx_queue_empty(&ap->owed)) {
        q = ngx_queue_head(&ap->owed);
        ngx_queue_remove(q);

        call = ngx_queue_data(q, ngx_http_rtagent_call_t, apology_q);
        call->apology_owed = 0;

        ngx_http_rtagent_call_apologise(call, call->apology_what);
    }
}


static void
ngx_http_rtagent_call_apologise(ngx_http_rtagent_call_t *call,
    const char *what)
{
    ngx_http_rtagent_call_apology_t  *ap = call->apology;

    if (ap != NULL && !ap->ready && ap->busy) {
        /* failed before the apology was ready: it follows when it is */
        if (!call->apology_owed) {
            call->apology_owed = 1;
            ngx_queue_insert_tail(&ap->owed, &call->apology_q);
        }

        call->apology_what = what;
        return;
    }

    if (ap == NULL || !ap->ready) {
        ngx_log_error(NGX_LOG_WARN, call->channel->log, 0,
                      "rtagent call: %s failed and no apology is ready, "
                      "call:%V", what, &call->channel->call_id);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                  "rtagent call: %s failed, apology played, call:%V",
                  what, &call->channel->call_id);

    if (ngx_http_rtagent_playout_append(&call->playout, ap->pcm, ap->len)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, call->channel->log, 0,
                      "rtagent call: apology not queued, call:%V",
                      &call->channel->call_id);
    }
}
