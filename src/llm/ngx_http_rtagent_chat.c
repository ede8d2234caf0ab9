
/*
 * Chat Completions: the streamed response's decoder and the request body
 * (see ngx_http_rtagent_chat.h).
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json/ngx_http_rtagent_json.h>

#include "ngx_http_rtagent_chat.h"


#define JSON_DEPTH     32


static int ngx_http_rtagent_chat_fail(ngx_http_rtagent_chat_t *c,
    const char *fmt, ...);
static int ngx_http_rtagent_chat_event(void *data, const char *type,
    size_t tlen, char *p, size_t len);
static int ngx_http_rtagent_chat_choice(ngx_http_rtagent_chat_t *c,
    yajl_val choice);
static int ngx_http_rtagent_chat_fragment(ngx_http_rtagent_chat_t *c,
    yajl_val tc);
static int ngx_http_rtagent_chat_append(ngx_http_rtagent_chat_t *c,
    ngx_http_rtagent_chat_call_t *call, const char *p, size_t len);
static void ngx_http_rtagent_chat_usage(ngx_http_rtagent_chat_t *c,
    yajl_val usage);
static void ngx_http_rtagent_chat_validate(ngx_http_rtagent_chat_call_t *call);
static int ngx_http_rtagent_chat_tools(yajl_gen g,
    const ngx_http_rtagent_chat_tool_t *tools, size_t ntools);


static const char *const  ngx_http_rtagent_chat_finishes[] = {
    "", "stop", "length", "tool_calls", "content_filter", "other"
};


int
ngx_http_rtagent_chat_init(ngx_http_rtagent_chat_t *c)
{
    size_t  i;

    c->sse.buf = malloc(NGX_HTTP_RTAGENT_CHAT_EVENT_MAX + 1);
    if (c->sse.buf == NULL) {
        return -1;
    }

    c->sse.size = NGX_HTTP_RTAGENT_CHAT_EVENT_MAX;
    c->sse.max_line = 0;
    c->sse.data = c;
    c->sse.on_event = ngx_http_rtagent_chat_event;
    ngx_http_rtagent_sse_init(&c->sse);

    for (i = 0; i < NGX_HTTP_RTAGENT_CHAT_CALLS_MAX; i++) {
        memset(&c->calls[i], 0, sizeof(ngx_http_rtagent_chat_call_t));
    }

    if (c->max_args == 0) {
        c->max_args = NGX_HTTP_RTAGENT_CHAT_ARGS_MAX;
    }

    c->ncalls = 0;
    c->chunks = 0;
    c->empty = 0;
    c->text_len = 0;
    c->prompt_tokens = -1;
    c->completion_tokens = -1;
    c->finish = NGX_HTTP_RTAGENT_CHAT_FINISH_NONE;
    c->error_event = 0;
    c->failed = 0;
    c->ended = 0;
    c->err[0] = '\0';

    return 0;
}


void
ngx_http_rtagent_chat_free(ngx_http_rtagent_chat_t *c)
{
    size_t  i;

    for (i = 0; i < NGX_HTTP_RTAGENT_CHAT_CALLS_MAX; i++) {
        free(c->calls[i].args);
        c->calls[i].args = NULL;
    }

    free(c->sse.buf);
    c->sse.buf = NULL;
}


static int
ngx_http_rtagent_chat_fail(ngx_http_rtagent_chat_t *c, const char *fmt, ...)
{
    va_list  args;

    if (!c->failed) {
        c->failed = 1;
        va_start(args, fmt);
        vsnprintf(c->err, sizeof(c->err), fmt, args);
        va_end(args);
    }

    return -1;
}


const char *
ngx_http_rtagent_chat_finish_name(ngx_http_rtagent_chat_finish_e finish)
{
    if ((size_t) finish >= sizeof(ngx_http_rtagent_chat_finishes)
                           / sizeof(ngx_http_rtagent_chat_finishes[0]))
    {
        return "";
    }

    return ngx_http_rtagent_chat_finishes[finish];
}


int
ngx_http_rtagent_chat_name_valid(const char *name, size_t len)
{
    size_t  i;
    char    ch;

    if (len == 0 || len > NGX_HTTP_RTAGENT_CHAT_NAME_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        ch = name[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
              || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
        {
            return 0;
        }
    }

    return 1;
}


int
ngx_http_rtagent_chat_feed(ngx_http_rtagent_chat_t *c, const char *p,
    size_t len)
{
    if (c->failed) {
        return -1;
    }

    if (ngx_http_rtagent_sse_feed(&c->sse, p, len) < 0) {
        if (!c->failed) {
            /* the parser's own reason, not a refused event's */
            ngx_http_rtagent_chat_fail(c, "%s", c->sse.err);
        }

        return -1;
    }

    return 0;
}


