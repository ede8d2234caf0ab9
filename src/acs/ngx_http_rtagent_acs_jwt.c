
/*
 * RS256 JWT verification against a JWKS document, for the tokens Call
 * Automation puts on callbacks and on the media WebSocket (PROTOCOLS.md
 * 2.3).
 *
 * Both kinds of JSON go through ngx_http_rtagent_json_parse(), which
 * bounds the nesting and refuses NUL bytes and comments; "\u0000" is
 * refused too: the tree keeps strings NUL-terminated without their
 * length, and no compared string may be cut short.
 *
 * Nothing of the payload is parsed before its signature is verified.
 */


#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <yajl/yajl_tree.h>

#include "ngx_http_rtagent_acs_jwt.h"
#include "ngx_http_rtagent_acs_text.h"
#include <json/ngx_http_rtagent_json.h>


#define NGX_HTTP_RTAGENT_JWKS_KEYS_MAX   64
/* the Call Automation set is a few kilobytes */
#define NGX_HTTP_RTAGENT_JWKS_DOC_MAX    (1024 * 1024)
#define NGX_HTTP_RTAGENT_JWK_KID_MAX     256
/* the fuzzer's build lowers it, to sign with a small and fast test key */
#ifndef NGX_HTTP_RTAGENT_JWK_BITS_MIN
#define NGX_HTTP_RTAGENT_JWK_BITS_MIN    2048
#endif
#define NGX_HTTP_RTAGENT_JWK_BITS_MAX    8192
/* bytes of the public exponent, which is 65537 in practice */
#define NGX_HTTP_RTAGENT_JWK_E_MAX       8
#define NGX_HTTP_RTAGENT_JWT_DEPTH_MAX   16
/* base64url characters per EVP_DecodeBlock() call, a multiple of 4 */
#define NGX_HTTP_RTAGENT_JWT_B64_CHUNK   256

#define NGX_HTTP_RTAGENT_JWT_MALFORMED   "malformed token"

/* the reasons of ngx_http_rtagent_json_parse() fit */
#define NGX_HTTP_RTAGENT_JWT_REASON      64


typedef struct {
    char      *kid;      /* NULL if the key has none */
    EVP_PKEY  *pkey;
} ngx_http_rtagent_jwk_t;


struct ngx_http_rtagent_jwks_s {
    size_t                   nkeys;
    ngx_http_rtagent_jwk_t   keys[NGX_HTTP_RTAGENT_JWKS_KEYS_MAX];
};


static yajl_val ngx_http_rtagent_jwt_json(const char *s, size_t len,
    char *reason, size_t size);
static int ngx_http_rtagent_jwt_get(yajl_val obj, const char *name,
    yajl_val *v);
static int ngx_http_rtagent_jwt_is(yajl_val obj, const char *name,
    const char *value);
static int ngx_http_rtagent_jwt_b64url_char(uint8_t c);
static int ngx_http_rtagent_jwt_b64url(const char *s, size_t len,
    uint8_t **out, size_t *out_len);
static int ngx_http_rtagent_jwk_add(ngx_http_rtagent_jwks_t *jwks,
    yajl_val k, const char **reason);
static EVP_PKEY *ngx_http_rtagent_jwk_rsa(const char *n64, const char *e64,
    const char **reason);
static int ngx_http_rtagent_jwt_rs256(EVP_PKEY *pkey, const char *input,
    size_t len, const uint8_t *sig, size_t sig_len);
static const char *ngx_http_rtagent_jwt_claims(yajl_val p,
    const ngx_http_rtagent_jwt_check_t *check);
static int ngx_http_rtagent_jwt_time(yajl_val v, int round_up, int64_t *t);
static int64_t ngx_http_rtagent_jwt_add(int64_t a, int64_t b);


