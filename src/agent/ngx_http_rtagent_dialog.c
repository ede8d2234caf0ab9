
/*
 * The local dialogue engine (see the header).  An agent's "local" section
 * run as a small state machine whose state is kept in the call's fields,
 * under "_<agent>.":
 *
 *   stage     slot (asking "slot"), slot_confirm (reading that slot back
 *             on its own: its "confirm: true"), confirm (the read-back),
 *             correct (the caller said no without saying what is wrong),
 *             tool (waiting for dialog_tool_done()), ask (the open
 *             question), done
 *   slot      the slot being asked
 *   attempts  no-match answers to the current question
 *   failures  failed on_complete tools (auth_failed)
 *   pending   the tool being waited for: "complete" or "intent:<name>"
 *   resume    the stage to go back to after an intent's tool
 *   complete  "1" once the on_complete tool has succeeded
 *   need      a handoff intent heard before that, in an agent that
 *             verifies the caller (auth first): taken as soon as the
 *             check succeeds, instead of the agent's "ask"
 *
 * One field is shared by the agents: "_handoff.said", the caller's words
 * that chose a handoff, from which the next agent takes the typed facts
 * ("a car accident yesterday": fnol's "when") when it is entered.
 *
 * A slot is filled when its field is there and not empty: a failed
 * verification empties the agent's slots to ask them again.  An
 * on_complete tool that succeeded but merged "verified" false ("false",
 * "no", "0") counts as failed.  TRANSFER's target is the escalation's: an
 * agent without one never escalates (its definition is refused when an
 * intent asks for transfer_to_human).
 *
 * Matching, per turn (agents/README.md says the same for agent authors):
 * intents first, scored on their keywords (1 per keyword or phrase found,
 * words compared loosely so "accidents" finds "accident") plus the best of
 * their examples (the share of the example's content words found in the
 * text, counted from 60% and at least two words), the highest score wins,
 * ties to the first listed; while a slot is asked, keywords that are also
 * in that slot's vocabulary or examples do not count ("I have a cough" is
 * the answer to "what is the reason", not the symptoms intent).  Then the
 * slot asked, with its extractor; then the other slots the same words fill
 * (typed slots first: a date anywhere, a number next to a word of the
 * slot's name or question, a yes/no near such a word, digits of the slot's
 * length with such a word; then a free-text slot whose vocabulary the rest
 * of the text uses).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_rtagent_dialog.h"
#include "ngx_http_rtagent_extract.h"


#define VALUE_MAX    1024
#define KEY_MAX      (NGX_HTTP_RTAGENT_AGENT_NAME_MAX + 16)

#define S(s)         ((const char *) (s).data)
#define LOCAL(d)     ((d)->agent->local)

/* said when the caller says "no" to the read-back without a correction */
#define CORRECT_TEXT "What should I change?"

/* a slot's own read-back: "I have <value>. Is that right?" */
#define SLOT_CONFIRM_HEAD "I have "
#define SLOT_CONFIRM_TAIL ". Is that right?"

#define HANDOFF_SAID      "_handoff.said"

/* said when a verifying agent hears a need before the check succeeded */
#define VERIFY_FIRST_TEXT                                                   \
    "I can help with that as soon as I have verified who you are."


typedef ngx_http_rtagent_dialog_t        dialog_t;
typedef ngx_http_rtagent_dialog_out_t    out_t;
typedef ngx_http_rtagent_slot_def_t      slot_t;
typedef ngx_http_rtagent_intent_def_t    intent_t;
typedef ngx_http_rtagent_words_t         words_t;


static int advance(dialog_t *d, out_t *out);
static int reask(dialog_t *d, out_t *out, const char *stage);
static int free_text(dialog_t *d, words_t *ws, char *v, size_t len);


/* ---- fields ------------------------------------------------------------ */

