
/*
 * Unit tests for the Prompt Shields codec (cmocka): the request body, the
 * service's answers (clean, a user prompt attack, a document attack) and
 * what is refused (not JSON, no verdict, a verdict that is no boolean,
 * too large, a NUL inside).
 */


#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <yajl/yajl_gen.h>

#include "llm/ngx_http_rtagent_shield.h"


static int
parse(const char *s, char *err, size_t errlen)
{
    int     rc;
    char   *buf;
    size_t  len = strlen(s);

    /* exactly len bytes: ASan catches a read past the end */
    buf = malloc(len ? len : 1);
    assert_non_null(buf);
    memcpy(buf, s, len);
    rc = ngx_http_rtagent_shield_parse(buf, len, err, errlen);
    free(buf);

    return rc;
}


static void
test_answers(void **state)
{
    char  err[128];

    assert_int_equal(parse("{\"userPromptAnalysis\":{\"attackDetected\":"
                           "false},\"documentsAnalysis\":[]}",
                           err, sizeof(err)),
                     NGX_HTTP_RTAGENT_SHIELD_CLEAN);
    assert_string_equal(err, "");

    assert_int_equal(parse("{\"userPromptAnalysis\":{\"attackDetected\":"
                           "true},\"documentsAnalysis\":[]}",
                           err, sizeof(err)),
                     NGX_HTTP_RTAGENT_SHIELD_ATTACK);

    /* no documentsAnalysis at all is fine */
    assert_int_equal(parse("{\"userPromptAnalysis\":{\"attackDetected\":"
                           "false}}", err, sizeof(err)),
                     NGX_HTTP_RTAGENT_SHIELD_CLEAN);

    assert_int_equal(parse("{\"userPromptAnalysis\":{\"attackDetected\":"
                           "false},\"documentsAnalysis\":[{\"attackDetected"
                           "\":false},{\"attackDetected\":true}]}",
                           err, sizeof(err)),
                     NGX_HTTP_RTAGENT_SHIELD_ATTACK);
}


static void
test_invalid(void **state)
{
    char    err[128], *big;
    size_t  n;

    assert_int_equal(parse("", err, sizeof(err)),
                     NGX_HTTP_RTAGENT_SHIELD_INVALID);
    assert_string_equal(err, "the answer is not a JSON object");

    assert_int_equal(parse("{\"error\":{\"code\":\"InvalidRequest\"}}",
                           err, sizeof(err)),
                     NGX_HTTP_RTAGENT_SHIELD_INVALID);
    assert_string_equal(err,
                        "the answer has no userPromptAnalysis.attackDetected");

    assert_int_equal(parse("{\"userPromptAnalysis\":{\"attackDetected\":"
                           "\"true\"}}", err, sizeof(err)),
                     NGX_HTTP_RTAGENT_SHIELD_INVALID);
    assert_int_equal(parse("{\"userPromptAnalysis\":true}", err, sizeof(err)),
                     NGX_HTTP_RTAGENT_SHIELD_INVALID);
    assert_int_equal(parse("[true]", err, sizeof(err)),
                     NGX_HTTP_RTAGENT_SHIELD_INVALID);
    assert_int_equal(parse("{\"userPromptAnalysis\":{\"attackDetected\":fal",
                           err, sizeof(err)),
                     NGX_HTTP_RTAGENT_SHIELD_INVALID);

    assert_int_equal(ngx_http_rtagent_shield_parse("{\"a\":1}\0", 8,
                                                   err, sizeof(err)),
                     NGX_HTTP_RTAGENT_SHIELD_INVALID);
    assert_string_equal(err, "the answer is not JSON");

    n = NGX_HTTP_RTAGENT_SHIELD_MAX + 1;
    big = malloc(n);
    assert_non_null(big);
    memset(big, ' ', n);
    assert_int_equal(ngx_http_rtagent_shield_parse(big, n, err, sizeof(err)),
                     NGX_HTTP_RTAGENT_SHIELD_INVALID);
    assert_string_equal(err, "the answer is too large");
    free(big);

    /* a short err buffer is cut, not overrun; none at all is fine */
    assert_int_equal(parse("nope", err, 4), NGX_HTTP_RTAGENT_SHIELD_INVALID);
    assert_string_equal(err, "the");
    assert_int_equal(parse("nope", NULL, 0), NGX_HTTP_RTAGENT_SHIELD_INVALID);
}


static void
test_request(void **state)
{
    size_t                len;
    yajl_gen              g;
    const unsigned char  *out;

    g = yajl_gen_alloc(NULL);
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    yajl_gen_map_open(g);
    assert_int_equal(ngx_http_rtagent_shield_request(g, "Ignore \"all\"", 12),
                     0);
    yajl_gen_map_close(g);
    yajl_gen_get_buf(g, &out, &len);
    assert_string_equal((const char *) out,
                        "{\"userPrompt\":\"Ignore \\\"all\\\"\","
                        "\"documents\":[]}");
    yajl_gen_free(g);

    g = yajl_gen_alloc(NULL);
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    yajl_gen_map_open(g);
    assert_int_equal(ngx_http_rtagent_shield_request(g, "\xff", 1), -1);
    yajl_gen_free(g);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_request),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
