
/*
 * libFuzzer target for the events endpoint parser and the Call Automation
 * response parsers.
 *
 * The input is copied into a buffer of exactly its length, so ASan
 * catches any read past it.  A parsed delivery is walked: every event
 * must satisfy the header's promises, and the identifier and JSON helpers
 * are run on the members that carry identifiers.  One of the response
 * parsers (by the input's length) gets small buffers that must come back
 * NUL-terminated.  Last, the input up to its first NUL (and 1 KiB) is
 * used as a target and as DTMF tones: whatever the builders accept must
 * be JSON.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "ngx_http_rtagent_acs_event.h"
#include "ngx_http_rtagent_acs_body.h"


#define FUZZ_ERR_SIZE     96
#define FUZZ_BUILDER_MAX  1024


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
check_terminated(const char *buf, size_t size)
{
    if (memchr(buf, '\0', size) == NULL) {
        abort();
    }
}


static void
check_ident(yajl_val ident)
{
    char         buf[256], small[12];
    const char  *raw, *phone;

    raw = ngx_http_rtagent_acs_ident_raw(ident, buf, sizeof(buf));

    if (raw == buf && strlen(buf) >= sizeof(buf)) {
        abort();
    }

    if (raw != NULL && !YAJL_IS_OBJECT(ident)) {
        abort();
    }

    raw = ngx_http_rtagent_acs_ident_raw(ident, small, sizeof(small));

    if (raw == small && strlen(small) >= sizeof(small)) {
        abort();
    }

    (void) ngx_http_rtagent_acs_ident_raw(ident, NULL, 0);

    phone = ngx_http_rtagent_acs_ident_phone(ident);

    if (phone != NULL && (!YAJL_IS_OBJECT(ident) || phone[0] == '\0')) {
        abort();
    }
}


static void
check_event(const ngx_http_rtagent_acs_event_t *ev)
{
    size_t       i;
    yajl_val     list, v;
    const char  *s;

    static const char  *idents[] = {
        "to", "from", "participant", "transferTarget", "transferee",
        "targetParticipant", "answeredBy"
    };

    if (ev->id == NULL || ev->id[0] == '\0'
        || ev->type == NULL || ev->type[0] == '\0'
        || ev->name == NULL || ev->name[0] == '\0')
    {
        abort();
    }

    if (ev->data != NULL && !YAJL_IS_OBJECT(ev->data)) {
        abort();
    }

    switch (ev->kind) {

    case NGX_HTTP_RTAGENT_ACS_EV_CALL:
        if (strncmp(ev->type, "Microsoft.Communication.", 24) != 0
            || ev->name != ev->type + 24)
        {
            abort();
        }

        break;

    case NGX_HTTP_RTAGENT_ACS_EV_OTHER:
    case NGX_HTTP_RTAGENT_ACS_EV_VALIDATION:
    case NGX_HTTP_RTAGENT_ACS_EV_INCOMING_CALL:
        if (ev->name != ev->type) {
            abort();
        }

        break;

    default:
        abort();
    }

    if (ev->data == NULL
        && (ev->call_connection_id || ev->server_call_id
            || ev->correlation_id || ev->operation_context))
    {
        abort();
    }

    for (i = 0; i < sizeof(idents) / sizeof(idents[0]); i++) {
        check_ident(ngx_http_rtagent_json_get(ev->data, idents[i],
                                                  NULL));
    }

    list = ngx_http_rtagent_json_get(ev->data, "participants", NULL);

    if (YAJL_IS_ARRAY(list)) {
        for (i = 0; i < list->u.array.len; i++) {
            v = list->u.array.values[i];
            check_ident(v);
            check_ident(ngx_http_rtagent_json_get(v, "identifier",
                                                      NULL));
        }
    }

    s = ngx_http_rtagent_json_str(ev->data, "resultInformation",
                                      "message", NULL);
    if (s) {
        (void) strlen(s);
    }

    (void) ngx_http_rtagent_json_str(ev->data, "mediaStreamingUpdate",
                                         "mediaStreamingStatus", NULL);
    (void) ngx_http_rtagent_json_str(ev->data, "validationCode", NULL);
    (void) ngx_http_rtagent_json_get(ev->data, NULL);
    check_ident(ev->data);
}


static void
check_body(char *body, size_t len)
{
    yajl_val  tree;

    if (body == NULL) {
        return;
    }

    if (strlen(body) != len) {
        abort();
    }

    tree = yajl_tree_parse(body, NULL, 0);

    if (!YAJL_IS_OBJECT(tree)) {
        abort();
    }

    yajl_tree_free(tree);
    free(body);
}


static void
builders(const char *s)
{
    int                                 valid;
    char                               *body;
    size_t                              len;
    ngx_http_rtagent_acs_media_opts_t   media;

    valid = ngx_http_rtagent_acs_target_valid(s);

    media.transport_url = s;
    media.audio_format = s;
    media.enable_dtmf = 1;

    /* a valid target is ASCII, so nothing else can refuse this one */
    body = ngx_http_rtagent_acs_body_transfer(s, NULL, NULL, &len);

    if ((body != NULL) != (valid != 0)) {
        abort();
    }

    check_body(body, len);

    body = ngx_http_rtagent_acs_body_transfer(s, s, s, &len);
    check_body(body, len);

    body = ngx_http_rtagent_acs_body_create(s, s, s, s, s, &media, &len);
    check_body(body, len);
    body = ngx_http_rtagent_acs_body_create(s, NULL, s, s, s, &media, &len);
    check_body(body, len);
    body = ngx_http_rtagent_acs_body_answer(s, s, s, &media, &len);
    check_body(body, len);
    body = ngx_http_rtagent_acs_body_recording(s, s, &len);
    check_body(body, len);
    body = ngx_http_rtagent_acs_body_send_dtmf(s, "+15551234567", s, &len);
    check_body(body, len);
    body = ngx_http_rtagent_acs_body_dtmf_recognition(s, s, &len);
    check_body(body, len);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                             rc;
    char                           *in, *str;
    char                            err[FUZZ_ERR_SIZE], a[8], b[40];
    size_t                          i, n;
    ngx_http_rtagent_acs_events_t   evs;

    /* a private copy: libFuzzer's buffer may have slack after size */
    in = malloc(size ? size : 1);
    if (in == NULL) {
        abort();
    }

    if (size) {
        memcpy(in, data, size);
    }

    rc = ngx_http_rtagent_acs_events_parse(in, size, &evs, err, sizeof(err));

    check_terminated(err, sizeof(err));

    if ((rc == 0) != (err[0] == '\0') || strchr(err, '\n') != NULL) {
        abort();
    }

    if (rc == 0) {
        if (evs.tree == NULL || evs.events == NULL || evs.nevents == 0
            || evs.nevents > NGX_HTTP_RTAGENT_ACS_EVENTS_MAX
            || (!evs.array && evs.nevents != 1))
        {
            abort();
        }

        for (i = 0; i < evs.nevents; i++) {
            check_event(&evs.events[i]);
        }

    } else if (rc != -1 || evs.tree != NULL || evs.events != NULL
               || evs.nevents != 0)
    {
        abort();
    }

    ngx_http_rtagent_acs_events_free(&evs);

    /* the input must be left as it was */
    if (size && memcmp(in, data, size) != 0) {
        abort();
    }

    /*
     * One response parser per input, by its length: each parses the whole
     * input again, and four tree parses per input made this target too
     * slow for its 1,000,000 runs.  Mutations change the length all the
     * time, so each parser still gets a third of the inputs.
     */
    memset(a, 'x', sizeof(a));
    memset(b, 'x', sizeof(b));

    switch (size % 3) {

    case 0:
        rc = ngx_http_rtagent_acs_parse_error(in, size, a, sizeof(a), b,
                                              sizeof(b));
        check_terminated(a, sizeof(a));
        check_terminated(b, sizeof(b));

        if (rc != 0 && (a[0] || b[0])) {
            abort();
        }

        break;

    case 1:
        rc = ngx_http_rtagent_acs_parse_call(in, size, b, sizeof(b), a,
                                             sizeof(a));
        check_terminated(a, sizeof(a));
        check_terminated(b, sizeof(b));

        if ((rc == 0) != (b[0] != '\0')) {
            abort();
        }

        break;

    default:
        rc = ngx_http_rtagent_acs_parse_recording(in, size, a, sizeof(a), b,
                                                  1);
        check_terminated(a, sizeof(a));

        if ((rc == 0) != (a[0] != '\0') || b[0] != '\0') {
            abort();
        }
    }

    free(in);

    /*
     * The input as a string, up to its first NUL and at most
     * FUZZ_BUILDER_MAX bytes: each builder copies it into several fields
     * and the result is parsed again, which for 8 KiB inputs made this
     * target too slow for its 1,000,000 runs.  1 KiB is still far longer
     * than any identifier, URL or tone string the builders take.
     */
    n = size < FUZZ_BUILDER_MAX ? size : FUZZ_BUILDER_MAX;

    str = malloc(n + 1);
    if (str == NULL) {
        abort();
    }

    if (n) {
        memcpy(str, data, n);
    }

    str[n] = '\0';

    builders(str);

    free(str);

    return 0;
}
