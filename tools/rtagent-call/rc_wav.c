
/*
 * rtagent-call's audio helpers: the WAV reader, the level of a frame and
 * the percentiles of the load report.
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rc_wav.h"


#define RC_WAV_PCM         1
#define RC_WAV_EXTENSIBLE  0xfffe


static uint32_t
rc_le32(const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}


static uint16_t
rc_le16(const uint8_t *p)
{
    return (uint16_t) (p[0] | p[1] << 8);
}


int
rc_wav_parse(const uint8_t *buf, size_t len, rc_wav_t *wav, char *err,
    size_t errlen)
{
    size_t    off, size;
    unsigned  format, bits, have_fmt;

    memset(wav, 0, sizeof(rc_wav_t));

    if (len < 12 || memcmp(buf, "RIFF", 4) != 0
        || memcmp(buf + 8, "WAVE", 4) != 0)
    {
        snprintf(err, errlen, "not a RIFF/WAVE file");
        return -1;
    }

    have_fmt = 0;
    format = 0;
    bits = 0;
    off = 12;

    while (len - off >= 8) {
        size = rc_le32(buf + off + 4);

        if (memcmp(buf + off, "fmt ", 4) == 0) {
            if (size < 16 || len - off - 8 < 16) {
                snprintf(err, errlen, "short fmt chunk");
                return -1;
            }

            format = rc_le16(buf + off + 8);
            wav->channels = rc_le16(buf + off + 10);
            wav->rate = rc_le32(buf + off + 12);
            bits = rc_le16(buf + off + 22);
            have_fmt = 1;

        } else if (memcmp(buf + off, "data", 4) == 0) {
            if (!have_fmt) {
                snprintf(err, errlen, "data chunk before the fmt chunk");
                return -1;
            }

            if ((format != RC_WAV_PCM && format != RC_WAV_EXTENSIBLE)
                || bits != 16 || wav->channels == 0 || wav->channels > 8)
            {
                snprintf(err, errlen, "not 16-bit PCM (format %u, %u bits, "
                         "%u channels)", format, bits, wav->channels);
                return -1;
            }

            if (wav->rate < 8000 || wav->rate > 192000) {
                snprintf(err, errlen, "sample rate %u Hz", wav->rate);
                return -1;
            }

            /* a stream says 0 or 0xffffffff: the data runs to the end */
            off += 8;

            if (size == 0 || size > len - off) {
                size = len - off;
            }

            wav->data = buf + off;
            wav->len = size - size % (2 * wav->channels);
            return 0;
        }

        if (size > len - off - 8) {
            break;
        }

        off += 8 + size + (size & 1);
    }

    snprintf(err, errlen, "no data chunk");
    return -1;
}


int16_t *
rc_wav_mono(const rc_wav_t *wav, size_t *samples)
{
    long      sum;
    size_t    i, n;
    int16_t  *out;
    unsigned  c;

    n = wav->len / (2 * wav->channels);
    out = malloc(n ? n * sizeof(int16_t) : 1);

    if (out == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        sum = 0;

        for (c = 0; c < wav->channels; c++) {
            sum += (int16_t) rc_le16(wav->data + 2 * (i * wav->channels + c));
        }

        out[i] = (int16_t) (sum / (long) wav->channels);
    }

    *samples = n;
    return out;
}


unsigned
rc_pcm_level(const int16_t *pcm, size_t n)
{
    size_t              i;
    unsigned long long  sum;

    if (n == 0) {
        return 0;
    }

    sum = 0;

    for (i = 0; i < n; i++) {
        sum += (unsigned) abs(pcm[i]);
    }

    return (unsigned) (sum / n);
}


static int
rc_double_cmp(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


double
rc_percentile(double *v, size_t n, double p)
{
    size_t  rank;

    if (n == 0) {
        return 0;
    }

    qsort(v, n, sizeof(double), rc_double_cmp);

    /* nearest rank: the smallest value with at least p % at or below it */
    rank = (size_t) ceil(p / 100.0 * (double) n);

    if (rank < 1) {
        rank = 1;
    }

    if (rank > n) {
        rank = n;
    }

    return v[rank - 1];
}
