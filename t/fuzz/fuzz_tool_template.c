
/*
 * libFuzzer target for the tool store's templates.
 *
 * The first byte picks the mode (mod 4) and the second the length of the
 * value (mod 64) that follows it; the rest is the template.  Every
 * placeholder gets that value: as a string, as a number ("{n...}"), or no
 * value ("{m...}") or an object ("{o...}").  Whatever the input: a
 * template that compiles fills the same way twice, and a filled JSON
 * template is JSON, a filled URL holds no space, control or non-ASCII
 * byte, a filled header no CR, LF or NUL.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/ngx_http_rtagent_json.h"
#include "agent/ngx_http_rtagent_tool_template.h"

#include "fuzz_arena.h"


typedef struct {
    const uint8_t  *value;
    size_t          len;
} fuzz_value_t;


static int
lookup(void *ctx, const unsigned char *name, size_t len,
    ngx_http_rtagent_tpl_value_t *v)
{
    fuzz_value_t  *fv = ctx;

    (void) len;

    switch (name[0]) {

    case 'm':
        return -1;

    case 'o':
        return -2;

    case 'n':
        v->data = (const unsigned char *) "-12.5e3";
        v->len = 7;
        v->string = 0;
        return 0;

    default:
        v->data = fv->value;
        v->len = fv->len;
        v->string = 1;
        return 0;
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                     err[256];
    size_t                   i, len, len2;
    uint8_t                 *tpl, *out;
    block_t                 *arena;
    unsigned                 mode;
    yajl_val                 tree;
    fuzz_value_t             fv;
    ngx_http_rtagent_tpl_t   t;

    if (size < 2) {
        return 0;
    }

    mode = data[0] % 4;
    fv.len = data[1] % 64;
    data += 2;
    size -= 2;

    if (fv.len > size) {
        fv.len = size;
    }

    fv.value = data;
    data += fv.len;
    size -= fv.len;

    /* exactly its length, so that ASan sees a read past it */
    tpl = malloc(size ? size : 1);
    if (tpl == NULL) {
        return 0;
    }

    memcpy(tpl, data, size);
    arena = NULL;

    if (ngx_http_rtagent_tpl_compile(tpl, size, mode, fuzz_alloc, &arena, &t,
                                     err, sizeof(err))
        != 0)
    {
        goto done;
    }

    if (ngx_http_rtagent_tpl_fill(&t, lookup, &fv, NULL, &len, err,
                                  sizeof(err))
        != 0)
    {
        goto done;
    }

    out = malloc(len ? len : 1);
    if (out == NULL) {
        goto done;
    }

    len2 = len;

    if (ngx_http_rtagent_tpl_fill(&t, lookup, &fv, out, &len2, err,
                                  sizeof(err))
        != 0 || len2 != len)
    {
        abort();
    }

    switch (mode) {

    case NGX_HTTP_RTAGENT_TPL_JSON:
        tree = ngx_http_rtagent_json_parse((char *) out, len, 32, 0, err,
                                           sizeof(err));
        if (tree == NULL && strcmp(err, "out of memory") != 0) {
            abort();
        }

        if (tree) {
            yajl_tree_free(tree);
        }

        break;

    case NGX_HTTP_RTAGENT_TPL_URL:
        for (i = 0; i < len; i++) {
            if (out[i] <= ' ' || out[i] >= 0x7f) {
                abort();
            }
        }

        break;

    case NGX_HTTP_RTAGENT_TPL_HEADER:
        for (i = 0; i < len; i++) {
            if (out[i] == '\r' || out[i] == '\n' || out[i] == '\0') {
                abort();
            }
        }

        break;
    }

    free(out);

done:

    fuzz_arena_free(arena);
    free(tpl);

    return 0;
}
