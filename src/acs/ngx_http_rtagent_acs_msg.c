
/*
 * ACS media WebSocket message codec.
 *
 * The parser is a yajl callback state machine.  Only three levels matter:
 * the top object (depth 1), the value of a top-level key, and the fields
 * of a known payload object (depth 2); everything deeper is skipped.
 * Because "kind" may come after its payload, every known payload object
 * is collected into its own slot, and the kind picks the slot at the end.
 */


#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <yajl/yajl_parse.h>

#include "ngx_http_rtagent_acs_msg.h"
#include "ngx_http_rtagent_acs_text.h"


#define NGX_HTTP_RTAGENT_ACS_NPAYLOADS  5

/* values of ctx->top besides a payload index */
#define NGX_HTTP_RTAGENT_ACS_TOP_OTHER  -1
#define NGX_HTTP_RTAGENT_ACS_TOP_KIND   NGX_HTTP_RTAGENT_ACS_NPAYLOADS

#define NGX_HTTP_RTAGENT_ACS_KIND_ABSENT  0
#define NGX_HTTP_RTAGENT_ACS_KIND_STRING  1
#define NGX_HTTP_RTAGENT_ACS_KIND_BAD     2

/* where the value that yajl reports sits */
#define NGX_HTTP_RTAGENT_ACS_AT_SKIP     0
#define NGX_HTTP_RTAGENT_ACS_AT_ROOT     1
#define NGX_HTTP_RTAGENT_ACS_AT_KIND     2
#define NGX_HTTP_RTAGENT_ACS_AT_PAYLOAD  3
#define NGX_HTTP_RTAGENT_ACS_AT_FIELD    4

/* results of parsing a JSON number as an integer */
#define NGX_HTTP_RTAGENT_ACS_INT_OK      0
#define NGX_HTTP_RTAGENT_ACS_INT_NOT     1
#define NGX_HTTP_RTAGENT_ACS_INT_RANGE   2

/* keeps a maximal EVP_EncodeBlock() output below INT_MAX */
#define NGX_HTTP_RTAGENT_ACS_ENCODE_CHUNK  ((size_t) 3 << 28)

#define NGX_HTTP_RTAGENT_ACS_AUDIO_HEAD                                      \
    "{\"kind\":\"AudioData\",\"audioData\":{\"data\":\""
#define NGX_HTTP_RTAGENT_ACS_AUDIO_TAIL  "\"}}"
#define NGX_HTTP_RTAGENT_ACS_STOP_AUDIO                                      \
    "{\"kind\":\"StopAudio\",\"stopAudio\":{}}"


typedef enum {
    NGX_HTTP_RTAGENT_ACS_F_STR = 0,
    NGX_HTTP_RTAGENT_ACS_F_STATUS,
    NGX_HTTP_RTAGENT_ACS_F_AUDIO,
    NGX_HTTP_RTAGENT_ACS_F_SILENT,
    NGX_HTTP_RTAGENT_ACS_F_INT,
    NGX_HTTP_RTAGENT_ACS_F_DOUBLE
} ngx_http_rtagent_acs_ftype_e;


typedef struct {
    size_t                               len;
    const char                          *name;
    ngx_http_rtagent_acs_ftype_e         type;
    size_t                               offset;
} ngx_http_rtagent_acs_field_t;


typedef struct {
    size_t                               len;
    const char                          *name;   /* the key and the kind */
    const ngx_http_rtagent_acs_field_t  *fields;
    size_t                               nfields;
} ngx_http_rtagent_acs_payload_t;


typedef struct {
    ngx_http_rtagent_acs_msg_t           msg;
    ngx_http_rtagent_acs_rc_e            rc;
    const char                          *err_name;
    const char                          *err_what;
    unsigned                             seen:1;
} ngx_http_rtagent_acs_slot_t;


typedef struct {
    uint8_t                             *arena;
    size_t                               used;
    size_t                               size;

    unsigned                             depth;
    int                                  top;
    int                                  payload;   /* open slot or -1 */
    const ngx_http_rtagent_acs_field_t  *field;

    ngx_http_rtagent_acs_str_t           kind;
    unsigned                             kind_state;

    ngx_http_rtagent_acs_rc_e            rc;        /* why we canceled */
    char                                *err;
    size_t                               err_size;

    ngx_http_rtagent_acs_slot_t          slots[NGX_HTTP_RTAGENT_ACS_NPAYLOADS];
} ngx_http_rtagent_acs_ctx_t;


#define ngx_http_rtagent_acs_field(name, type, member)                       \
    { sizeof(name) - 1, name, NGX_HTTP_RTAGENT_ACS_F_##type,                 \
      offsetof(ngx_http_rtagent_acs_msg_t, member) }

#define ngx_http_rtagent_acs_payload(name, fields)                           \
    { sizeof(name) - 1, name, fields, sizeof(fields) / sizeof(fields[0]) }


static void ngx_http_rtagent_acs_msg_init(ngx_http_rtagent_acs_msg_t *m);
static void ngx_http_rtagent_acs_err(char *err, size_t err_size,
    const char *fmt, ...)
