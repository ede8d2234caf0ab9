
/*
 * rtagent: a real-time voice-agent gateway inside nginx.
 * The main module's configuration: the top of the tree, included only by
 * the module file and the location handlers (acs/ handlers).
 */


#ifndef _NGX_HTTP_RTAGENT_MODULE_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ngx_http_rtagent_core.h>
#include <ws/ngx_http_rtagent_ws.h>
#include <call/ngx_http_rtagent_call.h>


typedef struct {
    ngx_http_rtagent_ws_conf_t    ws;
    ngx_http_rtagent_call_conf_t  call;
} ngx_http_rtagent_loc_conf_t;


extern ngx_module_t  ngx_http_rtagent_module;


#endif /* _NGX_HTTP_RTAGENT_MODULE_H_INCLUDED_ */
