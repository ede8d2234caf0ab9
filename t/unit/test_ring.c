
/*
 * Unit tests for the audio byte ring (cmocka).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ngx_http_rtagent_ring.h"


#define TEST_SIZE  13
#define TEST_MAX   64


/* fills p with bytes that differ from any neighbour and from other seeds */

static void
fill(uint8_t *p, size_t n, unsigned seed)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        p[i] = (uint8_t) (seed * 31 + i * 7 + 1);
    }
}


/* puts the ring's head at off with the ring empty */

static void
ring_at(ngx_http_rtagent_ring_t *r, uint8_t *buf, size_t size, size_t off)
{
    uint8_t  junk[TEST_MAX];

    ngx_http_rtagent_ring_init(r, buf, size);
    memset(buf, 0xee, size);
    memset(junk, 0xdd, sizeof(junk));

    assert_int_equal(ngx_http_rtagent_ring_write(r, junk, off), off);
    assert_int_equal(ngx_http_rtagent_ring_drop(r, off), off);
    assert_int_equal(r->head, off % (size ? size : 1));
    assert_int_equal(ngx_http_rtagent_ring_len(r), 0);
}


static void
test_init_empty(void **state)
{
    uint8_t                  buf[TEST_SIZE], out[TEST_SIZE];
    ngx_http_rtagent_ring_t  r;

    ngx_http_rtagent_ring_init(&r, buf, sizeof(buf));

    assert_ptr_equal(r.buf, buf);
    assert_int_equal(r.size, TEST_SIZE);
    assert_int_equal(ngx_http_rtagent_ring_len(&r), 0);
    assert_int_equal(ngx_http_rtagent_ring_free(&r), TEST_SIZE);
    assert_int_equal(ngx_http_rtagent_ring_read(&r, out, sizeof(out)), 0);
    assert_int_equal(ngx_http_rtagent_ring_peek(&r, out, sizeof(out)), 0);
    assert_int_equal(ngx_http_rtagent_ring_drop(&r, 5), 0);
    assert_int_equal(r.head, 0);
}


static void
test_full_empty(void **state)
{
    uint8_t                  buf[TEST_SIZE], in[TEST_MAX], out[TEST_MAX];
    size_t                   off;
    ngx_http_rtagent_ring_t  r;

    for (off = 0; off < TEST_SIZE; off++) {
        ring_at(&r, buf, TEST_SIZE, off);
        fill(in, TEST_SIZE, (unsigned) off);

        assert_int_equal(ngx_http_rtagent_ring_write(&r, in, TEST_SIZE),
                         TEST_SIZE);
        assert_int_equal(ngx_http_rtagent_ring_len(&r), TEST_SIZE);
        assert_int_equal(ngx_http_rtagent_ring_free(&r), 0);

        /* full: nothing more goes in and nothing is overwritten */
        assert_int_equal(ngx_http_rtagent_ring_write(&r, in, 1), 0);
        assert_int_equal(ngx_http_rtagent_ring_write(&r, in, TEST_SIZE), 0);

        assert_int_equal(ngx_http_rtagent_ring_read(&r, out, TEST_SIZE + 5),
                         TEST_SIZE);
        assert_memory_equal(out, in, TEST_SIZE);

        /* empty again, and the head went once around */
        assert_int_equal(ngx_http_rtagent_ring_len(&r), 0);
        assert_int_equal(ngx_http_rtagent_ring_free(&r), TEST_SIZE);
        assert_int_equal(r.head, off);
        assert_int_equal(ngx_http_rtagent_ring_read(&r, out, 1), 0);
    }
}


