/*
 * uring/thread.c -- which thread may use a loop, and fork detection: the
 * loop's owner (bound by its first tick or flush), ur_loop_check_thread(),
 * the pthread_atfork generation, and enabling a ring created disabled.
 *
 * Why a loop is bound lazily, from what the target kernel (6.18, liburing
 * 2.3) does when a ring is touched by a task other than the one that set it
 * up (measured with SINGLE_ISSUER|DEFER_TASKRUN, NOP submissions):
 *  - io_uring_enter from a non-owner task: -EEXIST (submit, and GETEVENTS
 *    under DEFER_TASKRUN; with SINGLE_ISSUER alone GETEVENTS is allowed, a
 *    submit is not). io_uring_register from a non-owner task: -EEXIST for
 *    every opcode tried (RING_FDS, EVENTFD, ENABLE_RINGS, UNREGISTER_EVENTFD).
 *  - A registered ring fd is an index in the registering task's io_uring
 *    context, and liburing keeps that index in struct io_uring for everyone:
 *    a thread with no io_uring context that enters with it gets -EINVAL,
 *    one with a context gets -EBADF. So a loop created (and its ring fd
 *    registered) on thread A and ticked only on thread B failed with -EINVAL
 *    (the -22 myr_await reported), and so does any tick in a fork() child
 *    (a child starts with no io_uring context).
 *  - With IORING_SETUP_R_DISABLED the ring has no owner until
 *    IORING_REGISTER_ENABLE_RINGS: the enabling task becomes the single
 *    issuer. io_uring_register_eventfd works on the disabled ring (from the
 *    creating thread) and the eventfd is signalled for completions after
 *    another thread enabled it. io_uring_enter on a disabled ring: -EBADFD.
 *    liburing 2.3 declares io_uring_enable_rings() but its shared library
 *    does not export it (missing from its liburing.map): we make the
 *    register syscall ourselves.
 *  - Without SINGLE_ISSUER (old kernels, or the fallback configurations)
 *    any task may submit: after a fork the child could write SQEs into the
 *    ring it shares with the parent. Hence the check in user space for
 *    every configuration, not only where the kernel would refuse.
 * So ur_loop_new() creates the ring disabled, registers nothing, and the
 * first tick/flush enables it and registers the ring fd on its own thread.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ur_internal.h"

unsigned ur__fork_gen;
_Thread_local char ur__tls_self __attribute__((tls_model("initial-exec")));

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Runs in the child, where only the forking thread exists: no race with
 * readers. Loops record the generation they were made in, so every loop
 * inherited from the parent now fails the check (a getpid() per call would
 * be a syscall on every tick). */
static void on_fork_child(void)
{
    ur__fork_gen++;
}

static void install_atfork(void)
{
    /* Fails only with ENOMEM; fork detection is then lost, nothing else. */
    (void)pthread_atfork(NULL, NULL, on_fork_child);
}

void ur__thread_init(ur_loop *l)
{
    (void)pthread_once(&atfork_once, install_atfork);
    l->fork_gen = ur__fork_gen;
    atomic_init(&l->owner, 0);
}

int ur_loop_check_thread(const ur_loop *l)
{
    if (l == NULL)
        return -EINVAL;
    if (l->fork_gen != ur__fork_gen)
        return -ECHILD;
    uintptr_t o = atomic_load_explicit(&l->owner, memory_order_acquire);
    return o == 0 || o == ur__thread_self() ? 0 : -EXDEV;
}

static int enable_rings(ur_loop *l)
{
    long r = syscall(__NR_io_uring_register, l->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
    return r < 0 ? -errno : 0;
}

int ur__loop_bind(ur_loop *l)
{
    int r = ur_loop_check_thread(l);
    if (r < 0)
        return r;
    uintptr_t me = ur__thread_self(), none = 0;
    if (atomic_load_explicit(&l->owner, memory_order_relaxed) == me)
        return 0;
    if (l->freeing)
        return -ESHUTDOWN;   /* see cancel_in_user_space() in loop.c */
    /* Two threads racing for an unowned loop is a caller bug (the hand-over
     * must be synchronised); the CAS still lets exactly one of them in. */
    if (!atomic_compare_exchange_strong_explicit(&l->owner, &none, me, memory_order_acq_rel,
                                                 memory_order_acquire))
        return -EXDEV;
    if (l->setup_flags & IORING_SETUP_R_DISABLED) {
        r = enable_rings(l);
        if (r < 0) {
            atomic_store_explicit(&l->owner, 0, memory_order_release);
            return r;
        }
    }
    /* Saves an fget/fput per io_uring_enter. Registered in this thread's
     * context, so only this thread may use it, which is the rule anyway.
     * Harmless when unsupported or when the thread's 16 slots are taken:
     * liburing then enters with the plain fd. */
    (void)io_uring_register_ring_fd(&l->ring);
    return 0;
}

/* liburing's private INT_FLAG_REG_RING (src/int_flags.h; 2.4+ adds
 * INT_FLAG_REG_REG_RING = 2 for register calls through the same index). */
#define LIBURING_REG_RING_FLAGS 3u

void ur__forget_ring_fd(ur_loop *l)
{
    l->ring.int_flags &= (__u8)~LIBURING_REG_RING_FLAGS;
    l->ring.enter_ring_fd = l->ring.ring_fd;
}
