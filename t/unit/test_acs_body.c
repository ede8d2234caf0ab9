
/*
 * Unit tests for the Call Automation REST bodies (cmocka).
 *
 * Every body built is parsed back with yajl's tree API and checked field
 * by field, including the order and the exact set of keys.  Responses
 * are handed over in buffers of exactly their length, without a NUL, so
 * an ASan build catches any read past them.  Fixtures are read from
 * $RTAGENT_FIXTURES, by default t/fixtures (the tests
 * run from the repo root).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <yajl/yajl_tree.h>

#include "ngx_http_rtagent_acs_body.h"

#include "test_fixtures.h"


#define TEST_USER    "8:acs:b9614373-fd0b-480c-8fd2-cb58b70eab9f_0f50d091"
#define TEST_PHONE   "+18440123456"
#define TEST_CB      "https://gw.example/acs/cb/1?token=abc"
#define TEST_WSS     "wss://gw.example/acs/media/1"

/* the case being checked, shown with TEST_VERBOSE=1 to find a failure */
#define trace(...)                                                           \
    do {                                                                     \
        if (getenv("TEST_VERBOSE")) {                                        \
            print_message(__VA_ARGS__);                                      \
        }                                                                    \
    } while (0)


typedef struct {
    char      *body;
    size_t     len;
    yajl_val   tree;
} built_t;


/*
 * Takes a builder's result, checks *len and parses it back; len is read
 * here, after the builder has set it (argument order is unspecified).
 */

static yajl_val
built(built_t *b, char *body, const size_t *lenp)
{
    size_t  len;

    char  err[256];

    assert_non_null(body);
    trace("%s\n", body);

    len = *lenp;

    b->body = body;
    b->len = len;

    assert_int_equal(strlen(body), len);

    /* beautify off, and newlines in strings are escaped */
    assert_null(strchr(body, '\n'));
    assert_null(strstr(body, "\": "));

    b->tree = yajl_tree_parse(body, err, sizeof(err));
    if (b->tree == NULL) {
        fail_msg("not JSON: %s: %s", err, body);
    }

    assert_true(YAJL_IS_OBJECT(b->tree));

    return b->tree;
}


static void
done(built_t *b)
{
    yajl_tree_free(b->tree);
    free(b->body);
    b->tree = NULL;
    b->body = NULL;
}


static yajl_val
member(yajl_val obj, const char *key)
{
    size_t  i;

    if (!YAJL_IS_OBJECT(obj)) {
        return NULL;
    }

    for (i = 0; i < obj->u.object.len; i++) {
        if (strcmp(obj->u.object.keys[i], key) == 0) {
            return obj->u.object.values[i];
        }
    }

    return NULL;
}


/* the string at a NULL-ended path of keys; fails the test if it is not */

static const char *
str(yajl_val obj, ...)
{
    va_list      args;
    const char  *key;

    va_start(args, obj);

    for (key = va_arg(args, const char *);
         key;
         key = va_arg(args, const char *))
    {
        obj = member(obj, key);
    }

    va_end(args);

    if (!YAJL_IS_STRING(obj)) {
        fail_msg("not a string");
    }

    return obj->u.string;
}


/* asserts that obj has exactly these keys, in this order */

static void
keys(yajl_val obj, ...)
{
    size_t       i;
    va_list      args;
    const char  *key;

    assert_true(YAJL_IS_OBJECT(obj));

    va_start(args, obj);

    for (i = 0, key = va_arg(args, const char *);
         key;
         i++, key = va_arg(args, const char *))
    {
        if (i >= obj->u.object.len) {
            fail_msg("missing key \"%s\"", key);
        }

        assert_string_equal(obj->u.object.keys[i], key);
    }

    va_end(args);

    assert_int_equal(obj->u.object.len, i);
}


static void
check_ident(yajl_val id, const char *raw, const char *sub, const char *key,
    const char *value)
{
    keys(id, "rawId", sub, NULL);
    assert_string_equal(str(id, "rawId", NULL), raw);
    keys(member(id, sub), key, NULL);
    assert_string_equal(str(id, sub, key, NULL), value);
}


/* a private copy of exactly len bytes, without a NUL */

static char *
exact(const char *s, size_t len)
{
    char  *p;

    p = malloc(len ? len : 1);
    assert_non_null(p);
    memcpy(p, s, len);

    return p;
}


