
/*
 * Typed extractors over STT text (see the header).  Spoken numbers are
 * parsed by small tables; dates are counted in days since 1970-01-01 with
 * the proleptic Gregorian calendar, so "three days ago" across a month or
 * a year end needs no special case.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_rtagent_extract.h"


#define W(ws, i)        ((ws)->word[i].w)
#define FREE(ws, i)     ((i) < (ws)->n && !(ws)->word[i].used)
#define IS(ws, i, s)    (FREE(ws, i) && strcmp(W(ws, i), s) == 0)


static const char *const  units[] = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
    "nine", NULL
};

static const char *const  teens[] = {
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
    "seventeen", "eighteen", "nineteen", NULL
};

static const char *const  tens[] = {
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
    "eighty", "ninety", NULL
};

static const char *const  ordinals[] = {
    "", "first", "second", "third", "fourth", "fifth", "sixth", "seventh",
    "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth",
    "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
    "nineteenth", "twentieth", NULL
};

static const char *const  months[] = {
    "january", "february", "march", "april", "may", "june", "july",
    "august", "september", "october", "november", "december", NULL
};

static const char *const  weekdays[] = {
    "sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", NULL
};


static int
lookup(const char *const *table, const char *w)
{
    int  i;

    for (i = 0; table[i]; i++) {
        if (table[i][0] && strcmp(table[i], w) == 0) {
            return i;
        }
    }

    return -1;
}


static int
is_numeral(const char *w, size_t max)
{
    size_t  i;

    for (i = 0; w[i]; i++) {
        if (w[i] < '0' || w[i] > '9' || i == max) {
            return 0;
        }
    }

    return i > 0;
}


static int
lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}


static int
word_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '\'' || c >= 0x80;
}


void
ngx_http_rtagent_words(ngx_http_rtagent_words_t *ws,
    const unsigned char *text, size_t len)
{
    int     c, digit_before, digit_after;
    char   *b, *end;
    size_t  i;

    ws->n = 0;
    b = ws->buf;
    end = ws->buf + sizeof(ws->buf);
    i = 0;

    while (i < len && ws->n < NGX_HTTP_RTAGENT_WORDS_MAX) {

        while (i < len && !word_char(text[i])) {
            i++;
        }

        if (i == len || end - b < 2) {
            break;
        }

        ws->word[ws->n].w = b;
        ws->word[ws->n].used = 0;

        while (i < len && end - b > 1) {
            c = text[i];

            if (!word_char(c)) {
                digit_before = b > ws->word[ws->n].w
                               && b[-1] >= '0' && b[-1] <= '9';
                digit_after = i + 1 < len
                              && text[i + 1] >= '0' && text[i + 1] <= '9';

                if (!((c == '/' || c == ':' || c == '-')
                      && digit_before && digit_after))
                {
                    break;
                }
            }

            *b++ = (char) lower(c);
            i++;
        }

        /* a quote around a word is not part of it */
        while (b > ws->word[ws->n].w && b[-1] == '\'') {
            b--;
        }

        if (b == ws->word[ws->n].w) {
            continue;
        }

        while (*ws->word[ws->n].w == '\'') {
            ws->word[ws->n].w++;
        }

        if (b == ws->word[ws->n].w) {
            continue;
        }

        ws->word[ws->n].len = b - ws->word[ws->n].w;
        *b++ = '\0';
        ws->n++;

        while (i < len && word_char(text[i])) {  /* the rest of a cut word */
            i++;
        }
    }
}


int
ngx_http_rtagent_word_like(const char *a, size_t alen, const char *b,
    size_t blen)
{
    size_t  cp, min;

    for (cp = 0; cp < alen && cp < blen; cp++) {
        if (lower(a[cp]) != lower(b[cp])) {
            break;
        }
    }

    if (cp == alen && cp == blen) {
        return 1;
    }

    min = alen < blen ? alen : blen;

    /* an inflection: a shared stem of 5 letters or more, 3 at most apart */
    return min >= 5 && cp >= 5 && cp + 2 >= min
           && (alen > blen ? alen - blen : blen - alen) <= 3;
}


/* the next word of a phrase at *p (advanced past it), its length or 0 */
static size_t
phrase_word(const char **p, const char *end, const char **w)
{
    const char  *s;

    s = *p;

    while (s < end && !word_char((unsigned char) *s)) {
        s++;
    }

    *w = s;

    while (s < end && word_char((unsigned char) *s)) {
        s++;
    }

    *p = s;

    return s - *w;
}


int
ngx_http_rtagent_words_find(const ngx_http_rtagent_words_t *ws,
    size_t from, const char *phrase, size_t len)
{
    size_t       i, j, n;
    const char  *p, *end, *w;

    end = phrase + len;

    for (i = from; i < ws->n; i++) {
        p = phrase;
        j = i;

        for ( ;; ) {
            n = phrase_word(&p, end, &w);
            if (n == 0) {
                break;
            }

            if (!FREE(ws, j)
                || !ngx_http_rtagent_word_like(ws->word[j].w,
                                               ws->word[j].len, w, n))
            {
                goto next;
            }

            j++;
        }

        if (j > i) {
            return (int) i;
        }

        return -1;  /* an empty phrase */

    next:
        continue;
    }

    return -1;
}


