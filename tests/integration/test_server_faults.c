/* tests/integration/test_server_faults.c -- a server that fails, on a
 * private sandbox of this test's own (tests/sandbox.sh with its own
 * MYR_SANDBOX_DIR and port, so the shared sandbox of the run is never
 * disturbed):
 *   - killed (SIGKILL) under 200 busy connections on one loop: every future
 *     resolves, those in flight with 2013 (MYR_ECONNLOST), later commands
 *     at once with 2006, all flagged by myr_error_server_unusable; after
 *     the restart 200 new connections log in and query;
 *   - max_connections exceeded: the connects over the limit fail with the
 *     server's 1040, flagged unusable; the others work;
 *   - max_allowed_packet exceeded: the oversized query fails clearly (the
 *     server's 1153, or the connection lost when the server hangs up
 *     first) while the other connections of the loop go on.
 * (The server closing idle connections, wait_timeout, is tested with the
 * idle detection.) */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox_env.h"

#define NBUSY 200

static char sandbox_sh[PATH_MAX];
static char sb_dir[PATH_MAX];

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* tests/sandbox.sh on the private directory. */
static int sandbox(const char *cmd)
{
    char line[3 * PATH_MAX];
    snprintf(line, sizeof line, "MYR_SANDBOX_DIR='%s' MYR_SANDBOX_PORT=%d bash '%s' %s >&2", sb_dir,
             atoi(sandbox_env("MYR_TEST_PORT")) + 100, sandbox_sh, cmd);
    return system(line);
}

static long read_num(const char *name)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", sb_dir, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    long v = 0;
    assert_int_equal(fscanf(f, "%ld", &v), 1);
    fclose(f);
    return v;
}

static myr_conn_opts *private_opts(void)
{
    myr_conn_opts *o = sandbox_opts(0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PORT, read_num("port")), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_DISABLED), 0);
    return o;
}

static myr_conn *private_connect(myr_loop *loop)
{
    myr_conn_opts *o = private_opts();
    myr_error err;
    myr_conn *c = myr_connect_sync(loop, o, &err);
    myr_conn_opts_free(o);
    if (c == NULL)
        fail_msg("connect to the private sandbox: %s", err.message);
    return c;
}

static void exec(myr_conn *c, const char *sql)
{
    myr_error err;
    myr_result *r = myr_query_sync(c, sql, strlen(sql), &err);
    if (r == NULL)
        fail_msg("%s: %s", sql, err.message);
    myr_result_free(r);
}

static int setup(void **state)
{
    (void)state;
    /* This file sits in tests/integration/; the script in tests/. */
    snprintf(sandbox_sh, sizeof sandbox_sh, "%s", __FILE__);
    char *slash = strrchr(sandbox_sh, '/');
    assert_non_null(slash);
    *slash = '\0';
    slash = strrchr(sandbox_sh, '/');
    assert_non_null(slash);
    snprintf(slash, sizeof sandbox_sh - (size_t)(slash - sandbox_sh), "/sandbox.sh");
    assert_int_equal(access(sandbox_sh, R_OK), 0);
    assert_non_null(getcwd(sb_dir, sizeof sb_dir - 32));
    strcat(sb_dir, "/sandbox-server-faults");
    sandbox_raise_fd_limit();
    return sandbox("start") == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return sandbox("stop") == 0 ? 0 : -1;
}

/* --------------------------------------------------------- kill, restart */

typedef struct busy {
    myr_conn *c;
    myr_future *f;
    int calls;
    unsigned ok, lost, gone;
    int dead;
} busy;

static void count_cb(myr_future *f, void *arg)
{
    (void)f;
    ++*(int *)arg;
}

static void busy_query(busy *b)
{
    static const char sql[] = "SELECT SLEEP(0.05), 7";
    b->f = myr_query(b->c, sql, sizeof sql - 1);
    assert_non_null(b->f);
    b->calls = 0;
    myr_future_on_done(b->f, count_cb, &b->calls);
}

/* b's query resolved: count it; 1 when the connection is over. */
static int busy_done(busy *b, int killed)
{
    assert_int_equal(b->calls, 1);
    const myr_error *e = myr_future_error(b->f);
    if (myr_future_status(b->f) == 0) {
        myr_result *r = myr_future_take_result(b->f);
        assert_string_equal(myr_result_value(r, 0, 1, NULL), "7");
        myr_result_free(r);
        b->ok++;
    } else {
        if (!killed)
            fail_msg("a query failed before the kill: %s", e->message);
        if (e->code == MYR_ECONNLOST) {
            assert_int_equal(e->mysql_errno, 2013);
            assert_non_null(strstr(e->message, "Lost connection to server during query"));
            b->lost++;
        } else if (e->code == MYR_EGONE) {
            assert_int_equal(e->mysql_errno, 2006);
            b->gone++;
        } else {
            fail_msg("after the kill: code %d, %u %s", e->code, e->mysql_errno, e->message);
        }
        assert_int_equal(myr_error_server_unusable(e), 1);
        b->dead = 1;
    }
    myr_future_free(b->f);
    b->f = NULL;
    return b->dead;
}

