
/*
 * SSML for Azure Speech TTS (see ngx_http_rtagent_ssml.h).
 */


#include <stdint.h>
#include <string.h>

#include "ngx_http_rtagent_ssml.h"


#define SSML_HEAD                                                            \
    "<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' "      \
    "xmlns:mstts='https://www.w3.org/2001/mstts' xml:lang='"
#define SSML_VOICE       "'><voice name='"
#define SSML_VOICE_END   "'>"
#define SSML_STYLE       "<mstts:express-as style='"
#define SSML_STYLE_END   "</mstts:express-as>"
#define SSML_RATE        "<prosody rate='"
#define SSML_RATE_END    "</prosody>"
#define SSML_ATTR_END    "'>"
#define SSML_TAIL        "</voice></speak>"

#define cpy(p, s)  (memcpy(p, s, sizeof(s) - 1), (p) + sizeof(s) - 1)


/*
 * The length of the well-formed UTF-8 sequence at p (Unicode 15, table
 * 3-7), or 0 when there is none.
 */

static size_t
ngx_http_rtagent_ssml_utf8(const uint8_t *p, size_t n)
{
    uint8_t  c, lo, hi;
    size_t   len, i;

    c = p[0];

    if (c < 0x80) {
        return 1;
    }

    lo = 0x80;
    hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;

    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;

        if (c == 0xe0) {
            lo = 0xa0;                          /* overlong */

        } else if (c == 0xed) {
            hi = 0x9f;                          /* surrogates */
        }

    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;

        if (c == 0xf0) {
            lo = 0x90;                          /* overlong */

        } else if (c == 0xf4) {
            hi = 0x8f;                          /* beyond U+10FFFF */
        }

    } else {
        return 0;
    }

    if (n < len || p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < len; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }

    return len;
}


size_t
ngx_http_rtagent_ssml_escape(unsigned char *dst, const unsigned char *src,
    size_t len)
{
    size_t          n;
    uint8_t         c;
    unsigned char  *p;
    const uint8_t  *s, *end;

    p = dst;
    s = src;
    end = src + len;

    while (s < end) {
        c = *s;

        switch (c) {

        case '&':
            p = cpy(p, "&amp;");
            s++;
            continue;

        case '<':
            p = cpy(p, "&lt;");
            s++;
            continue;

        case '>':
            p = cpy(p, "&gt;");
            s++;
            continue;

        case '"':
            p = cpy(p, "&quot;");
            s++;
            continue;

        case '\'':
            p = cpy(p, "&apos;");
            s++;
            continue;

        case '\t':
        case '\n':
        case '\r':
            *p++ = c;
            s++;
            continue;
        }

        if (c < 0x20) {
            *p++ = ' ';
            s++;
            continue;
        }

        n = ngx_http_rtagent_ssml_utf8(s, end - s);

        if (n == 0) {
            p = cpy(p, "\xef\xbf\xbd");
            s++;
            continue;
        }

        /* U+FFFE and U+FFFF are not XML characters */
        if (n == 3 && s[0] == 0xef && s[1] == 0xbf && s[2] >= 0xbe) {
            *p++ = ' ';
            s += 3;
            continue;
        }

        memcpy(p, s, n);
        p += n;
        s += n;
    }

    return p - dst;
}


/* what a configured value may hold: a byte set, and a name for errors */

static const char *
ngx_http_rtagent_ssml_check(const unsigned char *p, size_t len,
    const char *extra, int digits)
{
    size_t  i;
    uint8_t c;

    if (len == 0) {
        return "is empty";
    }

    if (len > 128) {
        return "is longer than 128 bytes";
    }

    for (i = 0; i < len; i++) {
        c = p[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (digits && c >= '0' && c <= '9')
            || (c != '\0' && strchr(extra, c) != NULL))
        {
            continue;
        }

        return "has a character that is not allowed";
    }

    return NULL;
}


const char *
ngx_http_rtagent_ssml_check_voice(const unsigned char *p, size_t len)
{
    return ngx_http_rtagent_ssml_check(p, len, ":_-", 1);
}


