/*
 * uring/loop.c -- the loop: ring setup with feature fallbacks (created
 * disabled, bound to its thread by thread.c), the tick (one submit + wait
 * (enter.c), reap every CQE, run timers), SQ-full flushing, the registered eventfd and
 * external mode's end-of-tick submit, and teardown (also in a fork child).
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ur_internal.h"

#define WANT_FLAGS (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | \
                    IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |   \
                    IORING_SETUP_SUBMIT_ALL | IORING_SETUP_R_DISABLED |        \
                    IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP)
/* These make the creating task the ring's only issuer unless the ring
 * starts disabled (the enabling task is then the issuer): without
 * R_DISABLED they would forbid handing the loop to another thread. */
#define ISSUER_FLAGS (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN)
#define REAP_BATCH 64
#define FREE_DRAIN_NS 2000000000ull   /* ur_loop_free waits this long at most */

static const char *setup_why(int err)
{
    switch (err) {
    case -EPERM:
        return "io_uring is not available: io_uring_setup was refused "
               "(seccomp filter or kernel.io_uring_disabled)";
    case -ENOSYS:
        return "io_uring is not available: the kernel has no io_uring_setup "
               "(too old, built without it, or blocked by a seccomp filter)";
    case -ENOMEM:
        return "io_uring setup failed: out of memory or locked memory (RLIMIT_MEMLOCK)";
    case -EMFILE:
    case -ENFILE:
        return "io_uring setup failed: too many open files";
    default:
        return "io_uring setup failed";
    }
}

unsigned ur__setup_mask = ~0u;

int ur_loop_new(const ur_loop_opts *opts, ur_loop **out, const char **why)
{
    if (why != NULL)
        *why = NULL;
    if (out == NULL)
        return -EINVAL;
    *out = NULL;
    unsigned sq = opts != NULL && opts->sq_entries != 0 ? opts->sq_entries : 256;
    if (sq > 32768)
        sq = 32768;   /* the kernel's maximum; CLAMP would do it too */

    ur_loop *l = ur__malloc(sizeof *l);
    if (l == NULL)
        return -ENOMEM;
    memset(l, 0, sizeof *l);
    l->evfd = -1;
    l->free_head = UR_NO_SLOT;
    ur__thread_init(l);

    /* Older kernels reject flags they do not know with -EINVAL: drop them one
     * group at a time, newest first (DEFER_TASKRUN needs SINGLE_ISSUER;
     * R_DISABLED, 5.10, predates both). Each configuration was checked on
     * the target kernel: the hand-over tests run under them. */
    static const unsigned drop[] = {
        0,
        IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_SINGLE_ISSUER,
        IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
        IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_R_DISABLED,
        IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP,
    };
    unsigned flags = WANT_FLAGS & ur__setup_mask;
    if (!(flags & IORING_SETUP_R_DISABLED))
        flags &= ~ISSUER_FLAGS;
    int r = -EINVAL;
    for (size_t i = 0; i < sizeof drop / sizeof drop[0] && r == -EINVAL; i++) {
        flags &= ~drop[i];
        struct io_uring_params p;
        memset(&p, 0, sizeof p);
        p.flags = flags;
        p.cq_entries = 4 * sq;
        r = io_uring_queue_init_params(sq, &l->ring, &p);
    }
    if (r < 0) {
        ur__free(l);
        if (why != NULL)
            *why = setup_why(r);
        return r;
    }
    l->setup_flags = flags;
    if (opts != NULL && (l->ring.features & ur__feature_mask & IORING_FEAT_MIN_TIMEOUT))
        l->min_wait_us = opts->min_wait_us;
    /* No io_uring_register_ring_fd() here: the registration belongs to the
     * registering thread, and this one may not be the one that runs the
     * loop (thread.c registers it when the loop is bound). */
    *out = l;
    return 0;
}

int ur_loop_flush(ur_loop *loop)
{
    if (loop == NULL)
        return -EINVAL;
    int r = ur__loop_enter(loop);
    if (r < 0)
        return r;
    if (loop->evfd >= 0)
        (void)ur__timer_sync_kernel(loop);   /* no SQE now: the next call retries */
    r = ur__submit(loop);
    return r < 0 ? r : 0;
}

/* Is there work the kernel holds back until we enter it: CQEs in the
 * overflow list, or (COOP/DEFER_TASKRUN) task work that will post CQEs? */
static bool kernel_has_more(const ur_loop *l)
{
    return IO_URING_READ_ONCE(*l->ring.sq.kflags) & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN);
}

static int reap_cqes(ur_loop *l);

/* Quiet sends that were submitted and posted no failure have succeeded:
 * report them (after the CQEs, so a failure is seen first). */
