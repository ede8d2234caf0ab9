
/*
 * ACS credentials: the connection string, the HMAC-SHA256 signature of
 * every Call Automation REST request (PROTOCOLS.md 2.1) and the per-call
 * callback token.
 *
 * The access key never appears in an error message, and every copy of
 * key material on the stack is cleansed before returning.
 */


#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "ngx_http_rtagent_acs_sign.h"
#include "ngx_http_rtagent_acs_text.h"


#define ngx_http_rtagent_acs_sign_eq(s, len, name)                           \
    ngx_http_rtagent_acs_ascii_eq(s, len, name, strlen(name))


#define NGX_HTTP_RTAGENT_ACS_AUTH_HEAD                                       \
    "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="

#define NGX_HTTP_RTAGENT_ACS_SHA256_LEN   32

/* longer than any HTTP method the REST API uses */
#define NGX_HTTP_RTAGENT_ACS_METHOD_MAX   16

/* a bound on the date and hash strings, which are printable ASCII */
#define NGX_HTTP_RTAGENT_ACS_FIELD_MAX    128

/* base64 characters of the longest access key */
#define NGX_HTTP_RTAGENT_ACS_KEY_B64_MAX                                     \
    ((NGX_HTTP_RTAGENT_ACS_KEY_MAX + 2) / 3 * 4)

/* 9999-12-31T23:59:59Z: the last second whose year has four digits */

#define NGX_HTTP_RTAGENT_ACS_NPARTS       9


typedef struct {
    const void  *data;
    size_t       len;
} ngx_http_rtagent_acs_sign_part_t;


static void ngx_http_rtagent_acs_sign_trim(const char **start,
    const char **end);
static int ngx_http_rtagent_acs_sign_endpoint(
    ngx_http_rtagent_acs_account_t *account, const char *s, size_t len,
    char *err, size_t errlen);
static int ngx_http_rtagent_acs_sign_authority(const char *s, size_t len);
static int ngx_http_rtagent_acs_sign_key(
    ngx_http_rtagent_acs_account_t *account, const char *s, size_t len,
    char *err, size_t errlen);
static int ngx_http_rtagent_acs_sign_printable(const char *s, size_t len);
static int ngx_http_rtagent_acs_sign_hmac(const uint8_t *key,
    size_t key_len, const ngx_http_rtagent_acs_sign_part_t *parts,
    size_t nparts, uint8_t *mac);


int
ngx_http_rtagent_acs_account_parse(const char *s, size_t len,
    ngx_http_rtagent_acs_account_t *account, char *err, size_t errlen)
{
    size_t       endpoint_len, key_len;
    const char  *p, *end, *part, *part_end, *eq, *k, *k_end, *v, *v_end;
    const char  *endpoint, *key;

    memset(account, 0, sizeof(ngx_http_rtagent_acs_account_t));
    ngx_http_rtagent_acs_errf(err, errlen, "%s", "");

    if (s == NULL) {
        s = "";
        len = 0;
    }

    endpoint = NULL;
    endpoint_len = 0;
    key = NULL;
    key_len = 0;

    p = s;
    end = s + len;

    while (p < end) {
        part = p;
        part_end = memchr(p, ';', (size_t) (end - p));

        if (part_end == NULL) {
            part_end = end;
            p = end;

        } else {
            p = part_end + 1;
        }

        ngx_http_rtagent_acs_sign_trim(&part, &part_end);

        /* "a=b;" and "a=b;;c=d" are common in hand-edited strings */
        if (part == part_end) {
            continue;
        }

        eq = memchr(part, '=', (size_t) (part_end - part));
        if (eq == NULL) {
            ngx_http_rtagent_acs_errf(err, errlen,
                                      "connection string part "
                                      "without \"=\"");
            return -1;
        }

        k = part;
        k_end = eq;
        v = eq + 1;
        v_end = part_end;

        ngx_http_rtagent_acs_sign_trim(&k, &k_end);
        ngx_http_rtagent_acs_sign_trim(&v, &v_end);

        if (ngx_http_rtagent_acs_sign_eq(k, (size_t) (k_end - k),
                                         "endpoint"))
        {
            /* which of two would win is a guess: refuse instead */
            if (endpoint != NULL) {
                ngx_http_rtagent_acs_errf(err, errlen,
                                          "duplicate endpoint");
                return -1;
            }

            endpoint = v;
            endpoint_len = (size_t) (v_end - v);

        } else if (ngx_http_rtagent_acs_sign_eq(k, (size_t) (k_end - k),
                                                "accesskey"))
        {
            if (key != NULL) {
                ngx_http_rtagent_acs_errf(err, errlen,
                                          "duplicate accesskey");
                return -1;
            }

            key = v;
            key_len = (size_t) (v_end - v);
        }

        /* other keys are ignored, as the SDKs do */
    }

    if (endpoint == NULL || endpoint_len == 0) {
        ngx_http_rtagent_acs_errf(err, errlen, "no endpoint");
        return -1;
    }

    if (key == NULL || key_len == 0) {
        ngx_http_rtagent_acs_errf(err, errlen, "no accesskey");
        return -1;
    }

    if (ngx_http_rtagent_acs_sign_endpoint(account, endpoint, endpoint_len,
                                           err, errlen)
        != 0
        || ngx_http_rtagent_acs_sign_key(account, key, key_len, err, errlen)
           != 0)
    {
        OPENSSL_cleanse(account, sizeof(ngx_http_rtagent_acs_account_t));
        return -1;
    }

    return 0;
}


