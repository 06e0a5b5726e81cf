/*
 * src/thread_check.c -- who may use a loop: the engine's answer
 * (ur_loop_check_thread) turned into a named error that says what to do.
 * Below the loop and the futures, which both ask.
 */
#include <errno.h>

#include "internal.h"

int myr__loop_check(myr_loop *loop, myr_error *err)
{
    if (loop == NULL) {
        myr__error_set(err, MYR_EINVAL, 0, NULL, "the loop is NULL");
        return MYR_EINVAL;
    }
    if (loop->ur == NULL) {   /* its final callbacks run after the ring went */
        myr__error_set(err, MYR_ECLOSED, 0, NULL, "the loop is being freed");
        return MYR_ECLOSED;
    }
    int rc = ur_loop_check_thread(loop->ur);
    if (rc == 0 || (rc == -ECHILD && loop->discard))
        return 0;   /* (the engine itself still refuses every ring operation in a child) */
    if (rc == -ECHILD) {
        myr__error_set(err, MYR_EFORKED, 0, NULL,
                       "this loop was created before fork() and belongs to the parent process: "
                       "its io_uring and connections cannot be used in the child; create a new "
                       "loop (and new connections) in the child");
        return MYR_EFORKED;
    }
    if (rc == -EXDEV) {
        myr__error_set(err, MYR_ETHREAD, 0, NULL,
                       "this loop belongs to another thread (the first one that ran it): a loop, "
                       "its connections and futures are used from that one thread; hand a loop to "
                       "another thread only before it first runs, or run one loop per thread");
        return MYR_ETHREAD;
    }
    myr__error_set(err, rc, 0, NULL, "the loop cannot be used here: %s", myr_strerror(rc));
    return rc;
}

int myr__loop_enter(myr_loop *loop, myr_error *err)
{
    int rc = myr__loop_check(loop, err);
    if (rc != 0)
        return rc;
    if (loop->closing) {
        myr__error_set(err, MYR_ECLOSED, 0, NULL, "the loop is being freed (myr_loop_free was called)");
        return MYR_ECLOSED;
    }
    return 0;
}

int myr__loop_can_block(myr_loop *loop, myr_error *err)
{
    if (loop == NULL)
        return 0;
    int rc = myr__loop_check(loop, err);
    if (rc != 0)
        return rc;
    if (loop->running) {
        myr__error_set(err, MYR_EBUSY, 0, NULL,
                       "a blocking call cannot run the loop from inside one of its own callbacks "
                       "(it is already running): queue the operation and use myr_future_on_done, "
                       "or make the call from outside the callback");
        return MYR_EBUSY;
    }
    return 0;
}

