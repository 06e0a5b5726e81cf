/* tests/integration/test_ring_enobufs.c -- receives on the loop's buffer
 * ring while a 17 MB row arrives, cut by tests/common/faultproxy with a
 * reset or a close at chosen bytes of it (inside, around the 16 MiB seam,
 * near its end). Each cut must show at once as a lost connection (2013,
 * MYR_ECONNLOST), never as the read timeout the connection has only
 * against a hang; the same row without a fault arrives whole.
 *  - a ring of 2 buffers: the row runs it dry over and over (-ENOBUFS ends
 *    the multishot; it is armed again after the tick);
 *  - a ring of 64 buffers, 6 big rows at once beside 8 connections that
 *    keep querying: before one-shot receives took over big answers, a
 *    multishot here stayed armed but never reported the reset after its
 *    last bytes (in most runs of this test; see myr__socket_ring_next). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "faultproxy.h"
#include "internal.h"
#include "sandbox_env.h"

#define BIG 17000000u
#define MAXPKT 0xFFFFFFu
#define SAFETY_READ_MS 20000   /* only against a hang: a case that needs it fails */
#define ROUNDS 4
#define NCLEAN 8

static const char Q[] = "SELECT REPEAT('b', 17000000)";

static myr_conn_opts *opts_for(int port)
{
    myr_conn_opts *o = sandbox_opts(0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PORT, port), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_DISABLED), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_READ_TIMEOUT, SAFETY_READ_MS), 0);
    return o;
}

/* The server's bytes of a clean run: where the row's second frame starts
 * (*seam) and how many there are (*total). */
static void layout(fp_proxy *p, myr_loop *loop, size_t *seam, size_t *total)
{
    fp_rule r = {.action = FP_PASS, .record = 1};
    int port = fp_listen(p, &r);
    assert_true(port > 0);
    myr_conn_opts *o = opts_for(port);
    myr_error err;
    myr_conn *c = myr_connect_sync(loop, o, &err);
    myr_conn_opts_free(o);
    if (c == NULL)
        fail_msg("connect through the proxy: %s", err.message);
    myr_result *res = myr_query_sync(c, Q, sizeof Q - 1, &err);
    if (res == NULL)
        fail_msg("recording: %s", err.message);
    myr_result_free(res);
    myr_conn_free(c);
    size_t n;
    uint8_t *d = fp_recorded(p, port, FP_DOWN, &n);
    assert_non_null(d);
    /* The row: a full frame (ff ff ff, its sequence id) whose payload opens
     * with an 8-byte length (fe). */
    size_t at = 0;
    while (at + 5 <= n && !(d[at] == 0xFF && d[at + 1] == 0xFF && d[at + 2] == 0xFF && d[at + 4] == 0xFE))
        at++;
    assert_true(at + 4 + MAXPKT < n);
    *seam = at + 4 + MAXPKT;
    *total = n;
    free(d);
    fp_unlisten(p, port);
}

typedef struct kase {
    fp_rule rule;
    int port;
    myr_conn *c;
    myr_future *f0, *f;
} kase;

typedef struct clean {
    myr_conn *c;
    myr_future *f;
    unsigned n;
} clean;

static void clean_next(clean *cl)
{
    char sql[64];
    cl->n++;
    int len = snprintf(sql, sizeof sql, "SELECT %u, REPEAT('c', %u)", cl->n, cl->n % 300);
    cl->f = myr_query(cl->c, sql, (size_t)len);
    assert_non_null(cl->f);
}

static void clean_check(clean *cl)
{
    if (myr_future_status(cl->f) != 0)
        fail_msg("a clean connection failed: %s", myr_future_error(cl->f)->message);
    myr_result *r = myr_future_take_result(cl->f);
    assert_int_equal(strtoul(myr_result_value(r, 0, 0, NULL), NULL, 10), cl->n);
    myr_result_free(r);
    myr_future_free(cl->f);
}

/* Start case k: its own listener, a connection, a small query and the
 * big row pipelined behind it. */
static void start(fp_proxy *p, myr_loop *loop, kase *k)
{
    k->port = fp_listen(p, &k->rule);
    assert_true(k->port > 0);
    myr_conn_opts *o = opts_for(k->port);
    myr_error err;
    k->c = myr_connect_sync(loop, o, &err);
    myr_conn_opts_free(o);
    if (k->c == NULL)
        fail_msg("connect through the proxy: %s", err.message);
    k->f0 = myr_query(k->c, "SELECT 1", 8);
    k->f = myr_query(k->c, Q, sizeof Q - 1);
    assert_non_null(k->f0);
    assert_non_null(k->f);
}

