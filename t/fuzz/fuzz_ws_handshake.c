
/*
 * libFuzzer target for the WebSocket opening handshake checks.
 *
 * The input is header lines, "name: value" separated by LF (a CR before
 * it is dropped, spaces around the value too, as nginx does); a line
 * without a colon sets the "request has a body" flag.  Each name and
 * value is copied to a buffer of exactly its length, so ASan catches any
 * read past them; the verdict must be 0, 400 or 426, with a reason
 * exactly when it is not 0, and an accepted key must be one of the
 * values fed, 16 bytes in base64.  The whole input is also searched as
 * one token list.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ngx_http_rtagent_ws_hs.h"


#define FUZZ_LINES  64


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static char *
dup_exact(const uint8_t *p, size_t len)
{
    char  *s;

    s = malloc(len ? len : 1);
    if (s == NULL) {
        abort();
    }

    if (len) {
        memcpy(s, p, len);
    }

    return s;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                        status, found;
    char                      *names[FUZZ_LINES], *values[FUZZ_LINES], *list;
    size_t                     n, i, nlen, vlen;
    const char                *reason;
    const uint8_t             *p, *last, *eol, *colon, *v, *ve;
    unsigned char              out[32];
    ngx_http_rtagent_ws_hs_t   hs;

    ngx_http_rtagent_ws_hs_init(&hs);

    n = 0;
    p = data;
    last = data + size;

    while (p < last && n < FUZZ_LINES) {
        eol = memchr(p, '\n', last - p);
        if (eol == NULL) {
            eol = last;
        }

        ve = eol;
        if (ve > p && ve[-1] == '\r') {
            ve--;
        }

        colon = memchr(p, ':', ve - p);

        if (colon == NULL) {
            hs.body = 1;

        } else {
            v = colon + 1;

            while (v < ve && (*v == ' ' || *v == '\t')) {
                v++;
            }

            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
                ve--;
            }

            nlen = colon - p;
            vlen = ve - v;

            names[n] = dup_exact(p, nlen);
            values[n] = dup_exact(v, vlen);

            ngx_http_rtagent_ws_hs_header(&hs, names[n], nlen, values[n],
                                          vlen);
            n++;
        }

        p = eol + 1;
    }

    status = ngx_http_rtagent_ws_hs_verdict(&hs, &reason);

    if (status == 0) {
        if (reason != NULL || hs.keys != 1 || hs.versions != 1
            || hs.upgrades == 0 || hs.body
            || hs.key_len != NGX_HTTP_RTAGENT_WS_HS_KEY_LEN)
        {
            abort();
        }

        for (i = 0; i < n; i++) {
            if (hs.key == values[i]) {
                break;
            }
        }

        if (i == n
            || EVP_DecodeBlock(out, (const unsigned char *) hs.key,
                               (int) hs.key_len) != 18
            || memchr(hs.key, '=', 22) != NULL)
        {
            abort();
        }

    } else if ((status != 400 && status != 426) || reason == NULL
               || reason[0] == '\0')
    {
        abort();
    }

    for (i = 0; i < n; i++) {
        free(names[i]);
        free(values[i]);
    }

    /* the whole input as one list, the token the first byte long */
    list = dup_exact(data, size);

    if (size) {
        nlen = data[0] % 8;
        found = ngx_http_rtagent_ws_hs_has_token(list + 1, size - 1,
                                                 "websocket", nlen);
        if (found != 0 && found != 1) {
            abort();
        }
    }

    free(list);

    return 0;
}
