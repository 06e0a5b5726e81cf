/*
 * perf/peers/stmt_mariadb.c -- perf/stmt.c with libmariadb (MariaDB
 * Connector/C): one blocking connection, one operation at a time (the
 * mysql_stmt_* API cannot pipeline). --query as perf/stmt.c; --mode:
 *   text     mysql_real_query + mysql_store_result (insert100: one INSERT
 *            of 100 rows)
 *   binary   prepared once; mysql_stmt_execute + mysql_stmt_store_result +
 *            mysql_stmt_fetch into bound buffers per operation
 *   prepare  mysql_stmt_prepare, execute, store, fetch, mysql_stmt_close
 *            per operation
 *   direct   mariadb_stmt_execute_direct (prepare and execute sent together,
 *            libmariadb's one-round-trip path), store, fetch, close
 *   loop     insert100: prepared once, 100 mysql_stmt_execute per operation
 *   bulk     insert100: prepared once, one mysql_stmt_execute of an array of
 *            100 rows (STMT_ATTR_ARRAY_SIZE: COM_STMT_BULK_EXECUTE)
 * Integers are bound as MYSQL_TYPE_LONGLONG (text: strtoll of the value),
 * other columns as bytes. Prints the CSV line of bench.h (depth 1).
 */
#include <mysql.h>

#include "../bench.h"
#include "../stmt_bench.h"

static bench_args A;
static const stmt_bench *B;
static MYSQL *g_m;
static uint64_t g_sum;
static char g_value[4 * STMT_VALUE_CHARS + 1];
static unsigned long g_value_len;
static char g_text[64 * 1024];
static size_t g_text_len;

static void die(const char *what)
{
    fprintf(stderr, "stmt_mariadb: %s: %u %s\n", what, mysql_errno(g_m), mysql_error(g_m));
    exit(1);
}

static void die_stmt(const char *what, MYSQL_STMT *s)
{
    fprintf(stderr, "stmt_mariadb: %s: %u %s\n", what, mysql_stmt_errno(s), mysql_stmt_error(s));
    exit(1);
}

static void check_rows(size_t rows)
{
    if (rows != B->rows) {
        fprintf(stderr, "stmt_mariadb: %zu rows, expected %zu\n", rows, B->rows);
        exit(1);
    }
}

static void check_affected(my_ulonglong got, my_ulonglong want)
{
    if (got != want) {
        fprintf(stderr, "stmt_mariadb: %llu rows affected, expected %llu\n", (unsigned long long)got,
                (unsigned long long)want);
        exit(1);
    }
}

static void run_text(void)
{
    if (mysql_real_query(g_m, g_text, (unsigned long)g_text_len) != 0)
        die("query");
    MYSQL_RES *res = mysql_store_result(g_m);
    if (res == NULL) {
        if (mysql_field_count(g_m) != 0)
            die("store_result");
        if (B->rows == 0 && strcmp(B->name, "insert100") == 0)
            check_affected(mysql_affected_rows(g_m), STMT_BATCH_ROWS);
        return;
    }
    unsigned cols = mysql_num_fields(res);
    MYSQL_FIELD *fields = mysql_fetch_fields(res);
    size_t rows = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        unsigned long *lens = mysql_fetch_lengths(res);
        for (unsigned j = 0; j < cols; j++)
            if (row[j] != NULL)
                g_sum += stmt_int_type(fields[j].type) ? (uint64_t)strtoll(row[j], NULL, 10) : lens[j];
        rows++;
    }
    check_rows(rows);
    mysql_free_result(res);
}

/* Result buffers bound to a statement's columns: int64 for integers, bytes
 * for the rest. */
typedef struct binds {
    unsigned n;
    MYSQL_BIND *b;
    int64_t *ints;
    char (*bytes)[256];
    unsigned long *lens;
    my_bool *nulls;
} binds;

