/*
 * uring/timer.c -- timers: a binary min-heap of ur_timer* per loop, ordered
 * by deadline (CLOCK_MONOTONIC ns), each timer knowing its heap index so stop
 * and re-arm are O(log n). No syscalls: ur_loop_tick() waits until the
 * nearest deadline and then calls ur__timers_run(). In external mode (the
 * loop's eventfd exists) nobody waits in the tick, so one kernel timeout
 * stands in for the heap: ur__timer_sync_kernel() keeps it armed no later
 * than the nearest deadline, and its CQE signals the eventfd.
 *
 * Measured on the target (6.18, liburing 2.3): IORING_OP_TIMEOUT with
 * IORING_TIMEOUT_ABS and no clock flag counts on CLOCK_MONOTONIC (armed at
 * clock_gettime(CLOCK_MONOTONIC) + 50 ms, the eventfd became readable
 * 50.07 ms later, CQE -ETIME); an ABS deadline already past completes at
 * once; IORING_TIMEOUT_UPDATE with ABS moves a pending timeout (5 s -> 30 ms:
 * fired at 30.07 ms, the update itself 0) and answers -ENOENT once the
 * timeout has completed. The timeout's completion signals the registered
 * eventfd in every configuration; without DEFER_TASKRUN the kernel also
 * interrupts the owner's epoll_wait (EINTR, twice) to run the task work
 * that posts the CQE, under DEFER_TASKRUN it does not.
 */
#include <errno.h>
#include <time.h>

#include "ur_internal.h"

#define NOT_ARMED ((size_t)-1)

uint64_t ur_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ur_timer_init(ur_timer *t, void (*fn)(ur_timer *))
{
    t->deadline_ns = 0;
    t->heap_index = NOT_ARMED;
    t->fn = fn;
}

static void place(ur_loop *l, size_t i, ur_timer *t)
{
    l->heap[i] = t;
    t->heap_index = i;
}

static void sift_up(ur_loop *l, size_t i)
{
    ur_timer *t = l->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (l->heap[p]->deadline_ns <= t->deadline_ns)
            break;
        place(l, i, l->heap[p]);
        i = p;
    }
    place(l, i, t);
}

static void sift_down(ur_loop *l, size_t i)
{
    ur_timer *t = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->nheap)
            break;
        if (c + 1 < l->nheap && l->heap[c + 1]->deadline_ns < l->heap[c]->deadline_ns)
            c++;
        if (t->deadline_ns <= l->heap[c]->deadline_ns)
            break;
        place(l, i, l->heap[c]);
        i = c;
    }
    place(l, i, t);
}

/* Restore the heap around index i after its deadline changed either way. */
static void fix(ur_loop *l, size_t i)
{
    if (i > 0 && l->heap[(i - 1) / 2]->deadline_ns > l->heap[i]->deadline_ns)
        sift_up(l, i);
    else
        sift_down(l, i);
}

int ur_timer_start(ur_loop *l, ur_timer *t, uint64_t deadline_ns)
{
    if (l == NULL || t == NULL || t->fn == NULL)
        return -EINVAL;
    int r = ur__loop_usable(l);
    if (r < 0)
        return r;
    t->deadline_ns = deadline_ns;
    if (t->heap_index != NOT_ARMED) {
        fix(l, t->heap_index);
        return 0;
    }
    if (l->nheap == l->heap_cap) {
        size_t cap = l->heap_cap ? l->heap_cap * 2 : 16;
        ur_timer **h = ur__realloc(l->heap, cap * sizeof *h);
        if (h == NULL)
            return -ENOMEM;
        l->heap = h;
        l->heap_cap = cap;
    }
    place(l, l->nheap++, t);
    sift_up(l, t->heap_index);
    return 0;
}

