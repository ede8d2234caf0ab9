
/*
 * The chat-completions client (PROTOCOLS.md 5) on the non-blocking HTTP
 * client, and the model router.  Endpoints are Azure OpenAI deployments
 * (deployment URL, api-version, api-key or bearer) or OpenAI-compatible
 * servers (/chat/completions, bearer); a route names an ordered list of
 * them (rtagent_llm_endpoint, rtagent_model_route).  A request is one
 * streamed completion: text deltas go to on_text as they arrive, tool
 * calls are assembled, and on_done tells how it ended.
 *
 * Failover: a 408, 429 (its Retry-After / retry-after-ms then rests that
 * endpoint in this worker for as long), 5xx, a connection failure, a
 * timeout, or no first token within rtagent_llm_first_token_timeout moves
 * the request to the route's next endpoint, counted and logged.  After the
 * first token (text or a tool call) nothing is retried: the caller may
 * have heard it, and the turn fails instead.  Knows nothing of calls,
 * audio or ACS.
 */


#ifndef _NGX_HTTP_RTAGENT_LLM_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_LLM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ngx_http_rtagent_core.h>
#include <io/ngx_http_rtagent_http.h>
#include <llm/ngx_http_rtagent_chat.h>


#define NGX_HTTP_RTAGENT_LLM_AZURE   0
#define NGX_HTTP_RTAGENT_LLM_OPENAI  1

#define NGX_HTTP_RTAGENT_LLM_ROUTE_MAX  8


typedef struct ngx_http_rtagent_llm_endpoint_s
    ngx_http_rtagent_llm_endpoint_t;


typedef struct {
    ngx_str_t                     name;
    ngx_http_rtagent_llm_endpoint_t  *endpoints[NGX_HTTP_RTAGENT_LLM_ROUTE_MAX];
    ngx_uint_t                    n;
} ngx_http_rtagent_llm_route_t;


struct ngx_http_rtagent_llm_endpoint_s {
    ngx_str_t                     name;
    ngx_str_t                     url;          /* base, no trailing / */
    ngx_uint_t                    kind;         /* AZURE, OPENAI */
    ngx_str_t                     model;        /* Azure: the deployment */
    ngx_str_t                     api_version;  /* Azure */
    /* NULL when not given; a file:PATH one follows its file */
    ngx_http_rtagent_secret_t    *key;          /* api-key / bearer */
    ngx_http_rtagent_secret_t    *token;        /* Azure: Entra bearer */
    ngx_str_t                     full_url;     /* made at conf time */

    /* per worker */
    ngx_msec_t                    rest_until;   /* after a 429 */
    ngx_uint_t                    requests;
    ngx_uint_t                    failures;

    ngx_http_rtagent_llm_route_t  alone;        /* a route of its own */
};


/* http{}: endpoints and routes */
typedef struct {
    ngx_array_t                   endpoints;    /* llm_endpoint_t * */
    ngx_array_t                   routes;       /* llm_route_t * */
    ngx_uint_t                    failovers;    /* per worker */
} ngx_http_rtagent_llm_main_conf_t;


/* locations: timeouts, rounds, budget */
typedef struct {
    ngx_msec_t                    first_token_timeout;
    ngx_msec_t                    timeout;
    ngx_uint_t                    max_tool_rounds;
    size_t                        context_budget;   /* tokens */
    size_t                        tool_result_max;  /* bytes */
    ngx_msec_t                    tool_filler_after;
    ngx_str_t                     tool_filler;
    ngx_str_t                     route;            /* when the agent
                                                     * names none */

    /* rtagent_prompt_shield: the caller's words before the model */
    ngx_str_t                     shield_url;       /* whole; len 0: off,
                                                     * data NULL: unset */
    ngx_str_t                     shield_key;
    ngx_msec_t                    shield_timeout;
    ngx_uint_t                    shield_open;      /* fail=open */
    ngx_str_t                     shield_refusal;
} ngx_http_rtagent_llm_conf_t;


typedef struct ngx_http_rtagent_llm_req_s  ngx_http_rtagent_llm_req_t;

typedef void (*ngx_http_rtagent_llm_text_pt)(ngx_http_rtagent_llm_req_t *req,
    const char *p, size_t len);
typedef void (*ngx_http_rtagent_llm_done_pt)(ngx_http_rtagent_llm_req_t *req);


struct ngx_http_rtagent_llm_req_s {
    /* the caller's, set before start */
    ngx_str_t                     route;
    ngx_http_rtagent_chat_request_t  body;   /* valid until done; its model
                                              * is set per endpoint */
    void                        **loc_conf;
    ngx_log_t                    *log;
    ngx_str_t                    *call_id;
    ngx_http_rtagent_llm_text_pt  on_text;
    ngx_http_rtagent_llm_done_pt  on_done;
    void                         *data;

    /* the outcome, in on_done: rc NGX_OK with chat.finish and chat.calls,
     * or NGX_ERROR with err (a static string or in the request's pool) */
    ngx_int_t                     rc;
    const char                   *err;
    ngx_http_rtagent_chat_t       chat;
    ngx_http_rtagent_llm_endpoint_t  *endpoint;  /* that answered */
    ngx_uint_t                    failovers;
    ngx_msec_t                    started;
    ngx_msec_t                    first_token;   /* 0: none yet */

    /* private */
    ngx_http_rtagent_llm_route_t *rt;
    ngx_uint_t                    next;          /* in rt */
    ngx_http_rtagent_http_job_t  *job;
    ngx_http_rtagent_timer_t      first_timer;
    ngx_event_t                   finish;        /* posted */
    ngx_msec_t                    rest;          /* the 429's */
    size_t                        errbody_len;
    u_char                        errbody[512];  /* an error response's */
    u_char                        errbuf[320];
    unsigned                      ok_status:1;
    unsigned                      got_token:1;
    unsigned                      chat_init:1;
    unsigned                      running:1;
    unsigned                      stream_failed:1;
    unsigned                      feeding:1;     /* inside chat_feed */
    unsigned                      cancelled:1;
};


/*
 * Starts the request on the route's first endpoint that is not resting:
 * NGX_OK (on_done follows, from the event loop), or NGX_ERROR with
 * req->err (no such route, nothing could start).
 */
ngx_int_t ngx_http_rtagent_llm_start(ngx_http_rtagent_llm_req_t *req);

/*
 * Stops the request at once (the HTTP job is removed, its connection
 * closed): no callback follows.  Also frees what a done request holds
 * (call it once its calls were read); safe to call more than once.
 */
void ngx_http_rtagent_llm_cancel(ngx_http_rtagent_llm_req_t *req);

/* the route of that name; an endpoint's name is a route of its own */
ngx_http_rtagent_llm_route_t *ngx_http_rtagent_llm_route(ngx_str_t *name);

/* the worker's failover count (for metrics and logs), or NULL */
ngx_uint_t *ngx_http_rtagent_llm_failovers(void);

/* tokens of text, estimated from its bytes (4 bytes a token, rounded up) */
#define ngx_http_rtagent_llm_tokens(bytes)  (((bytes) + 3) / 4)


#define ngx_http_rtagent_llm_conf(loc_conf)                                  \
    ((ngx_http_rtagent_llm_conf_t *)                                         \
         (loc_conf)[ngx_http_rtagent_llm_module.ctx_index])


extern ngx_module_t  ngx_http_rtagent_llm_module;


#endif /* _NGX_HTTP_RTAGENT_LLM_H_INCLUDED_ */
