
/*
 * OpenAI transcription responses, SSE or JSON (see
 * ngx_http_rtagent_stt_openai_parse.h).
 */


#include <stdio.h>
#include <string.h>

#include <json/ngx_http_rtagent_json.h>

#include "ngx_http_rtagent_stt_openai_parse.h"


#define JSON_DEPTH     32

/* what the line under way is: its field decides where its bytes go */
#define FIELD_START    0        /* nothing of the line yet */
#define FIELD_NAME     1        /* before the colon */
#define FIELD_DATA_SP  2        /* "data:", a space may follow */
#define FIELD_DATA     3        /* the value of a data line */
#define FIELD_SKIP     4        /* another field, a comment */


static int ngx_http_rtagent_transcript_fail(ngx_http_rtagent_transcript_t *t,
    const char *fmt, const char *arg);
static int ngx_http_rtagent_transcript_event(ngx_http_rtagent_transcript_t *t);
static int ngx_http_rtagent_transcript_json(ngx_http_rtagent_transcript_t *t);


static int
ngx_http_rtagent_transcript_fail(ngx_http_rtagent_transcript_t *t,
    const char *fmt, const char *arg)
{
    t->failed = 1;
    snprintf(t->err, sizeof(t->err), fmt, arg);

    return -1;
}


/* the speech providers' name for it: see ngx_http_rtagent_json.h */

int
ngx_http_rtagent_transcript_error(const char *p, size_t len, char *err,
    size_t errlen)
{
    return ngx_http_rtagent_json_error_message(p, len, err, errlen);
}


int
ngx_http_rtagent_transcript_feed(ngx_http_rtagent_transcript_t *t,
    const char *p, size_t len)
{
    char        c;
    const char *end;

    if (t->failed) {
        return -1;
    }

    if (t->done) {
        return 0;
    }

    end = p + len;

    if (!t->sse) {
        if (len > t->size - t->len) {
            return ngx_http_rtagent_transcript_fail(t,
                       "response over the buffer%s", "");
        }

        memcpy(t->buf + t->len, p, len);
        t->len += len;

        return 0;
    }

    /*
     * SSE (WHATWG HTML 9.2.6): lines end with CRLF, LF or CR; "data:"
     * lines accumulate, LF-joined, until a blank line ends the event.
     */

    for ( /* void */ ; p < end; p++) {
        c = *p;

        if (c == '\n' && t->cr) {
            t->cr = 0;
            continue;
        }

        t->cr = (c == '\r');

        if (c == '\r' || c == '\n') {

            if (t->field == FIELD_START) {
                /* a blank line: the event is complete */
                if (t->len) {
                    if (ngx_http_rtagent_transcript_event(t) != 0) {
                        return -1;
                    }

                    if (t->done) {
                        return 0;
                    }
                }

                continue;
            }

            if (t->field == FIELD_DATA || t->field == FIELD_DATA_SP) {
                if (t->len == t->size) {
                    return ngx_http_rtagent_transcript_fail(t,
                               "an event over the buffer%s", "");
                }

                t->buf[t->len++] = '\n';
            }

            t->field = FIELD_START;
            continue;
        }

        switch (t->field) {

        case FIELD_START:
            if (c == ':') {
                t->field = FIELD_SKIP;
                break;
            }

            /* only "data" matters: match it byte by byte in the name */
            t->field = (c == 'd') ? FIELD_NAME : FIELD_SKIP;
            t->matched = 1;
            break;

        case FIELD_NAME:
            if (c == ':') {
                t->field = (t->matched == 4) ? FIELD_DATA_SP : FIELD_SKIP;
                break;
            }

            if (t->matched < 4 && c == "data"[t->matched]) {
                t->matched++;

            } else {
                t->field = FIELD_SKIP;
            }

            break;

        case FIELD_DATA_SP:
            t->field = FIELD_DATA;

            if (c == ' ') {
                break;
            }

            /* fall through */

        case FIELD_DATA:
            if (t->len == t->size) {
                return ngx_http_rtagent_transcript_fail(t,
                           "an event over the buffer%s", "");
            }

            t->buf[t->len++] = c;
            break;

        default: /* FIELD_SKIP */
            break;
        }
    }

    return 0;
}


/* one event's data (LF-ended lines in buf) */

