
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


/* what the writers need */
typedef struct {
    const char                    **vocab;     /* sorted, <s> and </s> in */
    size_t                          nv;
    int                             bos;
    int                             eos;
    long                           *count;     /* c(w) */
    long                           *hist;      /* c(h) as a history */
    long                           *succ;      /* T(h) */
    double                         *mass;      /* sum p1(w), w after h */
    ngx_http_rtagent_lm_pair_t     *pairs;     /* distinct, sorted */
    long                           *pc;        /* c(h w) */
    size_t                          nb;
    double                          den;       /* N + |V| */
} ngx_http_rtagent_lm_stats_t;


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


/* the counts and the smoothed model, ready to be written */

static int
ngx_http_rtagent_lm_count(ngx_http_rtagent_lm_t *lm,
    ngx_http_rtagent_lm_stats_t *st)
{
    int                          id, prev;
    size_t                       np, i, j, k, total;
    ngx_http_rtagent_lm_pair_t  *pairs;
    ngx_http_rtagent_lm_run_t   *run;

    if (lm->runs == NULL) {
        return -1;
    }

    st->vocab = ngx_http_rtagent_lm_vocab(lm, &st->nv);
    if (st->vocab == NULL) {
        return -1;
    }

    st->bos = ngx_http_rtagent_lm_id(st->vocab, st->nv,
                                     NGX_HTTP_RTAGENT_LM_BOS_WORD);
    st->eos = ngx_http_rtagent_lm_id(st->vocab, st->nv,
                                     NGX_HTTP_RTAGENT_LM_EOS_WORD);

    st->count = lm->alloc(lm->ctx, st->nv * sizeof(long));
    st->hist = lm->alloc(lm->ctx, st->nv * sizeof(long));
    st->succ = lm->alloc(lm->ctx, st->nv * sizeof(long));
    st->mass = lm->alloc(lm->ctx, st->nv * sizeof(double));
    pairs = lm->alloc(lm->ctx,
                      (lm->pairs + 1) * sizeof(ngx_http_rtagent_lm_pair_t));
    st->pc = lm->alloc(lm->ctx, (lm->pairs + 1) * sizeof(long));

    if (st->count == NULL || st->hist == NULL || st->succ == NULL
        || st->mass == NULL || pairs == NULL || st->pc == NULL)
    {
        return -1;
    }

    st->pairs = pairs;

    memset(st->count, 0, st->nv * sizeof(long));
    memset(st->hist, 0, st->nv * sizeof(long));
    memset(st->succ, 0, st->nv * sizeof(long));

    /* the tokens and the pairs, <s> and </s> where the flags say */

    total = 0;
    np = 0;

    for (run = lm->runs; run; run = run->next) {
        prev = (run->flags & NGX_HTTP_RTAGENT_LM_BOS) ? st->bos : -1;

        for (i = 0; i <= run->n; i++) {
            if (i == run->n) {
                if (!(run->flags & NGX_HTTP_RTAGENT_LM_EOS)) {
                    break;
                }

                id = st->eos;

            } else {
                id = ngx_http_rtagent_lm_id(st->vocab, st->nv, run->words[i]);
            }

            st->count[id]++;
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

    for (i = 0, st->nb = 0; i < np; i = j) {
        for (j = i + 1; j < np; j++) {
            if (pairs[j].h != pairs[i].h || pairs[j].w != pairs[i].w) {
                break;
            }
        }

        pairs[st->nb] = pairs[i];
        st->pc[st->nb] = (long) (j - i);
        st->hist[pairs[i].h] += st->pc[st->nb];
        st->succ[pairs[i].h]++;
        st->nb++;
    }

    /* |V| leaves out <s>, which is never predicted */
    st->den = (double) total + (double) (st->nv - 1);

    for (k = 0; k < st->nv; k++) {
        st->mass[k] = 0.0;
    }

    for (i = 0; i < st->nb; i++) {
        st->mass[pairs[i].h] += (st->count[pairs[i].w] + 1) / st->den;
    }

    return 0;
}


/* p1(w), p2(w | h) of pair i, a(h): as the header says */

static double
ngx_http_rtagent_lm_p1(ngx_http_rtagent_lm_stats_t *st, size_t k)
{
    return (st->count[k] + 1) / st->den;
}


static double
ngx_http_rtagent_lm_p2(ngx_http_rtagent_lm_stats_t *st, size_t i)
{
    return (st->pc[i] - NGX_HTTP_RTAGENT_LM_DISCOUNT)
           / st->hist[st->pairs[i].h];
}


static double
ngx_http_rtagent_lm_alpha(ngx_http_rtagent_lm_stats_t *st, size_t k)
{
    /* 1 - mass is at least p1 of </s> or of another unseen word, unless
     * every word follows this one: then nothing backs off */
    if (1.0 - st->mass[k] <= 1e-9) {
        return 1.0;
    }

    return NGX_HTTP_RTAGENT_LM_DISCOUNT * st->succ[k] / st->hist[k]
           / (1.0 - st->mass[k]);
}


#define ngx_http_rtagent_lm_print(...)                                       \
    do {                                                                     \
        int  w_ = snprintf(p, left, __VA_ARGS__);                            \
        if (w_ < 0 || (size_t) w_ >= left) {                                 \
            return NULL;                                                     \
        }                                                                    \
        p += w_;                                                             \
        left -= (size_t) w_;                                                 \
    } while (0)


char *
ngx_http_rtagent_lm_arpa(ngx_http_rtagent_lm_t *lm, size_t *len)
{
    char                         *text, *p;
    size_t                        i, k, size, left;
    double                        pu;
    ngx_http_rtagent_lm_stats_t   st;

    if (ngx_http_rtagent_lm_count(lm, &st) != 0) {
        return NULL;
    }

    /* the size: each number takes at most 12 bytes ("-99.0000" and the
     * like; a log10 of a probability here is never below -99) */

    size = sizeof("\\data\\\nngram 1=\nngram 2=\n\n\\1-grams:\n"
                  "\n\\2-grams:\n\n\\end\\\n") + 2 * 24;

    for (k = 0; k < st.nv; k++) {
        size += strlen(st.vocab[k]) + 2 * 12 + 3;
    }

    for (i = 0; i < st.nb; i++) {
        size += strlen(st.vocab[st.pairs[i].h])
                + strlen(st.vocab[st.pairs[i].w]) + 12 + 3;
    }

    text = lm->alloc(lm->ctx, size);
    if (text == NULL) {
        return NULL;
    }

    p = text;
    left = size;

    ngx_http_rtagent_lm_print("\\data\\\nngram 1=%zu\nngram 2=%zu\n\n"
                              "\\1-grams:\n", st.nv, st.nb);

    for (k = 0; k < st.nv; k++) {
        pu = ((int) k == st.bos) ? NGX_HTTP_RTAGENT_LM_NEVER
                                 : log10(ngx_http_rtagent_lm_p1(&st, k));

        if (st.succ[k] == 0) {
            ngx_http_rtagent_lm_print("%.4f %s\n", pu, st.vocab[k]);
            continue;
        }

        ngx_http_rtagent_lm_print("%.4f %s %.4f\n", pu, st.vocab[k],
                                  log10(ngx_http_rtagent_lm_alpha(&st, k)));
    }

    ngx_http_rtagent_lm_print("\n\\2-grams:\n");

    for (i = 0; i < st.nb; i++) {
        ngx_http_rtagent_lm_print("%.4f %s %s\n",
                                  log10(ngx_http_rtagent_lm_p2(&st, i)),
                                  st.vocab[st.pairs[i].h],
                                  st.vocab[st.pairs[i].w]);
    }

    ngx_http_rtagent_lm_print("\n\\end\\\n");

    *len = (size_t) (p - text);

    return text;
}


/*
 * The same model as a finite state grammar (sphinxbase's FSG text
 * format): a state per word, the state of the word last heard; <s>'s is
 * the start.  From the state of h: a pair seen goes to the state of w
 * saying w with p2(w | h), and a null transition with a(h) leads to the
 * backoff state, from which every word w goes to its state with p1(w).
 * </s> is a null transition to the final state.  A word reached both
 * ways takes the likelier (the search is Viterbi), which bends the model
 * a little towards its seen pairs; a(h) above 1 is kept at 1.
 */

char *
ngx_http_rtagent_lm_fsg(ngx_http_rtagent_lm_t *lm, const char *name,
    size_t *len)
{
    int                           h, w;
    char                         *text, *p;
    size_t                        i, k, size, left, nstates, backoff, final;
    double                        a;
    ngx_http_rtagent_lm_stats_t   st;

    if (ngx_http_rtagent_lm_count(lm, &st) != 0) {
        return NULL;
    }

    /* states 0..nv-1 the words', then the backoff and the final state */
    backoff = st.nv;
    final = st.nv + 1;
    nstates = st.nv + 2;

    size = sizeof("FSG_BEGIN \nNUM_STATES \nSTART_STATE \nFINAL_STATE \n"
                  "FSG_END\n") + strlen(name) + 3 * 24;

    /* "TRANSITION %zu %zu %.6e %s\n": at most 11 + 2 * 21 + 14 + word */
    for (k = 0; k < st.nv; k++) {
        size += 2 * (11 + 2 * 21 + 14 + 2) + strlen(st.vocab[k]);
    }

    for (i = 0; i < st.nb; i++) {
        size += 11 + 2 * 21 + 14 + 2 + strlen(st.vocab[st.pairs[i].w]);
    }

    text = lm->alloc(lm->ctx, size);
    if (text == NULL) {
        return NULL;
    }

    p = text;
    left = size;

    ngx_http_rtagent_lm_print("FSG_BEGIN %s\nNUM_STATES %zu\nSTART_STATE %d\n"
                              "FINAL_STATE %zu\n", name, nstates, st.bos,
                              final);

    for (i = 0; i < st.nb; i++) {
        h = st.pairs[i].h;
        w = st.pairs[i].w;

        if (w == st.eos) {
            ngx_http_rtagent_lm_print("TRANSITION %d %zu %.6e\n", h, final,
                                      ngx_http_rtagent_lm_p2(&st, i));
            continue;
        }

        ngx_http_rtagent_lm_print("TRANSITION %d %d %.6e %s\n", h, w,
                                  ngx_http_rtagent_lm_p2(&st, i),
                                  st.vocab[w]);
    }

    for (k = 0; k < st.nv; k++) {
        if ((int) k == st.bos) {
            continue;
        }

        if ((int) k == st.eos) {
            ngx_http_rtagent_lm_print("TRANSITION %zu %zu %.6e\n", backoff,
                                      final, ngx_http_rtagent_lm_p1(&st, k));
            continue;
        }

        ngx_http_rtagent_lm_print("TRANSITION %zu %zu %.6e %s\n", backoff, k,
                                  ngx_http_rtagent_lm_p1(&st, k),
                                  st.vocab[k]);
    }

    for (k = 0; k < st.nv; k++) {
        if ((int) k == st.eos) {
            continue;
        }

        a = st.succ[k] ? ngx_http_rtagent_lm_alpha(&st, k) : 1.0;

        ngx_http_rtagent_lm_print("TRANSITION %zu %zu %.6e\n", k, backoff,
                                  a < 1.0 ? a : 1.0);
    }

    ngx_http_rtagent_lm_print("FSG_END\n");

    *len = (size_t) (p - text);

    return text;
}


#undef ngx_http_rtagent_lm_print


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
