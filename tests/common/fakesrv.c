/* tests/common/fakesrv.c -- the scripted fake server (see fakesrv.h). */
#include "fakesrv.h"

#include <errno.h>
#include <linux/sockios.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

const uint8_t fs_scramble_a[20] = "0123456789abcdefghij";
const uint8_t fs_scramble_b[20] = "KLMNOPQRST!#$%&()*+,";

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) {
        fprintf(stderr, "fakesrv: out of memory\n");
        abort();
    }
    return q;
}

/* ------------------------------------------------------------ byte buffers */

void fs_buf_free(fs_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void fs_buf_add(fs_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
            cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

void fs_buf_u8(fs_buf *b, uint8_t v) { fs_buf_add(b, &v, 1); }
void fs_buf_u16(fs_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    fs_buf_add(b, x, 2);
}
void fs_buf_u24(fs_buf *b, uint32_t v)
{
    uint8_t x[3] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16)};
    fs_buf_add(b, x, 3);
}
void fs_buf_u32(fs_buf *b, uint32_t v)
{
    fs_buf_u16(b, (uint16_t)v);
    fs_buf_u16(b, (uint16_t)(v >> 16));
}

void fs_buf_lenenc(fs_buf *b, uint64_t v)
{
    if (v < 251) {
        fs_buf_u8(b, (uint8_t)v);
    } else if (v < 0x10000) {
        fs_buf_u8(b, 0xFC);
        fs_buf_u16(b, (uint16_t)v);
    } else if (v < 0x1000000) {
        fs_buf_u8(b, 0xFD);
        fs_buf_u24(b, (uint32_t)v);
    } else {
        fs_buf_u8(b, 0xFE);
        fs_buf_u32(b, (uint32_t)v);
        fs_buf_u32(b, (uint32_t)(v >> 32));
    }
}

void fs_buf_lenenc_str(fs_buf *b, const void *s, size_t n)
{
    fs_buf_lenenc(b, n);
    fs_buf_add(b, s, n);
}

/* ---------------------------------------------------------- packet builders */

void fs_pkt(fs_buf *b, uint8_t *seq, const void *payload, size_t len)
{
    const uint8_t *p = payload;
    for (;;) {
        size_t n = len < 0xFFFFFF ? len : 0xFFFFFF;
        fs_buf_u24(b, (uint32_t)n);
        fs_buf_u8(b, (*seq)++);
        fs_buf_add(b, p, n);
        p += n;
        len -= n;
        if (n < 0xFFFFFF)
            break;   /* a full frame is followed by another, maybe empty */
    }
}

static void put_payload(fs_buf *b, uint8_t *seq, fs_buf *payload)
{
    fs_pkt(b, seq, payload->data, payload->len);
    fs_buf_free(payload);
}

void fs_greeting(fs_buf *b, uint8_t *seq, uint32_t caps, const char *plugin,
                 const uint8_t scramble[20], uint32_t thread_id)
{
    fs_buf p = {0};
    static const char version[] = "5.5.5-10.11.6-MariaDB";
    fs_buf_u8(&p, 0x0a);
    fs_buf_add(&p, version, sizeof version);   /* with its NUL */
    fs_buf_u32(&p, thread_id);
    fs_buf_add(&p, scramble, 8);
    fs_buf_u8(&p, 0);
    fs_buf_u16(&p, (uint16_t)caps);
    fs_buf_u8(&p, 45);                         /* utf8mb4_general_ci */
    fs_buf_u16(&p, FS_STATUS_AUTOCOMMIT);
    fs_buf_u16(&p, (uint16_t)(caps >> 16));
    fs_buf_u8(&p, 21);
    static const uint8_t zeros[10];
    fs_buf_add(&p, zeros, 10);
    fs_buf_add(&p, scramble + 8, 12);
    fs_buf_u8(&p, 0);
    fs_buf_add(&p, plugin, strlen(plugin) + 1);
    put_payload(b, seq, &p);
}

