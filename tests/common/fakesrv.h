/*
 * tests/common/fakesrv.h -- a scripted fake MySQL/MariaDB server for
 * connection tests.
 *
 * The server owns one end of a socketpair and runs a script on a pthread of
 * its own; the client end goes to myr__connect_fd() and is driven by the
 * test thread with myr_await/myr_gather. The server thread only ever blocks
 * on its socket (no sleeps): when the client goes away it sees EOF/EPIPE and
 * ends. fs_join() waits for it and says whether the whole script ran.
 *
 * Script steps (in order):
 *   send      bytes as one write (or one byte per write in bytewise mode)
 *   expect    one logical packet from the client; optionally check its
 *             sequence id and first payload byte; it is recorded for the test
 *   close     close the socket now (the script ends)
 *   eof       expect the client to close (no more bytes); fails on data
 *   drain     read and discard until the client closes
 * plus a global "cut": after N bytes of output in total the server closes.
 *
 * Packet builders append framed packets to an fs_buf; each takes the
 * sequence id by pointer and advances it (payloads of 16 MiB and more are
 * split into 0xFFFFFF-byte frames, as the protocol wants).
 */
#ifndef FAKESRV_H
#define FAKESRV_H

#include <stddef.h>
#include <stdint.h>

#include "myring.h"

/* ------------------------------------------------------------ byte buffers */
typedef struct fs_buf {
    uint8_t *data;
    size_t len, cap;
} fs_buf;

void fs_buf_free(fs_buf *b);
void fs_buf_add(fs_buf *b, const void *p, size_t n);
void fs_buf_u8(fs_buf *b, uint8_t v);
void fs_buf_u16(fs_buf *b, uint16_t v);
void fs_buf_u24(fs_buf *b, uint32_t v);
void fs_buf_u32(fs_buf *b, uint32_t v);
void fs_buf_lenenc(fs_buf *b, uint64_t v);
void fs_buf_lenenc_str(fs_buf *b, const void *s, size_t n);

/* ---------------------------------------------------------- packet builders */
#define FS_CLIENT_PROTOCOL_41 (1u << 9)
#define FS_CLIENT_DEPRECATE_EOF (1u << 24)
#define FS_STATUS_AUTOCOMMIT 0x0002
#define FS_STATUS_MORE_RESULTS 0x0008
/* What a MariaDB 10.11 server offers, without DEPRECATE_EOF. */
#define FS_CAPS_DEFAULT 0x00BFF7FFu

/* One frame per 0xFFFFFF bytes: payload of any length. */
void fs_pkt(fs_buf *b, uint8_t *seq, const void *payload, size_t len);
/* Initial handshake v10 ("5.5.5-10.11.6-MariaDB") with a 20-byte scramble. */
void fs_greeting(fs_buf *b, uint8_t *seq, uint32_t caps, const char *plugin,
                 const uint8_t scramble[20], uint32_t thread_id);
/* OK (0x00 header); info is appended raw (the client never asks for
 * SESSION_TRACK); NULL = none. */
void fs_ok(fs_buf *b, uint8_t *seq, uint64_t affected, uint64_t insert_id, uint16_t status,
           uint16_t warnings, const char *info);
/* OK with the 0xFE header (ends a result set under DEPRECATE_EOF). */
void fs_ok_eof(fs_buf *b, uint8_t *seq, uint16_t status, uint16_t warnings);
void fs_eof(fs_buf *b, uint8_t *seq, uint16_t warnings, uint16_t status);
void fs_err(fs_buf *b, uint8_t *seq, uint16_t code, const char *sqlstate, const char *msg);
/* Column count packet. */
void fs_colcount(fs_buf *b, uint8_t *seq, uint64_t n);
/* Column Definition 41: schema "db", table "t", utf8mb4 charset. */
void fs_coldef(fs_buf *b, uint8_t *seq, const char *name, uint8_t type);
/* Text row: vals[i] NULL = SQL NULL; lens NULL = strlen of each. */
void fs_row(fs_buf *b, uint8_t *seq, size_t n, const char *const *vals, const size_t *lens);
/* A whole text result set: count, columns (all VAR_STRING), [EOF], rows
 * (ncols * nrows cells, row-major), EOF or 0xFE-OK with status. */