static void
test_answer_minimal(void **state)
{
    char                               *body;
    size_t                              len;
    ngx_http_rtagent_acs_media_opts_t   media;

    (void) state;

    media.transport_url = "wss://gw/acs/media/<id>";
    media.audio_format = "pcm16KMono";
    media.enable_dtmf = 0;

    /* byte for byte the minimal body of PROTOCOLS.md 1.5 */
    body = ngx_http_rtagent_acs_body_answer("\xe2\x80\xa6",
                                 "https://gw/acs/cb/<id>?token=\xe2\x80\xa6",
                                 NULL, &media, &len);
    assert_non_null(body);
    assert_string_equal(body,
        "{\"incomingCallContext\":\"\xe2\x80\xa6\","
        "\"callbackUri\":\"https://gw/acs/cb/<id>?token=\xe2\x80\xa6\","
        "\"mediaStreamingOptions\":{\"transportType\":\"websocket\","
        "\"transportUrl\":\"wss://gw/acs/media/<id>\","
        "\"contentType\":\"audio\",\"audioChannelType\":\"mixed\","
        "\"startMediaStreaming\":true,\"enableBidirectional\":true,"
        "\"audioFormat\":\"pcm16KMono\"}}");
    assert_int_equal(len, strlen(body));
    free(body);
}


/* the answer body has the shape of the 2025-05-15 example request */

static void
test_answer_shape(void **state)
{
    char                               *json;
    char                                err[256];
    size_t                              i, len;
    built_t                             b;
    yajl_val                            ex, exm, m, v, ev;
    const char                         *k;
    ngx_http_rtagent_acs_media_opts_t   media;

    (void) state;

    json = read_file(fixtures(), "acs_answerCall_request_2025-05-15.json",
                     &len);
    ex = yajl_tree_parse(json, err, sizeof(err));
    if (ex == NULL) {
        fail_msg("fixture: %s", err);
    }

    free(json);

    media.transport_url = TEST_WSS;
    media.audio_format = "pcm24KMono";
    media.enable_dtmf = 1;

    built(&b, ngx_http_rtagent_acs_body_answer("ctx-1", TEST_CB, "op-1",
                                               &media, &len),
          &len);

    keys(b.tree, "incomingCallContext", "callbackUri", "operationContext",
         "mediaStreamingOptions", NULL);
    assert_string_equal(str(b.tree, "incomingCallContext", NULL), "ctx-1");
    assert_string_equal(str(b.tree, "callbackUri", NULL), TEST_CB);
    assert_string_equal(str(b.tree, "operationContext", NULL), "op-1");

    /* every top-level field of ours is in the example, of the same type */
    for (i = 0; i < b.tree->u.object.len; i++) {
        k = b.tree->u.object.keys[i];
        ev = member(ex, k);
        assert_non_null(ev);
        assert_int_equal(ev->type, b.tree->u.object.values[i]->type);
    }

    m = member(b.tree, "mediaStreamingOptions");
    exm = member(ex, "mediaStreamingOptions");

    keys(m, "transportType", "transportUrl", "contentType",
         "audioChannelType", "startMediaStreaming", "enableBidirectional",
         "audioFormat", "enableDtmfTones", NULL);

    /* the example's media options, but "kind" (not a spec property) */
    for (i = 0; i < exm->u.object.len; i++) {
        k = exm->u.object.keys[i];
        ev = exm->u.object.values[i];

        if (strcmp(k, "kind") == 0) {
            assert_null(member(m, k));
            continue;
        }

        trace("mediaStreamingOptions.%s\n", k);

        v = member(m, k);
        assert_non_null(v);
        assert_int_equal(v->type, ev->type);

        if (strcmp(k, "transportUrl") == 0) {
            assert_string_equal(v->u.string, TEST_WSS);

        } else if (strcmp(k, "audioFormat") == 0) {
            assert_string_equal(v->u.string, "pcm24KMono");

        } else if (YAJL_IS_STRING(ev)) {
            assert_string_equal(v->u.string, ev->u.string);
        }
    }

    assert_true(YAJL_IS_TRUE(member(m, "startMediaStreaming")));
    assert_true(YAJL_IS_TRUE(member(m, "enableBidirectional")));
    assert_true(YAJL_IS_TRUE(member(m, "enableDtmfTones")));

    done(&b);
    yajl_tree_free(ex);
}


