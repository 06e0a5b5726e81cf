/*
 * tests/uring/test_ops.c -- the engine's operations against real sockets:
 * send/recv, short sends, quiet sends (success without a CQE, failures
 * with one), socket+connect (TCP, refused, Unix), read, close, argument
 * errors that must queue nothing.
 */
#include "ur_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/un.h>
#include <time.h>

static void test_send_recv(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    tester *t = tester_new(l);
    int sv[2];
    sockpair(sv);
    char out[] = "hello, ring", in[64] = {0};
    assert_int_equal(ur_recv(&t->own, 1, sv[1], in, sizeof in, 0, NULL), 0);
    assert_int_equal(ur_send(&t->own, 2, sv[0], out, sizeof out, MSG_WAITALL, NULL), 0);
    assert_int_equal(t->own.inflight, 2);
    RUN_UNTIL(l, t->ncomp == 2);
    for (int i = 0; i < 2; i++)
        assert_int_equal(t->comp[i].res, (int)sizeof out);
    assert_string_equal(in, out);
    assert_int_equal(t->own.inflight, 0);
    /* recv on a closed peer: 0 (EOF). */
    close(sv[0]);
    assert_int_equal(ur_recv(&t->own, 3, sv[1], in, sizeof in, 0, NULL), 0);
    RUN_UNTIL(l, t->ncomp == 3);
    assert_int_equal(t->comp[2].tag, 3);
    assert_int_equal(t->comp[2].res, 0);
    close(sv[1]);
    ur_owner_release(&t->own);
    assert_int_equal(t->released, 1);
    ur_loop_free(l);
    free(t);
}

/* Without MSG_WAITALL a send into a small socket buffer completes short: the
 * engine reports the partial count and leaves the rest to the caller. */
