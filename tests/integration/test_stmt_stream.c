/* tests/integration/test_stmt_stream.c -- myr_stmt_execute_stream against
 * the sandbox: batches of binary rows that never repeat and add up to the
 * whole result (values as the buffered execute gives them, typed getters),
 * parameters, an empty result, a statement without rows, stopping early
 * (MYR_ECANCELED, the connection and the statement still usable), a
 * server error, refusals, streams pipelined with buffered executes; every
 * allocation of a streamed execute failing once in turn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sandbox_env.h"

static myr_loop *g_loop;
static myr_conn *g_conn;

static int setup(void **state)
{
    (void)state;
    myr_error err;
    g_loop = myr_loop_new(NULL, &err);
    assert_non_null(g_loop);
    g_conn = sandbox_connect(g_loop);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    myr_close_sync(g_conn, NULL);
    myr_loop_free(g_loop);
    return 0;
}

static myr_stmt *prepare(const char *sql)
{
    myr_future *f = myr_prepare(g_conn, sql, strlen(sql));
    assert_int_equal(myr_await(f, 10000), 0);
    myr_stmt *s = myr_future_take_stmt(f);
    assert_non_null(s);
    myr_future_free(f);
    return s;
}

static void close_stmt(myr_stmt *s)
{
    myr_future *f = myr_stmt_close(s);
    assert_int_equal(myr_await(f, 10000), 0);
    myr_future_free(f);
}

typedef struct seen {
    size_t calls, rows, empty_calls, max_batch;
    int64_t next;          /* next seq expected */
    size_t stop_after;     /* return 1 on this call (0: never) */
    int bad;               /* a value was not what the row's seq implies */
    size_t ncols;
} seen;

/* Rows of "SELECT seq, seq * 1.5e0, CONCAT('v', seq), DATE '2024-01-01' + INTERVAL seq DAY". */
static int on_rows(const myr_result *rows, void *arg)
{
    seen *s = arg;
    s->calls++;
    size_t n = myr_result_row_count(rows);
    s->ncols = myr_result_column_count(rows);
    if (n == 0)
        s->empty_calls++;
    if (n > s->max_batch)
        s->max_batch = n;
    for (size_t i = 0; i < n; i++) {
        int64_t v;
        double d;
        char want[32];
        if (myr_result_int64(rows, i, 0, &v) != 0 || v != s->next)
            s->bad = 1;
        if (myr_result_double(rows, i, 1, &d) != 0 || d != (double)s->next * 1.5)
            s->bad = 1;
        snprintf(want, sizeof want, "v%lld", (long long)s->next);
        const char *t = myr_result_value(rows, i, 2, NULL);
        if (t == NULL || strcmp(t, want) != 0)
            s->bad = 1;
        myr_time tm;
        if (myr_result_time(rows, i, 3, &tm) != 0 || tm.year < 2024)
            s->bad = 1;
        s->next++;
        s->rows++;
    }
    return s->stop_after != 0 && s->calls == s->stop_after;
}

#define SEQ_SQL "SELECT seq, seq * 1.5e0, CONCAT('v', seq), DATE '2024-01-01' + INTERVAL seq DAY " \
                "FROM seq_1_to_1000000 WHERE seq BETWEEN ? AND ?"

static void test_batches(void **state)
{
    (void)state;
    myr_stmt *s = prepare(SEQ_SQL);
    for (int round = 0; round < 2; round++) {   /* the statement streams again */
        seen sn = {.next = 11};
        myr_param p[2] = {myr_param_i64(11), myr_param_i64(50010)};
        myr_future *f = myr_stmt_execute_stream(s, p, 2, on_rows, &sn);
        assert_int_equal(myr_await(f, 60000), 0);
        assert_false(sn.bad);
        assert_int_equal(sn.rows, 50000);
        assert_int_equal(sn.next, 50011);
        assert_int_equal(sn.ncols, 4);
        assert_true(sn.calls > 3);              /* in batches, not whole */
        assert_true(sn.max_batch < 50000);
        myr_result *end = myr_future_take_result(f);
        assert_non_null(end);
        assert_int_equal(myr_result_row_count(end), 0);
        assert_int_equal(myr_result_column_count(end), 0);
        myr_result_free(end);
        myr_future_free(f);
    }
    /* An empty result: one call with the columns and no rows. */
    seen sn = {.next = 5};
    myr_param p[2] = {myr_param_i64(5), myr_param_i64(4)};
    myr_future *f = myr_stmt_execute_stream(s, p, 2, on_rows, &sn);
    assert_int_equal(myr_await(f, 10000), 0);
    assert_int_equal(sn.calls, 1);
    assert_int_equal(sn.empty_calls, 1);
    assert_int_equal(sn.ncols, 4);
    myr_future_free(f);
    close_stmt(s);
}

