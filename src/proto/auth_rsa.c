/*
 * src/proto/auth_rsa.c -- the RSA part of caching_sha2_password and
 * sha256_password over an insecure transport: the server's public key (PEM,
 * as the server sends it or as a key file holds it) turned into DER, and the
 * password encrypted with it: RSA-OAEP (SHA-1, MGF1-SHA-1) of
 * (password + NUL) XOR the 20-byte scramble, repeated. All through wolfCrypt.
 */
#include "proto.h"

#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

#define SCRAMBLE_LEN 20

int myr__rsa_pem_to_der(const uint8_t *pem, size_t pem_len, uint8_t *der, size_t cap, size_t *der_len)
{
    *der_len = 0;
    if (pem_len == 0 || pem_len > 65536 || cap > 0x7fffffff)
        return MYR_EMALFORMED;
    int n = wc_PubKeyPemToDer(pem, (int)pem_len, der, (int)cap);
    if (n <= 0)
        return MYR_EMALFORMED;
    /* It must be an RSA key we can load. */
    RsaKey key;
    if (wc_InitRsaKey(&key, NULL) != 0)
        return MYR_ENOMEM;
    word32 idx = 0;
    int rc = wc_RsaPublicKeyDecode(der, &idx, &key, (word32)n);
    int size = rc == 0 ? wc_RsaEncryptSize(&key) : 0;
    wc_FreeRsaKey(&key);
    if (rc != 0 || size <= 0 || size > MYR__RSA_MAX)
        return MYR_EMALFORMED;
    *der_len = (size_t)n;
    return 0;
}

int myr__rsa_encrypt_password(const uint8_t *der, size_t der_len, const uint8_t *scramble,
                              size_t scramble_len, const char *pw, size_t pw_len, uint8_t *out,
                              size_t cap, size_t *out_len)
{
    *out_len = 0;
    if (scramble_len < SCRAMBLE_LEN || der_len > 0x7fffffff)
        return MYR_EMALFORMED;
    /* OAEP with SHA-1 takes at most k - 42 bytes (k: the modulus size). */
    uint8_t plain[MYR__RSA_MAX];
    if (pw_len + 1 > sizeof plain)
        return MYR_EINVAL;
    RsaKey key;
    if (wc_InitRsaKey(&key, NULL) != 0)
        return MYR_ENOMEM;
    word32 idx = 0;
    int rc = wc_RsaPublicKeyDecode(der, &idx, &key, (word32)der_len);
    int k = rc == 0 ? wc_RsaEncryptSize(&key) : 0;
    if (rc != 0 || k <= 0 || k > MYR__RSA_MAX) {
        wc_FreeRsaKey(&key);
        return MYR_EMALFORMED;
    }
    if (pw_len + 1 > (size_t)k - 42 || cap < (size_t)k) {
        wc_FreeRsaKey(&key);
        return MYR_EINVAL;
    }
    size_t n = pw_len + 1;
    memcpy(plain, pw, pw_len);
    plain[pw_len] = '\0';
    for (size_t i = 0; i < n; i++)
        plain[i] ^= scramble[i % SCRAMBLE_LEN];
    WC_RNG rng;
    rc = wc_InitRng(&rng);
    if (rc == 0) {
        rc = wc_RsaPublicEncrypt_ex(plain, (word32)n, out, (word32)cap, &key, &rng, WC_RSA_OAEP_PAD,
                                    WC_HASH_TYPE_SHA, WC_MGF1SHA1, NULL, 0);
        wc_FreeRng(&rng);
    } else {
        rc = -1;
    }
    wc_FreeRsaKey(&key);
    explicit_bzero(plain, sizeof plain);
    if (rc <= 0)
        return MYR_EINVAL;
    *out_len = (size_t)rc;
    return 0;
}