#if (defined __GNUC__ || defined __clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int ngx_http_rtagent_acs_fail(ngx_http_rtagent_acs_ctx_t *ctx,
    ngx_http_rtagent_acs_rc_e rc, const char *reason);
static int ngx_http_rtagent_acs_at(ngx_http_rtagent_acs_ctx_t *ctx);
static ngx_http_rtagent_acs_slot_t *ngx_http_rtagent_acs_slot(
    ngx_http_rtagent_acs_ctx_t *ctx);
static void *ngx_http_rtagent_acs_member(ngx_http_rtagent_acs_msg_t *m,
    const ngx_http_rtagent_acs_field_t *f);
static int ngx_http_rtagent_acs_bad(ngx_http_rtagent_acs_ctx_t *ctx,
    int at);
static int ngx_http_rtagent_acs_copy(ngx_http_rtagent_acs_ctx_t *ctx,
    const unsigned char *s, size_t len, ngx_http_rtagent_acs_str_t *dst);
static uint8_t ngx_http_rtagent_acs_base64_bad(uint8_t c);
static int ngx_http_rtagent_acs_base64(ngx_http_rtagent_acs_ctx_t *ctx,
    ngx_http_rtagent_acs_slot_t *slot, const unsigned char *s, size_t len);
static int ngx_http_rtagent_acs_int(const char *s, size_t len, int64_t *v);

static int ngx_http_rtagent_acs_on_null(void *data);
static int ngx_http_rtagent_acs_on_boolean(void *data, int v);
static int ngx_http_rtagent_acs_on_number(void *data, const char *s,
    size_t len);
static int ngx_http_rtagent_acs_on_string(void *data, const unsigned char *s,
    size_t len);
static int ngx_http_rtagent_acs_on_start_map(void *data);
static int ngx_http_rtagent_acs_on_map_key(void *data,
    const unsigned char *s, size_t len);
static int ngx_http_rtagent_acs_on_end_map(void *data);
static int ngx_http_rtagent_acs_on_start_array(void *data);
static int ngx_http_rtagent_acs_on_end_array(void *data);


const ngx_http_rtagent_acs_str_t  ngx_http_rtagent_acs_stop_audio = {
    (const uint8_t *) NGX_HTTP_RTAGENT_ACS_STOP_AUDIO,
    sizeof(NGX_HTTP_RTAGENT_ACS_STOP_AUDIO) - 1
};


static const ngx_http_rtagent_acs_field_t
    ngx_http_rtagent_acs_audio_metadata_fields[] =
{
    ngx_http_rtagent_acs_field("subscriptionId", STR, subscription_id),
    ngx_http_rtagent_acs_field("encoding", STR, encoding),
    ngx_http_rtagent_acs_field("sampleRate", INT, sample_rate),
    ngx_http_rtagent_acs_field("channels", INT, channels),
    ngx_http_rtagent_acs_field("length", INT, length)
};


static const ngx_http_rtagent_acs_field_t
    ngx_http_rtagent_acs_audio_data_fields[] =
{
    ngx_http_rtagent_acs_field("timestamp", STR, timestamp),
    ngx_http_rtagent_acs_field("participantRawID", STR, participant),
    ngx_http_rtagent_acs_field("data", AUDIO, audio),
    ngx_http_rtagent_acs_field("silent", SILENT, audio)
};


static const ngx_http_rtagent_acs_field_t
    ngx_http_rtagent_acs_dtmf_data_fields[] =
{
    ngx_http_rtagent_acs_field("data", STR, dtmf)
};


static const ngx_http_rtagent_acs_field_t
    ngx_http_rtagent_acs_transcription_metadata_fields[] =
{
    ngx_http_rtagent_acs_field("subscriptionId", STR, subscription_id),
    ngx_http_rtagent_acs_field("locale", STR, locale),
    ngx_http_rtagent_acs_field("callConnectionId", STR, call_connection_id),
    ngx_http_rtagent_acs_field("correlationId", STR, correlation_id)
};


static const ngx_http_rtagent_acs_field_t
    ngx_http_rtagent_acs_transcription_data_fields[] =
{
    ngx_http_rtagent_acs_field("text", STR, text),
    ngx_http_rtagent_acs_field("format", STR, format),
    ngx_http_rtagent_acs_field("confidence", DOUBLE, confidence),
    ngx_http_rtagent_acs_field("offset", INT, offset),
    ngx_http_rtagent_acs_field("duration", INT, duration),
    ngx_http_rtagent_acs_field("participantRawID", STR, participant),
    ngx_http_rtagent_acs_field("resultStatus", STATUS, result_status)
};


/* slot i holds the payload of kind i + 1 */