const char *
ngx_http_rtagent_ssml_check_lang(const unsigned char *p, size_t len)
{
    return ngx_http_rtagent_ssml_check(p, len, "-", 1);
}


const char *
ngx_http_rtagent_ssml_check_style(const unsigned char *p, size_t len)
{
    return ngx_http_rtagent_ssml_check(p, len, "-", 0);
}


const char *
ngx_http_rtagent_ssml_check_rate(const unsigned char *p, size_t len)
{
    size_t              i, digits, dots;
    static const char  *names[] = {
        "x-slow", "slow", "medium", "fast", "x-fast", "default", NULL
    };

    for (i = 0; names[i]; i++) {
        if (len == strlen(names[i]) && memcmp(p, names[i], len) == 0) {
            return NULL;
        }
    }

    /* [+-]digits[.digits][%]: a relative change or a multiplier */

    i = 0;

    if (len && (p[0] == '+' || p[0] == '-')) {
        i++;
    }

    if (len && p[len - 1] == '%') {
        len--;
    }

    digits = 0;
    dots = 0;

    for ( /* void */ ; i < len; i++) {
        if (p[i] >= '0' && p[i] <= '9') {
            digits++;

        } else if (p[i] == '.' && dots == 0 && digits) {
            dots++;

        } else {
            return "must be x-slow, slow, medium, fast, x-fast, default, "
                   "a relative value such as \"+10%\" or a multiplier "
                   "such as \"1.2\"";
        }
    }

    if (digits == 0 || digits > 6 || p[len - 1] == '.') {
        return "must be x-slow, slow, medium, fast, x-fast, default, "
               "a relative value such as \"+10%\" or a multiplier "
               "such as \"1.2\"";
    }

    return NULL;
}


size_t
ngx_http_rtagent_ssml_size(const ngx_http_rtagent_ssml_voice_t *v,
    size_t text_len)
{
    size_t  n;

    n = sizeof(SSML_HEAD) - 1
        + ngx_http_rtagent_ssml_escaped_max(v->lang_len)
        + sizeof(SSML_VOICE) - 1
        + ngx_http_rtagent_ssml_escaped_max(v->voice_len)
        + sizeof(SSML_VOICE_END) - 1
        + ngx_http_rtagent_ssml_escaped_max(text_len)
        + sizeof(SSML_TAIL) - 1;

    if (v->style_len) {
        n += sizeof(SSML_STYLE) - 1
             + ngx_http_rtagent_ssml_escaped_max(v->style_len)
             + sizeof(SSML_ATTR_END) - 1 + sizeof(SSML_STYLE_END) - 1;
    }

    if (v->rate_len) {
        n += sizeof(SSML_RATE) - 1
             + ngx_http_rtagent_ssml_escaped_max(v->rate_len)
             + sizeof(SSML_ATTR_END) - 1 + sizeof(SSML_RATE_END) - 1;
    }

    return n;
}


size_t
ngx_http_rtagent_ssml_build(unsigned char *dst,
    const ngx_http_rtagent_ssml_voice_t *v, const unsigned char *text,
    size_t text_len)
{
    unsigned char  *p;

    p = cpy(dst, SSML_HEAD);
    p += ngx_http_rtagent_ssml_escape(p, v->lang, v->lang_len);
    p = cpy(p, SSML_VOICE);
    p += ngx_http_rtagent_ssml_escape(p, v->voice, v->voice_len);
    p = cpy(p, SSML_VOICE_END);

    if (v->style_len) {
        p = cpy(p, SSML_STYLE);
        p += ngx_http_rtagent_ssml_escape(p, v->style, v->style_len);
        p = cpy(p, SSML_ATTR_END);
    }

    if (v->rate_len) {
        p = cpy(p, SSML_RATE);
        p += ngx_http_rtagent_ssml_escape(p, v->rate, v->rate_len);
        p = cpy(p, SSML_ATTR_END);
    }

    p += ngx_http_rtagent_ssml_escape(p, text, text_len);

    if (v->rate_len) {
        p = cpy(p, SSML_RATE_END);
    }

    if (v->style_len) {
        p = cpy(p, SSML_STYLE_END);
    }

    p = cpy(p, SSML_TAIL);

    return p - dst;
}