int
ngx_http_rtagent_chat_end(ngx_http_rtagent_chat_t *c)
{
    size_t  i;

    if (c->failed) {
        return -1;
    }

    if (!c->sse.done && c->finish == NGX_HTTP_RTAGENT_CHAT_FINISH_NONE) {
        return ngx_http_rtagent_chat_fail(c, "the stream ended after %zu "
                                          "chunks without finish_reason",
                                          c->chunks);
    }

    c->ended = 1;

    for (i = 0; i < c->ncalls; i++) {
        ngx_http_rtagent_chat_validate(&c->calls[i]);
    }

    return 0;
}


static void
ngx_http_rtagent_chat_validate(ngx_http_rtagent_chat_call_t *call)
{
    yajl_val  v;

    call->valid = 0;

    if (!call->seen || call->id_len == 0) {
        call->invalid = "no id";
        return;
    }

    if (!ngx_http_rtagent_chat_name_valid(call->name, call->name_len)) {
        call->invalid = "no valid function name";
        return;
    }

    if (call->args_len == 0) {
        call->valid = 1;
        return;
    }

    v = ngx_http_rtagent_json_parse(call->args, call->args_len, JSON_DEPTH,
                                    NGX_HTTP_RTAGENT_JSON_NO_U0000
                                    |NGX_HTTP_RTAGENT_JSON_TERSE, NULL, 0);
    if (v == NULL) {
        call->invalid = "arguments are not valid JSON";
        return;
    }

    if (!YAJL_IS_OBJECT(v)) {
        call->invalid = "arguments are not a JSON object";

    } else {
        call->valid = 1;
    }

    yajl_tree_free(v);
}


static int
ngx_http_rtagent_chat_event(void *data, const char *type, size_t tlen,
    char *p, size_t len)
{
    ngx_http_rtagent_chat_t *c = data;

    int          rc;
    char         err[NGX_HTTP_RTAGENT_CHAT_ERR];
    size_t       i;
    yajl_val     root, choices, v;
    const char  *msg;

    if (tlen && !(tlen == 5 && memcmp(type, "error", 5) == 0)) {
        /* chat completions name no events; others are not ours */
        return 0;
    }

    root = ngx_http_rtagent_json_parse(p, len, JSON_DEPTH,
                                       NGX_HTTP_RTAGENT_JSON_NO_U0000,
                                       err, sizeof(err));
    if (root == NULL) {
        return ngx_http_rtagent_chat_fail(c, "chunk %zu: %s", c->chunks + 1,
                                          err);
    }

    c->chunks++;

    if (!YAJL_IS_OBJECT(root)) {
        yajl_tree_free(root);
        return ngx_http_rtagent_chat_fail(c, "chunk %zu: not an object",
                                          c->chunks);
    }

    v = ngx_http_rtagent_json_get(root, "error", NULL);

    if (v != NULL || tlen) {
        c->error_event = 1;
        msg = ngx_http_rtagent_json_str(root, "error", "message", NULL);
        ngx_http_rtagent_json_printable(err, sizeof(err) - 16,
                                        msg ? msg : "(no message)");
        yajl_tree_free(root);
        return ngx_http_rtagent_chat_fail(c, "error event: %s", err);
    }

    v = ngx_http_rtagent_json_get(root, "usage", NULL);

    if (v != NULL && YAJL_IS_OBJECT(v)) {
        ngx_http_rtagent_chat_usage(c, v);
    }

    choices = ngx_http_rtagent_json_get(root, "choices", NULL);

    if (choices == NULL || !YAJL_IS_ARRAY(choices)
        || choices->u.array.len == 0)
    {
        /* Azure's prompt filter results, the usage chunk */
        c->empty++;
        yajl_tree_free(root);
        return 0;
    }

    rc = 0;

    for (i = 0; i < choices->u.array.len; i++) {
        v = ngx_http_rtagent_json_get(choices->u.array.values[i], "index",
                                      NULL);

        if (v != NULL && YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) != 0) {
            /* we ask for one choice (n = 1): others are not ours */
            continue;
        }

        rc = ngx_http_rtagent_chat_choice(c, choices->u.array.values[i]);

        if (rc != 0) {
            break;
        }
    }

    yajl_tree_free(root);

    return rc;
}


