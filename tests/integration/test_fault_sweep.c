/* tests/integration/test_fault_sweep.c -- faults between the library and
 * the sandbox, through tests/common/faultproxy: a reset, a close or a stall
 * after byte N of either direction, N swept over the greeting, the login,
 * a result's header, column definitions, rows and terminator, a >16 MiB
 * row (server to client) and a >16 MiB query (client to server); and bytes
 * dribbled or delayed (nothing may fail). All cases run at once on one
 * loop (a sliding window), beside clean connections that keep querying.
 *
 * Each case asserts: it ends in bounded time (stalls end by the login
 * timeout, MYR_OPT_READ_TIMEOUT, or MYR_OPT_QUERY_TIMEOUT whose KILL'd
 * command is then never drained, ended by the read timeout), with the error
 * its stage calls for (2013 lost connection, with MYR_ECONNLOST for a cut
 * and MYR_ETIMEDOUT for a stall, and a message naming the stage), the
 * queries before the fault with their right results, the connection dead
 * after a failure (a new command fails at once with 2006), every callback
 * called exactly once; the clean connections never see an error. ASan
 * checks the leaks. The byte positions come from a recorded clean run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "faultproxy.h"
#include "sandbox_env.h"

#define BIG 17000000u            /* > 16 MiB: two packets on the wire */
#define MAXPKT 0xFFFFFFu
#define LOGIN_MS 2000
#define READ_MS 1500
#define QUERY_MS 2000
#define QUERY_READ_MS 3500
#define SAFETY_READ_MS 20000     /* cases without a stall: only against a hang */
#define WINDOW 48                /* cases at once */
#define BIG_WINDOW 6             /* of them, with a >16 MiB packet */
#define NCLEAN 8
#define RUN_LIMIT_MS 180000

enum { S_SMALL, S_BIGDOWN, S_BIGUP };
enum { T_CUT, T_READ, T_QUERY };          /* how a case is bounded */
enum { STAGE_GREETING = -2, STAGE_AUTH = -1 };

static const char Q1[] = "SELECT seq, REPEAT('r', seq * 10) FROM seq_1_to_6";
static const char Q2[] = "SELECT REPEAT('b', 17000000)";
static char *q3;                 /* SELECT LENGTH('aaa...') with BIG a's */
static size_t q3_len;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------- layout */

/* Where things are in the two byte streams of a script. */
typedef struct layout {
    size_t greet_end, auth_end;           /* down */
    size_t hs_end;                        /* up: the handshake response */
    size_t resp_start[2], resp_end[2];    /* down, per query */
    size_t q_end[2];                      /* up, per query */
    /* down, first query: header, column definitions, rows, terminator */
    size_t hdr, col[2], col_end, row[6], row_end, term;
    /* down, the big row (S_BIGDOWN) */
    size_t big_row;
} layout;

typedef struct pkt {
    size_t start, end;   /* logical packet: first header .. last byte */
    uint8_t first;
    size_t len;          /* logical payload length */
} pkt;

/* Cut a stream into logical packets (a 0xFFFFFF payload goes on). */
static size_t packets(const uint8_t *s, size_t n, pkt *out, size_t max)
{
    size_t k = 0, pos = 0;
    while (pos + 4 <= n && k < max) {
        pkt p = {.start = pos, .first = pos + 4 < n ? s[pos + 4] : 0};
        for (;;) {
            size_t len = s[pos] | (size_t)s[pos + 1] << 8 | (size_t)s[pos + 2] << 16;
            assert_true(pos + 4 + len <= n);
            pos += 4 + len;
            p.len += len;
            if (len < MAXPKT)
                break;
        }
        p.end = pos;
        out[k++] = p;
    }
    assert_int_equal(pos, n);
    return k;
}

static int is_term(const pkt *p)
{
    return p->first == 0xFE && p->len < MAXPKT;
}

/* Down: greeting, login, then per query header, columns, [EOF], rows,
 * terminator. Up: the handshake response, then the queries. */
