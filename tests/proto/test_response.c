/* tests/proto/test_response.c -- OK/ERR/EOF, column definitions, text rows
 * and the response machine (src/proto/response.c). Fixtures split string
 * literals after every \x escape so that a following hex-looking letter is
 * not swallowed into the escape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/proto.h"

typedef struct pkt { const uint8_t *p; size_t len; } pkt;
#define P(lit) ((pkt){(const uint8_t *)(lit), sizeof(lit) - 1})

#define CAPS41 (MYR__CLIENT_PROTOCOL_41 | MYR__CLIENT_SECURE_CONNECTION | MYR__CLIENT_TRANSACTIONS | \
                MYR__CLIENT_MULTI_RESULTS | MYR__CLIENT_MULTI_STATEMENTS)
#define CAPS_DEOF (CAPS41 | MYR__CLIENT_DEPRECATE_EOF | MYR__CLIENT_SESSION_TRACK)

/* Captured-looking packets (payloads) from a MariaDB 10.11 server. */
#define OK_UPDATE   "\x00" "\x01" "\x00" "\x02\x00" "\x00\x00" "Rows matched: 1  Changed: 1  Warnings: 0"
#define OK_INSERT   "\x00" "\x01" "\xfc\x39\x30" "\x02\x00" "\x01\x00"
#define ERR_SQLSTATE "\xff" "\x7a\x04" "#42S02" "Table 'test.nope' doesn't exist"
#define ERR_PLAIN   "\xff" "\x6a\x04" "Host '10.0.0.5' is not allowed to connect to this MariaDB server"
#define ERR_KILLED  "\xff" "\x25\x05" "#70100" "Query execution was interrupted"
#define EOF_PKT     "\xfe" "\x00\x00" "\x22\x00"
#define EOF_LAST    "\xfe" "\x00\x00" "\x02\x00"
#define EOF_MORE    "\xfe" "\x00\x00" "\x0a\x00"        /* MORE_RESULTS | AUTOCOMMIT */
#define OK_END      "\xfe" "\x00" "\x00" "\x02\x00" "\x00\x00"   /* DEPRECATE_EOF terminator */
#define OK_END_MORE "\xfe" "\x00" "\x00" "\x0a\x00" "\x00\x00"
#define OK_MORE     "\x00" "\x01" "\x00" "\x0a\x00" "\x00\x00"
#define COL_ID      "\x03" "def" "\x04" "test" "\x01" "t" "\x01" "t" "\x02" "id" "\x02" "id" \
                    "\x0c" "\x3f\x00" "\x0b\x00\x00\x00" "\x03" "\x03\x42" "\x00" "\x00\x00"
#define COL_NAME    "\x03" "def" "\x04" "test" "\x01" "t" "\x01" "t" "\x04" "name" "\x04" "name" \
                    "\x0c" "\x2d\x00" "\xfc\x03\x00\x00" "\xfd" "\x00\x00" "\x00" "\x00\x00"
#define COL_EXPR    "\x03" "def" "\x00" "\x00" "\x00" "\x01" "1" "\x00" \
                    "\x0c" "\x3f\x00" "\x01\x00\x00\x00" "\x08" "\x81\x00" "\x00" "\x00\x00"
#define ROW_1       "\x01" "1" "\x05" "alice"
#define ROW_NULL    "\x01" "2" "\xfb"
#define ROW_BINARY  "\x01" "3" "\x05" "a\x00\xfb\xff" "z" "\xfe"   /* + 1 stray byte */

static void test_ok(void **state)
{
    (void)state;
    myr__ok ok;
    pkt u = P(OK_UPDATE);
    assert_int_equal(myr__ok_parse(u.p, u.len, CAPS41, &ok), 0);
    assert_int_equal(ok.affected_rows, 1);
    assert_int_equal(ok.insert_id, 0);
    assert_int_equal(ok.status, MYR__STATUS_AUTOCOMMIT);
    assert_int_equal(ok.info_len, 40);
    assert_memory_equal(ok.info, "Rows matched: 1  Changed: 1  Warnings: 0", 40);
    for (size_t len = 0; len < 7; len++)
        assert_int_equal(myr__ok_parse(u.p, len, CAPS41, &ok), MYR_EMALFORMED);
    for (size_t len = 7; len <= u.len; len++) {
        assert_int_equal(myr__ok_parse(u.p, len, CAPS41, &ok), 0);
        assert_int_equal(ok.info_len, len - 7);
    }
    pkt ins = P(OK_INSERT);
    assert_int_equal(myr__ok_parse(ins.p, ins.len, CAPS41, &ok), 0);
    assert_int_equal(ok.insert_id, 12345);
    assert_int_equal(ok.warnings, 1);
    assert_int_equal(ok.info_len, 0);
    for (size_t len = 0; len < ins.len; len++)
        assert_int_equal(myr__ok_parse(ins.p, len, CAPS41, &ok), MYR_EMALFORMED);
    /* not an OK header */
    assert_int_equal(myr__ok_parse((const uint8_t *)"\x01\x00\x00\x00\x00\x00\x00", 7, CAPS41, &ok),
                     MYR_EMALFORMED);
}