static void
test_partial_write(void **state)
{
    uint8_t                  buf[TEST_SIZE], in[TEST_MAX], out[TEST_MAX];
    size_t                   off, pre, n;
    ngx_http_rtagent_ring_t  r;

    for (off = 0; off < TEST_SIZE; off++) {
        for (pre = 0; pre <= TEST_SIZE; pre++) {
            ring_at(&r, buf, TEST_SIZE, off);

            fill(in, pre, 1);
            assert_int_equal(ngx_http_rtagent_ring_write(&r, in, pre), pre);

            /* more than fits: exactly the free space is taken */
            fill(in + pre, TEST_SIZE + 3, 2);
            n = ngx_http_rtagent_ring_write(&r, in + pre, TEST_SIZE + 3);
            assert_int_equal(n, TEST_SIZE - pre);
            assert_int_equal(ngx_http_rtagent_ring_len(&r), TEST_SIZE);

            /* the accepted bytes are the first ones offered, in order */
            assert_int_equal(ngx_http_rtagent_ring_read(&r, out, TEST_MAX),
                             TEST_SIZE);
            assert_memory_equal(out, in, TEST_SIZE);
        }
    }
}


static void
test_wrap_every_offset(void **state)
{
    uint8_t                  buf[TEST_SIZE], in[TEST_MAX], out[TEST_MAX];
    size_t                   off, n, i;
    ngx_http_rtagent_ring_t  r;

    for (off = 0; off < TEST_SIZE; off++) {
        for (n = 1; n <= TEST_SIZE; n++) {
            ring_at(&r, buf, TEST_SIZE, off);
            fill(in, n, (unsigned) (off * TEST_SIZE + n));

            assert_int_equal(ngx_http_rtagent_ring_write(&r, in, n), n);

            /* the bytes are stored physically from head on, wrapping */
            for (i = 0; i < n; i++) {
                assert_int_equal(buf[(off + i) % TEST_SIZE], in[i]);
            }

            memset(out, 0, sizeof(out));
            assert_int_equal(ngx_http_rtagent_ring_peek(&r, out, n), n);
            assert_memory_equal(out, in, n);

            memset(out, 0, sizeof(out));
            assert_int_equal(ngx_http_rtagent_ring_read(&r, out, n), n);
            assert_memory_equal(out, in, n);

            assert_int_equal(ngx_http_rtagent_ring_len(&r), 0);
            assert_int_equal(r.head, (off + n) % TEST_SIZE);
        }
    }
}


/* streams bytes through the ring in every pair of chunk sizes */

static void
test_wrap_chunks(void **state)
{
    uint8_t                  buf[TEST_SIZE], in[200], out[200];
    size_t                   off, wchunk, rchunk, wpos, rpos, n, k;
    ngx_http_rtagent_ring_t  r;

    fill(in, sizeof(in), 5);

    for (off = 0; off < TEST_SIZE; off++) {
        for (wchunk = 1; wchunk <= TEST_SIZE; wchunk++) {
            for (rchunk = 1; rchunk <= TEST_SIZE; rchunk++) {
                ring_at(&r, buf, TEST_SIZE, off);
                memset(out, 0, sizeof(out));
                wpos = 0;
                rpos = 0;

                while (rpos < sizeof(in)) {
                    n = sizeof(in) - wpos;
                    if (n > wchunk) {
                        n = wchunk;
                    }

                    wpos += ngx_http_rtagent_ring_write(&r, in + wpos, n);

                    k = ngx_http_rtagent_ring_read(&r, out + rpos, rchunk);
                    rpos += k;

                    assert_int_equal(ngx_http_rtagent_ring_len(&r),
                                     wpos - rpos);
                }

                assert_int_equal(wpos, sizeof(in));
                assert_memory_equal(out, in, sizeof(in));
            }
        }
    }
}


