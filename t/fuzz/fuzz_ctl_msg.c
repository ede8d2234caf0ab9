
/*
 * libFuzzer target for the control-message parser.
 *
 * The input is copied into a buffer of exactly its length, so ASan
 * catches any read past it.  Whatever is accepted must keep the header's
 * promises: a known action, the members it needs, NUL-terminated strings
 * of the length given, an id of 1 to ID_MAX bytes when there is one.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/ngx_http_rtagent_ctl_msg.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
check_str(ngx_http_rtagent_ctl_msg_str_t *s)
{
    if (s->data == NULL) {
        if (s->len != 0) {
            abort();
        }

        return;
    }

    if (strlen(s->data) != s->len) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                           *buf, err[96];
    ngx_http_rtagent_ctl_msg_t      m;
    ngx_http_rtagent_ctl_msg_rc_e   rc;

    buf = malloc(size ? size : 1);
    if (buf == NULL) {
        return 0;
    }

    memcpy(buf, data, size);

    rc = ngx_http_rtagent_ctl_msg_parse(buf, size, &m, err, sizeof(err));

    if (memchr(err, '\0', sizeof(err)) == NULL) {
        abort();
    }

    check_str(&m.name);
    check_str(&m.id);
    check_str(&m.target);
    check_str(&m.text);
    check_str(&m.outcome);
    check_str(&m.reason);

    if (rc == NGX_HTTP_RTAGENT_CTL_MSG_OK) {
        if (m.action < NGX_HTTP_RTAGENT_CTL_HANGUP
            || m.action > NGX_HTTP_RTAGENT_CTL_INJECT_TEXT
            || m.name.data == NULL
            || (m.id.data
                && (m.id.len == 0
                    || m.id.len > NGX_HTTP_RTAGENT_CTL_MSG_ID_MAX))
            || (m.action == NGX_HTTP_RTAGENT_CTL_TRANSFER
                && m.target.len == 0)
            || (m.action == NGX_HTTP_RTAGENT_CTL_INJECT_TEXT
                && m.text.len == 0))
        {
            abort();
        }

    } else if (err[0] == '\0'
               || strcmp(ngx_http_rtagent_ctl_msg_error(rc), "ok") == 0)
    {
        abort();
    }

    ngx_http_rtagent_ctl_msg_free(&m);
    free(buf);

    return 0;
}
