
/*
 * The cloud speech providers' directives and what their requests share
 * (see ngx_http_rtagent_speech_cloud.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <speech/ngx_http_rtagent_speech_cloud.h>
#include <speech/ngx_http_rtagent_ssml.h>
#include <speech/ngx_http_rtagent_stt_openai_parse.h>
#include <json/ngx_http_rtagent_json.h>


static void *ngx_http_rtagent_speech_cloud_create_conf(ngx_conf_t *cf);
static char *ngx_http_rtagent_speech_cloud_merge_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_rtagent_speech_url_slot(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_rtagent_speech_ssml_post(ngx_conf_t *cf, void *post,
    void *data);


/*
 * A token is fetched again once this old (it lasts 10 minutes), or once
 * nine tenths of the lifetime its JWT claims (exp - iat) have passed,
 * whichever comes first
 */
#define NGX_HTTP_RTAGENT_SPEECH_TOKEN_TTL  (9 * 60 * 1000)


struct ngx_http_rtagent_speech_token_s {
    u_char                        *token;        /* "Bearer ...", heap */
    size_t                         len;
    ngx_msec_t                     fetched;
    ngx_msec_t                     life;         /* reused this long */
    ngx_http_rtagent_http_job_t   *job;
    ngx_queue_t                    waiters;
    ngx_http_rtagent_speech_cloud_conf_t  *scf;
};


static ngx_msec_t ngx_http_rtagent_speech_token_life(u_char *token,
    size_t len);
static void ngx_http_rtagent_speech_token_done(
    ngx_http_rtagent_http_job_t *job);


typedef const char *(*ngx_http_rtagent_ssml_check_pt)(const unsigned char *p,
    size_t len);

typedef struct {
    ngx_conf_post_handler_pt     post_handler;
    ngx_http_rtagent_ssml_check_pt  check;
} ngx_http_rtagent_speech_ssml_post_t;


static char *ngx_http_rtagent_speech_ws_url(ngx_conf_t *cf, void *post,
    void *data);
static ngx_conf_post_t  ngx_http_rtagent_speech_ws_url_p =
    { ngx_http_rtagent_speech_ws_url };

static ngx_http_rtagent_speech_ssml_post_t  ngx_http_rtagent_speech_voice_p =
    { ngx_http_rtagent_speech_ssml_post, ngx_http_rtagent_ssml_check_voice };
static ngx_http_rtagent_speech_ssml_post_t  ngx_http_rtagent_speech_lang_p =
    { ngx_http_rtagent_speech_ssml_post, ngx_http_rtagent_ssml_check_lang };
static ngx_http_rtagent_speech_ssml_post_t  ngx_http_rtagent_speech_rate_p =
    { ngx_http_rtagent_speech_ssml_post, ngx_http_rtagent_ssml_check_rate };
static ngx_http_rtagent_speech_ssml_post_t  ngx_http_rtagent_speech_style_p =
    { ngx_http_rtagent_speech_ssml_post, ngx_http_rtagent_ssml_check_style };


/* keys and tokens go into request headers: tokens, when the configuration
 * is read and when a token's file is read again */
static ngx_http_rtagent_conf_secret_rule_t
    ngx_http_rtagent_speech_secret_rule = { 0, 1, 1 };


static ngx_conf_enum_t  ngx_http_rtagent_speech_azure_formats[] = {
    { ngx_string("raw-16khz-16bit-mono-pcm"), 16000 },
    { ngx_string("raw-24khz-16bit-mono-pcm"), 24000 },
    { ngx_null_string, 0 }
};


#define ngx_http_rtagent_speech_offset(f)                                    \
    offsetof(ngx_http_rtagent_speech_cloud_conf_t, f)


