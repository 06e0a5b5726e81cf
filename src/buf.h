/* src/buf.h -- a growable byte buffer with a read position: used for the
 * bytes going out to and coming in from a socket, and by the codec to build
 * packets. Memory through the allocator hooks. */
#ifndef MYR_BUF_H
#define MYR_BUF_H
#include <stddef.h>
#include <stdint.h>

/* The loop's I/O block sizes (myr__loop_buf_take): a pooled block smaller
 * than MYR__IOBUF_SIZE grows straight to it. */
#define MYR__IOBUF_SIZE 4096u
#define MYR__IOBUF_SMALL 512u

typedef struct myr__buf {
    uint8_t *data;
    size_t rpos;   /* first unread byte */
    size_t len;    /* bytes written (data[rpos..len) is unread) */
    size_t cap;
    uint8_t pooled;  /* the memory is a block lent by the loop (see myr__loop_buf_take) */
    uint8_t borrowed; /* a view of memory someone else owns (a receive ring's buffer):
                         never grown, freed or given to the loop */
} myr__buf;

static inline size_t myr__buf_unread(const myr__buf *b) { return b->len - b->rpos; }
static inline uint8_t *myr__buf_rptr(const myr__buf *b) { return b->data + b->rpos; }

void myr__buf_init(myr__buf *b);
void myr__buf_free(myr__buf *b);                 /* back to empty, memory released */
void myr__buf_reset(myr__buf *b);                /* empty, memory kept */
void myr__buf_wipe(myr__buf *b);                 /* zero its bytes, then reset (secrets) */
int myr__buf_reserve(myr__buf *b, size_t extra); /* room for extra more bytes; 0 or MYR_ENOMEM */
int myr__buf_append(myr__buf *b, const void *p, size_t n);
int myr__buf_put_u8(myr__buf *b, uint8_t v);
/* Drop consumed bytes: moves unread bytes to the front (cheap when few). */
void myr__buf_compact(myr__buf *b);
#endif
