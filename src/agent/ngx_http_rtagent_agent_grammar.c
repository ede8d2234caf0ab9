
/*
 * The searches of an agent's local section: JSGF text written from the
 * slot's type and words, phrase lists handed on as they are (the speech
 * side builds their language model).  Words from the agent file are
 * lowercased and split as the STT's dictionary has them: letters, digits
 * and apostrophes.
 */


#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <agent/ngx_http_rtagent_agent_grammar.h>


typedef struct {
    ngx_http_rtagent_grammar_ctx_t    *ctx;
    const char                        *search;
    char                              *p;
    size_t                             len;
    size_t                             cap;
    int                                failed;
} ngx_http_rtagent_grammar_buf_t;


static const char  *ngx_http_rtagent_grammar_units[] = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
    "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen",
    "sixteen", "seventeen", "eighteen", "nineteen"
};

static const char  *ngx_http_rtagent_grammar_tens[] = {
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
    "eighty", "ninety"
};


/* the JSGF bodies that do not depend on the agent */

#define NGX_HTTP_RTAGENT_GRAMMAR_HEAD  "#JSGF V1.0;\ngrammar rtagent;\n"

#define NGX_HTTP_RTAGENT_GRAMMAR_DIGIT                                       \
    "<d> = zero | oh | one | two | three | four | five | six | seven\n"      \
    "    | eight | nine;\n"

#define NGX_HTTP_RTAGENT_GRAMMAR_YES_NO                                      \
    "<yes> = yes | yeah | yep | yes please | yes it is | yes it was\n"       \
    "    | yes they were | yes someone was | correct | that is correct\n"    \
    "    | that's correct | that's right | right | sure | of course\n"        \
    "    | absolutely | i think so | okay;\n"                                \
    "<no> = no | nope | no one | nobody | no one was hurt\n"                 \
    "    | nobody was hurt | no it isn't | no it is not | no it wasn't\n"     \
    "    | no thanks | no thank you | not really | none | negative\n"        \
    "    | that's wrong | that is wrong | i don't think so;\n"

#define NGX_HTTP_RTAGENT_GRAMMAR_ORDINAL                                     \
    "<ordinal> = first | second | third | fourth | fifth | sixth\n"          \
    "    | seventh | eighth | ninth | tenth | eleventh | twelfth\n"          \
    "    | thirteenth | fourteenth | fifteenth | sixteenth | seventeenth\n"  \
    "    | eighteenth | nineteenth | twentieth | twenty <ordinal1>\n"        \
    "    | thirtieth | thirty first;\n"                                      \
    "<ordinal1> = first | second | third | fourth | fifth | sixth\n"         \
    "    | seventh | eighth | ninth;\n"

#define NGX_HTTP_RTAGENT_GRAMMAR_DATE                                        \
    "<when> = today | yesterday | the day before yesterday\n"                \
    "    | this morning | this afternoon | this evening | last night\n"      \
    "    | tonight | earlier today | <count> (days | weeks) ago\n"           \
    "    | a (day | week) ago | last (week | month) | over the weekend\n"    \
    "    | [last | this | on | this past] <weekday> [<part>]\n"              \
    "    | [on] [the] <ordinal> [of <month>] | [on] <month> [the] <ordinal>\n"\
    ";\n"                                                                    \
    "<part> = morning | afternoon | evening | night;\n"                      \
    "<count> = two | three | four | five | six | seven | eight | nine\n"     \
    "    | ten;\n"                                                           \
    "<weekday> = monday | tuesday | wednesday | thursday | friday\n"         \
    "    | saturday | sunday;\n"                                             \
    "<month> = january | february | march | april | may | june | july\n"    \
    "    | august | september | october | november | december;\n"          \
    NGX_HTTP_RTAGENT_GRAMMAR_ORDINAL                                         \
    "<lead> = it was | it happened | it happened on | that was | i think\n"  \
    "    | it was on;\n"

