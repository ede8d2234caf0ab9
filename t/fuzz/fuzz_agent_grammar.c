
/*
 * libFuzzer target for the agents' STT searches: any bytes parsed as an
 * agent file and, when it parses, every search of its local section
 * built; each phrases search's words go through the bigram builder,
 * which writes its ARPA text and its FSG.  A JSGF text must end in a
 * rule and hold no NUL; a word the fuzzer's "dictionary" lacks (any with
 * a digit or a 'q') is left out, as nginx leaves out unknown words.  The
 * arena is freed after each input.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ngx_http_rtagent_agent_def.h"
#include "agent/ngx_http_rtagent_agent_grammar.h"
#include "speech/ngx_http_rtagent_lm.h"
#include "fuzz_arena.h"


static int
known(void *ctx, const char *search, const char *word, size_t len)
{
    size_t  i;

    (void) ctx;
    (void) search;

    if (len == 0) {
        abort();
    }

    for (i = 0; i < len; i++) {
        if (word[i] == 'q' || (word[i] >= '0' && word[i] <= '9')) {
            return 0;
        }

        if (!((word[i] >= 'a' && word[i] <= 'z') || word[i] == '\'')) {
            abort();                    /* lowercased words only */
        }
    }

    return 1;
}


/* a phrase's words as nginx splits them */
static void
add_words(ngx_http_rtagent_lm_t *lm, const char *text, unsigned flags,
    block_t **arena)
{
    char        *buf, *p, **w;
    size_t       n, len;

    len = strlen(text);
    buf = fuzz_alloc(arena, len + 1);
    w = fuzz_alloc(arena, (len / 2 + 1) * sizeof(char *));
    if (buf == NULL || w == NULL) {
        return;
    }

    memcpy(buf, text, len + 1);

    for (p = buf; *p; p++) {
        if (*p >= 'A' && *p <= 'Z') {
            *p |= 0x20;

        } else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
                     || *p == '\''))
        {
            *p = ' ';
        }
    }

    n = 0;
    for (p = strtok(buf, " "); p; p = strtok(NULL, " ")) {
        w[n++] = p;
    }

    (void) ngx_http_rtagent_lm_add(lm, (const char **) w, n, flags);
}


static int
add(void *ctx, const ngx_http_rtagent_grammar_t *g)
{
    size_t                  i, len;
    block_t               **arena = ctx;
    ngx_http_rtagent_lm_t  *lm;

    if (g->name == NULL || strchr(g->name, '.') == NULL) {
        abort();
    }

    if (g->kind == NGX_HTTP_RTAGENT_GRAMMAR_JSGF) {
        len = strlen(g->jsgf);

        if (strncmp(g->jsgf, "#JSGF V1.0;\n", 12) != 0 || len < 2
            || g->jsgf[len - 1] != '\n' || g->jsgf[len - 2] != ';')
        {
            abort();
        }

        return 0;
    }

    lm = ngx_http_rtagent_lm_create(fuzz_alloc, arena);
    if (lm == NULL) {
        return -1;
    }

    for (i = 0; i < g->nphrases; i++) {
        add_words(lm, g->phrases[i],
                  NGX_HTTP_RTAGENT_LM_BOS | NGX_HTTP_RTAGENT_LM_EOS, arena);
    }

    for (i = 0; i < g->nvocabulary; i++) {
        add_words(lm, g->vocabulary[i], 0, arena);
    }

    if (ngx_http_rtagent_lm_nwords(lm)) {
        if (ngx_http_rtagent_lm_arpa(lm, &len) == NULL
            || ngx_http_rtagent_lm_fsg(lm, g->name, &len) == NULL)
        {
            abort();
        }
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                             err[512];
    unsigned char                   *copy;
    block_t                         *arena;
    ngx_http_rtagent_agent_def_t    *def;
    ngx_http_rtagent_grammar_ctx_t   ctx;

    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data, size);
    arena = NULL;

    if (ngx_http_rtagent_agent_def_parse(copy, size, "fuzz.yaml",
                                         fuzz_alloc, &arena, &def, err,
                                         sizeof(err))
        == 0)
    {
        ctx.alloc = fuzz_alloc;
        ctx.alloc_ctx = &arena;
        ctx.known = known;
        ctx.known_ctx = NULL;
        ctx.add = add;
        ctx.add_ctx = &arena;

        (void) ngx_http_rtagent_grammar_build(&ctx, def);
    }

    fuzz_arena_free(arena);

    free(copy);

    return 0;
}
