
/*
 * The events endpoint (rtagent_acs_events): Event Grid deliveries
 * (subscription validation, IncomingCall) and Call Automation callbacks,
 * in the Event Grid or the CloudEvents schema (PROTOCOLS.md 1.2, 1.3,
 * 1.7).  The request is answered as soon as its body is parsed; the work
 * goes on in the worker: each event is deduplicated on its id in Redis
 * (deliveries are at-least-once), then an IncomingCall is answered through
 * the REST API and a callback updates the call's state.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>

#include <ngx_http_rtagent_module.h>
#include <acs/ngx_http_rtagent_acs.h>
#include <acs/ngx_http_rtagent_acs_body.h>
#include <store/ngx_http_rtagent_store.h>


#define NGX_HTTP_RTAGENT_ACS_ERR_LEN  160

/*
 * An unanswered IncomingCall rings out: when Redis does not say within
 * this long whether an event is a repeat (it is down, its writes queue),
 * the event is handled at once; at-least-once beats a lost call.
 */
#define NGX_HTTP_RTAGENT_ACS_DEDUPE_WAIT  500

/*
 * At most this many events of a worker wait for that check at a time:
 * while Redis is slow or down a burst would otherwise hold any number.
 * Over it an event is handled at once, as when the wait runs out.
 */
#define NGX_HTTP_RTAGENT_ACS_DEDUPE_HELD  64


/* one event's work, in its own pool, from the delivery to its effects */
typedef struct {
    ngx_pool_t                        *pool;
    ngx_log_t                          log;
    ngx_str_t                          event_id;
    ngx_str_t                          name;

    /* IncomingCall */
    ngx_str_t                          correlation_id;
    ngx_str_t                          server_call_id;
    ngx_str_t                          from;         /* rawId */
    ngx_str_t                          from_phone;
    ngx_str_t                          to;
    ngx_str_t                          display_name;
    ngx_str_t                          agent;
    ngx_str_t                          ref;
    ngx_str_t                          body;         /* the answer */

    /* a callback */
    ngx_http_rtagent_acs_cb_t         *cb;

    /* why the call cannot be answered, or NULL */
    const char                        *error;

    ngx_http_rtagent_timer_t           wait;         /* for the dedupe */
    unsigned                           deduping:1;   /* its reply is due */
    unsigned                           held:1;       /* counted in held */
    unsigned                           running:1;
    unsigned                           done:1;
} ngx_http_rtagent_acs_work_t;


static void ngx_http_rtagent_acs_events_body(ngx_http_request_t *r);

/* the request ctx of a request to a callback URI with a valid token */
static ngx_uint_t  ngx_http_rtagent_acs_callback_uri_ok;

/* this worker's events waiting for their dedupe check (per process) */
static ngx_uint_t  ngx_http_rtagent_acs_held;

static ngx_int_t ngx_http_rtagent_acs_events_process(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_rtagent_acs_check_key(ngx_http_request_t *r);
static ngx_int_t ngx_http_rtagent_acs_events_options(ngx_http_request_t *r);
static ngx_int_t ngx_http_rtagent_acs_validation(ngx_http_request_t *r,
    ngx_http_rtagent_acs_event_t *ev);
static ngx_int_t ngx_http_rtagent_acs_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *error);
static ngx_http_rtagent_acs_work_t *ngx_http_rtagent_acs_work(
    ngx_http_request_t *r, ngx_http_rtagent_acs_event_t *ev);
static ngx_int_t ngx_http_rtagent_acs_incoming(
    ngx_http_rtagent_acs_work_t *w, ngx_http_rtagent_acs_event_t *ev);
static void ngx_http_rtagent_acs_deduped(void *data, ngx_int_t rc);
static void ngx_http_rtagent_acs_dedupe_late(ngx_event_t *ev);
static void ngx_http_rtagent_acs_unhold(ngx_http_rtagent_acs_work_t *w);
static void ngx_http_rtagent_acs_work_done(ngx_http_rtagent_acs_work_t *w);
static void ngx_http_rtagent_acs_run(ngx_http_rtagent_acs_work_t *w);
static void ngx_http_rtagent_acs_answered(void *data,
    ngx_http_rtagent_acs_result_t *res);
