/*
 * examples/table_creator.c -- the reference document's table creator:
 * create N tables (DROP IF EXISTS + CREATE), check SHOW TABLES, drop them,
 * check again; in several modes, timed:
 *   sync        one connection, blocking calls, one statement at a time
 *   batch:K     K connections; each round gives every connection one table
 *               and waits for the whole round (the document's pattern)
 *   window:K    K connections; a connection gets the next table as soon as
 *               it finishes one (as_completed as a sliding window)
 *   pipeline:K  K connections; every statement queued at once, pipelined
 *               (K = 1: all 2N statements on one connection)
 * Usage: example_table_creator [num_tables] [mode ...]
 *   default: 511 tables; modes sync batch:3 batch:12 window:12 pipeline:1
 * Exits 1 if a check fails (tables missing or left over) or a query fails.
 */
#include <string.h>

#include "common.h"
#include "table_creator_sql.h"

#define DB TABLE_CREATOR_DB

static int g_tables = 511;

static const char *create_fmt = TABLE_CREATOR_CREATE_FMT;

static void check(myr_future *f, const char *what)
{
    if (myr_future_status(f) != 0)
        example_die(what, myr_future_error(f));
}

static myr_conn *connect_db(myr_loop *loop)
{
    myr_conn_opts *o = example_opts(DB);
    myr_future *f = myr_connect(loop, o);
    myr_conn_opts_free(o);
    myr_await(f, -1);
    check(f, "connect");
    myr_conn *c = myr_future_take_conn(f);
    myr_future_free(f);
    return c;
}

/* Queue the statements of table i on c; returns the future of the last one
 * (the earlier ones resolve before it: responses come in order). */
static myr_future *kernel(myr_conn *c, const char *prefix, int i, int create, myr_future **first)
{
    char sql[512];
    int n = snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s_%d", prefix, i);
    myr_future *drop = myr_query(c, sql, (size_t)n);
    if (!create) {
        *first = NULL;
        return drop;
    }
    *first = drop;
    n = snprintf(sql, sizeof sql, create_fmt, prefix, i);
    return myr_query(c, sql, (size_t)n);
}

/* Wait for a kernel's futures and check them. */
static void finish_kernel(myr_future *first, myr_future *last)
{
    if (first != NULL) {
        myr_await(first, -1);
        check(first, "drop");
        myr_future_free(first);
    }
    myr_await(last, -1);
    check(last, "query");
    myr_future_free(last);
}

static size_t count_tables(myr_loop *loop, const char *prefix)
{
    myr_conn *c = connect_db(loop);
    char sql[256];
    int n = snprintf(sql, sizeof sql, "SHOW TABLES LIKE '%s\\_%%'", prefix);
    myr_error err;
    myr_result *r = myr_query_sync(c, sql, (size_t)n, &err);
    if (r == NULL)
        example_die("show tables", &err);
    size_t count = myr_result_row_count(r);
    myr_result_free(r);
    myr_close_sync(c, NULL);
    return count;
}

static void run_sync(myr_loop *loop, const char *prefix, int create)
{
    myr_conn *c = connect_db(loop);
    for (int i = 0; i < g_tables; i++) {
        myr_future *first, *last = kernel(c, prefix, i, create, &first);
        finish_kernel(first, last);
    }
    myr_close_sync(c, NULL);
}

static void run_batch(myr_loop *loop, const char *prefix, int create, int k)
{
    myr_conn **cs = calloc((size_t)k, sizeof *cs);
    for (int j = 0; j < k; j++)
        cs[j] = connect_db(loop);
    myr_future **firsts = calloc((size_t)k, sizeof *firsts), **lasts = calloc((size_t)k, sizeof *lasts);
    for (int i = 0; i < g_tables; i += k) {
        int n = 0;
        for (int j = 0; j < k && i + j < g_tables; j++, n++)
            lasts[j] = kernel(cs[j], prefix, i + j, create, &firsts[j]);
        myr_gather(lasts, (size_t)n, -1);   /* the round ends when all are done */
        for (int j = 0; j < n; j++)
            finish_kernel(firsts[j], lasts[j]);
    }
    for (int j = 0; j < k; j++)
        myr_close_sync(cs[j], NULL);
    free(cs);
    free(firsts);
    free(lasts);
}

typedef struct { myr_conn *conn; myr_future *first, *last; } slot;

