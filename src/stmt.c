/*
 * src/stmt.c -- the prepared statement API (include/myring/stmt.h):
 * parameters by value, prepare / execute / close as commands of the
 * command table (commands.c, stmt_core.c), and what happens to a statement
 * whose prepare future is freed before anyone took it (closed on the
 * server).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conn_internal.h"

/* ------------------------------------------------------------ parameters */

static myr_param param(int type)
{
    myr_param p;
    memset(&p, 0, sizeof p);
    p.type = type;
    return p;
}

myr_param myr_param_null(void) { return param(MYR_PARAM_NULL); }

myr_param myr_param_i64(int64_t v)
{
    myr_param p = param(MYR_PARAM_I64);
    p.v.i64 = v;
    return p;
}

myr_param myr_param_u64(uint64_t v)
{
    myr_param p = param(MYR_PARAM_U64);
    p.v.u64 = v;
    return p;
}

myr_param myr_param_double(double v)
{
    myr_param p = param(MYR_PARAM_DOUBLE);
    p.v.d = v;
    return p;
}

myr_param myr_param_str(const char *s, size_t len)
{
    myr_param p = param(MYR_PARAM_STR);
    p.v.bytes.ptr = s;
    p.v.bytes.len = len;
    return p;
}

myr_param myr_param_blob(const void *b, size_t len)
{
    myr_param p = param(MYR_PARAM_BLOB);
    p.v.bytes.ptr = b;
    p.v.bytes.len = len;
    return p;
}

myr_param myr_param_date(unsigned year, unsigned month, unsigned day)
{
    myr_param p = param(MYR_PARAM_DATE);
    p.v.t.year = year;
    p.v.t.month = month;
    p.v.t.day = day;
    return p;
}

myr_param myr_param_time(int negative, unsigned hour, unsigned minute, unsigned second,
                         unsigned microsecond)
{
    myr_param p = param(MYR_PARAM_TIME);
    p.v.t.negative = negative != 0;
    p.v.t.hour = hour;
    p.v.t.minute = minute;
    p.v.t.second = second;
    p.v.t.microsecond = microsecond;
    return p;
}

myr_param myr_param_datetime(const myr_time *t)
{
    myr_param p = param(MYR_PARAM_DATETIME);
    if (t != NULL) {
        p.v.t = *t;
        p.v.t.negative = 0;
    } else {
        p.type = 0;   /* refused by myr_stmt_execute */
    }
    return p;
}

/* ------------------------------------------------------------- prepare */

/* A prepare future freed before its statement was taken: close it. */
static void release_untaken(void *p)
{
    myr_stmt *s = p;
    myr_conn *c = s->conn;
    if (c != NULL && s->valid && c->state == MYR__CS_READY && !c->closing &&
        myr__loop_check(c->loop, NULL) == 0)
        (void)myr__conn_queue(c, &myr__cmd_stmt_close, &s->id, sizeof s->id, NULL);
    myr__stmt_unref(s);
}

myr_future *myr_prepare(myr_conn *c, const char *sql, size_t len)
{
    if (sql == NULL)
        len = 0;
    /* The statement object is made when the server's OK arrives. */
    myr_future *f = myr__conn_command(c, &myr__cmd_stmt_prepare, sql, len, NULL);
    if (f != NULL)
        f->val_free = release_untaken;
    if (f != NULL && !f->done)
        c->last_prep = NULL;   /* statement id -1 now means this one */
    return f;
}

myr_stmt *myr_future_take_stmt(myr_future *f)
{
    if (f == NULL || !f->done || f->kind != MYR__FUT_STMT)
        return NULL;
    myr_stmt *s = f->val.ptr;
    f->val.ptr = NULL;
    return s;
}

size_t myr_stmt_param_count(const myr_stmt *s) { return s ? s->nparams : 0; }
size_t myr_stmt_column_count(const myr_stmt *s) { return s ? s->ncols : 0; }
const myr_column *myr_stmt_column(const myr_stmt *s, size_t col)
{
    return s ? myr_result_column(s->meta, col) : NULL;
}
myr_conn *myr_stmt_conn(const myr_stmt *s) { return s ? s->conn : NULL; }

/* ------------------------------------------------------------- execute */

