
/*
 * The LLM engine's responder (see ngx_http_rtagent_llm_responder.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include <ngx_http_rtagent_core.h>
#include <json/ngx_http_rtagent_json.h>
#include <io/ngx_http_rtagent_redis.h>
#include <agent/ngx_http_rtagent_agent_module.h>
#include <agent/ngx_http_rtagent_tools.h>
#include <llm/ngx_http_rtagent_llm.h>
#include <llm/ngx_http_rtagent_llm_responder.h>
#include <llm/ngx_http_rtagent_shield.h>


/* entries read back from Redis at most (the budget trims further) */
#define NGX_HTTP_RTAGENT_LLM_CONTEXT_READ  200
#define NGX_HTTP_RTAGENT_LLM_CONTEXT_TTL   "3600"
#define NGX_HTTP_RTAGENT_LLM_HANDOFF       "handoff_to_"

#define NGX_HTTP_RTAGENT_LLM_ROLE_CALLER   0
#define NGX_HTTP_RTAGENT_LLM_ROLE_AGENT    1


typedef struct {
    ngx_uint_t                      role;
    ngx_str_t                       agent;
    ngx_str_t                       text;
} ngx_http_rtagent_llm_item_t;


typedef struct ngx_http_rtagent_llm_ctx_s  ngx_http_rtagent_llm_ctx_t;

/* a Redis read under way: outlives a cancelled turn (replies cannot be
 * cancelled), so it is on the heap and forgets the turn on cancel */
typedef struct {
    ngx_http_rtagent_llm_ctx_t     *ctx;
    ngx_uint_t                      waiting;
} ngx_http_rtagent_llm_read_t;


struct ngx_http_rtagent_llm_ctx_s {
    ngx_http_rtagent_turn_t        *turn;
    ngx_http_rtagent_agent_t       *agent;
    ngx_str_t                       summary;     /* of the last handoff */
    ngx_array_t                     history;     /* llm_item_t */
    ngx_http_rtagent_llm_read_t    *read;
    ngx_http_rtagent_http_job_t    *shield;      /* Prompt Shields */

    /* the turn */
    ngx_http_rtagent_llm_req_t      req;
    ngx_array_t                     extra;       /* chat_msg_t: this turn's
                                                  * tool calls, results */
    ngx_array_t                     msgs;        /* chat_msg_t, per round */
    ngx_array_t                     tools;       /* chat_tool_t */
    ngx_str_t                       system;
    ngx_uint_t                      rounds;
    u_char                         *said;        /* handed to the session */
    size_t                          said_len;
    size_t                          said_size;
    ngx_uint_t                      kept;        /* history's said + 1, 0:
                                                  * not remembered yet */
    ngx_http_rtagent_tool_call_t    tcs[NGX_HTTP_RTAGENT_CHAT_CALLS_MAX];
    ngx_http_rtagent_chat_msg_call_t  calls[NGX_HTTP_RTAGENT_CHAT_CALLS_MAX];
    ngx_uint_t                      ncalls;
    ngx_uint_t                      running;     /* tools not done */
    ngx_uint_t                      tc_mask;     /* which of them */
    ngx_http_rtagent_timer_t        filler;
    ngx_event_t                     posted;
    ngx_str_t                       line;        /* said without a model */
    const char                     *posted_err;
    ngx_int_t                       posted_rc;

    unsigned                        loaded:1;
    unsigned                        active:1;
    unsigned                        llm_on:1;
    unsigned                        filler_said:1;
};


static ngx_int_t ngx_http_rtagent_llm_resp_start(ngx_http_rtagent_turn_t *turn);
static void ngx_http_rtagent_llm_resp_cancel(ngx_http_rtagent_turn_t *turn);
static ngx_int_t ngx_http_rtagent_llm_resp_agent(
    ngx_http_rtagent_turn_t *turn, ngx_str_t *name);
static void ngx_http_rtagent_llm_load(ngx_http_rtagent_llm_ctx_t *ctx);
static void ngx_http_rtagent_llm_loaded(void *data, redisReply *reply);
static void ngx_http_rtagent_llm_caller(ngx_http_rtagent_llm_ctx_t *ctx);
static void ngx_http_rtagent_llm_model(ngx_http_rtagent_llm_ctx_t *ctx);
static ngx_int_t ngx_http_rtagent_llm_shield_start(
    ngx_http_rtagent_llm_ctx_t *ctx);
static void ngx_http_rtagent_llm_shield_done(ngx_http_rtagent_http_job_t *job);
static void ngx_http_rtagent_llm_refuse(ngx_http_rtagent_llm_ctx_t *ctx);
static ngx_int_t ngx_http_rtagent_llm_round(ngx_http_rtagent_llm_ctx_t *ctx);
static void ngx_http_rtagent_llm_text(ngx_http_rtagent_llm_req_t *req,
    const char *p, size_t len);
static void ngx_http_rtagent_llm_done(ngx_http_rtagent_llm_req_t *req);
static void ngx_http_rtagent_llm_tools_run(ngx_http_rtagent_llm_ctx_t *ctx);
static void ngx_http_rtagent_llm_tool_done(ngx_http_rtagent_tool_call_t *tc);
static void ngx_http_rtagent_llm_tools_done(ngx_http_rtagent_llm_ctx_t *ctx);
static void ngx_http_rtagent_llm_filler(ngx_event_t *ev);
static void ngx_http_rtagent_llm_say(ngx_http_rtagent_llm_ctx_t *ctx,
    u_char *p, size_t len);
static void ngx_http_rtagent_llm_end(ngx_http_rtagent_llm_ctx_t *ctx,
    ngx_int_t rc, const char *err);
static void ngx_http_rtagent_llm_end_posted(ngx_event_t *ev);
static void ngx_http_rtagent_llm_post(ngx_http_rtagent_llm_ctx_t *ctx,
    ngx_int_t rc, const char *err);
static ngx_int_t ngx_http_rtagent_llm_remember(ngx_http_rtagent_llm_ctx_t *ctx,
    ngx_uint_t role, u_char *p, size_t len);
static void ngx_http_rtagent_llm_remember_said(ngx_http_rtagent_llm_ctx_t *ctx,
    size_t len);
static void ngx_http_rtagent_llm_unsay(ngx_http_rtagent_llm_ctx_t *ctx,
    size_t heard);
static ngx_int_t ngx_http_rtagent_llm_entry(ngx_http_rtagent_llm_ctx_t *ctx,
    ngx_uint_t role, u_char *p, size_t len, ngx_str_t *json);
static ngx_int_t ngx_http_rtagent_llm_tools_of(ngx_http_rtagent_llm_ctx_t *ctx);
static ngx_str_t *ngx_http_rtagent_llm_key(ngx_http_rtagent_llm_ctx_t *ctx,
    const char *suffix);


const ngx_http_rtagent_responder_t  ngx_http_rtagent_llm_responder = {
    ngx_string("llm"),
    ngx_http_rtagent_llm_resp_start,
    ngx_http_rtagent_llm_resp_cancel,
    ngx_http_rtagent_llm_resp_agent,
    1
};


