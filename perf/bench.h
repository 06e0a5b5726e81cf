/*
 * perf/bench.h -- helpers shared by the benchmark programs (ours in perf/<name>.c
 * and the peers' in perf/peers/<name>.c): clocks, CPU time, RSS, latency samples
 * and the one-line CSV every program prints. No myring dependency.
 *
 * Every throughput program prints one CSV line per run:
 *   impl,mode,query,conns,depth,seconds,queries,qps,p50_us,p99_us,
 *   cpu_us_per_q,usr_us_per_q,sys_us_per_q,maxrss_kib,server_cpu_us_per_q
 * (--header prints the header line first). The server's CPU is read from
 * /proc/$PERF_SERVER_PID/stat when that is set (empty otherwise).
 */
#ifndef PERF_BENCH_H
#define PERF_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BENCH_CSV_HEADER                                                                           \
    "impl,mode,query,conns,depth,seconds,queries,qps,p50_us,p99_us,cpu_us_per_q,usr_us_per_q,"     \
    "sys_us_per_q,maxrss_kib,server_cpu_us_per_q"

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct bench_cpu {
    double usr, sys;   /* seconds */
    long maxrss_kib;
    double server;     /* CPU seconds of $PERF_SERVER_PID, -1 if unknown */
} bench_cpu;

/* utime + stime of process pid in seconds, -1 if it cannot be read. */
static inline double bench_pid_cpu(const char *pid)
{
    char path[64], line[1024];
    if (pid == NULL || *pid == '\0')
        return -1;
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    const char *p = strrchr(line, ')');   /* the command name may hold spaces */
    unsigned long long ut = 0, st = 0;
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static inline bench_cpu bench_cpu_now(void)
{
    struct rusage ru;
    bench_cpu c;
    getrusage(RUSAGE_SELF, &ru);
    c.usr = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    c.sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    c.maxrss_kib = ru.ru_maxrss;
    c.server = bench_pid_cpu(getenv("PERF_SERVER_PID"));
    return c;
}

/* Resident set size now, in KiB (from /proc/self/statm). */
static inline long bench_rss_kib(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Latency samples in nanoseconds, grown as needed. Not thread-safe: one per
 * thread, merged with bench_lat_merge. */
typedef struct bench_lat {
    uint32_t *v;   /* ns, capped at ~4.29 s */
    size_t n, cap;
} bench_lat;

static inline void bench_lat_add(bench_lat *l, uint64_t ns)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 65536;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (l->v == NULL) {
            perror("realloc");
            exit(1);
        }
    }
    l->v[l->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static inline void bench_lat_merge(bench_lat *into, const bench_lat *from)
{
    for (size_t i = 0; i < from->n; i++)
        bench_lat_add(into, from->v[i]);
}

static int bench_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Percentile p (0..100) in microseconds; sorts the samples. */
static inline double bench_lat_pct(bench_lat *l, double p)
{
    if (l->n == 0)
        return 0;
    qsort(l->v, l->n, sizeof *l->v, bench_u32_cmp);
    size_t i = (size_t)(p / 100.0 * (double)(l->n - 1) + 0.5);
    if (i >= l->n)
        i = l->n - 1;
    return (double)l->v[i] / 1000.0;
}

static inline void bench_print(const char *impl, const char *mode, const char *query, int conns,
                               int depth, double secs, uint64_t queries, bench_lat *lat,
                               bench_cpu c0, bench_cpu c1)
{
    double q = queries ? (double)queries : 1.0;
    double usr = (c1.usr - c0.usr) * 1e6 / q, sys = (c1.sys - c0.sys) * 1e6 / q;
    double p50 = bench_lat_pct(lat, 50), p99 = bench_lat_pct(lat, 99);
    char srv[32] = "";
    if (c0.server >= 0 && c1.server >= 0)
        snprintf(srv, sizeof srv, "%.2f", (c1.server - c0.server) * 1e6 / q);
    printf("%s,%s,%s,%d,%d,%.3f,%llu,%.0f,%.1f,%.1f,%.2f,%.2f,%.2f,%ld,%s\n", impl, mode, query, conns,
           depth, secs, (unsigned long long)queries, secs > 0 ? (double)queries / secs : 0, p50, p99,
           usr + sys, usr, sys, c1.maxrss_kib, srv);
    fflush(stdout);
}

/* A small fast PRNG (xorshift64*) for point-select ids. */
static inline uint64_t bench_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* The queries by short name: "select1", "point" (sysbench-like PK lookup on
 * sbtest1 with ids 1..table_size), "rows100" (100 rows x 3 columns) or any
 * other text taken as SQL. Writes the SQL into buf, returns its length. */
static inline size_t bench_sql(const char *name, char *buf, size_t cap, uint64_t *rng,
                               int table_size)
{
    int n;
    if (strcmp(name, "select1") == 0)
        n = snprintf(buf, cap, "SELECT 1");
    else if (strcmp(name, "point") == 0)
        n = snprintf(buf, cap, "SELECT c FROM sbtest1 WHERE id=%d",
                     1 + (int)(bench_rand(rng) % (uint64_t)(table_size > 0 ? table_size : 10000)));
    else if (strcmp(name, "rows100") == 0)
        n = snprintf(buf, cap, "SELECT seq, seq*2, CONCAT('row',seq) FROM seq_1_to_100");
    else if (strcmp(name, "rows1") == 0)
        n = snprintf(buf, cap, "SELECT seq, seq*2, CONCAT('row',seq) FROM seq_1_to_1");
    else
        n = snprintf(buf, cap, "%s", name);
    return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

/* Connection parameters from the environment (tests/sandbox.sh env). */
typedef struct bench_target {
    const char *host, *user, *password, *db;
    int port;
} bench_target;

static inline bench_target bench_target_env(void)
{
    bench_target t;
    const char *v;
    t.host = (v = getenv("MYR_TEST_HOST")) ? v : "127.0.0.1";
    t.port = (v = getenv("MYR_TEST_PORT")) ? atoi(v) : 3306;
    t.user = (v = getenv("MYR_TEST_USER")) ? v : "myr";
    t.password = (v = getenv("MYR_TEST_PASSWORD")) ? v : "";
    t.db = (v = getenv("PERF_DB")) ? v : ((v = getenv("MYR_TEST_DB")) ? v : NULL);
    return t;
}

/* Common command-line options of the throughput programs. */
typedef struct bench_args {
    int conns, depth;
    double seconds, warmup;
    long count;           /* >= 0: run exactly this many queries instead of timing */
    const char *query;
    const char *mode;     /* peers: block | nonblock */
    int table_size;
    int nolat;            /* no per-query clock reads (for callgrind) */
    int header;
    int allocs;           /* myring only: count allocations (myr_set_allocator) */
} bench_args;

static inline void bench_usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--conns N] [--depth D] [--seconds S] [--warmup S] [--count Q]\n"
            "          [--query select1|point|rows100|rows1|SQL] [--mode block|nonblock]\n"
            "          [--table-size N] [--nolat] [--header] [--allocs]\n"
            "  target from MYR_TEST_HOST/PORT/USER/PASSWORD, database PERF_DB or MYR_TEST_DB\n",
            prog);
    exit(2);
}

