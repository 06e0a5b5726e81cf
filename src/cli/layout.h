/*
 * layout.h -- the table (-t) and vertical (-E, \G) output of the myring
 * command-line client, laid out as the reference client lays them out.
 */
#ifndef MYRING_CLI_LAYOUT_H
#define MYRING_CLI_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "myring.h"

/* Screen cells of a UTF-8 string: East Asian wide characters take two,
 * everything else (and each byte that is not valid UTF-8) one. */
size_t cli_cells(const char *s, size_t len);

/* One result set as a table: +---+ borders, a header line unless
 * skip_names, numeric columns right-aligned, NULL as "NULL"; with quick,
 * columns as wide as their declared length rather than their values. */
void cli_print_table(FILE *out, const myr_result *r, bool skip_names, bool quick);
/* One result set as "*** N. row ***" blocks of "name: value" lines. */
void cli_print_vertical(FILE *out, const myr_result *r, bool skip_names);

#endif
