/*
 * myring.h -- the public API of myring, a MySQL/MariaDB client over io_uring.
 *
 * One myr_loop owns one io_uring. Every operation (connect, query, ping,
 * reset, close, sleep, to_thread) returns a myr_future that resolves exactly
 * once, with a value or an error. Futures are driven by the loop:
 * myr_loop_run_once(), myr_await(), myr_gather() and the as_completed
 * iterator all run ticks of the same loop. The *_sync calls are thin
 * wrappers that create a future and await it.
 *
 * Ownership, in one place:
 *   - The caller owns every myr_future it gets and frees it with
 *     myr_future_free(), pending or not. Freeing a pending future detaches it:
 *     the operation still runs to completion and its value is discarded.
 *   - A myr_result is owned by its future until myr_future_take_result()
 *     hands it to the caller, who frees it with myr_result_free().
 *   - A myr_conn handed out by myr_future_take_conn()/myr_connect_sync() is
 *     owned by the caller and ends with myr_close() (polite: COM_QUIT after
 *     the queued commands) or myr_conn_free() (abrupt: queued futures fail
 *     with MYR_ECLOSED). Both invalidate the handle.
 *   - Strings passed in are copied; strings handed out stay valid as long as
 *     the object they came from.
 * Every *_free() accepts NULL.
 *
 * Failures, in one place: a call that returns a future returns NULL only
 * when the future itself cannot be allocated. Every other failure (a NULL
 * loop or function, the wrong thread, a closed connection, no memory for
 * the operation, ...) gives a future that is already resolved with the
 * reason (myr_future_status, myr_future_error); such a future may have no
 * loop (myr_future_loop NULL) and can still be awaited, gathered, added to
 * an as_completed iterator or given a callback (called at once). A failure
 * is never reported with code 0 or an empty message.
 *
 * Callbacks (myr_future_on_done) run after dispatch, never inside the call
 * or the parser that resolved the future: resolving marks the future done
 * (value, status and error fixed) and queues its callback on the loop; the
 * loop runs the queue at the end of myr_loop_run_once() (and so within
 * await/gather/as_completed_next, which return only after the callbacks of
 * futures that were done have run), and in myr_loop_free(). Callbacks run
 * in the order their futures resolved; callbacks of futures resolved by a
 * callback run in the same pass. A callback may: queue commands on any
 * connection; free any future (its own, or one whose callback is still due:
 * that callback then never runs); close or free any connection, including
 * one made by myr_connect_sync(NULL, ...) whose private loop is the one
 * running the callback (the loop is then freed when run_once returns);
 * create connections, sleeps, promises. Exceptions: myr_future_on_done() on
 * a future that is already resolved calls back at once, and a future with
 * no loop (see Failures) calls back at once.
 *
 * Blocking inside a callback: a callback must not wait for its own loop.
 * myr_loop_run_once() on a loop that is running (i.e. from one of its
 * callbacks) returns MYR_EBUSY at once, so myr_await, myr_gather and
 * myr_as_completed_next fail with MYR_EBUSY when they would have to run it
 * (with nothing to wait for, e.g. an already resolved future, they succeed),
 * and the *_sync calls on that loop refuse with err.code MYR_EBUSY before
 * starting anything (no statement is sent; the connection is untouched).
 * Running another loop from a callback is allowed: myr_connect_sync(NULL,
 * ...) and the *_sync calls on its connection run a private loop.
 *
 * Threads: a loop, its connections and its futures are used from one
 * thread: the first one that runs the loop (myr_loop_run_once, or any wait
 * or *_sync call). A loop may be created on one thread and handed to
 * another before it first runs (the usual daemon pattern). From any other
 * thread, waits fail with MYR_ETHREAD, calls that return a future give one
 * failed with MYR_ETHREAD, and *_sync calls fill err with MYR_ETHREAD and a
 * message; in a child process after fork() the same with MYR_EFORKED (a
 * loop cannot cross fork(): make a new one in the child). myr_loop_free(),
 * myr_conn_free() and myr_future_free() belong to the loop's thread too;
 * elsewhere they do nothing (a leak rather than a race with the owner; in a fork() child,
 * freeing would shut down sockets the parent still uses: there,
 * myr_loop_discard() frees the child's copy safely). Different loops
 * on different threads share nothing and need no locks.
 */
#ifndef MYRING_H
#define MYRING_H

#include <stddef.h>
#include <stdint.h>

#include "myring/version.h"
#include "myring/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MYR_BUILDING)
#define MYR_API __attribute__((visibility("default")))
#else
#define MYR_API
#endif

typedef struct myr_loop myr_loop;
typedef struct myr_conn myr_conn;
typedef struct myr_conn_opts myr_conn_opts;
typedef struct myr_future myr_future;
typedef struct myr_result myr_result;
typedef struct myr_as_completed myr_as_completed;

/* ------------------------------------------------------------------ errors */

/* What went wrong, kept whole: our code, MySQL's error number (the server's,
 * e.g. 1045, or the client number users know, e.g. 2013), SQLSTATE and text. */
typedef struct myr_error {
    int code;              /* 0, a negative MYR_E* code or a negative errno */
    unsigned mysql_errno;  /* server or client error number, 0 if none */
    char sqlstate[6];      /* "HY000" style, NUL-terminated; "" if none */
    char message[512];     /* NUL-terminated, never empty when code != 0 */
    int sys_errno;         /* the OS errno behind a network failure (e.g.
                              ECONNREFUSED), 0 if none */
} myr_error;

