
/*
 * libFuzzer target for the SSML escaper: whatever the bytes, the output
 * stays within its bound, is well-formed UTF-8, holds no markup character
 * ('<', '>', quotes, a '&' that starts no entity of ours) and no character
 * XML 1.0 refuses, and escaping it again changes only its ampersands.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_rtagent_ssml.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
check(const unsigned char *p, size_t n)
{
    size_t   i, k, len;
    uint32_t cp;
    static const char  *ents[] = {
        "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", NULL
    };

    for (i = 0; i < n; /* void */) {

        if (p[i] == '&') {
            for (k = 0; ents[k]; k++) {
                len = strlen(ents[k]);
                if (n - i >= len && memcmp(p + i, ents[k], len) == 0) {
                    break;
                }
            }

            if (ents[k] == NULL) {
                abort();
            }

            i += len;
            continue;
        }

        if (p[i] == '<' || p[i] == '>' || p[i] == '"' || p[i] == '\'') {
            abort();
        }

        if (p[i] < 0x80) {
            if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
            {
                abort();
            }

            i++;
            continue;
        }

        /* decode strictly; any error aborts */
        if (p[i] >= 0xc2 && p[i] <= 0xdf) {
            len = 2;
            cp = p[i] & 0x1f;

        } else if (p[i] >= 0xe0 && p[i] <= 0xef) {
            len = 3;
            cp = p[i] & 0x0f;

        } else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
            len = 4;
            cp = p[i] & 0x07;

        } else {
            abort();
        }

        if (n - i < len) {
            abort();
        }

        for (k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                abort();
            }

            cp = (cp << 6) | (p[i + k] & 0x3f);
        }

        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
            || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)
            || cp == 0xfffe || cp == 0xffff)
        {
            abort();
        }

        i += len;
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          n, m, amps, i;
    unsigned char  *out, *again;

    out = malloc(ngx_http_rtagent_ssml_escaped_max(size) + 1);
    if (out == NULL) {
        return 0;
    }

    n = ngx_http_rtagent_ssml_escape(out, data, size);

    if (n > ngx_http_rtagent_ssml_escaped_max(size)) {
        abort();
    }

    check(out, n);

    /* escaped text is XML text: a second pass only grows each '&' */
    again = malloc(ngx_http_rtagent_ssml_escaped_max(n) + 1);
    if (again == NULL) {
        free(out);
        return 0;
    }

    m = ngx_http_rtagent_ssml_escape(again, out, n);

    for (amps = 0, i = 0; i < n; i++) {
        amps += (out[i] == '&');
    }

    if (m != n + 4 * amps) {
        abort();
    }

    free(again);
    free(out);

    return 0;
}
