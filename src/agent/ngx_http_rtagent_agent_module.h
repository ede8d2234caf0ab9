
/*
 * The agents a configuration serves: every *.yaml of the rtagent_agents
 * folder, parsed and checked when nginx reads its configuration (a bad
 * file fails nginx -t), kept in the cycle's pool.  Each configuration
 * cycle has its own set, so after a reload new workers see the new
 * agents while old workers keep theirs.  Its own nginx module
 * (ngx_http_rtagent_agent_module: rtagent_agents, rtagent_entry_agent).
 */


#ifndef _NGX_HTTP_RTAGENT_AGENT_MODULE_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_AGENT_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <agent/ngx_http_rtagent_agent_def.h>


typedef struct {
    ngx_str_t                       name;
    ngx_str_t                       file;       /* full path of the YAML */
    ngx_str_t                       version;    /* MD5 of the file(s), hex */
    ngx_str_t                       prompt;     /* inline or prompt_file */
    ngx_http_rtagent_agent_def_t   *def;
} ngx_http_rtagent_agent_t;


/* the agents of a configuration cycle, or NULL if it has none */
ngx_array_t *ngx_http_rtagent_agents(ngx_cycle_t *cycle);

/* the agent of that name, or NULL */
ngx_http_rtagent_agent_t *ngx_http_rtagent_agent_find(ngx_cycle_t *cycle,
    ngx_str_t *name);

/* the agent every call starts with (rtagent_entry_agent), or NULL */
ngx_http_rtagent_agent_t *ngx_http_rtagent_agent_entry(ngx_cycle_t *cycle);

/* rtagent_redact on: what is stored of the caller's words is redacted */
ngx_flag_t ngx_http_rtagent_agent_redact(ngx_cycle_t *cycle);


extern ngx_module_t  ngx_http_rtagent_agent_module;


#endif /* _NGX_HTTP_RTAGENT_AGENT_MODULE_H_INCLUDED_ */
