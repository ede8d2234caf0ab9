
/*
 * Test-only driver for the speech providers (src/speech): locations that
 * run the location's STT or TTS provider (rtagent_stt / rtagent_tts) as a
 * call session would, and answer with what came back.  Never shipped.
 *
 *   rtagent_test_tts;      GET /t?text=TEXT[&call=ID][&voice=V][&style=S]
 *                          [&rate=PERCENT][&signal=URL][&cancel=SAMPLES]
 *                          [&pieces=N][&cancelafter=MS]
 *       Synthesizes TEXT (unescaped) N times in a row (default 1), each
 *       piece after the previous one's on_done.  signal: after the first
 *       audio chunk of each piece, GET URL (so a mock that holds the rest
 *       of the audio until then proves the audio was handed on before
 *       the response ended); cancel: cancel() once SAMPLES samples came.
 *       cancelafter: cancel() MS ms after the first synth() (a piece that
 *       waits for a token, say) and reply "cancelled" 500 ms later.
 *       Replies, per piece: "piece N: chunks=C samples=S rate=R
 *       first_before_end=yes|no sum=X" then "done: ok", "error: KIND:
 *       DETAIL" or "cancelled"; "open failed" / "synth failed" when those
 *       calls return an error.
 *
 *   rtagent_test_stt;      GET /t?[file=PATH|tone=MS][&rate=HZ][&call=ID]
 *                          [&turns=N: the utterance N times, 100 ms apart]
 *                          [&language=L][&cancel=MS]
 *       Feeds 16-bit mono PCM (a raw file, or MS ms of a 440 Hz tone) at
 *       HZ (default 16000) in 20 ms frames between begin() and finish(),
 *       and replies with each result: "partial: TEXT", "final: TEXT
 *       confidence=C duration=MS language=L", or "error: KIND: DETAIL";
 *       cancel=MS cancels MS ms after finish() (0: at once) and replies
 *       "cancelled" 1 s later if nothing came (nothing must).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <math.h>

#include <ngx_http_rtagent_module.h>
#include <io/ngx_http_rtagent_http.h>
#include <speech/ngx_http_rtagent_stt.h>
#include <speech/ngx_http_rtagent_tts.h>

#include "ngx_http_rtagent_test_util.h"


typedef struct {
    ngx_http_request_t            *request;
    ngx_str_t                      call_id;
    ngx_http_rtagent_test_out_t    out;          /* the reply so far */
    unsigned                       finished:1;

    /* tts */
    ngx_http_rtagent_tts_t         tts;
    ngx_str_t                      text;
    ngx_uint_t                     pieces;
    ngx_uint_t                     piece;
    ngx_uint_t                     chunks;
    size_t                         samples;
    ngx_uint_t                     rate;
    uint64_t                       sum;
    size_t                         cancel_at;
    ngx_str_t                      signal;
    ngx_http_rtagent_http_job_t   *signal_job;
    unsigned                       signal_done:1;
    unsigned                       first_before_end:1;

    /* stt */
    ngx_http_rtagent_stt_t         stt;
    ngx_http_rtagent_timer_t       timer;
    ngx_str_t                      pcm;
    ngx_uint_t                     turns;        /* still to run */
} ngx_http_rtagent_test_speech_t;


