
/*
 * Call Automation REST request bodies, built with yajl's generator, and
 * the few response fields the gateway needs, read with yajl's tree API.
 *
 * The generator calls go through a small context that remembers the
 * first failure, so that a builder is a straight list of fields with one
 * check at the end.  Strings are validated as UTF-8 by yajl: a body with
 * a broken string is refused rather than sent.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "ngx_http_rtagent_acs_body.h"
#include <json/ngx_http_rtagent_json.h>


/* responses are a few levels deep; the limit bounds yajl_tree_free() */
#define NGX_HTTP_RTAGENT_ACS_BODY_DEPTH_MAX  64

#define NGX_HTTP_RTAGENT_ACS_PHONE_MIN       7
#define NGX_HTTP_RTAGENT_ACS_PHONE_MAX       15
#define NGX_HTTP_RTAGENT_ACS_TONES_MAX       64

/* "4:" "+" 15 digits NUL */
#define NGX_HTTP_RTAGENT_ACS_PHONE_RAW_SIZE  20


typedef enum {
    NGX_HTTP_RTAGENT_ACS_TARGET_BAD = 0,
    NGX_HTTP_RTAGENT_ACS_TARGET_PHONE,
    NGX_HTTP_RTAGENT_ACS_TARGET_USER,
    NGX_HTTP_RTAGENT_ACS_TARGET_APP
} ngx_http_rtagent_acs_target_e;


typedef struct {
    yajl_gen   g;
    unsigned   failed:1;
} ngx_http_rtagent_acs_gen_t;


static ngx_http_rtagent_acs_target_e ngx_http_rtagent_acs_target(
    const char *target, const char **value);
static int ngx_http_rtagent_acs_phone_valid(const char *s);
static int ngx_http_rtagent_acs_id_valid(const char *s);
static const char *ngx_http_rtagent_acs_tone(char c);

static int ngx_http_rtagent_acs_gen_init(ngx_http_rtagent_acs_gen_t *gen);
static char *ngx_http_rtagent_acs_gen_done(ngx_http_rtagent_acs_gen_t *gen,
    size_t *len);
static void ngx_http_rtagent_acs_gen_check(ngx_http_rtagent_acs_gen_t *gen,
    yajl_gen_status st);
static void ngx_http_rtagent_acs_gen_string(ngx_http_rtagent_acs_gen_t *gen,
    const char *s);
static void ngx_http_rtagent_acs_gen_str(ngx_http_rtagent_acs_gen_t *gen,
    const char *key, const char *value);
static void ngx_http_rtagent_acs_gen_bool(ngx_http_rtagent_acs_gen_t *gen,
    const char *key, int value);
static void ngx_http_rtagent_acs_gen_open(ngx_http_rtagent_acs_gen_t *gen,
    const char *key);
static void ngx_http_rtagent_acs_gen_close(ngx_http_rtagent_acs_gen_t *gen);
static void ngx_http_rtagent_acs_gen_ident(ngx_http_rtagent_acs_gen_t *gen,
    const char *key, const char *target);
static void ngx_http_rtagent_acs_gen_media(ngx_http_rtagent_acs_gen_t *gen,
    const ngx_http_rtagent_acs_media_opts_t *media);

static yajl_val ngx_http_rtagent_acs_body_tree(const char *body, size_t len);
static int ngx_http_rtagent_acs_body_pair(const char *body, size_t len,
    const char *id_key, char *id, size_t id_len, const char *other_key,
    char *other, size_t other_len);
static void ngx_http_rtagent_acs_body_copy(char *dst, size_t size,
    const char *s);


int
ngx_http_rtagent_acs_target_valid(const char *target)
{
    const char  *value;

    return ngx_http_rtagent_acs_target(target, &value)
           != NGX_HTTP_RTAGENT_ACS_TARGET_BAD;
}


