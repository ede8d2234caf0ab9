
/*
 * Unit tests for the JWKS parser and the RS256 JWT verifier (cmocka).
 *
 * Two RSA 2048 keys are generated once for the whole run; the JWKS
 * documents are built from their "n" and "e", and every token is signed
 * here with EVP_DigestSign(), so the tests depend on nothing outside.
 * Tokens are verified from buffers of exactly their length, so an ASan
 * build catches any read past them.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "ngx_http_rtagent_acs_jwt.h"


#define TEST_NOW   1700000000
#define TEST_ISS   "https://acscallautomation.communication.azure.com"
#define TEST_AUD   "8c1a2b3d-4e5f-4a6b-9c7d-0e1f2a3b4c5d"

#define TEST_HDR1  "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}"
#define TEST_HDR2  "{\"alg\":\"RS256\",\"kid\":\"k2\",\"typ\":\"JWT\"}"

#define TEST_JSON_MAX  (64 * 1024)


typedef struct {
    EVP_PKEY                 *key1;
    EVP_PKEY                 *key2;
    char                     *jwk0;       /* key1 with nothing but n, e */
    char                     *jwk1;       /* {"kty":"RSA",...} of key1 */
    char                     *jwk2;
    ngx_http_rtagent_jwks_t  *jwks;       /* key1 as k1, key2 as k2 */
} fixture_t;


static fixture_t  fx;


/* base64url without padding; out has room for 4 * (len + 2) / 3 + 1 */

static void
b64url(const void *data, size_t len, char *out)
{
    int     n;
    size_t  i;

    n = EVP_EncodeBlock((unsigned char *) out, data, (int) len);
    assert_true(n >= 0);

    for (i = 0; i < (size_t) n; i++) {
        if (out[i] == '+') {
            out[i] = '-';

        } else if (out[i] == '/') {
            out[i] = '_';

        } else if (out[i] == '=') {
            out[i] = '\0';
            break;
        }
    }
}


static char *
b64url_str(const char *s)
{
    char  *out;

    out = malloc(strlen(s) * 4 / 3 + 8);
    assert_non_null(out);
    b64url(s, strlen(s), out);

    return out;
}


static char *
b64url_bn(EVP_PKEY *pkey, const char *name)
{
    int       len;
    char     *out;
    BIGNUM   *bn;
    uint8_t  *bin;

    bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(pkey, name, &bn), 1);

    len = BN_num_bytes(bn);
    bin = malloc((size_t) len);
    out = malloc((size_t) len * 4 / 3 + 8);
    assert_non_null(bin);
    assert_non_null(out);

    BN_bn2bin(bn, bin);
    b64url(bin, (size_t) len, out);

    free(bin);
    BN_free(bn);

    return out;
}


/* {"kty":"RSA",...,"n":...,"e":...} with extra members before n */

static char *
jwk(EVP_PKEY *pkey, const char *extra)
{
    char  *n, *e, *out;

    n = b64url_bn(pkey, OSSL_PKEY_PARAM_RSA_N);
    e = b64url_bn(pkey, OSSL_PKEY_PARAM_RSA_E);

    out = malloc(TEST_JSON_MAX);
    assert_non_null(out);

    snprintf(out, TEST_JSON_MAX,
             "{\"kty\":\"RSA\",%s\"n\":\"%s\",\"e\":\"%s\"}", extra, n, e);

    free(n);
    free(e);

    return out;
}


static char *
sign_input(EVP_PKEY *pkey, const char *input)
{
    char        *out;
    size_t       sig_len;
    uint8_t      sig[1024];
    EVP_MD_CTX  *md;

    md = EVP_MD_CTX_new();
    assert_non_null(md);
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey),
                     1);

    sig_len = sizeof(sig);
    assert_int_equal(EVP_DigestSign(md, sig, &sig_len,
                                    (const uint8_t *) input, strlen(input)),
                     1);
    EVP_MD_CTX_free(md);

    out = malloc(sig_len * 4 / 3 + 8);
    assert_non_null(out);
    b64url(sig, sig_len, out);

    return out;
}


/* header.payload.signature, signed by pkey, or unsigned if pkey is NULL */

static char *
token_raw(EVP_PKEY *pkey, const char *hdr64, const char *pay64)
{
    char    *t, *sig;
    size_t   n;

    n = strlen(hdr64) + strlen(pay64) + 2048;
    t = malloc(n);
    assert_non_null(t);

    snprintf(t, n, "%s.%s", hdr64, pay64);

    if (pkey != NULL) {
        sig = sign_input(pkey, t);
        strcat(t, ".");
        strcat(t, sig);
        free(sig);

    } else {
        strcat(t, ".");
    }

    return t;
}


static char *
token(EVP_PKEY *pkey, const char *hdr, const char *payload)
{
    char  *h, *p, *t;

    h = b64url_str(hdr);
    p = b64url_str(payload);
    t = token_raw(pkey, h, p);

    free(h);
    free(p);

    return t;
}


/* the usual claims, with exp and extra members */

static char *
claims(long long exp, const char *extra)
{
    char  *out;

    out = malloc(TEST_JSON_MAX);
    assert_non_null(out);

    snprintf(out, TEST_JSON_MAX,
             "{\"iss\":\"" TEST_ISS "\",\"aud\":\"" TEST_AUD "\","
             "\"iat\":%lld,\"exp\":%lld%s%s}",
             (long long) TEST_NOW - 10, exp, extra[0] ? "," : "", extra);

    return out;
}


static void
check_init(ngx_http_rtagent_jwt_check_t *check)
{
    check->issuer = TEST_ISS;
    check->audience = TEST_AUD;
    check->now = TEST_NOW;
    check->leeway = 0;
}


/* verifies t from a buffer of exactly its length; "" when valid */

static const char *
verify_with(const ngx_http_rtagent_jwks_t *jwks, const char *t,
    const ngx_http_rtagent_jwt_check_t *check)
{
    int          rc;
    char        *copy;
    size_t       len;
    static char  err[128];

    len = strlen(t);
    copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, t, len);

    memset(err, 'x', sizeof(err));
    rc = ngx_http_rtagent_jwt_verify(jwks, copy, len, check, err,
                                     sizeof(err));
    free(copy);

    /* nginx reads the OpenSSL error queue after its own calls */
    assert_int_equal(ERR_peek_error(), 0);

    assert_true(strlen(err) < sizeof(err));

    if (rc == 0) {
        assert_string_equal(err, "");

    } else {
        assert_int_equal(rc, -1);
        assert_true(strlen(err) > 0);
    }

    return err;
}