ngx_http_rtagent_jwks_t *
ngx_http_rtagent_jwks_parse(const char *json, size_t len, char *err,
    size_t errlen)
{
    int                       rc;
    char                      why[NGX_HTTP_RTAGENT_JWT_REASON];
    size_t                    i;
    yajl_val                  root, keys;
    const char               *reason, *skipped;
    ngx_http_rtagent_jwks_t  *jwks;

    ngx_http_rtagent_acs_errf(err, errlen, "%s", "");

    if (json == NULL || len > NGX_HTTP_RTAGENT_JWKS_DOC_MAX) {
        ngx_http_rtagent_acs_errf(err, errlen, "jwks too large");
        return NULL;
    }

    root = ngx_http_rtagent_jwt_json(json, len, why, sizeof(why));
    if (root == NULL) {
        /* "malformed JSON: comment" is "malformed jwks: comment" here */
        reason = why;

        if (strncmp(why, NGX_HTTP_RTAGENT_JSON_MALFORMED,
                    NGX_HTTP_RTAGENT_JSON_MALFORMED_LEN)
            == 0)
        {
            reason += NGX_HTTP_RTAGENT_JSON_MALFORMED_LEN;
        }

        ngx_http_rtagent_acs_errf(err, errlen, "malformed jwks: %s", reason);
        return NULL;
    }

    jwks = NULL;

    if (!YAJL_IS_OBJECT(root)
        || ngx_http_rtagent_jwt_get(root, "keys", &keys) != 0
        || keys == NULL || !YAJL_IS_ARRAY(keys))
    {
        ngx_http_rtagent_acs_errf(err, errlen,
                                  "malformed jwks: no \"keys\" array");
        goto failed;
    }

    jwks = calloc(1, sizeof(ngx_http_rtagent_jwks_t));
    if (jwks == NULL) {
        ngx_http_rtagent_acs_errf(err, errlen, "out of memory");
        goto failed;
    }

    /* OpenSSL's errors for refused keys are ours to drop */
    ERR_set_mark();

    skipped = NULL;

    for (i = 0; i < keys->u.array.len; i++) {
        if (!YAJL_IS_OBJECT(keys->u.array.values[i])) {
            ERR_pop_to_mark();
            ngx_http_rtagent_acs_errf(err, errlen,
                                      "malformed jwks: key %zu is not an "
                                      "object", i);
            goto failed;
        }

        reason = NULL;
        rc = ngx_http_rtagent_jwk_add(jwks, keys->u.array.values[i],
                                      &reason);

        if (rc < 0) {
            ERR_pop_to_mark();
            ngx_http_rtagent_acs_errf(err, errlen, "%s", reason);
            goto failed;
        }

        /* the first reason is reported if no key is usable at all */
        if (rc == 0 && reason != NULL && skipped == NULL) {
            skipped = reason;
        }
    }

    ERR_pop_to_mark();

    if (jwks->nkeys == 0) {
        ngx_http_rtagent_acs_errf(err, errlen, "no usable RSA key%s%s",
                                  skipped ? ": " : "", skipped ? skipped : "");
        goto failed;
    }

    yajl_tree_free(root);

    return jwks;

failed:

    ngx_http_rtagent_jwks_free(jwks);
    yajl_tree_free(root);

    return NULL;
}


size_t
ngx_http_rtagent_jwks_count(const ngx_http_rtagent_jwks_t *jwks)
{
    return jwks ? jwks->nkeys : 0;
}


void
ngx_http_rtagent_jwks_free(ngx_http_rtagent_jwks_t *jwks)
{
    size_t  i;

    if (jwks == NULL) {
        return;
    }

    for (i = 0; i < jwks->nkeys; i++) {
        free(jwks->keys[i].kid);
        EVP_PKEY_free(jwks->keys[i].pkey);
    }

    free(jwks);
}


