/* tests/integration/test_timeouts.c -- deadlines: MYR_OPT_QUERY_TIMEOUT
 * against the sandbox (a running SLEEP() and a command queued behind it
 * fail MYR_ETIMEDOUT, the connection stays usable; fast commands are not
 * touched), MYR_OPT_READ_TIMEOUT (silence: several short SLEEPs in a row
 * pass, one long one gives the connection up), and the connect-side
 * deadlines against local listeners that never talk: the login deadline
 * (set, and the 10 s default) with a listener that never accepts, and the
 * connect timeout with a listener whose accept queue is full. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "sandbox_env.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static myr_conn *connect_with(myr_loop *loop, myr_opt opt, long value)
{
    myr_conn_opts *o = sandbox_opts(0);
    assert_int_equal(myr_conn_opts_set_int(o, opt, value), 0);
    myr_error err;
    myr_conn *c = myr_connect_sync(loop, o, &err);
    myr_conn_opts_free(o);
    if (c == NULL)
        fail_msg("connect: %u %s", err.mysql_errno, err.message);
    return c;
}

static myr_future *q(myr_conn *c, const char *sql)
{
    myr_future *f = myr_query(c, sql, strlen(sql));
    assert_non_null(f);
    return f;
}

static const char *value(myr_future *f)
{
    static char buf[64];
    myr_result *r = myr_future_take_result(f);
    assert_non_null(r);
    const char *v = myr_result_value(r, 0, 0, NULL);
    snprintf(buf, sizeof buf, "%s", v ? v : "NULL");
    myr_result_free(r);
    return buf;
}

static void test_query_timeout(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    assert_non_null(loop);
    myr_conn *c = connect_with(loop, MYR_OPT_QUERY_TIMEOUT, 300);

    /* Fast commands finish well within it, and nothing fires later. */
    myr_future *fast[3] = {q(c, "SELECT 1"), myr_ping(c), q(c, "SELECT 3")};
    assert_int_equal(myr_gather(fast, 3, 5000), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(myr_future_status(fast[i]), 0);
        myr_future_free(fast[i]);
    }
    myr_future *nap = myr_sleep(loop, 500);   /* past the deadlines they had */
    assert_int_equal(myr_await(nap, 5000), 0);
    myr_future_free(nap);
    assert_true(myr_conn_alive(c));

    /* A running statement, and one queued behind it in the same batch
     * (its clock started when it was queued, too). */
    double t0 = now_ms();
    myr_future *f[2] = {q(c, "SELECT SLEEP(20)"), q(c, "SELECT 2")};
    assert_int_equal(myr_gather(f, 2, 15000), 0);
    double ms = now_ms() - t0;
    printf("# SLEEP(20) with a 300 ms query timeout failed after %.1f ms\n", ms);
    assert_true(ms >= 290 && ms < 3000);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(myr_future_status(f[i]), MYR_ETIMEDOUT);
        const myr_error *e = myr_future_error(f[i]);
        assert_int_equal(e->code, MYR_ETIMEDOUT);
        assert_non_null(strstr(e->message, "timeout"));
        assert_null(myr_future_take_result(f[i]));
        myr_future_free(f[i]);
    }
    /* The connection stays: a ping and a query on it. */
    assert_true(myr_conn_alive(c));
    myr_error err;
    assert_int_equal(myr_ping_sync(c, &err), 0);
    myr_future *g = q(c, "SELECT 9");
    assert_int_equal(myr_await(g, 5000), 0);
    assert_string_equal(value(g), "9");
    myr_future_free(g);
    myr_close_sync(c, NULL);
    myr_loop_free(loop);
}

static void test_read_timeout_is_silence(void **state)
{
    (void)state;
    myr_conn *c = connect_with(NULL, MYR_OPT_READ_TIMEOUT, 700);
    /* 1.2 s in all, but the server speaks every 0.3 s: not silence. */
    myr_error err;
    const char *sql = "SELECT SLEEP(0.3); SELECT SLEEP(0.3); SELECT SLEEP(0.3); SELECT SLEEP(0.3)";
    myr_result *r = myr_query_sync(c, sql, strlen(sql), &err);
    assert_non_null(r);
    assert_int_equal(err.code, 0);
    size_t n = 0;
    for (myr_result *x = r; x != NULL; x = myr_result_next(x))
        n++;
    assert_int_equal(n, 4);
    myr_result_free(r);
    /* 3 s of silence: the connection is given up. */
    double t0 = now_ms();
    r = myr_query_sync(c, "SELECT SLEEP(3)", 15, &err);
    double ms = now_ms() - t0;
    printf("# SLEEP(3) with a 700 ms read timeout failed after %.1f ms\n", ms);
    assert_null(r);
    assert_int_equal(err.code, MYR_ETIMEDOUT);
    assert_int_equal(err.mysql_errno, 2013);
    assert_non_null(strstr(err.message, "read timeout"));
    assert_true(ms >= 690 && ms < 2500);
    assert_false(myr_conn_alive(c));
    assert_int_equal(myr_ping_sync(c, &err), MYR_EGONE);
    myr_conn_free(c);
}

