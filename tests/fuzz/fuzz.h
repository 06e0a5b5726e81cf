/*
 * tests/fuzz/fuzz.h -- what every fuzz target shares: the libFuzzer entry
 * point it defines, and FUZZ_CHECK for the properties it asserts (a failed
 * check aborts, which libFuzzer and the replay driver report as a crash).
 *
 * Each target is built twice: with clang and -fsanitize=fuzzer for the
 * bounded fuzzing runs (tests/fuzz/run.sh), and with the project's compiler
 * against replay.c, which feeds it every file of its corpus (ctest).
 */
#ifndef MYR_FUZZ_H
#define MYR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                 \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
            abort();                                                                     \
        }                                                                                \
    } while (0)

/* Cut points for feeding a stream in pieces, as recv would hand it over:
 * piece i has length 1 + (seed byte i mod 13) * step, where the seed bytes
 * come from the input. */
typedef struct fuzz_cuts {
    const uint8_t *seed;
    size_t nseed, i, step;
} fuzz_cuts;

static inline size_t fuzz_next_cut(fuzz_cuts *c)
{
    if (c->nseed == 0)
        return (size_t)-1;   /* everything at once */
    uint8_t b = c->seed[c->i++ % c->nseed];
    return 1 + (size_t)(b % 13) * c->step;
}

#endif
