
/*
 * Energy-based endpointer ("VAD") for PCM16 little-endian mono frames.
 *
 * Pure C: no nginx headers, no allocation, no global state.  The caller
 * feeds one frame at a time (normally 20 ms: 640 bytes at 16 kHz, 960 at
 * 24 kHz) and gets one event per frame.  The per-frame cost is one pass
 * of integer multiply-adds plus one 64-bit division; floating point is
 * used only at init and in ngx_http_rtagent_pcm_dbfs() (link with -lm).
 *
 * A frame is voiced when its RMS level is at least conf.threshold_dbfs,
 * full scale being 32768, i.e. when
 *
 *     energy / samples >= 32768^2 * 10^(threshold_dbfs / 10)
 *
 * The right side is precomputed at init in 1/65536 units and the test is
 * done exactly in integers, so the result does not depend on the frame
 * length (within 1/65536 of a unit of mean square).
 *
 * State machine, one event per frame fed:
 *
 *   SILENCE  not in an utterance.  Voiced frames are counted; an unvoiced
 *            frame before start_frames voiced frames in a row restarts
 *            the count from zero.
 *   ONSET    this frame is the start_frames-th voiced frame in a row: the
 *            utterance began start_frames - 1 frames earlier (the caller
 *            keeps those in a pre-roll).
 *   SPEECH   inside an utterance: voiced, or a pause shorter than
 *            end_frames.  A voiced frame resets the unvoiced run.
 *   END      this frame ended the utterance, either as the end_frames-th
 *            unvoiced frame in a row, or by the max_frames cut (which
 *            fires even on a voiced frame).  The END frame is the last
 *            frame of the utterance; the last "trailing" frames of it
 *            (ngx_http_rtagent_vad_trailing()) were unvoiced, so the
 *            caller can trim or keep them.
 *
 * After END the VAD is in SILENCE with a zero voiced count: speech that
 * goes on after a max_frames cut needs a fresh onset, and the END frame
 * itself never counts towards it.
 *
 * The utterance length ("frames") counts from its first voiced frame, so
 * it is start_frames at ONSET and includes the END frame.  With
 * max_frames = N > start_frames the cut is the frame that makes it N;
 * ONSET always wins over the cut, so values of max_frames up to
 * start_frames act as start_frames + 1.
 *
 * Configuration edge cases: start_frames 0 and end_frames 0 act as 1;
 * threshold_dbfs above 0 means no frame is ever voiced, below -120 acts
 * as -120.  A frame with no complete sample (len < 2) is unvoiced; an
 * odd trailing byte is ignored.
 */


#ifndef _NGX_HTTP_RTAGENT_VAD_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_VAD_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define NGX_HTTP_RTAGENT_DBFS_MIN  -120


typedef struct {
    int         threshold_dbfs;   /* e.g. -40 */
    unsigned    start_frames;     /* voiced frames in a row for onset */
    unsigned    end_frames;       /* unvoiced frames in a row that end */
    unsigned    max_frames;       /* cut after this many; 0: no limit */
} ngx_http_rtagent_vad_conf_t;


typedef enum {
    NGX_HTTP_RTAGENT_VAD_SILENCE = 0,
    NGX_HTTP_RTAGENT_VAD_ONSET,
    NGX_HTTP_RTAGENT_VAD_SPEECH,
    NGX_HTTP_RTAGENT_VAD_END
} ngx_http_rtagent_vad_event_e;


/*
 * All fields may be read by the caller; only the functions below write
 * them.
 */

typedef struct {
    ngx_http_rtagent_vad_conf_t  conf;       /* normalized copy */

    /* mean square threshold per sample, in 1/65536 units */
    uint64_t                     threshold;

    unsigned                     run;        /* voiced frames in a row */
    unsigned                     unvoiced;   /* unvoiced frames in a row */
    unsigned                     frames;     /* current or last utterance */
    unsigned                     trailing;   /* unvoiced tail at last END */

    unsigned                     speech:1;   /* inside an utterance */
    unsigned                     voiced:1;   /* last frame was voiced */
    unsigned                     cut:1;      /* last END was max_frames */
} ngx_http_rtagent_vad_t;


void ngx_http_rtagent_vad_init(ngx_http_rtagent_vad_t *vad,
    const ngx_http_rtagent_vad_conf_t *conf);

/*
 * feeds one frame; silent != 0 (ACS marked it silent) counts it as
 * unvoiced without reading pcm, which may then be NULL
 */
ngx_http_rtagent_vad_event_e ngx_http_rtagent_vad_feed(
    ngx_http_rtagent_vad_t *vad, const uint8_t *pcm, size_t len, int silent);

/* back to SILENCE with zero counters; the configuration is kept */
void ngx_http_rtagent_vad_reset(ngx_http_rtagent_vad_t *vad);

/* sum of squares of the samples; reads bytes, so pcm may be unaligned */
uint64_t ngx_http_rtagent_pcm_energy(const uint8_t *pcm, size_t len);

/*
 * RMS level rounded to the nearest integer dBFS, in [-120, 0]; -120 for
 * digital silence and for len < 2; for logs and tests only
 */
int ngx_http_rtagent_pcm_dbfs(const uint8_t *pcm, size_t len);


/* was the last fed frame voiced */
static inline int
ngx_http_rtagent_vad_voiced(const ngx_http_rtagent_vad_t *vad)
{
    return vad->voiced;
}


/*
 * how many frames at the end of the last ended utterance were unvoiced:
 * end_frames after a silence END, the current unvoiced run (maybe 0)
 * after a max_frames cut; valid from END until the next END or reset
 */
static inline unsigned
ngx_http_rtagent_vad_trailing(const ngx_http_rtagent_vad_t *vad)
{
    return vad->trailing;
}


#endif /* _NGX_HTTP_RTAGENT_VAD_H_INCLUDED_ */
