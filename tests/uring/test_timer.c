/*
 * tests/uring/test_timer.c -- the deadline heap: expiry in deadline order,
 * stop, re-arm (also from the callback), the tick's wait honouring the
 * nearest deadline, a randomized heap check against sorting,
 * ur_loop_next_timeout_ns(); and external mode (the loop's eventfd in an
 * epoll): the kernel timeout that wakes the fd for a due timer, moved only
 * when the nearest deadline gets earlier, quiet once timers stop, and ticks
 * that submit what their callbacks queued. External tests run under each
 * setup-flag fallback.
 */
#include "ur_test.h"
#include "../../uring/ur_internal.h"

#include <poll.h>
#include <sys/epoll.h>

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


static void test_next_timeout(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    assert_int_equal(ur_loop_next_timeout_ns(l), -1);
    assert_int_equal(ur_loop_next_timeout_ns(NULL), -1);
    ur_timer a, b;
    ur_timer_init(&a, noop);
    ur_timer_init(&b, noop);
    uint64_t t0 = ur_now_ns();
    assert_int_equal(ur_timer_start(l, &a, t0 + 1000 * MS), 0);
    int64_t n = ur_loop_next_timeout_ns(l);
    assert_true(n > 0 && n <= (int64_t)(1000 * MS));
    assert_true(n >= (int64_t)(1000 * MS) - (int64_t)(ur_now_ns() - t0));
    assert_int_equal(ur_timer_start(l, &b, t0 - 1), 0);   /* already due */
    assert_int_equal(ur_loop_next_timeout_ns(l), 0);
    ur_timer_stop(l, &b);
    assert_true(ur_loop_next_timeout_ns(l) > 0);
    assert_int_equal(ur_timer_start(l, &a, UINT64_MAX), 0);   /* 584 years: no overflow */
    assert_true(ur_loop_next_timeout_ns(l) > (int64_t)(1000000 * MS));
    ur_timer_stop(l, &a);
    assert_int_equal(ur_loop_next_timeout_ns(l), -1);
    ur_loop_free(l);
}

/* Internal mode (no eventfd): timers never cost an SQE or a syscall; the
 * tick's own wait handles them. */
static void test_internal_no_kernel_timeout(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    assert_int_equal(ur_loop_tick(l, 0), 0);
    nfired = 0;
    tt a = {.id = 1, .l = l};
    ur_timer_init(&a.t, tt_fire);
    uint64_t s0 = ur_loop_submits(l);
    assert_int_equal(ur_timer_start(l, &a.t, ur_now_ns() + 20 * MS), 0);
    assert_int_equal(ur_loop_queued(l), 0);
    assert_int_equal(ur_loop_flush(l), 0);
    assert_int_equal(ur_loop_tick(l, 0), 0);
    assert_int_equal(ur_loop_queued(l), 0);
    assert_false(l->kt_live);
    RUN_UNTIL(l, nfired == 1);
    assert_int_equal(ur_loop_submits(l), s0);
    assert_false(l->kt_live);
    ur_loop_free(l);
}

/* epoll_wait on the loop's eventfd for up to ms milliseconds in all,
 * retrying when task work interrupts the wait (it does without
 * DEFER_TASKRUN: the kernel wakes the task to post the CQE). */
static int wait_fd(int ep, int ms)
{
    uint64_t end = ur_now_ns() + (uint64_t)ms * MS;
    struct epoll_event ev;
    for (;;) {
        uint64_t now = ur_now_ns();
        int left = now >= end ? 0 : (int)((end - now + MS - 1) / MS);
        int n = epoll_wait(ep, &ev, 1, left);
        if (n >= 0 || errno != EINTR)
            return n;
    }
}

typedef struct ext {
    ur_loop *l;
    int efd, ep;
} ext;

static ext ext_new(void)
{
    ext e = {.l = loop_new(0)};
    e.efd = ur_loop_eventfd(e.l);
    assert_true(e.efd >= 0);
    e.ep = epoll_create1(EPOLL_CLOEXEC);
    assert_true(e.ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN};
    assert_int_equal(epoll_ctl(e.ep, EPOLL_CTL_ADD, e.efd, &ev), 0);
    return e;
}

static void ext_free(ext *e)
{
    close(e->ep);
    ur_loop_free(e->l);
}

static int fd_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0);
}

/* No I/O at all: a timer 50 ms out wakes the eventfd on time, and one poll
 * tick then runs it; afterwards the fd stays quiet. */