#define NGX_HTTP_RTAGENT_GRAMMAR_TIME                                        \
    "<when> = <hour> [o'clock] [<ampm>] | <hour> <minute> [<ampm>]\n"        \
    "    | noon | midnight | half past <hour> [<ampm>]\n"                    \
    "    | a quarter (past | to) <hour> [<ampm>]\n"                          \
    "    | quarter (past | to) <hour> [<ampm>]\n"                            \
    "    | in the (morning | afternoon | evening) | at night\n"              \
    "    | this (morning | afternoon | evening) | last night | just now;\n"  \
    "<hour> = one | two | three | four | five | six | seven | eight\n"       \
    "    | nine | ten | eleven | twelve;\n"                                  \
    "<minute> = oh (one | two | three | four | five | six | seven\n"         \
    "    | eight | nine) | ten | eleven | twelve | thirteen | fourteen\n"    \
    "    | fifteen | sixteen | seventeen | eighteen | nineteen\n"            \
    "    | (twenty | thirty | forty | fifty) [one | two | three | four\n"    \
    "    | five | six | seven | eight | nine];\n"                            \
    "<ampm> = a.m. | p.m. | in the morning | in the afternoon\n"             \
    "    | in the evening | at night;\n"                                     \
    "<lead> = at | around | about | at about | at around | it was\n"         \
    "    | it was at | it was around;\n"

#define NGX_HTTP_RTAGENT_GRAMMAR_NUMBER_WORDS                                \
    "<lead> = just | only | about | around | maybe | there were\n"           \
    "    | there was | it was | we had;\n"

#define NGX_HTTP_RTAGENT_GRAMMAR_UNITS                                       \
    "vehicles | vehicle | cars | car | people | person | of them | of us\n"  \
    "    | in total | total | including mine | including me | times"

#define NGX_HTTP_RTAGENT_GRAMMAR_ANY_NUMBER                                  \
    "<n> = <n99> | <n1> hundred [[and] <n99>];\n"                            \
    "<n99> = <n1> | ten | eleven | twelve | thirteen | fourteen | fifteen\n" \
    "    | sixteen | seventeen | eighteen | nineteen\n"                      \
    "    | (twenty | thirty | forty | fifty | sixty | seventy | eighty\n"    \
    "    | ninety) [<n1>] | zero;\n"                                         \
    "<n1> = one | two | three | four | five | six | seven | eight | nine;\n"


static void ngx_http_rtagent_grammar_put(ngx_http_rtagent_grammar_buf_t *b,
    const char *s, size_t n);
static int ngx_http_rtagent_grammar_alt(ngx_http_rtagent_grammar_buf_t *b,
    const unsigned char *text, size_t len, const char *sep);
static void ngx_http_rtagent_grammar_alts(ngx_http_rtagent_grammar_buf_t *b,
    const ngx_http_rtagent_agent_strs_t *list, int sep);
static char *ngx_http_rtagent_grammar_name(ngx_http_rtagent_grammar_ctx_t *ctx,
    const ngx_http_rtagent_agent_def_t *def, const char *what, size_t len);
static int ngx_http_rtagent_grammar_phrases(
    ngx_http_rtagent_grammar_ctx_t *ctx, ngx_http_rtagent_grammar_t *g,
    const ngx_http_rtagent_agent_strs_t *examples,
    const ngx_http_rtagent_agent_strs_t *vocabulary);


#define ngx_http_rtagent_grammar_puts(b, s)                                  \
    ngx_http_rtagent_grammar_put(b, s, strlen(s))

#define ngx_http_rtagent_grammar_word_byte(c)                                \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z')                \
     || ((c) >= '0' && (c) <= '9') || (c) == '\'')


