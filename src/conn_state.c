/*
 * src/conn_state.c -- the lowest part of a connection, which every other
 * part calls: its state funnel, marking it for the pre-submit flush,
 * releasing it, parking it (a streaming batch is due), and death (the
 * transport is aborted and every queued command finishes with the error).
 */
#include <stdio.h>
#include <string.h>

#include "conn_internal.h"

static const char *const state_names[MYR__CS__LAST] = {
    "RESOLVING", "SOCKET", "CONNECTING", "GREETING", "AUTH", "READY", "DEAD",
};

void myr__conn_set_state(myr_conn *c, myr__conn_state s)
{
#ifdef MYR_TRACE_STATES
    fprintf(stderr, "myring: conn %p %s -> %s\n", (void *)c, state_names[c->state], state_names[s]);
#else
    (void)state_names;
#endif
    c->state = (uint8_t)s;
}

void myr__conn_kick(myr_conn *c)
{
    myr__loop_mark_dirty(c->loop, c);
}

/* ---------------------------------------------------------------- parking */

void myr__conn_park(myr_conn *c, myr__cmd *cmd)
{
    c->parked_cmd = cmd;
    myr__loop_park(c->loop, c);
}

void myr__conn_unpark(myr_conn *c, const myr_error *why)
{
    myr__cmd *cmd = c->parked_cmd;
    if (cmd == NULL)
        return;
    c->parked_cmd = NULL;
    myr__loop_unpark(c->loop, c);
    cmd->kind->deliver(c, cmd, why);
}

/* ---------------------------------------------------------------- release */

static void unlink_conn(myr_conn *c)
{
    myr_loop *loop = c->loop;
    if (c->loop_prev)
        c->loop_prev->loop_next = c->loop_next;
    else if (loop->conns == c)
        loop->conns = c->loop_next;
    if (c->loop_next)
        c->loop_next->loop_prev = c->loop_prev;
    c->loop_next = c->loop_prev = NULL;
    myr__loop_unmark_dirty(loop, c);
}

/* Nobody needs c any more: free it once the kernel is done with it. */
void myr__conn_release(myr_conn *c)
{
    if (c->release_requested)
        return;
    if (c->parked_cmd != NULL) {   /* not expected: death unparks first */
        myr_error e;
        myr__error_set(&e, MYR_ECLOSED, 0, NULL, "connection closed by the application");
        myr__conn_unpark(c, &e);
    }
    c->release_requested = 1;
    ur_timer_stop(c->loop->ur, &c->timer);
    ur_timer_stop(c->loop->ur, &c->kill_timer);
    ur_timer_stop(c->loop->ur, &c->drain_timer);
    ur_timer_stop(c->loop->ur, &c->query_timer);
    unlink_conn(c);
    if (c->loop->ticking) {
        c->release_next = c->loop->releasing;
        c->loop->releasing = c;
    } else {
        ur_owner_release(&c->owner);
    }
}

/* Take the head off the queue (the caller finishes it). */
myr__cmd *myr__conn_pop_head(myr_conn *c)
{
    myr__cmd *cmd = c->cmd_head;
    c->cmd_head = cmd->next;
    if (c->cmd_head == NULL)
        c->cmd_tail = NULL;
    c->ncmds--;
    if (cmd->kind->reply) {
        c->nreply--;
        if (c->awaiting > 0 && --c->awaiting == 0)
            c->loop->busy_conns--;
    }
    cmd->next = NULL;
    return cmd;
}

void myr__cmd_finish(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err)
{
    if (cmd->cancel_live) {
        cmd->cancel_live = 0;
        c->ncancel--;
    }
    /* A canceled command ends canceled whatever its response said, unless
     * the application closed the connection (its handle is gone: see
     * MYR_ECLOSED). */
    myr_error e;
    if (cmd->cancel != MYR__CANCEL_NONE && status != MYR_ECLOSED) {
        int timeout = cmd->cancel == MYR__CANCEL_TIMEOUT;
        unsigned server = status == MYR_ESERVER && err != NULL ? err->mysql_errno : 0;
        /* The connection died meanwhile: say so, with its client error
         * number (2013), so the caller knows the connection is gone. */
        int lost = c->state == MYR__CS_DEAD && err != NULL && status != MYR_ESERVER;
        unsigned num = server ? server : lost ? err->mysql_errno : 0;
        myr__error_set(&e, timeout ? MYR_ETIMEDOUT : MYR_ECANCELED, num,
                       server ? err->sqlstate : NULL, "%s%s%s",
                       timeout ? "query timeout: the command did not finish in time (MYR_OPT_QUERY_TIMEOUT)"
                               : "canceled by the application",
                       server ? "; the server said: " : lost ? "; the connection was lost: " : "",
                       server || lost ? err->message : "");
        myr__results_clear(&cmd->res);
        status = e.code;
        err = &e;
    }
    cmd->kind->finish(c, cmd, status, err);
}

void myr__conn_fail_cmds(myr_conn *c, const myr_error *err)
{
    while (c->cmd_head != NULL) {
        myr__cmd *cmd = myr__conn_pop_head(c);
        myr__cmd_finish(c, cmd, err->code, err);
    }   /* nreply and awaiting are 0 now, busy_conns updated by pop_head */
}

/* ------------------------------------------------------------------ death */

void myr__conn_die(myr_conn *c, const myr_error *err)
{
    if (c->state == MYR__CS_DEAD)
        return;
    myr__conn_set_state(c, MYR__CS_DEAD);
    c->dead_once = 1;
    c->death = myr__strdup(err->message);
    myr__free_secret(c->opts.password);   /* a dead connection never logs in again */
    c->opts.password = NULL;
    ur_timer_stop(c->loop->ur, &c->timer);
    ur_timer_stop(c->loop->ur, &c->kill_timer);
    ur_timer_stop(c->loop->ur, &c->drain_timer);
    ur_timer_stop(c->loop->ur, &c->query_timer);
    c->tp->abort(c);
    myr_future *cf = c->connect_fut;
    c->connect_fut = NULL;
    myr__conn_unpark(c, err);   /* a batch not handed out yet goes */
    myr__conn_fail_cmds(c, err);
    if (cf != NULL) {
        /* Nobody ever had this connection: it goes with its connect. */
        myr__conn_release(c);
        myr__future_resolve(cf, err->code, err);
    } else if (c->closing) {
        myr__conn_release(c);
    }
    /* A user-owned connection waits for myr_conn_free/myr_close. */
}

static void conn_vfail(myr_conn *c, int code, unsigned mysql_errno, int sys_errno, const char *fmt,
                       va_list ap)
{
    myr_error e;
    char msg[sizeof e.message];
    vsnprintf(msg, sizeof msg, fmt, ap);
    myr__error_set(&e, code, mysql_errno, NULL, "%s", msg);
    e.sys_errno = sys_errno;
    myr__conn_die(c, &e);
}

void myr__conn_fail(myr_conn *c, int code, unsigned mysql_errno, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    conn_vfail(c, code, mysql_errno, 0, fmt, ap);
    va_end(ap);
}

void myr__conn_fail_os(myr_conn *c, int code, unsigned mysql_errno, int sys_errno, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    conn_vfail(c, code, mysql_errno, sys_errno, fmt, ap);
    va_end(ap);
}

