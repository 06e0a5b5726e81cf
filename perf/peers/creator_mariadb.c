/*
 * perf/peers/creator_mariadb.c -- the reference document's table creator
 * (examples/table_creator.c) with libmariadb: create N tables (DROP IF EXISTS
 * + CREATE), check SHOW TABLES, drop them, check again, timed per mode:
 *   sync       one connection, blocking calls
 *   batch:K    K non-blocking connections on one thread (poll): each round
 *              gives every connection one table and waits for the round
 *   window:K   K non-blocking connections: a connection takes the next table
 *              as soon as it finishes one (a sliding window)
 * Usage: creator_mariadb [num_tables] [mode ...]   (default 511 sync batch:3 batch:12 window:12)
 * Prints "mariadb,<mode>,<tables>,<seconds>" per mode. Exits 1 on any failure.
 */
#include <errno.h>
#include <mysql.h>
#include <poll.h>

#include "../bench.h"
#include "../../examples/table_creator_sql.h"

#define DB TABLE_CREATOR_DB

static bench_target T;
static int g_tables = 511;

static const char *create_fmt = TABLE_CREATOR_CREATE_FMT;

static void die_mysql(const char *what, MYSQL *m)
{
    fprintf(stderr, "creator_mariadb: %s: %u %s\n", what, mysql_errno(m), mysql_error(m));
    exit(1);
}

static MYSQL *connect_db(int nonblock, const char *db)
{
    MYSQL *m = mysql_init(NULL);
    if (nonblock)
        mysql_options(m, MYSQL_OPT_NONBLOCK, 0);
    if (mysql_real_connect(m, T.host, T.user, T.password, db, (unsigned)T.port, NULL, 0) == NULL)
        die_mysql("connect", m);
    return m;
}

/* The statements of table i: DROP IF EXISTS (+ CREATE when creating). */
static int kernel_sql(char out[2][512], const char *prefix, int i, int create)
{
    snprintf(out[0], 512, "DROP TABLE IF EXISTS %s_%d", prefix, i);
    if (!create)
        return 1;
    snprintf(out[1], 512, create_fmt, prefix, i);
    return 2;
}

static void run_sync(const char *prefix, int create)
{
    MYSQL *m = connect_db(0, DB);
    char sql[2][512];
    for (int i = 0; i < g_tables; i++) {
        int n = kernel_sql(sql, prefix, i, create);
        for (int s = 0; s < n; s++)
            if (mysql_query(m, sql[s]) != 0)
                die_mysql("query", m);
    }
    mysql_close(m);
}

/* A non-blocking connection running a kernel (1 or 2 statements). */
typedef struct nb {
    MYSQL *m;
    char sql[2][512];
    int nsql, cur;     /* statements, the one running */
    int busy;          /* a kernel is in flight */
    int status;        /* MYSQL_WAIT_* */
} nb;

/* Run c's statements as far as possible without waiting; returns 1 while
 * waiting on the socket, 0 when the kernel is finished. */
static int nb_advance(nb *c, int ready, int started)
{
    int err = 0;
    for (;;) {
        if (!started) {
            c->status = mysql_real_query_start(&err, c->m, c->sql[c->cur], strlen(c->sql[c->cur]));
            started = 1;
        } else {
            c->status = mysql_real_query_cont(&err, c->m, ready);
            ready = 0;
        }
        if (c->status)
            return 1;
        if (err)
            die_mysql("query", c->m);
        if (++c->cur == c->nsql) {
            c->busy = 0;
            return 0;
        }
        started = 0;
    }
}

static void nb_start(nb *c, const char *prefix, int i, int create)
{
    c->nsql = kernel_sql(c->sql, prefix, i, create);
    c->cur = 0;
    c->busy = 1;
    nb_advance(c, 0, 0);
}

/* Wait once for the busy connections; advance those that are ready.
 * Returns the number of kernels that finished. */
static int nb_poll(nb *cs, int k, struct pollfd *pfd, int *idx)
{
    int np = 0, finished = 0;
    for (int j = 0; j < k; j++) {
        if (!cs[j].busy)
            continue;
        pfd[np].fd = mysql_get_socket(cs[j].m);
        pfd[np].events = (short)(((cs[j].status & MYSQL_WAIT_READ) ? POLLIN : 0) |
                                 ((cs[j].status & MYSQL_WAIT_WRITE) ? POLLOUT : 0));
        pfd[np].revents = 0;
        idx[np++] = j;
    }
    if (np == 0)
        return 0;
    if (poll(pfd, (nfds_t)np, -1) < 0 && errno != EINTR) {
        perror("poll");
        exit(1);
    }
    for (int p = 0; p < np; p++) {
        if (pfd[p].revents == 0)
            continue;
        int r = 0;
        if (pfd[p].revents & (POLLIN | POLLHUP | POLLERR))
            r |= MYSQL_WAIT_READ;
        if (pfd[p].revents & POLLOUT)
            r |= MYSQL_WAIT_WRITE;
        if (nb_advance(&cs[idx[p]], r, 1) == 0)
            finished++;
    }
    return finished;
}

