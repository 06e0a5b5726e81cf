/*
 * perf/stmt_bench.h -- the statements of the prepared-statement benchmark
 * (perf/stmt.c with myring, perf/peers/stmt_mariadb.c with libmariadb;
 * perf/node/stmt.js repeats them): their SQL, the rows each must return and
 * the string the batch inserts write. Named like MariaDB Connector/C's own
 * benchmark suite (its benchmark/ directory) so the figures compare. No
 * myring dependency.
 *
 * Tables (perf/run.sh creates them in the database perf):
 *   test100             100 INT columns, one row (1..100)
 *   perfTestTextBatch   id MEDIUMINT AUTO_INCREMENT, t0 TEXT, utf8mb4,
 *                       ENGINE=BLACKHOLE (rows are parsed, then dropped)
 */
#ifndef PERF_STMT_BENCH_H
#define PERF_STMT_BENCH_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct stmt_bench {
    const char *name;    /* --query value and the CSV's query column */
    const char *title;   /* the name in MariaDB Connector/C's suite */
    const char *sql;     /* the statement (prepared as is in binary modes) */
    size_t rows;         /* rows each execution returns (0: an OK) */
} stmt_bench;

#define STMT_BATCH_ROWS 100   /* rows per batch insert operation */
#define STMT_VALUE_CHARS 100  /* characters of the inserted string */

static const stmt_bench STMT_BENCHES[] = {
    {"do1", "DO 1", "DO 1", 0},
    {"select1", "SELECT 1", "SELECT 1", 1},
    {"rows1000", "SELECT 1000 rows (int + char(32))",
     "SELECT seq, 'abcdefghijabcdefghijabcdefghijaa' FROM seq_1_to_1000", 1000},
    {"cols100", "SELECT 100 int cols", "SELECT * FROM test100", 1},
    {"insert100", "batch insert of 100 rows", "INSERT INTO perfTestTextBatch(t0) VALUES (?)", 0},
};

static inline const stmt_bench *stmt_bench_find(const char *name)
{
    for (size_t i = 0; i < sizeof STMT_BENCHES / sizeof STMT_BENCHES[0]; i++)
        if (strcmp(STMT_BENCHES[i].name, name) == 0)
            return &STMT_BENCHES[i];
    return NULL;
}

/* The string every inserted row carries: 100 characters, ASCII and 4-byte
 * UTF-8 mixed, none that needs escaping in a SQL literal. perf/node/stmt.js
 * builds the same one. buf holds at least 4 * STMT_VALUE_CHARS + 1 bytes;
 * returns the length in bytes. */
static inline size_t stmt_insert_value(char *buf)
{
    static const char *const pieces[] = {
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "q", "w", "e", "r", "t", "y",
        "u", "i", "o", "p", "\xF0\x9F\x8D\x95", "\xF0\x9F\x9A\x80", "\xF0\x9F\x8E\xB2",
    };
    const size_t np = sizeof pieces / sizeof pieces[0];
    size_t len = 0;
    for (size_t i = 0; i < STMT_VALUE_CHARS; i++) {
        const char *p = pieces[(i * 7 + 3) % np];
        size_t n = strlen(p);
        memcpy(buf + len, p, n);
        len += n;
    }
    buf[len] = '\0';
    return len;
}

/* The text-protocol batch: one INSERT with STMT_BATCH_ROWS rows of value.
 * Returns the length written into buf (cap bytes), 0 if it does not fit. */
static inline size_t stmt_insert_text(char *buf, size_t cap, const char *value, size_t vlen)
{
    int n = snprintf(buf, cap, "INSERT INTO perfTestTextBatch(t0) VALUES ");
    size_t len = n < 0 ? 0 : (size_t)n;
    for (int i = 0; i < STMT_BATCH_ROWS; i++) {
        if (len + vlen + 5 >= cap)
            return 0;
        len += (size_t)snprintf(buf + len, cap - len, "%s('%s')", i ? "," : "", value);
    }
    return len;
}

/* Column types of int kind (MYSQL_TYPE_TINY, SHORT, LONG, LONGLONG, INT24):
 * read as numbers, the rest as bytes. */
static inline int stmt_int_type(unsigned type)
{
    return type == 1 || type == 2 || type == 3 || type == 8 || type == 9;
}

#endif
