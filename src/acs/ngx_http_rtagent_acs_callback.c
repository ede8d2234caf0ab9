
/*
 * What each Call Automation callback event (PROTOCOLS.md 1.7) does to the
 * call's live state: hash fields, events on the stream, and for the events
 * that end a call (CallDisconnected, AnswerFailed, CreateCallFailed,
 * ConnectFailed) a hang-up of the media session wherever it lives, then
 * CALL_ENDED once.  Any worker of any instance may apply them.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#include <acs/ngx_http_rtagent_acs.h>
#include <call/ngx_http_rtagent_call.h>
#include <store/ngx_http_rtagent_store.h>


#define NGX_HTTP_RTAGENT_ACS_CB_FIELDS  24
#define NGX_HTTP_RTAGENT_ACS_CB_EVENTS  8


typedef struct {
    const char                      *type;
    ngx_str_t                        data;
    const char                      *once;
} ngx_http_rtagent_acs_cb_event_t;


struct ngx_http_rtagent_acs_cb_s {
    ngx_pool_t                      *pool;
    ngx_str_t                        call_id;
    ngx_str_t                        name;
    ngx_http_rtagent_store_field_t   fields[NGX_HTTP_RTAGENT_ACS_CB_FIELDS];
    ngx_uint_t                       nfields;
    ngx_http_rtagent_acs_cb_event_t  events[NGX_HTTP_RTAGENT_ACS_CB_EVENTS];
    ngx_uint_t                       nevents;
    const char                      *outcome;   /* the call ends */
    ngx_str_t                        reason;
    unsigned                         disconnected:1;
};


/* the end of a call: from the hash's attribution to CALL_ENDED */
typedef struct {
    ngx_str_t                        call_id;
    ngx_str_t                        reason;
    const char                      *outcome;
    unsigned                         disconnected:1;
    u_char                           buf[1];
} ngx_http_rtagent_acs_end_t;


typedef ngx_int_t (*ngx_http_rtagent_acs_cb_pt)(ngx_http_rtagent_acs_cb_t *cb,
    yajl_val data);

typedef struct {
    const char                      *name;
    ngx_http_rtagent_acs_cb_pt       handler;
    const char                      *field;     /* set to value, or NULL */
    const char                      *value;
    const char                      *error;     /* ERROR_OCCURRED, or NULL */
} ngx_http_rtagent_acs_cb_type_t;


static ngx_int_t ngx_http_rtagent_acs_cb_connected(
    ngx_http_rtagent_acs_cb_t *cb, yajl_val data);
static ngx_int_t ngx_http_rtagent_acs_cb_disconnected(
    ngx_http_rtagent_acs_cb_t *cb, yajl_val data);
static ngx_int_t ngx_http_rtagent_acs_cb_failed_call(
    ngx_http_rtagent_acs_cb_t *cb, yajl_val data);
static ngx_int_t ngx_http_rtagent_acs_cb_participants(
    ngx_http_rtagent_acs_cb_t *cb, yajl_val data);
static ngx_int_t ngx_http_rtagent_acs_cb_media(
    ngx_http_rtagent_acs_cb_t *cb, yajl_val data);
static ngx_int_t ngx_http_rtagent_acs_cb_recognize(
    ngx_http_rtagent_acs_cb_t *cb, yajl_val data);
static ngx_int_t ngx_http_rtagent_acs_cb_tone(
    ngx_http_rtagent_acs_cb_t *cb, yajl_val data);
static ngx_int_t ngx_http_rtagent_acs_cb_transfer(
    ngx_http_rtagent_acs_cb_t *cb, yajl_val data);
static ngx_int_t ngx_http_rtagent_acs_cb_participant_op(
    ngx_http_rtagent_acs_cb_t *cb, yajl_val data);
static ngx_int_t ngx_http_rtagent_acs_cb_recording(
    ngx_http_rtagent_acs_cb_t *cb, yajl_val data);
static ngx_int_t ngx_http_rtagent_acs_cb_transcription(
    ngx_http_rtagent_acs_cb_t *cb, yajl_val data);

