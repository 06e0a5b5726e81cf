/* tests/proto/test_binary.c -- the binary protocol codec (src/proto/binary.c)
 * and the response machine's PREPARE and binary-row modes, from byte
 * fixtures: prepare answers with and without EOF packets, binary rows
 * (NULL bitmap, every value width, truncations), the text form of binary
 * values, and the COM_STMT_EXECUTE / SEND_LONG_DATA / CLOSE layouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/proto.h"

#define CAPS41 (MYR__CLIENT_PROTOCOL_41 | MYR__CLIENT_SECURE_CONNECTION | MYR__CLIENT_TRANSACTIONS)
#define CAPS_DEOF (CAPS41 | MYR__CLIENT_DEPRECATE_EOF)
#define L(lit) (const uint8_t *)(lit), sizeof(lit) - 1

/* stmt 7, 2 columns, 1 parameter, 0 warnings */
#define PREP_OK "\x00" "\x07\x00\x00\x00" "\x02\x00" "\x01\x00" "\x00" "\x00\x00"
#define COLDEF(name, type) "\x03" "def" "\x00" "\x00" "\x00" "\x01" name "\x00" \
                           "\x0c" "\x3f\x00" "\x0b\x00\x00\x00" type "\x00\x00" "\x00" "\x00\x00"
#define EOF_PKT "\xfe" "\x00\x00" "\x02\x00"

static void test_prepare_response(void **state)
{
    (void)state;
    for (int deof = 0; deof <= 1; deof++) {
        myr__resp r;
        myr__resp_ev ev;
        myr__resp_init(&r, deof ? CAPS_DEOF : CAPS41);
        r.mode = MYR__RMODE_PREPARE;
        assert_int_equal(myr__resp_feed(&r, L(PREP_OK), &ev), 0);
        assert_int_equal(ev.kind, MYR__EV_PREPARED);
        assert_int_equal(ev.prep.stmt_id, 7);
        assert_int_equal(ev.prep.ncols, 2);
        assert_int_equal(ev.prep.nparams, 1);
        assert_false(ev.done);
        assert_int_equal(myr__resp_feed(&r, L(COLDEF("?", "\xfd")), &ev), 0);
        assert_int_equal(ev.kind, MYR__EV_PARAM);
        if (!deof) {
            assert_int_equal(myr__resp_feed(&r, L(EOF_PKT), &ev), 0);
            assert_int_equal(ev.kind, MYR__EV_COLUMNS_END);
        }
        assert_int_equal(myr__resp_feed(&r, L(COLDEF("a", "\x08")), &ev), 0);
        assert_int_equal(ev.kind, MYR__EV_COLUMN);
        assert_int_equal(ev.col_index, 0);
        assert_int_equal(myr__resp_feed(&r, L(COLDEF("b", "\x0f")), &ev), 0);
        assert_int_equal(ev.kind, MYR__EV_COLUMN);
        assert_int_equal(ev.col_index, 1);
        assert_int_equal(ev.col.type, MYR_TYPE_VARCHAR);
        assert_int_equal(ev.done, deof);
        if (!deof) {
            assert_int_equal(myr__resp_feed(&r, L(EOF_PKT), &ev), 0);
            assert_true(ev.done);
        }
        assert_int_equal(myr__resp_feed(&r, L(EOF_PKT), &ev), MYR_EMALFORMED);   /* over */
    }
    /* No parameters, no columns: the OK alone. An error instead. A short OK. */
    myr__resp r;
    myr__resp_ev ev;
    myr__resp_init(&r, CAPS41);
    r.mode = MYR__RMODE_PREPARE;
    assert_int_equal(myr__resp_feed(&r, L("\x00" "\x01\x00\x00\x00" "\x00\x00" "\x00\x00" "\x00" "\x00\x00"), &ev), 0);
    assert_true(ev.done);
    myr__resp_init(&r, CAPS41);
    r.mode = MYR__RMODE_PREPARE;
    assert_int_equal(myr__resp_feed(&r, L("\xff" "\x28\x04" "#42000" "syntax"), &ev), 0);
    assert_int_equal(ev.kind, MYR__EV_ERR);
    assert_int_equal(ev.err.code, 1064);
    myr__resp_init(&r, CAPS41);
    r.mode = MYR__RMODE_PREPARE;
    assert_int_equal(myr__resp_feed(&r, L("\x00" "\x01\x00\x00\x00" "\x00"), &ev), MYR_EMALFORMED);
}