static void test_ok_session_track(void **state)
{
    (void)state;
    myr__ok ok;
    const uint32_t caps = CAPS41 | MYR__CLIENT_SESSION_TRACK;
    pkt bare = P("\x00" "\x00" "\x00" "\x02\x00" "\x00\x00");            /* no info at all */
    assert_int_equal(myr__ok_parse(bare.p, bare.len, caps, &ok), 0);
    assert_int_equal(ok.info_len, 0);
    pkt info = P("\x00" "\x01" "\x00" "\x02\x00" "\x00\x00" "\x05" "hello");
    assert_int_equal(myr__ok_parse(info.p, info.len, caps, &ok), 0);
    assert_int_equal(ok.info_len, 5);
    assert_memory_equal(ok.info, "hello", 5);
    /* without SESSION_TRACK servers still prefix the length (what MariaDB
     * sends); bytes that are not a length spanning the rest are taken whole */
    assert_int_equal(myr__ok_parse(info.p, info.len, CAPS41, &ok), 0);
    assert_int_equal(ok.info_len, 5);
    assert_memory_equal(ok.info, "hello", 5);
    pkt raw = P("\x00" "\x01" "\x00" "\x02\x00" "\x00\x00" "\x04" "hello");
    assert_int_equal(myr__ok_parse(raw.p, raw.len, CAPS41, &ok), 0);
    assert_int_equal(ok.info_len, 6);
    /* SERVER_SESSION_STATE_CHANGED: info, then the state changes */
    pkt st = P("\x00" "\x00" "\x00" "\x02\x40" "\x00\x00" "\x00" "\x05" "\x00\x03\x02\x01" "x");
    assert_int_equal(myr__ok_parse(st.p, st.len, caps, &ok), 0);
    assert_int_equal(ok.status, 0x4002);
    for (size_t len = 8; len < st.len; len++)    /* state info cut short */
        assert_int_equal(myr__ok_parse(st.p, len, caps, &ok), MYR_EMALFORMED);
    pkt past = P("\x00" "\x00" "\x00" "\x02\x00" "\x00\x00" "\x09" "abc");
    assert_int_equal(myr__ok_parse(past.p, past.len, caps, &ok), MYR_EMALFORMED);
}

static void test_err(void **state)
{
    (void)state;
    myr__err e;
    pkt s = P(ERR_SQLSTATE);
    assert_true(myr__is_err(s.p, s.len));
    assert_int_equal(myr__err_parse(s.p, s.len, CAPS41, &e), 0);
    assert_int_equal(e.code, 1146);
    assert_string_equal(e.sqlstate, "42S02");
    assert_int_equal(e.message_len, 31);
    assert_memory_equal(e.message, "Table 'test.nope' doesn't exist", 31);
    for (size_t len = 0; len < 3; len++)
        assert_int_equal(myr__err_parse(s.p, len, CAPS41, &e), MYR_EMALFORMED);
    for (size_t len = 4; len < 9; len++)       /* '#' but SQLSTATE cut */
        assert_int_equal(myr__err_parse(s.p, len, CAPS41, &e), MYR_EMALFORMED);
    for (size_t len = 9; len <= s.len; len++) {
        assert_int_equal(myr__err_parse(s.p, len, CAPS41, &e), 0);
        assert_int_equal(e.message_len, len - 9);
    }
    pkt plain = P(ERR_PLAIN);
    assert_int_equal(myr__err_parse(plain.p, plain.len, CAPS41, &e), 0);
    assert_int_equal(e.code, 1130);
    assert_string_equal(e.sqlstate, "");
    assert_int_equal(e.message_len, plain.len - 3);
    assert_memory_equal(e.message, "Host '10.0.0.5'", 15);
    /* without PROTOCOL_41 a '#' is part of the message */
    assert_int_equal(myr__err_parse(s.p, s.len, 0, &e), 0);
    assert_string_equal(e.sqlstate, "");
    assert_int_equal(e.message[0], '#');
}

