/*
 * test_layout.c -- unit tests of the CLI's cell counting (src/cli/layout.c),
 * which decides the padding of table output; the layouts themselves are
 * checked differentially against the reference (test_differential.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../src/cli/layout.c"

static void test_cells(void **state)
{
    (void)state;
    assert_int_equal(cli_cells("", 0), 0);
    assert_int_equal(cli_cells("abc", 3), 3);
    assert_int_equal(cli_cells("h\xc3\xa9llo", 6), 5);              /* é: 2 bytes, 1 cell */
    assert_int_equal(cli_cells("\xe6\x97\xa5\xe6\x9c\xac", 6), 4);  /* 日本: 2 cells each */
    assert_int_equal(cli_cells("\xf0\x9f\x98\x80", 4), 1);          /* an emoji outside the wide table */
    assert_int_equal(cli_cells("\xf0\xa0\x80\x80", 4), 2);          /* U+20000, CJK ext. B */
    assert_int_equal(cli_cells("\xef\xbc\xa1", 3), 2);              /* U+FF21 fullwidth A */
    /* invalid or cut sequences: one cell per byte */
    assert_int_equal(cli_cells("\xff\xfe", 2), 2);
    assert_int_equal(cli_cells("\xe6\x97", 2), 2);
    assert_int_equal(cli_cells("\xc0\x80", 2), 2);                  /* overlong NUL */
    assert_int_equal(cli_cells("\xe0\x80\x80", 3), 3);              /* overlong */
    assert_int_equal(cli_cells("a\0b", 3), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cells),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
