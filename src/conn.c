/*
 * src/conn.c -- the connection: its lifetime, its I/O with the engine (one
 * send and one recv in flight at most), the connect sequence up to the
 * greeting, and death (every queued future resolves with an error).
 * The handshake/auth states live in conn_auth.c, commands in conn_cmd.c.
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
#define MYR__RECV_MIN 16384
/* The largest packet accepted from a server: what the login announces. */
#define MYR__MAX_PACKET 0x40000000u

static const char *const state_names[MYR__CS__LAST] = {
    "RESOLVING", "SOCKET", "CONNECTING", "GREETING", "AUTH", "READY", "DEAD",
};

void myr__conn_set_state(myr_conn *c, myr__conn_state s)
{
#ifdef MYR_TRACE_STATES
    fprintf(stderr, "myring: conn %p %s -> %s\n", (void *)c, state_names[c->state], state_names[s]);
#else
    (void)state_names;
#endif
    c->state = (uint8_t)s;
}

/* ---------------------------------------------------------------- freeing */

static void conn_on_release(ur_owner *o)
{
    myr_conn *c = (myr_conn *)o;
    if (c->fd >= 0) {
        close(c->fd);   /* no op of ours is in flight any more */
        c->fd = -1;
    }
    c->released = 1;
    if (c->job_busy)
        return;   /* the resolver job frees it when it comes back */
    myr_future *close_fut = c->close_fut;
    myr__buf_reset(&c->out);
    myr__buf_reset(&c->sending);
    myr__buf_reset(&c->in);
    myr__loop_buf_give(c->loop, &c->out);
    myr__loop_buf_give(c->loop, &c->sending);
    myr__loop_buf_give(c->loop, &c->in);
    myr__pkt_reader_free(&c->reader);
    myr__opts_clear(&c->opts);
    myr__free(c->death);
    myr__free(c);
    if (close_fut != NULL)
        myr__future_resolve(close_fut, 0, NULL);
}

static void unlink_conn(myr_conn *c)
{
    myr_loop *loop = c->loop;
    if (c->loop_prev)
        c->loop_prev->loop_next = c->loop_next;
    else if (loop->conns == c)
        loop->conns = c->loop_next;
    if (c->loop_next)
        c->loop_next->loop_prev = c->loop_prev;
    c->loop_next = c->loop_prev = NULL;
    if (c->dirty) {
        for (myr_conn **pp = &loop->dirty; *pp; pp = &(*pp)->dirty_next)
            if (*pp == c) {
                *pp = c->dirty_next;
                break;
            }
        c->dirty = 0;
    }
}

/* Nobody needs c any more: free it once the kernel is done with it. */
void myr__conn_release(myr_conn *c)
{
    if (c->release_requested)
        return;
    c->release_requested = 1;
    ur_timer_stop(c->loop->ur, &c->timer);
    unlink_conn(c);
    if (c->loop->ticking) {
        c->release_next = c->loop->releasing;
        c->loop->releasing = c;
    } else {
        ur_owner_release(&c->owner);
    }
}

/* ------------------------------------------------------------------ death */

static void fail_cmds(myr_conn *c, const myr_error *err)
{
    while (c->cmd_head != NULL) {
        myr__cmd *cmd = c->cmd_head;
        c->cmd_head = cmd->next;
        if (c->cmd_head == NULL)
            c->cmd_tail = NULL;
        c->ncmds--;
        myr_future *f = cmd->fut;
        if (f != NULL && f->kind == MYR__FUT_RESULT) {
            f->val.result = cmd->head;   /* partial results stay readable */
            cmd->head = NULL;
        }
        myr_result_free(cmd->head);
        cmd->head = cmd->tail = NULL;
        cmd->next = NULL;
        if (f == NULL)
            myr__free(cmd);   /* COM_QUIT's own record */
        myr__future_resolve(f, err->code, err);
    }
}

void myr__conn_die(myr_conn *c, const myr_error *err)
{
    if (c->state == MYR__CS_DEAD)
        return;
    myr__conn_set_state(c, MYR__CS_DEAD);
    c->dead_once = 1;
    c->death = myr__strdup(err->message);
    ur_timer_stop(c->loop->ur, &c->timer);
    if (c->send_busy)
        ur_cancel(c->loop->ur, c->send_id);
    if (c->recv_busy)
        ur_cancel(c->loop->ur, c->recv_id);
    if (c->fd >= 0)
        shutdown(c->fd, SHUT_RDWR);   /* wakes anything still waiting on it */
    myr_future *cf = c->connect_fut;
    c->connect_fut = NULL;
    fail_cmds(c, err);
    if (cf != NULL) {
        /* Nobody ever had this connection: it goes with its connect. */
        myr__conn_release(c);
        myr__future_resolve(cf, err->code, err);
    } else if (c->closing) {
        myr__conn_release(c);
    }
    /* A user-owned connection waits for myr_conn_free/myr_close. */
}

