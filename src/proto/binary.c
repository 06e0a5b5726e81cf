/*
 * src/proto/binary.c -- the binary protocol of prepared statements: the
 * COM_STMT_PREPARE answer, COM_STMT_EXECUTE / SEND_LONG_DATA / CLOSE
 * requests, binary result rows (cut into raw values by column type), and
 * the text form of a binary value: the bytes the text protocol would have
 * sent for the same value, so that a binary result reads like a text one.
 *
 * Text forms (what MariaDB's text protocol sends; checked against the
 * server in tests/integration/test_stmt.c):
 *   integers   decimal, unsigned per the column's UNSIGNED flag; ZEROFILL
 *              columns padded with '0' to the column's display length
 *              (YEAR is a zero-filled 4-wide SMALLINT on the wire).
 *   FLOAT      decimals < 31: fixed with that many decimals; otherwise the
 *              value rounded to 6 significant digits (FLT_DIG), trailing
 *              zeros dropped;
 *   DOUBLE     ... fixed likewise, otherwise the shortest digits that read
 *              back as the same double;
 *              both then in plain notation when the decimal point position
 *              decpt (value = 0.DIGITS * 10^decpt) is >= -14 and either
 *              <= 15 or inside the digits, else as D.DDDe[-]X.
 *   DATE       YYYY-MM-DD; DATETIME/TIMESTAMP add " HH:MM:SS"; TIME is
 *              [-]H...H:MM:SS with hours = days * 24 + hours (at least two
 *              digits); all with the column's decimals (1..6) of the
 *              microseconds after a '.'.
 *   the rest   (DECIMAL, strings, BLOB, BIT, ENUM, SET, JSON, GEOMETRY)
 *              travel as length-encoded bytes, the same as in text rows.
 */
#include "proto.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ prepare OK */

int myr__prep_ok_parse(const uint8_t *p, size_t len, myr__prep_ok *ok)
{
    /* 0x00 stmt_id(4) num_columns(2) num_params(2) filler(1) [warnings(2)] */
    if (len < 10 || p[0] != 0x00)
        return MYR_EMALFORMED;
    ok->stmt_id = myr__u32(p + 1);
    ok->ncols = myr__u16(p + 5);
    ok->nparams = myr__u16(p + 7);
    ok->warnings = len >= 12 ? myr__u16(p + 10) : 0;
    return 0;
}

/* ------------------------------------------------------------ parameters */

static int time_ok(const myr_time *t, int kind)
{
    if (t->microsecond > 999999 || t->minute > 59 || t->second > 59)
        return 0;
    if (kind == MYR_PARAM_TIME)
        return t->hour <= 838 && t->year == 0 && t->month == 0 && t->day == 0;
    if (t->year > 9999 || t->month > 12 || t->day > 31)
        return 0;
    if (kind == MYR_PARAM_DATE)
        return t->hour == 0 && t->minute == 0 && t->second == 0 && t->microsecond == 0;
    return t->hour <= 23;
}

int myr__param_check(const myr_param *p)
{
    switch (p->type) {
    case MYR_PARAM_NULL: case MYR_PARAM_I64: case MYR_PARAM_U64: case MYR_PARAM_DOUBLE:
        return 0;
    case MYR_PARAM_STR: case MYR_PARAM_BLOB:
        return p->v.bytes.ptr == NULL && p->v.bytes.len > 0 ? MYR_EINVAL : 0;
    case MYR_PARAM_DATE: case MYR_PARAM_TIME: case MYR_PARAM_DATETIME:
        return time_ok(&p->v.t, p->type) ? 0 : MYR_EINVAL;
    default:
        return MYR_EINVAL;
    }
}

/* Wire type and unsigned flag of a parameter. */
static void param_type(const myr_param *p, uint8_t t[2])
{
    static const uint8_t types[] = {
        [MYR_PARAM_NULL] = MYR_TYPE_NULL,       [MYR_PARAM_I64] = MYR_TYPE_LONGLONG,
        [MYR_PARAM_U64] = MYR_TYPE_LONGLONG,    [MYR_PARAM_DOUBLE] = MYR_TYPE_DOUBLE,
        [MYR_PARAM_STR] = MYR_TYPE_STRING,      [MYR_PARAM_BLOB] = MYR_TYPE_BLOB,
        [MYR_PARAM_DATE] = MYR_TYPE_DATE,       [MYR_PARAM_TIME] = MYR_TYPE_TIME,
        [MYR_PARAM_DATETIME] = MYR_TYPE_DATETIME,
    };
    t[0] = types[p->type];
    t[1] = p->type == MYR_PARAM_U64 ? 0x80 : 0;
}