static void test_eof_detection(void **state)
{
    (void)state;
    pkt e = P(EOF_PKT);
    assert_true(myr__is_eof(e.p, e.len));
    assert_false(myr__is_eof(e.p, 0));
    pkt ok = P(OK_END);
    assert_true(myr__is_eof(ok.p, ok.len));             /* 7 bytes: still < 9 */
    uint8_t row9[9] = {0xFE, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_false(myr__is_eof(row9, sizeof row9));
}

static void test_coldef(void **state)
{
    (void)state;
    myr_column c;
    pkt id = P(COL_ID);
    assert_int_equal(myr__coldef_parse(id.p, id.len, &c), 0);
    assert_int_equal(c.catalog_len, 3);
    assert_memory_equal(c.catalog, "def", 3);
    assert_memory_equal(c.schema, "test", c.schema_len);
    assert_memory_equal(c.org_table, "t", c.org_table_len);
    assert_int_equal(c.name_len, 2);
    assert_memory_equal(c.name, "id", 2);
    assert_int_equal(c.charset, 63);
    assert_int_equal(c.length, 11);
    assert_int_equal(c.type, 3);
    assert_int_equal(c.flags, 0x4203);
    assert_int_equal(c.decimals, 0);
    pkt name = P(COL_NAME);
    assert_int_equal(myr__coldef_parse(name.p, name.len, &c), 0);
    assert_int_equal(c.charset, 45);
    assert_int_equal(c.length, 1020);
    assert_int_equal(c.type, 0xfd);
    pkt expr = P(COL_EXPR);
    assert_int_equal(myr__coldef_parse(expr.p, expr.len, &c), 0);
    assert_int_equal(c.schema_len, 0);
    assert_int_equal(c.table_len, 0);
    assert_memory_equal(c.name, "1", 1);
    assert_int_equal(c.type, 8);
    assert_int_equal(c.flags, 0x81);
    for (size_t len = 0; len < id.len; len++)
        assert_int_equal(myr__coldef_parse(id.p, len, &c), MYR_EMALFORMED);
    /* fixed-field length that is not 0x0c-or-more, or a string length past the end */
    uint8_t bad[sizeof COL_ID];
    memcpy(bad, COL_ID, sizeof bad);
    bad[id.len - 13] = 0x0b;
    assert_int_equal(myr__coldef_parse(bad, id.len, &c), MYR_EMALFORMED);
    memcpy(bad, COL_ID, sizeof bad);
    bad[0] = 0x40;
    assert_int_equal(myr__coldef_parse(bad, id.len, &c), MYR_EMALFORMED);
}

static void test_rows(void **state)
{
    (void)state;
    myr__field f[3];
    pkt r1 = P(ROW_1);
    assert_int_equal(myr__row_parse(r1.p, r1.len, 2, f), 0);
    assert_int_equal(f[0].len, 1);
    assert_memory_equal(f[0].ptr, "1", 1);
    assert_int_equal(f[1].len, 5);
    assert_memory_equal(f[1].ptr, "alice", 5);
    pkt rn = P(ROW_NULL);
    assert_int_equal(myr__row_parse(rn.p, rn.len, 2, f), 0);
    assert_null(f[1].ptr);
    assert_int_equal(f[1].len, 0);
    pkt rb = P(ROW_BINARY);                     /* NUL, 0xFB, 0xFF inside a string */
    assert_int_equal(myr__row_parse(rb.p, rb.len - 1, 2, f), 0);
    assert_int_equal(f[1].len, 5);
    assert_memory_equal(f[1].ptr, "a\x00\xfb\xff" "z", 5);
    /* ... with a trailing byte it is junk for 2 columns, and a bad 3rd field for 3 */
    assert_int_equal(myr__row_parse(rb.p, rb.len, 2, f), MYR_EMALFORMED);
    assert_int_equal(myr__row_parse(rb.p, rb.len, 3, f), MYR_EMALFORMED);
    /* every truncation, and every row with one byte of junk appended */
    const pkt rows[] = {r1, rn, {rb.p, rb.len - 1}};
    for (size_t i = 0; i < 3; i++) {
        for (size_t len = 0; len < rows[i].len; len++)
            assert_int_equal(myr__row_parse(rows[i].p, len, 2, f), MYR_EMALFORMED);
        uint8_t junk[16];
        memcpy(junk, rows[i].p, rows[i].len);
        junk[rows[i].len] = 'x';
        assert_int_equal(myr__row_parse(junk, rows[i].len + 1, 2, f), MYR_EMALFORMED);
    }
    pkt past = P("\x01" "1" "\x09" "alice");
    assert_int_equal(myr__row_parse(past.p, past.len, 2, f), MYR_EMALFORMED);
    pkt ff = P("\x01" "1" "\xff");              /* 0xFF is no length */
    assert_int_equal(myr__row_parse(ff.p, ff.len, 2, f), MYR_EMALFORMED);
    /* the 8-byte length form: a row that starts with 0xFE */
    pkt fe = P("\xfe" "\x03\x00\x00\x00\x00\x00\x00\x00" "abc");
    assert_int_equal(myr__row_parse(fe.p, fe.len, 1, f), 0);
    assert_memory_equal(f[0].ptr, "abc", 3);
}

/* The fused copy-and-parse gives the same fields as myr__row_parse, in the
 * copy, each value followed by a NUL; and rejects the same inputs. */
static void test_rows_copy(void **state)
{
    (void)state;
    const pkt rows[] = {P(ROW_1), P(ROW_NULL), P("\x01" "3" "\x05" "a\x00\xfb\xff" "z"),
                        P("\x00" "\xfc\x03\x00" "abc"), P("\xfb" "\xfb")};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        myr__field a[2], b[2];
        uint8_t copy[64];
        memset(copy, 0x55, sizeof copy);
        assert_int_equal(myr__row_parse(rows[i].p, rows[i].len, 2, a), 0);
        assert_int_equal(myr__row_parse_copy(rows[i].p, rows[i].len, 2, b, copy), 0);
        for (size_t k = 0; k < 2; k++) {
            assert_int_equal(a[k].len, b[k].len);
            if (a[k].ptr == NULL) {
                assert_null(b[k].ptr);
                continue;
            }
            assert_true(b[k].ptr > copy && b[k].ptr + b[k].len <= copy + rows[i].len);
            assert_memory_equal(a[k].ptr, b[k].ptr, a[k].len);
            assert_int_equal(b[k].ptr[b[k].len], 0);   /* NUL-terminated */
        }
        for (size_t len = 0; len < rows[i].len; len++)
            assert_int_equal(myr__row_parse_copy(rows[i].p, len, 2, b, copy), MYR_EMALFORMED);
    }
}

/* ------------------------------------------------------- the response machine */
typedef struct expect { myr__ev_kind kind; int done, more; } expect;

/* Feed every packet; each must yield the expected event. */
static void run(uint32_t caps, const pkt *pkts, const expect *ex, size_t n, myr__resp_ev *last)
{
    myr__resp r;
    myr__resp_init(&r, caps);
    myr__resp_ev ev;
    for (size_t i = 0; i < n; i++) {
        int rc = myr__resp_feed(&r, pkts[i].p, pkts[i].len, &ev);
        if (rc != 0)
            fail_msg("packet %zu: rc %d", i, rc);
        if (ev.kind != ex[i].kind || ev.done != ex[i].done || ev.more != ex[i].more)
            fail_msg("packet %zu: kind %d done %d more %d, expected %d %d %d", i, ev.kind, ev.done,
                     ev.more, ex[i].kind, ex[i].done, ex[i].more);
    }
    if (last)
        *last = ev;
    /* the response is over: anything more is a protocol violation */
    pkt extra = P(OK_UPDATE);
    assert_int_equal(myr__resp_feed(&r, extra.p, extra.len, &ev), MYR_EMALFORMED);
}

static void test_resp_resultset_eof(void **state)
{
    (void)state;
    const pkt pkts[] = {P("\x02"), P(COL_ID), P(COL_NAME), P(EOF_PKT), P(ROW_1), P(ROW_NULL),
                        {(const uint8_t *)ROW_BINARY, sizeof ROW_BINARY - 2}, P(EOF_LAST)};
    const expect ex[] = {{MYR__EV_COLUMNS, 0, 0}, {MYR__EV_COLUMN, 0, 0}, {MYR__EV_COLUMN, 0, 0},
                         {MYR__EV_COLUMNS_END, 0, 0}, {MYR__EV_ROW, 0, 0}, {MYR__EV_ROW, 0, 0},
                         {MYR__EV_ROW, 0, 0}, {MYR__EV_ROWS_END, 1, 0}};
    myr__resp_ev last;
    run(CAPS41, pkts, ex, 8, &last);
    assert_int_equal(last.ok.status, MYR__STATUS_AUTOCOMMIT);

    /* details of individual events */
    myr__resp r;
    myr__resp_ev ev;
    myr__resp_init(&r, CAPS41);
    assert_int_equal(myr__resp_feed(&r, pkts[0].p, pkts[0].len, &ev), 0);
    assert_int_equal(ev.ncols, 2);
    assert_int_equal(myr__resp_feed(&r, pkts[1].p, pkts[1].len, &ev), 0);
    assert_int_equal(ev.col_index, 0);
    assert_memory_equal(ev.col.name, "id", 2);
    assert_int_equal(myr__resp_feed(&r, pkts[2].p, pkts[2].len, &ev), 0);
    assert_int_equal(ev.col_index, 1);
    assert_int_equal(ev.col_index + 1, ev.ncols);    /* how the consumer sees the last column */
    assert_int_equal(myr__resp_feed(&r, pkts[3].p, pkts[3].len, &ev), 0);
    assert_int_equal(ev.ok.status, 0x22);
    /* a row where the columns' EOF should be */
    myr__resp_init(&r, CAPS41);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(myr__resp_feed(&r, pkts[i].p, pkts[i].len, &ev), 0);
    assert_int_equal(myr__resp_feed(&r, pkts[4].p, pkts[4].len, &ev), MYR_EMALFORMED);
}