static void test_kill_restart(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    assert_non_null(loop);
    busy *b = calloc(NBUSY, sizeof *b);
    assert_non_null(b);
    /* 200 connections, each always with a query running. */
    myr_conn_opts *o = private_opts();
    myr_future *cf[NBUSY];
    for (int i = 0; i < NBUSY; i++)
        cf[i] = myr_connect(loop, o);
    myr_conn_opts_free(o);
    assert_int_equal(myr_gather(cf, NBUSY, 30000), 0);
    for (int i = 0; i < NBUSY; i++) {
        if (myr_future_status(cf[i]) != 0)
            fail_msg("connect %d: %s", i, myr_future_error(cf[i])->message);
        b[i].c = myr_future_take_conn(cf[i]);
        myr_future_free(cf[i]);
        busy_query(&b[i]);
    }
    /* Busy for a while: every connection has answered at least twice. */
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < NBUSY; i++) {
            assert_int_equal(myr_await(b[i].f, 20000), 0);
            busy_done(&b[i], 0);
            busy_query(&b[i]);
        }
    long pid = read_num("mariadbd.pid");
    char cmd[64];
    snprintf(cmd, sizeof cmd, "kill -KILL %ld", pid);
    double t0 = now_ms();
    assert_int_equal(system(cmd), 0);
    /* Every future resolves; connections still alive keep querying (and
     * fail) until each has seen the loss. */
    int left = NBUSY;
    while (left > 0) {
        assert_true(now_ms() - t0 < 20000);
        assert_true(myr_loop_run_once(loop, 100) >= 0);
        for (int i = 0; i < NBUSY; i++) {
            if (b[i].f == NULL || !myr_future_done(b[i].f))
                continue;
            if (busy_done(&b[i], 1))
                left--;
            else
                busy_query(&b[i]);
        }
    }
    double resolved_ms = now_ms() - t0;
    unsigned lost = 0, gone = 0;
    for (int i = 0; i < NBUSY; i++) {
        lost += b[i].lost;
        gone += b[i].gone;
        assert_int_equal(myr_conn_alive(b[i].c), 0);
        /* A new command fails at once, saying the server is gone. */
        myr_future *f = myr_ping(b[i].c);
        assert_true(myr_future_done(f));
        assert_int_equal(myr_future_error(f)->mysql_errno, 2006);
        myr_future_free(f);
        myr_conn_free(b[i].c);
    }
    /* The queries were running when the server died. */
    assert_true(lost >= NBUSY / 2);
    printf("# server killed under %d busy connections: all resolved in %.0f ms (%u lost mid-query 2013, "
           "%u gone 2006)\n", NBUSY, resolved_ms, lost, gone);

    /* Restart: new connections log in and query. */
    assert_int_equal(sandbox("start"), 0);
    o = private_opts();
    for (int i = 0; i < NBUSY; i++)
        cf[i] = myr_connect(loop, o);
    myr_conn_opts_free(o);
    assert_int_equal(myr_gather(cf, NBUSY, 30000), 0);
    for (int i = 0; i < NBUSY; i++) {
        if (myr_future_status(cf[i]) != 0)
            fail_msg("connect %d after the restart: %s", i, myr_future_error(cf[i])->message);
        b[i].c = myr_future_take_conn(cf[i]);
        myr_future_free(cf[i]);
        cf[i] = myr_query(b[i].c, "SELECT 42", 9);
    }
    assert_int_equal(myr_gather(cf, NBUSY, 30000), 0);
    for (int i = 0; i < NBUSY; i++) {
        assert_int_equal(myr_future_status(cf[i]), 0);
        myr_result *r = myr_future_take_result(cf[i]);
        assert_string_equal(myr_result_value(r, 0, 0, NULL), "42");
        myr_result_free(r);
        myr_future_free(cf[i]);
        myr_conn_free(b[i].c);
    }
    free(b);
    myr_loop_free(loop);
}

/* -------------------------------------------------------- max_connections */

#define MAXC 10
#define TRY 24

