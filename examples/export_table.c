/* examples/export_table.c -- export a table of any size as tab-separated
 * text in bounded memory: myr_query_stream hands the rows over in batches
 * and the connection reads nothing more while a batch is being written, so
 * memory stays the same whether the table has ten rows or a billion.
 *
 *   example_export_table "SELECT ..." > out.tsv
 *
 * Connection from MYR_TEST_* (see common.h). Prints the row count and the
 * process's peak RSS on stderr. Values are written as the batch format of
 * the CLI writes them: tab between values, NULL as \N, tabs, newlines and
 * backslashes escaped. */
#include <sys/resource.h>

#include "common.h"

typedef struct export_state {
    FILE *out;
    unsigned long long rows;
} export_state;

static void put_value(FILE *out, const char *v, size_t len)
{
    if (v == NULL) {
        fputs("\\N", out);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        switch (v[i]) {
        case '\t': fputs("\\t", out); break;
        case '\n': fputs("\\n", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\0': fputs("\\0", out); break;
        default: fputc(v[i], out);
        }
    }
}

/* One batch: write its rows and say "go on" (0). */
static int on_rows(const myr_result *rows, void *arg)
{
    export_state *st = arg;
    size_t ncol = myr_result_column_count(rows), nrow = myr_result_row_count(rows);
    for (size_t i = 0; i < nrow; i++) {
        for (size_t j = 0; j < ncol; j++) {
            size_t len;
            const char *v = myr_result_value(rows, i, j, &len);
            if (j)
                fputc('\t', st->out);
            put_value(st->out, v, len);
        }
        fputc('\n', st->out);
    }
    st->rows += nrow;
    return ferror(st->out) ? 1 : 0; /* stop the stream if we cannot write */
}

int main(int argc, char **argv)
{
    const char *sql = argc > 1 ? argv[1] : "SELECT seq, seq * 2, CONCAT('row ', seq) FROM seq_1_to_100000";
    myr_error err;
    myr_conn_opts *o = example_opts(getenv("MYR_TEST_DB"));
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    if (c == NULL)
        example_die("connect", &err);

    export_state st = {stdout, 0};
    myr_future *f = myr_query_stream(c, sql, strlen(sql), on_rows, &st);
    if (myr_await(f, -1) != 0)
        example_die("export", myr_future_error(f));
    myr_future_free(f);
    fflush(stdout);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr, "exported %llu rows, peak RSS %ld KiB\n", st.rows, ru.ru_maxrss);
    myr_close_sync(c, &err);
    return 0;
}
