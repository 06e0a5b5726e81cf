/*
 * perf/soak.c -- a bounded soak: N connections (default 500) on one loop for
 * S seconds (default 120), each running a random mix (SELECT 1, a 20-row
 * result, SLEEP(0.01..0.05), and now and then a SLEEP(0.3)), with random
 * cancels (myr_cancel from a timer), query timeouts (a fifth of the
 * connections have MYR_OPT_QUERY_TIMEOUT 150 ms) and, unless --no-faults,
 * faults through tests/common/faultproxy: a tenth of the connections go
 * through listeners that close (FIN), reset (RST) or stall (with a read
 * timeout) after a random byte of the server's stream, and reconnect when
 * their connection dies.
 *
 * Prints queries done, outcomes by kind, RSS at the start (after a warm-up
 * of 5% of the run, at least 2 s) and at the end (connections still open),
 * and the bytes myring itself holds (a counting myr_set_allocator) at the
 * same two moments and after everything was freed. RSS also grows while
 * memory allocated early (I/O buffers) gets touched, and with the proxy
 * thread's own heap; the library's count shows whether myring grows. With
 * --check it exits 1 unless: every future resolved exactly once, no
 * outcome of an unexpected kind (a connection-level error on a connection
 * without faults, a wrong result, an unknown error), RSS at the end <= RSS
 * at the start + --rss-margin MiB (default 16), myring's heap at the end
 * <= the start + 1 MiB, and 0 bytes held once everything is freed.
 *
 *   eval "$(tests/sandbox.sh env)"; build/perf_soak [--conns N] [--seconds S]
 *        [--no-faults] [--check] [--rss-margin MiB] [--seed N]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>
#include <string.h>
#include <sys/resource.h>

#include <myring.h>

#include "bench.h"
#include "faultproxy.h"

enum { K_OK, K_CANCELED, K_TIMEOUT, K_READ_TIMEOUT, K_LOST, K_GONE, K_CONNECT_FAIL, K_UNEXPECTED, K__N };
static const char *const kind_name[K__N] = {"ok", "canceled", "query timeout", "read timeout",
                                            "lost 2013", "gone 2006", "connect failed",
                                            "UNEXPECTED"};

enum { F_NONE, F_FIN, F_RST, F_STALL };

typedef struct slot {
    int fault;             /* F_*: what its listener does */
    int port;              /* its proxy listener, or the server's */
    int qtimeout;          /* has MYR_OPT_QUERY_TIMEOUT */
    myr_conn *c;
    unsigned gen;          /* bumps with each query */
    myr_future *q;         /* the query in flight */
    int op;
    int cancel_planned;
    int calls;             /* callbacks of the current future */
} slot;

static struct {
    myr_loop *loop;
    fp_proxy *proxy;
    slot *slots;
    int nconns;
    int stopping;
    long outstanding;      /* futures created and not yet called back */
    uint64_t kinds[K__N];
    uint64_t queries, connects, reconnects, double_calls;
    unsigned seed;
    char unexpected[640];
} S;

static unsigned rnd(unsigned n)
{
    S.seed = S.seed * 1103515245u + 12345u;
    return (S.seed >> 8) % n;
}

static void start_query(slot *s);
static void start_connect(slot *s);

static void note_unexpected(const char *fmt, const char *a, int code, unsigned num)
{
    S.kinds[K_UNEXPECTED]++;
    if (S.unexpected[0] == '\0')
        snprintf(S.unexpected, sizeof S.unexpected, fmt, a, code, num);
}

/* ------------------------------------------------------------- queries */

static const char *const ops[] = {
    "SELECT 1",
    "SELECT seq, REPEAT('x', seq) FROM seq_1_to_20",
    "SELECT SLEEP(0.01)", "SELECT SLEEP(0.03)", "SELECT SLEEP(0.05)",
    "SELECT SLEEP(0.3)",
};

static int pick_op(void)
{
    unsigned r = rnd(100);
    return r < 45 ? 0 : r < 70 ? 1 : r < 80 ? 2 : r < 88 ? 3 : r < 95 ? 4 : 5;
}

static int result_right(int op, myr_result *r)
{
    if (r == NULL)
        return 0;
    if (op == 0)
        return myr_result_row_count(r) == 1 && strcmp(myr_result_value(r, 0, 0, NULL), "1") == 0;
    if (op == 1) {
        if (myr_result_row_count(r) != 20)
            return 0;
        size_t len;
        myr_result_value(r, 19, 1, &len);
        return len == 20;
    }
    return myr_result_row_count(r) == 1;
}

static int conn_level(const myr_error *e)
{
    return e->mysql_errno == 2013 || e->mysql_errno == 2006;
}

