/*
 * perf/fairness.c -- fairness of pipelining under load, with myring: --conns
 * connections on one loop, each kept --depth queries deep (default 8) the way
 * a service does it: the completion callback of every query
 * (myr_future_on_done) queues one new query on the same connection. After
 * --warmup seconds it measures for --seconds and prints one CSV line (see
 * fairness.h): QPS; completions per connection (min / median / max), which
 * show starvation; latency from myr_query() to the callback, p50 / p99 /
 * p99.9 / max, which shows stalls even when the counts look fair; client CPU
 * per query; the MariaDB server's CPU per query and its threads' voluntary
 * and involuntary context switches per second (a server thread that always
 * finds input waiting never blocks in read() and is only descheduled by
 * preemption: few voluntary, many involuntary switches).
 *
 * --refill R sets MYR_OPT_PIPELINE_REFILL on every connection (0 = the
 * library's window policy, -1 = eager: every query leaves at once); without
 * it the library default applies. --app-batch is the window policy done by
 * the application instead (a reference for the library's): a connection is
 * refilled only once all its queries resolved, with D queries at once (mode
 * column "appbatch<D>" instead of "callback<D>").
 */
#include <myring.h>

#include "fairness.h"

typedef struct fconn {
    myr_conn *conn;
    uint64_t *t0;        /* ring of --depth queue times: results come back in order */
    unsigned head, n;    /* oldest entry, entries */
    uint64_t done;       /* completions in the measured window */
} fconn;

static fair_args A;
static int g_phase;      /* 0 warm-up, 1 measuring, 2 stopping (no refill) */
static long g_inflight;
static bench_lat g_lat;
static uint64_t g_rng = 0x9E3779B97F4A7C15ULL;
static int g_one_row;    /* select1, point: check that one row came back */

static void on_done(myr_future *f, void *arg);

static void issue(fconn *c)
{
    char sql[256];
    size_t len = bench_sql(A.query, sql, sizeof sql, &g_rng, 10000);
    c->t0[(c->head + c->n) % (unsigned)A.depth] = bench_now_ns();
    c->n++;
    myr_future *f = myr_query(c->conn, sql, len);
    if (f == NULL) {
        fprintf(stderr, "fairness: myr_query returned NULL\n");
        exit(1);
    }
    g_inflight++;
    myr_future_on_done(f, on_done, c);
}

static void on_done(myr_future *f, void *arg)
{
    fconn *c = arg;
    uint64_t now = bench_now_ns(), t0 = c->t0[c->head];
    c->head = (c->head + 1) % (unsigned)A.depth;
    c->n--;
    g_inflight--;
    if (myr_future_status(f) != 0) {
        const myr_error *e = myr_future_error(f);
        fprintf(stderr, "fairness: query failed: %d %u %s\n", e->code, e->mysql_errno, e->message);
        exit(1);
    }
    myr_result *res = myr_future_take_result(f);
    myr_future_free(f);
    size_t len;
    if (g_one_row && (myr_result_row_count(res) != 1 || myr_result_value(res, 0, 0, &len) == NULL)) {
        fprintf(stderr, "fairness: expected one row\n");
        exit(1);
    }
    myr_result_free(res);
    if (g_phase == 1) {
        c->done++;
        bench_lat_add(&g_lat, now - t0);
    }
    if (g_phase < 2 && !A.app_batch)
        issue(c);   /* refill one per completion, on the same connection */
    else if (g_phase < 2 && c->n == 0)
        for (int d = 0; d < A.depth; d++)
            issue(c);   /* --app-batch: the window drained; refill it whole */
}

