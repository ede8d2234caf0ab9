
/*
 * rtagent: a real-time voice-agent gateway inside nginx.
 * Declarations shared by the module's parts: configuration and the
 * per-worker state.
 */


#ifndef _NGX_HTTP_RTAGENT_MODULE_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ws/ngx_http_rtagent_ws.h>
#include <call/ngx_http_rtagent_call.h>


#define NGX_HTTP_RTAGENT_ENGINE_ECHO  1


typedef struct {
    ngx_http_rtagent_ws_conf_t    ws;
    ngx_http_rtagent_call_conf_t  call;
} ngx_http_rtagent_loc_conf_t;


/* what one worker process owns; made in init_process */
typedef struct {
    ngx_queue_t                   websockets;   /* live ngx_http_rtagent_ws_t */
    u_char                       *scratch;      /* per-message work area */
    size_t                        scratch_size;
    u_char                       *send_scratch; /* one frame being written */
    size_t                        send_scratch_size;
} ngx_http_rtagent_worker_t;


typedef struct {
    ngx_http_rtagent_worker_t    *worker;
} ngx_http_rtagent_main_conf_t;


/*
 * A timer not owned by a connection.  ngx_event_ident() reads a socket
 * after three pointers, as in ngx_connection_t (cf. ngx_resolver_ctx_t), so
 * debug logging of the event stays valid.
 */
typedef struct {
    void                         *data;
    void                         *unused[2];
    ngx_int_t                     ident;
    ngx_event_t                   event;
} ngx_http_rtagent_timer_t;


void ngx_http_rtagent_timer_init(ngx_http_rtagent_timer_t *t,
    ngx_event_handler_pt handler, void *data, ngx_log_t *log);
ngx_http_rtagent_worker_t *ngx_http_rtagent_worker(void);
ngx_table_elt_t *ngx_http_rtagent_header_in(ngx_http_request_t *r,
    const char *name, size_t len, ngx_uint_t *count);
u_char *ngx_http_rtagent_scratch(size_t size);
u_char *ngx_http_rtagent_send_scratch(size_t size);
u_char *ngx_http_rtagent_audio_alloc(size_t size, ngx_log_t *log);
void ngx_http_rtagent_audio_free(u_char *p, size_t size, ngx_log_t *log);


extern ngx_module_t  ngx_http_rtagent_module;


#endif /* _NGX_HTTP_RTAGENT_MODULE_H_INCLUDED_ */
