/* tests/proto/test_wire.c -- length-encoded integers and strings (src/proto/wire.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/proto.h"

static void test_lenenc_int_forms(void **state)
{
    (void)state;
    static const struct { uint8_t in[9]; size_t len; size_t used; uint64_t v; } cases[] = {
        {{0x00}, 1, 1, 0},
        {{0xFA}, 1, 1, 250},
        {{0xFC, 0xFB, 0x00}, 3, 3, 251},
        {{0xFC, 0xFF, 0xFF}, 3, 3, 0xFFFF},
        {{0xFD, 0x00, 0x00, 0x01}, 4, 4, 0x10000},
        {{0xFD, 0xFF, 0xFF, 0xFF}, 4, 4, 0xFFFFFF},
        {{0xFE, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88}, 9, 9, 0x8807060504030201ull},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 12345;
        assert_int_equal(myr__lenenc_int(cases[i].in, cases[i].len, &v), cases[i].used);
        assert_true(v == cases[i].v);
        /* every truncation is refused */
        for (size_t cut = 0; cut < cases[i].len; cut++)
            assert_int_equal(myr__lenenc_int(cases[i].in, cut, &v), 0);
    }
    uint64_t v;
    static const uint8_t null_marker[] = {0xFB, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t err_marker[] = {0xFF, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(myr__lenenc_int(null_marker, sizeof null_marker, &v), 0);
    assert_int_equal(myr__lenenc_int(err_marker, sizeof err_marker, &v), 0);
}

static void test_lenenc_roundtrip(void **state)
{
    (void)state;
    static const struct { uint64_t v; size_t size; } cases[] = {
        {0, 1}, {250, 1}, {251, 3}, {0xFFFF, 3}, {0x10000, 4}, {0xFFFFFF, 4},
        {0x1000000, 9}, {UINT64_MAX, 9},
    };
    myr__buf b;
    myr__buf_init(&b);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        myr__buf_reset(&b);
        assert_int_equal(myr__put_lenenc_int(&b, cases[i].v), 0);
        assert_int_equal(b.len, cases[i].size);
        uint64_t v = 0;
        assert_int_equal(myr__lenenc_int(b.data, b.len, &v), cases[i].size);
        assert_true(v == cases[i].v);
    }
    myr__buf_free(&b);
}

static void test_lenenc_str(void **state)
{
    (void)state;
    myr__buf b;
    myr__buf_init(&b);
    const uint8_t bin[] = {'a', 0x00, 0xFB, 0xFF, 'z'};
    assert_int_equal(myr__put_lenenc_str(&b, bin, sizeof bin), 0);
    assert_int_equal(myr__put_lenenc_str(&b, "", 0), 0);
    assert_int_equal(b.len, 1 + 5 + 1);
    const uint8_t *s;
    uint64_t n;
    assert_int_equal(myr__lenenc_str(b.data, b.len, &s, &n), 6);
    assert_int_equal(n, 5);
    assert_memory_equal(s, bin, 5);
    assert_int_equal(myr__lenenc_str(b.data + 6, 1, &s, &n), 1);   /* empty string */
    assert_int_equal(n, 0);
    for (size_t cut = 0; cut < 6; cut++)
        assert_int_equal(myr__lenenc_str(b.data, cut, &s, &n), 0);
    myr__buf_free(&b);

    /* a length that points far past the end, in each width */
    static const uint8_t far2[] = {0xFC, 0x00, 0x01, 'x'};
    static const uint8_t far8[] = {0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 'x'};
    assert_int_equal(myr__lenenc_str(far2, sizeof far2, &s, &n), 0);
    assert_int_equal(myr__lenenc_str(far8, sizeof far8, &s, &n), 0);
    /* a 300-byte string uses the 0xFC form */
    uint8_t big[300];
    memset(big, 'q', sizeof big);
    myr__buf_init(&b);
    assert_int_equal(myr__put_lenenc_str(&b, big, sizeof big), 0);
    assert_int_equal(b.len, 303);
    assert_int_equal(b.data[0], 0xFC);
    assert_int_equal(myr__lenenc_str(b.data, b.len, &s, &n), 303);
    assert_int_equal(n, 300);
    myr__buf_free(&b);
}

static void test_fixed_ints(void **state)
{
    (void)state;
    static const uint8_t p[] = {0x01, 0x02, 0x03, 0x84};
    assert_int_equal(myr__u16(p), 0x0201);
    assert_int_equal(myr__u24(p), 0x030201);
    assert_int_equal(myr__u32(p), 0x84030201u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lenenc_int_forms),
        cmocka_unit_test(test_lenenc_roundtrip),
        cmocka_unit_test(test_lenenc_str),
        cmocka_unit_test(test_fixed_ints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
