
/*
 * Retry-After / retry-after-ms values (see ngx_http_rtagent_retry_after.h).
 *
 * The number is read digit by digit without ever overflowing: the whole
 * part saturates just above the limit, and of the fraction only as many
 * digits count as the unit can show (three for seconds, none for
 * milliseconds); any non-zero digit after them rounds up by one.
 */


#include "ngx_http_rtagent_retry_after.h"


#define NGX_HTTP_RTAGENT_RETRY_AFTER_OVER                                    \
    ((uint64_t) NGX_HTTP_RTAGENT_RETRY_AFTER_MAX + 1)


int
ngx_http_rtagent_retry_after_parse(const unsigned char *p, size_t len,
    unsigned unit, uint64_t *ms)
{
    unsigned              scale, rest;
    uint64_t              whole, frac;
    const unsigned char  *last;

    if (unit != 1 && unit != 10 && unit != 100 && unit != 1000) {
        return -1;
    }

    last = p + len;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    if (p == last || *p < '0' || *p > '9') {
        return -1;
    }

    whole = 0;

    for ( /* void */ ; p < last && *p >= '0' && *p <= '9'; p++) {
        if (whole <= NGX_HTTP_RTAGENT_RETRY_AFTER_OVER) {
            whole = whole * 10 + (*p - '0');
        }
    }

    /* the fraction: frac / unit of a unit, i.e. frac milliseconds */

    frac = 0;
    rest = 0;

    if (p < last && *p == '.') {
        p++;

        if (p == last || *p < '0' || *p > '9') {
            return -1;
        }

        for (scale = unit; p < last && *p >= '0' && *p <= '9'; p++) {
            if (scale >= 10) {
                scale /= 10;
                frac += (uint64_t) (*p - '0') * scale;

            } else if (*p != '0') {
                rest = 1;
            }
        }
    }

    if (p != last) {
        return -1;
    }

    if (whole > NGX_HTTP_RTAGENT_RETRY_AFTER_OVER / unit) {
        *ms = NGX_HTTP_RTAGENT_RETRY_AFTER_OVER;
        return 0;
    }

    whole = whole * unit + frac + rest;

    *ms = whole > NGX_HTTP_RTAGENT_RETRY_AFTER_OVER
          ? NGX_HTTP_RTAGENT_RETRY_AFTER_OVER : whole;

    return 0;
}
