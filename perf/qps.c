/*
 * perf/qps.c -- small-query throughput with myring: --conns connections on
 * one loop, each keeping --depth queries in flight (pipelined when > 1),
 * for --seconds after --warmup (or exactly --count queries). Prints one CSV
 * line (see bench.h): QPS, p50/p99 latency (submit to resolve), client CPU
 * per query from getrusage(RUSAGE_SELF) over the measured window.
 */
#include <myring.h>

#include "bench.h"

typedef struct req {
    myr_conn *conn;
    uint64_t t0;
} req;

static bench_args A;
static int g_phase;           /* 0 warm-up, 1 measuring, 2 stopping */
static uint64_t g_done;       /* completed in phase 1 */
static long g_issued;         /* count mode: queries issued */
static long g_inflight;
static bench_lat g_lat;
static uint64_t g_rng = 0x9E3779B97F4A7C15ULL;
static size_t g_expect_rows;  /* 0 = don't check */

static void on_done(myr_future *f, void *arg);

/* --allocs: count myring's allocator calls (myr_set_allocator). */
static uint64_t g_mallocs, g_reallocs, g_frees, g_bytes;
static void *cnt_malloc(size_t n) { g_mallocs++; g_bytes += n; return malloc(n); }
static void *cnt_realloc(void *p, size_t n) { g_reallocs++; g_bytes += n; return realloc(p, n); }
static void cnt_free(void *p) { if (p) g_frees++; free(p); }

static void issue(req *r)
{
    char sql[256];
    size_t len = bench_sql(A.query, sql, sizeof sql, &g_rng, A.table_size);
    if (!A.nolat)
        r->t0 = bench_now_ns();
    myr_future *f = myr_query(r->conn, sql, len);
    if (f == NULL) {
        fprintf(stderr, "qps: myr_query returned NULL\n");
        exit(1);
    }
    g_inflight++;
    g_issued++;
    myr_future_on_done(f, on_done, r);
}

static void on_done(myr_future *f, void *arg)
{
    req *r = arg;
    g_inflight--;
    if (myr_future_status(f) != 0) {
        const myr_error *e = myr_future_error(f);
        fprintf(stderr, "qps: query failed: %d %u %s\n", e->code, e->mysql_errno, e->message);
        exit(1);
    }
    myr_result *res = myr_future_take_result(f);
    myr_future_free(f);
    /* Touch every value, as an application reading the result would. */
    size_t rows = myr_result_row_count(res), cols = myr_result_column_count(res), len, sum = 0;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            if (myr_result_value(res, i, j, &len) != NULL)
                sum += len;
    if (g_expect_rows && rows != g_expect_rows) {
        fprintf(stderr, "qps: expected %zu rows, got %zu (sum %zu)\n", g_expect_rows, rows, sum);
        exit(1);
    }
    myr_result_free(res);
    if (g_phase == 1) {
        g_done++;
        if (!A.nolat)
            bench_lat_add(&g_lat, bench_now_ns() - r->t0);
    }
    if (g_phase < 2 && (A.count < 0 || g_issued < A.count))
        issue(r);
}

