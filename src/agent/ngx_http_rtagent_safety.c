
/*
 * Safety on caller text (see the header).
 *
 * The screen's rules are word patterns: a space-separated list of steps,
 * each a set of words ("ignore|disregard"), or "~N", which lets up to N
 * other words come before the next step.  Words are compared exactly,
 * after the text is cut into lower-case words as the extractors do.
 *
 * Redaction works on tokens with their byte offsets in the original text,
 * so what is not PII is copied byte for byte.
 */


#include <string.h>

#include "ngx_http_rtagent_safety.h"
#include "ngx_http_rtagent_extract.h"


typedef ngx_http_rtagent_words_t  words_t;


typedef struct {
    const char  *rule;
    const char  *pattern;
} rule_t;


#define VERBS_IGNORE  "ignore|disregard|forget|override|bypass|skip|drop"
#define NOUNS_RULES   "instructions|instruction|rules|prompt|prompts|" \
                      "guidelines|directions|programming|directives"

static const rule_t  rules[] = {
    { "ignore_instructions",
      VERBS_IGNORE " ~4 " NOUNS_RULES },
    { "ignore_instructions",
      VERBS_IGNORE " everything ~3 said|told|above|before|earlier" },
    { "you_are_now", "you are now" },
    { "you_are_now", "you're now" },
    { "you_are_now", "from now on you ~2 are|will|must|should|respond|act" },
    { "role_play", "pretend ~1 to|you|you're|that|you've" },
    { "role_play", "role play|playing" },
    { "role_play", "roleplay" },
    { "role_play", "play the role|part" },
    { "role_play", "imagine you ~1 are|were" },
    { "role_play", "act as ~2 ai|assistant|chatbot|bot|model|gpt|system|dan|"
                   "developer|admin|administrator|unrestricted|different|"
                   "hacker|jailbroken" },
    { "system_prompt", "system prompt|prompts|message|instructions" },
    { "system_prompt", "initial|original|hidden|secret|internal "
                       "prompt|instructions" },
    { "reveal_instructions", "reveal|show|tell|print|repeat|display|give|"
                             "share|what|read|output|list|recite|dump "
                             "~4 your " NOUNS_RULES "|configuration|config" },
    { "developer_mode", "developer|dev|god|sudo|admin|debug|dan|"
                        "unrestricted mode" },
    { "developer_mode", "jailbreak|jailbroken|jailbreaking" },
    { "developer_mode", "do anything now" },
    { "new_instructions", "follow|obey ~1 these|my|the new|following "
                          "instructions|rules|orders" },
    { "new_instructions", "here are|is ~1 new|updated instructions|rules" },
    { "new_instructions", "your new ~1 instructions|rules|task|role|job|"
                          "purpose" },
    { "disable_safety", "without|ignore|bypass|disable|remove|turn ~3 "
                        "restrictions|filters|filter|safety|limits|"
                        "guardrails|censorship" },
    { NULL, NULL }
};


/* 1 if the word w (len) is one of the '|' list at p (up to end) */
static int
one_of(const char *p, const char *end, const char *w, size_t len)
{
    const char  *q;

    while (p < end) {
        q = p;

        while (q < end && *q != '|') {
            q++;
        }

        if ((size_t) (q - p) == len && memcmp(p, w, len) == 0) {
            return 1;
        }

        p = q + 1;
    }

    return 0;
}


/* 1 if the steps at p match the words from word i on */
static int
match_at(const words_t *ws, size_t i, const char *p)
{
    size_t       gap, k;
    const char  *end;

    while (*p == ' ') {
        p++;
    }

    if (*p == '\0') {
        return 1;
    }

    end = strchr(p, ' ');
    if (end == NULL) {
        end = p + strlen(p);
    }

    if (*p == '~') {
        gap = (size_t) (p[1] - '0');

        for (k = 0; k <= gap && i + k <= ws->n; k++) {
            if (match_at(ws, i + k, end)) {
                return 1;
            }
        }

        return 0;
    }

    if (i >= ws->n || !one_of(p, end, ws->word[i].w, ws->word[i].len)) {
        return 0;
    }

    return match_at(ws, i + 1, end);
}


int
ngx_http_rtagent_safety_screen(const unsigned char *text, size_t len,
    const char **rule)
{
    size_t         i;
    words_t        ws;
    const rule_t  *r;

    *rule = NULL;

    ngx_http_rtagent_words(&ws, text, len);

    for (r = rules; r->rule; r++) {
        for (i = 0; i < ws.n; i++) {
            if (match_at(&ws, i, r->pattern)) {
                *rule = r->rule;
                return 1;
            }
        }
    }

    return 0;
}


/* ---- redaction --------------------------------------------------------- */

#define TOKENS_MAX  512


typedef struct {
    size_t       from, to;      /* bytes of the token */
    int          digits;        /* how many digits it says, 0: none */
    char         d[8];          /* them ("double five": "55") */
} token_t;


typedef struct {
    size_t       from, to;
    const char  *label;
} span_t;