static void on_query(myr_future *f, void *arg)
{
    slot *s = arg;
    S.outstanding--;
    if (++s->calls != 1)
        S.double_calls++;
    int st = myr_future_status(f);
    const myr_error *e = myr_future_error(f);
    int kind;
    if (st == 0) {
        myr_result *r = myr_future_take_result(f);
        kind = result_right(s->op, r) ? K_OK : K_UNEXPECTED;
        if (kind == K_UNEXPECTED)
            note_unexpected("wrong result for '%s' (%d %u)", ops[s->op], 0, 0);
        myr_result_free(r);
    } else if (st == MYR_ECANCELED && s->cancel_planned) {
        kind = K_CANCELED;
    } else if (st == MYR_ETIMEDOUT && s->qtimeout && strstr(e->message, "query timeout")) {
        kind = K_TIMEOUT;
    } else if (st == MYR_ETIMEDOUT && s->fault == F_STALL && e->mysql_errno == 2013) {
        kind = K_READ_TIMEOUT;
    } else if (s->fault != F_NONE && st == MYR_ECONNLOST && e->mysql_errno == 2013) {
        kind = K_LOST;
    } else if (s->fault != F_NONE && st == MYR_EGONE && e->mysql_errno == 2006) {
        kind = K_GONE;
    } else if (s->fault != F_NONE && (st == MYR_ECANCELED || st == MYR_ETIMEDOUT) && conn_level(e)) {
        kind = st == MYR_ECANCELED ? K_CANCELED : K_TIMEOUT;   /* and the connection went */
    } else {
        kind = K_UNEXPECTED;
        note_unexpected("'%s': code %d, %u", e->message, st, e->mysql_errno);
    }
    S.kinds[kind]++;
    S.queries++;
    myr_future_free(f);
    s->q = NULL;
    if (!myr_conn_alive(s->c)) {
        myr_conn_free(s->c);
        s->c = NULL;
        if (!S.stopping) {
            S.reconnects++;
            start_connect(s);
        }
        return;
    }
    if (!S.stopping)
        start_query(s);
}

static void on_cancel_timer(myr_future *f, void *arg)
{
    slot *s = arg;
    unsigned gen = (unsigned)(uintptr_t)myr_future_data(f);
    S.outstanding--;
    if (s->q != NULL && s->gen == gen)
        myr_cancel(s->q);   /* 0, or MYR_EINVAL when it resolved meanwhile */
    myr_future_free(f);
}

static void start_query(slot *s)
{
    s->op = pick_op();
    s->gen++;
    s->calls = 0;
    s->cancel_planned = rnd(100) < 8;
    s->q = myr_query(s->c, ops[s->op], strlen(ops[s->op]));
    if (s->q == NULL) {
        fprintf(stderr, "soak: out of memory\n");
        exit(2);
    }
    S.outstanding++;
    myr_future_on_done(s->q, on_query, s);
    if (s->cancel_planned) {
        myr_future *t = myr_sleep(S.loop, rnd(60));
        myr_future_set_data(t, (void *)(uintptr_t)s->gen);
        S.outstanding++;
        myr_future_on_done(t, on_cancel_timer, s);
    }
}

/* ------------------------------------------------------------- connects */

static void on_connect(myr_future *f, void *arg)
{
    slot *s = arg;
    S.outstanding--;
    S.connects++;
    s->c = myr_future_take_conn(f);
    if (s->c == NULL) {
        const myr_error *e = myr_future_error(f);
        if (s->fault != F_NONE && e->mysql_errno == 2013) {
            S.kinds[K_CONNECT_FAIL]++;
        } else {
            S.kinds[K_UNEXPECTED]++;
            note_unexpected("connect: '%s' (%d, %u)", e->message, e->code, e->mysql_errno);
        }
        myr_future_free(f);
        if (!S.stopping)
            start_connect(s);
        return;
    }
    myr_future_free(f);
    if (!S.stopping)
        start_query(s);
    else {
        myr_conn_free(s->c);
        s->c = NULL;
    }
}

static void start_connect(slot *s)
{
    myr_conn_opts *o = myr_conn_opts_new();
    myr_conn_opts_set_str(o, MYR_OPT_HOST, getenv("MYR_TEST_HOST"));
    myr_conn_opts_set_int(o, MYR_OPT_PORT, s->port);
    myr_conn_opts_set_str(o, MYR_OPT_USER, getenv("MYR_TEST_USER"));
    myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, getenv("MYR_TEST_PASSWORD"));
    myr_conn_opts_set_str(o, MYR_OPT_DATABASE, getenv("MYR_TEST_DB"));
    myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_DISABLED);
    myr_conn_opts_set_int(o, MYR_OPT_LOGIN_TIMEOUT, 5000);
    if (s->qtimeout)
        myr_conn_opts_set_int(o, MYR_OPT_QUERY_TIMEOUT, 150);
    if (s->fault == F_STALL)
        myr_conn_opts_set_int(o, MYR_OPT_READ_TIMEOUT, 500);
    myr_future *f = myr_connect(S.loop, o);
    myr_conn_opts_free(o);
    if (f == NULL) {
        fprintf(stderr, "soak: out of memory\n");
        exit(2);
    }
    S.outstanding++;
    myr_future_on_done(f, on_connect, s);
}