void
ngx_http_rtagent_words_use(ngx_http_rtagent_words_t *ws, size_t from,
    size_t to)
{
    for ( /* void */ ; from < to && from < ws->n; from++) {
        ws->word[from].used = 1;
    }
}


/* fillers trimmed from free text: at the start, then at the end */
static const char *const  fillers_head[] = {
    "um", "uh", "er", "erm", "hmm", "mm", "ah", "oh", "well", "so", "okay",
    "ok", "like", "yeah", "basically", "it was", "it's", "it is",
    "it happened", "that was", "i think", "i guess", "i believe", NULL
};

static const char *const  fillers_tail[] = {
    "um", "uh", "er", "erm", "hmm", "i think", "i guess", NULL
};


/* how many of the words idx[from..to) a filler at the start/end covers */
static size_t
filler(const ngx_http_rtagent_words_t *ws, const size_t *idx, size_t from,
    size_t to, int tail)
{
    size_t        n, k, wl;
    const char   *f, *sp;
    const char *const  *t;

    for (t = tail ? fillers_tail : fillers_head; *t; t++) {
        f = *t;
        sp = strchr(f, ' ');
        n = sp ? 2 : 1;

        if (to - from < n) {
            continue;
        }

        k = tail ? to - n : from;
        wl = sp ? (size_t) (sp - f) : strlen(f);

        if (ws->word[idx[k]].len != wl
            || strncmp(ws->word[idx[k]].w, f, wl) != 0)
        {
            continue;
        }

        if (sp && strcmp(ws->word[idx[k + 1]].w, sp + 1) != 0) {
            continue;
        }

        return n;
    }

    return 0;
}


size_t
ngx_http_rtagent_words_rest(const ngx_http_rtagent_words_t *ws, char *out,
    size_t outlen)
{
    char    *p, *end;
    size_t   i, n, from, to, f, idx[NGX_HTTP_RTAGENT_WORDS_MAX];

    n = 0;

    for (i = 0; i < ws->n; i++) {
        if (!ws->word[i].used) {
            idx[n++] = i;
        }
    }

    from = 0;
    to = n;

    while (from < to && (f = filler(ws, idx, from, to, 0))) {
        from += f;
    }

    while (from < to && (f = filler(ws, idx, from, to, 1))) {
        to -= f;
    }

    if (outlen == 0) {
        return 0;
    }

    p = out;
    end = out + outlen - 1;

    for (i = from; i < to; i++) {
        if (i > from && p < end) {
            *p++ = ' ';
        }

        n = ws->word[idx[i]].len;
        if (n > (size_t) (end - p)) {
            n = end - p;
        }

        memcpy(p, ws->word[idx[i]].w, n);
        p += n;
    }

    *p = '\0';

    return p - out;
}


/* ---- spoken numbers ---------------------------------------------------- */

/*
 * A cardinal below 1000 at word i: its value and the word after it, or -1.
 * "a" counts as one before "hundred" only.
 */
static long
cardinal(const ngx_http_rtagent_words_t *ws, size_t i, size_t *next)
{
    int     t, u;
    long    v, h;
    size_t  j;

    if (!FREE(ws, i)) {
        return -1;
    }

    if (is_numeral(W(ws, i), 9)) {
        *next = i + 1;
        return strtol(W(ws, i), NULL, 10);
    }

    v = -1;
    j = i;

    if (IS(ws, j, "a") && IS(ws, j + 1, "hundred")) {
        v = 1;
        j++;

    } else if ((u = lookup(units, W(ws, j))) >= 0) {
        v = u;
        j++;

    } else if ((t = lookup(teens, W(ws, j))) >= 0) {
        *next = j + 1;
        return 10 + t;

    } else if ((t = lookup(tens, W(ws, j))) >= 0) {
        v = t * 10;
        j++;

        if (FREE(ws, j) && (u = lookup(units, W(ws, j))) > 0) {
            v += u;
            j++;
        }

        *next = j;
        return v;

    } else {
        return -1;
    }

    if (!IS(ws, j, "hundred") || v == 0) {
        *next = j;
        return v;
    }

    h = v * 100;
    j++;

    if (IS(ws, j, "and")) {
        j++;
    }

    v = 0;

    if (FREE(ws, j) && (t = lookup(teens, W(ws, j))) >= 0) {
        v = 10 + t;
        j++;

    } else if (FREE(ws, j) && (t = lookup(tens, W(ws, j))) >= 0) {
        v = t * 10;
        j++;

        if (FREE(ws, j) && (u = lookup(units, W(ws, j))) > 0) {
            v += u;
            j++;
        }

    } else if (FREE(ws, j) && (u = lookup(units, W(ws, j))) > 0) {
        v = u;
        j++;

    } else if (IS(ws, j - 1, "and")) {
        j--;
    }

    *next = j;
    return h + v;
}


#define DIGITS_MAX  64


static int
put_digits(char *d, size_t *nd, const char *s, size_t n)
{
    if (*nd + n >= DIGITS_MAX) {
        return -1;
    }

    memcpy(d + *nd, s, n);
    *nd += n;
    d[*nd] = '\0';

    return 0;
}


