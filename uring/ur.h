/*
 * uring/ur.h -- the generic io_uring engine. Knows nothing of MySQL.
 *
 * One ur_loop owns one io_uring and is used from one thread. Users ("owners")
 * embed a ur_owner in their own struct and queue operations against it; the
 * engine never submits on their behalf outside ur_loop_tick() and
 * ur_loop_flush() (or when the SQ is full, in which case it flushes and
 * carries on: nothing is dropped).
 *
 * Each operation gets a slot; its user_data is (generation << 32 | slot), so
 * a CQE that arrives for a slot that has since been reused is recognised and
 * dropped. An owner counts the operations the kernel may still touch
 * (ur_owner.inflight) and the engine chains its live slots, so
 * ur_owner_release() cancels exactly that owner's pending operations without
 * looking at anyone else's; its on_release() runs only once the last final
 * CQE (no IORING_CQE_F_MORE) of its operations has arrived, so no buffer is
 * freed while the kernel may still write to it.
 *
 * Threads. A loop belongs to the first thread that calls ur_loop_tick() or
 * ur_loop_flush() on it (or queues an op that finds the SQ full, which
 * flushes too). Until then any one thread at a time may prepare it
 * (ur_loop_eventfd, queue ops, start timers) and hand it over: e.g. a daemon
 * creates the loop, takes its eventfd, then passes the loop to the thread
 * that runs it (the hand-over itself must be synchronised by the caller:
 * pthread_create, a mutex, a queue). The ring is created disabled and
 * enabled by that first tick, which makes the running thread the ring's
 * single issuer; the owner never changes. Every function taking a loop or an
 * owner checks the calling thread first (ur_loop_check_thread): from another
 * thread, or in a fork() child, those returning int return -EXDEV / -ECHILD
 * and the void ones do nothing, so a wrong-thread call never touches the
 * ring. This is a guard against mistakes, not a way to share a loop: calls
 * racing with the owner thread are still data races. ur_loop_check_thread()
 * itself may be called from any thread.
 *
 * Timers are a min-heap of deadlines per loop (CLOCK_MONOTONIC ns); a tick
 * waits at most until the nearest one and runs the expired ones.
 *
 * External mode. Once ur_loop_eventfd() has been called, the caller's own
 * event loop waits on that fd and calls ur_loop_tick(loop, 0) when it is
 * readable. The engine then keeps one kernel timeout armed no later than
 * the nearest timer deadline, so the fd also wakes when a timer is due.
 * Everything the tick's callbacks queued has been submitted when it returns;
 * work queued outside a tick (ops, timer starts) reaches the kernel at the
 * next ur_loop_flush() or tick: call ur_loop_flush() before waiting on the
 * fd. The kernel timeout is moved only when the nearest deadline gets
 * earlier; when timers stop, the armed one fires once, early, for nothing
 * (one wakeup that finds nothing due, never a spin). The engine's own CQEs
 * are never handed to owners. ur_loop_next_timeout_ns() gives the nearest
 * deadline to callers that prefer to compute their own wait. Where the
 * kernel lacks DEFER_TASKRUN (the fallback configurations) it interrupts the
 * owner thread to post completions, so that thread's epoll_wait may fail
 * with EINTR: retry it.
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
typedef struct ur_bufring ur_bufring;

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
    uint32_t ops;           /* engine-private: first live slot (UINT32_MAX: none) */
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
    /* Batched waits (see ur_loop_expect): how long a tick may wait for
     * more than one completion, in microseconds. 0 = never: a tick's wait
     * ends at the first completion. Needs IORING_FEAT_MIN_TIMEOUT (Linux
     * 6.12); without it the loop behaves as with 0. */
    unsigned min_wait_us;
} ur_loop_opts;

/* Create a loop, owned by no thread yet (see "Threads" above). Returns 0
 * and *out, or -errno; -EPERM/-ENOSYS mean io_uring is not available here
 * (seccomp, kernel.io_uring_disabled, old kernel): *why then points to a
 * static sentence that says so. */
