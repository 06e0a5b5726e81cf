/*
 * src/loop.c -- myr_loop: the engine's ring plus the worker pool, the list
 * of connections, the pre-submit pass that turns every connection's queued
 * commands into one send each before the tick's single submit, and
 * run_once's order: tick (completions parsed, futures marked done), hand
 * deferred releases to the engine, drain the ready queue (callbacks), give
 * parked connections their turn (streaming batches), start what the
 * callbacks queued. Also which thread may use a loop, and freeing
 * a loop from one of its own callbacks (deferred until run_once returns).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "internal.h"
#include "pkcache.h"

myr_loop *myr_loop_new(const myr_loop_opts *opts, myr_error *err)
{
    myr_loop *loop = myr__calloc(1, sizeof *loop);
    if (loop == NULL) {
        myr__error_set(err, MYR_ENOMEM, 0, NULL, NULL);
        return NULL;
    }
    myr__thread_init();
    ur_loop_opts uo = {.sq_entries = opts && opts->sq_entries ? opts->sq_entries : 256,
                       .min_wait_us = MYR_BATCH_WAIT_DEFAULT_US};
    if (opts != NULL && opts->batch_wait_us != 0)
        uo.min_wait_us = opts->batch_wait_us < 0 ? 0 : (unsigned)opts->batch_wait_us;
    loop->pool_threads = opts ? opts->threads : 0;
    const char *why = NULL;
    int rc = ur_loop_new(&uo, &loop->ur, &why);
    if (rc < 0) {
        if (rc == -EPERM || rc == -ENOSYS)
            myr__error_set(err, MYR_EURING, 0, NULL, "%s", why ? why : "io_uring is unavailable");
        else
            myr__error_set(err, rc == -ENOMEM ? MYR_ENOMEM : rc, 0, NULL,
                           "cannot create the io_uring: %s", myr_strerror(rc));
        myr__free(loop);
        return NULL;
    }
    return loop;
}

/* ------------------------------------------------------------------ free */

/* The real free. Everything still pending resolves and every callback
 * runs (with waits refused: running is set), before the memory goes. */
static void loop_destroy(myr_loop *loop)
{
    loop->closing = 1;
    loop->running = 1;
    if (loop->conn_hooks != NULL)
        loop->conn_hooks->end(loop);   /* side connections' bookkeeping (cancel.c) */
    myr__loop_forget_conns(loop);
    while (loop->conns != NULL)
        loop->conn_hooks->free(loop->conns);   /* myr_conn_free: unlinks itself; its futures
                                                  fail with MYR_ECLOSED */
    myr__loop_release_deferred(loop);
    myr__pool_free(loop->pool);       /* jobs come back: their futures resolve */
    loop->pool = NULL;
    myr__loop_futures_end(loop, 0);   /* sleeps and promises; then the callbacks */
    /* Drains what is still in flight: connections closed earlier are freed
     * now, and their close futures resolve. */
    ur_loop_free(loop->ur);
    loop->ur = NULL;
    myr__loop_futures_end(loop, 1);   /* anything left, and its callbacks */
    if (loop->tls_free != NULL)
        loop->tls_free(loop->tls);    /* TLS contexts and sessions (no connection left) */
    myr__loop_forget_futures(loop);
    myr__loop_futures_free(loop);
    myr__loop_results_end(loop);
    while (loop->n_iobufs > 0)
        myr__free(loop->iobufs[--loop->n_iobufs]);
    myr__free(loop->iobufs);
    while (loop->n_iosmall > 0)
        myr__free(loop->iosmall[--loop->n_iosmall]);
    myr__free(loop->iosmall);
    myr__pkcache_free(loop->pkcache);
    myr__free(loop);
}

void myr_loop_free(myr_loop *loop)
{
    if (loop == NULL || loop->closing)
        return;   /* a second call from a callback while it is being freed */
    /* From another thread or a fork() child the ring is not ours to touch
     * (the kernel could still write into buffers we would free): leave it. */
    if (myr__loop_check(loop, NULL) != 0)
        return;
    if (loop->running) {
        /* Called from one of its callbacks (myr_conn_free on a connection
         * with a private loop does this): run_once frees it on its way out. */
        loop->closing = 1;
        loop->free_requested = 1;
        return;
    }
    loop_destroy(loop);
}

