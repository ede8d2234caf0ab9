
/*
 * Codec for the Azure Communication Services media WebSocket: parses one
 * inbound JSON text message (AudioMetadata, AudioData, DtmfData,
 * TranscriptionMetadata, TranscriptionData) and builds the outbound
 * AudioData and StopAudio messages.
 *
 * Pure C: no nginx headers, no global state.  The parser uses yajl's
 * callback API (it allocates its handle with malloc and frees it before
 * returning) and OpenSSL's base64 block functions.
 */


#ifndef _NGX_HTTP_RTAGENT_ACS_MSG_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_ACS_MSG_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* containers nested deeper than this (the top object counts) are EJSON */
#define NGX_HTTP_RTAGENT_ACS_MAX_DEPTH  32

/* an err buffer of this size never truncates a reason (<= 100 chars) */
#define NGX_HTTP_RTAGENT_ACS_ERR_SIZE   101


typedef struct {
    const uint8_t  *data;
    size_t          len;
} ngx_http_rtagent_acs_str_t;        /* points into the caller's arena */


typedef enum {
    NGX_HTTP_RTAGENT_ACS_UNKNOWN = 0,          /* a kind we do not handle */
    NGX_HTTP_RTAGENT_ACS_AUDIO_METADATA,
    NGX_HTTP_RTAGENT_ACS_AUDIO_DATA,
    NGX_HTTP_RTAGENT_ACS_DTMF_DATA,
    NGX_HTTP_RTAGENT_ACS_TRANSCRIPTION_METADATA,
    NGX_HTTP_RTAGENT_ACS_TRANSCRIPTION_DATA
} ngx_http_rtagent_acs_kind_e;


typedef enum {
    NGX_HTTP_RTAGENT_ACS_OK = 0,
    NGX_HTTP_RTAGENT_ACS_EJSON,    /* not JSON, not an object, truncated,
                                      trailing garbage, too deep */
    NGX_HTTP_RTAGENT_ACS_ENOKIND,  /* no "kind" string */
    NGX_HTTP_RTAGENT_ACS_EFIELD,   /* a known field has the wrong JSON type
                                      or is out of range */
    NGX_HTTP_RTAGENT_ACS_EBASE64,  /* audio "data" is not valid base64 */
    NGX_HTTP_RTAGENT_ACS_ENOMEM    /* arena too small (cannot happen if
                                      arena_size >= len), or malloc failed */
} ngx_http_rtagent_acs_rc_e;


/*
 * A string field that was absent (or null) has data NULL and len 0; one
 * that was present has data non-NULL, even when empty.
 */

typedef struct {
    ngx_http_rtagent_acs_kind_e  kind;
    ngx_http_rtagent_acs_str_t   kind_name;      /* as sent, for logs */

    /* AudioMetadata */
    ngx_http_rtagent_acs_str_t   subscription_id;
    ngx_http_rtagent_acs_str_t   encoding;
    int64_t                      sample_rate;    /* -1 when absent */
    int64_t                      channels;       /* -1 when absent */
    int64_t                      length;         /* bytes per frame,
                                                    -1 when absent */

    /* AudioData */
    ngx_http_rtagent_acs_str_t   timestamp;
    ngx_http_rtagent_acs_str_t   participant;    /* participantRawID;
                                                    len 0 when absent */
    ngx_http_rtagent_acs_str_t   audio;          /* decoded PCM bytes,
                                                    2-byte aligned;
                                                    has_audio */
    unsigned                     has_audio:1;
    unsigned                     silent:1;

    /* DtmfData: the tone(s) */
    ngx_http_rtagent_acs_str_t   dtmf;

    /* TranscriptionMetadata / TranscriptionData */
    ngx_http_rtagent_acs_str_t   locale;
    ngx_http_rtagent_acs_str_t   call_connection_id;
    ngx_http_rtagent_acs_str_t   correlation_id;
    ngx_http_rtagent_acs_str_t   text;
    ngx_http_rtagent_acs_str_t   format;         /* "display" as sent */
    ngx_http_rtagent_acs_str_t   result_status;  /* "Final" / "Intermediate"
                                                    as sent */
    double                       confidence;     /* -1 when absent */
    int64_t                      offset;         /* 100 ns ticks,
                                                    -1 when absent */
    int64_t                      duration;       /* 100 ns ticks,
                                                    -1 when absent */
    unsigned                     final:1;        /* resultStatus equals
                                                    "final", any case */
} ngx_http_rtagent_acs_msg_t;


/*
 * Parses one ACS media message.  Every string and the decoded audio are
 * copied into arena (strings may come from yajl's transient buffer when
 * they had escapes); arena_size >= len always suffices.  On error, err
 * gets a short lowercase reason fit for a log line and a WebSocket close
 * reason (<= 100 bytes, e.g. "malformed json at byte 17: invalid char in
 * json text", where byte 17 is the 1-based position where yajl stopped,
 * "audio data is not valid base64", "\"sampleRate\" is not an integer");
 * on success err gets "".  err may be NULL when err_size is 0.  Strings
 * are valid UTF-8 as far as yajl checks: it does not reject overlong
 * forms, encoded surrogates or code points above U+10FFFF.
 *
 * Keys and the kind value match case-insensitively, keys may come in any
 * order, and only the payload object that the kind selects is reported
 * (or checked: a bad field in another payload object is ignored).  A
 * duplicate key replaces the earlier value, but a bad value is an error
 * even when a good duplicate follows it.  A null payload object or field
 * counts as absent.  sampleRate, channels, length, offset and duration
 * must be integers from 0 to INT64_MAX; confidence a number >= 0.
 *
 * On error msg holds the defaults (kind UNKNOWN, strings absent, numbers
 * -1), except that EFIELD and EBASE64 set kind and kind_name: those
 * errors are only reported for the payload that the kind selects.
 */
ngx_http_rtagent_acs_rc_e ngx_http_rtagent_acs_msg_parse(const uint8_t *in,
    size_t len, uint8_t *arena, size_t arena_size,
    ngx_http_rtagent_acs_msg_t *msg, char *err, size_t err_size);

/*
 * bytes needed for an outbound AudioData message carrying pcm_len bytes,
 * or 0 when that would not fit in a size_t (pcm_len > SIZE_MAX / 2)
 */
size_t ngx_http_rtagent_acs_audio_msg_size(size_t pcm_len);

/*
 * writes {"kind":"AudioData","audioData":{"data":"<base64>"}} into out,
 * which must hold ngx_http_rtagent_acs_audio_msg_size(pcm_len) bytes (no
 * NUL is written after them); returns that length
 */
size_t ngx_http_rtagent_acs_audio_msg(uint8_t *out, const uint8_t *pcm,
    size_t pcm_len);

/* the StopAudio message: {"kind":"StopAudio","stopAudio":{}} */
extern const ngx_http_rtagent_acs_str_t  ngx_http_rtagent_acs_stop_audio;


#endif /* _NGX_HTTP_RTAGENT_ACS_MSG_H_INCLUDED_ */
