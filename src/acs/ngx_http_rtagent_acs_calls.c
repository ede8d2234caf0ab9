
/*
 * The operators' API (rtagent_acs_calls) and the actions on a call
 * (PROTOCOLS.md 1.6), also used by the call session:
 *
 *   POST <prefix>                     an outbound call (CreateCall)
 *   GET  <prefix>/<call id>           the call's state from Redis
 *   POST <prefix>/<call id>/<action>  hangup, terminate, transfer,
 *                                     recording, dtmf, dtmf-recognition
 *
 * Every request presents rtagent_acs_api_key.  The client's request stays
 * open while Redis and ACS answer; it may go away meanwhile (a pool
 * cleanup clears the back pointer), and what ACS did is recorded anyway.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>

#include <ngx_http_rtagent_module.h>
#include <acs/ngx_http_rtagent_acs.h>
#include <acs/ngx_http_rtagent_acs_api.h>
#include <acs/ngx_http_rtagent_acs_body.h>
#include <store/ngx_http_rtagent_store.h>


#define NGX_HTTP_RTAGENT_ACS_SCID_MAX    1024  /* serverCallId */


/* an action: its name in the API and its Call Automation request */
typedef struct {
    ngx_str_t                              name;
    ngx_http_rtagent_acs_action_e          action;
    const char                            *method;
    const char                            *op;     /* NULL: recordings */
    ngx_uint_t                             redis;  /* needs the hash */
} ngx_http_rtagent_acs_act_def_t;


/* one action under way, in its own pool (the caller may go away) */
typedef struct {
    ngx_pool_t                            *pool;
    ngx_log_t                              log;
    ngx_str_t                              call_id;
    ngx_str_t                              arg;
    ngx_str_t                              peer;
    ngx_str_t                              server_call_id;
    ngx_str_t                              ref;
    const ngx_http_rtagent_acs_act_def_t  *def;
    ngx_http_rtagent_acs_rest_pt           handler;
    void                                  *data;
} ngx_http_rtagent_acs_act_t;


/* an operator's request waiting for Redis or ACS */
typedef struct {
    ngx_pool_t                            *pool;
    ngx_log_t                              log;
    ngx_http_request_t                    *r;       /* NULL once gone */
    ngx_pool_cleanup_t                    *cln;
    ngx_str_t                              call_id;
    const ngx_http_rtagent_acs_act_def_t  *def;

    /* an outbound call */
    ngx_str_t                              target;
    ngx_str_t                              peer;     /* rawId */
    ngx_str_t                              peer_phone;
    ngx_str_t                              agent;
    ngx_str_t                              ref;
} ngx_http_rtagent_acs_calls_ctx_t;


/* what the route of a POST action keeps until its body is read */
typedef struct {
    ngx_str_t                              call_id;
    const ngx_http_rtagent_acs_act_def_t  *def;
} ngx_http_rtagent_acs_calls_route_t;


/* a JSON object built with yajl; the first failure is remembered */
static ngx_int_t ngx_http_rtagent_acs_calls_auth(ngx_http_request_t *r,
    ngx_int_t *rc);
static ngx_int_t ngx_http_rtagent_acs_calls_key(ngx_http_request_t *r,
    ngx_str_t *key);
static ngx_int_t ngx_http_rtagent_acs_calls_route(ngx_http_request_t *r,
    ngx_str_t *id, ngx_str_t *action);
static ngx_int_t ngx_http_rtagent_acs_calls_read(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt handler);
static void ngx_http_rtagent_acs_calls_create_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_rtagent_acs_calls_create(ngx_http_request_t *r);
static const char *ngx_http_rtagent_acs_calls_check(ngx_str_t *target,
    ngx_str_t *agent, ngx_str_t *source);
static ngx_int_t ngx_http_rtagent_acs_calls_create_start(
    ngx_http_request_t *r, ngx_str_t *target, ngx_str_t *agent,
    ngx_str_t *source, ngx_str_t *display_name);
static ngx_int_t ngx_http_rtagent_acs_calls_peer(
    ngx_http_rtagent_acs_calls_ctx_t *ctx);
static void ngx_http_rtagent_acs_calls_created(void *data,
    ngx_http_rtagent_acs_result_t *res);
static void ngx_http_rtagent_acs_calls_record(
    ngx_http_rtagent_acs_calls_ctx_t *ctx, ngx_str_t *id, ngx_str_t *scid);
static ngx_int_t ngx_http_rtagent_acs_calls_status(ngx_http_request_t *r,
    ngx_str_t *id);
static void ngx_http_rtagent_acs_calls_status_got(void *data, ngx_int_t n,
    ngx_str_t *values);
static void ngx_http_rtagent_acs_calls_action_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_rtagent_acs_calls_action(ngx_http_request_t *r);
static void ngx_http_rtagent_acs_calls_acted(void *data,
    ngx_http_rtagent_acs_result_t *res);
static ngx_http_rtagent_acs_calls_ctx_t *ngx_http_rtagent_acs_calls_ctx(
    ngx_http_request_t *r);
static void ngx_http_rtagent_acs_calls_gone(void *data);
static void ngx_http_rtagent_acs_calls_finish(
    ngx_http_rtagent_acs_calls_ctx_t *ctx, ngx_uint_t status,
    ngx_str_t *json);
static void ngx_http_rtagent_acs_calls_drop(
    ngx_http_rtagent_acs_calls_ctx_t *ctx);
static ngx_int_t ngx_http_rtagent_acs_calls_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *error);
static ngx_int_t ngx_http_rtagent_acs_calls_result_json(ngx_pool_t *pool,
    ngx_http_rtagent_acs_result_t *res, ngx_str_t *json);
static ngx_int_t ngx_http_rtagent_acs_calls_string(ngx_http_request_t *r,
    const char *s, ngx_str_t *out);

static const ngx_http_rtagent_acs_act_def_t *ngx_http_rtagent_acs_act_find(
    ngx_http_rtagent_acs_action_e action);
static void ngx_http_rtagent_acs_act_got(void *data, ngx_int_t n,
    ngx_str_t *values);
static ngx_int_t ngx_http_rtagent_acs_act_send(ngx_http_rtagent_acs_act_t *a);
static void ngx_http_rtagent_acs_act_done(void *data,
    ngx_http_rtagent_acs_result_t *res);
static void ngx_http_rtagent_acs_act_recorded(ngx_http_rtagent_acs_act_t *a,
    ngx_http_rtagent_acs_result_t *res);
static void ngx_http_rtagent_acs_act_error(ngx_http_rtagent_acs_act_t *a,
    const char *code, const char *message);
static void ngx_http_rtagent_acs_act_refuse(ngx_http_rtagent_acs_act_t *a,
    ngx_uint_t status, const char *code, const char *message);
static void ngx_http_rtagent_acs_act_set(ngx_http_rtagent_acs_act_t *a,
    const char *name, const char *value, ngx_str_t *other_value,
    const char *other);