static char *ngx_http_rtagent_test_speech_set(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_rtagent_test_tts_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_rtagent_test_stt_handler(ngx_http_request_t *r);
static void ngx_http_rtagent_test_stt_done(ngx_http_rtagent_test_speech_t *ts);
static void ngx_http_rtagent_test_stt_next(ngx_event_t *ev);
static ngx_int_t ngx_http_rtagent_test_stt_turn(
    ngx_http_rtagent_test_speech_t *ts);


static ngx_command_t  ngx_http_rtagent_test_speech_commands[] = {

    { ngx_string("rtagent_test_tts"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_rtagent_test_speech_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_rtagent_test_tts_handler },

    { ngx_string("rtagent_test_stt"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_rtagent_test_speech_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_rtagent_test_stt_handler },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_rtagent_test_speech_module_ctx = {
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};


ngx_module_t  ngx_http_rtagent_test_speech_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_test_speech_module_ctx, /* module context */
    ngx_http_rtagent_test_speech_commands, /* module directives */
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


static char *
ngx_http_rtagent_test_speech_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = (ngx_http_handler_pt) cmd->post;

    return NGX_CONF_OK;
}


static void
ngx_http_rtagent_test_speech_reply(ngx_http_rtagent_test_speech_t *ts)
{
    if (ts->finished) {
        return;
    }

    ts->finished = 1;

    if (ts->timer.event.timer_set) {
        ngx_del_timer(&ts->timer.event);
    }

    ngx_http_rtagent_test_out_send(ts->request, NGX_HTTP_OK, "text/plain",
                                   &ts->out.text);
}


static ngx_http_rtagent_test_speech_t *
ngx_http_rtagent_test_speech_ctx(ngx_http_request_t *r)
{
    ngx_http_rtagent_test_speech_t  *ts;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NULL;
    }

    ts = ngx_pcalloc(r->pool, sizeof(ngx_http_rtagent_test_speech_t));
    if (ts == NULL) {
        return NULL;
    }

    ts->request = r;
    ts->out.pool = r->pool;

    if (ngx_http_rtagent_test_query(r, "call", &ts->call_id) != NGX_OK)
    {
        ngx_str_set(&ts->call_id, "test-call");
    }

    return ts;
}


/* rtagent_test_tts */

static void ngx_http_rtagent_test_tts_next(ngx_http_rtagent_test_speech_t *ts);


static void
ngx_http_rtagent_test_tts_cleanup(void *data)
{
    ngx_http_rtagent_test_speech_t  *ts = data;

    if (ts->signal_job) {
        ngx_http_rtagent_http_cancel(ts->signal_job);
        ts->signal_job = NULL;
    }

    if (ts->tts.ctx) {
        ts->tts.provider->close(&ts->tts);
    }
}


static void
ngx_http_rtagent_test_tts_signalled(ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_test_speech_t  *ts = job->data;

    ts->signal_job = NULL;
}


static void
ngx_http_rtagent_test_tts_piece_end(ngx_http_rtagent_test_speech_t *ts)
{
    ngx_http_rtagent_test_out_line(&ts->out, "piece %ui: chunks=%ui "
                                   "samples=%uz rate=%ui first_before_end=%s "
                                   "sum=%uL",
                                   ts->piece, ts->chunks, ts->samples,
                                   ts->rate,
                                   ts->first_before_end ? "yes" : "no",
                                   ts->sum);
}


static void
ngx_http_rtagent_test_tts_audio(ngx_http_rtagent_tts_t *tts,
    const int16_t *pcm, size_t samples, ngx_uint_t rate)
{
    ngx_http_rtagent_test_speech_t  *ts = tts->data;

    size_t                        i;
    ngx_str_t                     get = ngx_string("GET");
    ngx_http_rtagent_http_job_t  *sj;

    ts->chunks++;
    ts->samples += samples;
    ts->rate = rate;

    for (i = 0; i < samples; i++) {
        ts->sum += (uint16_t) pcm[i];
    }

    if (ts->chunks == 1 && ts->signal.len) {
        /* the mock holds the rest of the audio until this comes */
        ts->first_before_end = 1;

        sj = ngx_http_rtagent_http_create(
                 ngx_http_rtagent_http_conf(ts->request),
                 ts->request->connection->log, NULL, &get, &ts->signal);
        if (sj) {
            sj->data = ts;
            sj->on_done = ngx_http_rtagent_test_tts_signalled;

            if (ngx_http_rtagent_http_start(sj) != NGX_OK) {
                ngx_http_rtagent_http_cancel(sj);

            } else {
                if (ts->signal_job) {
                    ngx_http_rtagent_http_cancel(ts->signal_job);
                }

                ts->signal_job = sj;
            }
        }
    }

    if (ts->cancel_at && ts->samples >= ts->cancel_at) {
        tts->provider->cancel(tts);
        ngx_http_rtagent_test_tts_piece_end(ts);
        ngx_http_rtagent_test_out_line(&ts->out, "cancelled");

        /* nothing may follow a cancel: wait a little to see */
        ngx_add_timer(&ts->timer.event, 500);
    }
}


static void
ngx_http_rtagent_test_tts_done(ngx_http_rtagent_tts_t *tts,
    ngx_http_rtagent_speech_err_e err, const char *detail)
{
    ngx_http_rtagent_test_speech_t  *ts = tts->data;

    ngx_http_rtagent_test_tts_piece_end(ts);

    if (err == NGX_HTTP_RTAGENT_SPEECH_OK) {
        ngx_http_rtagent_test_out_line(&ts->out, "done: ok");

    } else {
        ngx_http_rtagent_test_out_line(&ts->out, "error: %s: %s",
                                       ngx_http_rtagent_speech_err_name(err),
                                       detail ? detail : "-");
    }

    if (ts->timer.event.timer_set) {
        /* a callback after cancel() */
        ngx_http_rtagent_test_out_line(&ts->out, "CALLBACK AFTER CANCEL");
        return;
    }

    ngx_http_rtagent_test_tts_next(ts);
}


static void
ngx_http_rtagent_test_speech_timer(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t        *t = ev->data;
    ngx_http_rtagent_test_speech_t  *ts = t->data;

    ngx_http_rtagent_test_speech_reply(ts);
}


static void
ngx_http_rtagent_test_tts_cancel(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t        *t = ev->data;
    ngx_http_rtagent_test_speech_t  *ts = t->data;

    ts->tts.provider->cancel(&ts->tts);
    ngx_http_rtagent_test_out_line(&ts->out, "cancelled");

    ts->timer.event.handler = ngx_http_rtagent_test_speech_timer;
    ngx_add_timer(&ts->timer.event, 500);
}


static void
ngx_http_rtagent_test_tts_next(ngx_http_rtagent_test_speech_t *ts)
{
    if (ts->piece == ts->pieces) {
        ngx_http_rtagent_test_speech_reply(ts);
        return;
    }

    ts->piece++;
    ts->chunks = 0;
    ts->samples = 0;
    ts->sum = 0;
    ts->first_before_end = 0;

    if (ts->tts.provider->synth(&ts->tts, &ts->text) != NGX_OK) {
        ngx_http_rtagent_test_out_line(&ts->out, "synth failed");
        ngx_http_rtagent_test_speech_reply(ts);
    }
}


static ngx_int_t
ngx_http_rtagent_test_tts_handler(ngx_http_request_t *r)
{
    ngx_int_t                        n;
    ngx_str_t                        v;
    ngx_pool_cleanup_t              *cln;
    ngx_http_rtagent_loc_conf_t     *lc;
    ngx_http_rtagent_test_speech_t  *ts;

    lc = ngx_http_get_module_loc_conf(r, ngx_http_rtagent_module);

    if (lc->call.tts.provider == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    ts = ngx_http_rtagent_test_speech_ctx(r);
    if (ts == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_rtagent_test_query(r, "text", &ts->text) != NGX_OK) {
        return NGX_HTTP_BAD_REQUEST;
    }

    ts->pieces = 1;

    if (ngx_http_arg(r, (u_char *) "pieces", 6, &v) == NGX_OK) {
        n = ngx_atoi(v.data, v.len);
        ts->pieces = (n > 0) ? (ngx_uint_t) n : 1;
    }

    if (ngx_http_arg(r, (u_char *) "cancel", 6, &v) == NGX_OK) {
        n = ngx_atoi(v.data, v.len);
        ts->cancel_at = (n > 0) ? (size_t) n : 1;
    }

    (void) ngx_http_rtagent_test_query(r, "signal", &ts->signal);
    (void) ngx_http_rtagent_test_query(r, "voice", &ts->tts.voice.voice);
    (void) ngx_http_rtagent_test_query(r, "language",
                                       &ts->tts.voice.language);
    (void) ngx_http_rtagent_test_query(r, "style", &ts->tts.voice.style);

    if (ngx_http_arg(r, (u_char *) "rate", 4, &v) == NGX_OK) {
        n = ngx_atoi(v.data, v.len);
        ts->tts.voice.rate = (n > 0) ? (ngx_uint_t) n : 0;
    }

    ngx_http_rtagent_timer_init(&ts->timer, ngx_http_rtagent_test_speech_timer,
                                ts, r->connection->log);

    ts->tts.pool = r->pool;
    ts->tts.log = r->connection->log;
    ts->tts.call_id = &ts->call_id;
    ts->tts.loc_conf = lc->call.tts.loc_conf;
    ts->tts.on_audio = ngx_http_rtagent_test_tts_audio;
    ts->tts.on_done = ngx_http_rtagent_test_tts_done;
    ts->tts.data = ts;
    ts->tts.provider = lc->call.tts.provider;

    if (ts->tts.provider->open(&ts->tts) != NGX_OK) {
        ts->tts.ctx = NULL;
        ngx_http_rtagent_test_out_line(&ts->out, "open failed");
        r->main->count++;
        ngx_http_rtagent_test_speech_reply(ts);
        return NGX_DONE;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_rtagent_test_tts_cleanup;
    cln->data = ts;

    r->main->count++;

    ngx_http_rtagent_test_tts_next(ts);

    if (!ts->finished
        && ngx_http_arg(r, (u_char *) "cancelafter", 11, &v) == NGX_OK)
    {
        n = ngx_atoi(v.data, v.len);
        ts->timer.event.handler = ngx_http_rtagent_test_tts_cancel;
        ngx_add_timer(&ts->timer.event, n > 0 ? (ngx_msec_t) n : 1);
    }

    return NGX_DONE;
}


/* rtagent_test_stt */

static void
ngx_http_rtagent_test_stt_result(ngx_http_rtagent_stt_t *stt,
    ngx_http_rtagent_stt_result_t *res)
{
    ngx_http_rtagent_test_speech_t  *ts = stt->data;

    if (ts->timer.event.timer_set && ts->cancel_at
        && ts->timer.event.handler == ngx_http_rtagent_test_speech_timer)
    {
        ngx_http_rtagent_test_out_line(&ts->out, "CALLBACK AFTER CANCEL");
        return;
    }

    if (!res->final) {
        ngx_http_rtagent_test_out_line(&ts->out, "partial: %V", &res->text);
        return;
    }

    ngx_http_rtagent_test_out_line(&ts->out, "final: %V confidence=%.2f "
                                   "duration=%M language=%V",
                                   &res->text, res->confidence,
                                   res->duration, &res->language);
    ngx_http_rtagent_test_stt_done(ts);
}


static void
ngx_http_rtagent_test_stt_error(ngx_http_rtagent_stt_t *stt,
    ngx_http_rtagent_speech_err_e err, const char *detail)
{
    ngx_http_rtagent_test_speech_t  *ts = stt->data;

    if (ts->timer.event.timer_set && ts->cancel_at
        && ts->timer.event.handler == ngx_http_rtagent_test_speech_timer)
    {
        ngx_http_rtagent_test_out_line(&ts->out, "CALLBACK AFTER CANCEL");
        return;
    }

    ngx_http_rtagent_test_out_line(&ts->out, "error: %s: %s",
                                   ngx_http_rtagent_speech_err_name(err),
                                   detail ? detail : "-");
    ngx_http_rtagent_test_stt_done(ts);
}


/* a turn ended: the next one a moment later (turns=N), or the reply */

static void
ngx_http_rtagent_test_stt_done(ngx_http_rtagent_test_speech_t *ts)
{
    if (ts->turns == 0) {
        ngx_http_rtagent_test_speech_reply(ts);
        return;
    }

    ts->timer.event.handler = ngx_http_rtagent_test_stt_next;
    ngx_add_timer(&ts->timer.event, 100);
}


static void
ngx_http_rtagent_test_stt_next(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t        *t = ev->data;
    ngx_http_rtagent_test_speech_t  *ts = t->data;

    ts->timer.event.handler = ngx_http_rtagent_test_speech_timer;

    if (ngx_http_rtagent_test_stt_turn(ts) != NGX_OK) {
        ngx_http_rtagent_test_speech_reply(ts);
    }
}


/* one utterance: begin, 20 ms frames as the call session feeds them, finish */

static ngx_int_t
ngx_http_rtagent_test_stt_turn(ngx_http_rtagent_test_speech_t *ts)
{
    size_t                   off, frame;
    ngx_http_rtagent_stt_t  *stt = &ts->stt;

    ts->turns--;

    if (stt->provider->begin(stt) != NGX_OK) {
        ngx_http_rtagent_test_out_line(&ts->out, "begin failed");
        return NGX_ERROR;
    }

    frame = stt->rate / 50 * 2;

    for (off = 0; off < ts->pcm.len; off += frame) {
        if (stt->provider->feed(stt, ts->pcm.data + off,
                                ngx_min(frame, ts->pcm.len - off))
            != NGX_OK)
        {
            ngx_http_rtagent_test_out_line(&ts->out, "feed failed");
            return NGX_ERROR;
        }
    }

    if (stt->provider->finish(stt) != NGX_OK) {
        ngx_http_rtagent_test_out_line(&ts->out, "finish failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_rtagent_test_stt_cleanup(void *data)
{
    ngx_http_rtagent_test_speech_t  *ts = data;

    ts->stt.provider->close(&ts->stt);
}


/* the audio to feed: a raw PCM file, or a tone */

static ngx_int_t
ngx_http_rtagent_test_stt_audio(ngx_http_request_t *r, ngx_uint_t rate,
    ngx_str_t *pcm)
{
    ssize_t          n;
    ngx_int_t        ms;
    ngx_str_t        v;
    ngx_uint_t       i, samples;
    ngx_file_t       file;
    ngx_file_info_t  fi;
    int16_t         *s;

    if (ngx_http_rtagent_test_query(r, "file", &v) == NGX_OK) {
        ngx_memzero(&file, sizeof(ngx_file_t));
        file.name = v;
        file.log = r->connection->log;
        file.fd = ngx_open_file(v.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

        if (file.fd == NGX_INVALID_FILE
            || ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR)
        {
            return NGX_ERROR;
        }

        pcm->len = ngx_file_size(&fi);
        pcm->data = ngx_pnalloc(r->pool, pcm->len);
        n = pcm->data ? ngx_read_file(&file, pcm->data, pcm->len, 0) : -1;
        (void) ngx_close_file(file.fd);

        return (n == (ssize_t) pcm->len) ? NGX_OK : NGX_ERROR;
    }

    ms = 1000;

    if (ngx_http_arg(r, (u_char *) "tone", 4, &v) == NGX_OK) {
        ms = ngx_atoi(v.data, v.len);
        if (ms < 0) {
            return NGX_ERROR;
        }
    }

    samples = rate * ms / 1000;
    pcm->len = samples * 2;
    pcm->data = ngx_pnalloc(r->pool, pcm->len + 1);
    if (pcm->data == NULL) {
        return NGX_ERROR;
    }

    s = (int16_t *) pcm->data;

    for (i = 0; i < samples; i++) {
        s[i] = (int16_t) (8000 * sin(2 * M_PI * 440 * i / rate));
    }

    return NGX_OK;
}


static void
ngx_http_rtagent_test_stt_cancel(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t        *t = ev->data;
    ngx_http_rtagent_test_speech_t  *ts = t->data;

    if (ts->finished) {
        return;
    }

    ts->stt.provider->cancel(&ts->stt);
    ngx_http_rtagent_test_out_line(&ts->out, "cancelled");

    /* nothing may follow: the results say so if anything does */
    ts->timer.event.handler = ngx_http_rtagent_test_speech_timer;
    ngx_add_timer(&ts->timer.event, 1000);
}


static ngx_int_t
ngx_http_rtagent_test_stt_handler(ngx_http_request_t *r)
{
    ngx_int_t                        n;
    ngx_str_t                        v, pcm;
    ngx_pool_cleanup_t              *cln;
    ngx_http_rtagent_stt_t          *stt;
    ngx_http_rtagent_loc_conf_t     *lc;
    ngx_http_rtagent_test_speech_t  *ts;

    lc = ngx_http_get_module_loc_conf(r, ngx_http_rtagent_module);

    if (lc->call.stt.provider == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    ts = ngx_http_rtagent_test_speech_ctx(r);
    if (ts == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    stt = &ts->stt;
    stt->rate = 16000;

    if (ngx_http_arg(r, (u_char *) "rate", 4, &v) == NGX_OK) {
        n = ngx_atoi(v.data, v.len);
        if (n <= 0) {
            return NGX_HTTP_BAD_REQUEST;
        }

        stt->rate = n;
    }

    if (ngx_http_rtagent_test_stt_audio(r, stt->rate, &pcm) != NGX_OK) {
        return NGX_HTTP_BAD_REQUEST;
    }

    if (ngx_http_arg(r, (u_char *) "cancel", 6, &v) == NGX_OK) {
        n = ngx_atoi(v.data, v.len);
        if (n < 0) {
            return NGX_HTTP_BAD_REQUEST;
        }

        /* the delay + 1, so that 0 is "no cancel" */
        ts->cancel_at = n + 1;
    }

    ts->turns = 1;

    if (ngx_http_arg(r, (u_char *) "turns", 5, &v) == NGX_OK) {
        n = ngx_atoi(v.data, v.len);
        if (n <= 0) {
            return NGX_HTTP_BAD_REQUEST;
        }

        ts->turns = n;
    }

    (void) ngx_http_rtagent_test_query(r, "language", &stt->language);

    ngx_http_rtagent_timer_init(&ts->timer, ngx_http_rtagent_test_speech_timer,
                                ts, r->connection->log);

    stt->pool = r->pool;
    stt->log = r->connection->log;
    stt->call_id = &ts->call_id;
    stt->loc_conf = lc->call.stt.loc_conf;
    stt->on_result = ngx_http_rtagent_test_stt_result;
    stt->on_error = ngx_http_rtagent_test_stt_error;
    stt->data = ts;
    stt->provider = lc->call.stt.provider;

    r->main->count++;

    if (stt->provider->open(stt) != NGX_OK) {
        ngx_http_rtagent_test_out_line(&ts->out, "open failed");
        ngx_http_rtagent_test_speech_reply(ts);
        return NGX_DONE;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_http_rtagent_test_speech_reply(ts);
        return NGX_DONE;
    }

    cln->handler = ngx_http_rtagent_test_stt_cleanup;
    cln->data = ts;

    ts->pcm = pcm;

    if (ngx_http_rtagent_test_stt_turn(ts) != NGX_OK) {
        ngx_http_rtagent_test_speech_reply(ts);
        return NGX_DONE;
    }

    if (ts->cancel_at == 1) {
        ngx_http_rtagent_test_stt_cancel(&ts->timer.event);

    } else if (ts->cancel_at) {
        ts->timer.event.handler = ngx_http_rtagent_test_stt_cancel;
        ngx_add_timer(&ts->timer.event, ts->cancel_at - 1);
    }

    return NGX_DONE;
}
