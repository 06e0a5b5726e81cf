/*
 * perf/stmt.c -- prepared statements against the text protocol with myring,
 * one connection, --depth operations in flight (pipelined when > 1), for
 * --seconds after --warmup (or exactly --count operations). The statements
 * are those of perf/stmt_bench.h (--query do1|select1|rows1000|cols100|
 * insert100); --mode picks the path:
 *   text     myr_query (insert100: one INSERT of 100 rows)
 *   binary   prepared once, myr_stmt_execute per operation
 *   prepare  myr_prepare, then myr_stmt_execute and myr_stmt_close per
 *            operation (two round trips)
 *   cached   myr_query_params through the connection's statement cache
 *            (prepared on the first call, executed only after that)
 *   direct   myr_query_params with MYR_OPT_STMT_CACHE_SIZE 0: prepare,
 *            execute and close leave together (one round trip on MariaDB)
 *   loop     insert100 only: prepared once, 100 myr_stmt_execute per
 *            operation, all queued at once
 *   bulk     insert100 only: prepared once, one myr_stmt_execute_bulk of
 *            100 rows per operation
 * Every value of every row is read (integers as numbers: strtoll of the text
 * value, myr_result_int64 of a binary one; other columns by their bytes), as
 * MariaDB Connector/C's suite reads them. Prints the CSV line of bench.h, an
 * operation per "query" (insert100: 100 rows per operation).
 */
#include <myring.h>

#include "bench.h"
#include "stmt_bench.h"

enum mode { M_TEXT, M_BINARY, M_PREPARE, M_LOOP, M_BULK, M_CACHED, M_DIRECT };

typedef struct op {
    uint64_t t0;
    int pending;   /* loop: executes not resolved yet */
} op;

static bench_args A;
static const stmt_bench *B;
static enum mode M;
static myr_conn *g_conn;
static myr_stmt *g_stmt;            /* prepared once (binary, loop, bulk) */
static myr_param g_rows[STMT_BATCH_ROWS];
static char g_value[4 * STMT_VALUE_CHARS + 1];
static size_t g_value_len;
static char g_text[64 * 1024];      /* the SQL of text mode */
static size_t g_text_len;
static int g_phase;                 /* 0 warm-up, 1 measuring, 2 stopping */
static uint64_t g_done;
static long g_issued, g_inflight;
static uint64_t g_sum;              /* values read, so nothing is optimised away */
static bench_lat g_lat;

static void die(const char *what, myr_future *f)
{
    const myr_error *e = myr_future_error(f);
    fprintf(stderr, "stmt: %s: %d %u %s\n", what, e->code, e->mysql_errno, e->message);
    exit(1);
}

static myr_result *take(myr_future *f, const char *what)
{
    if (myr_future_status(f) != 0)
        die(what, f);
    myr_result *r = myr_future_take_result(f);
    myr_future_free(f);
    return r;
}

/* Read every value; check the row count (or, for an OK, the affected rows). */
static void consume(myr_result *r, int binary, uint64_t affected)
{
    size_t rows = myr_result_row_count(r), cols = myr_result_column_count(r), len;
    if (cols == 0) {
        if (affected && myr_result_affected_rows(r) != affected) {
            fprintf(stderr, "stmt: %llu rows affected, expected %llu\n",
                    (unsigned long long)myr_result_affected_rows(r), (unsigned long long)affected);
            exit(1);
        }
    } else if (rows != B->rows) {
        fprintf(stderr, "stmt: %zu rows, expected %zu\n", rows, B->rows);
        exit(1);
    }
    for (size_t j = 0; j < cols; j++) {
        int num = stmt_int_type(myr_result_column(r, j)->type);
        for (size_t i = 0; i < rows; i++) {
            if (num && binary) {
                int64_t v = 0;
                if (myr_result_int64(r, i, j, &v) == 0)
                    g_sum += (uint64_t)v;
            } else {
                const char *s = myr_result_value(r, i, j, &len);
                if (s != NULL)
                    g_sum += num ? (uint64_t)strtoll(s, NULL, 10) : len;
            }
        }
    }
    myr_result_free(r);
}

static void issue(op *o);

static void op_done(op *o)
{
    g_inflight--;
    if (g_phase == 1) {
        g_done++;
        if (!A.nolat)
            bench_lat_add(&g_lat, bench_now_ns() - o->t0);
    }
    if (g_phase < 2 && (A.count < 0 || g_issued < A.count))
        issue(o);
}

static uint64_t affected_per_op(void)
{
    return B->rows == 0 && strcmp(B->name, "insert100") == 0 ? STMT_BATCH_ROWS : 0;
}

static void on_result(myr_future *f, void *arg)
{
    consume(take(f, "execute"), M != M_TEXT, affected_per_op());
    op_done(arg);
}

static void on_loop_row(myr_future *f, void *arg)
{
    op *o = arg;
    consume(take(f, "execute"), 1, 1);
    if (--o->pending == 0)
        op_done(o);
}

static void on_prepared(myr_future *f, void *arg)
{
    if (myr_future_status(f) != 0)
        die("prepare", f);
    myr_stmt *s = myr_future_take_stmt(f);
    myr_future_free(f);
    myr_future_on_done(myr_stmt_execute(s, NULL, 0), on_result, arg);
    myr_future_free(myr_stmt_close(s));   /* queued after the execute; nothing to wait for */
}

