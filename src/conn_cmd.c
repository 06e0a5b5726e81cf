/*
 * src/conn_cmd.c -- commands on a READY connection: queueing (pipelined:
 * every command queued before a tick leaves in one send), reading each
 * response with the codec's response machine, and resolving the command's
 * future with its results or its own error.
 */
#include <string.h>

#include "conn_internal.h"

static myr_future *failed(myr_conn *c, myr__fut_kind kind, const myr_error *err)
{
    return myr__future_failed(c->loop, kind, err);
}

/* Queue one command packet; fut NULL for COM_QUIT. */
static int queue_cmd(myr_conn *c, uint8_t com, const void *arg, size_t len, myr_future *fut)
{
    myr__cmd *cmd = fut ? &fut->cmd : myr__calloc(1, sizeof *cmd);
    if (cmd == NULL)
        return MYR_ENOMEM;
    size_t before = c->out.len;
    if ((len < MYR__IOBUF_SIZE - 8 && myr__loop_buf_take(c->loop, &c->out) != 0) ||
        myr__cmd_build(&c->out, com, arg, len) != 0) {
        c->out.len = before;
        if (fut == NULL)
            myr__free(cmd);
        return MYR_ENOMEM;
    }
    c->queued_pos += c->out.len - before;
    cmd->com = com;
    cmd->fut = fut;
    cmd->end_pos = c->queued_pos;
    /* The reply's sequence id follows the command's last frame. */
    cmd->reply_seq = (uint8_t)((1 + len) / MYR__PKT_MAX + 1);
    if (c->cmd_tail)
        c->cmd_tail->next = cmd;
    else {
        c->cmd_head = cmd;
        myr__resp_init(&c->resp, c->caps);
        c->reader.seq = cmd->reply_seq;
    }
    c->cmd_tail = cmd;
    c->ncmds++;
    myr__conn_kick(c);
    return 0;
}

static myr_future *command(myr_conn *c, uint8_t com, const void *arg, size_t len, myr__fut_kind kind)
{
    if (c == NULL)
        return NULL;
    myr_error err;
    if (c->closing) {
        myr__error_set(&err, MYR_ECLOSED, 0, NULL, "connection is being closed");
        return failed(c, kind, &err);
    }
    if (c->state != MYR__CS_READY) {
        if (c->dead_once)
            myr__error_set(&err, MYR_EGONE, 2006, NULL, "Server has gone away (%s)",
                           c->death ? c->death : "connection lost");
        else
            myr__error_set(&err, MYR_EINVAL, 0, NULL, "connection is not ready");
        return failed(c, kind, &err);
    }
    myr_future *f = myr__future_new(c->loop, kind);
    if (f == NULL)
        return NULL;
    int rc = queue_cmd(c, com, arg, len, f);
    if (rc != 0)
        myr__future_resolve(f, rc, NULL);
    return f;
}

myr_future *myr_query(myr_conn *c, const char *sql, size_t len)
{
    if (sql == NULL)
        len = 0;
    return command(c, MYR__COM_QUERY, sql, len, MYR__FUT_RESULT);
}

myr_future *myr_ping(myr_conn *c) { return command(c, MYR__COM_PING, NULL, 0, MYR__FUT_PLAIN); }
myr_future *myr_reset(myr_conn *c) { return command(c, MYR__COM_RESET_CONNECTION, NULL, 0, MYR__FUT_PLAIN); }

myr_future *myr_select_db(myr_conn *c, const char *db)
{
    return command(c, MYR__COM_INIT_DB, db, db ? strlen(db) : 0, MYR__FUT_PLAIN);
}

int myr__conn_queue_quit(myr_conn *c)
{
    return queue_cmd(c, MYR__COM_QUIT, NULL, 0, NULL);
}

/* ---------------------------------------------------------------- responses */

/* The head command is answered in full: resolve it and move on. */
static void finish_head(myr_conn *c, int status, const myr_error *err)
{
    myr__cmd *cmd = c->cmd_head;
    c->cmd_head = cmd->next;
    if (c->cmd_head == NULL)
        c->cmd_tail = NULL;
    c->ncmds--;
    myr__resp_init(&c->resp, c->caps);
    if (c->cmd_head != NULL)
        c->reader.seq = c->cmd_head->reply_seq;
    myr_future *f = cmd->fut;
    if (f->kind == MYR__FUT_RESULT)
        f->val.result = cmd->head;   /* on error: what arrived before it */
    else
        myr_result_free(cmd->head);
    cmd->head = cmd->tail = NULL;
    cmd->next = NULL;
    myr__future_resolve(f, status, err);   /* cmd is part of f: last use */
    /* The future's callback may have freed or closed the connection. */
    if (c->state == MYR__CS_READY)
        myr__conn_check_quit(c);
}

static int append_result(myr__cmd *cmd)
{
    myr_result *r = myr__result_new();
    if (r == NULL)
        return MYR_ENOMEM;
    if (cmd->tail)
        cmd->tail->next = r;
    else
        cmd->head = r;
    cmd->tail = r;
    return 0;
}