/* Short description of a MYR_E* code or negative errno. Static storage. */
MYR_API const char *myr_strerror(int code);
/* 1 when e says this server cannot serve this connection's work any more,
 * so a pool should move it elsewhere (another server, or later) rather
 * than retry here: the server is read-only (1290 with --read-only, 1792
 * read-only transaction, 1836 read-only mode), shutting down (1053, 1077,
 * 1079, 1080 forcing close), killed the connection (1927), has too many
 * connections (1040, 1203), or the connection to it is gone (2006, 2013,
 * or MYR_EGONE/MYR_ECONNLOST). 0 otherwise, and for e NULL. */
MYR_API int myr_error_server_unusable(const myr_error *e);
MYR_API const char *myr_version(void);

/* ---------------------------------------------------------------- allocator */

/* Replace malloc/realloc/free for every allocation myring makes. Call before
 * creating any object; NULL restores the C library's. Returns 0. */
typedef struct myr_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
} myr_allocator;
MYR_API int myr_set_allocator(const myr_allocator *a);

/* --------------------------------------------------------------------- loop */

typedef struct myr_loop_opts {
    unsigned sq_entries;    /* submission queue size; 0 = 256 */
    unsigned threads;       /* to_thread workers; 0 = 4 (started on first use) */
    /* Batched waits, in microseconds: 0 = MYR_BATCH_WAIT_DEFAULT_US,
     * negative = off. When commands are in flight on several connections
     * (n of them), a myr_loop_run_once() that has to wait waits up to this
     * long for n responses to arrive, then returns as soon as one is there;
     * so one kernel entry serves many responses (64 connections 8 deep:
     * about 0.05 syscalls per query instead of 0.36). The trade-off: the
     * first response of a tick may be handled up to this much later. A
     * connection alone with commands in flight (one query at a time, or a
     * single pipelined connection) never waits extra: its round trip costs
     * what it did. Off, every wait ends at the first completion. Needs
     * Linux 6.12 (IORING_FEAT_MIN_TIMEOUT); older kernels behave as off. */
    int batch_wait_us;
} myr_loop_opts;
#define MYR_BATCH_WAIT_DEFAULT_US 50

/* Create a loop (NULL opts = defaults). On failure returns NULL and fills
 * *err if given (MYR_EURING when io_uring is unavailable, with the reason). */
MYR_API myr_loop *myr_loop_new(const myr_loop_opts *opts, myr_error *err);
/* Free a loop. Connections still open on it are freed abruptly first (their
 * futures fail with MYR_ECLOSED), pending sleeps and promises fail with
 * MYR_ECANCELED, worker jobs finish (or are canceled if they never started),
 * and every due callback runs (waits inside them fail with MYR_EBUSY; new
 * futures on this loop fail with MYR_ECLOSED) before the memory goes.
 * Futures that outlive the loop stay readable; their myr_future_loop()
 * and myr_future_conn() become NULL, and a connection a connect future
 * still held (never taken) went with the loop. Called from one of the loop's own callbacks it only marks
 * the loop: the rest happens when that myr_loop_run_once() returns. Call it
 * on the loop's thread (see Threads above). */
MYR_API void myr_loop_free(myr_loop *loop);
/* In a child process after fork(): free the copy of a loop inherited from
 * the parent, with its connections, futures, sleeps, promises and
 * worker-pool records, without touching anything the parent still uses:
 * nothing is submitted to the ring, no command (not even COM_QUIT) is sent,
 * no socket is shut down (the child's copies of the descriptors, the
 * ring's included, are closed), and no callback runs. Every handle of that
 * loop is invalid afterwards in the child (results already taken with
 * myr_future_take_result stay the caller's; prepared statement handles and
 * as_completed iterators are not freed: free them with their own calls
 * first if the child must not leak them). The parent's loop, connections
 * and in-flight commands are unaffected. In the process that owns the loop
 * it is myr_loop_free(); from another thread it does nothing. Call it in a
 * child that goes on without exec (a pre-forked worker, a daemon's child),
 * before it makes loops of its own; an exec needs nothing (myring's
 * descriptors are close-on-exec). */
MYR_API void myr_loop_discard(myr_loop *loop);
/* One tick: submit queued I/O, wait up to timeout_ms (-1 = until something
 * happens, 0 = don't wait) for completions, dispatch them (futures resolve),
 * then run the due callbacks and start what they queued. Returns the number
 * of completions handled, or a negative error: MYR_EBUSY when called while
 * this loop is running (from one of its callbacks), MYR_ETHREAD/MYR_EFORKED
 * from a thread/process that may not use it (see Threads above). */
MYR_API int myr_loop_run_once(myr_loop *loop, int timeout_ms);
/* For programs with their own event loop (epoll, libuv, ...): an eventfd
 * that becomes readable when the loop has work to do. Owned by the loop.
 * Returns the fd or a negative error. The contract, once this was called:
 *   - when the fd is readable, call myr_loop_run_once(loop, 0) (it clears
 *     the fd: level-triggered polling does not spin);
 *   - when myr_loop_run_once() returns, everything its callbacks queued has
 *     been submitted to the kernel, and deadlines (myr_sleep, connect and
 *     read timeouts) wake the fd when they expire;
 *   - work queued outside a callback (from your own event handlers) reaches
 *     the kernel at the next myr_loop_run_once(loop, 0): call it after
 *     queueing, as you would when the fd is readable. */
