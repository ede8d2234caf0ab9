
/*
 * Cutting a reply that streams in (LLM tokens, a responder's pieces) into
 * sentences and clauses, so that each goes to TTS as soon as it is whole
 * while the next is still being written.
 *
 * Pure C: no nginx headers, no allocation, no state; the caller keeps the
 * text that came so far and asks where its first sentence ends.
 */


#ifndef _NGX_HTTP_RTAGENT_SENTENCE_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_SENTENCE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* a clause longer than this is cut at a comma, one longer still at a space */
#define NGX_HTTP_RTAGENT_SENTENCE_CLAUSE  60
#define NGX_HTTP_RTAGENT_SENTENCE_MAX     200


/*
 * The length of the first sentence in p[0 .. len - 1], its closing
 * punctuation, quotes and following white space included; 0 when it may
 * still go on.  With final (the reply is complete) whatever is left is a
 * sentence.  A period ends a sentence only when white space follows it
 * and it does not end a number or a common abbreviation ("Dr.", "e.g.").
 */
size_t ngx_http_rtagent_sentence_cut(const uint8_t *p, size_t len,
    int final);

/* p without its leading and trailing white space: the new length */
size_t ngx_http_rtagent_sentence_trim(const uint8_t **p, size_t len);


#endif /* _NGX_HTTP_RTAGENT_SENTENCE_H_INCLUDED_ */
