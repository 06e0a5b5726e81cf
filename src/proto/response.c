/*
 * src/proto/response.c -- what the server answers to a command: OK, ERR and
 * old-style EOF packets, Column Definition 41, text rows, and the response
 * machine that classifies each packet of one command's response.
 *
 * The response machine (myr__resp_feed): every packet yields exactly one
 * event; done=1 on the event that ends the response, after which any further
 * packet is MYR_EMALFORMED.
 *
 *   FIRST    (first packet of the response, or of the next result after
 *            more=1):
 *              0x00             OK           done unless status has
 *                                            MORE_RESULTS; then more=1, FIRST
 *              0xFF             ERR          done
 *              0xFB             LOCAL_INFILE the server asks for a file; the
 *                                            client sends it (or an empty
 *                                            packet) and the server's OK/ERR
 *                                            comes back here, to FIRST
 *              lenenc n >= 1,   COLUMNS      ev.ncols = n; -> COLUMN
 *              nothing after it
 *              anything else    MYR_EMALFORMED
 *   COLUMN   (ncols times)      COLUMN       ev.col, ev.col_index 0..ncols-1;
 *                                            the last one is the one with
 *                                            col_index + 1 == ncols; then
 *                                            -> COLS_EOF, or with
 *                                            DEPRECATE_EOF straight to ROWS
 *                                            (no COLUMNS_END event then)
 *   COLS_EOF (no DEPRECATE_EOF) an EOF packet -> COLUMNS_END (ev.ok.status,
 *                                            ev.ok.warnings); -> ROWS
 *   ROWS       0xFE and len < 9 (no DEPRECATE_EOF: EOF packet), or
 *              0xFE and len < 0xFFFFFF (DEPRECATE_EOF: OK packet)
 *                               ROWS_END     ev.ok (affected rows and insert
 *                                            id 0 for an EOF); done unless
 *                                            MORE_RESULTS, then more=1, FIRST
 *              0xFF             ERR          done (a query can fail mid-result)
 *              otherwise        ROW          not checked here: the consumer
 *                                            passes it to myr__row_parse
 *   An ERR packet is accepted in every state before done.
 *
 * A row may start with 0xFE: its first field then uses the 8-byte length
 * form, so the row is at least 9 bytes (and in fact longer than 16 MiB),
 * which is how it is told apart from an EOF (< 9) or an OK terminator
 * (< 0xFFFFFF, a whole logical packet as joined by the packet reader).
 *
 * On top of the machine, myr__resp_read() and myr__resp_rows() are the one
 * row path: they parse rows and hand every event to a result sink, so no
 * other part of the library interprets response bytes.
 */
#include "proto.h"

#include <string.h>

enum { S_FIRST, S_COLUMN, S_COLS_EOF, S_ROWS, S_DONE,
       S_PPARAM, S_PPARAM_EOF, S_PCOL, S_PCOL_EOF,   /* PREPARE: definitions */
       S_LAST };

