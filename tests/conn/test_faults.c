/* tests/conn/test_faults.c -- broken servers: malformed packets, death in
 * the middle of a result, silence (read timeout). Every pending future
 * resolves once with the right error, the connection reports dead, and
 * later commands fail at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "fakesrv.h"
#include "internal.h"

#define WAIT_MS 5000

/* The connection is dead: a new command fails before any I/O with 2006. */
static void assert_gone(myr_conn *c)
{
    assert_int_equal(myr_conn_alive(c), 0);
    myr_future *f = myr_query(c, "SELECT 1", 8);
    assert_non_null(f);
    assert_true(myr_future_done(f));
    assert_int_equal(myr_future_status(f), MYR_EGONE);
    assert_int_equal(myr_future_error(f)->mysql_errno, 2006);
    myr_future_free(f);
    f = myr_ping(c);
    assert_true(myr_future_done(f));
    assert_int_equal(myr_future_error(f)->mysql_errno, 2006);
    myr_future_free(f);
}

/* ---------------------------------------------------- malformed handshakes */

static void connect_malformed(const uint8_t *payload, size_t len, uint8_t seq)
{
    fakesrv *s = fs_new();
    fs_buf b = {0};
    fs_pkt(&b, &seq, payload, len);
    fs_send_buf(s, &b);
    fs_drain(s);
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    int n = 0;
    myr_future *cf = fs_connect(loop, o, s, &n);
    assert_int_not_equal(myr_await(cf, WAIT_MS), MYR_ETIMEDOUT);
    assert_int_equal(n, 1);
    assert_int_equal(myr_future_status(cf), MYR_EMALFORMED);
    assert_int_equal(myr_future_error(cf)->mysql_errno, 2027);
    assert_null(myr_future_take_conn(cf));
    assert_int_equal(fs_join(s), 0);   /* the client hung up */
    myr_future_free(cf);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
    fs_free(s);
}

static void test_garbage_greeting(void **state)
{
    (void)state;
    static const char junk[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    connect_malformed((const uint8_t *)junk, sizeof junk - 1, 0);
    /* A greeting cut short inside a whole packet. */
    fs_buf g = {0};
    uint8_t seq = 0;
    fs_greeting(&g, &seq, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a, 1);
    for (size_t n = 1; n < 40; n += 3)
        connect_malformed(g.data + 4, n, 0);
    /* A good greeting with a wrong sequence id. */
    connect_malformed(g.data + 4, g.len - 4, 1);
    fs_buf_free(&g);
}

/* ----------------------------------------------------- malformed responses */

/* Two queries pipelined; the first gets `resp` (bytes as sent, framed by the
 * caller). Both fail with 2027, the connection is dead. */
static void response_malformed(fs_buf *resp)
{
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_expect(s, 0, 0x03);
    fs_expect(s, 0, 0x03);
    fs_send_buf(s, resp);
    fs_drain(s);
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    myr_conn *c = fs_connect_ok(loop, s, o, WAIT_MS);
    int n1 = 0, n2 = 0;
    myr_future *f[2] = {myr_query(c, "SELECT a", 8), myr_query(c, "SELECT b", 8)};
    myr_future_on_done(f[0], fs_count_cb, &n1);
    myr_future_on_done(f[1], fs_count_cb, &n2);
    assert_int_equal(myr_gather(f, 2, WAIT_MS), 0);
    assert_int_equal(n1, 1);
    assert_int_equal(n2, 1);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(myr_future_status(f[i]), MYR_EMALFORMED);
        assert_int_equal(myr_future_error(f[i])->mysql_errno, 2027);
    }
    assert_gone(c);
    assert_int_equal(fs_join(s), 0);   /* the dead connection hung up */
    myr_conn_free(c);
    myr_future_free(f[0]);
    myr_future_free(f[1]);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
    fs_free(s);
}

static void test_wrong_sequence_id(void **state)
{
    (void)state;
    fs_buf b = {0};
    uint8_t seq = 2;   /* should be 1 */
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    response_malformed(&b);
    /* Right first packet, wrong one after it. */
    seq = 1;
    fs_colcount(&b, &seq, 1);
    seq = 1;
    fs_coldef(&b, &seq, "v", 253);
    response_malformed(&b);
}

static void test_truncated_column_definition(void **state)
{
    (void)state;
    fs_buf def = {0};
    uint8_t seq = 2;
    fs_coldef(&def, &seq, "name", 253);
    size_t plen = def.len - 4;
    /* Cut inside the strings and inside the fixed part. */
    size_t cuts[] = {0, 1, 5, plen - 12, plen - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        fs_buf b = {0};
        seq = 1;
        fs_colcount(&b, &seq, 1);
        fs_pkt(&b, &seq, def.data + 4, cuts[i]);
        response_malformed(&b);
    }
    fs_buf_free(&def);
}

