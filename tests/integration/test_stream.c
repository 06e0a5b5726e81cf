/* tests/integration/test_stream.c -- myr_query_stream against the sandbox:
 * batches that never repeat and add up to the whole result, bounded batch
 * size, several result sets, empty sets and statements without rows,
 * errors (at once and part-way), stopping early and reusing the connection,
 * streams pipelined with ordinary queries, callbacks that queue commands or
 * free the future or the connection, many connections streaming at once,
 * rows over 16 MiB. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sandbox_env.h"

static myr_loop *g_loop;
static myr_conn *g_conn;

static int setup(void **state)
{
    (void)state;
    myr_error err;
    g_loop = myr_loop_new(NULL, &err);
    assert_non_null(g_loop);
    g_conn = sandbox_connect(g_loop);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    myr_close_sync(g_conn, NULL);
    myr_loop_free(g_loop);
    return 0;
}

/* A query that must work on c now (the connection is usable). */
static void want_value(myr_conn *c, const char *sql, const char *want)
{
    myr_future *f = myr_query(c, sql, strlen(sql));
    assert_int_equal(myr_await(f, 30000), 0);
    myr_result *r = myr_future_take_result(f);
    assert_non_null(r);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), want);
    myr_result_free(r);
    myr_future_free(f);
}

/* What a rows callback saw. Rows of "SELECT seq, ..." must come in order:
 * next is the seq expected next in the current set. */
typedef struct seen {
    size_t calls, rows, empty_calls;
    size_t max_batch_rows, max_batch_bytes;
    size_t sets[8];          /* rows per set index */
    size_t calls_per_set[8];
    long next;               /* next seq expected (first column) */
    size_t stop_after;       /* return 1 on this call (0: never) */
    int bad;                 /* a check failed inside the callback */
    size_t ncols;
    char first_name[32];
    /* actions from inside the callback */
    myr_conn *queue_on;      /* queue "SELECT 7" here on the first call */
    myr_future *queued;
    myr_future **free_fut;   /* free *free_fut on the first call */
    myr_conn *free_conn;     /* myr_conn_free on the first call */
    myr_conn *close_conn;    /* myr_close on the first call */
    myr_future *close_fut;
    myr_loop *free_loop;     /* myr_loop_free on the first call */
    myr_future **cancel;     /* myr_cancel(*cancel) on the first call */
    int cancel_rc;
    myr_conn *block_on;      /* try blocking calls on the first call */
    int block_sync, block_await;   /* what they returned */
    myr_conn *kill_from;     /* queue KILL of kill_id from here on the first call */
    unsigned long kill_id;
    myr_future *kill_fut;
    int *log; size_t *nlog;  /* event order: 2 = a batch */
} seen;

static int on_rows(const myr_result *rows, void *arg)
{
    seen *s = arg;
    s->calls++;
    size_t n = myr_result_row_count(rows), idx = myr_result_set_index(rows);
    if (idx >= 8) {
        s->bad = 1;
        return 1;
    }
    s->sets[idx] += n;
    s->calls_per_set[idx]++;
    if (n == 0)
        s->empty_calls++;
    if (n > s->max_batch_rows)
        s->max_batch_rows = n;
    s->ncols = myr_result_column_count(rows);
    const myr_column *c0 = myr_result_column(rows, 0);
    if (c0 == NULL) {
        s->bad = 1;
    } else {
        size_t l = c0->name_len < sizeof s->first_name - 1 ? c0->name_len : sizeof s->first_name - 1;
        memcpy(s->first_name, c0->name, l);
        s->first_name[l] = '\0';
    }
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *v = myr_result_value(rows, i, 0, &len);
        if (v == NULL || atol(v) != s->next)
            s->bad = 1;
        s->next++;
        for (size_t j = 0; j < s->ncols; j++) {
            myr_result_value(rows, i, j, &len);
            bytes += len;
        }
    }
    if (bytes > s->max_batch_bytes)
        s->max_batch_bytes = bytes;
    s->rows += n;
    if (s->log)
        s->log[(*s->nlog)++] = 2;
    if (s->calls == 1) {
        if (s->queue_on)
            s->queued = myr_query(s->queue_on, "SELECT 7", 8);
        if (s->free_fut) {
            myr_future_free(*s->free_fut);
            *s->free_fut = NULL;
        }
        if (s->free_conn)
            myr_conn_free(s->free_conn);
        if (s->close_conn)
            s->close_fut = myr_close(s->close_conn);
        if (s->block_on) {
            myr_error err;
            myr_result *r = myr_query_sync(s->block_on, "SELECT 1", 8, &err);
            s->block_sync = r == NULL ? err.code : 0;
            myr_result_free(r);
            myr_future *f = myr_query(s->block_on, "SELECT 1", 8);
            s->block_await = myr_await(f, 1000);
            myr_future_free(f);
        }
        if (s->kill_from) {
            char sql[64];
            int n = snprintf(sql, sizeof sql, "KILL %lu", s->kill_id);
            s->kill_fut = myr_query(s->kill_from, sql, (size_t)n);
        }
        if (s->cancel)
            s->cancel_rc = myr_cancel(*s->cancel);
        if (s->free_loop)
            myr_loop_free(s->free_loop);
    }
    return s->stop_after != 0 && s->calls == s->stop_after;
}

