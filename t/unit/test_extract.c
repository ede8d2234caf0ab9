
/*
 * Unit tests for the typed extractors (src/agent/ngx_http_rtagent_extract.c)
 * over STT-like text: digits, numbers, dates against a fixed call date
 * (Thursday 2026-12-03), times, yes/no, choices, free text, and several
 * extractors over one utterance.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agent/ngx_http_rtagent_extract.h"


#define TODAY  "2026-12-03"


typedef int (*extract_pt)(ngx_http_rtagent_words_t *ws, const char *text,
    char *out, size_t len);

static long   arg_a, arg_b;
static ngx_http_rtagent_date_dir_e  arg_dir;


static int
x_digits(ngx_http_rtagent_words_t *ws, const char *t, char *o, size_t l)
{
    return ngx_http_rtagent_extract_digits(ws, arg_a, o, l);
}


static int
x_number(ngx_http_rtagent_words_t *ws, const char *t, char *o, size_t l)
{
    return ngx_http_rtagent_extract_number(ws, arg_a, arg_b, o, l);
}


static int
x_date(ngx_http_rtagent_words_t *ws, const char *t, char *o, size_t l)
{
    return ngx_http_rtagent_extract_date(ws, TODAY, arg_dir, o, l);
}


static int
x_time(ngx_http_rtagent_words_t *ws, const char *t, char *o, size_t l)
{
    return ngx_http_rtagent_extract_time(ws, o, l);
}


static int
x_yes_no(ngx_http_rtagent_words_t *ws, const char *t, char *o, size_t l)
{
    return ngx_http_rtagent_extract_yes_no(ws, o, l);
}


static int
x_free(ngx_http_rtagent_words_t *ws, const char *t, char *o, size_t l)
{
    return ngx_http_rtagent_extract_free_text(ws, o, l);
}


/* text gives want (NULL: no match) */
static void
check(extract_pt x, const char *text, const char *want)
{
    int                       rc;
    char                      out[256];
    ngx_http_rtagent_words_t  ws;

    ngx_http_rtagent_words(&ws, (const unsigned char *) text, strlen(text));

    out[0] = '\0';
    rc = x(&ws, text, out, sizeof(out));

    if (want == NULL) {
        if (rc != -1) {
            fail_msg("\"%s\": expected no match, got \"%s\"", text, out);
        }

        return;
    }

    if (rc != 0 || strcmp(out, want) != 0) {
        fail_msg("\"%s\": expected \"%s\", got %d \"%s\"", text, want, rc,
                 out);
    }
}


static void
test_words(void **state)
{
    ngx_http_rtagent_words_t  ws;
    char                      rest[64];
    const char               *t = "Um, it was ON Highway-10, on 3/14 at 3:30;"
                                  " that's 'all'";

    ngx_http_rtagent_words(&ws, (const unsigned char *) t, strlen(t));

    assert_int_equal(ws.n, 12);
    assert_string_equal(ws.word[3].w, "on");
    assert_string_equal(ws.word[4].w, "highway");
    assert_string_equal(ws.word[5].w, "10");
    assert_string_equal(ws.word[7].w, "3/14");
    assert_string_equal(ws.word[9].w, "3:30");
    assert_string_equal(ws.word[10].w, "that's");
    assert_string_equal(ws.word[11].w, "all");

    assert_int_equal(ngx_http_rtagent_words_find(&ws, 0, "Highway ten", 11),
                     -1);
    assert_int_equal(ngx_http_rtagent_words_find(&ws, 0, "on highway", 10),
                     3);
    assert_int_equal(ngx_http_rtagent_words_find(&ws, 4, "on", 2), 6);
    assert_int_equal(ngx_http_rtagent_words_find(&ws, 0, "", 0), -1);

    ngx_http_rtagent_words_use(&ws, 6, 12);
    ngx_http_rtagent_words_rest(&ws, rest, sizeof(rest));
    assert_string_equal(rest, "on highway 10");

    /* loose matching: inflections, not look-alikes */
    assert_true(ngx_http_rtagent_word_like("vehicles", 8, "vehicle", 7));
    assert_true(ngx_http_rtagent_word_like("injuries", 8, "injured", 7));
    assert_true(ngx_http_rtagent_word_like("Accident", 8, "accidents", 9));
    assert_false(ngx_http_rtagent_word_like("hit", 3, "hits", 4));
    assert_false(ngx_http_rtagent_word_like("change", 6, "chance", 6));
    assert_false(ngx_http_rtagent_word_like("parking", 7, "parked", 6));

    /* a long text is cut, never overrun */
    {
        char  big[8192];

        memset(big, 'a', sizeof(big));
        for (size_t i = 3; i < sizeof(big); i += 4) {
            big[i] = ' ';
        }

        ngx_http_rtagent_words(&ws, (unsigned char *) big, sizeof(big));
        assert_int_equal(ws.n, NGX_HTTP_RTAGENT_WORDS_MAX);
    }
}


