
/*
 * What the caller heard of a reply that a barge-in cut: the reply goes to
 * TTS a piece (a sentence, a clause) at a time, and each piece's audio to
 * the playout; from the audio the caller heard, how much of the text.
 *
 * Pure C: no nginx headers, no allocation, no state.
 */


#ifndef _NGX_HTTP_RTAGENT_HEARD_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_HEARD_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* a piece of the reply, in the order they were said; both ends count
 * from the reply's start, so a piece begins where the one before ends */
typedef struct {
    size_t                        text_end;   /* bytes of the reply text */
    size_t                        audio_end;  /* bytes of its audio */
} ngx_http_rtagent_heard_piece_t;


/*
 * The bytes of text (the reply, text[0 .. pieces[n - 1].text_end - 1])
 * heard with audio bytes of the pieces' audio played: the pieces whose
 * audio was all played, then of the piece being played the words in
 * proportion to its audio played (floor), so the cut is after a whole
 * word.  open: the last piece's audio is still coming (TTS streams it):
 * its length is then taken at the rate of the pieces before it (audio per
 * byte of text), when that is longer than what came.
 */
size_t ngx_http_rtagent_heard(const uint8_t *text,
    const ngx_http_rtagent_heard_piece_t *pieces, size_t n, size_t audio,
    int open);


#endif /* _NGX_HTTP_RTAGENT_HEARD_H_INCLUDED_ */