static void
test_peek_vs_read(void **state)
{
    uint8_t                  buf[TEST_SIZE], in[TEST_SIZE], out[TEST_MAX];
    size_t                   off;
    ngx_http_rtagent_ring_t  r;

    for (off = 0; off < TEST_SIZE; off++) {
        ring_at(&r, buf, TEST_SIZE, off);
        fill(in, 10, 9);
        assert_int_equal(ngx_http_rtagent_ring_write(&r, in, 10), 10);

        /* peek twice: same bytes, nothing consumed */
        assert_int_equal(ngx_http_rtagent_ring_peek(&r, out, 4), 4);
        assert_memory_equal(out, in, 4);
        assert_int_equal(ngx_http_rtagent_ring_peek(&r, out, 4), 4);
        assert_memory_equal(out, in, 4);
        assert_int_equal(ngx_http_rtagent_ring_len(&r), 10);
        assert_int_equal(r.head, off);

        /* peek more than stored: clamped */
        assert_int_equal(ngx_http_rtagent_ring_peek(&r, out, TEST_MAX), 10);
        assert_memory_equal(out, in, 10);

        /* read consumes: the next peek sees the following bytes */
        assert_int_equal(ngx_http_rtagent_ring_read(&r, out, 4), 4);
        assert_memory_equal(out, in, 4);
        assert_int_equal(ngx_http_rtagent_ring_len(&r), 6);
        assert_int_equal(ngx_http_rtagent_ring_peek(&r, out, 3), 3);
        assert_memory_equal(out, in + 4, 3);

        /* read more than stored: clamped */
        assert_int_equal(ngx_http_rtagent_ring_read(&r, out, TEST_MAX), 6);
        assert_memory_equal(out, in + 4, 6);
        assert_int_equal(ngx_http_rtagent_ring_len(&r), 0);
    }
}


static void
test_drop(void **state)
{
    uint8_t                  buf[TEST_SIZE], in[TEST_MAX], out[TEST_MAX];
    size_t                   off;
    ngx_http_rtagent_ring_t  r;

    for (off = 0; off < TEST_SIZE; off++) {
        ring_at(&r, buf, TEST_SIZE, off);
        fill(in, 11, 3);
        assert_int_equal(ngx_http_rtagent_ring_write(&r, in, 11), 11);

        assert_int_equal(ngx_http_rtagent_ring_drop(&r, 0), 0);
        assert_int_equal(ngx_http_rtagent_ring_len(&r), 11);

        assert_int_equal(ngx_http_rtagent_ring_drop(&r, 7), 7);
        assert_int_equal(ngx_http_rtagent_ring_len(&r), 4);
        assert_int_equal(r.head, (off + 7) % TEST_SIZE);

        assert_int_equal(ngx_http_rtagent_ring_read(&r, out, 2), 2);
        assert_memory_equal(out, in + 7, 2);

        /* more than stored: clamped, ring empty */
        assert_int_equal(ngx_http_rtagent_ring_drop(&r, 100), 2);
        assert_int_equal(ngx_http_rtagent_ring_len(&r), 0);
        assert_int_equal(ngx_http_rtagent_ring_drop(&r, 1), 0);
        assert_int_equal(r.head, (off + 11) % TEST_SIZE);
    }
}


/* push_evict with n < free, n <= size, n == size, n > size, all offsets */

static void
test_push_evict(void **state)
{
    uint8_t                  buf[TEST_SIZE], old[TEST_MAX], in[TEST_MAX],
                             expect[2 * TEST_MAX], out[TEST_MAX];
    size_t                   off, pre, n, total, keep, ev;
    ngx_http_rtagent_ring_t  r;

    for (off = 0; off < TEST_SIZE; off++) {
        for (pre = 0; pre <= TEST_SIZE; pre++) {
            for (n = 0; n <= 3 * TEST_SIZE; n++) {
                ring_at(&r, buf, TEST_SIZE, off);

                fill(old, pre, 11);
                assert_int_equal(ngx_http_rtagent_ring_write(&r, old, pre),
                                 pre);

                fill(in, n, 12);
                ev = ngx_http_rtagent_ring_push_evict(&r, in, n);

                /* the ring holds the newest bytes of old + in */
                memcpy(expect, old, pre);
                memcpy(expect + pre, in, n);
                total = pre + n;
                keep = total < TEST_SIZE ? total : TEST_SIZE;

                assert_int_equal(ev, total - keep);
                assert_int_equal(ngx_http_rtagent_ring_len(&r), keep);

                if (pre + n <= TEST_SIZE) {
                    assert_int_equal(ev, 0);
                }

                assert_int_equal(ngx_http_rtagent_ring_read(&r, out,
                                                            TEST_MAX),
                                 keep);
                assert_memory_equal(out, expect + total - keep, keep);
            }
        }
    }
}


