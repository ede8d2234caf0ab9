
/*
 * ACS Call Automation: the account, its directives, signed REST requests,
 * callback tokens and the JWT check (see ngx_http_rtagent_acs.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/rand.h>

#include <acs/ngx_http_rtagent_acs.h>
#include <acs/ngx_http_rtagent_acs_body.h>


#define NGX_HTTP_RTAGENT_ACS_REF_RAND    16
#define NGX_HTTP_RTAGENT_ACS_SECRET_MAX  4096
#define NGX_HTTP_RTAGENT_ACS_ISSUER                                          \
    "https://acscallautomation.communication.azure.com"


typedef struct {
    ngx_http_rtagent_acs_rest_pt     handler;
    void                            *data;
    ngx_str_t                        call_id;
    ngx_str_t                        what;        /* "POST /calling/..." */
} ngx_http_rtagent_acs_rest_ctx_t;


/* the worker's JWKS when rtagent_acs_jwks names a URL */
typedef struct {
    ngx_http_rtagent_jwks_t         *keys;
    ngx_http_rtagent_http_job_t     *job;
    ngx_http_rtagent_timer_t         refresh;
} ngx_http_rtagent_acs_worker_t;


static void *ngx_http_rtagent_acs_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_rtagent_acs_init_main_conf(ngx_conf_t *cf, void *conf);
static ngx_int_t ngx_http_rtagent_acs_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_rtagent_acs_init_process(ngx_cycle_t *cycle);
static void ngx_http_rtagent_acs_exit_process(ngx_cycle_t *cycle);
static char *ngx_http_rtagent_acs_connection_string(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_rtagent_acs_secret_slot(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_rtagent_acs_url_slot(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_rtagent_acs_agent(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_rtagent_acs_jwks(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_rtagent_acs_handler_slot(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_rtagent_acs_secret(ngx_conf_t *cf, ngx_str_t *in,
    ngx_str_t *out);
static ngx_int_t ngx_http_rtagent_acs_conf_file(ngx_conf_t *cf,
    ngx_str_t *name, size_t max, ngx_str_t *out);
static void ngx_http_rtagent_acs_jwks_free(void *data);
static void ngx_http_rtagent_acs_rest_done(ngx_http_rtagent_http_job_t *job);
static void ngx_http_rtagent_acs_jwks_fetch(ngx_event_t *ev);
static void ngx_http_rtagent_acs_jwks_done(ngx_http_rtagent_http_job_t *job);


static ngx_conf_enum_t  ngx_http_rtagent_acs_formats[] = {
    { ngx_string("pcm16KMono"), 16000 },
    { ngx_string("pcm24KMono"), 24000 },
    { ngx_null_string, 0 }
};


#define ngx_http_rtagent_acs_offset(field)                                   \
    offsetof(ngx_http_rtagent_acs_main_conf_t, field)


static ngx_command_t  ngx_http_rtagent_acs_commands[] = {

    { ngx_string("rtagent_acs_events"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_rtagent_acs_handler_slot,
      0,
      0,
      ngx_http_rtagent_acs_events_handler },

    { ngx_string("rtagent_acs_calls"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_rtagent_acs_handler_slot,
      0,
      0,
      ngx_http_rtagent_acs_calls_handler },

    { ngx_string("rtagent_acs_connection_string"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_acs_connection_string,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rtagent_acs_api_version"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      ngx_http_rtagent_acs_offset(api_version),
      NULL },

    { ngx_string("rtagent_acs_callback_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_acs_url_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      ngx_http_rtagent_acs_offset(callback_url),
      "https" },

    { ngx_string("rtagent_acs_media_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_acs_url_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      ngx_http_rtagent_acs_offset(media_url),
      "wss" },

    { ngx_string("rtagent_acs_audio_format"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      ngx_http_rtagent_acs_offset(audio_format),
      NULL },

    { ngx_string("rtagent_acs_agent"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_rtagent_acs_agent,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rtagent_acs_source_number"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      ngx_http_rtagent_acs_offset(source_number),
      NULL },

    { ngx_string("rtagent_acs_callback_secret"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_acs_secret_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      ngx_http_rtagent_acs_offset(secret),
      NULL },

    { ngx_string("rtagent_acs_api_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_acs_secret_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      ngx_http_rtagent_acs_offset(api_key),
      NULL },

    { ngx_string("rtagent_acs_eventgrid_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_acs_secret_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      ngx_http_rtagent_acs_offset(eventgrid_key),
      NULL },

    { ngx_string("rtagent_acs_jwt"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      ngx_http_rtagent_acs_offset(jwt),
      NULL },

    { ngx_string("rtagent_acs_jwt_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      ngx_http_rtagent_acs_offset(jwt_issuer),
      NULL },

    { ngx_string("rtagent_acs_jwt_audience"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      ngx_http_rtagent_acs_offset(jwt_audience),
      NULL },

    { ngx_string("rtagent_acs_jwks"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_acs_jwks,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rtagent_acs_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      ngx_http_rtagent_acs_offset(timeout),
      NULL },

    { ngx_string("rtagent_acs_jwks_refresh"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      ngx_http_rtagent_acs_offset(jwks_refresh),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_rtagent_acs_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_rtagent_acs_init,             /* postconfiguration */

    ngx_http_rtagent_acs_create_main_conf, /* create main configuration */
    ngx_http_rtagent_acs_init_main_conf,   /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_rtagent_acs_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_acs_module_ctx,      /* module context */
    ngx_http_rtagent_acs_commands,         /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_rtagent_acs_init_process,     /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_rtagent_acs_exit_process,     /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_rtagent_acs_worker_t  ngx_http_rtagent_acs_worker;


/* configuration ---------------------------------------------------------- */

static void *
ngx_http_rtagent_acs_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_rtagent_acs_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtagent_acs_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    amcf->jwt = NGX_CONF_UNSET;
    amcf->jwks_refresh = NGX_CONF_UNSET_MSEC;
    amcf->timeout = NGX_CONF_UNSET_MSEC;

    return amcf;
}


static char *
ngx_http_rtagent_acs_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_rtagent_acs_main_conf_t *amcf = conf;

    u_char     *p;
    ngx_uint_t  i;

    ngx_conf_init_value(amcf->jwt, 0);
    ngx_conf_init_msec_value(amcf->jwks_refresh, 60 * 60 * 1000);

    /* a call rings while its answer is under way: fail fast, retry */
    ngx_conf_init_msec_value(amcf->timeout, 10000);

    if (amcf->api_version.len == 0) {
        ngx_str_set(&amcf->api_version, "2025-05-15");
    }

    if (amcf->default_agent.len == 0) {
        ngx_str_set(&amcf->default_agent, "auth");
    }

    if (amcf->jwt_issuer.len == 0) {
        ngx_str_set(&amcf->jwt_issuer, NGX_HTTP_RTAGENT_ACS_ISSUER);
    }

    if (amcf->audio_format.len == 0) {
        ngx_str_set(&amcf->audio_format, "pcm16KMono");

    } else {
        for (i = 0; ngx_http_rtagent_acs_formats[i].name.len; i++) {
            if (ngx_strcmp(amcf->audio_format.data,
                           ngx_http_rtagent_acs_formats[i].name.data) == 0)
            {
                break;
            }
        }

        if (ngx_http_rtagent_acs_formats[i].name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "rtagent_acs_audio_format \"%V\": must be "
                               "pcm16KMono or pcm24KMono",
                               &amcf->audio_format);
            return NGX_CONF_ERROR;
        }
    }

    for (p = amcf->api_version.data;
         p < amcf->api_version.data + amcf->api_version.len;
         p++)
    {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z')
              || *p == '-'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "rtagent_acs_api_version \"%V\" is not an "
                               "api version", &amcf->api_version);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* what the handlers need is checked once the whole http{} block is read */

static ngx_int_t
ngx_http_rtagent_acs_init(ngx_conf_t *cf)
{
    u_char                            *p;
    ngx_http_module_t                 *hm;
    ngx_http_rtagent_acs_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_rtagent_acs_module);

    /*
     * REST requests belong to no location: they use the rtagent_upstream_*
     * directives of the http{} level, which nginx leaves unmerged; merging
     * them into a fresh configuration fills in the defaults.
     */
    hm = ngx_http_rtagent_http_module.ctx;

    amcf->http = hm->create_loc_conf(cf);
    if (amcf->http == NULL) {
        return NGX_ERROR;
    }

    if (hm->merge_loc_conf(cf,
                           ngx_http_conf_get_module_loc_conf(cf,
                               ngx_http_rtagent_http_module),
                           amcf->http)
        != NGX_CONF_OK)
    {
        return NGX_ERROR;
    }

    /*
     * Without an account the events endpoint still validates subscriptions
     * and takes callbacks; an IncomingCall is then logged and recorded as
     * ERROR_OCCURRED, and /api/calls answers 503.
     */
    if ((amcf->events || amcf->calls)
        && (amcf->account == NULL || amcf->callback_url.len == 0
            || amcf->media_url.len == 0))
    {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "%s: calls cannot be %s without "
                           "rtagent_acs_connection_string, "
                           "rtagent_acs_callback_url and "
                           "rtagent_acs_media_url",
                           amcf->events ? "rtagent_acs_events"
                                        : "rtagent_acs_calls",
                           amcf->events ? "answered" : "made");
    }

    if (amcf->source_number.len
        && (amcf->source_number.data[0] != '+'
            || !ngx_http_rtagent_acs_target_valid(
                   (char *) amcf->source_number.data)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_acs_source_number \"%V\" is not an E.164 "
                           "number (+ and 7 to 15 digits)",
                           &amcf->source_number);
        return NGX_ERROR;
    }

    if (amcf->jwt && (amcf->jwt_audience.len == 0 || amcf->jwks.len == 0)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_acs_jwt on needs rtagent_acs_jwt_audience "
                           "(the ACS immutable resource id) and "
                           "rtagent_acs_jwks");
        return NGX_ERROR;
    }

    /* without a secret of its own, tokens are keyed by the access key */
    if (amcf->secret.len == 0 && amcf->account) {
        p = ngx_pnalloc(cf->pool, NGX_HTTP_RTAGENT_ACS_TOKEN_LEN + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_http_rtagent_acs_token(amcf->account->key, amcf->account->key_len,
                                   "rtagent callback token", 22, (char *) p);
        amcf->secret.data = p;
        amcf->secret.len = NGX_HTTP_RTAGENT_ACS_TOKEN_LEN;
    }

    return NGX_OK;
}


static char *
ngx_http_rtagent_acs_handler_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_rtagent_acs_main_conf_t  *amcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_rtagent_acs_module);

    if (clcf->handler) {
        return "is duplicate";
    }

    clcf->handler = (ngx_http_handler_pt) cmd->post;

    if (cmd->post == (void *) ngx_http_rtagent_acs_events_handler) {
        amcf->events++;

    } else {
        amcf->calls++;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_rtagent_acs_connection_string(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_rtagent_acs_main_conf_t *amcf = conf;

    ngx_str_t  *value, s;
    char        err[128];

    if (amcf->account) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_rtagent_acs_secret(cf, &value[1], &s) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    amcf->account = ngx_pcalloc(cf->pool,
                                sizeof(ngx_http_rtagent_acs_account_t));
    if (amcf->account == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_rtagent_acs_account_parse((char *) s.data, s.len,
                                           amcf->account, err, sizeof(err))
        != 0)
    {
        ngx_explicit_memzero(s.data, s.len);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_acs_connection_string: %s", err);
        return NGX_CONF_ERROR;
    }

    ngx_explicit_memzero(s.data, s.len);

    return NGX_CONF_OK;
}


static char *
ngx_http_rtagent_acs_secret_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    ngx_str_t  *field, *value;

    field = (ngx_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_rtagent_acs_secret(cf, &value[1], field) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (field->len < 16) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the secret is shorter than 16 bytes",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * A secret is "env:NAME" (read when the configuration is read, by the
 * master), "file:PATH" (its first line), or the value itself.  Secrets are
 * never logged.
 */

static ngx_int_t
ngx_http_rtagent_acs_secret(ngx_conf_t *cf, ngx_str_t *in, ngx_str_t *out)
{
    char       *env;
    u_char     *name, *last;
    size_t      n;
    ngx_str_t   path;

    if (in->len > 4 && ngx_strncmp(in->data, "env:", 4) == 0) {
        name = in->data + 4;
        env = getenv((char *) name);

        if (env == NULL || env[0] == '\0') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the environment variable \"%s\" is not set",
                               name);
            return NGX_ERROR;
        }

        out->len = ngx_strlen(env);
        out->data = ngx_pnalloc(cf->pool, out->len + 1);
        if (out->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(out->data, env, out->len + 1);

        return NGX_OK;
    }

    if (!(in->len > 5 && ngx_strncmp(in->data, "file:", 5) == 0)) {
        *out = *in;
        return NGX_OK;
    }

    path.data = in->data + 5;
    path.len = in->len - 5;

    if (ngx_http_rtagent_acs_conf_file(cf, &path,
                                       NGX_HTTP_RTAGENT_ACS_SECRET_MAX, out)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    n = out->len;

    /* the first line, without its end */
    last = ngx_strlchr(out->data, out->data + n, '\n');
    if (last == NULL) {
        last = out->data + n;
    }

    while (last > out->data && (last[-1] == '\r' || last[-1] == ' ')) {
        last--;
    }

    out->len = last - out->data;
    out->data[out->len] = '\0';

    if (out->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" is empty", &path);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static char *
ngx_http_rtagent_acs_url_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    u_char     *c;
    size_t      n;
    ngx_str_t  *field, *value;

    field = (ngx_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* ACS wants https callbacks and wss media; plain schemes for tests */
    n = ngx_strlen(cmd->post);

    if (!((value[1].len > n + 3
           && ngx_strncmp(value[1].data, cmd->post, n) == 0
           && ngx_strncmp(value[1].data + n, "://", 3) == 0)
          || (value[1].len > n + 2
              && ngx_strncmp(value[1].data, cmd->post, n - 1) == 0
              && ngx_strncmp(value[1].data + n - 1, "://", 3) == 0)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V \"%V\": must be a %s:// URL", &cmd->name,
                           &value[1], (char *) cmd->post);
        return NGX_CONF_ERROR;
    }

    for (c = value[1].data; c < value[1].data + value[1].len; c++) {
        if (*c == '?' || *c == '#' || *c <= ' ' || *c == '"') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%V \"%V\": no query, fragment, spaces or "
                               "quotes", &cmd->name, &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    *field = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_rtagent_acs_agent(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rtagent_acs_main_conf_t *amcf = conf;

    ngx_str_t                     *value;
    ngx_http_rtagent_acs_route_t  *route;

    value = cf->args->elts;

    if (value[2].len == 0) {
        return "needs an agent name";
    }

    if (ngx_strcmp(value[1].data, "default") == 0) {
        if (amcf->default_agent.data) {
            return "has a duplicate default";
        }

        amcf->default_agent = value[2];
        return NGX_CONF_OK;
    }

    if (amcf->routes == NULL) {
        amcf->routes = ngx_array_create(cf->pool, 4,
                                        sizeof(ngx_http_rtagent_acs_route_t));
        if (amcf->routes == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    route = ngx_array_push(amcf->routes);
    if (route == NULL) {
        return NGX_CONF_ERROR;
    }

    route->number = value[1];
    route->agent = value[2];

    return NGX_CONF_OK;
}


static char *
ngx_http_rtagent_acs_jwks(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rtagent_acs_main_conf_t *amcf = conf;

    ngx_str_t           *value, path, doc;
    ngx_pool_cleanup_t  *cln;
    char                 err[128];

    if (amcf->jwks.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    amcf->jwks = value[1];

    if ((value[1].len > 7 && ngx_strncmp(value[1].data, "http://", 7) == 0)
        || (value[1].len > 8
            && ngx_strncmp(value[1].data, "https://", 8) == 0))
    {
        /* fetched by each worker from init_process on */
        return NGX_CONF_OK;
    }

    path = value[1];

    if (ngx_http_rtagent_acs_conf_file(cf, &path, 1024 * 1024, &doc)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    amcf->jwks_file = ngx_http_rtagent_jwks_parse((char *) doc.data, doc.len,
                                                  err, sizeof(err));
    if (amcf->jwks_file == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_acs_jwks \"%V\": %s", &path, err);
        return NGX_CONF_ERROR;
    }

    /* the keys are OpenSSL's: freed with the configuration */
    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_rtagent_acs_jwks_free;
    cln->data = amcf->jwks_file;

    ngx_log_error(NGX_LOG_DEBUG, cf->log, 0,
                  "rtagent acs: %uz signing keys from \"%V\"",
                  ngx_http_rtagent_jwks_count(amcf->jwks_file), &path);

    return NGX_CONF_OK;
}


static void
ngx_http_rtagent_acs_jwks_free(void *data)
{
    ngx_http_rtagent_jwks_free(data);
}


/* a whole file named in the configuration, NUL-terminated, in cf->pool */

static ngx_int_t
ngx_http_rtagent_acs_conf_file(ngx_conf_t *cf, ngx_str_t *name, size_t max,
    ngx_str_t *out)
{
    ssize_t          n;
    ngx_str_t        path;
    ngx_file_t       file;
    ngx_file_info_t  fi;

    path = *name;

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = path;
    file.log = cf->log;

    file.fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &path);
        return NGX_ERROR;
    }

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR
        || (size_t) ngx_file_size(&fi) > max)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": unreadable or over %uz bytes", &path,
                           max);
        (void) ngx_close_file(file.fd);
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(cf->pool, ngx_file_size(&fi) + 1);
    if (out->data == NULL) {
        (void) ngx_close_file(file.fd);
        return NGX_ERROR;
    }

    n = ngx_read_file(&file, out->data, ngx_file_size(&fi), 0);

    (void) ngx_close_file(file.fd);

    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    out->len = n;
    out->data[n] = '\0';

    return NGX_OK;
}


ngx_http_rtagent_acs_main_conf_t *
ngx_http_rtagent_acs_conf(void)
{
    return ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_rtagent_acs_module);
}


/* the worker ------------------------------------------------------------- */

static ngx_int_t
ngx_http_rtagent_acs_init_process(ngx_cycle_t *cycle)
{
    ngx_http_rtagent_acs_worker_t     *w;
    ngx_http_rtagent_acs_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_rtagent_acs_module);
    if (amcf == NULL || amcf->jwks.len == 0 || amcf->jwks_file) {
        return NGX_OK;
    }

    w = &ngx_http_rtagent_acs_worker;

    ngx_http_rtagent_timer_init(&w->refresh, ngx_http_rtagent_acs_jwks_fetch,
                                w, cycle->log);
    w->refresh.event.cancelable = 1;

    /* at once: callbacks get 503 until the keys are in */
    ngx_add_timer(&w->refresh.event, 1);

    return NGX_OK;
}


static void
ngx_http_rtagent_acs_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_rtagent_acs_worker_t  *w;

    w = &ngx_http_rtagent_acs_worker;

    if (w->job) {
        ngx_http_rtagent_http_cancel(w->job);
        w->job = NULL;
    }

    if (w->keys) {
        ngx_http_rtagent_jwks_free(w->keys);
        w->keys = NULL;
    }
}


static void
ngx_http_rtagent_acs_jwks_fetch(ngx_event_t *ev)
{
    ngx_str_t                          method;
    ngx_http_rtagent_http_job_t       *job;
    ngx_http_rtagent_acs_worker_t     *w;
    ngx_http_rtagent_acs_main_conf_t  *amcf;

    w = &ngx_http_rtagent_acs_worker;
    amcf = ngx_http_rtagent_acs_conf();

    if (w->job || ngx_exiting) {
        return;
    }

    ngx_str_set(&method, "GET");

    job = ngx_http_rtagent_http_create(amcf->http, ngx_cycle->log, NULL,
                                       &method, &amcf->jwks);
    if (job == NULL) {
        ngx_add_timer(&w->refresh.event, 10000);
        return;
    }

    job->on_done = ngx_http_rtagent_acs_jwks_done;
    job->data = w;

    if (ngx_http_rtagent_http_start(job) != NGX_OK) {
        ngx_http_rtagent_http_cancel(job);
        ngx_add_timer(&w->refresh.event, 10000);
        return;
    }

    w->job = job;
}


static void
ngx_http_rtagent_acs_jwks_done(ngx_http_rtagent_http_job_t *job)
{
    ngx_msec_t                         next;
    ngx_http_rtagent_jwks_t           *keys;
    ngx_http_rtagent_acs_worker_t     *w;
    ngx_http_rtagent_acs_main_conf_t  *amcf;
    char                               err[128];

    w = job->data;
    w->job = NULL;
    amcf = ngx_http_rtagent_acs_conf();

    /* a failure keeps the keys held, and tries again soon */
    next = w->keys ? amcf->jwks_refresh : 10000;

    if (job->rc == NGX_OK && job->status == 200) {
        keys = ngx_http_rtagent_jwks_parse((char *) job->body.data,
                                           job->body.len, err, sizeof(err));
        if (keys) {
            if (w->keys) {
                ngx_http_rtagent_jwks_free(w->keys);
            }

            w->keys = keys;
            next = amcf->jwks_refresh;

            ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                          "rtagent acs: %uz signing keys from \"%V\"",
                          ngx_http_rtagent_jwks_count(keys), &amcf->jwks);

        } else {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "rtagent acs: JWKS from \"%V\" refused: %s",
                          &amcf->jwks, err);
        }
    }

    if (!ngx_exiting) {
        ngx_add_timer(&w->refresh.event, next);
    }
}


/* REST ------------------------------------------------------------------- */

ngx_int_t
ngx_http_rtagent_acs_rest(ngx_log_t *log, ngx_str_t *call_id,
    const char *method, ngx_str_t *path, u_char *body, size_t len,
    ngx_http_rtagent_acs_rest_pt handler, void *data)
{
    u_char                            *p, rnd[16];
    size_t                             n;
    ngx_str_t                          m, url, name, value, pq;
    ngx_http_rtagent_http_job_t       *job;
    ngx_http_rtagent_acs_rest_ctx_t   *ctx;
    ngx_http_rtagent_acs_main_conf_t  *amcf;
    ngx_http_rtagent_acs_account_t    *a;
    char                               date[NGX_HTTP_RTAGENT_ACS_DATE_LEN + 1];
    char                               hash[NGX_HTTP_RTAGENT_ACS_HASH_LEN + 1];
    char                               auth[NGX_HTTP_RTAGENT_ACS_AUTH_LEN + 1];
    u_char                             id[40];

    amcf = ngx_http_rtagent_acs_conf();
    a = amcf->account;

    if (a == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rtagent acs: %s %V needs "
                      "rtagent_acs_connection_string, call:%V",
                      method, path, call_id);
        return NGX_ERROR;
    }

    /* the path and query exactly as sent: they are signed */
    pq.len = path->len + sizeof("?api-version=") - 1 + amcf->api_version.len;
    url.len = a->endpoint_len + pq.len;

    url.data = ngx_alloc(url.len, log);
    if (url.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(url.data, a->endpoint, a->endpoint_len);
    pq.data = p;
    p = ngx_sprintf(p, "%V?api-version=%V", path, &amcf->api_version);

    m.data = (u_char *) method;
    m.len = ngx_strlen(method);

    job = ngx_http_rtagent_http_create(amcf->http, log, call_id, &m, &url);
    if (job == NULL) {
        ngx_free(url.data);
        return NGX_ERROR;
    }

    ngx_http_rtagent_acs_date(ngx_time(), date);
    ngx_http_rtagent_acs_content_hash(body, len, hash);

    n = ngx_http_rtagent_acs_authorization(a, method, (char *) pq.data,
                                           pq.len, date, hash, auth,
                                           sizeof(auth));
    ngx_free(url.data);

    if (n == 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rtagent acs: cannot sign %s %V, call:%V",
                      method, path, call_id);
        goto failed;
    }

    ctx = ngx_palloc(job->pool, sizeof(ngx_http_rtagent_acs_rest_ctx_t)
                                + call_id->len + m.len + 1 + path->len);
    if (ctx == NULL) {
        goto failed;
    }

    ctx->handler = handler;
    ctx->data = data;

    p = (u_char *) (ctx + 1);
    ctx->call_id.data = p;
    ctx->call_id.len = call_id->len;
    p = ngx_cpymem(p, call_id->data, call_id->len);
    ctx->what.data = p;
    p = ngx_sprintf(p, "%V %V", &m, path);
    ctx->what.len = p - ctx->what.data;

#define ngx_http_rtagent_acs_header(n, v, l)                                 \
    name.data = (u_char *) n; name.len = sizeof(n) - 1;                     \
    value.data = (u_char *) v; value.len = l;                               \
    if (ngx_http_rtagent_http_add_header(job, &name, &value) != NGX_OK) {    \
        goto failed;                                                         \
    }

    ngx_http_rtagent_acs_header("x-ms-date", date, ngx_strlen(date));
    ngx_http_rtagent_acs_header("x-ms-content-sha256", hash,
                                ngx_strlen(hash));
    ngx_http_rtagent_acs_header("Authorization", auth, n);
    ngx_http_rtagent_acs_header("x-ms-return-client-request-id", "true", 4);

    if (body) {
        ngx_http_rtagent_acs_header("Content-Type", "application/json", 16);

        if (ngx_http_rtagent_http_set_body(job, body, len) != NGX_OK) {
            goto failed;
        }
    }

    if (m.len == 4 && ngx_strncmp(method, "POST", 4) == 0) {
        /* a retried POST must not act twice (PROTOCOLS.md 1.4) */
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            goto failed;
        }

        rnd[6] = (rnd[6] & 0x0f) | 0x40;
        rnd[8] = (rnd[8] & 0x3f) | 0x80;

        p = ngx_sprintf(id, "%*xs-%*xs-%*xs-%*xs-%*xs",
                        (size_t) 4, rnd, (size_t) 2, rnd + 4,
                        (size_t) 2, rnd + 6, (size_t) 2, rnd + 8,
                        (size_t) 6, rnd + 10);

        ngx_http_rtagent_acs_header("Repeatability-Request-ID", id, p - id);
        ngx_http_rtagent_acs_header("Repeatability-First-Sent", date,
                                    ngx_strlen(date));
    }

#undef ngx_http_rtagent_acs_header

    job->data = ctx;
    job->on_done = ngx_http_rtagent_acs_rest_done;
    job->timeout = ngx_min(job->timeout, amcf->timeout);

    if (ngx_http_rtagent_http_start(job) != NGX_OK) {
        goto failed;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "rtagent acs: %V, call:%V", &ctx->what, call_id);

    return NGX_OK;

failed:

    ngx_http_rtagent_http_cancel(job);

    return NGX_ERROR;
}


static void
ngx_http_rtagent_acs_rest_done(ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_acs_result_t     res;
    ngx_http_rtagent_acs_rest_ctx_t  *ctx;

    ctx = job->data;

    ngx_memzero(&res, sizeof(ngx_http_rtagent_acs_result_t));

    res.status = job->rc == NGX_OK ? job->status : 0;
    res.body = job->body;
    res.rc = (res.status >= 200 && res.status < 300) ? NGX_OK : NGX_ERROR;

    if (res.rc != NGX_OK && res.status) {
        if (ngx_http_rtagent_acs_parse_error((char *) job->body.data,
                                             job->body.len, res.code,
                                             sizeof(res.code), res.message,
                                             sizeof(res.message))
            == 0)
        {
            ngx_log_error(NGX_LOG_ERR, &job->log, 0,
                          "rtagent acs: %V: %ui %s: %s, call:%V",
                          &ctx->what, res.status, res.code, res.message,
                          &ctx->call_id);

        } else {
            ngx_log_error(NGX_LOG_ERR, &job->log, 0,
                          "rtagent acs: %V: %ui without an ACS error body, "
                          "call:%V", &ctx->what, res.status, &ctx->call_id);
        }

    } else if (res.rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, &job->log, 0,
                      "rtagent acs: %V: no response (%s), call:%V",
                      &ctx->what, job->error ? job->error : "failed",
                      &ctx->call_id);
        ngx_cpystrn((u_char *) res.message,
                    (u_char *) (job->error ? job->error : "no response"),
                    sizeof(res.message));
    }

    if (ctx->handler) {
        ctx->handler(ctx->data, &res);
    }
}


/* callback URIs and their tokens ---------------------------------------- */

ngx_int_t
ngx_http_rtagent_acs_new_ref(ngx_pool_t *pool, ngx_str_t *ref)
{
    u_char  rnd[NGX_HTTP_RTAGENT_ACS_REF_RAND];

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        return NGX_ERROR;
    }

    /* NUL-terminated too: the REST bodies take it as a C string */
    ref->data = ngx_pnalloc(pool, 2 * sizeof(rnd) + 1);
    if (ref->data == NULL) {
        return NGX_ERROR;
    }

    ref->len = ngx_hex_dump(ref->data, rnd, sizeof(rnd)) - ref->data;
    ref->data[ref->len] = '\0';

    return NGX_OK;
}


ngx_int_t
ngx_http_rtagent_acs_callback_uri(ngx_pool_t *pool, ngx_str_t *ref,
    ngx_str_t *uri)
{
    u_char                            *p;
    ngx_http_rtagent_acs_main_conf_t  *amcf;
    char                               token[NGX_HTTP_RTAGENT_ACS_TOKEN_LEN
                                             + 1];

    amcf = ngx_http_rtagent_acs_conf();

    ngx_http_rtagent_acs_token(amcf->secret.data, amcf->secret.len,
                               (char *) ref->data, ref->len, token);

    uri->data = ngx_pnalloc(pool, amcf->callback_url.len + sizeof("?call=")
                                  + ref->len + sizeof("&token=")
                                  + NGX_HTTP_RTAGENT_ACS_TOKEN_LEN);
    if (uri->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(uri->data, "%V?call=%V&token=%s%Z", &amcf->callback_url,
                    ref, token);
    uri->len = p - 1 - uri->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_rtagent_acs_check_token(ngx_http_request_t *r)
{
    ngx_str_t                          ref, token;
    ngx_http_rtagent_acs_main_conf_t  *amcf;

    amcf = ngx_http_rtagent_acs_conf();

    if (ngx_http_arg(r, (u_char *) "token", 5, &token) != NGX_OK) {
        if (ngx_http_arg(r, (u_char *) "call", 4, &ref) != NGX_OK) {
            return NGX_DECLINED;
        }

        return NGX_ERROR;
    }

    if (ngx_http_arg(r, (u_char *) "call", 4, &ref) != NGX_OK
        || ref.len == 0 || ref.len > NGX_HTTP_RTAGENT_ACS_ID_MAX
        || amcf->secret.len == 0)
    {
        return NGX_ERROR;
    }

    if (!ngx_http_rtagent_acs_token_check(amcf->secret.data, amcf->secret.len,
                                          (char *) ref.data, ref.len,
                                          (char *) token.data, token.len))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* JWT -------------------------------------------------------------------- */

ngx_int_t
ngx_http_rtagent_acs_check_jwt(ngx_http_request_t *r)
{
    ngx_str_t                          t;
    ngx_uint_t                         n;
    ngx_table_elt_t                   *h;
    ngx_http_rtagent_jwks_t           *keys;
    ngx_http_rtagent_jwt_check_t       check;
    ngx_http_rtagent_acs_main_conf_t  *amcf;
    char                               err[128];
    u_char                             iss[512], aud[512];

    amcf = ngx_http_rtagent_acs_conf();

    if (amcf == NULL || !amcf->jwt) {
        return NGX_OK;
    }

    keys = amcf->jwks_file ? amcf->jwks_file : ngx_http_rtagent_acs_worker.keys;

    if (keys == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rtagent acs: no signing keys from \"%V\" yet, request "
                      "refused", &amcf->jwks);
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    h = ngx_http_rtagent_header_in(r, "authorization",
                                   sizeof("authorization") - 1, &n);

    if (h == NULL || n != 1 || h->value.len < 8
        || ngx_strncasecmp(h->value.data, (u_char *) "Bearer ", 7) != 0)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rtagent acs: request without one \"Authorization: "
                      "Bearer\" token refused");
        return NGX_HTTP_UNAUTHORIZED;
    }

    t.data = h->value.data + 7;
    t.len = h->value.len - 7;

    ngx_cpystrn(iss, amcf->jwt_issuer.data,
                ngx_min(amcf->jwt_issuer.len + 1, sizeof(iss)));
    ngx_cpystrn(aud, amcf->jwt_audience.data,
                ngx_min(amcf->jwt_audience.len + 1, sizeof(aud)));

    check.issuer = (char *) iss;
    check.audience = (char *) aud;
    check.now = ngx_time();
    check.leeway = 60;

    if (ngx_http_rtagent_jwt_verify(keys, (char *) t.data, t.len, &check,
                                    err, sizeof(err))
        != 0)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rtagent acs: bearer token refused: %s", err);
        return NGX_HTTP_UNAUTHORIZED;
    }

    return NGX_OK;
}


/* helpers of the handlers ------------------------------------------------ */

ngx_str_t *
ngx_http_rtagent_acs_route(ngx_str_t *to_phone, ngx_str_t *to_raw)
{
    ngx_uint_t                         i;
    ngx_http_rtagent_acs_route_t      *route;
    ngx_http_rtagent_acs_main_conf_t  *amcf;

    amcf = ngx_http_rtagent_acs_conf();

    if (amcf->routes) {
        route = amcf->routes->elts;

        for (i = 0; i < amcf->routes->nelts; i++) {
            if ((to_phone->len == route[i].number.len
                 && ngx_strncmp(to_phone->data, route[i].number.data,
                                to_phone->len) == 0)
                || (to_raw->len == route[i].number.len
                    && ngx_strncmp(to_raw->data, route[i].number.data,
                                   to_raw->len) == 0))
            {
                return &route[i].agent;
            }
        }
    }

    return &amcf->default_agent;
}


ngx_int_t
ngx_http_rtagent_acs_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *json, size_t len)
{
    ngx_int_t    rc;
    ngx_buf_t   *b;
    ngx_chain_t  out;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (len == 0 || r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
        return ngx_http_send_header(r);
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, json, len);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_rtagent_acs_read_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    size_t        len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = (u_char *) "";

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? (size_t) (b->file_last - b->file_pos)
                          : (size_t) (b->last - b->pos);
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);
            if (n != b->file_last - b->file_pos) {
                return NGX_ERROR;
            }

            p += n;

        } else {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    *p = '\0';
    body->len = p - body->data;

    return NGX_OK;
}


/* a NUL-terminated copy (the REST body builders take C strings) */

ngx_int_t
ngx_http_rtagent_acs_copy_str(ngx_pool_t *pool, ngx_str_t *dst, u_char *data,
    size_t len)
{
    dst->data = ngx_pnalloc(pool, len + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    if (len) {
        ngx_memcpy(dst->data, data, len);
    }

    dst->data[len] = '\0';
    dst->len = len;

    return NGX_OK;
}
