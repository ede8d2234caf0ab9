
/*
 * Unit tests for the ACS credentials codec (cmocka): connection strings,
 * the x-ms-date and x-ms-content-sha256 values, the HMAC-SHA256
 * Authorization value and the callback token.
 *
 * The expected hashes, signatures and tokens were computed once,
 * independently of this code, with python3's hashlib, hmac and base64
 * modules (the expressions are given next to each value) and are
 * hard-coded here.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ngx_http_rtagent_acs_sign.h"


#define S(s)  (s), sizeof(s) - 1

/* the 64 bytes 0x00 ... 0x3f: base64.b64encode(bytes(range(64))) */
#define TEST_KEY64                                                           \
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEy"  \
    "MzQ1Njc4OTo7PD0+Pw=="

#define TEST_AUTH_HEAD                                                       \
    "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="

#define TEST_SECRET  "s3cr3t-callback-key-0123456789ab"


typedef struct {
    ngx_http_rtagent_acs_account_t   account;
    int                              rc;
    char                             err[128];
} parsed_t;


/* parses a connection string from a buffer of exactly its length */

static int
parse(parsed_t *p, const char *s)
{
    char    *copy;
    size_t   len;

    len = strlen(s);
    copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);

    memset(&p->account, 0xa5, sizeof(p->account));
    memset(p->err, 'x', sizeof(p->err));

    p->rc = ngx_http_rtagent_acs_account_parse(copy, len, &p->account,
                                               p->err, sizeof(p->err));
    free(copy);

    assert_true(strlen(p->err) < sizeof(p->err));

    if (p->rc == 0) {
        assert_string_equal(p->err, "");

    } else {
        assert_int_equal(p->rc, -1);
        assert_true(strlen(p->err) > 0);

        /* nothing of the key may be left behind or reported */
        assert_int_equal(p->account.key_len, 0);
        assert_null(strstr(p->err, "AAEC"));
    }

    return p->rc;
}


static void
assert_account(const parsed_t *p, const char *endpoint, const char *host)
{
    size_t  i;

    assert_int_equal(p->rc, 0);
    assert_int_equal(p->account.endpoint_len, strlen(endpoint));
    assert_string_equal(p->account.endpoint, endpoint);
    assert_int_equal(p->account.host_len, strlen(host));
    assert_string_equal(p->account.host, host);
    assert_int_equal(p->account.key_len, 64);

    for (i = 0; i < 64; i++) {
        assert_int_equal(p->account.key[i], i);
    }
}


static void
assert_refused(const char *s, const char *reason)
{
    parsed_t  p;

    assert_int_equal(parse(&p, s), -1);
    assert_string_equal(p.err, reason);
}


static void
test_account_basic(void **state)
{
    parsed_t  p;

    parse(&p, "endpoint=https://contoso.communication.azure.com/;"
              "accesskey=" TEST_KEY64);
    assert_account(&p, "https://contoso.communication.azure.com",
                   "contoso.communication.azure.com");

    /* no trailing slash, the order reversed, a trailing ';' */
    parse(&p, "accesskey=" TEST_KEY64 ";"
              "endpoint=https://contoso.communication.azure.com;");
    assert_account(&p, "https://contoso.communication.azure.com",
                   "contoso.communication.azure.com");

    /* the key must be the decoded bytes, not the text */
    parse(&p, "endpoint=https://a.b/;accesskey=c2VjcmV0");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.account.key_len, 6);
    assert_memory_equal(p.account.key, "secret", 6);
    assert_string_equal(p.account.host, "a.b");
}


static void
test_account_case_and_spaces(void **state)
{
    parsed_t  p;

    parse(&p, "EndPoint=https://contoso.communication.azure.com/;"
              "AccessKey=" TEST_KEY64);
    assert_account(&p, "https://contoso.communication.azure.com",
                   "contoso.communication.azure.com");

    parse(&p, "ENDPOINT=HTTPS://Contoso.Communication.Azure.com/;"
              "ACCESSKEY=" TEST_KEY64);
    assert_account(&p, "https://Contoso.Communication.Azure.com",
                   "Contoso.Communication.Azure.com");

    parse(&p, "  endpoint = https://contoso.communication.azure.com/ ; "
              "\taccesskey= " TEST_KEY64 "\t ;  ;");
    assert_account(&p, "https://contoso.communication.azure.com",
                   "contoso.communication.azure.com");

    /* other keys are ignored */
    parse(&p, "foo=bar;endpoint=https://contoso.communication.azure.com/;"
              "accesskey=" TEST_KEY64 ";sharedaccesskeyname=x;a=b=c");
    assert_account(&p, "https://contoso.communication.azure.com",
                   "contoso.communication.azure.com");

    /* only the first '=' splits: the key's padding stays in the value */
    parse(&p, "endpoint=https://h/;accesskey=YQ==");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.account.key_len, 1);
    assert_int_equal(p.account.key[0], 'a');
}


