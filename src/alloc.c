/* src/alloc.c -- the allocator hooks behind myr_set_allocator(). */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "myring.h"
#include "../uring/ur.h"

static myr_allocator g_alloc = {malloc, realloc, free};

int myr_set_allocator(const myr_allocator *a)
{
    if (a == NULL || a->malloc_fn == NULL || a->realloc_fn == NULL || a->free_fn == NULL)
        g_alloc = (myr_allocator){malloc, realloc, free};
    else
        g_alloc = *a;
    ur_set_allocator(g_alloc.malloc_fn, g_alloc.realloc_fn, g_alloc.free_fn);
    return 0;
}

void *myr__malloc(size_t n) { return g_alloc.malloc_fn(n ? n : 1); }
void *myr__realloc(void *p, size_t n) { return g_alloc.realloc_fn(p, n ? n : 1); }
void myr__free(void *p)
{
    if (p != NULL)
        g_alloc.free_fn(p);
}

void *myr__calloc(size_t n, size_t size)
{
    if (size != 0 && n > (size_t)-1 / size)
        return NULL;
    void *p = myr__malloc(n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

char *myr__strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = myr__malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}
