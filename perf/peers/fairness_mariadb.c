/*
 * perf/peers/fairness_mariadb.c -- the fairness benchmark of perf/fairness.c
 * with libmariadb's non-blocking API (mysql_real_query_start/_cont +
 * mysql_store_result_start/_cont on one thread, driven by poll(), as
 * perf/peers/qps_mariadb.c --mode nonblock): --conns connections, each with
 * ONE query in flight (libmariadb cannot pipeline: the CSV's depth column
 * says 1), the next one queued as soon as the previous result is stored;
 * each round of the poll loop hands out at most one completion per
 * connection (see nb_step), as myring's ticks do.
 * After --warmup seconds it measures for --seconds and prints the CSV line
 * of perf/fairness.h: QPS, completions per connection (min / median / max),
 * latency from mysql_real_query_start() to the stored result (p50 / p99 /
 * p99.9 / max), client CPU per query, the server's CPU per query and its
 * threads' context switches per second. Built by perf/run.sh with
 * `pkg-config --cflags --libs libmariadb`.
 */
#include <errno.h>
#include <mysql.h>

#include "../fairness.h"
#include "mdb_poll.h"

typedef struct nbconn {
    MYSQL *m;
    int state;       /* 0 idle, 1 in query, 2 in store_result, 3 result stored,
                        not yet handled */
    int status;      /* MYSQL_WAIT_* wanted */
    uint64_t t0, t1;  /* query started, result stored */
    uint64_t done;   /* completions in the measured window */
    MYSQL_RES *res;
} nbconn;

static fair_args A;
static int g_phase;  /* 0 warm-up, 1 measuring, 2 stopping */
static bench_lat g_lat;
static uint64_t g_rng = 0x9E3779B97F4A7C15ULL;
static int g_one_row;

static void die_mysql(const char *what, MYSQL *m)
{
    fprintf(stderr, "fairness_mariadb: %s: %u %s\n", what, mysql_errno(m), mysql_error(m));
    exit(1);
}

static void consume(MYSQL *m, MYSQL_RES *res)
{
    if (res == NULL)
        die_mysql("store_result", m);
    MYSQL_ROW row;
    size_t rows = 0;
    while ((row = mysql_fetch_row(res)) != NULL)
        rows += row[0] != NULL;
    if (g_one_row && rows != 1) {
        fprintf(stderr, "fairness_mariadb: expected one row, got %zu\n", rows);
        exit(1);
    }
    mysql_free_result(res);
}

/* Advance c as far as it goes without waiting, but hand out at most one
 * completion per call: when the server answers before the next query's
 * *_start returns (its thread still running on the other core), an unbounded
 * loop here would keep serving this one connection while the others wait,
 * which the client, not the server, would cause. A result stored beyond that
 * waits in state 3 for the next round of the main loop, which handles such
 * connections without waiting in poll(). Returns 1 while the connection has a
 * query in flight or a result pending, 0 once it stopped. */
static int nb_step(nbconn *c, int ready)
{
    int completions = 0;
    for (;;) {
        int err = 0;
        if (c->state == 3) {
            if (completions > 0)
                return 1;
            consume(c->m, c->res);
            c->res = NULL;
            c->state = 0;
            completions++;
            if (g_phase == 1) {
                c->done++;
                bench_lat_add(&g_lat, c->t1 - c->t0);
            }
        }
        if (c->state == 0) {
            if (g_phase == 2)
                return 0;
            char sql[256];
            size_t len = bench_sql(A.query, sql, sizeof sql, &g_rng, 10000);
            c->t0 = bench_now_ns();
            c->state = 1;
            c->status = mysql_real_query_start(&err, c->m, sql, (unsigned long)len);
        } else if (c->state == 1) {
            c->status = mysql_real_query_cont(&err, c->m, ready);
        } else {
            c->status = mysql_store_result_cont(&c->res, c->m, ready);
        }
        ready = 0;
        if (c->status)
            return 1;
        if (c->state == 1) {
            if (err)
                die_mysql("query", c->m);
            c->state = 2;
            c->status = mysql_store_result_start(&c->res, c->m);
            if (c->status)
                return 1;
        }
        c->t1 = bench_now_ns();   /* resolved: the result is stored */
        c->state = 3;
    }
}

