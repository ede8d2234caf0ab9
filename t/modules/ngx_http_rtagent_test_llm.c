
/*
 * Test-only driver for the chat-completions client (src/llm): a location
 * that runs one streamed request as the LLM engine would, and answers with
 * what came back.  Never shipped.
 *
 *   rtagent_test_llm;      GET /t?route=R&text=T[&tools=A;B][&call=ID]
 *                          [&cancel=MS]
 *       Sends a system prompt and the user's text T (unescaped) on route
 *       R with the built-in tools named in tools, and replies:
 *       "text: <all deltas>", "deltas: N", "finish: F", one "call: NAME
 *       ID ARGS valid|invalid: WHY" per tool call, "usage: P C",
 *       "endpoint: E failovers: N"; or "error: ERR" and the endpoint
 *       line.  cancel=MS cancels MS ms after the start and replies
 *       "cancelled" 500 ms later (after nothing else, which would say
 *       "callback after cancel").
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <llm/ngx_http_rtagent_llm.h>

#include "ngx_http_rtagent_test_util.h"


typedef struct {
    ngx_http_request_t            *request;
    ngx_str_t                      call_id;
    ngx_str_t                      text;
    ngx_http_rtagent_test_out_t    out;
    ngx_uint_t                     deltas;
    ngx_msec_t                     cancel;
    ngx_http_rtagent_llm_req_t     req;
    ngx_http_rtagent_chat_msg_t    msgs[2];
    ngx_http_rtagent_chat_tool_t   tools[8];
    ngx_http_rtagent_timer_t       timer;
    unsigned                       cancelled:1;
    unsigned                       finished:1;
    unsigned                       running:1;
} ngx_http_rtagent_test_llm_t;


static char *ngx_http_rtagent_test_llm_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_rtagent_test_llm_handler(ngx_http_request_t *r);
static char *ngx_http_rtagent_test_turns_set(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);


static ngx_command_t  ngx_http_rtagent_test_llm_commands[] = {

    { ngx_string("rtagent_test_llm"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_rtagent_test_llm_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rtagent_test_llm_turns"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_rtagent_test_turns_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_rtagent_test_llm_module_ctx = {
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};


ngx_module_t  ngx_http_rtagent_test_llm_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_test_llm_module_ctx, /* module context */
    ngx_http_rtagent_test_llm_commands,    /* module directives */
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
ngx_http_rtagent_test_llm_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_rtagent_test_llm_handler;

    return NGX_CONF_OK;
}


static void
ngx_http_rtagent_test_llm_reply(ngx_http_rtagent_test_llm_t *tl)
{
    if (tl->finished) {
        return;
    }

    tl->finished = 1;

    if (tl->timer.event.timer_set) {
        ngx_del_timer(&tl->timer.event);
    }

    ngx_http_rtagent_test_out_send(tl->request, NGX_HTTP_OK, "text/plain",
                                   &tl->out.text);
}


static void
ngx_http_rtagent_test_llm_text(ngx_http_rtagent_llm_req_t *req,
    const char *p, size_t len)
{
    ngx_http_rtagent_test_llm_t  *tl = req->data;

    u_char  *n;

    if (tl->cancelled) {
        ngx_http_rtagent_test_out_line(&tl->out, "callback after cancel");
        return;
    }

    tl->deltas++;

    n = ngx_pnalloc(tl->request->pool, tl->text.len + len);
    if (n == NULL) {
        return;
    }

    ngx_memcpy(n, tl->text.data, tl->text.len);
    ngx_memcpy(n + tl->text.len, p, len);
    tl->text.data = n;
    tl->text.len += len;
}