static myr_column col(uint8_t type, uint16_t flags, uint32_t length, uint8_t decimals)
{
    myr_column c;
    memset(&c, 0, sizeof c);
    c.type = type;
    c.flags = flags;
    c.length = length;
    c.decimals = decimals;
    return c;
}

static void test_binrow_parse(void **state)
{
    (void)state;
    myr_column cols[5] = {col(MYR_TYPE_TINY, 0, 4, 0), col(MYR_TYPE_VAR_STRING, 0, 10, 0),
                          col(MYR_TYPE_LONGLONG, 0, 20, 0), col(MYR_TYPE_DATETIME, 0, 19, 0),
                          col(MYR_TYPE_DOUBLE, 0, 22, 31)};
    /* header, bitmap (bits from 2: column 2 is NULL -> bit 4), values */
    static const uint8_t row[] = {0x00, 0x10, 0xfe, 0x03, 'a', 'b', 'c', 0x07, 0xe8, 0x07, 2, 29, 1, 2, 3,
                                  0, 0, 0, 0, 0, 0, 0xf8, 0x3f};
    myr__field f[5];
    assert_int_equal(myr__binrow_parse(row, sizeof row, cols, 5, f), 0);
    assert_int_equal(f[0].len, 1);
    assert_int_equal(f[0].ptr[0], 0xfe);
    assert_int_equal(f[1].len, 3);
    assert_memory_equal(f[1].ptr, "abc", 3);
    assert_null(f[2].ptr);
    assert_int_equal(f[3].len, 7);
    assert_int_equal(f[4].len, 8);
    char text[MYR__BIN_TEXT_MAX];
    assert_int_equal(myr__bin_text(&cols[0], f[0].ptr, f[0].len, text), 2);
    assert_memory_equal(text, "-2", 2);
    size_t n = myr__bin_text(&cols[3], f[3].ptr, f[3].len, text);
    assert_int_equal(n, 19);
    assert_memory_equal(text, "2024-02-29 01:02:03", 19);
    n = myr__bin_text(&cols[4], f[4].ptr, f[4].len, text);
    assert_int_equal(n, 3);
    assert_memory_equal(text, "1.5", 3);
    /* Every truncation is malformed, and so is a stray byte or a bad header. */
    for (size_t len = 0; len < sizeof row; len++)
        assert_int_equal(myr__binrow_parse(row, len, cols, 5, f), MYR_EMALFORMED);
    uint8_t more[sizeof row + 1];
    memcpy(more, row, sizeof row);
    more[sizeof row] = 0;
    assert_int_equal(myr__binrow_parse(more, sizeof more, cols, 5, f), MYR_EMALFORMED);
    more[0] = 0x01;
    assert_int_equal(myr__binrow_parse(more, sizeof row, cols, 5, f), MYR_EMALFORMED);
}

static void text_of(myr_column c, const uint8_t *raw, size_t len, const char *want)
{
    char text[MYR__BIN_TEXT_MAX + 1];
    size_t n = myr__bin_text(&c, raw, len, text);
    text[n] = '\0';
    assert_string_equal(text, want);
}

