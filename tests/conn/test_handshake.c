/* tests/conn/test_handshake.c -- the connection state machine against a
 * scripted fake server: login, first commands, the server vanishing at every
 * point of the handshake, auth switch / caching_sha2 and login errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fakesrv.h"
#include "internal.h"

#define WAIT_MS 5000

static const char *const cols2[] = {"id", "name"};

/* The full exchange: login, a result set, an OK, COM_QUIT. */
static void happy_path(int bytewise, int deprecate_eof)
{
    uint32_t caps = FS_CAPS_DEFAULT | (deprecate_eof ? FS_CLIENT_DEPRECATE_EOF : 0);
    fakesrv *s = fs_new();
    fs_set_bytewise(s, bytewise);
    fs_script_handshake(s, caps, "mysql_native_password", fs_scramble_a);

    fs_buf b = {0};
    uint8_t seq;
    fs_expect(s, 0, 0x03);
    seq = 1;
    const char *cells[] = {"1", "alice", "2", NULL, "3", ""};
    fs_resultset(&b, &seq, deprecate_eof, 2, cols2, 3, cells, FS_STATUS_AUTOCOMMIT);
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x03);
    seq = 1;
    fs_ok(&b, &seq, 3, 7, FS_STATUS_AUTOCOMMIT, 1, "Records: 3  Duplicates: 0  Warnings: 1");
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x01);
    fs_expect_eof(s);

    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    int nconn = 0, nq1 = 0, nq2 = 0, nclose = 0;
    myr_future *cf = fs_connect(loop, o, s, &nconn);
    assert_non_null(cf);
    assert_int_equal(myr_await(cf, WAIT_MS), 0);
    assert_int_equal(nconn, 1);
    myr_conn *c = myr_future_take_conn(cf);
    assert_non_null(c);
    assert_null(myr_future_take_conn(cf));
    assert_true(myr_conn_alive(c));
    assert_string_equal(myr_conn_server_version(c), "10.11.6-MariaDB");
    assert_int_equal(myr_conn_thread_id(c), 42);

    const char *sql = "SELECT id, name FROM t";
    myr_future *q1 = myr_query(c, sql, strlen(sql));
    myr_future_on_done(q1, fs_count_cb, &nq1);
    assert_int_equal(myr_await(q1, WAIT_MS), 0);
    myr_result *r = myr_future_take_result(q1);
    assert_non_null(r);
    assert_int_equal(myr_result_column_count(r), 2);
    const myr_column *col = myr_result_column(r, 1);
    assert_non_null(col);
    assert_int_equal(col->name_len, 4);
    assert_memory_equal(col->name, "name", 4);
    assert_int_equal(col->type, MYR_TYPE_VAR_STRING);
    assert_int_equal(col->charset, 45);
    assert_null(myr_result_column(r, 2));
    assert_int_equal(myr_result_row_count(r), 3);
    size_t len = 99;
    assert_string_equal(myr_result_value(r, 0, 1, &len), "alice");
    assert_int_equal(len, 5);
    assert_string_equal(myr_result_value(r, 1, 0, &len), "2");
    len = 99;
    assert_null(myr_result_value(r, 1, 1, &len));   /* SQL NULL */
    assert_int_equal(len, 0);
    const char *empty = myr_result_value(r, 2, 1, &len);   /* '' is not NULL */
    assert_non_null(empty);
    assert_int_equal(len, 0);
    assert_null(myr_result_value(r, 3, 0, &len));
    assert_null(myr_result_next(r));
    myr_result_free(r);

    const char *ins = "INSERT INTO t VALUES (7),(8),(9)";
    myr_future *q2 = myr_query(c, ins, strlen(ins));
    myr_future_on_done(q2, fs_count_cb, &nq2);
    assert_int_equal(myr_await(q2, WAIT_MS), 0);
    r = myr_future_take_result(q2);
    assert_non_null(r);
    assert_int_equal(myr_result_column_count(r), 0);
    assert_int_equal(myr_result_affected_rows(r), 3);
    assert_int_equal(myr_result_insert_id(r), 7);
    assert_int_equal(myr_result_warnings(r), 1);
    assert_string_equal(myr_result_info(r), "Records: 3  Duplicates: 0  Warnings: 1");
    myr_result_free(r);

    myr_future *clf = myr_close(c);
    assert_non_null(clf);
    myr_future_on_done(clf, fs_count_cb, &nclose);
    assert_int_equal(myr_await(clf, WAIT_MS), 0);

    assert_int_equal(fs_join(s), 0);
    assert_int_equal(nconn, 1);
    assert_int_equal(nq1, 1);
    assert_int_equal(nq2, 1);
    assert_int_equal(nclose, 1);

    /* What the client sent. */
    assert_int_equal(fs_npackets(s), 4);
    size_t plen;
    const uint8_t *p = fs_packet(s, 0, &plen);
    fs_login l;
    assert_int_equal(fs_parse_login(p, plen, &l), 0);
    assert_string_equal(l.user, "bob");
    assert_string_equal(l.plugin, "mysql_native_password");
    uint8_t want[20];
    size_t want_len = 0;
    assert_int_equal(myr__auth_native(fs_scramble_a, 20, "secret", 6, want, &want_len), 0);
    assert_int_equal(want_len, 20);
    assert_int_equal(l.auth_len, 20);
    assert_memory_equal(l.auth, want, 20);
    assert_true(l.caps & FS_CLIENT_PROTOCOL_41);
    assert_int_equal(!!(l.caps & FS_CLIENT_DEPRECATE_EOF), !!deprecate_eof);
    assert_int_equal(l.charset, 45);   /* utf8mb4 */
    p = fs_packet(s, 1, &plen);
    assert_int_equal(plen, 1 + strlen(sql));
    assert_memory_equal(p + 1, sql, strlen(sql));
    p = fs_packet(s, 2, &plen);
    assert_int_equal(plen, 1 + strlen(ins));
    assert_memory_equal(p + 1, ins, strlen(ins));
    p = fs_packet(s, 3, &plen);
    assert_int_equal(plen, 1);

    myr_future_free(cf);
    myr_future_free(q1);
    myr_future_free(q2);
    myr_future_free(clf);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
    fs_free(s);
}

