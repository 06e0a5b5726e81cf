/*
 * myring/stmt.h -- prepared statements and the binary protocol (included by
 * myring.h; do not include it on its own).
 *
 * A statement is prepared on one connection (COM_STMT_PREPARE) and executed
 * there any number of times with parameters bound by value
 * (COM_STMT_EXECUTE). Executions are commands like queries: they pipeline,
 * resolve in order and fail alone. Their results are ordinary myr_result
 * chains: myr_result_value() gives every value in the text form the text
 * protocol would have sent for the same SELECT, so the same code reads
 * both; the typed getters below read values without parsing text yourself
 * and work on results of both protocols.
 *
 * Ownership: the caller owns a myr_stmt from myr_future_take_stmt() until
 * myr_stmt_close(), which both closes it on the server and frees the handle.
 * A statement whose connection was freed or closed stays a valid handle
 * (executions fail with MYR_ECLOSED or MYR_EGONE) until myr_stmt_close().
 */
#ifndef MYRING_STMT_H
#define MYRING_STMT_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct myr_stmt myr_stmt;

/* A date, a time of day or a duration, a date and time. For TIME values
 * hour may exceed 23 (MariaDB's range is -838:59:59.999999 to
 * 838:59:59.999999; year, month, day are 0) and negative is 1 for a
 * negative duration. microsecond is 0..999999. */
typedef struct myr_time {
    unsigned year, month, day;
    unsigned hour, minute, second;
    unsigned microsecond;
    int negative;
} myr_time;

/* Parameter kinds (myr_param.type). */
enum myr_param_type {
    MYR_PARAM_NULL = 1,
    MYR_PARAM_I64,       /* sent as a signed BIGINT */
    MYR_PARAM_U64,       /* sent as an unsigned BIGINT */
    MYR_PARAM_DOUBLE,    /* sent as a DOUBLE */
    MYR_PARAM_STR,       /* bytes in the connection's character set */
    MYR_PARAM_BLOB,      /* bytes in the binary character set */
    MYR_PARAM_DATE,      /* t: year, month, day */
    MYR_PARAM_TIME,      /* t: negative, hour (may exceed 23), minute, second, microsecond */
    MYR_PARAM_DATETIME,  /* t: every field but negative */
};

/* One parameter, built by value with the myr_param_* functions below. Its
 * bytes (str, blob) are only pointed to; myr_stmt_execute() copies them. */
typedef struct myr_param {
    int type;            /* enum myr_param_type */
    union {
        int64_t i64;
        uint64_t u64;
        double d;
        struct { const void *ptr; size_t len; } bytes;
        myr_time t;
    } v;
} myr_param;

/* Parameters by value, sent as the type named: SQL NULL; a signed or
 * unsigned 64-bit integer; a DOUBLE; a string in the connection's charset;
 * bytes (BLOB); a DATE. str and blob keep the pointer only until
 * myr_stmt_execute() returns (it copies the bytes). */
MYR_API myr_param myr_param_null(void);
MYR_API myr_param myr_param_i64(int64_t v);
MYR_API myr_param myr_param_u64(uint64_t v);
MYR_API myr_param myr_param_double(double v);
MYR_API myr_param myr_param_str(const char *s, size_t len);
MYR_API myr_param myr_param_blob(const void *p, size_t len);
MYR_API myr_param myr_param_date(unsigned year, unsigned month, unsigned day);
/* A time of day or a duration: negative 0/1, hours 0..838 (more than 23 is
 * a duration), microseconds 0..999999. */
MYR_API myr_param myr_param_time(int negative, unsigned hour, unsigned minute, unsigned second,
                                 unsigned microsecond);
MYR_API myr_param myr_param_datetime(const myr_time *t);

/* Prepare sql (len bytes, one statement) on c. The future resolves with a
 * statement (myr_future_take_stmt) or with the server's error (bad SQL:
 * MYR_ESERVER, the server's errno and SQLSTATE). Pipelined like queries. c
 * NULL, closed or dead: a future that has already failed. An untaken
 * statement is closed when its future is freed. */
MYR_API myr_future *myr_prepare(myr_conn *c, const char *sql, size_t len);
/* The statement of a resolved prepare future; ownership moves to the
 * caller (end it with myr_stmt_close). NULL if f is not a prepare future,
 * failed, is pending or was taken. */
MYR_API myr_stmt *myr_future_take_stmt(myr_future *f);

/* Number of ? placeholders. */
MYR_API size_t myr_stmt_param_count(const myr_stmt *s);
/* The result columns the server announced at prepare time (0 for a
 * statement without result set, e.g. INSERT). The metadata of an actual
 * result is in its myr_result (myr_result_column). Valid until
 * myr_stmt_close(). */
MYR_API size_t myr_stmt_column_count(const myr_stmt *s);
MYR_API const myr_column *myr_stmt_column(const myr_stmt *s, size_t col);
/* The connection it was prepared on; NULL once that connection was freed. */
MYR_API myr_conn *myr_stmt_conn(const myr_stmt *s);

/* Execute s with n parameters. The array and every byte it points to are
 * copied before this returns (reuse them at once). Resolves with a
 * myr_result chain (myr_future_take_result): rows in the binary protocol,
 * read like any result, or an OK (affected rows, insert id). A parameter
 * count other than myr_stmt_param_count() (mysql_errno 2034) or a
 * parameter of unknown type or out of range (2036) gives a future that has
 * already failed with MYR_EINVAL, and nothing is sent; so does s NULL. */
