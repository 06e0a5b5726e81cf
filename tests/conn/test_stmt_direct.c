/* tests/conn/test_stmt_direct.c -- what myr_query_params puts on the wire,
 * seen by a scripted server (tests/common/fakesrv.c):
 *   - MariaDB 10.2+: COM_STMT_PREPARE and COM_STMT_EXECUTE with statement
 *     id 0xFFFFFFFF arrive in the same read, before the server answered
 *     anything (one round trip); the next call is an execute only, with
 *     the id the prepare returned;
 *   - a server without id -1 (a MySQL greeting): the prepare alone, the
 *     execute with the real id only after the prepare's answer, and a
 *     query queued after the call still comes after the execute;
 *   - that held execute canceled after the prepare left: it never leaves,
 *     and the query queued behind it does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fakesrv.h"
#include "internal.h"

#define WAIT_MS 5000
#define STMT_ID 7u

/* The answer to PREPARE "SELECT ? + 1": one parameter, one BIGINT column
 * (old-style EOFs: the fake server has no DEPRECATE_EOF). */
static void prepare_answer(fs_buf *b)
{
    uint8_t seq = 1;
    fs_buf p = {0};
    fs_buf_u8(&p, 0x00);
    fs_buf_u32(&p, STMT_ID);
    fs_buf_u16(&p, 1);   /* columns */
    fs_buf_u16(&p, 1);   /* parameters */
    fs_buf_u8(&p, 0);
    fs_buf_u16(&p, 0);
    fs_pkt(b, &seq, p.data, p.len);
    fs_buf_free(&p);
    fs_coldef(b, &seq, "?", 8);
    fs_eof(b, &seq, 0, FS_STATUS_AUTOCOMMIT);
    fs_coldef(b, &seq, "v", 8);
    fs_eof(b, &seq, 0, FS_STATUS_AUTOCOMMIT);
}

/* A binary result: one BIGINT row holding v. */
static void execute_answer(fs_buf *b, int64_t v)
{
    uint8_t seq = 1;
    fs_colcount(b, &seq, 1);
    fs_coldef(b, &seq, "v", 8);
    fs_eof(b, &seq, 0, FS_STATUS_AUTOCOMMIT);
    fs_buf p = {0};
    fs_buf_u8(&p, 0x00);
    fs_buf_u8(&p, 0x00);   /* NULL bitmap (offset 2) */
    for (int i = 0; i < 8; i++)
        fs_buf_u8(&p, (uint8_t)((uint64_t)v >> (8 * i)));
    fs_pkt(b, &seq, p.data, p.len);
    fs_buf_free(&p);
    fs_eof(b, &seq, 0, FS_STATUS_AUTOCOMMIT);
}

static uint32_t stmt_id_of(const fakesrv *s, size_t i)
{
    size_t len;
    const uint8_t *p = fs_packet(s, i, &len);
    assert_true(len >= 5);
    return (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 24;
}

static void call(myr_conn *c, int64_t in, const char *want)
{
    myr_param p = myr_param_i64(in);
    myr_future *f = myr_query_params(c, "SELECT ? + 1", 12, &p, 1);
    assert_int_equal(myr_await(f, WAIT_MS), 0);
    myr_result *r = myr_future_take_result(f);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), want);
    myr_result_free(r);
    myr_future_free(f);
}