int
ngx_http_rtagent_grammar_build(ngx_http_rtagent_grammar_ctx_t *ctx,
    const ngx_http_rtagent_agent_def_t *def)
{
    size_t                               i, n;
    ngx_http_rtagent_grammar_t           g;
    ngx_http_rtagent_agent_str_t        *e, *k;
    ngx_http_rtagent_local_def_t        *local;
    ngx_http_rtagent_agent_strs_t        ex, kw;
    ngx_http_rtagent_grammar_buf_t       b;
    unsigned                             confirm;

    local = def->local;

    if (local == NULL) {
        return 0;
    }

    confirm = (local->confirm.len != 0);

    for (i = 0; i < local->nslots; i++) {
        if (ngx_http_rtagent_grammar_slot(ctx, def, &local->slots[i], &g)
            != 0
            || ctx->add(ctx->add_ctx, &g) != 0)
        {
            return -1;
        }

        confirm |= local->slots[i].confirm;
    }

    if (confirm) {
        memset(&g, 0, sizeof(ngx_http_rtagent_grammar_t));
        g.kind = NGX_HTTP_RTAGENT_GRAMMAR_JSGF;
        g.name = ngx_http_rtagent_grammar_name(ctx, def, "confirm", 7);

        memset(&b, 0, sizeof(ngx_http_rtagent_grammar_buf_t));
        b.ctx = ctx;
        b.search = g.name;

        ngx_http_rtagent_grammar_puts(&b, NGX_HTTP_RTAGENT_GRAMMAR_HEAD
            "public <confirm> = <yes> | <no>;\n"
            NGX_HTTP_RTAGENT_GRAMMAR_YES_NO);
        ngx_http_rtagent_grammar_put(&b, "", 1);

        if (g.name == NULL || b.failed) {
            return -1;
        }

        g.jsgf = b.p;

        if (ctx->add(ctx->add_ctx, &g) != 0) {
            return -1;
        }
    }

    if (local->nintents == 0) {
        return 0;
    }

    /* every intent's examples and keywords, in one model */

    n = 0;
    ex.nelts = 0;
    kw.nelts = 0;

    for (i = 0; i < local->nintents; i++) {
        ex.nelts += local->intents[i].examples.nelts;
        kw.nelts += local->intents[i].keywords.nelts;
    }

    ex.elts = ctx->alloc(ctx->alloc_ctx,
                         (ex.nelts + 1) * sizeof(ngx_http_rtagent_agent_str_t));
    kw.elts = ctx->alloc(ctx->alloc_ctx,
                         (kw.nelts + 1) * sizeof(ngx_http_rtagent_agent_str_t));
    if (ex.elts == NULL || kw.elts == NULL) {
        return -1;
    }

    e = ex.elts;
    k = kw.elts;

    for (i = 0; i < local->nintents; i++) {
        for (n = 0; n < local->intents[i].examples.nelts; n++) {
            *e++ = local->intents[i].examples.elts[n];
        }

        for (n = 0; n < local->intents[i].keywords.nelts; n++) {
            *k++ = local->intents[i].keywords.elts[n];
        }
    }

    memset(&g, 0, sizeof(ngx_http_rtagent_grammar_t));
    g.kind = NGX_HTTP_RTAGENT_GRAMMAR_PHRASES;
    g.name = ngx_http_rtagent_grammar_name(ctx, def, "intents", 7);

    if (g.name == NULL
        || ngx_http_rtagent_grammar_phrases(ctx, &g, &ex, &kw) != 0)
    {
        return -1;
    }

    return ctx->add(ctx->add_ctx, &g);
}