int
ngx_http_rtagent_jwt_verify(const ngx_http_rtagent_jwks_t *jwks,
    const char *token, size_t len, const ngx_http_rtagent_jwt_check_t *check,
    char *err, size_t errlen)
{
    int          rc;
    size_t       i, tried, hdr_len, pay_len, sig_len;
    uint8_t     *hdr, *pay, *sig;
    yajl_val     h, p, alg, kid, crit;
    const char  *dot1, *dot2, *end, *reason;

    ngx_http_rtagent_acs_errf(err, errlen, "%s", "");

    /*
     * every token of every ACS resource is signed with the same keys and
     * differs only in "aud": without an audience any of them would pass
     */

    if (jwks == NULL || check == NULL
        || check->issuer == NULL || check->issuer[0] == '\0'
        || check->audience == NULL || check->audience[0] == '\0')
    {
        ngx_http_rtagent_acs_errf(err, errlen, "not configured");
        return -1;
    }

    if (len > NGX_HTTP_RTAGENT_JWT_MAX) {
        ngx_http_rtagent_acs_errf(err, errlen, "token too long");
        return -1;
    }

    if (token == NULL || len == 0) {
        ngx_http_rtagent_acs_errf(err, errlen, NGX_HTTP_RTAGENT_JWT_MALFORMED);
        return -1;
    }

    /* exactly three parts: a JWE has five, and is not accepted */

    end = token + len;

    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', (size_t) (end - dot1 - 1)) : NULL;

    if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t) (end - dot2 - 1))) {
        ngx_http_rtagent_acs_errf(err, errlen, NGX_HTTP_RTAGENT_JWT_MALFORMED);
        return -1;
    }

    hdr = NULL;
    pay = NULL;
    sig = NULL;
    h = NULL;
    p = NULL;
    reason = NGX_HTTP_RTAGENT_JWT_MALFORMED;

    ERR_set_mark();

    /* the payload is decoded now only to refuse bad base64url early */

    if (ngx_http_rtagent_jwt_b64url(token, (size_t) (dot1 - token),
                                    &hdr, &hdr_len)
        != 0
        || ngx_http_rtagent_jwt_b64url(dot1 + 1, (size_t) (dot2 - dot1 - 1),
                                       &pay, &pay_len)
           != 0
        || ngx_http_rtagent_jwt_b64url(dot2 + 1, (size_t) (end - dot2 - 1),
                                       &sig, &sig_len)
           != 0)
    {
        goto done;
    }

    /* why the JSON is bad is not passed on: "malformed token" it is */

    h = ngx_http_rtagent_jwt_json((const char *) hdr, hdr_len, NULL, 0);

    if (h == NULL || !YAJL_IS_OBJECT(h)) {
        goto done;
    }

    if (ngx_http_rtagent_jwt_get(h, "alg", &alg) != 0
        || ngx_http_rtagent_jwt_get(h, "kid", &kid) != 0
        || ngx_http_rtagent_jwt_get(h, "crit", &crit) != 0
        || (kid != NULL && !YAJL_IS_STRING(kid)))
    {
        goto done;
    }

    /* the one algorithm: not "none", not HS256 with the public key */
    if (alg == NULL || !YAJL_IS_STRING(alg)
        || strcmp(alg->u.string, "RS256") != 0)
    {
        reason = "unsupported alg";
        goto done;
    }

    /* extensions that must be understood (RFC 7515 4.1.11): none are */
    if (crit != NULL) {
        reason = "unsupported header";
        goto done;
    }

    tried = 0;
    rc = 0;

    for (i = 0; i < jwks->nkeys; i++) {
        if (kid != NULL
            && (jwks->keys[i].kid == NULL
                || strcmp(jwks->keys[i].kid, kid->u.string) != 0))
        {
            continue;
        }

        tried++;

        rc = ngx_http_rtagent_jwt_rs256(jwks->keys[i].pkey, token,
                                        (size_t) (dot2 - token), sig,
                                        sig_len);
        if (rc != 0) {
            break;
        }
    }

    if (tried == 0) {
        reason = "unknown key id";
        goto done;
    }

    if (rc < 0) {
        reason = "internal error";
        goto done;
    }

    if (rc == 0) {
        reason = "bad signature";
        goto done;
    }

    p = ngx_http_rtagent_jwt_json((const char *) pay, pay_len, NULL, 0);

    if (p == NULL || !YAJL_IS_OBJECT(p)) {
        goto done;
    }

    /* NULL when the token is valid */
    reason = ngx_http_rtagent_jwt_claims(p, check);

