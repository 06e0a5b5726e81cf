/*
 * src/proto/wire.c -- the protocol's integer encodings: length-encoded
 * integers and strings (read with bounds checks, append to a myr__buf).
 * Fixed-width little-endian readers are inline in proto.h.
 */
#include "proto.h"

size_t myr__lenenc_int_full(const uint8_t *p, size_t len, uint64_t *v)
{
    if (len == 0)
        return 0;
    size_t width;
    switch (p[0]) {
    case 0xFB: /* NULL marker in rows, never an integer */
    case 0xFF: /* ERR header, never an integer */
        return 0;
    case 0xFC: width = 2; break;
    case 0xFD: width = 3; break;
    case 0xFE: width = 8; break;
    default:
        *v = p[0];
        return 1;
    }
    if (len < 1 + width)
        return 0;
    uint64_t x = 0;
    for (size_t i = width; i > 0; i--)
        x = x << 8 | p[i];
    *v = x;
    return 1 + width;
}

size_t myr__lenenc_str_full(const uint8_t *p, size_t len, const uint8_t **s, uint64_t *slen)
{
    if (len > 0 && p[0] < 0xFB) {   /* the common one-byte length */
        if ((size_t)p[0] > len - 1)
            return 0;
        *s = p + 1;
        *slen = p[0];
        return 1 + (size_t)p[0];
    }
    uint64_t n;
    size_t used = myr__lenenc_int(p, len, &n);
    if (used == 0 || n > len - used)
        return 0;
    *s = p + used;
    *slen = n;
    return used + (size_t)n;
}

int myr__put_lenenc_int(myr__buf *b, uint64_t v)
{
    uint8_t tmp[9];
    size_t n;
    if (v < 0xFB) {
        tmp[0] = (uint8_t)v;
        n = 1;
    } else {
        size_t width = v <= 0xFFFF ? 2 : v <= 0xFFFFFF ? 3 : 8;
        tmp[0] = width == 2 ? 0xFC : width == 3 ? 0xFD : 0xFE;
        for (size_t i = 0; i < width; i++)
            tmp[1 + i] = (uint8_t)(v >> (8 * i));
        n = 1 + width;
    }
    return myr__buf_append(b, tmp, n);
}

int myr__put_lenenc_str(myr__buf *b, const void *s, size_t n)
{
    int rc = myr__put_lenenc_int(b, n);
    return rc ? rc : myr__buf_append(b, s, n);
}