static const ngx_http_rtagent_acs_payload_t  ngx_http_rtagent_acs_payloads[] =
{
    ngx_http_rtagent_acs_payload("audioMetadata",
                                 ngx_http_rtagent_acs_audio_metadata_fields),
    ngx_http_rtagent_acs_payload("audioData",
                                 ngx_http_rtagent_acs_audio_data_fields),
    ngx_http_rtagent_acs_payload("dtmfData",
                                 ngx_http_rtagent_acs_dtmf_data_fields),
    ngx_http_rtagent_acs_payload("transcriptionMetadata",
                            ngx_http_rtagent_acs_transcription_metadata_fields),
    ngx_http_rtagent_acs_payload("transcriptionData",
                                ngx_http_rtagent_acs_transcription_data_fields)
};


/* where empty audio points: "" might not be aligned for int16_t */
static const int16_t  ngx_http_rtagent_acs_no_audio = 0;


static const yajl_callbacks  ngx_http_rtagent_acs_callbacks = {
    ngx_http_rtagent_acs_on_null,
    ngx_http_rtagent_acs_on_boolean,
    NULL,
    NULL,
    /* raw numbers: yajl would fail the whole parse on int64 overflow */
    ngx_http_rtagent_acs_on_number,
    ngx_http_rtagent_acs_on_string,
    ngx_http_rtagent_acs_on_start_map,
    ngx_http_rtagent_acs_on_map_key,
    ngx_http_rtagent_acs_on_end_map,
    ngx_http_rtagent_acs_on_start_array,
    ngx_http_rtagent_acs_on_end_array
};


ngx_http_rtagent_acs_rc_e
ngx_http_rtagent_acs_msg_parse(const uint8_t *in, size_t len, uint8_t *arena,
    size_t arena_size, ngx_http_rtagent_acs_msg_t *msg, char *err,
    size_t err_size)
{
    int                           i;
    size_t                        at;
    yajl_status                   st;
    yajl_handle                   h;
    unsigned char                *reason;
    const char                   *r, *e;
    ngx_http_rtagent_acs_ctx_t    ctx;
    ngx_http_rtagent_acs_slot_t  *slot;

    ngx_http_rtagent_acs_msg_init(msg);
    ngx_http_rtagent_acs_err(err, err_size, "%s", "");

    if (len == 0) {
        ngx_http_rtagent_acs_err(err, err_size, "empty message");
        return NGX_HTTP_RTAGENT_ACS_EJSON;
    }

    ctx.arena = arena;
    ctx.used = 0;
    ctx.size = arena ? arena_size : 0;
    ctx.depth = 0;
    ctx.top = NGX_HTTP_RTAGENT_ACS_TOP_OTHER;
    ctx.payload = -1;
    ctx.field = NULL;
    ctx.kind.data = NULL;
    ctx.kind.len = 0;
    ctx.kind_state = NGX_HTTP_RTAGENT_ACS_KIND_ABSENT;
    ctx.rc = NGX_HTTP_RTAGENT_ACS_OK;
    ctx.err = err;
    ctx.err_size = err_size;

    for (i = 0; i < NGX_HTTP_RTAGENT_ACS_NPAYLOADS; i++) {
        ctx.slots[i].seen = 0;
        ctx.slots[i].rc = NGX_HTTP_RTAGENT_ACS_OK;
    }

    h = yajl_alloc(&ngx_http_rtagent_acs_callbacks, NULL, &ctx);
    if (h == NULL) {
        ngx_http_rtagent_acs_err(err, err_size, "out of memory");
        return NGX_HTTP_RTAGENT_ACS_ENOMEM;
    }

    /* the defaults, but the protocol depends on them: one value per frame */
    yajl_config(h, yajl_allow_trailing_garbage, 0);
    yajl_config(h, yajl_allow_multiple_values, 0);
    yajl_config(h, yajl_allow_partial_values, 0);

    st = yajl_parse(h, in, len);

    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);

        if (st == yajl_status_error) {
            yajl_free(h);
            ngx_http_rtagent_acs_err(err, err_size, "truncated json");
            return NGX_HTTP_RTAGENT_ACS_EJSON;
        }
    }

    if (st == yajl_status_client_canceled) {
        yajl_free(h);
        return ctx.rc;
    }

    if (st == yajl_status_error) {
        at = yajl_get_bytes_consumed(h);
        reason = yajl_get_error(h, 0, in, len);

        /* "lexical error: invalid char in json text.\n" -> the middle */
        r = reason ? (const char *) reason : "";
        e = strstr(r, "error: ");
        if (e) {
            r = e + sizeof("error: ") - 1;
        }

        for (e = r + strlen(r);
             e > r && (e[-1] == '\n' || e[-1] == '.' || e[-1] == ' ');
             e--)
        {
            /* void */
        }

        ngx_http_rtagent_acs_err(err, err_size,
                                 "malformed json at byte %zu: %.*s",
                                 at, (int) (e - r < 60 ? e - r : 60), r);

        if (reason) {
            yajl_free_error(h, reason);
        }

        yajl_free(h);
        return NGX_HTTP_RTAGENT_ACS_EJSON;
    }

    yajl_free(h);

    if (ctx.kind_state == NGX_HTTP_RTAGENT_ACS_KIND_ABSENT) {
        ngx_http_rtagent_acs_err(err, err_size, "no \"kind\"");
        return NGX_HTTP_RTAGENT_ACS_ENOKIND;
    }

    if (ctx.kind_state == NGX_HTTP_RTAGENT_ACS_KIND_BAD) {
        ngx_http_rtagent_acs_err(err, err_size, "\"kind\" is not a string");
        return NGX_HTTP_RTAGENT_ACS_ENOKIND;
    }

    for (i = 0; i < NGX_HTTP_RTAGENT_ACS_NPAYLOADS; i++) {
        if (ngx_http_rtagent_acs_ascii_eq(ctx.kind.data, ctx.kind.len,
                                          ngx_http_rtagent_acs_payloads[i].name,
                                          ngx_http_rtagent_acs_payloads[i].len))
        {
            break;
        }
    }

    if (i == NGX_HTTP_RTAGENT_ACS_NPAYLOADS) {
        msg->kind_name = ctx.kind;
        return NGX_HTTP_RTAGENT_ACS_OK;
    }

    slot = &ctx.slots[i];

    if (slot->seen && slot->rc == NGX_HTTP_RTAGENT_ACS_OK) {
        *msg = slot->msg;
    }

    msg->kind = (ngx_http_rtagent_acs_kind_e) (i + 1);
    msg->kind_name = ctx.kind;

    if (!slot->seen || slot->rc == NGX_HTTP_RTAGENT_ACS_OK) {
        return NGX_HTTP_RTAGENT_ACS_OK;
    }

    if (slot->rc == NGX_HTTP_RTAGENT_ACS_EBASE64) {
        ngx_http_rtagent_acs_err(err, err_size,
                                 "audio data is not valid base64");

    } else {
        ngx_http_rtagent_acs_err(err, err_size, "\"%s\" %s",
                                 slot->err_name, slot->err_what);
    }

    return slot->rc;
}


