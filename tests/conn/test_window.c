/* tests/conn/test_window.c -- the pipelining window (src/conn_cmd.c,
 * MYR_OPT_PIPELINE_REFILL). The test thread plays the server on the other
 * end of a socketpair, one step at a time, so what the client has sent at
 * each point is known exactly: with the default window, a command queued
 * while sent ones still await their responses is held until they are all
 * answered; with refill -1 it leaves at once. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "fakesrv.h"
#include "internal.h"

#define WAIT_MS 5000

typedef struct srv {
    int fd;           /* the server's end */
    uint8_t seqs[8];  /* sequence ids of the packets of the last srv_read_packets */
    uint8_t in[4096];
    size_t len;       /* bytes read and not yet consumed */
} srv;

/* Run the client's loop and read what reaches the server until it holds
 * `want` whole packets (or WAIT_MS passes: the test fails). Returns the
 * number of packets, consuming them. */
static int srv_read_packets(srv *s, myr_loop *loop, int want, uint8_t *first_bytes)
{
    int got = 0;
    for (int rounds = 0; got < want && rounds < WAIT_MS / 10; rounds++) {
        assert_true(myr_loop_run_once(loop, 0) >= 0);
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 10) == 1) {
            ssize_t n = read(s->fd, s->in + s->len, sizeof s->in - s->len);
            assert_true(n > 0);
            s->len += (size_t)n;
        }
        while (got < want && s->len >= 4 && s->len >= 4 + (size_t)(s->in[0] | s->in[1] << 8 | s->in[2] << 16)) {
            size_t plen = (size_t)(s->in[0] | s->in[1] << 8 | s->in[2] << 16);
            if (first_bytes)
                first_bytes[got] = plen ? s->in[4] : 0;
            if (got < 8)
                s->seqs[got] = s->in[3];
            got++;
            memmove(s->in, s->in + 4 + plen, s->len - 4 - plen);
            s->len -= 4 + plen;
        }
    }
    return got;
}

/* Nothing reaches the server while the loop runs for ms (bounded check of
 * an absence: there is no event to wait for). */
static void srv_expect_quiet(srv *s, myr_loop *loop, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        assert_true(myr_loop_run_once(loop, 0) >= 0);
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        assert_int_equal(poll(&p, 1, 10), 0);
    }
}

static void srv_write(srv *s, fs_buf *b)
{
    assert_int_equal(write(s->fd, b->data, b->len), (ssize_t)b->len);
    b->len = 0;
}

/* The handshake, played by hand; returns the client's connection. */
static myr_conn *connect_by_hand(myr_loop *loop, srv *s, int refill)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    s->fd = sv[0];
    s->len = 0;
    myr_conn_opts *o = fs_opts("bob", "secret");
    if (refill != 0)
        assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PIPELINE_REFILL, refill), 0);
    myr_future *cf = myr__connect_fd(loop, o, sv[1]);
    myr_conn_opts_free(o);
    assert_non_null(cf);
    fs_buf b = {0};
    uint8_t seq = 0;
    fs_greeting(&b, &seq, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a, 7);
    srv_write(s, &b);
    assert_int_equal(srv_read_packets(s, loop, 1, NULL), 1);   /* the login */
    seq = 2;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    srv_write(s, &b);
    assert_int_equal(myr_await(cf, WAIT_MS), 0);
    myr_conn *c = myr_future_take_conn(cf);
    assert_non_null(c);
    myr_future_free(cf);
    fs_buf_free(&b);
    return c;
}

