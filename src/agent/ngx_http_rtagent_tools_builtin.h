
/*
 * Inside the tool store: what ngx_http_rtagent_tools.c (the store: lookup,
 * arguments, http and redis tools, the run's life) shares with
 * ngx_http_rtagent_tools_builtin.c (the built-in C tools).  Not for other
 * layers: they use ngx_http_rtagent_tools.h.
 */


#ifndef _NGX_HTTP_RTAGENT_TOOLS_BUILTIN_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_TOOLS_BUILTIN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/hiredis.h>
#include <yajl/yajl_tree.h>

#include <ngx_http_rtagent_core.h>
#include <agent/ngx_http_rtagent_agent_module.h>
#include <agent/ngx_http_rtagent_tools.h>


/* a redis or built-in tool gives up after this long (http: timeout_ms) */
#define NGX_HTTP_RTAGENT_TOOL_TIMEOUT   5000

/* Redis commands of one step, at most */
#define NGX_HTTP_RTAGENT_TOOL_REPLIES   4


typedef struct ngx_http_rtagent_tool_ctx_s  ngx_http_rtagent_tool_ctx_t;

/* the next step, once every reply of the last one came */
typedef void (*ngx_http_rtagent_tool_step_pt)(
    ngx_http_rtagent_tool_ctx_t *ctx);


/* a Redis reply copied into the run's pool; type -1: no answer */
typedef struct ngx_http_rtagent_tool_reply_s  ngx_http_rtagent_tool_reply_t;

struct ngx_http_rtagent_tool_reply_s {
    int                                type;      /* REDIS_REPLY_* */
    long long                          integer;
    ngx_str_t                          str;
    ngx_http_rtagent_tool_reply_t     *elts;
    size_t                             nelts;
};


typedef struct ngx_http_rtagent_tool_builtin_s  ngx_http_rtagent_tool_builtin_t;

struct ngx_http_rtagent_tool_builtin_s {
    ngx_str_t                          name;
    ngx_http_rtagent_tool_step_pt      start;
};


/*
 * One run, in its own pool: it outlives a cancelled or timed out tool call
 * until Redis has answered every command sent for it (hiredis calls each
 * handler exactly once).
 */
struct ngx_http_rtagent_tool_ctx_s {
    ngx_pool_t                        *pool;
    ngx_http_rtagent_tool_call_t      *tc;        /* NULL once let go */
    ngx_log_t                         *log;       /* tc->log while tc */
    ngx_str_t                          call_id;   /* copied */
    ngx_str_t                          name;      /* the tool's, copied */
    ngx_http_rtagent_agent_t          *agent;
    yajl_val                           args;      /* an object */

    const ngx_http_rtagent_tool_builtin_t  *builtin;
    void                              *tool;      /* http or redis */

    /* the step under way: replies[0..nreplies) once pending is 0 */
    ngx_http_rtagent_tool_step_pt      next;
    ngx_uint_t                         pending;
    ngx_uint_t                         nreplies;
    ngx_http_rtagent_tool_reply_t      replies[NGX_HTTP_RTAGENT_TOOL_REPLIES];
    /* the replies of the commands sent since, as they come */
    ngx_uint_t                         nincoming;
    ngx_http_rtagent_tool_reply_t      incoming[NGX_HTTP_RTAGENT_TOOL_REPLIES];

    /* the built-ins' state between steps */
    ngx_str_t                          caller;    /* peer_phone, or empty */
    ngx_str_t                          id;        /* a claim's, ... */
    ngx_str_t                          result;    /* the final JSON */
    ngx_uint_t                         attempt;
    void                              *data;

    void                              *job;       /* the http tool's */
    ngx_http_rtagent_timer_t           timer;
    ngx_event_t                        post;      /* runs done() */

    unsigned                           finished:1;
    unsigned                           posted:1;
    unsigned                           sending:1; /* inside a step */
};


extern const ngx_http_rtagent_tool_builtin_t  ngx_http_rtagent_tool_builtins[];


/*
 * The result: rc NGX_OK with a JSON object, or NGX_ERROR with
 * {"error": why} and one log line with the call id at level (0: none, it
 * was logged already); done() follows from a posted event.  A step sends
 * nothing after it.
 */
void ngx_http_rtagent_tool_finish(ngx_http_rtagent_tool_ctx_t *ctx,
    ngx_int_t rc, ngx_str_t *json);
void ngx_http_rtagent_tool_fail(ngx_http_rtagent_tool_ctx_t *ctx,
    const char *why, ngx_uint_t level);

/*
 * Sends one Redis command for the current step (argv copied); next runs
 * once every command sent since the last step answered.  NGX_OK, or
 * NGX_ERROR (out of memory, no rtagent_redis) after the tool failed.
 */
ngx_int_t ngx_http_rtagent_tool_redis(ngx_http_rtagent_tool_ctx_t *ctx,
    int argc, const char **argv, const size_t *argvlen);

/* the same with each word an ngx_str_t */
ngx_int_t ngx_http_rtagent_tool_redis_str(ngx_http_rtagent_tool_ctx_t *ctx,
    ngx_uint_t argc, ngx_str_t *words);

/* "prefix{id}" in the run's pool */
ngx_int_t ngx_http_rtagent_tool_key(ngx_http_rtagent_tool_ctx_t *ctx,
    const char *prefix, ngx_str_t *id, ngx_str_t *key);

/* a string argument (a JSON string, or a number's text); NGX_DECLINED if
 * absent, NGX_ERROR if of another type */
ngx_int_t ngx_http_rtagent_tool_arg(ngx_http_rtagent_tool_ctx_t *ctx,
    const char *name, ngx_str_t *value);

/* NGX_OK, or the tool failed: a reply of the step was none or an error */
ngx_int_t ngx_http_rtagent_tool_replied(ngx_http_rtagent_tool_ctx_t *ctx);

/* a field of an HGETALL reply, or NULL */
ngx_str_t *ngx_http_rtagent_tool_field(ngx_http_rtagent_tool_reply_t *r,
    const char *name);

/* the escalation target of the calling agent (empty when none) */
void ngx_http_rtagent_tool_target(ngx_http_rtagent_tool_ctx_t *ctx,
    ngx_str_t *target);


#endif /* _NGX_HTTP_RTAGENT_TOOLS_BUILTIN_H_INCLUDED_ */