size_t
ngx_http_rtagent_acs_audio_msg_size(size_t pcm_len)
{
    if (pcm_len > SIZE_MAX / 2) {
        return 0;
    }

    return sizeof(NGX_HTTP_RTAGENT_ACS_AUDIO_HEAD) - 1
           + (pcm_len + 2) / 3 * 4
           + sizeof(NGX_HTTP_RTAGENT_ACS_AUDIO_TAIL) - 1;
}


size_t
ngx_http_rtagent_acs_audio_msg(uint8_t *out, const uint8_t *pcm,
    size_t pcm_len)
{
    size_t    n;
    uint8_t  *p;

    p = out;

    memcpy(p, NGX_HTTP_RTAGENT_ACS_AUDIO_HEAD,
           sizeof(NGX_HTTP_RTAGENT_ACS_AUDIO_HEAD) - 1);
    p += sizeof(NGX_HTTP_RTAGENT_ACS_AUDIO_HEAD) - 1;

    /*
     * EVP_EncodeBlock() takes an int and NUL-terminates its output; the
     * chunks are multiples of 3 so they join without padding, and each
     * NUL lands where the next chunk or the tail goes
     */

    while (pcm_len) {
        n = pcm_len < NGX_HTTP_RTAGENT_ACS_ENCODE_CHUNK
            ? pcm_len : NGX_HTTP_RTAGENT_ACS_ENCODE_CHUNK;

        p += EVP_EncodeBlock(p, pcm, (int) n);
        pcm += n;
        pcm_len -= n;
    }

    memcpy(p, NGX_HTTP_RTAGENT_ACS_AUDIO_TAIL,
           sizeof(NGX_HTTP_RTAGENT_ACS_AUDIO_TAIL) - 1);
    p += sizeof(NGX_HTTP_RTAGENT_ACS_AUDIO_TAIL) - 1;

    return (size_t) (p - out);
}


static void
ngx_http_rtagent_acs_msg_init(ngx_http_rtagent_acs_msg_t *m)
{
    memset(m, 0, sizeof(ngx_http_rtagent_acs_msg_t));

    m->sample_rate = -1;
    m->channels = -1;
    m->length = -1;
    m->confidence = -1;
    m->offset = -1;
    m->duration = -1;
}


static void
ngx_http_rtagent_acs_err(char *err, size_t err_size, const char *fmt, ...)
{
    va_list  args;

    if (err == NULL || err_size == 0) {
        return;
    }

    /* the reason may become a WebSocket close reason, at most 123 bytes */
    if (err_size > NGX_HTTP_RTAGENT_ACS_ERR_SIZE) {
        err_size = NGX_HTTP_RTAGENT_ACS_ERR_SIZE;
    }

    va_start(args, fmt);
    vsnprintf(err, err_size, fmt, args);
    va_end(args);
}


static int
ngx_http_rtagent_acs_fail(ngx_http_rtagent_acs_ctx_t *ctx,
    ngx_http_rtagent_acs_rc_e rc, const char *reason)
{
    ctx->rc = rc;
    ngx_http_rtagent_acs_err(ctx->err, ctx->err_size, "%s", reason);

    return 0;
}


