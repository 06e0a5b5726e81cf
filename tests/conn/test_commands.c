/* tests/conn/test_commands.c -- commands on a READY connection against a
 * scripted fake server: pipelining, closing with queued commands, multiple
 * results, values larger than one frame. */
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

/* Resolution bookkeeping: each future records its index in `order`. */
typedef struct tracker {
    int order[16];
    int n;
    int count[16];
} tracker;

typedef struct track_arg {
    tracker *t;
    int idx;
} track_arg;

static void track_cb(myr_future *f, void *arg)
{
    (void)f;
    track_arg *a = arg;
    a->t->count[a->idx]++;
    a->t->order[a->t->n++] = a->idx;
}

static const char *const cols1[] = {"v"};

static void test_pipeline_five(void **state)
{
    (void)state;
    int deprecate_eof = 0;
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    for (int i = 0; i < 5; i++)
        fs_expect(s, 0, 0x03);
    fs_buf b = {0};
    uint8_t seq = 1;
    fs_ok(&b, &seq, 1, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    seq = 1;
    fs_err(&b, &seq, 1146, "42S02", "Table 'db.nope' doesn't exist");
    seq = 1;
    const char *rs1[] = {"a", "b"};
    fs_resultset(&b, &seq, deprecate_eof, 1, cols1, 2, rs1, FS_STATUS_AUTOCOMMIT);
    seq = 1;
    fs_ok(&b, &seq, 4, 99, FS_STATUS_AUTOCOMMIT, 0, NULL);
    seq = 1;
    const char *rs2[] = {"z"};
    fs_resultset(&b, &seq, deprecate_eof, 1, cols1, 1, rs2, FS_STATUS_AUTOCOMMIT);
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x01);
    fs_expect_eof(s);

    myr_loop *loop = fs_loop();
    myr_conn *c = fs_connect_ok(loop, s, NULL, WAIT_MS);
    static const char *const sql[5] = {"DO 1", "SELECT * FROM nope", "SELECT v", "UPDATE t SET v=1",
                                       "SELECT 'z'"};
    myr_future *f[5];
    tracker t = {0};
    track_arg args[5];
    for (int i = 0; i < 5; i++) {
        f[i] = myr_query(c, sql[i], strlen(sql[i]));
        assert_non_null(f[i]);
        assert_false(myr_future_done(f[i]));
        args[i] = (track_arg){&t, i};
        myr_future_on_done(f[i], track_cb, &args[i]);
    }
    assert_int_equal(myr_gather(f, 5, WAIT_MS), 0);
    assert_int_equal(t.n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(t.order[i], i);
        assert_int_equal(t.count[i], 1);
    }

    /* 0: OK */
    assert_int_equal(myr_future_status(f[0]), 0);
    myr_result *r = myr_future_take_result(f[0]);
    assert_non_null(r);
    assert_int_equal(myr_result_affected_rows(r), 1);
    myr_result_free(r);
    /* 1: its own error */
    assert_int_equal(myr_future_status(f[1]), MYR_ESERVER);
    const myr_error *e = myr_future_error(f[1]);
    assert_int_equal(e->mysql_errno, 1146);
    assert_string_equal(e->sqlstate, "42S02");
    assert_string_equal(e->message, "Table 'db.nope' doesn't exist");
    /* 2: two rows */
    assert_int_equal(myr_future_status(f[2]), 0);
    r = myr_future_take_result(f[2]);
    assert_int_equal(myr_result_row_count(r), 2);
    assert_string_equal(myr_result_value(r, 1, 0, NULL), "b");
    myr_result_free(r);
    /* 3: OK */
    r = myr_future_take_result(f[3]);
    assert_non_null(r);
    assert_int_equal(myr_result_affected_rows(r), 4);
    assert_int_equal(myr_result_insert_id(r), 99);
    myr_result_free(r);
    /* 4: one row */
    r = myr_future_take_result(f[4]);
    assert_non_null(r);
    assert_int_equal(myr_result_row_count(r), 1);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "z");
    myr_result_free(r);
    assert_true(myr_conn_alive(c));   /* an ERR does not end the connection */

    assert_int_equal(myr_close_sync(c, NULL), 0);
    assert_int_equal(fs_join(s), 0);
    /* All five arrived before any answer (the script), in one read, each
     * carrying its own SQL. Packet 0 is the login. */
    assert_int_equal(fs_npackets(s), 7);
    for (size_t i = 1; i <= 5; i++) {
        size_t len;
        const uint8_t *p = fs_packet(s, i, &len);
        assert_int_equal(len, 1 + strlen(sql[i - 1]));
        assert_memory_equal(p + 1, sql[i - 1], len - 1);
        assert_int_equal(fs_packet_read_no(s, i), fs_packet_read_no(s, 1));
    }
    for (int i = 0; i < 5; i++)
        myr_future_free(f[i]);
    myr_loop_free(loop);
    fs_free(s);
}

