
/*
 * Unit tests for the control-message parser (cmocka).  Every message is
 * handed over in a buffer of exactly its length, without a NUL, so an
 * ASan build catches any read past it.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/ngx_http_rtagent_ctl_msg.h"


typedef struct {
    ngx_http_rtagent_ctl_msg_t     m;
    ngx_http_rtagent_ctl_msg_rc_e  rc;
    char                           err[128];
} parsed_t;


static void
parse_len(parsed_t *r, const char *s, size_t len)
{
    char  *buf;

    buf = malloc(len ? len : 1);
    assert_non_null(buf);
    memcpy(buf, s, len);

    r->rc = ngx_http_rtagent_ctl_msg_parse(buf, len, &r->m, r->err,
                                           sizeof(r->err));
    free(buf);
}


static void
parse(parsed_t *r, const char *s)
{
    parse_len(r, s, strlen(s));
}


static void
assert_str(ngx_http_rtagent_ctl_msg_str_t *s, const char *want)
{
    if (want == NULL) {
        assert_int_equal(s->len, 0);
        assert_null(s->data);
        return;
    }

    assert_non_null(s->data);
    assert_int_equal(s->len, strlen(want));
    assert_memory_equal(s->data, want, s->len);
}


static void
test_hangup(void **state)
{
    parsed_t  r;

    parse(&r, "{\"action\":\"hangup\"}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_OK);
    assert_int_equal(r.m.action, NGX_HTTP_RTAGENT_CTL_HANGUP);
    assert_str(&r.m.name, "hangup");
    assert_str(&r.m.id, NULL);
    assert_str(&r.m.outcome, NULL);
    assert_str(&r.m.reason, NULL);
    ngx_http_rtagent_ctl_msg_free(&r.m);

    parse(&r, " {\"reason\":\"done\",\"id\":\"op-1\",\"action\":\"hangup\","
              "\"outcome\":\"agent_hung_up\",\"extra\":[1,{}]} ");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_OK);
    assert_int_equal(r.m.action, NGX_HTTP_RTAGENT_CTL_HANGUP);
    assert_str(&r.m.id, "op-1");
    assert_str(&r.m.outcome, "agent_hung_up");
    assert_str(&r.m.reason, "done");
    ngx_http_rtagent_ctl_msg_free(&r.m);

    /* a non-string outcome is as good as none */
    parse(&r, "{\"action\":\"hangup\",\"outcome\":7}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_OK);
    assert_str(&r.m.outcome, NULL);
    ngx_http_rtagent_ctl_msg_free(&r.m);
}