static void parse(const uint8_t *down, size_t dn, const uint8_t *up, size_t un, size_t nq, layout *L)
{
    static pkt p[64];
    size_t k = packets(down, dn, p, 64), i = 0;
    L->greet_end = p[i++].end;
    while (p[i].first != 0x00)
        i++;
    L->auth_end = p[i++].end;
    for (size_t q = 0; q < nq; q++) {
        L->resp_start[q] = p[i].start;
        size_t ncols = p[i].first;
        if (q == 0)
            L->hdr = p[i].start;
        i++;
        for (size_t c = 0; c < ncols; c++, i++)
            if (q == 0 && c < 2)
                L->col[c] = p[i].start;
        if (q == 0)
            L->col_end = p[i].start;
        if (is_term(&p[i]))
            i++;   /* the EOF after the columns (no CLIENT_DEPRECATE_EOF) */
        size_t r = 0;
        if (q == 1)
            L->big_row = p[i].start;
        while (!is_term(&p[i])) {
            if (q == 0 && r < 6)
                L->row[r] = p[i].start;
            r++;
            i++;
        }
        if (q == 0) {
            assert_int_equal(r, 6);
            L->row_end = p[i - 1].end;
            L->term = p[i].start;
        }
        L->resp_end[q] = p[i].end;
        i++;
    }
    assert_int_equal(i, k);
    k = packets(up, un, p, 64);
    assert_int_equal(k, 1 + nq);
    L->hs_end = p[0].end;
    for (size_t q = 0; q < nq; q++)
        L->q_end[q] = p[1 + q].end;
}

/* ----------------------------------------------------------------- cases */

typedef struct kase {
    fp_rule rule;
    int script, bound;
    int stage;             /* STAGE_* or the first query that must fail (nq: none) */
    int before_may_fail;   /* a cut upstream: earlier answers may be lost too */
    /* running */
    int port, started, finished, nq;
    double t0;
    myr_future *cf, *qf[2];
    myr_conn *c;
    int calls[3];          /* callbacks: connect, query 0, query 1 */
} kase;

static kase *cases;
static size_t ncases, cases_cap;

static void add_case(int script, int bound, enum fp_action a, int dir, uint64_t after)
{
    if (ncases == cases_cap) {
        cases_cap = cases_cap ? cases_cap * 2 : 256;
        cases = realloc(cases, cases_cap * sizeof *cases);
        assert_non_null(cases);
    }
    kase *k = &cases[ncases++];
    memset(k, 0, sizeof *k);
    k->rule.action = a;
    k->rule.dir = dir;
    k->rule.after = after;
    k->script = script;
    k->bound = bound;
    k->nq = script == S_SMALL ? 1 : 2;
}

/* The stage where a fault after byte N of dir shows. */
static void expect(kase *k, const layout *L)
{
    uint64_t n = k->rule.after;
    int stall = k->rule.action == FP_STALL;
    if (k->rule.action == FP_PASS) {
        k->stage = k->nq;
        return;
    }
    if (k->rule.dir == FP_DOWN) {
        if (n < L->greet_end)
            k->stage = STAGE_GREETING;
        else if (n < L->auth_end)
            k->stage = STAGE_AUTH;
        else {
            k->stage = k->nq;
            for (int q = k->nq - 1; q >= 0; q--)
                if (n < L->resp_end[q])
                    k->stage = q;
        }
        return;
    }
    /* Up. A cut stops both ways at once; a stall stops only what is sent. */
    if (n == 0)
        k->stage = stall ? STAGE_AUTH : STAGE_GREETING;
    else if (stall ? n < L->hs_end : n <= L->hs_end)
        k->stage = STAGE_AUTH;
    else {
        k->stage = k->nq;
        for (int q = k->nq - 1; q >= 0; q--)
            if (stall ? L->q_end[q] > n : L->q_end[q] >= n)
                k->stage = q;
        k->before_may_fail = !stall;
    }
}

static void count_cb(myr_future *f, void *arg)
{
    (void)f;
    ++*(int *)arg;
}

static myr_conn_opts *opts_for(int port, int bound)
{
    myr_conn_opts *o = sandbox_opts(0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_PORT, port), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, MYR_SSL_DISABLED), 0);
    assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_LOGIN_TIMEOUT, LOGIN_MS), 0);
    if (bound == T_READ)
        assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_READ_TIMEOUT, READ_MS), 0);
    else if (bound == T_QUERY) {   /* the read timeout ends the drain of the killed command */
        assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_QUERY_TIMEOUT, QUERY_MS), 0);
        assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_READ_TIMEOUT, QUERY_READ_MS), 0);
    }
    else
        assert_int_equal(myr_conn_opts_set_int(o, MYR_OPT_READ_TIMEOUT, SAFETY_READ_MS), 0);
    return o;
}