static int
ngx_http_rtagent_transcript_event(ngx_http_rtagent_transcript_t *t)
{
    int          rc;
    size_t       n;
    yajl_val     root;
    const char  *type, *text, *msg;
    char         err[96];

    n = t->len;
    t->len = 0;

    /* the last line's LF is not part of the data */
    if (n && t->buf[n - 1] == '\n') {
        n--;
    }

    if (n == 6 && memcmp(t->buf, "[DONE]", 6) == 0) {
        return ngx_http_rtagent_transcript_fail(t,
                   "the stream ended without transcript.text.done%s", "");
    }

    root = ngx_http_rtagent_json_parse(t->buf, n, JSON_DEPTH,
                                       NGX_HTTP_RTAGENT_JSON_NO_U0000
                                       |NGX_HTTP_RTAGENT_JSON_TERSE,
                                       err, sizeof(err));
    if (root == NULL) {
        return ngx_http_rtagent_transcript_fail(t, "event: %s", err);
    }

    rc = 0;

    msg = ngx_http_rtagent_json_str(root, "error", "message", NULL);
    type = ngx_http_rtagent_json_str(root, "type", NULL);

    if (msg != NULL || ngx_http_rtagent_json_get(root, "error", NULL)) {
        ngx_http_rtagent_json_printable(err, 96, msg ? msg : "no message");
        rc = ngx_http_rtagent_transcript_fail(t, "error event: %s", err);

    } else if (type == NULL) {
        rc = ngx_http_rtagent_transcript_fail(t, "an event without a type%s",
                                              "");

    } else if (strcmp(type, "transcript.text.delta") == 0) {
        text = ngx_http_rtagent_json_str(root, "delta", NULL);

        if (text == NULL) {
            rc = ngx_http_rtagent_transcript_fail(t,
                     "no text in a %s event", type);

        } else if (t->on_delta && text[0]) {
            t->on_delta(t->data, text, strlen(text));
        }

    } else if (strcmp(type, "transcript.text.done") == 0) {
        text = ngx_http_rtagent_json_str(root, "text", NULL);

        if (text == NULL) {
            rc = ngx_http_rtagent_transcript_fail(t,
                     "no text in a %s event", type);

        } else {
            t->done = 1;
            t->on_final(t->data, text, strlen(text));
        }
    }

    /* other types (transcript.text.segment, ...) carry nothing we use */

    yajl_tree_free(root);

    return rc;
}


static int
ngx_http_rtagent_transcript_json(ngx_http_rtagent_transcript_t *t)
{
    yajl_val     root;
    const char  *text;
    char         err[NGX_HTTP_RTAGENT_TRANSCRIPT_ERR];

    root = ngx_http_rtagent_json_parse(t->buf, t->len, JSON_DEPTH,
                                       NGX_HTTP_RTAGENT_JSON_NO_U0000
                                       |NGX_HTTP_RTAGENT_JSON_TERSE,
                                       err, sizeof(err));
    if (root == NULL) {
        return ngx_http_rtagent_transcript_fail(t, "%s", err);
    }

    text = ngx_http_rtagent_json_str(root, "text", NULL);

    if (text == NULL) {
        yajl_tree_free(root);
        return ngx_http_rtagent_transcript_fail(t,
                   "no text in the response%s", "");
    }

    t->done = 1;
    t->on_final(t->data, text, strlen(text));

    yajl_tree_free(root);

    return 0;
}


int
ngx_http_rtagent_transcript_end(ngx_http_rtagent_transcript_t *t)
{
    if (t->failed) {
        return -1;
    }

    if (t->done) {
        return 0;
    }

    if (!t->sse) {
        return ngx_http_rtagent_transcript_json(t);
    }

    /* an event the body's end cut short of its blank line */
    if (t->field == FIELD_DATA || t->field == FIELD_DATA_SP) {
        if (t->len < t->size) {
            t->buf[t->len++] = '\n';
        }

        t->field = FIELD_START;
    }

    if (t->len && ngx_http_rtagent_transcript_event(t) != 0) {
        return -1;
    }

    if (!t->done) {
        return ngx_http_rtagent_transcript_fail(t,
                   "the stream ended without transcript.text.done%s", "");
    }

    return 0;
}
