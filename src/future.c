/*
 * src/future.c -- futures: resolution (exactly once), the loop's lists of
 * futures (pending, the ready queue whose callbacks run after dispatch and
 * never inside the code that resolved the future, done), as_completed
 * bookkeeping, promises, sleep and to_thread. Waiting is in wait.c.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static const myr_error no_error;

/* ------------------------------------------------------- the loop's lists */

/* Every future of a live loop is on exactly one of its lists (f->where):
 * pending, ready (resolved, callback due) or done. All are doubly linked so
 * that freeing a future from anywhere (a callback freeing another future
 * that waits in the ready queue, say) is O(1) and leaves nothing dangling;
 * the done list lets myr_loop_free clear the loop pointer of the futures
 * that outlive it. */
static myr_future **list_head(myr_loop *loop, uint8_t where)
{
    return where == MYR__FL_PENDING ? &loop->pending
         : where == MYR__FL_READY   ? &loop->ready_head
                                    : &loop->done;
}

static void list_unlink(myr_future *f)
{
    if (f->where == MYR__FL_NONE)
        return;
    myr_loop *loop = f->loop;
    if (f->lprev)
        f->lprev->lnext = f->lnext;
    else
        *list_head(loop, f->where) = f->lnext;
    if (f->lnext)
        f->lnext->lprev = f->lprev;
    else if (f->where == MYR__FL_READY)
        loop->ready_tail = f->lprev;
    f->lnext = f->lprev = NULL;
    f->where = MYR__FL_NONE;
}

/* Push at the head (pending, done) or, for the ready queue, at the tail:
 * callbacks run in the order their futures resolved. */
static void list_push(myr_future *f, uint8_t where)
{
    myr_loop *loop = f->loop;
    myr_future **head = list_head(loop, where);
    f->where = where;
    if (where == MYR__FL_READY) {
        f->lnext = NULL;
        f->lprev = loop->ready_tail;
        if (loop->ready_tail)
            loop->ready_tail->lnext = f;
        else
            *head = f;
        loop->ready_tail = f;
        return;
    }
    f->lprev = NULL;
    f->lnext = *head;
    if (*head)
        (*head)->lprev = f;
    *head = f;
}

static void list_move(myr_future *f, uint8_t where)
{
    list_unlink(f);
    list_push(f, where);
}

void myr__loop_forget_conns(myr_loop *loop)
{
    myr_future *lists[3] = {loop->pending, loop->ready_head, loop->done};
    for (int i = 0; i < 3; i++)
        for (myr_future *f = lists[i]; f != NULL; f = f->lnext) {
            f->conn = NULL;
            if (f->kind == MYR__FUT_CONNECT)
                f->val.conn = NULL;   /* never taken: it is one of the loop's */
        }
}

static void ac_unlink(myr_future *f);
static void future_destroy(myr_future *f);

void myr__loop_forget_futures(myr_loop *loop)
{
    while (loop->done != NULL) {
        myr_future *f = loop->done;
        if (loop->discard) {   /* myr_loop_discard: the handles go too */
            ac_unlink(f);
            future_destroy(f);
            continue;
        }
        list_unlink(f);
        f->loop = NULL;
    }
}

void myr__loop_drain_ready(myr_loop *loop)
{
    /* Pop before calling: the callback may free f, free any other future
     * (which unlinks it), or resolve more futures (appended, run here too). */
    myr_future *f;
    while ((f = loop->ready_head) != NULL) {
        list_move(f, MYR__FL_DONE);
        if (f->cb != NULL && !loop->discard)   /* a discarding fork() child runs no callback */
            f->cb(f, f->cb_arg);
    }
}

/* -------------------------------------------------------------- lifetime */

/* Futures freed on a live loop wait here for its next ones (a query costs
 * no malloc/free for its future then); the loop frees them when it goes. */
#define MYR__FUTURES_KEEP 256u

myr_future *myr__future_new(myr_loop *loop, myr__fut_kind kind)
{
    myr_future *f;
    if (loop != NULL && loop->free_futs != NULL) {   /* reused: cannot fail */
        f = loop->free_futs;
        loop->free_futs = f->lnext;
        loop->n_free_futs--;
        memset(f, 0, sizeof *f);
    } else if ((f = myr__calloc(1, sizeof *f)) == NULL) {
        return NULL;
    }
    f->loop = loop;
    f->kind = (uint8_t)kind;
    f->status = MYR_EPENDING;
    ur_timer_init(&f->timer, NULL);
    if (loop != NULL)
        list_push(f, MYR__FL_PENDING);
    return f;
}

