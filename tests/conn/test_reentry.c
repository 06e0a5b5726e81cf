/* tests/conn/test_reentry.c -- callbacks run after dispatch (the ready
 * queue), against the scripted fake server. Several pipelined responses
 * arrive in one recv, so several futures resolve in one tick and wait in the
 * ready queue together. Callbacks: queue a command on the same connection
 * and try to wait for it (MYR_EBUSY, nothing corrupted, later commands get
 * their own results), free their own future, free a future whose callback
 * is still due, close or free the connection with commands queued (also one
 * whose private loop is the running one), create a connection. Each future
 * resolves exactly once; ASan checks the memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fakesrv.h"
#include "internal.h"

#define WAIT_MS 5000

static const char *const cols1[] = {"v"};

/* A one-row, one-column result set answering one command. */
static void add_row_result(fs_buf *b, const char *value)
{
    uint8_t seq = 1;
    const char *cells[] = {value};
    fs_resultset(b, &seq, 0, 1, cols1, 1, cells, FS_STATUS_AUTOCOMMIT);
}

static myr_future *query(myr_conn *c, const char *sql)
{
    myr_future *f = myr_query(c, sql, strlen(sql));
    assert_non_null(f);
    return f;
}

/* The future resolved with a one-row result holding want. */
static void assert_value(myr_future *f, const char *want)
{
    assert_true(myr_future_done(f));
    if (myr_future_status(f) != 0)
        fail_msg("expected '%s', got error %d: %s", want, myr_future_status(f),
                 myr_future_error(f)->message);
    myr_result *r = myr_future_take_result(f);
    assert_non_null(r);
    assert_int_equal(myr_result_row_count(r), 1);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), want);
    myr_result_free(r);
}

/* Per-future callback bookkeeping: how often each ran, in which order. */
typedef struct calls {
    int count[8];
    int order[16];
    int n;
} calls;

typedef struct slot {
    calls *log;
    int idx;
} slot;

static void log_cb(myr_future *f, void *arg)
{
    (void)f;
    slot *s = arg;
    s->log->count[s->idx]++;
    s->log->order[s->log->n++] = s->idx;
}

/* ------------------------------------------- waiting inside a callback */

typedef struct waiter {
    myr_loop *loop;
    myr_conn *conn;
    myr_future *self;
    myr_future *d;                 /* queued from the callback */
    int ran;
    int rc_await, rc_run, rc_gather, rc_next, rc_self;
    myr_result *sync_result;
    myr_error sync_err, ping_err;
    int rc_ping;
    char self_value[16];
} waiter;

static void waiting_cb(myr_future *f, void *arg)
{
    waiter *w = arg;
    w->ran++;
    /* Our own result is complete and readable here. */
    myr_result *r = myr_future_take_result(f);
    if (r != NULL) {
        snprintf(w->self_value, sizeof w->self_value, "%s", myr_result_value(r, 0, 0, NULL));
        myr_result_free(r);
    }
    w->d = myr_query(w->conn, "SELECT 'd'", 10);
    w->rc_await = myr_await(w->d, 1000);
    w->rc_run = myr_loop_run_once(w->loop, 0);
    myr_future *both[1] = {w->d};
    w->rc_gather = myr_gather(both, 1, 1000);
    myr_as_completed *it = myr_as_completed_new(w->loop);
    myr_as_completed_add(it, w->d);
    w->rc_next = 1;
    if (myr_as_completed_next(it, 1000, &w->rc_next) != NULL)
        w->rc_next = 1;
    myr_as_completed_free(it);
    /* Blocking calls refuse before sending anything. */
    memset(&w->sync_err, 0, sizeof w->sync_err);
    w->sync_result = myr_query_sync(w->conn, "SELECT 'never sent'", 18, &w->sync_err);
    w->rc_ping = myr_ping_sync(w->conn, &w->ping_err);
    /* Nothing to wait for: an await of a resolved future just answers. */
    w->rc_self = myr_await(f, 1000);
}

