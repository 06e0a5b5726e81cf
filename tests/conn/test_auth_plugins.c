/* tests/conn/test_auth_plugins.c -- caching_sha2_password and
 * sha256_password (src/conn_plugin.c, src/proto/auth_rsa.c, src/pkcache.c)
 * against the scripted fake server playing a MySQL 8 server: MariaDB cannot
 * speak these plugins, so no real server here can produce these exchanges.
 *
 * What the client encrypts is checked by an independent implementation:
 * a throwaway RSA key is generated with `openssl genpkey` at test start, the
 * client's ciphertext is decrypted with `openssl pkeyutl -decrypt
 * -pkeyopt rsa_padding_mode:oaep`, and the plaintext must equal what
 * python3-pymysql computes for it (_auth._xor_password(password + NUL,
 * scramble)). Over a TCP fake server (fs_set_tcp) the client counts the
 * transport as insecure; over the default socketpair (a Unix socket) as
 * secure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fakesrv.h"
#include "internal.h"
#include "pkcache.h"

#define WAIT_MS 10000
#define PW "s3cr3t-Pw"

static char dir[64];
static char pub_path[128], key_path[128];
static uint8_t pem[8192];
static size_t pem_len;

/* ------------------------------------------------------------ helpers */

static void run(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fail_msg("command failed (%d): %s", rc, cmd);
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static int setup_keys(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/myr-auth.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
    snprintf(pub_path, sizeof pub_path, "%s/pub.pem", dir);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s 2>/dev/null && "
             "openssl pkey -in %s -pubout -out %s",
             key_path, key_path, pub_path);
    if (system(cmd) != 0)
        return -1;
    FILE *f = fopen(pub_path, "rb");
    if (f == NULL)
        return -1;
    pem_len = fread(pem, 1, sizeof pem, f);
    fclose(f);
    return pem_len > 0 ? 0 : -1;
}

static int teardown_keys(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = '\0';
}

/* What pymysql says the RSA plaintext is: (pw + NUL) XOR scramble. */
static size_t pymysql_xor(const char *pw, const uint8_t scramble[20], uint8_t *out, size_t cap)
{
    char pwhex[256], schex[41], cmd[1024], line[600];
    hex((const uint8_t *)pw, strlen(pw), pwhex);
    hex(scramble, 20, schex);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import sys; from pymysql import _auth; "
             "print(_auth._xor_password(bytes.fromhex(sys.argv[1]) + b\"\\0\", "
             "bytes.fromhex(sys.argv[2])).hex())' %s %s",
             pwhex, schex);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(line, sizeof line, p));
    assert_int_equal(pclose(p), 0);
    size_t n = strcspn(line, "\n") / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(line + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

/* Decrypt the client's ciphertext with openssl and the private key, and
 * check it against pymysql's plaintext. */
static void check_encrypted(const uint8_t *ct, size_t n, const char *pw, const uint8_t scramble[20])
{
    assert_int_equal(n, 256);   /* a 2048-bit key */
    char ct_path[128], pt_path[128], cmd[512];
    snprintf(ct_path, sizeof ct_path, "%s/ct.bin", dir);
    snprintf(pt_path, sizeof pt_path, "%s/pt.bin", dir);
    write_file(ct_path, ct, n);
    snprintf(cmd, sizeof cmd, "openssl pkeyutl -decrypt -inkey %s -pkeyopt rsa_padding_mode:oaep -in %s -out %s",
             key_path, ct_path, pt_path);
    run(cmd);
    uint8_t pt[512], want[512];
    size_t pt_len = read_file(pt_path, pt, sizeof pt);
    size_t want_len = pymysql_xor(pw, scramble, want, sizeof want);
    assert_int_equal(want_len, strlen(pw) + 1);
    assert_int_equal(pt_len, want_len);
    assert_memory_equal(pt, want, want_len);
}

static myr_conn_opts *opts(int get_key, const char *key_file)
{
    myr_conn_opts *o = fs_opts("bob", PW);
    assert_non_null(o);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_GET_SERVER_PUBLIC_KEY, get_key), 0);
    if (key_file)
        assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_SERVER_PUBLIC_KEY, key_file), 0);
    return o;
}

