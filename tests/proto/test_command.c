/* tests/proto/test_command.c -- command packets and charset names (src/proto/command.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/proto.h"

static void test_query_and_ping(void **state)
{
    (void)state;
    myr__buf b;
    myr__buf_init(&b);
    assert_int_equal(myr__cmd_build(&b, MYR__COM_QUERY, "SELECT 1", 8), 0);
    assert_int_equal(myr__cmd_build(&b, MYR__COM_PING, NULL, 0), 0);
    assert_int_equal(myr__cmd_build(&b, MYR__COM_INIT_DB, "test", 4), 0);
    static const uint8_t expect[] = "\x09\x00\x00\x00" "\x03" "SELECT 1"
                                    "\x01\x00\x00\x00" "\x0e"
                                    "\x05\x00\x00\x00" "\x02" "test";
    assert_int_equal(b.len, sizeof expect - 1);
    assert_memory_equal(b.data, expect, sizeof expect - 1);
    myr__buf_free(&b);
}

/* A query of 0xFFFFFE bytes makes a payload of exactly 0xFFFFFF: two frames,
 * the second empty. One byte more: 0xFFFFFF + 1. The reader joins them back. */
static void test_big_query_splits(void **state)
{
    (void)state;
    static const size_t sql_lens[] = {0xFFFFFE, 0xFFFFFF, 2 * 0xFFFFFF + 5};
    for (size_t k = 0; k < 3; k++) {
        size_t n = sql_lens[k];
        char *sql = malloc(n);
        assert_non_null(sql);
        for (size_t i = 0; i < n; i++)
            sql[i] = (char)('a' + i % 26);
        myr__buf b;
        myr__buf_init(&b);
        assert_int_equal(myr__cmd_build(&b, MYR__COM_QUERY, sql, n), 0);
        size_t payload = n + 1, nfull = payload / MYR__PKT_MAX;
        assert_int_equal(b.len, payload + 4 * (nfull + 1));
        assert_int_equal(myr__u24(b.data), MYR__PKT_MAX);
        assert_int_equal(b.data[3], 0);
        assert_int_equal(b.data[4], MYR__COM_QUERY);
        size_t last = (4 + MYR__PKT_MAX) * nfull;
        assert_int_equal(myr__u24(b.data + last), payload % MYR__PKT_MAX);
        assert_int_equal(b.data[last + 3], nfull);

        myr__pkt_reader r;
        myr__pkt_reader_init(&r);
        size_t off = 0;
        const uint8_t *pl = NULL;
        size_t plen = 0, need;
        while (pl == NULL) {
            long used = myr__pkt_next(&r, b.data + off, b.len - off, &pl, &plen, &need);
            assert_true(used > 0);
            off += (size_t)used;
        }
        assert_int_equal(off, b.len);
        assert_int_equal(plen, payload);
        assert_int_equal(pl[0], MYR__COM_QUERY);
        assert_memory_equal(pl + 1, sql, n);
        myr__pkt_reader_free(&r);
        myr__buf_free(&b);
        free(sql);
    }
}

static int fail_allocs;
static void *t_malloc(size_t n) { return fail_allocs ? NULL : malloc(n); }
static void *t_realloc(void *p, size_t n) { return fail_allocs ? NULL : realloc(p, n); }

static void test_out_of_memory_leaves_buffer(void **state)
{
    (void)state;
    myr__buf b;
    myr__buf_init(&b);
    assert_int_equal(myr__cmd_build(&b, MYR__COM_PING, NULL, 0), 0);
    myr_allocator a = {t_malloc, t_realloc, free};
    myr_set_allocator(&a);
    fail_allocs = 1;
    static char big[4096];
    assert_int_equal(myr__cmd_build(&b, MYR__COM_QUERY, big, sizeof big), MYR_ENOMEM);
    fail_allocs = 0;
    myr_set_allocator(NULL);
    assert_int_equal(b.len, 5);          /* the PING is intact, nothing half-written */
    assert_memory_equal(b.data, "\x01\x00\x00\x00\x0e", 5);
    myr__buf_free(&b);
}

static void test_charset_id(void **state)
{
    (void)state;
    assert_int_equal(myr__charset_id("utf8mb4"), 45);
    assert_int_equal(myr__charset_id("UTF8MB4"), 45);
    assert_int_equal(myr__charset_id("utf8mb3"), 33);
    assert_int_equal(myr__charset_id("utf8"), 33);
    assert_int_equal(myr__charset_id("latin1"), 8);
    assert_int_equal(myr__charset_id("binary"), 63);
    assert_int_equal(myr__charset_id("ascii"), 11);
    assert_int_equal(myr__charset_id("klingon"), 0);
    assert_int_equal(myr__charset_id("utf8mb"), 0);
    assert_int_equal(myr__charset_id(""), 0);
    assert_int_equal(myr__charset_id(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_and_ping),
        cmocka_unit_test(test_big_query_splits),
        cmocka_unit_test(test_out_of_memory_leaves_buffer),
        cmocka_unit_test(test_charset_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
