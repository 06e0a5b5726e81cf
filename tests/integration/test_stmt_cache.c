/* tests/integration/test_stmt_cache.c -- myr_query_params and the
 * connection's statement cache against the sandbox, checked with the
 * server's own counters (session Com_stmt_prepare / Com_stmt_execute /
 * Com_stmt_close, global Prepared_stmt_count; this test runs alone, see
 * CMakeLists.txt): a miss prepares and executes (MariaDB: statement id -1,
 * one send), a hit only executes, eviction closes the least recently used
 * statement on the server, a failing prepare fails the future with the
 * server's error and leaves the connection usable, a reset or a new
 * connection starts the cache over, cache size 0 closes each statement,
 * client-side refusals, and the same with MYR_OPT_MARIADB_EXTENSIONS 0
 * (prepare, then the held execute once the id is known, in order); every
 * allocation of a pipelined sequence of calls failing once in turn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "internal.h"
#include "sandbox_env.h"

static myr_loop *g_loop;

static int setup(void **state)
{
    (void)state;
    myr_error err;
    g_loop = myr_loop_new(NULL, &err);
    return g_loop == NULL;
}

static int teardown(void **state)
{
    (void)state;
    myr_loop_free(g_loop);
    return 0;
}

typedef struct counters { long prepare, execute, close, prepared_global; } counters;

static long status_value(myr_conn *c, const char *sql)
{
    myr_result *r = sandbox_query(c, sql);
    assert_int_equal(myr_result_row_count(r), 1);
    long v = atol(myr_result_value(r, 0, 1, NULL));
    myr_result_free(r);
    return v;
}

static counters count(myr_conn *c)
{
    counters k;
    k.prepare = status_value(c, "SHOW SESSION STATUS LIKE 'Com_stmt_prepare'");
    k.execute = status_value(c, "SHOW SESSION STATUS LIKE 'Com_stmt_execute'");
    k.close = status_value(c, "SHOW SESSION STATUS LIKE 'Com_stmt_close'");
    k.prepared_global = status_value(c, "SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'");
    return k;
}

static myr_conn *connect_with(int cache_size, int ext)
{
    myr_conn_opts *o = sandbox_opts(0);
    if (cache_size >= 0)
        assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_STMT_CACHE_SIZE, cache_size), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_MARIADB_EXTENSIONS, ext), 0);
    myr_error err;
    myr_conn *c = myr_connect_sync(g_loop, o, &err);
    if (c == NULL)
        fail_msg("connect: %s", err.message);
    myr_conn_opts_free(o);
    return c;
}

/* myr_query_params that must succeed; returns the first value. */
static char *qp(myr_conn *c, const char *sql, const myr_param *p, size_t n)
{
    myr_future *f = myr_query_params(c, sql, strlen(sql), p, n);
    assert_non_null(f);
    int rc = myr_await(f, 10000);
    if (rc != 0)
        fail_msg("%s: %d %u %s", sql, rc, myr_future_error(f)->mysql_errno, myr_future_error(f)->message);
    myr_result *r = myr_future_take_result(f);
    myr_future_free(f);
    const char *v = myr_result_value(r, 0, 0, NULL);
    char *out = strdup(v ? v : "(none)");
    myr_result_free(r);
    return out;
}

static void want_qp(myr_conn *c, const char *sql, const myr_param *p, size_t n, const char *want)
{
    char *v = qp(c, sql, p, n);
    assert_string_equal(v, want);
    free(v);
}

