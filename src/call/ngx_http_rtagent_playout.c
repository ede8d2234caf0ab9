
/*
 * Paced audio out (see ngx_http_rtagent_playout.h).  The pace is computed
 * from the wall clock at every tick, so late timers do not accumulate
 * drift: each tick sends whatever frames are due.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <call/ngx_http_rtagent_playout.h>
#include <audio/ngx_http_rtagent_vad.h>


static void ngx_http_rtagent_playout_tick(ngx_event_t *ev);
static void ngx_http_rtagent_playout_free(ngx_http_rtagent_playout_t *pl);
static void ngx_http_rtagent_playout_begin(ngx_http_rtagent_playout_t *pl);
static size_t ngx_http_rtagent_playout_ahead(ngx_http_rtagent_playout_t *pl);


ngx_int_t
ngx_http_rtagent_playout_init(ngx_http_rtagent_playout_t *pl,
    ngx_pool_t *pool, ngx_http_rtagent_channel_t *ch, size_t frame_bytes,
    ngx_msec_t frame_ms, ngx_msec_t lead)
{
    size_t   hist;
    u_char  *p;

    ngx_memzero(pl, sizeof(ngx_http_rtagent_playout_t));

    /* the lead and the frame being played when the pause comes */
    hist = (lead / frame_ms + 2) * frame_bytes;

    p = ngx_pnalloc(pool, frame_bytes + hist);
    if (p == NULL) {
        return NGX_ERROR;
    }

    pl->frame = p;
    ngx_http_rtagent_ring_init(&pl->history, p + frame_bytes, hist);

    pl->channel = ch;
    pl->frame_bytes = frame_bytes;
    pl->frame_ms = frame_ms;
    pl->lead = lead;

    ngx_http_rtagent_timer_init(&pl->timer, ngx_http_rtagent_playout_tick,
                                pl, ch->log);

    return NGX_OK;
}


/* takes over the audio ring and its buffer; a playout under way is dropped */

void
ngx_http_rtagent_playout_play(ngx_http_rtagent_playout_t *pl,
    ngx_http_rtagent_ring_t *audio)
{
    ngx_http_rtagent_playout_stop(pl);

    pl->audio = *audio;
    ngx_memzero(audio, sizeof(ngx_http_rtagent_ring_t));

    ngx_http_rtagent_playout_begin(pl);
}


/* a fresh stretch of audio, paced from now */

static void
ngx_http_rtagent_playout_begin(ngx_http_rtagent_playout_t *pl)
{
    pl->start = ngx_current_msec;
    pl->spoke = pl->start;
    pl->frames = 0;
    ngx_http_rtagent_ring_reset(&pl->history);

    ngx_http_rtagent_playout_tick(&pl->timer.event);
}


void
ngx_http_rtagent_playout_stop(ngx_http_rtagent_playout_t *pl)
{
    if (pl->timer.event.timer_set) {
        ngx_del_timer(&pl->timer.event);
    }

    pl->paused = 0;
    pl->hold = 0;
    ngx_http_rtagent_playout_free(pl);
}


void
ngx_http_rtagent_playout_end(ngx_http_rtagent_playout_t *pl)
{
    if (!pl->hold) {
        return;
    }

    pl->hold = 0;

    /* what waited for more: the last part of a frame, or nothing */
    if (pl->audio.buf != NULL && !pl->paused && !pl->timer.event.timer_set) {
        ngx_http_rtagent_playout_tick(&pl->timer.event);
    }
}


/* the bytes sent that the far end has not played by now: whole frames
 * played, the one it is playing is not */

static size_t
ngx_http_rtagent_playout_ahead(ngx_http_rtagent_playout_t *pl)
{
    size_t  unheard, played;

    played = (ngx_current_msec - pl->start) / pl->frame_ms;
    unheard = pl->frames > played ? pl->frames - played : 0;

    return ngx_min(unheard * pl->frame_bytes,
                   ngx_http_rtagent_ring_len(&pl->history));
}


size_t
ngx_http_rtagent_playout_unheard(ngx_http_rtagent_playout_t *pl)
{
    size_t  n;

    n = ngx_http_rtagent_ring_len(&pl->audio);

    /* paused: what was sent and not played is queued again */
    if (!pl->paused) {
        n += ngx_http_rtagent_playout_ahead(pl);
    }

    return n;
}


