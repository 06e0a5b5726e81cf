/* src/pkcache.c -- a loop's cache of server RSA public keys (pkcache.h):
 * a small array searched linearly (64 entries at most; it is consulted only
 * on the full-authentication path, after the server asked for it). */
#include <string.h>

#include "myring.h"
#include "alloc.h"
#include "pkcache.h"

typedef struct entry {
    char *name;
    uint8_t *der;
    size_t len;
    uint64_t used;   /* for least-recently-used eviction */
} entry;

struct myr__pkcache {
    entry e[MYR__PKCACHE_MAX];
    size_t n;
    uint64_t clock;
};

static entry *find(myr__pkcache *pc, const char *name)
{
    for (size_t i = 0; pc != NULL && i < pc->n; i++)
        if (strcmp(pc->e[i].name, name) == 0)
            return &pc->e[i];
    return NULL;
}

const uint8_t *myr__pkcache_get(myr__pkcache *pc, const char *name, size_t *len)
{
    entry *e = find(pc, name);
    *len = e ? e->len : 0;
    if (e == NULL)
        return NULL;
    e->used = ++pc->clock;
    return e->der;
}

static void entry_clear(entry *e)
{
    myr__free(e->name);
    myr__free(e->der);
    memset(e, 0, sizeof *e);
}

int myr__pkcache_put(myr__pkcache **pcp, const char *name, const uint8_t *der, size_t len)
{
    if (*pcp == NULL && (*pcp = myr__calloc(1, sizeof **pcp)) == NULL)
        return MYR_ENOMEM;
    myr__pkcache *pc = *pcp;
    uint8_t *copy = myr__malloc(len ? len : 1);
    if (copy == NULL)
        return MYR_ENOMEM;
    memcpy(copy, der, len);
    entry *e = find(pc, name);
    if (e != NULL) {
        myr__free(e->der);
    } else {
        char *n = myr__strdup(name);
        if (n == NULL) {
            myr__free(copy);
            return MYR_ENOMEM;
        }
        if (pc->n < MYR__PKCACHE_MAX) {
            e = &pc->e[pc->n++];
        } else {
            e = &pc->e[0];
            for (size_t i = 1; i < pc->n; i++)
                if (pc->e[i].used < e->used)
                    e = &pc->e[i];
            entry_clear(e);
        }
        e->name = n;
    }
    e->der = copy;
    e->len = len;
    e->used = ++pc->clock;
    return 0;
}

void myr__pkcache_drop(myr__pkcache *pc, const char *name)
{
    entry *e = find(pc, name);
    if (e == NULL)
        return;
    entry_clear(e);
    *e = pc->e[--pc->n];   /* the last one fills the hole */
    memset(&pc->e[pc->n], 0, sizeof pc->e[pc->n]);
}

size_t myr__pkcache_count(const myr__pkcache *pc) { return pc ? pc->n : 0; }

void myr__pkcache_free(myr__pkcache *pc)
{
    if (pc == NULL)
        return;
    for (size_t i = 0; i < pc->n; i++)
        entry_clear(&pc->e[i]);
    myr__free(pc);
}
