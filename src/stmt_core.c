/*
 * src/stmt_core.c -- prepared statements below the command table: the
 * statement object (reference counted: its handle or prepare future, and
 * every queued command that names it), the connection's list of them
 * (invalidated by a reset, detached when the connection's memory goes),
 * and the parts of the STMT_* command table entries (commands.c): the
 * sink that reads a PREPARE answer, the EXECUTE / CLOSE encoders, what an
 * EXECUTE and a PREPARE resolve with.
 */
#include <string.h>

#include "conn_internal.h"

myr_stmt *myr__stmt_new(myr_conn *c)
{
    myr_stmt *s = myr__calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->refs = 1;
    s->conn = c;
    s->next = c->stmts;
    if (c->stmts)
        c->stmts->prev = s;
    c->stmts = s;
    return s;
}

void myr__stmt_ref(myr_stmt *s) { s->refs++; }

void myr__stmt_unref(myr_stmt *s)
{
    if (s == NULL || --s->refs > 0)
        return;
    if (s->conn != NULL) {
        if (s->conn->last_prep == s)
            s->conn->last_prep = NULL;
        if (s->prev)
            s->prev->next = s->next;
        else
            s->conn->stmts = s->next;
        if (s->next)
            s->next->prev = s->prev;
    }
    myr_result_free(s->meta);
    myr__colcache_free(&s->cols);
    myr__free(s->prep_err);
    myr__free(s);
}

void myr__stmts_invalidate(myr_conn *c)
{
    for (myr_stmt *s = c->stmts; s != NULL; s = s->next)
        s->valid = 0;
}

void myr__stmts_detach(myr_conn *c)
{
    myr_stmt *s = c->stmts;
    c->stmts = NULL;
    while (s != NULL) {
        myr_stmt *next = s->next;
        s->conn = NULL;
        s->valid = 0;
        s->pending = 0;
        s->next = s->prev = NULL;
        s = next;
    }
}

/* ------------------------------------------------------------- PREPARE */

/* The sink's context is the command's result chain (&cmd->res): the
 * command, and the statement it prepares (cmd->ctx), are around it. */
static myr__cmd *cmd_of(void *ctx)
{
    return (myr__cmd *)(void *)((char *)ctx - offsetof(myr__cmd, res));
}

static int prep_ok(void *ctx, const myr__prep_ok *ok)
{
    myr__cmd *cmd = cmd_of(ctx);
    myr_stmt *s = cmd->ctx;   /* the statement cache makes its statements before */
    if (s == NULL) {
        s = myr__stmt_new(cmd->fut->conn);   /* made only now: nothing to undo before */
        if (s == NULL)
            return MYR_ENOMEM;
        cmd->ctx = s;
    }
    s->id = ok->stmt_id;
    s->nparams = ok->nparams;
    s->ncols = ok->ncols;
    return 0;
}

static int prep_unexpected(void *ctx, const myr__ok *ok)
{
    (void)ctx;
    (void)ok;
    return MYR_EMALFORMED;
}

static myr__field *prep_no_rows(void *ctx, size_t len, uint8_t **copy)
{
    (void)ctx;
    (void)len;
    (void)copy;
    return NULL;
}

/* Column definitions go to a result of their own, kept by the results
 * sink; it becomes the statement's metadata. */
static int prep_columns(void *ctx, uint64_t ncols)
{
    return myr__results_sink.columns(ctx, ncols);
}

static int prep_column(void *ctx, size_t i, const uint8_t *p, size_t len)
{
    /* Kept raw too: an execute's answer may leave them out (MariaDB's
     * metadata caching) when they are still these. */
    myr_stmt *s = cmd_of(ctx)->ctx;
    int rc = myr__colcache_add(&s->cols, p, len);
    return rc != 0 ? rc : myr__results_sink.column(ctx, i, p, len);
}

const myr__sink myr__stmt_prepare_sink = {
    .ok = prep_unexpected,
    .columns = prep_columns,
    .column = prep_column,
    .row_slots = prep_no_rows,
    .end = prep_unexpected,
    .prepared = prep_ok,
};

void myr__stmt_prepare_finish(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err)
{
    (void)c;
    myr_stmt *s = cmd->ctx;
    myr_future *f = cmd->fut;
    if (status == 0) {
        s->meta = cmd->res.head;
        cmd->res.head = cmd->res.tail = NULL;
        s->valid = 1;
        f->val.ptr = s;   /* its reference moves to the future, then the caller */
    } else {
        myr__results_clear(&cmd->res);
        myr__stmt_unref(s);   /* NULL when the server refused */
    }
    myr__future_resolve(f, status, err);   /* cmd is part of f: last use */
}

/* ------------------------------------------------------------- EXECUTE */

