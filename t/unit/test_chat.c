
/*
 * Unit tests for the chat-completions decoder and request body (cmocka):
 * the recorded streams whole and at every split, parallel tool calls by
 * index, Azure's filter chunks, finish reasons, usage, error events, cut
 * streams, bad arguments and the bounds; the request's JSON.
 */


#include <string.h>

#include "test_fixtures.h"

#include <yajl/yajl_gen.h>

#include "json/ngx_http_rtagent_json.h"
#include "llm/ngx_http_rtagent_chat.h"


typedef struct {
    char     text[4096];
    size_t   len;
    size_t   deltas;
} text_t;


static void
on_text(void *data, const char *p, size_t len)
{
    text_t  *t = data;

    assert_true(len > 0);
    assert_true(t->len + len < sizeof(t->text));
    memcpy(t->text + t->len, p, len);
    t->len += len;
    t->text[t->len] = '\0';
    t->deltas++;
}


static void
chat_setup(ngx_http_rtagent_chat_t *c, text_t *t)
{
    memset(c, 0, sizeof(*c));
    memset(t, 0, sizeof(*t));
    c->data = t;
    c->on_text = on_text;
    assert_int_equal(ngx_http_rtagent_chat_init(c), 0);
}


/* the whole stream in pieces: two at split, or n-byte steps (split 0) */

static int
chat_run(ngx_http_rtagent_chat_t *c, const char *p, size_t len, size_t split,
    size_t step)
{
    size_t  n, off;

    for (off = 0; off < len; off += n) {
        n = (off == 0 && split) ? split : step;
        n = n < len - off ? n : len - off;

        if (ngx_http_rtagent_chat_feed(c, p + off, n) != 0) {
            return -1;
        }
    }

    return ngx_http_rtagent_chat_end(c);
}


static int
run_str(ngx_http_rtagent_chat_t *c, const char *s)
{
    return chat_run(c, s, strlen(s), 0, strlen(s));
}


static void
test_text(void **state)
{
    char                     *s;
    size_t                    len, split;
    text_t                    t;
    ngx_http_rtagent_chat_t   c;

    s = read_file(fixtures(), "openai_sse_chat_stream_text_content.txt",
                  &len);

    for (split = 0; split <= len; split++) {
        chat_setup(&c, &t);
        assert_int_equal(chat_run(&c, s, len, split, split ? len : 1), 0);
        assert_string_equal(t.text,
            "I'm unable to provide real-time weather updates. To get the "
            "current weather in San Francisco, I recommend checking a "
            "reliable weather website or a weather app.");
        assert_int_equal(t.deltas, 30);
        assert_int_equal(c.finish, NGX_HTTP_RTAGENT_CHAT_FINISH_STOP);
        assert_int_equal(c.ncalls, 0);
        assert_int_equal(c.prompt_tokens, 14);
        assert_int_equal(c.completion_tokens, 30);
        assert_int_equal(c.empty, 1);
        ngx_http_rtagent_chat_free(&c);
    }

    free(s);
}


static void
test_single_tool(void **state)
{
    char                     *s;
    size_t                    len, split;
    text_t                    t;
    ngx_http_rtagent_chat_t   c;

    s = read_file(fixtures(), "openai_sse_chat_stream_single_tool_call.txt",
                  &len);

    for (split = 0; split <= len; split += 7) {
        chat_setup(&c, &t);
        assert_int_equal(chat_run(&c, s, len, split, split ? len : 1), 0);
        assert_int_equal(t.len, 0);
        assert_int_equal(c.finish, NGX_HTTP_RTAGENT_CHAT_FINISH_TOOL_CALLS);
        assert_int_equal(c.ncalls, 1);
        assert_true(c.calls[0].valid);
        assert_string_equal(c.calls[0].name, "GetWeatherArgs");
        assert_string_equal(c.calls[0].id, "call_c91SqDXlYFuETYv8mUHzz6pp");
        assert_string_equal(c.calls[0].args,
            "{\"city\":\"Edinburgh\",\"country\":\"UK\",\"units\":\"c\"}");
        assert_int_equal(c.completion_tokens, 24);
        ngx_http_rtagent_chat_free(&c);
    }

    free(s);
}


