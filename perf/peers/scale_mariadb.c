/*
 * perf/peers/scale_mariadb.c -- perf/scale.c with libmariadb: N connections
 * set up on one thread with the non-blocking API (mysql_real_connect_start/
 * _cont, then SELECT 1 with mysql_real_query_start/_cont and
 * mysql_store_result_start/_cont), at most --window at once, driven by
 * poll(); then all stay open. Reports the time, RSS before/after and the
 * memory per idle connection.
 * Prints: impl,server,conns,connect_s,rss_before_kib,rss_after_kib,maxrss_kib,kib_per_conn,
 *         heap_bytes_per_conn (malloc'd bytes in use, mallinfo2)
 */
#include <errno.h>
#include <malloc.h>
#include <mysql.h>
#include <poll.h>

#include "../bench.h"

enum { ST_IDLE, ST_CONNECT, ST_QUERY, ST_STORE, ST_DONE, ST_FAILED };

typedef struct sc {
    MYSQL *m;
    int state, status;
} sc;

static bench_target T;
static int g_failed;

static void fail(sc *c, const char *what)
{
    if (g_failed++ < 5)
        fprintf(stderr, "scale_mariadb: %s: %u %s\n", what, mysql_errno(c->m), mysql_error(c->m));
    c->state = ST_FAILED;
}

/* Advance c; returns 1 while it waits on its socket. */
static int step(sc *c, int ready)
{
    for (;;) {
        switch (c->state) {
        case ST_IDLE: {
            MYSQL *ret = NULL;
            c->m = mysql_init(NULL);
            mysql_options(c->m, MYSQL_OPT_NONBLOCK, 0);
            c->state = ST_CONNECT;
            c->status = mysql_real_connect_start(&ret, c->m, T.host, T.user, T.password, NULL,
                                                 (unsigned)T.port, NULL, 0);
            if (c->status)
                return 1;
            if (ret == NULL) {
                fail(c, "connect");
                return 0;
            }
            break;
        }
        case ST_CONNECT: {
            MYSQL *ret = NULL;
            c->status = mysql_real_connect_cont(&ret, c->m, ready);
            ready = 0;
            if (c->status)
                return 1;
            if (ret == NULL) {
                fail(c, "connect");
                return 0;
            }
            break;
        }
        case ST_QUERY: {
            int err = 0;
            c->status = mysql_real_query_cont(&err, c->m, ready);
            ready = 0;
            if (c->status)
                return 1;
            if (err) {
                fail(c, "query");
                return 0;
            }
            c->state = ST_STORE;
            MYSQL_RES *res = NULL;
            c->status = mysql_store_result_start(&res, c->m);
            if (c->status)
                return 1;
            mysql_free_result(res);
            c->state = ST_DONE;
            return 0;
        }
        case ST_STORE: {
            MYSQL_RES *res = NULL;
            c->status = mysql_store_result_cont(&res, c->m, ready);
            if (c->status)
                return 1;
            mysql_free_result(res);
            c->state = ST_DONE;
            return 0;
        }
        default:
            return 0;
        }
        /* connected: start the query */
        int err = 0;
        c->state = ST_QUERY;
        c->status = mysql_real_query_start(&err, c->m, "SELECT 1", 8);
        if (c->status)
            return 1;
        if (err) {
            fail(c, "query");
            return 0;
        }
        c->state = ST_STORE;   /* the query finished at once */
        MYSQL_RES *res = NULL;
        c->status = mysql_store_result_start(&res, c->m);
        if (c->status)
            return 1;
        mysql_free_result(res);
        c->state = ST_DONE;
        return 0;
    }
}

int main(int argc, char **argv)
{
    int n = 1000, window = 1000, header = 0;
    const char *server = "mariadb";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--header") == 0)
            header = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--conns") == 0)
            n = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--window") == 0)
            window = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--server") == 0)
            server = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--conns N] [--window W] [--server LABEL] [--header]\n", argv[0]);
            return 2;
        }
    }
    T = bench_target_env();
    mysql_library_init(0, NULL, NULL);
    sc *cs = calloc((size_t)n, sizeof *cs);
    struct pollfd *pfd = calloc((size_t)n, sizeof *pfd);
    int *idx = calloc((size_t)n, sizeof *idx);

    long rss0 = bench_rss_kib();
    size_t heap0 = mallinfo2().uordblks;
    double t0 = bench_now();
    int next = 0, busy = 0;
    for (;;) {
        while (busy < window && next < n)
            busy += step(&cs[next++], 0);
        if (busy == 0 && next >= n)
            break;
        int np = 0;
        for (int i = 0; i < next; i++) {
            int s = cs[i].state;
            if (s == ST_CONNECT || s == ST_QUERY || s == ST_STORE) {
                pfd[np].fd = mysql_get_socket(cs[i].m);
                pfd[np].events = (short)(((cs[i].status & MYSQL_WAIT_READ) ? POLLIN : 0) |
                                         ((cs[i].status & MYSQL_WAIT_WRITE) ? POLLOUT : 0));
                pfd[np].revents = 0;
                idx[np++] = i;
            }
        }
        int rc = poll(pfd, (nfds_t)np, 1000);
        if (rc < 0 && errno != EINTR) {
            perror("poll");
            return 1;
        }
        for (int k = 0; k < np && rc > 0; k++) {
            if (pfd[k].revents == 0)
                continue;
            int r = 0;
            if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
                r |= MYSQL_WAIT_READ;
            if (pfd[k].revents & POLLOUT)
                r |= MYSQL_WAIT_WRITE;
            if (step(&cs[idx[k]], r) == 0)
                busy--;
        }
    }
    double secs = bench_now() - t0;
    long rss1 = bench_rss_kib();
    size_t heap1 = mallinfo2().uordblks;
    bench_cpu c = bench_cpu_now();
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += cs[i].state == ST_DONE;
    for (int i = 0; i < n; i++)
        if (cs[i].m)
            mysql_close(cs[i].m);
    if (header)
        printf("impl,server,conns,connect_s,rss_before_kib,rss_after_kib,maxrss_kib,kib_per_conn,"
               "heap_bytes_per_conn\n");
    printf("libmariadb,%s,%d,%.3f,%ld,%ld,%ld,%.2f,%.0f\n", server, ok, secs, rss0, rss1,
           c.maxrss_kib, ok ? (double)(rss1 - rss0) / ok : 0.0,
           ok ? ((double)heap1 - (double)heap0) / ok : 0.0);
    free(cs);
    free(pfd);
    free(idx);
    mysql_library_end();
    return g_failed ? 1 : 0;
}