static ngx_int_t ngx_http_rtagent_acs_copy(ngx_pool_t *pool, ngx_str_t *dst,
    const char *src);


ngx_int_t
ngx_http_rtagent_acs_events_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    if (r->method == NGX_HTTP_OPTIONS) {
        return ngx_http_rtagent_acs_events_options(r);
    }

    if (r->method != NGX_HTTP_POST) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    /* a callback URI names its call and carries the call's secret token */
    rc = ngx_http_rtagent_acs_check_token(r);

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rtagent acs: callback with a wrong token refused");
        return NGX_HTTP_FORBIDDEN;
    }

    if (rc == NGX_OK) {
        rc = ngx_http_rtagent_acs_check_jwt(r);
        if (rc != NGX_OK) {
            return rc;
        }

        /* remembered for the body: the token is checked once */
        ngx_http_set_ctx(r, &ngx_http_rtagent_acs_callback_uri_ok,
                         ngx_http_rtagent_acs_module);

    } else if (ngx_http_rtagent_acs_check_key(r) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rtagent acs: Event Grid delivery without the "
                      "subscription's key refused");
        return NGX_HTTP_FORBIDDEN;
    }

    return ngx_http_rtagent_acs_read_request_body(r,
                                              ngx_http_rtagent_acs_events_body);
}


static void
ngx_http_rtagent_acs_events_body(ngx_http_request_t *r)
{
    ngx_int_t  rc;
    ngx_str_t  body;

    rc = ngx_http_rtagent_acs_read_body(r, &body);

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, rc == NGX_DECLINED
                                     ? NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
                                     : NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_finalize_request(r,
                              ngx_http_rtagent_acs_events_process(r, &body));
}


static ngx_int_t
ngx_http_rtagent_acs_events_process(ngx_http_request_t *r, ngx_str_t *body)
{
    ngx_int_t                        rc;
    ngx_uint_t                       i, n, callback, work, ignored;
    ngx_table_elt_t                 *h;
    ngx_http_rtagent_acs_work_t     *w;
    ngx_http_rtagent_acs_event_t    *ev;
    ngx_http_rtagent_acs_events_t    evs;
    char                             err[NGX_HTTP_RTAGENT_ACS_ERR_LEN];

    if (body->len == 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rtagent acs: event delivery without a body");
        return ngx_http_rtagent_acs_error(r, NGX_HTTP_BAD_REQUEST,
                                          "empty body");
    }

    if (ngx_http_rtagent_acs_events_parse((char *) body->data, body->len,
                                          &evs, err, sizeof(err))
        != 0)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rtagent acs: event delivery refused: %s", err);
        return ngx_http_rtagent_acs_error(r, NGX_HTTP_BAD_REQUEST, err);
    }

    callback = (ngx_http_get_module_ctx(r, ngx_http_rtagent_acs_module)
                == &ngx_http_rtagent_acs_callback_uri_ok);

    h = ngx_http_rtagent_header_in(r, "aeg-event-type",
                                   sizeof("aeg-event-type") - 1, &n);

    for (i = 0; i < evs.nevents; i++) {
        if (evs.events[i].kind == NGX_HTTP_RTAGENT_ACS_EV_VALIDATION) {
            rc = ngx_http_rtagent_acs_validation(r, &evs.events[i]);
            ngx_http_rtagent_acs_events_free(&evs);
            return rc;
        }
    }

    if (h && h->value.len == sizeof("SubscriptionValidation") - 1
        && ngx_strncasecmp(h->value.data, (u_char *) "SubscriptionValidation",
                           h->value.len) == 0)
    {
        ngx_http_rtagent_acs_events_free(&evs);
        return ngx_http_rtagent_acs_error(r, NGX_HTTP_BAD_REQUEST,
                                          "validation delivery without a "
                                          "SubscriptionValidationEvent");
    }

    work = 0;
    ignored = 0;

    for (i = 0; i < evs.nevents; i++) {
        ev = &evs.events[i];

        /*
         * call events change a call's state: only from its callback URI
         * (an Event Grid subscription to more ACS event types is not one)
         */
        if (ev->kind == NGX_HTTP_RTAGENT_ACS_EV_CALL && !callback) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "rtagent acs: event \"%s\" (%s) ignored: call "
                          "events count only from a call's callback URI",
                          ev->type, ev->id);
            ignored++;
            continue;
        }

        if (ev->kind == NGX_HTTP_RTAGENT_ACS_EV_OTHER) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "rtagent acs: event \"%s\" (%s) ignored: not a "
                           "call event", ev->type, ev->id);
            ignored++;
            continue;
        }

        w = ngx_http_rtagent_acs_work(r, ev);
        if (w == NULL) {
            ignored++;
            continue;
        }

        work++;

        if (ngx_http_rtagent_acs_held >= NGX_HTTP_RTAGENT_ACS_DEDUPE_HELD) {
            ngx_log_error(NGX_LOG_WARN, &w->log, 0,
                          "rtagent acs: %ui events wait for Redis's dedupe "
                          "check already, event %V (%V) handled without it",
                          ngx_http_rtagent_acs_held, &w->event_id, &w->name);
            ngx_http_rtagent_acs_run(w);
            continue;
        }

        /* set first: a dropped write is answered before dedupe returns */
        w->deduping = 1;
        w->held = 1;
        ngx_http_rtagent_acs_held++;
        ngx_add_timer(&w->wait.event, NGX_HTTP_RTAGENT_ACS_DEDUPE_WAIT);

        rc = ngx_http_rtagent_store_dedupe(&w->event_id,
                                           NGX_HTTP_RTAGENT_ACS_DEDUPE_TTL,
                                           &w->log,
                                           ngx_http_rtagent_acs_deduped, w);
        if (rc != NGX_OK) {
            /* no Redis: nothing to dedupe against */
            w->deduping = 0;
            ngx_http_rtagent_acs_unhold(w);
            ngx_del_timer(&w->wait.event);
            ngx_http_rtagent_acs_run(w);
        }
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "rtagent acs: delivery of %uz event%s, %ui taken, "
                  "%ui ignored", evs.nevents, evs.nevents == 1 ? "" : "s",
                  work, ignored);

    ngx_http_rtagent_acs_events_free(&evs);

    return ngx_http_rtagent_acs_send_json(r, NGX_HTTP_OK, NULL, 0);
}