static ngx_http_rtagent_acs_act_def_t  ngx_http_rtagent_acs_acts[] = {

    { ngx_string("hangup"), NGX_HTTP_RTAGENT_ACS_HANGUP,
      "DELETE", "", 0 },

    { ngx_string("terminate"), NGX_HTTP_RTAGENT_ACS_TERMINATE,
      "POST", ":terminate", 0 },

    { ngx_string("transfer"), NGX_HTTP_RTAGENT_ACS_TRANSFER,
      "POST", ":transferToParticipant", 0 },

    /* POST /calling/recordings: the call is named by its serverCallId */
    { ngx_string("recording"), NGX_HTTP_RTAGENT_ACS_RECORD,
      "POST", NULL, 1 },

    { ngx_string("dtmf"), NGX_HTTP_RTAGENT_ACS_SEND_DTMF,
      "POST", ":sendDtmfTones", 1 },

    { ngx_string("dtmf-recognition"), NGX_HTTP_RTAGENT_ACS_DTMF_RECOGNITION,
      "POST", ":startContinuousDtmfRecognition", 1 },

    { ngx_null_string, 0, NULL, NULL, 0 }
};


/* what an action needs of the call hash; acs_state and peer say it exists */
static const char  *ngx_http_rtagent_acs_act_fields[] = {
    "acs_state", "peer", "server_call_id", "ref"
};

/* what GET <prefix>/<id> shows */
static const char  *ngx_http_rtagent_acs_status_fields[] = {
    "call_id", "direction", "peer", "agent", "acs_state", "state",
    "media_state", "transfer", "transfer_target", "recording_id",
    "recording_state", "hangup_by", "outcome", "last_event"
};


/* the handler ------------------------------------------------------------ */

ngx_int_t
ngx_http_rtagent_acs_calls_handler(ngx_http_request_t *r)
{
    ngx_int_t                              rc;
    ngx_str_t                              id, action;
    ngx_uint_t                             i;
    ngx_table_elt_t                       *h;
    ngx_http_rtagent_acs_calls_route_t    *route;

    if (ngx_http_rtagent_acs_calls_auth(r, &rc) != NGX_OK) {
        return rc;
    }

    if (ngx_http_rtagent_acs_calls_route(r, &id, &action) != NGX_OK) {
        return ngx_http_rtagent_acs_calls_error(r, NGX_HTTP_NOT_FOUND,
                                                "no such resource");
    }

    if (id.len == 0) {
        if (r->method != NGX_HTTP_POST) {
            goto not_allowed;
        }

        return ngx_http_rtagent_acs_calls_read(r,
                                      ngx_http_rtagent_acs_calls_create_body);
    }

    if (!ngx_http_rtagent_call_id_valid(id.data, id.len)) {
        return ngx_http_rtagent_acs_calls_error(r, NGX_HTTP_BAD_REQUEST,
                                                "invalid call id");
    }

    if (action.len == 0) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            goto not_allowed;
        }

        return ngx_http_rtagent_acs_calls_status(r, &id);
    }

    for (i = 0; ngx_http_rtagent_acs_acts[i].name.len; i++) {
        if (action.len == ngx_http_rtagent_acs_acts[i].name.len
            && ngx_strncmp(action.data, ngx_http_rtagent_acs_acts[i].name.data,
                           action.len) == 0)
        {
            break;
        }
    }

    if (ngx_http_rtagent_acs_acts[i].name.len == 0) {
        return ngx_http_rtagent_acs_calls_error(r, NGX_HTTP_NOT_FOUND,
                  "unknown action: hangup, terminate, transfer, recording, "
                  "dtmf or dtmf-recognition");
    }

    if (r->method != NGX_HTTP_POST) {
        goto not_allowed;
    }

    route = ngx_palloc(r->pool, sizeof(ngx_http_rtagent_acs_calls_route_t));
    if (route == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    route->call_id = id;
    route->def = &ngx_http_rtagent_acs_acts[i];

    ngx_http_set_ctx(r, route, ngx_http_rtagent_acs_module);

    return ngx_http_rtagent_acs_calls_read(r,
                                      ngx_http_rtagent_acs_calls_action_body);

not_allowed:

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");

    if (id.len && action.len == 0) {
        ngx_str_set(&h->value, "GET, HEAD");

    } else {
        ngx_str_set(&h->value, "POST");
    }

    return ngx_http_rtagent_acs_calls_error(r, NGX_HTTP_NOT_ALLOWED,
                                            "method not allowed");
}


/*
 * The key goes as "Authorization: Bearer <key>" or "X-Api-Key: <key>" and
 * is compared in constant time: its length is no secret, its bytes are.
 * NGX_OK lets the request in; else it was answered, *rc says how.
 */

static ngx_int_t
ngx_http_rtagent_acs_calls_auth(ngx_http_request_t *r, ngx_int_t *rc)
{
    ngx_int_t                          found;
    ngx_str_t                          key;
    ngx_table_elt_t                   *h;
    ngx_http_rtagent_acs_main_conf_t  *amcf;

    amcf = ngx_http_rtagent_acs_conf();

    if (amcf->api_key.len == 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rtagent acs: calls API request refused: "
                      "rtagent_acs_api_key is not configured");
        *rc = ngx_http_rtagent_acs_calls_error(r, NGX_HTTP_FORBIDDEN,
                                    "rtagent_acs_api_key is not configured");
        return NGX_DECLINED;
    }

    found = ngx_http_rtagent_acs_calls_key(r, &key);

    if (found == NGX_OK
        && key.len == amcf->api_key.len
        && CRYPTO_memcmp(key.data, amcf->api_key.data, key.len) == 0)
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "rtagent acs: calls API request %s refused",
                  found == NGX_OK ? "with a wrong API key"
                                  : "without an API key");

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DECLINED;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    ngx_str_set(&h->value, "Bearer realm=\"rtagent\"");

    *rc = ngx_http_rtagent_acs_calls_error(r, NGX_HTTP_UNAUTHORIZED,
                        found == NGX_OK ? "invalid API key"
                                        : "an API key is required "
                                          "(Authorization: Bearer or "
                                          "X-Api-Key)");
    return NGX_DECLINED;
}


/*
 * NGX_OK with the presented key, or NGX_DECLINED when there is none; a
 * malformed Bearer credential is presented as an empty key, which is
 * wrong.  nginx itself refuses a request with two Authorization lines.
 */

