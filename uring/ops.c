/*
 * uring/ops.c -- the operations owners queue (socket, connect, send, recv,
 * read, close; quiet sends) and cancellation by op id. Each takes a slot and an SQE or
 * queues nothing at all.
 */
#include <errno.h>
#include <string.h>

#include "ur_internal.h"

/* Take a slot and an SQE for an op of o; on failure nothing is held. The
 * thread check comes first: from the wrong thread nothing is touched. */
struct io_uring_sqe *ur__op_begin(ur_owner *o, uint32_t tag, uint32_t *idx, int *err)
{
    if (o == NULL || o->loop == NULL || o->on_complete == NULL) {
        *err = -EINVAL;
        return NULL;
    }
    ur_loop *l = o->loop;
    *err = ur__loop_usable(l);
    if (*err < 0)
        return NULL;
    *idx = ur__slot_get(l, o, tag);
    if (*idx == UR_NO_SLOT) {
        *err = -ENOMEM;
        return NULL;
    }
    struct io_uring_sqe *sqe = ur__get_sqe(l, err);
    if (sqe == NULL)
        ur__slot_put(l, *idx);
    return sqe;
}

/* The op is prepared: name it and count it. */
int ur__op_commit(ur_owner *o, uint32_t idx, struct io_uring_sqe *sqe, uint64_t *id)
{
    uint64_t ud = ur__udata(o->loop, idx);
    io_uring_sqe_set_data64(sqe, ud);
    o->inflight++;
    o->loop->used++;
    if (id != NULL)
        *id = ud;
    return 0;
}

int ur_socket(ur_owner *o, uint32_t tag, int domain, int type, int protocol, uint64_t *id)
{
    uint32_t idx;
    int err;
    struct io_uring_sqe *sqe = ur__op_begin(o, tag, &idx, &err);
    if (sqe == NULL)
        return err;
    io_uring_prep_socket(sqe, domain, type, protocol, 0);
    return ur__op_commit(o, idx, sqe, id);
}

int ur_connect(ur_owner *o, uint32_t tag, int fd, const struct sockaddr *addr, socklen_t len, uint64_t *id)
{
    if (addr == NULL || len == 0 || len > sizeof(struct sockaddr_storage))
        return -EINVAL;
    /* The kernel reads the address when the SQE is submitted, which is after
     * this call returns: keep a copy with the slot (freed with it). */
    struct sockaddr_storage *copy = ur__malloc(sizeof *copy);
    if (copy == NULL)
        return -ENOMEM;
    memcpy(copy, addr, len);
    uint32_t idx;
    int err;
    struct io_uring_sqe *sqe = ur__op_begin(o, tag, &idx, &err);
    if (sqe == NULL) {
        ur__free(copy);
        return err;
    }
    ur__slot(o->loop, idx)->addr = copy;
    io_uring_prep_connect(sqe, fd, (struct sockaddr *)copy, len);
    return ur__op_commit(o, idx, sqe, id);
}

int ur_send(ur_owner *o, uint32_t tag, int fd, const void *buf, size_t len, int msg_flags, uint64_t *id)
{
    if (len > UINT32_MAX)
        return -EINVAL;   /* the SQE's length is 32 bits */
    uint32_t idx;
    int err;
    struct io_uring_sqe *sqe = ur__op_begin(o, tag, &idx, &err);
    if (sqe == NULL)
        return err;
    io_uring_prep_send(sqe, fd, buf, len, msg_flags);
    return ur__op_commit(o, idx, sqe, id);
}

int ur_send_quiet(ur_owner *o, uint32_t tag, int fd, const void *buf, size_t len, int msg_flags,
                  uint64_t *id)
{
    ur_loop *l = o != NULL ? o->loop : NULL;
    /* Where no CQE can be skipped, or in external mode (nothing would tick
     * to report the success until some other completion woke the caller),
     * or for sizes a CQE's result cannot hold: an ordinary send. */
    if (l == NULL || !(l->ring.features & IORING_FEAT_CQE_SKIP) || l->evfd >= 0 || len == 0 ||
        len > INT32_MAX)
        return ur_send(o, tag, fd, buf, len, msg_flags | MSG_WAITALL, id);
    if (l->nq == l->capq) {
        uint32_t cap = l->capq ? l->capq * 2 : 64;
        uint64_t *q = ur__realloc(l->qops, cap * sizeof *q);
        if (q == NULL)
            return ur_send(o, tag, fd, buf, len, msg_flags | MSG_WAITALL, id);
        l->qops = q;
        l->capq = cap;
    }
    uint32_t idx;
    int err;
    struct io_uring_sqe *sqe = ur__op_begin(o, tag, &idx, &err);
    if (sqe == NULL)
        return err;
    /* MSG_DONTWAIT: the kernel tries the send once, inline, when the SQE is
     * submitted, and never parks it waiting for room; with MSG_WAITALL it
     * is whole or it fails (-EAGAIN, or the partial count). So once the SQ
     * has been submitted it is over, and only a failure posts a CQE. */
    io_uring_prep_send(sqe, fd, buf, len, msg_flags | MSG_WAITALL | MSG_DONTWAIT);
    sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
    ur_slot *s = ur__slot(l, idx);
    s->quiet = true;
    s->qlen = (uint32_t)len;
    l->quiet++;
    int rc = ur__op_commit(o, idx, sqe, id);
    l->qops[l->nq++] = ur__udata(l, idx);
    return rc;
}

int ur_recv(ur_owner *o, uint32_t tag, int fd, void *buf, size_t len, int msg_flags, uint64_t *id)
{
    if (len > UINT32_MAX)
        return -EINVAL;
    uint32_t idx;
    int err;
    struct io_uring_sqe *sqe = ur__op_begin(o, tag, &idx, &err);
    if (sqe == NULL)
        return err;
    io_uring_prep_recv(sqe, fd, buf, len, msg_flags);
    return ur__op_commit(o, idx, sqe, id);
}

int ur_read(ur_owner *o, uint32_t tag, int fd, void *buf, size_t len, uint64_t *id)
{
    if (len > UINT32_MAX)
        return -EINVAL;
    uint32_t idx;
    int err;
    struct io_uring_sqe *sqe = ur__op_begin(o, tag, &idx, &err);
    if (sqe == NULL)
        return err;
    /* Offset -1: the file position, the only meaning for pipes and eventfds. */
    io_uring_prep_read(sqe, fd, buf, (unsigned)len, (uint64_t)-1);
    return ur__op_commit(o, idx, sqe, id);
}

int ur_close(ur_owner *o, uint32_t tag, int fd, uint64_t *id)
{
    uint32_t idx;
    int err;
    struct io_uring_sqe *sqe = ur__op_begin(o, tag, &idx, &err);
    if (sqe == NULL)
        return err;
    io_uring_prep_close(sqe, fd);
    return ur__op_commit(o, idx, sqe, id);
}

int ur_cancel(ur_loop *loop, uint64_t id)
{
    if (loop == NULL)
        return -EINVAL;
    int r = ur__loop_usable(loop);
    if (r < 0)
        return r;
    if (ur__slot_lookup(loop, id) == NULL)
        return -ENOENT;
    return ur__cancel_slot(loop, (uint32_t)id);
}
