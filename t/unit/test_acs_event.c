
/*
 * Unit tests for the events endpoint parser (cmocka).
 *
 * Every body is handed over in a buffer of exactly its length, without a
 * NUL, so an ASan build catches any read past it.  Fixtures are read from
 * $RTAGENT_FIXTURES, by default t/fixtures (the tests
 * run from the repo root).
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

#include "ngx_http_rtagent_acs_event.h"

#include "test_fixtures.h"


#define TEST_ERR_SIZE          128

#define TEST_CONN_ID           "06004980-19f4-465a-b630-76c371713dff"
#define TEST_CORRELATION_ID    "b2cc74bf-be72-4a6f-88da-f2107fc6780f"
#define TEST_SERVER_CALL_ID                                                  \
    "aHR0cHM6Ly9hcGkuZmxpZ2h0cHJveHkuc2t5cGUuY29tL2FwaS92Mi9jcC9jb252LW1h"   \
    "c28tMDQtcHJvZC1ha3MuY29udi5za3lwZS5jb20vY29udi82dDM3NUdpZ1lVcWhKYnNX"   \
    "WFlvTVN3P2k9MTAtMTI4LTc2LTcmZT02Mzg4MTgxMTQ1NDcxNjg2MTE="
#define TEST_CALLER                                                          \
    "8:acs:98e4cbef-70e7-4733-8594-063c4a72d711_00000014-2033-438d-1000-"    \
    "343a0d006e10"
#define TEST_CALLEE                                                          \
    "8:acs:98e4cbef-70e7-4733-8594-063c4a72d711_00000014-1889-f3a7-6a0b-"    \
    "343a0d0061f3"

/* a minimal valid CloudEvent and Event Grid event */
#define TEST_CE(id, type)                                                    \
    "{\"id\":\"" id "\",\"type\":\"" type "\",\"data\":{}}"
#define TEST_EG(id, type)                                                    \
    "{\"id\":\"" id "\",\"eventType\":\"" type "\",\"data\":{}}"

/* the case being checked, shown with TEST_VERBOSE=1 to find a failure */
#define trace(...)                                                           \
    do {                                                                     \
        if (getenv("TEST_VERBOSE")) {                                        \
            print_message(__VA_ARGS__);                                      \
        }                                                                    \
    } while (0)


typedef struct {
    char                           *in;
    ngx_http_rtagent_acs_events_t   evs;
    int                             rc;
    char                            err[TEST_ERR_SIZE];
} parsed_t;


/* parses len bytes; the input buffer is exactly len bytes */

static int
parse_n(parsed_t *p, const void *body, size_t len)
{
    p->in = malloc(len ? len : 1);
    assert_non_null(p->in);

    memcpy(p->in, body, len);
    memset(p->err, 'x', sizeof(p->err));

    p->rc = ngx_http_rtagent_acs_events_parse(p->in, len, &p->evs, p->err,
                                              sizeof(p->err));

    /* the input is left as it was */
    assert_memory_equal(p->in, body, len);

    assert_true(strlen(p->err) < sizeof(p->err));
    assert_null(strchr(p->err, '\n'));

    if (p->rc == 0) {
        assert_string_equal(p->err, "");
        assert_non_null(p->evs.tree);
        assert_non_null(p->evs.events);
        assert_true(p->evs.nevents >= 1);
        assert_true(p->evs.nevents <= NGX_HTTP_RTAGENT_ACS_EVENTS_MAX);

    } else {
        assert_int_equal(p->rc, -1);
        assert_true(strlen(p->err) > 0);
        assert_null(p->evs.tree);
        assert_null(p->evs.events);
        assert_int_equal(p->evs.nevents, 0);
    }

    return p->rc;
}


static int
parse(parsed_t *p, const char *json)
{
    return parse_n(p, json, strlen(json));
}


static void
done(parsed_t *p)
{
    ngx_http_rtagent_acs_events_free(&p->evs);
    free(p->in);
    p->in = NULL;
}


static void
expect_error(const char *json, const char *err)
{
    parsed_t  p;

    trace("%s\n", json);

    assert_int_equal(parse(&p, json), -1);
    assert_string_equal(p.err, err);
    done(&p);
}


static void
expect_malformed(const void *json, size_t len)
{
    parsed_t  p;

    assert_int_equal(parse_n(&p, json, len), -1);
    assert_memory_equal(p.err, "malformed JSON: ", 16);
    assert_true(strlen(p.err) > 16);
    done(&p);
}


static int
parse_fixture(parsed_t *p, const char *name)
{
    char    *buf;
    size_t   len;

    trace("%s\n", name);

    buf = read_file(fixtures(), name, &len);
    parse_n(p, buf, len);
    free(buf);

    return p->rc;
}


