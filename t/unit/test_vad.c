
/*
 * Unit tests for the energy endpointer (cmocka).  All audio is made here:
 * sines, square waves, digital silence and low noise.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "ngx_http_rtagent_vad.h"


#define RATE_16K      16000
#define RATE_24K      24000
#define FRAME_16K     320         /* samples in 20 ms */
#define FRAME_24K     480
#define MAX_SAMPLES   4800

#define LOUD          8000        /* about -15 dBFS as a sine */


typedef ngx_http_rtagent_vad_event_e  event_e;


static void
put16(uint8_t *p, int v)
{
    p[0] = (uint8_t) (v & 0xff);
    p[1] = (uint8_t) ((v >> 8) & 0xff);
}


static int
clamp16(double x)
{
    x = floor(x + 0.5);

    if (x > 32767) {
        return 32767;
    }

    if (x < -32768) {
        return -32768;
    }

    return (int) x;
}


static void
gen_sine(uint8_t *p, size_t n, double amp, double freq, double rate)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        put16(p + 2 * i, clamp16(amp * sin(2 * M_PI * freq * i / rate)));
    }
}


/* +a, -a, +a, ...: mean square is exactly a * a */

static void
gen_square(uint8_t *p, size_t n, int a)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        put16(p + 2 * i, (i & 1) ? -a : a);
    }
}


static void
gen_const(uint8_t *p, size_t n, int v)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        put16(p + 2 * i, v);
    }
}


/* uniform integers in [-amp, amp] from a fixed LCG */

static void
gen_noise(uint8_t *p, size_t n, int amp, uint32_t *seed)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        put16(p + 2 * i, (int) ((*seed >> 8) % (2 * amp + 1)) - amp);
    }
}


static void
vad_setup(ngx_http_rtagent_vad_t *vad, int dbfs, unsigned start,
    unsigned end, unsigned max)
{
    ngx_http_rtagent_vad_conf_t  conf;

    conf.threshold_dbfs = dbfs;
    conf.start_frames = start;
    conf.end_frames = end;
    conf.max_frames = max;

    ngx_http_rtagent_vad_init(vad, &conf);
}


/*
 * feeds one 20 ms 16 kHz frame per character of script and returns the
 * events as a string: v = voiced sine, . = digital silence, n = low
 * noise (about -61 dBFS), s = loud frame flagged silent; events are
 * S = SILENCE, O = ONSET, P = SPEECH, E = END
 */

static void
run(ngx_http_rtagent_vad_t *vad, const char *script, char *events)
{
    uint8_t   frame[FRAME_16K * 2];
    uint32_t  seed;
    int       silent;
    size_t    i;
    event_e   ev;

    seed = 7;

    for (i = 0; script[i]; i++) {
        silent = 0;

        switch (script[i]) {

        case 'v':
            gen_sine(frame, FRAME_16K, LOUD, 440, RATE_16K);
            break;

        case 'n':
            gen_noise(frame, FRAME_16K, 50, &seed);
            break;

        case 's':
            gen_sine(frame, FRAME_16K, LOUD, 440, RATE_16K);
            silent = 1;
            break;

        default:
            memset(frame, 0, sizeof(frame));
            break;
        }

        ev = ngx_http_rtagent_vad_feed(vad, frame, sizeof(frame), silent);

        assert_int_equal(ngx_http_rtagent_vad_voiced(vad),
                         script[i] == 'v');

        events[i] = "SOPE"[ev];
    }

    events[i] = '\0';
}


static void
expect_run(ngx_http_rtagent_vad_t *vad, const char *script,
    const char *expected)
{
    char  events[4096];

    assert_true(strlen(script) < sizeof(events));
    assert_int_equal(strlen(script), strlen(expected));

    run(vad, script, events);
    assert_string_equal(events, expected);
}


/* a string of n copies of c, for long scripts */

static char *
rep(char *p, int c, size_t n)
{
    memset(p, c, n);
    p[n] = '\0';

    return p + n;
}


