/*
 * tests/uring/test_timer.c -- the deadline heap: expiry in deadline order,
 * stop, re-arm (also from the callback), the tick's wait honouring the
 * nearest deadline, and a randomized heap check against sorting.
 */
#include "ur_test.h"
#include "../../uring/ur_internal.h"

#define MS 1000000ull

static int order[64];
static int nfired;

typedef struct tt {
    ur_timer t;   /* first: the callback casts back */
    int id;
    int rearm;    /* re-arm this many more times */
    ur_loop *l;
} tt;

static void tt_fire(ur_timer *t)
{
    tt *x = (tt *)t;
    assert_false(ur_timer_armed(t));   /* popped before fn runs */
    order[nfired++] = x->id;
    if (x->rearm > 0) {
        x->rearm--;
        assert_int_equal(ur_timer_start(x->l, t, ur_now_ns() + 1 * MS), 0);
    }
}

static void test_order_and_stop(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    nfired = 0;
    tt ts[5];
    const int ms[5] = {40, 10, 30, 20, 15};
    uint64_t t0 = ur_now_ns();
    for (int i = 0; i < 5; i++) {
        ts[i] = (tt){.id = i, .l = l};
        ur_timer_init(&ts[i].t, tt_fire);
        assert_false(ur_timer_armed(&ts[i].t));
        assert_int_equal(ur_timer_start(l, &ts[i].t, t0 + (uint64_t)ms[i] * MS), 0);
        assert_true(ur_timer_armed(&ts[i].t));
    }
    ur_timer_stop(l, &ts[4].t);               /* the 15 ms one */
    ur_timer_stop(l, &ts[4].t);               /* not armed: no-op */
    assert_false(ur_timer_armed(&ts[4].t));
    assert_int_equal(ur_timer_start(l, &ts[0].t, t0 + 5 * MS), 0);  /* re-arm earlier */
    /* Nothing in flight: each tick sleeps until the next deadline. */
    RUN_UNTIL(l, nfired == 4);
    assert_true(ur_now_ns() - t0 >= 30 * MS);
    const int want[4] = {0, 1, 3, 2};
    assert_memory_equal(order, want, sizeof want);
    for (int i = 0; i < 5; i++)
        assert_false(ur_timer_armed(&ts[i].t));
    /* No timer, nothing in flight: an infinite tick returns at once. */
    assert_int_equal(ur_loop_tick(l, -1), 0);
    ur_loop_free(l);
}

static void test_rearm_from_callback(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    nfired = 0;
    tt a = {.id = 7, .rearm = 3, .l = l};
    ur_timer_init(&a.t, tt_fire);
    assert_int_equal(ur_timer_start(l, &a.t, ur_now_ns()), 0);
    RUN_UNTIL(l, nfired == 4);
    assert_false(ur_timer_armed(&a.t));
    /* A timer re-armed into the past runs once per tick, not forever. */
    a.rearm = 0;
    nfired = 0;
    assert_int_equal(ur_timer_start(l, &a.t, 0), 0);
    assert_int_equal(ur_loop_tick(l, 0), 1);
    assert_int_equal(nfired, 1);
    ur_loop_free(l);
}

/* A tick with ops in flight still wakes up for the timer, and a timer does
 * not delay completions. */
static void test_tick_wait(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    tester *t = tester_new(l);
    int sv[2];
    sockpair(sv);
    char c;
    assert_int_equal(ur_recv(&t->own, 1, sv[1], &c, 1, 0, NULL), 0);
    nfired = 0;
    tt a = {.id = 1, .l = l};
    ur_timer_init(&a.t, tt_fire);
    uint64_t t0 = ur_now_ns();
    assert_int_equal(ur_timer_start(l, &a.t, t0 + 20 * MS), 0);
    assert_int_equal(ur_loop_tick(l, 0), 0);      /* not yet */
    RUN_UNTIL(l, nfired == 1);
    uint64_t dt = ur_now_ns() - t0;
    assert_true(dt >= 20 * MS && dt < 2000 * MS);
    assert_int_equal(t->ncomp, 0);
    /* A caller timeout shorter than the timer wins. */
    assert_int_equal(ur_timer_start(l, &a.t, ur_now_ns() + 5000 * MS), 0);
    t0 = ur_now_ns();
    assert_int_equal(ur_loop_tick(l, (int64_t)(10 * MS)), 0);
    dt = ur_now_ns() - t0;
    assert_true(dt >= 10 * MS && dt < 2000 * MS);
    /* A completion ends the wait long before the timer. */
    assert_int_equal(write(sv[0], "w", 1), 1);
    assert_int_equal(ur_loop_tick(l, -1), 1);
    assert_int_equal(t->ncomp, 1);
    assert_true(ur_timer_armed(&a.t));
    ur_timer_stop(l, &a.t);
    close(sv[0]);
    close(sv[1]);
    ur_owner_release(&t->own);
    ur_loop_free(l);
    free(t);
}

/* Random starts, re-arms and stops; the heap must hand them out sorted and
 * keep every heap_index right. */
static void heap_check(const ur_loop *l)
{
    for (size_t i = 0; i < l->nheap; i++) {
        assert_int_equal(l->heap[i]->heap_index, i);
        if (i > 0)
            assert_true(l->heap[(i - 1) / 2]->deadline_ns <= l->heap[i]->deadline_ns);
    }
}

static void noop(ur_timer *t) { (void)t; }

static void test_heap_random(void **state)
{
    (void)state;
    enum { N = 300 };
    ur_loop *l = loop_new(0);
    static ur_timer ts[N];
    srand(12345);
    for (int i = 0; i < N; i++)
        ur_timer_init(&ts[i], noop);
    for (int step = 0; step < 5000; step++) {
        ur_timer *t = &ts[rand() % N];
        if (rand() % 3 == 0)
            ur_timer_stop(l, t);
        else
            assert_int_equal(ur_timer_start(l, t, (uint64_t)(rand() % 1000)), 0);
        if (step % 97 == 0)
            heap_check(l);
    }
    heap_check(l);
    size_t armed = 0;
    for (int i = 0; i < N; i++)
        armed += ur_timer_armed(&ts[i]);
    assert_int_equal(l->nheap, armed);
    /* All deadlines are in the past: one tick runs them all, in order. */
    uint64_t last = 0;
    while (l->nheap > 0) {
        ur_timer *t = l->heap[0];
        assert_true(t->deadline_ns >= last);
        last = t->deadline_ns;
        ur_timer_stop(l, t);
        heap_check(l);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(ur_timer_start(l, &ts[i], (uint64_t)i), 0);
    assert_int_equal(ur_loop_tick(l, 0), N);
    assert_int_equal(l->nheap, 0);
    ur_loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_stop),
        cmocka_unit_test(test_rearm_from_callback),
        cmocka_unit_test(test_tick_wait),
        cmocka_unit_test(test_heap_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
