/*
 * uring/bufring.c -- provided-buffer rings (IORING_REGISTER_PBUF_RING): a
 * loop's receives take a buffer from a shared ring only when bytes arrive,
 * so a socket watched by a receive holds no buffer while it is quiet. One
 * anonymous mapping holds the ring's entries (page-aligned, as the kernel
 * wants) and the buffers; the owner gives each buffer back as soon as it
 * has used its bytes. Freed with the loop, after the ring is gone.
 *
 * UR_BUFRING_INC (kernel 6.12+, IOU_PBUF_RING_INC; plain elsewhere): a
 * receive takes only the bytes it needs from the buffer at the ring's head,
 * the next one goes on where it stopped, so a thousand small answers land in
 * a few pages instead of a page each. A buffer goes back to the ring once
 * the kernel is done with it (a completion without IORING_CQE_F_BUF_MORE)
 * and its owner has used that completion's bytes.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ur_internal.h"

_Static_assert(UR_CQE_MORE == IORING_CQE_F_MORE, "ur.h's copy of IORING_CQE_F_MORE");

/* Newer than liburing 2.3's headers (the kernel's uapi values). */
#define PBUF_RING_INC 2u            /* IOU_PBUF_RING_INC, io_uring_buf_reg.flags */
#define CQE_F_BUF_MORE (1u << 4)    /* IORING_CQE_F_BUF_MORE */

struct ur_bufring {
    ur_bufring *next;           /* the loop's rings */
    struct io_uring_buf_ring *ring;
    uint8_t *bufs;              /* nbufs * size bytes */
    size_t map_len;
    unsigned nbufs, size;
    int mask;
    uint16_t bgid;
    uint8_t inc;                /* consumed incrementally (UR_BUFRING_INC took) */
    uint32_t *off;              /* inc: bytes of each buffer used so far */
};

int ur_bufring_new(ur_loop *l, uint16_t bgid, unsigned nbufs, unsigned size, unsigned flags,
                   ur_bufring **out)
{
    *out = NULL;
    if (l == NULL || nbufs == 0 || nbufs > 32768 || (nbufs & (nbufs - 1)) != 0 || size == 0)
        return -EINVAL;
    int r = ur__loop_usable(l);
    if (r < 0)
        return r;
    ur_bufring *br = ur__malloc(sizeof *br);
    if (br == NULL)
        return -ENOMEM;
    memset(br, 0, sizeof *br);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t ring_len = ((size_t)nbufs * sizeof(struct io_uring_buf) + page - 1) & ~(page - 1);
    br->map_len = ring_len + (size_t)nbufs * size;
    void *m = mmap(NULL, br->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        ur__free(br);
        return -ENOMEM;
    }
    br->ring = m;
    br->bufs = (uint8_t *)m + ring_len;
    br->nbufs = nbufs;
    br->size = size;
    br->bgid = bgid;
    br->mask = io_uring_buf_ring_mask(nbufs);
    io_uring_buf_ring_init(br->ring);
    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof reg);
    reg.ring_addr = (uint64_t)(uintptr_t)br->ring;
    reg.ring_entries = nbufs;
    reg.bgid = bgid;
    r = -EINVAL;
    if ((flags & UR_BUFRING_INC) && (br->off = ur__malloc(nbufs * sizeof *br->off)) != NULL) {
        memset(br->off, 0, nbufs * sizeof *br->off);
        reg.pad = PBUF_RING_INC;   /* liburing 2.3 calls the kernel's flags pad */
        r = io_uring_register_buf_ring(&l->ring, &reg, 0);
        reg.pad = 0;
        if (r == 0)
            br->inc = 1;
    }
    if (r == -EINVAL)   /* no incremental consumption before 6.12 */
        r = io_uring_register_buf_ring(&l->ring, &reg, 0);
    if (r < 0) {
        ur__free(br->off);
        munmap(m, br->map_len);
        ur__free(br);
        return r;
    }
    for (unsigned i = 0; i < nbufs; i++)
        io_uring_buf_ring_add(br->ring, br->bufs + (size_t)i * size, size, (unsigned short)i, br->mask,
                              (int)i);
    io_uring_buf_ring_advance(br->ring, (int)nbufs);
    br->next = l->bufrings;
    l->bufrings = br;
    *out = br;
    return 0;
}

void ur__bufrings_free(ur_loop *l)
{
    while (l->bufrings != NULL) {
        ur_bufring *br = l->bufrings;
        l->bufrings = br->next;
        munmap(br->ring, br->map_len);
        ur__free(br->off);
        ur__free(br);
    }
}

uint8_t *ur_bufring_get(const ur_bufring *br, uint32_t cqe_flags, unsigned *bid)
{
    if (!(cqe_flags & IORING_CQE_F_BUFFER))
        return NULL;
    unsigned id = cqe_flags >> IORING_CQE_BUFFER_SHIFT;
    if (id >= br->nbufs)
        return NULL;
    *bid = id;
    return br->bufs + (size_t)id * br->size + (br->inc ? br->off[id] : 0);
}

void ur_bufring_put(ur_bufring *br, unsigned bid, uint32_t cqe_flags, int res)
{
    if (br->inc) {
        /* Nothing taken (the end of the stream) leaves the buffer at the
         * ring's head; one still in use by the kernel goes on after res. */
        if (res <= 0)
            return;
        if (cqe_flags & CQE_F_BUF_MORE) {
            br->off[bid] += (uint32_t)res;
            return;
        }
        br->off[bid] = 0;
    }
    io_uring_buf_ring_add(br->ring, br->bufs + (size_t)bid * br->size, br->size, (unsigned short)bid,
                          br->mask, 0);
    io_uring_buf_ring_advance(br->ring, 1);
}

unsigned ur_bufring_size(const ur_bufring *br) { return br->size; }

int ur_bufring_inc(const ur_bufring *br) { return br->inc; }

int ur_recv_ring(ur_owner *o, uint32_t tag, int fd, ur_bufring *br, int multishot, uint64_t *id)
{
    if (br == NULL)
        return -EINVAL;
    uint32_t idx;
    int err;
    struct io_uring_sqe *sqe = ur__op_begin(o, tag, &idx, &err);
    if (sqe == NULL)
        return err;
    if (multishot)
        io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
    else
        io_uring_prep_recv(sqe, fd, NULL, br->size, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = br->bgid;
    return ur__op_commit(o, idx, sqe, id);
}
