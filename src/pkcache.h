/*
 * src/pkcache.h -- the servers' RSA public keys a loop has seen, so that a
 * reconnect storm to a caching_sha2_password/sha256_password server over
 * plain TCP pays the key request round trip once, not once per connection.
 * Keyed by "host:port"; at most MYR__PKCACHE_MAX entries (the least
 * recently used one makes room). Keys are DER (myr__rsa_pem_to_der).
 * Loop thread only, like everything of a loop.
 */
#ifndef MYR_PKCACHE_H
#define MYR_PKCACHE_H

#include <stddef.h>
#include <stdint.h>

#define MYR__PKCACHE_MAX 64

typedef struct myr__pkcache myr__pkcache;

/* The key for name, or NULL (*len then 0). The pointer stays valid until
 * the next put/drop/free. */
const uint8_t *myr__pkcache_get(myr__pkcache *pc, const char *name, size_t *len);
/* Remember der for name (replacing what was there). *pc is created on first
 * use. 0 or MYR_ENOMEM (the cache is left as it was). */
int myr__pkcache_put(myr__pkcache **pc, const char *name, const uint8_t *der, size_t len);
/* Forget name's key (a login encrypted with it was refused: the server may
 * have a new one). */
void myr__pkcache_drop(myr__pkcache *pc, const char *name);
/* Number of keys held (for tests). */
size_t myr__pkcache_count(const myr__pkcache *pc);
void myr__pkcache_free(myr__pkcache *pc);

#endif