static void run_window(myr_loop *loop, const char *prefix, int create, int k)
{
    slot *slots = calloc((size_t)k, sizeof *slots);
    myr_as_completed *it = myr_as_completed_new(loop);
    int next = 0;
    for (int j = 0; j < k; j++) {
        slots[j].conn = connect_db(loop);
        if (next < g_tables) {
            slots[j].last = kernel(slots[j].conn, prefix, next++, create, &slots[j].first);
            myr_as_completed_add(it, slots[j].last);
        }
    }
    myr_future *done;
    while ((done = myr_as_completed_next(it, -1, NULL)) != NULL) {
        int j = 0;
        while (slots[j].last != done)   /* whose kernel finished */
            j++;
        finish_kernel(slots[j].first, done);
        slots[j].last = NULL;
        if (next < g_tables) {   /* that connection takes the next table */
            slots[j].last = kernel(slots[j].conn, prefix, next++, create, &slots[j].first);
            myr_as_completed_add(it, slots[j].last);
        }
    }
    myr_as_completed_free(it);
    for (int j = 0; j < k; j++)
        myr_close_sync(slots[j].conn, NULL);
    free(slots);
}

static void run_pipeline(myr_loop *loop, const char *prefix, int create, int k)
{
    myr_conn **cs = calloc((size_t)k, sizeof *cs);
    for (int j = 0; j < k; j++)
        cs[j] = connect_db(loop);
    size_t n = (size_t)g_tables * 2;
    myr_future **fs = calloc(n, sizeof *fs);
    size_t nf = 0;
    for (int i = 0; i < g_tables; i++) {
        myr_future *first, *last = kernel(cs[i % k], prefix, i, create, &first);
        if (first)
            fs[nf++] = first;
        fs[nf++] = last;
    }
    myr_gather(fs, nf, -1);
    for (size_t i = 0; i < nf; i++) {
        check(fs[i], "query");
        myr_future_free(fs[i]);
    }
    free(fs);
    for (int j = 0; j < k; j++)
        myr_close_sync(cs[j], NULL);
    free(cs);
}

/* Run one mode: create then drop, checking SHOW TABLES after each. */
static double run_mode(myr_loop *loop, const char *mode)
{
    char prefix[64];
    int k = 1;
    const char *colon = strchr(mode, ':');
    if (colon)
        k = atoi(colon + 1);
    if (k < 1)
        k = 1;
    snprintf(prefix, sizeof prefix, "table_%.*s_%d", colon ? (int)(colon - mode) : (int)strlen(mode), mode, k);
    double t0 = example_now();
    for (int create = 1; create >= 0; create--) {
        if (strncmp(mode, "sync", 4) == 0)
            run_sync(loop, prefix, create);
        else if (strncmp(mode, "batch", 5) == 0)
            run_batch(loop, prefix, create, k);
        else if (strncmp(mode, "window", 6) == 0)
            run_window(loop, prefix, create, k);
        else if (strncmp(mode, "pipeline", 8) == 0)
            run_pipeline(loop, prefix, create, k);
        else {
            fprintf(stderr, "unknown mode '%s'\n", mode);
            exit(2);
        }
        size_t have = count_tables(loop, prefix);
        size_t want = create ? (size_t)g_tables : 0;
        if (have != want) {
            fprintf(stderr, "%s: %zu tables after %s, expected %zu\n", mode, have,
                    create ? "creating" : "dropping", want);
            exit(1);
        }
    }
    return example_now() - t0;
}

int main(int argc, char **argv)
{
    const char *defaults[] = {"sync", "batch:3", "batch:12", "window:12", "pipeline:1"};
    const char **modes = defaults;
    int nmodes = 5;
    if (argc > 1)
        g_tables = atoi(argv[1]);
    if (argc > 2) {
        modes = (const char **)argv + 2;
        nmodes = argc - 2;
    }
    myr_error err;
    myr_loop *loop = myr_loop_new(NULL, &err);
    if (loop == NULL)
        example_die("loop", &err);

    /* Set up the database (no concurrency here). */
    myr_conn_opts *o = example_opts(NULL);
    myr_conn *c = myr_connect_sync(loop, o, &err);
    myr_conn_opts_free(o);
    if (c == NULL)
        example_die("connect", &err);
    myr_result *r = myr_query_sync(c, "CREATE DATABASE IF NOT EXISTS " DB, strlen("CREATE DATABASE IF NOT EXISTS " DB), &err);
    if (r == NULL)
        example_die("create database", &err);
    myr_result_free(r);
    myr_close_sync(c, NULL);

    printf("%d tables created, checked, dropped, checked\n", g_tables);
    printf("%-12s %9s %10s\n", "mode", "seconds", "vs sync");
    double sync_s = 0;
    for (int m = 0; m < nmodes; m++) {
        double s = run_mode(loop, modes[m]);
        if (strcmp(modes[m], "sync") == 0)
            sync_s = s;
        if (sync_s > 0 && strcmp(modes[m], "sync") != 0)
            printf("%-12s %9.2f %9.0f%%\n", modes[m], s, 100.0 * (1.0 - s / sync_s));
        else
            printf("%-12s %9.2f %10s\n", modes[m], s, "-");
        fflush(stdout);
    }
    printf("(reference document: sync 25.86 s, 3 jobs 19.09 s = 26%% faster, 12 jobs 13.15 s = 49%% faster)\n");
    myr_loop_free(loop);
    return 0;
}
