
/*
 * Call Automation REST bodies (PROTOCOLS.md 1.5, 1.6) and what comes back:
 * pure C on yajl's generator and tree API, no nginx.  Every builder
 * returns a malloc'ed, NUL-terminated JSON document (free() it) and sets
 * *len, or NULL on a missing required argument or out of memory.
 * Optional string arguments may be NULL (omitted from the body); an empty
 * required one counts as missing.  Strings must be UTF-8 (yajl validates
 * them; a body with a broken string is refused).
 */


#ifndef _NGX_HTTP_RTAGENT_ACS_BODY_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_ACS_BODY_H_INCLUDED_


#include <stddef.h>


/* mediaStreamingOptions: websocket, audio, mixed, startMediaStreaming,
 * enableBidirectional, with this transport URL and audio format */
typedef struct {
    const char  *transport_url;          /* required: "wss://..." */
    const char  *audio_format;           /* "pcm16KMono" | "pcm24KMono" */
    int          enable_dtmf;            /* enableDtmfTones */
} ngx_http_rtagent_acs_media_opts_t;


/*
 * A target as users write it, as a CommunicationIdentifierModel request
 * object (exactly one sub-object): "+<E.164>" or "4:+<E.164>" is a phone
 * number, "8:..." a communication user, "28:..." a Teams app; anything
 * else is refused (NULL from the builders that take one).  A phone number
 * is "+" and 7 to 15 digits; after "8:" or "28:" comes at least one
 * printable ASCII character, no spaces.  The object also carries "rawId":
 * {"rawId":"4:+1555...","phoneNumber":{"value":"+1555..."}},
 * {"rawId":"8:acs:...","communicationUser":{"id":"8:acs:..."}},
 * {"rawId":"28:x","microsoftTeamsApp":{"appId":"x"}}.  1 or 0.
 */
int ngx_http_rtagent_acs_target_valid(const char *target);

/* AnswerCallRequest */
char *ngx_http_rtagent_acs_body_answer(const char *incoming_call_context,
    const char *callback_uri, const char *operation_context,
    const ngx_http_rtagent_acs_media_opts_t *media, size_t *len);

/* CreateCallRequest: one target; source_caller_id ("+E.164", or "4:+...")
 * is required by ACS when the target is a phone number, so it is refused
 * without one; sent as sourceCallerIdNumber {value} without "4:" */
char *ngx_http_rtagent_acs_body_create(const char *target,
    const char *source_caller_id, const char *source_display_name,
    const char *callback_uri, const char *operation_context,
    const ngx_http_rtagent_acs_media_opts_t *media, size_t *len);

/* TransferToParticipantRequest {targetParticipant, operationContext,
 * operationCallbackUri} */
char *ngx_http_rtagent_acs_body_transfer(const char *target,
    const char *operation_context, const char *operation_callback_uri,
    size_t *len);

/* StartCallRecordingRequest: callLocator {kind serverCallLocator,
 * serverCallId}, recordingStateCallbackUri, recordingContentType audio,
 * recordingChannelType mixed, recordingFormatType wav */
char *ngx_http_rtagent_acs_body_recording(const char *server_call_id,
    const char *state_callback_uri, size_t *len);

/* SendDtmfTonesRequest: tones from a string of 0-9 A-D # * (mapped to
 * zero..nine, a..d, pound, asterisk; a-d too; 1 to 64 of them; anything
 * else refused), the target */
char *ngx_http_rtagent_acs_body_send_dtmf(const char *tones,
    const char *target, const char *operation_context, size_t *len);

/* ContinuousDtmfRecognitionRequest {targetParticipant, operationContext} */
char *ngx_http_rtagent_acs_body_dtmf_recognition(const char *target,
    const char *operation_context, size_t *len);


/* responses; strings are copied into the caller's buffers (NUL-terminated,
 * truncated to the buffer, never inside a UTF-8 sequence; a NULL buffer or
 * size 0 is skipped); on -1 the buffers hold "" */

/* {"error":{"code","message"}}: 0 when it is one, else -1 */
int ngx_http_rtagent_acs_parse_error(const char *body, size_t len,
    char *code, size_t code_len, char *message, size_t message_len);

/* CallConnectionProperties: callConnectionId (required) and serverCallId
 * (may be empty); 0 or -1 */
int ngx_http_rtagent_acs_parse_call(const char *body, size_t len,
    char *call_connection_id, size_t id_len, char *server_call_id,
    size_t server_len);

/* RecordingStateResponse: recordingId (required), recordingState; 0/-1 */
int ngx_http_rtagent_acs_parse_recording(const char *body, size_t len,
    char *recording_id, size_t id_len, char *state, size_t state_len);


#endif /* _NGX_HTTP_RTAGENT_ACS_BODY_H_INCLUDED_ */