static void
test_parallel_tools(void **state)
{
    char                     *s;
    size_t                    len, split;
    text_t                    t;
    ngx_http_rtagent_chat_t   c;

    s = read_file(fixtures(),
                  "openai_sse_chat_stream_parallel_tool_calls.txt", &len);

    for (split = 0; split <= len; split += 5) {
        chat_setup(&c, &t);
        assert_int_equal(chat_run(&c, s, len, split, split ? len : 1), 0);
        assert_int_equal(c.finish, NGX_HTTP_RTAGENT_CHAT_FINISH_TOOL_CALLS);
        assert_int_equal(c.ncalls, 2);
        assert_true(c.calls[0].valid);
        assert_true(c.calls[1].valid);
        assert_string_equal(c.calls[0].name, "GetWeatherArgs");
        assert_string_equal(c.calls[0].args,
            "{\"city\": \"Edinburgh\", \"country\": \"GB\", \"units\": \"c\"}");
        assert_string_equal(c.calls[1].name, "get_stock_price");
        assert_string_equal(c.calls[1].args,
            "{\"ticker\": \"AAPL\", \"exchange\": \"NASDAQ\"}");
        assert_string_not_equal(c.calls[0].id, c.calls[1].id);
        ngx_http_rtagent_chat_free(&c);
    }

    free(s);
}


static void
test_finishes(void **state)
{
    char                     *s;
    size_t                    len;
    text_t                    t;
    ngx_http_rtagent_chat_t   c;

    s = read_file(fixtures(), "openai_sse_chat_stream_finish_length.txt",
                  &len);
    chat_setup(&c, &t);
    assert_int_equal(chat_run(&c, s, len, 0, 3), 0);
    assert_int_equal(c.finish, NGX_HTTP_RTAGENT_CHAT_FINISH_LENGTH);
    assert_string_equal(ngx_http_rtagent_chat_finish_name(c.finish),
                        "length");
    assert_int_equal(c.completion_tokens, 1);
    ngx_http_rtagent_chat_free(&c);
    free(s);

    /* Azure: the prompt filter chunk first, annotations on each chunk */
    s = read_file(fixtures(), "chat_sse_azure_filter.txt", &len);
    chat_setup(&c, &t);
    assert_int_equal(chat_run(&c, s, len, 0, 11), 0);
    assert_string_equal(t.text, "Hello, how can I help you today?");
    assert_int_equal(c.finish, NGX_HTTP_RTAGENT_CHAT_FINISH_STOP);
    assert_int_equal(c.empty, 2);
    assert_int_equal(c.prompt_tokens, 22);
    ngx_http_rtagent_chat_free(&c);
    free(s);

    s = read_file(fixtures(), "chat_sse_content_filter.txt", &len);
    chat_setup(&c, &t);
    assert_int_equal(chat_run(&c, s, len, 0, len), 0);
    assert_string_equal(t.text, "I see.");
    assert_int_equal(c.finish, NGX_HTTP_RTAGENT_CHAT_FINISH_CONTENT_FILTER);
    ngx_http_rtagent_chat_free(&c);
    free(s);
}


