/* tests/integration/test_tls.c -- TLS against the sandbox (it has a
 * throwaway CA, MYR_TEST_SSL_CA): each MYR_OPT_SSL_MODE, checked from both
 * ends (our myr_conn_tls_version and the server's Ssl_version status),
 * results over 16 MiB each way, pipelined queries, many connections on one
 * loop; and the failures: REQUIRED against a server without TLS (the
 * scripted server: no real one here lacks TLS), an unknown CA. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "fakesrv.h"
#include "sandbox_env.h"

/* The server's view of the session's TLS: Ssl_version ("" when plaintext). */
static char *server_ssl(myr_conn *c, const char *var)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SHOW SESSION STATUS LIKE '%s'", var);
    myr_result *r = sandbox_query(c, sql);
    assert_int_equal(myr_result_row_count(r), 1);
    size_t len;
    const char *v = myr_result_value(r, 0, 1, &len);
    char *s = strndup(v ? v : "", len);
    myr_result_free(r);
    return s;
}

static myr_conn *connect_mode(int unix_socket, int mode, myr_error *err)
{
    myr_conn_opts *o = sandbox_opts(unix_socket);
    if (mode)
        assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, mode), 0);
    myr_conn *c = myr_connect_sync(NULL, o, err);
    myr_conn_opts_free(o);
    return c;
}

static myr_conn *connect_verified(int mode, const char *host, const char *ca, myr_error *err)
{
    myr_conn_opts *o = sandbox_opts(0);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_HOST, host), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, mode), 0);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_SSL_CA, ca), 0);
    myr_conn *c = myr_connect_sync(NULL, o, err);
    myr_conn_opts_free(o);
    return c;
}

static void expect_tls(myr_conn *c)
{
    const char *v = myr_conn_tls_version(c);
    assert_true(strcmp(v, "TLSv1.3") == 0 || strcmp(v, "TLSv1.2") == 0);
    char *sv = server_ssl(c, "Ssl_version");
    assert_string_equal(sv, v);   /* the server agrees */
    free(sv);
    assert_true(myr_conn_tls_cipher(c)[0] != '\0');
}

static void expect_plain(myr_conn *c)
{
    assert_string_equal(myr_conn_tls_version(c), "");
    char *sv = server_ssl(c, "Ssl_version");
    assert_string_equal(sv, "");
    free(sv);
}

static void test_default_is_preferred_tcp_tls(void **state)
{
    (void)state;
    myr_error err;
    myr_conn *c = connect_mode(0, 0, &err);
    assert_non_null(c);
    expect_tls(c);
    /* ChaCha20-Poly1305 is offered first (no AES-NI on the target). */
    char *cipher = server_ssl(c, "Ssl_cipher");
    assert_non_null(strstr(cipher, "CHACHA20"));
    free(cipher);
    myr_close_sync(c, NULL);
}

static void test_disabled_is_plaintext(void **state)
{
    (void)state;
    myr_error err;
    myr_conn *c = connect_mode(0, MYR_SSL_DISABLED, &err);
    assert_non_null(c);
    expect_plain(c);
    myr_close_sync(c, NULL);
}

static void test_unix_socket_preferred_plain_required_tls(void **state)
{
    (void)state;
    myr_error err;
    myr_conn *c = connect_mode(1, MYR_SSL_PREFERRED, &err);
    assert_non_null(c);
    expect_plain(c);
    myr_close_sync(c, NULL);
    c = connect_mode(1, MYR_SSL_REQUIRED, &err);
    if (c == NULL)
        fail_msg("%u %s", err.mysql_errno, err.message);
    expect_tls(c);
    myr_close_sync(c, NULL);
}