void fs_ok(fs_buf *b, uint8_t *seq, uint64_t affected, uint64_t insert_id, uint16_t status,
           uint16_t warnings, const char *info)
{
    fs_buf p = {0};
    fs_buf_u8(&p, 0x00);
    fs_buf_lenenc(&p, affected);
    fs_buf_lenenc(&p, insert_id);
    fs_buf_u16(&p, status);
    fs_buf_u16(&p, warnings);
    if (info)
        fs_buf_add(&p, info, strlen(info));
    put_payload(b, seq, &p);
}

void fs_ok_eof(fs_buf *b, uint8_t *seq, uint16_t status, uint16_t warnings)
{
    fs_buf p = {0};
    fs_buf_u8(&p, 0xFE);
    fs_buf_lenenc(&p, 0);
    fs_buf_lenenc(&p, 0);
    fs_buf_u16(&p, status);
    fs_buf_u16(&p, warnings);
    put_payload(b, seq, &p);
}

void fs_eof(fs_buf *b, uint8_t *seq, uint16_t warnings, uint16_t status)
{
    fs_buf p = {0};
    fs_buf_u8(&p, 0xFE);
    fs_buf_u16(&p, warnings);
    fs_buf_u16(&p, status);
    put_payload(b, seq, &p);
}

void fs_err(fs_buf *b, uint8_t *seq, uint16_t code, const char *sqlstate, const char *msg)
{
    fs_buf p = {0};
    fs_buf_u8(&p, 0xFF);
    fs_buf_u16(&p, code);
    if (sqlstate) {
        fs_buf_u8(&p, '#');
        fs_buf_add(&p, sqlstate, 5);
    }
    fs_buf_add(&p, msg, strlen(msg));
    put_payload(b, seq, &p);
}

void fs_colcount(fs_buf *b, uint8_t *seq, uint64_t n)
{
    fs_buf p = {0};
    fs_buf_lenenc(&p, n);
    put_payload(b, seq, &p);
}

void fs_coldef(fs_buf *b, uint8_t *seq, const char *name, uint8_t type)
{
    fs_buf p = {0};
    fs_buf_lenenc_str(&p, "def", 3);
    fs_buf_lenenc_str(&p, "db", 2);
    fs_buf_lenenc_str(&p, "t", 1);
    fs_buf_lenenc_str(&p, "t", 1);
    fs_buf_lenenc_str(&p, name, strlen(name));
    fs_buf_lenenc_str(&p, name, strlen(name));
    fs_buf_u8(&p, 0x0c);
    fs_buf_u16(&p, 45);        /* charset */
    fs_buf_u32(&p, 255);       /* length */
    fs_buf_u8(&p, type);
    fs_buf_u16(&p, 0);         /* flags */
    fs_buf_u8(&p, 0);          /* decimals */
    fs_buf_u16(&p, 0);         /* filler */
    put_payload(b, seq, &p);
}

void fs_row(fs_buf *b, uint8_t *seq, size_t n, const char *const *vals, const size_t *lens)
{
    fs_buf p = {0};
    for (size_t i = 0; i < n; i++) {
        if (vals[i] == NULL)
            fs_buf_u8(&p, 0xFB);
        else
            fs_buf_lenenc_str(&p, vals[i], lens ? lens[i] : strlen(vals[i]));
    }
    put_payload(b, seq, &p);
}

void fs_resultset(fs_buf *b, uint8_t *seq, int deprecate_eof, size_t ncols,
                  const char *const *names, size_t nrows, const char *const *cells, uint16_t status)
{
    fs_colcount(b, seq, ncols);
    for (size_t i = 0; i < ncols; i++)
        fs_coldef(b, seq, names[i], 253 /* VAR_STRING */);
    if (!deprecate_eof)
        fs_eof(b, seq, 0, status & (uint16_t)~FS_STATUS_MORE_RESULTS);
    for (size_t r = 0; r < nrows; r++)
        fs_row(b, seq, ncols, cells + r * ncols, NULL);
    if (deprecate_eof)
        fs_ok_eof(b, seq, status, 0);
    else
        fs_eof(b, seq, 0, status);
}