static void test_happy_path(void **state) { (void)state; happy_path(0, 0); }
static void test_happy_path_deprecate_eof(void **state) { (void)state; happy_path(0, 1); }
static void test_happy_path_bytewise(void **state) { (void)state; happy_path(1, 0); }
static void test_happy_path_bytewise_deprecate_eof(void **state) { (void)state; happy_path(1, 1); }

/* Connect against s (already scripted) and expect a failure; returns the
 * future (resolved, error checked by the caller). */
static myr_future *connect_fails(myr_loop *loop, fakesrv *s, int *count)
{
    myr_conn_opts *o = fs_opts("bob", "secret");
    myr_future *cf = fs_connect(loop, o, s, count);
    myr_conn_opts_free(o);
    assert_non_null(cf);
    assert_int_not_equal(myr_await(cf, WAIT_MS), MYR_ETIMEDOUT);
    assert_true(myr_future_done(cf));
    assert_int_equal(*count, 1);
    assert_int_not_equal(myr_future_status(cf), 0);
    assert_null(myr_future_take_conn(cf));
    return cf;
}

static void assert_lost_or_malformed(myr_future *cf)
{
    const myr_error *e = myr_future_error(cf);
    assert_int_equal(e->code, myr_future_status(cf));
    assert_true(e->message[0] != '\0');
    if (e->code == MYR_ECONNLOST)
        assert_int_equal(e->mysql_errno, 2013);
    else if (e->code == MYR_EMALFORMED)
        assert_int_equal(e->mysql_errno, 2027);
    else
        fail_msg("unexpected error %d (%u): %s", e->code, e->mysql_errno, e->message);
}