void
ngx_http_rtagent_acs_content_hash(const uint8_t *body, size_t len,
    char *out)
{
    uint8_t       md[EVP_MAX_MD_SIZE];
    unsigned int  md_len;

    /* EVP_Digest() takes no pointer for an empty input */
    if (EVP_Digest(len ? body : (const uint8_t *) "", len, md, &md_len,
                   EVP_sha256(), NULL)
        != 1
        || md_len != NGX_HTTP_RTAGENT_ACS_SHA256_LEN)
    {
        out[0] = '\0';
        return;
    }

    (void) EVP_EncodeBlock((unsigned char *) out, md,
                           NGX_HTTP_RTAGENT_ACS_SHA256_LEN);
}


size_t
ngx_http_rtagent_acs_authorization(
    const ngx_http_rtagent_acs_account_t *account, const char *method,
    const char *path_query, size_t path_query_len, const char *date,
    const char *content_hash, char *out, size_t outlen)
{
    char                              verb[NGX_HTTP_RTAGENT_ACS_METHOD_MAX];
    size_t                            i, verb_len, date_len, hash_len;
    uint8_t                           mac[NGX_HTTP_RTAGENT_ACS_SHA256_LEN];
    ngx_http_rtagent_acs_sign_part_t  parts[NGX_HTTP_RTAGENT_ACS_NPARTS];

    if (out == NULL || outlen == 0) {
        return 0;
    }

    out[0] = '\0';

    if (outlen < NGX_HTTP_RTAGENT_ACS_AUTH_LEN + 1) {
        return 0;
    }

    if (account == NULL || account->key_len == 0
        || account->key_len > NGX_HTTP_RTAGENT_ACS_KEY_MAX
        || account->host_len == 0
        || account->host_len >= NGX_HTTP_RTAGENT_ACS_URL_MAX
        || method == NULL || path_query == NULL || date == NULL
        || content_hash == NULL)
    {
        return 0;
    }

    /* the method is a token of letters; signed upper-case */

    verb_len = strlen(method);

    if (verb_len == 0 || verb_len >= NGX_HTTP_RTAGENT_ACS_METHOD_MAX) {
        return 0;
    }

    for (i = 0; i < verb_len; i++) {
        verb[i] = method[i];

        if (verb[i] >= 'a' && verb[i] <= 'z') {
            verb[i] = (char) (verb[i] & ~0x20);

        } else if (verb[i] < 'A' || verb[i] > 'Z') {
            return 0;
        }
    }

    /*
     * what goes into the request line: an origin-form target, no spaces
     * or controls, which would also make the string-to-sign ambiguous
     */

    if (path_query_len == 0 || path_query[0] != '/'
        || !ngx_http_rtagent_acs_sign_printable(path_query, path_query_len))
    {
        return 0;
    }

    date_len = strnlen(date, NGX_HTTP_RTAGENT_ACS_FIELD_MAX + 1);
    hash_len = strnlen(content_hash, NGX_HTTP_RTAGENT_ACS_FIELD_MAX + 1);

    if (date_len == 0 || date_len > NGX_HTTP_RTAGENT_ACS_FIELD_MAX
        || hash_len == 0 || hash_len > NGX_HTTP_RTAGENT_ACS_FIELD_MAX)
    {
        return 0;
    }

    /* spaces are fine in the date */
    for (i = 0; i < date_len; i++) {
        if (date[i] < 0x20 || date[i] > 0x7e) {
            return 0;
        }
    }

    if (!ngx_http_rtagent_acs_sign_printable(content_hash, hash_len)) {
        return 0;
    }

    /* VERB "\n" path_query "\n" date ";" host ";" hash */

    parts[0].data = verb;
    parts[0].len = verb_len;
    parts[1].data = "\n";
    parts[1].len = 1;
    parts[2].data = path_query;
    parts[2].len = path_query_len;
    parts[3].data = "\n";
    parts[3].len = 1;
    parts[4].data = date;
    parts[4].len = date_len;
    parts[5].data = ";";
    parts[5].len = 1;
    parts[6].data = account->host;
    parts[6].len = account->host_len;
    parts[7].data = ";";
    parts[7].len = 1;
    parts[8].data = content_hash;
    parts[8].len = hash_len;

    if (ngx_http_rtagent_acs_sign_hmac(account->key, account->key_len, parts,
                                       NGX_HTTP_RTAGENT_ACS_NPARTS, mac)
        != 0)
    {
        return 0;
    }

    memcpy(out, NGX_HTTP_RTAGENT_ACS_AUTH_HEAD,
           sizeof(NGX_HTTP_RTAGENT_ACS_AUTH_HEAD) - 1);

    /* 44 characters and a NUL: exactly the room checked above */
    (void) EVP_EncodeBlock((unsigned char *) out
                           + sizeof(NGX_HTTP_RTAGENT_ACS_AUTH_HEAD) - 1,
                           mac, NGX_HTTP_RTAGENT_ACS_SHA256_LEN);

    return NGX_HTTP_RTAGENT_ACS_AUTH_LEN;
}