MYR_API int myr_loop_fd(myr_loop *loop);

/* ------------------------------------------------------------------ futures */

typedef void (*myr_future_cb)(myr_future *f, void *arg);

/* 1 when resolved, 0 while pending. */
MYR_API int myr_future_done(const myr_future *f);
/* 0 if it resolved with a value, a negative code if with an error,
 * MYR_EPENDING while pending. */
MYR_API int myr_future_status(const myr_future *f);
/* The error (code 0 when none). Valid while the future lives. */
MYR_API const myr_error *myr_future_error(const myr_future *f);
/* Values. take_* moves ownership to the caller (NULL if not that kind, not
 * resolved or already taken). A failed connect has no connection. A query
 * that failed part-way (an error in a multi-statement query or a CALL, or
 * a connection lost mid-response) still hands out the results that arrived
 * before the error, or NULL if none did. */
MYR_API myr_conn *myr_future_take_conn(myr_future *f);
MYR_API myr_result *myr_future_take_result(myr_future *f);
/* The value a to_thread function returned (still owned by the caller's code). */
MYR_API void *myr_future_ptr(const myr_future *f);
/* Call cb(f, arg) once after f resolves: from the loop (myr_loop_run_once,
 * a wait, myr_loop_free), never from inside the call that resolved it; at
 * once if f has already resolved (or has no loop). One callback per
 * future; a second call replaces the first (if the first was still due, it
 * never runs); cb NULL removes it. What cb may do: see Callbacks above. */
MYR_API void myr_future_on_done(myr_future *f, myr_future_cb cb, void *arg);
/* Free a future, pending or not (a pending one is detached: see above). A
 * future whose callback is still due is taken off the queue: it never runs. */
MYR_API void myr_future_free(myr_future *f);
/* The loop a future belongs to; NULL for a future that failed before it
 * had one (see "Failures" above). */
MYR_API myr_loop *myr_future_loop(const myr_future *f);
/* The connection a command future (query, ping, select_db, reset) was
 * queued on; NULL for other futures, and once the future failed with
 * MYR_ECLOSED (the application closed that connection: its handle is
 * invalid). Otherwise valid as long as the connection's handle is. */
MYR_API myr_conn *myr_future_conn(const myr_future *f);
/* A pointer of the caller's, kept with the future (e.g. which job of an
 * as_completed window it is). NULL until set; myring never touches it. */
MYR_API void myr_future_set_data(myr_future *f, void *data);
MYR_API void *myr_future_data(const myr_future *f);

/* Cancel the operation behind f. Returns 0 when cancellation started: f
 * then resolves with MYR_ECANCELED (its callback runs from the loop, as
 * ever), whatever arrives after this call. MYR_EINVAL when f is NULL or already
 * resolved (a result that arrived before the call is kept: f keeps its
 * outcome), MYR_ENOTSUP for futures that cannot be canceled (a close, a
 * to_thread function), MYR_ETHREAD/MYR_EFORKED from the wrong thread or
 * process. May be called from a callback.
 *   - A command (query, ping, select_db, reset, a statement prepare or
 *     execute) not sent yet leaves the
 *     pipeline and never reaches the server; the others are unaffected.
 *   - A command sent is killed on the server (KILL QUERY <thread id> over a
 *     side connection the loop makes once per server and login, and
 *     reuses); its response is read and discarded, so the connection stays
 *     usable, and so do the commands queued behind it. If the server ended
 *     the command because of the kill (error 1317, or SLEEP() returning 1)
 *     or finished it anyway, f still resolves MYR_ECANCELED (a server
 *     error number, e.g. 1317, is kept in mysql_errno). A kill only ever
 *     hits the command it is meant for: while a canceled command that was
 *     sent is being drained, new commands on its connection wait (they
 *     leave as soon as it is); a canceled command that is sent but not
 *     running yet is killed when it becomes the running one (or discarded if
 *     it ends first); a canceled command with commands that were sent after
 *     it and are not canceled is not killed (the kill could hit them): it
 *     runs to its end and its result is discarded. If the side connection
 *     cannot be made, the command is discarded the same way.
 *   - A connect: the connection attempt ends (nothing more is sent).
 *   - A sleep or a promise: resolves MYR_ECANCELED now. */
MYR_API int myr_cancel(myr_future *f);

/* Run the loop until f resolves or timeout_ms passes (-1 = no limit).
 * Returns myr_future_status(f), or MYR_ETIMEDOUT if the wait ran out (f stays
 * pending and usable). Returns once the due callbacks have run. If the loop
 * had to run and cannot: MYR_EBUSY from a callback of that loop,
 * MYR_ETHREAD/MYR_EFORKED from the wrong thread/process (f stays pending);
 * an already resolved f just gives its status. */
MYR_API int myr_await(myr_future *f, int timeout_ms);
/* Run the loop until all n futures resolve or timeout_ms passes. Each keeps
 * its own value or error, in the order given. Returns 0 when all resolved
 * (whatever their outcome), MYR_ETIMEDOUT otherwise, or MYR_EBUSY/
 * MYR_ETHREAD/MYR_EFORKED as myr_await. All must share a loop (futures
 * with no loop, failed at once, may be mixed in). */