static void free_value(myr_future *f)
{
    if (f->kind == MYR__FUT_CONNECT && f->val.conn != NULL)
        f->val.conn->loop->conn_hooks->free(f->val.conn);   /* myr_conn_free */
    else if (f->kind == MYR__FUT_RESULT)
        myr_result_free(f->val.result);
    else if (f->val_free != NULL && f->val.ptr != NULL)
        f->val_free(f->val.ptr);
    f->val.ptr = NULL;
}

static void future_destroy(myr_future *f)
{
    list_unlink(f);
    free_value(f);
    myr__free(f->err);
    myr_loop *loop = f->loop;
    if (loop != NULL && loop->n_free_futs < MYR__FUTURES_KEEP) {
        f->lnext = loop->free_futs;
        loop->free_futs = f;
        loop->n_free_futs++;
        return;
    }
    myr__free(f);
}

void myr__loop_futures_free(myr_loop *loop)
{
    while (loop->free_futs != NULL) {
        myr_future *f = loop->free_futs;
        loop->free_futs = f->lnext;
        myr__free(f);
    }
    loop->n_free_futs = 0;
}

void myr__ac_push_ready(myr_as_completed *it, myr_future *f)
{
    f->ac_next = NULL;
    f->in_ready = 1;
    if (it->ready_tail)
        it->ready_tail->ac_next = f;
    else
        it->ready_head = f;
    it->ready_tail = f;
}

/* Status and error fixed; the future leaves the pending list. */
static void mark_done(myr_future *f, int status, const myr_error *err)
{
    f->done = 1;
    f->status = status;
    if (status != 0) {
        f->err = myr__malloc(sizeof *f->err);
        if (f->err != NULL) {
            if (err != NULL && err->code != 0)
                *f->err = *err;
            else
                myr__error_set(f->err, status, 0, NULL, NULL);
        }
    }
    /* MYR_ECLOSED means the application closed the connection: its handle
     * is invalid, so the future no longer names it. */
    if (status == MYR_ECLOSED)
        f->conn = NULL;
}

void myr__future_resolve(myr_future *f, int status, const myr_error *err)
{
    if (f == NULL || f->done)
        return;
    if (f->loop != NULL) {
        list_move(f, f->cb != NULL && !f->detached ? MYR__FL_READY : MYR__FL_DONE);
        f->loop->resolved++;
    }
    mark_done(f, status, err);
    if (f->detached) {
        future_destroy(f);
        return;
    }
    if (f->ac != NULL) {
        myr_as_completed *it = f->ac;
        it->pending--;
        if (it->loop != NULL) {
            myr__ac_push_ready(it, f);
        } else {   /* the iterator was freed while f was pending */
            f->ac = NULL;
            if (it->pending == 0)
                myr__free(it);
        }
    }
    /* With a loop, f waits in the ready queue (above) for run_once to drain
     * it; without one there is no later: call back now. */
    if (f->cb != NULL && f->loop == NULL)
        f->cb(f, f->cb_arg);   /* may free f: nothing after this */
}

myr_future *myr__future_failed(myr_loop *loop, myr__fut_kind kind, const myr_error *err)
{
    /* No loop: it is done before anyone could wait for it, and the loop may
     * not be ours to touch from here (another thread's, being freed). */
    (void)loop;
    myr_future *f = myr__future_new(NULL, kind);
    if (f == NULL)
        return NULL;
    mark_done(f, err != NULL && err->code != 0 ? err->code : MYR_EINVAL, err);
    return f;
}

static void cancel_pending(myr_loop *loop, myr_future *f, const myr_error *e)
{
    if (f->kind == MYR__FUT_SLEEP && loop->ur != NULL)
        ur_timer_stop(loop->ur, &f->timer);
    myr__future_resolve(f, MYR_ECANCELED, e);   /* no callback runs here */
}