static void
test_account_host(void **state)
{
    parsed_t  p;

    parse(&p, "endpoint=https://localhost:8443/;accesskey=" TEST_KEY64);
    assert_account(&p, "https://localhost:8443", "localhost:8443");

    parse(&p, "endpoint=http://127.0.0.1:8080;accesskey=" TEST_KEY64);
    assert_account(&p, "http://127.0.0.1:8080", "127.0.0.1:8080");

    parse(&p, "endpoint=https://[::1]:443/;accesskey=" TEST_KEY64);
    assert_account(&p, "https://[::1]:443", "[::1]:443");

    parse(&p, "endpoint=https://[2001:db8::1]/;accesskey=" TEST_KEY64);
    assert_account(&p, "https://[2001:db8::1]", "[2001:db8::1]");

    parse(&p, "endpoint=https://my_res-1.x.y:1;accesskey=" TEST_KEY64);
    assert_account(&p, "https://my_res-1.x.y:1", "my_res-1.x.y:1");
}


static void
test_account_refused(void **state)
{
    assert_refused("", "no endpoint");
    assert_refused(" ; ;", "no endpoint");
    assert_refused("accesskey=" TEST_KEY64, "no endpoint");
    assert_refused("endpoint=;accesskey=" TEST_KEY64, "no endpoint");
    assert_refused("endpoint=https://h/", "no accesskey");
    assert_refused("endpoint=https://h/;accesskey=", "no accesskey");
    assert_refused("endpoint=https://h/;accesskey= ", "no accesskey");
    assert_refused("endpoint=https://h/;accesskey", "connection string part "
                                                    "without \"=\"");
    assert_refused("endpoint=https://h/;endpoint=https://g/;accesskey=YQ==",
                   "duplicate endpoint");
    assert_refused("endpoint=https://h/;accesskey=YQ==;AccessKey=YQ==",
                   "duplicate accesskey");

    /* schemes */
    assert_refused("endpoint=ftp://h/;accesskey=YQ==",
                   "endpoint is not an http or https URL");
    assert_refused("endpoint=h.example.com;accesskey=YQ==",
                   "endpoint is not an http or https URL");
    assert_refused("endpoint=https:/h;accesskey=YQ==",
                   "endpoint is not an http or https URL");
    assert_refused("endpoint=wss://h/;accesskey=YQ==",
                   "endpoint is not an http or https URL");

    /* paths, queries, fragments */
    assert_refused("endpoint=https://h/calling;accesskey=YQ==",
                   "endpoint has a path");
    assert_refused("endpoint=https://h//;accesskey=YQ==",
                   "endpoint has a path");
    assert_refused("endpoint=https://h/?x=1;accesskey=YQ==",
                   "endpoint has a query");
    assert_refused("endpoint=https://h?x=1;accesskey=YQ==",
                   "endpoint has a query");
    assert_refused("endpoint=https://h/#f;accesskey=YQ==",
                   "endpoint has a fragment");

    /* hosts */
    assert_refused("endpoint=https://;accesskey=YQ==",
                   "endpoint has an invalid host");
    assert_refused("endpoint=https:///;accesskey=YQ==",
                   "endpoint has an invalid host");
    assert_refused("endpoint=https://user@h/;accesskey=YQ==",
                   "endpoint has an invalid host");
    assert_refused("endpoint=https://h h/;accesskey=YQ==",
                   "endpoint has an invalid host");
    assert_refused("endpoint=https://h:/;accesskey=YQ==",
                   "endpoint has an invalid host");
    assert_refused("endpoint=https://h:0/;accesskey=YQ==",
                   "endpoint has an invalid host");
    assert_refused("endpoint=https://h:65536/;accesskey=YQ==",
                   "endpoint has an invalid host");
    assert_refused("endpoint=https://h:1234567/;accesskey=YQ==",
                   "endpoint has an invalid host");
    assert_refused("endpoint=https://h:8x/;accesskey=YQ==",
                   "endpoint has an invalid host");
    assert_refused("endpoint=https://:443/;accesskey=YQ==",
                   "endpoint has an invalid host");
    assert_refused("endpoint=https://[::1/;accesskey=YQ==",
                   "endpoint has an invalid host");
    assert_refused("endpoint=https://[g::1]/;accesskey=YQ==",
                   "endpoint has an invalid host");
    assert_refused("endpoint=https://h\r\nX: y/;accesskey=YQ==",
                   "endpoint has an invalid host");

    /* keys: alphabet, padding, length */
    assert_refused("endpoint=https://h/;accesskey=YQ=",
                   "accesskey is not base64");
    assert_refused("endpoint=https://h/;accesskey=YQ",
                   "accesskey is not base64");
    assert_refused("endpoint=https://h/;accesskey=Y===",
                   "accesskey is not base64");
    assert_refused("endpoint=https://h/;accesskey=Y=Q=",
                   "accesskey is not base64");
    assert_refused("endpoint=https://h/;accesskey=YWJj-_==",
                   "accesskey is not base64");
    assert_refused("endpoint=https://h/;accesskey=YW Jj",
                   "accesskey is not base64");
    assert_refused("endpoint=https://h/;accesskey=====",
                   "accesskey is not base64");
    assert_refused("endpoint=https://h/;accesskey=YWJj\x80xyz",
                   "accesskey is not base64");
}


