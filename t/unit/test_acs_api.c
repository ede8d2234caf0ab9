
/*
 * Unit tests for the operators' API as outside input (cmocka): routes,
 * call ids, request bodies and the Bearer credential.  Inputs are handed
 * over in buffers of exactly their length, without a NUL, so an ASan
 * build catches any read past them.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ngx_http_rtagent_acs_api.h"
#include <call/ngx_http_rtagent_call_id.h>


#define NOT_OBJECT  "the body is not a JSON object"
#define BAD_TARGET  "target must be a phone number (+E.164) or an ACS "      \
                    "identifier (8:..., 28:...)"
#define BAD_TONES   "tones must be 1-64 of 0-9, A-D, # and *"
#define NOT_STRINGS "target, agent, source and display_name must be strings"


static char *
exact(const char *s, size_t len)
{
    char  *p;

    p = malloc(len ? len : 1);
    assert_non_null(p);
    memcpy(p, s, len);

    return p;
}


/* route of uri under prefix; id and action as "id|action" */

static ngx_http_rtagent_acs_api_route_e
route(const char *prefix, const char *uri, char *out)
{
    char                              *u, *pre;
    ngx_http_rtagent_acs_api_route_e   kind;
    ngx_http_rtagent_acs_api_route_t   rt;

    u = exact(uri, strlen(uri));
    pre = exact(prefix, strlen(prefix));

    kind = ngx_http_rtagent_acs_api_route(u, strlen(uri), pre,
                                          strlen(prefix), &rt);

    memcpy(out, rt.id ? rt.id : "", rt.id_len);
    out[rt.id_len] = '|';
    memcpy(out + rt.id_len + 1, rt.action ? rt.action : "", rt.action_len);
    out[rt.id_len + 1 + rt.action_len] = '\0';

    free(u);
    free(pre);

    return kind;
}


static void
test_route(void **state)
{
    char  out[256];

    assert_int_equal(route("/api/calls", "/api/calls", out),
                     NGX_HTTP_RTAGENT_ACS_API_CALLS);
    assert_string_equal(out, "|");
    assert_int_equal(route("/api/calls", "/api/calls/", out),
                     NGX_HTTP_RTAGENT_ACS_API_CALLS);
    assert_int_equal(route("/api/calls/", "/api/calls/", out),
                     NGX_HTTP_RTAGENT_ACS_API_CALLS);

    assert_int_equal(route("/api/calls", "/api/calls/c-1", out),
                     NGX_HTTP_RTAGENT_ACS_API_CALL);
    assert_string_equal(out, "c-1|");
    assert_int_equal(route("/api/calls", "/api/calls/c-1/", out),
                     NGX_HTTP_RTAGENT_ACS_API_CALL);
    assert_string_equal(out, "c-1|");
    assert_int_equal(route("/api/calls/", "/api/calls/c-1", out),
                     NGX_HTTP_RTAGENT_ACS_API_CALL);
    assert_string_equal(out, "c-1|");

    assert_int_equal(route("/api/calls", "/api/calls/c-1/hangup", out),
                     NGX_HTTP_RTAGENT_ACS_API_ACTION);
    assert_string_equal(out, "c-1|hangup");
    assert_int_equal(route("/api/calls", "/api/calls/c-1/hangup/", out),
                     NGX_HTTP_RTAGENT_ACS_API_ACTION);
    assert_string_equal(out, "c-1|hangup");

    /* the id is not checked here: it may be anything but a slash */
    assert_int_equal(route("/api/calls", "/api/calls/c*1/x", out),
                     NGX_HTTP_RTAGENT_ACS_API_ACTION);
    assert_string_equal(out, "c*1|x");

    assert_int_equal(route("/api/calls", "/api/callsfoo", out),
                     NGX_HTTP_RTAGENT_ACS_API_NONE);
    assert_string_equal(out, "|");
    assert_int_equal(route("/api/calls", "/api/call", out),
                     NGX_HTTP_RTAGENT_ACS_API_NONE);
    assert_int_equal(route("/api/calls", "/other/calls", out),
                     NGX_HTTP_RTAGENT_ACS_API_NONE);
    assert_int_equal(route("/api/calls", "/api/calls/c-1/hangup/now", out),
                     NGX_HTTP_RTAGENT_ACS_API_NONE);
    assert_string_equal(out, "|");
    assert_int_equal(route("/api/calls", "/api/calls//hangup", out),
                     NGX_HTTP_RTAGENT_ACS_API_NONE);
    assert_int_equal(route("/api/calls", "/api/calls/c-1//", out),
                     NGX_HTTP_RTAGENT_ACS_API_NONE);
    /* one slash after the prefix, one at the end (nginx merges them) */
    assert_int_equal(route("/api/calls", "/api/calls//", out),
                     NGX_HTTP_RTAGENT_ACS_API_CALLS);
    assert_int_equal(route("/api/calls", "", out),
                     NGX_HTTP_RTAGENT_ACS_API_NONE);

    /* an empty prefix (a location "/") */
    assert_int_equal(route("", "", out), NGX_HTTP_RTAGENT_ACS_API_CALLS);
    assert_int_equal(route("", "c-1", out), NGX_HTTP_RTAGENT_ACS_API_CALL);
    assert_int_equal(route("/", "/c-1/dtmf", out),
                     NGX_HTTP_RTAGENT_ACS_API_ACTION);
    assert_string_equal(out, "c-1|dtmf");
}


