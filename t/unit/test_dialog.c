
/*
 * Unit tests for the local dialogue engine (src/agent/ngx_http_rtagent_
 * dialog.c): whole conversations as text over the SHIPPED agent files in
 * agents/, parsed with the agent definition codec (the tests run from the
 * repo root).  The call's date is Thursday 2026-12-03.  Tools are played by the
 * test: it merges a result into the fields and calls tool_done().
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/ngx_http_rtagent_dialog.h"
#include "agent/ngx_http_rtagent_safety.h"
#include "test_fixtures.h"


#define TODAY  "2026-12-03"


typedef struct block_s  block_t;

struct block_s {
    block_t   *next;
    union { long double ld; long long ll; void *p; } data[];
};

static block_t  *arena;


static void *
arena_alloc(void *ctx, size_t size)
{
    block_t  *b;

    b = malloc(sizeof(block_t) + size);
    assert_non_null(b);

    b->next = arena;
    arena = b;

    return b->data;
}


static int
arena_free(void **state)
{
    block_t  *b;

    while (arena) {
        b = arena->next;
        free(arena);
        arena = b;
    }

    return 0;
}


static ngx_http_rtagent_agent_def_t *
agent(const char *name)
{
    char                           path[256], err[512];
    char                          *text;
    size_t                         len;
    unsigned char                 *buf;
    ngx_http_rtagent_agent_def_t  *def;

    snprintf(path, sizeof(path), "%s.yaml", name);
    (void) fixtures;
    text = read_file("agents", path, &len);

    buf = arena_alloc(NULL, len);
    memcpy(buf, text, len);
    free(text);

    if (ngx_http_rtagent_agent_def_parse(buf, len, path, arena_alloc, NULL,
                                         &def, err, sizeof(err))
        != 0)
    {
        fail_msg("%s", err);
    }

    assert_non_null(def->local);

    return def;
}


/* one call: its fields, the active agent's engine, the last step's output */
typedef struct {
    ngx_http_rtagent_dialog_fields_t  fields;
    ngx_http_rtagent_dialog_t         d;
    ngx_http_rtagent_dialog_out_t     out;
    char                              said[4096];
} call_t;


/* the output as one line: "SAY text | TOOL name | HANDOFF fnol (summary)" */
static const char *
render(call_t *c)
{
    size_t       i;
    char        *p, *end;
    const char  *kinds[] = { "SAY", "TOOL", "HANDOFF", "TRANSFER", "END" };

    p = c->said;
    end = c->said + sizeof(c->said);
    *p = '\0';

    for (i = 0; i < c->out.n; i++) {
        p += snprintf(p, end - p, "%s%s %s", i ? " | " : "",
                      kinds[c->out.act[i].kind],
                      c->out.act[i].arg ? c->out.act[i].arg : "-");

        if (c->out.act[i].text) {
            p += snprintf(p, end - p, " (%s)", c->out.act[i].text);
        }
    }

    p += snprintf(p, end - p, " => %s", c->out.expect ? c->out.expect : "-");

    return c->said;
}


static void
enter(call_t *c, const char *name)
{
    c->d.alloc = arena_alloc;
    c->d.alloc_ctx = NULL;
    c->d.agent = agent(name);
    c->d.fields = &c->fields;
    c->d.today = TODAY;

    assert_int_equal(ngx_http_rtagent_dialog_enter(&c->d, &c->out), 0);
    render(c);
}


static void
turn(call_t *c, const char *text)
{
    assert_int_equal(ngx_http_rtagent_dialog_turn(&c->d,
                         (const unsigned char *) text, strlen(text), &c->out),
                     0);
    render(c);
}


static void
tool_done(call_t *c, int ok)
{
    assert_int_equal(ngx_http_rtagent_dialog_tool_done(&c->d, ok, &c->out),
                     0);
    render(c);
}


static void
set(call_t *c, const char *name, const char *value)
{
    assert_int_equal(ngx_http_rtagent_dialog_set(&c->d, name, value), 0);
}