int
ngx_http_rtagent_grammar_slot(ngx_http_rtagent_grammar_ctx_t *ctx,
    const ngx_http_rtagent_agent_def_t *def,
    const ngx_http_rtagent_slot_def_t *slot, ngx_http_rtagent_grammar_t *g)
{
    char                             num[128];
    long                             i, lo, hi;
    size_t                           n, k, lead;
    const unsigned char             *p, *last, *start;
    ngx_http_rtagent_grammar_buf_t   b;

    memset(g, 0, sizeof(ngx_http_rtagent_grammar_t));

    g->name = ngx_http_rtagent_grammar_name(ctx, def,
                                            (const char *) slot->name.data,
                                            slot->name.len);
    if (g->name == NULL) {
        return -1;
    }

    if (slot->type == NGX_HTTP_RTAGENT_SLOT_FREE_TEXT) {
        g->kind = NGX_HTTP_RTAGENT_GRAMMAR_PHRASES;
        return ngx_http_rtagent_grammar_phrases(ctx, g, &slot->examples,
                                                &slot->vocabulary);
    }

    g->kind = NGX_HTTP_RTAGENT_GRAMMAR_JSGF;

    memset(&b, 0, sizeof(ngx_http_rtagent_grammar_buf_t));
    b.ctx = ctx;
    b.search = g->name;

    ngx_http_rtagent_grammar_puts(&b, NGX_HTTP_RTAGENT_GRAMMAR_HEAD);

    switch (slot->type) {

    case NGX_HTTP_RTAGENT_SLOT_DIGITS:

        ngx_http_rtagent_grammar_puts(&b, "public <digits> = ");

        /* the examples' words before their first digit: a lead-in */
        lead = 0;

        for (i = 0; i < (long) slot->examples.nelts; i++) {
            p = slot->examples.elts[i].data;
            last = p + slot->examples.elts[i].len;

            for (start = p; p < last; p++) {
                if (*p >= '0' && *p <= '9') {
                    break;
                }

                for (k = 0; k < 10; k++) {
                    n = strlen(ngx_http_rtagent_grammar_units[k]);

                    if ((size_t) (last - p) >= n
                        && strncasecmp((const char *) p,
                                       ngx_http_rtagent_grammar_units[k], n)
                           == 0
                        && (p == start || p[-1] == ' ')
                        && ((size_t) (last - p) == n || p[n] == ' '))
                    {
                        break;
                    }
                }

                if (k < 10 || (last - p >= 2 && p[0] == 'o' && p[1] == 'h'
                               && (last - p == 2 || p[2] == ' ')))
                {
                    break;
                }
            }

            while (p > start && p[-1] == ' ') {
                p--;
            }

            if (p == start) {
                continue;
            }

            k = b.len;
            ngx_http_rtagent_grammar_puts(&b, lead ? " | " : "[(");

            switch (ngx_http_rtagent_grammar_alt(&b, start, p - start,
                                                 NULL))
            {
            case 1:
                lead++;
                break;
            case 0:
                /* an unknown word: this lead-in is left out */
                b.len = k;
                break;
            default:
                return -1;
            }
        }

        if (lead) {
            ngx_http_rtagent_grammar_puts(&b, ")] ");
        }

        if (slot->length > 0) {
            for (i = 0; i < slot->length; i++) {
                ngx_http_rtagent_grammar_puts(&b, i ? " <d>" : "<d>");
            }

        } else {
            ngx_http_rtagent_grammar_puts(&b, "<d>+");
        }

        ngx_http_rtagent_grammar_puts(&b, ";\n" NGX_HTTP_RTAGENT_GRAMMAR_DIGIT);
        break;

    case NGX_HTTP_RTAGENT_SLOT_YES_NO:

        ngx_http_rtagent_grammar_puts(&b, "public <yes_no> = <yes> | <no>");
        ngx_http_rtagent_grammar_alts(&b, &slot->examples, 1);
        ngx_http_rtagent_grammar_puts(&b, ";\n"
                                      NGX_HTTP_RTAGENT_GRAMMAR_YES_NO);
        break;

    case NGX_HTTP_RTAGENT_SLOT_NUMBER:

        ngx_http_rtagent_grammar_puts(&b,
                                      "public <number> = [<lead>] <n> [<unit>]");
        ngx_http_rtagent_grammar_alts(&b, &slot->examples, 1);
        ngx_http_rtagent_grammar_puts(&b, ";\n"
                                      NGX_HTTP_RTAGENT_GRAMMAR_NUMBER_WORDS
                                      "<unit> = "
                                      NGX_HTTP_RTAGENT_GRAMMAR_UNITS);

        ngx_http_rtagent_grammar_alts(&b, &slot->vocabulary, 1);
        ngx_http_rtagent_grammar_puts(&b, ";\n");

        lo = slot->min > 0 ? slot->min : 0;
        hi = slot->max;

        /* max 0: no maximum */
        if (hi > 0 && hi >= lo
            && hi - lo < NGX_HTTP_RTAGENT_GRAMMAR_NUMBERS_MAX
            && hi < 1000000)
        {
            ngx_http_rtagent_grammar_puts(&b, "<n> = ");

            for (i = lo; i <= hi; i++) {
                n = ngx_http_rtagent_grammar_number(i, num, sizeof(num));

                if (i > lo) {
                    ngx_http_rtagent_grammar_puts(&b, (i - lo) % 6 ? " | "
                                                                   : "\n    | ");
                }

                ngx_http_rtagent_grammar_put(&b, num, n);
            }

            ngx_http_rtagent_grammar_puts(&b, ";\n");

        } else {
            ngx_http_rtagent_grammar_puts(&b,
                                          NGX_HTTP_RTAGENT_GRAMMAR_ANY_NUMBER);
        }

        break;

    case NGX_HTTP_RTAGENT_SLOT_CHOICE:

        ngx_http_rtagent_grammar_puts(&b, "public <choice> = ");
        lead = b.len;

        ngx_http_rtagent_grammar_alts(&b, &slot->vocabulary, 0);
        ngx_http_rtagent_grammar_alts(&b, &slot->examples, b.len > lead);

        if (b.len == lead) {
            /* nothing the STT knows: the generic model it is */
            g->kind = NGX_HTTP_RTAGENT_GRAMMAR_PHRASES;
            return ngx_http_rtagent_grammar_phrases(ctx, g, &slot->examples,
                                                    &slot->vocabulary);
        }

        ngx_http_rtagent_grammar_puts(&b, ";\n");
        break;

    case NGX_HTTP_RTAGENT_SLOT_DATE:
    case NGX_HTTP_RTAGENT_SLOT_TIME:

        ngx_http_rtagent_grammar_puts(&b, slot->type
                                          == NGX_HTTP_RTAGENT_SLOT_DATE
                                      ? "public <date> = [<lead>] <when>"
                                      : "public <time> = [<lead>] <when>");
        ngx_http_rtagent_grammar_alts(&b, &slot->examples, 1);
        ngx_http_rtagent_grammar_puts(&b, ";\n");
        ngx_http_rtagent_grammar_puts(&b, slot->type
                                          == NGX_HTTP_RTAGENT_SLOT_DATE
                                      ? NGX_HTTP_RTAGENT_GRAMMAR_DATE
                                      : NGX_HTTP_RTAGENT_GRAMMAR_TIME);
        break;

    default:
        return -1;
    }

    ngx_http_rtagent_grammar_put(&b, "", 1);

    if (b.failed) {
        return -1;
    }

    g->jsgf = b.p;

    return 0;
}


