
/*
 * libFuzzer target for the ACS media WebSocket message parser.
 *
 * The input and the arena are malloc'd at exactly the message length, so
 * ASan catches any access past either; the documented "arena_size >= len
 * always suffices" is checked by aborting on ENOMEM.  Decoded audio must
 * survive an encode and a second parse byte for byte.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_rtagent_acs_msg.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
check_str(ngx_http_rtagent_acs_str_t s, const uint8_t *arena, size_t size)
{
    if (s.data == NULL) {
        if (s.len != 0) {
            abort();
        }

        return;
    }

    if (s.len == 0) {
        return;
    }

    /* every non-empty string must lie inside the arena */
    if ((uintptr_t) s.data < (uintptr_t) arena || s.len > size
        || (uintptr_t) s.data - (uintptr_t) arena > size - s.len)
    {
        abort();
    }
}


static void
check_msg(const ngx_http_rtagent_acs_msg_t *m, const uint8_t *arena,
    size_t size)
{
    check_str(m->kind_name, arena, size);
    check_str(m->subscription_id, arena, size);
    check_str(m->encoding, arena, size);
    check_str(m->timestamp, arena, size);
    check_str(m->participant, arena, size);
    check_str(m->audio, arena, size);
    check_str(m->dtmf, arena, size);
    check_str(m->locale, arena, size);
    check_str(m->call_connection_id, arena, size);
    check_str(m->correlation_id, arena, size);
    check_str(m->text, arena, size);
    check_str(m->format, arena, size);
    check_str(m->result_status, arena, size);

    if (m->has_audio && m->audio.data == NULL) {
        abort();
    }

    if ((uintptr_t) m->audio.data & 1) {
        abort();
    }

    if (m->kind != NGX_HTTP_RTAGENT_ACS_AUDIO_DATA
        && (m->has_audio || m->audio.data != NULL))
    {
        abort();
    }
}


static void
round_trip(const ngx_http_rtagent_acs_str_t *audio)
{
    char                         err[NGX_HTTP_RTAGENT_ACS_ERR_SIZE];
    size_t                       n, len;
    uint8_t                     *out, *arena;
    ngx_http_rtagent_acs_rc_e    rc;
    ngx_http_rtagent_acs_msg_t   msg;

    n = ngx_http_rtagent_acs_audio_msg_size(audio->len);
    if (n == 0) {
        abort();
    }

    out = malloc(n);
    arena = malloc(n);
    if (out == NULL || arena == NULL) {
        abort();
    }

    len = ngx_http_rtagent_acs_audio_msg(out, audio->data, audio->len);
    if (len != n) {
        abort();
    }

    rc = ngx_http_rtagent_acs_msg_parse(out, len, arena, len, &msg, err,
                                        sizeof(err));

    if (rc != NGX_HTTP_RTAGENT_ACS_OK
        || msg.kind != NGX_HTTP_RTAGENT_ACS_AUDIO_DATA
        || !msg.has_audio
        || msg.audio.len != audio->len
        || (audio->len && memcmp(msg.audio.data, audio->data, audio->len)))
    {
        abort();
    }

    free(out);
    free(arena);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                         err[NGX_HTTP_RTAGENT_ACS_ERR_SIZE];
    uint8_t                     *in, *arena;
    ngx_http_rtagent_acs_rc_e    rc;
    ngx_http_rtagent_acs_msg_t   msg;

    /* a private copy: libFuzzer's buffer may have slack after size */
    in = malloc(size ? size : 1);
    arena = malloc(size ? size : 1);
    if (in == NULL || arena == NULL) {
        abort();
    }

    if (size) {
        memcpy(in, data, size);
    }

    rc = ngx_http_rtagent_acs_msg_parse(in, size, arena, size, &msg, err,
                                        sizeof(err));

    if (rc == NGX_HTTP_RTAGENT_ACS_ENOMEM
        || strlen(err) > 100
        || (rc == NGX_HTTP_RTAGENT_ACS_OK) != (err[0] == '\0'))
    {
        abort();
    }

    /* the input must be left as it was */
    if (size && memcmp(in, data, size) != 0) {
        abort();
    }

    if (rc == NGX_HTTP_RTAGENT_ACS_OK) {
        check_msg(&msg, arena, size);

        if (msg.has_audio) {
            round_trip(&msg.audio);
        }
    }

    free(in);
    free(arena);

    return 0;
}
