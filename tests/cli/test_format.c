/*
 * test_format.c -- unit tests of the CLI's batch output (src/cli/format.c):
 * escaping of values, --raw, NULL, column names cut at NUL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../src/cli/format.c"

#include <stdlib.h>

typedef struct memout {
    FILE *f;
    char *buf;
    size_t len;
} memout;

static void mo_open(memout *m)
{
    m->buf = NULL;
    m->len = 0;
    m->f = open_memstream(&m->buf, &m->len);
    assert_non_null(m->f);
}

/* Close and compare with the expected bytes. */
static void mo_check(memout *m, const char *want, size_t want_len)
{
    fclose(m->f);
    assert_int_equal(m->len, want_len);
    assert_memory_equal(m->buf, want, want_len);
    free(m->buf);
}
#define CHECK(m, lit) mo_check(&(m), (lit), sizeof(lit) - 1)

static void test_value_escapes(void **state)
{
    memout m;
    static const char v[] = "a\0b\tc\nd\\e\rf'g\"";
    (void)state;

    mo_open(&m);
    cli_put_value(m.f, v, sizeof(v) - 1, false);
    CHECK(m, "a\\0b\\tc\\nd\\\\e\rf'g\"");

    mo_open(&m);
    cli_put_value(m.f, v, sizeof(v) - 1, true);
    CHECK(m, "a\0b\tc\nd\\e\rf'g\"");
}

static void test_null_and_empty(void **state)
{
    memout m;
    (void)state;

    mo_open(&m);
    cli_put_value(m.f, NULL, 0, false);
    cli_put_sep(m.f);
    cli_put_value(m.f, "", 0, false);
    cli_put_sep(m.f);
    cli_put_value(m.f, "NULL", 4, false);
    cli_put_sep(m.f);
    cli_put_value(m.f, NULL, 0, true);
    cli_put_eol(m.f);
    CHECK(m, "NULL\t\tNULL\tNULL\n");
}

static void test_high_bytes_and_utf8(void **state)
{
    memout m;
    char all[256];
    char want[256 + 4];
    size_t k = 0;
    (void)state;

    /* Every byte value: only the four specials change. */
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    for (int i = 0; i < 256; i++) {
        switch (i) {
        case 0: want[k++] = '\\'; want[k++] = '0'; break;
        case '\t': want[k++] = '\\'; want[k++] = 't'; break;
        case '\n': want[k++] = '\\'; want[k++] = 'n'; break;
        case '\\': want[k++] = '\\'; want[k++] = '\\'; break;
        default: want[k++] = (char)i;
        }
    }
    mo_open(&m);
    cli_put_value(m.f, all, sizeof(all), false);
    mo_check(&m, want, k);

    mo_open(&m);
    cli_put_value(m.f, "\xf0\x9f\x98\x80\xe4\xb8\xad\\", 8, false);
    CHECK(m, "\xf0\x9f\x98\x80\xe4\xb8\xad\\\\");
}

static void test_names(void **state)
{
    memout m;
    (void)state;

    /* Names are not escaped, and stop at a NUL like fputs. */
    mo_open(&m);
    cli_put_name(m.f, "a\tb\\c", 5);
    cli_put_sep(m.f);
    cli_put_name(m.f, "x\0y", 3);
    cli_put_eol(m.f);
    CHECK(m, "a\tb\\c\tx\n");
}

static void test_big_value(void **state)
{
    memout m;
    size_t n = 20u * 1024 * 1024;
    char *v = malloc(n);
    (void)state;

    assert_non_null(v);
    memset(v, 'x', n);
    v[n / 2] = '\n';
    mo_open(&m);
    cli_put_value(m.f, v, n, false);
    fclose(m.f);
    assert_int_equal(m.len, n + 1);
    assert_memory_equal(m.buf + n / 2, "\\n", 2);
    assert_int_equal(m.buf[n], 'x');
    free(m.buf);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_escapes),
        cmocka_unit_test(test_null_and_empty),
        cmocka_unit_test(test_high_bytes_and_utf8),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_big_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
