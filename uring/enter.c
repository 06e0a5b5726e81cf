/*
 * uring/enter.c -- the tick's one submit-and-wait syscall. Either the plain
 * wait for one completion (liburing), or a batched wait: up to `expect`
 * completions within min_wait_us, then whatever is there (the kernel's
 * min_wait_usec, IORING_FEAT_MIN_TIMEOUT, Linux 6.12). liburing 2.3 has no
 * call for the latter, so this enters the kernel itself.
 */
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ur_internal.h"

unsigned ur__feature_mask = ~0u;

/* liburing's private INT_FLAG_REG_RING: ring.enter_ring_fd is then an index
 * into the thread's registered ring fds (thread.c registers it). */
#define LIBURING_INT_FLAG_REG_RING 1u
/* An unlimited wait still needs a timeout for min_wait_usec to mean "then
 * whatever is there": without one the kernel ends the wait at min_wait
 * even with no completion. One hour; the caller's loop waits again. */
#define FOREVER_NS (3600ull * 1000000000ull)

void ur_loop_expect(ur_loop *l, unsigned n) { l->expect = n; }
unsigned ur_loop_min_wait_us(const ur_loop *l) { return l->min_wait_us; }
uint64_t ur_loop_batched_waits(const ur_loop *l) { return l->batched_waits; }

/* Publish the SQEs prepared since the last submit to the kernel (what
 * liburing's submit does before entering): the new SQ tail. Returns how
 * many SQEs the kernel has not consumed yet. No SQPOLL here. */
static unsigned flush_sq(ur_loop *l)
{
    struct io_uring_sq *sq = &l->ring.sq;
    unsigned tail = sq->sqe_tail;
    if (sq->sqe_head != tail) {
        sq->sqe_head = tail;
        io_uring_smp_store_release(sq->ktail, tail);
    }
    return tail - IO_URING_READ_ONCE(*sq->khead);
}

static int wait_batch(ur_loop *l, unsigned want, int64_t timeout_ns)
{
    uint64_t t = timeout_ns < 0 ? FOREVER_NS : (uint64_t)timeout_ns;
    struct __kernel_timespec ts = {.tv_sec = (long long)(t / 1000000000),
                                   .tv_nsec = (long long)(t % 1000000000)};
    struct io_uring_getevents_arg arg = {
        .sigmask = 0,
        .sigmask_sz = _NSIG / 8,
        .pad = l->min_wait_us,   /* min_wait_usec since Linux 6.12 */
        .ts = (uint64_t)(uintptr_t)&ts,
    };
    unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
    if (l->ring.int_flags & LIBURING_INT_FLAG_REG_RING)
        flags |= IORING_ENTER_REGISTERED_RING;
    unsigned submit = flush_sq(l);
    l->batched_waits++;
    long r = syscall(__NR_io_uring_enter, l->ring.enter_ring_fd, submit, want, flags, &arg,
                     sizeof arg);
    return r < 0 ? -errno : (int)r;
}

int ur__submit_and_wait(ur_loop *l, int64_t timeout_ns)
{
    if (io_uring_sq_ready(&l->ring) > 0)
        l->submits++;
    unsigned want = l->expect < UR_WAIT_MAX ? l->expect : UR_WAIT_MAX;
    l->expect = 0;   /* for one tick: see ur_loop_expect */
    int r;
    if (want > 1 && l->min_wait_us > 0 &&
        (timeout_ns < 0 || timeout_ns > (int64_t)l->min_wait_us * 1000)) {
        r = wait_batch(l, want, timeout_ns);
    } else {
        struct __kernel_timespec ts, *tsp = NULL;
        if (timeout_ns > 0) {
            ts.tv_sec = timeout_ns / 1000000000;
            ts.tv_nsec = timeout_ns % 1000000000;
            tsp = &ts;
        }
        struct io_uring_cqe *cqe;
        r = io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, tsp, NULL);
    }
    ur__quiet_submitted(l);
    if (r == -ETIME || r == -EINTR || r == -EAGAIN || r == -EBUSY)
        r = 0;
    return r;
}
