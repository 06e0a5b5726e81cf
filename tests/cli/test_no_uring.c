/* tests/cli/test_no_uring.c -- the myring client where io_uring is refused
 * (as under a container's seccomp profile): a clear error and exit 1, not
 * a misleading "can't connect". Runs build/myring from the test's own
 * directory in a child with io_uring_setup denied. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "no_uring.h"

static void test_cli_reports_io_uring_refused(void **state)
{
    (void)state;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(n > 0);
    self[n] = '\0';
    char cli[PATH_MAX + 16];
    snprintf(cli, sizeof cli, "%s/myring", dirname(self));
    assert_int_equal(access(cli, X_OK), 0);

    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        if (deny_io_uring_setup(EPERM) != 0)
            _exit(97);
        execl(cli, cli, "-h", "127.0.0.1", "-P", "1", "-e", "select 1", (char *)NULL);
        _exit(98);
    }
    close(pipefd[1]);
    char out[1024] = {0};
    size_t got = 0;
    ssize_t r;
    while (got < sizeof out - 1 && (r = read(pipefd[0], out + got, sizeof out - 1 - got)) > 0)
        got += (size_t)r;
    close(pipefd[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) == 97)
        skip();   /* seccomp filters cannot be installed here */
    assert_int_equal(WEXITSTATUS(st), 1);
    assert_non_null(strstr(out, "ERROR 2000 (HY000): io_uring is not available"));
    assert_null(strstr(out, "Can't connect"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cli_reports_io_uring_refused)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
