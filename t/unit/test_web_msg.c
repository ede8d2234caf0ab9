
/*
 * Unit tests for the browser channel's control messages (cmocka).  Every
 * message is handed over in a buffer of exactly its length, without a
 * NUL, so an ASan build catches any read past it.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "web/ngx_http_rtagent_web_msg.h"


typedef struct {
    ngx_http_rtagent_web_msg_t     m;
    ngx_http_rtagent_web_msg_rc_e  rc;
    char                           err[128];
} parsed_t;


static void
parse_len(parsed_t *r, const char *s, size_t len)
{
    char  *buf;

    buf = malloc(len ? len : 1);
    assert_non_null(buf);
    memcpy(buf, s, len);

    r->rc = ngx_http_rtagent_web_msg_parse(buf, len, &r->m, r->err,
                                           sizeof(r->err));
    free(buf);
}


static void
parse(parsed_t *r, const char *s)
{
    parse_len(r, s, strlen(s));
}


static void
refused(const char *msg, ngx_http_rtagent_web_msg_rc_e rc, const char *why)
{
    parsed_t  r;

    parse(&r, msg);
    assert_int_equal(r.rc, rc);
    assert_int_equal(r.m.type, 0);
    assert_non_null(strstr(r.err, why));
    ngx_http_rtagent_web_msg_free(&r.m);
}


static void
test_start(void **state)
{
    parsed_t  r;

    parse(&r, "{\"type\":\"start\",\"sampleRate\":48000,\"codec\":\"opus\","
              "\"agent\":\"auth\"}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_WEB_MSG_OK);
    assert_int_equal(r.m.type, NGX_HTTP_RTAGENT_WEB_START);
    assert_int_equal(r.m.codec, NGX_HTTP_RTAGENT_WEB_OPUS);
    assert_int_equal(r.m.rate, 48000);
    assert_int_equal(r.m.agent_len, 4);
    assert_string_equal(r.m.agent, "auth");
    assert_string_equal(r.err, "");
    ngx_http_rtagent_web_msg_free(&r.m);
}


static void
test_start_defaults(void **state)
{
    parsed_t  r;

    /* PCM16 at any rate of the range; no agent; unknown members ignored */
    parse(&r, "{\"sampleRate\":44100,\"type\":\"start\",\"x\":[1,{}],"
              "\"agent\":null}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_WEB_MSG_OK);
    assert_int_equal(r.m.codec, NGX_HTTP_RTAGENT_WEB_PCM16);
    assert_int_equal(r.m.rate, 44100);
    assert_int_equal(r.m.agent_len, 0);
    assert_null(r.m.agent);
    ngx_http_rtagent_web_msg_free(&r.m);

    parse(&r, "{\"type\":\"start\",\"sampleRate\":8000,\"codec\":\"pcm16\"}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_WEB_MSG_OK);
    assert_int_equal(r.m.rate, 8000);
    ngx_http_rtagent_web_msg_free(&r.m);
}


static void
test_stop(void **state)
{
    parsed_t  r;

    parse(&r, " {\"type\":\"stop\"} ");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_WEB_MSG_OK);
    assert_int_equal(r.m.type, NGX_HTTP_RTAGENT_WEB_STOP);
    ngx_http_rtagent_web_msg_free(&r.m);
}


