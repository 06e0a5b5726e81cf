/* tests/proto/test_handshake.c -- greeting parsing, login and SSLRequest
 * building (src/proto/handshake.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/proto.h"

/* A MariaDB 10.11 greeting as Debian 12's server sends it (payload only). */
static const uint8_t mariadb_greeting[] =
    "\x0a"                                          /* protocol 10 */
    "5.5.5-10.11.6-MariaDB-0+deb12u1\0"             /* version, with the 5.5.5- prefix */
    "\x1f\x00\x00\x00"                              /* thread id 31 */
    "Rr8|%C<d"                                      /* auth data part 1 */
    "\x00"                                          /* filler */
    "\xfe\xf7"                                      /* caps lower: no CLIENT_LONG_PASSWORD */
    "\x2d"                                          /* charset 45 */
    "\x02\x00"                                      /* status: autocommit */
    "\xff\x81"                                      /* caps upper */
    "\x15"                                          /* auth data length 21 */
    "\x00\x00\x00\x00\x00\x00" "\x1d\x00\x00\x00"   /* reserved; MariaDB extended caps */
    "X9n^Z`f4:IG,\0"                                /* auth data part 2 + NUL */
    "mysql_native_password";                        /* + the literal's NUL */
#define MARIADB_PLUGIN_AT (sizeof mariadb_greeting - 22)

/* A MySQL 8.0 greeting with caching_sha2_password. */
static const uint8_t mysql8_greeting[] =
    "\x0a" "8.0.36\0"
    "\x08\x00\x00\x00"
    "\x04\x3e\x1a\x69\x5b\x16\x0a\x55"
    "\x00"
    "\xff\xff" "\xff" "\x02\x00" "\xff\xdf" "\x15"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x4d\x7e\x21\x30\x2b\x5e\x01\x4f\x79\x24\x19\x33" "\x00"
    "caching_sha2_password";

static void test_mariadb_greeting(void **state)
{
    (void)state;
    myr__greeting g;
    assert_int_equal(myr__greeting_parse(mariadb_greeting, sizeof mariadb_greeting, &g), 0);
    assert_int_equal(g.protocol, 10);
    assert_string_equal(g.server_version, "10.11.6-MariaDB-0+deb12u1");
    assert_int_equal(g.thread_id, 31);
    assert_int_equal(g.scramble_len, 20);
    assert_memory_equal(g.scramble, "Rr8|%C<dX9n^Z`f4:IG,", 20);
    assert_int_equal(g.caps, 0x81FFF7FEu);
    assert_int_equal(g.mariadb_caps, 0x1d);
    assert_int_equal(g.charset, 45);
    assert_int_equal(g.status, MYR__STATUS_AUTOCOMMIT);
    assert_string_equal(g.plugin, "mysql_native_password");
}

static void test_mysql8_greeting(void **state)
{
    (void)state;
    myr__greeting g;
    assert_int_equal(myr__greeting_parse(mysql8_greeting, sizeof mysql8_greeting, &g), 0);
    assert_string_equal(g.server_version, "8.0.36");
    assert_int_equal(g.thread_id, 8);
    assert_int_equal(g.scramble_len, 20);
    assert_memory_equal(g.scramble, "\x04\x3e\x1a\x69\x5b\x16\x0a\x55"
                                    "\x4d\x7e\x21\x30\x2b\x5e\x01\x4f\x79\x24\x19\x33", 20);
    assert_int_equal(g.caps, 0xDFFFFFFFu);
    assert_int_equal(g.mariadb_caps, 0);   /* CLIENT_LONG_PASSWORD set: reserved bytes are just reserved */
    assert_int_equal(g.charset, 255);
    assert_string_equal(g.plugin, "caching_sha2_password");
    /* a server that ends the packet without the plugin name's NUL */
    assert_int_equal(myr__greeting_parse(mysql8_greeting, sizeof mysql8_greeting - 1, &g), 0);
    assert_string_equal(g.plugin, "caching_sha2_password");
}

static void test_greeting_truncated_everywhere(void **state)
{
    (void)state;
    myr__greeting g;
    for (size_t len = 0; len < sizeof mariadb_greeting; len++) {
        int rc = myr__greeting_parse(mariadb_greeting, len, &g);
        if (len < MARIADB_PLUGIN_AT) {
            assert_int_equal(rc, MYR_EMALFORMED);
        } else {   /* only the plugin name is cut: it may legitimately lack its NUL */
            assert_int_equal(rc, 0);
            assert_int_equal(strlen(g.plugin), len - MARIADB_PLUGIN_AT);
        }
    }
    for (size_t len = 0; len < sizeof mysql8_greeting - 22; len++)
        assert_int_equal(myr__greeting_parse(mysql8_greeting, len, &g), MYR_EMALFORMED);
}

