/*
 * perf/peers/tls_connect_mariadb.c -- perf/tls_connect.c with libmariadb:
 * N connections opened at once on one thread with the non-blocking API
 * (mysql_real_connect_start/_cont driven by poll()), timed until all are
 * logged in, then closed; repeated --rounds times.
 *   plain  no TLS (for scale)
 *   full   TLS required (MYSQL_OPT_SSL_ENFORCE, certificate not verified, as
 *          myring's REQUIRED): every handshake a full one, since libmariadb
 *          keeps no TLS session between connections (no "resumed" mode)
 * Prints the CSV line of perf/tls_connect.c:
 *   impl,mode,conns,rounds,seconds,connects_per_s,resumed,cpu_us_per_conn,server_cpu_us_per_conn
 */
#include <errno.h>
#include <mysql.h>
#include <poll.h>

#include "../bench.h"
#include "mdb_poll.h"

typedef struct tc {
    MYSQL *m;
    int status;   /* MYSQL_WAIT_* while connecting, 0 when done */
    int ok;
} tc;

static bench_target T;

/* Start c's connect; 1 while it waits on its socket. */
static int start(tc *c, int tls)
{
    MYSQL *ret = NULL;
    c->m = mysql_init(NULL);
    c->ok = 0;
    mysql_options(c->m, MYSQL_OPT_NONBLOCK, 0);
    my_bool on = 1, off = 0;
    if (tls) {
        mysql_options(c->m, MYSQL_OPT_SSL_ENFORCE, &on);
        mysql_options(c->m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &off);
        if (getenv("PERF_SSL_CA"))   /* a CA file instead of the system's store */
            mysql_options(c->m, MYSQL_OPT_SSL_CA, getenv("PERF_SSL_CA"));
    }
    c->status = mysql_real_connect_start(&ret, c->m, T.host, T.user, T.password, T.db,
                                         (unsigned)T.port, NULL, 0);
    if (c->status)
        return 1;
    c->ok = ret != NULL;
    return 0;
}

static int cont(tc *c, int ready)
{
    MYSQL *ret = NULL;
    c->status = mysql_real_connect_cont(&ret, c->m, ready);
    if (c->status)
        return 1;
    c->ok = ret != NULL;
    return 0;
}

static int run(const char *mode, int n, int rounds)
{
    int tls = strcmp(mode, "full") == 0;
    tc *cs = calloc((size_t)n, sizeof *cs);
    struct pollfd *pfd = calloc((size_t)n, sizeof *pfd);
    int *idx = calloc((size_t)n, sizeof *idx);
    double secs = 0;
    bench_cpu c0 = bench_cpu_now(), c1;
    for (int r = 0; r < rounds; r++) {
        double t0 = bench_now();
        int busy = 0;
        for (int i = 0; i < n; i++)
            busy += start(&cs[i], tls);
        while (busy > 0) {
            int np = 0;
            for (int i = 0; i < n; i++)
                if (cs[i].status) {
                    pfd[np].fd = mysql_get_socket(cs[i].m);
                    pfd[np].events = mdb_poll_events(cs[i].status);
                    pfd[np].revents = 0;
                    idx[np++] = i;
                }
            int rc = poll(pfd, (nfds_t)np, 1000);
            if (rc < 0 && errno != EINTR) {
                perror("poll");
                return 1;
            }
            for (int k = 0; k < np && rc > 0; k++)
                if (pfd[k].revents != 0 && cont(&cs[idx[k]], mdb_ready_status(pfd[k].revents)) == 0)
                    busy--;
        }
        secs += bench_now() - t0;
        for (int i = 0; i < n; i++) {
            if (!cs[i].ok) {
                fprintf(stderr, "tls_connect_mariadb: %s connect %d: %u %s\n", mode, i,
                        mysql_errno(cs[i].m), mysql_error(cs[i].m));
                return 1;
            }
            if (tls && mysql_get_ssl_cipher(cs[i].m) == NULL) {
                fprintf(stderr, "tls_connect_mariadb: connect %d is not over TLS\n", i);
                return 1;
            }
        }
        for (int i = 0; i < n; i++)
            mysql_close(cs[i].m);
    }
    c1 = bench_cpu_now();
    double total = (double)n * rounds;
    double cpu = (c1.usr - c0.usr) + (c1.sys - c0.sys);
    double srv = (c0.server >= 0 && c1.server >= 0) ? (c1.server - c0.server) : -1;
    printf("libmariadb,%s,%d,%d,%.3f,%.0f,0,%.1f,", mode, n, rounds, secs, total / secs,
           cpu * 1e6 / total);
    if (srv >= 0)
        printf("%.1f\n", srv * 1e6 / total);
    else
        printf("\n");
    fflush(stdout);
    free(cs);
    free(pfd);
    free(idx);
    return 0;
}

int main(int argc, char **argv)
{
    bench_storm_args a = bench_storm_parse(argc, argv, 1000, 3, "plain|full");
    int conns = a.conns, rounds = a.rounds, header = a.header;
    const char *only = a.mode;
    T = bench_target_env();
    mysql_library_init(0, NULL, NULL);
    if (header)
        printf("impl,mode,conns,rounds,seconds,connects_per_s,resumed,cpu_us_per_conn,server_cpu_us_per_conn\n");
    static const char *const modes[] = {"plain", "full"};
    int rc = 0;
    for (int m = 0; m < 2 && rc == 0; m++)
        if (only == NULL || strcmp(only, modes[m]) == 0)
            rc = run(modes[m], conns, rounds);
    mysql_library_end();
    return rc;
}