static void
ngx_http_rtagent_test_llm_done(ngx_http_rtagent_llm_req_t *req)
{
    ngx_http_rtagent_test_llm_t  *tl = req->data;

    size_t                         i;
    ngx_http_rtagent_chat_call_t  *call;

    tl->running = 0;

    if (tl->cancelled) {
        ngx_http_rtagent_test_out_line(&tl->out, "callback after cancel");
        return;
    }

    if (req->rc != NGX_OK) {
        ngx_http_rtagent_test_out_line(&tl->out, "text: %V", &tl->text);
        ngx_http_rtagent_test_out_line(&tl->out, "error: %s", req->err);

    } else {
        ngx_http_rtagent_test_out_line(&tl->out, "text: %V", &tl->text);
        ngx_http_rtagent_test_out_line(&tl->out, "deltas: %ui", tl->deltas);
        ngx_http_rtagent_test_out_line(&tl->out, "finish: %s",
                       ngx_http_rtagent_chat_finish_name(req->chat.finish));

        for (i = 0; i < req->chat.ncalls; i++) {
            call = &req->chat.calls[i];
            ngx_http_rtagent_test_out_line(&tl->out, "call: %s %s %*s %s%s",
                                           call->name, call->id,
                                           call->args_len,
                                           call->args ? call->args : "",
                                           call->valid ? "valid"
                                                      : "invalid: ",
                                           call->valid ? "" : call->invalid);
        }

        ngx_http_rtagent_test_out_line(&tl->out, "usage: %l %l",
                                       req->chat.prompt_tokens,
                                       req->chat.completion_tokens);
    }

    ngx_http_rtagent_test_out_line(&tl->out, "endpoint: %V failovers: %ui",
                                   &req->endpoint->name, req->failovers);

    ngx_http_rtagent_llm_cancel(req);
    ngx_http_rtagent_test_llm_reply(tl);
}


static void
ngx_http_rtagent_test_llm_timer(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t     *t = ev->data;
    ngx_http_rtagent_test_llm_t  *tl = t->data;

    if (!tl->cancelled) {
        tl->cancelled = 1;
        tl->running = 0;
        ngx_http_rtagent_llm_cancel(&tl->req);
        ngx_add_timer(&tl->timer.event, 500);
        return;
    }

    ngx_http_rtagent_test_out_line(&tl->out, "cancelled");
    ngx_http_rtagent_test_llm_reply(tl);
}


static void
ngx_http_rtagent_test_llm_cleanup(void *data)
{
    ngx_http_rtagent_test_llm_t  *tl = data;

    if (tl->timer.event.timer_set) {
        ngx_del_timer(&tl->timer.event);
    }

    ngx_http_rtagent_llm_cancel(&tl->req);
}


