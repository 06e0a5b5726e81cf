/* tests/conn/test_alloc.c -- allocation failure torture: a whole scenario
 * (loop, connect to the fake server, a query with a result set, close) is
 * run again and again with myr_set_allocator hooks that fail the Nth
 * allocation (N = 1, 2, ... until a run completes without reaching N), once
 * failing only that allocation and once failing it and every later one.
 * Every run must end cleanly: no crash, no hang, nothing left allocated,
 * every future resolved exactly once, errors reported as MYR_ENOMEM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "failalloc.h"
#include "fakesrv.h"
#include "internal.h"

#define WAIT_MS 5000

/* ----------------------------------------------------------- the scenario */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Await f: it must resolve, and promptly (nothing here waits on a timer,
 * so a slow await means a tick blocked with nothing to wake it). */
static void await_quick(long n, myr_future *f)
{
    uint64_t t0 = now_ms();
    int rc = myr_await(f, WAIT_MS);
    uint64_t dt = now_ms() - t0;
    if (rc == MYR_ETIMEDOUT || !myr_future_done(f))
        fail_msg("N=%ld: a future never resolved", n);
    if (dt > 2000)
        fail_msg("N=%ld: a future took %llu ms to resolve", n, (unsigned long long)dt);
}

static const char *const cols[] = {"id", "name"};
static const char *const cells[] = {"1", "alice", "2", NULL};

static void script(fakesrv *s)
{
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_expect(s, 0, 0x03);
    fs_buf b = {0};
    uint8_t seq = 1;
    fs_resultset(&b, &seq, 0, 2, cols, 2, cells, FS_STATUS_AUTOCOMMIT);
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x01);
    fs_expect_eof(s);
}

/* A failed future: its error is one an allocation failure explains
 * (MYR_ENOMEM), or `also`/`also2` (0 = nothing else). */
static void check_failure3(const char *what, long n, myr_future *f, int also, int also2)
{
    const myr_error *e = myr_future_error(f);
    assert_int_equal(e->code, myr_future_status(f));
    if (e->code != MYR_ENOMEM && (also == 0 || e->code != also) && (also2 == 0 || e->code != also2))
        fail_msg("N=%ld: %s failed with %d (%u) '%s', expected MYR_ENOMEM", n, what, e->code,
                 e->mysql_errno, e->message);
    assert_true(e->message[0] != '\0');
}

static void check_failure(const char *what, long n, myr_future *f) { check_failure3(what, n, f, 0, 0); }

typedef struct outcome {
    int completed;   /* the whole scenario succeeded */
} outcome;

static outcome run_scenario(long n, int sticky)
{
    outcome out = {0};
    fakesrv *s = fs_new();
    script(s);
    myr_set_allocator(&failalloc_hooks);
    failalloc_arm(n, sticky);

    myr_error err;
    myr_loop *loop = myr_loop_new(NULL, &err);
    myr_conn_opts *o = NULL;
    myr_future *cf = NULL, *q = NULL, *cl = NULL;
    int ncf = 0, nq = 0, ncl = 0;
    if (loop == NULL) {
        assert_int_equal(err.code, MYR_ENOMEM);
        goto done;
    }
    o = fs_opts("bob", "secret");
    if (o == NULL)
        goto done;
    cf = fs_connect(loop, o, s, &ncf);
    if (cf == NULL)
        goto done;   /* the fd went with it: the server sees EOF */
    await_quick(n, cf);
    assert_int_equal(ncf, 1);
    if (myr_future_status(cf) != 0) {
        check_failure("connect", n, cf);
        goto done;
    }
    myr_conn *c = myr_future_take_conn(cf);
    assert_non_null(c);
    q = myr_query(c, "SELECT id, name FROM t", 22);
    if (q != NULL) {
        myr_future_on_done(q, fs_count_cb, &nq);
        await_quick(n, q);
        assert_int_equal(nq, 1);
        if (myr_future_status(q) == 0) {
            myr_result *r = myr_future_take_result(q);
            assert_non_null(r);
            assert_int_equal(myr_result_column_count(r), 2);
            assert_int_equal(myr_result_row_count(r), 2);
            assert_string_equal(myr_result_value(r, 0, 1, NULL), "alice");
            assert_null(myr_result_value(r, 1, 1, NULL));
            myr_result_free(r);
        } else {
            check_failure("query", n, q);
        }
    }
    int query_ok = q != NULL && myr_future_status(q) == 0;
    cl = myr_close(c);   /* the handle is gone from here on, NULL or not */
    if (cl != NULL) {
        myr_future_on_done(cl, fs_count_cb, &ncl);
        await_quick(n, cl);
        assert_int_equal(ncl, 1);
        if (myr_future_status(cl) == 0)
            out.completed = query_ok;
        else
            check_failure("close", n, cl);
    }
done:
    myr_future_free(cf);
    myr_future_free(q);
    myr_future_free(cl);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
    failalloc_disarm();
    if (failalloc_live() != 0)
        fail_msg("N=%ld%s: %ld block(s) still allocated after the run", n, sticky ? " (sticky)" : "",
                 failalloc_live());
    myr_set_allocator(NULL);
    int rc = fs_join_timeout(s, WAIT_MS);
    if (rc == -2)
        fail_msg("N=%ld: %s", n, fs_error(s));
    /* With a failure injected, a close may fall back to hanging up without
     * COM_QUIT; with none, the server saw the whole exchange. */
    if (failalloc_failed() == 0 && rc != 0)
        fail_msg("N=%ld: the scenario succeeded but the server says: %s (%zu packets)", n, fs_error(s),
                 fs_npackets(s));
    if (getenv("ALLOC_TRACE"))
        fprintf(stderr, "N=%ld%s: completed=%d injected=%ld server=%s\n", n, sticky ? " sticky" : "",
                out.completed, failalloc_failed(), rc == 0 ? "ok" : fs_error(s));
    fs_free(s);
    return out;
}

