/*
 * src/sync.c -- the blocking calls: each creates the future and awaits it
 * on the connection's loop (a private one for myr_connect_sync(NULL, ...)).
 */
#include <string.h>

#include "conn_internal.h"

/* Await f and report its outcome in *err: the future's own error, or why
 * the wait itself failed (never code 0 on failure). */
static int await_take(myr_future *f, myr_error *err)
{
    if (f == NULL) {
        myr__error_set(err, MYR_ENOMEM, 0, NULL, "out of memory creating a future");
        return MYR_ENOMEM;
    }
    int rc = myr_await(f, -1);
    if (err == NULL)
        return rc;
    if (rc == 0)
        memset(err, 0, sizeof *err);
    else if (myr_future_done(f))
        *err = *myr_future_error(f);
    else
        myr__error_set(err, rc, 0, NULL, "waiting for the operation failed: %s", myr_strerror(rc));
    return rc;
}

myr_conn *myr_connect_sync(myr_loop *loop, const myr_conn_opts *opts, myr_error *err)
{
    if (myr__loop_can_block(loop, err) != 0)
        return NULL;
    myr_loop *own = NULL;
    if (loop == NULL && (loop = own = myr_loop_new(NULL, err)) == NULL)
        return NULL;
    myr_future *f = myr_connect(loop, opts);
    int rc = await_take(f, err);
    myr_conn *c = rc == 0 ? myr_future_take_conn(f) : NULL;
    myr_future_free(f);
    if (c != NULL)
        c->own_loop = own;
    else
        myr_loop_free(own);
    return c;
}

myr_result *myr_query_sync(myr_conn *c, const char *sql, size_t len, myr_error *err)
{
    if (myr__loop_can_block(c ? c->loop : NULL, err) != 0)
        return NULL;
    myr_future *f = myr_query(c, sql, len);
    (void)await_take(f, err);
    /* On error too: the results that arrived before it, as the future gives. */
    myr_result *r = myr_future_take_result(f);
    myr_future_free(f);
    return r;
}

int myr_ping_sync(myr_conn *c, myr_error *err)
{
    int busy = myr__loop_can_block(c ? c->loop : NULL, err);
    if (busy != 0)
        return busy;
    myr_future *f = myr_ping(c);
    int rc = await_take(f, err);
    myr_future_free(f);
    return rc;
}

int myr_close_sync(myr_conn *c, myr_error *err)
{
    if (c == NULL)
        return 0;
    int busy = myr__loop_can_block(c->loop, err);
    if (busy != 0)
        return busy;   /* refused before anything started: c stays usable */
    myr_future *f = myr_close(c);   /* a private loop is run and freed there */
    int rc = await_take(f, err);
    myr_future_free(f);
    return rc;
}