static void run_async(const char *prefix, int create, int k, int window)
{
    nb *cs = calloc((size_t)k, sizeof *cs);
    struct pollfd *pfd = calloc((size_t)k, sizeof *pfd);
    int *idx = calloc((size_t)k, sizeof *idx);
    for (int j = 0; j < k; j++)
        cs[j].m = connect_db(1, DB);
    int next = 0;
    if (!window) {
        while (next < g_tables) {
            int n = 0;
            for (int j = 0; j < k && next < g_tables; j++, n++)
                nb_start(&cs[j], prefix, next++, create);
            for (;;) {   /* the round ends when all are done */
                int busy = 0;
                for (int j = 0; j < n; j++)
                    busy += cs[j].busy;
                if (!busy)
                    break;
                nb_poll(cs, n, pfd, idx);
            }
        }
    } else {
        for (int j = 0; j < k && next < g_tables; j++)
            nb_start(&cs[j], prefix, next++, create);
        for (;;) {
            int busy = 0;
            for (int j = 0; j < k; j++) {
                if (!cs[j].busy && next < g_tables)
                    nb_start(&cs[j], prefix, next++, create);
                busy += cs[j].busy;
            }
            if (!busy)
                break;
            nb_poll(cs, k, pfd, idx);
        }
    }
    for (int j = 0; j < k; j++)
        mysql_close(cs[j].m);
    free(cs);
    free(pfd);
    free(idx);
}

static long count_tables(const char *prefix)
{
    MYSQL *m = connect_db(0, DB);
    char sql[256];
    snprintf(sql, sizeof sql, "SHOW TABLES LIKE '%s\\_%%'", prefix);
    if (mysql_query(m, sql) != 0)
        die_mysql("show tables", m);
    MYSQL_RES *r = mysql_store_result(m);
    if (r == NULL)
        die_mysql("store_result", m);
    long n = (long)mysql_num_rows(r);
    mysql_free_result(r);
    mysql_close(m);
    return n;
}

static double run_mode(const char *mode)
{
    char prefix[64];
    int k = 1;
    const char *colon = strchr(mode, ':');
    if (colon)
        k = atoi(colon + 1);
    if (k < 1)
        k = 1;
    snprintf(prefix, sizeof prefix, "mdb_%.*s_%d", colon ? (int)(colon - mode) : (int)strlen(mode),
             mode, k);
    double t0 = bench_now();
    for (int create = 1; create >= 0; create--) {
        if (strncmp(mode, "sync", 4) == 0)
            run_sync(prefix, create);
        else if (strncmp(mode, "batch", 5) == 0)
            run_async(prefix, create, k, 0);
        else if (strncmp(mode, "window", 6) == 0)
            run_async(prefix, create, k, 1);
        else {
            fprintf(stderr, "creator_mariadb: unknown mode '%s'\n", mode);
            exit(2);
        }
        long have = count_tables(prefix), want = create ? g_tables : 0;
        if (have != want) {
            fprintf(stderr, "creator_mariadb: %s: %ld tables after %s, expected %ld\n", mode, have,
                    create ? "creating" : "dropping", want);
            exit(1);
        }
    }
    return bench_now() - t0;
}

int main(int argc, char **argv)
{
    const char *defaults[] = {"sync", "batch:3", "batch:12", "window:12"};
    const char **modes = defaults;
    int nmodes = 4;
    if (argc > 1)
        g_tables = atoi(argv[1]);
    if (argc > 2) {
        modes = (const char **)argv + 2;
        nmodes = argc - 2;
    }
    T = bench_target_env();
    mysql_library_init(0, NULL, NULL);
    MYSQL *m = connect_db(0, NULL);
    if (mysql_query(m, "CREATE DATABASE IF NOT EXISTS " DB) != 0)
        die_mysql("create database", m);
    mysql_close(m);
    for (int i = 0; i < nmodes; i++) {
        double s = run_mode(modes[i]);
        printf("libmariadb,%s,%d,%.3f\n", modes[i], g_tables, s);
        fflush(stdout);
    }
    mysql_library_end();
    return 0;
}
