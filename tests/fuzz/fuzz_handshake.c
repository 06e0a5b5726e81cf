/*
 * tests/fuzz/fuzz_handshake.c -- the connection phase as the server speaks
 * it: the greeting (myr__greeting_parse), the login built from it, and
 * the answers to it: OK, ERR, AuthSwitchRequest (myr__auth_switch_parse)
 * and AuthMoreData (caching_sha2's fast-auth byte, the server's RSA key in
 * PEM: myr__rsa_pem_to_der, then the password encrypted with it).
 *
 * Input: flags(1), then the server's bytes: framed packets from sequence
 * id 0 (read by the packet reader). Each packet is handled the way
 * src/conn_auth.c and src/conn_plugin.c handle it, through the same codec
 * calls; where the client answers, its packet is built and the server's
 * next sequence id skips the one the answer took.
 *   flags bit 0: the transport counts as secure (full authentication then
 *                sends the password instead of asking for a key);
 *         bit 1: a login without a password.
 *
 * Checked: every parser stays inside the packet it was given, strings come
 * back NUL-terminated inside their arrays, a scramble fits its array, and
 * every packet the client builds is framed as its header says.
 */
#include <string.h>

#include "fuzz.h"
#include "proto/proto.h"

enum { ST_GREETING, ST_AUTH, ST_DONE };
enum { STEP_NONE, STEP_FAST, STEP_KEY };   /* what AuthMoreData may be */

typedef struct hs {
    int state, step, secure;
    const char *pw;
    uint32_t caps;
    uint8_t scramble[32];
    size_t scramble_len;
    char plugin[64];
    myr__pkt_reader rd;
} hs;

static int within(const uint8_t *v, size_t vlen, const uint8_t *p, size_t len)
{
    return vlen == 0 || (v >= p && vlen <= len && (size_t)(v - p) <= len - vlen);
}

static void check_cstr(const char *s, size_t cap)
{
    FUZZ_CHECK(memchr(s, '\0', cap) != NULL);
}

/* The client's packet in out: one frame (nothing we send here is near
 * 16 MiB) with the sequence id that follows the server's. */
static void check_built(hs *h, myr__buf *out)
{
    const uint8_t *b = myr__buf_rptr(out);
    size_t n = myr__buf_unread(out);
    FUZZ_CHECK(n >= 4 && myr__u24(b) == n - 4 && b[3] == h->rd.seq);
    h->rd.seq++;   /* the server answers the client's packet */
    myr__buf_free(out);
}

/* A plugin's first answer to the server's data (conn_plugin.c's start). */
static void plugin_start(hs *h, const char *name, const uint8_t *data, size_t len)
{
    uint8_t out[64];   /* the largest first answer: an ed25519 signature */
    size_t out_len = 0;
    size_t pwl = strlen(h->pw);
    int rc;
    snprintf(h->plugin, sizeof h->plugin, "%s", name);
    h->step = STEP_NONE;
    size_t need = strcmp(name, "client_ed25519") == 0 ? 32 : strcmp(name, "mysql_clear_password") == 0 ? 0 : 20;
    if (len < need) {
        h->state = ST_DONE;
        return;
    }
    memcpy(h->scramble, data, need);
    h->scramble_len = need;
    if (strcmp(name, "mysql_native_password") == 0) {
        rc = myr__auth_native(data, len, h->pw, pwl, out, &out_len);
        FUZZ_CHECK(rc == 0 && out_len == (pwl ? 20u : 0u));
    } else if (strcmp(name, "caching_sha2_password") == 0) {
        rc = myr__auth_sha2(data, len, h->pw, pwl, out, &out_len);
        FUZZ_CHECK(rc == 0 && out_len == (pwl ? 32u : 0u));
        h->step = STEP_FAST;
    } else if (strcmp(name, "client_ed25519") == 0) {
        rc = myr__auth_ed25519(data, len, h->pw, pwl, out, &out_len);
        FUZZ_CHECK(rc == 0 && out_len == 64);
    } else if (strcmp(name, "sha256_password") == 0) {
        out_len = 1;
        out[0] = 1;   /* ask for the key */
        h->step = STEP_KEY;
    } else {
        h->state = ST_DONE;   /* 2059: a plugin we do not speak */
        return;
    }
    if (h->state == ST_AUTH) {   /* after an auth switch: the answer alone */
        myr__buf b;
        myr__buf_init(&b);
        FUZZ_CHECK(myr__auth_data_build(&b, h->rd.seq, out, out_len) == 0);
        check_built(h, &b);
    }
}