static int
ngx_http_rtagent_acs_at(ngx_http_rtagent_acs_ctx_t *ctx)
{
    switch (ctx->depth) {

    case 0:
        return NGX_HTTP_RTAGENT_ACS_AT_ROOT;

    case 1:
        if (ctx->top == NGX_HTTP_RTAGENT_ACS_TOP_KIND) {
            return NGX_HTTP_RTAGENT_ACS_AT_KIND;
        }

        if (ctx->top >= 0) {
            return NGX_HTTP_RTAGENT_ACS_AT_PAYLOAD;
        }

        return NGX_HTTP_RTAGENT_ACS_AT_SKIP;

    case 2:
        /* the first bad value of a payload decides its error */
        if (ctx->payload >= 0
            && ctx->field != NULL
            && ctx->slots[ctx->payload].rc == NGX_HTTP_RTAGENT_ACS_OK)
        {
            return NGX_HTTP_RTAGENT_ACS_AT_FIELD;
        }

        return NGX_HTTP_RTAGENT_ACS_AT_SKIP;

    default:
        return NGX_HTTP_RTAGENT_ACS_AT_SKIP;
    }
}


static ngx_http_rtagent_acs_slot_t *
ngx_http_rtagent_acs_slot(ngx_http_rtagent_acs_ctx_t *ctx)
{
    return &ctx->slots[ctx->payload];
}


/* the msg member that a str, int or double field is stored in */

static void *
ngx_http_rtagent_acs_member(ngx_http_rtagent_acs_msg_t *m,
    const ngx_http_rtagent_acs_field_t *f)
{
    return (uint8_t *) m + f->offset;
}


/* a value of the wrong JSON type where "at" says it sits */

static int
ngx_http_rtagent_acs_bad(ngx_http_rtagent_acs_ctx_t *ctx, int at)
{
    ngx_http_rtagent_acs_slot_t  *slot;

    switch (at) {

    case NGX_HTTP_RTAGENT_ACS_AT_ROOT:
        return ngx_http_rtagent_acs_fail(ctx, NGX_HTTP_RTAGENT_ACS_EJSON,
                                         "json is not an object");

    case NGX_HTTP_RTAGENT_ACS_AT_KIND:
        ctx->kind_state = NGX_HTTP_RTAGENT_ACS_KIND_BAD;
        return 1;

    case NGX_HTTP_RTAGENT_ACS_AT_PAYLOAD:
        /* like any duplicate key, this replaces an earlier payload */
        slot = &ctx->slots[ctx->top];
        slot->seen = 1;
        slot->rc = NGX_HTTP_RTAGENT_ACS_EFIELD;
        slot->err_name = ngx_http_rtagent_acs_payloads[ctx->top].name;
        slot->err_what = "is not an object";
        return 1;

    case NGX_HTTP_RTAGENT_ACS_AT_FIELD:
        slot = ngx_http_rtagent_acs_slot(ctx);
        slot->rc = NGX_HTTP_RTAGENT_ACS_EFIELD;
        slot->err_name = ctx->field->name;

        switch (ctx->field->type) {

        case NGX_HTTP_RTAGENT_ACS_F_INT:
            slot->err_what = "is not an integer";
            break;

        case NGX_HTTP_RTAGENT_ACS_F_DOUBLE:
            slot->err_what = "is not a number";
            break;

        case NGX_HTTP_RTAGENT_ACS_F_SILENT:
            slot->err_what = "is not a boolean";
            break;

        default:
            slot->err_what = "is not a string";
        }

        return 1;

    default:
        return 1;
    }
}


static int
ngx_http_rtagent_acs_copy(ngx_http_rtagent_acs_ctx_t *ctx,
    const unsigned char *s, size_t len, ngx_http_rtagent_acs_str_t *dst)
{
    if (len == 0) {
        /* present but empty: non-NULL, unlike an absent string */
        dst->data = (const uint8_t *) "";
        dst->len = 0;
        return 1;
    }

    if (len > ctx->size - ctx->used) {
        return ngx_http_rtagent_acs_fail(ctx, NGX_HTTP_RTAGENT_ACS_ENOMEM,
                                         "arena too small");
    }

    memcpy(ctx->arena + ctx->used, s, len);

    dst->data = ctx->arena + ctx->used;
    dst->len = len;
    ctx->used += len;

    return 1;
}


/*
 * 1 unless c is in the RFC 4648 alphabet; no table, so that the check
 * vectorizes.  OR-ing 0x20 maps exactly 'A'-'Z' and 'a'-'z' onto 'a'-'z'.
 */

static uint8_t
ngx_http_rtagent_acs_base64_bad(uint8_t c)
{
    return (uint8_t) !((uint8_t) ((c | 0x20) - 'a') < 26
                       || (uint8_t) (c - '0') < 10
                       || c == '+' || c == '/');
}


/*
 * EVP_DecodeBlock() alone is lax: it trims whitespace at both ends,
 * decodes '=' anywhere as zero bits, and always writes 3 bytes per 4
 * characters, so the exact length comes from the padding counted here.
 */

