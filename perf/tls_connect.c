/*
 * perf/tls_connect.c -- connection storms over TLS: N connections opened at
 * once on one loop (connect, greeting, SSLRequest, TLS handshake, login),
 * timed until all are ready, then closed; repeated --rounds times.
 *   plain    no TLS (for scale)
 *   full     TLS, every handshake a full one (MYR_OPT_TLS_RESUME 0)
 *   resumed  TLS, the loop holds a session from one earlier connection, so
 *            every connection resumes it (checked: myr_conn_tls_resumed)
 *   resumed-psk  the same with MYR_OPT_TLS_RESUME_PSK_ONLY (TLS 1.3: no key
 *            exchange in the resumption, no forward secrecy for it)
 * Prints one CSV line per mode:
 *   impl,mode,conns,rounds,seconds,connects_per_s,resumed,cpu_us_per_conn,server_cpu_us_per_conn
 * Target: PERF_HOST/PERF_PORT/... as the other benchmarks (bench_target_env).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <myring.h>

#include "bench.h"

static myr_conn_opts *opts_for(const bench_target *t, const char *mode)
{
    myr_conn_opts *o = myr_conn_opts_new();
    myr_conn_opts_set_str(o, MYR_OPT_HOST, t->host);
    myr_conn_opts_set_int(o, MYR_OPT_PORT, t->port);
    myr_conn_opts_set_str(o, MYR_OPT_USER, t->user);
    myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, t->password);
    if (t->db)
        myr_conn_opts_set_str(o, MYR_OPT_DATABASE, t->db);
    if (strcmp(mode, "plain") == 0) {
        myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_DISABLED);
    } else {
        myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_REQUIRED);
        myr_conn_opts_set_int(o, MYR_OPT_TLS_RESUME, strncmp(mode, "resumed", 7) == 0);
        myr_conn_opts_set_int(o, MYR_OPT_TLS_RESUME_PSK_ONLY, strcmp(mode, "resumed-psk") == 0);
        if (getenv("PERF_TLS_VERSION"))   /* e.g. TLSv1.2 */
            myr_conn_opts_set_str(o, MYR_OPT_TLS_VERSION, getenv("PERF_TLS_VERSION"));
    }
    return o;
}

static int run(const bench_target *t, const char *mode, int conns, int rounds)
{
    myr_loop_opts lo = {.sq_entries = 4096};
    myr_error err;
    myr_loop *loop = myr_loop_new(&lo, &err);
    if (loop == NULL) {
        fprintf(stderr, "tls_connect: %s\n", err.message);
        return 1;
    }
    myr_conn_opts *o = opts_for(t, mode);
    if (strncmp(mode, "resumed", 7) == 0) {   /* one connection leaves its session in the loop */
        myr_conn *c = myr_connect_sync(loop, o, &err);
        if (c == NULL) {
            fprintf(stderr, "tls_connect: warm-up: %s\n", err.message);
            return 1;
        }
        myr_close_sync(c, NULL);
    }
    myr_future **fs = calloc((size_t)conns, sizeof *fs);
    myr_conn **cs = calloc((size_t)conns, sizeof *cs);
    double secs = 0;
    long resumed = 0;
    bench_cpu c0 = bench_cpu_now(), c1;
    for (int r = 0; r < rounds; r++) {
        double t0 = bench_now();
        for (int i = 0; i < conns; i++)
            fs[i] = myr_connect(loop, o);
        myr_gather(fs, (size_t)conns, -1);
        secs += bench_now() - t0;
        for (int i = 0; i < conns; i++) {
            if (myr_future_status(fs[i]) != 0) {
                fprintf(stderr, "tls_connect: %s connect %d: %s\n", mode, i, myr_future_error(fs[i])->message);
                return 1;
            }
            cs[i] = myr_future_take_conn(fs[i]);
            resumed += myr_conn_tls_resumed(cs[i]);
            myr_future_free(fs[i]);
        }
        for (int i = 0; i < conns; i++)
            fs[i] = myr_close(cs[i]);
        myr_gather(fs, (size_t)conns, -1);
        for (int i = 0; i < conns; i++)
            myr_future_free(fs[i]);
    }
    c1 = bench_cpu_now();
    double n = (double)conns * rounds;
    double cpu = (c1.usr - c0.usr) + (c1.sys - c0.sys);
    double srv = (c0.server >= 0 && c1.server >= 0) ? (c1.server - c0.server) : -1;
    printf("myring,%s,%d,%d,%.3f,%.0f,%ld,%.1f,", mode, conns, rounds, secs, n / secs, resumed,
           cpu * 1e6 / n);
    if (srv >= 0)
        printf("%.1f\n", srv * 1e6 / n);
    else
        printf("\n");
    fflush(stdout);
    free(fs);
    free(cs);
    myr_conn_opts_free(o);
    myr_loop_free(loop);
    return 0;
}

int main(int argc, char **argv)
{
    bench_storm_args a = bench_storm_parse(argc, argv, 1000, 3, "plain|full|resumed|resumed-psk");
    int conns = a.conns, rounds = a.rounds, header = a.header;
    const char *only = a.mode;
    bench_target t = bench_target_env();
    if (header)
        printf("impl,mode,conns,rounds,seconds,connects_per_s,resumed,cpu_us_per_conn,server_cpu_us_per_conn\n");
    static const char *const modes[] = {"plain", "full", "resumed", "resumed-psk"};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++)
        if ((only == NULL || strcmp(only, modes[m]) == 0) && run(&t, modes[m], conns, rounds) != 0)
            return 1;
    return 0;
}
