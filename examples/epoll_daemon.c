/* examples/epoll_daemon.c -- myring inside a program's own epoll loop.
 *
 * A daemon already has an event loop; myring joins it through one file
 * descriptor. The contract (myring.h, myr_loop_fd): when the fd is readable
 * call myr_loop_run_once(loop, 0); when that returns, everything the
 * callbacks queued has reached the kernel, and timers wake the fd when due;
 * after queueing work from your own handlers, call run_once(loop, 0) too.
 *
 * Here: CONNS connections each run a chain of QUERIES queries, every next
 * query queued from the previous one's callback (no blocking call anywhere),
 * then close; meanwhile a few myr_sleep timers tick, each re-arming itself
 * from its callback. The daemon's own fds (stdin, a signalfd, ...) would sit
 * in the same epoll set beside the loop's.
 *
 *   example_epoll_daemon [connections [queries]]     (defaults: 200, 20)
 *
 * Prints one summary line; exits 1 if anything failed or it took over 60 s. */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common.h"

#define TIMERS 4
#define TIMER_TICKS 5

typedef struct app {
    myr_loop *loop;
    int queries;               /* per connection */
    int chains_done, closed, failures;
    long rows_ok;
    int timer_ticks;
    int timers_done;
} app;

typedef struct chain {
    app *app;
    int id;
    int done;                  /* queries answered */
    myr_conn *conn;
} chain;

typedef struct ticker {
    app *app;
    unsigned every_ms;
    int ticks;
} ticker;

static void report(app *a, const char *what, const myr_error *e)
{
    a->failures++;
    if (a->failures <= 5)
        fprintf(stderr, "%s: %s (%d)\n", what, e->message, e->code);
}

static void closed_cb(myr_future *f, void *arg)
{
    chain *ch = arg;
    if (myr_future_status(f) == 0)
        ch->app->closed++;
    else
        report(ch->app, "close", myr_future_error(f));
    myr_future_free(f);
}

static void send_next(chain *ch);

static void answer_cb(myr_future *f, void *arg)
{
    chain *ch = arg;
    app *a = ch->app;
    if (myr_future_status(f) != 0) {
        report(a, "query", myr_future_error(f));
    } else {
        /* Each query asks for its own numbers back: a mix-up would show. */
        myr_result *r = myr_future_take_result(f);
        char want[32];
        snprintf(want, sizeof want, "%d", ch->id * 1000 + ch->done);
        const char *got = myr_result_value(r, 0, 0, NULL);
        if (got != NULL && strcmp(got, want) == 0)
            a->rows_ok++;
        else
            fprintf(stderr, "conn %d: expected %s, got %s\n", ch->id, want, got ? got : "NULL");
        myr_result_free(r);
    }
    myr_future_free(f);
    ch->done++;
    if (ch->done < a->queries) {
        send_next(ch);   /* from the callback: no wait, nothing nested */
        return;
    }
    a->chains_done++;
    myr_future *cf = myr_close(ch->conn);
    ch->conn = NULL;
    myr_future_on_done(cf, closed_cb, ch);
}

static void send_next(chain *ch)
{
    char sql[64];
    int n = snprintf(sql, sizeof sql, "SELECT %d", ch->id * 1000 + ch->done);
    myr_future *f = myr_query(ch->conn, sql, (size_t)n);
    myr_future_on_done(f, answer_cb, ch);
}

static void connected_cb(myr_future *f, void *arg)
{
    chain *ch = arg;
    if (myr_future_status(f) != 0) {
        report(ch->app, "connect", myr_future_error(f));
        ch->app->chains_done++;   /* this chain is over */
    } else {
        ch->conn = myr_future_take_conn(f);
        send_next(ch);
    }
    myr_future_free(f);
}

static void tick_cb(myr_future *f, void *arg)
{
    ticker *t = arg;
    int status = myr_future_status(f);
    myr_future_free(f);
    if (status != 0)
        return;   /* MYR_ECANCELED: the loop is being freed */
    t->ticks++;
    t->app->timer_ticks++;
    if (t->ticks < TIMER_TICKS)
        myr_future_on_done(myr_sleep(t->app->loop, t->every_ms), tick_cb, t);
    else
        t->app->timers_done++;
}

int main(int argc, char **argv)
{
    int conns = argc > 1 ? atoi(argv[1]) : 200;
    int queries = argc > 2 ? atoi(argv[2]) : 20;
    if (conns <= 0 || queries <= 0) {
        fprintf(stderr, "usage: %s [connections [queries]]\n", argv[0]);
        return 2;
    }
    myr_error err;
    app a = {.queries = queries};
    a.loop = myr_loop_new(NULL, &err);
    if (a.loop == NULL)
        example_die("loop", &err);
    int lfd = myr_loop_fd(a.loop);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    if (lfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) {
        perror("epoll");
        return 1;
    }

    chain *chains = calloc((size_t)conns, sizeof *chains);
    myr_conn_opts *o = example_opts(NULL);
    for (int i = 0; i < conns; i++) {
        chains[i] = (chain){.app = &a, .id = i};
        myr_future_on_done(myr_connect(a.loop, o), connected_cb, &chains[i]);
    }
    myr_conn_opts_free(o);
    ticker tickers[TIMERS];
    for (int i = 0; i < TIMERS; i++) {
        tickers[i] = (ticker){.app = &a, .every_ms = 10u * (unsigned)(i + 1)};
        myr_future_on_done(myr_sleep(a.loop, tickers[i].every_ms), tick_cb, &tickers[i]);
    }
    /* Work queued outside a callback reaches the kernel at the next run. */
    myr_loop_run_once(a.loop, 0);

    double t0 = example_now(), limit = 60.0;
    long wakeups = 0;
    while (a.chains_done < conns || a.closed + a.failures < conns || a.timers_done < TIMERS) {
        double left = limit - (example_now() - t0);
        if (left <= 0) {
            fprintf(stderr, "gave up after %.0f s\n", limit);
            break;
        }
        struct epoll_event out[8];
        int n = epoll_wait(ep, out, 8, (int)(left * 1000) + 1);
        if (n < 0 && errno != EINTR) {
            perror("epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++)
            if (out[i].data.fd == lfd) {
                int rc = myr_loop_run_once(a.loop, 0);
                if (rc < 0)
                    fprintf(stderr, "run_once: %s\n", myr_strerror(rc));
                wakeups++;
            }
        /* ... the daemon's other fds would be served here ... */
    }
    double secs = example_now() - t0;
    printf("epoll_daemon: %d connections x %d queries: %ld answers ok, %d closed, "
           "%d timer ticks, %d failures, %ld wakeups, %.2f s\n",
           conns, queries, a.rows_ok, a.closed, a.timer_ticks, a.failures, wakeups, secs);
    close(ep);
    myr_loop_free(a.loop);
    free(chains);
    int ok = a.rows_ok == (long)conns * queries && a.closed == conns &&
             a.timer_ticks == TIMERS * TIMER_TICKS && a.failures == 0;
    return ok ? 0 : 1;
}
