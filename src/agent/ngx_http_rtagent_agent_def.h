
/*
 * Agent definitions (DESIGN.md §4): one YAML file's bytes parsed with
 * libyaml into an agent definition, strictly validated against the schema
 * that agents/README.md documents, and the cross-file checks of a set of
 * agents (handoff targets, tool names, the entry agent, duplicate names).
 * Pure C, no nginx: every structure comes from the caller's allocator, so
 * the nginx side puts them in cf->pool, and every error reads
 * "<file>:<line>: <field path>: <reason>".
 */


#ifndef _NGX_HTTP_RTAGENT_AGENT_DEF_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_AGENT_DEF_H_INCLUDED_


#include <stddef.h>


/* the longest agent, tool, slot or intent name */
#define NGX_HTTP_RTAGENT_AGENT_NAME_MAX    64

/* a list longer than this is refused (keeps an alias bomb small too) */
#define NGX_HTTP_RTAGENT_AGENT_LIST_MAX    1000


/*
 * A string: NUL-terminated, no NUL inside, with the 1-based line it was
 * read from (0 when the field is absent: len 0 and data NULL).  len and
 * data come first in the order of ngx_str_t.
 */
typedef struct {
    size_t                          len;
    unsigned char                  *data;
    unsigned                        line;
} ngx_http_rtagent_agent_str_t;


typedef struct {
    ngx_http_rtagent_agent_str_t   *elts;
    size_t                          nelts;
    unsigned                        line;      /* of the list, 0 if absent */
} ngx_http_rtagent_agent_strs_t;


typedef enum {
    NGX_HTTP_RTAGENT_SLOT_DIGITS = 0,   /* digits spoken one by one */
    NGX_HTTP_RTAGENT_SLOT_NUMBER,       /* a cardinal: "two", "12" */
    NGX_HTTP_RTAGENT_SLOT_DATE,         /* relative or absolute date */
    NGX_HTTP_RTAGENT_SLOT_TIME,         /* a time of day */
    NGX_HTTP_RTAGENT_SLOT_YES_NO,
    NGX_HTTP_RTAGENT_SLOT_CHOICE,       /* one of its vocabulary */
    NGX_HTTP_RTAGENT_SLOT_FREE_TEXT
} ngx_http_rtagent_slot_type_e;


/* escalation.when, a set */
#define NGX_HTTP_RTAGENT_ESC_CALLER_ASKS   0x01
#define NGX_HTTP_RTAGENT_ESC_AUTH_FAILED   0x02
#define NGX_HTTP_RTAGENT_ESC_NO_MATCH      0x04
#define NGX_HTTP_RTAGENT_ESC_EMERGENCY     0x08
#define NGX_HTTP_RTAGENT_ESC_TOOL_FAILED   0x10


typedef enum {
    NGX_HTTP_RTAGENT_TOOL_BUILTIN = 0,  /* a name from the built-in table */
    NGX_HTTP_RTAGENT_TOOL_HTTP,
    NGX_HTTP_RTAGENT_TOOL_REDIS
} ngx_http_rtagent_tool_kind_e;


typedef struct {
    ngx_http_rtagent_agent_str_t    name;
    ngx_http_rtagent_agent_str_t    value;
} ngx_http_rtagent_agent_header_t;


typedef struct {
    ngx_http_rtagent_agent_str_t    method;       /* default GET */
    ngx_http_rtagent_agent_str_t    url;          /* template, required */
    ngx_http_rtagent_agent_header_t *headers;
    size_t                          nheaders;
    ngx_http_rtagent_agent_str_t    body;         /* JSON template */
    long                            timeout_ms;   /* default 5000 */
    long                            max_response; /* bytes, default 65536 */
} ngx_http_rtagent_tool_http_t;


typedef struct {
    ngx_http_rtagent_agent_strs_t   command;      /* templates, non-empty */
} ngx_http_rtagent_tool_redis_t;


/*
 * One entry of "tools": a name (built-in, or defined in some agent file),
 * or a definition with http or redis, which other agents may then name.
 */
typedef struct {
    ngx_http_rtagent_tool_kind_e    kind;
    ngx_http_rtagent_agent_str_t    name;
    ngx_http_rtagent_agent_str_t    description;  /* definitions only */
    ngx_http_rtagent_agent_strs_t   arguments;
    ngx_http_rtagent_tool_http_t   *http;
    ngx_http_rtagent_tool_redis_t  *redis;
    unsigned                        defined:1;    /* a definition here */
} ngx_http_rtagent_tool_def_t;


typedef struct {
    unsigned                        load_profile; /* default 0 */
    long                            context_turns;/* default 20 */
    unsigned                        line;         /* 0 if absent */
} ngx_http_rtagent_memory_def_t;


typedef struct {
    ngx_http_rtagent_agent_str_t    target;       /* required */
    unsigned                        when;         /* ESC_* */
    ngx_http_rtagent_agent_str_t    message;
    unsigned                        line;         /* 0 if absent */
} ngx_http_rtagent_escalation_def_t;


