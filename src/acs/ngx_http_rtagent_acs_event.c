
/*
 * Events endpoint parser: Event Grid and CloudEvents deliveries and Call
 * Automation callbacks, on yajl's tree API (made safe for untrusted bodies
 * by ngx_http_rtagent_json_parse()).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "ngx_http_rtagent_acs_event.h"
#include "ngx_http_rtagent_acs_text.h"


/* events are 4 or 5 levels deep; customContext maps add one or two */
#define NGX_HTTP_RTAGENT_ACS_EV_DEPTH_MAX  64

#define NGX_HTTP_RTAGENT_ACS_EV_T_PREFIX  "Microsoft.Communication."
#define NGX_HTTP_RTAGENT_ACS_EV_T_PREFIX_LEN                                 \
    (sizeof(NGX_HTTP_RTAGENT_ACS_EV_T_PREFIX) - 1)
#define NGX_HTTP_RTAGENT_ACS_EV_T_VALIDATION                                 \
    "Microsoft.EventGrid.SubscriptionValidationEvent"
#define NGX_HTTP_RTAGENT_ACS_EV_T_INCOMING                                   \
    "Microsoft.Communication.IncomingCall"


static int ngx_http_rtagent_acs_ev_fill(yajl_val v, size_t i,
    ngx_http_rtagent_acs_event_t *ev, char *err, size_t errlen);
static const char *ngx_http_rtagent_acs_ev_nonempty(yajl_val obj,
    const char *key);
static const char *ngx_http_rtagent_acs_ev_cat(char *buf, size_t buflen,
    const char *prefix, const char *s);


int
ngx_http_rtagent_acs_events_parse(const char *body, size_t len,
    ngx_http_rtagent_acs_events_t *evs, char *err, size_t errlen)
{
    size_t       i, n;
    unsigned     array;
    yajl_val     tree, *items;

    memset(evs, 0, sizeof(ngx_http_rtagent_acs_events_t));
    ngx_http_rtagent_acs_errf(err, errlen, "%s", "");

    tree = ngx_http_rtagent_json_parse(body, len,
                                          NGX_HTTP_RTAGENT_ACS_EV_DEPTH_MAX,
                                          0, err, errlen);
    if (tree == NULL) {
        return -1;
    }

    if (YAJL_IS_OBJECT(tree)) {
        items = &tree;
        n = 1;
        array = 0;

    } else if (YAJL_IS_ARRAY(tree)) {
        items = tree->u.array.values;
        n = tree->u.array.len;
        array = 1;

    } else {
        yajl_tree_free(tree);
        ngx_http_rtagent_acs_errf(err, errlen, "not an object or array");
        return -1;
    }

    if (n == 0) {
        yajl_tree_free(tree);
        ngx_http_rtagent_acs_errf(err, errlen, "no events");
        return -1;
    }

    if (n > NGX_HTTP_RTAGENT_ACS_EVENTS_MAX) {
        yajl_tree_free(tree);
        ngx_http_rtagent_acs_errf(err, errlen, "too many events");
        return -1;
    }

    evs->events = calloc(n, sizeof(ngx_http_rtagent_acs_event_t));
    if (evs->events == NULL) {
        yajl_tree_free(tree);
        ngx_http_rtagent_acs_errf(err, errlen, "out of memory");
        return -1;
    }

    evs->tree = tree;

    for (i = 0; i < n; i++) {
        if (ngx_http_rtagent_acs_ev_fill(items[i], i, &evs->events[i],
                                         err, errlen)
            != 0)
        {
            ngx_http_rtagent_acs_events_free(evs);
            return -1;
        }
    }

    evs->nevents = n;
    evs->array = array;

    return 0;
}


void
ngx_http_rtagent_acs_events_free(ngx_http_rtagent_acs_events_t *evs)
{
    if (evs == NULL) {
        return;
    }

    yajl_tree_free(evs->tree);
    free(evs->events);

    memset(evs, 0, sizeof(ngx_http_rtagent_acs_events_t));
}


const char *
ngx_http_rtagent_acs_ident_raw(yajl_val ident, char *buf, size_t buflen)
{
    const char  *s;

    if (!YAJL_IS_OBJECT(ident)) {
        return NULL;
    }

    s = ngx_http_rtagent_acs_ev_nonempty(ident, "rawId");
    if (s) {
        return s;
    }

    s = ngx_http_rtagent_json_str(ident, "phoneNumber", "value", NULL);
    if (s && s[0]) {
        return ngx_http_rtagent_acs_ev_cat(buf, buflen, "4:", s);
    }

    s = ngx_http_rtagent_json_str(ident, "communicationUser", "id",
                                      NULL);
    if (s && s[0]) {
        return ngx_http_rtagent_acs_ev_cat(buf, buflen, "", s);
    }

    s = ngx_http_rtagent_json_str(ident, "microsoftTeamsApp", "appId",
                                      NULL);
    if (s && s[0]) {
        return ngx_http_rtagent_acs_ev_cat(buf, buflen, "28:", s);
    }

    s = ngx_http_rtagent_json_str(ident, "microsoftTeamsUser", "userId",
                                      NULL);
    if (s && s[0]) {
        return ngx_http_rtagent_acs_ev_cat(buf, buflen, "8:orgid:", s);
    }

    return NULL;
}