int ur_loop_new(const ur_loop_opts *opts, ur_loop **out, const char **why);
/* Frees the loop; NULL is a no-op. Owners must have been released and
 * drained (or the caller accepts that their on_release runs from here after
 * a final drain: pending ops are canceled and waited for, 2 s at most).
 * Call it from the owner thread, or from any thread if no thread owns the
 * loop yet (nothing was ever submitted then: ops still queued complete with
 * -ECANCELED without reaching the kernel, and a tick or flush from their
 * callbacks returns -ESHUTDOWN instead of binding it). In a fork() child it
 * does not touch the parent's ring: every op still counted completes with
 * -ECANCELED (the parent's kernel requests go on, in the parent), released
 * owners get on_release, and the child's copies of the memory, mappings and
 * descriptors are freed. From a thread other than the owner (a caller bug) it cannot
 * stop the owner's kernel requests: with ops in flight it frees nothing (a
 * leak rather than the kernel writing into freed memory); otherwise it
 * frees the loop, but the ring itself lives on until the owner thread
 * exits (its registered ring fd holds it). */
void ur_loop_free(ur_loop *loop);

/* 0 when the calling thread may use the loop: it owns it, or no thread does
 * yet. -EXDEV when another thread owns it; -ECHILD when called in a child
 * process after fork() (the ring belongs to the parent; checked before
 * -EXDEV). Any thread may call it; no syscall (a fork is noticed through a
 * pthread_atfork handler, so a child made by a raw clone() is not). */
int ur_loop_check_thread(const ur_loop *loop);

/* One tick: submit every queued SQE and wait up to timeout_ns (-1 = until a
 * completion or the nearest timer, 0 = poll) for completions; then dispatch
 * all CQEs (draining CQ overflow too) and run expired timers. The first
 * tick (or flush) binds the loop to the calling thread, with two register
 * syscalls, once: enable the ring, register its fd. Returns the number of
 * CQEs + timers handled (the engine's own CQEs are not counted), or -errno:
 * -EXDEV / -ECHILD as ur_loop_check_thread() (nothing touched). -EINTR is
 * returned as 0. In external mode it ends by submitting what its callbacks
 * queued and the kernel timeout for the nearest deadline; in internal mode
 * it makes no syscall but the one submit-and-wait (none when polling idle). */
int ur_loop_tick(ur_loop *loop, int64_t timeout_ns);
/* Batched waits. n is how many completions the caller expects soon (e.g.
 * the peers with requests in flight), for the next tick only. When n > 1
 * and the loop has a min_wait_us (ur_loop_min_wait_us() > 0), a tick that
 * has to wait waits for up to n completions (capped at UR_WAIT_MAX) for at
 * most min_wait_us; after that it returns as soon as there is one (or at
 * its timeout). A lone expected completion (n <= 1) never waits extra, so
 * a request/response round trip on one peer keeps its latency; with n > 1
 * the first completion may be reported up to min_wait_us late, in return
 * for fewer io_uring_enter calls per completion. A timeout shorter than
 * min_wait_us, and polls, wait as without batching. No syscall. */
#define UR_WAIT_MAX 256u
void ur_loop_expect(ur_loop *loop, unsigned n);
/* The min_wait_us in effect: the option's value, or 0 when the kernel
 * lacks IORING_FEAT_MIN_TIMEOUT. Waits that used it (tests, benchmarks). */
unsigned ur_loop_min_wait_us(const ur_loop *loop);
uint64_t ur_loop_batched_waits(const ur_loop *loop);
/* Submit queued SQEs now without waiting; in external mode also arm the
 * kernel timeout for the nearest deadline first. Binds the loop like a
 * tick. No syscall when there is nothing to submit. Returns 0 or -errno
 * (-EXDEV / -ECHILD as ur_loop_check_thread()). */
