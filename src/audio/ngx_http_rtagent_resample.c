
/*
 * PCM16 rate conversion over speexdsp (see ngx_http_rtagent_resample.h).
 */


#include <speex/speex_resampler.h>

#include "ngx_http_rtagent_resample.h"


int
ngx_http_rtagent_resample_init(ngx_http_rtagent_resample_t *rs,
    unsigned in_rate, unsigned out_rate, int quality)
{
    int  err;

    rs->state = NULL;
    rs->in_rate = in_rate;
    rs->out_rate = out_rate;

    if (in_rate < 1000 || in_rate > 192000
        || out_rate < 1000 || out_rate > 192000)
    {
        return -1;
    }

    if (in_rate == out_rate) {
        return 0;
    }

    rs->state = speex_resampler_init(1, in_rate, out_rate, quality, &err);
    if (rs->state == NULL) {
        return -1;
    }

    /* no leading run of zeros from the filter's delay line */
    (void) speex_resampler_skip_zeros(rs->state);

    return 0;
}


size_t
ngx_http_rtagent_resample_out_max(const ngx_http_rtagent_resample_t *rs,
    size_t in_samples)
{
    /* the filter may release a few samples it held back last time */
    return (size_t) ((uint64_t) in_samples * rs->out_rate / rs->in_rate)
           + 64;
}


long
ngx_http_rtagent_resample_run(ngx_http_rtagent_resample_t *rs,
    const int16_t *in, size_t in_samples, int16_t *out, size_t out_max)
{
    size_t         done;
    spx_uint32_t   in_len, out_len;

    if (rs->state == NULL) {
        if (in_samples > out_max) {
            return -1;
        }

        for (done = 0; done < in_samples; done++) {
            out[done] = in[done];
        }

        return (long) in_samples;
    }

    done = 0;

    while (in_samples > 0) {
        in_len = (spx_uint32_t) in_samples;
        out_len = (spx_uint32_t) (out_max - done);

        if (out_len == 0) {
            return -1;
        }

        if (speex_resampler_process_int(rs->state, 0, in, &in_len,
                                        out + done, &out_len)
            != RESAMPLER_ERR_SUCCESS)
        {
            return -1;
        }

        in += in_len;
        in_samples -= in_len;
        done += out_len;

        if (in_len == 0 && out_len == 0) {
            return -1;
        }
    }

    return (long) done;
}


void
ngx_http_rtagent_resample_free(ngx_http_rtagent_resample_t *rs)
{
    if (rs->state != NULL) {
        speex_resampler_destroy(rs->state);
        rs->state = NULL;
    }
}
