/* src/conn_internal.h -- what conn.c, conn_auth.c and conn_cmd.c share. */
#ifndef MYR_CONN_INTERNAL_H
#define MYR_CONN_INTERNAL_H

#include "internal.h"

enum { MYR__TAG_SOCKET = 1, MYR__TAG_CONNECT, MYR__TAG_SEND, MYR__TAG_RECV };

/* The one place a connection changes state (traced with -DMYR_TRACE_STATES). */
void myr__conn_set_state(myr_conn *c, myr__conn_state s);
/* The connection is unusable: every queued future resolves with err. */
void myr__conn_die(myr_conn *c, const myr_error *err);
void myr__conn_fail(myr_conn *c, int code, unsigned mysql_errno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void myr__conn_release(myr_conn *c);
/* Bytes are waiting to be sent or a recv must be armed: do it before the
 * next submit. */
void myr__conn_kick(myr_conn *c);
/* One whole packet from the server (conn_auth.c dispatches by state). */
void myr__conn_packet(myr_conn *c, const uint8_t *p, size_t len);
/* READY: a packet answering the command at the head of the queue. */
void myr__conn_response(myr_conn *c, const uint8_t *p, size_t len);
int myr__conn_queue_quit(myr_conn *c);
/* Rows straight from the receive buffer (see conn_cmd.c); bytes used. */
size_t myr__conn_rows(myr_conn *c, const uint8_t *buf, size_t n);
void myr__conn_check_quit(myr_conn *c);
#endif
