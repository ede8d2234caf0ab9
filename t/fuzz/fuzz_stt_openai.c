
/*
 * libFuzzer target for the OpenAI transcription response parser: the
 * input is the body, SSE or JSON by its first byte, cut into pieces at
 * sizes taken from the next bytes; the buffer is malloc'd at its exact
 * size, so ASan sees any write past it.  Texts handed out must be within
 * their length and the final one comes at most once.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_rtagent_stt_openai_parse.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static int  finals;


static void
on_text(void *data, const char *text, size_t len)
{
    volatile char  sink;

    if (len && (sink = text[len - 1]) == '\0') {
        abort();
    }

    (void) sink;
}


static void
on_final(void *data, const char *text, size_t len)
{
    on_text(data, text, len);

    if (++finals > 1) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                           err[64];
    size_t                         off, n, step;
    ngx_http_rtagent_transcript_t  t;

    if (size < 2) {
        return 0;
    }

    memset(&t, 0, sizeof(t));
    t.size = 256;
    t.buf = malloc(t.size);
    if (t.buf == NULL) {
        return 0;
    }

    t.on_delta = on_text;
    t.on_final = on_final;
    t.sse = data[0] & 1;
    step = data[1] ? data[1] : size;
    finals = 0;

    for (off = 2; off < size; off += n) {
        n = size - off < step ? size - off : step;

        if (ngx_http_rtagent_transcript_feed(&t, (const char *) data + off, n)
            != 0)
        {
            break;
        }
    }

    if (ngx_http_rtagent_transcript_end(&t) != 0 && t.err[0] == '\0') {
        abort();
    }

    (void) ngx_http_rtagent_transcript_error((const char *) data + 2,
                                             size - 2, err, sizeof(err));

    free(t.buf);

    return 0;
}
