/*
 * src/conn.c -- the connection's top: creating it (the connect sequence up
 * to the greeting: name lookup, socket, connect), the engine's completion
 * dispatcher, closing and freeing it, and its accessors. Below it:
 * conn_io.c (transport side, packet cutting), conn_auth.c (handshake),
 * conn_cmd.c + commands.c (commands), conn_state.c (state, death).
 *
 * Lifetime: a connection is freed only when (a) nobody can reach it any
 * more (connect failed, or the user freed/closed it) and (b) the engine has
 * no operation of it in flight (ur_owner on_release). Inside a tick the
 * release is deferred to the end of the tick so that code handling a
 * completion never sees its connection vanish under it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn_internal.h"

#define MYR__DEFAULT_SOCKET "/run/mysqld/mysqld.sock"

/* ---------------------------------------------------------------- freeing */

static void conn_on_release(ur_owner *o)
{
    myr_conn *c = (myr_conn *)o;
    if (c->fd >= 0) {
        close(c->fd);   /* no op of ours is in flight any more */
        c->fd = -1;
    }
    c->released = 1;
    if (c->kill != NULL) {   /* a KILL for it is still out: it must not come back here */
        c->kill->target = NULL;
        c->kill = NULL;
    }
    if (c->job_busy)
        return;   /* the resolver job frees it when it comes back */
    myr_future *close_fut = c->close_fut;
    myr__stmt_cache_free(c);   /* the cache's references go */
    myr__stmts_detach(c);   /* their handles stay valid, without a connection */
    c->tp->free(c);
    if (c->secret_out)
        myr__buf_wipe(&c->out);
    myr__buf_reset(&c->out);
    myr__buf_reset(&c->in);
    myr__loop_buf_give(c->loop, &c->out);
    myr__loop_buf_give(c->loop, &c->in);
    myr__pkt_reader_free(&c->reader);
    myr__opts_clear(&c->opts);
    myr__free(c->death);
    myr__coldefs_unref(c->coldefs);
    myr__conn_hs_free(c);
    myr__free(c);
    if (close_fut != NULL)
        myr__future_resolve(close_fut, 0, NULL);
}

/* ------------------------------------------------------------ connecting */

static int login_timeout_ms(const myr_conn *c)
{
    return c->opts.login_timeout_set ? c->opts.login_timeout_ms : MYR__LOGIN_TIMEOUT_MS;
}

/* The socket is connected: the server has login_timeout_ms to greet us and
 * the login to end, unless the connect deadline comes first. */
static void start_login(myr_conn *c)
{
    myr__conn_set_state(c, MYR__CS_GREETING);
    int ms = login_timeout_ms(c);
    if (ms > 0) {
        uint64_t at = ur_now_ns() + (uint64_t)ms * 1000000u;
        if (!ur_timer_armed(&c->timer) || at < c->timer.deadline_ns) {
            ur_timer_start(c->loop->ur, &c->timer, at);
            c->login_deadline = 1;
        }
    }
    myr__conn_kick(c);
}

/* Bytes handed to the transport are still going out, and the peer has
 * acknowledged more of them since the last expiry. */
static int still_sending(myr_conn *c)
{
    uint64_t acked;
    if (c->sent_pos >= c->queued_pos - myr__buf_unread(&c->out) || myr__sock_acked(c->fd, &acked) != 0 ||
        acked == c->acked_seen)
        return 0;
    c->acked_seen = acked;
    return 1;
}

static void on_timer(ur_timer *t)
{
    myr_conn *c = (myr_conn *)((char *)t - offsetof(myr_conn, timer));
    if (c->state < MYR__CS_READY && c->login_deadline)
        myr__conn_fail(c, MYR_ETIMEDOUT, 2013,
                       "Lost connection to server at '%s' (login timeout: no answer within %d ms)",
                       c->state == MYR__CS_GREETING ? "reading initial communication packet"
                                                    : "reading authorization packet",
                       login_timeout_ms(c));
    else if (c->state < MYR__CS_READY)
        myr__conn_fail(c, MYR_ETIMEDOUT, 2003, "Can't connect to server on '%s' (%d): connect timeout",
                       c->opts.host ? c->opts.host : "localhost", ETIMEDOUT);
    else if (still_sending(c))
        /* A large command going out on a slow link: the server cannot answer
         * before it has it all, so its silence does not count while the
         * bytes move. */
        myr__conn_read_timer(c);
    else
        myr__conn_fail(c, MYR_ETIMEDOUT, 2013,
                       "Lost connection to server during query (read timeout after %d ms)",
                       c->opts.read_timeout_ms);
}