static void
test_energy_bytewise(void **state)
{
    uint8_t   raw[16];
    uint8_t  *p;
    uint64_t  e;

    /* odd offset: the reader must not assume int16_t alignment */
    p = raw + 1;
    put16(p, 1);
    put16(p + 2, -1);
    put16(p + 4, 32767);
    put16(p + 6, -32768);
    p[8] = 0xff;

    e = 1 + 1 + 32767ull * 32767 + 32768ull * 32768;

    assert_int_equal(ngx_http_rtagent_pcm_energy(p, 8), e);

    /* a trailing odd byte is ignored */
    assert_int_equal(ngx_http_rtagent_pcm_energy(p, 9), e);

    assert_int_equal(ngx_http_rtagent_pcm_energy(p, 0), 0);
    assert_int_equal(ngx_http_rtagent_pcm_energy(p, 1), 0);
    assert_int_equal(ngx_http_rtagent_pcm_energy(NULL, 0), 0);

    /* byte order: 0x0100 is 256, not 1 */
    p[0] = 0x00;
    p[1] = 0x01;
    assert_int_equal(ngx_http_rtagent_pcm_energy(p, 2), 65536);

    /* 0x8000 is -32768 and 0xffff is -1 */
    p[0] = 0x00;
    p[1] = 0x80;
    p[2] = 0xff;
    p[3] = 0xff;
    assert_int_equal(ngx_http_rtagent_pcm_energy(p, 4), 1073741825ull);
}


static void
test_dbfs(void **state)
{
    uint8_t  pcm[MAX_SAMPLES * 2];

    /* full-scale sine: RMS is 1/sqrt(2) of full scale, -3.01 dBFS */
    gen_sine(pcm, FRAME_16K, 32767, 1000, RATE_16K);
    assert_int_equal(ngx_http_rtagent_pcm_dbfs(pcm, FRAME_16K * 2), -3);

    gen_sine(pcm, FRAME_24K, 32767, 1000, RATE_24K);
    assert_int_equal(ngx_http_rtagent_pcm_dbfs(pcm, FRAME_24K * 2), -3);

    /* 3277 is 1/10 of full scale: -20 dB, then -3 for the sine */
    gen_sine(pcm, FRAME_16K, 3277, 440, RATE_16K);
    assert_int_equal(ngx_http_rtagent_pcm_dbfs(pcm, FRAME_16K * 2), -23);

    gen_sine(pcm, FRAME_24K, 3277, 440, RATE_24K);
    assert_int_equal(ngx_http_rtagent_pcm_dbfs(pcm, FRAME_24K * 2), -23);

    /* full-scale square: -32768 every sample is exactly 0 dBFS */
    gen_const(pcm, FRAME_16K, -32768);
    assert_int_equal(ngx_http_rtagent_pcm_dbfs(pcm, FRAME_16K * 2), 0);

    gen_square(pcm, FRAME_16K, 32767);
    assert_int_equal(ngx_http_rtagent_pcm_dbfs(pcm, FRAME_16K * 2), 0);

    /* 1/100 of full scale as a square: -40 */
    gen_square(pcm, FRAME_16K, 328);
    assert_int_equal(ngx_http_rtagent_pcm_dbfs(pcm, FRAME_16K * 2), -40);

    /* digital silence and no samples at all */
    memset(pcm, 0, sizeof(pcm));
    assert_int_equal(ngx_http_rtagent_pcm_dbfs(pcm, FRAME_16K * 2), -120);
    assert_int_equal(ngx_http_rtagent_pcm_dbfs(pcm, 0), -120);
    assert_int_equal(ngx_http_rtagent_pcm_dbfs(pcm, 1), -120);

    /* one LSB in 320 samples: 10 log10(1 / 320 / 2^30) = -115.4 */
    put16(pcm, 1);
    assert_int_equal(ngx_http_rtagent_pcm_dbfs(pcm, FRAME_16K * 2), -115);

    /* one LSB in 4800 samples is -127: clamped */
    assert_int_equal(ngx_http_rtagent_pcm_dbfs(pcm, MAX_SAMPLES * 2), -120);
}


