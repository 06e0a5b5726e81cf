/*
 * test_split.c -- unit tests of the CLI statement splitter (src/cli/split.c).
 *
 * The expected statements are what `mariadb` 10.11 sends to the server for
 * the same input (checked against the reference client by making each
 * statement fail, which echoes it). The differential test compares the two
 * clients end to end; these tests pin the rules down one by one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../src/cli/split.c"

#define MAX_ITEMS 32

typedef struct collected {
    int n;
    cli_item kind[MAX_ITEMS];
    char *text[MAX_ITEMS];
    size_t len[MAX_ITEMS];
    unsigned long line[MAX_ITEMS];
    int stop_at;      /* return nonzero on this item (1-based), 0 = never */
    int stop_value;
} collected;

static int collect(void *arg, cli_item kind, const char *text, size_t len, unsigned long line)
{
    collected *c = arg;

    assert_true(c->n < MAX_ITEMS);
    assert_int_equal(text[len], '\0');
    c->kind[c->n] = kind;
    c->text[c->n] = malloc(len + 1);
    memcpy(c->text[c->n], text, len + 1);
    c->len[c->n] = len;
    c->line[c->n] = line;
    c->n++;
    if (c->stop_at && c->n == c->stop_at)
        return c->stop_value;
    return 0;
}

static void free_collected(collected *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->text[i]);
}

/* Split input fed in one piece, or byte by byte when bytewise. */
static int split_all(collected *c, const char *in, size_t len, bool bytewise)
{
    cli_splitter s;
    int rc = 0;

    cli_split_init(&s, collect, c);
    if (bytewise) {
        for (size_t i = 0; i < len && !rc; i++)
            rc = cli_split_feed(&s, in + i, 1);
    } else {
        rc = cli_split_feed(&s, in, len);
    }
    if (!rc || rc == CLI_SPLIT_QUIT)
        rc = cli_split_finish(&s);
    cli_split_free(&s);
    return rc;
}

static void expect_item(const collected *c, int i, cli_item kind, unsigned long line,
                        const char *text)
{
    assert_true(i < c->n);
    assert_int_equal(c->kind[i], kind);
    assert_string_equal(c->text[i], text);
    assert_int_equal(c->line[i], line);
}

/* Run both ways (whole and byte by byte) and check the same result. */
#define SPLIT(c, in)                                                          \
    do {                                                                      \
        collected _b;                                                         \
        memset(&_b, 0, sizeof(_b));                                           \
        memset(&(c), 0, sizeof(c));                                           \
        split_all(&(c), (in), sizeof(in) - 1, false);                         \
        split_all(&_b, (in), sizeof(in) - 1, true);                           \
        assert_int_equal((c).n, _b.n);                                        \
        for (int _i = 0; _i < _b.n; _i++) {                                   \
            assert_int_equal((c).kind[_i], _b.kind[_i]);                      \
            assert_string_equal((c).text[_i], _b.text[_i]);                   \
            assert_int_equal((c).line[_i], _b.line[_i]);                      \
        }                                                                     \
        free_collected(&_b);                                                  \
    } while (0)

static void test_basic_lines(void **state)
{
    collected c;
    (void)state;

    SPLIT(c, "select 1;\nselect x;");
    assert_int_equal(c.n, 2);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "select 1");
    expect_item(&c, 1, CLI_ITEM_QUERY, 2, "select x");
    free_collected(&c);

    /* Several on one line share its number; blank lines don't start one. */
    SPLIT(c, "\n\n  select 1; select 2;\n\n\nselect\n3\n;\n");
    assert_int_equal(c.n, 3);
    expect_item(&c, 0, CLI_ITEM_QUERY, 3, "select 1");
    expect_item(&c, 1, CLI_ITEM_QUERY, 3, "select 2");
    expect_item(&c, 2, CLI_ITEM_QUERY, 6, "select\n3");
    free_collected(&c);

    /* A statement continued on the next line keeps its first line. */
    SPLIT(c, "select 1; sel\nect 2;");
    assert_int_equal(c.n, 2);
    expect_item(&c, 1, CLI_ITEM_QUERY, 1, "sel\nect 2");
    free_collected(&c);
}

