/* examples/common.h -- connection options from the environment, shared by
 * the examples: MYR_TEST_HOST/PORT/SOCKET/USER/PASSWORD/DB (the sandbox's
 * `tests/sandbox.sh env` prints them). */
#ifndef EXAMPLES_COMMON_H
#define EXAMPLES_COMMON_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <myring.h>

static inline myr_conn_opts *example_opts(const char *database)
{
    myr_conn_opts *o = myr_conn_opts_new();
    const char *v;
    if ((v = getenv("MYR_TEST_HOST")) != NULL)
        myr_conn_opts_set_str(o, MYR_OPT_HOST, v);
    if ((v = getenv("MYR_TEST_PORT")) != NULL)
        myr_conn_opts_set_int(o, MYR_OPT_PORT, atol(v));
    if ((v = getenv("MYR_TEST_USER")) != NULL)
        myr_conn_opts_set_str(o, MYR_OPT_USER, v);
    if ((v = getenv("MYR_TEST_PASSWORD")) != NULL)
        myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, v);
    if (database != NULL)
        myr_conn_opts_set_str(o, MYR_OPT_DATABASE, database);
    return o;
}

static inline double example_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void example_die(const char *what, const myr_error *e)
{
    fprintf(stderr, "%s: ERROR %u (%s): %s\n", what, e->mysql_errno, e->sqlstate, e->message);
    exit(1);
}
#endif
