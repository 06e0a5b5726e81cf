/*
 * src/future.c -- futures: resolution (exactly once), callbacks, await,
 * gather, the as_completed iterator, sleep and to_thread.
 */
#include <string.h>

#include "internal.h"

struct myr_as_completed {
    myr_loop *loop;
    size_t pending;              /* added, not resolved yet */
    myr_future *ready_head, *ready_tail;
};

static const myr_error no_error;

myr_future *myr__future_new(myr_loop *loop, myr__fut_kind kind)
{
    myr_future *f = myr__calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->loop = loop;
    f->kind = (uint8_t)kind;
    f->status = MYR_EPENDING;
    ur_timer_init(&f->timer, NULL);
    return f;
}

static void free_value(myr_future *f)
{
    if (f->kind == MYR__FUT_CONNECT && f->val.conn != NULL)
        myr_conn_free(f->val.conn);
    else if (f->kind == MYR__FUT_RESULT)
        myr_result_free(f->val.result);
    f->val.ptr = NULL;
}

static void future_destroy(myr_future *f)
{
    free_value(f);
    myr__free(f->err);
    myr__free(f);
}

static void ac_push_ready(myr_as_completed *it, myr_future *f)
{
    f->ac_next = NULL;
    f->in_ready = 1;
    if (it->ready_tail)
        it->ready_tail->ac_next = f;
    else
        it->ready_head = f;
    it->ready_tail = f;
}

void myr__future_resolve(myr_future *f, int status, const myr_error *err)
{
    if (f == NULL || f->done)
        return;
    f->done = 1;
    f->status = status;
    if (f->loop != NULL)
        f->loop->resolved++;
    if (status != 0) {
        f->err = myr__malloc(sizeof *f->err);
        if (f->err != NULL) {
            if (err != NULL)
                *f->err = *err;
            else
                myr__error_set(f->err, status, 0, NULL, NULL);
        }
    }
    if (f->detached) {
        future_destroy(f);
        return;
    }
    if (f->ac != NULL) {
        myr_as_completed *it = f->ac;
        it->pending--;
        if (it->loop != NULL) {
            ac_push_ready(it, f);
        } else {   /* the iterator was freed while f was pending */
            f->ac = NULL;
            if (it->pending == 0)
                myr__free(it);
        }
    }
    if (f->cb != NULL)
        f->cb(f, f->cb_arg);   /* may free f: nothing after this */
}

myr_future *myr__future_failed(myr_loop *loop, myr__fut_kind kind, const myr_error *err)
{
    myr_future *f = myr__future_new(loop, kind);
    if (f != NULL)
        myr__future_resolve(f, err->code ? err->code : MYR_EINVAL, err);
    return f;
}

int myr_future_done(const myr_future *f) { return f != NULL && f->done; }
int myr_future_status(const myr_future *f) { return f == NULL ? MYR_EINVAL : f->status; }
myr_loop *myr_future_loop(const myr_future *f) { return f ? f->loop : NULL; }

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

myr_future *myr_promise_new(myr_loop *loop) { return myr__future_new(loop, MYR__FUT_PROMISE); }

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
    if (f->done && cb != NULL)
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
    ac_unlink(f);
    f->cb = NULL;
    if (f->done) {
        future_destroy(f);
    } else if (f->kind == MYR__FUT_SLEEP || f->kind == MYR__FUT_PROMISE) {
        ur_timer_stop(f->loop->ur, &f->timer);
        future_destroy(f);
    } else {
        f->detached = 1;   /* its operation resolves it later, which frees it */
    }
}

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
    return f->status;
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
    if (it == NULL || f == NULL || f->ac != NULL || f->loop != it->loop)
        return MYR_EINVAL;
    f->ac = it;
    if (f->done)
        ac_push_ready(it, f);
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

/* --------------------------------------------------------------- sleep */

static void sleep_fired(ur_timer *t)
{
    myr_future *f = (myr_future *)((char *)t - offsetof(myr_future, timer));
    myr__future_resolve(f, 0, NULL);
}

myr_future *myr_sleep(myr_loop *loop, unsigned ms)
{
    myr_future *f = myr__future_new(loop, MYR__FUT_SLEEP);
    if (f == NULL)
        return NULL;
    ur_timer_init(&f->timer, sleep_fired);
    int rc = ur_timer_start(loop->ur, &f->timer, ur_now_ns() + (uint64_t)ms * 1000000u);
    if (rc < 0) {
        myr_future_free(f);
        return NULL;
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
    myr__future_resolve(f, status, NULL);
}

myr_future *myr_to_thread(myr_loop *loop, void *(*fn)(void *), void *arg)
{
    if (loop == NULL || fn == NULL)
        return NULL;
    myr_future *f = myr__future_new(loop, MYR__FUT_THREAD);
    thread_job *tj = myr__calloc(1, sizeof *tj);
    if (f == NULL || tj == NULL) {
        myr__free(f);
        myr__free(tj);
        return NULL;
    }
    tj->job.fn = fn;
    tj->job.arg = arg;
    tj->job.done = thread_done;
    tj->fut = f;
    int rc = myr__pool_submit(loop, &tj->job);
    if (rc < 0) {
        myr__free(tj);
        myr_error e;
        myr__error_set(&e, rc, 0, NULL, "cannot start worker thread: %s", myr_strerror(rc));
        myr__future_resolve(f, rc, &e);
    }
    return f;
}
