/*
 * tests/fuzz/fuzz_result.c -- the result parser: the response machine
 * (myr__resp_read) and the rows fast path (myr__resp_rows) of
 * src/proto/response.c, text rows and binary rows (src/proto/binary.c),
 * into the buffered result (src/result.c's sink), then every value read
 * back through the public getters (src/result_get.c).
 *
 * Input: flags(1) nseed(1) [cut seeds] stream. The stream is what the
 * server answers to one or more pipelined commands: framed packets, each
 * response from sequence id 1. It is read the way src/conn_io.c reads it:
 * fed in pieces (cut seeds, see fuzz.h), the rows fast path tried first,
 * then whole packets through the reader into the response machine.
 *   flags bit 0     CLIENT_DEPRECATE_EOF negotiated
 *         bits 1-2  what the commands were: 0 or 3 text queries, 1
 *                   COM_STMT_EXECUTE (binary rows), 2 COM_STMT_PREPARE
 *         bit 3     the rows fast path is used
 *         bit 4     CLIENT_SESSION_TRACK negotiated
 *         bit 5     MariaDB's metadata caching negotiated (a flag byte in
 *                   every column count); with binary rows the responses
 *                   are one statement's executes: its column definitions
 *                   are recorded and replayed across them
 *
 * Checked: no read outside the input (ASan); every value the result hands
 * out is inside its memory and NUL-terminated at its length; the result's
 * counts agree with what the getters accept.
 */
#include <string.h>

#include "fuzz.h"
#include "internal.h"
#include "myring/stmt.h"

static int prepared(void *ctx, const myr__prep_ok *ok)
{
    (void)ctx;
    (void)ok;
    return 0;
}

static volatile unsigned sink_hole;   /* values read here are not optimised away */