static myr_future *stream(myr_conn *c, const char *sql, seen *s)
{
    return myr_query_stream(c, sql, strlen(sql), on_rows, s);
}

/* ------------------------------------------------------------------ tests */

static void test_batches_add_up(void **state)
{
    (void)state;
    seen s = {.next = 1};
    myr_future *f = stream(g_conn, "SELECT seq, REPEAT('x', 50) AS pad FROM seq_1_to_200000", &s);
    assert_int_equal(myr_await(f, 60000), 0);
    assert_false(s.bad);
    assert_int_equal(s.rows, 200000);
    assert_int_equal(s.sets[0], 200000);
    assert_int_equal(s.next, 200001);          /* every row once, in order */
    assert_true(s.calls > 10);                 /* in batches, not at once */
    assert_int_equal(s.ncols, 2);
    assert_string_equal(s.first_name, "seq");
    /* A batch holds about 64 KiB of rows: values + cells, so far fewer
     * value bytes than 128 KiB. */
    assert_true(s.max_batch_bytes < 128 * 1024);
    /* The future's value: the end of rows, no columns or rows. */
    myr_result *r = myr_future_take_result(f);
    assert_non_null(r);
    assert_int_equal(myr_result_column_count(r), 0);
    assert_int_equal(myr_result_row_count(r), 0);
    assert_true(myr_result_status(r) & MYR_SERVER_STATUS_AUTOCOMMIT);
    myr_result_free(r);
    myr_future_free(f);
    want_value(g_conn, "SELECT 'after'", "after");
}

static void test_multiple_result_sets(void **state)
{
    (void)state;
    seen s = {.next = 1};
    /* set 0: 3000 rows; 1: DO (no set, no call); 2: empty set; 3: 5 rows
     * (seq restarts: next is reset by a checker below) */
    myr_future *f = stream(g_conn,
                           "SELECT seq FROM seq_1_to_3000; DO 1; SELECT seq FROM seq_3001_to_3000 WHERE 0; "
                           "SELECT seq FROM seq_3001_to_3005",
                           &s);
    assert_int_equal(myr_await(f, 30000), 0);
    assert_false(s.bad);
    assert_int_equal(s.sets[0], 3000);
    assert_int_equal(s.sets[1], 0);
    assert_int_equal(s.calls_per_set[1], 0);     /* DO 1: no result set, no call */
    assert_int_equal(s.sets[2], 0);
    assert_int_equal(s.calls_per_set[2], 1);     /* an empty set: one call, 0 rows */
    assert_int_equal(s.sets[3], 5);
    assert_true(s.calls_per_set[3] >= 1);
    assert_int_equal(s.next, 3006);
    assert_int_equal(s.empty_calls, 1);
    myr_result *r = myr_future_take_result(f);
    assert_non_null(r);
    assert_int_equal(myr_result_set_index(r), 3);   /* the last statement's end */
    assert_false(myr_result_status(r) & MYR_SERVER_STATUS_MORE_RESULTS_EXISTS);
    myr_result_free(r);
    myr_future_free(f);
    want_value(g_conn, "SELECT 'after'", "after");
}

