/* tests/proto/test_auth.c -- auth scrambles against vectors from an
 * independent implementation, AuthSwitchRequest parsing (src/proto/auth.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "proto/proto.h"

/*
 * Expected values computed once with Debian 12's python3-pymysql 1.0.2:
 *   /usr/bin/python3 -c 'from pymysql import _auth
 *   salt1 = bytes(range(1, 21)); salt2 = bytes((i*7+3) & 0xFF for i in range(20))
 *   pw_long = "pässwörd-日本語-ñ-0123456789-abcdefghijklmnopqrstuvwxyz".encode()
 *   for pw, salt in [(b"secret", salt1), (b"secret", salt2), (pw_long, salt2)]:
 *       print(_auth.scramble_native_password(pw, salt).hex(),
 *             _auth.scramble_caching_sha2(pw, salt).hex())'
 */
static const uint8_t salt1[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
static const uint8_t salt2[20] = {0x03, 0x0a, 0x11, 0x18, 0x1f, 0x26, 0x2d, 0x34, 0x3b, 0x42,
                                  0x49, 0x50, 0x57, 0x5e, 0x65, 0x6c, 0x73, 0x7a, 0x81, 0x88};
static const char pw_long[] = "p\xc3\xa4ssw\xc3\xb6rd-\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e-\xc3\xb1-"
                              "0123456789-abcdefghijklmnopqrstuvwxyz";   /* 61 bytes UTF-8 */

static const struct {
    const char *pw;
    const uint8_t *salt;
    const char *native_hex, *sha2_hex;
} vectors[] = {
    {"secret", salt1, "b32bb3a583e1340c0a1108d58b1be49781ad8c2f",
     "746ebe205d56a0707acb3e796e834e0dd7b1d61743b26bd5202c7a623230c7c9"},
    {"secret", salt2, "077c9ab05324cf969312b66cce6f3c72c798c2c1",
     "2bb537b732ebddc2fa6d5b36ef2a4e16022fd0b0bada7ab565192270684699c1"},
    {pw_long, salt2, "8f6760c73baa55a3e62fc44b6e0a140691793914",
     "77fbeac95d57e2a2f4c8f829f5744bbc657c31a10af29d8b8505e6ed6052600f"},
};

static void to_hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void test_vectors(void **state)
{
    (void)state;
    assert_int_equal(strlen(pw_long), 61);
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        uint8_t out[32], salt21[21];
        size_t n = 99;
        char hex[65];
        assert_int_equal(myr__auth_native(vectors[i].salt, 20, vectors[i].pw, strlen(vectors[i].pw), out, &n), 0);
        assert_int_equal(n, 20);
        to_hex(out, n, hex);
        assert_string_equal(hex, vectors[i].native_hex);
        assert_int_equal(myr__auth_sha2(vectors[i].salt, 20, vectors[i].pw, strlen(vectors[i].pw), out, &n), 0);
        assert_int_equal(n, 32);
        to_hex(out, n, hex);
        assert_string_equal(hex, vectors[i].sha2_hex);
        /* the server's data with its trailing NUL (21 bytes) gives the same answer */
        memcpy(salt21, vectors[i].salt, 20);
        salt21[20] = 0;
        assert_int_equal(myr__auth_sha2(salt21, 21, vectors[i].pw, strlen(vectors[i].pw), out, &n), 0);
        to_hex(out, n, hex);
        assert_string_equal(hex, vectors[i].sha2_hex);
        assert_int_equal(myr__auth_native(salt21, 21, vectors[i].pw, strlen(vectors[i].pw), out, &n), 0);
        to_hex(out, n, hex);
        assert_string_equal(hex, vectors[i].native_hex);
    }
}

