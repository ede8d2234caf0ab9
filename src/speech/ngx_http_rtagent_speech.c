
/*
 * The provider registry: one table per kind, a row per provider.  A
 * location picks one by name; a provider some location picks is marked
 * used, so that its per-worker resources (models of tens of MB, thread
 * pool work) are made only where they serve.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <speech/ngx_http_rtagent_speech.h>
#include <speech/ngx_http_rtagent_stt.h>
#include <speech/ngx_http_rtagent_tts.h>


extern const ngx_http_rtagent_stt_provider_t  ngx_http_rtagent_stt_local;
extern const ngx_http_rtagent_tts_provider_t  ngx_http_rtagent_tts_local;
/* the cloud providers (src/speech/ngx_http_rtagent_{stt,tts}_*.c) */
extern const ngx_http_rtagent_stt_provider_t  ngx_http_rtagent_stt_openai;
extern const ngx_http_rtagent_stt_provider_t  ngx_http_rtagent_stt_azure;
extern const ngx_http_rtagent_tts_provider_t  ngx_http_rtagent_tts_azure;
extern const ngx_http_rtagent_tts_provider_t  ngx_http_rtagent_tts_openai;


/* one row per provider, in no particular order */
static const ngx_http_rtagent_stt_provider_t  *ngx_http_rtagent_stts[] = {
    &ngx_http_rtagent_stt_local,
    &ngx_http_rtagent_stt_openai,
    &ngx_http_rtagent_stt_azure,
    NULL
};

static const ngx_http_rtagent_tts_provider_t  *ngx_http_rtagent_ttss[] = {
    &ngx_http_rtagent_tts_local,
    &ngx_http_rtagent_tts_azure,
    &ngx_http_rtagent_tts_openai,
    NULL
};

/* by ngx_http_rtagent_speech_err_e */
static const char  *ngx_http_rtagent_speech_errs[] = {
    "ok", "nomatch", "timeout", "auth", "rate_limited", "server",
    "network", "bad_input", "internal"
};


static char *ngx_http_rtagent_speech_pick(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_http_rtagent_speech_pick_t *pick,
    const void *provider);


const char *
ngx_http_rtagent_speech_err_name(ngx_http_rtagent_speech_err_e e)
{
    return ngx_http_rtagent_speech_errs[e];
}


const ngx_http_rtagent_stt_provider_t *
ngx_http_rtagent_stt_find(ngx_str_t *name)
{
    ngx_uint_t  i;

    for (i = 0; ngx_http_rtagent_stts[i]; i++) {
        if (ngx_http_rtagent_stts[i]->name.len == name->len
            && ngx_strncmp(ngx_http_rtagent_stts[i]->name.data, name->data,
                           name->len) == 0)
        {
            return ngx_http_rtagent_stts[i];
        }
    }

    return NULL;
}


const ngx_http_rtagent_tts_provider_t *
ngx_http_rtagent_tts_find(ngx_str_t *name)
{
    ngx_uint_t  i;

    for (i = 0; ngx_http_rtagent_ttss[i]; i++) {
        if (ngx_http_rtagent_ttss[i]->name.len == name->len
            && ngx_strncmp(ngx_http_rtagent_ttss[i]->name.data, name->data,
                           name->len) == 0)
        {
            return ngx_http_rtagent_ttss[i];
        }
    }

    return NULL;
}


char *
ngx_http_rtagent_stt_set_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                              *value;
    const ngx_http_rtagent_stt_provider_t  *pr;

    value = cf->args->elts;
    pr = ngx_http_rtagent_stt_find(&value[1]);

    if (pr != NULL && pr->configure != NULL
        && pr->configure(cf) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_http_rtagent_speech_pick(cf, cmd,
               (ngx_http_rtagent_speech_pick_t *) ((char *) conf
                                                   + cmd->offset), pr);
}


char *
ngx_http_rtagent_tts_set_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                              *value;
    const ngx_http_rtagent_tts_provider_t  *pr;

    value = cf->args->elts;
    pr = ngx_http_rtagent_tts_find(&value[1]);

    if (pr != NULL && pr->configure != NULL
        && pr->configure(cf) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_http_rtagent_speech_pick(cf, cmd,
               (ngx_http_rtagent_speech_pick_t *) ((char *) conf
                                                   + cmd->offset), pr);
}


static char *
ngx_http_rtagent_speech_pick(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_rtagent_speech_pick_t *pick, const void *provider)
{
    ngx_str_t             *value;
    ngx_http_conf_ctx_t   *ctx;

    value = cf->args->elts;

    if (pick->provider != NULL) {
        return "is duplicate";
    }

    if (provider == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown %V provider \"%V\"", &cmd->name,
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    ctx = cf->ctx;

    pick->provider = provider;
    pick->loc_conf = ctx->loc_conf;

    return NGX_CONF_OK;
}
