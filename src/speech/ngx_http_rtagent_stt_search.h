
/*
 * Named STT searches: what a turn can tell the STT to expect.  Registered
 * while nginx reads its configuration (by "rtagent_stt_search" or by
 * another module, e.g. the agents' grammars) and checked there, so a bad
 * one fails nginx -t with its name:
 *
 *   JSGF      a grammar (closed answers: digits, yes/no, a date)
 *   PHRASES   example phrases and vocabulary, from which a bigram
 *             language model is built at once (ngx_http_rtagent_lm.h);
 *             a word the pocketsphinx dictionary lacks is left out with a
 *             warning naming the search
 *
 * The searches belong to the configuration cycle: after a reload new
 * workers see the new ones.  A turn names one (stt->expect, or the
 * location's "rtagent_stt_expect"); the local STT loads every search into
 * each of its decoders once and activates the one named per utterance.
 * src/speech/ knows no agents: names are opaque here.
 */


#ifndef _NGX_HTTP_RTAGENT_STT_SEARCH_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_STT_SEARCH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* the en-us model of Debian's pocketsphinx-en-us */
#define NGX_HTTP_RTAGENT_PS_MODEL  "/usr/share/pocketsphinx/model/en-us/"
#define NGX_HTTP_RTAGENT_PS_DICT   NGX_HTTP_RTAGENT_PS_MODEL \
                                   "cmudict-en-us.dict"

/* the longest search name */
#define NGX_HTTP_RTAGENT_STT_SEARCH_NAME_MAX  128


typedef enum {
    NGX_HTTP_RTAGENT_STT_SEARCH_JSGF = 0,
    NGX_HTTP_RTAGENT_STT_SEARCH_PHRASES
} ngx_http_rtagent_stt_search_kind_e;


/* what add() is given */
typedef struct {
    ngx_http_rtagent_stt_search_kind_e  kind;
    ngx_str_t                   jsgf;         /* JSGF: the grammar */
    ngx_str_t                  *phrases;      /* PHRASES: whole answers */
    ngx_uint_t                  nphrases;
    ngx_str_t                  *vocabulary;   /* words or fragments
                                               * ("parking lot") */
    ngx_uint_t                  nvocabulary;
    ngx_str_t                   source;       /* for messages: where it
                                               * comes from, may be empty */
} ngx_http_rtagent_stt_search_def_t;


/* a registered search, in the cycle's pool; strings NUL-terminated */
typedef struct {
    ngx_str_t                   name;
    ngx_http_rtagent_stt_search_kind_e  kind;
    ngx_str_t                   text;         /* the JSGF grammar, or the
                                               * bigram model built, as
                                               * an FSG (lm.h says why) */
    ngx_uint_t                  words;        /* the LM's, for messages */
} ngx_http_rtagent_stt_search_t;


/*
 * Registers a search (configuration time only).  NGX_OK, or NGX_ERROR
 * with the reason logged at emerg naming the search (and def->source): a
 * duplicate or bad name, a JSGF syntax error, a grammar without a public
 * rule, a grammar word the dictionary lacks, phrases with no known word.
 */
ngx_int_t ngx_http_rtagent_stt_search_add(ngx_conf_t *cf, ngx_str_t *name,
    ngx_http_rtagent_stt_search_def_t *def);

/*
 * 1 if the pocketsphinx dictionary has the word (len bytes, compared
 * lowercased), 0 if not, -1 if the dictionary cannot be read (logged).
 * Configuration time only: generators use it to leave unknown words out.
 */
ngx_int_t ngx_http_rtagent_stt_search_known(ngx_conf_t *cf, u_char *word,
    size_t len);

/* the cycle's searches (an array of ngx_http_rtagent_stt_search_t, may be
 * empty), or NULL when the cycle has no http block */
ngx_array_t *ngx_http_rtagent_stt_searches(ngx_cycle_t *cycle);

/* the search of that name, or NULL */
ngx_http_rtagent_stt_search_t *ngx_http_rtagent_stt_search_find(
    ngx_cycle_t *cycle, ngx_str_t *name);

/* a location's "rtagent_stt_expect" (loc_conf as in speech_pick_t): its
 * name, empty when none */
ngx_str_t *ngx_http_rtagent_stt_search_expect(void **loc_conf);


#endif /* _NGX_HTTP_RTAGENT_STT_SEARCH_H_INCLUDED_ */