void ur_timer_stop(ur_loop *l, ur_timer *t)
{
    /* From another thread this would race with the owner: do nothing. In a
     * fork child the heap is the child's own copy and no ring is involved:
     * disarm, or a child that frees the timer leaves the heap pointing at
     * freed memory (ur_loop_free writes through it). */
    if (l == NULL || t == NULL || t->heap_index == NOT_ARMED || ur__loop_usable(l) == -EXDEV)
        return;
    size_t i = t->heap_index;
    t->heap_index = NOT_ARMED;
    ur_timer *last = l->heap[--l->nheap];
    if (i < l->nheap) {
        place(l, i, last);
        fix(l, i);
    }
}

uint64_t ur__timer_next(const ur_loop *l)
{
    return l->nheap ? l->heap[0]->deadline_ns : UINT64_MAX;
}

int64_t ur_loop_next_timeout_ns(const ur_loop *l)
{
    if (l == NULL || l->nheap == 0)
        return -1;
    uint64_t next = l->heap[0]->deadline_ns, now = ur_now_ns();
    if (next <= now)
        return 0;
    return next - now > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(next - now);
}

/* The kernel timeout is moved only when the nearest deadline got earlier
 * than the armed one. When it got later (the nearest timer stopped, or
 * fired and the next is further out) or there is no timer left, the armed
 * timeout is left alone: it fires early, once, the tick it wakes finds
 * nothing due and arms the right deadline (or nothing). One spurious
 * wakeup per stale deadline is cheaper than an SQE every time a timer
 * stops, which with a read timeout per query would be one per query. And
 * one call queues one SQE at most, however many timers started since the
 * last call: ur_timer_start() itself never queues anything.
 *
 * The kernel reads kt_ts when the SQE is submitted. Callers submit right
 * after this call; if that submit is put off (-EBUSY) and a later call
 * rewrites kt_ts, every pending SQE reads the newer deadline, which is
 * what kt_ns then says anyway. */
int ur__timer_sync_kernel(ur_loop *l)
{
    uint64_t next = ur__timer_next(l);
    if (next == UINT64_MAX || (l->kt_live && l->kt_ns <= next))
        return 0;
    int err;
    struct io_uring_sqe *sqe = ur__get_sqe(l, &err);
    if (sqe == NULL)
        return err;
    /* Deadlines beyond INT64_MAX ns (292 years) still make a valid
     * timespec: the kernel clamps the hrtimer to KTIME_MAX. */
    l->kt_ts.tv_sec = (long long)(next / 1000000000u);
    l->kt_ts.tv_nsec = (long long)(next % 1000000000u);
    /* CLOCK_MONOTONIC is the default clock of IORING_OP_TIMEOUT (BOOTTIME
     * and REALTIME need a flag) and the clock of ur_now_ns(). */
    if (l->kt_live) {
        /* Moves the armed timeout; if it fired meanwhile the update gets
         * -ENOENT (ignored) and its -ETIME CQE, which wakes the eventfd,
         * leads to a fresh one. */
        io_uring_prep_timeout_update(sqe, &l->kt_ts, UR_UDATA_DEADLINE, IORING_TIMEOUT_ABS);
        ur__sqe_internal(l, sqe);
    } else {
        io_uring_prep_timeout(sqe, &l->kt_ts, 0, IORING_TIMEOUT_ABS);
        io_uring_sqe_set_data64(sqe, UR_UDATA_DEADLINE);
        l->kt_live = true;
    }
    l->kt_ns = next;
    return 0;
}

int ur__timers_run(ur_loop *l)
{
    uint64_t now = ur_now_ns();
    /* At most as many runs as timers were armed: a timer that re-arms itself
     * for the past waits for the next tick instead of looping forever. */
    size_t budget = l->nheap;
    int n = 0;
    while (budget-- > 0 && l->nheap > 0 && l->heap[0]->deadline_ns <= now) {
        ur_timer *t = l->heap[0];
        ur_timer_stop(l, t);   /* popped before fn runs: fn may re-arm it */
        t->fn(t);
        n++;
    }
    return n;
}
