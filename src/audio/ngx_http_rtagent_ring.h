
/*
 * Bounded byte ring buffer for audio.
 *
 * Pure C: no nginx headers, no allocation (the caller owns the storage),
 * no global state.  Not thread-safe; one ring belongs to one call.
 *
 * Invariants: head < size (or head == 0 when size == 0), len <= size.
 * Every operation clamps its count instead of failing, and returns how
 * many bytes it actually handled.  A NULL data pointer is allowed when
 * the count is 0, and a ring of size 0 (buf may be NULL) is valid: it
 * stores nothing.
 */


#ifndef _NGX_HTTP_RTAGENT_RING_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_RING_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


typedef struct {
    uint8_t  *buf;
    size_t    size;     /* capacity in bytes */
    size_t    head;     /* read position */
    size_t    len;      /* bytes stored */
} ngx_http_rtagent_ring_t;


/* uses buf[0 .. size - 1] as storage; the ring starts empty */
void ngx_http_rtagent_ring_init(ngx_http_rtagent_ring_t *r, uint8_t *buf,
    size_t size);

/*
 * appends min(n, free) bytes of p and returns that count; never
 * overwrites stored bytes (see push_evict for that)
 */
size_t ngx_http_rtagent_ring_write(ngx_http_rtagent_ring_t *r,
    const uint8_t *p, size_t n);

/* copies the oldest min(n, len) bytes to out and consumes them */
size_t ngx_http_rtagent_ring_read(ngx_http_rtagent_ring_t *r, uint8_t *out,
    size_t n);

/* copies the oldest min(n, len) bytes to out; the ring is unchanged */
size_t ngx_http_rtagent_ring_peek(const ngx_http_rtagent_ring_t *r,
    uint8_t *out, size_t n);

/* consumes the oldest min(n, len) bytes without copying them */
size_t ngx_http_rtagent_ring_drop(ngx_http_rtagent_ring_t *r, size_t n);

/*
 * appends all n bytes of p, evicting the oldest stored bytes as needed,
 * so the ring always holds the newest min(size, len + n) bytes: a
 * "last N ms" pre-roll.  If n > size, only the last size bytes of p are
 * kept.  Returns the number of bytes discarded, old and new together:
 * len_before + n - len_after.
 */
size_t ngx_http_rtagent_ring_push_evict(ngx_http_rtagent_ring_t *r,
    const uint8_t *p, size_t n);


static inline size_t
ngx_http_rtagent_ring_len(const ngx_http_rtagent_ring_t *r)
{
    return r->len;
}


static inline size_t
ngx_http_rtagent_ring_free(const ngx_http_rtagent_ring_t *r)
{
    return r->size - r->len;
}


/* empties the ring; the storage is kept */
static inline void
ngx_http_rtagent_ring_reset(ngx_http_rtagent_ring_t *r)
{
    r->head = 0;
    r->len = 0;
}


#endif /* _NGX_HTTP_RTAGENT_RING_H_INCLUDED_ */
