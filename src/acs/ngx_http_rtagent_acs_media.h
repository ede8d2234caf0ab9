
/*
 * The ACS media channel: the WebSocket that Azure Communication Services
 * opens to us for bidirectional audio (AudioMetadata, AudioData, DtmfData,
 * Transcription* in; AudioData and StopAudio out).
 */


#ifndef _NGX_HTTP_RTAGENT_ACS_MEDIA_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_ACS_MEDIA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_rtagent_acs_media_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_RTAGENT_ACS_MEDIA_H_INCLUDED_ */
