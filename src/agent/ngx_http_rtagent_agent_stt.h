
/*
 * The agents' STT searches (agent/ngx_http_rtagent_agent_grammar.h),
 * registered with the speech side's registry when the agents are loaded,
 * so that a bad one fails nginx -t naming the search and the agent file.
 */


#ifndef _NGX_HTTP_RTAGENT_AGENT_STT_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_AGENT_STT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* every agent of the array (ngx_http_rtagent_agent_t) with a local
 * section; NGX_OK, or NGX_ERROR (logged) */
ngx_int_t ngx_http_rtagent_agent_stt_register(ngx_conf_t *cf,
    ngx_array_t *agents);


#endif /* _NGX_HTTP_RTAGENT_AGENT_STT_H_INCLUDED_ */