typedef struct {
    ngx_http_rtagent_agent_str_t    name;
    ngx_http_rtagent_agent_str_t    question;
    ngx_http_rtagent_slot_type_e    type;
    ngx_http_rtagent_agent_str_t    type_name;
    long                            length;       /* digits, 0: any */
    long                            min;          /* number */
    long                            max;          /* number, 0: none */
    ngx_http_rtagent_agent_strs_t   examples;
    ngx_http_rtagent_agent_strs_t   vocabulary;
    unsigned                        confirm;
    ngx_http_rtagent_agent_str_t    reprompt;
} ngx_http_rtagent_slot_def_t;


typedef struct {
    ngx_http_rtagent_agent_str_t    name;
    ngx_http_rtagent_agent_strs_t   keywords;
    ngx_http_rtagent_agent_strs_t   examples;
    ngx_http_rtagent_agent_str_t    say;
    /* at most one of the three */
    ngx_http_rtagent_agent_str_t    handoff;      /* in the agent's handoffs */
    ngx_http_rtagent_agent_str_t    tool;         /* in the agent's tools */
    ngx_http_rtagent_agent_str_t    next;         /* one of its slots */
} ngx_http_rtagent_intent_def_t;


typedef struct {
    ngx_http_rtagent_agent_str_t    tool;         /* in the agent's tools */
    ngx_http_rtagent_agent_str_t    say;
    ngx_http_rtagent_agent_str_t    failure;
    unsigned                        line;
} ngx_http_rtagent_complete_def_t;


typedef struct {
    ngx_http_rtagent_agent_str_t    reprompt;
    long                            max_attempts; /* default 3 */
    ngx_http_rtagent_slot_def_t    *slots;
    size_t                          nslots;
    ngx_http_rtagent_agent_str_t    confirm;      /* read-back template */
    ngx_http_rtagent_complete_def_t on_complete;
    ngx_http_rtagent_agent_str_t    ask;
    ngx_http_rtagent_intent_def_t  *intents;
    size_t                          nintents;
    unsigned                        line;
} ngx_http_rtagent_local_def_t;


typedef struct {
    const char                     *file;         /* as given to parse */
    ngx_http_rtagent_agent_str_t    name;
    ngx_http_rtagent_agent_str_t    description;
    ngx_http_rtagent_agent_str_t    greeting;
    /* exactly one of prompt and prompt_file; the caller reads the file
     * (a path relative to the YAML file's folder) into prompt */
    ngx_http_rtagent_agent_str_t    prompt;
    ngx_http_rtagent_agent_str_t    prompt_file;
    ngx_http_rtagent_agent_str_t    model;
    /* the LLM engine's route for the requests after tool results */
    ngx_http_rtagent_agent_str_t    tool_model;
    ngx_http_rtagent_agent_str_t    voice;
    ngx_http_rtagent_agent_str_t    language;
    ngx_http_rtagent_tool_def_t    *tools;
    size_t                          ntools;
    ngx_http_rtagent_agent_strs_t   handoffs;
    ngx_http_rtagent_memory_def_t   memory;
    ngx_http_rtagent_escalation_def_t escalation;
    ngx_http_rtagent_local_def_t   *local;        /* NULL if absent */
} ngx_http_rtagent_agent_def_t;


/* memory of at least size bytes aligned for any type, or NULL */
typedef void *(*ngx_http_rtagent_agent_alloc_pt)(void *ctx, size_t size);


/* the built-in tools' names (issue 10 item 5), NULL-terminated */
extern const char *const  ngx_http_rtagent_agent_builtin_tools[];


/*
 * Parses one agent file of len bytes (p need not be NUL-terminated).
 * file names it in messages.  On success 0 and *def; else -1 and err
 * (NUL-terminated, at most errlen bytes) holds
 * "<file>:<line>: <field path>: <reason>", the path like
 * "local.slots[2].type" ("(document)" for the file as a whole, "yaml" for
 * a syntax error), or "<file>: out of memory".  What the allocator handed
 * out is not given back on failure (a pool or an arena frees it).
 */
int ngx_http_rtagent_agent_def_parse(const unsigned char *p, size_t len,
    const char *file, ngx_http_rtagent_agent_alloc_pt alloc, void *ctx,
    ngx_http_rtagent_agent_def_t **def, char *err, size_t errlen);


/*
 * The checks across a set of agents: two agents with one name, a handoff
 * to an agent not in the set, a tool neither built in nor defined by one
 * of the agents, a tool defined twice, and an entry agent (NUL-terminated)
 * that is not there.  0, or -1 with the first problem in err, in the form
 * above (the entry agent's message has no file: "entry agent \"x\": ...").
 */
int ngx_http_rtagent_agent_def_link(ngx_http_rtagent_agent_def_t **defs,
    size_t n, const char *entry, char *err, size_t errlen);


/* the agent of that name (len bytes) in the set, or NULL */
ngx_http_rtagent_agent_def_t *ngx_http_rtagent_agent_def_find(
    ngx_http_rtagent_agent_def_t **defs, size_t n, const unsigned char *name,
    size_t len);


/* the tool definition of that name in the set (http/redis), or NULL */
const ngx_http_rtagent_tool_def_t *ngx_http_rtagent_agent_def_tool(
    ngx_http_rtagent_agent_def_t **defs, size_t n, const unsigned char *name,
    size_t len);


/* 1 if name is a built-in tool */
int ngx_http_rtagent_agent_def_builtin(const unsigned char *name,
    size_t len);


#endif /* _NGX_HTTP_RTAGENT_AGENT_DEF_H_INCLUDED_ */
