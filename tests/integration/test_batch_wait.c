/* tests/integration/test_batch_wait.c -- batched waits through the library
 * (myr_loop_opts.batch_wait_us): pipelined queries on several connections
 * resolve with their own rows whether the loop waits for the busy
 * connections' responses together (default), waits for the first only
 * (off), or runs on a kernel without min_wait (forced); a lone connection,
 * at depth 1 or pipelined, never takes the batched wait. */
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
#include "../../uring/ur_internal.h"

enum { NCONN = 8, DEPTH = 8, ROUNDS = 20 };

/* ROUNDS rounds of DEPTH pipelined queries on each of nconn connections,
 * every result checked; returns the loop's batched waits. */
static uint64_t run(int batch_wait_us, int nconn, int depth)
{
    myr_loop_opts lo = {.batch_wait_us = batch_wait_us};
    myr_loop *loop = myr_loop_new(&lo, NULL);
    assert_non_null(loop);
    myr_conn *cs[NCONN];
    for (int i = 0; i < nconn; i++)
        cs[i] = sandbox_connect(loop);
    myr_future *fs[NCONN * DEPTH];
    for (int round = 0; round < ROUNDS; round++) {
        int n = 0;
        for (int d = 0; d < depth; d++)
            for (int i = 0; i < nconn; i++) {
                char sql[64];
                int len = snprintf(sql, sizeof sql, "SELECT %d", (round * 1000 + i) * 100 + d);
                fs[n++] = myr_query(cs[i], sql, (size_t)len);
            }
        assert_int_equal(myr_gather(fs, (size_t)n, 30000), 0);
        n = 0;
        for (int d = 0; d < depth; d++)
            for (int i = 0; i < nconn; i++) {
                myr_future *f = fs[n++];
                assert_int_equal(myr_future_status(f), 0);
                myr_result *r = myr_future_take_result(f);
                char want[32];
                snprintf(want, sizeof want, "%d", (round * 1000 + i) * 100 + d);
                assert_string_equal(myr_result_value(r, 0, 0, NULL), want);
                myr_result_free(r);
                myr_future_free(f);
            }
    }
    uint64_t batched = ur_loop_batched_waits(loop->ur);
    for (int i = 0; i < nconn; i++)
        myr_conn_free(cs[i]);
    myr_loop_free(loop);
    return batched;
}

static void test_many_connections_batched(void **state)
{
    (void)state;
    myr_loop *probe = myr_loop_new(NULL, NULL);
    assert_non_null(probe);
    /* The target kernel (6.18) has IORING_FEAT_MIN_TIMEOUT. */
    assert_int_equal(ur_loop_min_wait_us(probe->ur), MYR_BATCH_WAIT_DEFAULT_US);
    myr_loop_free(probe);
    assert_true(run(0, NCONN, DEPTH) > 0);     /* default: the busy connections' answers together */
    assert_true(run(2000, NCONN, 1) > 0);      /* depth 1, a long bound */
}

static void test_off_and_fallback(void **state)
{
    (void)state;
    assert_int_equal(run(-1, NCONN, DEPTH), 0);   /* off */
    ur__feature_mask = ~(unsigned)IORING_FEAT_MIN_TIMEOUT;   /* an older kernel */
    myr_loop *probe = myr_loop_new(NULL, NULL);
    assert_int_equal(ur_loop_min_wait_us(probe->ur), 0);
    myr_loop_free(probe);
    assert_int_equal(run(0, NCONN, DEPTH), 0);
    ur__feature_mask = ~0u;
}

/* One connection with commands in flight: nothing to batch with, so its
 * round trip is one plain wait (no added latency), pipelined or not. */
static void test_lone_connection_plain(void **state)
{
    (void)state;
    assert_int_equal(run(0, 1, 1), 0);
    assert_int_equal(run(0, 1, DEPTH), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_connections_batched),
        cmocka_unit_test(test_off_and_fallback),
        cmocka_unit_test(test_lone_connection_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
