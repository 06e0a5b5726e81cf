/* tests/conn/test_future.c -- futures without a server: sleep, to_thread,
 * promises, callbacks, gather (order, timeout), as_completed (order,
 * sliding additions, freeing), freeing pending futures. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <myring.h>

#include "no_uring.h"

static void count_cb(myr_future *f, void *arg)
{
    (void)f;
    (*(int *)arg)++;
}

static void test_sleep_order(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    assert_non_null(loop);
    myr_as_completed *it = myr_as_completed_new(loop);
    myr_future *a = myr_sleep(loop, 60), *b = myr_sleep(loop, 20), *c = myr_sleep(loop, 40);
    myr_as_completed_add(it, a);
    myr_as_completed_add(it, b);
    myr_as_completed_add(it, c);
    int st;
    assert_ptr_equal(myr_as_completed_next(it, 5000, &st), b);
    assert_ptr_equal(myr_as_completed_next(it, 5000, &st), c);
    assert_ptr_equal(myr_as_completed_next(it, 5000, &st), a);
    assert_null(myr_as_completed_next(it, 5000, &st));
    assert_int_equal(st, 0);
    myr_as_completed_free(it);
    myr_future_free(a);
    myr_future_free(b);
    myr_future_free(c);
    myr_loop_free(loop);
}

static void test_gather_timeout_then_complete(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    myr_future *fs[2] = {myr_sleep(loop, 5), myr_sleep(loop, 300)};
    assert_int_equal(myr_gather(fs, 2, 20), MYR_ETIMEDOUT);
    assert_true(myr_future_done(fs[0]));
    assert_false(myr_future_done(fs[1]));
    assert_int_equal(myr_future_status(fs[1]), MYR_EPENDING);
    assert_int_equal(myr_gather(fs, 2, -1), 0);
    assert_int_equal(myr_future_status(fs[1]), 0);
    myr_future_free(fs[0]);
    myr_future_free(fs[1]);
    myr_loop_free(loop);
}

static void *add_one(void *arg)
{
    int *v = arg;
    usleep(1000);
    (*v)++;
    return v;
}

static void test_to_thread(void **state)
{
    (void)state;
    myr_loop_opts lo = {.threads = 2};
    myr_loop *loop = myr_loop_new(&lo, NULL);
    enum { N = 50 };
    int vals[N];
    myr_future *fs[N];
    int calls = 0;
    for (int i = 0; i < N; i++) {
        vals[i] = i;
        fs[i] = myr_to_thread(loop, add_one, &vals[i]);
        myr_future_on_done(fs[i], count_cb, &calls);
    }
    assert_int_equal(myr_gather(fs, N, 10000), 0);
    assert_int_equal(calls, N);   /* each callback exactly once */
    for (int i = 0; i < N; i++) {
        assert_int_equal(myr_future_status(fs[i]), 0);
        assert_ptr_equal(myr_future_ptr(fs[i]), &vals[i]);
        assert_int_equal(vals[i], i + 1);
        myr_future_free(fs[i]);
    }
    myr_loop_free(loop);
}

static void test_callback_when_already_done(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    myr_future *p = myr_promise_new(loop);
    int calls = 0;
    assert_int_equal(myr_promise_resolve(p, "x"), 0);
    assert_int_equal(myr_promise_resolve(p, "y"), MYR_EINVAL);   /* exactly once */
    myr_future_on_done(p, count_cb, &calls);
    assert_int_equal(calls, 1);
    assert_string_equal(myr_future_ptr(p), "x");
    myr_future_free(p);

    p = myr_promise_new(loop);
    myr_future_on_done(p, count_cb, &calls);
    assert_int_equal(myr_promise_fail(p, MYR_ECANCELED, "given up"), 0);
    /* Done at once; the callback runs from the loop, not from inside the
     * call that resolved it. await returns after it ran. */
    assert_true(myr_future_done(p));
    assert_int_equal(calls, 1);
    assert_int_equal(myr_await(p, 0), MYR_ECANCELED);
    assert_int_equal(calls, 2);
    assert_int_equal(myr_future_status(p), MYR_ECANCELED);
    assert_string_equal(myr_future_error(p)->message, "given up");
    myr_future_free(p);
    myr_loop_free(loop);
}