static void hits_and_misses(int ext)
{
    myr_conn *c = connect_with(-1, ext);
    assert_int_equal(c->direct_exec, ext);   /* the sandbox is MariaDB 10.11 */
    counters k0 = count(c);
    myr_param p = myr_param_i64(41);
    want_qp(c, "SELECT ? + 1", &p, 1, "42");
    counters k1 = count(c);
    assert_int_equal(k1.prepare - k0.prepare, 1);
    assert_int_equal(k1.execute - k0.execute, 1);
    assert_int_equal(myr_conn_stmt_cache_count(c), 1);
    /* Hits: executes only. */
    for (int i = 0; i < 10; i++) {
        char want[16];
        p = myr_param_i64(i);
        snprintf(want, sizeof want, "%d", i + 1);
        want_qp(c, "SELECT ? + 1", &p, 1, want);
    }
    counters k2 = count(c);
    assert_int_equal(k2.prepare - k1.prepare, 0);
    assert_int_equal(k2.execute - k1.execute, 10);
    assert_int_equal(k2.close - k1.close, 0);
    /* 100 calls pipelined, 5 distinct statements, none awaited in
     * between: 5 prepares; a statement whose prepare is not answered
     * yet is executed with it (id -1) or after it. */
    myr_future *fs[100];
    for (int i = 0; i < 100; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT ? * %d", i % 5 + 2);
        p = myr_param_i64(i);
        fs[i] = myr_query_params(c, sql, strlen(sql), &p, 1);
    }
    assert_int_equal(myr_gather(fs, 100, 30000), 0);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(myr_future_status(fs[i]), 0);
        myr_result *r = myr_future_take_result(fs[i]);
        assert_int_equal(atol(myr_result_value(r, 0, 0, NULL)), (long)i * (i % 5 + 2));
        myr_result_free(r);
        myr_future_free(fs[i]);
    }
    counters k3 = count(c);
    fprintf(stderr, "# ext %d: 100 pipelined calls of 5 statements: %ld prepares, %ld executes\n", ext,
            k3.prepare - k2.prepare, k3.execute - k2.execute);
    assert_int_equal(k3.execute - k2.execute, 100);
    assert_true(k3.prepare - k2.prepare >= 5);
    if (ext)
        assert_int_equal(k3.prepare - k2.prepare, 5);   /* pending hits ride on id -1 */
    assert_int_equal(myr_conn_stmt_cache_count(c), 6);
    myr_close_sync(c, NULL);
}

static void test_hits_and_misses(void **state) { (void)state; hits_and_misses(1); }
static void test_hits_and_misses_no_ext(void **state) { (void)state; hits_and_misses(0); }

static void bad_prepare(int ext)
{
    myr_conn *c = connect_with(-1, ext);
    counters k0 = count(c);
    /* A bad statement, with good work queued around it. */
    myr_param p = myr_param_i64(1);
    const char *bad = "SELEKT ? FROM nowhere";
    myr_future *before = myr_query(c, "SELECT 'before'", 15);
    myr_future *f = myr_query_params(c, bad, strlen(bad), &p, 1);
    myr_future *after = myr_query_params(c, "SELECT ? + 100", 14, &p, 1);
    assert_int_equal(myr_await(f, 10000), MYR_ESERVER);
    assert_int_equal(myr_future_error(f)->mysql_errno, 1064);   /* the prepare's, not 1243 */
    assert_string_equal(myr_future_error(f)->sqlstate, "42000");
    assert_null(myr_future_take_result(f));
    assert_int_equal(myr_await(before, 10000), 0);
    assert_int_equal(myr_await(after, 10000), 0);
    myr_result *r = myr_future_take_result(after);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "101");
    myr_result_free(r);
    myr_future_free(before);
    myr_future_free(after);
    myr_future_free(f);
    assert_int_equal(myr_conn_stmt_cache_count(c), 1);   /* the bad one is not kept */
    /* Again: prepared again (not cached), fails again. */
    f = myr_query_params(c, bad, strlen(bad), &p, 1);
    assert_int_equal(myr_await(f, 10000), MYR_ESERVER);
    assert_int_equal(myr_future_error(f)->mysql_errno, 1064);
    myr_future_free(f);
    counters k1 = count(c);
    assert_int_equal(k1.prepare - k0.prepare, 3);
    want_qp(c, "SELECT ? + 100", &p, 1, "101");
    myr_close_sync(c, NULL);
}

static void test_bad_prepare(void **state) { (void)state; bad_prepare(1); }
static void test_bad_prepare_no_ext(void **state) { (void)state; bad_prepare(0); }