static void test_empty_and_no_rows(void **state)
{
    (void)state;
    seen s = {.next = 1};
    myr_future *f = stream(g_conn, "SELECT seq AS n FROM seq_1_to_10 WHERE seq > 100", &s);
    assert_int_equal(myr_await(f, 30000), 0);
    assert_int_equal(s.calls, 1);            /* the columns, no rows */
    assert_int_equal(s.rows, 0);
    assert_int_equal(s.ncols, 1);
    assert_string_equal(s.first_name, "n");
    myr_future_free(f);

    /* A statement without result set: no call; its OK is the value. */
    myr_result_free(sandbox_query(g_conn, "CREATE TEMPORARY TABLE t_st (v INT)"));
    seen s2 = {.next = 1};
    f = stream(g_conn, "INSERT INTO t_st VALUES (1),(2),(3)", &s2);
    assert_int_equal(myr_await(f, 30000), 0);
    assert_int_equal(s2.calls, 0);
    myr_result *r = myr_future_take_result(f);
    assert_int_equal(myr_result_affected_rows(r), 3);
    assert_non_null(strstr(myr_result_info(r), "Records: 3"));
    myr_result_free(r);
    myr_future_free(f);
    myr_result_free(sandbox_query(g_conn, "DROP TEMPORARY TABLE t_st"));
}

static void test_errors(void **state)
{
    (void)state;
    /* At once: bad SQL, no call. */
    seen s = {.next = 1};
    myr_future *f = stream(g_conn, "SELEKT 1", &s);
    assert_int_equal(myr_await(f, 30000), MYR_ESERVER);
    assert_int_equal(myr_future_error(f)->mysql_errno, 1064);
    assert_int_equal(s.calls, 0);
    assert_null(myr_future_take_result(f));
    myr_future_free(f);

    /* Part-way: the rows before the error reach the callback first. */
    seen s2 = {.next = 1};
    f = stream(g_conn, "SELECT seq, IF(seq < 3000, seq, (SELECT 1 UNION SELECT 2)) FROM seq_1_to_10000", &s2);
    assert_int_equal(myr_await(f, 30000), MYR_ESERVER);
    assert_int_equal(myr_future_error(f)->mysql_errno, 1242);
    assert_string_equal(myr_future_error(f)->sqlstate, "21000");
    assert_false(s2.bad);
    assert_true(s2.rows > 0);
    assert_int_equal(s2.next, (long)s2.rows + 1);
    myr_future_free(f);
    want_value(g_conn, "SELECT 'after'", "after");

    /* Refused before anything is sent. */
    f = myr_query_stream(g_conn, "SELECT 1", 8, NULL, NULL);
    assert_int_equal(myr_future_status(f), MYR_EINVAL);
    myr_future_free(f);
    f = myr_query_stream(NULL, "SELECT 1", 8, on_rows, &s);
    assert_int_equal(myr_future_status(f), MYR_EINVAL);
    myr_future_free(f);
}

static void test_stop_early_then_reuse(void **state)
{
    (void)state;
    seen s = {.next = 1, .stop_after = 1};
    myr_future *f = stream(g_conn, "SELECT seq, REPEAT('y', 100) FROM seq_1_to_300000", &s);
    assert_int_equal(myr_await(f, 60000), MYR_ECANCELED);
    assert_int_equal(s.calls, 1);              /* no call after the stop */
    assert_true(s.rows < 300000);
    assert_null(myr_future_take_result(f));
    myr_future_free(f);
    assert_true(myr_conn_alive(g_conn));
    want_value(g_conn, "SELECT 'reused'", "reused");

    /* Stopped in the first of several sets: the others are drained too. */
    seen s2 = {.next = 1, .stop_after = 1};
    f = stream(g_conn, "SELECT seq FROM seq_1_to_100000; SELECT 2; SELECT seq FROM seq_1_to_100000", &s2);
    assert_int_equal(myr_await(f, 60000), MYR_ECANCELED);
    assert_int_equal(s2.calls, 1);
    myr_future_free(f);
    want_value(g_conn, "SELECT 'reused again'", "reused again");
}

