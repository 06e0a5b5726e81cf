/* tests/conn/test_buf.c -- src/buf.c, the growable byte buffer: appends and
 * growth (contents kept, capacity doubling from 256), reserve compacting
 * instead of growing when consumed bytes make room, compact/reset/free,
 * size overflow, and allocation failure through myr_set_allocator leaving
 * the buffer exactly as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "myring.h"

/* Allocator hooks: count calls, fail when told, track live blocks. */
static int g_calls, g_fail, g_live;

static void *t_malloc(size_t n)
{
    g_calls++;
    if (g_fail)
        return NULL;
    g_live++;
    return malloc(n);
}
static void *t_realloc(void *p, size_t n)
{
    g_calls++;
    if (g_fail)
        return NULL;
    if (p == NULL)
        g_live++;
    return realloc(p, n);
}
static void t_free(void *p)
{
    if (p)
        g_live--;
    free(p);
}
static const myr_allocator hooks = {t_malloc, t_realloc, t_free};

static int setup(void **state)
{
    (void)state;
    g_calls = g_fail = g_live = 0;
    myr_set_allocator(&hooks);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    myr_set_allocator(NULL);
    assert_int_equal(g_live, 0);   /* every test frees what it allocated */
    return 0;
}

static void test_init_and_free_empty(void **state)
{
    (void)state;
    myr__buf b;
    memset(&b, 0x5a, sizeof b);
    myr__buf_init(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.rpos, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(myr__buf_unread(&b), 0);
    myr__buf_free(&b);   /* nothing allocated: fine */
    myr__buf_free(&b);   /* and again */
    assert_null(b.data);
    assert_int_equal(g_calls, 0);
}

static void test_append_and_growth(void **state)
{
    (void)state;
    myr__buf b;
    myr__buf_init(&b);
    assert_int_equal(myr__buf_append(&b, "abc", 3), 0);
    assert_int_equal(b.cap, 256);   /* the first block */
    assert_int_equal(g_calls, 1);
    assert_int_equal(b.len, 3);
    assert_int_equal(myr__buf_put_u8(&b, 'd'), 0);
    assert_memory_equal(b.data, "abcd", 4);
    assert_int_equal(myr__buf_append(&b, NULL, 0), 0);   /* nothing to copy */
    assert_int_equal(b.len, 4);

    /* Grow past 256: the capacity doubles until the data fits, in one
     * reallocation, and the bytes written so far stay. */
    uint8_t big[1000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    assert_int_equal(myr__buf_append(&b, big, sizeof big), 0);
    assert_int_equal(b.cap, 1024);
    assert_int_equal(g_calls, 2);
    assert_int_equal(b.len, 1004);
    assert_memory_equal(b.data, "abcd", 4);
    assert_memory_equal(b.data + 4, big, sizeof big);
    assert_int_equal(myr__buf_unread(&b), 1004);
    assert_ptr_equal(myr__buf_rptr(&b), b.data);

    /* Exactly full, then one more byte. */
    assert_int_equal(myr__buf_reserve(&b, 20), 0);
    assert_int_equal(b.cap, 1024);
    assert_int_equal(myr__buf_append(&b, big, 20), 0);
    assert_int_equal(b.len, 1024);
    assert_int_equal(g_calls, 2);
    assert_int_equal(myr__buf_put_u8(&b, 0xff), 0);
    assert_int_equal(b.cap, 2048);
    assert_int_equal(b.data[1024], 0xff);
    myr__buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.len, 0);
}

static void test_reserve_compacts(void **state)
{
    (void)state;
    myr__buf b;
    myr__buf_init(&b);
    uint8_t bytes[256];
    for (int i = 0; i < 256; i++)
        bytes[i] = (uint8_t)i;
    assert_int_equal(myr__buf_append(&b, bytes, 256), 0);
    assert_int_equal(b.cap, 256);
    b.rpos = 200;   /* 200 bytes consumed */
    uint8_t *before = b.data;
    /* 100 more bytes fit once the consumed ones are dropped: no growth. */
    assert_int_equal(myr__buf_reserve(&b, 100), 0);
    assert_int_equal(b.cap, 256);
    assert_ptr_equal(b.data, before);
    assert_int_equal(g_calls, 1);
    assert_int_equal(b.rpos, 0);
    assert_int_equal(b.len, 56);
    assert_memory_equal(b.data, bytes + 200, 56);
    /* More than fits even after compacting: grows, keeps the unread bytes. */
    b.rpos = 6;
    assert_int_equal(myr__buf_reserve(&b, 300), 0);
    assert_true(b.cap >= b.len + 300);
    assert_int_equal(myr__buf_unread(&b), 50);
    assert_memory_equal(myr__buf_rptr(&b), bytes + 206, 50);
    myr__buf_free(&b);
}

static void test_compact_reset(void **state)
{
    (void)state;
    myr__buf b;
    myr__buf_init(&b);
    myr__buf_compact(&b);   /* empty: nothing to do */
    assert_int_equal(myr__buf_append(&b, "0123456789", 10), 0);
    myr__buf_compact(&b);   /* nothing consumed: unchanged */
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.data, "0123456789", 10);
    b.rpos = 4;
    myr__buf_compact(&b);
    assert_int_equal(b.rpos, 0);
    assert_int_equal(b.len, 6);
    assert_memory_equal(b.data, "456789", 6);
    b.rpos = 6;   /* all consumed */
    myr__buf_compact(&b);
    assert_int_equal(b.rpos, 0);
    assert_int_equal(b.len, 0);

    assert_int_equal(myr__buf_append(&b, "xyz", 3), 0);
    b.rpos = 1;
    uint8_t *mem = b.data;
    size_t cap = b.cap;
    myr__buf_reset(&b);   /* empty, memory kept */
    assert_int_equal(b.len, 0);
    assert_int_equal(b.rpos, 0);
    assert_ptr_equal(b.data, mem);
    assert_int_equal(b.cap, cap);
    int calls = g_calls;
    assert_int_equal(myr__buf_append(&b, "new", 3), 0);
    assert_int_equal(g_calls, calls);   /* reused, not reallocated */
    assert_memory_equal(b.data, "new", 3);
    myr__buf_free(&b);
}