static void finish(fp_proxy *p, kase *k)
{
    const char *what = k->rule.action == FP_RST ? "reset" : "close";
    assert_int_equal(myr_future_status(k->f0), 0);
    if (k->rule.action == FP_PASS) {
        if (myr_future_status(k->f) != 0)
            fail_msg("no fault: %s", myr_future_error(k->f)->message);
        myr_result *r = myr_future_take_result(k->f);
        size_t len = 0;
        const char *v = myr_result_value(r, 0, 0, &len);
        assert_non_null(v);
        assert_int_equal(len, BIG);
        assert_true(v[0] == 'b' && v[BIG / 2] == 'b' && v[BIG - 1] == 'b');
        myr_result_free(r);
    } else {
        const myr_error *e = myr_future_error(k->f);
        assert_non_null(e);
        if (e->code != MYR_ECONNLOST || e->mysql_errno != 2013)
            fail_msg("%s after %llu: code %d errno %u (%s), want a lost connection", what,
                     (unsigned long long)k->rule.after, e->code, e->mysql_errno, e->message);
        assert_int_equal(myr_conn_alive(k->c), 0);
    }
    myr_future_free(k->f0);
    myr_future_free(k->f);
    myr_conn_free(k->c);
    fp_unlisten(p, k->port);
    k->c = NULL;
}

/* Every cut of after[] (by reset and by close) and a whole row, `reps`
 * times over, at most `window` at once, on loop beside ncl clean
 * connections that keep querying. */
static void run_cases(fp_proxy *p, myr_loop *loop, const size_t *after, size_t nafter, int reps, size_t window,
                      clean *cl, int ncl)
{
    static const enum fp_action acts[] = {FP_RST, FP_FIN};
    size_t per = 2 * nafter + 1, n = per * (size_t)reps;
    kase *k = calloc(n, sizeof *k);
    assert_non_null(k);
    for (size_t i = 0; i < n; i++) {
        size_t j = i % per;
        if (j + 1 < per) {
            k[i].rule.action = acts[j % 2];
            k[i].rule.dir = FP_DOWN;
            k[i].rule.after = after[j / 2];
        } else {
            k[i].rule.action = FP_PASS;   /* the same row, whole */
        }
    }
    size_t next = 0, running = 0, done = 0;
    while (done < n) {
        while (running < window && next < n) {
            start(p, loop, &k[next++]);
            running++;
        }
        assert_true(myr_loop_run_once(loop, 20) >= 0);
        for (size_t i = 0; i < next; i++)
            if (k[i].c != NULL && myr_future_done(k[i].f0) && myr_future_done(k[i].f)) {
                finish(p, &k[i]);
                running--;
                done++;
            }
        for (int i = 0; i < ncl; i++)
            if (myr_future_done(cl[i].f)) {
                clean_check(&cl[i]);
                clean_next(&cl[i]);
            }
    }
    free(k);
}

static int rounds(void)
{
    const char *env = getenv("MYR_TEST_RING_ROUNDS");   /* more, to hunt a race */
    return env != NULL && atoi(env) > 0 ? atoi(env) : ROUNDS;
}

/* bufs buffers in the ring; ncl clean connections beside; window cases at once. */
static void cuts(unsigned bufs, int ncl, size_t window)
{
    unsigned saved = myr__recv_bufs;
    myr__recv_bufs = bufs;
    fp_proxy *p = fp_new(sandbox_env("MYR_TEST_HOST"), atoi(sandbox_env("MYR_TEST_PORT")));
    assert_non_null(p);
    myr_loop *loop = myr_loop_new(NULL, NULL);
    assert_non_null(loop);
    size_t seam, total;
    layout(p, loop, &seam, &total);
    clean cl[NCLEAN];
    for (int i = 0; i < ncl; i++) {
        memset(&cl[i], 0, sizeof cl[i]);
        cl[i].c = sandbox_connect(loop);
        clean_next(&cl[i]);
    }
    const size_t after[] = {seam - 8000000, seam - 1, seam, seam + 1, seam + 4, total - 1, total};
    run_cases(p, loop, after, sizeof after / sizeof *after, rounds(), window, cl, ncl);
    for (int i = 0; i < ncl; i++) {
        assert_int_equal(myr_await(cl[i].f, 20000), 0);
        clean_check(&cl[i]);
        myr_conn_free(cl[i].c);
    }
    myr_loop_free(loop);
    fp_free(p);
    myr__recv_bufs = saved;
}

/* -ENOBUFS for sure, then a reset or a close. */
static void test_tiny_ring_cut(void **state)
{
    (void)state;
    cuts(2, 0, 15);
}

/* Big answers streaming at once: the reset after the last bytes. */
static void test_big_answers_cut(void **state)
{
    (void)state;
    cuts(64, NCLEAN, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_ring_cut),
        cmocka_unit_test(test_big_answers_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
