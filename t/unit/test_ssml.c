
/*
 * Unit tests for the SSML builder and its XML escaper (cmocka).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ngx_http_rtagent_ssml.h"


#define U(s)  (const unsigned char *) (s), sizeof(s) - 1


static char *
escape(const char *in, size_t len)
{
    size_t          n;
    unsigned char  *out;

    out = malloc(ngx_http_rtagent_ssml_escaped_max(len) + 1);
    assert_non_null(out);

    n = ngx_http_rtagent_ssml_escape(out, (const unsigned char *) in, len);
    assert_true(n <= ngx_http_rtagent_ssml_escaped_max(len));
    out[n] = '\0';

    return (char *) out;
}


#define assert_escape(in, want)                                              \
    do {                                                                     \
        char *got_ = escape(in, sizeof(in) - 1);                             \
        assert_string_equal(got_, want);                                     \
        free(got_);                                                          \
    } while (0)


static void
test_escape_markup(void **state)
{
    assert_escape("plain text", "plain text");
    assert_escape("Tom & Jerry <b>\"hi\"</b> it's",
                  "Tom &amp; Jerry &lt;b&gt;&quot;hi&quot;&lt;/b&gt; "
                  "it&apos;s");
    /* an entity in the input is text, not markup: escaped again */
    assert_escape("&amp;", "&amp;amp;");
    assert_escape("]]>", "]]&gt;");
    assert_escape("", "");
}


static void
test_escape_controls(void **state)
{
    /* tab, LF, CR stay; other C0 controls and NUL become spaces */
    assert_escape("a\tb\nc\rd", "a\tb\nc\rd");
    assert_escape("a\x01" "b\x1f" "c\x0b", "a b c ");

    {
        char *got = escape("a\0b", 3);
        assert_string_equal(got, "a b");
        free(got);
    }

    /* U+FFFE and U+FFFF are not XML characters; U+FFFD is */
    assert_escape("x\xef\xbf\xbey\xef\xbf\xbfz\xef\xbf\xbd",
                  "x y z\xef\xbf\xbd");
}


static void
test_escape_utf8(void **state)
{
    /* well-formed: 2, 3 and 4 bytes pass as they are */
    assert_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");

    /* a lone continuation byte, a bad lead, a cut sequence */
    assert_escape("a\x80z", "a\xef\xbf\xbdz");
    assert_escape("a\xffz", "a\xef\xbf\xbdz");
    assert_escape("a\xe2\x82", "a\xef\xbf\xbd\xef\xbf\xbd");

    /* overlong forms, a surrogate, beyond U+10FFFF: one U+FFFD a byte */
    assert_escape("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
    assert_escape("\xe0\x80\xaf",
                  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    assert_escape("\xed\xa0\x80",
                  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    assert_escape("\xf4\x90\x80\x80",
                  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");

    /* the largest code points that are well-formed */
    assert_escape("\xed\x9f\xbf\xf4\x8f\xbf\xbf",
                  "\xed\x9f\xbf\xf4\x8f\xbf\xbf");
}


static void
test_escape_worst_case(void **state)
{
    char  *got;

    /* six bytes out per byte in is the bound */
    got = escape("\"\"\"\"", 4);
    assert_int_equal(strlen(got), 24);
    free(got);
}


static void
test_checks(void **state)
{
    assert_null(ngx_http_rtagent_ssml_check_voice(U("en-US-JennyNeural")));
    assert_null(ngx_http_rtagent_ssml_check_voice(
        U("en-US-Ava:DragonHDLatestNeural")));
    assert_non_null(ngx_http_rtagent_ssml_check_voice(U("en-US Jenny")));
    assert_non_null(ngx_http_rtagent_ssml_check_voice(U("a'b")));
    assert_non_null(ngx_http_rtagent_ssml_check_voice(U("")));

    assert_null(ngx_http_rtagent_ssml_check_lang(U("en-US")));
    assert_non_null(ngx_http_rtagent_ssml_check_lang(U("en_US")));

    assert_null(ngx_http_rtagent_ssml_check_style(U("customerservice")));
    assert_null(ngx_http_rtagent_ssml_check_style(U("narration-relaxed")));
    assert_non_null(ngx_http_rtagent_ssml_check_style(U("cheerful1")));

    assert_null(ngx_http_rtagent_ssml_check_rate(U("fast")));
    assert_null(ngx_http_rtagent_ssml_check_rate(U("x-slow")));
    assert_null(ngx_http_rtagent_ssml_check_rate(U("+10%")));
    assert_null(ngx_http_rtagent_ssml_check_rate(U("-20.5%")));
    assert_null(ngx_http_rtagent_ssml_check_rate(U("1.2")));
    assert_non_null(ngx_http_rtagent_ssml_check_rate(U("")));
    assert_non_null(ngx_http_rtagent_ssml_check_rate(U("+")));
    assert_non_null(ngx_http_rtagent_ssml_check_rate(U("%")));
    assert_non_null(ngx_http_rtagent_ssml_check_rate(U("1.")));
    assert_non_null(ngx_http_rtagent_ssml_check_rate(U(".5")));
    assert_non_null(ngx_http_rtagent_ssml_check_rate(U("10%%")));
    assert_non_null(ngx_http_rtagent_ssml_check_rate(U("quick")));
    assert_non_null(ngx_http_rtagent_ssml_check_rate(U("1'2")));
}


static char *
build(ngx_http_rtagent_ssml_voice_t *v, const char *text)
{
    size_t          n, size;
    unsigned char  *out;

    size = ngx_http_rtagent_ssml_size(v, strlen(text));
    out = malloc(size + 1);
    assert_non_null(out);

    n = ngx_http_rtagent_ssml_build(out, v, (const unsigned char *) text,
                                    strlen(text));
    assert_true(n <= size);
    out[n] = '\0';

    return (char *) out;
}


static void
test_build(void **state)
{
    char                           *got;
    ngx_http_rtagent_ssml_voice_t   v;

    memset(&v, 0, sizeof(v));
    v.voice = (const unsigned char *) "en-US-JennyNeural";
    v.voice_len = 17;
    v.lang = (const unsigned char *) "en-US";
    v.lang_len = 5;

    got = build(&v, "Hello & <welcome>");
    assert_string_equal(got,
        "<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' "
        "xmlns:mstts='https://www.w3.org/2001/mstts' xml:lang='en-US'>"
        "<voice name='en-US-JennyNeural'>Hello &amp; &lt;welcome&gt;"
        "</voice></speak>");
    free(got);

    v.rate = (const unsigned char *) "+10%";
    v.rate_len = 4;
    v.style = (const unsigned char *) "cheerful";
    v.style_len = 8;

    got = build(&v, "It's done.");
    assert_string_equal(got,
        "<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' "
        "xmlns:mstts='https://www.w3.org/2001/mstts' xml:lang='en-US'>"
        "<voice name='en-US-JennyNeural'>"
        "<mstts:express-as style='cheerful'><prosody rate='+10%'>"
        "It&apos;s done.</prosody></mstts:express-as></voice></speak>");
    free(got);

    /* attribute values are escaped too (the checks would refuse these) */
    v.rate_len = 0;
    v.style_len = 0;
    v.voice = (const unsigned char *) "a'b";
    v.voice_len = 3;

    got = build(&v, "x");
    assert_non_null(strstr(got, "<voice name='a&apos;b'>x</voice>"));
    free(got);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_escape_markup),
        cmocka_unit_test(test_escape_controls),
        cmocka_unit_test(test_escape_utf8),
        cmocka_unit_test(test_escape_worst_case),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_build),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
