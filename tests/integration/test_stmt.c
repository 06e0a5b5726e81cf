/* tests/integration/test_stmt.c -- prepared statements against the
 * sandbox: every column type read through the binary protocol gives the
 * same values as the same SELECT through the text protocol; parameters of
 * every kind round-trip; typed getters; client-side refusals (wrong count,
 * wrong type: failed at once, nothing sent); server errors; statements
 * invalidated by a reset; a statement outliving its connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "internal.h"
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

static void exec_sql(const char *sql) { myr_result_free(sandbox_query(g_conn, sql)); }

static myr_stmt *prepare(myr_conn *c, const char *sql)
{
    myr_future *f = myr_prepare(c, sql, strlen(sql));
    assert_non_null(f);
    assert_int_equal(myr_await(f, 10000), 0);
    myr_stmt *s = myr_future_take_stmt(f);
    assert_non_null(s);
    assert_null(myr_future_take_stmt(f));   /* taken once */
    myr_future_free(f);
    return s;
}

static myr_result *execute(myr_stmt *s, const myr_param *p, size_t n)
{
    myr_future *f = myr_stmt_execute(s, p, n);
    assert_non_null(f);
    int rc = myr_await(f, 10000);
    if (rc != 0)
        fail_msg("execute: %d %u %s", rc, myr_future_error(f)->mysql_errno, myr_future_error(f)->message);
    myr_result *r = myr_future_take_result(f);
    myr_future_free(f);
    return r;
}

static void close_stmt(myr_stmt *s)
{
    myr_future *f = myr_stmt_close(s);
    assert_non_null(f);
    assert_int_equal(myr_await(f, 10000), 0);
    myr_future_free(f);
}

/* The same SELECT through both protocols: same shape, same types, every
 * value byte for byte. Returns the number of values compared. */
static size_t same_both_ways(const char *sql)
{
    myr_result *t = sandbox_query(g_conn, sql);
    myr_stmt *s = prepare(g_conn, sql);
    assert_int_equal(myr_stmt_column_count(s), myr_result_column_count(t));
    myr_result *b = execute(s, NULL, 0);
    size_t compared = 0;
    assert_int_equal(myr_result_column_count(b), myr_result_column_count(t));
    assert_int_equal(myr_result_row_count(b), myr_result_row_count(t));
    for (size_t j = 0; j < myr_result_column_count(t); j++) {
        const myr_column *ct = myr_result_column(t, j), *cb = myr_result_column(b, j);
        assert_int_equal(ct->type, cb->type);
        assert_int_equal(ct->name_len, cb->name_len);
        assert_memory_equal(ct->name, cb->name, ct->name_len);
        assert_int_equal(myr_stmt_column(s, j)->type, ct->type);
    }
    for (size_t i = 0; i < myr_result_row_count(t); i++)
        for (size_t j = 0; j < myr_result_column_count(t); j++) {
            size_t lt, lb;
            const char *vt = myr_result_value(t, i, j, &lt), *vb = myr_result_value(b, i, j, &lb);
            const myr_column *c = myr_result_column(t, j);
            if ((vt == NULL) != (vb == NULL) || lt != lb || (vt && memcmp(vt, vb, lt) != 0))
                fail_msg("row %zu column %.*s (type %u, decimals %u, flags 0x%x): text '%.*s' (%zu) "
                         "binary '%.*s' (%zu)",
                         i, (int)c->name_len, c->name, c->type, c->decimals, c->flags, (int)lt,
                         vt ? vt : "NULL", lt, (int)lb, vb ? vb : "NULL", lb);
            if (vb != NULL)
                assert_int_equal(vb[lb], '\0');
            compared++;
        }
    myr_result_free(t);
    myr_result_free(b);
    close_stmt(s);
    return compared;
}

