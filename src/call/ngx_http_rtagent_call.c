
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
#include <audio/ngx_http_rtagent_audio.h>
#include <audio/ngx_http_rtagent_ring.h>
#include <audio/ngx_http_rtagent_vad.h>
#include <store/ngx_http_rtagent_store.h>


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
    size_t                         utterance_size;
    u_char                        *frame;      /* frame_bytes of scratch */
    ngx_http_rtagent_playout_t     playout;
    ngx_http_rtagent_store_call_t *store;      /* NULL without Redis */

    ngx_uint_t                     utterances;
    const char                    *hangup;     /* a control hang-up's */
    ngx_str_t                      hangup_reason;
    unsigned                       started:1;
    unsigned                       stored:1;   /* store start was tried */
    unsigned                       hung_up:1;  /* by a control message */
};


/* the agent's name in Redis, until the orchestrator picks agents */
static ngx_str_t  ngx_http_rtagent_call_agent = ngx_string("echo");

/* by ngx_http_rtagent_outcome_e */
static const char  *ngx_http_rtagent_call_outcomes[] = {
    "caller_hung_up", "agent_hung_up", "transferred", "answer_failed",
    "create_failed", "error", "closed_by_control", NULL
};


static ngx_int_t ngx_http_rtagent_call_onset(ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_utterance_end(
    ngx_http_rtagent_call_t *call);
static ngx_http_rtagent_store_call_t *ngx_http_rtagent_call_store(
    ngx_http_rtagent_call_t *call);
static void ngx_http_rtagent_call_control(void *data,
    ngx_http_rtagent_ctl_t *ctl);
static void ngx_http_rtagent_call_stop_audio(ngx_http_rtagent_call_t *call);


const char *
ngx_http_rtagent_outcome_name(ngx_http_rtagent_outcome_e o)
{
    return ngx_http_rtagent_call_outcomes[o];
}


ngx_int_t
ngx_http_rtagent_call_id_valid(u_char *p, size_t len)
{
    u_char  *last;

    if (len == 0 || len > NGX_HTTP_RTAGENT_CALL_ID_MAX) {
        return 0;
    }

    for (last = p + len; p < last; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z')
              || (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '_'
              || *p == '.' || *p == ':'))
        {
            return 0;
        }
    }

    return 1;
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

    if (conf->max_utterance < 1000 || conf->max_utterance > 60000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_max_utterance must be 1s to 60s");
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

    call->started = 1;

    ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                  "rtagent call: started, %ui Hz, %M ms frames, call:%V",
                  rate, call->frame_ms, &call->channel->call_id);

    (void) ngx_http_rtagent_call_store(call);

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
        return ngx_http_rtagent_call_onset(call);

    case NGX_HTTP_RTAGENT_VAD_SPEECH:
        (void) ngx_http_rtagent_ring_write(&call->utterance, pcm, len);
        return NGX_OK;

    default: /* NGX_HTTP_RTAGENT_VAD_END */
        (void) ngx_http_rtagent_ring_write(&call->utterance, pcm, len);
        ngx_http_rtagent_call_utterance_end(call);
        return NGX_OK;
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


/* a final transcription of the caller's words (ACS or our own STT) */

void
ngx_http_rtagent_call_transcription(ngx_http_rtagent_call_t *call,
    ngx_str_t *text, double confidence, ngx_str_t *participant)
{
    ngx_http_rtagent_store_call_t  *sc;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, call->channel->log, 0,
                   "rtagent call: caller said \"%V\", call:%V",
                   text, &call->channel->call_id);

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

    if (call->utterance.buf != NULL) {
        ngx_http_rtagent_audio_free(call->utterance.buf,
                                    call->utterance.size, call->channel->log);
        ngx_memzero(&call->utterance, sizeof(ngx_http_rtagent_ring_t));
    }

    if (call->hung_up) {
        how = call->hangup ? call->hangup
                           : ngx_http_rtagent_outcome_name(
                                 NGX_HTTP_RTAGENT_OUTCOME_CLOSED_BY_CONTROL);
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


static ngx_int_t
ngx_http_rtagent_call_onset(ngx_http_rtagent_call_t *call)
{
    size_t   n;
    u_char  *buf;

    if (ngx_http_rtagent_playout_active(&call->playout)
        && call->conf->barge_in)
    {
        ngx_log_error(NGX_LOG_INFO, call->channel->log, 0,
                      "rtagent call: barge-in, stopping playback, call:%V",
                      &call->channel->call_id);

        ngx_http_rtagent_call_stop_audio(call);
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
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, call->channel->log, 0,
                   "rtagent call: speech onset, call:%V",
                   &call->channel->call_id);

    return NGX_OK;
}


static void
ngx_http_rtagent_call_utterance_end(ngx_http_rtagent_call_t *call)
{
    size_t      trim;
    ngx_uint_t  trailing;

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

    ngx_http_rtagent_store_agent_audio(call->store, call->utterances,
                                       ngx_http_rtagent_ring_len(
                                           &call->utterance)
                                       / call->frame_bytes * call->frame_ms);

    /* the echo engine: the answer is the utterance itself */
    ngx_http_rtagent_playout_play(&call->playout, &call->utterance);
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
    if (!call->stored) {
        call->stored = 1;
        call->store = ngx_http_rtagent_store_call_start(
                          &call->channel->call_id,
                          call->channel->agent.len
                              ? &call->channel->agent
                              : &ngx_http_rtagent_call_agent, call->rate,
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
