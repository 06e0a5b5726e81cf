/*
 * perf/peers/qps_mariadb.c -- the same small-query benchmark as perf/qps.c
 * with libmariadb (MariaDB Connector/C), in two modes:
 *   --mode block     one thread per connection, mysql_real_query +
 *                    mysql_store_result in a loop
 *   --mode nonblock  one thread, every connection non-blocking
 *                    (mysql_real_query_start/_cont, mysql_store_result_start/
 *                    _cont) driven by poll()
 * Prints the CSV line of bench.h. Built by perf/run.sh with
 * `pkg-config --cflags --libs libmariadb`.
 */
#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <stdatomic.h>

#include "../bench.h"
#include "mdb_poll.h"

static bench_args A;
static bench_target T;
static atomic_int g_phase;   /* 0 warm-up, 1 measuring, 2 stop */
static atomic_long g_issued;
static size_t g_expect_rows;

static void die_mysql(const char *what, MYSQL *m)
{
    fprintf(stderr, "qps_mariadb: %s: %u %s\n", what, mysql_errno(m), mysql_error(m));
    exit(1);
}

static MYSQL *connect_one(int nonblock)
{
    MYSQL *m = mysql_init(NULL);
    if (m == NULL) {
        fprintf(stderr, "mysql_init failed\n");
        exit(1);
    }
    if (nonblock)
        mysql_options(m, MYSQL_OPT_NONBLOCK, 0);
    /* PERF_TLS=1: TLS required (certificate not checked), as perf/qps.c does. */
    const char *tls = getenv("PERF_TLS");
    if (tls != NULL && strcmp(tls, "1") == 0) {
        my_bool on = 1;
        mysql_ssl_set(m, NULL, NULL, NULL, NULL, NULL);
        mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &on);
    }
    if (mysql_real_connect(m, T.host, T.user, T.password, T.db, (unsigned)T.port, NULL, 0) == NULL)
        die_mysql("connect", m);
    return m;
}

/* Read every row and value length, as perf/qps.c does with myring. */
static void consume(MYSQL *m, MYSQL_RES *res)
{
    if (res == NULL)
        die_mysql("store_result", m);
    size_t rows = 0, sum = 0;
    unsigned cols = mysql_num_fields(res);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        unsigned long *lens = mysql_fetch_lengths(res);
        for (unsigned j = 0; j < cols; j++)
            if (row[j] != NULL)
                sum += lens[j];
        rows++;
    }
    if (g_expect_rows && rows != g_expect_rows) {
        fprintf(stderr, "qps_mariadb: expected %zu rows, got %zu (sum %zu)\n", g_expect_rows, rows,
                sum);
        exit(1);
    }
    mysql_free_result(res);
}

static int may_issue(void)
{
    if (A.count >= 0)
        return atomic_fetch_add(&g_issued, 1) < A.count;
    return atomic_load(&g_phase) < 2;
}

/* ------------------------------------------------------------- blocking */

typedef struct worker {
    pthread_t th;
    MYSQL *m;
    bench_lat lat;
    uint64_t done;
    uint64_t rng;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    char sql[256];
    while (may_issue()) {
        size_t len = bench_sql(A.query, sql, sizeof sql, &w->rng, A.table_size);
        uint64_t t0 = A.nolat ? 0 : bench_now_ns();
        if (mysql_real_query(w->m, sql, (unsigned long)len) != 0)
            die_mysql("query", w->m);
        consume(w->m, mysql_store_result(w->m));
        if (atomic_load_explicit(&g_phase, memory_order_relaxed) == 1) {
            w->done++;
            if (!A.nolat)
                bench_lat_add(&w->lat, bench_now_ns() - t0);
        }
    }
    return NULL;
}

/* ---------------------------------------------------------- non-blocking */

typedef struct nbconn {
    MYSQL *m;
    int state;       /* 0 idle, 1 in query, 2 in store_result */
    int status;      /* MYSQL_WAIT_* wanted */
    uint64_t t0;
    MYSQL_RES *res;
} nbconn;

static bench_lat g_lat;
static uint64_t g_done;
static uint64_t g_rng = 0x9E3779B97F4A7C15ULL;

/* Advance c as far as it goes without waiting. Returns 1 while it waits on
 * the socket, 0 once it has nothing in flight. */
static int nb_step(nbconn *c, int ready)
{
    for (;;) {
        if (c->state == 0) {
            if (!may_issue())
                return 0;
            char sql[256];
            size_t len = bench_sql(A.query, sql, sizeof sql, &g_rng, A.table_size);
            int err = 0;
            if (!A.nolat)
                c->t0 = bench_now_ns();
            c->status = mysql_real_query_start(&err, c->m, sql, (unsigned long)len);
            c->state = 1;
            if (c->status)
                return 1;
            if (err)
                die_mysql("query", c->m);
            c->state = 2;
            c->status = mysql_store_result_start(&c->res, c->m);
            if (c->status)
                return 1;
        } else if (c->state == 1) {
            int err = 0;
            c->status = mysql_real_query_cont(&err, c->m, ready);
            ready = 0;
            if (c->status)
                return 1;
            if (err)
                die_mysql("query", c->m);
            c->state = 2;
            c->status = mysql_store_result_start(&c->res, c->m);
            if (c->status)
                return 1;
        } else {
            c->status = mysql_store_result_cont(&c->res, c->m, ready);
            ready = 0;
            if (c->status)
                return 1;
        }
        /* store_result finished */
        consume(c->m, c->res);
        c->res = NULL;
        c->state = 0;
        if (atomic_load(&g_phase) == 1) {
            g_done++;
            if (!A.nolat)
                bench_lat_add(&g_lat, bench_now_ns() - c->t0);
        }
    }
}