static void test_every_type_both_ways(void **state)
{
    (void)state;
    exec_sql("CREATE TEMPORARY TABLE t_types ("
             " id INT PRIMARY KEY,"
             " ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,"
             " mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,"
             " bi BIGINT, biu BIGINT UNSIGNED, iz INT(6) ZEROFILL, tz TINYINT(3) ZEROFILL,"
             " f FLOAT, fd FLOAT(7,3), d DOUBLE, dd DOUBLE(12,4),"
             " dec1 DECIMAL(10,2), dec2 DECIMAL(65,30),"
             " dt DATE, tm TIME, tm6 TIME(6), dtm DATETIME, dtm6 DATETIME(6),"
             " ts TIMESTAMP NULL DEFAULT NULL, ts3 TIMESTAMP(3) NULL DEFAULT NULL, y YEAR,"
             " b1 BIT(1), b10 BIT(10), b64 BIT(64),"
             " e ENUM('a','b\xc3\xa9','c'), st SET('x','y','z'), j JSON,"
             " vc VARCHAR(100), ch CHAR(10), tx TEXT, bl BLOB, vb VARBINARY(20), bn BINARY(4)"
             ") CHARSET utf8mb4");
    exec_sql("INSERT INTO t_types VALUES"
             " (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, 0, 0,"
             "  -3.40282e38, -9999.999, -1.7976931348623157e308, -99999999.9999,"
             "  -99999999.99, -99999999999999999999999999999999999.999999999999999999999999999999,"
             "  '0000-00-00', '-838:59:59', '-12:34:56.789012', '1000-01-01 00:00:00',"
             "  '2024-02-29 23:59:59.999999', '1970-01-01 00:00:01', '2038-01-19 03:14:07.499', 1901,"
             "  b'0', b'0', b'0', 'a', '', '[]', '', '', '', '', '', ''),"
             " (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,"
             "  9223372036854775807, 18446744073709551615, 999999, 7,"
             "  3.40282e38, 9999.999, 1.7976931348623157e308, 99999999.9999,"
             "  99999999.99, 99999999999999999999999999999999999.999999999999999999999999999999,"
             "  '9999-12-31', '838:59:59', '838:59:59.999999', '9999-12-31 23:59:59',"
             "  '0001-01-01 00:00:00.000001', '2038-01-19 03:14:07', '2000-01-01 00:00:00.5', 2155,"
             "  b'1', b'1111111111', b'1111111111111111111111111111111111111111111111111111111111111111',"
             "  'b\xc3\xa9', 'x,y,z', '{\"a\": [1, 2.5, \"\xc3\xa9\"], \"b\": null}',"
             "  'h\xc3\xa9llo \xf0\x9f\x98\x80 \xe4\xbd\xa0\xe5\xa5\xbd', 'ab', REPEAT('long text ', 100),"
             "  X'00FF0041000000', X'000102', X'61')");
    exec_sql("INSERT INTO t_types (id) VALUES (3)");   /* every other column NULL */
    exec_sql("INSERT INTO t_types VALUES"
             " (4, 1, 1, -1, 1, -1, 1, 42, 42, -42, 42, 42, 42,"
             "  3.14159265, 3.14159, 0.1, 1.5, 0.5, 0.000000000000000000000000000001,"
             "  '2024-02-29', '100:00:00', '-00:00:00.000001', '2024-02-29 12:00:00',"
             "  '2024-02-29 12:00:00.100000', NULL, '2024-06-30 12:00:00.001', 0,"
             "  b'1', b'1000000001', b'1000000000000000000000000000000000000000000000000000000000000001',"
             "  'c', 'x,z', '{\"k\": \"\\\\u00e9\"}', CONCAT('a', CHAR(0), 'b'), 'padded', 'x',"
             "  X'00', X'', X'00000000')");
    size_t n = same_both_ways("SELECT * FROM t_types ORDER BY id");
    assert_int_equal(n, 4 * 39);
}

