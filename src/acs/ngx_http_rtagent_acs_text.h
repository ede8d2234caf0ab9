
/*
 * Small text helpers the pure ACS codecs share (no nginx): the reason
 * strings they hand back, and ASCII comparisons that no locale changes.
 */


#ifndef _NGX_HTTP_RTAGENT_ACS_TEXT_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_ACS_TEXT_H_INCLUDED_


#include <stddef.h>


/* printf into err (NUL-terminated, at most errlen bytes); err may be NULL */
void ngx_http_rtagent_acs_errf(char *err, size_t errlen, const char *fmt,
    ...)
#if (defined __GNUC__ || defined __clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* 1 when the len bytes at s equal name, ASCII case-insensitively */
int ngx_http_rtagent_acs_ascii_eq(const void *s, size_t len,
    const char *name, size_t name_len);


#endif /* _NGX_HTTP_RTAGENT_ACS_TEXT_H_INCLUDED_ */
