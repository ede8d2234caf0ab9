
/*
 * The one check of a call id (a call connection id, a call reference),
 * wherever one comes from: ACS headers and events, the operators' API,
 * control messages.  Pure C, no nginx, so the codecs use it too.
 */


#ifndef _NGX_HTTP_RTAGENT_CALL_ID_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_CALL_ID_H_INCLUDED_


#include <stddef.h>


/* a call id goes into log lines and Redis keys */
#define NGX_HTTP_RTAGENT_CALL_ID_MAX  128


/* 1: 1 to 128 of [0-9A-Za-z._:-], fit for keys and logs; 0 otherwise */
int ngx_http_rtagent_call_id_valid(const unsigned char *p, size_t len);


#endif /* _NGX_HTTP_RTAGENT_CALL_ID_H_INCLUDED_ */