static void
test_account_lengths(void **state)
{
    char      s[1024];
    char      host[NGX_HTTP_RTAGENT_ACS_URL_MAX + 1];
    size_t    n;
    parsed_t  p;

    /* 128 bytes of key: 172 characters, one of them '=' */
    n = (size_t) snprintf(s, sizeof(s), "endpoint=https://h/;accesskey=");
    memset(s + n, 'A', 171);
    memcpy(s + n + 171, "=", 2);
    assert_int_equal(parse(&p, s), 0);
    assert_int_equal(p.account.key_len, NGX_HTTP_RTAGENT_ACS_KEY_MAX);

    /* 129 bytes: as many characters, but one byte too many */
    memset(s + n, 'A', 172);
    s[n + 172] = '\0';
    assert_int_equal(parse(&p, s), -1);
    assert_string_equal(p.err, "accesskey has a bad length");

    /* one group more is refused before decoding */
    memset(s + n, 'A', 176);
    s[n + 176] = '\0';
    assert_int_equal(parse(&p, s), -1);
    assert_string_equal(p.err, "accesskey is too long");

    /* the longest endpoint that fits, "https://" + 503 */
    memset(host, 'a', sizeof(host));
    host[NGX_HTTP_RTAGENT_ACS_URL_MAX - 9] = '\0';
    snprintf(s, sizeof(s), "endpoint=https://%s/;accesskey=YQ==", host);
    assert_int_equal(parse(&p, s), 0);
    assert_int_equal(p.account.endpoint_len,
                     NGX_HTTP_RTAGENT_ACS_URL_MAX - 1);
    assert_int_equal(p.account.host_len, NGX_HTTP_RTAGENT_ACS_URL_MAX - 9);

    host[NGX_HTTP_RTAGENT_ACS_URL_MAX - 9] = 'a';
    host[NGX_HTTP_RTAGENT_ACS_URL_MAX - 8] = '\0';
    snprintf(s, sizeof(s), "endpoint=https://%s/;accesskey=YQ==", host);
    assert_int_equal(parse(&p, s), -1);
    assert_string_equal(p.err, "endpoint is too long");

    /* no err buffer at all */
    assert_int_equal(ngx_http_rtagent_acs_account_parse(S("x"), &p.account,
                                                        NULL, 0), -1);
    assert_int_equal(ngx_http_rtagent_acs_account_parse(NULL, 0, &p.account,
                                                        NULL, 0), -1);
}