void fs_resultset(fs_buf *b, uint8_t *seq, int deprecate_eof, size_t ncols,
                  const char *const *names, size_t nrows, const char *const *cells, uint16_t status);
/* AuthSwitchRequest: 0xFE plugin\0 data(20) \0. */
void fs_auth_switch(fs_buf *b, uint8_t *seq, const char *plugin, const uint8_t data[20]);

/* ----------------------------------------------------- the client's packets */
typedef struct fs_login {
    uint32_t caps, max_packet;
    uint8_t charset;
    char user[128];
    uint8_t auth[1024];   /* up to an RSA-encrypted password (8192-bit key) */
    size_t auth_len;
    char db[128];
    char plugin[64];
} fs_login;
/* Parse a HandshakeResponse41 payload. 0 or -1. */
int fs_parse_login(const uint8_t *p, size_t len, fs_login *l);

/* --------------------------------------------------------------- the server */
typedef struct fakesrv fakesrv;

fakesrv *fs_new(void);
/* Steps. fs_send_buf takes b's bytes (b is left empty). */
void fs_send(fakesrv *s, const void *data, size_t len);
void fs_send_buf(fakesrv *s, fs_buf *b);
void fs_expect(fakesrv *s, int seq, int first_byte);   /* -1 = don't check */
void fs_close(fakesrv *s);
void fs_expect_eof(fakesrv *s);
void fs_drain(fakesrv *s);
/* Modes (set before fs_start). bytewise: every byte its own write, and the
 * next one only once the client has read it (bounded spin). cut: close after
 * this many bytes of output in total (SIZE_MAX = never). */
void fs_set_bytewise(fakesrv *s, int on);
void fs_set_cut(fakesrv *s, size_t bytes);
/* tcp: a TCP connection over 127.0.0.1 instead of a Unix socketpair (the
 * client then counts it as insecure: no clear passwords on it). */
void fs_set_tcp(fakesrv *s, int on);

/* Start the thread; returns the client's end of the socketpair (the caller
 * hands it to myr__connect_fd, which owns it), or -1. */
int fs_start(fakesrv *s);
/* Wait for the server thread. 0 if every step of the script ran as written,
 * -1 otherwise (fs_error says why). */
int fs_join(fakesrv *s);
/* Same, waiting at most timeout_ms: -2 if the thread was still blocked
 * then (it is woken by shutting its socket down, and joined). */
int fs_join_timeout(fakesrv *s, int timeout_ms);
const char *fs_error(const fakesrv *s);
/* Packets received by expect steps, in order. */
size_t fs_npackets(const fakesrv *s);
const uint8_t *fs_packet(const fakesrv *s, size_t i, size_t *len);
uint8_t fs_packet_seq(const fakesrv *s, size_t i);
/* Which read() call completed packet i (1-based): equal numbers mean the
 * packets arrived together. */
unsigned fs_packet_read_no(const fakesrv *s, size_t i);
void fs_free(fakesrv *s);

/* ------------------------------------------------- client-side conveniences */
/* A standard handshake: greeting (plugin, scramble), expect the login, OK. */
void fs_script_handshake(fakesrv *s, uint32_t caps, const char *plugin, const uint8_t scramble[20]);
/* Options with user/password set (NULL = leave default). */
myr_conn_opts *fs_opts(const char *user, const char *password);
/* A myr_future_cb that counts resolutions in *(int *)arg. */
void fs_count_cb(myr_future *f, void *arg);
/* myr__connect_fd on s's client end, with fs_count_cb counting into *count. */
myr_future *fs_connect(myr_loop *loop, const myr_conn_opts *o, fakesrv *s, int *count);
/* fs_connect and await it: the connection, or the test aborts (it must
 * resolve once, within wait_ms). o NULL: fs_opts("bob", "secret"). */
myr_conn *fs_connect_ok(myr_loop *loop, fakesrv *s, const myr_conn_opts *o, int wait_ms);
/* A loop, or the test fails. */
myr_loop *fs_loop(void);

extern const uint8_t fs_scramble_a[20];
extern const uint8_t fs_scramble_b[20];

#endif