/* myr_cancel on a stream: no batch after it (from inside the callback, or
 * from outside between two batches), the future ends MYR_ECANCELED, the
 * rest is killed or drained and the connection stays usable. */
static void test_cancel_stops_batches(void **state)
{
    (void)state;
    myr_future *f = NULL;
    seen s = {.next = 1, .cancel = &f};
    f = stream(g_conn, "SELECT seq, REPEAT('y', 100) FROM seq_1_to_300000", &s);
    assert_int_equal(myr_await(f, 60000), MYR_ECANCELED);
    assert_int_equal(s.cancel_rc, 0);
    assert_int_equal(s.calls, 1);   /* none after the cancel */
    assert_false(s.bad);
    assert_non_null(strstr(myr_future_error(f)->message, "canceled"));
    myr_future_free(f);
    want_value(g_conn, "SELECT 'after cancel'", "after cancel");

    seen s2 = {.next = 1};
    f = stream(g_conn, "SELECT seq, REPEAT('y', 100) FROM seq_1_to_300000", &s2);
    for (int i = 0; i < 100000 && s2.calls == 0 && !myr_future_done(f); i++)
        myr_loop_run_once(g_loop, 100);
    assert_int_equal(s2.calls, 1);
    assert_int_equal(myr_cancel(f), 0);
    assert_int_equal(myr_await(f, 60000), MYR_ECANCELED);
    assert_int_equal(s2.calls, 1);
    assert_true(s2.rows < 300000);
    myr_future_free(f);
    want_value(g_conn, "SELECT 'after cancel 2'", "after cancel 2");
}

/* Futures' order on one connection: Q1, the stream (its batches first),
 * Q2. */
static int g_log[4096];
static size_t g_nlog;
static void log_done(myr_future *f, void *arg)
{
    (void)f;
    g_log[g_nlog++] = (int)(intptr_t)arg;
}

static void test_pipelined_with_queries(void **state)
{
    (void)state;
    g_nlog = 0;
    seen s = {.next = 1, .log = g_log, .nlog = &g_nlog};
    myr_future *q1 = myr_query(g_conn, "SELECT 1", 8);
    myr_future *st = stream(g_conn, "SELECT seq FROM seq_1_to_50000", &s);
    myr_future *q2 = myr_query(g_conn, "SELECT 3", 8);
    myr_future_on_done(q1, log_done, (void *)(intptr_t)1);
    myr_future_on_done(st, log_done, (void *)(intptr_t)3);
    myr_future_on_done(q2, log_done, (void *)(intptr_t)4);
    myr_future *all[3] = {q1, st, q2};
    assert_int_equal(myr_gather(all, 3, 60000), 0);
    assert_int_equal(myr_future_status(q1), 0);
    assert_int_equal(myr_future_status(st), 0);
    assert_int_equal(myr_future_status(q2), 0);
    assert_int_equal(s.rows, 50000);
    assert_false(s.bad);
    /* 1, then batches (2), then the stream's future (3), then Q2 (4). */
    assert_true(g_nlog >= 4);
    assert_int_equal(g_log[0], 1);
    for (size_t i = 1; i + 2 < g_nlog; i++)
        assert_int_equal(g_log[i], 2);
    assert_int_equal(g_log[g_nlog - 2], 3);
    assert_int_equal(g_log[g_nlog - 1], 4);
    myr_result *r = myr_future_take_result(q2);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "3");
    myr_result_free(r);
    for (int i = 0; i < 3; i++)
        myr_future_free(all[i]);

    /* Two streams back to back, with a query between them. */
    seen a = {.next = 1}, b = {.next = 1};
    myr_future *fa = stream(g_conn, "SELECT seq FROM seq_1_to_40000", &a);
    myr_future *fq = myr_query(g_conn, "SELECT 5", 8);
    myr_future *fb = stream(g_conn, "SELECT seq FROM seq_1_to_30000", &b);
    myr_future *two[3] = {fa, fq, fb};
    assert_int_equal(myr_gather(two, 3, 60000), 0);
    assert_int_equal(myr_future_status(fa), 0);
    assert_int_equal(myr_future_status(fb), 0);
    assert_int_equal(a.rows, 40000);
    assert_int_equal(b.rows, 30000);
    assert_false(a.bad || b.bad);
    for (int i = 0; i < 3; i++)
        myr_future_free(two[i]);
}

