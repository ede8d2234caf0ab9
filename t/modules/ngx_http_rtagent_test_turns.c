
/*
 * Test-only driver for the orchestrator (src/agent): whole conversations
 * as text, no audio.  Never shipped.
 *
 *   rtagent_test_turns;    POST /t?call=ID[&greet=0][&cancel=MS]
 *                          body: a JSON array of the caller's lines
 *       Runs a GREETING turn (unless greet=0), then one CALLER turn per
 *       line (null: a REPROMPT turn, as a silent caller gets), each once
 *       the previous one is done, through the orchestrator responder
 *       (rtagent_engine agents) with the worker's Redis, as the call
 *       session would.  Replies a JSON array, one object per turn:
 *       {"turn", "kind", "said", "reply", "agent" (active after it),
 *       "expect", "after" (listen, transfer, end), "target", "error"}.
 *       Stops after a turn that failed or whose after is not listen (the
 *       call is over).  cancel=MS cancels the last turn MS ms after its
 *       start and replies 1 s later; that turn has "cancelled": true, and
 *       "late": true if any callback came after the cancel (none must).
 *       The reply goes once Redis has answered a PING sent after the last
 *       turn: what the turns wrote there is in place when it arrives.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ngx_http_rtagent_core.h>
#include <json/ngx_http_rtagent_json.h>
#include <io/ngx_http_rtagent_redis.h>
#include <call/ngx_http_rtagent_turn.h>
#include <agent/ngx_http_rtagent_orchestrator.h>

#include "ngx_http_rtagent_test_util.h"


#define NGX_HTTP_RTAGENT_TEST_TURNS_MAX  64


typedef struct {
    ngx_http_request_t            *request;
    ngx_str_t                      call_id;
    ngx_http_rtagent_turn_t        turn;

    yajl_val                       lines;
    ngx_uint_t                     line;        /* the next one */
    ngx_uint_t                     greet;
    ngx_msec_t                     cancel;      /* 0: none */

    ngx_http_rtagent_json_out_t    out;
    u_char                        *reply;       /* this turn's, so far */
    size_t                         reply_len;
    size_t                         reply_size;

    ngx_event_t                    next;
    ngx_http_rtagent_timer_t       timer;
    unsigned                       cancelled:1;
    unsigned                       late:1;
    unsigned                       finished:1;
    unsigned                       pinging:1;
} ngx_http_rtagent_test_turns_t;


