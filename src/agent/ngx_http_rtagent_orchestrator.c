
/*
 * The orchestrator (see ngx_http_rtagent_orchestrator.h).
 *
 * One context per call, in the call's pool, kept across its turns.  A turn
 * is a chain of steps on the event loop: (the call's state from Redis,
 * once) the dialogue step, then each action in order; a tool suspends the
 * chain until the tool store's done().  A cancel cuts the chain wherever
 * it is: the posted step is deleted, the tool abandoned, a Redis read
 * under way detached (its answer is dropped).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <ngx_http_rtagent_core.h>
#include <json/ngx_http_rtagent_json.h>
#include <io/ngx_http_rtagent_redis.h>
#include <store/ngx_http_rtagent_store.h>
#include <agent/ngx_http_rtagent_agent_module.h>
#include <agent/ngx_http_rtagent_dialog.h>
#include <agent/ngx_http_rtagent_tools.h>
#include <agent/ngx_http_rtagent_safety.h>
#include <agent/ngx_http_rtagent_orchestrator.h>


/* the context list's TTL while the call lives (the store renews it) */
#define NGX_HTTP_RTAGENT_ORCH_CONTEXT_TTL  "3600000"

#define NGX_HTTP_RTAGENT_ORCH_JSON_DEPTH   4

/* context entries of one turn: the caller's, then one per agent heard */
#define NGX_HTTP_RTAGENT_ORCH_ITEMS        8


typedef struct ngx_http_rtagent_orch_s  ngx_http_rtagent_orch_t;


/* a Redis read under way; orch is NULL once the turn was cancelled */
typedef struct {
    ngx_http_rtagent_orch_t          *orch;
} ngx_http_rtagent_orch_read_t;


/* what the agent said in this turn, for the context */
typedef struct {
    ngx_str_t                         agent;
    ngx_str_t                         text;
} ngx_http_rtagent_orch_said_t;


struct ngx_http_rtagent_orch_s {
    ngx_http_rtagent_turn_t          *turn;
    ngx_cycle_t                      *cycle;      /* the call's agents */
    ngx_http_rtagent_agent_t         *agent;      /* the active one */
    ngx_http_rtagent_agent_t         *heard;      /* the caller's words */

    ngx_http_rtagent_dialog_fields_t  fields;
    ngx_http_rtagent_dialog_t         dialog;
    ngx_http_rtagent_dialog_out_t     out;
    size_t                            next;       /* of out.act */
    char                              today[sizeof("YYYY-MM-DD")];

    ngx_http_rtagent_tool_call_t      tool;
    ngx_http_rtagent_orch_read_t     *read;
    ngx_event_t                       event;

    ngx_str_t                         key;        /* rtagent:call:{id} */
    ngx_str_t                         caller;     /* peer_phone */
    ngx_str_t                         summary;
    ngx_str_t                         expect;     /* the last turn's */
    ngx_array_t                       said;       /* of orch_said_t */
    ngx_uint_t                        pushed;     /* its context entries */

    unsigned                          loaded:1;   /* state is in memory */
    unsigned                          resumed:1;  /* ... from Redis */
    unsigned                          entered:1;  /* an agent is active */
    unsigned                          cancelled:1;
    unsigned                          tool_on:1;
    unsigned                          stepped:1;  /* fields changed */
    unsigned                          finished:1; /* the turn is done */
};


static ngx_int_t ngx_http_rtagent_orch_start(ngx_http_rtagent_turn_t *turn);
static void ngx_http_rtagent_orch_cancel(ngx_http_rtagent_turn_t *turn);
static ngx_int_t ngx_http_rtagent_orch_agent(ngx_http_rtagent_turn_t *turn,
    ngx_str_t *name);
static void ngx_http_rtagent_orch_run(ngx_event_t *ev);
static ngx_int_t ngx_http_rtagent_orch_read(ngx_http_rtagent_orch_t *o,
    ngx_str_t *key, ngx_http_rtagent_redis_reply_pt handler);
static void ngx_http_rtagent_orch_state(void *data, redisReply *reply);
static void ngx_http_rtagent_orch_profile(void *data, redisReply *reply);
static void ngx_http_rtagent_orch_step(ngx_http_rtagent_orch_t *o);
static ngx_int_t ngx_http_rtagent_orch_enter(ngx_http_rtagent_orch_t *o,
    ngx_http_rtagent_agent_t *agent);
static void ngx_http_rtagent_orch_exec(ngx_http_rtagent_orch_t *o);
static ngx_int_t ngx_http_rtagent_orch_say(ngx_http_rtagent_orch_t *o,
    const char *text);
static ngx_int_t ngx_http_rtagent_orch_tool(ngx_http_rtagent_orch_t *o,
    const char *name);
static void ngx_http_rtagent_orch_tool_done(ngx_http_rtagent_tool_call_t *tc);
static ngx_int_t ngx_http_rtagent_orch_merge(ngx_http_rtagent_orch_t *o,
    ngx_str_t *json);
static void ngx_http_rtagent_orch_finish(ngx_http_rtagent_orch_t *o);
static void ngx_http_rtagent_orch_fail(ngx_http_rtagent_orch_t *o,
    const char *err);
static void ngx_http_rtagent_orch_save(ngx_http_rtagent_orch_t *o);
static void ngx_http_rtagent_orch_remember(ngx_http_rtagent_orch_t *o,
    ngx_uint_t caller, ngx_uint_t drop);
