/*
 * src/conn_plugin.c -- the authentication plugins' client side (see
 * conn_plugin.h): one table entry per plugin with its first answer and its
 * AuthMoreData handler; the RSA key chosen from a key file, the loop's cache
 * or the server; the password never copied anywhere that is not wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conn_plugin.h"
#include "pkcache.h"

/* What the next AuthMoreData of the current plugin is (c->hs->auth_step). */
enum {
    AS_NONE,       /* no AuthMoreData expected: only OK/ERR */
    AS_SHA2_FAST,  /* caching_sha2: 0x03 (fast auth done) or 0x04 (full auth) */
    AS_KEY_WAIT,   /* we asked for the server's public key: the PEM */
};

#define SCRAMBLE_LEN 20
#define KEY_FILE_MAX 65536

typedef struct plugin {
    const char *name;
    size_t scramble_len;   /* bytes of the server's data it needs */
    int (*start)(myr_conn *c, uint8_t *out, size_t *out_len);
    int (*more)(myr_conn *c, const uint8_t *data, size_t len, uint8_t *out, size_t *out_len);
} plugin;

static const char *password(const myr_conn *c, size_t *len)
{
    const char *pw = c->opts.password ? c->opts.password : "";
    *len = strlen(pw);
    return pw;
}

static int plugin_error(myr_conn *c, const char *why)
{
    myr__conn_fail(c, MYR_EAUTH, 2061, "Authentication plugin '%s' reported error: %s", c->plugin, why);
    return MYR_EAUTH;
}

static int malformed(myr_conn *c)
{
    myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (unexpected auth data for '%s')", c->plugin);
    return MYR_EMALFORMED;
}

/* The password with its NUL, for a secure transport. */
static int clear_password(myr_conn *c, uint8_t *out, size_t *out_len)
{
    size_t n;
    const char *pw = password(c, &n);
    if (n + 1 > MYR__AUTH_MAX)
        return plugin_error(c, "password too long");
    memcpy(out, pw, n + 1);
    *out_len = n + 1;
    return 0;
}

/* ------------------------------------------------------------ RSA keys */

/* The loop's cache entry for c's server: "host:port". */
static void cache_name(const myr_conn *c, char *name, size_t size)
{
    snprintf(name, size, "%s:%d", c->opts.host ? c->opts.host : "localhost", c->opts.port);
}

/* The key file named by MYR_OPT_SERVER_PUBLIC_KEY, as DER. A small local
 * file read at the moment it is needed (only on the full-authentication
 * path). 0, or a negative code after failing the connection. */
