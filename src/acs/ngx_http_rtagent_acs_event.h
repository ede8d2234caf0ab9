
/*
 * Parser for what arrives on the events endpoint (PROTOCOLS.md 1.2, 1.3,
 * 1.7): an Event Grid delivery (a JSON array of events with "eventType"),
 * a CloudEvents delivery (one object, or a batch array, with "type"), or a
 * Call Automation callback (an array of CloudEvents).  Pure C on yajl's
 * tree API, no nginx; every string handed out points into the parsed
 * tree and lives until ngx_http_rtagent_acs_events_free().
 */


#ifndef _NGX_HTTP_RTAGENT_ACS_EVENT_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_ACS_EVENT_H_INCLUDED_


#include <stddef.h>

#include <yajl/yajl_tree.h>

/* ngx_http_rtagent_json_get(), _json_str(), the value helpers */
#include <json/ngx_http_rtagent_json.h>


/* a delivery with more events than this is refused (Event Grid batches
 * hold at most 5,000 events; callbacks a handful) */
#define NGX_HTTP_RTAGENT_ACS_EVENTS_MAX  5000


typedef enum {
    NGX_HTTP_RTAGENT_ACS_EV_OTHER = 0,     /* any type not below */
    NGX_HTTP_RTAGENT_ACS_EV_VALIDATION,    /* Microsoft.EventGrid.SubscriptionValidationEvent */
    NGX_HTTP_RTAGENT_ACS_EV_INCOMING_CALL, /* Microsoft.Communication.IncomingCall */
    NGX_HTTP_RTAGENT_ACS_EV_CALL           /* any other Microsoft.Communication.* */
} ngx_http_rtagent_acs_ev_kind_e;


typedef struct {
    ngx_http_rtagent_acs_ev_kind_e   kind;
    const char                      *id;          /* required, non-empty */
    const char                      *type;        /* "eventType" or "type" */
    /* for EV_CALL: type without "Microsoft.Communication.", else == type */
    const char                      *name;
    const char                      *subject;     /* or NULL */
    const char                      *time;        /* eventTime/time or NULL */
    yajl_val                         data;        /* object, or NULL */
    /* data.callConnectionId, data.serverCallId, data.correlationId,
     * data.operationContext; NULL when absent or not strings */
    const char                      *call_connection_id;
    const char                      *server_call_id;
    const char                      *correlation_id;
    const char                      *operation_context;
} ngx_http_rtagent_acs_event_t;


typedef struct {
    yajl_val                         tree;
    ngx_http_rtagent_acs_event_t    *events;      /* malloc'ed */
    size_t                           nevents;
    unsigned                         array:1;     /* the body was an array */
} ngx_http_rtagent_acs_events_t;


/*
 * Parses one delivery body (not NUL-terminated).  The body must be a JSON
 * object or an array of objects, each with a non-empty string "id" and a
 * non-empty string "eventType" or "type"; "data", when present, must be an
 * object.  0, or -1 with a short reason in err (NUL-terminated, at most
 * errlen bytes): "malformed JSON: ...", "not an object or array",
 * "event 3 is not an object", "event 0 has no id", "event 0 has no type",
 * "event 0 data is not an object", "too many events", "no events".
 * Stricter than yajl_tree_parse() alone: a NUL byte, a comment, or
 * nesting deeper than 64 is "malformed JSON: ..." too.  "data": null
 * counts as no data.  On -1, evs is all zeros (freeing it is harmless).
 * Event types are compared case-sensitively; with both "eventType" and
 * "type", "eventType" wins.  Duplicate keys: the first one counts.
 */
int ngx_http_rtagent_acs_events_parse(const char *body, size_t len,
    ngx_http_rtagent_acs_events_t *evs, char *err, size_t errlen);

void ngx_http_rtagent_acs_events_free(ngx_http_rtagent_acs_events_t *evs);


/*
 * The rawId of a CommunicationIdentifierModel (PROTOCOLS.md 1.8): "rawId"
 * when present, else built into buf from the sub-object ("4:" + phone
 * number value, the communication user id, "28:" + teams app id, "8:orgid:"
 * + teams user id).  NULL when none fits in buflen.
 */
const char *ngx_http_rtagent_acs_ident_raw(yajl_val ident, char *buf,
    size_t buflen);

/* the phone number ("+1...") of a phoneNumber identifier, else NULL */
const char *ngx_http_rtagent_acs_ident_phone(yajl_val ident);


#endif /* _NGX_HTTP_RTAGENT_ACS_EVENT_H_INCLUDED_ */