static void
test_answer_optional(void **state)
{
    size_t                              len;
    built_t                             b;
    ngx_http_rtagent_acs_media_opts_t   media;

    (void) state;

    /* no media at all */
    built(&b, ngx_http_rtagent_acs_body_answer("c", TEST_CB, NULL, NULL,
                                               &len),
          &len);
    keys(b.tree, "incomingCallContext", "callbackUri", NULL);
    done(&b);

    /* no audio format, no DTMF; an empty operation context is sent */
    media.transport_url = TEST_WSS;
    media.audio_format = NULL;
    media.enable_dtmf = 0;

    built(&b, ngx_http_rtagent_acs_body_answer("c", TEST_CB, "", &media,
                                               &len),
          &len);
    keys(b.tree, "incomingCallContext", "callbackUri", "operationContext",
         "mediaStreamingOptions", NULL);
    assert_string_equal(str(b.tree, "operationContext", NULL), "");
    keys(member(b.tree, "mediaStreamingOptions"), "transportType",
         "transportUrl", "contentType", "audioChannelType",
         "startMediaStreaming", "enableBidirectional", NULL);
    done(&b);

    /* len may be NULL */
    b.body = ngx_http_rtagent_acs_body_answer("c", TEST_CB, NULL, NULL,
                                              NULL);
    assert_non_null(b.body);
    free(b.body);

    /* required arguments */
    len = 99;
    assert_null(ngx_http_rtagent_acs_body_answer(NULL, TEST_CB, NULL, NULL,
                                                 &len));
    assert_int_equal(len, 0);
    assert_null(ngx_http_rtagent_acs_body_answer("", TEST_CB, NULL, NULL,
                                                 &len));
    assert_null(ngx_http_rtagent_acs_body_answer("c", NULL, NULL, NULL,
                                                 &len));
    assert_null(ngx_http_rtagent_acs_body_answer("c", "", NULL, NULL, &len));

    media.transport_url = NULL;
    assert_null(ngx_http_rtagent_acs_body_answer("c", TEST_CB, NULL, &media,
                                                 &len));
    media.transport_url = "";
    assert_null(ngx_http_rtagent_acs_body_answer("c", TEST_CB, NULL, &media,
                                                 &len));
}


static void
test_target_valid(void **state)
{
    unsigned  i;

    static const struct {
        const char  *target;
        int          valid;
    } cases[] = {
        { "+1234567", 1 },
        { "+123456789012345", 1 },
        { "+123456", 0 },
        { "+1234567890123456", 0 },
        { "+18440123456", 1 },
        { "4:+18440123456", 1 },
        { "4:18440123456", 0 },
        { "4:", 0 },
        { "4:+", 0 },
        { "4:8:acs:x", 0 },
        { "18440123456", 0 },
        { "+1844012345a", 0 },
        { "+1844 0123456", 0 },
        { "+18440123456 ", 0 },
        { " +18440123456", 0 },
        { "+", 0 },
        { "++18440123456", 0 },
        { "8:acs:r_u", 1 },
        { "8:x", 1 },
        { "8:orgid:6b45c5b6", 1 },
        { "8:", 0 },
        { "8:acs: x", 0 },
        { "8:acs:x\t", 0 },
        { "8:acs:\x7f", 0 },
        { "8:acs:\xc3\xa9", 0 },
        { "8:acs:x\n", 0 },
        { "28:6b45c5b6-1c34-47c0-8980-11e98d47d23f", 1 },
        { "28:", 0 },
        { "28: x", 0 },
        { "28", 0 },
        { "8", 0 },
        { "38:x", 0 },
        { "acs:x", 0 },
        { "", 0 },
        { "sip:x@y", 0 }
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        trace("%s\n", cases[i].target);
        assert_int_equal(ngx_http_rtagent_acs_target_valid(cases[i].target),
                         cases[i].valid);
    }

    assert_int_equal(ngx_http_rtagent_acs_target_valid(NULL), 0);
}