static void put_le(uint8_t *d, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)(v >> (8 * i));
}

/* A parameter's value bytes (not for NULL, nor for long data). */
static int put_param_value(myr__buf *b, const myr_param *p)
{
    uint8_t tmp[13];
    size_t n = 0;
    const myr_time *t = &p->v.t;
    switch (p->type) {
    case MYR_PARAM_I64: put_le(tmp, (uint64_t)p->v.i64, 8); n = 8; break;
    case MYR_PARAM_U64: put_le(tmp, p->v.u64, 8); n = 8; break;
    case MYR_PARAM_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, &p->v.d, 8);
        put_le(tmp, bits, 8);
        n = 8;
        break;
    }
    case MYR_PARAM_STR: case MYR_PARAM_BLOB:
        return myr__put_lenenc_str(b, p->v.bytes.ptr, p->v.bytes.len);
    case MYR_PARAM_DATE:
        tmp[0] = 4;
        put_le(tmp + 1, t->year, 2);
        tmp[3] = (uint8_t)t->month;
        tmp[4] = (uint8_t)t->day;
        n = 5;
        break;
    case MYR_PARAM_DATETIME:
        tmp[0] = t->microsecond ? 11 : 7;
        put_le(tmp + 1, t->year, 2);
        tmp[3] = (uint8_t)t->month;
        tmp[4] = (uint8_t)t->day;
        tmp[5] = (uint8_t)t->hour;
        tmp[6] = (uint8_t)t->minute;
        tmp[7] = (uint8_t)t->second;
        put_le(tmp + 8, t->microsecond, 4);
        n = (size_t)tmp[0] + 1;
        break;
    case MYR_PARAM_TIME:
        tmp[0] = t->microsecond ? 12 : 8;
        tmp[1] = t->negative ? 1 : 0;
        put_le(tmp + 2, t->hour / 24, 4);
        tmp[6] = (uint8_t)(t->hour % 24);
        tmp[7] = (uint8_t)t->minute;
        tmp[8] = (uint8_t)t->second;
        put_le(tmp + 9, t->microsecond, 4);
        n = (size_t)tmp[0] + 1;
        break;
    default:
        return 0;
    }
    return myr__buf_append(b, tmp, n);
}

int myr__stmt_execute_build(myr__buf *out, uint8_t *seq, uint32_t stmt_id, const myr_param *params,
                            size_t n, const uint8_t *long_data)
{
    size_t begin = myr__pkt_begin(out);
    if (begin == SIZE_MAX)
        return MYR_ENOMEM;
    size_t bytes = 10 + (n + 7) / 8 + 1 + 2 * n;
    for (size_t i = 0; i < n; i++)
        bytes += params[i].type == MYR_PARAM_STR || params[i].type == MYR_PARAM_BLOB
                     ? 9 + params[i].v.bytes.len : 13;
    uint8_t head[10];
    head[0] = MYR__COM_STMT_EXECUTE;
    put_le(head + 1, stmt_id, 4);
    head[5] = 0;              /* CURSOR_TYPE_NO_CURSOR */
    put_le(head + 6, 1, 4);   /* iteration count */
    int rc = myr__buf_reserve(out, bytes + 4 * (1 + bytes / MYR__PKT_MAX));
    if (!rc)
        rc = myr__buf_append(out, head, sizeof head);
    if (!rc && n > 0) {
        /* NULL bitmap, new-params-bound flag, types, then the values. */
        size_t nb = (n + 7) / 8;
        uint8_t *bm = myr__buf_rptr(out) + myr__buf_unread(out);
        memset(bm, 0, nb);
        for (size_t i = 0; i < n; i++)
            if (params[i].type == MYR_PARAM_NULL)
                bm[i / 8] |= (uint8_t)(1u << (i % 8));
        out->len += nb;
        rc = myr__buf_put_u8(out, 1);
        for (size_t i = 0; !rc && i < n; i++) {
            uint8_t t[2];
            param_type(&params[i], t);
            rc = myr__buf_append(out, t, 2);
        }
        for (size_t i = 0; !rc && i < n; i++)
            if (params[i].type != MYR_PARAM_NULL && !(long_data && long_data[i]))
                rc = put_param_value(out, &params[i]);
    }
    if (!rc)
        rc = myr__pkt_end(out, begin, seq);
    if (rc)
        out->len = out->rpos + begin;
    return rc;
}