static void start(fp_proxy *p, myr_loop *loop, kase *k)
{
    k->port = fp_listen(p, &k->rule);
    assert_true(k->port > 0);
    myr_conn_opts *o = opts_for(k->port, k->bound);
    k->cf = myr_connect(loop, o);
    myr_conn_opts_free(o);
    assert_non_null(k->cf);
    myr_future_on_done(k->cf, count_cb, &k->calls[0]);
    k->started = 1;
    k->t0 = now_ms();
}

static void queue_script(kase *k)
{
    k->qf[0] = myr_query(k->c, Q1, sizeof Q1 - 1);
    if (k->script == S_BIGDOWN)
        k->qf[1] = myr_query(k->c, Q2, sizeof Q2 - 1);
    else if (k->script == S_BIGUP)
        k->qf[1] = myr_query(k->c, q3, q3_len);
    for (int q = 0; q < k->nq; q++) {
        assert_non_null(k->qf[q]);
        myr_future_on_done(k->qf[q], count_cb, &k->calls[1 + q]);
    }
}

static fp_proxy *g_proxy;

static const char *describe(const kase *k)
{
    static char buf[1200];
    char st[1000] = "";
    if (g_proxy != NULL && k->port > 0)
        fp_state(g_proxy, k->port, st, sizeof st);
    static const char *act[] = {"pass", "rst", "fin", "stall"};
    static const char *bnd[] = {"cut", "read-timeout", "query-timeout"};
    snprintf(buf, sizeof buf, "%s %s after %llu (script %d, %s, chunk %u, delay %u us, stage %d; proxy: %s)",
             act[k->rule.action], k->rule.dir == FP_UP ? "up" : "down",
             (unsigned long long)k->rule.after, k->script, bnd[k->bound], k->rule.chunk,
             k->rule.delay_us, k->stage, st[0] ? st : "no connection");
    return buf;
}

/* The error a failure at k's stage must carry. */
static void check_error(const kase *k, const myr_error *e, int login)
{
    const char *what = describe(k);
    int stall = k->rule.action == FP_STALL;
    const char *need;
    if (login && k->rule.action == FP_RST && k->rule.after == 0 && e->code == MYR_ECONNECT &&
        e->mysql_errno == 2003)
        return;   /* reset before the connect completed: cannot connect */
    if (e->mysql_errno != 2013)
        fail_msg("%s: mysql_errno %u (%s), want 2013", what, e->mysql_errno, e->message);
    if (login) {
        if (e->code != (stall ? MYR_ETIMEDOUT : MYR_ECONNLOST))
            fail_msg("%s: code %d (%s)", what, e->code, e->message);
        need = k->stage == STAGE_GREETING ? "reading initial communication packet"
                                          : "reading authorization packet";
        if (strstr(e->message, need) == NULL || (stall && strstr(e->message, "login timeout") == NULL))
            fail_msg("%s: message '%s'", what, e->message);
        return;
    }
    if (!stall) {
        need = "Lost connection to server during query";
        if (e->code != MYR_ECONNLOST)
            fail_msg("%s: code %d (%s)", what, e->code, e->message);
    } else {
        need = k->bound == T_READ ? "read timeout" : "query timeout";
        if (e->code != MYR_ETIMEDOUT)
            fail_msg("%s: code %d (%s)", what, e->code, e->message);
        if (k->bound == T_QUERY && strstr(e->message, "the connection was lost") == NULL)
            fail_msg("%s: message '%s' does not say the connection was lost", what, e->message);
    }
    if (strstr(e->message, need) == NULL)
        fail_msg("%s: message '%s' lacks '%s'", what, e->message, need);
}

