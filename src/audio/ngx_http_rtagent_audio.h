
/*
 * Utterance-sized audio buffers (hundreds of KiB) of a call.
 */


#ifndef _NGX_HTTP_RTAGENT_AUDIO_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_AUDIO_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* NULL (logged) when out of memory */
u_char *ngx_http_rtagent_audio_alloc(size_t size, ngx_log_t *log);
void ngx_http_rtagent_audio_free(u_char *p, size_t size, ngx_log_t *log);


#endif /* _NGX_HTTP_RTAGENT_AUDIO_H_INCLUDED_ */
