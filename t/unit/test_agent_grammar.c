
/*
 * Unit tests for the agents' STT searches (cmocka): the JSGF written for
 * each slot type compiled by sphinxbase's own JSGF parser, and the
 * sentences it must (and must not) accept walked through the compiled
 * grammar; numbers in words; unknown words left out; the shipped agents'
 * searches by name (run from the repository root, as make unit does).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_arena.h"

#include <sphinxbase/jsgf.h>
#include <sphinxbase/fsg_model.h>
#include <sphinxbase/err.h>

#include "agent/ngx_http_rtagent_agent_def.h"
#include "agent/ngx_http_rtagent_agent_grammar.h"


typedef ngx_http_rtagent_agent_def_t  def_t;
typedef ngx_http_rtagent_grammar_t    grammar_t;

static char      err[512];

/* what add() was given */
static grammar_t  added[32];
static size_t     nadded;

/* words the test's "dictionary" lacks, and what known() was asked */
static const char  *unknown[] = { "sideswiped", "zorp", "1", "2", "3", "4",
                                  "5", "6", "7", "8", "0", NULL };
static int          warned;


static int
teardown(void **state)
{
    (void) state;

    arena_free();

    nadded = 0;
    warned = 0;

    return 0;
}


static int
known(void *ctx, const char *search, const char *word, size_t len)
{
    size_t  i;

    (void) ctx;
    (void) search;

    for (i = 0; unknown[i]; i++) {
        if (strlen(unknown[i]) == len && memcmp(unknown[i], word, len) == 0)
        {
            warned++;
            return 0;
        }
    }

    return 1;
}


static int
add(void *ctx, const grammar_t *g)
{
    (void) ctx;

    assert_true(nadded < sizeof(added) / sizeof(added[0]));
    added[nadded++] = *g;

    return 0;
}


static ngx_http_rtagent_grammar_ctx_t  gctx = {
    arena_alloc, NULL, known, NULL, add, NULL
};


/* the grammar compiled by sphinxbase, or a failed test */
static fsg_model_t *
compile(const char *jsgf, logmath_t *lmath)
{
    jsgf_t       *g;
    jsgf_rule_t  *rule;
    fsg_model_t  *fsg;

    g = jsgf_parse_string(jsgf, NULL);
    if (g == NULL) {
        fail_msg("does not parse:\n%s", jsgf);
    }

    rule = jsgf_get_public_rule(g);
    assert_non_null(rule);

    fsg = jsgf_build_fsg(g, rule, lmath, 1.0);
    assert_non_null(fsg);
    jsgf_grammar_free(g);

    return fsg;
}


/* 1 if the compiled grammar takes the sentence (words by spaces) */
static int
accepts(fsg_model_t *fsg, const char *sentence)
{
    int            i, changed, wid, ok;
    size_t         n = (size_t) fsg_model_n_state(fsg);
    char           buf[512], *w;
    char          *cur, *next;
    fsg_link_t    *l;
    fsg_arciter_t *it;

    assert_true(n > 0 && n < 100000);
    n &= 0xffff;

    cur = calloc(n, 1);
    next = calloc(n, 1);
    cur[fsg_model_start_state(fsg)] = 1;

    strcpy(buf, sentence);
    w = strtok(buf, " ");

    for ( ;; ) {
        /* the null transitions' closure */
        do {
            changed = 0;
            for (i = 0; i < (int) n; i++) {
                if (!cur[i]) {
                    continue;
                }
                for (it = fsg_model_arcs(fsg, i); it;
                     it = fsg_arciter_next(it))
                {
                    l = fsg_arciter_get(it);
                    if (fsg_link_wid(l) < 0 && !cur[fsg_link_to_state(l)]) {
                        cur[fsg_link_to_state(l)] = 1;
                        changed = 1;
                    }
                }
            }
        } while (changed);

        if (w == NULL) {
            break;
        }

        wid = fsg_model_word_id(fsg, w);
        memset(next, 0, n);

        for (i = 0; i < (int) n; i++) {
            if (!cur[i] || wid < 0) {
                continue;
            }
            for (it = fsg_model_arcs(fsg, i); it; it = fsg_arciter_next(it)) {
                l = fsg_arciter_get(it);
                if (fsg_link_wid(l) == wid) {
                    next[fsg_link_to_state(l)] = 1;
                }
            }
        }

        memcpy(cur, next, n);
        w = strtok(NULL, " ");
    }

    ok = cur[fsg_model_final_state(fsg)];
    free(cur);
    free(next);

    return ok;
}