void myr__conn_response(myr_conn *c, const uint8_t *p, size_t len)
{
    myr__cmd *cmd = c->cmd_head;
    if (cmd == NULL || cmd->com == MYR__COM_QUIT) {
        /* Nothing asked: the server speaks on its own only to say goodbye. */
        myr__err e;
        if (myr__is_err(p, len) && myr__err_parse(p, len, c->caps, &e) == 0) {
            myr_error err;
            myr__error_set(&err, MYR_EGONE, e.code, e.sqlstate, "%.*s", (int)e.message_len,
                           (const char *)e.message);
            myr__conn_die(c, &err);
        } else {
            myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (unsolicited data)");
        }
        return;
    }
    myr__resp_ev ev;
    if (myr__resp_feed(&c->resp, p, len, &ev) != 0) {
        myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (in a command response)");
        return;
    }
    int rc = 0;
    switch (ev.kind) {
    case MYR__EV_OK:
        c->server_status = ev.ok.status;
        if ((rc = append_result(cmd)) == 0)
            rc = myr__result_set_ok(cmd->tail, &ev.ok);
        break;
    case MYR__EV_ERR: {
        myr_error err;
        myr__error_set(&err, MYR_ESERVER, ev.err.code, ev.err.sqlstate, "%.*s", (int)ev.err.message_len,
                       (const char *)ev.err.message);
        finish_head(c, MYR_ESERVER, &err);
        return;
    }
    case MYR__EV_COLUMNS:
        if ((rc = append_result(cmd)) == 0)
            rc = myr__result_set_columns(cmd->tail, ev.ncols);
        break;
    case MYR__EV_COLUMN:
        rc = myr__result_add_column(cmd->tail, ev.col_index, &ev.col, p, len);
        break;
    case MYR__EV_COLUMNS_END:
        break;
    case MYR__EV_ROW:
        rc = myr__result_add_row(cmd->tail, p, len);
        break;
    case MYR__EV_ROWS_END:
        c->server_status = ev.ok.status;
        rc = myr__result_set_ok(cmd->tail, &ev.ok);
        break;
    case MYR__EV_LOCAL_INFILE:
        /* We never offer LOCAL_FILES; a server that asks anyway gets an
         * empty file, and its answer to that ends the command. */
        {
            uint8_t seq = c->reader.seq;
            size_t before = c->out.len;
            if (myr__auth_data_build(&c->out, seq, NULL, 0) != 0) {
                rc = MYR_ENOMEM;
                break;
            }
            c->reader.seq = (uint8_t)(seq + 1);
            c->queued_pos += c->out.len - before;
            myr__conn_kick(c);
        }
        break;
    }
    if (rc == MYR_EMALFORMED) {
        myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (result set)");
        return;
    }
    if (rc != 0) {
        /* Out of memory mid-response: the rest of it cannot be skipped
         * safely without its state, so the connection ends. */
        myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory reading a result");
        return;
    }
    if (ev.done)
        finish_head(c, 0, NULL);
}

/* The hot loop of a large result: whole row frames taken straight from the
 * receive buffer while the head command is reading rows. Stops (leaving
 * the rest to the general path) at anything else: a partial or split
 * frame, an EOF/OK/ERR, a sequence id that is off. Returns bytes used. */
size_t myr__conn_rows(myr_conn *c, const uint8_t *buf, size_t n)
{
    myr__cmd *cmd = c->cmd_head;
    if (c->state != MYR__CS_READY || cmd == NULL || cmd->com != MYR__COM_QUERY || c->reader.joining ||
        !myr__resp_in_rows(&c->resp))
        return 0;
    myr_result *r = cmd->tail;
    size_t pos = 0;
    while (n - pos > 4) {
        uint32_t plen = myr__u24(buf + pos);
        if (plen == 0 || plen == MYR__PKT_MAX || buf[pos + 3] != c->reader.seq || n - pos - 4 < plen)
            break;
        const uint8_t *payload = buf + pos + 4;
        if (payload[0] == 0xFE || payload[0] == 0xFF)
            break;
        int rc = myr__result_add_row(r, payload, plen);
        if (rc != 0) {
            if (rc == MYR_EMALFORMED)
                myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (result set)");
            else
                myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory reading a result");
            break;
        }
        c->reader.seq++;
        pos += 4 + plen;
    }
    return pos;
}

/* ------------------------------------------------------------ blocking calls */

static int await_take(myr_future *f, myr_error *err)
{
    if (f == NULL) {
        myr__error_set(err, MYR_ENOMEM, 0, NULL, NULL);
        return MYR_ENOMEM;
    }
    int rc = myr_await(f, -1);
    if (rc != 0 && err != NULL)
        *err = *myr_future_error(f);
    else if (err != NULL)
        memset(err, 0, sizeof *err);
    return rc;
}

myr_conn *myr_connect_sync(myr_loop *loop, const myr_conn_opts *opts, myr_error *err)
{
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
    myr_future *f = myr_query(c, sql, len);
    int rc = await_take(f, err);
    myr_result *r = rc == 0 ? myr_future_take_result(f) : NULL;
    myr_future_free(f);
    return r;
}

int myr_ping_sync(myr_conn *c, myr_error *err)
{
    myr_future *f = myr_ping(c);
    int rc = await_take(f, err);
    myr_future_free(f);
    return rc;
}

int myr_close_sync(myr_conn *c, myr_error *err)
{
    if (c == NULL)
        return 0;
    myr_loop *own = c->own_loop;
    c->own_loop = NULL;
    myr_future *f = myr_close(c);
    int rc = await_take(f, err);
    myr_future_free(f);
    myr_loop_free(own);
    return rc;
}