static const char *const  digit_words[] = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
    "nine", NULL
};


static int
alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '\'';
}


/* 1 if token t is the word w (ASCII case-insensitive) */
static int
tok_is(const unsigned char *text, const token_t *t, const char *w)
{
    size_t  i, n;
    int     c;

    n = strlen(w);

    if (t->to - t->from != n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        c = text[t->from + i];
        if (c >= 'A' && c <= 'Z') {
            c += 'a' - 'A';
        }

        if (c != w[i]) {
            return 0;
        }
    }

    return 1;
}


static int
tok_digit_word(const unsigned char *text, const token_t *t)
{
    int  i;

    for (i = 0; digit_words[i]; i++) {
        if (tok_is(text, t, digit_words[i])) {
            return i;
        }
    }

    if (tok_is(text, t, "oh")) {
        return 0;
    }

    return -1;
}


static size_t
tokens(const unsigned char *text, size_t len, token_t *tok)
{
    int      v;
    size_t   i, n, k;
    token_t *t;

    n = 0;
    i = 0;

    while (i < len && n < TOKENS_MAX) {
        while (i < len && !alnum(text[i])) {
            i++;
        }

        if (i == len) {
            break;
        }

        t = &tok[n];
        t->from = i;

        while (i < len && alnum(text[i])) {
            i++;
        }

        t->to = i;
        t->digits = 0;

        for (k = t->from; k < t->to; k++) {
            if (text[k] < '0' || text[k] > '9') {
                break;
            }
        }

        if (k == t->to) {
            /* a numeral: its digits (long ones are kept whole elsewhere) */
            t->digits = (int) (t->to - t->from);

            if (t->digits < (int) sizeof(t->d)) {
                memcpy(t->d, text + t->from, t->digits);
            }

        } else if ((v = tok_digit_word(text, t)) >= 0) {
            t->digits = 1;
            t->d[0] = (char) ('0' + v);
        }

        n++;
    }

    return n;
}


/* "double five": the second token's digit twice */
static void
doubles(const unsigned char *text, token_t *tok, size_t n)
{
    int     v;
    size_t  i;

    for (i = 0; i + 1 < n; i++) {
        if ((tok_is(text, &tok[i], "double") || tok_is(text, &tok[i], "triple"))
            && (v = tok_digit_word(text, &tok[i + 1])) >= 0)
        {
            tok[i].digits = tok_is(text, &tok[i], "double") ? 2 : 3;
            memset(tok[i].d, '0' + v, tok[i].digits);
            tok[i].to = tok[i + 1].to;
            tok[i + 1].digits = -1;     /* folded into the previous one */
            tok[i + 1].from = tok[i + 1].to;
        }
    }
}


/* 1 if the bytes between two tokens are only spaces, dashes or commas */
static int
joined(const unsigned char *text, size_t from, size_t to)
{
    for ( /* void */ ; from < to; from++) {
        if (text[from] != ' ' && text[from] != '-' && text[from] != ',') {
            return 0;
        }
    }

    return 1;
}


static int
luhn(const char *d, size_t n)
{
    int     sum, v, dbl;
    size_t  i;

    sum = 0;
    dbl = 0;

    for (i = n; i-- > 0; ) {
        v = d[i] - '0';

        if (dbl) {
            v *= 2;
            if (v > 9) {
                v -= 9;
            }
        }

        sum += v;
        dbl = !dbl;
    }

    return sum % 10 == 0;
}


/* 1 if "social security" or "ssn" comes within the 4 tokens before i */
static int
ssn_context(const unsigned char *text, const token_t *tok, size_t i)
{
    size_t  k;

    for (k = i > 4 ? i - 4 : 0; k < i; k++) {
        if (tok_is(text, &tok[k], "ssn")
            || (tok_is(text, &tok[k], "social") && k + 1 < i
                && tok_is(text, &tok[k + 1], "security")))
        {
            return 1;
        }
    }

    return 0;
}


static const char *const  date_words[] = {
    "january", "february", "march", "april", "may", "june", "july",
    "august", "september", "october", "november", "december", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh",
    "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth",
    "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
    "nineteenth", "twentieth", "thirtieth", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
    "eighty", "ninety", "hundred", "thousand", "of", "the", "st", "nd",
    "rd", "th", NULL
};


static int
date_token(const unsigned char *text, const token_t *t)
{
    int     i;
    size_t  k;

    if (t->digits > 0) {
        return 1;
    }

    for (i = 0; date_words[i]; i++) {
        if (tok_is(text, t, date_words[i])) {
            return 1;
        }
    }

    /* "3rd", "14th" */
    k = t->from;

    while (k < t->to && text[k] >= '0' && text[k] <= '9') {
        k++;
    }

    return k > t->from && t->to - k == 2;
}


