/* tests/conn/test_loop.c -- src/loop.c and the loop side of futures:
 * external mode (what callbacks queued is submitted when run_once returns,
 * driven by epoll on myr_loop_fd), internal mode (no extra submit), nested
 * runs (MYR_EBUSY; another loop may run), myr_loop_free (everything pending
 * resolves, every callback runs, futures outlive it), futures that fail at
 * once instead of NULL, and the user-data pointer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <cmocka.h>

#include "fakesrv.h"
#include "internal.h"

#define WAIT_MS 5000

static const char *const cols1[] = {"v"};

static void add_row_result(fs_buf *b, const char *value)
{
    uint8_t seq = 1;
    const char *cells[] = {value};
    fs_resultset(b, &seq, 0, 1, cols1, 1, cells, FS_STATUS_AUTOCOMMIT);
}

static void count_cb(myr_future *f, void *arg)
{
    (void)f;
    (*(int *)arg)++;
}

/* ------------------------------------------------ external / internal mode */

/* A chain: each answer's callback queues the next query on the connection. */
typedef struct chain {
    myr_conn *conn;
    int n, target;
    int cb_runs;
    myr_future *cur;
    char got[8][8];
} chain;

static void chain_cb(myr_future *f, void *arg)
{
    chain *ch = arg;
    ch->cb_runs++;
    myr_result *r = myr_future_take_result(f);
    if (r != NULL) {
        snprintf(ch->got[ch->n], sizeof ch->got[0], "%s", myr_result_value(r, 0, 0, NULL));
        myr_result_free(r);
    }
    myr_future_free(f);
    ch->n++;
    ch->cur = NULL;
    if (ch->n == ch->target)
        return;
    char sql[32];
    int len = snprintf(sql, sizeof sql, "SELECT 'v%d'", ch->n);
    ch->cur = myr_query(ch->conn, sql, (size_t)len);
    myr_future_on_done(ch->cur, chain_cb, ch);
}

static fakesrv *chain_server(int n)
{
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_buf b = {0};
    for (int i = 0; i < n; i++) {
        char v[8];
        snprintf(v, sizeof v, "v%d", i);
        fs_expect(s, 0, 0x03);
        add_row_result(&b, v);
        fs_send_buf(s, &b);
    }
    fs_expect(s, 0, 0x01);
    fs_expect_eof(s);
    return s;
}

static myr_conn *connect_to(myr_loop *loop, fakesrv *s)
{
    myr_conn_opts *o = fs_opts("bob", "secret");
    myr_future *cf = fs_connect(loop, o, s, NULL);
    myr_conn_opts_free(o);
    assert_int_equal(myr_await(cf, WAIT_MS), 0);
    myr_conn *c = myr_future_take_conn(cf);
    myr_future_free(cf);
    assert_non_null(c);
    return c;
}

/* Once myr_loop_fd() was called, every run_once leaves nothing unsubmitted,
 * so a plain epoll on the fd carries a chain of queries queued from
 * callbacks to its end. */
static void test_external_mode_submits_callback_work(void **state)
{
    (void)state;
    enum { N = 6 };
    fakesrv *s = chain_server(N);
    myr_loop *loop = fs_loop();
    myr_conn *c = connect_to(loop, s);
    int fd = myr_loop_fd(loop);
    assert_true(fd >= 0);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);

    chain ch = {.conn = c, .target = N};
    ch.cur = myr_query(c, "SELECT 'v0'", 11);
    myr_future_on_done(ch.cur, chain_cb, &ch);
    assert_true(myr_loop_run_once(loop, 0) >= 0);   /* work queued outside a callback */
    assert_int_equal(ur_loop_queued(loop->ur), 0);
    int wakeups = 0;
    while (ch.n < N) {
        struct epoll_event out;
        int n = epoll_wait(ep, &out, 1, WAIT_MS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail_msg("the loop fd stayed quiet after %d of %d queries", ch.n, N);
        wakeups++;
        assert_true(myr_loop_run_once(loop, 0) >= 0);
        /* The contract: nothing a callback queued waits in the SQ. */
        assert_int_equal(ur_loop_queued(loop->ur), 0);
        assert_true(wakeups < 1000);
    }
    assert_int_equal(ch.cb_runs, N);
    for (int i = 0; i < N; i++) {
        char want[8];
        snprintf(want, sizeof want, "v%d", i);
        assert_string_equal(ch.got[i], want);
    }
    close(ep);
    assert_int_equal(myr_close_sync(c, NULL), 0);
    assert_int_equal(fs_join(s), 0);
    myr_loop_free(loop);
    fs_free(s);
}

