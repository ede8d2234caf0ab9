
/*
 * libFuzzer target for the browser channel's control messages.
 *
 * The input is copied into a buffer of exactly its length, so ASan
 * catches any read past it.  Whatever is accepted must keep the header's
 * promises: a known type; for start a rate in range (an Opus rate for
 * Opus), a known codec, and an agent that is NUL-terminated, of the length
 * given, and a valid name; a refusal says why.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "call/ngx_http_rtagent_call_id.h"
#include "web/ngx_http_rtagent_web_msg.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                           *buf, err[96];
    ngx_http_rtagent_web_msg_t      m;
    ngx_http_rtagent_web_msg_rc_e   rc;

    buf = malloc(size ? size : 1);
    if (buf == NULL) {
        return 0;
    }

    memcpy(buf, data, size);

    rc = ngx_http_rtagent_web_msg_parse(buf, size, &m, err, sizeof(err));

    if (memchr(err, '\0', sizeof(err)) == NULL) {
        abort();
    }

    if (rc == NGX_HTTP_RTAGENT_WEB_MSG_OK) {
        if (m.type == NGX_HTTP_RTAGENT_WEB_START) {
            if (m.rate < NGX_HTTP_RTAGENT_WEB_RATE_MIN
                || m.rate > NGX_HTTP_RTAGENT_WEB_RATE_MAX
                || (m.codec != NGX_HTTP_RTAGENT_WEB_PCM16
                    && m.codec != NGX_HTTP_RTAGENT_WEB_OPUS)
                || (m.codec == NGX_HTTP_RTAGENT_WEB_OPUS
                    && !ngx_http_rtagent_web_opus_rate(m.rate)))
            {
                abort();
            }

            if ((m.agent == NULL) != (m.agent_len == 0)) {
                abort();
            }

            if (m.agent
                && (strlen(m.agent) != m.agent_len
                    || !ngx_http_rtagent_call_id_valid(
                           (const unsigned char *) m.agent, m.agent_len)))
            {
                abort();
            }

        } else if (m.type != NGX_HTTP_RTAGENT_WEB_STOP) {
            abort();
        }

    } else if (err[0] == '\0' || m.type != 0) {
        abort();
    }

    ngx_http_rtagent_web_msg_free(&m);
    free(buf);

    return 0;
}