/* Scenario 2: two queries pipelined (a 40-row result set, an ERR) and
 * myr_close queued right behind them, all awaited together. */
#define NROWS 40
static const char *big_cells[NROWS * 2];
static char big_text[NROWS][16];

static void script_pipelined(fakesrv *s)
{
    for (int i = 0; i < NROWS; i++) {
        snprintf(big_text[i], sizeof big_text[i], "row-%d", i);
        big_cells[2 * i] = big_text[i];
        big_cells[2 * i + 1] = (i % 3) ? big_text[i] : NULL;
    }
    fs_script_handshake(s, FS_CAPS_DEFAULT | FS_CLIENT_DEPRECATE_EOF, "mysql_native_password", fs_scramble_a);
    fs_expect(s, 0, 0x03);
    fs_expect(s, 0, 0x03);
    fs_buf b = {0};
    uint8_t seq = 1;
    fs_resultset(&b, &seq, 1, 2, cols, NROWS, big_cells, FS_STATUS_AUTOCOMMIT);
    seq = 1;
    fs_err(&b, &seq, 1146, "42S02", "Table 'db.nope' doesn't exist");
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x01);
    fs_expect_eof(s);
}

static outcome run_pipelined(long n, int sticky)
{
    outcome out = {0};
    fakesrv *s = fs_new();
    script_pipelined(s);
    myr_set_allocator(&failalloc_hooks);
    failalloc_arm(n, sticky);

    myr_error err;
    myr_loop *loop = myr_loop_new(NULL, &err);
    myr_conn_opts *o = NULL;
    myr_future *cf = NULL, *q1 = NULL, *q2 = NULL, *cl = NULL;
    int ncf = 0, nq1 = 0, nq2 = 0, ncl = 0;
    if (loop == NULL) {
        assert_int_equal(err.code, MYR_ENOMEM);
        goto done;
    }
    o = fs_opts("bob", "secret");
    if (o == NULL)
        goto done;
    cf = fs_connect(loop, o, s, &ncf);
    if (cf == NULL)
        goto done;
    await_quick(n, cf);
    assert_int_equal(ncf, 1);
    if (myr_future_status(cf) != 0) {
        check_failure("connect", n, cf);
        goto done;
    }
    myr_conn *c = myr_future_take_conn(cf);
    assert_non_null(c);
    q1 = myr_query(c, "SELECT id, name FROM t", 22);
    q2 = myr_query(c, "SELECT * FROM nope", 18);
    /* A query that failed at once never reached the server, whose script
     * then meets COM_QUIT where a query should be and hangs up: the other
     * query may then fail with 2013. */
    int lost1 = q1 == NULL || myr_future_done(q1);
    int lost2 = q2 == NULL || myr_future_done(q2);
    if (q1)
        myr_future_on_done(q1, fs_count_cb, &nq1);
    if (q2)
        myr_future_on_done(q2, fs_count_cb, &nq2);
    cl = myr_close(c);
    if (cl)
        myr_future_on_done(cl, fs_count_cb, &ncl);
    myr_future *all[3];
    size_t k = 0;
    if (q1)
        all[k++] = q1;
    if (q2)
        all[k++] = q2;
    if (cl)
        all[k++] = cl;
    uint64_t t0 = now_ms();
    if (myr_gather(all, k, WAIT_MS) != 0)
        fail_msg("N=%ld: a pipelined future never resolved", n);
    if (now_ms() - t0 > 2000)
        fail_msg("N=%ld: the pipelined futures took too long", n);
    assert_int_equal(nq1, q1 ? 1 : 0);
    assert_int_equal(nq2, q2 ? 1 : 0);
    assert_int_equal(ncl, cl ? 1 : 0);
    int ok1 = 0, ok2 = 0;
    if (q1 && myr_future_status(q1) == 0) {
        myr_result *r = myr_future_take_result(q1);
        assert_non_null(r);
        assert_int_equal(myr_result_row_count(r), NROWS);
        for (size_t i = 0; i < NROWS; i++) {
            assert_string_equal(myr_result_value(r, i, 0, NULL), big_text[i]);
            if (i % 3)
                assert_string_equal(myr_result_value(r, i, 1, NULL), big_text[i]);
            else
                assert_null(myr_result_value(r, i, 1, NULL));
        }
        myr_result_free(r);
        ok1 = 1;
    } else if (q1) {
        /* myr_close that cannot allocate closes abruptly: MYR_ECLOSED */
        /* ... as does one that got its future but not its COM_QUIT queued. */
        check_failure3("query 1", n, q1, lost2 ? MYR_ECONNLOST : 0, MYR_ECLOSED);
    }
    if (q2) {
        const myr_error *e = myr_future_error(q2);
        if (e->code == MYR_ESERVER && e->mysql_errno == 0) {
            /* The error record itself could not be allocated: only the
             * code is left (documented in myr_future_error). */
            assert_true(failalloc_failed() > 0);
        } else if (e->code == MYR_ESERVER) {
            assert_int_equal(e->mysql_errno, 1146);
            assert_string_equal(e->sqlstate, "42S02");
            ok2 = 1;
        } else if (lost1 || myr_future_status(q1) == MYR_ENOMEM) {
            /* q1 never left (no future, or no memory to queue it): the
             * server's script expected it first, sees q2, then COM_QUIT
             * where a query should be, and hangs up. */
            check_failure3("query 2", n, q2, MYR_ECONNLOST, MYR_ECLOSED);
        } else {
            check_failure3("query 2", n, q2, MYR_ECLOSED, 0);
        }
    }
    if (cl && myr_future_status(cl) != 0)
        check_failure("close", n, cl);
    out.completed = ok1 && ok2 && cl && myr_future_status(cl) == 0;
done:
    myr_future_free(cf);
    myr_future_free(q1);
    myr_future_free(q2);
    myr_future_free(cl);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
    failalloc_disarm();
    if (failalloc_live() != 0)
        fail_msg("N=%ld%s: %ld block(s) still allocated after the run", n, sticky ? " (sticky)" : "",
                 failalloc_live());
    myr_set_allocator(NULL);
    int rc = fs_join_timeout(s, WAIT_MS);
    if (rc == -2)
        fail_msg("N=%ld: %s", n, fs_error(s));
    if (failalloc_failed() == 0 && rc != 0)
        fail_msg("N=%ld: the scenario succeeded but the server says: %s", n, fs_error(s));
    fs_free(s);
    return out;
}