static void test_short_send(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    tester *t = tester_new(l);
    int sv[2];
    sockpair(sv);
    int small = 4096;
    assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    size_t len = 1 << 20;
    char *big = malloc(len), *sink = malloc(len);
    memset(big, 'x', len);
    assert_int_equal(ur_send(&t->own, 1, sv[0], big, len, 0, NULL), 0);
    RUN_UNTIL(l, t->ncomp == 1);
    int sent = t->comp[0].res;
    assert_true(sent > 0);
    assert_true((size_t)sent < len);
    /* The peer gets exactly what was reported. */
    size_t got = 0;
    while (got < (size_t)sent) {
        ssize_t n = recv(sv[1], sink, len, MSG_DONTWAIT);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_int_equal(got, (size_t)sent);
    assert_int_equal(recv(sv[1], sink, len, MSG_DONTWAIT), -1);
    close(sv[0]);
    close(sv[1]);
    free(big);
    free(sink);
    ur_owner_release(&t->own);
    ur_loop_free(l);
    free(t);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A quiet send's success is reported with its length, the bytes arrive,
 * and it does not end a tick's wait: with a recv pending that never
 * completes, the tick waits its whole timeout, then reports the send. */
static void test_quiet_send(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    tester *t = tester_new(l);
    int sv[2], idle[2];
    sockpair(sv);
    sockpair(idle);
    char out[] = "quiet one", in[64] = {0}, never[8];
    assert_int_equal(ur_recv(&t->own, 1, sv[1], in, sizeof in, 0, NULL), 0);
    RUN_UNTIL(l, ur_loop_queued(l) == 0);
    assert_int_equal(ur_send_quiet(&t->own, 2, sv[0], out, sizeof out, 0, NULL), 0);
    RUN_UNTIL(l, t->ncomp == 2);
    for (int i = 0; i < 2; i++)
        assert_int_equal(t->comp[i].res, (int)sizeof out);
    assert_string_equal(in, out);
    assert_int_equal(t->own.inflight, 0);

    assert_int_equal(ur_recv(&t->own, 3, idle[0], never, sizeof never, 0, NULL), 0);
    assert_int_equal(ur_send_quiet(&t->own, 4, sv[0], out, sizeof out, 0, NULL), 0);
    uint64_t t0 = mono_ms();
    assert_int_equal(ur_loop_tick(l, 300000000LL), 1);   /* 300 ms: the send only */
    assert_true(mono_ms() - t0 >= 250);   /* its success did not end the wait */
    assert_int_equal(t->ncomp, 3);
    assert_int_equal(t->comp[2].tag, 4);
    assert_int_equal(t->comp[2].res, (int)sizeof out);
    assert_int_equal(recv(sv[1], in, sizeof in, MSG_DONTWAIT), (ssize_t)sizeof out);

    /* Released while a quiet send is queued: on_release once it is over. */
    assert_int_equal(ur_send_quiet(&t->own, 5, sv[0], out, sizeof out, 0, NULL), 0);
    ur_owner_release(&t->own);
    RUN_UNTIL(l, t->released == 1);
    assert_int_equal(t->own.inflight, 0);
    for (int i = 0; i < 2; i++) {
        close(sv[i]);
        close(idle[i]);
    }
    ur_loop_free(l);
    free(t);
}

/* A quiet send never waits for room: into a full socket buffer it fails at
 * once with -EAGAIN or the count that fit (the peer has exactly that); on
 * a socket shut down it fails with -EPIPE. */
static void test_quiet_send_fails(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    tester *t = tester_new(l);
    int sv[2];
    sockpair(sv);
    int small = 4096;
    assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    size_t len = 1 << 20;
    char *big = malloc(len), *sink = malloc(len);
    memset(big, 'q', len);
    assert_int_equal(ur_send_quiet(&t->own, 1, sv[0], big, len, 0, NULL), 0);
    RUN_UNTIL(l, t->ncomp == 1);
    int res = t->comp[0].res;
    assert_true(res == -EAGAIN || (res > 0 && (size_t)res < len));
    size_t got = 0;
    ssize_t n;
    while ((n = recv(sv[1], sink, len, MSG_DONTWAIT)) > 0)
        got += (size_t)n;
    assert_int_equal(got, res > 0 ? (size_t)res : 0);

    shutdown(sv[0], SHUT_WR);
    assert_int_equal(ur_send_quiet(&t->own, 2, sv[0], big, 16, MSG_NOSIGNAL, NULL), 0);
    RUN_UNTIL(l, t->ncomp == 2);
    assert_int_equal(t->comp[1].tag, 2);
    assert_int_equal(t->comp[1].res, -EPIPE);
    close(sv[0]);
    close(sv[1]);
    free(big);
    free(sink);
    ur_owner_release(&t->own);
    assert_int_equal(t->released, 1);
    ur_loop_free(l);
    free(t);
}

/* socket via the ring, then connect. */
static int ring_socket(ur_loop *l, tester *t, int domain)
{
    int n = t->ncomp;
    assert_int_equal(ur_socket(&t->own, 10, domain, SOCK_STREAM | SOCK_CLOEXEC, 0, NULL), 0);
    RUN_UNTIL(l, t->ncomp == n + 1);
    assert_int_equal(t->comp[n].tag, 10);
    assert_true(t->comp[n].res >= 0);
    return t->comp[n].res;
}

static int ring_connect(ur_loop *l, tester *t, int fd, const struct sockaddr *sa, socklen_t len)
{
    int n = t->ncomp;
    struct sockaddr_storage copy;
    memcpy(&copy, sa, len);
    assert_int_equal(ur_connect(&t->own, 11, fd, (struct sockaddr *)&copy, len, NULL), 0);
    memset(&copy, 0xff, sizeof copy);   /* the engine must have copied it */
    RUN_UNTIL(l, t->ncomp == n + 1);
    assert_int_equal(t->comp[n].tag, 11);
    return t->comp[n].res;
}

static void test_connect_tcp(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    tester *t = tester_new(l);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 8), 0);
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &alen), 0);

    int fd = ring_socket(l, t, AF_INET);
    assert_int_equal(ring_connect(l, t, fd, (struct sockaddr *)&a, sizeof a), 0);
    int as = accept(ls, NULL, NULL);
    assert_true(as >= 0);
    /* Close via the ring; the peer then sees EOF. */
    assert_int_equal(ur_close(&t->own, 12, fd, NULL), 0);
    RUN_UNTIL(l, t->ncomp == 3);
    assert_int_equal(t->comp[2].res, 0);
    char c;
    assert_int_equal(recv(as, &c, 1, 0), 0);
    close(as);

    /* A port nobody listens on: bind one, learn its number, close it. */
    int tmp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in b = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t blen = sizeof b;
    assert_int_equal(bind(tmp, (struct sockaddr *)&b, sizeof b), 0);
    assert_int_equal(getsockname(tmp, (struct sockaddr *)&b, &blen), 0);
    close(tmp);
    fd = ring_socket(l, t, AF_INET);
    assert_int_equal(ring_connect(l, t, fd, (struct sockaddr *)&b, sizeof b), -ECONNREFUSED);
    close(fd);
    close(ls);
    ur_owner_release(&t->own);
    ur_loop_free(l);
    free(t);
}

