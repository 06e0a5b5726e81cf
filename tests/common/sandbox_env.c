/* tests/common/sandbox_env.c -- see sandbox_env.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "sandbox_env.h"

const char *sandbox_env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0') {
        fail_msg("%s is not set: run the tests through scripts/test.sh (or eval \"$(tests/sandbox.sh env)\")",
                 name);
    }
    return v;
}

myr_conn_opts *sandbox_opts(int unix_socket)
{
    myr_conn_opts *o = myr_conn_opts_new();
    assert_non_null(o);
    if (unix_socket) {
        assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_UNIX_SOCKET, sandbox_env("MYR_TEST_SOCKET")), 0);
    } else {
        assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_HOST, sandbox_env("MYR_TEST_HOST")), 0);
        assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PORT, atol(sandbox_env("MYR_TEST_PORT"))), 0);
    }
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_USER, sandbox_env("MYR_TEST_USER")), 0);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, sandbox_env("MYR_TEST_PASSWORD")), 0);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_DATABASE, sandbox_env("MYR_TEST_DB")), 0);
    return o;
}

myr_conn *sandbox_connect(myr_loop *loop)
{
    myr_conn_opts *o = sandbox_opts(0);
    myr_error err;
    myr_conn *c = myr_connect_sync(loop, o, &err);
    myr_conn_opts_free(o);
    if (c == NULL)
        fail_msg("connect: %u %s", err.mysql_errno, err.message);
    return c;
}

myr_result *sandbox_query(myr_conn *c, const char *sql)
{
    myr_error err;
    myr_result *r = myr_query_sync(c, sql, strlen(sql), &err);
    if (r == NULL)
        fail_msg("query '%s': %u %s", sql, err.mysql_errno, err.message);
    return r;
}

void sandbox_raise_fd_limit(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 4096 && rl.rlim_max >= 4096) {
        rl.rlim_cur = 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}
