
/*
 * Bounded byte ring buffer for audio: see ngx_http_rtagent_ring.h.
 */


#include <string.h>

#include "ngx_http_rtagent_ring.h"


static void ngx_http_rtagent_ring_copy_out(const ngx_http_rtagent_ring_t *r,
    uint8_t *out, size_t n);


void
ngx_http_rtagent_ring_init(ngx_http_rtagent_ring_t *r, uint8_t *buf,
    size_t size)
{
    r->buf = buf;
    r->size = size;
    r->head = 0;
    r->len = 0;
}


size_t
ngx_http_rtagent_ring_write(ngx_http_rtagent_ring_t *r, const uint8_t *p,
    size_t n)
{
    size_t  avail, tail, part;

    avail = r->size - r->len;

    if (n > avail) {
        n = avail;
    }

    /* also covers size == 0, where buf may be NULL */
    if (n == 0) {
        return 0;
    }

    /* head < size and len <= size, so one subtraction replaces a modulo */
    tail = r->head + r->len;
    if (tail >= r->size) {
        tail -= r->size;
    }

    part = r->size - tail;
    if (part > n) {
        part = n;
    }

    memcpy(r->buf + tail, p, part);

    if (n > part) {
        memcpy(r->buf, p + part, n - part);
    }

    r->len += n;

    return n;
}


size_t
ngx_http_rtagent_ring_read(ngx_http_rtagent_ring_t *r, uint8_t *out,
    size_t n)
{
    if (n > r->len) {
        n = r->len;
    }

    if (n == 0) {
        return 0;
    }

    ngx_http_rtagent_ring_copy_out(r, out, n);

    return ngx_http_rtagent_ring_drop(r, n);
}


size_t
ngx_http_rtagent_ring_peek(const ngx_http_rtagent_ring_t *r, uint8_t *out,
    size_t n)
{
    if (n > r->len) {
        n = r->len;
    }

    if (n == 0) {
        return 0;
    }

    ngx_http_rtagent_ring_copy_out(r, out, n);

    return n;
}


size_t
ngx_http_rtagent_ring_drop(ngx_http_rtagent_ring_t *r, size_t n)
{
    if (n > r->len) {
        n = r->len;
    }

    if (n == 0) {
        return 0;
    }

    r->head += n;
    if (r->head >= r->size) {
        r->head -= r->size;
    }

    r->len -= n;

    return n;
}


size_t
ngx_http_rtagent_ring_push_evict(ngx_http_rtagent_ring_t *r,
    const uint8_t *p, size_t n)
{
    size_t  skip, avail, evict;

    if (n == 0) {
        return 0;
    }

    /* only the newest size bytes of p can survive: never copy the rest */
    skip = 0;

    if (n > r->size) {
        skip = n - r->size;
        p += skip;
        n = r->size;
    }

    evict = 0;
    avail = r->size - r->len;

    if (n > avail) {
        evict = ngx_http_rtagent_ring_drop(r, n - avail);
    }

    (void) ngx_http_rtagent_ring_write(r, p, n);

    return skip + evict;
}


/* copies the oldest n bytes, n <= len, in at most two pieces */

static void
ngx_http_rtagent_ring_copy_out(const ngx_http_rtagent_ring_t *r, uint8_t *out,
    size_t n)
{
    size_t  part;

    part = r->size - r->head;
    if (part > n) {
        part = n;
    }

    memcpy(out, r->buf + r->head, part);

    if (n > part) {
        memcpy(out + part, r->buf, n - part);
    }
}
