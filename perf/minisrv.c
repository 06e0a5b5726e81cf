/*
 * perf/minisrv.c -- a minimal MySQL-protocol server, as cheap as possible, so
 * that a benchmark's client is the bottleneck. One thread, epoll, level-
 * triggered. It accepts any login (v10 greeting with mysql_native_password,
 * reads the handshake response, replies OK) and answers:
 *   COM_QUERY "SET ..." / "USE ..."               OK
 *   COM_QUERY containing "seq_1_to_<N>"           N rows x 3 columns
 *                                                 (seq, seq*2, CONCAT('row',seq))
 *   any other COM_QUERY                           one row, one column: 1
 *   COM_PING, COM_INIT_DB, COM_RESET_CONNECTION,
 *   anything else                                 OK
 *   COM_QUIT                                      close
 * Answers are precomputed buffers (per row count, with and without
 * CLIENT_DEPRECATE_EOF); pipelined commands are answered with one write.
 *
 * Usage: perf_minisrv [--port P] [--max-seconds S]   (port 0 = any free port)
 * Prints "minisrv listening on 127.0.0.1:<port>" on stdout once ready; exits
 * on SIGTERM/SIGINT or after --max-seconds (default 3600).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CAP_LONG_PASSWORD 0x1u
#define CAP_FOUND_ROWS 0x2u
#define CAP_LONG_FLAG 0x4u
#define CAP_CONNECT_WITH_DB 0x8u
#define CAP_PROTOCOL_41 0x200u
#define CAP_TRANSACTIONS 0x2000u
#define CAP_SECURE_CONNECTION 0x8000u
#define CAP_MULTI_STATEMENTS 0x10000u
#define CAP_MULTI_RESULTS 0x20000u
#define CAP_PS_MULTI_RESULTS 0x40000u
#define CAP_PLUGIN_AUTH 0x80000u
#define CAP_CONNECT_ATTRS 0x100000u
#define CAP_PLUGIN_AUTH_LENENC 0x200000u
#define CAP_DEPRECATE_EOF 0x1000000u

#define SERVER_CAPS                                                                                \
    (CAP_LONG_PASSWORD | CAP_FOUND_ROWS | CAP_LONG_FLAG | CAP_CONNECT_WITH_DB | CAP_PROTOCOL_41 | \
     CAP_TRANSACTIONS | CAP_SECURE_CONNECTION | CAP_MULTI_STATEMENTS | CAP_MULTI_RESULTS |        \
     CAP_PS_MULTI_RESULTS | CAP_PLUGIN_AUTH | CAP_CONNECT_ATTRS | CAP_PLUGIN_AUTH_LENENC |         \
     CAP_DEPRECATE_EOF)
#define STATUS_AUTOCOMMIT 0x0002

/* ------------------------------------------------------------ byte buffers */

typedef struct buf {
    unsigned char *p;
    size_t len, cap, off;   /* off: bytes already consumed/sent */
} buf;

static void buf_reserve(buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more)
        cap *= 2;
    b->p = realloc(b->p, cap);
    if (b->p == NULL) {
        perror("minisrv: realloc");
        exit(1);
    }
    b->cap = cap;
}

