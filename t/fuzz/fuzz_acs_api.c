
/*
 * libFuzzer target for the operators' API as outside input: routes, call
 * ids and request bodies.
 *
 * The first byte picks what the rest is fed to (its value mod 5, so the
 * seeds can start with an ASCII digit):
 *
 *   0  ngx_http_rtagent_acs_api_route(): the second byte, mod the length
 *      left plus one, is how long the prefix is; the rest is the URI
 *   1  ngx_http_rtagent_call_id_valid()
 *   2  ngx_http_rtagent_acs_api_body() of an outbound call
 *   3  the same of a transfer
 *   4  the same of dtmf tones
 *
 * Inputs are copied to buffers of exactly their length, so ASan catches
 * reads past them; what is accepted must be what the API documents.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_rtagent_acs_api.h"
#include <call/ngx_http_rtagent_call_id.h>
#include "ngx_http_rtagent_acs_body.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static int
in(const char *s, size_t len, const char *buf, size_t size)
{
    return len == 0
           || (s >= buf && len <= size && (size_t) (s - buf) <= size - len);
}


static void
fuzz_route(const uint8_t *data, size_t size)
{
    char                              *buf;
    size_t                             plen;
    ngx_http_rtagent_acs_api_route_e   kind;
    ngx_http_rtagent_acs_api_route_t   rt;

    if (size == 0) {
        return;
    }

    plen = data[0] % size;
    data++;
    size--;

    buf = malloc(size ? size : 1);
    if (buf == NULL) {
        abort();
    }

    memcpy(buf, data, size);

    /* the prefix is the URI's own start or a copy of it */
    kind = ngx_http_rtagent_acs_api_route(buf + plen, size - plen, buf, plen,
                                          &rt);

    if (!in(rt.id, rt.id_len, buf, size)
        || !in(rt.action, rt.action_len, buf, size)
        || (rt.id_len && memchr(rt.id, '/', rt.id_len))
        || (rt.action_len && memchr(rt.action, '/', rt.action_len)))
    {
        abort();
    }

    switch (kind) {

    case NGX_HTTP_RTAGENT_ACS_API_NONE:
    case NGX_HTTP_RTAGENT_ACS_API_CALLS:
        if (rt.id_len || rt.action_len) {
            abort();
        }
        break;

    case NGX_HTTP_RTAGENT_ACS_API_CALL:
        if (rt.id_len == 0 || rt.action_len) {
            abort();
        }
        break;

    case NGX_HTTP_RTAGENT_ACS_API_ACTION:
        if (rt.id_len == 0 || rt.action_len == 0) {
            abort();
        }
        break;

    default:
        abort();
    }

    (void) ngx_http_rtagent_acs_api_route(buf, size, buf, plen, &rt);

    free(buf);
}


static void
fuzz_id(const char *p, size_t len)
{
    size_t  i;

    if (!ngx_http_rtagent_call_id_valid((const unsigned char *) p, len)) {
        return;
    }

    if (len == 0 || len > NGX_HTTP_RTAGENT_CALL_ID_MAX) {
        abort();
    }

    for (i = 0; i < len; i++) {
        if (p[i] == '/' || p[i] == ' ' || p[i] == '\0' || p[i] == '{'
            || (unsigned char) p[i] >= 0x80)
        {
            abort();
        }
    }
}


static void
fuzz_body(const char *p, size_t len, ngx_http_rtagent_acs_api_body_e what)
{
    int                               status;
    size_t                            i;
    char                              err[128];
    const char                       *error;
    ngx_http_rtagent_acs_api_body_t   b;

    status = ngx_http_rtagent_acs_api_body(p, len, what, &b, &error, err,
                                           sizeof(err));

    if (status) {
        if ((status != 400 && status != 500) || b.tree != NULL
            || error == NULL || error[0] == '\0')
        {
            abort();
        }

        return;
    }

    if (error != NULL || b.tree == NULL || b.target == NULL || b.agent == NULL
        || b.source == NULL || b.display_name == NULL || b.tones == NULL)
    {
        abort();
    }

    switch (what) {

    case NGX_HTTP_RTAGENT_ACS_API_CREATE:
        if (!ngx_http_rtagent_acs_target_valid(b.target)
            || strlen(b.agent) > NGX_HTTP_RTAGENT_ACS_API_AGENT_MAX
            || strchr(b.agent, '&') || strchr(b.agent, ' ')
            || (b.source[0] && !ngx_http_rtagent_acs_api_is_phone(b.source))
            || strlen(b.display_name) > NGX_HTTP_RTAGENT_ACS_API_NAME_MAX)
        {
            abort();
        }
        break;

    case NGX_HTTP_RTAGENT_ACS_API_TRANSFER:
        if (!ngx_http_rtagent_acs_target_valid(b.target)) {
            abort();
        }
        break;

    default:
        if (b.tones[0] == '\0'
            || strlen(b.tones) > NGX_HTTP_RTAGENT_ACS_API_TONES_MAX)
        {
            abort();
        }

        for (i = 0; b.tones[i]; i++) {
            if (strchr("0123456789ABCDabcd#*", b.tones[i]) == NULL) {
                abort();
            }
        }
    }

    ngx_http_rtagent_acs_api_body_free(&b);

    if (b.tree != NULL) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char  *buf;

    if (size == 0) {
        return 0;
    }

    buf = malloc(size - 1 ? size - 1 : 1);
    if (buf == NULL) {
        abort();
    }

    memcpy(buf, data + 1, size - 1);

    switch (data[0] % 5) {

    case 0:
        fuzz_route(data + 1, size - 1);
        break;

    case 1:
        fuzz_id(buf, size - 1);
        break;

    case 2:
        fuzz_body(buf, size - 1, NGX_HTTP_RTAGENT_ACS_API_CREATE);
        break;

    case 3:
        fuzz_body(buf, size - 1, NGX_HTTP_RTAGENT_ACS_API_TRANSFER);
        break;

    default:
        fuzz_body(buf, size - 1, NGX_HTTP_RTAGENT_ACS_API_DTMF);
    }

    free(buf);

    return 0;
}