static void test_resp_resultset_deprecate_eof(void **state)
{
    (void)state;
    const pkt pkts[] = {P("\x02"), P(COL_ID), P(COL_NAME), P(ROW_1), P(ROW_NULL), P(OK_END)};
    const expect ex[] = {{MYR__EV_COLUMNS, 0, 0}, {MYR__EV_COLUMN, 0, 0}, {MYR__EV_COLUMN, 0, 0},
                         {MYR__EV_ROW, 0, 0}, {MYR__EV_ROW, 0, 0}, {MYR__EV_ROWS_END, 1, 0}};
    run(CAPS_DEOF, pkts, ex, 6, NULL);
    /* an empty result set */
    const pkt empty[] = {P("\x01"), P(COL_EXPR), P(OK_END)};
    const expect ex2[] = {{MYR__EV_COLUMNS, 0, 0}, {MYR__EV_COLUMN, 0, 0}, {MYR__EV_ROWS_END, 1, 0}};
    run(CAPS_DEOF, empty, ex2, 3, NULL);
    const pkt empty_eof[] = {P("\x01"), P(COL_EXPR), P(EOF_PKT), P(EOF_LAST)};
    const expect ex3[] = {{MYR__EV_COLUMNS, 0, 0}, {MYR__EV_COLUMN, 0, 0}, {MYR__EV_COLUMNS_END, 0, 0},
                          {MYR__EV_ROWS_END, 1, 0}};
    run(CAPS41, empty_eof, ex3, 4, NULL);
}

static void test_resp_ok_err_infile(void **state)
{
    (void)state;
    myr__resp_ev last;
    const pkt ok[] = {P(OK_INSERT)};
    const expect exok[] = {{MYR__EV_OK, 1, 0}};
    run(CAPS41, ok, exok, 1, &last);
    assert_int_equal(last.ok.insert_id, 12345);
    const pkt err[] = {P(ERR_SQLSTATE)};
    const expect exerr[] = {{MYR__EV_ERR, 1, 0}};
    run(CAPS41, err, exerr, 1, &last);
    assert_int_equal(last.err.code, 1146);
    const pkt infile[] = {P("\xfb" "data.csv"), P(OK_UPDATE)};
    const expect exin[] = {{MYR__EV_LOCAL_INFILE, 0, 0}, {MYR__EV_OK, 1, 0}};
    run(CAPS41, infile, exin, 2, NULL);
}

static void test_resp_multi_results(void **state)
{
    (void)state;
    /* SELECT 1; UPDATE ...; SELECT 1 -- and CALL-style ending with an OK */
    const pkt eof[] = {P("\x01"), P(COL_EXPR), P(EOF_PKT), P("\x01" "1"), P(EOF_MORE),
                       P(OK_MORE),
                       P("\x01"), P(COL_EXPR), P(EOF_PKT), P("\x01" "1"), P(EOF_MORE),
                       P(OK_INSERT)};
    const expect ex[] = {{MYR__EV_COLUMNS, 0, 0}, {MYR__EV_COLUMN, 0, 0}, {MYR__EV_COLUMNS_END, 0, 0},
                         {MYR__EV_ROW, 0, 0}, {MYR__EV_ROWS_END, 0, 1},
                         {MYR__EV_OK, 0, 1},
                         {MYR__EV_COLUMNS, 0, 0}, {MYR__EV_COLUMN, 0, 0}, {MYR__EV_COLUMNS_END, 0, 0},
                         {MYR__EV_ROW, 0, 0}, {MYR__EV_ROWS_END, 0, 1},
                         {MYR__EV_OK, 1, 0}};
    run(CAPS41, eof, ex, 12, NULL);
    const pkt deof[] = {P("\x01"), P(COL_EXPR), P("\x01" "1"), P(OK_END_MORE),
                        P(OK_MORE), P("\x01"), P(COL_EXPR), P(OK_END)};
    const expect exd[] = {{MYR__EV_COLUMNS, 0, 0}, {MYR__EV_COLUMN, 0, 0}, {MYR__EV_ROW, 0, 0},
                          {MYR__EV_ROWS_END, 0, 1}, {MYR__EV_OK, 0, 1},
                          {MYR__EV_COLUMNS, 0, 0}, {MYR__EV_COLUMN, 0, 0}, {MYR__EV_ROWS_END, 1, 0}};
    run(CAPS_DEOF, deof, exd, 8, NULL);
    /* the second statement fails: ERR ends everything */
    const pkt fail[] = {P(OK_MORE), P(ERR_SQLSTATE)};
    const expect exf[] = {{MYR__EV_OK, 0, 1}, {MYR__EV_ERR, 1, 0}};
    run(CAPS41, fail, exf, 2, NULL);
}

