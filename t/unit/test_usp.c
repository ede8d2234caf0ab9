
/*
 * Unit tests for the Azure Speech WebSocket ("USP") message codec
 * (cmocka): text and audio messages as the SDK writes them, the service's
 * messages split, hypothesis and phrase bodies (the detailed fixture from
 * $RTAGENT_FIXTURES).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ngx_http_rtagent_usp.h"

#include "test_fixtures.h"


#define U(s)  (const unsigned char *) (s), sizeof(s) - 1


static void
test_timestamp_id(void **state)
{
    char            ts[NGX_HTTP_RTAGENT_USP_TIME_LEN + 1];
    char            id[NGX_HTTP_RTAGENT_USP_ID_LEN + 1];
    const uint32_t  rnd[4] = { 0x0f1e2d3c, 0x4b5a6978, 0x8796a5b4,
                               0xc3d2e1f0 };

    ngx_http_rtagent_usp_timestamp(ts, 1746702926123LL);
    ts[NGX_HTTP_RTAGENT_USP_TIME_LEN] = '\0';
    assert_string_equal(ts, "2025-05-08T11:15:26.123Z");

    ngx_http_rtagent_usp_id(id, rnd);
    id[NGX_HTTP_RTAGENT_USP_ID_LEN] = '\0';
    assert_string_equal(id, "0F1E2D3C4B5A69788796A5B4C3D2E1F0");
}


static void
test_text(void **state)
{
    size_t          n;
    unsigned char   buf[512];
    const char     *want =
        "Path: speech.context\r\n"
        "X-RequestId: 0F1E2D3C4B5A69788796A5B4C3D2E1F0\r\n"
        "X-Timestamp: 2025-05-08T11:15:26.123Z\r\n"
        "Content-Type: application/json\r\n"
        "\r\n"
        "{}";

    n = ngx_http_rtagent_usp_text(buf, "speech.context",
                                  "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
                                  "2025-05-08T11:15:26.123Z",
                                  "application/json", U("{}"));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(buf, want, n);
    assert_int_equal(ngx_http_rtagent_usp_text(NULL, "speech.context",
                         "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
                         "2025-05-08T11:15:26.123Z", "application/json",
                         U("{}")), n);

    /* speech.config goes without a request id */
    n = ngx_http_rtagent_usp_text(buf, "speech.config", NULL,
                                  "2025-05-08T11:15:26.123Z",
                                  "application/json", U("{}"));
    buf[n] = '\0';
    assert_null(strstr((char *) buf, "X-RequestId"));
}


static void
test_audio_head(void **state)
{
    size_t                      n;
    unsigned char               buf[256];
    ngx_http_rtagent_usp_msg_t  msg;
    const char                 *want =
        "Path: audio\r\n"
        "X-RequestId: 0F1E2D3C4B5A69788796A5B4C3D2E1F0\r\n"
        "X-Timestamp: 2025-05-08T11:15:26.123Z\r\n"
        "Content-Type: audio/x-wav\r\n";

    n = ngx_http_rtagent_usp_audio_head(buf,
                                        "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
                                        "2025-05-08T11:15:26.123Z", 1);
    assert_int_equal(n, 2 + strlen(want));
    assert_int_equal(buf[0] << 8 | buf[1], strlen(want));
    assert_memory_equal(buf + 2, want, strlen(want));

    /* later messages: no Content-Type; the audio follows the head */
    n = ngx_http_rtagent_usp_audio_head(buf,
                                        "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
                                        "2025-05-08T11:15:26.123Z", 0);
    memcpy(buf + n, "\x01\x02", 2);

    assert_int_equal(ngx_http_rtagent_usp_parse_binary(buf, n + 2, &msg,
                                                       NULL, 0), 0);
    assert_true(ngx_http_rtagent_usp_is(&msg, "audio"));
    assert_null(msg.type);
    assert_int_equal(msg.request_id_len, 32);
    assert_int_equal(msg.body_len, 2);
    assert_memory_equal(msg.body, "\x01\x02", 2);
}


