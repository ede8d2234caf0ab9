
/*
 * rtagent_agents <dir>: every *.yaml in the folder (relative to the nginx
 * prefix) is read, parsed with the agent definition codec into cf->pool
 * and, once the http block is read, checked as a set against the entry
 * agent of rtagent_entry_agent.  Any problem stops the configuration with
 * the file, the line and the field named.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_md5.h>

#include <ngx_http_rtagent_core.h>
#include <agent/ngx_http_rtagent_agent_module.h>
#include <agent/ngx_http_rtagent_agent_data.h>
#include <agent/ngx_http_rtagent_safety.h>
#include <store/ngx_http_rtagent_registry.h>


/* an agent file or a prompt file larger than this is refused */
#define NGX_HTTP_RTAGENT_AGENT_FILE_MAX  (1024 * 1024)

/* a registry entry outlives this many missed heartbeats, no more */
#define NGX_HTTP_RTAGENT_AGENT_TTL_BEATS  3

/* GET /api/agents answers 503 when Redis has not answered by then */
#define NGX_HTTP_RTAGENT_AGENTS_API_TIMEOUT  3000

/* what an agent publishes in the registry (see store/.._registry.h) */
#define NGX_HTTP_RTAGENT_AGENT_NFIELDS    7


typedef struct {
    ngx_str_t                  dir;           /* full path, no trailing / */
    ngx_str_t                  entry_name;
    ngx_array_t               *agents;        /* ngx_http_rtagent_agent_t */
    ngx_http_rtagent_agent_t  *entry;
    ngx_msec_t                 heartbeat;     /* rtagent_agents_heartbeat */
    ngx_flag_t                 redact;        /* rtagent_redact */

    /* rtagent_agent_data: the demo policyholders, written once at start */
    ngx_str_t                  data;
    ngx_http_rtagent_policyholder_t  *policies;
    size_t                     npolicies;
    unsigned                   data_written:1;

    /* the worker that publishes: its timer and the fields of each agent */
    ngx_event_t                beat;
    ngx_http_rtagent_store_field_t  *fields;
} ngx_http_rtagent_agent_main_conf_t;


/* a GET /api/agents that waits for Redis; see ngx_http_rtagent_agents_api */
typedef struct {
    ngx_http_request_t        *r;             /* NULL once it is gone */
    ngx_event_t                timeout;
    unsigned                   pending:1;     /* Redis has not answered */
    unsigned                   answered:1;    /* the timeout answered */
} ngx_http_rtagent_agent_api_t;


