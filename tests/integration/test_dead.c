/* tests/integration/test_dead.c -- dead connections: a connection keeps a
 * receive armed while idle, so a server that closes it (KILL from another
 * connection, wait_timeout) is noticed while the loop runs: myr_conn_alive()
 * turns 0, and the next command fails at once (no I/O, no wait) with 2006
 * and a message that says the server closed the connection while it was
 * idle. Commands queued on a connection the server kills mid-command fail
 * with the error of that moment. Over plain TCP, TLS and the Unix socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sandbox_env.h"

enum { PLAIN, TLS, UNIX_SOCKET };

static myr_conn *connect_on(myr_loop *loop, int how)
{
    myr_conn_opts *o = sandbox_opts(how == UNIX_SOCKET);
    if (how == PLAIN)
        myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_DISABLED);
    if (how == TLS)
        myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_REQUIRED);
    myr_future *f = myr_connect(loop, o);
    myr_conn_opts_free(o);
    assert_int_equal(myr_await(f, 10000), 0);
    myr_conn *c = myr_future_take_conn(f);
    myr_future_free(f);
    assert_non_null(c);
    return c;
}

static void query_ok(myr_conn *c, const char *sql)
{
    myr_future *f = myr_query(c, sql, strlen(sql));
    assert_int_equal(myr_await(f, 10000), 0);
    myr_future_free(f);
}

/* Run the loop until c is no longer alive: bounded (it must happen while
 * the loop waits for nothing else), no sleeps. */
static void run_until_dead(myr_loop *loop, myr_conn *c, int max_ms)
{
    for (int waited = 0; myr_conn_alive(c) && waited < max_ms; waited += 100)
        assert_true(myr_loop_run_once(loop, 100) >= 0);
    assert_int_equal(myr_conn_alive(c), 0);
}

/* The next command on the dead connection fails before any I/O. */
static void next_command_fails(myr_conn *c)
{
    myr_future *f = myr_query(c, "SELECT 1", 8);
    assert_non_null(f);
    assert_true(myr_future_done(f));   /* at once: the loop did not run */
    assert_int_equal(myr_future_status(f), MYR_EGONE);
    const myr_error *e = myr_future_error(f);
    assert_int_equal(e->mysql_errno, 2006);
    printf("# %s\n", e->message);
    assert_non_null(strstr(e->message, "closed the connection while it was idle"));
    myr_future_free(f);
}

static void killed_while_idle(int how)
{
    myr_loop *loop = myr_loop_new(NULL, NULL);
    assert_non_null(loop);
    myr_conn *victim = connect_on(loop, how), *killer = connect_on(loop, PLAIN);
    query_ok(victim, "SELECT 1");   /* idle after a query */
    assert_int_equal(myr_conn_alive(victim), 1);
    char sql[64];
    snprintf(sql, sizeof sql, "KILL CONNECTION %u", (unsigned)myr_conn_thread_id(victim));
    query_ok(killer, sql);
    run_until_dead(loop, victim, 10000);
    next_command_fails(victim);
    assert_int_equal(myr_conn_alive(killer), 1);   /* the other one goes on */
    query_ok(killer, "SELECT 1");
    myr_conn_free(victim);
    myr_conn_free(killer);
    myr_loop_free(loop);
}

static void test_kill_plain(void **state)
{
    (void)state;
    killed_while_idle(PLAIN);
}

static void test_kill_tls(void **state)
{
    (void)state;
    killed_while_idle(TLS);
}

static void test_kill_unix(void **state)
{
    (void)state;
    killed_while_idle(UNIX_SOCKET);
}

/* The server's wait_timeout closes it: noticed within about a second. */
static void test_wait_timeout(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    assert_non_null(loop);
    myr_conn *c = connect_on(loop, PLAIN);
    query_ok(c, "SET SESSION wait_timeout = 1");
    run_until_dead(loop, c, 15000);
    next_command_fails(c);
    myr_conn_free(c);
    myr_loop_free(loop);
}

/* Killed mid-command: the running command and those queued behind it fail
 * (the connection is gone, each says so), never hang. */
static void test_kill_mid_command(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    assert_non_null(loop);
    myr_conn *victim = connect_on(loop, PLAIN), *killer = connect_on(loop, PLAIN);
    myr_future *fs[3] = {myr_query(victim, "SELECT SLEEP(20)", 16), myr_query(victim, "SELECT 2", 8),
                         myr_query(victim, "SELECT 3", 8)};
    /* Let the sleep reach the server, then kill it. */
    for (int i = 0; i < 20 && !myr_future_done(fs[0]); i++)
        assert_true(myr_loop_run_once(loop, 10) >= 0);
    char sql[64];
    snprintf(sql, sizeof sql, "KILL CONNECTION %u", (unsigned)myr_conn_thread_id(victim));
    query_ok(killer, sql);
    assert_int_equal(myr_gather(fs, 3, 10000), 0);
    for (int i = 0; i < 3; i++) {
        const myr_error *e = myr_future_error(fs[i]);
        printf("# %d: %d %u %s\n", i, myr_future_status(fs[i]), e->mysql_errno, e->message);
        assert_true(myr_future_status(fs[i]) != 0);
        /* The server's own 1927 (connection killed) or 2013 (lost during
         * the query): never 2006, the command was in flight. */
        assert_true(e->mysql_errno == 1927 || e->mysql_errno == 2013);
        myr_future_free(fs[i]);
    }
    assert_int_equal(myr_conn_alive(victim), 0);
    myr_future *f = myr_query(victim, "SELECT 1", 8);
    assert_true(myr_future_done(f));
    assert_int_equal(myr_future_error(f)->mysql_errno, 2006);
    myr_future_free(f);
    myr_conn_free(victim);
    myr_conn_free(killer);
    myr_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_plain),
        cmocka_unit_test(test_kill_tls),
        cmocka_unit_test(test_kill_unix),
        cmocka_unit_test(test_wait_timeout),
        cmocka_unit_test(test_kill_mid_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
