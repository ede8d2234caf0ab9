
/*
 * Unit tests for the incremental SSE parser (cmocka): the recorded chat
 * streams split at every byte, line endings, comments, multi-line data,
 * event types, [DONE] and the size bounds.
 */


#include <string.h>

#include "test_fixtures.h"

#include "llm/ngx_http_rtagent_sse.h"


/* what the events were, one after the other: "type|data\n" each */

typedef struct {
    char     out[65536];
    size_t   len;
    int      refuse;
} events_t;


static int
on_event(void *data, const char *type, size_t tlen, char *p, size_t len)
{
    events_t  *e = data;

    assert_int_equal(p[len], '\0');
    assert_true(e->len + tlen + len + 2 < sizeof(e->out));

    memcpy(e->out + e->len, type, tlen);
    e->len += tlen;
    e->out[e->len++] = '|';
    memcpy(e->out + e->len, p, len);
    e->len += len;
    e->out[e->len++] = '\n';
    e->out[e->len] = '\0';

    return e->refuse;
}


static void
sse_setup(ngx_http_rtagent_sse_t *s, char *buf, size_t size, events_t *e)
{
    memset(s, 0, sizeof(*s));
    s->buf = buf;
    s->size = size;
    s->data = e;
    s->on_event = on_event;
    ngx_http_rtagent_sse_init(s);
    memset(e, 0, sizeof(*e));
}


/* feeds text in pieces of at most step bytes, the first one cut at split */

static int
feed_split(ngx_http_rtagent_sse_t *s, const char *p, size_t len, size_t split,
    size_t step)
{
    int     rc;
    size_t  n, off;

    rc = 0;

    for (off = 0; off < len; off += n) {
        n = (off == 0 && split) ? split : step;
        n = n < len - off ? n : len - off;

        rc = ngx_http_rtagent_sse_feed(s, p + off, n);
        if (rc != 0) {
            break;
        }
    }

    return rc;
}


static void
fixture_splits(const char *name, size_t want_events)
{
    int                      rc;
    char                    *text, buf[8193];
    size_t                   len, split;
    events_t                 whole, e;
    ngx_http_rtagent_sse_t   s;

    text = read_file(fixtures(), name, &len);

    sse_setup(&s, buf, sizeof(buf) - 1, &whole);
    assert_int_equal(ngx_http_rtagent_sse_feed(&s, text, len), 1);
    assert_int_equal(s.events, want_events);
    assert_true(s.done);

    /* every split into two pieces, and one byte at a time */
    for (split = 1; split <= len; split++) {
        sse_setup(&s, buf, sizeof(buf) - 1, &e);
        rc = feed_split(&s, text, len, split, len);
        assert_int_equal(rc, 1);
        assert_int_equal(e.len, whole.len);
        assert_memory_equal(e.out, whole.out, whole.len);
    }

    sse_setup(&s, buf, sizeof(buf) - 1, &e);
    assert_int_equal(feed_split(&s, text, len, 0, 1), 1);
    assert_string_equal(e.out, whole.out);

    free(text);
}


static void
test_fixtures(void **state)
{
    /* each "data:" chunk but [DONE] */
    fixture_splits("openai_sse_chat_stream_text_content.txt", 33);
    fixture_splits("openai_sse_chat_stream_single_tool_call.txt", 17);
    fixture_splits("openai_sse_chat_stream_parallel_tool_calls.txt", 25);
    fixture_splits("openai_sse_chat_stream_finish_length.txt", 4);
    fixture_splits("chat_sse_azure_filter.txt", 6);
}


static void
parse(const char *in, const char *want, int want_rc)
{
    char                    buf[64];
    size_t                  split, len;
    events_t                e;
    ngx_http_rtagent_sse_t  s;

    len = strlen(in);

    for (split = 0; split <= len; split++) {
        sse_setup(&s, buf, sizeof(buf) - 1, &e);
        assert_int_equal(feed_split(&s, in, len, split, len), want_rc);
        assert_string_equal(e.out, want);
    }
}


