
/*
 * The ACS media channel (see ngx_http_rtagent_acs_media.h).  Every message
 * is checked before the call session sees it; a message that breaks the
 * protocol closes the WebSocket with a code and reason, and is logged once
 * with the call id:
 *
 *   1003  a binary message (ACS sends JSON text)
 *   1007  malformed JSON, no kind, a field of the wrong type, bad base64,
 *         an audio frame of the wrong size
 *   1008  audio before AudioMetadata, an unsupported or changed format
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ngx_http_rtagent_module.h>
#include <acs/ngx_http_rtagent_acs_media.h>
#include <acs/ngx_http_rtagent_acs_msg.h>
#include <acs/ngx_http_rtagent_acs.h>


typedef struct {
    ngx_http_rtagent_ws_t         *ws;
    ngx_http_rtagent_channel_t     channel;
    ngx_http_rtagent_call_t       *call;

    ngx_uint_t                     rate;
    size_t                         frame_bytes;
    u_char                        *out;        /* one AudioData message */
    u_char                        *silence;    /* one frame of zeros */

    const char                    *failed;     /* why we closed it */
    u_char                         reason[NGX_HTTP_RTAGENT_ACS_ERR_SIZE];
} ngx_http_rtagent_acs_media_t;


static ngx_int_t ngx_http_rtagent_acs_call_id(ngx_http_request_t *r,
    ngx_str_t *id);
static void ngx_http_rtagent_acs_media_message(ngx_http_rtagent_ws_t *ws,
    ngx_uint_t opcode, u_char *data, size_t len);
static void ngx_http_rtagent_acs_media_metadata(
    ngx_http_rtagent_acs_media_t *m, ngx_http_rtagent_acs_msg_t *msg);
static void ngx_http_rtagent_acs_media_audio(ngx_http_rtagent_acs_media_t *m,
    ngx_http_rtagent_acs_msg_t *msg);
static void ngx_http_rtagent_acs_media_fail(ngx_http_rtagent_acs_media_t *m,
    ngx_uint_t code, const char *reason);
static void ngx_http_rtagent_acs_media_closed(ngx_http_rtagent_ws_t *ws);
static ngx_int_t ngx_http_rtagent_acs_media_send(
    ngx_http_rtagent_channel_t *ch, const u_char *pcm, size_t len);
static ngx_int_t ngx_http_rtagent_acs_media_stop(
    ngx_http_rtagent_channel_t *ch);
static void ngx_http_rtagent_acs_media_close(ngx_http_rtagent_channel_t *ch,
    ngx_uint_t code, const char *reason);
static ngx_int_t ngx_http_rtagent_acs_media_transfer(
    ngx_http_rtagent_channel_t *ch, ngx_str_t *target);


ngx_int_t
ngx_http_rtagent_acs_media_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_str_t                      call_id;
    ngx_http_rtagent_ws_t         *ws;
    ngx_http_rtagent_loc_conf_t   *lcf;
    ngx_http_rtagent_acs_media_t  *m;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtagent_module);

    /* with rtagent_acs_jwt on, only Call Automation may stream */
    rc = ngx_http_rtagent_acs_check_jwt(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_rtagent_acs_call_id(r, &call_id) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "rtagent acs: invalid x-ms-call-connection-id header");
        return NGX_HTTP_BAD_REQUEST;
    }

    rc = ngx_http_rtagent_ws_accept(r, &lcf->ws, &ws);
    if (ws == NULL) {
        return rc;
    }

    m = ngx_pcalloc(r->pool, sizeof(ngx_http_rtagent_acs_media_t));
    if (m == NULL) {
        return NGX_ERROR;
    }

    m->ws = ws;
    m->channel.data = m;
    m->channel.log = r->connection->log;
    m->channel.call_id = call_id;

    /* the entry agent chosen when the call was answered */
    if (ngx_http_arg(r, (u_char *) "agent", 5, &m->channel.agent) == NGX_OK
        && !ngx_http_rtagent_call_id_valid(m->channel.agent.data,
                                           m->channel.agent.len))
    {
        ngx_str_null(&m->channel.agent);
    }
    m->channel.send_audio = ngx_http_rtagent_acs_media_send;
    m->channel.stop_audio = ngx_http_rtagent_acs_media_stop;
    m->channel.close = ngx_http_rtagent_acs_media_close;
    m->channel.transfer = ngx_http_rtagent_acs_media_transfer;

    m->call = ngx_http_rtagent_call_create(r->pool, &lcf->call, &m->channel);
    if (m->call == NULL) {
        return NGX_ERROR;
    }

    ws->data = m;
    ws->call_id = call_id;
    ws->on_message = ngx_http_rtagent_acs_media_message;
    ws->on_closed = ngx_http_rtagent_acs_media_closed;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "rtagent acs: media stream connected, call:%V", &call_id);

    return ngx_http_rtagent_ws_start(ws);
}


