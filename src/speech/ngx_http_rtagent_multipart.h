
/*
 * multipart/form-data (RFC 7578) for the OpenAI transcriptions request
 * (PROTOCOLS.md 10): text fields, then one file part whose bytes the
 * caller appends after its head, then the closing delimiter.  Each writer
 * returns the bytes it writes, and only counts them when dst is NULL, so
 * a body is sized before it is allocated.  Pure C, no nginx.
 */


#ifndef _NGX_HTTP_RTAGENT_MULTIPART_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_MULTIPART_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* "rtagent-" and 32 hex digits */
#define NGX_HTTP_RTAGENT_MULTIPART_BOUNDARY  40


typedef struct {
    unsigned char    boundary[NGX_HTTP_RTAGENT_MULTIPART_BOUNDARY];
} ngx_http_rtagent_multipart_t;


/* the boundary from 128 random bits */
void ngx_http_rtagent_multipart_init(ngx_http_rtagent_multipart_t *mp,
    const uint32_t random[4]);

/*
 * 1 when no part content (len bytes at p) holds the delimiter
 * "\r\n--boundary", which would end the part early; 0 when it does (pick
 * another boundary).
 */
int ngx_http_rtagent_multipart_fits(const ngx_http_rtagent_multipart_t *mp,
    const unsigned char *p, size_t len);

/*
 * A text field: --boundary, Content-Disposition: form-data; name="NAME",
 * a blank line, the value, CRLF.  name is a token of ours (no quotes or
 * line ends); the value goes as it is (check it with _fits()).
 */
size_t ngx_http_rtagent_multipart_field(const ngx_http_rtagent_multipart_t *mp,
    unsigned char *dst, const char *name, const unsigned char *value,
    size_t len);

/* a file part's head; the file's bytes follow it, then _end() */
size_t ngx_http_rtagent_multipart_file(const ngx_http_rtagent_multipart_t *mp,
    unsigned char *dst, const char *name, const char *filename,
    const char *type);

/* CRLF after the file's bytes and the closing delimiter --boundary-- */
size_t ngx_http_rtagent_multipart_end(const ngx_http_rtagent_multipart_t *mp,
    unsigned char *dst);

/* "multipart/form-data; boundary=..." into dst (at least 80 bytes) */
size_t ngx_http_rtagent_multipart_type(const ngx_http_rtagent_multipart_t *mp,
    unsigned char *dst);


#endif /* _NGX_HTTP_RTAGENT_MULTIPART_H_INCLUDED_ */