static const char *
get(call_t *c, const char *name)
{
    return ngx_http_rtagent_dialog_get(&c->fields, name);
}


/* the output is exactly want */
#define said(c, want)                                                        \
    do {                                                                     \
        if (strcmp((c)->said, want) != 0) {                                  \
            fail_msg("said:\n  %s\nwanted:\n  %s", (c)->said, want);         \
        }                                                                    \
    } while (0)


/* the output holds want */
#define says(c, want)                                                        \
    do {                                                                     \
        if (strstr((c)->said, want) == NULL) {                               \
            fail_msg("said:\n  %s\nwanted in it:\n  %s", (c)->said, want);   \
        }                                                                    \
    } while (0)


#define AUTH_GREETING                                                        \
    "SAY Thank you for calling Contoso Insurance. I can help with claims, "  \
    "health appointments, legal questions and your account."
#define AUTH_POLICY                                                          \
    "SAY Please tell me your eight digit policy number, one digit at a time."
#define AUTH_ZIP  "SAY Thank you. And the five digit ZIP code on your policy?"


static void
verify(call_t *c, const char *policy, const char *zip)
{
    turn(c, policy);
    said(c, AUTH_ZIP " => auth.zip");
    turn(c, zip);
    said(c, "TOOL verify_identity => -");
}


static void
test_auth_success(void **state)
{
    call_t  c = { 0 };

    enter(&c, "auth");
    said(&c, AUTH_GREETING " | " AUTH_POLICY " => auth.policy");

    verify(&c, "four two seven one eight three six five",
           "nine eight one zero one");
    assert_string_equal(get(&c, "policy"), "42718365");
    assert_string_equal(get(&c, "zip"), "98101");

    /* what verify_identity merged */
    set(&c, "verified", "true");
    set(&c, "name", "Alice");
    tool_done(&c, 1);
    said(&c, "SAY Thank you, Alice, you are verified. | "
             "SAY How can I help you today? => auth.intents");

    /* a result nobody asked for changes nothing */
    tool_done(&c, 0);
    said(&c, " => auth.intents");

    turn(&c, "I want to report a car accident");
    said(&c, "HANDOFF fnol (report_claim; policy=42718365; zip=98101) => -");
}


/* the facts in the words that chose the handoff reach the next agent */
static void
test_handoff_facts(void **state)
{
    call_t  c = { 0 };

    enter(&c, "auth");
    verify(&c, "four two seven one eight three six five",
           "nine eight one zero one");
    tool_done(&c, 1);

    turn(&c, "I had a car accident yesterday and nobody was hurt");
    said(&c, "HANDOFF fnol (report_claim; policy=42718365; zip=98101) => -");

    enter(&c, "fnol");
    said(&c, "SAY I am sorry to hear about the accident. I will take down the "
             "details and file your claim. | SAY Where did it happen? "
             "=> fnol.where");
    assert_string_equal(get(&c, "when"), "2026-12-02");
    assert_string_equal(get(&c, "injuries"), "no");

    /* used once, then cleared */
    assert_string_equal(get(&c, "_handoff.said"), "");
}


/* auth first: a need heard before the check waits for it, then routes */
static void
test_auth_need_first(void **state)
{
    call_t  c = { 0 };

    enter(&c, "auth");
    turn(&c, "I want to report a car accident");
    said(&c, "SAY I can help with that as soon as I have verified who you "
             "are. | " AUTH_POLICY " => auth.policy");

    verify(&c, "four two seven one eight three six five",
           "nine eight one zero one");

    /* a failed check routes nobody */
    tool_done(&c, 0);
    says(&c, "SAY I could not match those details.");
    assert_null(strstr(c.said, "HANDOFF"));

    verify(&c, "four two seven one eight three six five",
           "nine eight one zero one");
    set(&c, "verified", "true");
    set(&c, "name", "Alice");
    tool_done(&c, 1);
    said(&c, "SAY Thank you, Alice, you are verified. | "
             "HANDOFF fnol (report_claim; policy=42718365; zip=98101) => -");
}