void myr__conn_fail(myr_conn *c, int code, unsigned mysql_errno, const char *fmt, ...)
{
    myr_error e;
    char msg[sizeof e.message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    myr__error_set(&e, code, mysql_errno, NULL, "%s", msg);
    myr__conn_die(c, &e);
}

/* The connection ended under us: which error that is depends on the stage. */
static void conn_lost(myr_conn *c, int err)
{
    if (c->state < MYR__CS_GREETING)
        return;   /* handled by the connect path */
    const char *why = err ? strerror(err) : "connection closed by the server";
    if (c->state == MYR__CS_GREETING)
        myr__conn_fail(c, MYR_ECONNLOST, 2013,
                       "Lost connection to server at 'reading initial communication packet' (%s)", why);
    else if (c->state == MYR__CS_AUTH)
        myr__conn_fail(c, MYR_ECONNLOST, 2013,
                       "Lost connection to server at 'reading authorization packet' (%s)", why);
    else if (c->ncmds > 0)
        myr__conn_fail(c, MYR_ECONNLOST, 2013, "Lost connection to server during query (%s)", why);
    else
        myr__conn_fail(c, MYR_EGONE, 2006, "Server has gone away (%s)", why);
}

/* ------------------------------------------------------------------- I/O */

static int expects_input(const myr_conn *c)
{
    if (c->state == MYR__CS_GREETING || c->state == MYR__CS_AUTH)
        return 1;
    return c->state == MYR__CS_READY && c->cmd_head != NULL && c->cmd_head->com != MYR__COM_QUIT;
}

static void arm_recv(myr_conn *c)
{
    if (c->recv_busy || c->state == MYR__CS_DEAD || c->release_requested || !expects_input(c))
        return;
    size_t want = MYR__RECV_MIN;
    size_t unread = myr__buf_unread(&c->in);
    if (c->need > unread && c->need - unread > want)
        want = c->need - unread;
    if (c->in.rpos == c->in.len)
        myr__buf_reset(&c->in);
    if (myr__loop_buf_take(c->loop, &c->in) != 0 || myr__buf_reserve(&c->in, want) != 0) {
        myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory for a %zu-byte receive buffer", want);
        return;
    }
    size_t room = c->in.cap - c->in.len;
    int rc = ur_recv(&c->owner, MYR__TAG_RECV, c->fd, c->in.data + c->in.len, room, 0, &c->recv_id);
    if (rc < 0) {
        myr__conn_fail(c, rc == -ENOMEM ? MYR_ENOMEM : rc, 2008, "cannot queue a receive: %s",
                       myr_strerror(rc));
        return;
    }
    c->recv_busy = 1;
    if (c->opts.read_timeout_ms > 0 && c->state == MYR__CS_READY)
        ur_timer_start(c->loop->ur, &c->timer,
                       ur_now_ns() + (uint64_t)c->opts.read_timeout_ms * 1000000u);
}

static void start_send(myr_conn *c)
{
    if (c->send_busy || c->state == MYR__CS_DEAD || c->release_requested)
        return;
    if (myr__buf_unread(&c->sending) == 0) {
        if (myr__buf_unread(&c->out) == 0)
            return;
        /* Everything queued so far leaves in this one send. */
        myr__buf tmp = c->sending;
        myr__buf_reset(&tmp);
        c->sending = c->out;
        c->out = tmp;
    }
    int rc = ur_send(&c->owner, MYR__TAG_SEND, c->fd, myr__buf_rptr(&c->sending),
                     myr__buf_unread(&c->sending), MSG_WAITALL | MSG_NOSIGNAL, &c->send_id);
    if (rc < 0) {
        myr__conn_fail(c, rc == -ENOMEM ? MYR_ENOMEM : rc, 2008, "cannot queue a send: %s",
                       myr_strerror(rc));
        return;
    }
    c->send_busy = 1;
}

void myr__conn_flush(myr_conn *c)
{
    start_send(c);
    arm_recv(c);
}

void myr__conn_kick(myr_conn *c)
{
    myr__loop_mark_dirty(c->loop, c);
}

static void on_send(myr_conn *c, int res)
{
    c->send_busy = 0;
    if (c->state == MYR__CS_DEAD)
        return;
    if (res < 0) {
        conn_lost(c, -res);
        return;
    }
    c->sending.rpos += (size_t)res;
    c->sent_pos += (uint64_t)res;
    if (myr__buf_unread(&c->sending) == 0) {
        myr__buf_reset(&c->sending);
        /* An idle connection keeps no send buffer; a busy one keeps up to 64 KiB. */
        if (c->ncmds == 0 || c->sending.cap > (1u << 16))
            myr__loop_buf_give(c->loop, &c->sending);
    }
    myr__conn_check_quit(c);
    if (c->state != MYR__CS_DEAD && !c->release_requested)
        myr__conn_kick(c);
}

static void on_recv(myr_conn *c, int res)
{
    c->recv_busy = 0;
    if (c->state == MYR__CS_DEAD)
        return;
    if (res <= 0) {
        conn_lost(c, res < 0 ? -res : 0);
        return;
    }
    c->in.len += (size_t)res;
    while (c->state != MYR__CS_DEAD && !c->release_requested) {
        c->in.rpos += myr__conn_rows(c, myr__buf_rptr(&c->in), myr__buf_unread(&c->in));
        if (c->state == MYR__CS_DEAD)
            return;
        const uint8_t *payload;
        size_t plen, need = 0;
        long n = myr__pkt_next(&c->reader, myr__buf_rptr(&c->in), myr__buf_unread(&c->in), &payload,
                               &plen, &need);
        if (n < 0) {
            if (n == MYR_ENOMEM)
                myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory joining a large packet");
            else
                myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (bad sequence id)");
            return;
        }
        if (n == 0) {
            c->need = need;
            break;
        }
        c->in.rpos += (size_t)n;
        if (payload != NULL)
            myr__conn_packet(c, payload, plen);
        else if (c->reader.join.len > MYR__MAX_PACKET) {
            myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (larger than %u bytes)",
                           MYR__MAX_PACKET);
            return;
        }
    }
    if (c->state == MYR__CS_DEAD || c->release_requested)
        return;
    if (c->in.rpos == c->in.len)
        myr__buf_reset(&c->in);
    if (c->ncmds == 0 && c->state == MYR__CS_READY) {
        ur_timer_stop(c->loop->ur, &c->timer);
        /* An idle connection holds no I/O buffer: all go back to the loop
         * (each give is a no-op unless the buffer is empty). */
        myr__loop_buf_give(c->loop, &c->in);
        myr__loop_buf_give(c->loop, &c->out);
        if (!c->send_busy)
            myr__loop_buf_give(c->loop, &c->sending);
    }
    arm_recv(c);
}