static ngx_int_t ngx_http_rtagent_acs_cb_field(ngx_http_rtagent_acs_cb_t *cb,
    const char *name, const char *value, size_t len);
static ngx_int_t ngx_http_rtagent_acs_cb_event(ngx_http_rtagent_acs_cb_t *cb,
    const char *type, ngx_str_t *data, const char *once, ngx_str_t *suffix);
static ngx_int_t ngx_http_rtagent_acs_cb_error(ngx_http_rtagent_acs_cb_t *cb,
    const char *error, yajl_val data, const char *key, const char *value);
static ngx_int_t ngx_http_rtagent_acs_cb_ident(ngx_http_rtagent_acs_cb_t *cb,
    const char *name, yajl_val data, const char *key);
static ngx_int_t ngx_http_rtagent_acs_cb_str(ngx_http_rtagent_acs_cb_t *cb,
    const char *name, yajl_val data, ...);
static void ngx_http_rtagent_acs_end_attributed(void *data, ngx_int_t n,
    ngx_str_t *values);
static void ngx_http_rtagent_acs_end_published(void *data, ngx_int_t rc);
static void ngx_http_rtagent_acs_end_done(void *data, ngx_int_t rc);
static const char *ngx_http_rtagent_acs_cb_scalar(yajl_val v);
static ngx_str_t *ngx_http_rtagent_acs_cb_num(ngx_str_t *s, yajl_val v);
static ngx_str_t *ngx_http_rtagent_acs_cb_s(ngx_str_t *s, const char *v);


static ngx_http_rtagent_acs_cb_type_t  ngx_http_rtagent_acs_cb_types[] = {

    { "CallConnected", ngx_http_rtagent_acs_cb_connected, NULL, NULL, NULL },
    { "CallDisconnected", ngx_http_rtagent_acs_cb_disconnected,
      NULL, NULL, NULL },
    { "AnswerFailed", ngx_http_rtagent_acs_cb_failed_call,
      NULL, NULL, "answer failed" },
    { "CreateCallFailed", ngx_http_rtagent_acs_cb_failed_call,
      NULL, NULL, "create call failed" },
    { "ConnectFailed", ngx_http_rtagent_acs_cb_failed_call,
      NULL, NULL, "connect failed" },

    { "ParticipantsUpdated", ngx_http_rtagent_acs_cb_participants,
      NULL, NULL, NULL },
    { "AddParticipantSucceeded", ngx_http_rtagent_acs_cb_participant_op,
      NULL, NULL, NULL },
    { "AddParticipantFailed", ngx_http_rtagent_acs_cb_participant_op,
      NULL, NULL, "add participant failed" },
    { "RemoveParticipantSucceeded", ngx_http_rtagent_acs_cb_participant_op,
      NULL, NULL, NULL },
    { "RemoveParticipantFailed", ngx_http_rtagent_acs_cb_participant_op,
      NULL, NULL, "remove participant failed" },
    { "CancelAddParticipantSucceeded", ngx_http_rtagent_acs_cb_participant_op,
      NULL, NULL, NULL },
    { "CancelAddParticipantFailed", ngx_http_rtagent_acs_cb_participant_op,
      NULL, NULL, "cancel add participant failed" },

    { "MediaStreamingStarted", ngx_http_rtagent_acs_cb_media,
      NULL, NULL, NULL },
    { "MediaStreamingStopped", ngx_http_rtagent_acs_cb_media,
      NULL, NULL, NULL },
    { "MediaStreamingFailed", ngx_http_rtagent_acs_cb_media,
      NULL, NULL, "media streaming failed" },

    { "PlayStarted", NULL, "play_state", "started", NULL },
    { "PlayCompleted", NULL, "play_state", "completed", NULL },
    { "PlayFailed", NULL, "play_state", "failed", "play failed" },
    { "PlayCanceled", NULL, "play_state", "canceled", NULL },

    { "RecognizeCompleted", ngx_http_rtagent_acs_cb_recognize,
      "recognize_state", "completed", NULL },
    { "RecognizeFailed", NULL, "recognize_state", "failed",
      "recognize failed" },
    { "RecognizeCanceled", NULL, "recognize_state", "canceled", NULL },

    { "ContinuousDtmfRecognitionToneReceived", ngx_http_rtagent_acs_cb_tone,
      "dtmf_recognition", "active", NULL },
    { "ContinuousDtmfRecognitionToneFailed", NULL,
      "dtmf_recognition", "failed", "dtmf recognition failed" },
    { "ContinuousDtmfRecognitionStopped", NULL,
      "dtmf_recognition", "stopped", NULL },
    { "SendDtmfTonesCompleted", NULL, "dtmf_send", "completed", NULL },
    { "SendDtmfTonesFailed", NULL, "dtmf_send", "failed",
      "send dtmf tones failed" },

    { "CallTransferAccepted", ngx_http_rtagent_acs_cb_transfer,
      "transfer", "accepted", NULL },
    { "CallTransferFailed", NULL, "transfer", "failed", "transfer failed" },

    { "RecordingStateChanged", ngx_http_rtagent_acs_cb_recording,
      NULL, NULL, NULL },
    { "StartRecordingFailed", NULL, "recording_state", "failed",
      "start recording failed" },

    { "HoldFailed", NULL, "hold", "failed", "hold failed" },

    { "TranscriptionStarted", ngx_http_rtagent_acs_cb_transcription,
      NULL, NULL, NULL },
    { "TranscriptionStopped", ngx_http_rtagent_acs_cb_transcription,
      NULL, NULL, NULL },
    { "TranscriptionUpdated", ngx_http_rtagent_acs_cb_transcription,
      NULL, NULL, NULL },
    { "TranscriptionFailed", ngx_http_rtagent_acs_cb_transcription,
      NULL, NULL, "transcription failed" },

    { NULL, NULL, NULL, NULL, NULL }
};


