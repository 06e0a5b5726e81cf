/*
 * examples/three_jobs.c -- three jobs run one after another, then together:
 *   io:    a blocking function (sleeps 5 s) on the loop's worker pool (to_thread)
 *   mysql: connect, SELECT @@version, a 1 s pause, close
 *   sleep: a 4 s timer
 * Sequentially they take ~10 s; gathered, as long as the longest (~5 s).
 * Each job is a promise that its last step resolves, so gather and await
 * treat a chain of operations like a single one. Completion order is shown
 * by the START/END lines (indented per job, as in the reference document).
 * Usage: example_three_jobs [scale]   (scale 0.1 makes it 10x faster)
 */
#include <string.h>
#include <unistd.h>

#include "common.h"

static double g_scale = 1.0;
static int g_indent;

static unsigned ms(double seconds) { return (unsigned)(seconds * g_scale * 1000.0); }

static void say(int indent, const char *what)
{
    printf("%.*s%s\n", indent, "\t\t\t\t", what);
    fflush(stdout);
}

/* ---- job_io: a blocking function on a worker thread */
typedef struct { int indent; myr_future *done; } io_job;

static void *blocking_io(void *arg)
{
    (void)arg;
    usleep(ms(5.0) * 1000u);   /* stands for any blocking call */
    return "I am an IO operation";
}

static void io_finished(myr_future *f, void *arg)
{
    io_job *j = arg;
    say(j->indent, "END_IO");
    myr_promise_resolve(j->done, myr_future_ptr(f));
    myr_future_free(f);
    free(j);
}

static myr_future *job_io(myr_loop *loop)
{
    io_job *j = calloc(1, sizeof *j);
    j->indent = g_indent++;
    j->done = myr_promise_new(loop);
    say(j->indent, "START_IO");
    myr_future_on_done(myr_to_thread(loop, blocking_io, NULL), io_finished, j);
    return j->done;
}

/* ---- job_mysql: connect -> query -> pause -> close, each step a callback */
typedef struct {
    int indent;
    myr_future *done;
    myr_conn *conn;
    char version[128];
} mysql_job;

static void mysql_fail(mysql_job *j, myr_future *f)
{
    const myr_error *e = myr_future_error(f);
    myr_promise_fail(j->done, e->code, e->message);
    myr_future_free(f);
    if (j->conn)
        myr_conn_free(j->conn);
    free(j);
}

static void mysql_closed(myr_future *f, void *arg)
{
    mysql_job *j = arg;
    myr_future_free(f);
    say(j->indent, "END_MYSQL_OPS");
    myr_promise_resolve(j->done, strdup(j->version));
    free(j);
}

static void mysql_paused(myr_future *f, void *arg)
{
    mysql_job *j = arg;
    myr_future_free(f);
    myr_conn *c = j->conn;
    j->conn = NULL;
    myr_future_on_done(myr_close(c), mysql_closed, j);
}

static void mysql_queried(myr_future *f, void *arg)
{
    mysql_job *j = arg;
    if (myr_future_status(f) != 0)
        return mysql_fail(j, f);
    myr_result *r = myr_future_take_result(f);
    size_t len;
    const char *v = myr_result_value(r, 0, 0, &len);
    snprintf(j->version, sizeof j->version, "%.*s", (int)len, v ? v : "");
    myr_result_free(r);
    myr_future_free(f);
    /* The reference pauses 1 s here to stand for slow work; a timer keeps
     * the loop free meanwhile. */
    myr_future_on_done(myr_sleep(myr_conn_loop(j->conn), ms(1.0)), mysql_paused, j);
}

static void mysql_connected(myr_future *f, void *arg)
{
    mysql_job *j = arg;
    if (myr_future_status(f) != 0)
        return mysql_fail(j, f);
    j->conn = myr_future_take_conn(f);
    myr_future_free(f);
    myr_future_on_done(myr_query(j->conn, "SELECT @@version", 16), mysql_queried, j);
}

static myr_future *job_mysql(myr_loop *loop)
{
    mysql_job *j = calloc(1, sizeof *j);
    j->indent = g_indent++;
    j->done = myr_promise_new(loop);
    say(j->indent, "START_MYSQL_OPS");
    myr_conn_opts *o = example_opts(NULL);
    myr_future_on_done(myr_connect(loop, o), mysql_connected, j);
    myr_conn_opts_free(o);
    return j->done;
}

/* ---- job_sleep: a timer */
typedef struct { int indent; myr_future *done; unsigned secs; } sleep_job;

static void slept(myr_future *f, void *arg)
{
    sleep_job *j = arg;
    myr_future_free(f);
    say(j->indent, "END_SLEEP");
    myr_promise_resolve(j->done, j->secs == 4 ? "I slept for 4 seconds" : "I slept");
    free(j);
}

static myr_future *job_sleep(myr_loop *loop, unsigned secs)
{
    sleep_job *j = calloc(1, sizeof *j);
    j->indent = g_indent++;
    j->done = myr_promise_new(loop);
    j->secs = secs;
    say(j->indent, "START_SLEEP");
    myr_future_on_done(myr_sleep(loop, ms(secs)), slept, j);
    return j->done;
}

static double report(myr_future **fs, double t0)
{
    double elapsed = example_now() - t0;
    printf("Elapsed time: %.2f\n[", elapsed);
    for (int i = 0; i < 3; i++) {
        if (myr_future_status(fs[i]) != 0)
            example_die("job", myr_future_error(fs[i]));
        printf("%s'%s'", i ? ", " : "", (const char *)myr_future_ptr(fs[i]));
    }
    printf("]\n\n");
    free(myr_future_ptr(fs[1]));   /* the version string */
    for (int i = 0; i < 3; i++)
        myr_future_free(fs[i]);
    return elapsed;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_scale = atof(argv[1]);
    myr_error err;
    myr_loop *loop = myr_loop_new(NULL, &err);
    if (loop == NULL)
        example_die("loop", &err);

    printf("-------------------- ASYNCHRONOUS --------------------\n");
    g_indent = 0;
    double t0 = example_now();
    myr_future *fs[3] = {job_io(loop), job_mysql(loop), job_sleep(loop, 4)};
    myr_gather(fs, 3, -1);
    double async_s = report(fs, t0);

    printf("------------------- NON-ASYNCHRONOUS -------------------\n");
    g_indent = 0;
    t0 = example_now();
    fs[0] = job_io(loop);
    myr_await(fs[0], -1);
    fs[1] = job_mysql(loop);
    myr_await(fs[1], -1);
    fs[2] = job_sleep(loop, 4);
    myr_await(fs[2], -1);
    double sync_s = report(fs, t0);

    printf("gathered: %.2f s, one after another: %.2f s (%.0f%% less time)\n", async_s, sync_s,
           100.0 * (1.0 - async_s / sync_s));
    myr_loop_free(loop);
    return 0;
}