MYR_API int myr_gather(myr_future *const *fs, size_t n, int timeout_ms);

/* as_completed: hands back futures one at a time in completion order.
 * The iterator does not own the futures; the caller frees them. */
MYR_API myr_as_completed *myr_as_completed_new(myr_loop *loop);
/* Add a future to watch (for sliding windows, at any time): one of the
 * iterator's loop, or one with no loop that failed at once. 0 or MYR_EINVAL
 * (already watched, or another loop's). myr_future_set_data() tells them
 * apart when they come back. */
MYR_API int myr_as_completed_add(myr_as_completed *it, myr_future *f);
/* Number of added futures not yet handed back. */
MYR_API size_t myr_as_completed_pending(const myr_as_completed *it);
/* The next resolved future; NULL when none is left (*status = 0), the wait
 * ran out (*status = MYR_ETIMEDOUT) or the loop could not run (*status =
 * MYR_EBUSY/MYR_ETHREAD/MYR_EFORKED, as myr_await). status may be NULL. */
MYR_API myr_future *myr_as_completed_next(myr_as_completed *it, int timeout_ms, int *status);
MYR_API void myr_as_completed_free(myr_as_completed *it);

/* A promise: a future the application resolves itself, to stand for a chain
 * of operations (a "job") in gather/as_completed. Resolve it exactly once
 * with a pointer value (myr_future_ptr) or an error; later calls return
 * MYR_EINVAL. Its callback runs from the loop like any other (see
 * Callbacks above). With loop NULL or from the wrong thread the promise is
 * already failed (see Failures). */
MYR_API myr_future *myr_promise_new(myr_loop *loop);
MYR_API int myr_promise_resolve(myr_future *f, void *value);
MYR_API int myr_promise_fail(myr_future *f, int code, const char *message);

/* A future that resolves after ms milliseconds (MYR_ECANCELED if the loop
 * is freed first). */
MYR_API myr_future *myr_sleep(myr_loop *loop, unsigned ms);
/* Run fn(arg) on the loop's worker pool; the future resolves with its return
 * value (myr_future_ptr) through the ring, so the loop never blocks. loop
 * or fn NULL: a future failed with MYR_EINVAL (see Failures). */
MYR_API myr_future *myr_to_thread(myr_loop *loop, void *(*fn)(void *), void *arg);

/* -------------------------------------------------------- connection options */

/* Options for a connection. Defaults: host "localhost" (Unix socket
 * /run/mysqld/mysqld.sock when no host/port is set), port 3306, user "",
 * charset utf8mb4, multi statements on, a 10 s login deadline and no other
 * timeouts. */