static void
test_fixture_incoming_call(void **state)
{
    char                                 buf[256];
    parsed_t                             p;
    yajl_val                             to, from;
    const ngx_http_rtagent_acs_event_t  *ev;

    (void) state;

    assert_int_equal(parse_fixture(&p, "eventgrid_IncomingCall.json"), 0);
    assert_int_equal(p.evs.array, 1);
    assert_int_equal(p.evs.nevents, 1);

    ev = &p.evs.events[0];
    assert_int_equal(ev->kind, NGX_HTTP_RTAGENT_ACS_EV_INCOMING_CALL);
    assert_string_equal(ev->id, "d5546be8-227a-4db8-b2c3-4f06fd675fd6");
    assert_string_equal(ev->type, "Microsoft.Communication.IncomingCall");
    assert_string_equal(ev->name, "Microsoft.Communication.IncomingCall");
    assert_string_equal(ev->subject,
                        "/caller/" TEST_CALLER "/recipient/" TEST_CALLEE);
    assert_string_equal(ev->time, "2022-08-25T19:27:24.2415391Z");
    assert_true(YAJL_IS_OBJECT(ev->data));
    assert_null(ev->call_connection_id);
    assert_null(ev->operation_context);
    assert_string_equal(ev->correlation_id,
                        "d732db64-4803-462d-be9c-518943ea2b7a");
    assert_string_equal(ev->server_call_id,
                        "tob2JIV0wzOHdab3dWcGVWZmsrL2QxYVZnQ2U1bVVLQTh1T0"
                        "56YmpvdXdnQjNzZTlnTEhjNFlYem5BVU9nRGY5dUFQ");

    assert_string_equal(ngx_http_rtagent_json_str(ev->data,
                                                      "callerDisplayName",
                                                      NULL),
                        "John Doe");
    assert_memory_equal(ngx_http_rtagent_json_str(ev->data,
                                                      "incomingCallContext",
                                                      NULL),
                        "eyJhbGciOiJub25lIiwidHliSldUIn0.", 32);

    to = ngx_http_rtagent_json_get(ev->data, "to", NULL);
    from = ngx_http_rtagent_json_get(ev->data, "from", NULL);
    assert_true(YAJL_IS_OBJECT(to));
    assert_true(YAJL_IS_OBJECT(from));

    /* rawId comes from the tree, not the buffer */
    assert_string_equal(ngx_http_rtagent_acs_ident_raw(to, buf, sizeof(buf)),
                        TEST_CALLEE);
    assert_string_equal(ngx_http_rtagent_acs_ident_raw(from, NULL, 0),
                        TEST_CALLER);
    assert_null(ngx_http_rtagent_acs_ident_phone(to));
    assert_null(ngx_http_rtagent_acs_ident_phone(from));

    assert_string_equal(ngx_http_rtagent_json_str(ev->data, "from",
                                                      "communicationUser",
                                                      "id", NULL),
                        TEST_CALLER);

    done(&p);
}


static void
test_fixture_validation(void **state)
{
    parsed_t                             p;
    const ngx_http_rtagent_acs_event_t  *ev;

    (void) state;

    assert_int_equal(parse_fixture(&p,
                               "eventgrid_SubscriptionValidationEvent.json"),
                     0);
    assert_int_equal(p.evs.array, 1);
    assert_int_equal(p.evs.nevents, 1);

    ev = &p.evs.events[0];
    assert_int_equal(ev->kind, NGX_HTTP_RTAGENT_ACS_EV_VALIDATION);
    assert_string_equal(ev->id, "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66");
    assert_string_equal(ev->type,
                        "Microsoft.EventGrid.SubscriptionValidationEvent");
    assert_string_equal(ev->name, ev->type);

    /* present but empty is not absent */
    assert_non_null(ev->subject);
    assert_string_equal(ev->subject, "");
    assert_string_equal(ev->time, "2018-01-25T22:12:19.4556811Z");
    assert_null(ev->call_connection_id);
    assert_null(ev->server_call_id);
    assert_null(ev->correlation_id);

    assert_string_equal(ngx_http_rtagent_json_str(ev->data,
                                                      "validationCode",
                                                      NULL),
                        "512d38b6-c7b8-40c8-89fe-f46f9e9622b6");
    assert_memory_equal(ngx_http_rtagent_json_str(ev->data,
                                                      "validationUrl",
                                                      NULL),
                        "https://rp-eastus2.eventgrid.azure.net:553/", 43);

    done(&p);
}