static int quiet_done(ur_loop *l)
{
    uint32_t k = l->nqsub;
    int n = 0;
    for (uint32_t i = 0; i < k; i++) {   /* callbacks may append: index afresh */
        uint64_t ud = l->qops[i];
        ur_slot *s = ur__slot_lookup(l, ud);
        if (s != NULL && s->quiet)   /* else its failure completed it */
            n += ur__dispatch(l, ud, (int)s->qlen, 0);
    }
    memmove(l->qops, l->qops + k, (l->nq - k) * sizeof *l->qops);
    l->nq -= k;
    l->nqsub -= k;
    return n;
}

/* Dispatch every CQE, including those behind a CQ overflow, then the
 * successes of quiet sends. The CQEs are copied out and the CQ advanced
 * before any callback runs, so callbacks may queue ops (even flushing a
 * full SQ), release owners, or start timers. */
static int reap(ur_loop *l)
{
    int n = 0;
    for (;;) {
        n += reap_cqes(l);
        if (l->nqsub == 0)
            return n;
        n += quiet_done(l);
    }
}

static int reap_cqes(ur_loop *l)
{
    struct {
        uint64_t ud;
        int32_t res;
        uint32_t flags;
    } batch[REAP_BATCH];
    int n = 0;
    for (;;) {
        if (io_uring_cq_ready(&l->ring) == 0) {
            if (!kernel_has_more(l))
                break;
            /* Flushes the overflow list into the CQ and runs deferred task
             * work (IORING_FEAT_NODROP: nothing was lost). */
            int r = io_uring_get_events(&l->ring);
            if ((r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) ||
                io_uring_cq_ready(&l->ring) == 0)
                break;
        }
        unsigned head, got = 0;
        struct io_uring_cqe *cqe;
        io_uring_for_each_cqe(&l->ring, head, cqe) {
            batch[got].ud = cqe->user_data;
            batch[got].res = cqe->res;
            batch[got].flags = cqe->flags;
            if (++got == REAP_BATCH)
                break;
        }
        io_uring_cq_advance(&l->ring, got);
        for (unsigned i = 0; i < got; i++)
            n += ur__dispatch(l, batch[i].ud, batch[i].res, batch[i].flags);
    }
    return n;
}

/* Clear the eventfd after reaping, so a level-triggered epoll does not spin.
 * Under DEFER_TASKRUN the kernel signals it twice per batch: when it queues
 * completion task work and again when our get_events posts the CQEs; so
 * clearing before reaping would leave it readable. Work that became pending
 * after reap() is not lost: the kernel sets IORING_SQ_TASKRUN (or posts a
 * CQE) before signalling, so if we see either after the read we signal the
 * eventfd ourselves and the external loop comes back. */
static void rearm_eventfd(ur_loop *l)
{
    uint64_t v;
    (void)!read(l->evfd, &v, sizeof v);
    if (io_uring_cq_ready(&l->ring) > 0 || kernel_has_more(l)) {
        v = 1;
        (void)!write(l->evfd, &v, sizeof v);
    }
}

int ur_loop_tick(ur_loop *l, int64_t timeout_ns)
{
    if (l == NULL)
        return -EINVAL;
    int r = ur__loop_enter(l);
    if (r < 0)
        return r;
    if (l->evfd >= 0)
        (void)ur__timer_sync_kernel(l);   /* timers started since the last flush */
    uint64_t next = ur__timer_next(l);
    if (next != UINT64_MAX) {
        uint64_t now = ur_now_ns();
        uint64_t until = next > now ? next - now : 0;
        if (until > INT64_MAX)
            until = INT64_MAX;
        if (timeout_ns < 0 || (int64_t)until < timeout_ns)
            timeout_ns = (int64_t)until;
    }
    /* Nothing in flight and no timer: waiting could only hang (a quiet send
     * posts nothing when it succeeds: its success is reported after the
     * submit, without waiting). */
    if (timeout_ns < 0 && l->used == l->quiet)
        timeout_ns = 0;
    if (timeout_ns == 0 || io_uring_cq_ready(&l->ring) > 0) {
        l->expect = 0;   /* ur_loop_expect is for one tick */
        /* Poll. Under DEFER_TASKRUN, completions wait as task work until we
         * enter the kernel with GETEVENTS; the kernel then sets
         * IORING_SQ_TASKRUN (and signals the eventfd), and reap() sees the
         * flag and calls io_uring_get_events(): no syscall when idle. */
        r = ur__submit(l);
    } else {
        r = ur__submit_and_wait(l, timeout_ns);   /* enter.c: maybe batched */
    }
    if (r < 0)
        return r;
    int n = reap(l);
    n += ur__timers_run(l);
    if (l->evfd >= 0) {   /* read again: a callback may have just created it */
        /* Nobody else will submit before the caller waits on the eventfd
         * again: what callbacks and timers queued, and the kernel timeout
         * for the (maybe new) nearest deadline, must reach the kernel now,
         * or nothing would ever wake the fd for them. A failure here shows
         * again at the next flush or tick, which retries. */
        (void)ur__timer_sync_kernel(l);
        (void)ur__submit(l);
        rearm_eventfd(l);
    }
    return n;
}

