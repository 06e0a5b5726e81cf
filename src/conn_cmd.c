/*
 * src/conn_cmd.c -- commands on a READY connection: the queue (pipelined:
 * results are matched to commands in order), the window policy that decides
 * when queued commands leave, reading each response through the codec into
 * the command's sink. What differs between
 * command kinds is in the command table (commands.c), not here.
 *
 * The window (MYR_OPT_PIPELINE_REFILL, default 0): commands queued while
 * more than `refill` commands already sent still await their responses are
 * held in c->out and leave together once the window has drained to that
 * level, unless the connection is the only one of its loop with commands in
 * flight (loop->busy_conns). A server thread then finds a whole batch, answers it, and blocks
 * in read() until the next batch, instead of always finding exactly one new
 * query waiting (which keeps it running until preempted, and starves the
 * other connections' threads in turn: p99 latency 100x p50 at 64
 * connections). refill = -1 sends every command at once.
 */
#include <string.h>

#include "conn_internal.h"

/* ------------------------------------------------------------------ queue */

/* The next response read answers cmd (commands without reply in front of
 * it, e.g. STMT_CLOSE, get none). */
static void expect_reply(myr_conn *c, const myr__cmd *cmd)
{
    myr__conn_resp_for(c, cmd);
    c->reader.seq = cmd->reply_seq;
}

/* The first queued command that expects a reply, or NULL. */
static myr__cmd *first_reply(const myr_conn *c)
{
    myr__cmd *cmd = c->cmd_head;
    while (cmd != NULL && !cmd->kind->reply)
        cmd = cmd->next;
    return cmd;
}

int myr__conn_queue(myr_conn *c, const myr__cmd_kind *k, const void *arg, size_t len, myr_future *fut)
{
    return myr__conn_queue_cmd(c, k, arg, len, fut, NULL);
}

int myr__conn_queue_cmd(myr_conn *c, const myr__cmd_kind *k, const void *arg, size_t len,
                        myr_future *fut, myr__cmd *own)
{
    int allocated = own == NULL && fut == NULL;
    myr__cmd *cmd = own ? own : fut ? &fut->cmd : myr__calloc(1, sizeof *cmd);
    if (cmd == NULL)
        return MYR_ENOMEM;
    size_t before = c->out.len;
    uint8_t seq = 0;   /* every command starts a new sequence */
    if ((len < MYR__IOBUF_SIZE - 8 && myr__loop_buf_take(c->loop, &c->out) != 0) ||
        k->encode(k, &c->out, &seq, arg, len) != 0) {
        c->out.len = before;
        if (allocated)
            myr__free(cmd);
        return MYR_ENOMEM;
    }
    c->queued_pos += c->out.len - before;
    cmd->len = c->out.len - before;
    cmd->cancel = MYR__CANCEL_NONE;
    cmd->cancel_live = 0;
    cmd->deadline_ns = 0;
    if (fut != NULL && k->reply && c->opts.query_timeout_ms > 0) {
        /* The clock starts now, when the command is queued. */
        cmd->deadline_ns = ur_now_ns() + (uint64_t)c->opts.query_timeout_ms * 1000000u;
        if (!ur_timer_armed(&c->query_timer))
            ur_timer_start(c->loop->ur, &c->query_timer, cmd->deadline_ns);
    }
    cmd->next = NULL;
    cmd->kind = k;
    cmd->fut = fut;
    cmd->end_pos = c->queued_pos;
    cmd->reply_seq = seq;   /* the reply follows the command's last frame */
    cmd->res.head = cmd->res.tail = NULL;
    cmd->res.conn = c;
    if (c->cmd_tail)
        c->cmd_tail->next = cmd;
    else
        c->cmd_head = cmd;
    c->cmd_tail = cmd;
    c->ncmds++;
    if (k->reply && c->nreply++ == 0)
        expect_reply(c, cmd);   /* no response is being read: this one is next */
    myr__conn_kick(c);
    return 0;
}