/* A loopback listener nobody ever accepts on (backlog: the kernel completes
 * the TCP handshake, then no byte ever comes). Returns its fd; *port. */
static int silent_listener(int backlog, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, backlog), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static myr_conn_opts *opts_for_port(int port)
{
    myr_conn_opts *o = myr_conn_opts_new();
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_HOST, "127.0.0.1"), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PORT, port), 0);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_USER, "nobody"), 0);
    return o;
}

static double connect_fails(myr_conn_opts *o, int code, unsigned mysql_errno, const char *words)
{
    myr_error err;
    double t0 = now_ms();
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    double ms = now_ms() - t0;
    assert_null(c);
    assert_int_equal(err.code, code);
    assert_int_equal(err.mysql_errno, mysql_errno);
    if (strstr(err.message, words) == NULL)
        fail_msg("message '%s' lacks '%s'", err.message, words);
    return ms;
}

static void test_login_timeout(void **state)
{
    (void)state;
    int port;
    int l = silent_listener(64, &port);
    myr_conn_opts *o = opts_for_port(port);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_LOGIN_TIMEOUT, 300), 0);
    double ms = connect_fails(o, MYR_ETIMEDOUT, 2013, "login timeout");
    printf("# no greeting: login timeout of 300 ms after %.1f ms\n", ms);
    assert_true(ms >= 290 && ms < 3000);

    /* Several at once on one loop: each has its own deadline. */
    myr_loop *loop = myr_loop_new(NULL, NULL);
    myr_future *f[8];
    for (int i = 0; i < 8; i++)
        f[i] = myr_connect(loop, o);
    assert_int_equal(myr_gather(f, 8, 10000), 0);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(myr_future_status(f[i]), MYR_ETIMEDOUT);
        myr_future_free(f[i]);
    }
    myr_loop_free(loop);
    myr_conn_opts_free(o);
    close(l);
}

static void test_login_timeout_default(void **state)
{
    (void)state;
    int port;
    int l = silent_listener(64, &port);
    myr_conn_opts *o = opts_for_port(port);   /* no timeout set at all */
    double ms = connect_fails(o, MYR_ETIMEDOUT, 2013, "login timeout");
    printf("# no greeting, default login deadline: failed after %.1f ms\n", ms);
    assert_true(ms >= 9900 && ms < 20000);
    myr_conn_opts_free(o);
    close(l);
}

/* A listener whose accept queue is full: further SYNs are dropped, so a
 * connect hangs in the kernel until the connect timeout. */
static void test_connect_timeout(void **state)
{
    (void)state;
    int port;
    int l = silent_listener(0, &port);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fill[16], nfill = 0;
    for (; nfill < 16; nfill++) {   /* until one connect no longer completes */
        int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        assert_true(s >= 0);
        fill[nfill] = s;
        int rc = connect(s, (struct sockaddr *)&a, sizeof a);
        assert_true(rc == 0 || errno == EINPROGRESS);
        struct pollfd p = {.fd = s, .events = POLLOUT};
        if (rc != 0 && poll(&p, 1, 200) == 0) {
            nfill++;
            break;
        }
    }
    assert_true(nfill < 16);   /* the queue did fill up */
    myr_conn_opts *o = opts_for_port(port);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_CONNECT_TIMEOUT, 300), 0);
    double ms = connect_fails(o, MYR_ETIMEDOUT, 2003, "connect timeout");
    printf("# full accept queue: connect timeout of 300 ms after %.1f ms\n", ms);
    assert_true(ms >= 290 && ms < 3000);
    myr_conn_opts_free(o);
    for (int i = 0; i < nfill; i++)
        close(fill[i]);
    close(l);
}

static void test_options(void **state)
{
    (void)state;
    myr_conn_opts *o = myr_conn_opts_new();
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_QUERY_TIMEOUT, -1), MYR_EINVAL);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_LOGIN_TIMEOUT, -1), MYR_EINVAL);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_QUERY_TIMEOUT, 0), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_LOGIN_TIMEOUT, 0), 0);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_QUERY_TIMEOUT, "1"), MYR_EINVAL);
    myr_conn_opts_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_timeout),
        cmocka_unit_test(test_read_timeout_is_silence),
        cmocka_unit_test(test_login_timeout),
        cmocka_unit_test(test_login_timeout_default),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