static void test_eviction_closes(void **state)
{
    (void)state;
    myr_conn *c = connect_with(3, 1);
    counters k0 = count(c);
    myr_param p = myr_param_i64(7);
    const char *sql[5] = {"SELECT ? + 1", "SELECT ? + 2", "SELECT ? + 3", "SELECT ? + 4", "SELECT ? + 5"};
    for (int i = 0; i < 3; i++)
        free(qp(c, sql[i], &p, 1));
    counters k1 = count(c);
    assert_int_equal(myr_conn_stmt_cache_count(c), 3);
    /* (Other sessions' statements only go: earlier connections' are freed
     * by the server after their close, and nothing else runs meanwhile.) */
    assert_true(k1.prepared_global - k0.prepared_global <= 3);
    want_qp(c, sql[0], &p, 1, "8");          /* 0 is now the most recently used */
    want_qp(c, sql[3], &p, 1, "11");         /* evicts 1 */
    want_qp(c, sql[4], &p, 1, "12");         /* evicts 2 */
    counters k2 = count(c);
    assert_int_equal(myr_conn_stmt_cache_count(c), 3);
    assert_int_equal(k2.close - k1.close, 2);
    assert_true(k2.prepared_global - k0.prepared_global <= 3);   /* 5 without the closes */
    assert_int_equal(k2.prepare - k1.prepare, 2);
    want_qp(c, sql[0], &p, 1, "8");          /* still cached: no prepare */
    want_qp(c, sql[1], &p, 1, "9");          /* evicted: prepared again, evicts 3 */
    counters k3 = count(c);
    assert_int_equal(k3.prepare - k2.prepare, 1);
    assert_int_equal(k3.close - k2.close, 1);
    fprintf(stderr, "# cache of 3, 5 statements: %ld prepares, %ld closes, Prepared_stmt_count +%ld\n",
            k3.prepare - k0.prepare, k3.close - k0.close, k3.prepared_global - k0.prepared_global);
    myr_close_sync(c, NULL);
}

static void test_size_zero(void **state)
{
    (void)state;
    myr_conn *c = connect_with(0, 1);
    counters k0 = count(c);
    myr_param p = myr_param_str("x", 1);
    for (int i = 0; i < 4; i++)
        want_qp(c, "SELECT CONCAT(?, 'y')", &p, 1, "xy");
    counters k1 = count(c);
    assert_int_equal(myr_conn_stmt_cache_count(c), 0);
    assert_int_equal(k1.prepare - k0.prepare, 4);
    assert_int_equal(k1.execute - k0.execute, 4);
    assert_int_equal(k1.close - k0.close, 4);
    assert_true(k1.prepared_global <= k0.prepared_global);
    myr_close_sync(c, NULL);
}

static void test_reset_and_reconnect(void **state)
{
    (void)state;
    myr_conn *c = connect_with(-1, 1);
    myr_param p = myr_param_i64(1);
    want_qp(c, "SELECT ? + 1", &p, 1, "2");
    counters k0 = count(c);
    /* Queued right behind a reset: must not use the statement it forgets. */
    myr_future *r = myr_reset(c);
    myr_future *f = myr_query_params(c, "SELECT ? + 1", 12, &p, 1);
    assert_int_equal(myr_await(r, 10000), 0);
    assert_int_equal(myr_await(f, 10000), 0);
    myr_future_free(r);
    myr_future_free(f);
    counters k1 = count(c);   /* (the reset zeroed the session counters) */
    assert_int_equal(k1.prepare, 1);
    assert_int_equal(k1.execute, 1);
    assert_true(k0.prepare >= 1);
    want_qp(c, "SELECT ? + 1", &p, 1, "2");
    counters k2 = count(c);
    assert_int_equal(k2.prepare, 1);   /* cached again */
    assert_int_equal(k2.execute, 2);
    /* A connection that died: fails at once; a new one starts empty. */
    long id = status_value(c, "SELECT 'id', CONNECTION_ID()");
    myr_conn *killer = connect_with(-1, 1);
    char kill[64];
    snprintf(kill, sizeof kill, "KILL %ld", id);
    myr_result_free(sandbox_query(killer, kill));
    f = myr_query_params(c, "SELECT ? + 1", 12, &p, 1);
    int rc = myr_await(f, 10000);
    assert_true(rc == MYR_ECONNLOST || rc == MYR_EGONE || rc == MYR_ESERVER);
    myr_future_free(f);
    f = myr_query_params(c, "SELECT ? + 1", 12, &p, 1);   /* dead (or dying): fails too */
    assert_int_not_equal(myr_await(f, 10000), 0);
    assert_int_not_equal(myr_future_status(f), MYR_ETIMEDOUT);
    myr_future_free(f);
    myr_conn_free(c);
    assert_int_equal(myr_conn_stmt_cache_count(killer), 0);
    want_qp(killer, "SELECT ? + 1", &p, 1, "2");
    assert_int_equal(count(killer).prepare, 1);
    myr_close_sync(killer, NULL);
}

