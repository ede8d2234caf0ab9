
/*
 * Sample-rate conversion of PCM16 mono (speexdsp's resampler): TTS audio
 * at the provider's rate to the call's, caller audio to what an STT
 * engine takes.
 *
 * Pure C: no nginx headers.  One converter per stream; it keeps the
 * filter's history between calls, so a stream cut into chunks converts
 * as one.  Not thread-safe; one converter belongs to one stream.
 */


#ifndef _NGX_HTTP_RTAGENT_RESAMPLE_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_RESAMPLE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


typedef struct {
    void      *state;        /* SpeexResamplerState, NULL when rates match */
    unsigned   in_rate;
    unsigned   out_rate;
} ngx_http_rtagent_resample_t;


/* quality 0..10 (speexdsp's); 0 on success, -1 on bad rates or no memory */
int ngx_http_rtagent_resample_init(ngx_http_rtagent_resample_t *rs,
    unsigned in_rate, unsigned out_rate, int quality);

/* room the output of in_samples input samples may need */
size_t ngx_http_rtagent_resample_out_max(const ngx_http_rtagent_resample_t *rs,
    size_t in_samples);

/*
 * Converts all of in[0 .. in_samples - 1] into out, which holds out_max
 * samples (see above); returns the samples written, or -1 on error.
 */
long ngx_http_rtagent_resample_run(ngx_http_rtagent_resample_t *rs,
    const int16_t *in, size_t in_samples, int16_t *out, size_t out_max);

void ngx_http_rtagent_resample_free(ngx_http_rtagent_resample_t *rs);


#endif /* _NGX_HTTP_RTAGENT_RESAMPLE_H_INCLUDED_ */