/*
 * ACS names the call in x-ms-call-connection-id; a stream without one (a
 * test client) gets a random id, so that its state is stored all the same
 */

static ngx_int_t
ngx_http_rtagent_acs_call_id(ngx_http_request_t *r, ngx_str_t *id)
{
    size_t            len;
    ngx_uint_t        n;
    ngx_table_elt_t  *h;

    h = ngx_http_rtagent_header_in(r, "x-ms-call-connection-id",
                                   sizeof("x-ms-call-connection-id") - 1, &n);
    if (h == NULL) {
        len = NGX_HTTP_RTAGENT_CALL_ID_NEW_LEN("");

        id->data = ngx_pnalloc(r->pool, len);
        if (id->data == NULL) {
            return NGX_ERROR;
        }

        id->len = ngx_http_rtagent_call_id_new(id->data, len, "");
        if (id->len == 0) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "rtagent acs: RAND_bytes() failed");
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    /* it goes into log lines and Redis keys: a GUID-like token only */
    if (n != 1 || !ngx_http_rtagent_call_id_valid(h->value.data,
                                                  h->value.len))
    {
        return NGX_ERROR;
    }

    *id = h->value;

    return NGX_OK;
}


static void
ngx_http_rtagent_acs_media_message(ngx_http_rtagent_ws_t *ws,
    ngx_uint_t opcode, u_char *data, size_t len)
{
    u_char                        *arena;
    ngx_str_t                      s, p;
    ngx_http_rtagent_acs_rc_e      rc;
    ngx_http_rtagent_acs_msg_t     msg;
    ngx_http_rtagent_acs_media_t  *m;
    char                           err[NGX_HTTP_RTAGENT_ACS_ERR_SIZE];

    m = ws->data;

    if (opcode != NGX_HTTP_RTAGENT_WS_TEXT) {
        ngx_http_rtagent_acs_media_fail(m,
                                        NGX_HTTP_RTAGENT_WS_UNSUPPORTED_DATA,
                                        "binary message: ACS media messages "
                                        "are JSON text");
        return;
    }

    arena = ngx_http_rtagent_scratch(len);
    if (arena == NULL) {
        ngx_http_rtagent_acs_media_fail(m, NGX_HTTP_RTAGENT_WS_INTERNAL_ERROR,
                                        "out of memory");
        return;
    }

    rc = ngx_http_rtagent_acs_msg_parse(data, len, arena, len, &msg, err,
                                        sizeof(err));

    if (rc != NGX_HTTP_RTAGENT_ACS_OK) {
        ngx_http_rtagent_acs_media_fail(m, rc == NGX_HTTP_RTAGENT_ACS_ENOMEM
                                        ? NGX_HTTP_RTAGENT_WS_INTERNAL_ERROR
                                        : NGX_HTTP_RTAGENT_WS_INVALID_PAYLOAD,
                                        err);
        return;
    }

    switch (msg.kind) {

    case NGX_HTTP_RTAGENT_ACS_AUDIO_DATA:
        ngx_http_rtagent_acs_media_audio(m, &msg);
        break;

    case NGX_HTTP_RTAGENT_ACS_AUDIO_METADATA:
        ngx_http_rtagent_acs_media_metadata(m, &msg);
        break;

    case NGX_HTTP_RTAGENT_ACS_DTMF_DATA:
        s.data = (u_char *) msg.dtmf.data;
        s.len = msg.dtmf.len;
        ngx_http_rtagent_call_dtmf(m->call, &s);
        break;

    case NGX_HTTP_RTAGENT_ACS_TRANSCRIPTION_DATA:
        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, ws->connection->log, 0,
                       "rtagent acs: transcription %s \"%*s\", call:%V",
                       msg.final ? "final" : "partial",
                       msg.text.len, msg.text.data, &ws->call_id);

        if (msg.final && msg.text.len) {
            s.data = (u_char *) msg.text.data;
            s.len = msg.text.len;
            p.data = (u_char *) msg.participant.data;
            p.len = msg.participant.len;

            ngx_http_rtagent_call_transcription(m->call, &s, msg.confidence,
                                                &p);
        }
        break;

    case NGX_HTTP_RTAGENT_ACS_TRANSCRIPTION_METADATA:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ws->connection->log, 0,
                       "rtagent acs: transcription metadata, call:%V",
                       &ws->call_id);
        break;

    default:
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ws->connection->log, 0,
                       "rtagent acs: ignoring message of kind \"%*s\", "
                       "call:%V", msg.kind_name.len, msg.kind_name.data,
                       &ws->call_id);
        break;
    }
}


