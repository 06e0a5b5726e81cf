/*
 * tests/uring/test_bufring.c -- provided-buffer rings (uring/bufring.c): a
 * multishot receive fills buffers of the ring only when bytes arrive, in
 * order; with the ring empty it ends with -ENOBUFS and nothing is lost
 * (arm again once buffers are back); the end of the stream ends it with 0;
 * a one-shot receive on the ring takes one buffer.
 */
#include "ur_test.h"

#define NBUF 4
#define BUFSZ 64

/* Take the data of every completion from rec index *seen on: copy its
 * bytes to out (at *got) and, when give, hand its buffer back. */
static void take(tester *t, ur_bufring *br, int *seen, char *out, size_t *got, int give)
{
    for (; *seen < t->ncomp; (*seen)++) {
        rec *r = &t->comp[*seen];
        unsigned bid;
        uint8_t *p = ur_bufring_get(br, r->flags, &bid);
        if (r->res > 0) {
            assert_non_null(p);
            assert_true(r->res <= BUFSZ);
            memcpy(out + *got, p, (size_t)r->res);
            *got += (size_t)r->res;
            if (give)
                ur_bufring_put(br, bid);
        } else {
            assert_null(p);
        }
    }
}

static void test_multishot(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    tester *t = tester_new(l);
    ur_bufring *br;
    int r = ur_bufring_new(l, 7, NBUF, BUFSZ, &br);
    if (r == -EINVAL || r == -ENOENT)
        skip();   /* a kernel without provided-buffer rings */
    assert_int_equal(r, 0);
    assert_int_equal(ur_bufring_size(br), BUFSZ);
    ur_bufring *other;
    assert_int_equal(ur_bufring_new(l, 8, 3, BUFSZ, &other), -EINVAL);   /* not a power of two */
    assert_int_equal(ur_bufring_new(l, 7, NBUF, BUFSZ, &other), -EEXIST);   /* group id taken */
    int sv[2];
    sockpair(sv);
    char msg[1000], got_bytes[1000];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (char)('a' + i % 26);
    size_t got = 0;
    int seen = 0;

    assert_int_equal(ur_recv_ring(&t->own, 1, sv[1], br, 1, NULL), 0);
    RUN_UNTIL(l, ur_loop_queued(l) == 0);
    assert_int_equal(t->ncomp, 0);   /* armed: nothing came, no buffer taken */
    assert_int_equal(write(sv[0], msg, 10), 10);
    RUN_UNTIL(l, t->ncomp == 1);
    assert_true(t->comp[0].flags & UR_CQE_MORE);   /* still armed */
    take(t, br, &seen, got_bytes, &got, 1);
    assert_int_equal(got, 10);

    /* More than the ring holds, buffers kept: it ends with -ENOBUFS. */
    assert_int_equal(write(sv[0], msg + 10, 300), 300);
    RUN_UNTIL(l, t->ncomp > 0 && !(t->comp[t->ncomp - 1].flags & UR_CQE_MORE));
    assert_int_equal(t->comp[t->ncomp - 1].res, -ENOBUFS);
    int first = seen;
    take(t, br, &seen, got_bytes, &got, 0);
    assert_int_equal(t->ncomp - 1 - first, NBUF);   /* every buffer was filled */
    assert_int_equal(got, 10 + NBUF * BUFSZ);
    /* Give them back (their bytes were copied) and arm again: the rest
     * waited in the socket. */
    for (int i = first; i < seen - 1; i++) {
        unsigned bid;
        assert_non_null(ur_bufring_get(br, t->comp[i].flags, &bid));
        ur_bufring_put(br, bid);
    }
    assert_int_equal(ur_recv_ring(&t->own, 2, sv[1], br, 1, NULL), 0);
    RUN_UNTIL(l, (take(t, br, &seen, got_bytes, &got, 1), got == 310));
    assert_memory_equal(got_bytes, msg, 310);

    /* The end of the stream ends it with 0. */
    close(sv[0]);
    RUN_UNTIL(l, t->ncomp > 0 && !(t->comp[t->ncomp - 1].flags & UR_CQE_MORE));
    assert_int_equal(t->comp[t->ncomp - 1].res, 0);
    assert_int_equal(t->own.inflight, 0);
    close(sv[1]);
    ur_owner_release(&t->own);
    ur_loop_free(l);
    free(t);
}

/* A one-shot receive on the ring takes one buffer and ends. */
static void test_oneshot(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    tester *t = tester_new(l);
    ur_bufring *br;
    int r = ur_bufring_new(l, 1, NBUF, BUFSZ, &br);
    if (r == -EINVAL || r == -ENOENT)
        skip();
    assert_int_equal(r, 0);
    int sv[2];
    sockpair(sv);
    assert_int_equal(write(sv[0], "0123456789", 10), 10);
    assert_int_equal(ur_recv_ring(&t->own, 1, sv[1], br, 0, NULL), 0);
    RUN_UNTIL(l, t->ncomp == 1);
    assert_int_equal(t->comp[0].res, 10);
    assert_false(t->comp[0].flags & UR_CQE_MORE);
    unsigned bid;
    uint8_t *p = ur_bufring_get(br, t->comp[0].flags, &bid);
    assert_non_null(p);
    assert_memory_equal(p, "0123456789", 10);
    ur_bufring_put(br, bid);
    assert_int_equal(t->own.inflight, 0);
    close(sv[0]);
    close(sv[1]);
    ur_owner_release(&t->own);
    ur_loop_free(l);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multishot),
        cmocka_unit_test(test_oneshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
