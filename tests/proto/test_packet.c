/* tests/proto/test_packet.c -- framing: reading (joining split packets,
 * sequence ids, partial input) and writing (splitting at 16 MiB). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alloc.h"
#include "proto/proto.h"

/* Payload byte i of a test packet: varies with i and with the packet. */
static uint8_t pattern(size_t i, size_t salt) { return (uint8_t)((i * 131 + (i >> 16) + salt) ^ 0x5A); }

static void test_small_packet_zero_copy(void **state)
{
    (void)state;
    static const uint8_t in[] = {0x01, 0x00, 0x00, 0x00, 0x0e, /* next: */ 0x00, 0x00, 0x00, 0x01};
    myr__pkt_reader r;
    myr__pkt_reader_init(&r);
    const uint8_t *pl;
    size_t plen, need = 0;
    assert_int_equal(myr__pkt_next(&r, in, sizeof in, &pl, &plen, &need), 5);
    assert_ptr_equal(pl, in + 4);       /* a view, not a copy */
    assert_int_equal(plen, 1);
    assert_int_equal(r.seq, 1);
    /* an empty packet: payload non-NULL, length 0 */
    assert_int_equal(myr__pkt_next(&r, in + 5, 4, &pl, &plen, &need), 4);
    assert_non_null(pl);
    assert_int_equal(plen, 0);
    assert_int_equal(r.seq, 2);
    myr__pkt_reader_free(&r);
}

static void test_split_at_every_byte(void **state)
{
    (void)state;
    /* an OK packet, then a second packet that must not be touched */
    static const uint8_t in[] = {0x07, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
                                 0x01, 0x00, 0x00, 0x02, 0xAA};
    for (size_t cut = 0; cut < 11; cut++) {
        myr__pkt_reader r;
        myr__pkt_reader_init(&r);
        r.seq = 1;
        const uint8_t *pl = (const uint8_t *)"x";
        size_t plen = 99, need = 0;
        assert_int_equal(myr__pkt_next(&r, in, cut, &pl, &plen, &need), 0);
        assert_null(pl);
        assert_int_equal(need, cut < 4 ? 4 : 11);
        assert_int_equal(r.seq, 1);     /* nothing consumed */
        myr__pkt_reader_free(&r);
    }
    myr__pkt_reader r;
    myr__pkt_reader_init(&r);
    r.seq = 1;
    const uint8_t *pl;
    size_t plen, need;
    assert_int_equal(myr__pkt_next(&r, in, 11, &pl, &plen, &need), 11);
    assert_int_equal(plen, 7);
    assert_int_equal(myr__pkt_next(&r, in + 11, sizeof in - 11, &pl, &plen, &need), 5);
    assert_int_equal(plen, 1);
    assert_int_equal(pl[0], 0xAA);
    myr__pkt_reader_free(&r);
}

static void test_sequence_ids(void **state)
{
    (void)state;
    static const uint8_t wrong[] = {0x01, 0x00, 0x00, 0x05, 0x00};
    myr__pkt_reader r;
    myr__pkt_reader_init(&r);
    const uint8_t *pl;
    size_t plen, need;
    assert_int_equal(myr__pkt_next(&r, wrong, sizeof wrong, &pl, &plen, &need), MYR_EMALFORMED);
    /* the header alone is enough to see it */
    assert_int_equal(myr__pkt_next(&r, wrong, 4, &pl, &plen, &need), MYR_EMALFORMED);
    /* wrap-around: 255 is followed by 0 */
    static const uint8_t wrap[] = {0x00, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00, 0x00};
    r.seq = 255;
    assert_int_equal(myr__pkt_next(&r, wrap, sizeof wrap, &pl, &plen, &need), 4);
    assert_int_equal(r.seq, 0);
    assert_int_equal(myr__pkt_next(&r, wrap + 4, 4, &pl, &plen, &need), 4);
    assert_int_equal(r.seq, 1);
    myr__pkt_reader_free(&r);
}

static void test_write_small_and_seq(void **state)
{
    (void)state;
    myr__buf b;
    myr__buf_init(&b);
    uint8_t seq = 5;
    size_t at = myr__pkt_begin(&b);
    assert_int_equal(at, 0);
    assert_int_equal(myr__buf_append(&b, "\x03SELECT 1", 9), 0);
    assert_int_equal(myr__pkt_end(&b, at, &seq), 0);
    assert_int_equal(seq, 6);
    assert_int_equal(b.len, 13);
    assert_memory_equal(b.data, "\x09\x00\x00\x05\x03SELECT 1", 13);
    /* an empty payload is a 4-byte frame */
    at = myr__pkt_begin(&b);
    assert_int_equal(myr__pkt_end(&b, at, &seq), 0);
    assert_memory_equal(b.data + 13, "\x00\x00\x00\x06", 4);
    assert_int_equal(seq, 7);
    myr__buf_free(&b);
}

