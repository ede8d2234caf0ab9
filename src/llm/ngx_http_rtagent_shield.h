
/*
 * Azure AI Content Safety Prompt Shields (text:shieldPrompt, api-version
 * 2024-09-01): the request body for a caller's words and the check of the
 * answer.  Pure C (yajl), no nginx: unit-tested and fuzzed.
 *
 *   request   {"userPrompt":"<text>","documents":[]}
 *   answer    {"userPromptAnalysis":{"attackDetected":true|false},
 *              "documentsAnalysis":[{"attackDetected":...},...]}
 */


#ifndef _NGX_HTTP_RTAGENT_SHIELD_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_SHIELD_H_INCLUDED_


#include <stddef.h>

#include <yajl/yajl_gen.h>


/* an answer larger than this is refused unread */
#define NGX_HTTP_RTAGENT_SHIELD_MAX  65536

#define NGX_HTTP_RTAGENT_SHIELD_CLEAN    0
#define NGX_HTTP_RTAGENT_SHIELD_ATTACK   1
#define NGX_HTTP_RTAGENT_SHIELD_INVALID  -1


/*
 * Writes the request body's members (userPrompt, documents) into the
 * object open in g: 0, or -1 when yajl refuses (bad UTF-8, no memory).
 */
int ngx_http_rtagent_shield_request(yajl_gen g, const char *text,
    size_t len);

/*
 * The answer: CLEAN, ATTACK (the user prompt or any document), or
 * INVALID with why in err (NUL-terminated, cut to errlen): not JSON, too
 * large, no userPromptAnalysis.attackDetected boolean.
 */
int ngx_http_rtagent_shield_parse(const char *p, size_t len, char *err,
    size_t errlen);


#endif /* _NGX_HTTP_RTAGENT_SHIELD_H_INCLUDED_ */