static void test_connect_unix(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    tester *t = tester_new(l);
    struct sockaddr_un u = {.sun_family = AF_UNIX};
    snprintf(u.sun_path, sizeof u.sun_path, "/tmp/myring-ur-test-%d.sock", (int)getpid());
    unlink(u.sun_path);
    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(bind(ls, (struct sockaddr *)&u, sizeof u), 0);
    assert_int_equal(listen(ls, 8), 0);

    int fd = ring_socket(l, t, AF_UNIX);
    assert_int_equal(ring_connect(l, t, fd, (struct sockaddr *)&u, sizeof u), 0);
    int as = accept(ls, NULL, NULL);
    assert_true(as >= 0);
    assert_int_equal(write(as, "ok", 2), 2);
    char in[4] = {0};
    assert_int_equal(ur_recv(&t->own, 5, fd, in, sizeof in, 0, NULL), 0);
    RUN_UNTIL(l, t->ncomp == 3);
    assert_int_equal(t->comp[2].res, 2);
    assert_string_equal(in, "ok");

    /* No such path. */
    int fd2 = ring_socket(l, t, AF_UNIX);
    struct sockaddr_un none = {.sun_family = AF_UNIX};
    snprintf(none.sun_path, sizeof none.sun_path, "/tmp/myring-ur-none-%d.sock", (int)getpid());
    assert_int_equal(ring_connect(l, t, fd2, (struct sockaddr *)&none, sizeof none), -ENOENT);
    close(fd2);
    close(fd);
    close(as);
    close(ls);
    unlink(u.sun_path);
    ur_owner_release(&t->own);
    ur_loop_free(l);
    free(t);
}

static void test_read_pipe_and_errors(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    tester *t = tester_new(l);
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    char buf[8] = {0};
    uint64_t id = 0;
    assert_int_equal(ur_read(&t->own, 7, p[0], buf, sizeof buf, &id), 0);
    assert_true(id != 0);
    assert_int_equal(ur_loop_queued(l), 1);
    assert_int_equal(write(p[1], "abc", 3), 3);
    RUN_UNTIL(l, t->ncomp == 1);
    assert_int_equal(t->comp[0].res, 3);
    assert_memory_equal(buf, "abc", 3);

    /* Bad arguments queue nothing. */
    struct sockaddr_storage ss;
    assert_int_equal(ur_connect(&t->own, 1, p[0], NULL, 16, NULL), -EINVAL);
    assert_int_equal(ur_connect(&t->own, 1, p[0], (struct sockaddr *)&ss, sizeof ss + 1, NULL), -EINVAL);
    assert_int_equal(ur_loop_queued(l), 0);
    assert_int_equal(t->own.inflight, 0);
    /* An op on a bad fd completes with -EBADF. */
    assert_int_equal(ur_recv(&t->own, 8, 9999, buf, sizeof buf, 0, NULL), 0);
    RUN_UNTIL(l, t->ncomp == 2);
    assert_int_equal(t->comp[1].res, -EBADF);
    close(p[0]);
    close(p[1]);
    ur_owner_release(&t->own);
    ur_loop_free(l);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_recv),
        cmocka_unit_test(test_short_send),
        cmocka_unit_test(test_quiet_send),
        cmocka_unit_test(test_quiet_send_fails),
        cmocka_unit_test(test_connect_tcp),
        cmocka_unit_test(test_connect_unix),
        cmocka_unit_test(test_read_pipe_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