static void test_required_and_verify_ca(void **state)
{
    (void)state;
    myr_error err;
    myr_conn *c = connect_mode(0, MYR_SSL_REQUIRED, &err);
    assert_non_null(c);
    expect_tls(c);
    myr_close_sync(c, NULL);

    /* VERIFY_CA checks the chain only: 127.0.0.1 (not named by the
     * certificate) passes. VERIFY_IDENTITY: "localhost" (a DNS SAN) and
     * "::1" (an IP SAN) pass. */
    static const struct { int mode; const char *host; } ok[] = {
        {MYR_SSL_VERIFY_CA, "127.0.0.1"},
        {MYR_SSL_VERIFY_IDENTITY, "localhost"},
        {MYR_SSL_VERIFY_IDENTITY, "::1"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        c = connect_verified(ok[i].mode, ok[i].host, sandbox_env("MYR_TEST_SSL_CA"), &err);
        if (c == NULL)
            fail_msg("mode %d host %s: %u %s", ok[i].mode, ok[i].host, err.mysql_errno, err.message);
        expect_tls(c);
        myr_close_sync(c, NULL);
    }
}

/* The sandbox's certificate names localhost and ::1, not 127.0.0.1. */
static void test_name_mismatch_fails_2026(void **state)
{
    (void)state;
    myr_error err;
    myr_conn *c = connect_verified(MYR_SSL_VERIFY_IDENTITY, "127.0.0.1", sandbox_env("MYR_TEST_SSL_CA"), &err);
    assert_null(c);
    assert_int_equal(err.code, MYR_ETLS);
    assert_int_equal(err.mysql_errno, 2026);
    assert_non_null(strstr(err.message, "name mismatch"));
    assert_non_null(strstr(err.message, "127.0.0.1"));
}

static void test_other_ca_fails_2026(void **state)
{
    (void)state;
    myr_error err;
    for (int mode = MYR_SSL_VERIFY_CA; mode <= MYR_SSL_VERIFY_IDENTITY; mode++) {
        myr_conn *c = connect_verified(mode, "localhost", sandbox_env("MYR_TEST_SSL_OTHER_CA"), &err);
        assert_null(c);
        assert_int_equal(err.mysql_errno, 2026);
        assert_non_null(strstr(err.message, "unknown CA"));
    }
    /* The same CA file with REQUIRED: not checked, so it connects. */
    myr_conn *c = connect_verified(MYR_SSL_REQUIRED, "localhost", sandbox_env("MYR_TEST_SSL_OTHER_CA"), &err);
    assert_non_null(c);
    myr_close_sync(c, NULL);
}

static myr_conn *connect_user(const char *user, int mode, int with_cert, myr_error *err)
{
    myr_conn_opts *o = sandbox_opts(0);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_USER, user), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, mode), 0);
    if (with_cert) {
        assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_SSL_CERT, sandbox_env("MYR_TEST_SSL_CERT")), 0);
        assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_SSL_KEY, sandbox_env("MYR_TEST_SSL_KEY")), 0);
    }
    myr_conn *c = myr_connect_sync(NULL, o, err);
    myr_conn_opts_free(o);
    return c;
}

static void test_require_ssl_user(void **state)
{
    (void)state;
    const char *u = sandbox_env("MYR_TEST_USER_SSL");
    myr_error err;
    myr_conn *c = connect_user(u, MYR_SSL_DISABLED, 0, &err);
    assert_null(c);
    assert_int_equal(err.mysql_errno, 1045);   /* the server refuses it in clear */
    c = connect_user(u, MYR_SSL_PREFERRED, 0, &err);
    if (c == NULL)
        fail_msg("%u %s", err.mysql_errno, err.message);
    expect_tls(c);
    myr_close_sync(c, NULL);
}

static void test_require_x509_user(void **state)
{
    (void)state;
    const char *u = sandbox_env("MYR_TEST_USER_X509");
    myr_error err;
    myr_conn *c = connect_user(u, MYR_SSL_REQUIRED, 0, &err);
    assert_null(c);
    assert_int_equal(err.mysql_errno, 1045);   /* TLS but no certificate */
    c = connect_user(u, MYR_SSL_REQUIRED, 1, &err);
    if (c == NULL)
        fail_msg("%u %s", err.mysql_errno, err.message);
    expect_tls(c);
    myr_close_sync(c, NULL);
    /* A key that is not the certificate's: refused before connecting. */
    myr_conn_opts *o = sandbox_opts(0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_REQUIRED), 0);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_SSL_CERT, sandbox_env("MYR_TEST_SSL_CERT")), 0);
    char other_key[4096];
    snprintf(other_key, sizeof other_key, "%s/tls/server-key.pem", sandbox_env("MYR_SANDBOX_DIR"));
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_SSL_KEY, other_key), 0);
    assert_null(myr_connect_sync(NULL, o, &err));
    assert_int_equal(err.mysql_errno, 2026);
    assert_non_null(strstr(err.message, "does not match"));
    myr_conn_opts_free(o);
}