static ngx_http_rtagent_agent_str_t
str(const char *s)
{
    ngx_http_rtagent_agent_str_t  v = { strlen(s), (unsigned char *) s, 1 };

    return v;
}


static def_t *
agent_with(ngx_http_rtagent_slot_def_t *slot)
{
    def_t                         *def;
    ngx_http_rtagent_local_def_t  *local;

    def = arena_alloc(NULL, sizeof(def_t));
    local = arena_alloc(NULL, sizeof(*local));
    memset(def, 0, sizeof(def_t));
    memset(local, 0, sizeof(*local));

    def->name = str("test");
    def->local = local;
    local->slots = slot;
    local->nslots = 1;

    return def;
}


static void
test_digits(void **state)
{
    grammar_t                      g;
    logmath_t                     *lmath;
    fsg_model_t                   *fsg;
    ngx_http_rtagent_agent_str_t   ex[2];
    ngx_http_rtagent_slot_def_t    slot;

    (void) state;

    memset(&slot, 0, sizeof(slot));
    slot.name = str("policy");
    slot.type = NGX_HTTP_RTAGENT_SLOT_DIGITS;
    slot.length = 8;
    ex[0] = str("four two seven one eight three six five");
    ex[1] = str("My policy number is 1 2 3 4 5 6 7 8");
    slot.examples.elts = ex;
    slot.examples.nelts = 2;

    assert_int_equal(ngx_http_rtagent_grammar_slot(&gctx, agent_with(&slot),
                                                   &slot, &g), 0);
    assert_string_equal(g.name, "test.policy");
    assert_int_equal(g.kind, NGX_HTTP_RTAGENT_GRAMMAR_JSGF);
    assert_non_null(strstr(g.jsgf,
        "public <digits> = [(my policy number is)] <d> <d> <d> <d> <d> <d>"
        " <d> <d>;"));

    lmath = logmath_init(1.0001, 0, 0);
    fsg = compile(g.jsgf, lmath);

    assert_true(accepts(fsg, "four two seven one eight three six five"));
    assert_true(accepts(fsg, "my policy number is one two three four five"
                             " six seven eight"));
    assert_true(accepts(fsg, "nine oh one zero one two three four"));
    /* seven digits, nine digits, a word that is no digit */
    assert_false(accepts(fsg, "one two three four five six seven"));
    assert_false(accepts(fsg, "one two three four five six seven eight"
                              " nine"));
    assert_false(accepts(fsg, "one two three four five six seven ten"));
    fsg_model_free(fsg);

    /* any count without a length */
    slot.length = 0;
    slot.examples.nelts = 0;
    assert_int_equal(ngx_http_rtagent_grammar_slot(&gctx, agent_with(&slot),
                                                   &slot, &g), 0);
    assert_non_null(strstr(g.jsgf, "public <digits> = <d>+;"));
    fsg = compile(g.jsgf, lmath);
    assert_true(accepts(fsg, "one two"));
    assert_true(accepts(fsg, "nine"));
    fsg_model_free(fsg);

    logmath_free(lmath);
}


