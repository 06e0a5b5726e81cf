/*
 * src/proto/handshake.c -- the connection phase's plaintext packets: parsing
 * the server's Initial Handshake v10 (greeting), building the client's
 * HandshakeResponse41 (login) and the SSLRequest that precedes TLS.
 */
#include "proto.h"

#include <string.h>

/* Copy n bytes as a NUL-terminated string into dst[cap], truncating. */
static void copy_cstr(char *dst, size_t cap, const uint8_t *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* MariaDB 10+ announces itself as "5.5.5-10.11.6-MariaDB..." so that old
 * MySQL clients that reject major version 10 keep working; users want the
 * real version. */
#define MARIADB_VERSION_PREFIX "5.5.5-"

int myr__greeting_parse(const uint8_t *p, size_t len, myr__greeting *g)
{
    memset(g, 0, sizeof *g);
    if (len < 1 || p[0] != 10)
        return MYR_EMALFORMED;
    g->protocol = p[0];

    const uint8_t *ver = p + 1;
    const uint8_t *ver_end = memchr(ver, '\0', len - 1);
    if (ver_end == NULL)
        return MYR_EMALFORMED;
    size_t ver_len = (size_t)(ver_end - ver);
    size_t pre = sizeof MARIADB_VERSION_PREFIX - 1;
    if (ver_len > pre && memcmp(ver, MARIADB_VERSION_PREFIX, pre) == 0 &&
        memmem(ver, ver_len, "MariaDB", 7) != NULL) {
        ver += pre;
        ver_len -= pre;
    }
    copy_cstr(g->server_version, sizeof g->server_version, ver, ver_len);

    /* Fixed part after the version: thread id(4) scramble1(8) filler(1)
     * caps lower(2) charset(1) status(2) caps upper(2) auth data len(1)
     * reserved(10) = 31 bytes. */
    const uint8_t *q = ver_end + 1;
    size_t left = len - (size_t)(q - p);
    if (left < 31)
        return MYR_EMALFORMED;
    g->thread_id = myr__u32(q);
    memcpy(g->scramble, q + 4, 8);
    g->scramble_len = 8;
    g->caps = myr__u16(q + 13) | (uint32_t)myr__u16(q + 18) << 16;
    g->charset = q[15];
    g->status = myr__u16(q + 16);
    size_t auth_len = q[20];
    /* MariaDB reuses the last 4 reserved bytes for its extended capabilities
     * and says so by clearing CLIENT_LONG_PASSWORD (which MySQL always sets). */
    if (!(g->caps & MYR__CLIENT_LONG_PASSWORD))
        g->mariadb_caps = myr__u32(q + 27);
    q += 31;
    left -= 31;

    if (g->caps & MYR__CLIENT_SECURE_CONNECTION) {
        size_t part2 = auth_len > 8 + 13 ? auth_len - 8 : 13;
        if (left < part2)
            return MYR_EMALFORMED;
        size_t keep = q[part2 - 1] == '\0' ? part2 - 1 : part2;  /* drop the NUL */
        if (8 + keep > sizeof g->scramble)
            return MYR_EMALFORMED;
        memcpy(g->scramble + 8, q, keep);
        g->scramble_len = 8 + keep;
        q += part2;
        left -= part2;
    }

    if (g->caps & MYR__CLIENT_PLUGIN_AUTH) {
        /* NUL-terminated, but some servers end the packet without the NUL. */
        const uint8_t *nul = memchr(q, '\0', left);
        copy_cstr(g->plugin, sizeof g->plugin, q, nul ? (size_t)(nul - q) : left);
    }
    return 0;
}

static int put_u32(myr__buf *b, uint32_t v)
{
    uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return myr__buf_append(b, t, 4);
}

static int put_cstr(myr__buf *b, const char *s)
{
    return myr__buf_append(b, s ? s : "", (s ? strlen(s) : 0) + 1);
}

static size_t lenenc_size(uint64_t v)
{
    return v < 0xFB ? 1 : v <= 0xFFFF ? 3 : v <= 0xFFFFFF ? 4 : 9;
}

/* caps, max packet, charset, 23 zero bytes: the first 32 bytes of a login
 * and the whole of an SSLRequest. */
static int put_login_head(myr__buf *b, uint32_t caps, uint32_t max_packet, uint8_t charset)
{
    static const uint8_t zeros[23];
    int rc;
    if ((rc = put_u32(b, caps)) || (rc = put_u32(b, max_packet)) ||
        (rc = myr__buf_put_u8(b, charset)) || (rc = myr__buf_append(b, zeros, sizeof zeros)))
        return rc;
    return 0;
}

static int put_login_body(myr__buf *b, const myr__login *l)
{
    int rc;
    size_t head = myr__buf_unread(b);   /* relative: a reserve may compact b */
    if ((rc = put_login_head(b, l->caps, l->max_packet, l->charset)) || (rc = put_cstr(b, l->user)))
        return rc;
    /* MariaDB's extended capabilities: the last 4 of the 23 reserved bytes. */
    for (int i = 0; i < 4; i++)
        myr__buf_rptr(b)[head + 28 + i] = (uint8_t)(l->mariadb_caps >> (8 * i));

    if (l->caps & MYR__CLIENT_PLUGIN_AUTH_LENENC_DATA) {
        rc = myr__put_lenenc_str(b, l->auth, l->auth_len);
    } else if (l->caps & MYR__CLIENT_SECURE_CONNECTION) {
        if (l->auth_len > 255)
            return MYR_EINVAL;
        if (!(rc = myr__buf_put_u8(b, (uint8_t)l->auth_len)))
            rc = myr__buf_append(b, l->auth, l->auth_len);
    } else {  /* pre-4.1 servers: NUL-terminated */
        if (memchr(l->auth, '\0', l->auth_len) != NULL)
            return MYR_EINVAL;
        if (!(rc = myr__buf_append(b, l->auth, l->auth_len)))
            rc = myr__buf_put_u8(b, 0);
    }
    if (rc)
        return rc;

    if ((l->caps & MYR__CLIENT_CONNECT_WITH_DB) && (rc = put_cstr(b, l->database)))
        return rc;
    if ((l->caps & MYR__CLIENT_PLUGIN_AUTH) && (rc = put_cstr(b, l->plugin)))
        return rc;

    if (l->caps & MYR__CLIENT_CONNECT_ATTRS) {
        /* The attributes' total length comes first: sum it before writing. */
        size_t total = 0;
        for (const char *const *a = l->attrs; a && *a; a++) {
            size_t n = strlen(*a);
            total += lenenc_size(n) + n;
        }
        if ((rc = myr__put_lenenc_int(b, total)))
            return rc;
        for (const char *const *a = l->attrs; a && *a; a++)
            if ((rc = myr__put_lenenc_str(b, *a, strlen(*a))))
                return rc;
    }
    return 0;
}

int myr__login_build(myr__buf *out, uint8_t seq, const myr__login *l)
{
    if (l->attrs != NULL && (l->caps & MYR__CLIENT_CONNECT_ATTRS)) {
        size_t n = 0;
        while (l->attrs[n] != NULL)
            n++;
        if (n % 2 != 0)    /* a key without a value */
            return MYR_EINVAL;
    }
    size_t begin = myr__pkt_begin(out);
    if (begin == SIZE_MAX)
        return MYR_ENOMEM;
    int rc = put_login_body(out, l);
    if (!rc)
        rc = myr__pkt_end(out, begin, &seq);
    if (rc)
        out->len = out->rpos + begin;   /* leave no half-written packet */
    return rc;
}

int myr__ssl_request_build(myr__buf *out, uint8_t seq, uint32_t caps, uint32_t max_packet, uint8_t charset)
{
    return myr__ssl_request_build_ext(out, seq, caps, max_packet, charset, 0);
}

int myr__ssl_request_build_ext(myr__buf *out, uint8_t seq, uint32_t caps, uint32_t max_packet,
                               uint8_t charset, uint32_t mariadb_caps)
{
    size_t begin = myr__pkt_begin(out);
    if (begin == SIZE_MAX)
        return MYR_ENOMEM;
    int rc = put_login_head(out, caps | MYR__CLIENT_SSL, max_packet, charset);
    /* MariaDB reads its extended capabilities from this first packet. */
    for (int i = 0; !rc && i < 4; i++)
        myr__buf_rptr(out)[begin + 4 + 28 + i] = (uint8_t)(mariadb_caps >> (8 * i));
    if (!rc)
        rc = myr__pkt_end(out, begin, &seq);
    if (rc)
        out->len = out->rpos + begin;
    return rc;
}

int myr__greeting_mariadb_at_least(const myr__greeting *g, unsigned major, unsigned minor)
{
    if ((g->caps & MYR__CLIENT_LONG_PASSWORD) || strstr(g->server_version, "MariaDB") == NULL)
        return 0;
    const char *v = g->server_version;
    if (strncmp(v, "5.5.5-", 6) == 0)
        v += 6;
    unsigned ma = 0, mi = 0;
    while (*v >= '0' && *v <= '9' && ma < 10000)
        ma = ma * 10 + (unsigned)(*v++ - '0');
    if (*v++ != '.')
        return 0;
    while (*v >= '0' && *v <= '9' && mi < 10000)
        mi = mi * 10 + (unsigned)(*v++ - '0');
    return ma > major || (ma == major && mi >= minor);
}