char *
ngx_http_rtagent_acs_body_answer(const char *incoming_call_context,
    const char *callback_uri, const char *operation_context,
    const ngx_http_rtagent_acs_media_opts_t *media, size_t *len)
{
    ngx_http_rtagent_acs_gen_t  gen;

    if (len) {
        *len = 0;
    }

    if (incoming_call_context == NULL || incoming_call_context[0] == '\0'
        || callback_uri == NULL || callback_uri[0] == '\0'
        || (media != NULL
            && (media->transport_url == NULL
                || media->transport_url[0] == '\0')))
    {
        return NULL;
    }

    if (ngx_http_rtagent_acs_gen_init(&gen) != 0) {
        return NULL;
    }

    ngx_http_rtagent_acs_gen_str(&gen, "incomingCallContext",
                                 incoming_call_context);
    ngx_http_rtagent_acs_gen_str(&gen, "callbackUri", callback_uri);
    ngx_http_rtagent_acs_gen_str(&gen, "operationContext", operation_context);

    if (media) {
        ngx_http_rtagent_acs_gen_media(&gen, media);
    }

    return ngx_http_rtagent_acs_gen_done(&gen, len);
}


char *
ngx_http_rtagent_acs_body_create(const char *target,
    const char *source_caller_id, const char *source_display_name,
    const char *callback_uri, const char *operation_context,
    const ngx_http_rtagent_acs_media_opts_t *media, size_t *len)
{
    const char                     *value, *source;
    ngx_http_rtagent_acs_gen_t      gen;
    ngx_http_rtagent_acs_target_e   kind;

    if (len) {
        *len = 0;
    }

    kind = ngx_http_rtagent_acs_target(target, &value);

    if (kind == NGX_HTTP_RTAGENT_ACS_TARGET_BAD
        || callback_uri == NULL || callback_uri[0] == '\0'
        || (media != NULL
            && (media->transport_url == NULL
                || media->transport_url[0] == '\0')))
    {
        return NULL;
    }

    source = NULL;

    if (source_caller_id) {
        /* the caller id is a phone number too, sent without "4:" */
        if (ngx_http_rtagent_acs_target(source_caller_id, &source)
            != NGX_HTTP_RTAGENT_ACS_TARGET_PHONE)
        {
            return NULL;
        }

    } else if (kind == NGX_HTTP_RTAGENT_ACS_TARGET_PHONE) {
        return NULL;
    }

    if (ngx_http_rtagent_acs_gen_init(&gen) != 0) {
        return NULL;
    }

    ngx_http_rtagent_acs_gen_string(&gen, "targets");
    ngx_http_rtagent_acs_gen_check(&gen, yajl_gen_array_open(gen.g));
    ngx_http_rtagent_acs_gen_ident(&gen, NULL, target);
    ngx_http_rtagent_acs_gen_check(&gen, yajl_gen_array_close(gen.g));

    if (source) {
        ngx_http_rtagent_acs_gen_open(&gen, "sourceCallerIdNumber");
        ngx_http_rtagent_acs_gen_str(&gen, "value", source);
        ngx_http_rtagent_acs_gen_close(&gen);
    }

    ngx_http_rtagent_acs_gen_str(&gen, "sourceDisplayName",
                                 source_display_name);
    ngx_http_rtagent_acs_gen_str(&gen, "callbackUri", callback_uri);
    ngx_http_rtagent_acs_gen_str(&gen, "operationContext", operation_context);

    if (media) {
        ngx_http_rtagent_acs_gen_media(&gen, media);
    }

    return ngx_http_rtagent_acs_gen_done(&gen, len);
}


char *
ngx_http_rtagent_acs_body_transfer(const char *target,
    const char *operation_context, const char *operation_callback_uri,
    size_t *len)
{
    ngx_http_rtagent_acs_gen_t  gen;

    if (len) {
        *len = 0;
    }

    if (!ngx_http_rtagent_acs_target_valid(target)) {
        return NULL;
    }

    if (ngx_http_rtagent_acs_gen_init(&gen) != 0) {
        return NULL;
    }

    ngx_http_rtagent_acs_gen_ident(&gen, "targetParticipant", target);
    ngx_http_rtagent_acs_gen_str(&gen, "operationContext", operation_context);
    ngx_http_rtagent_acs_gen_str(&gen, "operationCallbackUri",
                                 operation_callback_uri);

    return ngx_http_rtagent_acs_gen_done(&gen, len);
}


