/*
 * src/cancel.c -- myr_cancel(), and the side connections that carry
 * KILL QUERY for canceled commands.
 *
 * A loop keeps one side connection per server endpoint and login (host,
 * port, socket, user, password), made on the first kill for it and reused
 * for every later one; KILLs for many connections are pipelined on it. It
 * is one of the loop's connections (freed with the loop), never the
 * application's. If it cannot be made, or dies, the kills waiting for it
 * are over (the canceled commands are then drained and discarded, and a
 * later kill tries a new side connection).
 *
 * This file sits above the connection (conn_cancel.c decides when to kill;
 * this one carries the KILL); it reaches myr_connect/myr_conn_free through
 * the loop's hooks, which conn.c fills in.
 */
#include <string.h>

#include "conn_internal.h"

struct myr__side {
    myr__side *next;
    myr_loop *loop;
    myr_conn_opts opts;          /* endpoint and login (own copy) */
    myr_conn *conn;              /* connected, or NULL */
    myr_future *connecting;      /* its connect, while under way */
    myr__kill *wait_head, *wait_tail;   /* kills waiting for it */
};

static int str_eq(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static int same_server(const myr_conn_opts *a, const myr_conn_opts *b)
{
    return str_eq(a->host, b->host) && str_eq(a->unix_socket, b->unix_socket) &&
           a->port == b->port && a->port_set == b->port_set && str_eq(a->user, b->user) &&
           str_eq(a->password, b->password);
}

static void kill_done(myr__kill *k, int status, const myr_error *err)
{
    (void)status;
    (void)err;
    myr_conn *c = k->target;
    myr__free(k);
    if (c != NULL)
        myr__conn_kill_done(c);
}

static void side_send(myr__side *s, myr__kill *k)
{
    if (k->target == NULL) {   /* its connection went meanwhile */
        myr__free(k);
        return;
    }
    int rc = myr__conn_queue_cmd(s->conn, &myr__cmd_kill, &k->thread_id, sizeof k->thread_id, NULL,
                                 &k->cmd);
    if (rc != 0)
        kill_done(k, rc, NULL);
}

static void side_connected(myr_future *f, void *arg)
{
    myr__side *s = arg;
    s->connecting = NULL;
    s->conn = myr_future_take_conn(f);   /* NULL if the connect failed */
    myr_future_free(f);
    myr__kill *k;
    while ((k = s->wait_head) != NULL) {
        s->wait_head = k->next;
        k->next = NULL;
        if (s->conn != NULL)
            side_send(s, k);
        else
            kill_done(k, MYR_ECONNECT, NULL);
    }
    s->wait_tail = NULL;
}

static myr__side *side_for(myr_conn *c)
{
    myr_loop *loop = c->loop;
    for (myr__side *s = loop->sides; s != NULL; s = s->next)
        if (same_server(&s->opts, &c->opts))
            return s;
    myr__side *s = myr__calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    if (myr__opts_copy(&s->opts, &c->opts) != 0) {
        myr__free(s);
        return NULL;
    }
    /* A login and KILLs only: no database (it could be gone), no timeouts
     * of the application's, every KILL sent at once. */
    myr__free(s->opts.database);
    s->opts.database = NULL;
    s->opts.read_timeout_ms = 0;
    s->opts.query_timeout_ms = 0;
    s->opts.pipeline_refill = -1;
    s->loop = loop;
    s->next = loop->sides;
    loop->sides = s;
    return s;
}

/* The kill hook (myr__conn_hooks.kill): KILL QUERY for c's thread. */
void myr__side_kill(myr_conn *c)
{
    myr__side *s = side_for(c);
    myr__kill *k = s ? myr__calloc(1, sizeof *k) : NULL;
    if (k == NULL)
        return;   /* no memory: the command is drained, not killed */
    k->target = c;
    k->thread_id = c->thread_id;
    k->done = kill_done;
    c->kill = k;
    if (s->conn != NULL && (s->conn->state != MYR__CS_READY || s->conn->closing)) {
        c->loop->conn_hooks->free(s->conn);   /* it died: make a new one */
        s->conn = NULL;
    }
    if (s->conn != NULL) {
        side_send(s, k);
        return;
    }
    if (s->wait_tail)
        s->wait_tail->next = k;
    else
        s->wait_head = k;
    s->wait_tail = k;
    if (s->connecting != NULL)
        return;
    myr_future *f = c->loop->conn_hooks->connect(c->loop, &s->opts);
    if (f == NULL) {
        side_connected(NULL, s);
        return;
    }
    s->connecting = f;
    myr_future_on_done(f, side_connected, s);   /* at once if it failed at once */
}

/* The loop is being freed (myr__conn_hooks.end): the side connections
 * themselves go with the loop's connections; their bookkeeping goes now. */
void myr__sides_end(myr_loop *loop)
{
    myr__side *s;
    while ((s = loop->sides) != NULL) {
        loop->sides = s->next;
        myr__kill *k;
        while ((k = s->wait_head) != NULL) {
            s->wait_head = k->next;
            if (k->target != NULL)
                k->target->kill = NULL;
            myr__free(k);
        }
        if (s->connecting != NULL) {
            myr_future_on_done(s->connecting, NULL, NULL);
            myr_future_free(s->connecting);   /* detached: resolves when the loop frees its connection */
        }
        myr__opts_clear(&s->opts);
        myr__free(s);
    }
}

/* ------------------------------------------------------------- myr_cancel */

int myr_cancel(myr_future *f)
{
    if (f == NULL || f->done)
        return MYR_EINVAL;   /* resolved: it keeps its outcome */
    myr_loop *loop = f->loop;
    int rc = myr__loop_check(loop, NULL);
    if (rc != 0)
        return rc;
    if (f->conn != NULL && f->cmd.kind != NULL) {   /* a command */
        if (!f->cmd.kind->reply)
            return MYR_ENOTSUP;   /* over once sent (STMT_CLOSE) */
        myr__conn_cancel(f->conn, &f->cmd, MYR__CANCEL_USER);
        return 0;
    }
    switch (f->kind) {
    case MYR__FUT_CONNECT:
        for (myr_conn *c = loop->conns; c != NULL; c = c->loop_next)
            if (c->connect_fut == f) {
                myr__conn_fail(c, MYR_ECANCELED, 0, "connect canceled by the application");
                return 0;
            }
        return MYR_EINVAL;
    case MYR__FUT_SLEEP:
        ur_timer_stop(loop->ur, &f->timer);
        myr__future_resolve(f, MYR_ECANCELED, NULL);
        return 0;
    case MYR__FUT_PROMISE:
        myr__future_resolve(f, MYR_ECANCELED, NULL);
        return 0;
    default:
        return MYR_ENOTSUP;   /* a function running on a worker cannot be stopped */
    }
}
