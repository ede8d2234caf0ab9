
/*
 * Unit tests for cutting a streamed reply into sentences (cmocka).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ngx_http_rtagent_sentence.h"


static size_t
cut(const char *s, int final)
{
    return ngx_http_rtagent_sentence_cut((const uint8_t *) s, strlen(s),
                                         final);
}


static void
test_sentence_ends(void **state)
{
    assert_int_equal(cut("Hello there. How are you?", 0), 13);
    assert_int_equal(cut("Really?! Yes.", 0), 9);
    assert_int_equal(cut("Stop! Now", 0), 6);
    assert_int_equal(cut("Say \"hi.\" Then go", 0), 10);
    assert_int_equal(cut("one\ntwo", 0), 4);
}


/* a mark at the very end may still be "3." of "3.5": wait for more text */

static void
test_streaming(void **state)
{
    assert_int_equal(cut("Hello there", 0), 0);
    assert_int_equal(cut("Hello there.", 0), 0);
    assert_int_equal(cut("Hello there.", 1), 12);
    assert_int_equal(cut("Hello there", 1), 11);
    assert_int_equal(cut("", 1), 0);
}


static void
test_not_an_end(void **state)
{
    assert_int_equal(cut("It is 3.5 km away. Yes", 0), 19);
    assert_int_equal(cut("Dr. Smith is in. Ok", 0), 17);
    assert_int_equal(cut("See e.g. this one. Ok", 0), 19);
    assert_int_equal(cut("J. Smith called. Ok", 0), 17);
    assert_int_equal(cut("Go to example.com now. Ok", 0), 23);
}


static void
test_clauses(void **state)
{
    const char  *s;

    /* a short clause stays with its sentence */
    assert_int_equal(cut("Yes, I can. Ok", 0), 12);

    /* a long one is cut at its last comma */
    s = "I have looked at your policy and the claim you filed last week, "
        "and it";
    assert_int_equal(cut(s, 0), 64);

    /* a colon or semicolon ends a clause */
    assert_int_equal(cut("You said: hello.", 0), 10);
}


static void
test_no_punctuation(void **state)
{
    char    s[400];
    size_t  n;

    memset(s, 'a', sizeof(s) - 1);
    s[sizeof(s) - 1] = '\0';
    s[150] = ' ';

    n = cut(s, 0);
    assert_int_equal(n, 151);

    /* one long word is cut at the limit, never left to grow */
    memset(s, 'a', sizeof(s) - 1);
    assert_int_equal(cut(s, 0), NGX_HTTP_RTAGENT_SENTENCE_MAX);
}


static void
test_trim(void **state)
{
    const uint8_t  *p;

    p = (const uint8_t *) "  Hello.  \n";
    assert_int_equal(ngx_http_rtagent_sentence_trim(&p, 11), 6);
    assert_memory_equal(p, "Hello.", 6);

    p = (const uint8_t *) "   ";
    assert_int_equal(ngx_http_rtagent_sentence_trim(&p, 3), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_sentence_ends),
        cmocka_unit_test(test_streaming),
        cmocka_unit_test(test_not_an_end),
        cmocka_unit_test(test_clauses),
        cmocka_unit_test(test_no_punctuation),
        cmocka_unit_test(test_trim),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
