/*
 * src/result_get.c -- typed getters for result values (myring/stmt.h):
 * the same calls read results of both protocols. Values are kept in their
 * text form (result.c); integers and temporals are parsed from it exactly,
 * DOUBLE text is the shortest form that reads back as the same double, and
 * a binary FLOAT (whose text keeps 6 digits) is read from the raw bytes the
 * binary sink keeps after the text.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The cell at (row, col) if its column's type is accepted by ok(); 1 for
 * NULL, 0 with *cell, or MYR_EINVAL. */
static int cell(const myr_result *r, size_t row, size_t col, int (*ok)(uint8_t type),
                const myr__field **cell, const myr_column **column)
{
    if (r == NULL || row >= r->nrows || col >= r->ncols)
        return MYR_EINVAL;
    const myr_column *c = &r->cols[col];
    if (c->type != MYR_TYPE_NULL && !ok(c->type))
        return MYR_EINVAL;
    *cell = &r->cells[row * r->ncols + col];
    *column = c;
    return (*cell)->ptr == NULL ? 1 : 0;
}

static int is_int(uint8_t t)
{
    return t == MYR_TYPE_TINY || t == MYR_TYPE_SHORT || t == MYR_TYPE_LONG || t == MYR_TYPE_LONGLONG ||
           t == MYR_TYPE_INT24 || t == MYR_TYPE_YEAR || t == MYR_TYPE_BIT;
}

static int is_real(uint8_t t)
{
    return is_int(t) || t == MYR_TYPE_FLOAT || t == MYR_TYPE_DOUBLE || t == MYR_TYPE_DECIMAL ||
           t == MYR_TYPE_NEWDECIMAL;
}

static int is_time(uint8_t t)
{
    return t == MYR_TYPE_DATE || t == MYR_TYPE_NEWDATE || t == MYR_TYPE_TIME ||
           t == MYR_TYPE_DATETIME || t == MYR_TYPE_TIMESTAMP;
}

/* An integer value: *neg and its magnitude. BIT values are big-endian bytes. */
static int int_value(const myr__field *f, const myr_column *col, int *neg, uint64_t *mag)
{
    const char *s = (const char *)f->ptr;
    *neg = 0;
    *mag = 0;
    if (col->type == MYR_TYPE_BIT) {
        if (f->len > 8)
            return MYR_EINVAL;
        for (size_t i = 0; i < f->len; i++)
            *mag = *mag << 8 | (uint8_t)s[i];
        return 0;
    }
    size_t i = 0;
    if (f->len > 0 && s[0] == '-') {
        *neg = 1;
        i = 1;
    }
    if (i == f->len)
        return MYR_EINVAL;
    for (; i < f->len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9 || *mag > (UINT64_MAX - d) / 10)
            return MYR_EINVAL;
        *mag = *mag * 10 + d;
    }
    return 0;
}

int myr_result_int64(const myr_result *r, size_t row, size_t col, int64_t *out)
{
    const myr__field *f;
    const myr_column *c;
    int rc = cell(r, row, col, is_int, &f, &c);
    if (rc != 0)
        return rc;
    int neg;
    uint64_t mag;
    if (int_value(f, c, &neg, &mag) != 0)
        return MYR_EINVAL;
    if (neg) {
        if (mag > (uint64_t)INT64_MAX + 1)
            return MYR_EINVAL;
        *out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > (uint64_t)INT64_MAX)
            return MYR_EINVAL;
        *out = (int64_t)mag;
    }
    return 0;
}

int myr_result_uint64(const myr_result *r, size_t row, size_t col, uint64_t *out)
{
    const myr__field *f;
    const myr_column *c;
    int rc = cell(r, row, col, is_int, &f, &c);
    if (rc != 0)
        return rc;
    int neg;
    uint64_t mag;
    if (int_value(f, c, &neg, &mag) != 0 || (neg && mag != 0))
        return MYR_EINVAL;
    *out = mag;
    return 0;
}

