
/*
 * The allocator the agent codecs take, for their fuzz targets: an arena of
 * malloc'ed blocks freed all at once after each input, so LeakSanitizer
 * sees anything a codec loses and ASan any use after the input.
 */


#ifndef _FUZZ_ARENA_H_INCLUDED_
#define _FUZZ_ARENA_H_INCLUDED_


#include <stddef.h>
#include <stdlib.h>


typedef struct block_s  block_t;

struct block_s {
    block_t   *next;
    union { long double ld; long long ll; void *p; } data[];
};


/* ctx is a block_t ** that starts as NULL */
static void *
fuzz_alloc(void *ctx, size_t size)
{
    block_t  **arena = ctx;
    block_t   *b;

    b = malloc(sizeof(block_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->next = *arena;
    *arena = b;

    return b->data;
}


static void
fuzz_arena_free(block_t *arena)
{
    block_t  *b;

    while (arena) {
        b = arena->next;
        free(arena);
        arena = b;
    }
}


#endif /* _FUZZ_ARENA_H_INCLUDED_ */