/* " | entry" for each entry of the list whose words are all known; sep:
 * 0 when nothing comes before the first one */

static void
ngx_http_rtagent_grammar_alts(ngx_http_rtagent_grammar_buf_t *b,
    const ngx_http_rtagent_agent_strs_t *list, int sep)
{
    int     rc;
    size_t  i, k;

    for (i = 0; i < list->nelts; i++) {
        k = b->len;

        if (sep) {
            ngx_http_rtagent_grammar_puts(b, " | ");
        }

        rc = ngx_http_rtagent_grammar_alt(b, list->elts[i].data,
                                          list->elts[i].len, NULL);
        if (rc == -1) {
            b->failed = 1;
            return;
        }

        if (rc == 0) {
            b->len = k;
            continue;
        }

        sep = 1;
    }
}


/*
 * The words of text, lowercased, space-separated: 1 when the STT knows
 * them all, 0 when one is unknown (what was written is the caller's to
 * take back), -1 on error.
 */

static int
ngx_http_rtagent_grammar_alt(ngx_http_rtagent_grammar_buf_t *b,
    const unsigned char *text, size_t len, const char *sep)
{
    int                   rc, any;
    char                  w[64];
    size_t                n, i;
    const unsigned char  *p, *last, *start;

    p = text;
    last = text + len;
    any = 0;

    for ( ;; ) {
        while (p < last && !ngx_http_rtagent_grammar_word_byte(*p)) {
            p++;
        }

        if (p == last) {
            break;
        }

        start = p;

        while (p < last && ngx_http_rtagent_grammar_word_byte(*p)) {
            p++;
        }

        n = p - start;

        if (n >= sizeof(w)) {
            return 0;
        }

        for (i = 0; i < n; i++) {
            w[i] = (start[i] >= 'A' && start[i] <= 'Z') ? start[i] | 0x20
                                                        : start[i];
        }

        rc = b->ctx->known(b->ctx->known_ctx, b->search, w, n);

        if (rc != 1) {
            return rc;
        }

        if (any) {
            ngx_http_rtagent_grammar_puts(b, sep ? sep : " ");
        }

        ngx_http_rtagent_grammar_put(b, w, n);
        any = 1;
    }

    if (b->failed) {
        return -1;
    }

    return any;
}