int main(int argc, char **argv)
{
    A = bench_parse(argc, argv);
    bench_target t = bench_target_env();
    if (strcmp(A.query, "select1") == 0 || strcmp(A.query, "point") == 0)
        g_expect_rows = 1;
    else if (strcmp(A.query, "rows100") == 0)
        g_expect_rows = 100;

    if (A.allocs) {
        myr_allocator al = {cnt_malloc, cnt_realloc, cnt_free};
        myr_set_allocator(&al);
    }
    myr_error err;
    myr_loop_opts lo = {0};
    lo.sq_entries = 4096;
    lo.batch_wait_us = bench_batch_wait_us();
    myr_loop *loop = myr_loop_new(&lo, &err);
    if (loop == NULL) {
        fprintf(stderr, "qps: loop: %s\n", err.message);
        return 1;
    }
    myr_conn_opts *o = myr_conn_opts_new();
    myr_conn_opts_set_str(o, MYR_OPT_HOST, t.host);
    /* Plaintext unless PERF_TLS=1 (then TLS, as the peers get it with the same variable). */
    int tls = getenv("PERF_TLS") != NULL && strcmp(getenv("PERF_TLS"), "1") == 0;
    myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, tls ? MYR_SSL_REQUIRED : MYR_SSL_DISABLED);
    /* PERF_TLS_VERSION (TLSv1.2 / TLSv1.3), PERF_TLS_CIPHER (a cipher list):
     * to compare what the server and we pay per record. */
    if (tls && getenv("PERF_TLS_VERSION"))
        myr_conn_opts_set_str(o, MYR_OPT_TLS_VERSION, getenv("PERF_TLS_VERSION"));
    if (tls && getenv("PERF_TLS_CIPHER"))
        myr_conn_opts_set_str(o, MYR_OPT_SSL_CIPHER, getenv("PERF_TLS_CIPHER"));
    myr_conn_opts_set_int(o, MYR_OPT_PORT, t.port);
    myr_conn_opts_set_str(o, MYR_OPT_USER, t.user);
    myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, t.password);
    if (t.db)
        myr_conn_opts_set_str(o, MYR_OPT_DATABASE, t.db);

    /* Connect everything at once (in waves of 256 so the listen backlog holds). */
    myr_conn **cs = calloc((size_t)A.conns, sizeof *cs);
    myr_future **fs = calloc((size_t)A.conns, sizeof *fs);
    for (int i = 0; i < A.conns; i += 256) {
        int n = A.conns - i < 256 ? A.conns - i : 256;
        for (int j = 0; j < n; j++)
            fs[i + j] = myr_connect(loop, o);
        myr_gather(fs + i, (size_t)n, -1);
        for (int j = 0; j < n; j++) {
            if (myr_future_status(fs[i + j]) != 0) {
                const myr_error *e = myr_future_error(fs[i + j]);
                fprintf(stderr, "qps: connect %d: %u %s\n", i + j, e->mysql_errno, e->message);
                return 1;
            }
            cs[i + j] = myr_future_take_conn(fs[i + j]);
            myr_future_free(fs[i + j]);
        }
    }
    myr_conn_opts_free(o);

    size_t nreq = (size_t)A.conns * (size_t)A.depth;
    req *reqs = calloc(nreq, sizeof *reqs);
    bench_cpu c0 = bench_cpu_now(), c1;
    uint64_t m0 = g_mallocs + g_reallocs, b0 = g_bytes, f0 = g_frees;
    double t0 = bench_now(), tm0 = t0, tm1 = t0;
    g_phase = (A.count >= 0 || A.warmup <= 0) ? 1 : 0;
    for (size_t i = 0; i < nreq; i++) {
        reqs[i].conn = cs[i % (size_t)A.conns];
        if (A.count < 0 || g_issued < A.count)
            issue(&reqs[i]);
    }
    while (g_inflight > 0) {
        int rc = myr_loop_run_once(loop, 50);
        if (rc < 0) {
            fprintf(stderr, "qps: run_once: %s\n", myr_strerror(rc));
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
    if (g_phase != 2 && A.count < 0) {   /* cannot happen: the loop runs until stopped */
        tm1 = bench_now();
        c1 = bench_cpu_now();
    }

    if (A.allocs) {
        double q = g_done ? (double)g_done : 1.0;
        fprintf(stderr, "allocs: %.2f malloc+realloc calls, %.2f frees, %.0f bytes per query\n",
                (double)(g_mallocs + g_reallocs - m0) / q, (double)(g_frees - f0) / q,
                (double)(g_bytes - b0) / q);
    }
    for (int i = 0; i < A.conns; i++)
        fs[i] = myr_close(cs[i]);
    myr_gather(fs, (size_t)A.conns, 10000);
    for (int i = 0; i < A.conns; i++)
        myr_future_free(fs[i]);

    if (A.header)
        printf("%s\n", BENCH_CSV_HEADER);
    char mode[32];
    snprintf(mode, sizeof mode, "depth%d%s", A.depth, tls ? "-tls" : "");
    bench_print("myring", mode, strchr(A.query, ',') ? "sql" : A.query, A.conns, A.depth, tm1 - tm0,
                g_done, &g_lat, c0, c1);
    free(reqs);
    free(cs);
    free(fs);
    free(g_lat.v);
    myr_loop_free(loop);
    return 0;
}
