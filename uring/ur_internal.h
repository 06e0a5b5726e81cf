/*
 * uring/ur_internal.h -- what the engine's files share: the loop struct, the
 * op slot table, the allocator hooks. Not for users of ur.h (tests may use
 * it to reach ur__dispatch()).
 */
#ifndef MYR_UR_INTERNAL_H
#define MYR_UR_INTERNAL_H

#include <liburing.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "ur.h"

/* user_data 0 is never a slot's (generations start at 1): it marks the
 * engine's own cancel requests, whose CQEs dispatch ignores. */
#define UR_UDATA_INTERNAL 0ULL

/* Slots live in fixed-size chunks that never move once allocated, because a
 * queued connect SQE points at the sockaddr stored in its slot until it is
 * submitted; only the array of chunk pointers is reallocated. */
#define UR_CHUNK_SHIFT 6u
#define UR_CHUNK_SLOTS (1u << UR_CHUNK_SHIFT)
#define UR_NO_SLOT UINT32_MAX

typedef struct ur_slot {
    ur_owner *owner;        /* NULL when free */
    uint32_t tag;
    uint32_t gen;           /* bumped on every free; never 0 */
    uint32_t next_free;     /* freelist link (index) when free */
    bool cancel_sent;       /* a cancel for this op has been queued */
    struct sockaddr_storage addr;  /* ur_connect's copy of the address */
} ur_slot;

struct ur_loop {
    struct io_uring ring;
    unsigned setup_flags;
    int evfd;               /* -1 until ur_loop_eventfd() */
    uint64_t submits;       /* io_uring_enter calls that submitted SQEs */

    ur_slot **chunks;       /* nchunks chunks of UR_CHUNK_SLOTS slots */
    uint32_t nchunks;
    uint32_t free_head;     /* UR_NO_SLOT when no free slot */
    uint32_t used;          /* slots holding an op the kernel may touch */

    ur_timer **heap;        /* min-heap on deadline_ns */
    size_t nheap, heap_cap;
};

/* Allocation through ur_set_allocator()'s hooks. */
void *ur__malloc(size_t n);
void *ur__realloc(void *p, size_t n);
void ur__free(void *p);

/* Slot table (slots.c). */
static inline ur_slot *ur__slot(const ur_loop *l, uint32_t idx)
{
    return &l->chunks[idx >> UR_CHUNK_SHIFT][idx & (UR_CHUNK_SLOTS - 1)];
}
static inline uint64_t ur__udata(const ur_loop *l, uint32_t idx)
{
    return (uint64_t)ur__slot(l, idx)->gen << 32 | idx;
}
/* Take a free slot for owner/tag; UR_NO_SLOT on ENOMEM. */
uint32_t ur__slot_get(ur_loop *l, ur_owner *o, uint32_t tag);
/* Give back a slot that was taken but never queued. */
void ur__slot_put(ur_loop *l, uint32_t idx);
/* The live slot user_data names, or NULL when it is stale/unknown. */
ur_slot *ur__slot_lookup(const ur_loop *l, uint64_t user_data);
void ur__slots_free(ur_loop *l);
/* Deliver one CQE: generation check, owner callback, inflight accounting,
 * on_release. Returns 1 when an owner was called back, else 0. */
int ur__dispatch(ur_loop *l, uint64_t user_data, int res, uint32_t flags);

/* Setup flags ur_loop_new() may try, ANDed with its wish list (default all):
 * tests clear bits to run the same checks on the fallback configurations. */
extern unsigned ur__setup_mask;

/* An SQE, flushing the SQ when it is full (loop.c); NULL + *err on failure. */
struct io_uring_sqe *ur__get_sqe(ur_loop *l, int *err);
/* Queue a cancel of the op in slot s (no-op if one was already sent). */
int ur__cancel_slot(ur_loop *l, uint32_t idx);

/* Timers (timer.c). */
uint64_t ur__timer_next(const ur_loop *l);  /* UINT64_MAX when none */
int ur__timers_run(ur_loop *l);             /* runs expired ones; count */

#endif