static ngx_int_t
ngx_http_rtagent_acs_calls_key(ngx_http_request_t *r, ngx_str_t *key)
{
    int               rc;
    size_t            len;
    ngx_uint_t        n;
    const char       *token;
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h) {
        rc = ngx_http_rtagent_acs_api_bearer((char *) h->value.data,
                                             h->value.len, &token, &len);
        if (rc != 0) {
            key->data = (u_char *) token;
            key->len = len;
            return NGX_OK;
        }
    }

    h = ngx_http_rtagent_header_in(r, "x-api-key", sizeof("x-api-key") - 1,
                                   &n);

    if (h && n == 1 && h->value.len) {
        *key = h->value;
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/*
 * The URI below the location's prefix: "", "/<id>" or "/<id>/<action>"
 * (ngx_http_rtagent_acs_api_route()).  NGX_DECLINED for anything else.
 */

static ngx_int_t
ngx_http_rtagent_acs_calls_route(ngx_http_request_t *r, ngx_str_t *id,
    ngx_str_t *action)
{
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_rtagent_acs_api_route_t   route;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (ngx_http_rtagent_acs_api_route((char *) r->uri.data, r->uri.len,
                                       (char *) clcf->name.data,
                                       clcf->name.len, &route)
        == NGX_HTTP_RTAGENT_ACS_API_NONE)
    {
        return NGX_DECLINED;
    }

    id->data = (u_char *) route.id;
    id->len = route.id_len;
    action->data = (u_char *) route.action;
    action->len = route.action_len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_rtagent_acs_calls_read(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt handler)
{
    return ngx_http_rtagent_acs_read_request_body(r, handler);
}


/* POST <prefix>: an outbound call ---------------------------------------- */

static void
ngx_http_rtagent_acs_calls_create_body(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_rtagent_acs_calls_create(r);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


static ngx_int_t
ngx_http_rtagent_acs_calls_create(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_str_t                         body, target, agent, source, name;
    ngx_uint_t                        status;
    const char                       *error;
    ngx_http_rtagent_acs_api_body_t   b;
    char                              err[128];

    rc = ngx_http_rtagent_acs_read_body(r, &body);

    if (rc != NGX_OK) {
        return ngx_http_rtagent_acs_calls_error(r,
                   rc == NGX_DECLINED ? NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
                                      : NGX_HTTP_INTERNAL_SERVER_ERROR,
                   rc == NGX_DECLINED ? "the request body is too large"
                                      : "cannot read the request body");
    }

    status = ngx_http_rtagent_acs_api_body((char *) body.data, body.len,
                                           NGX_HTTP_RTAGENT_ACS_API_CREATE,
                                           &b, &error, err, sizeof(err));
    if (status) {
        return ngx_http_rtagent_acs_calls_error(r, status, error);
    }

    /* copied out of the tree, which is freed at once */
    rc = ngx_http_rtagent_acs_calls_string(r, b.target, &target);

    if (rc == NGX_OK) {
        rc = ngx_http_rtagent_acs_calls_string(r, b.agent, &agent);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_rtagent_acs_calls_string(r, b.source, &source);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_rtagent_acs_calls_string(r, b.display_name, &name);
    }

    ngx_http_rtagent_acs_api_body_free(&b);

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_rtagent_acs_calls_create_start(r, &target, &agent,
                                                   &source, &name);
}


/*
 * The defaults of rtagent_acs_agent and rtagent_acs_source_number filled
 * in a request whose syntax was checked.  NULL, or the error.
 */

static const char *
ngx_http_rtagent_acs_calls_check(ngx_str_t *target, ngx_str_t *agent,
    ngx_str_t *source)
{
    ngx_http_rtagent_acs_main_conf_t  *amcf;

    amcf = ngx_http_rtagent_acs_conf();

    if (agent->len == 0) {
        *agent = amcf->default_agent;
    }

    if (source->len == 0
        && ngx_http_rtagent_acs_api_is_phone((char *) target->data))
    {
        /* ACS wants a caller id for the PSTN */
        if (amcf->source_number.len == 0) {
            return "source is required to call a phone number "
                   "(or set rtagent_acs_source_number)";
        }

        *source = amcf->source_number;
    }

    return NULL;
}


static ngx_int_t
ngx_http_rtagent_acs_calls_create_start(ngx_http_request_t *r,
    ngx_str_t *target, ngx_str_t *agent, ngx_str_t *source,
    ngx_str_t *display_name)
{
    u_char                            *p;
    char                              *body;
    size_t                             len;
    ngx_str_t                          ref, cb, media, path;
    const char                        *error;
    ngx_http_rtagent_acs_calls_ctx_t  *ctx;
    ngx_http_rtagent_acs_main_conf_t  *amcf;
    ngx_http_rtagent_acs_media_opts_t  mo;

    amcf = ngx_http_rtagent_acs_conf();

    error = ngx_http_rtagent_acs_calls_check(target, agent, source);
    if (error) {
        return ngx_http_rtagent_acs_calls_error(r, NGX_HTTP_BAD_REQUEST,
                                                error);
    }

    if (amcf->callback_url.len == 0 || amcf->media_url.len == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rtagent acs: outbound calls need "
                      "rtagent_acs_callback_url and rtagent_acs_media_url");
        return ngx_http_rtagent_acs_calls_error(r,
                     NGX_HTTP_INTERNAL_SERVER_ERROR,
                     "outbound calls are not configured");
    }

    ctx = ngx_http_rtagent_acs_calls_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_rtagent_acs_copy_str(ctx->pool, &ctx->target, target->data,
                                      target->len) != NGX_OK
        || ngx_http_rtagent_acs_copy_str(ctx->pool, &ctx->agent, agent->data,
                                         agent->len) != NGX_OK
        || ngx_http_rtagent_acs_new_ref(ctx->pool, &ref) != NGX_OK
        || ngx_http_rtagent_acs_copy_str(ctx->pool, &ctx->ref, ref.data,
                                         ref.len) != NGX_OK
        || ngx_http_rtagent_acs_callback_uri(ctx->pool, &ctx->ref, &cb)
           != NGX_OK)
    {
        goto failed;
    }

    if (ngx_http_rtagent_acs_calls_peer(ctx) != NGX_OK) {
        goto failed;
    }

    /* the media session learns its entry agent from the URL */
    media.data = ngx_pnalloc(ctx->pool, amcf->media_url.len
                                        + sizeof("?agent=") + agent->len);
    if (media.data == NULL) {
        goto failed;
    }

    p = ngx_sprintf(media.data, "%V?agent=%V%Z", &amcf->media_url, agent);
    media.len = p - 1 - media.data;

    mo.transport_url = (char *) media.data;
    mo.audio_format = (char *) amcf->audio_format.data;
    mo.enable_dtmf = 1;

    body = ngx_http_rtagent_acs_body_create((char *) target->data,
                           source->len ? (char *) source->data : NULL,
                           display_name->len ? (char *) display_name->data
                                             : NULL,
                           (char *) cb.data, (char *) ctx->ref.data, &mo,
                           &len);
    if (body == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rtagent acs: cannot build the CreateCall request to "
                      "\"%V\", call:%V", target, &ctx->ref);
        goto failed;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "rtagent acs: calling \"%V\" for agent \"%V\", call:%V",
                  target, agent, &ctx->ref);

    ngx_str_set(&path, "/calling/callConnections");

    /* until the call has its id, logs name it by its reference */
    if (ngx_http_rtagent_acs_rest(&ctx->log, &ctx->ref, "POST", &path,
                                  (u_char *) body, len,
                                  ngx_http_rtagent_acs_calls_created, ctx)
        != NGX_OK)
    {
        free(body);
        ngx_http_rtagent_acs_calls_drop(ctx);
        return ngx_http_rtagent_acs_calls_error(r,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "cannot send the request to ACS");
    }

    free(body);

    return NGX_DONE;

failed:

    ngx_http_rtagent_acs_calls_drop(ctx);

    return ngx_http_rtagent_acs_calls_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                            "internal error");
}


/* the peer as a rawId, as ACS names participants ("4:+1555...") */

