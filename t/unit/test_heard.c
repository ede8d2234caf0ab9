
/*
 * Unit tests for what the caller heard of a cut reply (cmocka).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ngx_http_rtagent_heard.h"


/* three pieces as the session sends them (white space between them is in
 * none of them), 1000 bytes of audio each */
static const char  *reply = "I see. Let me look that up for you. One moment.";

static const ngx_http_rtagent_heard_piece_t  three[] = {
    { 6, 1000 }, { 35, 2000 }, { 47, 3000 }
};


static size_t
heard(size_t audio)
{
    return ngx_http_rtagent_heard((const uint8_t *) reply, three, 3, audio,
                                  0);
}


static void
test_whole_pieces(void **state)
{
    assert_int_equal(heard(0), 0);
    assert_int_equal(heard(1000), 6);
    assert_int_equal(heard(2000), 35);
    assert_int_equal(heard(3000), 47);
    assert_int_equal(heard(99999), 47);
    assert_int_equal(ngx_http_rtagent_heard(NULL, NULL, 0, 500, 0), 0);
}


/* of the piece being played, its words in proportion, floor */

static void
test_words_in_proportion(void **state)
{
    /* "I see." is two words: half of its audio is "I" */
    assert_int_equal(heard(499), 0);
    assert_int_equal(heard(500), 1);
    assert_int_equal(heard(999), 1);

    /* " Let me look that up for you." is seven words */
    assert_int_equal(heard(1000 + 142), 6);
    assert_int_equal(heard(1000 + 143), 10);          /* "Let" */
    assert_int_equal(heard(1000 + 3 * 1000 / 7 + 1), 18);   /* "look" */
    assert_int_equal(heard(1999), 30);                /* "for" */
}


/* no audio (a piece TTS answered with nothing): heard as soon as reached */

static void
test_silent_piece(void **state)
{
    static const ngx_http_rtagent_heard_piece_t  p[] = {
        { 6, 1000 }, { 35, 1000 }, { 47, 2000 }
    };

    assert_int_equal(ngx_http_rtagent_heard((const uint8_t *) reply, p, 3,
                                            1000, 0), 35);
}


/* the last piece's audio still streams in: its length at the rate of the
 * pieces before it, not what came so far */

static void
test_open_piece(void **state)
{
    static const ngx_http_rtagent_heard_piece_t  p[] = {
        { 6, 600 }, { 35, 1600 }
    };
    static const ngx_http_rtagent_heard_piece_t  first[] = {
        { 6, 600 }
    };

    /* 100 audio bytes a byte of text: 2900 for the second piece; the
     * 1000 of it played are 2 of its 7 words, not all 7 */
    assert_int_equal(ngx_http_rtagent_heard((const uint8_t *) reply, p, 2,
                                            1600, 1), 13);
    /* done: what came is all there is */
    assert_int_equal(ngx_http_rtagent_heard((const uint8_t *) reply, p, 2,
                                            1600, 0), 35);
    /* the first piece, still coming: what came is all that is known */
    assert_int_equal(ngx_http_rtagent_heard((const uint8_t *) reply, first,
                                            1, 300, 1), 1);
    assert_int_equal(ngx_http_rtagent_heard((const uint8_t *) reply, first,
                                            1, 600, 1), 6);
}


/* UTF-8 and other white space: words are what lies between ASCII spaces */

static void
test_utf8(void **state)
{
    static const char  *t = "Gr\xc3\xbc\xc3\x9f dich,\tsch\xc3\xb6n\n"
                            "hier.";
    static const ngx_http_rtagent_heard_piece_t  p[] = { { 25, 400 } };

    assert_int_equal(strlen(t), 25);
    assert_int_equal(ngx_http_rtagent_heard((const uint8_t *) t, p, 1, 100,
                                            0), 6);
    assert_int_equal(ngx_http_rtagent_heard((const uint8_t *) t, p, 1, 200,
                                            0), 12);
    assert_int_equal(ngx_http_rtagent_heard((const uint8_t *) t, p, 1, 399,
                                            0), 19);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_pieces),
        cmocka_unit_test(test_words_in_proportion),
        cmocka_unit_test(test_silent_piece),
        cmocka_unit_test(test_open_piece),
        cmocka_unit_test(test_utf8),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