static void test_stop_early(void **state)
{
    (void)state;
    myr_stmt *s = prepare(SEQ_SQL);
    seen sn = {.next = 1, .stop_after = 2};
    myr_param p[2] = {myr_param_i64(1), myr_param_i64(1000000)};
    myr_future *f = myr_stmt_execute_stream(s, p, 2, on_rows, &sn);
    /* A buffered execute queued behind the stream runs after the drain. */
    myr_param q[2] = {myr_param_i64(7), myr_param_i64(7)};
    myr_future *g = myr_stmt_execute(s, q, 2);
    assert_int_equal(myr_await(f, 120000), MYR_ECANCELED);
    assert_int_equal(myr_future_error(f)->code, MYR_ECANCELED);
    assert_int_equal(sn.calls, 2);   /* no call after the stop */
    assert_false(sn.bad);
    assert_true(sn.rows < 1000000);
    assert_int_equal(myr_await(g, 30000), 0);
    myr_result *r = myr_future_take_result(g);
    assert_int_equal(myr_result_row_count(r), 1);
    assert_string_equal(myr_result_value(r, 0, 2, NULL), "v7");
    myr_result_free(r);
    myr_future_free(f);
    myr_future_free(g);
    /* And a query on the connection. */
    myr_result *one = sandbox_query(g_conn, "SELECT 42");
    assert_string_equal(myr_result_value(one, 0, 0, NULL), "42");
    myr_result_free(one);
    close_stmt(s);
}

static void test_no_rows_and_errors(void **state)
{
    (void)state;
    myr_result_free(sandbox_query(g_conn, "CREATE TEMPORARY TABLE ss (a INT PRIMARY KEY)"));
    myr_stmt *ins = prepare("INSERT INTO ss VALUES (?)");
    seen sn = {0};
    myr_param p = myr_param_i64(1);
    myr_future *f = myr_stmt_execute_stream(ins, &p, 1, on_rows, &sn);
    assert_int_equal(myr_await(f, 10000), 0);
    assert_int_equal(sn.calls, 0);   /* no result set: no call */
    myr_result *end = myr_future_take_result(f);
    assert_int_equal(myr_result_affected_rows(end), 1);
    myr_result_free(end);
    myr_future_free(f);
    /* A duplicate key: the server's error, the connection usable. */
    f = myr_stmt_execute_stream(ins, &p, 1, on_rows, &sn);
    assert_int_equal(myr_await(f, 10000), MYR_ESERVER);
    assert_int_equal(myr_future_error(f)->mysql_errno, 1062);
    myr_future_free(f);
    /* Refusals: nothing sent. */
    f = myr_stmt_execute_stream(ins, NULL, 0, on_rows, &sn);
    assert_true(myr_future_done(f));
    assert_int_equal(myr_future_error(f)->mysql_errno, 2034);
    myr_future_free(f);
    f = myr_stmt_execute_stream(ins, &p, 1, NULL, NULL);
    assert_true(myr_future_done(f));
    assert_int_equal(myr_future_status(f), MYR_EINVAL);
    myr_future_free(f);
    f = myr_stmt_execute_stream(NULL, &p, 1, on_rows, &sn);
    assert_int_equal(myr_future_status(f), MYR_EINVAL);
    myr_future_free(f);
    close_stmt(ins);
    myr_result *one = sandbox_query(g_conn, "SELECT COUNT(*) FROM ss");
    assert_string_equal(myr_result_value(one, 0, 0, NULL), "1");
    myr_result_free(one);
}

/* The Nth allocation fails, for every N a streamed execute makes: its
 * future resolves once (rows whole, or an error), nothing leaks (ASan). */
static long g_allocs, g_fail_at;
static void *fail_malloc(size_t n) { return ++g_allocs == g_fail_at ? NULL : malloc(n); }
static void *fail_realloc(void *p, size_t n) { return ++g_allocs == g_fail_at ? NULL : realloc(p, n); }

static void test_allocation_failures(void **state)
{
    (void)state;
    const myr_allocator failing = {fail_malloc, fail_realloc, free};
    myr_stmt *s = prepare(SEQ_SQL);
    long n;
    for (n = 1; n < 100000; n++) {
        g_allocs = 0;
        g_fail_at = n;
        myr_set_allocator(&failing);   /* same free underneath: safe with live objects */
        seen sn = {.next = 1};
        myr_param p[2] = {myr_param_i64(1), myr_param_i64(3000)};
        myr_future *f = myr_stmt_execute_stream(s, p, 2, on_rows, &sn);
        int rc = f != NULL ? myr_await(f, 30000) : MYR_ENOMEM;
        myr_set_allocator(NULL);
        assert_int_not_equal(rc, MYR_ETIMEDOUT);
        assert_int_not_equal(rc, MYR_EPENDING);
        assert_false(sn.bad);
        if (rc == 0)
            assert_int_equal(sn.rows, 3000);
        myr_future_free(f);
        if (rc != 0 && !myr_conn_alive(g_conn)) {
            /* out of memory mid-response: that connection is given up */
            myr_conn_free(g_conn);
            g_conn = sandbox_connect(g_loop);
            myr_future *cf = myr_stmt_close(s);
            myr_future_free(cf);
            s = prepare(SEQ_SQL);
        }
        if (g_allocs < g_fail_at)
            break;   /* fewer than n allocations: every one has failed once */
    }
    fprintf(stderr, "# a 3,000-row streamed execute made %ld allocations; each failed once\n", n - 1);
    assert_true(n > 3);
    close_stmt(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_stop_early),
        cmocka_unit_test(test_no_rows_and_errors),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