static ngx_int_t
ngx_http_rtagent_acs_calls_peer(ngx_http_rtagent_acs_calls_ctx_t *ctx)
{
    u_char  *p;

    if (!ngx_http_rtagent_acs_api_is_phone((char *) ctx->target.data)) {
        ctx->peer = ctx->target;
        return NGX_OK;
    }

    if (ctx->target.data[0] == '+') {
        ctx->peer.data = ngx_pnalloc(ctx->pool, ctx->target.len + 3);
        if (ctx->peer.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_sprintf(ctx->peer.data, "4:%V%Z", &ctx->target);
        ctx->peer.len = p - 1 - ctx->peer.data;

    } else {
        ctx->peer = ctx->target;
    }

    ctx->peer_phone.data = ctx->peer.data + 2;
    ctx->peer_phone.len = ctx->peer.len - 2;

    return NGX_OK;
}


static void
ngx_http_rtagent_acs_calls_created(void *data,
    ngx_http_rtagent_acs_result_t *res)
{
    ngx_http_rtagent_acs_calls_ctx_t *ctx = data;

    ngx_str_t                          id, scid, json;
    ngx_http_rtagent_json_out_t        j;
    char                               cid[NGX_HTTP_RTAGENT_CALL_ID_MAX + 1];
    char                               sid[NGX_HTTP_RTAGENT_ACS_SCID_MAX];

    if (res->rc == NGX_OK
        && (ngx_http_rtagent_acs_parse_call((char *) res->body.data,
                                            res->body.len, cid, sizeof(cid),
                                            sid, sizeof(sid))
            != 0
            || !ngx_http_rtagent_call_id_valid((u_char *) cid,
                                               ngx_strlen(cid))))
    {
        ngx_log_error(NGX_LOG_ERR, &ctx->log, 0,
                      "rtagent acs: CreateCall to \"%V\" returned %ui "
                      "without a valid callConnectionId, call:%V",
                      &ctx->target, res->status, &ctx->ref);

        res->rc = NGX_ERROR;
        ngx_cpystrn((u_char *) res->code, (u_char *) "bad_response",
                    sizeof(res->code));
        ngx_cpystrn((u_char *) res->message,
                    (u_char *) "no valid callConnectionId in the response",
                    sizeof(res->message));
    }

    if (res->rc != NGX_OK) {
        /* logged by the REST request; no call id to file an event under */
        if (ctx->r == NULL
            || ngx_http_rtagent_acs_calls_result_json(ctx->pool, res, &json)
               != NGX_OK)
        {
            ngx_http_rtagent_acs_calls_drop(ctx);
            return;
        }

        ngx_http_rtagent_acs_calls_finish(ctx,
                                          res->status ? NGX_HTTP_BAD_GATEWAY
                                          : NGX_HTTP_GATEWAY_TIME_OUT, &json);
        return;
    }

    id.data = (u_char *) cid;
    id.len = ngx_strlen(cid);
    scid.data = (u_char *) sid;
    scid.len = ngx_strlen(sid);

    ngx_http_rtagent_acs_calls_record(ctx, &id, &scid);

    ngx_log_error(NGX_LOG_INFO, &ctx->log, 0,
                  "rtagent acs: outbound call to \"%V\" created, agent "
                  "\"%V\", ref %V, call:%V", &ctx->target, &ctx->agent,
                  &ctx->ref, &id);

    if (ctx->r == NULL) {
        ngx_http_rtagent_acs_calls_drop(ctx);
        return;
    }

    (void) ngx_http_rtagent_json_out_init(&j);
    ngx_http_rtagent_json_out_str(&j, "call_id", id.data, id.len);
    ngx_http_rtagent_json_out_str(&j, "agent", ctx->agent.data,
                                  ctx->agent.len);
    ngx_http_rtagent_json_out_str(&j, "target", ctx->target.data,
                                  ctx->target.len);

    if (ngx_http_rtagent_json_out_done(&j, ctx->pool, &json) != NGX_OK) {
        ngx_http_rtagent_acs_calls_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                          NULL);
        return;
    }

    ngx_http_rtagent_acs_calls_finish(ctx, NGX_HTTP_CREATED, &json);
}


/* the new call's hash and CALL_STARTED (once: the media session too) */

static void
ngx_http_rtagent_acs_calls_record(ngx_http_rtagent_acs_calls_ctx_t *ctx,
    ngx_str_t *id, ngx_str_t *scid)
{
    ngx_str_t                          json;
    ngx_uint_t                         n;
    ngx_http_rtagent_store_field_t     f[10];
    ngx_http_rtagent_json_out_t        j;
    u_char                             now[NGX_INT64_LEN];

    n = 0;

#define ngx_http_rtagent_acs_field(nm, d, l)                                 \
    if ((l) > 0) {                                                           \
        f[n].name = nm; f[n].value.data = (u_char *) (d);                    \
        f[n].value.len = (l); n++;                                           \
    }

    ngx_http_rtagent_acs_field("direction", "outbound", 8);
    ngx_http_rtagent_acs_field("acs_state", "connecting", 10);
    ngx_http_rtagent_acs_field("peer", ctx->peer.data, ctx->peer.len);
    ngx_http_rtagent_acs_field("peer_phone", ctx->peer_phone.data,
                               ctx->peer_phone.len);
    ngx_http_rtagent_acs_field("agent", ctx->agent.data, ctx->agent.len);
    ngx_http_rtagent_acs_field("ref", ctx->ref.data, ctx->ref.len);
    ngx_http_rtagent_acs_field("server_call_id", scid->data, scid->len);
    ngx_http_rtagent_acs_field("created", now,
                               ngx_sprintf(now, "%L",
                                           ngx_http_rtagent_now_ms())
                               - now);

#undef ngx_http_rtagent_acs_field

    (void) ngx_http_rtagent_store_call_set(id, f, n, &ctx->log);

    (void) ngx_http_rtagent_json_out_init(&j);
    ngx_http_rtagent_json_out_cstr(&j, "direction", "outbound");
    ngx_http_rtagent_json_out_str(&j, "agent", ctx->agent.data,
                                  ctx->agent.len);
    ngx_http_rtagent_json_out_str(&j, "peer", ctx->peer.data, ctx->peer.len);

    if (ngx_http_rtagent_json_out_done(&j, ctx->pool, &json) == NGX_OK) {
        (void) ngx_http_rtagent_store_call_event(id,
                                      NGX_HTTP_RTAGENT_EV_CALL_STARTED, &json,
                                      NGX_HTTP_RTAGENT_STORE_ONCE_STARTED,
                                      &ctx->log);
    }
}


/* GET <prefix>/<id>: the call's state ------------------------------------ */

