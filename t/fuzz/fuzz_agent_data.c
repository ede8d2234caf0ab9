
/*
 * libFuzzer target for the demo policyholders' codec: any bytes parsed as
 * the data file; what parses must hold the fields the header promises, and
 * an error must name the file.  The arena is freed after each input, so
 * LeakSanitizer sees anything the codec loses.  Inputs are copied to a
 * buffer of exactly their length, so ASan catches reads past it.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ngx_http_rtagent_agent_data.h"
#include "fuzz_arena.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                              err[512];
    size_t                            i, n;
    unsigned char                    *copy;
    block_t                          *arena;
    ngx_http_rtagent_policyholder_t  *ph;

    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data, size);
    arena = NULL;

    if (ngx_http_rtagent_agent_data_parse(copy, size, "fuzz.yaml",
                                          fuzz_alloc, &arena, &ph, &n, err,
                                          sizeof(err))
        == 0)
    {
        for (i = 0; i < n; i++) {
            if (ph[i].policy.len != 8 || ph[i].zip.len != 5
                || ph[i].phone.data[0] != '+'
                || strlen((char *) ph[i].name.data) != ph[i].name.len)
            {
                abort();
            }
        }

    } else if (err[0] == '\0' || strncmp(err, "fuzz.yaml", 9) != 0) {
        abort();
    }

    fuzz_arena_free(arena);

    free(copy);

    return 0;
}
