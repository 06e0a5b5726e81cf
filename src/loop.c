/*
 * src/loop.c -- myr_loop: the engine's ring plus the worker pool, the list
 * of connections, and the pre-submit pass that turns every connection's
 * queued commands into one send each before the tick's single submit.
 */
#include <errno.h>
#include <stddef.h>

#include "internal.h"

myr_loop *myr_loop_new(const myr_loop_opts *opts, myr_error *err)
{
    myr_loop *loop = myr__calloc(1, sizeof *loop);
    if (loop == NULL) {
        myr__error_set(err, MYR_ENOMEM, 0, NULL, NULL);
        return NULL;
    }
    ur_loop_opts uo = {.sq_entries = opts && opts->sq_entries ? opts->sq_entries : 256};
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

void myr_loop_free(myr_loop *loop)
{
    if (loop == NULL)
        return;
    while (loop->conns != NULL)
        myr_conn_free(loop->conns);   /* unlinks itself */
    myr__loop_release_deferred(loop);
    myr__pool_free(loop->pool);
    loop->pool = NULL;
    ur_loop_free(loop->ur);   /* drains what is still in flight */
    while (loop->n_iobufs > 0)
        myr__free(loop->iobufs[--loop->n_iobufs]);
    myr__free(loop->iobufs);
    myr__free(loop);
}

int myr__loop_buf_take(myr_loop *loop, myr__buf *b)
{
    if (b->cap != 0)
        return 0;
    void *block = loop->n_iobufs ? loop->iobufs[--loop->n_iobufs] : myr__malloc(MYR__IOBUF_SIZE);
    if (block == NULL)
        return MYR_ENOMEM;
    b->data = block;
    b->cap = MYR__IOBUF_SIZE;
    b->rpos = b->len = 0;
    b->pooled = 1;
    loop->lent_iobufs++;
    return 0;
}

void myr__loop_buf_give(myr_loop *loop, myr__buf *b)
{
    if (b->cap == 0 || b->rpos != b->len)
        return;
    if (b->pooled) {
        loop->lent_iobufs--;
        b->pooled = 0;
    }
    if (b->cap != MYR__IOBUF_SIZE || loop->n_iobufs >= MYR__IOBUF_KEEP + loop->lent_iobufs) {
        myr__buf_free(b);
        return;
    }
    if (loop->n_iobufs == loop->cap_iobufs) {
        unsigned cap = loop->cap_iobufs ? loop->cap_iobufs * 2 : MYR__IOBUF_KEEP;
        void **a = myr__realloc(loop->iobufs, cap * sizeof *a);
        if (a == NULL) {
            myr__buf_free(b);
            return;
        }
        loop->iobufs = a;
        loop->cap_iobufs = cap;
    }
    loop->iobufs[loop->n_iobufs++] = b->data;
    myr__buf_init(b);
}

void myr__loop_mark_dirty(myr_loop *loop, myr_conn *c)
{
    if (c->dirty)
        return;
    c->dirty = 1;
    c->dirty_next = loop->dirty;
    loop->dirty = c;
}

static void flush_dirty(myr_loop *loop)
{
    while (loop->dirty != NULL) {
        myr_conn *c = loop->dirty;
        loop->dirty = c->dirty_next;
        c->dirty = 0;
        c->dirty_next = NULL;
        myr__conn_flush(c);
    }
}

int myr_loop_run_once(myr_loop *loop, int timeout_ms)
{
    if (loop == NULL)
        return MYR_EINVAL;
    unsigned resolved = loop->resolved;
    flush_dirty(loop);
    int64_t ns = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000;
    if (loop->resolved != resolved)
        ns = 0;   /* starting I/O failed and resolved a future: the caller may
                     be waiting for exactly that one, so don't block */
    loop->ticking++;
    int rc = ur_loop_tick(loop->ur, ns);
    loop->ticking--;
    if (!loop->ticking)
        myr__loop_release_deferred(loop);
    /* Completions may have queued more work: start it now so that it is in
     * the SQ for the next tick's submit. */
    flush_dirty(loop);
    return rc;
}

int myr_loop_fd(myr_loop *loop)
{
    return loop ? ur_loop_eventfd(loop->ur) : MYR_EINVAL;
}
