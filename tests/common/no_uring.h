/* tests/common/no_uring.h -- make io_uring unavailable to this process, as a
 * seccomp profile (containers, sandboxes) does: io_uring_setup then fails
 * with errno err. Irreversible: call it in a forked child. */
#ifndef MYR_TEST_NO_URING_H
#define MYR_TEST_NO_URING_H
/* 0 when installed; -1 where seccomp filters can't be installed or the
 * architecture is unknown (the caller then cannot run its test). */
int deny_io_uring_setup(int err);
#endif