void myr__loop_futures_end(myr_loop *loop, int all)
{
    myr_error e;
    myr__error_set(&e, MYR_ECANCELED, 0, NULL, "the loop was freed before this operation finished");
    if (all) {
        /* The head each time: freeing a detached future's value (a
         * connection) may resolve other futures of the list. */
        while (loop->pending != NULL)
            cancel_pending(loop, loop->pending, &e);
    } else {
        /* Resolving a sleep or a promise frees nothing else: next stays valid. */
        for (myr_future *f = loop->pending, *next; f != NULL; f = next) {
            next = f->lnext;
            if (f->kind == MYR__FUT_SLEEP || f->kind == MYR__FUT_PROMISE)
                cancel_pending(loop, f, &e);
        }
    }
    myr__loop_drain_ready(loop);
}

int myr_future_done(const myr_future *f) { return f != NULL && f->done; }
int myr_future_status(const myr_future *f) { return f == NULL ? MYR_EINVAL : f->status; }
myr_loop *myr_future_loop(const myr_future *f) { return f ? f->loop : NULL; }
myr_conn *myr_future_conn(const myr_future *f) { return f ? f->conn : NULL; }
void myr_future_set_data(myr_future *f, void *data)
{
    if (f != NULL)
        f->data = data;
}
void *myr_future_data(const myr_future *f) { return f ? f->data : NULL; }

const myr_error *myr_future_error(const myr_future *f)
{
    if (f == NULL || f->err == NULL) {
        /* A failure whose error record could not be allocated still reports its code. */
        static __thread myr_error oom;
        if (f != NULL && f->done && f->status != 0) {
            myr__error_set(&oom, f->status, 0, NULL, NULL);
            return &oom;
        }
        return &no_error;
    }
    return f->err;
}

myr_conn *myr_future_take_conn(myr_future *f)
{
    if (f == NULL || !f->done || f->kind != MYR__FUT_CONNECT)
        return NULL;
    myr_conn *c = f->val.conn;
    f->val.conn = NULL;
    return c;
}

myr_result *myr_future_take_result(myr_future *f)
{
    if (f == NULL || !f->done || f->kind != MYR__FUT_RESULT)
        return NULL;
    myr_result *r = f->val.result;
    f->val.result = NULL;
    return r;
}

void *myr_future_ptr(const myr_future *f)
{
    return f && f->done && (f->kind == MYR__FUT_THREAD || f->kind == MYR__FUT_PROMISE) ? f->val.ptr
                                                                                       : NULL;
}

/* A future that failed before it started: loop NULL, so that nothing of a
 * loop that must not be touched (another thread's, a parent process's, one
 * being freed) is. */
static myr_future *refused(myr__fut_kind kind, const myr_error *err)
{
    return myr__future_failed(NULL, kind, err);
}

myr_future *myr_promise_new(myr_loop *loop)
{
    myr_error e;
    if (myr__loop_enter(loop, &e) != 0)
        return refused(MYR__FUT_PROMISE, &e);
    return myr__future_new(loop, MYR__FUT_PROMISE);
}

int myr_promise_resolve(myr_future *f, void *value)
{
    if (f == NULL || f->kind != MYR__FUT_PROMISE || f->done)
        return MYR_EINVAL;
    f->val.ptr = value;
    myr__future_resolve(f, 0, NULL);
    return 0;
}

int myr_promise_fail(myr_future *f, int code, const char *message)
{
    if (f == NULL || f->kind != MYR__FUT_PROMISE || f->done || code >= 0)
        return MYR_EINVAL;
    myr_error e;
    myr__error_set(&e, code, 0, NULL, "%s", message ? message : "");
    myr__future_resolve(f, code, &e);
    return 0;
}

void myr_future_on_done(myr_future *f, myr_future_cb cb, void *arg)
{
    if (f == NULL)
        return;
    f->cb = cb;
    f->cb_arg = arg;
    if (!f->done)
        return;
    /* Resolved already: call at once, and only once (if it was waiting in
     * the ready queue with an earlier callback, that one is replaced). */
    if (f->where == MYR__FL_READY)
        list_move(f, MYR__FL_DONE);
    if (cb != NULL)
        cb(f, arg);
}