/* ------------------------------------------------------------ connecting */

static void on_timer(ur_timer *t)
{
    myr_conn *c = (myr_conn *)((char *)t - offsetof(myr_conn, timer));
    if (c->state < MYR__CS_READY)
        myr__conn_fail(c, MYR_ETIMEDOUT, 2003, "Can't connect to server on '%s' (%d): connect timeout",
                       c->opts.host ? c->opts.host : "localhost", ETIMEDOUT);
    else
        myr__conn_fail(c, MYR_ETIMEDOUT, 2013,
                       "Lost connection to server during query (read timeout after %d ms)",
                       c->opts.read_timeout_ms);
}

static void connect_failed(myr_conn *c, int err)
{
    if (c->addr_family == AF_UNIX)
        myr__conn_fail(c, MYR_EUNIXSOCK, 2002, "Can't connect to local server through socket '%s' (%d)",
                       c->opts.unix_socket ? c->opts.unix_socket : MYR__DEFAULT_SOCKET, err);
    else
        myr__conn_fail(c, MYR_ECONNECT, 2003, "Can't connect to server on '%s' (%d)",
                       c->opts.host ? c->opts.host : "localhost", err);
}

static void start_socket(myr_conn *c)
{
    myr__conn_set_state(c, MYR__CS_SOCKET);
    int rc = ur_socket(&c->owner, MYR__TAG_SOCKET, c->addr_family, SOCK_STREAM | SOCK_CLOEXEC, 0, NULL);
    if (rc < 0)
        connect_failed(c, -rc);
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
    int rc = ur_connect(&c->owner, MYR__TAG_CONNECT, c->fd, (struct sockaddr *)&c->addr, c->addr_len, NULL);
    if (rc < 0)
        connect_failed(c, -rc);
}

static void on_connect(myr_conn *c, int res)
{
    if (c->state == MYR__CS_DEAD)
        return;
    if (res < 0) {
        connect_failed(c, -res);
        return;
    }
    myr__conn_set_state(c, MYR__CS_GREETING);
    arm_recv(c);
}