/* how many tokens from i name the start of a date of birth, or 0 */
static size_t
dob_trigger(const unsigned char *text, const token_t *tok, size_t n,
    size_t i)
{
    size_t  k;

    if (tok_is(text, &tok[i], "born")) {
        k = i + 1;

        if (k < n && (tok_is(text, &tok[k], "on")
                      || tok_is(text, &tok[k], "in")))
        {
            k++;
        }

        return k - i;
    }

    if (i + 2 < n && tok_is(text, &tok[i], "date")
        && tok_is(text, &tok[i + 1], "of")
        && tok_is(text, &tok[i + 2], "birth"))
    {
        return 3;
    }

    if (tok_is(text, &tok[i], "birthday") || tok_is(text, &tok[i], "dob")
        || tok_is(text, &tok[i], "birthdate"))
    {
        return 1;
    }

    return 0;
}


/* the digits tokens [from, to) say, into d (up to size): how many */
static size_t
run_digits(const unsigned char *text, const token_t *tok, size_t from,
    size_t to, char *d, size_t size)
{
    size_t  nd, k;

    nd = 0;

    for (k = from; k < to; k++) {
        if (tok[k].digits <= 0) {
            continue;
        }

        if (nd + tok[k].digits <= size) {
            memcpy(d + nd, text[tok[k].from] >= '0' && text[tok[k].from] <= '9'
                           ? (const char *) text + tok[k].from : tok[k].d,
                   tok[k].digits);
        }

        nd += tok[k].digits;
    }

    return nd;
}


static size_t
find_spans(const unsigned char *text, size_t len, token_t *tok, size_t n,
    span_t *spans, size_t max)
{
    char     d[64];
    size_t   i, j, k, a, b, nd, ns, last;

    ns = 0;
    i = 0;

    while (i < n && ns < max) {
        if (tok[i].digits < 0) {
            i++;
            continue;
        }

        /* a date of birth: the date-ish tokens after the trigger */
        k = dob_trigger(text, tok, n, i);
        if (k) {
            j = i + k;

            while (j < n && (tok_is(text, &tok[j], "is")
                             || tok_is(text, &tok[j], "was")))
            {
                j++;
            }

            last = j;

            while (last < n && last < j + 8 && date_token(text, &tok[last])) {
                last++;
            }

            if (last > j) {
                spans[ns].from = tok[j].from;
                spans[ns].to = tok[last - 1].to;
                spans[ns].label = "[dob]";
                ns++;
                i = last;
                continue;
            }

            i += k;
            continue;
        }

        if (tok[i].digits == 0) {
            i++;
            continue;
        }

        /* a run of digit tokens joined by spaces, dashes or commas */
        j = i;

        while (j < n && tok[j].digits != 0
               && (j == i || joined(text, tok[j - 1].to, tok[j].from)))
        {
            j++;
        }

        /* a card: the longest part of the run, from its earliest token,
         * of 13 to 19 digits that passes the Luhn check ("... 12 25" may
         * follow it: the expiry) */
        for (a = i; a < j && ns < max; a++) {
            for (b = j; b > a; b--) {
                nd = run_digits(text, tok, a, b, d, sizeof(d));

                if (nd >= 13 && nd <= 19 && luhn(d, nd)) {
                    break;
                }
            }

            if (b > a) {
                spans[ns].from = tok[a].from;
                spans[ns].to = tok[b - 1].to;
                spans[ns].label = "[card]";
                ns++;
                break;
            }
        }

        if (a < j) {
            i = b;
            continue;
        }

        nd = run_digits(text, tok, i, j, d, sizeof(d));

        if (nd == 9
            && (ssn_context(text, tok, i)
                || (j - i == 3 && tok[i].digits == 3
                    && tok[i + 1].digits == 2 && tok[i + 2].digits == 4)))
        {
            spans[ns].from = tok[i].from;
            spans[ns].to = tok[j - 1].to;
            spans[ns].label = "[ssn]";
            ns++;
        }

        i = j;
    }

    (void) len;

    return ns;
}


size_t
ngx_http_rtagent_safety_redact(const unsigned char *text, size_t len,
    unsigned char *out, size_t outlen, unsigned *count)
{
    size_t   n, ns, i, k, at, total, m;
    span_t   spans[64];
    token_t  tok[TOKENS_MAX];

    n = tokens(text, len, tok);
    doubles(text, tok, n);
    ns = find_spans(text, len, tok, n, spans, 64);

    if (count) {
        *count = (unsigned) ns;
    }

    total = 0;
    at = 0;
    k = 0;

#define EMIT(p, l)                                                          \
    do {                                                                    \
        m = (l);                                                            \
        if (outlen && total < outlen - 1) {                                 \
            memcpy(out + total, p,                                          \
                   m < outlen - 1 - total ? m : outlen - 1 - total);        \
        }                                                                   \
        total += m;                                                         \
    } while (0)

    for (i = 0; i < ns; i++) {
        EMIT(text + at, spans[i].from - at);
        EMIT(spans[i].label, strlen(spans[i].label));
        at = spans[i].to;
        k++;
    }

    EMIT(text + at, len - at);

#undef EMIT

    if (outlen) {
        out[total < outlen ? total : outlen - 1] = '\0';
    }

    return total;
}