static myr_future *refuse(myr__fut_kind kind, int code, unsigned mysql_errno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static myr_future *refuse(myr__fut_kind kind, int code, unsigned mysql_errno, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    myr_error err;
    myr__error_set(&err, code, mysql_errno, NULL, "%s", msg);
    return myr__future_failed(NULL, kind, &err);
}

myr_future *myr__stmt_exec_check(const myr_stmt *s, const myr_param *params, size_t n, size_t *est_out)
{
    if (s == NULL)
        return refuse(MYR__FUT_RESULT, MYR_EINVAL, 0, "execute of a NULL statement");
    if (n != s->nparams || (n > 0 && params == NULL))
        return refuse(MYR__FUT_RESULT, MYR_EINVAL, 2034,
                      "Invalid parameter number: the statement has %u parameters, %zu given",
                      (unsigned)s->nparams, n);
    size_t est = 16;
    for (size_t i = 0; i < n; i++) {
        if (myr__param_check(&params[i]) != 0)
            return refuse(MYR__FUT_RESULT, MYR_EINVAL, 2036,
                          "Using unsupported buffer type or value for parameter %zu", i);
        if (params[i].type == MYR_PARAM_STR || params[i].type == MYR_PARAM_BLOB)
            est += params[i].v.bytes.len;
        est += 16;
    }
    if (s->conn == NULL)
        return refuse(MYR__FUT_RESULT, MYR_ECLOSED, 0,
                      "the statement's connection was closed or freed");
    if (!s->valid)
        return refuse(MYR__FUT_RESULT, MYR_EINVAL, 2030,
                      "Statement not prepared: the server forgot it (connection reset)");
    *est_out = est;
    return NULL;
}

myr_future *myr_stmt_execute(myr_stmt *s, const myr_param *params, size_t n)
{
    size_t est = 0;
    myr_future *refused = myr__stmt_exec_check(s, params, n, &est);
    if (refused != NULL)
        return refused;
    myr__exec_arg a = {.stmt = s, .params = params, .n = n};
    myr__stmt_ref(s);
    myr_future *f = myr__conn_command(s->conn, &myr__cmd_stmt_execute, &a, est, s);
    if (f == NULL || f->cmd.ctx == NULL)
        myr__stmt_unref(s);   /* not queued: the command holds no reference */
    return f;
}

/* ---------------------------------------------------------------- bulk */

/* Queue rows 0..nrows-2 as parts of a row-by-row bulk: 0 or an error
 * (the parts queued so far finish on their own and drop their share). */
static int queue_parts(myr_stmt *s, const myr_param *params, size_t ncols, size_t nrows,
                       myr__bulk_sum *sum)
{
    myr_conn *c = s->conn;
    for (size_t i = 0; i + 1 < nrows; i++) {
        myr__exec_arg a = {.stmt = s, .params = params + i * ncols, .n = ncols};
        int rc = myr__conn_queue(c, &myr__cmd_stmt_part, &a, 64, NULL);
        if (rc != 0) {
            sum->refs -= nrows - 1 - i;   /* the parts that were never queued */
            return rc;
        }
        c->cmd_tail->ctx = sum;   /* the part just queued */
    }
    return 0;
}

myr_future *myr_stmt_execute_bulk(myr_stmt *s, const myr_param *params, size_t ncols, size_t nrows)
{
    if (s == NULL)
        return refuse(MYR__FUT_RESULT, MYR_EINVAL, 0, "bulk execute of a NULL statement");
    if (ncols != s->nparams || nrows == 0 || (ncols > 0 && params == NULL))
        return refuse(MYR__FUT_RESULT, MYR_EINVAL, 2034,
                      "Invalid parameter number: the statement has %u parameters, %zu given in %zu rows",
                      (unsigned)s->nparams, ncols, nrows);
    size_t est = 16;
    for (size_t j = 0; j < ncols; j++) {
        int type = MYR_PARAM_NULL;
        for (size_t i = 0; i < nrows; i++) {
            const myr_param *p = &params[i * ncols + j];
            if (myr__param_check(p) != 0 || (p->type != MYR_PARAM_NULL && type != MYR_PARAM_NULL &&
                                             p->type != type))
                return refuse(MYR__FUT_RESULT, MYR_EINVAL, 2036,
                              "Using unsupported buffer type or value for parameter %zu of row %zu "
                              "(a column's values share one type)", j, i);
            if (p->type != MYR_PARAM_NULL)
                type = p->type;
            est += 16 + (p->type == MYR_PARAM_STR || p->type == MYR_PARAM_BLOB ? p->v.bytes.len : 0);
        }
    }
    if (s->conn == NULL)
        return refuse(MYR__FUT_RESULT, MYR_ECLOSED, 0, "the statement's connection was closed or freed");
    if (!s->valid)
        return refuse(MYR__FUT_RESULT, MYR_EINVAL, 2030,
                      "Statement not prepared: the server forgot it (connection reset)");
    myr_conn *c = s->conn;
    if (c->mariadb_caps & MYR__MARIADB_CLIENT_STMT_BULK_OPERATIONS) {
        myr__bulk_arg a = {.stmt = s, .params = params, .ncols = ncols, .nrows = nrows};
        myr__stmt_ref(s);
        myr_future *f = myr__conn_command(c, &myr__cmd_stmt_bulk, &a, est, s);
        if (f == NULL || f->cmd.ctx == NULL)
            myr__stmt_unref(s);
        return f;
    }
    /* Row by row. The checks of every command first (through the last
     * row's command when they fail), then the parts, then the last row. */
    myr__exec_arg last = {.stmt = s, .params = params + (nrows - 1) * ncols, .n = ncols};
    if (myr__loop_check(c->loop, NULL) != 0 || c->closing || c->state != MYR__CS_READY)
        return myr__conn_command(c, &myr__cmd_stmt_last, &last, 64, NULL);
    myr__bulk_sum *sum = myr__bulk_sum_new(nrows - 1);
    if (sum == NULL)
        return refuse(MYR__FUT_RESULT, MYR_ENOMEM, 2008, "out of memory for a bulk execute");
    int rc = queue_parts(s, params, ncols, nrows, sum);
    if (rc != 0) {
        myr__bulk_sum_unref(sum);   /* the last row's share */
        return refuse(MYR__FUT_RESULT, rc, 0, "cannot queue a bulk execute: %s", myr_strerror(rc));
    }
    myr_future *f = myr__conn_command(c, &myr__cmd_stmt_last, &last, 64, sum);
    if (f == NULL || f->cmd.ctx == NULL)
        myr__bulk_sum_unref(sum);
    return f;
}

/* --------------------------------------------------------------- close */

myr_future *myr_stmt_close(myr_stmt *s)
{
    if (s == NULL)
        return refuse(MYR__FUT_PLAIN, MYR_EINVAL, 0, "close of a NULL statement");
    myr_future *f;
    if (s->conn == NULL || !s->valid) {
        /* Nothing is left to close on the server. */
        f = myr__future_new(NULL, MYR__FUT_PLAIN);
        if (f != NULL)
            myr__future_resolve(f, 0, NULL);
    } else {
        f = myr__conn_command(s->conn, &myr__cmd_stmt_close, &s->id, sizeof s->id, NULL);
    }
    myr__stmt_unref(s);
    return f;
}
