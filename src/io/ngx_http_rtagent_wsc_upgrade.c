
/*
 * The check of a WebSocket upgrade's answer (see the header).
 */


#include <string.h>
#include <strings.h>

#include "ngx_http_rtagent_wsc_upgrade.h"
#include "ws/ngx_http_rtagent_ws_hs.h"


/* RFC 9110 tchar */
static int
ngx_http_rtagent_wsc_upgrade_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z'))
    {
        return 1;
    }

    return strchr("!#$%&'*+-.^_`|~", c) != NULL && c != '\0';
}


static int
ngx_http_rtagent_wsc_upgrade_is(const unsigned char *name, size_t len,
    const char *want)
{
    return len == strlen(want)
           && strncasecmp((const char *) name, want, len) == 0;
}


ngx_http_rtagent_wsc_upgrade_e
ngx_http_rtagent_wsc_upgrade_parse(const unsigned char *buf, size_t len,
    const char *accept, size_t accept_len, ngx_http_rtagent_wsc_upgrade_t *res)
{
    size_t                i, head;
    unsigned              status, upgrades, upgrade, connection, accepts;
    unsigned              accepted;
    const unsigned char  *p, *end, *line, *eol, *colon, *v, *ve;

    res->head = 0;
    res->status = 0;
    res->detail = NULL;

    /* the head ends at the first empty line */
    head = 0;

    for (i = 3; i < len; i++) {
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n'
            && buf[i - 3] == '\r')
        {
            head = i + 1;
            break;
        }
    }

    if (head == 0) {
        return NGX_HTTP_RTAGENT_WSC_UPGRADE_AGAIN;
    }

    res->head = head;
    end = buf + head - 2;      /* at the empty line's CRLF */

    /* every line ends in CRLF: no bare CR or LF, no NUL anywhere */
    for (p = buf; p < end; p++) {
        if ((*p == '\r' && p[1] != '\n')
            || (*p == '\n' && (p == buf || p[-1] != '\r'))
            || *p == '\0')
        {
            res->detail = "a bad line ending or a NUL in the answer";
            return NGX_HTTP_RTAGENT_WSC_UPGRADE_BAD;
        }
    }

    /* "HTTP/1.1 NNN reason" (the reason may be empty) */
    if (head < 14 + 2 || memcmp(buf, "HTTP/1.1 ", 9) != 0
        || buf[9] < '1' || buf[9] > '5'
        || buf[10] < '0' || buf[10] > '9'
        || buf[11] < '0' || buf[11] > '9'
        || (buf[12] != ' ' && buf[12] != '\r'))
    {
        res->detail = "not an HTTP/1.1 status line";
        return NGX_HTTP_RTAGENT_WSC_UPGRADE_BAD;
    }

    status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');

    line = (const unsigned char *) memchr(buf, '\n', end - buf + 2) + 1;

    upgrades = 0;
    upgrade = 0;
    connection = 0;
    accepts = 0;
    accepted = 0;

    while (line < end) {
        eol = memchr(line, '\r', end - line + 1);  /* a CRLF, checked */

        for (colon = line; colon < eol && *colon != ':'; colon++) {
            if (!ngx_http_rtagent_wsc_upgrade_tchar(*colon)) {
                break;
            }
        }

        if (colon == line || colon == eol || *colon != ':') {
            res->detail = "a bad header line";
            return NGX_HTTP_RTAGENT_WSC_UPGRADE_BAD;
        }

        for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++) {
            /* void */
        }

        for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--) {
            /* void */
        }

        for (p = v; p < ve; p++) {
            if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
                res->detail = "a control character in a header value";
                return NGX_HTTP_RTAGENT_WSC_UPGRADE_BAD;
            }
        }

        if (ngx_http_rtagent_wsc_upgrade_is(line, colon - line, "Upgrade")) {
            upgrades++;
            upgrade = ngx_http_rtagent_wsc_upgrade_is(v, ve - v,
                                                      "websocket");

        } else if (ngx_http_rtagent_wsc_upgrade_is(line, colon - line,
                                                   "Connection"))
        {
            connection |= ngx_http_rtagent_ws_hs_has_token(
                              (const char *) v, ve - v, "upgrade", 7);

        } else if (ngx_http_rtagent_wsc_upgrade_is(line, colon - line,
                                                   "Sec-WebSocket-Accept"))
        {
            accepts++;
            accepted = ((size_t) (ve - v) == accept_len
                        && memcmp(v, accept, accept_len) == 0);

        } else if (ngx_http_rtagent_wsc_upgrade_is(line, colon - line,
                                              "Sec-WebSocket-Extensions")
                   || ngx_http_rtagent_wsc_upgrade_is(line, colon - line,
                                              "Sec-WebSocket-Protocol"))
        {
            if (status == 101) {
                res->detail = "an extension or subprotocol not asked for";
                return NGX_HTTP_RTAGENT_WSC_UPGRADE_BAD;
            }
        }

        line = eol + 2;
    }

    res->status = status;

    if (status != 101) {
        res->detail = "not 101 Switching Protocols";
        return NGX_HTTP_RTAGENT_WSC_UPGRADE_REFUSED;
    }

    if (upgrades != 1 || !upgrade || !connection) {
        res->status = 0;
        res->detail = "no Upgrade: websocket, Connection: upgrade";
        return NGX_HTTP_RTAGENT_WSC_UPGRADE_BAD;
    }

    if (accepts != 1 || !accepted) {
        res->status = 0;
        res->detail = "a wrong Sec-WebSocket-Accept";
        return NGX_HTTP_RTAGENT_WSC_UPGRADE_BAD;
    }

    return NGX_HTTP_RTAGENT_WSC_UPGRADE_OK;
}
