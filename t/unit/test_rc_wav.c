
/*
 * Unit tests for rtagent-call's pure parts (cmocka): the WAV reader of
 * the callers' files and of espeak-ng's stream (no sizes), the mono
 * mix-down, the agent's audio level and the load report's percentiles.
 * Inputs are handed over in buffers of exactly their length, so an ASan
 * build catches any read past them.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rc_wav.h"
#include "ngx_http_rtagent_wav.h"


static void
le16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t) v;
    p[1] = (uint8_t) (v >> 8);
}


static void
le32(uint8_t *p, uint32_t v)
{
    le16(p, v & 0xffff);
    le16(p + 2, v >> 16);
}


/* a WAV of n samples (0, 1000, -1000, ...), with an extra chunk first */

static uint8_t *
make_wav(unsigned rate, unsigned channels, unsigned bits, size_t n,
    uint32_t data_size, int list, size_t *len)
{
    size_t    i, off;
    uint8_t  *b;

    *len = 12 + 24 + (list ? 8 + 4 : 0) + 8 + n * 2 * channels;
    b = malloc(*len);
    assert_non_null(b);

    memcpy(b, "RIFF", 4);
    le32(b + 4, (uint32_t) (*len - 8));
    memcpy(b + 8, "WAVE", 4);
    off = 12;

    if (list) {
        memcpy(b + off, "LIST", 4);
        le32(b + off + 4, 4);
        memcpy(b + off + 8, "INFO", 4);
        off += 12;
    }

    memcpy(b + off, "fmt ", 4);
    le32(b + off + 4, 16);
    le16(b + off + 8, 1);
    le16(b + off + 10, channels);
    le32(b + off + 12, rate);
    le32(b + off + 16, rate * 2 * channels);
    le16(b + off + 20, 2 * channels);
    le16(b + off + 22, bits);
    off += 24;

    memcpy(b + off, "data", 4);
    le32(b + off + 4, data_size);
    off += 8;

    for (i = 0; i < n * channels; i++) {
        le16(b + off + 2 * i, (unsigned) (int16_t) (i % 2 ? -1000 : 1000)
                              & 0xffff);
    }

    return b;
}


static void
test_wav_file(void **state)
{
    char      err[128];
    size_t    len;
    uint8_t  *b;
    rc_wav_t  w;

    b = make_wav(22050, 1, 16, 100, 200, 1, &len);

    assert_int_equal(rc_wav_parse(b, len, &w, err, sizeof(err)), 0);
    assert_int_equal(w.rate, 22050);
    assert_int_equal(w.channels, 1);
    assert_int_equal(w.len, 200);
    assert_ptr_equal(w.data, b + len - 200);

    free(b);
}


/* espeak-ng --stdout: the sizes are 0x7fffffff or 0xffffffff */

static void
test_wav_stream(void **state)
{
    char      err[128];
    size_t    len;
    uint8_t  *b;
    rc_wav_t  w;

    b = make_wav(22050, 1, 16, 50, 0xffffffff, 0, &len);
    assert_int_equal(rc_wav_parse(b, len, &w, err, sizeof(err)), 0);
    assert_int_equal(w.len, 100);
    free(b);

    b = make_wav(16000, 1, 16, 50, 0, 0, &len);
    assert_int_equal(rc_wav_parse(b, len, &w, err, sizeof(err)), 0);
    assert_int_equal(w.len, 100);

    /* a stream cut in the middle of a sample keeps whole samples */
    assert_int_equal(rc_wav_parse(b, len - 1, &w, err, sizeof(err)), 0);
    assert_int_equal(w.len, 98);
    free(b);
}