static void test_callback_queues_commands(void **state)
{
    (void)state;
    myr_conn *other = sandbox_connect(g_loop);
    /* On the same connection: runs after the stream. */
    g_nlog = 0;
    seen s = {.next = 1, .queue_on = g_conn, .log = g_log, .nlog = &g_nlog};
    myr_future *f = stream(g_conn, "SELECT seq FROM seq_1_to_50000", &s);
    myr_future_on_done(f, log_done, (void *)(intptr_t)3);
    assert_int_equal(myr_await(f, 60000), 0);
    assert_non_null(s.queued);
    myr_future_on_done(s.queued, log_done, (void *)(intptr_t)4);
    assert_int_equal(myr_await(s.queued, 30000), 0);
    assert_int_equal(g_log[g_nlog - 1], 4);
    assert_int_equal(g_log[g_nlog - 2], 3);
    myr_result *r = myr_future_take_result(s.queued);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "7");
    myr_result_free(r);
    myr_future_free(s.queued);
    myr_future_free(f);
    assert_int_equal(s.rows, 50000);

    /* On another connection of the loop. */
    seen s2 = {.next = 1, .queue_on = other};
    f = stream(g_conn, "SELECT seq FROM seq_1_to_50000", &s2);
    assert_int_equal(myr_await(f, 60000), 0);
    assert_int_equal(myr_await(s2.queued, 30000), 0);
    r = myr_future_take_result(s2.queued);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "7");
    myr_result_free(r);
    myr_future_free(s2.queued);
    myr_future_free(f);
    myr_close_sync(other, NULL);
}

static void test_callback_frees_its_future(void **state)
{
    (void)state;
    seen s = {.next = 1};
    myr_future *f = stream(g_conn, "SELECT seq FROM seq_1_to_200000", &s);
    s.free_fut = &f;
    /* The future is gone after the first call: wait for the connection
     * with a query behind the stream. */
    myr_future *after = myr_query(g_conn, "SELECT 'next'", 13);
    assert_int_equal(myr_await(after, 60000), 0);
    assert_null(f);
    assert_int_equal(s.calls, 1);   /* no call once its future was freed */
    myr_result *r = myr_future_take_result(after);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "next");
    myr_result_free(r);
    myr_future_free(after);
}

static void test_callback_frees_connection(void **state)
{
    (void)state;
    myr_conn *c = sandbox_connect(g_loop);
    seen s = {.next = 1, .free_conn = c};
    myr_future *f = stream(c, "SELECT seq FROM seq_1_to_200000", &s);
    myr_future *after = myr_query(c, "SELECT 1", 8);
    assert_int_equal(myr_await(f, 60000), MYR_ECLOSED);
    assert_int_equal(myr_await(after, 60000), MYR_ECLOSED);
    assert_int_equal(s.calls, 1);
    myr_future_free(f);
    myr_future_free(after);
    /* The loop and its other connections go on. */
    want_value(g_conn, "SELECT 'still here'", "still here");
}

static void test_callback_closes_connection(void **state)
{
    (void)state;
    myr_conn *c = sandbox_connect(g_loop);
    seen s = {.next = 1, .close_conn = c};
    myr_future *f = stream(c, "SELECT seq FROM seq_1_to_100000", &s);
    /* myr_close after the queued commands: the stream runs to its end. */
    assert_int_equal(myr_await(f, 60000), 0);
    assert_int_equal(s.rows, 100000);
    assert_false(s.bad);
    assert_non_null(s.close_fut);
    assert_int_equal(myr_await(s.close_fut, 30000), 0);
    myr_future_free(s.close_fut);
    myr_future_free(f);
}