static void on_greeting(hs *h, const uint8_t *p, size_t len)
{
    if (myr__is_err(p, len)) {
        myr__err e;
        if (myr__err_parse(p, len, MYR__CLIENT_PROTOCOL_41, &e) == 0)
            FUZZ_CHECK(within(e.message, e.message_len, p, len));
        h->state = ST_DONE;
        return;
    }
    myr__greeting g;
    if (myr__greeting_parse(p, len, &g) != 0) {
        h->state = ST_DONE;
        return;
    }
    check_cstr(g.server_version, sizeof g.server_version);
    check_cstr(g.plugin, sizeof g.plugin);
    FUZZ_CHECK(g.scramble_len <= sizeof g.scramble);
    if (!(g.caps & MYR__CLIENT_PROTOCOL_41)) {
        h->state = ST_DONE;
        return;
    }
    h->caps = g.caps & (MYR__CLIENT_LONG_PASSWORD | MYR__CLIENT_PROTOCOL_41 | MYR__CLIENT_TRANSACTIONS |
                        MYR__CLIENT_SECURE_CONNECTION | MYR__CLIENT_MULTI_RESULTS | MYR__CLIENT_PLUGIN_AUTH |
                        MYR__CLIENT_PLUGIN_AUTH_LENENC_DATA | MYR__CLIENT_CONNECT_ATTRS |
                        MYR__CLIENT_DEPRECATE_EOF | MYR__CLIENT_CONNECT_WITH_DB);
    const char *plugin = g.plugin[0] ? g.plugin : "mysql_native_password";
    h->state = ST_GREETING;
    plugin_start(h, plugin, g.scramble, g.scramble_len);
    if (h->state == ST_DONE)
        return;
    static const char *const attrs[] = {"_client_name", "myring", "_pid", "1", NULL};
    uint8_t auth[20] = {0};
    myr__login l = {
        .caps = h->caps, .max_packet = 1u << 30, .charset = 45, .user = "u",
        .auth = auth, .auth_len = sizeof auth, .database = "db", .plugin = h->plugin,
        .attrs = attrs, .mariadb_caps = g.mariadb_caps,
    };
    myr__buf b;
    myr__buf_init(&b);
    int rc = myr__login_build(&b, h->rd.seq, &l);
    FUZZ_CHECK(rc == 0 || (rc == MYR_EINVAL && !(h->caps & (MYR__CLIENT_SECURE_CONNECTION |
                                                            MYR__CLIENT_PLUGIN_AUTH_LENENC_DATA))));
    if (rc == 0)
        check_built(h, &b);
    else
        myr__buf_free(&b);
    h->state = rc == 0 ? ST_AUTH : ST_DONE;
}

/* AuthMoreData (conn_plugin.c's more): the fast-auth verdict or the key. */
static void on_more(hs *h, const uint8_t *d, size_t len)
{
    if (h->step == STEP_FAST) {
        if (len != 1 || (d[0] != 3 && d[0] != 4)) {
            h->state = ST_DONE;
            return;
        }
        h->step = STEP_NONE;
        if (d[0] == 3)
            return;   /* the OK follows; the client sends nothing */
        myr__buf b;
        myr__buf_init(&b);
        if (h->secure) {
            FUZZ_CHECK(myr__auth_data_build(&b, h->rd.seq, h->pw, strlen(h->pw) + 1) == 0);
        } else {
            h->step = STEP_KEY;
            FUZZ_CHECK(myr__auth_data_build(&b, h->rd.seq, "\2", 1) == 0);
        }
        check_built(h, &b);
        return;
    }
    if (h->step != STEP_KEY) {
        h->state = ST_DONE;
        return;
    }
    uint8_t der[2 * MYR__RSA_MAX];
    size_t der_len = 0;
    if (myr__rsa_pem_to_der(d, len, der, sizeof der, &der_len) != 0) {
        h->state = ST_DONE;
        return;
    }
    FUZZ_CHECK(der_len > 0 && der_len <= sizeof der);
    uint8_t out[MYR__RSA_MAX];
    size_t out_len = 0;
    int rc = myr__rsa_encrypt_password(der, der_len, h->scramble, h->scramble_len, h->pw, strlen(h->pw), out,
                                       sizeof out, &out_len);
    FUZZ_CHECK(rc != 0 || (out_len > 0 && out_len <= sizeof out));
    if (rc != 0) {
        h->state = ST_DONE;
        return;
    }
    h->step = STEP_NONE;
    myr__buf b;
    myr__buf_init(&b);
    FUZZ_CHECK(myr__auth_data_build(&b, h->rd.seq, out, out_len) == 0);
    check_built(h, &b);
}

static void on_auth(hs *h, const uint8_t *p, size_t len)
{
    if (len == 0) {
        h->state = ST_DONE;
        return;
    }
    switch (p[0]) {
    case 0x00: {
        myr__ok ok;
        if (myr__ok_parse(p, len, h->caps, &ok) == 0)
            FUZZ_CHECK(within(ok.info, ok.info_len, p, len));
        h->state = ST_DONE;
        return;
    }
    case 0xFF: {
        myr__err e;
        if (myr__err_parse(p, len, h->caps, &e) == 0) {
            FUZZ_CHECK(within(e.message, e.message_len, p, len));
            FUZZ_CHECK(e.sqlstate[5] == '\0');
        }
        h->state = ST_DONE;
        return;
    }
    case 0xFE: {
        myr__auth_switch sw;
        if (myr__auth_switch_parse(p, len, &sw) != 0) {
            h->state = ST_DONE;
            return;
        }
        check_cstr(sw.plugin, sizeof sw.plugin);
        FUZZ_CHECK(sw.data_len <= sw.raw_len && within(sw.data, sw.raw_len, p, len));
        plugin_start(h, sw.plugin, sw.data, sw.raw_len);
        return;
    }
    case 0x01:
        on_more(h, p + 1, len - 1);
        return;
    default:
        h->state = ST_DONE;
        return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    hs h;
    memset(&h, 0, sizeof h);
    h.secure = data[0] & 1;
    h.pw = data[0] & 2 ? "" : "secret";
    myr__pkt_reader_init(&h.rd);
    const uint8_t *in = data + 1;
    size_t n = size - 1, pos = 0;
    while (h.state != ST_DONE) {
        const uint8_t *p;
        size_t plen, need;
        long used = myr__pkt_next(&h.rd, in + pos, n - pos, &p, &plen, &need);
        if (used <= 0)
            break;
        pos += (size_t)used;
        if (p == NULL)
            continue;
        if (h.state == ST_GREETING)
            on_greeting(&h, p, plen);
        else
            on_auth(&h, p, plen);
    }
    myr__pkt_reader_free(&h.rd);
    return 0;
}
