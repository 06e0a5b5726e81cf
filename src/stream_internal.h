/* src/stream_internal.h -- streaming rows for any command kind (stream.c).
 *
 * A streaming kind's table entry uses myr__stream_sink as its sink and the
 * three hooks below (finish, rows_waiting, deliver); its command is queued
 * with myr__stream_command and a myr__stream made by myr__stream_new. The
 * stream builds each batch with an inner sink (the buffered result's,
 * myr__results_sink, for text and binary rows: a streaming prepared
 * statement sets resp_mode = MYR__RMODE_BINARY in its kind and passes the
 * same inner sink), hands it out from the loop's settle phase and starts
 * the next one. The inner sink's ctx is a myr__results holding the batch. */
#ifndef MYR_STREAM_INTERNAL_H
#define MYR_STREAM_INTERNAL_H

#include "conn_internal.h"

typedef struct myr__stream myr__stream;

/* A stream whose batches inner builds and cb(rows, arg) receives. NULL
 * when out of memory. */
myr__stream *myr__stream_new(const myr__sink *inner, myr_rows_cb cb, void *arg);
/* Queue a command of streaming kind k with st (taken: freed if the command
 * fails at once). As myr__conn_command otherwise (cmd.ctx = ctx; with ctx
 * set a command that cannot be queued is finished through k->finish, and
 * myr__stream_finish then finds no stream yet: it resolves with the error). */
myr_future *myr__stream_command(myr_conn *c, const myr__cmd_kind *k, const void *arg, size_t len,
                                void *ctx, myr__stream *st);

/* For a streaming kind's entry in the command table. */
extern const myr__sink myr__stream_sink;
void myr__stream_finish(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err);
int myr__stream_rows_waiting(const myr__cmd *cmd);
void myr__stream_deliver(myr_conn *c, myr__cmd *cmd, const myr_error *abandon);

#endif
