/*
 * tests/uring/test_bufring.c -- provided-buffer rings (uring/bufring.c): a
 * multishot receive fills buffers of the ring only when bytes arrive, in
 * order; with the ring empty it ends with -ENOBUFS and nothing is lost
 * (arm again once buffers are back); the end of the stream ends it with 0;
 * a one-shot receive on the ring takes one buffer; with UR_BUFRING_INC
 * (kernel 6.12+) small receives share a buffer, each going on where the last
 * stopped, and a buffer goes back only once the kernel is done with it.
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
                ur_bufring_put(br, bid, r->flags, r->res);
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
    int r = ur_bufring_new(l, 7, NBUF, BUFSZ, 0, &br);
    if (r == -EINVAL || r == -ENOENT)
        skip();   /* a kernel without provided-buffer rings */
    assert_int_equal(r, 0);
    assert_int_equal(ur_bufring_size(br), BUFSZ);
    ur_bufring *other;
    assert_int_equal(ur_bufring_new(l, 8, 3, BUFSZ, 0, &other), -EINVAL);   /* not a power of two */
    assert_int_equal(ur_bufring_new(l, 7, NBUF, BUFSZ, 0, &other), -EEXIST);   /* group id taken */
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
        ur_bufring_put(br, bid, t->comp[i].flags, t->comp[i].res);
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
    int r = ur_bufring_new(l, 1, NBUF, BUFSZ, 0, &br);
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
    ur_bufring_put(br, bid, t->comp[0].flags, t->comp[0].res);
    assert_int_equal(t->own.inflight, 0);
    close(sv[0]);
    close(sv[1]);
    ur_owner_release(&t->own);
    ur_loop_free(l);
    free(t);
}

/* Incremental consumption: 10-byte receives share the head buffer, each
 * after the last; 300 bytes then fill its rest and the next buffers; the
 * first buffer comes back to the ring only after the kernel let it go, and
 * every byte arrives in order. */
static void test_incremental(void **state)
{
    (void)state;
    ur_loop *l = loop_new(0);
    tester *t = tester_new(l);
    ur_bufring *br;
    int r = ur_bufring_new(l, 3, NBUF, BUFSZ, UR_BUFRING_INC, &br);
    if (r == -EINVAL || r == -ENOENT)
        skip();
    assert_int_equal(r, 0);
    if (!ur_bufring_inc(br))
        skip();   /* a kernel before 6.12: the plain ring (tested above) */
    int sv[2];
    sockpair(sv);
    char msg[2000], got_bytes[2000];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (char)('A' + i % 26);
    size_t got = 0;
    int seen = 0;
    assert_int_equal(ur_recv_ring(&t->own, 1, sv[1], br, 1, NULL), 0);
    unsigned first_bid = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(write(sv[0], msg + 10 * i, 10), 10);
        RUN_UNTIL(l, t->ncomp == i + 1);
        unsigned bid;
        uint8_t *p = ur_bufring_get(br, t->comp[i].flags, &bid);
        assert_non_null(p);
        if (i == 0)
            first_bid = bid;
        assert_int_equal(bid, first_bid);   /* the same buffer ... */
        assert_true(t->comp[i].flags & (1u << 4));   /* ... kept by the kernel (BUF_MORE) */
        take(t, br, &seen, got_bytes, &got, 1);
    }
    /* Its three parts are consecutive in the buffer. */
    unsigned bid;
    uint8_t *next = ur_bufring_get(br, t->comp[2].flags, &bid);   /* where the next bytes go */
    assert_memory_equal(next - 30, msg, 30);
    /* Many more bytes than the ring holds, in pieces: each buffer is given
     * back as its bytes are taken, and nothing is lost or reordered. */
    size_t sent = 30;
    while (sent < sizeof msg) {
        size_t n = sizeof msg - sent < 100 ? sizeof msg - sent : 100;
        assert_int_equal(write(sv[0], msg + sent, n), (ssize_t)n);
        sent += n;
        RUN_UNTIL(l, (take(t, br, &seen, got_bytes, &got, 1), got == sent ||
                      (t->ncomp > 0 && !(t->comp[t->ncomp - 1].flags & UR_CQE_MORE))));
        if (got < sent) {   /* ended (-ENOBUFS, say): arm again */
            assert_true(t->comp[t->ncomp - 1].res == -ENOBUFS);
            assert_int_equal(ur_recv_ring(&t->own, 2, sv[1], br, 1, NULL), 0);
            RUN_UNTIL(l, (take(t, br, &seen, got_bytes, &got, 1), got == sent));
        }
    }
    assert_memory_equal(got_bytes, msg, sizeof msg);
    close(sv[0]);
    RUN_UNTIL(l, t->ncomp > 0 && !(t->comp[t->ncomp - 1].flags & UR_CQE_MORE));
    assert_int_equal(t->comp[t->ncomp - 1].res, 0);
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
        cmocka_unit_test(test_incremental),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