#define NCONNS 16
static void test_many_connections(void **state)
{
    (void)state;
    myr_conn *cs[NCONNS];
    seen ss[NCONNS];
    myr_future *fs[NCONNS];
    for (int i = 0; i < NCONNS; i++)
        cs[i] = sandbox_connect(g_loop);
    for (int i = 0; i < NCONNS; i++) {
        memset(&ss[i], 0, sizeof ss[i]);
        ss[i].next = 1;
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT seq, REPEAT('z', 20) FROM seq_1_to_%d", 20000 + 1000 * i);
        fs[i] = stream(cs[i], sql, &ss[i]);
    }
    assert_int_equal(myr_gather(fs, NCONNS, 120000), 0);
    for (int i = 0; i < NCONNS; i++) {
        assert_int_equal(myr_future_status(fs[i]), 0);
        assert_false(ss[i].bad);
        assert_int_equal(ss[i].rows, (size_t)(20000 + 1000 * i));
        myr_future_free(fs[i]);
        myr_close_sync(cs[i], NULL);
    }
}

/* Rows over 16 MiB arrive in several frames: one row per batch. */
static size_t g_big_rows, g_big_calls;
static int g_big_bad;
static int on_big(const myr_result *rows, void *arg)
{
    (void)arg;
    g_big_calls++;
    for (size_t i = 0; i < myr_result_row_count(rows); i++) {
        size_t len;
        const char *v = myr_result_value(rows, i, 1, &len);
        if (v == NULL || len != 17u * 1024 * 1024 + 5 || v[0] != 'a' || v[len - 1] != 'a')
            g_big_bad = 1;
        if (atol(myr_result_value(rows, i, 0, NULL)) != (long)g_big_rows + 1)
            g_big_bad = 1;
        g_big_rows++;
    }
    return 0;
}

static void test_rows_over_16mib(void **state)
{
    (void)state;
    const char *sql = "SELECT seq, REPEAT('a', 17 * 1024 * 1024 + 5) FROM seq_1_to_3";
    myr_future *f = myr_query_stream(g_conn, sql, strlen(sql), on_big, NULL);
    assert_int_equal(myr_await(f, 120000), 0);
    assert_false(g_big_bad);
    assert_int_equal(g_big_rows, 3);
    assert_true(g_big_calls >= 3);   /* each row fills a batch on its own */
    myr_future_free(f);
    want_value(g_conn, "SELECT 'small again'", "small again");
}

static void test_callback_frees_loop(void **state)
{
    (void)state;
    myr_error err;
    myr_loop *loop = myr_loop_new(NULL, &err);
    assert_non_null(loop);
    myr_conn *c = sandbox_connect(loop);
    seen s = {.next = 1, .free_loop = loop};
    myr_future *f = stream(c, "SELECT seq FROM seq_1_to_200000", &s);
    /* The loop goes when the run_once that called back returns; the
     * connection with it, and the future fails, readable still. */
    assert_int_equal(myr_await(f, 60000), MYR_ECLOSED);
    assert_null(myr_future_loop(f));
    assert_int_equal(s.calls, 1);
    myr_future_free(f);
}

static void test_private_loop_and_blocking_refused(void **state)
{
    (void)state;
    myr_conn *c = sandbox_connect(NULL);   /* a private loop */
    seen s = {.next = 1, .block_on = c};
    myr_future *f = stream(c, "SELECT seq FROM seq_1_to_100000", &s);
    assert_int_equal(myr_await(f, 60000), 0);
    assert_int_equal(s.rows, 100000);
    assert_false(s.bad);
    /* Blocking on the loop from its rows callback is refused. */
    assert_int_equal(s.block_sync, MYR_EBUSY);
    assert_int_equal(s.block_await, MYR_EBUSY);
    myr_future_free(f);
    myr_error err;
    myr_result *r = myr_query_sync(c, "SELECT 'ok'", 11, &err);
    assert_non_null(r);
    myr_result_free(r);
    myr_close_sync(c, NULL);
}

/* The server kills the connection while it streams (its sends block on
 * our full socket buffer meanwhile): the rows before arrive, then an
 * error, and the connection is gone. */
