
/*
 * The LLM engine's directives (its own nginx module): the endpoints and
 * routes of http{}, the timeouts, rounds and budgets of locations.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ngx_http_rtagent_module.h>
#include <agent/ngx_http_rtagent_agent_module.h>
#include <llm/ngx_http_rtagent_llm.h>


static void *ngx_http_rtagent_llm_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_rtagent_llm_create_conf(ngx_conf_t *cf);
static char *ngx_http_rtagent_llm_merge_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_rtagent_llm_endpoint(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_rtagent_llm_route_cmd(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_rtagent_llm_shield(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_http_rtagent_llm_endpoint_t *ngx_http_rtagent_llm_endpoint_find(
    ngx_http_rtagent_llm_main_conf_t *lmcf, ngx_str_t *name);
static ngx_http_rtagent_llm_route_t *ngx_http_rtagent_llm_route_find(
    ngx_http_rtagent_llm_main_conf_t *lmcf, ngx_str_t *name);
static char *ngx_http_rtagent_llm_engine_check(ngx_conf_t *cf,
    ngx_http_rtagent_llm_conf_t *conf);
static char *ngx_http_rtagent_llm_agents_routed(ngx_conf_t *cf,
    ngx_http_rtagent_llm_conf_t *conf, ngx_array_t *agents,
    ngx_http_rtagent_agent_t *entry, ngx_str_t *where);
static ngx_int_t ngx_http_rtagent_llm_agent_routed(ngx_conf_t *cf,
    ngx_http_rtagent_llm_conf_t *conf, ngx_http_rtagent_agent_t *agent,
    ngx_http_rtagent_agent_t *from, ngx_str_t *where);


static ngx_conf_num_bounds_t  ngx_http_rtagent_llm_rounds_bounds = {
    ngx_conf_check_num_bounds, 1, 16
};


#define ngx_http_rtagent_llm_offset(f)                                       \
    offsetof(ngx_http_rtagent_llm_conf_t, f)


/*
 * keys and tokens go into request headers: tokens, when the configuration
 * is read and when a file is read again
 */
static ngx_http_rtagent_conf_secret_rule_t
    ngx_http_rtagent_llm_secret_rule = { 0, 1, 1 };


