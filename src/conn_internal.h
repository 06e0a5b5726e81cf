/* src/conn_internal.h -- what the connection's files share. From the top:
 * conn.c (create, connect, close, free), sync.c (blocking calls),
 * transport_plain.c (socket I/O), conn_io.c (flush, input, packet cutting),
 * conn_auth.c (handshake), conn_cmd.c (queue, window, responses),
 * commands.c (the command table), conn_state.c (state, release, death).
 * Each calls only files below it (tests/integration/test_layers.sh). */
#ifndef MYR_CONN_INTERNAL_H
#define MYR_CONN_INTERNAL_H

#include "internal.h"
#include "transport.h"

/* One entry of the command table (commands.c): everything that differs
 * between command kinds lives here and nowhere else. */
struct myr__cmd_kind {
    const char *name;
    uint8_t fut_kind;      /* what its future resolves with (myr__fut_kind) */
    uint8_t reply;         /* 1: the server answers it; 0: it is over once its
                              bytes have left (COM_QUIT) */
    /* Append its packets to out, the first with sequence id *seq (0), and
     * advance *seq past them. 0 or MYR_ENOMEM (out unchanged then). */
    int (*encode)(const myr__cmd_kind *k, myr__buf *out, uint8_t *seq, const void *arg, size_t len);
    /* The sink its response is read into (commands with a reply). */
    const myr__sink *sink;
    /* It is over, with status 0 or an error (err NULL: from the code
     * alone): resolve its future with what its response built. Called once,
     * after it left the queue; may free cmd. */
    void (*finish)(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err);
    uint8_t com;           /* MYR__COM_* (for encode) */
    /* Streaming kinds only (NULL otherwise; stream.c): rows are handed to
     * the application in batches. rows_waiting: does cmd hold rows (or the
     * end of a result set) the application has not seen? The connection
     * then parks (myr__conn_park) once the bytes received so far are
     * parsed, and so does it when its sink answers MYR__SINK_PAUSE.
     * deliver: the parked connection's turn, in the loop's settle phase
     * (no connection mid-parse): hand the batch over (abandon NULL) and, if
     * cmd already finished, resolve its future now; with abandon set (the
     * connection died or is being freed) call no application code, drop
     * the batch, and resolve a finished cmd with abandon. */
    int (*rows_waiting)(const myr__cmd *cmd);
    void (*deliver)(myr_conn *c, myr__cmd *cmd, const myr_error *abandon);
    uint8_t resp_mode;     /* MYR__RMODE_*: how its response is read */
    /* 1: encode writes nothing; the command's bytes are put in place later
     * (myr__conn_insert) and nothing queued after it leaves before (an
     * execute waiting for its statement's id, stmt_cache.c). */
    uint8_t held;
    /* 1: cmd->ctx is the prepared statement it executes (its cached
     * column definitions serve the response, see myr__conn_resp_for). */
    uint8_t stmt_ctx;
};

extern const myr__cmd_kind myr__cmd_query, myr__cmd_ping, myr__cmd_init_db, myr__cmd_reset,
    myr__cmd_quit, myr__cmd_kill;
extern const myr__cmd_kind myr__cmd_stmt_prepare, myr__cmd_stmt_execute, myr__cmd_stmt_close;

/* A KILL QUERY on a side connection (cancel.c), queued as a command of kind
 * myr__cmd_kill (encode's arg: &thread_id); its finish calls done, which
 * frees it. */
struct myr__kill {
    myr__cmd cmd;          /* first: the command is the record */
    myr_conn *target;      /* the connection it is for; NULL once that is freed */
    uint32_t thread_id;
    myr__kill *next;       /* waiting for the side connection */
    void (*done)(myr__kill *k, int status, const myr_error *err);
};

