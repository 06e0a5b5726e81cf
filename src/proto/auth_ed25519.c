/*
 * src/proto/auth_ed25519.c -- MariaDB's client_ed25519 answer: an Ed25519
 * signature of the server's 32-byte nonce with a key derived from the
 * password the way MariaDB's plugin does it (the secret scalar is the
 * clamped first half of SHA-512(password), for a password of any length),
 * which no standard Ed25519 API offers; so it is assembled from libsodium's
 * low-level scalar and point operations:
 *   az = SHA-512(pw), a = clamp(az[0..32])        A = a*B
 *   r  = SHA-512(az[32..64] || m) mod L           R = r*B
 *   h  = SHA-512(R || A || m) mod L               S = h*a + r mod L
 *   signature = R || S
 */
#include "proto.h"

#include <string.h>

#include <sodium.h>

#define NONCE_LEN 32

/* az = SHA-512(pw) with its first half clamped, a = that half reduced mod L
 * (the same point; the arithmetic wants reduced scalars), A = a*B. 0 or -1. */
static int derive(const char *pw, size_t pw_len, uint8_t az[64], uint8_t a[32], uint8_t A[32])
{
    uint8_t wide[64] = {0};
    crypto_hash_sha512(az, (const unsigned char *)pw, pw_len);
    az[0] &= 248;
    az[31] &= 63;
    az[31] |= 64;
    memcpy(wide, az, 32);
    crypto_core_ed25519_scalar_reduce(a, wide);
    sodium_memzero(wide, sizeof wide);
    return crypto_scalarmult_ed25519_base_noclamp(A, a);
}

int myr__auth_ed25519_pk(const char *pw, size_t pw_len, uint8_t pk[32])
{
    if (sodium_init() < 0)
        return MYR_EINVAL;
    uint8_t az[64], a[32];
    int rc = derive(pw, pw_len, az, a, pk);
    sodium_memzero(az, sizeof az);
    sodium_memzero(a, sizeof a);
    return rc == 0 ? 0 : MYR_EINVAL;
}

int myr__auth_ed25519(const uint8_t *nonce, size_t nonce_len, const char *pw, size_t pw_len,
                      uint8_t *out, size_t *out_len)
{
    *out_len = 0;
    if (nonce_len < NONCE_LEN)
        return MYR_EMALFORMED;
    if (sodium_init() < 0)
        return MYR_EINVAL;
    uint8_t az[64], a[32], wide[64], r[32], h[32], A[32], R[32], ha[32];
    uint8_t buf[64 + NONCE_LEN];
    int rc = MYR_EINVAL;
    if (derive(pw, pw_len, az, a, A) != 0)
        goto out;
    /* r = SHA-512(prefix || m) mod L */
    memcpy(buf, az + 32, 32);
    memcpy(buf + 32, nonce, NONCE_LEN);
    crypto_hash_sha512(wide, buf, 32 + NONCE_LEN);
    crypto_core_ed25519_scalar_reduce(r, wide);
    if (crypto_scalarmult_ed25519_base_noclamp(R, r) != 0)
        goto out;
    /* h = SHA-512(R || A || m) mod L */
    memcpy(buf, R, 32);
    memcpy(buf + 32, A, 32);
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, buf, 64);
    crypto_hash_sha512_update(&st, nonce, NONCE_LEN);
    crypto_hash_sha512_final(&st, wide);
    crypto_core_ed25519_scalar_reduce(h, wide);
    /* S = h*a + r */
    crypto_core_ed25519_scalar_mul(ha, h, a);
    memcpy(out, R, 32);
    crypto_core_ed25519_scalar_add(out + 32, ha, r);
    *out_len = 64;
    rc = 0;
out:
    sodium_memzero(az, sizeof az);
    sodium_memzero(a, sizeof a);
    sodium_memzero(wide, sizeof wide);
    sodium_memzero(r, sizeof r);
    sodium_memzero(ha, sizeof ha);
    sodium_memzero(buf, sizeof buf);
    sodium_memzero(&st, sizeof st);
    return rc;
}