static void
test_auth_volunteered(void **state)
{
    call_t  c = { 0 };

    /* both facts in one breath: the ZIP is not asked */
    enter(&c, "auth");
    turn(&c, "my policy is 1 2 3 4 5 6 7 8 and my zip code is 9 8 1 0 1");
    said(&c, "TOOL verify_identity => -");
    assert_string_equal(get(&c, "policy"), "12345678");
    assert_string_equal(get(&c, "zip"), "98101");

    /* the slot's name is a hint, however short */
    set(&c, "policy", "");
    set(&c, "zip", "");
    enter(&c, "auth");
    turn(&c, "1 2 3 4 5 6 7 8 zip 6 0 6 1 4");
    said(&c, "TOOL verify_identity => -");
    assert_string_equal(get(&c, "zip"), "60614");
}


static void
test_auth_failure(void **state)
{
    call_t  c = { 0 };

    enter(&c, "auth");

    verify(&c, "one one one one two two two two", "one two three four five");
    tool_done(&c, 0);
    said(&c, "SAY I could not match those details. Let us try once more. | "
             AUTH_POLICY " => auth.policy");
    assert_string_equal(get(&c, "policy"), "");
    assert_string_equal(get(&c, "zip"), "");

    /* a result that says "not verified" is a failure too */
    verify(&c, "four two seven one eight three six five",
           "one two three four five");
    set(&c, "verified", "false");
    tool_done(&c, 1);
    says(&c, "Let us try once more.");
    said(&c, "SAY I could not match those details. Let us try once more. | "
             AUTH_POLICY " => auth.policy");

    verify(&c, "four two seven one eight three six five",
           "one two three four six");
    tool_done(&c, 0);
    said(&c, "SAY One moment, I am connecting you to a colleague. | "
             "TRANSFER queue:customer-care => -");
}


static void
test_auth_reprompt(void **state)
{
    int     i;
    call_t  c = { 0 };

    enter(&c, "auth");

    /* auth does not escalate on no match: it keeps asking */
    for (i = 0; i < 4; i++) {
        turn(&c, "four two seven");
        said(&c, "SAY Your policy number has eight digits. Please say them "
                 "one at a time. => auth.policy");
    }

    turn(&c, "four two seven one eight three six five");
    said(&c, AUTH_ZIP " => auth.zip");

    turn(&c, "I don't remember that");
    said(&c, "SAY Please say the five digits of your ZIP code. => auth.zip");

    /* the open question has the agent's re-prompt alone */
    turn(&c, "nine eight one zero one");
    set(&c, "name", "Bob");
    tool_done(&c, 1);
    turn(&c, "hmm what");
    said(&c, "SAY Sorry, I did not catch that. => auth.intents");

    turn(&c, "let me talk to a person");
    said(&c, "SAY One moment, I am connecting you to a colleague. | "
             "TRANSFER queue:customer-care => -");
}


static void
test_auth_goodbye(void **state)
{
    call_t  c = { 0 };

    enter(&c, "auth");
    turn(&c, "goodbye");
    said(&c, "SAY Thank you for calling Contoso Insurance. Goodbye. | "
             "END - => -");
}


#define FNOL_WHEN   "SAY When did the accident happen?"
#define FNOL_WHAT   "SAY Please tell me briefly what happened."
#define FNOL_HURT   "SAY Was anyone hurt?"
#define FNOL_VEH    "SAY How many vehicles were involved, including yours?"