static void conn_complete(ur_owner *o, uint32_t tag, int res, uint32_t flags)
{
    (void)flags;
    myr_conn *c = (myr_conn *)o;
    switch (tag) {
    case MYR__TAG_SOCKET: on_socket(c, res); break;
    case MYR__TAG_CONNECT: on_connect(c, res); break;
    case MYR__TAG_SEND: on_send(c, res); break;
    case MYR__TAG_RECV: on_recv(c, res); break;
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
    memcpy(&c->addr, res->ai_addr, res->ai_addrlen);
    c->addr_len = res->ai_addrlen;
    c->addr_family = res->ai_family;
    freeaddrinfo(res);
    return NULL;
}

static void resolve_done(myr__job *job)
{
    myr_conn *c = (myr_conn *)((char *)job - offsetof(myr_conn, resolve_job));
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
        ((struct sockaddr_in *)&c->addr)->sin_port = htons((uint16_t)c->opts.port);
    else
        ((struct sockaddr_in6 *)&c->addr)->sin6_port = htons((uint16_t)c->opts.port);
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
        struct sockaddr_un *un = (struct sockaddr_un *)&c->addr;
        if (strlen(path) >= sizeof un->sun_path)
            return MYR_EINVAL;
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, path);
        c->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
        c->addr_family = AF_UNIX;
        return 0;
    }
    const char *host = o->host ? o->host : "127.0.0.1";
    struct sockaddr_in *in4 = (struct sockaddr_in *)&c->addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&c->addr;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)o->port);
        c->addr_len = sizeof *in4;
        c->addr_family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)o->port);
        c->addr_len = sizeof *in6;
        c->addr_family = AF_INET6;
        return 0;
    }
    return 1;   /* a name: look it up */
}

static myr_conn *conn_new(myr_loop *loop, const myr_conn_opts *opts)
{
    myr_conn *c = myr__calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    if (myr__opts_copy(&c->opts, opts) != 0) {
        myr__free(c);
        return NULL;
    }
    c->loop = loop;
    c->fd = -1;
    ur_owner_init(&c->owner, loop->ur, conn_complete, conn_on_release);
    ur_timer_init(&c->timer, on_timer);
    myr__pkt_reader_init(&c->reader);
    c->loop_next = loop->conns;
    if (loop->conns)
        loop->conns->loop_prev = c;
    loop->conns = c;
    return c;
}

static myr_future *connect_common(myr_loop *loop, const myr_conn_opts *opts, int fd)
{
    myr_future *f = loop ? myr__future_new(loop, MYR__FUT_CONNECT) : NULL;
    if (f == NULL) {
        if (fd >= 0)
            close(fd);   /* ours (myr__connect_fd), even when we fail */
        return NULL;
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
        c->addr_family = AF_UNIX;
        myr__conn_set_state(c, MYR__CS_GREETING);
        myr__conn_kick(c);
        return f;
    }
    int rc = pick_target(c);
    if (rc < 0) {
        myr__conn_fail(c, MYR_EINVAL, 2002, "socket path too long");
    } else if (rc == 0) {
        start_socket(c);
    } else {
        myr__conn_set_state(c, MYR__CS_RESOLVING);
        c->resolve_job.fn = resolve_host;
        c->resolve_job.arg = c;
        c->resolve_job.done = resolve_done;
        c->job_busy = 1;
        rc = myr__pool_submit(loop, &c->resolve_job);
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
uint32_t myr_conn_thread_id(const myr_conn *c) { return c ? c->greeting.thread_id : 0; }
unsigned myr_conn_server_status(const myr_conn *c) { return c ? c->server_status : 0; }
int myr_conn_alive(const myr_conn *c) { return c != NULL && c->state == MYR__CS_READY && !c->closing; }

/* ------------------------------------------------------------- closing */

void myr_conn_free(myr_conn *c)
{
    if (c == NULL)
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
    if (c == NULL)
        return NULL;
    if (c->own_loop != NULL) {
        /* A private loop goes with its connection: close synchronously and
         * hand back a future that is already resolved. */
        myr_error err;
        int rc = myr_close_sync(c, &err);
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
    if (myr__conn_queue_quit(c) != 0) {
        /* No COM_QUIT: close abruptly; queued commands must still resolve. */
        myr_error e;
        myr__error_set(&e, MYR_ENOMEM, 0, NULL, "out of memory queueing COM_QUIT: connection closed");
        myr__conn_die(c, &e);   /* releases it: closing is set */
    }
    return f;
}

/* After the COM_QUIT at the head of the queue has left, the socket closes. */
void myr__conn_check_quit(myr_conn *c)
{
    myr__cmd *head = c->cmd_head;
    if (head == NULL || head->com != MYR__COM_QUIT || c->sent_pos < head->end_pos)
        return;
    c->cmd_head = NULL;
    c->cmd_tail = NULL;
    c->ncmds = 0;
    myr__free(head);
    myr__conn_set_state(c, MYR__CS_DEAD);
    myr__conn_release(c);
}

void myr__loop_release_deferred(myr_loop *loop)
{
    while (loop->releasing != NULL) {
        myr_conn *c = loop->releasing;
        loop->releasing = c->release_next;
        ur_owner_release(&c->owner);
    }
}
