/* tests/common/faultproxy.c -- see faultproxy.h. One thread, one poll()
 * loop; the mutex guards everything but the poll itself, and a pipe wakes
 * the loop when the test adds or closes a listener. Listeners live until
 * fp_free (their counters stay readable); connections belong to the
 * thread. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "faultproxy.h"

#define FP_BUF 32768

typedef struct fp_listener fp_listener;

typedef struct fp_half {   /* one direction of a connection */
    uint8_t buf[FP_BUF];
    size_t len, off;       /* bytes read, bytes of them written on */
    uint64_t fwd;          /* bytes forwarded so far */
    uint64_t next_at_us;   /* delayed: no write before this */
    int eof, shut, stalled, blocked;
} fp_half;

typedef struct fp_pair {
    struct fp_pair *next;
    fp_listener *l;
    int fd[2];             /* client, server */
    fp_half h[2];          /* h[FP_UP]: client -> server */
    int fired, draining, dead, recording;
    int rst_wait;          /* an RST is due once the client has all that was sent */
} fp_pair;

typedef struct fp_rec {
    uint8_t *data;
    size_t len, cap;
} fp_rec;

struct fp_listener {
    fp_listener *next;
    fp_rule rule;
    int fd, port, closed;
    unsigned accepted, fired;
    int recorded_one;
    fp_rec rec[2];
};

struct fp_proxy {
    pthread_t thread;
    pthread_mutex_t mu;
    int wake[2];
    int stop;
    struct sockaddr_in up;
    fp_listener *listeners;
    fp_pair *pairs;
};

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void pair_close(fp_pair *pr)
{
    close_fd(&pr->fd[0]);
    close_fd(&pr->fd[1]);
    pr->dead = 1;
}

static void record(fp_pair *pr, int dir, const uint8_t *p, size_t n)
{
    fp_rec *r = &pr->l->rec[dir];
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 65536;
        while (cap < r->len + n)
            cap *= 2;
        uint8_t *d = realloc(r->data, cap);
        if (d == NULL)
            return;
        r->data = d;
        r->cap = cap;
    }
    memcpy(r->data + r->len, p, n);
    r->len += n;
}

/* Bytes sent to the client and not yet acknowledged: a reset now would
 * throw them away, and the client would see less than `after` bytes. */
static int client_unacked(const fp_pair *pr)
{
    int n = 0;
    return ioctl(pr->fd[0], SIOCOUTQ, &n) == 0 ? n : 0;
}

