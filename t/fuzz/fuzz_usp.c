
/*
 * libFuzzer target for the Azure Speech WebSocket ("USP") message parser:
 * the input as a text and as a binary message, and each body as a
 * hypothesis and a phrase.  Everything handed out must lie inside the
 * input, and texts inside their buffer.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_rtagent_usp.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
inside(const unsigned char *p, size_t len, const uint8_t *data, size_t size)
{
    if (p == NULL) {
        if (len) {
            abort();
        }

        return;
    }

    if ((uintptr_t) p < (uintptr_t) data || len > size
        || (uintptr_t) p - (uintptr_t) data > size - len)
    {
        abort();
    }
}


static void
check(const ngx_http_rtagent_usp_msg_t *m, const uint8_t *data, size_t size)
{
    char                           buf[64], err[NGX_HTTP_RTAGENT_USP_ERR];
    int                            phrase;
    ngx_http_rtagent_usp_result_t  res;

    inside(m->path, m->path_len, data, size);
    inside(m->request_id, m->request_id_len, data, size);
    inside(m->type, m->type_len, data, size);
    inside(m->body, m->body_len, data, size);

    for (phrase = 0; phrase < 2; phrase++) {
        if (ngx_http_rtagent_usp_result(m->body, m->body_len, phrase, &res,
                                        buf, sizeof(buf), err, sizeof(err))
            == 0)
        {
            if (res.text != buf || res.text_len >= sizeof(buf)
                || strlen(buf) != res.text_len)
            {
                abort();
            }
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                        err[NGX_HTTP_RTAGENT_USP_ERR];
    uint8_t                    *copy;
    ngx_http_rtagent_usp_msg_t  msg;

    /* an exact copy: ASan sees a read past the end */
    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data, size);

    if (ngx_http_rtagent_usp_parse_text(copy, size, &msg, err, sizeof(err))
        == 0)
    {
        check(&msg, copy, size);
    }

    if (ngx_http_rtagent_usp_parse_binary(copy, size, &msg, err, sizeof(err))
        == 0)
    {
        check(&msg, copy, size);
    }

    free(copy);

    return 0;
}
