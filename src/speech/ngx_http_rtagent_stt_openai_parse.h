
/*
 * The response of OpenAI /audio/transcriptions (PROTOCOLS.md 10), fed as
 * it arrives: with stream=true Server-Sent Events, "data: {json}" events
 * of type transcript.text.delta (a piece of the text) and
 * transcript.text.done (the whole text); else one JSON object {"text":
 * ...}.  Error bodies ({"error":{"message":...}}) give their message.
 * Pure C, no nginx; the caller gives the buffer that holds an event (or
 * the JSON body) until it is complete.
 */


#ifndef _NGX_HTTP_RTAGENT_STT_OPENAI_PARSE_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_STT_OPENAI_PARSE_H_INCLUDED_


#include <stddef.h>


#define NGX_HTTP_RTAGENT_TRANSCRIPT_ERR  128


typedef void (*ngx_http_rtagent_transcript_text_pt)(void *data,
    const char *text, size_t len);


typedef struct {
    /* the caller's, set before the first feed */
    char                                *buf;
    size_t                               size;
    void                                *data;
    ngx_http_rtagent_transcript_text_pt  on_delta;    /* may be NULL */
    ngx_http_rtagent_transcript_text_pt  on_final;
    unsigned                             sse:1;

    /* the parser's */
    size_t                               len;         /* in buf */
    unsigned                             field:3;     /* of the line */
    unsigned                             matched:3;   /* of "data" */
    unsigned                             cr:1;        /* a CR ended it */
    unsigned                             done:1;
    unsigned                             failed:1;
    char                                 err[NGX_HTTP_RTAGENT_TRANSCRIPT_ERR];
} ngx_http_rtagent_transcript_t;


/*
 * A piece of the body.  0, or -1 when the response is bad (err says why:
 * "event over N bytes", "error event: <message>", "malformed JSON: ...",
 * "no text in ..."), and then every later call returns -1 too.  on_final
 * runs once, from feed() (the done event) or from end().
 */
int ngx_http_rtagent_transcript_feed(ngx_http_rtagent_transcript_t *t,
    const char *p, size_t len);

/* the body ended: 0 when the final text came, else -1 (err says why) */
int ngx_http_rtagent_transcript_end(ngx_http_rtagent_transcript_t *t);

/*
 * The message of an OpenAI error body (len bytes at p), into err (at most
 * errlen bytes, NUL-terminated, control characters as '?'); 0, or -1 when
 * the body is no such object: ngx_http_rtagent_json_error_message().
 */
int ngx_http_rtagent_transcript_error(const char *p, size_t len, char *err,
    size_t errlen);


#endif /* _NGX_HTTP_RTAGENT_STT_OPENAI_PARSE_H_INCLUDED_ */
