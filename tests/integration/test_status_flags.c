/* tests/integration/test_status_flags.c -- the public names for the server
 * status bits (MYR_SERVER_STATUS_*) and column flags (MYR_FLAG_*) against
 * what the sandbox server really sends: a transaction's bits through
 * myr_conn_server_status() and myr_result_status(), and the flags of
 * keyed, unsigned, blob and plain columns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sandbox_env.h"

static myr_conn *g_conn;

static int setup(void **state)
{
    (void)state;
    g_conn = sandbox_connect(NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    myr_close_sync(g_conn, NULL);
    return 0;
}

/* Run sql, return the status of its (last) result after checking that the
 * connection reports the same bits. */
static unsigned status_of(const char *sql)
{
    myr_result *head = sandbox_query(g_conn, sql);
    const myr_result *last = head;
    while (myr_result_next(last))
        last = myr_result_next(last);
    unsigned st = myr_result_status(last);
    assert_int_equal(st, myr_conn_server_status(g_conn));
    myr_result_free(head);
    return st;
}

static void run(const char *sql)
{
    myr_result_free(sandbox_query(g_conn, sql));
}

static void test_transaction_bits(void **state)
{
    (void)state;
    myr_result *r = sandbox_query(g_conn, "SELECT 1");
    unsigned st = myr_result_status(r);
    myr_result_free(r);
    assert_true(st & MYR_SERVER_STATUS_AUTOCOMMIT);
    assert_false(st & MYR_SERVER_STATUS_IN_TRANS);
    assert_int_equal(myr_conn_server_status(g_conn), st);

    /* BEGIN's own OK already carries IN_TRANS. */
    r = sandbox_query(g_conn, "BEGIN");
    st = myr_result_status(r);
    myr_result_free(r);
    assert_true(st & MYR_SERVER_STATUS_IN_TRANS);
    assert_true(myr_conn_server_status(g_conn) & MYR_SERVER_STATUS_IN_TRANS);
    assert_false(st & MYR_SERVER_STATUS_IN_TRANS_READONLY);

    /* A result set inside the transaction ends with IN_TRANS too. */
    r = sandbox_query(g_conn, "SELECT 2");
    assert_int_equal(myr_result_column_count(r), 1);
    assert_true(myr_result_status(r) & MYR_SERVER_STATUS_IN_TRANS);
    myr_result_free(r);

    r = sandbox_query(g_conn, "COMMIT");
    st = myr_result_status(r);
    myr_result_free(r);
    assert_false(st & MYR_SERVER_STATUS_IN_TRANS);
    assert_false(myr_conn_server_status(g_conn) & MYR_SERVER_STATUS_IN_TRANS);

    st = status_of("START TRANSACTION READ ONLY");
    assert_true(st & MYR_SERVER_STATUS_IN_TRANS);
    assert_true(st & MYR_SERVER_STATUS_IN_TRANS_READONLY);
    st = status_of("ROLLBACK");
    assert_false(st & (MYR_SERVER_STATUS_IN_TRANS | MYR_SERVER_STATUS_IN_TRANS_READONLY));

    /* autocommit=0 clears AUTOCOMMIT; the bit comes back with 1. */
    st = status_of("SET autocommit = 0");
    assert_false(st & MYR_SERVER_STATUS_AUTOCOMMIT);
    st = status_of("SET autocommit = 1");
    assert_true(st & MYR_SERVER_STATUS_AUTOCOMMIT);
}

static void test_more_results_bit(void **state)
{
    (void)state;
    myr_result *r = sandbox_query(g_conn, "SELECT 1; SELECT 2");
    const myr_result *second = myr_result_next(r);
    assert_non_null(second);
    assert_true(myr_result_status(r) & MYR_SERVER_STATUS_MORE_RESULTS_EXISTS);
    assert_false(myr_result_status(second) & MYR_SERVER_STATUS_MORE_RESULTS_EXISTS);
    myr_result_free(r);
}

static void test_column_flags(void **state)
{
    (void)state;
    run("CREATE TEMPORARY TABLE t_flags ("
        " id INT PRIMARY KEY AUTO_INCREMENT NOT NULL,"
        " u INT UNSIGNED,"
        " b BLOB,"
        " k VARCHAR(8) NOT NULL,"
        " z INT UNSIGNED ZEROFILL,"
        " UNIQUE KEY (k))");
    myr_result *r = sandbox_query(g_conn, "SELECT id, u, b, k, z FROM t_flags");
    assert_int_equal(myr_result_column_count(r), 5);
    assert_int_equal(myr_result_row_count(r), 0);

    unsigned id = myr_result_column(r, 0)->flags;
    assert_true(id & MYR_FLAG_NOT_NULL);
    assert_true(id & MYR_FLAG_PRI_KEY);
    assert_true(id & MYR_FLAG_AUTO_INCREMENT);
    /* The server leaves NUM to client libraries; myring passes flags as sent. */
    assert_false(id & MYR_FLAG_NUM);
    assert_false(id & MYR_FLAG_UNSIGNED);
    assert_false(id & MYR_FLAG_BLOB);

    unsigned u = myr_result_column(r, 1)->flags;
    assert_true(u & MYR_FLAG_UNSIGNED);
    assert_false(u & (MYR_FLAG_NUM | MYR_FLAG_NOT_NULL | MYR_FLAG_PRI_KEY | MYR_FLAG_AUTO_INCREMENT));

    unsigned b = myr_result_column(r, 2)->flags;
    assert_true(b & MYR_FLAG_BLOB);
    assert_true(b & MYR_FLAG_BINARY);
    assert_false(b & (MYR_FLAG_NUM | MYR_FLAG_NOT_NULL));

    unsigned k = myr_result_column(r, 3)->flags;
    assert_true(k & MYR_FLAG_NOT_NULL);
    assert_true(k & MYR_FLAG_UNIQUE_KEY);
    assert_true(k & MYR_FLAG_NO_DEFAULT_VALUE);
    assert_false(k & (MYR_FLAG_PRI_KEY | MYR_FLAG_NUM | MYR_FLAG_BINARY));

    unsigned z = myr_result_column(r, 4)->flags;
    assert_true(z & MYR_FLAG_ZEROFILL);
    assert_true(z & MYR_FLAG_UNSIGNED);
    myr_result_free(r);
    run("DROP TEMPORARY TABLE t_flags");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transaction_bits),
        cmocka_unit_test(test_more_results_bit),
        cmocka_unit_test(test_column_flags),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
