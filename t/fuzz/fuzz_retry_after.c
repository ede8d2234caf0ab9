
/*
 * libFuzzer target for the Retry-After / retry-after-ms parser.
 *
 * The first byte picks the unit (its value mod 4: 1, 10, 100 or 1000 ms);
 * the rest, copied to a buffer of exactly its length so that ASan catches
 * a read past it, is the header value.  Whatever the input, a value that
 * parses is at most MAX + 1, and the parse agrees with a slow reference
 * on inputs short enough for one: the number times the unit, rounded
 * up, in exact integer arithmetic.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/ngx_http_rtagent_retry_after.h"


#define OVER  ((uint64_t) NGX_HTTP_RTAGENT_RETRY_AFTER_MAX + 1)


/* the reference: at most 18 digits in all, -2 when it cannot tell */

static int
reference(const uint8_t *p, size_t len, unsigned unit, uint64_t *ms)
{
    size_t    i, j, k, digits;
    uint64_t  whole, frac, den, num;

    i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t')) {
        i++;
    }

    while (len > i && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
        len--;
    }

    whole = 0;
    digits = 0;

    for (j = i; j < len && p[j] >= '0' && p[j] <= '9'; j++) {
        whole = whole * 10 + (p[j] - '0');
        if (++digits > 18) {
            return -2;
        }
    }

    if (j == i) {
        return -1;
    }

    frac = 0;
    den = 1;

    if (j < len && p[j] == '.') {
        j++;
        k = j;

        for ( /* void */ ; j < len && p[j] >= '0' && p[j] <= '9'; j++) {
            frac = frac * 10 + (p[j] - '0');
            den *= 10;
            if (++digits > 18) {
                return -2;
            }
        }

        if (j == k) {
            return -1;
        }
    }

    if (j != len) {
        return -1;
    }

    if (whole > OVER) {
        *ms = OVER;
        return 0;
    }

    /* frac / den of a unit, in ms rounded up */
    if (frac > UINT64_MAX / unit) {
        return -2;
    }

    num = frac * unit;

    whole = whole * unit + num / den + (num % den != 0);

    *ms = whole > OVER ? OVER : whole;

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int       rc, ref;
    uint8_t  *buf;
    uint64_t  ms, want;
    unsigned  unit;

    static const unsigned  units[4] = { 1, 10, 100, 1000 };

    if (size == 0) {
        return 0;
    }

    unit = units[data[0] % 4];
    data++;
    size--;

    buf = malloc(size ? size : 1);
    if (buf == NULL) {
        return 0;
    }

    memcpy(buf, data, size);

    ms = 0;
    rc = ngx_http_rtagent_retry_after_parse(buf, size, unit, &ms);

    if (rc != 0 && rc != -1) {
        abort();
    }

    if (rc == 0 && ms > OVER) {
        abort();
    }

    want = 0;
    ref = reference(buf, size, unit, &want);

    if (ref != -2 && (ref != rc || (rc == 0 && ms != want))) {
        abort();
    }

    free(buf);

    return 0;
}
