/*
 * perf/peers/stream_mariadb.c -- perf/stream.c with libmariadb: the same
 * 1,000,000-row query (SELECT seq, REPEAT('x', 90) FROM seq_1_to_N), one
 * mode per process (peak RSS is per process):
 *   --mode stream          mysql_use_result: text rows read one at a time
 *   --mode buffered        mysql_store_result: the whole text result first
 *   --mode stmt-stream     prepared; mysql_stmt_execute, then mysql_stmt_fetch
 *                          row by row without mysql_stmt_store_result
 *   --mode stmt-buffered   prepared; mysql_stmt_store_result, then fetch
 * Binary rows are bound as LONGLONG + a string buffer. Prints the CSV line
 * of perf/stream.c (impl libmariadb).
 */
#include <mysql.h>

#include "../bench.h"

static MYSQL *g_m;

static void die(const char *what)
{
    fprintf(stderr, "stream_mariadb: %s: %u %s\n", what, mysql_errno(g_m), mysql_error(g_m));
    exit(1);
}

static void die_stmt(const char *what, MYSQL_STMT *s)
{
    fprintf(stderr, "stream_mariadb: %s: %u %s\n", what, mysql_stmt_errno(s), mysql_stmt_error(s));
    exit(1);
}

typedef struct count { size_t rows; uint64_t bytes; long next; int bad; } count;

static void run_text(const char *sql, size_t len, int buffered, count *c)
{
    if (mysql_real_query(g_m, sql, (unsigned long)len) != 0)
        die("query");
    MYSQL_RES *res = buffered ? mysql_store_result(g_m) : mysql_use_result(g_m);
    if (res == NULL)
        die("result");
    unsigned nc = mysql_num_fields(res);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        unsigned long *lens = mysql_fetch_lengths(res);
        for (unsigned j = 0; j < nc; j++)
            if (row[j] != NULL)
                c->bytes += lens[j];
        if (atol(row[0]) != c->next++)
            c->bad = 1;
        c->rows++;
    }
    if (mysql_errno(g_m) != 0)
        die("fetch");
    mysql_free_result(res);
}

static void run_stmt(const char *sql, size_t len, int buffered, count *c)
{
    MYSQL_STMT *s = mysql_stmt_init(g_m);
    if (s == NULL)
        die("stmt_init");
    if (mysql_stmt_prepare(s, sql, (unsigned long)len) != 0)
        die_stmt("prepare", s);
    long long seq = 0;
    char text[128];
    unsigned long lens[2] = {0, 0};
    my_bool nulls[2] = {0, 0};
    MYSQL_BIND b[2];
    memset(b, 0, sizeof b);
    b[0].buffer_type = MYSQL_TYPE_LONGLONG;
    b[0].buffer = &seq;
    b[1].buffer_type = MYSQL_TYPE_STRING;
    b[1].buffer = text;
    b[1].buffer_length = sizeof text;
    for (int j = 0; j < 2; j++) {
        b[j].length = &lens[j];
        b[j].is_null = &nulls[j];
    }
    if (mysql_stmt_execute(s) != 0)
        die_stmt("execute", s);
    if (mysql_stmt_bind_result(s, b) != 0)
        die_stmt("bind_result", s);
    if (buffered && mysql_stmt_store_result(s) != 0)
        die_stmt("store_result", s);
    int rc;
    while ((rc = mysql_stmt_fetch(s)) == 0) {
        c->bytes += lens[0] + lens[1];
        if (seq != c->next++)
            c->bad = 1;
        c->rows++;
    }
    if (rc != MYSQL_NO_DATA)
        die_stmt("fetch", s);
    mysql_stmt_close(s);
}

int main(int argc, char **argv)
{
    long rows = 1000000;
    int header = 0;
    const char *mode = "stream";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--header") == 0)
            header = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--rows") == 0)
            rows = atol(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--mode") == 0)
            mode = argv[++i];
        else
            mode = "";
    }
    int stmt = strncmp(mode, "stmt-", 5) == 0;
    const char *kind = stmt ? mode + 5 : mode;
    if (strcmp(kind, "stream") != 0 && strcmp(kind, "buffered") != 0) {
        fprintf(stderr, "usage: %s [--rows N] [--mode stream|buffered|stmt-stream|stmt-buffered] [--header]\n",
                argv[0]);
        return 2;
    }
    int buffered = strcmp(kind, "buffered") == 0;
    bench_target t = bench_target_env();
    g_m = mysql_init(NULL);
    if (mysql_real_connect(g_m, t.host, t.user, t.password, t.db ? t.db : "perf", (unsigned)t.port,
                           NULL, 0) == NULL)
        die("connect");
    if (mysql_query(g_m, "SELECT 1") != 0)   /* buffers taken once, as perf/stream.c does */
        die("warm-up");
    mysql_free_result(mysql_store_result(g_m));
    char sql[128];
    int n = snprintf(sql, sizeof sql, "SELECT seq, REPEAT('x', 90) FROM seq_1_to_%ld", rows);
    count cnt = {.next = 1};
    bench_cpu c0 = bench_cpu_now();
    double t0 = bench_now();
    if (stmt)
        run_stmt(sql, (size_t)n, buffered, &cnt);
    else
        run_text(sql, (size_t)n, buffered, &cnt);
    double secs = bench_now() - t0;
    bench_cpu c1 = bench_cpu_now();
    mysql_close(g_m);
    if ((long)cnt.rows != rows || cnt.bad) {
        fprintf(stderr, "stream_mariadb: %zu rows (%s), expected %ld\n", cnt.rows,
                cnt.bad ? "out of order" : "in order", rows);
        return 1;
    }
    if (header)
        printf("impl,mode,rows,mb,seconds,rows_per_s,mb_per_s,cpu_s,rss_before_kib,maxrss_kib,growth_kib\n");
    printf("libmariadb,%s,%zu,%.1f,%.3f,%.0f,%.1f,%.3f,%ld,%ld,%ld\n", mode, cnt.rows, (double)cnt.bytes / 1e6,
           secs, (double)cnt.rows / secs, (double)cnt.bytes / 1e6 / secs, c1.usr + c1.sys - c0.usr - c0.sys,
           c0.maxrss_kib, c1.maxrss_kib, c1.maxrss_kib - c0.maxrss_kib);
    return 0;
}
