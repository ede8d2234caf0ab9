
/*
 * JWT checks for what Call Automation sends (PROTOCOLS.md 2.3): RS256
 * tokens in "Authorization: Bearer" on callbacks and on the media
 * WebSocket, verified against a JWKS document.  Pure C (OpenSSL 3, yajl),
 * no nginx.
 */


#ifndef _NGX_HTTP_RTAGENT_ACS_JWT_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_ACS_JWT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* a JWT longer than this is refused without decoding */
#define NGX_HTTP_RTAGENT_JWT_MAX   16384


typedef struct ngx_http_rtagent_jwks_s  ngx_http_rtagent_jwks_t;


/*
 * issuer and audience are required: a NULL or empty one fails every token
 * with "not configured", since all ACS resources share the signing keys
 * and only "aud" tells their tokens apart.
 */
typedef struct {
    const char  *issuer;       /* NUL-terminated; must equal "iss" */
    const char  *audience;     /* NUL-terminated; "aud" or one of its items */
    int64_t      now;          /* seconds since the epoch */
    int64_t      leeway;       /* seconds allowed on exp and nbf */
} ngx_http_rtagent_jwt_check_t;


/*
 * Parses a JWKS document ({"keys":[...]}): every RSA key ("kty":"RSA",
 * "n", "e"; "use" absent or "sig"; "alg" absent or "RS256") is kept with
 * its "kid"; other keys are skipped.  NULL with the reason in err when the
 * document is malformed or holds no usable key.
 *
 * Bounds: a document of at most 1 MB, nested at most 16 deep, without
 * comments or "\u0000"; RSA moduli of 2048 to 8192 bits, public exponents
 * of at most 64 bits; a "kid" of at most 256 bytes; at most 64 usable
 * keys (more fail the whole document rather than drop a key silently).
 * An RSA key that breaks a bound is skipped, and the first such reason is
 * reported if no key is left.  Duplicate members make a key unusable.
 */
ngx_http_rtagent_jwks_t *ngx_http_rtagent_jwks_parse(const char *json,
    size_t len, char *err, size_t errlen);

size_t ngx_http_rtagent_jwks_count(const ngx_http_rtagent_jwks_t *jwks);

void ngx_http_rtagent_jwks_free(ngx_http_rtagent_jwks_t *jwks);

/*
 * Verifies a compact JWS (header.payload.signature, base64url): header
 * "alg" must be "RS256"; a "kid" picks the key (unknown kid: refused),
 * without one every key is tried; then "exp" (required) and "nbf" (if
 * present) against now +- leeway, "iss", and "aud" (a string or an array
 * of strings).  0 when valid; -1 with a short reason in err ("malformed
 * token", "unsupported alg", "unknown key id", "bad signature", "expired",
 * "not yet valid", "wrong issuer", "wrong audience", ...).
 *
 * Strict: base64url without padding and with zero unused bits; a header
 * with "crit" is refused; a duplicate "alg", "kid", "exp", "nbf", "iss"
 * or "aud" makes the token malformed.  exp and nbf may have fractions,
 * rounded against the token; valid while exp + leeway > now >= nbf -
 * leeway.  The payload is parsed only once the signature is verified.
 * The OpenSSL error queue is left as it was found.
 */
int ngx_http_rtagent_jwt_verify(const ngx_http_rtagent_jwks_t *jwks,
    const char *token, size_t len, const ngx_http_rtagent_jwt_check_t *check,
    char *err, size_t errlen);


#endif /* _NGX_HTTP_RTAGENT_ACS_JWT_H_INCLUDED_ */