static void test_floats_and_doubles_both_ways(void **state)
{
    (void)state;
    exec_sql("CREATE TEMPORARY TABLE t_real (id INT PRIMARY KEY, f FLOAT, d DOUBLE)");
    exec_sql("INSERT INTO t_real VALUES (1, 1e10, 1e15), (2, 123456789, 1e16), (3, 1.17549e-38, 5e-324),"
             " (4, 16777217, 0.1), (5, 0.000001, 1e-15), (6, 1e-5, 1.5e-15), (7, 1234567, 1e-16),"
             " (8, 1e15, 123456789012345678), (9, 1e16, 1000000000000001), (10, 0, 0),"
             " (11, -1e-15, -0.3333333333333333), (12, 3.4e38, 2.2250738585072014e-308),"
             " (13, 100, 100), (14, 0.5, 4503599627370497), (15, 1e-14, 1e-14)");
    exec_sql("INSERT INTO t_real WITH RECURSIVE s(n) AS (SELECT 100 UNION ALL SELECT n + 1 FROM s"
             " WHERE n < 1099) SELECT n, (RAND(n) - 0.5) * POW(10, n % 76 - 38),"
             " (RAND(n + 7) - 0.5) * POW(10, n % 600 - 300) FROM s");
    assert_int_equal(same_both_ways("SELECT * FROM t_real ORDER BY id"), 1015 * 3);
    /* Expressions: doubles with and without fixed decimals, DECIMAL, ints
     * of the width the server picks, temporals with fractions. */
    same_both_ways("SELECT 0.1e0, 1e15, 1e16, 1.5e-15, 1e-16, -2.5e300, 1e0/3, 123456789012345678e0,"
                   " 1e15 + 1, ROUND(2.5e0, 2), ROUND(1.23456e0, 3), NULL, 1, -1, 18446744073709551615,"
                   " 9223372036854775807, -9223372036854775808, CAST(1.5 AS DECIMAL(5,2)), 1.0,"
                   " 100000000000000000000, DATE'2020-01-01', TIME'-10:00:00.5',"
                   " CAST('2020-01-01 01:02:03.456' AS DATETIME(3)), 'abc', X'00', SQRT(2), PI(),"
                   " CAST(3 AS UNSIGNED), CAST(-3 AS SIGNED), 1 = 1, YEAR('2020-05-05')");
}

static void test_params_round_trip(void **state)
{
    (void)state;
    exec_sql("CREATE TEMPORARY TABLE t_par (id INT PRIMARY KEY, bi BIGINT, bu BIGINT UNSIGNED, d DOUBLE,"
             " s VARCHAR(50) CHARSET utf8mb4, b BLOB, dt DATE, tm TIME(6), dtm DATETIME(6), n INT)");
    myr_stmt *ins = prepare(g_conn, "INSERT INTO t_par VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    assert_int_equal(myr_stmt_param_count(ins), 10);
    assert_int_equal(myr_stmt_column_count(ins), 0);
    static const char blob[] = {'a', 0, 'b', 0, (char)0xff};
    const char *utf = "h\xc3\xa9llo \xf0\x9f\x98\x80";
    myr_time dtm = {.year = 2024, .month = 2, .day = 29, .hour = 23, .minute = 59, .second = 58,
                    .microsecond = 123456};
    char s_buf[64];
    strcpy(s_buf, utf);
    myr_param p[10] = {
        myr_param_i64(1), myr_param_i64(INT64_MIN), myr_param_u64(UINT64_MAX), myr_param_double(0.1),
        myr_param_str(s_buf, strlen(s_buf)), myr_param_blob(blob, sizeof blob), myr_param_date(2024, 2, 29),
        myr_param_time(1, 100, 2, 3, 500000), myr_param_datetime(&dtm), myr_param_null(),
    };
    myr_future *f = myr_stmt_execute(ins, p, 10);
    /* Everything was copied: scribbling over it now changes nothing. */
    memset(s_buf, 'X', sizeof s_buf);
    memset(p, 0, sizeof p);
    assert_int_equal(myr_await(f, 10000), 0);
    myr_result *r = myr_future_take_result(f);
    assert_int_equal(myr_result_affected_rows(r), 1);
    myr_result_free(r);
    myr_future_free(f);

    myr_param p2[10] = {
        myr_param_i64(2), myr_param_i64(INT64_MAX), myr_param_u64(0), myr_param_double(-1.5e-300),
        myr_param_str("", 0), myr_param_blob(NULL, 0), myr_param_date(1, 1, 1),
        myr_param_time(0, 838, 59, 59, 0), myr_param_datetime(&(myr_time){.year = 1970, .month = 1, .day = 1}),
        myr_param_i64(-7),
    };
    myr_result_free(execute(ins, p2, 10));
    close_stmt(ins);

    r = sandbox_query(g_conn, "SELECT * FROM t_par ORDER BY id");
    static const char *const want[2][10] = {
        {"1", "-9223372036854775808", "18446744073709551615", "0.1", "h\xc3\xa9llo \xf0\x9f\x98\x80",
         NULL, "2024-02-29", "-100:02:03.500000", "2024-02-29 23:59:58.123456", NULL},
        {"2", "9223372036854775807", "0", "-1.5e-300", "", "", "0001-01-01", "838:59:59.000000",
         "1970-01-01 00:00:00.000000", "-7"},
    };
    assert_int_equal(myr_result_row_count(r), 2);
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < 10; j++) {
            size_t len;
            const char *v = myr_result_value(r, i, j, &len);
            if (i == 0 && j == 5) {
                assert_int_equal(len, sizeof blob);
                assert_memory_equal(v, blob, sizeof blob);
            } else if (want[i][j] == NULL) {
                assert_null(v);
            } else {
                assert_non_null(v);
                assert_string_equal(v, want[i][j]);
            }
        }
    myr_result_free(r);

    /* SELECT ? hands each parameter back through the binary protocol. */
    myr_stmt *sel = prepare(g_conn, "SELECT ?, ?, ?, ?, ?");
    myr_param q[5] = {myr_param_u64(UINT64_MAX), myr_param_double(1e300), myr_param_str(utf, strlen(utf)),
                      myr_param_blob(blob, sizeof blob), myr_param_null()};
    r = execute(sel, q, 5);
    size_t len;
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "18446744073709551615");
    assert_string_equal(myr_result_value(r, 0, 1, NULL), "1e300");
    assert_string_equal(myr_result_value(r, 0, 2, NULL), utf);
    assert_memory_equal(myr_result_value(r, 0, 3, &len), blob, sizeof blob);
    assert_int_equal(len, sizeof blob);
    assert_null(myr_result_value(r, 0, 4, &len));
    myr_result_free(r);
    close_stmt(sel);
}