int myr__ok_parse(const uint8_t *p, size_t len, uint32_t caps, myr__ok *ok)
{
    memset(ok, 0, sizeof *ok);
    if (len < 1 || (p[0] != 0x00 && p[0] != 0xFE))
        return MYR_EMALFORMED;
    size_t pos = 1, n;
    if (!(n = myr__lenenc_int(p + pos, len - pos, &ok->affected_rows)))
        return MYR_EMALFORMED;
    pos += n;
    if (!(n = myr__lenenc_int(p + pos, len - pos, &ok->insert_id)))
        return MYR_EMALFORMED;
    pos += n;
    if (caps & MYR__CLIENT_PROTOCOL_41) {
        if (len - pos < 4)
            return MYR_EMALFORMED;
        ok->status = myr__u16(p + pos);
        ok->warnings = myr__u16(p + pos + 2);
        pos += 4;
    } else if (caps & MYR__CLIENT_TRANSACTIONS) {
        if (len - pos < 2)
            return MYR_EMALFORMED;
        ok->status = myr__u16(p + pos);
        pos += 2;
    }
    if (caps & MYR__CLIENT_SESSION_TRACK) {
        /* Servers omit the info string entirely when it is empty and no
         * session state changed. */
        if (pos < len) {
            uint64_t slen;
            if (!(n = myr__lenenc_str(p + pos, len - pos, &ok->info, &slen)))
                return MYR_EMALFORMED;
            ok->info_len = (size_t)slen;
            pos += n;
            if (ok->status & 0x4000) {   /* SERVER_SESSION_STATE_CHANGED */
                const uint8_t *state;
                if (!(n = myr__lenenc_str(p + pos, len - pos, &state, &slen)))
                    return MYR_EMALFORMED;
            }
        }
    } else if (pos < len) {
        /* The protocol documents string<EOF> here, but MariaDB and MySQL
         * write the info length-prefixed (and libmariadb reads it so). Take
         * the prefix when it spans exactly the rest of the packet, else the
         * bytes as they are. */
        uint64_t slen;
        const uint8_t *s;
        n = myr__lenenc_str(p + pos, len - pos, &s, &slen);
        if (n != 0 && pos + n == len) {
            ok->info = s;
            ok->info_len = (size_t)slen;
        } else {
            ok->info = p + pos;
            ok->info_len = len - pos;
        }
    }
    if (ok->info_len == 0)
        ok->info = NULL;
    return 0;
}

int myr__err_parse(const uint8_t *p, size_t len, uint32_t caps, myr__err *e)
{
    memset(e, 0, sizeof *e);
    if (len < 3 || p[0] != 0xFF)
        return MYR_EMALFORMED;
    e->code = myr__u16(p + 1);
    size_t pos = 3;
    if ((caps & MYR__CLIENT_PROTOCOL_41) && len > 3 && p[3] == '#') {
        if (len < 9)
            return MYR_EMALFORMED;
        memcpy(e->sqlstate, p + 4, 5);
        e->sqlstate[5] = '\0';
        pos = 9;
    }
    e->message = p + pos;
    e->message_len = len - pos;
    return 0;
}

int myr__coldef_parse(const uint8_t *p, size_t len, myr_column *col)
{
    /* Every field is set below on success (no memset: this runs per column). */
    struct { const char **s; size_t *n; } strs[6] = {
        {&col->catalog, &col->catalog_len}, {&col->schema, &col->schema_len},
        {&col->table, &col->table_len},     {&col->org_table, &col->org_table_len},
        {&col->name, &col->name_len},       {&col->org_name, &col->org_name_len},
    };
    size_t pos = 0, n;
    for (size_t i = 0; i < 6; i++) {
        const uint8_t *s;
        uint64_t slen;
        if (!(n = myr__lenenc_str(p + pos, len - pos, &s, &slen)))
            return MYR_EMALFORMED;
        *strs[i].s = (const char *)s;
        *strs[i].n = (size_t)slen;
        pos += n;
    }
    uint64_t fixed;   /* length of the fixed-size fields: 0x0c */
    if (!(n = myr__lenenc_int(p + pos, len - pos, &fixed)) || fixed < 12)
        return MYR_EMALFORMED;
    pos += n;
    if (len - pos < fixed)
        return MYR_EMALFORMED;
    const uint8_t *f = p + pos;
    col->charset = myr__u16(f);
    col->length = myr__u32(f + 2);
    col->type = f[6];
    col->flags = myr__u16(f + 7);
    col->decimals = f[9];
    /* f[10..12) filler; anything after the fixed fields (COM_FIELD_LIST's
     * default value) is not ours to interpret. */
    return 0;
}

/* A text row's fields, as views into p, or with copy (p's len bytes copied
 * there, plus room for one more) into the copy, each value then followed by
 * a NUL: written over the next field's length prefix in the copy, which is
 * free to overwrite because prefixes are read from p. Inlined twice, so the
 * hot copy-and-parse loop has no branch on copy left. */