char *
ngx_http_rtagent_acs_body_recording(const char *server_call_id,
    const char *state_callback_uri, size_t *len)
{
    ngx_http_rtagent_acs_gen_t  gen;

    if (len) {
        *len = 0;
    }

    if (server_call_id == NULL || server_call_id[0] == '\0') {
        return NULL;
    }

    if (ngx_http_rtagent_acs_gen_init(&gen) != 0) {
        return NULL;
    }

    ngx_http_rtagent_acs_gen_open(&gen, "callLocator");
    ngx_http_rtagent_acs_gen_str(&gen, "kind", "serverCallLocator");
    ngx_http_rtagent_acs_gen_str(&gen, "serverCallId", server_call_id);
    ngx_http_rtagent_acs_gen_close(&gen);

    ngx_http_rtagent_acs_gen_str(&gen, "recordingStateCallbackUri",
                                 state_callback_uri);
    ngx_http_rtagent_acs_gen_str(&gen, "recordingContentType", "audio");
    ngx_http_rtagent_acs_gen_str(&gen, "recordingChannelType", "mixed");
    ngx_http_rtagent_acs_gen_str(&gen, "recordingFormatType", "wav");

    return ngx_http_rtagent_acs_gen_done(&gen, len);
}


char *
ngx_http_rtagent_acs_body_send_dtmf(const char *tones, const char *target,
    const char *operation_context, size_t *len)
{
    size_t                      i, n;
    ngx_http_rtagent_acs_gen_t  gen;

    if (len) {
        *len = 0;
    }

    if (tones == NULL || !ngx_http_rtagent_acs_target_valid(target)) {
        return NULL;
    }

    n = strlen(tones);

    if (n == 0 || n > NGX_HTTP_RTAGENT_ACS_TONES_MAX) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (ngx_http_rtagent_acs_tone(tones[i]) == NULL) {
            return NULL;
        }
    }

    if (ngx_http_rtagent_acs_gen_init(&gen) != 0) {
        return NULL;
    }

    ngx_http_rtagent_acs_gen_string(&gen, "tones");
    ngx_http_rtagent_acs_gen_check(&gen, yajl_gen_array_open(gen.g));

    for (i = 0; i < n; i++) {
        ngx_http_rtagent_acs_gen_string(&gen,
                                        ngx_http_rtagent_acs_tone(tones[i]));
    }

    ngx_http_rtagent_acs_gen_check(&gen, yajl_gen_array_close(gen.g));

    ngx_http_rtagent_acs_gen_ident(&gen, "targetParticipant", target);
    ngx_http_rtagent_acs_gen_str(&gen, "operationContext", operation_context);

    return ngx_http_rtagent_acs_gen_done(&gen, len);
}


char *
ngx_http_rtagent_acs_body_dtmf_recognition(const char *target,
    const char *operation_context, size_t *len)
{
    ngx_http_rtagent_acs_gen_t  gen;

    if (len) {
        *len = 0;
    }

    if (!ngx_http_rtagent_acs_target_valid(target)) {
        return NULL;
    }

    if (ngx_http_rtagent_acs_gen_init(&gen) != 0) {
        return NULL;
    }

    ngx_http_rtagent_acs_gen_ident(&gen, "targetParticipant", target);
    ngx_http_rtagent_acs_gen_str(&gen, "operationContext", operation_context);

    return ngx_http_rtagent_acs_gen_done(&gen, len);
}


int
ngx_http_rtagent_acs_parse_error(const char *body, size_t len,
    char *code, size_t code_len, char *message, size_t message_len)
{
    yajl_val     tree;
    const char  *c, *m;

    ngx_http_rtagent_acs_body_copy(code, code_len, "");
    ngx_http_rtagent_acs_body_copy(message, message_len, "");

    tree = ngx_http_rtagent_acs_body_tree(body, len);

    c = ngx_http_rtagent_json_str(tree, "error", "code", NULL);

    if (c == NULL) {
        yajl_tree_free(tree);
        return -1;
    }

    m = ngx_http_rtagent_json_str(tree, "error", "message", NULL);

    ngx_http_rtagent_acs_body_copy(code, code_len, c);
    ngx_http_rtagent_acs_body_copy(message, message_len, m ? m : "");

    yajl_tree_free(tree);

    return 0;
}