static void test_resp_error_mid_rows(void **state)
{
    (void)state;
    myr__resp_ev last;
    const pkt pkts[] = {P("\x01"), P(COL_EXPR), P(EOF_PKT), P("\x01" "1"), P("\x01" "2"), P(ERR_KILLED)};
    const expect ex[] = {{MYR__EV_COLUMNS, 0, 0}, {MYR__EV_COLUMN, 0, 0}, {MYR__EV_COLUMNS_END, 0, 0},
                         {MYR__EV_ROW, 0, 0}, {MYR__EV_ROW, 0, 0}, {MYR__EV_ERR, 1, 0}};
    run(CAPS41, pkts, ex, 6, &last);
    assert_int_equal(last.err.code, 1317);
    assert_string_equal(last.err.sqlstate, "70100");
    const pkt d[] = {P("\x01"), P(COL_EXPR), P("\x01" "1"), P(ERR_KILLED)};
    const expect exd[] = {{MYR__EV_COLUMNS, 0, 0}, {MYR__EV_COLUMN, 0, 0}, {MYR__EV_ROW, 0, 0},
                          {MYR__EV_ERR, 1, 0}};
    run(CAPS_DEOF, d, exd, 4, NULL);
}

/* A row whose first field uses the 8-byte length form starts with 0xFE like
 * an EOF/OK: told apart by its length. */
static void test_resp_row_starting_with_fe(void **state)
{
    (void)state;
    myr__resp r;
    myr__resp_ev ev;
    const pkt head[] = {P("\x01"), P(COL_EXPR), P(EOF_PKT)};
    myr__resp_init(&r, CAPS41);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(myr__resp_feed(&r, head[i].p, head[i].len, &ev), 0);
    pkt fe = P("\xfe" "\x03\x00\x00\x00\x00\x00\x00\x00" "abc");
    assert_int_equal(myr__resp_feed(&r, fe.p, fe.len, &ev), 0);
    assert_int_equal(ev.kind, MYR__EV_ROW);

    /* DEPRECATE_EOF: a real such row is longer than 0xFFFFFF */
    size_t flen = 0x1000000;
    uint8_t *big = malloc(9 + flen);
    assert_non_null(big);
    big[0] = 0xFE;
    for (int i = 0; i < 8; i++)
        big[1 + i] = (uint8_t)(flen >> (8 * i));
    memset(big + 9, 'x', flen);
    myr__resp_init(&r, CAPS_DEOF);
    assert_int_equal(myr__resp_feed(&r, head[0].p, head[0].len, &ev), 0);
    assert_int_equal(myr__resp_feed(&r, head[1].p, head[1].len, &ev), 0);
    assert_int_equal(myr__resp_feed(&r, big, 9 + flen, &ev), 0);
    assert_int_equal(ev.kind, MYR__EV_ROW);
    myr__field f;
    assert_int_equal(myr__row_parse(big, 9 + flen, 1, &f), 0);
    assert_int_equal(f.len, flen);
    pkt end = P(OK_END);
    assert_int_equal(myr__resp_feed(&r, end.p, end.len, &ev), 0);
    assert_int_equal(ev.kind, MYR__EV_ROWS_END);
    assert_int_equal(ev.done, 1);
    free(big);
}

static void test_resp_malformed(void **state)
{
    (void)state;
    static const pkt firsts[] = {
        {(const uint8_t *)"", 0},               /* empty packet */
        P("\xfc" "\x01"),                       /* column count cut short */
        P("\xfd" "\x01\x00"),
        P("\x02" "\x00"),                       /* column count + junk */
        P("\xfe"),                              /* an EOF can't come first */
        P("\xfe" "\x00\x00" "\x02\x00" "\x00\x00"),
        P("\x00" "\x00"),                       /* OK cut short */
        P("\xff" "\x01"),                       /* ERR cut short */
        P("\xff" "\x01\x02" "#42"),
    };
    myr__resp r;
    myr__resp_ev ev;
    for (size_t i = 0; i < sizeof firsts / sizeof firsts[0]; i++) {
        myr__resp_init(&r, CAPS41);
        if (myr__resp_feed(&r, firsts[i].p, firsts[i].len, &ev) != MYR_EMALFORMED)
            fail_msg("first packet %zu accepted", i);
    }
    /* a column definition truncated, or an ERR-looking column count */
    pkt col = P(COL_ID);
    for (size_t len = 0; len < col.len; len++) {
        myr__resp_init(&r, CAPS41);
        assert_int_equal(myr__resp_feed(&r, (const uint8_t *)"\x01", 1, &ev), 0);
        assert_int_equal(myr__resp_feed(&r, col.p, len, &ev), MYR_EMALFORMED);
    }
    /* an empty packet among the rows */
    myr__resp_init(&r, CAPS_DEOF);
    assert_int_equal(myr__resp_feed(&r, (const uint8_t *)"\x01", 1, &ev), 0);
    assert_int_equal(myr__resp_feed(&r, col.p, col.len, &ev), 0);
    assert_int_equal(myr__resp_feed(&r, col.p, 0, &ev), MYR_EMALFORMED);
    /* a DEPRECATE_EOF terminator that is not a valid OK */
    myr__resp_init(&r, CAPS_DEOF);
    assert_int_equal(myr__resp_feed(&r, (const uint8_t *)"\x01", 1, &ev), 0);
    assert_int_equal(myr__resp_feed(&r, col.p, col.len, &ev), 0);
    assert_int_equal(myr__resp_feed(&r, (const uint8_t *)"\xfe\x00", 2, &ev), MYR_EMALFORMED);
}

/* Random bytes through every parser and the machine: only 0 or MYR_EMALFORMED,
 * never a read out of bounds (ASan watches; the input is an exact-size heap copy). */