static char *
dup(dialog_t *d, const char *s, size_t len)
{
    char  *p;

    p = d->alloc(d->alloc_ctx, len + 1);
    if (p == NULL) {
        return NULL;
    }

    memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


const char *
ngx_http_rtagent_dialog_get(ngx_http_rtagent_dialog_fields_t *f,
    const char *name)
{
    size_t  i;

    if (f == NULL) {
        return NULL;
    }

    for (i = 0; i < f->nelts; i++) {
        if (strcmp(f->elts[i].name, name) == 0) {
            return f->elts[i].value;
        }
    }

    return NULL;
}


int
ngx_http_rtagent_dialog_set(ngx_http_rtagent_dialog_t *d, const char *name,
    const char *value)
{
    char                              *v, *n;
    size_t                             i, nalloc;
    ngx_http_rtagent_dialog_field_t   *elts;
    ngx_http_rtagent_dialog_fields_t  *f;

    f = d->fields;

    v = dup(d, value, strlen(value));
    if (v == NULL) {
        return -1;
    }

    for (i = 0; i < f->nelts; i++) {
        if (strcmp(f->elts[i].name, name) == 0) {
            f->elts[i].value = v;
            return 0;
        }
    }

    if (f->nelts == f->nalloc) {
        nalloc = f->nalloc ? f->nalloc * 2 : 16;

        elts = d->alloc(d->alloc_ctx, nalloc * sizeof(*elts));
        if (elts == NULL) {
            return -1;
        }

        if (f->nelts) {
            memcpy(elts, f->elts, f->nelts * sizeof(*elts));
        }

        f->elts = elts;
        f->nalloc = nalloc;
    }

    n = dup(d, name, strlen(name));
    if (n == NULL) {
        return -1;
    }

    f->elts[f->nelts].name = n;
    f->elts[f->nelts].value = v;
    f->nelts++;

    return 0;
}


/* the engine's own fields: "_<agent>.<name>" */

static void
key(dialog_t *d, const char *name, char *buf)
{
    snprintf(buf, KEY_MAX, "_%s.%s", S(d->agent->name), name);
}


static const char *
bk_get(dialog_t *d, const char *name)
{
    char         k[KEY_MAX];
    const char  *v;

    key(d, name, k);
    v = ngx_http_rtagent_dialog_get(d->fields, k);

    return v ? v : "";
}


static int
bk_set(dialog_t *d, const char *name, const char *value)
{
    char  k[KEY_MAX];

    key(d, name, k);

    return ngx_http_rtagent_dialog_set(d, k, value);
}


static long
bk_num(dialog_t *d, const char *name)
{
    return strtol(bk_get(d, name), NULL, 10);
}


static int
bk_set_num(dialog_t *d, const char *name, long n)
{
    char  buf[32];

    snprintf(buf, sizeof(buf), "%ld", n);

    return bk_set(d, name, buf);
}


static int
filled(dialog_t *d, const slot_t *s)
{
    const char  *v;

    v = ngx_http_rtagent_dialog_get(d->fields, S(s->name));

    return v != NULL && v[0] != '\0';
}


static const slot_t *
slot_by_name(dialog_t *d, const char *name)
{
    size_t  i;

    for (i = 0; i < LOCAL(d)->nslots; i++) {
        if (strcmp(S(LOCAL(d)->slots[i].name), name) == 0) {
            return &LOCAL(d)->slots[i];
        }
    }

    return NULL;
}


/* ---- actions and templates --------------------------------------------- */

static void
push(out_t *out, ngx_http_rtagent_dialog_act_e kind, const char *arg,
    const char *text)
{
    if (out->n == NGX_HTTP_RTAGENT_DIALOG_ACTIONS_MAX) {
        return;
    }

    out->act[out->n].kind = kind;
    out->act[out->n].arg = arg;
    out->act[out->n].text = text;
    out->n++;
}


static const char *const  month_names[] = {
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December"
};


/*
 * A field's value as it is read out: a date slot's ISO date as "March 3"
 * (with the year when it is not today's), anything else as it is.
 */
static const char *
spoken(dialog_t *d, const char *name, const char *v, char *buf, size_t len)
{
    long           m, day;
    const slot_t  *s;

    s = slot_by_name(d, name);

    if (s == NULL || s->type != NGX_HTTP_RTAGENT_SLOT_DATE
        || strlen(v) != 10 || v[4] != '-' || v[7] != '-')
    {
        return v;
    }

    m = strtol(v + 5, NULL, 10);
    day = strtol(v + 8, NULL, 10);

    if (m < 1 || m > 12 || day < 1 || day > 31) {
        return v;
    }

    if (d->today && strncmp(d->today, v, 4) == 0) {
        snprintf(buf, len, "%s %ld", month_names[m - 1], day);

    } else {
        snprintf(buf, len, "%s %ld, %.4s", month_names[m - 1], day, v);
    }

    return buf;
}


static const char *const  prepositions[] = {
    "at", "on", "in", "near", "by", "behind", "outside", "inside", "off",
    "under", NULL
};


/* the length of a preposition word of the n bytes at r that ends them,
 * with its space ("at "), if v starts with one too ("on highway ten") */
static size_t
preposition_before(const char *r, size_t n, const char *v)
{
    size_t  i, k;

    for (i = 0; prepositions[i]; i++) {
        k = strlen(prepositions[i]);

        if (strncmp(v, prepositions[i], k) == 0 && v[k] == ' ') {
            break;
        }
    }

    if (prepositions[i] == NULL) {
        return 0;
    }

    for (i = 0; prepositions[i]; i++) {
        k = strlen(prepositions[i]);

        if (n >= k + 1 && r[n - 1] == ' '
            && strncmp(r + n - 1 - k, prepositions[i], k) == 0
            && (n == k + 1 || r[n - k - 2] == ' '))
        {
            return k + 1;
        }
    }

    return 0;
}


/* t with its "{field}" placeholders filled (an unknown field: nothing) */
static const char *
fill(dialog_t *d, const char *t)
{
    int          pass;
    char        *r, name[NGX_HTTP_RTAGENT_AGENT_NAME_MAX + 1], buf[64];
    size_t       n, k;
    const char  *p, *e, *v;

    if (t == NULL) {
        return NULL;
    }

    r = NULL;
    n = 0;

    for (pass = 0; pass < 2; pass++) {
        n = 0;

        for (p = t; *p; p++) {
            if (*p == '{' && (e = strchr(p + 1, '}')) != NULL
                && (size_t) (e - p - 1) <= NGX_HTTP_RTAGENT_AGENT_NAME_MAX
                && e > p + 1)
            {
                k = e - p - 1;
                memcpy(name, p + 1, k);
                name[k] = '\0';

                v = ngx_http_rtagent_dialog_get(d->fields, name);
                if (v) {
                    v = spoken(d, name, v, buf, sizeof(buf));
                    k = strlen(v);

                    if (pass) {
                        /* "at {where}" with "on highway ten": "on ..." */
                        n -= preposition_before(r, n, v);
                        memcpy(r + n, v, k);
                    }

                    n += k;
                }

                p = e;
                continue;
            }

            if (pass) {
                r[n] = *p;
            }

            n++;
        }

        if (pass == 0) {
            r = d->alloc(d->alloc_ctx, n + 1);
            if (r == NULL) {
                return NULL;
            }
        }
    }

    r[n] = '\0';

    return r;
}


static int
say(dialog_t *d, out_t *out, const ngx_http_rtagent_agent_str_t *t)
{
    const char  *s;

    if (t->data == NULL) {
        return 0;
    }

    s = fill(d, S(*t));
    if (s == NULL) {
        return -1;
    }

    push(out, NGX_HTTP_RTAGENT_DIALOG_SAY, s, NULL);

    return 0;
}


/* "<agent>.<what>" */
static const char *
search(dialog_t *d, const char *what)
{
    char  buf[2 * NGX_HTTP_RTAGENT_AGENT_NAME_MAX + 2];

    snprintf(buf, sizeof(buf), "%s.%s", S(d->agent->name), what);

    return dup(d, buf, strlen(buf));
}


static int
expect(dialog_t *d, out_t *out, const char *stage)
{
    const char  *e;

    if (strcmp(stage, "slot") == 0) {
        e = search(d, bk_get(d, "slot"));

    } else if (strcmp(stage, "confirm") == 0
               || strcmp(stage, "slot_confirm") == 0)
    {
        e = search(d, "confirm");

    } else if ((strcmp(stage, "ask") == 0 || strcmp(stage, "done") == 0)
               && LOCAL(d)->nintents)
    {
        e = search(d, "intents");

    } else {
        out->expect = NULL;
        return 0;
    }

    if (e == NULL) {
        return -1;
    }

    out->expect = e;

    return 0;
}


static int
stage_set(dialog_t *d, out_t *out, const char *stage)
{
    if (bk_set(d, "stage", stage) != 0) {
        return -1;
    }

    return expect(d, out, stage);
}


/* ---- the agent's script ------------------------------------------------ */

static int
escalate(dialog_t *d, out_t *out, int message)
{
    const ngx_http_rtagent_escalation_def_t  *esc;

    esc = &d->agent->escalation;

    if (message && say(d, out, &esc->message) != 0) {
        return -1;
    }

    push(out, NGX_HTTP_RTAGENT_DIALOG_TRANSFER, S(esc->target), NULL);
    out->expect = NULL;

    return bk_set(d, "stage", "done");
}


static int
ask_slot(dialog_t *d, out_t *out, const slot_t *s)
{
    if (bk_set(d, "slot", S(s->name)) != 0
        || bk_set(d, "attempts", "0") != 0
        || say(d, out, &s->question) != 0)
    {
        return -1;
    }

    return stage_set(d, out, "slot");
}


static int
after_complete(dialog_t *d, out_t *out)
{
    if (LOCAL(d)->ask.data) {
        if (say(d, out, &LOCAL(d)->ask) != 0) {
            return -1;
        }

        return stage_set(d, out, "ask");
    }

    return stage_set(d, out, "done");
}


static int
complete(dialog_t *d, out_t *out)
{
    const ngx_http_rtagent_complete_def_t  *c;

    c = &LOCAL(d)->on_complete;

    if (c->tool.data) {
        if (bk_set(d, "pending", "complete") != 0
            || stage_set(d, out, "tool") != 0)
        {
            return -1;
        }

        push(out, NGX_HTTP_RTAGENT_DIALOG_TOOL, S(c->tool), NULL);

        return 0;
    }

    if (say(d, out, &c->say) != 0) {
        return -1;
    }

    return after_complete(d, out);
}


static int
read_back(dialog_t *d, out_t *out)
{
    if (bk_set(d, "attempts", "0") != 0
        || say(d, out, &LOCAL(d)->confirm) != 0)
    {
        return -1;
    }

    return stage_set(d, out, "confirm");
}


/* "I have 4 2 7 1. Is that right?": digits one by one, dates spoken */
static int
slot_read_back(dialog_t *d, out_t *out, const slot_t *s)
{
    char         buf[64], *r, *p;
    size_t       n, i;
    const char  *v;

    v = ngx_http_rtagent_dialog_get(d->fields, S(s->name));
    if (v == NULL) {
        v = "";
    }

    v = spoken(d, S(s->name), v, buf, sizeof(buf));
    n = strlen(v);

    r = d->alloc(d->alloc_ctx, sizeof(SLOT_CONFIRM_HEAD) + 2 * n
                               + sizeof(SLOT_CONFIRM_TAIL));
    if (r == NULL) {
        return -1;
    }

    p = r;
    memcpy(p, SLOT_CONFIRM_HEAD, sizeof(SLOT_CONFIRM_HEAD) - 1);
    p += sizeof(SLOT_CONFIRM_HEAD) - 1;

    for (i = 0; i < n; i++) {
        if (i && s->type == NGX_HTTP_RTAGENT_SLOT_DIGITS) {
            *p++ = ' ';
        }

        *p++ = v[i];
    }

    memcpy(p, SLOT_CONFIRM_TAIL, sizeof(SLOT_CONFIRM_TAIL));

    push(out, NGX_HTTP_RTAGENT_DIALOG_SAY, r, NULL);

    return stage_set(d, out, "slot_confirm");
}


/* the first slot not filled, else the read-back, else on_complete */
static int
advance(dialog_t *d, out_t *out)
{
    size_t  i;

    for (i = 0; i < LOCAL(d)->nslots; i++) {
        if (!filled(d, &LOCAL(d)->slots[i])) {
            return ask_slot(d, out, &LOCAL(d)->slots[i]);
        }
    }

    if (LOCAL(d)->nslots && LOCAL(d)->confirm.data) {
        return read_back(d, out);
    }

    return complete(d, out);
}


/* the current question again */
static int
reask(dialog_t *d, out_t *out, const char *stage)
{
    const slot_t  *s;

    if (strcmp(stage, "slot") == 0) {
        s = slot_by_name(d, bk_get(d, "slot"));
        if (s && say(d, out, &s->question) != 0) {
            return -1;
        }

    } else if (strcmp(stage, "confirm") == 0) {
        if (say(d, out, &LOCAL(d)->confirm) != 0) {
            return -1;
        }

    } else if (strcmp(stage, "slot_confirm") == 0) {
        s = slot_by_name(d, bk_get(d, "slot"));
        if (s) {
            return slot_read_back(d, out, s);
        }

    } else if (strcmp(stage, "correct") == 0) {
        push(out, NGX_HTTP_RTAGENT_DIALOG_SAY, CORRECT_TEXT, NULL);

    } else if (strcmp(stage, "ask") == 0) {
        if (say(d, out, &LOCAL(d)->ask) != 0) {
            return -1;
        }
    }

    return expect(d, out, stage);
}


static int
no_match(dialog_t *d, out_t *out, const char *stage)
{
    long                                      attempts;
    const slot_t                             *s;
    const ngx_http_rtagent_escalation_def_t  *esc;

    attempts = bk_num(d, "attempts") + 1;

    if (bk_set_num(d, "attempts", attempts) != 0) {
        return -1;
    }

    esc = &d->agent->escalation;

    if (attempts >= LOCAL(d)->max_attempts && esc->target.data
        && (esc->when & NGX_HTTP_RTAGENT_ESC_NO_MATCH))
    {
        return escalate(d, out, 1);
    }

    s = strcmp(stage, "slot") == 0 ? slot_by_name(d, bk_get(d, "slot"))
                                   : NULL;

    /* a slot's own re-prompt is a question; the agent's is followed by
     * the question again (the open question has the re-prompt alone) */
    if (s && s->reprompt.data) {
        if (say(d, out, &s->reprompt) != 0) {
            return -1;
        }

        return expect(d, out, stage);
    }

    if (LOCAL(d)->reprompt.data) {
        if (say(d, out, &LOCAL(d)->reprompt) != 0) {
            return -1;
        }

        if (strcmp(stage, "ask") == 0 || strcmp(stage, "done") == 0) {
            return expect(d, out, stage);
        }
    }

    return reask(d, out, stage);
}


/* ---- slots ------------------------------------------------------------- */

/* 1 if phrase occurs in text (both as written in the agent file) */
static int
phrase_in(const char *phrase, size_t plen, const char *text, size_t tlen)
{
    words_t  ws;

    ngx_http_rtagent_words(&ws, (const unsigned char *) text, tlen);

    return ngx_http_rtagent_words_find(&ws, 0, phrase, plen) >= 0;
}


static int
examples_have(const slot_t *s, const char *word)
{
    size_t  i;

    for (i = 0; i < s->examples.nelts; i++) {
        if (phrase_in(word, strlen(word), S(s->examples.elts[i]),
                      s->examples.elts[i].len))
        {
            return 1;
        }
    }

    return 0;
}


/* a date slot looks ahead when its examples do ("tomorrow", "next ...") */
static ngx_http_rtagent_date_dir_e
date_dir(const slot_t *s)
{
    return (examples_have(s, "tomorrow") || examples_have(s, "next"))
           ? NGX_HTTP_RTAGENT_DATE_FUTURE : NGX_HTTP_RTAGENT_DATE_PAST;
}


static int
extract(dialog_t *d, const slot_t *s, words_t *ws, char *v, size_t len)
{
    size_t        i, n;
    const char   *choice[64];
    size_t        clen[64];

    switch (s->type) {

    case NGX_HTTP_RTAGENT_SLOT_DIGITS:
        return ngx_http_rtagent_extract_digits(ws, s->length, v, len);

    case NGX_HTTP_RTAGENT_SLOT_NUMBER:
        return ngx_http_rtagent_extract_number(ws, s->min, s->max, v, len);

    case NGX_HTTP_RTAGENT_SLOT_DATE:
        if (ngx_http_rtagent_extract_date(ws, d->today, date_dir(s), v, len)
            == 0)
        {
            return 0;
        }

        /* "no deadline": a date slot whose examples say no takes "none" */
        if (examples_have(s, "no")
            && ngx_http_rtagent_extract_yes_no(ws, v, len) == 0
            && strcmp(v, "no") == 0)
        {
            snprintf(v, len, "none");
            return 0;
        }

        return -1;

    case NGX_HTTP_RTAGENT_SLOT_TIME:
        return ngx_http_rtagent_extract_time(ws, v, len);

    case NGX_HTTP_RTAGENT_SLOT_YES_NO:
        return ngx_http_rtagent_extract_yes_no(ws, v, len);

    case NGX_HTTP_RTAGENT_SLOT_CHOICE:
        n = s->vocabulary.nelts < 64 ? s->vocabulary.nelts : 64;

        for (i = 0; i < n; i++) {
            choice[i] = S(s->vocabulary.elts[i]);
            clen[i] = s->vocabulary.elts[i].len;
        }

        return ngx_http_rtagent_extract_choice(ws, choice, clen, n, v, len);

    default: /* NGX_HTTP_RTAGENT_SLOT_FREE_TEXT */
        return free_text(d, ws, v, len);
    }
}


/* free text, redacted when the dialogue is asked to (d->redact) */
static int
free_text(dialog_t *d, words_t *ws, char *v, size_t len)
{
    size_t         n;
    unsigned char  buf[2 * VALUE_MAX + 16];

    if (ngx_http_rtagent_extract_free_text(ws, v, len) != 0) {
        return -1;
    }

    if (d->redact == NULL) {
        return 0;
    }

    n = d->redact((const unsigned char *) v, strlen(v), buf, sizeof(buf),
                  NULL);

    /* a label at most doubles what it replaces; cut to what v holds */
    n = n < sizeof(buf) ? n : sizeof(buf) - 1;
    n = n < len ? n : len - 1;

    memcpy(v, buf, n);
    v[n] = '\0';

    return 0;
}


static const char *const  hint_stop[] = {
    "what", "when", "where", "which", "that", "this", "there", "their",
    "they", "with", "your", "yours", "have", "were", "would", "could",
    "please", "tell", "thank", "thanks", "about", "like", "want", "just",
    "then", "than", "from", "into", "time", "many", "much", "does",
    "anyone", "someone", "briefly", "happen", "happened", "including",
    "kind", "best", "call", "back", "suit", "once", "again", "digit",
    "digits", "number", "policy", "eight", "five", "seven", "nine", "three",
    "four", "after", "before", NULL
};


/* 1 if word is a hint of slot s: a word of its name or of its question */
static int
hint_word(const slot_t *s, const char *w, size_t wlen)
{
    size_t       n, i;
    const char  *p, *e, *q;

    for (i = 0; hint_stop[i]; i++) {
        if (strcmp(hint_stop[i], w) == 0) {
            return 0;
        }
    }

    for (i = 0; i < 2; i++) {
        p = i ? S(s->question) : S(s->name);
        e = p + (i ? s->question.len : s->name.len);

        while (p < e) {
            while (p < e && !((*p >= 'a' && *p <= 'z')
                              || (*p >= 'A' && *p <= 'Z')))
            {
                p++;
            }

            q = p;

            while (p < e && ((*p >= 'a' && *p <= 'z')
                             || (*p >= 'A' && *p <= 'Z') || *p == '\''))
            {
                p++;
            }

            n = p - q;

            /* the name counts whole ("zip"), the question's short words
             * not */
            if ((i == 0 || (n >= 4 && wlen >= 4))
                && ngx_http_rtagent_word_like(q, n, w, wlen))
            {
                return 1;
            }
        }
    }

    return 0;
}


/* the first unused word that hints at slot s at or after from, or -1 */
static int
hint_at(const slot_t *s, const words_t *ws, size_t from)
{
    size_t  i;

    for (i = from; i < ws->n; i++) {
        if (!ws->word[i].used && hint_word(s, ws->word[i].w, ws->word[i].len))
        {
            return (int) i;
        }
    }

    return -1;
}


/*
 * A volunteered value of the typed slot s in ws (see the comment at the
 * top): 0 with v, or -1.  ws is changed only on a match.
 */
static int
volunteer_typed(dialog_t *d, const slot_t *s, words_t *ws, char *v,
    size_t len)
{
    int       h;
    size_t    i, first, last, from;
    words_t  *t, tmp;

    t = &tmp;

    switch (s->type) {

    case NGX_HTTP_RTAGENT_SLOT_DATE:
    case NGX_HTTP_RTAGENT_SLOT_CHOICE:
        return extract(d, s, ws, v, len);

    case NGX_HTTP_RTAGENT_SLOT_DIGITS:
    case NGX_HTTP_RTAGENT_SLOT_TIME:
        if (hint_at(s, ws, 0) < 0) {
            return -1;
        }

        return extract(d, s, ws, v, len);

    case NGX_HTTP_RTAGENT_SLOT_NUMBER:
        /* "two vehicles": the number next to a hint */
        memcpy(t, ws, sizeof(words_t));

        if (extract(d, s, t, v, len) != 0) {
            return -1;
        }

        first = ws->n;
        last = 0;

        for (i = 0; i < ws->n; i++) {
            if (t->word[i].used && !ws->word[i].used) {
                if (first == ws->n) {
                    first = i;
                }

                last = i;
            }
        }

        if (first == ws->n
            || !((last + 1 < ws->n
                  && hint_word(s, ws->word[last + 1].w,
                               ws->word[last + 1].len))
                 || (first > 0
                     && hint_word(s, ws->word[first - 1].w,
                                  ws->word[first - 1].len))))
        {
            return -1;
        }

        memcpy(ws, t, sizeof(words_t));
        return 0;

    case NGX_HTTP_RTAGENT_SLOT_YES_NO:
        /* "nobody was hurt": a hint and the words just before it */
        h = hint_at(s, ws, 0);
        if (h < 0) {
            return -1;
        }

        from = h >= 4 ? (size_t) h - 4 : 0;

        memcpy(t, ws, sizeof(words_t));

        for (i = 0; i < t->n; i++) {
            if (i < from || i > (size_t) h) {
                t->word[i].used = 1;
            }
        }

        if (ngx_http_rtagent_extract_yes_no(t, v, len) != 0) {
            snprintf(v, len, "yes");   /* "my wife was hurt" */
        }

        ngx_http_rtagent_words_use(ws, from, h + 1);
        return 0;

    default:
        return -1;
    }
}


/*
 * Fills the slots other than skip that the unused words of ws answer:
 * typed slots, then (free) one free-text slot whose vocabulary they use.
 * Only empty slots, unless overwrite (a correction).  How many it filled,
 * or -1 when out of memory.
 */
static int
volunteer(dialog_t *d, words_t *ws, const slot_t *skip, int overwrite,
    int free)
{
    int            n;
    char           v[VALUE_MAX];
    size_t         i, k;
    const slot_t  *s;

    n = 0;

    for (i = 0; i < LOCAL(d)->nslots; i++) {
        s = &LOCAL(d)->slots[i];

        if (s == skip || (!overwrite && filled(d, s))
            || s->type == NGX_HTTP_RTAGENT_SLOT_FREE_TEXT)
        {
            continue;
        }

        if (volunteer_typed(d, s, ws, v, sizeof(v)) == 0) {
            if (ngx_http_rtagent_dialog_set(d, S(s->name), v) != 0) {
                return -1;
            }

            n++;
        }
    }

    if (!free) {
        return n;
    }

    for (i = 0; i < LOCAL(d)->nslots; i++) {
        s = &LOCAL(d)->slots[i];

        if (s == skip || (!overwrite && filled(d, s))
            || s->type != NGX_HTTP_RTAGENT_SLOT_FREE_TEXT)
        {
            continue;
        }

        for (k = 0; k < s->vocabulary.nelts; k++) {
            if (ngx_http_rtagent_words_find(ws, 0, S(s->vocabulary.elts[k]),
                                            s->vocabulary.elts[k].len)
                >= 0)
            {
                break;
            }
        }

        if (k == s->vocabulary.nelts) {
            continue;
        }

        if (free_text(d, ws, v, sizeof(v)) == 0) {
            if (ngx_http_rtagent_dialog_set(d, S(s->name), v) != 0) {
                return -1;
            }

            n++;
        }

        break;
    }

    return n;
}


/* ---- intents ----------------------------------------------------------- */

static const char *const  stop_words[] = {
    "i", "i'm", "im", "me", "my", "a", "an", "the", "to", "of", "for", "in",
    "on", "at", "and", "or", "is", "am", "are", "was", "be", "been", "it",
    "it's", "this", "that", "want", "need", "would", "like", "please",
    "have", "has", "had", "with", "about", "can", "could", "do", "you",
    "your", "some", "just", "so", "get", "got", "let", "um", "uh", "there",
    NULL
};


static int
stop_word(const char *w, size_t len)
{
    size_t  i;

    for (i = 0; stop_words[i]; i++) {
        if (strlen(stop_words[i]) == len
            && strncmp(stop_words[i], w, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* 1 if phrase belongs to slot s's expected answers */
static int
slot_says(const slot_t *s, const char *phrase, size_t len)
{
    size_t  i;

    for (i = 0; i < s->vocabulary.nelts; i++) {
        if (phrase_in(phrase, len, S(s->vocabulary.elts[i]),
                      s->vocabulary.elts[i].len))
        {
            return 1;
        }
    }

    for (i = 0; i < s->examples.nelts; i++) {
        if (phrase_in(phrase, len, S(s->examples.elts[i]),
                      s->examples.elts[i].len))
        {
            return 1;
        }
    }

    return 0;
}


/* an example's score, 0 to 100: the share of its content words found */
static int
example_score(const words_t *ws, const char *ex, size_t len)
{
    size_t   i, c, m;
    words_t  e;

    ngx_http_rtagent_words(&e, (const unsigned char *) ex, len);

    c = 0;
    m = 0;

    for (i = 0; i < e.n; i++) {
        if (stop_word(e.word[i].w, e.word[i].len)) {
            continue;
        }

        c++;

        if (ngx_http_rtagent_words_find(ws, 0, e.word[i].w, e.word[i].len)
            >= 0)
        {
            m++;
        }
    }

    if (c == 0 || m * 10 < c * 6 || m < (c < 2 ? c : 2)) {
        return 0;
    }

    return (int) (m * 100 / c);
}


static const intent_t *
match_intent(dialog_t *d, const words_t *ws, const slot_t *asked)
{
    int              score, best_score, s;
    size_t           i, k;
    const intent_t  *it, *best;

    best = NULL;
    best_score = 0;

    for (i = 0; i < LOCAL(d)->nintents; i++) {
        it = &LOCAL(d)->intents[i];

        if (asked && it->next.data && strcmp(S(it->next), S(asked->name)) == 0)
        {
            continue;
        }

        score = 0;

        for (k = 0; k < it->keywords.nelts; k++) {
            if (ngx_http_rtagent_words_find(ws, 0, S(it->keywords.elts[k]),
                                            it->keywords.elts[k].len)
                < 0)
            {
                continue;
            }

            if (asked && slot_says(asked, S(it->keywords.elts[k]),
                                   it->keywords.elts[k].len))
            {
                continue;
            }

            score += 100 + (strchr(S(it->keywords.elts[k]), ' ') ? 50 : 0);
        }

        s = 0;

        for (k = 0; k < it->examples.nelts; k++) {
            int  e = example_score(ws, S(it->examples.elts[k]),
                                   it->examples.elts[k].len);
            if (e > s) {
                s = e;
            }
        }

        score += s;

        if (score > best_score) {
            best_score = score;
            best = it;
        }
    }

    return best;
}


/* "report_claim; policy=42718365; zip=98101" */
static const char *
summary(dialog_t *d, const intent_t *it)
{
    char         buf[VALUE_MAX], *p, *end;
    size_t       i;
    const char  *v;

    p = buf;
    end = buf + sizeof(buf);

    p += snprintf(p, end - p, "%s", S(it->name));

    for (i = 0; i < LOCAL(d)->nslots && p < end; i++) {
        v = ngx_http_rtagent_dialog_get(d->fields, S(LOCAL(d)->slots[i].name));

        if (v && v[0]) {
            p += snprintf(p, end - p, "; %s=%s", S(LOCAL(d)->slots[i].name),
                          v);
        }
    }

    if (p >= end) {
        p = end - 1;
    }

    return dup(d, buf, p - buf);
}


static int
is_tool(const intent_t *it, const char *name)
{
    return it->tool.data && strcmp(S(it->tool), name) == 0;
}


static int
handoff(dialog_t *d, out_t *out, const intent_t *it)
{
    const char  *s;

    s = summary(d, it);

    if (s == NULL || say(d, out, &it->say) != 0) {
        return -1;
    }

    push(out, NGX_HTTP_RTAGENT_DIALOG_HANDOFF, S(it->handoff), s);
    out->expect = NULL;

    return bk_set(d, "stage", "done");
}


/*
 * An agent that verifies the caller (its escalation covers auth_failed and
 * it has an on_complete tool) routes nobody before that tool succeeded.
 */
static int
unverified(dialog_t *d)
{
    return (d->agent->escalation.when & NGX_HTTP_RTAGENT_ESC_AUTH_FAILED)
           && LOCAL(d)->on_complete.tool.data
           && strcmp(bk_get(d, "complete"), "1") != 0;
}


static int
run_intent(dialog_t *d, out_t *out, const intent_t *it, const char *stage,
    const char *text, size_t len)
{
    char           pending[NGX_HTTP_RTAGENT_AGENT_NAME_MAX + 8];
    char           said[VALUE_MAX];
    const slot_t  *next;

    if (bk_set(d, "attempts", "0") != 0) {
        return -1;
    }

    if (it->handoff.data) {
        if (len > VALUE_MAX - 1) {
            len = VALUE_MAX - 1;
        }

        memcpy(said, text, len);
        said[len] = '\0';

        if (ngx_http_rtagent_dialog_set(d, HANDOFF_SAID, said) != 0) {
            return -1;
        }

        if (unverified(d)) {
            /* auth first: the need waits for the check to succeed */
            if (bk_set(d, "need", S(it->name)) != 0) {
                return -1;
            }

            push(out, NGX_HTTP_RTAGENT_DIALOG_SAY, VERIFY_FIRST_TEXT, NULL);

            return reask(d, out, stage);
        }

        return handoff(d, out, it);
    }

    if (is_tool(it, "transfer_to_human")) {
        if (it->say.data) {
            if (say(d, out, &it->say) != 0) {
                return -1;
            }

            return escalate(d, out, 0);
        }

        return escalate(d, out, 1);
    }

    if (is_tool(it, "end_call")) {
        if (say(d, out, &it->say) != 0) {
            return -1;
        }

        push(out, NGX_HTTP_RTAGENT_DIALOG_END, NULL, NULL);
        out->expect = NULL;

        return bk_set(d, "stage", "done");
    }

    if (it->tool.data) {
        snprintf(pending, sizeof(pending), "intent:%s", S(it->name));

        if (bk_set(d, "pending", pending) != 0
            || bk_set(d, "resume", stage) != 0
            || stage_set(d, out, "tool") != 0)
        {
            return -1;
        }

        push(out, NGX_HTTP_RTAGENT_DIALOG_TOOL, S(it->tool), NULL);

        return 0;
    }

    if (say(d, out, &it->say) != 0) {
        return -1;
    }

    if (it->next.data && (next = slot_by_name(d, S(it->next))) != NULL) {
        return ask_slot(d, out, next);
    }

    return reask(d, out, stage);
}


/* ---- the interface ----------------------------------------------------- */

int
ngx_http_rtagent_dialog_enter(ngx_http_rtagent_dialog_t *d,
    ngx_http_rtagent_dialog_out_t *out)
{
    words_t                       ws;
    const char                   *said;
    ngx_http_rtagent_agent_str_t  g;

    out->n = 0;
    out->expect = NULL;

    if (bk_set(d, "attempts", "0") != 0 || bk_set(d, "failures", "0") != 0
        || bk_set(d, "pending", "") != 0)
    {
        return -1;
    }

    /* the facts in the words that brought the caller here */
    said = ngx_http_rtagent_dialog_get(d->fields, HANDOFF_SAID);

    if (said && said[0]) {
        ngx_http_rtagent_words(&ws, (const unsigned char *) said,
                               strlen(said));

        if (volunteer(d, &ws, NULL, 0, 0) < 0
            || ngx_http_rtagent_dialog_set(d, HANDOFF_SAID, "") != 0)
        {
            return -1;
        }
    }

    g = d->agent->greeting;

    if (say(d, out, &g) != 0) {
        return -1;
    }

    return advance(d, out);
}


/* an answer while a slot is asked */
static int
answer_slot(dialog_t *d, out_t *out, words_t *ws, const char *text,
    size_t len)
{
    int            n, got;
    char           v[VALUE_MAX];
    words_t        all;
    const slot_t  *s;

    s = slot_by_name(d, bk_get(d, "slot"));
    if (s == NULL) {
        return advance(d, out);
    }

    if (s->type == NGX_HTTP_RTAGENT_SLOT_FREE_TEXT) {
        /* the other facts in it first, the rest is the answer */
        n = volunteer(d, ws, s, 0, 0);
        if (n < 0) {
            return -1;
        }

        if (free_text(d, ws, v, sizeof(v)) != 0) {
            ngx_http_rtagent_words(&all, (const unsigned char *) text, len);

            if (free_text(d, &all, v, sizeof(v)) != 0) {
                return no_match(d, out, "slot");
            }
        }

        if (ngx_http_rtagent_dialog_set(d, S(s->name), v) != 0) {
            return -1;
        }

        return s->confirm ? slot_read_back(d, out, s) : advance(d, out);
    }

    got = extract(d, s, ws, v, sizeof(v)) == 0;

    if (got && ngx_http_rtagent_dialog_set(d, S(s->name), v) != 0) {
        return -1;
    }

    n = volunteer(d, ws, s, 0, 1);
    if (n < 0) {
        return -1;
    }

    if (!got && n == 0) {
        return no_match(d, out, "slot");
    }

    if (got && s->confirm) {
        return slot_read_back(d, out, s);
    }

    return advance(d, out);
}


/* the answer to a slot's own read-back: yes, no, or no and the value */
static int
answer_slot_confirm(dialog_t *d, out_t *out, words_t *ws)
{
    char           v[VALUE_MAX];
    const slot_t  *s;

    s = slot_by_name(d, bk_get(d, "slot"));
    if (s == NULL) {
        return advance(d, out);
    }

    if (ngx_http_rtagent_extract_yes_no(ws, v, sizeof(v)) != 0) {
        return no_match(d, out, "slot_confirm");
    }

    if (strcmp(v, "yes") == 0) {
        return advance(d, out);
    }

    /* "no, it is 4 2 7 1 ...": read the new value back */
    if (s->type != NGX_HTTP_RTAGENT_SLOT_FREE_TEXT
        && extract(d, s, ws, v, sizeof(v)) == 0)
    {
        if (ngx_http_rtagent_dialog_set(d, S(s->name), v) != 0) {
            return -1;
        }

        return slot_read_back(d, out, s);
    }

    if (ngx_http_rtagent_dialog_set(d, S(s->name), "") != 0) {
        return -1;
    }

    return ask_slot(d, out, s);
}


/* 1 if the words name slot s: its name ("where"), "date" for a date */
static int
names_slot(const slot_t *s, const words_t *ws)
{
    if (ngx_http_rtagent_words_find(ws, 0, S(s->name), s->name.len) >= 0) {
        return 1;
    }

    if (s->type == NGX_HTTP_RTAGENT_SLOT_DATE
        && (ngx_http_rtagent_words_find(ws, 0, "date", 4) >= 0
            || ngx_http_rtagent_words_find(ws, 0, "day", 3) >= 0))
    {
        return 1;
    }

    return s->type == NGX_HTTP_RTAGENT_SLOT_TIME
           && ngx_http_rtagent_words_find(ws, 0, "time", 4) >= 0;
}


/* the read-back's answer, or a correction */
static int
answer_confirm(dialog_t *d, out_t *out, words_t *ws, const char *stage)
{
    int            n, yes;
    char           v[16];
    size_t         i;
    const slot_t  *s;

    yes = -1;

    if (ngx_http_rtagent_extract_yes_no(ws, v, sizeof(v)) == 0) {
        yes = strcmp(v, "yes") == 0;
    }

    if (yes == 1) {
        return complete(d, out);
    }

    /* "no, it was two vehicles" */
    n = volunteer(d, ws, NULL, 1, 1);
    if (n < 0) {
        return -1;
    }

    if (n > 0) {
        return read_back(d, out);
    }

    if (strcmp(stage, "correct") == 0) {
        /* "the date": ask that slot again */
        for (i = 0; i < LOCAL(d)->nslots; i++) {
            s = &LOCAL(d)->slots[i];

            if (hint_at(s, ws, 0) >= 0 || names_slot(s, ws)) {
                if (ngx_http_rtagent_dialog_set(d, S(s->name), "") != 0) {
                    return -1;
                }

                return ask_slot(d, out, s);
            }
        }
    }

    if (yes == 0) {
        if (bk_set(d, "attempts", "0") != 0) {
            return -1;
        }

        push(out, NGX_HTTP_RTAGENT_DIALOG_SAY, CORRECT_TEXT, NULL);

        return stage_set(d, out, "correct");
    }

    return no_match(d, out, stage);
}


int
ngx_http_rtagent_dialog_turn(ngx_http_rtagent_dialog_t *d,
    const unsigned char *text, size_t len,
    ngx_http_rtagent_dialog_out_t *out)
{
    char             stage[16];
    words_t          ws;
    const slot_t    *asked;
    const intent_t  *it;

    out->n = 0;
    out->expect = NULL;

    snprintf(stage, sizeof(stage), "%s", bk_get(d, "stage"));

    if (stage[0] == '\0') {
        /* fields from before this agent kept any state: start asking */
        if (advance(d, out) != 0) {
            return -1;
        }

        out->n = 0;
        snprintf(stage, sizeof(stage), "%s", bk_get(d, "stage"));
    }

    if (strcmp(stage, "tool") == 0) {
        return expect(d, out, stage);   /* a tool is running: wait */
    }

    ngx_http_rtagent_words(&ws, text, len);

    if (ws.n == 0) {
        return no_match(d, out, stage);
    }

    asked = strcmp(stage, "slot") == 0 ? slot_by_name(d, bk_get(d, "slot"))
                                       : NULL;

    it = match_intent(d, &ws, asked);
    if (it) {
        return run_intent(d, out, it, stage, (const char *) text, len);
    }

    if (strcmp(stage, "slot") == 0) {
        return answer_slot(d, out, &ws, (const char *) text, len);
    }

    if (strcmp(stage, "slot_confirm") == 0) {
        return answer_slot_confirm(d, out, &ws);
    }

    if (strcmp(stage, "confirm") == 0 || strcmp(stage, "correct") == 0) {
        return answer_confirm(d, out, &ws, stage);
    }

    return no_match(d, out, stage);
}


static int
verified_false(dialog_t *d)
{
    const char  *v;

    v = ngx_http_rtagent_dialog_get(d->fields, "verified");

    return v && (strcmp(v, "false") == 0 || strcmp(v, "no") == 0
                 || strcmp(v, "0") == 0);
}


int
ngx_http_rtagent_dialog_tool_done(ngx_http_rtagent_dialog_t *d, int ok,
    ngx_http_rtagent_dialog_out_t *out)
{
    char                                      pending[80], resume[16];
    long                                      failures;
    size_t                                    i;
    const intent_t                           *it;
    const ngx_http_rtagent_local_def_t       *l;
    const ngx_http_rtagent_escalation_def_t  *esc;

    out->n = 0;
    out->expect = NULL;

    l = LOCAL(d);
    esc = &d->agent->escalation;

    snprintf(pending, sizeof(pending), "%s", bk_get(d, "pending"));
    snprintf(resume, sizeof(resume), "%s", bk_get(d, "resume"));

    if (pending[0] == '\0') {
        /* no tool was asked for (or its result came twice): nothing */
        return expect(d, out, bk_get(d, "stage"));
    }

    if (bk_set(d, "pending", "") != 0) {
        return -1;
    }

    if (strncmp(pending, "intent:", 7) == 0) {
        it = NULL;

        for (i = 0; i < l->nintents; i++) {
            if (strcmp(S(l->intents[i].name), pending + 7) == 0) {
                it = &l->intents[i];
            }
        }

        if (resume[0] == '\0' || strcmp(resume, "tool") == 0) {
            snprintf(resume, sizeof(resume), "done");
        }

        if (bk_set(d, "stage", resume) != 0) {
            return -1;
        }

        if (!ok) {
            if (esc->target.data
                && (esc->when & NGX_HTTP_RTAGENT_ESC_TOOL_FAILED))
            {
                return escalate(d, out, 1);
            }

            return reask(d, out, resume);
        }

        if (it && say(d, out, &it->say) != 0) {
            return -1;
        }

        if (strcmp(resume, "slot") == 0 || strcmp(resume, "confirm") == 0) {
            return reask(d, out, resume);
        }

        return expect(d, out, resume);
    }

    if (ok && !verified_false(d)) {
        if (bk_set(d, "failures", "0") != 0
            || bk_set(d, "complete", "1") != 0
            || say(d, out, &l->on_complete.say) != 0)
        {
            return -1;
        }

        snprintf(pending, sizeof(pending), "%s", bk_get(d, "need"));

        for (i = 0; pending[0] && i < l->nintents; i++) {
            if (strcmp(S(l->intents[i].name), pending) == 0) {
                /* the need heard before the check: route it now */
                if (bk_set(d, "need", "") != 0) {
                    return -1;
                }

                return handoff(d, out, &l->intents[i]);
            }
        }

        return after_complete(d, out);
    }

    if (esc->when & NGX_HTTP_RTAGENT_ESC_AUTH_FAILED) {
        /* a failed check: ask for everything again, a bounded number of
         * times */
        failures = bk_num(d, "failures") + 1;

        if (bk_set_num(d, "failures", failures) != 0) {
            return -1;
        }

        if (failures >= l->max_attempts && esc->target.data) {
            return escalate(d, out, 1);
        }

        if (say(d, out, &l->on_complete.failure) != 0) {
            return -1;
        }

        for (i = 0; i < l->nslots; i++) {
            if (ngx_http_rtagent_dialog_set(d, S(l->slots[i].name), "") != 0) {
                return -1;
            }
        }

        return advance(d, out);
    }

    if (say(d, out, &l->on_complete.failure) != 0) {
        return -1;
    }

    if (esc->target.data && (esc->when & NGX_HTTP_RTAGENT_ESC_TOOL_FAILED)) {
        return escalate(d, out, 0);
    }

    return after_complete(d, out);
}