int main(int argc, char **argv)
{
    A = fair_parse(argc, argv, 1);
    bench_target t = bench_target_env();
    g_one_row = strcmp(A.query, "select1") == 0 || strcmp(A.query, "point") == 0;
    if (mysql_library_init(0, NULL, NULL) != 0) {
        fprintf(stderr, "mysql_library_init failed\n");
        return 1;
    }
    size_t n = (size_t)A.conns;
    nbconn *cs = calloc(n, sizeof *cs);
    struct pollfd *pfd = calloc(n, sizeof *pfd);
    size_t *idx = calloc(n, sizeof *idx), *rdy = calloc(n, sizeof *rdy);
    if (cs == NULL || pfd == NULL || idx == NULL || rdy == NULL) {
        perror("calloc");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        cs[i].m = mysql_init(NULL);
        if (cs[i].m == NULL) {
            fprintf(stderr, "mysql_init failed\n");
            return 1;
        }
        mysql_options(cs[i].m, MYSQL_OPT_NONBLOCK, 0);
        if (mysql_real_connect(cs[i].m, t.host, t.user, t.password, t.db, (unsigned)t.port, NULL,
                               0) == NULL)
            die_mysql("connect", cs[i].m);
    }

    g_phase = A.warmup > 0 ? 0 : 1;
    size_t active = 0;
    for (size_t i = 0; i < n; i++)
        active += (size_t)nb_step(&cs[i], 0);
    double t0 = bench_now(), tm0 = t0, tm1 = t0;
    bench_cpu c0 = bench_cpu_now(), c1 = c0;
    fair_ctxsw s0 = fair_ctxsw_read(A.server_pid), s1 = s0;
    while (active > 0) {
        nfds_t np = 0;
        size_t nrdy = 0;   /* results stored but not handled yet: don't wait in poll */
        for (size_t i = 0; i < n; i++) {
            if (cs[i].state == 3)
                rdy[nrdy++] = i;
            if (cs[i].state == 0 || cs[i].state == 3)
                continue;
            pfd[np].fd = mysql_get_socket(cs[i].m);
            pfd[np].events = mdb_poll_events(cs[i].status);
            pfd[np].revents = 0;
            idx[np++] = i;
        }
        int rc = poll(pfd, np, nrdy ? 0 : 50);
        if (rc < 0 && errno != EINTR) {
            perror("poll");
            return 1;
        }
        for (nfds_t k = 0; k < np && rc > 0; k++)
            if (pfd[k].revents != 0)
                active -= (size_t)(1 - nb_step(&cs[idx[k]], mdb_ready_status(pfd[k].revents)));
        /* Stored results of the previous round (not polled above: state 3 then). */
        for (size_t k = 0; k < nrdy; k++)
            active -= (size_t)(1 - nb_step(&cs[rdy[k]], 0));
        double now = bench_now();
        if (g_phase == 0 && now >= t0 + A.warmup) {
            s0 = fair_ctxsw_read(A.server_pid);
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

    uint64_t *per_conn = calloc(n, sizeof *per_conn);
    for (size_t i = 0; i < n; i++) {
        per_conn[i] = cs[i].done;
        mysql_close(cs[i].m);
    }
    fair_print(&A, "libmariadb", "nonblock", "", tm1 - tm0, per_conn, &g_lat, c0, c1, s0, s1);
    free(per_conn);
    free(cs);
    free(pfd);
    free(idx);
    free(rdy);
    free(g_lat.v);
    mysql_library_end();
    return 0;
}
