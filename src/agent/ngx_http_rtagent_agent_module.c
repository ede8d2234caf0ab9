
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

#include <agent/ngx_http_rtagent_agent_module.h>


/* an agent file or a prompt file larger than this is refused */
#define NGX_HTTP_RTAGENT_AGENT_FILE_MAX  (1024 * 1024)


typedef struct {
    ngx_str_t                  dir;           /* full path, no trailing / */
    ngx_str_t                  entry_name;
    ngx_array_t               *agents;        /* ngx_http_rtagent_agent_t */
    ngx_http_rtagent_agent_t  *entry;
} ngx_http_rtagent_agent_main_conf_t;


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
    NULL,                                    /* init process */
    NULL,                                    /* init thread */
    NULL,                                    /* exit thread */
    NULL,                                    /* exit process */
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
     */

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