/* The server's greeting with plugin, and the client's login (seq 1). */
static fakesrv *greet(int tcp, const char *plugin, const uint8_t scramble[20])
{
    fakesrv *s = fs_new();
    fs_set_tcp(s, tcp);
    fs_buf b = {0};
    uint8_t seq = 0;
    fs_greeting(&b, &seq, FS_CAPS_DEFAULT, plugin, scramble, 42);
    fs_send_buf(s, &b);
    fs_expect(s, 1, -1);
    return s;
}

/* One packet from the server with sequence id seq. */
static void send_pkt(fakesrv *s, uint8_t seq, const void *p, size_t n)
{
    fs_buf b = {0};
    fs_pkt(&b, &seq, p, n);
    fs_send_buf(s, &b);
}

static void send_more(fakesrv *s, uint8_t seq, uint8_t status)
{
    uint8_t m[2] = {0x01, status};
    send_pkt(s, seq, m, 2);
}

static void send_key(fakesrv *s, uint8_t seq)
{
    uint8_t m[sizeof pem + 1];
    m[0] = 0x01;
    memcpy(m + 1, pem, pem_len);
    send_pkt(s, seq, m, pem_len + 1);
}

static void send_ok(fakesrv *s, uint8_t seq)
{
    fs_buf b = {0};
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x01);   /* COM_QUIT from myr_close_sync */
    fs_expect_eof(s);
}

static void send_denied(fakesrv *s, uint8_t seq)
{
    fs_buf b = {0};
    fs_err(&b, &seq, 1045, "28000", "Access denied for user 'bob'@'localhost' (using password: YES)");
    fs_send_buf(s, &b);
    fs_expect_eof(s);
}

/* Connect, expect success with plugin, close; the script must have run. */
static void connect_ok(myr_loop *loop, fakesrv *s, const myr_conn_opts *o, const char *plugin)
{
    myr_conn *c = fs_connect_ok(loop, s, o, WAIT_MS);
    assert_string_equal(myr_conn_auth_plugin(c), plugin);
    assert_int_equal(myr_close_sync(c, NULL), 0);
    if (fs_join(s) != 0)
        fail_msg("fake server: %s", fs_error(s));
}

/* Connect, expect failure with (code, mysql_errno) and a message holding
 * want (and never the password). */
static void connect_fails(myr_loop *loop, fakesrv *s, const myr_conn_opts *o, int code, unsigned mysql_errno,
                          const char *want)
{
    int n = 0;
    myr_future *f = fs_connect(loop, o, s, &n);
    assert_non_null(f);
    assert_int_equal(myr_await(f, WAIT_MS), code);
    assert_int_equal(n, 1);
    const myr_error *e = myr_future_error(f);
    assert_int_equal(e->code, code);
    assert_int_equal(e->mysql_errno, mysql_errno);
    if (strstr(e->message, want) == NULL)
        fail_msg("message '%s' lacks '%s'", e->message, want);
    assert_null(strstr(e->message, PW));
    myr_future_free(f);
    if (fs_join(s) != 0)
        fail_msg("fake server: %s", fs_error(s));
}

static const uint8_t *login_auth(fakesrv *s, size_t *len)
{
    size_t plen;
    const uint8_t *p = fs_packet(s, 0, &plen);
    static fs_login l;
    assert_non_null(p);
    assert_int_equal(fs_parse_login(p, plen, &l), 0);
    assert_string_equal(l.user, "bob");
    *len = l.auth_len;
    return l.auth;
}

/* ------------------------------------------------------ caching_sha2 */

/* Over TCP: the key is asked for (0x02), the password goes RSA-encrypted;
 * the next login on the loop uses the cached key without asking; a login
 * refused after using the cached key drops it; the next one asks again. */