/* a single digit said at word i ("four", "4"), or -1 */
static int
one_digit(const ngx_http_rtagent_words_t *ws, size_t i)
{
    if (!FREE(ws, i)) {
        return -1;
    }

    if (W(ws, i)[0] >= '0' && W(ws, i)[0] <= '9' && W(ws, i)[1] == '\0') {
        return W(ws, i)[0] - '0';
    }

    return lookup(units, W(ws, i));
}


/*
 * The digits said by the words at i, appended to d: how many words they
 * took, 0 when word i says no digits (or they would not fit).
 */
static size_t
digit_words(const ngx_http_rtagent_words_t *ws, size_t i, int started,
    char *d, size_t *nd)
{
    int     u, t, k, rep;
    char    two[3];
    size_t  j;

    if (!FREE(ws, i)) {
        return 0;
    }

    if (is_numeral(W(ws, i), DIGITS_MAX)) {
        return put_digits(d, nd, W(ws, i), ws->word[i].len) == 0;
    }

    if (IS(ws, i, "oh") || IS(ws, i, "o")) {
        /* "oh" is an interjection unless it sits among digits */
        if (!started && one_digit(ws, i + 1) < 0) {
            return 0;
        }

        return put_digits(d, nd, "0", 1) == 0;
    }

    if ((u = lookup(units, W(ws, i))) >= 0) {
        two[0] = (char) ('0' + u);
        return put_digits(d, nd, two, 1) == 0;
    }

    if (IS(ws, i, "double") || IS(ws, i, "triple")) {
        rep = IS(ws, i, "double") ? 2 : 3;
        u = IS(ws, i + 1, "oh") ? 0 : one_digit(ws, i + 1);

        if (u < 0) {
            return 0;
        }

        two[0] = (char) ('0' + u);

        for (k = 0; k < rep; k++) {
            if (put_digits(d, nd, two, 1) != 0) {
                return 0;
            }
        }

        return 2;
    }

    if ((t = lookup(teens, W(ws, i))) >= 0) {
        two[0] = '1';
        two[1] = (char) ('0' + t);
        return put_digits(d, nd, two, 2) == 0 ? 1 : 0;
    }

    if ((t = lookup(tens, W(ws, i))) >= 0) {
        j = i + 1;
        u = (FREE(ws, j) && lookup(units, W(ws, j)) > 0)
            ? lookup(units, W(ws, j)) : 0;

        two[0] = (char) ('0' + t);
        two[1] = (char) ('0' + u);

        if (put_digits(d, nd, two, 2) != 0) {
            return 0;
        }

        return u ? 2 : 1;
    }

    if (IS(ws, i, "hundred") && started && *nd > 0) {
        /* "five hundred": 500, "one hundred twelve": 112 */
        j = i + 1;
        u = 0;

        if (FREE(ws, j) && (t = lookup(teens, W(ws, j))) >= 0) {
            u = 10 + t;
            j++;

        } else if (FREE(ws, j) && (t = lookup(tens, W(ws, j))) >= 0) {
            u = t * 10;
            j++;

            if (FREE(ws, j) && lookup(units, W(ws, j)) > 0) {
                u += lookup(units, W(ws, j));
                j++;
            }

        } else if (FREE(ws, j) && lookup(units, W(ws, j)) > 0) {
            u = lookup(units, W(ws, j));
            j++;
        }

        two[0] = (char) ('0' + u / 10);
        two[1] = (char) ('0' + u % 10);

        return put_digits(d, nd, two, 2) == 0 ? j - i : 0;
    }

    return 0;
}


static int
digit_filler(const ngx_http_rtagent_words_t *ws, size_t i)
{
    return IS(ws, i, "uh") || IS(ws, i, "um") || IS(ws, i, "er")
           || IS(ws, i, "and") || IS(ws, i, "then");
}


typedef struct {
    size_t      from, to;
    size_t      nd;
    char        d[DIGITS_MAX];
} digit_run_t;


#define RUNS_MAX  16


int
ngx_http_rtagent_extract_digits(ngx_http_rtagent_words_t *ws, long length,
    char *out, size_t outlen)
{
    char         all[DIGITS_MAX];
    size_t       i, j, k, n, nruns, nall;
    digit_run_t  runs[RUNS_MAX], *r;

    nruns = 0;
    i = 0;

    while (i < ws->n && nruns < RUNS_MAX) {
        r = &runs[nruns];
        r->nd = 0;
        r->d[0] = '\0';

        n = digit_words(ws, i, 0, r->d, &r->nd);
        if (n == 0) {
            i++;
            continue;
        }

        r->from = i;
        j = i + n;

        for ( ;; ) {
            k = j;

            while (digit_filler(ws, k)) {
                k++;
            }

            n = digit_words(ws, k, 1, r->d, &r->nd);
            if (n == 0) {
                break;
            }

            j = k + n;
        }

        r->to = j;
        nruns++;
        i = j;
    }

    if (nruns == 0) {
        return -1;
    }

    r = NULL;

    if (length <= 0) {
        r = &runs[0];

    } else {
        for (k = 0; k < nruns; k++) {
            if (runs[k].nd == (size_t) length) {
                r = &runs[k];
                break;
            }
        }
    }

    if (r) {
        if (r->nd + 1 > outlen) {
            return -1;
        }

        memcpy(out, r->d, r->nd + 1);
        ngx_http_rtagent_words_use(ws, r->from, r->to);
        return 0;
    }

    /* the runs together: "four two seven one, eight three six five" */
    nall = 0;

    for (k = 0; k < nruns; k++) {
        if (nall + runs[k].nd >= sizeof(all)) {
            return -1;
        }

        memcpy(all + nall, runs[k].d, runs[k].nd);
        nall += runs[k].nd;
    }

    if (nall != (size_t) length || nall + 1 > outlen) {
        return -1;
    }

    memcpy(out, all, nall);
    out[nall] = '\0';

    for (k = 0; k < nruns; k++) {
        ngx_http_rtagent_words_use(ws, runs[k].from, runs[k].to);
    }

    return 0;
}


