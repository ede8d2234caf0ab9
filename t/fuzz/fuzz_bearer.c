
/*
 * libFuzzer target for the "Authorization: Bearer" credential of the
 * operators' API, the ACS callbacks and the media WebSocket.
 *
 * The input is a header value, copied to a buffer of exactly its length
 * so that ASan catches reads past it.  A token found must lie inside the
 * value, be a b64token (RFC 6750 section 2.1) after "Bearer" in any case,
 * and be found again, the same, in "Bearer <token>".
 */


#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ngx_http_rtagent_acs_api.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int          rc;
    char        *buf, *again;
    size_t       i, len, len2, eq;
    const char  *token, *token2, *p;

    buf = malloc(size ? size : 1);
    if (buf == NULL) {
        abort();
    }

    memcpy(buf, data, size);

    rc = ngx_http_rtagent_acs_api_bearer(buf, size, &token, &len);

    if (rc != 1) {
        if ((rc != 0 && rc != -1) || token != NULL || len != 0) {
            abort();
        }

        free(buf);
        return 0;
    }

    if (len == 0 || token < buf + 7 || (size_t) (token - buf) > size - len) {
        abort();
    }

    /* "Bearer" and at least one space before the token */
    for (p = buf; *p == ' ' || *p == '\t'; p++) { /* void */ }

    if (strncasecmp(p, "bearer ", 7) != 0 || token[-1] != ' ') {
        abort();
    }

    eq = 0;

    for (i = 0; i < len; i++) {
        if (token[i] == '=') {
            eq = 1;

        } else if (eq || !(isalnum((unsigned char) token[i])
                           || strchr("-._~+/", token[i]) != NULL)
                   || (unsigned char) token[i] >= 0x80 || token[i] == '\0')
        {
            abort();
        }
    }

    if (token[0] == '=') {
        abort();
    }

    again = malloc(len + 7);
    if (again == NULL) {
        abort();
    }

    memcpy(again, "Bearer ", 7);
    memcpy(again + 7, token, len);

    if (ngx_http_rtagent_acs_api_bearer(again, len + 7, &token2, &len2) != 1
        || len2 != len || memcmp(token2, token, len) != 0)
    {
        abort();
    }

    free(again);
    free(buf);

    return 0;
}