static void
test_threshold_boundary(void **state)
{
    size_t                  n, i;
    uint8_t                 pcm[FRAME_24K * 2];
    ngx_http_rtagent_vad_t  vad;

    static const size_t  sizes[] = { FRAME_16K, FRAME_24K, 1, 7, 101 };

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        n = sizes[i];

        /* -40 dBFS is an RMS of 327.68 */
        vad_setup(&vad, -40, 1, 1, 0);

        gen_square(pcm, n, 328);
        ngx_http_rtagent_vad_feed(&vad, pcm, n * 2, 0);
        assert_true(ngx_http_rtagent_vad_voiced(&vad));

        gen_square(pcm, n, 327);
        ngx_http_rtagent_vad_feed(&vad, pcm, n * 2, 0);
        assert_false(ngx_http_rtagent_vad_voiced(&vad));

        /* -20 dBFS is an RMS of 3276.8 */
        vad_setup(&vad, -20, 1, 1, 0);

        gen_square(pcm, n, 3277);
        ngx_http_rtagent_vad_feed(&vad, pcm, n * 2, 0);
        assert_true(ngx_http_rtagent_vad_voiced(&vad));

        gen_square(pcm, n, 3276);
        ngx_http_rtagent_vad_feed(&vad, pcm, n * 2, 0);
        assert_false(ngx_http_rtagent_vad_voiced(&vad));

        /* 0 dBFS: only -32768 throughout reaches it, and it is ">=" */
        vad_setup(&vad, 0, 1, 1, 0);

        gen_const(pcm, n, -32768);
        ngx_http_rtagent_vad_feed(&vad, pcm, n * 2, 0);
        assert_true(ngx_http_rtagent_vad_voiced(&vad));

        gen_square(pcm, n, 32767);
        ngx_http_rtagent_vad_feed(&vad, pcm, n * 2, 0);
        assert_false(ngx_http_rtagent_vad_voiced(&vad));
    }

    /* a sine at -30 dBFS RMS has a peak of 1465.4 */
    vad_setup(&vad, -30, 1, 1, 0);

    gen_sine(pcm, FRAME_16K, 1480, 500, RATE_16K);
    ngx_http_rtagent_vad_feed(&vad, pcm, FRAME_16K * 2, 0);
    assert_true(ngx_http_rtagent_vad_voiced(&vad));

    gen_sine(pcm, FRAME_16K, 1450, 500, RATE_16K);
    ngx_http_rtagent_vad_feed(&vad, pcm, FRAME_16K * 2, 0);
    assert_false(ngx_http_rtagent_vad_voiced(&vad));
}


/*
 * the integer decision against a floating-point reference, for many
 * levels, thresholds and frame lengths, including frames whose mean
 * square is not an integer
 */

static void
test_threshold_sweep(void **state)
{
    int                     d, a, voiced;
    size_t                  n, i;
    double                  ms, ref;
    uint8_t                 pcm[FRAME_24K * 2];
    uint64_t                e;
    ngx_http_rtagent_vad_t  vad;

    static const size_t  sizes[] = { 1, 2, 3, 5, 17, 160, 320, 333, 480 };

    for (d = -100; d <= 0; d += 5) {
        vad_setup(&vad, d, 1, 1, 0);
        ref = 1073741824.0 * pow(10.0, d / 10.0);

        for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            n = sizes[i];

            for (a = 0; a <= 32767; a = a < 64 ? a + 1 : a * 9 / 8) {
                /* square at a, with one sample at a - 1 */
                gen_square(pcm, n, a);
                put16(pcm, a > 0 ? a - 1 : 0);

                e = ngx_http_rtagent_pcm_energy(pcm, n * 2);
                ms = (double) e / (double) n;

                ngx_http_rtagent_vad_feed(&vad, pcm, n * 2, 0);
                voiced = ngx_http_rtagent_vad_voiced(&vad);

                if (voiced != (ms >= ref)) {
                    fail_msg("d %d n %zu a %d ms %f ref %f voiced %d",
                             d, n, a, ms, ref, voiced);
                }
            }
        }
    }
}


/*
 * makes n samples whose energy is exactly target: greedy squares on a
 * silent frame, each leaving a remainder below 2 * v + 1
 */

static void
gen_energy(uint8_t *p, size_t n, uint64_t target)
{
    size_t    i;
    uint64_t  v;

    memset(p, 0, n * 2);

    for (i = 0; i < n && target > 0; i++) {
        v = (uint64_t) sqrt((double) target);

        while (v * v > target) {
            v--;
        }

        while ((v + 1) * (v + 1) <= target) {
            v++;
        }

        if (v > 32767) {
            v = 32767;
        }

        put16(p + 2 * i, (int) v);
        target -= v * v;
    }

    assert_int_equal(target, 0);
}


/*
 * with 65536 samples the threshold is met at energy ceil(x), where
 * x = 65536 * 2^30 * 10^(d / 10) is never an integer for d < 0: one
 * unit of energy below it must be unvoiced, the exact value voiced
 */

