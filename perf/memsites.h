/*
 * perf/memsites.h -- where the memory of a benchmark goes (perf_scale
 * --sites / --smaps; perf/scale_sites.sh resolves the addresses).
 *
 * Sites: every live allocation myring made through its allocator hook,
 * keyed by pointer, with the call chain that made it (backtrace, the frames
 * inside the hook and myr__malloc skipped); memsites_dump prints, per chain,
 * the count and bytes (malloc_usable_size) of those made since a mark and
 * still live. Smaps: per mapping of /proc/self/smaps, Rss now minus Rss at
 * the mark. Single-threaded, for benchmarks only.
 */
#ifndef PERF_MEMSITES_H
#define PERF_MEMSITES_H

#include <execinfo.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_FRAMES 6
#define MS_SLOTS (1u << 18)   /* live allocations tracked (open addressing) */

typedef struct ms_slot {
    void *p;                  /* NULL: empty; (void *)1: deleted */
    uint32_t gen;             /* made after mark ms_gen? */
    uint16_t nframes;
    uint16_t chain;           /* its ms_chains entry */
    void *frames[MS_FRAMES];
} ms_slot;

/* Every call chain seen since the mark: allocations made, bytes, and the
 * most bytes live at once (what a burst leaves as holes in the heap). */
#define MS_CHAINS 4096u
typedef struct ms_chain {
    uint16_t nframes;
    void *frames[MS_FRAMES];
    long long n, bytes, live, peak;
} ms_chain;
static ms_chain *ms_chains;
static unsigned ms_nchains;

static ms_slot *ms_tab;
static uint32_t ms_gen;
static int ms_on;

static inline size_t ms_hash(const void *p)
{
    return (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull >> 44) & (MS_SLOTS - 1);
}

static inline void memsites_init(void)
{
    ms_chains = calloc(MS_CHAINS, sizeof *ms_chains);
    ms_tab = malloc(MS_SLOTS * sizeof *ms_tab);
    if (ms_chains == NULL)
        return;
    if (ms_tab == NULL)
        return;
    /* Written now, a page at a time (a memset after malloc may become a
     * calloc that touches nothing): not in the Rss measured after the mark. */
    volatile char *t = (volatile char *)ms_tab;
    for (size_t i = 0; i < MS_SLOTS * sizeof *ms_tab; i++)
        t[i] = 0;
    void *warm[2];
    backtrace(warm, 2);   /* loads libgcc now, not inside a hook */
    ms_on = ms_tab != NULL;
}

static inline void memsites_add(void *p)
{
    if (!ms_on || p == NULL)
        return;
    void *fr[MS_FRAMES + 2];
    int n = backtrace(fr, MS_FRAMES + 2);   /* [0] this, [1] the hook, [2] myr__malloc... */
    size_t h = ms_hash(p);
    while (ms_tab[h].p != NULL && ms_tab[h].p != (void *)1)
        h = (h + 1) & (MS_SLOTS - 1);
    ms_slot *s = &ms_tab[h];
    s->p = p;
    s->gen = ms_gen;
    s->nframes = 0;
    for (int i = 2; i < n && s->nframes < MS_FRAMES; i++)
        s->frames[s->nframes++] = fr[i];
    unsigned c = 0;
    while (c < ms_nchains && (ms_chains[c].nframes != s->nframes ||
                              memcmp(ms_chains[c].frames, s->frames, sizeof s->frames[0] * s->nframes)))
        c++;
    if (c == ms_nchains && ms_nchains < MS_CHAINS - 1) {
        ms_chains[c].nframes = s->nframes;
        memcpy(ms_chains[c].frames, s->frames, sizeof s->frames);
        ms_nchains++;
    }
    s->chain = (uint16_t)c;
    long long b = (long long)malloc_usable_size(p);
    ms_chains[c].n++;
    ms_chains[c].bytes += b;
    if ((ms_chains[c].live += b) > ms_chains[c].peak)
        ms_chains[c].peak = ms_chains[c].live;
}

static inline void memsites_del(void *p)
{
    if (!ms_on || p == NULL)
        return;
    size_t h = ms_hash(p);
    while (ms_tab[h].p != NULL) {
        if (ms_tab[h].p == p) {
            ms_chains[ms_tab[h].chain].live -= (long long)malloc_usable_size(p);
            ms_tab[h].p = (void *)1;
            return;
        }
        h = (h + 1) & (MS_SLOTS - 1);
    }
}

/* From now on: what memsites_dump reports. */
static inline void memsites_mark(void)
{
    ms_gen++;
    for (unsigned c = 0; c < ms_nchains; c++)
        ms_chains[c].n = ms_chains[c].bytes = ms_chains[c].peak = ms_chains[c].live = 0;
}

static int ms_cmp_chain(const void *a, const void *b)
{
    const ms_slot *x = *(ms_slot *const *)a, *y = *(ms_slot *const *)b;
    if (x->nframes != y->nframes)
        return x->nframes < y->nframes ? -1 : 1;
    return memcmp(x->frames, y->frames, sizeof x->frames[0] * x->nframes);
}

/* Lines "sites,<count>,<bytes>,<bytes per conn>,<offset>;<offset>;..." (offsets
 * into the executable, for addr2line), largest first, then a total. */
