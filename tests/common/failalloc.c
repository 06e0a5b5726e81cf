/* tests/common/failalloc.c -- see failalloc.h. */
#include "failalloc.h"

#include <stdlib.h>

static long g_count;       /* allocations attempted (malloc + realloc) */
static long g_fail_at;     /* fail allocation number g_fail_at (0 = never) */
static int g_sticky;       /* ... and every one after it */
static long g_failed;      /* how many failures were injected */
static long g_live;        /* blocks handed out and not freed */

static int should_fail(void)
{
    long n = __atomic_add_fetch(&g_count, 1, __ATOMIC_SEQ_CST);
    long at = __atomic_load_n(&g_fail_at, __ATOMIC_SEQ_CST);
    if (at != 0 && (n == at || (__atomic_load_n(&g_sticky, __ATOMIC_SEQ_CST) && n > at))) {
        __atomic_add_fetch(&g_failed, 1, __ATOMIC_SEQ_CST);
        return 1;
    }
    return 0;
}

static void *t_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    void *p = malloc(n);
    if (p)
        __atomic_add_fetch(&g_live, 1, __ATOMIC_SEQ_CST);
    return p;
}

static void *t_realloc(void *ptr, size_t n)
{
    if (should_fail())
        return NULL;
    void *p = realloc(ptr, n);
    if (p && ptr == NULL)
        __atomic_add_fetch(&g_live, 1, __ATOMIC_SEQ_CST);
    return p;
}

static void t_free(void *p)
{
    if (p)
        __atomic_sub_fetch(&g_live, 1, __ATOMIC_SEQ_CST);
    free(p);
}

const myr_allocator failalloc_hooks = {t_malloc, t_realloc, t_free};

void failalloc_arm(long fail_at, int sticky)
{
    __atomic_store_n(&g_count, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&g_failed, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&g_live, 0, __ATOMIC_SEQ_CST);   /* meaningful for runs that start here */
    __atomic_store_n(&g_sticky, sticky, __ATOMIC_SEQ_CST);
    __atomic_store_n(&g_fail_at, fail_at, __ATOMIC_SEQ_CST);
}

void failalloc_disarm(void) { __atomic_store_n(&g_fail_at, 0, __ATOMIC_SEQ_CST); }
long failalloc_count(void) { return __atomic_load_n(&g_count, __ATOMIC_SEQ_CST); }
long failalloc_failed(void) { return __atomic_load_n(&g_failed, __ATOMIC_SEQ_CST); }
long failalloc_live(void) { return __atomic_load_n(&g_live, __ATOMIC_SEQ_CST); }
