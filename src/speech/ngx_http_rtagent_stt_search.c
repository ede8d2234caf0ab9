
/*
 * The STT search registry (ngx_http_rtagent_stt_search_module):
 *
 *   rtagent_stt_search <name> jsgf|phrases <file>;     http
 *       a JSGF grammar, or phrases one a line ("#" starts a comment),
 *       the file relative to the configuration's folder
 *   rtagent_stt_expect <name>;                        http, server, location
 *       the search a turn gets when its responder names none
 *
 * Everything is checked as it is registered.  The pocketsphinx dictionary
 * is read (once a configuration, into cf->temp_pool, so it is gone when
 * the configuration is) the first time a word is looked up; a grammar is
 * compiled with sphinxbase's JSGF parser so that what the decoders load
 * in the workers is known to load.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdarg.h>
#include <pocketsphinx.h>
#include <sphinxbase/jsgf.h>
#include <sphinxbase/err.h>

#include <ngx_http_rtagent_core.h>
#include <speech/ngx_http_rtagent_stt_search.h>
#include <speech/ngx_http_rtagent_lm.h>


/* a phrases file larger than this is refused */
#define NGX_HTTP_RTAGENT_STT_SEARCH_FILE_MAX  (1024 * 1024)

/* the longest word looked up in the dictionary */
#define NGX_HTTP_RTAGENT_STT_WORD_MAX         64

/* what a word of a phrase is made of: letters, digits, apostrophes */
#define ngx_http_rtagent_stt_word_byte(c)                                    \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z')                \
     || ((c) >= '0' && (c) <= '9') || (c) == '\'')


typedef struct {
    ngx_str_t                   name;
    ngx_str_t                  *file;         /* where it was set */
    ngx_uint_t                  line;
} ngx_http_rtagent_stt_expect_ref_t;


typedef struct {
    ngx_array_t                *searches;     /* stt_search_t */
    ngx_array_t                *expects;      /* stt_expect_ref_t */

    /* configuration time only (cf->temp_pool) */
    ngx_str_t                  *dict;         /* sorted head words */
    ngx_uint_t                  ndict;
    logmath_t                  *lmath;
    unsigned                    dict_failed:1;
} ngx_http_rtagent_stt_search_main_conf_t;


typedef struct {
    ngx_str_t                   expect;
} ngx_http_rtagent_stt_search_loc_conf_t;


/* sphinxbase's last error while a grammar is compiled */
typedef struct {
    u_char                      buf[256];
    size_t                      len;
} ngx_http_rtagent_stt_search_err_t;


static char *ngx_http_rtagent_stt_search_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_rtagent_stt_expect_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_rtagent_stt_search_jsgf(ngx_conf_t *cf,
    ngx_http_rtagent_stt_search_main_conf_t *smcf, ngx_str_t *name,
    ngx_http_rtagent_stt_search_def_t *def, ngx_str_t *text);
static ngx_int_t ngx_http_rtagent_stt_search_phrases(ngx_conf_t *cf,
    ngx_str_t *name, ngx_http_rtagent_stt_search_def_t *def,
    ngx_http_rtagent_stt_search_t *s);
static ngx_int_t ngx_http_rtagent_stt_search_tokens(ngx_conf_t *cf,
    ngx_str_t *name, ngx_http_rtagent_stt_search_def_t *def,
    ngx_http_rtagent_lm_t *lm, ngx_str_t *text, ngx_uint_t phrase);
static ngx_int_t ngx_http_rtagent_stt_search_dict(ngx_conf_t *cf,
    ngx_http_rtagent_stt_search_main_conf_t *smcf);
static int ngx_http_rtagent_stt_search_cmp(const void *a, const void *b);
static void ngx_http_rtagent_stt_search_err_cb(void *data, err_lvl_t lvl,
    const char *fmt, ...);