static void check_results(myr__results *rs)
{
    for (const myr_result *r = rs->head; r != NULL; r = myr_result_next(r)) {
        size_t ncols = myr_result_column_count(r), nrows = myr_result_row_count(r);
        FUZZ_CHECK(ncols > 0 || nrows == 0);
        const char *info = myr_result_info(r);
        FUZZ_CHECK(info != NULL);
        sink_hole += (unsigned)strlen(info);
        for (size_t c = 0; c < ncols; c++) {
            const myr_column *col = myr_result_column(r, c);
            if (col == NULL) {   /* a response cut short in its definitions: none to read */
                FUZZ_CHECK(nrows == 0);
                continue;
            }
            const char *strs[] = {col->catalog, col->schema, col->table, col->org_table, col->name, col->org_name};
            size_t lens[] = {col->catalog_len, col->schema_len, col->table_len, col->org_table_len, col->name_len,
                             col->org_name_len};
            for (size_t i = 0; i < 6; i++)
                for (size_t j = 0; j < lens[i]; j++)
                    sink_hole += (unsigned char)strs[i][j];
        }
        FUZZ_CHECK(myr_result_column(r, ncols) == NULL);
        for (size_t row = 0; row < nrows; row++) {
            for (size_t c = 0; c < ncols; c++) {
                size_t len = 7;
                const char *v = myr_result_value(r, row, c, &len);
                if (v == NULL) {
                    FUZZ_CHECK(len == 0);
                } else {
                    for (size_t j = 0; j < len; j++)
                        sink_hole += (unsigned char)v[j];
                    FUZZ_CHECK(v[len] == '\0');
                }
                int64_t i64;
                uint64_t u64;
                double d;
                myr_time t;
                int rc = myr_result_int64(r, row, c, &i64);
                FUZZ_CHECK(rc == 0 || rc == 1 || rc < 0);
                FUZZ_CHECK((rc == 1) == (v == NULL) || rc < 0);
                (void)myr_result_uint64(r, row, c, &u64);
                (void)myr_result_double(r, row, c, &d);
                (void)myr_result_time(r, row, c, &t);
            }
        }
        size_t len = 7;
        FUZZ_CHECK(myr_result_value(r, nrows, 0, &len) == NULL);
    }
    myr__results_clear(rs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t flags = data[0];
    size_t nseed = data[1] & 0x0F;
    if (nseed > size - 2)
        nseed = size - 2;
    fuzz_cuts cuts = {data + 2, nseed, 0, 7};
    const uint8_t *in = data + 2 + nseed;
    size_t n = size - 2 - nseed;

    uint32_t caps = MYR__CLIENT_PROTOCOL_41 | MYR__CLIENT_TRANSACTIONS | MYR__CLIENT_MULTI_RESULTS;
    if (flags & 1)
        caps |= MYR__CLIENT_DEPRECATE_EOF;
    if (flags & 0x10)
        caps |= MYR__CLIENT_SESSION_TRACK;
    int mode = (flags >> 1) & 3;
    if (mode == 3)
        mode = MYR__RMODE_TEXT;
    int fast = (flags & 8) != 0;
    int cache_meta = (flags & 0x20) != 0;
    myr__colcache cols = {0};   /* the statement's definitions, across its executes */

    myr__sink sink = myr__results_sink;
    sink.prepared = prepared;
    myr__results rs = {0};
    myr__resp resp;
    myr__resp_init(&resp, caps);
    resp.mode = (uint8_t)mode;
    resp.cache_meta = (uint8_t)cache_meta;
    resp.meta = cache_meta && mode == MYR__RMODE_BINARY ? &cols : NULL;
    myr__pkt_reader rd;
    myr__pkt_reader_init(&rd);
    rd.seq = 1;

    size_t pos = 0, avail = 0;
    for (;;) {
        if (fast && !rd.joining) {
            long used = myr__resp_rows(&resp, &rd.seq, in + pos, avail - pos, &sink, &rs);
            if (used < 0)
                break;
            FUZZ_CHECK((size_t)used <= avail - pos);
            pos += (size_t)used;
            FUZZ_CHECK(!resp.paused);   /* the buffered result never pauses */
        }
        const uint8_t *p;
        size_t plen, need = 0;
        long used = myr__pkt_next(&rd, in + pos, avail - pos, &p, &plen, &need);
        if (used < 0)
            break;
        if (used == 0) {
            FUZZ_CHECK(need > avail - pos);
            if (avail == n)
                break;
            size_t cut = fuzz_next_cut(&cuts);
            avail = cut > n - avail ? n : avail + cut;
            continue;
        }
        pos += (size_t)used;
        if (p == NULL)
            continue;
        myr__err e;
        int rc = myr__resp_read(&resp, p, plen, &sink, &rs, &e);
        FUZZ_CHECK(!resp.paused);
        if (rc < 0) {
            FUZZ_CHECK(rc == MYR_EMALFORMED);   /* no allocation fails here */
            FUZZ_CHECK(cols.raw.len <= n);      /* recorded from the input only */
            break;
        }
        if (rc == MYR__RESP_INFILE) {
            rd.seq++;   /* the client's empty packet took one */
            continue;
        }
        if (rc == MYR__RESP_ERR) {
            FUZZ_CHECK(e.message_len <= plen && e.message >= p && e.message + e.message_len <= p + plen);
            FUZZ_CHECK(e.sqlstate[5] == '\0');
        }
        if (rc == MYR__RESP_DONE || rc == MYR__RESP_ERR) {
            /* the next pipelined command's response */
            check_results(&rs);
            myr__resp_init(&resp, caps);
            resp.mode = (uint8_t)mode;
            resp.cache_meta = (uint8_t)cache_meta;
            resp.meta = cache_meta && mode == MYR__RMODE_BINARY ? &cols : NULL;
            rd.seq = 1;
        }
    }
    check_results(&rs);
    myr__pkt_reader_free(&rd);
    myr__colcache_free(&cols);
    return 0;
}
