/* tests/integration/test_callbacks.c -- callbacks on connections with a
 * private loop (myr_connect_sync(NULL, ...)), against the sandbox: a
 * callback frees or closes its own connection (and so the loop running it),
 * a blocking call in a callback is refused with MYR_EBUSY, and a callback
 * opens a connection of its own with a private loop and uses it blocking.
 * ASan watches the memory; every future resolves exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sandbox_env.h"

#define WAIT_MS 10000

typedef struct ctx {
    myr_conn *conn;
    int use_close;             /* myr_close instead of myr_conn_free */
    int calls, later_calls;
    int close_status;
    myr_result *busy_result;
    myr_error busy_err;
} ctx;

static void count_cb(myr_future *f, void *arg)
{
    (void)f;
    (*(int *)arg)++;
}

static void end_conn_cb(myr_future *f, void *arg)
{
    ctx *x = arg;
    x->calls++;
    assert_int_equal(myr_future_status(f), 0);
    /* A blocking call on this very loop is refused, and sends nothing. */
    memset(&x->busy_err, 0, sizeof x->busy_err);
    x->busy_result = myr_query_sync(x->conn, "SELECT 'no'", 11, &x->busy_err);
    if (x->use_close) {
        myr_future *cf = myr_close(x->conn);   /* closes at once from here */
        x->close_status = cf ? myr_future_status(cf) : -1;
        myr_future_free(cf);
    } else {
        myr_conn_free(x->conn);   /* frees the loop once this run_once returns */
    }
    x->conn = NULL;
}

static void end_private_conn_in_callback(int use_close)
{
    myr_error err;
    myr_conn_opts *o = sandbox_opts(0);
    ctx x = {.use_close = use_close, .close_status = 1};
    x.conn = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    if (x.conn == NULL)
        fail_msg("connect: %s", err.message);
    myr_loop *loop = myr_conn_loop(x.conn);
    assert_non_null(loop);
    myr_future *f = myr_query(x.conn, "SELECT 1", 8);
    myr_future *later = myr_query(x.conn, "SELECT SLEEP(5)", 15);
    myr_future *nap = myr_sleep(loop, 60000);
    myr_future_on_done(f, end_conn_cb, &x);
    myr_future_on_done(later, count_cb, &x.later_calls);
    myr_future_on_done(nap, count_cb, &x.later_calls);
    /* Runs the private loop; the callback frees connection and loop. */
    assert_int_equal(myr_await(f, WAIT_MS), 0);
    assert_int_equal(x.calls, 1);
    assert_null(x.busy_result);
    assert_int_equal(x.busy_err.code, MYR_EBUSY);
    assert_true(x.busy_err.message[0] != '\0');
    if (use_close)
        assert_int_equal(x.close_status, 0);
    /* Everything of that loop resolved, each callback once, before await
     * came back (the loop is gone: its futures have no loop now). */
    assert_int_equal(x.later_calls, 2);
    assert_int_equal(myr_future_status(later), MYR_ECLOSED);
    assert_int_equal(myr_future_status(nap), MYR_ECANCELED);
    assert_null(myr_future_loop(f));
    assert_null(myr_future_loop(later));
    myr_result *r = myr_future_take_result(f);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "1");
    myr_result_free(r);
    myr_future_free(f);
    myr_future_free(later);
    myr_future_free(nap);
}

static void test_conn_free_private_loop_from_callback(void **state)
{
    (void)state;
    end_private_conn_in_callback(0);
}

static void test_close_private_loop_from_callback(void **state)
{
    (void)state;
    end_private_conn_in_callback(1);
}

/* A callback connects with a private loop of its own (another loop may run
 * inside a callback), queries and closes it, blocking. */
typedef struct inner {
    int ok;
    char value[32];
    char error[600];
} inner;

static void nested_conn_cb(myr_future *f, void *arg)
{
    (void)f;
    inner *in = arg;
    myr_error err;
    myr_conn_opts *o = sandbox_opts(0);
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    if (c == NULL) {
        snprintf(in->error, sizeof in->error, "connect: %s", err.message);
        return;
    }
    myr_result *r = myr_query_sync(c, "SELECT 'inner'", 14, &err);
    if (r != NULL) {
        snprintf(in->value, sizeof in->value, "%s", myr_result_value(r, 0, 0, NULL));
        myr_result_free(r);
    }
    in->ok = myr_close_sync(c, &err) == 0;
}

static void test_private_connection_inside_callback(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    myr_conn *outer = sandbox_connect(loop);
    inner in = {0};
    myr_future *f = myr_query(outer, "SELECT 'outer'", 14);
    myr_future_on_done(f, nested_conn_cb, &in);
    assert_int_equal(myr_await(f, WAIT_MS), 0);
    if (in.error[0])
        fail_msg("%s", in.error);
    assert_true(in.ok);
    assert_string_equal(in.value, "inner");
    myr_result *r = myr_future_take_result(f);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "outer");
    myr_result_free(r);
    myr_future_free(f);
    assert_int_equal(myr_close_sync(outer, NULL), 0);
    myr_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conn_free_private_loop_from_callback),
        cmocka_unit_test(test_close_private_loop_from_callback),
        cmocka_unit_test(test_private_connection_inside_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
