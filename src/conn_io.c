/*
 * src/conn_io.c -- a connection's side of the transport: the pre-submit
 * flush (queued bytes go to the transport when the window lets them, a recv
 * is armed while input is expected), what the transport reports back (bytes
 * in, bytes sent, the stream lost), and cutting received bytes into packets
 * for the state machine of the current state (handshake or commands),
 * stopping when a streaming batch is due (the connection is parked) and
 * going on after the batch was handed out (myr__conn_deliver).
 */
#include <errno.h>
#include <string.h>

#include "conn_internal.h"

/* The largest packet accepted from a server: what the login announces. */
#define MYR__MAX_PACKET 0x40000000u

/* The connection ended under us: which error that is depends on the stage. */
void myr__conn_lost(myr_conn *c, int err)
{
    if (c->state < MYR__CS_GREETING || c->state == MYR__CS_DEAD)
        return;   /* handled by the connect path */
    const char *why = err ? strerror(err) : "connection closed by the server";
    if (c->state == MYR__CS_GREETING)
        myr__conn_fail_os(c, MYR_ECONNLOST, 2013, err,
                     "Lost connection to server at 'reading initial communication packet' (%s)", why);
    else if (c->state == MYR__CS_AUTH)
        myr__conn_fail_os(c, MYR_ECONNLOST, 2013, err,
                     "Lost connection to server at 'reading authorization packet' (%s)", why);
    else if (c->ncmds > 0)
        myr__conn_fail_os(c, MYR_ECONNLOST, 2013, err, "Lost connection to server during query (%s)", why);
    else if (err == 0)
        myr__conn_fail(c, MYR_EGONE, 2006, "the server closed the connection while it was idle");
    else if (err == ECONNRESET)   /* an abortive close, e.g. MariaDB's wait_timeout */
        myr__conn_fail_os(c, MYR_EGONE, 2006, err,
                          "the server closed the connection while it was idle (%s)", why);
    else
        myr__conn_fail_os(c, MYR_EGONE, 2006, err, "the connection broke while it was idle (%s)", why);
}

/* ------------------------------------------------------------------- I/O */

void myr__conn_read_timer(myr_conn *c)
{
    ur_timer_start(c->loop->ur, &c->timer, ur_now_ns() + (uint64_t)c->opts.read_timeout_ms * 1000000u);
}

int myr__conn_multishot_ok(const myr_conn *c)
{
    if (c->state != MYR__CS_READY)
        return 0;
    for (const myr__cmd *cmd = c->cmd_head; cmd != NULL; cmd = cmd->next)
        if (cmd->kind->rows_waiting != NULL)
            return 0;
    return 1;
}

/* Before the tick's submit: queued bytes to the transport (if the window
 * lets them go), and a recv while input is expected. */