/* The one place a connection changes state (traced with -DMYR_TRACE_STATES). */
void myr__conn_set_state(myr_conn *c, myr__conn_state s);
/* The connection is unusable: every queued future resolves with err. */
void myr__conn_die(myr_conn *c, const myr_error *err);
void myr__conn_fail(myr_conn *c, int code, unsigned mysql_errno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same with the OS errno behind it (kept in myr_error.sys_errno). */
void myr__conn_fail_os(myr_conn *c, int code, unsigned mysql_errno, int sys_errno, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void myr__conn_release(myr_conn *c);
/* Bytes are waiting to be sent or a recv must be armed: do it before the
 * next submit (myr__conn_flush from the loop). */
void myr__conn_kick(myr_conn *c);

/* Parking (conn_state.c): stop parsing c's input until the loop's settle
 * phase gives cmd (the head command, or one that just finished and left
 * the queue) its turn through cmd->kind->deliver (myr__conn_deliver). No
 * recv is armed and no sent command completes meanwhile. unpark: the
 * connection dies or goes; a parked cmd is abandoned with why. */
void myr__conn_park(myr_conn *c, myr__cmd *cmd);
void myr__conn_unpark(myr_conn *c, const myr_error *why);
/* The parked connection's turn (conn_io.c; the loop's conn_hooks.deliver):
 * deliver the batch, then parse on what was received. */
void myr__conn_deliver(myr_conn *c);
/* After the greeting (conn_tls.c): start TLS if the mode and the server
 * want it: the SSLRequest is queued and the TLS transport takes over (the
 * login built next leaves encrypted). 1 = TLS started, 0 = plaintext,
 * -1 = the connection failed (REQUIRED against a server without TLS, ...). */
int myr__conn_tls_begin(myr_conn *c);
/* May a password travel in clear on c? Over TLS (a secure transport) or a
 * Unix socket (socketpairs included): nothing between the two ends can read
 * it. Plain TCP, even to 127.0.0.1, is not. */
static inline int myr__conn_secure(const myr_conn *c)
{
    if (c->addr_family == AF_UNIX)
        return 1;
    /* A TLS peer whose certificate awaits its proof may be anyone. */
    return c->tp->secure && !(c->tp->untrusted && c->tp->untrusted(c, NULL) != 0);
}

/* MariaDB 11.4+ zero-configuration TLS (conn_tls.c): at the login's OK,
 * when the transport let an unverified certificate through, check the
 * server's proof of it. 0 (nothing to check, or proven), or -1 after failing
 * the connection with 2026. */
int myr__conn_tls_certproof(myr_conn *c, const uint8_t *info, size_t info_len);

/* (Re)start the read timeout: MYR_OPT_READ_TIMEOUT ms of silence from now
 * (conn_io.c). */
void myr__conn_read_timer(myr_conn *c);

/* The handshake scratch goes (at the login's OK, or with the connection);
 * its secrets are wiped. */
static inline void myr__conn_hs_free(myr_conn *c)
{
    if (c->hs != NULL) {
        explicit_bzero(c->hs, sizeof *c->hs);
        myr__free(c->hs);
        c->hs = NULL;
    }
}

/* Handshake (conn_auth.c): one whole packet in GREETING or AUTH. */
void myr__conn_auth_packet(myr_conn *c, const uint8_t *p, size_t len);

/* The one way a command ends: its kind's finish, with the status and error
 * it ended with, or MYR_ECANCELED/MYR_ETIMEDOUT if it was canceled (its
 * results discarded; the server's error number, e.g. 1317, kept). */
void myr__cmd_finish(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err);

/* Cancel (conn_cancel.c). Cancel cmd (queued on c) for why
 * (MYR__CANCEL_*): one not sent yet leaves the queue and never runs; one
 * sent is marked (its response is drained and discarded) and killed on the
 * server when that can hit nothing else. */
void myr__conn_cancel(myr_conn *c, myr__cmd *cmd, uint8_t why);
/* Kill the head command now if it is canceled, running and alone (nothing
 * sent after it but canceled commands): called whenever that may have
 * become true. */
void myr__conn_cancel_check(myr_conn *c);
/* A kill for c is over (its KILL answered, or it could not be sent). */
void myr__conn_kill_done(myr_conn *c);
/* Timer callback for the kill retry (c->kill_timer). */
void myr__conn_kill_timer(ur_timer *t);
/* Timer callback for c->drain_timer: a command killed MYR__DRAIN_GRACE_MS
 * ago and still not drained gives the connection up. */
void myr__conn_drain_timer(ur_timer *t);
/* Timer callback for MYR_OPT_QUERY_TIMEOUT (c->query_timer): commands past
 * their deadline are canceled with MYR__CANCEL_TIMEOUT. */
void myr__conn_query_timer(ur_timer *t);

/* Side connections (cancel.c): the loop's kill and end hooks. */
void myr__side_kill(myr_conn *c);
void myr__sides_end(myr_loop *loop);

/* Commands (conn_cmd.c). */
/* Queue a command of kind k; fut NULL only for kinds without future. */
int myr__conn_queue(myr_conn *c, const myr__cmd_kind *k, const void *arg, size_t len, myr_future *fut);
/* The same with the caller's command record (cmd NULL: as myr__conn_queue). */
int myr__conn_queue_cmd(myr_conn *c, const myr__cmd_kind *k, const void *arg, size_t len,
                        myr_future *fut, myr__cmd *cmd);
/* READY: one packet answering the command at the head of the queue. */
void myr__conn_response(myr_conn *c, const uint8_t *p, size_t len);
/* READY: rows straight from the receive buffer (the codec's fast path);
 * bytes used. */
size_t myr__conn_rows(myr_conn *c, const uint8_t *buf, size_t n);
/* The head command is over: take it off the queue and finish it. */
void myr__conn_finish_head(myr_conn *c, int status, const myr_error *err);
/* Take the head command off the queue (the caller finishes it). */
myr__cmd *myr__conn_pop_head(myr_conn *c);
/* Every queued command fails with err (the connection died). */
void myr__conn_fail_cmds(myr_conn *c, const myr_error *err);
/* Bytes up to c->sent_pos have left: commands without reply at the head
 * are over. */
void myr__conn_advance(myr_conn *c);
/* Bytes at the end of c->out that must wait: from the first command whose
 * bytes are not in place yet (a held kind) on. 0 if none. */
size_t myr__conn_held_bytes(const myr_conn *c);
/* Put cmd's n bytes (a held kind, queued with none) in place, in front of
 * the commands queued after it; 0 or MYR_ENOMEM. */
int myr__conn_insert(myr_conn *c, myr__cmd *cmd, const uint8_t *p, size_t n);
/* Checks every command makes (NULL, thread, closing, not ready): 0 if c
 * may take a command of kind k; else 1 with *refused a future failed with
 * the reason (NULL if even that could not be allocated: the caller returns
 * it all the same, never queues). */
int myr__conn_refuse(myr_conn *c, const myr__cmd_kind *k, myr_future **refused);
/* The window policy: may the commands queued in c->out leave now? */
int myr__conn_window_open(const myr_conn *c);
/* The queued commands were handed to the transport. */
void myr__conn_handed(myr_conn *c);
/* Does the connection wait for bytes from the server? */
int myr__conn_wants_input(const myr_conn *c);
/* A command of kind k on c, as myr_query does it: checks (NULL, thread,
 * closing, not ready: a failed future), then queued. */
myr_future *myr__command(myr_conn *c, const myr__cmd_kind *k, const void *arg, size_t len);
/* A command future of kind k on c (the checks of every command: NULL,
 * thread, closing, not ready give a failed future), with cmd.ctx = ctx
 * once it is queued; if queueing fails, k->finish runs with the error
 * (with ctx NULL the future just fails). */
myr_future *myr__conn_command(myr_conn *c, const myr__cmd_kind *k, const void *arg, size_t len,
                              void *ctx);

/* ------------------------------------------------ prepared statements */
struct myr_stmt {
    myr_conn *conn;            /* NULL once the connection's memory went */
    myr_stmt *next, *prev;     /* the connection's statements */
    unsigned refs;             /* the handle (or its prepare future) + queued commands */
    uint32_t id;               /* the server's statement id */
    uint16_t nparams, ncols;
    uint8_t valid;             /* prepared on the server, not invalidated since */
    myr_result *meta;          /* column definitions from the prepare (no rows), or NULL */
    myr__colcache cols;        /* the result columns as the server last sent them, raw */
    /* Statements of the cache (stmt_cache.c), made before their prepare
     * is answered. */
    uint8_t cached;            /* in the connection's cache */
    uint8_t pending;           /* its prepare is queued, not answered */
    uint8_t close_on_prepare;  /* evicted while pending: close once prepared */
    uint8_t close_after_exec;  /* not cached (servers without id -1): close after its execute */
    uint16_t guess_nparams;    /* the ? counted in its SQL (what executes sent) */
    int prep_status;           /* its prepare failed with this (0: it did not) */
    myr_error *prep_err;       /* and why, or NULL */
};
/* String and blob parameters of at least MYR__LONG_DATA_MIN bytes are
 * sent ahead of the execute with COM_STMT_SEND_LONG_DATA, in chunks. */
#define MYR__LONG_DATA_MIN (1u << 20)
#define MYR__LONG_DATA_CHUNK (4u << 20)
/* What an execute's encode gets (arg). */
typedef struct myr__exec_arg {
    const myr_stmt *stmt;
    const myr_param *params;
    size_t n;
    myr__buf *held;            /* a held execute's bytes go here (stmt_cache.c) */
} myr__exec_arg;
/* The response reader set up for cmd's answer (its kind's mode; with
 * MariaDB's metadata caching, the statement's column definitions). */
static inline void myr__conn_resp_for(myr_conn *c, const myr__cmd *cmd)
{
    myr__resp_init(&c->resp, c->caps);
    c->resp.mode = cmd->kind->resp_mode;
    c->resp.cache_meta = (c->mariadb_caps & MYR__MARIADB_CLIENT_CACHE_METADATA) != 0;
    c->resp.meta = cmd->kind->stmt_ctx && cmd->ctx != NULL ? &((myr_stmt *)cmd->ctx)->cols : NULL;
}
/* What a bulk execute's encode gets (arg): nrows rows of ncols, row-major. */
typedef struct myr__bulk_arg {
    const myr_stmt *stmt;
    const myr_param *params;
    size_t ncols, nrows;
} myr__bulk_arg;
/* The sum of a bulk execute done row by row (a server without bulk). */
typedef struct myr__bulk_sum {
    size_t refs;                /* parts not finished + the last command */
    uint64_t affected, insert_id;
    unsigned warnings, status;
    int have_id;
    int err_code;               /* the first error, 0 if none */
    myr_error err;
} myr__bulk_sum;
myr__bulk_sum *myr__bulk_sum_new(size_t parts);
void myr__bulk_sum_unref(myr__bulk_sum *b);
int myr__stmt_bulk_encode(const myr__cmd_kind *k, myr__buf *out, uint8_t *seq, const void *arg,
                          size_t len);
void myr__stmt_part_finish(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err);
void myr__stmt_last_finish(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err);
extern const myr__cmd_kind myr__cmd_stmt_bulk, myr__cmd_stmt_part, myr__cmd_stmt_last;
/* stmt_core.c: a new statement of c (refs 1, linked to c), NULL if no memory. */
myr_stmt *myr__stmt_new(myr_conn *c);
void myr__stmt_ref(myr_stmt *s);
void myr__stmt_unref(myr_stmt *s);   /* the last reference frees it */
/* Connection events: every statement of c is forgotten by the server
 * (reset) / the connection's memory goes (statements stay as handles). */
void myr__stmts_invalidate(myr_conn *c);
void myr__stmts_detach(myr_conn *c);
/* The STMT_* command table entries' parts (commands.c holds the entries). */
extern const myr__sink myr__stmt_prepare_sink;
void myr__stmt_prepare_finish(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err);
int myr__stmt_execute_encode(const myr__cmd_kind *k, myr__buf *out, uint8_t *seq, const void *arg,
                             size_t len);
/* stmt_cache.c: the connection's statement cache. */
typedef struct myr__stmt_cache myr__stmt_cache;
void myr__stmt_cache_free(myr_conn *c);
/* stmt.c: the checks of an execute of s with n parameters: NULL and *est
 * (bytes the command will take, roughly), or a future already failed with
 * the reason (nothing queued). */
myr_future *myr__stmt_exec_check(const myr_stmt *s, const myr_param *params, size_t n, size_t *est);
void myr__stmt_execute_finish(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err);
int myr__stmt_close_encode(const myr__cmd_kind *k, myr__buf *out, uint8_t *seq, const void *arg,
                           size_t len);
#endif
