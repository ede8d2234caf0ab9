
/*
 * rtagent-call's audio helpers, pure C: a RIFF/WAVE reader that takes a
 * file or a stream (espeak-ng --stdout writes no sizes), the energy test
 * that tells the agent's speech from its silence, and the percentiles of
 * the load report.
 */


#ifndef _RC_WAV_H_INCLUDED_
#define _RC_WAV_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


typedef struct {
    unsigned         rate;
    unsigned         channels;
    const uint8_t   *data;        /* PCM16LE, interleaved */
    size_t           len;         /* bytes, whole frames */
} rc_wav_t;


/*
 * Finds the PCM16 samples of a WAV held in buf.  A data chunk whose size
 * runs past the end of buf (a stream's 0 or 0xffffffff) ends with buf.
 * 0, or -1 with the reason in err.
 */
int rc_wav_parse(const uint8_t *buf, size_t len, rc_wav_t *wav,
    char *err, size_t errlen);

/*
 * Mono PCM16 of wav (channels averaged) into a new buffer of *samples
 * samples; NULL when out of memory.
 */
int16_t *rc_wav_mono(const rc_wav_t *wav, size_t *samples);

/* the mean absolute amplitude of n samples (0 for n == 0) */
unsigned rc_pcm_level(const int16_t *pcm, size_t n);

/*
 * The p-th percentile (0..100, nearest rank) of n values, which it
 * sorts; 0 when n is 0.
 */
double rc_percentile(double *v, size_t n, double p);


#endif /* _RC_WAV_H_INCLUDED_ */
