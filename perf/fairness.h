/*
 * perf/fairness.h -- what the fairness benchmarks share (perf/fairness.c with
 * myring, perf/peers/fairness_mariadb.c with libmariadb; perf/node/fairness.js
 * prints the same line): their options, the MariaDB server's thread context
 * switches, per-connection completion counts and the CSV line.
 *
 * One CSV line per run (--header prints the header first):
 *   impl,mode,refill,conns,depth,seconds,queries,qps,
 *   conn_min,conn_median,conn_max,p50_us,p99_us,p999_us,max_us,
 *   cpu_us_per_q,server_cpu_us_per_q,server_vcsw_per_s,server_ivcsw_per_s
 * refill is the MYR_OPT_PIPELINE_REFILL value given (empty for the peers);
 * conn_* are per-connection completions in the measured window; latency is
 * from queueing a query to its resolution; the server columns are summed over
 * the threads of the server process (0 when its pid is unknown).
 */
#ifndef PERF_FAIRNESS_H
#define PERF_FAIRNESS_H

#include <dirent.h>

#include "bench.h"

#define FAIR_CSV_HEADER                                                                            \
    "impl,mode,refill,conns,depth,seconds,queries,qps,conn_min,conn_median,conn_max,p50_us,"      \
    "p99_us,p999_us,max_us,cpu_us_per_q,server_cpu_us_per_q,server_vcsw_per_s,server_ivcsw_per_s"

typedef struct fair_args {
    int conns, depth;
    double seconds, warmup;
    long refill;        /* MYR_OPT_PIPELINE_REFILL; -2 = not set (library default) */
    long server_pid;    /* 0 = unknown */
    const char *query;
    int header;
    int app_batch;      /* fairness.c: the application refills a connection only
                           once all its queries resolved, all D at once */
} fair_args;

static inline void fair_usage(const char *prog, int depth_fixed)
{
    fprintf(stderr,
            "usage: %s [--conns N] %s[--seconds S] [--warmup S] %s[--query select1|point|SQL]\n"
            "          [--server-pid PID] [--header]%s\n"
            "  target from MYR_TEST_HOST/PORT/USER/PASSWORD, database PERF_DB or MYR_TEST_DB;\n"
            "  server pid from --server-pid, else $PERF_SERVER_PID, else\n"
            "  $MYR_SANDBOX_DIR/mariadbd.pid (0 = none: server columns are 0)\n",
            prog, depth_fixed ? "" : "[--depth D] ", depth_fixed ? "" : "[--refill R] ",
            depth_fixed ? "" : " [--app-batch]");
    exit(2);
}

/* The pid in a pid file, 0 if none. */
static inline long fair_pid_file(const char *path)
{
    long pid = 0;
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return pid > 0 ? pid : 0;
}

/* Make room for conns sockets (plus some slack) under RLIMIT_NOFILE, raising
 * the soft limit up to the hard one; exits with a clear message if the hard
 * limit is too low (1024 connections need more than the usual 1024). */
static inline void fair_nofile(const char *prog, int conns)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)conns + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        fprintf(stderr, "%s: %d connections need %lu file descriptors; the hard limit is %lu\n", prog,
                conns, (unsigned long)want, (unsigned long)rl.rlim_max);
        exit(1);
    }
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        perror("setrlimit(RLIMIT_NOFILE)");
        exit(1);
    }
}

/* depth_fixed: the program has one query in flight per connection (no
 * --depth, no --refill). */
