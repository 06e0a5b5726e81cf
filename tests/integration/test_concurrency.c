/* tests/integration/test_concurrency.c -- many connections on one loop,
 * long pipelines on one connection, as_completed over connections, the loop
 * driven from an external epoll, and batching (submits per query). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox_env.h"

#define NCONN 1000

static void test_thousand_connections(void **state)
{
    (void)state;
    sandbox_raise_fd_limit();
    myr_loop *loop = myr_loop_new(NULL, NULL);
    assert_non_null(loop);
    myr_conn_opts *o = sandbox_opts(0);
    myr_future **fs = calloc(NCONN, sizeof *fs);
    myr_conn **cs = calloc(NCONN, sizeof *cs);
    for (int i = 0; i < NCONN; i++)
        fs[i] = myr_connect(loop, o);
    myr_conn_opts_free(o);
    assert_int_equal(myr_gather(fs, NCONN, 120000), 0);
    for (int i = 0; i < NCONN; i++) {
        if (myr_future_status(fs[i]) != 0)
            fail_msg("connection %d: %s", i, myr_future_error(fs[i])->message);
        cs[i] = myr_future_take_conn(fs[i]);
        myr_future_free(fs[i]);
    }
    /* Every connection runs a query at once; each sees its own session. */
    for (int i = 0; i < NCONN; i++)
        fs[i] = myr_query(cs[i], "SELECT CONNECTION_ID()", 22);
    assert_int_equal(myr_gather(fs, NCONN, 120000), 0);
    for (int i = 0; i < NCONN; i++) {
        assert_int_equal(myr_future_status(fs[i]), 0);
        myr_result *r = myr_future_take_result(fs[i]);
        char want[16];
        snprintf(want, sizeof want, "%u", myr_conn_thread_id(cs[i]));
        assert_string_equal(myr_result_value(r, 0, 0, NULL), want);
        myr_result_free(r);
        myr_future_free(fs[i]);
    }
    /* Close them all concurrently. */
    for (int i = 0; i < NCONN; i++)
        fs[i] = myr_close(cs[i]);
    assert_int_equal(myr_gather(fs, NCONN, 60000), 0);
    for (int i = 0; i < NCONN; i++) {
        assert_int_equal(myr_future_status(fs[i]), 0);
        myr_future_free(fs[i]);
    }
    free(fs);
    free(cs);
    myr_loop_free(loop);
}

static void test_pipeline_thousand(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    myr_conn *c = sandbox_connect(loop);
    enum { N = 1000 };
    myr_future *fs[N];
    for (int i = 0; i < N; i++) {
        char sql[64];
        int n = snprintf(sql, sizeof sql, "SELECT %d", i);
        fs[i] = myr_query(c, sql, (size_t)n);
    }
    assert_int_equal(myr_gather(fs, N, 60000), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(myr_future_status(fs[i]), 0);
        myr_result *r = myr_future_take_result(fs[i]);
        char want[16];
        snprintf(want, sizeof want, "%d", i);
        assert_string_equal(myr_result_value(r, 0, 0, NULL), want);   /* in order */
        myr_result_free(r);
        myr_future_free(fs[i]);
    }
    myr_close_sync(c, NULL);
    myr_loop_free(loop);
}

static void test_as_completed_order(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    myr_conn *c1 = sandbox_connect(loop), *c2 = sandbox_connect(loop);
    myr_as_completed *it = myr_as_completed_new(loop);
    myr_future *slow = myr_query(c1, "SELECT SLEEP(0.3), 'slow'", 25);
    myr_future *fast = myr_query(c2, "SELECT 'fast'", 13);
    assert_int_equal(myr_as_completed_add(it, slow), 0);
    assert_int_equal(myr_as_completed_add(it, fast), 0);
    assert_int_equal(myr_as_completed_pending(it), 2);
    int st;
    assert_ptr_equal(myr_as_completed_next(it, 10000, &st), fast);
    assert_ptr_equal(myr_as_completed_next(it, 10000, &st), slow);
    assert_null(myr_as_completed_next(it, 10000, &st));
    assert_int_equal(st, 0);
    myr_as_completed_free(it);
    myr_future_free(slow);
    myr_future_free(fast);
    myr_close_sync(c1, NULL);
    myr_close_sync(c2, NULL);
    myr_loop_free(loop);
}

static void test_external_epoll(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    myr_conn *c = sandbox_connect(loop);
    int lfd = myr_loop_fd(loop);
    assert_true(lfd >= 0);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev), 0);

    myr_future *f = myr_query(c, "SELECT SLEEP(0.05), 'via epoll'", 31);
    myr_loop_run_once(loop, 0);   /* hand the query to the kernel */
    int rounds = 0;
    while (!myr_future_done(f) && rounds < 1000) {
        struct epoll_event out;
        int n = epoll_wait(ep, &out, 1, 10000);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail_msg("epoll_wait: %s", strerror(errno));
        if (n == 0)
            fail_msg("the loop fd never became readable");
        myr_loop_run_once(loop, 0);
        rounds++;
    }
    assert_true(myr_future_done(f));
    assert_int_equal(myr_future_status(f), 0);
    myr_result *r = myr_future_take_result(f);
    assert_string_equal(myr_result_value(r, 0, 1, NULL), "via epoll");
    myr_result_free(r);
    myr_future_free(f);
    close(ep);
    myr_close_sync(c, NULL);
    myr_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thousand_connections),
        cmocka_unit_test(test_pipeline_thousand),
        cmocka_unit_test(test_as_completed_order),
        cmocka_unit_test(test_external_epoll),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
