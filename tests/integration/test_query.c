/* tests/integration/test_query.c -- queries against the sandbox: result
 * metadata and values, NULLs, binary data, utf8mb4, multi-statements, CALL
 * with several result sets, errors inside a pipeline, a 20 MiB value, OK
 * packets (affected rows, insert id, info, warnings). */
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

static void test_values_and_metadata(void **state)
{
    (void)state;
    myr_result *r = sandbox_query(g_conn,
        "SELECT 42 AS i, NULL AS n, 'a\\0b\\tc' AS bin, _utf8mb4 0xF09F988020E4BDA0 AS emoji, "
        "CAST(-1.5 AS DECIMAL(10,2)) AS d, 18446744073709551615 AS big");
    assert_int_equal(myr_result_column_count(r), 6);
    const myr_column *c0 = myr_result_column(r, 0);
    assert_int_equal(c0->name_len, 1);
    assert_memory_equal(c0->name, "i", 1);
    assert_true(c0->type == MYR_TYPE_LONG || c0->type == MYR_TYPE_LONGLONG);
    assert_int_equal(myr_result_column(r, 4)->type, MYR_TYPE_NEWDECIMAL);
    assert_int_equal(myr_result_column(r, 4)->decimals, 2);
    assert_null(myr_result_column(r, 6));

    size_t len;
    assert_string_equal(myr_result_value(r, 0, 0, &len), "42");
    assert_null(myr_result_value(r, 0, 1, &len));
    assert_int_equal(len, 0);
    const char *bin = myr_result_value(r, 0, 2, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(bin, "a\0b\tc", 5);
    const char *emoji = myr_result_value(r, 0, 3, &len);
    assert_int_equal(len, 8);
    assert_memory_equal(emoji, "\xF0\x9F\x98\x80 \xE4\xBD\xA0", 8);
    assert_string_equal(myr_result_value(r, 0, 4, NULL), "-1.50");
    assert_string_equal(myr_result_value(r, 0, 5, NULL), "18446744073709551615");
    assert_null(myr_result_value(r, 1, 0, &len));   /* out of range */
    myr_result_free(r);
}

static void test_ok_packets(void **state)
{
    (void)state;
    myr_result_free(sandbox_query(g_conn, "CREATE TEMPORARY TABLE t_ok (id INT AUTO_INCREMENT PRIMARY KEY, v INT)"));
    myr_result *r = sandbox_query(g_conn, "INSERT INTO t_ok (v) VALUES (1),(2),(3)");
    assert_int_equal(myr_result_column_count(r), 0);
    assert_int_equal(myr_result_affected_rows(r), 3);
    assert_int_equal(myr_result_insert_id(r), 1);
    /* exactly the text, no length byte in front (the server prefixes it) */
    assert_string_equal(myr_result_info(r), "Records: 3  Duplicates: 0  Warnings: 0");
    myr_result_free(r);
    r = sandbox_query(g_conn, "UPDATE t_ok SET v = v + 1 WHERE v >= 2");
    assert_int_equal(myr_result_affected_rows(r), 2);
    assert_string_equal(myr_result_info(r), "Rows matched: 2  Changed: 2  Warnings: 0");
    myr_result_free(r);
    myr_error err;
    r = myr_query_sync(g_conn, "INSERT INTO t_ok (v) VALUES ('x')", 33, &err);   /* strict mode */
    assert_null(r);
    assert_int_equal(err.mysql_errno, 1366);
    assert_string_equal(err.sqlstate, "22007");
}

static void test_multi_statements(void **state)
{
    (void)state;
    myr_result *r = sandbox_query(g_conn, "SELECT 1; SELECT 2, 3; DO 1");
    assert_int_equal(myr_result_column_count(r), 1);
    myr_result *r2 = myr_result_next(r);
    assert_non_null(r2);
    assert_int_equal(myr_result_column_count(r2), 2);
    assert_string_equal(myr_result_value(r2, 0, 1, NULL), "3");
    myr_result *r3 = myr_result_next(r2);
    assert_non_null(r3);
    assert_int_equal(myr_result_column_count(r3), 0);
    assert_null(myr_result_next(r3));
    myr_result_free(r);
}

static void test_call_procedure(void **state)
{
    (void)state;
    myr_result_free(sandbox_query(g_conn, "DROP PROCEDURE IF EXISTS p_two_sets"));
    myr_result_free(sandbox_query(g_conn,
        "CREATE PROCEDURE p_two_sets() BEGIN SELECT 'first' AS a; SELECT seq FROM seq_1_to_3; END"));
    myr_result *r = sandbox_query(g_conn, "CALL p_two_sets()");
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "first");
    myr_result *r2 = myr_result_next(r);
    assert_int_equal(myr_result_row_count(r2), 3);
    assert_string_equal(myr_result_value(r2, 2, 0, NULL), "3");
    myr_result *r3 = myr_result_next(r2);   /* the CALL's own OK */
    assert_non_null(r3);
    assert_int_equal(myr_result_column_count(r3), 0);
    assert_null(myr_result_next(r3));
    myr_result_free(r);
    myr_result_free(sandbox_query(g_conn, "DROP PROCEDURE p_two_sets"));
}

