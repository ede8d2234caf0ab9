
/*
 * Sentence cutting (see ngx_http_rtagent_sentence.h).  Bytes are UTF-8;
 * only ASCII punctuation and white space are looked at, so a multi-byte
 * character is never split.
 */


#include <string.h>

#include "ngx_http_rtagent_sentence.h"


static const char  *ngx_http_rtagent_sentence_abbrevs[] = {
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "etc", "e.g", "i.e",
    "no", "approx", NULL
};


static int
ngx_http_rtagent_sentence_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}


static int
ngx_http_rtagent_sentence_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}


/* the word before the period at p[dot] is an abbreviation or a number */

static int
ngx_http_rtagent_sentence_no_end(const uint8_t *p, size_t dot)
{
    size_t       start, n, i, k;
    const char  *a;

    start = dot;

    while (start > 0 && !ngx_http_rtagent_sentence_space(p[start - 1])) {
        start--;
    }

    n = dot - start;

    if (n == 1 && p[start] >= 'A' && p[start] <= 'Z') {
        return 1;                       /* an initial: "J. Smith" */
    }

    for (i = 0; ngx_http_rtagent_sentence_abbrevs[i]; i++) {
        a = ngx_http_rtagent_sentence_abbrevs[i];

        if (strlen(a) != n) {
            continue;
        }

        for (k = 0; k < n; k++) {
            if (ngx_http_rtagent_sentence_lower(p[start + k])
                != (uint8_t) a[k])
            {
                break;
            }
        }

        if (k == n) {
            return 1;
        }
    }

    return 0;
}


/* after the end mark at p[i]: closing quotes and brackets, then spaces */

static size_t
ngx_http_rtagent_sentence_tail(const uint8_t *p, size_t len, size_t i)
{
    i++;

    while (i < len && (p[i] == '"' || p[i] == '\'' || p[i] == ')'
                       || p[i] == ']'))
    {
        i++;
    }

    while (i < len && ngx_http_rtagent_sentence_space(p[i])) {
        i++;
    }

    return i;
}


size_t
ngx_http_rtagent_sentence_cut(const uint8_t *p, size_t len, int final)
{
    size_t   i, j, comma, space;
    uint8_t  c;

    comma = 0;
    space = 0;

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c == '\n') {
            return ngx_http_rtagent_sentence_tail(p, len, i);
        }

        if (c == '.' || c == '!' || c == '?' || c == ';' || c == ':') {
            j = i + 1;

            while (j < len && (p[j] == '"' || p[j] == '\'' || p[j] == ')'
                               || p[j] == ']' || p[j] == c))
            {
                j++;
            }

            if (j == len) {
                /* what follows decides; at the end there is none */
                return final ? len : 0;
            }

            if (!ngx_http_rtagent_sentence_space(p[j])) {
                continue;               /* "3.14", "a.m.", "http://" */
            }

            if (c == '.' && ngx_http_rtagent_sentence_no_end(p, i)) {
                continue;
            }

            return ngx_http_rtagent_sentence_tail(p, len, j - 1);
        }

        if (c == ',' && i + 1 < len
            && ngx_http_rtagent_sentence_space(p[i + 1]))
        {
            comma = i;
        }

        if (ngx_http_rtagent_sentence_space(c)) {
            space = i;
        }

        if (i + 1 >= NGX_HTTP_RTAGENT_SENTENCE_CLAUSE && comma) {
            return ngx_http_rtagent_sentence_tail(p, len, comma);
        }

        if (i + 1 >= NGX_HTTP_RTAGENT_SENTENCE_MAX) {
            return space ? ngx_http_rtagent_sentence_tail(p, len, space)
                         : i + 1;
        }
    }

    return final ? len : 0;
}


size_t
ngx_http_rtagent_sentence_trim(const uint8_t **p, size_t len)
{
    while (len > 0 && ngx_http_rtagent_sentence_space((*p)[0])) {
        (*p)++;
        len--;
    }

    while (len > 0 && ngx_http_rtagent_sentence_space((*p)[len - 1])) {
        len--;
    }

    return len;
}