int
ngx_http_rtagent_acs_parse_call(const char *body, size_t len,
    char *call_connection_id, size_t id_len, char *server_call_id,
    size_t server_len)
{
    return ngx_http_rtagent_acs_body_pair(body, len, "callConnectionId",
                                          call_connection_id, id_len,
                                          "serverCallId", server_call_id,
                                          server_len);
}


int
ngx_http_rtagent_acs_parse_recording(const char *body, size_t len,
    char *recording_id, size_t id_len, char *state, size_t state_len)
{
    return ngx_http_rtagent_acs_body_pair(body, len, "recordingId",
                                          recording_id, id_len,
                                          "recordingState", state, state_len);
}


/* a response's required id and optional second string, copied out */

static int
ngx_http_rtagent_acs_body_pair(const char *body, size_t len,
    const char *id_key, char *id, size_t id_len, const char *other_key,
    char *other, size_t other_len)
{
    yajl_val     tree;
    const char  *v, *o;

    ngx_http_rtagent_acs_body_copy(id, id_len, "");
    ngx_http_rtagent_acs_body_copy(other, other_len, "");

    tree = ngx_http_rtagent_acs_body_tree(body, len);

    v = ngx_http_rtagent_json_str(tree, id_key, NULL);

    if (v == NULL || v[0] == '\0') {
        yajl_tree_free(tree);
        return -1;
    }

    o = ngx_http_rtagent_json_str(tree, other_key, NULL);

    ngx_http_rtagent_acs_body_copy(id, id_len, v);
    ngx_http_rtagent_acs_body_copy(other, other_len, o ? o : "");

    yajl_tree_free(tree);

    return 0;
}


/*
 * The kind of a target and the value its sub-object carries: the phone
 * number without "4:", the whole "8:..." user id, or the app id after
 * "28:".
 */

static ngx_http_rtagent_acs_target_e
ngx_http_rtagent_acs_target(const char *target, const char **value)
{
    *value = NULL;

    if (target == NULL) {
        return NGX_HTTP_RTAGENT_ACS_TARGET_BAD;
    }

    if (target[0] == '4' && target[1] == ':') {
        if (!ngx_http_rtagent_acs_phone_valid(target + 2)) {
            return NGX_HTTP_RTAGENT_ACS_TARGET_BAD;
        }

        *value = target + 2;
        return NGX_HTTP_RTAGENT_ACS_TARGET_PHONE;
    }

    if (ngx_http_rtagent_acs_phone_valid(target)) {
        *value = target;
        return NGX_HTTP_RTAGENT_ACS_TARGET_PHONE;
    }

    if (strncmp(target, "8:", 2) == 0
        && ngx_http_rtagent_acs_id_valid(target + 2))
    {
        *value = target;
        return NGX_HTTP_RTAGENT_ACS_TARGET_USER;
    }

    if (strncmp(target, "28:", 3) == 0
        && ngx_http_rtagent_acs_id_valid(target + 3))
    {
        *value = target + 3;
        return NGX_HTTP_RTAGENT_ACS_TARGET_APP;
    }

    return NGX_HTTP_RTAGENT_ACS_TARGET_BAD;
}


/* "+" and 7 to 15 digits: E.164 allows 15, and no real number is shorter */

static int
ngx_http_rtagent_acs_phone_valid(const char *s)
{
    size_t  n;

    if (s[0] != '+') {
        return 0;
    }

    for (n = 0; s[n + 1] >= '0' && s[n + 1] <= '9'; n++) {
        if (n == NGX_HTTP_RTAGENT_ACS_PHONE_MAX) {
            return 0;
        }
    }

    return s[n + 1] == '\0' && n >= NGX_HTTP_RTAGENT_ACS_PHONE_MIN;
}


/* non-empty, printable ASCII without spaces: what goes after "8:"/"28:" */

static int
ngx_http_rtagent_acs_id_valid(const char *s)
{
    if (*s == '\0') {
        return 0;
    }

    for ( /* void */ ; *s; s++) {
        if ((unsigned char) *s <= 0x20 || (unsigned char) *s >= 0x7f) {
            return 0;
        }
    }

    return 1;
}


