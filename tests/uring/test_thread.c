/*
 * tests/uring/test_thread.c -- which thread may use a loop (uring/thread.c):
 * a loop created and prepared on one thread (eventfd, an op, a timer) and
 * run only on another, wrong-thread calls refused without touching the SQ,
 * fork() children refused, loops freed unbound, by their owner, in a child
 * and from another thread; under each setup-flag fallback.
 *
 * cmocka's asserts must run on the test's own thread: code on other threads
 * records the first failing line instead, and the test asserts it is 0.
 */
#include "ur_test.h"
#include "../../uring/ur_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/wait.h>

static unsigned mask_full = ~0u;
static unsigned mask_no_defer = ~(unsigned)IORING_SETUP_DEFER_TASKRUN;
static unsigned mask_plain = ~(unsigned)(IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER |
                                         IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
                                         IORING_SETUP_SUBMIT_ALL);
/* A kernel without R_DISABLED (before 5.10): SINGLE_ISSUER must go too. */
static unsigned mask_no_disabled = ~(unsigned)IORING_SETUP_R_DISABLED;

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

/* An owner with no cmocka asserts, usable from any thread and in a child. */
typedef struct bown {
    ur_owner own;
    int ncomp;
    int res[16];
    uint32_t tag[16];
    int released;
} bown;

static void b_complete(ur_owner *o, uint32_t tag, int res, uint32_t flags)
{
    (void)flags;
    bown *b = (bown *)o;
    if (b->ncomp < 16) {
        b->res[b->ncomp] = res;
        b->tag[b->ncomp] = tag;
    }
    b->ncomp++;
}

static void b_release(ur_owner *o) { ((bown *)o)->released++; }

static void bown_init(bown *b, ur_loop *l)
{
    memset(b, 0, sizeof *b);
    ur_owner_init(&b->own, l, b_complete, b_release);
}

typedef struct ttimer {
    ur_timer t;   /* first: the callback casts back */
    int fired;
} ttimer;

static void tt_fire(ur_timer *t) { ((ttimer *)t)->fired++; }

#define CHECK(fail, cond)                                                       \
    do {                                                                        \
        if (!(cond) && *(fail) == 0)                                            \
            *(fail) = __LINE__;                                                 \
    } while (0)

/* Wait on the loop's eventfd the way a daemon does, ticking with timeout 0
 * on each wakeup, until *count reaches want (or 5 s pass without a wakeup).
 * Returns 0 or the failing line. */
static int epoll_until(ur_loop *l, int efd, const int *count, int want)
{
    int fail = 0;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    CHECK(&fail, ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0);
    for (int i = 0; i < 100 && fail == 0 && *count < want; i++) {
        int n = epoll_wait(ep, &ev, 1, 5000);
        if (n < 0 && errno == EINTR)
            continue;   /* task work interrupts waits without DEFER_TASKRUN */
        CHECK(&fail, n == 1);
        CHECK(&fail, ur_loop_tick(l, 0) >= 0);
    }
    CHECK(&fail, *count >= want);
    if (ep >= 0)
        close(ep);
    return fail;
}

/* The daemon pattern: thread A creates the loop, takes its eventfd, queues
 * a recv and a due timer, then hands the loop to thread B, which runs it
 * from an epoll loop. Meanwhile A is refused everything, without touching
 * the SQ; B goes on working and finally frees the loop. */
typedef struct handover {
    ur_loop *l;
    int efd;
    int sv[2];
    char in[4], in2[4];
    bown own;
    ttimer tm, far;
    pthread_barrier_t bar;
    int fail;   /* first failing line on B */
} handover;

