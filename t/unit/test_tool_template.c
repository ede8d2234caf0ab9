
/*
 * Unit tests for the tool store's templates (cmocka).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/ngx_http_rtagent_tool_template.h"


typedef struct {
    const char  *name;
    const char  *value;
    unsigned     string;
} var_t;


/* a NULL-named end; value NULL: an object (cannot be written) */
static const var_t  vars[] = {
    { "zip", "60614", 1 },
    { "q", "rain & snow/\xc3\xbc?", 1 },
    { "n", "2", 0 },
    { "flag", "true", 0 },
    { "who", "Bob \"B\"\\\n", 1 },
    { "crlf", "a\r\nX-Evil: 1", 1 },
    { "bad_utf8", "\xff", 1 },
    { "obj", NULL, 0 },
    { NULL, NULL, 0 }
};


static void *
test_alloc(void *ctx, size_t size)
{
    (void) ctx;

    return test_malloc(size);
}


static int
lookup(void *ctx, const unsigned char *name, size_t len,
    ngx_http_rtagent_tpl_value_t *v)
{
    const var_t  *var;

    (void) ctx;

    for (var = vars; var->name; var++) {
        if (strlen(var->name) == len && memcmp(var->name, name, len) == 0) {
            if (var->value == NULL) {
                return -2;
            }

            v->data = (const unsigned char *) var->value;
            v->len = strlen(var->value);
            v->string = var->string;
            return 0;
        }
    }

    return -1;
}


/* compiles and fills s in mode: the result (test_malloc'd) or NULL, err */
static char *
fill(const char *s, unsigned mode, char *err, size_t errlen)
{
    char                    *out;
    size_t                   len;
    ngx_http_rtagent_tpl_t   t;

    if (ngx_http_rtagent_tpl_compile((const unsigned char *) s, strlen(s),
                                     mode, test_alloc, NULL, &t, err, errlen)
        != 0)
    {
        /* what was handed out is not given back: an arena's or a pool's */
        if (t.segs) {
            test_free(t.segs);
        }

        return NULL;
    }

    out = NULL;

    if (ngx_http_rtagent_tpl_fill(&t, lookup, NULL, NULL, &len, err, errlen)
        == 0)
    {
        out = test_malloc(len + 1);

        if (ngx_http_rtagent_tpl_fill(&t, lookup, NULL, (unsigned char *) out,
                                      &len, err, errlen)
            != 0)
        {
            fail_msg("the second fill failed: %s", err);
        }

        out[len] = '\0';
    }

    if (t.segs) {
        test_free(t.segs);
    }

    return out;
}


static void
expect(const char *s, unsigned mode, const char *want)
{
    char   err[256], *out;

    out = fill(s, mode, err, sizeof(err));

    if (out == NULL) {
        fail_msg("\"%s\": refused: %s", s, err);
    }

    assert_string_equal(out, want);
    test_free(out);
}


static void
refuse(const char *s, unsigned mode, const char *why)
{
    char   err[256], *out;

    out = fill(s, mode, err, sizeof(err));

    if (out) {
        fail_msg("\"%s\": accepted as \"%s\"", s, out);
    }

    assert_string_equal(err, why);
}


static void
test_text(void **state)
{
    (void) state;

    expect("HGET", NGX_HTTP_RTAGENT_TPL_TEXT, "HGET");
    expect("rtagent:profile:{{zip}}", NGX_HTTP_RTAGENT_TPL_TEXT,
           "rtagent:profile:{60614}");
    expect("{zip}{n}", NGX_HTTP_RTAGENT_TPL_TEXT, "606142");
    expect("a{crlf}", NGX_HTTP_RTAGENT_TPL_TEXT, "aa\r\nX-Evil: 1");
    /* not placeholders: literals */
    expect("{} {1a} {a-b} {zip", NGX_HTTP_RTAGENT_TPL_TEXT,
           "{} {1a} {a-b} {zip");
    expect("{env:X}", NGX_HTTP_RTAGENT_TPL_TEXT, "{env:X}");
    expect("", NGX_HTTP_RTAGENT_TPL_TEXT, "");
    refuse("{nope}", NGX_HTTP_RTAGENT_TPL_TEXT, "missing argument \"nope\"");
    refuse("{obj}", NGX_HTTP_RTAGENT_TPL_TEXT,
           "argument \"obj\": not a string, number or boolean");
}