void
ngx_http_rtagent_acs_token(const uint8_t *secret, size_t secret_len,
    const char *ref, size_t ref_len, char *out)
{
    char                              b64[NGX_HTTP_RTAGENT_ACS_HASH_LEN + 1];
    size_t                            i;
    uint8_t                           mac[NGX_HTTP_RTAGENT_ACS_SHA256_LEN];
    ngx_http_rtagent_acs_sign_part_t  part;

    out[0] = '\0';

    /* an empty secret would make every token guessable: no token at all */
    if (secret == NULL || secret_len == 0) {
        return;
    }

    part.data = ref;
    part.len = ref ? ref_len : 0;

    if (ngx_http_rtagent_acs_sign_hmac(secret, secret_len, &part, 1, mac)
        != 0)
    {
        return;
    }

    (void) EVP_EncodeBlock((unsigned char *) b64, mac,
                           NGX_HTTP_RTAGENT_ACS_SHA256_LEN);

    /* base64url: 43 characters, the 44th is the one '=' of padding */
    for (i = 0; i < NGX_HTTP_RTAGENT_ACS_TOKEN_LEN; i++) {
        switch (b64[i]) {

        case '+':
            out[i] = '-';
            break;

        case '/':
            out[i] = '_';
            break;

        default:
            out[i] = b64[i];
        }
    }

    out[NGX_HTTP_RTAGENT_ACS_TOKEN_LEN] = '\0';
}


int
ngx_http_rtagent_acs_token_check(const uint8_t *secret,
    size_t secret_len, const char *ref, size_t ref_len, const char *token,
    size_t token_len)
{
    int   rc;
    char  expect[NGX_HTTP_RTAGENT_ACS_TOKEN_LEN + 1];

    /* the length is public: every valid token has the same one */
    if (token == NULL || token_len != NGX_HTTP_RTAGENT_ACS_TOKEN_LEN) {
        return 0;
    }

    ngx_http_rtagent_acs_token(secret, secret_len, ref, ref_len, expect);

    if (expect[0] == '\0') {
        return 0;
    }

    rc = CRYPTO_memcmp(expect, token, NGX_HTTP_RTAGENT_ACS_TOKEN_LEN) == 0;

    OPENSSL_cleanse(expect, sizeof(expect));

    return rc;
}




static void
ngx_http_rtagent_acs_sign_trim(const char **start, const char **end)
{
    while (*start < *end && (**start == ' ' || **start == '\t')) {
        (*start)++;
    }

    while (*end > *start && ((*end)[-1] == ' ' || (*end)[-1] == '\t')) {
        (*end)--;
    }
}


/*
 * "http[s]://authority" with at most a "/" after it.  The authority goes
 * into the Host header and into the string-to-sign, so it is checked
 * character by character rather than copied as given.
 */