static void test_external_wakes(void **state)
{
    (void)state;
    ext e = ext_new();
    nfired = 0;
    tt a = {.id = 1, .l = e.l};
    ur_timer_init(&a.t, tt_fire);
    uint64_t deadline = ur_now_ns() + 50 * MS;
    assert_int_equal(ur_timer_start(e.l, &a.t, deadline), 0);
    assert_int_equal(ur_loop_queued(e.l), 0);   /* starting a timer queues nothing */
    assert_int_equal(ur_loop_flush(e.l), 0);    /* the kernel timeout goes in here */
    assert_true(e.l->kt_live);
    assert_int_equal(e.l->kt_ns, deadline);
    assert_int_equal(fd_readable(e.efd), 0);
    assert_int_equal(wait_fd(e.ep, 5000), 1);
    uint64_t woke = ur_now_ns();
    assert_true(woke >= deadline);
    assert_true(woke < deadline + 2000 * MS);   /* slack for a loaded machine */
    assert_int_equal(nfired, 0);   /* the engine runs timers in ticks only */
    assert_int_equal(ur_loop_tick(e.l, 0), 1);
    assert_int_equal(nfired, 1);
    assert_false(e.l->kt_live);    /* its CQE was the engine's */
    assert_int_equal(fd_readable(e.efd), 0);
    assert_int_equal(wait_fd(e.ep, 100), 0);
    ext_free(&e);
}

/* A nearer timer moves the kernel timeout (one SQE per flush, no CQE, so no
 * wakeup for the move itself); later timers move nothing; once the near one
 * ran, the tick arms the next deadline by itself. */
static void test_external_earlier_rearms(void **state)
{
    (void)state;
    enum { LATER = 20 };
    ext e = ext_new();
    nfired = 0;
    tt far = {.id = 1, .l = e.l}, near = {.id = 2, .l = e.l};
    static tt later[LATER];
    ur_timer_init(&far.t, tt_fire);
    ur_timer_init(&near.t, tt_fire);
    uint64_t t0 = ur_now_ns();
    assert_int_equal(ur_timer_start(e.l, &far.t, t0 + 5000 * MS), 0);
    assert_int_equal(ur_loop_flush(e.l), 0);
    assert_int_equal(e.l->kt_ns, t0 + 5000 * MS);
    uint64_t s0 = ur_loop_submits(e.l);

    for (int i = 0; i < LATER; i++) {   /* not nearer: nothing to move */
        later[i] = (tt){.id = 10 + i, .l = e.l};
        ur_timer_init(&later[i].t, tt_fire);
        assert_int_equal(ur_timer_start(e.l, &later[i].t, t0 + (6000 + (uint64_t)i) * MS), 0);
    }
    assert_int_equal(ur_loop_flush(e.l), 0);
    assert_int_equal(ur_loop_submits(e.l), s0);
    assert_int_equal(e.l->kt_ns, t0 + 5000 * MS);

    uint64_t deadline = ur_now_ns() + 50 * MS;
    assert_int_equal(ur_timer_start(e.l, &near.t, deadline + 10 * MS), 0);
    assert_int_equal(ur_timer_start(e.l, &near.t, deadline), 0);   /* moved twice: one SQE */
    assert_int_equal(ur_loop_queued(e.l), 0);
    assert_int_equal(ur_loop_flush(e.l), 0);
    assert_int_equal(ur_loop_submits(e.l), s0 + 1);
    assert_int_equal(e.l->kt_ns, deadline);
    assert_int_equal(fd_readable(e.efd), 0);   /* the update posted no CQE */
    assert_int_equal(wait_fd(e.ep, 5000), 1);
    uint64_t woke = ur_now_ns();
    assert_true(woke >= deadline && woke < deadline + 2000 * MS);
    assert_int_equal(ur_loop_tick(e.l, 0), 1);
    assert_int_equal(nfired, 1);
    assert_int_equal(order[0], 2);
    /* The tick armed the next deadline itself, and submitted it. */
    assert_true(e.l->kt_live);
    assert_int_equal(e.l->kt_ns, t0 + 5000 * MS);
    assert_int_equal(ur_loop_queued(e.l), 0);
    assert_int_equal(fd_readable(e.efd), 0);

    ur_timer_stop(e.l, &far.t);
    for (int i = 0; i < LATER; i++)
        ur_timer_stop(e.l, &later[i].t);
    ext_free(&e);
}

/* Timers stopped before they are due: the kernel timeout armed for them
 * fires once at most, a tick finds nothing to run, and the fd stays quiet
 * afterwards instead of spinning. */