/*
 * Event Grid signs nothing: with rtagent_acs_eventgrid_key the
 * subscription's endpoint URL carries "?key=<secret>" (PROTOCOLS.md 2.2)
 */

static ngx_int_t
ngx_http_rtagent_acs_check_key(ngx_http_request_t *r)
{
    ngx_str_t                          key;
    ngx_http_rtagent_acs_main_conf_t  *amcf;

    amcf = ngx_http_rtagent_acs_conf();

    if (amcf->eventgrid_key.len == 0) {
        return NGX_OK;
    }

    if (ngx_http_arg(r, (u_char *) "key", 3, &key) != NGX_OK
        || key.len != amcf->eventgrid_key.len
        || CRYPTO_memcmp(key.data, amcf->eventgrid_key.data, key.len) != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the CloudEvents abuse-protection handshake (PROTOCOLS.md 1.3) */

static ngx_int_t
ngx_http_rtagent_acs_events_options(ngx_http_request_t *r)
{
    ngx_uint_t        n;
    ngx_table_elt_t  *origin, *h;

    origin = ngx_http_rtagent_header_in(r, "webhook-request-origin",
                                        sizeof("webhook-request-origin") - 1,
                                        &n);

    if (origin && origin->value.len) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "WebHook-Allowed-Origin");
        h->value = origin->value;

        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "WebHook-Allowed-Rate");
        ngx_str_set(&h->value, "*");

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "rtagent acs: webhook handshake granted to \"%V\"",
                      &origin->value);
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");
    ngx_str_set(&h->value, "OPTIONS, POST");

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_rtagent_acs_send_json(r, NGX_HTTP_OK, NULL, 0);
}


/* the Event Grid handshake: {"validationResponse": validationCode} */

static ngx_int_t
ngx_http_rtagent_acs_validation(ngx_http_request_t *r,
    ngx_http_rtagent_acs_event_t *ev)
{
    const char  *code;
    ngx_str_t    c, json;

    code = ngx_http_rtagent_json_str(ev->data, "validationCode", NULL);

    if (code == NULL || code[0] == '\0') {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rtagent acs: subscription validation without a "
                      "validationCode");
        return ngx_http_rtagent_acs_error(r, NGX_HTTP_BAD_REQUEST,
                                          "no validationCode");
    }

    c.data = (u_char *) code;
    c.len = ngx_strlen(code);

    if (ngx_http_rtagent_json_object(r->pool, &json, "validationResponse", &c,
                                     NULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "rtagent acs: Event Grid subscription validated (%s)",
                  ev->id);

    return ngx_http_rtagent_acs_send_json(r, NGX_HTTP_OK, json.data,
                                          json.len);
}


