
/*
 * The allocator the pure C codecs take, for the unit tests of the local
 * STT's builders (test_lm, test_agent_grammar): an arena of malloc'ed
 * blocks freed all at once by the teardown, and one that fails after a
 * number of allocations.
 */


#ifndef _TEST_ARENA_H_INCLUDED_
#define _TEST_ARENA_H_INCLUDED_


#include <stddef.h>
#include <stdlib.h>


typedef struct block_s  block_t;

struct block_s {
    block_t   *next;
    /* aligned for any type the codecs store */
    union { long double ld; long long ll; void *p; } data[];
};

static block_t  *arena;


static void *
arena_alloc(void *ctx, size_t size)
{
    block_t  *b;

    (void) ctx;

    b = malloc(sizeof(block_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->next = arena;
    arena = b;

    return b->data;
}


/* fails after *ctx allocations */
static inline void *
limited_alloc(void *ctx, size_t size)
{
    int  *left = ctx;

    if ((*left)-- <= 0) {
        return NULL;
    }

    return arena_alloc(NULL, size);
}


static void
arena_free(void)
{
    block_t  *b;

    while (arena) {
        b = arena;
        arena = b->next;
        free(b);
    }
}


#endif /* _TEST_ARENA_H_INCLUDED_ */
