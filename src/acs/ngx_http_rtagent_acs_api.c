
/*
 * The operators' API as outside input: see ngx_http_rtagent_acs_api.h.
 */


#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <yajl/yajl_tree.h>

#include "ngx_http_rtagent_acs_api.h"
#include "ngx_http_rtagent_acs_body.h"
#include <json/ngx_http_rtagent_json.h>


#define NGX_HTTP_RTAGENT_ACS_API_NOT_OBJECT  "the body is not a JSON object"
#define NGX_HTTP_RTAGENT_ACS_API_BAD_TARGET                                  \
    "target must be a phone number (+E.164) or an ACS identifier "           \
    "(8:..., 28:...)"
#define NGX_HTTP_RTAGENT_ACS_API_BAD_TONES                                   \
    "tones must be 1-64 of 0-9, A-D, # and *"


static const char *ngx_http_rtagent_acs_api_create(
    ngx_http_rtagent_acs_api_body_t *b);
static int ngx_http_rtagent_acs_api_string(yajl_val tree, const char *key,
    const char **out);
static int ngx_http_rtagent_acs_api_name_valid(const char *s);
static int ngx_http_rtagent_acs_api_tones_valid(const char *s);
static int ngx_http_rtagent_acs_api_is(const char *s, size_t len,
    const char *accept);


ngx_http_rtagent_acs_api_route_e
ngx_http_rtagent_acs_api_route(const char *uri, size_t len,
    const char *prefix, size_t prefix_len,
    ngx_http_rtagent_acs_api_route_t *route)
{
    const char  *p, *last, *slash;

    memset(route, 0, sizeof(ngx_http_rtagent_acs_api_route_t));

    if (len < prefix_len
        || (prefix_len && memcmp(uri, prefix, prefix_len) != 0))
    {
        /* a regex or named location: the API wants a prefix */
        return NGX_HTTP_RTAGENT_ACS_API_NONE;
    }

    p = uri + prefix_len;
    last = uri + len;

    if (p < last && prefix_len && p[-1] != '/') {
        if (*p != '/') {
            return NGX_HTTP_RTAGENT_ACS_API_NONE;    /* "/api/callsXYZ" */
        }

        p++;
    }

    if (last > p && last[-1] == '/') {
        last--;
    }

    if (p == last) {
        return NGX_HTTP_RTAGENT_ACS_API_CALLS;
    }

    slash = memchr(p, '/', last - p);

    route->id = p;

    if (slash == NULL) {
        route->id_len = last - p;
        return NGX_HTTP_RTAGENT_ACS_API_CALL;
    }

    route->id_len = slash - p;
    route->action = slash + 1;
    route->action_len = last - route->action;

    if (route->id_len == 0 || route->action_len == 0
        || memchr(route->action, '/', route->action_len) != NULL)
    {
        memset(route, 0, sizeof(ngx_http_rtagent_acs_api_route_t));
        return NGX_HTTP_RTAGENT_ACS_API_NONE;
    }

    return NGX_HTTP_RTAGENT_ACS_API_ACTION;
}


int
ngx_http_rtagent_acs_api_body(const char *p, size_t len,
    ngx_http_rtagent_acs_api_body_e what, ngx_http_rtagent_acs_api_body_t *b,
    const char **reason, char *err, size_t errlen)
{
    int          ok;
    char         jerr[64];
    const char  *error;

    memset(b, 0, sizeof(ngx_http_rtagent_acs_api_body_t));

    *reason = NULL;

    /* strings are kept without their length: no "\u0000" in them */
    b->tree = ngx_http_rtagent_json_parse(p, len,
                                          NGX_HTTP_RTAGENT_ACS_API_DEPTH,
                                          NGX_HTTP_RTAGENT_JSON_NO_U0000
                                          | NGX_HTTP_RTAGENT_JSON_TERSE,
                                          jerr, sizeof(jerr));

    if (b->tree == NULL) {
        /* what the text itself is refused for, unless yajl's, is said */
        if (strncmp(jerr, NGX_HTTP_RTAGENT_JSON_MALFORMED,
                    NGX_HTTP_RTAGENT_JSON_MALFORMED_LEN) != 0)
        {
            *reason = "out of memory";
            return 500;
        }

        if (strcmp(jerr + NGX_HTTP_RTAGENT_JSON_MALFORMED_LEN,
                   "invalid json") == 0)
        {
            *reason = NGX_HTTP_RTAGENT_ACS_API_NOT_OBJECT;
            return 400;
        }

        snprintf(err, errlen, NGX_HTTP_RTAGENT_ACS_API_NOT_OBJECT ": %s",
                 jerr + NGX_HTTP_RTAGENT_JSON_MALFORMED_LEN);
        *reason = err;
        return 400;
    }

    if (!YAJL_IS_OBJECT(b->tree)) {
        error = NGX_HTTP_RTAGENT_ACS_API_NOT_OBJECT;
        goto failed;
    }

    b->target = "";
    b->agent = "";
    b->source = "";
    b->display_name = "";
    b->tones = "";

    switch (what) {

    case NGX_HTTP_RTAGENT_ACS_API_CREATE:
        error = ngx_http_rtagent_acs_api_create(b);
        break;

    case NGX_HTTP_RTAGENT_ACS_API_TRANSFER:
        ok = ngx_http_rtagent_acs_api_string(b->tree, "target", &b->target);

        error = (ok && b->target[0]
                 && ngx_http_rtagent_acs_target_valid(b->target))
                ? NULL : NGX_HTTP_RTAGENT_ACS_API_BAD_TARGET;
        break;

    case NGX_HTTP_RTAGENT_ACS_API_DTMF:
        ok = ngx_http_rtagent_acs_api_string(b->tree, "tones", &b->tones);

        error = (ok && ngx_http_rtagent_acs_api_tones_valid(b->tones))
                ? NULL : NGX_HTTP_RTAGENT_ACS_API_BAD_TONES;
        break;

    default:
        error = "unknown request";
    }

    if (error == NULL) {
        return 0;
    }

failed:

    ngx_http_rtagent_acs_api_body_free(b);

    *reason = error;

    return 400;
}


