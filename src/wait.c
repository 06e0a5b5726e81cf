/*
 * src/wait.c -- waiting for futures: myr_await, myr_gather and the
 * as_completed iterator. Each runs ticks of the futures' loop
 * (myr_loop_run_once) until what it waits for has resolved; from inside a
 * callback of that loop they fail with MYR_EBUSY (see myring.h).
 */
#include "internal.h"

/* ------------------------------------------------------------- waiting */

/* Milliseconds left until deadline (ns), for run_once; -1 = no deadline. */
static int ms_left(uint64_t deadline)
{
    if (deadline == 0)
        return -1;
    uint64_t now = ur_now_ns();
    if (now >= deadline)
        return 0;
    uint64_t ms = (deadline - now + 999999) / 1000000;
    return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

static uint64_t deadline_from(int timeout_ms)
{
    return timeout_ms < 0 ? 0 : ur_now_ns() + (uint64_t)timeout_ms * 1000000u;
}

/* When a wait returns, the callbacks of done futures have run: a wait that
 * had nothing to wait for (its futures were resolved by calls made outside
 * the loop, myr_conn_free or myr_promise_resolve, say) runs the due ones.
 * Not from inside a callback (the loop is running), nor on a thread that may
 * not use the loop, nor once it was freed (then f->loop is NULL). */
static void run_due(myr_loop *loop)
{
    if (loop != NULL && myr__loop_check(loop, NULL) == 0 && loop->ready_head != NULL && !loop->running)
        myr_loop_run_once(loop, 0);
}

int myr_await(myr_future *f, int timeout_ms)
{
    if (f == NULL)
        return MYR_EINVAL;
    uint64_t deadline = deadline_from(timeout_ms);
    while (!f->done) {
        int left = ms_left(deadline);
        if (left == 0 && deadline != 0)
            return MYR_ETIMEDOUT;
        int rc = myr_loop_run_once(f->loop, left);
        if (rc < 0)
            return rc;
    }
    int status = f->status;
    run_due(f->loop);   /* a callback may free f */
    return status;
}

int myr_gather(myr_future *const *fs, size_t n, int timeout_ms)
{
    uint64_t deadline = deadline_from(timeout_ms);
    size_t i = 0;
    while (i < n) {
        if (fs[i] == NULL)
            return MYR_EINVAL;
        if (fs[i]->done) {
            i++;
            continue;
        }
        int left = ms_left(deadline);
        if (left == 0 && deadline != 0)
            return MYR_ETIMEDOUT;
        int rc = myr_loop_run_once(fs[i]->loop, left);
        if (rc < 0)
            return rc;
    }
    /* They share a loop (a callback run here may free any of them). */
    myr_loop *loop = NULL;
    for (i = 0; i < n && loop == NULL; i++)
        loop = fs[i]->loop;
    run_due(loop);
    return 0;
}

myr_as_completed *myr_as_completed_new(myr_loop *loop)
{
    myr_as_completed *it = myr__calloc(1, sizeof *it);
    if (it != NULL)
        it->loop = loop;
    return it;
}

int myr_as_completed_add(myr_as_completed *it, myr_future *f)
{
    /* A future that failed before it had a loop (myr_connect(NULL, ...), a
     * call from the wrong thread) is welcome: it is handed back at once. */
    if (it == NULL || f == NULL || f->ac != NULL || it->loop == NULL ||
        (f->loop != it->loop && !(f->loop == NULL && f->done)))
        return MYR_EINVAL;
    f->ac = it;
    if (f->done)
        myr__ac_push_ready(it, f);
    else
        it->pending++;
    return 0;
}

size_t myr_as_completed_pending(const myr_as_completed *it)
{
    size_t n = it ? it->pending : 0;
    for (myr_future *f = it ? it->ready_head : NULL; f; f = f->ac_next)
        n++;
    return n;
}

myr_future *myr_as_completed_next(myr_as_completed *it, int timeout_ms, int *status)
{
    if (status)
        *status = 0;
    if (it == NULL) {
        if (status)
            *status = MYR_EINVAL;
        return NULL;
    }
    uint64_t deadline = deadline_from(timeout_ms);
    while (it->ready_head == NULL) {
        if (it->pending == 0)
            return NULL;
        int left = ms_left(deadline);
        if (left == 0 && deadline != 0) {
            if (status)
                *status = MYR_ETIMEDOUT;
            return NULL;
        }
        int rc = myr_loop_run_once(it->loop, left);
        if (rc < 0) {
            if (status)
                *status = rc;
            return NULL;
        }
    }
    myr_future *f = it->ready_head;
    it->ready_head = f->ac_next;
    if (it->ready_head == NULL)
        it->ready_tail = NULL;
    f->ac = NULL;
    f->ac_next = NULL;
    f->in_ready = 0;
    run_due(f->loop);
    return f;
}

void myr_as_completed_free(myr_as_completed *it)
{
    if (it == NULL)
        return;
    /* Futures stay with the caller; forget that they were watched. */
    for (myr_future *f = it->ready_head, *n; f; f = n) {
        n = f->ac_next;
        f->ac = NULL;
        f->in_ready = 0;
        f->ac_next = NULL;
    }
    if (it->pending) {
        /* Pending futures still point here: the iterator becomes a
         * tombstone (loop NULL) that the last of them frees. */
        it->ready_head = it->ready_tail = NULL;
        it->loop = NULL;
        return;
    }
    myr__free(it);
}