void myr__conn_flush(myr_conn *c)
{
    if (c->state < MYR__CS_GREETING || c->state == MYR__CS_DEAD || c->release_requested)
        return;
    size_t keep = myr__conn_held_bytes(c);   /* behind a held command: not yet */
    if (myr__buf_unread(&c->out) > keep && myr__conn_window_open(c)) {
        myr__buf tail;
        myr__buf_init(&tail);
        if (keep > 0) {
            if (myr__buf_append(&tail, myr__buf_rptr(&c->out) + myr__buf_unread(&c->out) - keep, keep) != 0) {
                myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory holding commands back");
                return;
            }
            c->out.len -= keep;
        }
        if (c->recv_busy && c->recv_multi && !c->recv_stop && !myr__conn_multishot_ok(c)) {
            /* A streaming command leaves: its rows must wait in the socket
             * while the application has not taken a batch, which a
             * multishot would not do. Canceled before the send goes (the
             * cancel's SQE is first), one-shot receives follow. */
            c->recv_stop = 1;
            (void)ur_cancel(c->loop->ur, c->recv_id);
        }
        int rc = c->tp->flush(c);
        if (keep > 0) {
            int arc = myr__buf_append(&c->out, tail.data, tail.len);
            myr__buf_free(&tail);
            if (arc != 0) {
                myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory holding commands back");
                return;
            }
        }
        if (rc < 0) {
            myr__conn_fail_os(c, rc == -ENOMEM ? MYR_ENOMEM : rc, 2008, rc > -4096 ? -rc : 0,
                         "cannot queue a send: %s", myr_strerror(rc));
            return;
        }
        if (rc > 0)
            myr__conn_handed(c);
    }
    int want = myr__conn_wants_input(c);
    if (want || (c->state == MYR__CS_READY && c->parked_cmd == NULL)) {
        int rc = c->tp->recv(c, !want);
        if (rc < 0) {
            if (rc == MYR_ENOMEM)
                myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory for a receive buffer");
            else
                myr__conn_fail_os(c, rc == -ENOMEM ? MYR_ENOMEM : rc, 2008, rc > -4096 ? -rc : 0,
                             "cannot queue a receive: %s", myr_strerror(rc));
            return;
        }
        /* The read timeout counts silence while an answer is awaited:
         * from here, and again from each arrival (myr__conn_input). */
        if (want && c->opts.read_timeout_ms > 0 && c->state == MYR__CS_READY &&
            (rc > 0 || !ur_timer_armed(&c->timer)))
            myr__conn_read_timer(c);
    }
}

void myr__conn_sent(myr_conn *c, size_t n)
{
    c->sent_pos += n;
    /* The read timeout counts silence from the end of what was sent. */
    if (c->opts.read_timeout_ms > 0 && c->state == MYR__CS_READY && ur_timer_armed(&c->timer))
        myr__conn_read_timer(c);
    myr__conn_advance(c);
    if (c->state != MYR__CS_DEAD && !c->release_requested)
        myr__conn_kick(c);
}

/* One whole packet: to the state machine of the current state. */
static void packet(myr_conn *c, const uint8_t *p, size_t len)
{
    if (c->state == MYR__CS_READY)
        myr__conn_response(c, p, len);
    else
        myr__conn_auth_packet(c, p, len);
}

void myr__conn_input(myr_conn *c)
{
    while (c->state != MYR__CS_DEAD && !c->release_requested && c->parked_cmd == NULL) {
        if (myr__resp_fast(&c->resp)) {   /* a result set's own loop first */
            size_t used = myr__conn_rows(c, myr__buf_rptr(&c->in), myr__buf_unread(&c->in));
            c->in.rpos += used;
            if (c->state == MYR__CS_DEAD)
                return;
            if (c->parked_cmd != NULL)
                break;   /* a batch is due: the rest waits for its turn */
            if (used > 0)
                continue;   /* the next response may be one for it too */
        }
        const uint8_t *payload;
        size_t plen, need = 0;
        long n = myr__pkt_next(&c->reader, myr__buf_rptr(&c->in), myr__buf_unread(&c->in), &payload,
                               &plen, &need);
        if (n < 0) {
            if (n == MYR_ENOMEM)
                myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory joining a large packet");
            else
                myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (bad sequence id)");
            return;
        }
        if (n == 0) {
            c->need = need;
            break;
        }
        c->in.rpos += (size_t)n;
        if (payload != NULL)
            packet(c, payload, plen);
        else if (c->reader.join.len > MYR__MAX_PACKET) {
            myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (larger than %u bytes)",
                           MYR__MAX_PACKET);
            return;
        }
    }
    if (c->state == MYR__CS_DEAD || c->release_requested)
        return;
    /* Rows parsed from what arrived reach the application before anything
     * more is read (backpressure: memory stays bounded). */
    myr__cmd *head = c->cmd_head;
    if (c->parked_cmd == NULL && c->state == MYR__CS_READY && head != NULL &&
        head->kind->rows_waiting != NULL && head->kind->rows_waiting(head))
        myr__conn_park(c, head);
    if (c->in.rpos == c->in.len)
        myr__buf_reset(&c->in);
    if (c->ncmds == 0 && c->state == MYR__CS_READY) {
        ur_timer_stop(c->loop->ur, &c->timer);
        /* An idle connection holds no I/O buffer: all go back to the loop
         * (each give is a no-op unless the buffer is empty). */
        myr__loop_buf_give(c->loop, &c->in);
        myr__loop_buf_give(c->loop, &c->out);
        c->tp->idle(c);
    } else if (c->opts.read_timeout_ms > 0 && c->state == MYR__CS_READY && c->awaiting > 0) {
        myr__conn_read_timer(c);   /* bytes came: the silence starts again */
    }
    myr__conn_kick(c);   /* re-arm the recv / let held commands go */
}