static void test_trailing_without_delimiter(void **state)
{
    collected c;
    (void)state;

    SPLIT(c, "select 1;\nselect 2 \n\n \t\n");
    assert_int_equal(c.n, 2);
    expect_item(&c, 1, CLI_ITEM_QUERY, 2, "select 2");
    free_collected(&c);

    SPLIT(c, "select 'a;b'");
    assert_int_equal(c.n, 1);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "select 'a;b'");
    free_collected(&c);

    /* Empty statements are not sent. */
    SPLIT(c, ";;\n ; \n");
    assert_int_equal(c.n, 0);
    free_collected(&c);
}

static void test_quotes(void **state)
{
    collected c;
    (void)state;

    SPLIT(c, "select 'a;b', \"c;d\", `e;f`, 'it''s;', 'x\\';y', \"q\\\";\";select 2;");
    assert_int_equal(c.n, 2);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1,
                "select 'a;b', \"c;d\", `e;f`, 'it''s;', 'x\\';y', \"q\\\";\"");
    expect_item(&c, 1, CLI_ITEM_QUERY, 1, "select 2");
    free_collected(&c);

    /* No escapes inside backticks; strings over several lines. */
    SPLIT(c, "select `a\\`, 'x\n;y';");
    assert_int_equal(c.n, 1);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "select `a\\`, 'x\n;y'");
    free_collected(&c);

    /* A backslash ending a line inside a string is dropped. */
    SPLIT(c, "select 'a\\\nb' as x;");
    assert_int_equal(c.n, 1);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "select 'a\nb' as x");
    free_collected(&c);

    /* Comment markers inside strings are text. */
    SPLIT(c, "select '# x', '-- y', '/* z */';");
    assert_int_equal(c.n, 1);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "select '# x', '-- y', '/* z */'");
    free_collected(&c);
}

static void test_server_quoting_modes(void **state)
{
    collected c;
    cli_splitter s;
    (void)state;

    memset(&c, 0, sizeof(c));
    cli_split_init(&s, collect, &c);
    s.ansi_quotes = true;
    cli_split_feed(&s, "select \"a\\\" as x;", 17);
    cli_split_finish(&s);
    cli_split_free(&s);
    assert_int_equal(c.n, 1);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "select \"a\\\" as x");
    free_collected(&c);

    memset(&c, 0, sizeof(c));
    cli_split_init(&s, collect, &c);
    s.no_backslash_escapes = true;
    cli_split_feed(&s, "select 'a\\';select 2;", 21);
    cli_split_finish(&s);
    cli_split_free(&s);
    assert_int_equal(c.n, 2);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "select 'a\\'");
    free_collected(&c);
}

static void test_comments(void **state)
{
    collected c;
    (void)state;

    SPLIT(c, "select /* c */ 1 as a; # x\n-- y\nselect 2\n-- z\n;\n"
             "select x -- foo\n /* bar */ from\n dual;\n");
    assert_int_equal(c.n, 3);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "select  1 as a");
    expect_item(&c, 1, CLI_ITEM_QUERY, 3, "select 2");
    expect_item(&c, 2, CLI_ITEM_QUERY, 6, "select x \n  from\n dual");
    free_collected(&c);

    /* A block comment glued to text leaves one space; versioned ones stay. */
    SPLIT(c, "select/*c*/1 as b;select 1 /* c */ + \n  /*! 2 */ + /*M!100000 3 */ nosuch;");
    assert_int_equal(c.n, 2);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "select 1 as b");
    expect_item(&c, 1, CLI_ITEM_QUERY, 1, "select 1  + \n  /*! 2 */ + /*M!100000 3 */ nosuch");
    free_collected(&c);

    /* "--" needs a space after it, except at the start of a statement. */
    SPLIT(c, "select 1--1 as a;\n--x\nselect 2;--\nselect 3 --\n;");
    assert_int_equal(c.n, 3);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "select 1--1 as a");
    expect_item(&c, 1, CLI_ITEM_QUERY, 3, "select 2");
    expect_item(&c, 2, CLI_ITEM_QUERY, 4, "select 3");
    free_collected(&c);

    /* A block comment over lines: the statement starts after it. */
    SPLIT(c, "/* one\n two ; three\n*/ select 1;\nselect /* a\nb */ 2;");
    assert_int_equal(c.n, 2);
    expect_item(&c, 0, CLI_ITEM_QUERY, 3, " select 1");
    expect_item(&c, 1, CLI_ITEM_QUERY, 4, "select  2");
    free_collected(&c);

    /* A quote inside a versioned comment opens a string. */
    SPLIT(c, "select nosuch /*! 'a */;");
    assert_int_equal(c.n, 1);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "select nosuch /*! 'a */;");
    free_collected(&c);

    /* Multibyte characters don't end need_space (reference quirk). */
    SPLIT(c, "select nosuch/**/\xe4\xb8\xadx;");
    assert_int_equal(c.n, 1);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "select nosuch\xe4\xb8\xad x");
    free_collected(&c);
}