static void
test_id_valid(void **state)
{
    char  id[130];

    assert_true(ngx_http_rtagent_call_id_valid((const unsigned char *) "c-1", 3));
    assert_true(ngx_http_rtagent_call_id_valid((const unsigned char *) 
                    "411f0b00-6fc4-4e8a-9f8c-1d6e2a0f7c11", 36));
    assert_true(ngx_http_rtagent_call_id_valid((const unsigned char *) "a.b_c:d", 7));

    memset(id, 'a', sizeof(id));
    assert_true(ngx_http_rtagent_call_id_valid((const unsigned char *) id, 128));
    assert_false(ngx_http_rtagent_call_id_valid((const unsigned char *) id, 129));

    assert_false(ngx_http_rtagent_call_id_valid((const unsigned char *) "", 0));
    assert_false(ngx_http_rtagent_call_id_valid((const unsigned char *) "c*1", 3));
    assert_false(ngx_http_rtagent_call_id_valid((const unsigned char *) "c 1", 3));
    assert_false(ngx_http_rtagent_call_id_valid((const unsigned char *) "c/1", 3));
    assert_false(ngx_http_rtagent_call_id_valid((const unsigned char *) "c\0001", 3));
    assert_false(ngx_http_rtagent_call_id_valid((const unsigned char *) "c\xc3\xa9", 3));
}


/* the body's verdict; NULL when accepted, b then filled */

static const char *
body(const char *json, ngx_http_rtagent_acs_api_body_e what,
    ngx_http_rtagent_acs_api_body_t *b, char *err)
{
    int          status;
    char        *p;
    size_t       len;
    const char  *error;

    len = strlen(json);
    p = exact(json, len);

    status = ngx_http_rtagent_acs_api_body(p, len, what, b, &error, err,
                                           128);
    free(p);

    if (status) {
        assert_int_equal(status, 400);
        assert_non_null(error);
        assert_null(b->tree);
        return error;
    }

    assert_null(error);
    assert_non_null(b->tree);

    return NULL;
}


/* a refused body: its reason */

static void
refused(const char *json, ngx_http_rtagent_acs_api_body_e what,
    const char *reason)
{
    char                              err[128];
    const char                       *error;
    ngx_http_rtagent_acs_api_body_t   b;

    error = body(json, what, &b, err);

    if (error == NULL || strcmp(error, reason) != 0) {
        fail_msg("%s: expected \"%s\", got \"%s\"", json, reason,
                 error ? error : "(accepted)");
    }
}