int main(int argc, char **argv)
{
    A = fair_parse(argc, argv, 0);
    bench_target t = bench_target_env();
    g_one_row = strcmp(A.query, "select1") == 0 || strcmp(A.query, "point") == 0;
    myr_error err;
    myr_loop_opts lo = {.sq_entries = 4096, .batch_wait_us = bench_batch_wait_us()};
    myr_loop *loop = myr_loop_new(&lo, &err);
    if (loop == NULL) {
        fprintf(stderr, "fairness: loop: %s\n", err.message);
        return 1;
    }
    myr_conn_opts *o = myr_conn_opts_new();
    myr_conn_opts_set_str(o, MYR_OPT_HOST, t.host);
    myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_DISABLED);   /* peers run plaintext */
    myr_conn_opts_set_int(o, MYR_OPT_PORT, t.port);
    myr_conn_opts_set_str(o, MYR_OPT_USER, t.user);
    myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, t.password);
    if (t.db)
        myr_conn_opts_set_str(o, MYR_OPT_DATABASE, t.db);
    if (A.refill != -2 && myr_conn_opts_set_int(o, MYR_OPT_PIPELINE_REFILL, A.refill) != 0) {
        fprintf(stderr, "fairness: MYR_OPT_PIPELINE_REFILL %ld rejected\n", A.refill);
        return 2;
    }

    /* Connect in waves of 256 so the server's listen backlog holds. */
    size_t n = (size_t)A.conns;
    fconn *cs = calloc(n, sizeof *cs);
    myr_future **fs = calloc(n, sizeof *fs);
    uint64_t *ring = calloc(n * (size_t)A.depth, sizeof *ring);
    if (cs == NULL || fs == NULL || ring == NULL) {
        perror("calloc");
        return 1;
    }
    for (size_t i = 0; i < n; i += 256) {
        size_t w = n - i < 256 ? n - i : 256;
        for (size_t j = 0; j < w; j++)
            fs[i + j] = myr_connect(loop, o);
        myr_gather(fs + i, w, -1);
        for (size_t j = 0; j < w; j++) {
            if (myr_future_status(fs[i + j]) != 0) {
                const myr_error *e = myr_future_error(fs[i + j]);
                fprintf(stderr, "fairness: connect %zu: %u %s\n", i + j, e->mysql_errno, e->message);
                return 1;
            }
            cs[i + j].conn = myr_future_take_conn(fs[i + j]);
            cs[i + j].t0 = ring + (i + j) * (size_t)A.depth;
            myr_future_free(fs[i + j]);
        }
    }
    myr_conn_opts_free(o);

    /* Fill every pipeline; then the callbacks keep each one --depth deep. */
    g_phase = A.warmup > 0 ? 0 : 1;
    for (int d = 0; d < A.depth; d++)
        for (size_t i = 0; i < n; i++)
            issue(&cs[i]);
    double t0 = bench_now(), tm0 = t0, tm1 = t0;
    bench_cpu c0 = bench_cpu_now(), c1 = c0;
    fair_ctxsw s0 = fair_ctxsw_read(A.server_pid), s1 = s0;
    while (g_inflight > 0) {
        int rc = myr_loop_run_once(loop, 50);
        if (rc < 0) {
            fprintf(stderr, "fairness: run_once: %s\n", myr_strerror(rc));
            return 1;
        }
        double now = bench_now();
        if (g_phase == 0 && now >= t0 + A.warmup) {
            s0 = fair_ctxsw_read(A.server_pid);   /* before the clock: its cost stays outside */
            c0 = bench_cpu_now();
            tm0 = bench_now();
            g_phase = 1;
        } else if (g_phase == 1 && now >= tm0 + A.seconds) {
            g_phase = 2;
            tm1 = bench_now();
            c1 = bench_cpu_now();
            s1 = fair_ctxsw_read(A.server_pid);
        }
    }

    for (size_t i = 0; i < n; i++)
        fs[i] = myr_close(cs[i].conn);
    myr_gather(fs, n, 10000);
    for (size_t i = 0; i < n; i++)
        myr_future_free(fs[i]);

    uint64_t *per_conn = calloc(n, sizeof *per_conn);
    for (size_t i = 0; i < n; i++)
        per_conn[i] = cs[i].done;
    char refill[24] = "";
    if (A.refill != -2)
        snprintf(refill, sizeof refill, "%ld", A.refill);
    char mode[32];
    snprintf(mode, sizeof mode, "%s%d", A.app_batch ? "appbatch" : "callback", A.depth);
    fair_print(&A, "myring", mode, refill, tm1 - tm0, per_conn, &g_lat, c0, c1, s0, s1);
    free(per_conn);
    free(ring);
    free(cs);
    free(fs);
    free(g_lat.v);
    myr_loop_free(loop);
    return 0;
}
