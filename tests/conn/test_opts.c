/* tests/conn/test_opts.c -- src/opts.c, connection options: the defaults,
 * every setter with valid, invalid and NULL values (an invalid value leaves
 * the old one in place), the MYR_OPT_PIPELINE_REFILL range -1..INT_MAX,
 * deep copies and clears (myr__opts_copy/myr__opts_clear), and allocation
 * failure through myr_set_allocator in new, set_str and copy, with nothing
 * leaked. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "internal.h"

/* Allocator hooks: fail allocation number g_fail_at (counted from arming;
 * 0 = never) and every later one when g_sticky; count live blocks. */
static int g_count, g_fail_at, g_sticky, g_live;

static int should_fail(void)
{
    g_count++;
    return g_fail_at && (g_count == g_fail_at || (g_sticky && g_count > g_fail_at));
}
static void *t_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    g_live++;
    return malloc(n);
}
static void *t_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    if (p == NULL)
        g_live++;
    return realloc(p, n);
}
static void t_free(void *p)
{
    if (p)
        g_live--;
    free(p);
}
static const myr_allocator hooks = {t_malloc, t_realloc, t_free};

static void arm(int fail_at, int sticky)
{
    g_count = 0;
    g_fail_at = fail_at;
    g_sticky = sticky;
}

static int setup(void **state)
{
    (void)state;
    g_live = 0;
    arm(0, 0);
    myr_set_allocator(&hooks);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    myr_set_allocator(NULL);
    assert_int_equal(g_live, 0);
    return 0;
}

static const myr_opt str_opts[] = {MYR_OPT_HOST, MYR_OPT_UNIX_SOCKET, MYR_OPT_USER,
                                   MYR_OPT_PASSWORD, MYR_OPT_DATABASE, MYR_OPT_CHARSET};
#define NSTR (sizeof str_opts / sizeof str_opts[0])
static const myr_opt int_opts[] = {MYR_OPT_PORT, MYR_OPT_CONNECT_TIMEOUT, MYR_OPT_READ_TIMEOUT,
                                   MYR_OPT_MULTI_STATEMENTS, MYR_OPT_LOCAL_INFILE,
                                   MYR_OPT_PIPELINE_REFILL};
#define NINT (sizeof int_opts / sizeof int_opts[0])

static char *const *slot(const myr_conn_opts *o, myr_opt opt)
{
    switch (opt) {
    case MYR_OPT_HOST: return &o->host;
    case MYR_OPT_UNIX_SOCKET: return &o->unix_socket;
    case MYR_OPT_USER: return &o->user;
    case MYR_OPT_PASSWORD: return &o->password;
    case MYR_OPT_DATABASE: return &o->database;
    case MYR_OPT_CHARSET: return &o->charset;
    default: fail_msg("not a string option: %d", (int)opt); return NULL;
    }
}

/* A value each string option accepts. */
static const char *valid_str(myr_opt opt) { return opt == MYR_OPT_CHARSET ? "latin1" : "value-1"; }

static void assert_defaults(const myr_conn_opts *o)
{
    for (size_t i = 0; i < NSTR; i++)
        assert_null(*slot(o, str_opts[i]));
    assert_int_equal(o->port, 3306);
    assert_int_equal(o->port_set, 0);
    assert_int_equal(o->connect_timeout_ms, 0);
    assert_int_equal(o->read_timeout_ms, 0);
    assert_int_equal(o->multi_statements, 1);
    assert_int_equal(o->pipeline_refill, 0);
}

static void test_new_defaults_free(void **state)
{
    (void)state;
    myr_conn_opts *o = myr_conn_opts_new();
    assert_non_null(o);
    assert_defaults(o);
    myr_conn_opts_free(o);
    myr_conn_opts_free(NULL);
}

static void test_set_str(void **state)
{
    (void)state;
    myr_conn_opts *o = myr_conn_opts_new();
    for (size_t i = 0; i < NSTR; i++) {
        myr_opt opt = str_opts[i];
        char src[32];
        strcpy(src, valid_str(opt));
        assert_int_equal(myr_conn_opts_set_str(o, opt, src), 0);
        const char *v = *slot(o, opt);
        assert_non_null(v);
        assert_ptr_not_equal(v, src);   /* copied */
        src[0] = '#';                   /* the caller's buffer is free to change */
        assert_string_equal(v, valid_str(opt));
        /* Replacing frees the old copy (the live count at teardown checks). */
        const char *again = opt == MYR_OPT_CHARSET ? "binary" : "value-2";
        assert_int_equal(myr_conn_opts_set_str(o, opt, again), 0);
        assert_string_equal(*slot(o, opt), again);
        /* An empty string is a value, NULL clears. */
        if (opt != MYR_OPT_CHARSET) {
            assert_int_equal(myr_conn_opts_set_str(o, opt, ""), 0);
            assert_string_equal(*slot(o, opt), "");
        }
        assert_int_equal(myr_conn_opts_set_str(o, opt, NULL), 0);
        assert_null(*slot(o, opt));
        assert_int_equal(myr_conn_opts_set_str(o, opt, again), 0);
    }
    /* Integer options, unknown options and a NULL handle are refused and
     * change nothing. */
    for (size_t i = 0; i < NINT; i++)
        assert_int_equal(myr_conn_opts_set_str(o, int_opts[i], "1"), MYR_EINVAL);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT__LAST, "x"), MYR_EINVAL);
    assert_int_equal(myr_conn_opts_set_str(o, (myr_opt)-1, "x"), MYR_EINVAL);
    assert_int_equal(myr_conn_opts_set_str(o, (myr_opt)1000, "x"), MYR_EINVAL);
    assert_int_equal(myr_conn_opts_set_str(NULL, MYR_OPT_HOST, "x"), MYR_EINVAL);
    assert_string_equal(o->host, "value-2");
    assert_int_equal(o->port, 3306);
    myr_conn_opts_free(o);
}

