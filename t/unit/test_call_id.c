
/*
 * Unit tests for the call id's check and generator (cmocka).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "call/ngx_http_rtagent_call_id.h"


static int
valid(const char *s)
{
    return ngx_http_rtagent_call_id_valid((const unsigned char *) s,
                                          strlen(s));
}


static void
test_valid(void **state)
{
    char  max[NGX_HTTP_RTAGENT_CALL_ID_MAX + 2];

    assert_true(valid("3c8a-91f0_x.y:z"));
    assert_true(valid("web-00ff"));
    assert_false(valid(""));
    assert_false(valid("a b"));
    assert_false(valid("a{b}"));
    assert_false(valid("a\nb"));

    memset(max, 'a', sizeof(max) - 1);
    max[NGX_HTTP_RTAGENT_CALL_ID_MAX] = '\0';
    assert_true(valid(max));
    max[NGX_HTTP_RTAGENT_CALL_ID_MAX] = 'a';
    max[NGX_HTTP_RTAGENT_CALL_ID_MAX + 1] = '\0';
    assert_false(valid(max));
}


static void
test_new(void **state)
{
    size_t          n, i;
    unsigned char   a[NGX_HTTP_RTAGENT_CALL_ID_NEW_LEN("web-") + 1];
    unsigned char   b[NGX_HTTP_RTAGENT_CALL_ID_NEW_LEN("web-") + 1];

    memset(a, '#', sizeof(a));
    n = ngx_http_rtagent_call_id_new(a, sizeof(a) - 1, "web-");
    assert_int_equal(n, 4 + 32);
    assert_memory_equal(a, "web-", 4);
    assert_int_equal(a[n], '#');

    for (i = 4; i < n; i++) {
        assert_non_null(strchr("0123456789abcdef", a[i]));
    }

    assert_true(ngx_http_rtagent_call_id_valid(a, n));

    /* 128 random bits: two ids differ */
    assert_int_equal(ngx_http_rtagent_call_id_new(b, sizeof(b), "web-"), n);
    assert_memory_not_equal(a, b, n);

    assert_int_equal(ngx_http_rtagent_call_id_new(a, sizeof(a), ""), 32);
}


static void
test_new_too_small(void **state)
{
    unsigned char  buf[NGX_HTTP_RTAGENT_CALL_ID_NEW_LEN("")];

    memset(buf, '#', sizeof(buf));
    assert_int_equal(ngx_http_rtagent_call_id_new(buf, sizeof(buf) - 1, ""),
                     0);
    assert_int_equal(buf[0], '#');
    assert_int_equal(ngx_http_rtagent_call_id_new(buf, sizeof(buf), "x"), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_new),
        cmocka_unit_test(test_new_too_small),
    };

    return cmocka_run_group_tests_name("call_id", tests, NULL, NULL);
}
