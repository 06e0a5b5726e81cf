/*
 * src/coldefs.c -- a result set's column definitions, kept as the raw
 * packets and parsed once. A connection keeps its last set; when the next
 * result set's definitions are the same bytes (the same query again, the
 * usual case), its result shares them instead of copying and parsing them
 * again (result.c). Results hold a count, so the definitions outlive the
 * connection and later result sets as long as a result needs them.
 */
#include <stdlib.h>

#include "internal.h"

/* Room for a typical definition (catalog, schema, table, names, 13 bytes
 * of fixed fields) in the same allocation; longer ones move raw out. */
#define COLDEF_INLINE 64

myr__coldefs *myr__coldefs_new(size_t ncols)
{
    size_t head = (sizeof(myr__coldefs) + 7) & ~(size_t)7;
    size_t cols = ncols * sizeof(myr_column);
    size_t ends = (ncols * sizeof(uint32_t) + 7) & ~(size_t)7;
    myr__coldefs *d = myr__malloc(head + cols + ends + ncols * COLDEF_INLINE);
    if (d == NULL)
        return NULL;
    d->refs = 1;
    d->ncols = ncols;
    d->nadded = 0;
    d->cols = (myr_column *)(void *)((char *)d + head);
    d->end = (uint32_t *)(void *)((char *)d + head + cols);
    d->raw_inline = d->raw = (uint8_t *)d + head + cols + ends;
    d->raw_len = 0;
    d->raw_cap = ncols * COLDEF_INLINE;
    return d;
}

static int reserve(myr__coldefs *d, size_t n)
{
    if (d->raw_cap - d->raw_len >= n)
        return 0;
    if (n > UINT32_MAX - d->raw_len)
        return MYR_ENOMEM;   /* 4096 definitions of at most 16 MiB... never in practice */
    size_t cap = d->raw_cap * 2 > d->raw_len + n ? d->raw_cap * 2 : d->raw_len + n;
    uint8_t *raw;
    if (d->raw == d->raw_inline) {
        if ((raw = myr__malloc(cap)) != NULL)
            memcpy(raw, d->raw, d->raw_len);
    } else {
        raw = myr__realloc(d->raw, cap);
    }
    if (raw == NULL)
        return MYR_ENOMEM;
    d->raw = raw;
    d->raw_cap = cap;
    return 0;
}

int myr__coldefs_add(myr__coldefs *d, const uint8_t *p, size_t len)
{
    if (d->nadded >= d->ncols || reserve(d, len) != 0)
        return MYR_ENOMEM;
    memcpy(d->raw + d->raw_len, p, len);
    d->raw_len += len;
    d->end[d->nadded++] = (uint32_t)d->raw_len;
    return 0;
}

int myr__coldefs_add_from(myr__coldefs *d, const myr__coldefs *from, size_t n)
{
    if (n == 0)
        return 0;
    size_t bytes = from->end[n - 1];
    if (d->nadded != 0 || n > d->ncols || reserve(d, bytes) != 0)
        return MYR_ENOMEM;
    memcpy(d->raw, from->raw, bytes);
    memcpy(d->end, from->end, n * sizeof *d->end);
    d->raw_len = bytes;
    d->nadded = n;
    return 0;
}

int myr__coldefs_finish(myr__coldefs *d)
{
    size_t start = 0;
    for (size_t i = 0; i < d->ncols; i++) {
        if (i >= d->nadded || myr__coldef_parse(d->raw + start, d->end[i] - start, &d->cols[i]) != 0)
            return MYR_EMALFORMED;
        start = d->end[i];
    }
    return 0;
}

void myr__coldefs_unref(myr__coldefs *d)
{
    if (d == NULL || __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    if (d->raw != d->raw_inline)
        myr__free(d->raw);
    myr__free(d);
}
