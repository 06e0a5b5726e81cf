/*
 * src/conn_cancel.c -- canceling one command of a connection, the
 * connection's side of myr_cancel() and of the query timeout.
 *
 * A command not sent yet (its bytes still in c->out) is cut out of the
 * queue and out of the bytes: it never reaches the server. A command sent
 * is marked; its response is still read (the connection stays in step with
 * the server) and discarded, and the command ends MYR_ECANCELED (or
 * MYR_ETIMEDOUT) through myr__cmd_finish like any other ending.
 *
 * To end it early it is killed on the server with KILL QUERY <thread id>
 * over a side connection (cancel.c). KILL QUERY stops whatever statement
 * the thread runs when the KILL arrives, so it is sent only when that can
 * be nothing but a command meant to die: the canceled command is the first
 * one awaiting a response (the running one, or the next to run) and every command sent after it is
 * canceled too. From the moment a sent command is canceled until it has
 * been drained, and while a KILL is out, nothing new leaves for the server
 * (myr__conn_window_open), so no innocent command can start under a KILL
 * on its way. A KILL that lands on an idle thread does nothing (MariaDB
 * resets it before the next statement), so one that came too early (the
 * statement had not started, or had just ended) is harmless: while the
 * canceled command is still the head after its KILL was answered, it is
 * killed again after 250 ms, then 500, 1000, 1000 ... ms. A canceled command
 * with uncanceled commands sent after it is not killed (the KILL could land
 * on one of those): it runs to its end and its result is discarded.
 *
 * A server or network that stopped answering would leave a killed command
 * undrained for ever: if it has not been drained MYR__DRAIN_GRACE_MS after
 * the first KILL for it was tried, the connection is given up
 * (MYR_ETIMEDOUT, 2013), so a cancel or a query timeout always resolves
 * within a bound. The bound is a last resort, and long: a stalled path
 * looks like a slow server, and MariaDB may take seconds to end killed
 * SLEEP()s when many are killed at once (tests/integration/test_cancel.c:
 * 40 in 6 s). MYR_OPT_READ_TIMEOUT bounds a stall as tightly as wanted.
 *
 * MYR_OPT_QUERY_TIMEOUT cancels the same way (MYR__CANCEL_TIMEOUT: the
 * command ends MYR_ETIMEDOUT): each command's deadline is set when it is
 * queued, and one timer per connection waits for the first one still live.
 */
#include <string.h>

#include "conn_internal.h"

#define MYR__DRAIN_GRACE_MS 60000

/* Stream offset up to which bytes were handed to the transport. */
static uint64_t handed_pos(const myr_conn *c)
{
    return c->queued_pos - myr__buf_unread(&c->out);
}

static int handed(const myr_conn *c, const myr__cmd *cmd)
{
    /* A held command whose bytes are not in place yet ends where they
     * will go: not sent, whatever left before it. */
    if (cmd->kind->held && cmd->len == 0)
        return 0;
    return cmd->end_pos <= handed_pos(c);
}

/* The command whose response is read next (commands without reply, e.g.
 * STMT_CLOSE, may sit in front of it until they have left). */
static myr__cmd *first_reply(const myr_conn *c)
{
    myr__cmd *cmd = c->cmd_head;
    while (cmd != NULL && !cmd->kind->reply)
        cmd = cmd->next;
    return cmd;
}

/* cmd's bytes are all still in c->out (a transport takes all of c->out at
 * once): cut them out, and the command out of the queue. */
static void remove_unsent(myr_conn *c, myr__cmd *cmd)
{
    size_t off = (size_t)(cmd->end_pos - cmd->len - handed_pos(c));
    uint8_t *at = myr__buf_rptr(&c->out) + off;
    memmove(at, at + cmd->len, myr__buf_unread(&c->out) - off - cmd->len);
    c->out.len -= cmd->len;
    c->queued_pos -= cmd->len;
    for (myr__cmd *y = cmd->next; y != NULL; y = y->next)
        y->end_pos -= cmd->len;

    myr__cmd *prev = NULL;
    for (myr__cmd *y = c->cmd_head; y != cmd; y = y->next)
        prev = y;
    if (prev != NULL)
        prev->next = cmd->next;
    else
        c->cmd_head = cmd->next;
    if (c->cmd_tail == cmd)
        c->cmd_tail = prev;
    cmd->next = NULL;
    c->ncmds--;
    if (cmd->kind->reply)
        c->nreply--;   /* it was never counted in awaiting */
    myr__cmd *next = first_reply(c);
    if (c->awaiting == 0 && next != NULL) {
        /* Nothing is being read, and cmd may have been the command the
         * reader was set up for: set it up for the first one left. */
        myr__conn_resp_for(c, next);
        c->reader.seq = next->reply_seq;
    }
}