/* ------------------------------------------------- the library's heap */

/* Bytes myring holds (through myr_set_allocator): tells growth of the
 * library's own memory from the process's (allocator, proxy). */
static long heap_live;

static void *count_malloc(size_t n)
{
    void *p = malloc(n);
    if (p != NULL)
        __atomic_add_fetch(&heap_live, (long)malloc_usable_size(p), __ATOMIC_RELAXED);
    return p;
}

static void *count_realloc(void *old, size_t n)
{
    long was = old ? (long)malloc_usable_size(old) : 0;
    void *p = realloc(old, n);
    if (p != NULL)
        __atomic_add_fetch(&heap_live, (long)malloc_usable_size(p) - was, __ATOMIC_RELAXED);
    else if (n == 0 && old != NULL)
        __atomic_sub_fetch(&heap_live, was, __ATOMIC_RELAXED);
    return p;
}

static void count_free(void *p)
{
    if (p != NULL)
        __atomic_sub_fetch(&heap_live, (long)malloc_usable_size(p), __ATOMIC_RELAXED);
    free(p);
}

/* ------------------------------------------------------------------ main */

/* Run the loop for secs; a progress line (queries, RSS) every `every` s. */
static void run_for(double secs, double every, double t0)
{
    double end = bench_now() + secs, next = every > 0 ? bench_now() + every : end + 1;
    while (bench_now() < end) {
        if (myr_loop_run_once(S.loop, 100) < 0) {
            fprintf(stderr, "soak: myr_loop_run_once failed\n");
            exit(2);
        }
        if (bench_now() >= next) {
            printf("  t=%3.0f s  queries %llu  RSS %ld KiB  myring heap %ld KiB\n", bench_now() - t0,
                   (unsigned long long)S.queries, bench_rss_kib(), heap_live / 1024);
            fflush(stdout);
            next += every;
        }
    }
}