/* ---- numbers ----------------------------------------------------------- */

int
ngx_http_rtagent_extract_number(ngx_http_rtagent_words_t *ws, long min,
    long max, char *out, size_t outlen)
{
    long    v;
    size_t  i, next;

    for (i = 0; i < ws->n; i++) {
        if (!FREE(ws, i)) {
            continue;
        }

        next = i;
        v = -1;

        if (IS(ws, i, "a") && IS(ws, i + 1, "couple")) {
            v = 2;
            next = IS(ws, i + 2, "of") ? i + 3 : i + 2;

        } else if (IS(ws, i, "couple")) {
            v = 2;
            next = IS(ws, i + 1, "of") ? i + 2 : i + 1;

        } else if (IS(ws, i, "single")) {
            v = 1;
            next = i + 1;

        } else if ((IS(ws, i, "only") || IS(ws, i, "just"))
                   && (IS(ws, i + 1, "me") || IS(ws, i + 1, "mine")
                       || IS(ws, i + 1, "myself") || IS(ws, i + 1, "my")
                       || IS(ws, i + 1, "one")))
        {
            v = 1;
            next = i + 2;

        } else if (IS(ws, i, "one")
                   && i > 0 && (strcmp(W(ws, i - 1), "no") == 0
                                || strcmp(W(ws, i - 1), "that") == 0
                                || strcmp(W(ws, i - 1), "this") == 0))
        {
            continue;   /* "no one", "that one" */

        } else {
            v = cardinal(ws, i, &next);
        }

        if (v < 0) {
            continue;
        }

        if (v < min || (max > 0 && v > max)) {
            return -1;
        }

        snprintf(out, outlen, "%ld", v);
        ngx_http_rtagent_words_use(ws, i, next);

        return 0;
    }

    return -1;
}


/* ---- dates ------------------------------------------------------------- */

/* days since 1970-01-01 of a proleptic Gregorian date */
static long
days_from_civil(long y, long m, long d)
{
    long  era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


static void
civil_from_days(long z, long *y, long *m, long *d)
{
    long  era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp + (mp < 10 ? 3 : -9);
    *y = yoe + era * 400 + (*m <= 2);
}


/* 0 is Sunday */
static int
weekday(long z)
{
    return (int) (((z % 7) + 7 + 4) % 7);
}


static int
month_days(long y, long m)
{
    static const int  n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        return 29;
    }

    return n[m - 1];
}


/* "YYYY-MM-DD" to days, or -1 with *ok 0 */
static long
parse_iso(const char *s, size_t len, int *ok)
{
    long    y, m, d;
    size_t  i;

    *ok = 0;

    if (s == NULL || len != 10 || s[4] != '-' || s[7] != '-') {
        return -1;
    }

    for (i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) {
            return -1;
        }
    }

    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10
        + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');

    if (m < 1 || m > 12 || d < 1 || d > month_days(y, m)) {
        return -1;
    }

    *ok = 1;

    return days_from_civil(y, m, d);
}


/* a day of the month at word i ("third", "3rd", "twenty first", "3") */
static long
month_day(const ngx_http_rtagent_words_t *ws, size_t i, int cardinals,
    size_t *next)
{
    int          t, u;
    long         v;
    size_t       n;
    const char  *w;

    if (!FREE(ws, i)) {
        return -1;
    }

    w = W(ws, i);
    n = ws->word[i].len;

    if (n >= 3 && n <= 4 && w[0] >= '0' && w[0] <= '9'
        && (strcmp(w + n - 2, "st") == 0 || strcmp(w + n - 2, "nd") == 0
            || strcmp(w + n - 2, "rd") == 0 || strcmp(w + n - 2, "th") == 0)
        && (n == 3 || (w[1] >= '0' && w[1] <= '9')))
    {
        v = strtol(w, NULL, 10);
        *next = i + 1;
        return (v >= 1 && v <= 31) ? v : -1;
    }

    if (cardinals && is_numeral(w, 2)) {
        v = strtol(w, NULL, 10);
        *next = i + 1;
        return (v >= 1 && v <= 31) ? v : -1;
    }

    if ((t = lookup(ordinals, w)) > 0) {
        *next = i + 1;
        return t;
    }

    if (strcmp(w, "thirtieth") == 0) {
        *next = i + 1;
        return 30;
    }

    if ((t = lookup(tens, w)) == 2 || t == 3) {
        if (FREE(ws, i + 1) && (u = lookup(ordinals, W(ws, i + 1))) > 0
            && u < 10)
        {
            *next = i + 2;
            return (t * 10 + u <= 31) ? t * 10 + u : -1;
        }

        if (cardinals && FREE(ws, i + 1)
            && (u = lookup(units, W(ws, i + 1))) > 0)
        {
            *next = i + 2;
            return (t * 10 + u <= 31) ? t * 10 + u : -1;
        }

        if (cardinals && t == 2) {
            *next = i + 1;
            return 20;
        }

        return -1;
    }

    if (cardinals) {
        if ((u = lookup(units, w)) > 0) {
            *next = i + 1;
            return u;
        }

        if ((t = lookup(teens, w)) >= 0) {
            *next = i + 1;
            return 10 + t;
        }
    }

    return -1;
}