static void test_garbage(void **state)
{
    (void)state;
    srand(777);
    const uint32_t caps[] = {CAPS41, CAPS_DEOF, 0};
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = (size_t)rand() % 40;
        uint8_t *p = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) {
            int r = rand() % 8;
            p[i] = r == 0 ? 0xFE : r == 1 ? 0xFB : r == 2 ? 0xFC : r == 3 ? (uint8_t)(rand() % 4)
                                                                          : (uint8_t)rand();
        }
        uint32_t c = caps[iter % 3];
        myr__ok ok;
        myr__err e;
        myr_column col;
        myr__field f[4];
        int rc;
        rc = myr__ok_parse(p, len, c, &ok);
        assert_true(rc == 0 || rc == MYR_EMALFORMED);
        if (rc == 0 && ok.info_len)
            assert_true(ok.info >= p && ok.info + ok.info_len <= p + len);
        rc = myr__err_parse(p, len, c, &e);
        assert_true(rc == 0 || rc == MYR_EMALFORMED);
        rc = myr__coldef_parse(p, len, &col);
        assert_true(rc == 0 || rc == MYR_EMALFORMED);
        rc = myr__row_parse(p, len, 1 + (size_t)iter % 4, f);
        assert_true(rc == 0 || rc == MYR_EMALFORMED);
        myr__greeting g;
        rc = myr__greeting_parse(p, len, &g);
        assert_true(rc == 0 || rc == MYR_EMALFORMED);
        myr__auth_switch sw;
        rc = myr__auth_switch_parse(p, len, &sw);
        assert_true(rc == 0 || rc == MYR_EMALFORMED);
        /* the machine, past a valid column header, then the garbage */
        myr__resp r;
        myr__resp_ev ev;
        myr__resp_init(&r, c);
        if (iter % 2) {
            assert_int_equal(myr__resp_feed(&r, (const uint8_t *)"\x01", 1, &ev), 0);
            pkt cd = P(COL_EXPR);
            assert_int_equal(myr__resp_feed(&r, cd.p, cd.len, &ev), 0);
        }
        rc = myr__resp_feed(&r, p, len, &ev);
        assert_true(rc == 0 || rc == MYR_EMALFORMED);
        free(p);
    }
}


/* ------------------------------------------------- the sink (one row path) */
/* A sink that writes what it is told as text: "ok(1) cols(2) col0 col1
 * row[1|alice] end(2)", so a whole response is one string to compare. */
typedef struct rec {
    char log[512];
    myr__field slots[4];
    int fail_at;     /* return MYR_ENOMEM at this call (1-based), 0 never */
    int pause_at;    /* row()/end() answer MYR__SINK_PAUSE at this call, 0 never */
    int calls;
} rec;

static int rec_call(rec *r)
{
    return ++r->calls == r->fail_at ? MYR_ENOMEM : 0;
}
static int rec_pause(rec *r, int rc)
{
    return rc == 0 && r->calls == r->pause_at ? MYR__SINK_PAUSE : rc;
}
static void rec_add(rec *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = strlen(r->log);
    vsnprintf(r->log + n, sizeof r->log - n, fmt, ap);
    va_end(ap);
}
static int rec_ok(void *ctx, const myr__ok *ok)
{
    rec_add(ctx, "ok(%d) ", (int)ok->affected_rows);
    return rec_call(ctx);
}
static int rec_columns(void *ctx, uint64_t n)
{
    rec_add(ctx, "cols(%d) ", (int)n);
    return rec_call(ctx);
}
static int rec_column(void *ctx, size_t i, const uint8_t *p, size_t len)
{
    myr_column c;   /* the sink gets the definition raw */
    assert_int_equal(myr__coldef_parse(p, len, &c), 0);
    const myr_column *col = &c;
    rec_add(ctx, "col%zu=%.*s ", i, (int)col->name_len, col->name);
    return rec_call(ctx);
}
static myr__field *rec_slots(void *ctx, size_t len, uint8_t **copy)
{
    (void)len;
    (void)copy;   /* keeps no rows: the fields point into the packet */
    rec *r = ctx;
    return rec_call(r) ? NULL : r->slots;
}
static int rec_row(void *ctx, myr__field *f, const uint8_t *p, size_t len)
{
    rec *r = ctx;
    rec_add(r, "row[");
    for (size_t i = 0; i < 2; i++) {
        assert_true(f[i].ptr == NULL || (f[i].ptr >= p && f[i].ptr + f[i].len <= p + len));
        if (f[i].ptr == NULL)
            rec_add(r, i ? "|NULL" : "NULL");
        else
            rec_add(r, i ? "|%.*s" : "%.*s", (int)f[i].len, (const char *)f[i].ptr);
    }
    rec_add(r, "] ");
    return rec_pause(r, rec_call(r));
}
static int rec_end(void *ctx, const myr__ok *ok)
{
    rec_add(ctx, "end(%d) ", (int)ok->status);
    return rec_pause(ctx, rec_call(ctx));
}
static const myr__sink rec_sink = {.ok = rec_ok, .columns = rec_columns, .column = rec_column,
                                   .row_slots = rec_slots, .row = rec_row, .end = rec_end};

static void test_resp_read_sink(void **state)
{
    (void)state;
    /* Two result sets then an OK, without DEPRECATE_EOF. */
    const pkt pkts[] = {P("\x02"), P(COL_ID), P(COL_NAME), P(EOF_PKT), P(ROW_1), P(ROW_NULL), P(EOF_MORE),
                        P("\x02"), P(COL_ID), P(COL_NAME), P(EOF_PKT), P(EOF_MORE), P(OK_UPDATE)};
    const int want[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, MYR__RESP_DONE};
    myr__resp r;
    myr__resp_init(&r, CAPS41);
    rec rc = {0};
    myr__err e;
    for (size_t i = 0; i < sizeof pkts / sizeof pkts[0]; i++)
        assert_int_equal(myr__resp_read(&r, pkts[i].p, pkts[i].len, &rec_sink, &rc, &e), want[i]);
    assert_string_equal(rc.log, "cols(2) col0=id col1=name row[1|alice] row[2|NULL] end(10) "
                                "cols(2) col0=id col1=name end(10) ok(1) ");
    /* An error ends it, with the server's code and message. */
    myr__resp_init(&r, CAPS_DEOF);
    pkt err = P(ERR_KILLED);
    assert_int_equal(myr__resp_read(&r, (const uint8_t *)"\x02", 1, &rec_sink, &rc, &e), MYR__RESP_MORE);
    assert_int_equal(myr__resp_read(&r, err.p, err.len, &rec_sink, &rc, &e), MYR__RESP_ERR);
    assert_int_equal(e.code, 1317);
    assert_string_equal(e.sqlstate, "70100");
    /* LOCAL INFILE is handed back to the caller. */
    myr__resp_init(&r, CAPS41);
    assert_int_equal(myr__resp_read(&r, (const uint8_t *)"\xfb" "f.txt", 6, &rec_sink, &rc, &e),
                     MYR__RESP_INFILE);
    /* A malformed row and a packet that cannot come here. */
    myr__resp_init(&r, CAPS_DEOF);
    memset(&rc, 0, sizeof rc);
    const pkt head[] = {P("\x02"), P(COL_ID), P(COL_NAME)};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(myr__resp_read(&r, head[i].p, head[i].len, &rec_sink, &rc, &e), MYR__RESP_MORE);
    assert_int_equal(myr__resp_read(&r, (const uint8_t *)"\x01" "1" "\x09" "x", 4, &rec_sink, &rc, &e),
                     MYR_EMALFORMED);
    myr__resp_init(&r, CAPS41);
    assert_int_equal(myr__resp_read(&r, (const uint8_t *)"\xfe\x00\x00\x02\x00", 5, &rec_sink, &rc, &e),
                     MYR_EMALFORMED);
}