static void test_sha2_key_request_cache_and_drop(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = opts(1, NULL);

    fakesrv *s = greet(1, "caching_sha2_password", fs_scramble_a);
    send_more(s, 2, 0x04);
    fs_expect(s, 3, 0x02);
    send_key(s, 4);
    fs_expect(s, 5, -1);
    send_ok(s, 6);
    connect_ok(loop, s, o, "caching_sha2_password");
    size_t n;
    const uint8_t *p = login_auth(s, &n);
    uint8_t fast[32];
    size_t fast_len;
    assert_int_equal(myr__auth_sha2(fs_scramble_a, 20, PW, strlen(PW), fast, &fast_len), 0);
    assert_int_equal(n, 32);
    assert_memory_equal(p, fast, 32);
    p = fs_packet(s, 1, &n);
    assert_int_equal(n, 1);   /* just the request */
    p = fs_packet(s, 2, &n);
    check_encrypted(p, n, PW, fs_scramble_a);
    assert_int_equal(myr__pkcache_count(loop->pkcache), 1);
    fs_free(s);

    /* Second login: the key comes from the loop's cache. */
    s = greet(1, "caching_sha2_password", fs_scramble_b);
    send_more(s, 2, 0x04);
    fs_expect(s, 3, -1);
    send_ok(s, 4);
    connect_ok(loop, s, o, "caching_sha2_password");
    p = fs_packet(s, 1, &n);
    check_encrypted(p, n, PW, fs_scramble_b);
    fs_free(s);

    /* Refused after the cached key was used: the key is dropped. */
    s = greet(1, "caching_sha2_password", fs_scramble_a);
    send_more(s, 2, 0x04);
    fs_expect(s, 3, -1);
    send_denied(s, 4);
    connect_fails(loop, s, o, MYR_ESERVER, 1045, "Access denied");
    assert_int_equal(myr__pkcache_count(loop->pkcache), 0);
    fs_free(s);

    /* So the next login asks for the key again. */
    s = greet(1, "caching_sha2_password", fs_scramble_b);
    send_more(s, 2, 0x04);
    fs_expect(s, 3, 0x02);
    send_key(s, 4);
    fs_expect(s, 5, -1);
    send_ok(s, 6);
    connect_ok(loop, s, o, "caching_sha2_password");
    p = fs_packet(s, 2, &n);
    check_encrypted(p, n, PW, fs_scramble_b);
    assert_int_equal(myr__pkcache_count(loop->pkcache), 1);
    fs_free(s);

    myr_conn_opts_free(o);
    myr_loop_free(loop);
}

/* A key file: no request, the password encrypted with the file's key. */
static void test_sha2_key_file(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = opts(0, pub_path);
    fakesrv *s = greet(1, "caching_sha2_password", fs_scramble_b);
    send_more(s, 2, 0x04);
    fs_expect(s, 3, -1);
    send_ok(s, 4);
    connect_ok(loop, s, o, "caching_sha2_password");
    size_t n;
    const uint8_t *p = fs_packet(s, 1, &n);
    check_encrypted(p, n, PW, fs_scramble_b);
    assert_int_equal(myr__pkcache_count(loop->pkcache), 0);   /* a file's key is not cached */
    fs_free(s);
    myr_conn_opts_free(o);

    /* A key file that does not exist: 2061 naming the file. */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no-such-key.pem", dir);
    o = opts(1, missing);
    s = greet(1, "caching_sha2_password", fs_scramble_b);
    send_more(s, 2, 0x04);
    fs_expect_eof(s);
    connect_fails(loop, s, o, MYR_EAUTH, 2061, "no-such-key.pem");
    fs_free(s);
    myr_conn_opts_free(o);

    /* A file that holds no key. */
    char junk[160];
    snprintf(junk, sizeof junk, "%s/junk.pem", dir);
    write_file(junk, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", 56);
    o = opts(0, junk);
    s = greet(1, "caching_sha2_password", fs_scramble_b);
    send_more(s, 2, 0x04);
    fs_expect_eof(s);
    connect_fails(loop, s, o, MYR_EAUTH, 2061, "junk.pem");
    fs_free(s);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
}

/* Is needle anywhere in the memory of the loop's idle I/O blocks or the
 * connection's buffers? */
static int in_memory(myr_loop *loop, const myr_conn *c, const char *needle)
{
    size_t nl = strlen(needle);
    for (unsigned i = 0; i < loop->n_iobufs; i++)
        if (memmem(loop->iobufs[i], MYR__IOBUF_SIZE, needle, nl))
            return 1;
    const myr__buf *bufs[] = {&c->out, &c->in, &c->sending};
    for (size_t i = 0; i < 3; i++)
        if (bufs[i]->data && memmem(bufs[i]->data, bufs[i]->cap, needle, nl))
            return 1;
    return 0;
}

/* Over a Unix socket the full authentication sends the password itself;
 * once logged in no buffer of the loop or the connection still holds it. */
static void test_sha2_secure_clear_password(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = opts(0, NULL);
    fakesrv *s = greet(0, "caching_sha2_password", fs_scramble_a);
    send_more(s, 2, 0x04);
    fs_expect(s, 3, -1);
    fs_buf b = {0};
    uint8_t seq = 4;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x0e);   /* a ping, so that the login's buffers went round */
    seq = 1;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    fs_send_buf(s, &b);
    fs_expect(s, 0, 0x01);
    fs_expect_eof(s);
    myr_conn *c = fs_connect_ok(loop, s, o, WAIT_MS);
    assert_false(in_memory(loop, c, PW));
    assert_int_equal(myr_ping_sync(c, NULL), 0);
    assert_false(in_memory(loop, c, PW + 3));   /* the ping reused the front of a block */
    assert_int_equal(myr_close_sync(c, NULL), 0);
    assert_int_equal(fs_join(s), 0);
    size_t n;
    const uint8_t *p = fs_packet(s, 1, &n);
    assert_int_equal(n, strlen(PW) + 1);
    assert_memory_equal(p, PW, strlen(PW) + 1);   /* with its NUL */
    fs_free(s);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
}

