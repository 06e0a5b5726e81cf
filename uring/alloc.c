/*
 * uring/alloc.c -- the engine's allocation hooks (ur_set_allocator). Every
 * allocation in uring/ goes through ur__malloc/ur__realloc/ur__free.
 */
#include <stdlib.h>

#include "ur_internal.h"

static void *(*g_malloc)(size_t) = malloc;
static void *(*g_realloc)(void *, size_t) = realloc;
static void (*g_free)(void *) = free;

void ur_set_allocator(void *(*m)(size_t), void *(*r)(void *, size_t), void (*f)(void *))
{
    /* All three or none: mixing libc's free with a custom malloc is a bug. */
    if (m == NULL || r == NULL || f == NULL) {
        m = malloc;
        r = realloc;
        f = free;
    }
    g_malloc = m;
    g_realloc = r;
    g_free = f;
}

void *ur__malloc(size_t n) { return g_malloc(n ? n : 1); }
void *ur__realloc(void *p, size_t n) { return g_realloc(p, n ? n : 1); }
void ur__free(void *p)
{
    if (p != NULL)
        g_free(p);
}
