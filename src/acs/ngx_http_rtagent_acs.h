
/*
 * ACS Call Automation, the control plane (PROTOCOLS.md 1-2): the account
 * and its directives (ngx_http_rtagent_acs.c), HMAC-signed REST requests on
 * the worker's HTTP client (_acs_rest.c), the secret tokens of callback
 * URIs and what the handlers share about requests (_acs_request.c), and
 * the JWT check of what Call Automation sends (_acs_jwks.c).  Its own nginx
 * module (ngx_http_rtagent_acs_module) in the rtagent .so, with every
 * rtagent_acs_* directive; the handlers live in ngx_http_rtagent_acs_media.c
 * (the media WebSocket), ngx_http_rtagent_acs_events.c (Event Grid and
 * callbacks) and ngx_http_rtagent_acs_calls.c (operators' actions), the
 * callback effects in ngx_http_rtagent_acs_callback.c.
 */


#ifndef _NGX_HTTP_RTAGENT_ACS_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_ACS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ngx_http_rtagent_core.h>
#include <acs/ngx_http_rtagent_acs_sign.h>
#include <acs/ngx_http_rtagent_acs_jwt.h>
#include <acs/ngx_http_rtagent_acs_event.h>
#include <io/ngx_http_rtagent_http.h>
#include <call/ngx_http_rtagent_call.h>


/* event ids are remembered this long: Event Grid retries for 24 h */
#define NGX_HTTP_RTAGENT_ACS_DEDUPE_TTL   (25 * 60 * 60 * 1000)


typedef struct {
    ngx_str_t                        number;   /* "+1555..." or a rawId */
    ngx_str_t                        agent;
} ngx_http_rtagent_acs_route_t;


typedef struct {
    ngx_http_rtagent_acs_account_t  *account;
    ngx_str_t                        api_version;
    ngx_str_t                        callback_url;
    ngx_str_t                        media_url;
    ngx_str_t                        audio_format;  /* pcm16KMono, ... */
    ngx_array_t                     *routes;        /* of ..._route_t */
    ngx_array_t                     *transfer_targets; /* of ngx_keyval_t */
    ngx_str_t                        default_agent;
    ngx_str_t                        source_number;
    ngx_str_t                        secret;        /* callback tokens */
    ngx_str_t                        api_key;
    ngx_str_t                        eventgrid_key;

    ngx_flag_t                       jwt;
    ngx_str_t                        jwt_issuer;
    ngx_str_t                        jwt_audience;
    ngx_str_t                        jwks;          /* file or URL */
    ngx_msec_t                       jwks_refresh;
    ngx_http_rtagent_jwks_t         *jwks_file;     /* from the file */

    ngx_msec_t                       timeout;       /* per REST attempt */
    ngx_http_rtagent_http_conf_t    *http;          /* http{} level */
    ngx_uint_t                       events;        /* handlers in use */
    ngx_uint_t                       calls;
    ngx_array_t                     *bodies;        /* core loc confs */
} ngx_http_rtagent_acs_main_conf_t;


/* what came back from one REST request */
typedef struct {
    ngx_int_t                        rc;       /* NGX_OK: a 2xx response */
    ngx_uint_t                       status;   /* 0: no response */
    ngx_str_t                        body;
    char                             code[64];     /* ACS error, or "" */
    char                             message[256];
} ngx_http_rtagent_acs_result_t;

typedef void (*ngx_http_rtagent_acs_rest_pt)(void *data,
    ngx_http_rtagent_acs_result_t *res);


ngx_http_rtagent_acs_main_conf_t *ngx_http_rtagent_acs_conf(void);

/* the worker's JWKS fetch (with rtagent_acs_jwks URL), from init_process */
ngx_int_t ngx_http_rtagent_acs_jwks_start(ngx_cycle_t *cycle,
    ngx_http_rtagent_acs_main_conf_t *amcf);
void ngx_http_rtagent_acs_jwks_stop(void);

/*
 * True once the worker's ACS exit_process has run: what completes after
 * (Redis's queue failed at its exit, HTTP jobs cancelled) starts no REST
 * request and touches no request.
 */
ngx_uint_t ngx_http_rtagent_acs_exiting(void);

/*
 * One signed Call Automation request: method and path ("/calling/...",
 * the api-version is added), a JSON body or none.  handler (may be NULL)
 * runs once with the result; failures are logged here with the call id
 * and ACS's error code and message.  NGX_ERROR when it could not start
 * (logged; the handler is not called).
 */
ngx_int_t ngx_http_rtagent_acs_rest(ngx_log_t *log, ngx_str_t *call_id,
    const char *method, ngx_str_t *path, u_char *body, size_t len,
    ngx_http_rtagent_acs_rest_pt handler, void *data);

