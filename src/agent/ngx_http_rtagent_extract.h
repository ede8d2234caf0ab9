
/*
 * Typed extractors over a caller's STT text (issue 10 item 7): digits
 * spoken one by one, numbers, dates, times of day, yes/no, a choice of a
 * vocabulary, free text.  The text is first cut into lower-case words (as
 * pocketsphinx and Azure produce them); each extractor looks at the words
 * not yet taken by another one, returns the normalised value and marks the
 * words it used, so one utterance can fill several slots ("yesterday on
 * highway ten").  Pure C, no nginx, no allocation: values are written into
 * the caller's buffer.  agents/README.md lists the accepted forms.
 */


#ifndef _NGX_HTTP_RTAGENT_EXTRACT_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_EXTRACT_H_INCLUDED_


#include <stddef.h>


/* words past these limits are ignored (a turn is a sentence or two) */
#define NGX_HTTP_RTAGENT_WORDS_MAX       128
#define NGX_HTTP_RTAGENT_WORDS_BUF       2048


typedef struct {
    const char                 *w;        /* lower-case, NUL-terminated */
    size_t                      len;
    unsigned                    used:1;   /* taken by an extractor */
} ngx_http_rtagent_word_t;

typedef struct {
    ngx_http_rtagent_word_t     word[NGX_HTTP_RTAGENT_WORDS_MAX];
    size_t                      n;
    char                        buf[NGX_HTTP_RTAGENT_WORDS_BUF];
} ngx_http_rtagent_words_t;


/*
 * Cuts text into words: runs of letters, digits and apostrophes, ASCII
 * lower-cased; "/", ":" and "-" between two digits stay inside a word
 * ("3/14", "3:30", "2026-03-14"), other punctuation separates.
 */
void ngx_http_rtagent_words(ngx_http_rtagent_words_t *ws,
    const unsigned char *text, size_t len);

/* 1 if word a matches b loosely: equal, or one inflects the other
 * ("vehicle"/"vehicles", "injured"/"injuries") */
int ngx_http_rtagent_word_like(const char *a, size_t alen, const char *b,
    size_t blen);

/*
 * Where phrase (words separated by spaces) occurs among the unused words,
 * loosely, at or after word from: its first word's index, or -1.
 */
int ngx_http_rtagent_words_find(const ngx_http_rtagent_words_t *ws,
    size_t from, const char *phrase, size_t len);

/* marks words [from, to) used */
void ngx_http_rtagent_words_use(ngx_http_rtagent_words_t *ws, size_t from,
    size_t to);

/*
 * The unused words joined by single spaces into out (NUL-terminated,
 * truncated to outlen), with the fillers of free text trimmed: its length.
 */
size_t ngx_http_rtagent_words_rest(const ngx_http_rtagent_words_t *ws,
    char *out, size_t outlen);


/*
 * Each extractor returns 0 with the value in out (NUL-terminated) and its
 * words marked used, or -1 when the words hold no such value (nothing is
 * marked then).  outlen must be at least 64 (a date needs 11).
 */

/*
 * Digits: "four two seven one", "oh"/"zero", "double five", "triple
 * nine", numerals ("1 2 3", "4271"), pairs ("forty two", "twelve") and
 * "hundred" ("five hundred": 500).  A run of digit words may hold fillers
 * (uh, um, and); length > 0 asks for exactly that many digits: the run of
 * that length, or all the runs together when they add up to it.
 */
int ngx_http_rtagent_extract_digits(ngx_http_rtagent_words_t *ws,
    long length, char *out, size_t outlen);

/*
 * A cardinal from min to max (max 0: none) in decimal: "3", "two",
 * "twelve", "forty two", "a hundred and five", "a couple (of)" (2), "a
 * single", "only me", "just mine" (1).  "no one" is not a one.
 */
int ngx_http_rtagent_extract_number(ngx_http_rtagent_words_t *ws,
    long min, long max, char *out, size_t outlen);

/* which way a date without a year or a week may go from today */
typedef enum {
    NGX_HTTP_RTAGENT_DATE_PAST = 0,     /* never after today (an event) */
    NGX_HTTP_RTAGENT_DATE_FUTURE        /* never before today (a booking) */
} ngx_http_rtagent_date_dir_e;

/*
 * A date resolved against today ("YYYY-MM-DD") to "YYYY-MM-DD": today,
 * tonight, this morning, yesterday, last night, tomorrow, the day before
 * yesterday, the day after tomorrow, N days/weeks ago, in N days/weeks, a
 * week ago, last/this/next <weekday>, <weekday>, <month> <day> ("march
 * third", "march 3rd", "march the third"), the <day> of <month>, the
 * <day> (this month), with an optional numeral year, and "3/14",
 * "3/14/2026", "2026-03-14".  A date
 * on the wrong side of today for dir is no match ("tomorrow" for an
 * accident); a bare weekday or day is the nearest one on dir's side.
 */
int ngx_http_rtagent_extract_date(ngx_http_rtagent_words_t *ws,
    const char *today, ngx_http_rtagent_date_dir_e dir, char *out,
    size_t outlen);

/*
 * A time of day: "HH:MM" for "3 pm", "3pm", "three thirty pm", "3:30",
 * "15:00", "noon", "midnight", "three o'clock" (1 to 7 without am/pm are
 * taken as afternoon hours); or "morning", "afternoon", "evening", "night"
 * for those words.
 */
int ngx_http_rtagent_extract_time(ngx_http_rtagent_words_t *ws, char *out,
    size_t outlen);

/*
 * Yes or no: "yes", "yeah", "yep", "correct", "that's right", "sure", ...;
 * "no", "nope", "not really", "no one", "nobody", "none", "wrong", a
 * negated verb ("wasn't") ...  A negative anywhere wins ("that's not
 * right").  out is "yes" or "no".
 */
int ngx_http_rtagent_extract_yes_no(ngx_http_rtagent_words_t *ws,
    char *out, size_t outlen);

/*
 * One of n choices (phrases), loosely matched as whole words; the longest
 * that occurs wins.  out is the choice as given.
 */
int ngx_http_rtagent_extract_choice(ngx_http_rtagent_words_t *ws,
    const char *const *choice, const size_t *len, size_t n, char *out,
    size_t outlen);

/*
 * Free text: the unused words, fillers trimmed from the start ("um", "uh",
 * "well", "so", "it was", "it happened", "i think") and the end ("um",
 * "uh"); no match when nothing is left.  Marks the words used.
 */
int ngx_http_rtagent_extract_free_text(ngx_http_rtagent_words_t *ws,
    char *out, size_t outlen);


#endif /* _NGX_HTTP_RTAGENT_EXTRACT_H_INCLUDED_ */