static int parsing(const myr_conn *c)
{
    return c->state != MYR__CS_DEAD && !c->release_requested;
}

/* Keep a copy of n bytes at the end of c->in (want: room to reserve, at
 * least n). 0, or -1 when the connection failed for want of memory. */
static int keep(myr_conn *c, const uint8_t *p, size_t n, size_t want)
{
    /* A loop block if it is enough (a frame split between two ring
     * buffers, every few results: no malloc for it). */
    int rc = want <= MYR__IOBUF_SIZE ? myr__loop_buf_take(c->loop, &c->in) : 0;
    if (rc != 0 || myr__buf_reserve(&c->in, want) != 0) {
        myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory for a receive buffer");
        return -1;
    }
    memcpy(c->in.data + c->in.len, p, n);
    c->in.len += n;
    return 0;
}

void myr__conn_input_lent(myr_conn *c, const uint8_t *p, size_t n)
{
    size_t off = 0;
    /* A frame begun in an earlier buffer waits in c->in: complete it with
     * the bytes it lacks (the only ones copied), parse, go on. */
    while (off < n && myr__buf_unread(&c->in) > 0 && parsing(c)) {
        size_t have = myr__buf_unread(&c->in), take = n - off;
        if (c->parked_cmd == NULL && c->need > have && c->need - have < take)
            take = c->need - have;
        if (keep(c, p + off, take, take) < 0)
            return;
        off += take;
        if (c->parked_cmd != NULL)
            return;   /* parsing waits for the batch's turn: the bytes wait in c->in */
        myr__conn_input(c);
    }
    if (off == n || !parsing(c))
        return;
    if (c->parked_cmd != NULL) {
        (void)keep(c, p + off, n - off, n - off);
        return;
    }
    /* The rest is parsed where it lies; c->in (empty) is set aside. */
    myr__buf own = c->in;
    myr__buf_init(&c->in);
    c->in.data = (uint8_t *)(uintptr_t)(p + off);
    c->in.len = c->in.cap = n - off;
    c->in.borrowed = 1;
    myr__conn_input(c);
    const uint8_t *rest = myr__buf_rptr(&c->in);
    size_t left = myr__buf_unread(&c->in);
    c->in = own;
    if (left > 0 && parsing(c)) {
        size_t want = c->parked_cmd == NULL && c->need > left ? c->need : left;
        (void)keep(c, rest, left, want);
    } else if (c->ncmds == 0) {
        myr__loop_buf_give(c->loop, &c->in);
    }
}

void myr__conn_deliver(myr_conn *c)
{
    myr__cmd *cmd = c->parked_cmd;
    if (cmd == NULL)
        return;
    c->parked_cmd = NULL;
    myr_loop *loop = c->loop;
    /* The application's callback may close or free c (or another
     * connection): as inside a tick, releases wait until we are done. */
    loop->ticking++;
    cmd->kind->deliver(c, cmd, NULL);
    if (c->state == MYR__CS_READY && !c->release_requested && c->parked_cmd == NULL) {
        myr__conn_advance(c);   /* commands without reply held while parked */
        myr__conn_input(c);     /* parse on: may park again */
    }
    loop->ticking--;
    myr__loop_release_deferred(loop);
}