int ur_loop_flush(ur_loop *loop);
/* An eventfd registered with the ring (created on first call; owned by the
 * loop, closed by ur_loop_free). It becomes readable when completions are
 * posted and, once it exists, when a timer is due (the loop switches to
 * external mode). May be called before the loop is handed to its thread.
 * Returns the fd or -errno (-EXDEV / -ECHILD as ur_loop_check_thread()). */
int ur_loop_eventfd(ur_loop *loop);
/* Nanoseconds until the nearest timer deadline: 0 if it has passed, -1 if
 * no timer is armed. No syscall (clock_gettime is a vDSO call). Call it
 * from the thread that may use the loop. */
int64_t ur_loop_next_timeout_ns(const ur_loop *loop);
/* Number of SQEs queued but not yet submitted, and submit syscalls made (for
 * tests and benchmarks). */
unsigned ur_loop_queued(const ur_loop *loop);
uint64_t ur_loop_submits(const ur_loop *loop);
/* The flags the ring was set up with (IORING_SETUP_*), for tests. */
unsigned ur_loop_setup_flags(const ur_loop *loop);

/* Initialise an owner of loop (every owner must go through this). fn gets
 * each completion; on_release may be NULL. No syscall, no thread check. */
void ur_owner_init(ur_owner *o, ur_loop *loop, ur_complete_fn fn, void (*on_release)(ur_owner *));
/* Ask for release: cancels the owner's pending operations (only those: the
 * cost is its own op count, not the loop's); on_release runs when inflight
 * is 0 (possibly before this returns, if it already is). Twice is a no-op;
 * so is a call from a thread other than the loop's owner. In a fork() child
 * the owner is marked without touching the ring: its ops complete (with
 * -ECANCELED) and on_release runs in ur_loop_free(). */
void ur_owner_release(ur_owner *o);

/* Operations. Each returns 0 or -errno: -ENOMEM when no slot could be had,
 * -EXDEV / -ECHILD from a thread that may not use the loop; on error
 * nothing was queued and no completion will come. An op that finds the SQ
 * full flushes it, and before the loop's first tick that binds the loop to
 * the calling thread as a flush would (so prepare at most sq_entries SQEs
 * on a thread that hands the loop over). Buffers must stay valid until the completion. res in the completion
 * is the syscall's result (bytes, fd, 0) or -errno. An op id (for
 * ur_cancel) is stored in *id when id is not NULL. */
int ur_socket(ur_owner *o, uint32_t tag, int domain, int type, int protocol, uint64_t *id);
/* addr is copied into the slot: it need not outlive the call. */
int ur_connect(ur_owner *o, uint32_t tag, int fd, const struct sockaddr *addr, socklen_t len, uint64_t *id);
int ur_send(ur_owner *o, uint32_t tag, int fd, const void *buf, size_t len, int msg_flags, uint64_t *id);
/* A send that does not wake the loop: the kernel tries it once, when the
 * SQE is submitted (MSG_DONTWAIT | MSG_WAITALL are added), and posts a CQE
 * only if it failed (IOSQE_CQE_SKIP_SUCCESS); the engine then reports the
 * success itself, res = len, in the same tick after the completions that
 * did come. A request/response round trip thus costs one io_uring_enter:
 * the send's success does not end the wait for the response. But nothing
 * wakes the loop for it: use it only when some other completion (the
 * answer) will come, or a timer is armed. Failures
 * complete as usual, including -EAGAIN (no room in the socket buffer:
 * nothing was sent) and a partial count (part was sent): the owner then
 * sends the rest with ur_send, which waits for room. Where the kernel
 * cannot skip CQEs (before 5.17), in external mode (ur_loop_eventfd), or
 * for len 0 or over INT32_MAX it is an ordinary ur_send with MSG_WAITALL. */
int ur_send_quiet(ur_owner *o, uint32_t tag, int fd, const void *buf, size_t len, int msg_flags,
                  uint64_t *id);
int ur_recv(ur_owner *o, uint32_t tag, int fd, void *buf, size_t len, int msg_flags, uint64_t *id);
/* A completion with this flag (IORING_CQE_F_MORE) is not its op's last. */
#define UR_CQE_MORE 2u

