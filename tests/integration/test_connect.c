/* tests/integration/test_connect.c -- connecting to the sandbox: TCP, Unix
 * socket, wrong password, unknown database, refused port, bad host name,
 * connect timeout, ping/select_db/reset, server version. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sandbox_env.h"

static void check_select_one(myr_conn *c)
{
    myr_result *r = sandbox_query(c, "SELECT 1 AS one");
    assert_int_equal(myr_result_column_count(r), 1);
    assert_int_equal(myr_result_row_count(r), 1);
    assert_memory_equal(myr_result_column(r, 0)->name, "one", 3);
    size_t len;
    const char *v = myr_result_value(r, 0, 0, &len);
    assert_int_equal(len, 1);
    assert_string_equal(v, "1");
    myr_result_free(r);
}

static void test_tcp(void **state)
{
    (void)state;
    myr_conn *c = sandbox_connect(NULL);
    assert_true(myr_conn_alive(c));
    assert_non_null(strstr(myr_conn_server_version(c), "MariaDB"));
    assert_true(myr_conn_thread_id(c) > 0);
    check_select_one(c);
    assert_int_equal(myr_close_sync(c, NULL), 0);
}

static void test_unix_socket(void **state)
{
    (void)state;
    myr_conn_opts *o = sandbox_opts(1);
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    assert_non_null(c);
    check_select_one(c);
    /* Over the socket the server sees us as localhost. */
    myr_result *r = sandbox_query(c, "SELECT SUBSTRING_INDEX(USER(), '@', -1)");
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "localhost");
    myr_result_free(r);
    myr_close_sync(c, NULL);
}

static void test_ipv6(void **state)
{
    (void)state;
    myr_conn_opts *o = sandbox_opts(0);
    myr_conn_opts_set_str(o, MYR_OPT_HOST, "::1");   /* the sandbox listens on ::1 too */
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    if (c == NULL)
        fail_msg("%u %s", err.mysql_errno, err.message);
    myr_result *r = sandbox_query(c, "SELECT SUBSTRING_INDEX(USER(), '@', -1)");
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "::1");
    myr_result_free(r);
    myr_close_sync(c, NULL);
}

static void test_wrong_password(void **state)
{
    (void)state;
    myr_conn_opts *o = sandbox_opts(0);
    myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, "not the password");
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    assert_null(c);
    assert_int_equal(err.code, MYR_ESERVER);
    assert_int_equal(err.mysql_errno, 1045);
    assert_string_equal(err.sqlstate, "28000");
    assert_non_null(strstr(err.message, "Access denied"));
}

static void test_unknown_database(void **state)
{
    (void)state;
    myr_conn_opts *o = sandbox_opts(0);
    myr_conn_opts_set_str(o, MYR_OPT_DATABASE, "no_such_db_here");
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    assert_null(c);
    assert_int_equal(err.mysql_errno, 1049);
    assert_string_equal(err.sqlstate, "42000");
    assert_non_null(strstr(err.message, "no_such_db_here"));
}

static void test_no_password_user(void **state)
{
    (void)state;
    myr_conn_opts *o = sandbox_opts(0);
    myr_conn_opts_set_str(o, MYR_OPT_USER, sandbox_env("MYR_TEST_USER_NOPW"));
    myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, NULL);
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    if (c == NULL)
        fail_msg("%u %s", err.mysql_errno, err.message);
    check_select_one(c);
    myr_close_sync(c, NULL);
}

static void test_refused(void **state)
{
    (void)state;
    myr_conn_opts *o = sandbox_opts(0);
    myr_conn_opts_set_int(o, MYR_OPT_PORT, 1);   /* nothing listens on port 1 */
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    assert_null(c);
    assert_int_equal(err.code, MYR_ECONNECT);
    assert_int_equal(err.mysql_errno, 2003);
    assert_non_null(strstr(err.message, "(111)"));
    assert_int_equal(err.sys_errno, ECONNREFUSED);   /* the OS errno is kept */
}

static void test_missing_socket(void **state)
{
    (void)state;
    myr_conn_opts *o = sandbox_opts(1);
    myr_conn_opts_set_str(o, MYR_OPT_UNIX_SOCKET, "/nonexistent/mysqld.sock");
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    assert_null(c);
    assert_int_equal(err.mysql_errno, 2002);
    assert_non_null(strstr(err.message, "/nonexistent/mysqld.sock"));
    assert_int_equal(err.sys_errno, ENOENT);
}

static void test_host_name(void **state)
{
    (void)state;
    /* "localhost" with a port set is TCP after a name lookup on the pool. */
    myr_conn_opts *o = sandbox_opts(0);
    myr_conn_opts_set_str(o, MYR_OPT_HOST, "localhost");
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    if (c == NULL)
        fail_msg("%u %s", err.mysql_errno, err.message);
    check_select_one(c);
    myr_close_sync(c, NULL);

    myr_conn_opts_set_str(o, MYR_OPT_HOST, "no-such-host.invalid");
    c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    assert_null(c);
    assert_int_equal(err.mysql_errno, 2005);
    assert_int_equal(err.code, MYR_EHOSTNAME);
}

static void test_commands(void **state)
{
    (void)state;
    myr_conn *c = sandbox_connect(NULL);
    myr_error err;
    assert_int_equal(myr_ping_sync(c, &err), 0);

    myr_future *f = myr_select_db(c, "mysql");
    assert_int_equal(myr_await(f, 5000), 0);
    myr_future_free(f);
    myr_result *r = sandbox_query(c, "SELECT DATABASE()");
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "mysql");
    myr_result_free(r);

    f = myr_select_db(c, "no_such_db_here");
    assert_int_equal(myr_await(f, 5000), MYR_ESERVER);
    assert_int_equal(myr_future_error(f)->mysql_errno, 1049);
    myr_future_free(f);

    r = sandbox_query(c, "SET @x = 42");
    myr_result_free(r);
    f = myr_reset(c);
    assert_int_equal(myr_await(f, 5000), 0);
    myr_future_free(f);
    r = sandbox_query(c, "SELECT @x");
    assert_null(myr_result_value(r, 0, 0, NULL));   /* the session was reset */
    myr_result_free(r);
    myr_close_sync(c, NULL);
}

static void test_killed_connection(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    myr_conn *victim = sandbox_connect(loop);
    myr_conn *killer = sandbox_connect(loop);
    char sql[64];
    snprintf(sql, sizeof sql, "KILL %u", myr_conn_thread_id(victim));
    myr_result_free(sandbox_query(killer, sql));
    myr_error err;
    myr_result *r = myr_query_sync(victim, "SELECT 1", 8, &err);
    assert_null(r);
    /* The server says why (1927 connection killed) or just closes (2013). */
    assert_true(err.mysql_errno == 2013 || err.mysql_errno == 1927 || err.mysql_errno == 2006);
    assert_false(myr_conn_alive(victim));
    /* Later commands fail at once with "gone away". */
    r = myr_query_sync(victim, "SELECT 1", 8, &err);
    assert_null(r);
    assert_int_equal(err.mysql_errno, 2006);
    myr_conn_free(victim);
    myr_close_sync(killer, NULL);
    myr_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp),
        cmocka_unit_test(test_unix_socket),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_unknown_database),
        cmocka_unit_test(test_no_password_user),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_missing_socket),
        cmocka_unit_test(test_host_name),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_killed_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
