
/*
 * The turn interface: where the call session meets the brain.  At the end
 * of a caller's utterance the session hands its final transcript to a
 * responder (rtagent_engine: say_back today, the agents next) and gets the
 * reply back as a stream of text pieces, then done (OK or an error).  The
 * session may cancel a turn at any time (barge-in, hang-up); no callback
 * follows a cancel.  Callbacks run on the event loop, never from inside
 * cancel(); a responder whose reply is at hand when it starts (say_back)
 * gives it from inside start(), which the session is ready for: a hop
 * through a posted event would wait for the rest of the event loop's
 * pass, milliseconds with a thousand calls.  Others answer later.
 */


#ifndef _NGX_HTTP_RTAGENT_TURN_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_TURN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct ngx_http_rtagent_turn_s  ngx_http_rtagent_turn_t;


/* what the turn answers */
typedef enum {
    NGX_HTTP_RTAGENT_TURN_CALLER = 0,     /* the caller's transcript */
    NGX_HTTP_RTAGENT_TURN_REPROMPT,       /* the caller has been silent
                                           * (rtagent_idle_reprompt): ask
                                           * again, "Are you still there?" */
    NGX_HTTP_RTAGENT_TURN_GOODBYE,        /* still silent: the last line
                                           * before the call is ended */
    NGX_HTTP_RTAGENT_TURN_GREETING        /* the call has just started:
                                           * the agent speaks first */
} ngx_http_rtagent_turn_kind_e;


/* what the session does once the reply has been heard (turn->after) */
typedef enum {
    NGX_HTTP_RTAGENT_TURN_AFTER_LISTEN = 0,  /* the caller's next turn */
    NGX_HTTP_RTAGENT_TURN_AFTER_TRANSFER,    /* hand the call to
                                              * turn->target (the channel's
                                              * transfer) */
    NGX_HTTP_RTAGENT_TURN_AFTER_END          /* end the call */
} ngx_http_rtagent_turn_after_e;


#define NGX_HTTP_RTAGENT_TURN_HEARD_ALL  ((size_t) -1)


/* what the caller said; times are ngx_current_msec */
typedef struct {
    ngx_str_t                    text;
    double                       confidence;   /* 0..1, -1 when unknown */
    ngx_str_t                    language;
    ngx_msec_t                   speech_start; /* VAD onset */
    ngx_msec_t                   speech_end;   /* VAD end of speech */
    ngx_msec_t                   stt_final;    /* the final result came */
} ngx_http_rtagent_transcript_t;


/* a piece of the reply, any length (a token, a sentence); copy to keep */
typedef void (*ngx_http_rtagent_turn_text_pt)(ngx_http_rtagent_turn_t *turn,
    ngx_str_t *piece);
/* the reply is complete (NGX_OK) or failed (NGX_ERROR, err for logs) */
typedef void (*ngx_http_rtagent_turn_done_pt)(ngx_http_rtagent_turn_t *turn,
    ngx_int_t rc, const char *err);


typedef struct {
    ngx_str_t                    name;         /* "say_back", "agents" */
    ngx_int_t                  (*start)(ngx_http_rtagent_turn_t *turn);
    void                       (*cancel)(ngx_http_rtagent_turn_t *turn);

    /*
     * optional (NULL: the engine has no agents): the name of the agent
     * answering the call now, after the last turn's handoffs; NGX_OK, or
     * NGX_DECLINED when there is none yet.  The name lives as long as the
     * configuration.
     */
    ngx_int_t                  (*agent)(ngx_http_rtagent_turn_t *turn,
                                        ngx_str_t *name);

    /* 1: the reply waits on a model elsewhere (the LLM), so the time from
     * start() to the first text is not the gateway's own (the turn's
     * timings keep it out of gateway_us) */
    ngx_uint_t                   remote;
} ngx_http_rtagent_responder_t;


struct ngx_http_rtagent_turn_s {
    /* set by the call session before start() */
    ngx_uint_t                      kind;        /* turn_kind_e */
    ngx_http_rtagent_transcript_t   transcript;  /* valid until done; empty
                                                  * text but for CALLER */
    ngx_uint_t                      number;      /* 1, 2, ... in the call */
    ngx_pool_t                     *pool;        /* the call's */
    ngx_log_t                      *log;
    ngx_str_t                      *call_id;
    void                          **loc_conf;    /* see speech_pick_t */
    ngx_http_rtagent_turn_text_pt   on_text;
    ngx_http_rtagent_turn_done_pt   on_done;
    void                           *data;

    /*
     * set by the responder before on_done(NGX_OK), reset by the session
     * before each start(): what the caller's next turn is expected to be
     * (the name of an STT search registered at configuration time, e.g.
     * "auth.policy"; empty: the generic model), and what follows the reply
     */
    ngx_str_t                       expect;
    ngx_uint_t                      after;       /* turn_after_e */
    ngx_str_t                       target;      /* AFTER_TRANSFER's */

    /*
     * set by the session before cancel() when a confirmed barge-in cuts
     * the reply: how many bytes of the reply text (the pieces handed to
     * on_text, concatenated in order) the caller heard, cut after a whole
     * word; the responder keeps that much of its reply in its context, not
     * the unspoken rest.  NGX_HTTP_RTAGENT_TURN_HEARD_ALL (the session sets
     * it before each start()) for any other cancel, e.g. a hang-up.  Such
     * a cut comes as a cancel() after on_done() too when the reply was all
     * generated but is still being said: nothing is left to stop then, but
     * what went into the context is cut to what was heard.
     */
    size_t                          heard;

    const ngx_http_rtagent_responder_t  *responder;
    void                           *ctx;         /* the responder's */
};


#endif /* _NGX_HTTP_RTAGENT_TURN_H_INCLUDED_ */