static void test_max_connections(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    myr_conn *admin = private_connect(loop);
    char sql[64];
    snprintf(sql, sizeof sql, "SET GLOBAL max_connections = %d", MAXC);
    exec(admin, sql);
    myr_conn_opts *o = private_opts();
    myr_future *cf[TRY];
    for (int i = 0; i < TRY; i++)
        cf[i] = myr_connect(loop, o);
    myr_conn_opts_free(o);
    assert_int_equal(myr_gather(cf, TRY, 30000), 0);
    int refused = 0, ok = 0;
    myr_future *qf[TRY];
    myr_conn *c[TRY];
    for (int i = 0; i < TRY; i++) {
        c[i] = NULL;
        qf[i] = NULL;
        if (myr_future_status(cf[i]) == 0) {
            c[i] = myr_future_take_conn(cf[i]);
            qf[i] = myr_query(c[i], "SELECT 1", 8);
            ok++;
        } else {
            const myr_error *e = myr_future_error(cf[i]);
            if (e->mysql_errno != 1040)
                fail_msg("connect over max_connections: code %d, %u %s", e->code, e->mysql_errno,
                         e->message);
            assert_int_equal(e->code, MYR_ESERVER);
            assert_non_null(strstr(e->message, "Too many connections"));
            assert_int_equal(myr_error_server_unusable(e), 1);
            if (refused == 0)
                printf("# over max_connections: code %d, %u (%s) '%s'\n", e->code, e->mysql_errno,
                       e->sqlstate, e->message);
            refused++;
        }
        myr_future_free(cf[i]);
    }
    /* A user with SUPER (ours) gets one connection more than the limit. */
    assert_true(refused >= TRY - (MAXC + 1));
    assert_true(ok >= MAXC - 1);
    for (int i = 0; i < TRY; i++) {
        if (c[i] == NULL)
            continue;
        assert_int_equal(myr_await(qf[i], 10000), 0);
        myr_future_free(qf[i]);
        myr_conn_free(c[i]);
    }
    exec(admin, "SET GLOBAL max_connections = 2000");
    myr_conn_free(admin);
    myr_loop_free(loop);
}

/* ----------------------------------------------------- max_allowed_packet */

#define LIMIT (1u << 20)
#define NBYST 6

static void test_max_allowed_packet(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    myr_conn *admin = private_connect(loop);
    char sql[64];
    snprintf(sql, sizeof sql, "SET GLOBAL max_allowed_packet = %u", LIMIT);
    exec(admin, sql);
    /* New connections take the new limit. */
    myr_conn *victim = private_connect(loop);
    myr_conn *by[NBYST];
    for (int i = 0; i < NBYST; i++)
        by[i] = private_connect(loop);

    size_t n = 2 * LIMIT;
    char *big = malloc(n + 32);
    assert_non_null(big);
    int len = snprintf(big, 32, "SELECT LENGTH('");
    memset(big + len, 'a', n);
    memcpy(big + len + n, "')", 2);
    size_t big_len = (size_t)len + n + 2;

    /* The bystanders' queries leave in the same tick as the big one. */
    static const char still[] = "SELECT SLEEP(0.02), 'still here'";
    myr_future *bf[NBYST][3];
    myr_future *vf = myr_query(victim, big, big_len);
    for (int i = 0; i < NBYST; i++)
        for (int j = 0; j < 3; j++)
            bf[i][j] = myr_query(by[i], still, strlen(still));
    int vst = myr_await(vf, 20000);
    assert_int_equal(vst, myr_future_status(vf));
    const myr_error *e = myr_future_error(vf);
    assert_int_not_equal(e->code, 0);
    printf("# query over max_allowed_packet: code %d, %u '%s'\n", e->code, e->mysql_errno, e->message);
    if (e->code == MYR_ESERVER) {
        assert_int_equal(e->mysql_errno, 1153);   /* ER_NET_PACKET_TOO_LARGE */
        assert_non_null(strstr(e->message, "max_allowed_packet"));
    } else {
        assert_int_equal(e->code, MYR_ECONNLOST);
        assert_int_equal(e->mysql_errno, 2013);
    }
    myr_future_free(vf);
    for (int i = 0; i < NBYST; i++)
        for (int j = 0; j < 3; j++) {
            if (myr_await(bf[i][j], 10000) != 0)
                fail_msg("bystander: %s", myr_future_error(bf[i][j])->message);
            myr_result *r = myr_future_take_result(bf[i][j]);
            assert_string_equal(myr_result_value(r, 0, 1, NULL), "still here");
            myr_result_free(r);
            myr_future_free(bf[i][j]);
        }
    /* The server hung up on the victim: it says so at once. */
    myr_future *f = myr_query(victim, "SELECT 1", 8);
    int st = myr_await(f, 10000);
    assert_int_not_equal(st, 0);
    assert_int_equal(myr_conn_alive(victim), 0);
    myr_future_free(f);
    myr_conn_free(victim);
    for (int i = 0; i < NBYST; i++)
        myr_conn_free(by[i]);
    free(big);
    snprintf(sql, sizeof sql, "SET GLOBAL max_allowed_packet = %u", 1u << 30);
    exec(admin, sql);
    myr_conn_free(admin);
    myr_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_connections),
        cmocka_unit_test(test_max_allowed_packet),
        cmocka_unit_test(test_kill_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
