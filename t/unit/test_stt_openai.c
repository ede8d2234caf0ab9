
/*
 * Unit tests for what the OpenAI transcription request and response are
 * made of (cmocka): the WAV header, the multipart/form-data body, and the
 * SSE / JSON response parser, fed whole and one byte at a time.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ngx_http_rtagent_wav.h"
#include "ngx_http_rtagent_multipart.h"
#include "ngx_http_rtagent_stt_openai_parse.h"


static uint32_t
le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24;
}


static void
test_wav(void **state)
{
    uint8_t  h[NGX_HTTP_RTAGENT_WAV_HEADER];

    assert_int_equal(ngx_http_rtagent_wav_header(h, 16000, 32000), 44);
    assert_memory_equal(h, "RIFF", 4);
    assert_int_equal(le32(h + 4), 32036);
    assert_memory_equal(h + 8, "WAVEfmt ", 8);
    assert_int_equal(le32(h + 16), 16);
    assert_int_equal(h[20] | h[21] << 8, 1);            /* PCM */
    assert_int_equal(h[22] | h[23] << 8, 1);            /* mono */
    assert_int_equal(le32(h + 24), 16000);
    assert_int_equal(le32(h + 28), 32000);
    assert_int_equal(h[32] | h[33] << 8, 2);
    assert_int_equal(h[34] | h[35] << 8, 16);
    assert_memory_equal(h + 36, "data", 4);
    assert_int_equal(le32(h + 40), 32000);

    /* a stream of unknown length: both sizes 0 (the Azure Speech form) */
    assert_int_equal(ngx_http_rtagent_wav_header(h, 24000, 0), 44);
    assert_int_equal(le32(h + 4), 0);
    assert_int_equal(le32(h + 24), 24000);
    assert_int_equal(le32(h + 40), 0);

    assert_int_equal(ngx_http_rtagent_wav_header(h, 0, 2), 0);
    assert_int_equal(ngx_http_rtagent_wav_header(h, 16000, 3), 0);
    assert_int_equal(ngx_http_rtagent_wav_header(h, 192001, 2), 0);
    assert_int_equal(ngx_http_rtagent_wav_header(h, 8000,
                         (size_t) NGX_HTTP_RTAGENT_WAV_MAX_DATA + 1), 0);
}


static void
test_multipart(void **state)
{
    size_t                        n, want;
    unsigned char                *body, *p;
    const uint32_t                rnd[4] = { 0x76543210, 0xfedcba98, 0, 1 };
    ngx_http_rtagent_multipart_t  mp;
    char                          type[128];

    ngx_http_rtagent_multipart_init(&mp, rnd);
    assert_memory_equal(mp.boundary,
                        "rtagent-0123456789abcdef0000000010000000", 40);

    want = ngx_http_rtagent_multipart_field(&mp, NULL, "model",
               (const unsigned char *) "whisper-1", 9)
           + ngx_http_rtagent_multipart_file(&mp, NULL, "file",
                 "utterance.wav", "audio/wav")
           + 4
           + ngx_http_rtagent_multipart_end(&mp, NULL);

    body = malloc(want);
    assert_non_null(body);

    p = body;
    p += ngx_http_rtagent_multipart_field(&mp, p, "model",
             (const unsigned char *) "whisper-1", 9);
    p += ngx_http_rtagent_multipart_file(&mp, p, "file", "utterance.wav",
                                         "audio/wav");
    memcpy(p, "WAV!", 4);
    p += 4;
    p += ngx_http_rtagent_multipart_end(&mp, p);

    assert_int_equal((size_t) (p - body), want);
    assert_memory_equal(body,
        "--rtagent-0123456789abcdef0000000010000000\r\n"
        "Content-Disposition: form-data; name=\"model\"\r\n\r\n"
        "whisper-1\r\n"
        "--rtagent-0123456789abcdef0000000010000000\r\n"
        "Content-Disposition: form-data; name=\"file\"; "
        "filename=\"utterance.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
        "WAV!\r\n"
        "--rtagent-0123456789abcdef0000000010000000--\r\n", want);
    free(body);

    n = ngx_http_rtagent_multipart_type(&mp, (unsigned char *) type);
    type[n] = '\0';
    assert_string_equal(type, "multipart/form-data; "
                        "boundary=rtagent-0123456789abcdef0000000010000000");

    /* content holding the delimiter does not fit */
    assert_true(ngx_http_rtagent_multipart_fits(&mp,
                    (const unsigned char *) "x--rtagent-0123", 15));
    assert_false(ngx_http_rtagent_multipart_fits(&mp,
        (const unsigned char *)
        "ab--rtagent-0123456789abcdef0000000010000000", 44));
    assert_false(ngx_http_rtagent_multipart_fits(&mp,
        (const unsigned char *)
        "---rtagent-0123456789abcdef0000000010000000", 43));
    assert_true(ngx_http_rtagent_multipart_fits(&mp,
        (const unsigned char *)
        "--rtagent-0123456789abcdef000000001000000", 41));
    assert_true(ngx_http_rtagent_multipart_fits(&mp, NULL, 0));
}