static const char *
ngx_http_rtagent_acs_tone(char c)
{
    static const char  *const digits[] = {
        "zero", "one", "two", "three", "four",
        "five", "six", "seven", "eight", "nine"
    };
    static const char  *const letters[] = { "a", "b", "c", "d" };

    if (c >= '0' && c <= '9') {
        return digits[c - '0'];
    }

    if (c >= 'A' && c <= 'D') {
        return letters[c - 'A'];
    }

    if (c >= 'a' && c <= 'd') {
        return letters[c - 'a'];
    }

    if (c == '#') {
        return "pound";
    }

    if (c == '*') {
        return "asterisk";
    }

    return NULL;
}


/* opens the top-level object */

static int
ngx_http_rtagent_acs_gen_init(ngx_http_rtagent_acs_gen_t *gen)
{
    gen->failed = 0;

    gen->g = yajl_gen_alloc(NULL);
    if (gen->g == NULL) {
        return -1;
    }

    /* no whitespace; the input strings must be UTF-8 as JSON requires */
    if (!yajl_gen_config(gen->g, yajl_gen_beautify, 0)
        || !yajl_gen_config(gen->g, yajl_gen_validate_utf8, 1))
    {
        yajl_gen_free(gen->g);
        return -1;
    }

    ngx_http_rtagent_acs_gen_check(gen, yajl_gen_map_open(gen->g));

    return 0;
}


/* closes the top-level object and frees the generator */

static char *
ngx_http_rtagent_acs_gen_done(ngx_http_rtagent_acs_gen_t *gen, size_t *len)
{
    char                 *out;
    size_t                n;
    const unsigned char  *buf;

    ngx_http_rtagent_acs_gen_check(gen, yajl_gen_map_close(gen->g));

    out = NULL;

    if (!gen->failed
        && yajl_gen_get_buf(gen->g, &buf, &n) == yajl_gen_status_ok)
    {
        out = malloc(n + 1);

        if (out) {
            memcpy(out, buf, n);
            out[n] = '\0';

            if (len) {
                *len = n;
            }
        }
    }

    yajl_gen_free(gen->g);
    gen->g = NULL;

    return out;
}


static void
ngx_http_rtagent_acs_gen_check(ngx_http_rtagent_acs_gen_t *gen,
    yajl_gen_status st)
{
    if (st != yajl_gen_status_ok) {
        gen->failed = 1;
    }
}


/* a key or a string value */

static void
ngx_http_rtagent_acs_gen_string(ngx_http_rtagent_acs_gen_t *gen,
    const char *s)
{
    if (gen->failed) {
        return;
    }

    ngx_http_rtagent_acs_gen_check(gen,
                                   yajl_gen_string(gen->g,
                                                   (const unsigned char *) s,
                                                   strlen(s)));
}


/* "key":"value", or nothing when value is NULL */

static void
ngx_http_rtagent_acs_gen_str(ngx_http_rtagent_acs_gen_t *gen,
    const char *key, const char *value)
{
    if (value == NULL) {
        return;
    }

    ngx_http_rtagent_acs_gen_string(gen, key);
    ngx_http_rtagent_acs_gen_string(gen, value);
}


static void
ngx_http_rtagent_acs_gen_bool(ngx_http_rtagent_acs_gen_t *gen,
    const char *key, int value)
{
    ngx_http_rtagent_acs_gen_string(gen, key);

    if (!gen->failed) {
        ngx_http_rtagent_acs_gen_check(gen, yajl_gen_bool(gen->g, value));
    }
}


/* "key":{, or { alone for an array element when key is NULL */

static void
ngx_http_rtagent_acs_gen_open(ngx_http_rtagent_acs_gen_t *gen,
    const char *key)
{
    if (key) {
        ngx_http_rtagent_acs_gen_string(gen, key);
    }

    if (!gen->failed) {
        ngx_http_rtagent_acs_gen_check(gen, yajl_gen_map_open(gen->g));
    }
}