MYR_API myr_conn_opts *myr_conn_opts_new(void);
MYR_API void myr_conn_opts_free(myr_conn_opts *o);
typedef enum myr_opt {
    MYR_OPT_HOST,            /* str: host name or address (IPv4/IPv6) */
    MYR_OPT_PORT,            /* int 0..65535 */
    MYR_OPT_UNIX_SOCKET,     /* str: path; wins over host/port when set */
    MYR_OPT_USER,            /* str */
    MYR_OPT_PASSWORD,        /* str */
    MYR_OPT_DATABASE,        /* str */
    MYR_OPT_CHARSET,         /* str: "utf8mb4" (default), "utf8mb3" (or "utf8"),
                                "latin1", "ascii", "binary"; case-insensitive */
    MYR_OPT_CONNECT_TIMEOUT, /* int ms 0..INT_MAX, 0 = none (default): the whole connect
                                (name lookup, TCP connect, login) must be over within
                                this; else MYR_ETIMEDOUT, mysql_errno 2003. See also
                                MYR_OPT_LOGIN_TIMEOUT */
    MYR_OPT_READ_TIMEOUT,    /* int ms 0..INT_MAX, 0 = none (default): a timeout on
                                silence. While a command awaits its response (from
                                when it has been sent whole; a large command still
                                going out counts as long as the server keeps taking
                                its bytes), each
                                time the server has sent nothing for this long the
                                connection is given up: closed, and its commands fail
                                with MYR_ETIMEDOUT, mysql_errno 2013. A long query
                                that streams rows never trips it; one that computes
                                quietly for longer does. To bound a command and keep
                                the connection, use MYR_OPT_QUERY_TIMEOUT */
    MYR_OPT_MULTI_STATEMENTS,/* int 0 = off, any other = on; default on */
    MYR_OPT_LOCAL_INFILE,    /* int 0/1, default 0 (not supported yet: rejected) */
    MYR_OPT_PIPELINE_REFILL, /* int -1..INT_MAX: pipelining window policy (see myr_query);
                                queued commands are held while more than this
                                many sent commands await their response, then
                                leave together. 0 (default) = refill only when
                                the window has drained; -1 = send at once */
    MYR_OPT_SSL_MODE,        /* int enum myr_ssl_mode; default MYR_SSL_PREFERRED (see below) */
    MYR_OPT_SSL_CA,          /* str: PEM file of trusted CA certificates */
    MYR_OPT_SSL_CAPATH,      /* str: directory of PEM CA certificates */
    MYR_OPT_SSL_CERT,        /* str: PEM client certificate (for REQUIRE X509 users) */
    MYR_OPT_SSL_KEY,         /* str: PEM private key of MYR_OPT_SSL_CERT */
    MYR_OPT_SSL_CIPHER,      /* str: cipher suites, OpenSSL/wolfSSL names separated by ':'
                                (TLS 1.2 and 1.3 names together); default: ChaCha20-Poly1305
                                first, then AES-GCM, forward-secret suites only */
    MYR_OPT_TLS_VERSION,     /* str: "TLSv1.2", "TLSv1.3" or "TLSv1.2,TLSv1.3" (default) */
    MYR_OPT_SERVER_PUBLIC_KEY,     /* str: path of a PEM file with the server's RSA public
                                      key, for caching_sha2_password/sha256_password full
                                      authentication over plain TCP (see myring/auth.h) */
    MYR_OPT_GET_SERVER_PUBLIC_KEY, /* int 0/1, default 0: over plain TCP, may the client
                                      ask the server for its RSA public key (an attacker
                                      in the middle could hand over its own)? */
    MYR_OPT_ENABLE_CLEARTEXT_PLUGIN, /* int 0/1, default 0: allow mysql_clear_password
                                      (sent only over TLS or a Unix socket even then) */
    MYR_OPT_TLS_RESUME,      /* int 1 (default) = resume the TLS session the loop kept from an
                                earlier connection to the same server (and keep this one's);
                                0 = always a full handshake */
    MYR_OPT_QUERY_TIMEOUT,   /* int ms 0..INT_MAX, 0 = none (default): a deadline per
                                command (query, ping, select_db, reset, statement
                                prepare/execute). The clock starts when the command
                                is queued (when myr_query() returns), so time spent
                                waiting behind earlier commands counts. A command not
                                finished by then is canceled as myr_cancel() does
                                (not sent yet: it never runs; running: KILL QUERY,
                                its response drained) and fails with MYR_ETIMEDOUT
                                (a server error number, e.g. 1317, kept in
                                mysql_errno); the connection stays usable */
    MYR_OPT_LOGIN_TIMEOUT,   /* int ms 0..INT_MAX, default 10000, 0 = none: from the
                                moment the socket is connected, the server's greeting,
                                TLS and authentication must be over within this; else
                                the connect fails with MYR_ETIMEDOUT, mysql_errno 2013
                                (a server whose accept backlog is full leaves sockets
                                connected that never get a greeting) */
    MYR_OPT_MARIADB_EXTENSIONS, /* int 0 = off, any other = on (default): use MariaDB's
                                protocol extensions when the server offers them
                                (bulk execute, see myr_stmt_execute_bulk); off makes
                                a MariaDB server look like one without them; also
                                one-round-trip prepare+execute, see myr_query_params,
                                and result metadata caching: an execute's answer
                                leaves out column definitions that did not change
                                and the statement's kept ones are used) */
    MYR_OPT_STMT_CACHE_SIZE, /* int 0..65536, default 64: statements myr_query_params keeps
                                prepared per connection (least recently used closed
                                beyond that); 0 = none kept (each call prepares,
                                executes and closes, in one round trip on MariaDB) */
    MYR_OPT_TLS_RESUME_PSK_ONLY, /* int 0 (default) / 1: a resumed TLS 1.3 session skips the
                                new key exchange (offers psk_ke only, not psk_dhe_ke):
                                cheaper resumptions for both ends, but traffic of
                                resumed connections loses forward secrecy (whoever
                                later learns the server's ticket key, or this
                                loop's kept session, can decrypt it). Full
                                handshakes and TLS 1.2 are unchanged */
    MYR_OPT__LAST
} myr_opt;
/* TLS (MYR_OPT_SSL_MODE). TLS starts after the server's greeting, as the
 * protocol has it (SSLRequest, handshake, then the login over TLS).
 *   DISABLED         never.
 *   PREFERRED        (default) TLS over TCP when the server offers it, without
 *                    checking its certificate (protects against passive
 *                    eavesdroppers only); plaintext when the server has no TLS.
 *                    A Unix socket stays plaintext (it is local already).
 *   REQUIRED         TLS or fail (client error 2026), also on a Unix socket;
 *                    the certificate is not checked.
 *   VERIFY_CA        REQUIRED, and the server's certificate must chain to a
 *                    trusted CA: MYR_OPT_SSL_CA / MYR_OPT_SSL_CAPATH, or the
 *                    system's CA store when neither is set.
 *   VERIFY_IDENTITY  VERIFY_CA, and the certificate must name the host
 *                    (MYR_OPT_HOST: DNS names against its DNS SANs/CN, IP
 *                    addresses against its IP SANs). The secure choice.
 * Failures resolve the connect with client error 2026 ("SSL connection
 * error: ...") naming the reason (server without TLS, unknown CA, name
 * mismatch, expired certificate, handshake failure). */
enum myr_ssl_mode {
    MYR_SSL_DISABLED = 1,
    MYR_SSL_PREFERRED = 2,
    MYR_SSL_REQUIRED = 3,
    MYR_SSL_VERIFY_CA = 4,
    MYR_SSL_VERIFY_IDENTITY = 5
};

/* Set an option. set_str copies value; NULL clears it back to the default.
 * Returns 0, MYR_EINVAL (o NULL, unknown option, wrong kind of value, value
 * out of range or unknown charset), MYR_ENOMEM (set_str could not copy) or
 * MYR_ENOTSUP (MYR_OPT_LOCAL_INFILE on). On error the option keeps its
 * previous value. */