/* myr_conn_free: commands in flight and commands not yet sent all resolve
 * with MYR_ECLOSED, once, during the call; their callbacks run from the
 * loop afterwards (never inside myr_conn_free). */
static void test_conn_free_with_queued(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    for (int i = 0; i < 3; i++)
        fs_expect(s, 0, 0x03);
    fs_buf b = {0};
    uint8_t seq = 1;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);   /* answers the first only */
    fs_send_buf(s, &b);
    fs_drain(s);

    myr_loop *loop = fs_loop();
    myr_conn *c = fs_connect_ok(loop, s, NULL, WAIT_MS);
    tracker t = {0};
    track_arg args[4];
    myr_future *f[4];
    for (int i = 0; i < 3; i++) {
        f[i] = myr_query(c, "DO 1", 4);
        args[i] = (track_arg){&t, i};
        myr_future_on_done(f[i], track_cb, &args[i]);
    }
    assert_int_equal(myr_await(f[0], WAIT_MS), 0);
    assert_int_equal(t.n, 1);
    f[3] = myr_query(c, "DO 2", 4);   /* queued, never sent */
    args[3] = (track_arg){&t, 3};
    myr_future_on_done(f[3], track_cb, &args[3]);
    myr_conn_free(c);
    assert_int_equal(t.n, 1);
    for (int i = 1; i < 4; i++)
        assert_int_equal(myr_future_status(f[i]), MYR_ECLOSED);
    assert_true(myr_loop_run_once(loop, 0) >= 0);
    assert_int_equal(t.n, 4);
    for (int i = 1; i < 4; i++) {
        assert_int_equal(t.order[i], i);
        assert_int_equal(t.count[i], 1);
        assert_true(myr_future_done(f[i]));
        assert_int_equal(myr_future_status(f[i]), MYR_ECLOSED);
        assert_int_equal(myr_future_error(f[i])->code, MYR_ECLOSED);
    }
    /* Run the loop a little: nothing resolves twice. */
    myr_future *sl = myr_sleep(loop, 20);
    assert_int_equal(myr_await(sl, WAIT_MS), 0);
    myr_future_free(sl);
    assert_int_equal(t.n, 4);
    assert_int_equal(fs_join(s), 0);
    for (int i = 0; i < 4; i++)
        myr_future_free(f[i]);
    myr_loop_free(loop);
    fs_free(s);
}

/* myr_close after a query: the query gets its answer, COM_QUIT follows it,
 * the close future resolves after the query's. */
static void test_close_after_query(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_expect(s, 0, 0x03);
    fs_buf b = {0};
    uint8_t seq = 1;
    const char *cells[] = {"42"};
    fs_resultset(&b, &seq, 0, 1, cols1, 1, cells, FS_STATUS_AUTOCOMMIT);
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x01);
    fs_expect_eof(s);

    myr_loop *loop = fs_loop();
    myr_conn *c = fs_connect_ok(loop, s, NULL, WAIT_MS);
    tracker t = {0};
    track_arg a0 = {&t, 0}, a1 = {&t, 1};
    myr_future *q = myr_query(c, "SELECT 42", 9);
    myr_future_on_done(q, track_cb, &a0);
    myr_future *cl = myr_close(c);
    assert_non_null(cl);
    myr_future_on_done(cl, track_cb, &a1);
    assert_int_equal(myr_await(cl, WAIT_MS), 0);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.order[0], 0);
    assert_int_equal(t.order[1], 1);
    assert_int_equal(t.count[0], 1);
    assert_int_equal(t.count[1], 1);
    assert_int_equal(myr_future_status(q), 0);
    myr_result *r = myr_future_take_result(q);
    assert_non_null(r);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "42");
    myr_result_free(r);
    assert_int_equal(fs_join(s), 0);
    size_t len;
    const uint8_t *p = fs_packet(s, 2, &len);
    assert_int_equal(len, 1);
    assert_int_equal(p[0], 0x01);
    assert_int_equal(fs_packet_seq(s, 2), 0);
    myr_future_free(q);
    myr_future_free(cl);
    myr_loop_free(loop);
    fs_free(s);
}

