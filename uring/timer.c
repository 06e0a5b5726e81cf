/*
 * uring/timer.c -- timers: a binary min-heap of ur_timer* per loop, ordered
 * by deadline (CLOCK_MONOTONIC ns), each timer knowing its heap index so stop
 * and re-arm are O(log n). No syscalls: ur_loop_tick() waits until the
 * nearest deadline and then calls ur__timers_run().
 */
#include <errno.h>
#include <time.h>

#include "ur_internal.h"

#define NOT_ARMED ((size_t)-1)

uint64_t ur_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ur_timer_init(ur_timer *t, void (*fn)(ur_timer *))
{
    t->deadline_ns = 0;
    t->heap_index = NOT_ARMED;
    t->fn = fn;
}

static void place(ur_loop *l, size_t i, ur_timer *t)
{
    l->heap[i] = t;
    t->heap_index = i;
}

static void sift_up(ur_loop *l, size_t i)
{
    ur_timer *t = l->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (l->heap[p]->deadline_ns <= t->deadline_ns)
            break;
        place(l, i, l->heap[p]);
        i = p;
    }
    place(l, i, t);
}

static void sift_down(ur_loop *l, size_t i)
{
    ur_timer *t = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->nheap)
            break;
        if (c + 1 < l->nheap && l->heap[c + 1]->deadline_ns < l->heap[c]->deadline_ns)
            c++;
        if (t->deadline_ns <= l->heap[c]->deadline_ns)
            break;
        place(l, i, l->heap[c]);
        i = c;
    }
    place(l, i, t);
}

/* Restore the heap around index i after its deadline changed either way. */
static void fix(ur_loop *l, size_t i)
{
    if (i > 0 && l->heap[(i - 1) / 2]->deadline_ns > l->heap[i]->deadline_ns)
        sift_up(l, i);
    else
        sift_down(l, i);
}

int ur_timer_start(ur_loop *l, ur_timer *t, uint64_t deadline_ns)
{
    if (l == NULL || t == NULL || t->fn == NULL)
        return -EINVAL;
    t->deadline_ns = deadline_ns;
    if (t->heap_index != NOT_ARMED) {
        fix(l, t->heap_index);
        return 0;
    }
    if (l->nheap == l->heap_cap) {
        size_t cap = l->heap_cap ? l->heap_cap * 2 : 16;
        ur_timer **h = ur__realloc(l->heap, cap * sizeof *h);
        if (h == NULL)
            return -ENOMEM;
        l->heap = h;
        l->heap_cap = cap;
    }
    place(l, l->nheap++, t);
    sift_up(l, t->heap_index);
    return 0;
}

void ur_timer_stop(ur_loop *l, ur_timer *t)
{
    if (l == NULL || t == NULL || t->heap_index == NOT_ARMED)
        return;
    size_t i = t->heap_index;
    t->heap_index = NOT_ARMED;
    ur_timer *last = l->heap[--l->nheap];
    if (i < l->nheap) {
        place(l, i, last);
        fix(l, i);
    }
}

uint64_t ur__timer_next(const ur_loop *l)
{
    return l->nheap ? l->heap[0]->deadline_ns : UINT64_MAX;
}

int ur__timers_run(ur_loop *l)
{
    uint64_t now = ur_now_ns();
    /* At most as many runs as timers were armed: a timer that re-arms itself
     * for the past waits for the next tick instead of looping forever. */
    size_t budget = l->nheap;
    int n = 0;
    while (budget-- > 0 && l->nheap > 0 && l->heap[0]->deadline_ns <= now) {
        ur_timer *t = l->heap[0];
        ur_timer_stop(l, t);   /* popped before fn runs: fn may re-arm it */
        t->fn(t);
        n++;
    }
    return n;
}
