/*
 * perf/stream.c -- one query returning many rows (default 1,000,000 rows of
 * ~96 bytes: SELECT seq, REPEAT('x', 90) FROM seq_1_to_N), streamed through
 * myr_query_stream (--mode stream, the default) or buffered whole by
 * myr_query (--mode buffered); every value is read once either way. The
 * same through a prepared statement: --mode stmt-stream
 * (myr_stmt_execute_stream, binary rows) or stmt-buffered (myr_stmt_execute);
 * binary integers are read with myr_result_int64 (counted as 8 bytes, as
 * libmariadb's bound LONGLONG). Run each mode in its own process: peak RSS is
 * per process. Plain TCP unless --tls (then the mode is reported as
 * stream+tls / buffered+tls).
 * Reports rows/s, MB/s of value bytes, client CPU, RSS before the query,
 * peak RSS and the growth between them.
 * Usage: perf_stream [--rows N] [--mode stream|buffered|stmt-stream|stmt-buffered] [--tls] [--header]
 *        (database PERF_DB, default perf)
 * Prints: impl,mode,rows,mb,seconds,rows_per_s,mb_per_s,cpu_s,rss_before_kib,maxrss_kib,growth_kib
 */
#include <myring.h>

#include "bench.h"

typedef struct count { size_t rows; uint64_t bytes; long next; int bad, binary; } count;

static int on_rows(const myr_result *r, void *arg)
{
    count *c = arg;
    size_t nr = myr_result_row_count(r), nc = myr_result_column_count(r), len;
    for (size_t i = 0; i < nr; i++) {
        int64_t seq = 0;
        if (c->binary) {
            if (myr_result_int64(r, i, 0, &seq) == 0)
                c->bytes += sizeof seq;
        } else {
            const char *v = myr_result_value(r, i, 0, &len);
            if (v != NULL) {
                c->bytes += len;
                seq = atol(v);
            }
        }
        for (size_t j = 1; j < nc; j++)
            if (myr_result_value(r, i, j, &len) != NULL)
                c->bytes += len;
        if (seq != c->next++)
            c->bad = 1;
    }
    c->rows += nr;
    return 0;
}

static int usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--rows N] [--mode stream|buffered|stmt-stream|stmt-buffered] [--tls] [--header]\n",
            prog);
    return 2;
}

int main(int argc, char **argv)
{
    long rows = 1000000;
    int header = 0, buffered = 0, tls = 0, stmt = 0;
    const char *mode = "stream";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--header") == 0)
            header = 1;
        else if (strcmp(argv[i], "--tls") == 0)
            tls = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--rows") == 0)
            rows = atol(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--mode") == 0)
            mode = argv[++i];
        else
            return usage(argv[0]);
    }
    stmt = strncmp(mode, "stmt-", 5) == 0;
    buffered = strcmp(mode + (stmt ? 5 : 0), "buffered") == 0;
    if (!buffered && strcmp(mode + (stmt ? 5 : 0), "stream") != 0)
        return usage(argv[0]);
    bench_target t = bench_target_env();
    myr_conn_opts *o = myr_conn_opts_new();
    myr_conn_opts_set_str(o, MYR_OPT_HOST, t.host);
    myr_conn_opts_set_int(o, MYR_OPT_PORT, t.port);
    myr_conn_opts_set_str(o, MYR_OPT_USER, t.user);
    myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, t.password);
    myr_conn_opts_set_str(o, MYR_OPT_DATABASE, t.db ? t.db : "perf");
    myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, tls ? MYR_SSL_REQUIRED : MYR_SSL_DISABLED);
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    if (c == NULL) {
        fprintf(stderr, "stream: connect: %s\n", err.message);
        return 1;
    }
    myr_result_free(myr_query_sync(c, "SELECT 1", 8, &err));   /* buffers taken once */
    char sql[128];
    int n = snprintf(sql, sizeof sql, "SELECT seq, REPEAT('x', 90) FROM seq_1_to_%ld", rows);
    count cnt = {.next = 1, .binary = stmt};
    myr_stmt *st = NULL;
    bench_cpu c0 = bench_cpu_now();
    double t0 = bench_now();
    if (stmt) {   /* the prepare is timed too (one round trip), as the peers' is */
        myr_future *pf = myr_prepare(c, sql, (size_t)n);
        if (myr_await(pf, -1) != 0) {
            fprintf(stderr, "stream: prepare: %s\n", myr_future_error(pf)->message);
            return 1;
        }
        st = myr_future_take_stmt(pf);
        myr_future_free(pf);
        myr_future *f = buffered ? myr_stmt_execute(st, NULL, 0) : myr_stmt_execute_stream(st, NULL, 0, on_rows, &cnt);
        if (myr_await(f, -1) != 0) {
            fprintf(stderr, "stream: execute: %s\n", myr_future_error(f)->message);
            return 1;
        }
        if (buffered) {
            myr_result *r = myr_future_take_result(f);
            on_rows(r, &cnt);
            myr_result_free(r);
        }
        myr_future_free(f);
    } else if (buffered) {
        myr_result *r = myr_query_sync(c, sql, (size_t)n, &err);
        if (r == NULL) {
            fprintf(stderr, "stream: query: %s\n", err.message);
            return 1;
        }
        on_rows(r, &cnt);
        myr_result_free(r);
    } else {
        myr_future *f = myr_query_stream(c, sql, (size_t)n, on_rows, &cnt);
        if (myr_await(f, -1) != 0) {
            fprintf(stderr, "stream: query: %s\n", myr_future_error(f)->message);
            return 1;
        }
        myr_future_free(f);
    }
    double secs = bench_now() - t0;
    bench_cpu c1 = bench_cpu_now();
    if (st != NULL)
        myr_future_free(myr_stmt_close(st));
    myr_close_sync(c, NULL);
    if ((long)cnt.rows != rows || cnt.bad) {
        fprintf(stderr, "stream: %zu rows (%s), expected %ld\n", cnt.rows, cnt.bad ? "out of order" : "in order",
                rows);
        return 1;
    }
    if (header)
        printf("impl,mode,rows,mb,seconds,rows_per_s,mb_per_s,cpu_s,rss_before_kib,maxrss_kib,growth_kib\n");
    printf("myring,%s%s,%zu,%.1f,%.3f,%.0f,%.1f,%.3f,%ld,%ld,%ld\n", mode, tls ? "+tls" : "", cnt.rows,
           (double)cnt.bytes / 1e6, secs, (double)cnt.rows / secs, (double)cnt.bytes / 1e6 / secs,
           c1.usr + c1.sys - c0.usr - c0.sys, c0.maxrss_kib, c1.maxrss_kib, c1.maxrss_kib - c0.maxrss_kib);
    return 0;
}
