/*
 * uring/ur_internal.h -- what the engine's files share: the loop struct, the
 * op slot table with its per-owner lists, the thread/fork check, the
 * allocator hooks. Not for users of ur.h (tests may use it to reach
 * ur__dispatch() and the loop's fields).
 */
#ifndef MYR_UR_INTERNAL_H
#define MYR_UR_INTERNAL_H

#include <liburing.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ur.h"

/* A slot's user_data is gen << 32 | index with gen >= 1, so values below
 * 1 << 32 are free for the engine's own requests, whose CQEs never reach an
 * owner. UR_UDATA_INTERNAL marks requests whose CQE is of no interest
 * (cancels, timeout updates); UR_UDATA_DEADLINE is the external mode's
 * kernel timeout (timer.c), whose CQE tells the engine it is gone. */
#define UR_UDATA_INTERNAL 0ULL
#define UR_UDATA_DEADLINE 1ULL

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
    /* Free: next is the freelist link. In use: next/prev chain the owner's
     * live slots (head in ur_owner.ops), so releasing an owner cancels its
     * ops without walking the table. UR_NO_SLOT ends both lists. */
    uint32_t next;
    uint32_t prev;
    bool cancel_sent;       /* a cancel for this op has been queued */
    bool quiet;             /* ur_send_quiet: posts no CQE on success */
    uint32_t qlen;          /* a quiet send's length: its result when it succeeds */
    /* ur_connect's copy of the address (allocated: a slot of every op
     * carrying 128 bytes for the rare connect cost 128 bytes per idle
     * connection's receive), freed with the slot. */
    struct sockaddr_storage *addr;
} ur_slot;

struct ur_loop {
    struct io_uring ring;
    unsigned setup_flags;
    int evfd;               /* -1 until ur_loop_eventfd(); >= 0: external mode */
    uint64_t submits;       /* io_uring_enter calls that submitted SQEs */
    unsigned min_wait_us;   /* batched waits (enter.c): 0 = off or unsupported */
    unsigned expect;        /* completions the caller expects (ur_loop_expect) */
    uint64_t batched_waits; /* waits that asked for more than one completion */

    /* Which thread may use the loop (thread.c): owner is 0 until the first
     * tick/flush binds the calling thread (ur__thread_self() of it);
     * fork_gen is ur__fork_gen as it was when the loop was created. */
    _Atomic uintptr_t owner;
    unsigned fork_gen;
    bool freeing;           /* in ur_loop_free: an unbound loop stays unbound */

    /* External mode: one kernel timeout (UR_UDATA_DEADLINE) armed at or
     * before the nearest timer deadline, so the eventfd wakes for it. */
    bool kt_live;           /* queued or in the kernel; its CQE not yet seen */
    uint64_t kt_ns;         /* its deadline (CLOCK_MONOTONIC), when kt_live */
    struct __kernel_timespec kt_ts;  /* read by the kernel at submit time */

    ur_slot **chunks;       /* nchunks chunks of UR_CHUNK_SLOTS slots */
    uint32_t nchunks;
    uint32_t free_head;     /* UR_NO_SLOT when no free slot */
    uint32_t used;          /* slots holding an op the kernel may touch */
    uint32_t quiet;         /* of those, quiet sends (no CQE comes when they succeed) */
    /* Quiet sends by user_data, oldest first: [0, nqsub) were submitted
     * (so they are over: MSG_DONTWAIT, see ur_send_quiet), [nqsub, nq) are
     * still in the SQ. reap() reports the submitted ones that posted no
     * failure as successes. */
    uint64_t *qops;
    uint32_t nq, nqsub, capq;

