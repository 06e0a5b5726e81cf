/* tests/conn/test_result.c -- the buffered result (src/result.c), driven
 * through its sink the way the codec drives it: metadata and values are
 * copies (the packets they came from are overwritten before reading), every
 * value is NUL-terminated and binary-safe, NULLs, many rows (the cell array
 * moves from the arena to the heap), a chain of results, OK fields, the
 * accessors' out-of-range answers, a response cut short in its column
 * definitions, and every allocation failing in turn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>

#include "internal.h"

/* Column Definition 41 for a column named `name` (VAR_STRING). */
static size_t coldef(uint8_t *out, const char *name, myr_column *col)
{
    static const char *const strs[5] = {"def", "db", "t", "t"};
    size_t pos = 0;
    for (int i = 0; i < 6; i++) {
        const char *v = i < 4 ? strs[i] : name;
        size_t n = strlen(v);
        out[pos++] = (uint8_t)n;
        memcpy(out + pos, v, n);
        pos += n;
    }
    static const uint8_t fixed[13] = {0x0c, 45, 0, 0xff, 0, 0, 0, 253, 0x01, 0x00, 0, 0, 0};
    memcpy(out + pos, fixed, sizeof fixed);
    pos += sizeof fixed;
    assert_int_equal(myr__coldef_parse(out, pos, col), 0);
    return pos;
}

/* Feed a text row of n values (NULL = SQL NULL) through the sink. */
static int feed_row(myr__results *rs, size_t n, const char *const *v, const size_t *lens)
{
    uint8_t pkt[1024];
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == NULL) {
            pkt[pos++] = 0xFB;
            continue;
        }
        size_t len = lens ? lens[i] : strlen(v[i]);
        pkt[pos++] = (uint8_t)len;
        memcpy(pkt + pos, v[i], len);
        pos += len;
    }
    uint8_t *copy = NULL;
    myr__field *f = myr__results_sink.row_slots(rs, pos, &copy);
    if (f == NULL)
        return MYR_ENOMEM;
    assert_non_null(copy);   /* the buffered result keeps a copy */
    assert_int_equal(myr__row_parse_copy(pkt, pos, n, f, copy), 0);
    int rc = myr__results_sink.row(rs, f, pkt, pos);
    memset(pkt, 0xAA, sizeof pkt);   /* the result must not point into the packet */
    return rc;
}

/* Build: result set (id, name) with nrows rows, then an OK. 0 or the first error. */
static int build(myr__results *rs, size_t nrows)
{
    int rc;
    if ((rc = myr__results_sink.columns(rs, 2)) != 0)
        return rc;
    uint8_t pkt[256];
    myr_column col;
    const char *names[2] = {"id", "name"};
    for (size_t i = 0; i < 2; i++) {
        size_t len = coldef(pkt, names[i], &col);
        if ((rc = myr__results_sink.column(rs, i, pkt, len)) != 0)
            return rc;
        memset(pkt, 0xAA, sizeof pkt);
    }
    for (size_t r = 0; r < nrows; r++) {
        char id[24];
        snprintf(id, sizeof id, "%zu", r);
        const char *v[2] = {id, r % 3 == 2 ? NULL : "a\0b"};
        const size_t lens[2] = {strlen(id), 3};
        if ((rc = feed_row(rs, 2, v, lens)) != 0)
            return rc;
    }
    myr__ok end = {.status = 0x000A, .warnings = 1};
    if ((rc = myr__results_sink.end(rs, &end)) != 0)
        return rc;
    static const uint8_t info[] = "Rows matched: 1";
    myr__ok ok = {.affected_rows = 7, .insert_id = 42, .status = 2, .warnings = 0, .info = info,
                  .info_len = sizeof info - 1};
    return myr__results_sink.ok(rs, &ok);
}

static void check(const myr_result *r, size_t nrows)
{
    assert_int_equal(myr_result_column_count(r), 2);
    assert_int_equal(myr_result_row_count(r), nrows);
    const myr_column *c = myr_result_column(r, 1);
    assert_non_null(c);
    assert_int_equal(c->name_len, 4);
    assert_memory_equal(c->name, "name", 4);
    assert_memory_equal(c->schema, "db", 2);
    assert_int_equal(c->type, 253);
    assert_null(myr_result_column(r, 2));
    for (size_t i = 0; i < nrows; i++) {
        size_t len;
        char id[24];
        snprintf(id, sizeof id, "%zu", i);
        const char *v = myr_result_value(r, i, 0, &len);
        assert_string_equal(v, id);   /* NUL after the bytes */
        assert_int_equal(len, strlen(id));
        v = myr_result_value(r, i, 1, &len);
        if (i % 3 == 2) {
            assert_null(v);
            assert_int_equal(len, 0);
        } else {
            assert_int_equal(len, 3);
            assert_memory_equal(v, "a\0b\0", 4);
        }
    }
    size_t len = 99;
    assert_null(myr_result_value(r, nrows, 0, &len));
    assert_int_equal(len, 0);
    assert_null(myr_result_value(r, 0, 2, &len));
    assert_int_equal(myr_result_status(r), 0x000A);
    assert_int_equal(myr_result_warnings(r), 1);
    const myr_result *ok = myr_result_next(r);
    assert_non_null(ok);
    assert_int_equal(myr_result_column_count(ok), 0);
    assert_int_equal(myr_result_affected_rows(ok), 7);
    assert_int_equal(myr_result_insert_id(ok), 42);
    assert_string_equal(myr_result_info(ok), "Rows matched: 1");
    assert_string_equal(myr_result_info(r), "");
    assert_null(myr_result_next(ok));
}