static void
test_threshold_exact(void **state)
{
    int                     d;
    size_t                  n;
    double                  x;
    uint8_t                *pcm;
    uint64_t                e;
    ngx_http_rtagent_vad_t  vad;

    n = 65536;
    pcm = malloc(n * 2);
    assert_non_null(pcm);

    for (d = -90; d <= -10; d += 10) {
        vad_setup(&vad, d, 1, 1, 0);

        x = ldexp(pow(10.0, d / 10.0), 46);
        e = (uint64_t) ceil(x);

        gen_energy(pcm, n, e - 1);
        assert_int_equal(ngx_http_rtagent_pcm_energy(pcm, n * 2), e - 1);
        ngx_http_rtagent_vad_feed(&vad, pcm, n * 2, 0);
        assert_false(ngx_http_rtagent_vad_voiced(&vad));

        gen_energy(pcm, n, e);
        assert_int_equal(ngx_http_rtagent_pcm_energy(pcm, n * 2), e);
        ngx_http_rtagent_vad_feed(&vad, pcm, n * 2, 0);
        assert_true(ngx_http_rtagent_vad_voiced(&vad));
    }

    free(pcm);
}


static void
test_odd_length(void **state)
{
    uint8_t                 *pcm;
    event_e                  ev;
    ngx_http_rtagent_vad_t   vad;

    /* exact-size heap blocks, so that ASan sees any read past len */
    pcm = malloc(641);
    assert_non_null(pcm);

    gen_square(pcm, FRAME_16K, 328);
    pcm[640] = 0x7f;

    assert_int_equal(ngx_http_rtagent_pcm_energy(pcm, 641),
                     ngx_http_rtagent_pcm_energy(pcm, 640));
    assert_int_equal(ngx_http_rtagent_pcm_dbfs(pcm, 641), -40);

    vad_setup(&vad, -40, 1, 1, 0);
    ev = ngx_http_rtagent_vad_feed(&vad, pcm, 641, 0);
    assert_int_equal(ev, NGX_HTTP_RTAGENT_VAD_ONSET);

    free(pcm);

    /* three bytes: one sample, then a loud byte that must be ignored */
    pcm = malloc(3);
    assert_non_null(pcm);
    put16(pcm, 10);
    pcm[2] = 0x80;

    assert_int_equal(ngx_http_rtagent_pcm_energy(pcm, 3), 100);

    vad_setup(&vad, -40, 1, 1, 0);
    ngx_http_rtagent_vad_feed(&vad, pcm, 3, 0);
    assert_false(ngx_http_rtagent_vad_voiced(&vad));

    free(pcm);

    /* a lone byte is no sample: unvoiced, whatever its value */
    pcm = malloc(1);
    assert_non_null(pcm);
    pcm[0] = 0x80;

    vad_setup(&vad, -120, 1, 1, 0);
    ev = ngx_http_rtagent_vad_feed(&vad, pcm, 1, 0);
    assert_int_equal(ev, NGX_HTTP_RTAGENT_VAD_SILENCE);
    assert_false(ngx_http_rtagent_vad_voiced(&vad));

    free(pcm);
}


static void
test_low_noise(void **state)
{
    size_t                  i;
    uint8_t                 pcm[FRAME_24K * 2];
    uint32_t                seed;
    event_e                 ev;
    ngx_http_rtagent_vad_t  vad;

    seed = 1;

    /* noise of +-50 is about -61 dBFS: never speech at -40 */
    vad_setup(&vad, -40, 2, 30, 750);

    for (i = 0; i < 1000; i++) {
        gen_noise(pcm, FRAME_24K, 50, &seed);
        assert_true(ngx_http_rtagent_pcm_dbfs(pcm, sizeof(pcm)) < -55);

        ev = ngx_http_rtagent_vad_feed(&vad, pcm, sizeof(pcm), 0);
        assert_int_equal(ev, NGX_HTTP_RTAGENT_VAD_SILENCE);
        assert_false(ngx_http_rtagent_vad_voiced(&vad));
    }

    /* noise of +-3000 is about -24 dBFS: speech */
    gen_noise(pcm, FRAME_24K, 3000, &seed);
    ev = ngx_http_rtagent_vad_feed(&vad, pcm, sizeof(pcm), 0);
    assert_int_equal(ev, NGX_HTTP_RTAGENT_VAD_SILENCE);
    assert_true(ngx_http_rtagent_vad_voiced(&vad));

    gen_noise(pcm, FRAME_24K, 3000, &seed);
    ev = ngx_http_rtagent_vad_feed(&vad, pcm, sizeof(pcm), 0);
    assert_int_equal(ev, NGX_HTTP_RTAGENT_VAD_ONSET);
}