static void test_killed_mid_stream(void **state)
{
    (void)state;
    myr_conn *victim = sandbox_connect(g_loop);
    seen s = {.next = 1, .kill_from = g_conn, .kill_id = myr_conn_thread_id(victim)};
    myr_future *f = stream(victim, "SELECT seq, REPEAT('k', 200) FROM seq_1_to_50000000", &s);
    int rc = myr_await(f, 120000);
    assert_true(rc == MYR_ESERVER || rc == MYR_ECONNLOST);
    if (rc == MYR_ESERVER)
        assert_int_equal(myr_future_error(f)->mysql_errno, 1927);   /* connection was killed */
    assert_int_equal(myr_await(s.kill_fut, 30000), 0);
    assert_true(s.rows > 0 && s.rows < 50000000);
    assert_false(s.bad);
    myr_future_free(s.kill_fut);
    myr_future_free(f);
    myr_conn_free(victim);
    want_value(g_conn, "SELECT 'killer fine'", "killer fine");
}

/* TCP connections default to TLS where the server offers it (the tests
 * above); the same over plain TCP and over the Unix socket. */
static void test_plain_transports(void **state)
{
    (void)state;
    for (int unix_socket = 0; unix_socket <= 1; unix_socket++) {
        myr_conn_opts *o = sandbox_opts(unix_socket);
        assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_DISABLED), 0);
        myr_error err;
        myr_conn *c = myr_connect_sync(g_loop, o, &err);
        myr_conn_opts_free(o);
        assert_non_null(c);
        seen s = {.next = 1};
        myr_future *f = stream(c, "SELECT seq, REPEAT('p', 60) FROM seq_1_to_150000; SELECT seq FROM seq_150001_to_150010", &s);
        assert_int_equal(myr_await(f, 60000), 0);
        assert_false(s.bad);
        assert_int_equal(s.sets[0], 150000);
        assert_int_equal(s.sets[1], 10);
        assert_true(s.calls > 10);
        myr_future_free(f);
        want_value(c, "SELECT 'plain'", "plain");
        myr_close_sync(c, NULL);
    }
}

/* The Nth allocation fails, for every N a stream makes: its future still
 * resolves once (with the rows whole, or an error), nothing leaks (ASan),
 * and the loop goes on. */
static long g_allocs, g_fail_at;
static void *fail_malloc(size_t n) { return ++g_allocs == g_fail_at ? NULL : malloc(n); }
static void *fail_realloc(void *p, size_t n) { return ++g_allocs == g_fail_at ? NULL : realloc(p, n); }

static void test_allocation_failures(void **state)
{
    (void)state;
    const myr_allocator failing = {fail_malloc, fail_realloc, free};
    long n;
    for (n = 1; n < 100000; n++) {
        myr_conn *c = sandbox_connect(g_loop);
        g_allocs = 0;
        g_fail_at = n;
        myr_set_allocator(&failing);   /* same free underneath: safe with live objects */
        seen s = {.next = 1};
        myr_future *f = stream(c, "SELECT seq, REPEAT('f', 40) FROM seq_1_to_5000", &s);
        if (f != NULL) {
            int rc = myr_await(f, 30000);
            assert_int_not_equal(rc, MYR_ETIMEDOUT);
            assert_int_not_equal(rc, MYR_EPENDING);
            assert_false(s.bad);
            if (rc == 0)
                assert_int_equal(s.rows, 5000);
            else
                assert_true(s.rows < 5000);
            myr_future_free(f);
        }
        myr_set_allocator(NULL);
        myr_conn_free(c);
        if (g_allocs < g_fail_at)
            break;   /* it made fewer than n allocations: every one has failed once */
    }
    fprintf(stderr, "# a 5,000-row stream made %ld allocations; each failed once\n", n - 1);
    assert_true(n > 5);
    want_value(g_conn, "SELECT 'survived'", "survived");
}

static void test_set_index_buffered(void **state)
{
    (void)state;
    myr_result *r = sandbox_query(g_conn, "SELECT 1; DO 2; SELECT 3");
    assert_int_equal(myr_result_set_index(r), 0);
    assert_int_equal(myr_result_set_index(myr_result_next(r)), 1);
    assert_int_equal(myr_result_set_index(myr_result_next(myr_result_next(r))), 2);
    assert_int_equal(myr_result_set_index(NULL), 0);
    myr_result_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batches_add_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiple_result_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_no_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_early_then_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_stops_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_with_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_queues_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_frees_its_future, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_frees_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_closes_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_over_16mib, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_frees_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_private_loop_and_blocking_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_mid_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_transports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_index_buffered, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