void myr_loop_discard(myr_loop *loop)
{
    if (loop == NULL || loop->closing)
        return;
    int rc = myr__loop_check(loop, NULL);
    if (rc == 0) {   /* the owner: nothing was inherited, an ordinary free */
        myr_loop_free(loop);
        return;
    }
    if (rc != MYR_EFORKED)
        return;   /* another thread's loop: not ours to touch */
    /* A fork() child: free this process's copies. The engine refuses every
     * ring operation here (nothing is submitted, canceled or waited for),
     * sockets are closed without shutdown() and without COM_QUIT, and no
     * callback runs; the parent's ring, sockets and futures go on. */
    loop->discard = 1;
    loop_destroy(loop);
}

int myr__loop_buf_take(myr_loop *loop, myr__buf *b)
{
    if (b->cap != 0)
        return 0;
    size_t size = MYR__IOBUF_SIZE;
    void *block;
    if (loop->n_iobufs)
        block = loop->iobufs[--loop->n_iobufs];
    else if ((size = MYR__IOBUF_SMALL), loop->n_iosmall)
        block = loop->iosmall[--loop->n_iosmall];
    else
        block = myr__malloc(MYR__IOBUF_SMALL);
    if (block == NULL)
        return MYR_ENOMEM;
    b->data = block;
    b->cap = size;
    b->rpos = b->len = 0;
    b->pooled = 1;
    loop->lent_iobufs++;
    return 0;
}

/* Keep block in the idle list *v (n, cap), or free it. */
static void keep_block(myr_loop *loop, void ***v, unsigned *n, unsigned *cap, myr__buf *b)
{
    if (*n >= MYR__IOBUF_KEEP + loop->lent_iobufs) {
        myr__buf_free(b);
        return;
    }
    if (*n == *cap) {
        unsigned ncap = *cap ? *cap * 2 : MYR__IOBUF_KEEP;
        void **a = myr__realloc(*v, ncap * sizeof *a);
        if (a == NULL) {
            myr__buf_free(b);
            return;
        }
        *v = a;
        *cap = ncap;
    }
    (*v)[(*n)++] = b->data;
    myr__buf_init(b);
}

void myr__loop_buf_give(myr_loop *loop, myr__buf *b)
{
    if (b->cap == 0 || b->rpos != b->len || b->borrowed)
        return;
    if (b->pooled) {
        loop->lent_iobufs--;
        b->pooled = 0;
        /* Shrink with the number lent: after a burst of busy connections
         * the cache does not keep the burst's blocks once they are idle. */
        while (loop->n_iobufs > MYR__IOBUF_KEEP + loop->lent_iobufs)
            myr__free(loop->iobufs[--loop->n_iobufs]);
        while (loop->n_iosmall > MYR__IOBUF_KEEP + loop->lent_iobufs)
            myr__free(loop->iosmall[--loop->n_iosmall]);
    }
    if (b->cap == MYR__IOBUF_SIZE)
        keep_block(loop, &loop->iobufs, &loop->n_iobufs, &loop->cap_iobufs, b);
    else if (b->cap == MYR__IOBUF_SMALL)
        keep_block(loop, &loop->iosmall, &loop->n_iosmall, &loop->cap_iosmall, b);
    else
        myr__buf_free(b);
}

unsigned myr__recv_bufs = MYR__RECV_BUFS;

ur_bufring *myr__loop_bufring(myr_loop *loop)
{
    if (loop->bufring == NULL && !loop->bufring_failed &&
        ur_bufring_new(loop->ur, 0, myr__recv_bufs, MYR__RECV_BUF_SIZE, UR_BUFRING_INC, &loop->bufring) < 0)
        loop->bufring_failed = 1;   /* an old kernel: receives into buffers of their own */
    return loop->bufring;
}

/* The dirty list is first in, first out: connections are flushed in the
 * order their completions came, so the server's threads are woken in the
 * order they answered. */
void myr__loop_mark_dirty(myr_loop *loop, myr_conn *c)
{
    if (c->dirty)
        return;
    c->dirty = 1;
    c->dirty_next = NULL;
    c->dirty_prev = loop->dirty_tail;
    if (loop->dirty_tail)
        loop->dirty_tail->dirty_next = c;
    else
        loop->dirty = c;
    loop->dirty_tail = c;
}

void myr__loop_unmark_dirty(myr_loop *loop, myr_conn *c)
{
    if (!c->dirty)
        return;
    if (c->dirty_prev)
        c->dirty_prev->dirty_next = c->dirty_next;
    else
        loop->dirty = c->dirty_next;
    if (c->dirty_next)
        c->dirty_next->dirty_prev = c->dirty_prev;
    else
        loop->dirty_tail = c->dirty_prev;
    c->dirty_next = c->dirty_prev = NULL;
    c->dirty = 0;
}