/* One query, three results: two result sets and an OK, chained by
 * SERVER_MORE_RESULTS_EXIST. */
static void multi_result(int deprecate_eof)
{
    uint32_t caps = FS_CAPS_DEFAULT | (deprecate_eof ? FS_CLIENT_DEPRECATE_EOF : 0);
    fakesrv *s = fs_new();
    fs_script_handshake(s, caps, "mysql_native_password", fs_scramble_a);
    fs_expect(s, 0, 0x03);
    fs_buf b = {0};
    uint8_t seq = 1;
    const char *c1[] = {"1", "one", "2", "two"};
    static const char *const names2[] = {"k", "v"};
    fs_resultset(&b, &seq, deprecate_eof, 2, names2, 2, c1, FS_STATUS_AUTOCOMMIT | FS_STATUS_MORE_RESULTS);
    const char *c2[] = {NULL};
    fs_resultset(&b, &seq, deprecate_eof, 1, cols1, 1, c2, FS_STATUS_AUTOCOMMIT | FS_STATUS_MORE_RESULTS);
    fs_ok(&b, &seq, 5, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    fs_send_buf(s, &b);
    /* The connection is usable afterwards. */
    fs_expect(s, 0, 0x0e);
    seq = 1;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x01);
    fs_expect_eof(s);

    myr_loop *loop = fs_loop();
    myr_conn *c = fs_connect_ok(loop, s, NULL, WAIT_MS);
    const char *sql = "SELECT k, v FROM t; SELECT NULL; UPDATE t SET v = 0";
    int n = 0, np = 0;
    myr_future *q = myr_query(c, sql, strlen(sql));
    myr_future_on_done(q, fs_count_cb, &n);
    assert_int_equal(myr_await(q, WAIT_MS), 0);
    assert_int_equal(n, 1);
    myr_result *r = myr_future_take_result(q);
    assert_non_null(r);
    assert_int_equal(myr_result_column_count(r), 2);
    assert_int_equal(myr_result_row_count(r), 2);
    assert_string_equal(myr_result_value(r, 1, 1, NULL), "two");
    assert_true(myr_result_status(r) & FS_STATUS_MORE_RESULTS);
    myr_result *r2 = myr_result_next(r);
    assert_non_null(r2);
    assert_int_equal(myr_result_column_count(r2), 1);
    assert_int_equal(myr_result_row_count(r2), 1);
    size_t len = 7;
    assert_null(myr_result_value(r2, 0, 0, &len));
    assert_int_equal(len, 0);
    myr_result *r3 = myr_result_next(r2);
    assert_non_null(r3);
    assert_int_equal(myr_result_column_count(r3), 0);
    assert_int_equal(myr_result_affected_rows(r3), 5);
    assert_false(myr_result_status(r3) & FS_STATUS_MORE_RESULTS);
    assert_null(myr_result_next(r3));
    myr_result_free(r);   /* frees the chain */

    myr_future *p = myr_ping(c);
    myr_future_on_done(p, fs_count_cb, &np);
    assert_int_equal(myr_await(p, WAIT_MS), 0);
    assert_int_equal(np, 1);
    assert_int_equal(myr_close_sync(c, NULL), 0);
    assert_int_equal(fs_join(s), 0);
    myr_future_free(q);
    myr_future_free(p);
    myr_loop_free(loop);
    fs_free(s);
}

static void test_multi_result(void **state) { (void)state; multi_result(0); }
static void test_multi_result_deprecate_eof(void **state) { (void)state; multi_result(1); }

