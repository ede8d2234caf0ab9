
/*
 * Unit tests for the ACS media WebSocket message codec (cmocka).
 *
 * Every parse gets its input and its arena in buffers of exactly the
 * message length, so an ASan build catches any read or write past them.
 * Fixtures are read from $RTAGENT_FIXTURES, by default
 * t/fixtures (the tests run from the repo root).
 */


#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ngx_http_rtagent_acs_msg.h"

#include "test_fixtures.h"


#define TEST_BAD_BASE64        "audio data is not valid base64"

#define S(s)  (s), sizeof(s) - 1

/* the case being checked, shown with TEST_VERBOSE=1 to find a failure */
#define trace(...)                                                           \
    do {                                                                     \
        if (getenv("TEST_VERBOSE")) {                                        \
            print_message(__VA_ARGS__);                                      \
        }                                                                    \
    } while (0)


typedef struct {
    uint8_t                     *in;
    uint8_t                     *arena;
    ngx_http_rtagent_acs_msg_t   msg;
    ngx_http_rtagent_acs_rc_e    rc;
    char                         err[NGX_HTTP_RTAGENT_ACS_ERR_SIZE];
} parsed_t;


/* parses len bytes of json; the arena is exactly len bytes */

static ngx_http_rtagent_acs_rc_e
parse_n(parsed_t *p, const void *json, size_t len)
{
    p->in = malloc(len ? len : 1);
    p->arena = malloc(len ? len : 1);
    assert_non_null(p->in);
    assert_non_null(p->arena);

    memcpy(p->in, json, len);
    memset(p->err, 'x', sizeof(p->err));

    p->rc = ngx_http_rtagent_acs_msg_parse(p->in, len, p->arena, len,
                                           &p->msg, p->err, sizeof(p->err));

    assert_true(strlen(p->err) <= 100);

    if (p->rc == NGX_HTTP_RTAGENT_ACS_OK) {
        assert_string_equal(p->err, "");

    } else {
        assert_true(strlen(p->err) > 0);
    }

    return p->rc;
}


static ngx_http_rtagent_acs_rc_e
parse(parsed_t *p, const char *json)
{
    return parse_n(p, json, strlen(json));
}


static void
done(parsed_t *p)
{
    free(p->in);
    free(p->arena);
    p->in = NULL;
    p->arena = NULL;
}


static void
assert_str_n(ngx_http_rtagent_acs_str_t s, const void *expect, size_t len)
{
    assert_non_null(s.data);
    assert_int_equal(s.len, len);

    if (len) {
        assert_memory_equal(s.data, expect, len);
    }
}


static void
assert_str(ngx_http_rtagent_acs_str_t s, const char *expect)
{
    assert_str_n(s, expect, strlen(expect));
}


static void
assert_absent(ngx_http_rtagent_acs_str_t s)
{
    assert_null(s.data);
    assert_int_equal(s.len, 0);
}


/* asserts that every field of msg other than the kind has its default */

static void
assert_defaults(const ngx_http_rtagent_acs_msg_t *m)
{
    assert_absent(m->subscription_id);
    assert_absent(m->encoding);
    assert_true(m->sample_rate == -1);
    assert_true(m->channels == -1);
    assert_true(m->length == -1);
    assert_absent(m->timestamp);
    assert_absent(m->participant);
    assert_absent(m->audio);
    assert_int_equal(m->has_audio, 0);
    assert_int_equal(m->silent, 0);
    assert_absent(m->dtmf);
    assert_absent(m->locale);
    assert_absent(m->call_connection_id);
    assert_absent(m->correlation_id);
    assert_absent(m->text);
    assert_absent(m->format);
    assert_absent(m->result_status);
    assert_true(m->confidence == -1);
    assert_true(m->offset == -1);
    assert_true(m->duration == -1);
    assert_int_equal(m->final, 0);
}


static void
expect_error(const char *json, ngx_http_rtagent_acs_rc_e rc,
    const char *err)
{
    parsed_t  p;

    trace("%s\n", json);

    assert_int_equal(parse(&p, json), rc);

    if (err) {
        assert_string_equal(p.err, err);
    }

    done(&p);
}


static ngx_http_rtagent_acs_rc_e
parse_fixture(parsed_t *p, const char *name)
{
    char    *buf;
    size_t   len;

    buf = read_file(fixtures(), name, &len);
    parse_n(p, buf, len);
    free(buf);

    return p->rc;
}


static void
test_fixture_audio_metadata(void **state)
{
    parsed_t      p;
    unsigned      i;
    const char   *names[] = {
        "acs_ws_in_AudioMetadata.json",
        "acs_ws_in_AudioMetadata_docs.json"
    };
    const char   *ids[] = {
        "4af370df-3868-461f-8242-91f077a6f8a6",
        "89e8cb59-b991-48b0-b154-1db84f16a077"
    };

    (void) state;

    for (i = 0; i < 2; i++) {
        assert_int_equal(parse_fixture(&p, names[i]),
                         NGX_HTTP_RTAGENT_ACS_OK);
        assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_AUDIO_METADATA);
        assert_str(p.msg.kind_name, "AudioMetadata");
        assert_str(p.msg.subscription_id, ids[i]);
        assert_str(p.msg.encoding, "PCM");
        assert_true(p.msg.sample_rate == 16000);
        assert_true(p.msg.channels == 1);
        assert_true(p.msg.length == 640);
        assert_absent(p.msg.timestamp);
        assert_int_equal(p.msg.has_audio, 0);
        done(&p);
    }
}


static void
test_fixture_audio_data(void **state)
{
    parsed_t  p;

    (void) state;

    assert_int_equal(parse_fixture(&p, "acs_ws_in_AudioData.json"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_AUDIO_DATA);
    assert_str(p.msg.kind_name, "AudioData");
    assert_str(p.msg.timestamp, "2024-05-30T06:25:02.948Z");
    assert_str(p.msg.participant, "28:6b45c5b6-1c34-47c0-8980-11e98d47d23f");
    assert_int_equal(p.msg.has_audio, 1);
    assert_int_equal(p.msg.silent, 0);

    /* "test" is a placeholder in the SDK test, but valid base64 */
    assert_str_n(p.msg.audio, "\xb5\xeb\x2d", 3);
    assert_absent(p.msg.dtmf);
    assert_true(p.msg.sample_rate == -1);
    done(&p);

    /* the docs elide the data with "…" */
    assert_int_equal(parse_fixture(&p, "acs_ws_in_AudioData_docs.json"),
                     NGX_HTTP_RTAGENT_ACS_EBASE64);
    assert_string_equal(p.err, TEST_BAD_BASE64);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_AUDIO_DATA);
    assert_str(p.msg.kind_name, "AudioData");
    assert_int_equal(p.msg.has_audio, 0);
    done(&p);
}


