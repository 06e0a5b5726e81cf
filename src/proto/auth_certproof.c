/*
 * src/proto/auth_certproof.c -- MariaDB 11.4+ zero-configuration TLS: the
 * server proves that the certificate it showed is its own by hashing it
 * with something only it and the client know.
 *
 * After a successful login over TLS, such a server puts in the OK packet's
 * info field the byte 0x01 followed by the hex form of
 *     SHA-256(password hash || scramble || SHA-256(server certificate DER))
 * where the password hash is what the server stores for the account
 * (mysql_native_password: SHA1(SHA1(password)); client_ed25519: the Ed25519
 * public key derived from the password) and the scramble is the 20 bytes of
 * the greeting. A man in the middle with a certificate of its own cannot
 * produce it without the password hash.
 */
#include "proto.h"

#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/hash.h>

#define SCRAMBLE_LEN 20

int myr__certproof_hash(const char *plugin, const char *pw, size_t pw_len, uint8_t *out,
                        size_t *out_len)
{
    *out_len = 0;
    if (pw_len == 0 || pw_len > UINT32_MAX)
        return MYR_EINVAL;
    if (strcmp(plugin, "mysql_native_password") == 0) {
        uint8_t h1[WC_SHA_DIGEST_SIZE];
        int rc = wc_ShaHash((const uint8_t *)pw, (word32)pw_len, h1);
        if (rc == 0)
            rc = wc_ShaHash(h1, sizeof h1, out);
        explicit_bzero(h1, sizeof h1);
        if (rc != 0)
            return MYR_EINVAL;
        *out_len = WC_SHA_DIGEST_SIZE;
        return 0;
    }
    if (strcmp(plugin, "client_ed25519") == 0) {
        int rc = myr__auth_ed25519_pk(pw, pw_len, out);   /* the server keeps the public key */
        if (rc == 0)
            *out_len = 32;
        return rc;
    }
    return MYR_ENOTSUP;
}

static int hexval(uint8_t ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int myr__certproof_check(const uint8_t *info, size_t info_len, const uint8_t *hash, size_t hash_len,
                         const uint8_t *scramble, size_t scramble_len, const uint8_t fp[32])
{
    if (info_len == 0 || info[0] != 0x01)
        return MYR_ENOTSUP;   /* no proof: a server before 11.4 */
    if (info_len != 1 + 2 * WC_SHA256_DIGEST_SIZE || scramble_len < SCRAMBLE_LEN)
        return MYR_EMALFORMED;
    uint8_t want[WC_SHA256_DIGEST_SIZE];
    wc_Sha256 sha;
    int rc = wc_InitSha256(&sha);
    if (rc == 0)
        rc = wc_Sha256Update(&sha, hash, (word32)hash_len);
    if (rc == 0)
        rc = wc_Sha256Update(&sha, scramble, SCRAMBLE_LEN);
    if (rc == 0)
        rc = wc_Sha256Update(&sha, fp, WC_SHA256_DIGEST_SIZE);
    if (rc == 0)
        rc = wc_Sha256Final(&sha, want);
    wc_Sha256Free(&sha);
    if (rc != 0)
        return MYR_EINVAL;
    unsigned diff = 0;
    for (size_t i = 0; i < sizeof want; i++) {
        int hi = hexval(info[1 + 2 * i]), lo = hexval(info[2 + 2 * i]);
        if (hi < 0 || lo < 0)
            return MYR_EMALFORMED;
        diff |= (unsigned)(((hi << 4) | lo) ^ want[i]);
    }
    return diff == 0 ? 0 : MYR_EAUTH;
}