static void
test_yes_no_and_confirm(void **state)
{
    size_t                         i;
    logmath_t                     *lmath;
    fsg_model_t                   *fsg;
    ngx_http_rtagent_agent_str_t   ex[1];
    ngx_http_rtagent_slot_def_t    slot;
    def_t                         *def;

    (void) state;

    memset(&slot, 0, sizeof(slot));
    slot.name = str("injuries");
    slot.type = NGX_HTTP_RTAGENT_SLOT_YES_NO;
    ex[0] = str("my passenger was hurt");
    slot.examples.elts = ex;
    slot.examples.nelts = 1;

    def = agent_with(&slot);
    def->local->confirm = str("Is that right?");

    assert_int_equal(ngx_http_rtagent_grammar_build(&gctx, def), 0);
    assert_int_equal(nadded, 2);
    assert_string_equal(added[0].name, "test.injuries");
    assert_string_equal(added[1].name, "test.confirm");

    lmath = logmath_init(1.0001, 0, 0);

    for (i = 0; i < 2; i++) {
        fsg = compile(added[i].jsgf, lmath);
        assert_true(accepts(fsg, "yes"));
        assert_true(accepts(fsg, "no"));
        assert_true(accepts(fsg, "nope"));
        assert_true(accepts(fsg, "that's right"));
        assert_true(accepts(fsg, "no one was hurt"));
        assert_false(accepts(fsg, "yes no"));
        assert_false(accepts(fsg, "i want to report an accident"));
        /* the slot's example, in the slot's grammar only */
        assert_int_equal(accepts(fsg, "my passenger was hurt"), i == 0);
        fsg_model_free(fsg);
    }

    logmath_free(lmath);
}


static void
test_number(void **state)
{
    char                          buf[64];
    grammar_t                     g;
    logmath_t                    *lmath;
    fsg_model_t                  *fsg;
    ngx_http_rtagent_slot_def_t   slot;

    (void) state;

    assert_int_equal(ngx_http_rtagent_grammar_number(0, buf, sizeof(buf)), 4);
    assert_string_equal(buf, "zero");
    ngx_http_rtagent_grammar_number(13, buf, sizeof(buf));
    assert_string_equal(buf, "thirteen");
    ngx_http_rtagent_grammar_number(40, buf, sizeof(buf));
    assert_string_equal(buf, "forty");
    ngx_http_rtagent_grammar_number(21, buf, sizeof(buf));
    assert_string_equal(buf, "twenty one");
    ngx_http_rtagent_grammar_number(115, buf, sizeof(buf));
    assert_string_equal(buf, "one hundred fifteen");
    ngx_http_rtagent_grammar_number(2021, buf, sizeof(buf));
    assert_string_equal(buf, "two thousand twenty one");
    ngx_http_rtagent_grammar_number(999999, buf, sizeof(buf));
    assert_string_equal(buf, "nine hundred ninety nine thousand nine hundred"
                             " ninety nine");
    assert_int_equal(ngx_http_rtagent_grammar_number(1000000, buf,
                                                     sizeof(buf)), 0);
    assert_int_equal(ngx_http_rtagent_grammar_number(-1, buf, sizeof(buf)),
                     0);
    assert_int_equal(ngx_http_rtagent_grammar_number(2021, buf, 8), 0);

    memset(&slot, 0, sizeof(slot));
    slot.name = str("vehicles");
    slot.type = NGX_HTTP_RTAGENT_SLOT_NUMBER;
    slot.min = 1;
    slot.max = 20;

    assert_int_equal(ngx_http_rtagent_grammar_slot(&gctx, agent_with(&slot),
                                                   &slot, &g), 0);

    lmath = logmath_init(1.0001, 0, 0);
    fsg = compile(g.jsgf, lmath);
    assert_true(accepts(fsg, "two"));
    assert_true(accepts(fsg, "twenty"));
    assert_true(accepts(fsg, "just one"));
    assert_true(accepts(fsg, "three vehicles"));
    assert_true(accepts(fsg, "two cars"));
    assert_false(accepts(fsg, "zero"));
    assert_false(accepts(fsg, "twenty one"));
    fsg_model_free(fsg);

    /* no maximum: any number below a thousand */
    slot.min = 0;
    slot.max = 0;
    assert_int_equal(ngx_http_rtagent_grammar_slot(&gctx, agent_with(&slot),
                                                   &slot, &g), 0);
    fsg = compile(g.jsgf, lmath);
    assert_true(accepts(fsg, "zero"));
    assert_true(accepts(fsg, "forty two"));
    assert_true(accepts(fsg, "three hundred and five"));
    assert_true(accepts(fsg, "nine hundred ninety nine"));
    assert_false(accepts(fsg, "forty forty"));
    fsg_model_free(fsg);

    logmath_free(lmath);
}


