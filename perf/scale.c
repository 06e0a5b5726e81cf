/*
 * perf/scale.c -- many connections on one myring loop: each connects, runs
 * SELECT 1 and stays open. Reports the time until all have connected and
 * answered, the RSS before and after (memory per idle connection) and the
 * peak RSS. At most --window connections are being set up at once (the
 * server's listen backlog is finite).
 *
 * Usage: perf_scale [--conns N] [--window W] [--server LABEL] [--header] [--sites] [--smaps]
 * Prints: impl,server,conns,connect_s,rss_before_kib,rss_after_kib,maxrss_kib,kib_per_conn,
 *         heap_bytes_per_conn (what myring itself holds, counted through
 *         myr_set_allocator; the RSS figure adds malloc's overhead and pages)
 * kib_per_conn = (VmRSS once every connection has answered its SELECT 1 -
 * VmRSS after the loop was made, before the first connect) / connections
 * that answered; both read from /proc/self/statm.
 * --sites: also, on stderr, myring's live heap per allocation call chain
 * (made since the first connect); --smaps: each mapping's Rss change, and
 * malloc's arena (mallinfo2). perf/scale_sites.sh runs both and resolves
 * the chains.
 */
#include <malloc.h>
#include <myring.h>

#include "bench.h"
#include "memsites.h"

/* Count the bytes myring holds, through its allocator hook. */
static long long g_live;
static void *cnt_malloc(size_t n)
{
    void *p = malloc(n);
    if (p) {
        g_live += (long long)malloc_usable_size(p);
        memsites_add(p);
    }
    return p;
}
static void *cnt_realloc(void *p, size_t n)
{
    long long old = p ? (long long)malloc_usable_size(p) : 0;
    memsites_del(p);   /* before: p may be gone after */
    void *q = realloc(p, n);
    if (q) {
        g_live += (long long)malloc_usable_size(q) - old;
        memsites_add(q);
    } else if (p) {
        memsites_add(p);
    }
    return q;
}
static void cnt_free(void *p)
{
    if (p)
        g_live -= (long long)malloc_usable_size(p);
    memsites_del(p);
    free(p);
}

static myr_loop *g_loop;
static myr_conn_opts *g_opts;
static myr_conn **g_conns;
static int g_n, g_started, g_ready, g_inflight, g_failed;

static void start_one(void);

static void on_query(myr_future *f, void *arg)
{
    (void)arg;
    if (myr_future_status(f) != 0) {
        fprintf(stderr, "scale: query: %s\n", myr_future_error(f)->message);
        g_failed++;
    } else {
        g_ready++;
    }
    myr_future_free(f);
    g_inflight--;
    start_one();
}

static void on_connect(myr_future *f, void *arg)
{
    long i = (long)(intptr_t)arg;
    if (myr_future_status(f) != 0) {
        if (g_failed++ < 5)
            fprintf(stderr, "scale: connect %ld: %u %s\n", i, myr_future_error(f)->mysql_errno,
                    myr_future_error(f)->message);
        myr_future_free(f);
        g_inflight--;
        start_one();
        return;
    }
    myr_conn *c = g_conns[i] = myr_future_take_conn(f);
    myr_future_free(f);
    myr_future *q = myr_query(c, "SELECT 1", 8);
    myr_future_on_done(q, on_query, NULL);
}

static void start_one(void)
{
    if (g_started >= g_n)
        return;
    long i = g_started++;
    g_inflight++;
    myr_future *f = myr_connect(g_loop, g_opts);
    myr_future_on_done(f, on_connect, (void *)(intptr_t)i);
}