static void check_result(const kase *k, int q, myr_result *r)
{
    const char *what = describe(k);
    if (r == NULL)
        fail_msg("%s: query %d without a result", what, q);
    size_t len;
    if (q == 0) {
        assert_int_equal(myr_result_row_count(r), 6);
        for (size_t i = 0; i < 6; i++) {
            const char *v = myr_result_value(r, i, 1, &len);
            assert_int_equal(len, (i + 1) * 10);
            assert_int_equal(atoi(myr_result_value(r, i, 0, NULL)), (int)i + 1);
            for (size_t j = 0; j < len; j++)
                assert_int_equal(v[j], 'r');
        }
    } else if (k->script == S_BIGDOWN) {
        assert_int_equal(myr_result_row_count(r), 1);
        const char *v = myr_result_value(r, 0, 0, &len);
        assert_int_equal(len, BIG);
        for (size_t j = 0; j < len; j++)
            if (v[j] != 'b')
                fail_msg("%s: byte %zu of the big row is %d", what, j, v[j]);
    } else {
        assert_string_equal(myr_result_value(r, 0, 0, NULL), "17000000");
    }
}

/* k's futures are all resolved: check them, end the case. */
static void finish(fp_proxy *p, kase *k)
{
    const char *what = describe(k);
    if (k->stage >= 0 && myr_future_status(k->cf) != 0)
        fail_msg("%s: the connect failed: %s", what, myr_future_error(k->cf)->message);
    if (k->stage < 0) {
        if (myr_future_status(k->cf) == 0)
            fail_msg("%s: the connect succeeded", what);
        check_error(k, myr_future_error(k->cf), 1);
        assert_null(myr_future_take_conn(k->cf));
    } else {
        int failed = 0;
        for (int q = 0; q < k->nq; q++) {
            int st = myr_future_status(k->qf[q]);
            myr_result *r = myr_future_take_result(k->qf[q]);
            if (q < k->stage && !(k->before_may_fail && st != 0)) {
                if (st != 0)
                    fail_msg("%s: query %d failed: %s", what, q, myr_future_error(k->qf[q])->message);
                check_result(k, q, r);
            } else if (q >= k->stage) {
                if (st == 0)
                    fail_msg("%s: query %d succeeded", what, q);
                check_error(k, myr_future_error(k->qf[q]), 0);
                failed = 1;
            } else {
                check_error(k, myr_future_error(k->qf[q]), 0);
                failed = 1;
            }
            myr_result_free(r);
        }
        if (failed) {   /* dead: a new command fails at once */
            assert_int_equal(myr_conn_alive(k->c), 0);
            myr_future *f = myr_ping(k->c);
            assert_true(myr_future_done(f));
            assert_int_equal(myr_future_error(f)->mysql_errno, 2006);
            myr_future_free(f);
        }
        if (k->rule.action != FP_PASS && k->stage < k->nq && fp_fired(p, k->port) < 1)
            fail_msg("%s: the fault never fired (query errors: %s / %s)", what,
                     myr_future_error(k->qf[0])->message,
                     k->nq > 1 ? myr_future_error(k->qf[1])->message : "-");
        myr_conn_free(k->c);
        k->c = NULL;
        for (int q = 0; q < k->nq; q++) {
            myr_future_free(k->qf[q]);
            k->qf[q] = NULL;
        }
    }
    myr_future_free(k->cf);
    k->cf = NULL;
    assert_true(fp_accepted(p, k->port) >= 1);
    if (k->rule.action != FP_PASS && k->stage < k->nq && fp_fired(p, k->port) < 1)
        fail_msg("%s: the fault never fired (query errors: %s / %s)", what,
                 k->qf[0] ? myr_future_error(k->qf[0])->message : "-",
                 k->nq > 1 && k->qf[1] ? myr_future_error(k->qf[1])->message : "-");
    fp_unlisten(p, k->port);
    k->finished = 1;
}

/* Advance k; 1 when it finished. */
static int step(fp_proxy *p, kase *k)
{
    if (k->c == NULL) {
        if (!myr_future_done(k->cf))
            return 0;
        if (myr_future_status(k->cf) != 0) {
            finish(p, k);
            return 1;
        }
        if (k->stage < 0)
            fail_msg("%s: the connect succeeded", describe(k));
        k->c = myr_future_take_conn(k->cf);
        queue_script(k);
        return 0;
    }
    for (int q = 0; q < k->nq; q++)
        if (!myr_future_done(k->qf[q]))
            return 0;
    finish(p, k);
    return 1;
}

