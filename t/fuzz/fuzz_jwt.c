
/*
 * libFuzzer target for the ACS credential codecs: the JWKS parser, the
 * JWT verifier and the connection string parser.
 *
 * The first byte picks what the rest is fed to (its value mod 4, so the
 * seeds can start with an ASCII digit):
 *
 *   0  ngx_http_rtagent_jwks_parse()
 *   1  ngx_http_rtagent_jwt_verify() against a fixed JWKS of one key
 *   2  ngx_http_rtagent_acs_account_parse(), then a signature with the
 *      account and a callback token of the input
 *   3  "header\npayload" (or just a payload), JSON texts that are signed
 *      here with the fixed key and verified: the signature is always
 *      good, so "bad signature" is a bug, and the claim checks run on
 *      whatever the fuzzer makes of the payload
 *
 * The key is generated once in LLVMFuzzerInitialize().  It has
 * FUZZ_RSA_BITS bits, and the fuzz build lowers the verifier's minimum
 * key size to match (NGX_HTTP_RTAGENT_JWK_BITS_MIN, Makefile): a 2048-bit
 * signature per input of mode 3 made the target too slow to run its
 * 1,000,000 inputs, and the code paths are the same for any size.  The
 * size bounds themselves are still checked by mode 0 and the unit tests.
 * Inputs are copied to buffers of exactly their length, so ASan catches
 * reads past them.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "ngx_http_rtagent_acs_jwt.h"
#include "ngx_http_rtagent_acs_sign.h"


#ifndef NGX_HTTP_RTAGENT_JWK_BITS_MIN
#error "build with -DNGX_HTTP_RTAGENT_JWK_BITS_MIN=<the test key's bits>"
#endif


#define FUZZ_KID   "fuzz"
#define FUZZ_RSA_BITS  NGX_HTTP_RTAGENT_JWK_BITS_MIN
#define FUZZ_NOW   1700000000
#define FUZZ_ISS   "https://acscallautomation.communication.azure.com"
#define FUZZ_AUD   "8c1a2b3d-4e5f-4a6b-9c7d-0e1f2a3b4c5d"
#define FUZZ_HDR   "{\"alg\":\"RS256\",\"kid\":\"" FUZZ_KID "\"}"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static EVP_PKEY                 *fuzz_key;
static ngx_http_rtagent_jwks_t  *fuzz_jwks;


/* base64url without padding; out has room for (len + 2) / 3 * 4 + 1 */

static size_t
b64url(const void *data, size_t len, char *out)
{
    int     n;
    size_t  i;

    n = EVP_EncodeBlock((unsigned char *) out, data, (int) len);
    if (n < 0) {
        abort();
    }

    for (i = 0; i < (size_t) n; i++) {
        if (out[i] == '+') {
            out[i] = '-';

        } else if (out[i] == '/') {
            out[i] = '_';

        } else if (out[i] == '=') {
            break;
        }
    }

    out[i] = '\0';

    return i;
}


static char *
b64url_bn(const char *name)
{
    int       len;
    char     *out;
    BIGNUM   *bn;
    uint8_t  *bin;

    bn = NULL;

    if (EVP_PKEY_get_bn_param(fuzz_key, name, &bn) != 1) {
        abort();
    }

    len = BN_num_bytes(bn);
    bin = malloc((size_t) len);
    out = malloc((size_t) len * 2 + 8);
    if (bin == NULL || out == NULL) {
        abort();
    }

    BN_bn2bin(bn, bin);
    b64url(bin, (size_t) len, out);

    free(bin);
    BN_free(bn);

    return out;
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char  *n, *e, doc[2048], err[128];

    fuzz_key = EVP_RSA_gen(FUZZ_RSA_BITS);
    if (fuzz_key == NULL) {
        abort();
    }

    n = b64url_bn(OSSL_PKEY_PARAM_RSA_N);
    e = b64url_bn(OSSL_PKEY_PARAM_RSA_E);

    snprintf(doc, sizeof(doc), "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\","
             "\"kid\":\"" FUZZ_KID "\",\"n\":\"%s\",\"e\":\"%s\"}]}", n, e);

    free(n);
    free(e);

    fuzz_jwks = ngx_http_rtagent_jwks_parse(doc, strlen(doc), err,
                                            sizeof(err));
    if (fuzz_jwks == NULL || ngx_http_rtagent_jwks_count(fuzz_jwks) != 1) {
        abort();
    }

    return 0;
}


/* err must be set exactly on failure, NUL-terminated in its buffer */

static void
check_err(int failed, const char *err, size_t size)
{
    if (memchr(err, '\0', size) == NULL
        || failed != (err[0] != '\0'))
    {
        abort();
    }

    /* what the codecs called must not leave errors for nginx to find */
    if (ERR_peek_error() != 0) {
        abort();
    }
}


static const char *
verify(const char *t, size_t len)
{
    int                           rc;
    static char                   err[128];
    ngx_http_rtagent_jwt_check_t  check;

    check.issuer = FUZZ_ISS;
    check.audience = FUZZ_AUD;
    check.now = FUZZ_NOW;
    check.leeway = 60;

    memset(err, 'x', sizeof(err));
    rc = ngx_http_rtagent_jwt_verify(fuzz_jwks, t, len, &check, err,
                                     sizeof(err));
    check_err(rc != 0, err, sizeof(err));

    return err;
}