static void *handover_b(void *arg)
{
    handover *h = arg;
    int *fail = &h->fail;
    CHECK(fail, ur_loop_check_thread(h->l) == 0);   /* nobody owns it yet */
    CHECK(fail, ur_send(&h->own.own, 2, h->sv[0], "hi", 2, MSG_WAITALL, NULL) == 0);
    CHECK(fail, ur_loop_flush(h->l) == 0);          /* binds B */
    CHECK(fail, ur_loop_check_thread(h->l) == 0);
    int r = epoll_until(h->l, h->efd, &h->own.ncomp, 2);
    if (r != 0 && *fail == 0)
        *fail = r;   /* the line in epoll_until */
    CHECK(fail, h->own.ncomp == 2 && h->own.res[0] == 2 && h->own.res[1] == 2);
    CHECK(fail, memcmp(h->in, "hi", 2) == 0);
    CHECK(fail, h->tm.fired == 1);   /* the timer A started ran on B */
    ur_timer_init(&h->far.t, tt_fire);
    CHECK(fail, ur_timer_start(h->l, &h->far.t, ur_now_ns() + 60000000000ull) == 0);

    pthread_barrier_wait(&h->bar);   /* A tries its luck now */
    pthread_barrier_wait(&h->bar);
    CHECK(fail, ur_timer_armed(&h->far.t));   /* A's stop did nothing */
    ur_timer_stop(h->l, &h->far.t);
    CHECK(fail, !ur_timer_armed(&h->far.t));

    /* B still works: another exchange, then free with a recv in flight
     * (drained on the owner thread) and the owner released. */
    CHECK(fail, ur_recv(&h->own.own, 3, h->sv[1], h->in2, 3, MSG_WAITALL, NULL) == 0);
    CHECK(fail, ur_send(&h->own.own, 4, h->sv[0], "abc", 3, MSG_WAITALL, NULL) == 0);
    CHECK(fail, ur_loop_flush(h->l) == 0);
    r = epoll_until(h->l, h->efd, &h->own.ncomp, 4);
    if (r != 0 && *fail == 0)
        *fail = r;
    CHECK(fail, h->own.ncomp == 4 && h->own.res[2] == 3 && h->own.res[3] == 3);
    CHECK(fail, memcmp(h->in2, "abc", 3) == 0);
    CHECK(fail, ur_recv(&h->own.own, 5, h->sv[1], h->in2, 1, 0, NULL) == 0);
    CHECK(fail, ur_loop_tick(h->l, 0) == 0);
    ur_owner_release(&h->own.own);
    CHECK(fail, h->own.released == 0);
    ur_loop_free(h->l);
    CHECK(fail, h->own.released == 1);
    CHECK(fail, h->own.ncomp == 5 && h->own.res[4] == -ECANCELED);
    return NULL;
}

static void test_handover(void **state)
{
    (void)state;
    static handover h;
    memset(&h, 0, sizeof h);
    h.l = loop_new(0);
    unsigned f = ur_loop_setup_flags(h.l);
    if (!(ur__setup_mask & IORING_SETUP_R_DISABLED))
        assert_false(f & (IORING_SETUP_R_DISABLED | IORING_SETUP_SINGLE_ISSUER));
    if (ur__setup_mask == ~0u)
        assert_true(f & IORING_SETUP_R_DISABLED);   /* the target kernel takes it */
    assert_int_equal(ur_loop_check_thread(h.l), 0);
    h.efd = ur_loop_eventfd(h.l);   /* on the creating thread, before the hand-over */
    assert_true(h.efd >= 0);
    sockpair(h.sv);
    bown_init(&h.own, h.l);
    assert_int_equal(ur_recv(&h.own.own, 1, h.sv[1], h.in, 2, MSG_WAITALL, NULL), 0);
    ur_timer_init(&h.tm.t, tt_fire);
    assert_int_equal(ur_timer_start(h.l, &h.tm.t, ur_now_ns()), 0);
    assert_int_equal(pthread_barrier_init(&h.bar, NULL, 2), 0);

    pthread_t b;
    assert_int_equal(pthread_create(&b, NULL, handover_b, &h), 0);
    pthread_barrier_wait(&h.bar);
    /* B owns the loop and waits at the barrier: A is refused everything. */
    ur_loop *l = h.l;
    unsigned queued = ur_loop_queued(l), inflight = h.own.own.inflight, used = l->used;
    assert_int_equal(ur_loop_check_thread(l), -EXDEV);
    assert_int_equal(ur_loop_tick(l, 0), -EXDEV);
    assert_int_equal(ur_loop_tick(l, -1), -EXDEV);
    assert_int_equal(ur_loop_flush(l), -EXDEV);
    assert_int_equal(ur_loop_eventfd(l), -EXDEV);
    char x;
    assert_int_equal(ur_recv(&h.own.own, 9, h.sv[1], &x, 1, 0, NULL), -EXDEV);
    assert_int_equal(ur_send(&h.own.own, 9, h.sv[0], "x", 1, 0, NULL), -EXDEV);
    assert_int_equal(ur_cancel(l, (uint64_t)1 << 32), -EXDEV);
    ttimer t2 = {0};
    ur_timer_init(&t2.t, tt_fire);
    assert_int_equal(ur_timer_start(l, &t2.t, ur_now_ns()), -EXDEV);
    assert_false(ur_timer_armed(&t2.t));
    ur_timer_stop(l, &h.far.t);   /* B's timer: left alone */
    assert_true(ur_timer_armed(&h.far.t));
    assert_int_equal(l->nheap, 1);
    ur_owner_release(&h.own.own);   /* does nothing from here */
    assert_int_equal(h.own.own.releasing, 0);
    assert_int_equal(ur_loop_queued(l), queued);   /* the SQ is untouched */
    assert_int_equal(h.own.own.inflight, inflight);
    assert_int_equal(l->used, used);
    pthread_barrier_wait(&h.bar);

    assert_int_equal(pthread_join(b, NULL), 0);
    if (h.fail != 0)
        fail_msg("thread B failed at line %d", h.fail);
    pthread_barrier_destroy(&h.bar);
    close(h.sv[0]);
    close(h.sv[1]);
}