static int read_key_file(myr_conn *c, uint8_t *der, size_t cap, size_t *der_len)
{
    const char *path = c->opts.server_public_key;
    char why[400];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, sizeof why, "cannot read the server public key file '%s' (%s)", path, strerror(errno));
        return plugin_error(c, why);
    }
    uint8_t *pem = myr__malloc(KEY_FILE_MAX);
    if (pem == NULL) {
        close(fd);
        myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory reading the server public key file");
        return MYR_ENOMEM;
    }
    size_t n = 0;
    int err = 0;
    while (n < KEY_FILE_MAX) {
        ssize_t r = read(fd, pem + n, KEY_FILE_MAX - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            err = errno;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    int rc = err ? MYR_EINVAL : myr__rsa_pem_to_der(pem, n, der, cap, der_len);
    myr__free(pem);
    if (rc != 0) {
        snprintf(why, sizeof why, "the server public key file '%s' %s", path,
                 err ? strerror(err) : "holds no RSA public key (PEM) we can use");
        return plugin_error(c, why);
    }
    return 0;
}

/* Encrypt the password with der and put it in out; step SENT. */
static int send_encrypted(myr_conn *c, const uint8_t *der, size_t der_len, uint8_t *out, size_t *out_len)
{
    size_t n;
    const char *pw = password(c, &n);
    int rc = myr__rsa_encrypt_password(der, der_len, c->hs->auth_scramble, c->hs->auth_scramble_len, pw, n, out,
                                       MYR__AUTH_MAX, out_len);
    if (rc == MYR_EMALFORMED)
        return plugin_error(c, "the server's public key cannot be used");
    if (rc != 0)
        return plugin_error(c, "password too long for the server's RSA key, or no randomness");
    c->hs->auth_step = AS_NONE;
    return 0;
}

/* Full authentication without a secure transport: encrypt with a key from
 * the key file or the loop's cache, or ask the server for its key
 * (request_byte: 0x02 caching_sha2, 0x01 sha256) when the application allows
 * it. Fills out; 0 or a negative code after failing the connection. */
static int full_auth_rsa(myr_conn *c, uint8_t request_byte, const char *no_key_why, uint8_t *out,
                         size_t *out_len)
{
    uint8_t der[2 * MYR__RSA_MAX];
    size_t der_len = 0;
    if (c->opts.server_public_key != NULL) {
        int rc = read_key_file(c, der, sizeof der, &der_len);
        if (rc != 0)
            return rc;
        return send_encrypted(c, der, der_len, out, out_len);
    }
    char name[320];
    cache_name(c, name, sizeof name);
    size_t len;
    const uint8_t *cached = myr__pkcache_get(c->loop->pkcache, name, &len);
    if (cached != NULL) {
        c->hs->auth_cached_key = 1;
        return send_encrypted(c, cached, len, out, out_len);
    }
    if (!c->opts.get_server_public_key)
        return plugin_error(c, no_key_why);
    out[0] = request_byte;
    *out_len = 1;
    c->hs->auth_step = AS_KEY_WAIT;
    return 0;
}

/* The server's public key (PEM) arrived: keep it in the loop's cache and
 * encrypt with it. */
static int key_arrived(myr_conn *c, const uint8_t *pem, size_t len, uint8_t *out, size_t *out_len)
{
    uint8_t der[2 * MYR__RSA_MAX];
    size_t der_len;
    if (myr__rsa_pem_to_der(pem, len, der, sizeof der, &der_len) != 0)
        return plugin_error(c, "the server sent a public key that cannot be read");
    char name[320];
    cache_name(c, name, sizeof name);
    (void)myr__pkcache_put(&c->loop->pkcache, name, der, der_len);   /* no memory: no cache */
    return send_encrypted(c, der, der_len, out, out_len);
}

void myr__plugin_refused(myr_conn *c)
{
    if (!c->hs->auth_cached_key)
        return;
    char name[320];
    cache_name(c, name, sizeof name);
    myr__pkcache_drop(c->loop->pkcache, name);
    c->hs->auth_cached_key = 0;
}

/* ------------------------------------------------------------- plugins */

static int native_start(myr_conn *c, uint8_t *out, size_t *out_len)
{
    size_t n;
    const char *pw = password(c, &n);
    return myr__auth_native(c->hs->auth_scramble, c->hs->auth_scramble_len, pw, n, out, out_len);
}

static int sha2_start(myr_conn *c, uint8_t *out, size_t *out_len)
{
    size_t n;
    const char *pw = password(c, &n);
    c->hs->auth_step = AS_SHA2_FAST;
    return myr__auth_sha2(c->hs->auth_scramble, c->hs->auth_scramble_len, pw, n, out, out_len);
}

#define SHA2_NO_KEY                                                                                 \
    "Authentication requires secure connection (no TLS or Unix socket, and no public key: set "   \
    "MYR_OPT_SERVER_PUBLIC_KEY, or allow MYR_OPT_GET_SERVER_PUBLIC_KEY)"

static int sha2_more(myr_conn *c, const uint8_t *data, size_t len, uint8_t *out, size_t *out_len)
{
    if (c->hs->auth_step == AS_KEY_WAIT) {
        int rc = key_arrived(c, data, len, out, out_len);
        return rc == 0 ? 1 : rc;
    }
    if (c->hs->auth_step != AS_SHA2_FAST || len != 1)
        return malformed(c);
    if (data[0] == 3) {   /* fast auth succeeded: the OK follows */
        c->hs->auth_step = AS_NONE;
        return 0;
    }
    if (data[0] != 4)
        return malformed(c);
    /* Full authentication: the server wants the password itself. */
    c->hs->auth_step = AS_NONE;
    int rc = myr__conn_secure(c) ? clear_password(c, out, out_len)
                                 : full_auth_rsa(c, 0x02, SHA2_NO_KEY, out, out_len);
    return rc == 0 ? 1 : rc;
}

#define SHA256_NO_KEY                                                                               \
    "Authentication requires SSL encryption (no TLS or Unix socket, and no public key: set "      \
    "MYR_OPT_SERVER_PUBLIC_KEY, or allow MYR_OPT_GET_SERVER_PUBLIC_KEY)"

static int sha256_start(myr_conn *c, uint8_t *out, size_t *out_len)
{
    size_t n;
    (void)password(c, &n);
    if (n == 0) {   /* no password: a single 0 byte */
        out[0] = 0;
        *out_len = 1;
        return 0;
    }
    if (myr__conn_secure(c))
        return clear_password(c, out, out_len);
    return full_auth_rsa(c, 0x01, SHA256_NO_KEY, out, out_len);
}

static int sha256_more(myr_conn *c, const uint8_t *data, size_t len, uint8_t *out, size_t *out_len)
{
    if (c->hs->auth_step != AS_KEY_WAIT)
        return malformed(c);
    int rc = key_arrived(c, data, len, out, out_len);
    return rc == 0 ? 1 : rc;
}

#define CLEAR "mysql_clear_password"

/* The password itself: only when the application allowed this plugin, and
 * only where nobody on the way can read it. */
static int clear_start(myr_conn *c, uint8_t *out, size_t *out_len)
{
    if (!c->opts.enable_cleartext_plugin) {
        myr__conn_fail(c, MYR_EAUTH, 2059, "Authentication plugin '" CLEAR "' cannot be loaded: plugin not "
                       "enabled (MYR_OPT_ENABLE_CLEARTEXT_PLUGIN)");
        return MYR_EAUTH;
    }
    if (!myr__conn_secure(c))
        return plugin_error(c, "the password would travel in clear text: it is sent only over TLS or a "
                               "Unix socket");
    return clear_password(c, out, out_len);
}

static int ed25519_start(myr_conn *c, uint8_t *out, size_t *out_len)
{
    size_t n;
    const char *pw = password(c, &n);
    return myr__auth_ed25519(c->hs->auth_scramble, c->hs->auth_scramble_len, pw, n, out, out_len);
}

static const plugin plugins[] = {
    {"mysql_native_password", SCRAMBLE_LEN, native_start, NULL},
    {"caching_sha2_password", SCRAMBLE_LEN, sha2_start, sha2_more},
    {"sha256_password", SCRAMBLE_LEN, sha256_start, sha256_more},
    {CLEAR, 0, clear_start, NULL},
    {"client_ed25519", 32, ed25519_start, NULL},   /* the nonce: 32 bytes (a trailing NUL, if any, is not part of it) */
};

static const plugin *find(const char *name)
{
    for (size_t i = 0; i < sizeof plugins / sizeof plugins[0]; i++)
        if (strcmp(plugins[i].name, name) == 0)
            return &plugins[i];
    return NULL;
}

static const plugin *current(const myr_conn *c) { return find(c->plugin); }

int myr__plugin_usable(const myr_conn *c, const char *name)
{
    if (strcmp(name, CLEAR) == 0)
        return c->opts.enable_cleartext_plugin && myr__conn_secure(c);
    return find(name) != NULL;
}

int myr__plugin_start(myr_conn *c, const char *name, const uint8_t *data, size_t len, uint8_t *out,
                      size_t *out_len)
{
    *out_len = 0;
    snprintf(c->plugin, sizeof c->plugin, "%s", name);
    c->hs->auth_step = AS_NONE;
    c->hs->auth_cached_key = 0;
    const plugin *p = find(name);
    if (p == NULL) {
        myr__conn_fail(c, MYR_EAUTH, 2059, "Authentication plugin '%s' cannot be loaded: not supported by myring",
                       name);
        return MYR_EAUTH;
    }
    if (len < p->scramble_len) {
        myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (%zu bytes of auth data for '%s', need %zu)",
                       len, name, p->scramble_len);
        return MYR_EMALFORMED;
    }
    memcpy(c->hs->auth_scramble, data, p->scramble_len);
    c->hs->auth_scramble_len = (uint8_t)p->scramble_len;
    int rc = p->start(c, out, out_len);
    if (rc != 0 && c->state != MYR__CS_DEAD)
        myr__conn_fail(c, MYR_EAUTH, 2061, "Authentication plugin '%s' reported error: cannot compute the answer",
                       name);
    return rc;
}

int myr__plugin_more(myr_conn *c, const uint8_t *data, size_t len, uint8_t *out, size_t *out_len)
{
    *out_len = 0;
    const plugin *p = current(c);
    if (p == NULL || p->more == NULL)
        return malformed(c);
    return p->more(c, data, len, out, out_len);
}

const char *myr_conn_auth_plugin(const myr_conn *c) { return c ? c->plugin : ""; }
