/*
 * src/thread_check.c -- who may use a loop: the engine's answer
 * (ur_loop_check_thread) turned into a named error that says what to do.
 * Below the loop and the futures, which both ask.
 */
#include <errno.h>
#include <pthread.h>

#include "internal.h"

_Thread_local char myr__tls_self __attribute__((tls_model("initial-exec")));
unsigned myr__fork_gen;
static int g_atfork_ok;
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

/* In the child, where only the forking thread runs. */
static void on_fork_child(void) { myr__fork_gen++; }
static void install_atfork(void) { g_atfork_ok = pthread_atfork(NULL, NULL, on_fork_child) == 0; }

void myr__thread_init(void) { (void)pthread_once(&g_atfork_once, install_atfork); }

void myr__loop_note_owner(myr_loop *loop)
{
    /* Without the fork hook a child could not be told apart: no short way. */
    if (g_atfork_ok) {
        loop->owner_self = myr__thread_self();
        loop->owner_gen = myr__fork_gen;
    }
}

int myr__loop_check_full(myr_loop *loop, myr_error *err)
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