static long
year_at(const ngx_http_rtagent_words_t *ws, size_t i)
{
    long  y;

    if (!FREE(ws, i) || !is_numeral(W(ws, i), 4) || ws->word[i].len != 4) {
        return -1;
    }

    y = strtol(W(ws, i), NULL, 10);

    return (y >= 1900 && y <= 2199) ? y : -1;
}


/*
 * A month and day, with year y (or -1: the nearest on dir's side), as
 * days; -1 when no such date or it is on the wrong side of today.
 */
static long
resolve_md(long today, long y, long m, long d,
    ngx_http_rtagent_date_dir_e dir)
{
    long  ty, tm, td, z;

    civil_from_days(today, &ty, &tm, &td);

    if (y < 0) {
        y = ty;

        if (d > month_days(y, m) && !(m == 2 && d == 29)) {
            return -1;
        }

        for ( ;; ) {
            if (d <= month_days(y, m)) {
                z = days_from_civil(y, m, d);

                if (dir == NGX_HTTP_RTAGENT_DATE_PAST ? z <= today
                                                      : z >= today)
                {
                    return z;
                }
            }

            y += (dir == NGX_HTTP_RTAGENT_DATE_PAST) ? -1 : 1;

            if (y < ty - 8 || y > ty + 8) {
                return -1;
            }
        }
    }

    if (d > month_days(y, m)) {
        return -1;
    }

    z = days_from_civil(y, m, d);

    if (dir == NGX_HTTP_RTAGENT_DATE_PAST ? z > today : z < today) {
        return -1;
    }

    return z;
}


/* a day of the month alone ("on the fifteenth"): this month or the next
 * (previous) one on dir's side */
static long
resolve_d(long today, long d, ngx_http_rtagent_date_dir_e dir)
{
    int   k;
    long  ty, tm, td, y, m;

    civil_from_days(today, &ty, &tm, &td);

    y = ty;
    m = tm;

    for (k = 0; k < 3; k++) {
        if (d <= month_days(y, m)) {
            if (dir == NGX_HTTP_RTAGENT_DATE_PAST ? d <= td || k > 0
                                                  : d >= td || k > 0)
            {
                return days_from_civil(y, m, d);
            }
        }

        if (dir == NGX_HTTP_RTAGENT_DATE_PAST) {
            if (--m == 0) {
                m = 12;
                y--;
            }

        } else if (++m == 13) {
            m = 1;
            y++;
        }

        td = (dir == NGX_HTTP_RTAGENT_DATE_PAST) ? 31 : 1;
    }

    return -1;
}


/* "3/14", "3/14/2026", "3/14/26", "2026-03-14" */
static long
numeric_date(const char *w, long today, ngx_http_rtagent_date_dir_e dir)
{
    int   ok;
    long  a, b, c;
    char *p;

    if (strlen(w) == 10 && w[4] == '-') {
        a = parse_iso(w, 10, &ok);
        if (!ok) {
            return -1;
        }

        return (dir == NGX_HTTP_RTAGENT_DATE_PAST ? a > today : a < today)
               ? -1 : a;
    }

    if (w[0] < '0' || w[0] > '9') {
        return -1;
    }

    a = strtol(w, &p, 10);
    if (*p != '/' || p[1] < '0' || p[1] > '9') {
        return -1;
    }

    b = strtol(p + 1, &p, 10);
    c = -1;

    if (*p == '/') {
        if (p[1] < '0' || p[1] > '9') {
            return -1;
        }

        c = strtol(p + 1, &p, 10);

        if (c < 100) {
            c += 2000;
        }

        if (c < 1900 || c > 2199) {
            return -1;
        }
    }

    if (*p != '\0' || a < 1 || a > 12 || b < 1 || b > 31) {
        return -1;
    }

    return resolve_md(today, c, a, b, dir);
}