static void test_versions_and_ciphers(void **state)
{
    (void)state;
    static const struct { const char *version, *cipher, *want_version, *want_cipher; } cases[] = {
        {"TLSv1.2", NULL, "TLSv1.2", "ECDHE-RSA-CHACHA20-POLY1305"},
        {"TLSv1.3", NULL, "TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256"},
        {"TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"},
        {"TLSv1.3", "TLS13-AES256-GCM-SHA384", "TLSv1.3", "TLS_AES_256_GCM_SHA384"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        myr_conn_opts *o = sandbox_opts(0);
        assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_REQUIRED), 0);
        assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_TLS_VERSION, cases[i].version), 0);
        assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_SSL_CIPHER, cases[i].cipher), 0);
        myr_error err;
        myr_conn *c = myr_connect_sync(NULL, o, &err);
        myr_conn_opts_free(o);
        if (c == NULL)
            fail_msg("case %zu: %u %s", i, err.mysql_errno, err.message);
        char *v = server_ssl(c, "Ssl_version"), *ci = server_ssl(c, "Ssl_cipher");
        assert_string_equal(v, cases[i].want_version);
        assert_string_equal(ci, cases[i].want_cipher);
        assert_string_equal(myr_conn_tls_version(c), cases[i].want_version);
        free(v);
        free(ci);
        myr_close_sync(c, NULL);
    }
    /* A list with nothing usable: 2026 naming it. */
    myr_conn_opts *o = sandbox_opts(0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_REQUIRED), 0);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_SSL_CIPHER, "NO-SUCH-CIPHER"), 0);
    myr_error err;
    assert_null(myr_connect_sync(NULL, o, &err));
    assert_int_equal(err.mysql_errno, 2026);
    assert_non_null(strstr(err.message, "NO-SUCH-CIPHER"));
    myr_conn_opts_free(o);
}

static void test_unknown_ca_fails_2026(void **state)
{
    (void)state;
    /* No CA given: the system's store, which does not know the sandbox CA. */
    myr_error err;
    myr_conn *c = connect_mode(0, MYR_SSL_VERIFY_CA, &err);
    assert_null(c);
    assert_int_equal(err.code, MYR_ETLS);
    assert_int_equal(err.mysql_errno, 2026);
    assert_non_null(strstr(err.message, "SSL connection error"));
    assert_non_null(strstr(err.message, "unknown CA"));
    /* The password never reached the server: it was not even asked for. */
}

static void test_required_without_server_tls_fails_2026(void **state)
{
    (void)state;
    fakesrv *s = fs_new();
    fs_buf b = {0};
    uint8_t seq = 0;
    fs_greeting(&b, &seq, FS_CAPS_DEFAULT, "mysql_native_password", fs_scramble_a, 7);   /* no CLIENT_SSL */
    fs_send_buf(s, &b);
    fs_expect_eof(s);   /* we hang up: no login, no password */
    myr_loop *loop = fs_loop();
    myr_conn_opts *o = fs_opts("bob", "secret");
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_REQUIRED), 0);
    int count = 0;
    myr_future *f = fs_connect(loop, o, s, &count);
    assert_int_equal(myr_await(f, 5000), MYR_ETLS);
    const myr_error *e = myr_future_error(f);
    assert_int_equal(e->mysql_errno, 2026);
    assert_non_null(strstr(e->message, "SSL is required but the server doesn't support it"));
    assert_int_equal(count, 1);
    myr_future_free(f);
    myr_loop_free(loop);
    assert_int_equal(fs_join(s), 0);
    assert_int_equal(fs_npackets(s), 0);
    fs_free(s);
    myr_conn_opts_free(o);
}

/* Results larger than a TLS record and than a protocol packet, both ways. */
static void test_big_values_over_tls(void **state)
{
    (void)state;
    myr_error err;
    myr_conn *c = connect_mode(0, MYR_SSL_REQUIRED, &err);
    assert_non_null(c);
    const size_t big = 20u << 20;   /* > 16 MiB: two protocol packets, ~1300 records */
    myr_result *r = sandbox_query(c, "SELECT REPEAT('ab', 10 * 1024 * 1024), 'tail'");
    size_t len;
    const char *v = myr_result_value(r, 0, 0, &len);
    assert_int_equal(len, big);
    for (size_t i = 0; i < big; i += 4099)
        assert_int_equal(v[i], i % 2 ? 'b' : 'a');
    assert_string_equal(myr_result_value(r, 0, 1, NULL), "tail");
    myr_result_free(r);

    /* A 17 MiB statement going out. */
    size_t n = (17u << 20);
    char *sql = malloc(n + 64);
    int h = sprintf(sql, "SELECT LENGTH('");
    memset(sql + h, 'z', n);
    strcpy(sql + h + n, "'), MD5('x')");
    r = myr_query_sync(c, sql, strlen(sql), &err);
    free(sql);
    if (r == NULL)
        fail_msg("%u %s", err.mysql_errno, err.message);
    char want[32];
    snprintf(want, sizeof want, "%zu", n);
    assert_string_equal(myr_result_value(r, 0, 0, NULL), want);
    myr_result_free(r);
    myr_close_sync(c, NULL);
}

