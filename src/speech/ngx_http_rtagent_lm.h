
/*
 * A bigram language model built from example phrases, written as ARPA
 * text (the format pocketsphinx's ngram_model_read() takes).  Pure C, no
 * nginx: memory comes from the caller's allocator (the nginx side passes
 * a pool), nothing is freed before the allocator's owner goes.
 *
 * The model is small and closed (a few hundred words a slot), so the
 * smoothing is kept simple and stated here:
 *
 *   V   the distinct words seen (</s> among them; <s> is not predicted)
 *   N   the word tokens seen, each </s> counted once
 *
 *   unigram   p1(w) = (c(w) + 1) / (N + |V|)        add-one, so a word
 *             given only as vocabulary (seen once, with no neighbours)
 *             can still be recognised; <s> gets log10 -99, as is usual
 *   bigram    p2(w | h) = (c(h w) - D) / c(h)       absolute discounting,
 *             D = 0.5, for each pair seen; c(h) counts h as a history
 *   backoff   a(h) = (D T(h) / c(h)) / (1 - sum p1(w), w seen after h)
 *             T(h) the distinct words seen after h: the mass taken from
 *             the seen pairs is spread over the unseen ones by p1
 *
 * so every word can follow every word, but the phrases given are by far
 * the likeliest paths.
 */


#ifndef _NGX_HTTP_RTAGENT_LM_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_LM_H_INCLUDED_


#include <stddef.h>


#define NGX_HTTP_RTAGENT_LM_DISCOUNT  0.5

/* flags of ngx_http_rtagent_lm_add() */
#define NGX_HTTP_RTAGENT_LM_BOS       0x01    /* the words start a phrase */
#define NGX_HTTP_RTAGENT_LM_EOS       0x02    /* and end it */

/* more words or tokens than this are refused (configuration time cost) */
#define NGX_HTTP_RTAGENT_LM_TOKENS_MAX  100000


typedef void *(*ngx_http_rtagent_lm_alloc_pt)(void *ctx, size_t size);

typedef struct ngx_http_rtagent_lm_s  ngx_http_rtagent_lm_t;


/* an empty model, or NULL when out of memory */
ngx_http_rtagent_lm_t *ngx_http_rtagent_lm_create(
    ngx_http_rtagent_lm_alloc_pt alloc, void *ctx);

/*
 * n NUL-terminated words (copied; compared byte for byte, so the caller
 * normalises case), in order.  With BOS the first follows <s>, with EOS
 * </s> follows the last; without them the run is a fragment of a phrase
 * (a vocabulary entry such as "parking lot", or what is left of a phrase
 * around a word the dictionary lacks).  0, or -1 (out of memory, too
 * many tokens).
 */
int ngx_http_rtagent_lm_add(ngx_http_rtagent_lm_t *lm,
    const char *const *words, size_t n, unsigned flags);

/* the distinct words added so far (without <s> and </s>) */
size_t ngx_http_rtagent_lm_nwords(ngx_http_rtagent_lm_t *lm);

/*
 * The model as ARPA text, NUL-terminated, from the allocator; *len
 * without the NUL.  NULL when out of memory or when no word was added.
 */
char *ngx_http_rtagent_lm_arpa(ngx_http_rtagent_lm_t *lm, size_t *len);

/*
 * The same model as a finite state grammar in sphinxbase's FSG text
 * format (fsg_model_read()), named name: what the local STT loads, since
 * pocketsphinx 0.8+5prealpha's n-gram search takes tens of seconds to
 * set up a small model beside a 134,000-word dictionary (its word map's
 * hash table is sized by the model), while a grammar search is set up at
 * once.  NULL when out of memory or when no word was added.
 */
char *ngx_http_rtagent_lm_fsg(ngx_http_rtagent_lm_t *lm, const char *name,
    size_t *len);


#endif /* _NGX_HTTP_RTAGENT_LM_H_INCLUDED_ */
