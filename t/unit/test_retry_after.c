
/*
 * Unit tests for the Retry-After / retry-after-ms parser (cmocka).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "io/ngx_http_rtagent_retry_after.h"


#define OVER  (NGX_HTTP_RTAGENT_RETRY_AFTER_MAX + 1)


static int
parse(const char *s, unsigned unit, uint64_t *ms)
{
    *ms = 777;

    return ngx_http_rtagent_retry_after_parse((const unsigned char *) s,
                                              strlen(s), unit, ms);
}


static void
expect(const char *s, unsigned unit, uint64_t want)
{
    uint64_t  ms;

    if (parse(s, unit, &ms) != 0) {
        fail_msg("\"%s\" (unit %u) was refused", s, unit);
    }

    if (ms != want) {
        fail_msg("\"%s\" (unit %u): %llu, expected %llu", s, unit,
                 (unsigned long long) ms, (unsigned long long) want);
    }
}


static void
refuse(const char *s, unsigned unit)
{
    uint64_t  ms;

    if (parse(s, unit, &ms) != -1) {
        fail_msg("\"%s\" (unit %u) was taken as %llu", s, unit,
                 (unsigned long long) ms);
    }

    /* nothing written on failure */
    assert_int_equal(ms, 777);
}


static void
test_seconds(void **state)
{
    expect("1", 1000, 1000);
    expect("0", 1000, 0);
    expect("120", 1000, 120000);
    expect("007", 1000, 7000);
    expect("1.5", 1000, 1500);
    expect("0.25", 1000, 250);
    expect("2.125", 1000, 2125);
}


static void
test_milliseconds(void **state)
{
    expect("300", 1, 300);
    expect("50", 1, 50);
    expect("0", 1, 0);
    expect("120000", 1, 120000);
}


static void
test_rounds_up(void **state)
{
    /* a delay is never shorter than asked */
    expect("0.0001", 1000, 1);
    expect("1.0005", 1000, 1001);
    expect("1.0000000000000000000000000001", 1000, 1001);
    expect("1.0000", 1000, 1000);
    expect("250.5", 1, 251);
    expect("250.000", 1, 250);
    expect("0.1", 1, 1);
    expect("0.5", 10, 5);
    expect("0.55", 10, 6);
}


static void
test_spaces(void **state)
{
    expect(" 2", 1000, 2000);
    expect("2 ", 1000, 2000);
    expect("\t 2 \t", 1000, 2000);
    refuse("2 0", 1000);
    refuse("   ", 1000);
    refuse("1. 5", 1000);
}


static void
test_large(void **state)
{
    /* above the limit: MAX + 1, never an overflow, however long */
    expect("121", 1000, OVER);
    expect("120.001", 1000, OVER);
    expect("120001", 1, OVER);
    expect("18446744073709551616", 1000, OVER);
    expect("99999999999999999999999999999999999999999999999999", 1, OVER);
    expect("99999999999999999999999999999999999999999.5", 1000, OVER);
}


static void
test_refused(void **state)
{
    refuse("", 1000);
    refuse("-1", 1000);
    refuse("+1", 1000);
    refuse(".5", 1000);
    refuse("1.", 1000);
    refuse("1..5", 1000);
    refuse("1.5.", 1000);
    refuse("1e3", 1000);
    refuse("0x10", 1);
    refuse("1,5", 1000);
    refuse("Wed, 21 Oct 2015 07:28:00 GMT", 1000);
    refuse("5s", 1000);
    refuse("inf", 1);
    refuse("NaN", 1);
}


static void
test_nul_and_bounds(void **state)
{
    uint64_t  ms;

    /* the length counts, not a NUL: "1\0" 2 bytes is not a number */
    assert_int_equal(ngx_http_rtagent_retry_after_parse(
                         (const unsigned char *) "1\0", 2, 1000, &ms), -1);

    /* only the first len bytes are read */
    ms = 0;
    assert_int_equal(ngx_http_rtagent_retry_after_parse(
                         (const unsigned char *) "12x", 2, 1000, &ms), 0);
    assert_int_equal(ms, 12000);

    /* units that are not powers of ten are refused */
    refuse("1", 0);
    refuse("1", 7);
    refuse("1", 10000);
}


static void
test_ok(void **state)
{
    assert_false(ngx_http_rtagent_retry_after_ok(0));
    assert_true(ngx_http_rtagent_retry_after_ok(1));
    assert_true(ngx_http_rtagent_retry_after_ok(120000));
    assert_false(ngx_http_rtagent_retry_after_ok(OVER));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_milliseconds),
        cmocka_unit_test(test_rounds_up),
        cmocka_unit_test(test_spaces),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_nul_and_bounds),
        cmocka_unit_test(test_ok),
    };

    return cmocka_run_group_tests_name("retry_after", tests, NULL, NULL);
}
