/*
 * src/result.c -- result assembly and the myr_result accessors.
 *
 * The buffered result is a result sink (src/proto/proto.h): the codec
 * parses, this file only keeps. Values and column strings are copied into an
 * arena of chunks (pointers stay put as it grows; a value gets a NUL after
 * its bytes); cells are one array of (ptr, len) per result set. No
 * allocation per row on the hot path beyond amortised growth.
 */
#include <string.h>

#include "internal.h"

struct myr__chunk {
    myr__chunk *next;
    size_t used, cap;
    _Alignas(8) char data[];
};

/* A result comes with a small first chunk in the same allocation, so a
 * short result (an OK, SELECT 1) costs one malloc; later chunks double. */
#define MYR__CHUNK_FIRST 512
#define MYR__CHUNK_MAX (1u << 20)

typedef struct result_block {
    myr_result r;
    myr__chunk first;
    char first_data[MYR__CHUNK_FIRST];
} result_block;

/* The loop's free list of result blocks. refs: one for the loop while it
 * lives plus one per block made for it (listed or out); atomic because a
 * result may be freed on any thread (then it goes to the heap). Only the
 * loop's thread, while the loop lives, touches the list. */
typedef struct myr__rhome {
    size_t refs;
    uintptr_t owner;           /* the loop's thread (myr__thread_self) */
    uint8_t live;              /* the loop has not been freed */
    unsigned n;
    result_block *free;        /* linked by r.next */
} myr__rhome;
/* Kept per loop: enough for a deep pipeline's results in flight at once. */
#define MYR__RESULTS_KEEP 256u

static uintptr_t thread_self(void) { return myr__thread_self(); }

static void rhome_unref(myr__rhome *h)
{
    if (__atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) == 0)
        myr__free(h);
}

static void block_init(result_block *b, myr__rhome *home)
{
    memset(&b->r, 0, sizeof b->r);
    b->first.next = NULL;
    b->first.used = 0;
    b->first.cap = MYR__CHUNK_FIRST;
    b->r.chunks = &b->first;
    b->r.home = home;
}

myr_result *myr__result_new(void)
{
    result_block *b = myr__malloc(sizeof *b);
    if (b == NULL)
        return NULL;
    block_init(b, NULL);
    return &b->r;
}

/* A result for a connection's command: from its loop's free list if one
 * is there (cannot fail), else a fresh block (can). */
static myr_result *result_for(myr_conn *c)
{
    if (c == NULL)
        return myr__result_new();
    myr_loop *loop = c->loop;
    myr__rhome *h = loop->rhome;
    if (h == NULL) {
        if ((h = myr__malloc(sizeof *h)) == NULL)
            return NULL;
        h->refs = 1;
        h->owner = thread_self();
        h->live = 1;
        h->n = 0;
        h->free = NULL;
        loop->rhome = h;
    }
    result_block *b = h->free;
    if (b != NULL) {
        h->free = (result_block *)(void *)b->r.next;
        h->n--;
    } else {
        if ((b = myr__malloc(sizeof *b)) == NULL)
            return NULL;
        __atomic_add_fetch(&h->refs, 1, __ATOMIC_RELAXED);
    }
    block_init(b, h);
    return &b->r;
}

void myr__loop_results_end(myr_loop *loop)
{
    myr__rhome *h = loop->rhome;
    if (h == NULL)
        return;
    loop->rhome = NULL;
    h->live = 0;
    while (h->free != NULL) {
        result_block *b = h->free;
        h->free = (result_block *)(void *)b->r.next;
        myr__free(b);
        h->refs--;   /* the loop's thread; results out elsewhere still count */
    }
    rhome_unref(h);
}

/* Room for n bytes (8-aligned) in the arena; pointers handed out never move. */
static char *arena_alloc(myr_result *r, size_t n)
{
    myr__chunk *c = r->chunks;
    size_t at = (c->used + 7) & ~(size_t)7;
    if (at > c->cap || c->cap - at < n) {
        size_t cap = c->cap < MYR__CHUNK_MAX ? c->cap * 4 : c->cap;
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
        at = 0;
    }
    c->used = at + n;
    return c->data + at;
}

