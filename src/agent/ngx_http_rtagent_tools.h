
/*
 * The tool store (issue 10 item 5): every tool an agent may call, whoever
 * asks (the local dialogue engine, the LLM engine): http tools, redis tools
 * and the built-in C functions of ngx_http_rtagent_agent_builtin_tools.
 * Arguments and results are JSON objects.  A tool runs on the event loop
 * (the non-blocking HTTP client, hiredis async) and reports back through
 * done(), never from inside run(); a failure (bad arguments, an error, a
 * timeout, a response too big) is a result like any other, with rc
 * NGX_ERROR and result {"error": "..."}, never a crash of the turn.
 *
 * What each tool takes and returns, the templates of the http and redis
 * tools, the FNOL record of create_claim and the caller's profile
 * (rtagent:profile:{<number>}: name, policy, claims as a JSON array) are
 * documented in agents/README.md ("Tools").  pool must be set: the result
 * and the target are copied into it before done(); log names the call.
 */


#ifndef _NGX_HTTP_RTAGENT_TOOLS_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_TOOLS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct ngx_http_rtagent_tool_call_s  ngx_http_rtagent_tool_call_t;

typedef void (*ngx_http_rtagent_tool_done_pt)(
    ngx_http_rtagent_tool_call_t *tc);


/* what the caller of the tool must do besides reading its result */
typedef enum {
    NGX_HTTP_RTAGENT_TOOL_ACT_NONE = 0,
    NGX_HTTP_RTAGENT_TOOL_ACT_TRANSFER,   /* transfer_to_human: target */
    NGX_HTTP_RTAGENT_TOOL_ACT_END         /* end_call */
} ngx_http_rtagent_tool_act_e;


struct ngx_http_rtagent_tool_call_s {
    /* set by the caller before run() */
    ngx_str_t                       name;
    ngx_str_t                       args;       /* a JSON object */
    ngx_str_t                       agent;      /* who calls it */
    ngx_str_t                      *call_id;
    ngx_pool_t                     *pool;       /* the call's */
    ngx_log_t                      *log;
    ngx_http_rtagent_tool_done_pt   done;
    void                           *data;

    /* set before done() */
    ngx_int_t                       rc;         /* NGX_OK or NGX_ERROR */
    ngx_str_t                       result;     /* a JSON object */
    ngx_uint_t                      act;        /* tool_act_e */
    ngx_str_t                       target;     /* ACT_TRANSFER's */

    void                           *ctx;        /* the store's */
};


/*
 * Starts the tool: NGX_OK (done() follows), or NGX_DECLINED when the
 * agent has no tool of that name, NGX_ERROR when it cannot start.
 */
ngx_int_t ngx_http_rtagent_tool_run(ngx_http_rtagent_tool_call_t *tc);

/* abandons a running tool (barge-in, hang-up): no done() follows */
void ngx_http_rtagent_tool_cancel(ngx_http_rtagent_tool_call_t *tc);


#endif /* _NGX_HTTP_RTAGENT_TOOLS_H_INCLUDED_ */