static void
test_fnol(void **state)
{
    call_t  c = { 0 };

    /* the fields auth collected come with the handoff */
    c.d.alloc = arena_alloc;
    c.d.fields = &c.fields;
    set(&c, "policy", "42718365");
    set(&c, "name", "Alice");

    enter(&c, "fnol");
    said(&c, "SAY I am sorry to hear about the accident. I will take down the "
             "details and file your claim. | " FNOL_WHEN " => fnol.when");

    /* when and where in one breath: where is not asked */
    turn(&c, "yesterday on highway ten");
    said(&c, FNOL_WHAT " => fnol.what");
    assert_string_equal(get(&c, "when"), "2026-12-02");
    assert_string_equal(get(&c, "where"), "on highway ten");

    turn(&c, "um another car rear ended me at a red light");
    said(&c, FNOL_HURT " => fnol.injuries");
    assert_string_equal(get(&c, "what"),
                        "another car rear ended me at a red light");

    turn(&c, "no, nobody was hurt");
    said(&c, FNOL_VEH " => fnol.vehicles");
    assert_string_equal(get(&c, "injuries"), "no");

    turn(&c, "two");
    said(&c, "SAY Let me read that back. On December 2, on highway ten: "
             "another car rear ended me at a red light. Anyone hurt: no. "
             "Vehicles involved: 2. Is that correct? => fnol.confirm");

    /* a correction at the read-back, read back again */
    turn(&c, "no, it was three vehicles");
    says(&c, "Vehicles involved: 3. Is that correct? => fnol.confirm");
    assert_string_equal(get(&c, "vehicles"), "3");

    turn(&c, "yes that's right");
    said(&c, "TOOL create_claim => -");

    set(&c, "claim_id", "CLM-7Q2K");
    tool_done(&c, 1);
    said(&c, "SAY Your claim is filed. Your claim number is CLM-7Q2K. An "
             "adjuster will call you within one business day. "
             "=> fnol.intents");

    assert_string_equal(get(&c, "policy"), "42718365");
    assert_string_equal(get(&c, "when"), "2026-12-02");
    assert_string_equal(get(&c, "where"), "on highway ten");
    assert_string_equal(get(&c, "injuries"), "no");
    assert_string_equal(get(&c, "vehicles"), "3");
}


static void
test_fnol_volunteered(void **state)
{
    call_t  c = { 0 };

    enter(&c, "fnol");

    /* a caller who tells it all at once is asked only what is missing */
    turn(&c, "it happened two days ago in the parking lot at work, two "
             "vehicles, no one was hurt");
    said(&c, FNOL_WHAT " => fnol.what");
    assert_string_equal(get(&c, "when"), "2026-12-01");
    assert_string_equal(get(&c, "vehicles"), "2");
    assert_string_equal(get(&c, "injuries"), "no");
    assert_string_equal(get(&c, "where"), "in the parking lot at work");

    turn(&c, "someone backed into my parked car");
    says(&c, "SAY Let me read that back. On December 1, in the parking "
             "lot at work: someone backed into my parked car. Anyone hurt: "
             "no. Vehicles involved: 2.");
}


static void
test_fnol_correct(void **state)
{
    call_t  c = { 0 };

    enter(&c, "fnol");
    turn(&c, "last friday");
    turn(&c, "at the mall parking garage");
    turn(&c, "I hit a deer");
    turn(&c, "yes my wife was hurt");
    turn(&c, "just me");
    says(&c, "On November 27, at the mall parking garage: i hit a deer. "
             "Anyone hurt: yes. Vehicles involved: 1.");

    /* "no" alone: what is wrong?  "the date": asked again */
    turn(&c, "no");
    said(&c, "SAY What should I change? => -");
    turn(&c, "the date");
    said(&c, FNOL_WHEN " => fnol.when");
    turn(&c, "tomorrow");
    said(&c, "SAY Sorry, I did not get that. | " FNOL_WHEN " => fnol.when");
    turn(&c, "on the thirtieth");
    says(&c, "On November 30, at the mall parking garage");
    turn(&c, "correct");
    said(&c, "TOOL create_claim => -");

    /* the claim cannot be filed: the failure line, then a person */
    tool_done(&c, 0);
    said(&c, "SAY I could not file the claim just now. Let me connect you to "
             "an adjuster. | TRANSFER queue:claims => -");
}