static void test_typed_getters(void **state)
{
    (void)state;
    const char *sql = "SELECT CAST(-5 AS SIGNED), 18446744073709551615, CAST(3.14159 AS FLOAT), 0.1e0,"
                      " CAST(2.50 AS DECIMAL(5,2)), DATE'2024-02-29', TIME'-100:02:03.5',"
                      " CAST('2024-02-29 01:02:03.25' AS DATETIME(2)), NULL, 'text', b, YEAR('2020-05-05')"
                      " FROM t_get";
    exec_sql("CREATE TEMPORARY TABLE t_get (b BIT(8))");
    exec_sql("INSERT INTO t_get VALUES (b'101')");
    myr_stmt *s = prepare(g_conn, sql);
    myr_result *rs[2] = {execute(s, NULL, 0), sandbox_query(g_conn, sql)};
    close_stmt(s);
    for (int k = 0; k < 2; k++) {
        myr_result *r = rs[k];
        int64_t i;
        uint64_t u;
        double d;
        myr_time t;
        assert_int_equal(myr_result_int64(r, 0, 0, &i), 0);
        assert_int_equal(i, -5);
        assert_int_equal(myr_result_uint64(r, 0, 0, &u), MYR_EINVAL);   /* negative */
        assert_int_equal(myr_result_uint64(r, 0, 1, &u), 0);
        assert_true(u == UINT64_MAX);
        assert_int_equal(myr_result_int64(r, 0, 1, &i), MYR_EINVAL);   /* too large */
        assert_int_equal(myr_result_double(r, 0, 2, &d), 0);
        if (k == 0)
            assert_true(d == (double)3.14159f);   /* binary: the exact float */
        else
            assert_true(d == 3.14159);            /* text: its 6 digits */
        assert_int_equal(myr_result_double(r, 0, 3, &d), 0);
        assert_true(d == 0.1);
        assert_int_equal(myr_result_double(r, 0, 4, &d), 0);
        assert_true(d == 2.5);
        assert_int_equal(myr_result_int64(r, 0, 4, &i), MYR_EINVAL);   /* DECIMAL is not an integer */
        assert_int_equal(myr_result_time(r, 0, 5, &t), 0);
        assert_int_equal(t.year, 2024);
        assert_int_equal(t.month, 2);
        assert_int_equal(t.day, 29);
        assert_int_equal(myr_result_time(r, 0, 6, &t), 0);
        assert_int_equal(t.negative, 1);
        assert_int_equal(t.hour, 100);
        assert_int_equal(t.minute, 2);
        assert_int_equal(t.second, 3);
        assert_int_equal(t.microsecond, 500000);
        assert_int_equal(myr_result_time(r, 0, 7, &t), 0);
        assert_int_equal(t.hour, 1);
        assert_int_equal(t.second, 3);
        assert_int_equal(t.microsecond, 250000);
        assert_int_equal(myr_result_int64(r, 0, 8, &i), 1);      /* NULL */
        assert_int_equal(myr_result_int64(r, 0, 9, &i), MYR_EINVAL);   /* a string */
        assert_int_equal(myr_result_time(r, 0, 0, &t), MYR_EINVAL);
        assert_int_equal(myr_result_uint64(r, 0, 10, &u), 0);    /* BIT */
        assert_int_equal(u, 5);
        assert_int_equal(myr_result_int64(r, 0, 11, &i), 0);
        assert_int_equal(i, 2020);
        assert_int_equal(myr_result_int64(r, 0, 12, &i), MYR_EINVAL);   /* out of range */
        assert_int_equal(myr_result_int64(r, 1, 0, &i), MYR_EINVAL);
        myr_result_free(r);
    }
    assert_int_equal(myr_result_int64(NULL, 0, 0, NULL), MYR_EINVAL);
}