void
ngx_http_rtagent_acs_api_body_free(ngx_http_rtagent_acs_api_body_t *b)
{
    if (b->tree) {
        yajl_tree_free(b->tree);
    }

    memset(b, 0, sizeof(ngx_http_rtagent_acs_api_body_t));
}


int
ngx_http_rtagent_acs_api_is_phone(const char *target)
{
    return target[0] == '+' || (target[0] == '4' && target[1] == ':');
}


int
ngx_http_rtagent_acs_api_bearer(const char *value, size_t len,
    const char **token, size_t *token_len)
{
    const char  *p, *last, *start;

    *token = NULL;
    *token_len = 0;

    p = value;
    last = value + len;

    /* nginx has trimmed the value already; others may not have */

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    if ((size_t) (last - p) < sizeof("Bearer") - 1
        || strncasecmp(p, "Bearer", sizeof("Bearer") - 1) != 0)
    {
        return 0;
    }

    p += sizeof("Bearer") - 1;

    if (p == last) {
        return -1;                      /* the scheme alone */
    }

    if (*p != ' ') {
        /* "Bearerx" is another scheme; "Bearer\t" a bad separator */
        return *p == '\t' ? -1 : 0;
    }

    while (p < last && *p == ' ') {
        p++;
    }

    start = p;

    while (p < last
           && ngx_http_rtagent_acs_api_is(p, 1, "-._~+/"))
    {
        p++;
    }

    if (p == start) {
        return -1;
    }

    while (p < last && *p == '=') {
        p++;
    }

    if (p != last) {
        return -1;                      /* auth-params, or a second token */
    }

    *token = start;
    *token_len = p - start;

    return 1;
}


/* CREATE: every member is a string; what each must be, in order */

static const char *
ngx_http_rtagent_acs_api_create(ngx_http_rtagent_acs_api_body_t *b)
{
    if (!ngx_http_rtagent_acs_api_string(b->tree, "target", &b->target)
        || !ngx_http_rtagent_acs_api_string(b->tree, "agent", &b->agent)
        || !ngx_http_rtagent_acs_api_string(b->tree, "source", &b->source)
        || !ngx_http_rtagent_acs_api_string(b->tree, "display_name",
                                            &b->display_name))
    {
        return "target, agent, source and display_name must be strings";
    }

    if (b->target[0] == '\0') {
        return "target is required";
    }

    if (!ngx_http_rtagent_acs_target_valid(b->target)) {
        return NGX_HTTP_RTAGENT_ACS_API_BAD_TARGET;
    }

    if (b->agent[0] && !ngx_http_rtagent_acs_api_name_valid(b->agent)) {
        return "agent must be 1-64 letters, digits, '-', '_' or '.'";
    }

    if (b->source[0]
        && (!ngx_http_rtagent_acs_target_valid(b->source)
            || !ngx_http_rtagent_acs_api_is_phone(b->source)))
    {
        return "source must be a phone number (+E.164)";
    }

    if (strlen(b->display_name) > NGX_HTTP_RTAGENT_ACS_API_NAME_MAX) {
        return "display_name is too long";
    }

    return NULL;
}


/* a string member, "" when absent or null; 0 when of another type */

static int
ngx_http_rtagent_acs_api_string(yajl_val tree, const char *key,
    const char **out)
{
    yajl_val  v;

    v = ngx_http_rtagent_json_get(tree, key, NULL);

    if (v == NULL || YAJL_IS_NULL(v)) {
        *out = "";
        return 1;
    }

    if (!YAJL_IS_STRING(v)) {
        *out = "";
        return 0;
    }

    *out = v->u.string;

    return 1;
}


/* an agent name: it goes into the media URL's query unescaped */

static int
ngx_http_rtagent_acs_api_name_valid(const char *s)
{
    size_t  len;

    len = strlen(s);

    return len > 0 && len <= NGX_HTTP_RTAGENT_ACS_API_AGENT_MAX
           && ngx_http_rtagent_acs_api_is(s, len, "-_.");
}


static int
ngx_http_rtagent_acs_api_tones_valid(const char *s)
{
    size_t  i, len;

    len = strlen(s);

    if (len == 0 || len > NGX_HTTP_RTAGENT_ACS_API_TONES_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'D')
              || (s[i] >= 'a' && s[i] <= 'd') || s[i] == '#' || s[i] == '*'))
        {
            return 0;
        }
    }

    return 1;
}


/* are all len bytes ASCII letters, digits or one of accept */

static int
ngx_http_rtagent_acs_api_is(const char *s, size_t len, const char *accept)
{
    size_t         i;
    unsigned char  c;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c != '\0' && strchr(accept, c) != NULL)))
        {
            return 0;
        }
    }

    return 1;
}