void fs_auth_switch(fs_buf *b, uint8_t *seq, const char *plugin, const uint8_t data[20])
{
    fs_buf p = {0};
    fs_buf_u8(&p, 0xFE);
    fs_buf_add(&p, plugin, strlen(plugin) + 1);
    fs_buf_add(&p, data, 20);
    fs_buf_u8(&p, 0);
    put_payload(b, seq, &p);
}

/* ----------------------------------------------------- the client's packets */

static int get_cstr(const uint8_t *p, size_t len, size_t *pos, char *out, size_t outsz)
{
    const uint8_t *nul = memchr(p + *pos, 0, len - *pos);
    if (nul == NULL)
        return -1;
    size_t n = (size_t)(nul - (p + *pos));
    if (n >= outsz)
        return -1;
    memcpy(out, p + *pos, n);
    out[n] = '\0';
    *pos += n + 1;
    return 0;
}

int fs_parse_login(const uint8_t *p, size_t len, fs_login *l)
{
    memset(l, 0, sizeof *l);
    if (len < 32)
        return -1;
    l->caps = myr__u32(p);
    l->max_packet = myr__u32(p + 4);
    l->charset = p[8];
    size_t pos = 32;
    if (get_cstr(p, len, &pos, l->user, sizeof l->user))
        return -1;
    uint64_t alen;
    if (l->caps & (1u << 21)) {   /* PLUGIN_AUTH_LENENC_DATA */
        size_t n = myr__lenenc_int(p + pos, len - pos, &alen);
        if (n == 0)
            return -1;
        pos += n;
    } else if (l->caps & (1u << 15)) {   /* SECURE_CONNECTION */
        if (pos >= len)
            return -1;
        alen = p[pos++];
    } else {
        return -1;
    }
    if (alen > sizeof l->auth || alen > len - pos)
        return -1;
    memcpy(l->auth, p + pos, (size_t)alen);
    l->auth_len = (size_t)alen;
    pos += (size_t)alen;
    if ((l->caps & (1u << 3)) && get_cstr(p, len, &pos, l->db, sizeof l->db))
        return -1;
    if ((l->caps & (1u << 19)) && get_cstr(p, len, &pos, l->plugin, sizeof l->plugin))
        return -1;
    return 0;
}

/* --------------------------------------------------------------- the server */

enum { ST_SEND, ST_EXPECT, ST_CLOSE, ST_EOF, ST_DRAIN };

typedef struct step {
    int kind;
    uint8_t *data;
    size_t len;
    int seq, first;
} step;

typedef struct rx_pkt {
    uint8_t *data;
    size_t len;
    uint8_t seq;
    unsigned read_no;
} rx_pkt;

struct fakesrv {
    step *steps;
    size_t nsteps, steps_cap;
    int bytewise;
    int tcp;
    size_t cut;
    int fd, client_fd;
    pthread_t thread;
    int started;
    /* results */
    int completed;
    char err[256];
    rx_pkt *pkts;
    size_t npkts, pkts_cap;
    /* receive state (server thread) */
    uint8_t *in;
    size_t in_len, in_cap;
    unsigned reads;
    size_t sent;
    int closed;
};

fakesrv *fs_new(void)
{
    fakesrv *s = calloc(1, sizeof *s);
    if (s == NULL)
        abort();
    s->fd = s->client_fd = -1;
    s->cut = SIZE_MAX;
    return s;
}

static step *add_step(fakesrv *s, int kind)
{
    if (s->nsteps == s->steps_cap) {
        s->steps_cap = s->steps_cap ? s->steps_cap * 2 : 16;
        s->steps = xrealloc(s->steps, s->steps_cap * sizeof *s->steps);
    }
    step *st = &s->steps[s->nsteps++];
    memset(st, 0, sizeof *st);
    st->kind = kind;
    st->seq = st->first = -1;
    return st;
}

void fs_send(fakesrv *s, const void *data, size_t len)
{
    step *st = add_step(s, ST_SEND);
    st->data = xrealloc(NULL, len);
    if (len)
        memcpy(st->data, data, len);
    st->len = len;
}