static inline __attribute__((always_inline)) int parse_row(const uint8_t *p, size_t len, size_t ncols,
                                                           myr__field *fields, uint8_t *copy)
{
    const uint8_t *base = copy != NULL ? copy : p;
    size_t pos = 0;
    for (size_t i = 0; i < ncols; i++) {
        if (pos >= len)
            return MYR_EMALFORMED;
        uint8_t b = p[pos];
        if (b < 0xFB) {            /* the common case: a one-byte length */
            if (len - pos - 1 < b)
                return MYR_EMALFORMED;
            fields[i].ptr = base + pos + 1;
            fields[i].len = b;
            pos += 1 + (size_t)b;
        } else if (b == 0xFB) {    /* SQL NULL */
            fields[i].ptr = NULL;
            fields[i].len = 0;
            pos++;
            continue;
        } else {
            const uint8_t *v;
            uint64_t vlen;
            size_t n = myr__lenenc_str(p + pos, len - pos, &v, &vlen);
            if (n == 0)
                return MYR_EMALFORMED;
            fields[i].ptr = base + (v - p);
            fields[i].len = (size_t)vlen;
            pos += n;
        }
        if (copy != NULL)
            copy[pos] = '\0';   /* pos <= len: the copy has len + 1 bytes */
    }
    return pos == len ? 0 : MYR_EMALFORMED;
}

int myr__row_parse(const uint8_t *p, size_t len, size_t ncols, myr__field *fields)
{
    return parse_row(p, len, ncols, fields, NULL);
}

/* Fused with the copy: this is the hottest loop of a large result. */
static inline __attribute__((always_inline)) int row_parse_copy(const uint8_t *p, size_t len, size_t ncols,
                                                                myr__field *fields, uint8_t *copy)
{
    memcpy(copy, p, len);
    return parse_row(p, len, ncols, fields, copy);
}

int myr__row_parse_copy(const uint8_t *p, size_t len, size_t ncols, myr__field *fields, uint8_t *copy)
{
    return row_parse_copy(p, len, ncols, fields, copy);
}

void myr__resp_init(myr__resp *r, uint32_t caps)
{
    memset(r, 0, sizeof *r);
    r->state = S_FIRST;
    r->caps = caps;
}

/* Old-style EOF: 0xFE warnings(2) status(2); pre-4.1 servers send 0xFE alone. */
static void eof_parse(const uint8_t *p, size_t len, myr__ok *ok)
{
    memset(ok, 0, sizeof *ok);
    if (len >= 5) {
        ok->warnings = myr__u16(p + 1);
        ok->status = myr__u16(p + 3);
    }
}

/* A result ended with status: either the response is done or another result follows. */
static void end_result(myr__resp *r, myr__resp_ev *ev)
{
    ev->more = (ev->ok.status & MYR__STATUS_MORE_RESULTS) != 0;
    ev->done = !ev->more;
    r->state = ev->more ? S_FIRST : S_DONE;
    r->sets++;
}