static void
test_fixture_callbacks(void **state)
{
    unsigned                             i;
    parsed_t                             p;
    const ngx_http_rtagent_acs_event_t  *ev;

    static const struct {
        const char  *file;
        const char  *name;
        const char  *id;
        const char  *time;
    } cases[] = {
        { "callback_CallConnected.json", "CallConnected",
          "2f4cb098-d69f-4cd1-972b-f8e552348ab0",
          "2025-05-06T16:31:49.4325356+00:00" },
        { "callback_CallDisconnected.json", "CallDisconnected",
          "dea6a3cd-d3e6-49b5-84bb-88d79d1851bf",
          "2025-05-06T16:32:02.2088495+00:00" },
        { "callback_MediaStreamingStarted.json", "MediaStreamingStarted",
          "1daceab8-bb47-468e-b096-fad2948198c4",
          "2025-05-06T16:31:54.8331644+00:00" },
        { "callback_MediaStreamingStopped.json", "MediaStreamingStopped",
          "46ea99cf-a437-492b-8dc6-6e98ee0ed659",
          "2025-05-06T16:32:00.9637541+00:00" },
        { "callback_ParticipantsUpdated.json", "ParticipantsUpdated",
          "5262a6e8-3ad2-48c2-b0dc-0b7d24390576",
          "2025-05-06T16:31:49.3220776+00:00" }
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse_fixture(&p, cases[i].file), 0);

        /* the recorded callbacks are single objects */
        assert_int_equal(p.evs.array, 0);
        assert_int_equal(p.evs.nevents, 1);

        ev = &p.evs.events[0];
        assert_int_equal(ev->kind, NGX_HTTP_RTAGENT_ACS_EV_CALL);
        assert_string_equal(ev->name, cases[i].name);
        assert_string_equal(ev->type + strlen("Microsoft.Communication."),
                            cases[i].name);
        assert_memory_equal(ev->type, "Microsoft.Communication.", 24);
        assert_string_equal(ev->id, cases[i].id);
        assert_string_equal(ev->time, cases[i].time);
        assert_string_equal(ev->subject,
                            "calling/callConnections/" TEST_CONN_ID);
        assert_string_equal(ev->call_connection_id, TEST_CONN_ID);
        assert_string_equal(ev->server_call_id, TEST_SERVER_CALL_ID);
        assert_string_equal(ev->correlation_id, TEST_CORRELATION_ID);
        assert_null(ev->operation_context);
        assert_true(YAJL_IS_OBJECT(ev->data));
        assert_string_equal(ngx_http_rtagent_json_str(ev->data,
                                                          "publicEventType",
                                                          NULL),
                            ev->type);
        assert_true(YAJL_IS_INTEGER(ngx_http_rtagent_json_get(ev->data,
                                      "resultInformation", "code", NULL)));
        done(&p);
    }

    assert_int_equal(parse_fixture(&p, "callback_PlayCompleted.json"), 0);
    ev = &p.evs.events[0];
    assert_int_equal(ev->kind, NGX_HTTP_RTAGENT_ACS_EV_CALL);
    assert_string_equal(ev->name, "PlayCompleted");
    assert_string_equal(ev->call_connection_id,
                        "411f0b00-f8fc-4e16-b8a0-bfed0b37635b");
    assert_string_equal(ngx_http_rtagent_json_str(ev->data, "version",
                                                      NULL),
                        "2024-04-15");
    done(&p);

    assert_int_equal(parse_fixture(&p, "callback_CallDisconnected.json"), 0);
    ev = &p.evs.events[0];
    assert_string_equal(ngx_http_rtagent_json_str(ev->data,
                                                      "resultInformation",
                                                      "message", NULL),
                        "The conversation has ended. DiagCode: 0#7000.@");
    assert_true(YAJL_GET_INTEGER(ngx_http_rtagent_json_get(ev->data,
                                     "resultInformation", "subCode", NULL))
                == 7000);
    done(&p);

    assert_int_equal(parse_fixture(&p, "callback_MediaStreamingStarted.json"),
                     0);
    ev = &p.evs.events[0];
    assert_string_equal(ngx_http_rtagent_json_str(ev->data,
                                                  "mediaStreamingUpdate",
                                                  "mediaStreamingStatus",
                                                  NULL),
                        "mediaStreamingStarted");
    done(&p);
}


static void
test_fixture_participants(void **state)
{
    char                                 buf[128];
    size_t                               i;
    parsed_t                             p;
    yajl_val                             list, ident;
    const ngx_http_rtagent_acs_event_t  *ev;

    static const char  *raw[] = {
        "8:acs:6d889502-3d7a-41a8-befa-d21fd80e8767_00000027-4651-bfa5-2c8a-"
        "084822002c21",
        "8:acs:6d889502-3d7a-41a8-befa-d21fd80e8767_00000027-4651-be8f-2c8a-"
        "084822002c20"
    };

    (void) state;

    assert_int_equal(parse_fixture(&p, "callback_ParticipantsUpdated.json"),
                     0);
    ev = &p.evs.events[0];

    list = ngx_http_rtagent_json_get(ev->data, "participants", NULL);
    assert_true(YAJL_IS_ARRAY(list));
    assert_int_equal(list->u.array.len, 2);

    for (i = 0; i < 2; i++) {
        ident = ngx_http_rtagent_json_get(list->u.array.values[i],
                                              "identifier", NULL);
        assert_string_equal(ngx_http_rtagent_acs_ident_raw(ident, buf,
                                                           sizeof(buf)),
                            raw[i]);
        assert_null(ngx_http_rtagent_acs_ident_phone(ident));
        assert_true(YAJL_IS_FALSE(ngx_http_rtagent_json_get(
                                      list->u.array.values[i], "isMuted",
                                      NULL)));
    }

    /* a path through an array does not go into it */
    assert_null(ngx_http_rtagent_json_get(ev->data, "participants",
                                              "identifier", NULL));
    done(&p);
}


/* every eventgrid_*.json and callback_*.json, including any added later */

static void
test_fixture_all(void **state)
{
    DIR            *d;
    size_t          n, seen;
    parsed_t        p;
    const char     *name;
    struct dirent  *de;

    (void) state;

    d = opendir(fixtures());
    if (d == NULL) {
        fail_msg("cannot open %s (set RTAGENT_FIXTURES)", fixtures());
    }

    seen = 0;

    while ((de = readdir(d)) != NULL) {
        name = de->d_name;
        n = strlen(name);

        if (n < 5 || strcmp(name + n - 5, ".json") != 0) {
            continue;
        }

        if (strncmp(name, "callback_", 9) == 0) {
            assert_int_equal(parse_fixture(&p, name), 0);
            assert_int_equal(p.evs.events[0].kind,
                             NGX_HTTP_RTAGENT_ACS_EV_CALL);

            /* the file is named after the event */
            assert_int_equal(strlen(p.evs.events[0].name), n - 9 - 5);
            assert_memory_equal(p.evs.events[0].name, name + 9, n - 9 - 5);
            assert_non_null(p.evs.events[0].call_connection_id);
            done(&p);
            seen++;

        } else if (strcmp(name,
                          "eventgrid_SubscriptionValidationResponse.json")
                   == 0)
        {
            /* our reply, not a delivery: an object without id */
            assert_int_equal(parse_fixture(&p, name), -1);
            assert_string_equal(p.err, "event 0 has no id");
            done(&p);

        } else if (strncmp(name, "eventgrid_", 10) == 0) {
            assert_int_equal(parse_fixture(&p, name), 0);
            assert_int_equal(p.evs.array, 1);
            assert_int_not_equal(p.evs.events[0].kind,
                                 NGX_HTTP_RTAGENT_ACS_EV_OTHER);
            done(&p);
            seen++;
        }
    }

    closedir(d);

    assert_true(seen >= 8);
}