static void test_one_round_trip(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    /* No CLIENT_LONG_PASSWORD: a MariaDB greeting ("5.5.5-10.11.6-MariaDB"). */
    fs_script_handshake(s, FS_CAPS_DEFAULT & ~1u, "mysql_native_password", fs_scramble_a);
    fs_expect(s, 0, 0x16);   /* both before any answer: else the script blocks */
    fs_expect(s, 0, 0x17);
    fs_buf b = {0};
    prepare_answer(&b);
    execute_answer(&b, 42);
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x17);   /* the second call: no prepare */
    execute_answer(&b, 8);
    fs_send_buf(s, &b);
    fs_drain(s);
    myr_loop *loop = fs_loop();
    myr_conn *c = fs_connect_ok(loop, s, NULL, WAIT_MS);
    assert_int_equal(c->direct_exec, 1);
    call(c, 41, "42");
    call(c, 7, "8");
    myr_conn_free(c);
    myr_loop_free(loop);
    assert_int_equal(fs_join_timeout(s, WAIT_MS), 0);
    /* Packets: login, prepare, execute, execute. */
    assert_int_equal(fs_npackets(s), 4);
    assert_int_equal(fs_packet_read_no(s, 1), fs_packet_read_no(s, 2));   /* one send */
    assert_int_equal(stmt_id_of(s, 2), 0xFFFFFFFFu);
    assert_int_equal(stmt_id_of(s, 3), STMT_ID);
    fs_free(s);
}

static void test_two_round_trips_in_order(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);   /* MySQL-like */
    fs_expect(s, 0, 0x16);   /* the prepare alone: the execute needs its id */
    fs_buf b = {0};
    prepare_answer(&b);
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x17);   /* then the execute ... */
    fs_expect(s, 0, 0x03);   /* ... and only after it the query queued behind it */
    execute_answer(&b, 42);
    uint8_t seq = 1;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    fs_send_buf(s, &b);
    fs_drain(s);
    myr_loop *loop = fs_loop();
    myr_conn *c = fs_connect_ok(loop, s, NULL, WAIT_MS);
    assert_int_equal(c->direct_exec, 0);
    myr_param p = myr_param_i64(41);
    myr_future *f = myr_query_params(c, "SELECT ? + 1", 12, &p, 1);
    myr_future *q = myr_query(c, "DO 1", 4);
    assert_int_equal(myr_await(q, WAIT_MS), 0);
    assert_true(myr_future_done(f));   /* in order */
    assert_int_equal(myr_future_status(f), 0);
    myr_result *r = myr_future_take_result(f);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "42");
    myr_result_free(r);
    myr_future_free(f);
    myr_future_free(q);
    myr_conn_free(c);
    myr_loop_free(loop);
    assert_int_equal(fs_join_timeout(s, WAIT_MS), 0);
    assert_int_equal(fs_npackets(s), 4);
    assert_int_equal(stmt_id_of(s, 2), STMT_ID);
    fs_free(s);
}

static void test_cancel_held(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_expect(s, 0, 0x16);   /* the prepare */
    fs_expect(s, 0, 0x03);   /* the query: the canceled execute never comes */
    fs_buf b = {0};
    prepare_answer(&b);
    uint8_t seq = 1;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    fs_send_buf(s, &b);
    fs_drain(s);
    myr_loop *loop = fs_loop();
    myr_conn *c = fs_connect_ok(loop, s, NULL, WAIT_MS);
    myr_param p = myr_param_i64(41);
    myr_future *f = myr_query_params(c, "SELECT ? + 1", 12, &p, 1);
    myr_future *q = myr_query(c, "DO 1", 4);
    /* One tick: the prepare leaves, the execute and the query wait. */
    assert_true(myr_loop_run_once(loop, 0) >= 0);
    assert_true(c->sent_pos > 0 && myr__buf_unread(&c->out) > 0);
    assert_int_equal(myr_cancel(f), 0);
    assert_int_equal(myr_await(q, WAIT_MS), 0);
    assert_int_equal(myr_await(f, WAIT_MS), MYR_ECANCELED);
    myr_future_free(f);
    myr_future_free(q);
    assert_int_equal(c->nheld, 0);
    myr_conn_free(c);
    myr_loop_free(loop);
    assert_int_equal(fs_join_timeout(s, WAIT_MS), 0);
    assert_int_equal(fs_npackets(s), 3);
    fs_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_round_trip),
        cmocka_unit_test(test_two_round_trips_in_order),
        cmocka_unit_test(test_cancel_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
