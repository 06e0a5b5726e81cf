/*
 * tests/fuzz/fuzz_packet.c -- the packet reader (src/proto/packet.c):
 * framing, payloads of 16 MiB and more joined from 0xFFFFFF-byte frames,
 * sequence ids; and the writer's split of such payloads read back.
 *
 * Input: flags(1) [cut seeds] stream-description.
 *   flags bits 0-3  number of cut-seed bytes that follow: the stream is fed
 *                   to the reader in pieces of those sizes (0: at once), the
 *                   way recv completions hand it over;
 *         bit 4     the first allocation the reader makes fails once (it
 *                   must report MYR_ENOMEM and consume nothing, so that a
 *                   retry reads on as if nothing happened);
 *         bit 5     also build a payload with myr__pkt_begin/end and read it
 *                   back: the description as payload, its first byte the
 *                   first sequence id; or, for an input of the flags byte
 *                   alone (any input when MYR__PKT_MAX is small), a
 *                   payload of MYR__PKT_MAX - 1, MYR__PKT_MAX or
 *                   2 x MYR__PKT_MAX + 1 bytes picked by bits 6-7.
 *   The description is the stream's bytes, except that the first two
 *   occurrences of FF FF FF s k stand for a full frame: a header of
 *   MYR__PKT_MAX bytes with sequence id s, the k bytes that follow, then
 *   filler up to MYR__PKT_MAX bytes.
 *
 * Frame size: the replay build uses the real 0xFFFFFF (so the seeds of
 * 16 MiB and more run through the real code); the libFuzzer build compiles
 * the codec with MYR__PKT_MAX 64 (CMakeLists.txt), where the same code
 * splits and joins at 64 bytes and a fuzzer reaches every path of it with
 * small inputs at full speed.
 *
 * Oracle: an independent, simple reading of the same stream (frames in
 * order, sequence ids from 0, full frames joined). The reader must hand out
 * exactly its packets, byte for byte, then stop where it stops: at a wrong
 * sequence id with MYR_EMALFORMED, or asking for exactly the bytes the
 * incomplete frame at the end lacks.
 */
#include <string.h>

#include "fuzz.h"
#include "proto/proto.h"

#define HDR 4
#define MAX_EXPAND 2
#define MAX_PKTS 4096

static uint8_t filler(size_t i) { return (uint8_t)(i * 131 + 7); }

/* The stream the description stands for; *n its length. */
static uint8_t *expand(const uint8_t *d, size_t n, size_t *out_n)
{
    size_t total = 0, expansions = 0;
    for (size_t i = 0; i < n;) {   /* first pass: the size */
        if (expansions < MAX_EXPAND && n - i >= 5 && d[i] == 0xFF && d[i + 1] == 0xFF && d[i + 2] == 0xFF) {
            size_t k = d[i + 4];
            if (k > n - i - 5)
                k = n - i - 5;
            if (k > MYR__PKT_MAX)
                k = MYR__PKT_MAX;
            total += HDR + MYR__PKT_MAX;
            i += 5 + k;
            expansions++;
        } else {
            total++;
            i++;
        }
    }
    uint8_t *s = malloc(total ? total : 1);
    FUZZ_CHECK(s != NULL);
    size_t o = 0;
    expansions = 0;
    for (size_t i = 0; i < n;) {
        if (expansions < MAX_EXPAND && n - i >= 5 && d[i] == 0xFF && d[i + 1] == 0xFF && d[i + 2] == 0xFF) {
            size_t k = d[i + 4];
            if (k > n - i - 5)
                k = n - i - 5;
            if (k > MYR__PKT_MAX)
                k = MYR__PKT_MAX;
            s[o] = (uint8_t)MYR__PKT_MAX;
            s[o + 1] = (uint8_t)(MYR__PKT_MAX >> 8);
            s[o + 2] = (uint8_t)(MYR__PKT_MAX >> 16);
            s[o + 3] = d[i + 3];
            memcpy(s + o + HDR, d + i + 5, k);
            for (size_t j = k; j < MYR__PKT_MAX; j++)
                s[o + HDR + j] = filler(j);
            o += HDR + MYR__PKT_MAX;
            i += 5 + k;
            expansions++;
        } else {
            s[o++] = d[i++];
        }
    }
    FUZZ_CHECK(o == total);
    *out_n = total;
    return s;
}