static void test_row_with_trailing_junk(void **state)
{
    (void)state;
    fs_buf row = {0};
    uint8_t seq = 0;
    const char *vals[] = {"1", NULL};
    fs_row(&row, &seq, 2, vals, NULL);
    fs_buf_u8(&row, 'X');   /* one byte more than the fields use */
    /* The junk row first, then after a good row. */
    for (int good_first = 0; good_first <= 1; good_first++) {
        fs_buf b = {0};
        seq = 1;
        fs_colcount(&b, &seq, 2);
        fs_coldef(&b, &seq, "a", 253);
        fs_coldef(&b, &seq, "b", 253);
        fs_eof(&b, &seq, 0, FS_STATUS_AUTOCOMMIT);
        if (good_first)
            fs_row(&b, &seq, 2, vals, NULL);
        fs_pkt(&b, &seq, row.data + 4, row.len - 4);
        fs_eof(&b, &seq, 0, FS_STATUS_AUTOCOMMIT);
        response_malformed(&b);
    }
    /* Too few fields. */
    fs_buf b = {0};
    seq = 1;
    fs_colcount(&b, &seq, 2);
    fs_coldef(&b, &seq, "a", 253);
    fs_coldef(&b, &seq, "b", 253);
    fs_eof(&b, &seq, 0, FS_STATUS_AUTOCOMMIT);
    const char *one[] = {"1"};
    fs_row(&b, &seq, 1, one, NULL);
    fs_eof(&b, &seq, 0, FS_STATUS_AUTOCOMMIT);
    response_malformed(&b);
    fs_buf_free(&row);
}

static void test_absurd_column_count(void **state)
{
    (void)state;
    uint64_t counts[] = {5000, 1ull << 40, 0xFFFFFFFFFFFFFFFFull};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        fs_buf b = {0};
        uint8_t seq = 1;
        fs_colcount(&b, &seq, counts[i]);
        response_malformed(&b);
    }
}

/* ------------------------------------------------------- death mid-result */

static void test_server_dies_mid_result(void **state)
{
    (void)state;
    fs_buf hs = {0}, resp = {0};
    uint8_t seq = 0;
    fs_greeting(&hs, &seq, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a, 42);
    size_t greeting_len = hs.len;
    seq = 2;
    fs_ok(&hs, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    seq = 1;
    const char *cells[] = {"1", "2", "3"};
    static const char *const names[] = {"v"};
    fs_resultset(&resp, &seq, 0, 1, names, 3, cells, FS_STATUS_AUTOCOMMIT);

    /* Cut at several points of the first command's response. */
    size_t cuts[] = {0, 1, 4, 10, resp.len / 2, resp.len - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        fakesrv *s = fs_new();
        fs_set_cut(s, hs.len + cuts[k]);
        fs_send(s, hs.data, greeting_len);
        fs_expect(s, 1, -1);
        fs_send(s, hs.data + greeting_len, hs.len - greeting_len);
        for (int i = 0; i < 3; i++)
            fs_expect(s, 0, 0x03);
        fs_send(s, resp.data, resp.len);
        myr_loop *loop = fs_loop();
        myr_conn_opts *o = fs_opts("bob", "secret");
        myr_conn *c = fs_connect_ok(loop, s, o, WAIT_MS);
        int n[3] = {0};
        myr_future *f[3];
        for (int i = 0; i < 3; i++) {
            f[i] = myr_query(c, "SELECT v", 8);
            myr_future_on_done(f[i], fs_count_cb, &n[i]);
        }
        assert_int_equal(myr_gather(f, 3, WAIT_MS), 0);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(n[i], 1);
            assert_int_equal(myr_future_status(f[i]), MYR_ECONNLOST);
            assert_int_equal(myr_future_error(f[i])->mysql_errno, 2013);
        }
        assert_gone(c);
        fs_join(s);   /* ended by the cut */
        assert_int_equal(fs_npackets(s), 4);
        myr_conn_free(c);
        for (int i = 0; i < 3; i++)
            myr_future_free(f[i]);
        myr_conn_opts_free(o);
        myr_loop_free(loop);
        fs_free(s);
    }
    fs_buf_free(&hs);
    fs_buf_free(&resp);
}

