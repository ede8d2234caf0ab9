
/*
 * multipart/form-data writer (see ngx_http_rtagent_multipart.h).
 */


#include <string.h>

#include "ngx_http_rtagent_multipart.h"


#define BOUNDARY_LEN  NGX_HTTP_RTAGENT_MULTIPART_BOUNDARY


void
ngx_http_rtagent_multipart_init(ngx_http_rtagent_multipart_t *mp,
    const uint32_t random[4])
{
    size_t              i;
    static const char   hex[] = "0123456789abcdef";

    memcpy(mp->boundary, "rtagent-", 8);

    for (i = 0; i < 32; i++) {
        mp->boundary[8 + i] = hex[(random[i / 8] >> (4 * (i % 8))) & 0xf];
    }
}


int
ngx_http_rtagent_multipart_fits(const ngx_http_rtagent_multipart_t *mp,
    const unsigned char *p, size_t len)
{
    const unsigned char  *end, *dash;

    /* "--boundary" anywhere: what precedes it may be the CRLF of ours */
    end = p + len;

    while (len >= BOUNDARY_LEN + 2) {
        dash = memchr(p, '-', len - BOUNDARY_LEN - 1);
        if (dash == NULL) {
            return 1;
        }

        if (dash[1] == '-'
            && memcmp(dash + 2, mp->boundary, BOUNDARY_LEN) == 0)
        {
            return 0;
        }

        p = dash + 1;
        len = end - p;
    }

    return 1;
}


static size_t
ngx_http_rtagent_multipart_put(unsigned char **p, const void *s, size_t len)
{
    if (*p) {
        memcpy(*p, s, len);
        *p += len;
    }

    return len;
}


#define put(p, s)  ngx_http_rtagent_multipart_put(p, s, strlen(s))


static size_t
ngx_http_rtagent_multipart_head(const ngx_http_rtagent_multipart_t *mp,
    unsigned char **p, const char *name)
{
    size_t  n;

    n = put(p, "--");
    n += ngx_http_rtagent_multipart_put(p, mp->boundary, BOUNDARY_LEN);
    n += put(p, "\r\nContent-Disposition: form-data; name=\"");
    n += put(p, name);
    n += put(p, "\"");

    return n;
}


size_t
ngx_http_rtagent_multipart_field(const ngx_http_rtagent_multipart_t *mp,
    unsigned char *dst, const char *name, const unsigned char *value,
    size_t len)
{
    size_t          n;
    unsigned char  *p = dst;

    n = ngx_http_rtagent_multipart_head(mp, &p, name);
    n += put(&p, "\r\n\r\n");
    n += ngx_http_rtagent_multipart_put(&p, value, len);
    n += put(&p, "\r\n");

    return n;
}


size_t
ngx_http_rtagent_multipart_file(const ngx_http_rtagent_multipart_t *mp,
    unsigned char *dst, const char *name, const char *filename,
    const char *type)
{
    size_t          n;
    unsigned char  *p = dst;

    n = ngx_http_rtagent_multipart_head(mp, &p, name);
    n += put(&p, "; filename=\"");
    n += put(&p, filename);
    n += put(&p, "\"\r\nContent-Type: ");
    n += put(&p, type);
    n += put(&p, "\r\n\r\n");

    return n;
}


size_t
ngx_http_rtagent_multipart_end(const ngx_http_rtagent_multipart_t *mp,
    unsigned char *dst)
{
    size_t          n;
    unsigned char  *p = dst;

    n = put(&p, "\r\n--");
    n += ngx_http_rtagent_multipart_put(&p, mp->boundary, BOUNDARY_LEN);
    n += put(&p, "--\r\n");

    return n;
}


size_t
ngx_http_rtagent_multipart_type(const ngx_http_rtagent_multipart_t *mp,
    unsigned char *dst)
{
    size_t          n;
    unsigned char  *p = dst;

    n = put(&p, "multipart/form-data; boundary=");
    n += ngx_http_rtagent_multipart_put(&p, mp->boundary, BOUNDARY_LEN);

    return n;
}
