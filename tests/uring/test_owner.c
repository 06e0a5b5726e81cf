/*
 * tests/uring/test_owner.c -- op lifetime: cancel by id (pending, racing,
 * already completed), generations on slot reuse (stale ids and CQEs), owner
 * release waiting for in-flight ops, release from inside a callback, and
 * callbacks queueing new ops mid-dispatch.
 */
#include "ur_test.h"
#include "../../uring/ur_internal.h"

static void test_cancel_pending(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    tester *t = tester_new(l);
    int sv[2];
    sockpair(sv);
    char c;
    uint64_t id;
    assert_int_equal(ur_recv(&t->own, 1, sv[1], &c, 1, 0, &id), 0);
    assert_int_equal(ur_loop_tick(l, 0), 0);   /* in the kernel now */
    assert_int_equal(ur_cancel(l, id), 0);
    RUN_UNTIL(l, t->ncomp == 1);
    assert_int_equal(t->comp[0].res, -ECANCELED);
    /* Exactly once: nothing more arrives, even with data now. */
    assert_int_equal(write(sv[0], "x", 1), 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ur_loop_tick(l, 0), 0);
    assert_int_equal(t->ncomp, 1);
    assert_int_equal(t->own.inflight, 0);
    /* Completed op: its id is stale. */
    assert_int_equal(ur_cancel(l, id), -ENOENT);
    assert_int_equal(ur_cancel(l, 0), -ENOENT);
    assert_int_equal(ur_cancel(l, (uint64_t)7 << 32 | 123456), -ENOENT);
    /* Canceled before it was even submitted. */
    assert_int_equal(ur_recv(&t->own, 2, sv[1], &c, 1, MSG_PEEK, &id), 0);
    assert_int_equal(ur_cancel(l, id), 0);
    assert_int_equal(ur_cancel(l, id), 0);   /* twice: one cancel request */
    RUN_UNTIL(l, t->ncomp == 2);
    assert_true(t->comp[1].res == -ECANCELED || t->comp[1].res == 1);
    close(sv[0]);
    close(sv[1]);
    ur_owner_release(&t->own);
    ur_loop_free(l);
    free(t);
}

/* Cancel while the data is arriving: whoever wins, one completion each. */
static void test_cancel_race(void **state)
{
    (void)state;
    enum { N = 64 };
    ur_loop *l = loop_new(0);
    tester *t = tester_new(l);
    int sv[N][2];
    char buf[N];
    uint64_t ids[N];
    for (int i = 0; i < N; i++) {
        sockpair(sv[i]);
        assert_int_equal(ur_recv(&t->own, (uint32_t)i, sv[i][1], &buf[i], 1, 0, &ids[i]), 0);
    }
    assert_int_equal(ur_loop_tick(l, 0), 0);
    for (int i = 0; i < N; i++) {
        if (i % 2)
            assert_int_equal(write(sv[i][0], "d", 1), 1);
        assert_int_equal(ur_cancel(l, ids[i]), 0);
        if (!(i % 2))
            assert_int_equal(write(sv[i][0], "d", 1), 1);
    }
    RUN_UNTIL(l, t->own.inflight == 0);
    for (int i = 0; i < 3; i++)
        ur_loop_tick(l, 0);
    assert_int_equal(t->ncomp, N);
    int seen[N] = {0};
    for (int i = 0; i < N; i++) {
        rec r = t->comp[i];
        seen[r.tag]++;
        char left;
        ssize_t n = recv(sv[r.tag][1], &left, 1, MSG_DONTWAIT);
        if (r.res == 1)
            assert_int_equal(n, -1);   /* the recv took the byte */
        else
            assert_true(r.res == -ECANCELED && n == 1);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(seen[i], 1);
        close(sv[i][0]);
        close(sv[i][1]);
    }
    ur_owner_release(&t->own);
    ur_loop_free(l);
    free(t);
}

/* A released owner's slot is reused by another owner: the old id and any
 * CQE carrying it are stale and must not reach (or cancel) the new op. */
static void test_slot_reuse_stale(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    tester *a = tester_new(l), *b = tester_new(l);
    int sv[2];
    sockpair(sv);
    char x, y;
    uint64_t ida, idb;
    assert_int_equal(ur_recv(&a->own, 1, sv[1], &x, 1, 0, &ida), 0);
    assert_int_equal(ur_loop_tick(l, 0), 0);
    ur_owner_release(&a->own);
    assert_int_equal(a->released, 0);   /* its recv is still in the kernel */
    RUN_UNTIL(l, a->released == 1);
    assert_int_equal(a->comp_at_release, 1);
    assert_int_equal(a->comp[0].res, -ECANCELED);
    free(a);

    assert_int_equal(ur_recv(&b->own, 2, sv[1], &y, 1, 0, &idb), 0);
    assert_int_equal((uint32_t)idb, (uint32_t)ida);   /* same slot ... */
    assert_true(idb >> 32 != ida >> 32);              /* ... new generation */
    assert_int_equal(ur_cancel(l, ida), -ENOENT);
    assert_int_equal(ur__dispatch(l, ida, 42, 0), 0); /* a stale CQE */
    assert_int_equal(ur_loop_tick(l, 0), 0);
    assert_int_equal(b->ncomp, 0);
    assert_int_equal(b->own.inflight, 1);
    assert_int_equal(write(sv[0], "b", 1), 1);
    RUN_UNTIL(l, b->ncomp == 1);
    assert_int_equal(b->comp[0].tag, 2);
    assert_int_equal(b->comp[0].res, 1);
    assert_int_equal(y, 'b');
    close(sv[0]);
    close(sv[1]);
    ur_owner_release(&b->own);
    ur_loop_free(l);
    free(b);
}

