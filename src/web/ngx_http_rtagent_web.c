
/*
 * The browser channel (see ngx_http_rtagent_web.h).  The page opens the
 * WebSocket, sends {"type":"start",...} and gets {"type":"ready",...}
 * with its call id; then audio flows both ways in binary frames, and the
 * server tells the page what was said (transcript), when to drop what it
 * has queued (stop_audio), and what went wrong (error, then a close).
 *
 * The call runs at 16 kHz in 20 ms frames.  PCM16 from the page is
 * resampled from its rate (speexdsp) and cut into frames; Opus packets are
 * decoded straight to 16 kHz, and the replies are encoded from it (an Opus
 * stream decodes at any of its rates).  The codec state is in the
 * request's pool; the resamplers are freed by a pool cleanup.
 *
 * Bad input closes the WebSocket, after an error message, with a code of
 * RFC 6455 and a log line with the call id:
 *
 *   1003  a codec or sample rate the channel does not take
 *   1007  malformed JSON, a field of the wrong type, an odd-length PCM16
 *         frame, an Opus packet that does not decode
 *   1008  an unknown type, audio before start, start twice
 *   1009  a control message over 4 KiB (a frame over
 *         rtagent_ws_max_message_size: by the WebSocket layer)
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <opus/opus.h>

#include <ngx_http_rtagent_module.h>
#include <audio/ngx_http_rtagent_resample.h>
#include <web/ngx_http_rtagent_web.h>
#include <web/ngx_http_rtagent_web_msg.h>


/* a call id: "web-" and 128 random bits in hex */
#define NGX_HTTP_RTAGENT_WEB_ID_PREFIX  "web-"

/* the longest Opus packet is 120 ms; an encoded 20 ms frame fits 1275 */
#define NGX_HTTP_RTAGENT_WEB_OPUS_MAX_MS   120
#define NGX_HTTP_RTAGENT_WEB_OPUS_PACKET   1276

/* a close frame's reason fits 123 bytes */
#define NGX_HTTP_RTAGENT_WEB_REASON    120


typedef struct {
    ngx_http_rtagent_ws_t         *ws;
    ngx_http_rtagent_channel_t     channel;
    ngx_http_rtagent_call_t       *call;

    ngx_uint_t                     codec;      /* 0 until start */
    ngx_uint_t                     rate;       /* the page's */

    ngx_http_rtagent_resample_t    in_rs;      /* PCM16: page to call */
    ngx_http_rtagent_resample_t    out_rs;     /* call to page */
    OpusDecoder                   *dec;
    OpusEncoder                   *enc;

    int16_t                       *in;         /* at the call's rate */
    size_t                         in_max;     /* samples */
    u_char                        *frame;      /* one call frame, filling */
    size_t                         have;       /* bytes of it */
    u_char                        *out;        /* one message to the page */
    size_t                         out_max;    /* bytes */

    const char                    *failed;     /* why we closed it */
    u_char                         reason[NGX_HTTP_RTAGENT_WEB_REASON];

    unsigned                       stopped:1;  /* the page said stop */
    unsigned                       rs_on:1;
} ngx_http_rtagent_web_t;