static int result_set_ok(myr_result *r, const myr__ok *ok)
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

/* ------------------------------------------------------------------ sink */

static myr_result *append_result(myr__results *rs)
{
    myr_result *r = result_for(rs->conn);
    if (r == NULL)
        return NULL;
    r->set_index = rs->tail ? rs->tail->set_index + 1 : 0;
    if (rs->tail)
        rs->tail->next = r;
    else
        rs->head = r;
    rs->tail = r;
    return r;
}

static int sink_ok(void *ctx, const myr__ok *ok)
{
    myr_result *r = append_result(ctx);
    return r == NULL ? MYR_ENOMEM : result_set_ok(r, ok);
}

static int sink_columns(void *ctx, uint64_t ncols)
{
    if (ncols == 0 || ncols > 4096)   /* the server limit is 4096 columns */
        return MYR_EMALFORMED;
    myr__results *rs = ctx;
    myr_result *r = append_result(rs);
    if (r == NULL)
        return MYR_ENOMEM;
    r->ncols = (size_t)ncols;
    myr__coldefs *last = rs->conn ? rs->conn->coldefs : NULL;
    if (last != NULL && last->ncols == ncols)
        r->cand = last;   /* compared as they come; nothing kept yet */
    else if ((r->build = myr__coldefs_new((size_t)ncols)) == NULL)
        return MYR_ENOMEM;
    return 0;
}

/* Definition i. While every one matches the connection's last set, nothing
 * is copied or parsed and the result shares that set at the end; from the
 * first that differs a new set is built (the matching ones copied over),
 * parsed once complete, and becomes the connection's last. */
static int sink_column(void *ctx, size_t i, const uint8_t *p, size_t len)
{
    myr__results *rs = ctx;
    myr_result *r = rs->tail;
    if (r == NULL || i >= r->ncols || r->defs != NULL)
        return MYR_EMALFORMED;
    int last = i + 1 == r->ncols;
    if (r->cand != NULL) {
        if (myr__coldefs_same(r->cand, i, p, len)) {
            if (last) {
                r->defs = r->cand;
                r->cand = NULL;
                myr__coldefs_ref(r->defs);
                r->cols = r->defs->cols;
            }
            return 0;
        }
        if ((r->build = myr__coldefs_new(r->ncols)) == NULL)
            return MYR_ENOMEM;
        int rc = myr__coldefs_add_from(r->build, r->cand, i);
        r->cand = NULL;
        if (rc != 0)
            return rc;
    }
    if (r->build == NULL || r->build->nadded != i)
        return MYR_EMALFORMED;
    if (myr__coldefs_add(r->build, p, len) != 0)
        return MYR_ENOMEM;
    if (!last)
        return 0;
    if (myr__coldefs_finish(r->build) != 0)
        return MYR_EMALFORMED;   /* freed with the result */
    r->defs = r->build;
    r->build = NULL;
    r->cols = r->defs->cols;
    if (rs->conn != NULL) {
        myr__coldefs_unref(rs->conn->coldefs);
        rs->conn->coldefs = r->defs;
        myr__coldefs_ref(r->defs);
    }
    return 0;
}

/* Room for one more row of cells. 0 or MYR_ENOMEM. */
static int grow_cells(myr_result *r)
{
    if (r->nrows == r->rows_cap) {
        /* The first rows' cells come from the arena (no malloc for a short
         * result); past them the array moves to the heap and doubles. */
        size_t cap = r->rows_cap ? r->rows_cap * 2 : 4;
        if (cap > (size_t)-1 / sizeof(myr__field) / r->ncols)
            return MYR_ENOMEM;
        size_t bytes = cap * r->ncols * sizeof(myr__field);
        myr__field *cells;
        if (r->rows_cap == 0) {
            cells = (myr__field *)(void *)arena_alloc(r, bytes);
            r->cells_in_arena = 1;
        } else if (r->cells_in_arena) {
            if ((cells = myr__malloc(bytes)) != NULL) {
                memcpy(cells, r->cells, r->nrows * r->ncols * sizeof(myr__field));
                r->cells_in_arena = 0;
            }
        } else {
            cells = myr__realloc(r->cells, bytes);
        }
        if (cells == NULL)
            return MYR_ENOMEM;
        r->cells = cells;
        r->rows_cap = cap;
    }
    return 0;
}

