/*
 * myring/auth.h -- authentication: which plugins myring speaks, the options
 * that govern them, and which one a connection used. Included by myring.h.
 *
 * Plugins (the server names the one it wants; an AuthSwitchRequest may move
 * to any of these):
 *   mysql_native_password   SHA-1 scramble.
 *   caching_sha2_password   MySQL 8/9's default. Fast path: a SHA-256
 *                           scramble, when the server's cache knows the user.
 *                           Otherwise full authentication: over TLS or a
 *                           Unix socket the password itself; over plain TCP
 *                           the password encrypted with the server's RSA
 *                           public key (RSA-OAEP), taken from
 *                           MYR_OPT_SERVER_PUBLIC_KEY (a PEM file), from the
 *                           loop's cache, or, if MYR_OPT_GET_SERVER_PUBLIC_KEY
 *                           allows it, asked from the server (one more round
 *                           trip; the key is then cached in the loop per
 *                           host:port, at most 64 servers, and dropped when a
 *                           login encrypted with it is refused). With none of
 *                           these the connect fails with client error 2061.
 *   sha256_password         The same without the fast path.
 *   mysql_clear_password    The password itself: only when the application
 *                           sets MYR_OPT_ENABLE_CLEARTEXT_PLUGIN (else 2059),
 *                           and only over TLS or a Unix socket (else 2061).
 *   client_ed25519          MariaDB's ed25519 plugin (libsodium).
 * A plugin myring does not speak fails the connect with client error 2059
 * naming it; auth data that breaks the protocol with 2027.
 *
 * Passwords: every I/O buffer that held the password (or data computed
 * from it) is zeroed once those bytes have left, and so are the stack
 * copies made while computing the answers. The connection's own copy of
 * its options keeps the password while the connection lives (myr_cancel
 * logs a side connection in with it) and is zeroed when the connection dies
 * or is freed; myr_conn_opts_free() and replacing MYR_OPT_PASSWORD zero the
 * old copy too. Passwords never appear in error messages.
 */
#ifndef MYRING_AUTH_H
#define MYRING_AUTH_H

#ifdef __cplusplus
extern "C" {
#endif

/* The authentication plugin c logged in with (after any auth switch),
 * e.g. "caching_sha2_password"; "" for NULL. Valid as long as c. */
MYR_API const char *myr_conn_auth_plugin(const myr_conn *c);

#ifdef __cplusplus
}
#endif
#endif