static void
test_refused(void **state)
{
    refused("{\"type\":\"start\",", NGX_HTTP_RTAGENT_WEB_MSG_MALFORMED,
            "malformed JSON");
    refused("", NGX_HTTP_RTAGENT_WEB_MSG_MALFORMED, "malformed JSON");
    refused("\"start\"", NGX_HTTP_RTAGENT_WEB_MSG_MALFORMED,
            "not a JSON object");
    refused("{\"type\":7}", NGX_HTTP_RTAGENT_WEB_MSG_NO_TYPE, "no \"type\"");
    refused("{\"type\":\"st\\u0000op\"}", NGX_HTTP_RTAGENT_WEB_MSG_MALFORMED,
            "\\u0000");
    refused("{\"type\":\"dance\"}", NGX_HTTP_RTAGENT_WEB_MSG_UNKNOWN,
            "unknown type \"dance\"");
    /* the sender's strings are shown only when short, plain text */
    refused("{\"type\":\"d\u00e9\"}", NGX_HTTP_RTAGENT_WEB_MSG_UNKNOWN,
            "unknown type \"...\"");
    refused("{\"type\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
            NGX_HTTP_RTAGENT_WEB_MSG_UNKNOWN, "unknown type \"...\"");
    refused("{\"type\":\"start\",\"sampleRate\":16000,"
            "\"codec\":\"a\\\"\"}",
            NGX_HTTP_RTAGENT_WEB_MSG_UNSUPPORTED,
            "unsupported codec \"...\"");
    refused("{\"type\":\"start\"}", NGX_HTTP_RTAGENT_WEB_MSG_BAD_FIELD,
            "integer \"sampleRate\"");
    refused("{\"type\":\"start\",\"sampleRate\":16000.5}",
            NGX_HTTP_RTAGENT_WEB_MSG_BAD_FIELD, "integer \"sampleRate\"");
    refused("{\"type\":\"start\",\"sampleRate\":7999}",
            NGX_HTTP_RTAGENT_WEB_MSG_UNSUPPORTED, "not from 8000 to 96000");
    refused("{\"type\":\"start\",\"sampleRate\":96001}",
            NGX_HTTP_RTAGENT_WEB_MSG_UNSUPPORTED, "not from 8000 to 96000");
    refused("{\"type\":\"start\",\"sampleRate\":-1}",
            NGX_HTTP_RTAGENT_WEB_MSG_UNSUPPORTED, "not from 8000 to 96000");
    refused("{\"type\":\"start\",\"sampleRate\":16000,\"codec\":1}",
            NGX_HTTP_RTAGENT_WEB_MSG_BAD_FIELD, "\"codec\" is not a string");
    refused("{\"type\":\"start\",\"sampleRate\":16000,\"codec\":\"g711\"}",
            NGX_HTTP_RTAGENT_WEB_MSG_UNSUPPORTED, "unsupported codec");
    refused("{\"type\":\"start\",\"sampleRate\":44100,\"codec\":\"opus\"}",
            NGX_HTTP_RTAGENT_WEB_MSG_UNSUPPORTED, "not an Opus rate");
    refused("{\"type\":\"start\",\"sampleRate\":16000,\"agent\":\"\"}",
            NGX_HTTP_RTAGENT_WEB_MSG_BAD_FIELD, "\"agent\" is not");
    refused("{\"type\":\"start\",\"sampleRate\":16000,\"agent\":\"a/b\"}",
            NGX_HTTP_RTAGENT_WEB_MSG_BAD_FIELD, "\"agent\" is not");
    refused("{\"type\":\"start\",\"sampleRate\":16000,\"agent\":[]}",
            NGX_HTTP_RTAGENT_WEB_MSG_BAD_FIELD, "\"agent\" is not");
}


static void
test_limits(void **state)
{
    char      *buf;
    size_t     len;
    parsed_t   r;

    /* one byte over the limit is refused unparsed */
    len = NGX_HTTP_RTAGENT_WEB_MSG_MAX + 1;
    buf = malloc(len);
    assert_non_null(buf);
    memset(buf, ' ', len);
    memcpy(buf, "{\"type\":\"stop\"}", 15);

    parse_len(&r, buf, len);
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_WEB_MSG_TOO_LARGE);
    assert_null(r.m.tree);
    assert_non_null(strstr(r.err, "more than 4096"));
    ngx_http_rtagent_web_msg_free(&r.m);

    /* at the limit it is fine */
    parse_len(&r, buf, len - 1);
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_WEB_MSG_OK);
    ngx_http_rtagent_web_msg_free(&r.m);
    free(buf);

    /* nesting deeper than MSG_DEPTH */
    refused("{\"type\":\"stop\",\"a\":[[[[[[[[[[1]]]]]]]]]]}",
            NGX_HTTP_RTAGENT_WEB_MSG_MALFORMED, "");
}


static void
test_opus_rates(void **state)
{
    assert_true(ngx_http_rtagent_web_opus_rate(48000));
    assert_true(ngx_http_rtagent_web_opus_rate(8000));
    assert_false(ngx_http_rtagent_web_opus_rate(44100));
    assert_false(ngx_http_rtagent_web_opus_rate(0));
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start),
        cmocka_unit_test(test_start_defaults),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_opus_rates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
