
/*
 * The one check of a call id (a call connection id, a call reference),
 * wherever one comes from: ACS headers and events, the operators' API,
 * control messages; and the one generator of a call id, for a call that
 * comes without one.  Pure C, no nginx, so the codecs use it too.
 */


#ifndef _NGX_HTTP_RTAGENT_CALL_ID_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_CALL_ID_H_INCLUDED_


#include <stddef.h>


/* a call id goes into log lines and Redis keys */
#define NGX_HTTP_RTAGENT_CALL_ID_MAX  128

/* a generated call id: a prefix and 128 random bits in hex */
#define NGX_HTTP_RTAGENT_CALL_ID_RAND  16
#define NGX_HTTP_RTAGENT_CALL_ID_NEW_LEN(prefix)                              \
    (sizeof(prefix) - 1 + 2 * NGX_HTTP_RTAGENT_CALL_ID_RAND)


/* 1: 1 to 128 of [0-9A-Za-z._:-], fit for keys and logs; 0 otherwise */
int ngx_http_rtagent_call_id_valid(const unsigned char *p, size_t len);

/*
 * writes prefix and 128 random bits (OpenSSL's RAND_bytes) in lower-case
 * hex to buf, no NUL: NGX_HTTP_RTAGENT_CALL_ID_NEW_LEN(prefix) bytes; 0 if
 * size is smaller than that or there is no randomness, else the length
 */
size_t ngx_http_rtagent_call_id_new(unsigned char *buf, size_t size,
    const char *prefix);


#endif /* _NGX_HTTP_RTAGENT_CALL_ID_H_INCLUDED_ */