static void
test_single_cloudevent(void **state)
{
    parsed_t                             p;
    const ngx_http_rtagent_acs_event_t  *ev;

    (void) state;

    assert_int_equal(parse(&p, "{\"specversion\":\"1.0\",\"id\":\"e1\","
                               "\"source\":\"/x\",\"type\":\"Microsoft."
                               "Communication.IncomingCall\",\"time\":"
                               "\"2024-01-01T00:00:00Z\",\"subject\":\"s\","
                               "\"data\":{\"callConnectionId\":\"c\","
                               "\"serverCallId\":\"sv\",\"correlationId\":"
                               "\"co\",\"operationContext\":\"op\"}}"),
                     0);
    assert_int_equal(p.evs.array, 0);
    assert_int_equal(p.evs.nevents, 1);
    assert_ptr_equal(p.evs.events[0].data,
                     ngx_http_rtagent_json_get(p.evs.tree, "data",
                                                   NULL));

    ev = &p.evs.events[0];
    assert_int_equal(ev->kind, NGX_HTTP_RTAGENT_ACS_EV_INCOMING_CALL);
    assert_string_equal(ev->id, "e1");
    assert_string_equal(ev->time, "2024-01-01T00:00:00Z");
    assert_string_equal(ev->subject, "s");
    assert_string_equal(ev->call_connection_id, "c");
    assert_string_equal(ev->server_call_id, "sv");
    assert_string_equal(ev->correlation_id, "co");
    assert_string_equal(ev->operation_context, "op");
    done(&p);

    /* no data, no subject, no time; data fields of other types */
    assert_int_equal(parse(&p, "{\"id\":\"e\",\"type\":\"T\"}"), 0);
    ev = &p.evs.events[0];
    assert_int_equal(ev->kind, NGX_HTTP_RTAGENT_ACS_EV_OTHER);
    assert_null(ev->data);
    assert_null(ev->subject);
    assert_null(ev->time);
    assert_null(ev->call_connection_id);
    done(&p);

    assert_int_equal(parse(&p, "{\"id\":\"e\",\"type\":\"T\",\"data\":null,"
                               "\"subject\":5,\"time\":false}"),
                     0);
    ev = &p.evs.events[0];
    assert_null(ev->data);
    assert_null(ev->subject);
    assert_null(ev->time);
    done(&p);

    assert_int_equal(parse(&p, "{\"id\":\"e\",\"type\":\"T\",\"data\":{"
                               "\"callConnectionId\":1,\"serverCallId\":null,"
                               "\"correlationId\":{},\"operationContext\":"
                               "[\"x\"]}}"),
                     0);
    ev = &p.evs.events[0];
    assert_non_null(ev->data);
    assert_null(ev->call_connection_id);
    assert_null(ev->server_call_id);
    assert_null(ev->correlation_id);
    assert_null(ev->operation_context);
    done(&p);
}


static void
test_batch(void **state)
{
    size_t    i;
    parsed_t  p;

    static const struct {
        const char                      *id;
        ngx_http_rtagent_acs_ev_kind_e   kind;
        const char                      *name;
    } expect[] = {
        { "a", NGX_HTTP_RTAGENT_ACS_EV_INCOMING_CALL,
          "Microsoft.Communication.IncomingCall" },
        { "b", NGX_HTTP_RTAGENT_ACS_EV_CALL, "CallConnected" },
        { "c", NGX_HTTP_RTAGENT_ACS_EV_VALIDATION,
          "Microsoft.EventGrid.SubscriptionValidationEvent" },
        { "d", NGX_HTTP_RTAGENT_ACS_EV_OTHER,
          "Microsoft.Storage.BlobCreated" },
        { "e", NGX_HTTP_RTAGENT_ACS_EV_CALL, "PlayCompleted" }
    };

    (void) state;

    assert_int_equal(parse(&p,
        "[" TEST_EG("a", "Microsoft.Communication.IncomingCall")
        "," TEST_CE("b", "Microsoft.Communication.CallConnected")
        "," TEST_EG("c", "Microsoft.EventGrid.SubscriptionValidationEvent")
        "," TEST_CE("d", "Microsoft.Storage.BlobCreated")
        ",\n " TEST_CE("e", "Microsoft.Communication.PlayCompleted") "]"),
        0);

    assert_int_equal(p.evs.array, 1);
    assert_int_equal(p.evs.nevents, 5);

    for (i = 0; i < 5; i++) {
        assert_string_equal(p.evs.events[i].id, expect[i].id);
        assert_int_equal(p.evs.events[i].kind, expect[i].kind);
        assert_string_equal(p.evs.events[i].name, expect[i].name);
        assert_true(YAJL_IS_OBJECT(p.evs.events[i].data));
        assert_ptr_equal(p.evs.events[i].data,
                         ngx_http_rtagent_json_get(
                             p.evs.tree->u.array.values[i], "data", NULL));
    }

    done(&p);

    /* one-element array, as Event Grid sends by default */
    assert_int_equal(parse(&p, "[" TEST_CE("x", "Y") "]"), 0);
    assert_int_equal(p.evs.array, 1);
    assert_int_equal(p.evs.nevents, 1);
    done(&p);
}