static ngx_int_t
ngx_http_rtagent_acs_calls_status(ngx_http_request_t *r, ngx_str_t *id)
{
    ngx_int_t                          rc;
    ngx_http_rtagent_acs_calls_ctx_t  *ctx;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_rtagent_acs_calls_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_rtagent_acs_copy_str(ctx->pool, &ctx->call_id, id->data,
                                      id->len) != NGX_OK)
    {
        ngx_http_rtagent_acs_calls_drop(ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->main->count++;

    rc = ngx_http_rtagent_store_call_get(&ctx->call_id,
                                ngx_http_rtagent_acs_status_fields,
                                sizeof(ngx_http_rtagent_acs_status_fields)
                                / sizeof(char *),
                                &ctx->log,
                                ngx_http_rtagent_acs_calls_status_got, ctx);
    if (rc == NGX_OK) {
        return NGX_DONE;
    }

    r->main->count--;
    ngx_http_rtagent_acs_calls_drop(ctx);

    if (rc == NGX_DECLINED) {
        return ngx_http_rtagent_acs_calls_error(r,
                                       NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "call state needs rtagent_redis");
    }

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


static void
ngx_http_rtagent_acs_calls_status_got(void *data, ngx_int_t n,
    ngx_str_t *values)
{
    ngx_http_rtagent_acs_calls_ctx_t *ctx = data;

    ngx_str_t                          json;
    ngx_uint_t                         i, found;
    ngx_http_rtagent_json_out_t        j;

    if (ngx_http_rtagent_acs_exiting()) {
        /* Redis failed its queue at worker exit: the request is left */
        return;
    }

    /* the worker exits: no response is sent from inside its exit */
    if (ctx->r == NULL || n == NGX_HTTP_RTAGENT_STORE_EXITING) {
        ngx_http_rtagent_acs_calls_drop(ctx);
        return;
    }

    (void) ngx_http_rtagent_json_out_init(&j);

    if (n < 0) {
        ngx_log_error(NGX_LOG_ERR, &ctx->log, 0,
                      "rtagent acs: Redis did not answer a state query, "
                      "call:%V", &ctx->call_id);

        ngx_http_rtagent_json_out_cstr(&j, "error", "Redis did not answer");

        if (ngx_http_rtagent_json_out_done(&j, ctx->pool, &json) != NGX_OK) {
            ngx_str_null(&json);
        }

        ngx_http_rtagent_acs_calls_finish(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          &json);
        return;
    }

    /* the first field is call_id, named by the URI already */
    found = 0;

    for (i = 1; i < (ngx_uint_t) n; i++) {
        found += values[i].len ? 1 : 0;
    }

    if (found == 0) {
        ngx_http_rtagent_json_out_cstr(&j, "error", "unknown call");

        if (ngx_http_rtagent_json_out_done(&j, ctx->pool, &json) != NGX_OK) {
            ngx_str_null(&json);
        }

        ngx_http_rtagent_acs_calls_finish(ctx, NGX_HTTP_NOT_FOUND, &json);
        return;
    }

    ngx_http_rtagent_json_out_str(&j, "call_id", ctx->call_id.data,
                                  ctx->call_id.len);

    for (i = 1; i < (ngx_uint_t) n; i++) {
        if (values[i].len) {
            ngx_http_rtagent_json_out_str(&j,
                                          ngx_http_rtagent_acs_status_fields[i],
                                          values[i].data, values[i].len);
        }
    }

    if (ngx_http_rtagent_json_out_done(&j, ctx->pool, &json) != NGX_OK) {
        ngx_http_rtagent_acs_calls_finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                          NULL);
        return;
    }

    ngx_http_rtagent_acs_calls_finish(ctx, NGX_HTTP_OK, &json);
}


/* POST <prefix>/<id>/<action> -------------------------------------------- */

static void
ngx_http_rtagent_acs_calls_action_body(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_rtagent_acs_calls_action(r);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


static ngx_int_t
ngx_http_rtagent_acs_calls_action(ngx_http_request_t *r)
{
    ngx_int_t                              rc;
    ngx_str_t                              body, arg;
    ngx_uint_t                             args, status;
    const char                            *error;
    ngx_http_rtagent_acs_calls_ctx_t      *ctx;
    ngx_http_rtagent_acs_calls_route_t    *route;
    ngx_http_rtagent_acs_api_body_t        b;
    ngx_http_rtagent_acs_api_body_e        what;
    char                                   err[128];

    route = ngx_http_get_module_ctx(r, ngx_http_rtagent_acs_module);

    ngx_str_null(&arg);

    args = 1;
    what = NGX_HTTP_RTAGENT_ACS_API_TRANSFER;

    switch (route->def->action) {

    case NGX_HTTP_RTAGENT_ACS_TRANSFER:
        break;

    case NGX_HTTP_RTAGENT_ACS_SEND_DTMF:
        what = NGX_HTTP_RTAGENT_ACS_API_DTMF;
        break;

    default:
        /* no arguments: a body, if any, is not looked at */
        args = 0;
    }

    if (args) {
        rc = ngx_http_rtagent_acs_read_body(r, &body);

        if (rc != NGX_OK) {
            return rc == NGX_DECLINED ? NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
                                      : NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        status = ngx_http_rtagent_acs_api_body((char *) body.data,
                                               body.len, what, &b, &error,
                                               err, sizeof(err));
        if (status) {
            return ngx_http_rtagent_acs_calls_error(r, status, error);
        }

        rc = ngx_http_rtagent_acs_calls_string(r,
                                  what == NGX_HTTP_RTAGENT_ACS_API_TRANSFER
                                  ? b.target : b.tones, &arg);

        ngx_http_rtagent_acs_api_body_free(&b);

        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ctx = ngx_http_rtagent_acs_calls_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->def = route->def;

    if (ngx_http_rtagent_acs_copy_str(ctx->pool, &ctx->call_id,
                                      route->call_id.data,
                                      route->call_id.len)
        != NGX_OK)
    {
        ngx_http_rtagent_acs_calls_drop(ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "rtagent acs: operator action \"%V\", call:%V",
                  &ctx->def->name, &ctx->call_id);

    /* the result may come at once (a refusal): r is not used after this */
    if (ngx_http_rtagent_acs_action(&ctx->log, &ctx->call_id,
                                    ctx->def->action, &arg,
                                    ngx_http_rtagent_acs_calls_acted, ctx)
        != NGX_OK)
    {
        ngx_http_rtagent_acs_calls_drop(ctx);
        return ngx_http_rtagent_acs_calls_error(r,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "cannot start the action");
    }

    return NGX_DONE;
}


static void
ngx_http_rtagent_acs_calls_acted(void *data,
    ngx_http_rtagent_acs_result_t *res)
{
    ngx_http_rtagent_acs_calls_ctx_t *ctx = data;

    ngx_str_t                          json;
    ngx_uint_t                         status;
    ngx_http_rtagent_json_out_t        j;
    char                               rid[256], state[64];

    if (ctx->r == NULL) {
        ngx_http_rtagent_acs_calls_drop(ctx);
        return;
    }

    if (res->rc == NGX_OK) {
        (void) ngx_http_rtagent_json_out_init(&j);
        ngx_http_rtagent_json_out_str(&j, "call_id", ctx->call_id.data,
                                      ctx->call_id.len);
        ngx_http_rtagent_json_out_str(&j, "action", ctx->def->name.data,
                                      ctx->def->name.len);
        ngx_http_rtagent_json_out_int(&j, "status", res->status);

        if (ctx->def->action == NGX_HTTP_RTAGENT_ACS_RECORD
            && ngx_http_rtagent_acs_parse_recording((char *) res->body.data,
                                                    res->body.len, rid,
                                                    sizeof(rid), state,
                                                    sizeof(state))
               == 0)
        {
            ngx_http_rtagent_json_out_cstr(&j, "recording_id", rid);
        }

        status = NGX_HTTP_OK;

        if (ngx_http_rtagent_json_out_done(&j, ctx->pool, &json) != NGX_OK) {
            status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            ngx_str_null(&json);
        }

    } else {
        if (res->rc == NGX_DECLINED) {
            /* refused here, before ACS: status is ours */
            status = res->status;

        } else {
            status = res->status ? NGX_HTTP_BAD_GATEWAY
                                 : NGX_HTTP_GATEWAY_TIME_OUT;
        }

        if (ngx_http_rtagent_acs_calls_result_json(ctx->pool, res, &json)
            != NGX_OK)
        {
            status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            ngx_str_null(&json);
        }
    }

    ngx_http_rtagent_acs_calls_finish(ctx, status, &json);
}


/* an operator's request that outlives its handler ------------------------ */

static ngx_http_rtagent_acs_calls_ctx_t *
ngx_http_rtagent_acs_calls_ctx(ngx_http_request_t *r)
{
    ngx_pool_t                        *pool;
    ngx_pool_cleanup_t                *cln;
    ngx_http_rtagent_acs_calls_ctx_t  *ctx;

    pool = ngx_create_pool(1024, r->connection->log);
    if (pool == NULL) {
        return NULL;
    }

    ctx = ngx_pcalloc(pool, sizeof(ngx_http_rtagent_acs_calls_ctx_t));
    if (ctx == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    /* the connection's log context dies with it: the copy has none */
    ctx->log = *r->connection->log;
    ctx->log.handler = NULL;
    ctx->log.data = NULL;
    ctx->log.action = NULL;

    pool->log = &ctx->log;

    ctx->pool = pool;
    ctx->r = r;
    ctx->cln = cln;

    cln->handler = ngx_http_rtagent_acs_calls_gone;
    cln->data = ctx;

    return ctx;
}


static void
ngx_http_rtagent_acs_calls_gone(void *data)
{
    ngx_http_rtagent_acs_calls_ctx_t *ctx = data;

    ngx_log_error(NGX_LOG_INFO, &ctx->log, 0,
                  "rtagent acs: the operator's request went away before "
                  "the answer, call:%V",
                  ctx->call_id.len ? &ctx->call_id : &ctx->ref);

    ctx->r = NULL;
    ctx->cln = NULL;
}


/* answers the waiting request and frees ctx; json NULL: an empty body */

static void
ngx_http_rtagent_acs_calls_finish(ngx_http_rtagent_acs_calls_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *json)
{
    ngx_int_t            rc;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->r;

    if (r == NULL) {
        ngx_http_rtagent_acs_calls_drop(ctx);
        return;
    }

    ctx->cln->handler = NULL;
    ctx->r = NULL;

    c = r->connection;

    if (json && json->len) {
        rc = ngx_http_rtagent_acs_send_json(r, status, json->data, json->len);

    } else {
        rc = status;
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);

    ngx_destroy_pool(ctx->pool);
}


static void
ngx_http_rtagent_acs_calls_drop(ngx_http_rtagent_acs_calls_ctx_t *ctx)
{
    if (ctx->cln) {
        ctx->cln->handler = NULL;
    }

    ngx_destroy_pool(ctx->pool);
}


/* {"error":"..."} with a status, the request body discarded */

static ngx_int_t
ngx_http_rtagent_acs_calls_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *error)
{
    ngx_str_t                          json;
    ngx_http_rtagent_json_out_t        j;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    (void) ngx_http_rtagent_json_out_init(&j);
    ngx_http_rtagent_json_out_cstr(&j, "error", error);

    if (ngx_http_rtagent_json_out_done(&j, r->pool, &json) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_rtagent_acs_send_json(r, status, json.data, json.len);
}


/* {"error":{["status":S,]"code":...,"message":...}}: no status for ours */

static ngx_int_t
ngx_http_rtagent_acs_calls_result_json(ngx_pool_t *pool,
    ngx_http_rtagent_acs_result_t *res, ngx_str_t *json)
{
    ngx_http_rtagent_json_out_t  j;

    (void) ngx_http_rtagent_json_out_init(&j);
    ngx_http_rtagent_json_out_open(&j, "error");

    if (res->rc != NGX_DECLINED) {
        ngx_http_rtagent_json_out_int(&j, "status", res->status);
    }

    ngx_http_rtagent_json_out_cstr(&j, "code", res->code);
    ngx_http_rtagent_json_out_cstr(&j, "message", res->message);
    ngx_http_rtagent_json_out_close(&j);

    return ngx_http_rtagent_json_out_done(&j, pool, json);
}


/* a string of the request's body, copied NUL-terminated into r->pool */

static ngx_int_t
ngx_http_rtagent_acs_calls_string(ngx_http_request_t *r, const char *s,
    ngx_str_t *out)
{
    return ngx_http_rtagent_acs_copy_str(r->pool, out, (u_char *) s,
                                         ngx_strlen(s));
}


/* actions on a call ------------------------------------------------------ */

/*
 * The hash is read first, by any worker: a call that is not in Redis is
 * not sent to ACS.  Without rtagent_redis the actions that need nothing
 * of the hash go ahead.  Local refusals reach the handler with rc
 * NGX_DECLINED, an HTTP status and a code, and may reach it before this
 * function returns.
 */

ngx_int_t
ngx_http_rtagent_acs_action(ngx_log_t *log, ngx_str_t *call_id,
    ngx_http_rtagent_acs_action_e action, ngx_str_t *arg,
    ngx_http_rtagent_acs_rest_pt handler, void *data)
{
    ngx_int_t                              rc;
    ngx_pool_t                            *pool;
    ngx_http_rtagent_acs_act_t            *a;
    const ngx_http_rtagent_acs_act_def_t  *def;

    if (ngx_http_rtagent_acs_conf()->account == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rtagent acs: no action without "
                      "rtagent_acs_connection_string, call:%V", call_id);
        return NGX_ERROR;
    }

    def = ngx_http_rtagent_acs_act_find(action);

    if (def == NULL || !ngx_http_rtagent_call_id_valid(call_id->data,
                                                       call_id->len))
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "rtagent acs: invalid action %d or call id, call:%V",
                      (int) action, call_id);
        return NGX_ERROR;
    }

    pool = ngx_create_pool(1024, log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    a = ngx_pcalloc(pool, sizeof(ngx_http_rtagent_acs_act_t));
    if (a == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    a->pool = pool;
    a->log = *log;
    a->log.handler = NULL;
    a->log.data = NULL;
    a->log.action = NULL;
    pool->log = &a->log;

    a->def = def;
    a->handler = handler;
    a->data = data;

    if (ngx_http_rtagent_acs_copy_str(pool, &a->call_id, call_id->data,
                                      call_id->len) != NGX_OK
        || (arg && ngx_http_rtagent_acs_copy_str(pool, &a->arg, arg->data,
                                                 arg->len) != NGX_OK))
    {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    rc = ngx_http_rtagent_store_call_get(&a->call_id,
                                   ngx_http_rtagent_acs_act_fields,
                                   sizeof(ngx_http_rtagent_acs_act_fields)
                                   / sizeof(char *),
                                   &a->log, ngx_http_rtagent_acs_act_got, a);
    if (rc == NGX_OK) {
        return NGX_OK;
    }

    if (rc == NGX_ERROR) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    /* no rtagent_redis */

    if (def->redis) {
        ngx_log_error(NGX_LOG_ERR, &a->log, 0,
                      "rtagent acs: \"%V\" needs rtagent_redis (the call's "
                      "serverCallId and peer are kept there), call:%V",
                      &def->name, &a->call_id);
        ngx_http_rtagent_acs_act_refuse(a, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "redis_required",
                                        "this action needs rtagent_redis");
        return NGX_OK;
    }

    if (ngx_http_rtagent_acs_act_send(a) != NGX_OK) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static const ngx_http_rtagent_acs_act_def_t *
ngx_http_rtagent_acs_act_find(ngx_http_rtagent_acs_action_e action)
{
    ngx_uint_t  i;

    for (i = 0; ngx_http_rtagent_acs_acts[i].name.len; i++) {
        if (ngx_http_rtagent_acs_acts[i].action == action) {
            return &ngx_http_rtagent_acs_acts[i];
        }
    }

    return NULL;
}


static void
ngx_http_rtagent_acs_act_got(void *data, ngx_int_t n, ngx_str_t *values)
{
    ngx_http_rtagent_acs_act_t *a = data;

    if (n == NGX_HTTP_RTAGENT_STORE_EXITING || ngx_http_rtagent_acs_exiting()) {
        /* the worker exits: no request to ACS starts from inside its exit */
        ngx_destroy_pool(a->pool);
        return;
    }

    if (n < 0) {
        if (a->def->redis) {
            ngx_log_error(NGX_LOG_ERR, &a->log, 0,
                          "rtagent acs: Redis did not answer, \"%V\" not "
                          "sent, call:%V", &a->def->name, &a->call_id);
            ngx_http_rtagent_acs_act_refuse(a, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "redis_unavailable",
                                            "Redis did not answer");
            return;
        }

        /* ACS knows the call by its id alone */
        ngx_log_error(NGX_LOG_WARN, &a->log, 0,
                      "rtagent acs: Redis did not answer, \"%V\" sent "
                      "without the call's state, call:%V",
                      &a->def->name, &a->call_id);

    } else {
        if (values[0].len == 0 && values[1].len == 0) {
            ngx_log_error(NGX_LOG_INFO, &a->log, 0,
                          "rtagent acs: \"%V\" for a call not in Redis "
                          "refused, call:%V", &a->def->name, &a->call_id);
            ngx_http_rtagent_acs_act_refuse(a, NGX_HTTP_NOT_FOUND,
                                            "unknown_call",
                                            "the call is not known");
            return;
        }

        if (ngx_http_rtagent_acs_copy_str(a->pool, &a->peer, values[1].data,
                                          values[1].len) != NGX_OK
            || ngx_http_rtagent_acs_copy_str(a->pool, &a->server_call_id,
                                             values[2].data, values[2].len)
               != NGX_OK
            || ngx_http_rtagent_acs_copy_str(a->pool, &a->ref, values[3].data,
                                             values[3].len) != NGX_OK)
        {
            goto failed;
        }
    }

    if (ngx_http_rtagent_acs_act_send(a) == NGX_OK) {
        return;
    }

failed:

    ngx_http_rtagent_acs_act_refuse(a, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "internal_error",
                                    "the request could not be sent");
}


/*
 * Builds and sends the request.  NGX_OK: a is gone from the caller's hands
 * (sent, or refused and freed); NGX_ERROR: nothing was sent, a is intact.
 */

static ngx_int_t
ngx_http_rtagent_acs_act_send(ngx_http_rtagent_acs_act_t *a)
{
    u_char     *p;
    char       *body;
    size_t      len;
    ngx_int_t   rc;
    ngx_str_t   path, cb;

    len = sizeof("/calling/callConnections/") + a->call_id.len
          + sizeof(":startContinuousDtmfRecognition");

    path.data = ngx_pnalloc(a->pool, len);
    if (path.data == NULL) {
        return NGX_ERROR;
    }

    body = NULL;
    len = 0;

    if (a->def->op) {
        p = ngx_sprintf(path.data, "/calling/callConnections/%V%s",
                        &a->call_id, a->def->op);

    } else {
        p = ngx_cpymem(path.data, "/calling/recordings",
                       sizeof("/calling/recordings") - 1);
    }

    path.len = p - path.data;

    switch (a->def->action) {

    case NGX_HTTP_RTAGENT_ACS_HANGUP:
    case NGX_HTTP_RTAGENT_ACS_TERMINATE:
        /* before the request: the CallDisconnected that follows is ours */
        ngx_http_rtagent_acs_act_set(a, "hangup_by", "operator", NULL, NULL);
        break;

    case NGX_HTTP_RTAGENT_ACS_TRANSFER:
        body = ngx_http_rtagent_acs_body_transfer((char *) a->arg.data, NULL,
                                                  NULL, &len);
        if (body == NULL) {
            ngx_log_error(NGX_LOG_ERR, &a->log, 0,
                          "rtagent acs: transfer target \"%V\" refused, "
                          "call:%V", &a->arg, &a->call_id);
            ngx_http_rtagent_acs_act_refuse(a, NGX_HTTP_BAD_REQUEST,
                                            "bad_request",
                                            "invalid transfer target");
            return NGX_OK;
        }

        /* before the request too: CallTransferAccepted may come quickly */
        ngx_http_rtagent_acs_act_set(a, "transfer", "requested", &a->arg,
                                     "transfer_target");
        break;

    case NGX_HTTP_RTAGENT_ACS_RECORD:
        if (a->server_call_id.len == 0) {
            ngx_log_error(NGX_LOG_ERR, &a->log, 0,
                          "rtagent acs: no serverCallId in Redis, cannot "
                          "record, call:%V", &a->call_id);
            ngx_http_rtagent_acs_act_refuse(a, NGX_HTTP_CONFLICT,
                                            "no_server_call_id",
                                            "the call has no serverCallId");
            return NGX_OK;
        }

        ngx_str_null(&cb);

        /* RecordingStateChanged comes with the call's other callbacks */
        if (a->ref.len && ngx_http_rtagent_acs_conf()->callback_url.len) {
            if (ngx_http_rtagent_acs_callback_uri(a->pool, &a->ref, &cb)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        body = ngx_http_rtagent_acs_body_recording(
                                     (char *) a->server_call_id.data,
                                     cb.len ? (char *) cb.data : NULL, &len);
        break;

    case NGX_HTTP_RTAGENT_ACS_SEND_DTMF:
    case NGX_HTTP_RTAGENT_ACS_DTMF_RECOGNITION:
        if (a->peer.len == 0) {
            ngx_log_error(NGX_LOG_ERR, &a->log, 0,
                          "rtagent acs: no peer in Redis, cannot send \"%V\", "
                          "call:%V", &a->def->name, &a->call_id);
            ngx_http_rtagent_acs_act_refuse(a, NGX_HTTP_CONFLICT, "no_peer",
                                            "the call has no known peer");
            return NGX_OK;
        }

        if (a->def->action == NGX_HTTP_RTAGENT_ACS_SEND_DTMF) {
            body = ngx_http_rtagent_acs_body_send_dtmf((char *) a->arg.data,
                                                       (char *) a->peer.data,
                                                       NULL, &len);
        } else {
            body = ngx_http_rtagent_acs_body_dtmf_recognition(
                                         (char *) a->peer.data, NULL, &len);
        }

        if (body == NULL) {
            ngx_log_error(NGX_LOG_ERR, &a->log, 0,
                          "rtagent acs: \"%V\" refused: tones \"%V\" or peer "
                          "\"%V\" invalid, call:%V", &a->def->name, &a->arg,
                          &a->peer, &a->call_id);
            ngx_http_rtagent_acs_act_refuse(a, NGX_HTTP_BAD_REQUEST,
                                            "bad_request",
                                            "invalid tones or peer");
            return NGX_OK;
        }

        break;
    }

    if (a->def->action == NGX_HTTP_RTAGENT_ACS_RECORD && body == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_rtagent_acs_rest(&a->log, &a->call_id, a->def->method,
                                   &path, (u_char *) body, len,
                                   ngx_http_rtagent_acs_act_done, a);
    free(body);

    return rc;
}


static void
ngx_http_rtagent_acs_act_done(void *data, ngx_http_rtagent_acs_result_t *res)
{
    ngx_http_rtagent_acs_act_t *a = data;

    ngx_str_t                          json;
    ngx_http_rtagent_json_out_t        j;
    u_char                             what[64];

    if (res->rc == NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, &a->log, 0,
                      "rtagent acs: \"%V\" done (%ui), call:%V",
                      &a->def->name, res->status, &a->call_id);

        if (a->def->action == NGX_HTTP_RTAGENT_ACS_RECORD) {
            ngx_http_rtagent_acs_act_recorded(a, res);
        }

        goto done;
    }

    /* the failure itself was logged by the REST request */

    if (a->def->action == NGX_HTTP_RTAGENT_ACS_TRANSFER) {
        ngx_http_rtagent_acs_act_set(a, "transfer", "failed", NULL, NULL);
    }

    ngx_sprintf(what, "%V failed%Z", &a->def->name);

    (void) ngx_http_rtagent_json_out_init(&j);
    ngx_http_rtagent_json_out_cstr(&j, "error", what);
    ngx_http_rtagent_json_out_int(&j, "status", res->status);
    ngx_http_rtagent_json_out_cstr(&j, "code", res->code);
    ngx_http_rtagent_json_out_cstr(&j, "message", res->message);

    if (ngx_http_rtagent_json_out_done(&j, a->pool, &json) == NGX_OK) {
        (void) ngx_http_rtagent_store_call_event(&a->call_id,
                                      NGX_HTTP_RTAGENT_EV_ERROR_OCCURRED,
                                      &json, NULL, &a->log);
    }

done:

    if (a->handler) {
        a->handler(a->data, res);
    }

    ngx_destroy_pool(a->pool);
}


/* the recording's id and state, and RECORDING_STARTED once per recording */

static void
ngx_http_rtagent_acs_act_recorded(ngx_http_rtagent_acs_act_t *a,
    ngx_http_rtagent_acs_result_t *res)
{
    u_char                             once[sizeof("ev:recording:") + 256];
    ngx_str_t                          json;
    ngx_uint_t                         n;
    ngx_http_rtagent_store_field_t     f[2];
    ngx_http_rtagent_json_out_t        j;
    char                               rid[256], state[64];

    if (ngx_http_rtagent_acs_parse_recording((char *) res->body.data,
                                             res->body.len, rid, sizeof(rid),
                                             state, sizeof(state))
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, &a->log, 0,
                      "rtagent acs: recording started (%ui) without a "
                      "recordingId in the response, call:%V", res->status,
                      &a->call_id);
        return;
    }

    f[0].name = "recording_id";
    f[0].value.data = (u_char *) rid;
    f[0].value.len = ngx_strlen(rid);
    n = 1;

    if (state[0]) {
        f[1].name = "recording_state";
        f[1].value.data = (u_char *) state;
        f[1].value.len = ngx_strlen(state);
        n = 2;
    }

    (void) ngx_http_rtagent_store_call_set(&a->call_id, f, n, &a->log);

    ngx_sprintf(once, "ev:recording:%s%Z", rid);

    (void) ngx_http_rtagent_json_out_init(&j);
    ngx_http_rtagent_json_out_cstr(&j, "recording_id", rid);

    if (ngx_http_rtagent_json_out_done(&j, a->pool, &json) == NGX_OK) {
        (void) ngx_http_rtagent_store_call_event(&a->call_id,
                                      NGX_HTTP_RTAGENT_EV_RECORDING_STARTED,
                                      &json, (char *) once, &a->log);
    }

    ngx_log_error(NGX_LOG_INFO, &a->log, 0,
                  "rtagent acs: recording %s %s, call:%V", rid, state,
                  &a->call_id);
}


/* a result decided here: the handler gets rc NGX_DECLINED; a is freed */

static void
ngx_http_rtagent_acs_act_refuse(ngx_http_rtagent_acs_act_t *a,
    ngx_uint_t status, const char *code, const char *message)
{
    ngx_http_rtagent_acs_result_t  res;

    ngx_memzero(&res, sizeof(ngx_http_rtagent_acs_result_t));

    res.rc = NGX_DECLINED;
    res.status = status;
    ngx_str_set(&res.body, "");
    ngx_cpystrn((u_char *) res.code, (u_char *) code, sizeof(res.code));
    ngx_cpystrn((u_char *) res.message, (u_char *) message,
                sizeof(res.message));

    if (a->handler) {
        a->handler(a->data, &res);

    } else {
        /* the call session asked: nobody else hears of the refusal */
        ngx_log_error(NGX_LOG_WARN, &a->log, 0,
                      "rtagent acs: \"%V\" refused: %s, call:%V",
                      &a->def->name, message, &a->call_id);
        ngx_http_rtagent_acs_act_error(a, code, message);
    }

    ngx_destroy_pool(a->pool);
}


/* ERROR_OCCURRED {"error":"<action> not sent","code","message"} */

static void
ngx_http_rtagent_acs_act_error(ngx_http_rtagent_acs_act_t *a,
    const char *code, const char *message)
{
    u_char     *p;
    ngx_str_t   json, e, c, m;

    e.data = ngx_pnalloc(a->pool, a->def->name.len + sizeof(" not sent"));
    if (e.data == NULL) {
        return;
    }

    p = ngx_sprintf(e.data, "%V not sent", &a->def->name);
    e.len = p - e.data;

    c.data = (u_char *) code;
    c.len = ngx_strlen(code);
    m.data = (u_char *) message;
    m.len = ngx_strlen(message);

    if (ngx_http_rtagent_json_object(a->pool, &json, "error", &e, "code", &c,
                                     "message", &m, "target", &a->arg, NULL)
        == NGX_OK)
    {
        (void) ngx_http_rtagent_store_call_event(&a->call_id,
                                      NGX_HTTP_RTAGENT_EV_ERROR_OCCURRED,
                                      &json, NULL, &a->log);
    }
}


/* one or two fields of the call hash */

static void
ngx_http_rtagent_acs_act_set(ngx_http_rtagent_acs_act_t *a, const char *name,
    const char *value, ngx_str_t *other_value, const char *other)
{
    ngx_uint_t                      n;
    ngx_http_rtagent_store_field_t  f[2];

    f[0].name = name;
    f[0].value.data = (u_char *) value;
    f[0].value.len = ngx_strlen(value);
    n = 1;

    if (other_value && other_value->len) {
        f[1].name = other;
        f[1].value = *other_value;
        n = 2;
    }

    (void) ngx_http_rtagent_store_call_set(&a->call_id, f, n, &a->log);
}


/* a NUL-terminated copy */


/* JSON ------------------------------------------------------------------- */
