/*
 * tests/uring/test_loop.c -- the loop itself: setup flags, io_uring refused
 * by seccomp, one submit per tick, a full SQ, CQ overflow, the eventfd for
 * external event loops, allocation failures, teardown with ops in flight.
 */
#include "ur_test.h"
#include "../../uring/ur_internal.h"
#include "no_uring.h"

#include <poll.h>
#include <stdio.h>
#include <sys/wait.h>

/* The fallback configurations ur_loop_new() may end up with on older
 * kernels; the tests that take a mask run under each of them. */
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

static void test_setup_flags(void **state)
{
    (void)state;
    ur_loop *l = loop_new(8);
    unsigned f = ur_loop_setup_flags(l);
    assert_int_equal(f & ~ur__setup_mask, 0);
    assert_false(f & IORING_SETUP_SQPOLL);
    assert_true(f & IORING_SETUP_CQSIZE);
    assert_int_equal(l->ring.cq.ring_entries, 4 * l->ring.sq.ring_entries);
    /* The target kernel (6.1+) takes the whole set; older ones fall back. */
    if (ur__setup_mask != ~0u) {   /* a fallback configuration */
        assert_false(f & IORING_SETUP_DEFER_TASKRUN);
        ur_loop_free(l);
        return;
    }
    if (!(f & IORING_SETUP_DEFER_TASKRUN)) {
        ur_loop_free(l);
        skip();
    }
    assert_true(f & IORING_SETUP_SINGLE_ISSUER);
    assert_true(f & IORING_SETUP_SUBMIT_ALL);
    ur_loop_free(l);
    ur_loop_free(NULL);
}

/* In a child: make io_uring_setup fail with errno err, then expect
 * ur_loop_new to report -err with a sentence. Exit status 0 = as expected. */
static int refused_child(int err)
{
    ur_loop *l = NULL;
    const char *why = NULL;
    int r = ur_loop_new(NULL, &l, &why);
    if (r != -err || l != NULL || why == NULL || strstr(why, "not available") == NULL)
        return 1;
    return 0;
}

static void test_unavailable(void **state)
{
    (void)state;
    const int errs[] = {EPERM, ENOSYS};
    for (int i = 0; i < 2; i++) {
        int rc = in_child_without_io_uring(errs[i], refused_child);
        if (rc == NO_URING_UNSUPPORTED)
            skip();   /* seccomp filters cannot be installed here */
        assert_int_equal(rc, 0);
    }
}

/* 50 sends queued in one tick leave in one io_uring_enter. */
static void test_batching(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    tester *t = tester_new(l);
    int sv[2];
    sockpair(sv);
    char msg[50];
    for (int i = 0; i < 50; i++) {
        msg[i] = (char)i;
        assert_int_equal(ur_send(&t->own, (uint32_t)i, sv[0], &msg[i], 1, MSG_WAITALL, NULL), 0);
    }
    assert_int_equal(ur_loop_queued(l), 50);
    uint64_t s0 = ur_loop_submits(l);
    RUN_UNTIL(l, t->ncomp == 50);
    assert_int_equal(ur_loop_submits(l), s0 + 1);
    assert_int_equal(ur_loop_queued(l), 0);
    char in[64];
    assert_int_equal(recv(sv[1], in, sizeof in, MSG_DONTWAIT), 50);
    /* An idle poll tick makes no submit. */
    assert_int_equal(ur_loop_tick(l, 0), 0);
    assert_int_equal(ur_loop_submits(l), s0 + 1);
    close(sv[0]);
    close(sv[1]);
    ur_owner_release(&t->own);
    ur_loop_free(l);
    free(t);
}

/* SQ of 4, 100 ops: queueing flushes the SQ as it fills, none is lost. */
static void test_sq_full(void **state)
{
    (void)state;
    enum { N = 100 };
    ur_loop *l = loop_new(4);
    assert_int_equal(l->ring.sq.ring_entries, 4);
    tester *t = tester_new(l);
    int sv[N][2];
    char in[N][4];
    for (int i = 0; i < N; i++) {
        sockpair(sv[i]);
        assert_int_equal(ur_recv(&t->own, (uint32_t)i, sv[i][1], in[i], sizeof in[i], 0, NULL), 0);
    }
    assert_true(ur_loop_submits(l) >= N / 4 - 1);   /* flushed while queueing */
    assert_true(ur_loop_queued(l) <= 4);
    assert_int_equal(t->own.inflight, N);
    assert_true(ur_loop_tick(l, 0) >= 0);           /* submit the rest */
    for (int i = 0; i < N; i++) {
        char c[3] = {'r', (char)i, 0};
        assert_int_equal(write(sv[i][0], c, 3), 3);
    }
    RUN_UNTIL(l, t->ncomp == N);
    int seen[N] = {0};
    for (int i = 0; i < N; i++) {
        uint32_t tag = t->comp[i].tag;
        assert_true(tag < N);
        assert_int_equal(t->comp[i].res, 3);
        assert_int_equal(in[tag][1], (char)tag);
        seen[tag]++;
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(seen[i], 1);
        close(sv[i][0]);
        close(sv[i][1]);
    }
    assert_int_equal(t->own.inflight, 0);
    ur_owner_release(&t->own);
    ur_loop_free(l);
    free(t);
}

