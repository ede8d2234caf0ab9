
/*
 * The one check of a call id, and its generator: see
 * ngx_http_rtagent_call_id.h.
 */


#include <string.h>

#include <openssl/rand.h>

#include "ngx_http_rtagent_call_id.h"


int
ngx_http_rtagent_call_id_valid(const unsigned char *p, size_t len)
{
    const unsigned char  *last;

    if (len == 0 || len > NGX_HTTP_RTAGENT_CALL_ID_MAX) {
        return 0;
    }

    for (last = p + len; p < last; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z')
              || (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '_'
              || *p == '.' || *p == ':'))
        {
            return 0;
        }
    }

    return 1;
}


size_t
ngx_http_rtagent_call_id_new(unsigned char *buf, size_t size,
    const char *prefix)
{
    size_t          n, i;
    unsigned char   rnd[NGX_HTTP_RTAGENT_CALL_ID_RAND];

    static const char  hex[] = "0123456789abcdef";

    n = strlen(prefix);

    if (size < n + 2 * sizeof(rnd) || RAND_bytes(rnd, sizeof(rnd)) != 1) {
        return 0;
    }

    memcpy(buf, prefix, n);

    for (i = 0; i < sizeof(rnd); i++) {
        buf[n++] = hex[rnd[i] >> 4];
        buf[n++] = hex[rnd[i] & 0xf];
    }

    return n;
}