static ngx_int_t
ngx_http_rtagent_test_llm_handler(ngx_http_request_t *r)
{
    u_char                       *p, *last, *semi;
    ngx_int_t                     n;
    ngx_str_t                     v;
    ngx_pool_cleanup_t           *cln;
    ngx_http_rtagent_test_llm_t  *tl;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tl = ngx_pcalloc(r->pool, sizeof(ngx_http_rtagent_test_llm_t));
    if (tl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tl->request = r;
    tl->out.pool = r->pool;

    if (ngx_http_rtagent_test_query(r, "call", &tl->call_id) != NGX_OK) {
        ngx_str_set(&tl->call_id, "test-call");
    }

    if (ngx_http_rtagent_test_query(r, "route", &tl->req.route) != NGX_OK)
    {
        ngx_str_set(&tl->req.route, "default");
    }

    tl->msgs[0].role = NGX_HTTP_RTAGENT_CHAT_SYSTEM;
    tl->msgs[0].content.data = "You are a test.";
    tl->msgs[0].content.len = sizeof("You are a test.") - 1;
    tl->msgs[1].role = NGX_HTTP_RTAGENT_CHAT_USER;

    if (ngx_http_rtagent_test_query(r, "text", &v) != NGX_OK) {
        ngx_str_set(&v, "Hello");
    }

    tl->msgs[1].content.data = (const char *) v.data;
    tl->msgs[1].content.len = v.len;

    tl->req.body.msgs = tl->msgs;
    tl->req.body.nmsgs = 2;

    if (ngx_http_rtagent_test_query(r, "tools", &v) == NGX_OK) {
        p = v.data;
        last = v.data + v.len;

        while (p < last && tl->req.body.ntools < 8) {
            semi = ngx_strlchr(p, last, ';');
            semi = semi ? semi : last;

            if (ngx_http_rtagent_chat_builtin((char *) p, semi - p,
                    &tl->tools[tl->req.body.ntools]) == 0)
            {
                tl->req.body.ntools++;
            }

            p = semi + 1;
        }

        tl->req.body.tools = tl->tools;
    }

    if (ngx_http_arg(r, (u_char *) "cancel", 6, &v) == NGX_OK) {
        n = ngx_atoi(v.data, v.len);
        tl->cancel = (n == NGX_ERROR) ? 0 : (ngx_msec_t) n;
    }

    tl->req.loc_conf = r->loc_conf;
    tl->req.log = r->connection->log;
    tl->req.call_id = &tl->call_id;
    tl->req.on_text = ngx_http_rtagent_test_llm_text;
    tl->req.on_done = ngx_http_rtagent_test_llm_done;
    tl->req.data = tl;

    ngx_http_rtagent_timer_init(&tl->timer, ngx_http_rtagent_test_llm_timer,
                                tl, r->connection->log);

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_rtagent_test_llm_cleanup;
    cln->data = tl;

    r->main->count++;

    if (ngx_http_rtagent_llm_start(&tl->req) != NGX_OK) {
        ngx_http_rtagent_test_out_line(&tl->out, "start failed: %s",
                                       tl->req.err);
        ngx_http_rtagent_test_llm_reply(tl);
        return NGX_DONE;
    }

    tl->running = 1;

    if (tl->cancel) {
        ngx_add_timer(&tl->timer.event, tl->cancel);
    }

    return NGX_DONE;
}


/*
 *   rtagent_test_llm_turns;  POST /t?call=ID[&greet=1][&cancel=K:MS]
 *                            body: the caller's lines, one a line
 *       Runs the LLM responder (rtagent_engine llm) as the call session
 *       would: a GREETING turn when greet=1, then one CALLER turn per
 *       line, each after the previous one's on_done.  Replies one line a
 *       turn: "N KIND: REPLY | after=A target=T | ok" (or "| error:
 *       ERR"), pieces of the reply joined by "~" (so the streaming shows).
 *       cancel=K:MS cancels turn K MS ms after its start ("| cancelled",
 *       "late" if a callback came after) and goes on 300 ms later.  The
 *       reply goes once Redis has answered a PING sent after the last
 *       turn.
 */


#include <io/ngx_http_rtagent_redis.h>
#include <llm/ngx_http_rtagent_llm_responder.h>


typedef struct {
    ngx_http_request_t            *request;
    ngx_str_t                      call_id;
    ngx_http_rtagent_turn_t        turn;
    ngx_str_t                      body;
    u_char                        *pos;         /* the next line */
    ngx_uint_t                     number;
    ngx_uint_t                     cancel_turn;
    ngx_msec_t                     cancel_ms;
    ngx_http_rtagent_test_out_t    out;
    u_char                         reply[8192];
    size_t                         reply_len;
    ngx_http_rtagent_timer_t       timer;
    ngx_event_t                    next;
    unsigned                       cancelled:1;
    unsigned                       finished:1;
    unsigned                       turn_on:1;
} ngx_http_rtagent_test_turns_t;


static void ngx_http_rtagent_test_turns_next(ngx_event_t *ev);


static void
ngx_http_rtagent_test_turns_reply(ngx_http_rtagent_test_turns_t *tt)
{
    if (tt->finished) {
        return;
    }

    tt->finished = 1;

    if (tt->timer.event.timer_set) {
        ngx_del_timer(&tt->timer.event);
    }

    if (tt->next.posted) {
        ngx_delete_posted_event(&tt->next);
    }

    if (tt->next.timer_set) {
        ngx_del_timer(&tt->next);
    }

    ngx_http_rtagent_test_out_send(tt->request, NGX_HTTP_OK, "text/plain",
                                   &tt->out.text);
}


static void
ngx_http_rtagent_test_turns_pinged(void *data, redisReply *reply)
{
    ngx_http_rtagent_test_turns_t  *tt = data;

    ngx_http_rtagent_test_turns_reply(tt);
}


static void
ngx_http_rtagent_test_turns_end(ngx_http_rtagent_test_turns_t *tt)
{
    const char  *argv[1] = { "PING" };
    size_t       argvlen[1] = { 4 };

    if (ngx_http_rtagent_redis_write(1, argv, argvlen,
                                     ngx_http_rtagent_test_turns_pinged, tt)
        != NGX_OK)
    {
        ngx_http_rtagent_test_turns_reply(tt);
    }
}


static void
ngx_http_rtagent_test_turns_line(ngx_http_rtagent_test_turns_t *tt,
    const char *status)
{
    u_char   buf[9000], *p;
    static const char *kinds[] = { "caller", "reprompt", "goodbye",
                                   "greeting" };
    static const char *afters[] = { "listen", "transfer", "end" };

    p = ngx_snprintf(buf, sizeof(buf), "%ui %s: %*s | after=%s target=%V | "
                     "%s\n", tt->turn.number, kinds[tt->turn.kind & 3],
                     tt->reply_len, tt->reply, afters[tt->turn.after % 3],
                     &tt->turn.target, status);
    ngx_http_rtagent_test_out_add(&tt->out, buf, p - buf);
}


static void
ngx_http_rtagent_test_turns_text(ngx_http_rtagent_turn_t *turn,
    ngx_str_t *piece)
{
    ngx_http_rtagent_test_turns_t  *tt = turn->data;

    size_t  n;

    if (tt->cancelled) {
        ngx_http_rtagent_test_out_add(&tt->out, (u_char *) "late\n", 5);
        return;
    }

    if (tt->reply_len && tt->reply_len < sizeof(tt->reply)) {
        tt->reply[tt->reply_len++] = '~';
    }

    n = ngx_min(piece->len, sizeof(tt->reply) - tt->reply_len);
    ngx_memcpy(tt->reply + tt->reply_len, piece->data, n);
    tt->reply_len += n;
}


static void
ngx_http_rtagent_test_turns_done(ngx_http_rtagent_turn_t *turn,
    ngx_int_t rc, const char *err)
{
    u_char                          buf[512];
    ngx_http_rtagent_test_turns_t  *tt = turn->data;

    if (tt->cancelled) {
        ngx_http_rtagent_test_out_add(&tt->out, (u_char *) "late\n", 5);
        return;
    }

    tt->turn_on = 0;

    if (tt->timer.event.timer_set) {
        ngx_del_timer(&tt->timer.event);
    }

    if (rc == NGX_OK) {
        ngx_http_rtagent_test_turns_line(tt, "ok");

    } else {
        *ngx_snprintf(buf, sizeof(buf) - 1, "error: %s",
                      err ? err : "?") = '\0';
        ngx_http_rtagent_test_turns_line(tt, (char *) buf);
    }

    if (rc != NGX_OK || turn->after != NGX_HTTP_RTAGENT_TURN_AFTER_LISTEN) {
        ngx_http_rtagent_test_turns_end(tt);
        return;
    }

    ngx_post_event(&tt->next, &ngx_posted_events);
}


static void
ngx_http_rtagent_test_turns_cancel(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t       *t = ev->data;
    ngx_http_rtagent_test_turns_t  *tt = t->data;

    if (!tt->turn_on) {
        return;
    }

    tt->turn.responder->cancel(&tt->turn);
    tt->turn_on = 0;
    ngx_http_rtagent_test_turns_line(tt, "cancelled");

    /* late callbacks would show until the next turn starts */
    tt->cancelled = 1;
    ngx_add_timer(&tt->next, 300);
}


static void
ngx_http_rtagent_test_turns_next(ngx_event_t *ev)
{
    u_char                         *nl, *end;
    ngx_http_rtagent_test_turns_t  *tt = ev->data;

    tt->cancelled = 0;
    end = tt->body.data + tt->body.len;

    if (tt->number > 0 && tt->pos >= end) {
        ngx_http_rtagent_test_turns_end(tt);
        return;
    }

    tt->turn.number = ++tt->number;
    tt->turn.expect.len = 0;
    tt->turn.after = NGX_HTTP_RTAGENT_TURN_AFTER_LISTEN;
    tt->turn.target.len = 0;
    tt->turn.heard = NGX_HTTP_RTAGENT_TURN_HEARD_ALL;
    tt->reply_len = 0;

    if (tt->turn.kind == NGX_HTTP_RTAGENT_TURN_GREETING && tt->number == 1) {
        /* set by the handler: the greeting first */

    } else {
        nl = ngx_strlchr(tt->pos, end, '\n');
        nl = nl ? nl : end;
        tt->turn.kind = NGX_HTTP_RTAGENT_TURN_CALLER;
        tt->turn.transcript.text.data = tt->pos;
        tt->turn.transcript.text.len = nl - tt->pos;
        tt->pos = (nl < end) ? nl + 1 : end;
    }

    tt->turn_on = 1;

    if (tt->turn.responder->start(&tt->turn) != NGX_OK) {
        tt->turn_on = 0;
        ngx_http_rtagent_test_turns_line(tt, "start failed");
        ngx_http_rtagent_test_turns_end(tt);
        return;
    }

    if (tt->cancel_turn == tt->number) {
        ngx_add_timer(&tt->timer.event, tt->cancel_ms);
    }
}


static void
ngx_http_rtagent_test_turns_cleanup(void *data)
{
    ngx_http_rtagent_test_turns_t  *tt = data;

    if (tt->turn_on) {
        tt->turn.responder->cancel(&tt->turn);
        tt->turn_on = 0;
    }

    if (tt->timer.event.timer_set) {
        ngx_del_timer(&tt->timer.event);
    }

    if (tt->next.timer_set) {
        ngx_del_timer(&tt->next);
    }

    if (tt->next.posted) {
        ngx_delete_posted_event(&tt->next);
    }
}


static void
ngx_http_rtagent_test_turns_body(ngx_http_request_t *r)
{
    u_char                         *p;
    size_t                          len;
    ngx_str_t                       v;
    ngx_chain_t                    *cl;
    ngx_pool_cleanup_t             *cln;
    ngx_http_rtagent_test_turns_t  *tt;

    tt = ngx_pcalloc(r->pool, sizeof(ngx_http_rtagent_test_turns_t));
    if (tt == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    tt->request = r;
    tt->out.pool = r->pool;

    len = 0;

    for (cl = r->request_body ? r->request_body->bufs : NULL; cl;
         cl = cl->next)
    {
        len += ngx_buf_size(cl->buf);
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    tt->body.data = p;

    for (cl = r->request_body ? r->request_body->bufs : NULL; cl;
         cl = cl->next)
    {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    tt->body.len = p - tt->body.data;

    while (tt->body.len && tt->body.data[tt->body.len - 1] == '\n') {
        tt->body.len--;
    }

    tt->pos = tt->body.data;

    if (ngx_http_rtagent_test_query(r, "call", &tt->call_id) != NGX_OK) {
        ngx_str_set(&tt->call_id, "test-call");
    }

    if (ngx_http_arg(r, (u_char *) "cancel", 6, &v) == NGX_OK) {
        p = ngx_strlchr(v.data, v.data + v.len, ':');

        if (p) {
            tt->cancel_turn = ngx_atoi(v.data, p - v.data);
            tt->cancel_ms = ngx_atoi(p + 1, v.data + v.len - p - 1);
        }
    }

    tt->turn.kind = NGX_HTTP_RTAGENT_TURN_CALLER;

    if (ngx_http_arg(r, (u_char *) "greet", 5, &v) == NGX_OK
        && v.len == 1 && v.data[0] == '1')
    {
        tt->turn.kind = NGX_HTTP_RTAGENT_TURN_GREETING;
    }

    tt->turn.pool = r->pool;
    tt->turn.log = r->connection->log;
    tt->turn.call_id = &tt->call_id;
    tt->turn.loc_conf = r->loc_conf;
    tt->turn.on_text = ngx_http_rtagent_test_turns_text;
    tt->turn.on_done = ngx_http_rtagent_test_turns_done;
    tt->turn.data = tt;
    tt->turn.responder = &ngx_http_rtagent_llm_responder;
    tt->turn.transcript.confidence = -1;

    ngx_http_rtagent_timer_init(&tt->timer, ngx_http_rtagent_test_turns_cancel,
                                tt, r->connection->log);
    tt->next.handler = ngx_http_rtagent_test_turns_next;
    tt->next.data = tt;
    tt->next.log = r->connection->log;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln->handler = ngx_http_rtagent_test_turns_cleanup;
    cln->data = tt;

    r->main->count++;
    ngx_http_rtagent_test_turns_next(&tt->next);
    ngx_http_finalize_request(r, NGX_DONE);
}


static ngx_int_t
ngx_http_rtagent_test_turns_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_rtagent_test_turns_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static char *
ngx_http_rtagent_test_turns_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_rtagent_test_turns_handler;

    return NGX_CONF_OK;
}