int myr__stmt_bulk_build(myr__buf *out, uint8_t *seq, uint32_t stmt_id, const myr_param *params,
                         size_t ncols, size_t nrows)
{
    size_t begin = myr__pkt_begin(out);
    if (begin == SIZE_MAX)
        return MYR_ENOMEM;
    size_t bytes = 7 + 2 * ncols;
    for (size_t i = 0; i < ncols * nrows; i++)
        bytes += 1 + (params[i].type == MYR_PARAM_STR || params[i].type == MYR_PARAM_BLOB
                          ? 9 + params[i].v.bytes.len : 13);
    uint8_t head[7];
    head[0] = MYR__COM_STMT_BULK_EXECUTE;
    put_le(head + 1, stmt_id, 4);
    put_le(head + 5, 128, 2);   /* STMT_BULK_FLAG_CLIENT_SEND_TYPES */
    int rc = myr__buf_reserve(out, bytes + 4 * (1 + bytes / MYR__PKT_MAX));
    if (!rc)
        rc = myr__buf_append(out, head, sizeof head);
    /* A column's type: its first non-NULL value's (all NULL: NULL). */
    for (size_t j = 0; !rc && j < ncols; j++) {
        const myr_param *p = &params[j];
        for (size_t i = 0; i < nrows && p->type == MYR_PARAM_NULL; i++)
            p = &params[i * ncols + j];
        uint8_t t[2];
        param_type(p, t);
        rc = myr__buf_append(out, t, 2);
    }
    /* Each value: an indicator (0 value follows, 1 NULL), then the value. */
    for (size_t i = 0; !rc && i < ncols * nrows; i++) {
        int null = params[i].type == MYR_PARAM_NULL;
        rc = myr__buf_put_u8(out, null ? 1 : 0);
        if (!rc && !null)
            rc = put_param_value(out, &params[i]);
    }
    if (!rc)
        rc = myr__pkt_end(out, begin, seq);
    if (rc)
        out->len = out->rpos + begin;
    return rc;
}

int myr__stmt_long_data_build(myr__buf *out, uint8_t *seq, uint32_t stmt_id, uint16_t param,
                              const void *data, size_t len)
{
    size_t begin = myr__pkt_begin(out);
    if (begin == SIZE_MAX)
        return MYR_ENOMEM;
    uint8_t head[7];
    head[0] = MYR__COM_STMT_SEND_LONG_DATA;
    put_le(head + 1, stmt_id, 4);
    put_le(head + 5, param, 2);
    int rc = myr__buf_reserve(out, sizeof head + len + 4 * (1 + (sizeof head + len) / MYR__PKT_MAX));
    if (!rc)
        rc = myr__buf_append(out, head, sizeof head);
    if (!rc && len)
        rc = myr__buf_append(out, data, len);
    if (!rc)
        rc = myr__pkt_end(out, begin, seq);
    if (rc)
        out->len = out->rpos + begin;
    return rc;
}

int myr__stmt_close_build(myr__buf *out, uint8_t *seq, uint32_t stmt_id)
{
    uint8_t id[4];
    put_le(id, stmt_id, 4);
    return myr__cmd_build_seq(out, MYR__COM_STMT_CLOSE, id, sizeof id, seq);
}

/* ------------------------------------------------------------- rows */

/* Width of a fixed-size value, 0 for a length-prefixed one (temporal: one
 * length byte; the rest: a length-encoded string), -1 for NULL type. */
static int fixed_width(uint8_t type)
{
    switch (type) {
    case MYR_TYPE_TINY: return 1;
    case MYR_TYPE_SHORT: case MYR_TYPE_YEAR: return 2;
    case MYR_TYPE_LONG: case MYR_TYPE_INT24: case MYR_TYPE_FLOAT: return 4;
    case MYR_TYPE_LONGLONG: case MYR_TYPE_DOUBLE: return 8;
    case MYR_TYPE_NULL: return -1;
    default: return 0;
    }
}

static int is_temporal(uint8_t type)
{
    return type == MYR_TYPE_DATE || type == MYR_TYPE_DATETIME || type == MYR_TYPE_TIMESTAMP ||
           type == MYR_TYPE_TIME || type == MYR_TYPE_NEWDATE;
}

int myr__bin_is_bytes(uint8_t type)
{
    return fixed_width(type) == 0 && !is_temporal(type);
}