void fs_send_buf(fakesrv *s, fs_buf *b)
{
    step *st = add_step(s, ST_SEND);
    st->data = b->data;
    st->len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
}

void fs_expect(fakesrv *s, int seq, int first_byte)
{
    step *st = add_step(s, ST_EXPECT);
    st->seq = seq;
    st->first = first_byte;
}

void fs_close(fakesrv *s) { add_step(s, ST_CLOSE); }
void fs_expect_eof(fakesrv *s) { add_step(s, ST_EOF); }
void fs_drain(fakesrv *s) { add_step(s, ST_DRAIN); }
void fs_set_bytewise(fakesrv *s, int on) { s->bytewise = on; }
void fs_set_cut(fakesrv *s, size_t bytes) { s->cut = bytes; }
void fs_set_tcp(fakesrv *s, int on) { s->tcp = on; }

/* A connected TCP pair over 127.0.0.1 (an ephemeral port, listened on only
 * until the one connection is accepted). 0 or -1. */
static int tcp_pair(int sv[2])
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int c = -1, one = 1;
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 1) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &alen) != 0)
        goto fail;
    c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) != 0)
        goto fail;
    sv[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (sv[0] < 0)
        goto fail;
    close(l);
    setsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sv[1] = c;
    return 0;
fail:
    if (c >= 0)
        close(c);
    close(l);
    return -1;
}