static void test_refused_before_sending(void **state)
{
    (void)state;
    myr_stmt *s = prepare(g_conn, "SELECT ? + ?");
    assert_int_equal(myr_stmt_param_count(s), 2);
    myr_param p[3] = {myr_param_i64(1), myr_param_i64(2), myr_param_i64(3)};
    myr_future *f = myr_stmt_execute(s, p, 3);   /* one too many */
    assert_true(myr_future_done(f));
    assert_int_equal(myr_future_status(f), MYR_EINVAL);
    assert_int_equal(myr_future_error(f)->mysql_errno, 2034);
    assert_null(myr_future_take_result(f));
    assert_int_equal(myr__buf_unread(&g_conn->out), 0);   /* nothing queued */
    assert_int_equal(g_conn->ncmds, 0);
    myr_future_free(f);
    f = myr_stmt_execute(s, p, 1);
    assert_int_equal(myr_future_status(f), MYR_EINVAL);
    myr_future_free(f);
    p[1].type = 99;   /* no such kind */
    f = myr_stmt_execute(s, p, 2);
    assert_true(myr_future_done(f));
    assert_int_equal(myr_future_error(f)->mysql_errno, 2036);
    assert_int_equal(g_conn->ncmds, 0);
    myr_future_free(f);
    p[1] = myr_param_date(2024, 13, 1);   /* month 13 */
    f = myr_stmt_execute(s, p, 2);
    assert_int_equal(myr_future_error(f)->mysql_errno, 2036);
    myr_future_free(f);
    p[1] = myr_param_str(NULL, 3);
    f = myr_stmt_execute(s, p, 2);
    assert_int_equal(myr_future_error(f)->mysql_errno, 2036);
    myr_future_free(f);
    f = myr_stmt_execute(NULL, p, 2);
    assert_int_equal(myr_future_status(f), MYR_EINVAL);
    myr_future_free(f);
    /* The statement still works. */
    p[1] = myr_param_i64(40);
    p[0] = myr_param_i64(2);
    myr_result *r = execute(s, p, 2);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "42");
    myr_result_free(r);
    close_stmt(s);
}