static inline void memsites_dump(FILE *out, int conns)
{
    if (!ms_on)
        return;
    size_t n = 0;
    ms_slot **live = malloc(MS_SLOTS * sizeof *live);
    if (live == NULL)
        return;
    for (size_t i = 0; i < MS_SLOTS; i++)
        if (ms_tab[i].p > (void *)1 && ms_tab[i].gen == ms_gen)
            live[n++] = &ms_tab[i];
    qsort(live, n, sizeof *live, ms_cmp_chain);
    extern char __executable_start;   /* the linker's: where the executable is loaded */
    uintptr_t base = (uintptr_t)&__executable_start;
    typedef struct { size_t first, count; long long bytes; } grp;
    grp *g = malloc((n + 1) * sizeof *g);
    size_t ng = 0;
    long long total = 0;
    for (size_t i = 0; i < n; i++) {
        long long b = (long long)malloc_usable_size(live[i]->p);
        total += b;
        if (ng > 0 && ms_cmp_chain(&live[g[ng - 1].first], &live[i]) == 0) {
            g[ng - 1].count++;
            g[ng - 1].bytes += b;
        } else {
            g[ng++] = (grp){i, 1, b};
        }
    }
    for (size_t i = 0; i < ng; i++)   /* largest first (selection: few groups) */
        for (size_t j = i + 1; j < ng; j++)
            if (g[j].bytes > g[i].bytes) {
                grp t = g[i];
                g[i] = g[j];
                g[j] = t;
            }
    for (size_t i = 0; i < ng; i++) {
        const ms_slot *s = live[g[i].first];
        fprintf(out, "sites,%zu,%lld,%.1f,", g[i].count, g[i].bytes, (double)g[i].bytes / conns);
        for (int k = 0; k < s->nframes; k++)
            fprintf(out, "%s%#lx", k ? ";" : "", (unsigned long)((uintptr_t)s->frames[k] - base - 1));
        fputc('\n', out);
    }
    fprintf(out, "sites-total,%zu,%lld,%.1f\n", n, total, (double)total / conns);
    /* Every chain: "allocs,<count>,<bytes>,<peak live bytes>,<offsets>". */
    for (unsigned c = 0; c < ms_nchains; c++) {
        if (ms_chains[c].n == 0)
            continue;
        fprintf(out, "allocs,%lld,%lld,%lld,", ms_chains[c].n, ms_chains[c].bytes, ms_chains[c].peak);
        for (int k = 0; k < ms_chains[c].nframes; k++)
            fprintf(out, "%s%#lx", k ? ";" : "",
                    (unsigned long)((uintptr_t)ms_chains[c].frames[k] - base - 1));
        fputc('\n', out);
    }
    free(g);
    free(live);
}

/* Rss (KiB) per mapping of /proc/self/smaps, keyed by start address. */
typedef struct ms_map {
    unsigned long start, end;
    long rss;
    char name[96];
} ms_map;
typedef struct ms_maps {
    ms_map *m;
    size_t n;
} ms_maps;

static inline ms_maps memsites_smaps(void)
{
    ms_maps r = {NULL, 0};
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f == NULL)
        return r;
    size_t cap = 0;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        long kb;
        if (sscanf(line, "%lx-%lx", &a, &b) == 2 && strchr(line, ' ') &&
            strchr(line, '-') < strchr(line, ' ')) {
            if (r.n == cap) {
                cap = cap ? cap * 2 : 64;
                r.m = realloc(r.m, cap * sizeof *r.m);
            }
            ms_map *m = &r.m[r.n++];
            memset(m, 0, sizeof *m);
            m->start = a;
            m->end = b;
            /* The name: the 6th field, if any. */
            char *p = line;
            for (int k = 0; k < 5 && p; k++) {
                p = strchr(p, ' ');
                if (p)
                    while (*p == ' ')
                        p++;
            }
            if (p) {
                p[strcspn(p, "\n")] = 0;
                snprintf(m->name, sizeof m->name, "%s", *p ? p : "[anon]");
            }
        } else if (r.n > 0 && sscanf(line, "Rss: %ld kB", &kb) == 1) {
            r.m[r.n - 1].rss = kb;
        }
    }
    fclose(f);
    return r;
}

/* Lines "smaps,<rss KiB now - at mark>,<size KiB>,<name>" for each mapping
 * whose Rss changed (new mappings count whole). */
static inline void memsites_smaps_diff(FILE *out, ms_maps before, ms_maps after)
{
    long total = 0;
    for (size_t i = 0; i < after.n; i++) {
        long was = 0;
        for (size_t j = 0; j < before.n; j++)
            if (before.m[j].start == after.m[i].start)
                was = before.m[j].rss;
        long d = after.m[i].rss - was;
        total += d;
        if (d != 0)
            fprintf(out, "smaps,%ld,%lu,%s\n", d, (after.m[i].end - after.m[i].start) / 1024,
                    after.m[i].name);
    }
    for (size_t j = 0; j < before.n; j++) {   /* gone since the mark */
        int found = 0;
        for (size_t i = 0; i < after.n && !found; i++)
            found = before.m[j].start == after.m[i].start;
        if (!found && before.m[j].rss) {
            total -= before.m[j].rss;
            fprintf(out, "smaps,%ld,%lu,%s (unmapped)\n", -before.m[j].rss,
                    (before.m[j].end - before.m[j].start) / 1024, before.m[j].name);
        }
    }
    fprintf(out, "smaps-total,%ld\n", total);
}

#endif