int myr__conn_window_open(const myr_conn *c)
{
    /* While a canceled command that was sent is still being drained (or a
     * kill is out for it), nothing new leaves: a KILL QUERY then can only
     * hit a command that is meant to die (conn_cancel.c). */
    if (c->ncancel > 0 || c->kill != NULL)
        return c->urgent > 0;
    int refill = c->opts.pipeline_refill;
    /* Alone with commands in flight on its loop, a connection keeps its
     * pipeline full: there is no other connection to be unfair to, and
     * draining it every window would halve its throughput. */
    return refill < 0 || c->urgent > 0 || c->awaiting <= (size_t)refill ||
           c->loop->busy_conns <= 1;
}

/* The first command whose bytes are not in place yet, or NULL. */
static myr__cmd *first_held(const myr_conn *c)
{
    if (c->nheld == 0)
        return NULL;
    for (myr__cmd *cmd = c->cmd_head; cmd != NULL; cmd = cmd->next)
        if (cmd->kind->held && cmd->len == 0)
            return cmd;
    return NULL;
}

size_t myr__conn_held_bytes(const myr_conn *c)
{
    const myr__cmd *h = first_held(c);
    return h != NULL ? (size_t)(c->queued_pos - h->end_pos) : 0;
}

int myr__conn_insert(myr_conn *c, myr__cmd *cmd, const uint8_t *p, size_t n)
{
    if (myr__buf_reserve(&c->out, n) != 0)
        return MYR_ENOMEM;
    /* cmd ends where its bytes go: everything from there on moves up. */
    size_t after = (size_t)(c->queued_pos - cmd->end_pos);
    uint8_t *at = myr__buf_rptr(&c->out) + myr__buf_unread(&c->out) - after;
    memmove(at + n, at, after);
    memcpy(at, p, n);
    c->out.len += n;
    for (myr__cmd *x = cmd->next; x != NULL; x = x->next)
        x->end_pos += n;
    cmd->end_pos += n;
    cmd->len = n;
    c->queued_pos += n;
    myr__conn_kick(c);
    return 0;
}

void myr__conn_handed(myr_conn *c)
{
    if (c->awaiting == 0 && c->nreply > 0)
        c->loop->busy_conns++;
    /* Everything queued was in c->out but held commands and those after
     * them (myr__conn_held_bytes). */
    size_t held = 0;
    for (myr__cmd *cmd = first_held(c); cmd != NULL; cmd = cmd->next)
        held += cmd->kind->reply;
    c->awaiting = c->nreply - held;
    c->urgent = 0;
}

int myr__conn_wants_input(const myr_conn *c)
{
    if (c->state == MYR__CS_GREETING || c->state == MYR__CS_AUTH)
        return 1;
    return c->state == MYR__CS_READY && c->awaiting > 0 && c->parked_cmd == NULL;
}

void myr__conn_advance(myr_conn *c)
{
    /* Not while parked: a command's future must not resolve before the
     * batch of the one in front of it is handed out. */
    while (c->state == MYR__CS_READY && c->cmd_head != NULL && !c->cmd_head->kind->reply &&
           c->sent_pos >= c->cmd_head->end_pos && c->parked_cmd == NULL) {
        myr__cmd *cmd = myr__conn_pop_head(c);
        myr__cmd_finish(c, cmd, 0, NULL);
    }
}

void myr__conn_finish_head(myr_conn *c, int status, const myr_error *err)
{
    myr__cmd *cmd = myr__conn_pop_head(c);
    if (status == 0 && cmd->res.tail != NULL)
        c->server_status = (uint16_t)cmd->res.tail->status;
    myr__cmd *next = first_reply(c);
    if (next != NULL)
        expect_reply(c, next);
    else
        myr__resp_init(&c->resp, c->caps);
    myr__cmd_finish(c, cmd, status, err);
    myr__conn_advance(c);
    myr__conn_cancel_check(c);   /* the new head may be one to kill */
    if (myr__buf_unread(&c->out) > 0)
        myr__conn_kick(c);   /* the window may have opened */
}

/* ---------------------------------------------------------------- responses */

/* The server asks for a local file although we never offered to send one:
 * it gets an empty file, and its answer to that ends the command. The
 * packet must come before any command still held in c->out. */
