
/*
 * Unit tests for the bigram ARPA builder (cmocka): the counts, the
 * smoothing the header documents worked out by hand for a tiny model,
 * every history's probabilities summing to one, fragments, allocation
 * failures, and sphinxbase reading what it writes.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_arena.h"

#include <sphinxbase/ngram_model.h>
#include <sphinxbase/fsg_model.h>
#include <sphinxbase/err.h>

#include "speech/ngx_http_rtagent_lm.h"


static int
teardown(void **state)
{
    (void) state;

    arena_free();

    return 0;
}


/* a phrase of space-separated words, with <s> and </s> */
static void
add_phrase(ngx_http_rtagent_lm_t *lm, const char *text, unsigned flags)
{
    char        buf[256], *w[32], *p;
    size_t      n = 0;

    strcpy(buf, text);

    for (p = strtok(buf, " "); p; p = strtok(NULL, " ")) {
        w[n++] = p;
    }

    assert_int_equal(ngx_http_rtagent_lm_add(lm, (const char **) w, n,
                                             flags), 0);
}


/* the log10 probability (and backoff) of an n-gram line, or -1000 */
static double
arpa_value(const char *arpa, const char *ngram, double *bo)
{
    char        line[256];
    const char *p, *e;
    double      v;
    size_t      n = strlen(ngram);

    for (p = arpa; *p; p = e + 1) {
        e = strchr(p, '\n');
        if (e == NULL) {
            break;
        }

        if ((size_t) (e - p) >= sizeof(line)) {
            continue;
        }

        memcpy(line, p, e - p);
        line[e - p] = '\0';

        /* "%f ngram[ %f]" */
        {
            char  *q = strchr(line, ' ');

            if (q == NULL || line[0] == '\\') {
                continue;
            }

            if (strncmp(q + 1, ngram, n) == 0
                && (q[1 + n] == '\0' || q[1 + n] == ' ')
                && !(q[1 + n] == ' ' && strchr(ngram, ' ') == NULL
                     && strchr(q + 2 + n, ' ') != NULL))
            {
                v = atof(line);
                if (bo) {
                    *bo = q[1 + n] == ' ' ? atof(q + 2 + n) : 0.0;
                }
                return v;
            }
        }
    }

    return -1000.0;
}


static void
test_by_hand(void **state)
{
    char                   *arpa;
    size_t                  len;
    double                  bo;
    ngx_http_rtagent_lm_t  *lm;

    (void) state;

    lm = ngx_http_rtagent_lm_create(arena_alloc, NULL);
    assert_non_null(lm);

    add_phrase(lm, "a b", NGX_HTTP_RTAGENT_LM_BOS | NGX_HTTP_RTAGENT_LM_EOS);
    add_phrase(lm, "a c", NGX_HTTP_RTAGENT_LM_BOS | NGX_HTTP_RTAGENT_LM_EOS);

    assert_int_equal(ngx_http_rtagent_lm_nwords(lm), 3);

    arpa = ngx_http_rtagent_lm_arpa(lm, &len);
    assert_non_null(arpa);
    assert_int_equal(strlen(arpa), len);

    assert_non_null(strstr(arpa, "\\data\\\nngram 1=5\nngram 2=5\n"));
    assert_non_null(strstr(arpa, "\\end\\\n"));

    /* N = 6 tokens (a b </s> a c </s>), |V| = 4: p1(a) = 3/10 */
    assert_true(fabs(arpa_value(arpa, "a", &bo) - log10(0.3)) < 1e-4);
    /* a(a) = (0.5 * 2 / 2) / (1 - p1(b) - p1(c)) = 0.5 / 0.6 */
    assert_true(fabs(bo - log10(0.5 / 0.6)) < 1e-4);
    assert_true(fabs(arpa_value(arpa, "b", NULL) - log10(0.2)) < 1e-4);
    assert_true(fabs(arpa_value(arpa, "</s>", NULL) - log10(0.3)) < 1e-4);
    assert_true(fabs(arpa_value(arpa, "<s>", &bo) - (-99.0)) < 1e-4);
    /* a(<s>) = (0.5 * 1 / 2) / (1 - p1(a)) */
    assert_true(fabs(bo - log10(0.25 / 0.7)) < 1e-4);

    /* p2(a | <s>) = (2 - 0.5) / 2, p2(b | a) = (1 - 0.5) / 2 */
    assert_true(fabs(arpa_value(arpa, "<s> a", NULL) - log10(0.75)) < 1e-4);
    assert_true(fabs(arpa_value(arpa, "a b", NULL) - log10(0.25)) < 1e-4);
    assert_true(fabs(arpa_value(arpa, "b </s>", NULL) - log10(0.5)) < 1e-4);
    assert_true(arpa_value(arpa, "b a", NULL) < -999.0);
}