static void test_server_closes_during_handshake(void **state)
{
    (void)state;
    fs_buf g = {0}, ok = {0};
    uint8_t seq = 0;
    fs_greeting(&g, &seq, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a, 42);
    seq = 2;
    fs_ok(&ok, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    myr_loop *loop = fs_loop();

    /* Cut inside the greeting: after 0 .. len-1 bytes, and after all of it
     * (the client's login then meets a closed socket). */
    for (size_t k = 0; k <= g.len; k++) {
        fakesrv *s = fs_new();
        fs_set_cut(s, k);
        fs_send(s, g.data, g.len);
        int n = 0;
        myr_future *cf = connect_fails(loop, s, &n);
        assert_lost_or_malformed(cf);
        if (k < 4)   /* not even a frame header: the stream just ended */
            assert_int_equal(myr_future_status(cf), MYR_ECONNLOST);
        fs_join(s);
        myr_future_free(cf);
        fs_free(s);
    }
    /* Greeting, then close before / after reading the login. */
    for (int read_login = 0; read_login <= 1; read_login++) {
        fakesrv *s = fs_new();
        fs_send(s, g.data, g.len);
        if (read_login)
            fs_expect(s, 1, -1);
        fs_close(s);
        int n = 0;
        myr_future *cf = connect_fails(loop, s, &n);
        assert_int_equal(myr_future_status(cf), MYR_ECONNLOST);
        assert_int_equal(myr_future_error(cf)->mysql_errno, 2013);
        assert_int_equal(fs_join(s), 0);
        myr_future_free(cf);
        fs_free(s);
    }
    /* Mid-OK: every cut inside the OK packet. */
    for (size_t k = 0; k < ok.len; k++) {
        fakesrv *s = fs_new();
        fs_set_cut(s, g.len + k);
        fs_send(s, g.data, g.len);
        fs_expect(s, 1, -1);
        fs_send(s, ok.data, ok.len);
        int n = 0;
        myr_future *cf = connect_fails(loop, s, &n);
        assert_lost_or_malformed(cf);
        fs_join(s);
        assert_int_equal(fs_npackets(s), 1);   /* the login did arrive */
        myr_future_free(cf);
        fs_free(s);
    }
    fs_buf_free(&g);
    fs_buf_free(&ok);
    myr_loop_free(loop);
}

/* Login with a plugin, then an OK; returns the connection's future. */
static void check_login_packet(fakesrv *s, size_t i, const char *plugin, const uint8_t *scramble)
{
    size_t plen;
    const uint8_t *p = fs_packet(s, i, &plen);
    assert_non_null(p);
    fs_login l;
    assert_int_equal(fs_parse_login(p, plen, &l), 0);
    assert_string_equal(l.user, "bob");
    assert_string_equal(l.plugin, plugin);
    uint8_t want[32];
    size_t want_len = 0;
    if (strcmp(plugin, "mysql_native_password") == 0)
        assert_int_equal(myr__auth_native(scramble, 20, "secret", 6, want, &want_len), 0);
    else
        assert_int_equal(myr__auth_sha2(scramble, 20, "secret", 6, want, &want_len), 0);
    assert_int_equal(l.auth_len, want_len);
    assert_memory_equal(l.auth, want, want_len);
}

static void test_auth_switch_to_native(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_buf b = {0};
    uint8_t seq = 0;
    fs_greeting(&b, &seq, FS_CAPS_DEFAULT, "caching_sha2_password", fs_scramble_a, 42);
    fs_send_buf(s, &b);
    fs_expect(s, 1, -1);
    seq = 2;
    fs_auth_switch(&b, &seq, "mysql_native_password", fs_scramble_b);
    fs_send_buf(s, &b);
    fs_expect(s, 3, -1);
    seq = 4;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x0e);   /* a ping works afterwards */
    seq = 1;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x01);
    fs_expect_eof(s);

    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    int n = 0, np = 0;
    myr_future *cf = fs_connect(loop, o, s, &n);
    assert_int_equal(myr_await(cf, WAIT_MS), 0);
    myr_conn *c = myr_future_take_conn(cf);
    assert_non_null(c);
    myr_future *pf = myr_ping(c);
    myr_future_on_done(pf, fs_count_cb, &np);
    assert_int_equal(myr_await(pf, WAIT_MS), 0);
    myr_error err;
    assert_int_equal(myr_close_sync(c, &err), 0);
    assert_int_equal(fs_join(s), 0);
    assert_int_equal(n, 1);
    assert_int_equal(np, 1);

    check_login_packet(s, 0, "caching_sha2_password", fs_scramble_a);
    size_t plen;
    const uint8_t *p = fs_packet(s, 1, &plen);
    uint8_t want[20];
    size_t want_len = 0;
    assert_int_equal(myr__auth_native(fs_scramble_b, 20, "secret", 6, want, &want_len), 0);
    assert_int_equal(plen, 20);
    assert_memory_equal(p, want, 20);

    myr_future_free(cf);
    myr_future_free(pf);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
    fs_free(s);
}

