/* tests/integration/test_stmt_metadata.c -- MariaDB's result metadata
 * caching (MARIADB_CLIENT_CACHE_METADATA) against the sandbox: with the
 * extensions on, an execute's answer leaves out column definitions that
 * did not change (the server's Bytes_sent shows it) and the client reads
 * the rows with the definitions it kept; after ALTER TABLE (a column
 * added, a column's type changed) the server sends new definitions and
 * later executes use those. The same sequence with the extensions off
 * (definitions every time) gives the same values. Buffered, streamed and
 * myr_query_params executes. */
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

static myr_conn *connect_ext(int ext)
{
    myr_conn_opts *o = sandbox_opts(0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_MARIADB_EXTENSIONS, ext), 0);
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    if (c == NULL)
        fail_msg("connect: %s", err.message);
    myr_conn_opts_free(o);
    return c;
}

static long bytes_sent(myr_conn *c)
{
    myr_result *r = sandbox_query(c, "SHOW SESSION STATUS LIKE 'Bytes_sent'");
    long v = atol(myr_result_value(r, 0, 1, NULL));
    myr_result_free(r);
    return v;
}

/* The rows of an execute as "name=value,..." lines, one string. */
static void render(const myr_result *r, char *out, size_t cap)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < myr_result_row_count(r); i++)
        for (size_t j = 0; j < myr_result_column_count(r); j++) {
            const myr_column *col = myr_result_column(r, j);
            const char *v = myr_result_value(r, i, j, NULL);
            at += (size_t)snprintf(out + at, cap - at, "%.*s=%s%s", (int)col->name_len, col->name,
                                   v ? v : "NULL", j + 1 == myr_result_column_count(r) ? ";" : ",");
        }
}

static void exec_render(myr_stmt *s, char *out, size_t cap)
{
    myr_param p = myr_param_i64(1);
    myr_future *f = myr_stmt_execute(s, &p, 1);
    if (myr_await(f, 10000) != 0)
        fail_msg("execute: %s", myr_future_error(f)->message);
    myr_result *r = myr_future_take_result(f);
    render(r, out, cap);
    myr_result_free(r);
    myr_future_free(f);
}

typedef struct streamed { char text[512]; size_t at; } streamed;

static int on_rows(const myr_result *rows, void *arg)
{
    streamed *st = arg;
    render(rows, st->text + st->at, sizeof st->text - st->at);
    st->at = strlen(st->text);
    return 0;
}

static void stream_render(myr_stmt *s, char *out, size_t cap)
{
    streamed st = {{0}, 0};
    myr_param p = myr_param_i64(1);
    myr_future *f = myr_stmt_execute_stream(s, &p, 1, on_rows, &st);
    assert_int_equal(myr_await(f, 10000), 0);
    myr_future_free(f);
    snprintf(out, cap, "%s", st.text);
}

static void qp_render(myr_conn *c, const char *sql, char *out, size_t cap)
{
    myr_param p = myr_param_i64(1);
    myr_future *f = myr_query_params(c, sql, strlen(sql), &p, 1);
    assert_int_equal(myr_await(f, 10000), 0);
    myr_result *r = myr_future_take_result(f);
    render(r, out, cap);
    myr_result_free(r);
    myr_future_free(f);
}

/* The whole sequence; returns the bytes the server sent for the second
 * (unchanged) execute. */