static void
test_onset_exact(void **state)
{
    unsigned                start, i;
    event_e                 ev;
    uint8_t                 pcm[FRAME_16K * 2];
    ngx_http_rtagent_vad_t  vad;

    gen_sine(pcm, FRAME_16K, LOUD, 300, RATE_16K);

    for (start = 1; start <= 10; start++) {
        vad_setup(&vad, -40, start, 30, 0);

        for (i = 1; i < start; i++) {
            ev = ngx_http_rtagent_vad_feed(&vad, pcm, sizeof(pcm), 0);
            assert_int_equal(ev, NGX_HTTP_RTAGENT_VAD_SILENCE);
            assert_true(ngx_http_rtagent_vad_voiced(&vad));
        }

        ev = ngx_http_rtagent_vad_feed(&vad, pcm, sizeof(pcm), 0);
        assert_int_equal(ev, NGX_HTTP_RTAGENT_VAD_ONSET);

        /* the utterance began start - 1 frames before the onset */
        assert_int_equal(vad.frames, start);

        ev = ngx_http_rtagent_vad_feed(&vad, pcm, sizeof(pcm), 0);
        assert_int_equal(ev, NGX_HTTP_RTAGENT_VAD_SPEECH);
        assert_int_equal(vad.frames, start + 1);
    }

    vad_setup(&vad, -40, 3, 30, 0);
    expect_run(&vad, "..vvv", "SSSSO");
}


static void
test_onset_interrupted(void **state)
{
    ngx_http_rtagent_vad_t  vad;

    vad_setup(&vad, -40, 3, 5, 0);
    expect_run(&vad, "vv.vvv", "SSSSSO");

    /* noise and the silent flag interrupt too */
    vad_setup(&vad, -40, 3, 5, 0);
    expect_run(&vad, "vvnvvsvvv", "SSSSSSSSO");

    /* every run one short of start_frames: never an onset */
    vad_setup(&vad, -40, 4, 5, 0);
    expect_run(&vad, "vvv.vvv.vvv.vvv.", "SSSSSSSSSSSSSSSS");
}


static void
test_pause_shorter(void **state)
{
    ngx_http_rtagent_vad_t  vad;

    /* pauses of end_frames - 1 never end, a voiced frame resets the run */
    vad_setup(&vad, -40, 2, 5, 0);
    expect_run(&vad, "vv....v....v.n.sv....vv",
                     "SOPPPPPPPPPPPPPPPPPPPPP");
    assert_int_equal(vad.unvoiced, 0);

    expect_run(&vad, ".....", "PPPPE");
    assert_int_equal(ngx_http_rtagent_vad_trailing(&vad), 5);
}


static void
test_end_exact(void **state)
{
    char                    script[64], expected[64];
    unsigned                end;
    ngx_http_rtagent_vad_t  vad;

    for (end = 1; end <= 30; end++) {
        vad_setup(&vad, -40, 2, end, 0);
        expect_run(&vad, "vvvv", "SOPP");

        /* end - 1 unvoiced frames: still speech; the end-th: END */
        rep(script, '.', end);
        rep(rep(expected, 'P', end - 1), 'E', 1);
        expect_run(&vad, script, expected);

        assert_int_equal(ngx_http_rtagent_vad_trailing(&vad), end);
        assert_false(vad.cut);
        assert_int_equal(vad.frames, 4 + end);

        /* back to silence */
        expect_run(&vad, "..", "SS");
    }

    /* the usual 600 ms */
    vad_setup(&vad, -40, 2, 30, 750);
    expect_run(&vad, "vv", "SO");

    rep(script, '.', 30);
    rep(rep(expected, 'P', 29), 'E', 1);
    expect_run(&vad, script, expected);
    assert_int_equal(ngx_http_rtagent_vad_trailing(&vad), 30);
}