/* caching_sha2_password: greeting, login, then `more` (AuthMoreData etc.). */
static fakesrv *sha2_server(const uint8_t *more, size_t more_len, int then_ok)
{
    fakesrv *s = fs_new();
    fs_buf b = {0};
    uint8_t seq = 0;
    fs_greeting(&b, &seq, FS_CAPS_DEFAULT, "caching_sha2_password", fs_scramble_a, 42);
    fs_send_buf(s, &b);
    fs_expect(s, 1, -1);
    seq = 2;
    fs_pkt(&b, &seq, more, more_len);
    if (then_ok)
        fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    fs_send_buf(s, &b);
    return s;
}

static void test_sha2_fast_auth(void **state)
{
    (void)state;
    static const uint8_t fast[] = {0x01, 0x03};
    fakesrv *s = sha2_server(fast, sizeof fast, 1);
    fs_expect(s, 0, 0x01);
    fs_expect_eof(s);
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    int n = 0, ncl = 0;
    myr_future *cf = fs_connect(loop, o, s, &n);
    assert_int_equal(myr_await(cf, WAIT_MS), 0);
    myr_conn *c = myr_future_take_conn(cf);
    assert_non_null(c);
    assert_true(myr_conn_alive(c));
    myr_future *clf = myr_close(c);
    myr_future_on_done(clf, fs_count_cb, &ncl);
    assert_int_equal(myr_await(clf, WAIT_MS), 0);
    assert_int_equal(fs_join(s), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ncl, 1);
    check_login_packet(s, 0, "caching_sha2_password", fs_scramble_a);
    myr_future_free(cf);
    myr_future_free(clf);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
    fs_free(s);
}

static void expect_auth_failure(fakesrv *s, int code, unsigned mysql_errno)
{
    fs_expect_eof(s);
    myr_loop *loop = fs_loop();
    int n = 0;
    myr_future *cf = connect_fails(loop, s, &n);
    const myr_error *e = myr_future_error(cf);
    assert_int_equal(myr_future_status(cf), code);
    assert_int_equal(e->code, code);
    assert_int_equal(e->mysql_errno, mysql_errno);
    assert_true(e->message[0] != '\0');
    assert_int_equal(fs_join(s), 0);   /* and the client closed its socket */
    myr_future_free(cf);
    myr_loop_free(loop);
    fs_free(s);
}

static void test_sha2_full_auth_fails(void **state)
{
    (void)state;
    static const uint8_t full[] = {0x01, 0x04};
    /* Full authentication over plain TCP with no public key and no leave
     * to ask for one: refused (the more in tests/conn/test_auth_plugins.c). */
    fakesrv *s = sha2_server(full, sizeof full, 0);
    fs_set_tcp(s, 1);
    expect_auth_failure(s, MYR_EAUTH, 2061);
}

