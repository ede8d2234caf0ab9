
/*
 * Text helpers of the pure ACS codecs (see ngx_http_rtagent_acs_text.h).
 */


#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "ngx_http_rtagent_acs_text.h"


void
ngx_http_rtagent_acs_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  args;

    if (err == NULL || errlen == 0) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);
}


/* strncasecmp() obeys the locale; protocol names are ASCII */

int
ngx_http_rtagent_acs_ascii_eq(const void *s, size_t len, const char *name,
    size_t name_len)
{
    size_t          i;
    uint8_t         a, b;
    const uint8_t  *p = s;

    if (len != name_len) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        a = p[i];
        b = (uint8_t) name[i];

        if (a >= 'A' && a <= 'Z') {
            a |= 0x20;
        }

        if (b >= 'A' && b <= 'Z') {
            b |= 0x20;
        }

        if (a != b) {
            return 0;
        }
    }

    return 1;
}