static void
test_fixture_dtmf(void **state)
{
    parsed_t  p;

    (void) state;

    assert_int_equal(parse_fixture(&p, "acs_ws_in_DtmfData.json"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_DTMF_DATA);
    assert_str(p.msg.kind_name, "DtmfData");
    assert_str(p.msg.dtmf, "test");
    assert_int_equal(p.msg.has_audio, 0);
    assert_absent(p.msg.audio);
    done(&p);

    assert_int_equal(parse_fixture(&p, "acs_ws_in_DtmfData_docs.json"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_DTMF_DATA);
    assert_str(p.msg.dtmf, "3");
    done(&p);
}


static void
test_fixture_transcription(void **state)
{
    parsed_t  p;

    (void) state;

    assert_int_equal(parse_fixture(&p, "acs_ws_in_TranscriptionMetadata.json"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind,
                     NGX_HTTP_RTAGENT_ACS_TRANSCRIPTION_METADATA);
    assert_str(p.msg.kind_name, "TranscriptionMetadata");
    assert_str(p.msg.subscription_id, "0000a000-9999-5555-ae00-cd00e0bc0000");
    assert_str(p.msg.locale, "en-US");
    assert_str(p.msg.call_connection_id,
               "6d09449c-6677-4f91-8cb7-012c338e6ec1");
    assert_str(p.msg.correlation_id, "6d09449c-6677-4f91-8cb7-012c338e6ec1");
    assert_absent(p.msg.text);
    done(&p);

    assert_int_equal(parse_fixture(&p, "acs_ws_in_TranscriptionData.json"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_TRANSCRIPTION_DATA);
    assert_str(p.msg.kind_name, "TranscriptionData");

    /* not "hello" or "everyone" from the skipped words array */
    assert_str(p.msg.text, "Hello everyone.");
    assert_str(p.msg.format, "display");
    assert_true(p.msg.confidence == 0.922650933265686);
    assert_true(p.msg.offset == 212483227);
    assert_true(p.msg.duration == 9600000);
    assert_str(p.msg.participant, "4:+000000000000");
    assert_str(p.msg.result_status, "Final");
    assert_int_equal(p.msg.final, 1);
    assert_absent(p.msg.locale);
    done(&p);
}


/* every acs_ws_*.json fixture, including any added later */

static void
test_fixture_all(void **state)
{
    DIR            *d;
    size_t          n, in;
    parsed_t        p;
    const char     *name, *kind;
    struct dirent  *de;

    (void) state;

    d = opendir(fixtures());
    if (d == NULL) {
        fail_msg("cannot open %s (set RTAGENT_FIXTURES)", fixtures());
    }

    in = 0;

    while ((de = readdir(d)) != NULL) {
        name = de->d_name;
        n = strlen(name);

        if (strncmp(name, "acs_ws_", 7) != 0
            || n < 5 || strcmp(name + n - 5, ".json") != 0)
        {
            continue;
        }

        trace("%s\n", name);
        parse_fixture(&p, name);

        if (strncmp(name, "acs_ws_in_", 10) == 0) {
            in++;
            kind = name + 10;

            if (strcmp(name, "acs_ws_in_AudioData_docs.json") == 0) {
                assert_int_equal(p.rc, NGX_HTTP_RTAGENT_ACS_EBASE64);

            } else {
                assert_int_equal(p.rc, NGX_HTTP_RTAGENT_ACS_OK);
                assert_int_not_equal(p.msg.kind,
                                     NGX_HTTP_RTAGENT_ACS_UNKNOWN);
            }

            /* the file is named after the kind */
            assert_non_null(p.msg.kind_name.data);
            assert_memory_equal(p.msg.kind_name.data, kind,
                                p.msg.kind_name.len);
            assert_true(kind[p.msg.kind_name.len] == '.'
                        || kind[p.msg.kind_name.len] == '_');

        } else if (strstr(name, "StopAudio") != NULL) {
            /* outbound kinds are not ours to handle, but parse cleanly */
            assert_int_equal(p.rc, NGX_HTTP_RTAGENT_ACS_OK);
            assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_UNKNOWN);
            assert_int_equal(p.msg.kind_name.len, 9);
            assert_int_equal(p.msg.has_audio, 0);

        } else {
            /* their data is a "<base64 pcm16 mono>" placeholder */
            assert_int_equal(p.rc, NGX_HTTP_RTAGENT_ACS_EBASE64);
            assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_AUDIO_DATA);
        }

        done(&p);
    }

    closedir(d);

    assert_true(in >= 8);
}


static void
test_pascal_case(void **state)
{
    parsed_t  p;

    (void) state;

    assert_int_equal(parse(&p, "{\"Kind\":\"AudioData\",\"AudioData\":"
                               "{\"Timestamp\":\"t\",\"ParticipantRawId\":"
                               "\"p\",\"Data\":\"AAEC\",\"Silent\":true}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_AUDIO_DATA);
    assert_str(p.msg.timestamp, "t");
    assert_str(p.msg.participant, "p");
    assert_str_n(p.msg.audio, "\x00\x01\x02", 3);
    assert_int_equal(p.msg.silent, 1);
    done(&p);

    /* the kind value is also caseless, and kept as sent */
    assert_int_equal(parse(&p, "{\"KIND\":\"audioMETADATA\",\"AUDIOMETADATA\""
                               ":{\"SAMPLERATE\":24000,\"ENCODING\":\"PCM\"}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_AUDIO_METADATA);
    assert_str(p.msg.kind_name, "audioMETADATA");
    assert_true(p.msg.sample_rate == 24000);
    assert_str(p.msg.encoding, "PCM");
    done(&p);

    assert_int_equal(parse(&p, "{\"kind\":\"dtmfdata\",\"DTMFDATA\":"
                               "{\"DATA\":\"#\"}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_DTMF_DATA);
    assert_str(p.msg.dtmf, "#");
    done(&p);
}


static void
test_kind_after_payload(void **state)
{
    parsed_t  p;

    (void) state;

    assert_int_equal(parse(&p, "{\"audioMetadata\":{\"subscriptionId\":\"s\","
                               "\"encoding\":\"PCM\",\"sampleRate\":16000,"
                               "\"channels\":1,\"length\":640},"
                               "\"kind\":\"AudioMetadata\"}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_AUDIO_METADATA);
    assert_str(p.msg.subscription_id, "s");
    assert_true(p.msg.length == 640);
    done(&p);

    /* several payloads; the kind at the end picks one */
    assert_int_equal(parse(&p, "{\"audioData\":{\"data\":\"AAAA\"},"
                               "\"dtmfData\":{\"data\":\"9\"},"
                               "\"kind\":\"DtmfData\"}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_DTMF_DATA);
    assert_str(p.msg.dtmf, "9");
    assert_int_equal(p.msg.has_audio, 0);
    assert_absent(p.msg.audio);
    done(&p);
}


static void
test_null_payload(void **state)
{
    parsed_t  p;

    (void) state;

    assert_int_equal(parse(&p, "{\"kind\":\"AudioData\",\"audioData\":null}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_AUDIO_DATA);
    assert_defaults(&p.msg);
    done(&p);

    /* no payload at all */
    assert_int_equal(parse(&p, "{\"kind\":\"AudioData\"}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_AUDIO_DATA);
    assert_defaults(&p.msg);
    done(&p);

    /* a later null replaces the payload, even a bad one */
    assert_int_equal(parse(&p, "{\"audioData\":{\"data\":\"AAAA\"},"
                               "\"audioData\":null,\"kind\":\"AudioData\"}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_defaults(&p.msg);
    done(&p);

    assert_int_equal(parse(&p, "{\"audioData\":{\"data\":\"!\"},"
                               "\"audioData\":null,\"kind\":\"AudioData\"}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_defaults(&p.msg);
    done(&p);

    /* and a later object replaces a null */
    assert_int_equal(parse(&p, "{\"kind\":\"AudioData\",\"audioData\":null,"
                               "\"audioData\":{\"data\":\"AAAA\"}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_str_n(p.msg.audio, "\0\0\0", 3);
    done(&p);

    /* null fields count as absent */
    assert_int_equal(parse(&p, "{\"kind\":\"AudioData\",\"audioData\":{"
                               "\"timestamp\":null,\"participantRawID\":null,"
                               "\"data\":null,\"silent\":null}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_defaults(&p.msg);
    done(&p);

    assert_int_equal(parse(&p, "{\"kind\":\"TranscriptionData\","
                               "\"transcriptionData\":{\"text\":\"x\","
                               "\"resultStatus\":\"final\",\"confidence\":1,"
                               "\"offset\":1,\"duration\":1,\"text\":null,"
                               "\"resultStatus\":null,\"confidence\":null,"
                               "\"offset\":null,\"duration\":null}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_defaults(&p.msg);
    done(&p);
}


static void
test_unknown_kind(void **state)
{
    parsed_t  p;

    (void) state;

    /* errors in payloads that the kind does not select do not matter */
    assert_int_equal(parse(&p, "{\"kind\":\"MarkData\",\"markData\":{\"id\":1},"
                               "\"audioData\":{\"data\":\"!!\"},"
                               "\"audioMetadata\":{\"sampleRate\":\"x\"}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_UNKNOWN);
    assert_str(p.msg.kind_name, "MarkData");
    assert_defaults(&p.msg);
    done(&p);

    assert_int_equal(parse(&p, "{\"kind\":\"\"}"), NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_UNKNOWN);
    assert_str(p.msg.kind_name, "");
    done(&p);

    /* a prefix or an extension of a known kind is not that kind */
    assert_int_equal(parse(&p, "{\"kind\":\"AudioDat\",\"audioData\":{}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_UNKNOWN);
    done(&p);

    assert_int_equal(parse(&p, "{\"kind\":\"AudioDataX\"}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_UNKNOWN);
    done(&p);
}


static void
test_missing_kind(void **state)
{
    parsed_t  p;

    (void) state;

    expect_error("{}", NGX_HTTP_RTAGENT_ACS_ENOKIND, "no \"kind\"");
    expect_error("{\"audioData\":{\"data\":\"AAAA\"}}",
                 NGX_HTTP_RTAGENT_ACS_ENOKIND, "no \"kind\"");

    /* only a top-level "kind" counts */
    expect_error("{\"audioData\":{\"kind\":\"AudioData\"},"
                 "\"x\":{\"kind\":\"AudioData\"}}",
                 NGX_HTTP_RTAGENT_ACS_ENOKIND, "no \"kind\"");
    expect_error("{\"kinds\":\"AudioData\"}",
                 NGX_HTTP_RTAGENT_ACS_ENOKIND, NULL);

    expect_error("{\"kind\":5}", NGX_HTTP_RTAGENT_ACS_ENOKIND,
                 "\"kind\" is not a string");
    expect_error("{\"kind\":null}", NGX_HTTP_RTAGENT_ACS_ENOKIND,
                 "\"kind\" is not a string");
    expect_error("{\"kind\":true}", NGX_HTTP_RTAGENT_ACS_ENOKIND,
                 "\"kind\" is not a string");
    expect_error("{\"kind\":{\"a\":\"AudioData\"}}",
                 NGX_HTTP_RTAGENT_ACS_ENOKIND, "\"kind\" is not a string");
    expect_error("{\"kind\":[\"AudioData\"]}",
                 NGX_HTTP_RTAGENT_ACS_ENOKIND, "\"kind\" is not a string");

    /* the last "kind" wins */
    expect_error("{\"kind\":\"DtmfData\",\"kind\":null}",
                 NGX_HTTP_RTAGENT_ACS_ENOKIND, "\"kind\" is not a string");

    assert_int_equal(parse(&p, "{\"kind\":5,\"Kind\":\"AudioData\","
                               "\"KIND\":\"DtmfData\",\"dtmfData\":"
                               "{\"data\":\"1\"}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_DTMF_DATA);
    assert_str(p.msg.kind_name, "DtmfData");
    assert_str(p.msg.dtmf, "1");
    done(&p);

    /* ENOKIND outranks an error in the payload */
    expect_error("{\"audioData\":{\"data\":\"!\"}}",
                 NGX_HTTP_RTAGENT_ACS_ENOKIND, NULL);
}


static void
test_ejson(void **state)
{
    size_t                       i;
    parsed_t                     p;
    ngx_http_rtagent_acs_msg_t   msg;
    char                         err[NGX_HTTP_RTAGENT_ACS_ERR_SIZE];
    static const char           *bad[] = {
        "x",
        "{",
        "}",
        "{\"kind\"",
        "{\"kind\":",
        "{\"kind\":\"AudioData\",",
        "{\"kind\":\"AudioData\",}",
        "{\"kind\":\"AudioData\" \"x\":1}",
        "{'kind':'AudioData'}",
        "{kind:\"AudioData\"}",
        "{\"kind\":\"AudioData\"} x",
        "{\"kind\":\"AudioData\"}{}",
        "{\"kind\":\"AudioData\"},",
        "/* c */{\"kind\":\"AudioData\"}",
        "{\"kind\":\"Audio\tData\"}",
        "{\"kind\":\"AudioData\\x\"}",
        "{\"kind\":\"AudioData\\u12\"}",
        "{\"kind\":\"\xff\"}",
        "{\"kind\":\"\xc3\"}",
        "{\"a\":NaN}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":-}",
        "{\"a\":tru}",
        "\xef\xbb\xbf{}"
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        trace("%s\n", bad[i]);
        assert_int_equal(parse(&p, bad[i]), NGX_HTTP_RTAGENT_ACS_EJSON);
        assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_UNKNOWN);
        assert_absent(p.msg.kind_name);
        done(&p);
    }

    expect_error("", NGX_HTTP_RTAGENT_ACS_EJSON, "empty message");
    expect_error(" ", NGX_HTTP_RTAGENT_ACS_EJSON, "truncated json");
    expect_error("{\"kind\":\"AudioData\"", NGX_HTTP_RTAGENT_ACS_EJSON,
                 "truncated json");
    expect_error("{\"kind\":\"AudioData\",\"audioData\":{\"data\":\"AA",
                 NGX_HTTP_RTAGENT_ACS_EJSON, "truncated json");
    expect_error("{\"kind\":x}", NGX_HTTP_RTAGENT_ACS_EJSON,
                 "malformed json at byte 9: invalid char in json text");
    expect_error("{\"kind\":\"AudioData\"} x", NGX_HTTP_RTAGENT_ACS_EJSON,
                 "malformed json at byte 22: trailing garbage");

    /* the top level must be an object */
    expect_error("[]", NGX_HTTP_RTAGENT_ACS_EJSON, "json is not an object");
    expect_error("[{\"kind\":\"AudioData\"}]", NGX_HTTP_RTAGENT_ACS_EJSON,
                 "json is not an object");
    expect_error("\"kind\"", NGX_HTTP_RTAGENT_ACS_EJSON,
                 "json is not an object");
    expect_error("1", NGX_HTTP_RTAGENT_ACS_EJSON, "json is not an object");
    expect_error("-1.5e3", NGX_HTTP_RTAGENT_ACS_EJSON,
                 "json is not an object");
    expect_error("null", NGX_HTTP_RTAGENT_ACS_EJSON, "json is not an object");
    expect_error("true", NGX_HTTP_RTAGENT_ACS_EJSON, "json is not an object");

    /* embedded NULs, inside and outside strings */
    assert_int_equal(parse_n(&p, S("{\"kind\":\"Audio\0Data\"}")),
                     NGX_HTTP_RTAGENT_ACS_EJSON);
    done(&p);
    assert_int_equal(parse_n(&p, S("{\"kind\":\"AudioData\"}\0")),
                     NGX_HTTP_RTAGENT_ACS_EJSON);
    done(&p);
    assert_int_equal(parse_n(&p, S("{\0\"kind\":\"AudioData\"}")),
                     NGX_HTTP_RTAGENT_ACS_EJSON);
    done(&p);
    assert_int_equal(parse_n(&p, S("\0")), NGX_HTTP_RTAGENT_ACS_EJSON);
    done(&p);

    /* whitespace around the object is fine */
    assert_int_equal(parse(&p, " \r\n\t{\"kind\":\"AudioData\"} \r\n\t"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_AUDIO_DATA);
    done(&p);

    /* a NULL input is fine when it is empty */
    assert_int_equal(ngx_http_rtagent_acs_msg_parse(NULL, 0, NULL, 0, &msg,
                                                    err, sizeof(err)),
                     NGX_HTTP_RTAGENT_ACS_EJSON);
    assert_string_equal(err, "empty message");
}


static void
test_efield(void **state)
{
    size_t    i;
    parsed_t  p;
    static const struct {
        const char                   *json;
        ngx_http_rtagent_acs_kind_e   kind;
        const char                   *err;
    } bad[] = {

#define AM(fields)                                                           \
    "{\"kind\":\"AudioMetadata\",\"audioMetadata\":{" fields "}}"
#define AD(fields)  "{\"kind\":\"AudioData\",\"audioData\":{" fields "}}"
#define TD(fields)                                                           \
    "{\"kind\":\"TranscriptionData\",\"transcriptionData\":{" fields "}}"
#define KAM  NGX_HTTP_RTAGENT_ACS_AUDIO_METADATA
#define KAD  NGX_HTTP_RTAGENT_ACS_AUDIO_DATA
#define KTD  NGX_HTTP_RTAGENT_ACS_TRANSCRIPTION_DATA

        { AM("\"sampleRate\":\"16000\""), KAM,
          "\"sampleRate\" is not an integer" },
        { AM("\"sampleRate\":16000.0"), KAM,
          "\"sampleRate\" is not an integer" },
        { AM("\"sampleRate\":1.6e4"), KAM,
          "\"sampleRate\" is not an integer" },
        { AM("\"sampleRate\":16000E0"), KAM,
          "\"sampleRate\" is not an integer" },
        { AM("\"SampleRate\":true"), KAM,
          "\"sampleRate\" is not an integer" },
        { AM("\"sampleRate\":9223372036854775808"), KAM,
          "\"sampleRate\" is out of range" },
        { AM("\"sampleRate\":-9223372036854775809"), KAM,
          "\"sampleRate\" is out of range" },
        { AM("\"sampleRate\":123456789012345678901234567890"), KAM,
          "\"sampleRate\" is out of range" },
        { AM("\"sampleRate\":-1"), KAM, "\"sampleRate\" is out of range" },
        { AM("\"channels\":{}"), KAM, "\"channels\" is not an integer" },
        { AM("\"channels\":[1]"), KAM, "\"channels\" is not an integer" },
        { AM("\"length\":\"640\""), KAM, "\"length\" is not an integer" },
        { AM("\"encoding\":1"), KAM, "\"encoding\" is not a string" },
        { AM("\"subscriptionId\":{\"a\":\"b\"}"), KAM,
          "\"subscriptionId\" is not a string" },
        { "{\"kind\":\"AudioMetadata\",\"audioMetadata\":\"x\"}", KAM,
          "\"audioMetadata\" is not an object" },
        { "{\"kind\":\"AudioMetadata\",\"audioMetadata\":[]}", KAM,
          "\"audioMetadata\" is not an object" },
        { "{\"kind\":\"AudioMetadata\",\"audioMetadata\":0}", KAM,
          "\"audioMetadata\" is not an object" },
        { "{\"kind\":\"AudioMetadata\",\"audioMetadata\":false}", KAM,
          "\"audioMetadata\" is not an object" },

        { AD("\"silent\":\"false\""), KAD, "\"silent\" is not a boolean" },
        { AD("\"silent\":0"), KAD, "\"silent\" is not a boolean" },
        { AD("\"silent\":[]"), KAD, "\"silent\" is not a boolean" },
        { AD("\"data\":5"), KAD, "\"data\" is not a string" },
        { AD("\"data\":true"), KAD, "\"data\" is not a string" },
        { AD("\"data\":[\"AAAA\"]"), KAD, "\"data\" is not a string" },
        { AD("\"data\":{}"), KAD, "\"data\" is not a string" },
        { AD("\"timestamp\":1717050302948"), KAD,
          "\"timestamp\" is not a string" },
        { AD("\"participantRawID\":false"), KAD,
          "\"participantRawID\" is not a string" },
        { "{\"kind\":\"AudioData\",\"AudioData\":\"AAAA\"}", KAD,
          "\"audioData\" is not an object" },

        { "{\"kind\":\"DtmfData\",\"dtmfData\":{\"data\":3}}",
          NGX_HTTP_RTAGENT_ACS_DTMF_DATA, "\"data\" is not a string" },
        { "{\"kind\":\"TranscriptionMetadata\",\"transcriptionMetadata\":"
          "{\"locale\":[]}}", NGX_HTTP_RTAGENT_ACS_TRANSCRIPTION_METADATA,
          "\"locale\" is not a string" },

        { TD("\"text\":1"), KTD, "\"text\" is not a string" },
        { TD("\"format\":{}"), KTD, "\"format\" is not a string" },
        { TD("\"resultStatus\":true"), KTD,
          "\"resultStatus\" is not a string" },
        { TD("\"confidence\":\"0.9\""), KTD,
          "\"confidence\" is not a number" },
        { TD("\"confidence\":-0.5"), KTD, "\"confidence\" is out of range" },
        { TD("\"confidence\":1e999"), KTD, "\"confidence\" is out of range" },
        { TD("\"offset\":1.5"), KTD, "\"offset\" is not an integer" },
        { TD("\"offset\":99999999999999999999"), KTD,
          "\"offset\" is out of range" },
        { TD("\"duration\":-5"), KTD, "\"duration\" is out of range" },

        /* a bad value sticks even when a good duplicate follows */
        { AM("\"sampleRate\":\"x\",\"sampleRate\":16000"), KAM,
          "\"sampleRate\" is not an integer" },

        /* the first bad field decides the reason */
        { AM("\"channels\":\"1\",\"sampleRate\":\"x\""), KAM,
          "\"channels\" is not an integer" }

#undef AM
#undef AD
#undef TD
#undef KAM
#undef KAD
#undef KTD
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        trace("%s\n", bad[i].json);
        assert_int_equal(parse(&p, bad[i].json), NGX_HTTP_RTAGENT_ACS_EFIELD);
        assert_string_equal(p.err, bad[i].err);
        assert_int_equal(p.msg.kind, bad[i].kind);
        assert_non_null(p.msg.kind_name.data);
        assert_defaults(&p.msg);
        done(&p);
    }

    /* the edges of the ranges */
    assert_int_equal(parse(&p, "{\"kind\":\"AudioMetadata\",\"audioMetadata\":"
                               "{\"sampleRate\":9223372036854775807,"
                               "\"channels\":0,\"length\":-0}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_true(p.msg.sample_rate == INT64_MAX);
    assert_true(p.msg.channels == 0);
    assert_true(p.msg.length == 0);
    done(&p);

    assert_int_equal(parse(&p, "{\"kind\":\"TranscriptionData\","
                               "\"transcriptionData\":{\"confidence\":0,"
                               "\"offset\":0,\"duration\":"
                               "9223372036854775807}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_true(p.msg.confidence == 0);
    assert_true(p.msg.offset == 0);
    assert_true(p.msg.duration == INT64_MAX);
    done(&p);

    /* a type error in a payload that the kind does not select is ignored */
    assert_int_equal(parse(&p, "{\"kind\":\"DtmfData\",\"dtmfData\":"
                               "{\"data\":\"3\"},\"audioMetadata\":"
                               "{\"sampleRate\":\"x\"},\"audioData\":7,"
                               "\"transcriptionData\":{\"offset\":-1}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_str(p.msg.dtmf, "3");
    done(&p);

    /* a duplicate payload replaces a bad one */
    assert_int_equal(parse(&p, "{\"kind\":\"AudioMetadata\",\"audioMetadata\":"
                               "{\"sampleRate\":\"x\"},\"audioMetadata\":"
                               "{\"sampleRate\":8000}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_true(p.msg.sample_rate == 8000);
    done(&p);

    /* unknown fields may hold anything */
    assert_int_equal(parse(&p, "{\"kind\":\"AudioMetadata\",\"audioMetadata\":"
                               "{\"sampleRateX\":\"x\",\"rate\":[1,{}],"
                               "\"sampleRate\":16000}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_true(p.msg.sample_rate == 16000);
    done(&p);
}


static void
test_ebase64(void **state)
{
    size_t      i;
    char        json[256];
    parsed_t    p;
    static const char  *bad[] = {
        "A",
        "AA",
        "AAA",
        "AAAAA",
        "AAAAAA",
        "AAAAAAA",
        "=",
        "==",
        "===",
        "====",
        "A===",
        "AA=",
        "=AAA",
        "AA=A",
        "A=AA",
        "A=A=",
        "AAAA====",
        "AA==AAAA",
        "AAA=AAAA",
        " AAA",
        "AAA ",
        "AA AA",
        "AAAA ",
        " AAAA",
        "AAAA\\n",
        "AAAA\\r\\n",
        "\\nAAAA",
        "AA\\tA",
        "AA-_",
        "AA.A",
        "AA*A",
        "AAA-",
        "\\u0000AAA",
        "AAA\\u0000",
        "AAA\\u00e9",
        "AA\xc3\xa9",
        "AAAA\\u00e9AAA"
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(json, sizeof(json),
                 "{\"kind\":\"AudioData\",\"audioData\":"
                 "{\"timestamp\":\"t\",\"data\":\"%s\"}}", bad[i]);
        trace("%s\n", json);

        assert_int_equal(parse(&p, json), NGX_HTTP_RTAGENT_ACS_EBASE64);
        assert_string_equal(p.err, TEST_BAD_BASE64);
        assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_AUDIO_DATA);
        assert_int_equal(p.msg.has_audio, 0);
        assert_absent(p.msg.audio);
        assert_absent(p.msg.timestamp);
        done(&p);
    }
}


static void
test_base64_valid(void **state)
{
    size_t      i;
    char        json[256];
    parsed_t    p;
    static const struct {
        const char  *b64;
        const char  *bytes;
        size_t       len;
    } good[] = {
        { "", "", 0 },
        { "AA==", "\x00", 1 },
        { "AAA=", "\x00\x00", 2 },
        { "AAAA", "\x00\x00\x00", 3 },
        { "/w==", "\xff", 1 },
        { "AP8=", "\x00\xff", 2 },
        { "+/+/", "\xfb\xff\xbf", 3 },
        { "AAEC/w==", "\x00\x01\x02\xff", 4 },

        /* "\/" is the JSON escape that some encoders emit for '/' */
        { "AAEC\\/w==", "\x00\x01\x02\xff", 4 },
        { "\\/\\/\\/\\/", "\xff\xff\xff", 3 },
        { "\\u0041\\u0041==", "\x00", 1 },
        { "Zm9vYmFy", "foobar", 6 },
        { "Zm9vYmE=", "fooba", 5 },
        { "Zm9vYg==", "foob", 4 },
        { "dGVzdA==", "test", 4 },

        /* non-zero pad bits are tolerated, as by most decoders */
        { "AB==", "\x00", 1 },
        { "AAB=", "\x00\x00", 2 }
    };

    (void) state;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(json, sizeof(json),
                 "{\"kind\":\"AudioData\",\"audioData\":"
                 "{\"data\":\"%s\",\"silent\":false}}", good[i].b64);
        trace("%s\n", json);

        assert_int_equal(parse(&p, json), NGX_HTTP_RTAGENT_ACS_OK);
        assert_int_equal(p.msg.has_audio, 1);
        assert_str_n(p.msg.audio, good[i].bytes, good[i].len);
        assert_int_equal((uintptr_t) p.msg.audio.data % 2, 0);
        done(&p);
    }

    /* a DtmfData "data" is plain text, not base64 */
    assert_int_equal(parse(&p, "{\"kind\":\"DtmfData\",\"dtmfData\":"
                               "{\"data\":\"AAAA\"}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_str(p.msg.dtmf, "AAAA");
    assert_int_equal(p.msg.has_audio, 0);
    done(&p);

    assert_int_equal(parse(&p, "{\"kind\":\"DtmfData\",\"dtmfData\":"
                               "{\"data\":\"*#\"}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_str(p.msg.dtmf, "*#");
    done(&p);
}


static void
test_escapes(void **state)
{
    parsed_t  p;

    (void) state;

    assert_int_equal(parse(&p, "{\"kind\":\"Audio\\u0044ata\",\"audio\\u0044"
                               "ata\":{\"participantRawID\":\"a\\\"b\\\\c\\/d"
                               "\\u00e9\\ud83d\\ude00\\b\\f\\n\\r\\t\","
                               "\"timestamp\":\"caf\xc3\xa9\","
                               "\"data\":\"AAEC\\/w==\"}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_AUDIO_DATA);
    assert_str(p.msg.kind_name, "AudioData");
    assert_str(p.msg.participant,
               "a\"b\\c/d\xc3\xa9\xf0\x9f\x98\x80\b\f\n\r\t");
    assert_str(p.msg.timestamp, "caf\xc3\xa9");
    assert_str_n(p.msg.audio, "\x00\x01\x02\xff", 4);
    done(&p);

    /* an escaped NUL is a valid character in a plain string */
    assert_int_equal(parse(&p, "{\"kind\":\"DtmfData\",\"dtmfData\":"
                               "{\"data\":\"1\\u00002\"}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_str_n(p.msg.dtmf, "1\0" "2", 3);
    done(&p);
}


/*
 * a 20 ms-like frame of 16-bit little-endian PCM: a triangle wave plus
 * pseudo-random noise, so every byte value and base64 character occurs
 */

static void
make_pcm(uint8_t *pcm, size_t len)
{
    size_t    i;
    int32_t   tri;
    uint32_t  seed;
    uint16_t  s;

    seed = 12345;

    for (i = 0; i + 1 < len; i += 2) {
        tri = (int32_t) ((i / 2) % 64) - 32;
        tri = (tri < 0 ? -tri : tri) * 800 - 12800;
        seed = seed * 1103515245 + 12345;
        s = (uint16_t) (int16_t) (tri + (int32_t) ((seed >> 16) % 2048)
                                  - 1024);
        pcm[i] = (uint8_t) (s & 0xff);
        pcm[i + 1] = (uint8_t) (s >> 8);
    }

    if (len % 2) {
        pcm[len - 1] = 0x80;
    }
}


static void
round_trip(size_t pcm_len, int check_b64)
{
    size_t     size, n, head, i;
    uint8_t   *pcm, *out;
    parsed_t   p;

    pcm = malloc(pcm_len ? pcm_len : 1);
    assert_non_null(pcm);
    make_pcm(pcm, pcm_len);

    head = strlen("{\"kind\":\"AudioData\",\"audioData\":{\"data\":\"");
    size = ngx_http_rtagent_acs_audio_msg_size(pcm_len);
    assert_int_equal(size, head + (pcm_len + 2) / 3 * 4 + 3);

    out = malloc(size);
    assert_non_null(out);

    n = ngx_http_rtagent_acs_audio_msg(out, pcm, pcm_len);
    assert_int_equal(n, size);
    assert_memory_equal(out, "{\"kind\":\"AudioData\",\"audioData\":"
                             "{\"data\":\"", head);
    assert_memory_equal(out + size - 3, "\"}}", 3);

    if (check_b64) {
        for (i = head; i < size - 3; i++) {
            assert_true(out[i] != '\\' && out[i] != '"' && out[i] >= 0x20);
        }
    }

    assert_int_equal(parse_n(&p, out, n), NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_AUDIO_DATA);
    assert_int_equal(p.msg.has_audio, 1);
    assert_str_n(p.msg.audio, pcm, pcm_len);
    assert_int_equal((uintptr_t) p.msg.audio.data % 2, 0);
    done(&p);

    free(out);
    free(pcm);
}


static void
test_round_trip(void **state)
{
    size_t  n;

    (void) state;

    /* one 20 ms frame at 16 kHz: 856 base64 characters */
    assert_int_equal(ngx_http_rtagent_acs_audio_msg_size(640),
                     strlen("{\"kind\":\"AudioData\",\"audioData\":"
                            "{\"data\":\"\"}}") + 856);
    round_trip(640, 1);

    /* 24 kHz, and every padding case */
    round_trip(960, 1);

    for (n = 0; n < 16; n++) {
        round_trip(n, 1);
    }

    round_trip(65536, 0);

    assert_int_equal(ngx_http_rtagent_acs_audio_msg_size(SIZE_MAX), 0);
    assert_int_equal(ngx_http_rtagent_acs_audio_msg_size(SIZE_MAX / 2 + 1), 0);
}


static void
test_audio_msg_exact(void **state)
{
    size_t          n;
    uint8_t         out[64];
    const char     *expect;
    static uint8_t  pcm[] = { 0x00, 0x01, 0x02, 0xff };

    (void) state;

    expect = "{\"kind\":\"AudioData\",\"audioData\":{\"data\":\"AAEC/w==\"}}";

    memset(out, 0xee, sizeof(out));
    n = ngx_http_rtagent_acs_audio_msg(out, pcm, sizeof(pcm));

    assert_int_equal(n, strlen(expect));
    assert_int_equal(n, ngx_http_rtagent_acs_audio_msg_size(sizeof(pcm)));
    assert_memory_equal(out, expect, n);

    /* nothing is written past the message, not even a NUL */
    assert_int_equal(out[n], 0xee);

    expect = "{\"kind\":\"AudioData\",\"audioData\":{\"data\":\"\"}}";
    memset(out, 0xee, sizeof(out));
    n = ngx_http_rtagent_acs_audio_msg(out, NULL, 0);
    assert_int_equal(n, strlen(expect));
    assert_memory_equal(out, expect, n);
    assert_int_equal(out[n], 0xee);
}


static void
test_stop_audio(void **state)
{
    parsed_t     p;
    const char  *expect;

    (void) state;

    expect = "{\"kind\":\"StopAudio\",\"stopAudio\":{}}";

    assert_int_equal(ngx_http_rtagent_acs_stop_audio.len, strlen(expect));
    assert_memory_equal(ngx_http_rtagent_acs_stop_audio.data, expect,
                        strlen(expect));

    assert_int_equal(parse_n(&p, ngx_http_rtagent_acs_stop_audio.data,
                             ngx_http_rtagent_acs_stop_audio.len),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_UNKNOWN);
    assert_str(p.msg.kind_name, "StopAudio");
    done(&p);
}


/* {"kind":"AudioData","a":[[...]]} with depth containers in all */

static char *
nested(size_t depth, const char *open, const char *close)
{
    char    *s;
    size_t   i, n, size;

    size = depth * (strlen(open) + strlen(close)) + 64;
    s = malloc(size);
    assert_non_null(s);

    n = (size_t) snprintf(s, size, "{\"kind\":\"AudioData\",\"a\":");

    for (i = 1; i < depth; i++) {
        n += (size_t) snprintf(s + n, size - n, "%s", open);
    }

    n += (size_t) snprintf(s + n, size - n, "1");

    for (i = 1; i < depth; i++) {
        n += (size_t) snprintf(s + n, size - n, "%s", close);
    }

    (void) snprintf(s + n, size - n, "}");

    return s;
}


static void
test_depth(void **state)
{
    char      *s;
    parsed_t   p;

    (void) state;

    s = nested(NGX_HTTP_RTAGENT_ACS_MAX_DEPTH, "[", "]");
    assert_int_equal(parse(&p, s), NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_AUDIO_DATA);
    done(&p);
    free(s);

    s = nested(NGX_HTTP_RTAGENT_ACS_MAX_DEPTH + 1, "[", "]");
    assert_int_equal(parse(&p, s), NGX_HTTP_RTAGENT_ACS_EJSON);
    assert_string_equal(p.err, "json nested too deeply");
    done(&p);
    free(s);

    s = nested(NGX_HTTP_RTAGENT_ACS_MAX_DEPTH + 1, "{\"a\":", "}");
    assert_int_equal(parse(&p, s), NGX_HTTP_RTAGENT_ACS_EJSON);
    assert_string_equal(p.err, "json nested too deeply");
    done(&p);
    free(s);

    /* far deeper, and unterminated */
    s = nested(100000, "[", "]");
    s[strlen(s) / 2] = '\0';
    assert_int_equal(parse(&p, s), NGX_HTTP_RTAGENT_ACS_EJSON);
    assert_string_equal(p.err, "json nested too deeply");
    done(&p);
    free(s);

    /* inside a payload too */
    expect_error("{\"kind\":\"AudioData\",\"audioData\":{\"x\":"
                 "[[[[[[[[[[[[[[[[" "[[[[[[[[[[[[[[[["
                 "]]]]]]]]]]]]]]]]" "]]]]]]]]]]]]]]]]}}",
                 NGX_HTTP_RTAGENT_ACS_EJSON, "json nested too deeply");

    /* 30 arrays in a payload: depth 32, the most allowed */
    expect_error("{\"kind\":\"AudioData\",\"audioData\":{\"x\":"
                 "[[[[[[[[[[[[[[[" "[[[[[[[[[[[[[[["
                 "]]]]]]]]]]]]]]]" "]]]]]]]]]]]]]]]},\"y\":1}",
                 NGX_HTTP_RTAGENT_ACS_OK, NULL);
}


/* every strict prefix of a valid message is an error, never a crash */

static void
truncate_all(const uint8_t *msg, size_t len)
{
    size_t    n;
    parsed_t  p;

    /* a complete message first, so the prefixes are really truncations */
    assert_int_equal(parse_n(&p, msg, len), NGX_HTTP_RTAGENT_ACS_OK);
    done(&p);

    for (n = 0; n < len; n++) {
        if (parse_n(&p, msg, n) != NGX_HTTP_RTAGENT_ACS_EJSON) {
            fail_msg("prefix of %zu bytes returned %d", n, (int) p.rc);
        }

        assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_UNKNOWN);
        done(&p);
    }
}


static void
test_truncated(void **state)
{
    size_t        n, len;
    char         *buf;
    uint8_t       pcm[640], *out;
    const char  **f;
    static const char  *files[] = {
        "acs_ws_in_AudioData.json",
        "acs_ws_in_AudioMetadata_docs.json",
        "acs_ws_in_TranscriptionData.json",
        "acs_ws_in_TranscriptionMetadata.json",
        "acs_ws_in_DtmfData_docs.json",
        NULL
    };
    static const char  *tricky =
        "{\"kind\":\"AudioData\",\"audioData\":"
        "{\"timestamp\":\"2024-05-30T06:25:02.948Z\","
        "\"participantRawID\":\"8:acs:\\u00e9\\/x\","
        "\"data\":\"AAEC\\/w==\",\"silent\":true,"
        "\"x\":[1.5e3,-2,null,true,false,{\"y\":[]}]}}";

    (void) state;

    make_pcm(pcm, sizeof(pcm));
    n = ngx_http_rtagent_acs_audio_msg_size(sizeof(pcm));
    out = malloc(n);
    assert_non_null(out);
    ngx_http_rtagent_acs_audio_msg(out, pcm, sizeof(pcm));
    truncate_all(out, n);
    free(out);

    truncate_all((const uint8_t *) tricky, strlen(tricky));

    for (f = files; *f; f++) {
        buf = read_file(fixtures(), *f, &len);

        /* trailing whitespace would make a prefix complete */
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '
                       || buf[len - 1] == '\r' || buf[len - 1] == '\t'))
        {
            len--;
        }

        truncate_all((const uint8_t *) buf, len);
        free(buf);
    }
}


static void
test_arena(void **state)
{
    char                        err[NGX_HTTP_RTAGENT_ACS_ERR_SIZE];
    size_t                      len, size;
    uint8_t                     arena[256];
    const char                 *json;
    ngx_http_rtagent_acs_rc_e   rc;
    ngx_http_rtagent_acs_msg_t  msg;

    (void) state;

    json = "{\"kind\":\"AudioData\",\"audioData\":{\"timestamp\":\"t\","
           "\"data\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"}}";
    len = strlen(json);

    /* every arena size below what this message needs fails cleanly */
    for (size = 0; size <= len; size++) {
        rc = ngx_http_rtagent_acs_msg_parse((const uint8_t *) json, len,
                                            arena, size, &msg, err,
                                            sizeof(err));

        if (rc == NGX_HTTP_RTAGENT_ACS_OK) {
            break;
        }

        assert_int_equal(rc, NGX_HTTP_RTAGENT_ACS_ENOMEM);
        assert_string_equal(err, "arena too small");
        assert_defaults(&msg);
    }

    assert_true(size < len);
    assert_int_equal(msg.audio.len, 32);

    rc = ngx_http_rtagent_acs_msg_parse((const uint8_t *) json, len, NULL,
                                        len, &msg, err, sizeof(err));
    assert_int_equal(rc, NGX_HTTP_RTAGENT_ACS_ENOMEM);

    /* strings that need no arena do not fail without one */
    json = "{\"kind\":\"\",\"audioData\":{\"data\":\"\"}}";
    rc = ngx_http_rtagent_acs_msg_parse((const uint8_t *) json,
                                        strlen(json), NULL, 0, &msg, err,
                                        sizeof(err));
    assert_int_equal(rc, NGX_HTTP_RTAGENT_ACS_OK);
}


static void
test_err_buffer(void **state)
{
    char                        err[200];
    const char                 *json;
    ngx_http_rtagent_acs_rc_e   rc;
    ngx_http_rtagent_acs_msg_t  msg;

    (void) state;

    json = "{\"kind\":\"AudioMetadata\",\"audioMetadata\":"
           "{\"sampleRate\":\"x\"}}";

    rc = ngx_http_rtagent_acs_msg_parse((const uint8_t *) json,
                                        strlen(json), (uint8_t *) err,
                                        sizeof(err), &msg, NULL, 0);
    assert_int_equal(rc, NGX_HTTP_RTAGENT_ACS_EFIELD);

    memset(err, 'x', sizeof(err));
    rc = ngx_http_rtagent_acs_msg_parse((const uint8_t *) json,
                                        strlen(json), (uint8_t *) err + 100,
                                        100, &msg, err, 8);
    assert_int_equal(rc, NGX_HTTP_RTAGENT_ACS_EFIELD);
    assert_string_equal(err, "\"sample");

    /* a long yajl message is cut to fit a WebSocket close reason */
    memset(err, 'x', sizeof(err));
    json = "{\"kind\":\"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\"}";
    rc = ngx_http_rtagent_acs_msg_parse((const uint8_t *) json,
                                        strlen(json), (uint8_t *) err + 150,
                                        50, &msg, err, sizeof(err));
    assert_int_equal(rc, NGX_HTTP_RTAGENT_ACS_EJSON);
    assert_true(strlen(err) <= 100);
    assert_true(strncmp(err, "malformed json at byte ", 23) == 0);
}


static void
test_transcription_status(void **state)
{
    size_t    i;
    char      json[256];
    parsed_t  p;
    static const struct {
        const char  *status;
        unsigned     final;
    } st[] = {
        { "Final", 1 },
        { "final", 1 },
        { "FINAL", 1 },
        { "fInAl", 1 },
        { "Intermediate", 0 },
        { "", 0 },
        { "Finale", 0 },
        { "fina", 0 },
        { "Final ", 0 }
    };

    (void) state;

    for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        snprintf(json, sizeof(json),
                 "{\"kind\":\"transcriptionData\",\"TranscriptionData\":"
                 "{\"ResultStatus\":\"%s\",\"Confidence\":1,"
                 "\"Offset\":10,\"Duration\":20}}", st[i].status);
        trace("%s\n", json);

        assert_int_equal(parse(&p, json), NGX_HTTP_RTAGENT_ACS_OK);
        assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_TRANSCRIPTION_DATA);
        assert_str(p.msg.result_status, st[i].status);
        assert_int_equal(p.msg.final, st[i].final);
        assert_true(p.msg.confidence == 1.0);
        assert_true(p.msg.offset == 10);
        assert_true(p.msg.duration == 20);
        done(&p);
    }

    /* the last resultStatus wins, final flag included */
    assert_int_equal(parse(&p, "{\"kind\":\"TranscriptionData\","
                               "\"transcriptionData\":{\"resultStatus\":"
                               "\"Final\",\"resultStatus\":\"Intermediate\","
                               "\"confidence\":0.5e-1}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_str(p.msg.result_status, "Intermediate");
    assert_int_equal(p.msg.final, 0);
    assert_true(p.msg.confidence > 0.05 - 1e-12
                && p.msg.confidence < 0.05 + 1e-12);
    done(&p);
}


static void
test_stray_and_unknown(void **state)
{
    parsed_t  p;

    (void) state;

    /* only the payload that the kind selects is reported */
    assert_int_equal(parse(&p, "{\"kind\":\"AudioData\",\"audioData\":"
                               "{\"data\":\"AAAA\",\"participantRawID\":\"p\"},"
                               "\"dtmfData\":{\"data\":\"5\"},"
                               "\"transcriptionData\":{\"text\":\"t\","
                               "\"participantRawID\":\"q\"},"
                               "\"audioMetadata\":{\"sampleRate\":8000}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_AUDIO_DATA);
    assert_str(p.msg.participant, "p");
    assert_absent(p.msg.dtmf);
    assert_absent(p.msg.text);
    assert_true(p.msg.sample_rate == -1);
    done(&p);

    assert_int_equal(parse(&p, "{\"kind\":\"TranscriptionData\","
                               "\"transcriptionData\":{\"text\":\"t\"},"
                               "\"transcriptionMetadata\":{\"locale\":\"x\"}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_str(p.msg.text, "t");
    assert_absent(p.msg.locale);
    done(&p);

    /* unknown keys and values are skipped at any depth */
    assert_int_equal(parse(&p, "{\"x\":{\"audioMetadata\":{\"sampleRate\":1}},"
                               "\"kind\":\"AudioMetadata\",\"audioMetadata\":"
                               "{\"sampleRate\":16000,\"extra\":{\"sampleRate"
                               "\":\"bad\",\"deep\":[{\"channels\":\"x\"}]},"
                               "\"channels\":1,\"n\":[1,2.5,-3e-2,null,true],"
                               "\"o\":{}},\"y\":[1,\"a\",{\"kind\":\"DtmfData"
                               "\"},[[]]],\"z\":null,\"w\":\"s\",\"v\":1e400,"
                               "\"u\":123456789012345678901234567890}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.kind, NGX_HTTP_RTAGENT_ACS_AUDIO_METADATA);
    assert_true(p.msg.sample_rate == 16000);
    assert_true(p.msg.channels == 1);
    done(&p);

    /* the last of duplicate fields wins */
    assert_int_equal(parse(&p, "{\"kind\":\"AudioData\",\"audioData\":"
                               "{\"data\":\"AAAA\",\"data\":\"/w==\","
                               "\"timestamp\":\"a\",\"Timestamp\":\"b\","
                               "\"silent\":true,\"silent\":false}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_str_n(p.msg.audio, "\xff", 1);
    assert_str(p.msg.timestamp, "b");
    assert_int_equal(p.msg.silent, 0);
    done(&p);

    assert_int_equal(parse(&p, "{\"kind\":\"AudioData\",\"audioData\":"
                               "{\"data\":\"AAAA\",\"data\":null}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.has_audio, 0);
    assert_absent(p.msg.audio);
    done(&p);

    /* a duplicate payload object replaces the whole earlier one */
    assert_int_equal(parse(&p, "{\"kind\":\"AudioData\",\"audioData\":"
                               "{\"data\":\"AAAA\",\"timestamp\":\"a\"},"
                               "\"audioData\":{\"silent\":true}}"),
                     NGX_HTTP_RTAGENT_ACS_OK);
    assert_int_equal(p.msg.has_audio, 0);
    assert_absent(p.msg.timestamp);
    assert_int_equal(p.msg.silent, 1);
    done(&p);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_fixture_audio_metadata),
        cmocka_unit_test(test_fixture_audio_data),
        cmocka_unit_test(test_fixture_dtmf),
        cmocka_unit_test(test_fixture_transcription),
        cmocka_unit_test(test_fixture_all),
        cmocka_unit_test(test_pascal_case),
        cmocka_unit_test(test_kind_after_payload),
        cmocka_unit_test(test_null_payload),
        cmocka_unit_test(test_unknown_kind),
        cmocka_unit_test(test_missing_kind),
        cmocka_unit_test(test_ejson),
        cmocka_unit_test(test_efield),
        cmocka_unit_test(test_ebase64),
        cmocka_unit_test(test_base64_valid),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_audio_msg_exact),
        cmocka_unit_test(test_stop_audio),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_err_buffer),
        cmocka_unit_test(test_transcription_status),
        cmocka_unit_test(test_stray_and_unknown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
