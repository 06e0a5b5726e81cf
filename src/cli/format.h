/*
 * format.h -- batch output of the myring command-line client.
 *
 * The format of `mariadb --batch`: one line of column names (as they are,
 * cut at a NUL byte like the reference's fputs), then one line per row,
 * values separated by tabs, SQL NULL as "NULL". In values, NUL, tab, newline
 * and backslash are written as \0 \t \n \\ so that a line stays a row; with
 * --raw the bytes go out unchanged. These functions know nothing of myring's
 * result objects, so they can be tested alone.
 */
#ifndef MYRING_CLI_FORMAT_H
#define MYRING_CLI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A column name, up to its first NUL byte. */
void cli_put_name(FILE *out, const char *name, size_t len);
/* A value: NULL (SQL NULL) prints "NULL"; otherwise escaped unless raw. */
void cli_put_value(FILE *out, const char *v, size_t len, bool raw);
/* The field and row separators. */
void cli_put_sep(FILE *out);
void cli_put_eol(FILE *out);

#endif