int main(int argc, char **argv)
{
    A = bench_parse(argc, argv);
    T = bench_target_env();
    if (strcmp(A.query, "select1") == 0 || strcmp(A.query, "point") == 0)
        g_expect_rows = 1;
    else if (strcmp(A.query, "rows100") == 0)
        g_expect_rows = 100;
    int nonblock = strcmp(A.mode, "nonblock") == 0;
    if (!nonblock && strcmp(A.mode, "block") != 0)
        bench_usage(argv[0]);
    if (mysql_library_init(0, NULL, NULL) != 0) {
        fprintf(stderr, "mysql_library_init failed\n");
        return 1;
    }
    int n = A.conns;
    bench_cpu c0 = {0, 0, 0, -1}, c1 = {0, 0, 0, -1};
    double t0 = 0, tm0 = 0, tm1 = 0;
    uint64_t done = 0;
    bench_lat lat = {0};

    if (!nonblock) {
        worker *ws = calloc((size_t)n, sizeof *ws);
        for (int i = 0; i < n; i++) {
            ws[i].m = connect_one(0);
            ws[i].rng = 0x9E3779B97F4A7C15ULL + (uint64_t)i * 7919;
        }
        atomic_store(&g_phase, (A.count >= 0 || A.warmup <= 0) ? 1 : 0);
        c0 = bench_cpu_now();
        t0 = tm0 = bench_now();
        for (int i = 0; i < n; i++) {
            pthread_attr_t at;
            pthread_attr_init(&at);
            pthread_attr_setstacksize(&at, 256 * 1024);
            if (pthread_create(&ws[i].th, &at, run_worker, &ws[i]) != 0) {
                perror("pthread_create");
                return 1;
            }
            pthread_attr_destroy(&at);
        }
        if (A.count < 0) {
            if (A.warmup > 0) {
                usleep((useconds_t)(A.warmup * 1e6));
                tm0 = bench_now();
                c0 = bench_cpu_now();
                atomic_store(&g_phase, 1);
            }
            usleep((useconds_t)(A.seconds * 1e6));
            atomic_store(&g_phase, 2);
            tm1 = bench_now();
            c1 = bench_cpu_now();
        }
        for (int i = 0; i < n; i++)
            pthread_join(ws[i].th, NULL);
        if (A.count >= 0) {
            tm1 = bench_now();
            c1 = bench_cpu_now();
        }
        for (int i = 0; i < n; i++) {
            done += ws[i].done;
            bench_lat_merge(&lat, &ws[i].lat);
            free(ws[i].lat.v);
            mysql_close(ws[i].m);
        }
        free(ws);
    } else {
        nbconn *cs = calloc((size_t)n, sizeof *cs);
        struct pollfd *pfd = calloc((size_t)n, sizeof *pfd);
        int *idx = calloc((size_t)n, sizeof *idx);
        for (int i = 0; i < n; i++)
            cs[i].m = connect_one(1);
        atomic_store(&g_phase, (A.count >= 0 || A.warmup <= 0) ? 1 : 0);
        c0 = bench_cpu_now();
        t0 = tm0 = tm1 = bench_now();
        int active = 0;
        for (int i = 0; i < n; i++)
            active += nb_step(&cs[i], 0);
        while (active > 0) {
            int np = 0;
            for (int i = 0; i < n; i++) {
                if (cs[i].state == 0)
                    continue;
                pfd[np].fd = mysql_get_socket(cs[i].m);
                pfd[np].events = mdb_poll_events(cs[i].status);
                pfd[np].revents = 0;
                idx[np++] = i;
            }
            int rc = poll(pfd, (nfds_t)np, 50);
            if (rc < 0 && errno != EINTR) {
                perror("poll");
                return 1;
            }
            for (int k = 0; k < np && rc > 0; k++) {
                if (pfd[k].revents == 0)
                    continue;
                nbconn *c = &cs[idx[k]];
                active -= 1 - nb_step(c, mdb_ready_status(pfd[k].revents));
            }
            if (A.count >= 0)
                continue;
            double now = bench_now();
            if (atomic_load(&g_phase) == 0 && now >= t0 + A.warmup) {
                atomic_store(&g_phase, 1);
                tm0 = now;
                c0 = bench_cpu_now();
            } else if (atomic_load(&g_phase) == 1 && now >= tm0 + A.seconds) {
                atomic_store(&g_phase, 2);
                tm1 = now;
                c1 = bench_cpu_now();
            }
        }
        if (A.count >= 0) {
            tm1 = bench_now();
            c1 = bench_cpu_now();
        }
        done = g_done;
        lat = g_lat;
        for (int i = 0; i < n; i++)
            mysql_close(cs[i].m);
        free(cs);
        free(pfd);
        free(idx);
    }
    if (A.header)
        printf("%s\n", BENCH_CSV_HEADER);
    const char *tls_env = getenv("PERF_TLS");
    int tls_on = tls_env != NULL && strcmp(tls_env, "1") == 0;
    bench_print("libmariadb", nonblock ? (tls_on ? "nonblock-tls" : "nonblock") : (tls_on ? "block-tls" : "block"),
                strchr(A.query, ',') ? "sql" : A.query, n, 1, tm1 - tm0, done, &lat, c0, c1);
    free(lat.v);
    mysql_library_end();
    return 0;
}
