/*
 * src/result.c -- result assembly and the myr_result accessors.
 *
 * Values and column strings are copied into an arena of chunks (pointers
 * stay put as it grows; a value gets a NUL after its bytes); cells are one
 * array of (ptr, len) per result set. No allocation per row on the hot path
 * beyond amortised growth.
 */
#include <string.h>

#include "internal.h"

struct myr__chunk {
    myr__chunk *next;
    size_t used, cap;
    char data[];
};

#define MYR__CHUNK_MIN 16384

myr_result *myr__result_new(void) { return myr__calloc(1, sizeof(myr_result)); }

/* Room for n bytes in the arena; returns where to write them. */
static char *arena_alloc(myr_result *r, size_t n)
{
    myr__chunk *c = r->chunks;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = MYR__CHUNK_MIN;
        if (c != NULL && c->cap < (1u << 20))
            cap = c->cap * 2;   /* grow chunk sizes as a result grows */
        if (cap < n)
            cap = n;
        if (cap > (size_t)-1 - sizeof *c)
            return NULL;
        myr__chunk *nc = myr__malloc(sizeof *nc + cap);
        if (nc == NULL)
            return NULL;
        nc->used = 0;
        nc->cap = cap;
        nc->next = c;
        r->chunks = c = nc;
    }
    char *p = c->data + c->used;
    c->used += n;
    return p;
}

static const char *arena_copy(myr_result *r, const void *src, size_t n)
{
    char *p = arena_alloc(r, n + 1);
    if (p == NULL)
        return NULL;
    if (n)
        memcpy(p, src, n);
    p[n] = '\0';
    return p;
}

int myr__result_set_ok(myr_result *r, const myr__ok *ok)
{
    r->affected_rows = ok->affected_rows;
    r->insert_id = ok->insert_id;
    r->warnings = ok->warnings;
    r->status = ok->status;
    if (ok->info_len) {
        char *info = myr__malloc(ok->info_len + 1);
        if (info == NULL)
            return MYR_ENOMEM;
        memcpy(info, ok->info, ok->info_len);
        info[ok->info_len] = '\0';
        myr__free(r->info);
        r->info = info;
    }
    return 0;
}

int myr__result_set_columns(myr_result *r, uint64_t ncols)
{
    if (ncols == 0 || ncols > 4096)   /* the server limit is 4096 columns */
        return MYR_EMALFORMED;
    r->cols = myr__calloc((size_t)ncols, sizeof *r->cols);
    if (r->cols == NULL)
        return MYR_ENOMEM;
    r->ncols = (size_t)ncols;
    return 0;
}

int myr__result_add_column(myr_result *r, size_t i, const myr_column *col)
{
    if (i >= r->ncols)
        return MYR_EMALFORMED;
    myr_column *d = &r->cols[i];
    *d = *col;
#define COPY(f)                                                       \
    if ((d->f = arena_copy(r, col->f, col->f##_len)) == NULL)         \
        return MYR_ENOMEM;
    COPY(catalog) COPY(schema) COPY(table) COPY(org_table) COPY(name) COPY(org_name)
#undef COPY
    return 0;
}

int myr__result_add_row(myr_result *r, const uint8_t *p, size_t len)
{
    if (r->nrows == r->rows_cap) {
        size_t cap = r->rows_cap ? r->rows_cap * 2 : 16;
        if (cap > (size_t)-1 / sizeof(myr__cell) / r->ncols)
            return MYR_ENOMEM;
        myr__cell *cells = myr__realloc(r->cells, cap * r->ncols * sizeof *cells);
        if (cells == NULL)
            return MYR_ENOMEM;
        r->cells = cells;
        r->rows_cap = cap;
    }
    myr__cell *row = r->cells + r->nrows * r->ncols;
    /* Parse into the cell array itself (same layout as myr__field), then
     * copy the whole payload once and re-point the cells into the copy. */
    _Static_assert(sizeof(myr__cell) == sizeof(myr__field), "cell and field share a layout");
    int rc = myr__row_parse(p, len, r->ncols, (myr__field *)row);
    if (rc)
        return rc;
    char *copy = arena_alloc(r, len + r->ncols);
    if (copy == NULL)
        return MYR_ENOMEM;
    /* Lay values out back to back, each followed by a NUL. */
    char *w = copy;
    for (size_t i = 0; i < r->ncols; i++) {
        if (row[i].ptr == NULL)
            continue;
        memcpy(w, row[i].ptr, row[i].len);
        w[row[i].len] = '\0';
        row[i].ptr = w;
        w += row[i].len + 1;
    }
    r->nrows++;
    return 0;
}

void myr_result_free(myr_result *r)
{
    while (r != NULL) {
        myr_result *next = r->next;
        for (myr__chunk *c = r->chunks, *n; c != NULL; c = n) {
            n = c->next;
            myr__free(c);
        }
        myr__free(r->cols);
        myr__free(r->cells);
        myr__free(r->info);
        myr__free(r);
        r = next;
    }
}

myr_result *myr_result_next(const myr_result *r) { return r ? r->next : NULL; }
size_t myr_result_column_count(const myr_result *r) { return r ? r->ncols : 0; }
const myr_column *myr_result_column(const myr_result *r, size_t col)
{
    return r && col < r->ncols ? &r->cols[col] : NULL;
}
size_t myr_result_row_count(const myr_result *r) { return r ? r->nrows : 0; }

const char *myr_result_value(const myr_result *r, size_t row, size_t col, size_t *len)
{
    if (len)
        *len = 0;
    if (r == NULL || row >= r->nrows || col >= r->ncols)
        return NULL;
    const myr__cell *c = &r->cells[row * r->ncols + col];
    if (len)
        *len = c->len;
    return c->ptr;
}

uint64_t myr_result_affected_rows(const myr_result *r) { return r ? r->affected_rows : 0; }
uint64_t myr_result_insert_id(const myr_result *r) { return r ? r->insert_id : 0; }
unsigned myr_result_warnings(const myr_result *r) { return r ? r->warnings : 0; }
unsigned myr_result_status(const myr_result *r) { return r ? r->status : 0; }
const char *myr_result_info(const myr_result *r) { return r && r->info ? r->info : ""; }
