
/*
 * The one check of a call id: see ngx_http_rtagent_call_id.h.
 */


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