ngx_http_rtagent_acs_cb_t *
ngx_http_rtagent_acs_cb_plan(ngx_pool_t *pool,
    ngx_http_rtagent_acs_event_t *ev, ngx_log_t *log)
{
    u_char                          *p;
    const char                      *id;
    ngx_str_t                        ts;
    ngx_http_rtagent_acs_cb_t       *cb;
    ngx_http_rtagent_acs_cb_type_t  *t;
    u_char                           num[NGX_INT64_LEN];

    for (t = ngx_http_rtagent_acs_cb_types; t->name; t++) {
        if (ngx_strcmp(t->name, ev->name) == 0) {
            break;
        }
    }

    if (t->name == NULL) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                       "rtagent acs: callback event \"%s\" (%s) ignored: "
                       "unknown type", ev->type, ev->id);
        return NULL;
    }

    /* the call is data.callConnectionId, else the CloudEvents subject */
    id = ev->call_connection_id;

    if (id == NULL && ev->subject
        && ngx_strncmp(ev->subject, "calling/callConnections/", 24) == 0)
    {
        id = ev->subject + 24;
    }

    if (id == NULL || !ngx_http_rtagent_call_id_valid((u_char *) id,
                                                      ngx_strlen(id)))
    {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "rtagent acs: callback event \"%s\" (%s) without a "
                      "valid callConnectionId ignored", ev->name, ev->id);
        return NULL;
    }

    cb = ngx_pcalloc(pool, sizeof(ngx_http_rtagent_acs_cb_t));
    if (cb == NULL) {
        return NULL;
    }

    cb->pool = pool;

    cb->call_id.len = ngx_strlen(id);
    cb->call_id.data = ngx_pnalloc(pool, cb->call_id.len);
    if (cb->call_id.data == NULL) {
        return NULL;
    }

    ngx_memcpy(cb->call_id.data, id, cb->call_id.len);

    cb->name.len = ngx_strlen(t->name);
    cb->name.data = (u_char *) t->name;

    p = ngx_sprintf(num, "%L", ngx_http_rtagent_now_ms());
    ts.data = num;
    ts.len = p - num;

    if (ngx_http_rtagent_acs_cb_field(cb, "last_event", t->name,
                                      ngx_strlen(t->name)) != NGX_OK
        || ngx_http_rtagent_acs_cb_field(cb, "last_event_at",
                                         (char *) ts.data, ts.len) != NGX_OK
        || ngx_http_rtagent_acs_cb_str(cb, "last_result", ev->data,
                                       "resultInformation", "message", NULL)
           != NGX_OK)
    {
        return NULL;
    }

    if (t->field
        && ngx_http_rtagent_acs_cb_field(cb, t->field, t->value,
                                         ngx_strlen(t->value)) != NGX_OK)
    {
        return NULL;
    }

    if (t->handler && t->handler(cb, ev->data) != NGX_OK) {
        return NULL;
    }

    if (t->error
        && ngx_http_rtagent_acs_cb_error(cb, t->error, ev->data, NULL, NULL)
           != NGX_OK)
    {
        return NULL;
    }

    return cb;
}