const char *
ngx_http_rtagent_acs_ident_phone(yajl_val ident)
{
    const char  *s, *kind;

    if (!YAJL_IS_OBJECT(ident)) {
        return NULL;
    }

    s = ngx_http_rtagent_json_str(ident, "phoneNumber", "value", NULL);
    if (s && s[0]) {
        return s;
    }

    /* a response may carry only kind and rawId */
    kind = ngx_http_rtagent_json_str(ident, "kind", NULL);
    s = ngx_http_rtagent_json_str(ident, "rawId", NULL);

    if (kind && strcmp(kind, "phoneNumber") == 0
        && s && s[0] == '4' && s[1] == ':' && s[2] != '\0')
    {
        return s + 2;
    }

    return NULL;
}




static int
ngx_http_rtagent_acs_ev_fill(yajl_val v, size_t i,
    ngx_http_rtagent_acs_event_t *ev, char *err, size_t errlen)
{
    yajl_val     data;
    const char  *type;

    if (!YAJL_IS_OBJECT(v)) {
        ngx_http_rtagent_acs_errf(err, errlen, "event %zu is not an object",
                                  i);
        return -1;
    }

    ev->id = ngx_http_rtagent_acs_ev_nonempty(v, "id");
    if (ev->id == NULL) {
        ngx_http_rtagent_acs_errf(err, errlen, "event %zu has no id", i);
        return -1;
    }

    /* Event Grid schema first; CloudEvents use "type" */
    type = ngx_http_rtagent_acs_ev_nonempty(v, "eventType");
    if (type == NULL) {
        type = ngx_http_rtagent_acs_ev_nonempty(v, "type");
    }

    if (type == NULL) {
        ngx_http_rtagent_acs_errf(err, errlen, "event %zu has no type", i);
        return -1;
    }

    data = ngx_http_rtagent_json_get(v, "data", NULL);

    /* CloudEvents allow an event without data; null is taken as that */
    if (data != NULL && YAJL_IS_NULL(data)) {
        data = NULL;
    }

    if (data != NULL && !YAJL_IS_OBJECT(data)) {
        ngx_http_rtagent_acs_errf(err, errlen,
                                  "event %zu data is not an object", i);
        return -1;
    }

    ev->type = type;
    ev->name = type;
    ev->data = data;

    if (strcmp(type, NGX_HTTP_RTAGENT_ACS_EV_T_VALIDATION) == 0) {
        ev->kind = NGX_HTTP_RTAGENT_ACS_EV_VALIDATION;

    } else if (strcmp(type, NGX_HTTP_RTAGENT_ACS_EV_T_INCOMING) == 0) {
        ev->kind = NGX_HTTP_RTAGENT_ACS_EV_INCOMING_CALL;

    } else if (strncmp(type, NGX_HTTP_RTAGENT_ACS_EV_T_PREFIX,
                       NGX_HTTP_RTAGENT_ACS_EV_T_PREFIX_LEN)
               == 0
               && type[NGX_HTTP_RTAGENT_ACS_EV_T_PREFIX_LEN] != '\0')
    {
        ev->kind = NGX_HTTP_RTAGENT_ACS_EV_CALL;
        ev->name = type + NGX_HTTP_RTAGENT_ACS_EV_T_PREFIX_LEN;

    } else {
        ev->kind = NGX_HTTP_RTAGENT_ACS_EV_OTHER;
    }

    ev->subject = ngx_http_rtagent_json_str(v, "subject", NULL);

    ev->time = ngx_http_rtagent_json_str(v, "eventTime", NULL);
    if (ev->time == NULL) {
        ev->time = ngx_http_rtagent_json_str(v, "time", NULL);
    }

    ev->call_connection_id = ngx_http_rtagent_json_str(data,
                                                 "callConnectionId", NULL);
    ev->server_call_id = ngx_http_rtagent_json_str(data, "serverCallId",
                                                       NULL);
    ev->correlation_id = ngx_http_rtagent_json_str(data, "correlationId",
                                                       NULL);
    ev->operation_context = ngx_http_rtagent_json_str(data,
                                                 "operationContext", NULL);

    return 0;
}


static const char *
ngx_http_rtagent_acs_ev_nonempty(yajl_val obj, const char *key)
{
    const char  *s;

    s = ngx_http_rtagent_json_str(obj, key, NULL);

    return (s && s[0]) ? s : NULL;
}


static const char *
ngx_http_rtagent_acs_ev_cat(char *buf, size_t buflen, const char *prefix,
    const char *s)
{
    size_t  plen, slen;

    plen = strlen(prefix);
    slen = strlen(s);

    if (buf == NULL || buflen <= plen || buflen - plen <= slen) {
        return NULL;
    }

    memcpy(buf, prefix, plen);
    memcpy(buf + plen, s, slen + 1);

    return buf;
}
