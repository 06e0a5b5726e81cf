/* tests/integration/test_auth.c -- logins against the MariaDB sandbox with
 * the plugins MariaDB speaks: client_ed25519 (user myr_ed, switched to from
 * the greeting's mysql_native_password) over plain TCP, TLS and the Unix
 * socket; a wrong ed25519 password is refused by the server; the native
 * user reports its plugin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <myring.h>

#include "sandbox_env.h"

static myr_conn_opts *ed_opts(int unix_socket, int ssl_mode, const char *password)
{
    myr_conn_opts *o = sandbox_opts(unix_socket);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_USER, sandbox_env("MYR_TEST_ED25519_USER")), 0);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, password), 0);
    if (ssl_mode)
        assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, ssl_mode), 0);
    return o;
}

/* Log in as the ed25519 user and check who the server thinks we are. */
static void ed25519_login(int unix_socket, int ssl_mode)
{
    myr_conn_opts *o = ed_opts(unix_socket, ssl_mode, sandbox_env("MYR_TEST_ED25519_PASSWORD"));
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    if (c == NULL)
        fail_msg("ed25519 login: %u %s", err.mysql_errno, err.message);
    assert_string_equal(myr_conn_auth_plugin(c), "client_ed25519");
    myr_result *r = sandbox_query(c, "SELECT CURRENT_USER()");
    size_t len;
    const char *who = myr_result_value(r, 0, 0, &len);
    assert_non_null(who);
    char want[64];
    snprintf(want, sizeof want, "%s@", sandbox_env("MYR_TEST_ED25519_USER"));
    assert_memory_equal(who, want, strlen(want));
    myr_result_free(r);
    assert_int_equal(myr_close_sync(c, &err), 0);
}

static void test_ed25519_tcp_plain(void **state)
{
    (void)state;
    ed25519_login(0, MYR_SSL_DISABLED);
}

static void test_ed25519_tls(void **state)
{
    (void)state;
    ed25519_login(0, MYR_SSL_REQUIRED);
}

static void test_ed25519_unix_socket(void **state)
{
    (void)state;
    ed25519_login(1, 0);
}

/* Many logins on one loop at once: every one signs its own nonce. */
static void test_ed25519_many(void **state)
{
    (void)state;
    myr_error err;
    myr_loop *loop = myr_loop_new(NULL, &err);
    assert_non_null(loop);
    myr_conn_opts *o = ed_opts(0, MYR_SSL_DISABLED, sandbox_env("MYR_TEST_ED25519_PASSWORD"));
    enum { N = 50 };
    myr_future *f[N];
    for (int i = 0; i < N; i++)
        f[i] = myr_connect(loop, o);
    assert_int_equal(myr_gather(f, N, 30000), 0);
    for (int i = 0; i < N; i++) {
        if (myr_future_status(f[i]) != 0)
            fail_msg("login %d: %s", i, myr_future_error(f[i])->message);
        myr_conn *c = myr_future_take_conn(f[i]);
        assert_string_equal(myr_conn_auth_plugin(c), "client_ed25519");
        myr_conn_free(c);
        myr_future_free(f[i]);
    }
    myr_conn_opts_free(o);
    myr_loop_free(loop);
}

/* The wrong password: the server refuses (1045), and the message does not
 * carry the password. */
static void test_ed25519_wrong_password(void **state)
{
    (void)state;
    static const char bad[] = "not-the-ed-password";
    myr_conn_opts *o = ed_opts(0, MYR_SSL_DISABLED, bad);
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    assert_null(c);
    assert_int_equal(err.code, MYR_ESERVER);
    assert_int_equal(err.mysql_errno, 1045);
    assert_null(strstr(err.message, bad));
}

static void test_native_reports_plugin(void **state)
{
    (void)state;
    myr_conn *c = sandbox_connect(NULL);
    assert_string_equal(myr_conn_auth_plugin(c), "mysql_native_password");
    myr_close_sync(c, NULL);
    assert_string_equal(myr_conn_auth_plugin(NULL), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ed25519_tcp_plain),
        cmocka_unit_test(test_ed25519_tls),
        cmocka_unit_test(test_ed25519_unix_socket),
        cmocka_unit_test(test_ed25519_many),
        cmocka_unit_test(test_ed25519_wrong_password),
        cmocka_unit_test(test_native_reports_plugin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
