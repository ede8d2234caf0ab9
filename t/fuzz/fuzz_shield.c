
/*
 * libFuzzer target for the Prompt Shields codec: any answer is CLEAN,
 * ATTACK or INVALID with a reason, never more; the first byte chooses the
 * err buffer's size (0: none), which is never overrun and always ends in a
 * NUL; the input as a caller's words makes a request body that is either
 * refused or valid JSON with that userPrompt.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "llm/ngx_http_rtagent_shield.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   rc;
    char                 *err, *s;
    size_t                errlen, len;
    yajl_gen              g;
    yajl_val              v, u;
    const unsigned char  *out;
    static const char    *up[] = { "userPrompt", NULL };

    if (size == 0) {
        return 0;
    }

    errlen = data[0] % 64;
    err = errlen ? malloc(errlen) : NULL;

    rc = ngx_http_rtagent_shield_parse((const char *) data + 1, size - 1,
                                       err, errlen);

    if (rc != NGX_HTTP_RTAGENT_SHIELD_CLEAN
        && rc != NGX_HTTP_RTAGENT_SHIELD_ATTACK
        && rc != NGX_HTTP_RTAGENT_SHIELD_INVALID)
    {
        abort();
    }

    if (errlen && memchr(err, '\0', errlen) == NULL) {
        abort();
    }

    if (rc == NGX_HTTP_RTAGENT_SHIELD_INVALID && errlen > 1 && err[0] == '\0')
    {
        abort();
    }

    free(err);

    g = yajl_gen_alloc(NULL);
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    yajl_gen_map_open(g);

    if (ngx_http_rtagent_shield_request(g, (const char *) data + 1, size - 1)
        == 0)
    {
        yajl_gen_map_close(g);
        yajl_gen_get_buf(g, &out, &len);
        s = strndup((const char *) out, len);
        v = yajl_tree_parse(s, NULL, 0);
        u = yajl_tree_get(v, up, yajl_t_string);

        /* the body parses back, with the words as its userPrompt */
        if (v == NULL || u == NULL) {
            abort();
        }

        if (memchr(data + 1, '\0', size - 1) == NULL
            && (strlen(YAJL_GET_STRING(u)) != size - 1
                || memcmp(YAJL_GET_STRING(u), data + 1, size - 1) != 0))
        {
            abort();
        }

        yajl_tree_free(v);
        free(s);
    }

    yajl_gen_free(g);

    return 0;
}