static void ngx_http_rtagent_stt_search_lmath_free(void *data);
static void *ngx_http_rtagent_stt_search_lm_alloc(void *ctx, size_t size);
static ngx_http_rtagent_stt_search_t *ngx_http_rtagent_stt_search_in(
    ngx_array_t *a, ngx_str_t *name);
static ngx_int_t ngx_http_rtagent_stt_search_postconf(ngx_conf_t *cf);
static void *ngx_http_rtagent_stt_search_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_rtagent_stt_search_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_rtagent_stt_search_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);


static ngx_command_t  ngx_http_rtagent_stt_search_commands[] = {

    { ngx_string("rtagent_stt_search"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE3,
      ngx_http_rtagent_stt_search_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rtagent_stt_expect"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_rtagent_stt_expect_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_rtagent_stt_search_module_ctx = {
    NULL,                                    /* preconfiguration */
    ngx_http_rtagent_stt_search_postconf,    /* postconfiguration */

    ngx_http_rtagent_stt_search_create_main_conf,
    NULL,                                    /* init main configuration */

    NULL,                                    /* create server configuration */
    NULL,                                    /* merge server configuration */

    ngx_http_rtagent_stt_search_create_loc_conf,
    ngx_http_rtagent_stt_search_merge_loc_conf
};


ngx_module_t  ngx_http_rtagent_stt_search_module = {
    NGX_MODULE_V1,
    &ngx_http_rtagent_stt_search_module_ctx, /* module context */
    ngx_http_rtagent_stt_search_commands,    /* module directives */
    NGX_HTTP_MODULE,                         /* module type */
    NULL,                                    /* init master */
    NULL,                                    /* init module */
    NULL,                                    /* init process */
    NULL,                                    /* init thread */
    NULL,                                    /* exit thread */
    NULL,                                    /* exit process */
    NULL,                                    /* exit master */
    NGX_MODULE_V1_PADDING
};


ngx_int_t
ngx_http_rtagent_stt_search_add(ngx_conf_t *cf, ngx_str_t *name,
    ngx_http_rtagent_stt_search_def_t *def)
{
    u_char                                   *p;
    ngx_str_t                                 text;
    ngx_uint_t                                i;
    ngx_http_rtagent_stt_search_t            *s;
    ngx_http_rtagent_stt_search_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                          ngx_http_rtagent_stt_search_module);

    /* "_default" and the like are pocketsphinx's own */
    if (name->len == 0 || name->len > NGX_HTTP_RTAGENT_STT_SEARCH_NAME_MAX
        || name->data[0] == '_')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent stt search \"%V\"%s%V: the name must be "
                           "1 to %d bytes, not starting with \"_\"", name,
                           def->source.len ? " of " : "", &def->source,
                           NGX_HTTP_RTAGENT_STT_SEARCH_NAME_MAX);
        return NGX_ERROR;
    }

    for (i = 0; i < name->len; i++) {
        if (name->data[i] <= ' ' || name->data[i] >= 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "rtagent stt search \"%V\"%s%V: the name has "
                               "a space or a control or non-ASCII byte",
                               name, def->source.len ? " of " : "",
                               &def->source);
            return NGX_ERROR;
        }
    }

    if (smcf->searches == NULL) {
        smcf->searches = ngx_array_create(cf->pool, 16,
                                     sizeof(ngx_http_rtagent_stt_search_t));
        if (smcf->searches == NULL) {
            return NGX_ERROR;
        }

    } else if (ngx_http_rtagent_stt_search_in(smcf->searches, name) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent stt search \"%V\"%s%V: duplicate name",
                           name, def->source.len ? " of " : "",
                           &def->source);
        return NGX_ERROR;
    }

    s = ngx_array_push(smcf->searches);
    if (s == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(s, sizeof(ngx_http_rtagent_stt_search_t));
    s->kind = def->kind;

    p = ngx_pnalloc(cf->pool, name->len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    s->name.data = p;
    s->name.len = name->len;
    *ngx_cpymem(p, name->data, name->len) = '\0';

    if (def->kind == NGX_HTTP_RTAGENT_STT_SEARCH_PHRASES) {
        if (ngx_http_rtagent_stt_search_phrases(cf, &s->name, def, s)
            != NGX_OK)
        {
            smcf->searches->nelts--;
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (ngx_http_rtagent_stt_search_jsgf(cf, smcf, &s->name, def, &text)
        != NGX_OK)
    {
        smcf->searches->nelts--;
        return NGX_ERROR;
    }

    s->text = text;

    return NGX_OK;
}


/* compiled with sphinxbase as the decoders will; every word known */

static ngx_int_t
ngx_http_rtagent_stt_search_jsgf(ngx_conf_t *cf,
    ngx_http_rtagent_stt_search_main_conf_t *smcf, ngx_str_t *name,
    ngx_http_rtagent_stt_search_def_t *def, ngx_str_t *text)
{
    u_char                             *p;
    int32                               i;
    ngx_int_t                           rc, known;
    jsgf_t                             *jsgf;
    const char                         *word;
    jsgf_rule_t                        *rule;
    fsg_model_t                        *fsg;
    ngx_pool_cleanup_t                 *cln;
    ngx_http_rtagent_stt_search_err_t   err;

    p = ngx_pnalloc(cf->pool, def->jsgf.len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    text->data = p;
    text->len = def->jsgf.len;
    *ngx_cpymem(p, def->jsgf.data, def->jsgf.len) = '\0';

    if (smcf->lmath == NULL) {
        cln = ngx_pool_cleanup_add(cf->temp_pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        smcf->lmath = logmath_init(1.0001, 0, 0);
        if (smcf->lmath == NULL) {
            return NGX_ERROR;
        }

        cln->handler = ngx_http_rtagent_stt_search_lmath_free;
        cln->data = smcf;
    }

    err.len = 0;
    err_set_callback(ngx_http_rtagent_stt_search_err_cb, &err);

    rc = NGX_ERROR;
    fsg = NULL;
    jsgf = jsgf_parse_string((char *) p, NULL);

    if (jsgf == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent stt search \"%V\"%s%V: the JSGF grammar "
                           "does not parse: %*s", name,
                           def->source.len ? " of " : "", &def->source,
                           err.len, err.buf);
        goto done;
    }

    rule = jsgf_get_public_rule(jsgf);

    if (rule == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent stt search \"%V\"%s%V: the JSGF grammar "
                           "has no public rule", name,
                           def->source.len ? " of " : "", &def->source);
        goto done;
    }

    fsg = jsgf_build_fsg(jsgf, rule, smcf->lmath, 7.5);

    if (fsg == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent stt search \"%V\"%s%V: the JSGF grammar "
                           "does not compile: %*s", name,
                           def->source.len ? " of " : "", &def->source,
                           err.len, err.buf);
        goto done;
    }

    for (i = 0; i < fsg_model_n_word(fsg); i++) {
        word = fsg_model_word_str(fsg, i);

        known = ngx_http_rtagent_stt_search_known(cf, (u_char *) word,
                                                  ngx_strlen(word));
        if (known == -1) {
            goto done;
        }

        if (known == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "rtagent stt search \"%V\"%s%V: the word "
                               "\"%s\" of the grammar is not in the "
                               "pocketsphinx dictionary", name,
                               def->source.len ? " of " : "", &def->source,
                               word);
            goto done;
        }
    }

    rc = NGX_OK;

done:

    if (fsg != NULL) {
        (void) fsg_model_free(fsg);
    }

    if (jsgf != NULL) {
        jsgf_grammar_free(jsgf);
    }

    err_set_callback(err_logfp_cb, NULL);

    return rc;
}


/* the language model, from the phrases and the vocabulary */

static ngx_int_t
ngx_http_rtagent_stt_search_phrases(ngx_conf_t *cf, ngx_str_t *name,
    ngx_http_rtagent_stt_search_def_t *def, ngx_http_rtagent_stt_search_t *s)
{
    char                   *fsg;
    size_t                  len;
    ngx_uint_t              i;
    ngx_http_rtagent_lm_t  *lm;

    lm = ngx_http_rtagent_lm_create(ngx_http_rtagent_stt_search_lm_alloc,
                                    cf->temp_pool);
    if (lm == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < def->nphrases; i++) {
        if (ngx_http_rtagent_stt_search_tokens(cf, name, def, lm,
                                               &def->phrases[i], 1)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < def->nvocabulary; i++) {
        if (ngx_http_rtagent_stt_search_tokens(cf, name, def, lm,
                                               &def->vocabulary[i], 0)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    s->words = ngx_http_rtagent_lm_nwords(lm);

    if (s->words == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent stt search \"%V\"%s%V: no word of its "
                           "phrases is in the pocketsphinx dictionary", name,
                           def->source.len ? " of " : "", &def->source);
        return NGX_ERROR;
    }

    /* the bigram model as a grammar (see ngx_http_rtagent_lm.h) */
    fsg = ngx_http_rtagent_lm_fsg(lm, (char *) name->data, &len);
    if (fsg == NULL) {
        return NGX_ERROR;
    }

    /* the model outlives the configuration's temporary pool */
    s->text.data = ngx_pnalloc(cf->pool, len + 1);
    if (s->text.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->text.data, fsg, len + 1);
    s->text.len = len;

    return NGX_OK;
}


/*
 * One phrase (or a vocabulary entry) into the model: lowercased words,
 * split at anything but letters, digits and apostrophes.  A word the
 * dictionary lacks is left out with a warning, and the phrase is cut
 * there: no pair is made across the gap.
 */

static ngx_int_t
ngx_http_rtagent_stt_search_tokens(ngx_conf_t *cf, ngx_str_t *name,
    ngx_http_rtagent_stt_search_def_t *def, ngx_http_rtagent_lm_t *lm,
    ngx_str_t *text, ngx_uint_t phrase)
{
    u_char      *p, *last, *start, *w;
    unsigned     flags;
    ngx_int_t    known;
    ngx_uint_t   n, run, cut;
    const char **words;

    words = ngx_palloc(cf->temp_pool, (text->len / 2 + 1) * sizeof(char *));
    if (words == NULL) {
        return NGX_ERROR;
    }

    p = text->data;
    last = p + text->len;
    n = 0;
    run = 0;
    cut = 0;

    for ( ;; ) {
        while (p < last && !ngx_http_rtagent_stt_word_byte(*p)) {
            p++;
        }

        if (p == last) {
            break;
        }

        start = p;

        while (p < last && ngx_http_rtagent_stt_word_byte(*p)) {
            p++;
        }

        known = ngx_http_rtagent_stt_search_known(cf, start, p - start);
        if (known == -1) {
            return NGX_ERROR;
        }

        if (known == 0) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "rtagent stt search \"%V\"%s%V: \"%*s\" is "
                               "not in the pocketsphinx dictionary, left "
                               "out", name, def->source.len ? " of " : "",
                               &def->source, (size_t) (p - start), start);

            if (n > run) {
                flags = (phrase && run == 0 && !cut)
                        ? NGX_HTTP_RTAGENT_LM_BOS : 0;

                if (ngx_http_rtagent_lm_add(lm, words + run, n - run, flags)
                    != 0)
                {
                    return NGX_ERROR;
                }
            }

            run = n;
            cut = 1;
            continue;
        }

        w = ngx_pnalloc(cf->temp_pool, p - start + 1);
        if (w == NULL) {
            return NGX_ERROR;
        }

        ngx_strlow(w, start, p - start);
        w[p - start] = '\0';
        words[n++] = (char *) w;
    }

    if (n > run) {
        flags = 0;

        if (phrase) {
            flags = NGX_HTTP_RTAGENT_LM_EOS;

            if (run == 0 && !cut) {
                flags |= NGX_HTTP_RTAGENT_LM_BOS;
            }
        }

        if (ngx_http_rtagent_lm_add(lm, words + run, n - run, flags) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "rtagent stt search \"%V\"%s%V: too many "
                               "words", name, def->source.len ? " of " : "",
                               &def->source);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_rtagent_stt_search_known(ngx_conf_t *cf, u_char *word, size_t len)
{
    u_char                                    buf[NGX_HTTP_RTAGENT_STT_WORD_MAX];
    ngx_str_t                                 key;
    ngx_http_rtagent_stt_search_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                          ngx_http_rtagent_stt_search_module);

    if (smcf->dict == NULL
        && ngx_http_rtagent_stt_search_dict(cf, smcf) != NGX_OK)
    {
        return -1;
    }

    if (len == 0 || len > sizeof(buf)) {
        return 0;
    }

    ngx_strlow(buf, word, len);
    key.data = buf;
    key.len = len;

    return bsearch(&key, smcf->dict, smcf->ndict, sizeof(ngx_str_t),
                   ngx_http_rtagent_stt_search_cmp)
           ? 1 : 0;
}


/* the head words of the dictionary, sorted ("word(2)" as "word") */

static ngx_int_t
ngx_http_rtagent_stt_search_dict(ngx_conf_t *cf,
    ngx_http_rtagent_stt_search_main_conf_t *smcf)
{
    u_char           *p, *last, *start, *buf;
    ssize_t           n;
    ngx_str_t        *w;
    ngx_uint_t        lines;
    ngx_file_t        file;
    ngx_file_info_t   fi;

    if (smcf->dict_failed) {
        return NGX_ERROR;
    }

    smcf->dict_failed = 1;

    ngx_memzero(&file, sizeof(ngx_file_t));
    ngx_str_set(&file.name, NGX_HTTP_RTAGENT_PS_DICT);
    file.log = cf->log;

    file.fd = ngx_open_file(file.name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN,
                            0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "rtagent stt search: " ngx_open_file_n " \"%V\" "
                           "failed (package pocketsphinx-en-us)",
                           &file.name);
        return NGX_ERROR;
    }

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "rtagent stt search: " ngx_fd_info_n " \"%V\" "
                           "failed", &file.name);
        goto failed;
    }

    buf = ngx_pnalloc(cf->temp_pool, ngx_file_size(&fi) + 1);
    if (buf == NULL) {
        goto failed;
    }

    n = ngx_read_file(&file, buf, ngx_file_size(&fi), 0);

    if (n != (ssize_t) ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "rtagent stt search: " ngx_read_file_n " \"%V\" "
                           "failed", &file.name);
        goto failed;
    }

    (void) ngx_close_file(file.fd);

    last = buf + n;
    lines = 1;

    for (p = buf; p < last; p++) {
        lines += (*p == '\n');
    }

    smcf->dict = ngx_palloc(cf->temp_pool, lines * sizeof(ngx_str_t));
    if (smcf->dict == NULL) {
        return NGX_ERROR;
    }

    smcf->ndict = 0;

    for (p = buf; p < last; p++) {
        start = p;

        while (p < last && *p != ' ' && *p != '\t' && *p != '\n') {
            p++;
        }

        if (p > start) {
            w = &smcf->dict[smcf->ndict++];
            w->data = start;
            w->len = p - start;

            /* "word(2)": another pronunciation of "word" */
            if (w->len > 3 && start[w->len - 1] == ')') {
                while (w->len > 1 && start[w->len - 1] != '(') {
                    w->len--;
                }

                w->len--;
            }
        }

        while (p < last && *p != '\n') {
            p++;
        }
    }

    ngx_qsort(smcf->dict, smcf->ndict, sizeof(ngx_str_t),
              ngx_http_rtagent_stt_search_cmp);

    smcf->dict_failed = 0;

    return NGX_OK;