/* N days or weeks at word i ("three days", "a week", "a couple of days") */
static long
span_days(const ngx_http_rtagent_words_t *ws, size_t i, size_t *next)
{
    long    n;
    size_t  j;

    if (IS(ws, i, "a") && IS(ws, i + 1, "couple")) {
        n = 2;
        j = IS(ws, i + 2, "of") ? i + 3 : i + 2;

    } else if (IS(ws, i, "a") || IS(ws, i, "one")) {
        n = 1;
        j = i + 1;

    } else {
        n = cardinal(ws, i, &j);
        if (n <= 0 || n > 400) {
            return -1;
        }
    }

    if (IS(ws, j, "day") || IS(ws, j, "days")) {
        *next = j + 1;
        return n;
    }

    if (IS(ws, j, "week") || IS(ws, j, "weeks")) {
        *next = j + 1;
        return n * 7;
    }

    return -1;
}


/* "[the] day before yesterday" (-2), "[the] day after tomorrow" (2), or 0 */
static long
day_beyond(const ngx_http_rtagent_words_t *ws, size_t i, size_t *next)
{
    if (IS(ws, i, "the")) {
        i++;
    }

    if (!IS(ws, i, "day")) {
        return 0;
    }

    *next = i + 3;

    if (IS(ws, i + 1, "before") && IS(ws, i + 2, "yesterday")) {
        return -2;
    }

    if (IS(ws, i + 1, "after") && IS(ws, i + 2, "tomorrow")) {
        return 2;
    }

    return 0;
}


int
ngx_http_rtagent_extract_date(ngx_http_rtagent_words_t *ws,
    const char *today_s, ngx_http_rtagent_date_dir_e dir, char *out,
    size_t outlen)
{
    int     ok, wd, twd;
    long    today, z, y, m, d, n;
    size_t  i, j, k, ds, from;

    today = parse_iso(today_s, today_s ? strlen(today_s) : 0, &ok);
    if (!ok || outlen < 11) {
        return -1;
    }

    for (i = 0; i < ws->n; i++) {
        if (!FREE(ws, i)) {
            continue;
        }

        z = -1;
        from = i;
        j = i + 1;

        if (IS(ws, i, "today") || IS(ws, i, "tonight")) {
            z = today;

        } else if (IS(ws, i, "this")
                   && (IS(ws, i + 1, "morning") || IS(ws, i + 1, "afternoon")
                       || IS(ws, i + 1, "evening")))
        {
            z = today;
            j = i + 2;

        } else if (IS(ws, i, "yesterday")) {
            z = today - 1;

        } else if (IS(ws, i, "last") && IS(ws, i + 1, "night")) {
            z = today - 1;
            j = i + 2;

        } else if (IS(ws, i, "tomorrow")) {
            z = today + 1;

        } else if ((n = day_beyond(ws, i, &k)) != 0) {
            z = today + n;
            j = k;

        } else if (IS(ws, i, "in") && (n = span_days(ws, i + 1, &k)) > 0) {
            z = today + n;
            j = k;

        } else if ((n = span_days(ws, i, &k)) > 0 && IS(ws, k, "ago")) {
            z = today - n;
            j = k + 1;

        } else if ((IS(ws, i, "last") || IS(ws, i, "next")
                    || IS(ws, i, "this") || IS(ws, i, "past")
                    || IS(ws, i, "on") || IS(ws, i, "coming"))
                   && FREE(ws, i + 1)
                   && (wd = lookup(weekdays, W(ws, i + 1))) >= 0)
        {
            twd = weekday(today);
            j = i + 2;

            if (IS(ws, i, "last") || IS(ws, i, "past")) {
                z = today - ((twd - wd + 6) % 7 + 1);

            } else if (IS(ws, i, "next") || IS(ws, i, "coming")) {
                z = today + ((wd - twd + 6) % 7 + 1);

            } else {
                goto bare_weekday;
            }

        } else if ((IS(ws, i, "last") || IS(ws, i, "next"))
                   && IS(ws, i + 1, "week"))
        {
            twd = weekday(today);
            j = i + 2;

            if (FREE(ws, j) && (wd = lookup(weekdays, W(ws, j))) >= 0) {
                /* "next week monday": that day of next (last) week */
                z = today - (twd + 6) % 7 + (wd + 6) % 7
                    + (IS(ws, i, "next") ? 7 : -7);
                j++;

            } else {
                z = today + (IS(ws, i, "next") ? 7 : -7);
            }

        } else if ((wd = lookup(weekdays, W(ws, i))) >= 0) {
            j = i + 1;
            twd = weekday(today);

        bare_weekday:
            if (dir == NGX_HTTP_RTAGENT_DATE_PAST) {
                z = today - (twd - wd + 7) % 7;

            } else {
                z = today + ((wd - twd + 6) % 7 + 1);
            }

        } else {
            /* [on] [the] <month> [the] <day> [year] */
            k = i;

            if (IS(ws, k, "on")) {
                k++;
            }

            if (IS(ws, k, "the")) {
                k++;
            }

            if (FREE(ws, k) && (m = lookup(months, W(ws, k))) >= 0) {
                k++;

                if (IS(ws, k, "the")) {
                    k++;
                }

                d = month_day(ws, k, 1, &k);
                if (d > 0) {
                    y = year_at(ws, k);
                    if (y > 0) {
                        k++;
                    }

                    z = resolve_md(today, y, m + 1, d, dir);
                    j = k;

                    if (z < 0) {
                        return -1;
                    }
                }

            } else if ((ds = k, d = month_day(ws, k, 0, &k)) > 0) {
                /* the <day> of <month> [year], or the <day> alone */
                if (IS(ws, k, "of") && FREE(ws, k + 1)
                    && (m = lookup(months, W(ws, k + 1))) >= 0)
                {
                    k += 2;
                    y = year_at(ws, k);
                    if (y > 0) {
                        k++;
                    }

                    z = resolve_md(today, y, m + 1, d, dir);

                } else if (ds >= 1 && IS(ws, ds - 1, "the")) {
                    z = resolve_d(today, d, dir);

                } else {
                    continue;
                }

                if (z < 0) {
                    return -1;
                }

                j = k;

            } else if (FREE(ws, i)) {
                z = numeric_date(W(ws, i), today, dir);
                j = i + 1;

                if (z < 0 && strchr(W(ws, i), '/')) {
                    return -1;
                }
            }
        }

        if (z < 0) {
            continue;
        }

        if (dir == NGX_HTTP_RTAGENT_DATE_PAST ? z > today : z < today) {
            return -1;
        }

        civil_from_days(z, &y, &m, &d);

        if (y < 0 || y > 9999) {
            return -1;
        }

        snprintf(out, outlen, "%04ld-%02ld-%02ld", y, m, d);
        ngx_http_rtagent_words_use(ws, from, j);

        return 0;
    }

    return -1;
}


