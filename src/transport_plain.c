/*
 * src/transport_plain.c -- the plaintext transport (TCP or Unix socket): at
 * most one send and one recv in flight; a send takes everything queued so
 * far (pipelined commands leave together). Receives: a multishot on the
 * loop's buffer ring, armed idle or busy, bytes parsed in place
 * (myr__conn_input_lent); where the kernel has no buffer rings, a receive
 * into a buffer lent by the loop while the connection is busy.
 */
#include <errno.h>
#include <sys/socket.h>

#include "conn_internal.h"

#define RECV_MIN 16384

/* Send what is unread in c->sending; quiet (ur_send_quiet: its success
 * does not wake the loop, so a round trip costs one io_uring_enter) when
 * asked, ordinary otherwise. */
static int send_sending(myr_conn *c, int quiet)
{
    const void *p = myr__buf_rptr(&c->sending);
    size_t n = myr__buf_unread(&c->sending);
    int flags = MSG_WAITALL | MSG_NOSIGNAL;
    int rc = quiet ? ur_send_quiet(&c->owner, MYR__TAG_SEND, c->fd, p, n, flags, &c->send_id)
                   : ur_send(&c->owner, MYR__TAG_SEND, c->fd, p, n, flags, &c->send_id);
    if (rc == 0) {
        c->send_busy = 1;
        c->send_quiet = (uint8_t)quiet;
    }
    return rc;
}

int myr__conn_out_answered(const myr_conn *c)
{
    const myr__cmd *t = c->cmd_tail;
    return c->state == MYR__CS_READY && t != NULL && t->kind->reply && t->end_pos == c->queued_pos &&
           myr__conn_held_bytes(c) == 0;   /* a held command stays behind: not this send */
}

static int plain_flush(myr_conn *c)
{
    if (c->send_busy || myr__buf_unread(&c->out) == 0)
        return 0;
    /* Everything queued so far leaves in this one send (sending is empty:
     * a short send re-sends its rest at once, see on_send). */
    myr__buf tmp = c->sending;
    myr__buf_reset(&tmp);
    c->sending = c->out;
    c->out = tmp;
    int rc = send_sending(c, myr__conn_out_answered(c));
    return rc < 0 ? rc : 1;
}

static int plain_recv(myr_conn *c, int idle)
{
    if (c->recv_busy)
        return 0;
    int armed = myr__socket_recv_ring(c);
    if (armed != 0)
        return armed;
    if (idle)
        return 0;   /* a receive of our own would hold a buffer */
    c->recv_ring = 0;
    size_t want = RECV_MIN;
    size_t unread = myr__buf_unread(&c->in);
    if (c->need > unread && c->need - unread > want)
        want = c->need - unread;
    if (c->in.rpos == c->in.len)
        myr__buf_reset(&c->in);
    if (myr__loop_buf_take(c->loop, &c->in) != 0 || myr__buf_reserve(&c->in, want) != 0)
        return MYR_ENOMEM;
    size_t room = c->in.cap - c->in.len;
    int rc = ur_recv(&c->owner, MYR__TAG_RECV, c->fd, c->in.data + c->in.len, room, 0, &c->recv_id);
    if (rc < 0)
        return rc;
    c->recv_busy = 1;
    return 1;
}

static void on_send(myr_conn *c, int res)
{
    c->send_busy = 0;
    if (c->state == MYR__CS_DEAD)
        return;
    if (res == -EAGAIN && c->send_quiet)
        res = 0;   /* no room in the socket buffer: the whole send goes again, waiting */
    if (res < 0) {
        myr__conn_lost(c, -res);
        return;
    }
    c->sending.rpos += (size_t)res;
    if (myr__buf_unread(&c->sending) == 0) {
        if (c->secret_out) {   /* login bytes: no copy stays behind in memory */
            myr__buf_wipe(&c->sending);
            c->secret_out = myr__buf_unread(&c->out) > 0;
        }
        myr__buf_reset(&c->sending);
        /* An idle connection keeps no send buffer; a busy one keeps up to 64 KiB. */
        if (c->ncmds == 0 || c->sending.cap > (1u << 16))
            myr__loop_buf_give(c->loop, &c->sending);
    } else {
        /* A short send (a quiet one that found the socket buffer full, a
         * signal, or a socket shut down): the rest (sent waiting for room) of these bytes was
         * handed over already, so it goes now whatever the window says. */
        int rc = send_sending(c, 0);
        if (rc < 0) {
            myr__conn_lost(c, -rc);
            return;
        }
    }
    myr__conn_sent(c, (size_t)res);
}

static void on_recv(myr_conn *c, int res)
{
    c->recv_busy = 0;
    if (c->state == MYR__CS_DEAD)
        return;
    if (res <= 0) {
        myr__conn_lost(c, res < 0 ? -res : 0);
        return;
    }
    c->in.len += (size_t)res;
    myr__conn_input(c);
}