/* begin's offset counts from the read position: appending may compact the
 * buffer (move unread bytes to the front) and end must still find the header. */
static void test_write_survives_compaction(void **state)
{
    (void)state;
    myr__buf b;
    myr__buf_init(&b);
    uint8_t junk[200];
    memset(junk, 'j', sizeof junk);
    assert_int_equal(myr__buf_append(&b, junk, sizeof junk), 0);
    assert_int_equal(b.cap, 256);
    b.rpos = 150;                       /* 50 unread bytes stay queued */
    size_t at = myr__pkt_begin(&b);
    uint8_t body[80];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = pattern(i, 1);
    assert_int_equal(myr__buf_append(&b, body, sizeof body), 0);
    assert_int_equal(b.rpos, 0);        /* it did compact */
    uint8_t seq = 0;
    assert_int_equal(myr__pkt_end(&b, at, &seq), 0);
    assert_int_equal(b.len, 50 + 4 + 80);
    assert_memory_equal(b.data, junk, 50);
    assert_memory_equal(b.data + 50, "\x50\x00\x00\x00", 4);
    assert_memory_equal(b.data + 54, body, 80);
    myr__buf_free(&b);
}

/* Build one packet of n payload bytes at the end of b. */
static void build_big(myr__buf *b, size_t n, size_t salt, uint8_t *seq)
{
    size_t at = myr__pkt_begin(b);
    assert_true(at != SIZE_MAX);
    assert_int_equal(myr__buf_reserve(b, n), 0);
    uint8_t *d = b->data + b->len;
    for (size_t i = 0; i < n; i++)
        d[i] = pattern(i, salt);
    b->len += n;
    assert_int_equal(myr__pkt_end(b, at, seq), 0);
}

/* Check the frame layout of a packet of n bytes written at off with first seq s0. */
static void check_frames(const uint8_t *w, size_t n, uint8_t s0)
{
    size_t nfull = n / MYR__PKT_MAX, pos = 0;
    for (size_t i = 0; i <= nfull; i++) {
        size_t flen = i < nfull ? MYR__PKT_MAX : n % MYR__PKT_MAX;
        assert_int_equal(myr__u24(w + pos), flen);
        assert_int_equal(w[pos + 3], (uint8_t)(s0 + i));
        for (size_t j = 0; j < flen; j += 4093)    /* spot checks; the reader checks all */
            assert_int_equal(w[pos + 4 + j], pattern(i * MYR__PKT_MAX + j, n));
        pos += 4 + flen;
    }
}

/* Feed stream[0..len) to the reader in chunks of the given sizes (cycled;
 * 0 = everything), the way a receive buffer fills: returns packets seen. */
static size_t read_stream(const uint8_t *stream, size_t len, uint8_t seq0, const size_t *sizes,
                          size_t nsizes, const size_t *expect, size_t nexpect)
{
    myr__pkt_reader r;
    myr__pkt_reader_init(&r);
    r.seq = seq0;
    size_t have = 0, done = 0, got = 0, k = 0;   /* stream[done..have) is "received" */
    while (done < len) {
        if (have < len) {
            size_t c = nsizes ? sizes[k++ % nsizes] : len;
            have += c < len - have ? c : len - have;
        }
        for (;;) {
            const uint8_t *pl;
            size_t plen, need = 0;
            long n = myr__pkt_next(&r, stream + done, have - done, &pl, &plen, &need);
            assert_true(n >= 0);
            if (n == 0) {
                assert_true(need > have - done);
                break;
            }
            done += (size_t)n;
            if (pl == NULL) {
                assert_int_equal(n, 4 + MYR__PKT_MAX);   /* one frame at a time */
                continue;
            }
            assert_true(got < nexpect);
            assert_int_equal(plen, expect[got]);
            for (size_t i = 0; i < plen; i++)
                if (pl[i] != pattern(i, plen))
                    fail_msg("packet %zu byte %zu differs", got, i);
            got++;
        }
    }
    myr__pkt_reader_free(&r);
    return got;
}

