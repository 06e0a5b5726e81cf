/*
 * src/stream.c -- streaming rows (myr_query_stream): a command whose rows
 * are handed to the application in batches instead of being kept.
 *
 * How a batch travels. The stream's sink (myr__stream_sink) builds the
 * current result set's batch with an inner sink (the buffered result's for
 * text rows). When the batch is full (MYR__STREAM_BATCH bytes of rows and
 * cells) or its set has ended, the sink answers MYR__SINK_PAUSE and the
 * codec stops; when the bytes received so far are parsed and rows are
 * waiting, the connection layer asks rows_waiting. Either way the
 * connection is parked (conn_state.c): it parses nothing more and arms no
 * recv, so the kernel's socket buffer fills and the server waits. In the
 * loop's settle phase, with no connection mid-parse, deliver hands the
 * batch to the callback, forgets its rows (the arena goes back to the mark
 * taken before the set's first row; the columns stay), and the connection
 * parses on. Memory is one batch plus the receive buffer, whatever the
 * result's size.
 *
 * The end. finish runs when the response is over (or the connection died);
 * if a batch is still due the connection parks with the finished command
 * (it has left the queue; the next command's response waits behind it), and
 * deliver resolves the future after the last call. The future's value is
 * the last OK / end of rows, kept in cmd->res (so the connection's
 * server_status follows it as for a buffered query).
 */
#include <stddef.h>
#include <string.h>

#include "stream_internal.h"

/* A batch is handed out once its rows (payload copies and cells) reach
 * this many bytes; one recv (16 KiB) usually makes a smaller one first. */
#define MYR__STREAM_BATCH (64u * 1024u)

struct myr__stream {
    myr_rows_cb cb;
    void *arg;
    const myr__sink *inner;    /* builds the batch (ctx: &batch) */
    myr__results batch;        /* the current result set: columns + rows not handed out */
    myr__rmark mark;           /* where the set's rows start in the batch's arena */
    size_t batch_bytes;        /* rows of the batch, in bytes (payloads + cells) */
    size_t next_index;         /* set_index of the response's next result */
    uint8_t marked;            /* mark is set for the current set */
    uint8_t ended;             /* the current set ended: its last batch is due */
    uint8_t stopped;           /* cb returned non-zero (or the future was freed) */
    uint8_t finished;          /* the command is over: resolve after the last batch */
    uint8_t in_cb;             /* cb is running */
    int status;                /* how it finished */
    myr_error *err;            /* and why, when it failed (NULL: from the code alone) */
};

static myr__cmd *cmd_of(void *ctx) { return (myr__cmd *)(void *)((char *)ctx - offsetof(myr__cmd, res)); }

myr__stream *myr__stream_new(const myr__sink *inner, myr_rows_cb cb, void *arg)
{
    myr__stream *st = myr__calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    st->inner = inner;
    st->cb = cb;
    st->arg = arg;
    return st;
}

static void stream_free(myr__stream *st)
{
    myr__results_clear(&st->batch);
    myr__free(st->err);
    myr__free(st);
}

/* ------------------------------------------------------------------ sink */

/* The end of a statement (an OK, or the end of a set's rows) becomes the
 * future's value: only the last one is kept. */
static int keep_end(myr__cmd *cmd, const myr__ok *ok, size_t index)
{
    myr__results_clear(&cmd->res);
    int rc = myr__results_sink.ok(&cmd->res, ok);
    if (rc == 0)
        cmd->res.tail->set_index = index;
    return rc;
}

static int s_ok(void *ctx, const myr__ok *ok)
{
    myr__cmd *cmd = cmd_of(ctx);
    return keep_end(cmd, ok, cmd->stream->next_index++);
}

static int s_columns(void *ctx, uint64_t ncols)
{
    myr__stream *st = cmd_of(ctx)->stream;
    myr__results_clear(&st->batch);   /* empty already: the last set was handed out */
    int rc = st->inner->columns(&st->batch, ncols);
    if (rc != 0)
        return rc;
    st->batch.tail->set_index = st->next_index++;
    st->marked = st->ended = 0;
    st->batch_bytes = 0;
    return 0;
}

static int s_column(void *ctx, size_t i, const uint8_t *p, size_t len)
{
    myr__stream *st = cmd_of(ctx)->stream;
    return st->inner->column(&st->batch, i, p, len);
}

