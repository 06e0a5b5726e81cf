/*
 * src/stmt_stream.c -- a prepared statement's execution with its rows
 * streamed (myr_stmt_execute_stream): an EXECUTE whose response goes
 * through the stream sink (stream.c) instead of a buffered result. Binary
 * rows reach the batch through the buffered result's sink, as for a
 * streaming query; what differs from one is the encoding (stmt_core.c) and
 * the statement reference the command holds.
 */
#include "stream_internal.h"

/* The response is over: the command lets go of its statement, then the
 * stream resolves (at once, or after its last batch). */
static void finish_exec_stream(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err)
{
    myr__stmt_unref(cmd->ctx);   /* ctx stays set: myr_stmt_execute_stream tells by it */
    myr__stream_finish(c, cmd, status, err);
}

const myr__cmd_kind myr__cmd_stmt_execute_stream = {
    .name = "STMT_EXECUTE (streaming)", .com = MYR__COM_STMT_EXECUTE, .fut_kind = MYR__FUT_RESULT,
    .reply = 1, .encode = myr__stmt_execute_encode, .sink = &myr__stream_sink,
    .finish = finish_exec_stream, .rows_waiting = myr__stream_rows_waiting,
    .deliver = myr__stream_deliver, .resp_mode = MYR__RMODE_BINARY, .stmt_ctx = 1,
};

myr_future *myr_stmt_execute_stream(myr_stmt *s, const myr_param *params, size_t n, myr_rows_cb cb,
                                    void *arg)
{
    size_t est = 0;
    myr_future *refused = myr__stmt_exec_check(s, params, n, &est);
    if (refused != NULL)
        return refused;
    myr_error err;
    if (cb == NULL) {
        myr__error_set(&err, MYR_EINVAL, 0, NULL, "myr_stmt_execute_stream without a rows callback");
        return myr__future_failed(NULL, MYR__FUT_RESULT, &err);
    }
    myr__stream *st = myr__stream_new(&myr__results_sink, cb, arg);
    if (st == NULL) {
        myr__error_set(&err, MYR_ENOMEM, 2008, NULL, "out of memory starting a streaming execute");
        return myr__future_failed(NULL, MYR__FUT_RESULT, &err);
    }
    myr__exec_arg a = {.stmt = s, .params = params, .n = n};
    myr__stmt_ref(s);
    myr_future *f = myr__stream_command(s->conn, &myr__cmd_stmt_execute_stream, &a, est, s, st);
    if (f == NULL || f->cmd.ctx == NULL)   /* refused before queueing: no command holds s */
        myr__stmt_unref(s);
    return f;
}