int ur_loop_eventfd(ur_loop *l)
{
    if (l == NULL)
        return -EINVAL;
    /* Before the loop is bound this registers with the disabled ring, which
     * the kernel accepts from the creating thread (thread.c). */
    int r = ur__loop_usable(l);
    if (r < 0)
        return r;
    if (l->evfd >= 0)
        return l->evfd;
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return -errno;
    r = io_uring_register_eventfd(&l->ring, fd);
    if (r < 0) {
        close(fd);
        return r;
    }
    l->evfd = fd;
    return fd;
}

unsigned ur_loop_queued(const ur_loop *l) { return io_uring_sq_ready(&l->ring); }
uint64_t ur_loop_submits(const ur_loop *l) { return l->submits; }
unsigned ur_loop_setup_flags(const ur_loop *l) { return l->setup_flags; }

/* Complete every counted op with -ECANCELED without asking the kernel: for
 * ops that never reached it (the loop was never bound, so nothing was ever
 * submitted) or whose ring is the parent's (fork child). Their SQEs stay in
 * the SQ, unsubmitted for good: l->freeing keeps a callback's tick or flush
 * from binding the loop now (ur__loop_bind), which would submit them for
 * ops already reported canceled. Callbacks may queue more ops (they land
 * in the SQ too); a few rounds, then whatever is left stays uncompleted. */
static void cancel_in_user_space(ur_loop *l)
{
    for (int round = 0; round < 8 && l->used > 0; round++) {
        uint32_t total = l->nchunks << UR_CHUNK_SHIFT;
        for (uint32_t i = 0; i < total; i++)
            if (ur__slot(l, i)->owner != NULL)
                (void)ur__dispatch(l, ur__udata(l, i), -ECANCELED, 0);
    }
}

/* Cancel everything and wait (bounded) for the final CQEs, so that no op
 * still writes into an owner's buffer once its on_release has run.
 * Callbacks may queue more ops while we drain: cancel those too. */
static void drain(ur_loop *l)
{
    uint64_t end = ur_now_ns() + FREE_DRAIN_NS;
    while (l->used > 0) {
        uint32_t total = l->nchunks << UR_CHUNK_SHIFT;
        for (uint32_t i = 0; i < total; i++)
            if (ur__slot(l, i)->owner != NULL)
                (void)ur__cancel_slot(l, i);
        uint64_t now = ur_now_ns();
        if (now >= end)
            break;
        uint64_t left = end - now;
        struct __kernel_timespec ts = {.tv_sec = (long long)(left / 1000000000),
                                       .tv_nsec = (long long)(left % 1000000000)};
        struct io_uring_cqe *cqe;
        int r = io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, &ts, NULL);
        ur__quiet_submitted(l);
        if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY)
            break;
        reap(l);
    }
}

void ur_loop_free(ur_loop *l)
{
    if (l == NULL)
        return;
    switch (ur_loop_check_thread(l)) {
    case 0:
        l->freeing = true;
        if (atomic_load_explicit(&l->owner, memory_order_relaxed) == 0)
            cancel_in_user_space(l);   /* queued ops are only in the SQ */
        else
            drain(l);
        break;
    case -ECHILD:
        /* The parent's requests go on in the parent; here only our copies
         * of the memory, mappings and fds are freed. The registered ring
         * fd index is the parent thread's: forget it (see ur__forget_ring_fd). */
        cancel_in_user_space(l);
        ur__forget_ring_fd(l);
        break;
    default:   /* -EXDEV: another thread owns the ring and runs its ops */
        if (l->used > 0)
            return;   /* see ur.h: leak rather than let the kernel write into freed memory */
        ur__forget_ring_fd(l);
        break;
    }
    /* Exiting the ring cancels whatever is left in the kernel. */
    io_uring_queue_exit(&l->ring);
    if (l->evfd >= 0)
        close(l->evfd);
    ur__slots_free(l);
    ur__bufrings_free(l);
    ur__free(l->qops);
    for (size_t i = 0; i < l->nheap; i++)
        l->heap[i]->heap_index = (size_t)-1;   /* ur_timer_armed() stays truthful */
    ur__free(l->heap);
    ur__free(l);
}