/* Without myr_loop_fd() run_once adds no submit of its own: what a callback
 * queued waits in the SQ for the next tick, which submits it anyway. */
static void test_internal_mode_no_extra_submit(void **state)
{
    (void)state;
    enum { N = 3 };
    fakesrv *s = chain_server(N);
    myr_loop *loop = fs_loop();
    myr_conn *c = connect_to(loop, s);
    chain ch = {.conn = c, .target = N};
    ch.cur = myr_query(c, "SELECT 'v0'", 11);
    myr_future_on_done(ch.cur, chain_cb, &ch);
    while (ch.n == 0)
        assert_true(myr_loop_run_once(loop, WAIT_MS) >= 0);
    assert_int_equal(ch.n, 1);
    assert_true(ur_loop_queued(loop->ur) > 0);   /* v1's send, for the next tick */
    while (ch.n < N)
        assert_true(myr_loop_run_once(loop, WAIT_MS) >= 0);
    assert_string_equal(ch.got[N - 1], "v2");
    assert_int_equal(myr_close_sync(c, NULL), 0);
    assert_int_equal(fs_join(s), 0);
    myr_loop_free(loop);
    fs_free(s);
}

/* ------------------------------------------------------------- nesting */

typedef struct nest {
    myr_loop *self, *other;
    int rc_self, rc_other_await;
    int ran;
} nest;

static void nest_cb(myr_future *f, void *arg)
{
    (void)f;
    nest *n = arg;
    n->ran++;
    n->rc_self = myr_loop_run_once(n->self, 0);
    myr_future *s = myr_sleep(n->other, 5);   /* another loop may run */
    n->rc_other_await = myr_await(s, WAIT_MS);
    myr_future_free(s);
}

static void test_nested_run_refused_other_loop_allowed(void **state)
{
    (void)state;
    myr_loop *a = fs_loop(), *b = fs_loop();
    nest n = {.self = a, .other = b};
    myr_future *f = myr_sleep(a, 1);
    myr_future_on_done(f, nest_cb, &n);
    assert_int_equal(myr_await(f, WAIT_MS), 0);
    assert_int_equal(n.ran, 1);
    assert_int_equal(n.rc_self, MYR_EBUSY);
    assert_int_equal(n.rc_other_await, 0);
    /* Outside a callback the loop runs again. */
    assert_true(myr_loop_run_once(a, 0) >= 0);
    myr_future_free(f);
    myr_loop_free(a);
    myr_loop_free(b);
}

/* ---------------------------------------------------------- myr_loop_free */

typedef struct ender {
    myr_loop *loop;
    int calls;
    int status_seen;
    int rc_await, rc_new;
    myr_future *pending_other;
} ender;

static void end_cb(myr_future *f, void *arg)
{
    ender *e = arg;
    e->calls++;
    e->status_seen = myr_future_status(f);
    /* Inside the final drain: no waiting, no new futures on the loop. */
    e->rc_await = e->pending_other ? myr_await(e->pending_other, 100) : 0;
    myr_future *late = myr_sleep(e->loop, 1);
    e->rc_new = myr_future_status(late);
    myr_future_free(late);
    myr_loop_free(e->loop);   /* ignored: it is being freed */
}

static void *slow_job(void *arg)
{
    return arg;
}

