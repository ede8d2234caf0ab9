
/*
 * Audio out: cuts queued PCM into the channel's frames and sends them at
 * real-time pace, at most a fixed lead ahead of the clock, so that a
 * barge-in has little queued at the far end and a slow peer is not flooded.
 */


#ifndef _NGX_HTTP_RTAGENT_PLAYOUT_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_PLAYOUT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <ngx_http_rtagent_core.h>
#include <audio/ngx_http_rtagent_audio.h>
#include <call/ngx_http_rtagent_channel.h>
#include <audio/ngx_http_rtagent_ring.h>


typedef struct {
    ngx_http_rtagent_channel_t  *channel;
    ngx_http_rtagent_ring_t      audio;      /* owns audio.buf (ngx_alloc) */
    u_char                      *frame;      /* frame_bytes of scratch */
    size_t                       frame_bytes;
    ngx_msec_t                   frame_ms;
    ngx_msec_t                   lead;
    ngx_msec_t                   start;
    ngx_uint_t                   frames;     /* sent since start */
    ngx_http_rtagent_timer_t     timer;
    /* the frames last sent, up to the lead: what a pause may have to
     * send again, as the far end drops what it had not played */
    ngx_http_rtagent_ring_t      history;
    ngx_msec_t                   spoke;      /* this stretch of audio began */
    uint64_t                     energy;     /* of the last frame sent */
    unsigned                     paused:1;
    /* more audio of this stretch is coming (TTS streaming a reply): a
     * part of a frame waits for the rest, and running dry is a gap, not
     * the end (see playout_end) */
    unsigned                     hold:1;
    /* all queued audio has been sent; may not free the playout */
    void                       (*drained)(void *data);
    void                        *data;
} ngx_http_rtagent_playout_t;


ngx_int_t ngx_http_rtagent_playout_init(ngx_http_rtagent_playout_t *pl,
    ngx_pool_t *pool, ngx_http_rtagent_channel_t *ch, size_t frame_bytes,
    ngx_msec_t frame_ms, ngx_msec_t lead);
void ngx_http_rtagent_playout_play(ngx_http_rtagent_playout_t *pl,
    ngx_http_rtagent_ring_t *audio);
void ngx_http_rtagent_playout_stop(ngx_http_rtagent_playout_t *pl);
/* queues audio after what is playing (TTS pieces as they come); a playout
 * that had run dry starts again, paced from now (unless the far end still
 * has audio of the stretch held open to play: then it goes on) */
ngx_int_t ngx_http_rtagent_playout_append(ngx_http_rtagent_playout_t *pl,
    const u_char *pcm, size_t len);
/* halts sending and keeps what the far end had not played by now (it is
 * told to drop its queue), so that resume() goes on from what was heard;
 * audio appended while paused is queued */
ngx_int_t ngx_http_rtagent_playout_pause(ngx_http_rtagent_playout_t *pl);
void ngx_http_rtagent_playout_resume(ngx_http_rtagent_playout_t *pl);
/* bytes of the audio queued so far that the far end has not played by now
 * (queued, or sent within the lead ahead of its clock), as pause() keeps
 * them */
size_t ngx_http_rtagent_playout_unheard(ngx_http_rtagent_playout_t *pl);
/* no more audio comes after what is queued (pl->hold ends) */
void ngx_http_rtagent_playout_end(ngx_http_rtagent_playout_t *pl);

#define ngx_http_rtagent_playout_active(pl)  ((pl)->audio.buf != NULL)
/* audio is going out now */
#define ngx_http_rtagent_playout_sending(pl)                                  \
    ((pl)->audio.buf != NULL && !(pl)->paused)


#endif /* _NGX_HTTP_RTAGENT_PLAYOUT_H_INCLUDED_ */