static void connect_failed(myr_conn *c, int err)
{
    if (c->addr_family == AF_UNIX)
        myr__conn_fail_os(c, MYR_EUNIXSOCK, 2002, err, "Can't connect to local server through socket '%s' (%d)",
                     c->opts.unix_socket ? c->opts.unix_socket : MYR__DEFAULT_SOCKET, err);
    else
        myr__conn_fail_os(c, MYR_ECONNECT, 2003, err, "Can't connect to server on '%s' (%d)",
                     c->opts.host ? c->opts.host : "localhost", err);
}

/* The socket or connect operation could not be queued: with -ENOMEM the
 * engine had no memory for it (ours to report as such, not the server's
 * being unreachable). */
static void queue_failed(myr_conn *c, int rc)
{
    if (rc == -ENOMEM)
        myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory queueing the connect");
    else
        connect_failed(c, -rc);
}

static void start_socket(myr_conn *c)
{
    myr__conn_set_state(c, MYR__CS_SOCKET);
    int rc = ur_socket(&c->owner, MYR__TAG_SOCKET, c->addr_family, SOCK_STREAM | SOCK_CLOEXEC, 0, NULL);
    if (rc < 0)
        queue_failed(c, rc);
}

static void on_socket(myr_conn *c, int res)
{
    if (c->state == MYR__CS_DEAD) {
        if (res >= 0)
            close(res);
        return;
    }
    if (res < 0) {
        connect_failed(c, -res);
        return;
    }
    c->fd = res;
    if (c->addr_family != AF_UNIX) {
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    myr__conn_set_state(c, MYR__CS_CONNECTING);
    int rc = ur_connect(&c->owner, MYR__TAG_CONNECT, c->fd, (struct sockaddr *)&c->hs->addr, c->hs->addr_len, NULL);
    if (rc < 0)
        queue_failed(c, rc);
}

static void on_connect(myr_conn *c, int res)
{
    if (c->state == MYR__CS_DEAD)
        return;
    if (res < 0) {
        connect_failed(c, -res);
        return;
    }
    start_login(c);
}

static void conn_complete(ur_owner *o, uint32_t tag, int res, uint32_t flags)
{
    myr_conn *c = (myr_conn *)o;
    switch (tag) {
    case MYR__TAG_SOCKET: on_socket(c, res); break;
    case MYR__TAG_CONNECT: on_connect(c, res); break;
    case MYR__TAG_SEND:
    case MYR__TAG_RECV: c->tp->complete(c, tag, res, flags); break;
    default: break;
    }
}

static void *resolve_host(void *arg)
{
    myr_conn *c = arg;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(c->opts.host, NULL, &hints, &res);
    if (rc != 0)
        return (void *)(intptr_t)(rc == EAI_SYSTEM ? -errno : rc);
    memcpy(&c->hs->addr, res->ai_addr, res->ai_addrlen);
    c->hs->addr_len = res->ai_addrlen;
    c->addr_family = res->ai_family;
    freeaddrinfo(res);
    return NULL;
}

static void resolve_done(myr__job *job)
{
    myr_conn *c = ((myr__hs *)((char *)job - offsetof(myr__hs, resolve_job)))->conn;
    c->job_busy = 0;
    if (c->released) {   /* given up while the lookup ran */
        conn_on_release(&c->owner);
        return;
    }
    if (c->state == MYR__CS_DEAD)
        return;
    if (job->status != 0 || job->ret != NULL) {
        myr__conn_fail(c, MYR_EHOSTNAME, 2005, "Unknown server host '%s' (%d)", c->opts.host,
                       job->status ? job->status : (int)(intptr_t)job->ret);
        return;
    }
    if (c->addr_family == AF_INET)
        ((struct sockaddr_in *)&c->hs->addr)->sin_port = htons((uint16_t)c->opts.port);
    else
        ((struct sockaddr_in6 *)&c->hs->addr)->sin6_port = htons((uint16_t)c->opts.port);
    start_socket(c);
}

/* Where to connect: a Unix socket when one is named, or when the host is
 * "localhost"/unset and no port was set (as the mysql clients do); else TCP. */
static int pick_target(myr_conn *c)
{
    const myr_conn_opts *o = &c->opts;
    int local = o->host == NULL || strcmp(o->host, "localhost") == 0;
    if (o->unix_socket != NULL || (local && !o->port_set)) {
        const char *path = o->unix_socket ? o->unix_socket : MYR__DEFAULT_SOCKET;
        struct sockaddr_un *un = (struct sockaddr_un *)&c->hs->addr;
        if (strlen(path) >= sizeof un->sun_path)
            return MYR_EINVAL;
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, path);
        c->hs->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
        c->addr_family = AF_UNIX;
        return 0;
    }
    const char *host = o->host ? o->host : "127.0.0.1";
    struct sockaddr_in *in4 = (struct sockaddr_in *)&c->hs->addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&c->hs->addr;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)o->port);
        c->hs->addr_len = sizeof *in4;
        c->addr_family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)o->port);
        c->hs->addr_len = sizeof *in6;
        c->addr_family = AF_INET6;
        return 0;
    }
    return 1;   /* a name: look it up */
}