/* for every history: seen pairs plus backed-off unigrams sum to 1 */
static void
test_sums(void **state)
{
    char                   *arpa;
    size_t                  len, i, j, nv = 0;
    double                  bo, sum, p2;
    char                    pair[128];
    const char             *vocab[64];
    const char             *phrases[] = {
        "on highway ten", "in the parking lot at work",
        "at the corner of main street and first avenue",
        "on the interstate near exit twelve", "in front of my house",
        "at the mall parking garage"
    };
    ngx_http_rtagent_lm_t  *lm;

    (void) state;

    lm = ngx_http_rtagent_lm_create(arena_alloc, NULL);
    assert_non_null(lm);

    for (i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++) {
        add_phrase(lm, phrases[i],
                   NGX_HTTP_RTAGENT_LM_BOS | NGX_HTTP_RTAGENT_LM_EOS);
    }

    add_phrase(lm, "parking lot", 0);
    add_phrase(lm, "bridge", 0);

    arpa = ngx_http_rtagent_lm_arpa(lm, &len);
    assert_non_null(arpa);

    /* the unigrams' words, from the text */
    {
        const char *p = strstr(arpa, "\\1-grams:\n") + 10;

        while (*p != '\n') {
            const char *w = strchr(p, ' ') + 1, *e = w;
            char       *c;

            while (*e != ' ' && *e != '\n') {
                e++;
            }

            c = arena_alloc(NULL, e - w + 1);
            memcpy(c, w, e - w);
            c[e - w] = '\0';
            vocab[nv++] = c;
            p = strchr(p, '\n') + 1;
        }
    }

    assert_int_equal(nv, ngx_http_rtagent_lm_nwords(lm) + 2);

    for (i = 0; i < nv; i++) {
        if (strcmp(vocab[i], "</s>") == 0) {
            continue;
        }

        (void) arpa_value(arpa, vocab[i], &bo);
        sum = 0.0;

        for (j = 0; j < nv; j++) {
            if (strcmp(vocab[j], "<s>") == 0) {
                continue;
            }

            snprintf(pair, sizeof(pair), "%s %s", vocab[i], vocab[j]);
            p2 = arpa_value(arpa, pair, NULL);

            sum += (p2 > -999.0) ? pow(10, p2)
                                 : pow(10, bo + arpa_value(arpa, vocab[j],
                                                           NULL));
        }

        /* the text has 4 decimals */
        assert_true(fabs(sum - 1.0) < 2e-3);
    }

    /* a vocabulary word alone: a unigram, no pair with <s> or </s> */
    assert_true(arpa_value(arpa, "bridge", NULL) > -99.0);
    assert_true(arpa_value(arpa, "<s> bridge", NULL) < -999.0);
    assert_true(arpa_value(arpa, "parking lot", NULL) > -999.0);
}


static void
test_sphinxbase_reads_it(void **state)
{
    int                     fd;
    char                   *arpa, path[] = "/tmp/rtagent-lm-XXXXXX";
    size_t                  len;
    logmath_t              *lmath;
    ngram_model_t          *model;
    ngx_http_rtagent_lm_t  *lm;

    (void) state;

    lm = ngx_http_rtagent_lm_create(arena_alloc, NULL);
    add_phrase(lm, "on highway ten",
               NGX_HTTP_RTAGENT_LM_BOS | NGX_HTTP_RTAGENT_LM_EOS);
    add_phrase(lm, "in the parking lot at work",
               NGX_HTTP_RTAGENT_LM_BOS | NGX_HTTP_RTAGENT_LM_EOS);
    add_phrase(lm, "exit", 0);

    arpa = ngx_http_rtagent_lm_arpa(lm, &len);
    assert_non_null(arpa);

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, arpa, len), (ssize_t) len);
    close(fd);

    err_set_logfp(NULL);
    lmath = logmath_init(1.0001, 0, 0);
    model = ngram_model_read(NULL, path, NGRAM_ARPA, lmath);
    unlink(path);

    assert_non_null(model);
    assert_int_equal(ngram_model_get_size(model), 2);
    assert_int_equal(ngram_model_get_counts(model)[0], 12);
    assert_true(ngram_wid(model, "highway") != ngram_unknown_wid(model));
    assert_true(ngram_wid(model, "exit") != ngram_unknown_wid(model));

    /* the phrase given is likelier than the same words reordered */
    assert_true(ngram_score(model, "ten", "highway", NULL)
                > ngram_score(model, "highway", "ten", NULL));

    ngram_model_free(model);
    logmath_free(lmath);
}


