
/*
 * WebSocket opening handshake checks: see ngx_http_rtagent_ws_hs.h.
 */


#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "ngx_http_rtagent_ws_hs.h"


#define ngx_http_rtagent_ws_hs_is(name, len, lit)                            \
    ((len) == sizeof(lit) - 1 && strncasecmp(name, lit, sizeof(lit) - 1) == 0)


void
ngx_http_rtagent_ws_hs_init(ngx_http_rtagent_ws_hs_t *hs)
{
    memset(hs, 0, sizeof(ngx_http_rtagent_ws_hs_t));
}


void
ngx_http_rtagent_ws_hs_header(ngx_http_rtagent_ws_hs_t *hs, const char *name,
    size_t name_len, const char *value, size_t value_len)
{
    if (ngx_http_rtagent_ws_hs_is(name, name_len, "Upgrade")) {

        /* nginx itself keeps the first Upgrade line only */
        if (hs->upgrades++ == 0) {
            hs->websocket = ngx_http_rtagent_ws_hs_has_token(value,
                                              value_len, "websocket",
                                              sizeof("websocket") - 1);
        }

    } else if (ngx_http_rtagent_ws_hs_is(name, name_len, "Connection")) {

        /* nginx keeps only close/keep-alive of Connection: any line */
        if (ngx_http_rtagent_ws_hs_has_token(value, value_len, "upgrade",
                                             sizeof("upgrade") - 1))
        {
            hs->connection = 1;
        }

    } else if (ngx_http_rtagent_ws_hs_is(name, name_len,
                                         "Sec-WebSocket-Version"))
    {
        hs->versions++;
        hs->version_13 = (value_len == 2 && memcmp(value, "13", 2) == 0);

    } else if (ngx_http_rtagent_ws_hs_is(name, name_len,
                                         "Sec-WebSocket-Key"))
    {
        hs->keys++;
        hs->key = value;
        hs->key_len = value_len;
    }
}


int
ngx_http_rtagent_ws_hs_verdict(ngx_http_rtagent_ws_hs_t *hs,
    const char **reason)
{
    if (hs->upgrades == 0) {
        *reason = "this is a websocket endpoint: Upgrade: websocket needed";
        return 426;
    }

    if (!hs->websocket) {
        *reason = "unsupported Upgrade: websocket only";
        return 426;
    }

    if (!hs->connection) {
        *reason = "Connection: upgrade needed";
        return 400;
    }

    if (hs->body) {
        *reason = "a websocket handshake has no body";
        return 400;
    }

    if (hs->versions != 1) {
        *reason = "one Sec-WebSocket-Version header needed";
        return 400;
    }

    if (!hs->version_13) {
        *reason = "unsupported Sec-WebSocket-Version: 13 only";
        return 426;
    }

    if (hs->keys != 1) {
        *reason = "one Sec-WebSocket-Key header needed";
        return 400;
    }

    if (!ngx_http_rtagent_ws_hs_key_valid(hs->key, hs->key_len)) {
        *reason = "Sec-WebSocket-Key is not 16 bytes in base64";
        return 400;
    }

    *reason = NULL;

    return 0;
}


int
ngx_http_rtagent_ws_hs_has_token(const char *list, size_t len,
    const char *token, size_t token_len)
{
    const char  *p, *last, *start, *end;

    p = list;
    last = list + len;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        start = p;

        while (p < last && *p != ',') {
            p++;
        }

        end = p;

        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }

        if ((size_t) (end - start) == token_len
            && strncasecmp(start, token, token_len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


int
ngx_http_rtagent_ws_hs_key_valid(const char *key, size_t len)
{
    unsigned char  out[NGX_HTTP_RTAGENT_WS_HS_KEY_LEN / 4 * 3 + 1];

    /*
     * 16 bytes are 22 characters and "==".  EVP_DecodeBlock() refuses
     * characters outside the alphabet and whitespace inside, but takes an
     * "=" anywhere for zero bits.
     */

    if (key == NULL || len != NGX_HTTP_RTAGENT_WS_HS_KEY_LEN
        || memchr(key, '=', 22) != NULL
        || key[22] != '=' || key[23] != '=')
    {
        return 0;
    }

    return EVP_DecodeBlock(out, (const unsigned char *) key, (int) len)
           == NGX_HTTP_RTAGENT_WS_HS_KEY_LEN / 4 * 3;
}