done:

    yajl_tree_free(h);
    yajl_tree_free(p);
    free(hdr);
    free(pay);
    free(sig);
    ERR_pop_to_mark();

    if (reason != NULL) {
        ngx_http_rtagent_acs_errf(err, errlen, "%s", reason);
        return -1;
    }

    return 0;
}




/*
 * The tree of len bytes of JSON, or NULL with why in reason (may be NULL):
 * yajl's message quotes the input, so it is not passed on.
 */

static yajl_val
ngx_http_rtagent_jwt_json(const char *s, size_t len, char *reason,
    size_t size)
{
    return ngx_http_rtagent_json_parse(s, len,
                                          NGX_HTTP_RTAGENT_JWT_DEPTH_MAX,
                                          NGX_HTTP_RTAGENT_JSON_NO_U0000
                                          |NGX_HTTP_RTAGENT_JSON_TERSE,
                                          reason, size);
}


/*
 * The member name of obj in v, or NULL.  -1 if there are two: yajl keeps
 * both, and two readers picking different ones is how claims get
 * smuggled.
 */

static int
ngx_http_rtagent_jwt_get(yajl_val obj, const char *name, yajl_val *v)
{
    size_t  i;

    *v = NULL;

    for (i = 0; i < obj->u.object.len; i++) {
        if (strcmp(obj->u.object.keys[i], name) == 0) {
            if (*v != NULL) {
                return -1;
            }

            *v = obj->u.object.values[i];
        }
    }

    return 0;
}


/* 1 if member name of obj is absent or the string value, else 0 */

static int
ngx_http_rtagent_jwt_is(yajl_val obj, const char *name, const char *value)
{
    yajl_val  v;

    if (ngx_http_rtagent_jwt_get(obj, name, &v) != 0) {
        return 0;
    }

    if (v == NULL) {
        return 1;
    }

    return YAJL_IS_STRING(v) && strcmp(v->u.string, value) == 0;
}


/* no table, like the base64 check of the message codec */

static int
ngx_http_rtagent_jwt_b64url_char(uint8_t c)
{
    return (uint8_t) ((c | 0x20) - 'a') < 26
           || (uint8_t) (c - '0') < 10
           || c == '-' || c == '_';
}


/*
 * Strict base64url without padding (RFC 7515 section 2): only
 * [A-Za-z0-9_-], no '=', no length of 1 mod 4, and zero unused bits in
 * the last character, so that the bytes have exactly one encoding.
 *
 * Each chunk is translated to base64 for EVP_DecodeBlock(); a short last
 * group is completed with 'A', six zero bits, instead of '=', which
 * EVP_DecodeBlock() would decode as zero bits anyway.  The bytes decoded
 * from those zero bits must be zero too, or the last character had
 * unused bits set.  *out gets the bytes and a NUL, for the caller to
 * free.
 */