static inline fair_args fair_parse(int argc, char **argv, int depth_fixed)
{
    fair_args a = {64, depth_fixed ? 1 : 8, 5.0, 1.0, -2, -1, "select1", 0, 0};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--header") == 0) {
            a.header = 1;
            continue;
        }
        if (strcmp(o, "--app-batch") == 0 && !depth_fixed) {
            a.app_batch = 1;
            continue;
        }
        if (v == NULL)
            fair_usage(argv[0], depth_fixed);
        if (strcmp(o, "--conns") == 0) a.conns = atoi(v);
        else if (strcmp(o, "--depth") == 0 && !depth_fixed) a.depth = atoi(v);
        else if (strcmp(o, "--refill") == 0 && !depth_fixed) a.refill = atol(v);
        else if (strcmp(o, "--seconds") == 0) a.seconds = atof(v);
        else if (strcmp(o, "--warmup") == 0) a.warmup = atof(v);
        else if (strcmp(o, "--query") == 0) a.query = v;
        else if (strcmp(o, "--server-pid") == 0) a.server_pid = atol(v);
        else fair_usage(argv[0], depth_fixed);
        i++;
    }
    if (a.conns < 1 || a.depth < 1 || a.seconds <= 0 || a.warmup < 0 || a.refill < -2)
        fair_usage(argv[0], depth_fixed);
    fair_nofile(argv[0], a.conns);
    if (a.server_pid < 0) {
        const char *e = getenv("PERF_SERVER_PID"), *d = getenv("MYR_SANDBOX_DIR");
        a.server_pid = 0;
        if (e != NULL && *e != '\0')
            a.server_pid = atol(e);
        else if (d != NULL && *d != '\0') {
            char path[4096];
            snprintf(path, sizeof path, "%s/mariadbd.pid", d);
            a.server_pid = fair_pid_file(path);
        }
    }
    return a;
}

/* The server's context switches, summed over its threads. */
typedef struct fair_ctxsw {
    unsigned long long vol, invol;
    double cpu;   /* process CPU seconds (all threads), -1 if unknown */
    int ok;
} fair_ctxsw;

static inline fair_ctxsw fair_ctxsw_read(long pid)
{
    fair_ctxsw c = {0, 0, -1, 0};
    if (pid <= 0)
        return c;
    char path[320], line[256], spid[32];
    snprintf(spid, sizeof spid, "%ld", pid);
    c.cpu = bench_pid_cpu(spid);
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return c;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%ld/task/%.32s/status", pid, e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;   /* the thread ended meanwhile */
        unsigned long long v;
        while (fgets(line, sizeof line, f) != NULL) {
            if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1)
                c.vol += v;
            else if (sscanf(line, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
                c.invol += v;
        }
        fclose(f);
    }
    closedir(d);
    c.ok = 1;
    return c;
}

static int fair_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Prints the CSV line. per_conn: completions per connection in the window
 * (sorted here); lat: every latency sample of the window. */
static inline void fair_print(const fair_args *a, const char *impl, const char *mode,
                              const char *refill, double secs, uint64_t *per_conn, bench_lat *lat,
                              bench_cpu c0, bench_cpu c1, fair_ctxsw s0, fair_ctxsw s1)
{
    uint64_t queries = 0;
    for (int i = 0; i < a->conns; i++)
        queries += per_conn[i];
    qsort(per_conn, (size_t)a->conns, sizeof *per_conn, fair_u64_cmp);
    uint64_t cmed = per_conn[a->conns / 2];
    if (a->conns % 2 == 0)
        cmed = (per_conn[a->conns / 2 - 1] + per_conn[a->conns / 2]) / 2;
    double q = queries ? (double)queries : 1.0;
    double cpu = (c1.usr - c0.usr + c1.sys - c0.sys) * 1e6 / q;
    double p50 = bench_lat_pct(lat, 50), p99 = bench_lat_pct(lat, 99),
           p999 = bench_lat_pct(lat, 99.9), pmax = bench_lat_pct(lat, 100);
    double srv_cpu = 0, vcs = 0, ivcs = 0;
    if (s0.ok && s1.ok && secs > 0) {
        vcs = (double)(s1.vol - s0.vol) / secs;
        ivcs = (double)(s1.invol - s0.invol) / secs;
    }
    if (s0.cpu >= 0 && s1.cpu >= 0)
        srv_cpu = (s1.cpu - s0.cpu) * 1e6 / q;
    if (a->header)
        printf("%s\n", FAIR_CSV_HEADER);
    printf("%s,%s,%s,%d,%d,%.3f,%llu,%.0f,%llu,%llu,%llu,%.1f,%.1f,%.1f,%.1f,%.2f,%.2f,%.0f,%.0f\n",
           impl, mode, refill, a->conns, a->depth, secs, (unsigned long long)queries,
           secs > 0 ? (double)queries / secs : 0, (unsigned long long)per_conn[0],
           (unsigned long long)cmed, (unsigned long long)per_conn[a->conns - 1], p50, p99, p999,
           pmax, cpu, srv_cpu, vcs, ivcs);
    fflush(stdout);
}

#endif