void
ngx_http_rtagent_acs_cb_apply(ngx_http_rtagent_acs_cb_t *cb, ngx_log_t *log)
{
    u_char                      *p;
    ngx_uint_t                   i;
    ngx_http_rtagent_acs_end_t  *end;
    const char                  *names[2];

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "rtagent acs: callback %V, call:%V", &cb->name,
                  &cb->call_id);

    (void) ngx_http_rtagent_store_call_set(&cb->call_id, cb->fields,
                                           cb->nfields, log);

    for (i = 0; i < cb->nevents; i++) {
        (void) ngx_http_rtagent_store_call_event(&cb->call_id,
                                                 cb->events[i].type,
                                                 &cb->events[i].data,
                                                 cb->events[i].once, log);
    }

    if (cb->outcome == NULL) {
        return;
    }

    /* the end outlives the delivery's pool */
    end = ngx_alloc(sizeof(ngx_http_rtagent_acs_end_t) + cb->call_id.len
                    + cb->reason.len, log);
    if (end == NULL) {
        return;
    }

    p = end->buf;
    end->call_id.data = p;
    end->call_id.len = cb->call_id.len;
    p = ngx_cpymem(p, cb->call_id.data, cb->call_id.len);
    end->reason.data = p;
    end->reason.len = cb->reason.len;
    ngx_memcpy(p, cb->reason.data, cb->reason.len);
    end->outcome = cb->outcome;
    end->disconnected = cb->disconnected;

    if (!cb->disconnected) {
        ngx_http_rtagent_acs_end_attributed(end, 0, NULL);
        return;
    }

    /* who ended it: an operator's or agent's hang-up, a transfer, else the
     * caller */
    names[0] = "hangup_by";
    names[1] = "transfer";

    if (ngx_http_rtagent_store_call_get(&end->call_id, names, 2, log,
                                        ngx_http_rtagent_acs_end_attributed,
                                        end)
        != NGX_OK)
    {
        ngx_http_rtagent_acs_end_attributed(end, -1, NULL);
    }
}


static void
ngx_http_rtagent_acs_end_attributed(void *data, ngx_int_t n,
    ngx_str_t *values)
{
    ngx_http_rtagent_acs_end_t *end = data;

    ngx_str_t   json, outcome, action;
    ngx_pool_t *pool;

    if (n == NGX_HTTP_RTAGENT_STORE_EXITING || ngx_http_rtagent_acs_exiting()) {
        ngx_free(end);
        return;
    }

    if (n == 2 && values[1].len == sizeof("accepted") - 1
        && ngx_strncmp(values[1].data, "accepted", values[1].len) == 0)
    {
        end->outcome = ngx_http_rtagent_outcome_name(
                           NGX_HTTP_RTAGENT_OUTCOME_TRANSFERRED);

    } else if (n == 2 && values[0].len) {
        end->outcome = ngx_http_rtagent_outcome_name(
                           NGX_HTTP_RTAGENT_OUTCOME_AGENT_HUNG_UP);
    }

    /* the media session ends itself (and writes CALL_ENDED) */
    pool = ngx_create_pool(512, ngx_cycle->log);
    if (pool == NULL) {
        ngx_free(end);
        return;
    }

    ngx_str_set(&action, "hangup");
    outcome.data = (u_char *) end->outcome;
    outcome.len = ngx_strlen(end->outcome);

    if (ngx_http_rtagent_json_object(pool, &json, "action", &action,
                                     "outcome", &outcome,
                                     "reason", &end->reason, NULL)
        != NGX_OK
        || ngx_http_rtagent_store_control_count(&end->call_id, &json,
                                       ngx_http_rtagent_acs_end_published, end)
           != NGX_OK)
    {
        ngx_destroy_pool(pool);
        ngx_http_rtagent_acs_end_published(end, -1);
        return;
    }

    ngx_destroy_pool(pool);
}


