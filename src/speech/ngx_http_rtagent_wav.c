
/*
 * The RIFF/WAVE header of PCM16 mono (see ngx_http_rtagent_wav.h).
 */


#include <string.h>

#include "ngx_http_rtagent_wav.h"


static uint8_t *
ngx_http_rtagent_wav_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) v;
    p[1] = (uint8_t) (v >> 8);
    p[2] = (uint8_t) (v >> 16);
    p[3] = (uint8_t) (v >> 24);

    return p + 4;
}


static uint8_t *
ngx_http_rtagent_wav_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) v;
    p[1] = (uint8_t) (v >> 8);

    return p + 2;
}


size_t
ngx_http_rtagent_wav_header(uint8_t *dst, uint32_t rate, size_t data_len)
{
    uint8_t  *p;

    if (rate == 0 || rate > 192000 || (data_len & 1)
        || data_len > NGX_HTTP_RTAGENT_WAV_MAX_DATA)
    {
        return 0;
    }

    p = dst;

    memcpy(p, "RIFF", 4);
    p = ngx_http_rtagent_wav_le32(p + 4,
                                  data_len ? (uint32_t) data_len + 36 : 0);
    memcpy(p, "WAVEfmt ", 8);
    p = ngx_http_rtagent_wav_le32(p + 8, 16);       /* fmt chunk length */
    p = ngx_http_rtagent_wav_le16(p, 1);            /* PCM */
    p = ngx_http_rtagent_wav_le16(p, 1);            /* channels */
    p = ngx_http_rtagent_wav_le32(p, rate);
    p = ngx_http_rtagent_wav_le32(p, rate * 2);     /* bytes per second */
    p = ngx_http_rtagent_wav_le16(p, 2);            /* block align */
    p = ngx_http_rtagent_wav_le16(p, 16);           /* bits per sample */
    memcpy(p, "data", 4);
    p = ngx_http_rtagent_wav_le32(p + 4, (uint32_t) data_len);

    return p - dst;
}