static void ac_unlink(myr_future *f)
{
    myr_as_completed *it = f->ac;
    if (it == NULL)
        return;
    if (!f->in_ready) {
        it->pending--;
        if (it->loop == NULL && it->pending == 0)
            myr__free(it);   /* freed iterator: the last watcher releases it */
    } else {
        myr_future **pp = &it->ready_head, *prev = NULL;
        while (*pp != f) {
            prev = *pp;
            pp = &(*pp)->ac_next;
        }
        *pp = f->ac_next;
        if (it->ready_tail == f)
            it->ready_tail = prev;
    }
    f->ac = NULL;
    f->in_ready = 0;
}

void myr_future_free(myr_future *f)
{
    if (f == NULL)
        return;
    /* A future is on its loop's lists: from a thread (or fork() child) that
     * may not use the loop, touching them would race with its owner. Leak
     * rather than corrupt; the mistake is the caller's (myring.h, Threads). */
    int rc = f->loop != NULL ? myr__loop_check(f->loop, NULL) : 0;
    if (rc == MYR_ETHREAD || rc == MYR_EFORKED)
        return;
    ac_unlink(f);
    f->cb = NULL;
    if (f->done) {
        future_destroy(f);   /* leaves the ready queue if it waited there */
    } else if (f->kind == MYR__FUT_SLEEP || f->kind == MYR__FUT_PROMISE) {
        ur_timer_stop(f->loop->ur, &f->timer);
        future_destroy(f);
    } else {
        f->detached = 1;   /* its operation resolves it later, which frees it */
    }
}

/* --------------------------------------------------------------- sleep */

static void sleep_fired(ur_timer *t)
{
    myr_future *f = (myr_future *)((char *)t - offsetof(myr_future, timer));
    myr__future_resolve(f, 0, NULL);
}

myr_future *myr_sleep(myr_loop *loop, unsigned ms)
{
    myr_error e;
    if (myr__loop_enter(loop, &e) != 0)
        return refused(MYR__FUT_SLEEP, &e);
    myr_future *f = myr__future_new(loop, MYR__FUT_SLEEP);
    if (f == NULL)
        return NULL;
    ur_timer_init(&f->timer, sleep_fired);
    int rc = ur_timer_start(loop->ur, &f->timer, ur_now_ns() + (uint64_t)ms * 1000000u);
    if (rc < 0) {
        myr__error_set(&e, rc == -ENOMEM ? MYR_ENOMEM : rc, 0, NULL, "cannot start a timer: %s",
                       myr_strerror(rc));
        myr__future_resolve(f, e.code, &e);
    }
    return f;
}

/* ------------------------------------------------------------ to_thread */

typedef struct thread_job {
    myr__job job;
    myr_future *fut;
} thread_job;

static void thread_done(myr__job *job)
{
    thread_job *tj = (thread_job *)job;
    myr_future *f = tj->fut;
    int status = job->status;
    f->val.ptr = job->ret;
    myr__free(tj);
    myr_error e;
    if (status == MYR_ECANCELED)
        myr__error_set(&e, status, 0, NULL, "the loop was freed before the function could run");
    myr__future_resolve(f, status, status == MYR_ECANCELED ? &e : NULL);
}

myr_future *myr_to_thread(myr_loop *loop, void *(*fn)(void *), void *arg)
{
    myr_error e;
    if (myr__loop_enter(loop, &e) != 0)
        return refused(MYR__FUT_THREAD, &e);
    if (fn == NULL) {
        myr__error_set(&e, MYR_EINVAL, 0, NULL, "myr_to_thread: fn is NULL");
        return refused(MYR__FUT_THREAD, &e);
    }
    myr_future *f = myr__future_new(loop, MYR__FUT_THREAD);
    if (f == NULL)
        return NULL;
    thread_job *tj = myr__calloc(1, sizeof *tj);
    if (tj == NULL) {
        myr__error_set(&e, MYR_ENOMEM, 0, NULL, "out of memory for a worker job");
        myr__future_resolve(f, MYR_ENOMEM, &e);
        return f;
    }
    tj->job.fn = fn;
    tj->job.arg = arg;
    tj->job.done = thread_done;
    tj->fut = f;
    int rc = myr__pool_submit(loop, &tj->job);
    if (rc < 0) {
        myr__free(tj);
        myr__error_set(&e, rc, 0, NULL, "cannot start a worker thread: %s", myr_strerror(rc));
        myr__future_resolve(f, rc, &e);
    }
    return f;
}