MYR_API int myr_conn_opts_set_str(myr_conn_opts *o, myr_opt opt, const char *value);
MYR_API int myr_conn_opts_set_int(myr_conn_opts *o, myr_opt opt, long value);

/* Set options the way the operator's MySQL/MariaDB clients are configured,
 * so a daemon uses the same server and account as `mariadb` does:
 *  1. the environment: MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_UNIX_PORT, MYSQL_PWD;
 *  2. then option files (later values win): `file` alone when not NULL (it
 *     must exist), else /etc/my.cnf, /etc/mysql/my.cnf and ~/.my.cnf (those
 *     that exist), with their !include/!includedir (syntax: myring/optfile.h);
 *     groups [client], [client-server], [client-mariadb], [myring] and
 *     `group` when not NULL.
 * Understood: host, port, socket, user, password, database,
 * default-character-set, connect-timeout (or timeout) and read-timeout (in
 * seconds), protocol=tcp|socket; ssl, skip-ssl, ssl-mode, ssl-ca,
 * ssl-capath, ssl-cert, ssl-key, ssl-cipher, tls-version and
 * ssl-verify-server-cert (with the CLI's meaning: an ssl-* file option
 * requires TLS, as MariaDB's clients have it); server-public-key-path,
 * get-server-public-key, enable-cleartext-plugin; a "loose-" prefix is
 * allowed; any other
 * option is another program's and is ignored. As with the reference clients,
 * a socket applies only to host "localhost" (or no host): any other host, or
 * protocol=tcp, clears the socket, and a port from a file does not by itself
 * select TCP. Values found override what `o` held: call this first, then set
 * what your program decides itself.
 * Returns 0, or a negative code (MYR_EINVAL for a malformed file or value,
 * -errno for an unreadable `file`, MYR_ENOMEM) with the reason, naming the
 * file and line but never a value, in myr_conn_opts_error(); `o` may then
 * hold some of the options. */
MYR_API int myr_conn_opts_read_defaults(myr_conn_opts *o, const char *file, const char *group);
/* Why the last myr_conn_opts_read_defaults() on `o` failed ("" if it did not
 * or if storing the reason ran out of memory). Valid until the next call. */
MYR_API const char *myr_conn_opts_error(const myr_conn_opts *o);

/* ------------------------------------------------------------- connections */

/* Connect; the future resolves with a myr_conn (myr_future_take_conn).
 * loop NULL: a future failed with MYR_EINVAL (see Failures). */
MYR_API myr_future *myr_connect(myr_loop *loop, const myr_conn_opts *opts);
/* Queue a COM_QUERY. Commands on one connection are pipelined: their
 * futures resolve in order, each with its own result or error (an error
 * fails only its own command). Resolves with a myr_result
 * (myr_future_take_result). c NULL, closed or dead: a future that has
 * already failed (MYR_EINVAL, MYR_ECLOSED, MYR_EGONE), nothing sent.
 *
 * When commands leave (the window policy, MYR_OPT_PIPELINE_REFILL = R,
 * default 0): everything queued before the loop's next tick leaves in one
 * send. Commands queued while more than R commands already sent still await
 * their responses are held and leave together, as one batch, once the
 * window has drained to R. The server then gets whole batches and its
 * thread sleeps between them, which keeps latency even across many
 * connections; R = -1 sends each command as soon as the connection can.
 * A connection that is the only one of its loop with commands in flight is
 * never held: there is no other connection to be fair to, and its pipeline
 * stays full. */
MYR_API myr_future *myr_query(myr_conn *c, const char *sql, size_t len);
MYR_API myr_future *myr_ping(myr_conn *c);
MYR_API myr_future *myr_select_db(myr_conn *c, const char *db);
MYR_API myr_future *myr_reset(myr_conn *c);   /* COM_RESET_CONNECTION */
/* COM_QUIT after the queued commands, then close. Resolves once the socket is
 * closed; the handle is invalid from this call on. */
MYR_API myr_future *myr_close(myr_conn *c);
/* Close at once: queued futures resolve with MYR_ECLOSED. Handle invalid. */
MYR_API void myr_conn_free(myr_conn *c);

/* The loop the connection runs on (its private one after
 * myr_connect_sync(NULL, ...)). */
MYR_API myr_loop *myr_conn_loop(const myr_conn *c);
/* The server's version string from its greeting ("10.11.6-MariaDB-..."),
 * owned by the connection. */
MYR_API const char *myr_conn_server_version(const myr_conn *c);
/* The server's id of this connection (CONNECTION_ID(), what KILL takes). */
MYR_API uint32_t myr_conn_thread_id(const myr_conn *c);
/* The server status bits (MYR_SERVER_STATUS_*, below) of the connection's
 * last OK or end of result set: in a transaction, NO_BACKSLASH_ESCAPES, ... */
MYR_API unsigned myr_conn_server_status(const myr_conn *c);
/* 1 while usable, 0 once the connection died or was closed. An idle
 * connection keeps a receive armed (holding no buffer), so a server that
 * closes it (KILL, wait_timeout, restart) is noticed as soon as the loop
 * runs: this turns 0 and the next command fails at once with MYR_EGONE,
 * mysql_errno 2006, "Server has gone away (the server closed the
 * connection while it was idle)". (Where the kernel has no provided-buffer
 * rings, before 5.19, it is noticed by the next command instead.) */
