/* tests/integration/test_alloc_cancel.c -- the allocation-failure sweep over
 * connect + query + result + cancel + close against the sandbox (cancel
 * needs a real server: KILL QUERY over the loop's side connection). The
 * sequence: a loop, a connection, SELECT SLEEP(), myr_cancel of it once it
 * has left (KILL QUERY on a side connection, the response drained), a
 * query queued behind it and one more after it on the same connection,
 * then myr_close. It runs again and again with
 * allocation N failing (N = 1, 2, ... until a run gets through without
 * reaching N), once failing only that one and once it and every later one.
 * Every run must end with every future resolved exactly once (callbacks
 * counted), promptly, with an error that an allocation failure explains
 * (or the cancel's own MYR_ECANCELED), nothing left allocated (the hooks
 * count live blocks) and no crash (ASan); the run without failure must see
 * the whole sequence succeed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "failalloc.h"
#include "sandbox_env.h"

#define WAIT_MS 10000
/* Long enough to be running when the kill comes, short enough that a run
 * whose kill could not be sent (its side connection failed) stays cheap:
 * the sleep then runs out and is discarded. */
#define SLEEP_SQL "SELECT SLEEP(0.3), 'slept'"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void count_cb(myr_future *f, void *arg)
{
    (void)f;
    ++*(int *)arg;
}

/* f failed with MYR_ENOMEM or one of also[0..n) (0-terminated). */
static void check_failure(long n, const char *what, myr_future *f, const int *also)
{
    const myr_error *e = myr_future_error(f);
    assert_int_equal(e->code, myr_future_status(f));
    assert_true(e->message[0] != '\0');
    if (e->code == MYR_ENOMEM)
        return;
    for (; also && *also; also++)
        if (e->code == *also)
            return;
    fail_msg("N=%ld: %s failed with %d (%u) '%s', not as an allocation failure explains", n, what, e->code,
             e->mysql_errno, e->message);
}

/* A value of a one-row result: the text in column col, or the test fails. */
static void check_value(long n, myr_future *f, size_t col, const char *want)
{
    myr_result *r = myr_future_take_result(f);
    assert_non_null(r);
    const char *v = myr_result_value(r, 0, col, NULL);
    if (v == NULL || strcmp(v, want) != 0)
        fail_msg("N=%ld: got '%s', want '%s'", n, v ? v : "(null)", want);
    myr_result_free(r);
}

typedef struct run_out {
    int completed;   /* every step succeeded as it would without failures */
    long failed;     /* failures injected */
} run_out;