static void test_sizes(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 4, 5, 100, 10000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        myr__results rs = {0};
        assert_int_equal(build(&rs, sizes[i]), 0);
        check(rs.head, sizes[i]);
        myr__results_clear(&rs);
        assert_null(rs.head);
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    myr__results rs = {0};
    assert_int_equal(myr__results_sink.columns(&rs, 0), MYR_EMALFORMED);
    assert_int_equal(myr__results_sink.columns(&rs, 4097), MYR_EMALFORMED);
    assert_int_equal(myr__results_sink.columns(&rs, 1), 0);
    uint8_t pkt[256];
    myr_column col;
    size_t len = coldef(pkt, "x", &col);
    assert_int_equal(myr__results_sink.column(&rs, 1, pkt, len), MYR_EMALFORMED);   /* index past ncols */
    myr__results_clear(&rs);
    /* Accessors on NULL. */
    assert_int_equal(myr_result_column_count(NULL), 0);
    assert_int_equal(myr_result_row_count(NULL), 0);
    assert_null(myr_result_value(NULL, 0, 0, NULL));
    assert_null(myr_result_next(NULL));
    assert_string_equal(myr_result_info(NULL), "");
    myr_result_free(NULL);
}

/* An allocator whose memory comes back dirty (as reused heap memory does). */
static void *dirty_malloc(size_t n)
{
    void *p = malloc(n);
    if (p != NULL)
        memset(p, 0xA5, n);
    return p;
}

/* A response cut short after the first of three column definitions (an ERR
 * there, or a malformed packet): the application still gets the result with
 * the error; it has no columns to read, never whatever was in the memory
 * before (tests/fuzz/fuzz_result.c found the columns uninitialised once). */
static void test_cut_short_columns(void **state)
{
    (void)state;
    myr_allocator a = {dirty_malloc, realloc, free};
    assert_int_equal(myr_set_allocator(&a), 0);
    myr__results rs = {0};
    assert_int_equal(myr__results_sink.columns(&rs, 3), 0);
    uint8_t pkt[256];
    myr_column col;
    size_t len = coldef(pkt, "first", &col);
    assert_int_equal(myr__results_sink.column(&rs, 0, pkt, len), 0);
    const myr_result *r = rs.head;
    assert_int_equal(myr_result_column_count(r), 3);
    assert_int_equal(myr_result_row_count(r), 0);
    for (size_t i = 0; i < 3; i++)
        assert_null(myr_result_column(r, i));
    assert_null(myr_result_value(r, 0, 0, NULL));
    myr__results_clear(&rs);
    assert_int_equal(myr_set_allocator(NULL), 0);
}

/* ------------------------------------------------------ allocation failures */
static long g_n, g_fail_at;
static void *fail_malloc(size_t n) { return ++g_n == g_fail_at ? NULL : malloc(n); }
static void *fail_realloc(void *p, size_t n) { return ++g_n == g_fail_at ? NULL : realloc(p, n); }

static void test_alloc_failures(void **state)
{
    (void)state;
    myr_allocator a = {fail_malloc, fail_realloc, free};
    assert_int_equal(myr_set_allocator(&a), 0);
    int failures = 0;
    for (g_fail_at = 1;; g_fail_at++) {
        g_n = 0;
        myr__results rs = {0};
        int rc = build(&rs, 100);
        if (rc == 0) {
            check(rs.head, 100);   /* a run with no failure left: complete */
            myr__results_clear(&rs);
            break;
        }
        assert_int_equal(rc, MYR_ENOMEM);
        failures++;
        myr__results_clear(&rs);   /* what was built so far frees cleanly (ASan: no leak) */
    }
    assert_int_equal(myr_set_allocator(NULL), 0);
    assert_true(failures >= 5);    /* results, chunks, cells, info: each failed once */
}

/* ------------------------------------- shared column definitions, reuse */

/* One result set with the given column names and a row of their names,
 * read for connection c. */