static void fire(fp_pair *pr)
{
    const fp_rule *r = &pr->l->rule;
    if (r->action == FP_RST && client_unacked(pr) > 0) {
        pr->rst_wait = 1;   /* the loop fires it when they are */
        return;
    }
    pr->rst_wait = 0;
    pr->fired = 1;
    pr->l->fired++;
    switch (r->action) {
    case FP_RST: {
        struct linger lg = {1, 0};
        setsockopt(pr->fd[0], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        pair_close(pr);
        break;
    }
    case FP_FIN:
        /* A FIN, not the RST close() sends when unread bytes are waiting:
         * shut the write side and read the client out until it closes. */
        shutdown(pr->fd[0], SHUT_WR);
        close_fd(&pr->fd[1]);
        pr->draining = 1;
        break;
    case FP_STALL:
        pr->h[r->dir].stalled = 1;
        break;
    default:
        break;
    }
}

static int pending_fault(const fp_pair *pr, int dir)
{
    const fp_rule *r = &pr->l->rule;
    return r->action != FP_PASS && r->dir == dir && !pr->fired;
}

/* Write what direction dir may forward now. */
static void service(fp_pair *pr, int dir, uint64_t now)
{
    fp_half *h = &pr->h[dir];
    const fp_rule *r = &pr->l->rule;
    int dst = pr->fd[dir == FP_UP ? 1 : 0];
    h->blocked = 0;
    if (pr->rst_wait) {
        fire(pr);
        return;
    }
    while (!pr->dead && !pr->draining && !h->stalled) {
        if (pending_fault(pr, dir) && h->fwd == r->after) {
            fire(pr);
            return;
        }
        size_t n = h->len - h->off;
        if (n == 0)
            break;
        if (pending_fault(pr, dir) && n > r->after - h->fwd)
            n = (size_t)(r->after - h->fwd);
        int shaped = (r->chunk || r->delay_us) && (r->shape_bytes == 0 || h->fwd < r->shape_bytes);
        if (shaped) {
            if (r->delay_us && now < h->next_at_us)
                break;
            if (r->chunk && n > r->chunk)
                n = r->chunk;
            if (r->shape_bytes && n > r->shape_bytes - h->fwd)
                n = (size_t)(r->shape_bytes - h->fwd);
        }
        ssize_t w = send(dst, h->buf + h->off, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                h->blocked = 1;
            else
                pair_close(pr);
            return;
        }
        if (pr->recording)
            record(pr, dir, h->buf + h->off, (size_t)w);
        h->off += (size_t)w;
        h->fwd += (uint64_t)w;
        if (shaped && r->delay_us) {
            h->next_at_us = now + r->delay_us;
            break;
        }
    }
    if (pr->dead || pr->draining)
        return;
    if (h->off == h->len)
        h->len = h->off = 0;
    if (pending_fault(pr, dir) && h->fwd == r->after && !h->stalled) {
        fire(pr);
        return;
    }
    if (h->eof && h->len == 0 && !h->shut) {
        shutdown(dst, SHUT_WR);
        h->shut = 1;
    }
    /* Over when both ways are: shut, or one shut and the other stalled (a
     * stalled connection goes once its peer has hung up). */
    int shut0 = pr->h[0].shut, shut1 = pr->h[1].shut;
    if ((shut0 && shut1) || (shut0 && pr->h[1].stalled) || (shut1 && pr->h[0].stalled))
        pair_close(pr);
}

static void do_read(fp_pair *pr, int dir)
{
    fp_half *h = &pr->h[dir];
    ssize_t n = read(pr->fd[dir == FP_UP ? 0 : 1], h->buf, sizeof h->buf);
    if (n > 0) {
        h->len = (size_t)n;
        h->off = 0;
    } else if (n == 0) {
        h->eof = 1;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        pair_close(pr);
    }
}

static int wants_read(const fp_pair *pr, int dir)
{
    const fp_half *h = &pr->h[dir];
    return !pr->dead && !pr->draining && !pr->rst_wait && !h->eof && !h->stalled && h->len == 0;
}

static void accept_one(fp_proxy *p, fp_listener *l)
{
    int cfd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    int sfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sfd < 0 || connect(sfd, (struct sockaddr *)&p->up, sizeof p->up) != 0) {
        if (sfd >= 0)
            close(sfd);
        close(cfd);
        return;
    }
    fp_pair *pr = calloc(1, sizeof *pr);
    if (pr == NULL) {
        close(sfd);
        close(cfd);
        return;
    }
    set_nonblock(cfd);
    set_nonblock(sfd);
    set_nodelay(cfd);
    set_nodelay(sfd);
    pr->fd[0] = cfd;
    pr->fd[1] = sfd;
    pr->l = l;
    l->accepted++;
    if (l->rule.record && !l->recorded_one) {
        l->recorded_one = 1;
        pr->recording = 1;
    }
    pr->next = p->pairs;
    p->pairs = pr;
}