static ngx_int_t
ngx_http_rtagent_acs_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *error)
{
    ngx_str_t  e, json;

    e.data = (u_char *) error;
    e.len = ngx_strlen(error);

    if (ngx_http_rtagent_json_object(r->pool, &json, "error", &e, NULL)
        != NGX_OK)
    {
        return status;
    }

    return ngx_http_rtagent_acs_send_json(r, status, json.data, json.len);
}


/* the work of one event ------------------------------------------------- */

static ngx_http_rtagent_acs_work_t *
ngx_http_rtagent_acs_work(ngx_http_request_t *r,
    ngx_http_rtagent_acs_event_t *ev)
{
    ngx_pool_t                   *pool;
    ngx_http_rtagent_acs_work_t  *w;

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        return NULL;
    }

    w = ngx_pcalloc(pool, sizeof(ngx_http_rtagent_acs_work_t));
    if (w == NULL) {
        goto failed;
    }

    w->pool = pool;
    w->log = *ngx_cycle->log;

    ngx_http_rtagent_timer_init(&w->wait, ngx_http_rtagent_acs_dedupe_late,
                                w, ngx_cycle->log);
    w->wait.event.cancelable = 1;

    if (ngx_http_rtagent_acs_copy(pool, &w->event_id, ev->id) != NGX_OK
        || ngx_http_rtagent_acs_copy(pool, &w->name, ev->name) != NGX_OK)
    {
        goto failed;
    }

    if (ev->kind == NGX_HTTP_RTAGENT_ACS_EV_INCOMING_CALL) {
        if (ngx_http_rtagent_acs_incoming(w, ev) != NGX_OK) {
            goto failed;
        }

        return w;
    }

    w->cb = ngx_http_rtagent_acs_cb_plan(pool, ev, r->connection->log);
    if (w->cb == NULL) {
        goto failed;
    }

    return w;

failed:

    ngx_destroy_pool(pool);

    return NULL;
}