static char *ngx_http_rtagent_web_media(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_rtagent_web_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_rtagent_web_call_id(ngx_http_request_t *r,
    ngx_str_t *id);
static void ngx_http_rtagent_web_message(ngx_http_rtagent_ws_t *ws,
    ngx_uint_t opcode, u_char *data, size_t len);
static void ngx_http_rtagent_web_control(ngx_http_rtagent_web_t *w,
    u_char *data, size_t len);
static ngx_int_t ngx_http_rtagent_web_start(ngx_http_rtagent_web_t *w,
    ngx_http_rtagent_web_msg_t *msg);
static ngx_int_t ngx_http_rtagent_web_codec(ngx_http_rtagent_web_t *w);
static void ngx_http_rtagent_web_audio(ngx_http_rtagent_web_t *w,
    u_char *data, size_t len);
static void ngx_http_rtagent_web_feed(ngx_http_rtagent_web_t *w,
    const int16_t *pcm, size_t samples);
static void ngx_http_rtagent_web_fail(ngx_http_rtagent_web_t *w,
    ngx_uint_t code, const char *reason);
static ngx_int_t ngx_http_rtagent_web_event(ngx_http_rtagent_web_t *w,
    ngx_http_rtagent_json_out_t *j);
static void ngx_http_rtagent_web_closed(ngx_http_rtagent_ws_t *ws);
static void ngx_http_rtagent_web_cleanup(void *data);
static ngx_int_t ngx_http_rtagent_web_send(ngx_http_rtagent_channel_t *ch,
    const u_char *pcm, size_t len);
static ngx_int_t ngx_http_rtagent_web_stop(ngx_http_rtagent_channel_t *ch);
static void ngx_http_rtagent_web_close(ngx_http_rtagent_channel_t *ch,
    ngx_uint_t code, const char *reason);
static void ngx_http_rtagent_web_said(ngx_http_rtagent_channel_t *ch,
    ngx_http_rtagent_channel_said_t *said);


static ngx_command_t  ngx_http_rtagent_web_commands[] = {

    { ngx_string("rtagent_web_media"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_rtagent_web_media,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_rtagent_web_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_rtagent_web_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_web_module_ctx,      /* module context */
    ngx_http_rtagent_web_commands,         /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_rtagent_web_stop_audio =
    ngx_string("{\"type\":\"stop_audio\"}");


static char *
ngx_http_rtagent_web_media(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_rtagent_web_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_rtagent_web_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_str_t                     call_id;
    ngx_pool_cleanup_t           *cln;
    ngx_http_rtagent_ws_t        *ws;
    ngx_http_rtagent_web_t       *w;
    ngx_http_rtagent_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rtagent_module);

    rc = ngx_http_rtagent_ws_accept(r, &lcf->ws, &ws);
    if (ws == NULL) {
        return rc;
    }

    if (ngx_http_rtagent_web_call_id(r, &call_id) != NGX_OK) {
        return NGX_ERROR;
    }

    w = ngx_pcalloc(r->pool, sizeof(ngx_http_rtagent_web_t));
    if (w == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_rtagent_web_cleanup;
    cln->data = w;

    w->ws = ws;
    w->channel.data = w;
    w->channel.log = r->connection->log;
    w->channel.call_id = call_id;
    w->channel.send_audio = ngx_http_rtagent_web_send;
    w->channel.stop_audio = ngx_http_rtagent_web_stop;
    w->channel.close = ngx_http_rtagent_web_close;
    w->channel.said = ngx_http_rtagent_web_said;
    /* a browser has no one to hand the call to: transfer stays NULL */

    w->call = ngx_http_rtagent_call_create(r->pool, &lcf->call, &w->channel);
    if (w->call == NULL) {
        return NGX_ERROR;
    }

    ws->data = w;
    ws->call_id = call_id;
    ws->on_message = ngx_http_rtagent_web_message;
    ws->on_closed = ngx_http_rtagent_web_closed;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "rtagent web: connected, call:%V", &call_id);

    return ngx_http_rtagent_ws_start(ws);
}


static ngx_int_t
ngx_http_rtagent_web_call_id(ngx_http_request_t *r, ngx_str_t *id)
{
    size_t  len;

    len = NGX_HTTP_RTAGENT_CALL_ID_NEW_LEN(NGX_HTTP_RTAGENT_WEB_ID_PREFIX);

    id->data = ngx_pnalloc(r->pool, len);
    if (id->data == NULL) {
        return NGX_ERROR;
    }

    id->len = ngx_http_rtagent_call_id_new(id->data, len,
                                           NGX_HTTP_RTAGENT_WEB_ID_PREFIX);
    if (id->len == 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "rtagent web: RAND_bytes() failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_rtagent_web_message(ngx_http_rtagent_ws_t *ws, ngx_uint_t opcode,
    u_char *data, size_t len)
{
    ngx_http_rtagent_web_t  *w = ws->data;

    if (w->failed || w->stopped) {
        return;
    }

    if (opcode == NGX_HTTP_RTAGENT_WS_TEXT) {
        ngx_http_rtagent_web_control(w, data, len);
        return;
    }

    if (w->codec == 0) {
        ngx_http_rtagent_web_fail(w, NGX_HTTP_RTAGENT_WS_POLICY,
                                  "audio before start");
        return;
    }

    ngx_http_rtagent_web_audio(w, data, len);
}


static void
ngx_http_rtagent_web_control(ngx_http_rtagent_web_t *w, u_char *data,
    size_t len)
{
    ngx_uint_t                     code;
    ngx_http_rtagent_web_msg_t     msg;
    ngx_http_rtagent_web_msg_rc_e  rc;
    char                           err[NGX_HTTP_RTAGENT_WEB_REASON];

    rc = ngx_http_rtagent_web_msg_parse((const char *) data, len, &msg, err,
                                        sizeof(err));

    switch (rc) {

    case NGX_HTTP_RTAGENT_WEB_MSG_OK:
        break;

    case NGX_HTTP_RTAGENT_WEB_MSG_TOO_LARGE:
        code = NGX_HTTP_RTAGENT_WS_TOO_BIG;
        goto failed;

    case NGX_HTTP_RTAGENT_WEB_MSG_UNKNOWN:
        code = NGX_HTTP_RTAGENT_WS_POLICY;
        goto failed;

    case NGX_HTTP_RTAGENT_WEB_MSG_UNSUPPORTED:
        code = NGX_HTTP_RTAGENT_WS_UNSUPPORTED_DATA;
        goto failed;

    case NGX_HTTP_RTAGENT_WEB_MSG_NO_MEMORY:
        code = NGX_HTTP_RTAGENT_WS_INTERNAL_ERROR;
        goto failed;

    default:
        code = NGX_HTTP_RTAGENT_WS_INVALID_PAYLOAD;
        goto failed;
    }

    if (msg.type == NGX_HTTP_RTAGENT_WEB_STOP) {
        ngx_http_rtagent_web_msg_free(&msg);

        ngx_log_error(NGX_LOG_INFO, w->channel.log, 0,
                      "rtagent web: the page stopped the call, call:%V",
                      &w->channel.call_id);

        w->stopped = 1;
        ngx_http_rtagent_ws_close(w->ws, NGX_HTTP_RTAGENT_WS_NORMAL,
                                  "stopped");
        return;
    }

    if (w->codec) {
        ngx_http_rtagent_web_msg_free(&msg);
        ngx_http_rtagent_web_fail(w, NGX_HTTP_RTAGENT_WS_POLICY,
                                  "start sent twice");
        return;
    }

    if (ngx_http_rtagent_web_start(w, &msg) != NGX_OK) {
        ngx_http_rtagent_web_msg_free(&msg);
        ngx_http_rtagent_web_fail(w, NGX_HTTP_RTAGENT_WS_INTERNAL_ERROR,
                                  "cannot start the call");
        return;
    }

    ngx_http_rtagent_web_msg_free(&msg);

    return;

failed:

    ngx_http_rtagent_web_msg_free(&msg);
    ngx_http_rtagent_web_fail(w, code, err);
}


static ngx_int_t
ngx_http_rtagent_web_start(ngx_http_rtagent_web_t *w,
    ngx_http_rtagent_web_msg_t *msg)
{
    const char                   *codec;
    ngx_pool_t                   *pool;
    ngx_http_rtagent_json_out_t   j;

    pool = w->ws->request->pool;

    w->codec = msg->codec;
    w->rate = msg->rate;

    if (msg->agent_len) {
        /* the entry agent of the call, as ACS's ?agent= names it */
        w->channel.agent.data = ngx_pnalloc(pool, msg->agent_len);
        if (w->channel.agent.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(w->channel.agent.data, msg->agent, msg->agent_len);
        w->channel.agent.len = msg->agent_len;
    }

    if (ngx_http_rtagent_web_codec(w) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_rtagent_call_start(w->call, NGX_HTTP_RTAGENT_WEB_CALL_RATE,
                                    NGX_HTTP_RTAGENT_WEB_CALL_RATE / 500
                                    * NGX_HTTP_RTAGENT_WEB_FRAME_MS)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    codec = (w->codec == NGX_HTTP_RTAGENT_WEB_OPUS) ? "opus" : "pcm16";

    ngx_log_error(NGX_LOG_INFO, w->channel.log, 0,
                  "rtagent web: started, %s at %ui Hz, call:%V",
                  codec, w->rate, &w->channel.call_id);

    if (ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_rtagent_json_out_cstr(&j, "type", "ready");
    ngx_http_rtagent_json_out_str(&j, "callId", w->channel.call_id.data,
                                  w->channel.call_id.len);
    ngx_http_rtagent_json_out_int(&j, "sampleRate", w->rate);
    ngx_http_rtagent_json_out_cstr(&j, "codec", codec);
    ngx_http_rtagent_json_out_int(&j, "frameMs",
                                  NGX_HTTP_RTAGENT_WEB_FRAME_MS);

    return ngx_http_rtagent_web_event(w, &j);
}


/* the codec state and the buffers of the start's format */

static ngx_int_t
ngx_http_rtagent_web_codec(ngx_http_rtagent_web_t *w)
{
    int          err;
    size_t       samples;
    ngx_pool_t  *pool;

    pool = w->ws->request->pool;

    w->frame = ngx_pnalloc(pool, NGX_HTTP_RTAGENT_WEB_CALL_RATE / 500
                                 * NGX_HTTP_RTAGENT_WEB_FRAME_MS);
    if (w->frame == NULL) {
        return NGX_ERROR;
    }

    if (w->codec == NGX_HTTP_RTAGENT_WEB_OPUS) {
        w->dec = ngx_palloc(pool, opus_decoder_get_size(1));
        w->enc = ngx_palloc(pool, opus_encoder_get_size(1));
        if (w->dec == NULL || w->enc == NULL) {
            return NGX_ERROR;
        }

        err = opus_decoder_init(w->dec, NGX_HTTP_RTAGENT_WEB_CALL_RATE, 1);
        if (err == OPUS_OK) {
            err = opus_encoder_init(w->enc, NGX_HTTP_RTAGENT_WEB_CALL_RATE, 1,
                                    OPUS_APPLICATION_VOIP);
        }

        if (err != OPUS_OK) {
            ngx_log_error(NGX_LOG_ALERT, w->channel.log, 0,
                          "rtagent web: opus init failed: %s, call:%V",
                          opus_strerror(err), &w->channel.call_id);
            return NGX_ERROR;
        }

        w->in_max = NGX_HTTP_RTAGENT_WEB_CALL_RATE / 1000
                    * NGX_HTTP_RTAGENT_WEB_OPUS_MAX_MS;
        w->out_max = NGX_HTTP_RTAGENT_WEB_OPUS_PACKET;

    } else {
        if (ngx_http_rtagent_resample_init(&w->in_rs, w->rate,
                                           NGX_HTTP_RTAGENT_WEB_CALL_RATE, 5)
            != 0)
        {
            return NGX_ERROR;
        }

        w->rs_on = 1;

        if (ngx_http_rtagent_resample_init(&w->out_rs,
                                           NGX_HTTP_RTAGENT_WEB_CALL_RATE,
                                           w->rate, 5)
            != 0)
        {
            ngx_http_rtagent_resample_free(&w->in_rs);
            w->rs_on = 0;
            return NGX_ERROR;
        }

        /* the largest frame the WebSocket lets in, resampled */
        w->in_max = ngx_http_rtagent_resample_out_max(&w->in_rs,
                                          w->ws->conf->max_message_size / 2);

        samples = ngx_http_rtagent_resample_out_max(&w->out_rs,
                                          NGX_HTTP_RTAGENT_WEB_CALL_RATE
                                          / 1000
                                          * NGX_HTTP_RTAGENT_WEB_FRAME_MS);
        w->out_max = samples * sizeof(int16_t);
    }

    w->in = ngx_palloc(pool, w->in_max * sizeof(int16_t));
    w->out = ngx_palloc(pool, w->out_max);

    if (w->in == NULL || w->out == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_rtagent_web_audio(ngx_http_rtagent_web_t *w, u_char *data,
    size_t len)
{
    int       n;
    long      got;
    int16_t  *pcm;
    u_char    reason[NGX_HTTP_RTAGENT_WEB_REASON];

    if (len == 0) {
        ngx_http_rtagent_web_fail(w, NGX_HTTP_RTAGENT_WS_INVALID_PAYLOAD,
                                  "empty audio frame");
        return;
    }

    if (w->codec == NGX_HTTP_RTAGENT_WEB_OPUS) {
        n = opus_decode(w->dec, data, (opus_int32) len, w->in,
                        (int) w->in_max, 0);
        if (n < 0) {
            ngx_snprintf(reason, sizeof(reason),
                         "bad Opus packet of %uz bytes: %s%Z", len,
                         opus_strerror(n));
            ngx_http_rtagent_web_fail(w, NGX_HTTP_RTAGENT_WS_INVALID_PAYLOAD,
                                      (const char *) reason);
            return;
        }

        ngx_http_rtagent_web_feed(w, w->in, (size_t) n);
        return;
    }

    if (len % 2) {
        ngx_snprintf(reason, sizeof(reason),
                     "PCM16 frame of %uz bytes: not whole samples%Z", len);
        ngx_http_rtagent_web_fail(w, NGX_HTTP_RTAGENT_WS_INVALID_PAYLOAD,
                                  (const char *) reason);
        return;
    }

    if (w->in_rs.state == NULL) {
        /* the page runs at the call's rate */
        if ((uintptr_t) data % sizeof(int16_t) == 0) {
            ngx_http_rtagent_web_feed(w, (int16_t *) data, len / 2);
            return;
        }

        ngx_memcpy(w->in, data, len);
        ngx_http_rtagent_web_feed(w, w->in, len / 2);
        return;
    }

    /* wslay hands over its own buffer: copied for alignment */
    pcm = (int16_t *) ngx_http_rtagent_scratch(len);
    if (pcm == NULL) {
        ngx_http_rtagent_web_fail(w, NGX_HTTP_RTAGENT_WS_INTERNAL_ERROR,
                                  "out of memory");
        return;
    }

    ngx_memcpy(pcm, data, len);

    got = ngx_http_rtagent_resample_run(&w->in_rs, pcm, len / 2, w->in,
                                        w->in_max);
    if (got < 0) {
        ngx_http_rtagent_web_fail(w, NGX_HTTP_RTAGENT_WS_INTERNAL_ERROR,
                                  "resampling failed");
        return;
    }

    ngx_http_rtagent_web_feed(w, w->in, (size_t) got);
}


/* audio at the call's rate, to the call in whole frames */

static void
ngx_http_rtagent_web_feed(ngx_http_rtagent_web_t *w, const int16_t *pcm,
    size_t samples)
{
    size_t         n, frame_bytes;
    const u_char  *p, *end;

    frame_bytes = NGX_HTTP_RTAGENT_WEB_CALL_RATE / 500
                  * NGX_HTTP_RTAGENT_WEB_FRAME_MS;

    p = (const u_char *) pcm;
    end = p + samples * sizeof(int16_t);

    while (p < end && !w->failed) {
        n = ngx_min((size_t) (end - p), frame_bytes - w->have);

        ngx_memcpy(w->frame + w->have, p, n);
        w->have += n;
        p += n;

        if (w->have < frame_bytes) {
            break;
        }

        w->have = 0;

        if (ngx_http_rtagent_call_audio(w->call, w->frame, frame_bytes, 0)
            != NGX_OK)
        {
            ngx_http_rtagent_web_fail(w, NGX_HTTP_RTAGENT_WS_INTERNAL_ERROR,
                                      "out of memory");
        }
    }
}


static void
ngx_http_rtagent_web_fail(ngx_http_rtagent_web_t *w, ngx_uint_t code,
    const char *reason)
{
    ngx_http_rtagent_json_out_t  j;

    ngx_log_error(NGX_LOG_INFO, w->channel.log, 0,
                  "rtagent web: bad message: %s (close %ui), call:%V",
                  reason, code, &w->channel.call_id);

    if (w->failed) {
        return;
    }

    /* reason may be on the caller's stack */
    (void) ngx_cpystrn(w->reason, (u_char *) reason, sizeof(w->reason));
    w->failed = (const char *) w->reason;

    /* the page shows the message; the close frame carries it too */
    if (ngx_http_rtagent_json_out_init(&j) == NGX_OK) {
        ngx_http_rtagent_json_out_cstr(&j, "type", "error");
        ngx_http_rtagent_json_out_int(&j, "code", code);
        ngx_http_rtagent_json_out_cstr(&j, "message", w->failed);
        (void) ngx_http_rtagent_web_event(w, &j);
    }

    ngx_http_rtagent_ws_close(w->ws, code, w->failed);
}


/* a JSON event to the page; frees j */

static ngx_int_t
ngx_http_rtagent_web_event(ngx_http_rtagent_web_t *w,
    ngx_http_rtagent_json_out_t *j)
{
    ngx_int_t  rc;
    ngx_str_t  out;

    if (ngx_http_rtagent_json_out_get(j, &out) != NGX_OK) {
        ngx_http_rtagent_json_out_free(j);
        return NGX_ERROR;
    }

    rc = ngx_http_rtagent_ws_send(w->ws, NGX_HTTP_RTAGENT_WS_TEXT, out.data,
                                  out.len);

    ngx_http_rtagent_json_out_free(j);

    return rc == NGX_ERROR ? NGX_ERROR : NGX_OK;
}


static void
ngx_http_rtagent_web_closed(ngx_http_rtagent_ws_t *ws)
{
    const char                       *reason;
    ngx_uint_t                        sent;
    ngx_http_rtagent_web_t           *w = ws->data;
    ngx_http_rtagent_call_outcome_e   outcome;

    outcome = NGX_HTTP_RTAGENT_CALL_FAILED;
    reason = w->failed;
    sent = wslay_event_get_status_code_sent(ws->wslay);

    if (reason) {
        /* void */

    } else if (w->stopped) {
        outcome = NGX_HTTP_RTAGENT_CALL_HUNG_UP;

    } else if (ngx_exiting || ngx_terminate || ngx_quit) {
        reason = "server shutting down";

    } else if (ws->error) {
        reason = "connection error";

    } else if (sent == NGX_HTTP_RTAGENT_WS_PROTOCOL_ERROR
               || sent == NGX_HTTP_RTAGENT_WS_INVALID_PAYLOAD
               || sent == NGX_HTTP_RTAGENT_WS_POLICY
               || sent == NGX_HTTP_RTAGENT_WS_TOO_BIG)
    {
        /* wslay's own close: bad framing, UTF-8, a message too big */
        reason = "websocket protocol error";

    } else if (ngx_current_msec - ws->last_in >= ws->conf->idle_timeout) {
        reason = "idle timeout";

    } else {
        /* the page closed its tab or its socket: it hung up */
        outcome = NGX_HTTP_RTAGENT_CALL_HUNG_UP;
    }

    ngx_http_rtagent_call_end(w->call, outcome, reason);

    ngx_log_error(NGX_LOG_INFO, ws->connection->log, 0,
                  "rtagent web: closed, call:%V", &ws->call_id);
}


static void
ngx_http_rtagent_web_cleanup(void *data)
{
    ngx_http_rtagent_web_t  *w = data;

    if (w->rs_on) {
        ngx_http_rtagent_resample_free(&w->in_rs);
        ngx_http_rtagent_resample_free(&w->out_rs);
        w->rs_on = 0;
    }
}


/* one 20 ms frame of the call's audio to the page, in its codec */

static ngx_int_t
ngx_http_rtagent_web_send(ngx_http_rtagent_channel_t *ch, const u_char *pcm,
    size_t len)
{
    long                     got;
    opus_int32               n;
    ngx_http_rtagent_web_t  *w = ch->data;

    if (w->codec == NGX_HTTP_RTAGENT_WEB_OPUS) {
        n = opus_encode(w->enc, (const opus_int16 *) pcm,
                        (int) (len / sizeof(int16_t)), w->out,
                        (opus_int32) w->out_max);
        if (n < 0) {
            ngx_log_error(NGX_LOG_ERR, ch->log, 0,
                          "rtagent web: opus_encode() failed: %s, call:%V",
                          opus_strerror(n), &ch->call_id);
            return NGX_ERROR;
        }

        return ngx_http_rtagent_ws_send(w->ws, NGX_HTTP_RTAGENT_WS_BINARY,
                                        w->out, (size_t) n);
    }

    if (w->out_rs.state == NULL) {
        return ngx_http_rtagent_ws_send(w->ws, NGX_HTTP_RTAGENT_WS_BINARY,
                                        pcm, len);
    }

    got = ngx_http_rtagent_resample_run(&w->out_rs, (const int16_t *) pcm,
                                        len / sizeof(int16_t),
                                        (int16_t *) w->out,
                                        w->out_max / sizeof(int16_t));
    if (got <= 0) {
        return got < 0 ? NGX_ERROR : NGX_OK;
    }

    return ngx_http_rtagent_ws_send(w->ws, NGX_HTTP_RTAGENT_WS_BINARY,
                                    w->out, (size_t) got * sizeof(int16_t));
}


static ngx_int_t
ngx_http_rtagent_web_stop(ngx_http_rtagent_channel_t *ch)
{
    ngx_http_rtagent_web_t  *w = ch->data;

    /* audio sent after this is the next reply's: opus needs no reset */
    return ngx_http_rtagent_ws_send(w->ws, NGX_HTTP_RTAGENT_WS_TEXT,
                                    ngx_http_rtagent_web_stop_audio.data,
                                    ngx_http_rtagent_web_stop_audio.len);
}


static void
ngx_http_rtagent_web_close(ngx_http_rtagent_channel_t *ch, ngx_uint_t code,
    const char *reason)
{
    ngx_http_rtagent_web_t  *w = ch->data;

    ngx_http_rtagent_ws_close(w->ws, code, reason);
}


/*
 * {"type":"transcript","role":"caller"|"agent","text":...,"turn":N,
 *  "agent":name,"latencyMs":ms}: agent and latencyMs on the agent's only
 */

static void
ngx_http_rtagent_web_said(ngx_http_rtagent_channel_t *ch,
    ngx_http_rtagent_channel_said_t *said)
{
    ngx_http_rtagent_web_t       *w = ch->data;
    ngx_http_rtagent_json_out_t   j;

    if (ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        return;
    }

    ngx_http_rtagent_json_out_cstr(&j, "type", "transcript");
    ngx_http_rtagent_json_out_cstr(&j, "role", said->agent ? "agent"
                                                           : "caller");
    ngx_http_rtagent_json_out_str(&j, "text", said->text.data,
                                  said->text.len);
    ngx_http_rtagent_json_out_int(&j, "turn", said->turn);

    if (said->agent) {
        ngx_http_rtagent_json_out_str(&j, "agent", said->name.data,
                                      said->name.len);

        if (said->latency >= 0) {
            ngx_http_rtagent_json_out_int(&j, "latencyMs", said->latency);
        }
    }

    (void) ngx_http_rtagent_web_event(w, &j);
}