static void test_delimiter(void **state)
{
    collected c;
    (void)state;

    SPLIT(c, "drop procedure if exists p;\n"
             "DELIMITER //\n"
             "create procedure p() begin select 1; select 2; end//\n"
             "call p()//\n"
             "delimiter ;\n"
             "select 3;\n");
    assert_int_equal(c.n, 4);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "drop procedure if exists p");
    expect_item(&c, 1, CLI_ITEM_QUERY, 3, "create procedure p() begin select 1; select 2; end");
    expect_item(&c, 2, CLI_ITEM_QUERY, 4, "call p()");
    expect_item(&c, 3, CLI_ITEM_QUERY, 6, "select 3");
    free_collected(&c);

    /* Multi-character delimiter made of the old one; block over lines. */
    SPLIT(c, "delimiter ;;\nselect 1 as a;;\ncreate procedure q()\nbegin\n select 1;\nend;;\n");
    assert_int_equal(c.n, 2);
    expect_item(&c, 0, CLI_ITEM_QUERY, 2, "select 1 as a");
    expect_item(&c, 1, CLI_ITEM_QUERY, 3, "create procedure q()\nbegin\n select 1;\nend");
    free_collected(&c);

    /* Errors go on; a backslash in the argument escapes (a\b is "ab"). */
    SPLIT(c, "select 1;\ndelimiter\nselect 2;\ndelimiter a\\b\nselect 3 ab");
    assert_int_equal(c.n, 4);
    expect_item(&c, 1, CLI_ITEM_ERROR, 2,
                "DELIMITER must be followed by a 'delimiter' character or string");
    expect_item(&c, 2, CLI_ITEM_QUERY, 3, "select 2");
    expect_item(&c, 3, CLI_ITEM_QUERY, 5, "select 3");
    free_collected(&c);

    /* \d sets it too. */
    SPLIT(c, "\\d $$\nselect 1$$ select 2;$$");
    assert_int_equal(c.n, 2);
    expect_item(&c, 0, CLI_ITEM_QUERY, 2, "select 1");
    expect_item(&c, 1, CLI_ITEM_QUERY, 2, "select 2;");
    free_collected(&c);
}

static void test_client_commands(void **state)
{
    collected c;
    (void)state;

    SPLIT(c, "use td\nselect 1;\nuse `a b`;\nUSE\tx;\nexit\nselect 2;");
    assert_int_equal(c.n, 4);
    expect_item(&c, 0, CLI_ITEM_USE, 1, "td");
    expect_item(&c, 1, CLI_ITEM_QUERY, 2, "select 1");
    expect_item(&c, 2, CLI_ITEM_USE, 3, "a b");
    expect_item(&c, 3, CLI_ITEM_USE, 4, "x");
    free_collected(&c);

    /* "exit;" quits but leaves "exit" pending, which is then sent (as the
     * reference does); \q sends what was pending before it. */
    SPLIT(c, "select 1;\nexit;\nselect 2;");
    assert_int_equal(c.n, 2);
    expect_item(&c, 1, CLI_ITEM_QUERY, 2, "exit");
    free_collected(&c);

    /* "go;" reaches the server as "go"; \g sends; \c clears. */
    SPLIT(c, "go;\nselect 1 as a\\g select 2\\c select 3 as c\\q select 4;");
    assert_int_equal(c.n, 3);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "go");
    expect_item(&c, 1, CLI_ITEM_QUERY, 2, "select 1 as a");
    expect_item(&c, 2, CLI_ITEM_QUERY, 2, "select 3 as c");
    free_collected(&c);

    /* \N is NULL, not a command; unknown commands end the input. */
    SPLIT(c, "select \\N;\n\\x\nselect 2;");
    assert_int_equal(c.n, 2);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "select \\N");
    expect_item(&c, 1, CLI_ITEM_FATAL, 2, "Unknown command '\\x'.");
    free_collected(&c);

    /* A command word inside a statement is SQL; a lone "status" is not. */
    SPLIT(c, "select 1,\nuse;\nstatus\n");
    assert_int_equal(c.n, 2);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "select 1,\nuse");
    expect_item(&c, 1, CLI_ITEM_STATUS, 3, "");
    free_collected(&c);

    /* source/\. with their file, help with its topic, \G and ego. */
    SPLIT(c, "source a.sql\n\\. 'b c.sql'\nsource\nhelp\n\\h status\nselect 1\\G\nselect 2;\nego;\n");
    assert_int_equal(c.n, 8);
    expect_item(&c, 0, CLI_ITEM_SOURCE, 1, "a.sql");
    expect_item(&c, 1, CLI_ITEM_SOURCE, 2, "b c.sql");
    expect_item(&c, 2, CLI_ITEM_SOURCE, 3, "");
    expect_item(&c, 3, CLI_ITEM_HELP, 4, "");
    expect_item(&c, 4, CLI_ITEM_HELP, 5, "status");
    expect_item(&c, 5, CLI_ITEM_QUERY_VERTICAL, 6, "select 1");
    expect_item(&c, 6, CLI_ITEM_QUERY, 7, "select 2");
    expect_item(&c, 7, CLI_ITEM_QUERY_VERTICAL, 8, "ego");
    free_collected(&c);
}