/* A completion of the multishot receive on the loop's ring. */
static void on_ring_recv(myr_conn *c, int res, uint32_t flags)
{
    ur_bufring *br = c->loop->bufring;
    int more = (flags & UR_CQE_MORE) != 0;
    if (!more)
        c->recv_busy = 0;
    unsigned bid;
    uint8_t *data = ur_bufring_get(br, flags, &bid);
    if (data != NULL) {
        if (res > 0 && c->state != MYR__CS_DEAD)
            myr__conn_input_lent(c, data, (size_t)res);
        ur_bufring_put(br, bid, flags, res);   /* its bytes are parsed or copied */
        myr__socket_ring_next(c, more, res);
        return;
    }
    if (more || c->state == MYR__CS_DEAD || myr__socket_ring_rearm(c, res))
        return;
    myr__conn_lost(c, res < 0 ? -res : 0);
}

static void plain_complete(myr_conn *c, uint32_t tag, int res, uint32_t cqe_flags)
{
    if (tag == MYR__TAG_SEND)
        on_send(c, res);
    else if (c->recv_ring)
        on_ring_recv(c, res, cqe_flags);
    else
        on_recv(c, res);
}

void myr__socket_ring_next(myr_conn *c, int more, int res)
{
    if (c->state == MYR__CS_DEAD)
        return;
    if (!more) {
        c->recv_stop = 0;
        myr__conn_kick(c);   /* it ended: arm another */
        return;
    }
    if (c->recv_stop)
        return;
    if (c->parked_cmd != NULL) {
        /* Parked: rows wait for the application. Stop reading, so the
         * server waits instead of the memory growing; the bytes that still
         * come before the cancel lands are kept. */
        c->recv_stop = 1;
        (void)ur_cancel(c->loop->ur, c->recv_id);
    } else if (c->ncmds > 0 && res > 0 && 2 * (unsigned)res >= ur_bufring_size(c->loop->bufring)) {
        /* A (half) full buffer while an answer is awaited: a big one comes.
         * Its rest is read by one-shot receives until the connection is
         * idle again. A multishot that streams megabytes can stay armed
         * yet never report the reset or close that follows its last bytes
         * (seen on 6.18: no CQE, the socket's error never read, the kernel
         * holding no work for it), so the connection waited for its read
         * timeout, or forever without one; one-shot receives never did. */
        c->recv_oneshot = 1;
        c->recv_stop = 1;
        (void)ur_cancel(c->loop->ur, c->recv_id);
    }
}

int myr__socket_ring_rearm(myr_conn *c, int res)
{
    int stopped = c->recv_stop;
    c->recv_stop = 0;
    /* The ring was empty when bytes came (they wait in the socket), or we
     * stopped it, or the connection is parked (what came before the end is
     * parsed first; the receive armed then finds the end again): arm again
     * when the connection wants input. */
    if (res == -ENOBUFS || (res == -ECANCELED && stopped) || res > 0 || c->parked_cmd != NULL) {
        myr__conn_kick(c);
        return 1;
    }
    return 0;
}

int myr__socket_recv_ring(myr_conn *c)
{
    ur_bufring *br = myr__loop_bufring(c->loop);
    if (br == NULL)
        return 0;
    /* Receives on the loop's ring hold no buffer while the socket is
     * quiet; armed idle or not (a server that closes is noticed at once).
     * READY: a multishot, unless a stream is queued. Before: one at a time,
     * so that none is armed when TLS takes the socket over after the
     * greeting. */
    if (c->ncmds == 0)
        c->recv_oneshot = 0;   /* idle: the big answer is over */
    int multi = myr__conn_multishot_ok(c) && !c->recv_oneshot;
    int rc = ur_recv_ring(&c->owner, MYR__TAG_RECV, c->fd, br, multi, &c->recv_id);
    if (rc < 0)
        return rc;
    c->recv_busy = 1;
    c->recv_ring = 1;
    c->recv_multi = (uint8_t)multi;
    c->recv_stop = 0;
    return 1;
}

void myr__socket_abort(myr_conn *c)
{
    if (c->send_busy)
        ur_cancel(c->loop->ur, c->send_id);
    if (c->recv_busy)
        ur_cancel(c->loop->ur, c->recv_id);
    if (c->fd >= 0 && !c->loop->discard)   /* a fork() child's discard: the parent's socket */
        shutdown(c->fd, SHUT_RDWR);   /* wakes anything still waiting on it */
}

static void plain_idle(myr_conn *c)
{
    if (!c->send_busy)
        myr__loop_buf_give(c->loop, &c->sending);
}

static void plain_free(myr_conn *c)
{
    if (c->secret_out)
        myr__buf_wipe(&c->sending);
    myr__buf_reset(&c->sending);
    myr__loop_buf_give(c->loop, &c->sending);
}

const myr__transport myr__transport_plain = {
    .name = "plain",
    .flush = plain_flush,
    .recv = plain_recv,
    .complete = plain_complete,
    .abort = myr__socket_abort,
    .idle = plain_idle,
    .free = plain_free,
};
