
/*
 * libFuzzer target for the agent definition codec: any bytes parsed as an
 * agent file, and every file that parses linked as a set of one (its
 * handoffs then point nowhere, its tools may not exist: errors, never a
 * crash).  The arena is freed after each input, so LeakSanitizer sees
 * anything the codec loses.  Inputs are copied to a buffer of exactly
 * their length, so ASan catches reads past it.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ngx_http_rtagent_agent_def.h"
#include "fuzz_arena.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                           err[512];
    unsigned char                 *copy;
    block_t                       *arena;
    ngx_http_rtagent_agent_def_t  *def;

    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data, size);
    arena = NULL;

    if (ngx_http_rtagent_agent_def_parse(copy, size, "fuzz.yaml",
                                         fuzz_alloc, &arena, &def, err,
                                         sizeof(err))
        == 0)
    {
        if (def->name.data == NULL || def->greeting.data == NULL
            || strlen((char *) def->name.data) != def->name.len)
        {
            abort();
        }

        (void) ngx_http_rtagent_agent_def_link(&def, 1,
                                               (char *) def->name.data, err,
                                               sizeof(err));

    } else if (err[0] == '\0' || strncmp(err, "fuzz.yaml:", 10) != 0) {
        abort();
    }

    fuzz_arena_free(arena);

    free(copy);

    return 0;
}