/* ------------------------------------------------------------ read timeout */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_read_timeout(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_expect(s, 0, 0x03);
    fs_expect(s, 0, 0x0e);
    fs_expect_eof(s);   /* silence, until the client gives up and hangs up */
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_READ_TIMEOUT, 200), 0);
    myr_conn *c = fs_connect_ok(loop, s, o, WAIT_MS);
    int n1 = 0, n2 = 0;
    uint64_t t0 = now_ms();
    myr_future *f[2] = {myr_query(c, "SELECT SLEEP(100)", 17), myr_ping(c)};
    myr_future_on_done(f[0], fs_count_cb, &n1);
    myr_future_on_done(f[1], fs_count_cb, &n2);
    assert_int_equal(myr_gather(f, 2, WAIT_MS), 0);
    uint64_t dt = now_ms() - t0;
    assert_true(dt >= 150);   /* it did wait for the timeout */
    assert_int_equal(n1, 1);
    assert_int_equal(n2, 1);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(myr_future_status(f[i]), MYR_ETIMEDOUT);
        assert_int_equal(myr_future_error(f[i])->code, MYR_ETIMEDOUT);
        assert_int_equal(myr_future_error(f[i])->mysql_errno, 2013);
    }
    assert_gone(c);
    assert_int_equal(fs_join(s), 0);
    myr_conn_free(c);
    myr_future_free(f[0]);
    myr_future_free(f[1]);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
    fs_free(s);
}

/* An idle connection with a read timeout stays up past the timeout. */
static void test_read_timeout_idle(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_expect(s, 0, 0x0e);
    fs_buf b = {0};
    uint8_t seq = 1;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x01);
    fs_expect_eof(s);
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_READ_TIMEOUT, 100), 0);
    myr_conn *c = fs_connect_ok(loop, s, o, WAIT_MS);
    myr_future *sl = myr_sleep(loop, 250);
    assert_int_equal(myr_await(sl, WAIT_MS), 0);
    myr_future_free(sl);
    assert_true(myr_conn_alive(c));
    myr_future *p = myr_ping(c);
    assert_int_equal(myr_await(p, WAIT_MS), 0);
    myr_future_free(p);
    assert_int_equal(myr_close_sync(c, NULL), 0);
    assert_int_equal(fs_join(s), 0);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
    fs_free(s);
}

/* The server answers a query with nothing asked after it: the extra packet
 * is unsolicited; the connection ends with 2027. Then myr_close on a dead
 * connection still resolves its future. */
static void test_unsolicited_packet_then_close(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_expect(s, 0, 0x0e);
    fs_expect(s, 0, 0x0e);
    fs_buf b = {0};
    uint8_t seq = 1;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    seq = 1;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    seq = 1;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);   /* nobody asked */
    fs_send_buf(s, &b);
    fs_drain(s);
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    myr_conn *c = fs_connect_ok(loop, s, o, WAIT_MS);
    myr_future *f[2] = {myr_ping(c), myr_ping(c)};
    assert_int_equal(myr_gather(f, 2, WAIT_MS), 0);
    assert_int_equal(myr_future_status(f[0]), 0);
    assert_int_equal(myr_future_status(f[1]), 0);
    /* The third OK may arrive with the others or later: run until the
     * connection notices it. */
    for (int i = 0; i < 100 && myr_conn_alive(c); i++)
        myr_loop_run_once(loop, 50);
    assert_gone(c);
    int nc = 0;
    myr_future *cl = myr_close(c);
    assert_non_null(cl);
    myr_future_on_done(cl, fs_count_cb, &nc);
    assert_int_not_equal(myr_await(cl, WAIT_MS), MYR_ETIMEDOUT);
    assert_int_equal(nc, 1);
    assert_int_equal(fs_join(s), 0);
    myr_future_free(f[0]);
    myr_future_free(f[1]);
    myr_future_free(cl);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
    fs_free(s);
}

/* A ping whose OK says more results follow, then the server dies: the
 * ping fails with 2013 and what arrived for it is not leaked (ASan). */
static void test_ping_more_results_then_death(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_expect(s, 0, 0x0e);
    fs_buf b = {0};
    uint8_t seq = 1;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT | FS_STATUS_MORE_RESULTS, 0, "partial");
    fs_send_buf(s, &b);
    fs_close(s);
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    myr_conn *c = fs_connect_ok(loop, s, o, WAIT_MS);
    int n = 0;
    myr_future *p = myr_ping(c);
    myr_future_on_done(p, fs_count_cb, &n);
    assert_int_equal(myr_await(p, WAIT_MS), MYR_ECONNLOST);
    assert_int_equal(n, 1);
    assert_int_equal(myr_future_error(p)->mysql_errno, 2013);
    assert_null(myr_future_take_result(p));
    assert_gone(c);
    assert_int_equal(fs_join(s), 0);
    myr_conn_free(c);
    myr_future_free(p);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
    fs_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage_greeting),
        cmocka_unit_test(test_wrong_sequence_id),
        cmocka_unit_test(test_truncated_column_definition),
        cmocka_unit_test(test_row_with_trailing_junk),
        cmocka_unit_test(test_absurd_column_count),
        cmocka_unit_test(test_server_dies_mid_result),
        cmocka_unit_test(test_read_timeout),
        cmocka_unit_test(test_read_timeout_idle),
        cmocka_unit_test(test_unsolicited_packet_then_close),
        cmocka_unit_test(test_ping_more_results_then_death),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