static int
ngx_http_rtagent_acs_base64(ngx_http_rtagent_acs_ctx_t *ctx,
    ngx_http_rtagent_acs_slot_t *slot, const unsigned char *s, size_t len)
{
    int       n;
    size_t    i, j, end, pad, skip, out;
    uint8_t   bad, *dst;

    slot->msg.has_audio = 0;
    slot->msg.audio.data = NULL;
    slot->msg.audio.len = 0;

    if (len == 0) {
        slot->msg.audio.data = (const uint8_t *) &ngx_http_rtagent_acs_no_audio;
        slot->msg.has_audio = 1;
        return 1;
    }

    if (len % 4 != 0 || len > (size_t) INT_MAX) {
        goto invalid;
    }

    pad = 0;

    if (s[len - 1] == '=') {
        pad = (s[len - 2] == '=') ? 2 : 1;
    }

    /*
     * RFC 4648 alphabet only; '=' was counted as padding above.  gcc -O2
     * vectorizes the fixed-size inner loop but not a plain loop over the
     * string: 100 ns instead of 300 ns for a 20 ms frame.
     */

    bad = 0;
    end = len - pad;

    for (i = 0; i + 16 <= end; i += 16) {
        for (j = 0; j < 16; j++) {
            bad |= ngx_http_rtagent_acs_base64_bad(s[i + j]);
        }
    }

    for ( /* void */ ; i < end; i++) {
        bad |= ngx_http_rtagent_acs_base64_bad(s[i]);
    }

    if (bad) {
        goto invalid;
    }

    out = len / 4 * 3;

    /* the consumers read int16_t samples in place */
    skip = ((uintptr_t) ctx->arena + ctx->used) & 1;

    if (skip + out > ctx->size - ctx->used) {
        return ngx_http_rtagent_acs_fail(ctx, NGX_HTTP_RTAGENT_ACS_ENOMEM,
                                         "arena too small");
    }

    dst = ctx->arena + ctx->used + skip;

    n = EVP_DecodeBlock(dst, s, (int) len);
    if (n < 0 || (size_t) n != out) {
        goto invalid;
    }

    /* the zero bytes decoded from the padding are not kept */
    slot->msg.audio.data = dst;
    slot->msg.audio.len = out - pad;
    slot->msg.has_audio = 1;
    ctx->used += skip + out - pad;

    return 1;

invalid:

    slot->rc = NGX_HTTP_RTAGENT_ACS_EBASE64;
    return 1;
}


/*
 * s is a JSON number as yajl's lexer accepted it:
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 */

static int
ngx_http_rtagent_acs_int(const char *s, size_t len, int64_t *v)
{
    int       neg, over;
    size_t    i;
    uint64_t  u, d, limit;

    neg = (len > 0 && s[0] == '-');
    i = neg ? 1 : 0;

    if (i == len) {
        return NGX_HTTP_RTAGENT_ACS_INT_NOT;
    }

    u = 0;
    over = 0;
    limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;

    for ( /* void */ ; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return NGX_HTTP_RTAGENT_ACS_INT_NOT;
        }

        d = (uint64_t) (s[i] - '0');

        if (over || u > (limit - d) / 10) {
            over = 1;
            continue;
        }

        u = u * 10 + d;
    }

    if (over) {
        return NGX_HTTP_RTAGENT_ACS_INT_RANGE;
    }

    if (neg) {
        *v = (u == (uint64_t) INT64_MAX + 1) ? INT64_MIN : -(int64_t) u;

    } else {
        *v = (int64_t) u;
    }

    return NGX_HTTP_RTAGENT_ACS_INT_OK;
}


static int
ngx_http_rtagent_acs_on_null(void *data)
{
    ngx_http_rtagent_acs_ctx_t          *ctx;
    ngx_http_rtagent_acs_str_t          *str;
    ngx_http_rtagent_acs_slot_t         *slot;
    const ngx_http_rtagent_acs_field_t  *f;

    ctx = data;

    switch (ngx_http_rtagent_acs_at(ctx)) {

    case NGX_HTTP_RTAGENT_ACS_AT_ROOT:
        return ngx_http_rtagent_acs_bad(ctx, NGX_HTTP_RTAGENT_ACS_AT_ROOT);

    case NGX_HTTP_RTAGENT_ACS_AT_KIND:
        ctx->kind_state = NGX_HTTP_RTAGENT_ACS_KIND_BAD;
        return 1;

    case NGX_HTTP_RTAGENT_ACS_AT_PAYLOAD:
        /* "AudioData": null is sent for an absent payload */
        ctx->slots[ctx->top].seen = 0;
        ctx->slots[ctx->top].rc = NGX_HTTP_RTAGENT_ACS_OK;
        return 1;

    case NGX_HTTP_RTAGENT_ACS_AT_FIELD:
        slot = ngx_http_rtagent_acs_slot(ctx);
        f = ctx->field;

        switch (f->type) {

        case NGX_HTTP_RTAGENT_ACS_F_STATUS:
            slot->msg.final = 0;
            /* fall through */

        case NGX_HTTP_RTAGENT_ACS_F_STR:
            str = ngx_http_rtagent_acs_member(&slot->msg, f);
            str->data = NULL;
            str->len = 0;
            break;

        case NGX_HTTP_RTAGENT_ACS_F_AUDIO:
            slot->msg.audio.data = NULL;
            slot->msg.audio.len = 0;
            slot->msg.has_audio = 0;
            break;

        case NGX_HTTP_RTAGENT_ACS_F_SILENT:
            slot->msg.silent = 0;
            break;

        case NGX_HTTP_RTAGENT_ACS_F_INT:
            *(int64_t *) ngx_http_rtagent_acs_member(&slot->msg, f) = -1;
            break;

        case NGX_HTTP_RTAGENT_ACS_F_DOUBLE:
            *(double *) ngx_http_rtagent_acs_member(&slot->msg, f) = -1;
            break;
        }

        return 1;

    default:
        return 1;
    }
}