static void test_pipelined_over_tls(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    assert_non_null(loop);
    myr_error err;
    myr_conn_opts *o = sandbox_opts(0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_REQUIRED), 0);
    myr_conn *c = myr_connect_sync(loop, o, &err);
    myr_conn_opts_free(o);
    assert_non_null(c);
    enum { N = 200 };
    myr_future *fs[N];
    char sql[N][48];
    for (int i = 0; i < N; i++) {
        snprintf(sql[i], sizeof sql[i], "SELECT %d, REPEAT('q', %d)", i, i * 97);
        fs[i] = myr_query(c, sql[i], strlen(sql[i]));
    }
    assert_int_equal(myr_gather(fs, N, 20000), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(myr_future_status(fs[i]), 0);
        myr_result *r = myr_future_take_result(fs[i]);
        assert_int_equal(atoi(myr_result_value(r, 0, 0, NULL)), i);
        size_t len;
        myr_result_value(r, 0, 1, &len);
        assert_int_equal(len, (size_t)i * 97);
        myr_result_free(r);
        myr_future_free(fs[i]);
    }
    expect_tls(c);
    myr_close_sync(c, NULL);
    myr_loop_free(loop);
}

/* Many TLS handshakes at once on one loop, then a query on each. */
static void test_many_connections_one_loop(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    assert_non_null(loop);
    enum { N = 100 };
    myr_future *fs[N];
    myr_conn_opts *o = sandbox_opts(0);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_HOST, "localhost"), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_VERIFY_IDENTITY), 0);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_SSL_CA, sandbox_env("MYR_TEST_SSL_CA")), 0);
    for (int i = 0; i < N; i++)
        fs[i] = myr_connect(loop, o);
    myr_conn_opts_free(o);
    assert_int_equal(myr_gather(fs, N, 60000), 0);
    myr_conn *cs[N];
    myr_future *q[N];
    for (int i = 0; i < N; i++) {
        if (myr_future_status(fs[i]) != 0)
            fail_msg("conn %d: %s", i, myr_future_error(fs[i])->message);
        cs[i] = myr_future_take_conn(fs[i]);
        myr_future_free(fs[i]);
        assert_string_not_equal(myr_conn_tls_version(cs[i]), "");
        q[i] = myr_query(cs[i], "SELECT CONNECTION_ID()", 22);
    }
    assert_int_equal(myr_gather(q, N, 20000), 0);
    for (int i = 0; i < N; i++) {
        myr_result *r = myr_future_take_result(q[i]);
        assert_non_null(r);
        assert_int_equal(strtoul(myr_result_value(r, 0, 0, NULL), NULL, 10), myr_conn_thread_id(cs[i]));
        myr_result_free(r);
        myr_future_free(q[i]);
        myr_conn_free(cs[i]);
    }
    myr_loop_free(loop);
}

/* A second connection to the same server from the same loop resumes the
 * first one's session (TLS 1.3 ticket / TLS 1.2 ticket or id); another loop
 * has its own cache and does a full handshake. */