static void srv_answer_ok(srv *s, uint64_t affected)
{
    fs_buf b = {0};
    uint8_t seq = 1;
    fs_ok(&b, &seq, affected, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    srv_write(s, &b);
    fs_buf_free(&b);
}

/* A second connection on the loop with a command in flight: the window
 * applies only while a connection is not alone with commands in flight. */
typedef struct other {
    srv s;
    myr_conn *c;
    myr_future *f;
} other;

static void other_busy(myr_loop *loop, other *o)
{
    o->c = connect_by_hand(loop, &o->s, 0);
    o->f = myr_query(o->c, "DO 0", 4);
    assert_int_equal(srv_read_packets(&o->s, loop, 1, NULL), 1);
}

static void other_done(myr_loop *loop, other *o)
{
    (void)loop;
    srv_answer_ok(&o->s, 0);
    assert_int_equal(myr_await(o->f, WAIT_MS), 0);
    myr_future_free(o->f);
    myr_conn_free(o->c);
    close(o->s.fd);
}

static void run_window(int refill)
{
    myr_loop *loop = fs_loop();
    other o;
    other_busy(loop, &o);
    srv s;
    myr_conn *c = connect_by_hand(loop, &s, refill);

    /* Two queries queued before a tick leave together. */
    myr_future *f1 = myr_query(c, "DO 1", 4), *f2 = myr_query(c, "DO 2", 4);
    uint8_t first[4];
    assert_int_equal(srv_read_packets(&s, loop, 2, first), 2);
    assert_int_equal(first[0], 0x03);
    assert_int_equal(first[1], 0x03);

    /* One answer: the first resolves; a third query is queued while the
     * second still awaits its response. */
    srv_answer_ok(&s, 1);
    assert_int_equal(myr_await(f1, WAIT_MS), 0);
    assert_false(myr_future_done(f2));
    myr_future *f3 = myr_query(c, "DO 3", 4);
    if (refill == 0) {
        /* Held: nothing leaves until the window has drained. */
        srv_expect_quiet(&s, loop, 200);
        assert_true(myr__buf_unread(&c->out) > 0);
        assert_int_equal(c->awaiting, 1);
        srv_answer_ok(&s, 2);
        assert_int_equal(myr_await(f2, WAIT_MS), 0);
        assert_int_equal(srv_read_packets(&s, loop, 1, first), 1);   /* now it goes */
    } else {
        /* Eager: it goes while the second is still unanswered. */
        assert_int_equal(srv_read_packets(&s, loop, 1, first), 1);
        assert_false(myr_future_done(f2));
        srv_answer_ok(&s, 2);
        assert_int_equal(myr_await(f2, WAIT_MS), 0);
    }
    assert_int_equal(first[0], 0x03);
    srv_answer_ok(&s, 3);
    assert_int_equal(myr_await(f3, WAIT_MS), 0);
    myr_future *fs[3] = {f1, f2, f3};
    for (int i = 0; i < 3; i++) {
        myr_result *r = myr_future_take_result(fs[i]);
        assert_non_null(r);
        assert_int_equal(myr_result_affected_rows(r), (uint64_t)(i + 1));   /* each its own answer */
        myr_result_free(r);
        myr_future_free(fs[i]);
    }
    other_done(loop, &o);
    myr_conn_free(c);
    close(s.fd);
    myr_loop_free(loop);
}

static void test_window_holds_until_drained(void **state)
{
    (void)state;
    run_window(0);
}

static void test_window_eager(void **state)
{
    (void)state;
    run_window(-1);
}

/* refill 1: a command queued while one other awaits its answer leaves. */
static void test_window_refill_one(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    other o;
    other_busy(loop, &o);
    srv s;
    myr_conn *c = connect_by_hand(loop, &s, 1);
    myr_future *f1 = myr_query(c, "DO 1", 4), *f2 = myr_query(c, "DO 2", 4);
    assert_int_equal(srv_read_packets(&s, loop, 2, NULL), 2);
    myr_future *f3 = myr_query(c, "DO 3", 4);
    srv_expect_quiet(&s, loop, 100);   /* two await their answers: held */
    srv_answer_ok(&s, 1);
    assert_int_equal(myr_await(f1, WAIT_MS), 0);
    assert_int_equal(srv_read_packets(&s, loop, 1, NULL), 1);   /* one awaits: it goes */
    assert_false(myr_future_done(f2));
    srv_answer_ok(&s, 2);
    srv_answer_ok(&s, 3);
    myr_future *fs[3] = {f1, f2, f3};
    assert_int_equal(myr_gather(fs, 3, WAIT_MS), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(myr_future_status(fs[i]), 0);
        myr_future_free(fs[i]);
    }
    other_done(loop, &o);
    myr_conn_free(c);
    close(s.fd);
    myr_loop_free(loop);
}

/* Alone with commands in flight on its loop, a connection is not held:
 * nothing to be fair to, and its pipeline stays full. As soon as another
 * connection has commands in flight, the window applies again. */
static void test_window_alone_stays_full(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    srv s;
    myr_conn *c = connect_by_hand(loop, &s, 0);
    myr_future *f1 = myr_query(c, "DO 1", 4), *f2 = myr_query(c, "DO 2", 4);
    assert_int_equal(srv_read_packets(&s, loop, 2, NULL), 2);
    assert_int_equal(loop->busy_conns, 1);
    myr_future *f3 = myr_query(c, "DO 3", 4);
    assert_int_equal(srv_read_packets(&s, loop, 1, NULL), 1);   /* leaves at once */
    other o;
    other_busy(loop, &o);   /* now two connections are busy */
    assert_int_equal(loop->busy_conns, 2);
    myr_future *f4 = myr_query(c, "DO 4", 4);
    srv_expect_quiet(&s, loop, 100);   /* held behind the three in flight */
    for (int i = 1; i <= 3; i++)
        srv_answer_ok(&s, (uint64_t)i);
    myr_future *fs[3] = {f1, f2, f3};
    assert_int_equal(myr_gather(fs, 3, WAIT_MS), 0);
    assert_int_equal(srv_read_packets(&s, loop, 1, NULL), 1);   /* drained: it goes */
    srv_answer_ok(&s, 4);
    assert_int_equal(myr_await(f4, WAIT_MS), 0);
    other_done(loop, &o);
    assert_int_equal(loop->busy_conns, 0);
    for (int i = 0; i < 3; i++)
        myr_future_free(fs[i]);
    myr_future_free(f4);
    myr_conn_free(c);
    close(s.fd);
    myr_loop_free(loop);
}

/* The server asks for a local file (we never offer one): the empty-file
 * answer leaves at once, before a command held behind it, and the
 * command's OK then ends it. */
static void test_local_infile_answer_goes_first(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    other o;
    other_busy(loop, &o);   /* so that the window holds the second query */
    srv s;
    myr_conn *c = connect_by_hand(loop, &s, 0);
    myr_future *f1 = myr_query(c, "LOAD DATA LOCAL INFILE 'x' INTO TABLE t", 39);
    assert_int_equal(srv_read_packets(&s, loop, 1, NULL), 1);
    myr_future *f2 = myr_query(c, "DO 2", 4);   /* held: f1 awaits its answer */
    fs_buf b = {0};
    uint8_t seq = 1;
    fs_pkt(&b, &seq, "\xfb" "x", 2);
    srv_write(&s, &b);
    /* The empty file (length 0, sequence id 2) comes first: the window
     * does not hold it. (The held query may come right behind it: it is
     * behind the file's end, so that is ordinary pipelining.) */
    uint8_t first[2];
    assert_int_equal(srv_read_packets(&s, loop, 1, first), 1);
    assert_int_equal(first[0], 0);
    assert_int_equal(s.seqs[0], 2);
    assert_false(myr_future_done(f2));
    seq = 3;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    srv_write(&s, &b);
    assert_int_equal(myr_await(f1, WAIT_MS), 0);
    assert_int_equal(srv_read_packets(&s, loop, 1, first), 1);   /* the held one */
    assert_int_equal(first[0], 0x03);
    assert_int_equal(s.seqs[0], 0);
    srv_answer_ok(&s, 2);
    assert_int_equal(myr_await(f2, WAIT_MS), 0);
    fs_buf_free(&b);
    myr_future_free(f1);
    myr_future_free(f2);
    other_done(loop, &o);
    myr_conn_free(c);
    close(s.fd);
    myr_loop_free(loop);
}

/* A command on a NULL connection is a future that has already failed. */
static void test_null_connection(void **state)
{
    (void)state;
    myr_future *f = myr_query(NULL, "SELECT 1", 8);
    assert_non_null(f);
    assert_true(myr_future_done(f));
    assert_int_equal(myr_future_status(f), MYR_EINVAL);
    assert_int_equal(myr_future_error(f)->code, MYR_EINVAL);
    assert_true(strlen(myr_future_error(f)->message) > 0);
    assert_int_equal(myr_await(f, 0), MYR_EINVAL);
    myr_future_free(f);
    myr_error err;
    assert_null(myr_query_sync(NULL, "SELECT 1", 8, &err));
    assert_int_equal(err.code, MYR_EINVAL);
    assert_int_equal(myr_ping_sync(NULL, &err), MYR_EINVAL);
    assert_int_equal(err.code, MYR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_holds_until_drained),
        cmocka_unit_test(test_window_eager),
        cmocka_unit_test(test_window_refill_one),
        cmocka_unit_test(test_window_alone_stays_full),
        cmocka_unit_test(test_local_infile_answer_goes_first),
        cmocka_unit_test(test_null_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