/* the parser's results */

typedef struct {
    char    deltas[1024];
    char    final[1024];
    int     finals;
} got_t;


static void
on_delta(void *data, const char *text, size_t len)
{
    got_t  *g = data;

    strcat(g->deltas, "[");
    strncat(g->deltas, text, len);
    strcat(g->deltas, "]");
}


static void
on_final(void *data, const char *text, size_t len)
{
    got_t  *g = data;

    g->finals++;
    memcpy(g->final, text, len);
    g->final[len] = '\0';
}


/* feeds body in pieces of step bytes (0: whole); end()'s result */

static int
parse(const char *body, int sse, size_t step, size_t size, got_t *g,
    char *err)
{
    int                            rc;
    size_t                         len, off, n;
    char                          *buf, *piece;
    ngx_http_rtagent_transcript_t  t;

    memset(g, 0, sizeof(got_t));
    memset(&t, 0, sizeof(t));

    buf = malloc(size);
    assert_non_null(buf);

    t.buf = buf;
    t.size = size;
    t.data = g;
    t.on_delta = on_delta;
    t.on_final = on_final;
    t.sse = sse;

    len = strlen(body);
    rc = 0;

    for (off = 0; off < len && rc == 0; off += n) {
        n = step ? step : len;
        if (n > len - off) {
            n = len - off;
        }

        /* an exact copy: ASan sees a read past the piece */
        piece = malloc(n);
        assert_non_null(piece);
        memcpy(piece, body + off, n);
        rc = ngx_http_rtagent_transcript_feed(&t, piece, n);
        free(piece);
    }

    if (rc == 0) {
        rc = ngx_http_rtagent_transcript_end(&t);
    }

    strcpy(err, rc ? t.err : "");
    free(buf);

    return rc;
}


static const char  sse_body[] =
    ": a comment\r\n"
    "event: message\r\n"
    "data: {\"type\":\"transcript.text.delta\",\"delta\":\"I want\"}\r\n"
    "\r\n"
    "data:{\"type\":\"transcript.text.delta\",\"delta\":\" to report\","
    "\"logprobs\":[]}\n\n"
    "data: {\"type\":\"transcript.text.delta\",\n"
    "data: \"delta\":\" an accident\"}\r\r"
    "data: {\"type\":\"transcript.text.done\",\"text\":"
    "\"I want to report an accident\",\"usage\":{\"type\":\"tokens\","
    "\"input_tokens\":14,\"output_tokens\":8,\"total_tokens\":22}}\n\n"
    "data: {\"type\":\"transcript.text.delta\",\"delta\":\"after done\"}\n\n";


