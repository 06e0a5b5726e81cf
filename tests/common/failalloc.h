/* tests/common/failalloc.h -- allocator hooks for myr_set_allocator that
 * fail the Nth allocation (malloc or realloc) once, or from the Nth on, and
 * count what is live, for the allocation-failure sweeps (tests/conn/
 * test_alloc.c, tests/integration/test_alloc_cancel.c). Thread-safe: the
 * worker pool allocates through the same hooks. */
#ifndef MYR_TEST_FAILALLOC_H
#define MYR_TEST_FAILALLOC_H
#include <myring.h>

extern const myr_allocator failalloc_hooks;
/* Reset the counters and fail allocation number fail_at (1-based; 0 =
 * never), and with sticky every one after it too. */
void failalloc_arm(long fail_at, int sticky);
/* No more failures (the counters keep counting). */
void failalloc_disarm(void);
long failalloc_count(void);    /* allocations attempted since the arm */
long failalloc_failed(void);   /* failures injected since the arm */
long failalloc_live(void);     /* blocks handed out since the arm and not freed */
#endif
