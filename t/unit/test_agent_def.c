
/*
 * Unit tests for the agent definition codec (cmocka): a good file read
 * field by field, each kind of error with its exact line and field path,
 * the checks across files, and the shipped agents/ (run from the
 * repository root, as make unit does).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/ngx_http_rtagent_agent_def.h"


typedef ngx_http_rtagent_agent_def_t  def_t;


/* an arena of malloc'ed blocks, freed all at once */
typedef struct block_s  block_t;

struct block_s {
    block_t   *next;
    /* aligned for any type the codec stores */
    union { long double ld; long long ll; void *p; } data[];
};

static block_t  *arena;


static void *
arena_alloc(void *ctx, size_t size)
{
    block_t  *b;

    (void) ctx;

    b = malloc(sizeof(block_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->next = arena;
    arena = b;

    return b->data;
}


/* fails after *ctx allocations */
static void *
limited_alloc(void *ctx, size_t size)
{
    int  *left = ctx;

    if ((*left)-- <= 0) {
        return NULL;
    }

    return arena_alloc(NULL, size);
}


static int
arena_free(void **state)
{
    block_t  *b;

    (void) state;

    while (arena) {
        b = arena->next;
        free(arena);
        arena = b;
    }

    return 0;
}


static char  err[512];


static def_t *
parse(const char *text)
{
    def_t  *def;

    if (ngx_http_rtagent_agent_def_parse((const unsigned char *) text,
                                         strlen(text), "a.yaml", arena_alloc,
                                         NULL, &def, err, sizeof(err))
        != 0)
    {
        return NULL;
    }

    return def;
}


/* the file must fail with exactly this message */
static void
refused(const char *text, const char *message)
{
    def_t  *def;

    def = parse(text);
    if (def != NULL) {
        fail_msg("accepted, expected \"%s\"", message);
    }

    assert_string_equal(err, message);
}


#define MINIMAL                                                              \
    "name: fnol\n"                                                           \
    "description: Files claims.\n"                                           \
    "greeting: Hello.\n"                                                     \
    "prompt: Be kind.\n"


static void
test_minimal(void **state)
{
    def_t  *def;

    def = parse(MINIMAL);
    assert_non_null(def);
    assert_string_equal((char *) def->name.data, "fnol");
    assert_int_equal(def->name.len, 4);
    assert_int_equal(def->name.line, 1);
    assert_string_equal((char *) def->greeting.data, "Hello.");
    assert_int_equal(def->greeting.line, 3);
    assert_null(def->local);
    assert_int_equal(def->ntools, 0);
    assert_int_equal(def->memory.context_turns, 20);
    assert_int_equal(def->memory.load_profile, 0);
    assert_int_equal(def->escalation.line, 0);
    assert_string_equal(def->file, "a.yaml");
}


static const char  full[] =
    MINIMAL
    "model: reasoning\n"
    "voice: en-US-AvaNeural\n"
    "language: en-GB\n"
    "tools:\n"
    "  - create_claim\n"
    "  - name: weather\n"
    "    description: The weather at a ZIP code.\n"
    "    arguments: [zip]\n"
    "    http:\n"
    "      method: POST\n"
    "      url: https://api.example.com/w/{zip}\n"
    "      headers: {Authorization: \"env:WEATHER_TOKEN\"}\n"
    "      body: '{\"zip\": \"{zip}\"}'\n"
    "      timeout_ms: 2000\n"
    "  - name: profile\n"
    "    description: The caller's profile.\n"
    "    redis:\n"
    "      command: [HGETALL, \"rtagent:profile:{caller}\"]\n"
    "handoffs: [support, auth]\n"
    "memory:\n"
    "  load_profile: true\n"
    "  context_turns: 0\n"
    "escalation:\n"
    "  target: \"+18005550100\"\n"
    "  when: [caller_asks, emergency]\n"
    "local:\n"
    "  slots:\n"
    "    - name: policy\n"
    "      question: Your policy number?\n"
    "      type: digits\n"
    "      length: 8\n"
    "      confirm: true\n"
    "    - name: vehicles\n"
    "      question: How many vehicles?\n"
    "      type: number\n"
    "      min: 1\n"
    "      max: 20\n"
    "  confirm: \"{policy}, {vehicles}: right?\"\n"
    "  on_complete:\n"
    "    tool: create_claim\n"
    "    say: Filed {claim_id}.\n"
    "  intents:\n"
    "    - name: bill\n"
    "      keywords: [bill]\n"
    "      handoff: support\n"
    "    - name: again\n"
    "      examples: [start over]\n"
    "      next: policy\n";


/* the route after tool results: optional, a string */
static void
test_tool_model(void **state)
{
    def_t  *def;

    def = parse(MINIMAL "model: fast\ntool_model: reasoning\n");
    if (def == NULL) {
        fail_msg("%s", err);
    }

    assert_string_equal((char *) def->model.data, "fast");
    assert_string_equal((char *) def->tool_model.data, "reasoning");
    assert_int_equal(def->tool_model.len, 9);
}


static void
test_full(void **state)
{
    def_t                              *def;
    ngx_http_rtagent_local_def_t       *l;
    ngx_http_rtagent_tool_def_t        *t;

    def = parse(full);
    if (def == NULL) {
        fail_msg("%s", err);
    }

    assert_string_equal((char *) def->model.data, "reasoning");
    assert_null(def->tool_model.data);
    assert_string_equal((char *) def->language.data, "en-GB");

    assert_int_equal(def->ntools, 3);
    t = def->tools;
    assert_string_equal((char *) t[0].name.data, "create_claim");
    assert_false(t[0].defined);
    assert_true(t[1].defined);
    assert_int_equal(t[1].kind, NGX_HTTP_RTAGENT_TOOL_HTTP);
    assert_string_equal((char *) t[1].http->method.data, "POST");
    assert_int_equal(t[1].http->nheaders, 1);
    assert_string_equal((char *) t[1].http->headers[0].name.data,
                        "Authorization");
    assert_string_equal((char *) t[1].http->headers[0].value.data,
                        "env:WEATHER_TOKEN");
    assert_int_equal(t[1].http->timeout_ms, 2000);
    assert_int_equal(t[1].http->max_response, 65536);
    assert_int_equal(t[1].arguments.nelts, 1);
    assert_int_equal(t[2].kind, NGX_HTTP_RTAGENT_TOOL_REDIS);
    assert_int_equal(t[2].redis->command.nelts, 2);
    assert_string_equal((char *) t[2].redis->command.elts[1].data,
                        "rtagent:profile:{caller}");

    assert_int_equal(def->handoffs.nelts, 2);
    assert_int_equal(def->handoffs.elts[1].line, 23);
    assert_true(def->memory.load_profile);
    assert_int_equal(def->memory.context_turns, 0);
    assert_string_equal((char *) def->escalation.target.data,
                        "+18005550100");
    assert_int_equal(def->escalation.when, NGX_HTTP_RTAGENT_ESC_CALLER_ASKS
                                           | NGX_HTTP_RTAGENT_ESC_EMERGENCY);

    l = def->local;
    assert_non_null(l);
    assert_int_equal(l->max_attempts, 3);
    assert_int_equal(l->nslots, 2);
    assert_int_equal(l->slots[0].type, NGX_HTTP_RTAGENT_SLOT_DIGITS);
    assert_int_equal(l->slots[0].length, 8);
    assert_true(l->slots[0].confirm);
    assert_int_equal(l->slots[1].type, NGX_HTTP_RTAGENT_SLOT_NUMBER);
    assert_int_equal(l->slots[1].max, 20);
    assert_string_equal((char *) l->on_complete.tool.data, "create_claim");
    assert_int_equal(l->nintents, 2);
    assert_string_equal((char *) l->intents[1].next.data, "policy");
}


static void
test_unknown_key(void **state)
{
    refused(MINIMAL "greting: Hi.\n",
            "a.yaml:5: greting: unknown key");
    refused(MINIMAL
            "local:\n"
            "  slots:\n"
            "    - name: when\n"
            "      question: When?\n"
            "      type: date\n"
            "    - name: where\n"
            "      questoin: Where?\n",
            "a.yaml:11: local.slots[1].questoin: unknown key");
    refused(MINIMAL "memory: {load_profile: true, turns: 3}\n",
            "a.yaml:5: memory.turns: unknown key");
}


static void
test_wrong_type(void **state)
{
    refused(MINIMAL "tools: create_claim\n",
            "a.yaml:5: tools: expected a list, got a scalar");
    refused("name: [a, b]\n",
            "a.yaml:1: name: expected a string, got a list");
    refused(MINIMAL "memory:\n  load_profile: yes\n",
            "a.yaml:6: memory.load_profile: expected true or false");
    refused(MINIMAL "memory:\n  context_turns: many\n",
            "a.yaml:6: memory.context_turns: expected an integer from 0"
            " to 1000");
    refused(MINIMAL "memory:\n  context_turns: 1001\n",
            "a.yaml:6: memory.context_turns: expected an integer from 0"
            " to 1000");
    refused(MINIMAL "local: [a]\n",
            "a.yaml:5: local: expected a mapping, got a list");
    refused(MINIMAL "handoffs:\n",
            "a.yaml:5: handoffs: expected a list, got no value");
    refused(MINIMAL "model:\n",
            "a.yaml:5: model: expected a string, got no value");
    refused(MINIMAL "tool_model: [a]\n",
            "a.yaml:5: tool_model: expected a string, got a list");
    refused(MINIMAL "voice: \"\"\n",
            "a.yaml:5: voice: empty string");
    refused(MINIMAL "voice: \"a\\0b\"\n",
            "a.yaml:5: voice: NUL byte in string");
    refused("- name: x\n",
            "a.yaml:1: (document): expected a mapping, got a list");
    refused(MINIMAL
            "local:\n"
            "  slots:\n"
            "    - name: when\n"
            "      question: When?\n"
            "      type: calendar\n",
            "a.yaml:9: local.slots[0].type: \"calendar\" is not one of"
            " digits, number, date, time, yes_no, choice, free_text");
    refused(MINIMAL "escalation:\n  target: q\n  when: [always]\n",
            "a.yaml:7: escalation.when[0]: \"always\" is not one of"
            " caller_asks, auth_failed, no_match, emergency, tool_failed");
    refused("name: Auth\n",
            "a.yaml:1: name: invalid name \"Auth\": lower-case letters,"
            " digits and \"_\", starting with a letter, at most 64");
}


static void
test_missing(void **state)
{
    refused("name: a\ngreeting: Hi.\nprompt: p\n",
            "a.yaml:1: description: required field missing");
    refused("name: a\ndescription: d\ngreeting: Hi.\n",
            "a.yaml:1: prompt: required field missing (or prompt_file)");
    refused(MINIMAL
            "local:\n"
            "  slots:\n"
            "    - name: when\n"
            "      type: date\n",
            "a.yaml:7: local.slots[0].question: required field missing");
    refused(MINIMAL "escalation:\n  when: [emergency]\n",
            "a.yaml:6: escalation.target: required field missing");
    refused(MINIMAL
            "tools:\n"
            "  - name: t\n"
            "    description: d\n"
            "    http:\n"
            "      method: GET\n",
            "a.yaml:9: tools[0].http.url: required field missing");
}


static void
test_semantics(void **state)
{
    refused(MINIMAL "prompt_file: p.md\n",
            "a.yaml:5: prompt_file: give prompt or prompt_file, not both");
    refused(MINIMAL "name: other\n",
            "a.yaml:5: name: duplicate key (first on line 1)");
    refused(MINIMAL "handoffs: [fnol]\n",
            "a.yaml:5: handoffs[0]: an agent cannot hand off to itself");
    refused(MINIMAL "handoffs: [a, b, a]\n",
            "a.yaml:5: handoffs[2]: \"a\" is listed twice");
    refused(MINIMAL "tools: [end_call, end_call]\n",
            "a.yaml:5: tools[1]: tool \"end_call\" is listed twice"
            " (line 5)");
    refused(MINIMAL
            "tools:\n"
            "  - name: t\n"
            "    description: d\n",
            "a.yaml:6: tools[0]: a tool definition needs exactly one of"
            " http and redis");
    refused(MINIMAL "local: {ask: What?}\n",
            "a.yaml:5: local: needs slots or intents");
    refused(MINIMAL
            "local:\n"
            "  intents:\n"
            "    - name: bill\n"
            "      keywords: [bill]\n"
            "      handoff: support\n",
            "a.yaml:9: local.intents[0].handoff: \"support\" is not in"
            " this agent's handoffs");
    refused(MINIMAL
            "tools: [end_call]\n"
            "local:\n"
            "  intents:\n"
            "    - name: bye\n"
            "      keywords: [bye]\n"
            "      tool: create_claim\n",
            "a.yaml:10: local.intents[0].tool: \"create_claim\" is not in"
            " this agent's tools");
    refused(MINIMAL
            "tools: [transfer_to_human]\n"
            "local:\n"
            "  intents:\n"
            "    - name: human\n"
            "      keywords: [person]\n"
            "      tool: transfer_to_human\n",
            "a.yaml:10: local.intents[0].tool: transfer_to_human needs the"
            " agent's escalation.target");
    refused(MINIMAL
            "local:\n"
            "  intents:\n"
            "    - name: again\n"
            "      keywords: [again]\n"
            "      next: policy\n",
            "a.yaml:9: local.intents[0].next: no slot named \"policy\"");
    refused(MINIMAL
            "local:\n"
            "  intents:\n"
            "    - name: bye\n",
            "a.yaml:7: local.intents[0].keywords: an intent needs keywords"
            " or examples");
    refused(MINIMAL
            "local:\n"
            "  slots:\n"
            "    - {name: a, question: q, type: date, length: 3}\n",
            "a.yaml:7: local.slots[0].length: only for type digits");
    refused(MINIMAL
            "local:\n"
            "  slots:\n"
            "    - {name: a, question: q, type: digits}\n"
            "    - {name: a, question: q, type: date}\n",
            "a.yaml:8: local.slots[1].name: slot \"a\" is defined twice"
            " (line 7)");
    refused(MINIMAL
            "local:\n"
            "  slots:\n"
            "    - {name: a, question: q, type: digits}\n"
            "  on_complete: {tool: create_claim}\n",
            "a.yaml:8: local.on_complete.tool: \"create_claim\" is not in"
            " this agent's tools");
}


static void
test_yaml_errors(void **state)
{
    refused(MINIMAL "local:\n  slots: [a, b\n",
            "a.yaml:7: yaml: did not find expected ',' or ']' while"
            " parsing a flow sequence");
    refused("name: a\n  bad: indent\n",
            "a.yaml:2: yaml: mapping values are not allowed in this"
            " context");
    refused("", "a.yaml:1: (document): empty file");
    refused("# only a comment\n", "a.yaml:1: (document): empty file");
    refused(MINIMAL "---\nname: b\n",
            "a.yaml:5: (document): a second YAML document: one agent per"
            " file");
}


static void
test_aliases(void **state)
{
    /* a cycle: the walk only follows the schema, so it ends */
    refused("name: &a [*a]\n",
            "a.yaml:1: name: expected a string, got a list");

    /* an alias bomb: a thousand intents of 200 keywords each, all one
     * anchor, is refused by the node budget */
    {
        char    *text, *p;
        size_t   i;

        text = arena_alloc(NULL, 16384);
        assert_non_null(text);
        p = text + sprintf(text, MINIMAL "local:\n  intents:\n"
                           "    - &i {name: a, keywords: [");
        for (i = 0; i < 200; i++) {
            p += sprintf(p, "%sx", i ? ", " : "");
        }
        p += sprintf(p, "]}\n");
        for (i = 1; i < 1000; i++) {
            p += sprintf(p, "    - *i\n");
        }

        assert_null(parse(text));
        assert_non_null(strstr(err, ": too many nodes (more than 100000,"));
        assert_non_null(strstr(err, "a.yaml:"));
    }

    /* reused strings are fine */
    def_t *def = parse("name: a\ndescription: &d Hello.\ngreeting: *d\n"
                       "prompt: *d\n");
    assert_non_null(def);
    assert_string_equal((char *) def->prompt.data, "Hello.");
}


static void
test_out_of_memory(void **state)
{
    int     i, left;
    def_t  *def;

    for (i = 0; i < 200; i++) {
        left = i;
        if (ngx_http_rtagent_agent_def_parse((const unsigned char *) full,
                                             sizeof(full) - 1, "a.yaml",
                                             limited_alloc, &left, &def,
                                             err, sizeof(err))
            == 0)
        {
            break;
        }

        assert_string_equal(err, "a.yaml: out of memory");
    }

    assert_true(i > 10);
    assert_true(i < 200);
}


static void
test_short_err(void **state)
{
    char    small[12];
    def_t  *def;

    assert_int_equal(ngx_http_rtagent_agent_def_parse(
                         (const unsigned char *) "x: 1\n", 5, "a.yaml",
                         arena_alloc, NULL, &def, small, sizeof(small)),
                     -1);
    assert_string_equal(small, "a.yaml:1: x");
}


/* ---- across files ------------------------------------------------------ */

static def_t *
parse_as(const char *file, const char *text)
{
    def_t  *def;

    if (ngx_http_rtagent_agent_def_parse((const unsigned char *) text,
                                         strlen(text), file, arena_alloc,
                                         NULL, &def, err, sizeof(err))
        != 0)
    {
        fail_msg("%s", err);
    }

    return def;
}


#define AGENT(name, rest)                                                    \
    "name: " name "\ndescription: d\ngreeting: g\nprompt: p\n" rest


static void
test_link(void **state)
{
    def_t  *defs[3];

    defs[0] = parse_as("auth.yaml", AGENT("auth", "handoffs: [fnol]\n"
                                        "tools: [verify_identity, weather]\n"));
    defs[1] = parse_as("fnol.yaml", AGENT("fnol",
                                        "tools:\n"
                                        "  - name: weather\n"
                                        "    description: d\n"
                                        "    http: {url: \"http://x/\"}\n"));
    assert_int_equal(ngx_http_rtagent_agent_def_link(defs, 2, "auth", err,
                                                     sizeof(err)), 0);
    assert_int_equal(defs[0]->tools[0].kind, NGX_HTTP_RTAGENT_TOOL_BUILTIN);
    assert_int_equal(defs[0]->tools[1].kind, NGX_HTTP_RTAGENT_TOOL_HTTP);
    assert_ptr_equal(ngx_http_rtagent_agent_def_find(defs, 2,
                         (const unsigned char *) "fnol", 4), defs[1]);
    assert_null(ngx_http_rtagent_agent_def_find(defs, 2,
                    (const unsigned char *) "fno", 3));
    assert_ptr_equal(ngx_http_rtagent_agent_def_tool(defs, 2,
                         (const unsigned char *) "weather", 7),
                     &defs[1]->tools[0]);

    assert_int_equal(ngx_http_rtagent_agent_def_link(defs, 2, "support",
                                                     err, sizeof(err)), -1);
    assert_string_equal(err, "entry agent \"support\": no agent of that name"
                        " is defined");

    assert_int_equal(ngx_http_rtagent_agent_def_link(defs, 1, "auth", err,
                                                     sizeof(err)), -1);
    assert_string_equal(err, "auth.yaml:6: tools[1]: unknown tool"
                        " \"weather\": not built in (verify_identity,"
                        " lookup_policy, create_claim, schedule_appointment,"
                        " transfer_to_human, end_call) and defined by no"
                        " agent");

    defs[0] = parse_as("auth.yaml", AGENT("auth", "handoffs: [fnol, legal]\n"));
    assert_int_equal(ngx_http_rtagent_agent_def_link(defs, 2, "auth", err,
                                                     sizeof(err)), -1);
    assert_string_equal(err, "auth.yaml:5: handoffs[1]: no agent named"
                        " \"legal\"");

    defs[2] = parse_as("other.yaml", AGENT("fnol", ""));
    defs[0] = parse_as("auth.yaml", AGENT("auth", ""));
    assert_int_equal(ngx_http_rtagent_agent_def_link(defs, 3, "auth", err,
                                                     sizeof(err)), -1);
    assert_string_equal(err, "other.yaml:1: name: agent \"fnol\" is already"
                        " defined in fnol.yaml:1");

    defs[2] = parse_as("other.yaml", AGENT("other",
                                         "tools:\n"
                                         "  - name: weather\n"
                                         "    description: d\n"
                                         "    redis: {command: [GET, k]}\n"));
    assert_int_equal(ngx_http_rtagent_agent_def_link(defs, 3, "auth", err,
                                                     sizeof(err)), -1);
    assert_string_equal(err, "other.yaml:6: tools[0].name: tool \"weather\""
                        " is already defined in fnol.yaml:6");

    defs[2] = parse_as("other.yaml", AGENT("other",
                                         "tools:\n"
                                         "  - name: end_call\n"
                                         "    description: d\n"
                                         "    redis: {command: [GET, k]}\n"));
    assert_int_equal(ngx_http_rtagent_agent_def_link(defs, 3, "auth", err,
                                                     sizeof(err)), -1);
    assert_string_equal(err, "other.yaml:6: tools[0].name: \"end_call\" is a"
                        " built-in tool");
}


/* ---- the shipped agents ------------------------------------------------ */

static def_t *
parse_file(const char *path)
{
    FILE    *f;
    long     len;
    def_t   *def;
    unsigned char *buf;

    f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("%s: cannot open (run from the repository root)", path);
    }

    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);

    buf = arena_alloc(NULL, len);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, len, f), (size_t) len);
    fclose(f);

    if (ngx_http_rtagent_agent_def_parse(buf, len, path, arena_alloc, NULL,
                                         &def, err, sizeof(err))
        != 0)
    {
        fail_msg("%s", err);
    }

    return def;
}