MYR_API int myr_conn_alive(const myr_conn *c);
/* TLS of the connection: protocol ("TLSv1.3") and cipher suite names, ""
 * for a plaintext connection (static or connection-owned strings). */
MYR_API const char *myr_conn_tls_version(const myr_conn *c);
MYR_API const char *myr_conn_tls_cipher(const myr_conn *c);
/* 1 if the connection's TLS session was resumed (no full handshake: the
 * loop kept the session of an earlier connection to the same server), else 0. */
MYR_API int myr_conn_tls_resumed(const myr_conn *c);
/* The group of the connection's key exchange ("X25519", "SECP256R1"), ""
 * when there was none (a TLS 1.3 resumption with MYR_OPT_TLS_RESUME_PSK_ONLY,
 * a TLS 1.2 resumption) or for a plaintext connection. */
MYR_API const char *myr_conn_tls_group(const myr_conn *c);

/* Escape len bytes of from (any bytes, NULs included) for use between single
 * quotes in SQL sent on c, like mysql_real_escape_string(). to must hold at
 * least 2*len+1 bytes; it receives the escaped bytes and a NUL. Returns the
 * escaped length, without the NUL. from and to must not overlap.
 *   - Default: backslash escapes, \0 \n \r \\ \' \" and \Z (for byte 0x1a);
 *     every other byte is copied.
 *   - When the server status of c's last OK/EOF (myr_conn_server_status) has
 *     MYR_SERVER_STATUS_NO_BACKSLASH_ESCAPES: ' becomes '' and nothing else
 *     changes (a backslash is then an ordinary character). Escape after the
 *     statement that changes sql_mode has completed, not before.
 *   - c NULL: backslash escapes.
 * The escaping is byte-wise, which is safe for the connection charsets
 * myring supports (utf8mb4, utf8mb3 alias utf8, latin1, ascii, binary: no
 * multi-byte character contains the byte of ' or \). It is NOT safe for
 * charsets such as GBK, Big5 or SJIS, which myring does not offer. Only for string literals: never for
 * identifiers (`...`) or LIKE wildcards (% and _ are left as they are). */
MYR_API size_t myr_escape_string(const myr_conn *c, char *to, const char *from, size_t len);

/* Blocking calls: each runs the connection's loop until done. With loop NULL,
 * myr_connect_sync gives the connection a private loop it owns (freed with
 * the connection). On failure they return NULL / a negative code and fill
 * *err (err may be NULL) with a non-zero code and a message, including when
 * the wait itself was refused: MYR_EBUSY from a callback of the loop they
 * would run (refused before anything is sent: the connection and its handle
 * stay as they were), MYR_ETHREAD/MYR_EFORKED from the wrong thread/process.
 * From a callback, use the future calls, or a connection with a private
 * loop. myr_close() on a private-loop connection from a callback of that
 * loop closes at once, as myr_conn_free() does. */
MYR_API myr_conn *myr_connect_sync(myr_loop *loop, const myr_conn_opts *opts, myr_error *err);
/* myr_query_sync: on failure *err says why (err->code != 0) and, like the
 * future, it still returns the results that arrived before the error (a
 * multi-statement query or CALL that failed part-way), or NULL: check
 * err->code, not only the pointer. */
MYR_API myr_result *myr_query_sync(myr_conn *c, const char *sql, size_t len, myr_error *err);
MYR_API int myr_ping_sync(myr_conn *c, myr_error *err);
MYR_API int myr_close_sync(myr_conn *c, myr_error *err);

/* Server status bits, as the server sends them in OK and EOF packets
 * (myr_conn_server_status, myr_result_status). */
#define MYR_SERVER_STATUS_IN_TRANS              0x0001u /* a transaction is open */
#define MYR_SERVER_STATUS_AUTOCOMMIT            0x0002u /* autocommit is on */
#define MYR_SERVER_STATUS_MORE_RESULTS_EXISTS   0x0008u /* another result follows */
#define MYR_SERVER_STATUS_NO_GOOD_INDEX_USED    0x0010u
#define MYR_SERVER_STATUS_NO_INDEX_USED         0x0020u
#define MYR_SERVER_STATUS_CURSOR_EXISTS         0x0040u /* COM_STMT_FETCH: rows remain */
#define MYR_SERVER_STATUS_LAST_ROW_SENT         0x0080u /* COM_STMT_FETCH: cursor done */
#define MYR_SERVER_STATUS_DB_DROPPED            0x0100u /* the current database was dropped */
#define MYR_SERVER_STATUS_NO_BACKSLASH_ESCAPES  0x0200u /* sql_mode NO_BACKSLASH_ESCAPES:
                                                           see myr_escape_string */
#define MYR_SERVER_STATUS_METADATA_CHANGED      0x0400u /* a prepared statement was re-prepared */
#define MYR_SERVER_STATUS_QUERY_WAS_SLOW        0x0800u /* slower than long_query_time */
#define MYR_SERVER_STATUS_PS_OUT_PARAMS         0x1000u /* result holds OUT parameters */
#define MYR_SERVER_STATUS_IN_TRANS_READONLY     0x2000u /* the transaction is read-only */
#define MYR_SERVER_STATUS_SESSION_STATE_CHANGED 0x4000u /* session state information follows */
#define MYR_SERVER_STATUS_ANSI_QUOTES           0x8000u /* MariaDB only: sql_mode ANSI_QUOTES */