/* Freed without ever being bound, on the creating thread and on another:
 * queued ops never reached the kernel, complete with -ECANCELED, released
 * owners get on_release, timers end up disarmed. */
static void *free_on_thread(void *arg)
{
    ur_loop_free(arg);
    return NULL;
}

static void test_free_unbound(void **state)
{
    (void)state;
    for (int other_thread = 0; other_thread < 2; other_thread++) {
        ur_loop *l = loop_new(0);
        assert_true(ur_loop_eventfd(l) >= 0);
        int sv[2];
        sockpair(sv);
        char a_in, b_in;
        bown a, b;
        bown_init(&a, l);
        bown_init(&b, l);
        assert_int_equal(ur_recv(&a.own, 1, sv[1], &a_in, 1, 0, NULL), 0);
        assert_int_equal(ur_recv(&b.own, 2, sv[1], &b_in, 1, 0, NULL), 0);
        ur_owner_release(&b.own);
        assert_int_equal(b.released, 0);
        ttimer tm = {0};
        ur_timer_init(&tm.t, tt_fire);
        assert_int_equal(ur_timer_start(l, &tm.t, ur_now_ns() + 1000000000ull), 0);
        assert_int_equal(write(sv[0], "x", 1), 1);
        if (other_thread) {
            pthread_t t;
            assert_int_equal(pthread_create(&t, NULL, free_on_thread, l), 0);
            assert_int_equal(pthread_join(t, NULL), 0);
        } else {
            ur_loop_free(l);
        }
        assert_int_equal(a.ncomp, 1);
        assert_int_equal(a.res[0], -ECANCELED);
        assert_int_equal(a.released, 0);
        assert_int_equal(b.ncomp, 1);
        assert_int_equal(b.res[0], -ECANCELED);
        assert_int_equal(b.released, 1);
        assert_false(ur_timer_armed(&tm.t));
        assert_int_equal(tm.fired, 0);
        /* The recvs never ran: the byte is still there. */
        assert_int_equal(recv(sv[1], &a_in, 1, MSG_DONTWAIT), 1);
        close(sv[0]);
        close(sv[1]);
    }
}

/* Freeing an unbound loop, a callback queues another recv and flushes.
 * Binding the loop now would submit the SQE of the recv just reported
 * canceled (it is still in the SQ): the flush is refused, the new recv is
 * canceled in user space as well, and no recv ever runs (the waiting byte
 * is still there afterwards). */
typedef struct rebinder {
    bown b;
    ur_loop *l;
    int fd;
    char in;
    int flush_rc;
} rebinder;

static void rebind_complete(ur_owner *o, uint32_t tag, int res, uint32_t flags)
{
    rebinder *r = (rebinder *)o;
    b_complete(o, tag, res, flags);
    if (tag == 1) {
        (void)ur_recv(o, 2, r->fd, &r->in, 1, 0, NULL);
        r->flush_rc = ur_loop_flush(r->l);
    }
}