static myr_result *result_with(myr_conn *c, size_t n, const char *const *names)
{
    myr__results rs = {.conn = c};
    assert_int_equal(myr__results_sink.columns(&rs, n), 0);
    uint8_t pkt[256];
    myr_column col;
    for (size_t i = 0; i < n; i++) {
        size_t len = coldef(pkt, names[i], &col);
        assert_int_equal(myr__results_sink.column(&rs, i, pkt, len), 0);
        memset(pkt, 0xAA, sizeof pkt);
    }
    assert_int_equal(feed_row(&rs, n, names, NULL), 0);
    myr__ok end = {0};
    assert_int_equal(myr__results_sink.end(&rs, &end), 0);
    return rs.head;
}

static void check_names(const myr_result *r, size_t n, const char *const *names)
{
    assert_int_equal(myr_result_column_count(r), n);
    for (size_t i = 0; i < n; i++) {
        const myr_column *col = myr_result_column(r, i);
        assert_non_null(col);
        assert_int_equal(col->name_len, strlen(names[i]));
        assert_memory_equal(col->name, names[i], col->name_len);
        assert_memory_equal(col->schema, "db", 2);
        assert_string_equal(myr_result_value(r, 0, i, NULL), names[i]);
    }
}

/* The same definitions again are shared (not copied); a set that differs
 * from its second column on, or in its count, gets its own; every result
 * stays whole after the others, the connection's cache and the loop went. */
static void test_shared_columns(void **state)
{
    (void)state;
    myr_error err;
    myr_loop *loop = myr_loop_new(NULL, &err);
    assert_non_null(loop);
    myr_conn *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->loop = loop;
    static const char *const ab[] = {"id", "name"}, *const ax[] = {"id", "other"},
                             *const abc[] = {"id", "name", "more"};
    myr_result *r1 = result_with(c, 2, ab);
    myr_result *r2 = result_with(c, 2, ab);
    assert_non_null(r1->defs);
    assert_ptr_equal(r1->defs, r2->defs);
    assert_ptr_equal(myr_result_column(r1, 1), myr_result_column(r2, 1));
    myr_result *r3 = result_with(c, 2, ax);   /* differs at column 1 */
    assert_ptr_not_equal(r3->defs, r1->defs);
    assert_ptr_equal(c->coldefs, r3->defs);
    myr_result *r4 = result_with(c, 3, abc);  /* another count */
    myr_result *r5 = result_with(c, 3, abc);
    assert_ptr_equal(r4->defs, r5->defs);
    myr_result_free(r1);
    check_names(r2, 2, ab);
    check_names(r3, 2, ax);
    myr__coldefs_unref(c->coldefs);   /* as myr_conn_free does */
    free(c);
    myr_loop_free(loop);
    check_names(r2, 2, ab);
    check_names(r3, 2, ax);
    check_names(r4, 3, abc);
    check_names(r5, 3, abc);
    myr_result_free(r5);
    myr_result_free(r2);
    myr_result_free(r4);
    myr_result_free(r3);
}

static long g_mallocs;
static void *count_malloc(size_t n) { __atomic_add_fetch(&g_mallocs, 1, __ATOMIC_SEQ_CST); return malloc(n); }
static void *free_on_thread(void *r) { myr_result_free(r); return NULL; }

/* A result freed on its loop's thread goes back to the loop and is the
 * next one handed out, with nothing of its old content; one freed on
 * another thread, or after the loop, goes to the heap. */
static void test_results_reused(void **state)
{
    (void)state;
    myr_allocator a = {count_malloc, realloc, free};
    assert_int_equal(myr_set_allocator(&a), 0);
    myr_error err;
    myr_loop *loop = myr_loop_new(NULL, &err);
    assert_non_null(loop);
    myr_conn *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->loop = loop;
    static const char *const ab[] = {"id", "name"}, *const ax[] = {"x", "y"};
    myr_result *r1 = result_with(c, 2, ab);
    myr_result_free(r1);
    long before = g_mallocs;
    myr_result *r2 = result_with(c, 2, ax);
    myr_result *r3 = result_with(c, 2, ax);
    assert_ptr_equal(r2, r1);             /* the freed block, reused */
    assert_int_equal(g_mallocs - before, 2);   /* r2's new definitions and r3's block */
    check_names(r2, 2, ax);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, free_on_thread, r3), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    before = g_mallocs;
    myr_result *r4 = result_with(c, 2, ax);   /* r3 went to the heap: a fresh block */
    assert_int_equal(g_mallocs - before, 1);
    myr_result_free(r4);
    myr__coldefs_unref(c->coldefs);
    free(c);
    myr_loop_free(loop);
    check_names(r2, 2, ax);
    myr_result_free(r2);   /* after its loop: to the heap (ASan: no leak, no reuse) */
    assert_int_equal(myr_set_allocator(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_cut_short_columns),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_shared_columns),
        cmocka_unit_test(test_results_reused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
