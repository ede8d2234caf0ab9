
/*
 * rtagent: the main module: the directives of the media path (WebSocket,
 * VAD, playout, engine), their configuration and the worker's ground
 * floor.  Each other part with directives is an nginx module of its own
 * (acs/, io/), its commands beside its conf setters.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ngx_http_rtagent_module.h>


static ngx_int_t ngx_http_rtagent_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_rtagent_call_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void *ngx_http_rtagent_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_rtagent_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_rtagent_dbfs_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_rtagent_size_bounds(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_rtagent_msec_bounds(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_rtagent_init_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_rtagent_engines[] = {
    { ngx_string("echo"), NGX_HTTP_RTAGENT_ENGINE_ECHO },
    { ngx_string("say_back"), NGX_HTTP_RTAGENT_ENGINE_SAY_BACK },
    { ngx_string("agents"), NGX_HTTP_RTAGENT_ENGINE_AGENTS },
    { ngx_string("llm"), NGX_HTTP_RTAGENT_ENGINE_LLM },
    { ngx_null_string, 0 }
};


/* bounds of the stock size and msec slots (high 0: none), checked at once */

static ngx_conf_num_bounds_t  ngx_http_rtagent_ws_message_bounds = {
    ngx_http_rtagent_size_bounds, 126, 0
};

static ngx_conf_num_bounds_t  ngx_http_rtagent_not_zero_bounds = {
    ngx_http_rtagent_msec_bounds, 1, 0
};

static ngx_conf_num_bounds_t  ngx_http_rtagent_utterance_bounds = {
    ngx_http_rtagent_msec_bounds, 1000, 60000
};


#define ngx_http_rtagent_loc_offset(field)                                   \
    offsetof(ngx_http_rtagent_loc_conf_t, field)

#define NGX_HTTP_RTAGENT_ANY_CONF                                            \
    (NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF)