static void
ngx_http_rtagent_acs_end_published(void *data, ngx_int_t rc)
{
    ngx_http_rtagent_acs_end_t *end = data;

    if (rc == NGX_HTTP_RTAGENT_STORE_EXITING) {
        ngx_free(end);
        return;
    }

    if (rc > 0) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "rtagent acs: call ended (%s), its media session "
                      "hangs up, call:%V", end->outcome, &end->call_id);
        ngx_free(end);
        return;
    }

    /* no live media session anywhere: the call's end is written here */
    if (ngx_http_rtagent_store_call_ended(&end->call_id, end->outcome,
                                          &end->reason, ngx_cycle->log,
                                          ngx_http_rtagent_acs_end_done, end)
        != NGX_OK)
    {
        ngx_free(end);
    }
}


static void
ngx_http_rtagent_acs_end_done(void *data, ngx_int_t rc)
{
    ngx_http_rtagent_acs_end_t *end = data;

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "rtagent acs: call ended (%s)%s, call:%V", end->outcome,
                  rc == 0 ? ", already recorded" : "", &end->call_id);

    ngx_free(end);
}


/* the event types ------------------------------------------------------- */

static ngx_int_t
ngx_http_rtagent_acs_cb_connected(ngx_http_rtagent_acs_cb_t *cb,
    yajl_val data)
{
    return ngx_http_rtagent_acs_cb_field(cb, "acs_state", "connected", 9);
}


static ngx_int_t
ngx_http_rtagent_acs_cb_disconnected(ngx_http_rtagent_acs_cb_t *cb,
    yajl_val data)
{
    const char  *msg;

    msg = ngx_http_rtagent_json_str(data, "resultInformation", "message",
                                        NULL);

    cb->outcome = ngx_http_rtagent_outcome_name(
                      NGX_HTTP_RTAGENT_OUTCOME_CALLER_HUNG_UP);
    cb->disconnected = 1;

    if (msg && msg[0]) {
        cb->reason.len = ngx_min(ngx_strlen(msg), 96);
        cb->reason.data = (u_char *) msg;
        cb->reason.data = ngx_pstrdup(cb->pool, &cb->reason);
        if (cb->reason.data == NULL) {
            return NGX_ERROR;
        }

    } else {
        ngx_str_set(&cb->reason, "CallDisconnected");
    }

    return ngx_http_rtagent_acs_cb_field(cb, "acs_state", "disconnected", 12);
}


static ngx_int_t
ngx_http_rtagent_acs_cb_failed_call(ngx_http_rtagent_acs_cb_t *cb,
    yajl_val data)
{
    ngx_http_rtagent_outcome_e  o;

    o = ngx_strcmp(cb->name.data, "AnswerFailed") == 0
        ? NGX_HTTP_RTAGENT_OUTCOME_ANSWER_FAILED
        : ngx_strcmp(cb->name.data, "CreateCallFailed") == 0
          ? NGX_HTTP_RTAGENT_OUTCOME_CREATE_FAILED
          : NGX_HTTP_RTAGENT_OUTCOME_ERROR;

    cb->outcome = ngx_http_rtagent_outcome_name(o);
    cb->reason = cb->name;

    return ngx_http_rtagent_acs_cb_field(cb, "acs_state", "failed", 6);
}