/* ----------------------------------------------------------------- results */

/* Column types, as on the wire (MYSQL_TYPE_*). */
enum myr_type {
    MYR_TYPE_DECIMAL = 0, MYR_TYPE_TINY = 1, MYR_TYPE_SHORT = 2, MYR_TYPE_LONG = 3,
    MYR_TYPE_FLOAT = 4, MYR_TYPE_DOUBLE = 5, MYR_TYPE_NULL = 6, MYR_TYPE_TIMESTAMP = 7,
    MYR_TYPE_LONGLONG = 8, MYR_TYPE_INT24 = 9, MYR_TYPE_DATE = 10, MYR_TYPE_TIME = 11,
    MYR_TYPE_DATETIME = 12, MYR_TYPE_YEAR = 13, MYR_TYPE_NEWDATE = 14, MYR_TYPE_VARCHAR = 15,
    MYR_TYPE_BIT = 16, MYR_TYPE_JSON = 245, MYR_TYPE_NEWDECIMAL = 246, MYR_TYPE_ENUM = 247,
    MYR_TYPE_SET = 248, MYR_TYPE_TINY_BLOB = 249, MYR_TYPE_MEDIUM_BLOB = 250,
    MYR_TYPE_LONG_BLOB = 251, MYR_TYPE_BLOB = 252, MYR_TYPE_VAR_STRING = 253,
    MYR_TYPE_STRING = 254, MYR_TYPE_GEOMETRY = 255
};

/* Column metadata: a read-only view valid as long as the result. Fields are
 * only ever appended to this struct. Strings are not NUL-terminated. */
typedef struct myr_column {
    const char *catalog;   size_t catalog_len;
    const char *schema;    size_t schema_len;
    const char *table;     size_t table_len;
    const char *org_table; size_t org_table_len;
    const char *name;      size_t name_len;
    const char *org_name;  size_t org_name_len;
    uint16_t charset;
    uint32_t length;
    uint8_t type;          /* enum myr_type */
    uint16_t flags;        /* MYR_FLAG_* bits (below) */
    uint8_t decimals;
} myr_column;

/* Column flag bits (myr_column.flags), exactly as the server sends them. */
#define MYR_FLAG_NOT_NULL         0x0001u /* cannot be NULL */
#define MYR_FLAG_PRI_KEY          0x0002u /* part of the primary key */
#define MYR_FLAG_UNIQUE_KEY       0x0004u /* part of a unique key */
#define MYR_FLAG_MULTIPLE_KEY     0x0008u /* part of a non-unique key */
#define MYR_FLAG_BLOB             0x0010u /* a BLOB or TEXT column */
#define MYR_FLAG_UNSIGNED         0x0020u
#define MYR_FLAG_ZEROFILL         0x0040u
#define MYR_FLAG_BINARY           0x0080u /* binary collation / binary string */
#define MYR_FLAG_ENUM             0x0100u
#define MYR_FLAG_AUTO_INCREMENT   0x0200u
#define MYR_FLAG_TIMESTAMP        0x0400u
#define MYR_FLAG_SET              0x0800u
#define MYR_FLAG_NO_DEFAULT_VALUE 0x1000u /* has no DEFAULT */
#define MYR_FLAG_ON_UPDATE_NOW    0x2000u /* ON UPDATE CURRENT_TIMESTAMP */
#define MYR_FLAG_NUM              0x8000u /* numeric; the server does not send it
                                             (libmysqlclient adds it from the type),
                                             so myring leaves it clear */

/* A result is one result set or OK of a command; a multi-statement query or
 * a CALL yields a chain: myr_result_next() walks it (the head owns it all). */
MYR_API myr_result *myr_result_next(const myr_result *r);
MYR_API size_t myr_result_column_count(const myr_result *r);  /* 0 for an OK */
MYR_API const myr_column *myr_result_column(const myr_result *r, size_t col);
MYR_API size_t myr_result_row_count(const myr_result *r);
/* Value at (row, col): pointer to its bytes (binary-safe; a NUL follows them)
 * and its length in *len; NULL for SQL NULL (then *len = 0). Out of range:
 * NULL. Valid as long as the result. */
MYR_API const char *myr_result_value(const myr_result *r, size_t row, size_t col, size_t *len);
MYR_API uint64_t myr_result_affected_rows(const myr_result *r);
MYR_API uint64_t myr_result_insert_id(const myr_result *r);
MYR_API unsigned myr_result_warnings(const myr_result *r);
/* The server status bits (MYR_SERVER_STATUS_*) this result ended with. */
MYR_API unsigned myr_result_status(const myr_result *r);
MYR_API const char *myr_result_info(const myr_result *r);   /* "" if none */
/* Frees the result and every result chained after it. */
MYR_API void myr_result_free(myr_result *r);

#ifdef __cplusplus
}
#endif

/* Further parts of the API, each in its own header. */
#include "myring/stream.h"   /* streaming rows: myr_query_stream */
#include "myring/stmt.h"     /* prepared statements, the binary protocol */
#include "myring/auth.h"     /* auth plugins and their options */

#endif /* MYRING_H */