static void
test_choice_date_time(void **state)
{
    grammar_t                      g;
    logmath_t                     *lmath;
    fsg_model_t                   *fsg;
    ngx_http_rtagent_agent_str_t   voc[3], ex[2];
    ngx_http_rtagent_slot_def_t    slot;

    (void) state;

    lmath = logmath_init(1.0001, 0, 0);

    memset(&slot, 0, sizeof(slot));
    slot.name = str("kind");
    slot.type = NGX_HTTP_RTAGENT_SLOT_CHOICE;
    voc[0] = str("Flat tire");
    voc[1] = str("zorp");           /* the STT does not know it */
    voc[2] = str("tow");
    slot.vocabulary.elts = voc;
    slot.vocabulary.nelts = 3;
    ex[0] = str("my battery is dead");
    slot.examples.elts = ex;
    slot.examples.nelts = 1;

    assert_int_equal(ngx_http_rtagent_grammar_slot(&gctx, agent_with(&slot),
                                                   &slot, &g), 0);
    assert_int_equal(g.kind, NGX_HTTP_RTAGENT_GRAMMAR_JSGF);
    assert_int_equal(warned, 1);
    assert_null(strstr(g.jsgf, "zorp"));
    fsg = compile(g.jsgf, lmath);
    assert_true(accepts(fsg, "flat tire"));
    assert_true(accepts(fsg, "tow"));
    assert_true(accepts(fsg, "my battery is dead"));
    assert_false(accepts(fsg, "flat"));
    fsg_model_free(fsg);

    /* nothing known: phrases (the generic model's words) instead */
    slot.vocabulary.nelts = 0;
    slot.examples.nelts = 0;
    voc[0] = str("zorp");
    slot.vocabulary.nelts = 1;
    assert_int_equal(ngx_http_rtagent_grammar_slot(&gctx, agent_with(&slot),
                                                   &slot, &g), 0);
    assert_int_equal(g.kind, NGX_HTTP_RTAGENT_GRAMMAR_PHRASES);

    memset(&slot, 0, sizeof(slot));
    slot.name = str("when");
    slot.type = NGX_HTTP_RTAGENT_SLOT_DATE;
    ex[0] = str("the day of the storm");
    ex[1] = str("on the 3rd");                /* "3rd" is unknown */
    slot.examples.elts = ex;
    slot.examples.nelts = 2;
    unknown[0] = "3rd";

    assert_int_equal(ngx_http_rtagent_grammar_slot(&gctx, agent_with(&slot),
                                                   &slot, &g), 0);
    unknown[0] = "sideswiped";
    fsg = compile(g.jsgf, lmath);
    assert_true(accepts(fsg, "yesterday"));
    assert_true(accepts(fsg, "today"));
    assert_true(accepts(fsg, "last friday"));
    assert_true(accepts(fsg, "on march third"));
    assert_true(accepts(fsg, "the twenty first of june"));
    assert_true(accepts(fsg, "two days ago"));
    assert_true(accepts(fsg, "it happened yesterday"));
    assert_true(accepts(fsg, "the day of the storm"));
    assert_false(accepts(fsg, "on the"));
    assert_false(accepts(fsg, "march march"));
    fsg_model_free(fsg);

    memset(&slot, 0, sizeof(slot));
    slot.name = str("at");
    slot.type = NGX_HTTP_RTAGENT_SLOT_TIME;

    assert_int_equal(ngx_http_rtagent_grammar_slot(&gctx, agent_with(&slot),
                                                   &slot, &g), 0);
    fsg = compile(g.jsgf, lmath);
    assert_true(accepts(fsg, "at three p.m."));
    assert_true(accepts(fsg, "around seven thirty"));
    assert_true(accepts(fsg, "ten oh five in the morning"));
    assert_true(accepts(fsg, "half past two"));
    assert_true(accepts(fsg, "noon"));
    assert_false(accepts(fsg, "thirteen o'clock"));
    fsg_model_free(fsg);

    logmath_free(lmath);
}


