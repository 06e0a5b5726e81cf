/* src/buf.c -- growable byte buffer (see buf.h). */
#include "buf.h"

#include <string.h>

#include "alloc.h"
#include "myring.h"

void myr__buf_init(myr__buf *b) { memset(b, 0, sizeof *b); }

void myr__buf_free(myr__buf *b)
{
    if (!b->borrowed)
        myr__free(b->data);
    memset(b, 0, sizeof *b);
}

void myr__buf_reset(myr__buf *b) { b->rpos = b->len = 0; }

void myr__buf_wipe(myr__buf *b)
{
    if (b->data != NULL)
        explicit_bzero(b->data, b->len);
    myr__buf_reset(b);
}

int myr__buf_reserve(myr__buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    if (b->borrowed)
        return MYR_ENOMEM;   /* not ours to grow */
    if (b->rpos > 0 && b->cap - (b->len - b->rpos) >= extra) {
        myr__buf_compact(b);
        return 0;
    }
    size_t need = b->len + extra;
    if (need < extra)
        return MYR_ENOMEM;
    size_t cap = b->cap ? b->cap : 256;
    if (b->pooled && need <= MYR__IOBUF_SIZE)
        cap = MYR__IOBUF_SIZE;   /* a small block becomes a standard one (reused by the loop) */
    while (cap < need) {
        if (cap > (size_t)-1 / 2)
            return MYR_ENOMEM;
        cap *= 2;
    }
    uint8_t *d = myr__realloc(b->data, cap);
    if (d == NULL)
        return MYR_ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

int myr__buf_append(myr__buf *b, const void *p, size_t n)
{
    int rc = myr__buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int myr__buf_put_u8(myr__buf *b, uint8_t v) { return myr__buf_append(b, &v, 1); }

void myr__buf_compact(myr__buf *b)
{
    if (b->rpos == 0)
        return;
    size_t n = b->len - b->rpos;
    if (n)
        memmove(b->data, b->data + b->rpos, n);
    b->rpos = 0;
    b->len = n;
}