static ngx_int_t
ngx_http_rtagent_acs_cb_participants(ngx_http_rtagent_acs_cb_t *cb,
    yajl_val data)
{
    size_t                        i;
    yajl_val                      list, ident;
    ngx_str_t                     raw, json, all;
    const char                   *s;
    ngx_http_rtagent_json_out_t   g;
    char                          tmp[256];

    list = ngx_http_rtagent_json_get(data, "participants", NULL);

    if (!YAJL_IS_ARRAY(list)) {
        return NGX_OK;
    }

    if (ngx_http_rtagent_json_out_init_list(&g) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < list->u.array.len; i++) {
        ident = ngx_http_rtagent_json_get(list->u.array.values[i],
                                              "identifier", NULL);
        s = ngx_http_rtagent_acs_ident_raw(ident, tmp, sizeof(tmp));
        if (s == NULL || s[0] == '\0') {
            continue;
        }

        ngx_http_rtagent_json_out_cstr(&g, NULL, s);

        raw.data = (u_char *) s;
        raw.len = ngx_strlen(s);

        if (cb->nevents < NGX_HTTP_RTAGENT_ACS_CB_EVENTS
            && ngx_http_rtagent_json_object(cb->pool, &json, "participant",
                                            &raw, NULL)
               == NGX_OK)
        {
            if (ngx_http_rtagent_acs_cb_event(cb,
                                      NGX_HTTP_RTAGENT_EV_PARTICIPANT_JOINED,
                                      &json, "ev:joined:", &raw)
                != NGX_OK)
            {
                ngx_http_rtagent_json_out_free(&g);
                return NGX_ERROR;
            }
        }
    }

    if (ngx_http_rtagent_json_out_done(&g, cb->pool, &all) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_rtagent_acs_cb_field(cb, "participants", (char *) all.data,
                                      all.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_rtagent_acs_cb_str(cb, "participants_seq", data,
                                       "sequenceNumber", NULL);
}


static ngx_int_t
ngx_http_rtagent_acs_cb_media(ngx_http_rtagent_acs_cb_t *cb, yajl_val data)
{
    if (ngx_http_rtagent_acs_cb_str(cb, "media_state", data,
                                    "mediaStreamingUpdate",
                                    "mediaStreamingStatus", NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_rtagent_acs_cb_str(cb, "media_details", data,
                                       "mediaStreamingUpdate",
                                       "mediaStreamingStatusDetails", NULL);
}


static ngx_int_t
ngx_http_rtagent_acs_cb_recognize(ngx_http_rtagent_acs_cb_t *cb,
    yajl_val data)
{
    size_t       i;
    yajl_val     tones;
    u_char      *p, *last;
    const char  *t;
    u_char       buf[128];

    if (ngx_http_rtagent_acs_cb_str(cb, "recognition_type", data,
                                    "recognitionType", NULL) != NGX_OK
        || ngx_http_rtagent_acs_cb_str(cb, "recognized_speech", data,
                                       "speechResult", "speech", NULL)
           != NGX_OK
        || ngx_http_rtagent_acs_cb_str(cb, "recognized_choice", data,
                                       "choiceResult", "label", NULL)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    tones = ngx_http_rtagent_json_get(data, "dtmfResult", "tones", NULL);

    if (!YAJL_IS_ARRAY(tones)) {
        return NGX_OK;
    }

    p = buf;
    last = buf + sizeof(buf) - 1;

    for (i = 0; i < tones->u.array.len && p < last; i++) {
        t = YAJL_GET_STRING(tones->u.array.values[i]);
        if (t == NULL) {
            continue;
        }

        if (p > buf) {
            *p++ = ',';
        }

        p = ngx_cpystrn(p, (u_char *) t, last - p + 1);
    }

    return ngx_http_rtagent_acs_cb_field(cb, "recognized_tones", (char *) buf,
                                         p - buf);
}


static ngx_int_t
ngx_http_rtagent_acs_cb_tone(ngx_http_rtagent_acs_cb_t *cb, yajl_val data)
{
    if (ngx_http_rtagent_acs_cb_str(cb, "last_tone", data, "tone", NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_rtagent_acs_cb_str(cb, "last_tone_seq", data,
                                       "sequenceId", NULL);
}


static ngx_int_t
ngx_http_rtagent_acs_cb_transfer(ngx_http_rtagent_acs_cb_t *cb,
    yajl_val data)
{
    return ngx_http_rtagent_acs_cb_ident(cb, "transfer_target", data,
                                         "transferTarget");
}


static ngx_int_t
ngx_http_rtagent_acs_cb_participant_op(ngx_http_rtagent_acs_cb_t *cb,
    yajl_val data)
{
    if (ngx_http_rtagent_acs_cb_field(cb, "last_participant_op",
                                      (char *) cb->name.data, cb->name.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_rtagent_acs_cb_ident(cb, "last_participant", data,
                                         "participant");
}


static ngx_int_t
ngx_http_rtagent_acs_cb_recording(ngx_http_rtagent_acs_cb_t *cb,
    yajl_val data)
{
    const char  *id, *state;
    ngx_str_t    json, rid, kind, start;

    id = ngx_http_rtagent_json_str(data, "recordingId", NULL);
    state = ngx_http_rtagent_json_str(data, "state", NULL);

    if (ngx_http_rtagent_acs_cb_str(cb, "recording_id", data, "recordingId",
                                    NULL) != NGX_OK
        || ngx_http_rtagent_acs_cb_str(cb, "recording_state", data, "state",
                                       NULL) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (id == NULL || id[0] == '\0' || state == NULL
        || ngx_strcmp(state, "active") != 0)
    {
        return NGX_OK;
    }

    if (ngx_http_rtagent_json_object(cb->pool, &json,
            "recording_id", ngx_http_rtagent_acs_cb_s(&rid, id),
            "recording_kind", ngx_http_rtagent_acs_cb_s(&kind,
                ngx_http_rtagent_json_str(data, "recordingKind", NULL)),
                                     "start", ngx_http_rtagent_acs_cb_s(&start,
                ngx_http_rtagent_json_str(data, "startDateTime", NULL)),
                                     NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the same guard as the recording request's: one event per recording */
    return ngx_http_rtagent_acs_cb_event(cb,
                                         NGX_HTTP_RTAGENT_EV_RECORDING_STARTED,
                                         &json, "ev:recording:", &rid);
}


static ngx_int_t
ngx_http_rtagent_acs_cb_transcription(ngx_http_rtagent_acs_cb_t *cb,
    yajl_val data)
{
    return ngx_http_rtagent_acs_cb_str(cb, "transcription_state", data,
                                       "transcriptionUpdate",
                                       "transcriptionStatus", NULL);
}


/* helpers ---------------------------------------------------------------- */

static ngx_int_t
ngx_http_rtagent_acs_cb_field(ngx_http_rtagent_acs_cb_t *cb,
    const char *name, const char *value, size_t len)
{
    u_char                          *p;
    ngx_uint_t                       i;
    ngx_http_rtagent_store_field_t  *f;

    /* a later value of a field replaces an earlier one */
    for (i = 0; i < cb->nfields; i++) {
        if (ngx_strcmp(cb->fields[i].name, name) == 0) {
            break;
        }
    }

    if (i == NGX_HTTP_RTAGENT_ACS_CB_FIELDS) {
        return NGX_OK;
    }

    p = ngx_pnalloc(cb->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, value, len);

    f = &cb->fields[i];
    f->name = name;
    f->value.data = p;
    f->value.len = len;

    if (i == cb->nfields) {
        cb->nfields++;
    }

    return NGX_OK;
}


/* the rawId of the identifier data[key] into a field */

static ngx_int_t
ngx_http_rtagent_acs_cb_ident(ngx_http_rtagent_acs_cb_t *cb,
    const char *name, yajl_val data, const char *key)
{
    const char  *s;
    char         tmp[256];

    s = ngx_http_rtagent_acs_ident_raw(
            ngx_http_rtagent_json_get(data, key, NULL), tmp, sizeof(tmp));

    if (s == NULL) {
        return NGX_OK;
    }

    return ngx_http_rtagent_acs_cb_field(cb, name, s, ngx_strlen(s));
}


/* a string or a number of data, at a key path, into a field */

static ngx_int_t
ngx_http_rtagent_acs_cb_str(ngx_http_rtagent_acs_cb_t *cb, const char *name,
    yajl_val data, ...)
{
    va_list       args;
    yajl_val      v;
    const char   *key;
    const char   *s;

    va_start(args, data);

    v = data;

    for ( ;; ) {
        key = va_arg(args, const char *);
        if (key == NULL || v == NULL) {
            break;
        }

        v = ngx_http_rtagent_json_get(v, key, NULL);
    }

    va_end(args);

    s = ngx_http_rtagent_acs_cb_scalar(v);

    if (s == NULL || s[0] == '\0') {
        return NGX_OK;
    }

    return ngx_http_rtagent_acs_cb_field(cb, name, s,
                                         ngx_min(ngx_strlen(s), 1024));
}


static ngx_int_t
ngx_http_rtagent_acs_cb_event(ngx_http_rtagent_acs_cb_t *cb,
    const char *type, ngx_str_t *data, const char *once, ngx_str_t *suffix)
{
    u_char                           *p;
    ngx_http_rtagent_acs_cb_event_t  *e;

    if (cb->nevents == NGX_HTTP_RTAGENT_ACS_CB_EVENTS) {
        return NGX_OK;
    }

    e = &cb->events[cb->nevents];
    e->type = type;
    e->data = *data;
    e->once = NULL;

    if (once) {
        p = ngx_pnalloc(cb->pool, ngx_strlen(once) + suffix->len + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        e->once = (char *) p;
        ngx_sprintf(p, "%s%V%Z", once, suffix);
    }

    cb->nevents++;

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtagent_acs_cb_error(ngx_http_rtagent_acs_cb_t *cb,
    const char *error, yajl_val data, const char *key, const char *value)
{
    ngx_str_t  json, e, ev, code, sub, msg, details;

    if (ngx_http_rtagent_json_object(cb->pool, &json,
            "error", ngx_http_rtagent_acs_cb_s(&e, error),
                                     "event", &cb->name,
                                     "#code", ngx_http_rtagent_acs_cb_num(&code,
                ngx_http_rtagent_json_get(data, "resultInformation",
                                     "code", NULL)),
            "#sub_code", ngx_http_rtagent_acs_cb_num(&sub,
                ngx_http_rtagent_json_get(data, "resultInformation",
                                     "subCode", NULL)),
                                     "message", ngx_http_rtagent_acs_cb_s(&msg,
                ngx_http_rtagent_json_str(data, "resultInformation",
                                     "message", NULL)),
            "details", ngx_http_rtagent_acs_cb_s(&details,
                ngx_http_rtagent_json_str(data, "mediaStreamingUpdate",
                                     "mediaStreamingStatusDetails",
                                     NULL)),
                                     key, ngx_http_rtagent_acs_cb_s(&ev, value),
                                     NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_rtagent_acs_cb_event(cb,
                                         NGX_HTTP_RTAGENT_EV_ERROR_OCCURRED,
                                         &json, NULL, NULL);
}


/* a JSON number only, for "#key" values */

static ngx_str_t *
ngx_http_rtagent_acs_cb_num(ngx_str_t *s, yajl_val v)
{
    ngx_str_null(s);

    if (YAJL_IS_NUMBER(v)) {
        s->data = (u_char *) YAJL_GET_NUMBER(v);
        s->len = ngx_strlen(s->data);
    }

    return s;
}


/* a string, or a number as written */

static const char *
ngx_http_rtagent_acs_cb_scalar(yajl_val v)
{
    if (YAJL_IS_STRING(v)) {
        return YAJL_GET_STRING(v);
    }

    if (YAJL_IS_NUMBER(v)) {
        return YAJL_GET_NUMBER(v);
    }

    return NULL;
}


static ngx_str_t *
ngx_http_rtagent_acs_cb_s(ngx_str_t *s, const char *v)
{
    s->data = (u_char *) v;
    s->len = v ? ngx_strlen(v) : 0;

    return s;
}
