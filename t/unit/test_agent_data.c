
/*
 * Unit tests for the demo policyholders' codec (cmocka): the shipped
 * agents/data/policyholders.yaml (run from the repository root, as make
 * unit does), a good file field by field, and each kind of error with its
 * file, line and field.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/ngx_http_rtagent_agent_data.h"


typedef ngx_http_rtagent_policyholder_t  ph_t;


/* an arena of malloc'ed blocks, freed all at once */
typedef struct block_s  block_t;

struct block_s {
    block_t   *next;
    union { long double ld; long long ll; void *p; } data[];
};

static block_t  *arena;


static void *
arena_alloc(void *ctx, size_t size)
{
    block_t  *b;

    (void) ctx;

    b = malloc(sizeof(block_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->next = arena;
    arena = b;

    return b->data;
}


static int
arena_free(void **state)
{
    block_t  *b;

    (void) state;

    while (arena) {
        b = arena->next;
        free(arena);
        arena = b;
    }

    return 0;
}


static int
parse(const char *yaml, ph_t **ph, size_t *n, char *err, size_t errlen)
{
    return ngx_http_rtagent_agent_data_parse((const unsigned char *) yaml,
                                             strlen(yaml), "p.yaml",
                                             arena_alloc, NULL, ph, n, err,
                                             errlen);
}


static void
bad(const char *yaml, const char *want)
{
    char     err[512];
    size_t   n;
    ph_t    *ph;

    assert_int_equal(parse(yaml, &ph, &n, err, sizeof(err)), -1);
    assert_string_equal(err, want);
}


#define REC  "policyholders:\n  - policy: \"42718365\"\n    zip: \"98101\"\n" \
             "    name: Alice Johnson\n    phone: \"+12065550142\"\n"


static void
test_good(void **state)
{
    char     err[512];
    size_t   n;
    ph_t    *ph;

    (void) state;

    assert_int_equal(parse(REC "    vehicles: [2019 Toyota Camry]\n"
                           "  - policy: 12345678\n    zip: 60614\n"
                           "    name: Bob\n    phone: \"+13125550187\"\n"
                           "    vehicles: []\n",
                           &ph, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 2);
    assert_string_equal((char *) ph[0].policy.data, "42718365");
    assert_string_equal((char *) ph[0].zip.data, "98101");
    assert_string_equal((char *) ph[0].name.data, "Alice Johnson");
    assert_string_equal((char *) ph[0].phone.data, "+12065550142");
    assert_int_equal(ph[0].vehicles.nelts, 1);
    assert_string_equal((char *) ph[0].vehicles.elts[0].data,
                        "2019 Toyota Camry");
    assert_int_equal(ph[0].line, 2);
    /* plain scalars are taken as written */
    assert_string_equal((char *) ph[1].policy.data, "12345678");
    assert_int_equal(ph[1].vehicles.nelts, 0);
    assert_int_equal(ph[1].line, 7);
}


static void
test_shipped(void **state)
{
    char     err[512], *buf;
    long     len;
    FILE    *f;
    size_t   n, i;
    ph_t    *ph;

    (void) state;

    f = fopen("agents/data/policyholders.yaml", "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    rewind(f);
    buf = arena_alloc(NULL, len + 1);
    assert_int_equal(fread(buf, 1, len, f), (size_t) len);
    fclose(f);

    assert_int_equal(ngx_http_rtagent_agent_data_parse(
                         (unsigned char *) buf, len, "policyholders.yaml",
                         arena_alloc, NULL, &ph, &n, err, sizeof(err)), 0);
    assert_true(n >= 3);

    for (i = 0; i < n; i++) {
        assert_int_equal(ph[i].policy.len, 8);
        assert_int_equal(ph[i].zip.len, 5);
        assert_true(ph[i].vehicles.nelts >= 1);
    }

    assert_string_equal((char *) ph[0].policy.data, "42718365");
}


static void
test_errors(void **state)
{
    (void) state;

    bad(REC "    vehicles: []\n    color: red\n",
        "p.yaml:7: policyholders[0].color: unknown key (policy, zip, name, "
        "phone, vehicles)");
    bad("policyholders:\n  - policy: \"4271836\"\n",
        "p.yaml:2: policyholders[0].policy: \"4271836\" is not 8 digits");
    bad("policyholders:\n  - policy: \"42718365\"\n    zip: 981O1\n",
        "p.yaml:3: policyholders[0].zip: \"981O1\" is not 5 digits");
    bad("policyholders:\n  - policy: \"42718365\"\n    zip: \"98101\"\n"
        "    phone: \"12065550142\"\n",
        "p.yaml:4: policyholders[0].phone: \"12065550142\" is not E.164 "
        "(+, then the country code)");
    bad("policyholders:\n  - policy: \"42718365\"\n    zip: \"98101\"\n"
        "    phone: \"+1206\"\n",
        "p.yaml:4: policyholders[0].phone: \"+1206\" is not 8 to 15 digits");
    bad("policyholders:\n  - policy: \"42718365\"\n    zip: \"98101\"\n"
        "    phone: \"+12065550142\"\n    vehicles: []\n",
        "p.yaml:2: policyholders[0].name: is missing");
    bad(REC "    vehicles: a car\n",
        "p.yaml:6: policyholders[0].vehicles: must be a list");
    bad(REC "    vehicles: [[a]]\n",
        "p.yaml:6: policyholders[0].vehicles[0]: must be a string");
    bad(REC "    vehicles: []\n"
        "  - policy: \"42718365\"\n    zip: \"60614\"\n    name: Bob\n"
        "    phone: \"+13125550187\"\n    vehicles: []\n",
        "p.yaml:7: policyholders[1].policy: \"42718365\" is also "
        "policyholders[0] (line 2)");
    bad(REC "    name: Al\n",
        "p.yaml:6: policyholders[0].name: is given twice");
    bad("policyholders: []\n",
        "p.yaml:1: policyholders: must be a non-empty list");
    bad("holders:\n  - policy: 1\n",
        "p.yaml:1: (document): unknown key (only \"policyholders\")");
    bad("- a\n",
        "p.yaml:1: (document): must be a mapping with the one key "
        "\"policyholders\"");
    bad("policyholders:\n  - policy: \"1\n",
        "p.yaml:3: (document): found unexpected end of stream");
    bad("policyholders:\n  - x\n",
        "p.yaml:2: policyholders[0]: must be a mapping");
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_good, arena_free),
        cmocka_unit_test_teardown(test_shipped, arena_free),
        cmocka_unit_test_teardown(test_errors, arena_free),
    };

    return cmocka_run_group_tests_name("agent_data", tests, NULL, NULL);
}
