/*
 * perf/bigresult.c -- one query returning many rows (default 1,000,000 rows
 * of ~96 bytes: SELECT seq, REPEAT('x', 90) FROM seq_1_to_N), buffered whole
 * by myring (myr_query_sync); then every value is read once. Reports MB/s of
 * value bytes, client CPU and peak RSS.
 * Usage: perf_bigresult [--rows N] [--header]    (database PERF_DB, default perf)
 * Prints: impl,mode,rows,mb,seconds,mb_per_s,cpu_s,maxrss_kib
 */
#include <myring.h>

#include "bench.h"

int main(int argc, char **argv)
{
    long rows = 1000000;
    int header = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--header") == 0)
            header = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--rows") == 0)
            rows = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--rows N] [--header]\n", argv[0]);
            return 2;
        }
    }
    bench_target t = bench_target_env();
    myr_conn_opts *o = myr_conn_opts_new();
    myr_conn_opts_set_str(o, MYR_OPT_HOST, t.host);
    myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_DISABLED);   /* peers run plaintext */
    myr_conn_opts_set_int(o, MYR_OPT_PORT, t.port);
    myr_conn_opts_set_str(o, MYR_OPT_USER, t.user);
    myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, t.password);
    myr_conn_opts_set_str(o, MYR_OPT_DATABASE, t.db ? t.db : "perf");
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    if (c == NULL) {
        fprintf(stderr, "bigresult: connect: %s\n", err.message);
        return 1;
    }
    char sql[128];
    int n = snprintf(sql, sizeof sql, "SELECT seq, REPEAT('x', 90) FROM seq_1_to_%ld", rows);
    bench_cpu c0 = bench_cpu_now();
    double t0 = bench_now();
    myr_result *r = myr_query_sync(c, sql, (size_t)n, &err);
    if (r == NULL) {
        fprintf(stderr, "bigresult: query: %s\n", err.message);
        return 1;
    }
    size_t nr = myr_result_row_count(r), nc = myr_result_column_count(r), len;
    uint64_t bytes = 0;
    for (size_t i = 0; i < nr; i++)
        for (size_t j = 0; j < nc; j++)
            if (myr_result_value(r, i, j, &len) != NULL)
                bytes += len;
    double secs = bench_now() - t0;
    bench_cpu c1 = bench_cpu_now();
    myr_result_free(r);
    myr_close_sync(c, NULL);
    if ((long)nr != rows) {
        fprintf(stderr, "bigresult: %zu rows, expected %ld\n", nr, rows);
        return 1;
    }
    if (header)
        printf("impl,mode,rows,mb,seconds,mb_per_s,cpu_s,maxrss_kib\n");
    printf("myring,buffered,%zu,%.1f,%.3f,%.1f,%.3f,%ld\n", nr, (double)bytes / 1e6, secs,
           (double)bytes / 1e6 / secs, c1.usr + c1.sys - c0.usr - c0.sys, c1.maxrss_kib);
    return 0;
}
