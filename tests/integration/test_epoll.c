/* tests/integration/test_epoll.c -- the loop driven by a plain epoll on
 * myr_loop_fd(), one myr_loop_run_once(loop, 0) per wakeup, against the
 * sandbox: 200 connections each chaining its next query from its callback,
 * timers re-armed from callbacks, and deadlines (myr_sleep, READ_TIMEOUT,
 * CONNECT_TIMEOUT) that must wake the fd by themselves. Every wait is
 * epoll_wait with an overall bound; a quiet fd fails the test. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox_env.h"

#define NCONN 200
#define NQUERY 10
#define NTIMER 4
#define TIMER_TICKS 5
#define BOUND_MS 60000

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

typedef int (*done_fn)(void *ctx);

/* Run loop from epoll until done(ctx) or bound_ms pass. Returns the number
 * of wakeups; fails the test if the fd stays quiet for the whole bound. */
static long drive(myr_loop *loop, int ep, done_fn done, void *ctx, uint64_t bound_ms, const char *what)
{
    /* Work queued outside a callback reaches the kernel at the next run. */
    assert_true(myr_loop_run_once(loop, 0) >= 0);
    uint64_t end = now_ms() + bound_ms;
    long wakeups = 0;
    while (!done(ctx)) {
        uint64_t now = now_ms();
        if (now >= end)
            fail_msg("%s: not done after %llu ms (%ld wakeups)", what, (unsigned long long)bound_ms,
                     wakeups);
        struct epoll_event out;
        int n = epoll_wait(ep, &out, 1, (int)(end - now));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail_msg("epoll_wait: %s", strerror(errno));
        if (n == 0)
            continue;   /* the bound check above reports it */
        wakeups++;
        int rc = myr_loop_run_once(loop, 0);
        if (rc < 0)
            fail_msg("%s: run_once: %s", what, myr_strerror(rc));
    }
    return wakeups;
}

static int epoll_on(myr_loop *loop)
{
    int fd = myr_loop_fd(loop);
    assert_true(fd >= 0);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    assert_true(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN};
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
    return ep;
}

/* ------------------------------------------------ chains and timers */

typedef struct world world;

typedef struct chain {
    world *w;
    int id;
    myr_conn *conn;
    int answered, wrong, failed;
    int closed;
} chain;

typedef struct ticker {
    world *w;
    unsigned every_ms;
    int ticks;
} ticker;

struct world {
    myr_loop *loop;
    chain chains[NCONN];
    ticker tickers[NTIMER];
    int one_shots;             /* plain sleeps that fired */
    int chains_over, closes;
    int ticks_total, tickers_over;
    char first_error[600];
};

static void note_error(world *w, const char *what, myr_future *f)
{
    if (w->first_error[0] == '\0')
        snprintf(w->first_error, sizeof w->first_error, "%s: %s", what, myr_future_error(f)->message);
}

static void on_closed(myr_future *f, void *arg)
{
    chain *ch = arg;
    if (myr_future_status(f) == 0)
        ch->closed++;
    else
        note_error(ch->w, "close", f);
    ch->w->closes++;
    myr_future_free(f);
}

static void next_query(chain *ch);

static void on_answer(myr_future *f, void *arg)
{
    chain *ch = arg;
    if (myr_future_status(f) != 0) {
        ch->failed++;
        note_error(ch->w, "query", f);
    } else {
        myr_result *r = myr_future_take_result(f);
        char want[32];
        snprintf(want, sizeof want, "%d", ch->id * 1000 + ch->answered);
        const char *got = myr_result_value(r, 0, 0, NULL);
        if (got == NULL || strcmp(got, want) != 0)
            ch->wrong++;
        myr_result_free(r);
    }
    assert_ptr_equal(myr_future_conn(f), ch->conn);
    assert_ptr_equal(myr_future_data(f), ch);
    myr_future_free(f);
    ch->answered++;
    if (ch->answered < NQUERY && ch->failed == 0) {
        next_query(ch);
        return;
    }
    ch->w->chains_over++;
    myr_future *cf = myr_close(ch->conn);
    ch->conn = NULL;
    myr_future_on_done(cf, on_closed, ch);
}

static void next_query(chain *ch)
{
    char sql[48];
    int n = snprintf(sql, sizeof sql, "SELECT %d", ch->id * 1000 + ch->answered);
    myr_future *f = myr_query(ch->conn, sql, (size_t)n);
    myr_future_set_data(f, ch);
    myr_future_on_done(f, on_answer, ch);
}

static void on_connected(myr_future *f, void *arg)
{
    chain *ch = arg;
    if (myr_future_status(f) != 0) {
        note_error(ch->w, "connect", f);
        ch->failed++;
        ch->w->chains_over++;
        ch->w->closes++;
    } else {
        ch->conn = myr_future_take_conn(f);
        next_query(ch);
    }
    myr_future_free(f);
}

static void on_tick(myr_future *f, void *arg)
{
    ticker *t = arg;
    assert_int_equal(myr_future_status(f), 0);
    myr_future_free(f);
    t->ticks++;
    t->w->ticks_total++;
    if (t->ticks < TIMER_TICKS)   /* re-armed from the callback */
        myr_future_on_done(myr_sleep(t->w->loop, t->every_ms), on_tick, t);
    else
        t->w->tickers_over++;
}

static void on_one_shot(myr_future *f, void *arg)
{
    world *w = arg;
    if (myr_future_status(f) == 0)
        w->one_shots++;
    myr_future_free(f);
}

