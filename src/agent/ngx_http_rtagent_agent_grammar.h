
/*
 * What each turn of an agent's local dialogue gives the STT to expect
 * (issue 10 item 7): the searches of one agent definition, named as the
 * dialogue engine names its turns' expectations (agent/dialog.h):
 *
 *   "<agent>.<slot>"   per slot, by its type:
 *       digits     JSGF: the slot's length of digits ("zero" and "oh"
 *                  among them; any count when length is 0), after an
 *                  optional lead-in taken from its examples ("my policy
 *                  number is")
 *       yes_no     JSGF: the common forms of yes and no ("yeah", "nope",
 *                  "no one was hurt") and the slot's examples
 *       number     JSGF: min..max in words (up to 200 of them; else any
 *                  number below a thousand), with "just", "about" before
 *                  and "vehicles", "people" or the slot's vocabulary after
 *       choice     JSGF: one of the vocabulary, or one of the examples
 *       date       JSGF: relative days ("yesterday", "two days ago",
 *                  "last friday"), months with ordinals ("march third",
 *                  "the third of march") and the examples
 *       time       JSGF: hours and minutes, "half past", "noon", parts of
 *                  the day, and the examples
 *       free_text  PHRASES: the examples, the vocabulary as fragments
 *   "<agent>.confirm"  JSGF yes/no, when the agent confirms (local.confirm
 *                      or a slot's confirm): a correction ("no, it was
 *                      tuesday") falls through to the generic model
 *   "<agent>.intents"  PHRASES: every intent's examples, its keywords as
 *                      fragments, when the agent has intents
 *
 * Pure C, no nginx: memory from the caller's allocator; the caller says
 * which words the STT knows (a word it does not know would fail the
 * grammar: the alternative holding it is left out) and registers what
 * comes out.
 */


#ifndef _NGX_HTTP_RTAGENT_AGENT_GRAMMAR_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_AGENT_GRAMMAR_H_INCLUDED_


#include <stddef.h>

#include <agent/ngx_http_rtagent_agent_def.h>


/* a number slot's range is spelled out up to this many values */
#define NGX_HTTP_RTAGENT_GRAMMAR_NUMBERS_MAX  200


typedef enum {
    NGX_HTTP_RTAGENT_GRAMMAR_JSGF = 0,
    NGX_HTTP_RTAGENT_GRAMMAR_PHRASES
} ngx_http_rtagent_grammar_kind_e;


/* one search; strings NUL-terminated, from the allocator */
typedef struct {
    const char                        *name;
    ngx_http_rtagent_grammar_kind_e    kind;
    const char                        *jsgf;        /* JSGF */
    const char                       **phrases;     /* PHRASES */
    size_t                             nphrases;
    const char                       **vocabulary;  /* PHRASES, fragments */
    size_t                             nvocabulary;
} ngx_http_rtagent_grammar_t;


typedef void *(*ngx_http_rtagent_grammar_alloc_pt)(void *ctx, size_t size);

/* 1 if the STT knows the word (len bytes, lowercase), 0 if not (the
 * callee may warn, naming the search), -1 on error (stops the build) */
typedef int (*ngx_http_rtagent_grammar_known_pt)(void *ctx,
    const char *search, const char *word, size_t len);

/* a search is ready; 0, or -1 to stop */
typedef int (*ngx_http_rtagent_grammar_add_pt)(void *ctx,
    const ngx_http_rtagent_grammar_t *g);


typedef struct {
    ngx_http_rtagent_grammar_alloc_pt  alloc;
    void                              *alloc_ctx;
    ngx_http_rtagent_grammar_known_pt  known;
    void                              *known_ctx;
    ngx_http_rtagent_grammar_add_pt    add;
    void                              *add_ctx;
} ngx_http_rtagent_grammar_ctx_t;


/*
 * Every search of the agent (none without a local section), each handed
 * to add() as it is made.  0, or -1 (out of memory, or known() or add()
 * said so).
 */
int ngx_http_rtagent_grammar_build(ngx_http_rtagent_grammar_ctx_t *ctx,
    const ngx_http_rtagent_agent_def_t *def);

/* one slot's search (name "<agent>.<slot>"), into *g: 0, or -1 */
int ngx_http_rtagent_grammar_slot(ngx_http_rtagent_grammar_ctx_t *ctx,
    const ngx_http_rtagent_agent_def_t *def,
    const ngx_http_rtagent_slot_def_t *slot, ngx_http_rtagent_grammar_t *g);

/* n (0 <= n < 1000000) in words ("twenty one"), into buf of size bytes:
 * its length, or 0 when it does not fit */
size_t ngx_http_rtagent_grammar_number(long n, char *buf, size_t size);


#endif /* _NGX_HTTP_RTAGENT_AGENT_GRAMMAR_H_INCLUDED_ */