static void binds_make(binds *bd, MYSQL_STMT *s)
{
    MYSQL_RES *meta = mysql_stmt_result_metadata(s);
    memset(bd, 0, sizeof *bd);
    if (meta == NULL)
        return;
    bd->n = mysql_num_fields(meta);
    MYSQL_FIELD *f = mysql_fetch_fields(meta);
    bd->b = calloc(bd->n, sizeof *bd->b);
    bd->ints = calloc(bd->n, sizeof *bd->ints);
    bd->bytes = calloc(bd->n, sizeof *bd->bytes);
    bd->lens = calloc(bd->n, sizeof *bd->lens);
    bd->nulls = calloc(bd->n, sizeof *bd->nulls);
    for (unsigned j = 0; j < bd->n; j++) {
        if (stmt_int_type(f[j].type)) {
            bd->b[j].buffer_type = MYSQL_TYPE_LONGLONG;
            bd->b[j].buffer = &bd->ints[j];
        } else {
            bd->b[j].buffer_type = MYSQL_TYPE_STRING;
            bd->b[j].buffer = bd->bytes[j];
            bd->b[j].buffer_length = sizeof bd->bytes[j];
        }
        bd->b[j].length = &bd->lens[j];
        bd->b[j].is_null = &bd->nulls[j];
    }
    mysql_free_result(meta);
}

static void binds_free(binds *bd)
{
    free(bd->b);
    free(bd->ints);
    free(bd->bytes);
    free(bd->lens);
    free(bd->nulls);
}