static void test_server_errors(void **state)
{
    (void)state;
    myr_future *f = myr_prepare(g_conn, "SELEC 1", 7);
    assert_int_equal(myr_await(f, 10000), MYR_ESERVER);
    assert_int_equal(myr_future_error(f)->mysql_errno, 1064);
    assert_string_equal(myr_future_error(f)->sqlstate, "42000");
    assert_null(myr_future_take_stmt(f));
    myr_future_free(f);
    /* An error at execute time fails that execute only. */
    exec_sql("CREATE TEMPORARY TABLE t_err (id INT PRIMARY KEY)");
    myr_stmt *s = prepare(g_conn, "INSERT INTO t_err VALUES (?)");
    myr_param p = myr_param_i64(1);
    myr_future *fs[3] = {myr_stmt_execute(s, &p, 1), myr_stmt_execute(s, &p, 1), myr_stmt_execute(s, &p, 1)};
    assert_int_equal(myr_gather(fs, 3, 10000), 0);
    assert_int_equal(myr_future_status(fs[0]), 0);
    assert_int_equal(myr_future_status(fs[1]), MYR_ESERVER);
    assert_int_equal(myr_future_error(fs[1])->mysql_errno, 1062);   /* duplicate key */
    assert_int_equal(myr_future_status(fs[2]), MYR_ESERVER);
    for (int i = 0; i < 3; i++)
        myr_future_free(fs[i]);
    close_stmt(s);
    /* Closing twice is the application's bug; a closed id is unknown to the server. */
    myr_result_free(sandbox_query(g_conn, "SELECT 1"));
}

static void test_reset_invalidates(void **state)
{
    (void)state;
    myr_stmt *s = prepare(g_conn, "SELECT 1");
    myr_future *f = myr_reset(g_conn);
    assert_int_equal(myr_await(f, 10000), 0);
    myr_future_free(f);
    f = myr_stmt_execute(s, NULL, 0);
    assert_true(myr_future_done(f));
    assert_int_equal(myr_future_error(f)->mysql_errno, 2030);
    myr_future_free(f);
    close_stmt(s);   /* nothing to close on the server: resolves OK */
}

static void test_untaken_and_orphaned(void **state)
{
    (void)state;
    myr_conn *c = sandbox_connect(NULL);
    /* A prepare future freed unresolved or untaken: the statement is
     * closed on the server (the session's prepared count goes back). */
    myr_future *f = myr_prepare(c, "SELECT 1", 8);
    myr_future_free(f);
    f = myr_prepare(c, "SELECT 2", 8);
    assert_int_equal(myr_await(f, 10000), 0);
    myr_future_free(f);
    myr_error err;
    myr_result *r = myr_query_sync(c, "SHOW SESSION STATUS LIKE 'Com_stmt_close'", 41, &err);
    assert_non_null(r);
    assert_string_equal(myr_result_value(r, 0, 1, NULL), "2");
    myr_result_free(r);
    /* A statement outlives its connection as a handle. */
    myr_stmt *s = prepare(c, "SELECT 3");
    assert_ptr_equal(myr_stmt_conn(s), c);
    myr_close_sync(c, NULL);
    assert_null(myr_stmt_conn(s));
    f = myr_stmt_execute(s, NULL, 0);
    assert_int_equal(myr_future_status(f), MYR_ECLOSED);
    myr_future_free(f);
    close_stmt(s);
}

static long session_status(myr_conn *c, const char *name)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SHOW SESSION STATUS LIKE '%s'", name);
    myr_error err;
    myr_result *r = myr_query_sync(c, sql, strlen(sql), &err);
    assert_non_null(r);
    long v = atol(myr_result_value(r, 0, 1, NULL));
    myr_result_free(r);
    return v;
}

/* 1,000 executes queued without waiting leave in one send and resolve in
 * order, each with its own result. */