int myr__colcache_add(myr__colcache *cc, const uint8_t *p, size_t len)
{
    uint8_t n[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    if (len > 0xFFFFFFFFu || myr__buf_reserve(&cc->raw, 4 + len) != 0)
        return MYR_ENOMEM;
    myr__buf_append(&cc->raw, n, 4);
    myr__buf_append(&cc->raw, p, len);
    cc->ncols++;
    return 0;
}

void myr__colcache_free(myr__colcache *cc)
{
    myr__buf_free(&cc->raw);
    cc->ncols = 0;
}

/* The statement's definitions to the sink, as if they had come. */
static int replay_columns(const myr__colcache *cc, const myr__sink *s, void *ctx)
{
    size_t pos = 0;
    for (uint32_t i = 0; i < cc->ncols; i++) {
        if (cc->raw.len - pos < 4)
            return MYR_EMALFORMED;
        size_t len = myr__u32(cc->raw.data + pos);
        pos += 4;
        if (cc->raw.len - pos < len)
            return MYR_EMALFORMED;
        int rc = s->column(ctx, i, cc->raw.data + pos, len);
        if (rc != 0)
            return rc;
        pos += len;
    }
    return 0;
}

/* PREPARE: after the OK and after each definition, what comes next:
 * nparams parameter definitions (+ EOF), ncols column definitions (+ EOF),
 * then the response is done. */
static void prep_next(myr__resp *r, myr__resp_ev *ev)
{
    int eof = !(r->caps & MYR__CLIENT_DEPRECATE_EOF);
    switch (r->state) {
    case S_FIRST:
        r->state = S_PPARAM;
        if (r->nparams > 0)
            return;
        break;
    case S_PPARAM:
        if (r->cols_seen < r->nparams)
            return;
        r->cols_seen = 0;
        if (eof) {
            r->state = S_PPARAM_EOF;
            return;
        }
        break;
    case S_PCOL:
        if (r->cols_seen < r->ncols)
            return;
        if (eof) {
            r->state = S_PCOL_EOF;
            return;
        }
        r->state = S_DONE;
        ev->done = 1;
        return;
    default:   /* an EOF after the parameters or after the columns */
        break;
    }
    if (r->state == S_PCOL_EOF || r->ncols == 0) {
        r->state = S_DONE;
        ev->done = 1;
    } else {
        r->state = S_PCOL;
    }
}

_Static_assert(S_FIRST < S_COLUMN && S_COLUMN < S_COLS_EOF && S_COLS_EOF < S_ROWS &&
               S_ROWS == MYR__RESP_STATE_ROWS && S_DONE == MYR__RESP_STATE_DONE,
               "proto.h names these states");

/* parse_cols 0: column definitions are not parsed (ev->col unset); the
 * sink gets them raw and parses what it keeps (myr__resp_read). */
static inline __attribute__((always_inline)) int feed(myr__resp *r, const uint8_t *p, size_t len,
                                                      myr__resp_ev *ev, int parse_cols)
{
    /* The hot path: a row needs no parsing here and no cleared event. */
    if (r->state == S_ROWS && len > 0 && p[0] != 0xFE && p[0] != 0xFF) {
        ev->kind = MYR__EV_ROW;
        ev->more = ev->done = 0;
        ev->ncols = r->ncols;
        return 0;
    }
    /* Each branch fills what its event carries (the parsers clear their
     * own structs), so only the common fields are reset here. */
    ev->kind = MYR__EV_OK;
    ev->more = ev->done = ev->cached = 0;
    ev->ncols = 0;
    ev->col_index = 0;
    int deprecate_eof = (r->caps & MYR__CLIENT_DEPRECATE_EOF) != 0;
    if (r->state == S_DONE || len == 0)
        return MYR_EMALFORMED;

    if (p[0] == 0xFF) {    /* never the start of anything else */
        if (myr__err_parse(p, len, r->caps, &ev->err))
            return MYR_EMALFORMED;
        ev->kind = MYR__EV_ERR;
        ev->done = 1;
        r->state = S_DONE;
        return 0;
    }

    switch (r->state) {
    case S_FIRST:
        if (r->mode == MYR__RMODE_PREPARE) {
            if (myr__prep_ok_parse(p, len, &ev->prep))
                return MYR_EMALFORMED;
            ev->kind = MYR__EV_PREPARED;
            r->nparams = ev->prep.nparams;
            r->ncols = ev->prep.ncols;
            r->cols_seen = 0;
            prep_next(r, ev);
            return 0;
        }
        if (p[0] == 0x00) {
            if (myr__ok_parse(p, len, r->caps, &ev->ok))
                return MYR_EMALFORMED;
            ev->kind = MYR__EV_OK;
            end_result(r, ev);
            return 0;
        }
        if (p[0] == 0xFB) {
            ev->kind = MYR__EV_LOCAL_INFILE;   /* the file name follows the 0xFB */
            return 0;
        }
        if (p[0] == 0xFE)       /* no count is that large; an EOF/OK can't come first */
            return MYR_EMALFORMED;
        uint64_t ncols;
        size_t n = myr__lenenc_int(p, len, &ncols);
        /* With metadata caching a byte follows: do the definitions follow? */
        if (n == 0 || len != n + (r->cache_meta != 0) || ncols == 0)
            return MYR_EMALFORMED;
        ev->kind = MYR__EV_COLUMNS;
        ev->ncols = r->ncols = ncols;
        r->cols_seen = 0;
        ev->cached = r->cache_meta && p[n] == 0;
        if (ev->cached) {
            /* Only a statement's first result set can be left out, and
             * only when we have what the server thinks we have. */
            if (r->meta == NULL || r->sets != 0 || r->meta->ncols != ncols)
                return MYR_EMALFORMED;
            r->state = deprecate_eof ? S_ROWS : S_COLS_EOF;
        } else {
            r->state = S_COLUMN;
        }
        return 0;

    case S_COLUMN:
        if (parse_cols && myr__coldef_parse(p, len, &ev->col))
            return MYR_EMALFORMED;
        ev->kind = MYR__EV_COLUMN;
        ev->ncols = r->ncols;
        ev->col_index = (size_t)r->cols_seen++;
        if (r->cols_seen == r->ncols)
            r->state = deprecate_eof ? S_ROWS : S_COLS_EOF;
        return 0;

    case S_COLS_EOF:
        if (!myr__is_eof(p, len))
            return MYR_EMALFORMED;
        ev->kind = MYR__EV_COLUMNS_END;
        ev->ncols = r->ncols;
        eof_parse(p, len, &ev->ok);
        r->state = S_ROWS;
        return 0;

    case S_PPARAM:
    case S_PCOL:
        if ((parse_cols || r->state == S_PPARAM) && myr__coldef_parse(p, len, &ev->col))
            return MYR_EMALFORMED;
        ev->kind = r->state == S_PPARAM ? MYR__EV_PARAM : MYR__EV_COLUMN;
        ev->ncols = r->ncols;
        ev->col_index = (size_t)r->cols_seen++;
        prep_next(r, ev);
        return 0;

    case S_PPARAM_EOF:
    case S_PCOL_EOF:
        if (!myr__is_eof(p, len))
            return MYR_EMALFORMED;
        ev->kind = MYR__EV_COLUMNS_END;
        ev->ncols = r->ncols;
        eof_parse(p, len, &ev->ok);
        prep_next(r, ev);
        return 0;

    case S_ROWS:
        ev->ncols = r->ncols;
        if (p[0] == 0xFE && !deprecate_eof && len < 9) {
            eof_parse(p, len, &ev->ok);
        } else if (p[0] == 0xFE && deprecate_eof && len < MYR__PKT_MAX) {
            if (myr__ok_parse(p, len, r->caps, &ev->ok))
                return MYR_EMALFORMED;
        } else {
            ev->kind = MYR__EV_ROW;
            return 0;
        }
        ev->kind = MYR__EV_ROWS_END;
        end_result(r, ev);
        return 0;
    }
    return MYR_EMALFORMED;
}

int myr__resp_feed(myr__resp *r, const uint8_t *p, size_t len, myr__resp_ev *ev)
{
    return feed(r, p, len, ev, 1);
}

/* One row payload into the sink's slots, then to the sink (inlined into
 * the fast path's loop: it runs once per row). */
static inline __attribute__((always_inline)) int sink_row(size_t ncols, const uint8_t *p, size_t len,
                                                          const myr__sink *s, void *ctx)
{
    uint8_t *copy = NULL;
    myr__field *f = s->row_slots(ctx, len, &copy);
    if (f == NULL)
        return MYR_ENOMEM;
    int rc = copy ? row_parse_copy(p, len, ncols, f, copy) : myr__row_parse(p, len, ncols, f);
    if (rc != 0)
        return MYR_EMALFORMED;
    return s->row(ctx, f, p, len);
}

/* The same for a binary row: the sink's columns give the value widths. */
static inline __attribute__((always_inline)) int sink_binrow(size_t ncols, const uint8_t *p, size_t len,
                                                             const myr__sink *s, void *ctx)
{
    if (s->bin_slots == NULL)
        return MYR_EMALFORMED;   /* a sink without binary rows */
    const myr_column *cols;
    myr__field *f = s->bin_slots(ctx, &cols);
    if (f == NULL)
        return MYR_ENOMEM;
    if (myr__binrow_parse(p, len, cols, ncols, f) != 0)
        return MYR_EMALFORMED;
    return s->bin_row(ctx, f, p, len);
}

int myr__resp_read(myr__resp *r, const uint8_t *p, size_t len, const myr__sink *s, void *ctx,
                   myr__err *err)
{
    myr__resp_ev ev;
    if (feed(r, p, len, &ev, 0) != 0)
        return MYR_EMALFORMED;
    int rc = 0;
    switch (ev.kind) {
    case MYR__EV_OK: rc = s->ok(ctx, &ev.ok); break;
    case MYR__EV_ERR:
        *err = ev.err;
        return MYR__RESP_ERR;
    case MYR__EV_COLUMNS:
        rc = s->columns(ctx, ev.ncols);
        if (rc == 0 && ev.cached) {
            rc = replay_columns(r->meta, s, ctx);
        } else if (r->meta != NULL && r->sets == 0) {
            myr__colcache_free(r->meta);   /* new definitions: they replace the old */
            r->recording = 1;
        }
        break;
    case MYR__EV_COLUMN:
        if (r->recording) {
            rc = myr__colcache_add(r->meta, p, len);
            if (ev.col_index + 1 == ev.ncols)
                r->recording = 0;
        }
        if (rc == 0)
            rc = s->column(ctx, ev.col_index, p, len);
        break;
    case MYR__EV_COLUMNS_END: break;
    case MYR__EV_ROW:
        rc = r->mode == MYR__RMODE_BINARY ? sink_binrow((size_t)r->ncols, p, len, s, ctx)
                                          : sink_row((size_t)r->ncols, p, len, s, ctx);
        break;
    case MYR__EV_ROWS_END: rc = s->end(ctx, &ev.ok); break;
    case MYR__EV_LOCAL_INFILE: return MYR__RESP_INFILE;
    case MYR__EV_PREPARED:
        rc = s->prepared ? s->prepared(ctx, &ev.prep) : MYR_EMALFORMED;
        if (rc == 0 && ev.prep.ncols > 0)
            rc = s->columns(ctx, ev.prep.ncols);
        break;
    case MYR__EV_PARAM: break;   /* parameter definitions say little: skipped */
    }
    if (rc == MYR__SINK_PAUSE) {
        r->paused = 1;
        rc = 0;
    }
    if (rc != 0)
        return rc;
    return ev.done ? MYR__RESP_DONE : MYR__RESP_MORE;
}

/* The start of a result set in the fast path: a column count alone in its
 * packet (anything else, or a count that is malformed, is the general
 * path's to classify). 1 if taken, 0 if not. */
static int first_is_columns(const myr__resp *r, const uint8_t *p, size_t len, uint64_t *ncols)
{
    /* A statement's results (definitions recorded or replayed) and every
     * kind of packet but a count are the general path's. */
    if (r->mode == MYR__RMODE_PREPARE || r->meta != NULL || p[0] == 0x00 || p[0] == 0xFB ||
        p[0] == 0xFE)
        return 0;
    size_t n = myr__lenenc_int(p, len, ncols);
    /* With metadata caching a byte follows: 1, the definitions follow. */
    if (n == 0 || len != n + (r->cache_meta != 0) || *ncols == 0)
        return 0;
    return !r->cache_meta || p[n] != 0;
}

/* Consecutive row frames from in[*pos..n): the tightest loop of a large
 * result. Stops at the first frame that is not a whole row with the right
 * sequence id (left at *pos), or after a row the sink paused at. 0,
 * MYR__SINK_PAUSE or a negative error. */
static inline __attribute__((always_inline)) int take_rows(myr__resp *r, uint8_t *seq, const uint8_t *in,
                                                           size_t n, size_t *at, const myr__sink *s,
                                                           void *ctx)
{
    size_t pos = *at, ncols = (size_t)r->ncols;
    uint8_t sq = *seq;
    int binary = r->mode == MYR__RMODE_BINARY, rc = 0;
    while (n - pos > 4) {
        uint32_t plen = myr__u24(in + pos);
        if (plen == 0 || plen == MYR__PKT_MAX || in[pos + 3] != sq || n - pos - 4 < plen)
            break;
        const uint8_t *payload = in + pos + 4;
        if (payload[0] >= 0xFE)
            break;   /* an end of rows or an error */
        rc = binary ? sink_binrow(ncols, payload, plen, s, ctx) : sink_row(ncols, payload, plen, s, ctx);
        if (rc < 0)
            break;
        sq++;
        pos += 4 + plen;
        if (rc == MYR__SINK_PAUSE)
            break;
    }
    *seq = sq;
    *at = pos;
    return rc;
}

long myr__resp_rows(myr__resp *r, uint8_t *seq, const uint8_t *in, size_t n, const myr__sink *s,
                    void *ctx)
{
    if (r->state > S_ROWS || r->mode == MYR__RMODE_PREPARE)
        return 0;
    size_t pos = 0;
    uint8_t sq = *seq;
    int deprecate_eof = (r->caps & MYR__CLIENT_DEPRECATE_EOF) != 0;
    while (n - pos > 4) {
        if (r->state == S_ROWS) {
            int rc = take_rows(r, &sq, in, n, &pos, s, ctx);
            if (rc < 0) {
                *seq = sq;
                return rc;
            }
            if (rc == MYR__SINK_PAUSE) {
                r->paused = 1;
                break;
            }
            if (n - pos <= 4)
                break;
        }
        uint32_t plen = myr__u24(in + pos);
        if (plen == 0 || plen == MYR__PKT_MAX || in[pos + 3] != sq || n - pos - 4 < plen)
            break;
        const uint8_t *payload = in + pos + 4;
        if (payload[0] == 0xFF)
            break;   /* an error: the general path */
        int rc;
        int end = 0;
        if (r->state == S_ROWS) {
            /* take_rows stopped here: this is no row. The end of the rows
             * is an EOF, or with DEPRECATE_EOF an OK (a row starting with
             * 0xFE is 16 MiB or more: a split frame, which never gets
             * here). As myr__resp_feed's S_ROWS. */
            myr__ok ok;
            if (payload[0] != 0xFE || (!deprecate_eof && plen >= 9))
                break;   /* the general path says what it is */
            if (!deprecate_eof)
                eof_parse(payload, plen, &ok);
            else if (myr__ok_parse(payload, plen, r->caps, &ok) != 0) {
                *seq = sq;
                return MYR_EMALFORMED;
            }
            rc = s->end(ctx, &ok);
            r->state = (ok.status & MYR__STATUS_MORE_RESULTS) ? S_FIRST : S_DONE;
            r->sets++;
            end = r->state == S_DONE;
        } else if (r->state == S_COLUMN) {
            if (r->recording)
                break;   /* a statement's definitions are recorded: the general path */
            size_t i = (size_t)r->cols_seen++;
            if (r->cols_seen == r->ncols)
                r->state = deprecate_eof ? S_ROWS : S_COLS_EOF;
            rc = s->column(ctx, i, payload, plen);
        } else if (r->state == S_COLS_EOF) {
            if (!myr__is_eof(payload, plen))
                break;
            r->state = S_ROWS;
            rc = 0;
        } else {   /* S_FIRST */
            uint64_t ncols;
            if (!first_is_columns(r, payload, plen, &ncols))
                break;
            r->ncols = ncols;
            r->cols_seen = 0;
            r->state = S_COLUMN;
            rc = s->columns(ctx, ncols);
        }
        if (rc < 0) {
            *seq = sq;
            return rc;
        }
        sq++;
        pos += 4 + plen;
        if (rc == MYR__SINK_PAUSE) {
            r->paused = 1;
            break;
        }
        if (end)
            break;   /* what follows is the next command's */
    }
    *seq = sq;
    return (long)pos;
}
