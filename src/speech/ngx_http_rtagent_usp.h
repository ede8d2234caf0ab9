
/*
 * The messages of Azure Speech recognition over WebSocket ("USP",
 * PROTOCOLS.md 8): text messages (headers, a blank line, a JSON body),
 * binary audio messages (a big-endian 16-bit header length, the headers,
 * the audio), and the JSON of speech.hypothesis / speech.phrase.  Pure C,
 * no nginx: the codec of the "azure" STT provider's WebSocket client.
 */


#ifndef _NGX_HTTP_RTAGENT_USP_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_USP_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define NGX_HTTP_RTAGENT_USP_ID_LEN     32     /* a UUID, no dashes */
#define NGX_HTTP_RTAGENT_USP_TIME_LEN   24     /* 2025-05-08T11:15:26.123Z */
#define NGX_HTTP_RTAGENT_USP_ERR        128

/* the service refuses larger headers (BingDoc) */
#define NGX_HTTP_RTAGENT_USP_HEADER_MAX 8192


/* X-Timestamp of ms since the epoch, UTC; writes TIME_LEN bytes */
void ngx_http_rtagent_usp_timestamp(char *dst, int64_t ms);

/* an X-RequestId / X-ConnectionId from 128 random bits: 32 upper hex */
void ngx_http_rtagent_usp_id(char *dst, const uint32_t random[4]);

/*
 * A text message into dst (NULL: only counted): Path, X-RequestId (when
 * not NULL), X-Timestamp, Content-Type, a blank line, the body.  Returns
 * its length.
 */
size_t ngx_http_rtagent_usp_text(unsigned char *dst, const char *path,
    const char *request_id, const char *timestamp, const char *type,
    const unsigned char *body, size_t len);

/*
 * The head of a binary audio message, into dst (NULL: only counted): the
 * header length and Path: audio, X-RequestId, X-Timestamp, and on the
 * turn's first message Content-Type: audio/x-wav.  The audio follows it;
 * an empty one ends the turn's audio.
 */
size_t ngx_http_rtagent_usp_audio_head(unsigned char *dst,
    const char *request_id, const char *timestamp, int first);


/* a message from the service: pointers into its bytes */
typedef struct {
    const unsigned char   *path;
    size_t                 path_len;
    const unsigned char   *request_id;
    size_t                 request_id_len;
    const unsigned char   *type;
    size_t                 type_len;
    const unsigned char   *body;
    size_t                 body_len;
} ngx_http_rtagent_usp_msg_t;


/*
 * Splits a text message (headers up to the first CRLF CRLF) or a binary
 * one (the 16-bit length first).  Header names are matched without case;
 * a Path is required.  0, or -1 with err (at most errlen bytes).
 */
int ngx_http_rtagent_usp_parse_text(const unsigned char *p, size_t len,
    ngx_http_rtagent_usp_msg_t *msg, char *err, size_t errlen);
int ngx_http_rtagent_usp_parse_binary(const unsigned char *p, size_t len,
    ngx_http_rtagent_usp_msg_t *msg, char *err, size_t errlen);

/* 1 when the message's Path is name (without case) */
int ngx_http_rtagent_usp_is(const ngx_http_rtagent_usp_msg_t *msg,
    const char *name);


typedef enum {
    NGX_HTTP_RTAGENT_USP_SUCCESS = 0,
    NGX_HTTP_RTAGENT_USP_NOMATCH,
    NGX_HTTP_RTAGENT_USP_INITIAL_SILENCE,
    NGX_HTTP_RTAGENT_USP_BABBLE,
    NGX_HTTP_RTAGENT_USP_ERROR,
    NGX_HTTP_RTAGENT_USP_END_OF_DICTATION,
    NGX_HTTP_RTAGENT_USP_OTHER          /* a status this codec does not know */
} ngx_http_rtagent_usp_status_e;


typedef struct {
    ngx_http_rtagent_usp_status_e   status;    /* SUCCESS for hypotheses */
    char                           *text;      /* into the caller's buffer */
    size_t                          text_len;
    double                          confidence; /* -1 when not given */
    int64_t                         offset;     /* 100 ns ticks */
    int64_t                         duration;
} ngx_http_rtagent_usp_result_t;


/*
 * The JSON body of speech.hypothesis / speech.fragment ("Text") or
 * speech.phrase (simple: "DisplayText"; detailed: NBest[0].Display and
 * .Confidence), Offset and Duration as numbers or strings.  The text is
 * copied into buf (size bytes, cut there, NUL-terminated).  0, or -1 with
 * err; a phrase without Success has no text and returns 0.
 */
int ngx_http_rtagent_usp_result(const unsigned char *body, size_t len,
    int phrase, ngx_http_rtagent_usp_result_t *res, char *buf, size_t size,
    char *err, size_t errlen);


#endif /* _NGX_HTTP_RTAGENT_USP_H_INCLUDED_ */