int main(int argc, char **argv)
{
    int conns = 500, faults = 1, check = 0;
    double seconds = 120, rss_margin_mib = 16;
    S.seed = 12345;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--conns") && i + 1 < argc)
            conns = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rss-margin") && i + 1 < argc)
            rss_margin_mib = atof(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            S.seed = (unsigned)atol(argv[++i]);
        else if (!strcmp(argv[i], "--no-faults"))
            faults = 0;
        else if (!strcmp(argv[i], "--check"))
            check = 1;
        else {
            fprintf(stderr, "usage: %s [--conns N] [--seconds S] [--no-faults] [--check] "
                            "[--rss-margin MiB] [--seed N]\n", argv[0]);
            return 2;
        }
    }
    const char *need[] = {"MYR_TEST_HOST", "MYR_TEST_PORT", "MYR_TEST_USER", "MYR_TEST_PASSWORD",
                          "MYR_TEST_DB"};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        if (getenv(need[i]) == NULL) {
            fprintf(stderr, "soak: %s not set (eval \"$(tests/sandbox.sh env)\")\n", need[i]);
            return 2;
        }
    bench_raise_nofile(4 * conns + 256);
    static const myr_allocator counting = {count_malloc, count_realloc, count_free};
    myr_set_allocator(&counting);
    myr_error err;
    S.loop = myr_loop_new(NULL, &err);
    if (S.loop == NULL) {
        fprintf(stderr, "soak: %s\n", err.message);
        return 2;
    }
    int server_port = atoi(getenv("MYR_TEST_PORT"));
    if (faults) {
        S.proxy = fp_new(getenv("MYR_TEST_HOST"), server_port);
        if (S.proxy == NULL) {
            fprintf(stderr, "soak: cannot start the fault proxy\n");
            return 2;
        }
    }
    S.nconns = conns;
    S.slots = calloc((size_t)conns, sizeof *S.slots);
    int nfaulty = 0;
    for (int i = 0; i < conns; i++) {
        slot *s = &S.slots[i];
        s->port = server_port;
        s->qtimeout = i % 5 == 1;
        if (faults && i % 10 == 3) {
            /* After a random byte of the server's stream, past the login. */
            fp_rule r = {.dir = FP_DOWN, .after = 300 + rnd(20000)};
            int which = rnd(3);
            s->fault = which == 0 ? F_FIN : which == 1 ? F_RST : F_STALL;
            r.action = s->fault == F_FIN ? FP_FIN : s->fault == F_RST ? FP_RST : FP_STALL;
            s->port = fp_listen(S.proxy, &r);
            if (s->port < 0) {
                fprintf(stderr, "soak: fp_listen: %s\n", strerror(-s->port));
                return 2;
            }
            nfaulty++;
        }
        start_connect(s);
    }
    double t0 = bench_now(), warm = seconds * 0.05 < 2 ? 2 : seconds * 0.05;
    run_for(warm, 0, t0);
    long rss_start = bench_rss_kib(), heap_start = heap_live;
    uint64_t q_start = S.queries;
    run_for(seconds - warm, seconds >= 60 ? seconds / 12 : 0, t0);
    long rss_end = bench_rss_kib(), heap_end = heap_live;
    double t_end = bench_now();
    uint64_t q_run = S.queries - q_start;

    /* Stop: nothing new; every future still out must resolve. */
    S.stopping = 1;
    double drain0 = bench_now();
    int reported = 0;
    while (S.outstanding > 0 && bench_now() - drain0 < 60) {
        myr_loop_run_once(S.loop, 100);
        if (!reported && bench_now() - drain0 > 3) {
            reported = 1;
            for (int i = 0; i < conns; i++)
                if (S.slots[i].q != NULL)
                    fprintf(stderr, "soak: slot %d (fault %d, qtimeout %d) query '%s' still out after 3 s\n", i,
                            S.slots[i].fault, S.slots[i].qtimeout, ops[S.slots[i].op]);
        }
    }
    double drain_s = bench_now() - drain0;
    long unresolved = S.outstanding;
    for (int i = 0; i < conns; i++)
        myr_conn_free(S.slots[i].c);
    myr_loop_free(S.loop);
    fp_free(S.proxy);

    printf("soak: %d connections (%d through faults, %d with a 150 ms query timeout), %.0f s\n", conns,
           nfaulty, (conns + 3) / 5, t_end - t0);
    printf("queries: %llu (%.0f/s after the warm-up), connects %llu, reconnects %llu\n",
           (unsigned long long)S.queries, (double)q_run / (t_end - t0 - warm),
           (unsigned long long)S.connects, (unsigned long long)S.reconnects);
    printf("outcomes:");
    for (int k = 0; k < K__N; k++)
        printf(" %s %llu%s", kind_name[k], (unsigned long long)S.kinds[k], k + 1 < K__N ? "," : "\n");
    if (S.unexpected[0])
        printf("first unexpected: %s\n", S.unexpected);
    printf("futures unresolved after %.1f s of drain: %ld, callbacks run twice: %llu\n", drain_s,
           unresolved, (unsigned long long)S.double_calls);
    printf("RSS: start %ld KiB (after %.0f s warm-up), end %ld KiB (%+ld KiB), peak %ld KiB\n",
           rss_start, warm, rss_end, rss_end - rss_start, bench_cpu_now().maxrss_kib);
    printf("myring heap in use: start %ld KiB, end %ld KiB (%+ld KiB), after freeing everything %ld bytes\n",
           heap_start / 1024, heap_end / 1024, (heap_end - heap_start) / 1024, heap_live);
    free(S.slots);
    if (!check)
        return 0;
    int ok = 1;
    if (unresolved != 0 || S.double_calls != 0) {
        printf("CHECK FAILED: every future resolves exactly once\n");
        ok = 0;
    }
    if (S.kinds[K_UNEXPECTED] != 0) {
        printf("CHECK FAILED: unexpected outcomes\n");
        ok = 0;
    }
    if (rss_end > rss_start + (long)(rss_margin_mib * 1024)) {
        printf("CHECK FAILED: RSS grew more than %.0f MiB\n", rss_margin_mib);
        ok = 0;
    }
    if (heap_end > heap_start + 1024 * 1024 || heap_live != 0) {
        printf("CHECK FAILED: myring's heap grew by more than 1 MiB, or was not all freed\n");
        ok = 0;
    }
    if (S.kinds[K_OK] == 0 || S.kinds[K_CANCELED] == 0 || S.kinds[K_TIMEOUT] == 0 ||
        (faults && S.kinds[K_LOST] + S.kinds[K_GONE] + S.kinds[K_READ_TIMEOUT] == 0)) {
        printf("CHECK FAILED: a kind of outcome never happened (the soak did not exercise it)\n");
        ok = 0;
    }
    printf("check: %s\n", ok ? "passed" : "FAILED");
    return ok ? 0 : 1;
}