static char *ngx_http_rtagent_agents_dir(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_rtagent_agent_load(ngx_conf_t *cf,
    ngx_http_rtagent_agent_main_conf_t *amcf, ngx_str_t *path);
static ngx_int_t ngx_http_rtagent_agent_read(ngx_conf_t *cf,
    ngx_pool_t *pool, ngx_str_t *path, ngx_str_t *out, u_char *who);
static void *ngx_http_rtagent_agent_alloc(void *ctx, size_t size);
static ngx_int_t ngx_http_rtagent_agent_init_module(ngx_cycle_t *cycle);
static void *ngx_http_rtagent_agent_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_rtagent_agent_init_main_conf(ngx_conf_t *cf,
    void *conf);
static char *ngx_http_rtagent_agent_data(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_rtagent_agent_write_data(
    ngx_http_rtagent_agent_main_conf_t *amcf, ngx_log_t *log);
static ngx_int_t ngx_http_rtagent_agent_init_process(ngx_cycle_t *cycle);
static void ngx_http_rtagent_agent_exit_process(ngx_cycle_t *cycle);
static void ngx_http_rtagent_agent_beat(ngx_event_t *ev);
static char *ngx_http_rtagent_agents_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_rtagent_agents_api_handler(ngx_http_request_t *r);
static void ngx_http_rtagent_agents_api_cleanup(void *data);
static void ngx_http_rtagent_agents_api_timeout(ngx_event_t *ev);
static void ngx_http_rtagent_agents_api_listed(void *data, ngx_int_t n,
    ngx_http_rtagent_registry_entry_t *entries);
static ngx_int_t ngx_http_rtagent_agents_api_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *json);


static ngx_command_t  ngx_http_rtagent_agent_commands[] = {

    { ngx_string("rtagent_agents"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_agents_dir,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rtagent_entry_agent"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_rtagent_agent_main_conf_t, entry_name),
      NULL },

    { ngx_string("rtagent_agents_heartbeat"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_rtagent_agent_main_conf_t, heartbeat),
      NULL },

    { ngx_string("rtagent_agent_data"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_agent_data,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rtagent_redact"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_rtagent_agent_main_conf_t, redact),
      NULL },

    { ngx_string("rtagent_agents_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_rtagent_agents_api,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_rtagent_agent_module_ctx = {
    NULL,                                    /* preconfiguration */
    NULL,                                    /* postconfiguration */

    ngx_http_rtagent_agent_create_main_conf, /* create main configuration */
    ngx_http_rtagent_agent_init_main_conf,   /* init main configuration */

    NULL,                                    /* create server configuration */
    NULL,                                    /* merge server configuration */

    NULL,                                    /* create location configuration */
    NULL                                     /* merge location configuration */
};


ngx_module_t  ngx_http_rtagent_agent_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_agent_module_ctx,      /* module context */
    ngx_http_rtagent_agent_commands,         /* module directives */
    NGX_HTTP_MODULE,                         /* module type */
    NULL,                                    /* init master */
    ngx_http_rtagent_agent_init_module,      /* init module */
    ngx_http_rtagent_agent_init_process,     /* init process */
    NULL,                                    /* init thread */
    NULL,                                    /* exit thread */
    ngx_http_rtagent_agent_exit_process,     /* exit process */
    NULL,                                    /* exit master */
    NGX_MODULE_V1_PADDING
};


static char *
ngx_http_rtagent_agents_dir(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rtagent_agent_main_conf_t *amcf = conf;

    u_char           *p;
    ngx_str_t        *value, name, pattern;
    ngx_uint_t        n;
    ngx_glob_t        gl;
    ngx_file_info_t   fi;

    if (amcf->dir.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    while (name.len > 1 && name.data[name.len - 1] == '/') {
        name.len--;
    }

    if (ngx_get_full_name(cf->pool, &cf->cycle->prefix, &name) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* a NUL-terminated copy: ngx_get_full_name() may return the argument */
    p = ngx_pnalloc(cf->pool, name.len + sizeof("/*.yaml"));
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    amcf->dir.data = p;
    amcf->dir.len = name.len;
    p = ngx_cpymem(p, name.data, name.len);
    *p = '\0';

    if (ngx_file_info(amcf->dir.data, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "rtagent_agents: " ngx_file_info_n " \"%V\" failed",
                           &amcf->dir);
        return NGX_CONF_ERROR;
    }

    if (!ngx_is_dir(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_agents: \"%V\" is not a directory",
                           &amcf->dir);
        return NGX_CONF_ERROR;
    }

    pattern.data = amcf->dir.data;
    pattern.len = ngx_cpymem(amcf->dir.data + amcf->dir.len, "/*.yaml",
                             sizeof("/*.yaml"))
                  - pattern.data - 1;

    amcf->agents = ngx_array_create(cf->pool, 8,
                                    sizeof(ngx_http_rtagent_agent_t));
    if (amcf->agents == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&gl, sizeof(ngx_glob_t));
    gl.pattern = pattern.data;
    gl.log = cf->log;
    gl.test = 1;

    if (ngx_open_glob(&gl) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "rtagent_agents: " ngx_open_glob_n " \"%V\" failed",
                           &pattern);
        amcf->dir.data[amcf->dir.len] = '\0';
        return NGX_CONF_ERROR;
    }

    /* glob() sorts: agents load, and are listed, in name order */

    for (n = 0; ; n++) {
        if (ngx_read_glob(&gl, &name) != NGX_OK) {
            break;
        }

        if (ngx_http_rtagent_agent_load(cf, amcf, &name) != NGX_OK) {
            ngx_close_glob(&gl);
            return NGX_CONF_ERROR;
        }
    }

    ngx_close_glob(&gl);

    /* the pattern was written over the directory's terminating NUL */
    amcf->dir.data[amcf->dir.len] = '\0';

    if (n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_agents: no *.yaml agent files in \"%V\"",
                           &amcf->dir);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_rtagent_agent_load(ngx_conf_t *cf,
    ngx_http_rtagent_agent_main_conf_t *amcf, ngx_str_t *path)
{
    u_char                         hash[16], *p;
    ngx_md5_t                      md5;
    ngx_str_t                      bytes, prompt, dir;
    char                           err[512];
    ngx_http_rtagent_agent_t      *agent;
    ngx_http_rtagent_agent_def_t  *def;

    agent = ngx_array_push(amcf->agents);
    if (agent == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(agent, sizeof(ngx_http_rtagent_agent_t));

    /* the path is glob()'s: copy it, it goes with the glob */
    agent->file.len = path->len;
    agent->file.data = ngx_pnalloc(cf->pool, path->len + 1);
    if (agent->file.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(agent->file.data, path->data, path->len);
    agent->file.data[path->len] = '\0';

    if (ngx_http_rtagent_agent_read(cf, cf->temp_pool, &agent->file, &bytes,
                                    (u_char *) "")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_rtagent_agent_def_parse(bytes.data, bytes.len,
                                         (char *) agent->file.data,
                                         ngx_http_rtagent_agent_alloc,
                                         cf->pool, &def, err, sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "rtagent_agents: %s", err);
        return NGX_ERROR;
    }

    agent->def = def;
    agent->name.len = def->name.len;
    agent->name.data = def->name.data;

    ngx_md5_init(&md5);
    ngx_md5_update(&md5, bytes.data, bytes.len);

    if (def->prompt_file.len) {
        /* beside the YAML file: relative to its folder */
        dir.len = amcf->dir.len + 1;
        dir.data = ngx_pnalloc(cf->temp_pool, dir.len);
        if (dir.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(dir.data, amcf->dir.data, amcf->dir.len);
        *p = '/';

        prompt.len = def->prompt_file.len;
        prompt.data = def->prompt_file.data;

        if (ngx_get_full_name(cf->pool, &dir, &prompt) != NGX_OK) {
            return NGX_ERROR;
        }

        /* its problems are told as the field's */
        p = ngx_pnalloc(cf->temp_pool, agent->file.len + NGX_INT_T_LEN
                                       + sizeof(": : prompt_file: "));
        if (p == NULL) {
            return NGX_ERROR;
        }

        (void) ngx_sprintf(p, "%V:%ui: prompt_file: %Z", &agent->file,
                           (ngx_uint_t) def->prompt_file.line);

        if (ngx_http_rtagent_agent_read(cf, cf->pool, &prompt,
                                        &agent->prompt, p)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_md5_update(&md5, agent->prompt.data, agent->prompt.len);

    } else {
        agent->prompt.len = def->prompt.len;
        agent->prompt.data = def->prompt.data;
    }

    ngx_md5_final(hash, &md5);

    agent->version.len = 2 * sizeof(hash);
    agent->version.data = ngx_pnalloc(cf->pool, agent->version.len);
    if (agent->version.data == NULL) {
        return NGX_ERROR;
    }

    ngx_hex_dump(agent->version.data, hash, sizeof(hash));

    return NGX_OK;
}


/*
 * The whole file (NUL-terminated path) into pool, NUL-terminated; who
 * (NUL-terminated) goes before the file name in messages.
 */
static ngx_int_t
ngx_http_rtagent_agent_read(ngx_conf_t *cf, ngx_pool_t *pool,
    ngx_str_t *path, ngx_str_t *out, u_char *who)
{
    off_t       size;
    ssize_t     n;
    ngx_int_t   rc;
    ngx_file_t  file;

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = *path;
    file.log = cf->log;

    file.fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "rtagent_agents: %s" ngx_open_file_n " \"%V\" failed",
                           who, path);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (ngx_fd_info(file.fd, &file.info) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "rtagent_agents: %s" ngx_fd_info_n " \"%V\" failed",
                           who, path);
        goto done;
    }

    size = ngx_file_size(&file.info);

    if (size > NGX_HTTP_RTAGENT_AGENT_FILE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_agents: %s\"%V\" is larger than %d bytes",
                           who, path, NGX_HTTP_RTAGENT_AGENT_FILE_MAX);
        goto done;
    }

    out->data = ngx_pnalloc(pool, (size_t) size + 1);
    if (out->data == NULL) {
        goto done;
    }

    n = ngx_read_file(&file, out->data, (size_t) size, 0);
    if (n == NGX_ERROR) {
        goto done;
    }

    if (n != size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_agents: %s\"%V\" changed while read",
                           who, path);
        goto done;
    }

    out->len = (size_t) size;
    out->data[size] = '\0';
    rc = NGX_OK;

done:

    if (ngx_close_file(file.fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, cf->log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", path);
    }

    return rc;
}


static void *
ngx_http_rtagent_agent_alloc(void *ctx, size_t size)
{
    return ngx_palloc(ctx, size);
}


static void *
ngx_http_rtagent_agent_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_rtagent_agent_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtagent_agent_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     amcf->dir = { 0, NULL };
     *     amcf->entry_name = { 0, NULL };
     *     amcf->agents = NULL;
     *     amcf->entry = NULL;
     *     amcf->beat = { 0 };
     *     amcf->fields = NULL;
     *     amcf->data = { 0, NULL };
     *     amcf->policies = NULL;
     *     amcf->npolicies = 0;
     *     amcf->data_written = 0;
     */

    amcf->heartbeat = NGX_CONF_UNSET_MSEC;
    amcf->redact = NGX_CONF_UNSET;

    return amcf;
}


static char *
ngx_http_rtagent_agent_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_rtagent_agent_main_conf_t *amcf = conf;

    u_char                         *p, *last, *entry;
    char                            err[512];
    size_t                          len;
    ngx_uint_t                      i;
    ngx_http_rtagent_agent_t       *agents;
    ngx_http_rtagent_agent_def_t  **defs;

    ngx_conf_init_msec_value(amcf->heartbeat, 10000);
    ngx_conf_init_value(amcf->redact, 0);

    if (amcf->heartbeat == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "rtagent_agents_heartbeat must be more than 0");
        return NGX_CONF_ERROR;
    }

    if (amcf->agents == NULL) {
        if (amcf->entry_name.data) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "rtagent_entry_agent \"%V\" needs rtagent_agents",
                          &amcf->entry_name);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (amcf->entry_name.data == NULL) {
        ngx_str_set(&amcf->entry_name, "auth");
    }

    entry = ngx_pnalloc(cf->temp_pool, amcf->entry_name.len + 1);
    defs = ngx_palloc(cf->temp_pool,
                      amcf->agents->nelts * sizeof(*defs));
    if (entry == NULL || defs == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_cpystrn(entry, amcf->entry_name.data, amcf->entry_name.len + 1);

    agents = amcf->agents->elts;
    len = 0;

    for (i = 0; i < amcf->agents->nelts; i++) {
        defs[i] = agents[i].def;
        len += agents[i].name.len + 2;
    }

    if (ngx_http_rtagent_agent_def_link(defs, amcf->agents->nelts,
                                        (char *) entry, err, sizeof(err))
        != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "rtagent_agents \"%V\": %s",
                      &amcf->dir, err);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < amcf->agents->nelts; i++) {
        if (agents[i].name.len == amcf->entry_name.len
            && ngx_strncmp(agents[i].name.data, amcf->entry_name.data,
                           amcf->entry_name.len) == 0)
        {
            amcf->entry = &agents[i];
        }
    }

    /* "auth, fnol, ..." for the one line that says what was loaded */

    p = ngx_pnalloc(cf->temp_pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    last = p;

    for (i = 0; i < amcf->agents->nelts; i++) {
        if (i) {
            *last++ = ',';
            *last++ = ' ';
        }

        last = ngx_cpymem(last, agents[i].name.data, agents[i].name.len);
    }

    ngx_log_error(NGX_LOG_NOTICE, cf->log, 0,
                  "rtagent: %ui agents loaded (%*s) from \"%V\", entry agent"
                  " \"%V\"", amcf->agents->nelts, (size_t) (last - p), p,
                  &amcf->dir, &amcf->entry_name);

    return NGX_CONF_OK;
}


/* what was loaded, in the configured error log (at configuration time
 * only the startup log, at notice, is open) */
static ngx_int_t
ngx_http_rtagent_agent_init_module(ngx_cycle_t *cycle)
{
    ngx_uint_t                 i;
    ngx_array_t               *agents;
    ngx_http_rtagent_agent_t  *agent;

    agents = ngx_http_rtagent_agents(cycle);
    if (agents == NULL) {
        return NGX_OK;
    }

    agent = agents->elts;

    for (i = 0; i < agents->nelts; i++) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, cycle->log, 0,
                       "rtagent: agent \"%V\" from \"%V\", version %V",
                       &agent[i].name, &agent[i].file, &agent[i].version);
    }

    return NGX_OK;
}


static ngx_http_rtagent_agent_main_conf_t *
ngx_http_rtagent_agent_conf(ngx_cycle_t *cycle)
{
    if (cycle->conf_ctx == NULL
        || ngx_get_conf(cycle->conf_ctx, ngx_http_module) == NULL)
    {
        return NULL;
    }

    return ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_rtagent_agent_module);
}


ngx_array_t *
ngx_http_rtagent_agents(ngx_cycle_t *cycle)
{
    ngx_http_rtagent_agent_main_conf_t  *amcf;

    amcf = ngx_http_rtagent_agent_conf(cycle);

    return amcf ? amcf->agents : NULL;
}


ngx_http_rtagent_agent_t *
ngx_http_rtagent_agent_find(ngx_cycle_t *cycle, ngx_str_t *name)
{
    ngx_uint_t                           i;
    ngx_http_rtagent_agent_t            *agents;
    ngx_http_rtagent_agent_main_conf_t  *amcf;

    amcf = ngx_http_rtagent_agent_conf(cycle);
    if (amcf == NULL || amcf->agents == NULL) {
        return NULL;
    }

    agents = amcf->agents->elts;

    for (i = 0; i < amcf->agents->nelts; i++) {
        if (agents[i].name.len == name->len
            && ngx_strncmp(agents[i].name.data, name->data, name->len) == 0)
        {
            return &agents[i];
        }
    }

    return NULL;
}


ngx_http_rtagent_agent_t *
ngx_http_rtagent_agent_entry(ngx_cycle_t *cycle)
{
    ngx_http_rtagent_agent_main_conf_t  *amcf;

    amcf = ngx_http_rtagent_agent_conf(cycle);

    return amcf ? amcf->entry : NULL;
}


/*
 * The registry's publisher: worker 0 of each instance (one is enough, and
 * the entries then name a worker that lives as long as the instance's
 * configuration).  Its first beat comes from the event loop, once the Redis
 * module (after this one) has opened the worker's connections.
 */
static ngx_int_t
ngx_http_rtagent_agent_init_process(ngx_cycle_t *cycle)
{
    u_char                              *p, *pid, *now;
    size_t                               len;
    ngx_uint_t                           i, k;
    ngx_http_rtagent_agent_t            *agents;
    ngx_http_rtagent_agent_def_t        *def;
    ngx_http_rtagent_store_field_t      *f;
    ngx_http_rtagent_agent_main_conf_t  *amcf;

    amcf = ngx_http_rtagent_agent_conf(cycle);

    /* every worker stores caller text: redact it there when asked to */
    ngx_http_rtagent_store_redact_with(amcf && amcf->redact == 1
                                       ? ngx_http_rtagent_safety_redact
                                       : NULL);

    if (amcf == NULL || (amcf->agents == NULL && amcf->policies == NULL)
        || !((ngx_process == NGX_PROCESS_WORKER && ngx_worker == 0)
             || ngx_process == NGX_PROCESS_SINGLE))
    {
        return NGX_OK;
    }

    amcf->beat.handler = ngx_http_rtagent_agent_beat;
    amcf->beat.data = amcf;
    amcf->beat.log = cycle->log;
    /* a graceful shutdown does not wait for it */
    amcf->beat.cancelable = 1;

    ngx_add_timer(&amcf->beat, 1);

    if (amcf->agents == NULL) {
        return NGX_OK;
    }

    amcf->fields = ngx_palloc(cycle->pool, amcf->agents->nelts
                                           * NGX_HTTP_RTAGENT_AGENT_NFIELDS
                                           * sizeof(*amcf->fields));
    pid = ngx_pnalloc(cycle->pool, NGX_INT_T_LEN + NGX_INT64_LEN);
    if (amcf->fields == NULL || pid == NULL) {
        return NGX_ERROR;
    }

    now = ngx_sprintf(pid, "%P", ngx_pid);

    agents = amcf->agents->elts;

    for (i = 0; i < amcf->agents->nelts; i++) {
        def = agents[i].def;
        f = &amcf->fields[i * NGX_HTTP_RTAGENT_AGENT_NFIELDS];

        /* "verify_identity,lookup_policy": tool names have no comma */
        len = 0;
        for (k = 0; k < def->ntools; k++) {
            len += def->tools[k].name.len + 1;
        }

        p = ngx_pnalloc(cycle->pool, len + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        f[2].name = "tools";
        f[2].value.data = p;

        for (k = 0; k < def->ntools; k++) {
            if (k) {
                *p++ = ',';
            }

            p = ngx_cpymem(p, def->tools[k].name.data, def->tools[k].name.len);
        }

        f[2].value.len = p - f[2].value.data;

        f[0].name = "version";
        f[0].value = agents[i].version;
        f[1].name = "description";
        f[1].value.len = def->description.len;
        f[1].value.data = def->description.data;
        f[3].name = "language";
        f[3].value.len = def->language.len;
        f[3].value.data = def->language.data;
        f[4].name = "instance";
        f[4].value = cycle->hostname;
        f[5].name = "pid";
        f[5].value.data = pid;
        f[5].value.len = now - pid;
        f[6].name = "updated_at";           /* written at each beat */
        f[6].value.data = now;
        f[6].value.len = 0;
    }

    return NGX_OK;
}


static void
ngx_http_rtagent_agent_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_rtagent_agent_main_conf_t  *amcf;

    amcf = ngx_http_rtagent_agent_conf(cycle);

    if (amcf && amcf->beat.timer_set) {
        ngx_del_timer(&amcf->beat);
    }
}


/*
 * Each beat rewrites every agent's entry with a TTL of a few beats.  A
 * worker that shuts down (a reload, a stop) publishes no more: the new
 * workers' entries must not be overwritten by the old ones, and an agent
 * no one serves any more expires.
 */
static void
ngx_http_rtagent_agent_beat(ngx_event_t *ev)
{
    ngx_http_rtagent_agent_main_conf_t *amcf = ev->data;

    u_char                          *now;
    ngx_int_t                        rc;
    ngx_uint_t                       i;
    ngx_http_rtagent_agent_t        *agents;
    ngx_http_rtagent_store_field_t  *f;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (amcf->policies && !amcf->data_written) {
        amcf->data_written = 1;

        if (ngx_http_rtagent_agent_write_data(amcf, ev->log) == NGX_DECLINED)
        {
            /* no rtagent_redis: nowhere to write, now or later */
            return;
        }
    }

    if (amcf->agents == NULL) {
        return;
    }

    agents = amcf->agents->elts;
    f = &amcf->fields[6];

    now = ngx_sprintf(f->value.data, "%L",
                      (int64_t) ngx_http_rtagent_now_ms());

    for (i = 0; i < amcf->agents->nelts; i++) {
        f = &amcf->fields[i * NGX_HTTP_RTAGENT_AGENT_NFIELDS];
        f[6].value.len = now - f[6].value.data;

        rc = ngx_http_rtagent_registry_publish(&agents[i].name, f,
                                    NGX_HTTP_RTAGENT_AGENT_NFIELDS,
                                    amcf->heartbeat
                                    * NGX_HTTP_RTAGENT_AGENT_TTL_BEATS,
                                    ev->log);

        if (rc == NGX_DECLINED) {
            /* no rtagent_redis: nowhere to publish, now or later */
            return;
        }

        if (rc == NGX_ERROR) {
            ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                          "rtagent: agent \"%V\" not published in the "
                          "registry: out of memory", &agents[i].name);
        }
    }

    ngx_add_timer(ev, amcf->heartbeat);
}


/* rtagent_agents_api: GET lists the registry of every instance */

static char *
ngx_http_rtagent_agents_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_rtagent_agents_api_handler;

    return NGX_CONF_OK;
}