/* ---- times of day ------------------------------------------------------ */

static int
meridiem(const ngx_http_rtagent_words_t *ws, size_t i, size_t *next)
{
    if (IS(ws, i, "am") || (IS(ws, i, "a") && IS(ws, i + 1, "m"))) {
        *next = i + (IS(ws, i, "am") ? 1 : 2);
        return 0;
    }

    if (IS(ws, i, "pm") || (IS(ws, i, "p") && IS(ws, i + 1, "m"))) {
        *next = i + (IS(ws, i, "pm") ? 1 : 2);
        return 12;
    }

    if (IS(ws, i, "in") && IS(ws, i + 1, "the")) {
        if (IS(ws, i + 2, "morning")) {
            *next = i + 3;
            return 0;
        }

        if (IS(ws, i + 2, "afternoon") || IS(ws, i + 2, "evening")) {
            *next = i + 3;
            return 12;
        }
    }

    if (IS(ws, i, "at") && IS(ws, i + 1, "night")) {
        *next = i + 2;
        return 12;
    }

    return -1;
}


int
ngx_http_rtagent_extract_time(ngx_http_rtagent_words_t *ws, char *out,
    size_t outlen)
{
    int          mer, clock;
    long         h, mi;
    char        *p;
    size_t       i, j, k;
    const char  *w, *parts[] = { "morning", "afternoon", "evening", "night",
                                 NULL };

    for (i = 0; i < ws->n; i++) {
        if (!FREE(ws, i)) {
            continue;
        }

        w = W(ws, i);

        if (strcmp(w, "noon") == 0 || strcmp(w, "midday") == 0
            || strcmp(w, "midnight") == 0)
        {
            snprintf(out, outlen, "%s", w[1] == 'i' && w[3] == 'n'
                                        ? "00:00" : "12:00");
            ngx_http_rtagent_words_use(ws, i, i + 1);
            return 0;
        }

        h = -1;
        mi = 0;
        clock = 0;
        mer = -1;
        j = i + 1;

        if (w[0] >= '0' && w[0] <= '9') {
            h = strtol(w, &p, 10);

            if (*p == ':') {
                if (p[1] < '0' || p[1] > '9') {
                    continue;
                }

                mi = strtol(p + 1, &p, 10);
                clock = 1;
            }

            if (strcmp(p, "am") == 0) {
                mer = 0;

            } else if (strcmp(p, "pm") == 0) {
                mer = 12;

            } else if (*p != '\0') {
                continue;
            }

        } else if ((h = lookup(units, w)) > 0) {
            /* "three", "three thirty" */

        } else if ((h = lookup(teens, w)) >= 0 && h <= 2) {
            h += 10;

        } else {
            h = -1;
        }

        if (h < 0) {
            continue;
        }

        if (!clock && mer < 0) {
            /* minutes: "thirty", "forty five", "oh five", "15" */
            long  t, u;

            if (IS(ws, j, "o'clock")) {
                clock = 1;
                j++;

            } else if (IS(ws, j, "oh") && (u = one_digit(ws, j + 1)) > 0) {
                mi = u;
                j += 2;
                clock = 1;

            } else if (FREE(ws, j) && (t = lookup(tens, W(ws, j))) >= 2
                       && t <= 5)
            {
                mi = t * 10;
                j++;

                if (FREE(ws, j) && (u = lookup(units, W(ws, j))) > 0) {
                    mi += u;
                    j++;
                }

                clock = 1;

            } else if (FREE(ws, j) && (t = lookup(teens, W(ws, j))) >= 0) {
                mi = 10 + t;
                j++;
                clock = 1;

            } else if (FREE(ws, j) && is_numeral(W(ws, j), 2)
                       && ws->word[j].len == 2)
            {
                mi = strtol(W(ws, j), NULL, 10);
                j++;
                clock = 1;
            }

            mer = meridiem(ws, j, &k);
            if (mer >= 0) {
                j = k;
            }

        } else if (mer < 0) {
            mer = meridiem(ws, j, &k);
            if (mer >= 0) {
                j = k;
            }
        }

        if (mer < 0 && !clock && !(i > 0 && IS(ws, i - 1, "at"))) {
            continue;
        }

        if (h > 23 || mi > 59 || (mer >= 0 && (h < 1 || h > 12))) {
            continue;
        }

        if (mer >= 0) {
            h = h % 12 + mer;

        } else if (h >= 1 && h <= 7 && !(w[0] >= '0' && w[0] <= '9'
                                          && strchr(w, ':') && w[0] == '0'))
        {
            h += 12;    /* "at three": an afternoon hour */
        }

        snprintf(out, outlen, "%02ld:%02ld", h, mi);
        ngx_http_rtagent_words_use(ws, i > 0 && IS(ws, i - 1, "at") ? i - 1
                                                                   : i, j);
        return 0;
    }

    for (i = 0; parts[i]; i++) {
        j = (size_t) ngx_http_rtagent_words_find(ws, 0, parts[i],
                                                 strlen(parts[i]));
        if ((int) j >= 0) {
            snprintf(out, outlen, "%s", parts[i]);
            ngx_http_rtagent_words_use(ws, j, j + 1);
            return 0;
        }
    }

    if ((int) (j = ngx_http_rtagent_words_find(ws, 0, "tonight", 7)) >= 0) {
        snprintf(out, outlen, "evening");
        ngx_http_rtagent_words_use(ws, j, j + 1);
        return 0;
    }

    return -1;
}


