/* tests/integration/test_cancel.c -- myr_cancel against the sandbox: a
 * running SELECT SLEEP() killed and the connection reused, a command
 * canceled before it was sent (never runs), one sent but not running yet
 * (killed when it starts), one with an uncanceled command sent after it
 * (not killed: runs to its end, discarded, the other untouched), a result
 * that arrived before the cancel, a cancel from a callback, many
 * connections canceled at once; sleeps, promises and connects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "sandbox_env.h"

static myr_loop *g_loop;
static myr_conn *g_check;   /* a connection of its own (private loop) that watches the processlist */

static int setup(void **state)
{
    (void)state;
    g_loop = myr_loop_new(NULL, NULL);
    assert_non_null(g_loop);
    g_check = sandbox_connect(NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    myr_close_sync(g_check, NULL);
    myr_loop_free(g_loop);
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long query_long(myr_conn *c, const char *sql)
{
    myr_result *r = sandbox_query(c, sql);
    const char *v = myr_result_value(r, 0, 0, NULL);
    long n = v ? atol(v) : -1;
    myr_result_free(r);
    return n;
}

/* Drive g_loop until `want` statements with text `sql` run on the server
 * (seen by g_check in the processlist). */
static void wait_running(const char *sql, long want)
{
    char q[256];
    snprintf(q, sizeof q, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = '%s'", sql);
    for (int i = 0; i < 3000; i++) {
        myr_loop_run_once(g_loop, 0);
        if (query_long(g_check, q) >= want)
            return;
        myr_loop_run_once(g_loop, 1);
    }
    fail_msg("'%s' never ran %ld times", sql, want);
}

static const char *value(myr_future *f)
{
    static char buf[64];
    myr_result *r = myr_future_take_result(f);
    assert_non_null(r);
    const char *v = myr_result_value(r, 0, 0, NULL);
    snprintf(buf, sizeof buf, "%s", v ? v : "NULL");
    myr_result_free(r);
    return buf;
}

static myr_future *q(myr_conn *c, const char *sql)
{
    myr_future *f = myr_query(c, sql, strlen(sql));
    assert_non_null(f);
    return f;
}

/* The connection still works: a ping and a query on it succeed. */
static void assert_usable(myr_conn *c)
{
    myr_error err;
    assert_int_equal(myr_ping_sync(c, &err), 0);
    assert_int_equal(query_long(c, "SELECT 7"), 7);
    assert_true(myr_conn_alive(c));
}

static void test_running_sleep(void **state)
{
    (void)state;
    myr_conn *c = sandbox_connect(g_loop);
    myr_future *f = q(c, "SELECT SLEEP(20)");
    wait_running("SELECT SLEEP(20)", 1);
    double t0 = now_ms();
    assert_int_equal(myr_cancel(f), 0);
    assert_int_equal(myr_await(f, 15000), MYR_ECANCELED);
    double ms = now_ms() - t0;
    printf("# SELECT SLEEP(20) canceled in %.1f ms\n", ms);
    assert_true(ms < 3000);   /* killed, not waited for */
    const myr_error *e = myr_future_error(f);
    assert_int_equal(e->code, MYR_ECANCELED);
    assert_true(e->message[0] != '\0');
    assert_null(myr_future_take_result(f));
    assert_int_equal(myr_cancel(f), MYR_EINVAL);   /* resolved already */
    myr_future_free(f);
    assert_usable(c);
    myr_close_sync(c, NULL);
}

static void test_unsent(void **state)
{
    (void)state;
    myr_conn *c = sandbox_connect(g_loop);
    myr_result_free(sandbox_query(c, "CREATE TEMPORARY TABLE t_cancel (v INT)"));
    /* Nothing has left yet: the loop has not run since these were queued. */
    myr_future *a = q(c, "SELECT 1");
    myr_future *b = q(c, "INSERT INTO t_cancel VALUES (1)");
    myr_future *d = q(c, "SELECT 3");
    myr_future *e = q(c, "INSERT INTO t_cancel VALUES (2)");
    assert_int_equal(myr_cancel(b), 0);
    assert_int_equal(myr_cancel(a), 0);   /* the head of the queue */
    assert_int_equal(myr_cancel(e), 0);   /* the tail */
    assert_true(myr_future_done(a) && myr_future_done(b) && myr_future_done(e));
    myr_future *all[] = {a, b, d, e};
    assert_int_equal(myr_gather(all, 4, 5000), 0);
    assert_int_equal(myr_future_status(a), MYR_ECANCELED);
    assert_int_equal(myr_future_status(b), MYR_ECANCELED);
    assert_int_equal(myr_future_status(e), MYR_ECANCELED);
    assert_int_equal(myr_future_status(d), 0);
    assert_string_equal(value(d), "3");
    assert_int_equal(query_long(c, "SELECT COUNT(*) FROM t_cancel"), 0);   /* never ran */
    for (int i = 0; i < 4; i++)
        myr_future_free(all[i]);
    assert_usable(c);
    myr_close_sync(c, NULL);
}

static void test_sent_not_running(void **state)
{
    (void)state;
    myr_conn *c = sandbox_connect(g_loop);
    myr_future *a = q(c, "SELECT SLEEP(1)");
    myr_future *b = q(c, "SELECT SLEEP(20)");
    wait_running("SELECT SLEEP(1)", 1);   /* both were sent in one batch */
    double t0 = now_ms();
    assert_int_equal(myr_cancel(b), 0);
    myr_future *d = q(c, "SELECT 3");   /* waits until b is drained */
    myr_future *all[] = {a, b, d};
    assert_int_equal(myr_gather(all, 3, 15000), 0);
    double ms = now_ms() - t0;
    printf("# pipelined SLEEP(20) canceled behind SLEEP(1): all done in %.1f ms\n", ms);
    assert_true(ms < 5000);
    assert_int_equal(myr_future_status(a), 0);
    assert_string_equal(value(a), "0");   /* the kill did not touch it */
    assert_int_equal(myr_future_status(b), MYR_ECANCELED);
    assert_int_equal(myr_future_status(d), 0);
    assert_string_equal(value(d), "3");
    for (int i = 0; i < 3; i++)
        myr_future_free(all[i]);
    assert_usable(c);
    myr_close_sync(c, NULL);
}

/* An uncanceled command was sent after the canceled one: no kill (it could
 * hit that one); the canceled one runs out and is discarded. */
static void test_uncanceled_behind(void **state)
{
    (void)state;
    myr_conn *c = sandbox_connect(g_loop);
    myr_future *a = q(c, "SELECT SLEEP(1)");
    myr_future *b = q(c, "SELECT 2");
    wait_running("SELECT SLEEP(1)", 1);
    assert_int_equal(myr_cancel(a), 0);
    myr_future *all[] = {a, b};
    assert_int_equal(myr_gather(all, 2, 15000), 0);
    assert_int_equal(myr_future_status(a), MYR_ECANCELED);
    assert_int_equal(myr_future_error(a)->mysql_errno, 0);   /* it ended on its own */
    assert_int_equal(myr_future_status(b), 0);
    assert_string_equal(value(b), "2");
    myr_future_free(a);
    myr_future_free(b);
    assert_usable(c);
    myr_close_sync(c, NULL);
}

static void test_after_result(void **state)
{
    (void)state;
    myr_conn *c = sandbox_connect(g_loop);
    myr_future *f = q(c, "SELECT 42");
    assert_int_equal(myr_await(f, 5000), 0);
    assert_int_equal(myr_cancel(f), MYR_EINVAL);
    assert_int_equal(myr_future_status(f), 0);
    assert_string_equal(value(f), "42");
    myr_future_free(f);
    assert_int_equal(myr_cancel(NULL), MYR_EINVAL);
    assert_usable(c);
    myr_close_sync(c, NULL);
}

struct cb_state {
    myr_future *victim;
    int rc, calls;
};

static void cancel_cb(myr_future *f, void *arg)
{
    (void)f;
    struct cb_state *s = arg;
    s->calls++;
    s->rc = myr_cancel(s->victim);
}

static void test_from_callback(void **state)
{
    (void)state;
    myr_conn *c = sandbox_connect(g_loop);
    myr_future *a = q(c, "SELECT 1");
    myr_future *b = q(c, "SELECT SLEEP(20)");
    struct cb_state s = {.victim = b, .rc = 99};
    myr_future_on_done(a, cancel_cb, &s);
    double t0 = now_ms();
    assert_int_equal(myr_await(b, 15000), MYR_ECANCELED);
    double ms = now_ms() - t0;
    printf("# canceled from a callback in %.1f ms\n", ms);
    assert_true(ms < 3000);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.rc, 0);
    assert_string_equal(value(a), "1");
    myr_future_free(a);
    myr_future_free(b);
    assert_usable(c);
    myr_close_sync(c, NULL);
}

#define MANY 40
#define MANY_WAIT "SELECT GET_LOCK(\"myr_cancel_many\", 60)"   /* no ' : wait_running quotes it */

/* Many connections each blocked in a statement, all canceled at once. They
 * wait for a user lock that g_check holds, not in SLEEP(): MariaDB wakes a
 * killed SLEEP() under one mutex shared by every sleeping thread, and a
 * KILL that finds it taken retries every 50 ms for up to 2 s, so 40 killed
 * SLEEP()s measured the server's mutex (30 s on a loaded 2-core machine),
 * not the cancel. A lock wait is woken through its own thread's mutex. */
static void test_many(void **state)
{
    (void)state;
    myr_conn *c[MANY];
    myr_future *f[MANY];
    assert_int_equal(query_long(g_check, "SELECT GET_LOCK('myr_cancel_many', 0)"), 1);
    for (int i = 0; i < MANY; i++) {
        c[i] = sandbox_connect(g_loop);
        f[i] = q(c[i], MANY_WAIT);
    }
    wait_running(MANY_WAIT, MANY);
    double t0 = now_ms();
    for (int i = 0; i < MANY; i++)
        assert_int_equal(myr_cancel(f[i]), 0);
    assert_int_equal(myr_gather(f, MANY, 50000), 0);
    double ms = now_ms() - t0;
    printf("# %d connections canceled in %.1f ms\n", MANY, ms);
    assert_true(ms < 30000);   /* killed, not run out (60 s): a bound for hangs only */
    for (int i = 0; i < MANY; i++) {
        assert_int_equal(myr_future_status(f[i]), MYR_ECANCELED);
        myr_future_free(f[i]);
        f[i] = q(c[i], "SELECT 5");
    }
    assert_int_equal(myr_gather(f, MANY, 15000), 0);
    for (int i = 0; i < MANY; i++) {
        assert_int_equal(myr_future_status(f[i]), 0);
        assert_string_equal(value(f[i]), "5");
        myr_future_free(f[i]);
        myr_close_sync(c[i], NULL);
    }
    /* Nobody waits for the lock any more, and g_check still holds it. */
    assert_int_equal(query_long(g_check, "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                                         "WHERE INFO LIKE 'SELECT GET_LOCK(%'"), 0);
    assert_int_equal(query_long(g_check, "SELECT RELEASE_LOCK('myr_cancel_many')"), 1);
}

static void test_other_kinds(void **state)
{
    (void)state;
    myr_future *s = myr_sleep(g_loop, 60000);
    assert_int_equal(myr_cancel(s), 0);
    assert_int_equal(myr_await(s, 1000), MYR_ECANCELED);
    myr_future_free(s);

    myr_future *p = myr_promise_new(g_loop);
    assert_int_equal(myr_cancel(p), 0);
    assert_int_equal(myr_future_status(p), MYR_ECANCELED);
    assert_int_equal(myr_promise_resolve(p, NULL), MYR_EINVAL);
    myr_future_free(p);

    myr_conn_opts *o = sandbox_opts(0);
    myr_future *cf = myr_connect(g_loop, o);
    myr_conn_opts_free(o);
    assert_int_equal(myr_cancel(cf), 0);
    assert_int_equal(myr_await(cf, 5000), MYR_ECANCELED);
    assert_null(myr_future_take_conn(cf));
    myr_future_free(cf);

    myr_conn *c = sandbox_connect(g_loop);
    myr_future *cl = myr_close(c);
    assert_int_equal(myr_cancel(cl), MYR_ENOTSUP);
    assert_int_equal(myr_await(cl, 5000), 0);
    myr_future_free(cl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_running_sleep),
        cmocka_unit_test(test_unsent),
        cmocka_unit_test(test_sent_not_running),
        cmocka_unit_test(test_uncanceled_behind),
        cmocka_unit_test(test_after_result),
        cmocka_unit_test(test_from_callback),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_other_kinds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