static void test_charset(void **state)
{
    (void)state;
    myr_conn_opts *o = myr_conn_opts_new();
    static const char *const ok[] = {"utf8mb4", "utf8mb3", "utf8", "latin1", "binary", "ascii",
                                     "UTF8MB4", "Latin1"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_CHARSET, ok[i]), 0);
        assert_string_equal(o->charset, ok[i]);
    }
    static const char *const bad[] = {"", "gbk", "sjis", "big5", "utf16", "utf8mb4 ", "latin"};
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_CHARSET, "binary"), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_CHARSET, bad[i]), MYR_EINVAL);
        assert_string_equal(o->charset, "binary");   /* unchanged */
    }
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_CHARSET, NULL), 0);   /* back to default */
    assert_null(o->charset);
    myr_conn_opts_free(o);
}

static void test_set_int(void **state)
{
    (void)state;
    myr_conn_opts *o = myr_conn_opts_new();

    /* Port: 0..65535. */
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PORT, 65535), 0);
    assert_int_equal(o->port, 65535);
    assert_int_equal(o->port_set, 1);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PORT, 0), 0);
    assert_int_equal(o->port, 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PORT, 13306), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PORT, -1), MYR_EINVAL);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PORT, 65536), MYR_EINVAL);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PORT, LONG_MAX), MYR_EINVAL);
    assert_int_equal(o->port, 13306);

    /* Timeouts: 0 (none)..INT_MAX ms. */
    myr_opt t[2] = {MYR_OPT_CONNECT_TIMEOUT, MYR_OPT_READ_TIMEOUT};
    for (int i = 0; i < 2; i++) {
        int *field = i == 0 ? &o->connect_timeout_ms : &o->read_timeout_ms;
        assert_int_equal(myr_conn_opts_set_int(o, t[i], INT_MAX), 0);
        assert_int_equal(*field, INT_MAX);
        assert_int_equal(myr_conn_opts_set_int(o, t[i], 0), 0);
        assert_int_equal(*field, 0);
        assert_int_equal(myr_conn_opts_set_int(o, t[i], 1500), 0);
        assert_int_equal(myr_conn_opts_set_int(o, t[i], -1), MYR_EINVAL);
        assert_int_equal(myr_conn_opts_set_int(o, t[i], (long)INT_MAX + 1), MYR_EINVAL);
        assert_int_equal(myr_conn_opts_set_int(o, t[i], LONG_MIN), MYR_EINVAL);
        assert_int_equal(*field, 1500);
    }
    assert_int_equal(o->connect_timeout_ms, 1500);
    assert_int_equal(o->read_timeout_ms, 1500);

    /* Multi statements: any non-zero is on. */
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_MULTI_STATEMENTS, 0), 0);
    assert_int_equal(o->multi_statements, 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_MULTI_STATEMENTS, 7), 0);
    assert_int_equal(o->multi_statements, 1);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_MULTI_STATEMENTS, -1), 0);
    assert_int_equal(o->multi_statements, 1);

    /* LOCAL INFILE is not supported: off is accepted, on refused. */
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_LOCAL_INFILE, 0), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_LOCAL_INFILE, 1), MYR_ENOTSUP);

    /* Pipeline refill: -1..INT_MAX. */
    static const long good[] = {-1, 0, 1, 8, INT_MAX};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PIPELINE_REFILL, good[i]), 0);
        assert_int_equal(o->pipeline_refill, good[i]);
    }
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PIPELINE_REFILL, 3), 0);
    static const long bad[] = {-2, (long)INT_MAX + 1, LONG_MIN, LONG_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PIPELINE_REFILL, bad[i]), MYR_EINVAL);
        assert_int_equal(o->pipeline_refill, 3);
    }

    /* String options, unknown options and a NULL handle. */
    for (size_t i = 0; i < NSTR; i++)
        assert_int_equal(myr_conn_opts_set_int(o, str_opts[i], 1), MYR_EINVAL);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT__LAST, 1), MYR_EINVAL);
    assert_int_equal(myr_conn_opts_set_int(o, (myr_opt)-1, 1), MYR_EINVAL);
    for (size_t i = 0; i < NINT; i++)
        assert_int_equal(myr_conn_opts_set_int(NULL, int_opts[i], 0), MYR_EINVAL);
    myr_conn_opts_free(o);
}