static void
fuzz_jwks_parse(const char *in, size_t len)
{
    char                      err[128];
    size_t                    n;
    ngx_http_rtagent_jwks_t  *jwks;

    memset(err, 'x', sizeof(err));
    jwks = ngx_http_rtagent_jwks_parse(in, len, err, sizeof(err));
    check_err(jwks == NULL, err, sizeof(err));

    n = ngx_http_rtagent_jwks_count(jwks);

    if ((jwks == NULL) != (n == 0) || n > 64) {
        abort();
    }

    ngx_http_rtagent_jwks_free(jwks);
}


static void
fuzz_account(const char *in, size_t len)
{
    int                              rc;
    char                             err[128];
    char                             out[NGX_HTTP_RTAGENT_ACS_AUTH_LEN + 1];
    char                             tok[NGX_HTTP_RTAGENT_ACS_TOKEN_LEN + 1];
    char                             hash[NGX_HTTP_RTAGENT_ACS_HASH_LEN + 1];
    char                             date[NGX_HTTP_RTAGENT_ACS_DATE_LEN + 1];
    size_t                           n;
    ngx_http_rtagent_acs_account_t   a;

    memset(err, 'x', sizeof(err));
    rc = ngx_http_rtagent_acs_account_parse(in, len, &a, err, sizeof(err));
    check_err(rc != 0, err, sizeof(err));

    if (rc != 0) {
        if (a.key_len != 0) {
            abort();
        }

        return;
    }

    if (a.key_len == 0 || a.key_len > NGX_HTTP_RTAGENT_ACS_KEY_MAX
        || a.host_len == 0 || a.host_len >= NGX_HTTP_RTAGENT_ACS_URL_MAX
        || a.endpoint_len <= a.host_len
        || a.endpoint_len >= NGX_HTTP_RTAGENT_ACS_URL_MAX
        || strlen(a.host) != a.host_len
        || strlen(a.endpoint) != a.endpoint_len
        || strcmp(a.endpoint + a.endpoint_len - a.host_len, a.host) != 0
        || strpbrk(a.host, " \t\r\n/?#@;") != NULL)
    {
        abort();
    }

    /* FUZZ_NOW as nginx's ngx_http_time() writes it */
    strcpy(date, "Tue, 14 Nov 2023 22:13:20 GMT");
    ngx_http_rtagent_acs_content_hash((const uint8_t *) in, len, hash);

    n = ngx_http_rtagent_acs_authorization(&a, "post", "/calling", 8, date,
                                           hash, out, sizeof(out));
    if (n != NGX_HTTP_RTAGENT_ACS_AUTH_LEN || strlen(out) != n) {
        abort();
    }

    /* the input as a call reference, the key as the secret */
    ngx_http_rtagent_acs_token(a.key, a.key_len, in, len, tok);

    if (strlen(tok) != NGX_HTTP_RTAGENT_ACS_TOKEN_LEN
        || !ngx_http_rtagent_acs_token_check(a.key, a.key_len, in, len, tok,
                                             NGX_HTTP_RTAGENT_ACS_TOKEN_LEN)
        || ngx_http_rtagent_acs_token_check(a.key, a.key_len, in,
                                            len ? len - 1 : 1, tok,
                                            NGX_HTTP_RTAGENT_ACS_TOKEN_LEN))
    {
        abort();
    }
}


static void
fuzz_signed(const char *in, size_t len)
{
    char          *t, *p;
    size_t         hdr_len, pay_len, n, sig_len;
    uint8_t        sig[512];
    const char    *hdr, *pay, *nl, *err;
    EVP_MD_CTX    *md;

    nl = memchr(in, '\n', len);

    if (nl != NULL) {
        hdr = in;
        hdr_len = (size_t) (nl - in);
        pay = nl + 1;
        pay_len = len - hdr_len - 1;

    } else {
        hdr = FUZZ_HDR;
        hdr_len = sizeof(FUZZ_HDR) - 1;
        pay = in;
        pay_len = len;
    }

    t = malloc((hdr_len + pay_len) / 3 * 4 + 2 * 4 + 2 + 700);
    if (t == NULL) {
        abort();
    }

    n = b64url(hdr, hdr_len, t);
    t[n++] = '.';
    n += b64url(pay, pay_len, t + n);

    md = EVP_MD_CTX_new();
    sig_len = sizeof(sig);

    if (md == NULL
        || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, fuzz_key) != 1
        || EVP_DigestSign(md, sig, &sig_len, (const uint8_t *) t, n) != 1)
    {
        abort();
    }

    EVP_MD_CTX_free(md);

    t[n++] = '.';
    n += b64url(sig, sig_len, t + n);

    /* exactly n bytes, nothing after them */
    p = malloc(n);
    if (p == NULL) {
        abort();
    }

    memcpy(p, t, n);
    free(t);

    err = verify(p, n);

    if (strcmp(err, "bad signature") == 0) {
        abort();
    }

    free(p);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char  *in;

    if (size == 0) {
        return 0;
    }

    in = malloc(size - 1 ? size - 1 : 1);
    if (in == NULL) {
        abort();
    }

    memcpy(in, data + 1, size - 1);

    switch (data[0] % 4) {

    case 0:
        fuzz_jwks_parse(in, size - 1);
        break;

    case 1:
        (void) verify(in, size - 1);
        break;

    case 2:
        fuzz_account(in, size - 1);
        break;

    default:
        fuzz_signed(in, size - 1);
    }

    /* the codecs must leave their input as it was */
    if (memcmp(in, data + 1, size - 1) != 0) {
        abort();
    }

    free(in);

    return 0;
}
