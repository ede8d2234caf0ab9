
/*
 * The bigram builder: phrases are kept as they are added; the counts,
 * the vocabulary and the ARPA text are made at once when asked for
 * (sorting, then counting runs), which suits a model built once at
 * configuration time.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <speech/ngx_http_rtagent_lm.h>


#define NGX_HTTP_RTAGENT_LM_BOS_WORD  "<s>"
#define NGX_HTTP_RTAGENT_LM_EOS_WORD  "</s>"

/* ARPA's log10 for "never": <s> is not predicted */
#define NGX_HTTP_RTAGENT_LM_NEVER     -99.0


typedef struct ngx_http_rtagent_lm_run_s  ngx_http_rtagent_lm_run_t;

struct ngx_http_rtagent_lm_run_s {
    ngx_http_rtagent_lm_run_t      *next;
    const char                    **words;
    size_t                          n;
    unsigned                        flags;
};


struct ngx_http_rtagent_lm_s {
    ngx_http_rtagent_lm_alloc_pt    alloc;
    void                           *ctx;
    ngx_http_rtagent_lm_run_t      *runs;
    ngx_http_rtagent_lm_run_t     **last;
    size_t                          tokens;    /* words, <s>, </s> */
    size_t                          pairs;
};


typedef struct {
    int                             h;
    int                             w;
} ngx_http_rtagent_lm_pair_t;


static int ngx_http_rtagent_lm_strcmp(const void *a, const void *b);
static int ngx_http_rtagent_lm_paircmp(const void *a, const void *b);
static int ngx_http_rtagent_lm_id(const char **vocab, size_t n,
    const char *word);


ngx_http_rtagent_lm_t *
ngx_http_rtagent_lm_create(ngx_http_rtagent_lm_alloc_pt alloc, void *ctx)
{
    ngx_http_rtagent_lm_t  *lm;

    lm = alloc(ctx, sizeof(ngx_http_rtagent_lm_t));
    if (lm == NULL) {
        return NULL;
    }

    memset(lm, 0, sizeof(ngx_http_rtagent_lm_t));
    lm->alloc = alloc;
    lm->ctx = ctx;
    lm->last = &lm->runs;

    return lm;
}


int
ngx_http_rtagent_lm_add(ngx_http_rtagent_lm_t *lm, const char *const *words,
    size_t n, unsigned flags)
{
    char                       *p;
    size_t                      i, len;
    ngx_http_rtagent_lm_run_t  *run;

    if (n == 0) {
        return 0;
    }

    if (lm->tokens + n + 2 > NGX_HTTP_RTAGENT_LM_TOKENS_MAX) {
        return -1;
    }

    run = lm->alloc(lm->ctx, sizeof(ngx_http_rtagent_lm_run_t));
    if (run == NULL) {
        return -1;
    }

    run->words = lm->alloc(lm->ctx, n * sizeof(char *));
    if (run->words == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        len = strlen(words[i]) + 1;

        p = lm->alloc(lm->ctx, len);
        if (p == NULL) {
            return -1;
        }

        memcpy(p, words[i], len);
        run->words[i] = p;
    }

    run->n = n;
    run->flags = flags;
    run->next = NULL;

    *lm->last = run;
    lm->last = &run->next;

    lm->tokens += n + !!(flags & NGX_HTTP_RTAGENT_LM_BOS)
                  + !!(flags & NGX_HTTP_RTAGENT_LM_EOS);
    lm->pairs += n - 1 + !!(flags & NGX_HTTP_RTAGENT_LM_BOS)
                 + !!(flags & NGX_HTTP_RTAGENT_LM_EOS);

    return 0;
}


/* the sorted distinct words with <s> and </s>; *n of them */