/* The next row's cells and room for its copy: the codec copies the row
 * there and parses the copy straight into the cells. */
static myr__field *sink_row_slots(void *ctx, size_t len, uint8_t **copy)
{
    myr_result *r = ((myr__results *)ctx)->tail;
    if (r->nrows == r->rows_cap && grow_cells(r) != 0)
        return NULL;
    myr__chunk *c = r->chunks;
    if (len < c->cap - c->used) {   /* len + 1 bytes fit: no alignment for a row */
        *copy = (uint8_t *)c->data + c->used;
        c->used += len + 1;
    } else if (len == SIZE_MAX || (*copy = (uint8_t *)arena_alloc(r, len + 1)) == NULL) {
        return NULL;
    }
    return r->cells + r->nrows * r->ncols;
}

/* The row is in the cells (pointing into the arena's copy). */
static int sink_row(void *ctx, myr__field *f, const uint8_t *p, size_t len)
{
    (void)f;
    (void)p;
    (void)len;
    ((myr__results *)ctx)->tail->nrows++;
    return 0;
}

/* Binary rows: the codec cuts the row into raw values in the next row's
 * cells; bin_row replaces each with its text form in the arena (what the
 * text protocol would have sent, NUL-terminated), keeping a FLOAT's or
 * DOUBLE's raw bytes after the NUL for myr_result_double. */
static myr__field *sink_bin_slots(void *ctx, const myr_column **cols)
{
    myr_result *r = ((myr__results *)ctx)->tail;
    if (grow_cells(r) != 0)
        return NULL;
    *cols = r->cols;
    return r->cells + r->nrows * r->ncols;
}

/* n bytes of the arena, unaligned (values). */
static char *arena_bytes(myr_result *r, size_t n)
{
    myr__chunk *c = r->chunks;
    if (c->cap - c->used >= n) {
        char *p = c->data + c->used;
        c->used += n;
        return p;
    }
    return arena_alloc(r, n);
}

static int sink_bin_row(void *ctx, myr__field *f, const uint8_t *p, size_t len)
{
    (void)p;
    (void)len;
    myr_result *r = ((myr__results *)ctx)->tail;
    r->binary = 1;
    for (size_t i = 0; i < r->ncols; i++) {
        if (f[i].ptr == NULL)
            continue;
        const myr_column *col = &r->cols[i];
        char *d;
        if (myr__bin_is_bytes(col->type)) {
            if (f[i].len == SIZE_MAX || (d = arena_bytes(r, f[i].len + 1)) == NULL)
                return MYR_ENOMEM;
            memcpy(d, f[i].ptr, f[i].len);
            d[f[i].len] = '\0';
        } else {
            char text[MYR__BIN_TEXT_MAX];
            size_t n = myr__bin_text(col, f[i].ptr, f[i].len, text);
            size_t raw = col->type == MYR_TYPE_FLOAT || col->type == MYR_TYPE_DOUBLE ? f[i].len : 0;
            if ((d = arena_bytes(r, n + 1 + raw)) == NULL)
                return MYR_ENOMEM;
            memcpy(d, text, n);
            d[n] = '\0';
            memcpy(d + n + 1, f[i].ptr, raw);
            f[i].len = n;
        }
        f[i].ptr = (const uint8_t *)d;
    }
    r->nrows++;
    return 0;
}