/* the shipped agents, then the files given, parsed and linked */
static void
load_set(def_t **defs, size_t n, const char *const *more)
{
    size_t  i;

    static const char *const  shipped[] = {
        "agents/auth.yaml", "agents/fnol.yaml", "agents/healthcare.yaml",
        "agents/legal.yaml", "agents/support.yaml"
    };

    for (i = 0; i < n; i++) {
        defs[i] = parse_file(i < 5 ? shipped[i] : more[i - 5]);
        assert_non_null(defs[i]->local);
    }

    if (ngx_http_rtagent_agent_def_link(defs, n, "auth", err, sizeof(err))
        != 0)
    {
        fail_msg("%s", err);
    }
}


static void
test_shipped(void **state)
{
    size_t   i;
    def_t   *defs[5], *fnol;
    ngx_http_rtagent_local_def_t  *l;

    static const char *const  fnol_slots[] = {
        "when", "where", "what", "injuries", "vehicles"
    };

    load_set(defs, 5, NULL);

    /* auth: the policy number (8 digits), then the ZIP code (5 digits) */
    l = defs[0]->local;
    assert_int_equal(l->nslots, 2);
    assert_string_equal((char *) l->slots[0].name.data, "policy");
    assert_int_equal(l->slots[0].length, 8);
    assert_string_equal((char *) l->slots[1].name.data, "zip");
    assert_int_equal(l->slots[1].length, 5);
    assert_string_equal((char *) l->on_complete.tool.data, "verify_identity");
    assert_int_equal(defs[0]->handoffs.nelts, 4);

    /* fnol: the five facts in the order of the issue, then create_claim */
    fnol = ngx_http_rtagent_agent_def_find(defs, 5,
                                           (const unsigned char *) "fnol", 4);
    assert_non_null(fnol);
    l = fnol->local;
    assert_int_equal(l->nslots, 5);
    for (i = 0; i < 5; i++) {
        assert_string_equal((char *) l->slots[i].name.data, fnol_slots[i]);
    }
    assert_int_equal(l->slots[0].type, NGX_HTTP_RTAGENT_SLOT_DATE);
    assert_int_equal(l->slots[1].type, NGX_HTTP_RTAGENT_SLOT_FREE_TEXT);
    assert_int_equal(l->slots[2].type, NGX_HTTP_RTAGENT_SLOT_FREE_TEXT);
    assert_int_equal(l->slots[3].type, NGX_HTTP_RTAGENT_SLOT_YES_NO);
    assert_int_equal(l->slots[4].type, NGX_HTTP_RTAGENT_SLOT_NUMBER);
    assert_true(l->confirm.len > 0);
    assert_string_equal((char *) l->on_complete.tool.data, "create_claim");
}


