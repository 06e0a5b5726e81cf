/* tests/integration/install_static_user.c -- a program that links the
 * installed libmyring.a statically (test_install.sh builds it through
 * pkg-config --static and through find_package) while defining functions
 * named like myring's internals, ur_read and myr__free. It links only if the
 * archive keeps its internals local; it then checks that the library still
 * calls its own internals, not these, by running a query on the sandbox. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <myring.h>

/* Ours, with signatures unlike the library's: if the library's calls were
 * bound to them, the query below would crash or the counters would move. */
static int g_ur_read_calls, g_free_calls;
int ur_read(const char *what)
{
    g_ur_read_calls++;
    return (int)strlen(what);
}
void myr__free(void *p)
{
    g_free_calls++;
    free(p);
}

static void fail(const char *what, const myr_error *e)
{
    fprintf(stderr, "FAIL %s: %d %u %s\n", what, e ? e->code : 0, e ? e->mysql_errno : 0,
            e ? e->message : "");
    exit(1);
}

int main(void)
{
    const char *host = getenv("MYR_TEST_HOST"), *port = getenv("MYR_TEST_PORT");
    const char *user = getenv("MYR_TEST_USER"), *pw = getenv("MYR_TEST_PASSWORD");
    if (!host || !port || !user || !pw)
        fail("MYR_TEST_* not set", NULL);
    myr_conn_opts *o = myr_conn_opts_new();
    if (!o || myr_conn_opts_set_str(o, MYR_OPT_HOST, host) ||
        myr_conn_opts_set_int(o, MYR_OPT_PORT, atol(port)) ||
        myr_conn_opts_set_str(o, MYR_OPT_USER, user) ||
        myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, pw))
        fail("options", NULL);
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    if (!c)
        fail("connect", &err);
    myr_result *r = myr_query_sync(c, "SELECT 6*7", 10, &err);
    if (!r)
        fail("query", &err);
    size_t len;
    const char *v = myr_result_value(r, 0, 0, &len);
    if (!v || len != 2 || memcmp(v, "42", 2) != 0)
        fail("value", NULL);
    myr_result_free(r);
    if (myr_close_sync(c, &err) != 0)
        fail("close", &err);
    if (g_ur_read_calls != 0 || g_free_calls != 0)
        fail("the library called the program's ur_read/myr__free", NULL);
    /* The program's own definitions are the ones it calls. */
    myr__free(malloc(16));
    if (ur_read("abc") != 3 || g_ur_read_calls != 1 || g_free_calls != 1)
        fail("the program's own ur_read/myr__free", NULL);
    printf("static user ok: %s\n", myr_version());
    return 0;
}