static void
test_create(void **state)
{
    char                              err[128];
    ngx_http_rtagent_acs_api_body_t   b;

    assert_null(body("{\"target\":\"+15551234567\",\"agent\":\"sales-1\","
                     "\"source\":\"+15550001111\",\"display_name\":\"Bob\","
                     "\"extra\":{\"x\":[1,2]}}",
                     NGX_HTTP_RTAGENT_ACS_API_CREATE, &b, err));
    assert_string_equal(b.target, "+15551234567");
    assert_string_equal(b.agent, "sales-1");
    assert_string_equal(b.source, "+15550001111");
    assert_string_equal(b.display_name, "Bob");
    assert_string_equal(b.tones, "");
    ngx_http_rtagent_acs_api_body_free(&b);
    assert_null(b.tree);

    /* absent and null members are empty; the caller fills defaults */
    assert_null(body("{\"target\":\"8:acs:x\",\"agent\":null}",
                     NGX_HTTP_RTAGENT_ACS_API_CREATE, &b, err));
    assert_string_equal(b.target, "8:acs:x");
    assert_string_equal(b.agent, "");
    assert_string_equal(b.source, "");
    assert_string_equal(b.display_name, "");
    ngx_http_rtagent_acs_api_body_free(&b);

    /* UTF-8 in display_name */
    assert_null(body("{\"target\":\"28:app\",\"display_name\":\"Z\\u00fcrich"
                     " \xe2\x98\x8e\"}",
                     NGX_HTTP_RTAGENT_ACS_API_CREATE, &b, err));
    assert_string_equal(b.display_name, "Z\xc3\xbcrich \xe2\x98\x8e");
    ngx_http_rtagent_acs_api_body_free(&b);

    refused("{}", NGX_HTTP_RTAGENT_ACS_API_CREATE, "target is required");
    refused("{\"target\":\"\"}", NGX_HTTP_RTAGENT_ACS_API_CREATE,
            "target is required");
    refused("{\"target\":\"bob\"}", NGX_HTTP_RTAGENT_ACS_API_CREATE,
            BAD_TARGET);
    refused("{\"target\":\"+1555x\"}", NGX_HTTP_RTAGENT_ACS_API_CREATE,
            BAD_TARGET);
    refused("{\"target\":5}", NGX_HTTP_RTAGENT_ACS_API_CREATE, NOT_STRINGS);
    refused("{\"target\":\"+15551234567\",\"agent\":[]}",
            NGX_HTTP_RTAGENT_ACS_API_CREATE, NOT_STRINGS);
    refused("{\"target\":\"+15551234567\",\"display_name\":true}",
            NGX_HTTP_RTAGENT_ACS_API_CREATE, NOT_STRINGS);
    refused("{\"target\":\"+15551234567\",\"agent\":\"a b\"}",
            NGX_HTTP_RTAGENT_ACS_API_CREATE,
            "agent must be 1-64 letters, digits, '-', '_' or '.'");
    refused("{\"target\":\"+15551234567\",\"agent\":\"a&x=1\"}",
            NGX_HTTP_RTAGENT_ACS_API_CREATE,
            "agent must be 1-64 letters, digits, '-', '_' or '.'");
    refused("{\"target\":\"+15551234567\",\"agent\":\""
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            "\"}", NGX_HTTP_RTAGENT_ACS_API_CREATE,
            "agent must be 1-64 letters, digits, '-', '_' or '.'");
    refused("{\"target\":\"+15551234567\",\"source\":\"8:acs:x\"}",
            NGX_HTTP_RTAGENT_ACS_API_CREATE,
            "source must be a phone number (+E.164)");
    refused("{\"target\":\"+15551234567\",\"source\":\"+1\"}",
            NGX_HTTP_RTAGENT_ACS_API_CREATE,
            "source must be a phone number (+E.164)");
}