static int
ngx_http_rtagent_jwt_b64url(const char *s, size_t len, uint8_t **out,
    size_t *out_len)
{
    int       n;
    char      buf[NGX_HTTP_RTAGENT_JWT_B64_CHUNK];
    size_t    i, j, chunk, padded, exact;
    uint8_t  *dst, *p;

    *out = NULL;
    *out_len = 0;

    if (len % 4 == 1 || len > (size_t) INT_MAX) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (!ngx_http_rtagent_jwt_b64url_char((uint8_t) s[i])) {
            return -1;
        }
    }

    exact = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);

    /* EVP_DecodeBlock() writes 3 bytes for each group of 4 */
    dst = malloc((len + 3) / 4 * 3 + 1);
    if (dst == NULL) {
        return -1;
    }

    p = dst;

    for (i = 0; i < len; i += chunk) {
        chunk = len - i < NGX_HTTP_RTAGENT_JWT_B64_CHUNK
                ? len - i : NGX_HTTP_RTAGENT_JWT_B64_CHUNK;

        for (j = 0; j < chunk; j++) {
            switch (s[i + j]) {

            case '-':
                buf[j] = '+';
                break;

            case '_':
                buf[j] = '/';
                break;

            default:
                buf[j] = s[i + j];
            }
        }

        /* only the last chunk can be short of a group */
        padded = (chunk + 3) & ~(size_t) 3;

        for ( /* void */ ; j < padded; j++) {
            buf[j] = 'A';
        }

        n = EVP_DecodeBlock(p, (const unsigned char *) buf, (int) padded);
        if (n < 0 || (size_t) n != padded / 4 * 3) {
            free(dst);
            return -1;
        }

        p += n;
    }

    for (i = exact; i < (size_t) (p - dst); i++) {
        if (dst[i] != 0) {
            free(dst);
            return -1;
        }
    }

    dst[exact] = '\0';

    *out = dst;
    *out_len = exact;

    return 0;
}


/*
 * 1 if k was added, 0 if skipped (with a reason in *reason if it looked
 * like a key for us), -1 on a failure of the whole set.
 */

static int
ngx_http_rtagent_jwk_add(ngx_http_rtagent_jwks_t *jwks, yajl_val k,
    const char **reason)
{
    char                    *kid;
    size_t                   kid_len;
    yajl_val                 v, n, e;
    EVP_PKEY                *pkey;
    ngx_http_rtagent_jwk_t  *jwk;

    /* not RSA, or not for RS256 signatures: silently not ours */

    if (ngx_http_rtagent_jwt_get(k, "kty", &v) != 0
        || v == NULL || !YAJL_IS_STRING(v)
        || strcmp(v->u.string, "RSA") != 0
        || !ngx_http_rtagent_jwt_is(k, "use", "sig")
        || !ngx_http_rtagent_jwt_is(k, "alg", "RS256"))
    {
        return 0;
    }

    if (ngx_http_rtagent_jwt_get(k, "kid", &v) != 0
        || (v != NULL && !YAJL_IS_STRING(v)))
    {
        *reason = "bad \"kid\"";
        return 0;
    }

    kid_len = 0;

    if (v != NULL) {
        kid_len = strlen(v->u.string);

        if (kid_len > NGX_HTTP_RTAGENT_JWK_KID_MAX) {
            *reason = "\"kid\" too long";
            return 0;
        }
    }

    if (ngx_http_rtagent_jwt_get(k, "n", &n) != 0
        || ngx_http_rtagent_jwt_get(k, "e", &e) != 0
        || n == NULL || !YAJL_IS_STRING(n)
        || e == NULL || !YAJL_IS_STRING(e))
    {
        *reason = "RSA key without \"n\" and \"e\"";
        return 0;
    }

    if (jwks->nkeys == NGX_HTTP_RTAGENT_JWKS_KEYS_MAX) {
        *reason = "too many keys in jwks";
        return -1;
    }

    pkey = ngx_http_rtagent_jwk_rsa(n->u.string, e->u.string, reason);
    if (pkey == NULL) {
        return 0;
    }

    kid = NULL;

    if (v != NULL) {
        kid = malloc(kid_len + 1);
        if (kid == NULL) {
            EVP_PKEY_free(pkey);
            *reason = "out of memory";
            return -1;
        }

        memcpy(kid, v->u.string, kid_len + 1);
    }

    jwk = &jwks->keys[jwks->nkeys++];
    jwk->kid = kid;
    jwk->pkey = pkey;

    return 1;
}


