/* tests/conn/test_escape.c -- myr_escape_string() without a real server:
 * every byte value alone and all of them together in both modes, exact
 * outputs, the return value, the NUL, the 2*len+1 bound (buffers sized
 * exactly, so ASan sees any overrun), and the switch between modes following
 * the server status a scripted server sends in its OK packets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fakesrv.h"

#define WAIT_MS 5000
#define NBE MYR_SERVER_STATUS_NO_BACKSLASH_ESCAPES

/* The expected escape of one byte, written out independently of the code
 * under test: backslash mode (quotes = 0) or quote doubling (quotes = 1). */
static const char *expected(unsigned char b, int quotes, char single[2])
{
    if (quotes)
        return b == '\'' ? "''" : (single[0] = (char)b, single[1] = 0, single);
    switch (b) {
    case 0x00: return "\\0";
    case 0x0a: return "\\n";
    case 0x0d: return "\\r";
    case 0x1a: return "\\Z";
    case 0x22: return "\\\"";
    case 0x27: return "\\'";
    case 0x5c: return "\\\\";
    default: single[0] = (char)b; single[1] = 0; return single;
    }
}

/* Escape len bytes into a heap buffer of exactly 2*len+1 bytes and check the
 * result against want (want_len bytes). */
static void check(const myr_conn *c, const char *from, size_t len, const char *want, size_t want_len)
{
    char *to = malloc(2 * len + 1);
    assert_non_null(to);
    memset(to, 0x55, 2 * len + 1);
    size_t n = myr_escape_string(c, to, from, len);
    assert_int_equal(n, want_len);
    assert_memory_equal(to, want, want_len);
    assert_int_equal(to[n], '\0');
    free(to);
}

/* A connection to a scripted server that answers three queries with OKs
 * whose status is AUTOCOMMIT, then AUTOCOMMIT|NO_BACKSLASH_ESCAPES, then
 * AUTOCOMMIT again. */
typedef struct fixture {
    fakesrv *s;
    myr_loop *loop;
    myr_conn *c;
    int queries;   /* scripted OKs consumed so far */
} fixture;

static void query_ok(fixture *fx)
{
    fx->queries++;
    myr_future *f = myr_query(fx->c, "SET x", 5);
    assert_non_null(f);
    assert_int_equal(myr_await(f, WAIT_MS), 0);
    myr_result_free(myr_future_take_result(f));
    myr_future_free(f);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->s = fs_new();
    fs_script_handshake(fx->s, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a);
    static const uint16_t statuses[3] = {FS_STATUS_AUTOCOMMIT, FS_STATUS_AUTOCOMMIT | NBE,
                                         FS_STATUS_AUTOCOMMIT};
    for (int i = 0; i < 3; i++) {
        fs_expect(fx->s, 0, 0x03);
        fs_buf b = {0};
        uint8_t seq = 1;
        fs_ok(&b, &seq, 0, 0, statuses[i], 0, NULL);
        fs_send_buf(fx->s, &b);
    }
    fs_drain(fx->s);
    fx->loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    int n = 0;
    myr_future *cf = fs_connect(fx->loop, o, fx->s, &n);
    myr_conn_opts_free(o);
    assert_non_null(cf);
    assert_int_equal(myr_await(cf, WAIT_MS), 0);
    fx->c = myr_future_take_conn(cf);
    assert_non_null(fx->c);
    myr_future_free(cf);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    /* Play the rest of the script, so fs_join can check all of it ran. */
    while (fx->queries < 3)
        query_ok(fx);
    myr_conn_free(fx->c);
    assert_int_equal(fs_join(fx->s), 0);
    myr_loop_free(fx->loop);
    fs_free(fx->s);
    free(fx);
    return 0;
}

static void test_each_byte_backslash(void **state)
{
    (void)state;
    for (unsigned b = 0; b < 256; b++) {
        char from = (char)b, single[2];
        const char *want = expected((unsigned char)b, 0, single);
        check(NULL, &from, 1, want, b == 0 ? 2 : strlen(want));
    }
}

