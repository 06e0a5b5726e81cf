/*
 * src/internal.h -- the library's private structs and the functions the
 * files of src/ call across each other (prefix myr__).
 */
#ifndef MYR_INTERNAL_H
#define MYR_INTERNAL_H

#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "myring.h"
#include "alloc.h"
#include "buf.h"
#include "proto/proto.h"
#include "../uring/ur.h"

typedef struct myr__pool myr__pool;
typedef struct myr__job myr__job;
typedef struct myr__cmd myr__cmd;
typedef struct myr__cmd_kind myr__cmd_kind;
typedef struct myr__transport myr__transport;
typedef struct myr__kill myr__kill;
typedef struct myr__side myr__side;
/* The loop sits below the connections: it reaches them through these
 * (set by src/conn.c), and so do futures holding a connection. */
typedef struct myr__conn_hooks {
    void (*flush)(myr_conn *c);   /* before the submit: start sends/recvs */
    void (*free)(myr_conn *c);    /* myr_conn_free */
    void (*deliver)(myr_conn *c); /* a parked connection's turn (settle phase) */
    /* Cancel (cancel.c): kill the running command of c over a side
     * connection; connect one (myr_connect); the loop ends (side
     * connections' bookkeeping goes, before the connections are freed). */
    void (*kill)(myr_conn *c);
    myr_future *(*connect)(myr_loop *loop, const myr_conn_opts *opts);
    void (*end)(myr_loop *loop);
} myr__conn_hooks;
/* The buffered results of one command (a chain: one per statement); built
 * by myr__results_sink (result.c). */
typedef struct myr__results {
    myr_result *head, *tail;
    /* The connection the results are read from (NULL: none): its loop's
     * result free list and its last column definitions (shared when the
     * next result set's are byte for byte the same). */
    myr_conn *conn;
} myr__results;

/* ------------------------------------------------------------------ loop */
struct myr_loop {
    ur_loop *ur;
    myr__pool *pool;            /* to_thread workers, started on first use */
    unsigned pool_threads;
    myr_conn *conns;            /* every connection of this loop (for loop_free) */
    myr_conn *dirty, *dirty_tail; /* connections with bytes to send / a recv to arm (FIFO) */
    const myr__conn_hooks *conn_hooks; /* how it reaches its connections (set by the first) */
    size_t busy_conns;          /* connections with commands sent and not answered yet */
    myr_conn *releasing;        /* released during a tick, handed to the engine after it */
    int ticking;                /* inside ur_loop_tick (completion handlers run) */
    unsigned resolved;          /* futures resolved so far (run_once: don't wait after one) */
    void **iobufs;              /* idle I/O blocks of MYR__IOBUF_SIZE, for reuse */
    void **iosmall;             /* idle blocks of MYR__IOBUF_SMALL, for reuse */
    unsigned n_iosmall, cap_iosmall;
    myr_future *free_futs;      /* freed futures for reuse (linked by lnext) */
    unsigned n_free_futs;
    struct myr__rhome *rhome;   /* freed results for reuse (result.c), NULL until one */
    uintptr_t owner_self;       /* the thread its ticks ran on (myr__loop_note_owner), 0 before */
    unsigned owner_gen;         /* myr__fork_gen then */
    unsigned n_iobufs, cap_iobufs;
    unsigned lent_iobufs;       /* blocks held by connections */
    ur_bufring *bufring;        /* receive buffers shared by the connections (lazily) */
    uint8_t bufring_failed;     /* the kernel has none: each receive brings its buffer */