static void
test_errors(void **state)
{
    char                     *s;
    size_t                    len;
    text_t                    t;
    ngx_http_rtagent_chat_t   c;
    char                      err[64];

    /* a mid-stream error event: the text before it came */
    s = read_file(fixtures(), "chat_sse_error.txt", &len);
    chat_setup(&c, &t);
    assert_int_equal(chat_run(&c, s, len, 0, 2), -1);
    assert_string_equal(t.text, "Let me");
    assert_true(c.error_event);
    assert_string_equal(c.err, "error event: The server had an error while "
                        "processing your request. Sorry about that!");
    assert_int_equal(ngx_http_rtagent_chat_feed(&c, "\n", 1), -1);
    assert_int_equal(ngx_http_rtagent_chat_end(&c), -1);
    ngx_http_rtagent_chat_free(&c);
    free(s);

    /* event: error without an error object */
    chat_setup(&c, &t);
    assert_int_equal(run_str(&c, "event: error\ndata: {}\n\n"),
                     -1);
    assert_string_equal(c.err, "error event: (no message)");
    ngx_http_rtagent_chat_free(&c);

    /* cut short: no finish_reason, no [DONE] */
    chat_setup(&c, &t);
    assert_int_equal(run_str(&c,
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"), -1);
    assert_string_equal(c.err,
        "the stream ended after 1 chunks without finish_reason");
    ngx_http_rtagent_chat_free(&c);

    /* a finish_reason without [DONE] is complete */
    chat_setup(&c, &t);
    assert_int_equal(run_str(&c,
        "data: {\"choices\":[{\"index\":0,\"delta\":{},"
        "\"finish_reason\":\"stop\"}]}\n\n"), 0);
    ngx_http_rtagent_chat_free(&c);

    /* not JSON; not an object */
    chat_setup(&c, &t);
    assert_int_equal(run_str(&c, "data: {\"a\n\n"), -1);
    assert_memory_equal(c.err, "chunk 1: malformed JSON: ", 25);
    ngx_http_rtagent_chat_free(&c);

    chat_setup(&c, &t);
    assert_int_equal(run_str(&c, "data: [1]\n\n"), -1);
    assert_string_equal(c.err, "chunk 1: not an object");
    ngx_http_rtagent_chat_free(&c);

    /* an event over the bound */
    chat_setup(&c, &t);
    s = malloc(NGX_HTTP_RTAGENT_CHAT_EVENT_MAX + 10);
    memcpy(s, "data: ", 6);
    memset(s + 6, 'x', NGX_HTTP_RTAGENT_CHAT_EVENT_MAX + 1);
    assert_int_equal(ngx_http_rtagent_chat_feed(&c, s,
                         NGX_HTTP_RTAGENT_CHAT_EVENT_MAX + 7), -1);
    assert_string_equal(c.err, "event over 65536 bytes");
    ngx_http_rtagent_chat_free(&c);
    free(s);

    /* error bodies */
    assert_int_equal(ngx_http_rtagent_json_error_message(
        "{\"error\":{\"code\":\"429\",\"message\":\"Rate\\nlimit\"}}", 48,
        err, sizeof(err)), 0);
    assert_string_equal(err, "Rate?limit");
    assert_int_equal(ngx_http_rtagent_json_error_message("{}", 2, err,
                                                         sizeof(err)), -1);
    assert_int_equal(ngx_http_rtagent_json_error_message("<html>", 6, err,
                                                         sizeof(err)), -1);
    /* refused whole, not cut at the NUL */
    s = "{\"error\":{\"message\":\"a\\u0000b\"}}";
    assert_int_equal(ngx_http_rtagent_json_error_message(s, strlen(s), err,
                                                         sizeof(err)), -1);
}


static const char *
one(ngx_http_rtagent_chat_t *c, text_t *t, const char *chunk)
{
    char    buf[1024];
    size_t  n;

    chat_setup(c, t);
    n = snprintf(buf, sizeof(buf), "data: {\"choices\":[{\"index\":0,"
                 "\"delta\":{\"tool_calls\":[%s]},\"finish_reason\":"
                 "\"tool_calls\"}]}\n\ndata: [DONE]\n\n", chunk);

    return chat_run(c, buf, n, 0, n) == 0 ? "" : c->err;
}


static void
test_tool_calls(void **state)
{
    char                      big[600];
    text_t                    t;
    ngx_http_rtagent_chat_t   c;

    /* arguments that are not JSON, or not an object: not runnable */
    assert_string_equal(one(&c, &t, "{\"index\":0,\"id\":\"c1\",\"function\":"
                            "{\"name\":\"f\",\"arguments\":\"{\\\"a\\\"\"}}"),
                        "");
    assert_false(c.calls[0].valid);
    assert_string_equal(c.calls[0].invalid, "arguments are not valid JSON");
    ngx_http_rtagent_chat_free(&c);

    assert_string_equal(one(&c, &t, "{\"index\":0,\"id\":\"c1\",\"function\":"
                            "{\"name\":\"f\",\"arguments\":\"[1]\"}}"), "");
    assert_string_equal(c.calls[0].invalid,
                        "arguments are not a JSON object");
    ngx_http_rtagent_chat_free(&c);

    /* empty arguments are {} */
    assert_string_equal(one(&c, &t, "{\"index\":0,\"id\":\"c1\",\"function\":"
                            "{\"name\":\"end_call\",\"arguments\":\"\"}}"),
                        "");
    assert_true(c.calls[0].valid);
    ngx_http_rtagent_chat_free(&c);

    /* a hole in the indexes; a bad name; no id */
    assert_string_equal(one(&c, &t, "{\"index\":1,\"id\":\"c1\",\"function\":"
                            "{\"name\":\"f\"}}"), "");
    assert_int_equal(c.ncalls, 2);
    assert_false(c.calls[0].valid);
    assert_string_equal(c.calls[0].invalid, "no id");
    assert_true(c.calls[1].valid);
    ngx_http_rtagent_chat_free(&c);

    assert_string_equal(one(&c, &t, "{\"index\":0,\"id\":\"c1\",\"function\":"
                            "{\"name\":\"a b\"}}"), "");
    assert_string_equal(c.calls[0].invalid, "no valid function name");
    ngx_http_rtagent_chat_free(&c);

    /* without index: an id starts the next call */
    assert_string_equal(one(&c, &t,
        "{\"id\":\"c1\",\"function\":{\"name\":\"f\",\"arguments\":\"{\"}},"
        "{\"function\":{\"arguments\":\"}\"}},"
        "{\"id\":\"c2\",\"function\":{\"name\":\"g\"}}"), "");
    assert_int_equal(c.ncalls, 2);
    assert_string_equal(c.calls[0].args, "{}");
    assert_string_equal(c.calls[1].name, "g");
    ngx_http_rtagent_chat_free(&c);

    /* bounds */
    assert_string_equal(one(&c, &t, "{\"index\":16,\"id\":\"c\"}"),
                        "tool call index 16 over the limit of 16");
    ngx_http_rtagent_chat_free(&c);
    assert_string_equal(one(&c, &t, "{\"index\":-1}"),
                        "chunk 1: a bad tool call index");
    ngx_http_rtagent_chat_free(&c);

    memset(big, 'n', sizeof(big));
    memcpy(big, "{\"index\":0,\"function\":{\"name\":\"", 31);
    memcpy(big + 31 + 65, "\"}}", 4);
    assert_string_equal(one(&c, &t, big), "tool call 0: name over 64 bytes");
    ngx_http_rtagent_chat_free(&c);

    memset(&c, 0, sizeof(c));
    c.max_args = 4;
    assert_int_equal(ngx_http_rtagent_chat_init(&c), 0);
    snprintf(big, sizeof(big), "%s",
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
        "\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":"
        "\"{\\\"a\\\":1}\"}}]}}]}\n\n");
    assert_int_equal(ngx_http_rtagent_chat_feed(&c, big, strlen(big)), -1);
    assert_string_equal(c.err,
                        "tool call \"f\": arguments over 4 bytes");
    ngx_http_rtagent_chat_free(&c);
}


static void
test_request(void **state)
{
    size_t                             len;
    yajl_gen                           g;
    const unsigned char               *buf;
    ngx_http_rtagent_chat_tool_t       tools[2];
    ngx_http_rtagent_chat_msg_t        msgs[4];
    ngx_http_rtagent_chat_msg_call_t   call;
    ngx_http_rtagent_chat_request_t    req;
    static const ngx_http_rtagent_chat_str_t  summary[] = { { 7, "summary" } };

    assert_int_equal(ngx_http_rtagent_chat_builtin("verify_identity", 15,
                                                   &tools[0]), 0);
    assert_int_equal(ngx_http_rtagent_chat_builtin("nope", 4, &tools[1]), -1);
    tools[1].name.data = "handoff_to_fnol";
    tools[1].name.len = 15;
    tools[1].description.data = "Hand off.";
    tools[1].description.len = 9;
    tools[1].args = summary;
    tools[1].nargs = 1;

    memset(msgs, 0, sizeof(msgs));
    msgs[0].role = NGX_HTTP_RTAGENT_CHAT_SYSTEM;
    msgs[0].content.data = "Be kind.";
    msgs[0].content.len = 8;
    msgs[1].role = NGX_HTTP_RTAGENT_CHAT_USER;
    msgs[1].content.data = "Hi \"there\"";
    msgs[1].content.len = 10;
    call.id.data = "call_1";
    call.id.len = 6;
    call.name.data = "verify_identity";
    call.name.len = 15;
    call.args.data = "{\"policy\":\"1\"}";
    call.args.len = 14;
    msgs[2].role = NGX_HTTP_RTAGENT_CHAT_ASSISTANT;
    msgs[2].calls = &call;
    msgs[2].ncalls = 1;
    msgs[3].role = NGX_HTTP_RTAGENT_CHAT_TOOL;
    msgs[3].tool_call_id = call.id;
    msgs[3].content.data = "{\"ok\":true}";
    msgs[3].content.len = 11;

    memset(&req, 0, sizeof(req));
    req.model.data = "gpt-4o";
    req.model.len = 6;
    req.msgs = msgs;
    req.nmsgs = 4;
    req.tools = tools;
    req.ntools = 2;

    g = yajl_gen_alloc(NULL);
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    assert_int_equal(yajl_gen_map_open(g), yajl_gen_status_ok);
    assert_int_equal(ngx_http_rtagent_chat_request(g, &req), 0);
    assert_int_equal(yajl_gen_map_close(g), yajl_gen_status_ok);
    yajl_gen_get_buf(g, &buf, &len);

    assert_string_equal((const char *) buf,
        "{\"model\":\"gpt-4o\",\"messages\":["
        "{\"role\":\"system\",\"content\":\"Be kind.\"},"
        "{\"role\":\"user\",\"content\":\"Hi \\\"there\\\"\"},"
        "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":"
        "\"call_1\",\"type\":\"function\",\"function\":{\"name\":"
        "\"verify_identity\",\"arguments\":\"{\\\"policy\\\":\\\"1\\\"}\"}}]},"
        "{\"role\":\"tool\",\"content\":\"{\\\"ok\\\":true}\","
        "\"tool_call_id\":\"call_1\"}],"
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
        "\"verify_identity\",\"description\":\"Check the caller's 8-digit "
        "policy number and the 5-digit ZIP code on the policy against the "
        "records.\",\"parameters\":{\"type\":\"object\",\"properties\":{"
        "\"policy\":{\"type\":\"string\"},\"zip\":{\"type\":\"string\"}},"
        "\"required\":[\"policy\",\"zip\"]}}},"
        "{\"type\":\"function\",\"function\":{\"name\":\"handoff_to_fnol\","
        "\"description\":\"Hand off.\",\"parameters\":{\"type\":\"object\","
        "\"properties\":{\"summary\":{\"type\":\"string\"}},\"required\":"
        "[\"summary\"]}}}],\"tool_choice\":\"auto\","
        "\"parallel_tool_calls\":true,"
        "\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
    yajl_gen_free(g);

    /* no model (Azure: the deployment), no tools; bad UTF-8 refused */
    req.model.len = 0;
    req.ntools = 0;
    req.nmsgs = 1;
    req.max_tokens = 200;
    g = yajl_gen_alloc(NULL);
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    yajl_gen_map_open(g);
    assert_int_equal(ngx_http_rtagent_chat_request(g, &req), 0);
    yajl_gen_map_close(g);
    yajl_gen_get_buf(g, &buf, &len);
    assert_string_equal((const char *) buf,
        "{\"messages\":[{\"role\":\"system\",\"content\":\"Be kind.\"}],"
        "\"max_tokens\":200,\"stream\":true,\"stream_options\":"
        "{\"include_usage\":true}}");
    yajl_gen_free(g);

    msgs[0].content.data = "\xff";
    msgs[0].content.len = 1;
    g = yajl_gen_alloc(NULL);
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    yajl_gen_map_open(g);
    assert_int_equal(ngx_http_rtagent_chat_request(g, &req), -1);
    yajl_gen_free(g);
}


/* the request's length with req's tools, or 0 if refused */
static size_t
request_len(const ngx_http_rtagent_chat_request_t *req)
{
    size_t                len;
    yajl_gen              g;
    const unsigned char  *buf;

    len = 0;
    g = yajl_gen_alloc(NULL);
    yajl_gen_map_open(g);

    if (ngx_http_rtagent_chat_request(g, req) == 0) {
        yajl_gen_map_close(g);
        yajl_gen_get_buf(g, &buf, &len);
    }

    yajl_gen_free(g);

    return len;
}


/* the tools' bytes in a body: exactly what they add to the request */
static void
test_tools_size(void **state)
{
    size_t                             with, without;
    ngx_http_rtagent_chat_tool_t       tools[2];
    ngx_http_rtagent_chat_msg_t        msg;
    ngx_http_rtagent_chat_request_t    req;
    static const ngx_http_rtagent_chat_str_t  args[] = { { 4, "what" },
                                                         { 2, "\"/" } };

    assert_int_equal(ngx_http_rtagent_chat_builtin("end_call", 8, &tools[0]),
                     0);
    tools[1].name.data = "look_up";
    tools[1].name.len = 7;
    tools[1].description.data = "Looks \"it\" up.";
    tools[1].description.len = 15;
    tools[1].args = args;
    tools[1].nargs = 2;

    memset(&msg, 0, sizeof(msg));
    msg.role = NGX_HTTP_RTAGENT_CHAT_USER;
    msg.content.data = "Hi";
    msg.content.len = 2;

    memset(&req, 0, sizeof(req));
    req.msgs = &msg;
    req.nmsgs = 1;
    req.tools = tools;
    req.ntools = 2;

    with = request_len(&req);
    req.ntools = 0;
    without = request_len(&req);

    assert_true(with > without + 200);
    assert_int_equal(ngx_http_rtagent_chat_tools_size(tools, 2),
                     with - without);
    assert_int_equal(ngx_http_rtagent_chat_tools_size(tools, 0), 0);

    /* refused (bad UTF-8): nothing counted */
    tools[1].description.data = "\xff";
    tools[1].description.len = 1;
    assert_int_equal(ngx_http_rtagent_chat_tools_size(tools, 2), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_single_tool),
        cmocka_unit_test(test_parallel_tools),
        cmocka_unit_test(test_finishes),
        cmocka_unit_test(test_tools_size),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_tool_calls),
        cmocka_unit_test(test_request),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