static int send_empty_file(myr_conn *c)
{
    myr__buf pkt;
    myr__buf_init(&pkt);
    c->wseq = c->reader.seq;   /* inside a command the writer answers the reader */
    if (myr__auth_data_build(&pkt, c->wseq, NULL, 0) != 0 ||
        myr__buf_reserve(&c->out, pkt.len) != 0) {
        myr__buf_free(&pkt);
        return MYR_ENOMEM;
    }
    c->reader.seq = ++c->wseq;
    /* In front of the held commands, behind earlier urgent bytes. */
    size_t n = pkt.len;
    uint8_t *at = myr__buf_rptr(&c->out) + c->urgent;
    memmove(at + n, at, myr__buf_unread(&c->out) - c->urgent);
    memcpy(at, pkt.data, n);
    myr__buf_free(&pkt);
    uint64_t handed = c->queued_pos - myr__buf_unread(&c->out);
    c->out.len += n;
    /* Commands still in c->out now end n bytes later in the stream. */
    for (myr__cmd *cmd = c->cmd_head; cmd != NULL; cmd = cmd->next)
        if (cmd->end_pos > handed)
            cmd->end_pos += n;
    c->queued_pos += n;
    c->urgent += n;
    myr__conn_kick(c);
    return 0;
}

void myr__conn_response(myr_conn *c, const uint8_t *p, size_t len)
{
    /* Bytes for a later command: commands without reply in front of it
     * have left, whether or not their send completion was seen yet. */
    while (c->cmd_head != NULL && !c->cmd_head->kind->reply && c->cmd_head->next != NULL &&
           c->awaiting > 0) {
        myr__cmd *done = myr__conn_pop_head(c);
        done->kind->finish(c, done, 0, NULL);
    }
    myr__cmd *cmd = c->cmd_head;
    if (cmd == NULL || !cmd->kind->reply || c->awaiting == 0) {
        /* Nothing asked: the server speaks on its own only to say goodbye. */
        myr__err e;
        if (myr__is_err(p, len) && myr__err_parse(p, len, c->caps, &e) == 0) {
            myr_error err;
            myr__error_set(&err, MYR_EGONE, e.code, e.sqlstate,
                           "the server closed the connection while it was idle: %.*s",
                           (int)e.message_len, (const char *)e.message);
            myr__conn_die(c, &err);
        } else {
            myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (unsolicited data)");
        }
        return;
    }
    myr__err e;
    int rc = myr__resp_read(&c->resp, p, len, cmd->kind->sink, &cmd->res, &e);
    if (c->resp.paused) {   /* a streaming batch is due: parse no further for now */
        c->resp.paused = 0;
        if (rc == MYR__RESP_MORE) {
            myr__conn_park(c, cmd);
            return;
        }   /* the response is over: the kind's finish parks if rows are waiting */
    }
    switch (rc) {
    case MYR__RESP_MORE:
        return;
    case MYR__RESP_DONE:
        myr__conn_finish_head(c, 0, NULL);
        return;
    case MYR__RESP_ERR: {
        myr_error err;
        myr__error_set(&err, MYR_ESERVER, e.code, e.sqlstate, "%.*s", (int)e.message_len,
                       (const char *)e.message);
        myr__conn_finish_head(c, MYR_ESERVER, &err);
        return;
    }
    case MYR__RESP_INFILE:
        if (send_empty_file(c) == 0)
            return;
        rc = MYR_ENOMEM;
        break;
    default:
        break;
    }
    if (rc == MYR_EMALFORMED)
        myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (in the response to %s)",
                       cmd->kind->name);
    else   /* out of memory mid-response: the rest cannot be skipped without its state */
        myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory reading a result");
}

size_t myr__conn_rows(myr_conn *c, const uint8_t *buf, size_t n)
{
    myr__cmd *cmd = c->cmd_head;
    if (c->state != MYR__CS_READY || cmd == NULL || !cmd->kind->reply || c->reader.joining ||
        c->awaiting == 0)
        return 0;   /* the general path (myr__conn_response) says what the bytes are */
    long used = myr__resp_rows(&c->resp, &c->reader.seq, buf, n, cmd->kind->sink, &cmd->res);
    if (used >= 0) {
        int paused = c->resp.paused;
        c->resp.paused = 0;
        if (myr__resp_done(&c->resp))
            myr__conn_finish_head(c, 0, NULL);   /* the kind's finish parks if rows wait */
        else if (paused)
            myr__conn_park(c, cmd);
        return (size_t)used;
    }
    if (used == MYR_EMALFORMED)
        myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (result set)");
    else
        myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory reading a result");
    return 0;
}