    /* Futures. A future of this loop is on exactly one of these lists:
     * `pending` while unresolved (so that myr_loop_free can resolve what
     * nothing else would, e.g. sleeps and promises), `ready` once resolved
     * with a callback that has not run yet (it runs when run_once drains the
     * queue, never inside the code that resolved the future), `done` after
     * that (so that myr_loop_free can clear their loop pointer). */
    myr_future *pending;
    myr_future *ready_head, *ready_tail;
    myr_future *done;
    uint8_t running;            /* inside myr_loop_run_once or the final drain:
                                   a nested run is refused with MYR_EBUSY */
    uint8_t external;           /* myr_loop_fd was called: run_once ends with a submit */
    uint8_t free_requested;     /* myr_loop_free from a callback: done when run_once returns */
    uint8_t closing;            /* being freed: no new futures on it */
    uint8_t discard;            /* myr_loop_discard in a fork() child: this process may free it,
                                   touching nothing the parent uses (no callback, no shutdown) */
    /* Connections parked mid-response (a streaming batch is due: its
     * callback runs in the settle phase, never inside the parse), FIFO. */
    myr_conn *parked, *parked_tail;
    unsigned park_round;        /* settle's pass: a connection parked during
                                   a pass waits for the next one */
    /* TLS contexts and resumable sessions of this loop's connections
     * (transport_tls.c), freed by tls_free when the loop goes. */
    void *tls;
    void (*tls_free)(void *tls);
    myr__side *sides;           /* side connections that carry KILL QUERY (cancel.c) */
    struct myr__pkcache *pkcache; /* servers' RSA public keys (pkcache.h), NULL until one */
};

/* The calling thread, as an address no other live thread shares. */
extern _Thread_local char myr__tls_self __attribute__((tls_model("initial-exec")));
static inline uintptr_t myr__thread_self(void) { return (uintptr_t)&myr__tls_self; }
/* Bumped in a fork() child (pthread_atfork, set up by myr__thread_init). */
extern unsigned myr__fork_gen;
void myr__thread_init(void);
/* A tick of loop ran on this thread, which owns it from then on: later
 * checks from it take the short way (thread_check.c). */
void myr__loop_note_owner(myr_loop *loop);

/* May the calling thread use loop now? 0, or MYR_ETHREAD (another thread
 * owns it), MYR_EFORKED (a fork() child) or MYR_EINVAL (loop NULL), with
 * err (may be NULL) saying what happened and what to do. */
int myr__loop_check_full(myr_loop *loop, myr_error *err);
static inline int myr__loop_check(myr_loop *loop, myr_error *err)
{
    if (__builtin_expect(loop != NULL && loop->owner_self == myr__thread_self() &&
                         loop->owner_gen == myr__fork_gen && loop->ur != NULL, 1))
        return 0;   /* its owner, in the process that made it */
    return myr__loop_check_full(loop, err);
}
/* For calls that create a future on loop: myr__loop_check, and the loop must
 * not be on its way out (MYR_ECLOSED after myr_loop_free). */
int myr__loop_enter(myr_loop *loop, myr_error *err);
/* For blocking calls (*_sync) before they start any work: myr__loop_check,
 * and the loop must not be running already (MYR_EBUSY: called from one of
 * its callbacks). loop NULL passes (the call fails later, as it would). */
int myr__loop_can_block(myr_loop *loop, myr_error *err);

/* I/O buffers: a busy connection takes a block from its loop, an idle one
 * gives it back, so idle connections hold no buffer and busy ones don't
 * malloc per query. Two sizes (MYR__IOBUF_SIZE and MYR__IOBUF_SMALL, buf.h):
 * a take hands out an idle standard block if there is one, else a small
 * one, which grows straight to the standard size when its bytes need it
 * (myr__buf_reserve). Receives use the ring, so blocks hold what is sent
 * (a few pipelined queries, a login) and TLS records: a burst of a thousand
 * logins lends a thousand 512-byte blocks, not 4 KiB ones, whose holes in
 * the heap stayed resident once the connections were idle. take: 0 or
 * MYR_ENOMEM (no-op if b has memory). give: only an empty buffer; blocks
 * grown to another size are freed. */
/* Busy connections cycle blocks through the cache. It keeps up to
 * MYR__IOBUF_KEEP idle blocks plus as many as are lent out right now: enough
 * that connections going idle and busy again don't free and re-malloc
 * (malloc would trim and re-grow the heap: a syscall per query), while a
 * loop whose connections all went idle holds 1 MiB at most. */
#define MYR__IOBUF_KEEP 64u
int myr__loop_buf_take(myr_loop *loop, myr__buf *b);
/* The loop's receive ring (created on first use; engine-owned, freed with
 * the ring): receives stay armed on it, idle connections too, and take a
 * buffer only while bytes arrive (back as soon as parsed). NULL where the
 * kernel has no provided-buffer rings. 256 x 16 KiB: a page of RSS per
 * buffer a small answer landed in. When more bytes come in one tick than
 * it has buffers, the rest wait in their sockets (-ENOBUFS, armed again
 * after the tick). 64 buffers would touch a quarter of the pages, but made
 * the fault sweep's reset-after-16-MiB case wait for its read timeout about
 * every other run under ASan: a multishot that stays armed but never
 * reports the reset (see myr__socket_ring_next), since fixed; 256 kept. */