static void
test_create(void **state)
{
    size_t                              len;
    built_t                             b;
    yajl_val                            t;
    ngx_http_rtagent_acs_media_opts_t   media;

    (void) state;

    media.transport_url = TEST_WSS;
    media.audio_format = "pcm16KMono";
    media.enable_dtmf = 0;

    built(&b, ngx_http_rtagent_acs_body_create("+15551234567", TEST_PHONE,
                                               "Bot", TEST_CB, "op",
                                               &media, &len),
          &len);
    keys(b.tree, "targets", "sourceCallerIdNumber", "sourceDisplayName",
         "callbackUri", "operationContext", "mediaStreamingOptions", NULL);

    t = member(b.tree, "targets");
    assert_true(YAJL_IS_ARRAY(t));
    assert_int_equal(t->u.array.len, 1);
    check_ident(t->u.array.values[0], "4:+15551234567", "phoneNumber",
                "value", "+15551234567");

    keys(member(b.tree, "sourceCallerIdNumber"), "value", NULL);
    assert_string_equal(str(b.tree, "sourceCallerIdNumber", "value", NULL),
                        TEST_PHONE);
    assert_string_equal(str(b.tree, "sourceDisplayName", NULL), "Bot");
    assert_string_equal(str(b.tree, "callbackUri", NULL), TEST_CB);
    assert_string_equal(str(b.tree, "operationContext", NULL), "op");
    assert_string_equal(str(b.tree, "mediaStreamingOptions", "transportUrl",
                            NULL),
                        TEST_WSS);
    done(&b);

    /* "4:" forms are sent without it in the value */
    built(&b, ngx_http_rtagent_acs_body_create("4:+15551234567",
                                               "4:" TEST_PHONE, NULL,
                                               TEST_CB, NULL, NULL, &len),
          &len);
    keys(b.tree, "targets", "sourceCallerIdNumber", "callbackUri", NULL);
    check_ident(member(b.tree, "targets")->u.array.values[0],
                "4:+15551234567", "phoneNumber", "value", "+15551234567");
    assert_string_equal(str(b.tree, "sourceCallerIdNumber", "value", NULL),
                        TEST_PHONE);
    done(&b);

    /* an ACS user needs no caller id */
    built(&b, ngx_http_rtagent_acs_body_create(TEST_USER, NULL, NULL,
                                               TEST_CB, NULL, NULL, &len),
          &len);
    keys(b.tree, "targets", "callbackUri", NULL);
    check_ident(member(b.tree, "targets")->u.array.values[0], TEST_USER,
                "communicationUser", "id", TEST_USER);
    done(&b);

    built(&b, ngx_http_rtagent_acs_body_create("28:app-1", NULL, "d",
                                               TEST_CB, NULL, NULL, &len),
          &len);
    check_ident(member(b.tree, "targets")->u.array.values[0], "28:app-1",
                "microsoftTeamsApp", "appId", "app-1");
    done(&b);

    /* refused */
    len = 99;
    assert_null(ngx_http_rtagent_acs_body_create("+15551234567", NULL, NULL,
                                                 TEST_CB, NULL, NULL, &len));
    assert_int_equal(len, 0);
    assert_null(ngx_http_rtagent_acs_body_create("+15551234567", TEST_USER,
                                                 NULL, TEST_CB, NULL, NULL,
                                                 &len));
    assert_null(ngx_http_rtagent_acs_body_create("+15551234567", "+1", NULL,
                                                 TEST_CB, NULL, NULL, &len));
    assert_null(ngx_http_rtagent_acs_body_create(TEST_USER, "", NULL,
                                                 TEST_CB, NULL, NULL, &len));
    assert_null(ngx_http_rtagent_acs_body_create("bob", NULL, NULL, TEST_CB,
                                                 NULL, NULL, &len));
    assert_null(ngx_http_rtagent_acs_body_create(NULL, NULL, NULL, TEST_CB,
                                                 NULL, NULL, &len));
    assert_null(ngx_http_rtagent_acs_body_create(TEST_USER, NULL, NULL, NULL,
                                                 NULL, NULL, &len));
    assert_null(ngx_http_rtagent_acs_body_create(TEST_USER, NULL, NULL, "",
                                                 NULL, NULL, &len));

    media.transport_url = NULL;
    assert_null(ngx_http_rtagent_acs_body_create(TEST_USER, NULL, NULL,
                                                 TEST_CB, NULL, &media,
                                                 &len));
}


static void
test_transfer(void **state)
{
    size_t   len;
    built_t  b;

    (void) state;

    built(&b, ngx_http_rtagent_acs_body_transfer("+15551234567", "op",
                                                 TEST_CB, &len),
          &len);
    keys(b.tree, "targetParticipant", "operationContext",
         "operationCallbackUri", NULL);
    check_ident(member(b.tree, "targetParticipant"), "4:+15551234567",
                "phoneNumber", "value", "+15551234567");
    assert_string_equal(str(b.tree, "operationContext", NULL), "op");
    assert_string_equal(str(b.tree, "operationCallbackUri", NULL), TEST_CB);
    done(&b);

    built(&b, ngx_http_rtagent_acs_body_transfer(TEST_USER, NULL, NULL,
                                                 &len),
          &len);
    keys(b.tree, "targetParticipant", NULL);
    check_ident(member(b.tree, "targetParticipant"), TEST_USER,
                "communicationUser", "id", TEST_USER);
    done(&b);

    assert_null(ngx_http_rtagent_acs_body_transfer("+1", "op", NULL, &len));
    assert_null(ngx_http_rtagent_acs_body_transfer(NULL, NULL, NULL, &len));
}