static ngx_int_t
ngx_http_rtagent_acs_incoming(ngx_http_rtagent_acs_work_t *w,
    ngx_http_rtagent_acs_event_t *ev)
{
    u_char                             *p;
    char                               *body;
    size_t                              len;
    yajl_val                            to, from;
    ngx_str_t                           cb, media, to_phone, *agent;
    const char                         *context, *s;
    ngx_http_rtagent_acs_media_opts_t   mo;
    ngx_http_rtagent_acs_main_conf_t   *amcf;
    char                                raw[256];

    amcf = ngx_http_rtagent_acs_conf();

    context = ngx_http_rtagent_json_str(ev->data, "incomingCallContext",
                                            NULL);
    if (context == NULL || context[0] == '\0') {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "rtagent acs: IncomingCall %s without an "
                      "incomingCallContext ignored", ev->id);
        return NGX_ERROR;
    }

    to = ngx_http_rtagent_json_get(ev->data, "to", NULL);
    from = ngx_http_rtagent_json_get(ev->data, "from", NULL);

    s = ngx_http_rtagent_acs_ident_raw(to, raw, sizeof(raw));
    if (ngx_http_rtagent_acs_copy(w->pool, &w->to, s) != NGX_OK) {
        return NGX_ERROR;
    }

    s = ngx_http_rtagent_acs_ident_phone(to);
    if (ngx_http_rtagent_acs_copy(w->pool, &to_phone, s) != NGX_OK) {
        return NGX_ERROR;
    }

    s = ngx_http_rtagent_acs_ident_raw(from, raw, sizeof(raw));
    if (ngx_http_rtagent_acs_copy(w->pool, &w->from, s) != NGX_OK
        || ngx_http_rtagent_acs_copy(w->pool, &w->from_phone,
               ngx_http_rtagent_acs_ident_phone(from)) != NGX_OK
        || ngx_http_rtagent_acs_copy(w->pool, &w->display_name,
               ngx_http_rtagent_json_str(ev->data, "callerDisplayName",
                                             NULL)) != NGX_OK
        || ngx_http_rtagent_acs_copy(w->pool, &w->server_call_id,
                                     ev->server_call_id) != NGX_OK
        || ngx_http_rtagent_acs_copy(w->pool, &w->correlation_id,
                                     ev->correlation_id) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* logs and keys name the call by its correlation id until answered */
    if (!ngx_http_rtagent_call_id_valid(w->correlation_id.data,
                                        w->correlation_id.len))
    {
        w->correlation_id = w->event_id;

        if (!ngx_http_rtagent_call_id_valid(w->correlation_id.data,
                                            w->correlation_id.len))
        {
            ngx_str_set(&w->correlation_id, "unknown");
        }
    }

    agent = ngx_http_rtagent_acs_route(&to_phone, &w->to);
    w->agent = *agent;

    if (amcf->account == NULL || amcf->callback_url.len == 0
        || amcf->media_url.len == 0)
    {
        w->error = "not configured: rtagent_acs_connection_string, "
                   "rtagent_acs_callback_url and rtagent_acs_media_url "
                   "are needed";
        return NGX_OK;
    }

    if (ngx_http_rtagent_acs_new_ref(w->pool, &w->ref) != NGX_OK
        || ngx_http_rtagent_acs_callback_uri(w->pool, &w->ref, &cb) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the media session learns its entry agent from the URL */
    media.data = ngx_pnalloc(w->pool, amcf->media_url.len + sizeof("?agent=")
                                      + agent->len);
    if (media.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(media.data, "%V?agent=%V%Z", &amcf->media_url, agent);
    media.len = p - 1 - media.data;

    mo.transport_url = (char *) media.data;
    mo.audio_format = (char *) amcf->audio_format.data;
    mo.enable_dtmf = 1;

    body = ngx_http_rtagent_acs_body_answer(context, (char *) cb.data,
                                            (char *) w->ref.data, &mo, &len);
    if (body == NULL) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "rtagent acs: cannot build the answer of IncomingCall "
                      "%s, call:%V", ev->id, &w->correlation_id);
        return NGX_ERROR;
    }

    w->body.data = ngx_pnalloc(w->pool, len);
    if (w->body.data == NULL) {
        free(body);
        return NGX_ERROR;
    }

    ngx_memcpy(w->body.data, body, len);
    w->body.len = len;
    free(body);

    return NGX_OK;
}


static void
ngx_http_rtagent_acs_deduped(void *data, ngx_int_t rc)
{
    ngx_http_rtagent_acs_work_t  *w = data;

    w->deduping = 0;
    ngx_http_rtagent_acs_unhold(w);

    if (w->wait.event.timer_set) {
        ngx_del_timer(&w->wait.event);
    }

    if (rc == NGX_HTTP_RTAGENT_STORE_EXITING || ngx_http_rtagent_acs_exiting())
    {
        /* the worker exits: nothing new starts, handled or not */
        ngx_log_error(NGX_LOG_INFO, &w->log, 0,
                      "rtagent acs: event not handled: the worker is "
                      "exiting, call:%V", &w->correlation_id);

        if (!w->running || w->done) {
            ngx_destroy_pool(w->pool);
        }

        return;
    }

    if (w->running) {
        /* handled already, Redis being late */
        if (rc == 0) {
            ngx_log_error(NGX_LOG_WARN, &w->log, 0,
                          "rtagent acs: event %V (%V) turned out to be a "
                          "repeat, handled again while Redis was slow",
                          &w->event_id, &w->name);
        }

        if (w->done) {
            ngx_destroy_pool(w->pool);
        }

        return;
    }

    if (rc == 0) {
        ngx_log_error(NGX_LOG_INFO, &w->log, 0,
                      "rtagent acs: event %V (%V) delivered again, ignored",
                      &w->event_id, &w->name);
        ngx_destroy_pool(w->pool);
        return;
    }

    ngx_http_rtagent_acs_run(w);
}