/*
 * An RSA public key from the base64url "n" and "e" of a JWK (RFC 7518
 * 6.3.1), or NULL with the reason.  OpenSSL does not check a key built
 * from parameters, so the size and the parity that the public operation
 * needs are checked here.
 */

static EVP_PKEY *
ngx_http_rtagent_jwk_rsa(const char *n64, const char *e64,
    const char **reason)
{
    int              bits;
    size_t           n_len, e_len, n_skip, e_skip;
    uint8_t         *n, *e;
    BIGNUM          *bn_n, *bn_e;
    EVP_PKEY        *pkey;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *ctx;
    OSSL_PARAM_BLD  *bld;

    n = NULL;
    e = NULL;
    bn_n = NULL;
    bn_e = NULL;
    bld = NULL;
    params = NULL;
    ctx = NULL;
    pkey = NULL;

    if (ngx_http_rtagent_jwt_b64url(n64, strlen(n64), &n, &n_len) != 0
        || ngx_http_rtagent_jwt_b64url(e64, strlen(e64), &e, &e_len) != 0)
    {
        *reason = "RSA key \"n\" or \"e\" is not base64url";
        goto done;
    }

    /* some encoders keep a leading zero byte of the DER integer */

    for (n_skip = 0; n_skip < n_len && n[n_skip] == 0; n_skip++) {
        /* void */
    }

    for (e_skip = 0; e_skip < e_len && e[e_skip] == 0; e_skip++) {
        /* void */
    }

    if (n_len - n_skip > NGX_HTTP_RTAGENT_JWK_BITS_MAX / 8
        || n_len - n_skip < NGX_HTTP_RTAGENT_JWK_BITS_MIN / 8)
    {
        *reason = "RSA key size out of range";
        goto done;
    }

    if (e_len - e_skip == 0 || e_len - e_skip > NGX_HTTP_RTAGENT_JWK_E_MAX) {
        *reason = "bad RSA exponent";
        goto done;
    }

    bn_n = BN_bin2bn(n + n_skip, (int) (n_len - n_skip), NULL);
    bn_e = BN_bin2bn(e + e_skip, (int) (e_len - e_skip), NULL);

    if (bn_n == NULL || bn_e == NULL) {
        *reason = "out of memory";
        goto done;
    }

    bits = BN_num_bits(bn_n);

    if (bits < NGX_HTTP_RTAGENT_JWK_BITS_MIN
        || bits > NGX_HTTP_RTAGENT_JWK_BITS_MAX)
    {
        *reason = "RSA key size out of range";
        goto done;
    }

    /* Montgomery multiplication needs an odd modulus */
    if (!BN_is_odd(bn_n)) {
        *reason = "bad RSA modulus";
        goto done;
    }

    if (!BN_is_odd(bn_e) || BN_is_one(bn_e)) {
        *reason = "bad RSA exponent";
        goto done;
    }

    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
    {
        *reason = "out of memory";
        goto done;
    }

    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL) {
        *reason = "out of memory";
        goto done;
    }

    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (ctx == NULL
        || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    {
        *reason = "RSA key refused by OpenSSL";
        pkey = NULL;
        goto done;
    }

done:

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    free(n);
    free(e);

    return pkey;
}


/* 1 if sig is an RS256 signature of input by pkey, 0 if not, -1 on error */

static int
ngx_http_rtagent_jwt_rs256(EVP_PKEY *pkey, const char *input, size_t len,
    const uint8_t *sig, size_t sig_len)
{
    int            rc;
    EVP_MD_CTX    *md;
    EVP_PKEY_CTX  *pctx;

    /* an RSA signature is exactly as long as the modulus */
    if (sig_len == 0 || sig_len != (size_t) EVP_PKEY_get_size(pkey)) {
        return 0;
    }

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return -1;
    }

    pctx = NULL;

    if (EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) != 1
        || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
    {
        EVP_MD_CTX_free(md);
        return -1;
    }

    rc = EVP_DigestVerify(md, sig, sig_len, (const unsigned char *) input,
                          len);

    EVP_MD_CTX_free(md);

    return rc == 1 ? 1 : 0;
}


