
/*
 * ACS Call Automation: the nginx module, its directives and their conf
 * setters, and the worker's start and exit (see ngx_http_rtagent_acs.h).
 * The signing keys are in _acs_jwks.c, REST requests in _acs_rest.c, what
 * the handlers share about requests in _acs_request.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <acs/ngx_http_rtagent_acs.h>
#include <acs/ngx_http_rtagent_acs_body.h>
#include <acs/ngx_http_rtagent_acs_media.h>


#define NGX_HTTP_RTAGENT_ACS_ISSUER                                          \
    "https://acscallautomation.communication.azure.com"


static void *ngx_http_rtagent_acs_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_rtagent_acs_init_main_conf(ngx_conf_t *cf, void *conf);
static ngx_int_t ngx_http_rtagent_acs_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_rtagent_acs_init_process(ngx_cycle_t *cycle);
static void ngx_http_rtagent_acs_exit_process(ngx_cycle_t *cycle);
static char *ngx_http_rtagent_acs_connection_string(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_rtagent_acs_url_slot(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_rtagent_acs_agent(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_rtagent_acs_transfer_target(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_rtagent_acs_jwks(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_rtagent_acs_handler_slot(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static void ngx_http_rtagent_acs_jwks_free(void *data);


static ngx_conf_enum_t  ngx_http_rtagent_acs_formats[] = {
    { ngx_string("pcm16KMono"), 16000 },
    { ngx_string("pcm24KMono"), 24000 },
    { ngx_null_string, 0 }
};


/* keys and HMAC secrets: short ones are guessable */
static ngx_http_rtagent_conf_secret_rule_t  ngx_http_rtagent_acs_secret_rule =
    { 16, 0, 0 };


/* set by exit_process: see ngx_http_rtagent_acs_exiting() */
static ngx_uint_t  ngx_http_rtagent_acs_exit;


#define ngx_http_rtagent_acs_offset(field)                                   \
    offsetof(ngx_http_rtagent_acs_main_conf_t, field)


static ngx_command_t  ngx_http_rtagent_acs_commands[] = {

    { ngx_string("rtagent_acs_media"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_rtagent_acs_handler_slot,
      0,
      0,
      ngx_http_rtagent_acs_media_handler },

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

    { ngx_string("rtagent_acs_transfer_target"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_rtagent_acs_transfer_target,
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
      ngx_http_rtagent_conf_set_secret_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      ngx_http_rtagent_acs_offset(secret),
      &ngx_http_rtagent_acs_secret_rule },

    { ngx_string("rtagent_acs_api_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_conf_set_secret_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      ngx_http_rtagent_acs_offset(api_key),
      &ngx_http_rtagent_acs_secret_rule },

    { ngx_string("rtagent_acs_eventgrid_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_conf_set_secret_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      ngx_http_rtagent_acs_offset(eventgrid_key),
      &ngx_http_rtagent_acs_secret_rule },

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
    ngx_uint_t                         i;
    ngx_http_module_t                 *hm;
    ngx_http_core_loc_conf_t          *clcf, **clcfp;
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

    /*
     * A body is never read from a temp file on the event loop: the events
     * and calls locations keep whatever client_max_body_size allows in
     * memory (a body over the buffer is refused with 413 when
     * client_max_body_size is 0, unlimited).
     */
    if (amcf->bodies) {
        clcfp = amcf->bodies->elts;

        for (i = 0; i < amcf->bodies->nelts; i++) {
            clcf = clcfp[i];

            if (clcf->client_max_body_size
                && clcf->client_body_buffer_size
                   < (size_t) clcf->client_max_body_size)
            {
                clcf->client_body_buffer_size = clcf->client_max_body_size;
            }

            clcf->client_body_in_file_only = 0;     /* off */
            clcf->client_body_in_single_buffer = 1;
        }
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
    ngx_http_core_loc_conf_t          *clcf, **clcfp;
    ngx_http_rtagent_acs_main_conf_t  *amcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_rtagent_acs_module);

    if (clcf->handler) {
        return "is duplicate";
    }

    clcf->handler = (ngx_http_handler_pt) cmd->post;

    if (cmd->post == (void *) ngx_http_rtagent_acs_media_handler) {
        return NGX_CONF_OK;
    }

    if (cmd->post == (void *) ngx_http_rtagent_acs_events_handler) {
        amcf->events++;

    } else {
        amcf->calls++;
    }

    /* these read bodies: their buffer is sized once the location is merged */
    if (amcf->bodies == NULL) {
        amcf->bodies = ngx_array_create(cf->pool, 2, sizeof(void *));
        if (amcf->bodies == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    clcfp = ngx_array_push(amcf->bodies);
    if (clcfp == NULL) {
        return NGX_CONF_ERROR;
    }

    *clcfp = clcf;

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

    if (ngx_http_rtagent_conf_secret(cf, &value[1], &s) != NGX_OK) {
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


/*
 * "rtagent_acs_transfer_target queue:claims +18005550111;": what an agent's
 * escalation target (a name of the agents' own) is for Call Automation
 */

static char *
ngx_http_rtagent_acs_transfer_target(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_rtagent_acs_main_conf_t *amcf = conf;

    ngx_str_t     *value;
    ngx_uint_t     i;
    ngx_keyval_t  *kv;

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "needs a name";
    }

    if (!ngx_http_rtagent_acs_target_valid((char *) value[2].data)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_acs_transfer_target \"%V\": \"%V\" is "
                           "not a phone number (E.164) or an ACS identity",
                           &value[1], &value[2]);
        return NGX_CONF_ERROR;
    }

    if (amcf->transfer_targets == NULL) {
        amcf->transfer_targets = ngx_array_create(cf->pool, 4,
                                                  sizeof(ngx_keyval_t));
        if (amcf->transfer_targets == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    kv = amcf->transfer_targets->elts;

    for (i = 0; i < amcf->transfer_targets->nelts; i++) {
        if (kv[i].key.len == value[1].len
            && ngx_strncmp(kv[i].key.data, value[1].data, value[1].len) == 0)
        {
            return "is duplicate";
        }
    }

    kv = ngx_array_push(amcf->transfer_targets);
    if (kv == NULL) {
        return NGX_CONF_ERROR;
    }

    kv->key = value[1];
    kv->value = value[2];

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

    if (ngx_http_rtagent_conf_file(cf, &path, 1024 * 1024, &doc)
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
    ngx_http_rtagent_acs_main_conf_t  *amcf;

    /* the cache manager and loader run init_process too: they make no calls */
    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_rtagent_acs_module);
    if (amcf == NULL) {
        return NGX_OK;
    }

    return ngx_http_rtagent_acs_jwks_start(cycle, amcf);
}


static void
ngx_http_rtagent_acs_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_rtagent_acs_exit = 1;

    ngx_http_rtagent_acs_jwks_stop();
    ngx_http_rtagent_acs_sign_cleanup();
}


ngx_uint_t
ngx_http_rtagent_acs_exiting(void)
{
    return ngx_http_rtagent_acs_exit;
}