static void
ngx_http_rtagent_acs_dedupe_late(ngx_event_t *ev)
{
    ngx_http_rtagent_acs_work_t  *w;

    w = ((ngx_http_rtagent_timer_t *) ev->data)->data;

    ngx_http_rtagent_acs_unhold(w);

    ngx_log_error(NGX_LOG_WARN, &w->log, 0,
                  "rtagent acs: Redis did not check event %V (%V) within "
                  "%d ms, handled without the check",
                  &w->event_id, &w->name, NGX_HTTP_RTAGENT_ACS_DEDUPE_WAIT);

    ngx_http_rtagent_acs_run(w);
}


/* the event waits no more for its dedupe check: it leaves the count */

static void
ngx_http_rtagent_acs_unhold(ngx_http_rtagent_acs_work_t *w)
{
    if (w->held) {
        w->held = 0;
        ngx_http_rtagent_acs_held--;
    }
}


/* the work ended; its memory goes once the dedupe reply is in too */

static void
ngx_http_rtagent_acs_work_done(ngx_http_rtagent_acs_work_t *w)
{
    w->done = 1;

    if (!w->deduping) {
        ngx_destroy_pool(w->pool);
    }
}


static void
ngx_http_rtagent_acs_run(ngx_http_rtagent_acs_work_t *w)
{
    ngx_str_t                      path;
    ngx_http_rtagent_acs_result_t  res;

    w->running = 1;

    if (w->cb) {
        ngx_http_rtagent_acs_cb_apply(w->cb, &w->log);
        ngx_http_rtagent_acs_work_done(w);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, &w->log, 0,
                  "rtagent acs: incoming call from \"%V\" to \"%V\", "
                  "entry agent \"%V\", call:%V",
                  &w->from, &w->to, &w->agent, &w->correlation_id);

    ngx_str_set(&path, "/calling/callConnections:answer");

    if (w->error == NULL
        && ngx_http_rtagent_acs_rest(&w->log, &w->correlation_id, "POST",
                                     &path, w->body.data, w->body.len,
                                     ngx_http_rtagent_acs_answered, w)
           == NGX_OK)
    {
        return;
    }

    /* not sent: recorded like an answer that failed */
    ngx_memzero(&res, sizeof(ngx_http_rtagent_acs_result_t));
    res.rc = NGX_ERROR;
    ngx_cpystrn((u_char *) res.message,
                (u_char *) (w->error ? w->error : "the request was not sent"),
                sizeof(res.message));

    ngx_http_rtagent_acs_answered(w, &res);
}


/* the answer's response: the call exists, or the attempt is recorded */