static void flush_dirty(myr_loop *loop)
{
    myr_conn *c;
    while ((c = loop->dirty) != NULL) {
        myr__loop_unmark_dirty(loop, c);
        loop->conn_hooks->flush(c);   /* myr__conn_flush */
    }
}

/* Parked connections: a FIFO like the dirty list. */
void myr__loop_park(myr_loop *loop, myr_conn *c)
{
    if (c->park_prev != NULL || loop->parked == c)
        return;
    c->park_round = loop->park_round;
    c->park_next = NULL;
    c->park_prev = loop->parked_tail;
    if (loop->parked_tail)
        loop->parked_tail->park_next = c;
    else
        loop->parked = c;
    loop->parked_tail = c;
}

void myr__loop_unpark(myr_loop *loop, myr_conn *c)
{
    if (c->park_prev == NULL && loop->parked != c)
        return;
    if (c->park_prev)
        c->park_prev->park_next = c->park_next;
    else
        loop->parked = c->park_next;
    if (c->park_next)
        c->park_next->park_prev = c->park_prev;
    else
        loop->parked_tail = c->park_prev;
    c->park_next = c->park_prev = NULL;
}

/* Each connection parked before this pass gets its turn, in order; one
 * that parks again during its turn (more rows were already received) waits
 * for the next pass, after the callbacks of futures resolved meanwhile. */
static void deliver_parked(myr_loop *loop)
{
    unsigned round = ++loop->park_round;
    myr_conn *c;
    while ((c = loop->parked) != NULL && c->park_round != round) {
        myr__loop_unpark(loop, c);
        loop->conn_hooks->deliver(c);   /* myr__conn_deliver */
        if (loop->free_requested)
            return;
    }
}

void myr__loop_release_deferred(myr_loop *loop)
{
    while (loop->releasing != NULL) {
        myr_conn *c = loop->releasing;
        loop->releasing = c->release_next;
        ur_owner_release(&c->owner);
    }
}

/* After the tick: callbacks run, then what they queued is started, until
 * neither produces more (starting I/O can fail and resolve futures). In
 * external mode the SQEs are also submitted, so that a program waiting on
 * myr_loop_fd() does not wait for work that never reached the kernel. */
static int settle(myr_loop *loop)
{
    do {
        myr__loop_drain_ready(loop);
        if (loop->free_requested)
            return 0;
        deliver_parked(loop);
        if (loop->free_requested)
            return 0;
        flush_dirty(loop);
    } while (loop->ready_head != NULL || loop->parked != NULL);
    return loop->external ? ur_loop_flush(loop->ur) : 0;
}

int myr_loop_run_once(myr_loop *loop, int timeout_ms)
{
    int rc = myr__loop_check(loop, NULL);
    if (rc != 0)
        return rc;
    if (loop->running)
        return MYR_EBUSY;   /* from a callback of this loop: see myring.h */
    loop->running = 1;
    unsigned resolved = loop->resolved;
    flush_dirty(loop);
    int64_t ns = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000;
    if (loop->resolved != resolved || loop->ready_head != NULL)
        ns = 0;   /* starting I/O failed and resolved a future, or callbacks
                     are due: the caller may be waiting for exactly that one,
                     so don't block */
    loop->ticking++;
    /* One response per busy connection is on its way: wait for them
     * together (batched waits, myr_loop_opts.batch_wait_us); a lone one
     * waits as before. */
    ur_loop_expect(loop->ur, (unsigned)(loop->busy_conns < UR_WAIT_MAX ? loop->busy_conns
                                                                      : UR_WAIT_MAX));
    rc = ur_loop_tick(loop->ur, ns);
    loop->ticking--;
    if (rc >= 0 && loop->owner_self == 0)
        myr__loop_note_owner(loop);   /* the tick bound the loop to this thread */
    /* Connections released during the tick go to the engine before any
     * callback runs, so a callback never meets a half-released one. */
    myr__loop_release_deferred(loop);
    int src = settle(loop);
    if (rc >= 0 && src < 0)
        rc = src;
    loop->running = 0;
    if (loop->free_requested)
        loop_destroy(loop);
    return rc;
}

int myr_loop_fd(myr_loop *loop)
{
    int rc = myr__loop_check(loop, NULL);
    if (rc != 0)
        return rc;
    int fd = ur_loop_eventfd(loop->ur);
    if (fd >= 0)
        loop->external = 1;
    return fd;
}
