
/*
 * rtagent: directives, configuration and the per-worker state.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ngx_http_rtagent_module.h>
#include <acs/ngx_http_rtagent_acs_media.h>


static ngx_int_t ngx_http_rtagent_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_rtagent_call_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void *ngx_http_rtagent_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_rtagent_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_rtagent_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_rtagent_acs_media(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_rtagent_dbfs_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_rtagent_init_process(ngx_cycle_t *cycle);
static void ngx_http_rtagent_exit_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_rtagent_engines[] = {
    { ngx_string("echo"), NGX_HTTP_RTAGENT_ENGINE_ECHO },
    { ngx_null_string, 0 }
};


#define ngx_http_rtagent_loc_offset(field)                                   \
    offsetof(ngx_http_rtagent_loc_conf_t, field)

#define NGX_HTTP_RTAGENT_ANY_CONF                                            \
    (NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF)


static ngx_command_t  ngx_http_rtagent_commands[] = {

    { ngx_string("rtagent_acs_media"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_rtagent_acs_media,
      0,
      0,
      NULL },

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
      NULL },

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
      NULL },

    { ngx_string("rtagent_ws_close_timeout"),
      NGX_HTTP_RTAGENT_ANY_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_loc_offset(ws.close_timeout),
      NULL },

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
      NULL },

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

    ngx_http_rtagent_create_main_conf,     /* create main configuration */
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
    ngx_http_rtagent_exit_process,         /* exit process */
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

    ws = ngx_http_get_module_ctx(r, ngx_http_rtagent_module);

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
ngx_http_rtagent_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_rtagent_main_conf_t  *mcf;

    /*
     * set by ngx_pcalloc():
     *
     *     mcf->worker = NULL;
     */

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtagent_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    return mcf;
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


static char *
ngx_http_rtagent_acs_media(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "is duplicate: the location already has a content handler";
    }

    clcf->handler = ngx_http_rtagent_acs_media_handler;

    return NGX_CONF_OK;
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


static ngx_int_t
ngx_http_rtagent_init_process(ngx_cycle_t *cycle)
{
    ngx_http_rtagent_worker_t     *worker;
    ngx_http_rtagent_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_rtagent_module);
    if (mcf == NULL) {
        return NGX_OK;
    }

    worker = ngx_pcalloc(cycle->pool, sizeof(ngx_http_rtagent_worker_t));
    if (worker == NULL) {
        return NGX_ERROR;
    }

    ngx_queue_init(&worker->websockets);

    mcf->worker = worker;

    return NGX_OK;
}


static void
ngx_http_rtagent_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_rtagent_worker_t  *worker;

    worker = ngx_http_rtagent_worker();
    if (worker == NULL) {
        return;
    }

    ngx_http_rtagent_ws_shutdown_all(&worker->websockets);

    if (worker->scratch != NULL) {
        ngx_free(worker->scratch);
        worker->scratch = NULL;
    }

    if (worker->send_scratch != NULL) {
        ngx_free(worker->send_scratch);
        worker->send_scratch = NULL;
    }
}


ngx_http_rtagent_worker_t *
ngx_http_rtagent_worker(void)
{
    ngx_http_rtagent_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                              ngx_http_rtagent_module);

    return mcf ? mcf->worker : NULL;
}


/* the last request header of that name, and how many there are */

ngx_table_elt_t *
ngx_http_rtagent_header_in(ngx_http_request_t *r, const char *name,
    size_t len, ngx_uint_t *count)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *found;

    found = NULL;
    *count = 0;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            found = &h[i];
            (*count)++;
        }
    }

    return found;
}


/*
 * Per-worker work areas: parsing and writing are done synchronously on the
 * event loop, so one buffer of each serves every connection.  The two are
 * apart because a message being parsed can make the call send audio.
 */

static u_char *
ngx_http_rtagent_grow(u_char **buf, size_t *size, size_t need)
{
    if (*size < need) {
        if (*buf != NULL) {
            ngx_free(*buf);
        }

        need = ngx_align(ngx_max(need, 4096), 4096);

        *buf = ngx_alloc(need, ngx_cycle->log);
        *size = *buf ? need : 0;
    }

    return *buf;
}


u_char *
ngx_http_rtagent_scratch(size_t size)
{
    ngx_http_rtagent_worker_t  *w = ngx_http_rtagent_worker();

    return ngx_http_rtagent_grow(&w->scratch, &w->scratch_size, size);
}


u_char *
ngx_http_rtagent_send_scratch(size_t size)
{
    ngx_http_rtagent_worker_t  *w = ngx_http_rtagent_worker();

    return ngx_http_rtagent_grow(&w->send_scratch, &w->send_scratch_size,
                                 size);
}


/*
 * Utterance-sized audio buffers (hundreds of KiB) come from mmap: pages are
 * touched only as audio arrives and go back to the kernel when the buffer
 * is freed, where malloc would keep them resident for the worker's life.
 */

u_char *
ngx_http_rtagent_audio_alloc(size_t size, ngx_log_t *log)
{
    u_char  *p;

    p = mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1,
             0);

    if (p == MAP_FAILED) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "rtagent: mmap(%uz) failed", size);
        return NULL;
    }

    return p;
}


void
ngx_http_rtagent_audio_free(u_char *p, size_t size, ngx_log_t *log)
{
    if (munmap(p, size) == -1) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "rtagent: munmap(%uz) failed", size);
    }
}


void
ngx_http_rtagent_timer_init(ngx_http_rtagent_timer_t *t,
    ngx_event_handler_pt handler, void *data, ngx_log_t *log)
{
    ngx_memzero(t, sizeof(ngx_http_rtagent_timer_t));

    t->data = data;
    t->ident = -1;
    t->event.handler = handler;
    t->event.data = t;
    t->event.log = log;
}