static void
test_digits(void **state)
{
    arg_a = 8;
    check(x_digits, "four two seven one eight three six five", "42718365");
    check(x_digits, "my policy number is 1 2 3 4 5 6 7 8", "12345678");
    check(x_digits, "four two seven one, uh, eight three six five",
          "42718365");
    check(x_digits, "oh four double five seven one two nine", "04557129");
    check(x_digits, "forty two seventy one eighty three sixty five",
          "42718365");
    check(x_digits, "42718365", "42718365");
    check(x_digits, "four two seven", NULL);
    check(x_digits, "four two seven one eight three six five nine", NULL);
    check(x_digits, "I don't know", NULL);
    check(x_digits, "oh I think it is four two seven one eight three six five",
          "42718365");

    arg_a = 5;
    check(x_digits, "nine eight one zero one", "98101");
    check(x_digits, "it is 6 0 6 1 4", "60614");
    check(x_digits, "triple nine one two", "99912");
    check(x_digits, "nine oh two one oh", "90210");
    check(x_digits, "nine hundred twelve thirty", "91230");
    check(x_digits, "five hundred twelve oh one", "51201");

    /* the run of the right length among others */
    check(x_digits, "policy 1 2 3 4 5 6 7 8 and zip 9 8 1 0 1", "98101");

    arg_a = 0;
    check(x_digits, "three", "3");
}


static void
test_number(void **state)
{
    arg_a = 1;
    arg_b = 20;
    check(x_number, "two", "2");
    check(x_number, "3", "3");
    check(x_number, "twelve cars", "12");
    check(x_number, "a couple of cars", "2");
    check(x_number, "just mine", "1");
    check(x_number, "only my car", "1");
    check(x_number, "no one else, just me", "1");
    check(x_number, "twenty one", NULL);
    check(x_number, "zero", NULL);
    check(x_number, "many", NULL);

    arg_b = 0;
    check(x_number, "a hundred and five", "105");
    check(x_number, "two hundred", "200");
    check(x_number, "forty two", "42");
}


static void
test_date(void **state)
{
    arg_dir = NGX_HTTP_RTAGENT_DATE_PAST;

    check(x_date, "today", "2026-12-03");
    check(x_date, "it happened yesterday", "2026-12-02");
    check(x_date, "last night", "2026-12-02");
    check(x_date, "this morning", "2026-12-03");
    check(x_date, "the day before yesterday", "2026-12-01");
    check(x_date, "three days ago", "2026-11-30");
    check(x_date, "a week ago", "2026-11-26");
    check(x_date, "a couple of days ago", "2026-12-01");
    check(x_date, "last friday", "2026-11-27");
    check(x_date, "last thursday", "2026-11-26");
    check(x_date, "this monday", "2026-11-30");
    check(x_date, "on tuesday", "2026-12-01");
    check(x_date, "thursday", "2026-12-03");
    check(x_date, "on march third", "2026-03-03");
    check(x_date, "march 3rd", "2026-03-03");
    check(x_date, "on the third of march", "2026-03-03");
    check(x_date, "december twenty fifth", "2025-12-25");
    check(x_date, "december the first", "2026-12-01");
    check(x_date, "on the thirtieth", "2026-11-30");
    check(x_date, "on the second", "2026-12-02");
    check(x_date, "3/14", "2026-03-14");
    check(x_date, "3/14/2025", "2025-03-14");
    check(x_date, "2026-11-02", "2026-11-02");
    check(x_date, "february twenty ninth", "2024-02-29");

    /* never in the future for an event; nonsense is no date */
    check(x_date, "tomorrow", NULL);
    check(x_date, "3/14/2027", NULL);
    check(x_date, "13/40", NULL);
    check(x_date, "it may have been bad", NULL);
    check(x_date, "on highway ten", NULL);
    check(x_date, "february thirtieth", NULL);

    arg_dir = NGX_HTTP_RTAGENT_DATE_FUTURE;

    check(x_date, "tomorrow", "2026-12-04");
    check(x_date, "the day after tomorrow", "2026-12-05");
    check(x_date, "in two weeks", "2026-12-17");
    check(x_date, "next monday", "2026-12-07");
    check(x_date, "thursday", "2026-12-10");
    check(x_date, "on june fifth", "2027-06-05");
    check(x_date, "on the fifteenth", "2026-12-15");
    check(x_date, "on the second", "2027-01-02");
    check(x_date, "next week monday", "2026-12-07");
    check(x_date, "yesterday", NULL);
}


static void
test_time(void **state)
{
    check(x_time, "3 pm", "15:00");
    check(x_time, "3pm", "15:00");
    check(x_time, "at three thirty", "15:30");
    check(x_time, "nine in the morning", "09:00");
    check(x_time, "ten fifteen am", "10:15");
    check(x_time, "15:00", "15:00");
    check(x_time, "12 pm", "12:00");
    check(x_time, "12 am", "00:00");
    check(x_time, "noon", "12:00");
    check(x_time, "midnight", "00:00");
    check(x_time, "three o'clock", "15:00");
    check(x_time, "in the afternoon", "afternoon");
    check(x_time, "tomorrow morning", "morning");
    check(x_time, "three", NULL);
    check(x_time, "13 pm", NULL);
}