static void
test_lines(void **state)
{
    /* CRLF, CR and LF endings; one space after the colon is dropped */
    parse("data: a\r\n\r\ndata:b\r\rdata:  c\n\n", "|a\n|b\n| c\n", 0);

    /* multi-line data, LF-joined */
    parse("data: one\ndata: two\ndata\n\n", "|one\ntwo\n\n", 0);

    /* comments, unknown and ignored fields; no data: no event */
    parse(": ping\nid: 7\nretry: 100\nfoo: x\nverylongfieldname: y\n\n"
          ":\n\ndata: x\n\n", "|x\n", 0);

    /* event types, reset after each event */
    parse("event: error\ndata: {}\n\ndata: z\n\n", "error|{}\n|z\n", 0);
    parse("event: lost\n\ndata: z\n\n", "|z\n", 0);

    /* an empty data line is an event with empty data */
    parse("data:\n\n", "|\n", 0);

    /* no blank line at the end: not dispatched yet */
    parse("data: a", "", 0);

    /* [DONE] ends the stream: the rest is ignored */
    parse("data: a\n\ndata: [DONE]\n\ndata: b\n\n", "|a\n", 1);
    parse("data: [DONE]x\n\n", "", 1);
    parse("data: [DON\n\n", "|[DON\n", 0);
}


static void
test_limits(void **state)
{
    char                    buf[17], big[64];
    events_t                e;
    ngx_http_rtagent_sse_t  s;

    /* 16 bytes of data fit (with no LF after the last line) */
    sse_setup(&s, buf, 16, &e);
    assert_int_equal(ngx_http_rtagent_sse_feed(&s,
                         "data: 0123456789abcdef\n\n", 24), 0);
    assert_string_equal(e.out, "|0123456789abcdef\n");

    /* one more is refused, and so is everything after */
    sse_setup(&s, buf, 16, &e);
    assert_int_equal(ngx_http_rtagent_sse_feed(&s,
                         "data: 0123456789abcdefg\n\n", 25), -1);
    assert_string_equal(s.err, "event over 16 bytes");
    assert_int_equal(ngx_http_rtagent_sse_feed(&s, "\n", 1), -1);

    /* two lines that together pass the bound */
    sse_setup(&s, buf, 16, &e);
    assert_int_equal(ngx_http_rtagent_sse_feed(&s,
                         "data: 01234567\ndata: 89abcdef\n\n", 31), -1);

    /* a comment line is bounded too */
    sse_setup(&s, buf, 16, &e);
    s.max_line = 8;
    assert_int_equal(ngx_http_rtagent_sse_feed(&s, ": 123456\n", 9), 0);
    assert_int_equal(ngx_http_rtagent_sse_feed(&s, ": 1234567\n", 10), -1);
    assert_string_equal(s.err, "line over 8 bytes");

    /* an event type over 31 bytes */
    sse_setup(&s, buf, 16, &e);
    memset(big, 'e', sizeof(big));
    memcpy(big, "event:", 6);
    s.max_line = 64;
    assert_int_equal(ngx_http_rtagent_sse_feed(&s, big, 37), 0);
    assert_int_equal(ngx_http_rtagent_sse_feed(&s, "\ndata: a\n\n", 11), 0);
    assert_string_equal(e.out, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeee|a\n");
    sse_setup(&s, buf, 16, &e);
    s.max_line = 64;
    assert_int_equal(ngx_http_rtagent_sse_feed(&s, big, 38), -1);
    assert_string_equal(s.err, "event type over 31 bytes");

    /* a consumer that refuses an event stops the parse */
    sse_setup(&s, buf, 16, &e);
    e.refuse = 1;
    assert_int_equal(ngx_http_rtagent_sse_feed(&s, "data: a\n\ndata: b\n\n",
                                               18), -1);
    assert_string_equal(e.out, "|a\n");
    assert_string_equal(s.err, "event refused");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
