/* tests/common/faultproxy.h -- a TCP proxy on loopback that injects faults
 * between a client and a server: bytes dribbled in small writes, delays,
 * and, after byte N of one direction, a reset (RST), a close (FIN) or a
 * stall (that direction stops; the sockets stay open).
 *
 * One proxy is one thread with a poll() loop, forwarding to one upstream
 * address. Each listener (fp_listen) has its own rule and port, so a test
 * gives every case its own port and runs many cases at once on one loop of
 * its own. Free of cmocka: perf programs use it too. */
#ifndef MYR_TEST_FAULTPROXY_H
#define MYR_TEST_FAULTPROXY_H
#include <stddef.h>
#include <stdint.h>

typedef struct fp_proxy fp_proxy;

enum { FP_UP = 0, FP_DOWN = 1 };   /* client -> server, server -> client */
enum fp_action {
    FP_PASS,    /* forward everything */
    FP_RST,     /* after `after` bytes of `dir`: reset the client's socket, close the server's */
    FP_FIN,     /* ... close both (the client gets a FIN) */
    FP_STALL,   /* ... stop forwarding `dir` (nothing more read or written that way) */
};

typedef struct fp_rule {
    enum fp_action action;
    int dir;              /* FP_UP or FP_DOWN: whose bytes `after` counts */
    uint64_t after;       /* bytes of dir forwarded before the action (0 = at accept) */
    unsigned chunk;       /* at most this many bytes per write, both ways (0 = no limit) */
    unsigned delay_us;    /* pause before each write, both ways */
    uint64_t shape_bytes; /* chunk and delay apply to the first shape_bytes of each
                             direction only (0 = to all of them) */
    int record;           /* keep a copy of the first connection's bytes, both ways */
} fp_rule;

/* A proxy to host:port (numeric IPv4). NULL on failure. */
fp_proxy *fp_new(const char *host, int port);
/* Stop the thread, close every socket, free. NULL is fine. */
void fp_free(fp_proxy *p);
/* A new listener on 127.0.0.1 with rule r: returns its port, or -errno. */
int fp_listen(fp_proxy *p, const fp_rule *r);
/* Close a listener and every connection it accepted. */
void fp_unlisten(fp_proxy *p, int port);
/* Connections the listener accepted, and how many met its action. */
unsigned fp_accepted(fp_proxy *p, int port);
unsigned fp_fired(fp_proxy *p, int port);
/* What the listener's connections are doing, for a failing test's message:
 * per connection the bytes forwarded each way, and whether a direction is
 * stalled, a reset waits for the client's acknowledgement (with the bytes
 * it has not acknowledged) or the connection is being drained. */
void fp_state(fp_proxy *p, int port, char *buf, size_t len);
/* The recorded bytes of direction dir (rule.record): a malloc'd copy the
 * caller frees, length in *len. NULL if nothing was recorded. */
uint8_t *fp_recorded(fp_proxy *p, int port, int dir, size_t *len);

#endif