static void test_text_forms(void **state)
{
    (void)state;
    static const uint8_t m1[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    text_of(col(MYR_TYPE_LONGLONG, 0, 20, 0), m1, 8, "-1");
    text_of(col(MYR_TYPE_LONGLONG, MYR_FLAG_UNSIGNED, 20, 0), m1, 8, "18446744073709551615");
    text_of(col(MYR_TYPE_SHORT, 0, 6, 0), m1, 2, "-1");
    text_of(col(MYR_TYPE_LONG, MYR_FLAG_UNSIGNED | MYR_FLAG_ZEROFILL, 10, 0), (const uint8_t *)"\x2a\0\0\0", 4,
            "0000000042");
    text_of(col(MYR_TYPE_YEAR, MYR_FLAG_UNSIGNED | MYR_FLAG_ZEROFILL, 4, 0), (const uint8_t *)"\0\0", 2, "0000");
    /* TIME: negative, 2 days 3 hours, microseconds shown per decimals */
    static const uint8_t tm[12] = {1, 2, 0, 0, 0, 3, 4, 5, 0x40, 0xe2, 0x01, 0x00};   /* 123456 us */
    text_of(col(MYR_TYPE_TIME, 0, 10, 0), tm, 8, "-51:04:05");
    text_of(col(MYR_TYPE_TIME, 0, 17, 6), tm, 12, "-51:04:05.123456");
    text_of(col(MYR_TYPE_TIME, 0, 14, 3), tm, 12, "-51:04:05.123");
    text_of(col(MYR_TYPE_TIME, 0, 10, 0), tm, 0, "00:00:00");
    text_of(col(MYR_TYPE_DATE, 0, 10, 0), tm, 0, "0000-00-00");
    text_of(col(MYR_TYPE_DATETIME, 0, 19, 0), tm, 0, "0000-00-00 00:00:00");
    /* FLOAT: 6 significant digits; fixed decimals; DOUBLE shortest, e-form outside 1e-15..1e15 */
    float f = 123456789.0f;
    uint8_t fb[4];
    memcpy(fb, &f, 4);   /* little-endian machine, like the wire */
    text_of(col(MYR_TYPE_FLOAT, 0, 12, 31), fb, 4, "123457000");
    text_of(col(MYR_TYPE_FLOAT, 0, 12, 2), fb, 4, "123456792.00");
    double ds[] = {0.1, 1e15, 1e16, 1.5e-15, 1e-16, -2.5e300, 123456789012345678.0, 0.0};
    const char *want[] = {"0.1", "1e15", "1e16", "0.0000000000000015", "1e-16", "-2.5e300",
                          "1.2345678901234568e17", "0"};
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        uint8_t db[8];
        memcpy(db, &ds[i], 8);
        text_of(col(MYR_TYPE_DOUBLE, 0, 22, 31), db, 8, want[i]);
    }
    assert_true(myr__bin_is_bytes(MYR_TYPE_NEWDECIMAL));
    assert_true(myr__bin_is_bytes(MYR_TYPE_JSON));
    assert_false(myr__bin_is_bytes(MYR_TYPE_TIMESTAMP));
    assert_false(myr__bin_is_bytes(MYR_TYPE_INT24));
}

static void test_requests(void **state)
{
    (void)state;
    myr__buf b;
    myr__buf_init(&b);
    myr_param p[3] = {myr_param_i64(-2), myr_param_null(), myr_param_str("hi", 2)};
    for (int i = 0; i < 3; i++)
        assert_int_equal(myr__param_check(&p[i]), 0);
    uint8_t seq = 0;
    assert_int_equal(myr__stmt_execute_build(&b, &seq, 0x01020304, p, 3, NULL), 0);
    assert_int_equal(seq, 1);
    static const uint8_t want[] = {
        29, 0, 0, 0,                                    /* frame header */
        0x17, 0x04, 0x03, 0x02, 0x01, 0x00, 1, 0, 0, 0, /* EXECUTE id flags iterations */
        0x02, 0x01,                                     /* NULL bitmap (param 1), bound */
        0x08, 0x00, 0x06, 0x00, 0xfe, 0x00,             /* LONGLONG, NULL, STRING */
        0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* -2 */
        0x02, 'h', 'i',
    };
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    myr__buf_reset(&b);
    seq = 0;
    assert_int_equal(myr__stmt_close_build(&b, &seq, 9), 0);
    assert_int_equal(b.len, 9);
    assert_memory_equal(b.data, "\x05\x00\x00\x00\x19\x09\x00\x00\x00", 9);
    myr__buf_reset(&b);
    seq = 0;
    assert_int_equal(myr__stmt_long_data_build(&b, &seq, 9, 2, "xyz", 3), 0);
    assert_memory_equal(b.data, "\x0a\x00\x00\x00\x18\x09\x00\x00\x00\x02\x00xyz", 14);
    myr__buf_free(&b);
    myr_param bad = myr_param_time(0, 839, 0, 0, 0);
    assert_int_equal(myr__param_check(&bad), MYR_EINVAL);
    bad = myr_param_date(2024, 2, 30);   /* the server judges the calendar; ranges only here */
    assert_int_equal(myr__param_check(&bad), 0);
    bad.type = 0;
    assert_int_equal(myr__param_check(&bad), MYR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepare_response),
        cmocka_unit_test(test_binrow_parse),
        cmocka_unit_test(test_text_forms),
        cmocka_unit_test(test_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