static void
test_content_hash(void **state)
{
    char  out[NGX_HTTP_RTAGENT_ACS_HASH_LEN + 2];

    memset(out, 'x', sizeof(out));
    ngx_http_rtagent_acs_content_hash(NULL, 0, out);
    assert_string_equal(out, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    assert_int_equal(out[NGX_HTTP_RTAGENT_ACS_HASH_LEN + 1], 'x');

    ngx_http_rtagent_acs_content_hash((const uint8_t *) "", 0, out);
    assert_string_equal(out, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");

    /* base64.b64encode(hashlib.sha256(body).digest()) */
    ngx_http_rtagent_acs_content_hash((const uint8_t *) S(
        "{\"incomingCallContext\":\"abc\","
        "\"callbackUri\":\"https://example.com/cb\"}"), out);
    assert_string_equal(out, "sBmEtzL6VWtx8gnydbjiuEFU30VYl69aFhdwhsjS9uQ=");
}


static void
test_authorization(void **state)
{
    char      out[NGX_HTTP_RTAGENT_ACS_AUTH_LEN + 1];
    char      hash[NGX_HTTP_RTAGENT_ACS_HASH_LEN + 1];
    char      date[NGX_HTTP_RTAGENT_ACS_DATE_LEN + 1];
    size_t    n;
    parsed_t  p;

    /*
     * key = bytes(range(64)); s = "POST\n" + path_query + "\n" + date
     * + ";" + host + ";" + hash; base64.b64encode(hmac.new(key,
     * s.encode(), hashlib.sha256).digest())
     */

    assert_int_equal(parse(&p, "endpoint=https://contoso.communication."
                               "azure.com/;accesskey=" TEST_KEY64), 0);

    ngx_http_rtagent_acs_content_hash((const uint8_t *) S(
        "{\"incomingCallContext\":\"abc\","
        "\"callbackUri\":\"https://example.com/cb\"}"), hash);
    strcpy(date, "Mon, 15 Jan 2024 10:30:45 GMT");

    memset(out, 'x', sizeof(out));
    n = ngx_http_rtagent_acs_authorization(&p.account, "POST",
        S("/calling/callConnections:answer?api-version=2025-05-15"),
        date, hash, out, sizeof(out));

    assert_int_equal(n, NGX_HTTP_RTAGENT_ACS_AUTH_LEN);
    assert_int_equal(strlen(out), n);
    assert_string_equal(out, TEST_AUTH_HEAD
                        "ptN8uAJfyzxrlHRvSrsHMUJ3pDYRzbfABM1ndtaoV3k=");

    /* the method is upper-cased before signing */
    memset(out, 'x', sizeof(out));
    n = ngx_http_rtagent_acs_authorization(&p.account, "post",
        S("/calling/callConnections:answer?api-version=2025-05-15"),
        date, hash, out, sizeof(out));
    assert_int_equal(n, NGX_HTTP_RTAGENT_ACS_AUTH_LEN);
    assert_string_equal(out, TEST_AUTH_HEAD
                        "ptN8uAJfyzxrlHRvSrsHMUJ3pDYRzbfABM1ndtaoV3k=");

    n = ngx_http_rtagent_acs_authorization(&p.account, "PoSt",
        S("/calling/callConnections:answer?api-version=2025-05-15"),
        date, hash, out, sizeof(out));
    assert_string_equal(out, TEST_AUTH_HEAD
                        "ptN8uAJfyzxrlHRvSrsHMUJ3pDYRzbfABM1ndtaoV3k=");

    /* only path_query_len bytes are signed */
    n = ngx_http_rtagent_acs_authorization(&p.account, "POST",
        "/calling/callConnections:answer?api-version=2025-05-15&junk",
        sizeof("/calling/callConnections:answer?api-version=2025-05-15") - 1,
        date, hash, out, sizeof(out));
    assert_string_equal(out, TEST_AUTH_HEAD
                        "ptN8uAJfyzxrlHRvSrsHMUJ3pDYRzbfABM1ndtaoV3k=");

    /*
     * GET, empty body, a port in the host, key b"secret":
     * s = "GET\n/calling/callConnections/abc?api-version=2025-05-15\n"
     *     "Thu, 01 Jan 1970 00:00:00 GMT;localhost:8443;47DEQ...uFU="
     */

    assert_int_equal(parse(&p, "endpoint=https://localhost:8443;"
                               "accesskey=c2VjcmV0"), 0);

    ngx_http_rtagent_acs_content_hash(NULL, 0, hash);
    strcpy(date, "Thu, 01 Jan 1970 00:00:00 GMT");

    n = ngx_http_rtagent_acs_authorization(&p.account, "get",
        S("/calling/callConnections/abc?api-version=2025-05-15"),
        date, hash, out, sizeof(out));
    assert_int_equal(n, NGX_HTTP_RTAGENT_ACS_AUTH_LEN);
    assert_string_equal(out, TEST_AUTH_HEAD
                        "J90pYULxqK1lTQjqC2XYskkbkDAKWC4s+M0cGF1sjfo=");

    /* anything else signed gives another signature */
    n = ngx_http_rtagent_acs_authorization(&p.account, "GET",
        S("/calling/callConnections/abd?api-version=2025-05-15"),
        date, hash, out, sizeof(out));
    assert_int_equal(n, NGX_HTTP_RTAGENT_ACS_AUTH_LEN);
    assert_string_not_equal(out, TEST_AUTH_HEAD
                            "J90pYULxqK1lTQjqC2XYskkbkDAKWC4s+M0cGF1sjfo=");
}


static void
test_authorization_refused(void **state)
{
    char      big[NGX_HTTP_RTAGENT_ACS_AUTH_LEN + 64];
    char      out[NGX_HTTP_RTAGENT_ACS_AUTH_LEN + 1];
    char      hash[NGX_HTTP_RTAGENT_ACS_HASH_LEN + 1];
    char      date[NGX_HTTP_RTAGENT_ACS_DATE_LEN + 1];
    parsed_t  p;

    assert_int_equal(parse(&p, "endpoint=https://h/;accesskey=c2VjcmV0"), 0);

    ngx_http_rtagent_acs_content_hash(NULL, 0, hash);
    strcpy(date, "Thu, 01 Jan 1970 00:00:00 GMT");

    /* too small by one: 0 and an empty string */
    memset(out, 'x', sizeof(out));
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, "GET",
                         S("/x"), date, hash, out, sizeof(out) - 1), 0);
    assert_int_equal(out[0], '\0');

    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, "GET",
                         S("/x"), date, hash, out, 1), 0);
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, "GET",
                         S("/x"), date, hash, out, 0), 0);
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, "GET",
                         S("/x"), date, hash, NULL, 200), 0);

    /* a bigger buffer is fine, the length is the same */
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, "GET",
                         S("/x"), date, hash, big, sizeof(big)),
                     NGX_HTTP_RTAGENT_ACS_AUTH_LEN);
    assert_int_equal(strlen(big), NGX_HTTP_RTAGENT_ACS_AUTH_LEN);

    /* methods */
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, "",
                         S("/x"), date, hash, out, sizeof(out)), 0);
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, "G T",
                         S("/x"), date, hash, out, sizeof(out)), 0);
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account,
                         "GET\n/y", S("/x"), date, hash, out, sizeof(out)),
                     0);
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account,
                         "VERYLONGMETHODNAME", S("/x"), date, hash, out,
                         sizeof(out)), 0);
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, NULL,
                         S("/x"), date, hash, out, sizeof(out)), 0);

    /* targets */
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, "GET",
                         "", 0, date, hash, out, sizeof(out)), 0);
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, "GET",
                         S("x"), date, hash, out, sizeof(out)), 0);
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, "GET",
                         S("/a b"), date, hash, out, sizeof(out)), 0);
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, "GET",
                         S("/a\n"), date, hash, out, sizeof(out)), 0);

    /* date and hash */
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, "GET",
                         S("/x"), "", hash, out, sizeof(out)), 0);
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, "GET",
                         S("/x"), date, "", out, sizeof(out)), 0);
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, "GET",
                         S("/x"), "Thu\n", hash, out, sizeof(out)), 0);
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, "GET",
                         S("/x"), date, "a b", out, sizeof(out)), 0);

    /* no account, or one that was never parsed */
    assert_int_equal(ngx_http_rtagent_acs_authorization(NULL, "GET",
                         S("/x"), date, hash, out, sizeof(out)), 0);
    memset(&p.account, 0, sizeof(p.account));
    assert_int_equal(ngx_http_rtagent_acs_authorization(&p.account, "GET",
                         S("/x"), date, hash, out, sizeof(out)), 0);
}