failed:

    (void) ngx_close_file(file.fd);

    return NGX_ERROR;
}


static int
ngx_http_rtagent_stt_search_cmp(const void *a, const void *b)
{
    int               rc;
    const ngx_str_t  *x = a, *y = b;

    rc = ngx_memcmp(x->data, y->data, ngx_min(x->len, y->len));

    if (rc != 0) {
        return rc;
    }

    return (x->len > y->len) - (x->len < y->len);
}


/* sphinxbase's first error while a grammar is compiled (the most
 * precise one), without its 'ERROR: "jsgf_parser.y", line 155: ' */

static void
ngx_http_rtagent_stt_search_err_cb(void *data, err_lvl_t lvl,
    const char *fmt, ...)
{
    int                                 n;
    u_char                             *p, *last, *q;
    va_list                             args;
    ngx_http_rtagent_stt_search_err_t  *err = data;

    if (lvl < ERR_ERROR || err->len) {
        return;
    }

    va_start(args, fmt);
    n = vsnprintf((char *) err->buf, sizeof(err->buf), fmt, args);
    va_end(args);

    if (n <= 0) {
        return;
    }

    p = err->buf;
    last = p + ngx_min((size_t) n, sizeof(err->buf) - 1);

    q = ngx_strlcasestrn(p, last, (u_char *) "\", line ", 8 - 1);

    if (q != NULL) {
        q += 8;

        while (q < last && *q >= '0' && *q <= '9') {
            q++;
        }

        if (last - q > 2 && q[0] == ':' && q[1] == ' ') {
            p = q + 2;
        }
    }

    while (last > p && (last[-1] == '\n' || last[-1] == ' ')) {
        last--;
    }

    err->len = last - p;
    ngx_memmove(err->buf, p, err->len);
}