static run_out run(long n, int sticky, const myr_conn_opts *o)
{
    run_out out = {0, 0};
    myr_set_allocator(&failalloc_hooks);
    failalloc_arm(n, sticky);
    uint64_t t0 = now_ms();

    myr_error err;
    myr_loop *loop = myr_loop_new(NULL, &err);
    myr_future *cf = NULL, *q1 = NULL, *q2 = NULL, *q3 = NULL, *cl = NULL;
    int ncf = 0, n1 = 0, n2 = 0, n3 = 0, ncl = 0;
    int ok1 = 0, ok2 = 0, ok3 = 0, okcl = 0, cancel_rc = MYR_EINVAL;
    if (loop == NULL) {
        assert_int_equal(err.code, MYR_ENOMEM);
        goto done;
    }
    if ((cf = myr_connect(loop, o)) == NULL)
        goto done;
    myr_future_on_done(cf, count_cb, &ncf);
    if (myr_await(cf, WAIT_MS) != 0 && !myr_future_done(cf))
        fail_msg("N=%ld: the connect never resolved", n);
    assert_int_equal(ncf, 1);
    if (myr_future_status(cf) != 0) {
        check_failure(n, "connect", cf, NULL);
        goto done;
    }
    myr_conn *c = myr_future_take_conn(cf);
    assert_non_null(c);

    /* The sleep leaves; it is canceled (KILL QUERY on the side connection)
     * and a query queued behind it waits until its response is drained. */
    q1 = myr_query(c, SLEEP_SQL, strlen(SLEEP_SQL));
    if (q1)
        myr_future_on_done(q1, count_cb, &n1);
    assert_true(myr_loop_run_once(loop, 0) >= 0);
    if (q1)
        cancel_rc = myr_cancel(q1);
    q2 = myr_query(c, "SELECT 'behind'", 15);
    if (q2)
        myr_future_on_done(q2, count_cb, &n2);
    if (q1 && cancel_rc != 0)
        assert_true(myr_future_done(q1));   /* only a resolved future refuses */
    myr_future *both[2];
    size_t k = 0;
    if (q1)
        both[k++] = q1;
    if (q2)
        both[k++] = q2;
    if (k > 0 && myr_gather(both, k, WAIT_MS) != 0)
        fail_msg("N=%ld: the canceled query or the one behind it never resolved", n);
    if (q1) {
        assert_int_equal(n1, 1);
        static const int also[] = {MYR_ECANCELED, 0};
        check_failure(n, "the canceled sleep", q1, also);
        ok1 = myr_future_status(q1) == MYR_ECANCELED && cancel_rc == 0;
    }
    if (q2) {
        assert_int_equal(n2, 1);
        if (myr_future_status(q2) == 0) {
            check_value(n, q2, 0, "behind");
            ok2 = 1;
        } else {
            check_failure(n, "the query behind", q2, NULL);
        }
    }
    /* The connection stays usable after the cancel. */
    q3 = myr_query(c, "SELECT 'after'", 14);
    if (q3) {
        myr_future_on_done(q3, count_cb, &n3);
        int arc = myr_await(q3, WAIT_MS);
        if (arc != 0 && !myr_future_done(q3))
            fail_msg("N=%ld: the query after the cancel never resolved (await %d, status %d, alive %d)", n, arc,
                     myr_future_status(q3), myr_conn_alive(c));
        assert_int_equal(n3, 1);
        if (myr_future_status(q3) == 0) {
            check_value(n, q3, 0, "after");
            ok3 = 1;
        } else {
            static const int also[] = {MYR_EGONE, 0};   /* the connection died of an earlier failure */
            check_failure(n, "the query after", q3, also);
        }
    }
    cl = myr_close(c);   /* the handle is gone from here on, NULL or not */
    if (cl) {
        myr_future_on_done(cl, count_cb, &ncl);
        if (myr_await(cl, WAIT_MS) != 0 && !myr_future_done(cl))
            fail_msg("N=%ld: the close never resolved", n);
        assert_int_equal(ncl, 1);
        okcl = myr_future_status(cl) == 0;
        if (!okcl)
            check_failure(n, "close", cl, NULL);
    }
done:
    out.completed = ok1 && ok2 && ok3 && okcl;
    myr_future_free(cf);
    myr_future_free(q1);
    myr_future_free(q2);
    myr_future_free(q3);
    myr_future_free(cl);
    myr_loop_free(loop);
    failalloc_disarm();
    out.failed = failalloc_failed();
    if (failalloc_live() != 0)
        fail_msg("N=%ld%s: %ld block(s) still allocated after the run", n, sticky ? " (sticky)" : "",
                 failalloc_live());
    myr_set_allocator(NULL);
    /* Every callback ran at most once above; a run is bounded (a sleep
     * that could not be killed runs out in 0.3 s). */
    uint64_t dt = now_ms() - t0;
    if (dt > 5000)
        fail_msg("N=%ld: the run took %llu ms", n, (unsigned long long)dt);
    if (getenv("ALLOC_TRACE"))
        fprintf(stderr, "N=%ld%s: %llu ms, injected %ld, cancel %d: q1 %d q2 %d q3 %d close %d\n", n,
                sticky ? " sticky" : "", (unsigned long long)dt, out.failed, cancel_rc,
                q1 ? myr_future_status(q1) : 99, q2 ? myr_future_status(q2) : 99,
                q3 ? myr_future_status(q3) : 99, cl ? myr_future_status(cl) : 99);
    return out;
}

static void sweep(int sticky)
{
    myr_conn_opts *o = sandbox_opts(1);   /* the Unix socket: plain, and the side connection's too */
    long n, first = 1;
    if (getenv("ALLOC_N"))   /* to look at one run: ALLOC_N=<n> ALLOC_TRACE=1 */
        first = atol(getenv("ALLOC_N"));
    for (n = first; n < 100000; n++) {
        run_out r = run(n, sticky, o);
        if (r.failed == 0) {   /* N was never reached: every allocation of the sequence was covered */
            assert_true(r.completed);
            break;
        }
    }
    print_message("connect+query+cancel+result+close, %s: %ld allocation points\n",
                  sticky ? "failing from the Nth on" : "each failing once", n - 1);
    assert_true(n > 20);
    myr_conn_opts_free(o);
}

static void test_each_allocation_fails_once(void **state)
{
    (void)state;
    sweep(0);
}

static void test_failing_from_nth_on(void **state)
{
    (void)state;
    sweep(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_allocation_fails_once),
        cmocka_unit_test(test_failing_from_nth_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