/* An owner that frees itself in on_release: ASan catches any later touch. */
typedef struct selffree {
    ur_owner own;
    int ncomp;
    int *released;
    int *comp_at_release;
    int release_in_callback;
} selffree;

static void sf_complete(ur_owner *o, uint32_t tag, int res, uint32_t flags)
{
    (void)tag, (void)res, (void)flags;
    selffree *s = (selffree *)o;
    s->ncomp++;
    if (s->release_in_callback) {
        ur_owner_release(o);
        /* Deferred until this callback returns: s is still ours. */
        assert_int_equal(*s->released, 0);
    }
}

static void sf_release(ur_owner *o)
{
    selffree *s = (selffree *)o;
    assert_int_equal(o->inflight, 0);
    (*s->released)++;
    *s->comp_at_release = s->ncomp;
    free(s);
}

static selffree *sf_new(ur_loop *l, int *released, int *comp_at_release)
{
    selffree *s = calloc(1, sizeof *s);
    ur_owner_init(&s->own, l, sf_complete, sf_release);
    s->released = released;
    s->comp_at_release = comp_at_release;
    return s;
}

static void test_release_waits(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    int released = 0, at = -1;
    int sv[2], p[2];
    sockpair(sv);
    assert_int_equal(pipe(p), 0);
    char x, y;
    selffree *s = sf_new(l, &released, &at);
    assert_int_equal(ur_recv(&s->own, 1, sv[1], &x, 1, 0, NULL), 0);
    assert_int_equal(ur_read(&s->own, 2, p[0], &y, 1, NULL), 0);
    assert_int_equal(ur_loop_tick(l, 0), 0);
    assert_int_equal(s->own.inflight, 2);
    ur_owner_release(&s->own);
    assert_int_equal(released, 0);
    ur_owner_release(&s->own);   /* twice: no effect */
    RUN_UNTIL(l, released == 1);
    assert_int_equal(at, 2);     /* both completions came first */

    /* Nothing in flight: on_release at once. */
    released = 0;
    s = sf_new(l, &released, &at);
    ur_owner_release(&s->own);
    assert_int_equal(released, 1);
    assert_int_equal(at, 0);

    /* Released from its own callback: the other op is canceled, and
     * on_release runs after the callback has returned. */
    released = 0;
    s = sf_new(l, &released, &at);
    s->release_in_callback = 1;
    assert_int_equal(ur_recv(&s->own, 1, sv[1], &x, 1, 0, NULL), 0);
    assert_int_equal(ur_read(&s->own, 2, p[0], &y, 1, NULL), 0);
    assert_int_equal(ur_loop_tick(l, 0), 0);
    assert_int_equal(write(sv[0], "r", 1), 1);
    RUN_UNTIL(l, released == 1);
    assert_int_equal(at, 2);
    /* The same, when the callback's op is the last one in flight. */
    released = 0;
    s = sf_new(l, &released, &at);
    s->release_in_callback = 1;
    assert_int_equal(ur_recv(&s->own, 1, sv[1], &x, 1, 0, NULL), 0);
    assert_int_equal(write(sv[0], "r", 1), 1);
    RUN_UNTIL(l, released == 1);
    assert_int_equal(at, 1);
    close(sv[0]);
    close(sv[1]);
    close(p[0]);
    close(p[1]);
    ur_loop_free(l);
}

/* Callbacks queue more work mid-dispatch: a ping-pong of N rounds over M
 * socket pairs, with a tiny SQ so queueing from callbacks flushes too. */
typedef struct pinger {
    ur_owner own;
    int fd[2];
    char b;
    int rounds;
} pinger;

static void ping_complete(ur_owner *o, uint32_t tag, int res, uint32_t flags)
{
    (void)flags;
    pinger *p = (pinger *)o;
    assert_int_equal(res, 1);
    if (tag == 0) {   /* recv done: answer and wait for the next one */
        if (++p->rounds == 10)
            return;
        assert_int_equal(ur_send(o, 1, p->fd[0], "p", 1, 0, NULL), 0);
        assert_int_equal(ur_recv(o, 0, p->fd[1], &p->b, 1, 0, NULL), 0);
    }
}

static void test_queue_from_callbacks(void **state)
{
    (void)state;
    enum { M = 20 };
    ur_loop *l = loop_new(4);
    pinger ps[M];
    for (int i = 0; i < M; i++) {
        memset(&ps[i], 0, sizeof ps[i]);
        sockpair(ps[i].fd);
        ur_owner_init(&ps[i].own, l, ping_complete, NULL);
        assert_int_equal(ur_send(&ps[i].own, 1, ps[i].fd[0], "p", 1, 0, NULL), 0);
        assert_int_equal(ur_recv(&ps[i].own, 0, ps[i].fd[1], &ps[i].b, 1, 0, NULL), 0);
    }
    int done = 0;
    for (int k = 0; k < 1000 && done < M; k++) {
        assert_true(ur_loop_tick(l, 2000000000LL) >= 0);
        done = 0;
        for (int i = 0; i < M; i++)
            done += ps[i].rounds == 10 && ps[i].own.inflight == 0;
    }
    assert_int_equal(done, M);
    for (int i = 0; i < M; i++) {
        close(ps[i].fd[0]);
        close(ps[i].fd[1]);
    }
    ur_loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_pending),
        cmocka_unit_test(test_cancel_race),
        cmocka_unit_test(test_slot_reuse_stale),
        cmocka_unit_test(test_release_waits),
        cmocka_unit_test(test_queue_from_callbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
