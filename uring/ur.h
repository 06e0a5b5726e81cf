/*
 * uring/ur.h -- the generic io_uring engine. Knows nothing of MySQL.
 *
 * One ur_loop owns one io_uring and is used from one thread. Users ("owners")
 * embed a ur_owner in their own struct and queue operations against it; the
 * engine never submits on their behalf outside ur_loop_tick() (or when the SQ
 * is full, in which case it flushes and carries on: nothing is dropped).
 *
 * Each operation gets a slot; its user_data is (generation << 32 | slot), so
 * a CQE that arrives for a slot that has since been reused is recognised and
 * dropped. An owner counts the operations the kernel may still touch
 * (ur_owner.inflight). ur_owner_release() asks for the owner to be released:
 * its on_release() runs only once the last final CQE (no IORING_CQE_F_MORE)
 * of its operations has arrived, so no buffer is freed while the kernel may
 * still write to it. Pending operations of a released owner are canceled.
 *
 * Timers are a min-heap of deadlines per loop (CLOCK_MONOTONIC ns); a tick
 * waits at most until the nearest one and runs the expired ones.
 *
 * Errors: negative errno values (-ENOMEM, -EBUSY, ...), as liburing does.
 */
#ifndef MYR_UR_H
#define MYR_UR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct ur_loop ur_loop;
typedef struct ur_owner ur_owner;
typedef struct ur_timer ur_timer;

/* Completion of one operation: tag is what the owner passed when it queued
 * it; res/flags are the CQE's. Called from ur_loop_tick(). */
typedef void (*ur_complete_fn)(ur_owner *o, uint32_t tag, int res, uint32_t cqe_flags);

struct ur_owner {
    ur_loop *loop;
    ur_complete_fn on_complete;
    /* Called once after ur_owner_release() when inflight reaches 0; may free
     * the struct that embeds the owner. */
    void (*on_release)(ur_owner *o);
    unsigned inflight;      /* ops queued or in the kernel; read-only for users */
    unsigned releasing;     /* set by ur_owner_release(); read-only for users */
};

struct ur_timer {
    uint64_t deadline_ns;   /* CLOCK_MONOTONIC */
    size_t heap_index;      /* engine-private; SIZE_MAX when not armed */
    void (*fn)(ur_timer *t);/* called from ur_loop_tick() when expired */
};

/* Allocation hooks for every allocation the engine makes (NULL = libc's).
 * The library routes myr_set_allocator() here too. */
void ur_set_allocator(void *(*m)(size_t), void *(*r)(void *, size_t), void (*f)(void *));

typedef struct ur_loop_opts {
    unsigned sq_entries;    /* 0 = 256; the CQ is 4x this */
} ur_loop_opts;

/* Create a loop. Returns 0 or -errno; -EPERM/-ENOSYS mean io_uring is not
 * available here (seccomp, kernel.io_uring_disabled, old kernel): *why then
 * points to a static sentence that says so. */
int ur_loop_new(const ur_loop_opts *opts, ur_loop **out, const char **why);
/* Frees the loop. Owners must have been released and drained (or the caller
 * accepts that their on_release runs from here after a final drain). */
void ur_loop_free(ur_loop *loop);

/* One tick: submit every queued SQE and wait up to timeout_ns (-1 = until a
 * completion or the nearest timer, 0 = poll) for completions; then dispatch
 * all CQEs (draining CQ overflow too) and run expired timers. Returns the
 * number of CQEs + timers handled, or -errno. -EINTR is returned as 0. */
int ur_loop_tick(ur_loop *loop, int64_t timeout_ns);
/* Submit queued SQEs now without waiting (rarely needed). */
int ur_loop_flush(ur_loop *loop);
/* An eventfd registered with the ring (created on first call): it becomes
 * readable when completions are posted. Owned by the loop. */
int ur_loop_eventfd(ur_loop *loop);
/* Number of SQEs queued but not yet submitted, and submit syscalls made (for
 * tests and benchmarks). */
unsigned ur_loop_queued(const ur_loop *loop);
uint64_t ur_loop_submits(const ur_loop *loop);
/* The flags the ring was set up with (IORING_SETUP_*), for tests. */
unsigned ur_loop_setup_flags(const ur_loop *loop);

void ur_owner_init(ur_owner *o, ur_loop *loop, ur_complete_fn fn, void (*on_release)(ur_owner *));
/* Ask for release: cancels the owner's pending operations; on_release runs
 * when inflight is 0 (possibly before this returns, if it already is). */
void ur_owner_release(ur_owner *o);

/* Operations. Each returns 0 or -errno (-ENOMEM when no slot could be had);
 * on error nothing was queued and no completion will come. Buffers must stay
 * valid until the completion. res in the completion is the syscall's result
 * (bytes, fd, 0) or -errno. An op id (for ur_cancel) is stored in *id when id
 * is not NULL. */
int ur_socket(ur_owner *o, uint32_t tag, int domain, int type, int protocol, uint64_t *id);
/* addr is copied into the slot: it need not outlive the call. */
int ur_connect(ur_owner *o, uint32_t tag, int fd, const struct sockaddr *addr, socklen_t len, uint64_t *id);
int ur_send(ur_owner *o, uint32_t tag, int fd, const void *buf, size_t len, int msg_flags, uint64_t *id);
int ur_recv(ur_owner *o, uint32_t tag, int fd, void *buf, size_t len, int msg_flags, uint64_t *id);
int ur_read(ur_owner *o, uint32_t tag, int fd, void *buf, size_t len, uint64_t *id);
int ur_close(ur_owner *o, uint32_t tag, int fd, uint64_t *id);
/* Cancel one operation by id; the canceled op completes with -ECANCELED
 * (or its own result if it won the race). The cancel request itself has no
 * completion visible to the owner. Unknown/stale id: -ENOENT. */
int ur_cancel(ur_loop *loop, uint64_t id);

/* Timers (no syscall: the tick's wait honours the nearest deadline). */
uint64_t ur_now_ns(void);
void ur_timer_init(ur_timer *t, void (*fn)(ur_timer *));
int ur_timer_start(ur_loop *loop, ur_timer *t, uint64_t deadline_ns);  /* re-arms if armed */
void ur_timer_stop(ur_loop *loop, ur_timer *t);                        /* no-op if not armed */
static inline int ur_timer_armed(const ur_timer *t) { return t->heap_index != (size_t)-1; }

#endif
