/* tests/common/sandbox_env.h -- connection options for the MariaDB sandbox,
 * read from MYR_TEST_* (tests/sandbox.sh env). A missing variable fails the
 * test: integration tests never skip. */
#ifndef MYR_TEST_SANDBOX_ENV_H
#define MYR_TEST_SANDBOX_ENV_H
#include <myring.h>

/* Options for TCP (unix_socket = 0) or the sandbox's Unix socket (1). */
myr_conn_opts *sandbox_opts(int unix_socket);
/* The value of a MYR_TEST_* variable; fails the test if it is unset. */
const char *sandbox_env(const char *name);
/* Connect synchronously on loop (NULL = private); fails the test on error. */
myr_conn *sandbox_connect(myr_loop *loop);
/* Run sql and return its result; fails the test on error. */
myr_result *sandbox_query(myr_conn *c, const char *sql);
/* Raise the soft open-files limit to 4096 (if the hard one allows) for
 * tests that open a thousand connections. */
void sandbox_raise_fd_limit(void);
#endif
