
/*
 * Unit tests for the WebSocket client's check of the upgrade's answer
 * (cmocka): what the server sent so far goes in, in a buffer of exactly
 * its length (no NUL, so an ASan build catches a read past it), the
 * verdict comes out.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "io/ngx_http_rtagent_wsc_upgrade.h"


/* RFC 6455 1.3's example: the answer to "dGhlIHNhbXBsZSBub25jZQ==" */
#define ACCEPT  "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

#define GOOD_101  "HTTP/1.1 101 Switching Protocols\r\n" \
                  "Upgrade: websocket\r\n"                \
                  "Connection: Upgrade\r\n"               \
                  "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n"


static ngx_http_rtagent_wsc_upgrade_e
parse(const char *s, size_t len, ngx_http_rtagent_wsc_upgrade_t *res)
{
    unsigned char                   *b;
    ngx_http_rtagent_wsc_upgrade_e   rc;

    b = malloc(len ? len : 1);
    assert_non_null(b);
    memcpy(b, s, len);

    rc = ngx_http_rtagent_wsc_upgrade_parse(b, len, ACCEPT,
                                            sizeof(ACCEPT) - 1, res);
    free(b);

    return rc;
}


static ngx_http_rtagent_wsc_upgrade_e
parse_str(const char *s, ngx_http_rtagent_wsc_upgrade_t *res)
{
    return parse(s, strlen(s), res);
}


static void
test_good(void **state)
{
    ngx_http_rtagent_wsc_upgrade_t  res;

    (void) state;

    assert_int_equal(parse_str(GOOD_101, &res),
                     NGX_HTTP_RTAGENT_WSC_UPGRADE_OK);
    assert_int_equal(res.status, 101);
    assert_int_equal(res.head, strlen(GOOD_101));
    assert_null(res.detail);
}


/* frames may follow the head in the same read: they are not its part */

static void
test_frames_behind(void **state)
{
    const char                      s[] = GOOD_101 "\x81\x02hi";
    ngx_http_rtagent_wsc_upgrade_t  res;

    (void) state;

    assert_int_equal(parse(s, sizeof(s) - 1, &res),
                     NGX_HTTP_RTAGENT_WSC_UPGRADE_OK);
    assert_int_equal(res.head, strlen(GOOD_101));
}


/* any cut before the empty line is "not yet", never a verdict */

static void
test_again(void **state)
{
    size_t                          i, n;
    ngx_http_rtagent_wsc_upgrade_t  res;

    (void) state;

    n = strlen(GOOD_101);

    for (i = 0; i < n; i++) {
        assert_int_equal(parse(GOOD_101, i, &res),
                         NGX_HTTP_RTAGENT_WSC_UPGRADE_AGAIN);
    }
}


static void
test_lenient_forms(void **state)
{
    ngx_http_rtagent_wsc_upgrade_t  res;

    (void) state;

    /* names and values in any case, spaces around values, a list */
    assert_int_equal(parse_str("HTTP/1.1 101 \r\n"
                               "upgrade:WebSocket \r\n"
                               "CONNECTION:  keep-alive, Upgrade\r\n"
                               "Server: mock\r\n"
                               "sec-websocket-accept:\t" ACCEPT "\r\n\r\n",
                               &res),
                     NGX_HTTP_RTAGENT_WSC_UPGRADE_OK);

    /* no reason phrase at all */
    assert_int_equal(parse_str("HTTP/1.1 101\r\nUpgrade: websocket\r\n"
                               "Connection: upgrade\r\n"
                               "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
                               &res),
                     NGX_HTTP_RTAGENT_WSC_UPGRADE_OK);
}


static void
test_refused(void **state)
{
    ngx_http_rtagent_wsc_upgrade_t  res;

    (void) state;

    assert_int_equal(parse_str("HTTP/1.1 401 Unauthorized\r\n"
                               "Content-Length: 0\r\n\r\n", &res),
                     NGX_HTTP_RTAGENT_WSC_UPGRADE_REFUSED);
    assert_int_equal(res.status, 401);
    assert_string_equal(res.detail, "not 101 Switching Protocols");

    assert_int_equal(parse_str("HTTP/1.1 429 Too Many\r\n\r\n", &res),
                     NGX_HTTP_RTAGENT_WSC_UPGRADE_REFUSED);
    assert_int_equal(res.status, 429);

    /* a 200 is a server that does not speak WebSocket there */
    assert_int_equal(parse_str("HTTP/1.1 200 OK\r\n\r\n", &res),
                     NGX_HTTP_RTAGENT_WSC_UPGRADE_REFUSED);
    assert_int_equal(res.status, 200);
}