static void
test_push_evict_cases(void **state)
{
    uint8_t                  buf[8], in[32], out[32];
    ngx_http_rtagent_ring_t  r;

    fill(in, sizeof(in), 4);

    /* smaller than free space: a plain write */
    ngx_http_rtagent_ring_init(&r, buf, sizeof(buf));
    assert_int_equal(ngx_http_rtagent_ring_push_evict(&r, in, 3), 0);
    assert_int_equal(ngx_http_rtagent_ring_len(&r), 3);

    /* 3 stored + 7 pushed: the 2 oldest go */
    assert_int_equal(ngx_http_rtagent_ring_push_evict(&r, in + 3, 7), 2);
    assert_int_equal(ngx_http_rtagent_ring_len(&r), 8);
    assert_int_equal(ngx_http_rtagent_ring_peek(&r, out, 8), 8);
    assert_memory_equal(out, in + 2, 8);

    /* equal to size: everything old goes */
    assert_int_equal(ngx_http_rtagent_ring_push_evict(&r, in + 16, 8), 8);
    assert_int_equal(ngx_http_rtagent_ring_peek(&r, out, 8), 8);
    assert_memory_equal(out, in + 16, 8);

    /* larger than size on a full ring: 8 old and 12 new are lost */
    assert_int_equal(ngx_http_rtagent_ring_push_evict(&r, in, 20), 20);
    assert_int_equal(ngx_http_rtagent_ring_read(&r, out, 32), 8);
    assert_memory_equal(out, in + 12, 8);

    /* larger than size on an empty ring */
    assert_int_equal(ngx_http_rtagent_ring_push_evict(&r, in, 9), 1);
    assert_int_equal(ngx_http_rtagent_ring_read(&r, out, 32), 8);
    assert_memory_equal(out, in + 1, 8);
}


static void
test_zero_size(void **state)
{
    uint8_t                  in[4], out[4];
    ngx_http_rtagent_ring_t  r;

    fill(in, sizeof(in), 6);

    /* a zero-capacity ring with no storage stores nothing, safely */
    ngx_http_rtagent_ring_init(&r, NULL, 0);

    assert_int_equal(ngx_http_rtagent_ring_len(&r), 0);
    assert_int_equal(ngx_http_rtagent_ring_free(&r), 0);
    assert_int_equal(ngx_http_rtagent_ring_write(&r, in, 4), 0);
    assert_int_equal(ngx_http_rtagent_ring_read(&r, out, 4), 0);
    assert_int_equal(ngx_http_rtagent_ring_peek(&r, out, 4), 0);
    assert_int_equal(ngx_http_rtagent_ring_drop(&r, 4), 0);
    assert_int_equal(ngx_http_rtagent_ring_push_evict(&r, in, 4), 4);
    assert_int_equal(ngx_http_rtagent_ring_push_evict(&r, in, 0), 0);
    assert_int_equal(ngx_http_rtagent_ring_len(&r), 0);
    assert_int_equal(r.head, 0);

    ngx_http_rtagent_ring_reset(&r);
    assert_int_equal(ngx_http_rtagent_ring_len(&r), 0);
}


static void
test_zero_count(void **state)
{
    uint8_t                  buf[TEST_SIZE], in[5];
    ngx_http_rtagent_ring_t  r;

    ngx_http_rtagent_ring_init(&r, buf, sizeof(buf));
    fill(in, sizeof(in), 8);
    assert_int_equal(ngx_http_rtagent_ring_write(&r, in, 5), 5);

    /* n == 0 touches nothing, even through NULL pointers */
    assert_int_equal(ngx_http_rtagent_ring_write(&r, NULL, 0), 0);
    assert_int_equal(ngx_http_rtagent_ring_read(&r, NULL, 0), 0);
    assert_int_equal(ngx_http_rtagent_ring_peek(&r, NULL, 0), 0);
    assert_int_equal(ngx_http_rtagent_ring_drop(&r, 0), 0);
    assert_int_equal(ngx_http_rtagent_ring_push_evict(&r, NULL, 0), 0);

    assert_int_equal(ngx_http_rtagent_ring_len(&r), 5);
    assert_int_equal(r.head, 0);

    /* reading or peeking an empty ring never touches out */
    ngx_http_rtagent_ring_reset(&r);
    assert_int_equal(ngx_http_rtagent_ring_read(&r, NULL, 10), 0);
    assert_int_equal(ngx_http_rtagent_ring_peek(&r, NULL, 10), 0);
}


