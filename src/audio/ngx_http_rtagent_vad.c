
/*
 * Energy-based endpointer: see ngx_http_rtagent_vad.h.
 */


#include <limits.h>
#include <math.h>

#include "ngx_http_rtagent_vad.h"


/* the threshold is kept in 1/65536 units of mean square per sample */
#define NGX_HTTP_RTAGENT_VAD_SHIFT  16

/* mean square of a full-scale signal: 32768^2 */
#define NGX_HTTP_RTAGENT_FULL_SCALE_SQ  ((uint64_t) 1 << 30)


static int ngx_http_rtagent_vad_frame_voiced(const ngx_http_rtagent_vad_t *vad,
    const uint8_t *pcm, size_t len);


void
ngx_http_rtagent_vad_init(ngx_http_rtagent_vad_t *vad,
    const ngx_http_rtagent_vad_conf_t *conf)
{
    double  ms;

    vad->conf = *conf;

    if (vad->conf.start_frames == 0) {
        vad->conf.start_frames = 1;
    }

    if (vad->conf.end_frames == 0) {
        vad->conf.end_frames = 1;
    }

    if (vad->conf.threshold_dbfs < NGX_HTTP_RTAGENT_DBFS_MIN) {
        vad->conf.threshold_dbfs = NGX_HTTP_RTAGENT_DBFS_MIN;
    }

    if (vad->conf.threshold_dbfs > 0) {
        /* one more than the largest possible mean square: never voiced */
        vad->threshold = (NGX_HTTP_RTAGENT_FULL_SCALE_SQ
                          << NGX_HTTP_RTAGENT_VAD_SHIFT) + 1;

    } else {
        /*
         * rounded up, so that a frame just below the level is never
         * taken as voiced; at -120 dBFS this is still 71, never 0, so
         * digital silence is never voiced
         */
        ms = pow(10.0, vad->conf.threshold_dbfs / 10.0);
        vad->threshold = (uint64_t) ceil(ldexp(ms,
                                         30 + NGX_HTTP_RTAGENT_VAD_SHIFT));
    }

    ngx_http_rtagent_vad_reset(vad);
}


ngx_http_rtagent_vad_event_e
ngx_http_rtagent_vad_feed(ngx_http_rtagent_vad_t *vad, const uint8_t *pcm,
    size_t len, int silent)
{
    int  voiced;

    voiced = silent ? 0 : ngx_http_rtagent_vad_frame_voiced(vad, pcm, len);

    vad->voiced = (voiced != 0);

    if (!vad->speech) {

        if (!voiced) {
            /* a pending onset must be start_frames voiced in a row */
            vad->run = 0;
            return NGX_HTTP_RTAGENT_VAD_SILENCE;
        }

        if (++vad->run < vad->conf.start_frames) {
            return NGX_HTTP_RTAGENT_VAD_SILENCE;
        }

        vad->speech = 1;
        vad->cut = 0;
        vad->frames = vad->run;
        vad->run = 0;
        vad->unvoiced = 0;

        return NGX_HTTP_RTAGENT_VAD_ONSET;
    }

    /* saturate rather than wrap after years of max_frames = 0 speech */
    if (vad->frames != UINT_MAX) {
        vad->frames++;
    }

    if (voiced) {
        vad->unvoiced = 0;

    } else {
        vad->unvoiced++;
    }

    if (vad->unvoiced >= vad->conf.end_frames) {
        vad->cut = 0;

    } else if (vad->conf.max_frames != 0
               && vad->frames >= vad->conf.max_frames)
    {
        vad->cut = 1;

    } else {
        return NGX_HTTP_RTAGENT_VAD_SPEECH;
    }

    /* the END frame belongs to this utterance, never to the next onset */
    vad->trailing = vad->unvoiced;
    vad->speech = 0;
    vad->run = 0;
    vad->unvoiced = 0;

    return NGX_HTTP_RTAGENT_VAD_END;
}


void
ngx_http_rtagent_vad_reset(ngx_http_rtagent_vad_t *vad)
{
    vad->run = 0;
    vad->unvoiced = 0;
    vad->frames = 0;
    vad->trailing = 0;
    vad->speech = 0;
    vad->voiced = 0;
    vad->cut = 0;
}


uint64_t
ngx_http_rtagent_pcm_energy(const uint8_t *pcm, size_t len)
{
    size_t    i, n;
    int32_t   s;
    uint64_t  sum;

    n = len & ~(size_t) 1;
    sum = 0;

    for (i = 0; i < n; i += 2) {
        s = (int32_t) (pcm[i] | ((uint32_t) pcm[i + 1] << 8));

        /* sign-extend bit 15 without implementation-defined casts */
        s -= (s & 0x8000) << 1;

        /* at most 32768^2 = 2^30: fits in int32_t */
        sum += (uint64_t) (s * s);
    }

    return sum;
}


int
ngx_http_rtagent_pcm_dbfs(const uint8_t *pcm, size_t len)
{
    double    level;
    size_t    n;
    uint64_t  energy;

    n = len / 2;

    if (n == 0) {
        return NGX_HTTP_RTAGENT_DBFS_MIN;
    }

    energy = ngx_http_rtagent_pcm_energy(pcm, len);

    if (energy == 0) {
        return NGX_HTTP_RTAGENT_DBFS_MIN;
    }

    level = 10.0 * log10((double) energy / (double) n
                         / (double) NGX_HTTP_RTAGENT_FULL_SCALE_SQ);

    level = floor(level + 0.5);

    if (level < NGX_HTTP_RTAGENT_DBFS_MIN) {
        return NGX_HTTP_RTAGENT_DBFS_MIN;
    }

    if (level > 0) {
        return 0;
    }

    return (int) level;
}


/*
 * energy / n >= threshold / 2^16, decided exactly in integers without
 * overflow for any frame under 2^33 samples (16 GiB): with q = energy / n
 * and r = energy % n it is q * 2^16 + r * 2^16 / n >= threshold, where
 * the fraction is below 2^16, so only a shortfall d < 2^16 needs the
 * r * 2^16 >= d * n test; one division per frame, none per sample
 */

static int
ngx_http_rtagent_vad_frame_voiced(const ngx_http_rtagent_vad_t *vad,
    const uint8_t *pcm, size_t len)
{
    uint64_t  n, energy, q, r, hi, d;

    n = len / 2;

    if (n == 0) {
        return 0;
    }

    energy = ngx_http_rtagent_pcm_energy(pcm, len);

    q = energy / n;
    r = energy % n;

    hi = q << NGX_HTTP_RTAGENT_VAD_SHIFT;

    if (hi >= vad->threshold) {
        return 1;
    }

    d = vad->threshold - hi;

    if (d >= ((uint64_t) 1 << NGX_HTTP_RTAGENT_VAD_SHIFT)) {
        return 0;
    }

    return (r << NGX_HTTP_RTAGENT_VAD_SHIFT) >= d * n;
}
