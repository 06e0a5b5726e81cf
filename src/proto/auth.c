/*
 * src/proto/auth.c -- authentication data: the mysql_native_password and
 * caching_sha2_password (fast path) scrambles, computed with wolfCrypt, the
 * AuthSwitchRequest parser and the packet that carries raw auth data.
 */
#include "proto.h"

#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha.h>
#include <wolfssl/wolfcrypt/sha256.h>

#define SCRAMBLE_LEN 20   /* both plugins use the first 20 bytes of the server's data */

/* out = SHA1(a || b) */
static int sha1_2(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t *out)
{
    wc_Sha sha;
    int rc = wc_InitSha(&sha);
    if (rc == 0)
        rc = wc_ShaUpdate(&sha, a, (word32)alen);
    if (rc == 0 && blen)
        rc = wc_ShaUpdate(&sha, b, (word32)blen);
    if (rc == 0)
        rc = wc_ShaFinal(&sha, out);
    wc_ShaFree(&sha);
    return rc == 0 ? 0 : MYR_EINVAL;
}

/* out = SHA256(a || b) */
static int sha256_2(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t *out)
{
    wc_Sha256 sha;
    int rc = wc_InitSha256(&sha);
    if (rc == 0)
        rc = wc_Sha256Update(&sha, a, (word32)alen);
    if (rc == 0 && blen)
        rc = wc_Sha256Update(&sha, b, (word32)blen);
    if (rc == 0)
        rc = wc_Sha256Final(&sha, out);
    wc_Sha256Free(&sha);
    return rc == 0 ? 0 : MYR_EINVAL;
}

int myr__auth_native(const uint8_t *scramble, size_t scramble_len, const char *pw, size_t pw_len,
                     uint8_t *out, size_t *out_len)
{
    *out_len = 0;
    if (pw_len == 0)
        return 0;           /* an empty password is sent as empty auth data */
    if (scramble_len < SCRAMBLE_LEN || pw_len > UINT32_MAX)
        return MYR_EMALFORMED;
    uint8_t h1[WC_SHA_DIGEST_SIZE], h2[WC_SHA_DIGEST_SIZE], h3[WC_SHA_DIGEST_SIZE];
    int rc = sha1_2((const uint8_t *)pw, pw_len, NULL, 0, h1);      /* SHA1(pw) */
    if (!rc)
        rc = sha1_2(h1, sizeof h1, NULL, 0, h2);                     /* SHA1(SHA1(pw)) */
    if (!rc)
        rc = sha1_2(scramble, SCRAMBLE_LEN, h2, sizeof h2, h3);     /* SHA1(scramble + h2) */
    if (!rc) {
        for (size_t i = 0; i < sizeof h1; i++)
            out[i] = h1[i] ^ h3[i];
        *out_len = sizeof h1;
    }
    explicit_bzero(h1, sizeof h1);   /* h1 is as good as the password */
    return rc;
}

int myr__auth_sha2(const uint8_t *scramble, size_t scramble_len, const char *pw, size_t pw_len,
                   uint8_t *out, size_t *out_len)
{
    *out_len = 0;
    if (pw_len == 0)
        return 0;
    if (scramble_len < SCRAMBLE_LEN || pw_len > UINT32_MAX)
        return MYR_EMALFORMED;
    uint8_t h1[WC_SHA256_DIGEST_SIZE], h2[WC_SHA256_DIGEST_SIZE], h3[WC_SHA256_DIGEST_SIZE];
    int rc = sha256_2((const uint8_t *)pw, pw_len, NULL, 0, h1);    /* SHA256(pw) */
    if (!rc)
        rc = sha256_2(h1, sizeof h1, NULL, 0, h2);                   /* SHA256(SHA256(pw)) */
    if (!rc)
        rc = sha256_2(h2, sizeof h2, scramble, SCRAMBLE_LEN, h3);   /* SHA256(h2 + scramble) */
    if (!rc) {
        for (size_t i = 0; i < sizeof h1; i++)
            out[i] = h1[i] ^ h3[i];
        *out_len = sizeof h1;
    }
    explicit_bzero(h1, sizeof h1);
    return rc;
}

int myr__auth_switch_parse(const uint8_t *p, size_t len, myr__auth_switch *sw)
{
    memset(sw, 0, sizeof *sw);
    if (len < 1 || p[0] != 0xFE)
        return MYR_EMALFORMED;
    if (len == 1) {
        /* Pre-4.1 "old auth switch": a bare 0xFE asks for mysql_old_password
         * with the greeting's scramble. */
        strcpy(sw->plugin, "mysql_old_password");
        return 0;
    }
    const uint8_t *name = p + 1;
    const uint8_t *nul = memchr(name, '\0', len - 1);
    if (nul == NULL)
        return MYR_EMALFORMED;
    size_t name_len = (size_t)(nul - name);
    if (name_len >= sizeof sw->plugin)
        name_len = sizeof sw->plugin - 1;   /* no plugin we know is that long */
    memcpy(sw->plugin, name, name_len);
    sw->plugin[name_len] = '\0';
    sw->data = nul + 1;
    sw->data_len = len - (size_t)(sw->data - p);
    sw->raw_len = sw->data_len;
    if (sw->data_len > 0 && sw->data[sw->data_len - 1] == '\0')
        sw->data_len--;
    return 0;
}

int myr__auth_data_build(myr__buf *out, uint8_t seq, const void *data, size_t len)
{
    size_t begin = myr__pkt_begin(out);
    if (begin == SIZE_MAX)
        return MYR_ENOMEM;
    int rc = myr__buf_append(out, data, len);
    if (!rc)
        rc = myr__pkt_end(out, begin, &seq);
    if (rc)
        out->len = out->rpos + begin;
    return rc;
}
