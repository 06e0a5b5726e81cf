/* tests/proto/test_response_meta.c -- MariaDB's metadata caching in the
 * response machine (src/proto/response.c): with cache_meta set every column
 * count carries a "definitions follow" byte; definitions that follow are
 * recorded into the statement's cache (first result set only) and passed
 * on; definitions left out are replayed from the cache; a count left out
 * without a cache, with another count, or in a later result set, and a
 * count without its byte, are malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/proto.h"

typedef struct pkt { const uint8_t *p; size_t len; } pkt;
#define P(lit) ((pkt){(const uint8_t *)(lit), sizeof(lit) - 1})

#define CAPS_DEOF (MYR__CLIENT_PROTOCOL_41 | MYR__CLIENT_TRANSACTIONS | MYR__CLIENT_MULTI_RESULTS | \
                   MYR__CLIENT_DEPRECATE_EOF)
#define COL_A "\x03" "def" "\x00" "\x00" "\x00" "\x01" "a" "\x00" \
              "\x0c" "\x3f\x00" "\x0b\x00\x00\x00" "\x08" "\x00\x00" "\x00" "\x00\x00"
#define COL_B "\x03" "def" "\x00" "\x00" "\x00" "\x01" "b" "\x00" \
              "\x0c" "\x3f\x00" "\x0b\x00\x00\x00" "\x08" "\x00\x00" "\x00" "\x00\x00"
#define END      "\xfe" "\x00" "\x00" "\x02\x00" "\x00\x00"
#define END_MORE "\xfe" "\x00" "\x00" "\x0a\x00" "\x00\x00"

/* A sink that writes what it gets into a string. */
typedef struct rec { char s[512]; } rec;
static void add(rec *r, const char *t) { strncat(r->s, t, sizeof r->s - strlen(r->s) - 1); }
static int r_ok(void *ctx, const myr__ok *ok) { (void)ok; add(ctx, "ok "); return 0; }
static int r_columns(void *ctx, uint64_t n)
{
    char t[32];
    snprintf(t, sizeof t, "cols%u ", (unsigned)n);
    add(ctx, t);
    return 0;
}
static int r_column(void *ctx, size_t i, const uint8_t *p, size_t len)
{
    myr_column c;
    assert_int_equal(myr__coldef_parse(p, len, &c), 0);
    char t[32];
    snprintf(t, sizeof t, "%zu=%.*s ", i, (int)c.name_len, c.name);
    add(ctx, t);
    return 0;
}
static myr__field g_slots[4];
static myr__field *r_slots(void *ctx, size_t len, uint8_t **copy)
{
    (void)ctx;
    (void)len;
    *copy = NULL;
    return g_slots;
}
static int r_row(void *ctx, myr__field *f, const uint8_t *p, size_t len)
{
    (void)f;
    (void)p;
    (void)len;
    add(ctx, "row ");
    return 0;
}
static int r_end(void *ctx, const myr__ok *ok) { (void)ok; add(ctx, "end "); return 0; }
static const myr__sink sink = {.ok = r_ok, .columns = r_columns, .column = r_column,
                               .row_slots = r_slots, .row = r_row, .end = r_end};

/* Feed pkts; returns the last myr__resp_read answer. */
static int feed_all(myr__colcache *cc, int cache_meta, const pkt *pkts, size_t n, rec *r)
{
    myr__resp resp;
    myr__resp_init(&resp, CAPS_DEOF);
    resp.cache_meta = (uint8_t)cache_meta;
    resp.meta = cc;
    memset(r, 0, sizeof *r);
    myr__err e;
    int rc = 0;
    for (size_t i = 0; i < n && rc == MYR__RESP_MORE; i++)
        rc = myr__resp_read(&resp, pkts[i].p, pkts[i].len, &sink, r, &e);
    return rc;
}

static void test_record_and_replay(void **state)
{
    (void)state;
    myr__colcache cc = {0};
    rec r;
    /* Definitions follow: passed on and recorded. */
    const pkt sent[] = {P("\x02" "\x01"), P(COL_A), P(COL_B), P("\x01" "1" "\x01" "2"), P(END)};
    assert_int_equal(feed_all(&cc, 1, sent, 5, &r), MYR__RESP_DONE);
    assert_string_equal(r.s, "cols2 0=a 1=b row end ");
    assert_int_equal(cc.ncols, 2);
    /* Left out: replayed from the cache, rows follow at once. */
    const pkt skipped[] = {P("\x02" "\x00"), P("\x01" "1" "\x01" "2"), P(END)};
    assert_int_equal(feed_all(&cc, 1, skipped, 3, &r), MYR__RESP_DONE);
    assert_string_equal(r.s, "cols2 0=a 1=b row end ");
    /* New definitions replace the old ones. */
    const pkt one[] = {P("\x01" "\x01"), P(COL_B), P("\x01" "2"), P(END)};
    assert_int_equal(feed_all(&cc, 1, one, 4, &r), MYR__RESP_DONE);
    assert_int_equal(cc.ncols, 1);
    const pkt one_skipped[] = {P("\x01" "\x00"), P("\x01" "2"), P(END)};
    assert_int_equal(feed_all(&cc, 1, one_skipped, 3, &r), MYR__RESP_DONE);
    assert_string_equal(r.s, "cols1 0=b row end ");
    /* Only the first result set is recorded or replayed. */
    const pkt two_sets[] = {P("\x01" "\x01"), P(COL_A), P("\x01" "1"), P(END_MORE),
                            P("\x01" "\x01"), P(COL_A), P("\x01" "1"), P(END)};
    assert_int_equal(feed_all(&cc, 1, two_sets, 8, &r), MYR__RESP_DONE);
    assert_string_equal(r.s, "cols1 0=a row end cols1 0=a row end ");
    assert_int_equal(cc.ncols, 1);
    myr__colcache_free(&cc);
}

static void test_malformed(void **state)
{
    (void)state;
    myr__colcache cc = {0};
    rec r;
    const pkt no_cache[] = {P("\x02" "\x00")};
    assert_int_equal(feed_all(NULL, 1, no_cache, 1, &r), MYR_EMALFORMED);
    assert_int_equal(feed_all(&cc, 1, no_cache, 1, &r), MYR_EMALFORMED);   /* 0 columns cached */
    const pkt rec1[] = {P("\x01" "\x01"), P(COL_A), P("\x01" "1"), P(END)};
    assert_int_equal(feed_all(&cc, 1, rec1, 4, &r), MYR__RESP_DONE);
    assert_int_equal(feed_all(&cc, 1, no_cache, 1, &r), MYR_EMALFORMED);   /* 2 asked, 1 cached */
    const pkt later[] = {P("\x01" "\x01"), P(COL_A), P("\x01" "1"), P(END_MORE), P("\x01" "\x00")};
    assert_int_equal(feed_all(&cc, 1, later, 5, &r), MYR_EMALFORMED);
    const pkt no_byte[] = {P("\x01")};
    assert_int_equal(feed_all(&cc, 1, no_byte, 1, &r), MYR_EMALFORMED);
    /* Without cache_meta the byte is not there: a count with one is malformed. */
    const pkt with_byte[] = {P("\x01" "\x01")};
    assert_int_equal(feed_all(&cc, 0, with_byte, 1, &r), MYR_EMALFORMED);
    myr__colcache_free(&cc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_and_replay),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