static int
ngx_http_rtagent_chat_choice(ngx_http_rtagent_chat_t *c, yajl_val choice)
{
    size_t       i;
    yajl_val     delta, v;
    const char  *s;

    if (!YAJL_IS_OBJECT(choice)) {
        return ngx_http_rtagent_chat_fail(c, "chunk %zu: a choice is not "
                                          "an object", c->chunks);
    }

    delta = ngx_http_rtagent_json_get(choice, "delta", NULL);

    if (delta != NULL && YAJL_IS_OBJECT(delta)) {

        /* a refusal is said like any text */
        s = ngx_http_rtagent_json_str(delta, "content", NULL);

        if (s == NULL) {
            s = ngx_http_rtagent_json_str(delta, "refusal", NULL);
        }

        if (s != NULL && s[0] != '\0') {
            c->text_len += strlen(s);

            if (c->on_text) {
                c->on_text(c->data, s, strlen(s));
            }
        }

        v = ngx_http_rtagent_json_get(delta, "tool_calls", NULL);

        if (v != NULL && YAJL_IS_ARRAY(v)) {
            for (i = 0; i < v->u.array.len; i++) {
                if (ngx_http_rtagent_chat_fragment(c, v->u.array.values[i])
                    != 0)
                {
                    return -1;
                }
            }
        }
    }

    s = ngx_http_rtagent_json_str(choice, "finish_reason", NULL);

    if (s != NULL) {
        if (strcmp(s, "stop") == 0) {
            c->finish = NGX_HTTP_RTAGENT_CHAT_FINISH_STOP;

        } else if (strcmp(s, "length") == 0) {
            c->finish = NGX_HTTP_RTAGENT_CHAT_FINISH_LENGTH;

        } else if (strcmp(s, "tool_calls") == 0) {
            c->finish = NGX_HTTP_RTAGENT_CHAT_FINISH_TOOL_CALLS;

        } else if (strcmp(s, "content_filter") == 0) {
            c->finish = NGX_HTTP_RTAGENT_CHAT_FINISH_CONTENT_FILTER;

        } else {
            c->finish = NGX_HTTP_RTAGENT_CHAT_FINISH_OTHER;
        }
    }

    return 0;
}


/*
 * {"index":0,"id":"call_..","type":"function","function":{"name":..,
 * "arguments":".."}}: a new call (id, name) or a piece of its arguments.
 * Some OpenAI-compatible servers leave out index: a fragment with an id
 * then starts the next call, one without continues the last.
 */