/* Over TCP with neither key nor leave to ask: 2061, MySQL's words. */
static void test_sha2_no_key(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = opts(0, NULL);
    fakesrv *s = greet(1, "caching_sha2_password", fs_scramble_a);
    send_more(s, 2, 0x04);
    fs_expect_eof(s);
    connect_fails(loop, s, o, MYR_EAUTH, 2061,
                  "Authentication plugin 'caching_sha2_password' reported error: Authentication requires "
                  "secure connection");
    fs_free(s);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
}

/* AuthMoreData that makes no sense: 2027. A key that cannot be read: 2061. */
static void test_sha2_malformed(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = opts(1, NULL);
    static const uint8_t bad[][3] = {{0x01}, {0x01, 0x07}, {0x01, 0x03, 0x03}};
    static const size_t bad_len[] = {1, 2, 3};
    for (size_t i = 0; i < 3; i++) {
        fakesrv *s = greet(1, "caching_sha2_password", fs_scramble_a);
        send_pkt(s, 2, bad[i], bad_len[i]);
        fs_expect_eof(s);
        connect_fails(loop, s, o, MYR_EMALFORMED, 2027, "Malformed packet");
        fs_free(s);
    }
    /* A "key" that is not one. */
    fakesrv *s = greet(1, "caching_sha2_password", fs_scramble_a);
    send_more(s, 2, 0x04);
    fs_expect(s, 3, 0x02);
    static const uint8_t junk[] = "\x01-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n";
    send_pkt(s, 4, junk, sizeof junk - 1);
    fs_expect_eof(s);
    connect_fails(loop, s, o, MYR_EAUTH, 2061, "public key");
    assert_int_equal(myr__pkcache_count(loop->pkcache), 0);
    fs_free(s);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
}

/* ------------------------------------------------------- sha256_password */

/* Over TCP with leave to ask: the login carries the request (0x01), the key
 * comes back as AuthMoreData, the password goes encrypted. The next login
 * encrypts at once with the cached key. */
static void test_sha256_rsa(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = opts(1, NULL);
    fakesrv *s = greet(1, "sha256_password", fs_scramble_a);
    send_key(s, 2);
    fs_expect(s, 3, -1);
    send_ok(s, 4);
    connect_ok(loop, s, o, "sha256_password");
    size_t n;
    const uint8_t *p = login_auth(s, &n);
    assert_int_equal(n, 1);
    assert_int_equal(p[0], 0x01);
    p = fs_packet(s, 1, &n);
    check_encrypted(p, n, PW, fs_scramble_a);
    fs_free(s);

    s = greet(1, "sha256_password", fs_scramble_b);
    send_ok(s, 2);
    connect_ok(loop, s, o, "sha256_password");
    p = login_auth(s, &n);
    check_encrypted(p, n, PW, fs_scramble_b);
    fs_free(s);
    myr_conn_opts_free(o);

    /* Neither key nor leave: refused before anything is sent. */
    o = opts(0, NULL);
    fakesrv *s2 = fs_new();
    fs_set_tcp(s2, 1);
    fs_buf b = {0};
    uint8_t seq = 0;
    fs_greeting(&b, &seq, FS_CAPS_DEFAULT, "sha256_password", fs_scramble_a, 42);
    fs_send_buf(s2, &b);
    fs_expect_eof(s2);
    myr_loop *loop2 = fs_loop();   /* a loop with no cached key */
    connect_fails(loop2, s2, o, MYR_EAUTH, 2061,
                  "Authentication plugin 'sha256_password' reported error: Authentication requires SSL");
    fs_free(s2);
    myr_loop_free(loop2);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
}

