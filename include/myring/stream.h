/*
 * myring/stream.h -- streaming rows: a query whose rows are handed to a
 * callback in batches as they arrive, instead of being buffered whole, so
 * that a result of any size is read in bounded memory. Included by
 * myring.h (include that one).
 */
#ifndef MYRING_STREAM_H
#define MYRING_STREAM_H

#include "../myring.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called with each batch of a streaming query's rows. rows holds the
 * columns of the current result set (myr_result_column_count,
 * myr_result_column) and the rows that arrived since the previous call for
 * that set (myr_result_row_count, myr_result_value): no row is handed out
 * twice, and the batches of a set add up to the whole set. rows is owned by
 * myring and valid only during the call (do not free it; copy what you
 * keep). Return 0 to go on, non-zero to stop (see myr_query_stream). */
typedef int (*myr_rows_cb)(const myr_result *rows, void *arg);

/* Queue a COM_QUERY whose rows go to cb(rows, arg) in batches instead of
 * being kept. Pipelines like myr_query (commands queued before and after it
 * on the same connection run in order, their futures resolve in order).
 *
 * Calls: cb runs from the loop, like a future's callback (after the
 * completions of a tick were parsed, never inside the parser), zero or more
 * times per result set; the last call of a set comes once its end arrived
 * (so every result set gets at least one call, with 0 rows for an empty
 * set: its columns are still there). myr_result_status / _warnings of
 * that last batch are the set's end-of-rows values. A statement without a
 * result set (an INSERT in a multi-statement query) gets no call.
 * myr_result_set_index tells which statement's result a batch belongs to.
 *
 * Memory: while a batch waits for its turn or its callback runs, the
 * connection reads nothing more from the socket (the server waits:
 * backpressure), and a batch holds about 64 KiB of rows at most (or one
 * larger row), so a result of any size streams in bounded memory.
 *
 * Stopping: when cb returns non-zero it is not called again, the rest of
 * the response is read and dropped, the future resolves with MYR_ECANCELED
 * and the connection stays usable. Freeing the future while it is pending
 * stops the calls the same way.
 *
 * The future resolves after the last call: with a myr_result
 * (myr_future_take_result) that has no columns or rows and holds the end of
 * the response: affected rows, insert id, warnings, status and info of the
 * last statement's OK or end of rows. On error it resolves with the error
 * and no result: a server error part-way (the rows that arrived before it
 * are handed to cb first), a lost connection, MYR_ECLOSED if the connection
 * was freed.
 *
 * What cb may do: what a future's callback may (see myring.h, Callbacks):
 * queue commands (on this connection they run after the stream), free
 * futures (this one's too: no further call), close or free connections
 * (this one too: no further call, the future fails with MYR_ECLOSED);
 * blocking waits on the loop are refused with MYR_EBUSY.
 *
 * c NULL, closed or dead, cb NULL: a future that has already failed
 * (MYR_EINVAL, MYR_ECLOSED, MYR_EGONE), nothing sent. */
MYR_API myr_future *myr_query_stream(myr_conn *c, const char *sql, size_t len, myr_rows_cb cb,
                                     void *arg);

/* Which result of its command's response r is, from 0: for a streaming
 * batch, the statement (of a multi-statement query or a CALL) its rows
 * belong to; for a buffered result, its place in the myr_result_next
 * chain. Every statement counts, with or without result set. 0 for NULL. */
MYR_API size_t myr_result_set_index(const myr_result *r);

#ifdef __cplusplus
}
#endif

#endif