/* CQ of 16 (sq 4): far more completions than that become ready at once;
 * with IORING_FEAT_NODROP they wait in the overflow list and a tick must
 * deliver them all. */
static void test_cq_overflow(void **state)
{
    (void)state;
    enum { N = 200, M = 100 };
    ur_loop *l = loop_new(4);
    assert_int_equal(l->ring.cq.ring_entries, 16);
    assert_true(l->ring.features & IORING_FEAT_NODROP);
    tester *t = tester_new(l);

    /* 1: sends that complete inline while the full SQ is being flushed. */
    int sv[2];
    sockpair(sv);
    char one = 'z';
    for (int i = 0; i < N; i++)
        assert_int_equal(ur_send(&t->own, (uint32_t)i, sv[0], &one, 1, 0, NULL), 0);
    assert_true(ur_loop_flush(l) == 0);
    assert_true(IO_URING_READ_ONCE(*l->ring.sq.kflags) & IORING_SQ_CQ_OVERFLOW);
    assert_int_equal(ur_loop_tick(l, 0), N);
    assert_int_equal(t->ncomp, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(t->comp[i].res, 1);
        assert_int_equal(t->comp[i].tag, (uint32_t)i);   /* in order, too */
    }
    char in[N + 1];
    assert_int_equal(recv(sv[1], in, sizeof in, MSG_DONTWAIT), N);
    close(sv[0]);
    close(sv[1]);

    /* 2: M pending recvs whose data all arrives before the next tick. */
    t->ncomp = 0;
    int pv[M][2];
    char buf[M];
    for (int i = 0; i < M; i++) {
        sockpair(pv[i]);
        assert_int_equal(ur_recv(&t->own, (uint32_t)i, pv[i][1], &buf[i], 1, 0, NULL), 0);
    }
    assert_true(ur_loop_tick(l, 0) >= 0);
    assert_int_equal(t->ncomp, 0);
    for (int i = 0; i < M; i++)
        assert_int_equal(write(pv[i][0], "q", 1), 1);
    RUN_UNTIL(l, t->ncomp == M);
    for (int i = 0; i < M; i++) {
        assert_int_equal(t->comp[i].res, 1);
        close(pv[i][0]);
        close(pv[i][1]);
    }
    assert_int_equal(t->own.inflight, 0);
    ur_owner_release(&t->own);
    ur_loop_free(l);
    free(t);
}

/* The eventfd becomes readable when a completion is ready, and a poll tick
 * then dispatches it. Under DEFER_TASKRUN the kernel signals the eventfd
 * when it queues the completion as task work, before any CQE is visible;
 * the tick enters the kernel (IORING_SQ_TASKRUN is set) to post it. */
static void test_eventfd(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    tester *t = tester_new(l);
    int efd = ur_loop_eventfd(l);
    assert_true(efd >= 0);
    assert_int_equal(ur_loop_eventfd(l), efd);   /* created once */
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    char buf[8];
    for (int round = 0; round < 3; round++) {
        assert_int_equal(ur_read(&t->own, (uint32_t)round, p[0], buf, sizeof buf, NULL), 0);
        assert_int_equal(ur_loop_tick(l, 0), 0);   /* submits; nothing ready */
        struct pollfd pfd = {.fd = efd, .events = POLLIN};
        assert_int_equal(poll(&pfd, 1, 0), 0);
        assert_int_equal(write(p[1], "e", 1), 1);
        assert_int_equal(poll(&pfd, 1, 5000), 1);  /* readable without a tick */
        assert_int_equal(t->ncomp, round);
        assert_int_equal(ur_loop_tick(l, 0), 1);
        assert_int_equal(t->ncomp, round + 1);
        assert_int_equal(t->comp[round].res, 1);
        assert_int_equal(poll(&pfd, 1, 0), 0);     /* the tick cleared it */
    }
    /* The same with a socket, the engine's real use. */
    int sv[2];
    sockpair(sv);
    assert_int_equal(ur_recv(&t->own, 9, sv[1], buf, sizeof buf, 0, NULL), 0);
    assert_int_equal(ur_loop_tick(l, 0), 0);
    struct pollfd pfd = {.fd = efd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 0), 0);
    assert_int_equal(write(sv[0], "s", 1), 1);
    assert_int_equal(poll(&pfd, 1, 5000), 1);
    assert_int_equal(ur_loop_tick(l, 0), 1);
    assert_int_equal(t->comp[3].tag, 9);
    assert_int_equal(poll(&pfd, 1, 0), 0);
    close(sv[0]);
    close(sv[1]);
    close(p[0]);
    close(p[1]);
    ur_owner_release(&t->own);
    ur_loop_free(l);
    free(t);
}

/* Loops come and go without leaking descriptors (ring, eventfd) or the
 * registered-ring-fd slots (there are 16 per thread). */
static int count_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) != -1;
    return n;
}