static void test_line_endings_bom_nul(void **state)
{
    collected c;
    (void)state;

    SPLIT(c, "\xef\xbb\xbfselect 1 as a;\r\nselect\r\n2 as b;\r\n");
    assert_int_equal(c.n, 2);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "select 1 as a");
    expect_item(&c, 1, CLI_ITEM_QUERY, 2, "select\n2 as b");
    free_collected(&c);

    SPLIT(c, "select 1 as a;\nselect \"a\0b\";\nselect 2 as b;\n");
    assert_int_equal(c.n, 2);
    expect_item(&c, 1, CLI_ITEM_FATAL, 1,
                "ASCII '\\0' appeared in the statement, but this is not allowed unless option "
                "--binary-mode is enabled and mysql is run in non-interactive mode. Set "
                "--binary-mode to 1 if ASCII '\\0' is expected. Query: 'select \"a'.");
    free_collected(&c);

    /* Bytes 0x80-0xFF, valid UTF-8 or not, are plain text. */
    SPLIT(c, "select '\xf0\x9f\x98\x80', '\xff\x80;', 0x\xc3;");
    assert_int_equal(c.n, 1);
    expect_item(&c, 0, CLI_ITEM_QUERY, 1, "select '\xf0\x9f\x98\x80', '\xff\x80;', 0x\xc3");
    free_collected(&c);
}

static void test_stop(void **state)
{
    collected c;
    cli_splitter s;
    int rc;
    (void)state;

    memset(&c, 0, sizeof(c));
    c.stop_at = 1;
    c.stop_value = 7;
    cli_split_init(&s, collect, &c);
    rc = cli_split_feed(&s, "select 1; select 2;\nselect 3;\n", 30);
    assert_int_equal(rc, 7);
    assert_int_equal(cli_split_feed(&s, "select 4;\n", 10), 7);
    assert_int_equal(cli_split_finish(&s), 7);
    cli_split_free(&s);
    assert_int_equal(c.n, 1);
    free_collected(&c);
}

static void test_mb_len(void **state)
{
    const unsigned char *u;
    (void)state;

#define MB(str) (u = (const unsigned char *)(str), cli_mb_len(u, u + sizeof(str) - 1))
    assert_int_equal(MB("a"), 0);
    assert_int_equal(MB("\xc3\xa9"), 2);
    assert_int_equal(MB("\xc3"), 0);
    assert_int_equal(MB("\xc1\xa9"), 0);
    assert_int_equal(MB("\xe4\xb8\xad"), 3);
    assert_int_equal(MB("\xe0\x80\x80"), 0);
    assert_int_equal(MB("\xf0\x9f\x98\x80"), 4);
    assert_int_equal(MB("\xf4\x90\x80\x80"), 0);
    assert_int_equal(MB("\xff"), 0);
#undef MB
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_lines),
        cmocka_unit_test(test_trailing_without_delimiter),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_server_quoting_modes),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_delimiter),
        cmocka_unit_test(test_client_commands),
        cmocka_unit_test(test_line_endings_bom_nul),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_mb_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