static myr_conn_opts *full_opts(void)
{
    myr_conn_opts *o = myr_conn_opts_new();
    assert_non_null(o);
    for (size_t i = 0; i < NSTR; i++)
        assert_int_equal(myr_conn_opts_set_str(o, str_opts[i], valid_str(str_opts[i])), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PORT, 4000), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_CONNECT_TIMEOUT, 11), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_READ_TIMEOUT, 22), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_MULTI_STATEMENTS, 0), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PIPELINE_REFILL, -1), 0);
    return o;
}

static void test_copy_and_clear(void **state)
{
    (void)state;
    myr_conn_opts *src = full_opts();
    myr_conn_opts dst;
    memset(&dst, 0x5a, sizeof dst);   /* copy must not read dst's old contents */
    assert_int_equal(myr__opts_copy(&dst, src), 0);
    for (size_t i = 0; i < NSTR; i++) {
        const char *a = *slot(src, str_opts[i]), *b = *slot(&dst, str_opts[i]);
        assert_non_null(b);
        assert_ptr_not_equal(a, b);   /* a deep copy */
        assert_string_equal(a, b);
    }
    assert_int_equal(dst.port, 4000);
    assert_int_equal(dst.port_set, 1);
    assert_int_equal(dst.connect_timeout_ms, 11);
    assert_int_equal(dst.read_timeout_ms, 22);
    assert_int_equal(dst.multi_statements, 0);
    assert_int_equal(dst.pipeline_refill, -1);
    /* The copy outlives its source. */
    myr_conn_opts_free(src);
    assert_string_equal(dst.host, "value-1");
    assert_string_equal(dst.charset, "latin1");
    myr__opts_clear(&dst);
    for (size_t i = 0; i < NSTR; i++)
        assert_null(*slot(&dst, str_opts[i]));
    assert_int_equal(dst.port, 0);
    myr__opts_clear(&dst);   /* clearing twice is harmless */

    /* NULL source: the defaults of myr_conn_opts_new. */
    memset(&dst, 0x5a, sizeof dst);
    assert_int_equal(myr__opts_copy(&dst, NULL), 0);
    assert_defaults(&dst);
    myr__opts_clear(&dst);

    /* Unset strings stay NULL in the copy. */
    myr_conn_opts *sparse = myr_conn_opts_new();
    assert_int_equal(myr_conn_opts_set_str(sparse, MYR_OPT_USER, "u"), 0);
    assert_int_equal(myr__opts_copy(&dst, sparse), 0);
    assert_string_equal(dst.user, "u");
    assert_null(dst.host);
    assert_null(dst.password);
    myr__opts_clear(&dst);
    myr_conn_opts_free(sparse);
}

static void test_allocation_failure(void **state)
{
    (void)state;
    /* new */
    arm(1, 0);
    assert_null(myr_conn_opts_new());
    arm(0, 0);

    /* set_str: MYR_ENOMEM and the old value kept, for every string option. */
    myr_conn_opts *o = full_opts();
    for (size_t i = 0; i < NSTR; i++) {
        myr_opt opt = str_opts[i];
        arm(1, 0);
        assert_int_equal(myr_conn_opts_set_str(o, opt, opt == MYR_OPT_CHARSET ? "binary" : "new"),
                         MYR_ENOMEM);
        arm(0, 0);
        assert_string_equal(*slot(o, opt), valid_str(opt));
        /* Clearing needs no memory. */
        arm(1, 1);
        assert_int_equal(myr_conn_opts_set_str(o, opt, NULL), 0);
        arm(0, 0);
        assert_null(*slot(o, opt));
        assert_int_equal(myr_conn_opts_set_str(o, opt, valid_str(opt)), 0);
    }
    /* set_int never allocates. */
    arm(1, 1);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PORT, 1), 0);
    assert_int_equal(g_count, 0);
    arm(0, 0);

    /* copy: fail each of its six string copies in turn, alone and with all
     * later ones; the destination ends empty and nothing leaks. */
    for (int sticky = 0; sticky < 2; sticky++) {
        for (int n = 1; n <= (int)NSTR; n++) {
            int live = g_live;
            myr_conn_opts dst;
            arm(n, sticky);
            assert_int_equal(myr__opts_copy(&dst, o), MYR_ENOMEM);
            arm(0, 0);
            for (size_t i = 0; i < NSTR; i++)
                assert_null(*slot(&dst, str_opts[i]));
            assert_int_equal(g_live, live);
            myr__opts_clear(&dst);
        }
    }
    /* One more than it needs: succeeds. */
    myr_conn_opts dst;
    arm((int)NSTR + 1, 1);
    assert_int_equal(myr__opts_copy(&dst, o), 0);
    assert_int_equal(g_count, (int)NSTR);
    arm(0, 0);
    myr__opts_clear(&dst);
    myr_conn_opts_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_defaults_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_str, setup, teardown),
        cmocka_unit_test_setup_teardown(test_charset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_int, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