static int sink_end(void *ctx, const myr__ok *ok)
{
    return result_set_ok(((myr__results *)ctx)->tail, ok);
}

const myr__sink myr__results_sink = {
    .ok = sink_ok,
    .columns = sink_columns,
    .column = sink_column,
    .row_slots = sink_row_slots,
    .row = sink_row,
    .end = sink_end,
    .bin_slots = sink_bin_slots,
    .bin_row = sink_bin_row,
};

/* ------------------------------------------------------- marks (streams) */

void myr__result_mark(const myr_result *r, myr__rmark *m)
{
    m->chunk = r->chunks;
    m->used = r->chunks->used;
}

void myr__result_rewind(myr_result *r, const myr__rmark *m)
{
    myr__chunk *mark = m->chunk;
    /* The newest chunk is kept for the next rows (one malloc per batch
     * would otherwise come back every time), unless it is oversized (one
     * huge row); the others go. */
    myr__chunk *keep = NULL;
    myr__chunk *c = r->chunks;
    if (c != mark && c->cap <= MYR__CHUNK_MAX) {
        keep = c;
        c = c->next;
    }
    while (c != mark) {
        myr__chunk *n = c->next;
        myr__free(c);
        c = n;
    }
    mark->used = m->used;
    if (keep != NULL) {
        keep->used = 0;
        keep->next = mark;
        r->chunks = keep;
    } else {
        r->chunks = mark;
    }
    if (r->cells_in_arena) {   /* they were allocated after the mark */
        r->cells = NULL;
        r->rows_cap = 0;
        r->cells_in_arena = 0;
    }
    r->nrows = 0;
}

void myr__results_clear(myr__results *rs)
{
    myr_result_free(rs->head);
    rs->head = rs->tail = NULL;
}

void myr_result_free(myr_result *r)
{
    while (r != NULL) {
        myr_result *next = r->next;
        result_block *b = (result_block *)r;
        for (myr__chunk *c = r->chunks, *n; c != &b->first; c = n) {
            n = c->next;
            myr__free(c);
        }
        if (!r->cells_in_arena)
            myr__free(r->cells);
        myr__free(r->info);
        myr__coldefs_unref(r->defs);
        myr__coldefs_unref(r->build);
        myr__rhome *h = r->home;
        if (h != NULL && h->owner == thread_self() && h->live && h->n < MYR__RESULTS_KEEP) {
            r->next = (myr_result *)(void *)h->free;   /* back to its loop */
            h->free = b;
            h->n++;
        } else {
            myr__free(b);
            if (h != NULL)
                rhome_unref(h);
        }
        r = next;
    }
}

myr_result *myr_result_next(const myr_result *r) { return r ? r->next : NULL; }
size_t myr_result_column_count(const myr_result *r) { return r ? r->ncols : 0; }
const myr_column *myr_result_column(const myr_result *r, size_t col)
{
    return r && r->cols && col < r->ncols ? &r->cols[col] : NULL;
}
size_t myr_result_row_count(const myr_result *r) { return r ? r->nrows : 0; }
size_t myr_result_set_index(const myr_result *r) { return r ? r->set_index : 0; }

const char *myr_result_value(const myr_result *r, size_t row, size_t col, size_t *len)
{
    if (__builtin_expect(r == NULL || row >= r->nrows || col >= r->ncols, 0)) {
        if (len)
            *len = 0;
        return NULL;
    }
    const myr__field *c = &r->cells[row * r->ncols + col];
    if (len)
        *len = c->len;
    return (const char *)c->ptr;
}

uint64_t myr_result_affected_rows(const myr_result *r) { return r ? r->affected_rows : 0; }
uint64_t myr_result_insert_id(const myr_result *r) { return r ? r->insert_id : 0; }
unsigned myr_result_warnings(const myr_result *r) { return r ? r->warnings : 0; }
unsigned myr_result_status(const myr_result *r) { return r ? r->status : 0; }
const char *myr_result_info(const myr_result *r) { return r && r->info ? r->info : ""; }
