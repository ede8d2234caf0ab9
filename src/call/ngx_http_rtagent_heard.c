
/*
 * What the caller heard of a cut reply (see ngx_http_rtagent_heard.h).
 * Bytes are UTF-8; only ASCII white space separates words, so a cut is
 * never inside a multi-byte character.
 */


#include "ngx_http_rtagent_heard.h"


static int ngx_http_rtagent_heard_space(uint8_t c);
static size_t ngx_http_rtagent_heard_words(const uint8_t *p, size_t len,
    size_t words);


size_t
ngx_http_rtagent_heard(const uint8_t *text,
    const ngx_http_rtagent_heard_piece_t *pieces, size_t n, size_t audio,
    int open)
{
    size_t    i, start, a0, len, all;
    uint64_t  words, k, est;

    start = 0;
    a0 = 0;

    for (i = 0; i < n; i++) {
        if (audio < pieces[i].audio_end
            || (open && i == n - 1 && audio == pieces[i].audio_end))
        {
            break;
        }

        start = pieces[i].text_end;
        a0 = pieces[i].audio_end;
    }

    if (i == n) {
        return start;
    }

    /* the piece being played: [start, text_end) and [a0, audio_end) */
    len = pieces[i].text_end - start;
    all = pieces[i].audio_end - a0;

    if (open && i == n - 1 && start > 0) {
        est = (uint64_t) len * a0 / start;

        if (est > all) {
            all = (size_t) est;
        }
    }

    if (all == 0) {
        return start;
    }

    words = ngx_http_rtagent_heard_words(text + start, len, (size_t) -1);
    k = words * (audio - a0) / all;

    if (k == 0) {
        return start;
    }

    return start + ngx_http_rtagent_heard_words(text + start, len, k);
}


static int
ngx_http_rtagent_heard_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}


/*
 * With words == (size_t) -1: the number of words in p[0 .. len - 1];
 * else the length up to the end of its words-th word
 */

static size_t
ngx_http_rtagent_heard_words(const uint8_t *p, size_t len, size_t words)
{
    size_t  i, w;

    w = 0;

    for (i = 0; i < len; i++) {
        if (ngx_http_rtagent_heard_space(p[i])) {
            continue;
        }

        while (i < len && !ngx_http_rtagent_heard_space(p[i])) {
            i++;
        }

        if (++w == words) {
            return i;
        }
    }

    return words == (size_t) -1 ? w : len;
}
