/*
 * tests/fuzz/fuzz_split.c -- the CLI's statement splitter (src/cli/split.c).
 *
 * Input: flags(1) nseed(1) [cut seeds] text.
 *   flags bit 0     the server has NO_BACKSLASH_ESCAPES
 *         bit 1     the server has ANSI_QUOTES
 *         bits 2-7  the callback asks to stop at that item (0: never)
 * The text is split twice: fed at once, and fed in pieces cut by the seeds
 * (fuzz.h) the way read() hands a file over. Both must give the same items
 * (the splitter works on whole lines, so where the input was cut cannot
 * matter), each NUL-terminated at its length, of a known kind, with a line
 * number no later than the last line read.
 */
#include <string.h>

#include "fuzz.h"
#include "split.h"

typedef struct items {
    uint64_t hash;     /* FNV-1a over every item's kind, line and text */
    size_t n;
    size_t stop_at;
    unsigned long max_line;
} items;

static void mix(items *it, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        it->hash ^= b[i];
        it->hash *= 0x100000001b3ull;
    }
}

static int on_item(void *arg, cli_item kind, const char *text, size_t len, unsigned long line)
{
    items *it = arg;
    FUZZ_CHECK(kind >= 0 && kind < CLI_ITEM__LAST);
    FUZZ_CHECK(text != NULL && text[len] == '\0');
    FUZZ_CHECK(line <= it->max_line);
    int k = (int)kind;
    mix(it, &k, sizeof k);
    mix(it, &line, sizeof line);
    mix(it, &len, sizeof len);
    mix(it, text, len);
    it->n++;
    return it->stop_at != 0 && it->n == it->stop_at ? 1 : 0;
}

static void split(const char *text, size_t n, uint8_t flags, fuzz_cuts *cuts, items *it, int *rc_feed,
                  int *rc_finish)
{
    memset(it, 0, sizeof *it);
    it->hash = 0xcbf29ce484222325ull;
    it->stop_at = flags >> 2;
    it->max_line = 1;
    for (size_t i = 0; i < n; i++)
        it->max_line += text[i] == '\n';
    cli_splitter s;
    cli_split_init(&s, on_item, it);
    s.no_backslash_escapes = flags & 1;
    s.ansi_quotes = (flags & 2) != 0;
    int rc = 0;
    for (size_t pos = 0; pos < n && rc == 0;) {
        size_t cut = fuzz_next_cut(cuts);
        if (cut > n - pos)
            cut = n - pos;
        rc = cli_split_feed(&s, text + pos, cut);
        pos += cut;
    }
    *rc_feed = rc;
    *rc_finish = cli_split_finish(&s);
    cli_split_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t flags = data[0];
    size_t nseed = data[1] & 0x0F;
    if (nseed > size - 2)
        nseed = size - 2;
    fuzz_cuts whole = {NULL, 0, 0, 1}, pieces = {data + 2, nseed, 0, 3};
    const char *text = (const char *)data + 2 + nseed;
    size_t n = size - 2 - nseed;

    items a, b;
    int fa, ea, fb, eb;
    split(text, n, flags, &whole, &a, &fa, &ea);
    split(text, n, flags, &pieces, &b, &fb, &eb);
    FUZZ_CHECK(a.n == b.n && a.hash == b.hash);
    FUZZ_CHECK(fa == fb && ea == eb);
    return 0;
}