static char *ngx_http_rtagent_test_turns(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_rtagent_test_turns_handler(ngx_http_request_t *r);
static void ngx_http_rtagent_test_turns_body(ngx_http_request_t *r);
static void ngx_http_rtagent_test_turns_next(ngx_event_t *ev);
static void ngx_http_rtagent_test_turns_text(ngx_http_rtagent_turn_t *turn,
    ngx_str_t *piece);
static void ngx_http_rtagent_test_turns_done(ngx_http_rtagent_turn_t *turn,
    ngx_int_t rc, const char *err);
static void ngx_http_rtagent_test_turns_cancel(ngx_event_t *ev);
static void ngx_http_rtagent_test_turns_reply(
    ngx_http_rtagent_test_turns_t *tt, ngx_uint_t status, const char *err);
static void ngx_http_rtagent_test_turns_pong(void *data, redisReply *reply);


static ngx_command_t  ngx_http_rtagent_test_turns_commands[] = {

    { ngx_string("rtagent_test_turns"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_rtagent_test_turns,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_rtagent_test_turns_module_ctx = {
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};


ngx_module_t  ngx_http_rtagent_test_turns_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_test_turns_module_ctx, /* module context */
    ngx_http_rtagent_test_turns_commands,  /* module directives */
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
ngx_http_rtagent_test_turns(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_rtagent_test_turns_handler;

    return NGX_CONF_OK;
}


static void
ngx_http_rtagent_test_turns_cleanup(void *data)
{
    ngx_http_rtagent_test_turns_t  *tt = data;

    if (tt->turn.ctx && !tt->finished) {
        tt->turn.responder->cancel(&tt->turn);
    }

    if (tt->next.posted) {
        ngx_delete_posted_event(&tt->next);
    }

    if (tt->timer.event.timer_set) {
        ngx_del_timer(&tt->timer.event);
    }

    if (tt->lines) {
        yajl_tree_free(tt->lines);
    }

    if (tt->out.g) {
        ngx_http_rtagent_json_out_free(&tt->out);
    }

    if (tt->reply) {
        ngx_free(tt->reply);
    }
}


static ngx_int_t
ngx_http_rtagent_test_turns_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_str_t                       v;
    ngx_pool_cleanup_t             *cln;
    ngx_http_rtagent_test_turns_t  *tt;

    if (r->method != NGX_HTTP_POST) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    tt = ngx_pcalloc(r->pool, sizeof(ngx_http_rtagent_test_turns_t));
    if (tt == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tt->request = r;
    tt->greet = 1;

    if (ngx_http_arg(r, (u_char *) "call", 4, &tt->call_id) != NGX_OK) {
        ngx_str_set(&tt->call_id, "test-call");
    }

    if (ngx_http_arg(r, (u_char *) "greet", 5, &v) == NGX_OK
        && v.len == 1 && v.data[0] == '0')
    {
        tt->greet = 0;
    }

    if (ngx_http_arg(r, (u_char *) "cancel", 6, &v) == NGX_OK) {
        tt->cancel = ngx_atoi(v.data, v.len);
        if (tt->cancel == (ngx_msec_t) NGX_ERROR) {
            return NGX_HTTP_BAD_REQUEST;
        }

        tt->cancel = ngx_max(tt->cancel, 1);
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_rtagent_test_turns_cleanup;
    cln->data = tt;

    ngx_http_set_ctx(r, tt, ngx_http_rtagent_test_turns_module);

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_rtagent_test_turns_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_rtagent_test_turns_body(ngx_http_request_t *r)
{
    u_char                         *p;
    size_t                          len;
    ngx_buf_t                      *b;
    ngx_chain_t                    *cl;
    ngx_http_rtagent_turn_t        *turn;
    ngx_http_rtagent_test_turns_t  *tt;
    char                            err[128];

    tt = ngx_http_get_module_ctx(r, ngx_http_rtagent_test_turns_module);

    len = 0;

    if (r->request_body == NULL || r->request_body->temp_file) {
        ngx_http_rtagent_test_turns_reply(tt, NGX_HTTP_BAD_REQUEST,
                                          "the body must be in memory");
        return;
    }

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        ngx_http_rtagent_test_turns_reply(tt, 500, "out of memory");
        return;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len = ngx_cpymem(p + len, b->pos, b->last - b->pos) - p;
    }

    tt->lines = ngx_http_rtagent_json_parse((char *) p, len, 4, 0, err,
                                            sizeof(err));

    if (tt->lines == NULL || !YAJL_IS_ARRAY(tt->lines)
        || tt->lines->u.array.len > NGX_HTTP_RTAGENT_TEST_TURNS_MAX)
    {
        ngx_http_rtagent_test_turns_reply(tt, NGX_HTTP_BAD_REQUEST,
                                          "the body is no JSON array of at "
                                          "most 64 lines");
        return;
    }

    if (ngx_http_rtagent_json_out_init_list(&tt->out) != NGX_OK) {
        ngx_http_rtagent_test_turns_reply(tt, 500, "out of memory");
        return;
    }

    turn = &tt->turn;
    turn->pool = r->pool;
    turn->log = r->connection->log;
    turn->call_id = &tt->call_id;
    turn->on_text = ngx_http_rtagent_test_turns_text;
    turn->on_done = ngx_http_rtagent_test_turns_done;
    turn->data = tt;
    turn->responder = &ngx_http_rtagent_orchestrator;

    tt->next.handler = ngx_http_rtagent_test_turns_next;
    tt->next.data = tt;
    tt->next.log = r->connection->log;

    ngx_http_rtagent_timer_init(&tt->timer,
                                ngx_http_rtagent_test_turns_cancel, tt,
                                r->connection->log);

    ngx_post_event(&tt->next, &ngx_posted_events);
}


/* the next turn, as the call session starts them */

static void
ngx_http_rtagent_test_turns_next(ngx_event_t *ev)
{
    yajl_val                        line;
    ngx_http_rtagent_turn_t        *turn;
    ngx_http_rtagent_test_turns_t  *tt = ev->data;

    turn = &tt->turn;

    ngx_memzero(&turn->transcript, sizeof(ngx_http_rtagent_transcript_t));
    ngx_str_null(&turn->expect);
    ngx_str_null(&turn->target);
    turn->after = NGX_HTTP_RTAGENT_TURN_AFTER_LISTEN;
    turn->heard = NGX_HTTP_RTAGENT_TURN_HEARD_ALL;
    turn->number++;
    tt->reply_len = 0;

    if (tt->greet) {
        tt->greet = 0;
        turn->kind = NGX_HTTP_RTAGENT_TURN_GREETING;

    } else if (tt->line < tt->lines->u.array.len) {
        line = tt->lines->u.array.values[tt->line++];

        if (YAJL_IS_STRING(line)) {
            turn->kind = NGX_HTTP_RTAGENT_TURN_CALLER;
            turn->transcript.text.data = (u_char *) line->u.string;
            turn->transcript.text.len = ngx_strlen(line->u.string);
            turn->transcript.confidence = -1;

        } else {
            turn->kind = NGX_HTTP_RTAGENT_TURN_REPROMPT;
        }

    } else {
        ngx_http_rtagent_test_turns_reply(tt, NGX_HTTP_OK, NULL);
        return;
    }

    if (turn->responder->start(turn) != NGX_OK) {
        ngx_http_rtagent_test_turns_reply(tt, 500, "start failed");
        return;
    }

    if (tt->cancel && tt->line == tt->lines->u.array.len
        && turn->kind != NGX_HTTP_RTAGENT_TURN_GREETING)
    {
        ngx_add_timer(&tt->timer.event, tt->cancel);
    }
}


static void
ngx_http_rtagent_test_turns_text(ngx_http_rtagent_turn_t *turn,
    ngx_str_t *piece)
{
    u_char                         *p;
    size_t                          size;
    ngx_http_rtagent_test_turns_t  *tt = turn->data;

    if (tt->cancelled) {
        tt->late = 1;
        return;
    }

    if (tt->reply_len + piece->len > tt->reply_size) {
        size = ngx_max(tt->reply_size * 2, tt->reply_len + piece->len + 256);

        p = ngx_alloc(size, turn->log);
        if (p == NULL) {
            return;
        }

        if (tt->reply) {
            ngx_memcpy(p, tt->reply, tt->reply_len);
            ngx_free(tt->reply);
        }

        tt->reply = p;
        tt->reply_size = size;
    }

    ngx_memcpy(tt->reply + tt->reply_len, piece->data, piece->len);
    tt->reply_len += piece->len;
}


static void
ngx_http_rtagent_test_turns_record(ngx_http_rtagent_test_turns_t *tt,
    const char *err)
{
    ngx_str_t                   agent;
    ngx_http_rtagent_turn_t    *turn = &tt->turn;
    ngx_http_rtagent_json_out_t  *j = &tt->out;

    static const char  *kinds[] = { "caller", "reprompt", "goodbye",
                                    "greeting" };
    static const char  *afters[] = { "listen", "transfer", "end" };

    if (turn->responder->agent(turn, &agent) != NGX_OK) {
        ngx_str_null(&agent);
    }

    ngx_http_rtagent_json_out_open(j, NULL);
    ngx_http_rtagent_json_out_int(j, "turn", turn->number);
    ngx_http_rtagent_json_out_cstr(j, "kind", kinds[turn->kind]);
    ngx_http_rtagent_json_out_str(j, "said", turn->transcript.text.data,
                                  turn->transcript.text.len);
    ngx_http_rtagent_json_out_str(j, "reply", tt->reply, tt->reply_len);
    ngx_http_rtagent_json_out_str(j, "agent", agent.data, agent.len);
    ngx_http_rtagent_json_out_str(j, "expect", turn->expect.data,
                                  turn->expect.len);
    ngx_http_rtagent_json_out_cstr(j, "after", afters[turn->after]);
    ngx_http_rtagent_json_out_str(j, "target", turn->target.data,
                                  turn->target.len);

    if (err) {
        ngx_http_rtagent_json_out_cstr(j, "error", err);
    }

    if (tt->cancelled) {
        ngx_http_rtagent_json_out_int(j, "cancelled", 1);
        ngx_http_rtagent_json_out_int(j, "late", tt->late);
    }

    ngx_http_rtagent_json_out_close(j);
}


static void
ngx_http_rtagent_test_turns_done(ngx_http_rtagent_turn_t *turn,
    ngx_int_t rc, const char *err)
{
    ngx_http_rtagent_test_turns_t  *tt = turn->data;

    if (tt->cancelled) {
        tt->late = 1;
        return;
    }

    if (tt->timer.event.timer_set) {
        ngx_del_timer(&tt->timer.event);
    }

    ngx_http_rtagent_test_turns_record(tt, rc == NGX_OK ? NULL
                                                        : (err ? err
                                                               : "error"));

    if (rc != NGX_OK || turn->after != NGX_HTTP_RTAGENT_TURN_AFTER_LISTEN) {
        ngx_http_rtagent_test_turns_reply(tt, NGX_HTTP_OK, NULL);
        return;
    }

    ngx_post_event(&tt->next, &ngx_posted_events);
}


/* cancel=MS: the last turn is cut as a barge-in or hang-up would */

static void
ngx_http_rtagent_test_turns_cancel(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t       *t = ev->data;
    ngx_http_rtagent_test_turns_t  *tt = t->data;

    if (!tt->cancelled) {
        tt->turn.responder->cancel(&tt->turn);
        tt->cancelled = 1;
        ngx_add_timer(&tt->timer.event, 1000);
        return;
    }

    ngx_http_rtagent_test_turns_record(tt, NULL);
    ngx_http_rtagent_test_turns_reply(tt, NGX_HTTP_OK, NULL);
}


static void
ngx_http_rtagent_test_turns_reply(ngx_http_rtagent_test_turns_t *tt,
    ngx_uint_t status, const char *err)
{
    ngx_str_t            body;
    ngx_http_request_t  *r;

    static const char   *ping[] = { "PING" };
    static const size_t  ping_len[] = { 4 };

    if (tt->finished) {
        return;
    }

    /* the turns' writes are queued before this PING on one connection */
    if (status == NGX_HTTP_OK && err == NULL && !tt->pinging
        && ngx_http_rtagent_redis_enabled())
    {
        tt->pinging = 1;

        if (ngx_http_rtagent_redis_write(1, ping, ping_len,
                                         ngx_http_rtagent_test_turns_pong,
                                         tt)
            == NGX_OK)
        {
            r = tt->request;
            r->main->count++;
            return;
        }
    }

    tt->finished = 1;
    r = tt->request;

    if (tt->timer.event.timer_set) {
        ngx_del_timer(&tt->timer.event);
    }

    if (err) {
        body.data = (u_char *) err;
        body.len = ngx_strlen(err);

        if (tt->out.g) {
            ngx_http_rtagent_json_out_free(&tt->out);
        }

    } else if (ngx_http_rtagent_json_out_done(&tt->out, r->pool, &body)
               != NGX_OK)
    {
        ngx_str_set(&body, "cannot write the reply");
        status = 500;
    }

    ngx_memzero(&tt->out, sizeof(ngx_http_rtagent_json_out_t));

    ngx_http_rtagent_test_out_send(r, status, "application/json", &body);
}


static void
ngx_http_rtagent_test_turns_pong(void *data, redisReply *reply)
{
    ngx_http_rtagent_test_turns_t  *tt = data;
    ngx_http_request_t             *r;

    r = tt->request;
    r->main->count--;

    ngx_http_rtagent_test_turns_reply(tt, NGX_HTTP_OK, NULL);
}