static void test_external_stop_all(void **state)
{
    (void)state;
    enum { N = 8 };
    ext e = ext_new();
    nfired = 0;
    static tt ts[N];
    uint64_t t0 = ur_now_ns();
    for (int i = 0; i < N; i++) {
        ts[i] = (tt){.id = i, .l = e.l};
        ur_timer_init(&ts[i].t, tt_fire);
        assert_int_equal(ur_timer_start(e.l, &ts[i].t, t0 + (30 + 5 * (uint64_t)i) * MS), 0);
    }
    assert_int_equal(ur_loop_flush(e.l), 0);
    assert_true(e.l->kt_live);
    for (int i = 0; i < N; i++)
        ur_timer_stop(e.l, &ts[i].t);
    assert_int_equal(ur_loop_next_timeout_ns(e.l), -1);
    uint64_t s0 = ur_loop_submits(e.l);
    assert_int_equal(ur_loop_flush(e.l), 0);
    assert_int_equal(ur_loop_submits(e.l), s0);   /* nothing to arm */
    int wakeups = 0;
    uint64_t end = t0 + 400 * MS;
    for (uint64_t now = ur_now_ns(); now < end; now = ur_now_ns()) {
        int n = wait_fd(e.ep, (int)((end - now) / MS) + 1);
        assert_true(n >= 0);
        if (n == 1) {
            wakeups++;
            assert_true(wakeups <= 1);
            assert_int_equal(ur_loop_tick(e.l, 0), 0);
        }
    }
    assert_int_equal(nfired, 0);
    assert_false(e.l->kt_live);
    assert_int_equal(fd_readable(e.efd), 0);
    ext_free(&e);
}

/* In external mode a tick ends with everything its callbacks queued already
 * in the kernel: a timer callback and a completion callback each queue a
 * read, and the fd wakes for them with no flush in between. */
typedef struct chain {
    ur_timer t;
    ur_owner own;
    int p[2];
    char c;
    int reads;
} chain;

static void chain_complete(ur_owner *o, uint32_t tag, int res, uint32_t flags)
{
    (void)flags;
    chain *ch = (chain *)((char *)o - offsetof(chain, own));
    assert_int_equal(res, 1);
    ch->reads++;
    if (tag == 0)   /* the first read re-queues one more */
        assert_int_equal(ur_read(o, 1, ch->p[0], &ch->c, 1, NULL), 0);
}

static void chain_fire(ur_timer *t)
{
    chain *ch = (chain *)t;
    assert_int_equal(ur_read(&ch->own, 0, ch->p[0], &ch->c, 1, NULL), 0);
}

static void test_external_tick_submits(void **state)
{
    (void)state;
    ext e = ext_new();
    static chain ch;
    memset(&ch, 0, sizeof ch);
    assert_int_equal(pipe2(ch.p, O_CLOEXEC), 0);
    ur_owner_init(&ch.own, e.l, chain_complete, NULL);
    ur_timer_init(&ch.t, chain_fire);
    assert_int_equal(ur_timer_start(e.l, &ch.t, ur_now_ns() + 10 * MS), 0);
    assert_int_equal(ur_loop_flush(e.l), 0);
    assert_int_equal(wait_fd(e.ep, 5000), 1);
    assert_int_equal(ur_loop_tick(e.l, 0), 1);     /* the timer queued a read ... */
    assert_int_equal(ur_loop_queued(e.l), 0);      /* ... and the tick submitted it */
    assert_int_equal(ch.own.inflight, 1);
    assert_int_equal(write(ch.p[1], "a", 1), 1);
    assert_int_equal(wait_fd(e.ep, 5000), 1);
    assert_int_equal(ur_loop_tick(e.l, 0), 1);
    assert_int_equal(ch.reads, 1);
    assert_int_equal(ur_loop_queued(e.l), 0);      /* the re-queued read too */
    assert_int_equal(write(ch.p[1], "b", 1), 1);
    assert_int_equal(wait_fd(e.ep, 5000), 1);
    assert_int_equal(ur_loop_tick(e.l, 0), 1);
    assert_int_equal(ch.reads, 2);
    assert_int_equal(ch.own.inflight, 0);
    assert_int_equal(wait_fd(e.ep, 50), 0);
    close(ch.p[0]);
    close(ch.p[1]);
    ext_free(&e);
}

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
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_stop),
        cmocka_unit_test(test_rearm_from_callback),
        cmocka_unit_test(test_tick_wait),
        cmocka_unit_test(test_heap_random),
        cmocka_unit_test(test_next_timeout),
        cmocka_unit_test(test_internal_no_kernel_timeout),
#define EACH_MASK(f)                                                                      \
    cmocka_unit_test_prestate_setup_teardown(f, mask_setup, mask_teardown, &mask_full),     \
    cmocka_unit_test_prestate_setup_teardown(f, mask_setup, mask_teardown, &mask_no_defer), \
    cmocka_unit_test_prestate_setup_teardown(f, mask_setup, mask_teardown, &mask_plain)
        EACH_MASK(test_external_wakes),
        EACH_MASK(test_external_earlier_rearms),
        EACH_MASK(test_external_stop_all),
        EACH_MASK(test_external_tick_submits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