static const char **
ngx_http_rtagent_lm_vocab(ngx_http_rtagent_lm_t *lm, size_t *n)
{
    size_t                      i, k, m;
    const char                **all;
    ngx_http_rtagent_lm_run_t  *run;

    all = lm->alloc(lm->ctx, (lm->tokens + 2) * sizeof(char *));
    if (all == NULL) {
        return NULL;
    }

    m = 0;
    all[m++] = NGX_HTTP_RTAGENT_LM_BOS_WORD;
    all[m++] = NGX_HTTP_RTAGENT_LM_EOS_WORD;

    for (run = lm->runs; run; run = run->next) {
        for (i = 0; i < run->n; i++) {
            all[m++] = run->words[i];
        }
    }

    qsort(all, m, sizeof(char *), ngx_http_rtagent_lm_strcmp);

    for (i = 1, k = 1; i < m; i++) {
        if (strcmp(all[i], all[k - 1]) != 0) {
            all[k++] = all[i];
        }
    }

    *n = k;

    return all;
}


size_t
ngx_http_rtagent_lm_nwords(ngx_http_rtagent_lm_t *lm)
{
    size_t  n;

    if (lm->runs == NULL || ngx_http_rtagent_lm_vocab(lm, &n) == NULL) {
        return 0;
    }

    return n - 2;
}


