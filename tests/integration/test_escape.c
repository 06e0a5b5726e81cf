/* tests/integration/test_escape.c -- myr_escape_string() against the real
 * server: every byte value 0..255, alone and all together, and a few random
 * binary strings of some KiB (fixed seed) come back byte-identical from
 * SELECT '<escaped>' and from a VARBINARY and a BLOB column after INSERT,
 * with the default sql_mode and with NO_BACKSLASH_ESCAPES (whose status bit
 * must show and switch the escaping to quote doubling).
 *
 * Bytes 0x80..0xFF alone are not valid utf8mb4, so a utf8mb4 connection
 * would have the server reject or replace them whatever the escaping: the
 * tests run once on a connection whose charset is binary (plain '...'
 * literals) and once on the default utf8mb4 connection with _binary'...'
 * literals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sandbox_env.h"

#define NBE MYR_SERVER_STATUS_NO_BACKSLASH_ESCAPES

typedef struct sqlbuf {
    char *p;
    size_t len, cap;
} sqlbuf;

static void sb_add(sqlbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}
static void sb_str(sqlbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

/* Append the literal for bytes: [_binary]'<escaped>'. */
static void sb_literal(sqlbuf *b, myr_conn *c, const char *intro, const char *v, size_t n)
{
    char *e = malloc(2 * n + 1);
    assert_non_null(e);
    size_t el = myr_escape_string(c, e, v, n);
    assert_true(el <= 2 * n);
    assert_int_equal(e[el], '\0');
    sb_str(b, intro);
    sb_add(b, "'", 1);
    sb_add(b, e, el);
    sb_add(b, "'", 1);
    free(e);
}

static myr_result *query(myr_conn *c, const sqlbuf *b)
{
    myr_error err;
    myr_result *r = myr_query_sync(c, b->p, b->len, &err);
    if (r == NULL || err.code != 0)
        fail_msg("query failed: %u (%s) %s", err.mysql_errno, err.sqlstate, err.message);
    return r;
}

static void run(myr_conn *c, const char *sql)
{
    myr_result_free(sandbox_query(c, sql));
}

static myr_conn *connect_with(const char *charset)
{
    myr_conn_opts *o = sandbox_opts(0);
    if (charset)
        assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_CHARSET, charset), 0);
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    if (c == NULL)
        fail_msg("connect: %u %s", err.mysql_errno, err.message);
    return c;
}

/* Deterministic test data (xorshift64*), with the bytes that need escaping
 * made common so each string holds many of them. */
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static unsigned rnd(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (unsigned)((g_rng * 0x2545F4914F6CDD1Dull) >> 32);
}
static void fill_random(char *p, size_t n)
{
    static const char special[] = {'\0', '\n', '\r', '\\', '\'', '"', '\x1a', '%', '_'};
    for (size_t i = 0; i < n; i++) {
        unsigned r = rnd();
        p[i] = (r & 3) == 0 ? special[(r >> 8) % sizeof special] : (char)(r >> 16);
    }
}

/* The values of one run: 256 single bytes, all 256 in order, random strings. */
#define NVALUES (256 + 1 + 4)
typedef struct values {
    char *v[NVALUES];
    size_t len[NVALUES];
} values;

static void values_make(values *vs)
{
    for (int i = 0; i < 256; i++) {
        vs->v[i] = malloc(1);
        vs->v[i][0] = (char)i;
        vs->len[i] = 1;
    }
    vs->v[256] = malloc(256);
    for (int i = 0; i < 256; i++)
        vs->v[256][i] = (char)i;
    vs->len[256] = 256;
    static const size_t sizes[4] = {1024, 2048, 3000, 4096};
    for (int i = 0; i < 4; i++) {
        vs->v[257 + i] = malloc(sizes[i]);
        vs->len[257 + i] = sizes[i];
        fill_random(vs->v[257 + i], sizes[i]);
    }
}

static void values_free(values *vs)
{
    for (int i = 0; i < NVALUES; i++)
        free(vs->v[i]);
}

static void check_cell(const myr_result *r, size_t row, size_t col, const char *v, size_t n,
                         int idx)
{
    size_t len;
    const char *got = myr_result_value(r, row, col, &len);
    if (got == NULL || len != n || memcmp(got, v, n) != 0)
        fail_msg("value %d (%zu bytes) came back as %zu bytes", idx, n, got ? len : 0);
}

/* SELECT each value, several per statement; then INSERT them all into a
 * VARBINARY and a BLOB column and SELECT them back. */