static void issue(op *o)
{
    if (!A.nolat)
        o->t0 = bench_now_ns();
    g_inflight++;
    g_issued++;
    switch (M) {
    case M_TEXT:
        myr_future_on_done(myr_query(g_conn, g_text, g_text_len), on_result, o);
        break;
    case M_BINARY:
        myr_future_on_done(myr_stmt_execute(g_stmt, NULL, 0), on_result, o);
        break;
    case M_CACHED:
    case M_DIRECT:
        myr_future_on_done(myr_query_params(g_conn, B->sql, strlen(B->sql), NULL, 0), on_result, o);
        break;
    case M_PREPARE:
        myr_future_on_done(myr_prepare(g_conn, B->sql, strlen(B->sql)), on_prepared, o);
        break;
    case M_LOOP:
        o->pending = STMT_BATCH_ROWS;
        for (int i = 0; i < STMT_BATCH_ROWS; i++)
            myr_future_on_done(myr_stmt_execute(g_stmt, &g_rows[i], 1), on_loop_row, o);
        break;
    case M_BULK:
        myr_future_on_done(myr_stmt_execute_bulk(g_stmt, g_rows, 1, STMT_BATCH_ROWS), on_result, o);
        break;
    }
}

static enum mode parse_mode(const char *m)
{
    static const char *const names[] = {"text", "binary", "prepare", "loop", "bulk", "cached", "direct"};
    for (int i = 0; i < 7; i++)
        if (strcmp(m, names[i]) == 0)
            return (enum mode)i;
    fprintf(stderr, "stmt: --mode text|binary|prepare|cached|direct|loop|bulk\n");
    exit(2);
}

int main(int argc, char **argv)
{
    A = bench_parse(argc, argv);
    B = stmt_bench_find(A.query);
    M = parse_mode(A.mode);
    int insert = B != NULL && strcmp(B->name, "insert100") == 0;
    if (B == NULL || (insert && M != M_TEXT && M != M_LOOP && M != M_BULK) ||
        (!insert && (M == M_LOOP || M == M_BULK))) {
        fprintf(stderr, "stmt: --query do1|select1|rows1000|cols100 with --mode text|binary|prepare|cached|direct,\n"
                        "      or --query insert100 with --mode text|loop|bulk\n");
        return 2;
    }
    g_value_len = stmt_insert_value(g_value);
    for (int i = 0; i < STMT_BATCH_ROWS; i++)
        g_rows[i] = myr_param_str(g_value, g_value_len);
    if (insert)
        g_text_len = stmt_insert_text(g_text, sizeof g_text, g_value, g_value_len);
    else
        g_text_len = (size_t)snprintf(g_text, sizeof g_text, "%s", B->sql);

    bench_target t = bench_target_env();
    myr_error err;
    myr_loop *loop = myr_loop_new(NULL, &err);
    if (loop == NULL) {
        fprintf(stderr, "stmt: loop: %s\n", err.message);
        return 1;
    }
    myr_conn_opts *o = myr_conn_opts_new();
    myr_conn_opts_set_str(o, MYR_OPT_HOST, t.host);
    myr_conn_opts_set_int(o, MYR_OPT_PORT, t.port);
    myr_conn_opts_set_str(o, MYR_OPT_USER, t.user);
    myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, t.password);
    myr_conn_opts_set_str(o, MYR_OPT_DATABASE, t.db ? t.db : "perf");
    myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_DISABLED);
    if (M == M_DIRECT)
        myr_conn_opts_set_int(o, MYR_OPT_STMT_CACHE_SIZE, 0);
    myr_future *f = myr_connect(loop, o);
    myr_conn_opts_free(o);
    if (myr_await(f, -1) != 0)
        die("connect", f);
    g_conn = myr_future_take_conn(f);
    myr_future_free(f);
    if (M == M_BINARY || M == M_LOOP || M == M_BULK) {
        f = myr_prepare(g_conn, B->sql, strlen(B->sql));
        if (myr_await(f, -1) != 0)
            die("prepare", f);
        g_stmt = myr_future_take_stmt(f);
        myr_future_free(f);
    }

    op *ops = calloc((size_t)A.depth, sizeof *ops);
    bench_cpu c0 = bench_cpu_now(), c1 = c0;
    double t0 = bench_now(), tm0 = t0, tm1 = t0;
    g_phase = (A.count >= 0 || A.warmup <= 0) ? 1 : 0;
    for (int i = 0; i < A.depth; i++)
        if (A.count < 0 || g_issued < A.count)
            issue(&ops[i]);
    while (g_inflight > 0) {
        int rc = myr_loop_run_once(loop, 50);
        if (rc < 0) {
            fprintf(stderr, "stmt: run_once: %s\n", myr_strerror(rc));
            return 1;
        }
        if (A.count >= 0)
            continue;
        double now = bench_now();
        if (g_phase == 0 && now >= t0 + A.warmup) {
            g_phase = 1;
            tm0 = now;
            c0 = bench_cpu_now();
        } else if (g_phase == 1 && now >= tm0 + A.seconds) {
            g_phase = 2;
            tm1 = now;
            c1 = bench_cpu_now();
        }
    }
    if (A.count >= 0) {
        tm1 = bench_now();
        c1 = bench_cpu_now();
    }
    if (g_stmt != NULL)
        myr_future_free(myr_stmt_close(g_stmt));
    f = myr_close(g_conn);
    myr_await(f, 10000);
    myr_future_free(f);

    if (A.header)
        printf("%s\n", BENCH_CSV_HEADER);
    bench_print("myring", A.mode, B->name, 1, A.depth, tm1 - tm0, g_done, &g_lat, c0, c1);
    if (g_sum == 0 && B->rows > 0)
        fprintf(stderr, "stmt: no value read\n");
    free(ops);
    free(g_lat.v);
    myr_loop_free(loop);
    return 0;
}
