
/*
 * The browser channel (rtagent_web_media): a page's WebSocket carrying a
 * call, with JSON control messages in text frames and the audio, PCM16 or
 * Opus, in binary frames (README "Talk from the browser").  A second
 * channel of src/call/ beside ACS media: the same engines answer it.
 */


#ifndef _NGX_HTTP_RTAGENT_WEB_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_WEB_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the call session's rate on this channel, whatever the page's */
#define NGX_HTTP_RTAGENT_WEB_CALL_RATE  16000
#define NGX_HTTP_RTAGENT_WEB_FRAME_MS   20


extern ngx_module_t  ngx_http_rtagent_web_module;


#endif /* _NGX_HTTP_RTAGENT_WEB_H_INCLUDED_ */