static const char *
verify(const char *t)
{
    ngx_http_rtagent_jwt_check_t  check;

    check_init(&check);

    return verify_with(fx.jwks, t, &check);
}


/* signs header and payload with pkey, verifies, frees */

static void
expect(EVP_PKEY *pkey, const char *hdr, const char *payload,
    const char *reason)
{
    char  *t;

    t = token(pkey, hdr, payload);
    assert_string_equal(verify(t), reason);
    free(t);
}


/* the same, claims made by claims() and freed */

static void
expect_claims(EVP_PKEY *pkey, const char *hdr, char *payload,
    const char *reason)
{
    expect(pkey, hdr, payload, reason);
    free(payload);
}


static ngx_http_rtagent_jwks_t *
jwks_parse(const char *json, char *err, size_t errlen)
{
    char                     *copy;
    size_t                    len;
    ngx_http_rtagent_jwks_t  *jwks;

    len = strlen(json);
    copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, json, len);

    memset(err, 'x', errlen);
    jwks = ngx_http_rtagent_jwks_parse(copy, len, err, errlen);
    free(copy);

    assert_int_equal(ERR_peek_error(), 0);

    assert_true(strlen(err) < errlen);

    if (jwks != NULL) {
        assert_string_equal(err, "");
        assert_true(ngx_http_rtagent_jwks_count(jwks) > 0);

    } else {
        assert_true(strlen(err) > 0);
    }

    return jwks;
}


/* the reason a JWKS document is refused */

static const char *
jwks_refused(const char *json)
{
    static char               err[128];
    ngx_http_rtagent_jwks_t  *jwks;

    jwks = jwks_parse(json, err, sizeof(err));
    assert_null(jwks);

    return err;
}


static size_t
jwks_count(const char *json)
{
    char                      err[128];
    size_t                    n;
    ngx_http_rtagent_jwks_t  *jwks;

    jwks = jwks_parse(json, err, sizeof(err));
    assert_non_null(jwks);

    n = ngx_http_rtagent_jwks_count(jwks);
    ngx_http_rtagent_jwks_free(jwks);

    return n;
}


static int
setup(void **state)
{
    char  err[128], *doc;

    fx.key1 = EVP_RSA_gen(2048);
    fx.key2 = EVP_RSA_gen(2048);

    if (fx.key1 == NULL || fx.key2 == NULL) {
        return -1;
    }

    fx.jwk0 = jwk(fx.key1, "");
    fx.jwk1 = jwk(fx.key1, "\"use\":\"sig\",\"alg\":\"RS256\",\"kid\":\"k1\",");
    fx.jwk2 = jwk(fx.key2, "\"kid\":\"k2\",\"x5t\":\"k2\",\"x5c\":[\"MIIC\"],");

    doc = malloc(TEST_JSON_MAX);
    if (doc == NULL) {
        return -1;
    }

    snprintf(doc, TEST_JSON_MAX, "{\"keys\":[%s,%s]}", fx.jwk1, fx.jwk2);
    fx.jwks = ngx_http_rtagent_jwks_parse(doc, strlen(doc), err, sizeof(err));
    free(doc);

    return fx.jwks ? 0 : -1;
}


static int
teardown(void **state)
{
    ngx_http_rtagent_jwks_free(fx.jwks);
    EVP_PKEY_free(fx.key1);
    EVP_PKEY_free(fx.key2);
    free(fx.jwk0);
    free(fx.jwk1);
    free(fx.jwk2);

    return 0;
}


static void
test_valid(void **state)
{
    assert_int_equal(ngx_http_rtagent_jwks_count(fx.jwks), 2);

    expect_claims(fx.key1, TEST_HDR1, claims(TEST_NOW + 300, ""), "");

    /* the second key of the set, by its kid */
    expect_claims(fx.key2, TEST_HDR2, claims(TEST_NOW + 300, ""), "");

    /* the claims the docs show besides the checked ones */
    expect_claims(fx.key1, TEST_HDR1,
                  claims(TEST_NOW + 300, "\"nbf\":1699999990,"
                         "\"sub\":\"x\",\"extra\":{\"a\":[1,2,{}]}"), "");
}


static void
test_aud_array(void **state)
{
    /* a second "aud" is ambiguous */
    expect_claims(fx.key1, TEST_HDR1,
                  claims(TEST_NOW + 300, "\"aud\":[\"other\",\""
                         TEST_AUD "\"]"),
                  "malformed token");

    /* claims() already has "aud"; build these by hand */

    expect(fx.key1, TEST_HDR1,
           "{\"iss\":\"" TEST_ISS "\",\"exp\":1700000300,"
           "\"aud\":[\"other\",\"" TEST_AUD "\"]}", "");
    expect(fx.key1, TEST_HDR1,
           "{\"iss\":\"" TEST_ISS "\",\"exp\":1700000300,"
           "\"aud\":[1,null,\"" TEST_AUD "\"]}", "");
    expect(fx.key1, TEST_HDR1,
           "{\"iss\":\"" TEST_ISS "\",\"exp\":1700000300,"
           "\"aud\":[\"other\"]}", "wrong audience");
    expect(fx.key1, TEST_HDR1,
           "{\"iss\":\"" TEST_ISS "\",\"exp\":1700000300,\"aud\":[]}",
           "wrong audience");
    expect(fx.key1, TEST_HDR1,
           "{\"iss\":\"" TEST_ISS "\",\"exp\":1700000300,"
           "\"aud\":[[\"" TEST_AUD "\"]]}", "wrong audience");
}