static void
test_recording(void **state)
{
    size_t   len;
    built_t  b;

    (void) state;

    built(&b, ngx_http_rtagent_acs_body_recording("srv==", TEST_CB, &len),
          &len);
    keys(b.tree, "callLocator", "recordingStateCallbackUri",
         "recordingContentType", "recordingChannelType",
         "recordingFormatType", NULL);
    keys(member(b.tree, "callLocator"), "kind", "serverCallId", NULL);
    assert_string_equal(str(b.tree, "callLocator", "kind", NULL),
                        "serverCallLocator");
    assert_string_equal(str(b.tree, "callLocator", "serverCallId", NULL),
                        "srv==");
    assert_string_equal(str(b.tree, "recordingStateCallbackUri", NULL),
                        TEST_CB);
    assert_string_equal(str(b.tree, "recordingContentType", NULL), "audio");
    assert_string_equal(str(b.tree, "recordingChannelType", NULL), "mixed");
    assert_string_equal(str(b.tree, "recordingFormatType", NULL), "wav");
    done(&b);

    built(&b, ngx_http_rtagent_acs_body_recording("srv", NULL, &len), &len);
    keys(b.tree, "callLocator", "recordingContentType",
         "recordingChannelType", "recordingFormatType", NULL);
    done(&b);

    assert_null(ngx_http_rtagent_acs_body_recording(NULL, TEST_CB, &len));
    assert_null(ngx_http_rtagent_acs_body_recording("", TEST_CB, &len));
}


static void
test_send_dtmf(void **state)
{
    char        tones[80];
    size_t      i, len;
    built_t     b;
    yajl_val    t;

    static const char  *names[] = {
        "zero", "one", "two", "three", "four", "five", "six", "seven",
        "eight", "nine", "a", "b", "c", "d", "a", "b", "c", "d", "pound",
        "asterisk"
    };

    (void) state;

    built(&b, ngx_http_rtagent_acs_body_send_dtmf("0123456789ABCDabcd#*",
                                                  "+15551234567", "op",
                                                  &len),
          &len);
    keys(b.tree, "tones", "targetParticipant", "operationContext", NULL);

    t = member(b.tree, "tones");
    assert_true(YAJL_IS_ARRAY(t));
    assert_int_equal(t->u.array.len, 20);

    for (i = 0; i < 20; i++) {
        assert_true(YAJL_IS_STRING(t->u.array.values[i]));
        assert_string_equal(t->u.array.values[i]->u.string, names[i]);
    }

    check_ident(member(b.tree, "targetParticipant"), "4:+15551234567",
                "phoneNumber", "value", "+15551234567");
    assert_string_equal(str(b.tree, "operationContext", NULL), "op");
    done(&b);

    /* 64 tones at most */
    memset(tones, '1', 64);
    tones[64] = '\0';

    built(&b, ngx_http_rtagent_acs_body_send_dtmf(tones, TEST_USER, NULL,
                                                  &len),
          &len);
    keys(b.tree, "tones", "targetParticipant", NULL);
    assert_int_equal(member(b.tree, "tones")->u.array.len, 64);
    done(&b);

    tones[64] = '1';
    tones[65] = '\0';
    assert_null(ngx_http_rtagent_acs_body_send_dtmf(tones, TEST_USER, NULL,
                                                    &len));

    assert_null(ngx_http_rtagent_acs_body_send_dtmf("", TEST_USER, NULL,
                                                    &len));
    assert_null(ngx_http_rtagent_acs_body_send_dtmf(NULL, TEST_USER, NULL,
                                                    &len));
    assert_null(ngx_http_rtagent_acs_body_send_dtmf("12E", TEST_USER, NULL,
                                                    &len));
    assert_null(ngx_http_rtagent_acs_body_send_dtmf("1 2", TEST_USER, NULL,
                                                    &len));
    assert_null(ngx_http_rtagent_acs_body_send_dtmf("1,2", TEST_USER, NULL,
                                                    &len));
    assert_null(ngx_http_rtagent_acs_body_send_dtmf("e", TEST_USER, NULL,
                                                    &len));
    assert_null(ngx_http_rtagent_acs_body_send_dtmf("\xc3\xa9", TEST_USER,
                                                    NULL, &len));
    assert_null(ngx_http_rtagent_acs_body_send_dtmf("12", "bad", NULL,
                                                    &len));
    assert_null(ngx_http_rtagent_acs_body_send_dtmf("12", NULL, NULL,
                                                    &len));
}


static void
test_dtmf_recognition(void **state)
{
    size_t   len;
    built_t  b;

    (void) state;

    built(&b, ngx_http_rtagent_acs_body_dtmf_recognition("28:app", "op",
                                                         &len),
          &len);
    keys(b.tree, "targetParticipant", "operationContext", NULL);
    check_ident(member(b.tree, "targetParticipant"), "28:app",
                "microsoftTeamsApp", "appId", "app");
    done(&b);

    built(&b, ngx_http_rtagent_acs_body_dtmf_recognition("+15551234567",
                                                         NULL, &len),
          &len);
    keys(b.tree, "targetParticipant", NULL);
    done(&b);

    assert_null(ngx_http_rtagent_acs_body_dtmf_recognition("8:", NULL,
                                                           &len));
    assert_null(ngx_http_rtagent_acs_body_dtmf_recognition(NULL, NULL,
                                                           &len));
}


