/* tests/integration/test_unusable.c -- myr_error_server_unusable: errors
 * that mean "this server cannot serve you" are flagged, ordinary ones are
 * not. Real ones from the sandbox: a write in a READ ONLY transaction
 * (1792), a connection killed by another (MYR_EGONE / 1927), and a syntax
 * error (not flagged); the table of numbers directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sandbox_env.h"

static void test_read_only_transaction(void **state)
{
    (void)state;
    myr_conn *c = sandbox_connect(NULL);
    myr_result_free(sandbox_query(c, "CREATE TEMPORARY TABLE t_ro (v INT) ENGINE=InnoDB"));
    myr_result_free(sandbox_query(c, "CREATE TABLE IF NOT EXISTS t_unusable (v INT) ENGINE=InnoDB"));
    myr_result_free(sandbox_query(c, "START TRANSACTION READ ONLY"));
    myr_error err;
    const char *sql = "INSERT INTO t_unusable VALUES (1)";
    myr_result *r = myr_query_sync(c, sql, strlen(sql), &err);
    assert_null(r);
    assert_int_equal(err.code, MYR_ESERVER);
    assert_int_equal(err.mysql_errno, 1792);
    assert_int_equal(myr_error_server_unusable(&err), 1);
    myr_result_free(sandbox_query(c, "ROLLBACK"));
    r = myr_query_sync(c, "SELEC 1", 7, &err);   /* an ordinary error */
    assert_null(r);
    assert_int_equal(err.mysql_errno, 1064);
    assert_int_equal(myr_error_server_unusable(&err), 0);
    myr_result_free(sandbox_query(c, "DROP TABLE t_unusable"));
    myr_close_sync(c, NULL);
}

static void test_killed_connection(void **state)
{
    (void)state;
    myr_conn *victim = sandbox_connect(NULL);
    myr_conn *killer = sandbox_connect(NULL);
    char sql[64];
    snprintf(sql, sizeof sql, "KILL CONNECTION %u", (unsigned)myr_conn_thread_id(victim));
    myr_result_free(sandbox_query(killer, sql));
    myr_error err;
    myr_result *r = myr_query_sync(victim, "SELECT 1", 8, &err);
    assert_null(r);
    assert_true(err.code != 0);
    printf("# after KILL CONNECTION: %d %u %s\n", err.code, err.mysql_errno, err.message);
    assert_int_equal(myr_error_server_unusable(&err), 1);
    myr_conn_free(victim);
    myr_close_sync(killer, NULL);
}

static void test_table(void **state)
{
    (void)state;
    static const unsigned yes[] = {1040, 1053, 1077, 1079, 1080, 1203, 1290, 1792, 1836, 1927, 2006, 2013};
    static const unsigned no[] = {1045, 1062, 1064, 1146, 1213, 1317, 1205, 2003};
    myr_error e = {.code = MYR_ESERVER};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        e.mysql_errno = yes[i];
        assert_int_equal(myr_error_server_unusable(&e), 1);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        e.mysql_errno = no[i];
        assert_int_equal(myr_error_server_unusable(&e), 0);
    }
    e.mysql_errno = 0;
    e.code = MYR_EGONE;
    assert_int_equal(myr_error_server_unusable(&e), 1);
    e.code = MYR_ETIMEDOUT;
    assert_int_equal(myr_error_server_unusable(&e), 0);
    e.code = 0;
    e.mysql_errno = 1053;
    assert_int_equal(myr_error_server_unusable(&e), 0);   /* no error at all */
    assert_int_equal(myr_error_server_unusable(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_only_transaction),
        cmocka_unit_test(test_killed_connection),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