static long sequence(int ext)
{
    myr_conn *c = connect_ext(ext);
    assert_int_equal((c->mariadb_caps & MYR__MARIADB_CLIENT_CACHE_METADATA) != 0, ext);
    char tbl[64], sql[160], ddl[200], got[512];
    snprintf(tbl, sizeof tbl, "meta_%d", ext);
    snprintf(ddl, sizeof ddl, "DROP TABLE IF EXISTS %s", tbl);
    myr_result_free(sandbox_query(c, ddl));
    snprintf(ddl, sizeof ddl, "CREATE TABLE %s (id INT, name VARCHAR(20))", tbl);
    myr_result_free(sandbox_query(c, ddl));
    snprintf(ddl, sizeof ddl, "INSERT INTO %s VALUES (1, 'one'), (2, 'two')", tbl);
    myr_result_free(sandbox_query(c, ddl));
    snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE id >= ? ORDER BY id", tbl);
    myr_future *pf = myr_prepare(c, sql, strlen(sql));
    assert_int_equal(myr_await(pf, 10000), 0);
    myr_stmt *s = myr_future_take_stmt(pf);
    myr_future_free(pf);

    exec_render(s, got, sizeof got);
    assert_string_equal(got, "id=1,name=one;id=2,name=two;");
    long b0 = bytes_sent(c);
    exec_render(s, got, sizeof got);
    long b1 = bytes_sent(c);
    assert_string_equal(got, "id=1,name=one;id=2,name=two;");
    stream_render(s, got, sizeof got);
    assert_string_equal(got, "id=1,name=one;id=2,name=two;");
    qp_render(c, sql, got, sizeof got);
    assert_string_equal(got, "id=1,name=one;id=2,name=two;");
    qp_render(c, sql, got, sizeof got);   /* a cache hit */
    assert_string_equal(got, "id=1,name=one;id=2,name=two;");

    /* A column added: the server sends three definitions, once. */
    snprintf(ddl, sizeof ddl, "ALTER TABLE %s ADD COLUMN extra INT DEFAULT 7", tbl);
    myr_result_free(sandbox_query(c, ddl));
    exec_render(s, got, sizeof got);
    assert_string_equal(got, "id=1,name=one,extra=7;id=2,name=two,extra=7;");
    exec_render(s, got, sizeof got);
    assert_string_equal(got, "id=1,name=one,extra=7;id=2,name=two,extra=7;");
    stream_render(s, got, sizeof got);
    assert_string_equal(got, "id=1,name=one,extra=7;id=2,name=two,extra=7;");
    qp_render(c, sql, got, sizeof got);
    assert_string_equal(got, "id=1,name=one,extra=7;id=2,name=two,extra=7;");

    /* A type changed (the binary rows' layout with it). */
    snprintf(ddl, sizeof ddl, "ALTER TABLE %s MODIFY id BIGINT, MODIFY extra DOUBLE", tbl);
    myr_result_free(sandbox_query(c, ddl));
    for (int i = 0; i < 2; i++) {
        stream_render(s, got, sizeof got);
        assert_string_equal(got, "id=1,name=one,extra=7;id=2,name=two,extra=7;");
        myr_param p = myr_param_i64(1);
        myr_future *f = myr_stmt_execute(s, &p, 1);
        assert_int_equal(myr_await(f, 10000), 0);
        myr_result *r = myr_future_take_result(f);
        assert_int_equal(myr_result_column(r, 0)->type, MYR_TYPE_LONGLONG);
        assert_int_equal(myr_result_column(r, 2)->type, MYR_TYPE_DOUBLE);
        double d;
        assert_int_equal(myr_result_double(r, 1, 2, &d), 0);
        assert_true(d == 7.0);
        myr_result_free(r);
        myr_future_free(f);
    }
    /* A column dropped. */
    snprintf(ddl, sizeof ddl, "ALTER TABLE %s DROP COLUMN name", tbl);
    myr_result_free(sandbox_query(c, ddl));
    for (int i = 0; i < 2; i++) {
        exec_render(s, got, sizeof got);
        assert_string_equal(got, "id=1,extra=7;id=2,extra=7;");
        qp_render(c, sql, got, sizeof got);
        assert_string_equal(got, "id=1,extra=7;id=2,extra=7;");
    }
    myr_future *f = myr_stmt_close(s);
    assert_int_equal(myr_await(f, 10000), 0);
    myr_future_free(f);
    snprintf(ddl, sizeof ddl, "DROP TABLE %s", tbl);
    myr_result_free(sandbox_query(c, ddl));
    myr_close_sync(c, NULL);
    /* (b1 - b0 also counts the answer to the first SHOW STATUS.) */
    return b1 - b0;
}

static void test_metadata_cached_and_not(void **state)
{
    (void)state;
    long on = sequence(1), off = sequence(0);
    fprintf(stderr, "# bytes the server sent for an unchanged execute (+ one SHOW STATUS): "
                    "metadata cached %ld, not cached %ld\n", on, off);
    assert_true(on < off);
    assert_true(off - on >= 2 * 30);   /* two column definitions of ~40 bytes left out */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata_cached_and_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