static void test_free_unbound_callback_binds(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    int sv[2];
    sockpair(sv);
    static rebinder r;
    memset(&r, 0, sizeof r);
    ur_owner_init(&r.b.own, l, rebind_complete, b_release);
    r.l = l;
    r.fd = sv[1];
    r.flush_rc = 1;
    char first;
    assert_int_equal(ur_recv(&r.b.own, 1, sv[1], &first, 1, 0, NULL), 0);
    assert_int_equal(write(sv[0], "z", 1), 1);
    ur_loop_free(l);
    assert_int_equal(r.flush_rc, -ESHUTDOWN);
    assert_int_equal(r.b.ncomp, 2);
    assert_int_equal(r.b.res[0], -ECANCELED);
    assert_int_equal(r.b.tag[1], 2);
    assert_int_equal(r.b.res[1], -ECANCELED);
    assert_int_equal(recv(sv[1], &first, 1, MSG_DONTWAIT), 1);
    assert_int_equal(first, 'z');
    close(sv[0]);
    close(sv[1]);
}

/* A thread frees a loop another thread owns but no longer uses (nothing in
 * flight). Its own loop, whose ring fd it registered at the same index the
 * owner used in its own context, must not lose that registration. */
typedef struct idle_owner {
    ur_loop *l;
    pthread_barrier_t bar;
    int fail;
} idle_owner;

static void *idle_owner_thread(void *arg)
{
    idle_owner *h = arg;
    CHECK(&h->fail, ur_loop_tick(h->l, 0) == 0);   /* bind */
    CHECK(&h->fail, h->l->ring.int_flags & 1);     /* its ring fd registered here */
    pthread_barrier_wait(&h->bar);
    pthread_barrier_wait(&h->bar);                 /* the test thread frees it */
    return NULL;
}

static void test_free_from_other_thread(void **state)
{
    (void)state;
    static idle_owner h;
    memset(&h, 0, sizeof h);
    ur_loop *mine = loop_new(0);
    assert_int_equal(ur_loop_tick(mine, 0), 0);
    assert_true(mine->ring.int_flags & 1);
    h.l = loop_new(0);
    assert_int_equal(pthread_barrier_init(&h.bar, NULL, 2), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, idle_owner_thread, &h), 0);
    pthread_barrier_wait(&h.bar);
    assert_int_equal(ur_loop_check_thread(h.l), -EXDEV);
    assert_int_equal(h.l->used, 0);
    /* Both registered their ring fd first in their own thread's context. */
    assert_int_equal(h.l->ring.enter_ring_fd, mine->ring.enter_ring_fd);
    ur_loop_free(h.l);
    pthread_barrier_wait(&h.bar);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(h.fail, 0);
    pthread_barrier_destroy(&h.bar);

    /* mine still enters the kernel through its registered ring fd. */
    assert_true(mine->ring.int_flags & 1);
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    bown o;
    bown_init(&o, mine);
    char c;
    assert_int_equal(ur_read(&o.own, 1, p[0], &c, 1, NULL), 0);
    assert_int_equal(write(p[1], "m", 1), 1);
    RUN_UNTIL(mine, o.ncomp == 1);
    assert_int_equal(o.res[0], 1);
    close(p[0]);
    close(p[1]);
    ur_loop_free(mine);
}

/* In a fork() child, a loop of the parent's (bound or not) refuses
 * everything with -ECHILD; the child can release its owners and free it
 * without touching the parent's ring (the parent's recv still completes
 * with the parent's data afterwards), and a loop of the child's own works,
 * before and after that free. Exit status: 0, or the failing line's. */