static void torture(outcome (*run)(long, int), const char *name, int sticky)
{
    long n;
    for (n = 1; n < 100000; n++) {
        outcome o = run(n, sticky);
        if (failalloc_failed() == 0) {   /* N was never reached: the whole run is covered */
            assert_true(o.completed);
            break;
        }
    }
    print_message("%s, %s: %ld runs\n", name, sticky ? "sticky" : "one-shot", n);
    assert_true(n > 10);
}

static void test_fail_one_allocation(void **state)
{
    (void)state;
    torture(run_scenario, "simple", 0);
    torture(run_pipelined, "pipelined", 0);
}

static void test_fail_from_nth_on(void **state)
{
    (void)state;
    torture(run_scenario, "simple", 1);
    torture(run_pipelined, "pipelined", 1);
}

/* The loop keeps freed futures and results, and a connection its last
 * column definitions: a query repeated on a loop that has run it once
 * needs no allocation at all (everything comes from those lists, which
 * cannot fail), while a first one still fails cleanly when it cannot get
 * its future. */
static void test_repeat_query_allocates_nothing(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    for (int i = 0; i < 2; i++) {
        fs_expect(s, 0, 0x03);
        fs_buf b = {0};
        uint8_t seq = 1;
        fs_resultset(&b, &seq, 0, 2, cols, 2, cells, FS_STATUS_AUTOCOMMIT);
        fs_send_buf(s, &b);
    }
    fs_drain(s);
    myr_conn *c = fs_connect_ok(loop, s, o, WAIT_MS);

    /* With the loop's list of futures emptied (the connect's went there),
     * a query's future is fresh and can fail. */
    myr_future *held[8];
    size_t nheld = 0;
    while (loop->free_futs != NULL && nheld < 8)
        held[nheld++] = myr_promise_new(loop);
    assert_null(loop->free_futs);
    myr_set_allocator(&failalloc_hooks);
    failalloc_arm(1, 1);
    assert_null(myr_query(c, "SELECT id, name FROM t", 22));
    assert_int_equal(failalloc_failed(), 1);
    failalloc_disarm();
    for (size_t i = 0; i < nheld; i++)
        myr_future_free(held[i]);

    myr_future *q = myr_query(c, "SELECT id, name FROM t", 22);
    assert_int_equal(myr_await(q, WAIT_MS), 0);
    myr_result *first = myr_future_take_result(q);
    myr_future_free(q);
    const myr_column *col = myr_result_column(first, 1);
    assert_non_null(col);
    assert_memory_equal(col->name, "name", 4);
    myr_result_free(first);   /* its block goes back to the loop; the connection
                                 keeps the column definitions col points into */

    failalloc_arm(1, 1);   /* every allocation fails from here on */
    q = myr_query(c, "SELECT id, name FROM t", 22);
    assert_non_null(q);
    assert_int_equal(myr_await(q, WAIT_MS), 0);
    long attempted = failalloc_count();
    failalloc_disarm();
    assert_int_equal(attempted, 0);
    myr_result *r = myr_future_take_result(q);
    assert_int_equal(myr_result_row_count(r), 2);
    assert_string_equal(myr_result_value(r, 0, 1, NULL), "alice");
    /* The same definitions, shared rather than copied. */
    assert_ptr_equal(myr_result_column(r, 1), col);
    assert_memory_equal(myr_result_column(r, 1)->name, "name", 4);
    myr_future_free(q);
    myr_conn_free(c);
    myr_loop_free(loop);
    /* The result outlives its connection and its loop. */
    assert_string_equal(myr_result_value(r, 1, 0, NULL), "2");
    assert_memory_equal(myr_result_column(r, 0)->name, "id", 2);
    myr_result_free(r);
    myr_set_allocator(NULL);
    fs_join_timeout(s, WAIT_MS);
    fs_free(s);
    myr_conn_opts_free(o);
}