/* The reference reading: packets as runs of frames. */
typedef struct ref_pkt { size_t first_frame, nframes, len; } ref_pkt;
typedef struct ref {
    size_t frame_off[MAX_PKTS * 2], frame_len[MAX_PKTS * 2], nframes;
    ref_pkt pkt[MAX_PKTS];
    size_t npkts;
    int bad_seq;          /* the reading ends at a wrong sequence id */
    size_t need;          /* else: bytes the stream must hold for the next frame (0: ends cleanly) */
} ref;

static void ref_read(const uint8_t *s, size_t n, ref *r)
{
    memset(r, 0, sizeof *r);
    size_t pos = 0, start = 0, plen = 0;
    uint8_t seq = 0;
    int joining = 0;
    while (r->npkts < MAX_PKTS && r->nframes < MAX_PKTS * 2) {
        if (n - pos < HDR) {
            r->need = n - pos > 0 || joining ? pos + HDR : 0;   /* 0: the stream ends cleanly */
            return;
        }
        size_t flen = (size_t)s[pos] | (size_t)s[pos + 1] << 8 | (size_t)s[pos + 2] << 16;
        if (s[pos + 3] != seq) {
            r->bad_seq = 1;
            return;
        }
        if (n - pos - HDR < flen) {
            r->need = pos + HDR + flen;
            return;
        }
        if (!joining) {
            start = r->nframes;
            plen = 0;
        }
        r->frame_off[r->nframes] = pos + HDR;
        r->frame_len[r->nframes++] = flen;
        plen += flen;
        seq++;
        pos += HDR + flen;
        joining = flen == MYR__PKT_MAX;
        if (!joining)
            r->pkt[r->npkts++] = (ref_pkt){start, r->nframes - start, plen};
    }
}

/* A payload handed out equals the reference packet's frames. */
static void check_pkt(const ref *r, const uint8_t *s, size_t k, const uint8_t *p, size_t len)
{
    FUZZ_CHECK(k < r->npkts);
    const ref_pkt *rp = &r->pkt[k];
    FUZZ_CHECK(len == rp->len);
    size_t at = 0;
    for (size_t f = rp->first_frame; f < rp->first_frame + rp->nframes; f++) {
        FUZZ_CHECK(memcmp(p + at, s + r->frame_off[f], r->frame_len[f]) == 0);
        at += r->frame_len[f];
    }
}

/* An allocator whose next allocation fails when armed. */
static int fail_next;
static void *fail_malloc(size_t n)
{
    if (fail_next) {
        fail_next = 0;
        return NULL;
    }
    return malloc(n);
}
static void *fail_realloc(void *p, size_t n)
{
    if (fail_next) {
        fail_next = 0;
        return NULL;
    }
    return realloc(p, n);
}

