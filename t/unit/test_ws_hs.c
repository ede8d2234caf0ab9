
/*
 * Unit tests for the WebSocket opening handshake checks (cmocka): the
 * header lines of a request go in, the verdict and its reason come out.
 * Values are handed over in buffers of exactly their length, without a
 * NUL, so an ASan build catches any read past them.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ngx_http_rtagent_ws_hs.h"


#define TEST_KEY  "dGhlIHNhbXBsZSBub25jZQ=="


/* name and value copied to exact-length heap buffers */

static void
feed(ngx_http_rtagent_ws_hs_t *hs, const char *name, const char *value)
{
    char    *n, *v;
    size_t   nl, vl;

    nl = strlen(name);
    vl = strlen(value);

    n = malloc(nl + 1);
    v = malloc(vl + 1);
    assert_non_null(n);
    assert_non_null(v);

    memcpy(n, name, nl);
    memcpy(v, value, vl);

    ngx_http_rtagent_ws_hs_header(hs, n, nl, v, vl);

    /* the key is kept by reference: a test that needs it keeps its own */
    if (hs->key == v) {
        hs->key = value;
    }

    free(n);
    free(v);
}


/* a valid handshake, then the lines given (NULL-ended name, value pairs) */

static int
verdict(const char **reason, int omit, ...)
{
    va_list                    args;
    const char                *name, *value;
    ngx_http_rtagent_ws_hs_t   hs;

    ngx_http_rtagent_ws_hs_init(&hs);

    if (omit != 'U') {
        feed(&hs, "Upgrade", "websocket");
    }

    if (omit != 'C') {
        feed(&hs, "Connection", "Upgrade");
    }

    if (omit != 'V') {
        feed(&hs, "Sec-WebSocket-Version", "13");
    }

    if (omit != 'K') {
        feed(&hs, "Sec-WebSocket-Key", TEST_KEY);
    }

    va_start(args, omit);

    for ( ;; ) {
        name = va_arg(args, const char *);
        if (name == NULL) {
            break;
        }

        value = va_arg(args, const char *);

        if (strcmp(name, "body") == 0) {
            hs.body = 1;
            continue;
        }

        feed(&hs, name, value);
    }

    va_end(args);

    return ngx_http_rtagent_ws_hs_verdict(&hs, reason);
}


static void
test_valid(void **state)
{
    const char                *reason;
    ngx_http_rtagent_ws_hs_t   hs;

    ngx_http_rtagent_ws_hs_init(&hs);
    feed(&hs, "host", "example");
    feed(&hs, "upgrade", "WebSocket");
    feed(&hs, "CONNECTION", "keep-alive, Upgrade");
    feed(&hs, "sec-websocket-version", "13");
    feed(&hs, "Sec-Websocket-Key", TEST_KEY);
    feed(&hs, "Sec-WebSocket-Protocol", "chat");

    assert_int_equal(ngx_http_rtagent_ws_hs_verdict(&hs, &reason), 0);
    assert_null(reason);
    assert_int_equal(hs.key_len, 24);
    assert_memory_equal(hs.key, TEST_KEY, 24);

    /* several Connection lines: any of them may carry the token */
    assert_int_equal(verdict(&reason, 'C', "Connection", "keep-alive",
                             "Connection", "upgrade", NULL), 0);

    /* the Upgrade list may offer more than websocket */
    assert_int_equal(verdict(&reason, 'U', "Upgrade", "h2c, websocket",
                             NULL), 0);
}


static void
test_upgrade(void **state)
{
    const char  *reason;

    assert_int_equal(verdict(&reason, 'U', NULL), 426);
    assert_string_equal(reason,
                  "this is a websocket endpoint: Upgrade: websocket needed");

    assert_int_equal(verdict(&reason, 'U', "Upgrade", "h2c", NULL), 426);
    assert_string_equal(reason, "unsupported Upgrade: websocket only");

    assert_int_equal(verdict(&reason, 'U', "Upgrade", "websocket/13", NULL),
                     426);
    assert_int_equal(verdict(&reason, 'U', "Upgrade", "websockets", NULL),
                     426);
    assert_int_equal(verdict(&reason, 'U', "Upgrade", "", NULL), 426);

    /* as nginx does, the first Upgrade line counts */
    assert_int_equal(verdict(&reason, 'U', "Upgrade", "h2c",
                             "Upgrade", "websocket", NULL), 426);
    assert_int_equal(verdict(&reason, 0, "Upgrade", "h2c", NULL), 0);

    /* Upgrade comes before Connection */
    assert_int_equal(verdict(&reason, 'U', "Connection", "close", NULL),
                     426);
}


static void
test_connection(void **state)
{
    const char  *reason;

    assert_int_equal(verdict(&reason, 'C', NULL), 400);
    assert_string_equal(reason, "Connection: upgrade needed");

    assert_int_equal(verdict(&reason, 'C', "Connection", "keep-alive",
                             NULL), 400);
    assert_int_equal(verdict(&reason, 'C', "Connection", "upgrades", NULL),
                     400);
    assert_int_equal(verdict(&reason, 'C', "Connection", "up grade", NULL),
                     400);
    assert_int_equal(verdict(&reason, 'C', "X-Connection", "upgrade", NULL),
                     400);
}


static void
test_body(void **state)
{
    const char  *reason;

    assert_int_equal(verdict(&reason, 0, "body", "", NULL), 400);
    assert_string_equal(reason, "a websocket handshake has no body");
}