static void
test_reset(void **state)
{
    uint8_t                  buf[TEST_SIZE], in[TEST_MAX], out[TEST_MAX];
    ngx_http_rtagent_ring_t  r;

    ring_at(&r, buf, TEST_SIZE, 5);
    fill(in, 9, 10);
    assert_int_equal(ngx_http_rtagent_ring_write(&r, in, 9), 9);

    ngx_http_rtagent_ring_reset(&r);
    assert_int_equal(ngx_http_rtagent_ring_len(&r), 0);
    assert_int_equal(ngx_http_rtagent_ring_free(&r), TEST_SIZE);
    assert_int_equal(r.head, 0);
    assert_ptr_equal(r.buf, buf);
    assert_int_equal(r.size, TEST_SIZE);

    assert_int_equal(ngx_http_rtagent_ring_write(&r, in, TEST_SIZE),
                     TEST_SIZE);
    assert_int_equal(ngx_http_rtagent_ring_read(&r, out, TEST_SIZE),
                     TEST_SIZE);
    assert_memory_equal(out, in, TEST_SIZE);
}


/*
 * random operations against a trivial model (a linear array); the
 * generator is a fixed LCG so a failure always reproduces
 */

static uint32_t
lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}


static void
test_model_random(void **state)
{
    uint8_t                  buf[TEST_MAX], model[3 * TEST_MAX], in[TEST_MAX],
                             out[TEST_MAX];
    size_t                   size, mlen, n, k, want, drop;
    uint32_t                 seed;
    unsigned                 i, op;
    ngx_http_rtagent_ring_t  r;

    seed = 12345;

    for (size = 1; size <= 17; size++) {
        ngx_http_rtagent_ring_init(&r, buf, size);
        mlen = 0;

        for (i = 0; i < 20000; i++) {
            op = lcg(&seed) % 5;
            n = lcg(&seed) % (2 * size + 2);
            fill(in, n, lcg(&seed));

            switch (op) {

            case 0:
                want = n < size - mlen ? n : size - mlen;
                k = ngx_http_rtagent_ring_write(&r, in, n);
                assert_int_equal(k, want);
                memcpy(model + mlen, in, k);
                mlen += k;
                break;

            case 1:
            case 2:
                want = n < mlen ? n : mlen;

                if (op == 1) {
                    k = ngx_http_rtagent_ring_read(&r, out, n);

                } else {
                    k = ngx_http_rtagent_ring_peek(&r, out, n);
                }

                assert_int_equal(k, want);
                assert_memory_equal(out, model, k);

                if (op == 1) {
                    memmove(model, model + k, mlen - k);
                    mlen -= k;
                }

                break;

            case 3:
                want = n < mlen ? n : mlen;
                assert_int_equal(ngx_http_rtagent_ring_drop(&r, n), want);
                memmove(model, model + want, mlen - want);
                mlen -= want;
                break;

            default:
                memcpy(model + mlen, in, n);
                mlen += n;
                drop = mlen > size ? mlen - size : 0;
                assert_int_equal(ngx_http_rtagent_ring_push_evict(&r, in, n),
                                 drop);
                memmove(model, model + drop, mlen - drop);
                mlen -= drop;
                break;
            }

            assert_int_equal(ngx_http_rtagent_ring_len(&r), mlen);
            assert_int_equal(ngx_http_rtagent_ring_free(&r), size - mlen);
            assert_true(r.head < size);
        }
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_init_empty),
        cmocka_unit_test(test_full_empty),
        cmocka_unit_test(test_partial_write),
        cmocka_unit_test(test_wrap_every_offset),
        cmocka_unit_test(test_wrap_chunks),
        cmocka_unit_test(test_peek_vs_read),
        cmocka_unit_test(test_drop),
        cmocka_unit_test(test_push_evict),
        cmocka_unit_test(test_push_evict_cases),
        cmocka_unit_test(test_zero_size),
        cmocka_unit_test(test_zero_count),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_model_random),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