static void
test_type_fields(void **state)
{
    parsed_t  p;

    (void) state;

    /* "eventType" wins when both are there */
    assert_int_equal(parse(&p, "[{\"id\":\"1\",\"type\":\"A\",\"eventType\":"
                               "\"Microsoft.Communication.X\"}]"),
                     0);
    assert_string_equal(p.evs.events[0].type, "Microsoft.Communication.X");
    assert_string_equal(p.evs.events[0].name, "X");
    assert_int_equal(p.evs.events[0].kind, NGX_HTTP_RTAGENT_ACS_EV_CALL);
    done(&p);

    /* an empty or non-string one does not count */
    assert_int_equal(parse(&p, "[{\"id\":\"1\",\"eventType\":\"\","
                               "\"type\":\"B\"}]"),
                     0);
    assert_string_equal(p.evs.events[0].type, "B");
    done(&p);

    assert_int_equal(parse(&p, "[{\"id\":\"1\",\"eventType\":7,"
                               "\"type\":\"B\"}]"),
                     0);
    assert_string_equal(p.evs.events[0].type, "B");
    done(&p);

    /* the time likewise */
    assert_int_equal(parse(&p, "[{\"id\":\"1\",\"type\":\"B\",\"time\":\"t\","
                               "\"eventTime\":\"et\"}]"),
                     0);
    assert_string_equal(p.evs.events[0].time, "et");
    done(&p);
}


static void
test_kinds(void **state)
{
    unsigned  i;
    parsed_t  p;
    char      json[256];

    static const struct {
        const char                      *type;
        ngx_http_rtagent_acs_ev_kind_e   kind;
        const char                      *name;
    } cases[] = {
        { "Microsoft.Communication.IncomingCall",
          NGX_HTTP_RTAGENT_ACS_EV_INCOMING_CALL,
          "Microsoft.Communication.IncomingCall" },
        { "Microsoft.EventGrid.SubscriptionValidationEvent",
          NGX_HTTP_RTAGENT_ACS_EV_VALIDATION,
          "Microsoft.EventGrid.SubscriptionValidationEvent" },
        { "Microsoft.Communication.RecordingStateChanged",
          NGX_HTTP_RTAGENT_ACS_EV_CALL, "RecordingStateChanged" },
        { "Microsoft.Communication.IncomingCallX",
          NGX_HTTP_RTAGENT_ACS_EV_CALL, "IncomingCallX" },
        { "Microsoft.Communication.", NGX_HTTP_RTAGENT_ACS_EV_OTHER,
          "Microsoft.Communication." },
        { "Microsoft.Communication", NGX_HTTP_RTAGENT_ACS_EV_OTHER,
          "Microsoft.Communication" },
        { "microsoft.communication.CallConnected",
          NGX_HTTP_RTAGENT_ACS_EV_OTHER,
          "microsoft.communication.CallConnected" },
        { "Microsoft.EventGrid.SubscriptionDeletedEvent",
          NGX_HTTP_RTAGENT_ACS_EV_OTHER,
          "Microsoft.EventGrid.SubscriptionDeletedEvent" },
        { "x", NGX_HTTP_RTAGENT_ACS_EV_OTHER, "x" }
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(json, sizeof(json), "{\"id\":\"i\",\"type\":\"%s\"}",
                 cases[i].type);
        trace("%s\n", json);

        assert_int_equal(parse(&p, json), 0);
        assert_int_equal(p.evs.events[0].kind, cases[i].kind);
        assert_string_equal(p.evs.events[0].type, cases[i].type);
        assert_string_equal(p.evs.events[0].name, cases[i].name);
        done(&p);
    }
}


static void
test_errors(void **state)
{
    (void) state;

    expect_error("42", "not an object or array");
    expect_error("-1.5e3", "not an object or array");
    expect_error("\"s\"", "not an object or array");
    expect_error("null", "not an object or array");
    expect_error("true", "not an object or array");

    expect_error("[]", "no events");
    expect_error(" [ ] ", "no events");

    expect_error("[1]", "event 0 is not an object");
    expect_error("[null]", "event 0 is not an object");
    expect_error("[[]]", "event 0 is not an object");
    expect_error("[" TEST_CE("a", "T") ",\"x\"]", "event 1 is not an object");
    expect_error("[" TEST_CE("a", "T") "," TEST_CE("b", "T") ",{},3]",
                 "event 2 has no id");

    expect_error("{}", "event 0 has no id");
    expect_error("{\"type\":\"T\"}", "event 0 has no id");
    expect_error("{\"id\":\"\",\"type\":\"T\"}", "event 0 has no id");
    expect_error("{\"id\":5,\"type\":\"T\"}", "event 0 has no id");
    expect_error("{\"id\":null,\"type\":\"T\"}", "event 0 has no id");
    expect_error("{\"Id\":\"a\",\"type\":\"T\"}", "event 0 has no id");
    expect_error("[" TEST_CE("a", "T") ",{\"type\":\"T\"}]",
                 "event 1 has no id");

    expect_error("{\"id\":\"a\"}", "event 0 has no type");
    expect_error("{\"id\":\"a\",\"type\":\"\"}", "event 0 has no type");
    expect_error("{\"id\":\"a\",\"eventType\":\"\"}", "event 0 has no type");
    expect_error("{\"id\":\"a\",\"type\":[\"T\"]}", "event 0 has no type");
    expect_error("[" TEST_EG("a", "T") ",{\"id\":\"b\",\"data\":{}}]",
                 "event 1 has no type");

    expect_error("{\"id\":\"a\",\"type\":\"T\",\"data\":\"x\"}",
                 "event 0 data is not an object");
    expect_error("{\"id\":\"a\",\"type\":\"T\",\"data\":[]}",
                 "event 0 data is not an object");
    expect_error("{\"id\":\"a\",\"type\":\"T\",\"data\":0}",
                 "event 0 data is not an object");
    expect_error("{\"id\":\"a\",\"type\":\"T\",\"data\":false}",
                 "event 0 data is not an object");
    expect_error("[" TEST_CE("a", "T")
                 ",{\"id\":\"b\",\"type\":\"T\",\"data\":1}]",
                 "event 1 data is not an object");

    /* checks happen in order: id, type, data */
    expect_error("{\"data\":1}", "event 0 has no id");
    expect_error("{\"id\":\"a\",\"data\":1}", "event 0 has no type");
}


