
/*
 * A channel carries one call's audio between the caller and the call
 * session: ACS media streaming today, a browser WebSocket next.  The call
 * session knows nothing else about it.
 */


#ifndef _NGX_HTTP_RTAGENT_CHANNEL_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_CHANNEL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct ngx_http_rtagent_channel_s  ngx_http_rtagent_channel_t;


/* a line of the conversation, for a channel that shows it (the browser) */
typedef struct {
    ngx_uint_t      turn;
    ngx_uint_t      agent;       /* 1: the agent's reply, 0: the caller */
    ngx_str_t       text;
    ngx_str_t       name;        /* the agent's: who answered */
    ngx_msec_int_t  latency;     /* the caller's end of speech to the first
                                  * agent frame, ms; -1: not yet known */
} ngx_http_rtagent_channel_said_t;

struct ngx_http_rtagent_channel_s {
    void         *data;
    ngx_log_t    *log;
    ngx_str_t     call_id;
    ngx_str_t     agent;        /* the entry agent, or empty */

    /* one frame of PCM16 mono at the call's rate, in the channel's framing */
    ngx_int_t   (*send_audio)(ngx_http_rtagent_channel_t *ch,
                              const u_char *pcm, size_t len);

    /* drop what the far end has queued but not yet played (barge-in) */
    ngx_int_t   (*stop_audio)(ngx_http_rtagent_channel_t *ch);

    /* hand the call to a human (NULL: the channel cannot); the result
     * comes back as the call's state, not here */
    ngx_int_t   (*transfer)(ngx_http_rtagent_channel_t *ch,
                            ngx_str_t *target);

    /* end the channel; reason is for logs and the peer */
    void        (*close)(ngx_http_rtagent_channel_t *ch, ngx_uint_t code,
                         const char *reason);

    /* a final caller text or an agent's reply (NULL: not shown); the
     * strings are valid during the call only */
    void        (*said)(ngx_http_rtagent_channel_t *ch,
                        ngx_http_rtagent_channel_said_t *said);
};


/* close codes are RFC 6455's, whatever the channel's transport */
#define NGX_HTTP_RTAGENT_CHANNEL_NORMAL  1000


#endif /* _NGX_HTTP_RTAGENT_CHANNEL_H_INCLUDED_ */