static void
test_token(void **state)
{
    char    t1[NGX_HTTP_RTAGENT_ACS_TOKEN_LEN + 2];
    char    t2[NGX_HTTP_RTAGENT_ACS_TOKEN_LEN + 1];
    char    bad[NGX_HTTP_RTAGENT_ACS_TOKEN_LEN + 2];
    size_t  i;

    /*
     * base64.urlsafe_b64encode(hmac.new(b"s3cr3t-callback-key-0123456789ab",
     * b"call-ref-42", hashlib.sha256).digest()).rstrip(b"=")
     */

    memset(t1, 'x', sizeof(t1));
    ngx_http_rtagent_acs_token((const uint8_t *) S(TEST_SECRET),
                               S("call-ref-42"), t1);
    assert_string_equal(t1, "Td_rNR-EKBuFV_jD3whmbBOEWiNGy8xYG1qdVhKIq10");
    assert_int_equal(strlen(t1), NGX_HTTP_RTAGENT_ACS_TOKEN_LEN);
    assert_int_equal(t1[NGX_HTTP_RTAGENT_ACS_TOKEN_LEN + 1], 'x');

    /* deterministic */
    ngx_http_rtagent_acs_token((const uint8_t *) S(TEST_SECRET),
                               S("call-ref-42"), t2);
    assert_string_equal(t1, t2);

    /* an empty ref has a token too */
    ngx_http_rtagent_acs_token((const uint8_t *) S(TEST_SECRET), "", 0, t2);
    assert_string_equal(t2, "HgFIXy0a_0XP3_WKHFLpkAn1qxhgnSslY2sDWwsFUFQ");
    ngx_http_rtagent_acs_token((const uint8_t *) S(TEST_SECRET), NULL, 0, t2);
    assert_string_equal(t2, "HgFIXy0a_0XP3_WKHFLpkAn1qxhgnSslY2sDWwsFUFQ");

    /* the check accepts it */
    assert_int_equal(ngx_http_rtagent_acs_token_check(
                         (const uint8_t *) S(TEST_SECRET), S("call-ref-42"),
                         t1, NGX_HTTP_RTAGENT_ACS_TOKEN_LEN), 1);

    /* one changed character, wherever it is */
    for (i = 0; i < NGX_HTTP_RTAGENT_ACS_TOKEN_LEN; i++) {
        memcpy(bad, t1, sizeof(t2));
        bad[i] = (bad[i] == 'A') ? 'B' : 'A';

        assert_int_equal(ngx_http_rtagent_acs_token_check(
                             (const uint8_t *) S(TEST_SECRET),
                             S("call-ref-42"), bad,
                             NGX_HTTP_RTAGENT_ACS_TOKEN_LEN), 0);
    }

    /* wrong lengths: shorter, one more character, the padded form */
    memcpy(bad, t1, sizeof(t2));
    assert_int_equal(ngx_http_rtagent_acs_token_check(
                         (const uint8_t *) S(TEST_SECRET), S("call-ref-42"),
                         bad, NGX_HTTP_RTAGENT_ACS_TOKEN_LEN - 1), 0);
    bad[NGX_HTTP_RTAGENT_ACS_TOKEN_LEN] = '=';
    assert_int_equal(ngx_http_rtagent_acs_token_check(
                         (const uint8_t *) S(TEST_SECRET), S("call-ref-42"),
                         bad, NGX_HTTP_RTAGENT_ACS_TOKEN_LEN + 1), 0);
    assert_int_equal(ngx_http_rtagent_acs_token_check(
                         (const uint8_t *) S(TEST_SECRET), S("call-ref-42"),
                         "", 0), 0);
    assert_int_equal(ngx_http_rtagent_acs_token_check(
                         (const uint8_t *) S(TEST_SECRET), S("call-ref-42"),
                         NULL, 0), 0);

    /* another ref, another secret */
    assert_int_equal(ngx_http_rtagent_acs_token_check(
                         (const uint8_t *) S(TEST_SECRET), S("call-ref-43"),
                         t1, NGX_HTTP_RTAGENT_ACS_TOKEN_LEN), 0);
    assert_int_equal(ngx_http_rtagent_acs_token_check(
                         (const uint8_t *) S(TEST_SECRET), S("call-ref-4"),
                         t1, NGX_HTTP_RTAGENT_ACS_TOKEN_LEN), 0);
    assert_int_equal(ngx_http_rtagent_acs_token_check(
                         (const uint8_t *)
                             S("s3cr3t-callback-key-0123456789aB"),
                         S("call-ref-42"), t1,
                         NGX_HTTP_RTAGENT_ACS_TOKEN_LEN), 0);

    /* no secret: no token, and nothing checks */
    ngx_http_rtagent_acs_token(NULL, 0, S("call-ref-42"), t2);
    assert_string_equal(t2, "");
    ngx_http_rtagent_acs_token((const uint8_t *) "", 0, S("call-ref-42"), t2);
    assert_string_equal(t2, "");
    assert_int_equal(ngx_http_rtagent_acs_token_check(
                         (const uint8_t *) "", 0, S("call-ref-42"),
                         t1, NGX_HTTP_RTAGENT_ACS_TOKEN_LEN), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_account_basic),
        cmocka_unit_test(test_account_case_and_spaces),
        cmocka_unit_test(test_account_host),
        cmocka_unit_test(test_account_refused),
        cmocka_unit_test(test_account_lengths),
        cmocka_unit_test(test_content_hash),
        cmocka_unit_test(test_authorization),
        cmocka_unit_test(test_authorization_refused),
        cmocka_unit_test(test_token),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
