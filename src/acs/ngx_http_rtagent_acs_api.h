
/*
 * The operators' API (rtagent_acs_calls, PROTOCOLS.md 1.6) as outside
 * input: the route below the location's prefix, the call id, the JSON
 * bodies of its requests and the "Authorization: Bearer" credential also
 * used by the ACS callbacks and the media WebSocket.  Pure C on the safe
 * yajl parse of json/, no nginx, so it is unit tested and fuzzed alone.
 */


#ifndef _NGX_HTTP_RTAGENT_ACS_API_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_ACS_API_H_INCLUDED_


#include <stddef.h>

#include <yajl/yajl_tree.h>


#define NGX_HTTP_RTAGENT_ACS_API_AGENT_MAX   64
#define NGX_HTTP_RTAGENT_ACS_API_NAME_MAX    256   /* display_name */
#define NGX_HTTP_RTAGENT_ACS_API_TONES_MAX   64
/* the bodies are flat objects; a little room for what clients add */
#define NGX_HTTP_RTAGENT_ACS_API_DEPTH       16


typedef enum {
    NGX_HTTP_RTAGENT_ACS_API_NONE = 0,   /* no such resource (404) */
    NGX_HTTP_RTAGENT_ACS_API_CALLS,      /* <prefix> */
    NGX_HTTP_RTAGENT_ACS_API_CALL,       /* <prefix>/<id> */
    NGX_HTTP_RTAGENT_ACS_API_ACTION      /* <prefix>/<id>/<action> */
} ngx_http_rtagent_acs_api_route_e;


/* slices of the URI; empty when absent */
typedef struct {
    const char  *id;
    size_t       id_len;
    const char  *action;
    size_t       action_len;
} ngx_http_rtagent_acs_api_route_t;


typedef enum {
    NGX_HTTP_RTAGENT_ACS_API_CREATE = 0, /* target, agent, source,
                                            display_name */
    NGX_HTTP_RTAGENT_ACS_API_TRANSFER,   /* target */
    NGX_HTTP_RTAGENT_ACS_API_DTMF        /* tones */
} ngx_http_rtagent_acs_api_body_e;


/* the members asked for, "" when absent or null, never NULL */
typedef struct {
    yajl_val     tree;          /* owns the strings */
    const char  *target;
    const char  *agent;
    const char  *source;
    const char  *display_name;
    const char  *tones;
} ngx_http_rtagent_acs_api_body_t;


/*
 * The URI below the location's prefix (the URI must start with it, else
 * NONE): "", "/<id>" or "/<id>/<action>", a trailing slash allowed; after
 * a prefix without a trailing slash the next character must be one.  Ids
 * and actions are not empty and have no slash; they are not checked
 * further here (see ngx_http_rtagent_call_id_valid()).
 */
ngx_http_rtagent_acs_api_route_e ngx_http_rtagent_acs_api_route(
    const char *uri, size_t len, const char *prefix, size_t prefix_len,
    ngx_http_rtagent_acs_api_route_t *route);

/*
 * A request body of len bytes (not NUL-terminated), a JSON object whose
 * members for what are strings (absent or null count as empty; others are
 * ignored), each checked: 0 and b filled (free it with
 * ngx_http_rtagent_acs_api_body_free()), or 400 (the body is refused) or
 * 500 (out of memory), b empty, with *reason, which may be err (errlen
 * bytes, at least 64).  CREATE checks the syntax only: target required,
 * agent and source when given; the defaults of the configuration are the
 * caller's.
 */
int ngx_http_rtagent_acs_api_body(const char *p, size_t len,
    ngx_http_rtagent_acs_api_body_e what, ngx_http_rtagent_acs_api_body_t *b,
    const char **reason, char *err, size_t errlen);
void ngx_http_rtagent_acs_api_body_free(ngx_http_rtagent_acs_api_body_t *b);

/* "+1555..." or "4:+1555..." (of a valid target) */
int ngx_http_rtagent_acs_api_is_phone(const char *target);

/*
 * The credentials of an Authorization header value (RFC 7235 section 2.1,
 * RFC 6750 section 2.1): the scheme "Bearer" in any case, one or more
 * spaces, a b64token (letters, digits, "-._~+/", then any "="), optional
 * whitespace around it all.  1 with the token, 0 for another scheme or
 * none, -1 for a Bearer credential that is malformed.
 */
int ngx_http_rtagent_acs_api_bearer(const char *value, size_t len,
    const char **token, size_t *token_len);


#endif /* _NGX_HTTP_RTAGENT_ACS_API_H_INCLUDED_ */