static void test_all_bytes_both_modes(void **state)
{
    fixture *fx = *state;
    char from[256], want[512], single[2];
    for (int i = 0; i < 256; i++)
        from[i] = (char)i;
    for (int quotes = 0; quotes < 2; quotes++) {
        if (quotes) {
            query_ok(fx);
            query_ok(fx);
            assert_true(myr_conn_server_status(fx->c) & NBE);
        }
        size_t k = 0;
        for (int i = 0; i < 256; i++) {
            const char *e = expected((unsigned char)i, quotes, single);
            size_t el = (i == 0 && !quotes) ? 2 : (i == 0 ? 1 : strlen(e));
            memcpy(want + k, e, el);
            k += el;
        }
        /* Backslash mode: 7 bytes doubled; quote mode: 1. */
        assert_int_equal(k, quotes ? 257 : 263);
        check(quotes ? fx->c : NULL, from, sizeof from, want, k);
    }
}

static void test_each_byte_quotes(void **state)
{
    fixture *fx = *state;
    query_ok(fx);
    query_ok(fx);
    assert_true(myr_conn_server_status(fx->c) & NBE);
    for (unsigned b = 0; b < 256; b++) {
        char from = (char)b, single[2];
        const char *want = expected((unsigned char)b, 1, single);
        check(fx->c, &from, 1, want, b == 0 ? 1 : strlen(want));
    }
}

static void test_exact_outputs(void **state)
{
    (void)state;
    static const char in[] = "it's a \"test\"\\\n\r\x1a\0end";
    static const char bs[] = "it\\'s a \\\"test\\\"\\\\\\n\\r\\Z\\0end";
    static const char qd[] = "it''s a \"test\"\\\n\r\x1a\0end";
    check(NULL, in, sizeof in - 1, bs, sizeof bs - 1);
    fixture *fx = *state;
    query_ok(fx);
    query_ok(fx);
    check(fx->c, in, sizeof in - 1, qd, sizeof qd - 1);

    /* Empty input: just the NUL. */
    char one[1] = {'x'};
    assert_int_equal(myr_escape_string(NULL, one, "", 0), 0);
    assert_int_equal(one[0], '\0');

    /* Worst cases fill exactly 2*len bytes plus the NUL. */
    check(NULL, "''''", 4, "\\'\\'\\'\\'", 8);
    check(fx->c, "''''", 4, "''''''''", 8);
    check(fx->c, "\\\\", 2, "\\\\", 2);     /* backslashes untouched in quote mode */
    check(NULL, "plain", 5, "plain", 5);
    check(fx->c, "plain", 5, "plain", 5);
    /* % and _ are not special in a string literal. */
    check(NULL, "50%_x", 5, "50%_x", 5);
}

static void test_mode_follows_status(void **state)
{
    fixture *fx = *state;
    char to[8];
    /* After the login OK: backslash mode. */
    assert_false(myr_conn_server_status(fx->c) & NBE);
    assert_int_equal(myr_escape_string(fx->c, to, "a'\\", 3), 5);
    assert_string_equal(to, "a\\'\\\\");
    query_ok(fx);
    assert_int_equal(myr_escape_string(fx->c, to, "a'\\", 3), 5);
    assert_string_equal(to, "a\\'\\\\");
    query_ok(fx);   /* the server turned NO_BACKSLASH_ESCAPES on */
    assert_true(myr_conn_server_status(fx->c) & NBE);
    assert_int_equal(myr_escape_string(fx->c, to, "a'\\", 3), 4);
    assert_string_equal(to, "a''\\");
    /* NULL connection: backslash mode whatever other connections do. */
    assert_int_equal(myr_escape_string(NULL, to, "a'\\", 3), 5);
    assert_string_equal(to, "a\\'\\\\");
    query_ok(fx);   /* and off again */
    assert_false(myr_conn_server_status(fx->c) & NBE);
    assert_int_equal(myr_escape_string(fx->c, to, "a'\\", 3), 5);
    assert_string_equal(to, "a\\'\\\\");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_byte_backslash),
        cmocka_unit_test_setup_teardown(test_all_bytes_both_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_byte_quotes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exact_outputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode_follows_status, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
