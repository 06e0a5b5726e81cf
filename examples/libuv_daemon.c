/* examples/libuv_daemon.c -- myring inside a libuv program.
 *
 * libuv owns the thread's event loop; myring joins it through one file
 * descriptor, watched with a uv_poll_t. The contract is the one of
 * myr_loop_fd() (myring.h): when the fd is readable, call
 * myr_loop_run_once(loop, 0); after queueing work from your own handlers
 * (here: a libuv timer), call it once too so the work reaches the kernel.
 *
 * Here: CONNS connections each run a chain of QUERIES queries, the next one
 * queued from the previous one's callback; a libuv timer meanwhile queues
 * a ping on one more connection every 5 ms, from libuv's side. When every
 * chain has closed and at least 3 pings came back, it stops libuv and exits.
 *
 *   example_libuv_daemon [connections [queries]]      (defaults: 100, 20)
 *
 * Prints one summary line; exits 1 if anything failed. */
#include <uv.h>

#include "common.h"

typedef struct app {
    myr_loop *loop;
    uv_loop_t *uv;
    uv_poll_t poll;
    uv_timer_t timer;
    int conns, queries;
    int closed, failures, pings;
    int ping_in_flight;
    int stopped;               /* libuv's handles are stopped: never again */
    long answers_ok;
    myr_conn *pinger;          /* pinged by the libuv timer */
} app;

typedef struct chain {
    app *app;
    int id, done;
    myr_conn *conn;
} chain;

static void fail(app *a, const char *what, const myr_error *e)
{
    if (a->failures++ < 5)
        fprintf(stderr, "%s: %s\n", what, e->message);
}

/* Everything done (and no ping still out): stop libuv's side, once. The
 * pinger is closed after uv_run returns, and its callbacks may still come
 * here then: the handles are closed by that time. */
static void maybe_stop(app *a)
{
    if (a->stopped || a->ping_in_flight)
        return;
    if (a->closed + a->failures >= a->conns && (a->pings >= 3 || a->failures)) {
        a->stopped = 1;
        uv_timer_stop(&a->timer);
        uv_poll_stop(&a->poll);
        uv_stop(a->uv);
    }
}

static void closed_cb(myr_future *f, void *arg)
{
    chain *ch = arg;
    if (myr_future_status(f) == 0)
        ch->app->closed++;
    else
        fail(ch->app, "close", myr_future_error(f));
    myr_future_free(f);
    maybe_stop(ch->app);
}

static void send_next(chain *ch);

static void answer_cb(myr_future *f, void *arg)
{
    chain *ch = arg;
    app *a = ch->app;
    if (myr_future_status(f) == 0) {
        myr_result *r = myr_future_take_result(f);
        const char *got = myr_result_value(r, 0, 0, NULL);
        if (got != NULL && atol(got) == ch->id * 1000L + ch->done)
            a->answers_ok++;
        myr_result_free(r);
    } else {
        fail(a, "query", myr_future_error(f));
    }
    myr_future_free(f);
    if (++ch->done < a->queries) {
        send_next(ch);
        return;
    }
    myr_future_on_done(myr_close(ch->conn), closed_cb, ch);
    ch->conn = NULL;
}

static void send_next(chain *ch)
{
    char sql[64];
    int n = snprintf(sql, sizeof sql, "SELECT %ld", ch->id * 1000L + ch->done);
    myr_future_on_done(myr_query(ch->conn, sql, (size_t)n), answer_cb, ch);
}

static void connected_cb(myr_future *f, void *arg)
{
    chain *ch = arg;
    if (myr_future_status(f) == 0) {
        ch->conn = myr_future_take_conn(f);
        send_next(ch);
    } else {
        fail(ch->app, "connect", myr_future_error(f));
        maybe_stop(ch->app);
    }
    myr_future_free(f);
}

static void pong_cb(myr_future *f, void *arg)
{
    app *a = arg;
    if (myr_future_status(f) == 0)
        a->pings++;
    else
        fail(a, "ping", myr_future_error(f));
    myr_future_free(f);
    a->ping_in_flight = 0;
    maybe_stop(a);
}

/* libuv's side: the loop's fd is readable -> one non-blocking tick. */
static void on_readable(uv_poll_t *h, int status, int events)
{
    (void)events;
    app *a = h->data;
    if (status < 0)
        return;
    int rc = myr_loop_run_once(a->loop, 0);
    if (rc < 0)
        fprintf(stderr, "run_once: %s\n", myr_strerror(rc));
}

/* Work queued from a libuv handler: run the loop once so it is sent. */
static void on_timer(uv_timer_t *t)
{
    app *a = t->data;
    if (a->ping_in_flight || a->stopped)
        return;
    a->ping_in_flight = 1;
    myr_future_on_done(myr_ping(a->pinger), pong_cb, a);
    myr_loop_run_once(a->loop, 0);
}

int main(int argc, char **argv)
{
    app a = {.conns = argc > 1 ? atoi(argv[1]) : 100, .queries = argc > 2 ? atoi(argv[2]) : 20};
    if (a.conns <= 0 || a.queries <= 0) {
        fprintf(stderr, "usage: %s [connections [queries]]\n", argv[0]);
        return 2;
    }
    myr_error err;
    if ((a.loop = myr_loop_new(NULL, &err)) == NULL)
        example_die("loop", &err);
    myr_conn_opts *o = example_opts(NULL);
    /* A blocking connect runs the same loop; fine before libuv starts. */
    if ((a.pinger = myr_connect_sync(a.loop, o, &err)) == NULL)
        example_die("connect", &err);
    a.uv = uv_default_loop();
    uv_poll_init(a.uv, &a.poll, myr_loop_fd(a.loop));
    a.poll.data = &a;
    uv_poll_start(&a.poll, UV_READABLE, on_readable);
    uv_timer_init(a.uv, &a.timer);
    a.timer.data = &a;
    uv_timer_start(&a.timer, on_timer, 5, 5);

    chain *chains = calloc((size_t)a.conns, sizeof *chains);
    for (int i = 0; i < a.conns; i++) {
        chains[i] = (chain){.app = &a, .id = i};
        myr_future_on_done(myr_connect(a.loop, o), connected_cb, &chains[i]);
    }
    myr_conn_opts_free(o);
    myr_loop_run_once(a.loop, 0); /* queued outside a callback: send it */

    double t0 = example_now();
    uv_run(a.uv, UV_RUN_DEFAULT);
    double secs = example_now() - t0;

    printf("libuv_daemon: %d connections x %d queries: %ld answers ok, %d closed, %d pings, "
           "%d failures, %.2f s\n",
           a.conns, a.queries, a.answers_ok, a.closed, a.pings, a.failures, secs);
    uv_close((uv_handle_t *)&a.poll, NULL);
    uv_close((uv_handle_t *)&a.timer, NULL);
    uv_run(a.uv, UV_RUN_DEFAULT);
    uv_loop_close(a.uv);
    myr_close_sync(a.pinger, &err);
    myr_loop_free(a.loop);
    free(chains);
    return a.answers_ok == (long)a.conns * a.queries && a.closed == a.conns && a.failures == 0 &&
                   a.pings >= 3
               ? 0
               : 1;
}