static void test_many_loops(void **state)
{
    (void)state;
    int before = count_fds();
    for (int i = 0; i < 40; i++) {
        ur_loop *l = loop_new(4);
        /* The ring fd is registered by the thread that binds the loop. */
        assert_false(l->ring.int_flags & 1);   /* INT_FLAG_REG_RING */
        assert_true(ur_loop_eventfd(l) >= 0);
        if (i % 2) {   /* half of them never used: freed unbound */
            assert_int_equal(ur_loop_tick(l, 0), 0);
            assert_true(l->ring.int_flags & 1);
        }
        ur_loop_free(l);
    }
    assert_int_equal(count_fds(), before);
}

/* Allocation hooks: fail the Nth allocation; every failure is -ENOMEM with
 * nothing queued or leaked (ASan checks the leaks). */
static int alloc_left;
static int alloc_count;
static void *fail_malloc(size_t n)
{
    alloc_count++;
    return alloc_left-- > 0 ? malloc(n) : NULL;
}
static void *fail_realloc(void *p, size_t n)
{
    alloc_count++;
    return alloc_left-- > 0 ? realloc(p, n) : NULL;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    enum { OPS = 150, TIMERS = 40 };
    static tester t;
    static ur_timer tm[TIMERS];
    int sv[2];
    sockpair(sv);
    char in[OPS];
    bool done = false;
    for (int n = 0; !done; n++) {
        assert_true(n < 1000);
        ur_set_allocator(fail_malloc, fail_realloc, free);
        alloc_left = n;
        ur_loop *l = NULL;
        const char *why = NULL;
        int r = ur_loop_new(NULL, &l, &why);
        if (r < 0) {
            assert_int_equal(r, -ENOMEM);
            assert_null(l);
            continue;
        }
        memset(&t, 0, sizeof t);
        ur_owner_init(&t.own, l, t_complete, t_release);
        int queued = 0, armed = 0;
        for (int i = 0; i < OPS; i++) {
            unsigned before = t.own.inflight;
            r = ur_recv(&t.own, (uint32_t)i, sv[1], &in[i], 1, 0, NULL);
            if (r < 0) {
                assert_int_equal(r, -ENOMEM);
                assert_int_equal(t.own.inflight, before);
                break;
            }
            queued++;
        }
        for (int i = 0; i < TIMERS && queued == OPS; i++) {
            ur_timer_init(&tm[i], (void (*)(ur_timer *))abort);
            r = ur_timer_start(l, &tm[i], UINT64_MAX - (uint64_t)i);
            if (r < 0) {
                assert_int_equal(r, -ENOMEM);
                assert_false(ur_timer_armed(&tm[i]));
                break;
            }
            armed++;
        }
        assert_int_equal(t.own.inflight, (unsigned)queued);
        done = queued == OPS && armed == TIMERS;
        for (int i = 0; i < armed; i++)
            ur_timer_stop(l, &tm[i]);
        ur_owner_release(&t.own);
        ur_loop_free(l);     /* cancels and drains the recvs */
        assert_int_equal(t.released, 1);
        assert_int_equal(t.ncomp, queued);
        for (int i = 0; i < queued; i++)
            assert_int_equal(t.comp[i].res, -ECANCELED);
    }
    ur_set_allocator(NULL, NULL, NULL);
    assert_true(alloc_count > 4);
    close(sv[0]);
    close(sv[1]);
}

/* ur_loop_free with ops in flight: they are canceled and drained; an owner
 * that was released gets on_release from the drain. */
static void test_free_with_inflight(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    tester *a = tester_new(l), *b = tester_new(l);
    int sv[2];
    sockpair(sv);
    char x, y;
    assert_int_equal(ur_recv(&a->own, 1, sv[1], &x, 1, 0, NULL), 0);
    assert_int_equal(ur_recv(&b->own, 2, sv[1], &y, 1, 0, NULL), 0);
    assert_true(ur_loop_tick(l, 0) >= 0);
    ur_owner_release(&b->own);
    assert_int_equal(b->released, 0);
    ur_loop_free(l);
    assert_int_equal(a->ncomp, 1);
    assert_int_equal(a->comp[0].res, -ECANCELED);
    assert_int_equal(a->own.inflight, 0);
    assert_int_equal(b->ncomp, 1);
    assert_int_equal(b->comp[0].res, -ECANCELED);
    assert_int_equal(b->released, 1);
    close(sv[0]);
    close(sv[1]);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define EACH_MASK(f)                                                                \
    cmocka_unit_test_prestate_setup_teardown(f, mask_setup, mask_teardown, &mask_full),     \
    cmocka_unit_test_prestate_setup_teardown(f, mask_setup, mask_teardown, &mask_no_defer), \
    cmocka_unit_test_prestate_setup_teardown(f, mask_setup, mask_teardown, &mask_plain)
        EACH_MASK(test_setup_flags),
        cmocka_unit_test(test_unavailable),
        EACH_MASK(test_batching),
        EACH_MASK(test_sq_full),
        EACH_MASK(test_cq_overflow),
        EACH_MASK(test_eventfd),
        cmocka_unit_test(test_alloc_failures),
        EACH_MASK(test_free_with_inflight),
        cmocka_unit_test(test_many_loops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