static void
test_kid(void **state)
{
    /* an unknown kid is not tried against the other keys */
    expect_claims(fx.key1, "{\"alg\":\"RS256\",\"kid\":\"k3\"}",
                  claims(TEST_NOW + 300, ""), "unknown key id");
    expect_claims(fx.key1, "{\"alg\":\"RS256\",\"kid\":\"\"}",
                  claims(TEST_NOW + 300, ""), "unknown key id");
    expect_claims(fx.key1, "{\"alg\":\"RS256\",\"kid\":\"K1\"}",
                  claims(TEST_NOW + 300, ""), "unknown key id");

    /* no kid: every key is tried */
    expect_claims(fx.key1, "{\"alg\":\"RS256\"}",
                  claims(TEST_NOW + 300, ""), "");
    expect_claims(fx.key2, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
                  claims(TEST_NOW + 300, ""), "");

    /* a kid picks exactly its key */
    expect_claims(fx.key2, TEST_HDR1, claims(TEST_NOW + 300, ""),
                  "bad signature");
    expect_claims(fx.key1, TEST_HDR2, claims(TEST_NOW + 300, ""),
                  "bad signature");

    /* a kid that is not a string */
    expect_claims(fx.key1, "{\"alg\":\"RS256\",\"kid\":1}",
                  claims(TEST_NOW + 300, ""), "malformed token");
    expect_claims(fx.key1, "{\"alg\":\"RS256\",\"kid\":null}",
                  claims(TEST_NOW + 300, ""), "malformed token");
}


static void
test_tampered(void **state)
{
    char    *t, *p, *good, *bad, *forged;
    size_t   i, len;

    p = claims(TEST_NOW + 300, "");
    good = token(fx.key1, TEST_HDR1, p);
    free(p);
    assert_string_equal(verify(good), "");

    /* another payload under the same signature */
    p = claims(TEST_NOW + 30000, "");
    bad = token(fx.key1, TEST_HDR1, p);
    free(p);

    forged = malloc(strlen(good) + strlen(bad));
    assert_non_null(forged);
    len = (size_t) (strrchr(bad, '.') - bad);
    memcpy(forged, bad, len);
    strcpy(forged + len, strrchr(good, '.'));
    assert_string_equal(verify(forged), "bad signature");

    /* the other header under the same signature: k2 is not the signer */
    t = strchr(good, '.');
    p = b64url_str(TEST_HDR2);
    snprintf(forged, strlen(good) + strlen(bad), "%s%s", p, t);
    free(p);
    assert_string_equal(verify(forged), "bad signature");

    /* one character of the signature changed, in a few places */
    strcpy(forged, good);
    t = strrchr(forged, '.') + 1;

    for (i = 0; i < 340; i += 17) {
        t[i] = (t[i] == 'A') ? 'B' : 'A';
        assert_string_equal(verify(forged), "bad signature");
        t[i] = good[t - forged + i];
    }

    assert_string_equal(verify(forged), "");

    /* one character of the payload changed */
    t = strchr(forged, '.') + 5;
    *t = (*t == 'A') ? 'B' : 'A';
    assert_string_not_equal(verify(forged), "");
    strcpy(forged, good);

    /* a signature that is short or long: not the key size */
    t = strrchr(forged, '.') + 1;
    t[336] = '\0';
    assert_string_equal(verify(forged), "bad signature");
    strcpy(forged, good);
    strcat(forged, "AAAA");
    assert_string_equal(verify(forged), "bad signature");

    /* no signature at all */
    strcpy(forged, good);
    strrchr(forged, '.')[1] = '\0';
    assert_string_equal(verify(forged), "bad signature");

    free(good);
    free(bad);
    free(forged);
}


