
/*
 * Azure Communication Services credentials, pure C (OpenSSL, no nginx):
 * the connection string, the HMAC-SHA256 signature of every Call
 * Automation REST request (PROTOCOLS.md 2.1), and the per-call secret
 * token carried in callback URIs.
 */


#ifndef _NGX_HTTP_RTAGENT_ACS_SIGN_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_ACS_SIGN_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <time.h>


#define NGX_HTTP_RTAGENT_ACS_KEY_MAX      128   /* decoded access key bytes */
#define NGX_HTTP_RTAGENT_ACS_URL_MAX      512
#define NGX_HTTP_RTAGENT_ACS_DATE_LEN     29    /* "Mon, 15 Jan 2024 10:30:45 GMT" */
#define NGX_HTTP_RTAGENT_ACS_HASH_LEN     44    /* base64 of a SHA-256 */
#define NGX_HTTP_RTAGENT_ACS_TOKEN_LEN    43    /* base64url, unpadded */
/* "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=" + 44 */
#define NGX_HTTP_RTAGENT_ACS_AUTH_LEN     (71 + 44)


typedef struct {
    /* "https://host[:port]" without a trailing slash or path */
    char      endpoint[NGX_HTTP_RTAGENT_ACS_URL_MAX];
    size_t    endpoint_len;
    /* the authority: host[:port], as in the Host header */
    char      host[NGX_HTTP_RTAGENT_ACS_URL_MAX];
    size_t    host_len;
    /* the decoded access key */
    uint8_t   key[NGX_HTTP_RTAGENT_ACS_KEY_MAX];
    size_t    key_len;
} ngx_http_rtagent_acs_account_t;


/*
 * "endpoint=https://<res>.communication.azure.com/;accesskey=<base64>":
 * parts split on ';' and on the first '=', keys case-insensitive, spaces
 * around parts ignored, other keys ignored.  The endpoint must be http or
 * https with a host and no query; a path other than "/" is refused.  The
 * access key must be valid base64.  0, or -1 with the reason in err
 * (NUL-terminated, never the key itself).
 */
int ngx_http_rtagent_acs_account_parse(const char *s, size_t len,
    ngx_http_rtagent_acs_account_t *account, char *err, size_t errlen);

/* Base64(SHA-256(body)); writes HASH_LEN chars and a NUL */
void ngx_http_rtagent_acs_content_hash(const uint8_t *body, size_t len,
    char *out);

/*
 * The Authorization header value for one request:
 *   "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
 *   + Base64(HMAC-SHA256(key, VERB "\n" path_query "\n" date ";" host ";"
 *   hash)).
 * method is upper-cased; path_query is the path and query exactly as
 * sent.  Writes at most outlen bytes including a NUL; returns the length,
 * or 0 if out is too small (AUTH_LEN + 1 is always enough) or on failure.
 */
size_t ngx_http_rtagent_acs_authorization(
    const ngx_http_rtagent_acs_account_t *account, const char *method,
    const char *path_query, size_t path_query_len, const char *date,
    const char *content_hash, char *out, size_t outlen);

/*
 * The callback token of a call reference: base64url (no padding) of
 * HMAC-SHA256(secret, ref); writes TOKEN_LEN chars and a NUL.  With an
 * empty secret it writes "" (and token_check() never succeeds).
 */
void ngx_http_rtagent_acs_token(const uint8_t *secret, size_t secret_len,
    const char *ref, size_t ref_len, char *out);

/* 1 when token is ref's token, compared in constant time; else 0 */
int ngx_http_rtagent_acs_token_check(const uint8_t *secret,
    size_t secret_len, const char *ref, size_t ref_len, const char *token,
    size_t token_len);

/*
 * Gives back the HMAC implementation that the first signature fetched and
 * later ones reuse (a worker's exit_process calls it; signing after it
 * fetches again).
 */
void ngx_http_rtagent_acs_sign_cleanup(void);


#endif /* _NGX_HTTP_RTAGENT_ACS_SIGN_H_INCLUDED_ */
