/*
 * src/proto/packet.c -- packet framing: the 4-byte header (3-byte length,
 * 1-byte sequence id), joining payloads of 16 MiB and more that arrive in
 * several frames, and splitting them when writing.
 *
 * Offsets returned by myr__pkt_begin count from the buffer's read position
 * (b->rpos), not from b->data: myr__buf_reserve may compact the buffer while
 * the payload is appended, which moves everything but keeps positions
 * relative to rpos. Nothing may consume from b between begin and end.
 */
#include "proto.h"

#include <string.h>

#define HDR 4

void myr__pkt_reader_init(myr__pkt_reader *r)
{
    memset(r, 0, sizeof *r);
    myr__buf_init(&r->join);
}

void myr__pkt_reader_free(myr__pkt_reader *r)
{
    myr__buf_free(&r->join);
    r->joining = 0;
}

long myr__pkt_next_full(myr__pkt_reader *r, const uint8_t *in, size_t len,
                        const uint8_t **payload, size_t *plen, size_t *need)
{
    *payload = NULL;
    *plen = 0;
    /* A joined packet handed out by the previous call is no longer needed;
     * release it rather than keep a 16+ MiB buffer around. */
    if (!r->joining && r->join.cap != 0)
        myr__buf_free(&r->join);

    if (len < HDR) {
        *need = HDR;
        return 0;
    }
    size_t flen = myr__u24(in);
    if (in[3] != r->seq)        /* checked as soon as the header is there */
        return MYR_EMALFORMED;
    if (len - HDR < flen) {
        *need = HDR + flen;
        return 0;
    }
    r->seq++;   /* uint8_t: wraps mod 256 */

    if (flen == MYR__PKT_MAX || r->joining) {
        if (myr__buf_append(&r->join, in + HDR, flen) != 0) {
            r->seq--;   /* nothing consumed: the caller may retry */
            return MYR_ENOMEM;
        }
        if (flen == MYR__PKT_MAX) {
            r->joining = 1;
            return (long)(HDR + flen);      /* more frames follow */
        }
        r->joining = 0;                     /* last frame (may be empty) */
        *payload = myr__buf_rptr(&r->join);
        *plen = myr__buf_unread(&r->join);
        return (long)(HDR + flen);
    }
    *payload = in + HDR;                    /* zero-copy view */
    *plen = flen;
    return (long)(HDR + flen);
}

size_t myr__pkt_begin(myr__buf *b)
{
    static const uint8_t zero[HDR];
    size_t at = myr__buf_unread(b);
    if (myr__buf_append(b, zero, HDR) != 0)
        return SIZE_MAX;
    return at;
}

static void put_hdr(uint8_t *h, size_t flen, uint8_t seq)
{
    h[0] = (uint8_t)flen;
    h[1] = (uint8_t)(flen >> 8);
    h[2] = (uint8_t)(flen >> 16);
    h[3] = seq;
}

int myr__pkt_end(myr__buf *b, size_t begin, uint8_t *seq)
{
    size_t payload_len = myr__buf_unread(b) - begin - HDR;
    /* Frames 0..nfull-1 hold 0xFFFFFF bytes each; the last frame holds the
     * remainder, which is 0 (an empty frame) when the payload is an exact
     * multiple of 0xFFFFFF. */
    size_t nfull = payload_len / MYR__PKT_MAX;
    size_t last_len = payload_len % MYR__PKT_MAX;
    if (nfull > 0) {
        int rc = myr__buf_reserve(b, HDR * nfull);   /* may compact: offsets stay */
        if (rc)
            return rc;
    }
    uint8_t *base = myr__buf_rptr(b) + begin;    /* the first header */
    /* Frame i's payload sits at base+HDR+i*MAX and must move to
     * base+i*(MAX+HDR)+HDR: shift from the last frame down so that nothing is
     * overwritten before it has moved. Frame 0 stays where it is. */
    for (size_t i = nfull; i > 0; i--) {
        size_t n = i == nfull ? last_len : MYR__PKT_MAX;
        memmove(base + i * (MYR__PKT_MAX + HDR) + HDR, base + HDR + i * MYR__PKT_MAX, n);
        put_hdr(base + i * (MYR__PKT_MAX + HDR), n, (uint8_t)(*seq + i));
    }
    put_hdr(base, nfull ? MYR__PKT_MAX : last_len, *seq);
    b->len += HDR * nfull;
    *seq = (uint8_t)(*seq + nfull + 1);
    return 0;
}