static int
ngx_http_rtagent_acs_on_boolean(void *data, int v)
{
    int                          at;
    ngx_http_rtagent_acs_ctx_t  *ctx;

    ctx = data;
    at = ngx_http_rtagent_acs_at(ctx);

    if (at == NGX_HTTP_RTAGENT_ACS_AT_FIELD
        && ctx->field->type == NGX_HTTP_RTAGENT_ACS_F_SILENT)
    {
        ngx_http_rtagent_acs_slot(ctx)->msg.silent = v ? 1 : 0;
        return 1;
    }

    return ngx_http_rtagent_acs_bad(ctx, at);
}


static int
ngx_http_rtagent_acs_on_number(void *data, const char *s, size_t len)
{
    int                                  at, rc;
    char                                *scratch, *end;
    double                               d;
    int64_t                              v;
    ngx_http_rtagent_acs_ctx_t          *ctx;
    ngx_http_rtagent_acs_slot_t         *slot;
    const ngx_http_rtagent_acs_field_t  *f;

    ctx = data;
    at = ngx_http_rtagent_acs_at(ctx);

    if (at != NGX_HTTP_RTAGENT_ACS_AT_FIELD) {
        return ngx_http_rtagent_acs_bad(ctx, at);
    }

    f = ctx->field;
    slot = ngx_http_rtagent_acs_slot(ctx);

    switch (f->type) {

    case NGX_HTTP_RTAGENT_ACS_F_INT:
        rc = ngx_http_rtagent_acs_int(s, len, &v);

        if (rc == NGX_HTTP_RTAGENT_ACS_INT_NOT) {
            return ngx_http_rtagent_acs_bad(ctx, at);
        }

        if (rc == NGX_HTTP_RTAGENT_ACS_INT_RANGE || v < 0) {
            break;
        }

        *(int64_t *) ngx_http_rtagent_acs_member(&slot->msg, f) = v;
        return 1;

    case NGX_HTTP_RTAGENT_ACS_F_DOUBLE:

        /*
         * strtod() needs a NUL; the free arena always has room for a copy
         * since the number is in the input but not in the arena.  nginx
         * never calls setlocale(), so '.' is the decimal point.
         */

        if (len + 1 > ctx->size - ctx->used) {
            return ngx_http_rtagent_acs_fail(ctx,
                                             NGX_HTTP_RTAGENT_ACS_ENOMEM,
                                             "arena too small");
        }

        scratch = (char *) ctx->arena + ctx->used;
        memcpy(scratch, s, len);
        scratch[len] = '\0';

        d = strtod(scratch, &end);

        if (end != scratch + len) {
            return ngx_http_rtagent_acs_bad(ctx, at);
        }

        if (!isfinite(d) || d < 0) {
            break;
        }

        *(double *) ngx_http_rtagent_acs_member(&slot->msg, f) = d;
        return 1;

    default:
        return ngx_http_rtagent_acs_bad(ctx, at);
    }

    slot->rc = NGX_HTTP_RTAGENT_ACS_EFIELD;
    slot->err_name = f->name;
    slot->err_what = "is out of range";

    return 1;
}


