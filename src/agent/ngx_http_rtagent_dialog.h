
/*
 * The local dialogue engine (issue 10 item 7): one agent's "local" section
 * run as a state machine over the caller's text.  Pure C, no nginx, no
 * I/O, like the agent definitions it reads: the orchestrator hands it a
 * turn, runs the actions it asks for (say, a tool, a handoff, a transfer,
 * the end) and feeds a tool's result back.  Everything it remembers lives
 * in the call's fields (below), so the orchestrator can keep them in the
 * call's Redis hash and another worker can resume the call.
 */


#ifndef _NGX_HTTP_RTAGENT_DIALOG_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_DIALOG_H_INCLUDED_


#include <stddef.h>

#include <agent/ngx_http_rtagent_agent_def.h>


/*
 * The call's fields: NUL-terminated names and values.  Slot values under
 * the slot's name ("when", "policy"), tool results under the result's keys
 * ("claim_id", "name", "verified"), the engine's own bookkeeping under
 * names that start with "_" and the agent's name ("_fnol.stage").  Values
 * are normalised: digits as digits, dates ISO 8601, yes/no as "yes"/"no",
 * numbers in decimal.  The engine adds and replaces entries through the
 * allocator; it never frees.
 */
typedef struct {
    const char                         *name;
    const char                         *value;
} ngx_http_rtagent_dialog_field_t;

typedef struct {
    ngx_http_rtagent_dialog_field_t    *elts;
    size_t                              nelts;
    size_t                              nalloc;
} ngx_http_rtagent_dialog_fields_t;


/* what the orchestrator is asked to do, in order */
typedef enum {
    NGX_HTTP_RTAGENT_DIALOG_SAY = 0,    /* arg: the text to speak */
    NGX_HTTP_RTAGENT_DIALOG_TOOL,       /* arg: a tool of the agent (never
                                         * transfer_to_human or end_call);
                                         * its arguments are the fields;
                                         * the result comes back through
                                         * dialog_tool_done() */
    NGX_HTTP_RTAGENT_DIALOG_HANDOFF,    /* arg: the agent to switch to
                                         * (one of its handoffs), text: a
                                         * one-line summary for it */
    NGX_HTTP_RTAGENT_DIALOG_TRANSFER,   /* arg: the escalation target
                                         * ("queue:claims"): the caller
                                         * asked, auth failed, an
                                         * emergency, a tool failed, no
                                         * match after max_attempts, or a
                                         * transfer_to_human tool */
    NGX_HTTP_RTAGENT_DIALOG_END         /* end the call (end_call) */
} ngx_http_rtagent_dialog_act_e;

typedef struct {
    ngx_http_rtagent_dialog_act_e       kind;
    const char                         *arg;
    const char                         *text;
} ngx_http_rtagent_dialog_action_t;


#define NGX_HTTP_RTAGENT_DIALOG_ACTIONS_MAX  8

/*
 * One step's result.  TOOL, HANDOFF, TRANSFER and END come last when
 * present: after TOOL nothing happens until dialog_tool_done(), after
 * HANDOFF the orchestrator enters the target agent.
 *
 * expect names the STT search for the caller's next turn, by convention
 * "<agent>.<slot>" for a slot's answer, "<agent>.confirm" for a yes/no
 * confirmation and "<agent>.intents" for the agent's open question (its
 * "ask"); NULL for the generic model.  The agent module registers a search
 * under each of these names when it loads the agents.
 */
typedef struct {
    ngx_http_rtagent_dialog_action_t    act[NGX_HTTP_RTAGENT_DIALOG_ACTIONS_MAX];
    size_t                              n;
    const char                         *expect;
} ngx_http_rtagent_dialog_out_t;


typedef void *(*ngx_http_rtagent_dialog_alloc_pt)(void *ctx, size_t size);
/* ngx_http_rtagent_safety_redact()'s shape */
typedef size_t (*ngx_http_rtagent_dialog_redact_pt)(const unsigned char *text,
    size_t len, unsigned char *out, size_t outlen, unsigned *count);

typedef struct {
    ngx_http_rtagent_dialog_alloc_pt    alloc;
    void                               *alloc_ctx;
    const ngx_http_rtagent_agent_def_t *agent;    /* has a local section */
    ngx_http_rtagent_dialog_fields_t   *fields;   /* the call's */
    /* the call's date, "YYYY-MM-DD", for relative dates ("yesterday") */
    const char                         *today;
    /* rtagent_redact on: free text is kept (in the fields, and so in the
     * call's slots, summaries and tool arguments) as it redacts it; NULL:
     * as said */
    ngx_http_rtagent_dialog_redact_pt   redact;
} ngx_http_rtagent_dialog_t;


/*
 * The agent becomes the active one (the call's start, or a handoff): its
 * greeting and its first question (the first slot not yet filled, or its
 * "ask").  0, or -1 when out of memory.
 */
int ngx_http_rtagent_dialog_enter(ngx_http_rtagent_dialog_t *d,
    ngx_http_rtagent_dialog_out_t *out);

/*
 * The caller said text (len bytes, UTF-8, already screened).  Intents
 * first, then the slot asked, then any other slot the text fills
 * (volunteered facts are not asked again), confirmation, re-prompts on no
 * match, escalation after max_attempts.  0, or -1 when out of memory.
 */
int ngx_http_rtagent_dialog_turn(ngx_http_rtagent_dialog_t *d,
    const unsigned char *text, size_t len,
    ngx_http_rtagent_dialog_out_t *out);

/*
 * The TOOL asked for has finished: ok 1 with its result already merged
 * into the fields by the caller, or ok 0 (failed, timed out).  Goes on
 * with the agent's on_complete say (templates "{name}" filled from the
 * fields) or its failure line.  0, or -1 when out of memory.
 */
int ngx_http_rtagent_dialog_tool_done(ngx_http_rtagent_dialog_t *d, int ok,
    ngx_http_rtagent_dialog_out_t *out);

/* the value of a field, or NULL */
const char *ngx_http_rtagent_dialog_get(ngx_http_rtagent_dialog_fields_t *f,
    const char *name);

/* sets (adds or replaces) a field, copying both; 0 or -1 (no memory) */
int ngx_http_rtagent_dialog_set(ngx_http_rtagent_dialog_t *d,
    const char *name, const char *value);


#endif /* _NGX_HTTP_RTAGENT_DIALOG_H_INCLUDED_ */