static void
test_escaping(void **state)
{
    size_t       i, len;
    built_t      b;
    const char  *s, *ctx;

    static const char  *tricky[] = {
        "quote \" and backslash \\",
        "ctl \x01\x02\x1f tab\t nl\n cr\r bs\b ff\f",
        "slash / </script>",
        "utf-8 \xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x93\x9e",
        "\"}],\"injected\":{\"x\":\"",
        ""
    };

    (void) state;

    for (i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
        /* an empty incoming call context counts as missing */
        ctx = tricky[i][0] ? tricky[i] : "c";

        built(&b, ngx_http_rtagent_acs_body_answer(ctx, TEST_CB, tricky[i],
                                                   NULL, &len),
              &len);
        keys(b.tree, "incomingCallContext", "callbackUri",
             "operationContext", NULL);
        assert_string_equal(str(b.tree, "incomingCallContext", NULL), ctx);
        assert_string_equal(str(b.tree, "operationContext", NULL),
                            tricky[i]);

        /* no raw control character reaches the body */
        for (s = b.body; *s; s++) {
            assert_true((unsigned char) *s >= 0x20);
        }

        done(&b);
    }

    assert_string_equal(tricky[5], "");

    built(&b, ngx_http_rtagent_acs_body_transfer(TEST_USER, "a\"b",
                                                 "https://x/?a=\"b\"", &len),
          &len);
    assert_non_null(strstr(b.body, "\"a\\\"b\""));
    assert_string_equal(str(b.tree, "operationCallbackUri", NULL),
                        "https://x/?a=\"b\"");
    done(&b);

    /* a string that is not UTF-8 is refused, not sent */
    assert_null(ngx_http_rtagent_acs_body_answer("c\xff", TEST_CB, NULL,
                                                 NULL, &len));
    assert_null(ngx_http_rtagent_acs_body_answer("c", TEST_CB, "\xc3",
                                                 NULL, &len));
    assert_null(ngx_http_rtagent_acs_body_recording("s", "\xe2\x80", &len));
    assert_null(ngx_http_rtagent_acs_body_create(TEST_USER, NULL, "\x80",
                                                 TEST_CB, NULL, NULL, &len));
}


static void
test_parse_call(void **state)
{
    char        *json, *in;
    char         id[64], srv[64], small[5];
    size_t       len;

    (void) state;

    json = read_file(fixtures(), "acs_answerCall_response_2025-05-15.json",
                     &len);
    in = exact(json, len);

    assert_int_equal(ngx_http_rtagent_acs_parse_call(in, len, id, sizeof(id),
                                                     srv, sizeof(srv)),
                     0);
    assert_string_equal(id, "18dea47f-b081-4107-9a5c-4300819d2c6c");
    assert_string_equal(srv, "aHR0cHM6Ly9jb252ZXJzYXRpb251cmwvdGVzdA");

    /* truncated, always terminated */
    memset(small, 'x', sizeof(small));
    assert_int_equal(ngx_http_rtagent_acs_parse_call(in, len, small,
                                                     sizeof(small), NULL, 0),
                     0);
    assert_string_equal(small, "18de");

    assert_int_equal(ngx_http_rtagent_acs_parse_call(in, len, id, 1, srv, 2),
                     0);
    assert_string_equal(id, "");
    assert_string_equal(srv, "a");

    /* it is no error body */
    assert_int_equal(ngx_http_rtagent_acs_parse_error(in, len, id,
                                                      sizeof(id), srv,
                                                      sizeof(srv)),
                     -1);
    assert_string_equal(id, "");
    assert_string_equal(srv, "");

    free(in);
    free(json);

#define PARSE_CALL(s)                                                        \
    (in = exact(s, sizeof(s) - 1),                                           \
     len = (size_t) ngx_http_rtagent_acs_parse_call(in, sizeof(s) - 1, id,   \
                                                    sizeof(id), srv,         \
                                                    sizeof(srv)),            \
     free(in), (int) len)

    assert_int_equal(PARSE_CALL("{\"callConnectionId\":\"c\"}"), 0);
    assert_string_equal(id, "c");
    assert_string_equal(srv, "");

    assert_int_equal(PARSE_CALL("{\"callConnectionId\":\"c\","
                                "\"serverCallId\":7}"),
                     0);
    assert_string_equal(srv, "");

    strcpy(id, "stale");
    strcpy(srv, "stale");
    assert_int_equal(PARSE_CALL("{\"serverCallId\":\"s\"}"), -1);
    assert_string_equal(id, "");
    assert_string_equal(srv, "");

    assert_int_equal(PARSE_CALL("{\"callConnectionId\":\"\"}"), -1);
    assert_int_equal(PARSE_CALL("{\"callConnectionId\":1}"), -1);
    assert_int_equal(PARSE_CALL("[{\"callConnectionId\":\"c\"}]"), -1);
    assert_int_equal(PARSE_CALL("{\"callConnectionId\":\"c\""), -1);
    assert_int_equal(PARSE_CALL("{\"callConnectionId\":\"c\"}x"), -1);
    assert_int_equal(PARSE_CALL("/**/{\"callConnectionId\":\"c\"}"), -1);
    assert_int_equal(PARSE_CALL("{\"callConnectionId\":\"c\"}\0"), -1);
    assert_int_equal(PARSE_CALL(""), -1);
    assert_int_equal(PARSE_CALL("null"), -1);

#undef PARSE_CALL

    assert_int_equal(ngx_http_rtagent_acs_parse_call(NULL, 0, id, sizeof(id),
                                                     srv, sizeof(srv)),
                     -1);
}


