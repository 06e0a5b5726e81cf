/*
 * perf/peers/bigresult_mariadb.c -- perf/bigresult.c with libmariadb:
 *   --mode store   mysql_store_result (the whole result buffered)
 *   --mode use     mysql_use_result (rows streamed one at a time)
 * Prints: impl,mode,rows,mb,seconds,mb_per_s,cpu_s,maxrss_kib
 */
#include <mysql.h>

#include "../bench.h"

int main(int argc, char **argv)
{
    long rows = 1000000;
    int header = 0, use = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--header") == 0)
            header = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--rows") == 0)
            rows = atol(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--mode") == 0)
            use = strcmp(argv[++i], "use") == 0;
        else {
            fprintf(stderr, "usage: %s [--rows N] [--mode store|use] [--header]\n", argv[0]);
            return 2;
        }
    }
    bench_target t = bench_target_env();
    MYSQL *m = mysql_init(NULL);
    if (mysql_real_connect(m, t.host, t.user, t.password, t.db ? t.db : "perf", (unsigned)t.port,
                           NULL, 0) == NULL) {
        fprintf(stderr, "bigresult_mariadb: connect: %s\n", mysql_error(m));
        return 1;
    }
    char sql[128];
    int n = snprintf(sql, sizeof sql, "SELECT seq, REPEAT('x', 90) FROM seq_1_to_%ld", rows);
    bench_cpu c0 = bench_cpu_now();
    double t0 = bench_now();
    if (mysql_real_query(m, sql, (unsigned long)n) != 0) {
        fprintf(stderr, "bigresult_mariadb: query: %s\n", mysql_error(m));
        return 1;
    }
    MYSQL_RES *res = use ? mysql_use_result(m) : mysql_store_result(m);
    if (res == NULL) {
        fprintf(stderr, "bigresult_mariadb: result: %s\n", mysql_error(m));
        return 1;
    }
    unsigned nc = mysql_num_fields(res);
    uint64_t bytes = 0;
    long nr = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        unsigned long *lens = mysql_fetch_lengths(res);
        for (unsigned j = 0; j < nc; j++)
            if (row[j] != NULL)
                bytes += lens[j];
        nr++;
    }
    double secs = bench_now() - t0;
    bench_cpu c1 = bench_cpu_now();
    mysql_free_result(res);
    mysql_close(m);
    if (nr != rows) {
        fprintf(stderr, "bigresult_mariadb: %ld rows, expected %ld\n", nr, rows);
        return 1;
    }
    if (header)
        printf("impl,mode,rows,mb,seconds,mb_per_s,cpu_s,maxrss_kib\n");
    printf("libmariadb,%s,%ld,%.1f,%.3f,%.1f,%.3f,%ld\n", use ? "streamed (use_result)" : "buffered (store_result)",
           nr, (double)bytes / 1e6, secs, (double)bytes / 1e6 / secs, c1.usr + c1.sys - c0.usr - c0.sys,
           c1.maxrss_kib);
    return 0;
}
