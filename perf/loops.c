/*
 * perf/loops.c -- one loop per thread, the way to use more than one core:
 * --loops L threads, each with its own loop (made on the main thread and
 * handed over before use, the usual daemon pattern) and its own --conns
 * connections kept --depth deep with --query, for --seconds after --warmup.
 * The main thread only keeps time. Prints one CSV line:
 *   impl,loops,conns_per_loop,depth,query,seconds,queries,qps,qps_loop_min,qps_loop_max,cpu_us_per_q
 * Scaling efficiency = qps(L) / (L * qps(1)) from runs with different L
 * (perf/run.sh PERF_ONLY=loops; summarize.py). Target from the environment
 * (MYR_TEST_*), as the other benchmarks.
 */
#include <pthread.h>
#include <stdatomic.h>

#include <myring.h>

#include "bench.h"

typedef struct worker {
    pthread_t tid;
    myr_loop *loop;
    myr_conn **conns;
    uint64_t rng;
    long inflight;
    uint64_t done;            /* completed while measuring */
    int failed;
} worker;

typedef struct req {
    worker *w;
    myr_conn *conn;
} req;

static bench_args A;
static bench_target T;
static atomic_int g_phase;    /* 0 warm-up, 1 measuring, 2 stopping */
static atomic_int g_ready;    /* workers connected */

static void on_done(myr_future *f, void *arg);

static void issue(req *r)
{
    char sql[256];
    size_t len = bench_sql(A.query, sql, sizeof sql, &r->w->rng, A.table_size);
    myr_future *f = myr_query(r->conn, sql, len);
    if (f == NULL) {
        r->w->failed = 1;
        return;
    }
    r->w->inflight++;
    myr_future_on_done(f, on_done, r);
}

static void on_done(myr_future *f, void *arg)
{
    req *r = arg;
    worker *w = r->w;
    w->inflight--;
    if (myr_future_status(f) != 0) {
        const myr_error *e = myr_future_error(f);
        fprintf(stderr, "loops: query failed: %d %u %s\n", e->code, e->mysql_errno, e->message);
        w->failed = 1;
        myr_future_free(f);
        return;
    }
    myr_result *res = myr_future_take_result(f);
    myr_future_free(f);
    size_t rows = myr_result_row_count(res), cols = myr_result_column_count(res), len;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            (void)myr_result_value(res, i, j, &len);
    myr_result_free(res);
    int phase = atomic_load_explicit(&g_phase, memory_order_relaxed);
    if (phase == 1)
        w->done++;
    if (phase < 2 && !w->failed)
        issue(r);
}

static void *run(void *arg)
{
    worker *w = arg;
    myr_conn_opts *o = myr_conn_opts_new();
    myr_conn_opts_set_str(o, MYR_OPT_HOST, T.host);
    myr_conn_opts_set_int(o, MYR_OPT_PORT, T.port);
    myr_conn_opts_set_str(o, MYR_OPT_USER, T.user);
    myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, T.password);
    myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_DISABLED);
    if (T.db)
        myr_conn_opts_set_str(o, MYR_OPT_DATABASE, T.db);
    myr_future **fs = calloc((size_t)A.conns, sizeof *fs);
    w->conns = calloc((size_t)A.conns, sizeof *w->conns);
    for (int i = 0; i < A.conns; i++)
        fs[i] = myr_connect(w->loop, o);
    myr_gather(fs, (size_t)A.conns, -1);
    for (int i = 0; i < A.conns; i++) {
        if (myr_future_status(fs[i]) != 0) {
            fprintf(stderr, "loops: connect: %s\n", myr_future_error(fs[i])->message);
            w->failed = 1;
        }
        w->conns[i] = myr_future_take_conn(fs[i]);
        myr_future_free(fs[i]);
    }
    myr_conn_opts_free(o);
    atomic_fetch_add(&g_ready, 1);

    size_t nreq = (size_t)A.conns * (size_t)A.depth;
    req *reqs = calloc(nreq, sizeof *reqs);
    for (size_t i = 0; i < nreq && !w->failed; i++) {
        reqs[i] = (req){w, w->conns[i % (size_t)A.conns]};
        issue(&reqs[i]);
    }
    while (w->inflight > 0)
        if (myr_loop_run_once(w->loop, 20) < 0) {
            w->failed = 1;
            break;
        }
    for (int i = 0; i < A.conns; i++)
        fs[i] = w->conns[i] ? myr_close(w->conns[i]) : NULL;
    for (int i = 0; i < A.conns; i++)
        if (fs[i] != NULL) {
            myr_await(fs[i], 10000);
            myr_future_free(fs[i]);
        }
    free(fs);
    free(reqs);
    return NULL;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

int main(int argc, char **argv)
{
    int loops = 1;
    /* --loops L first, the rest as the other throughput programs. */
    if (argc >= 3 && strcmp(argv[1], "--loops") == 0) {
        loops = atoi(argv[2]);
        argv[2] = argv[0];
        argv += 2;
        argc -= 2;
    }
    A = bench_parse(argc, argv);
    T = bench_target_env();
    if (loops < 1)
        bench_usage(argv[0]);
    worker *ws = calloc((size_t)loops, sizeof *ws);
    for (int i = 0; i < loops; i++) {
        myr_loop_opts lo = {.sq_entries = 4096};
        myr_error err;
        ws[i].loop = myr_loop_new(&lo, &err);   /* made here, run by the worker */
        if (ws[i].loop == NULL) {
            fprintf(stderr, "loops: loop: %s\n", err.message);
            return 1;
        }
        ws[i].rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
    }
    for (int i = 0; i < loops; i++)
        pthread_create(&ws[i].tid, NULL, run, &ws[i]);
    while (atomic_load(&g_ready) < loops)
        sleep_s(0.01);
    sleep_s(A.warmup);
    bench_cpu c0 = bench_cpu_now();
    double t0 = bench_now();
    atomic_store(&g_phase, 1);
    sleep_s(A.seconds);
    atomic_store(&g_phase, 2);
    double t1 = bench_now();
    bench_cpu c1 = bench_cpu_now();
    uint64_t total = 0;
    double qmin = 1e18, qmax = 0;
    int failed = 0;
    for (int i = 0; i < loops; i++) {
        pthread_join(ws[i].tid, NULL);
        failed |= ws[i].failed;
        total += ws[i].done;
        double q = (double)ws[i].done / (t1 - t0);
        qmin = q < qmin ? q : qmin;
        qmax = q > qmax ? q : qmax;
        free(ws[i].conns);
        myr_loop_free(ws[i].loop);
    }
    if (failed)
        return 1;
    if (A.header)
        printf("impl,loops,conns_per_loop,depth,query,seconds,queries,qps,qps_loop_min,qps_loop_max,"
               "cpu_us_per_q\n");
    double cpu = (c1.usr - c0.usr) + (c1.sys - c0.sys);
    printf("myring,%d,%d,%d,%s,%.3f,%llu,%.0f,%.0f,%.0f,%.2f\n", loops, A.conns, A.depth,
           strchr(A.query, ',') ? "sql" : A.query, t1 - t0, (unsigned long long)total,
           (double)total / (t1 - t0), qmin, qmax, total ? cpu * 1e6 / (double)total : 0.0);
    free(ws);
    return 0;
}
