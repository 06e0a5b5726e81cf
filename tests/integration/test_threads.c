/* tests/integration/test_threads.c -- which thread may use a loop, against
 * the sandbox: a loop created on the main thread and used only on a second
 * one works (the usual daemon hand-over); from a thread that does not own it
 * every wait fails with MYR_ETHREAD, the *_sync calls fill err with
 * MYR_ETHREAD and a message, future-returning calls give failed futures; in
 * a fork() child the same with MYR_EFORKED, and the parent's connection is
 * untouched. Threads meet through a mutex and condition variable. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox_env.h"

#define WAIT_MS 10000

/* ----------------------------------------------------- hand-over works */

typedef struct worker {
    myr_loop *loop;
    int connected, queried, slept, threaded, closed;
    char value[32];
    char error[600];
} worker;

static void *blocking_fn(void *arg) { return arg; }

static void *worker_main(void *arg)
{
    worker *w = arg;
    myr_error err;
    myr_conn_opts *o = sandbox_opts(0);
    myr_conn *c = myr_connect_sync(w->loop, o, &err);
    myr_conn_opts_free(o);
    if (c == NULL) {
        snprintf(w->error, sizeof w->error, "connect: %s", err.message);
        return NULL;
    }
    w->connected = 1;
    myr_result *r = myr_query_sync(c, "SELECT 'from the worker'", 24, &err);
    if (r != NULL) {
        snprintf(w->value, sizeof w->value, "%s", myr_result_value(r, 0, 0, NULL));
        myr_result_free(r);
        w->queried = 1;
    }
    myr_future *fs[2] = {myr_sleep(w->loop, 5), myr_to_thread(w->loop, blocking_fn, w)};
    if (myr_gather(fs, 2, WAIT_MS) == 0) {
        w->slept = myr_future_status(fs[0]) == 0;
        w->threaded = myr_future_ptr(fs[1]) == w;
    }
    myr_future_free(fs[0]);
    myr_future_free(fs[1]);
    w->closed = myr_close_sync(c, &err) == 0;
    myr_loop_free(w->loop);
    return NULL;
}

static void test_loop_handed_to_another_thread(void **state)
{
    (void)state;
    worker w = {0};
    w.loop = myr_loop_new(NULL, NULL);   /* created here, used only there */
    assert_non_null(w.loop);
    assert_true(myr_loop_fd(w.loop) >= 0);   /* preparing it before the hand-over is fine */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, worker_main, &w), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    if (w.error[0])
        fail_msg("%s", w.error);
    assert_true(w.connected);
    assert_true(w.queried);
    assert_string_equal(w.value, "from the worker");
    assert_true(w.slept);
    assert_true(w.threaded);
    assert_true(w.closed);
}

/* ---------------------------------------------------- the wrong thread */

typedef struct owner {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int phase;                 /* 1: owner ready; 2: main done probing */
    myr_loop *loop;
    myr_conn *conn;
    myr_future *pending;       /* a sleep the owner made */
    int after_ok;              /* the owner's loop still works after the probes */
    char error[600];
} owner;

static void set_phase(owner *o, int phase)
{
    pthread_mutex_lock(&o->mu);
    o->phase = phase;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
}

static void wait_phase(owner *o, int phase)
{
    pthread_mutex_lock(&o->mu);
    while (o->phase < phase)
        pthread_cond_wait(&o->cv, &o->mu);
    pthread_mutex_unlock(&o->mu);
}

static void *owner_main(void *arg)
{
    owner *o = arg;
    myr_error err;
    o->loop = myr_loop_new(NULL, NULL);
    myr_conn_opts *opts = sandbox_opts(0);
    o->conn = o->loop ? myr_connect_sync(o->loop, opts, &err) : NULL;
    myr_conn_opts_free(opts);
    if (o->conn == NULL) {
        snprintf(o->error, sizeof o->error, "owner connect: %s", err.message);
        set_phase(o, 1);
        return NULL;
    }
    o->pending = myr_sleep(o->loop, 60000);
    set_phase(o, 1);
    wait_phase(o, 2);
    /* Nothing the main thread tried touched the loop or the connection. */
    myr_result *r = myr_query_sync(o->conn, "SELECT 'still fine'", 19, &err);
    o->after_ok = r != NULL && strcmp(myr_result_value(r, 0, 0, NULL), "still fine") == 0;
    myr_result_free(r);
    myr_future_free(o->pending);
    myr_close_sync(o->conn, NULL);
    myr_loop_free(o->loop);
    return NULL;
}

static void assert_err(const myr_error *e, int code, const char *word)
{
    assert_int_equal(e->code, code);
    if (strstr(e->message, word) == NULL)
        fail_msg("message without '%s': %s", word, e->message);
}