/*
 * The request waits for Redis's answer with its count raised; the link
 * between the two is freed by whichever of them ends last (the answer,
 * or the request's pool cleanup).
 */
static ngx_int_t
ngx_http_rtagent_agents_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_str_t                      json;
    ngx_pool_cleanup_t            *cln;
    ngx_http_rtagent_agent_api_t  *api;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    api = ngx_calloc(sizeof(ngx_http_rtagent_agent_api_t),
                     r->connection->log);
    if (cln == NULL || api == NULL) {
        if (api) {
            ngx_free(api);
        }

        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    api->r = r;
    api->pending = 1;

    rc = ngx_http_rtagent_registry_list(r->connection->log,
                                        ngx_http_rtagent_agents_api_listed,
                                        api);
    if (rc != NGX_OK) {
        ngx_free(api);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_str_set(&json, "{\"error\":\"no rtagent_redis: no registry\"}");

        return ngx_http_rtagent_agents_api_send(r,
                                                NGX_HTTP_SERVICE_UNAVAILABLE,
                                                &json);
    }

    cln->handler = ngx_http_rtagent_agents_api_cleanup;
    cln->data = api;

    /* Redis may be away for long: the writes wait for it, this does not */
    api->timeout.handler = ngx_http_rtagent_agents_api_timeout;
    api->timeout.data = api;
    api->timeout.log = r->connection->log;
    ngx_add_timer(&api->timeout, NGX_HTTP_RTAGENT_AGENTS_API_TIMEOUT);

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_rtagent_agents_api_cleanup(void *data)
{
    ngx_http_rtagent_agent_api_t *api = data;

    if (api->timeout.timer_set) {
        ngx_del_timer(&api->timeout);
    }

    if (api->pending) {
        api->r = NULL;
        return;
    }

    ngx_free(api);
}


static void
ngx_http_rtagent_agents_api_timeout(ngx_event_t *ev)
{
    ngx_http_rtagent_agent_api_t *api = ev->data;

    ngx_str_t            json;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = api->r;
    c = r->connection;

    ngx_log_error(NGX_LOG_ERR, c->log, 0,
                  "rtagent: Redis did not answer the agents' registry query "
                  "within %M ms", (ngx_msec_t)
                  NGX_HTTP_RTAGENT_AGENTS_API_TIMEOUT);

    /* the answer, when it comes, leaves the request alone */
    api->answered = 1;
    ngx_str_set(&json, "{\"error\":\"Redis did not answer\"}");

    ngx_http_finalize_request(r, ngx_http_rtagent_agents_api_send(r,
                                               NGX_HTTP_SERVICE_UNAVAILABLE,
                                               &json));
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_rtagent_agents_api_listed(void *data, ngx_int_t n,
    ngx_http_rtagent_registry_entry_t *entries)
{
    ngx_http_rtagent_agent_api_t *api = data;

    u_char                       *p, *last, *comma;
    ngx_int_t                     i;
    ngx_str_t                     json, *name, *value;
    ngx_uint_t                    k, status;
    ngx_connection_t             *c;
    ngx_http_request_t           *r;
    ngx_http_rtagent_json_out_t   j;

    api->pending = 0;
    r = api->r;

    if (api->timeout.timer_set) {
        ngx_del_timer(&api->timeout);
    }

    if (r == NULL) {
        ngx_free(api);
        return;
    }

    if (api->answered) {
        /* the request's cleanup frees api */
        return;
    }

    /* the worker exits: no response is sent from inside its exit */
    if (n == NGX_HTTP_RTAGENT_STORE_EXITING) {
        return;
    }

    if (ngx_http_rtagent_json_out_init(&j) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    status = NGX_HTTP_OK;

    if (n < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rtagent: Redis did not answer the agents' registry "
                      "query");
        ngx_http_rtagent_json_out_cstr(&j, "error", "Redis did not answer");
        status = NGX_HTTP_SERVICE_UNAVAILABLE;
        goto send;
    }

    ngx_http_rtagent_json_out_array(&j, "agents");

    for (i = 0; i < n; i++) {
        ngx_http_rtagent_json_out_open(&j, NULL);

        for (k = 0; k < entries[i].nfields; k++) {
            name = &entries[i].names[k];
            value = &entries[i].values[k];

            /* C strings for the writer's keys */
            p = ngx_pnalloc(r->pool, name->len + 1);
            if (p == NULL) {
                ngx_http_rtagent_json_out_free(&j);
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            (void) ngx_cpystrn(p, name->data, name->len + 1);

            if (ngx_strcmp(p, "tools") == 0) {
                ngx_http_rtagent_json_out_array(&j, (char *) p);

                last = value->data + value->len;

                for (comma = value->data; comma < last; comma = p + 1) {
                    p = ngx_strlchr(comma, last, ',');
                    if (p == NULL) {
                        p = last;
                    }

                    ngx_http_rtagent_json_out_str(&j, NULL, comma, p - comma);
                }

                ngx_http_rtagent_json_out_array_close(&j);

            } else if ((ngx_strcmp(p, "pid") == 0
                        || ngx_strcmp(p, "updated_at") == 0)
                       && ngx_atoof(value->data, value->len) != NGX_ERROR)
            {
                ngx_http_rtagent_json_out_num(&j, (char *) p, value->data,
                                              value->len);

            } else {
                ngx_http_rtagent_json_out_str(&j, (char *) p, value->data,
                                              value->len);
            }
        }

        ngx_http_rtagent_json_out_close(&j);
    }

    ngx_http_rtagent_json_out_array_close(&j);

send:

    if (ngx_http_rtagent_json_out_done(&j, r->pool, &json) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    c = r->connection;

    ngx_http_finalize_request(r, ngx_http_rtagent_agents_api_send(r, status,
                                                                  &json));
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_rtagent_agents_api_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *json)
{
    ngx_int_t    rc;
    ngx_buf_t   *b;
    ngx_chain_t  out;

    r->headers_out.status = status;
    r->headers_out.content_length_n = json->len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = json->data;
    b->last = json->data + json->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * rtagent_agent_data <file>: the demo policyholders, read and checked
 * here (a bad file fails nginx -t with the file, line and field named),
 * written to Redis by the publishing worker at its start
 */
static char *
ngx_http_rtagent_agent_data(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rtagent_agent_main_conf_t *amcf = conf;

    u_char     *p;
    char        err[512];
    ngx_str_t  *value, name, bytes;

    if (amcf->data.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (ngx_get_full_name(cf->pool, &cf->cycle->prefix, &name) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* a NUL-terminated copy: ngx_get_full_name() may return the argument */
    p = ngx_pnalloc(cf->pool, name.len + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(p, name.data, name.len);
    p[name.len] = '\0';
    amcf->data.data = p;
    amcf->data.len = name.len;

    if (ngx_http_rtagent_agent_read(cf, cf->temp_pool, &amcf->data, &bytes,
                                    (u_char *) "rtagent_agent_data: ")
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_rtagent_agent_data_parse(bytes.data, bytes.len,
                                          (char *) amcf->data.data,
                                          ngx_http_rtagent_agent_alloc,
                                          cf->pool, &amcf->policies,
                                          &amcf->npolicies, err, sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "rtagent_agent_data: %s",
                           err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* HSET rtagent:policy:{<policy>} for each; vehicles as a JSON array */
static ngx_int_t
ngx_http_rtagent_agent_write_data(ngx_http_rtagent_agent_main_conf_t *amcf,
    ngx_log_t *log)
{
    size_t                            i, k;
    ngx_int_t                         rc;
    ngx_str_t                         policy, json;
    ngx_http_rtagent_json_out_t       j;
    ngx_http_rtagent_policyholder_t  *ph;
    ngx_http_rtagent_store_field_t    f[4];

    for (i = 0; i < amcf->npolicies; i++) {
        ph = &amcf->policies[i];

        if (ngx_http_rtagent_json_out_init_list(&j) != NGX_OK) {
            return NGX_ERROR;
        }

        for (k = 0; k < ph->vehicles.nelts; k++) {
            ngx_http_rtagent_json_out_str(&j, NULL, ph->vehicles.elts[k].data,
                                          ph->vehicles.elts[k].len);
        }

        if (ngx_http_rtagent_json_out_get(&j, &json) != NGX_OK) {
            ngx_http_rtagent_json_out_free(&j);
            ngx_log_error(NGX_LOG_ERR, log, 0, "rtagent: policy \"%s\": its "
                          "vehicles are not UTF-8, not written",
                          ph->policy.data);
            continue;
        }

        policy.len = ph->policy.len;
        policy.data = ph->policy.data;
        f[0].name = "zip";
        f[0].value.len = ph->zip.len;
        f[0].value.data = ph->zip.data;
        f[1].name = "name";
        f[1].value.len = ph->name.len;
        f[1].value.data = ph->name.data;
        f[2].name = "phone";
        f[2].value.len = ph->phone.len;
        f[2].value.data = ph->phone.data;
        f[3].name = "vehicles";
        f[3].value = json;

        rc = ngx_http_rtagent_registry_policy(&policy, f, 4, log);

        ngx_http_rtagent_json_out_free(&j);

        if (rc == NGX_DECLINED) {
            return NGX_DECLINED;
        }

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "rtagent: %uz policyholders from \"%V\" written to Redis",
                  amcf->npolicies, &amcf->data);

    return NGX_OK;
}
