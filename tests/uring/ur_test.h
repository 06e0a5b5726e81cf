/*
 * tests/uring/ur_test.h -- helpers shared by the engine's tests: an owner
 * that records its completions, and a bounded "tick until" loop (ticks block
 * on the ring, so no sleeps are needed).
 */
#ifndef UR_TEST_H
#define UR_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../uring/ur.h"

#define MAX_REC 1024

typedef struct rec {
    uint32_t tag;
    int res;
    uint32_t flags;
} rec;

typedef struct tester {
    ur_owner own;
    int ncomp;
    rec comp[MAX_REC];
    int released;
    int comp_at_release;   /* ncomp when on_release ran */
} tester;

static inline void t_complete(ur_owner *o, uint32_t tag, int res, uint32_t flags)
{
    tester *t = (tester *)o;
    assert_true(t->released == 0);   /* never a completion after on_release */
    assert_true(t->ncomp < MAX_REC);
    t->comp[t->ncomp++] = (rec){tag, res, flags};
}

static inline void t_release(ur_owner *o)
{
    tester *t = (tester *)o;
    assert_int_equal(o->inflight, 0);
    t->released++;
    t->comp_at_release = t->ncomp;
}

static inline tester *tester_new(ur_loop *loop)
{
    tester *t = calloc(1, sizeof *t);
    assert_non_null(t);
    ur_owner_init(&t->own, loop, t_complete, t_release);
    return t;
}

static inline ur_loop *loop_new(unsigned sq)
{
    ur_loop_opts o = {.sq_entries = sq};
    ur_loop *l = NULL;
    const char *why = NULL;
    int r = ur_loop_new(&o, &l, &why);
    if (r < 0)
        fail_msg("ur_loop_new: %d (%s)", r, why ? why : "?");
    return l;
}

/* Tick (each waiting up to 2 s) until cond holds; fail if it never does. */
#define RUN_UNTIL(loop, cond)                                                   \
    do {                                                                        \
        for (int run_i_ = 0; !(cond) && run_i_ < 200; run_i_++)                 \
            assert_true(ur_loop_tick((loop), 2000000000LL) >= 0);               \
        assert_true(cond);                                                      \
    } while (0)

static inline void sockpair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

#endif