MYR_API myr_future *myr_stmt_execute(myr_stmt *s, const myr_param *params, size_t n);
/* Execute s with n parameters (copied as by myr_stmt_execute) and hand
 * its rows to cb(rows, arg) in batches instead of buffering them: the
 * contract of myr_query_stream (myring/stream.h) in every respect --
 * batches of about 64 KiB valid only during the call, backpressure (the
 * connection reads nothing while a batch waits or cb runs, so memory stays
 * bounded whatever the result's size), cb returning non-zero stops the
 * calls (the rest is drained, the future fails with MYR_ECANCELED, the
 * connection stays usable), the future resolves after the last call with a
 * result holding only the final OK / end of rows, or with the error.
 * Values read as in a buffered binary result (myr_result_value gives the
 * text form; typed getters work). Refusals as myr_stmt_execute, and cb
 * NULL: MYR_EINVAL, nothing sent. */
MYR_API myr_future *myr_stmt_execute_stream(myr_stmt *s, const myr_param *params, size_t n,
                                            myr_rows_cb cb, void *arg);
/* Execute s once per row of parameters: params holds nrows rows of ncols
 * (= myr_stmt_param_count) values, row after row; the values of one
 * column share a kind (NULL allowed anywhere). Against a MariaDB server
 * that offers it (MYR_OPT_MARIADB_EXTENSIONS on, the default) all rows
 * leave in one COM_STMT_BULK_EXECUTE and the server answers once;
 * otherwise one execute per row, pipelined. Either way the future resolves
 * once, with one OK result: the affected rows of all rows, the first
 * insert id, the warnings; or with the first error (rows before it were
 * executed; with the row-by-row fallback later rows were too). For
 * statements without result set (INSERT, UPDATE, DELETE, ...). Copies
 * like myr_stmt_execute; refusals (2034, 2036, ...) likewise. */
MYR_API myr_future *myr_stmt_execute_bulk(myr_stmt *s, const myr_param *params, size_t ncols,
                                          size_t nrows);
/* Close s on the server (COM_STMT_CLOSE, queued after the commands already
 * queued; the server sends no answer) and free the handle: s is invalid
 * from this call on, whatever the outcome. The future resolves once the
 * request has left (or at once if the connection is gone: status 0, there
 * is nothing left to close). s NULL: a future failed with MYR_EINVAL. */
MYR_API myr_future *myr_stmt_close(myr_stmt *s);

/* Execute sql (len bytes, one statement with n ? placeholders) with n
 * parameters through c's statement cache, without a handle to manage.
 * Resolves like myr_stmt_execute (a myr_result chain or an error); copies
 * like it (the array and its bytes may be reused once this returns).
 *
 * The cache (MYR_OPT_STMT_CACHE_SIZE statements, default 64, keyed by the
 * SQL's exact bytes): a hit executes the statement prepared before, with
 * no COM_STMT_PREPARE. A miss prepares it; against MariaDB 10.2 or later
 * (MYR_OPT_MARIADB_EXTENSIONS on) the prepare and the execute leave in the
 * same send, the execute naming "the statement just prepared" (id -1),
 * so the first execution costs one round trip, not two; other servers
 * get the execute once the prepare is answered (two round trips; commands
 * queued after it wait for it, so order is kept). Beyond the cache's size
 * the least recently used statement is closed on the server
 * (COM_STMT_CLOSE); with size 0 every call prepares, executes and closes
 * (one send on MariaDB). myr_reset() empties the cache (the server forgets
 * statements on a reset; calls after it prepare again); the cache belongs
 * to its connection and goes with it (a new connection starts empty).
 *
 * Errors: bad SQL fails the future with the server's error from the
 * prepare (the execute sent with it is refused by the server and its
 * answer dropped); the statement is not cached and the connection stays
 * usable. The ? in sql are counted on the client (outside quotes and
 * comments): n other than that count (mysql_errno 2034) or a bad parameter
 * (2036) gives a future that has already failed, nothing sent; if the
 * server counts otherwise after all, the future fails with 2034. c NULL,
 * closed or dead: a failed future, as for myr_query. */
MYR_API myr_future *myr_query_params(myr_conn *c, const char *sql, size_t len,
                                     const myr_param *params, size_t n);
/* Statements c's cache holds now (0 for NULL). */
MYR_API size_t myr_conn_stmt_cache_count(const myr_conn *c);

/* Typed getters for a value of a result (binary or text protocol). Return
 * 0 and set *out, 1 for SQL NULL (*out untouched), or MYR_EINVAL (r NULL,
 * an index out of range, a column of another kind, or a value that does
 * not fit). Kinds: int64 and uint64 read integer columns, YEAR and BIT
 * (a negative number is a mismatch for uint64, one above INT64_MAX for
 * int64); double reads those and FLOAT, DOUBLE, DECIMAL (a binary FLOAT
 * exactly, not its 6-digit text); time reads DATE, TIME, DATETIME and
 * TIMESTAMP (TIME: hour may exceed 23, negative set). */
MYR_API int myr_result_int64(const myr_result *r, size_t row, size_t col, int64_t *out);
MYR_API int myr_result_uint64(const myr_result *r, size_t row, size_t col, uint64_t *out);
MYR_API int myr_result_double(const myr_result *r, size_t row, size_t col, double *out);
MYR_API int myr_result_time(const myr_result *r, size_t row, size_t col, myr_time *out);

#ifdef __cplusplus
}
#endif
#endif