static void test_wait_in_callback_is_refused(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    for (int i = 0; i < 3; i++)
        fs_expect(s, 0, 0x03);
    fs_buf b = {0};
    add_row_result(&b, "a");
    add_row_result(&b, "b");
    add_row_result(&b, "c");
    fs_send_buf(s, &b);   /* three answers, one write: one recv */
    fs_expect(s, 0, 0x03);   /* D, queued by A's callback */
    add_row_result(&b, "d");
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x01);
    fs_expect_eof(s);

    myr_loop *loop = fs_loop();
    myr_conn *c = fs_connect_ok(loop, s, NULL, WAIT_MS);
    waiter w = {.loop = loop, .conn = c};
    calls log = {0};
    slot sb = {&log, 1}, sc = {&log, 2};
    myr_future *a = query(c, "SELECT 'a'"), *bq = query(c, "SELECT 'b'"), *cq = query(c, "SELECT 'c'");
    w.self = a;
    myr_future_on_done(a, waiting_cb, &w);
    myr_future_on_done(bq, log_cb, &sb);
    myr_future_on_done(cq, log_cb, &sc);
    myr_future *abc[3] = {a, bq, cq};
    assert_int_equal(myr_gather(abc, 3, WAIT_MS), 0);
    assert_int_equal(w.ran, 1);
    assert_int_equal(log.count[1], 1);
    assert_int_equal(log.count[2], 1);

    assert_string_equal(w.self_value, "a");
    assert_int_equal(w.rc_await, MYR_EBUSY);
    assert_int_equal(w.rc_run, MYR_EBUSY);
    assert_int_equal(w.rc_gather, MYR_EBUSY);
    assert_int_equal(w.rc_next, MYR_EBUSY);
    assert_int_equal(w.rc_self, 0);
    assert_null(w.sync_result);
    assert_int_equal(w.sync_err.code, MYR_EBUSY);
    assert_non_null(strstr(w.sync_err.message, "callback"));
    assert_int_equal(w.rc_ping, MYR_EBUSY);
    assert_int_equal(w.ping_err.code, MYR_EBUSY);
    assert_true(w.ping_err.message[0] != '\0');

    /* Every command has its own result; D (queued inside the callback) too. */
    assert_value(bq, "b");
    assert_value(cq, "c");
    assert_non_null(w.d);
    assert_int_equal(myr_await(w.d, WAIT_MS), 0);
    assert_value(w.d, "d");
    assert_ptr_equal(myr_future_conn(w.d), c);
    assert_true(myr_conn_alive(c));

    assert_int_equal(myr_close_sync(c, NULL), 0);
    /* The script ran as written: nothing of the refused sync calls left. */
    assert_int_equal(fs_join(s), 0);
    assert_int_equal(fs_npackets(s), 1 + 3 + 1 + 1);
    myr_future_free(a);
    myr_future_free(bq);
    myr_future_free(cq);
    myr_future_free(w.d);
    myr_loop_free(loop);
    fs_free(s);
}

/* ----------------------------------------------- freeing futures in callbacks */

typedef struct freer {
    calls *log;
    int idx;
    myr_future **victim;   /* another future to free, or NULL */
} freer;

static void free_self_cb(myr_future *f, void *arg)
{
    freer *fr = arg;
    fr->log->count[fr->idx]++;
    fr->log->order[fr->log->n++] = fr->idx;
    myr_future_free(f);
}

static void free_other_cb(myr_future *f, void *arg)
{
    (void)f;
    freer *fr = arg;
    fr->log->count[fr->idx]++;
    fr->log->order[fr->log->n++] = fr->idx;
    myr_future_free(*fr->victim);
    *fr->victim = NULL;
}

/* Four answers in one recv: A frees itself, B frees C (whose callback is
 * due: it never runs), D runs. */