/* myr__connect_fd takes the fd: even when it cannot allocate its future
 * (and returns NULL) the server must see the socket close. */
static void test_connect_fd_oom_closes_fd(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    fakesrv *s = fs_new();
    fs_expect_eof(s);
    myr_set_allocator(&failalloc_hooks);
    failalloc_arm(1, 1);
    myr_future *f = fs_connect(loop, o, s, NULL);
    failalloc_disarm();
    myr_set_allocator(NULL);
    assert_null(f);
    assert_int_equal(fs_join_timeout(s, WAIT_MS), 0);
    fs_free(s);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
}

/* The first tick of a connect cannot allocate its receive buffer: the
 * connect future resolves with MYR_ENOMEM in the pre-submit pass of
 * myr_loop_run_once, and the await must return then, not sit in the tick's
 * wait with nothing in flight (with timeout -1 that would be forever). */
static void test_oom_before_submit_does_not_block(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    fakesrv *s = fs_new();
    fs_drain(s);
    int n = 0;
    myr_future *cf = fs_connect(loop, o, s, &n);
    assert_non_null(cf);
    myr_set_allocator(&failalloc_hooks);
    failalloc_arm(1, 1);
    uint64_t t0 = now_ms();
    int rc = myr_await(cf, 3000);
    uint64_t dt = now_ms() - t0;
    failalloc_disarm();
    assert_true(failalloc_failed() > 0);
    assert_int_equal(rc, MYR_ENOMEM);
    assert_int_equal(n, 1);
    assert_true(dt < 1000);
    myr_future_free(cf);
    myr_loop_free(loop);
    myr_set_allocator(NULL);
    assert_int_equal(fs_join_timeout(s, WAIT_MS), 0);
    fs_free(s);
    myr_conn_opts_free(o);
}

/* myr_close invalidates the handle even when it cannot allocate its
 * future: the connection must not stay open behind the caller's back. */