static int
ngx_http_rtagent_chat_fragment(ngx_http_rtagent_chat_t *c, yajl_val tc)
{
    size_t                         n, len;
    yajl_val                       v;
    const char                    *id, *name, *args;
    ngx_http_rtagent_chat_call_t  *call;

    if (!YAJL_IS_OBJECT(tc)) {
        return ngx_http_rtagent_chat_fail(c, "chunk %zu: a tool call is "
                                          "not an object", c->chunks);
    }

    id = ngx_http_rtagent_json_str(tc, "id", NULL);
    v = ngx_http_rtagent_json_get(tc, "index", NULL);

    if (v != NULL) {
        if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0) {
            return ngx_http_rtagent_chat_fail(c, "chunk %zu: a bad tool "
                                              "call index", c->chunks);
        }

        if (YAJL_GET_INTEGER(v) >= NGX_HTTP_RTAGENT_CHAT_CALLS_MAX) {
            return ngx_http_rtagent_chat_fail(c, "tool call index %lld over "
                                              "the limit of %d",
                                              YAJL_GET_INTEGER(v),
                                              NGX_HTTP_RTAGENT_CHAT_CALLS_MAX);
        }

        n = (size_t) YAJL_GET_INTEGER(v);

    } else if (id != NULL || c->ncalls == 0) {
        n = c->ncalls;

        if (n >= NGX_HTTP_RTAGENT_CHAT_CALLS_MAX) {
            return ngx_http_rtagent_chat_fail(c, "more than %d tool calls",
                                              NGX_HTTP_RTAGENT_CHAT_CALLS_MAX);
        }

    } else {
        n = c->ncalls - 1;
    }

    call = &c->calls[n];
    call->seen = 1;

    if (n + 1 > c->ncalls) {
        c->ncalls = n + 1;
    }

    if (id != NULL && id[0] != '\0') {
        len = strlen(id);

        if (len >= NGX_HTTP_RTAGENT_CHAT_ID_MAX) {
            return ngx_http_rtagent_chat_fail(c, "tool call %zu: id over "
                                              "%d bytes", n,
                                              NGX_HTTP_RTAGENT_CHAT_ID_MAX
                                              - 1);
        }

        memcpy(call->id, id, len + 1);
        call->id_len = len;
    }

    name = ngx_http_rtagent_json_str(tc, "function", "name", NULL);

    if (name != NULL && name[0] != '\0') {
        len = strlen(name);

        if (len > NGX_HTTP_RTAGENT_CHAT_NAME_MAX) {
            return ngx_http_rtagent_chat_fail(c, "tool call %zu: name over "
                                              "%d bytes", n,
                                              NGX_HTTP_RTAGENT_CHAT_NAME_MAX);
        }

        memcpy(call->name, name, len + 1);
        call->name_len = len;
    }

    args = ngx_http_rtagent_json_str(tc, "function", "arguments", NULL);

    if (args != NULL && args[0] != '\0') {
        return ngx_http_rtagent_chat_append(c, call, args, strlen(args));
    }

    return 0;
}


static int
ngx_http_rtagent_chat_append(ngx_http_rtagent_chat_t *c,
    ngx_http_rtagent_chat_call_t *call, const char *p, size_t len)
{
    char    *a;
    size_t   size;

    if (len > c->max_args - call->args_len) {
        return ngx_http_rtagent_chat_fail(c, "tool call \"%s\": arguments "
                                          "over %zu bytes", call->name,
                                          c->max_args);
    }

    if (call->args_len + len + 1 > call->args_size) {
        size = call->args_size ? call->args_size : 256;

        while (size < call->args_len + len + 1) {
            size *= 2;
        }

        a = realloc(call->args, size);
        if (a == NULL) {
            return ngx_http_rtagent_chat_fail(c, "out of memory");
        }

        call->args = a;
        call->args_size = size;
    }

    memcpy(call->args + call->args_len, p, len);
    call->args_len += len;
    call->args[call->args_len] = '\0';

    return 0;
}


static void
ngx_http_rtagent_chat_usage(ngx_http_rtagent_chat_t *c, yajl_val usage)
{
    yajl_val  v;

    v = ngx_http_rtagent_json_get(usage, "prompt_tokens", NULL);

    if (v != NULL && YAJL_IS_INTEGER(v)) {
        c->prompt_tokens = (long) YAJL_GET_INTEGER(v);
    }

    v = ngx_http_rtagent_json_get(usage, "completion_tokens", NULL);

    if (v != NULL && YAJL_IS_INTEGER(v)) {
        c->completion_tokens = (long) YAJL_GET_INTEGER(v);
    }
}


/* ---- the request -------------------------------------------------- */


#define gen_key(g, s)                                                        \
    yajl_gen_string(g, (const unsigned char *) (s), sizeof(s) - 1)

#define gen_str(g, str)                                                      \
    yajl_gen_string(g, (const unsigned char *) (str).data, (str).len)


static const char *const  ngx_http_rtagent_chat_roles[] = {
    "system", "user", "assistant", "tool"
};


/* "tools" (function tools), "tool_choice" auto, parallel calls */