static void test_loop_free_resolves_and_runs_callbacks(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    ender ep = {.loop = loop}, es = {.loop = loop};
    int thread_calls = 0;
    /* Resolved outside the loop: its callback is due, not run yet. */
    myr_future *p = myr_promise_new(loop);
    myr_future_on_done(p, end_cb, &ep);
    assert_int_equal(myr_promise_resolve(p, &ep), 0);
    assert_int_equal(ep.calls, 0);
    /* Pending until the loop goes. */
    myr_future *s = myr_sleep(loop, 60000);
    myr_future *s2 = myr_sleep(loop, 60000);
    es.pending_other = s2;
    myr_future_on_done(s, end_cb, &es);
    myr_future *t = myr_to_thread(loop, slow_job, &thread_calls);
    myr_future_on_done(t, count_cb, &thread_calls);
    myr_future *detached = myr_sleep(loop, 60000);
    myr_future_free(detached);

    myr_loop_free(loop);
    assert_int_equal(ep.calls, 1);
    assert_int_equal(ep.status_seen, 0);
    assert_int_equal(es.calls, 1);
    assert_int_equal(es.status_seen, MYR_ECANCELED);
    assert_int_equal(ep.rc_new, MYR_ECLOSED);
    assert_int_equal(es.rc_new, MYR_ECLOSED);
    /* s2 was canceled in the same pass as s, before the callbacks ran. */
    assert_int_equal(es.rc_await, MYR_ECANCELED);
    assert_int_equal(thread_calls, 1);
    assert_true(myr_future_done(t));
    assert_true(myr_future_done(s2));
    assert_string_equal(myr_future_error(s)->message, "the loop was freed before this operation finished");
    /* They outlived the loop and say so. */
    assert_null(myr_future_loop(p));
    assert_null(myr_future_loop(s));
    assert_null(myr_future_loop(t));
    assert_int_equal(myr_await(s, 10), MYR_ECANCELED);
    myr_future_free(p);
    myr_future_free(s);
    myr_future_free(s2);
    myr_future_free(t);
}

/* A connection closing with a query unanswered when the loop is freed: its
 * close future resolves only as the engine drains the last operations, after
 * the ring is gone; its callback still runs, once, and may free it. */
typedef struct closing {
    int calls, status;
} closing;

static void close_done_cb(myr_future *f, void *arg)
{
    closing *c = arg;
    c->calls++;
    c->status = myr_future_status(f);
    myr_future_free(f);
}

static void test_loop_free_with_close_in_flight(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_expect(s, 0, 0x03);
    fs_drain(s);   /* never answers */
    myr_loop *loop = fs_loop();
    myr_conn *c = connect_to(loop, s);
    int qcalls = 0;
    myr_future *q = myr_query(c, "SELECT SLEEP(100)", 17);
    myr_future_on_done(q, count_cb, &qcalls);
    assert_true(myr_loop_run_once(loop, 0) >= 0);   /* sent; its recv is in the kernel */
    closing cl = {0, 1};
    myr_future *cf = myr_close(c);
    myr_future_on_done(cf, close_done_cb, &cl);
    myr_loop_free(loop);
    assert_int_equal(qcalls, 1);
    assert_int_equal(myr_future_status(q), MYR_ECLOSED);
    assert_int_equal(cl.calls, 1);
    assert_true(cl.status <= 0);
    assert_null(myr_future_loop(q));
    myr_future_free(q);
    assert_int_equal(fs_join(s), 0);
    fs_free(s);
}

/* A connection still held by its connect future (never taken) and a done
 * query's connection go with the loop: the futures stop naming them. */
static void test_loop_free_with_untaken_connection(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_expect(s, 0, 0x0e);
    fs_buf b = {0};
    uint8_t seq = 1;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    fs_send_buf(s, &b);
    fs_drain(s);
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    myr_future *cf = fs_connect(loop, o, s, NULL);
    myr_conn_opts_free(o);
    assert_int_equal(myr_await(cf, WAIT_MS), 0);
    myr_conn *c = cf->val.conn;   /* peeked at, not taken */
    assert_non_null(c);
    myr_future *p = myr_ping(c);
    assert_int_equal(myr_await(p, WAIT_MS), 0);
    assert_ptr_equal(myr_future_conn(p), c);
    myr_loop_free(loop);
    assert_null(myr_future_take_conn(cf));
    assert_null(myr_future_conn(p));
    myr_future_free(cf);   /* frees no connection a second time (ASan) */
    myr_future_free(p);
    assert_int_equal(fs_join(s), 0);
    fs_free(s);
}

/* ------------------------------------------------ failures without NULL */

static void *ident(void *arg) { return arg; }

static void assert_failed_at_once(myr_future *f, int code)
{
    assert_non_null(f);
    assert_true(myr_future_done(f));
    assert_int_equal(myr_future_status(f), code);
    const myr_error *e = myr_future_error(f);
    assert_int_equal(e->code, code);
    assert_true(e->message[0] != '\0');
    int calls = 0;
    myr_future_on_done(f, count_cb, &calls);   /* at once: it has resolved */
    assert_int_equal(calls, 1);
}