static void read_stream(const uint8_t *s, size_t n, fuzz_cuts *cuts, int fail_once)
{
    static ref r;
    ref_read(s, n, &r);

    myr__pkt_reader rd;
    myr__pkt_reader_init(&rd);
    size_t avail = 0, pos = 0, k = 0;   /* s[pos..avail) is what the reader has not used */
    if (fail_once) {
        myr_allocator a = {fail_malloc, fail_realloc, free};
        myr_set_allocator(&a);
        fail_next = 1;
    }
    for (;;) {
        const uint8_t *p;
        size_t plen, need = 0;
        long used = myr__pkt_next(&rd, s + pos, avail - pos, &p, &plen, &need);
        if (used == MYR_ENOMEM) {
            FUZZ_CHECK(fail_once);   /* only the armed failure */
            fail_once = 0;
            continue;                 /* the retry reads on */
        }
        if (used < 0) {
            FUZZ_CHECK(used == MYR_EMALFORMED);
            FUZZ_CHECK(r.bad_seq && k == r.npkts);
            break;
        }
        if (used == 0) {
            FUZZ_CHECK(need > avail - pos);
            if (avail == n) {   /* the stream is over */
                FUZZ_CHECK(!r.bad_seq && k == r.npkts);
                FUZZ_CHECK(r.need == 0 ? pos == n && !rd.joining : r.need == pos + need);
                break;
            }
            size_t cut = fuzz_next_cut(cuts);
            if (need > 65536)   /* a large frame: its rest at once, as a sized recv gets it */
                cut = need - (avail - pos);
            avail = cut > n - avail ? n : avail + cut;
            continue;
        }
        FUZZ_CHECK((size_t)used <= avail - pos);
        pos += (size_t)used;
        if (p != NULL) {
            FUZZ_CHECK(r.npkts > k);
            check_pkt(&r, s, k++, p, plen);
        }
    }
    myr__pkt_reader_free(&rd);
    myr_set_allocator(NULL);
    fail_next = 0;
}

/* A payload framed by the writer reads back whole, its sequence ids as given. */
static void roundtrip(const uint8_t *d, size_t n, int size_pick)
{
    static const size_t sizes[4] = {0, MYR__PKT_MAX - 1, MYR__PKT_MAX, 2 * (size_t)MYR__PKT_MAX + 1};
    size_t len = size_pick == 0 ? n : sizes[size_pick];
    if (MYR__PKT_MAX > 0xFFFF && size_pick != 0 && n > 0)
        return;   /* at full size only for a bare flags byte: they cost 10^7 bytes each */
    uint8_t seq0 = n > 0 ? d[0] : 0, seq = seq0;
    myr__buf b;
    myr__buf_init(&b);
    size_t at = myr__pkt_begin(&b);
    FUZZ_CHECK(at == 0);
    FUZZ_CHECK(myr__buf_reserve(&b, len) == 0);
    uint8_t *w = myr__buf_rptr(&b) + HDR;
    for (size_t i = 0; i < len; i++)
        w[i] = i < n ? d[i] : filler(i);
    b.len += len;
    FUZZ_CHECK(myr__pkt_end(&b, at, &seq) == 0);
    size_t frames = len / MYR__PKT_MAX + 1;
    FUZZ_CHECK(seq == (uint8_t)(seq0 + frames));
    FUZZ_CHECK(myr__buf_unread(&b) == len + HDR * frames);

    myr__pkt_reader rd;
    myr__pkt_reader_init(&rd);
    rd.seq = seq0;
    size_t pos = 0, total = myr__buf_unread(&b);
    const uint8_t *s = myr__buf_rptr(&b), *p = NULL;
    size_t plen = 0, need;
    while (pos < total) {
        long used = myr__pkt_next(&rd, s + pos, total - pos, &p, &plen, &need);
        FUZZ_CHECK(used > 0);
        pos += (size_t)used;
        FUZZ_CHECK((p != NULL) == (pos == total));
    }
    FUZZ_CHECK(rd.seq == seq);
    FUZZ_CHECK(p != NULL && plen == len);
    for (size_t i = 0; i < len; i++)
        if (p[i] != (i < n ? d[i] : filler(i)))
            FUZZ_CHECK(!"payload differs");
    myr__pkt_reader_free(&rd);
    myr__buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 16384)   /* the reference reader's tables hold this much */
        return 0;
    uint8_t flags = data[0];
    size_t nseed = flags & 0x0F;
    if (nseed > size - 1)
        nseed = size - 1;
    fuzz_cuts cuts = {data + 1, nseed, 0, 5};
    const uint8_t *d = data + 1 + nseed;
    size_t n = size - 1 - nseed;

    size_t sn;
    uint8_t *s = expand(d, n, &sn);
    read_stream(s, sn, &cuts, (flags & 0x10) != 0);
    free(s);
    if (flags & 0x20)
        roundtrip(d, n, flags >> 6);
    return 0;
}