static void *run(void *arg)
{
    fp_proxy *p = arg;
    struct pollfd *pfd = NULL;
    void **who = NULL;
    size_t cap = 0;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        uint64_t now = now_us();
        /* Connections of closed listeners, and dead ones, go. */
        for (fp_pair **pp = &p->pairs; *pp != NULL;) {
            fp_pair *pr = *pp;
            if (pr->l->closed)
                pair_close(pr);
            if (pr->dead) {
                *pp = pr->next;
                free(pr);
            } else {
                pp = &pr->next;
            }
        }
        size_t need = 1;
        for (fp_listener *l = p->listeners; l != NULL; l = l->next)
            need++;
        for (fp_pair *pr = p->pairs; pr != NULL; pr = pr->next)
            need += 2;
        if (need > cap) {
            cap = need * 2;
            pfd = realloc(pfd, cap * sizeof *pfd);
            who = realloc(who, cap * sizeof *who);
            if (pfd == NULL || who == NULL)
                abort();
        }
        size_t n = 0;
        pfd[n++] = (struct pollfd){.fd = p->wake[0], .events = POLLIN};
        for (fp_listener *l = p->listeners; l != NULL; l = l->next) {
            if (l->closed && l->fd >= 0)
                close_fd(&l->fd);
            if (l->fd < 0)
                continue;
            who[n] = l;
            pfd[n++] = (struct pollfd){.fd = l->fd, .events = POLLIN};
        }
        size_t first_pair = n;
        int timeout = -1;
        for (fp_pair *pr = p->pairs; pr != NULL; pr = pr->next) {
            for (int side = 0; side < 2; side++) {
                /* side 0 (client) is read for UP, written for DOWN. */
                int rd = side == 0 ? FP_UP : FP_DOWN, wr = side == 0 ? FP_DOWN : FP_UP;
                short ev = 0;
                if (pr->fd[side] < 0) {
                    who[n] = pr;
                    pfd[n++] = (struct pollfd){.fd = -1};
                    continue;
                }
                if (wants_read(pr, rd) || (side == 0 && pr->draining))
                    ev |= POLLIN;
                if (pr->h[wr].blocked)
                    ev |= POLLOUT;
                if (pr->rst_wait)
                    timeout = 1;   /* until the client acknowledged everything */
                fp_half *h = &pr->h[wr];
                if (!pr->draining && h->len > h->off && !h->stalled && h->next_at_us > now) {
                    int ms = (int)((h->next_at_us - now + 999) / 1000);
                    if (timeout < 0 || ms < timeout)
                        timeout = ms;
                }
                who[n] = pr;
                pfd[n++] = (struct pollfd){.fd = pr->fd[side], .events = ev};
            }
        }
        pthread_mutex_unlock(&p->mu);
        poll(pfd, n, timeout);
        pthread_mutex_lock(&p->mu);
        if (p->stop)
            break;
        if (pfd[0].revents & POLLIN) {
            char b[64];
            while (read(p->wake[0], b, sizeof b) > 0) {
            }
        }
        for (size_t i = 1; i < first_pair; i++)
            if (pfd[i].revents & POLLIN) {
                fp_listener *l = who[i];
                if (!l->closed)
                    accept_one(p, l);
            }
        now = now_us();
        for (size_t i = first_pair; i + 1 < n; i += 2) {
            fp_pair *pr = who[i];
            if (pr->l->closed)
                continue;
            if (pr->draining) {
                if (pfd[i].revents) {
                    char b[4096];
                    ssize_t r = read(pr->fd[0], b, sizeof b);
                    if (r == 0 || (r < 0 && errno != EAGAIN))
                        pair_close(pr);
                }
                continue;
            }
            short ready_in[2] = {pfd[i].revents, pfd[i + 1].revents};
            for (int dir = 0; dir < 2 && !pr->dead; dir++) {
                int src = dir == FP_UP ? 0 : 1;
                if (wants_read(pr, dir) && (ready_in[src] & (POLLIN | POLLHUP | POLLERR)))
                    do_read(pr, dir);
            }
            for (int dir = 0; dir < 2 && !pr->dead && !pr->draining; dir++)
                service(pr, dir, now);
        }
        /* New connections: their first service (a fault at byte 0); resets
         * waiting for the client's acknowledgement. */
        for (fp_pair *pr = p->pairs; pr != NULL; pr = pr->next)
            if (!pr->dead && !pr->draining && ((pr->h[0].fwd == 0 && pr->h[1].fwd == 0) || pr->rst_wait))
                for (int dir = 0; dir < 2 && !pr->dead && !pr->draining; dir++)
                    service(pr, dir, now);
    }
    for (fp_pair *pr = p->pairs, *next; pr != NULL; pr = next) {
        next = pr->next;
        pair_close(pr);
        free(pr);
    }
    p->pairs = NULL;
    pthread_mutex_unlock(&p->mu);
    free(pfd);
    free(who);
    return NULL;
}