static ngx_int_t
ngx_http_rtagent_llm_resp_start(ngx_http_rtagent_turn_t *turn)
{
    ngx_http_rtagent_llm_ctx_t  *ctx;

    ctx = turn->ctx;

    if (ctx == NULL) {
        ctx = ngx_pcalloc(turn->pool, sizeof(ngx_http_rtagent_llm_ctx_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        if (ngx_array_init(&ctx->history, turn->pool, 16,
                           sizeof(ngx_http_rtagent_llm_item_t)) != NGX_OK)
        {
            return NGX_ERROR;
        }

        ctx->turn = turn;
        ctx->agent = ngx_http_rtagent_agent_entry((ngx_cycle_t *) ngx_cycle);

        if (ctx->agent == NULL) {
            ngx_log_error(NGX_LOG_ERR, turn->log, 0,
                          "rtagent llm: no agents (rtagent_agents, "
                          "rtagent_entry_agent), call: %V", turn->call_id);
            return NGX_ERROR;
        }

        ngx_http_rtagent_timer_init(&ctx->filler,
                                    ngx_http_rtagent_llm_filler, ctx,
                                    turn->log);
        ctx->posted.handler = ngx_http_rtagent_llm_end_posted;
        ctx->posted.data = ctx;
        ctx->posted.log = turn->log;

        turn->ctx = ctx;
    }

    ctx->active = 1;
    ctx->rounds = 0;
    ctx->said_len = 0;
    ctx->kept = 0;
    ctx->filler_said = 0;
    ctx->ncalls = 0;
    ctx->running = 0;

    if (ngx_array_init(&ctx->extra, turn->pool, 4,
                       sizeof(ngx_http_rtagent_chat_msg_t)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a line without the model: said from a posted event, as every
     * callback (none from inside start()) */
    ctx->line.len = 0;

    switch (turn->kind) {

    case NGX_HTTP_RTAGENT_TURN_GREETING:
        ctx->line.data = ctx->agent->def->greeting.data;
        ctx->line.len = ctx->agent->def->greeting.len;
        ngx_http_rtagent_llm_post(ctx, NGX_OK, NULL);
        return NGX_OK;

    case NGX_HTTP_RTAGENT_TURN_REPROMPT:
        ngx_str_set(&ctx->line, "Are you still there?");
        ngx_http_rtagent_llm_post(ctx, NGX_OK, NULL);
        return NGX_OK;

    case NGX_HTTP_RTAGENT_TURN_GOODBYE:
        ngx_str_set(&ctx->line, "I cannot hear you. Goodbye.");
        turn->after = NGX_HTTP_RTAGENT_TURN_AFTER_END;
        ngx_http_rtagent_llm_post(ctx, NGX_OK, NULL);
        return NGX_OK;

    default:
        break;
    }

    if (!ctx->loaded && ngx_http_rtagent_redis_enabled()) {
        ngx_http_rtagent_llm_load(ctx);
        return (ctx->read || ctx->posted.posted) ? NGX_OK : NGX_ERROR;
    }

    ctx->loaded = 1;

    /* from a posted event: no callback from inside start() */
    ctx->posted_rc = NGX_AGAIN;
    ngx_post_event(&ctx->posted, &ngx_posted_events);

    return NGX_OK;
}


static void
ngx_http_rtagent_llm_resp_cancel(ngx_http_rtagent_turn_t *turn)
{
    ngx_uint_t                   i;
    ngx_http_rtagent_llm_ctx_t  *ctx = turn->ctx;

    if (ctx == NULL) {
        return;
    }

    if (!ctx->active) {
        /* done, and cut while it was being said */
        if (turn->heard != NGX_HTTP_RTAGENT_TURN_HEARD_ALL) {
            ngx_http_rtagent_llm_unsay(ctx, turn->heard);
        }

        return;
    }

    ctx->active = 0;

    if (ctx->read) {
        ctx->read->ctx = NULL;
        ctx->read = NULL;
    }

    if (ctx->shield) {
        ngx_http_rtagent_http_cancel(ctx->shield);
        ctx->shield = NULL;
    }

    if (ctx->llm_on) {
        ngx_http_rtagent_llm_cancel(&ctx->req);
        ctx->llm_on = 0;
    }

    for (i = 0; i < ctx->ncalls; i++) {
        if (ctx->tc_mask & ((ngx_uint_t) 1 << i)) {
            ngx_http_rtagent_tool_cancel(&ctx->tcs[i]);
        }
    }

    ctx->tc_mask = 0;
    ctx->running = 0;

    if (ctx->filler.event.timer_set) {
        ngx_del_timer(&ctx->filler.event);
    }

    if (ctx->posted.posted) {
        ngx_delete_posted_event(&ctx->posted);
    }

    /* the context keeps what had been handed on of the reply, or what
     * the caller heard of it when they cut it */
    ngx_http_rtagent_llm_remember_said(ctx, ngx_min(ctx->said_len,
                                                    turn->heard));
}


/* the active agent: the entry agent, the call hash's, or a handoff's */

static ngx_int_t
ngx_http_rtagent_llm_resp_agent(ngx_http_rtagent_turn_t *turn,
    ngx_str_t *name)
{
    ngx_http_rtagent_llm_ctx_t  *ctx = turn->ctx;

    if (ctx == NULL || ctx->agent == NULL) {
        return NGX_DECLINED;
    }

    *name = ctx->agent->name;

    return NGX_OK;
}


static ngx_str_t *
ngx_http_rtagent_llm_key(ngx_http_rtagent_llm_ctx_t *ctx, const char *suffix)
{
    ngx_str_t  *key;

    key = ngx_palloc(ctx->turn->pool, sizeof(ngx_str_t));
    if (key == NULL) {
        return NULL;
    }

    key->len = sizeof("rtagent:call:{}") - 1 + ctx->turn->call_id->len
               + ngx_strlen(suffix);
    key->data = ngx_pnalloc(ctx->turn->pool, key->len);
    if (key->data == NULL) {
        return NULL;
    }

    ngx_sprintf(key->data, "rtagent:call:{%V}%s", ctx->turn->call_id, suffix);

    return key;
}


/* the first turn of the call in this worker: its context and agent */

static void
ngx_http_rtagent_llm_load(ngx_http_rtagent_llm_ctx_t *ctx)
{
    ngx_str_t                    *ctxkey, *hkey;
    const char                   *argv[4];
    size_t                        argvlen[4];
    ngx_http_rtagent_llm_read_t  *rd;

    ctxkey = ngx_http_rtagent_llm_key(ctx, ":context");
    hkey = ngx_http_rtagent_llm_key(ctx, "");

    if (ctxkey == NULL || hkey == NULL) {
        return;
    }

    rd = ngx_alloc(sizeof(ngx_http_rtagent_llm_read_t), ctx->turn->log);
    if (rd == NULL) {
        return;
    }

    rd->ctx = ctx;
    rd->waiting = 0;

    argv[0] = "LRANGE";
    argvlen[0] = 6;
    argv[1] = (char *) ctxkey->data;
    argvlen[1] = ctxkey->len;
    argv[2] = "-" ngx_value(NGX_HTTP_RTAGENT_LLM_CONTEXT_READ);
    argvlen[2] = ngx_strlen(argv[2]);
    argv[3] = "-1";
    argvlen[3] = 2;

    if (ngx_http_rtagent_redis_write(4, argv, argvlen,
                                     ngx_http_rtagent_llm_loaded, rd)
        == NGX_OK)
    {
        rd->waiting++;
    }

    argv[0] = "HGET";
    argvlen[0] = 4;
    argv[1] = (char *) hkey->data;
    argvlen[1] = hkey->len;
    argv[2] = "agent";
    argvlen[2] = 5;

    if (ngx_http_rtagent_redis_write(3, argv, argvlen,
                                     ngx_http_rtagent_llm_loaded, rd)
        == NGX_OK)
    {
        rd->waiting++;
    }

    if (rd->waiting == 0) {
        ngx_free(rd);
        ctx->loaded = 1;
        ctx->posted_rc = NGX_AGAIN;
        ngx_post_event(&ctx->posted, &ngx_posted_events);

        /* nothing to wait for: go on without the stored context */
        ctx->read = NULL;
        return;
    }

    ctx->read = rd;
}


static void
ngx_http_rtagent_llm_loaded(void *data, redisReply *reply)
{
    ngx_http_rtagent_llm_read_t *rd = data;

    size_t                        i;
    yajl_val                      v;
    ngx_str_t                     name;
    const char                   *role, *agent, *text;
    ngx_http_rtagent_llm_ctx_t   *ctx;
    ngx_http_rtagent_llm_item_t  *it;
    ngx_http_rtagent_agent_t     *a;

    ctx = rd->ctx;

    if (ctx != NULL && reply != NULL) {

        if (reply->type == REDIS_REPLY_STRING) {
            /* HGET agent: the active agent of a call resumed here */
            name.data = (u_char *) reply->str;
            name.len = reply->len;
            a = ngx_http_rtagent_agent_find((ngx_cycle_t *) ngx_cycle, &name);

            if (a != NULL) {
                ctx->agent = a;
            }

        } else if (reply->type == REDIS_REPLY_ARRAY) {
            /* the list has what this worker wrote before too (a greeting) */
            ctx->history.nelts = 0;

            for (i = 0; i < reply->elements; i++) {
                if (reply->element[i]->type != REDIS_REPLY_STRING) {
                    continue;
                }

                v = ngx_http_rtagent_json_parse(reply->element[i]->str,
                                                reply->element[i]->len, 4,
                                                NGX_HTTP_RTAGENT_JSON_TERSE,
                                                NULL, 0);
                if (v == NULL) {
                    continue;
                }

                role = ngx_http_rtagent_json_str(v, "role", NULL);
                agent = ngx_http_rtagent_json_str(v, "agent", NULL);
                text = ngx_http_rtagent_json_str(v, "text", NULL);

                if (role && text && text[0]) {
                    it = ngx_array_push(&ctx->history);

                    if (it != NULL) {
                        it->role = ngx_strcmp(role, "caller") == 0
                                   ? NGX_HTTP_RTAGENT_LLM_ROLE_CALLER
                                   : NGX_HTTP_RTAGENT_LLM_ROLE_AGENT;
                        name.data = (u_char *) text;
                        name.len = ngx_strlen(text);
                        it->text.len = name.len;
                        it->text.data = ngx_pstrdup(ctx->turn->pool, &name);

                        name.data = (u_char *) (agent ? agent : "");
                        name.len = ngx_strlen(name.data);
                        it->agent.len = name.len;
                        it->agent.data = ngx_pstrdup(ctx->turn->pool, &name);

                        if (it->text.data == NULL || it->agent.data == NULL)
                        {
                            ctx->history.nelts--;
                        }
                    }
                }

                yajl_tree_free(v);
            }
        }
    }

    if (--rd->waiting) {
        return;
    }

    ngx_free(rd);

    if (ctx == NULL) {
        return;
    }

    ctx->read = NULL;
    ctx->loaded = 1;

    ngx_http_rtagent_llm_caller(ctx);
}


/*
 * The caller's turn, the context at hand: first past Prompt Shields when
 * configured.  An attack (or a failing service with fail=closed) is
 * refused without the model, and the words stay out of the context.
 */

static void
ngx_http_rtagent_llm_caller(ngx_http_rtagent_llm_ctx_t *ctx)
{
    ngx_http_rtagent_llm_conf_t  *lcf;

    lcf = ngx_http_rtagent_llm_conf(ctx->turn->loc_conf);

    if (lcf->shield_url.len && ctx->turn->transcript.text.len) {

        if (ngx_http_rtagent_llm_shield_start(ctx) == NGX_OK) {
            return;
        }

        ngx_log_error(NGX_LOG_ERR, ctx->turn->log, 0,
                      "rtagent llm: prompt shield failed (the request "
                      "could not start), failing %s, call: %V",
                      lcf->shield_open ? "open" : "closed",
                      ctx->turn->call_id);

        if (!lcf->shield_open) {
            ngx_http_rtagent_llm_refuse(ctx);
            return;
        }
    }

    ngx_http_rtagent_llm_model(ctx);
}


static ngx_int_t
ngx_http_rtagent_llm_shield_start(ngx_http_rtagent_llm_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_str_t                     body, method, name, value;
    ngx_http_rtagent_turn_t      *turn = ctx->turn;
    ngx_http_rtagent_llm_conf_t  *lcf;
    ngx_http_rtagent_json_out_t   j;
    ngx_http_rtagent_http_job_t  *job;

    lcf = ngx_http_rtagent_llm_conf(turn->loc_conf);

    ngx_str_set(&method, "POST");

    job = ngx_http_rtagent_http_create(
              turn->loc_conf[ngx_http_rtagent_http_module.ctx_index],
              turn->log, turn->call_id, &method, &lcf->shield_url);
    if (job == NULL) {
        return NGX_ERROR;
    }

    /* a verdict late is no verdict: fail= decides, not a retry */
    job->retries = 0;
    job->timeout = lcf->shield_timeout;
    job->connect_timeout = ngx_min(job->connect_timeout, lcf->shield_timeout);

    if (ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        ngx_http_rtagent_http_cancel(job);
        return NGX_ERROR;
    }

    if (ngx_http_rtagent_shield_request(j.g,
                                   (char *) turn->transcript.text.data,
                                   turn->transcript.text.len) != 0)
    {
        j.failed = 1;
    }

    rc = ngx_http_rtagent_json_out_get(&j, &body);

    if (rc == NGX_OK) {
        rc = ngx_http_rtagent_http_set_body(job, body.data, body.len);
    }

    ngx_http_rtagent_json_out_free(&j);

    ngx_str_set(&name, "Content-Type");
    ngx_str_set(&value, "application/json");
    rc |= ngx_http_rtagent_http_add_header(job, &name, &value);

    ngx_str_set(&name, "Ocp-Apim-Subscription-Key");
    rc |= ngx_http_rtagent_http_add_header(job, &name, &lcf->shield_key);

    if (rc != NGX_OK) {
        ngx_http_rtagent_http_cancel(job);
        return NGX_ERROR;
    }

    job->data = ctx;
    job->on_done = ngx_http_rtagent_llm_shield_done;

    if (ngx_http_rtagent_http_start(job) != NGX_OK) {
        /* logged; the job is freed */
        return NGX_ERROR;
    }

    ctx->shield = job;

    return NGX_OK;
}


static void
ngx_http_rtagent_llm_shield_done(ngx_http_rtagent_http_job_t *job)
{
    int                           v;
    char                          err[128], why[160];
    ngx_http_rtagent_llm_ctx_t   *ctx = job->data;
    ngx_http_rtagent_llm_conf_t  *lcf;

    ctx->shield = NULL;

    if (!ctx->active) {
        return;
    }

    lcf = ngx_http_rtagent_llm_conf(ctx->turn->loc_conf);
    v = NGX_HTTP_RTAGENT_SHIELD_INVALID;

    if (job->rc != NGX_OK) {
        ngx_snprintf((u_char *) why, sizeof(why) - 1, "%s%Z",
                     job->timedout ? "timed out"
                     : job->error ? job->error : "no response");

    } else if (job->status < 200 || job->status >= 300) {
        ngx_snprintf((u_char *) why, sizeof(why) - 1, "HTTP %ui%Z",
                     job->status);

    } else {
        v = ngx_http_rtagent_shield_parse((char *) job->body.data,
                                          job->body.len, err, sizeof(err));
        ngx_snprintf((u_char *) why, sizeof(why) - 1, "%s%Z", err);
    }

    if (v == NGX_HTTP_RTAGENT_SHIELD_CLEAN) {
        ngx_http_rtagent_llm_model(ctx);
        return;
    }

    if (v == NGX_HTTP_RTAGENT_SHIELD_ATTACK) {
        ngx_log_error(NGX_LOG_WARN, ctx->turn->log, 0,
                      "rtagent llm: prompt shield: an attack in the "
                      "caller's words, refused without the model (agent "
                      "%V), call: %V", &ctx->agent->name,
                      ctx->turn->call_id);
        ngx_http_rtagent_llm_refuse(ctx);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, ctx->turn->log, 0,
                  "rtagent llm: prompt shield failed (%s), failing %s, "
                  "call: %V", why, lcf->shield_open ? "open" : "closed",
                  ctx->turn->call_id);

    if (lcf->shield_open) {
        ngx_http_rtagent_llm_model(ctx);
        return;
    }

    ngx_http_rtagent_llm_refuse(ctx);
}


/* the refusal is said and the turn ends well: the call goes on */

static void
ngx_http_rtagent_llm_refuse(ngx_http_rtagent_llm_ctx_t *ctx)
{
    ngx_http_rtagent_llm_conf_t  *lcf;

    lcf = ngx_http_rtagent_llm_conf(ctx->turn->loc_conf);

    ngx_http_rtagent_llm_say(ctx, lcf->shield_refusal.data,
                             lcf->shield_refusal.len);

    /* on_text may have cancelled the turn */
    if (!ctx->active) {
        return;
    }

    ctx->active = 0;
    ctx->turn->on_done(ctx->turn, NGX_OK, NULL);
}


static void
ngx_http_rtagent_llm_model(ngx_http_rtagent_llm_ctx_t *ctx)
{
    ngx_http_rtagent_turn_t  *turn = ctx->turn;

    if (ngx_http_rtagent_llm_remember(ctx, NGX_HTTP_RTAGENT_LLM_ROLE_CALLER,
                                      turn->transcript.text.data,
                                      turn->transcript.text.len)
        != NGX_OK
        || ngx_http_rtagent_llm_round(ctx) != NGX_OK)
    {
        ngx_http_rtagent_llm_end(ctx, NGX_ERROR, ctx->req.err
                                 ? ctx->req.err : "the model request failed");
    }
}


/*
 * An entry of the conversation: in this worker's history, and appended
 * to the Redis list (trimmed to the agent's context_turns, 1 h TTL).
 */

static ngx_int_t
ngx_http_rtagent_llm_remember(ngx_http_rtagent_llm_ctx_t *ctx,
    ngx_uint_t role, u_char *p, size_t len)
{
    u_char                       buf[NGX_INT_T_LEN + 2];
    ngx_str_t                    json, *key;
    const char                  *argv[4];
    size_t                       argvlen[4];
    ngx_http_rtagent_llm_item_t *it;

    if (len == 0) {
        return NGX_OK;
    }

    it = ngx_array_push(&ctx->history);
    if (it == NULL) {
        return NGX_ERROR;
    }

    it->role = role;
    it->agent = ctx->agent->name;
    it->text.len = len;
    it->text.data = ngx_pnalloc(ctx->turn->pool, len);

    if (it->text.data == NULL) {
        ctx->history.nelts--;
        return NGX_ERROR;
    }

    ngx_memcpy(it->text.data, p, len);

    if (!ngx_http_rtagent_redis_enabled()) {
        return NGX_OK;
    }

    key = ngx_http_rtagent_llm_key(ctx, ":context");

    if (key == NULL
        || ngx_http_rtagent_llm_entry(ctx, role, p, len, &json) != NGX_OK)
    {
        /* not UTF-8: kept here, not stored */
        return NGX_OK;
    }

    argv[0] = "RPUSH";
    argvlen[0] = 5;
    argv[1] = (char *) key->data;
    argvlen[1] = key->len;
    argv[2] = (char *) json.data;
    argvlen[2] = json.len;
    (void) ngx_http_rtagent_redis_write(3, argv, argvlen, NULL, NULL);

    argv[0] = "LTRIM";
    argvlen[0] = 5;
    argv[2] = (char *) buf;
    argvlen[2] = ngx_sprintf(buf, "-%l",
                             ngx_max(ctx->agent->def->memory.context_turns, 1)
                             * 2) - buf;
    argv[3] = "-1";
    argvlen[3] = 2;
    (void) ngx_http_rtagent_redis_write(4, argv, argvlen, NULL, NULL);

    argv[0] = "EXPIRE";
    argvlen[0] = 6;
    argv[2] = NGX_HTTP_RTAGENT_LLM_CONTEXT_TTL;
    argvlen[2] = sizeof(NGX_HTTP_RTAGENT_LLM_CONTEXT_TTL) - 1;
    (void) ngx_http_rtagent_redis_write(3, argv, argvlen, NULL, NULL);

    return NGX_OK;
}


/* an entry of the Redis list */

static ngx_int_t
ngx_http_rtagent_llm_entry(ngx_http_rtagent_llm_ctx_t *ctx, ngx_uint_t role,
    u_char *p, size_t len, ngx_str_t *json)
{
    ngx_http_rtagent_json_out_t  j;

    if (ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_rtagent_json_out_str(&j, "agent", ctx->agent->name.data,
                                  ctx->agent->name.len);
    ngx_http_rtagent_json_out_cstr(&j, "role",
                                   role == NGX_HTTP_RTAGENT_LLM_ROLE_CALLER
                                   ? "caller" : "agent");
    ngx_http_rtagent_json_out_str(&j, "text", p, len);

    return ngx_http_rtagent_json_out_done(&j, ctx->turn->pool, json);
}


/* len bytes of what the agent said in this turn into the context */

static void
ngx_http_rtagent_llm_remember_said(ngx_http_rtagent_llm_ctx_t *ctx,
    size_t len)
{
    ngx_uint_t  n;

    n = ctx->history.nelts;

    (void) ngx_http_rtagent_llm_remember(ctx, NGX_HTTP_RTAGENT_LLM_ROLE_AGENT,
                                         ctx->said, len);

    if (ctx->history.nelts > n) {
        ctx->kept = ctx->history.nelts;
    }
}


/*
 * A reply remembered whole as it was all generated, then cut by the
 * caller while it was being said: its entry (the last, here and in the
 * Redis list) keeps the heard bytes, or goes when none were heard
 */

static void
ngx_http_rtagent_llm_unsay(ngx_http_rtagent_llm_ctx_t *ctx, size_t heard)
{
    ngx_str_t                     json, *key;
    const char                   *argv[4];
    size_t                        argvlen[4];
    ngx_http_rtagent_llm_item_t  *it;

    if (ctx->kept == 0 || ctx->kept != ctx->history.nelts) {
        return;
    }

    it = (ngx_http_rtagent_llm_item_t *) ctx->history.elts + ctx->kept - 1;
    ctx->kept = 0;

    if (heard >= it->text.len) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, ctx->turn->log, 0,
                  "rtagent llm: the context keeps %uz of the reply's %uz "
                  "bytes, the caller heard no more, call:%V", heard,
                  it->text.len, ctx->turn->call_id);

    if (heard == 0) {
        ctx->history.nelts--;

    } else {
        it->text.len = heard;
    }

    if (!ngx_http_rtagent_redis_enabled()) {
        return;
    }

    key = ngx_http_rtagent_llm_key(ctx, ":context");
    if (key == NULL) {
        return;
    }

    argv[1] = (char *) key->data;
    argvlen[1] = key->len;

    if (heard == 0) {
        argv[0] = "RPOP";
        argvlen[0] = 4;
        (void) ngx_http_rtagent_redis_write(2, argv, argvlen, NULL, NULL);
        return;
    }

    if (ngx_http_rtagent_llm_entry(ctx, NGX_HTTP_RTAGENT_LLM_ROLE_AGENT,
                                   it->text.data, heard, &json)
        != NGX_OK)
    {
        return;
    }

    argv[0] = "LSET";
    argvlen[0] = 4;
    argv[2] = "-1";
    argvlen[2] = 2;
    argv[3] = (char *) json.data;
    argvlen[3] = json.len;
    (void) ngx_http_rtagent_redis_write(4, argv, argvlen, NULL, NULL);
}


/*
 * The agent's tools as function tools: built-ins with their schema,
 * definitions (of any agent) with their description and arguments, and a
 * handoff_to_<agent> for each handoff.
 */

static ngx_int_t
ngx_http_rtagent_llm_tools_of(ngx_http_rtagent_llm_ctx_t *ctx)
{
    size_t                              i, k, n;
    u_char                             *p;
    ngx_array_t                        *agents;
    ngx_http_rtagent_agent_t           *all;
    ngx_http_rtagent_agent_def_t       *def, *hd;
    const ngx_http_rtagent_tool_def_t  *td;
    ngx_http_rtagent_chat_tool_t       *t;
    ngx_http_rtagent_chat_str_t        *args;
    static ngx_http_rtagent_chat_str_t  summary = { 7, "summary" };

    def = ctx->agent->def;
    agents = ngx_http_rtagent_agents((ngx_cycle_t *) ngx_cycle);
    all = agents ? agents->elts : NULL;
    n = agents ? agents->nelts : 0;

    if (ngx_array_init(&ctx->tools, ctx->turn->pool,
                       def->ntools + def->handoffs.nelts + 1,
                       sizeof(ngx_http_rtagent_chat_tool_t)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < def->ntools; i++) {
        t = ngx_array_push(&ctx->tools);
        if (t == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_rtagent_chat_builtin((char *) def->tools[i].name.data,
                                          def->tools[i].name.len, t) == 0)
        {
            continue;
        }

        /* a definition here, or in another agent's file */
        td = def->tools[i].defined ? &def->tools[i] : NULL;

        for (k = 0; td == NULL && k < n; k++) {
            td = ngx_http_rtagent_agent_def_tool(&all[k].def, 1,
                                                 def->tools[i].name.data,
                                                 def->tools[i].name.len);
        }

        if (td == NULL) {
            ctx->tools.nelts--;
            continue;
        }

        t->name.data = (char *) td->name.data;
        t->name.len = td->name.len;
        t->description.data = (char *) td->description.data;
        t->description.len = td->description.len;

        args = ngx_palloc(ctx->turn->pool, (td->arguments.nelts + 1)
                                           * sizeof(*args));
        if (args == NULL) {
            return NGX_ERROR;
        }

        for (k = 0; k < td->arguments.nelts; k++) {
            args[k].data = (char *) td->arguments.elts[k].data;
            args[k].len = td->arguments.elts[k].len;
        }

        t->args = args;
        t->nargs = td->arguments.nelts;
    }

    for (i = 0; i < def->handoffs.nelts; i++) {
        t = ngx_array_push(&ctx->tools);
        if (t == NULL) {
            return NGX_ERROR;
        }

        k = sizeof(NGX_HTTP_RTAGENT_LLM_HANDOFF) - 1
            + def->handoffs.elts[i].len;
        p = ngx_pnalloc(ctx->turn->pool, k + 256);
        if (p == NULL) {
            return NGX_ERROR;
        }

        t->name.data = (char *) p;
        t->name.len = ngx_sprintf(p, NGX_HTTP_RTAGENT_LLM_HANDOFF "%*s",
                                  def->handoffs.elts[i].len,
                                  def->handoffs.elts[i].data) - p;

        hd = NULL;

        for (k = 0; k < n; k++) {
            if (all[k].name.len == def->handoffs.elts[i].len
                && ngx_strncmp(all[k].name.data, def->handoffs.elts[i].data,
                               all[k].name.len) == 0)
            {
                hd = all[k].def;
            }
        }

        p += t->name.len;
        t->description.data = (char *) p;
        t->description.len = ngx_snprintf(p, 256, "Hand the caller over to "
                                          "the %*s agent%s%*s",
                                          def->handoffs.elts[i].len,
                                          def->handoffs.elts[i].data,
                                          hd && hd->description.len
                                          ? ": " : ".",
                                          hd ? hd->description.len : 0,
                                          hd ? hd->description.data
                                             : (u_char *) "")
                             - p;
        t->args = &summary;
        t->nargs = 1;
    }

    return NGX_OK;
}


/* one request of the model: system, the context in budget, this turn's
 * tool calls and results */

static ngx_int_t
ngx_http_rtagent_llm_round(ngx_http_rtagent_llm_ctx_t *ctx)
{
    size_t                         budget, used, cost, max, tools;
    ngx_uint_t                     i, first, n;
    ngx_str_t                      route;
    ngx_http_rtagent_turn_t       *turn = ctx->turn;
    ngx_http_rtagent_llm_conf_t   *lcf;
    ngx_http_rtagent_llm_item_t   *items;
    ngx_http_rtagent_chat_msg_t   *m, *extra;
    u_char                        *p;

    lcf = ngx_http_rtagent_llm_conf(turn->loc_conf);

    ctx->rounds++;

    if (ngx_http_rtagent_llm_tools_of(ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the system prompt, with the summary a handoff carried */
    ctx->system = ctx->agent->prompt;

    if (ctx->summary.len) {
        p = ngx_pnalloc(turn->pool, ctx->agent->prompt.len
                                    + ctx->summary.len + 64);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ctx->system.data = p;
        ctx->system.len = ngx_sprintf(p, "%V\n\nThe caller was handed to "
                                      "you with this summary: %V",
                                      &ctx->agent->prompt, &ctx->summary)
                          - p;
    }

    /*
     * The budget: tokens estimated from bytes (4 a token) plus 4 a
     * message; the system prompt, the tools (their JSON as sent) and this
     * turn's tool messages always go, the context from the newest entry
     * back while it fits, and at most the agent's memory.context_turns
     * turns (two entries each).
     */
    budget = lcf->context_budget;
    tools = ngx_http_rtagent_chat_tools_size(ctx->tools.elts,
                                             ctx->tools.nelts);
    used = ngx_http_rtagent_llm_tokens(ctx->system.len) + 4
           + ngx_http_rtagent_llm_tokens(tools);
    extra = ctx->extra.elts;

    for (i = 0; i < ctx->extra.nelts; i++) {
        used += ngx_http_rtagent_llm_tokens(extra[i].content.len) + 4;

        for (n = 0; n < extra[i].ncalls; n++) {
            used += ngx_http_rtagent_llm_tokens(extra[i].calls[n].args.len
                                                + extra[i].calls[n].name.len)
                    + 4;
        }
    }

    items = ctx->history.elts;
    max = (size_t) ngx_max(ctx->agent->def->memory.context_turns, 1) * 2;
    first = ctx->history.nelts;

    while (first > 0 && ctx->history.nelts - first < max) {
        cost = ngx_http_rtagent_llm_tokens(items[first - 1].text.len) + 4;

        /* the caller's words of this turn always go */
        if (used + cost > budget && first != ctx->history.nelts) {
            break;
        }

        used += cost;
        first--;
    }

    if (ngx_array_init(&ctx->msgs, turn->pool,
                       2 + ctx->history.nelts - first + ctx->extra.nelts,
                       sizeof(ngx_http_rtagent_chat_msg_t)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    m = ngx_array_push(&ctx->msgs);
    ngx_memzero(m, sizeof(*m));
    m->role = NGX_HTTP_RTAGENT_CHAT_SYSTEM;
    m->content.data = (char *) ctx->system.data;
    m->content.len = ctx->system.len;

    for (i = first; i < ctx->history.nelts; i++) {
        m = ngx_array_push(&ctx->msgs);
        ngx_memzero(m, sizeof(*m));
        m->role = items[i].role == NGX_HTTP_RTAGENT_LLM_ROLE_CALLER
                  ? NGX_HTTP_RTAGENT_CHAT_USER
                  : NGX_HTTP_RTAGENT_CHAT_ASSISTANT;
        m->content.data = (char *) items[i].text.data;
        m->content.len = items[i].text.len;
    }

    for (i = 0; i < ctx->extra.nelts; i++) {
        m = ngx_array_push(&ctx->msgs);
        *m = extra[i];
    }

    /* a turn's requests after tool results may have a route of their own */
    route.data = ctx->agent->def->model.data;
    route.len = ctx->agent->def->model.len;

    if (ctx->extra.nelts && ctx->agent->def->tool_model.len) {
        route.data = ctx->agent->def->tool_model.data;
        route.len = ctx->agent->def->tool_model.len;
    }

    if (route.len == 0 || ngx_http_rtagent_llm_route(&route) == NULL) {
        route = lcf->route;
    }

    ngx_memzero(&ctx->req, sizeof(ngx_http_rtagent_llm_req_t));
    ctx->req.route = route;
    ctx->req.body.msgs = ctx->msgs.elts;
    ctx->req.body.nmsgs = ctx->msgs.nelts;
    ctx->req.body.tools = ctx->tools.elts;
    ctx->req.body.ntools = ctx->tools.nelts;
    ctx->req.loc_conf = turn->loc_conf;
    ctx->req.log = turn->log;
    ctx->req.call_id = turn->call_id;
    ctx->req.on_text = ngx_http_rtagent_llm_text;
    ctx->req.on_done = ngx_http_rtagent_llm_done;
    ctx->req.data = ctx;

    if (ngx_http_rtagent_llm_start(&ctx->req) != NGX_OK) {
        ngx_http_rtagent_llm_cancel(&ctx->req);
        return NGX_ERROR;
    }

    ctx->llm_on = 1;

    return NGX_OK;
}


static void
ngx_http_rtagent_llm_say(ngx_http_rtagent_llm_ctx_t *ctx, u_char *p,
    size_t len)
{
    u_char     *n;
    size_t      size;
    ngx_str_t   piece;

    if (ctx->said_len + len > ctx->said_size) {
        size = ngx_max(ctx->said_size * 2, ctx->said_len + len + 256);
        n = ngx_pnalloc(ctx->turn->pool, size);

        if (n != NULL) {
            if (ctx->said_len) {
                ngx_memcpy(n, ctx->said, ctx->said_len);
            }

            ctx->said = n;
            ctx->said_size = size;
        }
    }

    if (ctx->said_len + len <= ctx->said_size) {
        ngx_memcpy(ctx->said + ctx->said_len, p, len);
        ctx->said_len += len;
    }

    piece.data = p;
    piece.len = len;
    ctx->turn->on_text(ctx->turn, &piece);
}


static void
ngx_http_rtagent_llm_text(ngx_http_rtagent_llm_req_t *req, const char *p,
    size_t len)
{
    ngx_http_rtagent_llm_ctx_t  *ctx = req->data;

    if (!ctx->active) {
        return;
    }

    ngx_http_rtagent_llm_say(ctx, (u_char *) p, len);
}


static void
ngx_http_rtagent_llm_done(ngx_http_rtagent_llm_req_t *req)
{
    ngx_str_t                    line;
    ngx_http_rtagent_llm_ctx_t  *ctx = req->data;

    if (!ctx->active) {
        return;
    }

    if (req->rc != NGX_OK) {
        ngx_http_rtagent_llm_end(ctx, NGX_ERROR, req->err);
        return;
    }

    switch (req->chat.finish) {

    case NGX_HTTP_RTAGENT_CHAT_FINISH_TOOL_CALLS:
        if (req->chat.ncalls) {
            ngx_http_rtagent_llm_tools_run(ctx);
            return;
        }

        break;

    case NGX_HTTP_RTAGENT_CHAT_FINISH_LENGTH:
        ngx_str_set(&line, " I am sorry, I have to stop there.");
        ngx_http_rtagent_llm_say(ctx, line.data, line.len);
        ngx_http_rtagent_llm_end(ctx, NGX_ERROR,
                                 "the reply was cut at the length limit "
                                 "(finish_reason length)");
        return;

    case NGX_HTTP_RTAGENT_CHAT_FINISH_CONTENT_FILTER:
        ngx_str_set(&line, " I am sorry, I cannot help with that.");
        ngx_http_rtagent_llm_say(ctx, line.data, line.len);
        ngx_http_rtagent_llm_end(ctx, NGX_ERROR,
                                 "the reply was filtered "
                                 "(finish_reason content_filter)");
        return;

    default:
        break;
    }

    ngx_http_rtagent_llm_end(ctx, NGX_OK, NULL);
}


/* the turn is over: its reply into the context, then on_done */

static void
ngx_http_rtagent_llm_end(ngx_http_rtagent_llm_ctx_t *ctx, ngx_int_t rc,
    const char *err)
{
    ngx_http_rtagent_turn_t  *turn = ctx->turn;

    if (ctx->llm_on) {
        ngx_http_rtagent_llm_cancel(&ctx->req);
        ctx->llm_on = 0;
    }

    if (ctx->filler.event.timer_set) {
        ngx_del_timer(&ctx->filler.event);
    }

    ngx_http_rtagent_llm_remember_said(ctx, ctx->said_len);

    ctx->active = 0;
    turn->on_done(turn, rc, err);
}


static void
ngx_http_rtagent_llm_post(ngx_http_rtagent_llm_ctx_t *ctx, ngx_int_t rc,
    const char *err)
{
    ctx->posted_rc = rc;
    ctx->posted_err = err;
    ngx_post_event(&ctx->posted, &ngx_posted_events);
}


static void
ngx_http_rtagent_llm_end_posted(ngx_event_t *ev)
{
    ngx_http_rtagent_llm_ctx_t  *ctx = ev->data;

    if (!ctx->active) {
        return;
    }

    if (ctx->posted_rc == NGX_AGAIN) {
        /* a caller's turn with its context at hand */
        ngx_http_rtagent_llm_caller(ctx);
        return;
    }

    /* a line without the model; the greeting goes into the context */
    if (ctx->line.len) {
        ngx_http_rtagent_llm_say(ctx, ctx->line.data, ctx->line.len);

        /* on_text may have cancelled the turn */
        if (!ctx->active) {
            return;
        }

        if (ctx->turn->kind == NGX_HTTP_RTAGENT_TURN_GREETING) {
            ngx_http_rtagent_llm_remember_said(ctx, ctx->said_len);
        }
    }

    ctx->active = 0;
    ctx->turn->on_done(ctx->turn, ctx->posted_rc, ctx->posted_err);
}


/* the model asked for tools: each one runs (handoffs here), then back */

static void
ngx_http_rtagent_llm_tools_run(ngx_http_rtagent_llm_ctx_t *ctx)
{
    size_t                         i, len;
    ngx_str_t                      name, target;
    ngx_http_rtagent_chat_t       *chat;
    ngx_http_rtagent_chat_call_t  *c;
    ngx_http_rtagent_chat_msg_t   *m;
    ngx_http_rtagent_tool_call_t  *tc;
    ngx_http_rtagent_llm_conf_t   *lcf;

    lcf = ngx_http_rtagent_llm_conf(ctx->turn->loc_conf);
    chat = &ctx->req.chat;

    /* the assistant's message with its calls, copied to the pool */
    m = ngx_array_push(&ctx->extra);
    if (m == NULL) {
        ngx_http_rtagent_llm_end(ctx, NGX_ERROR, "out of memory");
        return;
    }

    ngx_memzero(m, sizeof(*m));
    m->role = NGX_HTTP_RTAGENT_CHAT_ASSISTANT;
    m->calls = ngx_palloc(ctx->turn->pool, chat->ncalls * sizeof(*m->calls));

    if (m->calls == NULL) {
        ngx_http_rtagent_llm_end(ctx, NGX_ERROR, "out of memory");
        return;
    }

    if (ctx->said_len) {
        m->content.data = (char *) ngx_pstrdup(ctx->turn->pool,
                                       &(ngx_str_t) { ctx->said_len,
                                                      ctx->said });
        m->content.len = ctx->said_len;
    }

    ctx->ncalls = chat->ncalls;
    ctx->running = 0;
    ctx->tc_mask = 0;

    for (i = 0; i < chat->ncalls; i++) {
        c = &chat->calls[i];
        tc = &ctx->tcs[i];
        ngx_memzero(tc, sizeof(*tc));

        /* ids and names are in the decoder: copy what outlives it */
        name.len = c->name_len;
        name.data = (u_char *) c->name;
        ctx->calls[i].name.data = (char *) ngx_pstrdup(ctx->turn->pool,
                                                       &name);
        ctx->calls[i].name.len = name.len;
        name.len = c->id_len;
        name.data = (u_char *) c->id;
        ctx->calls[i].id.data = (char *) ngx_pstrdup(ctx->turn->pool, &name);
        ctx->calls[i].id.len = name.len;
        name.len = c->args_len;
        name.data = (u_char *) (c->args ? c->args : "");
        ctx->calls[i].args.data = c->args_len
                                  ? (char *) ngx_pstrdup(ctx->turn->pool,
                                                         &name)
                                  : "{}";
        ctx->calls[i].args.len = c->args_len ? c->args_len : 2;

        if (ctx->calls[i].name.data == NULL || ctx->calls[i].id.data == NULL
            || ctx->calls[i].args.data == NULL)
        {
            ngx_http_rtagent_llm_end(ctx, NGX_ERROR, "out of memory");
            return;
        }

        tc->name.data = (u_char *) ctx->calls[i].name.data;
        tc->name.len = ctx->calls[i].name.len;
        tc->args.data = (u_char *) ctx->calls[i].args.data;
        tc->args.len = ctx->calls[i].args.len;
        tc->agent = ctx->agent->name;
        tc->call_id = ctx->turn->call_id;
        tc->pool = ctx->turn->pool;
        tc->log = ctx->turn->log;
        tc->data = ctx;
        tc->rc = NGX_AGAIN;

        if (!c->valid) {
            tc->rc = NGX_ERROR;
            ngx_str_set(&tc->result, "{\"error\":\"the arguments are not "
                                     "a JSON object\"}");
            ngx_log_error(NGX_LOG_WARN, ctx->turn->log, 0,
                          "rtagent llm: tool call %s: %s, call: %V",
                          c->name, c->invalid, ctx->turn->call_id);
            continue;
        }

        len = sizeof(NGX_HTTP_RTAGENT_LLM_HANDOFF) - 1;

        if (tc->name.len > len
            && ngx_strncmp(tc->name.data, NGX_HTTP_RTAGENT_LLM_HANDOFF, len)
               == 0)
        {
            /* a handoff: the target agent, if the agent may hand to it */
            target.data = tc->name.data + len;
            target.len = tc->name.len - len;
            tc->rc = NGX_ERROR;
            ngx_str_set(&tc->result, "{\"error\":\"no such handoff\"}");

            for (len = 0; len < ctx->agent->def->handoffs.nelts; len++) {
                if (ctx->agent->def->handoffs.elts[len].len == target.len
                    && ngx_strncmp(ctx->agent->def->handoffs.elts[len].data,
                                   target.data, target.len) == 0)
                {
                    break;
                }
            }

            if (len < ctx->agent->def->handoffs.nelts
                && ngx_http_rtagent_agent_find((ngx_cycle_t *) ngx_cycle,
                                               &target) != NULL)
            {
                tc->rc = NGX_OK;
                tc->target = target;
                ngx_str_set(&tc->result, "{\"ok\":true}");
            }

            continue;
        }

        tc->done = ngx_http_rtagent_llm_tool_done;

        switch (ngx_http_rtagent_tool_run(tc)) {

        case NGX_OK:
            ctx->running++;
            ctx->tc_mask |= (ngx_uint_t) 1 << i;
            break;

        case NGX_DECLINED:
            tc->rc = NGX_ERROR;
            ngx_str_set(&tc->result, "{\"error\":\"no such tool\"}");
            break;

        default:
            tc->rc = NGX_ERROR;
            ngx_str_set(&tc->result, "{\"error\":\"the tool could not "
                                     "start\"}");
        }
    }

    ngx_memcpy((void *) m->calls, ctx->calls,
               chat->ncalls * sizeof(ngx_http_rtagent_chat_msg_call_t));
    m->ncalls = chat->ncalls;

    /* the decoder is done with: the request goes */
    ngx_http_rtagent_llm_cancel(&ctx->req);
    ctx->llm_on = 0;

    if (ctx->running == 0) {
        ngx_http_rtagent_llm_tools_done(ctx);
        return;
    }

    if (lcf->tool_filler_after && !ctx->filler_said
        && lcf->tool_filler.len)
    {
        ngx_add_timer(&ctx->filler.event, lcf->tool_filler_after);
    }
}


static void
ngx_http_rtagent_llm_filler(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t     *t = ev->data;
    ngx_http_rtagent_llm_ctx_t   *ctx = t->data;
    ngx_http_rtagent_llm_conf_t  *lcf;
    ngx_str_t                     line;

    if (!ctx->active || ctx->running == 0 || ctx->filler_said) {
        return;
    }

    lcf = ngx_http_rtagent_llm_conf(ctx->turn->loc_conf);
    ctx->filler_said = 1;

    /* a sentence of its own, then what the model says next */
    line.len = lcf->tool_filler.len + 1;
    line.data = ngx_pnalloc(ctx->turn->pool, line.len);

    if (line.data == NULL) {
        return;
    }

    ngx_memcpy(ngx_cpymem(line.data, lcf->tool_filler.data,
                          lcf->tool_filler.len), " ", 1);

    ngx_http_rtagent_llm_say(ctx, line.data, line.len);
}


static void
ngx_http_rtagent_llm_tool_done(ngx_http_rtagent_tool_call_t *tc)
{
    ngx_http_rtagent_llm_ctx_t  *ctx = tc->data;

    ctx->tc_mask &= ~((ngx_uint_t) 1 << (tc - ctx->tcs));

    if (!ctx->active) {
        return;
    }

    if (tc->rc == NGX_AGAIN) {
        tc->rc = NGX_ERROR;
    }

    if (--ctx->running == 0) {
        ngx_http_rtagent_llm_tools_done(ctx);
    }
}


/* every tool has answered: results into the turn, what they ask for,
 * and the next round */

static void
ngx_http_rtagent_llm_tools_done(ngx_http_rtagent_llm_ctx_t *ctx)
{
    size_t                          cut;
    ngx_uint_t                      i;
    const char                     *s;
    yajl_val                        v;
    ngx_str_t                      *hkey;
    const char                     *argv[4];
    size_t                          argvlen[4];
    ngx_http_rtagent_agent_t       *to;
    ngx_http_rtagent_chat_msg_t    *m;
    ngx_http_rtagent_tool_call_t   *tc;
    ngx_http_rtagent_llm_conf_t    *lcf;
    ngx_http_rtagent_turn_t        *turn = ctx->turn;

    lcf = ngx_http_rtagent_llm_conf(turn->loc_conf);

    if (ctx->filler.event.timer_set) {
        ngx_del_timer(&ctx->filler.event);
    }

    to = NULL;

    for (i = 0; i < ctx->ncalls; i++) {
        tc = &ctx->tcs[i];

        m = ngx_array_push(&ctx->extra);
        if (m == NULL) {
            ngx_http_rtagent_llm_end(ctx, NGX_ERROR, "out of memory");
            return;
        }

        ngx_memzero(m, sizeof(*m));
        m->role = NGX_HTTP_RTAGENT_CHAT_TOOL;
        m->tool_call_id = ctx->calls[i].id;
        m->content.data = (char *) tc->result.data;
        m->content.len = tc->result.len;

        if (m->content.len > lcf->tool_result_max) {
            /* cut on a character, marked as cut */
            cut = lcf->tool_result_max;

            while (cut && (tc->result.data[cut] & 0xc0) == 0x80) {
                cut--;
            }

            m->content.data = (char *) ngx_pnalloc(turn->pool, cut + 16);
            if (m->content.data == NULL) {
                ngx_http_rtagent_llm_end(ctx, NGX_ERROR, "out of memory");
                return;
            }

            m->content.len = ngx_sprintf((u_char *) m->content.data,
                                         "%*s...(cut)", cut, tc->result.data)
                             - (u_char *) m->content.data;
        }

        if (m->content.len == 0) {
            m->content.data = "{}";
            m->content.len = 2;
        }

        if (tc->done == NULL && tc->rc == NGX_OK && tc->target.len) {
            /* a handoff: the rest of the call with the target's prompt */
            to = ngx_http_rtagent_agent_find((ngx_cycle_t *) ngx_cycle,
                                             &tc->target);
            v = ngx_http_rtagent_json_parse((char *) tc->args.data,
                                            tc->args.len, 8,
                                            NGX_HTTP_RTAGENT_JSON_TERSE,
                                            NULL, 0);
            s = v ? ngx_http_rtagent_json_str(v, "summary", NULL) : NULL;

            ctx->summary.len = s ? ngx_strlen(s) : 0;
            ctx->summary.data = s ? ngx_pstrdup(turn->pool,
                                                &(ngx_str_t) {
                                                    ctx->summary.len,
                                                    (u_char *) s })
                                  : NULL;

            if (ctx->summary.data == NULL) {
                ctx->summary.len = 0;
            }

            if (v) {
                yajl_tree_free(v);
            }

            continue;
        }

        if (tc->act == NGX_HTTP_RTAGENT_TOOL_ACT_TRANSFER) {
            turn->after = NGX_HTTP_RTAGENT_TURN_AFTER_TRANSFER;
            turn->target = tc->target;

        } else if (tc->act == NGX_HTTP_RTAGENT_TOOL_ACT_END) {
            turn->after = NGX_HTTP_RTAGENT_TURN_AFTER_END;
        }
    }

    if (to != NULL && to != ctx->agent) {
        ngx_log_error(NGX_LOG_INFO, turn->log, 0,
                      "rtagent llm: handoff from %V to %V, call: %V",
                      &ctx->agent->name, &to->name, turn->call_id);
        ctx->agent = to;

        hkey = ngx_http_rtagent_llm_key(ctx, "");

        if (hkey != NULL && ngx_http_rtagent_redis_enabled()) {
            argv[0] = "HSET";
            argvlen[0] = 4;
            argv[1] = (char *) hkey->data;
            argvlen[1] = hkey->len;
            argv[2] = "agent";
            argvlen[2] = 5;
            argv[3] = (char *) to->name.data;
            argvlen[3] = to->name.len;
            (void) ngx_http_rtagent_redis_write(4, argv, argvlen, NULL, NULL);
        }
    }

    if (ctx->rounds >= lcf->max_tool_rounds) {
        ngx_log_error(NGX_LOG_ERR, turn->log, 0,
                      "rtagent llm: %ui tool rounds in one turn, the limit "
                      "(rtagent_llm_max_tool_rounds), call: %V",
                      ctx->rounds, turn->call_id);
        ngx_http_rtagent_llm_end(ctx, NGX_ERROR, "too many tool rounds");
        return;
    }

    if (ngx_http_rtagent_llm_round(ctx) != NGX_OK) {
        ngx_http_rtagent_llm_end(ctx, NGX_ERROR,
                                 ctx->req.err ? ctx->req.err
                                              : "the model request failed");
    }
}