static void
ngx_http_rtagent_acs_answered(void *data, ngx_http_rtagent_acs_result_t *res)
{
    ngx_http_rtagent_acs_work_t *w = data;

    u_char                          *p;
    ngx_str_t                        id, sid, json, status, code, msg, once;
    ngx_str_t                        now, e, inbound, connecting;
    ngx_uint_t                       n;
    ngx_http_rtagent_store_field_t   f[16];
    char                             cid[NGX_HTTP_RTAGENT_CALL_ID_MAX + 1];
    char                             scid[512];
    u_char                           num[NGX_INT64_LEN];
    u_char                           st[NGX_INT_T_LEN];

    if (res->rc == NGX_OK
        && (ngx_http_rtagent_acs_parse_call((char *) res->body.data,
                                            res->body.len, cid, sizeof(cid),
                                            scid, sizeof(scid))
            != 0
            || !ngx_http_rtagent_call_id_valid((u_char *) cid,
                                               ngx_strlen(cid))))
    {
        ngx_log_error(NGX_LOG_ERR, &w->log, 0,
                      "rtagent acs: answer returned %ui without a valid "
                      "callConnectionId, call:%V", res->status,
                      &w->correlation_id);
        res->rc = NGX_ERROR;
        ngx_cpystrn((u_char *) res->message,
                    (u_char *) "no valid callConnectionId in the response",
                    sizeof(res->message));
    }

    if (res->rc != NGX_OK) {
        /* nothing of the call was stored; the attempt is on the stream */
        status.data = st;
        status.len = ngx_sprintf(st, "%ui", res->status) - st;
        code.data = (u_char *) res->code;
        code.len = ngx_strlen(res->code);
        msg.data = (u_char *) res->message;
        msg.len = ngx_strlen(res->message);

        ngx_str_set(&e, "answer failed");

        if (ngx_http_rtagent_json_object(w->pool, &json, "error", &e,
                                         "#status", &status, "code", &code,
                                         "message", &msg, "from", &w->from,
                                         "to", &w->to, "event_id", &w->event_id,
                                         NULL)
            == NGX_OK)
        {
            (void) ngx_http_rtagent_store_call_event(&w->correlation_id,
                                      NGX_HTTP_RTAGENT_EV_ERROR_OCCURRED,
                                      &json, NULL, &w->log);
        }

        ngx_log_error(NGX_LOG_ERR, &w->log, 0,
                      "rtagent acs: incoming call not answered%s%s, call:%V",
                      w->error ? ": " : "", w->error ? w->error : "",
                      &w->correlation_id);

        ngx_http_rtagent_acs_work_done(w);
        return;
    }

    id.data = (u_char *) cid;
    id.len = ngx_strlen(cid);

    sid.data = (u_char *) scid;
    sid.len = ngx_strlen(scid);

    if (sid.len == 0) {
        sid = w->server_call_id;
    }

    now.data = num;
    now.len = ngx_sprintf(num, "%L", ngx_http_rtagent_now_ms()) - num;

    n = 0;

#define ngx_http_rtagent_acs_field(nm, v)                                    \
    if ((v)->len) { f[n].name = nm; f[n].value = *(v); n++; }

    ngx_str_set(&inbound, "inbound");
    ngx_str_set(&connecting, "connecting");

    ngx_http_rtagent_acs_field("direction", &inbound);
    ngx_http_rtagent_acs_field("acs_state", &connecting);

    ngx_http_rtagent_acs_field("peer", &w->from);
    ngx_http_rtagent_acs_field("peer_phone", &w->from_phone);
    ngx_http_rtagent_acs_field("callee", &w->to);
    ngx_http_rtagent_acs_field("caller_display_name", &w->display_name);
    ngx_http_rtagent_acs_field("agent", &w->agent);
    ngx_http_rtagent_acs_field("ref", &w->ref);
    ngx_http_rtagent_acs_field("correlation_id", &w->correlation_id);
    ngx_http_rtagent_acs_field("server_call_id", &sid);
    ngx_http_rtagent_acs_field("created", &now);
    ngx_http_rtagent_acs_field("answered", &now);

#undef ngx_http_rtagent_acs_field

    (void) ngx_http_rtagent_store_call_set(&id, f, n, &w->log);

    if (ngx_http_rtagent_json_object(w->pool, &json, "direction", &inbound,
                                     "agent", &w->agent, "from", &w->from,
                                     "to", &w->to, "correlation_id",
                                     &w->correlation_id, NULL)
        == NGX_OK)
    {
        (void) ngx_http_rtagent_store_call_event(&id,
                                      NGX_HTTP_RTAGENT_EV_CALL_STARTED, &json,
                                      NGX_HTTP_RTAGENT_STORE_ONCE_STARTED,
                                      &w->log);
    }

    if (w->from.len) {
        once.data = ngx_pnalloc(w->pool, sizeof("ev:joined:") + w->from.len);

        if (once.data
            && ngx_http_rtagent_json_object(w->pool, &json, "participant",
                                            &w->from, NULL)
               == NGX_OK)
        {
            p = ngx_sprintf(once.data, "ev:joined:%V%Z", &w->from);
            once.len = p - 1 - once.data;

            (void) ngx_http_rtagent_store_call_event(&id,
                                      NGX_HTTP_RTAGENT_EV_PARTICIPANT_JOINED,
                                      &json, (char *) once.data, &w->log);
        }
    }

    ngx_log_error(NGX_LOG_INFO, &w->log, 0,
                  "rtagent acs: answered, agent \"%V\", correlation %V, "
                  "call:%V", &w->agent, &w->correlation_id, &id);

    ngx_http_rtagent_acs_work_done(w);
}


/* helpers ---------------------------------------------------------------- */

static ngx_int_t
ngx_http_rtagent_acs_copy(ngx_pool_t *pool, ngx_str_t *dst, const char *src)
{
    if (src == NULL) {
        ngx_str_set(dst, "");
        return NGX_OK;
    }

    return ngx_http_rtagent_acs_copy_str(pool, dst, (u_char *) src,
                                         ngx_strlen(src));
}