#define MYR__RECV_BUFS 256u
#define MYR__RECV_BUF_SIZE 16384u
/* Buffers of the rings of loops created from now on (a power of two;
 * MYR__RECV_BUFS): tests shrink it so that receives run out of buffers. */
extern unsigned myr__recv_bufs;
ur_bufring *myr__loop_bufring(myr_loop *loop);
void myr__loop_buf_give(myr_loop *loop, myr__buf *b);
void myr__loop_release_deferred(myr_loop *loop);

/* Queue c for the pre-submit pass of the next tick (sends and recvs are
 * started there so that all commands queued before a tick leave in one send). */
void myr__loop_mark_dirty(myr_loop *loop, myr_conn *c);
void myr__loop_unmark_dirty(myr_loop *loop, myr_conn *c);
/* Park c until the settle phase calls conn_hooks->deliver(c) (FIFO; no-op
 * if parked already); unpark takes it off the list. */
void myr__loop_park(myr_loop *loop, myr_conn *c);
void myr__loop_unpark(myr_loop *loop, myr_conn *c);

/* ----------------------------------------------------------------- errors */
/* Fill e: code, mysql errno (0 = the code's default from the table), sqlstate
 * ("" = "HY000" when there is an errno) and a printf-style message. */
void myr__error_set(myr_error *e, int code, unsigned mysql_errno, const char *sqlstate,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
unsigned myr__error_default_errno(int code);

/* ---------------------------------------------------------------- futures */
typedef enum myr__fut_kind {
    MYR__FUT_CONNECT,   /* value: conn */
    MYR__FUT_RESULT,    /* value: result (query) */
    MYR__FUT_PLAIN,     /* no value: ping, select_db, reset, close */
    MYR__FUT_SLEEP,
    MYR__FUT_THREAD,    /* value: ptr */
    MYR__FUT_PROMISE,   /* value: ptr, resolved by the application */
    MYR__FUT_STMT,      /* value: ptr, a myr_stmt (myr_future_take_stmt) */
} myr__fut_kind;

/* A command queued on a connection. Command futures embed theirs (a
 * detached future lives until it resolves, so this stays valid); only
 * COM_QUIT, which has no future, allocates one. */
struct myr__cmd {
    myr__cmd *next;
    const myr__cmd_kind *kind; /* what it is: one entry of the command table */
    myr_future *fut;       /* NULL for a command without future (COM_QUIT) */
    uint8_t reply_seq;     /* sequence id of the first reply packet */
    uint64_t end_pos;      /* stream offset of the end of its bytes */
    size_t len;            /* how many bytes it is (it starts at end_pos - len) */
    uint64_t deadline_ns;  /* MYR_OPT_QUERY_TIMEOUT: when it is timed out; 0 = never */
    uint8_t cancel;        /* MYR__CANCEL_*: why it must not deliver a result */
    uint8_t cancel_live;   /* canceled after it was sent: counted in c->ncancel */
    myr__results res;      /* what its response built so far */
    struct myr__stream *stream; /* streaming commands: their state (stream.c) */
    void *ctx;             /* what the command is about (a prepared statement), or NULL */
    myr__buf *held;        /* a held kind's bytes until they are put in place (stmt_cache.c) */
};
/* Why a command was canceled (myr__cmd.cancel). */
enum { MYR__CANCEL_NONE, MYR__CANCEL_USER, MYR__CANCEL_TIMEOUT };

/* Where a future is linked (myr_future.where): see struct myr_loop. */
enum { MYR__FL_NONE, MYR__FL_PENDING, MYR__FL_READY, MYR__FL_DONE };

struct myr_future {
    myr_loop *loop;            /* NULL for a future failed before it had one */
    uint8_t kind;
    uint8_t done;
    uint8_t detached;          /* the user freed it while pending */
    uint8_t in_ready;          /* in an as_completed ready list */
    uint8_t where;             /* MYR__FL_*: the loop list it is on */
    int status;
    myr_error *err;            /* allocated only on failure */
    union {
        myr_conn *conn;
        myr_result *result;
        void *ptr;
    } val;
    myr_future_cb cb;
    void *cb_arg;
    void *data;                /* myr_future_set_data */
    myr_conn *conn;            /* the connection of a command (myr_future_conn) */
    myr_future *lnext, *lprev; /* the loop list named by `where` */
    myr_as_completed *ac;      /* watching iterator, NULL if none */
    myr_future *ac_next;
    ur_timer timer;            /* sleep futures */
    myr__cmd cmd;              /* command futures */
    void (*val_free)(void *);  /* frees an untaken val.ptr (statements), or NULL */
};

/* A pending future on loop (NULL: a future that is failed at once). */
struct myr_as_completed {
    myr_loop *loop;
    size_t pending;              /* added, not resolved yet */
    myr_future *ready_head, *ready_tail;
};
/* Append f to it's list of futures ready to be handed out. */
void myr__ac_push_ready(myr_as_completed *it, myr_future *f);

myr_future *myr__future_new(myr_loop *loop, myr__fut_kind kind);
/* Resolve with status (0 or negative). For errors pass err (copied) or NULL
 * for one made from the code alone. Runs no application code: the future is
 * marked done and, if it has a callback, queued on its loop's ready queue
 * (a future without a loop calls back at once). A detached future is freed
 * here. Resolving a done future does nothing. */
void myr__future_resolve(myr_future *f, int status, const myr_error *err);
/* A future already resolved with an error, for calls that fail before any
 * I/O (code MYR_EINVAL if err has none). NULL only if it cannot be
 * allocated. It gets no loop (loop is not recorded): it is done before
 * anyone could wait, and the loop may not be the caller's to touch. */
myr_future *myr__future_failed(myr_loop *loop, myr__fut_kind kind, const myr_error *err);
/* myr_loop_free's part for futures: resolve pending futures of loop with
 * MYR_ECANCELED (all = 0: those nothing else would resolve, sleeps and
 * promises; all = 1: every one left), then run the ready queue until it is
 * empty. */
void myr__loop_futures_end(myr_loop *loop, int all);
/* Run the callbacks of the ready queue, including those of futures that
 * resolve meanwhile. */
void myr__loop_drain_ready(myr_loop *loop);
/* myr_loop_free is about to free every connection of the loop: its
 * futures stop naming them (myr_future_conn, and a connect future's
 * connection that was never taken), so that no callback or later call
 * reaches a freed one. */
void myr__loop_forget_conns(myr_loop *loop);
/* The loop's memory goes: the futures that outlive it lose their loop
 * pointer (myr_future_loop() gives NULL). Nothing may be pending or ready. */
void myr__loop_forget_futures(myr_loop *loop);

/* ------------------------------------------------------------ worker pool */
struct myr__job {
    void *(*fn)(void *arg);
    void *arg;
    void *ret;
    int status;                    /* 0, or MYR_ECANCELED if it never ran */
    void (*done)(myr__job *job);   /* called on the loop thread */
    myr__job *next;
};
/* Run job->fn on a worker; job->done runs on the loop's thread through the
 * ring. 0 or error (then done never runs). */
int myr__pool_submit(myr_loop *loop, myr__job *job);
void myr__pool_free(myr__pool *p);

/* ---------------------------------------------------------------- results */
typedef struct myr__chunk myr__chunk;

struct myr_result {
    myr_result *next;
    size_t ncols;
    myr_column *cols;
    size_t nrows, rows_cap;
    myr__field *cells;         /* nrows * ncols */
    uint8_t cells_in_arena;    /* the first few rows' cells live in the arena */
    myr__chunk *chunks;        /* arena holding column strings and values */
    uint8_t binary;            /* rows came in the binary protocol: a FLOAT or DOUBLE
                                  value's raw bytes follow its text's NUL */
    struct myr__coldefs *defs; /* cols' owner (shared, counted); NULL until all came */
    struct myr__coldefs *cand; /* while definitions arrive: the connection's last ones,
                                  as long as every one so far matched (not counted) */
    struct myr__coldefs *build;/* while definitions arrive, once one differed: new ones */
    struct myr__rhome *home;   /* the loop cache it came from and goes back to (NULL: heap) */
    uint64_t affected_rows, insert_id;
    unsigned warnings, status;
    char *info;
    size_t set_index;          /* which result of its command's response it is */
};

/* A result set's column definitions (coldefs.c): the raw packets back to
 * back and, once all have come, their parsed form (strings pointing into
 * the packets). Immutable once finished, so results on any thread share them;
 * the count is atomic (a result may be freed on another thread). */
typedef struct myr__coldefs {
    size_t refs;
    size_t ncols, nadded;
    myr_column *cols;
    uint32_t *end;              /* where definition i ends in raw */
    uint8_t *raw;
    size_t raw_len, raw_cap;
    uint8_t *raw_inline;        /* room allocated with the struct */
} myr__coldefs;
/* Room for ncols definitions (refs 1), or NULL. */
myr__coldefs *myr__coldefs_new(size_t ncols);
/* Append definition i (the next one): 0 or MYR_ENOMEM. */
int myr__coldefs_add(myr__coldefs *d, const uint8_t *p, size_t len);
/* Append the first n definitions of from (as they were received). */
int myr__coldefs_add_from(myr__coldefs *d, const myr__coldefs *from, size_t n);
/* Is definition i of d byte for byte p[0..len)? */
static inline int myr__coldefs_same(const myr__coldefs *d, size_t i, const uint8_t *p, size_t len)
{
    size_t start = i ? d->end[i - 1] : 0;
    return d->end[i] - start == len && memcmp(d->raw + start, p, len) == 0;
}
/* All added: parse them. 0 or MYR_EMALFORMED. */
int myr__coldefs_finish(myr__coldefs *d);
static inline void myr__coldefs_ref(myr__coldefs *d)
{
    __atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
}
void myr__coldefs_unref(myr__coldefs *d);   /* NULL: nothing */

/* A result on the heap (myr_result_free frees it). */
myr_result *myr__result_new(void);
/* The loop's result free list: a block of one of its results goes back
 * there when freed on the loop's thread while the loop lives (elsewhere, or
 * later, to the heap). Freed with the loop. */
void myr__loop_results_end(myr_loop *loop);
/* Futures kept for reuse, freed with the loop. */
void myr__loop_futures_free(myr_loop *loop);
/* The sink that builds a myr__results (ctx: the myr__results). */
extern const myr__sink myr__results_sink;
void myr__results_clear(myr__results *rs);
/* A point in a result's arena, and going back to it: the rows added since
 * are forgotten (their memory is released or kept for reuse), the columns
 * stay. For streaming batches (stream.c). */
typedef struct myr__rmark { void *chunk; size_t used; } myr__rmark;
void myr__result_mark(const myr_result *r, myr__rmark *m);
void myr__result_rewind(myr_result *r, const myr__rmark *m);

/* ------------------------------------------------------------ connections */
/* The login deadline (greeting, TLS, authentication) when the application
 * sets none (MYR_OPT_LOGIN_TIMEOUT). */
#define MYR__LOGIN_TIMEOUT_MS 10000
typedef enum myr__conn_state {
    MYR__CS_RESOLVING,    /* host name lookup on the worker pool */
    MYR__CS_SOCKET,       /* socket op queued */
    MYR__CS_CONNECTING,   /* connect op queued */
    MYR__CS_GREETING,     /* waiting for the server's handshake */
    MYR__CS_AUTH,         /* login sent; OK/ERR/auth switch/more data next */
    MYR__CS_READY,        /* commands flow */
    MYR__CS_DEAD,         /* failed or closed; futures resolved; waiting for free */
    MYR__CS__LAST
} myr__conn_state;


struct myr_conn_opts {
    char *host, *unix_socket, *user, *password, *database, *charset;
    int port;
    int port_set;
    int connect_timeout_ms, read_timeout_ms;
    int query_timeout_ms;       /* MYR_OPT_QUERY_TIMEOUT, 0 = none */
    int login_timeout_ms;       /* MYR_OPT_LOGIN_TIMEOUT when login_timeout_set */
    int login_timeout_set;      /* else the default, MYR__LOGIN_TIMEOUT_MS */
    int multi_statements;
    int pipeline_refill;        /* MYR_OPT_PIPELINE_REFILL: 0 default, -1 eager */
    int no_mariadb_ext;         /* MYR_OPT_MARIADB_EXTENSIONS set to 0 */
    int stmt_cache_size;        /* MYR_OPT_STMT_CACHE_SIZE when stmt_cache_set */
    int stmt_cache_set;
    char *defaults_error;       /* why myr_conn_opts_read_defaults() failed, or NULL */
    /* TLS (transport_tls.c): enum myr_ssl_mode, 0 = default (PREFERRED) */
    int ssl_mode;
    char *ssl_ca, *ssl_capath, *ssl_cert, *ssl_key, *ssl_cipher, *tls_version;
    char *server_public_key;    /* MYR_OPT_SERVER_PUBLIC_KEY: a PEM file's path */
    uint8_t get_server_public_key;   /* MYR_OPT_GET_SERVER_PUBLIC_KEY */
    uint8_t enable_cleartext_plugin; /* MYR_OPT_ENABLE_CLEARTEXT_PLUGIN */
    int tls_no_resume;          /* MYR_OPT_TLS_RESUME 0 */
    uint8_t tls_psk_only;       /* MYR_OPT_TLS_RESUME_PSK_ONLY */
};

/* A connection's handshake scratch, from conn_new to the login's OK (then
 * freed: an idle connection does not carry it). */
typedef struct myr__hs {
    myr_conn *conn;
    myr__greeting greeting;
    uint8_t auth_scramble[32];  /* the plugin's server data: 20 bytes, 32 for client_ed25519 */
    uint8_t auth_scramble_len;
    uint8_t auth_step;          /* what its next AuthMoreData is (conn_plugin.c) */
    uint8_t auth_cached_key;    /* the password left encrypted with a cached RSA key */
    myr__job resolve_job;
    struct sockaddr_storage addr;
    socklen_t addr_len;
} myr__hs;

struct myr_conn {
    ur_owner owner;             /* first: container_of is a cast */
    myr_loop *loop;
    myr_loop *own_loop;         /* private loop of myr_connect_sync(NULL, ...) */
    myr_conn *loop_next, *loop_prev;
    myr_conn *dirty_next, *dirty_prev;
    uint8_t dirty;
    uint8_t state;
    uint8_t user_owned;         /* handed to the user (connect succeeded) */
    uint8_t closing;            /* myr_close/myr_conn_free called */
    uint8_t release_requested;  /* nobody needs it: free once the kernel is done */
    uint8_t released;           /* the engine released it (no op in flight) */
    uint8_t job_busy;           /* the host lookup runs on a worker */
    myr_conn *release_next;
    size_t need;                /* bytes the next frame needs in the receive buffer */
    char server_version[64];
    uint16_t server_status;     /* SERVER_STATUS_* of the last OK/EOF (greeting's at first) */
    int fd;
    myr_conn_opts opts;         /* own copy */
    myr_future *connect_fut;
    myr_future *close_fut;
    char *death;                /* why it died, for later commands (NULL: alive, or no memory) */
    uint8_t dead_once;          /* it did die (even if death could not be kept) */

    /* handshake */
    struct myr__hs *hs;         /* what only the handshake needs; NULL once READY */
    uint32_t thread_id;         /* the server's, from the greeting */
    uint32_t caps;
    char plugin[64];            /* the auth plugin in use (myr_conn_auth_plugin) */
    int addr_family;

    /* Plaintext the state machines exchange with the transport. */
    const myr__transport *tp;   /* how bytes reach the socket (transport.h) */
    myr__buf out;               /* queued bytes not yet handed to the transport */
    myr__buf in;                /* received bytes not yet parsed */
    uint64_t queued_pos;        /* total bytes ever queued */
    uint64_t sent_pos;          /* total bytes the kernel has taken */
    size_t urgent;              /* bytes at the front of out that must leave even
                                   while the window holds (a reply inside a command) */
    uint8_t wseq;               /* the writer's sequence id */
    uint8_t secret_out;         /* handshake bytes with a password (or what stands for
                                   it) were queued: send buffers are wiped, not just
                                   emptied, until they have left */
    myr__pkt_reader reader;     /* the reader's (its seq is the next expected) */
    ur_timer timer;             /* connect or read deadline */

    /* The plaintext transport's state (transport_plain.c). */
    myr__buf sending;           /* bytes of the send in flight */
    uint64_t send_id, recv_id;
    uint8_t send_busy, recv_busy;
    uint8_t send_quiet;         /* the send in flight is quiet (ur_send_quiet) */
    uint8_t recv_ring;          /* the recv in flight is on the loop's ring */
    uint8_t recv_multi;         /* ... and a multishot */
    uint8_t recv_stop;          /* it is being canceled (parked: backpressure) */
    uint8_t recv_oneshot;       /* one-shot ring receives until idle (a big answer) */

    /* commands, oldest first; the head owns the response being read */
    myr__cmd *cmd_head, *cmd_tail;
    myr__resp resp;
    size_t ncmds;
    size_t nreply;              /* queued commands that expect a reply */
    size_t awaiting;            /* of those, how many were handed to the transport */

    /* Parked (see myr_loop.parked): parsing stopped until the settle phase
     * hands parked_cmd's batch to the application. No recv meanwhile. */
    myr__cmd *parked_cmd;
    myr_conn *park_next, *park_prev;
    unsigned park_round;
    myr_stmt *stmts;            /* its prepared statements (stmt_core.c) */
    uint32_t mariadb_caps;      /* MariaDB extended capabilities in use (MYR__MARIADB_CLIENT_*) */
    /* The statement cache and one-round-trip executes (stmt_cache.c). */
    struct myr__stmt_cache *stmt_cache;
    myr_stmt *last_prep;        /* the statement of the last prepare queued, if the cache's */
    unsigned reset_gen;         /* resets queued so far (the cache empties when it changes) */
    size_t nheld;               /* held commands queued (myr__cmd_kind.held) */
    uint8_t direct_exec;        /* the server takes statement id -1 (MariaDB 10.2+) */
    /* TLS: the transport to switch to after the SSLRequest (set by conn.c),
     * and its state once it runs (transport_tls.c). */
    const myr__transport *tls_tp;
    struct myr__tls *tls;
    uint8_t tls_certproof;      /* a certificate no CA vouches for may be proven by the
                                   login's OK instead (conn_tls.c, MariaDB 11.4+) */
    /* Cancel (conn_cancel.c, cancel.c). */
    size_t ncancel;             /* sent commands canceled, their response not drained:
                                   while > 0 (or a kill is out) nothing new is sent */
    myr__kill *kill;            /* the KILL QUERY out for this connection, if any */
    myr__cmd *kill_for;         /* the command the last kill was for (backoff) */
    unsigned kill_backoff_ms;   /* wait before killing the same command again */
    ur_timer kill_timer;        /* that wait */
    ur_timer drain_timer;       /* gives up a killed command never drained (conn_cancel.c) */
    uint64_t acked_seen;        /* read timeout: bytes the peer had acknowledged at the last expiry */
    ur_timer query_timer;       /* the first command's MYR_OPT_QUERY_TIMEOUT deadline */
    uint8_t login_deadline;     /* c->timer is the login deadline (not the connect one) */
    struct myr__coldefs *coldefs; /* the last result set's column definitions (counted) */
};

/* Bytes of fd's sent stream the peer acknowledged (TCP); -1 when unknown
 * (sock_progress.c). */
int myr__sock_acked(int fd, uint64_t *acked);

/* Internal connect on an already-connected socket (tests use socketpairs
 * with a scripted server). Takes ownership of fd. */
myr_future *myr__connect_fd(myr_loop *loop, const myr_conn_opts *opts, int fd);
/* Start pending sends/recvs (called by the loop before it submits). */
void myr__conn_flush(myr_conn *c);
int myr__opts_copy(myr_conn_opts *dst, const myr_conn_opts *src);
/* MYR_OPT_TLS_VERSION parsed: MYR__TLS12 | MYR__TLS13 bits, or -1 when it
 * names anything else (opts.c). NULL: both. */
enum { MYR__TLS12 = 1, MYR__TLS13 = 2 };
int myr__tls_versions(const char *s);
/* Frees every string (the password zeroed first) and zeroes o. */
void myr__opts_clear(myr_conn_opts *o);
/* Zero a NUL-terminated secret's bytes, then free it (NULL: nothing). */
void myr__free_secret(char *s);

#endif