static void test_greeting_odd(void **state)
{
    (void)state;
    myr__greeting g;
    uint8_t p[sizeof mysql8_greeting];
    memcpy(p, mysql8_greeting, sizeof p);
    p[0] = 9;                                   /* protocol 9 */
    assert_int_equal(myr__greeting_parse(p, sizeof p, &g), MYR_EMALFORMED);
    /* version without NUL anywhere */
    static const uint8_t nonul[] = "\x0a" "8.0.36";
    assert_int_equal(myr__greeting_parse(nonul, sizeof nonul - 1, &g), MYR_EMALFORMED);
    /* an auth data length claiming more than the packet holds */
    memcpy(p, mysql8_greeting, sizeof p);
    p[1 + 7 + 20] = 200;
    assert_int_equal(myr__greeting_parse(p, sizeof p, &g), MYR_EMALFORMED);

    /* a very long version is truncated, and a "5.5.5-" that is not MariaDB is kept */
    uint8_t big[300];
    size_t n = 0;
    big[n++] = 10;
    memcpy(big + n, "5.5.5-", 6);
    n += 6;
    memset(big + n, 'v', 100);
    n += 100;
    big[n++] = 0;
    memcpy(big + n, mysql8_greeting + 8, sizeof mysql8_greeting - 8);
    n += sizeof mysql8_greeting - 8;
    assert_int_equal(myr__greeting_parse(big, n, &g), 0);
    assert_int_equal(strlen(g.server_version), 63);
    assert_memory_equal(g.server_version, "5.5.5-vvv", 9);
    assert_string_equal(g.plugin, "caching_sha2_password");
}

static const char *const attrs[] = {"_client_name", "myring", "_pid", "42", NULL};

static void test_login_build(void **state)
{
    (void)state;
    uint8_t auth[20];
    for (int i = 0; i < 20; i++)
        auth[i] = (uint8_t)(i + 1);
    myr__login l = {
        .caps = MYR__CLIENT_LONG_PASSWORD | MYR__CLIENT_CONNECT_WITH_DB | MYR__CLIENT_PROTOCOL_41 |
                MYR__CLIENT_TRANSACTIONS | MYR__CLIENT_SECURE_CONNECTION | MYR__CLIENT_MULTI_RESULTS |
                MYR__CLIENT_PLUGIN_AUTH | MYR__CLIENT_CONNECT_ATTRS |
                MYR__CLIENT_PLUGIN_AUTH_LENENC_DATA | MYR__CLIENT_DEPRECATE_EOF,
        .max_packet = 0x01000000,
        .charset = 45,
        .user = "root",
        .auth = auth, .auth_len = 20,
        .database = "test",
        .plugin = "mysql_native_password",
        .attrs = attrs,
    };
    static const uint8_t expect[] =
        "\x72\x00\x00\x01"                          /* 114 bytes, seq 1 */
        "\x09\xa2\x3a\x01"                          /* caps 0x013AA209 */
        "\x00\x00\x00\x01"                          /* max packet 16 MiB */
        "\x2d"
        "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
        "root\0"
        "\x14\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14"
        "test\0"
        "mysql_native_password\0"
        "\x1c" "\x0c_client_name" "\x06myring" "\x04_pid" "\x02" "42";
    myr__buf b;
    myr__buf_init(&b);
    assert_int_equal(myr__login_build(&b, 1, &l), 0);
    assert_int_equal(b.len, sizeof expect - 1);
    assert_memory_equal(b.data, expect, sizeof expect - 1);

    /* without LENENC_DATA: a one-byte length; no db, no plugin, no attrs */
    myr__buf_reset(&b);
    l.caps = MYR__CLIENT_PROTOCOL_41 | MYR__CLIENT_SECURE_CONNECTION;
    l.user = "";
    l.auth_len = 3;
    assert_int_equal(myr__login_build(&b, 2, &l), 0);
    assert_int_equal(b.len, 4 + 32 + 1 + 1 + 3);
    assert_memory_equal(b.data, "\x25\x00\x00\x02\x00\x82\x00\x00", 8);
    assert_memory_equal(b.data + 36, "\x00\x03\x01\x02\x03", 5);

    /* auth data too long for a one-byte length: refused, buffer untouched */
    uint8_t long_auth[300] = {0};
    l.auth = long_auth;
    l.auth_len = sizeof long_auth;
    size_t before = b.len;
    assert_int_equal(myr__login_build(&b, 2, &l), MYR_EINVAL);
    assert_int_equal(b.len, before);
    /* ... but fine with LENENC_DATA (0xFC form) */
    l.caps |= MYR__CLIENT_PLUGIN_AUTH_LENENC_DATA;
    assert_int_equal(myr__login_build(&b, 2, &l), 0);
    assert_memory_equal(b.data + before + 4 + 32, "\x00\xfc\x2c\x01", 4);
    assert_int_equal(b.len - before, 4 + 32 + 1 + 3 + 300);

    /* a key without a value */
    static const char *const odd[] = {"_client_name", NULL};
    l.caps |= MYR__CLIENT_CONNECT_ATTRS;
    l.attrs = odd;
    before = b.len;
    assert_int_equal(myr__login_build(&b, 2, &l), MYR_EINVAL);
    assert_int_equal(b.len, before);
    myr__buf_free(&b);
}

static void test_ssl_request(void **state)
{
    (void)state;
    myr__buf b;
    myr__buf_init(&b);
    uint32_t caps = MYR__CLIENT_PROTOCOL_41 | MYR__CLIENT_SECURE_CONNECTION;  /* SSL added */
    assert_int_equal(myr__ssl_request_build(&b, 1, caps, 0xFFFFFF, 33), 0);
    static const uint8_t expect[] =
        "\x20\x00\x00\x01" "\x00\x8a\x00\x00" "\xff\xff\xff\x00" "\x21"
        "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
    assert_int_equal(b.len, 36);
    assert_memory_equal(b.data, expect, 36);
    myr__buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mariadb_greeting),
        cmocka_unit_test(test_mysql8_greeting),
        cmocka_unit_test(test_greeting_truncated_everywhere),
        cmocka_unit_test(test_greeting_odd),
        cmocka_unit_test(test_login_build),
        cmocka_unit_test(test_ssl_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