static void
test_fnol_human(void **state)
{
    call_t  c = { 0 };

    enter(&c, "fnol");
    turn(&c, "yesterday");
    turn(&c, "can I talk to a representative");
    said(&c, "SAY I am transferring you to a claims adjuster now. | "
             "TRANSFER queue:claims => -");

    enter(&c, "fnol");
    turn(&c, "the other driver is bleeding");
    said(&c, "SAY If anyone is in danger, please hang up and dial 911 now. | "
             "TRANSFER queue:claims => -");

    enter(&c, "fnol");
    turn(&c, "I have a question about my bill");
    said(&c, "HANDOFF support (other_question; when=2026-12-02) => -");
}


static void
test_healthcare(void **state)
{
    call_t  c = { 0 };

    enter(&c, "healthcare");
    says(&c, "SAY What is the reason for the visit? => healthcare.reason");

    /* "cough" is the answer here, not the symptoms intent */
    turn(&c, "I have a cough");
    said(&c, "SAY What day would you like to come in? => healthcare.date");
    assert_string_equal(get(&c, "reason"), "i have a cough");

    /* a future date (the slot's examples look ahead), the period with it */
    turn(&c, "tomorrow morning");
    said(&c, "SAY An appointment on December 4 in the morning for i have a "
             "cough. Shall I book it? => healthcare.confirm");
    assert_string_equal(get(&c, "date"), "2026-12-04");
    assert_string_equal(get(&c, "period"), "morning");

    turn(&c, "yes please");
    said(&c, "TOOL schedule_appointment => -");
    set(&c, "appointment_time", "Friday December 4 at 9 am");
    tool_done(&c, 1);
    said(&c, "SAY You are booked for Friday December 4 at 9 am. We will send "
             "a reminder the day before. | SAY Would you like to book an "
             "appointment, or talk about symptoms? => healthcare.intents");

    /* an emergency at any point */
    turn(&c, "I have chest pain");
    said(&c, "SAY Please hang up and dial 911 now. I am also connecting you "
             "to a nurse. | TRANSFER queue:nurse-line => -");
}


static void
test_healthcare_next(void **state)
{
    call_t  c = { 0 };

    enter(&c, "healthcare");
    turn(&c, "a checkup");
    turn(&c, "next monday");
    assert_string_equal(get(&c, "date"), "2026-12-07");
    said(&c, "SAY Morning or afternoon? => healthcare.period");
    turn(&c, "afternoon");
    says(&c, "on December 7 in the afternoon for a checkup.");

    /* an intent with "next" asks that slot (again) */
    turn(&c, "I want to book an appointment");
    said(&c, "SAY What is the reason for the visit? => healthcare.reason");
}


static void
test_support(void **state)
{
    call_t  c = { 0 };

    enter(&c, "support");
    said(&c, "SAY You are through to Contoso customer support. What can I "
             "help you with on your account? | SAY What would you like to "
             "know about your account? => support.intents");

    /* an intent's tool, then its line with the result */
    turn(&c, "when is my next payment");
    said(&c, "TOOL lookup_policy => -");
    set(&c, "next_payment_date", "January 5");
    tool_done(&c, 1);
    said(&c, "SAY Your next payment is due on January 5. => support.intents");

    turn(&c, "which cars are on my policy");
    said(&c, "TOOL lookup_policy => -");
    tool_done(&c, 0);
    said(&c, "SAY Let me connect you to a colleague. | "
             "TRANSFER queue:customer-care => -");

    enter(&c, "support");
    turn(&c, "I had an accident");
    said(&c, "HANDOFF fnol (accident) => -");

    enter(&c, "support");
    turn(&c, "I want to change my address");
    said(&c, "SAY A colleague can do that for you. I will transfer you now. | "
             "TRANSFER queue:customer-care => -");
}


static void
test_support_escalation(void **state)
{
    call_t  c = { 0 };

    /* support escalates on no match, after max_attempts (2) */
    enter(&c, "support");
    turn(&c, "the weather is lovely");
    said(&c, "SAY Sorry, I did not understand. You can ask about your policy, "
             "your bill or your documents. => support.intents");
    turn(&c, "");
    said(&c, "SAY Let me connect you to a colleague. | "
             "TRANSFER queue:customer-care => -");
}


