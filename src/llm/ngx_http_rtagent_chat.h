
/*
 * Chat Completions (PROTOCOLS.md 5): the decoder of a streamed response
 * (SSE chunks of chat.completion.chunk) and the builder of a request body.
 * Pure C, no nginx.
 *
 * The decoder hands text deltas on as they arrive and assembles tool-call
 * fragments by their index (parallel calls: index 0, 1, ...; id and name
 * on each call's first fragment, arguments in pieces).  Empty "choices"
 * (Azure's content-filter chunks, the usage chunk) are counted and
 * skipped; "usage" is kept; a chunk with an "error" object ends the
 * stream.  When the stream is complete each tool call's arguments are
 * checked to be a JSON object (an empty string counts as {}).
 */


#ifndef _NGX_HTTP_RTAGENT_CHAT_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_CHAT_H_INCLUDED_


#include <stddef.h>

#include <yajl/yajl_gen.h>

#include "ngx_http_rtagent_sse.h"


#define NGX_HTTP_RTAGENT_CHAT_CALLS_MAX   16       /* parallel tool calls */
#define NGX_HTTP_RTAGENT_CHAT_ARGS_MAX    16384    /* one call's arguments */
#define NGX_HTTP_RTAGENT_CHAT_EVENT_MAX   65536    /* one SSE event */
#define NGX_HTTP_RTAGENT_CHAT_ID_MAX      128
#define NGX_HTTP_RTAGENT_CHAT_NAME_MAX    64
#define NGX_HTTP_RTAGENT_CHAT_ERR         200


typedef enum {
    NGX_HTTP_RTAGENT_CHAT_FINISH_NONE = 0,    /* not (yet) given */
    NGX_HTTP_RTAGENT_CHAT_FINISH_STOP,
    NGX_HTTP_RTAGENT_CHAT_FINISH_LENGTH,
    NGX_HTTP_RTAGENT_CHAT_FINISH_TOOL_CALLS,
    NGX_HTTP_RTAGENT_CHAT_FINISH_CONTENT_FILTER,
    NGX_HTTP_RTAGENT_CHAT_FINISH_OTHER        /* function_call, unknown */
} ngx_http_rtagent_chat_finish_e;


typedef struct {
    size_t                          len;
    const char                     *data;
} ngx_http_rtagent_chat_str_t;


/* one assembled tool call; the strings are NUL-terminated */
typedef struct {
    char                            id[NGX_HTTP_RTAGENT_CHAT_ID_MAX];
    char                            name[NGX_HTTP_RTAGENT_CHAT_NAME_MAX + 1];
    size_t                          id_len;
    size_t                          name_len;
    char                           *args;       /* malloc'ed */
    size_t                          args_len;
    size_t                          args_size;
    unsigned                        seen:1;     /* a fragment came */
    unsigned                        valid:1;    /* after end(): runnable */
    const char                     *invalid;    /* after end(): why not */
} ngx_http_rtagent_chat_call_t;


typedef void (*ngx_http_rtagent_chat_text_pt)(void *data, const char *p,
    size_t len);


typedef struct {
    /* the caller's, set before init */
    void                           *data;
    ngx_http_rtagent_chat_text_pt   on_text;    /* may be NULL */
    size_t                          max_args;   /* 0: ARGS_MAX */

    /* the decoder's */
    ngx_http_rtagent_sse_t          sse;
    ngx_http_rtagent_chat_call_t    calls[NGX_HTTP_RTAGENT_CHAT_CALLS_MAX];
    size_t                          ncalls;
    size_t                          chunks;     /* JSON chunks read */
    size_t                          empty;      /* with empty choices */
    size_t                          text_len;   /* bytes of text deltas */
    long                            prompt_tokens;      /* -1: unknown */
    long                            completion_tokens;  /* -1: unknown */
    ngx_http_rtagent_chat_finish_e  finish;
    unsigned                        error_event:1;
    unsigned                        failed:1;
    unsigned                        ended:1;
    char                            err[NGX_HTTP_RTAGENT_CHAT_ERR];
} ngx_http_rtagent_chat_t;