static void
ngx_http_rtagent_acs_media_metadata(ngx_http_rtagent_acs_media_t *m,
    ngx_http_rtagent_acs_msg_t *msg)
{
    size_t      frame_bytes, per_ms;
    ngx_pool_t *pool;

    if (msg->sample_rate != 16000 && msg->sample_rate != 24000) {
        ngx_http_rtagent_acs_media_fail(m, NGX_HTTP_RTAGENT_WS_POLICY,
                                        "unsupported sampleRate: "
                                        "16000 or 24000 (pcm16KMono, "
                                        "pcm24KMono)");
        return;
    }

    if (msg->channels != -1 && msg->channels != 1) {
        ngx_http_rtagent_acs_media_fail(m, NGX_HTTP_RTAGENT_WS_POLICY,
                                        "unsupported channels: mono only");
        return;
    }

    if (msg->encoding.len
        && (msg->encoding.len != 3
            || ngx_strncasecmp((u_char *) msg->encoding.data,
                               (u_char *) "PCM", 3) != 0))
    {
        ngx_http_rtagent_acs_media_fail(m, NGX_HTTP_RTAGENT_WS_POLICY,
                                        "unsupported encoding: PCM only");
        return;
    }

    per_ms = (size_t) msg->sample_rate / 500;
    frame_bytes = (msg->length == -1) ? 20 * per_ms : (size_t) msg->length;

    /* whole milliseconds from 10 to 100 ms per frame */
    if (frame_bytes % per_ms != 0
        || frame_bytes < 10 * per_ms || frame_bytes > 100 * per_ms)
    {
        ngx_http_rtagent_acs_media_fail(m, NGX_HTTP_RTAGENT_WS_POLICY,
                                        "unsupported length: frames of "
                                        "10 to 100 ms only");
        return;
    }

    if (m->frame_bytes) {
        if (m->rate == (ngx_uint_t) msg->sample_rate
            && m->frame_bytes == frame_bytes)
        {
            return;
        }

        ngx_http_rtagent_acs_media_fail(m, NGX_HTTP_RTAGENT_WS_POLICY,
                                        "audio format changed mid-stream");
        return;
    }

    pool = m->ws->request->pool;

    m->out = ngx_pnalloc(pool,
                         ngx_http_rtagent_acs_audio_msg_size(frame_bytes));
    m->silence = ngx_pcalloc(pool, frame_bytes);

    if (m->out == NULL || m->silence == NULL) {
        ngx_http_rtagent_acs_media_fail(m, NGX_HTTP_RTAGENT_WS_INTERNAL_ERROR,
                                        "out of memory");
        return;
    }

    m->rate = (ngx_uint_t) msg->sample_rate;
    m->frame_bytes = frame_bytes;

    if (ngx_http_rtagent_call_start(m->call, m->rate, frame_bytes) != NGX_OK) {
        ngx_http_rtagent_acs_media_fail(m, NGX_HTTP_RTAGENT_WS_INTERNAL_ERROR,
                                        "cannot start the call session");
    }
}


static void
ngx_http_rtagent_acs_media_audio(ngx_http_rtagent_acs_media_t *m,
    ngx_http_rtagent_acs_msg_t *msg)
{
    size_t         len;
    ngx_str_t      participant;
    const u_char  *pcm;
    u_char         reason[64];

    if (m->frame_bytes == 0) {
        ngx_http_rtagent_acs_media_fail(m, NGX_HTTP_RTAGENT_WS_POLICY,
                                        "AudioData before AudioMetadata");
        return;
    }

    pcm = msg->audio.data;
    len = msg->audio.len;

    if (len == 0 && msg->silent) {
        /* a silent frame may come without its zeros */
        pcm = m->silence;
        len = m->frame_bytes;
    }

    if (!msg->has_audio && !msg->silent) {
        ngx_http_rtagent_acs_media_fail(m, NGX_HTTP_RTAGENT_WS_INVALID_PAYLOAD,
                                        "AudioData without data");
        return;
    }

    if (len != m->frame_bytes) {
        ngx_snprintf(reason, sizeof(reason),
                     "audio frame of %uz bytes, expected %uz%Z",
                     len, m->frame_bytes);
        ngx_http_rtagent_acs_media_fail(m, NGX_HTTP_RTAGENT_WS_INVALID_PAYLOAD,
                                        (const char *) reason);
        return;
    }

    if (msg->participant.len) {
        participant.data = (u_char *) msg->participant.data;
        participant.len = msg->participant.len;

        ngx_http_rtagent_call_participant(m->call, &participant);
    }

    if (ngx_http_rtagent_call_audio(m->call, pcm, len, msg->silent)
        != NGX_OK)
    {
        ngx_http_rtagent_acs_media_fail(m, NGX_HTTP_RTAGENT_WS_INTERNAL_ERROR,
                                        "out of memory");
    }
}