/* the FSG: sphinxbase reads it; a state a word, the backoff, the final */
static void
test_fsg(void **state)
{
    int                     i, wid, seen, null_to_final;
    char                   *text;
    FILE                   *fp;
    size_t                  len;
    logmath_t              *lmath;
    fsg_link_t             *l;
    fsg_model_t            *fsg;
    fsg_arciter_t          *it;
    ngx_http_rtagent_lm_t  *lm;

    (void) state;

    lm = ngx_http_rtagent_lm_create(arena_alloc, NULL);
    add_phrase(lm, "a b", NGX_HTTP_RTAGENT_LM_BOS | NGX_HTTP_RTAGENT_LM_EOS);
    add_phrase(lm, "a c", NGX_HTTP_RTAGENT_LM_BOS | NGX_HTTP_RTAGENT_LM_EOS);

    text = ngx_http_rtagent_lm_fsg(lm, "t.where", &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "FSG_BEGIN t.where\nNUM_STATES 7\n"));

    err_set_logfp(NULL);
    lmath = logmath_init(1.0001, 0, 0);
    fp = fmemopen(text, len, "r");
    fsg = fsg_model_read(fp, lmath, 1.0);
    fclose(fp);
    assert_non_null(fsg);

    /* words: a b c (</s> and <s> are no words of the grammar) */
    assert_int_equal(fsg_model_n_word(fsg), 3);
    assert_int_equal(fsg_model_n_state(fsg), 7);

    /* from <s>'s state: "a" with p2(a | <s>) = 0.75, and the backoff */
    wid = fsg_model_word_id(fsg, "a");
    seen = 0;
    for (it = fsg_model_arcs(fsg, fsg_model_start_state(fsg)); it;
         it = fsg_arciter_next(it))
    {
        l = fsg_arciter_get(it);
        if (fsg_link_wid(l) == wid) {
            assert_true(abs(fsg_link_logs2prob(l)
                            - logmath_log(lmath, 0.75)) < 10);
            seen++;
        }
    }
    assert_int_equal(seen, 1);

    /* b's state ends the phrase: a null transition to the final state */
    null_to_final = 0;
    for (i = 0; i < fsg_model_n_state(fsg); i++) {
        for (it = fsg_model_arcs(fsg, i); it; it = fsg_arciter_next(it)) {
            l = fsg_arciter_get(it);
            if (fsg_link_wid(l) < 0
                && fsg_link_to_state(l) == fsg_model_final_state(fsg))
            {
                null_to_final++;
            }
        }
    }
    /* from b, from c and from the backoff state (and what the reader's
     * null closure adds: a, <s> through the backoff state) */
    assert_true(null_to_final >= 3);

    fsg_model_free(fsg);
    logmath_free(lmath);
}


static void
test_empty_and_memory(void **state)
{
    int                     left, ok, n;
    char                   *arpa;
    size_t                  len;
    ngx_http_rtagent_lm_t  *lm;

    (void) state;

    lm = ngx_http_rtagent_lm_create(arena_alloc, NULL);
    assert_null(ngx_http_rtagent_lm_arpa(lm, &len));
    assert_int_equal(ngx_http_rtagent_lm_nwords(lm), 0);
    assert_int_equal(ngx_http_rtagent_lm_add(lm, NULL, 0, 0), 0);

    /* every allocation failing in turn: NULL or -1, never a crash */
    for (n = 0, ok = 0; !ok && n < 200; n++) {
        left = n;
        lm = ngx_http_rtagent_lm_create(limited_alloc, &left);
        if (lm == NULL) {
            continue;
        }

        {
            const char *w[] = { "on", "highway", "ten" };

            if (ngx_http_rtagent_lm_add(lm, w, 3, NGX_HTTP_RTAGENT_LM_BOS
                                                 | NGX_HTTP_RTAGENT_LM_EOS)
                != 0)
            {
                continue;
            }
        }

        arpa = ngx_http_rtagent_lm_arpa(lm, &len);
        ok = (arpa != NULL);
    }

    assert_true(ok);
    assert_true(n > 5);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_teardown(test_by_hand, teardown),
        cmocka_unit_test_teardown(test_sums, teardown),
        cmocka_unit_test_teardown(test_sphinxbase_reads_it, teardown),
        cmocka_unit_test_teardown(test_fsg, teardown),
        cmocka_unit_test_teardown(test_empty_and_memory, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