ngx_int_t
ngx_http_rtagent_playout_pause(ngx_http_rtagent_playout_t *pl)
{
    size_t                   unheard, size, n;
    u_char                  *buf;
    ngx_http_rtagent_ring_t  kept;

    if (pl->timer.event.timer_set) {
        ngx_del_timer(&pl->timer.event);
    }

    pl->paused = 1;

    /* what the far end had not played is sent again */
    unheard = ngx_http_rtagent_playout_ahead(pl);

    if (unheard == 0) {
        return NGX_OK;
    }

    size = unheard + ngx_http_rtagent_ring_len(&pl->audio);

    buf = ngx_http_rtagent_audio_alloc(size, pl->channel->log);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    ngx_http_rtagent_ring_init(&kept, buf, size);

    (void) ngx_http_rtagent_ring_drop(&pl->history,
                                      ngx_http_rtagent_ring_len(&pl->history)
                                      - unheard);
    n = ngx_http_rtagent_ring_read(&pl->history, buf, unheard);
    kept.len = n + ngx_http_rtagent_ring_read(&pl->audio, buf + n, size - n);

    ngx_http_rtagent_playout_free(pl);
    pl->audio = kept;

    return NGX_OK;
}


void
ngx_http_rtagent_playout_resume(ngx_http_rtagent_playout_t *pl)
{
    if (!pl->paused) {
        return;
    }

    pl->paused = 0;

    if (ngx_http_rtagent_ring_len(&pl->audio) > 0) {
        ngx_http_rtagent_playout_begin(pl);

    } else {
        ngx_http_rtagent_playout_free(pl);
    }
}


ngx_int_t
ngx_http_rtagent_playout_append(ngx_http_rtagent_playout_t *pl,
    const u_char *pcm, size_t len)
{
    size_t                   size;
    u_char                  *buf;
    ngx_http_rtagent_ring_t  grown;

    if (ngx_http_rtagent_ring_free(&pl->audio) < len) {
        size = ngx_max(pl->audio.size * 2,
                       ngx_http_rtagent_ring_len(&pl->audio) + len);

        buf = ngx_http_rtagent_audio_alloc(size, pl->channel->log);
        if (buf == NULL) {
            return NGX_ERROR;
        }

        ngx_http_rtagent_ring_init(&grown, buf, size);
        grown.len = ngx_http_rtagent_ring_read(&pl->audio, buf, size);

        ngx_http_rtagent_playout_free(pl);
        pl->audio = grown;
    }

    (void) ngx_http_rtagent_ring_write(&pl->audio, pcm, len);

    if (!pl->timer.event.timer_set && !pl->paused) {

        if (pl->frames
            && pl->frames * pl->frame_ms > ngx_current_msec - pl->start)
        {
            /* a gap the far end has not reached yet: the same stretch */
            ngx_http_rtagent_playout_tick(&pl->timer.event);

        } else {
            ngx_http_rtagent_playout_begin(pl);
        }
    }

    return NGX_OK;
}


static void
ngx_http_rtagent_playout_tick(ngx_event_t *ev)
{
    size_t                       n;
    ngx_msec_t                   due;
    ngx_http_rtagent_timer_t    *t;
    ngx_http_rtagent_playout_t  *pl;

    t = ev->data;
    pl = t->data;

    /* milliseconds of audio that may have left by now */
    due = ngx_current_msec - pl->start + pl->lead;

    while (ngx_http_rtagent_ring_len(&pl->audio)
           >= (pl->hold ? pl->frame_bytes : 1)
           && pl->frames * pl->frame_ms < due)
    {
        n = ngx_http_rtagent_ring_read(&pl->audio, pl->frame,
                                       pl->frame_bytes);

        /* the last frame is padded with silence to a whole frame */
        ngx_memzero(pl->frame + n, pl->frame_bytes - n);

        if (pl->channel->send_audio(pl->channel, pl->frame, pl->frame_bytes)
            != NGX_OK)
        {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, pl->channel->log, 0,
                           "rtagent playout: channel refused audio");
            ngx_http_rtagent_playout_free(pl);
            return;
        }

        /* for the echo guard, and for a pause to send it again */
        pl->energy = ngx_http_rtagent_pcm_energy(pl->frame, pl->frame_bytes);
        (void) ngx_http_rtagent_ring_push_evict(&pl->history, pl->frame,
                                                pl->frame_bytes);
        pl->frames++;
    }

    if (pl->hold
        && ngx_http_rtagent_ring_len(&pl->audio) < pl->frame_bytes)
    {
        /* more is coming: append() or end() goes on */
        return;
    }

    if (ngx_http_rtagent_ring_len(&pl->audio) == 0) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pl->channel->log, 0,
                       "rtagent playout: done, %ui frames, call:%V",
                       pl->frames, &pl->channel->call_id);
        ngx_http_rtagent_playout_free(pl);

        if (pl->drained) {
            pl->drained(pl->data);
        }

        return;
    }

    ngx_add_timer(&pl->timer.event, pl->frame_ms);
}


static void
ngx_http_rtagent_playout_free(ngx_http_rtagent_playout_t *pl)
{
    if (pl->audio.buf != NULL) {
        ngx_http_rtagent_audio_free(pl->audio.buf, pl->audio.size,
                                    pl->channel->log);
        ngx_memzero(&pl->audio, sizeof(ngx_http_rtagent_ring_t));
    }
}