/* Before a row's slots: the set's first row marks where its rows start. */
static myr__stream *before_row(void *ctx)
{
    myr__stream *st = cmd_of(ctx)->stream;
    if (!st->marked) {
        myr__result_mark(st->batch.tail, &st->mark);
        st->marked = 1;
    }
    return st;
}

/* A row of len bytes was added (rc: the inner sink's answer): is the
 * batch full? */
static int after_row(myr__stream *st, int rc, size_t len)
{
    if (rc != 0)
        return rc;
    st->batch_bytes += len + 1 + st->batch.tail->ncols * sizeof(myr__field);
    if (st->batch_bytes < MYR__STREAM_BATCH)
        return 0;
    if (st->stopped) {   /* nobody wants them: drop, read on */
        myr__result_rewind(st->batch.tail, &st->mark);
        st->batch_bytes = 0;
        return 0;
    }
    return MYR__SINK_PAUSE;
}

static myr__field *s_row_slots(void *ctx, size_t len, uint8_t **copy)
{
    myr__stream *st = before_row(ctx);
    return st->inner->row_slots(&st->batch, len, copy);
}

/* Canceled (myr_cancel, a query timeout): no batch is wanted any more. */
static myr__stream *check_cancel(myr__cmd *cmd)
{
    if (cmd->cancel != MYR__CANCEL_NONE)
        cmd->stream->stopped = 1;
    return cmd->stream;
}

static int s_row(void *ctx, myr__field *f, const uint8_t *p, size_t len)
{
    myr__stream *st = check_cancel(cmd_of(ctx));
    return after_row(st, st->inner->row(&st->batch, f, p, len), len);
}

/* Binary rows (a prepared statement's), when the inner sink has them. */
static myr__field *s_bin_slots(void *ctx, const myr_column **cols)
{
    myr__stream *st = before_row(ctx);
    return st->inner->bin_slots ? st->inner->bin_slots(&st->batch, cols) : NULL;
}

static int s_bin_row(void *ctx, myr__field *f, const uint8_t *p, size_t len)
{
    myr__stream *st = check_cancel(cmd_of(ctx));
    return after_row(st, st->inner->bin_row(&st->batch, f, p, len), len);
}

static int s_end(void *ctx, const myr__ok *ok)
{
    myr__cmd *cmd = cmd_of(ctx);
    myr__stream *st = check_cancel(cmd);
    int rc = st->inner->end(&st->batch, ok);
    if (rc == 0)
        rc = keep_end(cmd, ok, st->batch.tail->set_index);
    if (rc != 0)
        return rc;
    if (st->stopped) {
        myr__results_clear(&st->batch);
        return 0;
    }
    st->ended = 1;
    return MYR__SINK_PAUSE;   /* the set's last batch is due */
}

const myr__sink myr__stream_sink = {
    .ok = s_ok,
    .columns = s_columns,
    .column = s_column,
    .row_slots = s_row_slots,
    .row = s_row,
    .end = s_end,
    .bin_slots = s_bin_slots,
    .bin_row = s_bin_row,
};

/* ----------------------------------------------------------------- hooks */

/* The last batch was handed out (or dropped): the future resolves. */
static void resolve(myr__cmd *cmd, const myr_error *abandon)
{
    myr__stream *st = cmd->stream;
    cmd->stream = NULL;
    int status = st->status;
    myr_error err;
    int has_err = 0;
    if (st->stopped && (status == 0 || status == MYR_ESERVER)) {
        /* The application stopped it; a server error after that is
         * part of the rest it did not want. */
        status = MYR_ECANCELED;
        myr__error_set(&err, MYR_ECANCELED, 0, NULL,
                       cmd->cancel != MYR__CANCEL_NONE ? "streaming query canceled by the application"
                                                       : "streaming query stopped by its rows callback");
        has_err = 1;
    } else if (status == 0 && abandon != NULL) {
        /* Received whole, but the connection went before the last batch
         * was handed out. */
        status = abandon->code;
        err = *abandon;
        has_err = 1;
    } else if (status != 0 && st->err != NULL) {
        err = *st->err;
        has_err = 1;
    }
    stream_free(st);
    myr_future *f = cmd->fut;
    if (status == 0) {
        f->val.result = cmd->res.head;
        cmd->res.head = cmd->res.tail = NULL;
    } else {
        myr__results_clear(&cmd->res);
    }
    myr__future_resolve(f, status, has_err ? &err : NULL);   /* cmd is part of f: last use */
}