static inline bench_args bench_parse(int argc, char **argv)
{
    bench_args a = {1, 1, 3.0, 0.5, -1, "select1", "block", 10000, 0, 0, 0};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--nolat") == 0) { a.nolat = 1; continue; }
        if (strcmp(o, "--header") == 0) { a.header = 1; continue; }
        if (strcmp(o, "--allocs") == 0) { a.allocs = 1; continue; }
        if (v == NULL)
            bench_usage(argv[0]);
        if (strcmp(o, "--conns") == 0) a.conns = atoi(v);
        else if (strcmp(o, "--depth") == 0) a.depth = atoi(v);
        else if (strcmp(o, "--seconds") == 0) a.seconds = atof(v);
        else if (strcmp(o, "--warmup") == 0) a.warmup = atof(v);
        else if (strcmp(o, "--count") == 0) a.count = atol(v);
        else if (strcmp(o, "--query") == 0) a.query = v;
        else if (strcmp(o, "--mode") == 0) a.mode = v;
        else if (strcmp(o, "--table-size") == 0) a.table_size = atoi(v);
        else bench_usage(argv[0]);
        i++;
    }
    if (a.conns < 1 || a.depth < 1)
        bench_usage(argv[0]);
    return a;
}
/* myring programs: myr_loop_opts.batch_wait_us from PERF_BATCH_WAIT_US (unset:
 * 0, the library's default; negative: off), for A/B runs of batched waits. */
static inline int bench_batch_wait_us(void)
{
    const char *v = getenv("PERF_BATCH_WAIT_US");
    return v != NULL && *v != '\0' ? atoi(v) : 0;
}
/* Open-file limit of at least need descriptors (up to the hard limit). */
static inline void bench_raise_nofile(long need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)need) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)need ? rl.rlim_max : (rlim_t)need;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Options of the connection-storm programs (tls_connect, auth_connect and
 * their peers): --conns N --rounds R --mode M --header. */
typedef struct bench_storm_args {
    int conns, rounds, header;
    const char *mode;   /* NULL: every mode */
} bench_storm_args;

static inline bench_storm_args bench_storm_parse(int argc, char **argv, int conns, int rounds,
                                                 const char *modes)
{
    bench_storm_args a = {conns, rounds, 0, NULL};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--conns") == 0 && i + 1 < argc)
            a.conns = atoi(argv[++i]);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            a.rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
            a.mode = argv[++i];
        else if (strcmp(argv[i], "--header") == 0)
            a.header = 1;
        else {
            fprintf(stderr, "usage: %s [--conns N] [--rounds R] [--mode %s] [--header]\n", argv[0], modes);
            exit(2);
        }
    }
    bench_raise_nofile((long)a.conns + 64);
    return a;
}
#endif