static void test_empty_password_and_short_scramble(void **state)
{
    (void)state;
    uint8_t out[32];
    size_t n = 99;
    assert_int_equal(myr__auth_native(salt1, 20, "", 0, out, &n), 0);
    assert_int_equal(n, 0);
    n = 99;
    assert_int_equal(myr__auth_sha2(salt1, 20, "", 0, out, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(myr__auth_native(salt1, 8, "secret", 6, out, &n), MYR_EMALFORMED);
    assert_int_equal(myr__auth_sha2(salt1, 19, "secret", 6, out, &n), MYR_EMALFORMED);
}

/* client_ed25519: the vector in DESIGN.md, checked against MariaDB's own
 * client plugin (and python3-pymysql's ed25519_password gives the same). */
static void test_ed25519_vector(void **state)
{
    (void)state;
    uint8_t nonce[33], out[64];
    for (int i = 0; i < 32; i++)
        nonce[i] = (uint8_t)(7 * i + 1);
    nonce[32] = 0;
    size_t n = 0;
    char hexs[129];
    assert_int_equal(myr__auth_ed25519(nonce, 32, "secret", 6, out, &n), 0);
    assert_int_equal(n, 64);
    to_hex(out, 64, hexs);
    assert_string_equal(hexs, "1ad4dd2b8bfd4d74b7aedf479f9fca56b58bc5fc90eae53b27b00476496fcbc6"
                              "3ede410f23876fbb436b03ae8182f649812e86caf005dc49dbe3d963fd1fd509");
    /* a trailing NUL after the nonce changes nothing */
    assert_int_equal(myr__auth_ed25519(nonce, 33, "secret", 6, out, &n), 0);
    to_hex(out, 64, hexs);
    assert_string_equal(hexs + 64, "3ede410f23876fbb436b03ae8182f649812e86caf005dc49dbe3d963fd1fd509");
    assert_int_equal(myr__auth_ed25519(nonce, 31, "secret", 6, out, &n), MYR_EMALFORMED);
    assert_int_equal(n, 0);
}

static void test_auth_switch(void **state)
{
    (void)state;
    myr__auth_switch sw;
    /* MySQL 8 asking a native-password login to switch: data with trailing NUL */
    static const uint8_t req[] = "\xfe" "caching_sha2_password\0"
                                 "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a"
                                 "\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14";  /* + NUL */
    assert_int_equal(myr__auth_switch_parse(req, sizeof req, &sw), 0);
    assert_string_equal(sw.plugin, "caching_sha2_password");
    assert_int_equal(sw.data_len, 20);
    assert_memory_equal(sw.data, salt1, 20);
    /* MariaDB client_ed25519: 32 bytes, no trailing NUL */
    uint8_t ed[1 + 15 + 32];
    ed[0] = 0xFE;
    memcpy(ed + 1, "client_ed25519", 15);
    for (int i = 0; i < 32; i++)
        ed[16 + i] = (uint8_t)(7 * i + 1);
    assert_int_equal(myr__auth_switch_parse(ed, sizeof ed, &sw), 0);
    assert_string_equal(sw.plugin, "client_ed25519");
    assert_int_equal(sw.data_len, 32);
    assert_int_equal(sw.data[31], 7 * 31 + 1);
    /* plugin name only, no data */
    static const uint8_t bare_name[] = "\xfe" "mysql_clear_password";
    assert_int_equal(myr__auth_switch_parse(bare_name, sizeof bare_name, &sw), 0);
    assert_int_equal(sw.data_len, 0);
    /* pre-4.1 switch: 0xFE alone */
    assert_int_equal(myr__auth_switch_parse(req, 1, &sw), 0);
    assert_string_equal(sw.plugin, "mysql_old_password");
    /* every truncation that cuts the plugin name's NUL is malformed */
    for (size_t len = 2; len <= 22; len++)
        assert_int_equal(myr__auth_switch_parse(req, len, &sw), MYR_EMALFORMED);
    for (size_t len = 23; len <= sizeof req; len++) {
        assert_int_equal(myr__auth_switch_parse(req, len, &sw), 0);
        assert_true(sw.data_len <= 20);
    }
    assert_int_equal(myr__auth_switch_parse(req, 0, &sw), MYR_EMALFORMED);
    assert_int_equal(myr__auth_switch_parse((const uint8_t *)"\x00\x00", 2, &sw), MYR_EMALFORMED);
}

static void test_auth_data_build(void **state)
{
    (void)state;
    myr__buf b;
    myr__buf_init(&b);
    assert_int_equal(myr__auth_data_build(&b, 3, "\x02", 1), 0);   /* request public key */
    assert_int_equal(myr__auth_data_build(&b, 5, "", 0), 0);
    assert_int_equal(b.len, 9);
    assert_memory_equal(b.data, "\x01\x00\x00\x03\x02" "\x00\x00\x00\x05", 9);
    myr__buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_empty_password_and_short_scramble),
        cmocka_unit_test(test_ed25519_vector),
        cmocka_unit_test(test_auth_switch),
        cmocka_unit_test(test_auth_data_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