static void test_free_futures_in_callbacks(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    for (int i = 0; i < 4; i++)
        fs_expect(s, 0, 0x03);
    fs_buf b = {0};
    add_row_result(&b, "a");
    add_row_result(&b, "b");
    add_row_result(&b, "c");
    add_row_result(&b, "d");
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x01);
    fs_expect_eof(s);

    myr_loop *loop = fs_loop();
    myr_conn *c = fs_connect_ok(loop, s, NULL, WAIT_MS);
    calls log = {0};
    myr_future *a = query(c, "SELECT 'a'"), *bq = query(c, "SELECT 'b'");
    myr_future *cq = query(c, "SELECT 'c'"), *d = query(c, "SELECT 'd'");
    freer fa = {&log, 0, NULL}, fb = {&log, 1, &cq}, fc = {&log, 2, NULL};
    slot sd = {&log, 3};
    myr_future_on_done(a, free_self_cb, &fa);
    myr_future_on_done(bq, free_other_cb, &fb);
    myr_future_on_done(cq, free_self_cb, &fc);
    myr_future_on_done(d, log_cb, &sd);
    assert_int_equal(myr_await(d, WAIT_MS), 0);
    assert_int_equal(log.count[0], 1);
    assert_int_equal(log.count[1], 1);
    assert_int_equal(log.count[2], 0);   /* freed while due: never called */
    assert_int_equal(log.count[3], 1);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.order[0], 0);
    assert_int_equal(log.order[1], 1);
    assert_int_equal(log.order[2], 3);
    assert_null(cq);
    assert_value(bq, "b");
    assert_value(d, "d");
    assert_int_equal(myr_close_sync(c, NULL), 0);
    assert_int_equal(fs_join(s), 0);
    myr_future_free(bq);
    myr_future_free(d);
    myr_loop_free(loop);
    fs_free(s);
}

/* A promise fulfilled by a callback has its own callback run in the same
 * drain, before run_once returns; a promise resolved outside the loop has
 * its callback run by the next run_once, not inside myr_promise_resolve. */
typedef struct chain {
    myr_future *promise;
    int fired;
} chain;

static void fulfil_cb(myr_future *f, void *arg)
{
    (void)f;
    chain *ch = arg;
    myr_promise_resolve(ch->promise, ch);
}

static void chain_cb(myr_future *f, void *arg)
{
    chain *ch = arg;
    assert_ptr_equal(myr_future_ptr(f), ch);
    ch->fired++;
}

static void test_promise_chain_same_drain(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    chain ch = {0};
    ch.promise = myr_promise_new(loop);
    myr_future_on_done(ch.promise, chain_cb, &ch);
    myr_future *p0 = myr_promise_new(loop);
    myr_future_on_done(p0, fulfil_cb, &ch);
    assert_int_equal(myr_promise_resolve(p0, NULL), 0);
    assert_int_equal(ch.fired, 0);   /* nothing runs inside the resolve */
    assert_true(myr_loop_run_once(loop, 0) >= 0);
    assert_int_equal(ch.fired, 1);   /* p0's callback, then the promise's */
    assert_true(myr_future_done(ch.promise));
    myr_future_free(p0);
    myr_future_free(ch.promise);
    myr_loop_free(loop);
}

/* ------------------------------------------ closing connections in callbacks */

typedef struct closer {
    calls *log;
    int idx;
    myr_conn *conn;
    int use_free;              /* myr_conn_free, else myr_close */
    myr_future *close_fut;
    slot close_slot;
    myr_conn *conn_seen;       /* myr_future_conn in the callback */
} closer;

static void close_cb(myr_future *f, void *arg)
{
    closer *cl = arg;
    cl->log->count[cl->idx]++;
    cl->log->order[cl->log->n++] = cl->idx;
    cl->conn_seen = myr_future_conn(f);
    if (cl->use_free) {
        myr_conn_free(cl->conn);
    } else {
        cl->close_fut = myr_close(cl->conn);
        myr_future_on_done(cl->close_fut, log_cb, &cl->close_slot);
    }
}

/* Q0..Q3 pipelined; the answers to Q0 and Q1 arrive in one recv, Q0's
 * callback closes the connection (politely: Q1..Q3 keep their answers and
 * COM_QUIT follows them; or abruptly: Q2, Q3 fail with MYR_ECLOSED). */