static int
ngx_http_rtagent_acs_sign_endpoint(ngx_http_rtagent_acs_account_t *account,
    const char *s, size_t len, char *err, size_t errlen)
{
    size_t       i, scheme_len, host_len;
    const char  *scheme, *host, *rest;

    if (len >= sizeof("https://") - 1
        && ngx_http_rtagent_acs_sign_eq(s, sizeof("https://") - 1,
                                        "https://"))
    {
        scheme = "https://";

    } else if (len >= sizeof("http://") - 1
               && ngx_http_rtagent_acs_sign_eq(s, sizeof("http://") - 1,
                                               "http://"))
    {
        scheme = "http://";

    } else {
        ngx_http_rtagent_acs_errf(err, errlen,
                                  "endpoint is not an http or https "
                                  "URL");
        return -1;
    }

    scheme_len = strlen(scheme);
    host = s + scheme_len;

    for (i = scheme_len; i < len; i++) {
        if (s[i] == '/' || s[i] == '?' || s[i] == '#') {
            break;
        }
    }

    host_len = (size_t) (s + i - host);
    rest = s + i;

    for ( /* void */ ; i < len; i++) {
        if (s[i] == '?') {
            ngx_http_rtagent_acs_errf(err, errlen,
                                      "endpoint has a query");
            return -1;
        }

        if (s[i] == '#') {
            ngx_http_rtagent_acs_errf(err, errlen,
                                      "endpoint has a fragment");
            return -1;
        }
    }

    /* the SDKs strip one trailing slash; anything else is a path */
    if (s + len - rest > 1) {
        ngx_http_rtagent_acs_errf(err, errlen, "endpoint has a path");
        return -1;
    }

    if (!ngx_http_rtagent_acs_sign_authority(host, host_len)) {
        ngx_http_rtagent_acs_errf(err, errlen,
                                  "endpoint has an invalid host");
        return -1;
    }

    if (scheme_len + host_len >= NGX_HTTP_RTAGENT_ACS_URL_MAX) {
        ngx_http_rtagent_acs_errf(err, errlen, "endpoint is too long");
        return -1;
    }

    /* the scheme is written in lower case, the host as given */

    memcpy(account->endpoint, scheme, scheme_len);
    memcpy(account->endpoint + scheme_len, host, host_len);
    account->endpoint_len = scheme_len + host_len;
    account->endpoint[account->endpoint_len] = '\0';

    memcpy(account->host, host, host_len);
    account->host_len = host_len;
    account->host[host_len] = '\0';

    return 0;
}


/*
 * host[:port]: a DNS name or IPv4 address of letters, digits, '-', '.'
 * and '_', or an IPv6 literal in brackets; the port 1-65535.  No user
 * info: "user@host" is refused like any other character outside these.
 */

static int
ngx_http_rtagent_acs_sign_authority(const char *s, size_t len)
{
    char      c;
    size_t    i;
    unsigned  port;

    if (len == 0) {
        return 0;
    }

    i = 0;

    if (s[0] == '[') {
        for (i = 1; i < len && s[i] != ']'; i++) {
            c = s[i];

            if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a'
                                             && (c | 0x20) <= 'f')
                  || c == ':' || c == '.'))
            {
                return 0;
            }
        }

        /* at least "[::]" */
        if (i == len || i < 3) {
            return 0;
        }

        i++;

    } else {
        for ( /* void */ ; i < len && s[i] != ':'; i++) {
            c = s[i];

            if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a'
                                             && (c | 0x20) <= 'z')
                  || c == '-' || c == '.' || c == '_'))
            {
                return 0;
            }
        }

        if (i == 0) {
            return 0;
        }
    }

    if (i == len) {
        return 1;
    }

    if (s[i] != ':' || len - i < 2 || len - i > 6) {
        return 0;
    }

    port = 0;

    for (i++; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }

        port = port * 10 + (unsigned) (s[i] - '0');
    }

    return port >= 1 && port <= 65535;
}


/*
 * Strict RFC 4648 base64 with padding: EVP_DecodeBlock() alone would
 * skip whitespace at both ends and take '=' anywhere as zero bits.
 */