static void
test_display_name(void **state)
{
    char                              json[400], err[128];
    ngx_http_rtagent_acs_api_body_t   b;

    /* 36 bytes of prefix, then exactly 256 characters */
    strcpy(json, "{\"target\":\"8:acs:x\",\"display_name\":\"");
    assert_int_equal(strlen(json), 36);
    memset(json + 36, 'n', 256);
    strcpy(json + 36 + 256, "\"}");

    assert_null(body(json, NGX_HTTP_RTAGENT_ACS_API_CREATE, &b, err));
    assert_int_equal(strlen(b.display_name), 256);
    ngx_http_rtagent_acs_api_body_free(&b);

    memset(json + 36, 'n', 257);
    strcpy(json + 36 + 257, "\"}");
    refused(json, NGX_HTTP_RTAGENT_ACS_API_CREATE,
            "display_name is too long");
}


static void
test_transfer(void **state)
{
    char                              err[128];
    ngx_http_rtagent_acs_api_body_t   b;

    assert_null(body("{\"target\":\"4:+15551230002\"}",
                     NGX_HTTP_RTAGENT_ACS_API_TRANSFER, &b, err));
    assert_string_equal(b.target, "4:+15551230002");
    ngx_http_rtagent_acs_api_body_free(&b);

    refused("{}", NGX_HTTP_RTAGENT_ACS_API_TRANSFER, BAD_TARGET);
    refused("{\"target\":null}", NGX_HTTP_RTAGENT_ACS_API_TRANSFER,
            BAD_TARGET);
    refused("{\"target\":\"nobody\"}", NGX_HTTP_RTAGENT_ACS_API_TRANSFER,
            BAD_TARGET);
    refused("{\"target\":1}", NGX_HTTP_RTAGENT_ACS_API_TRANSFER, BAD_TARGET);
    refused("nope", NGX_HTTP_RTAGENT_ACS_API_TRANSFER, NOT_OBJECT);
}


static void
test_dtmf(void **state)
{
    char                              err[128];
    ngx_http_rtagent_acs_api_body_t   b;

    assert_null(body("{\"tones\":\"0123456789ABCDabcd#*\"}",
                     NGX_HTTP_RTAGENT_ACS_API_DTMF, &b, err));
    assert_string_equal(b.tones, "0123456789ABCDabcd#*");
    assert_string_equal(b.target, "");
    ngx_http_rtagent_acs_api_body_free(&b);

    refused("{\"tones\":\"12x\"}", NGX_HTTP_RTAGENT_ACS_API_DTMF, BAD_TONES);
    refused("{\"tones\":\"\"}", NGX_HTTP_RTAGENT_ACS_API_DTMF, BAD_TONES);
    refused("{}", NGX_HTTP_RTAGENT_ACS_API_DTMF, BAD_TONES);
    refused("{\"tones\":7}", NGX_HTTP_RTAGENT_ACS_API_DTMF, BAD_TONES);
    refused("{\"tones\":\"1111111111111111111111111111111111111111111111111"
            "11111111111111111\"}", NGX_HTTP_RTAGENT_ACS_API_DTMF, BAD_TONES);
}


static void
test_malformed(void **state)
{
    int                               status;
    char                              deep[64], err[128];
    const char                       *error;
    ngx_http_rtagent_acs_api_body_t   b;

    refused("", NGX_HTTP_RTAGENT_ACS_API_CREATE, NOT_OBJECT);
    refused("{\"target\":", NGX_HTTP_RTAGENT_ACS_API_CREATE, NOT_OBJECT);
    refused("[1,2]", NGX_HTTP_RTAGENT_ACS_API_CREATE, NOT_OBJECT);
    refused("\"x\"", NGX_HTTP_RTAGENT_ACS_API_CREATE, NOT_OBJECT);
    refused("null", NGX_HTTP_RTAGENT_ACS_API_DTMF, NOT_OBJECT);
    refused("{\"target\":\"+15551234567\"} {}",
            NGX_HTTP_RTAGENT_ACS_API_CREATE, NOT_OBJECT);
    refused("{\"target\":\"\xff\"}", NGX_HTTP_RTAGENT_ACS_API_CREATE,
            NOT_OBJECT);

    /* what yajl_tree_parse() alone would take, and say it */
    refused("{\"target\":\"8:acs:x\" /* } */}",
            NGX_HTTP_RTAGENT_ACS_API_CREATE, NOT_OBJECT ": comment");
    refused("{\"tones\":\"1\\u00002\"}", NGX_HTTP_RTAGENT_ACS_API_DTMF,
            NOT_OBJECT ": \\u0000 in a string");

    memset(deep, '[', 20);
    memset(deep + 20, ']', 20);
    deep[40] = '\0';
    refused(deep, NGX_HTTP_RTAGENT_ACS_API_CREATE,
            NOT_OBJECT ": nested too deeply");

    /* a NUL byte inside the body */
    status = ngx_http_rtagent_acs_api_body("{\"tones\":\"1\"}\0",
                                           sizeof("{\"tones\":\"1\"}"),
                                           NGX_HTTP_RTAGENT_ACS_API_DTMF, &b,
                                           &error, err, sizeof(err));
    assert_int_equal(status, 400);
    assert_non_null(error);
    assert_string_equal(error, NOT_OBJECT ": NUL byte");
    assert_null(b.tree);
}