static void test_wrong_thread(void **state)
{
    (void)state;
    owner o = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, owner_main, &o), 0);
    wait_phase(&o, 1);
    if (o.error[0]) {
        pthread_join(t, NULL);
        fail_msg("%s", o.error);
    }
    /* Waits. */
    assert_int_equal(myr_await(o.pending, 100), MYR_ETHREAD);
    assert_false(myr_future_done(o.pending));
    assert_int_equal(myr_loop_run_once(o.loop, 0), MYR_ETHREAD);
    assert_int_equal(myr_gather(&o.pending, 1, 100), MYR_ETHREAD);
    /* Blocking calls: err says what happened. */
    myr_error e;
    memset(&e, 0, sizeof e);
    assert_null(myr_query_sync(o.conn, "SELECT 1", 8, &e));
    assert_err(&e, MYR_ETHREAD, "thread");
    memset(&e, 0, sizeof e);
    assert_int_equal(myr_ping_sync(o.conn, &e), MYR_ETHREAD);
    assert_err(&e, MYR_ETHREAD, "thread");
    myr_conn_opts *opts = sandbox_opts(0);
    memset(&e, 0, sizeof e);
    assert_null(myr_connect_sync(o.loop, opts, &e));
    assert_err(&e, MYR_ETHREAD, "thread");
    /* Calls that return a future give one that failed, touching nothing. */
    myr_future *f[4] = {myr_sleep(o.loop, 1), myr_promise_new(o.loop), myr_to_thread(o.loop, blocking_fn, NULL),
                        myr_connect(o.loop, opts)};
    myr_conn_opts_free(opts);
    for (int i = 0; i < 4; i++) {
        assert_non_null(f[i]);
        assert_true(myr_future_done(f[i]));
        assert_err(myr_future_error(f[i]), MYR_ETHREAD, "thread");
        assert_null(myr_future_loop(f[i]));
        myr_future_free(f[i]);
    }
    /* Commands on its connection too: failed futures, nothing sent; and
     * closing or freeing the connection from here touches nothing. */
    myr_future *cf[4] = {myr_query(o.conn, "SELECT 1", 8), myr_ping(o.conn), myr_select_db(o.conn, "x"),
                         myr_close(o.conn)};
    for (int i = 0; i < 4; i++) {
        assert_non_null(cf[i]);
        assert_true(myr_future_done(cf[i]));
        assert_err(myr_future_error(cf[i]), MYR_ETHREAD, "thread");
        myr_future_free(cf[i]);
    }
    myr_conn_free(o.conn);   /* not ours: does nothing */
    myr_loop_free(o.loop);   /* not ours: does nothing */
    set_phase(&o, 2);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(o.after_ok);
}

/* ------------------------------------------------------------ fork() */

/* In the child every use of the parent's loop fails with MYR_EFORKED; the
 * exit code says which check failed (0: all passed). */
static int child_checks(myr_loop *loop, myr_conn *c, myr_future *pending)
{
    if (myr_await(pending, 100) != MYR_EFORKED)
        return 10;
    if (myr_loop_run_once(loop, 0) != MYR_EFORKED)
        return 11;
    myr_error e;
    memset(&e, 0, sizeof e);
    if (myr_query_sync(c, "SELECT 1", 8, &e) != NULL || e.code != MYR_EFORKED ||
        strstr(e.message, "fork") == NULL)
        return 12;
    memset(&e, 0, sizeof e);
    if (myr_ping_sync(c, &e) != MYR_EFORKED || e.message[0] == '\0')
        return 13;
    myr_future *f = myr_sleep(loop, 1);
    if (f == NULL || !myr_future_done(f) || myr_future_status(f) != MYR_EFORKED ||
        strstr(myr_future_error(f)->message, "fork") == NULL)
        return 14;
    myr_future_free(f);
    f = myr_query(c, "SELECT 1", 8);
    if (f == NULL || !myr_future_done(f) || myr_future_status(f) != MYR_EFORKED)
        return 16;
    myr_future_free(f);
    f = myr_close(c);
    if (f == NULL || !myr_future_done(f) || myr_future_status(f) != MYR_EFORKED)
        return 17;
    myr_future_free(f);
    myr_conn_free(c);   /* the parent's socket: not shut down from here */
    /* A loop of its own works in the child. */
    myr_loop *mine = myr_loop_new(NULL, NULL);
    myr_future *s = mine ? myr_sleep(mine, 1) : NULL;
    if (s == NULL || myr_await(s, WAIT_MS) != 0)
        return 15;
    myr_future_free(s);
    myr_loop_free(mine);
    myr_loop_free(loop);   /* the parent's: does nothing here */
    return 0;
}

static void test_forked_child(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    myr_conn *c = sandbox_connect(loop);   /* the loop runs: it is bound */
    myr_future *pending = myr_sleep(loop, 60000);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child_checks(loop, c, pending));
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) != 0)
        fail_msg("child check %d failed", WEXITSTATUS(st));
    /* The parent's connection and loop are as they were. */
    myr_result *r = sandbox_query(c, "SELECT 'parent'");
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "parent");
    myr_result_free(r);
    assert_false(myr_future_done(pending));
    myr_future_free(pending);
    assert_int_equal(myr_close_sync(c, NULL), 0);
    myr_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_handed_to_another_thread),
        cmocka_unit_test(test_wrong_thread),
        cmocka_unit_test(test_forked_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