/* ---- yes / no ---------------------------------------------------------- */

static const char *const  yes_words[] = {
    "yes", "yeah", "yep", "yup", "yea", "ya", "correct", "right", "sure",
    "absolutely", "definitely", "affirmative", "ok", "okay", "true",
    "exactly", "indeed", "certainly", "mhm", NULL
};

static const char *const  no_words[] = {
    "no", "nope", "nah", "not", "never", "nobody", "none", "incorrect",
    "wrong", "negative", "nothing", "neither", "nor", "wasn't", "weren't",
    "isn't", "aren't", "didn't", "don't", "doesn't", "haven't", "hasn't",
    "hadn't", "nowhere", "nay", NULL
};


int
ngx_http_rtagent_extract_yes_no(ngx_http_rtagent_words_t *ws, char *out,
    size_t outlen)
{
    int     yes, no;
    size_t  i;

    yes = 0;
    no = 0;

    for (i = 0; i < ws->n; i++) {
        if (!FREE(ws, i)) {
            continue;
        }

        if (lookup(no_words, W(ws, i)) >= 0) {
            no = 1;

        } else if (lookup(yes_words, W(ws, i)) >= 0) {
            yes = 1;
        }
    }

    if (!yes && !no) {
        return -1;
    }

    snprintf(out, outlen, "%s", no ? "no" : "yes");

    for (i = 0; i < ws->n; i++) {
        if (FREE(ws, i) && (lookup(no_words, W(ws, i)) >= 0
                            || lookup(yes_words, W(ws, i)) >= 0))
        {
            ws->word[i].used = 1;

            /* "no one", "not really", "that's right" go with their cue */
            if (i + 1 < ws->n && (IS(ws, i + 1, "one")
                                  || IS(ws, i + 1, "really")))
            {
                ws->word[i + 1].used = 1;
            }

            if (i > 0 && (IS(ws, i - 1, "that's") || IS(ws, i - 1, "that")
                          || IS(ws, i - 1, "is") || IS(ws, i - 1, "it's")))
            {
                ws->word[i - 1].used = 1;
            }
        }
    }

    return 0;
}


/* ---- a choice and free text -------------------------------------------- */

int
ngx_http_rtagent_extract_choice(ngx_http_rtagent_words_t *ws,
    const char *const *choice, const size_t *len, size_t n, char *out,
    size_t outlen)
{
    int          at, best_at;
    size_t       k, best, words;
    const char  *p;

    best = n;
    best_at = -1;

    for (k = 0; k < n; k++) {
        at = ngx_http_rtagent_words_find(ws, 0, choice[k], len[k]);

        if (at >= 0 && (best == n || len[k] > len[best])) {
            best = k;
            best_at = at;
        }
    }

    if (best == n || len[best] + 1 > outlen) {
        return -1;
    }

    memcpy(out, choice[best], len[best]);
    out[len[best]] = '\0';

    words = 1;

    for (p = choice[best]; *p; p++) {
        if (*p == ' ' && p[1] != ' ' && p[1] != '\0') {
            words++;
        }
    }

    ngx_http_rtagent_words_use(ws, best_at, best_at + words);

    return 0;
}


int
ngx_http_rtagent_extract_free_text(ngx_http_rtagent_words_t *ws, char *out,
    size_t outlen)
{
    size_t  i;

    if (ngx_http_rtagent_words_rest(ws, out, outlen) == 0) {
        return -1;
    }

    for (i = 0; i < ws->n; i++) {
        ws->word[i].used = 1;
    }

    return 0;
}
