/* tests/integration/test_stream_memory.c -- a streaming query's memory is
 * bounded whatever the result's size: 1,000,000 rows (~100 MB of values)
 * stream through a heap that grows by well under 1 MiB, counted through the
 * library's allocator hooks (myr_set_allocator), while the same counter sees
 * a buffered result of a tenth of the rows take tens of MiB. The same for a
 * prepared statement's binary rows (myr_stmt_execute_stream). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sandbox_env.h"

/* Every block carries its size in a header, so the counter knows what a
 * free or realloc gives back. */
typedef struct hdr { size_t size; size_t pad; } hdr;
static size_t g_cur, g_peak;

static void *count_malloc(size_t n)
{
    hdr *h = malloc(sizeof *h + n);
    if (h == NULL)
        return NULL;
    h->size = n;
    g_cur += n;
    if (g_cur > g_peak)
        g_peak = g_cur;
    return h + 1;
}

static void count_free(void *p)
{
    if (p == NULL)
        return;
    hdr *h = (hdr *)p - 1;
    g_cur -= h->size;
    free(h);
}

static void *count_realloc(void *p, size_t n)
{
    if (p == NULL)
        return count_malloc(n);
    hdr *h = (hdr *)p - 1;
    size_t old = h->size;
    hdr *nh = realloc(h, sizeof *nh + n);
    if (nh == NULL)
        return NULL;
    nh->size = n;
    g_cur = g_cur - old + n;
    if (g_cur > g_peak)
        g_peak = g_cur;
    return nh + 1;
}

static size_t g_rows, g_calls;
static uint64_t g_bytes;
static int g_bad;

static int on_rows(const myr_result *rows, void *arg)
{
    (void)arg;
    g_calls++;
    for (size_t i = 0; i < myr_result_row_count(rows); i++) {
        size_t len;
        const char *v = myr_result_value(rows, i, 0, &len);
        int64_t n;
        if (v == NULL || (size_t)atol(v) != g_rows + 1 || myr_result_int64(rows, i, 0, &n) != 0 ||
            (size_t)n != g_rows + 1)
            g_bad = 1;
        g_bytes += len;
        myr_result_value(rows, i, 1, &len);
        g_bytes += len;
        g_rows++;
    }
    return 0;
}

static void test_million_rows_bounded(void **state)
{
    (void)state;
    myr_allocator a = {count_malloc, count_realloc, count_free};
    myr_set_allocator(&a);
    myr_error err;
    myr_loop *loop = myr_loop_new(NULL, &err);
    assert_non_null(loop);
    myr_conn *c = sandbox_connect(loop);
    myr_result_free(sandbox_query(c, "SELECT 1"));   /* warm: buffers taken once */

    size_t base = g_cur;
    g_peak = g_cur;
    const char *sql = "SELECT seq, REPEAT('x', 90) FROM seq_1_to_1000000";
    myr_future *f = myr_query_stream(c, sql, strlen(sql), on_rows, NULL);
    assert_int_equal(myr_await(f, 300000), 0);
    myr_future_free(f);
    size_t stream_peak = g_peak - base;
    assert_false(g_bad);
    assert_int_equal(g_rows, 1000000);
    assert_true(g_bytes > 90u * 1000000);
    fprintf(stderr, "# streamed %zu rows (%llu value bytes) in %zu batches: heap peak +%zu KiB\n",
            g_rows, (unsigned long long)g_bytes, g_calls, stream_peak / 1024);
    assert_true(stream_peak < 1024 * 1024);

    /* The counter does see rows that are kept: a buffered tenth of the
     * result takes more than ten times the stream's whole peak. */
    base = g_cur;
    g_peak = g_cur;
    myr_result *r = sandbox_query(c, "SELECT seq, REPEAT('x', 90) FROM seq_1_to_100000");
    assert_int_equal(myr_result_row_count(r), 100000);
    size_t buffered_peak = g_peak - base;
    myr_result_free(r);
    fprintf(stderr, "# buffered 100000 rows: heap peak +%zu KiB\n", buffered_peak / 1024);
    assert_true(buffered_peak > 10 * stream_peak);
    assert_true(buffered_peak > 8 * 1024 * 1024);

    myr_close_sync(c, NULL);
    myr_loop_free(loop);
    assert_int_equal(g_cur, 0);   /* everything went back */
    myr_set_allocator(NULL);
}

static void test_million_binary_rows_bounded(void **state)
{
    (void)state;
    g_rows = g_calls = 0;
    g_bytes = 0;
    myr_allocator a = {count_malloc, count_realloc, count_free};
    myr_set_allocator(&a);
    myr_error err;
    myr_loop *loop = myr_loop_new(NULL, &err);
    assert_non_null(loop);
    myr_conn *c = sandbox_connect(loop);
    myr_result_free(sandbox_query(c, "SELECT 1"));   /* warm: buffers taken once */

    const char *sql = "SELECT seq, REPEAT('x', 90) FROM seq_1_to_1000000 WHERE seq <= ?";
    myr_future *pf = myr_prepare(c, sql, strlen(sql));
    assert_int_equal(myr_await(pf, 10000), 0);
    myr_stmt *s = myr_future_take_stmt(pf);
    myr_future_free(pf);
    assert_non_null(s);

    size_t base = g_cur;
    g_peak = g_cur;
    myr_param p = myr_param_i64(1000000);
    myr_future *f = myr_stmt_execute_stream(s, &p, 1, on_rows, NULL);
    assert_int_equal(myr_await(f, 300000), 0);
    myr_future_free(f);
    size_t stream_peak = g_peak - base;
    assert_false(g_bad);
    assert_int_equal(g_rows, 1000000);
    assert_true(g_bytes > 90u * 1000000);
    fprintf(stderr, "# streamed %zu binary rows (%llu value bytes) in %zu batches: heap peak +%zu KiB\n",
            g_rows, (unsigned long long)g_bytes, g_calls, stream_peak / 1024);
    assert_true(stream_peak < 1024 * 1024);

    /* The counter does see rows that are kept: a buffered tenth of the
     * result takes more than ten times the stream's whole peak. */
    base = g_cur;
    g_peak = g_cur;
    p = myr_param_i64(100000);
    f = myr_stmt_execute(s, &p, 1);
    assert_int_equal(myr_await(f, 60000), 0);
    myr_result *r = myr_future_take_result(f);
    myr_future_free(f);
    assert_int_equal(myr_result_row_count(r), 100000);
    size_t buffered_peak = g_peak - base;
    myr_result_free(r);
    fprintf(stderr, "# buffered 100000 binary rows: heap peak +%zu KiB\n", buffered_peak / 1024);
    assert_true(buffered_peak > 10 * stream_peak);
    assert_true(buffered_peak > 8 * 1024 * 1024);

    f = myr_stmt_close(s);
    assert_int_equal(myr_await(f, 10000), 0);
    myr_future_free(f);
    myr_close_sync(c, NULL);
    myr_loop_free(loop);
    assert_int_equal(g_cur, 0);   /* everything went back */
    myr_set_allocator(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_million_rows_bounded),
        cmocka_unit_test(test_million_binary_rows_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