static int
ngx_http_rtagent_grammar_phrases(ngx_http_rtagent_grammar_ctx_t *ctx,
    ngx_http_rtagent_grammar_t *g,
    const ngx_http_rtagent_agent_strs_t *examples,
    const ngx_http_rtagent_agent_strs_t *vocabulary)
{
    size_t  i;

    g->phrases = ctx->alloc(ctx->alloc_ctx,
                            (examples->nelts + 1) * sizeof(char *));
    g->vocabulary = ctx->alloc(ctx->alloc_ctx,
                               (vocabulary->nelts + 1) * sizeof(char *));
    if (g->phrases == NULL || g->vocabulary == NULL) {
        return -1;
    }

    for (i = 0; i < examples->nelts; i++) {
        g->phrases[i] = (const char *) examples->elts[i].data;
    }

    for (i = 0; i < vocabulary->nelts; i++) {
        g->vocabulary[i] = (const char *) vocabulary->elts[i].data;
    }

    g->nphrases = examples->nelts;
    g->nvocabulary = vocabulary->nelts;

    return 0;
}


size_t
ngx_http_rtagent_grammar_number(long n, char *buf, size_t size)
{
    int          w;
    long         head, rest;
    size_t       len, k;
    const char  *scale;

    if (n < 0 || n >= 1000000 || size == 0) {
        return 0;
    }

    if (n < 100) {
        if (n < 20) {
            w = snprintf(buf, size, "%s", ngx_http_rtagent_grammar_units[n]);

        } else {
            w = snprintf(buf, size, "%s%s%s",
                         ngx_http_rtagent_grammar_tens[n / 10],
                         n % 10 ? " " : "",
                         n % 10 ? ngx_http_rtagent_grammar_units[n % 10] : "");
        }

        return (w < 0 || (size_t) w >= size) ? 0 : (size_t) w;
    }

    /* "<head> thousand <rest>", "<head> hundred <rest>" */
    if (n >= 1000) {
        head = n / 1000;
        rest = n % 1000;
        scale = " thousand";

    } else {
        head = n / 100;
        rest = n % 100;
        scale = " hundred";
    }

    len = ngx_http_rtagent_grammar_number(head, buf, size);
    if (len == 0) {
        return 0;
    }

    w = snprintf(buf + len, size - len, "%s%s", scale, rest ? " " : "");
    if (w < 0 || (size_t) w >= size - len) {
        return 0;
    }

    len += w;

    if (rest == 0) {
        return len;
    }

    k = ngx_http_rtagent_grammar_number(rest, buf + len, size - len);

    return k ? len + k : 0;
}


/* "<agent>.<what>", NUL-terminated */

static char *
ngx_http_rtagent_grammar_name(ngx_http_rtagent_grammar_ctx_t *ctx,
    const ngx_http_rtagent_agent_def_t *def, const char *what, size_t len)
{
    char  *name;

    name = ctx->alloc(ctx->alloc_ctx, def->name.len + 1 + len + 1);
    if (name == NULL) {
        return NULL;
    }

    memcpy(name, def->name.data, def->name.len);
    name[def->name.len] = '.';
    memcpy(name + def->name.len + 1, what, len);
    name[def->name.len + 1 + len] = '\0';

    return name;
}


static void
ngx_http_rtagent_grammar_put(ngx_http_rtagent_grammar_buf_t *b,
    const char *s, size_t n)
{
    char    *p;
    size_t   cap;

    if (b->failed) {
        return;
    }

    if (b->len + n > b->cap) {
        cap = (b->cap + n) * 2 + 256;

        /* the allocator does not free: the old buffer goes with it */
        p = b->ctx->alloc(b->ctx->alloc_ctx, cap);
        if (p == NULL) {
            b->failed = 1;
            return;
        }

        if (b->len) {
            memcpy(p, b->p, b->len);
        }

        b->p = p;
        b->cap = cap;
    }

    memcpy(b->p + b->len, s, n);
    b->len += n;
}