static void test_16mib_boundaries(void **state)
{
    (void)state;
    static const size_t sizes[] = {0xFFFFFE, 0xFFFFFF, 0x1000000, 2 * 0xFFFFFF, 3};
    static const size_t frames[] = {1, 2, 2, 3, 1};
    const size_t n = sizeof sizes / sizeof sizes[0];
    myr__buf b;
    myr__buf_init(&b);
    uint8_t seq = 250;                  /* wraps inside the stream */
    size_t total_frames = 0;
    for (size_t i = 0; i < n; i++) {
        size_t off = b.len;
        uint8_t s0 = seq;
        build_big(&b, sizes[i], sizes[i], &seq);
        assert_int_equal(b.len - off, sizes[i] + 4 * frames[i]);
        assert_int_equal(seq, (uint8_t)(s0 + frames[i]));
        check_frames(b.data + off, sizes[i], s0);
        total_frames += frames[i];
    }
    /* whole stream at once */
    assert_int_equal(read_stream(b.data, b.len, 250, NULL, 0, sizes, n), n);
    /* random-sized chunks, small and large, deterministic seed */
    srand(12345);
    size_t chunks[64];
    for (size_t i = 0; i < 64; i++)
        chunks[i] = i % 3 == 0 ? 1 + (size_t)rand() % 7 : 1 + (size_t)rand() % (3u << 20);
    assert_int_equal(read_stream(b.data, b.len, 250, chunks, 64, sizes, n), n);
    (void)total_frames;
    myr__buf_free(&b);
}

/* Allocator that fails every call while fail_allocs is set. */
static int fail_allocs;
static void *t_malloc(size_t n) { return fail_allocs ? NULL : malloc(n); }
static void *t_realloc(void *p, size_t n) { return fail_allocs ? NULL : realloc(p, n); }

static void test_join_out_of_memory(void **state)
{
    (void)state;
    myr__buf b;
    myr__buf_init(&b);
    uint8_t seq = 0;
    build_big(&b, MYR__PKT_MAX, MYR__PKT_MAX, &seq);    /* a full frame + an empty one */
    myr__pkt_reader r;
    myr__pkt_reader_init(&r);
    const uint8_t *pl;
    size_t plen, need;
    myr_allocator a = {t_malloc, t_realloc, free};
    myr_set_allocator(&a);
    fail_allocs = 1;
    assert_int_equal(myr__pkt_next(&r, b.data, b.len, &pl, &plen, &need), MYR_ENOMEM);
    fail_allocs = 0;
    assert_int_equal(r.seq, 0);         /* nothing consumed: retry works */
    long n = myr__pkt_next(&r, b.data, b.len, &pl, &plen, &need);
    assert_int_equal(n, 4 + MYR__PKT_MAX);
    assert_null(pl);
    assert_int_equal(myr__pkt_next(&r, b.data + n, b.len - (size_t)n, &pl, &plen, &need), 4);
    assert_int_equal(plen, MYR__PKT_MAX);
    myr_set_allocator(NULL);
    myr__pkt_reader_free(&r);
    myr__buf_free(&b);
}

static void test_wrong_seq_in_continuation(void **state)
{
    (void)state;
    myr__buf b;
    myr__buf_init(&b);
    uint8_t seq = 0;
    build_big(&b, MYR__PKT_MAX + 10, 1, &seq);
    b.data[4 + MYR__PKT_MAX + 3] = 7;   /* second frame should carry 1 */
    myr__pkt_reader r;
    myr__pkt_reader_init(&r);
    const uint8_t *pl;
    size_t plen, need;
    long n = myr__pkt_next(&r, b.data, b.len, &pl, &plen, &need);
    assert_int_equal(n, 4 + MYR__PKT_MAX);
    assert_int_equal(myr__pkt_next(&r, b.data + n, b.len - (size_t)n, &pl, &plen, &need), MYR_EMALFORMED);
    myr__pkt_reader_free(&r);           /* frees the half-joined packet */
    myr__buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_packet_zero_copy),
        cmocka_unit_test(test_split_at_every_byte),
        cmocka_unit_test(test_sequence_ids),
        cmocka_unit_test(test_write_small_and_seq),
        cmocka_unit_test(test_write_survives_compaction),
        cmocka_unit_test(test_16mib_boundaries),
        cmocka_unit_test(test_join_out_of_memory),
        cmocka_unit_test(test_wrong_seq_in_continuation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