/* Over a Unix socket: the password itself; no password: one 0 byte. */
static void test_sha256_secure_and_empty(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = opts(0, NULL);
    fakesrv *s = greet(0, "sha256_password", fs_scramble_a);
    send_ok(s, 2);
    connect_ok(loop, s, o, "sha256_password");
    size_t n;
    const uint8_t *p = login_auth(s, &n);
    assert_int_equal(n, strlen(PW) + 1);
    assert_memory_equal(p, PW, n);
    fs_free(s);
    myr_conn_opts_free(o);

    o = fs_opts("bob", NULL);
    s = greet(1, "sha256_password", fs_scramble_a);
    send_ok(s, 2);
    connect_ok(loop, s, o, "sha256_password");
    p = login_auth(s, &n);
    assert_int_equal(n, 1);
    assert_int_equal(p[0], 0);
    fs_free(s);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
}

/* ------------------------------------------------------- auth switch */

/* A native greeting, then a switch to caching_sha2_password (fresh
 * scramble) and full authentication over the Unix socket. */
static void test_switch_to_sha2(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = opts(0, NULL);
    fakesrv *s = greet(0, "mysql_native_password", fs_scramble_a);
    fs_buf b = {0};
    uint8_t seq = 2;
    fs_auth_switch(&b, &seq, "caching_sha2_password", fs_scramble_b);
    fs_send_buf(s, &b);
    fs_expect(s, 3, -1);
    send_more(s, 4, 0x04);
    fs_expect(s, 5, -1);
    send_ok(s, 6);
    connect_ok(loop, s, o, "caching_sha2_password");
    size_t n;
    const uint8_t *p = fs_packet(s, 1, &n);
    uint8_t want[32];
    size_t want_len;
    assert_int_equal(myr__auth_sha2(fs_scramble_b, 20, PW, strlen(PW), want, &want_len), 0);
    assert_int_equal(n, 32);
    assert_memory_equal(p, want, 32);
    p = fs_packet(s, 2, &n);
    assert_int_equal(n, strlen(PW) + 1);
    assert_memory_equal(p, PW, n);
    fs_free(s);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
}

/* A switch to sha256_password over TCP with a key file: the answer to the
 * switch is the encrypted password, with the switch's scramble. */
static void test_switch_to_sha256_key_file(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = opts(0, pub_path);
    fakesrv *s = greet(1, "mysql_native_password", fs_scramble_a);
    fs_buf b = {0};
    uint8_t seq = 2;
    fs_auth_switch(&b, &seq, "sha256_password", fs_scramble_b);
    fs_send_buf(s, &b);
    fs_expect(s, 3, -1);
    send_ok(s, 4);
    connect_ok(loop, s, o, "sha256_password");
    size_t n;
    const uint8_t *p = fs_packet(s, 1, &n);
    check_encrypted(p, n, PW, fs_scramble_b);
    fs_free(s);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
}

/* A switch to a plugin we do not have: 2059 naming it. */
static void test_switch_unknown_plugin(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = opts(0, NULL);
    fakesrv *s = greet(0, "mysql_native_password", fs_scramble_a);
    fs_buf b = {0};
    uint8_t seq = 2;
    fs_auth_switch(&b, &seq, "authentication_kerberos_client", fs_scramble_b);
    fs_send_buf(s, &b);
    fs_expect_eof(s);
    connect_fails(loop, s, o, MYR_EAUTH, 2059,
                  "Authentication plugin 'authentication_kerberos_client' cannot be loaded");
    fs_free(s);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
}

/* ---------------------------------------------- client_ed25519, clear */

/* Our client_ed25519 signatures equal python3-pymysql's (PyNaCl's
 * libsodium bindings) for passwords of any length. */