static ngx_command_t  ngx_http_rtagent_speech_cloud_commands[] = {

    { ngx_string("rtagent_azure_speech_region"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(azure_region),
      &ngx_http_rtagent_speech_lang_p },

    { ngx_string("rtagent_azure_speech_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_conf_set_secret_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(azure_key),
      &ngx_http_rtagent_speech_secret_rule },

    { ngx_string("rtagent_azure_speech_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_conf_set_live_secret_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(azure_token),
      &ngx_http_rtagent_speech_secret_rule },

    { ngx_string("rtagent_azure_speech_token_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_speech_url_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(azure_token_url),
      NULL },

    { ngx_string("rtagent_azure_tts_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_speech_url_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(azure_tts_url),
      NULL },

    { ngx_string("rtagent_azure_stt_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(azure_stt_url),
      &ngx_http_rtagent_speech_ws_url_p },

    { ngx_string("rtagent_azure_tts_voice"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(azure_tts_voice),
      &ngx_http_rtagent_speech_voice_p },

    { ngx_string("rtagent_azure_tts_language"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(azure_tts_language),
      &ngx_http_rtagent_speech_lang_p },

    { ngx_string("rtagent_azure_tts_rate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(azure_tts_rate),
      &ngx_http_rtagent_speech_rate_p },

    { ngx_string("rtagent_azure_tts_style"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(azure_tts_style),
      &ngx_http_rtagent_speech_style_p },

    { ngx_string("rtagent_azure_tts_format"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(azure_tts_hz),
      &ngx_http_rtagent_speech_azure_formats },

    { ngx_string("rtagent_openai_audio_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_speech_url_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(openai_url),
      NULL },

    { ngx_string("rtagent_openai_audio_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_conf_set_secret_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(openai_key),
      &ngx_http_rtagent_speech_secret_rule },

    { ngx_string("rtagent_openai_audio_api_version"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(openai_api_version),
      &ngx_http_rtagent_speech_lang_p },

    { ngx_string("rtagent_openai_tts_model"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(openai_tts_model),
      &ngx_http_rtagent_speech_voice_p },

    { ngx_string("rtagent_openai_tts_voice"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(openai_tts_voice),
      &ngx_http_rtagent_speech_voice_p },

    { ngx_string("rtagent_openai_stt_model"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(openai_stt_model),
      &ngx_http_rtagent_speech_voice_p },

    { ngx_string("rtagent_openai_stt_language"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(openai_stt_language),
      &ngx_http_rtagent_speech_lang_p },

    { ngx_string("rtagent_openai_stt_stream"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_rtagent_speech_offset(openai_stt_stream),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_rtagent_speech_cloud_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_rtagent_speech_cloud_create_conf,
    ngx_http_rtagent_speech_cloud_merge_conf
};


ngx_module_t  ngx_http_rtagent_speech_cloud_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_speech_cloud_module_ctx, /* module context */
    ngx_http_rtagent_speech_cloud_commands,    /* module directives */
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
ngx_http_rtagent_speech_cloud_create_conf(ngx_conf_t *cf)
{
    ngx_http_rtagent_speech_cloud_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_rtagent_speech_cloud_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->azure_token = NGX_CONF_UNSET_PTR;
    conf->azure_tts_hz = NGX_CONF_UNSET_UINT;
    conf->openai_stt_stream = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_rtagent_speech_cloud_merge_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_rtagent_speech_cloud_conf_t  *prev = parent;
    ngx_http_rtagent_speech_cloud_conf_t  *conf = child;

    u_char  *p;

    ngx_conf_merge_str_value(conf->azure_region, prev->azure_region, "");
    ngx_conf_merge_str_value(conf->azure_key, prev->azure_key, "");
    ngx_conf_merge_ptr_value(conf->azure_token, prev->azure_token, NULL);

    /* "" turns an inherited token off: the key is sent */
    if (conf->azure_token && conf->azure_token->value.len == 0) {
        conf->azure_token = NULL;
    }

    ngx_conf_merge_str_value(conf->azure_tts_url, prev->azure_tts_url, "");

    /* the tokens of a key and URL: shared with the parent when both are */
    if (conf->azure_token_url.data == NULL
        && conf->azure_key.data == prev->azure_key.data)
    {
        conf->azure_tokens = prev->azure_tokens;
    }

    ngx_conf_merge_str_value(conf->azure_token_url, prev->azure_token_url,
                             "");

    if (conf->azure_token_url.len && conf->azure_tokens == NULL) {
        conf->azure_tokens = ngx_pcalloc(cf->pool,
                                 sizeof(ngx_http_rtagent_speech_token_t));
        if (conf->azure_tokens == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_queue_init(&conf->azure_tokens->waiters);
        conf->azure_tokens->scf = conf;
    }
    ngx_conf_merge_str_value(conf->azure_stt_url, prev->azure_stt_url, "");
    ngx_conf_merge_str_value(conf->azure_tts_voice, prev->azure_tts_voice,
                             "en-US-JennyNeural");
    ngx_conf_merge_str_value(conf->azure_tts_language,
                             prev->azure_tts_language, "en-US");
    ngx_conf_merge_str_value(conf->azure_tts_rate, prev->azure_tts_rate, "");
    ngx_conf_merge_str_value(conf->azure_tts_style, prev->azure_tts_style,
                             "");
    ngx_conf_merge_uint_value(conf->azure_tts_hz, prev->azure_tts_hz, 24000);

    ngx_conf_merge_str_value(conf->openai_url, prev->openai_url,
                             "https://api.openai.com/v1");
    ngx_conf_merge_str_value(conf->openai_key, prev->openai_key, "");
    ngx_conf_merge_str_value(conf->openai_api_version,
                             prev->openai_api_version, "");
    ngx_conf_merge_str_value(conf->openai_tts_model, prev->openai_tts_model,
                             "gpt-4o-mini-tts");
    ngx_conf_merge_str_value(conf->openai_tts_voice, prev->openai_tts_voice,
                             "alloy");
    ngx_conf_merge_str_value(conf->openai_stt_model, prev->openai_stt_model,
                             "gpt-4o-mini-transcribe");
    ngx_conf_merge_str_value(conf->openai_stt_language,
                             prev->openai_stt_language, "");

    /*
     * Unset stays unset: it means "as the model allows", decided where the
     * model is known (whisper-1 ignores stream=true, PROTOCOLS.md 10), and
     * a model set in a location must not meet a value its parent decided.
     */
    if (conf->openai_stt_stream == NGX_CONF_UNSET) {
        conf->openai_stt_stream = prev->openai_stt_stream;
    }

    /* the region's endpoint unless one is given */
    if (conf->azure_tts_url.len == 0 && conf->azure_region.len) {
        p = ngx_pnalloc(cf->pool, conf->azure_region.len
                        + sizeof("https://.tts.speech.microsoft.com"
                                 "/cognitiveservices/v1") - 1);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        conf->azure_tts_url.data = p;
        conf->azure_tts_url.len = ngx_sprintf(p,
                                      "https://%V.tts.speech.microsoft.com"
                                      "/cognitiveservices/v1",
                                      &conf->azure_region) - p;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_rtagent_speech_url_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    ngx_str_t  *field, *value, url;

    field = (ngx_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    url = value[1];

    if (ngx_http_rtagent_conf_base_url(&url) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V \"%V\": must be an http:// or https:// URL "
                           "without query, fragment, spaces or quotes",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    *field = url;

    return NGX_CONF_OK;
}


static char *
ngx_http_rtagent_speech_ssml_post(ngx_conf_t *cf, void *post, void *data)
{
    ngx_http_rtagent_speech_ssml_post_t *sp = post;
    ngx_str_t                           *s = data;

    const char  *err;

    err = sp->check(s->data, s->len);

    if (err) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" %s", s, err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_rtagent_speech_ws_url(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *url = data;

    if ((url->len > 6 && ngx_strncmp(url->data, "wss://", 6) == 0)
        || (url->len > 5 && ngx_strncmp(url->data, "ws://", 5) == 0))
    {
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\": must be a ws:// or wss:// URL", url);

    return NGX_CONF_ERROR;
}


ngx_int_t
ngx_http_rtagent_speech_azure_auth_header(
    ngx_http_rtagent_speech_cloud_conf_t *scf, ngx_pool_t *pool,
    ngx_keyval_t *kv)
{
    ngx_str_t  *token;

    if (scf->azure_tokens && scf->azure_tokens->token) {
        ngx_str_set(&kv->key, "Authorization");
        kv->value.data = scf->azure_tokens->token;
        kv->value.len = scf->azure_tokens->len;
        return NGX_OK;
    }

    if (scf->azure_token) {
        /* as its file says now; with "Bearer ": at most a few KiB */
        token = ngx_http_rtagent_secret_value(scf->azure_token);

        kv->value.data = ngx_pnalloc(pool, token->len + 7);
        if (kv->value.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ngx_cpymem(kv->value.data, "Bearer ", 7), token->data,
                   token->len);
        kv->value.len = token->len + 7;
        ngx_str_set(&kv->key, "Authorization");
        return NGX_OK;
    }

    ngx_str_set(&kv->key, "Ocp-Apim-Subscription-Key");
    kv->value = scf->azure_key;

    return NGX_OK;
}


ngx_int_t
ngx_http_rtagent_speech_azure_auth(ngx_http_rtagent_speech_cloud_conf_t *scf,
    ngx_http_rtagent_http_job_t *job)
{
    ngx_int_t      rc;
    ngx_pool_t    *pool;
    ngx_keyval_t   kv;

    /* a job is on the heap: the header's value lives only until added */
    pool = ngx_create_pool(1024, &job->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_rtagent_speech_azure_auth_header(scf, pool, &kv);

    if (rc == NGX_OK) {
        rc = ngx_http_rtagent_http_add_header(job, &kv.key, &kv.value);
    }

    ngx_destroy_pool(pool);

    return rc;
}


ngx_http_rtagent_http_job_t *
ngx_http_rtagent_speech_openai_job(ngx_http_rtagent_speech_cloud_conf_t *scf,
    void **loc_conf, ngx_log_t *log, ngx_str_t *call_id,
    const char *endpoint, ngx_str_t *model)
{
    u_char                       *p;
    size_t                        len;
    ngx_str_t                     url, method;
    ngx_http_rtagent_http_job_t  *job;

    len = scf->openai_url.len + sizeof("/openai/deployments//audio/")
          + model->len + ngx_strlen(endpoint) + sizeof("?api-version=")
          + scf->openai_api_version.len;

    p = ngx_alloc(len, log);
    if (p == NULL) {
        return NULL;
    }

    url.data = p;

    if (scf->openai_api_version.len) {
        url.len = ngx_sprintf(p, "%V/openai/deployments/%V/audio/%s"
                              "?api-version=%V", &scf->openai_url, model,
                              endpoint, &scf->openai_api_version) - p;

    } else {
        url.len = ngx_sprintf(p, "%V/audio/%s", &scf->openai_url, endpoint)
                  - p;
    }

    ngx_str_set(&method, "POST");

    job = ngx_http_rtagent_http_create(
              ngx_http_rtagent_speech_http_conf(loc_conf), log, call_id,
              &method, &url);

    ngx_free(p);

    if (job == NULL) {
        return NULL;
    }

    if (ngx_http_rtagent_http_add_key(job, scf->openai_api_version.len != 0,
                                      &scf->openai_key, NULL)
        != NGX_OK)
    {
        ngx_http_rtagent_http_cancel(job);
        return NULL;
    }

    return job;
}


ngx_int_t
ngx_http_rtagent_speech_azure_token(ngx_http_rtagent_speech_cloud_conf_t *scf,
    void **loc_conf, ngx_http_rtagent_speech_token_waiter_t *w)
{
    ngx_str_t                         url, method, name, value;
    ngx_http_rtagent_http_job_t      *job;
    ngx_http_rtagent_speech_token_t  *t;

    t = scf->azure_tokens;

    if (t->token && ngx_current_msec - t->fetched < t->life) {
        return NGX_OK;
    }

    if (t->job == NULL) {
        /* the cycle's log: the token outlives the call that asked */
        url = scf->azure_token_url;
        ngx_str_set(&method, "POST");

        job = ngx_http_rtagent_http_create(
                  ngx_http_rtagent_speech_http_conf(loc_conf), ngx_cycle->log,
                  NULL, &method, &url);
        if (job == NULL) {
            return NGX_ERROR;
        }

        ngx_str_set(&name, "Ocp-Apim-Subscription-Key");

        if (ngx_http_rtagent_http_add_header(job, &name, &scf->azure_key)
            != NGX_OK
            || ngx_http_rtagent_http_set_body(job, (u_char *) "", 0)
               != NGX_OK)
        {
            ngx_http_rtagent_http_cancel(job);
            return NGX_ERROR;
        }

        ngx_str_set(&name, "Content-Type");
        ngx_str_set(&value, "application/x-www-form-urlencoded");

        if (ngx_http_rtagent_http_add_header(job, &name, &value) != NGX_OK) {
            ngx_http_rtagent_http_cancel(job);
            return NGX_ERROR;
        }

        job->data = t;
        job->on_done = ngx_http_rtagent_speech_token_done;
        job->max_response_size = NGX_HTTP_RTAGENT_SECRET_MAX;

        if (ngx_http_rtagent_http_start(job) != NGX_OK) {
            ngx_http_rtagent_http_cancel(job);
            return NGX_ERROR;
        }

        t->job = job;
    }

    ngx_queue_insert_tail(&t->waiters, &w->queue);
    w->waiting = 1;

    return NGX_AGAIN;
}


/*
 * How long a token is reused: the issueToken answer is a JWT whose claims
 * (the part between the dots, base64url) say when it expires; what is not
 * a JWT with exp after iat (or after now) gets the 9 minutes.
 */

static ngx_msec_t
ngx_http_rtagent_speech_token_life(u_char *token, size_t len)
{
    u_char     *dot, *end;
    int64_t     exp, iat;
    ngx_str_t   src, dst;
    yajl_val    claims, v;
    ngx_msec_t  life;
    u_char      buf[2048];

    life = NGX_HTTP_RTAGENT_SPEECH_TOKEN_TTL;
    end = token + len;

    dot = ngx_strlchr(token, end, '.');
    if (dot == NULL) {
        return life;
    }

    src.data = dot + 1;
    dot = ngx_strlchr(src.data, end, '.');
    if (dot == NULL) {
        return life;
    }

    src.len = dot - src.data;

    if (ngx_base64_decoded_length(src.len) > sizeof(buf)) {
        return life;
    }

    dst.data = buf;

    if (ngx_decode_base64url(&dst, &src) != NGX_OK) {
        return life;
    }

    claims = ngx_http_rtagent_json_parse((char *) dst.data, dst.len, 8,
                                         NGX_HTTP_RTAGENT_JSON_TERSE,
                                         NULL, 0);
    if (claims == NULL) {
        return life;
    }

    v = ngx_http_rtagent_json_get(claims, "exp", NULL);
    exp = (v && YAJL_IS_INTEGER(v)) ? YAJL_GET_INTEGER(v) : 0;

    v = ngx_http_rtagent_json_get(claims, "iat", NULL);
    iat = (v && YAJL_IS_INTEGER(v)) ? YAJL_GET_INTEGER(v) : ngx_time();

    yajl_tree_free(claims);

    if (exp > iat && (exp - iat) < (int64_t) life / 1000 * 10 / 9) {
        life = (ngx_msec_t) (exp - iat) * 900;
    }

    return life;
}


void
ngx_http_rtagent_speech_token_wait_cancel(
    ngx_http_rtagent_speech_token_waiter_t *w)
{
    if (w->waiting) {
        ngx_queue_remove(&w->queue);
        w->waiting = 0;
    }
}


static void
ngx_http_rtagent_speech_token_done(ngx_http_rtagent_http_job_t *job)
{
    ngx_http_rtagent_speech_token_t  *t = job->data;

    u_char                                  *p;
    ngx_queue_t                             *q, waiters;
    const char                              *detail;
    ngx_pool_t                              *pool;
    ngx_http_rtagent_speech_err_e            err;
    ngx_http_rtagent_speech_token_waiter_t  *w;

    t->job = NULL;

    /* for the detail of a failure, only while the waiters hear of it */
    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        err = NGX_HTTP_RTAGENT_SPEECH_INTERNAL;
        detail = "out of memory";

    } else {
        err = ngx_http_rtagent_speech_http_err(job, &job->body, pool,
                                               &detail);
    }

    if (err == NGX_HTTP_RTAGENT_SPEECH_OK
        && (job->body.len == 0
            || ngx_strlchr(job->body.data, job->body.data + job->body.len,
                           '\n')
            || ngx_strlchr(job->body.data, job->body.data + job->body.len,
                           '\r')))
    {
        err = NGX_HTTP_RTAGENT_SPEECH_AUTH;
        detail = "no token in the issueToken response";
    }

    if (err == NGX_HTTP_RTAGENT_SPEECH_OK) {
        p = ngx_alloc(job->body.len + 7, ngx_cycle->log);

        if (p == NULL) {
            err = NGX_HTTP_RTAGENT_SPEECH_INTERNAL;
            detail = "out of memory";

        } else {
            if (t->token) {
                ngx_free(t->token);
            }

            ngx_memcpy(ngx_cpymem(p, "Bearer ", 7), job->body.data,
                       job->body.len);
            t->token = p;
            t->len = job->body.len + 7;
            t->fetched = ngx_current_msec;
            t->life = ngx_http_rtagent_speech_token_life(job->body.data,
                                                         job->body.len);

            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                           "rtagent azure speech: a token for %M ms",
                           t->life);
        }
    }

    if (err != NGX_HTTP_RTAGENT_SPEECH_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "rtagent azure speech: no token: %s: %s",
                      ngx_http_rtagent_speech_err_name(err), detail);

        /* a stale token is no token: the next request asks again */
        if (t->token) {
            ngx_free(t->token);
            t->token = NULL;
        }
    }

    /*
     * Each waiter once.  They are moved out first: a handler may ask for a
     * token again (its next piece, after this failure), and that waiter
     * waits for the next fetch, not for this one's outcome.
     */
    ngx_queue_init(&waiters);

    if (!ngx_queue_empty(&t->waiters)) {
        ngx_queue_add(&waiters, &t->waiters);
        ngx_queue_init(&t->waiters);
    }

    while (!ngx_queue_empty(&waiters)) {
        q = ngx_queue_head(&waiters);
        ngx_queue_remove(q);

        w = ngx_queue_data(q, ngx_http_rtagent_speech_token_waiter_t, queue);
        w->waiting = 0;
        w->handler(w->data, err, detail);
    }

    if (pool) {
        ngx_destroy_pool(pool);
    }
}


void
ngx_http_rtagent_speech_keep_error(ngx_pool_t *pool, ngx_str_t *body,
    u_char *data, size_t len)
{
    size_t  n;

    if (body->data == NULL) {
        body->data = ngx_pnalloc(pool, NGX_HTTP_RTAGENT_SPEECH_ERR_BODY);
        if (body->data == NULL) {
            return;
        }

        body->len = 0;
    }

    n = ngx_min(len, NGX_HTTP_RTAGENT_SPEECH_ERR_BODY - body->len);
    ngx_memcpy(body->data + body->len, data, n);
    body->len += n;
}


ngx_http_rtagent_speech_err_e
ngx_http_rtagent_speech_http_err(ngx_http_rtagent_http_job_t *job,
    ngx_str_t *body, ngx_pool_t *pool, const char **detail)
{
    u_char                         *p;
    char                            msg[160];
    ngx_http_rtagent_speech_err_e   err;

    if (job->rc != NGX_OK) {
        *detail = job->error ? job->error : "no response";

        if (job->timedout) {
            return NGX_HTTP_RTAGENT_SPEECH_TIMEOUT;
        }

        /* a response begun and cut off: the service's end went wrong */
        return job->delivered ? NGX_HTTP_RTAGENT_SPEECH_SERVER
                              : NGX_HTTP_RTAGENT_SPEECH_NETWORK;
    }

    if (job->status >= 200 && job->status < 300) {
        *detail = NULL;
        return NGX_HTTP_RTAGENT_SPEECH_OK;
    }

    switch (job->status) {

    case NGX_HTTP_UNAUTHORIZED:
    case NGX_HTTP_FORBIDDEN:
        err = NGX_HTTP_RTAGENT_SPEECH_AUTH;
        break;

    case NGX_HTTP_TOO_MANY_REQUESTS:
        err = NGX_HTTP_RTAGENT_SPEECH_RATE;
        break;

    case NGX_HTTP_REQUEST_TIME_OUT:
    case NGX_HTTP_GATEWAY_TIME_OUT:
        err = NGX_HTTP_RTAGENT_SPEECH_TIMEOUT;
        break;

    default:
        err = (job->status >= 500) ? NGX_HTTP_RTAGENT_SPEECH_SERVER
                                   : NGX_HTTP_RTAGENT_SPEECH_BAD_INPUT;
    }

    msg[0] = '\0';

    if (body && body->len) {
        (void) ngx_http_rtagent_transcript_error((char *) body->data,
                                                 body->len, msg,
                                                 sizeof(msg));
    }

    p = ngx_pnalloc(pool, sizeof("HTTP 999: ") + sizeof(msg));
    if (p == NULL) {
        *detail = "an error status";
        return err;
    }

    *detail = (const char *) p;
    *ngx_sprintf(p, "HTTP %ui%s%s", job->status, msg[0] ? ": " : "", msg) =
        '\0';

    return err;
}