static void wake(fp_proxy *p)
{
    char c = 1;
    if (write(p->wake[1], &c, 1) < 0) {
        /* full pipe: the loop wakes anyway */
    }
}

fp_proxy *fp_new(const char *host, int port)
{
    fp_proxy *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->up.sin_family = AF_INET;
    p->up.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &p->up.sin_addr) != 1 || pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    if (pthread_create(&p->thread, NULL, run, p) != 0) {
        close(p->wake[0]);
        close(p->wake[1]);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    return p;
}

void fp_free(fp_proxy *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_mutex_unlock(&p->mu);
    wake(p);
    pthread_join(p->thread, NULL);
    for (fp_listener *l = p->listeners, *next; l != NULL; l = next) {
        next = l->next;
        close_fd(&l->fd);
        free(l->rec[0].data);
        free(l->rec[1].data);
        free(l);
    }
    close(p->wake[0]);
    close(p->wake[1]);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int fp_listen(fp_proxy *p, const fp_rule *r)
{
    fp_listener *l = calloc(1, sizeof *l);
    if (l == NULL)
        return -ENOMEM;
    l->rule = *r;
    l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(l->fd, 1024) != 0 ||
        getsockname(l->fd, (struct sockaddr *)&a, &alen) != 0) {
        int e = errno;
        close_fd(&l->fd);
        free(l);
        return -e;
    }
    l->port = ntohs(a.sin_port);
    pthread_mutex_lock(&p->mu);
    l->next = p->listeners;
    p->listeners = l;
    pthread_mutex_unlock(&p->mu);
    wake(p);
    return l->port;
}

static fp_listener *find(fp_proxy *p, int port)
{
    for (fp_listener *l = p->listeners; l != NULL; l = l->next)
        if (l->port == port)
            return l;
    return NULL;
}

void fp_unlisten(fp_proxy *p, int port)
{
    pthread_mutex_lock(&p->mu);
    fp_listener *l = find(p, port);
    if (l != NULL)
        l->closed = 1;   /* the thread closes its sockets */
    pthread_mutex_unlock(&p->mu);
    wake(p);
}

unsigned fp_accepted(fp_proxy *p, int port)
{
    pthread_mutex_lock(&p->mu);
    fp_listener *l = find(p, port);
    unsigned n = l ? l->accepted : 0;
    pthread_mutex_unlock(&p->mu);
    return n;
}

unsigned fp_fired(fp_proxy *p, int port)
{
    pthread_mutex_lock(&p->mu);
    fp_listener *l = find(p, port);
    unsigned n = l ? l->fired : 0;
    pthread_mutex_unlock(&p->mu);
    return n;
}

uint8_t *fp_recorded(fp_proxy *p, int port, int dir, size_t *len)
{
    uint8_t *copy = NULL;
    *len = 0;
    pthread_mutex_lock(&p->mu);
    fp_listener *l = find(p, port);
    if (l != NULL && l->rec[dir].len > 0 && (copy = malloc(l->rec[dir].len)) != NULL) {
        memcpy(copy, l->rec[dir].data, l->rec[dir].len);
        *len = l->rec[dir].len;
    }
    pthread_mutex_unlock(&p->mu);
    return copy;
}

void fp_state(fp_proxy *p, int port, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    pthread_mutex_lock(&p->mu);
    for (fp_pair *pr = p->pairs; pr != NULL && n + 1 < len; pr = pr->next) {
        if (pr->l->port != port)
            continue;
        int w = snprintf(buf + n, len - n, "[up %llu%s, down %llu%s%s%s, unacked %d] ",
                         (unsigned long long)pr->h[FP_UP].fwd, pr->h[FP_UP].stalled ? " stalled" : "",
                         (unsigned long long)pr->h[FP_DOWN].fwd, pr->h[FP_DOWN].stalled ? " stalled" : "",
                         pr->rst_wait ? ", reset waiting" : "", pr->draining ? ", draining" : "",
                         pr->fd[0] >= 0 ? client_unacked(pr) : -1);
        if (w < 0)
            break;
        n += (size_t)w < len - n ? (size_t)w : len - n - 1;
    }
    pthread_mutex_unlock(&p->mu);
}