static void test_pipelined_executes(void **state)
{
    (void)state;
    enum { N = 1000 };
    myr_stmt *s = prepare(g_conn, "SELECT ? * 2, CONCAT('row ', ?)");
    static myr_future *fs[N];
    uint64_t sent0 = g_conn->sent_pos;
    size_t out0 = myr__buf_unread(&g_conn->out);
    for (int i = 0; i < N; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "%d", i);
        myr_param p[2] = {myr_param_i64(i), myr_param_str(tag, strlen(tag))};
        fs[i] = myr_stmt_execute(s, p, 2);
        assert_false(myr_future_done(fs[i]));
    }
    size_t queued = myr__buf_unread(&g_conn->out) - out0;
    assert_true(queued > N * 20);   /* all of them wait in the outgoing buffer */
    assert_int_equal(g_conn->ncmds, N);
    /* One tick: everything queued is handed to the kernel as one send. */
    assert_true(myr_loop_run_once(myr_conn_loop(g_conn), 0) >= 0);
    assert_int_equal(myr__buf_unread(&g_conn->out), 0);
    assert_int_equal((g_conn->sent_pos - sent0) + myr__buf_unread(&g_conn->sending), queued);
    assert_int_equal(myr_gather(fs, N, 20000), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(myr_future_status(fs[i]), 0);
        myr_result *r = myr_future_take_result(fs[i]);
        char want[32];
        snprintf(want, sizeof want, "%d", i * 2);
        assert_string_equal(myr_result_value(r, 0, 0, NULL), want);
        snprintf(want, sizeof want, "row %d", i);
        assert_string_equal(myr_result_value(r, 0, 1, NULL), want);
        myr_result_free(r);
        myr_future_free(fs[i]);
    }
    close_stmt(s);
}

/* Parameters of 1 MiB and more go ahead as COM_STMT_SEND_LONG_DATA. */
static void test_long_data(void **state)
{
    (void)state;
    size_t big = 20u << 20, mid = (1u << 20) + 3;   /* 20 MiB: several chunks and frames */
    char *a = malloc(big), *b = malloc(mid);
    assert_non_null(a);
    assert_non_null(b);
    for (size_t i = 0; i < big; i++)
        a[i] = (char)(i * 7 + (i >> 13));
    for (size_t i = 0; i < mid; i++)
        b[i] = (char)('a' + i % 26);
    long before = session_status(g_conn, "Com_stmt_send_long_data");
    myr_stmt *s = prepare(g_conn, "SELECT LENGTH(?), ?, ?, ?");
    myr_param p[4] = {myr_param_blob(a, big), myr_param_blob(a, big), myr_param_str(b, mid),
                      myr_param_i64(7)};
    myr_result *r = execute(s, p, 4);
    long after = session_status(g_conn, "Com_stmt_send_long_data");
    assert_int_equal(after - before, 2 * 5 + 1);   /* 20 MiB in 4 MiB chunks, twice; 1 MiB once */
    char want[64];
    size_t len;
    snprintf(want, sizeof want, "%zu", big);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), want);
    const char *v = myr_result_value(r, 0, 1, &len);
    assert_int_equal(len, big);
    assert_memory_equal(v, a, big);
    v = myr_result_value(r, 0, 2, &len);
    assert_int_equal(len, mid);
    assert_memory_equal(v, b, mid);
    assert_string_equal(myr_result_value(r, 0, 3, NULL), "7");
    myr_result_free(r);
    free(a);
    free(b);
    close_stmt(s);
}

/* myr_stmt_execute_bulk with COM_STMT_BULK_EXECUTE (MariaDB offers it)
 * and with the row-by-row fallback (MYR_OPT_MARIADB_EXTENSIONS 0 makes
 * the server look like one without): same rows, same answer. */
