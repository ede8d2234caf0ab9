
/*
 * Safety on caller text (issue 10 item 10), pure C, no nginx, no
 * allocation:
 *
 *   - a prompt-injection screen, run on every caller turn before any
 *     engine (local or LLM) sees it: local rules over the lower-cased
 *     words ("ignore all previous instructions", "you are now ...",
 *     role-play, system-prompt and instruction requests, developer mode);
 *   - PII redaction for what is stored (transcripts) and logged: card
 *     numbers, US social security numbers and dates of birth, written as
 *     numerals or spoken as words.
 */


#ifndef _NGX_HTTP_RTAGENT_SAFETY_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_SAFETY_H_INCLUDED_


#include <stddef.h>


/*
 * The screen: 1 when text (len bytes) looks like an attempt to steer the
 * agent, with *rule the name of the first rule that matched (a static
 * string: "ignore_instructions", "you_are_now", "role_play",
 * "system_prompt", "reveal_instructions", "developer_mode",
 * "new_instructions", "disable_safety"); 0 when it is clean (*rule NULL).
 */
int ngx_http_rtagent_safety_screen(const unsigned char *text, size_t len,
    const char **rule);


/*
 * Redaction: text (len bytes) with PII replaced by a label, written into
 * out (at most outlen - 1 bytes and a NUL; outlen 0 writes nothing):
 *
 *   "[card]"  13 to 19 digits that pass the Luhn check, in groups split
 *             by spaces, dashes or commas, numerals or digit words
 *             ("four two four two ...", "double four");
 *   "[ssn]"   3-2-4 digits ("123-45-6789", "123 45 6789"), or 9 digits in
 *             any form after "social security" or "ssn";
 *   "[dob]"   the date after "born on/in", "date of birth", "birthday",
 *             "dob" (month names, ordinals, numbers, numeric dates).
 *
 * Other text is copied as it is.  Returns the length of the whole
 * redacted text (as snprintf does: out holds all of it when the return is
 * below outlen); *count, when not NULL, the number of labels.
 */
size_t ngx_http_rtagent_safety_redact(const unsigned char *text, size_t len,
    unsigned char *out, size_t outlen, unsigned *count);


#endif /* _NGX_HTTP_RTAGENT_SAFETY_H_INCLUDED_ */
