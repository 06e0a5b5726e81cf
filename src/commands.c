/*
 * src/commands.c -- the command table: one entry per command kind (how it
 * is encoded, where its response goes, what its future resolves with).
 * The connection's queue, window and response reading (conn_cmd.c) treat
 * every kind alike through these entries; prepared statements and cancel
 * add entries here.
 */
#include <stdio.h>

#include "conn_internal.h"

/* A command byte and its argument in one packet (COM_QUERY, COM_PING, ...). */
static int encode_simple(const myr__cmd_kind *k, myr__buf *out, uint8_t *seq, const void *arg,
                         size_t len)
{
    return myr__cmd_build_seq(out, k->com, arg, len, seq);
}

/* QUERY: the future takes the result chain, also on error (what arrived
 * before it: results of earlier statements of a multi-statement query). */
static void finish_result(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err)
{
    (void)c;
    myr_future *f = cmd->fut;
    f->val.result = cmd->res.head;
    cmd->res.head = cmd->res.tail = NULL;
    myr__future_resolve(f, status, err);   /* cmd is part of f: last use */
}

/* PING, INIT_DB, RESET_CONNECTION: an OK or an error, nothing to keep. */
static void finish_plain(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err)
{
    (void)c;
    myr__results_clear(&cmd->res);
    myr__future_resolve(cmd->fut, status, err);
}

/* RESET_CONNECTION: the server forgot every prepared statement. */
static void finish_reset(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err)
{
    if (status == 0)
        myr__stmts_invalidate(c);
    finish_plain(c, cmd, status, err);
}

/* STMT_CLOSE has no reply: it is over once it has left. Without a future
 * (a statement nobody took) the command was allocated for it. */
static void finish_stmt_close(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err)
{
    if (cmd->fut == NULL) {
        myr__free(cmd);
        return;
    }
    finish_plain(c, cmd, status, err);
}

/* QUIT has no future: once it has left, the connection is over (the
 * server closes its end without answering). */
static void finish_quit(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err)
{
    (void)err;
    myr__free(cmd);
    if (status == 0 && c->state != MYR__CS_DEAD) {
        myr__conn_set_state(c, MYR__CS_DEAD);
        myr__conn_release(c);
    }
}

/* KILL QUERY <thread id> (arg: the uint32_t id), sent on a side connection
 * to stop another connection's running statement. */
static int encode_kill(const myr__cmd_kind *k, myr__buf *out, uint8_t *seq, const void *arg,
                       size_t len)
{
    (void)len;
    char sql[32];
    int n = snprintf(sql, sizeof sql, "KILL QUERY %u", (unsigned)*(const uint32_t *)arg);
    return myr__cmd_build_seq(out, k->com, sql, (size_t)n, seq);
}

/* KILL: no future; the record it belongs to is told (and freed). */
static void finish_kill(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err)
{
    (void)c;
    myr__results_clear(&cmd->res);
    myr__kill *k = (myr__kill *)cmd;
    k->done(k, status, err);
}

const myr__cmd_kind myr__cmd_query = {
    .name = "QUERY", .com = MYR__COM_QUERY, .fut_kind = MYR__FUT_RESULT, .reply = 1,
    .encode = encode_simple, .sink = &myr__results_sink, .finish = finish_result,
};
const myr__cmd_kind myr__cmd_ping = {
    .name = "PING", .com = MYR__COM_PING, .fut_kind = MYR__FUT_PLAIN, .reply = 1,
    .encode = encode_simple, .sink = &myr__results_sink, .finish = finish_plain,
};
const myr__cmd_kind myr__cmd_init_db = {
    .name = "INIT_DB", .com = MYR__COM_INIT_DB, .fut_kind = MYR__FUT_PLAIN, .reply = 1,
    .encode = encode_simple, .sink = &myr__results_sink, .finish = finish_plain,
};
const myr__cmd_kind myr__cmd_reset = {
    .name = "RESET_CONNECTION", .com = MYR__COM_RESET_CONNECTION, .fut_kind = MYR__FUT_PLAIN,
    .reply = 1, .encode = encode_simple, .sink = &myr__results_sink, .finish = finish_reset,
};
const myr__cmd_kind myr__cmd_quit = {
    .name = "QUIT", .com = MYR__COM_QUIT, .fut_kind = MYR__FUT_PLAIN, .reply = 0,
    .encode = encode_simple, .sink = NULL, .finish = finish_quit,
};
const myr__cmd_kind myr__cmd_stmt_prepare = {
    .name = "STMT_PREPARE", .com = MYR__COM_STMT_PREPARE, .fut_kind = MYR__FUT_STMT, .reply = 1,
    .encode = encode_simple, .sink = &myr__stmt_prepare_sink, .finish = myr__stmt_prepare_finish,
    .resp_mode = MYR__RMODE_PREPARE,
};
const myr__cmd_kind myr__cmd_stmt_execute = {
    .name = "STMT_EXECUTE", .com = MYR__COM_STMT_EXECUTE, .fut_kind = MYR__FUT_RESULT, .reply = 1,
    .encode = myr__stmt_execute_encode, .sink = &myr__results_sink,
    .finish = myr__stmt_execute_finish, .resp_mode = MYR__RMODE_BINARY, .stmt_ctx = 1,
};
const myr__cmd_kind myr__cmd_stmt_close = {
    .name = "STMT_CLOSE", .com = MYR__COM_STMT_CLOSE, .fut_kind = MYR__FUT_PLAIN, .reply = 0,
    .encode = myr__stmt_close_encode, .sink = NULL, .finish = finish_stmt_close,
};
const myr__cmd_kind myr__cmd_kill = {
    .name = "KILL QUERY", .com = MYR__COM_QUERY, .fut_kind = MYR__FUT_PLAIN, .reply = 1,
    .encode = encode_kill, .sink = &myr__results_sink, .finish = finish_kill,
};
const myr__cmd_kind myr__cmd_stmt_bulk = {
    .name = "STMT_BULK_EXECUTE", .com = MYR__COM_STMT_BULK_EXECUTE, .fut_kind = MYR__FUT_RESULT,
    .reply = 1, .encode = myr__stmt_bulk_encode, .sink = &myr__results_sink,
    .finish = myr__stmt_execute_finish, .resp_mode = MYR__RMODE_BINARY, .stmt_ctx = 1,
};
/* A bulk execute on a server without COM_STMT_BULK_EXECUTE: one execute
 * per row; the last one's future resolves with the sum (stmt_core.c). */
const myr__cmd_kind myr__cmd_stmt_part = {
    .name = "STMT_EXECUTE", .com = MYR__COM_STMT_EXECUTE, .fut_kind = MYR__FUT_RESULT, .reply = 1,
    .encode = myr__stmt_execute_encode, .sink = &myr__results_sink,
    .finish = myr__stmt_part_finish, .resp_mode = MYR__RMODE_BINARY,
};
const myr__cmd_kind myr__cmd_stmt_last = {
    .name = "STMT_EXECUTE", .com = MYR__COM_STMT_EXECUTE, .fut_kind = MYR__FUT_RESULT, .reply = 1,
    .encode = myr__stmt_execute_encode, .sink = &myr__results_sink,
    .finish = myr__stmt_last_finish, .resp_mode = MYR__RMODE_BINARY,
};