int myr__stream_rows_waiting(const myr__cmd *cmd)
{
    const myr__stream *st = cmd->stream;
    return st != NULL && !st->stopped && cmd->cancel == MYR__CANCEL_NONE &&
           (st->ended || (st->batch.tail != NULL && st->batch.tail->nrows > 0));
}

void myr__stream_finish(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err)
{
    myr__stream *st = cmd->stream;
    if (st == NULL) {   /* failed before its stream was attached (myr__conn_command) */
        myr__results_clear(&cmd->res);
        myr__future_resolve(cmd->fut, status, err);
        return;
    }
    st->finished = 1;
    st->status = status;
    if (status != 0 && err != NULL && err->code != 0) {
        st->err = myr__malloc(sizeof *st->err);   /* NULL: the code alone will do */
        if (st->err != NULL)
            *st->err = *err;
    }
    if (st->in_cb)
        return;   /* the connection died under the callback: deliver resolves */
    if (c->state == MYR__CS_READY && myr__stream_rows_waiting(cmd)) {
        myr__conn_park(c, cmd);   /* the last batch first */
        return;
    }
    resolve(cmd, NULL);
}

void myr__stream_deliver(myr_conn *c, myr__cmd *cmd, const myr_error *abandon)
{
    (void)c;
    myr__stream *st = cmd->stream;
    if (cmd->fut->detached || cmd->cancel != MYR__CANCEL_NONE)
        st->stopped = 1;   /* the future was freed or canceled: nobody is listening */
    myr_result *b = st->batch.tail;
    if (abandon == NULL && !st->stopped && b != NULL && (b->nrows > 0 || st->ended)) {
        st->in_cb = 1;
        int rc = st->cb(b, st->arg);   /* may queue, free futures, close or free c */
        st->in_cb = 0;
        if (rc != 0)
            st->stopped = 1;
    }
    if (st->ended) {
        myr__results_clear(&st->batch);
        st->ended = st->marked = 0;
    } else if (b != NULL && st->marked) {
        myr__result_rewind(b, &st->mark);
    }
    st->batch_bytes = 0;
    if (st->finished)
        resolve(cmd, abandon);
}

/* --------------------------------------------------------------- queries */

myr_future *myr__stream_command(myr_conn *c, const myr__cmd_kind *k, const void *arg, size_t len,
                                void *ctx, myr__stream *st)
{
    myr_future *f = myr__conn_command(c, k, arg, len, ctx);
    if (f == NULL || f->done) {   /* failed at once: no response will come */
        stream_free(st);
        return f;
    }
    /* Queued; nothing is parsed before the next tick. */
    f->cmd.stream = st;
    return f;
}

/* QUERY with its rows streamed (not in commands.c: the stream's hooks live
 * here). */
static int encode_query(const myr__cmd_kind *k, myr__buf *out, uint8_t *seq, const void *arg,
                        size_t len)
{
    return myr__cmd_build_seq(out, k->com, arg, len, seq);
}

static const myr__cmd_kind cmd_query_stream = {
    .name = "QUERY (streaming)", .com = MYR__COM_QUERY, .fut_kind = MYR__FUT_RESULT, .reply = 1,
    .encode = encode_query, .sink = &myr__stream_sink, .finish = myr__stream_finish,
    .rows_waiting = myr__stream_rows_waiting, .deliver = myr__stream_deliver,
};

myr_future *myr_query_stream(myr_conn *c, const char *sql, size_t len, myr_rows_cb cb, void *arg)
{
    myr_error err;
    if (cb == NULL) {
        myr__error_set(&err, MYR_EINVAL, 0, NULL, "myr_query_stream without a rows callback");
        return myr__future_failed(NULL, MYR__FUT_RESULT, &err);
    }
    myr__stream *st = myr__stream_new(&myr__results_sink, cb, arg);
    if (st == NULL) {
        myr__error_set(&err, MYR_ENOMEM, 0, NULL, "out of memory starting a streaming query");
        return myr__future_failed(NULL, MYR__FUT_RESULT, &err);
    }
    if (sql == NULL)
        len = 0;
    return myr__stream_command(c, &cmd_query_stream, sql, len, NULL, st);
}