static void test_resumption(void **state)
{
    (void)state;
    static const char *const versions[] = {"TLSv1.3", "TLSv1.2"};
    for (size_t v = 0; v < 2; v++) {
        myr_loop *loop = myr_loop_new(NULL, NULL);
        assert_non_null(loop);
        myr_conn_opts *o = sandbox_opts(0);
        assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_VERIFY_CA), 0);
        assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_SSL_CA, sandbox_env("MYR_TEST_SSL_CA")), 0);
        assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_TLS_VERSION, versions[v]), 0);
        myr_error err;
        for (int i = 0; i < 3; i++) {
            myr_conn *c = myr_connect_sync(loop, o, &err);
            if (c == NULL)
                fail_msg("%s conn %d: %s", versions[v], i, err.message);
            assert_string_equal(myr_conn_tls_version(c), versions[v]);
            if (myr_conn_tls_resumed(c) != (i > 0))
                fail_msg("%s conn %d: resumed=%d", versions[v], i, myr_conn_tls_resumed(c));
            myr_result_free(sandbox_query(c, "SELECT 1"));   /* usable after resuming */
            myr_close_sync(c, NULL);
        }
        /* Resumption off: a full handshake although the loop has a session. */
        assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_TLS_RESUME, 0), 0);
        myr_conn *full = myr_connect_sync(loop, o, &err);
        assert_non_null(full);
        assert_int_equal(myr_conn_tls_resumed(full), 0);
        myr_close_sync(full, NULL);
        assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_TLS_RESUME, 1), 0);
        myr_loop *other = myr_loop_new(NULL, NULL);
        myr_conn *c = myr_connect_sync(other, o, &err);
        assert_non_null(c);
        assert_int_equal(myr_conn_tls_resumed(c), 0);
        myr_close_sync(c, NULL);
        myr_loop_free(other);
        myr_conn_opts_free(o);
        myr_loop_free(loop);
    }
}

/* MYR_OPT_TLS_RESUME_PSK_ONLY: a TLS 1.3 resumption without a key exchange
 * (psk_ke) where the server accepts one (the sandbox's OpenSSL is told to:
 * tests/sandbox.sh), working; a server that refuses (a sandbox started
 * before it was) answers with a full handshake, and the next connection
 * resumes with a key exchange instead (not a full handshake each time).
 * Without the option a resumption exchanges keys (X25519). */
static void test_resumption_psk_only(void **state)
{
    (void)state;
    myr_loop *loop = myr_loop_new(NULL, NULL);
    assert_non_null(loop);
    myr_conn_opts *o = sandbox_opts(0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_VERIFY_CA), 0);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_SSL_CA, sandbox_env("MYR_TEST_SSL_CA")), 0);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_TLS_VERSION, "TLSv1.3"), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_TLS_RESUME_PSK_ONLY, 2), MYR_EINVAL);
    myr_error err;
    myr_conn *c = myr_connect_sync(loop, o, &err);
    if (c == NULL)
        fail_msg("full: %s", err.message);
    assert_int_equal(myr_conn_tls_resumed(c), 0);
    assert_string_equal(myr_conn_tls_group(c), "X25519");
    myr_close_sync(c, NULL);

    /* The default: a resumption with X25519. */
    c = myr_connect_sync(loop, o, &err);
    assert_non_null(c);
    assert_int_equal(myr_conn_tls_resumed(c), 1);
    assert_string_equal(myr_conn_tls_group(c), "X25519");
    myr_close_sync(c, NULL);

    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_TLS_RESUME_PSK_ONLY, 1), 0);
    int psk_ke = 0;
    for (int i = 0; i < 3; i++) {
        c = myr_connect_sync(loop, o, &err);
        if (c == NULL)
            fail_msg("psk_ke conn %d: %s", i, err.message);
        if (i == 0)
            psk_ke = myr_conn_tls_resumed(c);
        if (psk_ke) {   /* the server accepts psk_ke: every one resumes so */
            assert_int_equal(myr_conn_tls_resumed(c), 1);
            assert_string_equal(myr_conn_tls_group(c), "");
        } else if (i > 0) {   /* refused once: back to psk_dhe_ke, resumed */
            assert_int_equal(myr_conn_tls_resumed(c), 1);
            assert_string_equal(myr_conn_tls_group(c), "X25519");
        }
        expect_tls(c);   /* working: queries go through (the server's Ssl_version) */
        myr_close_sync(c, NULL);
    }
    print_message("psk_ke resumption %s by the server\n", psk_ke ? "accepted" : "refused");
    myr_conn_opts_free(o);
    myr_loop_free(loop);
}

/* A scripted server whose certificate expired yesterday (no real server
 * here presents one): greeting with CLIENT_SSL, the SSLRequest, then a
 * wolfSSL server handshake with tls/expired-cert.pem. */
typedef struct expired_srv {
    int lfd;
    char cert[4096], key[4096];
    int got_ssl_request;
} expired_srv;

