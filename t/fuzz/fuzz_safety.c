
/*
 * libFuzzer target for the safety screen and the PII redaction: any bytes
 * screened (a verdict, a rule name with it) and redacted into a buffer
 * large enough and into one too small, which must hold a NUL-terminated
 * prefix of the same text and report the same length.  Inputs are copied
 * to a buffer of exactly their length, so ASan catches reads past it.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ngx_http_rtagent_safety.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             v;
    size_t          n, m, small, big_len;
    unsigned        count, count2;
    const char     *rule;
    unsigned char  *copy, *big, part[32];

    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data, size);

    v = ngx_http_rtagent_safety_screen(copy, size, &rule);
    if ((v == 1) != (rule != NULL) || (v != 0 && v != 1)) {
        abort();
    }

    /* a label is at most 6 bytes, one per token at least 1 byte long and
     * a separator: twice the input and a little is always enough */
    big_len = 2 * size + 16;
    big = malloc(big_len);
    if (big == NULL) {
        abort();
    }

    n = ngx_http_rtagent_safety_redact(copy, size, big, big_len, &count);
    if (n >= big_len || big[n] != '\0') {
        abort();
    }

    small = size % sizeof(part);
    m = ngx_http_rtagent_safety_redact(copy, size, part, small, &count2);

    if (m != n || count2 != count) {
        abort();
    }

    if (small) {
        if (memcmp(part, big, n < small - 1 ? n : small - 1) != 0
            || part[n < small - 1 ? n : small - 1] != '\0')
        {
            abort();
        }
    }

    free(big);
    free(copy);

    return 0;
}
