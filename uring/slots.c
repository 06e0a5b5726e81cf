/*
 * uring/slots.c -- op slots and owners: the slot table (a freelist over
 * chunks that never move), each owner's intrusive list of its live slots,
 * user_data <-> slot mapping with generations, CQE dispatch to owners with
 * inflight accounting, and ur_owner_init/release.
 */
#include <errno.h>
#include <string.h>

#include "ur_internal.h"

static int grow(ur_loop *l)
{
    if (l->nchunks >= (UR_NO_SLOT >> UR_CHUNK_SHIFT))
        return -ENOMEM;
    ur_slot **cs = ur__realloc(l->chunks, (l->nchunks + 1) * sizeof *cs);
    if (cs == NULL)
        return -ENOMEM;
    l->chunks = cs;
    ur_slot *c = ur__malloc(UR_CHUNK_SLOTS * sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    memset(c, 0, UR_CHUNK_SLOTS * sizeof *c);
    uint32_t base = l->nchunks << UR_CHUNK_SHIFT;
    /* Chain the new slots lowest first, so slot numbers stay small. */
    for (uint32_t i = 0; i < UR_CHUNK_SLOTS; i++) {
        c[i].gen = 1;
        c[i].next = i + 1 < UR_CHUNK_SLOTS ? base + i + 1 : l->free_head;
        c[i].prev = UR_NO_SLOT;
    }
    cs[l->nchunks++] = c;
    l->free_head = base;
    return 0;
}

/* A connect's address copy goes with its slot (out of line: rare). */
static __attribute__((noinline, cold)) void slot_free_addr(ur_slot *s)
{
    ur__free(s->addr);
    s->addr = NULL;
}

uint32_t ur__slot_get(ur_loop *l, ur_owner *o, uint32_t tag)
{
    if (l->free_head == UR_NO_SLOT && grow(l) < 0)
        return UR_NO_SLOT;
    uint32_t idx = l->free_head;
    ur_slot *s = ur__slot(l, idx);
    l->free_head = s->next;
    s->owner = o;
    s->tag = tag;
    s->cancel_sent = false;
    s->quiet = false;
    /* Push onto the owner's list (order does not matter to anyone). */
    s->prev = UR_NO_SLOT;
    s->next = o->ops;
    if (o->ops != UR_NO_SLOT)
        ur__slot(l, o->ops)->prev = idx;
    o->ops = idx;
    return idx;
}

void ur__slot_put(ur_loop *l, uint32_t idx)
{
    ur_slot *s = ur__slot(l, idx);
    if (s->prev != UR_NO_SLOT)
        ur__slot(l, s->prev)->next = s->next;
    else
        s->owner->ops = s->next;
    if (s->next != UR_NO_SLOT)
        ur__slot(l, s->next)->prev = s->prev;
    s->owner = NULL;
    s->prev = UR_NO_SLOT;
    if (__builtin_expect(s->addr != NULL, 0))
        slot_free_addr(s);
    if (s->quiet) {
        s->quiet = false;
        l->quiet--;
    }
    /* A new generation, so CQEs and ids naming the old use are stale. 0 is
     * skipped: user_data below 1 << 32 is the engine's own. */
    if (++s->gen == 0)
        s->gen = 1;
    s->next = l->free_head;
    l->free_head = idx;
}

ur_slot *ur__slot_lookup(const ur_loop *l, uint64_t user_data)
{
    uint32_t idx = (uint32_t)user_data, gen = (uint32_t)(user_data >> 32);
    if (idx >= (l->nchunks << UR_CHUNK_SHIFT))
        return NULL;
    ur_slot *s = ur__slot(l, idx);
    return s->owner != NULL && s->gen == gen ? s : NULL;
}

void ur__slots_free(ur_loop *l)
{
    for (uint32_t i = 0; i < l->nchunks; i++) {
        for (uint32_t k = 0; k < UR_CHUNK_SLOTS; k++)
            ur__free(l->chunks[i][k].addr);   /* a connect still in flight */
        ur__free(l->chunks[i]);
    }
    ur__free(l->chunks);
    l->chunks = NULL;
    l->nchunks = 0;
    l->free_head = UR_NO_SLOT;
}

int ur__dispatch(ur_loop *l, uint64_t user_data, int res, uint32_t flags)
{
    if (user_data == UR_UDATA_DEADLINE) {
        /* The kernel timeout fired (-ETIME) or went away: the next flush or
         * tick arms a new one if a timer is still pending. Timeouts without
         * IORING_TIMEOUT_MULTISHOT have no F_MORE: this CQE is its last. */
        l->kt_live = false;
        return 0;
    }
    if (user_data == UR_UDATA_INTERNAL || user_data == LIBURING_UDATA_TIMEOUT)
        return 0;
    ur_slot *s = ur__slot_lookup(l, user_data);
    if (s == NULL)
        return 0;   /* stale: the slot was freed (and maybe reused) since */
    ur_owner *o = s->owner;
    uint32_t tag = s->tag;
    bool final = !(flags & IORING_CQE_F_MORE);
    if (final) {
        /* Free the slot first so the callback can reuse it; but the op still
         * counts in o->inflight during the callback, so an owner released
         * from its own callback gets on_release after the callback returns,
         * never nested inside it. */
        ur__slot_put(l, (uint32_t)user_data);
        l->used--;
    }
    o->on_complete(o, tag, res, flags);
    if (final && --o->inflight == 0 && o->releasing && o->on_release != NULL)
        o->on_release(o);   /* may free o: not touched after this */
    return 1;
}

void ur_owner_init(ur_owner *o, ur_loop *loop, ur_complete_fn fn, void (*on_release)(ur_owner *))
{
    o->loop = loop;
    o->on_complete = fn;
    o->on_release = on_release;
    o->inflight = 0;
    o->releasing = 0;
    o->ops = UR_NO_SLOT;
}

void ur_owner_release(ur_owner *o)
{
    if (o == NULL || o->releasing)
        return;
    /* From another thread, even marking the owner would race with the
     * owner thread and cancels could corrupt its SQ: do nothing (the
     * library checks the thread before). In a fork child nobody else runs
     * the loop, so the owner is marked, but the ring (the parent's) is not
     * touched: its ops complete in ur_loop_free(), then on_release runs. */
    int usable = o->loop != NULL ? ur__loop_usable(o->loop) : 0;
    if (usable == -EXDEV)
        return;
    o->releasing = 1;
    if (o->inflight == 0) {
        if (o->on_release != NULL)
            o->on_release(o);
        return;
    }
    if (usable < 0)
        return;
    /* Walk this owner's own list. Cancel is best effort: if no SQE can be
     * had the op simply completes on its own. The list cannot change under
     * us: slots leave it only in dispatch, and queueing a cancel may flush
     * the SQ but never reaps. */
    ur_loop *l = o->loop;
    for (uint32_t i = o->ops; i != UR_NO_SLOT; i = ur__slot(l, i)->next)
        (void)ur__cancel_slot(l, i);
}