static void
test_free_text(void **state)
{
    grammar_t                      g;
    ngx_http_rtagent_agent_str_t   voc[2], ex[2];
    ngx_http_rtagent_slot_def_t    slot;

    (void) state;

    memset(&slot, 0, sizeof(slot));
    slot.name = str("where");
    slot.type = NGX_HTTP_RTAGENT_SLOT_FREE_TEXT;
    voc[0] = str("parking lot");
    voc[1] = str("bridge");
    ex[0] = str("on highway ten");
    ex[1] = str("in the parking lot at work");
    slot.vocabulary.elts = voc;
    slot.vocabulary.nelts = 2;
    slot.examples.elts = ex;
    slot.examples.nelts = 2;

    assert_int_equal(ngx_http_rtagent_grammar_slot(&gctx, agent_with(&slot),
                                                   &slot, &g), 0);
    assert_int_equal(g.kind, NGX_HTTP_RTAGENT_GRAMMAR_PHRASES);
    assert_null(g.jsgf);
    assert_int_equal(g.nphrases, 2);
    assert_string_equal(g.phrases[1], "in the parking lot at work");
    assert_int_equal(g.nvocabulary, 2);
    assert_string_equal(g.vocabulary[0], "parking lot");
}


static def_t *
parse_file(const char *path)
{
    FILE           *f;
    long            len;
    def_t          *def;
    unsigned char  *buf;

    f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("%s: cannot open (run from the repository root)", path);
    }

    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);

    buf = arena_alloc(NULL, len);
    assert_int_equal(fread(buf, 1, len, f), (size_t) len);
    fclose(f);

    if (ngx_http_rtagent_agent_def_parse(buf, len, path, arena_alloc, NULL,
                                         &def, err, sizeof(err))
        != 0)
    {
        fail_msg("%s", err);
    }

    return def;
}


static void
test_shipped(void **state)
{
    size_t        i, j;
    logmath_t    *lmath;
    fsg_model_t  *fsg;

    static const char *const  files[] = {
        "agents/auth.yaml", "agents/fnol.yaml", "agents/healthcare.yaml",
        "agents/legal.yaml", "agents/support.yaml",
        "agents/examples/roadside.yaml"
    };

    static const char *const  fnol[] = {
        "fnol.when", "fnol.where", "fnol.what", "fnol.injuries",
        "fnol.vehicles", "fnol.confirm", "fnol.intents"
    };

    (void) state;

    lmath = logmath_init(1.0001, 0, 0);

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        j = nadded;
        assert_int_equal(ngx_http_rtagent_grammar_build(&gctx,
                                                        parse_file(files[i])),
                         0);
        assert_true(nadded > j);

        /* every grammar compiles */
        for ( ; j < nadded; j++) {
            if (added[j].kind == NGX_HTTP_RTAGENT_GRAMMAR_JSGF) {
                fsg_model_free(compile(added[j].jsgf, lmath));
            }
        }

        if (i == 1) {
            /* fnol: after auth's searches */
            for (j = 0; j < 7; j++) {
                assert_string_equal(added[nadded - 7 + j].name, fnol[j]);
            }

            assert_int_equal(added[nadded - 6].kind,
                             NGX_HTTP_RTAGENT_GRAMMAR_PHRASES);
            assert_int_equal(added[nadded - 6].nphrases, 6);
            assert_int_equal(added[nadded - 1].kind,
                             NGX_HTTP_RTAGENT_GRAMMAR_PHRASES);
        }

        if (i == 0) {
            assert_string_equal(added[0].name, "auth.policy");
            fsg = compile(added[0].jsgf, lmath);
            assert_true(accepts(fsg, "four two seven one eight three six"
                                     " five"));
            assert_true(accepts(fsg, "my policy number is one two three"
                                     " four five six seven eight"));
            fsg_model_free(fsg);
            assert_string_equal(added[1].name, "auth.zip");
            assert_string_equal(added[2].name, "auth.intents");
        }

        if (nadded > 24) {
            nadded = 0;
        }
    }

    logmath_free(lmath);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_teardown(test_digits, teardown),
        cmocka_unit_test_teardown(test_yes_no_and_confirm, teardown),
        cmocka_unit_test_teardown(test_number, teardown),
        cmocka_unit_test_teardown(test_choice_date_time, teardown),
        cmocka_unit_test_teardown(test_free_text, teardown),
        cmocka_unit_test_teardown(test_shipped, teardown),
    };

    err_set_logfp(NULL);

    return cmocka_run_group_tests(tests, NULL, NULL);
}