static void
test_malformed(void **state)
{
    parsed_t  p;

    static const char  *bad[] = {
        "",
        " ",
        "[",
        "{",
        "[{\"id\":\"a\",\"type\":\"T\"}",
        "[{\"id\":\"a\",\"type\":\"T\"},]",
        "{\"id\":\"a\",\"type\":\"T\",}",
        "{\"id\":\"a\" \"type\":\"T\"}",
        "{\"id\":'a',\"type\":\"T\"}",
        "{\"id\":\"a\",\"type\":\"T\"}x",
        "{\"id\":\"a\",\"type\":\"T\"}{}",
        "{\"id\":\"a\",\"type\":\"T\"} []",
        "{\"id\":\"a\\q\",\"type\":\"T\"}",
        "{\"id\":\"a\x01\",\"type\":\"T\"}",
        "{\"id\":\"\xff\",\"type\":\"T\"}",
        "{\"id\":\"\xc3\",\"type\":\"T\"}",
        "{\"id\":\"a\",\"type\":\"T\"\n",
        "{\"id\":\"a\",\"type\":\"T\"]",
        "[1 /* comment */]",
        "[{\"id\":\"a\",\"type\":\"T\"} // c\n]",
        "nul",
        "[01]",
        "\"",
        NULL
    };
    const char  **b;

    (void) state;

    for (b = bad; *b; b++) {
        trace("%s\n", *b);
        expect_malformed(*b, strlen(*b));
    }

    /* yajl's message is kept, its quote of the input is not */
    assert_int_equal(parse(&p, "[{\"id\":\"a\",\"type\":\"T\"},]"), -1);
    assert_string_equal(p.err, "malformed JSON: parse error: "
                               "unallowed token at this point in JSON text");
    done(&p);

    assert_int_equal(parse(&p, "[1 /* x */]"), -1);
    assert_string_equal(p.err, "malformed JSON: comment");
    done(&p);

    /* a NUL would end the copy that yajl parses early */
    expect_malformed("[" TEST_CE("a", "T") "]\0garbage",
                     sizeof("[" TEST_CE("a", "T") "]\0garbage") - 1);
    assert_int_equal(parse_n(&p, "{}\0", 3), -1);
    assert_string_equal(p.err, "malformed JSON: NUL byte");
    done(&p);

    /* a NUL inside a string is refused too; escaped it is fine */
    expect_malformed("{\"id\":\"a\0\",\"type\":\"T\"}", 22);
    assert_int_equal(parse(&p, "{\"id\":\"a\\u0000b\",\"type\":\"T\","
                               "\"x\":\"/*[[\"}"),
                     0);
    assert_string_equal(p.evs.events[0].id, "a");
    done(&p);

    /* NULL body */
    memset(p.err, 'x', sizeof(p.err));
    assert_int_equal(ngx_http_rtagent_acs_events_parse(NULL, 10, &p.evs,
                                                       p.err, sizeof(p.err)),
                     -1);
    assert_memory_equal(p.err, "malformed JSON: ", 16);
    assert_null(p.evs.tree);
}


static void
test_depth(void **state)
{
    char      *json, *q;
    size_t     depth, i;
    parsed_t   p;

    (void) state;

    json = malloc(4096);
    assert_non_null(json);

    /* 64 levels are fine (the event counts), 65 are not */
    for (depth = 62; depth <= 65; depth++) {
        q = json;
        q += sprintf(q, "[{\"id\":\"a\",\"type\":\"T\",\"x\":");

        for (i = 2; i < depth; i++) {
            *q++ = '[';
        }

        for (i = 2; i < depth; i++) {
            *q++ = ']';
        }

        /* brackets in strings are not nesting */
        q += sprintf(q, ",\"s\":\"[[[[{{{{\\\"[[[[\"}]");

        trace("%zu: %.*s\n", depth, (int) (q - json), json);

        if (depth <= 64) {
            assert_int_equal(parse_n(&p, json, (size_t) (q - json)), 0);

        } else {
            assert_int_equal(parse_n(&p, json, (size_t) (q - json)), -1);
            assert_string_equal(p.err, "malformed JSON: nested too deeply");
        }

        done(&p);
    }

    free(json);

    /* a million '[' would overflow the stack in yajl_tree_free() */
    json = malloc(1000000);
    assert_non_null(json);
    memset(json, '[', 1000000);
    assert_int_equal(parse_n(&p, json, 1000000), -1);
    assert_string_equal(p.err, "malformed JSON: nested too deeply");
    done(&p);
    free(json);
}


static void
test_too_many(void **state)
{
    char      *json, *q;
    size_t     n, i, size;
    parsed_t   p;

    static const char  ev[] = "{\"id\":\"i\",\"type\":\"T\"},";

    (void) state;

    size = (NGX_HTTP_RTAGENT_ACS_EVENTS_MAX + 1) * (sizeof(ev) - 1) + 2;
    json = malloc(size);
    assert_non_null(json);

    for (n = NGX_HTTP_RTAGENT_ACS_EVENTS_MAX;
         n <= NGX_HTTP_RTAGENT_ACS_EVENTS_MAX + 1;
         n++)
    {
        q = json;
        *q++ = '[';

        for (i = 0; i < n; i++) {
            memcpy(q, ev, sizeof(ev) - 1);
            q += sizeof(ev) - 1;
        }

        q[-1] = ']';

        if (n == NGX_HTTP_RTAGENT_ACS_EVENTS_MAX) {
            assert_int_equal(parse_n(&p, json, (size_t) (q - json)), 0);
            assert_int_equal(p.evs.nevents, n);
            assert_string_equal(p.evs.events[n - 1].id, "i");

        } else {
            assert_int_equal(parse_n(&p, json, (size_t) (q - json)), -1);
            assert_string_equal(p.err, "too many events");
        }

        done(&p);
    }

    free(json);
}