static void
test_alg(void **state)
{
    char           *p, *t, *h, *q, *sig;
    char            input[4096];
    uint8_t         mac[32];
    unsigned int    mac_len;

    p = claims(TEST_NOW + 300, "");

    /* "none" with an empty signature */
    t = token(NULL, "{\"alg\":\"none\",\"kid\":\"k1\"}", p);
    assert_string_equal(verify(t), "unsupported alg");
    free(t);

    t = token(NULL, "{\"alg\":\"none\"}", p);
    assert_string_equal(verify(t), "unsupported alg");
    free(t);

    /* HS256 keyed with the public JWK text, the classic confusion */
    h = b64url_str("{\"alg\":\"HS256\",\"kid\":\"k1\"}");
    q = b64url_str(p);
    snprintf(input, sizeof(input), "%s.%s", h, q);
    HMAC(EVP_sha256(), fx.jwk1, (int) strlen(fx.jwk1),
         (const uint8_t *) input, strlen(input), mac, &mac_len);
    sig = malloc(64);
    assert_non_null(sig);
    b64url(mac, mac_len, sig);
    t = malloc(strlen(input) + strlen(sig) + 2);
    assert_non_null(t);
    sprintf(t, "%s.%s", input, sig);
    assert_string_equal(verify(t), "unsupported alg");
    free(t);
    free(sig);
    free(h);
    free(q);

    /* RS256 signatures under another name are refused as well */
    expect(fx.key1, "{\"alg\":\"RS512\",\"kid\":\"k1\"}", p,
           "unsupported alg");
    expect(fx.key1, "{\"alg\":\"PS256\",\"kid\":\"k1\"}", p,
           "unsupported alg");
    expect(fx.key1, "{\"alg\":\"rs256\",\"kid\":\"k1\"}", p,
           "unsupported alg");
    expect(fx.key1, "{\"alg\":\"RS256 \",\"kid\":\"k1\"}", p,
           "unsupported alg");
    expect(fx.key1, "{\"kid\":\"k1\"}", p, "unsupported alg");
    expect(fx.key1, "{\"alg\":null,\"kid\":\"k1\"}", p, "unsupported alg");
    expect(fx.key1, "{\"alg\":[\"RS256\"],\"kid\":\"k1\"}", p,
           "unsupported alg");

    /* two algs: which one counts is ambiguous */
    expect(fx.key1, "{\"alg\":\"RS256\",\"alg\":\"none\",\"kid\":\"k1\"}", p,
           "malformed token");

    /* critical extensions are not understood */
    expect(fx.key1, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[\"b64\"],"
           "\"b64\":false}", p, "unsupported header");

    free(p);
}


static void
test_expiry(void **state)
{
    expect_claims(fx.key1, TEST_HDR1, claims(TEST_NOW - 1, ""), "expired");

    /* valid only before exp */
    expect_claims(fx.key1, TEST_HDR1, claims(TEST_NOW, ""), "expired");
    expect_claims(fx.key1, TEST_HDR1, claims(TEST_NOW + 1, ""), "");

    expect_claims(fx.key1, TEST_HDR1, claims(0, ""), "expired");
    expect_claims(fx.key1, TEST_HDR1, claims(-1700000000, ""), "expired");

    /* fractions round against the token */
    expect(fx.key1, TEST_HDR1,
           "{\"iss\":\"" TEST_ISS "\",\"aud\":\"" TEST_AUD "\","
           "\"exp\":1700000000.9}", "expired");
    expect(fx.key1, TEST_HDR1,
           "{\"iss\":\"" TEST_ISS "\",\"aud\":\"" TEST_AUD "\","
           "\"exp\":1700000001.5}", "");
    expect(fx.key1, TEST_HDR1,
           "{\"iss\":\"" TEST_ISS "\",\"aud\":\"" TEST_AUD "\","
           "\"exp\":1.7000003e9}", "");

    /* beyond int64_t: clamped, far in the future or past */
    expect(fx.key1, TEST_HDR1,
           "{\"iss\":\"" TEST_ISS "\",\"aud\":\"" TEST_AUD "\","
           "\"exp\":1e300}", "");
    expect(fx.key1, TEST_HDR1,
           "{\"iss\":\"" TEST_ISS "\",\"aud\":\"" TEST_AUD "\","
           "\"exp\":99999999999999999999999}", "");
    expect(fx.key1, TEST_HDR1,
           "{\"iss\":\"" TEST_ISS "\",\"aud\":\"" TEST_AUD "\","
           "\"exp\":-1e300}", "expired");

    /* exp is required, and a number */
    expect(fx.key1, TEST_HDR1,
           "{\"iss\":\"" TEST_ISS "\",\"aud\":\"" TEST_AUD "\"}",
           "missing exp");
    expect(fx.key1, TEST_HDR1,
           "{\"iss\":\"" TEST_ISS "\",\"aud\":\"" TEST_AUD "\","
           "\"exp\":\"1700000300\"}", "bad exp");
    expect(fx.key1, TEST_HDR1,
           "{\"iss\":\"" TEST_ISS "\",\"aud\":\"" TEST_AUD "\","
           "\"exp\":null}", "bad exp");
    expect(fx.key1, TEST_HDR1,
           "{\"iss\":\"" TEST_ISS "\",\"aud\":\"" TEST_AUD "\","
           "\"exp\":1e400}", "bad exp");
    expect(fx.key1, TEST_HDR1,
           "{\"iss\":\"" TEST_ISS "\",\"aud\":\"" TEST_AUD "\","
           "\"exp\":1700000300,\"exp\":1}", "malformed token");
}


static void
test_nbf(void **state)
{
    expect_claims(fx.key1, TEST_HDR1,
                  claims(TEST_NOW + 300, "\"nbf\":1700000100"),
                  "not yet valid");
    expect_claims(fx.key1, TEST_HDR1,
                  claims(TEST_NOW + 300, "\"nbf\":1700000001"),
                  "not yet valid");
    expect_claims(fx.key1, TEST_HDR1,
                  claims(TEST_NOW + 300, "\"nbf\":1700000000"), "");
    expect_claims(fx.key1, TEST_HDR1,
                  claims(TEST_NOW + 300, "\"nbf\":1700000000.5"),
                  "not yet valid");
    expect_claims(fx.key1, TEST_HDR1,
                  claims(TEST_NOW + 300, "\"nbf\":-1e300"), "");
    expect_claims(fx.key1, TEST_HDR1,
                  claims(TEST_NOW + 300, "\"nbf\":\"0\""), "bad nbf");
    expect_claims(fx.key1, TEST_HDR1,
                  claims(TEST_NOW + 300, "\"nbf\":0,\"nbf\":0"),
                  "malformed token");
}


static void
test_leeway(void **state)
{
    char                          *t;
    ngx_http_rtagent_jwt_check_t   check;

    check_init(&check);

    t = token(fx.key1, TEST_HDR1, "{\"iss\":\"" TEST_ISS "\",\"aud\":\""
              TEST_AUD "\",\"exp\":1699999990}");

    check.leeway = 30;
    assert_string_equal(verify_with(fx.jwks, t, &check), "");
    check.leeway = 11;
    assert_string_equal(verify_with(fx.jwks, t, &check), "");
    check.leeway = 10;
    assert_string_equal(verify_with(fx.jwks, t, &check), "expired");
    check.leeway = -100;
    assert_string_equal(verify_with(fx.jwks, t, &check), "expired");
    free(t);

    t = token(fx.key1, TEST_HDR1, "{\"iss\":\"" TEST_ISS "\",\"aud\":\""
              TEST_AUD "\",\"exp\":1700000300,\"nbf\":1700000020}");

    check.leeway = 30;
    assert_string_equal(verify_with(fx.jwks, t, &check), "");
    check.leeway = 20;
    assert_string_equal(verify_with(fx.jwks, t, &check), "");
    check.leeway = 19;
    assert_string_equal(verify_with(fx.jwks, t, &check), "not yet valid");
    check.leeway = 0;
    assert_string_equal(verify_with(fx.jwks, t, &check), "not yet valid");

    /* no overflow at the ends of the range */
    check.leeway = INT64_MAX;
    assert_string_equal(verify_with(fx.jwks, t, &check), "");
    check.now = INT64_MAX;
    assert_string_equal(verify_with(fx.jwks, t, &check), "expired");
    check.now = INT64_MIN;
    check.leeway = 0;
    assert_string_equal(verify_with(fx.jwks, t, &check), "not yet valid");
    free(t);
}


static void
test_issuer(void **state)
{
    expect(fx.key1, TEST_HDR1, "{\"iss\":\"https://evil.example\",\"aud\":\""
           TEST_AUD "\",\"exp\":1700000300}", "wrong issuer");
    expect(fx.key1, TEST_HDR1, "{\"iss\":\"" TEST_ISS "/\",\"aud\":\""
           TEST_AUD "\",\"exp\":1700000300}", "wrong issuer");
    expect(fx.key1, TEST_HDR1, "{\"iss\":\"https://acscallautomation.\","
           "\"aud\":\"" TEST_AUD "\",\"exp\":1700000300}", "wrong issuer");
    expect(fx.key1, TEST_HDR1, "{\"aud\":\"" TEST_AUD "\","
           "\"exp\":1700000300}", "wrong issuer");
    expect(fx.key1, TEST_HDR1, "{\"iss\":[\"" TEST_ISS "\"],\"aud\":\""
           TEST_AUD "\",\"exp\":1700000300}", "wrong issuer");
    expect(fx.key1, TEST_HDR1, "{\"iss\":\"" TEST_ISS "\",\"iss\":\""
           TEST_ISS "\",\"aud\":\"" TEST_AUD "\",\"exp\":1700000300}",
           "malformed token");

    /* a NUL would cut the compared string short */
    expect(fx.key1, TEST_HDR1, "{\"iss\":\"" TEST_ISS "\\u0000x\",\"aud\":\""
           TEST_AUD "\",\"exp\":1700000300}", "malformed token");

    /* escapes are decoded before comparing */
    expect(fx.key1, TEST_HDR1, "{\"iss\":\"https:\\/\\/acscallautomation."
           "communication.azure.com\",\"aud\":\"" TEST_AUD "\","
           "\"exp\":1700000300}", "");
}


static void
test_audience(void **state)
{
    expect(fx.key1, TEST_HDR1, "{\"iss\":\"" TEST_ISS "\",\"aud\":\"other\","
           "\"exp\":1700000300}", "wrong audience");
    expect(fx.key1, TEST_HDR1, "{\"iss\":\"" TEST_ISS "\",\"aud\":\""
           TEST_AUD "x\",\"exp\":1700000300}", "wrong audience");
    expect(fx.key1, TEST_HDR1, "{\"iss\":\"" TEST_ISS "\","
           "\"exp\":1700000300}", "wrong audience");
    expect(fx.key1, TEST_HDR1, "{\"iss\":\"" TEST_ISS "\",\"aud\":null,"
           "\"exp\":1700000300}", "wrong audience");
    expect(fx.key1, TEST_HDR1, "{\"iss\":\"" TEST_ISS "\",\"aud\":{\"a\":\""
           TEST_AUD "\"},\"exp\":1700000300}", "wrong audience");
}


static void
test_config(void **state)
{
    char                          *t, *p;
    ngx_http_rtagent_jwt_check_t   check;

    p = claims(TEST_NOW + 300, "");
    t = token(fx.key1, TEST_HDR1, p);
    free(p);

    check_init(&check);
    check.audience = NULL;
    assert_string_equal(verify_with(fx.jwks, t, &check), "not configured");

    check_init(&check);
    check.issuer = NULL;
    assert_string_equal(verify_with(fx.jwks, t, &check), "not configured");

    check_init(&check);
    check.audience = "";
    assert_string_equal(verify_with(fx.jwks, t, &check), "not configured");

    check_init(&check);
    check.issuer = "";
    assert_string_equal(verify_with(fx.jwks, t, &check), "not configured");

    check_init(&check);
    assert_string_equal(verify_with(NULL, t, &check), "not configured");
    assert_string_equal(verify_with(fx.jwks, t, NULL), "not configured");

    /* no err buffer */
    assert_int_equal(ngx_http_rtagent_jwt_verify(fx.jwks, t, strlen(t),
                                                 &check, NULL, 0), 0);
    assert_int_equal(ngx_http_rtagent_jwt_verify(fx.jwks, t, strlen(t) - 1,
                                                 &check, NULL, 0), -1);

    free(t);
}


static void
test_malformed(void **state)
{
    char    *p, *t, *h, *q, *good, buf[8192];
    size_t   n;

    p = claims(TEST_NOW + 300, "");
    good = token(fx.key1, TEST_HDR1, p);
    h = b64url_str(TEST_HDR1);
    q = b64url_str(p);

    assert_string_equal(verify(""), "malformed token");
    assert_string_equal(verify("."), "malformed token");
    assert_string_equal(verify(".."), "malformed token");
    assert_string_equal(verify("a.b"), "malformed token");

    /* two parts: the signature cut off with its dot */
    snprintf(buf, sizeof(buf), "%s.%s", h, q);
    assert_string_equal(verify(buf), "malformed token");

    /* four and five parts (a JWE has five) */
    snprintf(buf, sizeof(buf), "%s.", good);
    assert_string_equal(verify(buf), "malformed token");
    snprintf(buf, sizeof(buf), "%s.AAAA.AAAA", good);
    assert_string_equal(verify(buf), "malformed token");

    /* the Authorization scheme is the caller's to strip */
    snprintf(buf, sizeof(buf), "Bearer %s", good);
    assert_string_equal(verify(buf), "malformed token");
    snprintf(buf, sizeof(buf), "%s ", good);
    assert_string_equal(verify(buf), "malformed token");
    snprintf(buf, sizeof(buf), "%s\n", good);
    assert_string_equal(verify(buf), "malformed token");

    /* base64 rather than base64url, or padded */
    memcpy(buf, good, strlen(good) + 1);
    buf[3] = '+';
    assert_string_equal(verify(buf), "malformed token");
    n = strlen(good);
    memcpy(buf, good, n);
    memcpy(buf + n, "=", 2);
    assert_string_equal(verify(buf), "malformed token");
    memcpy(buf, good, strlen(good) + 1);
    t = strrchr(buf, '.');
    assert_non_null(t);
    t[5] = '/';
    assert_string_equal(verify(buf), "malformed token");
    snprintf(buf, sizeof(buf), "%s==.%s", h, strchr(good, '.') + 1);
    assert_string_equal(verify(buf), "malformed token");

    /* a part of length 1 mod 4 */
    snprintf(buf, sizeof(buf), "AAAAA.%s", strchr(good, '.') + 1);
    assert_string_equal(verify(buf), "malformed token");

    /* unused bits set in the last character: "e30" is "{}", "e31" not */
    t = token(fx.key1, "{}", p);
    assert_memory_equal(t, "e30.", 4);
    assert_string_equal(verify(t), "unsupported alg");
    t[2] = '1';
    assert_string_equal(verify(t), "malformed token");
    free(t);

    /* a header that is not a JSON object */
    expect(fx.key1, "not json", p, "malformed token");
    expect(fx.key1, "[\"alg\",\"RS256\"]", p, "malformed token");
    expect(fx.key1, "\"RS256\"", p, "malformed token");
    expect(fx.key1, "", p, "malformed token");
    expect(fx.key1, "{\"alg\":\"RS256\",\"kid\":\"k1\"", p,
           "malformed token");
    expect(fx.key1, "{\"alg\":\"RS256\",\"kid\":\"k1\"} {}", p,
           "malformed token");
    expect(fx.key1, "{\"alg\":\"RS256\",/*x*/\"kid\":\"k1\"}", p,
           "malformed token");
    expect(fx.key1, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"x\":"
           "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
           p, "malformed token");

    /* a payload that is not a JSON object, validly signed */
    expect(fx.key1, TEST_HDR1, "[1,2]", "malformed token");
    expect(fx.key1, TEST_HDR1, "\"exp\"", "malformed token");
    expect(fx.key1, TEST_HDR1, "1700000300", "malformed token");
    expect(fx.key1, TEST_HDR1, "null", "malformed token");
    expect(fx.key1, TEST_HDR1, "", "malformed token");
    expect(fx.key1, TEST_HDR1, "{\"exp\":1700000300", "malformed token");
    expect(fx.key1, TEST_HDR1, "{\"exp\":1700000300,}", "malformed token");
    expect(fx.key1, TEST_HDR1, "{\"iss\":\"\xff\",\"exp\":1700000300}",
           "malformed token");

    /* a NUL byte inside the decoded JSON */
    memcpy(buf, "{\"alg\":\"RS256\",\"kid\":\"k1\"}\0", 27);
    t = malloc(64);
    assert_non_null(t);
    b64url(buf, 27, t);
    free(h);
    h = t;
    t = token_raw(fx.key1, h, q);
    assert_string_equal(verify(t), "malformed token");
    free(t);

    free(good);
    free(h);
    free(q);
    free(p);
}


/* the length of the token of hdr and payload, with a 2048-bit key */

static size_t
token_len(const char *hdr, const char *payload)
{
    return (strlen(hdr) * 4 + 2) / 3 + 1 + (strlen(payload) * 4 + 2) / 3
           + 1 + (256 * 4 + 2) / 3;
}


static void
test_oversize(void **state)
{
    char          *t, *p, *pad;
    size_t         n, hs;
    const char    *hdr;
    static const char  *hdrs[] = {
        TEST_HDR1, TEST_HDR1 " ", TEST_HDR1 "  ", TEST_HDR1 "   "
    };

    pad = malloc(NGX_HTTP_RTAGENT_JWT_MAX);
    p = malloc(NGX_HTTP_RTAGENT_JWT_MAX + 256);
    assert_non_null(pad);
    assert_non_null(p);

    /*
     * a token of exactly the limit still verifies; some lengths cannot
     * be reached by the payload alone, so the header grows too
     */

    hdr = NULL;
    n = 0;

    for (hs = 0; hs < 4 && hdr == NULL; hs++) {
        for (n = 11000; n < 12500; n++) {
            memset(pad, 'p', n);
            pad[n] = '\0';
            snprintf(p, NGX_HTTP_RTAGENT_JWT_MAX + 256,
                     "{\"iss\":\"" TEST_ISS "\",\"aud\":\"" TEST_AUD "\","
                     "\"exp\":1700000300,\"pad\":\"%s\"}", pad);

            if (token_len(hdrs[hs], p) == NGX_HTTP_RTAGENT_JWT_MAX) {
                hdr = hdrs[hs];
                break;
            }
        }
    }

    assert_non_null(hdr);

    t = token(fx.key1, hdr, p);
    assert_int_equal(strlen(t), NGX_HTTP_RTAGENT_JWT_MAX);
    assert_string_equal(verify(t), "");
    free(t);

    /* one byte more is refused before anything is decoded */
    memset(pad, 'p', n + 1);
    pad[n + 1] = '\0';
    snprintf(p, NGX_HTTP_RTAGENT_JWT_MAX + 256,
             "{\"iss\":\"" TEST_ISS "\",\"aud\":\"" TEST_AUD "\","
             "\"exp\":1700000300,\"pad\":\"%s\"}", pad);
    t = token(fx.key1, hdr, p);
    assert_true(strlen(t) > NGX_HTTP_RTAGENT_JWT_MAX);
    assert_string_equal(verify(t), "token too long");
    free(t);

    t = malloc(NGX_HTTP_RTAGENT_JWT_MAX + 2);
    assert_non_null(t);
    memset(t, 'A', NGX_HTTP_RTAGENT_JWT_MAX + 1);
    t[NGX_HTTP_RTAGENT_JWT_MAX + 1] = '\0';
    assert_string_equal(verify(t), "token too long");
    free(t);

    free(pad);
    free(p);
}


static void
test_jwks_skipped(void **state)
{
    char  doc[TEST_JSON_MAX];

    /* an EC key, an oct key and RSA keys for other uses are skipped */

    snprintf(doc, sizeof(doc), "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
             "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
             "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\","
             "\"kid\":\"ec\"},%s,{\"kty\":\"oct\",\"k\":\"AAAA\"}]}",
             fx.jwk1);
    assert_int_equal(jwks_count(doc), 1);

    assert_string_equal(jwks_refused("{\"keys\":[{\"kty\":\"EC\",\"crv\":"
                                     "\"P-256\",\"x\":\"AA\",\"y\":\"AA\"},"
                                     "{\"kty\":\"oct\",\"k\":\"AAAA\"}]}"),
                        "no usable RSA key");
    assert_string_equal(jwks_refused("{\"keys\":[]}"), "no usable RSA key");

    /* "use", "alg" and "kty" are matched exactly */
    snprintf(doc, sizeof(doc), "{\"keys\":[{\"use\":\"enc\",%s]}",
             fx.jwk0 + 1);
    assert_string_equal(jwks_refused(doc), "no usable RSA key");
    snprintf(doc, sizeof(doc), "{\"keys\":[{\"alg\":\"RS512\",%s]}",
             fx.jwk0 + 1);
    assert_string_equal(jwks_refused(doc), "no usable RSA key");
    snprintf(doc, sizeof(doc), "{\"keys\":[{\"alg\":null,%s]}",
             fx.jwk0 + 1);
    assert_string_equal(jwks_refused(doc), "no usable RSA key");
    snprintf(doc, sizeof(doc), "{\"keys\":[{\"use\":\"sig\",\"use\":\"sig\","
             "%s]}", fx.jwk0 + 1);
    assert_string_equal(jwks_refused(doc), "no usable RSA key");
    snprintf(doc, sizeof(doc), "{\"keys\":[{\"kty\":\"rsa\",%s]}",
             fx.jwk0 + sizeof("{\"kty\":\"RSA\",") - 1);
    assert_string_equal(jwks_refused(doc), "no usable RSA key");

    /* "use" and "alg" may be absent, or these */
    snprintf(doc, sizeof(doc), "{\"keys\":[%s,{\"use\":\"sig\",\"alg\":"
             "\"RS256\",\"key_ops\":[\"verify\"],%s]}", fx.jwk0,
             fx.jwk0 + 1);
    assert_int_equal(jwks_count(doc), 2);

    /* the usable one is kept */
    snprintf(doc, sizeof(doc), "{\"keys\":[{\"use\":\"enc\",%s,%s]}",
             fx.jwk0 + 1, fx.jwk2);
    assert_int_equal(jwks_count(doc), 1);

    /* unknown top-level members are fine */
    snprintf(doc, sizeof(doc), "{\"x\":[{}],\"keys\":[%s],\"y\":null}",
             fx.jwk2);
    assert_int_equal(jwks_count(doc), 1);
}


static void
test_jwks_sizes(void **state)
{
    int                        i;
    char                       err[128], *doc, *n64, e64[16];
    uint8_t                    n[1026];
    EVP_PKEY                  *small;
    ngx_http_rtagent_jwks_t   *jwks;

    doc = malloc(TEST_JSON_MAX);
    n64 = malloc(2048);
    assert_non_null(doc);
    assert_non_null(n64);

    /* a real 1024-bit key */
    small = EVP_RSA_gen(1024);
    assert_non_null(small);
    free(doc);
    doc = jwk(small, "\"kid\":\"small\",");
    snprintf(n64, 2048, "{\"keys\":[%s]}", doc);
    assert_string_equal(jwks_refused(n64),
                        "no usable RSA key: RSA key size out of range");
    EVP_PKEY_free(small);
    free(doc);

    doc = malloc(TEST_JSON_MAX);
    assert_non_null(doc);

    b64url("\x01\x00\x01", 3, e64);

    /*
     * moduli of given sizes need no real key: the parser checks only the
     * size and the parity, odd with the top bit set
     */

    for (i = 0; i < 4; i++) {
        static const int  bits[] = { 2047, 2048, 8192, 8193 };

        memset(n, 0x5a, sizeof(n));
        n[0] = (uint8_t) (1 << ((bits[i] - 1) % 8));
        n[(bits[i] + 7) / 8 - 1] |= 1;
        b64url(n, (size_t) (bits[i] + 7) / 8, n64);

        snprintf(doc, TEST_JSON_MAX, "{\"keys\":[{\"kty\":\"RSA\",\"n\":"
                 "\"%s\",\"e\":\"%s\"}]}", n64, e64);

        if (bits[i] == 2048 || bits[i] == 8192) {
            assert_int_equal(jwks_count(doc), 1);

        } else {
            assert_string_equal(jwks_refused(doc), "no usable RSA key: "
                                "RSA key size out of range");
        }
    }

    /* a leading zero byte is not counted */
    n[0] = 0;
    n[1] = 0x80;
    n[256] |= 1;
    b64url(n, 257, n64);
    snprintf(doc, TEST_JSON_MAX, "{\"keys\":[{\"kty\":\"RSA\",\"n\":"
             "\"%s\",\"e\":\"%s\"}]}", n64, e64);
    assert_int_equal(jwks_count(doc), 1);

    /* an even modulus */
    n[256] &= 0xfe;
    b64url(n, 257, n64);
    snprintf(doc, TEST_JSON_MAX, "{\"keys\":[{\"kty\":\"RSA\",\"n\":"
             "\"%s\",\"e\":\"%s\"}]}", n64, e64);
    assert_string_equal(jwks_refused(doc),
                        "no usable RSA key: bad RSA modulus");

    /* exponents: 1, even, empty, 9 bytes */
    n[256] |= 1;
    b64url(n, 257, n64);

    snprintf(doc, TEST_JSON_MAX, "{\"keys\":[{\"kty\":\"RSA\",\"n\":"
             "\"%s\",\"e\":\"AQ\"}]}", n64);
    assert_string_equal(jwks_refused(doc),
                        "no usable RSA key: bad RSA exponent");
    snprintf(doc, TEST_JSON_MAX, "{\"keys\":[{\"kty\":\"RSA\",\"n\":"
             "\"%s\",\"e\":\"AQAA\"}]}", n64);
    assert_string_equal(jwks_refused(doc),
                        "no usable RSA key: bad RSA exponent");
    snprintf(doc, TEST_JSON_MAX, "{\"keys\":[{\"kty\":\"RSA\",\"n\":"
             "\"%s\",\"e\":\"\"}]}", n64);
    assert_string_equal(jwks_refused(doc),
                        "no usable RSA key: bad RSA exponent");
    snprintf(doc, TEST_JSON_MAX, "{\"keys\":[{\"kty\":\"RSA\",\"n\":"
             "\"%s\",\"e\":\"AAAAAAAAAAAB\"}]}", n64);
    assert_string_equal(jwks_refused(doc),
                        "no usable RSA key: bad RSA exponent");
    snprintf(doc, TEST_JSON_MAX, "{\"keys\":[{\"kty\":\"RSA\",\"n\":"
             "\"%s\",\"e\":\"AQAAAAAAAAAB\"}]}", n64);
    assert_string_equal(jwks_refused(doc),
                        "no usable RSA key: bad RSA exponent");

    /* n and e must be strict base64url strings */
    snprintf(doc, TEST_JSON_MAX, "{\"keys\":[{\"kty\":\"RSA\",\"n\":"
             "\"%s=\",\"e\":\"AQAB\"}]}", n64);
    assert_string_equal(jwks_refused(doc), "no usable RSA key: RSA key "
                        "\"n\" or \"e\" is not base64url");
    snprintf(doc, TEST_JSON_MAX, "{\"keys\":[{\"kty\":\"RSA\",\"n\":"
             "\"%s\",\"e\":\"AQAB\\n\"}]}", n64);
    assert_string_equal(jwks_refused(doc), "no usable RSA key: RSA key "
                        "\"n\" or \"e\" is not base64url");
    snprintf(doc, TEST_JSON_MAX, "{\"keys\":[{\"kty\":\"RSA\",\"n\":"
             "\"%s\",\"e\":65537}]}", n64);
    assert_string_equal(jwks_refused(doc), "no usable RSA key: RSA key "
                        "without \"n\" and \"e\"");
    assert_string_equal(jwks_refused("{\"keys\":[{\"kty\":\"RSA\"}]}"),
                        "no usable RSA key: RSA key without \"n\" and "
                        "\"e\"");

    /* kid: a string of at most 256 bytes */
    snprintf(doc, TEST_JSON_MAX, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":7,"
             "\"n\":\"%s\",\"e\":\"AQAB\"}]}", n64);
    assert_string_equal(jwks_refused(doc), "no usable RSA key: bad \"kid\"");

    memset(err, 'k', sizeof(err));
    snprintf(doc, TEST_JSON_MAX, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":"
             "\"%.100s%.100s%.56s\",\"n\":\"%s\",\"e\":\"AQAB\"}]}",
             err, err, err, n64);
    assert_int_equal(jwks_count(doc), 1);
    snprintf(doc, TEST_JSON_MAX, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":"
             "\"%.100s%.100s%.57s\",\"n\":\"%s\",\"e\":\"AQAB\"}]}",
             err, err, err, n64);
    assert_string_equal(jwks_refused(doc),
                        "no usable RSA key: \"kid\" too long");

    /* the first reason is reported, the good key kept */
    snprintf(doc, TEST_JSON_MAX, "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\","
             "\"e\":\"AQ\"},{\"kty\":\"RSA\"},%s]}", n64, fx.jwk1);
    jwks = jwks_parse(doc, err, sizeof(err));
    assert_non_null(jwks);
    assert_int_equal(ngx_http_rtagent_jwks_count(jwks), 1);
    ngx_http_rtagent_jwks_free(jwks);

    free(doc);
    free(n64);
}


static void
test_jwks_count_limit(void **state)
{
    int                       i, n;
    char                     *doc, *p, err[128];
    ngx_http_rtagent_jwks_t  *jwks;

    doc = malloc(1024 * 1024);
    assert_non_null(doc);

    /* 64 keys are fine, 65 are not; the same n under other kids */

    for (n = 64; n <= 65; n++) {
        p = doc + sprintf(doc, "{\"keys\":[");

        for (i = 0; i < n; i++) {
            p += sprintf(p, "%s{\"kid\":\"k%d\",%s", i ? "," : "", i,
                         fx.jwk0 + 1);
        }

        strcpy(p, "]}");

        jwks = jwks_parse(doc, err, sizeof(err));

        if (n == 64) {
            assert_non_null(jwks);
            assert_int_equal(ngx_http_rtagent_jwks_count(jwks), 64);
            ngx_http_rtagent_jwks_free(jwks);

        } else {
            assert_null(jwks);
            assert_string_equal(err, "too many keys in jwks");
        }
    }

    free(doc);
}


static void
test_jwks_malformed(void **state)
{
    char                      doc[TEST_JSON_MAX], err[8];
    ngx_http_rtagent_jwks_t  *jwks;

    assert_string_equal(jwks_refused(""), "malformed jwks: invalid json");
    assert_string_equal(jwks_refused("{"), "malformed jwks: invalid json");
    assert_string_equal(jwks_refused("{\"keys\":[]"),
                        "malformed jwks: invalid json");
    assert_string_equal(jwks_refused("{\"keys\":[]}x"),
                        "malformed jwks: invalid json");
    assert_string_equal(jwks_refused("{\"keys\":[]} {}"),
                        "malformed jwks: invalid json");
    assert_string_equal(jwks_refused("{'keys':[]}"),
                        "malformed jwks: invalid json");
    assert_string_equal(jwks_refused("{\"keys\":[]}/**/"),
                        "malformed jwks: comment");
    assert_string_equal(jwks_refused("[]"),
                        "malformed jwks: no \"keys\" array");
    assert_string_equal(jwks_refused("{}"),
                        "malformed jwks: no \"keys\" array");
    assert_string_equal(jwks_refused("{\"keys\":{}}"),
                        "malformed jwks: no \"keys\" array");
    assert_string_equal(jwks_refused("{\"keys\":null}"),
                        "malformed jwks: no \"keys\" array");
    assert_string_equal(jwks_refused("{\"Keys\":[]}"),
                        "malformed jwks: no \"keys\" array");
    assert_string_equal(jwks_refused("{\"keys\":[],\"keys\":[]}"),
                        "malformed jwks: no \"keys\" array");
    assert_string_equal(jwks_refused("{\"keys\":[1]}"),
                        "malformed jwks: key 0 is not an object");
    assert_string_equal(jwks_refused("{\"keys\":[{},[]]}"),
                        "malformed jwks: key 1 is not an object");
    assert_string_equal(jwks_refused("{\"keys\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]"
                                     "]]]]]]]]]]]]}"),
                        "malformed jwks: nested too deeply");
    assert_string_equal(jwks_refused("{\"keys\":[{\"kid\":\"a\\u0000\"}]}"),
                        "malformed jwks: \\u0000 in a string");

    /* a NUL byte: the length counts, not the terminator */
    snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", fx.jwk1);
    jwks = ngx_http_rtagent_jwks_parse(doc, strlen(doc) + 1, err,
                                       sizeof(err));
    assert_null(jwks);

    /* a truncated error message */
    assert_string_equal(err, "malform");

    jwks = ngx_http_rtagent_jwks_parse(doc, strlen(doc), NULL, 0);
    assert_non_null(jwks);
    ngx_http_rtagent_jwks_free(jwks);

    /* a document beyond the size limit */
    jwks = ngx_http_rtagent_jwks_parse(doc, 1024 * 1024 + 1, doc,
                                       sizeof(doc));
    assert_null(jwks);
    assert_string_equal(doc, "jwks too large");

    assert_null(ngx_http_rtagent_jwks_parse(NULL, 0, NULL, 0));
    assert_int_equal(ngx_http_rtagent_jwks_count(NULL), 0);
    ngx_http_rtagent_jwks_free(NULL);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_aud_array),
        cmocka_unit_test(test_kid),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_alg),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_nbf),
        cmocka_unit_test(test_leeway),
        cmocka_unit_test(test_issuer),
        cmocka_unit_test(test_audience),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_jwks_skipped),
        cmocka_unit_test(test_jwks_sizes),
        cmocka_unit_test(test_jwks_count_limit),
        cmocka_unit_test(test_jwks_malformed),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