char *
ngx_http_rtagent_lm_arpa(ngx_http_rtagent_lm_t *lm, size_t *len)
{
    int                          bos, eos, id, prev;
    char                        *text, *p;
    size_t                       nv, np, nb, i, j, k, size, total, left;
    double                       pu, den, *mass;
    long                        *count, *hist, *succ, *pc;
    const char                 **vocab;
    ngx_http_rtagent_lm_pair_t  *pairs;
    ngx_http_rtagent_lm_run_t   *run;

    if (lm->runs == NULL) {
        return NULL;
    }

    vocab = ngx_http_rtagent_lm_vocab(lm, &nv);
    if (vocab == NULL) {
        return NULL;
    }

    bos = ngx_http_rtagent_lm_id(vocab, nv, NGX_HTTP_RTAGENT_LM_BOS_WORD);
    eos = ngx_http_rtagent_lm_id(vocab, nv, NGX_HTTP_RTAGENT_LM_EOS_WORD);

    count = lm->alloc(lm->ctx, nv * sizeof(long));
    hist = lm->alloc(lm->ctx, nv * sizeof(long));
    succ = lm->alloc(lm->ctx, nv * sizeof(long));
    mass = lm->alloc(lm->ctx, nv * sizeof(double));
    pairs = lm->alloc(lm->ctx,
                      (lm->pairs + 1) * sizeof(ngx_http_rtagent_lm_pair_t));
    pc = lm->alloc(lm->ctx, (lm->pairs + 1) * sizeof(long));

    if (count == NULL || hist == NULL || succ == NULL || mass == NULL
        || pairs == NULL || pc == NULL)
    {
        return NULL;
    }

    memset(count, 0, nv * sizeof(long));
    memset(hist, 0, nv * sizeof(long));
    memset(succ, 0, nv * sizeof(long));

    /* the tokens and the pairs, <s> and </s> where the flags say */

    total = 0;
    np = 0;

    for (run = lm->runs; run; run = run->next) {
        prev = (run->flags & NGX_HTTP_RTAGENT_LM_BOS) ? bos : -1;

        for (i = 0; i <= run->n; i++) {
            if (i == run->n) {
                if (!(run->flags & NGX_HTTP_RTAGENT_LM_EOS)) {
                    break;
                }

                id = eos;

            } else {
                id = ngx_http_rtagent_lm_id(vocab, nv, run->words[i]);
            }

            count[id]++;
            total++;

            if (prev >= 0) {
                pairs[np].h = prev;
                pairs[np].w = id;
                np++;
            }

            prev = id;
        }
    }

    qsort(pairs, np, sizeof(ngx_http_rtagent_lm_pair_t),
          ngx_http_rtagent_lm_paircmp);

    /* distinct pairs in place, with their counts */

    for (i = 0, nb = 0; i < np; i = j) {
        for (j = i + 1; j < np; j++) {
            if (pairs[j].h != pairs[i].h || pairs[j].w != pairs[i].w) {
                break;
            }
        }

        pairs[nb] = pairs[i];
        pc[nb] = (long) (j - i);
        hist[pairs[i].h] += pc[nb];
        succ[pairs[i].h]++;
        nb++;
    }

    /* |V| leaves out <s>, which is never predicted */
    den = (double) total + (double) (nv - 1);

    for (k = 0; k < nv; k++) {
        mass[k] = 0.0;
    }

    for (i = 0; i < nb; i++) {
        mass[pairs[i].h] += (count[pairs[i].w] + 1) / den;
    }

    /* the size: each number takes at most 12 bytes ("-99.0000" and the
     * like; a log10 of a probability here is never below -99) */

    size = sizeof("\\data\\\nngram 1=\nngram 2=\n\n\\1-grams:\n"
                  "\n\\2-grams:\n\n\\end\\\n") + 2 * 24;

    for (k = 0; k < nv; k++) {
        size += strlen(vocab[k]) + 2 * 12 + 3;
    }

    for (i = 0; i < nb; i++) {
        size += strlen(vocab[pairs[i].h]) + strlen(vocab[pairs[i].w])
                + 12 + 3;
    }

    text = lm->alloc(lm->ctx, size);
    if (text == NULL) {
        return NULL;
    }

    p = text;
    left = size;

#define ngx_http_rtagent_lm_print(...)                                       \
    do {                                                                     \
        int  w_ = snprintf(p, left, __VA_ARGS__);                            \
        if (w_ < 0 || (size_t) w_ >= left) {                                 \
            return NULL;                                                     \
        }                                                                    \
        p += w_;                                                             \
        left -= (size_t) w_;                                                 \
    } while (0)

    ngx_http_rtagent_lm_print("\\data\\\nngram 1=%zu\nngram 2=%zu\n\n"
                              "\\1-grams:\n", nv, nb);

    for (k = 0; k < nv; k++) {
        pu = ((int) k == bos) ? NGX_HTTP_RTAGENT_LM_NEVER
                              : log10((count[k] + 1) / den);

        if (succ[k] == 0) {
            ngx_http_rtagent_lm_print("%.4f %s\n", pu, vocab[k]);
            continue;
        }

        /* 1 - mass is at least p1 of </s> or of another unseen word,
         * unless every word follows this one: then nothing backs off */
        ngx_http_rtagent_lm_print("%.4f %s %.4f\n", pu, vocab[k],
            (1.0 - mass[k] > 1e-9)
            ? log10(NGX_HTTP_RTAGENT_LM_DISCOUNT * succ[k] / hist[k]
                    / (1.0 - mass[k]))
            : 0.0);
    }

    ngx_http_rtagent_lm_print("\n\\2-grams:\n");

    for (i = 0; i < nb; i++) {
        ngx_http_rtagent_lm_print("%.4f %s %s\n",
            log10((pc[i] - NGX_HTTP_RTAGENT_LM_DISCOUNT)
                  / hist[pairs[i].h]),
            vocab[pairs[i].h], vocab[pairs[i].w]);
    }

    ngx_http_rtagent_lm_print("\n\\end\\\n");

#undef ngx_http_rtagent_lm_print

    *len = (size_t) (p - text);

    return text;
}


static int
ngx_http_rtagent_lm_id(const char **vocab, size_t n, const char *word)
{
    const char  **found;

    found = bsearch(&word, vocab, n, sizeof(char *),
                    ngx_http_rtagent_lm_strcmp);

    return (int) (found - vocab);
}


static int
ngx_http_rtagent_lm_strcmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}


static int
ngx_http_rtagent_lm_paircmp(const void *a, const void *b)
{
    const ngx_http_rtagent_lm_pair_t  *x = a, *y = b;

    if (x->h != y->h) {
        return x->h < y->h ? -1 : 1;
    }

    return (x->w > y->w) - (x->w < y->w);
}
