
/*
 * The tool store (issue 10 item 5): finds the tool the calling agent
 * lists, checks its arguments, runs it on the event loop and reports the
 * result through done() from a posted event.  http and redis tools are
 * the agents' own definitions, their templates compiled when nginx reads
 * its configuration (ngx_http_rtagent_tools_module, postconfiguration:
 * after the agent module has loaded and linked the agents); the built-ins
 * are in ngx_http_rtagent_tools_builtin.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>

#include <json/ngx_http_rtagent_json.h>
#include <io/ngx_http_rtagent_http.h>
#include <io/ngx_http_rtagent_redis.h>
#include <agent/ngx_http_rtagent_tool_template.h>
#include <agent/ngx_http_rtagent_tools_builtin.h>


/* the arguments of a call: at most this long and this deep */
#define NGX_HTTP_RTAGENT_TOOL_ARGS_MAX    65536
#define NGX_HTTP_RTAGENT_TOOL_ARGS_DEPTH  16

/* a Redis reply nests at most this deep in a result */
#define NGX_HTTP_RTAGENT_TOOL_REPLY_DEPTH 8


typedef struct {
    ngx_str_t                            name;
    ngx_http_rtagent_tpl_t               value;
} ngx_http_rtagent_tool_header_t;


/* an http or redis tool, compiled */
typedef struct {
    ngx_str_t                            name;
    ngx_http_rtagent_tool_kind_e         kind;

    /* http */
    ngx_str_t                            method;
    ngx_http_rtagent_tpl_t               url;
    ngx_http_rtagent_tool_header_t      *headers;
    ngx_uint_t                           nheaders;
    ngx_http_rtagent_tpl_t               body;
    ngx_msec_t                           timeout;
    size_t                               max_response;
    unsigned                             has_body:1;
    unsigned                             has_type:1;

    /* redis */
    ngx_http_rtagent_tpl_t              *words;
    ngx_uint_t                           nwords;
    unsigned                             hgetall:1;

    unsigned                             uses_caller:1;
} ngx_http_rtagent_tool_t;


typedef struct {
    ngx_array_t                         *tools;  /* ngx_http_rtagent_tool_t */
} ngx_http_rtagent_tools_main_conf_t;


/* one Redis command of a step: which slot its reply goes to */
typedef struct {
    ngx_http_rtagent_tool_ctx_t         *ctx;
    ngx_uint_t                           index;
} ngx_http_rtagent_tool_req_t;


static void *ngx_http_rtagent_tools_create_main_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_rtagent_tools_postconf(ngx_conf_t *cf);
static ngx_int_t ngx_http_rtagent_tools_compile(ngx_conf_t *cf,
    ngx_http_rtagent_agent_t *agent, ngx_uint_t index,
    const ngx_http_rtagent_tool_def_t *def, ngx_http_rtagent_tool_t *tool);
static ngx_int_t ngx_http_rtagent_tools_tpl(ngx_conf_t *cf,
    ngx_http_rtagent_agent_t *agent, const char *field, ngx_uint_t index,
    ngx_http_rtagent_agent_str_t *s, unsigned mode,
    ngx_http_rtagent_tpl_t *t);
static void *ngx_http_rtagent_tools_alloc(void *ctx, size_t size);
static ngx_http_rtagent_tool_t *ngx_http_rtagent_tools_find(ngx_str_t *name);

