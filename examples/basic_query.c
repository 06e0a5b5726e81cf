/* examples/basic_query.c -- connect, run one query, print its rows, close:
 * the blocking calls, which drive the same loop as the futures. */
#include "common.h"

int main(void)
{
    myr_error err;
    myr_conn_opts *opts = example_opts(NULL);
    myr_conn *conn = myr_connect_sync(NULL, opts, &err);
    myr_conn_opts_free(opts);
    if (conn == NULL)
        example_die("connect", &err);

    const char *sql = "SELECT @@version, NOW(), 6 * 7 AS answer";
    myr_result *res = myr_query_sync(conn, sql, strlen(sql), &err);
    if (res == NULL)
        example_die("query", &err);
    for (size_t col = 0; col < myr_result_column_count(res); col++)
        printf("%s%.*s", col ? "\t" : "", (int)myr_result_column(res, col)->name_len,
               myr_result_column(res, col)->name);
    printf("\n");
    for (size_t row = 0; row < myr_result_row_count(res); row++) {
        for (size_t col = 0; col < myr_result_column_count(res); col++) {
            size_t len;
            const char *v = myr_result_value(res, row, col, &len);
            printf("%s%.*s", col ? "\t" : "", v ? (int)len : 4, v ? v : "NULL");
        }
        printf("\n");
    }
    myr_result_free(res);
    if (myr_close_sync(conn, &err) != 0)
        example_die("close", &err);
    return 0;
}
