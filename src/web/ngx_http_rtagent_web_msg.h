
/*
 * The browser channel's control messages (README "Talk from the
 * browser"): JSON objects in WebSocket text frames from the page,
 *
 *   {"type":"start","sampleRate":48000,"codec":"opus"|"pcm16",
 *    "agent":"auth"}                          (codec, agent optional)
 *   {"type":"stop"}
 *
 * Audio goes in binary frames.  Pure C, no nginx: unit-tested and fuzzed
 * on its own.
 */


#ifndef _NGX_HTTP_RTAGENT_WEB_MSG_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_WEB_MSG_H_INCLUDED_


#include <stddef.h>

#include <yajl/yajl_tree.h>


/* a larger control message is refused before it is parsed */
#define NGX_HTTP_RTAGENT_WEB_MSG_MAX      4096
#define NGX_HTTP_RTAGENT_WEB_MSG_DEPTH    8

/* the rates a page may capture and play at (PCM16) */
#define NGX_HTTP_RTAGENT_WEB_RATE_MIN     8000
#define NGX_HTTP_RTAGENT_WEB_RATE_MAX     96000


typedef enum {
    NGX_HTTP_RTAGENT_WEB_START = 1,
    NGX_HTTP_RTAGENT_WEB_STOP
} ngx_http_rtagent_web_type_e;


typedef enum {
    NGX_HTTP_RTAGENT_WEB_PCM16 = 1,      /* little-endian, at sampleRate */
    NGX_HTTP_RTAGENT_WEB_OPUS            /* one packet a frame, mono */
} ngx_http_rtagent_web_codec_e;


/* why a message was refused; each has its close code in the channel */
typedef enum {
    NGX_HTTP_RTAGENT_WEB_MSG_OK = 0,
    NGX_HTTP_RTAGENT_WEB_MSG_TOO_LARGE,    /* more than MSG_MAX bytes */
    NGX_HTTP_RTAGENT_WEB_MSG_MALFORMED,    /* not JSON, not an object */
    NGX_HTTP_RTAGENT_WEB_MSG_NO_TYPE,      /* no "type" string */
    NGX_HTTP_RTAGENT_WEB_MSG_UNKNOWN,      /* a type not listed above */
    NGX_HTTP_RTAGENT_WEB_MSG_BAD_FIELD,    /* a member of the wrong type
                                              or out of range */
    NGX_HTTP_RTAGENT_WEB_MSG_UNSUPPORTED,  /* a codec or rate we lack */
    NGX_HTTP_RTAGENT_WEB_MSG_NO_MEMORY
} ngx_http_rtagent_web_msg_rc_e;


typedef struct {
    ngx_http_rtagent_web_type_e    type;       /* 0 unless OK */
    ngx_http_rtagent_web_codec_e   codec;      /* start: PCM16 by default */
    unsigned                       rate;       /* start: sampleRate */
    size_t                         agent_len;  /* start: 0 if absent */
    const char                    *agent;      /* NUL-terminated, in tree */
    yajl_val                       tree;       /* owns the strings */
} ngx_http_rtagent_web_msg_t;


/*
 * Parses len bytes (not NUL-terminated) into m.  Returns
 * NGX_HTTP_RTAGENT_WEB_MSG_OK or why the message is refused; err (may be
 * NULL) then holds a short reason for the log and the page,
 * NUL-terminated.  "agent" must pass ngx_http_rtagent_call_id_valid()'s
 * check (it goes into keys and logs).  ngx_http_rtagent_web_msg_free()
 * must be called whatever the result.
 */
ngx_http_rtagent_web_msg_rc_e ngx_http_rtagent_web_msg_parse(const char *p,
    size_t len, ngx_http_rtagent_web_msg_t *m, char *err, size_t errlen);
void ngx_http_rtagent_web_msg_free(ngx_http_rtagent_web_msg_t *m);

/* Opus streams run at one of these rates (RFC 6716) */
int ngx_http_rtagent_web_opus_rate(unsigned rate);


#endif /* _NGX_HTTP_RTAGENT_WEB_MSG_H_INCLUDED_ */