static void
test_legal(void **state)
{
    call_t  c = { 0 };

    enter(&c, "legal");
    turn(&c, "I got a letter from a lawyer");
    assert_string_equal(get(&c, "matter"), "letter from a lawyer");
    turn(&c, "I received a demand letter from their lawyer");
    said(&c, "SAY Is there a deadline or a court date? If so, when? "
             "=> legal.deadline");
    turn(&c, "no deadline");
    assert_string_equal(get(&c, "deadline"), "none");
    turn(&c, "five five five one two three four five six seven");
    assert_string_equal(get(&c, "callback_phone"), "5551234567");
    turn(&c, "thursday");
    assert_string_equal(get(&c, "callback_date"), "2026-12-10");
    says(&c, "An attorney will call you on December 10 at 5551234567 about "
             "your letter from a lawyer. Is that right? => legal.confirm");
}


/*
 * A call resumed by another worker: a new engine over a copy of the
 * fields continues exactly as the first one does.
 */
static void
test_resume(void **state)
{
    size_t       i, k;
    call_t       a = { 0 }, b = { 0 };
    const char  *script[] = {
        "yesterday", "on the interstate near exit twelve",
        "a car ran the stop sign and hit my side", "nope", "hmm",
        "two vehicles", "no", "it was three vehicles", "yes", NULL
    };

    enter(&a, "fnol");

    for (i = 0; script[i]; i++) {
        /* b: a fresh engine over a copy of a's fields */
        memset(&b, 0, sizeof(b));
        b.d.alloc = arena_alloc;
        b.d.agent = a.d.agent;
        b.d.fields = &b.fields;
        b.d.today = TODAY;

        for (k = 0; k < a.fields.nelts; k++) {
            set(&b, a.fields.elts[k].name, a.fields.elts[k].value);
        }

        turn(&a, script[i]);
        turn(&b, script[i]);
        assert_string_equal(a.said, b.said);

        for (k = 0; k < a.fields.nelts; k++) {
            assert_string_equal(a.fields.elts[k].value,
                                get(&b, a.fields.elts[k].name));
        }
    }

    said(&a, "TOOL create_claim => -");
    assert_string_equal(get(&a, "vehicles"), "3");
    assert_string_equal(get(&a, "_fnol.stage"), "tool");
    assert_string_equal(get(&a, "_fnol.pending"), "complete");
}


/* slots with "confirm: true" are read back on their own */
static void
test_slot_confirm(void **state)
{
    char                           err[512];
    call_t                         c = { 0 };
    static const char              yaml[] =
        "name: pin\n"
        "description: a test agent\n"
        "greeting: Hello.\n"
        "prompt: p\n"
        "local:\n"
        "  max_attempts: 2\n"
        "  slots:\n"
        "    - name: account\n"
        "      question: Your account number?\n"
        "      type: digits\n"
        "      length: 4\n"
        "      confirm: true\n"
        "    - name: day\n"
        "      question: Which day?\n"
        "      type: date\n"
        "      confirm: true\n"
        "  ask: Anything else?\n";
    ngx_http_rtagent_agent_def_t  *def;

    assert_int_equal(ngx_http_rtagent_agent_def_parse(
                         (const unsigned char *) yaml, sizeof(yaml) - 1,
                         "pin.yaml", arena_alloc, NULL, &def, err,
                         sizeof(err)), 0);

    c.d.alloc = arena_alloc;
    c.d.agent = def;
    c.d.fields = &c.fields;
    c.d.today = TODAY;

    assert_int_equal(ngx_http_rtagent_dialog_enter(&c.d, &c.out), 0);
    render(&c);
    said(&c, "SAY Hello. | SAY Your account number? => pin.account");

    turn(&c, "one two three four");
    said(&c, "SAY I have 1 2 3 4. Is that right? => pin.confirm");

    /* a no with the right value: read back again */
    turn(&c, "no it is one two three five");
    said(&c, "SAY I have 1 2 3 5. Is that right? => pin.confirm");

    turn(&c, "hmm");
    said(&c, "SAY I have 1 2 3 5. Is that right? => pin.confirm");

    turn(&c, "yes");
    said(&c, "SAY Which day? => pin.day");

    turn(&c, "yesterday");
    said(&c, "SAY I have December 2. Is that right? => pin.confirm");

    /* a plain no asks again */
    turn(&c, "no");
    said(&c, "SAY Which day? => pin.day");
    assert_string_equal(get(&c, "day"), "");

    turn(&c, "today");
    turn(&c, "yes");
    said(&c, "SAY Anything else? => -");
    assert_string_equal(get(&c, "account"), "1235");
    assert_string_equal(get(&c, "day"), "2026-12-03");
}