static int world_done(void *ctx)
{
    world *w = ctx;
    return w->chains_over == NCONN && w->closes == NCONN && w->tickers_over == NTIMER && w->one_shots == 3;
}

static void test_epoll_chains_and_timers(void **state)
{
    (void)state;
    sandbox_raise_fd_limit();
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->loop = myr_loop_new(NULL, NULL);
    assert_non_null(w->loop);
    int ep = epoll_on(w->loop);
    myr_conn_opts *o = sandbox_opts(0);
    for (int i = 0; i < NCONN; i++) {
        w->chains[i] = (chain){.w = w, .id = i};
        myr_future_on_done(myr_connect(w->loop, o), on_connected, &w->chains[i]);
    }
    myr_conn_opts_free(o);
    for (int i = 0; i < NTIMER; i++) {
        w->tickers[i] = (ticker){.w = w, .every_ms = 7u * (unsigned)(i + 1)};
        myr_future_on_done(myr_sleep(w->loop, w->tickers[i].every_ms), on_tick, &w->tickers[i]);
    }
    /* Timers alone at the end: the last one fires well after the queries. */
    const unsigned shots[3] = {1, 150, 400};
    for (int i = 0; i < 3; i++)
        myr_future_on_done(myr_sleep(w->loop, shots[i]), on_one_shot, w);
    uint64_t t0 = now_ms();
    long wakeups = drive(w->loop, ep, world_done, w, BOUND_MS, "200 chains");
    uint64_t took = now_ms() - t0;
    if (w->first_error[0] != '\0')
        fail_msg("%s", w->first_error);
    for (int i = 0; i < NCONN; i++) {
        chain *ch = &w->chains[i];
        if (ch->answered != NQUERY || ch->wrong != 0 || ch->failed != 0 || ch->closed != 1)
            fail_msg("chain %d: %d answered, %d wrong, %d failed, %d closed", i, ch->answered, ch->wrong,
                     ch->failed, ch->closed);
    }
    assert_int_equal(w->ticks_total, NTIMER * TIMER_TICKS);
    assert_int_equal(w->one_shots, 3);
    assert_true(took >= 400);   /* the last timer did wait its time */
    print_message("200 chains x %d queries + %d timer ticks: %ld wakeups, %llu ms\n", NQUERY,
                  w->ticks_total + w->one_shots, wakeups, (unsigned long long)took);
    close(ep);
    myr_loop_free(w->loop);
    free(w);
}

/* --------------------------------------------- deadlines wake the fd */

typedef struct one {
    int done, status;
    char msg[512];
} one;

static void on_one(myr_future *f, void *arg)
{
    one *x = arg;
    x->done = 1;
    x->status = myr_future_status(f);
    snprintf(x->msg, sizeof x->msg, "%s", myr_future_error(f)->message);
}

static int one_done(void *ctx) { return ((one *)ctx)->done; }

/* SELECT SLEEP(10) with a 200 ms read timeout: nothing comes from the
 * server, so only the deadline can wake the fd. */
static void test_epoll_read_timeout(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    myr_conn_opts *o = sandbox_opts(0);
    myr_conn_opts_set_int(o, MYR_OPT_READ_TIMEOUT, 200);
    myr_error err;
    myr_conn *c = myr_connect_sync(loop, o, &err);
    myr_conn_opts_free(o);
    if (c == NULL)
        fail_msg("connect: %s", err.message);
    int ep = epoll_on(loop);
    one x = {0};
    myr_future *f = myr_query(c, "SELECT SLEEP(10)", 16);
    myr_future_on_done(f, on_one, &x);
    uint64_t t0 = now_ms();
    drive(loop, ep, one_done, &x, 5000, "read timeout");
    uint64_t took = now_ms() - t0;
    assert_int_equal(x.status, MYR_ETIMEDOUT);
    assert_non_null(strstr(x.msg, "timeout"));
    assert_true(took >= 190 && took < 5000);
    myr_future_free(f);
    myr_conn_free(c);
    close(ep);
    myr_loop_free(loop);
}

/* A listener on loopback that never answers: TCP connects, the greeting
 * never comes, the 200 ms connect timeout must wake the fd. */
static void test_epoll_connect_timeout(void **state)
{
    (void)state;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 8), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &al), 0);

    myr_loop *loop = myr_loop_new(NULL, NULL);
    int ep = epoll_on(loop);
    myr_conn_opts *o = myr_conn_opts_new();
    myr_conn_opts_set_str(o, MYR_OPT_HOST, "127.0.0.1");
    myr_conn_opts_set_int(o, MYR_OPT_PORT, ntohs(a.sin_port));
    myr_conn_opts_set_int(o, MYR_OPT_CONNECT_TIMEOUT, 200);
    one x = {0};
    myr_future *f = myr_connect(loop, o);
    myr_conn_opts_free(o);
    myr_future_on_done(f, on_one, &x);
    uint64_t t0 = now_ms();
    drive(loop, ep, one_done, &x, 5000, "connect timeout");
    uint64_t took = now_ms() - t0;
    assert_int_equal(x.status, MYR_ETIMEDOUT);
    assert_true(took >= 190 && took < 5000);
    myr_future_free(f);
    close(ep);
    myr_loop_free(loop);
    close(ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epoll_chains_and_timers),
        cmocka_unit_test(test_epoll_read_timeout),
        cmocka_unit_test(test_epoll_connect_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