static int
ngx_http_rtagent_acs_sign_key(ngx_http_rtagent_acs_account_t *account,
    const char *s, size_t len, char *err, size_t errlen)
{
    int      n;
    char     c;
    size_t   i, pad, out;
    uint8_t  buf[NGX_HTTP_RTAGENT_ACS_KEY_B64_MAX / 4 * 3];

    if (len > NGX_HTTP_RTAGENT_ACS_KEY_B64_MAX) {
        ngx_http_rtagent_acs_errf(err, errlen, "accesskey is too long");
        return -1;
    }

    if (len % 4 != 0) {
        goto invalid;
    }

    pad = 0;

    if (s[len - 1] == '=') {
        pad = (s[len - 2] == '=') ? 2 : 1;
    }

    /* '=' other than the padding counted above is refused here */
    for (i = 0; i < len - pad; i++) {
        c = s[i];

        if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a'
                                         && (c | 0x20) <= 'z')
              || c == '+' || c == '/'))
        {
            goto invalid;
        }
    }

    out = len / 4 * 3;

    n = EVP_DecodeBlock(buf, (const unsigned char *) s, (int) len);
    if (n < 0 || (size_t) n != out) {
        OPENSSL_cleanse(buf, sizeof(buf));
        goto invalid;
    }

    out -= pad;

    if (out == 0 || out > NGX_HTTP_RTAGENT_ACS_KEY_MAX) {
        OPENSSL_cleanse(buf, sizeof(buf));
        ngx_http_rtagent_acs_errf(err, errlen,
                                  "accesskey has a bad length");
        return -1;
    }

    memcpy(account->key, buf, out);
    account->key_len = out;

    OPENSSL_cleanse(buf, sizeof(buf));

    return 0;

invalid:

    ngx_http_rtagent_acs_errf(err, errlen, "accesskey is not base64");
    return -1;
}


/* 1 if s is visible ASCII: no spaces, controls or 8-bit bytes */

static int
ngx_http_rtagent_acs_sign_printable(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (s[i] <= 0x20 || s[i] > 0x7e) {
            return 0;
        }
    }

    return 1;
}


/*
 * The HMAC implementation is fetched from the provider once per process,
 * on the first signature, instead of on every one: a fetch looks it up in
 * the method store under a lock.  nginx workers are single-threaded.  It
 * is given back by ngx_http_rtagent_acs_sign_cleanup() from the worker's
 * exit_process, not from an OPENSSL_atexit() handler: libcrypto runs those
 * from exit(), after nginx may have unloaded the module that holds it.
 */

static EVP_MAC  *ngx_http_rtagent_acs_sign_mac;


void
ngx_http_rtagent_acs_sign_cleanup(void)
{
    EVP_MAC_free(ngx_http_rtagent_acs_sign_mac);
    ngx_http_rtagent_acs_sign_mac = NULL;
}


static EVP_MAC *
ngx_http_rtagent_acs_sign_mac_get(void)
{
    EVP_MAC  *mac;

    if (ngx_http_rtagent_acs_sign_mac != NULL) {
        return ngx_http_rtagent_acs_sign_mac;
    }

    mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    if (mac == NULL) {
        return NULL;
    }

    ngx_http_rtagent_acs_sign_mac = mac;

    return mac;
}


static int
ngx_http_rtagent_acs_sign_hmac(const uint8_t *key, size_t key_len,
    const ngx_http_rtagent_acs_sign_part_t *parts, size_t nparts,
    uint8_t *mac)
{
    int           rc;
    size_t        i, mac_len;
    EVP_MAC      *hmac;
    OSSL_PARAM    params[2];
    EVP_MAC_CTX  *ctx;

    if (key_len == 0) {
        return -1;
    }

    hmac = ngx_http_rtagent_acs_sign_mac_get();
    if (hmac == NULL) {
        return -1;
    }

    ctx = EVP_MAC_CTX_new(hmac);

    if (ctx == NULL) {
        return -1;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    rc = -1;

    if (EVP_MAC_init(ctx, key, key_len, params) != 1) {
        goto done;
    }

    for (i = 0; i < nparts; i++) {
        if (parts[i].len
            && EVP_MAC_update(ctx, parts[i].data, parts[i].len) != 1)
        {
            goto done;
        }
    }

    if (EVP_MAC_final(ctx, mac, &mac_len, NGX_HTTP_RTAGENT_ACS_SHA256_LEN)
        != 1
        || mac_len != NGX_HTTP_RTAGENT_ACS_SHA256_LEN)
    {
        goto done;
    }

    rc = 0;

done:

    /* the context holds the key; EVP_MAC_CTX_free() cleanses it */
    EVP_MAC_CTX_free(ctx);

    return rc;
}
