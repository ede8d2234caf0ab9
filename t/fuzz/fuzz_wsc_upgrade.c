
/*
 * libFuzzer target for the WebSocket client's check of the upgrade's
 * answer.  The input is what a server sent, copied to a buffer of exactly
 * its length (ASan catches a read past it), checked against RFC 6455's
 * example accept value.  What must hold: a verdict only once the head's
 * empty line is in, the head inside the input and ending in CRLF CRLF,
 * a status only for OK (101) and REFUSED (100-599, not 101), a detail
 * exactly when it is not OK; and every prefix that cuts the head is
 * "not yet".
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/ngx_http_rtagent_wsc_upgrade.h"


#define ACCEPT  "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static ngx_http_rtagent_wsc_upgrade_e
check(const uint8_t *data, size_t size, ngx_http_rtagent_wsc_upgrade_t *res)
{
    unsigned char                   *b;
    ngx_http_rtagent_wsc_upgrade_e   rc;

    b = malloc(size ? size : 1);
    if (b == NULL) {
        abort();
    }

    if (size) {
        memcpy(b, data, size);
    }

    rc = ngx_http_rtagent_wsc_upgrade_parse(b, size, ACCEPT,
                                            sizeof(ACCEPT) - 1, res);
    free(b);

    return rc;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_http_rtagent_wsc_upgrade_t  res, pre;
    ngx_http_rtagent_wsc_upgrade_e  rc;

    rc = check(data, size, &res);

    switch (rc) {

    case NGX_HTTP_RTAGENT_WSC_UPGRADE_AGAIN:
        if (res.head != 0 || res.status != 0 || res.detail != NULL) {
            abort();
        }

        return 0;

    case NGX_HTTP_RTAGENT_WSC_UPGRADE_OK:
        if (res.status != 101 || res.detail != NULL) {
            abort();
        }

        break;

    case NGX_HTTP_RTAGENT_WSC_UPGRADE_REFUSED:
        if (res.status < 100 || res.status > 599 || res.status == 101
            || res.detail == NULL)
        {
            abort();
        }

        break;

    case NGX_HTTP_RTAGENT_WSC_UPGRADE_BAD:
        if (res.status != 0 || res.detail == NULL) {
            abort();
        }

        break;

    default:
        abort();
    }

    if (res.head < 4 || res.head > size
        || memcmp(data + res.head - 4, "\r\n\r\n", 4) != 0)
    {
        abort();
    }

    /* the head is the first empty line: cut just before it, no verdict */
    if (check(data, res.head - 1, &pre) != NGX_HTTP_RTAGENT_WSC_UPGRADE_AGAIN)
    {
        abort();
    }

    /* what follows the head does not change the verdict */
    if (check(data, res.head, &pre) != rc || pre.status != res.status) {
        abort();
    }

    return 0;
}