static void
expect_bad(const char *s, const char *detail)
{
    ngx_http_rtagent_wsc_upgrade_t  res;

    assert_int_equal(parse_str(s, &res), NGX_HTTP_RTAGENT_WSC_UPGRADE_BAD);
    assert_int_equal(res.status, 0);
    assert_non_null(res.detail);

    if (detail) {
        assert_string_equal(res.detail, detail);
    }
}


static void
test_bad_status_line(void **state)
{
    (void) state;

    expect_bad("HTTP/1.0 101 Switching Protocols\r\n\r\n",
               "not an HTTP/1.1 status line");
    expect_bad("HTTP/1.1 10 Short\r\n\r\n", "not an HTTP/1.1 status line");
    expect_bad("HTTP/1.1 1010 Long\r\n\r\n", "not an HTTP/1.1 status line");
    expect_bad("HTTP/1.1 601 Nope\r\n\r\n", "not an HTTP/1.1 status line");
    expect_bad("HTTP/1.1 x01 Nope\r\n\r\n", "not an HTTP/1.1 status line");
    expect_bad("\r\n\r\n", NULL);
    expect_bad("SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1.1 status line");
}


static void
test_bad_lines(void **state)
{
    (void) state;

    expect_bad("HTTP/1.1 101 OK\r\nUpgrade websocket\r\n\r\n",
               "a bad header line");
    expect_bad("HTTP/1.1 101 OK\r\n: websocket\r\n\r\n", "a bad header line");
    expect_bad("HTTP/1.1 101 OK\r\nUpgrade : websocket\r\n\r\n",
               "a bad header line");
    /* obs-fold is not taken (RFC 9112 5.2) */
    expect_bad("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n  more\r\n\r\n",
               "a bad header line");
    expect_bad("HTTP/1.1 101 OK\nUpgrade: websocket\r\n\r\n",
               "a bad line ending or a NUL in the answer");
    expect_bad("HTTP/1.1 101 OK\r\nUpgrade: web\rsocket\r\n\r\n",
               "a bad line ending or a NUL in the answer");
    expect_bad("HTTP/1.1 101 OK\r\nServer: a\x01" "b\r\n\r\n",
               "a control character in a header value");
}


static void
test_bad_upgrade(void **state)
{
    (void) state;

    /* no Upgrade, a wrong one, two, no Connection: upgrade */
    expect_bad("HTTP/1.1 101 OK\r\nConnection: upgrade\r\n"
               "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
               "no Upgrade: websocket, Connection: upgrade");
    expect_bad("HTTP/1.1 101 OK\r\nUpgrade: h2c\r\nConnection: upgrade\r\n"
               "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
               "no Upgrade: websocket, Connection: upgrade");
    expect_bad("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nUpgrade: websocket"
               "\r\nConnection: upgrade\r\n"
               "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
               "no Upgrade: websocket, Connection: upgrade");
    expect_bad("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
               "Connection: upgraded\r\n"
               "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
               "no Upgrade: websocket, Connection: upgrade");
}


static void
test_bad_accept(void **state)
{
    (void) state;

    expect_bad("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
               "Connection: upgrade\r\n\r\n",
               "a wrong Sec-WebSocket-Accept");
    expect_bad("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
               "Connection: upgrade\r\n"
               "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOO=\r\n\r\n",
               "a wrong Sec-WebSocket-Accept");
    expect_bad("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
               "Connection: upgrade\r\n"
               "Sec-WebSocket-Accept: " ACCEPT "x\r\n\r\n",
               "a wrong Sec-WebSocket-Accept");
    /* two, even when one is right */
    expect_bad("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
               "Connection: upgrade\r\nSec-WebSocket-Accept: x\r\n"
               "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
               "a wrong Sec-WebSocket-Accept");
}


static void
test_not_asked_for(void **state)
{
    (void) state;

    expect_bad("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
               "Connection: upgrade\r\n"
               "Sec-WebSocket-Extensions: permessage-deflate\r\n"
               "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
               "an extension or subprotocol not asked for");
    expect_bad("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
               "Connection: upgrade\r\nSec-WebSocket-Protocol: chat\r\n"
               "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
               "an extension or subprotocol not asked for");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_frames_behind),
        cmocka_unit_test(test_again),
        cmocka_unit_test(test_lenient_forms),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bad_status_line),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_bad_upgrade),
        cmocka_unit_test(test_bad_accept),
        cmocka_unit_test(test_not_asked_for),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