static void test_error_in_pipeline(void **state)
{
    (void)state;
    myr_future *fs[3] = {
        myr_query(g_conn, "SELECT 'before'", 15),
        myr_query(g_conn, "SELECT * FROM no_such_table_xyz", 32),
        myr_query(g_conn, "SELECT 'after'", 14),
    };
    assert_int_equal(myr_gather(fs, 3, 10000), 0);
    assert_int_equal(myr_future_status(fs[0]), 0);
    assert_int_equal(myr_future_status(fs[1]), MYR_ESERVER);
    const myr_error *e = myr_future_error(fs[1]);
    assert_int_equal(e->mysql_errno, 1146);
    assert_string_equal(e->sqlstate, "42S02");
    assert_non_null(strstr(e->message, "no_such_table_xyz"));
    assert_int_equal(myr_future_status(fs[2]), 0);
    myr_result *r = myr_future_take_result(fs[2]);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "after");
    myr_result_free(r);
    for (int i = 0; i < 3; i++)
        myr_future_free(fs[i]);
    assert_true(myr_conn_alive(g_conn));
}

static void test_multi_statement_error_keeps_earlier_results(void **state)
{
    (void)state;
    myr_future *f = myr_query(g_conn, "SELECT 1; SELECT * FROM no_such_table_xyz; SELECT 3", 50);
    assert_int_equal(myr_await(f, 10000), MYR_ESERVER);
    assert_int_equal(myr_future_error(f)->mysql_errno, 1146);
    myr_result *r = myr_future_take_result(f);   /* what came before the error */
    assert_non_null(r);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "1");
    assert_null(myr_result_next(r));
    myr_result_free(r);
    myr_future_free(f);
    myr_result *ok = sandbox_query(g_conn, "SELECT 'still fine'");
    myr_result_free(ok);

    /* The blocking call hands out the same partial results, with the error. */
    myr_error err;
    r = myr_query_sync(g_conn, "SELECT 1; SELECT * FROM no_such_table_xyz; SELECT 3", 50, &err);
    assert_int_equal(err.code, MYR_ESERVER);
    assert_int_equal(err.mysql_errno, 1146);
    assert_string_equal(err.sqlstate, "42S02");
    assert_non_null(r);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "1");
    assert_null(myr_result_next(r));
    myr_result_free(r);
}

static void test_large_value(void **state)
{
    (void)state;
    /* 20 MiB: the row arrives split over two frames and is joined. */
    myr_result *r = sandbox_query(g_conn, "SELECT REPEAT('x', 20*1024*1024) AS big, 'tail' AS t");
    size_t len;
    const char *v = myr_result_value(r, 0, 0, &len);
    assert_non_null(v);
    assert_int_equal(len, 20u * 1024 * 1024);
    assert_int_equal(v[0], 'x');
    assert_int_equal(v[len - 1], 'x');
    assert_int_equal(v[len], '\0');
    assert_string_equal(myr_result_value(r, 0, 1, NULL), "tail");
    myr_result_free(r);

    /* And a 17 MiB statement going out split. */
    size_t n = 17u * 1024 * 1024;
    char *sql = malloc(n + 64);
    int h = sprintf(sql, "SELECT LENGTH('");
    memset(sql + h, 'y', n);
    strcpy(sql + h + n, "')");
    myr_error err;
    r = myr_query_sync(g_conn, sql, strlen(sql), &err);
    free(sql);
    if (r == NULL)
        fail_msg("%u %s", err.mysql_errno, err.message);
    char want[32];
    snprintf(want, sizeof want, "%zu", n);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), want);
    myr_result_free(r);
}

static void test_many_rows(void **state)
{
    (void)state;
    myr_result *r = sandbox_query(g_conn, "SELECT seq, seq * 2, CONCAT('row', seq) FROM seq_1_to_100000");
    assert_int_equal(myr_result_row_count(r), 100000);
    assert_string_equal(myr_result_value(r, 99999, 0, NULL), "100000");
    assert_string_equal(myr_result_value(r, 99999, 2, NULL), "row100000");
    assert_string_equal(myr_result_value(r, 500, 1, NULL), "1002");
    myr_result_free(r);
}

static void test_empty_result(void **state)
{
    (void)state;
    myr_result *r = sandbox_query(g_conn, "SELECT 1 AS a FROM DUAL WHERE 1 = 0");
    assert_int_equal(myr_result_column_count(r), 1);
    assert_int_equal(myr_result_row_count(r), 0);
    myr_result_free(r);
}

static void test_warnings(void **state)
{
    (void)state;
    myr_result *r = sandbox_query(g_conn, "SELECT CAST('12abc' AS INTEGER)");
    assert_int_equal(myr_result_warnings(r), 1);
    myr_result_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_and_metadata),
        cmocka_unit_test(test_ok_packets),
        cmocka_unit_test(test_multi_statements),
        cmocka_unit_test(test_call_procedure),
        cmocka_unit_test(test_error_in_pipeline),
        cmocka_unit_test(test_multi_statement_error_keeps_earlier_results),
        cmocka_unit_test(test_large_value),
        cmocka_unit_test(test_many_rows),
        cmocka_unit_test(test_empty_result),
        cmocka_unit_test(test_warnings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