static int
bearer(const char *value, char *out)
{
    int          rc;
    char        *p;
    size_t       len, tlen;
    const char  *token;

    len = strlen(value);
    p = exact(value, len);

    rc = ngx_http_rtagent_acs_api_bearer(p, len, &token, &tlen);

    if (rc == 1) {
        assert_true(token >= p && token + tlen <= p + len);
        memcpy(out, token, tlen);
        out[tlen] = '\0';

    } else {
        assert_null(token);
        assert_int_equal(tlen, 0);
        out[0] = '\0';
    }

    free(p);

    return rc;
}


static void
test_bearer(void **state)
{
    char  out[256];

    assert_int_equal(bearer("Bearer abc", out), 1);
    assert_string_equal(out, "abc");
    assert_int_equal(bearer("bearer abc", out), 1);
    assert_int_equal(bearer("BEARER abc", out), 1);
    assert_int_equal(bearer("Bearer   abc", out), 1);
    assert_string_equal(out, "abc");
    assert_int_equal(bearer("  Bearer abc \t", out), 1);
    assert_string_equal(out, "abc");
    assert_int_equal(bearer("Bearer test-api-key-0123456789abcdefghi", out),
                     1);
    assert_string_equal(out, "test-api-key-0123456789abcdefghi");
    assert_int_equal(bearer("Bearer eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.c2ln",
                            out), 1);
    assert_string_equal(out, "eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.c2ln");
    assert_int_equal(bearer("Bearer a.b_c~d+e/f==", out), 1);
    assert_string_equal(out, "a.b_c~d+e/f==");

    /* another scheme, or none */
    assert_int_equal(bearer("", out), 0);
    assert_int_equal(bearer("Basic dGVzdA==", out), 0);
    assert_int_equal(bearer("Bearerabc", out), 0);
    assert_int_equal(bearer("Beare abc", out), 0);
    assert_int_equal(bearer("abc", out), 0);

    /* a Bearer credential that is not one token */
    assert_int_equal(bearer("Bearer", out), -1);
    assert_int_equal(bearer("Bearer ", out), -1);
    assert_int_equal(bearer("Bearer\tabc", out), -1);
    assert_int_equal(bearer("Bearer abc def", out), -1);
    assert_int_equal(bearer("Bearer abc,def", out), -1);
    assert_int_equal(bearer("Bearer realm=\"x\"", out), -1);
    assert_int_equal(bearer("Bearer =abc", out), -1);
    assert_int_equal(bearer("Bearer ab=c", out), -1);
    assert_int_equal(bearer("Bearer a\"b", out), -1);
    assert_int_equal(bearer("Bearer a\xc3\xa9", out), -1);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route),
        cmocka_unit_test(test_id_valid),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_display_name),
        cmocka_unit_test(test_transfer),
        cmocka_unit_test(test_dtmf),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bearer),
    };

    return cmocka_run_group_tests_name("acs_api", tests, NULL, NULL);
}
