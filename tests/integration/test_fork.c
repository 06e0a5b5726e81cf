/* tests/integration/test_fork.c -- myr_loop_discard against the sandbox: a
 * fork() child frees the loop it inherited (connections, an in-flight query,
 * a pending sleep, a finished worker job, the pool) without touching what
 * the parent uses: it closes its copies of the ring's and the sockets'
 * descriptors, runs no callback and leaks nothing (LeakSanitizer, in the
 * ASan build); the parent's in-flight query then completes and both of its
 * connections go on answering. In the owning process discard is a free. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include "sandbox_env.h"

#define WAIT_MS 10000

static int g_callbacks;   /* callbacks that ran in this process */

static void count_cb(myr_future *f, void *arg)
{
    (void)f;
    (void)arg;
    g_callbacks++;
}

static void *job_fn(void *arg) { return arg; }

/* myring's allocations live in this process: the child checks that the
 * discard gave back everything the loop held, including the futures whose
 * handles the test still has (LeakSanitizer counts those as reachable). */
static _Atomic long g_live;
static long g_live_before;   /* before the loop was made */
static void *count_malloc(size_t n)
{
    void *p = malloc(n);
    if (p != NULL)
        g_live++;
    return p;
}
static void *count_realloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (p == NULL && q != NULL)
        g_live++;
    return q;
}
static void count_free(void *p)
{
    g_live--;
    free(p);
}

/* How many of this process's descriptors point at something whose name
 * starts with prefix ("socket:", "anon_inode:[io_uring]", ...). */
static int count_fds(const char *prefix)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[300], target[256];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        n += strncmp(target, prefix, strlen(prefix)) == 0;
    }
    closedir(d);
    return n;
}

/* The child: discard, then check; the exit code says which check failed. */
static int child_discard(myr_loop *loop, int nconns)
{
    int sockets = count_fds("socket:");
    if (count_fds("anon_inode:[io_uring]") < 1 || count_fds("anon_inode:[eventfd]") < 1)
        return 20;   /* the inherited ring and the pool's eventfd are here */
    myr_loop_discard(loop);
    if (g_callbacks != 0)
        return 21;   /* no callback ran in the child */
    if (count_fds("anon_inode:[io_uring]") != 0 || count_fds("anon_inode:[eventfd]") != 0)
        return 22;   /* the child's copies of the ring and eventfds are closed */
    if (count_fds("socket:") != sockets - nconns)
        return 23;   /* and of the connections' sockets */
    if (g_live != g_live_before)
        return 26;   /* every allocation of the loop went back */
#ifdef __SANITIZE_ADDRESS__
    if (__lsan_do_recoverable_leak_check() != 0)
        return 24;   /* everything of the loop was freed */
#endif
    /* A loop of its own works in the child afterwards. */
    myr_loop *mine = myr_loop_new(NULL, NULL);
    myr_future *s = mine ? myr_sleep(mine, 1) : NULL;
    if (s == NULL || myr_await(s, WAIT_MS) != 0)
        return 25;
    myr_future_free(s);
    myr_loop_free(mine);
    return 0;
}

static void test_discard_in_child(void **state)
{
    (void)state;
    myr_allocator counting = {count_malloc, count_realloc, count_free};
    assert_int_equal(myr_set_allocator(&counting), 0);
    g_live_before = g_live;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    assert_non_null(loop);
    myr_conn *c1 = sandbox_connect(loop), *c2 = sandbox_connect(loop);
    /* A finished worker job (the pool and its eventfd exist; its future is
     * kept), a pending sleep, and a query in flight, all with callbacks. */
    int token = 0;
    myr_future *job = myr_to_thread(loop, job_fn, &token);
    assert_int_equal(myr_await(job, WAIT_MS), 0);
    const char *sql = "SELECT SLEEP(0.3), 'inflight'";
    myr_future *q = myr_query(c1, sql, strlen(sql));
    myr_future_on_done(q, count_cb, NULL);
    myr_future *s = myr_sleep(loop, 60000);
    myr_future_on_done(s, count_cb, NULL);
    assert_true(myr_loop_run_once(loop, 0) >= 0);   /* the query leaves */
    assert_false(myr_future_done(q));
    g_callbacks = 0;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child_discard(loop, 2));
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) != 0)
        fail_msg("child check %d failed", WEXITSTATUS(st));

    /* The parent's query was neither canceled nor cut: it completes. */
    assert_int_equal(myr_await(q, WAIT_MS), 0);
    assert_int_equal(g_callbacks, 1);
    myr_result *r = myr_future_take_result(q);
    assert_string_equal(myr_result_value(r, 0, 1, NULL), "inflight");
    myr_result_free(r);
    /* Both connections answer: no COM_QUIT, no shutdown() reached them. */
    r = sandbox_query(c1, "SELECT 'after c1'");
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "after c1");
    myr_result_free(r);
    r = sandbox_query(c2, "SELECT 'after c2'");
    assert_string_equal(myr_result_value(r, 0, 0, NULL), "after c2");
    myr_result_free(r);
    assert_int_equal(myr_ping_sync(c2, NULL), 0);
    assert_true(myr_future_ptr(job) == &token);
    assert_false(myr_future_done(s));
    myr_future_free(job);
    myr_future_free(q);
    myr_future_free(s);
    assert_int_equal(myr_close_sync(c1, NULL), 0);
    assert_int_equal(myr_close_sync(c2, NULL), 0);
    myr_loop_free(loop);
    assert_int_equal(g_live, g_live_before);   /* the count itself is right */
    assert_int_equal(myr_set_allocator(NULL), 0);
}

/* In the owning process, discard frees the loop like myr_loop_free (its
 * connection's futures fail with MYR_ECLOSED, callbacks run; ASan: no leak). */
static void test_discard_in_owner(void **state)
{
    (void)state;
    myr_loop_discard(NULL);
    myr_loop *loop = myr_loop_new(NULL, NULL);
    myr_conn *c = sandbox_connect(loop);
    const char *sql = "SELECT SLEEP(5)";
    myr_future *q = myr_query(c, sql, strlen(sql));
    myr_future_on_done(q, count_cb, NULL);
    assert_true(myr_loop_run_once(loop, 0) >= 0);
    g_callbacks = 0;
    myr_loop_discard(loop);
    assert_int_equal(g_callbacks, 1);
    assert_true(myr_future_done(q));
    assert_int_equal(myr_future_status(q), MYR_ECLOSED);
    assert_null(myr_future_loop(q));
    myr_future_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discard_in_child),
        cmocka_unit_test(test_discard_in_owner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