static void
ngx_http_rtagent_acs_gen_close(ngx_http_rtagent_acs_gen_t *gen)
{
    if (!gen->failed) {
        ngx_http_rtagent_acs_gen_check(gen, yajl_gen_map_close(gen->g));
    }
}


/*
 * A CommunicationIdentifierModel request object: rawId and exactly one
 * sub-object; "kind" is left out, ACS requires it only in responses.
 * The target has been validated.
 */

static void
ngx_http_rtagent_acs_gen_ident(ngx_http_rtagent_acs_gen_t *gen,
    const char *key, const char *target)
{
    char                           raw[NGX_HTTP_RTAGENT_ACS_PHONE_RAW_SIZE];
    const char                    *value;
    ngx_http_rtagent_acs_target_e  kind;

    kind = ngx_http_rtagent_acs_target(target, &value);

    ngx_http_rtagent_acs_gen_open(gen, key);

    switch (kind) {

    case NGX_HTTP_RTAGENT_ACS_TARGET_PHONE:
        snprintf(raw, sizeof(raw), "4:%s", value);
        ngx_http_rtagent_acs_gen_str(gen, "rawId", raw);
        ngx_http_rtagent_acs_gen_open(gen, "phoneNumber");
        ngx_http_rtagent_acs_gen_str(gen, "value", value);
        break;

    case NGX_HTTP_RTAGENT_ACS_TARGET_USER:
        ngx_http_rtagent_acs_gen_str(gen, "rawId", target);
        ngx_http_rtagent_acs_gen_open(gen, "communicationUser");
        ngx_http_rtagent_acs_gen_str(gen, "id", value);
        break;

    case NGX_HTTP_RTAGENT_ACS_TARGET_APP:
        ngx_http_rtagent_acs_gen_str(gen, "rawId", target);
        ngx_http_rtagent_acs_gen_open(gen, "microsoftTeamsApp");
        ngx_http_rtagent_acs_gen_str(gen, "appId", value);
        break;

    default:
        gen->failed = 1;
        return;
    }

    ngx_http_rtagent_acs_gen_close(gen);
    ngx_http_rtagent_acs_gen_close(gen);
}


static void
ngx_http_rtagent_acs_gen_media(ngx_http_rtagent_acs_gen_t *gen,
    const ngx_http_rtagent_acs_media_opts_t *media)
{
    ngx_http_rtagent_acs_gen_open(gen, "mediaStreamingOptions");

    ngx_http_rtagent_acs_gen_str(gen, "transportType", "websocket");
    ngx_http_rtagent_acs_gen_str(gen, "transportUrl", media->transport_url);
    ngx_http_rtagent_acs_gen_str(gen, "contentType", "audio");
    ngx_http_rtagent_acs_gen_str(gen, "audioChannelType", "mixed");
    ngx_http_rtagent_acs_gen_bool(gen, "startMediaStreaming", 1);
    ngx_http_rtagent_acs_gen_bool(gen, "enableBidirectional", 1);
    ngx_http_rtagent_acs_gen_str(gen, "audioFormat", media->audio_format);

    if (media->enable_dtmf) {
        ngx_http_rtagent_acs_gen_bool(gen, "enableDtmfTones", 1);
    }

    ngx_http_rtagent_acs_gen_close(gen);
}


/* the tree of a response body, or NULL */

static yajl_val
ngx_http_rtagent_acs_body_tree(const char *body, size_t len)
{
    return ngx_http_rtagent_json_parse(body, len,
                                          NGX_HTTP_RTAGENT_ACS_BODY_DEPTH_MAX,
                                          0, NULL, 0);
}


/*
 * Copies s into dst of size bytes, NUL-terminated; a truncated copy ends
 * before a UTF-8 sequence that does not fit rather than in its middle.
 */

static void
ngx_http_rtagent_acs_body_copy(char *dst, size_t size, const char *s)
{
    size_t  n;

    if (dst == NULL || size == 0) {
        return;
    }

    n = strlen(s);

    if (n >= size) {
        n = size - 1;

        while (n && ((unsigned char) s[n] & 0xc0) == 0x80) {
            n--;
        }
    }

    memcpy(dst, s, n);
    dst[n] = '\0';
}