static int
ngx_http_rtagent_acs_on_string(void *data, const unsigned char *s,
    size_t len)
{
    int                                  at;
    ngx_http_rtagent_acs_ctx_t          *ctx;
    ngx_http_rtagent_acs_str_t          *str;
    ngx_http_rtagent_acs_slot_t         *slot;
    const ngx_http_rtagent_acs_field_t  *f;

    ctx = data;
    at = ngx_http_rtagent_acs_at(ctx);

    if (at == NGX_HTTP_RTAGENT_ACS_AT_SKIP) {
        return 1;
    }

    if (at == NGX_HTTP_RTAGENT_ACS_AT_KIND) {
        ctx->kind_state = NGX_HTTP_RTAGENT_ACS_KIND_STRING;
        return ngx_http_rtagent_acs_copy(ctx, s, len, &ctx->kind);
    }

    if (at != NGX_HTTP_RTAGENT_ACS_AT_FIELD) {
        return ngx_http_rtagent_acs_bad(ctx, at);
    }

    f = ctx->field;
    slot = ngx_http_rtagent_acs_slot(ctx);

    switch (f->type) {

    case NGX_HTTP_RTAGENT_ACS_F_AUDIO:
        /* s may be yajl's own buffer, so decode now */
        return ngx_http_rtagent_acs_base64(ctx, slot, s, len);

    case NGX_HTTP_RTAGENT_ACS_F_STATUS:
        slot->msg.final = ngx_http_rtagent_acs_ascii_eq(s, len, "final",
                                                        sizeof("final") - 1)
                          ? 1 : 0;
        /* fall through */

    case NGX_HTTP_RTAGENT_ACS_F_STR:
        str = ngx_http_rtagent_acs_member(&slot->msg, f);
        return ngx_http_rtagent_acs_copy(ctx, s, len, str);

    default:
        return ngx_http_rtagent_acs_bad(ctx, at);
    }
}


static int
ngx_http_rtagent_acs_on_start_map(void *data)
{
    int                           at;
    ngx_http_rtagent_acs_ctx_t   *ctx;
    ngx_http_rtagent_acs_slot_t  *slot;

    ctx = data;

    if (ctx->depth == NGX_HTTP_RTAGENT_ACS_MAX_DEPTH) {
        return ngx_http_rtagent_acs_fail(ctx, NGX_HTTP_RTAGENT_ACS_EJSON,
                                         "json nested too deeply");
    }

    at = ngx_http_rtagent_acs_at(ctx);
    ctx->depth++;

    switch (at) {

    case NGX_HTTP_RTAGENT_ACS_AT_ROOT:
    case NGX_HTTP_RTAGENT_ACS_AT_SKIP:
        return 1;

    case NGX_HTTP_RTAGENT_ACS_AT_PAYLOAD:
        /* a duplicate payload key replaces the whole object */
        ctx->payload = ctx->top;
        slot = &ctx->slots[ctx->top];
        ngx_http_rtagent_acs_msg_init(&slot->msg);
        slot->seen = 1;
        slot->rc = NGX_HTTP_RTAGENT_ACS_OK;
        return 1;

    default:
        return ngx_http_rtagent_acs_bad(ctx, at);
    }
}


static int
ngx_http_rtagent_acs_on_map_key(void *data, const unsigned char *s,
    size_t len)
{
    size_t                                 i;
    ngx_http_rtagent_acs_ctx_t            *ctx;
    const ngx_http_rtagent_acs_payload_t  *p;

    ctx = data;

    if (ctx->depth == 1) {
        ctx->top = NGX_HTTP_RTAGENT_ACS_TOP_OTHER;

        if (ngx_http_rtagent_acs_ascii_eq(s, len, "kind", sizeof("kind") - 1)) {
            ctx->top = NGX_HTTP_RTAGENT_ACS_TOP_KIND;
            return 1;
        }

        for (i = 0; i < NGX_HTTP_RTAGENT_ACS_NPAYLOADS; i++) {
            p = &ngx_http_rtagent_acs_payloads[i];

            if (ngx_http_rtagent_acs_ascii_eq(s, len, p->name, p->len)) {
                ctx->top = (int) i;
                break;
            }
        }

        return 1;
    }

    if (ctx->depth == 2 && ctx->payload >= 0) {
        ctx->field = NULL;
        p = &ngx_http_rtagent_acs_payloads[ctx->payload];

        for (i = 0; i < p->nfields; i++) {
            if (ngx_http_rtagent_acs_ascii_eq(s, len, p->fields[i].name,
                                              p->fields[i].len))
            {
                ctx->field = &p->fields[i];
                break;
            }
        }
    }

    return 1;
}


static int
ngx_http_rtagent_acs_on_end_map(void *data)
{
    ngx_http_rtagent_acs_ctx_t  *ctx;

    ctx = data;
    ctx->depth--;

    if (ctx->depth == 1) {
        ctx->payload = -1;
    }

    return 1;
}


static int
ngx_http_rtagent_acs_on_start_array(void *data)
{
    int                          at;
    ngx_http_rtagent_acs_ctx_t  *ctx;

    ctx = data;

    if (ctx->depth == NGX_HTTP_RTAGENT_ACS_MAX_DEPTH) {
        return ngx_http_rtagent_acs_fail(ctx, NGX_HTTP_RTAGENT_ACS_EJSON,
                                         "json nested too deeply");
    }

    at = ngx_http_rtagent_acs_at(ctx);
    ctx->depth++;

    if (at == NGX_HTTP_RTAGENT_ACS_AT_SKIP) {
        return 1;
    }

    return ngx_http_rtagent_acs_bad(ctx, at);
}


static int
ngx_http_rtagent_acs_on_end_array(void *data)
{
    ngx_http_rtagent_acs_ctx_t  *ctx;

    ctx = data;
    ctx->depth--;

    return 1;
}