static int
ngx_http_rtagent_chat_tools(yajl_gen g,
    const ngx_http_rtagent_chat_tool_t *tools, size_t ntools)
{
    int                                  rc;
    size_t                               i, k;
    const ngx_http_rtagent_chat_tool_t  *t;

    rc = gen_key(g, "tools");
    rc |= yajl_gen_array_open(g);

    for (i = 0; i < ntools; i++) {
        t = &tools[i];

        rc |= yajl_gen_map_open(g);
        rc |= gen_key(g, "type");
        rc |= gen_key(g, "function");
        rc |= gen_key(g, "function");
        rc |= yajl_gen_map_open(g);
        rc |= gen_key(g, "name");
        rc |= gen_str(g, t->name);
        rc |= gen_key(g, "description");
        rc |= gen_str(g, t->description);

        /* JSON Schema: an object of string properties, all required */
        rc |= gen_key(g, "parameters");
        rc |= yajl_gen_map_open(g);
        rc |= gen_key(g, "type");
        rc |= gen_key(g, "object");
        rc |= gen_key(g, "properties");
        rc |= yajl_gen_map_open(g);

        for (k = 0; k < t->nargs; k++) {
            rc |= gen_str(g, t->args[k]);
            rc |= yajl_gen_map_open(g);
            rc |= gen_key(g, "type");
            rc |= gen_key(g, "string");
            rc |= yajl_gen_map_close(g);
        }

        rc |= yajl_gen_map_close(g);
        rc |= gen_key(g, "required");
        rc |= yajl_gen_array_open(g);

        for (k = 0; k < t->nargs; k++) {
            rc |= gen_str(g, t->args[k]);
        }

        rc |= yajl_gen_array_close(g);
        rc |= yajl_gen_map_close(g);
        rc |= yajl_gen_map_close(g);
        rc |= yajl_gen_map_close(g);
    }

    rc |= yajl_gen_array_close(g);
    rc |= gen_key(g, "tool_choice");
    rc |= gen_key(g, "auto");
    rc |= gen_key(g, "parallel_tool_calls");
    rc |= yajl_gen_bool(g, 1);

    return rc;
}


size_t
ngx_http_rtagent_chat_tools_size(const ngx_http_rtagent_chat_tool_t *tools,
    size_t ntools)
{
    size_t                len;
    yajl_gen              g;
    const unsigned char  *buf;

    if (ntools == 0) {
        return 0;
    }

    g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        return 0;
    }

    len = 0;
    (void) yajl_gen_config(g, yajl_gen_validate_utf8, 1);

    if (yajl_gen_map_open(g) == yajl_gen_status_ok
        && ngx_http_rtagent_chat_tools(g, tools, ntools)
           == yajl_gen_status_ok
        && yajl_gen_map_close(g) == yajl_gen_status_ok
        && yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
    {
        /* the members alone, as a request has them: no braces, a comma */
        len -= 1;

    } else {
        len = 0;
    }

    yajl_gen_free(g);

    return len;
}