int myr__binrow_parse(const uint8_t *p, size_t len, const myr_column *cols, size_t ncols,
                      myr__field *fields)
{
    size_t nb = (ncols + 7 + 2) / 8;
    if (len < 1 + nb || p[0] != 0x00)
        return MYR_EMALFORMED;
    const uint8_t *bm = p + 1;
    size_t pos = 1 + nb;
    for (size_t i = 0; i < ncols; i++) {
        size_t bit = i + 2;
        uint8_t type = cols[i].type;
        int w = fixed_width(type);
        if (bm[bit / 8] & (1u << (bit % 8))) {
            fields[i].ptr = NULL;
            fields[i].len = 0;
            continue;
        }
        if (w < 0)
            return MYR_EMALFORMED;   /* a NULL-typed column must be NULL */
        if (w > 0) {
            if (len - pos < (size_t)w)
                return MYR_EMALFORMED;
            fields[i].ptr = p + pos;
            fields[i].len = (size_t)w;
            pos += (size_t)w;
        } else if (is_temporal(type)) {
            if (pos >= len || len - pos - 1 < p[pos])
                return MYR_EMALFORMED;
            fields[i].ptr = p + pos + 1;
            fields[i].len = p[pos];
            pos += 1 + (size_t)p[pos];
        } else {
            const uint8_t *v;
            uint64_t vlen;
            size_t n = myr__lenenc_str(p + pos, len - pos, &v, &vlen);
            if (n == 0)
                return MYR_EMALFORMED;
            fields[i].ptr = v;
            fields[i].len = (size_t)vlen;
            pos += n;
        }
    }
    return pos == len ? 0 : MYR_EMALFORMED;
}

/* ------------------------------------------------------------ text forms */

static uint64_t get_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i > 0; i--)
        v = v << 8 | p[i - 1];
    return v;
}

static size_t fmt_u64(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

static size_t fmt_int(const myr_column *col, const uint8_t *raw, size_t w, char *out)
{
    uint64_t u = get_le(raw, w);
    size_t n;
    if (!(col->flags & MYR_FLAG_UNSIGNED) && w < 8 && (u >> (8 * w - 1)))
        u |= ~(uint64_t)0 << (8 * w);   /* sign-extend */
    if (!(col->flags & MYR_FLAG_UNSIGNED) && (int64_t)u < 0) {
        out[0] = '-';
        n = 1 + fmt_u64(out + 1, (uint64_t)0 - u);
    } else {
        n = fmt_u64(out, u);
    }
    if ((col->flags & MYR_FLAG_ZEROFILL) && n < col->length && col->length <= MYR__BIN_TEXT_MAX - 1) {
        size_t pad = col->length - n;
        memmove(out + pad, out, n);
        memset(out, '0', pad);
        n = col->length;
    }
    return n;
}

/* A double in MariaDB's %g-like form (my_gcvt): digits[0..len) is the
 * significand 0.DIGITS * 10^decpt. */
static size_t fmt_gcvt(char *out, int neg, const char *digits, int len, int decpt)
{
    size_t n = 0;
    if (neg)
        out[n++] = '-';
    if (decpt >= -14 && (decpt <= 15 || len > decpt)) {
        if (decpt <= 0) {
            out[n++] = '0';
            out[n++] = '.';
            for (int i = 0; i < -decpt; i++)
                out[n++] = '0';
            memcpy(out + n, digits, (size_t)len);
            n += (size_t)len;
        } else if (decpt < len) {
            memcpy(out + n, digits, (size_t)decpt);
            n += (size_t)decpt;
            out[n++] = '.';
            memcpy(out + n, digits + decpt, (size_t)(len - decpt));
            n += (size_t)(len - decpt);
        } else {
            memcpy(out + n, digits, (size_t)len);
            n += (size_t)len;
            for (int i = len; i < decpt; i++)
                out[n++] = '0';
        }
        return n;
    }
    out[n++] = digits[0];
    if (len > 1) {
        out[n++] = '.';
        memcpy(out + n, digits + 1, (size_t)(len - 1));
        n += (size_t)(len - 1);
    }
    out[n++] = 'e';
    int e = decpt - 1;
    if (e < 0) {
        out[n++] = '-';
        e = -e;
    }
    return n + fmt_u64(out + n, (uint64_t)e);
}

/* Significant digits of v (v finite, > 0) with precision p (1..17):
 * digits without trailing zeros into d, returns their count, *decpt. */
static int sig_digits(double v, int p, char *d, int *decpt)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.*e", p - 1, v);   /* D.DDDDe[+-]XX */
    int len = 0;
    for (const char *s = buf; *s && *s != 'e'; s++)
        if (*s != '.')
            d[len++] = *s;
    *decpt = atoi(strchr(buf, 'e') + 1) + 1;
    while (len > 1 && d[len - 1] == '0')
        len--;
    return len;
}