static ngx_command_t  ngx_http_rtagent_commands[] = {

    { ngx_string("rtagent_engine"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(call.engine),
      &ngx_http_rtagent_engines },

    { ngx_string("rtagent_ws_max_message_size"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(ws.max_message_size),
      &ngx_http_rtagent_ws_message_bounds },

    { ngx_string("rtagent_ws_max_send_queue"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(ws.max_send_queue),
      NULL },

    { ngx_string("rtagent_ws_ping_interval"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(ws.ping_interval),
      NULL },

    { ngx_string("rtagent_ws_idle_timeout"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(ws.idle_timeout),
      &ngx_http_rtagent_not_zero_bounds },

    { ngx_string("rtagent_ws_close_timeout"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(ws.close_timeout),
      &ngx_http_rtagent_not_zero_bounds },

    { ngx_string("rtagent_vad_threshold"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_dbfs_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(call.vad_threshold),
      NULL },

    { ngx_string("rtagent_vad_start"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(call.vad_start),
      NULL },

    { ngx_string("rtagent_vad_end_silence"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(call.vad_end),
      NULL },

    { ngx_string("rtagent_max_utterance"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(call.max_utterance),
      &ngx_http_rtagent_utterance_bounds },

    { ngx_string("rtagent_playout_lead"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(call.playout_lead),
      NULL },

    { ngx_string("rtagent_barge_in"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(call.barge_in),
      NULL },

    { ngx_string("rtagent_barge_in_min"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(call.barge_in_min),
      NULL },

    { ngx_string("rtagent_barge_in_min_chars"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(call.barge_in_min_chars),
      NULL },

    { ngx_string("rtagent_barge_in_resume"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(call.barge_in_resume),
      NULL },

    { ngx_string("rtagent_barge_in_echo_guard"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(call.barge_in_echo_guard),
      NULL },

    { ngx_string("rtagent_idle_reprompt"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(call.idle_reprompt),
      NULL },

    { ngx_string("rtagent_idle_hangup"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(call.idle_hangup),
      NULL },

    { ngx_string("rtagent_stt"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_stt_set_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(call.stt),
      NULL },

    { ngx_string("rtagent_tts"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_tts_set_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(call.tts),
      NULL },

      ngx_null_command
};


static ngx_http_variable_t  ngx_http_rtagent_vars[] = {

    { ngx_string("rtagent_call_id"), NULL,
      ngx_http_rtagent_call_id_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_http_module_t  ngx_http_rtagent_module_ctx = {
    ngx_http_rtagent_add_variables,        /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_rtagent_create_loc_conf,      /* create location configuration */
    ngx_http_rtagent_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_rtagent_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_module_ctx,          /* module context */
    ngx_http_rtagent_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_rtagent_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_rtagent_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_rtagent_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/* the call a media WebSocket carries, for access logs */

static ngx_int_t
ngx_http_rtagent_call_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_rtagent_ws_t  *ws;

    ws = ngx_http_get_module_ctx(r, ngx_http_rtagent_ws_module);

    if (ws == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ws->call_id.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = ws->call_id.data;

    return NGX_OK;
}


static void *
ngx_http_rtagent_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_rtagent_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtagent_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    ngx_http_rtagent_ws_init_conf(&conf->ws);
    ngx_http_rtagent_call_init_conf(&conf->call);

    return conf;
}


static char *
ngx_http_rtagent_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_rtagent_loc_conf_t *prev = parent;
    ngx_http_rtagent_loc_conf_t *conf = child;

    if (ngx_http_rtagent_ws_merge_conf(cf, &conf->ws, &prev->ws)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_http_rtagent_call_merge_conf(cf, &conf->call, &prev->call);
}


/* a level in dBFS: 0 or a negative integer, with an optional "dB" suffix */

static char *
ngx_http_rtagent_dbfs_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_int_t  *np, n;
    ngx_str_t  *value, s;

    np = (ngx_int_t *) (p + cmd->offset);

    if (*np != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    s = value[1];

    if (s.len > 2 && ngx_strncasecmp(s.data + s.len - 2, (u_char *) "dB", 2)
                     == 0)
    {
        s.len -= 2;
    }

    if (s.len > 1 && s.data[0] == '-') {
        n = ngx_atoi(s.data + 1, s.len - 1);

    } else {
        n = ngx_atoi(s.data, s.len);
    }

    if (n == NGX_ERROR || n > 120 || (n != 0 && s.data[0] != '-')) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid level \"%V\": a dBFS value from -120 "
                           "to 0, such as -40", &value[1]);
        return NGX_CONF_ERROR;
    }

    *np = -n;

    return NGX_CONF_OK;
}


static char *
ngx_http_rtagent_size_bounds(ngx_conf_t *cf, void *post, void *data)
{
    ngx_conf_num_bounds_t  *b = post;
    size_t                 *sp = data;

    ngx_str_t  *value;

    value = cf->args->elts;

    if (*sp < (size_t) b->low) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V must be at least %i bytes", &value[0], b->low);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_rtagent_msec_bounds(ngx_conf_t *cf, void *post, void *data)
{
    ngx_conf_num_bounds_t  *b = post;
    ngx_msec_t             *mp = data;

    ngx_str_t  *value;

    value = cf->args->elts;

    if (b->high == 0 && *mp < (ngx_msec_t) b->low) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%V must not be 0",
                           &value[0]);
        return NGX_CONF_ERROR;
    }

    if (b->high && (*mp < (ngx_msec_t) b->low || *mp > (ngx_msec_t) b->high))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%V must be %is to %is",
                           &value[0], b->low / 1000, b->high / 1000);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The worker's ground floor.  The cache manager and loader run
 * init_process too: they serve no calls.
 */

static ngx_int_t
ngx_http_rtagent_init_process(ngx_cycle_t *cycle)
{
    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    return ngx_http_rtagent_core_init_process(cycle);
}