static void
test_wav_refused(void **state)
{
    char      err[128];
    size_t    len;
    uint8_t  *b;
    rc_wav_t  w;

    b = make_wav(16000, 1, 8, 10, 20, 0, &len);
    assert_int_equal(rc_wav_parse(b, len, &w, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not 16-bit PCM"));
    free(b);

    b = make_wav(4000, 1, 16, 10, 20, 0, &len);
    assert_int_equal(rc_wav_parse(b, len, &w, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "sample rate 4000"));
    free(b);

    b = make_wav(16000, 1, 16, 10, 20, 0, &len);
    memcpy(b + 8, "AVI ", 4);
    assert_int_equal(rc_wav_parse(b, len, &w, err, sizeof(err)), -1);
    assert_string_equal(err, "not a RIFF/WAVE file");
    free(b);

    /* cut before the data chunk */
    b = make_wav(16000, 1, 16, 10, 20, 0, &len);
    assert_int_equal(rc_wav_parse(b, 12 + 24, &w, err, sizeof(err)), -1);
    assert_string_equal(err, "no data chunk");

    /* cut inside the fmt chunk */
    assert_int_equal(rc_wav_parse(b, 12 + 20, &w, err, sizeof(err)), -1);
    assert_string_equal(err, "short fmt chunk");
    free(b);

    /* every prefix of a file: no read past it */
    b = make_wav(16000, 2, 16, 4, 16, 1, &len);

    for (size_t n = 0; n <= len; n++) {
        uint8_t  *p = malloc(n ? n : 1);

        memcpy(p, b, n);
        (void) rc_wav_parse(p, n, &w, err, sizeof(err));
        free(p);
    }

    free(b);
}


/* the header the gateway writes is read back */

static void
test_wav_roundtrip(void **state)
{
    char      err[128];
    uint8_t   b[NGX_HTTP_RTAGENT_WAV_HEADER + 8];
    rc_wav_t  w;

    assert_int_equal(ngx_http_rtagent_wav_header(b, 24000, 8),
                     NGX_HTTP_RTAGENT_WAV_HEADER);
    memset(b + NGX_HTTP_RTAGENT_WAV_HEADER, 0, 8);

    assert_int_equal(rc_wav_parse(b, sizeof(b), &w, err, sizeof(err)), 0);
    assert_int_equal(w.rate, 24000);
    assert_int_equal(w.len, 8);
}


static void
test_wav_mono(void **state)
{
    char      err[128];
    size_t    len, n;
    uint8_t  *b;
    int16_t  *m;
    rc_wav_t  w;

    /* stereo (1000, -1000) pairs average to 0 */
    b = make_wav(16000, 2, 16, 3, 12, 0, &len);
    assert_int_equal(rc_wav_parse(b, len, &w, err, sizeof(err)), 0);
    m = rc_wav_mono(&w, &n);
    assert_non_null(m);
    assert_int_equal(n, 3);
    assert_int_equal(m[0], 0);
    assert_int_equal(m[2], 0);
    free(m);
    free(b);

    b = make_wav(16000, 1, 16, 3, 6, 0, &len);
    assert_int_equal(rc_wav_parse(b, len, &w, err, sizeof(err)), 0);
    m = rc_wav_mono(&w, &n);
    assert_int_equal(n, 3);
    assert_int_equal(m[0], 1000);
    assert_int_equal(m[1], -1000);
    free(m);
    free(b);
}


static void
test_level(void **state)
{
    int16_t  pcm[4] = { 100, -100, -32768, 0 };

    assert_int_equal(rc_pcm_level(pcm, 0), 0);
    assert_int_equal(rc_pcm_level(pcm, 2), 100);
    assert_int_equal(rc_pcm_level(pcm, 4), (100 + 100 + 32768) / 4);
}


static void
test_percentile(void **state)
{
    size_t  i;
    double  v[100], one[1] = { 7 };

    assert_true(rc_percentile(NULL, 0, 50) == 0);
    assert_true(rc_percentile(one, 1, 99) == 7);

    /* 100 .. 1, shuffled by the order: nearest rank */
    for (i = 0; i < 100; i++) {
        v[i] = (double) (100 - i);
    }

    assert_true(rc_percentile(v, 100, 50) == 50);
    assert_true(rc_percentile(v, 100, 95) == 95);
    assert_true(rc_percentile(v, 100, 99) == 99);
    assert_true(rc_percentile(v, 100, 100) == 100);
    assert_true(rc_percentile(v, 100, 0) == 1);

    /* 5 values: p50 the 3rd, p95 and p99 the 5th */
    double  w[5] = { 30, 10, 50, 20, 40 };

    assert_true(rc_percentile(w, 5, 50) == 30);
    assert_true(rc_percentile(w, 5, 95) == 50);
    assert_true(rc_percentile(w, 5, 99) == 50);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_wav_file),
        cmocka_unit_test(test_wav_stream),
        cmocka_unit_test(test_wav_refused),
        cmocka_unit_test(test_wav_roundtrip),
        cmocka_unit_test(test_wav_mono),
        cmocka_unit_test(test_level),
        cmocka_unit_test(test_percentile),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