static void
test_version(void **state)
{
    const char  *reason;

    assert_int_equal(verdict(&reason, 'V', NULL), 400);
    assert_string_equal(reason, "one Sec-WebSocket-Version header needed");

    assert_int_equal(verdict(&reason, 0, "Sec-WebSocket-Version", "13",
                             NULL), 400);
    assert_string_equal(reason, "one Sec-WebSocket-Version header needed");

    assert_int_equal(verdict(&reason, 'V', "Sec-WebSocket-Version", "8",
                             NULL), 426);
    assert_string_equal(reason, "unsupported Sec-WebSocket-Version: 13 only");

    assert_int_equal(verdict(&reason, 'V', "Sec-WebSocket-Version", "13, 8",
                             NULL), 426);
    assert_int_equal(verdict(&reason, 'V', "Sec-WebSocket-Version", "130",
                             NULL), 426);
    assert_int_equal(verdict(&reason, 'V', "Sec-WebSocket-Version", "1",
                             NULL), 426);
}


static void
test_key(void **state)
{
    const char  *reason;

    assert_int_equal(verdict(&reason, 'K', NULL), 400);
    assert_string_equal(reason, "one Sec-WebSocket-Key header needed");

    assert_int_equal(verdict(&reason, 0, "Sec-WebSocket-Key", TEST_KEY,
                             NULL), 400);
    assert_string_equal(reason, "one Sec-WebSocket-Key header needed");

    assert_int_equal(verdict(&reason, 'K', "Sec-WebSocket-Key",
                             "dGhlIHNhbXBsZSBub25jZQ", NULL), 400);
    assert_string_equal(reason, "Sec-WebSocket-Key is not 16 bytes in base64");
}


static void
test_key_valid(void **state)
{
    assert_true(ngx_http_rtagent_ws_hs_key_valid(TEST_KEY, 24));
    assert_true(ngx_http_rtagent_ws_hs_key_valid("x3JJHMbDL1EzLkh9GBhXDw==",
                                                 24));
    assert_true(ngx_http_rtagent_ws_hs_key_valid("AAAAAAAAAAAAAAAAAAAAAA==",
                                                 24));
    assert_true(ngx_http_rtagent_ws_hs_key_valid("++//++//++//++//++//+A==",
                                                 24));

    assert_false(ngx_http_rtagent_ws_hs_key_valid(NULL, 0));
    assert_false(ngx_http_rtagent_ws_hs_key_valid("", 0));
    assert_false(ngx_http_rtagent_ws_hs_key_valid(TEST_KEY, 23));
    /* 18 bytes, not 16 */
    assert_false(ngx_http_rtagent_ws_hs_key_valid("dGhlIHNhbXBsZSBub25jZQAA",
                                                  24));
    /* not the alphabet, or padding where none belongs */
    assert_false(ngx_http_rtagent_ws_hs_key_valid("dGhlIHNhbXBsZSBub25jZ!==",
                                                  24));
    assert_false(ngx_http_rtagent_ws_hs_key_valid("dGhlIHNhbXBsZSBub25j=Q==",
                                                  24));
    assert_false(ngx_http_rtagent_ws_hs_key_valid("dGhlIHNhbXBsZSBub25jZ===",
                                                  24));
    assert_false(ngx_http_rtagent_ws_hs_key_valid("dGhlIHNhbXBsZSBub25jZQ!!",
                                                  24));
    assert_false(ngx_http_rtagent_ws_hs_key_valid("dGhlIHNhbXBsZSBub25jZQ=A",
                                                  24));
    assert_false(ngx_http_rtagent_ws_hs_key_valid("dGhlIHNhbXBsZSBub25jZQ=",
                                                  23));
    /* whitespace, base64url */
    assert_false(ngx_http_rtagent_ws_hs_key_valid(" GhlIHNhbXBsZSBub25jZQ==",
                                                  24));
    assert_false(ngx_http_rtagent_ws_hs_key_valid("dGhlIHNhbXBs ZSBub25jQ==",
                                                  24));
    assert_false(ngx_http_rtagent_ws_hs_key_valid("--__--__--__--__--__-A==",
                                                  24));
    assert_false(ngx_http_rtagent_ws_hs_key_valid("dGhlIHNhbXBs\0ZSBub25jQ==",
                                                  24));
}


static void
test_has_token(void **state)
{
    struct {
        const char  *list;
        int          found;
    } cases[] = {
        { "upgrade", 1 },
        { "UPGRADE", 1 },
        { "keep-alive, Upgrade", 1 },
        { "keep-alive,Upgrade", 1 },
        { " \tupgrade \t", 1 },
        { ",,upgrade,,", 1 },
        { "upgrade, close", 1 },
        { "", 0 },
        { ",", 0 },
        { " , ", 0 },
        { "upgrad", 0 },
        { "upgradex", 0 },
        { "xupgrade", 0 },
        { "up grade", 0 },
        { "upgrade;q=1", 0 },
        { "\"upgrade\"", 0 },
    };

    char    *buf;
    size_t   i, len;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        len = strlen(cases[i].list);
        buf = malloc(len + 1);
        assert_non_null(buf);
        memcpy(buf, cases[i].list, len);

        if (ngx_http_rtagent_ws_hs_has_token(buf, len, "upgrade", 7)
            != cases[i].found)
        {
            fail_msg("\"%s\": expected %d", cases[i].list, cases[i].found);
        }

        free(buf);
    }
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_upgrade),
        cmocka_unit_test(test_connection),
        cmocka_unit_test(test_body),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_key_valid),
        cmocka_unit_test(test_has_token),
    };

    return cmocka_run_group_tests_name("ws_hs", tests, NULL, NULL);
}
