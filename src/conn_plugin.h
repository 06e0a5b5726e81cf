/*
 * src/conn_plugin.h -- the client side of the authentication plugins, as
 * the handshake (conn_auth.c) drives them: a plugin's first answer to the
 * server's data (in the login packet, or after an AuthSwitchRequest), its
 * answers to AuthMoreData, and what happens when the login is refused.
 *
 * Plugins: mysql_native_password, caching_sha2_password (fast path; full
 * authentication with the clear password over a secure transport, else
 * RSA-OAEP with the server's public key from a file, the loop's cache or the
 * server), sha256_password (the same, without the fast path),
 * mysql_clear_password (only when the application enabled it, and only over
 * a secure transport) and client_ed25519 (MariaDB).
 *
 * Failures fail the connection (myr__conn_fail) with the client error
 * numbers MySQL's clients use: 2059 for a plugin we cannot or may not use,
 * 2061 for a plugin that cannot go on (no secure transport, no key), 2027
 * for auth data that breaks the protocol. The password never appears in a
 * message.
 */
#ifndef MYR_CONN_PLUGIN_H
#define MYR_CONN_PLUGIN_H

#include "conn_internal.h"

/* The largest answer a plugin sends: an RSA-encrypted password (a key of
 * up to 8192 bits). */
#define MYR__AUTH_MAX MYR__RSA_MAX

/* May c use plugin now (known to us, and for mysql_clear_password: enabled
 * by the application and over a secure transport)? 1 or 0. The login
 * offers a usable greeting plugin, or mysql_native_password instead. */
int myr__plugin_usable(const myr_conn *c, const char *plugin);

/* The plugin's first answer to the server's data (the greeting's scramble,
 * or an AuthSwitchRequest's raw data). Records plugin as c->plugin.
 * Returns 0 with the answer in out[0..*out_len) (MYR__AUTH_MAX bytes;
 * *out_len may be 0: an empty answer is still sent), or a negative code
 * after failing the connection (an unknown or forbidden plugin, short data,
 * no way to protect the password). */
int myr__plugin_start(myr_conn *c, const char *plugin, const uint8_t *data, size_t len, uint8_t *out,
                      size_t *out_len);

/* AuthMoreData for the current plugin (the payload after its 0x01 byte).
 * Returns 1 with an answer to send in out[0..*out_len), 0 when nothing is
 * to be sent (the OK or ERR follows), or a negative code after failing the
 * connection. */
int myr__plugin_more(myr_conn *c, const uint8_t *data, size_t len, uint8_t *out, size_t *out_len);

/* The server refused the login (ERR during AUTH): if the password went
 * encrypted with a key from the loop's cache, that key is dropped (the
 * server may have a new one; the next login asks again). */
void myr__plugin_refused(myr_conn *c);

#endif