static void test_overflow(void **state)
{
    (void)state;
    myr__buf b;
    myr__buf_init(&b);
    assert_int_equal(myr__buf_append(&b, "ab", 2), 0);
    /* len + extra wraps around: refused before any allocation. */
    assert_int_equal(myr__buf_reserve(&b, SIZE_MAX), MYR_ENOMEM);
    assert_int_equal(myr__buf_reserve(&b, SIZE_MAX - 1), MYR_ENOMEM);
    /* No wrap, but no doubling of the capacity can reach it. */
    assert_int_equal(myr__buf_reserve(&b, SIZE_MAX - 100), MYR_ENOMEM);
    assert_int_equal(g_calls, 1);
    assert_int_equal(b.len, 2);
    assert_int_equal(b.cap, 256);
    assert_memory_equal(b.data, "ab", 2);
    myr__buf_free(&b);
}

static void test_allocation_failure(void **state)
{
    (void)state;
    myr__buf b;
    myr__buf_init(&b);
    /* The very first block. */
    g_fail = 1;
    assert_int_equal(myr__buf_append(&b, "abc", 3), MYR_ENOMEM);
    assert_int_equal(myr__buf_put_u8(&b, 1), MYR_ENOMEM);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    g_fail = 0;

    /* Growing: the buffer is left exactly as it was. */
    uint8_t fill[256];
    memset(fill, 'f', sizeof fill);
    assert_int_equal(myr__buf_append(&b, fill, sizeof fill), 0);
    b.rpos = 10;
    uint8_t *mem = b.data;
    g_fail = 1;
    assert_int_equal(myr__buf_append(&b, fill, 100), MYR_ENOMEM);   /* 246 unread + 100 > 256 */
    assert_int_equal(myr__buf_reserve(&b, 11), MYR_ENOMEM);
    assert_ptr_equal(b.data, mem);
    assert_int_equal(b.cap, 256);
    assert_int_equal(b.len, 256);
    assert_int_equal(b.rpos, 10);
    assert_memory_equal(b.data, fill, 256);
    /* Room made by compacting needs no allocation, so it succeeds. */
    assert_int_equal(myr__buf_reserve(&b, 10), 0);
    assert_int_equal(b.rpos, 0);
    assert_int_equal(b.len, 246);
    g_fail = 0;
    assert_int_equal(myr__buf_append(&b, "tail", 4), 0);
    assert_memory_equal(b.data + 246, "tail", 4);
    myr__buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_and_free_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_and_growth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserve_compacts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compact_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