/* ------------------------------------------------------ clean connections */

typedef struct clean {
    myr_conn *c;
    myr_future *f;
    unsigned n, done;
    char sql[96];
} clean;

static void clean_next(clean *cl)
{
    cl->n++;
    int len = snprintf(cl->sql, sizeof cl->sql, "SELECT %u, REPEAT('c', %u), SLEEP(0.005)", cl->n,
                       cl->n % 200);
    cl->f = myr_query(cl->c, cl->sql, (size_t)len);
    assert_non_null(cl->f);
}

static void clean_check(clean *cl)
{
    if (myr_future_status(cl->f) != 0)
        fail_msg("a clean connection failed: %s", myr_future_error(cl->f)->message);
    myr_result *r = myr_future_take_result(cl->f);
    assert_non_null(r);
    assert_int_equal(strtoul(myr_result_value(r, 0, 0, NULL), NULL, 10), cl->n);
    size_t len;
    myr_result_value(r, 0, 1, &len);
    assert_int_equal(len, cl->n % 200);
    myr_result_free(r);
    myr_future_free(cl->f);
    cl->done++;
}

/* ------------------------------------------------------------------ test */

static void record(fp_proxy *p, int script, uint8_t **down, size_t *dn, uint8_t **up, size_t *un)
{
    myr_loop *loop = myr_loop_new(NULL, NULL);
    fp_rule r = {.action = FP_PASS, .record = 1};
    int port = fp_listen(p, &r);
    assert_true(port > 0);
    myr_conn_opts *o = opts_for(port, T_CUT);
    myr_error err;
    myr_conn *c = myr_connect_sync(loop, o, &err);
    myr_conn_opts_free(o);
    if (c == NULL)
        fail_msg("connect through the proxy: %s", err.message);
    kase k = {.script = script, .c = c, .nq = script == S_SMALL ? 1 : 2};
    queue_script(&k);
    assert_int_equal(myr_gather(k.qf, (size_t)k.nq, 60000), 0);
    for (int q = 0; q < k.nq; q++) {
        if (myr_future_status(k.qf[q]) != 0)
            fail_msg("recording: %s", myr_future_error(k.qf[q])->message);
        myr_result *res = myr_future_take_result(k.qf[q]);
        check_result(&k, q, res);
        myr_result_free(res);
        myr_future_free(k.qf[q]);
    }
    myr_conn_free(c);   /* before reading the record: no COM_QUIT in it */
    *down = fp_recorded(p, port, FP_DOWN, dn);
    *up = fp_recorded(p, port, FP_UP, un);
    fp_unlisten(p, port);
    myr_loop_free(loop);
}