static ngx_command_t  ngx_http_rtagent_llm_commands[] = {

    { ngx_string("rtagent_llm_endpoint"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_rtagent_llm_endpoint,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rtagent_model_route"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_rtagent_llm_route_cmd,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rtagent_llm_route"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_llm_offset(route),
      NULL },

    { ngx_string("rtagent_llm_first_token_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_llm_offset(first_token_timeout),
      NULL },

    { ngx_string("rtagent_llm_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_llm_offset(timeout),
      NULL },

    { ngx_string("rtagent_llm_max_tool_rounds"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_llm_offset(max_tool_rounds),
      &ngx_http_rtagent_llm_rounds_bounds },

    { ngx_string("rtagent_llm_context_budget"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_llm_offset(context_budget),
      NULL },

    { ngx_string("rtagent_llm_tool_result_max"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_llm_offset(tool_result_max),
      NULL },

    { ngx_string("rtagent_tool_filler_after"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_llm_offset(tool_filler_after),
      NULL },

    { ngx_string("rtagent_tool_filler"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_llm_offset(tool_filler),
      NULL },

    { ngx_string("rtagent_prompt_shield"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_rtagent_llm_shield,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rtagent_prompt_shield_refusal"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_llm_offset(shield_refusal),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_rtagent_llm_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_rtagent_llm_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_rtagent_llm_create_conf,
    ngx_http_rtagent_llm_merge_conf
};


ngx_module_t  ngx_http_rtagent_llm_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_llm_module_ctx,      /* module context */
    ngx_http_rtagent_llm_commands,         /* module directives */
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


static void *
ngx_http_rtagent_llm_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_rtagent_llm_main_conf_t  *lmcf;

    lmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtagent_llm_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    /* pointers: routes point at endpoints, and arrays move when grown */
    if (ngx_array_init(&lmcf->endpoints, cf->pool, 4,
                       sizeof(ngx_http_rtagent_llm_endpoint_t *)) != NGX_OK
        || ngx_array_init(&lmcf->routes, cf->pool, 4,
                          sizeof(ngx_http_rtagent_llm_route_t *)) != NGX_OK)
    {
        return NULL;
    }

    return lmcf;
}


static void *
ngx_http_rtagent_llm_create_conf(ngx_conf_t *cf)
{
    ngx_http_rtagent_llm_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtagent_llm_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /* route, tool_filler: { 0, NULL } */

    conf->first_token_timeout = NGX_CONF_UNSET_MSEC;
    conf->timeout = NGX_CONF_UNSET_MSEC;
    conf->max_tool_rounds = NGX_CONF_UNSET_UINT;
    conf->context_budget = NGX_CONF_UNSET_SIZE;
    conf->tool_result_max = NGX_CONF_UNSET_SIZE;
    conf->tool_filler_after = NGX_CONF_UNSET_MSEC;
    conf->shield_timeout = NGX_CONF_UNSET_MSEC;
    conf->shield_open = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_rtagent_llm_merge_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_rtagent_llm_conf_t *prev = parent;
    ngx_http_rtagent_llm_conf_t *conf = child;

    ngx_conf_merge_msec_value(conf->first_token_timeout,
                              prev->first_token_timeout, 5000);
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout, 30000);
    ngx_conf_merge_uint_value(conf->max_tool_rounds, prev->max_tool_rounds,
                              4);
    ngx_conf_merge_size_value(conf->context_budget, prev->context_budget,
                              4000);
    ngx_conf_merge_size_value(conf->tool_result_max, prev->tool_result_max,
                              4096);
    ngx_conf_merge_msec_value(conf->tool_filler_after,
                              prev->tool_filler_after, 700);
    ngx_conf_merge_str_value(conf->tool_filler, prev->tool_filler,
                             "One moment while I check that.");
    ngx_conf_merge_str_value(conf->route, prev->route, "default");

    /* the shield is one directive: inherited whole */
    if (conf->shield_url.data == NULL) {
        conf->shield_url = prev->shield_url;
        conf->shield_key = prev->shield_key;
        conf->shield_timeout = prev->shield_timeout;
        conf->shield_open = prev->shield_open;
    }

    ngx_conf_merge_msec_value(conf->shield_timeout, prev->shield_timeout,
                              2000);
    ngx_conf_merge_uint_value(conf->shield_open, prev->shield_open, 0);
    ngx_conf_merge_str_value(conf->shield_refusal, prev->shield_refusal,
                             "I am sorry, I cannot help with that. "
                             "Is there anything else about your policy "
                             "or a claim?");

    if (conf->context_budget < 100) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_llm_context_budget %uz: at least 100 "
                           "tokens", conf->context_budget);
        return NGX_CONF_ERROR;
    }

    return ngx_http_rtagent_llm_engine_check(cf, conf);
}


/*
 * rtagent_engine llm where a call could not be answered fails nginx -t,
 * naming the location: no agents, no entry agent, or no model route for
 * the entry agent or an agent its handoffs reach, transitively (its
 * "model" or "tool_model" when that is a route, else the location's
 * rtagent_llm_route).  The agent module has read and linked the agents by
 * now: it comes before this one.
 */

static char *
ngx_http_rtagent_llm_engine_check(ngx_conf_t *cf,
    ngx_http_rtagent_llm_conf_t *conf)
{
    ngx_str_t                     where;
    ngx_array_t                  *agents;
    ngx_http_rtagent_agent_t     *entry;
    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_rtagent_loc_conf_t  *rlcf;

    rlcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_rtagent_module);

    if (rlcf->call.engine != NGX_HTTP_RTAGENT_ENGINE_LLM) {
        return NGX_CONF_OK;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->name.len) {
        where = clcf->name;

    } else {
        ngx_str_set(&where, "(server)");
    }

    agents = ngx_http_rtagent_agents(cf->cycle);

    if (agents == NULL || agents->nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_engine llm in location \"%V\": no "
                           "agents to answer (rtagent_agents)", &where);
        return NGX_CONF_ERROR;
    }

    entry = ngx_http_rtagent_agent_entry(cf->cycle);

    if (entry == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_engine llm in location \"%V\": no "
                           "entry agent (rtagent_entry_agent)", &where);
        return NGX_CONF_ERROR;
    }

    return ngx_http_rtagent_llm_agents_routed(cf, conf, agents, entry,
                                              &where);
}


/*
 * every agent a call can be handed to has a route: a walk from the entry
 * agent over the handoffs, each agent checked once, named with the agent
 * that first hands over to it
 */

static char *
ngx_http_rtagent_llm_agents_routed(ngx_conf_t *cf,
    ngx_http_rtagent_llm_conf_t *conf, ngx_array_t *agents,
    ngx_http_rtagent_agent_t *entry, ngx_str_t *where)
{
    u_char                         *seen;
    ngx_str_t                       name;
    ngx_uint_t                      head, tail, k;
    ngx_http_rtagent_agent_t       *all, *agent, *next, **queue, **from;
    ngx_http_rtagent_agent_strs_t  *handoffs;

    all = agents->elts;

    seen = ngx_pcalloc(cf->temp_pool, agents->nelts);
    queue = ngx_palloc(cf->temp_pool, agents->nelts * 2 * sizeof(void *));

    if (seen == NULL || queue == NULL) {
        return NGX_CONF_ERROR;
    }

    from = queue + agents->nelts;

    queue[0] = entry;
    from[0] = NULL;
    seen[entry - all] = 1;
    tail = 1;

    for (head = 0; head < tail; head++) {
        agent = queue[head];

        if (ngx_http_rtagent_llm_agent_routed(cf, conf, agent, from[head],
                                              where)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        handoffs = &agent->def->handoffs;

        for (k = 0; k < handoffs->nelts; k++) {
            name.len = handoffs->elts[k].len;
            name.data = handoffs->elts[k].data;

            next = ngx_http_rtagent_agent_find(cf->cycle, &name);

            if (next == NULL || seen[next - all]) {
                continue;
            }

            seen[next - all] = 1;
            queue[tail] = next;
            from[tail] = agent;
            tail++;
        }
    }

    return NGX_CONF_OK;
}


/* the agent's requests have a route here: as llm_round picks it */

static ngx_int_t
ngx_http_rtagent_llm_agent_routed(ngx_conf_t *cf,
    ngx_http_rtagent_llm_conf_t *conf, ngx_http_rtagent_agent_t *agent,
    ngx_http_rtagent_agent_t *from, ngx_str_t *where)
{
    u_char                             who[256], *last;
    ngx_str_t                          name;
    ngx_uint_t                         i;
    ngx_http_rtagent_agent_str_t      *model[2];
    ngx_http_rtagent_llm_main_conf_t  *lmcf;

    lmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_rtagent_llm_module);

    if (ngx_http_rtagent_llm_route_find(lmcf, &conf->route) != NULL) {
        return NGX_OK;
    }

    model[0] = &agent->def->model;
    model[1] = &agent->def->tool_model;

    for (i = 0; i < 2; i++) {
        name.len = model[i]->len;
        name.data = model[i]->data;

        if (i == 1 && name.len == 0) {
            /* no route of its own: tool rounds take the model's */
            continue;
        }

        if (name.len && ngx_http_rtagent_llm_route_find(lmcf, &name)) {
            continue;
        }

        if (from == NULL) {
            last = ngx_snprintf(who, sizeof(who), "entry agent \"%V\"",
                                &agent->name);

        } else {
            last = ngx_snprintf(who, sizeof(who), "agent \"%V\" (a handoff "
                                "of \"%V\")", &agent->name, &from->name);
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_engine llm in location \"%V\": no "
                           "model route for the %*s: neither its %s \"%V\" "
                           "nor rtagent_llm_route \"%V\" is an "
                           "rtagent_model_route or rtagent_llm_endpoint",
                           where, (size_t) (last - who), who,
                           i ? "tool_model" : "model", &name, &conf->route);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_http_rtagent_llm_endpoint_t *
ngx_http_rtagent_llm_endpoint_find(ngx_http_rtagent_llm_main_conf_t *lmcf,
    ngx_str_t *name)
{
    ngx_uint_t                         i;
    ngx_http_rtagent_llm_endpoint_t  **ep;

    ep = lmcf->endpoints.elts;

    for (i = 0; i < lmcf->endpoints.nelts; i++) {
        if (ep[i]->name.len == name->len
            && ngx_strncmp(ep[i]->name.data, name->data, name->len) == 0)
        {
            return ep[i];
        }
    }

    return NULL;
}


/* a name of routes and endpoints: what an agent's "model" may say */

static ngx_int_t
ngx_http_rtagent_llm_name_ok(ngx_str_t *name)
{
    u_char  *p;

    if (name->len == 0 || name->len > 64) {
        return NGX_ERROR;
    }

    for (p = name->data; p < name->data + name->len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'
              || *p == '.'))
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* a header value or URL piece: no controls, spaces or quotes */

static ngx_int_t
ngx_http_rtagent_llm_token_ok(ngx_str_t *s)
{
    u_char  *p;

    for (p = s->data; p < s->data + s->len; p++) {
        if (*p <= ' ' || *p == 0x7f || *p == '"') {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * rtagent_llm_endpoint <name> <url> [azure|openai] [model=<m>]
 *     [api_version=<v>] [key=<secret>] [token=<secret>];
 *
 * azure: url is the resource (https://<res>.openai.azure.com), model the
 * deployment; requests go to <url>/openai/deployments/<model>/chat/
 * completions?api-version=<v> (default 2024-10-21) with "api-key: <key>",
 * or "Authorization: Bearer <token>".  openai: url is the API base
 * (https://api.openai.com/v1, or any OpenAI-compatible one), requests go
 * to <url>/chat/completions with "Authorization: Bearer <key>" and model
 * in the body.  Secrets take env:NAME and file:PATH, a file followed as
 * it is rewritten (a live secret of the core).
 */

static char *
ngx_http_rtagent_llm_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rtagent_llm_main_conf_t *lmcf = conf;

    u_char                           *p;
    size_t                            len;
    ngx_str_t                        *value, in, *s;
    ngx_uint_t                        i, kind_set;
    ngx_http_rtagent_secret_t       **secret;
    ngx_http_rtagent_llm_endpoint_t  *ep, **slot;

    value = cf->args->elts;

    if (ngx_http_rtagent_llm_name_ok(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_llm_endpoint \"%V\": a name is 1-64 "
                           "letters, digits, '-', '_' or '.'", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_rtagent_llm_endpoint_find(lmcf, &value[1]) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_llm_endpoint \"%V\" is duplicate",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    slot = ngx_array_push(&lmcf->endpoints);
    ep = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtagent_llm_endpoint_t));

    if (slot == NULL || ep == NULL) {
        return NGX_CONF_ERROR;
    }

    *slot = ep;
    ep->name = value[1];
    ep->alone.name = value[1];
    ep->alone.endpoints[0] = ep;
    ep->alone.n = 1;
    ep->url = value[2];
    ep->kind = NGX_HTTP_RTAGENT_LLM_OPENAI;
    kind_set = 0;

    if (ngx_http_rtagent_conf_base_url(&ep->url) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_llm_endpoint %V: \"%V\" must be an "
                           "http:// or https:// URL without a query",
                           &ep->name, &value[2]);
        return NGX_CONF_ERROR;
    }

    for (i = 3; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "azure") == 0
            || ngx_strcmp(value[i].data, "openai") == 0)
        {
            if (kind_set++) {
                return "takes one of azure and openai";
            }

            ep->kind = (value[i].data[0] == 'a') ? NGX_HTTP_RTAGENT_LLM_AZURE
                                                 : NGX_HTTP_RTAGENT_LLM_OPENAI;
            continue;
        }

        s = NULL;
        secret = NULL;
        in.len = 0;

        if (ngx_strncmp(value[i].data, "model=", 6) == 0) {
            s = &ep->model;
            in.data = value[i].data + 6;

        } else if (ngx_strncmp(value[i].data, "api_version=", 12) == 0) {
            s = &ep->api_version;
            in.data = value[i].data + 12;

        } else if (ngx_strncmp(value[i].data, "key=", 4) == 0) {
            secret = &ep->key;
            in.data = value[i].data + 4;

        } else if (ngx_strncmp(value[i].data, "token=", 6) == 0) {
            secret = &ep->token;
            in.data = value[i].data + 6;
        }

        if (s == NULL && secret == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "rtagent_llm_endpoint %V: unknown parameter "
                               "\"%V\"", &ep->name, &value[i]);
            return NGX_CONF_ERROR;
        }

        if ((s && s->data) || (secret && *secret)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "rtagent_llm_endpoint %V: a parameter is "
                               "duplicate", &ep->name);
            return NGX_CONF_ERROR;
        }

        in.len = value[i].data + value[i].len - in.data;

        if (secret) {
            /* a secret: never in a message; file:PATH follows its file */
            *secret = ngx_http_rtagent_conf_live_secret(cf, &in,
                                           &ngx_http_rtagent_llm_secret_rule);
            if (*secret == NULL) {
                return NGX_CONF_ERROR;
            }

            s = &(*secret)->value;

            if (s->len == 0
                || ngx_http_rtagent_secret_refused(
                       &ngx_http_rtagent_llm_secret_rule, s->data, s->len))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "rtagent_llm_endpoint %V: the key or "
                                   "token is empty or holds spaces or "
                                   "control characters", &ep->name);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        *s = in;

        if (s->len == 0 || ngx_http_rtagent_llm_token_ok(s) != NGX_OK
            || ngx_strlchr(s->data, s->data + s->len, '/')
            || ngx_strlchr(s->data, s->data + s->len, '?')
            || ngx_strlchr(s->data, s->data + s->len, '&'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "rtagent_llm_endpoint %V: bad \"%V\"",
                               &ep->name, &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    if (ep->model.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_llm_endpoint %V: model= is required "
                           "(the deployment for azure)", &ep->name);
        return NGX_CONF_ERROR;
    }

    if (ep->kind == NGX_HTTP_RTAGENT_LLM_AZURE) {
        if (ep->key == NULL && ep->token == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "rtagent_llm_endpoint %V: azure needs key= "
                               "or token=", &ep->name);
            return NGX_CONF_ERROR;
        }

        if (ep->api_version.len == 0) {
            ngx_str_set(&ep->api_version, "2024-10-21");
        }

        len = ep->url.len + sizeof("/openai/deployments//chat/completions"
                                   "?api-version=") - 1
              + ep->model.len + ep->api_version.len;

    } else {
        if (ep->token || ep->api_version.len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "rtagent_llm_endpoint %V: token= and "
                               "api_version= are for azure", &ep->name);
            return NGX_CONF_ERROR;
        }

        len = ep->url.len + sizeof("/chat/completions") - 1;
    }

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    ep->full_url.data = p;

    if (ep->kind == NGX_HTTP_RTAGENT_LLM_AZURE) {
        ep->full_url.len = ngx_sprintf(p, "%V/openai/deployments/%V/chat/"
                                       "completions?api-version=%V",
                                       &ep->url, &ep->model,
                                       &ep->api_version) - p;

    } else {
        ep->full_url.len = ngx_sprintf(p, "%V/chat/completions", &ep->url)
                           - p;
    }

    return NGX_CONF_OK;
}


/*
 * rtagent_prompt_shield <url> key=<secret> [fail=closed|open]
 *     [timeout=<time>];  or  rtagent_prompt_shield off;
 *
 * url is the Content Safety resource (https://<res>.cognitiveservices.
 * azure.com); requests go to <url>/contentsafety/text:shieldPrompt
 * ?api-version=2024-09-01 with "Ocp-Apim-Subscription-Key: <key>".
 */

static char *
ngx_http_rtagent_llm_shield(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rtagent_llm_conf_t *lcf = conf;

    u_char      *p;
    ngx_str_t   *value, url, in, s;
    ngx_int_t    t;
    ngx_uint_t   i;

    static ngx_str_t  path = ngx_string("/contentsafety/text:shieldPrompt"
                                        "?api-version=2024-09-01");

    if (lcf->shield_url.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        ngx_str_set(&lcf->shield_url, "");
        return NGX_CONF_OK;
    }

    url = value[1];

    if (ngx_http_rtagent_conf_base_url(&url) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_prompt_shield: \"%V\" must be an "
                           "http:// or https:// URL without a query",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "key=", 4) == 0) {
            if (lcf->shield_key.data) {
                return "has key= twice";
            }

            in.data = value[i].data + 4;
            in.len = value[i].len - 4;

            /* a secret: never in a message */
            if (ngx_http_rtagent_conf_secret(cf, &in, &s) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            if (s.len == 0 || ngx_http_rtagent_llm_token_ok(&s) != NGX_OK) {
                return "has a key that is empty or holds spaces or control "
                       "characters";
            }

            lcf->shield_key = s;
            continue;
        }

        if (ngx_strcmp(value[i].data, "fail=closed") == 0
            || ngx_strcmp(value[i].data, "fail=open") == 0)
        {
            if (lcf->shield_open != NGX_CONF_UNSET_UINT) {
                return "has fail= twice";
            }

            lcf->shield_open = (value[i].data[5] == 'o');
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;
            t = ngx_parse_time(&s, 0);

            if (t == NGX_ERROR || t == 0
                || lcf->shield_timeout != NGX_CONF_UNSET_MSEC)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "rtagent_prompt_shield: bad or repeated "
                                   "\"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            lcf->shield_timeout = (ngx_msec_t) t;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_prompt_shield: unknown parameter \"%V\" "
                           "(key=, fail=closed|open, timeout=)", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (lcf->shield_key.len == 0) {
        return "needs key=";
    }

    p = ngx_pnalloc(cf->pool, url.len + path.len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    lcf->shield_url.data = p;
    lcf->shield_url.len = ngx_sprintf(p, "%V%V", &url, &path) - p;

    return NGX_CONF_OK;
}


/* rtagent_model_route <route> <endpoint> [<endpoint> ...]; */

static char *
ngx_http_rtagent_llm_route_cmd(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_rtagent_llm_main_conf_t *lmcf = conf;

    ngx_str_t                        *value;
    ngx_uint_t                        i, k;
    ngx_http_rtagent_llm_route_t     *rt, **rts;
    ngx_http_rtagent_llm_endpoint_t  *ep;

    value = cf->args->elts;

    if (ngx_http_rtagent_llm_name_ok(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_model_route \"%V\": a name is 1-64 "
                           "letters, digits, '-', '_' or '.'", &value[1]);
        return NGX_CONF_ERROR;
    }

    rts = lmcf->routes.elts;

    for (i = 0; i < lmcf->routes.nelts; i++) {
        if (rts[i]->name.len == value[1].len
            && ngx_strncmp(rts[i]->name.data, value[1].data, value[1].len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "rtagent_model_route \"%V\" is duplicate",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (cf->args->nelts - 2 > NGX_HTTP_RTAGENT_LLM_ROUTE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_model_route %V: at most %d endpoints",
                           &value[1], NGX_HTTP_RTAGENT_LLM_ROUTE_MAX);
        return NGX_CONF_ERROR;
    }

    rts = ngx_array_push(&lmcf->routes);
    rt = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtagent_llm_route_t));

    if (rts == NULL || rt == NULL) {
        return NGX_CONF_ERROR;
    }

    *rts = rt;
    rt->name = value[1];

    for (i = 2; i < cf->args->nelts; i++) {
        ep = ngx_http_rtagent_llm_endpoint_find(lmcf, &value[i]);

        if (ep == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "rtagent_model_route %V: no "
                               "rtagent_llm_endpoint \"%V\" before it",
                               &value[1], &value[i]);
            return NGX_CONF_ERROR;
        }

        for (k = 0; k < rt->n; k++) {
            if (rt->endpoints[k] == ep) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "rtagent_model_route %V: \"%V\" twice",
                                   &value[1], &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        rt->endpoints[rt->n++] = ep;
    }

    return NGX_CONF_OK;
}


ngx_http_rtagent_llm_route_t *
ngx_http_rtagent_llm_route(ngx_str_t *name)
{
    ngx_http_rtagent_llm_main_conf_t  *lmcf;

    lmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_rtagent_llm_module);
    if (lmcf == NULL) {
        return NULL;
    }

    return ngx_http_rtagent_llm_route_find(lmcf, name);
}


static ngx_http_rtagent_llm_route_t *
ngx_http_rtagent_llm_route_find(ngx_http_rtagent_llm_main_conf_t *lmcf,
    ngx_str_t *name)
{
    ngx_uint_t                         i;
    ngx_http_rtagent_llm_route_t     **rts;
    ngx_http_rtagent_llm_endpoint_t   *ep;

    rts = lmcf->routes.elts;

    for (i = 0; i < lmcf->routes.nelts; i++) {
        if (rts[i]->name.len == name->len
            && ngx_strncmp(rts[i]->name.data, name->data, name->len) == 0)
        {
            return rts[i];
        }
    }

    ep = ngx_http_rtagent_llm_endpoint_find(lmcf, name);

    return ep ? &ep->alone : NULL;
}


ngx_uint_t *
ngx_http_rtagent_llm_failovers(void)
{
    ngx_http_rtagent_llm_main_conf_t  *lmcf;

    lmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_rtagent_llm_module);

    return lmcf ? &lmcf->failovers : NULL;
}