/* NULL if the claims of the verified payload p pass, else the reason */

static const char *
ngx_http_rtagent_jwt_claims(yajl_val p,
    const ngx_http_rtagent_jwt_check_t *check)
{
    size_t    i;
    int64_t   exp, nbf, leeway;
    yajl_val  v, item;

    leeway = check->leeway > 0 ? check->leeway : 0;

    /* RFC 7519 4.1.4: valid only before exp; fractions count against */

    if (ngx_http_rtagent_jwt_get(p, "exp", &v) != 0) {
        return NGX_HTTP_RTAGENT_JWT_MALFORMED;
    }

    if (v == NULL) {
        return "missing exp";
    }

    if (ngx_http_rtagent_jwt_time(v, 0, &exp) != 0) {
        return "bad exp";
    }

    if (check->now >= ngx_http_rtagent_jwt_add(exp, leeway)) {
        return "expired";
    }

    if (ngx_http_rtagent_jwt_get(p, "nbf", &v) != 0) {
        return NGX_HTTP_RTAGENT_JWT_MALFORMED;
    }

    if (v != NULL) {
        if (ngx_http_rtagent_jwt_time(v, 1, &nbf) != 0) {
            return "bad nbf";
        }

        if (ngx_http_rtagent_jwt_add(check->now, leeway) < nbf) {
            return "not yet valid";
        }
    }

    if (ngx_http_rtagent_jwt_get(p, "iss", &v) != 0) {
        return NGX_HTTP_RTAGENT_JWT_MALFORMED;
    }

    if (v == NULL || !YAJL_IS_STRING(v)
        || strcmp(v->u.string, check->issuer) != 0)
    {
        return "wrong issuer";
    }

    if (ngx_http_rtagent_jwt_get(p, "aud", &v) != 0) {
        return NGX_HTTP_RTAGENT_JWT_MALFORMED;
    }

    if (v != NULL && YAJL_IS_STRING(v)) {
        if (strcmp(v->u.string, check->audience) == 0) {
            return NULL;
        }

    } else if (v != NULL && YAJL_IS_ARRAY(v)) {
        for (i = 0; i < v->u.array.len; i++) {
            item = v->u.array.values[i];

            if (YAJL_IS_STRING(item)
                && strcmp(item->u.string, check->audience) == 0)
            {
                return NULL;
            }
        }
    }

    return "wrong audience";
}


/*
 * A NumericDate (RFC 7519 2): seconds, possibly with a fraction, rounded
 * down or up, and clamped to int64_t.
 */

static int
ngx_http_rtagent_jwt_time(yajl_val v, int round_up, int64_t *t)
{
    double   d;
    int64_t  i;

    if (!YAJL_IS_NUMBER(v)) {
        return -1;
    }

    if (v->u.number.flags & YAJL_NUMBER_INT_VALID) {
        *t = (int64_t) v->u.number.i;
        return 0;
    }

    if (!(v->u.number.flags & YAJL_NUMBER_DOUBLE_VALID)) {
        return -1;
    }

    d = v->u.number.d;

    if (d != d) {
        return -1;
    }

    /* 2^63 is exact as a double; the cast below stays in range */

    if (d >= 9223372036854775808.0) {
        *t = INT64_MAX;
        return 0;
    }

    if (d < -9223372036854775808.0) {
        *t = INT64_MIN;
        return 0;
    }

    i = (int64_t) d;

    if (round_up && (double) i < d && i < INT64_MAX) {
        i++;

    } else if (!round_up && (double) i > d && i > INT64_MIN) {
        i--;
    }

    *t = i;

    return 0;
}


/* a + b for b >= 0, saturating */

static int64_t
ngx_http_rtagent_jwt_add(int64_t a, int64_t b)
{
    return (a > INT64_MAX - b) ? INT64_MAX : a + b;
}