static void sweep_points(const layout *Ls, const layout *Ld, const layout *Lu)
{
    static const int small_bounds[] = {T_CUT, T_CUT, T_READ, T_QUERY};
    static const enum fp_action small_acts[] = {FP_RST, FP_FIN, FP_STALL, FP_STALL};
    const layout *L = Ls;
    /* Down, small script: greeting, login, the first result. */
    size_t g = L->greet_end, a = L->auth_end;
    size_t down[] = {0, 1, 3, 4, 5, g / 2, g - 1,                       /* greeting */
                     g, g + 1, g + 4, a - 1,                            /* login OK */
                     L->hdr, L->hdr + 3, L->hdr + 4,                    /* result header */
                     L->col[0], L->col[0] + 4, (L->col[0] + L->col[1]) / 2, L->col[1] - 1,
                     L->col[1], L->col_end - 1,                         /* column definitions */
                     L->row[0], L->row[0] + 4, L->row[2] + 6, L->row[5], L->row_end - 1, /* rows */
                     L->term, L->resp_end[0] - 1, L->resp_end[0]};      /* terminator, all */
    for (size_t i = 0; i < sizeof down / sizeof *down; i++)
        for (int b = 0; b < 4; b++)
            add_case(S_SMALL, small_bounds[b], small_acts[b], FP_DOWN, down[i]);
    /* Up, small script: the handshake response, the query. */
    size_t h = L->hs_end, q = L->q_end[0];
    size_t up[] = {1, 4, h / 2, h - 1, h, h + 1, h + 4, q - 1, q};
    for (size_t i = 0; i < sizeof up / sizeof *up; i++)
        for (int b = 0; b < 4; b++)
            add_case(S_SMALL, small_bounds[b], small_acts[b], FP_UP, up[i]);
    /* A >16 MiB row, down: its header, its length, inside, the 16 MiB
     * seam (the next packet's header), its end, the terminator. */
    size_t r = Ld->big_row, seam = r + 4 + MAXPKT;
    size_t bigd[] = {Ld->resp_start[1], r, r + 4, r + 13, r + 8000000, seam - 1, seam, seam + 1, seam + 4,
                     Ld->resp_end[1] - 1, Ld->resp_end[1]};
    for (size_t i = 0; i < sizeof bigd / sizeof *bigd; i++) {
        add_case(S_BIGDOWN, T_CUT, FP_RST, FP_DOWN, bigd[i]);
        add_case(S_BIGDOWN, T_CUT, FP_FIN, FP_DOWN, bigd[i]);
        add_case(S_BIGDOWN, T_READ, FP_STALL, FP_DOWN, bigd[i]);
        if (bigd[i] == r + 8000000 || bigd[i] == seam)
            add_case(S_BIGDOWN, T_QUERY, FP_STALL, FP_DOWN, bigd[i]);
    }
    /* A >16 MiB query, up. */
    size_t q3s = Lu->q_end[0], useam = q3s + 4 + MAXPKT;
    size_t bigu[] = {q3s + 1, q3s + 4, q3s + 1000000, useam - 1, useam, useam + 4, Lu->q_end[1] - 1,
                     Lu->q_end[1]};
    for (size_t i = 0; i < sizeof bigu / sizeof *bigu; i++) {
        add_case(S_BIGUP, T_CUT, FP_RST, FP_UP, bigu[i]);
        add_case(S_BIGUP, T_CUT, FP_FIN, FP_UP, bigu[i]);
        add_case(S_BIGUP, T_READ, FP_STALL, FP_UP, bigu[i]);
        if (bigu[i] == useam)
            add_case(S_BIGUP, T_QUERY, FP_STALL, FP_UP, bigu[i]);
    }
    /* Shaped, nothing may fail: one byte at a time, small writes with
     * delays, the start of a >16 MiB row dribbled. */
    add_case(S_SMALL, T_READ, FP_PASS, FP_DOWN, 0);
    cases[ncases - 1].rule.chunk = 1;
    cases[ncases - 1].rule.delay_us = 50;
    add_case(S_SMALL, T_READ, FP_PASS, FP_DOWN, 0);
    cases[ncases - 1].rule.chunk = 1;
    add_case(S_SMALL, T_READ, FP_PASS, FP_DOWN, 0);
    cases[ncases - 1].rule.chunk = 7;
    cases[ncases - 1].rule.delay_us = 3000;
    add_case(S_SMALL, T_READ, FP_PASS, FP_DOWN, 0);
    cases[ncases - 1].rule.delay_us = 100000;   /* each write 100 ms late (< the read timeout) */
    add_case(S_BIGDOWN, T_READ, FP_PASS, FP_DOWN, 0);
    cases[ncases - 1].rule.chunk = 3;
    cases[ncases - 1].rule.shape_bytes = 4096;
    add_case(S_BIGUP, T_READ, FP_PASS, FP_DOWN, 0);
    cases[ncases - 1].rule.chunk = 1000;
    cases[ncases - 1].rule.delay_us = 200;
    cases[ncases - 1].rule.shape_bytes = 200000;
}