static void close_in_callback(int use_free)
{
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    for (int i = 0; i < 4; i++)
        fs_expect(s, 0, 0x03);
    fs_buf b = {0};
    add_row_result(&b, "q0");
    add_row_result(&b, "q1");
    fs_send_buf(s, &b);
    if (use_free) {
        fs_drain(s);
    } else {
        add_row_result(&b, "q2");
        add_row_result(&b, "q3");
        fs_send_buf(s, &b);
        fs_expect(s, 0, 0x01);
        fs_expect_eof(s);
    }

    myr_loop *loop = fs_loop();
    myr_conn *c = fs_connect_ok(loop, s, NULL, WAIT_MS);
    calls log = {0};
    myr_future *q[4];
    slot sl[4];
    closer cl = {.log = &log, .idx = 0, .conn = c, .use_free = use_free, .close_slot = {&log, 4}};
    for (int i = 0; i < 4; i++) {
        char sql[32];
        snprintf(sql, sizeof sql, "SELECT 'q%d'", i);
        q[i] = query(c, sql);
        sl[i] = (slot){&log, i};
        if (i == 0)
            myr_future_on_done(q[i], close_cb, &cl);
        else
            myr_future_on_done(q[i], log_cb, &sl[i]);
    }
    assert_int_equal(myr_gather(q, 4, WAIT_MS), 0);
    assert_ptr_equal(cl.conn_seen, c);
    if (!use_free) {
        assert_non_null(cl.close_fut);
        assert_int_equal(myr_await(cl.close_fut, WAIT_MS), 0);
    } else {
        /* Run a little more: nothing resolves twice. */
        myr_future *sl20 = myr_sleep(loop, 20);
        assert_int_equal(myr_await(sl20, WAIT_MS), 0);
        myr_future_free(sl20);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(log.count[i], 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(log.order[i], i);   /* callbacks in resolution order */
    assert_value(q[0], "q0");
    assert_value(q[1], "q1");   /* answered before the close: its own result */
    if (use_free) {
        assert_int_equal(log.n, 4);
        for (int i = 2; i < 4; i++) {
            assert_int_equal(myr_future_status(q[i]), MYR_ECLOSED);
            assert_true(myr_future_error(q[i])->message[0] != '\0');
            assert_null(myr_future_conn(q[i]));   /* the handle is gone */
        }
    } else {
        assert_int_equal(log.n, 5);
        assert_int_equal(log.count[4], 1);
        assert_int_equal(log.order[4], 4);   /* the close after the queries */
        assert_value(q[2], "q2");
        assert_value(q[3], "q3");
        myr_future_free(cl.close_fut);
    }
    assert_int_equal(fs_join(s), 0);
    for (int i = 0; i < 4; i++)
        myr_future_free(q[i]);
    myr_loop_free(loop);
    fs_free(s);
}

static void test_close_in_callback(void **state) { (void)state; close_in_callback(0); }
static void test_conn_free_in_callback(void **state) { (void)state; close_in_callback(1); }

/* A connection whose private loop is the one running the callback (what
 * myr_connect_sync(NULL, ...) makes): myr_conn_free from the callback frees
 * the loop once run_once returns; every future of it resolves once. */
typedef struct owner_ctx {
    myr_conn *conn;
    int freed;
} owner_ctx;

static void free_owner_cb(myr_future *f, void *arg)
{
    (void)f;
    owner_ctx *o = arg;
    o->freed++;
    myr_conn_free(o->conn);
    /* The loop is still whole for the rest of this drain. */
    myr_future *late = myr_sleep(myr_future_loop(f), 1);
    assert_non_null(late);
    assert_int_equal(myr_future_status(late), MYR_ECLOSED);   /* it is on its way out */
    myr_future_free(late);
}

static void test_conn_free_private_loop_in_callback(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    for (int i = 0; i < 3; i++)
        fs_expect(s, 0, 0x03);
    fs_buf b = {0};
    add_row_result(&b, "x");
    add_row_result(&b, "y");
    fs_send_buf(s, &b);
    fs_drain(s);

    myr_loop *loop = fs_loop();
    myr_conn *c = fs_connect_ok(loop, s, NULL, WAIT_MS);
    c->own_loop = loop;   /* as myr_connect_sync(NULL, ...) does */
    calls log = {0};
    owner_ctx o = {c, 0};
    slot s1 = {&log, 1}, s2 = {&log, 2}, ssl = {&log, 3}, spr = {&log, 4};
    myr_future *x = query(c, "SELECT 'x'"), *y = query(c, "SELECT 'y'"), *z = query(c, "SELECT 'z'");
    myr_future *nap = myr_sleep(loop, 60000);
    myr_future *pr = myr_promise_new(loop);
    myr_future_on_done(x, free_owner_cb, &o);
    myr_future_on_done(y, log_cb, &s1);
    myr_future_on_done(z, log_cb, &s2);
    myr_future_on_done(nap, log_cb, &ssl);
    myr_future_on_done(pr, log_cb, &spr);
    /* await runs the loop; the callback frees connection and loop; await
     * comes back with x's status and touches nothing freed (ASan). */
    assert_int_equal(myr_await(x, WAIT_MS), 0);
    assert_int_equal(o.freed, 1);
    for (int i = 1; i <= 4; i++)
        assert_int_equal(log.count[i], 1);
    assert_value(y, "y");
    assert_int_equal(myr_future_status(z), MYR_ECLOSED);
    assert_int_equal(myr_future_status(nap), MYR_ECANCELED);
    assert_int_equal(myr_future_status(pr), MYR_ECANCELED);
    assert_true(myr_future_error(pr)->message[0] != '\0');
    assert_int_equal(myr_promise_resolve(pr, NULL), MYR_EINVAL);   /* once */
    /* The futures outlived the loop: they say so. */
    assert_null(myr_future_loop(x));
    assert_null(myr_future_loop(nap));
    assert_int_equal(myr_await(nap, 10), MYR_ECANCELED);
    myr_future *fs[5] = {x, y, z, nap, pr};
    for (int i = 0; i < 5; i++)
        myr_future_free(fs[i]);
    assert_int_equal(fs_join(s), 0);
    fs_free(s);
}

/* ------------------------------------------ creating connections in callbacks */

typedef struct maker {
    myr_loop *loop;
    fakesrv *srv2;
    myr_future *connect2;
    myr_future *query2;
    int connected;
} maker;

static void connected_cb(myr_future *f, void *arg)
{
    maker *m = arg;
    m->connected++;
    myr_conn *c2 = myr_future_take_conn(f);
    assert_non_null(c2);
    m->query2 = myr_query(c2, "SELECT 'second'", 15);
    assert_non_null(m->query2);
    assert_ptr_equal(myr_future_conn(m->query2), c2);
}

static void make_conn_cb(myr_future *f, void *arg)
{
    (void)f;
    maker *m = arg;
    myr_conn_opts *o = fs_opts("bob", "secret");
    m->connect2 = fs_connect(m->loop, o, m->srv2, NULL);
    myr_conn_opts_free(o);
    assert_non_null(m->connect2);
    myr_future_on_done(m->connect2, connected_cb, m);
}

static void test_connect_in_callback(void **state)
{
    (void)state;
    fakesrv *s1 = fs_new(), *s2 = fs_new();
    fs_script_handshake(s1, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_expect(s1, 0, 0x03);
    fs_buf b = {0};
    add_row_result(&b, "first");
    fs_send_buf(s1, &b);
    fs_expect(s1, 0, 0x01);
    fs_expect_eof(s1);
    fs_script_handshake(s2, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_b);
    fs_expect(s2, 0, 0x03);
    add_row_result(&b, "second");
    fs_send_buf(s2, &b);
    fs_expect(s2, 0, 0x01);
    fs_expect_eof(s2);

    myr_loop *loop = fs_loop();
    myr_conn *c1 = fs_connect_ok(loop, s1, NULL, WAIT_MS);
    maker m = {.loop = loop, .srv2 = s2};
    myr_future *q1 = query(c1, "SELECT 'first'");
    myr_future_on_done(q1, make_conn_cb, &m);
    assert_int_equal(myr_await(q1, WAIT_MS), 0);
    assert_non_null(m.connect2);
    assert_int_equal(myr_await(m.connect2, WAIT_MS), 0);
    assert_int_equal(m.connected, 1);
    assert_non_null(m.query2);
    assert_int_equal(myr_await(m.query2, WAIT_MS), 0);
    myr_conn *c2 = myr_future_conn(m.query2);
    assert_value(q1, "first");
    assert_value(m.query2, "second");
    assert_int_equal(myr_close_sync(c1, NULL), 0);
    assert_int_equal(myr_close_sync(c2, NULL), 0);
    assert_int_equal(fs_join(s1), 0);
    assert_int_equal(fs_join(s2), 0);
    myr_future_free(q1);
    myr_future_free(m.connect2);
    myr_future_free(m.query2);
    myr_loop_free(loop);
    fs_free(s1);
    fs_free(s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wait_in_callback_is_refused),
        cmocka_unit_test(test_free_futures_in_callbacks),
        cmocka_unit_test(test_promise_chain_same_drain),
        cmocka_unit_test(test_close_in_callback),
        cmocka_unit_test(test_conn_free_in_callback),
        cmocka_unit_test(test_conn_free_private_loop_in_callback),
        cmocka_unit_test(test_connect_in_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
