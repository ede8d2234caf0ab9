
/*
 * libFuzzer target for the incremental SSE parser: the first byte is the
 * piece size (0: the whole input at once), the rest the stream.  The
 * event buffer is malloc'd at its exact size (size + 1), so ASan sees a
 * write past it; every event's data must be within its length and end in
 * the NUL the parser puts, and the same stream fed byte by byte must give
 * the same events and the same outcome.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm/ngx_http_rtagent_sse.h"


#define EVENT_MAX  64


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


typedef struct {
    uint64_t   sum;
    size_t     events;
} digest_t;


static int
on_event(void *data, const char *type, size_t tlen, char *p, size_t len)
{
    size_t     i;
    digest_t  *d = data;

    if (len > EVENT_MAX || tlen >= NGX_HTTP_RTAGENT_SSE_TYPE_MAX
        || p[len] != '\0' || type[tlen] != '\0')
    {
        abort();
    }

    for (i = 0; i < len; i++) {
        d->sum = d->sum * 31 + (unsigned char) p[i];
    }

    for (i = 0; i < tlen; i++) {
        d->sum = d->sum * 37 + (unsigned char) type[i];
    }

    d->sum = d->sum * 41 + len;
    d->events++;

    /* refuse some events, as a consumer may */
    return len == 13 && p[0] == '!';
}


static int
run(const uint8_t *data, size_t size, size_t step, digest_t *d)
{
    int                     rc;
    size_t                  off, n;
    ngx_http_rtagent_sse_t  s;

    memset(&s, 0, sizeof(s));
    s.buf = malloc(EVENT_MAX + 1);
    if (s.buf == NULL) {
        abort();
    }

    s.size = EVENT_MAX;
    s.max_line = (size & 1) ? 0 : 40;
    s.data = d;
    s.on_event = on_event;
    ngx_http_rtagent_sse_init(&s);

    rc = 0;

    for (off = 0; off < size; off += n) {
        n = size - off < step ? size - off : step;

        rc = ngx_http_rtagent_sse_feed(&s, (const char *) data + off, n);
        if (rc != 0) {
            break;
        }
    }

    free(s.buf);

    return rc;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int       rc1, rc2;
    size_t    step;
    digest_t  a, b;

    if (size < 1) {
        return 0;
    }

    step = data[0] ? data[0] : size;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));

    rc1 = run(data + 1, size - 1, step, &a);
    rc2 = run(data + 1, size - 1, 1, &b);

    if (rc1 != rc2 || a.sum != b.sum || a.events != b.events) {
        abort();
    }

    return 0;
}