static void
test_sse(void **state)
{
    got_t   g;
    size_t  step;
    char    err[NGX_HTTP_RTAGENT_TRANSCRIPT_ERR];

    for (step = 0; step < 8; step++) {
        assert_int_equal(parse(sse_body, 1, step, 256, &g, err), 0);
        assert_string_equal(g.deltas, "[I want][ to report][ an accident]");
        assert_string_equal(g.final, "I want to report an accident");
        assert_int_equal(g.finals, 1);
    }

    /* the done event without its blank line, cut by the body's end */
    assert_int_equal(parse("data: {\"type\":\"transcript.text.done\","
                           "\"text\":\"hi\"}", 1, 1, 256, &g, err), 0);
    assert_string_equal(g.final, "hi");
}


static void
test_sse_errors(void **state)
{
    got_t  g;
    char   err[NGX_HTTP_RTAGENT_TRANSCRIPT_ERR];

    assert_int_equal(parse("data: {\"type\":\"transcript.text.delta\","
                           "\"delta\":\"x\"}\n\n", 1, 0, 256, &g, err), -1);
    assert_string_equal(err,
                        "the stream ended without transcript.text.done");
    assert_string_equal(g.deltas, "[x]");

    assert_int_equal(parse("data: [DONE]\n\n", 1, 0, 256, &g, err), -1);
    assert_string_equal(err,
                        "the stream ended without transcript.text.done");

    assert_int_equal(parse("data: {\"error\":{\"message\":\"bad\\naudio\"}}"
                           "\n\n", 1, 3, 256, &g, err), -1);
    assert_string_equal(err, "error event: bad?audio");

    assert_int_equal(parse("data: {\"type\":\n\n", 1, 0, 256, &g, err), -1);
    assert_string_equal(err, "event: malformed JSON: invalid json");

    assert_int_equal(parse("data: {\"type\":\"transcript.text.done\"}\n\n",
                           1, 0, 256, &g, err), -1);
    assert_string_equal(err, "no text in a transcript.text.done event");

    /* an event larger than the buffer */
    assert_int_equal(parse("data: {\"type\":\"transcript.text.delta\","
                           "\"delta\":\"0123456789\"}\n\n", 1, 1, 32, &g,
                           err), -1);
    assert_string_equal(err, "an event over the buffer");

    assert_int_equal(parse("", 1, 0, 32, &g, err), -1);
    assert_int_equal(g.finals, 0);
}


static void
test_json(void **state)
{
    got_t  g;
    char   err[NGX_HTTP_RTAGENT_TRANSCRIPT_ERR];

    assert_int_equal(parse("{\"text\":\"What's the weather like?\","
                           "\"usage\":{\"type\":\"duration\",\"seconds\":2}}",
                           0, 5, 256, &g, err), 0);
    assert_string_equal(g.final, "What's the weather like?");
    assert_string_equal(g.deltas, "");

    assert_int_equal(parse("{\"txt\":\"x\"}", 0, 0, 256, &g, err), -1);
    assert_string_equal(err, "no text in the response");

    assert_int_equal(parse("{\"text\":\"x\"", 0, 0, 256, &g, err), -1);
    assert_string_equal(err, "malformed JSON: invalid json");

    assert_int_equal(parse("{\"text\":\"0123456789\"}", 0, 1, 8, &g, err),
                     -1);
    assert_string_equal(err, "response over the buffer");
}


static void
test_error_body(void **state)
{
    char         err[32];
    const char  *body = "{\"error\":{\"message\":\"Incorrect API key "
                        "provided: sk-...\",\"type\":\"invalid_request_error\","
                        "\"code\":\"invalid_api_key\"}}";

    assert_int_equal(ngx_http_rtagent_transcript_error(body, strlen(body),
                                                       err, sizeof(err)), 0);
    assert_string_equal(err, "Incorrect API key provided: sk-");

    assert_int_equal(ngx_http_rtagent_transcript_error("nope", 4, err,
                                                       sizeof(err)), -1);
    assert_int_equal(ngx_http_rtagent_transcript_error("{\"error\":1}", 11,
                                                       err, sizeof(err)), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_wav),
        cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_sse),
        cmocka_unit_test(test_sse_errors),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_error_body),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