/* the documented custom agent fits with the shipped ones */
static void
test_example(void **state)
{
    def_t   *defs[6];

    static const char *const  example[] = {
        "agents/examples/roadside.yaml"
    };

    load_set(defs, 6, example);

    assert_int_equal(defs[5]->tools[0].kind, NGX_HTTP_RTAGENT_TOOL_HTTP);
    assert_int_equal(defs[5]->tools[1].kind, NGX_HTTP_RTAGENT_TOOL_REDIS);
    assert_int_equal(defs[5]->tools[2].kind, NGX_HTTP_RTAGENT_TOOL_BUILTIN);
    assert_string_equal((char *) defs[5]->tools[0].http->method.data, "POST");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_teardown(test_minimal, arena_free),
        cmocka_unit_test_teardown(test_full, arena_free),
        cmocka_unit_test_teardown(test_tool_model, arena_free),
        cmocka_unit_test_teardown(test_unknown_key, arena_free),
        cmocka_unit_test_teardown(test_wrong_type, arena_free),
        cmocka_unit_test_teardown(test_missing, arena_free),
        cmocka_unit_test_teardown(test_semantics, arena_free),
        cmocka_unit_test_teardown(test_yaml_errors, arena_free),
        cmocka_unit_test_teardown(test_aliases, arena_free),
        cmocka_unit_test_teardown(test_out_of_memory, arena_free),
        cmocka_unit_test_teardown(test_short_err, arena_free),
        cmocka_unit_test_teardown(test_link, arena_free),
        cmocka_unit_test_teardown(test_shipped, arena_free),
        cmocka_unit_test_teardown(test_example, arena_free),
    };

    return cmocka_run_group_tests_name("agent_def", tests, NULL, NULL);
}