int myr__stmt_execute_encode(const myr__cmd_kind *k, myr__buf *out, uint8_t *seq, const void *arg,
                             size_t len)
{
    (void)k;
    (void)len;
    const myr__exec_arg *a = arg;
    /* Large values go ahead in COM_STMT_SEND_LONG_DATA packets (no reply),
     * each its own command with its own sequence; the execute leaves them
     * out. */
    uint8_t small[64], *mask = NULL;
    size_t before = out->len;
    int rc = 0;
    for (size_t i = 0; i < a->n && rc == 0; i++) {
        const myr_param *p = &a->params[i];
        if ((p->type != MYR_PARAM_STR && p->type != MYR_PARAM_BLOB) || p->v.bytes.len < MYR__LONG_DATA_MIN)
            continue;
        if (mask == NULL) {
            mask = a->n <= sizeof small ? small : myr__calloc(1, a->n);
            if (mask == NULL)
                return MYR_ENOMEM;
            memset(mask, 0, a->n <= sizeof small ? sizeof small : 0);
        }
        mask[i] = 1;
        const uint8_t *b = p->v.bytes.ptr;
        for (size_t at = 0; at < p->v.bytes.len && rc == 0; at += MYR__LONG_DATA_CHUNK) {
            size_t n = p->v.bytes.len - at < MYR__LONG_DATA_CHUNK ? p->v.bytes.len - at : MYR__LONG_DATA_CHUNK;
            uint8_t lseq = 0;
            rc = myr__stmt_long_data_build(out, &lseq, a->stmt->id, (uint16_t)i, b + at, n);
        }
    }
    if (rc == 0)
        rc = myr__stmt_execute_build(out, seq, a->stmt->id, a->params, a->n, mask);
    if (rc != 0)
        out->len = before;
    if (mask != NULL && mask != small)
        myr__free(mask);
    return rc;
}

void myr__stmt_execute_finish(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err)
{
    (void)c;
    myr_stmt *s = cmd->ctx;
    myr_future *f = cmd->fut;
    f->val.result = cmd->res.head;
    cmd->res.head = cmd->res.tail = NULL;
    myr__stmt_unref(s);
    myr__future_resolve(f, status, err);
}

/* ---------------------------------------------------------------- BULK */

int myr__stmt_bulk_encode(const myr__cmd_kind *k, myr__buf *out, uint8_t *seq, const void *arg,
                          size_t len)
{
    (void)k;
    (void)len;
    const myr__bulk_arg *a = arg;
    return myr__stmt_bulk_build(out, seq, a->stmt->id, a->params, a->ncols, a->nrows);
}

/* Without COM_STMT_BULK_EXECUTE: one execute per row, pipelined; the
 * rows before the last are commands without future (parts), the last one
 * carries the future and resolves it with the sum of all. */
myr__bulk_sum *myr__bulk_sum_new(size_t parts)
{
    myr__bulk_sum *b = myr__calloc(1, sizeof *b);
    if (b != NULL)
        b->refs = parts + 1;
    return b;
}

void myr__bulk_sum_unref(myr__bulk_sum *b)
{
    if (b != NULL && --b->refs == 0)
        myr__free(b);
}

/* One row's outcome into the sum: the first error is kept. */
static void bulk_add(myr__bulk_sum *b, myr__cmd *cmd, int status, const myr_error *err)
{
    myr_result *r = cmd->res.head;
    if (status == 0 && r != NULL) {
        if (!b->have_id && r->insert_id) {
            b->insert_id = r->insert_id;
            b->have_id = 1;
        }
        b->affected += r->affected_rows;
        b->warnings += r->warnings;
        b->status = r->status;
    } else if (status != 0 && b->err_code == 0) {
        b->err_code = status;
        if (err != NULL)
            b->err = *err;
        else
            myr__error_set(&b->err, status, 0, NULL, NULL);
    }
    myr__results_clear(&cmd->res);
}

void myr__stmt_part_finish(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err)
{
    (void)c;
    myr__bulk_sum *b = cmd->ctx;
    if (b != NULL) {
        bulk_add(b, cmd, status, err);
        myr__bulk_sum_unref(b);
    }
    myr__results_clear(&cmd->res);
    myr__free(cmd);   /* a command without future was allocated by the queue */
}

void myr__stmt_last_finish(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err)
{
    (void)c;
    myr__bulk_sum *b = cmd->ctx;
    myr_future *f = cmd->fut;
    bulk_add(b, cmd, status, err);
    myr_result *r = myr__result_new();
    if (r != NULL) {
        r->affected_rows = b->affected;
        r->insert_id = b->insert_id;
        r->warnings = b->warnings;
        r->status = b->status;
    }
    f->val.result = r;
    myr_error e = b->err;
    int had_err = b->err_code != 0;
    int code = had_err ? b->err_code : r == NULL ? MYR_ENOMEM : 0;
    myr__bulk_sum_unref(b);
    myr__future_resolve(f, code, had_err ? &e : NULL);
}

/* --------------------------------------------------------------- CLOSE */

int myr__stmt_close_encode(const myr__cmd_kind *k, myr__buf *out, uint8_t *seq, const void *arg,
                           size_t len)
{
    (void)k;
    (void)len;
    uint32_t id;
    memcpy(&id, arg, sizeof id);
    return myr__stmt_close_build(out, seq, id);
}