/* a turn with no state yet (fields from an older build) starts asking */
static void
test_no_state(void **state)
{
    call_t  c = { 0 };

    c.d.alloc = arena_alloc;
    c.d.agent = agent("fnol");
    c.d.fields = &c.fields;
    c.d.today = TODAY;

    turn(&c, "yesterday");
    said(&c, "SAY Where did it happen? => fnol.where");
}


/* rtagent_redact on: free text is kept redacted, and so is the summary */
static void
test_fnol_redact(void **state)
{
    call_t  c = { 0 };

    c.d.alloc = arena_alloc;
    c.d.fields = &c.fields;
    c.d.redact = ngx_http_rtagent_safety_redact;
    set(&c, "policy", "42718365");

    enter(&c, "fnol");
    turn(&c, "yesterday on highway ten");
    said(&c, FNOL_WHAT " => fnol.what");

    turn(&c, "they took my wallet and my card four one one one one one one "
             "one one one one one one one one one");
    said(&c, FNOL_HURT " => fnol.injuries");
    assert_string_equal(get(&c, "what"),
                        "they took my wallet and my card [card]");

    /* the typed slots are not touched */
    assert_string_equal(get(&c, "when"), "2026-12-02");
    assert_string_equal(get(&c, "policy"), "42718365");

    /* without the hook, as said */
    memset(&c, 0, sizeof(call_t));
    c.d.alloc = arena_alloc;
    c.d.fields = &c.fields;
    set(&c, "policy", "42718365");
    enter(&c, "fnol");
    turn(&c, "yesterday on highway ten");
    turn(&c, "they took my wallet and my card four one one one one one one "
             "one one one one one one one one one");
    assert_string_equal(get(&c, "what"),
                        "they took my wallet and my card four one one one one "
                        "one one one one one one one one one one one");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_teardown(test_auth_success, arena_free),
        cmocka_unit_test_teardown(test_handoff_facts, arena_free),
        cmocka_unit_test_teardown(test_auth_need_first, arena_free),
        cmocka_unit_test_teardown(test_auth_volunteered, arena_free),
        cmocka_unit_test_teardown(test_auth_failure, arena_free),
        cmocka_unit_test_teardown(test_auth_reprompt, arena_free),
        cmocka_unit_test_teardown(test_auth_goodbye, arena_free),
        cmocka_unit_test_teardown(test_fnol, arena_free),
        cmocka_unit_test_teardown(test_fnol_volunteered, arena_free),
        cmocka_unit_test_teardown(test_fnol_redact, arena_free),
        cmocka_unit_test_teardown(test_fnol_correct, arena_free),
        cmocka_unit_test_teardown(test_fnol_human, arena_free),
        cmocka_unit_test_teardown(test_healthcare, arena_free),
        cmocka_unit_test_teardown(test_healthcare_next, arena_free),
        cmocka_unit_test_teardown(test_support, arena_free),
        cmocka_unit_test_teardown(test_support_escalation, arena_free),
        cmocka_unit_test_teardown(test_legal, arena_free),
        cmocka_unit_test_teardown(test_resume, arena_free),
        cmocka_unit_test_teardown(test_slot_confirm, arena_free),
        cmocka_unit_test_teardown(test_no_state, arena_free),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