static void
test_ident(void **state)
{
    char      buf[64], small[8];
    size_t    i;
    parsed_t  p;
    yajl_val  id, list;

    static const struct {
        const char  *raw;
        const char  *phone;
    } expect[] = {
        { "4:+15551234567", "+15551234567" },
        { "8:acs:r_u", NULL },
        { "28:app-1", NULL },
        { "8:orgid:user-1", NULL },
        { "raw-wins", "+1555" },
        { "4:+1999", "+1999" },
        { "8:acs:x", NULL },
        { NULL, NULL },
        { NULL, NULL },
        { "4:+44", "+44" },
        { "4:+44", NULL },
        { NULL, NULL }
    };

    (void) state;

    assert_int_equal(parse(&p,
        "{\"id\":\"e\",\"type\":\"T\",\"data\":{\"ids\":["
        "{\"kind\":\"phoneNumber\",\"phoneNumber\":{\"value\":"
            "\"+15551234567\"}},"
        "{\"communicationUser\":{\"id\":\"8:acs:r_u\"}},"
        "{\"microsoftTeamsApp\":{\"appId\":\"app-1\"}},"
        "{\"microsoftTeamsUser\":{\"userId\":\"user-1\"}},"
        "{\"rawId\":\"raw-wins\",\"phoneNumber\":{\"value\":\"+1555\"}},"
        "{\"kind\":\"phoneNumber\",\"rawId\":\"4:+1999\"},"
        "{\"rawId\":\"\",\"communicationUser\":{\"id\":\"8:acs:x\"}},"
        "{\"rawId\":5,\"communicationUser\":{\"id\":\"\"}},"
        "{},"
        "{\"kind\":\"phoneNumber\",\"rawId\":\"4:+44\"},"
        "{\"kind\":\"communicationUser\",\"rawId\":\"4:+44\"},"
        "\"8:acs:not-an-object\""
        "]}}"),
        0);

    list = ngx_http_rtagent_json_get(p.evs.events[0].data, "ids", NULL);
    assert_true(YAJL_IS_ARRAY(list));
    assert_int_equal(list->u.array.len, sizeof(expect) / sizeof(expect[0]));

    for (i = 0; i < list->u.array.len; i++) {
        trace("ident %zu\n", i);
        id = list->u.array.values[i];

        memset(buf, 'x', sizeof(buf));

        if (expect[i].raw == NULL) {
            assert_null(ngx_http_rtagent_acs_ident_raw(id, buf,
                                                       sizeof(buf)));

        } else {
            assert_string_equal(ngx_http_rtagent_acs_ident_raw(id, buf,
                                                               sizeof(buf)),
                                expect[i].raw);
        }

        if (expect[i].phone) {
            assert_string_equal(ngx_http_rtagent_acs_ident_phone(id),
                                expect[i].phone);

        } else {
            assert_null(ngx_http_rtagent_acs_ident_phone(id));
        }
    }

    /* built ones go into buf and must fit with their NUL */
    id = list->u.array.values[0];
    assert_ptr_equal(ngx_http_rtagent_acs_ident_raw(id, buf, sizeof(buf)),
                     buf);
    assert_ptr_equal(ngx_http_rtagent_acs_ident_raw(id, buf, 15), buf);
    assert_string_equal(buf, "4:+15551234567");
    assert_null(ngx_http_rtagent_acs_ident_raw(id, buf, 14));
    assert_null(ngx_http_rtagent_acs_ident_raw(id, small, sizeof(small)));
    assert_null(ngx_http_rtagent_acs_ident_raw(id, NULL, 0));
    assert_null(ngx_http_rtagent_acs_ident_raw(id, buf, 0));
    assert_null(ngx_http_rtagent_acs_ident_raw(id, buf, 1));
    assert_null(ngx_http_rtagent_acs_ident_raw(id, buf, 2));

    id = list->u.array.values[2];
    assert_ptr_equal(ngx_http_rtagent_acs_ident_raw(id, buf, 9), buf);
    assert_string_equal(buf, "28:app-1");
    assert_null(ngx_http_rtagent_acs_ident_raw(id, small, sizeof(small)));

    id = list->u.array.values[1];
    assert_ptr_equal(ngx_http_rtagent_acs_ident_raw(id, buf, 10), buf);
    assert_null(ngx_http_rtagent_acs_ident_raw(id, buf, 9));

    /* a rawId in the tree needs no buffer */
    id = list->u.array.values[4];
    assert_string_equal(ngx_http_rtagent_acs_ident_raw(id, NULL, 0),
                        "raw-wins");

    assert_null(ngx_http_rtagent_acs_ident_raw(NULL, buf, sizeof(buf)));
    assert_null(ngx_http_rtagent_acs_ident_phone(NULL));

    done(&p);
}


