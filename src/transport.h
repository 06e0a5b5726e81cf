/*
 * src/transport.h -- the stage between a connection's state machines and
 * its socket.
 *
 * The state machines (conn*.c) only append plaintext to c->out and read
 * plaintext from c->in; they never queue a send or a recv themselves. A
 * transport moves bytes between those buffers and the socket with the
 * engine's ops, and reports back through the three myr__conn_* calls below.
 * Plaintext TCP/Unix (transport_plain.c) is the first implementation; TLS
 * (transport_tls.c: wolfSSL over memory buffers) takes over from it after
 * the SSLRequest (conn_tls.c), with its own ciphertext buffers, without the
 * state machines knowing.
 */
#ifndef MYR_TRANSPORT_H
#define MYR_TRANSPORT_H

#include "internal.h"

/* Tags of the engine ops a connection queues (the transport's and the
 * connect sequence's). */
enum { MYR__TAG_SOCKET = 1, MYR__TAG_CONNECT, MYR__TAG_SEND, MYR__TAG_RECV };

struct myr__transport {
    const char *name;
    /* Hand all of c->out to the socket unless a send is in flight. Returns 1
     * when it took the bytes (c->out is then empty), 0 when busy (try again
     * after the next myr__conn_sent), or a negative error (nothing queued). */
    int (*flush)(myr_conn *c);
    /* Make sure a receive is armed. idle: no input is expected, arm one
     * only if it holds no buffer while the socket is quiet (so that a
     * server closing an idle connection is noticed at once). Returns 1 when
     * it armed a new one, 0 when one was already armed (or none for idle),
     * or a negative error. */
    int (*recv)(myr_conn *c, int idle);
    /* A completion of one of its ops (MYR__TAG_SEND / MYR__TAG_RECV). */
    void (*complete)(myr_conn *c, uint32_t tag, int res, uint32_t cqe_flags);
    /* The connection died: cancel what is in flight (completions still come). */
    void (*abort)(myr_conn *c);
    /* The connection is idle: give buffers back to the loop. */
    void (*idle)(myr_conn *c);
    /* The connection is being freed (no op in flight any more). */
    void (*free)(myr_conn *c);
    /* TLS only (NULL otherwise): take the connection over from the
     * plaintext transport (no op in flight): raw (the SSLRequest) leaves
     * first as it is, then the handshake; bytes queued in c->out meanwhile
     * (the login) leave encrypted once it is done. 0, or a negative error
     * with a message in why (why_len bytes). */
    int (*start)(myr_conn *c, const void *raw, size_t n, char *why, size_t why_len);
    /* TLS only (NULL otherwise): 1 when the server's certificate was let
     * through unverified, to be proven by the login's OK (MariaDB 11.4+
     * zero-configuration TLS, c->tls_certproof); fp (when not NULL) then
     * gets the SHA-256 of its DER form. 0 otherwise; -1 when it cannot be
     * read (fp wanted). */
    int (*untrusted)(const myr_conn *c, uint8_t fp[32]);
    /* 1 when what it carries is protected on the way (TLS): the auth
     * plugins may then send a password in clear (myr__conn_secure). */
    uint8_t secure;
};

/* May the connection's receive be a multishot? READY, and no streaming
 * command queued (a stream's rows must stay in the socket while parked:
 * one receive at a time then). */
int myr__conn_multishot_ok(const myr_conn *c);

/* May the send of what c->out held be quiet (ur_send_quiet)? Its success
 * is then reported only when the loop wakes for something else, so only if
 * the server will answer its last byte: it ends with a whole command that
 * gets a reply (not COM_QUIT or STMT_CLOSE, not a packet answering the
 * server inside a command), and nothing else waits for it to leave. Both
 * socket transports (transport_plain.c). */
int myr__conn_out_answered(const myr_conn *c);

/* The abort of both socket transports (transport_plain.c): cancel the
 * connection's send and recv, shut the socket down. */
void myr__socket_abort(myr_conn *c);
/* Arm c's receive on the loop's provided-buffer ring (both socket
 * transports): 1 when armed, 0 when the loop has no ring (the kernel lacks
 * them: the transport receives into a buffer of its own), or a negative
 * error. */
int myr__socket_recv_ring(myr_conn *c);
/* After a ring receive's res bytes were taken (more: it stays armed): arm
 * another if it ended; stop it while c is parked (backpressure), or when a
 * full buffer says a big answer is coming (one-shot receives follow). */
void myr__socket_ring_next(myr_conn *c, int more, int res);
/* A ring receive ended without bytes (res): 1 when it is only to be armed
 * again (no buffer was free, we stopped it, c is parked), 0 when the stream
 * is over (res < 0: its error; 0: the server closed it). */
int myr__socket_ring_rearm(myr_conn *c, int res);

extern const myr__transport myr__transport_plain;
extern const myr__transport myr__transport_tls;

/* What a transport reports (implemented in conn.c). */
/* New bytes are in c->in. */
void myr__conn_input(myr_conn *c);
/* n bytes arrived in memory the connection may not keep (a receive ring's
 * buffer): parsed in place; what must wait (the start of a frame, or all
 * of it while parked) is copied into c->in. The memory can go back when
 * this returns. */
void myr__conn_input_lent(myr_conn *c, const uint8_t *p, size_t n);
/* n bytes of plaintext were taken by the kernel (n may be 0: the transport
 * can take more now, e.g. its TLS handshake is over). */
void myr__conn_sent(myr_conn *c, size_t n);
/* The stream ended: err is the errno, 0 when the server closed it. */
void myr__conn_lost(myr_conn *c, int err);

#endif