/* After an execute: bind, buffer, fetch every row. */
static void fetch_all(MYSQL_STMT *s, binds *bd)
{
    if (bd->n == 0)
        return;
    if (mysql_stmt_bind_result(s, bd->b) != 0)
        die_stmt("bind_result", s);
    if (mysql_stmt_store_result(s) != 0)
        die_stmt("store_result", s);
    size_t rows = 0;
    int rc;
    while ((rc = mysql_stmt_fetch(s)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
        for (unsigned j = 0; j < bd->n; j++)
            if (!bd->nulls[j])
                g_sum += bd->b[j].buffer_type == MYSQL_TYPE_LONGLONG ? (uint64_t)bd->ints[j] : bd->lens[j];
        rows++;
    }
    if (rc != MYSQL_NO_DATA)
        die_stmt("fetch", s);
    check_rows(rows);
    mysql_stmt_free_result(s);
}

static MYSQL_STMT *prepare(const char *sql)
{
    MYSQL_STMT *s = mysql_stmt_init(g_m);
    if (s == NULL)
        die("stmt_init");
    if (mysql_stmt_prepare(s, sql, (unsigned long)strlen(sql)) != 0)
        die_stmt("prepare", s);
    return s;
}

int main(int argc, char **argv)
{
    A = bench_parse(argc, argv);
    B = stmt_bench_find(A.query);
    const char *m = A.mode;
    int insert = B != NULL && strcmp(B->name, "insert100") == 0;
    int ok = B != NULL && (strcmp(m, "text") == 0 ||
                           (insert ? strcmp(m, "loop") == 0 || strcmp(m, "bulk") == 0
                                   : strcmp(m, "binary") == 0 || strcmp(m, "prepare") == 0 ||
                                         strcmp(m, "direct") == 0));
    if (!ok) {
        fprintf(stderr, "stmt_mariadb: --query do1|select1|rows1000|cols100 with --mode "
                        "text|binary|prepare|direct,\n      or --query insert100 with --mode text|loop|bulk\n");
        return 2;
    }
    g_value_len = (unsigned long)stmt_insert_value(g_value);
    g_text_len = insert ? stmt_insert_text(g_text, sizeof g_text, g_value, g_value_len)
                        : (size_t)snprintf(g_text, sizeof g_text, "%s", B->sql);

    bench_target t = bench_target_env();
    if (mysql_library_init(0, NULL, NULL) != 0)
        return 1;
    g_m = mysql_init(NULL);
    mysql_options(g_m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (mysql_real_connect(g_m, t.host, t.user, t.password, t.db ? t.db : "perf", (unsigned)t.port,
                           NULL, 0) == NULL)
        die("connect");

    MYSQL_STMT *st = NULL;   /* prepared once */
    binds bd = {0};
    char *ptrs[STMT_BATCH_ROWS];
    unsigned long lens[STMT_BATCH_ROWS];
    MYSQL_BIND pb;
    memset(&pb, 0, sizeof pb);
    if (strcmp(m, "binary") == 0 || insert) {
        st = prepare(B->sql);
        binds_make(&bd, st);
    }
    if (strcmp(m, "loop") == 0) {
        pb.buffer_type = MYSQL_TYPE_STRING;
        pb.buffer = g_value;
        pb.length = &g_value_len;
        if (mysql_stmt_bind_param(st, &pb) != 0)
            die_stmt("bind_param", st);
    } else if (strcmp(m, "bulk") == 0) {
        for (int i = 0; i < STMT_BATCH_ROWS; i++) {
            ptrs[i] = g_value;
            lens[i] = g_value_len;
        }
        unsigned int nrows = STMT_BATCH_ROWS;
        pb.buffer_type = MYSQL_TYPE_STRING;
        pb.buffer = ptrs;
        pb.length = lens;
        if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &nrows) != 0 ||
            mysql_stmt_bind_param(st, &pb) != 0)
            die_stmt("bind_param", st);
    }

    int phase = (A.count >= 0 || A.warmup <= 0) ? 1 : 0;
    bench_cpu c0 = bench_cpu_now(), c1 = c0;
    double t0 = bench_now(), tm0 = t0, tm1 = t0;
    uint64_t done = 0;
    long issued = 0;
    bench_lat lat = {0};
    while (A.count < 0 ? phase < 2 : issued < A.count) {
        uint64_t q0 = A.nolat ? 0 : bench_now_ns();
        issued++;
        if (strcmp(m, "text") == 0) {
            run_text();
        } else if (strcmp(m, "binary") == 0) {
            if (mysql_stmt_execute(st) != 0)
                die_stmt("execute", st);
            fetch_all(st, &bd);
        } else if (strcmp(m, "prepare") == 0 || strcmp(m, "direct") == 0) {
            MYSQL_STMT *s;
            if (m[0] == 'p') {
                s = prepare(B->sql);
                if (mysql_stmt_execute(s) != 0)
                    die_stmt("execute", s);
            } else {
                s = mysql_stmt_init(g_m);
                if (s == NULL || mariadb_stmt_execute_direct(s, B->sql, strlen(B->sql)) != 0)
                    die_stmt("execute_direct", s);
            }
            binds b1;
            binds_make(&b1, s);
            fetch_all(s, &b1);
            binds_free(&b1);
            mysql_stmt_close(s);
        } else if (strcmp(m, "loop") == 0) {
            for (int i = 0; i < STMT_BATCH_ROWS; i++) {
                if (mysql_stmt_execute(st) != 0)
                    die_stmt("execute", st);
                check_affected(mysql_stmt_affected_rows(st), 1);
            }
        } else {   /* bulk */
            if (mysql_stmt_execute(st) != 0)
                die_stmt("bulk execute", st);
            check_affected(mysql_stmt_affected_rows(st), STMT_BATCH_ROWS);
        }
        if (phase == 1) {
            done++;
            if (!A.nolat)
                bench_lat_add(&lat, bench_now_ns() - q0);
        }
        if (A.count >= 0)
            continue;
        double now = bench_now();
        if (phase == 0 && now >= t0 + A.warmup) {
            phase = 1;
            tm0 = now;
            c0 = bench_cpu_now();
        } else if (phase == 1 && now >= tm0 + A.seconds) {
            phase = 2;
            tm1 = now;
            c1 = bench_cpu_now();
        }
    }
    if (A.count >= 0) {
        tm1 = bench_now();
        c1 = bench_cpu_now();
    }
    if (st != NULL) {
        binds_free(&bd);
        mysql_stmt_close(st);
    }
    mysql_close(g_m);
    if (A.header)
        printf("%s\n", BENCH_CSV_HEADER);
    bench_print("libmariadb", m, B->name, 1, 1, tm1 - tm0, done, &lat, c0, c1);
    free(lat.v);
    mysql_library_end();
    return 0;
}