static size_t fmt_real(const myr_column *col, double v, int is_float, char *out)
{
    if (col->decimals < 31)   /* fixed decimals (FLOAT(M,D), ROUND(x, D), ...) */
        return (size_t)snprintf(out, MYR__BIN_TEXT_MAX, "%.*f", (int)col->decimals, v);
    if (isnan(v) || isinf(v))   /* the server never stores these */
        return (size_t)snprintf(out, MYR__BIN_TEXT_MAX, "%s", isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
    if (v == 0) {
        out[0] = '0';
        return 1;
    }
    int neg = v < 0;
    double a = neg ? -v : v;
    char d[24];
    int len, decpt;
    if (is_float) {
        len = sig_digits(a, 6, d, &decpt);
    } else {   /* the shortest digits that read back as the same double */
        for (int p = 1;; p++) {
            len = sig_digits(a, p, d, &decpt);
            char buf[40];
            snprintf(buf, sizeof buf, "%.*e", p - 1, a);
            if (p >= 17 || strtod(buf, NULL) == a)
                break;
        }
    }
    return fmt_gcvt(out, neg, d, len, decpt);
}

static size_t fmt_frac(const myr_column *col, unsigned usec, char *out)
{
    unsigned dec = col->decimals;
    if (dec > 6)
        dec = usec ? 6 : 0;
    if (dec == 0)
        return 0;
    char tmp[8];
    snprintf(tmp, sizeof tmp, "%06u", usec % 1000000u);
    out[0] = '.';
    memcpy(out + 1, tmp, dec);
    return 1 + dec;
}

size_t myr__bin_text(const myr_column *col, const uint8_t *raw, size_t len, char *out)
{
    int n;
    switch (col->type) {
    case MYR_TYPE_TINY: case MYR_TYPE_SHORT: case MYR_TYPE_YEAR: case MYR_TYPE_LONG:
    case MYR_TYPE_INT24: case MYR_TYPE_LONGLONG:
        return fmt_int(col, raw, len, out);
    case MYR_TYPE_FLOAT: {
        uint32_t bits = (uint32_t)get_le(raw, 4);
        float f;
        memcpy(&f, &bits, 4);
        return fmt_real(col, f, 1, out);
    }
    case MYR_TYPE_DOUBLE: {
        uint64_t bits = get_le(raw, 8);
        double d;
        memcpy(&d, &bits, 8);
        return fmt_real(col, d, 0, out);
    }
    case MYR_TYPE_DATE: case MYR_TYPE_NEWDATE: case MYR_TYPE_DATETIME: case MYR_TYPE_TIMESTAMP: {
        unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, us = 0;
        if (len >= 4) {
            y = (unsigned)get_le(raw, 2);
            mo = raw[2];
            d = raw[3];
        }
        if (len >= 7) {
            h = raw[4];
            mi = raw[5];
            s = raw[6];
        }
        if (len >= 11)
            us = (unsigned)get_le(raw + 7, 4);
        if (col->type == MYR_TYPE_DATE || col->type == MYR_TYPE_NEWDATE)
            return (size_t)snprintf(out, MYR__BIN_TEXT_MAX, "%04u-%02u-%02u", y % 10000, mo % 100, d % 100);
        n = snprintf(out, MYR__BIN_TEXT_MAX, "%04u-%02u-%02u %02u:%02u:%02u", y % 10000, mo % 100,
                     d % 100, h % 100, mi % 100, s % 100);
        return (size_t)n + fmt_frac(col, us, out + n);
    }
    case MYR_TYPE_TIME: {
        unsigned neg = 0, mi = 0, s = 0, us = 0;
        uint64_t h = 0;
        if (len >= 8) {
            neg = raw[0];
            h = get_le(raw + 1, 4) * 24 + raw[5];
            mi = raw[6];
            s = raw[7];
        }
        if (len >= 12)
            us = (unsigned)get_le(raw + 8, 4);
        n = snprintf(out, MYR__BIN_TEXT_MAX, "%s%02llu:%02u:%02u", neg ? "-" : "", (unsigned long long)h,
                     mi % 100, s % 100);
        return (size_t)n + fmt_frac(col, us, out + n);
    }
    default:
        return 0;   /* bytes types are their own text (myr__bin_is_bytes) */
    }
}