/* ---------------------------------------------------------------- commands */

/* A command refused: its future, failed with err (NULL if out of memory). */
static int refuse(const myr__cmd_kind *k, const myr_error *err, myr_future **refused)
{
    *refused = myr__future_failed(NULL, (myr__fut_kind)k->fut_kind, err);
    return 1;
}

int myr__conn_refuse(myr_conn *c, const myr__cmd_kind *k, myr_future **refused)
{
    myr_error err;
    if (c == NULL) {
        myr__error_set(&err, MYR_EINVAL, 0, NULL, "%s on a NULL connection", k->name);
        return refuse(k, &err, refused);
    }
    if (myr__loop_enter(c->loop, &err) != 0)   /* wrong thread, fork() child, loop being freed */
        return refuse(k, &err, refused);
    if (c->closing) {
        myr__error_set(&err, MYR_ECLOSED, 0, NULL, "connection is being closed");
        return refuse(k, &err, refused);
    }
    if (c->state != MYR__CS_READY) {
        if (c->dead_once)
            myr__error_set(&err, MYR_EGONE, 2006, NULL, "Server has gone away (%s)",
                           c->death ? c->death : "connection lost");
        else
            myr__error_set(&err, MYR_EINVAL, 0, NULL, "connection is not ready");
        return refuse(k, &err, refused);
    }
    *refused = NULL;
    return 0;
}

myr_future *myr__conn_command(myr_conn *c, const myr__cmd_kind *k, const void *arg, size_t len,
                              void *ctx)
{
    /* The usual case checked inline (the loop first: from another thread
     * nothing else of it may be read); anything else gets its error there. */
    if (!(c != NULL && myr__loop_check(c->loop, NULL) == 0 && !c->loop->closing && !c->closing &&
          c->state == MYR__CS_READY)) {
        myr_future *refused;
        if (myr__conn_refuse(c, k, &refused))
            return refused;   /* NULL: not even the failed future could be allocated */
    }
    myr_future *f = myr__future_new(c->loop, (myr__fut_kind)k->fut_kind);
    if (f == NULL)
        return NULL;
    f->conn = c;
    f->cmd.ctx = ctx;
    f->cmd.fut = f;   /* k->finish below finds its future even when queueing fails */
    int rc = myr__conn_queue(c, k, arg, len, f);
    if (rc != 0) {
        if (ctx != NULL)
            k->finish(c, &f->cmd, rc, NULL);   /* resolves f, lets go of ctx */
        else
            myr__future_resolve(f, rc, NULL);
    }
    return f;
}

myr_future *myr__command(myr_conn *c, const myr__cmd_kind *k, const void *arg, size_t len)
{
    return myr__conn_command(c, k, arg, len, NULL);
}

static myr_future *command(myr_conn *c, const myr__cmd_kind *k, const void *arg, size_t len)
{
    return myr__conn_command(c, k, arg, len, NULL);
}

myr_future *myr_query(myr_conn *c, const char *sql, size_t len)
{
    if (sql == NULL)
        len = 0;
    return command(c, &myr__cmd_query, sql, len);
}

myr_future *myr_ping(myr_conn *c) { return command(c, &myr__cmd_ping, NULL, 0); }
myr_future *myr_reset(myr_conn *c)
{
    myr_future *f = command(c, &myr__cmd_reset, NULL, 0);
    if (f != NULL && !f->done) {
        /* Statements prepared before it are gone once it runs: the cache
         * must not hand them to commands queued after it. */
        c->reset_gen++;
        c->last_prep = NULL;
    }
    return f;
}

myr_future *myr_select_db(myr_conn *c, const char *db)
{
    return command(c, &myr__cmd_init_db, db, db ? strlen(db) : 0);
}

