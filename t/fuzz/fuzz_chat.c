
/*
 * libFuzzer target for the chat-completions decoder: the first byte is
 * the piece size (0: all at once), the rest the SSE body.  Text deltas
 * must be within their length; after end() every tool call is either
 * valid (an id, a good name, arguments that are empty or a JSON object)
 * or says why not; the same body fed whole gives the same text and calls.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm/ngx_http_rtagent_chat.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
on_text(void *data, const char *p, size_t len)
{
    size_t     i;
    uint64_t  *sum = data;

    if (len == 0) {
        abort();
    }

    for (i = 0; i < len; i++) {
        *sum = *sum * 31 + (unsigned char) p[i];
    }
}


static int
run(const uint8_t *data, size_t size, size_t step, uint64_t *sum,
    uint64_t *calls)
{
    int                       rc;
    size_t                    off, n, i;
    ngx_http_rtagent_chat_t   c;

    memset(&c, 0, sizeof(c));
    c.data = sum;
    c.on_text = on_text;
    c.max_args = 512;

    if (ngx_http_rtagent_chat_init(&c) != 0) {
        abort();
    }

    rc = 0;

    for (off = 0; off < size; off += n) {
        n = size - off < step ? size - off : step;

        rc = ngx_http_rtagent_chat_feed(&c, (const char *) data + off, n);
        if (rc != 0) {
            break;
        }
    }

    if (rc == 0) {
        rc = ngx_http_rtagent_chat_end(&c);
    }

    if (rc == 0) {
        if (c.ncalls > NGX_HTTP_RTAGENT_CHAT_CALLS_MAX) {
            abort();
        }

        for (i = 0; i < c.ncalls; i++) {
            if (c.calls[i].valid == (c.calls[i].invalid != NULL)
                || c.calls[i].args_len > 512
                || (c.calls[i].valid
                    && !ngx_http_rtagent_chat_name_valid(c.calls[i].name,
                                                     c.calls[i].name_len)))
            {
                abort();
            }

            *calls = *calls * 7 + c.calls[i].args_len * 3
                     + c.calls[i].valid;
        }
    }

    ngx_http_rtagent_chat_free(&c);

    return rc;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int       rc1, rc2;
    size_t    step;
    uint64_t  s1, s2, c1, c2;

    if (size < 1) {
        return 0;
    }

    step = data[0] ? data[0] : size;
    s1 = s2 = c1 = c2 = 0;

    rc1 = run(data + 1, size - 1, step, &s1, &c1);
    rc2 = run(data + 1, size - 1, size, &s2, &c2);

    if (rc1 != rc2 || s1 != s2 || c1 != c2) {
        abort();
    }

    return 0;
}