static void ngx_http_rtagent_tool_posted(ngx_event_t *ev);
static void ngx_http_rtagent_tool_timeout(ngx_event_t *ev);
static void ngx_http_rtagent_tool_release(ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_advance(ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_reply(void *data, redisReply *reply);
static ngx_int_t ngx_http_rtagent_tool_copy(ngx_pool_t *pool,
    redisReply *from, ngx_http_rtagent_tool_reply_t *to, ngx_uint_t depth);

static ngx_int_t ngx_http_rtagent_tool_scalar(yajl_val v, ngx_str_t *value,
    unsigned *string);
static int ngx_http_rtagent_tool_lookup(void *data, const unsigned char *name,
    size_t len, ngx_http_rtagent_tpl_value_t *v);
static ngx_int_t ngx_http_rtagent_tool_fill(ngx_http_rtagent_tool_ctx_t *ctx,
    ngx_http_rtagent_tpl_t *t, ngx_str_t *out);
static void ngx_http_rtagent_tool_defined(ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_caller(ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_send(ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_http(ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_http_done(ngx_http_rtagent_http_job_t *job);
static void ngx_http_rtagent_tool_redis_send(ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_redis_done(ngx_http_rtagent_tool_ctx_t *ctx);
static void ngx_http_rtagent_tool_json_reply(ngx_http_rtagent_json_out_t *j,
    const char *key, ngx_http_rtagent_tool_reply_t *r);


static ngx_http_module_t  ngx_http_rtagent_tools_module_ctx = {
    NULL,                                    /* preconfiguration */
    ngx_http_rtagent_tools_postconf,         /* postconfiguration */

    ngx_http_rtagent_tools_create_main_conf, /* create main configuration */
    NULL,                                    /* init main configuration */

    NULL,                                    /* create server configuration */
    NULL,                                    /* merge server configuration */

    NULL,                                    /* create location configuration */
    NULL                                     /* merge location configuration */
};


ngx_module_t  ngx_http_rtagent_tools_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_tools_module_ctx,      /* module context */
    NULL,                                    /* module directives */
    NGX_HTTP_MODULE,                         /* module type */
    NULL,                                    /* init master */
    NULL,                                    /* init module */
    NULL,                                    /* init process */
    NULL,                                    /* init thread */
    NULL,                                    /* exit thread */
    NULL,                                    /* exit process */
    NULL,                                    /* exit master */
    NGX_MODULE_V1_PADDING
};


/* ---- configuration: the agents' http and redis tools compiled ---------- */

static void *
ngx_http_rtagent_tools_create_main_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_rtagent_tools_main_conf_t));
}


static ngx_int_t
ngx_http_rtagent_tools_postconf(ngx_conf_t *cf)
{
    ngx_uint_t                           i, k;
    ngx_array_t                         *agents;
    ngx_http_rtagent_tool_t             *tool;
    ngx_http_rtagent_agent_t            *agent;
    ngx_http_rtagent_tool_def_t         *def;
    ngx_http_rtagent_tools_main_conf_t  *tmcf;

    tmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_rtagent_tools_module);

    agents = ngx_http_rtagent_agents(cf->cycle);
    if (agents == NULL) {
        return NGX_OK;
    }

    tmcf->tools = ngx_array_create(cf->pool, 4,
                                   sizeof(ngx_http_rtagent_tool_t));
    if (tmcf->tools == NULL) {
        return NGX_ERROR;
    }

    agent = agents->elts;

    for (i = 0; i < agents->nelts; i++) {
        for (k = 0; k < agent[i].def->ntools; k++) {
            def = &agent[i].def->tools[k];

            if (!def->defined) {
                continue;
            }

            tool = ngx_array_push(tmcf->tools);
            if (tool == NULL) {
                return NGX_ERROR;
            }

            if (ngx_http_rtagent_tools_compile(cf, &agent[i], k, def, tool)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtagent_tools_compile(ngx_conf_t *cf, ngx_http_rtagent_agent_t *agent,
    ngx_uint_t index, const ngx_http_rtagent_tool_def_t *def,
    ngx_http_rtagent_tool_t *tool)
{
    size_t                           i, k, n;
    ngx_http_rtagent_agent_str_t     env;
    ngx_http_rtagent_agent_header_t *h;

    ngx_memzero(tool, sizeof(ngx_http_rtagent_tool_t));

    tool->name.len = def->name.len;
    tool->name.data = def->name.data;
    tool->kind = def->kind;

    if (def->kind == NGX_HTTP_RTAGENT_TOOL_REDIS) {
        n = def->redis->command.nelts;

        tool->words = ngx_palloc(cf->pool, n * sizeof(ngx_http_rtagent_tpl_t));
        if (tool->words == NULL) {
            return NGX_ERROR;
        }

        tool->nwords = n;

        for (i = 0; i < n; i++) {
            if (ngx_http_rtagent_tools_tpl(cf, agent, "redis.command", index,
                                           &def->redis->command.elts[i],
                                           NGX_HTTP_RTAGENT_TPL_TEXT,
                                           &tool->words[i])
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            tool->uses_caller |= ngx_http_rtagent_tpl_uses(&tool->words[i],
                                                           "caller");
        }

        /* HGETALL's field-value pairs become the result object itself */
        tool->hgetall = (def->redis->command.elts[0].len == 7
                         && ngx_strncasecmp(def->redis->command.elts[0].data,
                                            (u_char *) "HGETALL", 7) == 0);
        return NGX_OK;
    }

    if (def->http->method.len) {
        tool->method.len = def->http->method.len;
        tool->method.data = def->http->method.data;

    } else {
        ngx_str_set(&tool->method, "GET");
    }

    tool->timeout = def->http->timeout_ms;
    tool->max_response = def->http->max_response;

    if (ngx_http_rtagent_tools_tpl(cf, agent, "http.url", index,
                                   &def->http->url, NGX_HTTP_RTAGENT_TPL_URL,
                                   &tool->url)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    tool->uses_caller = ngx_http_rtagent_tpl_uses(&tool->url, "caller");

    if (def->http->body.len) {
        if (ngx_http_rtagent_tools_tpl(cf, agent, "http.body", index,
                                       &def->http->body,
                                       NGX_HTTP_RTAGENT_TPL_JSON, &tool->body)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        tool->has_body = 1;
        tool->uses_caller |= ngx_http_rtagent_tpl_uses(&tool->body, "caller");
    }

    tool->nheaders = def->http->nheaders;
    tool->headers = ngx_palloc(cf->pool,
                               def->http->nheaders
                               * sizeof(ngx_http_rtagent_tool_header_t));
    if (tool->headers == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < def->http->nheaders; i++) {
        h = &def->http->headers[i];

        tool->headers[i].name.len = h->name.len;
        tool->headers[i].name.data = h->name.data;

        /* a token (RFC 9110): nothing in a name can end the header */
        for (k = 0; k < h->name.len; k++) {
            if (h->name.data[k] <= ' ' || h->name.data[k] >= 0x7f
                || ngx_strchr("\"(),/:;<=>?@[\\]{}", h->name.data[k]))
            {
                /* not quoted: it may hold a line break */
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "rtagent_agents: %V:%ui: tools[%ui].http."
                              "headers: a header name with a space, control"
                              " or separator byte", &agent->file,
                              (ngx_uint_t) h->name.line, index);
                return NGX_ERROR;
            }
        }

        if (h->name.len == sizeof("Content-Type") - 1
            && ngx_strncasecmp(h->name.data, (u_char *) "Content-Type",
                               h->name.len) == 0)
        {
            tool->has_type = 1;
        }

        /* "env:NAME", the whole value, is "{env:NAME}" */
        env.line = h->value.line;

        if (h->value.len > 4
            && ngx_strncmp(h->value.data, "env:", 4) == 0)
        {
            env.len = h->value.len + 2;
            env.data = ngx_pnalloc(cf->pool, env.len);
            if (env.data == NULL) {
                return NGX_ERROR;
            }

            env.data[0] = '{';
            ngx_memcpy(env.data + 1, h->value.data, h->value.len);
            env.data[env.len - 1] = '}';

        } else {
            env.len = h->value.len;
            env.data = h->value.data;
        }

        if (ngx_http_rtagent_tools_tpl(cf, agent, "http.headers", index, &env,
                                       NGX_HTTP_RTAGENT_TPL_HEADER,
                                       &tool->headers[i].value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        tool->uses_caller |= ngx_http_rtagent_tpl_uses(&tool->headers[i].value,
                                                       "caller");
    }

    return NGX_OK;
}


/* one template compiled; {env:NAME} read now, from the master's environment */
static ngx_int_t
ngx_http_rtagent_tools_tpl(ngx_conf_t *cf, ngx_http_rtagent_agent_t *agent,
    const char *field, ngx_uint_t index, ngx_http_rtagent_agent_str_t *s,
    unsigned mode, ngx_http_rtagent_tpl_t *t)
{
    char                        err[256], *env;
    u_char                     *name;
    size_t                      i, k;
    ngx_http_rtagent_tpl_seg_t *seg;

    if (ngx_http_rtagent_tpl_compile(s->data, s->len, mode,
                                     ngx_http_rtagent_tools_alloc, cf->pool,
                                     t, err, sizeof(err))
        != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "rtagent_agents: %V:%ui: tools[%ui].%s: %s",
                      &agent->file, (ngx_uint_t) s->line, index, field, err);
        return NGX_ERROR;
    }

    for (i = 0; i < t->nsegs; i++) {
        seg = &t->segs[i];

        if (seg->type != NGX_HTTP_RTAGENT_TPL_ENV) {
            continue;
        }

        name = ngx_pnalloc(cf->temp_pool, seg->len + 1);
        if (name == NULL) {
            return NGX_ERROR;
        }

        ngx_cpystrn(name, (u_char *) seg->data, seg->len + 1);

        env = getenv((char *) name);

        if (env == NULL || env[0] == '\0') {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "rtagent_agents: %V:%ui: tools[%ui].%s: the"
                          " environment variable \"%s\" is not set",
                          &agent->file, (ngx_uint_t) s->line, index, field,
                          name);
            return NGX_ERROR;
        }

        for (k = 0; env[k]; k++) {
            if (env[k] == '\r' || env[k] == '\n') {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "rtagent_agents: %V:%ui: tools[%ui].%s: the"
                              " environment variable \"%s\" holds a line"
                              " break", &agent->file, (ngx_uint_t) s->line,
                              index, field, name);
                return NGX_ERROR;
            }
        }

        seg->len = k;
        seg->data = ngx_pnalloc(cf->pool, k);
        if (seg->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy((u_char *) seg->data, env, k);
        seg->type = NGX_HTTP_RTAGENT_TPL_LITERAL;
    }

    return NGX_OK;
}


static void *
ngx_http_rtagent_tools_alloc(void *ctx, size_t size)
{
    return ngx_palloc(ctx, size);
}


static ngx_http_rtagent_tool_t *
ngx_http_rtagent_tools_find(ngx_str_t *name)
{
    ngx_uint_t                           i;
    ngx_http_rtagent_tool_t             *tool;
    ngx_http_rtagent_tools_main_conf_t  *tmcf;

    if (ngx_cycle->conf_ctx == NULL
        || ngx_get_conf(ngx_cycle->conf_ctx, ngx_http_module) == NULL)
    {
        return NULL;
    }

    tmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_rtagent_tools_module);
    if (tmcf == NULL || tmcf->tools == NULL) {
        return NULL;
    }

    tool = tmcf->tools->elts;

    for (i = 0; i < tmcf->tools->nelts; i++) {
        if (tool[i].name.len == name->len
            && ngx_strncmp(tool[i].name.data, name->data, name->len) == 0)
        {
            return &tool[i];
        }
    }

    return NULL;
}


/* ---- a run ----------------------------------------------------------- */

ngx_int_t
ngx_http_rtagent_tool_run(ngx_http_rtagent_tool_call_t *tc)
{
    char                                    err[128];
    ngx_uint_t                              i;
    ngx_pool_t                             *pool;
    ngx_http_rtagent_tool_t                *tool;
    ngx_http_rtagent_agent_t               *agent;
    ngx_http_rtagent_tool_ctx_t            *ctx;
    ngx_http_rtagent_tool_def_t            *def;
    const ngx_http_rtagent_tool_builtin_t  *b;

    tc->rc = NGX_ERROR;
    tc->act = NGX_HTTP_RTAGENT_TOOL_ACT_NONE;
    ngx_str_null(&tc->result);
    ngx_str_null(&tc->target);
    tc->ctx = NULL;

    agent = ngx_http_rtagent_agent_find((ngx_cycle_t *) ngx_cycle,
                                        &tc->agent);
    if (agent == NULL) {
        return NGX_DECLINED;
    }

    def = NULL;

    for (i = 0; i < agent->def->ntools; i++) {
        if (agent->def->tools[i].name.len == tc->name.len
            && ngx_strncmp(agent->def->tools[i].name.data, tc->name.data,
                           tc->name.len) == 0)
        {
            def = &agent->def->tools[i];
            break;
        }
    }

    if (def == NULL) {
        return NGX_DECLINED;
    }

    b = NULL;
    tool = NULL;

    if (def->kind == NGX_HTTP_RTAGENT_TOOL_BUILTIN) {
        for (b = ngx_http_rtagent_tool_builtins; b->name.len; b++) {
            if (b->name.len == tc->name.len
                && ngx_strncmp(b->name.data, tc->name.data, tc->name.len) == 0)
            {
                break;
            }
        }

        if (b->name.len == 0) {
            return NGX_DECLINED;
        }

    } else {
        tool = ngx_http_rtagent_tools_find(&tc->name);
        if (tool == NULL) {
            return NGX_DECLINED;
        }
    }

    pool = ngx_create_pool(2048, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    ctx = ngx_pcalloc(pool, sizeof(ngx_http_rtagent_tool_ctx_t));
    if (ctx == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    ctx->pool = pool;
    ctx->tc = tc;
    ctx->log = tc->log ? tc->log : ngx_cycle->log;
    ctx->agent = agent;
    ctx->builtin = b;
    ctx->tool = tool;

    if (tc->call_id && tc->call_id->len) {
        ctx->call_id.data = ngx_pstrdup(pool, tc->call_id);
        if (ctx->call_id.data == NULL) {
            ngx_destroy_pool(pool);
            return NGX_ERROR;
        }

        ctx->call_id.len = tc->call_id->len;
    }

    ctx->name.data = ngx_pstrdup(pool, &tc->name);
    if (ctx->name.data == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    ctx->name.len = tc->name.len;

    ctx->post.handler = ngx_http_rtagent_tool_posted;
    ctx->post.data = ctx;
    ctx->post.log = ngx_cycle->log;

    ngx_http_rtagent_timer_init(&ctx->timer, ngx_http_rtagent_tool_timeout,
                                ctx, ngx_cycle->log);

    tc->ctx = ctx;

    /* a safety net for the http tools: the client's own timeout is first */
    ngx_add_timer(&ctx->timer.event,
                  tool && tool->kind == NGX_HTTP_RTAGENT_TOOL_HTTP
                  ? tool->timeout + NGX_HTTP_RTAGENT_TOOL_TIMEOUT
                  : NGX_HTTP_RTAGENT_TOOL_TIMEOUT);

    /* the arguments: a JSON object, "" taken as {} */

    if (tc->args.len > NGX_HTTP_RTAGENT_TOOL_ARGS_MAX) {
        ngx_http_rtagent_tool_fail(ctx, "arguments: too long", NGX_LOG_ERR);
        return NGX_OK;
    }

    if (tc->args.len) {
        ctx->args = ngx_http_rtagent_json_parse(
                        (char *) tc->args.data, tc->args.len,
                        NGX_HTTP_RTAGENT_TOOL_ARGS_DEPTH,
                        NGX_HTTP_RTAGENT_JSON_NO_U0000
                        | NGX_HTTP_RTAGENT_JSON_TERSE, err, sizeof(err));
        if (ctx->args == NULL) {
            ngx_http_rtagent_tool_fail(ctx, "arguments: not JSON",
                                       NGX_LOG_ERR);
            return NGX_OK;
        }

        if (!YAJL_IS_OBJECT(ctx->args)) {
            yajl_tree_free(ctx->args);
            ctx->args = NULL;
            ngx_http_rtagent_tool_fail(ctx, "arguments: not a JSON object",
                                       NGX_LOG_ERR);
            return NGX_OK;
        }
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ctx->log, 0,
                   "rtagent tool: \"%V\" of agent \"%V\" starts, call:%V",
                   &ctx->name, &agent->name, &ctx->call_id);

    ctx->sending = 1;

    if (ctx->builtin) {
        ctx->builtin->start(ctx);

    } else {
        ngx_http_rtagent_tool_defined(ctx);
    }

    ctx->sending = 0;

    ngx_http_rtagent_tool_advance(ctx);

    return NGX_OK;
}


void
ngx_http_rtagent_tool_cancel(ngx_http_rtagent_tool_call_t *tc)
{
    ngx_http_rtagent_tool_ctx_t  *ctx;

    ctx = tc->ctx;
    if (ctx == NULL) {
        return;
    }

    tc->ctx = NULL;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ctx->log, 0,
                   "rtagent tool: \"%V\" cancelled, call:%V", &ctx->name,
                   &ctx->call_id);

    ctx->tc = NULL;
    ctx->finished = 1;

    if (ctx->posted) {
        ngx_delete_posted_event(&ctx->post);
        ctx->posted = 0;
    }

    if (ctx->timer.event.timer_set) {
        ngx_del_timer(&ctx->timer.event);
    }

    if (ctx->job) {
        ngx_http_rtagent_http_cancel(ctx->job);
        ctx->job = NULL;
    }

    ngx_http_rtagent_tool_release(ctx);
}


void
ngx_http_rtagent_tool_finish(ngx_http_rtagent_tool_ctx_t *ctx, ngx_int_t rc,
    ngx_str_t *json)
{
    ngx_http_rtagent_tool_call_t  *tc;

    if (ctx->finished) {
        return;
    }

    ctx->finished = 1;
    ctx->next = NULL;
    tc = ctx->tc;

    if (ctx->timer.event.timer_set) {
        ngx_del_timer(&ctx->timer.event);
    }

    if (ctx->job) {
        ngx_http_rtagent_http_cancel(ctx->job);
        ctx->job = NULL;
    }

    tc->rc = rc;
    tc->result.data = ngx_pnalloc(tc->pool, json->len);

    if (tc->result.data == NULL) {
        /* the caller still hears of it: a failure without a text */
        tc->rc = NGX_ERROR;
        ngx_str_set(&tc->result, "{\"error\":\"out of memory\"}");

    } else {
        ngx_memcpy(tc->result.data, json->data, json->len);
        tc->result.len = json->len;
    }

    if (ctx->args) {
        yajl_tree_free(ctx->args);
        ctx->args = NULL;
    }

    ngx_post_event(&ctx->post, &ngx_posted_events);
    ctx->posted = 1;
}


void
ngx_http_rtagent_tool_fail(ngx_http_rtagent_tool_ctx_t *ctx, const char *why,
    ngx_uint_t level)
{
    ngx_str_t  json, text;

    if (ctx->finished) {
        return;
    }

    if (level) {
        ngx_log_error(level, ctx->log, 0,
                      "rtagent tool: \"%V\" of agent \"%V\" failed: %s,"
                      " call:%V", &ctx->name, &ctx->agent->name, why,
                      &ctx->call_id);
    }

    text.data = (u_char *) why;
    text.len = ngx_strlen(why);

    if (ngx_http_rtagent_json_object(ctx->pool, &json, "error", &text, NULL)
        != NGX_OK)
    {
        ngx_str_set(&json, "{\"error\":\"failed\"}");
    }

    ngx_http_rtagent_tool_finish(ctx, NGX_ERROR, &json);
}


static void
ngx_http_rtagent_tool_posted(ngx_event_t *ev)
{
    ngx_http_rtagent_tool_ctx_t   *ctx = ev->data;
    ngx_http_rtagent_tool_call_t  *tc;

    ctx->posted = 0;
    tc = ctx->tc;
    ctx->tc = NULL;
    tc->ctx = NULL;

    ngx_http_rtagent_tool_release(ctx);

    tc->done(tc);
}


static void
ngx_http_rtagent_tool_timeout(ngx_event_t *ev)
{
    ngx_http_rtagent_timer_t     *t = ev->data;
    ngx_http_rtagent_tool_ctx_t  *ctx = t->data;

    ngx_http_rtagent_tool_fail(ctx, "timed out", NGX_LOG_ERR);
}


/* the pool goes once no one needs it: the caller, Redis, a posted done() */
static void
ngx_http_rtagent_tool_release(ngx_http_rtagent_tool_ctx_t *ctx)
{
    if (ctx->tc || ctx->pending || ctx->posted || ctx->job || ctx->sending) {
        return;
    }

    if (ctx->args) {
        yajl_tree_free(ctx->args);
    }

    ngx_destroy_pool(ctx->pool);
}


/* ---- Redis commands of the steps ---------------------------------------- */

ngx_int_t
ngx_http_rtagent_tool_redis(ngx_http_rtagent_tool_ctx_t *ctx, int argc,
    const char **argv, const size_t *argvlen)
{
    ngx_int_t                     rc;
    ngx_http_rtagent_tool_req_t  *req;

    if (ctx->finished) {
        return NGX_ERROR;
    }

    if (ctx->nincoming == NGX_HTTP_RTAGENT_TOOL_REPLIES) {
        ngx_http_rtagent_tool_fail(ctx, "too many Redis commands",
                                   NGX_LOG_ALERT);
        return NGX_ERROR;
    }

    req = ngx_palloc(ctx->pool, sizeof(ngx_http_rtagent_tool_req_t));
    if (req == NULL) {
        ngx_http_rtagent_tool_fail(ctx, "out of memory", NGX_LOG_ERR);
        return NGX_ERROR;
    }

    req->ctx = ctx;
    req->index = ctx->nincoming;

    /* counted first: the handler may run at once (a dropped write) */
    ctx->pending++;
    ctx->nincoming++;

    rc = ngx_http_rtagent_redis_write(argc, argv, argvlen,
                                      ngx_http_rtagent_tool_reply, req);
    if (rc != NGX_OK) {
        ctx->pending--;
        ctx->nincoming--;
        ngx_http_rtagent_tool_fail(ctx, rc == NGX_DECLINED
                                        ? "no rtagent_redis" : "out of memory",
                                   NGX_LOG_ERR);
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_rtagent_tool_redis_str(ngx_http_rtagent_tool_ctx_t *ctx,
    ngx_uint_t argc, ngx_str_t *words)
{
    size_t       *len;
    ngx_uint_t    i;
    const char  **argv;

    argv = ngx_palloc(ctx->pool, argc * (sizeof(char *) + sizeof(size_t)));
    if (argv == NULL) {
        ngx_http_rtagent_tool_fail(ctx, "out of memory", NGX_LOG_ERR);
        return NGX_ERROR;
    }

    len = (size_t *) (argv + argc);

    for (i = 0; i < argc; i++) {
        argv[i] = (const char *) words[i].data;
        len[i] = words[i].len;
    }

    return ngx_http_rtagent_tool_redis(ctx, (int) argc, argv, len);
}


static void
ngx_http_rtagent_tool_reply(void *data, redisReply *reply)
{
    ngx_http_rtagent_tool_req_t  *req = data;

    ngx_http_rtagent_tool_ctx_t  *ctx;

    ctx = req->ctx;
    ctx->pending--;

    if (!ctx->finished) {
        if (reply == NULL) {
            ngx_memzero(&ctx->incoming[req->index],
                        sizeof(ngx_http_rtagent_tool_reply_t));
            ctx->incoming[req->index].type = -1;

        } else if (ngx_http_rtagent_tool_copy(ctx->pool, reply,
                                              &ctx->incoming[req->index], 0)
                   != NGX_OK)
        {
            ngx_http_rtagent_tool_fail(ctx, "out of memory", NGX_LOG_ERR);
        }
    }

    if (ctx->sending) {
        return;
    }

    ngx_http_rtagent_tool_advance(ctx);
}


/* the next step once the last one's replies are all in, or the end */
static void
ngx_http_rtagent_tool_advance(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_http_rtagent_tool_step_pt  next;

    while (!ctx->finished && ctx->pending == 0 && ctx->next) {
        ngx_memcpy(ctx->replies, ctx->incoming,
                   ctx->nincoming * sizeof(ngx_http_rtagent_tool_reply_t));
        ctx->nreplies = ctx->nincoming;
        ctx->nincoming = 0;

        next = ctx->next;
        ctx->next = NULL;

        ctx->sending = 1;
        next(ctx);
        ctx->sending = 0;
    }

    if (!ctx->finished && ctx->pending == 0 && ctx->job == NULL) {
        /* a step that neither finished, nor sent, nor said what is next */
        ngx_http_rtagent_tool_fail(ctx, "internal error: no next step",
                                   NGX_LOG_ALERT);
    }

    ngx_http_rtagent_tool_release(ctx);
}


static ngx_int_t
ngx_http_rtagent_tool_copy(ngx_pool_t *pool, redisReply *from,
    ngx_http_rtagent_tool_reply_t *to, ngx_uint_t depth)
{
    size_t  i;

    ngx_memzero(to, sizeof(ngx_http_rtagent_tool_reply_t));

    to->type = from->type;
    to->integer = from->integer;

    if (from->type == REDIS_REPLY_STRING || from->type == REDIS_REPLY_STATUS
        || from->type == REDIS_REPLY_ERROR)
    {
        to->str.len = from->len;
        to->str.data = ngx_pnalloc(pool, from->len + 1);
        if (to->str.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(to->str.data, from->str, from->len);
        to->str.data[from->len] = '\0';
    }

    if (from->type != REDIS_REPLY_ARRAY || from->elements == 0) {
        return NGX_OK;
    }

    if (depth == NGX_HTTP_RTAGENT_TOOL_REPLY_DEPTH) {
        to->type = REDIS_REPLY_NIL;
        return NGX_OK;
    }

    to->elts = ngx_palloc(pool, from->elements
                                * sizeof(ngx_http_rtagent_tool_reply_t));
    if (to->elts == NULL) {
        return NGX_ERROR;
    }

    to->nelts = from->elements;

    for (i = 0; i < from->elements; i++) {
        if (ngx_http_rtagent_tool_copy(pool, from->element[i], &to->elts[i],
                                       depth + 1)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* ---- helpers for the steps ----------------------------------------------- */

ngx_int_t
ngx_http_rtagent_tool_key(ngx_http_rtagent_tool_ctx_t *ctx,
    const char *prefix, ngx_str_t *id, ngx_str_t *key)
{
    size_t  len;

    len = ngx_strlen(prefix);

    key->data = ngx_pnalloc(ctx->pool, len + id->len + 3);
    if (key->data == NULL) {
        ngx_http_rtagent_tool_fail(ctx, "out of memory", NGX_LOG_ERR);
        return NGX_ERROR;
    }

    key->len = ngx_sprintf(key->data, "%s{%V}%Z", prefix, id) - key->data - 1;

    return NGX_OK;
}


ngx_int_t
ngx_http_rtagent_tool_arg(ngx_http_rtagent_tool_ctx_t *ctx, const char *name,
    ngx_str_t *value)
{
    yajl_val  v;

    ngx_str_null(value);

    if (ctx->args == NULL) {
        return NGX_DECLINED;
    }

    v = ngx_http_rtagent_json_get(ctx->args, name, NULL);

    if (v == NULL || YAJL_IS_NULL(v)) {
        return NGX_DECLINED;
    }

    return ngx_http_rtagent_tool_scalar(v, value, NULL);
}


/* a string, or a number's, boolean's or null's JSON text; NGX_ERROR else */
static ngx_int_t
ngx_http_rtagent_tool_scalar(yajl_val v, ngx_str_t *value, unsigned *string)
{
    unsigned  is_string;

    is_string = 0;

    if (YAJL_IS_STRING(v)) {
        value->data = (u_char *) v->u.string;
        is_string = 1;

    } else if (YAJL_IS_NUMBER(v)) {
        value->data = (u_char *) v->u.number.r;

    } else if (YAJL_IS_TRUE(v)) {
        value->data = (u_char *) "true";

    } else if (YAJL_IS_FALSE(v)) {
        value->data = (u_char *) "false";

    } else if (YAJL_IS_NULL(v)) {
        value->data = (u_char *) "null";

    } else {
        return NGX_ERROR;
    }

    value->len = ngx_strlen(value->data);

    if (string) {
        *string = is_string;
    }

    return NGX_OK;
}


ngx_str_t *
ngx_http_rtagent_tool_field(ngx_http_rtagent_tool_reply_t *r,
    const char *name)
{
    size_t  i, len;

    if (r->type != REDIS_REPLY_ARRAY) {
        return NULL;
    }

    len = ngx_strlen(name);

    for (i = 0; i + 1 < r->nelts; i += 2) {
        if (r->elts[i].type == REDIS_REPLY_STRING
            && r->elts[i].str.len == len
            && ngx_strncmp(r->elts[i].str.data, name, len) == 0
            && r->elts[i + 1].type == REDIS_REPLY_STRING)
        {
            return &r->elts[i + 1].str;
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_rtagent_tool_replied(ngx_http_rtagent_tool_ctx_t *ctx)
{
    u_char      *p;
    ngx_uint_t   i;

    for (i = 0; i < ctx->nreplies; i++) {
        if (ctx->replies[i].type == -1) {
            ngx_http_rtagent_tool_fail(ctx, "Redis did not answer",
                                       NGX_LOG_ERR);
            return NGX_ERROR;
        }

        if (ctx->replies[i].type != REDIS_REPLY_ERROR) {
            continue;
        }

        p = ngx_pnalloc(ctx->pool, ctx->replies[i].str.len
                                   + sizeof("Redis: "));
        if (p == NULL) {
            ngx_http_rtagent_tool_fail(ctx, "out of memory", NGX_LOG_ERR);
            return NGX_ERROR;
        }

        ngx_sprintf(p, "Redis: %V%Z", &ctx->replies[i].str);
        ngx_http_rtagent_tool_fail(ctx, (char *) p, NGX_LOG_ERR);

        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_rtagent_tool_target(ngx_http_rtagent_tool_ctx_t *ctx,
    ngx_str_t *target)
{
    target->len = ctx->agent->def->escalation.target.len;
    target->data = ctx->agent->def->escalation.target.data;
}


/* ---- http and redis tools -------------------------------------------- */

/* the call state first ({call_id}, {agent}, {caller}), then the arguments */
static int
ngx_http_rtagent_tool_lookup(void *data, const unsigned char *name,
    size_t len, ngx_http_rtagent_tpl_value_t *v)
{
    ngx_http_rtagent_tool_ctx_t *ctx = data;

    size_t     i;
    ngx_str_t *s, str;

    s = NULL;

    if (len == 7 && ngx_strncmp(name, "call_id", 7) == 0) {
        s = &ctx->call_id;

    } else if (len == 5 && ngx_strncmp(name, "agent", 5) == 0) {
        s = &ctx->agent->name;

    } else if (len == 6 && ngx_strncmp(name, "caller", 6) == 0) {
        if (ctx->caller.len == 0) {
            return -1;
        }

        s = &ctx->caller;
    }

    if (s) {
        v->data = s->data;
        v->len = s->len;
        v->string = 1;
        return 0;
    }

    if (ctx->args == NULL) {
        return -1;
    }

    for (i = 0; i < ctx->args->u.object.len; i++) {
        if (ngx_strlen(ctx->args->u.object.keys[i]) != len
            || ngx_strncmp(ctx->args->u.object.keys[i], name, len) != 0)
        {
            continue;
        }

        if (ngx_http_rtagent_tool_scalar(ctx->args->u.object.values[i], &str,
                                         &v->string)
            != NGX_OK)
        {
            return -2;
        }

        v->data = str.data;
        v->len = str.len;

        return 0;
    }

    return -1;
}


/* a filled template, NUL-terminated, in the run's pool; fails the tool */
static ngx_int_t
ngx_http_rtagent_tool_fill(ngx_http_rtagent_tool_ctx_t *ctx,
    ngx_http_rtagent_tpl_t *t, ngx_str_t *out)
{
    char    err[128];
    size_t  len;

    if (ngx_http_rtagent_tpl_fill(t, ngx_http_rtagent_tool_lookup, ctx, NULL,
                                  &len, err, sizeof(err))
        != 0)
    {
        ngx_http_rtagent_tool_fail(ctx, err, NGX_LOG_ERR);
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(ctx->pool, len + 1);
    if (out->data == NULL) {
        ngx_http_rtagent_tool_fail(ctx, "out of memory", NGX_LOG_ERR);
        return NGX_ERROR;
    }

    if (ngx_http_rtagent_tpl_fill(t, ngx_http_rtagent_tool_lookup, ctx,
                                  out->data, &len, err, sizeof(err))
        != 0)
    {
        ngx_http_rtagent_tool_fail(ctx, err, NGX_LOG_ERR);
        return NGX_ERROR;
    }

    out->data[len] = '\0';
    out->len = len;

    return NGX_OK;
}


/* {caller} wants the caller's number from the call's hash first */
static void
ngx_http_rtagent_tool_defined(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_str_t                 w[3];
    ngx_http_rtagent_tool_t  *tool = ctx->tool;

    if (tool->uses_caller) {
        ngx_str_set(&w[0], "HGET");
        ngx_str_set(&w[2], "peer_phone");

        if (ngx_http_rtagent_tool_key(ctx, "rtagent:call:", &ctx->call_id,
                                      &w[1])
            != NGX_OK)
        {
            return;
        }

        ctx->next = ngx_http_rtagent_tool_caller;
        (void) ngx_http_rtagent_tool_redis_str(ctx, 3, w);
        return;
    }

    ngx_http_rtagent_tool_send(ctx);
}


static void
ngx_http_rtagent_tool_send(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_http_rtagent_tool_t  *tool = ctx->tool;

    if (tool->kind == NGX_HTTP_RTAGENT_TOOL_HTTP) {
        ngx_http_rtagent_tool_http(ctx);

    } else {
        ngx_http_rtagent_tool_redis_send(ctx);
    }
}


static void
ngx_http_rtagent_tool_caller(ngx_http_rtagent_tool_ctx_t *ctx)
{
    if (ctx->replies[0].type == REDIS_REPLY_STRING) {
        ctx->caller = ctx->replies[0].str;
    }

    if (ctx->caller.len == 0) {
        ngx_http_rtagent_tool_fail(ctx, "the caller's number is unknown",
                                   NGX_LOG_ERR);
        return;
    }

    ngx_http_rtagent_tool_send(ctx);
}


static void
ngx_http_rtagent_tool_http(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_int_t                      rc;
    ngx_str_t                      url, value, body;
    ngx_uint_t                     i;
    ngx_http_conf_ctx_t           *hc;
    ngx_http_rtagent_tool_t       *tool = ctx->tool;
    ngx_http_rtagent_http_job_t   *job;
    ngx_http_rtagent_http_conf_t  *conf;

    static ngx_str_t  type = ngx_string("Content-Type");
    static ngx_str_t  json = ngx_string("application/json");

    if (ngx_http_rtagent_tool_fill(ctx, &tool->url, &url) != NGX_OK) {
        return;
    }

    ngx_str_null(&body);

    if (tool->has_body
        && ngx_http_rtagent_tool_fill(ctx, &tool->body, &body) != NGX_OK)
    {
        return;
    }

    /*
     * the http{} level rtagent_upstream_* settings; nginx merges them into
     * the servers' only, so one not set there is NGX_CONF_UNSET here: the
     * connect timeout then is the tool's (below), ssl_verify stays on
     */
    hc = (ngx_http_conf_ctx_t *) ngx_get_conf(ngx_cycle->conf_ctx,
                                              ngx_http_module);
    conf = hc->loc_conf[ngx_http_rtagent_http_module.ctx_index];

    job = ngx_http_rtagent_http_create(conf, ctx->log, &ctx->call_id,
                                       &tool->method, &url);
    if (job == NULL) {
        ngx_http_rtagent_tool_fail(ctx, "the HTTP client refused the job", 0);
        return;
    }

    for (i = 0; i < tool->nheaders; i++) {
        if (ngx_http_rtagent_tool_fill(ctx, &tool->headers[i].value, &value)
            != NGX_OK
            || ngx_http_rtagent_http_add_header(job, &tool->headers[i].name,
                                                &value)
               != NGX_OK)
        {
            ngx_http_rtagent_http_cancel(job);
            ngx_http_rtagent_tool_fail(ctx, "out of memory", NGX_LOG_ERR);
            return;
        }
    }

    if (tool->has_body) {
        if ((!tool->has_type
             && ngx_http_rtagent_http_add_header(job, &type, &json) != NGX_OK)
            || ngx_http_rtagent_http_set_body(job, body.data, body.len)
               != NGX_OK)
        {
            ngx_http_rtagent_http_cancel(job);
            ngx_http_rtagent_tool_fail(ctx, "out of memory", NGX_LOG_ERR);
            return;
        }
    }

    /* an action on an external service is not repeated behind its back */
    job->retries = 0;
    job->timeout = tool->timeout;
    job->connect_timeout = ngx_min(job->connect_timeout, tool->timeout);
    job->max_response_size = tool->max_response;
    job->data = ctx;
    job->on_done = ngx_http_rtagent_tool_http_done;

    rc = ngx_http_rtagent_http_start(job);

    if (rc != NGX_OK) {
        /* logged by the client, and the job is freed */
        ngx_http_rtagent_tool_fail(ctx, rc == NGX_BUSY ? "too many upstream"
                                        " requests" : "the HTTP client"
                                        " refused the job", 0);
        return;
    }

    ctx->job = job;
}


static void
ngx_http_rtagent_tool_http_done(ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_tool_ctx_t  *ctx = job->data;

    u_char                       buf[64];
    ngx_str_t                    json;
    yajl_val                     tree;
    ngx_http_rtagent_json_out_t  j;

    ctx->job = NULL;

    /* the client logged the failure and the status >= 400 with the call id */

    if (job->rc != NGX_OK) {
        ngx_http_rtagent_tool_fail(ctx, job->timedout ? "timed out"
                                        : job->too_large
                                          ? "response too large"
                                          : job->error ? job->error
                                                       : "no response", 0);
        goto done;
    }

    if (job->status >= 400) {
        ngx_snprintf(buf, sizeof(buf), "HTTP status %ui%Z", job->status);
        ngx_http_rtagent_tool_fail(ctx, (char *) buf, 0);
        goto done;
    }

    tree = ngx_http_rtagent_json_parse((char *) job->body.data, job->body.len,
                                       NGX_HTTP_RTAGENT_TOOL_ARGS_DEPTH * 4,
                                       NGX_HTTP_RTAGENT_JSON_NO_U0000
                                       | NGX_HTTP_RTAGENT_JSON_TERSE,
                                       NULL, 0);

    if (tree && YAJL_IS_OBJECT(tree)) {
        yajl_tree_free(tree);
        ngx_http_rtagent_tool_finish(ctx, NGX_OK, &job->body);
        goto done;
    }

    if (tree) {
        yajl_tree_free(tree);
    }

    /* not a JSON object: {"status": N, "body": "..."} */

    if (ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        ngx_http_rtagent_tool_fail(ctx, "out of memory", NGX_LOG_ERR);
        goto done;
    }

    ngx_http_rtagent_json_out_int(&j, "status", job->status);
    ngx_http_rtagent_json_out_str(&j, "body", job->body.data, job->body.len);

    if (ngx_http_rtagent_json_out_done(&j, ctx->pool, &json) != NGX_OK) {
        ngx_http_rtagent_tool_fail(ctx, "the response is not UTF-8",
                                   NGX_LOG_ERR);
        goto done;
    }

    ngx_http_rtagent_tool_finish(ctx, NGX_OK, &json);

done:

    ngx_http_rtagent_tool_release(ctx);
}


static void
ngx_http_rtagent_tool_redis_send(ngx_http_rtagent_tool_ctx_t *ctx)
{
    ngx_str_t                *w;
    ngx_uint_t                i;
    ngx_http_rtagent_tool_t  *tool = ctx->tool;

    w = ngx_palloc(ctx->pool, tool->nwords * sizeof(ngx_str_t));
    if (w == NULL) {
        ngx_http_rtagent_tool_fail(ctx, "out of memory", NGX_LOG_ERR);
        return;
    }

    for (i = 0; i < tool->nwords; i++) {
        if (ngx_http_rtagent_tool_fill(ctx, &tool->words[i], &w[i])
            != NGX_OK)
        {
            return;
        }
    }

    ctx->next = ngx_http_rtagent_tool_redis_done;
    (void) ngx_http_rtagent_tool_redis_str(ctx, tool->nwords, w);
}


static void
ngx_http_rtagent_tool_redis_done(ngx_http_rtagent_tool_ctx_t *ctx)
{
    u_char                         *p;
    size_t                          i;
    ngx_str_t                       json;
    ngx_http_rtagent_tool_t        *tool = ctx->tool;
    ngx_http_rtagent_json_out_t     j;
    ngx_http_rtagent_tool_reply_t  *r;

    if (ngx_http_rtagent_tool_replied(ctx) != NGX_OK) {
        return;
    }

    r = &ctx->replies[0];

    if (ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        ngx_http_rtagent_tool_fail(ctx, "out of memory", NGX_LOG_ERR);
        return;
    }

    if (tool->hgetall && r->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i + 1 < r->nelts; i += 2) {
            if (r->elts[i].type != REDIS_REPLY_STRING) {
                continue;
            }

            p = ngx_pnalloc(ctx->pool, r->elts[i].str.len + 1);
            if (p == NULL) {
                j.failed = 1;
                break;
            }

            ngx_cpystrn(p, r->elts[i].str.data, r->elts[i].str.len + 1);
            ngx_http_rtagent_tool_json_reply(&j, (char *) p, &r->elts[i + 1]);
        }

    } else {
        ngx_http_rtagent_tool_json_reply(&j, "value", r);
    }

    if (ngx_http_rtagent_json_out_done(&j, ctx->pool, &json) != NGX_OK) {
        ngx_http_rtagent_tool_fail(ctx, "the reply is not UTF-8",
                                   NGX_LOG_ERR);
        return;
    }

    ngx_http_rtagent_tool_finish(ctx, NGX_OK, &json);
}


/* strings (and status replies) as strings, integers, nil as null, arrays */
static void
ngx_http_rtagent_tool_json_reply(ngx_http_rtagent_json_out_t *j,
    const char *key, ngx_http_rtagent_tool_reply_t *r)
{
    size_t  i;

    if (key) {
        ngx_http_rtagent_json_out_str(j, NULL, (u_char *) key,
                                      ngx_strlen(key));
    }

    switch (r->type) {

    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        ngx_http_rtagent_json_out_str(j, NULL, r->str.data, r->str.len);
        break;

    case REDIS_REPLY_INTEGER:
        ngx_http_rtagent_json_out_int(j, NULL, r->integer);
        break;

    case REDIS_REPLY_ARRAY:
        ngx_http_rtagent_json_out_array(j, NULL);

        for (i = 0; i < r->nelts; i++) {
            ngx_http_rtagent_tool_json_reply(j, NULL, &r->elts[i]);
        }

        ngx_http_rtagent_json_out_array_close(j);
        break;

    default:
        if (yajl_gen_null(j->g) != yajl_gen_status_ok) {
            j->failed = 1;
        }
    }
}