static void test_ed25519_vs_pymysql(void **state)
{
    (void)state;
    static const char *const pws[] = {"", "secret", "p\xc3\xa4ssw\xc3\xb6rd-\xe6\x97\xa5",
                                      "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
                                      "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
                                      "0123456789abcdefghijklmnopqrstuvwxyz"};
    for (size_t k = 0; k < sizeof pws / sizeof pws[0]; k++) {
        const char *pw = pws[k];
        size_t pl = strlen(pw);
        uint8_t nonce[32], sig[64];
        for (int i = 0; i < 32; i++)
            nonce[i] = (uint8_t)(31 * i + 17 * (int)k + 5);
        size_t n;
        assert_int_equal(myr__auth_ed25519(nonce, 32, pw, pl, sig, &n), 0);
        assert_int_equal(n, 64);
        char pwhex[512], nhex[65], shex[129], cmd[1400], line[256];
        hex((const uint8_t *)pw, pl, pwhex);
        hex(nonce, 32, nhex);
        hex(sig, 64, shex);
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 -c 'import sys; from pymysql import _auth; "
                 "print(_auth.ed25519_password(bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])).hex())' "
                 "'%s' %s", pwhex, nhex);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        assert_non_null(fgets(line, sizeof line, p));
        assert_int_equal(pclose(p), 0);
        line[strcspn(line, "\n")] = '\0';
        assert_string_equal(line, shex);
    }
}

/* An AuthSwitchRequest to client_ed25519: 0xFE name NUL nonce [NUL]. */
static void send_switch_raw(fakesrv *s, uint8_t seq, const char *plugin, const uint8_t *data, size_t n)
{
    uint8_t m[128];
    size_t pl = strlen(plugin) + 1;
    m[0] = 0xFE;
    memcpy(m + 1, plugin, pl);
    memcpy(m + 1 + pl, data, n);
    send_pkt(s, seq, m, 1 + pl + n);
}

/* A native greeting switched to client_ed25519: the answer is the
 * signature of the 32-byte nonce, whether the server appends a NUL or not
 * and when the nonce itself ends in a 0 byte. */
static void test_switch_to_ed25519(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = opts(0, NULL);
    for (int variant = 0; variant < 3; variant++) {
        uint8_t nonce[33];
        for (int i = 0; i < 32; i++)
            nonce[i] = (uint8_t)(7 * i + 1 + variant);
        if (variant == 2)
            nonce[31] = 0;   /* a genuine 0 at the end: not a terminator */
        nonce[32] = 0;
        fakesrv *s = greet(1, "mysql_native_password", fs_scramble_a);
        send_switch_raw(s, 2, "client_ed25519", nonce, variant == 1 ? 33 : 32);
        fs_expect(s, 3, -1);
        send_ok(s, 4);
        connect_ok(loop, s, o, "client_ed25519");
        uint8_t want[64];
        size_t wl;
        assert_int_equal(myr__auth_ed25519(nonce, 32, PW, strlen(PW), want, &wl), 0);
        size_t n;
        const uint8_t *p = fs_packet(s, 1, &n);
        assert_int_equal(n, 64);
        assert_memory_equal(p, want, 64);
        fs_free(s);
    }
    /* A nonce that is too short: malformed. */
    fakesrv *s = greet(1, "mysql_native_password", fs_scramble_a);
    send_switch_raw(s, 2, "client_ed25519", fs_scramble_b, 20);
    fs_expect_eof(s);
    connect_fails(loop, s, o, MYR_EMALFORMED, 2027, "client_ed25519");
    fs_free(s);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
}