/* A sink that fails stops the response with its error, at every call. */
static void test_resp_read_sink_fails(void **state)
{
    (void)state;
    const pkt pkts[] = {P("\x02"), P(COL_ID), P(COL_NAME), P(ROW_1), P(ROW_NULL), P(OK_END)};
    for (int fail_at = 1; fail_at <= 7; fail_at++) {
        myr__resp r;
        myr__resp_init(&r, CAPS_DEOF);
        rec rc = {.fail_at = fail_at};
        myr__err e;
        int got = 0;
        for (size_t i = 0; i < sizeof pkts / sizeof pkts[0]; i++) {
            got = myr__resp_read(&r, pkts[i].p, pkts[i].len, &rec_sink, &rc, &e);
            if (got < 0)
                break;
        }
        assert_int_equal(got, MYR_ENOMEM);
    }
}

/* Framed bytes: a frame header (len, seq) before each payload. */
static size_t frame(uint8_t *out, uint8_t seq, const pkt *p)
{
    out[0] = (uint8_t)p->len;
    out[1] = (uint8_t)(p->len >> 8);
    out[2] = (uint8_t)(p->len >> 16);
    out[3] = seq;
    memcpy(out + 4, p->p, p->len);
    return 4 + p->len;
}

static void test_resp_rows_fast_path(void **state)
{
    (void)state;
    myr__resp r;
    myr__resp_init(&r, CAPS_DEOF);
    rec rc = {0};
    myr__err e;
    uint8_t seq = 1;
    /* Not in rows yet: nothing taken. */
    uint8_t buf[256];
    pkt r1 = P(ROW_1), rn = P(ROW_NULL), end = P(OK_END);
    size_t n = frame(buf, 4, &r1);
    assert_int_equal(myr__resp_rows(&r, &seq, buf, n, &rec_sink, &rc), 0);
    const pkt head[] = {P("\x02"), P(COL_ID), P(COL_NAME)};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(myr__resp_read(&r, head[i].p, head[i].len, &rec_sink, &rc, &e), MYR__RESP_MORE);
    seq = 4;
    n = frame(buf, 4, &r1);
    size_t two = n + frame(buf + n, 5, &rn);
    size_t all = two + frame(buf + two, 6, &end);
    /* Two rows taken straight from the stream, and the end packet: the
     * response is over. */
    assert_int_equal(myr__resp_rows(&r, &seq, buf, all, &rec_sink, &rc), (long)all);
    assert_int_equal(seq, 7);
    assert_string_equal(rc.log, "cols(2) col0=id col1=name row[1|alice] row[2|NULL] end(2) ");
    assert_true(myr__resp_done(&r));
    assert_int_equal(myr__resp_rows(&r, &seq, buf, all, &rec_sink, &rc), 0);   /* no rows state */
    /* An end with MORE_RESULTS: the next result is the general path's; an
     * ERR mid-rows too. */
    myr__resp_init(&r, CAPS_DEOF);
    rec rm = {0};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(myr__resp_read(&r, head[i].p, head[i].len, &rec_sink, &rm, &e), MYR__RESP_MORE);
    pkt more = P(OK_END_MORE);
    seq = 4;
    n = frame(buf, 4, &r1);
    all = n + frame(buf + n, 5, &more);
    assert_int_equal(myr__resp_rows(&r, &seq, buf, all + frame(buf + all, 6, &r1), &rec_sink, &rm), (long)all);
    assert_int_equal(seq, 6);
    assert_false(myr__resp_done(&r));
    assert_false(myr__resp_in_rows(&r));
    assert_string_equal(rm.log, "cols(2) col0=id col1=name row[1|alice] end(10) ");
    myr__resp_init(&r, CAPS_DEOF);
    rec rerr = {0};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(myr__resp_read(&r, head[i].p, head[i].len, &rec_sink, &rerr, &e), MYR__RESP_MORE);
    pkt err = P("\xff\x48\x04#HY000oops");
    seq = 4;
    n = frame(buf, 4, &r1);
    all = n + frame(buf + n, 5, &err);
    assert_int_equal(myr__resp_rows(&r, &seq, buf, all, &rec_sink, &rerr), (long)n);
    assert_int_equal(seq, 5);
    assert_true(myr__resp_in_rows(&r));
    /* Put back the stream's first rows for the checks below. */
    myr__resp_init(&r, CAPS_DEOF);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(myr__resp_read(&r, head[i].p, head[i].len, &rec_sink, &rc, &e), MYR__RESP_MORE);
    n = frame(buf, 4, &r1);
    two = n + frame(buf + n, 5, &rn);
    /* A partial frame, or one with the wrong sequence id, is left alone. */
    seq = 4;
    assert_int_equal(myr__resp_rows(&r, &seq, buf, n - 1, &rec_sink, &rc), 0);
    seq = 9;
    assert_int_equal(myr__resp_rows(&r, &seq, buf, two, &rec_sink, &rc), 0);
    /* A malformed row inside a frame is an error. */
    pkt bad = P("\x01" "1" "\x09" "x");
    seq = 4;
    n = frame(buf, 4, &bad);
    assert_int_equal(myr__resp_rows(&r, &seq, buf, n, &rec_sink, &rc), MYR_EMALFORMED);
}