static void
ngx_http_rtagent_acs_media_fail(ngx_http_rtagent_acs_media_t *m,
    ngx_uint_t code, const char *reason)
{
    ngx_log_error(NGX_LOG_INFO, m->channel.log, 0,
                  "rtagent acs: bad media message: %s, call:%V",
                  reason, &m->channel.call_id);

    if (m->failed == NULL) {
        /* reason may be on the caller's stack */
        (void) ngx_cpystrn(m->reason, (u_char *) reason, sizeof(m->reason));
        m->failed = (const char *) m->reason;
    }

    ngx_http_rtagent_ws_close(m->ws, code, reason);
}


static void
ngx_http_rtagent_acs_media_closed(ngx_http_rtagent_ws_t *ws)
{
    const char                       *reason;
    ngx_uint_t                        sent;
    ngx_http_rtagent_acs_media_t     *m = ws->data;
    ngx_http_rtagent_call_outcome_e   outcome;

    /* the caller hung up if ACS closed the stream, cleanly or not */
    outcome = NGX_HTTP_RTAGENT_CALL_FAILED;
    reason = m->failed;
    sent = wslay_event_get_status_code_sent(ws->wslay);

    if (reason) {
        /* void */

    } else if (ngx_exiting || ngx_terminate || ngx_quit) {
        reason = "server shutting down";

    } else if (ws->error) {
        reason = "connection error";

    } else if (sent == NGX_HTTP_RTAGENT_WS_PROTOCOL_ERROR
               || sent == NGX_HTTP_RTAGENT_WS_POLICY
               || sent == NGX_HTTP_RTAGENT_WS_TOO_BIG)
    {
        reason = "websocket protocol error";

    } else if (ngx_current_msec - ws->last_in >= ws->conf->idle_timeout) {
        reason = "idle timeout";

    } else if (ws->eof || wslay_event_get_close_received(ws->wslay)) {
        outcome = NGX_HTTP_RTAGENT_CALL_HUNG_UP;

    } else {
        reason = "closed without the caller's close frame";
    }

    ngx_http_rtagent_call_end(m->call, outcome, reason);

    ngx_log_error(NGX_LOG_INFO, ws->connection->log, 0,
                  "rtagent acs: media stream closed, call:%V", &ws->call_id);
}


static ngx_int_t
ngx_http_rtagent_acs_media_send(ngx_http_rtagent_channel_t *ch,
    const u_char *pcm, size_t len)
{
    size_t                         n;
    ngx_http_rtagent_acs_media_t  *m = ch->data;

    if (len != m->frame_bytes) {
        return NGX_ERROR;
    }

    n = ngx_http_rtagent_acs_audio_msg(m->out, pcm, len);

    return ngx_http_rtagent_ws_send(m->ws, NGX_HTTP_RTAGENT_WS_TEXT, m->out,
                                    n);
}


static ngx_int_t
ngx_http_rtagent_acs_media_stop(ngx_http_rtagent_channel_t *ch)
{
    ngx_http_rtagent_acs_media_t  *m = ch->data;

    return ngx_http_rtagent_ws_send(m->ws, NGX_HTTP_RTAGENT_WS_TEXT,
                                    ngx_http_rtagent_acs_stop_audio.data,
                                    ngx_http_rtagent_acs_stop_audio.len);
}


static void
ngx_http_rtagent_acs_media_close(ngx_http_rtagent_channel_t *ch,
    ngx_uint_t code, const char *reason)
{
    ngx_http_rtagent_acs_media_t  *m = ch->data;

    ngx_http_rtagent_ws_close(m->ws, code, reason);
}


/*
 * A transfer is a Call Automation request on the call, to the target
 * rtagent_acs_transfer_target names for it (an agent's "queue:claims"), or
 * to the target itself (a phone number)
 */

static ngx_int_t
ngx_http_rtagent_acs_media_transfer(ngx_http_rtagent_channel_t *ch,
    ngx_str_t *target)
{
    ngx_uint_t                         i;
    ngx_keyval_t                      *kv;
    ngx_http_rtagent_acs_main_conf_t  *amcf;

    amcf = ngx_http_rtagent_acs_conf();

    if (amcf && amcf->transfer_targets) {
        kv = amcf->transfer_targets->elts;

        for (i = 0; i < amcf->transfer_targets->nelts; i++) {
            if (kv[i].key.len == target->len
                && ngx_strncmp(kv[i].key.data, target->data, target->len)
                   == 0)
            {
                target = &kv[i].value;
                break;
            }
        }
    }

    return ngx_http_rtagent_acs_action(ch->log, &ch->call_id,
                                       NGX_HTTP_RTAGENT_ACS_TRANSFER, target,
                                       NULL, NULL);
}