/* 0, or -1 when out of memory */
int ngx_http_rtagent_chat_init(ngx_http_rtagent_chat_t *c);
void ngx_http_rtagent_chat_free(ngx_http_rtagent_chat_t *c);

/*
 * A piece of the body.  0, or -1 when the stream is bad (err: the SSE
 * parser's reason, "malformed JSON: ...", "error event: <message>",
 * "tool call index N over the limit", "arguments over N bytes", ...);
 * every later call returns -1 too.
 */
int ngx_http_rtagent_chat_feed(ngx_http_rtagent_chat_t *c, const char *p,
    size_t len);

/*
 * The body ended.  0 when the response is complete: [DONE] came, or a
 * finish_reason did; then each call's valid/invalid is set.  -1 (err says
 * why) when it was cut short or failed before.
 */
int ngx_http_rtagent_chat_end(ngx_http_rtagent_chat_t *c);

/* "stop", "length", ... ("" for NONE) */
const char *ngx_http_rtagent_chat_finish_name(
    ngx_http_rtagent_chat_finish_e finish);

/* 1 if name (len bytes) is a valid function name: [A-Za-z0-9_-]{1,64} */
int ngx_http_rtagent_chat_name_valid(const char *name, size_t len);


/* ---- the request -------------------------------------------------- */

typedef enum {
    NGX_HTTP_RTAGENT_CHAT_SYSTEM = 0,
    NGX_HTTP_RTAGENT_CHAT_USER,
    NGX_HTTP_RTAGENT_CHAT_ASSISTANT,
    NGX_HTTP_RTAGENT_CHAT_TOOL
} ngx_http_rtagent_chat_role_e;


/* a tool call of an assistant message (as sent back to the model) */
typedef struct {
    ngx_http_rtagent_chat_str_t     id;
    ngx_http_rtagent_chat_str_t     name;
    ngx_http_rtagent_chat_str_t     args;       /* the JSON text */
} ngx_http_rtagent_chat_msg_call_t;


typedef struct {
    ngx_http_rtagent_chat_role_e    role;
    ngx_http_rtagent_chat_str_t     content;    /* data NULL: null */
    ngx_http_rtagent_chat_str_t     tool_call_id;   /* role TOOL */
    const ngx_http_rtagent_chat_msg_call_t  *calls; /* role ASSISTANT */
    size_t                          ncalls;
} ngx_http_rtagent_chat_msg_t;


/* a function tool: its parameters are string properties, all required */
typedef struct {
    ngx_http_rtagent_chat_str_t     name;
    ngx_http_rtagent_chat_str_t     description;
    const ngx_http_rtagent_chat_str_t  *args;
    size_t                          nargs;
} ngx_http_rtagent_chat_tool_t;


typedef struct {
    ngx_http_rtagent_chat_str_t     model;      /* len 0: left out (Azure) */
    const ngx_http_rtagent_chat_msg_t  *msgs;
    size_t                          nmsgs;
    const ngx_http_rtagent_chat_tool_t *tools;
    size_t                          ntools;
    long                            max_tokens; /* 0: left out */
} ngx_http_rtagent_chat_request_t;


/*
 * Writes the request's members into the object open in g: model,
 * messages, tools (function tools, tool_choice auto, parallel calls) when
 * there are any, stream true, stream_options.include_usage.  0, or -1 when
 * yajl refuses (bad UTF-8, no memory).
 */
int ngx_http_rtagent_chat_request(yajl_gen g,
    const ngx_http_rtagent_chat_request_t *req);

/*
 * The bytes the tools take in a request body (the "tools" array,
 * "tool_choice" and "parallel_tool_calls" members with their comma), for
 * a token budget; 0 without tools or when yajl refuses.
 */
size_t ngx_http_rtagent_chat_tools_size(
    const ngx_http_rtagent_chat_tool_t *tools, size_t ntools);

/*
 * The function tool of a built-in tool (agent_def's builtin list): its
 * description and argument names as the model sees them; 0, or -1 when
 * name is no built-in.
 */
int ngx_http_rtagent_chat_builtin(const char *name, size_t len,
    ngx_http_rtagent_chat_tool_t *tool);


#endif /* _NGX_HTTP_RTAGENT_CHAT_H_INCLUDED_ */
