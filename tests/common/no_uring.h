/* tests/common/no_uring.h -- make io_uring unavailable to this process, as a
 * seccomp profile (containers, sandboxes) does: io_uring_setup then fails
 * with errno err. Irreversible: call it in a forked child. */
#ifndef MYR_TEST_NO_URING_H
#define MYR_TEST_NO_URING_H
/* 0 when installed; -1 where seccomp filters can't be installed or the
 * architecture is unknown (the caller then cannot run its test). */
int deny_io_uring_setup(int err);

#define NO_URING_UNSUPPORTED 97
/* Run fn(err) in a forked child with io_uring_setup denied (errno err) and
 * return its result (the child's exit status, 0..96), NO_URING_UNSUPPORTED
 * where the filter can't be installed, or -1 if the child died otherwise. */
int in_child_without_io_uring(int err, int (*fn)(int err));
#endif