static void
test_parse_text(void **state)
{
    char                        err[NGX_HTTP_RTAGENT_USP_ERR];
    ngx_http_rtagent_usp_msg_t  msg;
    const char                 *m =
        "path: Speech.Phrase\r\n"
        "x-requestid:  0F1E2D3C4B5A69788796A5B4C3D2E1F0 \r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        "\r\n"
        "{\"RecognitionStatus\":\"NoMatch\"}";

    assert_int_equal(ngx_http_rtagent_usp_parse_text(
                         (const unsigned char *) m, strlen(m), &msg, err,
                         sizeof(err)), 0);
    assert_true(ngx_http_rtagent_usp_is(&msg, "speech.phrase"));
    assert_int_equal(msg.request_id_len, 32);
    assert_memory_equal(msg.request_id, "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
                        32);
    assert_int_equal(msg.type_len, 31);
    assert_int_equal(msg.body_len, 31);

    /* turn.end has no body */
    assert_int_equal(ngx_http_rtagent_usp_parse_text(
                         U("Path: turn.end\r\n\r\n"), &msg, err,
                         sizeof(err)), 0);
    assert_true(ngx_http_rtagent_usp_is(&msg, "turn.end"));
    assert_int_equal(msg.body_len, 0);

    assert_int_equal(ngx_http_rtagent_usp_parse_text(
                         U("Path: turn.end\r\n"), &msg, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "no blank line after headers");

    assert_int_equal(ngx_http_rtagent_usp_parse_text(
                         U("X-RequestId: 1\r\n\r\n{}"), &msg, err,
                         sizeof(err)), -1);
    assert_string_equal(err, "no Path header");

    assert_int_equal(ngx_http_rtagent_usp_parse_text(
                         U("Path turn.end\r\n\r\n"), &msg, err,
                         sizeof(err)), -1);
    assert_string_equal(err, "a header line without a colon");

    assert_int_equal(ngx_http_rtagent_usp_parse_text(
                         U("Path: a\rX: b\r\n\r\n"), &msg, err,
                         sizeof(err)), -1);
    assert_string_equal(err, "a header line without LF");

    assert_int_equal(ngx_http_rtagent_usp_parse_binary(
                         U("\x00\x20Path: audio\r\n"), &msg, err,
                         sizeof(err)), -1);
    assert_string_equal(err, "the header length is past the message");
}


static int
result(const char *json, int phrase, ngx_http_rtagent_usp_result_t *res,
    char *buf, size_t size, char *err)
{
    int             rc;
    size_t          len;
    unsigned char  *copy;

    /* an exact copy: ASan sees a read past it */
    len = strlen(json);
    copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, json, len);

    rc = ngx_http_rtagent_usp_result(copy, len, phrase, res, buf, size, err,
                                     NGX_HTTP_RTAGENT_USP_ERR);
    free(copy);

    return rc;
}


static void
test_results(void **state)
{
    char                           buf[64], err[NGX_HTTP_RTAGENT_USP_ERR];
    char                          *json;
    size_t                         len;
    ngx_http_rtagent_usp_result_t  res;

    assert_int_equal(result("{\"Text\":\"what's the\",\"Offset\":5000000,"
                            "\"Duration\":9000000}", 0, &res, buf,
                            sizeof(buf), err), 0);
    assert_string_equal(res.text, "what's the");
    assert_int_equal(res.offset, 5000000);
    assert_int_equal(res.duration, 9000000);
    assert_true(res.confidence < 0);

    /* simple, with ticks as strings */
    assert_int_equal(result("{\"RecognitionStatus\":\"Success\","
                            "\"DisplayText\":\"Remind me to buy 5 pencils.\","
                            "\"Offset\":\"1236645672289\","
                            "\"Duration\":\"17500000\"}", 1, &res, buf,
                            sizeof(buf), err), 0);
    assert_int_equal(res.status, NGX_HTTP_RTAGENT_USP_SUCCESS);
    assert_string_equal(res.text, "Remind me to buy 5 pencils.");
    assert_int_equal(res.offset, 1236645672289LL);

    /* detailed: the fixture, NBest[0] and its confidence */
    json = read_file(fixtures(), "azure_stt_short_detailed_response.json",
                     &len);
    assert_int_equal(result(json, 1, &res, buf, sizeof(buf), err), 0);
    free(json);
    assert_string_equal(res.text, "What's the weather like?");
    assert_true(res.confidence > 0.905 && res.confidence < 0.906);

    /* no words: a status without text */
    assert_int_equal(result("{\"RecognitionStatus\":\"InitialSilenceTimeout\","
                            "\"Offset\":0,\"Duration\":0}", 1, &res, buf,
                            sizeof(buf), err), 0);
    assert_int_equal(res.status, NGX_HTTP_RTAGENT_USP_INITIAL_SILENCE);
    assert_int_equal(res.text_len, 0);

    assert_int_equal(result("{\"RecognitionStatus\":\"NoMatch\"}", 1, &res,
                            buf, sizeof(buf), err), 0);
    assert_int_equal(res.status, NGX_HTTP_RTAGENT_USP_NOMATCH);

    assert_int_equal(result("{\"RecognitionStatus\":\"TooManyRequests\"}", 1,
                            &res, buf, sizeof(buf), err), 0);
    assert_int_equal(res.status, NGX_HTTP_RTAGENT_USP_OTHER);

    /* a text cut at the buffer */
    assert_int_equal(result("{\"Text\":\"0123456789\"}", 0, &res, buf, 5,
                            err), 0);
    assert_string_equal(res.text, "0123");

    /* bad bodies */
    assert_int_equal(result("{\"Text\":1}", 0, &res, buf, sizeof(buf), err),
                     -1);
    assert_string_equal(err, "a hypothesis without Text");

    assert_int_equal(result("{\"RecognitionStatus\":\"Success\"}", 1, &res,
                            buf, sizeof(buf), err), -1);
    assert_string_equal(err, "a Success phrase without text");

    assert_int_equal(result("{\"Text\":\"x\",\"Offset\":\"-1\"}", 0, &res,
                            buf, sizeof(buf), err), -1);
    assert_string_equal(err, "bad Offset or Duration");

    assert_int_equal(result("{\"Text\":\"x\",\"Offset\":-5}", 0, &res, buf,
                            sizeof(buf), err), -1);

    assert_int_equal(result("[1]", 1, &res, buf, sizeof(buf), err), -1);
    assert_int_equal(result("{", 1, &res, buf, sizeof(buf), err), -1);
    assert_string_equal(err, "malformed JSON: invalid json");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_timestamp_id),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_audio_head),
        cmocka_unit_test(test_parse_text),
        cmocka_unit_test(test_results),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