static void
test_max_frames(void **state)
{
    char                    script[1024], expected[1024];
    char                   *s, *e;
    ngx_http_rtagent_vad_t  vad;

    /* cut on the frame that makes the utterance 10 frames long */
    vad_setup(&vad, -40, 2, 5, 10);
    expect_run(&vad, "vvvvvvvvvv", "SOPPPPPPPE");
    assert_true(vad.cut);
    assert_int_equal(vad.frames, 10);
    assert_int_equal(ngx_http_rtagent_vad_trailing(&vad), 0);

    /* continuing speech needs a fresh onset, and is cut again */
    expect_run(&vad, "vvvvvvvvvvvv", "SOPPPPPPPESO");
    assert_false(vad.cut);

    /* a cut during a pause reports the pause so far as trailing */
    vad_setup(&vad, -40, 2, 5, 10);
    expect_run(&vad, "vvvvvvv...", "SOPPPPPPPE");
    assert_true(vad.cut);
    assert_int_equal(ngx_http_rtagent_vad_trailing(&vad), 3);

    /* silence END and the cut on the same frame: a silence END */
    vad_setup(&vad, -40, 2, 3, 10);
    expect_run(&vad, "vvvvvvv...", "SOPPPPPPPE");
    assert_false(vad.cut);
    assert_int_equal(ngx_http_rtagent_vad_trailing(&vad), 3);

    /* ONSET wins over a max_frames not above start_frames */
    vad_setup(&vad, -40, 3, 5, 2);
    expect_run(&vad, "vvvvvvvv", "SSOESSOE");
    assert_true(vad.cut);
    assert_int_equal(vad.frames, 4);

    /* 0: no limit */
    vad_setup(&vad, -40, 2, 5, 0);
    s = rep(script, 'v', 1000);
    e = rep(expected, 'S', 1);
    e = rep(e, 'O', 1);
    rep(e, 'P', 998);
    assert_int_equal(s - script, 1000);
    expect_run(&vad, script, expected);
    assert_int_equal(vad.frames, 1000);
}


static void
test_silent_flag(void **state)
{
    uint8_t                 pcm[FRAME_16K * 2];
    event_e                 ev;
    ngx_http_rtagent_vad_t  vad;

    gen_sine(pcm, FRAME_16K, 30000, 440, RATE_16K);

    vad_setup(&vad, -40, 1, 2, 0);

    /* a loud frame flagged silent is unvoiced */
    ev = ngx_http_rtagent_vad_feed(&vad, pcm, sizeof(pcm), 1);
    assert_int_equal(ev, NGX_HTTP_RTAGENT_VAD_SILENCE);
    assert_false(ngx_http_rtagent_vad_voiced(&vad));

    ev = ngx_http_rtagent_vad_feed(&vad, pcm, sizeof(pcm), 0);
    assert_int_equal(ev, NGX_HTTP_RTAGENT_VAD_ONSET);
    assert_true(ngx_http_rtagent_vad_voiced(&vad));

    /* the pcm is not read at all: NULL is fine */
    ev = ngx_http_rtagent_vad_feed(&vad, NULL, 640, 1);
    assert_int_equal(ev, NGX_HTTP_RTAGENT_VAD_SPEECH);
    assert_false(ngx_http_rtagent_vad_voiced(&vad));

    ev = ngx_http_rtagent_vad_feed(&vad, pcm, sizeof(pcm), 1);
    assert_int_equal(ev, NGX_HTTP_RTAGENT_VAD_END);
    assert_int_equal(ngx_http_rtagent_vad_trailing(&vad), 2);

    /* and it counts like silence in scripts */
    vad_setup(&vad, -40, 2, 3, 0);
    expect_run(&vad, "vvssvsss", "SOPPPPPE");
}


static void
test_empty_frame(void **state)
{
    event_e                 ev;
    ngx_http_rtagent_vad_t  vad;

    vad_setup(&vad, -120, 1, 1, 0);

    ev = ngx_http_rtagent_vad_feed(&vad, NULL, 0, 0);
    assert_int_equal(ev, NGX_HTTP_RTAGENT_VAD_SILENCE);
    assert_false(ngx_http_rtagent_vad_voiced(&vad));

    expect_run(&vad, "v", "O");

    /* an empty frame is still a frame, and unvoiced */
    ev = ngx_http_rtagent_vad_feed(&vad, NULL, 0, 0);
    assert_int_equal(ev, NGX_HTTP_RTAGENT_VAD_END);
}