static void test_refusals(void **state)
{
    (void)state;
    myr_conn *c = connect_with(-1, 1);
    myr_param p[2] = {myr_param_i64(1), myr_param_i64(2)};
    /* The ? the client counts (quotes and comments skipped). */
    const char *sql = "SELECT '?', \"?\" AS `?`, ? /* ? */ -- ?\n";
    myr_future *f = myr_query_params(c, sql, strlen(sql), p, 2);
    assert_true(myr_future_done(f));
    assert_int_equal(myr_future_error(f)->mysql_errno, 2034);
    myr_future_free(f);
    char *v = qp(c, sql, p, 1);
    assert_string_equal(v, "?");
    free(v);
    myr_param bad = myr_param_i64(0);
    bad.type = 99;
    f = myr_query_params(c, "SELECT ?", 8, &bad, 1);
    assert_int_equal(myr_future_error(f)->mysql_errno, 2036);
    myr_future_free(f);
    f = myr_query_params(NULL, "SELECT 1", 8, NULL, 0);
    assert_int_equal(myr_future_status(f), MYR_EINVAL);
    myr_future_free(f);
    assert_int_equal(count(c).prepare, 1);
    myr_close_sync(c, NULL);
}

/* The Nth allocation fails, for every N a pipelined sequence of calls
 * makes (misses, a pending hit, evictions with a cache of 1): every future
 * resolves once, with the right value or an error; nothing leaks (ASan);
 * the loop goes on. */
static long g_allocs, g_fail_at;
static void *fail_malloc(size_t n) { return ++g_allocs == g_fail_at ? NULL : malloc(n); }
static void *fail_realloc(void *p, size_t n) { return ++g_allocs == g_fail_at ? NULL : realloc(p, n); }

static long allocation_failures(int ext)
{
    const myr_allocator failing = {fail_malloc, fail_realloc, free};
    const char *sql[3] = {"SELECT ? + 1", "SELECT ? + 2", "SELECT ? + 1"};
    const char *want[3] = {"8", "9", "8"};
    long n;
    for (n = 1; n < 100000; n++) {
        myr_conn *c = connect_with(1, ext);
        g_allocs = 0;
        g_fail_at = n;
        myr_set_allocator(&failing);   /* same free underneath: safe with live objects */
        myr_future *fs[3];
        myr_param p = myr_param_i64(7);
        for (int i = 0; i < 3; i++)
            fs[i] = myr_query_params(c, sql[i], strlen(sql[i]), &p, 1);
        for (int i = 0; i < 3; i++) {
            if (fs[i] == NULL)
                continue;   /* out of memory for the future itself */
            int rc = myr_await(fs[i], 30000);
            assert_int_not_equal(rc, MYR_ETIMEDOUT);
            assert_int_not_equal(rc, MYR_EPENDING);
            if (rc == 0) {
                myr_result *r = myr_future_take_result(fs[i]);
                assert_string_equal(myr_result_value(r, 0, 0, NULL), want[i]);
                myr_result_free(r);
            }
            myr_future_free(fs[i]);
        }
        myr_set_allocator(NULL);
        myr_conn_free(c);
        if (g_allocs < g_fail_at)
            break;   /* fewer than n allocations: every one has failed once */
    }
    return n - 1;
}

static void test_allocation_failures(void **state)
{
    (void)state;
    long with = allocation_failures(1), without = allocation_failures(0);
    fprintf(stderr, "# three pipelined calls made %ld allocations (%ld without id -1); each failed once\n",
            with, without);
    assert_true(with > 5 && without > 5);
    myr_conn *c = connect_with(-1, 1);
    myr_param p = myr_param_i64(1);
    want_qp(c, "SELECT ? + 1", &p, 1, "2");
    myr_close_sync(c, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hits_and_misses),
        cmocka_unit_test(test_hits_and_misses_no_ext),
        cmocka_unit_test(test_bad_prepare),
        cmocka_unit_test(test_bad_prepare_no_ext),
        cmocka_unit_test(test_eviction_closes),
        cmocka_unit_test(test_size_zero),
        cmocka_unit_test(test_reset_and_reconnect),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
