/*
 * layout.c -- table and vertical output. Widths follow the reference
 * client: a column is as wide as the longest value or name in bytes (at
 * least 4 for "NULL" when it can be NULL, at most 1024), and a value with
 * multibyte characters gets extra padding for the cells it does not fill.
 */
#include <stdlib.h>
#include <string.h>

#include "layout.h"

#define MAX_COLUMN_LENGTH 1024

/* East Asian Wide and Fullwidth ranges (the ones a terminal draws double). */
static bool is_wide(unsigned long cp)
{
    return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
           (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
           (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
           (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
           (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
           (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x2fffd) ||
           (cp >= 0x30000 && cp <= 0x3fffd);
}

/* Length of the UTF-8 sequence at p and its code point, 0 if invalid. */
static size_t utf8_next(const unsigned char *p, const unsigned char *end, unsigned long *cp)
{
    size_t n;
    unsigned long v;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        v = p[0] & 0x1fu;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        v = p[0] & 0x0fu;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        v = p[0] & 0x07u;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3fu);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)))
        return 0;
    *cp = v;
    return n;
}

size_t cli_cells(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    size_t cells = 0;
    while (p < end) {
        unsigned long cp;
        size_t n = utf8_next(p, end, &cp);
        if (n == 0) {
            cells++;
            p++;
            continue;
        }
        cells += is_wide(cp) ? 2 : 1;
        p += n;
    }
    return cells;
}

/* The types the reference right-aligns (its IS_NUM). */
static bool is_numeric(uint8_t type)
{
    return (type <= 9 && type != 7) || type == 13 || type == 246;
}

static void put_dashes(FILE *out, const size_t *width, size_t ncol)
{
    fputc('+', out);
    for (size_t j = 0; j < ncol; j++) {
        for (size_t k = 0; k < width[j] + 2; k++)
            fputc('-', out);
        fputc('+', out);
    }
    fputc('\n', out);
}

static void put_sized(FILE *out, const char *v, size_t len, size_t total, bool right)
{
    fputc(' ', out);
    if (right)
        for (size_t i = len; i < total; i++)
            fputc(' ', out);
    for (size_t i = 0; i < len; i++)
        fputc(v[i] == '\0' ? ' ' : v[i], out); /* NUL shows as a space */
    if (!right)
        for (size_t i = len; i < total; i++)
            fputc(' ', out);
}

void cli_print_table(FILE *out, const myr_result *r, bool skip_names, bool quick)
{
    size_t ncol = myr_result_column_count(r), nrow = myr_result_row_count(r);
    size_t *width = calloc(ncol ? ncol : 1, sizeof *width);
    if (width == NULL)
        return;
    for (size_t j = 0; j < ncol; j++) {
        const myr_column *col = myr_result_column(r, j);
        size_t w = skip_names ? 0 : col->name_len;
        if (quick) {
            /* --quick: the column's declared display length, as the
             * reference (which has not seen the rows yet); capped here so a
             * LONGTEXT's 4 GiB does not become a border line. */
            size_t decl = col->length > MAX_COLUMN_LENGTH ? MAX_COLUMN_LENGTH : col->length;
            if (decl > w)
                w = decl;
        }
        for (size_t i = 0; !quick && i < nrow; i++) {
            size_t len;
            if (myr_result_value(r, i, j, &len) != NULL && len > w)
                w = len;
        }
        if (w < 4 && !(col->flags & MYR_FLAG_NOT_NULL))
            w = 4;
        width[j] = w;
    }
    put_dashes(out, width, ncol);
    if (!skip_names) {
        fputc('|', out);
        for (size_t j = 0; j < ncol; j++) {
            const myr_column *col = myr_result_column(r, j);
            size_t shown = strnlen(col->name, col->name_len);
            size_t total = width[j] + col->name_len - cli_cells(col->name, col->name_len);
            if (total > MAX_COLUMN_LENGTH)
                total = MAX_COLUMN_LENGTH;
            put_sized(out, col->name, shown, total, false);
            fputs(" |", out);
        }
        fputc('\n', out);
        put_dashes(out, width, ncol);
    }
    for (size_t i = 0; i < nrow; i++) {
        fputc('|', out);
        for (size_t j = 0; j < ncol; j++) {
            const myr_column *col = myr_result_column(r, j);
            size_t len;
            const char *v = myr_result_value(r, i, j, &len);
            if (v == NULL) {
                v = "NULL";
                len = 4;
            }
            size_t extra = len - cli_cells(v, len);
            if (width[j] > MAX_COLUMN_LENGTH)
                put_sized(out, v, len, MAX_COLUMN_LENGTH + extra, false);
            else
                put_sized(out, v, len, width[j] + extra, is_numeric(col->type));
            fputs(" |", out);
        }
        fputc('\n', out);
    }
    put_dashes(out, width, ncol);
    free(width);
}

void cli_print_vertical(FILE *out, const myr_result *r, bool skip_names)
{
    size_t ncol = myr_result_column_count(r), nrow = myr_result_row_count(r);
    size_t name_w = 0;
    for (size_t j = 0; j < ncol; j++) {
        size_t n = strnlen(myr_result_column(r, j)->name, myr_result_column(r, j)->name_len);
        if (n > name_w)
            name_w = n;
    }
    for (size_t i = 0; i < nrow; i++) {
        fprintf(out, "*************************** %zu. row ***************************\n", i + 1);
        for (size_t j = 0; j < ncol; j++) {
            const myr_column *col = myr_result_column(r, j);
            if (!skip_names)
                fprintf(out, "%*.*s: ", (int)name_w, (int)col->name_len, col->name);
            size_t len;
            const char *v = myr_result_value(r, i, j, &len);
            if (v == NULL) {
                fputs("NULL\n", out);
                continue;
            }
            for (size_t k = 0; k < len; k++)
                fputc(v[k] == '\0' ? ' ' : v[k], out); /* NUL shows as a space */
            fputc('\n', out);
        }
    }
}