void myr__conn_cancel(myr_conn *c, myr__cmd *cmd, uint8_t why)
{
    if (cmd->cancel != MYR__CANCEL_NONE)
        return;
    cmd->cancel = why;
    if (c->state != MYR__CS_READY || !cmd->kind->reply)
        return;
    if (!handed(c, cmd)) {
        remove_unsent(c, cmd);
        myr__cmd_finish(c, cmd, MYR_ECANCELED, NULL);
        if (myr__buf_unread(&c->out) == 0)
            myr__buf_reset(&c->out);
        return;
    }
    cmd->cancel_live = 1;
    c->ncancel++;
    myr__conn_cancel_check(c);
}

void myr__conn_cancel_check(myr_conn *c)
{
    myr__cmd *h = first_reply(c);
    if (c->kill_for == NULL && c->kill_backoff_ms == 0 && !ur_timer_armed(&c->kill_timer) &&
        (h == NULL || !h->cancel_live))
        return;   /* nothing canceled, nothing to reset: the usual case */
    if (c->state != MYR__CS_READY || h == NULL || h != c->kill_for) {
        /* Another head: its kills start from scratch. */
        ur_timer_stop(c->loop->ur, &c->kill_timer);
        ur_timer_stop(c->loop->ur, &c->drain_timer);
        c->kill_for = NULL;
        c->kill_backoff_ms = 0;
    }
    if (c->state != MYR__CS_READY || h == NULL || !h->cancel_live || c->kill != NULL ||
        ur_timer_armed(&c->kill_timer))
        return;
    for (myr__cmd *y = h->next; y != NULL; y = y->next)
        if (y->kind->reply && handed(c, y) && !y->cancel_live)
            return;   /* a KILL could hit y: h is only discarded */
    if (c->kill_for != h && !ur_timer_armed(&c->drain_timer))
        ur_timer_start(c->loop->ur, &c->drain_timer,
                       ur_now_ns() + (uint64_t)MYR__DRAIN_GRACE_MS * 1000000u);
    c->kill_for = h;
    c->loop->conn_hooks->kill(c);   /* sets c->kill, unless it cannot */
}

void myr__conn_kill_done(myr_conn *c)
{
    c->kill = NULL;
    if (c->state != MYR__CS_READY)
        return;
    myr__cmd *h = first_reply(c);
    if (h != NULL && h == c->kill_for && h->cancel_live) {
        /* Still running: its answer may be on the way, or the KILL came
         * before the statement started. Kill again if it lasts. */
        unsigned ms = c->kill_backoff_ms ? c->kill_backoff_ms * 2 : 250;
        c->kill_backoff_ms = ms > 1000 ? 1000 : ms;
        if (ur_timer_start(c->loop->ur, &c->kill_timer,
                           ur_now_ns() + (uint64_t)c->kill_backoff_ms * 1000000u) != 0)
            c->kill_for = NULL;   /* no timer: it is only discarded */
    } else {
        myr__conn_cancel_check(c);
    }
    myr__conn_kick(c);   /* held commands may leave now */
}

void myr__conn_kill_timer(ur_timer *t)
{
    myr_conn *c = (myr_conn *)((char *)t - offsetof(myr_conn, kill_timer));
    myr__conn_cancel_check(c);
}

void myr__conn_drain_timer(ur_timer *t)
{
    myr_conn *c = (myr_conn *)((char *)t - offsetof(myr_conn, drain_timer));
    myr__cmd *h = first_reply(c);
    if (c->state != MYR__CS_READY || h == NULL || h != c->kill_for || !h->cancel_live)
        return;
    myr__conn_fail(c, MYR_ETIMEDOUT, 2013,
                   "Lost connection to server during query (no answer %d ms after KILL QUERY for "
                   "the canceled command)", MYR__DRAIN_GRACE_MS);
}

void myr__conn_query_timer(ur_timer *t)
{
    myr_conn *c = (myr_conn *)((char *)t - offsetof(myr_conn, query_timer));
    if (c->state != MYR__CS_READY)
        return;
    uint64_t now = ur_now_ns();
    myr__cmd *next;
    for (myr__cmd *cmd = c->cmd_head; cmd != NULL; cmd = next) {
        next = cmd->next;   /* canceling may free cmd (a detached future) */
        if (cmd->deadline_ns == 0 || cmd->cancel != MYR__CANCEL_NONE)
            continue;
        if (cmd->deadline_ns > now) {   /* deadlines grow along the queue */
            ur_timer_start(c->loop->ur, &c->query_timer, cmd->deadline_ns);
            return;
        }
        myr__conn_cancel(c, cmd, MYR__CANCEL_TIMEOUT);
        if (c->state != MYR__CS_READY)
            return;
    }
}