static void *expired_main(void *arg)
{
    expired_srv *e = arg;
    int fd = accept(e->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    fs_buf b = {0};
    uint8_t seq = 0;
    fs_greeting(&b, &seq, FS_CAPS_DEFAULT | 0x800u, "mysql_native_password", fs_scramble_a, 9);
    if (write(fd, b.data, b.len) != (ssize_t)b.len)
        goto out;
    uint8_t req[36];
    size_t got = 0;
    while (got < sizeof req) {
        ssize_t n = read(fd, req + got, sizeof req - got);
        if (n <= 0)
            goto out;
        got += (size_t)n;
    }
    e->got_ssl_request = req[0] == 32 && req[3] == 1 && (req[5] & 0x08);   /* len 32, seq 1, CLIENT_SSL */
    WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfTLS_server_method());
    if (ctx && wolfSSL_CTX_use_certificate_file(ctx, e->cert, WOLFSSL_FILETYPE_PEM) == WOLFSSL_SUCCESS &&
        wolfSSL_CTX_use_PrivateKey_file(ctx, e->key, WOLFSSL_FILETYPE_PEM) == WOLFSSL_SUCCESS) {
        WOLFSSL *ssl = wolfSSL_new(ctx);
        wolfSSL_set_fd(ssl, fd);
        wolfSSL_accept(ssl);   /* the client gives up on our certificate */
        wolfSSL_free(ssl);
    }
    wolfSSL_CTX_free(ctx);
out:
    fs_buf_free(&b);
    close(fd);
    return NULL;
}

static void test_expired_certificate_fails_2026(void **state)
{
    (void)state;
    expired_srv e = {0};
    snprintf(e.cert, sizeof e.cert, "%s/tls/expired-cert.pem", sandbox_env("MYR_SANDBOX_DIR"));
    snprintf(e.key, sizeof e.key, "%s/tls/expired-key.pem", sandbox_env("MYR_SANDBOX_DIR"));
    assert_int_equal(access(e.cert, R_OK), 0);
    e.lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(e.lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(e.lfd, 1), 0);
    assert_int_equal(getsockname(e.lfd, (struct sockaddr *)&a, &alen), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, expired_main, &e), 0);

    myr_conn_opts *o = fs_opts("bob", "secret");
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_HOST, "127.0.0.1"), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PORT, ntohs(a.sin_port)), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_VERIFY_IDENTITY), 0);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_SSL_CA, sandbox_env("MYR_TEST_SSL_CA")), 0);
    myr_error err;
    myr_conn *c = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    pthread_join(th, NULL);
    close(e.lfd);
    assert_null(c);
    assert_true(e.got_ssl_request);
    assert_int_equal(err.mysql_errno, 2026);
    if (strstr(err.message, "expired") == NULL)
        fail_msg("%s", err.message);
}

static void test_bad_options(void **state)
{
    (void)state;
    myr_conn_opts *o = myr_conn_opts_new();
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, 0), MYR_EINVAL);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, 6), MYR_EINVAL);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_TLS_VERSION, "TLSv1.1"), MYR_EINVAL);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_TLS_VERSION, "TLSv1.3,TLSv1.2"), 0);
    myr_conn_opts_free(o);
    /* A CA file that does not exist: 2026 naming it, before any password. */
    o = sandbox_opts(0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_VERIFY_CA), 0);
    assert_int_equal(myr_conn_opts_set_str(o, MYR_OPT_SSL_CA, "/nonexistent/ca.pem"), 0);
    myr_error err;
    assert_null(myr_connect_sync(NULL, o, &err));
    assert_int_equal(err.mysql_errno, 2026);
    assert_non_null(strstr(err.message, "/nonexistent/ca.pem"));
    myr_conn_opts_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_is_preferred_tcp_tls),
        cmocka_unit_test(test_disabled_is_plaintext),
        cmocka_unit_test(test_unix_socket_preferred_plain_required_tls),
        cmocka_unit_test(test_required_and_verify_ca),
        cmocka_unit_test(test_unknown_ca_fails_2026),
        cmocka_unit_test(test_name_mismatch_fails_2026),
        cmocka_unit_test(test_other_ca_fails_2026),
        cmocka_unit_test(test_require_ssl_user),
        cmocka_unit_test(test_require_x509_user),
        cmocka_unit_test(test_versions_and_ciphers),
        cmocka_unit_test(test_required_without_server_tls_fails_2026),
        cmocka_unit_test(test_big_values_over_tls),
        cmocka_unit_test(test_pipelined_over_tls),
        cmocka_unit_test(test_many_connections_one_loop),
        cmocka_unit_test(test_resumption),
        cmocka_unit_test(test_resumption_psk_only),
        cmocka_unit_test(test_expired_certificate_fails_2026),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
