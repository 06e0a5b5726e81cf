/*
 * perf/auth_connect.c -- connect rate by login plugin: N connections opened
 * at once on one loop over plain TCP (no TLS, so the plugin's cost shows),
 * timed until all have logged in, then closed; repeated --rounds times.
 *   native   the sandbox user myr (mysql_native_password)
 *   ed25519  MYR_TEST_ED25519_USER/PASSWORD (client_ed25519: an auth switch
 *            round trip and an Ed25519 signature per login)
 * Prints one CSV line per mode:
 *   impl,mode,conns,rounds,seconds,connects_per_s,cpu_us_per_conn,server_cpu_us_per_conn
 * (client CPU = user+system of this process; server CPU from
 * $PERF_SERVER_PID when set). Target: MYR_TEST_* as the other benchmarks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <myring.h>

#include "bench.h"

static int run(const bench_target *t, const char *mode, int conns, int rounds)
{
    const char *user = t->user, *pw = t->password;
    if (strcmp(mode, "ed25519") == 0) {
        user = getenv("MYR_TEST_ED25519_USER");
        pw = getenv("MYR_TEST_ED25519_PASSWORD");
        if (user == NULL || pw == NULL) {
            fprintf(stderr, "auth_connect: set MYR_TEST_ED25519_USER/PASSWORD (tests/sandbox.sh env)\n");
            return 1;
        }
    }
    myr_loop_opts lo = {.sq_entries = 4096};
    myr_error err;
    myr_loop *loop = myr_loop_new(&lo, &err);
    if (loop == NULL) {
        fprintf(stderr, "auth_connect: %s\n", err.message);
        return 1;
    }
    myr_conn_opts *o = myr_conn_opts_new();
    myr_conn_opts_set_str(o, MYR_OPT_HOST, t->host);
    myr_conn_opts_set_int(o, MYR_OPT_PORT, t->port);
    myr_conn_opts_set_str(o, MYR_OPT_USER, user);
    myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, pw);
    myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_DISABLED);
    myr_future **fs = calloc((size_t)conns, sizeof *fs);
    myr_conn **cs = calloc((size_t)conns, sizeof *cs);
    double secs = 0;
    bench_cpu c0 = bench_cpu_now(), c1;
    for (int r = 0; r < rounds; r++) {
        double t0 = bench_now();
        for (int i = 0; i < conns; i++)
            fs[i] = myr_connect(loop, o);
        myr_gather(fs, (size_t)conns, -1);
        secs += bench_now() - t0;
        for (int i = 0; i < conns; i++) {
            if (myr_future_status(fs[i]) != 0) {
                fprintf(stderr, "auth_connect: %s connect %d: %s\n", mode, i, myr_future_error(fs[i])->message);
                return 1;
            }
            cs[i] = myr_future_take_conn(fs[i]);
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
    printf("myring,%s,%d,%d,%.3f,%.0f,%.1f,", mode, conns, rounds, secs, n / secs, cpu * 1e6 / n);
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
    bench_storm_args a = bench_storm_parse(argc, argv, 200, 5, "native|ed25519");
    int conns = a.conns, rounds = a.rounds, header = a.header;
    const char *only = a.mode;
    bench_target t = bench_target_env();
    if (header)
        printf("impl,mode,conns,rounds,seconds,connects_per_s,cpu_us_per_conn,server_cpu_us_per_conn\n");
    static const char *const modes[] = {"native", "ed25519"};
    for (int m = 0; m < 2; m++)
        if ((only == NULL || strcmp(only, modes[m]) == 0) && run(&t, modes[m], conns, rounds) != 0)
            return 1;
    return 0;
}