static void test_close_oom_still_closes(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_expect_eof(s);
    int n = 0;
    myr_future *cf = fs_connect(loop, o, s, &n);
    assert_int_equal(myr_await(cf, WAIT_MS), 0);
    myr_conn *c = myr_future_take_conn(cf);
    assert_non_null(c);
    myr_set_allocator(&failalloc_hooks);
    failalloc_arm(1, 1);
    myr_future *cl = myr_close(c);
    failalloc_disarm();
    myr_set_allocator(NULL);
    assert_null(cl);
    /* The loop lives on; the server must see the socket close anyway. */
    myr_future *sl = myr_sleep(loop, 10);
    assert_int_equal(myr_await(sl, WAIT_MS), 0);
    myr_future_free(sl);
    assert_int_equal(fs_join_timeout(s, WAIT_MS), 0);
    myr_future_free(cf);
    myr_loop_free(loop);
    fs_free(s);
    myr_conn_opts_free(o);
}

/* myr_close with a query queued, and COM_QUIT cannot be queued (its
 * allocation fails): the query's future must still resolve, once, and
 * the close future too; nothing leaks. */
static void test_close_quit_oom_with_queued_query(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_drain(s);
    int n = 0, nq = 0, ncl = 0;
    myr_future *cf = fs_connect(loop, o, s, &n);
    assert_int_equal(myr_await(cf, WAIT_MS), 0);
    myr_conn *c = myr_future_take_conn(cf);
    assert_non_null(c);
    myr_future *q = myr_query(c, "SELECT 1", 8);
    myr_future_on_done(q, fs_count_cb, &nq);
    myr_set_allocator(&failalloc_hooks);
    failalloc_arm(2, 0);   /* 1: the close future, 2: the COM_QUIT command */
    myr_future *cl = myr_close(c);
    long failed = failalloc_failed();
    failalloc_disarm();
    myr_set_allocator(NULL);
    assert_int_equal(failed, 1);
    assert_non_null(cl);
    myr_future_on_done(cl, fs_count_cb, &ncl);
    myr_future *both[2] = {q, cl};
    assert_int_equal(myr_gather(both, 2, 2000), 0);
    assert_int_equal(nq, 1);
    assert_int_equal(ncl, 1);
    assert_int_not_equal(myr_future_status(q), 0);
    assert_int_equal(fs_join_timeout(s, WAIT_MS), 0);
    myr_future_free(q);
    myr_future_free(cl);
    myr_future_free(cf);
    myr_loop_free(loop);
    fs_free(s);
    myr_conn_opts_free(o);
}

/* A command on a connection that cannot take it (here: the server closed
 * it) is refused with a failed future; when even that future cannot be
 * allocated the call returns NULL. It must never queue the command on the
 * dead connection instead, where its future would wait forever (found by
 * tests/integration/test_alloc_cancel.c). */
static void test_refused_command_oom(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_expect(s, 0, 0x03);
    fs_close(s);   /* the server hangs up on the first query */
    myr_conn *c = fs_connect_ok(loop, s, o, WAIT_MS);
    myr_future *q = myr_query(c, "SELECT 1", 8);
    assert_int_equal(myr_await(q, WAIT_MS), MYR_ECONNLOST);
    myr_future_free(q);
    assert_false(myr_conn_alive(c));
    /* The loop keeps freed futures for reuse, but a refusal's future has no
     * loop and needs a fresh allocation: that one fails. */
    assert_non_null(loop->free_futs);
    myr_set_allocator(&failalloc_hooks);
    failalloc_arm(1, 1);
    q = myr_query(c, "SELECT 1", 8);
    long failed = failalloc_failed();
    failalloc_disarm();
    myr_set_allocator(NULL);
    assert_true(failed > 0);
    assert_null(q);
    assert_int_equal(c->ncmds, 0);   /* nothing queued on the dead connection */
    q = myr_query(c, "SELECT 1", 8);   /* with memory: refused at once */
    assert_non_null(q);
    assert_true(myr_future_done(q));
    assert_int_equal(myr_future_status(q), MYR_EGONE);
    myr_future_free(q);
    myr_conn_free(c);
    myr_loop_free(loop);
    assert_int_equal(fs_join_timeout(s, WAIT_MS), 0);
    fs_free(s);
    myr_conn_opts_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_fd_oom_closes_fd),
        cmocka_unit_test(test_oom_before_submit_does_not_block),
        cmocka_unit_test(test_close_oom_still_closes),
        cmocka_unit_test(test_close_quit_oom_with_queued_query),
        cmocka_unit_test(test_refused_command_oom),
        cmocka_unit_test(test_fail_one_allocation),
        cmocka_unit_test(test_repeat_query_allocates_nothing),
        cmocka_unit_test(test_fail_from_nth_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
