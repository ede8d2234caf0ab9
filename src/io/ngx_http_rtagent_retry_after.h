
/*
 * rtagent: the delay a response asks a retry to wait (PROTOCOLS.md 5.4),
 * pure C (no nginx), unit-tested and fuzzed on its own.
 *
 * retry-after-ms (milliseconds, non-standard: OpenAI, Azure) and
 * Retry-After's delay-seconds are read as decimal numbers; Retry-After's
 * other form, an HTTP date, is the caller's (ngx_parse_http_time()).
 */


#ifndef _NGX_HTTP_RTAGENT_RETRY_AFTER_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_RETRY_AFTER_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* a delay is honoured when 0 < ms <= this, else the backoff applies */
#define NGX_HTTP_RTAGENT_RETRY_AFTER_MAX  120000

#define ngx_http_rtagent_retry_after_ok(ms)                                  \
    ((ms) > 0 && (ms) <= NGX_HTTP_RTAGENT_RETRY_AFTER_MAX)


/*
 * A header value "1*DIGIT [ "." 1*DIGIT ]" with optional spaces or tabs
 * around it, times unit (1 for retry-after-ms, 1000 for Retry-After), in
 * milliseconds rounded up: "1.5" with unit 1000 is 1500, "0.0001" is 1.
 * Values above NGX_HTTP_RTAGENT_RETRY_AFTER_MAX come back as MAX + 1,
 * whatever their length.  0 and *ms set, or -1 when the value is not such
 * a number (nothing, a sign, an exponent, a date, anything else) or unit
 * is not 1, 10, 100 or 1000.
 */
int ngx_http_rtagent_retry_after_parse(const unsigned char *p, size_t len,
    unsigned unit, uint64_t *ms);


#endif /* _NGX_HTTP_RTAGENT_RETRY_AFTER_H_INCLUDED_ */