int myr_result_double(const myr_result *r, size_t row, size_t col, double *out)
{
    const myr__field *f;
    const myr_column *c;
    int rc = cell(r, row, col, is_real, &f, &c);
    if (rc != 0)
        return rc;
    if (r->binary && c->type == MYR_TYPE_FLOAT) {
        const uint8_t *raw = f->ptr + f->len + 1;   /* see result.c's sink_bin_row */
        uint32_t bits = (uint32_t)raw[0] | (uint32_t)raw[1] << 8 | (uint32_t)raw[2] << 16 |
                        (uint32_t)raw[3] << 24;
        float v;
        memcpy(&v, &bits, sizeof v);
        *out = v;
        return 0;
    }
    if (c->type == MYR_TYPE_BIT || is_int(c->type)) {
        int neg;
        uint64_t mag;
        if (int_value(f, c, &neg, &mag) != 0)
            return MYR_EINVAL;
        *out = neg ? -(double)mag : (double)mag;
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod((const char *)f->ptr, &end);   /* values are NUL-terminated */
    if (end != (const char *)f->ptr + f->len || f->len == 0)
        return MYR_EINVAL;
    *out = v;
    return 0;
}

/* Digits s[*i..) up to a non-digit, at most max of them; -1 if none. */
static long digits(const char *s, size_t len, size_t *i, int max)
{
    long v = 0;
    int n = 0;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9' && n < max) {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        n++;
    }
    return n ? v : -1;
}

/* ".ffffff" (1..6 digits) into microseconds, if present. */
static int fraction(const char *s, size_t len, size_t *i, unsigned *us)
{
    *us = 0;
    if (*i == len)
        return 0;
    if (s[*i] != '.')
        return MYR_EINVAL;
    (*i)++;
    size_t start = *i;
    long v = digits(s, len, i, 6);
    if (v < 0)
        return MYR_EINVAL;
    for (size_t n = *i - start; n < 6; n++)
        v *= 10;
    *us = (unsigned)v;
    return *i == len ? 0 : MYR_EINVAL;
}

int myr_result_time(const myr_result *r, size_t row, size_t col, myr_time *out)
{
    const myr__field *f;
    const myr_column *c;
    int rc = cell(r, row, col, is_time, &f, &c);
    if (rc != 0)
        return rc;
    const char *s = (const char *)f->ptr;
    size_t len = f->len, i = 0;
    myr_time t;
    memset(&t, 0, sizeof t);
    if (c->type == MYR_TYPE_TIME) {
        if (len > 0 && s[0] == '-') {
            t.negative = 1;
            i++;
        }
        long h = digits(s, len, &i, 9);
        if (h < 0 || i >= len || s[i++] != ':')
            return MYR_EINVAL;
        long mi = digits(s, len, &i, 2);
        if (mi < 0 || i >= len || s[i++] != ':')
            return MYR_EINVAL;
        long sec = digits(s, len, &i, 2);
        if (sec < 0 || fraction(s, len, &i, &t.microsecond) != 0)
            return MYR_EINVAL;
        t.hour = (unsigned)h;
        t.minute = (unsigned)mi;
        t.second = (unsigned)sec;
        *out = t;
        return 0;
    }
    long y = digits(s, len, &i, 4);
    if (y < 0 || i >= len || s[i++] != '-')
        return MYR_EINVAL;
    long mo = digits(s, len, &i, 2);
    if (mo < 0 || i >= len || s[i++] != '-')
        return MYR_EINVAL;
    long d = digits(s, len, &i, 2);
    if (d < 0)
        return MYR_EINVAL;
    t.year = (unsigned)y;
    t.month = (unsigned)mo;
    t.day = (unsigned)d;
    if (i < len) {
        if (s[i++] != ' ')
            return MYR_EINVAL;
        long h = digits(s, len, &i, 2);
        if (h < 0 || i >= len || s[i++] != ':')
            return MYR_EINVAL;
        long mi = digits(s, len, &i, 2);
        if (mi < 0 || i >= len || s[i++] != ':')
            return MYR_EINVAL;
        long sec = digits(s, len, &i, 2);
        if (sec < 0 || fraction(s, len, &i, &t.microsecond) != 0)
            return MYR_EINVAL;
        t.hour = (unsigned)h;
        t.minute = (unsigned)mi;
        t.second = (unsigned)sec;
    }
    *out = t;
    return 0;
}