int main(int argc, char **argv)
{
    int window = 1000, header = 0, sites = 0, smaps = 0;
    const char *server = "mariadb";
    g_n = 1000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--header") == 0)
            header = 1;
        else if (strcmp(argv[i], "--sites") == 0)
            sites = 1;
        else if (strcmp(argv[i], "--smaps") == 0)
            smaps = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--conns") == 0)
            g_n = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--window") == 0)
            window = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--server") == 0)
            server = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--conns N] [--window W] [--server LABEL] [--header] [--sites] [--smaps]\n", argv[0]);
            return 2;
        }
    }
    bench_target t = bench_target_env();
    if (sites)
        memsites_init();
    myr_allocator al = {cnt_malloc, cnt_realloc, cnt_free};
    myr_set_allocator(&al);
    myr_error err;
    myr_loop_opts lo = {.sq_entries = 4096};
    g_loop = myr_loop_new(&lo, &err);
    if (g_loop == NULL) {
        fprintf(stderr, "scale: loop: %s\n", err.message);
        return 1;
    }
    g_opts = myr_conn_opts_new();
    myr_conn_opts_set_str(g_opts, MYR_OPT_HOST, t.host);
    myr_conn_opts_set_int(g_opts, MYR_OPT_SSL_MODE, MYR_SSL_DISABLED);   /* peers run plaintext */
    myr_conn_opts_set_int(g_opts, MYR_OPT_PORT, t.port);
    myr_conn_opts_set_str(g_opts, MYR_OPT_USER, t.user);
    myr_conn_opts_set_str(g_opts, MYR_OPT_PASSWORD, t.password);
    myr_conn_opts_set_int(g_opts, MYR_OPT_CONNECT_TIMEOUT, 60000);
    g_conns = calloc((size_t)g_n, sizeof *g_conns);

    ms_maps maps0 = {NULL, 0};
    struct mallinfo2 mi0 = mallinfo2();
    if (smaps)
        maps0 = memsites_smaps();
    memsites_mark();
    long rss0 = bench_rss_kib();
    long long live0 = g_live;
    double t0 = bench_now();
    for (int i = 0; i < window && i < g_n; i++)
        start_one();
    while (g_inflight > 0) {
        int rc = myr_loop_run_once(g_loop, 1000);
        if (rc < 0) {
            fprintf(stderr, "scale: run_once: %s\n", myr_strerror(rc));
            return 1;
        }
    }
    double secs = bench_now() - t0;
    long rss1 = bench_rss_kib();
    long long live1 = g_live;
    if (smaps) {
        ms_maps maps1 = memsites_smaps();
        memsites_smaps_diff(stderr, maps0, maps1);
        struct mallinfo2 mi1 = mallinfo2();
        fprintf(stderr, "malloc,arena_kib,%ld,in_use_kib,%ld,free_kib,%ld,mmap_kib,%ld\n",
                (long)(mi1.arena - mi0.arena) / 1024, (long)(mi1.uordblks - mi0.uordblks) / 1024,
                (long)(mi1.fordblks - mi0.fordblks) / 1024, (long)(mi1.hblkhd - mi0.hblkhd) / 1024);
        free(maps0.m);
        free(maps1.m);
    }
    if (sites)
        memsites_dump(stderr, g_ready ? g_ready : 1);
    bench_cpu c = bench_cpu_now();
    if (g_failed)
        fprintf(stderr, "scale: %d of %d connections failed\n", g_failed, g_n);

    /* Close politely, in windows. */
    myr_future **fs = calloc((size_t)g_n, sizeof *fs);
    int nf = 0;
    for (int i = 0; i < g_n; i++)
        if (g_conns[i] != NULL)
            fs[nf++] = myr_close(g_conns[i]);
    myr_gather(fs, (size_t)nf, 60000);
    for (int i = 0; i < nf; i++)
        myr_future_free(fs[i]);
    free(fs);

    if (header)
        printf("impl,server,conns,connect_s,rss_before_kib,rss_after_kib,maxrss_kib,kib_per_conn,"
               "heap_bytes_per_conn\n");
    printf("myring,%s,%d,%.3f,%ld,%ld,%ld,%.2f,%.0f\n", server, g_ready, secs, rss0, rss1,
           c.maxrss_kib, g_ready ? (double)(rss1 - rss0) / g_ready : 0.0,
           g_ready ? (double)(live1 - live0) / g_ready : 0.0);
    free(g_conns);
    myr_conn_opts_free(g_opts);
    myr_loop_free(g_loop);
    return g_failed ? 1 : 0;
}
