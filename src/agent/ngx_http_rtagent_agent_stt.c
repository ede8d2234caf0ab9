
/*
 * The agents' searches into the STT search registry: the grammar builder
 * asks which words the pocketsphinx dictionary has and hands over each
 * search, which the registry checks (and, for phrases, builds its
 * language model from) at once.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <agent/ngx_http_rtagent_agent_module.h>
#include <agent/ngx_http_rtagent_agent_grammar.h>
#include <agent/ngx_http_rtagent_agent_stt.h>
#include <speech/ngx_http_rtagent_stt_search.h>


typedef struct {
    ngx_conf_t                 *cf;
    ngx_http_rtagent_agent_t   *agent;
    ngx_uint_t                  added;
} ngx_http_rtagent_agent_stt_ctx_t;


static void *ngx_http_rtagent_agent_stt_alloc(void *ctx, size_t size);
static int ngx_http_rtagent_agent_stt_known(void *ctx, const char *search,
    const char *word, size_t len);
static int ngx_http_rtagent_agent_stt_add(void *ctx,
    const ngx_http_rtagent_grammar_t *g);
static ngx_str_t *ngx_http_rtagent_agent_stt_strs(ngx_conf_t *cf,
    const char **s, size_t n);


ngx_int_t
ngx_http_rtagent_agent_stt_register(ngx_conf_t *cf, ngx_array_t *agents)
{
    ngx_uint_t                         i;
    ngx_http_rtagent_agent_t          *agent;
    ngx_http_rtagent_grammar_ctx_t     gctx;
    ngx_http_rtagent_agent_stt_ctx_t   ctx;

    agent = agents->elts;

    ctx.cf = cf;
    ctx.added = 0;

    gctx.alloc = ngx_http_rtagent_agent_stt_alloc;
    gctx.alloc_ctx = cf->pool;
    gctx.known = ngx_http_rtagent_agent_stt_known;
    gctx.known_ctx = &ctx;
    gctx.add = ngx_http_rtagent_agent_stt_add;
    gctx.add_ctx = &ctx;

    for (i = 0; i < agents->nelts; i++) {
        ctx.agent = &agent[i];

        if (ngx_http_rtagent_grammar_build(&gctx, agent[i].def) != 0) {
            return NGX_ERROR;
        }
    }

    if (ctx.added) {
        ngx_log_error(NGX_LOG_NOTICE, cf->log, 0,
                      "rtagent: %ui STT searches for the agents' local "
                      "dialogues", ctx.added);
    }

    return NGX_OK;
}


static void *
ngx_http_rtagent_agent_stt_alloc(void *ctx, size_t size)
{
    return ngx_palloc(ctx, size);
}


static int
ngx_http_rtagent_agent_stt_known(void *data, const char *search,
    const char *word, size_t len)
{
    ngx_int_t                          rc;
    ngx_http_rtagent_agent_stt_ctx_t  *ctx = data;

    rc = ngx_http_rtagent_stt_search_known(ctx->cf, (u_char *) word, len);

    if (rc == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, ctx->cf, 0,
                           "rtagent stt search \"%s\" of %V: \"%*s\" is not "
                           "in the pocketsphinx dictionary, its alternative "
                           "left out", search, &ctx->agent->file, len, word);
    }

    return (int) rc;
}


static int
ngx_http_rtagent_agent_stt_add(void *data, const ngx_http_rtagent_grammar_t *g)
{
    ngx_str_t                           name;
    ngx_http_rtagent_agent_stt_ctx_t   *ctx = data;
    ngx_http_rtagent_stt_search_def_t   def;

    ngx_memzero(&def, sizeof(ngx_http_rtagent_stt_search_def_t));
    def.source = ctx->agent->file;

    if (g->kind == NGX_HTTP_RTAGENT_GRAMMAR_JSGF) {
        def.kind = NGX_HTTP_RTAGENT_STT_SEARCH_JSGF;
        def.jsgf.data = (u_char *) g->jsgf;
        def.jsgf.len = ngx_strlen(g->jsgf);

    } else {
        def.kind = NGX_HTTP_RTAGENT_STT_SEARCH_PHRASES;
        def.phrases = ngx_http_rtagent_agent_stt_strs(ctx->cf, g->phrases,
                                                      g->nphrases);
        def.vocabulary = ngx_http_rtagent_agent_stt_strs(ctx->cf,
                                                         g->vocabulary,
                                                         g->nvocabulary);
        if (def.phrases == NULL || def.vocabulary == NULL) {
            return -1;
        }

        def.nphrases = g->nphrases;
        def.nvocabulary = g->nvocabulary;
    }

    name.data = (u_char *) g->name;
    name.len = ngx_strlen(g->name);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ctx->cf->log, 0,
                   "rtagent agent stt search \"%V\":\n%s", &name,
                   g->jsgf ? g->jsgf : "(phrases)");

    if (ngx_http_rtagent_stt_search_add(ctx->cf, &name, &def) != NGX_OK) {
        return -1;
    }

    ctx->added++;

    return 0;
}


static ngx_str_t *
ngx_http_rtagent_agent_stt_strs(ngx_conf_t *cf, const char **s, size_t n)
{
    size_t      i;
    ngx_str_t  *a;

    a = ngx_palloc(cf->temp_pool, (n + 1) * sizeof(ngx_str_t));
    if (a == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        a[i].data = (u_char *) s[i];
        a[i].len = ngx_strlen(s[i]);
    }

    return a;
}