int
ngx_http_rtagent_chat_request(yajl_gen g,
    const ngx_http_rtagent_chat_request_t *req)
{
    int                                      rc;
    size_t                                   i, k;
    const ngx_http_rtagent_chat_msg_t       *m;
    const ngx_http_rtagent_chat_msg_call_t  *mc;

    rc = 0;

    if (req->model.len) {
        rc |= gen_key(g, "model");
        rc |= gen_str(g, req->model);
    }

    rc |= gen_key(g, "messages");
    rc |= yajl_gen_array_open(g);

    for (i = 0; i < req->nmsgs; i++) {
        m = &req->msgs[i];

        rc |= yajl_gen_map_open(g);
        rc |= gen_key(g, "role");
        rc |= yajl_gen_string(g, (const unsigned char *)
                              ngx_http_rtagent_chat_roles[m->role],
                              strlen(ngx_http_rtagent_chat_roles[m->role]));
        rc |= gen_key(g, "content");

        if (m->content.data) {
            rc |= gen_str(g, m->content);

        } else {
            rc |= yajl_gen_null(g);
        }

        if (m->role == NGX_HTTP_RTAGENT_CHAT_TOOL) {
            rc |= gen_key(g, "tool_call_id");
            rc |= gen_str(g, m->tool_call_id);
        }

        if (m->ncalls) {
            rc |= gen_key(g, "tool_calls");
            rc |= yajl_gen_array_open(g);

            for (k = 0; k < m->ncalls; k++) {
                mc = &m->calls[k];

                rc |= yajl_gen_map_open(g);
                rc |= gen_key(g, "id");
                rc |= gen_str(g, mc->id);
                rc |= gen_key(g, "type");
                rc |= gen_key(g, "function");
                rc |= gen_key(g, "function");
                rc |= yajl_gen_map_open(g);
                rc |= gen_key(g, "name");
                rc |= gen_str(g, mc->name);
                rc |= gen_key(g, "arguments");

                if (mc->args.len) {
                    rc |= gen_str(g, mc->args);

                } else {
                    rc |= gen_key(g, "{}");
                }

                rc |= yajl_gen_map_close(g);
                rc |= yajl_gen_map_close(g);
            }

            rc |= yajl_gen_array_close(g);
        }

        rc |= yajl_gen_map_close(g);
    }

    rc |= yajl_gen_array_close(g);

    if (req->ntools) {
        rc |= ngx_http_rtagent_chat_tools(g, req->tools, req->ntools);
    }

    if (req->max_tokens > 0) {
        rc |= gen_key(g, "max_tokens");
        rc |= yajl_gen_integer(g, req->max_tokens);
    }

    rc |= gen_key(g, "stream");
    rc |= yajl_gen_bool(g, 1);
    rc |= gen_key(g, "stream_options");
    rc |= yajl_gen_map_open(g);
    rc |= gen_key(g, "include_usage");
    rc |= yajl_gen_bool(g, 1);
    rc |= yajl_gen_map_close(g);

    return rc == yajl_gen_status_ok ? 0 : -1;
}


/* the built-in tools as the model sees them */

#define S(s)  { sizeof(s) - 1, s }

static const ngx_http_rtagent_chat_str_t  ngx_http_rtagent_chat_a_verify[] = {
    S("policy"), S("zip")
};
static const ngx_http_rtagent_chat_str_t  ngx_http_rtagent_chat_a_policy[] = {
    S("policy")
};
static const ngx_http_rtagent_chat_str_t  ngx_http_rtagent_chat_a_claim[] = {
    S("policy"), S("date"), S("location"), S("description"), S("injuries"),
    S("vehicles")
};
static const ngx_http_rtagent_chat_str_t  ngx_http_rtagent_chat_a_appt[] = {
    S("reason"), S("date"), S("period")
};
static const ngx_http_rtagent_chat_str_t  ngx_http_rtagent_chat_a_reason[] = {
    S("reason")
};

#define A(a)  a, sizeof(a) / sizeof(a[0])

static const ngx_http_rtagent_chat_tool_t  ngx_http_rtagent_chat_builtins[] = {
    { S("verify_identity"),
      S("Check the caller's 8-digit policy number and the 5-digit ZIP code "
        "on the policy against the records."),
      A(ngx_http_rtagent_chat_a_verify) },
    { S("lookup_policy"),
      S("Read the verified caller's policy: holder, vehicles, coverage."),
      A(ngx_http_rtagent_chat_a_policy) },
    { S("create_claim"),
      S("File a first notice of loss for the verified caller's policy and "
        "return the claim number."),
      A(ngx_http_rtagent_chat_a_claim) },
    { S("schedule_appointment"),
      S("Book an appointment and return its confirmation."),
      A(ngx_http_rtagent_chat_a_appt) },
    { S("transfer_to_human"),
      S("Transfer the call to a human colleague."),
      A(ngx_http_rtagent_chat_a_reason) },
    { S("end_call"),
      S("End the call once the caller has nothing more to ask."),
      NULL, 0 }
};


int
ngx_http_rtagent_chat_builtin(const char *name, size_t len,
    ngx_http_rtagent_chat_tool_t *tool)
{
    size_t  i;

    for (i = 0; i < sizeof(ngx_http_rtagent_chat_builtins)
                    / sizeof(ngx_http_rtagent_chat_builtins[0]); i++)
    {
        if (ngx_http_rtagent_chat_builtins[i].name.len == len
            && memcmp(ngx_http_rtagent_chat_builtins[i].name.data, name, len)
               == 0)
        {
            *tool = ngx_http_rtagent_chat_builtins[i];
            return 0;
        }
    }

    return -1;
}