/* How the loop reaches its connections (it sits below them). */
static const myr__conn_hooks conn_hooks = {
    .flush = myr__conn_flush, .free = myr_conn_free, .deliver = myr__conn_deliver,
    .kill = myr__side_kill, .connect = myr_connect, .end = myr__sides_end,
};

static myr_conn *conn_new(myr_loop *loop, const myr_conn_opts *opts)
{
    /* The scratch first: beside the connect future, the two leave one
     * hole when they go, where later allocations fit. */
    myr__hs *hs = myr__calloc(1, sizeof *hs);
    myr_conn *c = hs ? myr__calloc(1, sizeof *c) : NULL;
    if (c == NULL || myr__opts_copy(&c->opts, opts) != 0) {
        myr__free(c);
        myr__free(hs);
        return NULL;
    }
    c->hs = hs;
    hs->conn = c;
    c->loop = loop;
    loop->conn_hooks = &conn_hooks;
    c->tp = &myr__transport_plain;
    c->tls_tp = &myr__transport_tls;
    c->fd = -1;
    ur_owner_init(&c->owner, loop->ur, conn_complete, conn_on_release);
    ur_timer_init(&c->timer, on_timer);
    ur_timer_init(&c->kill_timer, myr__conn_kill_timer);
    ur_timer_init(&c->drain_timer, myr__conn_drain_timer);
    ur_timer_init(&c->query_timer, myr__conn_query_timer);
    myr__pkt_reader_init(&c->reader);
    c->loop_next = loop->conns;
    if (loop->conns)
        loop->conns->loop_prev = c;
    loop->conns = c;
    return c;
}

static myr_future *connect_common(myr_loop *loop, const myr_conn_opts *opts, int fd)
{
    myr_error e;
    myr_future *f = myr__loop_enter(loop, &e) != 0 ? myr__future_failed(NULL, MYR__FUT_CONNECT, &e)
                                                   : myr__future_new(loop, MYR__FUT_CONNECT);
    if (f == NULL || f->done) {
        if (fd >= 0)
            close(fd);   /* ours (myr__connect_fd), even when we fail */
        return f;
    }
    myr_conn *c = conn_new(loop, opts);
    if (c == NULL) {
        myr__future_resolve(f, MYR_ENOMEM, NULL);
        if (fd >= 0)
            close(fd);
        return f;
    }
    c->connect_fut = f;
    if (c->opts.connect_timeout_ms > 0)
        ur_timer_start(loop->ur, &c->timer,
                       ur_now_ns() + (uint64_t)c->opts.connect_timeout_ms * 1000000u);
    if (fd >= 0) {   /* already connected (tests) */
        c->fd = fd;
        /* What kind of socket it is decides whether it is secure. */
        c->hs->addr_len = sizeof c->hs->addr;
        if (getsockname(fd, (struct sockaddr *)&c->hs->addr, &c->hs->addr_len) == 0)
            c->addr_family = c->hs->addr.ss_family;
        else
            c->addr_family = AF_UNSPEC;
        start_login(c);
        return f;
    }
    int rc = pick_target(c);
    if (rc < 0) {
        myr__conn_fail(c, MYR_EINVAL, 2002, "socket path too long");
    } else if (rc == 0) {
        start_socket(c);
    } else {
        myr__conn_set_state(c, MYR__CS_RESOLVING);
        c->hs->resolve_job.fn = resolve_host;
        c->hs->resolve_job.arg = c;
        c->hs->resolve_job.done = resolve_done;
        c->job_busy = 1;
        rc = myr__pool_submit(loop, &c->hs->resolve_job);
        if (rc < 0) {
            c->job_busy = 0;
            myr__conn_fail(c, rc, 2005, "Unknown server host '%s': cannot start a lookup", c->opts.host);
        }
    }
    return f;
}