static int fork_child(ur_loop *l, ur_loop *unbound, bown *o, int fd, ttimer *tm)
{
    int fail = 0;
    CHECK(&fail, ur_loop_check_thread(l) == -ECHILD);
    CHECK(&fail, ur_loop_check_thread(unbound) == -ECHILD);
    CHECK(&fail, ur_loop_tick(l, 0) == -ECHILD);
    CHECK(&fail, ur_loop_tick(unbound, 0) == -ECHILD);
    CHECK(&fail, ur_loop_flush(l) == -ECHILD);
    CHECK(&fail, ur_loop_eventfd(l) == -ECHILD);
    unsigned queued = ur_loop_queued(l);
    char c;
    CHECK(&fail, ur_recv(&o->own, 7, fd, &c, 1, 0, NULL) == -ECHILD);
    CHECK(&fail, ur_loop_queued(l) == queued);
    CHECK(&fail, ur_cancel(l, (uint64_t)1 << 32) == -ECHILD);
    ttimer t = {0};
    ur_timer_init(&t.t, tt_fire);
    CHECK(&fail, ur_timer_start(l, &t.t, 0) == -ECHILD);

    /* The child's own loop: bound here, ring fd registered in the child's
     * context (at the index the parent's loop has in the parent's). */
    ur_loop *mine = NULL;
    const char *why;
    CHECK(&fail, ur_loop_new(NULL, &mine, &why) == 0);
    if (mine == NULL)
        return fail;
    CHECK(&fail, ur_loop_tick(mine, 0) == 0);
    CHECK(&fail, ur_loop_check_thread(mine) == 0);
    CHECK(&fail, mine->ring.enter_ring_fd == l->ring.enter_ring_fd);

    /* The child may stop a timer (and then free it): stop disarms here. */
    CHECK(&fail, ur_timer_armed(&tm->t));
    ur_timer_stop(l, &tm->t);
    CHECK(&fail, !ur_timer_armed(&tm->t));
    CHECK(&fail, ur_loop_next_timeout_ns(l) == -1);

    ur_owner_release(&o->own);   /* marked; completes in ur_loop_free */
    CHECK(&fail, o->released == 0);
    ur_loop_free(unbound);
    ur_loop_free(l);
    CHECK(&fail, o->ncomp == 1 && o->res[0] == -ECANCELED);
    CHECK(&fail, o->released == 1);

    int p[2];
    CHECK(&fail, pipe2(p, O_CLOEXEC) == 0);
    bown m;
    bown_init(&m, mine);
    CHECK(&fail, ur_read(&m.own, 1, p[0], &c, 1, NULL) == 0);
    CHECK(&fail, write(p[1], "k", 1) == 1);
    for (int i = 0; i < 100 && m.ncomp == 0; i++)
        CHECK(&fail, ur_loop_tick(mine, 2000000000LL) >= 0);
    CHECK(&fail, m.ncomp == 1 && m.res[0] == 1 && c == 'k');
    ur_loop_free(mine);
    close(p[0]);
    close(p[1]);
    return fail;
}

static void test_fork(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    ur_loop *unbound = loop_new(0);
    int efd = ur_loop_eventfd(l);
    assert_true(efd >= 0);
    int sv[2];
    sockpair(sv);
    static bown o;
    bown_init(&o, l);
    char c = 0;
    assert_int_equal(ur_recv(&o.own, 1, sv[1], &c, 1, 0, NULL), 0);
    assert_int_equal(ur_loop_tick(l, 0), 0);   /* bound, recv in the kernel */
    ttimer tm = {0};
    ur_timer_init(&tm.t, tt_fire);
    assert_int_equal(ur_timer_start(l, &tm.t, ur_now_ns() + 10000000000ull), 0);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int rc = fork_child(l, unbound, &o, sv[1], &tm);
        if (rc != 0)
            fprintf(stderr, "fork child failed at line %d\n", rc);
        /* exit, not _exit: under ASan the leak check runs in the child too
         * (it sees only blocks nothing points to; the copied stack still
         * points to the parent's, so o.released above is the real check). */
        exit(rc == 0 ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);

    /* The parent's loop is intact: the recv the child "canceled" is live. */
    assert_int_equal(ur_loop_check_thread(l), 0);
    assert_int_equal(o.ncomp, 0);
    assert_int_equal(write(sv[0], "p", 1), 1);
    RUN_UNTIL(l, o.ncomp == 1);
    assert_int_equal(o.res[0], 1);
    assert_int_equal(c, 'p');
    assert_true(ur_timer_armed(&tm.t));
    ur_timer_stop(l, &tm.t);
    ur_owner_release(&o.own);
    assert_int_equal(o.released, 1);
    ur_loop_free(l);
    ur_loop_free(unbound);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define EACH_MASK(f)                                                                      \
    cmocka_unit_test_prestate_setup_teardown(f, mask_setup, mask_teardown, &mask_full),     \
    cmocka_unit_test_prestate_setup_teardown(f, mask_setup, mask_teardown, &mask_no_defer), \
    cmocka_unit_test_prestate_setup_teardown(f, mask_setup, mask_teardown, &mask_plain),    \
    cmocka_unit_test_prestate_setup_teardown(f, mask_setup, mask_teardown, &mask_no_disabled)
        EACH_MASK(test_handover),
        EACH_MASK(test_free_unbound),
        EACH_MASK(test_free_unbound_callback_binds),
        EACH_MASK(test_free_from_other_thread),
        EACH_MASK(test_fork),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
