
/*
 * The 44-byte RIFF/WAVE header of PCM audio, for the providers that take
 * a WAV file or stream (OpenAI transcriptions, the Azure Speech WebSocket,
 * PROTOCOLS.md 8 and 10).  Pure C, no nginx.
 */


#ifndef _NGX_HTTP_RTAGENT_WAV_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_WAV_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define NGX_HTTP_RTAGENT_WAV_HEADER  44

/* the most PCM bytes a header can describe (its RIFF size is 32 bits) */
#define NGX_HTTP_RTAGENT_WAV_MAX_DATA  (0xffffffffu - 36)


/*
 * Writes the header of 16-bit little-endian PCM, mono, at rate, with
 * data_len bytes of samples; data_len 0 writes the sizes as 0, which is
 * what a stream of unknown length carries (the Azure Speech WebSocket).
 * Returns NGX_HTTP_RTAGENT_WAV_HEADER, or 0 when rate is 0 or over
 * 192000, or data_len is odd or over NGX_HTTP_RTAGENT_WAV_MAX_DATA.
 */
size_t ngx_http_rtagent_wav_header(uint8_t *dst, uint32_t rate,
    size_t data_len);


#endif /* _NGX_HTTP_RTAGENT_WAV_H_INCLUDED_ */