static void
test_parse_error(void **state)
{
    char        *in;
    char         code[64], msg[64], c4[4], m8[8];
    size_t       n;
    const char  *body;

    (void) state;

    body = "{\"error\":{\"code\":\"8523\",\"message\":\"Invalid request.\","
           "\"target\":null,\"details\":[],\"innererror\":{\"code\":\"x\"}}}";
    n = strlen(body);
    in = exact(body, n);

    memset(code, 'x', sizeof(code));
    memset(msg, 'x', sizeof(msg));
    assert_int_equal(ngx_http_rtagent_acs_parse_error(in, n, code,
                                                      sizeof(code), msg,
                                                      sizeof(msg)),
                     0);
    assert_string_equal(code, "8523");
    assert_string_equal(msg, "Invalid request.");

    memset(c4, 'x', sizeof(c4));
    memset(m8, 'x', sizeof(m8));
    assert_int_equal(ngx_http_rtagent_acs_parse_error(in, n, c4, sizeof(c4),
                                                      m8, sizeof(m8)),
                     0);
    assert_string_equal(c4, "852");
    assert_string_equal(m8, "Invalid");

    /* no buffers wanted */
    assert_int_equal(ngx_http_rtagent_acs_parse_error(in, n, NULL, 0, NULL,
                                                      0),
                     0);
    free(in);

    /* a truncated copy does not end inside a UTF-8 sequence */
    body = "{\"error\":{\"code\":\"ab\xc3\xa9\",\"message\":"
           "\"x\xe2\x80\xa6yz\"}}";
    n = strlen(body);
    in = exact(body, n);
    assert_int_equal(ngx_http_rtagent_acs_parse_error(in, n, c4, sizeof(c4),
                                                      m8, 4),
                     0);
    assert_string_equal(c4, "ab");
    assert_string_equal(m8, "x");
    assert_int_equal(ngx_http_rtagent_acs_parse_error(in, n, code, 5, m8, 5),
                     0);
    assert_string_equal(code, "ab\xc3\xa9");
    assert_string_equal(m8, "x\xe2\x80\xa6");
    free(in);

#define PARSE_ERROR(s)                                                       \
    (in = exact(s, sizeof(s) - 1),                                           \
     n = (size_t) ngx_http_rtagent_acs_parse_error(in, sizeof(s) - 1, code,  \
                                                   sizeof(code), msg,        \
                                                   sizeof(msg)),             \
     free(in), (int) n)

    /* the message is optional */
    assert_int_equal(PARSE_ERROR("{\"error\":{\"code\":\"Forbidden\"}}"), 0);
    assert_string_equal(code, "Forbidden");
    assert_string_equal(msg, "");

    assert_int_equal(PARSE_ERROR("{\"error\":{\"code\":\"c\","
                                 "\"message\":5}}"),
                     0);
    assert_string_equal(msg, "");

    strcpy(code, "stale");
    strcpy(msg, "stale");
    assert_int_equal(PARSE_ERROR("{\"error\":{\"message\":\"m\"}}"), -1);
    assert_string_equal(code, "");
    assert_string_equal(msg, "");

    assert_int_equal(PARSE_ERROR("{\"error\":{\"code\":5}}"), -1);
    assert_int_equal(PARSE_ERROR("{\"error\":\"boom\"}"), -1);
    assert_int_equal(PARSE_ERROR("{\"code\":\"c\",\"message\":\"m\"}"), -1);
    assert_int_equal(PARSE_ERROR("[{\"error\":{\"code\":\"c\"}}]"), -1);
    assert_int_equal(PARSE_ERROR("{\"error\":{\"code\":\"c\"}"), -1);
    assert_int_equal(PARSE_ERROR("<html>502 Bad Gateway</html>"), -1);
    assert_int_equal(PARSE_ERROR(""), -1);
    assert_int_equal(PARSE_ERROR("{\"error\":{\"code\":\"c\0\"}}"), -1);

#undef PARSE_ERROR
}


