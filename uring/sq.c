/*
 * uring/sq.c -- the submission queue, below everything else in the engine:
 * taking an SQE (flushing the SQ to the kernel when it is full), submitting,
 * and queueing the cancel of a slot's operation. The loop, the ops, the
 * slots and the timers all call these; these call none of them.
 */
#include <errno.h>

#include "ur_internal.h"

/* Submit what is queued, if anything (a syscall only then), and count it. */
int ur__submit(ur_loop *l)
{
    if (io_uring_sq_ready(&l->ring) == 0)
        return 0;
    l->submits++;
    int r = io_uring_submit(&l->ring);
    ur__quiet_submitted(l);
    return r == -EINTR || r == -EAGAIN || r == -EBUSY ? 0 : r;
}

struct io_uring_sqe *ur__get_sqe(ur_loop *l, int *err)
{
    /* SQ full: flush it to the kernel and retry; a few times only, in case
     * the kernel cannot take the SQEs right now (-EAGAIN, -EBUSY). A loop
     * not bound yet is bound to the calling thread first (its ring is still
     * disabled): failing instead would break every program that queues
     * more ops than the SQ holds before its first tick, while only a
     * hand-over after that much preparation loses (with -EXDEV, a named
     * error, on the other thread). */
    for (int tries = 0; tries < 4; tries++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);
        if (sqe != NULL)
            return sqe;
        int r = ur__loop_enter(l);
        if (r == 0)
            r = ur__submit(l);
        if (r < 0) {
            *err = r;
            return NULL;
        }
    }
    *err = -EBUSY;
    return NULL;
}

int ur__cancel_slot(ur_loop *l, uint32_t idx)
{
    ur_slot *s = ur__slot(l, idx);
    if (s->cancel_sent)
        return 0;
    int err;
    struct io_uring_sqe *sqe = ur__get_sqe(l, &err);
    if (sqe == NULL)
        return err;
    io_uring_prep_cancel64(sqe, ur__udata(l, idx), 0);
    /* The cancel's own CQE (0, -ENOENT or -EALREADY) is of no interest. */
    ur__sqe_internal(l, sqe);
    s->cancel_sent = true;
    return 0;
}