static void test_auth_switch_unknown_plugin(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_buf b = {0};
    uint8_t seq = 0;
    fs_greeting(&b, &seq, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a, 42);
    fs_send_buf(s, &b);
    fs_expect(s, 1, -1);
    seq = 2;
    fs_auth_switch(&b, &seq, "dialog", fs_scramble_b);
    fs_send_buf(s, &b);
    expect_auth_failure(s, MYR_EAUTH, 2059);
}

/* A greeting naming a plugin we do not have: the client offers native. */
static void test_greeting_unknown_plugin_offers_native(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_script_handshake(s, FS_CAPS_DEFAULT, "auth_gssapi_client", fs_scramble_a);
    fs_expect(s, 0, 0x01);
    fs_expect_eof(s);
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    int n = 0;
    myr_future *cf = fs_connect(loop, o, s, &n);
    assert_int_equal(myr_await(cf, WAIT_MS), 0);
    myr_conn *c = myr_future_take_conn(cf);
    assert_non_null(c);
    assert_int_equal(myr_close_sync(c, NULL), 0);
    assert_int_equal(fs_join(s), 0);
    check_login_packet(s, 0, "mysql_native_password", fs_scramble_a);
    myr_future_free(cf);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
    fs_free(s);
}

static void test_login_access_denied(void **state)
{
    (void)state;
    static const char msg[] = "Access denied for user 'bob'@'localhost' (using password: YES)";
    fakesrv *s = fs_new();
    fs_buf b = {0};
    uint8_t seq = 0;
    fs_greeting(&b, &seq, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a, 42);
    fs_send_buf(s, &b);
    fs_expect(s, 1, -1);
    seq = 2;
    fs_err(&b, &seq, 1045, "28000", msg);
    fs_send_buf(s, &b);
    fs_expect_eof(s);
    myr_loop *loop = fs_loop();
    int n = 0;
    myr_future *cf = connect_fails(loop, s, &n);
    const myr_error *e = myr_future_error(cf);
    assert_int_equal(e->code, MYR_ESERVER);
    assert_int_equal(e->mysql_errno, 1045);
    assert_string_equal(e->sqlstate, "28000");
    assert_string_equal(e->message, msg);
    assert_int_equal(fs_join(s), 0);
    myr_future_free(cf);
    myr_loop_free(loop);
    fs_free(s);
}

/* An ERR instead of the greeting (too many connections). */
static void test_greeting_is_error(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_buf b = {0};
    uint8_t seq = 0;
    fs_err(&b, &seq, 1040, NULL, "Too many connections");
    fs_send_buf(s, &b);
    fs_expect_eof(s);
    myr_loop *loop = fs_loop();
    int n = 0;
    myr_future *cf = connect_fails(loop, s, &n);
    const myr_error *e = myr_future_error(cf);
    assert_int_equal(e->code, MYR_ESERVER);
    assert_int_equal(e->mysql_errno, 1040);
    assert_string_equal(e->message, "Too many connections");
    assert_int_equal(fs_join(s), 0);
    myr_future_free(cf);
    myr_loop_free(loop);
    fs_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_happy_path),
        cmocka_unit_test(test_happy_path_deprecate_eof),
        cmocka_unit_test(test_happy_path_bytewise),
        cmocka_unit_test(test_happy_path_bytewise_deprecate_eof),
        cmocka_unit_test(test_server_closes_during_handshake),
        cmocka_unit_test(test_auth_switch_to_native),
        cmocka_unit_test(test_sha2_fast_auth),
        cmocka_unit_test(test_sha2_full_auth_fails),
        cmocka_unit_test(test_auth_switch_unknown_plugin),
        cmocka_unit_test(test_greeting_unknown_plugin_offers_native),
        cmocka_unit_test(test_login_access_denied),
        cmocka_unit_test(test_greeting_is_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