/* "<rtagent_acs_callback_url>?call=<ref>&token=<token>" in pool */
ngx_int_t ngx_http_rtagent_acs_callback_uri(ngx_pool_t *pool, ngx_str_t *ref,
    ngx_str_t *uri);

/* a fresh random call reference (hex) in pool */
ngx_int_t ngx_http_rtagent_acs_new_ref(ngx_pool_t *pool, ngx_str_t *ref);

/* the request's call/token arguments: NGX_OK valid, NGX_DECLINED absent,
 * NGX_ERROR wrong */
ngx_int_t ngx_http_rtagent_acs_check_token(ngx_http_request_t *r);

/*
 * With rtagent_acs_jwt on: the request's "Authorization: Bearer" JWT is
 * checked (NGX_OK, or NGX_HTTP_UNAUTHORIZED logged with the reason, or
 * NGX_HTTP_SERVICE_UNAVAILABLE while no keys are loaded).  NGX_OK when off.
 */
ngx_int_t ngx_http_rtagent_acs_check_jwt(ngx_http_request_t *r);

/* the entry agent for a called number or rawId */
ngx_str_t *ngx_http_rtagent_acs_route(ngx_str_t *to_phone,
    ngx_str_t *to_raw);

/* the shared JSON answer of the handlers: status and a JSON body */
ngx_int_t ngx_http_rtagent_acs_send_json(ngx_http_request_t *r,
    ngx_uint_t status, u_char *json, size_t len);

/*
 * Reads the request body (as ngx_http_read_client_request_body()), always
 * into memory: a body over client_body_buffer_size (which the events and
 * calls locations raise to client_max_body_size) is refused with 413.
 */
ngx_int_t ngx_http_rtagent_acs_read_request_body(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt handler);

/*
 * The body read in one piece, NUL-terminated, in r->pool: NGX_DECLINED (413,
 * logged) when nginx left a part of it in a temp file, which is never read
 * on the event loop.
 */
ngx_int_t ngx_http_rtagent_acs_read_body(ngx_http_request_t *r,
    ngx_str_t *body);

/* location handlers */
ngx_int_t ngx_http_rtagent_acs_events_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_rtagent_acs_calls_handler(ngx_http_request_t *r);

/* actions on a call (the operators' API and the call session) */
typedef enum {
    NGX_HTTP_RTAGENT_ACS_HANGUP = 1,
    NGX_HTTP_RTAGENT_ACS_TERMINATE,
    NGX_HTTP_RTAGENT_ACS_TRANSFER,
    NGX_HTTP_RTAGENT_ACS_RECORD,
    NGX_HTTP_RTAGENT_ACS_SEND_DTMF,
    NGX_HTTP_RTAGENT_ACS_DTMF_RECOGNITION
} ngx_http_rtagent_acs_action_e;

/*
 * Runs an action on a call: looks up what it needs in the call's hash
 * (serverCallId for recording, the caller for DTMF), sends the REST
 * request and records the outcome in Redis.  arg is the transfer target
 * or the tones.  handler (may be NULL) gets the result; res->status 404
 * with code "unknown_call" when the call is not in Redis.
 */
ngx_int_t ngx_http_rtagent_acs_action(ngx_log_t *log, ngx_str_t *call_id,
    ngx_http_rtagent_acs_action_e action, ngx_str_t *arg,
    ngx_http_rtagent_acs_rest_pt handler, void *data);


/*
 * A Call Automation callback event's effects on the call's Redis state,
 * planned while the parsed delivery is at hand (everything copied into
 * pool) and applied once the event is known not to be a repeat.  NULL
 * from plan: nothing to do (an unknown event, logged at debug level).
 */
typedef struct ngx_http_rtagent_acs_cb_s  ngx_http_rtagent_acs_cb_t;

ngx_http_rtagent_acs_cb_t *ngx_http_rtagent_acs_cb_plan(ngx_pool_t *pool,
    ngx_http_rtagent_acs_event_t *ev, ngx_log_t *log);
void ngx_http_rtagent_acs_cb_apply(ngx_http_rtagent_acs_cb_t *cb,
    ngx_log_t *log);

/* len bytes at data into dst, NUL-terminated, in pool */
ngx_int_t ngx_http_rtagent_acs_copy_str(ngx_pool_t *pool, ngx_str_t *dst,
    u_char *data, size_t len);


extern ngx_module_t  ngx_http_rtagent_acs_module;


#endif /* _NGX_HTTP_RTAGENT_ACS_H_INCLUDED_ */