static void
test_reset(void **state)
{
    ngx_http_rtagent_vad_t  vad;

    vad_setup(&vad, -40, 2, 3, 10);

    /* mid-utterance: the next voiced frame needs a fresh onset */
    expect_run(&vad, "vvvv", "SOPP");
    ngx_http_rtagent_vad_reset(&vad);
    assert_false(ngx_http_rtagent_vad_voiced(&vad));
    assert_int_equal(vad.frames, 0);
    expect_run(&vad, "vv", "SO");

    /* mid-onset: the pending count is lost */
    vad_setup(&vad, -40, 3, 3, 10);
    expect_run(&vad, "vv", "SS");
    ngx_http_rtagent_vad_reset(&vad);
    expect_run(&vad, "vvv", "SSO");

    /* trailing is cleared; the configuration survives */
    expect_run(&vad, "...", "PPE");
    assert_int_equal(ngx_http_rtagent_vad_trailing(&vad), 3);
    ngx_http_rtagent_vad_reset(&vad);
    assert_int_equal(ngx_http_rtagent_vad_trailing(&vad), 0);
    assert_int_equal(vad.conf.start_frames, 3);
    assert_int_equal(vad.conf.end_frames, 3);
    assert_int_equal(vad.conf.max_frames, 10);
    expect_run(&vad, "vvvvvvvvvvvv", "SSOPPPPPPESS");
}


static void
test_two_utterances(void **state)
{
    ngx_http_rtagent_vad_t  vad;

    vad_setup(&vad, -40, 2, 4, 0);

    expect_run(&vad, "..nvvvv.vv....n.vvv..v....",
                     "SSSSOPPPPPPPPESSSOPPPPPPPE");
    assert_int_equal(vad.frames, 10);
    assert_int_equal(ngx_http_rtagent_vad_trailing(&vad), 4);

    /* right after END: an immediate restart */
    expect_run(&vad, "vv....vv....", "SOPPPESOPPPE");
}


static void
test_conf_edges(void **state)
{
    uint8_t                 pcm[FRAME_16K * 2];
    ngx_http_rtagent_vad_t  vad;

    /* 0 frames act as 1 */
    vad_setup(&vad, -40, 0, 0, 0);
    assert_int_equal(vad.conf.start_frames, 1);
    assert_int_equal(vad.conf.end_frames, 1);
    expect_run(&vad, ".vv.v.", "SOPEOE");

    /* above 0 dBFS nothing is voiced, not even full scale */
    vad_setup(&vad, 1, 1, 1, 0);
    gen_const(pcm, FRAME_16K, -32768);
    ngx_http_rtagent_vad_feed(&vad, pcm, sizeof(pcm), 0);
    assert_false(ngx_http_rtagent_vad_voiced(&vad));

    vad_setup(&vad, 1000, 1, 1, 0);
    ngx_http_rtagent_vad_feed(&vad, pcm, sizeof(pcm), 0);
    assert_false(ngx_http_rtagent_vad_voiced(&vad));

    /* below -120 acts as -120: one LSB in a frame (-115) is voiced */
    memset(pcm, 0, sizeof(pcm));
    put16(pcm + 100, -1);

    vad_setup(&vad, -100, 1, 1, 0);
    ngx_http_rtagent_vad_feed(&vad, pcm, sizeof(pcm), 0);
    assert_false(ngx_http_rtagent_vad_voiced(&vad));

    vad_setup(&vad, -1000000, 1, 1, 0);
    assert_int_equal(vad.conf.threshold_dbfs, -120);
    ngx_http_rtagent_vad_feed(&vad, pcm, sizeof(pcm), 0);
    assert_true(ngx_http_rtagent_vad_voiced(&vad));

    /* but digital silence never is */
    memset(pcm, 0, sizeof(pcm));
    ngx_http_rtagent_vad_feed(&vad, pcm, sizeof(pcm), 0);
    assert_false(ngx_http_rtagent_vad_voiced(&vad));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_energy_bytewise),
        cmocka_unit_test(test_dbfs),
        cmocka_unit_test(test_threshold_boundary),
        cmocka_unit_test(test_threshold_sweep),
        cmocka_unit_test(test_threshold_exact),
        cmocka_unit_test(test_odd_length),
        cmocka_unit_test(test_low_noise),
        cmocka_unit_test(test_onset_exact),
        cmocka_unit_test(test_onset_interrupted),
        cmocka_unit_test(test_pause_shorter),
        cmocka_unit_test(test_end_exact),
        cmocka_unit_test(test_max_frames),
        cmocka_unit_test(test_silent_flag),
        cmocka_unit_test(test_empty_frame),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_two_utterances),
        cmocka_unit_test(test_conf_edges),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