static void fill(char *p, size_t n, unsigned salt)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)((i * 131u + (i >> 12) + salt) & 0xFF);
}

/* A 17 MiB value (its row spans two frames) and a row whose payload is
 * exactly 0xFFFFFF bytes (a full frame then an empty one). */
static void test_huge_values(void **state)
{
    (void)state;
    const size_t big = 17u << 20;
    const size_t edge = 0xFFFFFFu - 4;   /* 0xFD + 3-byte length + value = 0xFFFFFF */
    char *v1 = malloc(big), *v2 = malloc(edge);
    assert_non_null(v1);
    assert_non_null(v2);
    fill(v1, big, 1);
    fill(v2, edge, 7);

    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_expect(s, 0, 0x03);
    fs_buf b = {0};
    uint8_t seq = 1;
    fs_colcount(&b, &seq, 1);
    fs_coldef(&b, &seq, "blob", 252);
    fs_eof(&b, &seq, 0, FS_STATUS_AUTOCOMMIT);
    const char *r1[] = {v1};
    const size_t l1[] = {big};
    fs_row(&b, &seq, 1, r1, l1);
    const char *r2[] = {v2};
    const size_t l2[] = {edge};
    size_t before = b.len;
    fs_row(&b, &seq, 1, r2, l2);
    assert_int_equal(b.len - before, 0xFFFFFF + 4 + 4);   /* two frames */
    fs_eof(&b, &seq, 0, FS_STATUS_AUTOCOMMIT);
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x01);
    fs_expect_eof(s);

    myr_loop *loop = fs_loop();
    myr_conn *c = fs_connect_ok(loop, s, NULL, WAIT_MS);
    int n = 0;
    myr_future *q = myr_query(c, "SELECT blob", 11);
    myr_future_on_done(q, fs_count_cb, &n);
    assert_int_equal(myr_await(q, 30000), 0);
    assert_int_equal(n, 1);
    myr_result *r = myr_future_take_result(q);
    assert_int_equal(myr_result_row_count(r), 2);
    size_t len = 0;
    const char *got = myr_result_value(r, 0, 0, &len);
    assert_int_equal(len, big);
    assert_true(memcmp(got, v1, big) == 0);
    got = myr_result_value(r, 1, 0, &len);
    assert_int_equal(len, edge);
    assert_true(memcmp(got, v2, edge) == 0);
    myr_result_free(r);
    assert_int_equal(myr_close_sync(c, NULL), 0);
    assert_int_equal(fs_join(s), 0);
    myr_future_free(q);
    myr_loop_free(loop);
    fs_free(s);
    free(v1);
    free(v2);
}

/* A command larger than one frame goes out split, with the right sequence
 * ids, and the reply (sequence id after the last frame) is accepted. */
static void test_huge_command(void **state)
{
    (void)state;
    const size_t n = (16u << 20) + 100;
    char *sql = malloc(n);
    assert_non_null(sql);
    memcpy(sql, "SELECT '", 8);
    memset(sql + 8, 'q', n - 9);
    sql[n - 1] = '\'';

    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    fs_expect(s, 0, 0x03);
    fs_buf b = {0};
    uint8_t seq = 2;   /* after frames 0 and 1 */
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x01);
    fs_expect_eof(s);

    myr_loop *loop = fs_loop();
    myr_conn *c = fs_connect_ok(loop, s, NULL, WAIT_MS);
    myr_future *q = myr_query(c, sql, n);
    assert_int_equal(myr_await(q, 30000), 0);
    assert_int_equal(myr_close_sync(c, NULL), 0);
    assert_int_equal(fs_join(s), 0);
    size_t len;
    const uint8_t *p = fs_packet(s, 1, &len);
    assert_int_equal(len, n + 1);
    assert_true(memcmp(p + 1, sql, n) == 0);
    myr_future_free(q);
    myr_loop_free(loop);
    fs_free(s);
    free(sql);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline_five),
        cmocka_unit_test(test_conn_free_with_queued),
        cmocka_unit_test(test_close_after_query),
        cmocka_unit_test(test_multi_result),
        cmocka_unit_test(test_multi_result_deprecate_eof),
        cmocka_unit_test(test_huge_values),
        cmocka_unit_test(test_huge_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