    ur_bufring *bufrings;   /* provided-buffer rings (bufring.c), freed with the loop */

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
/* Take a free slot for owner/tag and put it on the owner's list;
 * UR_NO_SLOT on ENOMEM. */
uint32_t ur__slot_get(ur_loop *l, ur_owner *o, uint32_t tag);
/* Give back a slot (taken but never queued, or its final CQE came): off its
 * owner's list, new generation, onto the freelist. */
void ur__slot_put(ur_loop *l, uint32_t idx);
/* The live slot user_data names, or NULL when it is stale/unknown. */
ur_slot *ur__slot_lookup(const ur_loop *l, uint64_t user_data);
void ur__slots_free(ur_loop *l);
/* Deliver one CQE: generation check, owner callback, inflight accounting,
 * on_release. Returns 1 when an owner was called back, else 0. */
int ur__dispatch(ur_loop *l, uint64_t user_data, int res, uint32_t flags);

/* Ops (ops.c): take a slot and an SQE for an op of o (on failure nothing
 * is held; the thread check comes first), then, once the SQE is prepared,
 * name it and count it. */
struct io_uring_sqe *ur__op_begin(ur_owner *o, uint32_t tag, uint32_t *idx, int *err);
int ur__op_commit(ur_owner *o, uint32_t idx, struct io_uring_sqe *sqe, uint64_t *id);
/* Unmap the loop's buffer rings (after the ring is gone). */
void ur__bufrings_free(ur_loop *l);

/* Setup flags ur_loop_new() may try, ANDed with its wish list (default all):
 * tests clear bits to run the same checks on the fallback configurations. */
extern unsigned ur__setup_mask;

/* IORING_FEAT_* bits ur_loop_new() may use, ANDed with what the kernel
 * reports (default all): tests clear IORING_FEAT_MIN_TIMEOUT to run the
 * batched-wait fallback on a kernel that has it. */
extern unsigned ur__feature_mask;
#ifndef IORING_FEAT_MIN_TIMEOUT
#define IORING_FEAT_MIN_TIMEOUT (1U << 15)   /* Linux 6.12; newer than liburing 2.3 */
#endif

/* The tick's submit-and-wait (enter.c): submits what is queued, waits up to
 * timeout_ns (< 0: without limit; never 0) for one completion, or for
 * l->expect of them within l->min_wait_us (batched waits). Returns >= 0 or
 * -errno; the timeout, EINTR, EAGAIN, EBUSY are 0. */
int ur__submit_and_wait(ur_loop *l, int64_t timeout_ns);

/* The submission queue (sq.c). Submit what is queued, if anything (a
 * syscall only then), and count it: 0 or -errno. */
int ur__submit(ur_loop *l);
/* An SQE, flushing the SQ when it is full; NULL + *err on failure. */
struct io_uring_sqe *ur__get_sqe(ur_loop *l, int *err);
/* Mark sqe as one of the engine's requests whose result is of no interest.
 * Where the kernel can (IORING_FEAT_CQE_SKIP, 5.17) a success posts no CQE
 * at all: in external mode every CQE signals the eventfd, and a wakeup that
 * finds nothing to do is what a daemon should not pay for a timeout update
 * or a cancel. Failures (-ENOENT, -EALREADY) still post one; it is ignored. */
static inline void ur__sqe_internal(const ur_loop *l, struct io_uring_sqe *sqe)
{
    io_uring_sqe_set_data64(sqe, UR_UDATA_INTERNAL);
    if (l->ring.features & IORING_FEAT_CQE_SKIP)
        sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}
/* After a submit: if the kernel consumed the whole SQ, every quiet send
 * queued so far is over (ur_send_quiet). */
static inline void ur__quiet_submitted(ur_loop *l)
{
    if (l->nq > l->nqsub && io_uring_sq_ready(&l->ring) == 0)
        l->nqsub = l->nq;
}
/* Queue a cancel of the op in slot s (no-op if one was already sent). */
int ur__cancel_slot(ur_loop *l, uint32_t idx);

/* Timers (timer.c). */
uint64_t ur__timer_next(const ur_loop *l);  /* UINT64_MAX when none */
int ur__timers_run(ur_loop *l);             /* runs expired ones; count */
/* External mode: queue an SQE that arms or moves the kernel timeout when
 * the nearest deadline is earlier than the armed one (never otherwise).
 * Returns 0 or the -errno of getting an SQE (the next call tries again). */
int ur__timer_sync_kernel(ur_loop *l);

/* Threads and fork (thread.c). Every entry point that touches the ring or
 * the loop's tables calls ur__loop_usable() (ops, timers, release) or
 * ur__loop_enter() (tick, flush: they may bind the loop to the caller). */
extern unsigned ur__fork_gen;           /* bumped in every fork() child */
/* Its address names the thread. initial-exec: the check runs on every op,
 * and the default model in PIC code calls __tls_get_addr; one byte of
 * static TLS fits glibc's reserve even when the library is dlopen()ed. */
extern _Thread_local char ur__tls_self __attribute__((tls_model("initial-exec")));
static inline uintptr_t ur__thread_self(void) { return (uintptr_t)&ur__tls_self; }
/* Called by ur_loop_new: installs the fork handler (once per process) and
 * records the generation; the loop starts with no owner. */
void ur__thread_init(ur_loop *l);
/* 0, -EXDEV or -ECHILD, as ur_loop_check_thread(); the fast path inline. */
static inline int ur__loop_usable(const ur_loop *l)
{
    uintptr_t o = atomic_load_explicit(&l->owner, memory_order_relaxed);
    if (__builtin_expect(l->fork_gen == ur__fork_gen && o == ur__thread_self(), 1))
        return 0;
    return ur_loop_check_thread(l);
}
/* As ur__loop_usable(), and binds an unowned loop to the calling thread:
 * enables a ring created disabled (it then accepts this thread as its only
 * issuer) and registers the ring fd in this thread's context. -ESHUTDOWN
 * for an unowned loop that ur_loop_free() is freeing. */
int ur__loop_bind(ur_loop *l);
static inline int ur__loop_enter(ur_loop *l)
{
    uintptr_t o = atomic_load_explicit(&l->owner, memory_order_relaxed);
    if (__builtin_expect(l->fork_gen == ur__fork_gen && o == ur__thread_self(), 1))
        return 0;
    return ur__loop_bind(l);
}
/* Before io_uring_queue_exit() from a thread or process other than the one
 * that registered the ring fd: forget the registration, so liburing does not
 * unregister that index in the caller's own context (where it may name one
 * of the caller's own rings). */
void ur__forget_ring_fd(ur_loop *l);

#endif