static void bulk_insert(int extensions)
{
    myr_conn_opts *o = sandbox_opts(0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_MARIADB_EXTENSIONS, extensions), 0);
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    assert_non_null(c);
    assert_int_equal((c->mariadb_caps & MYR__MARIADB_CLIENT_STMT_BULK_OPERATIONS) != 0, extensions);
    myr_result_free(sandbox_query(c, "CREATE TEMPORARY TABLE t_bulk (id INT AUTO_INCREMENT PRIMARY KEY,"
                                     " n BIGINT, s VARCHAR(20), d DOUBLE, b BLOB)"));
    enum { ROWS = 1000 };
    static myr_param p[ROWS * 4];
    static char names[ROWS][16];
    for (int i = 0; i < ROWS; i++) {
        snprintf(names[i], sizeof names[i], "name %d", i);
        p[i * 4] = i % 10 == 3 ? myr_param_null() : myr_param_i64(i);
        p[i * 4 + 1] = myr_param_str(names[i], strlen(names[i]));
        p[i * 4 + 2] = i % 7 == 0 ? myr_param_null() : myr_param_double(i / 4.0);
        p[i * 4 + 3] = myr_param_blob("\0\1", i % 3);
    }
    myr_stmt *s = prepare(c, "INSERT INTO t_bulk (n, s, d, b) VALUES (?, ?, ?, ?)");
    long before = session_status(c, "Com_stmt_execute");
    myr_future *f = myr_stmt_execute_bulk(s, p, 4, ROWS);
    memset(p, 0, sizeof p);   /* copied */
    memset(names, 0, sizeof names);
    if (myr_await(f, 20000) != 0)
        fail_msg("bulk: %u %s", myr_future_error(f)->mysql_errno, myr_future_error(f)->message);
    myr_result *r = myr_future_take_result(f);
    assert_int_equal(myr_result_affected_rows(r), ROWS);
    assert_int_equal(myr_result_insert_id(r), 1);
    myr_result_free(r);
    myr_future_free(f);
    long executes = session_status(c, "Com_stmt_execute") - before;
    if (extensions)
        assert_true(executes <= 1);
    else
        assert_int_equal(executes, ROWS);
    r = sandbox_query(c, "SELECT COUNT(*), COUNT(n), SUM(n), COUNT(d), SUM(d), SUM(LENGTH(b)),"
                         " MAX(s = CONCAT('name ', id - 1)), MIN(s = CONCAT('name ', id - 1)) FROM t_bulk");
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "1000");
    assert_string_equal(myr_result_value(r, 0, 1, NULL), "900");
    assert_string_equal(myr_result_value(r, 0, 2, NULL), "449700");   /* 499500 - sum(i%10==3) */
    assert_string_equal(myr_result_value(r, 0, 3, NULL), "857");
    assert_string_equal(myr_result_value(r, 0, 5, NULL), "999");
    assert_string_equal(myr_result_value(r, 0, 6, NULL), "1");
    assert_string_equal(myr_result_value(r, 0, 7, NULL), "1");
    myr_result_free(r);
    /* A failing row fails the whole future with the server's error. */
    myr_param dup[4] = {myr_param_i64(1), myr_param_str("x", 1), myr_param_null(), myr_param_null()};
    myr_stmt *s2 = prepare(c, "INSERT INTO t_bulk (id, n, s, d) VALUES (1, ?, ?, ?)");
    f = myr_stmt_execute_bulk(s2, dup, 3, 1);
    assert_int_equal(myr_await(f, 10000), MYR_ESERVER);
    assert_int_equal(myr_future_error(f)->mysql_errno, 1062);
    myr_future_free(f);
    /* Mixed kinds in one column are refused before anything is sent. */
    myr_param mixed[8] = {myr_param_i64(1), myr_param_str("a", 1), myr_param_null(), myr_param_null(),
                          myr_param_str("2", 1), myr_param_str("b", 1), myr_param_null(), myr_param_null()};
    f = myr_stmt_execute_bulk(s, mixed, 4, 2);
    assert_true(myr_future_done(f));
    assert_int_equal(myr_future_error(f)->mysql_errno, 2036);
    myr_future_free(f);
    close_stmt(s2);
    close_stmt(s);
    myr_close_sync(c, NULL);
}

static void test_bulk_execute(void **state)
{
    (void)state;
    bulk_insert(1);
}

static void test_bulk_execute_fallback(void **state)
{
    (void)state;
    bulk_insert(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type_both_ways),
        cmocka_unit_test(test_floats_and_doubles_both_ways),
        cmocka_unit_test(test_params_round_trip),
        cmocka_unit_test(test_typed_getters),
        cmocka_unit_test(test_refused_before_sending),
        cmocka_unit_test(test_server_errors),
        cmocka_unit_test(test_reset_invalidates),
        cmocka_unit_test(test_untaken_and_orphaned),
        cmocka_unit_test(test_pipelined_executes),
        cmocka_unit_test(test_long_data),
        cmocka_unit_test(test_bulk_execute),
        cmocka_unit_test(test_bulk_execute_fallback),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