static void
test_json_helpers(void **state)
{
    parsed_t  p;
    yajl_val  data;

    (void) state;

    assert_int_equal(parse(&p, "{\"id\":\"e\",\"type\":\"T\",\"data\":{"
                               "\"a\":{\"b\":{\"c\":\"deep\",\"n\":3}},"
                               "\"dup\":\"first\",\"dup\":\"second\","
                               "\"s\":\"str\",\"arr\":[\"x\"],"
                               "\"esc\":\"q\\\"\\n\\u00e9\"}}"),
                     0);
    data = p.evs.events[0].data;

    assert_string_equal(ngx_http_rtagent_json_str(data, "a", "b", "c",
                                                      NULL),
                        "deep");
    assert_null(ngx_http_rtagent_json_str(data, "a", "b", "n", NULL));
    assert_true(YAJL_IS_INTEGER(ngx_http_rtagent_json_get(data, "a", "b",
                                                              "n", NULL)));
    assert_null(ngx_http_rtagent_json_str(data, "a", "b", NULL));
    assert_true(YAJL_IS_OBJECT(ngx_http_rtagent_json_get(data, "a", "b",
                                                             NULL)));
    assert_null(ngx_http_rtagent_json_get(data, "a", "x", NULL));
    assert_null(ngx_http_rtagent_json_get(data, "a", "b", "c", "d",
                                              NULL));
    assert_null(ngx_http_rtagent_json_get(data, "s", "x", NULL));
    assert_null(ngx_http_rtagent_json_get(data, "arr", "0", NULL));
    assert_string_equal(ngx_http_rtagent_json_str(data, "dup", NULL),
                        "first");
    assert_string_equal(ngx_http_rtagent_json_str(data, "esc", NULL),
                        "q\"\n\xc3\xa9");

    /* no keys: the value itself */
    assert_ptr_equal(ngx_http_rtagent_json_get(data, NULL), data);
    assert_null(ngx_http_rtagent_json_str(data, NULL));
    assert_string_equal(ngx_http_rtagent_json_str(
                            ngx_http_rtagent_json_get(data, "s", NULL),
                            NULL),
                        "str");

    assert_null(ngx_http_rtagent_json_get(NULL, "a", NULL));
    assert_null(ngx_http_rtagent_json_str(NULL, "a", NULL));
    assert_null(ngx_http_rtagent_json_get(NULL, NULL));

    /* the tree root is the event object here */
    assert_string_equal(ngx_http_rtagent_json_str(p.evs.tree, "id",
                                                      NULL),
                        "e");

    done(&p);
}


static void
test_err_buffer(void **state)
{
    char                            err[8];
    const char                     *ok;
    ngx_http_rtagent_acs_events_t   evs;

    (void) state;

    ok = "{\"id\":\"a\",\"type\":\"b\"}";

    memset(err, 'x', sizeof(err));
    assert_int_equal(ngx_http_rtagent_acs_events_parse("[]", 2, &evs, err,
                                                       sizeof(err)),
                     -1);
    assert_string_equal(err, "no even");

    memset(err, 'x', sizeof(err));
    assert_int_equal(ngx_http_rtagent_acs_events_parse("[", 1, &evs, err, 1),
                     -1);
    assert_int_equal(err[0], '\0');
    assert_int_equal(err[1], 'x');

    /* no buffer at all */
    assert_int_equal(ngx_http_rtagent_acs_events_parse("[]", 2, &evs, NULL,
                                                       0),
                     -1);
    assert_int_equal(ngx_http_rtagent_acs_events_parse(ok, strlen(ok), &evs,
                                                       NULL, 0),
                     0);
    ngx_http_rtagent_acs_events_free(&evs);

    /* success clears it */
    memset(err, 'x', sizeof(err));
    assert_int_equal(ngx_http_rtagent_acs_events_parse(ok, strlen(ok), &evs,
                                                       err, sizeof(err)),
                     0);
    assert_string_equal(err, "");

    /* free twice, and free of a failed parse, are harmless */
    ngx_http_rtagent_acs_events_free(&evs);
    assert_null(evs.tree);
    assert_null(evs.events);
    assert_int_equal(evs.nevents, 0);
    ngx_http_rtagent_acs_events_free(&evs);
    ngx_http_rtagent_acs_events_free(NULL);

    assert_int_equal(ngx_http_rtagent_acs_events_parse("[3]", 3, &evs, err,
                                                       sizeof(err)),
                     -1);
    ngx_http_rtagent_acs_events_free(&evs);
}


/* every prefix of every fixture fails cleanly */

static void
test_truncated(void **state)
{
    char         *buf;
    size_t        len, n;
    parsed_t      p;
    const char  **f;

    static const char  *files[] = {
        "eventgrid_IncomingCall.json",
        "eventgrid_SubscriptionValidationEvent.json",
        "callback_ParticipantsUpdated.json",
        NULL
    };

    (void) state;

    for (f = files; *f; f++) {
        buf = read_file(fixtures(), *f, &len);

        while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '
                       || buf[len - 1] == '\r' || buf[len - 1] == '\t'))
        {
            len--;
        }

        assert_int_equal(parse_n(&p, buf, len), 0);
        done(&p);

        for (n = 0; n < len; n++) {
            assert_int_equal(parse_n(&p, buf, n), -1);
            assert_memory_equal(p.err, "malformed JSON: ", 16);
            done(&p);
        }

        free(buf);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_fixture_incoming_call),
        cmocka_unit_test(test_fixture_validation),
        cmocka_unit_test(test_fixture_callbacks),
        cmocka_unit_test(test_fixture_participants),
        cmocka_unit_test(test_fixture_all),
        cmocka_unit_test(test_single_cloudevent),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_type_fields),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_ident),
        cmocka_unit_test(test_json_helpers),
        cmocka_unit_test(test_err_buffer),
        cmocka_unit_test(test_truncated),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