/* The fast path takes a whole result set (count, definitions, their EOF,
 * rows, the EOF that ends it) in one call, two sets after MORE_RESULTS
 * too, and leaves what is not a result set (an OK, a PREPARE's answer) to
 * the general path. */
static void test_resp_rows_whole_result(void **state)
{
    (void)state;
    myr__resp r;
    myr__resp_init(&r, CAPS41);
    rec rc = {0};
    uint8_t buf[1024];
    const pkt pkts[] = {P("\x02"), P(COL_ID), P(COL_NAME), P(EOF_PKT), P(ROW_1), P(ROW_NULL), P(EOF_MORE),
                        P("\x01"), P(COL_ID), P(EOF_PKT), P(EOF_LAST), P(OK_UPDATE)};
    size_t n = 0, before_ok = 0;
    for (size_t i = 0; i < sizeof pkts / sizeof pkts[0]; i++) {
        if (i == 11)
            before_ok = n;
        n += frame(buf + n, (uint8_t)(1 + i), &pkts[i]);
    }
    uint8_t seq = 1;
    assert_int_equal(myr__resp_rows(&r, &seq, buf, n, &rec_sink, &rc), (long)before_ok);
    assert_int_equal(seq, 12);
    assert_true(myr__resp_done(&r));
    assert_string_equal(rc.log, "cols(2) col0=id col1=name row[1|alice] row[2|NULL] end(10) "
                                "cols(1) col0=id end(2) ");
    /* An OK first, a PREPARE: nothing taken. */
    myr__resp_init(&r, CAPS41);
    seq = 12;
    assert_int_equal(myr__resp_rows(&r, &seq, buf + before_ok, n - before_ok, &rec_sink, &rc), 0);
    myr__resp_init(&r, CAPS41);
    r.mode = MYR__RMODE_PREPARE;
    seq = 1;
    assert_int_equal(myr__resp_rows(&r, &seq, buf, n, &rec_sink, &rc), 0);
}

/* A sink may ask the codec to stop (a streaming batch is ready): the
 * event is taken, paused is set, and the rest is read later. */
static void test_sink_pause(void **state)
{
    (void)state;
    myr__resp r;
    myr__resp_init(&r, CAPS_DEOF);
    rec rc = {.pause_at = 5};   /* cols, col0, col1, slots, row 1 */
    myr__err e;
    const pkt head[] = {P("\x02"), P(COL_ID), P(COL_NAME)};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(myr__resp_read(&r, head[i].p, head[i].len, &rec_sink, &rc, &e), MYR__RESP_MORE);
    assert_int_equal(r.paused, 0);
    /* The fast path stops right after the row that paused. */
    uint8_t buf[256];
    pkt r1 = P(ROW_1), rn = P(ROW_NULL), end = P(OK_END);
    size_t one = frame(buf, 4, &r1);
    size_t two = one + frame(buf + one, 5, &rn);
    size_t all = two + frame(buf + two, 6, &end);
    uint8_t seq = 4;
    assert_int_equal(myr__resp_rows(&r, &seq, buf, all, &rec_sink, &rc), (long)one);
    assert_int_equal(seq, 5);
    assert_int_equal(r.paused, 1);
    assert_string_equal(rc.log, "cols(2) col0=id col1=name row[1|alice] ");
    r.paused = 0;   /* the reader clears it, then goes on, to the end */
    assert_int_equal(myr__resp_rows(&r, &seq, buf + one, all - one, &rec_sink, &rc), (long)(all - one));
    assert_int_equal(r.paused, 0);
    assert_true(myr__resp_done(&r));
    /* Through myr__resp_read: a row that pauses is MORE, an end that
     * pauses keeps its DONE. */
    myr__resp_init(&r, CAPS_DEOF);
    rec rc2 = {.pause_at = 5};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(myr__resp_read(&r, head[i].p, head[i].len, &rec_sink, &rc2, &e), MYR__RESP_MORE);
    assert_int_equal(myr__resp_read(&r, r1.p, r1.len, &rec_sink, &rc2, &e), MYR__RESP_MORE);
    assert_int_equal(r.paused, 1);
    r.paused = 0;
    rc2.pause_at = 8;   /* slots 6, row 2 7, end 8 */
    assert_int_equal(myr__resp_read(&r, rn.p, rn.len, &rec_sink, &rc2, &e), MYR__RESP_MORE);
    assert_int_equal(r.paused, 0);
    assert_int_equal(myr__resp_read(&r, end.p, end.len, &rec_sink, &rc2, &e), MYR__RESP_DONE);
    assert_int_equal(r.paused, 1);
    assert_string_equal(rc2.log, "cols(2) col0=id col1=name row[1|alice] row[2|NULL] end(2) ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok),
        cmocka_unit_test(test_ok_session_track),
        cmocka_unit_test(test_err),
        cmocka_unit_test(test_eof_detection),
        cmocka_unit_test(test_coldef),
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_resp_resultset_eof),
        cmocka_unit_test(test_resp_resultset_deprecate_eof),
        cmocka_unit_test(test_resp_ok_err_infile),
        cmocka_unit_test(test_resp_multi_results),
        cmocka_unit_test(test_resp_error_mid_rows),
        cmocka_unit_test(test_resp_row_starting_with_fe),
        cmocka_unit_test(test_resp_malformed),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_rows_copy),
        cmocka_unit_test(test_resp_read_sink),
        cmocka_unit_test(test_resp_read_sink_fails),
        cmocka_unit_test(test_resp_rows_fast_path),
        cmocka_unit_test(test_sink_pause),
        cmocka_unit_test(test_resp_rows_whole_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
