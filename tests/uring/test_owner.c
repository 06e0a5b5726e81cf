/*
 * tests/uring/test_owner.c -- op lifetime: cancel by id (pending, racing,
 * already completed), generations on slot reuse (stale ids and CQEs), owner
 * release waiting for in-flight ops, release from inside a callback,
 * callbacks queueing new ops mid-dispatch, and each owner's list of live
 * slots (release cancels exactly that owner's ops, without a table walk).
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


/* Every owner's list holds exactly its live slots, linked both ways, and
 * their number is its inflight count; the lists and the free slots
 * together account for every slot of the table. */
static void lists_check(const ur_loop *l, tester **ts, int n)
{
    uint32_t listed = 0;
    for (int k = 0; k < n; k++) {
        const ur_owner *o = &ts[k]->own;
        uint32_t count = 0, prev = UR_NO_SLOT;
        for (uint32_t i = o->ops; i != UR_NO_SLOT; i = ur__slot(l, i)->next) {
            const ur_slot *s = ur__slot(l, i);
            assert_ptr_equal(s->owner, o);
            assert_int_equal(s->prev, prev);
            prev = i;
            assert_true(++count <= l->used);
        }
        assert_int_equal(count, o->inflight);
        listed += count;
    }
    assert_int_equal(listed, l->used);
    uint32_t nfree = 0;
    for (uint32_t i = l->free_head; i != UR_NO_SLOT; i = ur__slot(l, i)->next) {
        assert_null(ur__slot(l, i)->owner);
        nfree++;
    }
    assert_int_equal(nfree + l->used, l->nchunks << UR_CHUNK_SHIFT);
}

/* Many owners whose ops are interleaved in the table; releasing one queues
 * a cancel for each of its own ops and nothing else, only it sees
 * -ECANCELED, the others' ops carry on, and completions unlink slots from
 * the middle, head and tail of the lists. */
static void test_release_one_of_many(void **state)
{
    (void)state;
    enum { OWNERS = 24, OPS = 4, VICTIM = 13 };
    ur_loop *l = loop_new(0);
    tester *ts[OWNERS];
    static int sv[OWNERS][OPS][2];
    static char buf[OWNERS][OPS];
    uint64_t ids[OWNERS][OPS];
    for (int k = 0; k < OWNERS; k++)
        ts[k] = tester_new(l);
    /* Round-robin, so no owner's slots are contiguous. */
    for (int j = 0; j < OPS; j++)
        for (int k = 0; k < OWNERS; k++) {
            sockpair(sv[k][j]);
            assert_int_equal(ur_recv(&ts[k]->own, (uint32_t)j, sv[k][j][1], &buf[k][j], 1, 0,
                                     &ids[k][j]), 0);
        }
    assert_int_equal(l->used, OWNERS * OPS);
    lists_check(l, ts, OWNERS);
    assert_true(ur_loop_tick(l, 0) >= 0);   /* all in the kernel */
    assert_int_equal(ur_loop_queued(l), 0);

    ur_owner_release(&ts[VICTIM]->own);
    assert_int_equal(ur_loop_queued(l), OPS);   /* one cancel per own op, no more */
    assert_int_equal(ts[VICTIM]->released, 0);
    RUN_UNTIL(l, ts[VICTIM]->released == 1);
    assert_int_equal(ts[VICTIM]->ncomp, OPS);
    assert_int_equal(ts[VICTIM]->comp_at_release, OPS);
    for (int j = 0; j < OPS; j++)
        assert_int_equal(ts[VICTIM]->comp[j].res, -ECANCELED);
    assert_int_equal(ts[VICTIM]->own.ops, UR_NO_SLOT);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ur_loop_tick(l, 0), 0);
    for (int k = 0; k < OWNERS; k++) {
        if (k == VICTIM)
            continue;
        assert_int_equal(ts[k]->ncomp, 0);
        assert_int_equal(ts[k]->own.inflight, OPS);
        assert_int_equal(ts[k]->released, 0);
    }
    assert_int_equal(l->used, (OWNERS - 1) * OPS);
    lists_check(l, ts, OWNERS);

    /* The victim's ids are stale now, as CQEs carrying them would be; its
     * slots go to new ops of another owner, under new generations. */
    for (int j = 0; j < OPS; j++) {
        assert_int_equal(ur_cancel(l, ids[VICTIM][j]), -ENOENT);
        assert_int_equal(ur__dispatch(l, ids[VICTIM][j], 1, 0), 0);
    }
    tester *late = tester_new(l);
    uint64_t late_ids[OPS];
    for (int j = 0; j < OPS; j++) {
        assert_int_equal(ur_recv(&late->own, (uint32_t)j, sv[VICTIM][j][1], &buf[VICTIM][j], 1, 0,
                                 &late_ids[j]), 0);
        int reused = 0;
        for (int i = 0; i < OPS; i++)
            reused += (uint32_t)late_ids[j] == (uint32_t)ids[VICTIM][i];
        assert_int_equal(reused, 1);
        for (int i = 0; i < OPS; i++)
            assert_true(late_ids[j] != ids[VICTIM][i]);
    }
    for (int j = 0; j < OPS; j++)
        assert_int_equal(ur__dispatch(l, ids[VICTIM][j], 1, 0), 0);   /* still stale */
    assert_int_equal(late->ncomp, 0);
    tester *victim = ts[VICTIM];
    ts[VICTIM] = late;
    lists_check(l, ts, OWNERS);

    /* Complete ops in an order that unlinks from the middle, the head and
     * the tail of each list (the head is the newest op). */
    const int order[OPS] = {1, 3, 0, 2};
    for (int step = 0; step < OPS; step++) {
        int j = order[step];
        for (int k = 0; k < OWNERS; k++)
            assert_int_equal(write(sv[k][j][0], "d", 1), 1);
        RUN_UNTIL(l, l->used == (unsigned)(OWNERS * (OPS - step - 1)));
        lists_check(l, ts, OWNERS);
    }
    for (int k = 0; k < OWNERS; k++) {
        assert_int_equal(ts[k]->ncomp, OPS);
        for (int i = 0; i < ts[k]->ncomp; i++) {
            assert_int_equal(ts[k]->comp[i].res, 1);
            assert_int_equal(ts[k]->comp[i].tag, (uint32_t)order[i]);
        }
        assert_int_equal(ts[k]->own.ops, UR_NO_SLOT);
        ur_owner_release(&ts[k]->own);
        assert_int_equal(ts[k]->released, 1);
        for (int j = 0; j < OPS; j++) {
            close(sv[k][j][0]);
            close(sv[k][j][1]);
        }
    }
    ur_loop_free(l);
    for (int k = 0; k < OWNERS; k++)
        free(ts[k]);
    free(victim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_pending),
        cmocka_unit_test(test_cancel_race),
        cmocka_unit_test(test_slot_reuse_stale),
        cmocka_unit_test(test_release_waits),
        cmocka_unit_test(test_queue_from_callbacks),
        cmocka_unit_test(test_release_one_of_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