static void ngx_http_rtagent_orch_unsay(ngx_http_rtagent_orch_t *o,
    size_t heard);
static ngx_int_t ngx_http_rtagent_orch_fields_json(ngx_http_rtagent_orch_t *o,
    ngx_uint_t args, ngx_str_t *out);
static void *ngx_http_rtagent_orch_alloc(void *ctx, size_t size);


const ngx_http_rtagent_responder_t  ngx_http_rtagent_orchestrator = {
    ngx_string("agents"),
    ngx_http_rtagent_orch_start,
    ngx_http_rtagent_orch_cancel,
    ngx_http_rtagent_orch_agent,
    0
};


/* a caller's turn that the safety screen stopped */
static ngx_str_t  ngx_http_rtagent_orch_screened =
    ngx_string("I can only help with your insurance questions.");

/* the session's idle lines, as say_back says them */
static ngx_str_t  ngx_http_rtagent_orch_reprompt =
    ngx_string("Are you still there?");
static ngx_str_t  ngx_http_rtagent_orch_goodbye =
    ngx_string("I cannot hear you. Goodbye.");


/* the call's active agent after the turn (none before the first one) */

static ngx_int_t
ngx_http_rtagent_orch_agent(ngx_http_rtagent_turn_t *turn, ngx_str_t *name)
{
    ngx_http_rtagent_orch_t  *o = turn->ctx;

    if (o == NULL || o->agent == NULL) {
        return NGX_DECLINED;
    }

    *name = o->agent->name;

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtagent_orch_start(ngx_http_rtagent_turn_t *turn)
{
    u_char                   *p;
    ngx_tm_t                  tm;
    ngx_http_rtagent_orch_t  *o;

    o = turn->ctx;

    if (o == NULL) {
        o = ngx_pcalloc(turn->pool, sizeof(ngx_http_rtagent_orch_t));
        if (o == NULL) {
            return NGX_ERROR;
        }

        if (ngx_array_init(&o->said, turn->pool, 4,
                           sizeof(ngx_http_rtagent_orch_said_t))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* the agents this worker was configured with stay the call's
         * agents, whatever a reload brings to new workers */
        o->cycle = (ngx_cycle_t *) ngx_cycle;
        o->turn = turn;

        o->key.data = ngx_pnalloc(turn->pool, sizeof("rtagent:call:{}") - 1
                                              + turn->call_id->len);
        if (o->key.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_sprintf(o->key.data, "rtagent:call:{%V}", turn->call_id);
        o->key.len = p - o->key.data;

        ngx_gmtime(ngx_time(), &tm);
        (void) ngx_sprintf((u_char *) o->today, "%4d-%02d-%02d%Z",
                           tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday);

        o->dialog.alloc = ngx_http_rtagent_orch_alloc;
        o->dialog.alloc_ctx = turn->pool;
        o->dialog.fields = &o->fields;
        o->dialog.today = o->today;
        o->dialog.redact = ngx_http_rtagent_agent_redact(o->cycle)
                           ? ngx_http_rtagent_safety_redact : NULL;

        o->event.handler = ngx_http_rtagent_orch_run;
        o->event.data = o;

        turn->ctx = o;
    }

    o->event.log = turn->log;
    o->cancelled = 0;
    o->tool_on = 0;
    o->stepped = 0;
    o->finished = 0;
    o->next = 0;
    o->out.n = 0;
    o->out.expect = NULL;
    o->said.nelts = 0;
    o->pushed = 0;
    o->heard = NULL;

    /* callbacks never from inside start() */
    ngx_post_event(&o->event, &ngx_posted_events);

    return NGX_OK;
}


static void
ngx_http_rtagent_orch_cancel(ngx_http_rtagent_turn_t *turn)
{
    ngx_http_rtagent_orch_t  *o = turn->ctx;

    if (o == NULL || o->cancelled) {
        return;
    }

    o->cancelled = 1;

    if (o->event.posted) {
        ngx_delete_posted_event(&o->event);
    }

    if (o->tool_on) {
        ngx_http_rtagent_tool_cancel(&o->tool);
        o->tool_on = 0;
    }

    if (o->read) {
        o->read->orch = NULL;
        o->read = NULL;
    }

    /* what the dialogue took in before the cut is kept all the same */
    if (o->stepped) {
        ngx_http_rtagent_orch_save(o);
    }

    /* the caller cut the reply: the context keeps what they heard */
    if (turn->heard != NGX_HTTP_RTAGENT_TURN_HEARD_ALL) {
        ngx_http_rtagent_orch_unsay(o, turn->heard);
    }
}


/*
 * What the agent said cut to the heard bytes of it (its lines as the
 * session got them, one space between two), into the context: in place
 * of this turn's entries when the turn was done and had stored them, else
 * after the caller's words
 */

static void
ngx_http_rtagent_orch_unsay(ngx_http_rtagent_orch_t *o, size_t heard)
{
    size_t                         pos;
    ngx_uint_t                     i;
    ngx_http_rtagent_orch_said_t  *s;

    s = o->said.elts;
    pos = 0;

    for (i = 0; i < o->said.nelts; i++) {
        if (i) {
            pos++;
        }

        if (pos + s[i].text.len > heard) {
            s[i].text.len = heard > pos ? heard - pos : 0;
            break;
        }

        pos += s[i].text.len;
    }

    if (i < o->said.nelts) {
        o->said.nelts = s[i].text.len ? i + 1 : i;

        ngx_log_error(NGX_LOG_INFO, o->turn->log, 0,
                      "rtagent agents: the context keeps %uz bytes of the "
                      "reply, the caller heard no more, call:%V", heard,
                      o->turn->call_id);

    } else if (o->finished) {
        /* all of it was heard, and is stored */
        return;
    }

    /* a turn cut before its end stores the caller's words too */
    if (o->finished) {
        ngx_http_rtagent_orch_remember(o, 0, o->pushed);

    } else {
        ngx_http_rtagent_orch_remember(o, 1, 0);
    }
}


static void
ngx_http_rtagent_orch_run(ngx_event_t *ev)
{
    ngx_int_t                 rc;
    ngx_http_rtagent_orch_t  *o = ev->data;

    if (o->loaded) {
        ngx_http_rtagent_orch_step(o);
        return;
    }

    /* a call this worker holds nothing of: a new one, or resumed */
    rc = ngx_http_rtagent_orch_read(o, &o->key, ngx_http_rtagent_orch_state);

    if (rc == NGX_DECLINED) {
        /* no Redis: the call lives in this worker only */
        o->loaded = 1;
        ngx_http_rtagent_orch_step(o);
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_rtagent_orch_fail(o, "cannot read the call's state");
    }
}


static ngx_int_t
ngx_http_rtagent_orch_read(ngx_http_rtagent_orch_t *o, ngx_str_t *key,
    ngx_http_rtagent_redis_reply_pt handler)
{
    ngx_int_t                      rc;
    const char                    *argv[2];
    size_t                         argvlen[2];
    ngx_http_rtagent_orch_read_t  *rd;

    if (!ngx_http_rtagent_redis_enabled()) {
        return NGX_DECLINED;
    }

    /* outside the call's pool: the answer may come after the call */
    rd = ngx_alloc(sizeof(ngx_http_rtagent_orch_read_t), o->turn->log);
    if (rd == NULL) {
        return NGX_ERROR;
    }

    rd->orch = o;

    argv[0] = "HGETALL";
    argvlen[0] = sizeof("HGETALL") - 1;
    argv[1] = (const char *) key->data;
    argvlen[1] = key->len;

    rc = ngx_http_rtagent_redis_write(2, argv, argvlen, handler, rd);

    if (rc != NGX_OK) {
        ngx_free(rd);
        return rc;
    }

    o->read = rd;

    return NGX_OK;
}


/* the value of an HGETALL reply's field, or NULL */

static redisReply *
ngx_http_rtagent_orch_hget(redisReply *reply, const char *name)
{
    size_t  i, len;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        return NULL;
    }

    len = ngx_strlen(name);

    for (i = 0; i + 1 < reply->elements; i += 2) {
        if (reply->element[i]->type == REDIS_REPLY_STRING
            && reply->element[i]->len == len
            && ngx_strncmp(reply->element[i]->str, name, len) == 0
            && reply->element[i + 1]->type == REDIS_REPLY_STRING)
        {
            return reply->element[i + 1];
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_rtagent_orch_hdup(ngx_http_rtagent_orch_t *o, redisReply *v,
    ngx_str_t *out)
{
    out->data = ngx_pnalloc(o->turn->pool, v->len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, v->str, v->len);
    out->data[v->len] = '\0';
    out->len = v->len;

    return NGX_OK;
}


/* the call's hash: its state if the orchestrator has answered it before */

static void
ngx_http_rtagent_orch_state(void *data, redisReply *reply)
{
    u_char                        *p;
    ngx_str_t                      name, slots, key;
    redisReply                    *v;
    ngx_http_rtagent_agent_t      *agent;
    ngx_http_rtagent_orch_t       *o;
    ngx_http_rtagent_orch_read_t  *rd = data;

    o = rd->orch;
    ngx_free(rd);

    if (o == NULL) {
        return;
    }

    o->read = NULL;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        /* Redis is away: the call goes on from what this worker has */
        ngx_log_error(NGX_LOG_WARN, o->turn->log, 0,
                      "rtagent agents: the call's state could not be read, "
                      "call:%V", o->turn->call_id);
        o->loaded = 1;
        ngx_http_rtagent_orch_step(o);
        return;
    }

    v = ngx_http_rtagent_orch_hget(reply, "peer_phone");
    if (v && v->len && ngx_http_rtagent_orch_hdup(o, v, &o->caller) != NGX_OK)
    {
        ngx_http_rtagent_orch_fail(o, "out of memory");
        return;
    }

    if (ngx_http_rtagent_orch_hget(reply, "agent_turn") != NULL) {
        /* resumed: another worker (or session) answered it before */
        agent = NULL;
        v = ngx_http_rtagent_orch_hget(reply, "agent");

        if (v) {
            name.data = (u_char *) v->str;
            name.len = v->len;
            agent = ngx_http_rtagent_agent_find(o->cycle, &name);
        }

        if (agent == NULL) {
            ngx_log_error(NGX_LOG_WARN, o->turn->log, 0,
                          "rtagent agents: the call's agent \"%s\" is not "
                          "served here, it starts again at the entry agent, "
                          "call:%V", v ? v->str : "", o->turn->call_id);

        } else if (agent->def->local == NULL) {
            agent = NULL;
        }

        v = ngx_http_rtagent_orch_hget(reply, "slots");

        if (v && v->len) {
            slots.data = (u_char *) v->str;
            slots.len = v->len;

            if (ngx_http_rtagent_orch_merge(o, &slots) != NGX_OK) {
                ngx_log_error(NGX_LOG_WARN, o->turn->log, 0,
                              "rtagent agents: the call's slots in Redis "
                              "are not a JSON object, ignored, call:%V",
                              o->turn->call_id);
            }
        }

        v = ngx_http_rtagent_orch_hget(reply, "summary");
        if (v && v->len
            && ngx_http_rtagent_orch_hdup(o, v, &o->summary) != NGX_OK)
        {
            ngx_http_rtagent_orch_fail(o, "out of memory");
            return;
        }

        if (agent) {
            o->agent = agent;
            o->dialog.agent = agent->def;
            o->entered = 1;
            o->resumed = 1;

            ngx_log_error(NGX_LOG_INFO, o->turn->log, 0,
                          "rtagent agents: call resumed from Redis at agent "
                          "\"%V\" with %uz fields, call:%V", &agent->name,
                          o->fields.nelts, o->turn->call_id);
        }

        o->loaded = 1;
        ngx_http_rtagent_orch_step(o);
        return;
    }

    /* a new call: the caller's profile, if the entry agent wants it */
    agent = ngx_http_rtagent_agent_entry(o->cycle);

    if (o->caller.len == 0 || agent == NULL
        || !agent->def->memory.load_profile)
    {
        o->loaded = 1;
        ngx_http_rtagent_orch_step(o);
        return;
    }

    key.len = sizeof("rtagent:profile:{}") - 1 + o->caller.len;
    key.data = ngx_pnalloc(o->turn->pool, key.len);
    if (key.data == NULL) {
        ngx_http_rtagent_orch_fail(o, "out of memory");
        return;
    }

    p = ngx_sprintf(key.data, "rtagent:profile:{%V}", &o->caller);
    key.len = p - key.data;

    if (ngx_http_rtagent_orch_read(o, &key, ngx_http_rtagent_orch_profile)
        != NGX_OK)
    {
        o->loaded = 1;
        ngx_http_rtagent_orch_step(o);
    }
}


/*
 * The long-term profile of a known caller.  Its name and language go into
 * the fields for the templates; its policy does not pre-fill auth's
 * policy slot: the caller's number is no proof of who speaks.
 */

static void
ngx_http_rtagent_orch_profile(void *data, redisReply *reply)
{
    char                          *s;
    size_t                         i;
    redisReply                    *v;
    ngx_http_rtagent_orch_t       *o;
    ngx_http_rtagent_orch_read_t  *rd = data;

    static const char  *take[][2] = {
        { "name", "caller_name" },
        { "language", "caller_language" }
    };

    o = rd->orch;
    ngx_free(rd);

    if (o == NULL) {
        return;
    }

    o->read = NULL;

    for (i = 0; i < sizeof(take) / sizeof(take[0]); i++) {
        v = ngx_http_rtagent_orch_hget(reply, take[i][0]);
        if (v == NULL || v->len == 0 || ngx_strlchr((u_char *) v->str,
                                                    (u_char *) v->str
                                                    + v->len, '\0'))
        {
            continue;
        }

        s = v->str;

        if (ngx_http_rtagent_dialog_set(&o->dialog, take[i][1], s) != 0) {
            ngx_http_rtagent_orch_fail(o, "out of memory");
            return;
        }
    }

    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements) {
        ngx_log_error(NGX_LOG_INFO, o->turn->log, 0,
                      "rtagent agents: caller %V recognised, profile "
                      "loaded, call:%V", &o->caller, o->turn->call_id);
    }

    o->loaded = 1;
    ngx_http_rtagent_orch_step(o);
}


/* the turn proper, once the call's state is in memory */

static void
ngx_http_rtagent_orch_step(ngx_http_rtagent_orch_t *o)
{
    int                        rc;
    u_char                    *p;
    u_char                     key[NGX_HTTP_RTAGENT_AGENT_NAME_MAX + 16];
    ngx_str_t                  piece;
    const char                *rule, *failures;
    ngx_http_rtagent_turn_t   *turn = o->turn;
    ngx_http_rtagent_agent_t  *entry;

    switch (turn->kind) {

    case NGX_HTTP_RTAGENT_TURN_REPROMPT:
    case NGX_HTTP_RTAGENT_TURN_GOODBYE:
        piece = turn->kind == NGX_HTTP_RTAGENT_TURN_REPROMPT
                ? ngx_http_rtagent_orch_reprompt
                : ngx_http_rtagent_orch_goodbye;

        if (ngx_http_rtagent_orch_say(o, (char *) piece.data) != NGX_OK) {
            return;
        }

        /* the question still open is what the caller may answer */
        if (o->out.expect == NULL && o->expect.len) {
            o->out.expect = (const char *) o->expect.data;
        }

        ngx_http_rtagent_orch_finish(o);
        return;

    default:
        break;
    }

    if (!o->entered) {
        entry = ngx_http_rtagent_agent_entry(o->cycle);

        if (entry == NULL) {
            ngx_http_rtagent_orch_fail(o, "no agents (rtagent_agents)");
            return;
        }

        if (ngx_http_rtagent_orch_enter(o, entry) != NGX_OK) {
            return;
        }

        if (turn->kind == NGX_HTTP_RTAGENT_TURN_GREETING) {
            ngx_http_rtagent_orch_exec(o);
            return;
        }

        /* no greeting was heard: the caller's words answer its question */
        o->out.n = 0;

    } else if (turn->kind == NGX_HTTP_RTAGENT_TURN_GREETING) {
        /*
         * a new session of a resumed call: the agent greets again and asks
         * what is still open; the failed checks so far still count (a
         * caller does not get new attempts at auth by calling back in)
         */
        p = ngx_snprintf(key, sizeof(key) - 1, "_%V.failures",
                         &o->agent->name);
        *p = '\0';

        failures = ngx_http_rtagent_dialog_get(&o->fields, (char *) key);

        if (ngx_http_rtagent_orch_enter(o, o->agent) != NGX_OK) {
            return;
        }

        if (failures
            && ngx_http_rtagent_dialog_set(&o->dialog, (char *) key,
                                           failures)
               != 0)
        {
            ngx_http_rtagent_orch_fail(o, "out of memory");
            return;
        }

        ngx_http_rtagent_orch_exec(o);
        return;
    }

    o->stepped = 1;
    o->heard = o->agent;

    /* the screen before any engine sees the words: a steering attempt is
     * answered, and the question still open stays open */
    if (ngx_http_rtagent_safety_screen(turn->transcript.text.data,
                                       turn->transcript.text.len, &rule))
    {
        ngx_log_error(NGX_LOG_WARN, turn->log, 0,
                      "rtagent agents: caller text stopped by the safety "
                      "screen (%s), call:%V", rule, turn->call_id);

        if (ngx_http_rtagent_orch_say(o,
                          (char *) ngx_http_rtagent_orch_screened.data)
            != NGX_OK)
        {
            return;
        }

        if (o->expect.len) {
            o->out.expect = (const char *) o->expect.data;
        }

        ngx_http_rtagent_orch_finish(o);
        return;
    }

    rc = ngx_http_rtagent_dialog_turn(&o->dialog, turn->transcript.text.data,
                                      turn->transcript.text.len, &o->out);
    if (rc != 0) {
        ngx_http_rtagent_orch_fail(o, "out of memory in the dialogue");
        return;
    }

    o->next = 0;

    ngx_http_rtagent_orch_exec(o);
}


/* the agent becomes the active one: its greeting and first question */

static ngx_int_t
ngx_http_rtagent_orch_enter(ngx_http_rtagent_orch_t *o,
    ngx_http_rtagent_agent_t *agent)
{
    if (agent->def->local == NULL) {
        ngx_log_error(NGX_LOG_ERR, o->turn->log, 0,
                      "rtagent agents: agent \"%V\" has no local section, "
                      "call:%V", &agent->name, o->turn->call_id);
        ngx_http_rtagent_orch_fail(o, "the agent has no local section");
        return NGX_ERROR;
    }

    o->agent = agent;
    o->dialog.agent = agent->def;
    o->entered = 1;
    o->stepped = 1;

    if (ngx_http_rtagent_dialog_enter(&o->dialog, &o->out) != 0) {
        ngx_http_rtagent_orch_fail(o, "out of memory in the dialogue");
        return NGX_ERROR;
    }

    o->next = 0;

    return NGX_OK;
}


/* the dialogue's actions in order, from o->next */

static void
ngx_http_rtagent_orch_exec(ngx_http_rtagent_orch_t *o)
{
    ngx_str_t                          name;
    ngx_http_rtagent_turn_t           *turn = o->turn;
    ngx_http_rtagent_agent_t          *target;
    ngx_http_rtagent_dialog_action_t  *a;

    while (o->next < o->out.n) {
        a = &o->out.act[o->next++];

        switch (a->kind) {

        case NGX_HTTP_RTAGENT_DIALOG_SAY:
            if (a->arg == NULL || a->arg[0] == '\0') {
                break;
            }

            if (ngx_http_rtagent_orch_say(o, a->arg) != NGX_OK) {
                return;
            }

            break;

        case NGX_HTTP_RTAGENT_DIALOG_TOOL:
            if (ngx_http_rtagent_orch_tool(o, a->arg) == NGX_OK) {
                /* the chain goes on in tool_done() */
                return;
            }

            if (o->cancelled) {
                return;
            }

            break;

        case NGX_HTTP_RTAGENT_DIALOG_HANDOFF:
            name.data = (u_char *) a->arg;
            name.len = ngx_strlen(a->arg);

            target = ngx_http_rtagent_agent_find(o->cycle, &name);

            if (target == NULL) {
                ngx_log_error(NGX_LOG_ERR, turn->log, 0,
                              "rtagent agents: handoff to \"%V\", an agent "
                              "not served here, call:%V", &name,
                              turn->call_id);
                break;
            }

            /* not the summary: it may carry what the caller said */
            ngx_log_error(NGX_LOG_INFO, turn->log, 0,
                          "rtagent agents: handoff from \"%V\" to \"%V\", "
                          "call:%V", &o->agent->name, &target->name,
                          turn->call_id);

            if (a->text && a->text[0]) {
                o->summary.len = ngx_strlen(a->text);
                o->summary.data = (u_char *) a->text;

                if (ngx_http_rtagent_dialog_set(&o->dialog, "summary",
                                                a->text)
                    != 0)
                {
                    ngx_http_rtagent_orch_fail(o, "out of memory");
                    return;
                }
            }

            /* the target's greeting announces the switch (and the
             * dialogue gives it the facts in the words that chose it) */
            if (ngx_http_rtagent_orch_enter(o, target) != NGX_OK) {
                return;
            }

            continue;

        case NGX_HTTP_RTAGENT_DIALOG_TRANSFER:
            ngx_log_error(NGX_LOG_INFO, turn->log, 0,
                          "rtagent agents: \"%V\" escalates to \"%s\", "
                          "call:%V", &o->agent->name,
                          a->arg ? a->arg : "", turn->call_id);

            turn->after = NGX_HTTP_RTAGENT_TURN_AFTER_TRANSFER;
            turn->target.data = (u_char *) (a->arg ? a->arg : "");
            turn->target.len = ngx_strlen(turn->target.data);
            break;

        case NGX_HTTP_RTAGENT_DIALOG_END:
            ngx_log_error(NGX_LOG_INFO, turn->log, 0,
                          "rtagent agents: \"%V\" ends the call, call:%V",
                          &o->agent->name, turn->call_id);

            turn->after = NGX_HTTP_RTAGENT_TURN_AFTER_END;
            break;
        }
    }

    ngx_http_rtagent_orch_finish(o);
}


/* a piece of the reply; NGX_ERROR when on_text cancelled the turn */

static ngx_int_t
ngx_http_rtagent_orch_say(ngx_http_rtagent_orch_t *o, const char *text)
{
    ngx_str_t                      piece, sp = ngx_string(" ");
    ngx_http_rtagent_orch_said_t  *s;

    piece.data = (u_char *) text;
    piece.len = ngx_strlen(text);

    if (o->said.nelts) {
        o->turn->on_text(o->turn, &sp);

        if (o->cancelled) {
            return NGX_ERROR;
        }
    }

    s = ngx_array_push(&o->said);
    if (s == NULL) {
        ngx_http_rtagent_orch_fail(o, "out of memory");
        return NGX_ERROR;
    }

    ngx_str_null(&s->agent);

    if (o->agent) {
        s->agent = o->agent->name;
    }

    s->text = piece;

    o->turn->on_text(o->turn, &piece);

    return o->cancelled ? NGX_ERROR : NGX_OK;
}


/* NGX_OK: tool_done() follows; else the failure went to the dialogue */

static ngx_int_t
ngx_http_rtagent_orch_tool(ngx_http_rtagent_orch_t *o, const char *name)
{
    int                            rc;
    ngx_int_t                      run;
    ngx_http_rtagent_tool_call_t  *tc;

    tc = &o->tool;
    ngx_memzero(tc, sizeof(ngx_http_rtagent_tool_call_t));

    tc->name.data = (u_char *) name;
    tc->name.len = ngx_strlen(name);
    tc->agent = o->agent->name;
    tc->call_id = o->turn->call_id;
    tc->pool = o->turn->pool;
    tc->log = o->turn->log;
    tc->done = ngx_http_rtagent_orch_tool_done;
    tc->data = o;

    run = NGX_ERROR;

    if (ngx_http_rtagent_orch_fields_json(o, 1, &tc->args) == NGX_OK) {
        run = ngx_http_rtagent_tool_run(tc);
    }

    if (run == NGX_OK) {
        o->tool_on = 1;
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ERR, o->turn->log, 0,
                  "rtagent agents: tool \"%V\" of \"%V\" %s, call:%V",
                  &tc->name, &o->agent->name,
                  run == NGX_DECLINED ? "is not the agent's" : "did not start",
                  o->turn->call_id);

    rc = ngx_http_rtagent_dialog_tool_done(&o->dialog, 0, &o->out);
    if (rc != 0) {
        ngx_http_rtagent_orch_fail(o, "out of memory in the dialogue");
        return NGX_ERROR;
    }

    o->next = 0;

    return NGX_DECLINED;
}


static void
ngx_http_rtagent_orch_tool_done(ngx_http_rtagent_tool_call_t *tc)
{
    int                       ok;
    ngx_http_rtagent_orch_t  *o = tc->data;

    o->tool_on = 0;

    if (o->cancelled) {
        return;
    }

    ok = (tc->rc == NGX_OK);

    if (ok && tc->result.len
        && ngx_http_rtagent_orch_merge(o, &tc->result) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, o->turn->log, 0,
                      "rtagent agents: tool \"%V\" answered no JSON object, "
                      "call:%V", &tc->name, o->turn->call_id);
        ok = 0;
    }

    if (!ok) {
        ngx_log_error(NGX_LOG_WARN, o->turn->log, 0,
                      "rtagent agents: tool \"%V\" of \"%V\" failed: %V, "
                      "call:%V", &tc->name, &o->agent->name, &tc->result,
                      o->turn->call_id);
    }

    if (tc->act == NGX_HTTP_RTAGENT_TOOL_ACT_TRANSFER) {
        o->turn->after = NGX_HTTP_RTAGENT_TURN_AFTER_TRANSFER;
        o->turn->target = tc->target;

    } else if (tc->act == NGX_HTTP_RTAGENT_TOOL_ACT_END) {
        o->turn->after = NGX_HTTP_RTAGENT_TURN_AFTER_END;
    }

    if (ngx_http_rtagent_dialog_tool_done(&o->dialog, ok, &o->out) != 0) {
        ngx_http_rtagent_orch_fail(o, "out of memory in the dialogue");
        return;
    }

    o->next = 0;

    ngx_http_rtagent_orch_exec(o);
}


/*
 * A JSON object's members into the fields: strings as they are, numbers
 * as written, true and false as "true" and "false"; others are skipped.
 */

static ngx_int_t
ngx_http_rtagent_orch_merge(ngx_http_rtagent_orch_t *o, ngx_str_t *json)
{
    size_t       i;
    yajl_val     doc, v;
    const char  *s;

    doc = ngx_http_rtagent_json_parse((const char *) json->data, json->len,
                                      NGX_HTTP_RTAGENT_ORCH_JSON_DEPTH, 0,
                                      NULL, 0);
    if (doc == NULL || !YAJL_IS_OBJECT(doc)) {
        if (doc) {
            yajl_tree_free(doc);
        }

        return NGX_DECLINED;
    }

    for (i = 0; i < doc->u.object.len; i++) {
        v = doc->u.object.values[i];

        if (YAJL_IS_STRING(v)) {
            s = YAJL_GET_STRING(v);

        } else if (YAJL_IS_NUMBER(v)) {
            s = YAJL_GET_NUMBER(v);

        } else if (YAJL_IS_TRUE(v)) {
            s = "true";

        } else if (YAJL_IS_FALSE(v)) {
            s = "false";

        } else {
            continue;
        }

        if (ngx_http_rtagent_dialog_set(&o->dialog, doc->u.object.keys[i], s)
            != 0)
        {
            yajl_tree_free(doc);
            return NGX_ERROR;
        }
    }

    yajl_tree_free(doc);

    return NGX_OK;
}


static void
ngx_http_rtagent_orch_finish(ngx_http_rtagent_orch_t *o)
{
    size_t                    len;
    ngx_http_rtagent_turn_t  *turn = o->turn;

    if (o->out.expect && o->out.expect[0]) {
        len = ngx_strlen(o->out.expect);

        if (o->expect.len != len
            || ngx_strncmp(o->expect.data, o->out.expect, len) != 0)
        {
            o->expect.data = ngx_pnalloc(turn->pool, len + 1);
            if (o->expect.data == NULL) {
                ngx_http_rtagent_orch_fail(o, "out of memory");
                return;
            }

            ngx_memcpy(o->expect.data, o->out.expect, len + 1);
            o->expect.len = len;
        }

        turn->expect = o->expect;

    } else {
        ngx_str_null(&o->expect);
        ngx_str_null(&turn->expect);
    }

    if (o->stepped) {
        ngx_http_rtagent_orch_save(o);
    }

    ngx_http_rtagent_orch_remember(o, 1, 0);

    o->stepped = 0;
    o->finished = 1;

    turn->on_done(turn, NGX_OK, NULL);
}


static void
ngx_http_rtagent_orch_fail(ngx_http_rtagent_orch_t *o, const char *err)
{
    if (o->cancelled) {
        return;
    }

    o->turn->on_done(o->turn, NGX_ERROR, err);
}


/* the call's state into its hash, for a worker that may resume it */

static void
ngx_http_rtagent_orch_save(ngx_http_rtagent_orch_t *o)
{
    u_char                          num[NGX_INT_T_LEN];
    ngx_uint_t                      n;
    const char                     *v;
    ngx_http_rtagent_store_field_t  f[5];

    if (o->agent == NULL) {
        return;
    }

    n = 0;

    f[n].name = "agent";
    f[n++].value = o->agent->name;

    v = ngx_http_rtagent_dialog_get(&o->fields, "verified");

    f[n].name = "auth";

    /* ngx_str_set() names its argument twice */
    if (v && (ngx_strcmp(v, "true") == 0 || ngx_strcmp(v, "yes") == 0)) {
        ngx_str_set(&f[n].value, "verified");

    } else {
        ngx_str_set(&f[n].value, "unverified");
    }

    n++;

    f[n].name = "slots";

    if (ngx_http_rtagent_orch_fields_json(o, 0, &f[n].value) == NGX_OK) {
        n++;
    }

    if (o->summary.len) {
        f[n].name = "summary";
        f[n++].value = o->summary;
    }

    f[n].name = "agent_turn";
    f[n].value.data = num;
    f[n++].value.len = ngx_sprintf(num, "%ui", o->turn->number) - num;

    (void) ngx_http_rtagent_store_call_set(o->turn->call_id, f, n,
                                           o->turn->log);
}


/*
 * The turn into the call's short-term context: the caller's words (with
 * caller) and what each agent said, trimmed to the active agent's
 * context_turns; after the list's last drop entries are dropped (what
 * the agent said, stored before it was cut).
 */

static void
ngx_http_rtagent_orch_remember(ngx_http_rtagent_orch_t *o, ngx_uint_t caller,
    ngx_uint_t drop)
{
    u_char                         *p, *last;
    u_char                          start[NGX_INT_T_LEN];
    long                            keep;
    size_t                          len, size;
    size_t                          argvlen[NGX_HTTP_RTAGENT_ORCH_ITEMS + 2];
    ngx_str_t                       key, items[NGX_HTTP_RTAGENT_ORCH_ITEMS];
    ngx_uint_t                      i, j, n, first, argc;
    const char                     *argv[NGX_HTTP_RTAGENT_ORCH_ITEMS + 2];
    ngx_http_rtagent_json_out_t     jo;
    ngx_http_rtagent_orch_said_t   *s;
    ngx_http_rtagent_turn_t        *turn = o->turn;

    if (o->agent == NULL || !ngx_http_rtagent_redis_enabled()) {
        return;
    }

    keep = o->agent->def->memory.context_turns;

    if (keep <= 0) {
        return;
    }

    n = 0;

    if (caller && turn->kind == NGX_HTTP_RTAGENT_TURN_CALLER && o->heard
        && turn->transcript.text.len)
    {
        p = turn->transcript.text.data;
        len = turn->transcript.text.len;

        /* rtagent_redact on: as the transcript stores them (a label at
         * most doubles what it replaces) */
        if (ngx_http_rtagent_agent_redact(o->cycle)) {
            size = 2 * len + 16;

            last = ngx_pnalloc(turn->pool, size);
            if (last == NULL) {
                return;
            }

            len = ngx_min(ngx_http_rtagent_safety_redact(p, len, last, size,
                                                         NULL),
                          size - 1);
            p = last;
        }

        if (ngx_http_rtagent_json_out_init(&jo) != NGX_OK) {
            return;
        }

        ngx_http_rtagent_json_out_str(&jo, "agent", o->heard->name.data,
                                      o->heard->name.len);
        ngx_http_rtagent_json_out_cstr(&jo, "role", "caller");
        ngx_http_rtagent_json_out_str(&jo, "text", p, len);

        if (ngx_http_rtagent_json_out_done(&jo, turn->pool, &items[n])
            == NGX_OK)
        {
            n++;
        }
    }

    /* what one agent said in a row is one entry */
    s = o->said.elts;
    first = n;

    for (i = 0; i < o->said.nelts; i = j) {
        len = 0;

        for (j = i; j < o->said.nelts
                    && s[j].agent.len == s[i].agent.len
                    && ngx_strncmp(s[j].agent.data, s[i].agent.data,
                                   s[i].agent.len) == 0;
             j++)
        {
            len += s[j].text.len + 1;
        }

        p = ngx_pnalloc(turn->pool, len);
        if (p == NULL) {
            return;
        }

        last = p;

        for ( /* void */ ; i < j; i++) {
            if (last != p) {
                *last++ = ' ';
            }

            last = ngx_cpymem(last, s[i].text.data, s[i].text.len);
        }

        if (n == sizeof(items) / sizeof(items[0])
            || ngx_http_rtagent_json_out_init(&jo) != NGX_OK)
        {
            break;
        }

        ngx_http_rtagent_json_out_str(&jo, "agent", s[j - 1].agent.data,
                                      s[j - 1].agent.len);
        ngx_http_rtagent_json_out_cstr(&jo, "role", "agent");
        ngx_http_rtagent_json_out_str(&jo, "text", p, last - p);

        if (ngx_http_rtagent_json_out_done(&jo, turn->pool, &items[n])
            == NGX_OK)
        {
            n++;
        }
    }

    o->pushed = n - first;

    if (n == 0 && drop == 0) {
        return;
    }

    key.len = o->key.len + sizeof(":context") - 1;
    key.data = ngx_pnalloc(turn->pool, key.len);
    if (key.data == NULL) {
        return;
    }

    ngx_memcpy(ngx_cpymem(key.data, o->key.data, o->key.len), ":context",
               sizeof(":context") - 1);

    argv[1] = (const char *) key.data;
    argvlen[1] = key.len;

    if (drop) {
        argv[0] = "LTRIM";
        argvlen[0] = sizeof("LTRIM") - 1;
        argv[2] = "0";
        argvlen[2] = 1;
        argv[3] = (const char *) start;
        argvlen[3] = ngx_sprintf(start, "%l", -1 - (long) drop) - start;

        (void) ngx_http_rtagent_redis_write(4, argv, argvlen, NULL, NULL);
    }

    if (n) {
        argc = 0;
        argv[argc] = "RPUSH";
        argvlen[argc++] = sizeof("RPUSH") - 1;
        argv[argc] = (const char *) key.data;
        argvlen[argc++] = key.len;

        for (i = 0; i < n; i++) {
            argv[argc] = (const char *) items[i].data;
            argvlen[argc++] = items[i].len;
        }

        (void) ngx_http_rtagent_redis_write(argc, argv, argvlen, NULL, NULL);
    }

    /* two entries a turn: the caller's and the agent's */
    argv[0] = "LTRIM";
    argvlen[0] = sizeof("LTRIM") - 1;
    argv[2] = (const char *) start;
    argvlen[2] = ngx_sprintf(start, "%l", -2 * keep) - start;
    argv[3] = "-1";
    argvlen[3] = 2;

    (void) ngx_http_rtagent_redis_write(4, argv, argvlen, NULL, NULL);

    argv[0] = "PEXPIRE";
    argvlen[0] = sizeof("PEXPIRE") - 1;
    argv[2] = NGX_HTTP_RTAGENT_ORCH_CONTEXT_TTL;
    argvlen[2] = sizeof(NGX_HTTP_RTAGENT_ORCH_CONTEXT_TTL) - 1;

    (void) ngx_http_rtagent_redis_write(3, argv, argvlen, NULL, NULL);
}


/* the fields as a JSON object of strings; args: without the "_" ones */

static ngx_int_t
ngx_http_rtagent_orch_fields_json(ngx_http_rtagent_orch_t *o,
    ngx_uint_t args, ngx_str_t *out)
{
    size_t                            i;
    ngx_http_rtagent_json_out_t       j;
    ngx_http_rtagent_dialog_field_t  *f;

    if (ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        return NGX_ERROR;
    }

    f = o->fields.elts;

    for (i = 0; i < o->fields.nelts; i++) {
        if (f[i].name == NULL || f[i].value == NULL
            || (args && f[i].name[0] == '_'))
        {
            continue;
        }

        ngx_http_rtagent_json_out_cstr(&j, f[i].name, f[i].value);
    }

    return ngx_http_rtagent_json_out_done(&j, o->turn->pool, out);
}


static void *
ngx_http_rtagent_orch_alloc(void *ctx, size_t size)
{
    return ngx_palloc(ctx, size);
}