static void
ngx_http_rtagent_stt_search_lmath_free(void *data)
{
    ngx_http_rtagent_stt_search_main_conf_t  *smcf = data;

    (void) logmath_free(smcf->lmath);
    smcf->lmath = NULL;
}


static void *
ngx_http_rtagent_stt_search_lm_alloc(void *ctx, size_t size)
{
    return ngx_palloc(ctx, size);
}


static char *
ngx_http_rtagent_stt_search_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    u_char                             *p, *last, *start;
    ngx_str_t                          *value, path, text, *phrase;
    ngx_array_t                         phrases;
    ngx_http_rtagent_stt_search_def_t   def;

    value = cf->args->elts;
    ngx_memzero(&def, sizeof(ngx_http_rtagent_stt_search_def_t));

    if (ngx_strcmp(value[2].data, "jsgf") == 0) {
        def.kind = NGX_HTTP_RTAGENT_STT_SEARCH_JSGF;

    } else if (ngx_strcmp(value[2].data, "phrases") == 0) {
        def.kind = NGX_HTTP_RTAGENT_STT_SEARCH_PHRASES;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_stt_search \"%V\": \"%V\" is not jsgf "
                           "or phrases", &value[1], &value[2]);
        return NGX_CONF_ERROR;
    }

    path = value[3];

    if (ngx_http_rtagent_conf_file(cf, &path,
                                   NGX_HTTP_RTAGENT_STT_SEARCH_FILE_MAX, &text)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rtagent_stt_search \"%V\": \"%V\" cannot be "
                           "read", &value[1], &path);
        return NGX_CONF_ERROR;
    }

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    def.source = path;

    if (def.kind == NGX_HTTP_RTAGENT_STT_SEARCH_JSGF) {
        def.jsgf = text;

    } else {
        if (ngx_array_init(&phrases, cf->temp_pool, 32, sizeof(ngx_str_t))
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        last = text.data + text.len;

        for (p = text.data; p < last; p++) {
            start = p;

            while (p < last && *p != '\n') {
                p++;
            }

            if (p == start || *start == '#') {
                continue;
            }

            phrase = ngx_array_push(&phrases);
            if (phrase == NULL) {
                return NGX_CONF_ERROR;
            }

            phrase->data = start;
            phrase->len = p - start;
        }

        def.phrases = phrases.elts;
        def.nphrases = phrases.nelts;
    }

    if (ngx_http_rtagent_stt_search_add(cf, &value[1], &def) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_rtagent_stt_expect_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_rtagent_stt_search_loc_conf_t *slcf = conf;

    ngx_str_t                                *value;
    ngx_http_rtagent_stt_expect_ref_t        *ref;
    ngx_http_rtagent_stt_search_main_conf_t  *smcf;

    if (slcf->expect.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    slcf->expect = value[1];

    /* checked once every search is registered (the agents' come later) */

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                          ngx_http_rtagent_stt_search_module);

    if (smcf->expects == NULL) {
        smcf->expects = ngx_array_create(cf->pool, 4,
                                  sizeof(ngx_http_rtagent_stt_expect_ref_t));
        if (smcf->expects == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    ref = ngx_array_push(smcf->expects);
    if (ref == NULL) {
        return NGX_CONF_ERROR;
    }

    ref->name = value[1];
    ref->file = &cf->conf_file->file.name;
    ref->line = cf->conf_file->line;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_rtagent_stt_search_postconf(ngx_conf_t *cf)
{
    ngx_uint_t                                i;
    ngx_http_rtagent_stt_expect_ref_t        *ref;
    ngx_http_rtagent_stt_search_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                          ngx_http_rtagent_stt_search_module);

    if (smcf->expects == NULL) {
        return NGX_OK;
    }

    ref = smcf->expects->elts;

    for (i = 0; i < smcf->expects->nelts; i++) {
        if (ngx_http_rtagent_stt_search_in(smcf->searches, &ref[i].name)
            == NULL)
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "rtagent_stt_expect: no STT search \"%V\" is "
                          "registered (rtagent_stt_search or an agent's "
                          "local section) in %V:%ui", &ref[i].name,
                          ref[i].file, ref[i].line);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_array_t *
ngx_http_rtagent_stt_searches(ngx_cycle_t *cycle)
{
    ngx_http_rtagent_stt_search_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                          ngx_http_rtagent_stt_search_module);

    return smcf ? smcf->searches : NULL;
}


ngx_http_rtagent_stt_search_t *
ngx_http_rtagent_stt_search_find(ngx_cycle_t *cycle, ngx_str_t *name)
{
    return ngx_http_rtagent_stt_search_in(ngx_http_rtagent_stt_searches(cycle),
                                          name);
}


static ngx_http_rtagent_stt_search_t *
ngx_http_rtagent_stt_search_in(ngx_array_t *a, ngx_str_t *name)
{
    ngx_uint_t                      i;
    ngx_http_rtagent_stt_search_t  *s;

    if (a == NULL || name->len == 0) {
        return NULL;
    }

    s = a->elts;

    for (i = 0; i < a->nelts; i++) {
        if (s[i].name.len == name->len
            && ngx_strncmp(s[i].name.data, name->data, name->len) == 0)
        {
            return &s[i];
        }
    }

    return NULL;
}


ngx_str_t *
ngx_http_rtagent_stt_search_expect(void **loc_conf)
{
    ngx_http_rtagent_stt_search_loc_conf_t  *slcf;

    slcf = loc_conf[ngx_http_rtagent_stt_search_module.ctx_index];

    return &slcf->expect;
}


static void *
ngx_http_rtagent_stt_search_create_main_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool,
                       sizeof(ngx_http_rtagent_stt_search_main_conf_t));
}


static void *
ngx_http_rtagent_stt_search_create_loc_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool,
                       sizeof(ngx_http_rtagent_stt_search_loc_conf_t));
}


static char *
ngx_http_rtagent_stt_search_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_rtagent_stt_search_loc_conf_t *prev = parent;
    ngx_http_rtagent_stt_search_loc_conf_t *conf = child;

    ngx_conf_merge_str_value(conf->expect, prev->expect, "");

    return NGX_CONF_OK;
}