static void test_failures_are_futures(void **state)
{
    (void)state;
    myr_future *fs[5];
    fs[0] = myr_sleep(NULL, 5);
    fs[1] = myr_to_thread(NULL, ident, NULL);
    myr_loop *loop = fs_loop();
    fs[2] = myr_to_thread(loop, NULL, NULL);
    fs[3] = myr_promise_new(NULL);
    fs[4] = myr_connect(NULL, NULL);
    for (int i = 0; i < 5; i++) {
        assert_failed_at_once(fs[i], MYR_EINVAL);
        assert_null(myr_future_loop(fs[i]));
    }
    assert_int_equal(myr_promise_resolve(fs[3], NULL), MYR_EINVAL);
    /* Usable wherever a future is: await, gather, as_completed. */
    assert_int_equal(myr_await(fs[0], 0), MYR_EINVAL);
    assert_int_equal(myr_gather(fs, 5, 0), 0);
    myr_as_completed *it = myr_as_completed_new(loop);
    myr_future *ok = myr_sleep(loop, 1);
    assert_int_equal(myr_as_completed_add(it, ok), 0);
    int idx[5];
    for (int i = 0; i < 5; i++) {
        idx[i] = i;
        myr_future_set_data(fs[i], &idx[i]);
        assert_int_equal(myr_as_completed_add(it, fs[i]), 0);
    }
    int seen = 0, st = 0;
    myr_future *f;
    while ((f = myr_as_completed_next(it, WAIT_MS, &st)) != NULL) {
        if (f != ok) {
            const int *k = myr_future_data(f);   /* which one came back */
            assert_non_null(k);
            assert_ptr_equal(fs[*k], f);
        }
        seen++;
    }
    assert_int_equal(st, 0);
    assert_int_equal(seen, 6);
    myr_as_completed_free(it);
    myr_future_free(ok);
    for (int i = 0; i < 5; i++)
        myr_future_free(fs[i]);
    myr_loop_free(loop);
}

static void test_future_data_and_conn(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_future *f = myr_sleep(loop, 1);
    assert_null(myr_future_data(f));
    int tag = 7;
    myr_future_set_data(f, &tag);
    assert_ptr_equal(myr_future_data(f), &tag);
    assert_null(myr_future_conn(f));   /* not a command */
    assert_int_equal(myr_await(f, WAIT_MS), 0);
    assert_ptr_equal(myr_future_data(f), &tag);   /* kept after resolving */
    myr_future_free(f);
    assert_null(myr_future_data(NULL));
    assert_null(myr_future_conn(NULL));
    myr_loop_free(loop);
}

/* on_done replacing a callback that is due: only the new one runs, once;
 * a future freed while its callback is due is taken off the queue. */
static void test_on_done_replaces_due_callback(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    int first = 0, second = 0;
    myr_future *p = myr_promise_new(loop);
    myr_future_on_done(p, count_cb, &first);
    myr_promise_resolve(p, NULL);
    myr_future_on_done(p, count_cb, &second);   /* resolved: at once */
    assert_int_equal(second, 1);
    assert_true(myr_loop_run_once(loop, 0) >= 0);
    assert_int_equal(first, 0);
    assert_int_equal(second, 1);
    myr_future_free(p);
    /* Freed while its callback is due (outside any callback): it never runs. */
    int third = 0;
    myr_future *q = myr_promise_new(loop), *r = myr_promise_new(loop);
    myr_future_on_done(q, count_cb, &third);
    myr_future_on_done(r, count_cb, &third);
    myr_promise_resolve(q, NULL);
    myr_promise_resolve(r, NULL);
    myr_future_free(q);
    assert_true(myr_loop_run_once(loop, 0) >= 0);
    assert_int_equal(third, 1);   /* r's only */
    myr_future_free(r);
    myr_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_external_mode_submits_callback_work),
        cmocka_unit_test(test_internal_mode_no_extra_submit),
        cmocka_unit_test(test_nested_run_refused_other_loop_allowed),
        cmocka_unit_test(test_loop_free_resolves_and_runs_callbacks),
        cmocka_unit_test(test_loop_free_with_close_in_flight),
        cmocka_unit_test(test_loop_free_with_untaken_connection),
        cmocka_unit_test(test_failures_are_futures),
        cmocka_unit_test(test_future_data_and_conn),
        cmocka_unit_test(test_on_done_replaces_due_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