static void
test_actions(void **state)
{
    parsed_t  r;

    parse(&r, "{\"action\":\"stop_audio\"}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_OK);
    assert_int_equal(r.m.action, NGX_HTTP_RTAGENT_CTL_STOP_AUDIO);
    ngx_http_rtagent_ctl_msg_free(&r.m);

    parse(&r, "{\"action\":\"transfer\",\"target\":\"+15550100\"}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_OK);
    assert_int_equal(r.m.action, NGX_HTTP_RTAGENT_CTL_TRANSFER);
    assert_str(&r.m.target, "+15550100");
    ngx_http_rtagent_ctl_msg_free(&r.m);

    parse(&r, "{\"action\":\"inject_text\",\"text\":\"h\\u00e9llo\"}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_OK);
    assert_int_equal(r.m.action, NGX_HTTP_RTAGENT_CTL_INJECT_TEXT);
    assert_str(&r.m.text, "h\xc3\xa9llo");
    ngx_http_rtagent_ctl_msg_free(&r.m);
}


static void
test_incomplete(void **state)
{
    parsed_t  r;

    parse(&r, "{\"action\":\"transfer\"}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_INCOMPLETE);
    assert_int_equal(r.m.action, NGX_HTTP_RTAGENT_CTL_TRANSFER);
    assert_str(&r.m.name, "transfer");
    assert_string_equal(r.err, "needs a \"target\"");
    ngx_http_rtagent_ctl_msg_free(&r.m);

    parse(&r, "{\"action\":\"transfer\",\"target\":\"\"}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_INCOMPLETE);
    ngx_http_rtagent_ctl_msg_free(&r.m);

    parse(&r, "{\"action\":\"inject_text\",\"text\":[\"x\"]}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_INCOMPLETE);
    assert_string_equal(r.err, "needs a \"text\"");
    assert_string_equal(ngx_http_rtagent_ctl_msg_error(r.rc),
                        "control action incomplete");
    ngx_http_rtagent_ctl_msg_free(&r.m);
}


static void
test_refused(void **state)
{
    char      *big;
    size_t     n;
    parsed_t   r;

    parse(&r, "{\"action\":\"dance\"}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_UNKNOWN);
    assert_int_equal(r.m.action, 0);
    assert_str(&r.m.name, "dance");
    assert_string_equal(ngx_http_rtagent_ctl_msg_error(r.rc),
                        "unknown control action");
    ngx_http_rtagent_ctl_msg_free(&r.m);

    parse(&r, "{\"action\":7}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_NO_ACTION);
    assert_str(&r.m.name, NULL);
    ngx_http_rtagent_ctl_msg_free(&r.m);

    parse(&r, "{}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_NO_ACTION);
    ngx_http_rtagent_ctl_msg_free(&r.m);

    parse(&r, "[\"hangup\"]");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_MALFORMED);
    assert_string_equal(r.err, "not a JSON object");
    ngx_http_rtagent_ctl_msg_free(&r.m);

    parse(&r, "{\"action\":\"hangup\"");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_MALFORMED);
    assert_memory_equal(r.err, "malformed JSON: ", 16);
    ngx_http_rtagent_ctl_msg_free(&r.m);

    parse(&r, "");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_MALFORMED);
    ngx_http_rtagent_ctl_msg_free(&r.m);

    /* what the tree API would mishandle */
    parse(&r, "{\"action\":\"hangup\"/*x*/}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_MALFORMED);
    ngx_http_rtagent_ctl_msg_free(&r.m);

    parse(&r, "{\"action\":\"hang\\u0000up\"}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_MALFORMED);
    ngx_http_rtagent_ctl_msg_free(&r.m);

    parse_len(&r, "{\"action\":\"hangup\"}\0", 20);
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_MALFORMED);
    ngx_http_rtagent_ctl_msg_free(&r.m);

    parse(&r, "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
              ",\"action\":\"hangup\"}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_MALFORMED);
    ngx_http_rtagent_ctl_msg_free(&r.m);

    /* too large: refused before it is parsed */
    n = NGX_HTTP_RTAGENT_CTL_MSG_MAX + 1;
    big = malloc(n);
    assert_non_null(big);
    memset(big, ' ', n);
    memcpy(big, "{\"action\":\"hangup\"}", 19);
    r.rc = ngx_http_rtagent_ctl_msg_parse(big, n, &r.m, r.err,
                                          sizeof(r.err));
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_TOO_LARGE);
    assert_null(r.m.tree);
    ngx_http_rtagent_ctl_msg_free(&r.m);

    /* one byte less is fine */
    r.rc = ngx_http_rtagent_ctl_msg_parse(big, n - 1, &r.m, NULL, 0);
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_OK);
    ngx_http_rtagent_ctl_msg_free(&r.m);
    free(big);
}


static void
test_id(void **state)
{
    char      msg[200];
    parsed_t  r;

    parse(&r, "{\"id\":\"\",\"action\":\"hangup\"}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_BAD_ID);
    assert_str(&r.m.id, NULL);
    ngx_http_rtagent_ctl_msg_free(&r.m);

    parse(&r, "{\"id\":17,\"action\":\"hangup\"}");
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_BAD_ID);
    ngx_http_rtagent_ctl_msg_free(&r.m);

    snprintf(msg, sizeof(msg), "{\"id\":\"%.*s\",\"action\":\"hangup\"}",
             NGX_HTTP_RTAGENT_CTL_MSG_ID_MAX,
             "0123456789012345678901234567890123456789012345678901234567890"
             "123456789");
    parse(&r, msg);
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_OK);
    assert_int_equal(r.m.id.len, NGX_HTTP_RTAGENT_CTL_MSG_ID_MAX);
    ngx_http_rtagent_ctl_msg_free(&r.m);

    snprintf(msg, sizeof(msg), "{\"id\":\"%.*s\",\"action\":\"hangup\"}",
             NGX_HTTP_RTAGENT_CTL_MSG_ID_MAX + 1,
             "0123456789012345678901234567890123456789012345678901234567890"
             "123456789");
    parse(&r, msg);
    assert_int_equal(r.rc, NGX_HTTP_RTAGENT_CTL_MSG_BAD_ID);
    ngx_http_rtagent_ctl_msg_free(&r.m);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hangup),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_incomplete),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_id),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
