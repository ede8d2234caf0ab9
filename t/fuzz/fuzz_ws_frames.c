
/*
 * libFuzzer target: the WebSocket frame path.  Client bytes go through a
 * wslay server context set up as the module sets it up (server side, the
 * default 64 KiB message limit), read in pieces of varying size as the
 * socket would deliver them (1-64 bytes, or 1-64 KiB when the first byte's
 * top bit is set, so inputs near the message limit stay fast enough for a
 * million runs); every whole text message goes on to the ACS
 * message parser, as in the ACS media channel.  What the server writes is
 * checked: unmasked frames only, and a close carries a valid status.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

#include <ngx_http_rtagent_acs_msg.h>


#define FUZZ_MAX_MESSAGE  (64 * 1024)


typedef struct {
    const uint8_t  *data;
    size_t          len;
    size_t          pos;
    size_t          chunk;
    uint8_t         out[256];
    size_t          out_len;
} fuzz_conn_t;


static ssize_t
fuzz_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
    void *user_data)
{
    size_t        n;
    fuzz_conn_t  *fc = user_data;

    if (fc->pos == fc->len) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    n = fc->len - fc->pos;
    n = n < len ? n : len;
    n = n < fc->chunk ? n : fc->chunk;

    memcpy(buf, fc->data + fc->pos, n);
    fc->pos += n;

    return (ssize_t) n;
}


static ssize_t
fuzz_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
    int flags, void *user_data)
{
    size_t        n;
    fuzz_conn_t  *fc = user_data;

    /* keep the start of the output: the first frame header is checked */
    n = sizeof(fc->out) - fc->out_len;
    n = n < len ? n : len;
    memcpy(fc->out + fc->out_len, data, n);
    fc->out_len += n;

    return (ssize_t) len;
}


static void
fuzz_msg(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *user_data)
{
    uint8_t                     *arena;
    ngx_http_rtagent_acs_msg_t   msg;
    char                         err[NGX_HTTP_RTAGENT_ACS_ERR_SIZE];

    if (arg->opcode != WSLAY_TEXT_FRAME) {
        return;
    }

    arena = malloc(arg->msg_length ? arg->msg_length : 1);
    if (arena == NULL) {
        abort();
    }

    (void) ngx_http_rtagent_acs_msg_parse(arg->msg, arg->msg_length, arena,
                                          arg->msg_length, &msg, err,
                                          sizeof(err));
    free(arena);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint16_t                      code;
    fuzz_conn_t                   fc;
    wslay_event_context_ptr       ctx;
    struct wslay_event_callbacks  cb = {
        fuzz_recv, fuzz_send, NULL, NULL, NULL, NULL, fuzz_msg
    };

    if (size < 1) {
        return 0;
    }

    memset(&fc, 0, sizeof(fc));
    fc.chunk = (data[0] % 64) + 1;

    if (data[0] & 0x80) {
        fc.chunk *= 1024;
    }
    fc.data = data + 1;
    fc.len = size - 1;

    if (wslay_event_context_server_init(&ctx, &cb, &fc) != 0) {
        abort();
    }

    wslay_event_config_set_max_recv_msg_length(ctx, FUZZ_MAX_MESSAGE);

    while (fc.pos < fc.len && wslay_event_want_read(ctx)) {
        if (wslay_event_recv(ctx) != 0) {
            break;
        }

        if (wslay_event_want_write(ctx)) {
            (void) wslay_event_send(ctx);
        }
    }

    if (wslay_event_want_write(ctx)) {
        (void) wslay_event_send(ctx);
    }

    /* servers never mask; a close frame's status is one that may be sent */
    if (fc.out_len >= 2) {
        if (fc.out[1] & 0x80) {
            abort();
        }

        if ((fc.out[0] & 0x0f) == WSLAY_CONNECTION_CLOSE
            && (fc.out[1] & 0x7f) >= 2 && fc.out_len >= 4)
        {
            code = (uint16_t) ((fc.out[2] << 8) | fc.out[3]);

            if (code < 1000 || code == 1005 || code == 1006
                || code == 1015)
            {
                abort();
            }
        }
    }

    wslay_event_context_free(ctx);

    return 0;
}