static void free_in_cb(myr_future *f, void *arg)
{
    (*(int *)arg)++;
    myr_future_free(f);
}

static void test_free_in_callback_and_pending(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    int calls = 0;
    myr_future *f = myr_sleep(loop, 1);
    myr_future_on_done(f, free_in_cb, &calls);
    myr_future *g = myr_sleep(loop, 5);
    assert_int_equal(myr_await(g, 5000), 0);
    assert_int_equal(calls, 1);
    myr_future_free(g);

    /* Freed while pending: no callback, nothing leaks (ASan checks). */
    int x = 0;
    myr_future *t = myr_to_thread(loop, add_one, &x);
    myr_future_on_done(t, count_cb, &calls);
    myr_future_free(t);
    myr_future *s = myr_sleep(loop, 1000);
    myr_future_free(s);
    myr_future *w = myr_sleep(loop, 20);
    assert_int_equal(myr_await(w, 5000), 0);
    myr_future_free(w);
    myr_loop_free(loop);   /* waits for the worker job to come back */
    assert_int_equal(calls, 1);
    assert_int_equal(x, 1);
}

static void test_as_completed_free_with_pending(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    myr_as_completed *it = myr_as_completed_new(loop);
    myr_future *a = myr_sleep(loop, 10), *b = myr_sleep(loop, 30);
    myr_as_completed_add(it, a);
    myr_as_completed_add(it, b);
    assert_int_equal(myr_as_completed_add(it, a), MYR_EINVAL);   /* already watched */
    myr_as_completed_free(it);   /* futures stay the caller's */
    myr_future *fs[2] = {a, b};
    assert_int_equal(myr_gather(fs, 2, 5000), 0);
    myr_future_free(a);
    myr_future_free(b);

    /* Timeout of next: status says so, the future stays watched. */
    it = myr_as_completed_new(loop);
    myr_future *c = myr_sleep(loop, 200);
    myr_as_completed_add(it, c);
    int st = 0;
    assert_null(myr_as_completed_next(it, 5, &st));
    assert_int_equal(st, MYR_ETIMEDOUT);
    assert_int_equal(myr_as_completed_pending(it), 1);
    assert_ptr_equal(myr_as_completed_next(it, 5000, &st), c);
    myr_future_free(c);
    myr_as_completed_free(it);
    myr_loop_free(loop);
}

/* In a child where io_uring_setup is refused: the loop and a blocking
 * connect fail with MYR_EURING and a sentence that says so. */
static int no_uring_child(int err)
{
    (void)err;
    myr_error e;
    if (myr_loop_new(NULL, &e) != NULL || e.code != MYR_EURING || strstr(e.message, "io_uring") == NULL)
        return 1;
    myr_conn_opts *o = myr_conn_opts_new();
    memset(&e, 0, sizeof e);
    if (myr_connect_sync(NULL, o, &e) != NULL || e.code != MYR_EURING || e.message[0] == '\0')
        return 1;
    myr_conn_opts_free(o);
    return 0;
}

static void test_io_uring_unavailable(void **state)
{
    (void)state;
    const int errs[] = {EPERM, ENOSYS};
    for (int i = 0; i < 2; i++) {
        int rc = in_child_without_io_uring(errs[i], no_uring_child);
        if (rc == NO_URING_UNSUPPORTED)
            skip();   /* seccomp filters cannot be installed here */
        assert_int_equal(rc, 0);
    }
}

static void test_errors_table(void **state)
{
    (void)state;
    assert_string_equal(myr_strerror(MYR_ETIMEDOUT), "operation timed out");
    assert_string_equal(myr_strerror(0), "success");
    assert_non_null(strstr(myr_strerror(-111), "refused"));
    assert_string_equal(myr_version(), MYR_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sleep_order),
        cmocka_unit_test(test_gather_timeout_then_complete),
        cmocka_unit_test(test_to_thread),
        cmocka_unit_test(test_callback_when_already_done),
        cmocka_unit_test(test_free_in_callback_and_pending),
        cmocka_unit_test(test_as_completed_free_with_pending),
        cmocka_unit_test(test_io_uring_unavailable),
        cmocka_unit_test(test_errors_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
