
/*
 * Control messages for a live call (README "Control"): a JSON object such
 * as {"id":"op-17","action":"hangup","outcome":"...","reason":"..."}, read
 * from Redis, that is, from outside.  Pure C, no nginx: unit-tested and
 * fuzzed on its own.
 */


#ifndef _NGX_HTTP_RTAGENT_CTL_MSG_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_CTL_MSG_H_INCLUDED_


#include <stddef.h>

#include <yajl/yajl_tree.h>


/* a larger message is refused before it is parsed */
#define NGX_HTTP_RTAGENT_CTL_MSG_MAX      65536
/* "id": the sender's name for the message, for applying it only once */
#define NGX_HTTP_RTAGENT_CTL_MSG_ID_MAX   64
#define NGX_HTTP_RTAGENT_CTL_MSG_DEPTH    16


typedef enum {
    NGX_HTTP_RTAGENT_CTL_HANGUP = 1,
    NGX_HTTP_RTAGENT_CTL_STOP_AUDIO,
    NGX_HTTP_RTAGENT_CTL_TRANSFER,
    NGX_HTTP_RTAGENT_CTL_INJECT_TEXT
} ngx_http_rtagent_ctl_action_e;


/* why a message was refused */
typedef enum {
    NGX_HTTP_RTAGENT_CTL_MSG_OK = 0,
    NGX_HTTP_RTAGENT_CTL_MSG_TOO_LARGE,
    NGX_HTTP_RTAGENT_CTL_MSG_MALFORMED,   /* not JSON, or not an object */
    NGX_HTTP_RTAGENT_CTL_MSG_NO_ACTION,   /* no "action" string */
    NGX_HTTP_RTAGENT_CTL_MSG_UNKNOWN,     /* an action not listed above */
    NGX_HTTP_RTAGENT_CTL_MSG_INCOMPLETE,  /* transfer without "target",
                                             inject_text without "text" */
    NGX_HTTP_RTAGENT_CTL_MSG_BAD_ID,      /* "id" not a string of 1 to
                                             ID_MAX bytes */
    NGX_HTTP_RTAGENT_CTL_MSG_NO_MEMORY
} ngx_http_rtagent_ctl_msg_rc_e;


/* a string of the message: NUL-terminated, in the tree; len 0 if absent */
typedef struct {
    size_t                          len;
    const char                     *data;
} ngx_http_rtagent_ctl_msg_str_t;


typedef struct {
    ngx_http_rtagent_ctl_action_e   action;      /* 0 unless OK/INCOMPLETE */
    ngx_http_rtagent_ctl_msg_str_t  name;        /* "action" as sent */
    ngx_http_rtagent_ctl_msg_str_t  id;          /* optional */
    ngx_http_rtagent_ctl_msg_str_t  target;      /* transfer */
    ngx_http_rtagent_ctl_msg_str_t  text;        /* inject_text */
    ngx_http_rtagent_ctl_msg_str_t  outcome;     /* hangup, optional */
    ngx_http_rtagent_ctl_msg_str_t  reason;      /* hangup, optional */
    yajl_val                        tree;        /* owns the strings */
} ngx_http_rtagent_ctl_msg_t;


/*
 * Parses len bytes (not NUL-terminated) into m.  Returns
 * NGX_HTTP_RTAGENT_CTL_MSG_OK or why the message is refused; err (may be
 * NULL) then holds a short reason for the log, NUL-terminated.  The
 * strings of m (name too, when the action is unknown or incomplete) stay
 * valid until ngx_http_rtagent_ctl_msg_free(), which must be called
 * whatever the result.
 */
ngx_http_rtagent_ctl_msg_rc_e ngx_http_rtagent_ctl_msg_parse(const char *p,
    size_t len, ngx_http_rtagent_ctl_msg_t *m, char *err, size_t errlen);
void ngx_http_rtagent_ctl_msg_free(ngx_http_rtagent_ctl_msg_t *m);

/* the error as the call's ERROR_OCCURRED event names it */
const char *ngx_http_rtagent_ctl_msg_error(ngx_http_rtagent_ctl_msg_rc_e rc);


#endif /* _NGX_HTTP_RTAGENT_CTL_MSG_H_INCLUDED_ */
