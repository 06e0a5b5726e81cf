/*
 * tests/uring/test_wait.c -- batched waits (uring/enter.c): a tick told to
 * expect several completions waits for them in one io_uring_enter bounded
 * by min_wait_us; one that expects a single completion, polls, or a loop on
 * a kernel without IORING_FEAT_MIN_TIMEOUT (forced with ur__feature_mask)
 * waits for the first completion as before. No timing is asserted: only
 * which path ran, that every completion is delivered, and that a wait for
 * completions that never come ends (at min_wait or at the tick's timeout).
 */
#include "ur_test.h"
#include "../../uring/ur_internal.h"

#include <pthread.h>

/* The setup configurations the wait must work under (as test_loop.c). */
static unsigned mask_full = ~0u;
static unsigned mask_no_defer = ~(unsigned)IORING_SETUP_DEFER_TASKRUN;
static unsigned mask_plain = ~(unsigned)(IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER |
                                         IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
                                         IORING_SETUP_SUBMIT_ALL);

static int mask_setup(void **state)
{
    ur__setup_mask = *(unsigned *)*state;
    return 0;
}

static int mask_teardown(void **state)
{
    (void)state;
    ur__setup_mask = ~0u;
    ur__feature_mask = ~0u;
    return 0;
}

static ur_loop *loop_wait(unsigned min_wait_us)
{
    ur_loop_opts o = {.sq_entries = 64, .min_wait_us = min_wait_us};
    ur_loop *l = NULL;
    const char *why = NULL;
    int r = ur_loop_new(&o, &l, &why);
    if (r < 0)
        fail_msg("ur_loop_new: %d (%s)", r, why ? why : "?");
    return l;
}

/* The target kernel (6.18) has min_wait: batching is on unless masked. */
static int kernel_has_min_wait(void)
{
    ur_loop *l = loop_wait(100);
    int yes = ur_loop_min_wait_us(l) == 100;
    ur_loop_free(l);
    return yes;
}

#define NPAIRS 8

typedef struct pairs {
    int sv[NPAIRS][2];
    char rx[NPAIRS][8];
} pairs;

static void pairs_open(pairs *p)
{
    for (int i = 0; i < NPAIRS; i++)
        sockpair(p->sv[i]);
}

static void pairs_close(pairs *p)
{
    for (int i = 0; i < NPAIRS; i++) {
        close(p->sv[i][0]);
        close(p->sv[i][1]);
    }
}

/* Queue a recv on every pair (tags 0..n-1) and a send into each (tags
 * 100+i) in the same SQ: the tick's one enter submits them all. */
