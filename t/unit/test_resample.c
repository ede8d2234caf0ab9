
/*
 * Unit tests for the PCM16 resampler (cmocka): a tone keeps its frequency
 * and level across rates, chunked input converts as one stream.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "ngx_http_rtagent_resample.h"


#define TEST_PI     3.14159265358979323846
#define TEST_TONE   440.0
#define TEST_AMP    8000.0
#define TEST_IN     22050


static void
tone(int16_t *p, size_t n, unsigned rate)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        p[i] = (int16_t) lrint(TEST_AMP * sin(2 * TEST_PI * TEST_TONE * i
                                              / rate));
    }
}


static double
rms(const int16_t *p, size_t n)
{
    size_t  i;
    double  s;

    s = 0;

    for (i = 0; i < n; i++) {
        s += (double) p[i] * p[i];
    }

    return sqrt(s / n);
}


/* the frequency from rising zero crossings over the middle of the signal */

static double
frequency(const int16_t *p, size_t n, unsigned rate)
{
    size_t  i, first, last, crossings;

    first = 0;
    last = 0;
    crossings = 0;

    for (i = n / 4; i < n - n / 4; i++) {
        if (p[i - 1] < 0 && p[i] >= 0) {
            if (crossings == 0) {
                first = i;
            }

            last = i;
            crossings++;
        }
    }

    if (crossings < 2) {
        return 0;
    }

    return (double) (crossings - 1) * rate / (double) (last - first);
}


static void
convert(unsigned out_rate, size_t chunk)
{
    long                          n;
    size_t                        in_n, out_n, max, off, step;
    int16_t                      *in, *out;
    ngx_http_rtagent_resample_t   rs;

    in_n = TEST_IN;                  /* one second */
    in = malloc(in_n * sizeof(int16_t));
    assert_non_null(in);
    tone(in, in_n, TEST_IN);

    assert_int_equal(ngx_http_rtagent_resample_init(&rs, TEST_IN, out_rate,
                                                    5), 0);

    max = ngx_http_rtagent_resample_out_max(&rs, in_n) + in_n / chunk * 64;
    out = malloc(max * sizeof(int16_t));
    assert_non_null(out);

    out_n = 0;

    for (off = 0; off < in_n; off += step) {
        step = in_n - off < chunk ? in_n - off : chunk;
        n = ngx_http_rtagent_resample_run(&rs, in + off, step, out + out_n,
                                          max - out_n);
        assert_true(n >= 0);
        out_n += (size_t) n;
    }

    /* all but the filter's delay comes out */
    assert_true(out_n > out_rate * 95 / 100);
    assert_true(out_n <= out_rate);

    assert_true(fabs(frequency(out, out_n, out_rate) - TEST_TONE) < 2.0);
    assert_true(fabs(rms(out + out_n / 4, out_n / 2)
                     - rms(in + in_n / 4, in_n / 2)) < TEST_AMP * 0.02);

    ngx_http_rtagent_resample_free(&rs);
    free(in);
    free(out);
}


static void
test_down_16k(void **state)
{
    convert(16000, TEST_IN);
}


static void
test_up_24k(void **state)
{
    convert(24000, TEST_IN);
}


/* 20 ms chunks, as TTS audio arrives: the same tone, no clicks */

static void
test_chunked(void **state)
{
    convert(16000, 441);
    convert(24000, 441);
}


static void
test_same_rate(void **state)
{
    int16_t                       in[100], out[200];
    ngx_http_rtagent_resample_t   rs;

    tone(in, 100, 16000);

    assert_int_equal(ngx_http_rtagent_resample_init(&rs, 16000, 16000, 5), 0);
    assert_null(rs.state);
    assert_int_equal(ngx_http_rtagent_resample_run(&rs, in, 100, out, 200),
                     100);
    assert_memory_equal(in, out, sizeof(in));
    assert_int_equal(ngx_http_rtagent_resample_run(&rs, in, 100, out, 50),
                     -1);
    ngx_http_rtagent_resample_free(&rs);
}


static void
test_bad_rates(void **state)
{
    ngx_http_rtagent_resample_t  rs;

    assert_int_equal(ngx_http_rtagent_resample_init(&rs, 0, 16000, 5), -1);
    assert_int_equal(ngx_http_rtagent_resample_init(&rs, 16000, 500000, 5),
                     -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_down_16k),
        cmocka_unit_test(test_up_24k),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_same_rate),
        cmocka_unit_test(test_bad_rates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