/* Provided buffers. A buffer ring of loop: nbufs buffers (a power of two,
 * at most 32768) of size bytes each, group id bgid (unique per loop),
 * registered with the kernel (5.19+; -EINVAL or -ENOENT before) and freed
 * by ur_loop_free. 0 and *out, or -errno. Receives armed with
 * ur_recv_ring take a buffer only when bytes arrive, so a quiet socket
 * holds none; a completion with data carries its buffer
 * (ur_bufring_get), which the owner gives back (ur_bufring_put) as soon as
 * it has taken what it needs from it: an owner that keeps buffers starves
 * every receive of the loop. flags UR_BUFRING_INC: where the kernel can
 * (6.12+; ur_bufring_inc says), a receive uses only the part of a buffer
 * its bytes need and the next goes on in the same buffer (small answers
 * share pages); the owner must then give back every completion's buffer,
 * in completion order, before using the next completion's bytes. */
#define UR_BUFRING_INC 1u
int ur_bufring_new(ur_loop *loop, uint16_t bgid, unsigned nbufs, unsigned size, unsigned flags,
                   ur_bufring **out);
int ur_bufring_inc(const ur_bufring *br);
/* Where the bytes of a completion are (the first res), its buffer's id in
 * *bid; NULL when the completion carries none (errors, end of stream). */
uint8_t *ur_bufring_get(const ur_bufring *br, uint32_t cqe_flags, unsigned *bid);
/* The completion's bytes (cqe_flags, res: the completion's) are used: its
 * buffer goes back to the ring, or on (incremental) with what is left. */
void ur_bufring_put(ur_bufring *br, unsigned bid, uint32_t cqe_flags, int res);
unsigned ur_bufring_size(const ur_bufring *br);
/* A receive into a buffer of br. multishot: it stays armed, one completion
 * per buffer filled (IORING_CQE_F_MORE set while it goes on); it ends with
 * a completion without F_MORE: the end of the stream (res 0), an error,
 * -ENOBUFS when data came and the ring was empty (nothing is lost: arm
 * again once buffers are back), -ECANCELED, or sometimes for no reason the
 * owner needs to know (arm again). Otherwise one completion. */
int ur_recv_ring(ur_owner *o, uint32_t tag, int fd, ur_bufring *br, int multishot, uint64_t *id);
int ur_read(ur_owner *o, uint32_t tag, int fd, void *buf, size_t len, uint64_t *id);
int ur_close(ur_owner *o, uint32_t tag, int fd, uint64_t *id);
/* Cancel one operation by id; the canceled op completes with -ECANCELED
 * (or its own result if it won the race). The cancel request itself has no
 * completion visible to the owner. Unknown/stale id: -ENOENT; -EXDEV /
 * -ECHILD from a thread that may not use the loop. */
int ur_cancel(ur_loop *loop, uint64_t id);

/* Timers. No syscall: the tick's wait honours the nearest deadline; in
 * external mode the next flush or tick moves the kernel timeout when the
 * nearest deadline got earlier (once per flush, however many timers
 * started). ur_now_ns() is CLOCK_MONOTONIC, the clock of deadlines and of
 * the kernel timeout. ur_timer_start re-arms an armed timer and returns 0,
 * -EINVAL, -ENOMEM or -EXDEV / -ECHILD; ur_timer_stop is a no-op if the
 * timer is not armed or when called from a thread other than the owner (in
 * a fork child it does disarm, so the child may free the timer). */
uint64_t ur_now_ns(void);
void ur_timer_init(ur_timer *t, void (*fn)(ur_timer *));
int ur_timer_start(ur_loop *loop, ur_timer *t, uint64_t deadline_ns);
void ur_timer_stop(ur_loop *loop, ur_timer *t);
static inline int ur_timer_armed(const ur_timer *t) { return t->heap_index != (size_t)-1; }

#endif