static void queue_round_trips(tester *t, pairs *p, int n)
{
    static const char msg[] = "ping";
    for (int i = 0; i < n; i++)
        assert_int_equal(ur_recv(&t->own, (uint32_t)i, p->sv[i][1], p->rx[i], sizeof p->rx[i], 0, NULL), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(ur_send(&t->own, 100u + (uint32_t)i, p->sv[i][0], msg, 4, 0, NULL), 0);
}

static int count_tag_below(const tester *t, uint32_t below, int res)
{
    int n = 0;
    for (int i = 0; i < t->ncomp; i++)
        if (t->comp[i].tag < below && t->comp[i].res == res)
            n++;
    return n;
}

/* Expecting several completions, the tick takes the batched path: the SQEs
 * it submits (flushed by enter.c itself, not liburing) all run and every
 * completion is delivered; the expectation lasts one tick. */
static void test_batched_path(void **state)
{
    (void)state;
    ur_loop *l = loop_wait(1000);
    if (ur_loop_min_wait_us(l) == 0) {
        assert_true(ur__setup_mask != ~0u || !kernel_has_min_wait());
        ur_loop_free(l);
        skip();
    }
    tester *t = tester_new(l);
    pairs p;
    pairs_open(&p);
    queue_round_trips(t, &p, NPAIRS);
    assert_int_equal(ur_loop_queued(l), 2 * NPAIRS);
    for (int round = 0; t->ncomp < 2 * NPAIRS && round < 100; round++) {
        ur_loop_expect(l, 2 * NPAIRS);
        assert_true(ur_loop_tick(l, 2000000000LL) >= 0);
        assert_int_equal(l->expect, 0);   /* for one tick only */
    }
    assert_int_equal(t->ncomp, 2 * NPAIRS);
    assert_int_equal(ur_loop_queued(l), 0);
    assert_true(ur_loop_batched_waits(l) >= 1);
    assert_int_equal(count_tag_below(t, NPAIRS, 4), NPAIRS);
    for (int i = 0; i < NPAIRS; i++)
        assert_memory_equal(p.rx[i], "ping", 4);
    ur_owner_release(&t->own);
    RUN_UNTIL(l, t->released == 1);
    ur_loop_free(l);
    pairs_close(&p);
    free(t);
}

/* Two completions expected, one ever comes: the wait ends with it (after
 * min_wait), with no timeout given (-1) and with one; the other recv stays
 * pending. Then none comes: the tick's own timeout ends the wait (0). */
static void test_fewer_than_expected(void **state)
{
    (void)state;
    ur_loop *l = loop_wait(2000);
    tester *t = tester_new(l);
    pairs p;
    pairs_open(&p);
    char silent[8];
    assert_int_equal(ur_recv(&t->own, 50, p.sv[1][1], silent, sizeof silent, 0, NULL), 0);
    for (int pass = 0; pass < 2; pass++) {
        int before = t->ncomp;
        assert_int_equal(ur_recv(&t->own, (uint32_t)pass, p.sv[0][1], p.rx[0], 8, 0, NULL), 0);
        assert_int_equal(ur_loop_tick(l, 0), 0);   /* submitted, nothing there yet */
        assert_int_equal(write(p.sv[0][0], "x", 1), 1);
        for (int round = 0; t->ncomp == before && round < 100; round++) {
            ur_loop_expect(l, 2);
            assert_true(ur_loop_tick(l, pass == 0 ? -1 : 2000000000LL) >= 0);
        }
        assert_int_equal(t->ncomp, before + 1);
        assert_int_equal(t->comp[before].tag, (uint32_t)pass);
        assert_int_equal(t->comp[before].res, 1);
    }
    /* Nothing will come: the 20 ms timeout (longer than min_wait) ends it. */
    ur_loop_expect(l, 2);
    assert_int_equal(ur_loop_tick(l, 20000000LL), 0);
    if (ur_loop_min_wait_us(l) > 0)
        assert_true(ur_loop_batched_waits(l) >= 1);   /* the last one at least */
    assert_int_equal(t->own.inflight, 1);   /* the silent recv */
    ur_owner_release(&t->own);
    RUN_UNTIL(l, t->released == 1);
    ur_loop_free(l);
    pairs_close(&p);
    free(t);
}

/* The plain wait: one expected completion (a lone round trip), a timeout
 * not longer than min_wait, min_wait 0, or a kernel without the feature.
 * None of them takes the batched path, and the work still completes. */
static void run_plain(ur_loop *l, unsigned expect, int64_t timeout_ns)
{
    tester *t = tester_new(l);
    pairs p;
    pairs_open(&p);
    queue_round_trips(t, &p, NPAIRS);
    for (int round = 0; t->ncomp < 2 * NPAIRS && round < 1000; round++) {
        ur_loop_expect(l, expect);
        assert_true(ur_loop_tick(l, timeout_ns) >= 0);
    }
    assert_int_equal(t->ncomp, 2 * NPAIRS);
    assert_int_equal(count_tag_below(t, NPAIRS, 4), NPAIRS);
    assert_int_equal(ur_loop_batched_waits(l), 0);
    ur_owner_release(&t->own);
    RUN_UNTIL(l, t->released == 1);
    pairs_close(&p);
    free(t);
}

static void test_plain_paths(void **state)
{
    (void)state;
    ur_loop *l = loop_wait(1000);
    run_plain(l, 1, -1);               /* one expected: never waits extra */
    run_plain(l, 0, -1);
    run_plain(l, 2 * NPAIRS, 1000000); /* timeout (1 ms) not over min_wait */
    ur_loop_free(l);

    l = loop_wait(0);                  /* batching off */
    assert_int_equal(ur_loop_min_wait_us(l), 0);
    run_plain(l, 2 * NPAIRS, -1);
    ur_loop_free(l);

    l = loop_new(64);                  /* no option: off */
    assert_int_equal(ur_loop_min_wait_us(l), 0);
    run_plain(l, 2 * NPAIRS, -1);
    ur_loop_free(l);
}

/* An older kernel (no IORING_FEAT_MIN_TIMEOUT): the option is ignored and
 * the loop waits as before, under every setup configuration. */
static void test_fallback_kernel(void **state)
{
    (void)state;
    ur__feature_mask = ~(unsigned)IORING_FEAT_MIN_TIMEOUT;
    ur_loop *l = loop_wait(1000);
    assert_int_equal(ur_loop_min_wait_us(l), 0);
    run_plain(l, 2 * NPAIRS, -1);
    ur_loop_free(l);
    ur__feature_mask = ~0u;
}

/* A batched wait from a thread the loop was handed to (its registered ring
 * fd is that thread's): the enter must use that thread's registration. */
static void *handed_thread(void *arg)
{
    ur_loop *l = arg;
    tester *t = tester_new(l);
    pairs p;
    pairs_open(&p);
    queue_round_trips(t, &p, NPAIRS);
    for (int round = 0; t->ncomp < 2 * NPAIRS && round < 100; round++) {
        ur_loop_expect(l, 2 * NPAIRS);
        if (ur_loop_tick(l, 2000000000LL) < 0)
            break;
    }
    intptr_t ok = t->ncomp == 2 * NPAIRS && count_tag_below(t, NPAIRS, 4) == NPAIRS;
    ur_owner_release(&t->own);
    for (int round = 0; t->released == 0 && round < 100; round++)
        (void)ur_loop_tick(l, 2000000000LL);
    ok = ok && t->released == 1;
    ur_loop_free(l);
    pairs_close(&p);
    free(t);
    return (void *)ok;
}

static void test_handed_over(void **state)
{
    (void)state;
    ur_loop *l = loop_wait(1000);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, handed_thread, l), 0);
    void *ok = NULL;
    assert_int_equal(pthread_join(th, &ok), 0);
    assert_true(ok != NULL);
}

#define MASKED(f)                                                                              \
    cmocka_unit_test_prestate_setup_teardown(f, mask_setup, mask_teardown, &mask_full),        \
    cmocka_unit_test_prestate_setup_teardown(f, mask_setup, mask_teardown, &mask_no_defer),    \
    cmocka_unit_test_prestate_setup_teardown(f, mask_setup, mask_teardown, &mask_plain)

int main(void)
{
    const struct CMUnitTest tests[] = {
        MASKED(test_batched_path),
        MASKED(test_fewer_than_expected),
        MASKED(test_plain_paths),
        MASKED(test_fallback_kernel),
        cmocka_unit_test(test_handed_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