static void round_trip(myr_conn *c, const char *intro, const values *vs)
{
    sqlbuf b = {0};
    for (int i = 0; i < NVALUES; i += 16) {
        b.len = 0;
        sb_str(&b, "SELECT ");
        int n = 0;
        for (int k = i; k < NVALUES && k < i + 16; k++, n++) {
            if (n)
                sb_str(&b, ", ");
            sb_literal(&b, c, intro, vs->v[k], vs->len[k]);
        }
        myr_result *r = query(c, &b);
        assert_int_equal(myr_result_column_count(r), n);
        assert_int_equal(myr_result_row_count(r), 1);
        for (int k = 0; k < n; k++)
            check_cell(r, 0, k, vs->v[i + k], vs->len[i + k], i + k);
        myr_result_free(r);
    }

    run(c, "CREATE TEMPORARY TABLE t_esc (id INT PRIMARY KEY, vb VARBINARY(8192), bl BLOB)");
    b.len = 0;
    sb_str(&b, "INSERT INTO t_esc VALUES ");
    for (int i = 0; i < NVALUES; i++) {
        char id[32];
        snprintf(id, sizeof id, "%s(%d, ", i ? ", " : "", i);
        sb_str(&b, id);
        sb_literal(&b, c, intro, vs->v[i], vs->len[i]);
        sb_str(&b, ", ");
        sb_literal(&b, c, intro, vs->v[i], vs->len[i]);
        sb_str(&b, ")");
    }
    myr_result *r = query(c, &b);
    assert_int_equal(myr_result_affected_rows(r), NVALUES);
    assert_int_equal(myr_result_warnings(r), 0);
    myr_result_free(r);
    r = sandbox_query(c, "SELECT vb, bl FROM t_esc ORDER BY id");
    assert_int_equal(myr_result_row_count(r), NVALUES);
    for (int i = 0; i < NVALUES; i++) {
        check_cell(r, i, 0, vs->v[i], vs->len[i], i);
        check_cell(r, i, 1, vs->v[i], vs->len[i], i);
    }
    myr_result_free(r);
    /* And the server finds each row by its escaped value. */
    for (int i = 250; i < NVALUES; i++) {
        b.len = 0;
        sb_str(&b, "SELECT id FROM t_esc WHERE vb = ");
        sb_literal(&b, c, intro, vs->v[i], vs->len[i]);
        sb_str(&b, " AND bl = vb");
        r = query(c, &b);
        assert_int_equal(myr_result_row_count(r), 1);
        assert_int_equal(atoi(myr_result_value(r, 0, 0, NULL)), i);
        myr_result_free(r);
    }
    run(c, "DROP TEMPORARY TABLE t_esc");
    free(b.p);
}

static void check_mode(myr_conn *c, int nbe)
{
    char to[8];
    assert_int_equal(!!(myr_conn_server_status(c) & NBE), nbe);
    if (nbe) {
        assert_int_equal(myr_escape_string(c, to, "'\\", 2), 3);
        assert_string_equal(to, "''\\");
    } else {
        assert_int_equal(myr_escape_string(c, to, "'\\", 2), 4);
        assert_string_equal(to, "\\'\\\\");
    }
}

static void both_modes(const char *charset, const char *intro)
{
    values vs;
    values_make(&vs);
    myr_conn *c = connect_with(charset);
    check_mode(c, 0);
    round_trip(c, intro, &vs);

    myr_result *r = sandbox_query(c, "SET SESSION sql_mode='NO_BACKSLASH_ESCAPES'");
    assert_true(myr_result_status(r) & NBE);
    myr_result_free(r);
    check_mode(c, 1);
    /* The server really reads backslashes literally now. */
    r = sandbox_query(c, "SELECT '\\n'");
    size_t len;
    assert_memory_equal(myr_result_value(r, 0, 0, &len), "\\n", 2);
    assert_int_equal(len, 2);
    myr_result_free(r);
    round_trip(c, intro, &vs);

    run(c, "SET SESSION sql_mode=DEFAULT");
    check_mode(c, 0);
    round_trip(c, intro, &vs);
    assert_int_equal(myr_close_sync(c, NULL), 0);
    values_free(&vs);
}

static void test_binary_connection(void **state)
{
    (void)state;
    both_modes("binary", "");
}

static void test_utf8mb4_connection_binary_literals(void **state)
{
    (void)state;
    both_modes(NULL, "_binary");
}

/* Text that is valid UTF-8 round-trips as a plain literal on a utf8mb4
 * connection, quotes and backslashes next to multi-byte characters. */
static void test_utf8mb4_text(void **state)
{
    (void)state;
    static const char text[] = "O'Reilly \\ \"caf\xC3\xA9\" \xE2\x82\xAC'\\ \xF0\x9F\x98\x80\n\r\x1a\0end";
    const size_t n = sizeof text - 1;
    myr_conn *c = connect_with(NULL);
    for (int nbe = 0; nbe < 2; nbe++) {
        if (nbe)
            run(c, "SET SESSION sql_mode='NO_BACKSLASH_ESCAPES'");
        check_mode(c, nbe);
        sqlbuf b = {0};
        sb_str(&b, "SELECT ");
        sb_literal(&b, c, "", text, n);
        sb_str(&b, ", CHAR_LENGTH(");
        sb_literal(&b, c, "", text, n);
        sb_str(&b, ")");
        myr_result *r = query(c, &b);
        check_cell(r, 0, 0, text, n, -1);
        assert_string_equal(myr_result_value(r, 0, 1, NULL), "30");
        myr_result_free(r);
        free(b.p);
    }
    assert_int_equal(myr_close_sync(c, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_connection),
        cmocka_unit_test(test_utf8mb4_connection_binary_literals),
        cmocka_unit_test(test_utf8mb4_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