static void put(buf *b, const void *d, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void put1(buf *b, unsigned v) { unsigned char c = (unsigned char)v; put(b, &c, 1); }
static void put2(buf *b, unsigned v) { put1(b, v & 0xff); put1(b, (v >> 8) & 0xff); }
static void put4(buf *b, uint32_t v) { put2(b, v & 0xffff); put2(b, v >> 16); }

static void put_lenenc(buf *b, uint64_t v)
{
    if (v < 251) {
        put1(b, (unsigned)v);
    } else if (v < 65536) {
        put1(b, 0xfc);
        put2(b, (unsigned)v);
    } else if (v < 16777216) {
        put1(b, 0xfd);
        put2(b, (unsigned)(v & 0xffff));
        put1(b, (unsigned)(v >> 16));
    } else {
        put1(b, 0xfe);
        put4(b, (uint32_t)v);
        put4(b, (uint32_t)(v >> 32));
    }
}

static void put_lenstr(buf *b, const char *s, size_t n)
{
    put_lenenc(b, n);
    put(b, s, n);
}

/* Packets: start reserves the 4-byte header, end fills it in. Payloads here
 * stay far below 16 MiB. */
static size_t pkt_start(buf *b)
{
    size_t at = b->len;
    buf_reserve(b, 4);
    b->len += 4;
    return at;
}

static void pkt_end(buf *b, size_t at, unsigned seq)
{
    size_t n = b->len - at - 4;
    b->p[at] = (unsigned char)(n & 0xff);
    b->p[at + 1] = (unsigned char)((n >> 8) & 0xff);
    b->p[at + 2] = (unsigned char)((n >> 16) & 0xff);
    b->p[at + 3] = (unsigned char)(seq & 0xff);
}

static void put_ok(buf *b, unsigned seq, unsigned header)
{
    size_t at = pkt_start(b);
    put1(b, header);   /* 0x00, or 0xfe for the OK that ends a result set */
    put_lenenc(b, 0);
    put_lenenc(b, 0);
    put2(b, STATUS_AUTOCOMMIT);
    put2(b, 0);
    pkt_end(b, at, seq);
}

static void put_eof(buf *b, unsigned seq)
{
    size_t at = pkt_start(b);
    put1(b, 0xfe);
    put2(b, 0);
    put2(b, STATUS_AUTOCOMMIT);
    pkt_end(b, at, seq);
}

static void put_coldef(buf *b, unsigned seq, const char *name, unsigned charset, uint32_t length,
                       unsigned type, unsigned flags)
{
    size_t at = pkt_start(b);
    put_lenstr(b, "def", 3);
    put_lenstr(b, "", 0);
    put_lenstr(b, "", 0);
    put_lenstr(b, "", 0);
    put_lenstr(b, name, strlen(name));
    put_lenstr(b, "", 0);
    put1(b, 0x0c);
    put2(b, charset);
    put4(b, length);
    put1(b, type);
    put2(b, flags);
    put1(b, 0);
    put2(b, 0);
    pkt_end(b, at, seq);
}

/* ------------------------------------------------------- canned answers */

typedef struct answer {
    long rows;        /* -1: SELECT 1 */
    int deprecate_eof;
    buf b;
} answer;

#define MAX_ANSWERS 16
static answer g_answers[MAX_ANSWERS];
static int g_nanswers;

static const buf *answer_for(long rows, int deprecate_eof)
{
    for (int i = 0; i < g_nanswers; i++)
        if (g_answers[i].rows == rows && g_answers[i].deprecate_eof == deprecate_eof)
            return &g_answers[i].b;
    answer *a = &g_answers[g_nanswers < MAX_ANSWERS ? g_nanswers++ : MAX_ANSWERS - 1];
    free(a->b.p);
    memset(a, 0, sizeof *a);
    a->rows = rows;
    a->deprecate_eof = deprecate_eof;
    buf *b = &a->b;
    unsigned seq = 1;
    size_t at = pkt_start(b);
    if (rows < 0) {
        put_lenenc(b, 1);
        pkt_end(b, at, seq++);
        put_coldef(b, seq++, "1", 63, 1, 8 /* LONGLONG */, 0x8081 /* NOT_NULL|BINARY|NUM */);
        if (!deprecate_eof)
            put_eof(b, seq++);
        at = pkt_start(b);
        put_lenstr(b, "1", 1);
        pkt_end(b, at, seq++);
    } else {
        put_lenenc(b, 3);
        pkt_end(b, at, seq++);
        put_coldef(b, seq++, "seq", 63, 20, 8, 0x80a1 /* NOT_NULL|UNSIGNED|BINARY|NUM */);
        put_coldef(b, seq++, "seq*2", 63, 21, 8, 0x80a1);
        put_coldef(b, seq++, "CONCAT('row',seq)", 45, 92, 253 /* VAR_STRING */, 0x1 /* NOT_NULL */);
        if (!deprecate_eof)
            put_eof(b, seq++);
        for (long r = 1; r <= rows; r++) {
            char v[3][32];
            int n0 = snprintf(v[0], sizeof v[0], "%ld", r);
            int n1 = snprintf(v[1], sizeof v[1], "%ld", 2 * r);
            int n2 = snprintf(v[2], sizeof v[2], "row%ld", r);
            at = pkt_start(b);
            put_lenstr(b, v[0], (size_t)n0);
            put_lenstr(b, v[1], (size_t)n1);
            put_lenstr(b, v[2], (size_t)n2);
            pkt_end(b, at, seq++);
        }
    }
    if (deprecate_eof)
        put_ok(b, seq, 0xfe);
    else
        put_eof(b, seq);
    return b;
}

/* ------------------------------------------------------------ connections */

typedef struct conn {
    int fd;
    int authed;
    int want_out;         /* EPOLLOUT registered */
    uint32_t client_caps;
    buf in, out;
} conn;

static int g_ep;
static volatile sig_atomic_t g_stop;
static uint32_t g_next_id = 1;

static void conn_close(conn *c)
{
    epoll_ctl(g_ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in.p);
    free(c->out.p);
    free(c);
}

static void greet(conn *c)
{
    buf *b = &c->out;
    size_t at = pkt_start(b);
    static const char ver[] = "5.5.5-10.11.0-minisrv";
    static const char scramble[21] = "abcdefghijklmnopqrst";
    put1(b, 10);
    put(b, ver, sizeof ver);
    put4(b, g_next_id++);
    put(b, scramble, 8);
    put1(b, 0);
    put2(b, SERVER_CAPS & 0xffff);
    put1(b, 45);   /* utf8mb4_general_ci */
    put2(b, STATUS_AUTOCOMMIT);
    put2(b, SERVER_CAPS >> 16);
    put1(b, 21);
    static const unsigned char zero[10] = {0};
    put(b, zero, 10);
    put(b, scramble + 8, 12);
    put1(b, 0);
    put(b, "mysql_native_password", sizeof "mysql_native_password");
    pkt_end(b, at, 0);
}

/* Send what is queued; keep the rest for EPOLLOUT. Returns -1 if the peer
 * is gone. */
static int flush_out(conn *c)
{
    while (c->out.off < c->out.len) {
        ssize_t n = send(c->fd, c->out.p + c->out.off, c->out.len - c->out.off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -1;
        }
        c->out.off += (size_t)n;
    }
    int pending = c->out.off < c->out.len;
    if (!pending)
        c->out.off = c->out.len = 0;
    if (pending != c->want_out) {
        struct epoll_event ev = {.events = EPOLLIN | (pending ? EPOLLOUT : 0), .data.ptr = c};
        epoll_ctl(g_ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_out = pending;
    }
    return 0;
}

static long seq_rows(const unsigned char *q, size_t n)
{
    static const char key[] = "seq_1_to_";
    const unsigned char *hit = memmem(q, n, key, sizeof key - 1);
    if (hit == NULL)
        return -1;
    size_t i = (size_t)(hit - q) + sizeof key - 1;
    long v = 0;
    while (i < n && q[i] >= '0' && q[i] <= '9' && v < 100000000)
        v = v * 10 + (q[i++] - '0');
    return v;
}

static int starts_with_ci(const unsigned char *q, size_t n, const char *w)
{
    size_t i = 0;
    while (i < n && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n'))
        i++;
    size_t k = strlen(w);
    if (n - i < k)
        return 0;
    for (size_t j = 0; j < k; j++)
        if ((q[i + j] | 0x20) != (w[j] | 0x20))
            return 0;
    return n - i == k || q[i + k] == ' ' || q[i + k] == '\t' || q[i + k] == '\n';
}

/* Handle every complete packet in c->in. Returns -1 to close. */
static int handle_input(conn *c)
{
    size_t pos = c->in.off;
    int quit = 0;
    while (!quit && c->in.len - pos >= 4) {
        const unsigned char *h = c->in.p + pos;
        size_t plen = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16;
        unsigned seq = h[3];
        if (c->in.len - pos - 4 < plen)
            break;
        const unsigned char *pl = h + 4;
        pos += 4 + plen;
        if (!c->authed) {
            if (plen >= 4)
                c->client_caps = (uint32_t)pl[0] | (uint32_t)pl[1] << 8 | (uint32_t)pl[2] << 16 |
                                 (uint32_t)pl[3] << 24;
            c->authed = 1;
            put_ok(&c->out, seq + 1, 0x00);
            continue;
        }
        if (plen == 0) {
            put_ok(&c->out, seq + 1, 0x00);
            continue;
        }
        switch (pl[0]) {
        case 0x01:   /* COM_QUIT */
            quit = 1;
            break;
        case 0x03: { /* COM_QUERY */
            const unsigned char *q = pl + 1;
            size_t qn = plen - 1;
            if (starts_with_ci(q, qn, "SET") || starts_with_ci(q, qn, "USE")) {
                put_ok(&c->out, 1, 0x00);
            } else {
                const buf *a = answer_for(seq_rows(q, qn), (c->client_caps & CAP_DEPRECATE_EOF) != 0);
                put(&c->out, a->p, a->len);
            }
            break;
        }
        default:     /* COM_PING, COM_INIT_DB, COM_RESET_CONNECTION, ... */
            put_ok(&c->out, seq + 1, 0x00);
            break;
        }
    }
    /* Drop what was consumed. */
    if (pos == c->in.len) {
        c->in.len = c->in.off = 0;
    } else if (pos > 0) {
        memmove(c->in.p, c->in.p + pos, c->in.len - pos);
        c->in.len -= pos;
        c->in.off = 0;
    }
    if (flush_out(c) < 0 || quit)
        return -1;
    return 0;
}

static void on_readable(conn *c)
{
    for (;;) {
        buf_reserve(&c->in, 16384);
        ssize_t n = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len, 0);
        if (n > 0) {
            c->in.len += (size_t)n;
            if (c->in.len < c->in.cap)   /* drained the socket */
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        conn_close(c);   /* EOF or error */
        return;
    }
    if (handle_input(c) < 0)
        conn_close(c);
}

static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

int main(int argc, char **argv)
{
    int port = 0;
    double max_seconds = 3600;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--max-seconds") == 0)
            max_seconds = atof(argv[i + 1]);
        else {
            fprintf(stderr, "usage: %s [--port P] [--max-seconds S]\n", argv[0]);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) {
        perror("minisrv: bind/listen");
        return 1;
    }
    socklen_t al = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &al);
    g_ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(g_ep, EPOLL_CTL_ADD, ls, &ev);
    printf("minisrv listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
    fflush(stdout);

    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct epoll_event evs[256];
    while (!g_stop) {
        int n = epoll_wait(g_ep, evs, 256, 1000);
        if (n < 0 && errno != EINTR) {
            perror("minisrv: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (c == NULL) {   /* the listener */
                for (;;) {
                    int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0)
                        break;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    c = calloc(1, sizeof *c);
                    c->fd = fd;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &cev);
                    greet(c);
                    if (flush_out(c) < 0)
                        conn_close(c);
                }
                continue;
            }
            if (evs[i].events & EPOLLOUT) {
                if (flush_out(c) < 0) {
                    conn_close(c);
                    continue;
                }
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                on_readable(c);
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 > max_seconds)
            break;
    }
    return 0;
}
