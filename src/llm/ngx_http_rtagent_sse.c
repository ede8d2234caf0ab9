
/*
 * Server-Sent Events, incrementally (see ngx_http_rtagent_sse.h).
 */


#include <stdio.h>
#include <string.h>

#include "ngx_http_rtagent_sse.h"


/* where the parser is in a line */
#define ST_START      0        /* nothing of the line yet */
#define ST_NAME       1        /* the field name, before any colon */
#define ST_VALUE_SP   2        /* after the colon: one space is dropped */
#define ST_VALUE      3
#define ST_SKIP       4        /* a comment, or a field we do not keep */

/* what the line's value is for */
#define FIELD_NONE    0
#define FIELD_DATA    1
#define FIELD_EVENT   2


static int ngx_http_rtagent_sse_fail(ngx_http_rtagent_sse_t *s,
    const char *fmt, size_t n);
static int ngx_http_rtagent_sse_name(ngx_http_rtagent_sse_t *s);
static int ngx_http_rtagent_sse_byte(ngx_http_rtagent_sse_t *s, char c);
static int ngx_http_rtagent_sse_eol(ngx_http_rtagent_sse_t *s);
static int ngx_http_rtagent_sse_dispatch(ngx_http_rtagent_sse_t *s);


void
ngx_http_rtagent_sse_init(ngx_http_rtagent_sse_t *s)
{
    s->len = 0;
    s->line = 0;
    s->events = 0;
    s->nlen = 0;
    s->tlen = 0;
    s->state = ST_START;
    s->field = FIELD_NONE;
    s->cr = 0;
    s->has_data = 0;
    s->done = 0;
    s->failed = 0;
    s->err[0] = '\0';
}


static int
ngx_http_rtagent_sse_fail(ngx_http_rtagent_sse_t *s, const char *fmt,
    size_t n)
{
    s->failed = 1;
    snprintf(s->err, sizeof(s->err), fmt, n);

    return -1;
}


int
ngx_http_rtagent_sse_feed(ngx_http_rtagent_sse_t *s, const char *p,
    size_t len)
{
    char         c;
    size_t       max;
    const char  *end;

    if (s->failed) {
        return -1;
    }

    if (s->done) {
        return 1;
    }

    max = s->max_line ? s->max_line : s->size + 16;

    for (end = p + len; p < end; p++) {
        c = *p;

        if (c == '\n' && s->cr) {
            /* the LF of a CRLF */
            s->cr = 0;
            continue;
        }

        s->cr = (c == '\r');

        if (c == '\r' || c == '\n') {
            if (ngx_http_rtagent_sse_eol(s) != 0) {
                return -1;
            }

            if (s->done) {
                return 1;
            }

            continue;
        }

        if (++s->line > max) {
            return ngx_http_rtagent_sse_fail(s, "line over %zu bytes", max);
        }

        if (ngx_http_rtagent_sse_byte(s, c) != 0) {
            return -1;
        }
    }

    return 0;
}


/* the field name is complete: where its value goes */

static int
ngx_http_rtagent_sse_name(ngx_http_rtagent_sse_t *s)
{
    if (s->nlen == 4 && memcmp(s->name, "data", 4) == 0) {
        s->field = FIELD_DATA;
        s->has_data = 1;

    } else if (s->nlen == 5 && memcmp(s->name, "event", 5) == 0) {
        s->field = FIELD_EVENT;
        s->tlen = 0;

    } else {
        s->field = FIELD_NONE;
    }

    return 0;
}


static int
ngx_http_rtagent_sse_byte(ngx_http_rtagent_sse_t *s, char c)
{
    switch (s->state) {

    case ST_START:
        if (c == ':') {
            s->state = ST_SKIP;
            return 0;
        }

        s->state = ST_NAME;
        s->nlen = 0;
        s->field = FIELD_NONE;
        /* fall through */

    case ST_NAME:
        if (c == ':') {
            ngx_http_rtagent_sse_name(s);
            s->state = (s->field == FIELD_NONE) ? ST_SKIP : ST_VALUE_SP;
            return 0;
        }

        if (s->nlen < sizeof(s->name)) {
            s->name[s->nlen++] = c;

        } else {
            /* longer than any field we keep */
            s->state = ST_SKIP;
        }

        return 0;

    case ST_VALUE_SP:
        s->state = ST_VALUE;

        if (c == ' ') {
            return 0;
        }

        /* fall through */

    case ST_VALUE:
        if (s->field == FIELD_DATA) {
            if (s->len >= s->size) {
                return ngx_http_rtagent_sse_fail(s, "event over %zu bytes",
                                                 s->size);
            }

            s->buf[s->len++] = c;
            return 0;
        }

        /* FIELD_EVENT */

        if (s->tlen >= NGX_HTTP_RTAGENT_SSE_TYPE_MAX - 1) {
            return ngx_http_rtagent_sse_fail(s, "event type over %zu bytes",
                                             NGX_HTTP_RTAGENT_SSE_TYPE_MAX
                                             - 1);
        }

        s->type[s->tlen++] = c;
        return 0;

    default: /* ST_SKIP */
        return 0;
    }
}


static int
ngx_http_rtagent_sse_eol(ngx_http_rtagent_sse_t *s)
{
    switch (s->state) {

    case ST_START:
        /* a blank line */
        return ngx_http_rtagent_sse_dispatch(s);

    case ST_NAME:
        /* a name alone is the field with an empty value */
        ngx_http_rtagent_sse_name(s);

        if (s->field == FIELD_EVENT) {
            s->tlen = 0;
        }

        break;

    default:
        break;
    }

    if (s->field == FIELD_DATA && s->state != ST_SKIP) {
        /* the LF of the last line may take buf[size]: dispatch drops it */
        if (s->len > s->size) {
            return ngx_http_rtagent_sse_fail(s, "event over %zu bytes",
                                             s->size);
        }

        s->buf[s->len++] = '\n';
    }

    s->state = ST_START;
    s->field = FIELD_NONE;
    s->line = 0;

    return 0;
}


static int
ngx_http_rtagent_sse_dispatch(ngx_http_rtagent_sse_t *s)
{
    size_t  len;

    s->line = 0;

    if (!s->has_data) {
        /* an event without data is not dispatched; its type is reset */
        s->tlen = 0;
        return 0;
    }

    len = s->len;

    if (len && s->buf[len - 1] == '\n') {
        len--;
    }

    s->len = 0;
    s->has_data = 0;

    if (len >= 6 && memcmp(s->buf, "[DONE]", 6) == 0) {
        s->done = 1;
        return 0;
    }

    s->events++;
    s->buf[len] = '\0';
    s->type[s->tlen] = '\0';

    if (s->on_event(s->data, s->type, s->tlen, s->buf, len) != 0) {
        s->tlen = 0;
        return ngx_http_rtagent_sse_fail(s, "event refused%.0zu", 0);
    }

    s->tlen = 0;

    return 0;
}