static void
test_url(void **state)
{
    (void) state;

    expect("https://api.example.com/v1/{zip}?q={q}",
           NGX_HTTP_RTAGENT_TPL_URL,
           "https://api.example.com/v1/60614?q=rain%20%26%20snow%2F%C3%BC%3F");
    expect("http://h/{who}", NGX_HTTP_RTAGENT_TPL_URL,
           "http://h/Bob%20%22B%22%5C%0A");
    expect("HTTPS://h?x={n}", NGX_HTTP_RTAGENT_TPL_URL, "HTTPS://h?x=2");
    expect("https://h", NGX_HTTP_RTAGENT_TPL_URL, "https://h");

    refuse("https://{zip}.example.com/", NGX_HTTP_RTAGENT_TPL_URL,
           "a placeholder in the URL's host: the host must be written out");
    refuse("https://h{zip}/", NGX_HTTP_RTAGENT_TPL_URL,
           "a placeholder in the URL's host: the host must be written out");
    refuse("https:///{zip}", NGX_HTTP_RTAGENT_TPL_URL, "the URL has no host");
    refuse("{zip}/x", NGX_HTTP_RTAGENT_TPL_URL,
           "not an http:// or https:// URL");
    refuse("ftp://h/{zip}", NGX_HTTP_RTAGENT_TPL_URL,
           "not an http:// or https:// URL");
    refuse("https://h/a b", NGX_HTTP_RTAGENT_TPL_URL,
           "a space, control or non-ASCII byte in the URL");
}


static void
test_json(void **state)
{
    (void) state;

    expect("{\"zip\": \"{zip}\", \"n\": {n}, \"f\": {flag}, \"w\": {who}}",
           NGX_HTTP_RTAGENT_TPL_JSON,
           "{\"zip\": \"60614\", \"n\": 2, \"f\": true,"
           " \"w\": \"Bob \\\"B\\\"\\\\\\n\"}");
    expect("{\"s\": \"n={n} {who}\"}", NGX_HTTP_RTAGENT_TPL_JSON,
           "{\"s\": \"n=2 Bob \\\"B\\\"\\\\\\n\"}");
    expect("[{n}, {zip}]", NGX_HTTP_RTAGENT_TPL_JSON, "[2, \"60614\"]");
    /* an escaped quote does not end the string */
    expect("{\"s\": \"a\\\"{n}\"}", NGX_HTTP_RTAGENT_TPL_JSON,
           "{\"s\": \"a\\\"2\"}");
    expect("{\"c\": \"\\u0001{crlf}\"}", NGX_HTTP_RTAGENT_TPL_JSON,
           "{\"c\": \"\\u0001a\\r\\nX-Evil: 1\"}");

    refuse("{\"a\": {n} {n}}", NGX_HTTP_RTAGENT_TPL_JSON,
           "not a JSON template (malformed JSON: parse error: after key and"
           " value, inside map, I expect ',' or '}')");
    /* a placeholder that would run into a literal: "-" then a string */
    refuse("-{zip}", NGX_HTTP_RTAGENT_TPL_JSON,
           "not a JSON template (malformed JSON: lexical error: malformed"
           " number, a digit is required after the minus sign.)");
    refuse("[1{n}]", NGX_HTTP_RTAGENT_TPL_JSON,
           "not a JSON template (malformed JSON: parse error: after array"
           " element, I expect ',' or ']')");
    /* a placeholder inside an escape sequence */
    refuse("{\"a\": \"\\u{n}123\"}", NGX_HTTP_RTAGENT_TPL_JSON,
           "not a JSON template (malformed JSON: lexical error: invalid"
           " (non-hex) character occurs after '\\u' inside string.)");
    refuse("{\"a\": \"{bad_utf8}\"}", NGX_HTTP_RTAGENT_TPL_JSON,
           "argument \"bad_utf8\": not UTF-8");
}


static void
test_header(void **state)
{
    char                    err[128];
    ngx_http_rtagent_tpl_t  t;

    (void) state;

    expect("Bearer {zip}", NGX_HTTP_RTAGENT_TPL_HEADER, "Bearer 60614");
    refuse("x {crlf}", NGX_HTTP_RTAGENT_TPL_HEADER,
           "argument \"crlf\": a line break or NUL in a header");
    refuse("a\r\nb", NGX_HTTP_RTAGENT_TPL_HEADER,
           "a line break or NUL in a header value");

    /* {env:NAME}: a segment of its own, for the owner to resolve */
    assert_int_equal(ngx_http_rtagent_tpl_compile(
                         (const unsigned char *) "k={env:API_KEY};{zip}", 21,
                         NGX_HTTP_RTAGENT_TPL_HEADER, test_alloc, NULL, &t,
                         err, sizeof(err)), 0);
    assert_int_equal(t.nsegs, 4);
    assert_int_equal(t.segs[1].type, NGX_HTTP_RTAGENT_TPL_ENV);
    assert_int_equal(t.segs[1].len, 7);
    assert_memory_equal(t.segs[1].data, "API_KEY", 7);
    assert_true(ngx_http_rtagent_tpl_uses(&t, "zip"));
    assert_false(ngx_http_rtagent_tpl_uses(&t, "API_KEY"));
    test_free(t.segs);

    refuse("{env:API_KEY}", NGX_HTTP_RTAGENT_TPL_HEADER,
           "{env:API_KEY} was not resolved");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_header),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