static void test_sweep(void **state)
{
    (void)state;
    sandbox_raise_fd_limit();
    q3_len = strlen("SELECT LENGTH('')") + BIG;
    q3 = malloc(q3_len + 1);
    assert_non_null(q3);
    memcpy(q3, "SELECT LENGTH('", 15);
    memset(q3 + 15, 'a', BIG);
    memcpy(q3 + 15 + BIG, "')", 3);

    fp_proxy *p = fp_new(sandbox_env("MYR_TEST_HOST"), atoi(sandbox_env("MYR_TEST_PORT")));
    assert_non_null(p);
    g_proxy = p;

    layout Ls, Ld, Lu;
    uint8_t *down, *up;
    size_t dn, un;
    record(p, S_SMALL, &down, &dn, &up, &un);
    parse(down, dn, up, un, 1, &Ls);
    free(down);
    free(up);
    record(p, S_BIGDOWN, &down, &dn, &up, &un);
    parse(down, dn, up, un, 2, &Ld);
    free(down);
    free(up);
    record(p, S_BIGUP, &down, &dn, &up, &un);
    parse(down, dn, up, un, 2, &Lu);
    free(down);
    free(up);
    /* The scripts share their start. */
    assert_int_equal(Ls.resp_end[0], Ld.resp_end[0]);
    assert_int_equal(Ls.q_end[0], Lu.q_end[0]);

    sweep_points(&Ls, &Ld, &Lu);
    for (size_t i = 0; i < ncases; i++)
        expect(&cases[i], cases[i].script == S_SMALL ? &Ls : cases[i].script == S_BIGDOWN ? &Ld : &Lu);

    myr_loop *loop = myr_loop_new(NULL, NULL);
    assert_non_null(loop);
    clean cl[NCLEAN];
    for (int i = 0; i < NCLEAN; i++) {
        memset(&cl[i], 0, sizeof cl[i]);
        cl[i].c = sandbox_connect(loop);
        clean_next(&cl[i]);
    }

    double t0 = now_ms(), longest = 0;
    size_t next = 0, running = 0, big_running = 0, finished = 0;
    while (finished < ncases) {
        /* Fill the window (the big cases through a narrower one). */
        for (size_t i = next; i < ncases && running < WINDOW; i++) {
            kase *k = &cases[i];
            if (k->started)
                continue;
            if (k->script != S_SMALL && big_running >= BIG_WINDOW)
                continue;
            start(p, loop, k);
            running++;
            big_running += k->script != S_SMALL;
        }
        while (next < ncases && cases[next].started)
            next++;
        int rc = myr_loop_run_once(loop, 20);
        assert_true(rc >= 0);
        for (size_t i = 0; i < ncases; i++) {
            kase *k = &cases[i];
            if (!k->started || k->finished || !step(p, k))
                continue;
            double took = now_ms() - k->t0;
            if (took > longest)
                longest = took;
            running--;
            big_running -= k->script != S_SMALL;
            finished++;
        }
        for (int i = 0; i < NCLEAN; i++)
            if (myr_future_done(cl[i].f)) {
                clean_check(&cl[i]);
                clean_next(&cl[i]);
            }
        if (now_ms() - t0 > RUN_LIMIT_MS) {
            for (size_t i = 0; i < ncases; i++)
                if (cases[i].started && !cases[i].finished)
                    print_error("unfinished: %s\n", describe(&cases[i]));
            fail_msg("the sweep did not end within %d ms", RUN_LIMIT_MS);
        }
    }
    /* The clean connections' last queries, then a few more ticks: no
     * callback may come twice. */
    unsigned clean_done = 0;
    for (int i = 0; i < NCLEAN; i++) {
        assert_int_equal(myr_await(cl[i].f, 10000), 0);
        clean_check(&cl[i]);
        assert_true(cl[i].done >= 2);
        clean_done += cl[i].done;
        myr_conn_free(cl[i].c);
    }
    for (int i = 0; i < 5; i++)
        myr_loop_run_once(loop, 0);
    size_t fired = 0;
    for (size_t i = 0; i < ncases; i++) {
        kase *k = &cases[i];
        if (k->calls[0] != 1)
            fail_msg("%s: connect callback ran %d times", describe(k), k->calls[0]);
        for (int q = 0; q < k->nq && k->stage >= 0; q++)
            if (k->calls[1 + q] != 1)
                fail_msg("%s: query %d callback ran %d times", describe(k), q, k->calls[1 + q]);
        fired += fp_fired(p, k->port) > 0;
    }
    print_message("fault sweep: %zu cases (%zu faults fired), %u clean queries beside them, %.1f s, "
                  "longest case %.0f ms\n",
                  ncases, fired, clean_done, (now_ms() - t0) / 1e3, longest);
    myr_loop_free(loop);
    g_proxy = NULL;
    fp_free(p);
    free(cases);
    cases = NULL;
    ncases = cases_cap = 0;
    free(q3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