myr_future *myr_connect(myr_loop *loop, const myr_conn_opts *opts)
{
    return connect_common(loop, opts, -1);
}

myr_future *myr__connect_fd(myr_loop *loop, const myr_conn_opts *opts, int fd)
{
    return connect_common(loop, opts, fd);
}

/* ------------------------------------------------------------ accessors */

myr_loop *myr_conn_loop(const myr_conn *c) { return c ? c->loop : NULL; }
const char *myr_conn_server_version(const myr_conn *c) { return c ? c->server_version : ""; }
uint32_t myr_conn_thread_id(const myr_conn *c) { return c ? c->thread_id : 0; }
unsigned myr_conn_server_status(const myr_conn *c) { return c ? c->server_status : 0; }
int myr_conn_alive(const myr_conn *c) { return c != NULL && c->state == MYR__CS_READY && !c->closing; }

/* ------------------------------------------------------------- closing */

void myr_conn_free(myr_conn *c)
{
    /* From another thread or a fork() child the socket and the ring are not
     * ours to touch (shutting the socket down would end the parent's
     * connection): leave it, as myr_loop_free does. */
    if (c == NULL || myr__loop_check(c->loop, NULL) != 0)
        return;
    myr_loop *own = c->own_loop;
    c->closing = 1;
    c->user_owned = 0;
    if (c->state != MYR__CS_DEAD) {
        myr_error e;
        myr__error_set(&e, MYR_ECLOSED, 0, NULL, "connection closed by the application");
        myr__conn_die(c, &e);   /* releases it: closing is set */
    } else {
        myr__conn_release(c);
    }
    if (own != NULL)
        myr_loop_free(own);   /* drains c's operations, then frees c */
}

myr_future *myr_close(myr_conn *c)
{
    myr_error err;
    if (c == NULL) {
        myr__error_set(&err, MYR_EINVAL, 0, NULL, "myr_close on a NULL connection");
        return myr__future_failed(NULL, MYR__FUT_PLAIN, &err);
    }
    if (myr__loop_check(c->loop, &err) != 0)   /* nothing touched: see myr_conn_free */
        return myr__future_failed(NULL, MYR__FUT_PLAIN, &err);
    if (c->own_loop != NULL) {
        /* A private loop goes with its connection: close on it, run it
         * until closed, free it, and hand back a future that is already
         * resolved (with no loop). From a callback of that loop it cannot
         * run: close at once, as myr_conn_free does (it frees the loop when
         * the callback's run_once returns). */
        if (myr__loop_can_block(c->own_loop, NULL) != 0) {
            myr_conn_free(c);
            myr_future *f = myr__future_new(NULL, MYR__FUT_PLAIN);
            myr__future_resolve(f, 0, NULL);
            return f;
        }
        myr_loop *own = c->own_loop;
        c->own_loop = NULL;
        myr_future *cf = myr_close(c);
        int rc = cf ? myr_await(cf, -1) : MYR_ENOMEM;
        if (cf != NULL)
            err = *myr_future_error(cf);
        else
            myr__error_set(&err, MYR_ENOMEM, 0, NULL, "out of memory closing the connection");
        myr_future_free(cf);
        myr_loop_free(own);
        myr_future *f = myr__future_new(NULL, MYR__FUT_PLAIN);
        if (f != NULL)
            myr__future_resolve(f, rc, rc ? &err : NULL);
        return f;
    }
    myr_future *f = myr__future_new(c->loop, MYR__FUT_PLAIN);
    if (f == NULL) {
        myr_conn_free(c);   /* the handle is invalid all the same: close abruptly */
        return NULL;
    }
    c->close_fut = f;
    c->closing = 1;
    c->user_owned = 0;
    if (c->state != MYR__CS_READY) {
        myr__conn_release(c);
        return f;
    }
    if (myr__conn_queue(c, &myr__cmd_quit, NULL, 0, NULL) != 0) {
        /* No COM_QUIT: close abruptly; queued commands must still resolve. */
        myr_error e;
        myr__error_set(&e, MYR_ENOMEM, 0, NULL, "out of memory queueing COM_QUIT: connection closed");
        myr__conn_die(c, &e);   /* releases it: closing is set */
    }
    return f;
}