static void
test_yes_no(void **state)
{
    const char  *yes[] = { "yes", "yeah", "yep", "correct", "that's right",
                           "sure", "yes that is correct", "okay", NULL };
    const char  *no[] = { "no", "nope", "not really", "no one",
                          "nobody was hurt", "that's not right",
                          "no, it was two vehicles", "wrong", "it wasn't",
                          NULL };
    size_t       i;

    for (i = 0; yes[i]; i++) {
        check(x_yes_no, yes[i], "yes");
    }

    for (i = 0; no[i]; i++) {
        check(x_yes_no, no[i], "no");
    }

    check(x_yes_no, "on highway ten", NULL);
    check(x_yes_no, "please repeat that", NULL);
}


static void
test_choice(void **state)
{
    char                      out[64];
    const char               *c[] = { "claim dispute", "lawsuit",
                                      "letter from a lawyer", "other",
                                      "morning", "afternoon" };
    size_t                    len[6];
    size_t                    i;
    ngx_http_rtagent_words_t  ws;
    const char               *t;

    for (i = 0; i < 6; i++) {
        len[i] = strlen(c[i]);
    }

    t = "I got a letter from a lawyer";
    ngx_http_rtagent_words(&ws, (const unsigned char *) t, strlen(t));
    assert_int_equal(ngx_http_rtagent_extract_choice(&ws, c, len, 6, out,
                                                     sizeof(out)), 0);
    assert_string_equal(out, "letter from a lawyer");
    assert_true(ws.word[3].used && ws.word[6].used && !ws.word[2].used);

    t = "in the Afternoon please";
    ngx_http_rtagent_words(&ws, (const unsigned char *) t, strlen(t));
    assert_int_equal(ngx_http_rtagent_extract_choice(&ws, c, len, 6, out,
                                                     sizeof(out)), 0);
    assert_string_equal(out, "afternoon");

    t = "a lawsuits thing";
    ngx_http_rtagent_words(&ws, (const unsigned char *) t, strlen(t));
    assert_int_equal(ngx_http_rtagent_extract_choice(&ws, c, len, 6, out,
                                                     sizeof(out)), 0);
    assert_string_equal(out, "lawsuit");

    t = "evening";
    ngx_http_rtagent_words(&ws, (const unsigned char *) t, strlen(t));
    assert_int_equal(ngx_http_rtagent_extract_choice(&ws, c, len, 6, out,
                                                     sizeof(out)), -1);
}


static void
test_free_text(void **state)
{
    check(x_free, "um it was on highway ten", "on highway ten");
    check(x_free, "It happened in the parking lot at work, uh",
          "in the parking lot at work");
    check(x_free, "well so I think someone rear ended me",
          "someone rear ended me");
    check(x_free, "um uh", NULL);
    check(x_free, "", NULL);
}


/* one utterance, several values: what one takes the next does not see */
static void
test_several(void **state)
{
    char                      out[64];
    ngx_http_rtagent_words_t  ws;
    const char               *t = "yesterday on highway ten, two cars";

    ngx_http_rtagent_words(&ws, (const unsigned char *) t, strlen(t));

    assert_int_equal(ngx_http_rtagent_extract_date(&ws, TODAY,
                         NGX_HTTP_RTAGENT_DATE_PAST, out, sizeof(out)), 0);
    assert_string_equal(out, "2026-12-02");
    assert_int_equal(ngx_http_rtagent_extract_date(&ws, TODAY,
                         NGX_HTTP_RTAGENT_DATE_PAST, out, sizeof(out)), -1);
    assert_int_equal(ngx_http_rtagent_extract_number(&ws, 1, 20, out,
                                                     sizeof(out)), 0);
    assert_string_equal(out, "10");
    assert_int_equal(ngx_http_rtagent_extract_number(&ws, 1, 20, out,
                                                     sizeof(out)), 0);
    assert_string_equal(out, "2");
    assert_int_equal(ngx_http_rtagent_extract_free_text(&ws, out,
                                                        sizeof(out)), 0);
    assert_string_equal(out, "on highway cars");

    /* a bad call date is no date */
    ngx_http_rtagent_words(&ws, (const unsigned char *) "today", 5);
    assert_int_equal(ngx_http_rtagent_extract_date(&ws, "2026-13-01",
                         NGX_HTTP_RTAGENT_DATE_PAST, out, sizeof(out)), -1);
    assert_int_equal(ngx_http_rtagent_extract_date(&ws, NULL,
                         NGX_HTTP_RTAGENT_DATE_PAST, out, sizeof(out)), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_digits),
        cmocka_unit_test(test_number),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_yes_no),
        cmocka_unit_test(test_choice),
        cmocka_unit_test(test_free_text),
        cmocka_unit_test(test_several),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