static void
test_parse_recording(void **state)
{
    char        *in;
    char         id[64], st[64], small[3];
    size_t       n;
    const char  *body;

    (void) state;

    body = "{\"recordingId\":\"eyJQbGF0Zm9ybUVuZHBvaW50SWQiOiI\","
           "\"recordingState\":\"active\",\"recordingKind\":"
           "\"azureCommunicationServices\"}";
    n = strlen(body);
    in = exact(body, n);

    assert_int_equal(ngx_http_rtagent_acs_parse_recording(in, n, id,
                                                          sizeof(id), st,
                                                          sizeof(st)),
                     0);
    assert_string_equal(id, "eyJQbGF0Zm9ybUVuZHBvaW50SWQiOiI");
    assert_string_equal(st, "active");

    memset(small, 'x', sizeof(small));
    assert_int_equal(ngx_http_rtagent_acs_parse_recording(in, n, small,
                                                          sizeof(small),
                                                          st, 1),
                     0);
    assert_string_equal(small, "ey");
    assert_string_equal(st, "");
    free(in);

#define PARSE_REC(s)                                                         \
    (in = exact(s, sizeof(s) - 1),                                           \
     n = (size_t) ngx_http_rtagent_acs_parse_recording(in, sizeof(s) - 1,    \
                                                       id, sizeof(id), st,   \
                                                       sizeof(st)),          \
     free(in), (int) n)

    assert_int_equal(PARSE_REC("{\"recordingId\":\"r\"}"), 0);
    assert_string_equal(id, "r");
    assert_string_equal(st, "");

    assert_int_equal(PARSE_REC("{\"recordingState\":\"active\"}"), -1);
    assert_string_equal(id, "");
    assert_string_equal(st, "");
    assert_int_equal(PARSE_REC("{\"recordingId\":\"\"}"), -1);
    assert_int_equal(PARSE_REC("{\"recordingId\":[\"r\"]}"), -1);
    assert_int_equal(PARSE_REC("{\"recordingId\":\"r\",}"), -1);
    assert_int_equal(PARSE_REC("{\"error\":{\"code\":\"c\"}}"), -1);

#undef PARSE_REC
}


/* deep nesting and every prefix of a response fail cleanly */

static void
test_parse_hostile(void **state)
{
    char        *json, *in;
    char         id[64], srv[64];
    size_t       len, n;

    (void) state;

    json = malloc(1000000);
    assert_non_null(json);
    memset(json, '[', 1000000);
    assert_int_equal(ngx_http_rtagent_acs_parse_call(json, 1000000, id,
                                                     sizeof(id), srv,
                                                     sizeof(srv)),
                     -1);
    assert_int_equal(ngx_http_rtagent_acs_parse_error(json, 1000000, id,
                                                      sizeof(id), srv,
                                                      sizeof(srv)),
                     -1);
    assert_int_equal(ngx_http_rtagent_acs_parse_recording(json, 1000000, id,
                                                          sizeof(id), srv,
                                                          sizeof(srv)),
                     -1);
    free(json);

    json = read_file(fixtures(), "acs_answerCall_response_2025-05-15.json",
                     &len);

    while (len && (json[len - 1] == '\n' || json[len - 1] == ' '
                   || json[len - 1] == '\r'))
    {
        len--;
    }

    for (n = 0; n < len; n++) {
        in = exact(json, n);
        assert_int_equal(ngx_http_rtagent_acs_parse_call(in, n, id,
                                                         sizeof(id), srv,
                                                         sizeof(srv)),
                         -1);
        assert_string_equal(id, "");
        free(in);
    }

    free(json);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_answer_minimal),
        cmocka_unit_test(test_answer_shape),
        cmocka_unit_test(test_answer_optional),
        cmocka_unit_test(test_target_valid),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_transfer),
        cmocka_unit_test(test_recording),
        cmocka_unit_test(test_send_dtmf),
        cmocka_unit_test(test_dtmf_recognition),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_parse_call),
        cmocka_unit_test(test_parse_error),
        cmocka_unit_test(test_parse_recording),
        cmocka_unit_test(test_parse_hostile),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