/* mysql_clear_password: only when enabled, only over a secure transport. */
static void test_clear_password(void **state)
{
    (void)state;
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = opts(0, NULL);
    /* Not enabled: 2059, nothing sent. */
    fakesrv *s = greet(0, "mysql_native_password", fs_scramble_a);
    send_switch_raw(s, 2, "mysql_clear_password", (const uint8_t *)"", 0);
    fs_expect_eof(s);
    connect_fails(loop, s, o, MYR_EAUTH, 2059, "Authentication plugin 'mysql_clear_password' cannot be loaded: "
                                               "plugin not enabled");
    fs_free(s);

    /* Enabled, over the Unix socket: the password with its NUL. */
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_ENABLE_CLEARTEXT_PLUGIN, 1), 0);
    s = greet(0, "mysql_native_password", fs_scramble_a);
    send_switch_raw(s, 2, "mysql_clear_password", (const uint8_t *)"", 0);
    fs_expect(s, 3, -1);
    send_ok(s, 4);
    connect_ok(loop, s, o, "mysql_clear_password");
    size_t n;
    const uint8_t *p = fs_packet(s, 1, &n);
    assert_int_equal(n, strlen(PW) + 1);
    assert_memory_equal(p, PW, n);
    fs_free(s);

    /* Enabled, but plain TCP: 2061, nothing sent. */
    s = greet(1, "mysql_native_password", fs_scramble_a);
    send_switch_raw(s, 2, "mysql_clear_password", (const uint8_t *)"", 0);
    fs_expect_eof(s);
    connect_fails(loop, s, o, MYR_EAUTH, 2061, "only over TLS or a Unix socket");
    fs_free(s);

    /* A greeting that names it: used in the login when allowed... */
    s = greet(0, "mysql_clear_password", fs_scramble_a);
    send_ok(s, 2);
    connect_ok(loop, s, o, "mysql_clear_password");
    const uint8_t *a = login_auth(s, &n);
    assert_int_equal(n, strlen(PW) + 1);
    assert_memory_equal(a, PW, n);
    fs_free(s);
    /* ... and replaced by native password when not (over TCP here). */
    s = greet(1, "mysql_clear_password", fs_scramble_a);
    send_ok(s, 2);
    connect_ok(loop, s, o, "mysql_native_password");
    a = login_auth(s, &n);
    uint8_t want[20];
    size_t wl;
    assert_int_equal(myr__auth_native(fs_scramble_a, 20, PW, strlen(PW), want, &wl), 0);
    assert_int_equal(n, 20);
    assert_memory_equal(a, want, 20);
    fs_free(s);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
}

/* ------------------------------------------------------- the key cache */

static void test_pkcache_bounded(void **state)
{
    (void)state;
    myr__pkcache *pc = NULL;
    char name[32];
    uint8_t der[4] = {1, 2, 3, 4};
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "h%d:3306", i);
        der[0] = (uint8_t)i;
        assert_int_equal(myr__pkcache_put(&pc, name, der, sizeof der), 0);
        if (i == 10) {   /* keep h0 in use: it survives the evictions */
            size_t len;
            assert_non_null(myr__pkcache_get(pc, "h0:3306", &len));
        }
        if (i > 10) {
            size_t len;
            assert_non_null(myr__pkcache_get(pc, "h0:3306", &len));
        }
    }
    assert_int_equal(myr__pkcache_count(pc), MYR__PKCACHE_MAX);
    size_t len;
    const uint8_t *k = myr__pkcache_get(pc, "h99:3306", &len);
    assert_non_null(k);
    assert_int_equal(len, 4);
    assert_int_equal(k[0], 99);
    assert_non_null(myr__pkcache_get(pc, "h0:3306", &len));
    assert_null(myr__pkcache_get(pc, "h1:3306", &len));   /* evicted: least recently used */
    assert_int_equal(len, 0);
    myr__pkcache_drop(pc, "h99:3306");
    assert_null(myr__pkcache_get(pc, "h99:3306", &len));
    assert_int_equal(myr__pkcache_count(pc), MYR__PKCACHE_MAX - 1);
    myr__pkcache_drop(pc, "nope:1");
    assert_int_equal(myr__pkcache_count(pc), MYR__PKCACHE_MAX - 1);
    myr__pkcache_free(pc);
    myr__pkcache_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha2_key_request_cache_and_drop),
        cmocka_unit_test(test_sha2_key_file),
        cmocka_unit_test(test_sha2_secure_clear_password),
        cmocka_unit_test(test_sha2_no_key),
        cmocka_unit_test(test_sha2_malformed),
        cmocka_unit_test(test_sha256_rsa),
        cmocka_unit_test(test_sha256_secure_and_empty),
        cmocka_unit_test(test_switch_to_sha2),
        cmocka_unit_test(test_switch_to_sha256_key_file),
        cmocka_unit_test(test_switch_unknown_plugin),
        cmocka_unit_test(test_ed25519_vs_pymysql),
        cmocka_unit_test(test_switch_to_ed25519),
        cmocka_unit_test(test_clear_password),
        cmocka_unit_test(test_pkcache_bounded),
    };
    return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