static void srv_fail(fakesrv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void srv_fail(fakesrv *s, const char *fmt, ...)
{
    if (s->err[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
}

/* Hang up: the client sees EOF (and EPIPE on writes). The descriptor
 * itself is closed after the thread is joined, so that fs_join_timeout can
 * always shut it down safely. */
static void srv_close(fakesrv *s)
{
    if (!s->closed && s->fd >= 0)
        shutdown(s->fd, SHUT_RDWR);
    s->closed = 1;
}

/* Wait (bounded) until the client has read everything we wrote. */
static void wait_drained(fakesrv *s)
{
    for (int i = 0; i < 20000; i++) {
        int outq = 0;
        if (ioctl(s->fd, SIOCOUTQ, &outq) != 0 || outq == 0)
            return;
        sched_yield();
    }
}

/* -1: the peer is gone or the cut was reached (the script ends). A send
 * that ends exactly at the cut succeeds; the next one closes. */
static int srv_write(fakesrv *s, const uint8_t *p, size_t len)
{
    while (len > 0) {
        size_t n = len;
        if (s->bytewise)
            n = 1;
        if (s->cut != SIZE_MAX && s->cut - s->sent < n)
            n = s->cut - s->sent;
        if (n == 0) {   /* cut reached */
            srv_close(s);
            return -1;
        }
        ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            srv_fail(s, "send: %s", w < 0 ? strerror(errno) : "0 bytes");
            return -1;
        }
        p += w;
        len -= (size_t)w;
        s->sent += (size_t)w;
        if (s->bytewise)
            wait_drained(s);
    }
    return 0;
}

/* Read more input. 1 = got bytes, 0 = EOF, -1 = error. */
static int srv_read(fakesrv *s)
{
    if (s->in_cap - s->in_len < 65536) {
        s->in_cap = s->in_cap ? s->in_cap * 2 : 131072;
        s->in = xrealloc(s->in, s->in_cap);
    }
    for (;;) {
        ssize_t r = recv(s->fd, s->in + s->in_len, s->in_cap - s->in_len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno == ECONNRESET ? 0 : -1;
        if (r == 0)
            return 0;
        s->reads++;
        s->in_len += (size_t)r;
        return 1;
    }
}

/* Next logical packet into *out. 0 ok, -1 EOF/error (message set). */
static int srv_recv_packet(fakesrv *s, rx_pkt *out)
{
    fs_buf payload = {0};
    int first = 1;
    memset(out, 0, sizeof *out);
    for (;;) {
        while (s->in_len < 4 || s->in_len < 4 + myr__u24(s->in)) {
            int r = srv_read(s);
            if (r <= 0) {
                srv_fail(s, "expected a packet, got %s", r == 0 ? "EOF" : strerror(errno));
                fs_buf_free(&payload);
                return -1;
            }
        }
        size_t n = myr__u24(s->in);
        if (first)
            out->seq = s->in[3];
        first = 0;
        fs_buf_add(&payload, s->in + 4, n);
        memmove(s->in, s->in + 4 + n, s->in_len - 4 - n);
        s->in_len -= 4 + n;
        if (n < 0xFFFFFF)
            break;
    }
    out->read_no = s->reads;
    out->data = payload.data ? payload.data : xrealloc(NULL, 1);
    out->len = payload.len;
    return 0;
}

static void run_script(fakesrv *s)
{
    for (size_t i = 0; i < s->nsteps; i++) {
        step *st = &s->steps[i];
        switch (st->kind) {
        case ST_SEND:
            if (srv_write(s, st->data, st->len) != 0)
                return;   /* cut: a planned end; else an error is recorded */
            break;
        case ST_EXPECT: {
            rx_pkt pk;
            if (srv_recv_packet(s, &pk) != 0) {
                srv_fail(s, "step %zu: no packet", i);
                return;
            }
            if (s->npkts == s->pkts_cap) {
                s->pkts_cap = s->pkts_cap ? s->pkts_cap * 2 : 16;
                s->pkts = xrealloc(s->pkts, s->pkts_cap * sizeof *s->pkts);
            }
            s->pkts[s->npkts++] = pk;
            if (st->seq >= 0 && pk.seq != st->seq) {
                srv_fail(s, "step %zu: sequence id %u, expected %d", i, pk.seq, st->seq);
                return;
            }
            if (st->first >= 0 && (pk.len == 0 || pk.data[0] != st->first)) {
                srv_fail(s, "step %zu: first byte 0x%02x, expected 0x%02x", i,
                         pk.len ? pk.data[0] : 0, st->first);
                return;
            }
            break;
        }
        case ST_CLOSE:
            srv_close(s);
            s->completed = 1;   /* the script's planned end */
            return;
        case ST_EOF:
            if (s->in_len > 0) {
                srv_fail(s, "step %zu: %zu unexpected bytes before EOF", i, s->in_len);
                return;
            }
            for (;;) {
                int r = srv_read(s);
                if (r == 0)
                    break;
                srv_fail(s, "step %zu: %s instead of EOF", i, r > 0 ? "data" : strerror(errno));
                return;
            }
            break;
        case ST_DRAIN:
            while (srv_read(s) > 0)
                s->in_len = 0;
            s->in_len = 0;
            break;
        }
    }
    s->completed = 1;
}

static void *srv_thread(void *arg)
{
    fakesrv *s = arg;
    run_script(s);
    srv_close(s);
    return NULL;
}

int fs_start(fakesrv *s)
{
    int sv[2];
    if (s->tcp ? tcp_pair(sv) != 0 : socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return -1;
    s->fd = sv[0];
    s->client_fd = sv[1];
    if (pthread_create(&s->thread, NULL, srv_thread, s) != 0) {
        close(sv[0]);
        close(sv[1]);
        s->fd = s->client_fd = -1;
        return -1;
    }
    s->started = 1;
    return sv[1];
}

int fs_join(fakesrv *s)
{
    if (s->started) {
        pthread_join(s->thread, NULL);
        s->started = 0;
    }
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    if (!s->completed && !s->err[0])
        snprintf(s->err, sizeof s->err, "script ended early (closed or cut)");
    return s->completed ? 0 : -1;
}

int fs_join_timeout(fakesrv *s, int timeout_ms)
{
    if (s->started) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += timeout_ms / 1000;
        ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (pthread_timedjoin_np(s->thread, NULL, &ts) != 0) {
            /* Still blocked on the socket: wake it so that it ends. */
            int fd = s->fd;
            if (fd >= 0)
                shutdown(fd, SHUT_RDWR);
            pthread_join(s->thread, NULL);
            s->started = 0;
            close(s->fd);
            s->fd = -1;
            snprintf(s->err, sizeof s->err, "timed out: the client kept the socket open");
            return -2;
        }
        s->started = 0;
    }
    return fs_join(s);
}

const char *fs_error(const fakesrv *s) { return s->err[0] ? s->err : "no error"; }
size_t fs_npackets(const fakesrv *s) { return s->npkts; }
const uint8_t *fs_packet(const fakesrv *s, size_t i, size_t *len)
{
    if (i >= s->npkts)
        return NULL;
    if (len)
        *len = s->pkts[i].len;
    return s->pkts[i].data;
}
uint8_t fs_packet_seq(const fakesrv *s, size_t i) { return i < s->npkts ? s->pkts[i].seq : 0; }
unsigned fs_packet_read_no(const fakesrv *s, size_t i) { return i < s->npkts ? s->pkts[i].read_no : 0; }

void fs_free(fakesrv *s)
{
    if (s == NULL)
        return;
    fs_join(s);
    for (size_t i = 0; i < s->nsteps; i++)
        free(s->steps[i].data);
    for (size_t i = 0; i < s->npkts; i++)
        free(s->pkts[i].data);
    free(s->steps);
    free(s->pkts);
    free(s->in);
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}

/* ------------------------------------------------- client-side conveniences */

void fs_script_handshake(fakesrv *s, uint32_t caps, const char *plugin, const uint8_t scramble[20])
{
    fs_buf b = {0};
    uint8_t seq = 0;
    fs_greeting(&b, &seq, caps, plugin, scramble, 42);
    fs_send_buf(s, &b);
    fs_expect(s, 1, -1);
    seq = 2;
    fs_ok(&b, &seq, 0, 0, FS_STATUS_AUTOCOMMIT, 0, NULL);
    fs_send_buf(s, &b);
}

myr_conn_opts *fs_opts(const char *user, const char *password)
{
    myr_conn_opts *o = myr_conn_opts_new();
    if (o == NULL)
        return NULL;
    if (user && myr_conn_opts_set_str(o, MYR_OPT_USER, user) != 0) {
        myr_conn_opts_free(o);
        return NULL;
    }
    if (password && myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, password) != 0) {
        myr_conn_opts_free(o);
        return NULL;
    }
    return o;
}

void fs_count_cb(myr_future *f, void *arg)
{
    (void)f;
    (*(int *)arg)++;
}

myr_future *fs_connect(myr_loop *loop, const myr_conn_opts *o, fakesrv *s, int *count)
{
    int fd = fs_start(s);
    if (fd < 0)
        return NULL;
    s->client_fd = -1;   /* the connection owns it now */
    myr_future *f = myr__connect_fd(loop, o, fd);
    if (f != NULL && count != NULL)
        myr_future_on_done(f, fs_count_cb, count);
    return f;
}

myr_loop *fs_loop(void)
{
    myr_error e;
    myr_loop *loop = myr_loop_new(NULL, &e);
    if (loop == NULL) {
        fprintf(stderr, "fakesrv: cannot create a loop: %s\n", e.message);
        abort();
    }
    return loop;
}

myr_conn *fs_connect_ok(myr_loop *loop, fakesrv *s, const myr_conn_opts *o, int wait_ms)
{
    myr_conn_opts *own = o ? NULL : fs_opts("bob", "secret");
    int n = 0;
    myr_future *cf = fs_connect(loop, o ? o : own, s, &n);
    myr_conn_opts_free(own);
    int rc = cf ? myr_await(cf, wait_ms) : MYR_ENOMEM;
    myr_conn *c = rc == 0 ? myr_future_take_conn(cf) : NULL;
    if (c == NULL || n != 1) {
        fprintf(stderr, "fakesrv: connect failed (%d, %d callbacks): %s\n", rc, n,
                cf ? myr_future_error(cf)->message : "no future");
        abort();
    }
    myr_future_free(cf);
    return c;
}
