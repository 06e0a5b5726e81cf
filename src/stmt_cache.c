/*
 * src/stmt_cache.c -- myr_query_params: a statement executed by its SQL
 * text through the connection's statement cache, prepared and executed in
 * one round trip against MariaDB.
 *
 * The cache maps SQL text to a statement prepared on the connection: a
 * hash table for the look-up and a list from most to least recently used.
 * It holds one reference on each statement; a command naming a statement
 * holds another, so an evicted statement lives until its queued commands
 * are over. Past MYR_OPT_STMT_CACHE_SIZE entries the least recently used
 * goes, closed on the server (COM_STMT_CLOSE, no answer; a statement whose
 * prepare is not answered yet is closed when it is). A reset queued on the
 * connection empties the cache at once (the server forgets every statement
 * when it runs it: later look-ups must prepare again), and the cache goes
 * with the connection (a new connection starts empty).
 *
 * A miss queues COM_STMT_PREPARE and, in the same send, COM_STMT_EXECUTE
 * with statement id 0xFFFFFFFF, which MariaDB (10.2 and later) reads as
 * "the statement prepared last on this connection": one round trip. If the
 * prepare fails, the server fails that execute with "unknown statement"
 * (1243); its future then fails with the prepare's error instead. A
 * statement whose prepare is still unanswered is executed with the same id
 * as long as no other prepare was queued after it. Other servers get the
 * prepare, then the execute once the statement id is known (conn_hold.c):
 * two round trips, in order with the commands around them.
 */
#include <string.h>

#include "conn_internal.h"

#define MYR__STMT_CACHE_DEFAULT 64
#define MYR__STMT_ID_LAST 0xFFFFFFFFu   /* "the statement prepared last" (MariaDB) */

typedef struct cache_ent cache_ent;
struct cache_ent {
    cache_ent *hnext;            /* the bucket's chain */
    cache_ent *newer, *older;    /* use order */
    uint64_t hash;
    myr_stmt *stmt;              /* the cache's reference */
    size_t len;
    char sql[];
};

struct myr__stmt_cache {
    cache_ent **buckets;
    size_t nbuckets;             /* a power of two */
    size_t count, max;
    cache_ent *newest, *oldest;
    unsigned reset_gen;          /* the connection's when it was last emptied */
};

static void cache_clear(myr_conn *c);

static uint64_t hash_sql(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603u;   /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211u;
    return h;
}

size_t myr__stmt_cache_max(const myr_conn *c)
{
    return c->opts.stmt_cache_set ? (size_t)c->opts.stmt_cache_size : MYR__STMT_CACHE_DEFAULT;
}

static myr__stmt_cache *cache_of(myr_conn *c)
{
    if (c->stmt_cache != NULL) {
        if (c->stmt_cache->reset_gen != c->reset_gen) {
            cache_clear(c);   /* a reset was queued: the server will forget them */
            c->stmt_cache->reset_gen = c->reset_gen;
        }
        return c->stmt_cache;
    }
    size_t max = myr__stmt_cache_max(c);
    if (max == 0)
        return NULL;
    size_t nb = 16;
    while (nb < max && nb < ((size_t)1 << 20))
        nb <<= 1;
    myr__stmt_cache *sc = myr__calloc(1, sizeof *sc);
    if (sc == NULL)
        return NULL;
    sc->buckets = myr__calloc(nb, sizeof *sc->buckets);
    if (sc->buckets == NULL) {
        myr__free(sc);
        return NULL;
    }
    sc->nbuckets = nb;
    sc->max = max;
    sc->reset_gen = c->reset_gen;
    c->stmt_cache = sc;
    return sc;
}

static void lru_unlink(myr__stmt_cache *sc, cache_ent *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        sc->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        sc->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push(myr__stmt_cache *sc, cache_ent *e)
{
    e->older = sc->newest;
    e->newer = NULL;
    if (sc->newest)
        sc->newest->newer = e;
    else
        sc->oldest = e;
    sc->newest = e;
}

static cache_ent *lookup(myr__stmt_cache *sc, const char *sql, size_t len)
{
    uint64_t h = hash_sql(sql, len);
    for (cache_ent *e = sc->buckets[h & (sc->nbuckets - 1)]; e != NULL; e = e->hnext)
        if (e->hash == h && e->len == len && memcmp(e->sql, sql, len) == 0) {
            lru_unlink(sc, e);
            lru_push(sc, e);
            return e;
        }
    return NULL;
}

/* Queue COM_STMT_CLOSE for s (no answer, no future); 0 or an error. */
static int queue_close(myr_conn *c, uint32_t id)
{
    return myr__conn_queue(c, &myr__cmd_stmt_close, &id, sizeof id, NULL);
}

/* Take e out of the cache and drop its reference. close: the server still
 * knows the statement (eviction), so close it there. */
static void drop(myr_conn *c, cache_ent *e, int close)
{
    myr__stmt_cache *sc = c->stmt_cache;
    cache_ent **pp = &sc->buckets[e->hash & (sc->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(sc, e);
    sc->count--;
    myr_stmt *s = e->stmt;
    s->cached = 0;
    if (close && c->state == MYR__CS_READY && !c->closing) {
        if (s->valid)
            (void)queue_close(c, s->id);   /* out of memory: it stays until the connection ends */
        else if (s->pending)
            s->close_on_prepare = 1;
    }
    myr__free(e);
    myr__stmt_unref(s);
}

static void cache_stmt_gone(myr_conn *c, myr_stmt *s)
{
    myr__stmt_cache *sc = c->stmt_cache;
    if (sc == NULL || !s->cached)
        return;
    for (cache_ent *e = sc->newest; e != NULL; e = e->older)
        if (e->stmt == s) {
            drop(c, e, 0);
            return;
        }
}

/* 0 and s in the cache (a reference taken), or MYR_ENOMEM. */
static int insert(myr_conn *c, myr__stmt_cache *sc, const char *sql, size_t len, myr_stmt *s)
{
    cache_ent *e = myr__malloc(sizeof *e + len + 1);
    if (e == NULL)
        return MYR_ENOMEM;
    e->hash = hash_sql(sql, len);
    e->len = len;
    memcpy(e->sql, sql, len);
    e->sql[len] = '\0';
    e->stmt = s;
    myr__stmt_ref(s);
    s->cached = 1;
    cache_ent **b = &sc->buckets[e->hash & (sc->nbuckets - 1)];
    e->hnext = *b;
    *b = e;
    lru_push(sc, e);
    sc->count++;
    while (sc->count > sc->max)
        drop(c, sc->oldest, 1);
    return 0;
}

static void cache_clear(myr_conn *c)
{
    myr__stmt_cache *sc = c->stmt_cache;
    if (sc == NULL)
        return;
    while (sc->newest != NULL)
        drop(c, sc->newest, 0);
}

void myr__stmt_cache_free(myr_conn *c)
{
    cache_clear(c);
    if (c->stmt_cache != NULL) {
        myr__free(c->stmt_cache->buckets);
        myr__free(c->stmt_cache);
        c->stmt_cache = NULL;
    }
}

size_t myr_conn_stmt_cache_count(const myr_conn *c)
{
    return c != NULL && c->stmt_cache != NULL ? c->stmt_cache->count : 0;
}

/* ------------------------------------------------------- the SQL's '?' */

/* The ? placeholders of sql as the server will count them: outside
 * strings, quoted identifiers and comments ("-- ", "#", and slash-star
 * ones; MariaDB's executable slash-star-bang comments are SQL and
 * counted). backslash: a backslash escapes inside strings (the server's
 * default, unless NO_BACKSLASH_ESCAPES). */
static size_t count_params(const char *sql, size_t len, int backslash)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = sql[i];
        if (ch == '?') {
            n++;
        } else if (ch == '\'' || ch == '"' || ch == '`') {
            for (i++; i < len; i++) {
                if (backslash && ch != '`' && sql[i] == '\\') {
                    i++;
                } else if (sql[i] == ch) {
                    if (i + 1 < len && sql[i + 1] == ch)
                        i++;   /* a doubled quote stands for itself */
                    else
                        break;
                }
            }
        } else if (ch == '#' || (ch == '-' && i + 1 < len && sql[i + 1] == '-' &&
                                 (i + 2 == len || (unsigned char)sql[i + 2] <= ' '))) {
            while (i < len && sql[i] != '\n')
                i++;
        } else if (ch == '/' && i + 1 < len && sql[i + 1] == '*' &&
                   !(i + 2 < len && sql[i + 2] == '!') &&
                   !(i + 3 < len && sql[i + 2] == 'M' && sql[i + 3] == '!')) {
            for (i += 2; i + 1 < len && !(sql[i] == '*' && sql[i + 1] == '/'); i++)
                ;
            i++;
        }
    }
    return n;
}


/* -------------------------------------------------------- the commands */

static int encode_prepare(const myr__cmd_kind *k, myr__buf *out, uint8_t *seq, const void *arg,
                          size_t len)
{
    return myr__cmd_build_seq(out, k->com, arg, len, seq);
}

/* An execute that must wait for its statement's id (servers without id
 * -1, or the statement's prepare is not the last one queued) is encoded at
 * once (its parameters are the caller's only until the call returns) into
 * a buffer of its own with id -1, and goes into the byte stream once the
 * prepare is answered, with the real id; commands queued after it wait
 * (myr__conn_held_bytes). */
static int encode_held(const myr__cmd_kind *k, myr__buf *out, uint8_t *seq, const void *arg,
                       size_t len)
{
    (void)out;
    const myr__exec_arg *a = arg;
    int rc = myr__stmt_execute_encode(k, a->held, seq, arg, len);
    if (rc == 0)
        a->stmt->conn->nheld++;   /* queued now: encoding is the last step that can fail */
    return rc;
}

static void held_free(myr__cmd *cmd)
{
    if (cmd->held != NULL) {
        myr__buf_free(cmd->held);
        myr__free(cmd->held);
        cmd->held = NULL;
    }
}

/* The statement id in each packet of an encoded execute (its long data
 * packets and the execute): bytes 1..4 of each packet's first frame. */
static void patch_id(myr__buf *b, uint32_t id)
{
    size_t pos = 0;
    int first = 1;
    while (b->len - pos >= 4) {
        size_t fl = myr__u24(b->data + pos);
        if (first && fl >= 5)
            for (int i = 0; i < 4; i++)
                b->data[pos + 5 + i] = (uint8_t)(id >> (8 * i));
        first = fl != MYR__PKT_MAX;
        pos += 4 + fl;
    }
}

/* s's prepare was answered: its held executes take their place in the
 * byte stream, with the real id; after a failed prepare with id -1, which
 * the server refuses (their futures report the prepare's error). */
static void release_held(myr_conn *c, myr_stmt *s)
{
    for (myr__cmd *cmd = c->cmd_head; cmd != NULL && c->nheld > 0; cmd = cmd->next) {
        if (!(cmd->kind->held && cmd->ctx == s && cmd->held != NULL))
            continue;
        if (s->valid)
            patch_id(cmd->held, s->id);
        int rc = myr__conn_insert(c, cmd, cmd->held->data, cmd->held->len);
        held_free(cmd);
        c->nheld--;
        if (rc != 0) {
            myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory queueing an execute");
            return;
        }
    }
}

/* The prepare of a miss: no future; cmd->ctx is the statement (made before
 * the answer, referenced by the command). */
static void finish_prepare_part(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err)
{
    myr_stmt *s = cmd->ctx;
    s->pending = 0;
    if (status == 0) {
        s->meta = cmd->res.head;
        cmd->res.head = cmd->res.tail = NULL;
        s->valid = 1;
        if (s->close_on_prepare && c->state == MYR__CS_READY && !c->closing)
            (void)queue_close(c, s->id);
    } else {
        myr__results_clear(&cmd->res);
        s->prep_status = status;
        if (err != NULL && err->code != 0 && (s->prep_err = myr__malloc(sizeof *s->prep_err)) != NULL)
            *s->prep_err = *err;
        cache_stmt_gone(c, s);
    }
    if (c->state == MYR__CS_READY)
        release_held(c, s);   /* an execute waiting for its id (other servers) */
    myr__stmt_unref(s);
    myr__free(cmd);   /* a command without future was allocated by the queue */
}

/* An execute of a statement prepared just before it in the same send: it
 * fails with the prepare's error when the prepare failed, and with 2034
 * when the server counts other placeholders than the caller gave values. */
static void finish_execute_direct(myr_conn *c, myr__cmd *cmd, int status, const myr_error *err)
{
    myr_stmt *s = cmd->ctx;
    myr_error e;   /* a copy: s may go with the reference this command drops */
    if (cmd->held != NULL) {   /* ended before its bytes were in place (canceled, lost) */
        c->nheld--;
        held_free(cmd);
        if (c->state == MYR__CS_READY)
            myr__conn_kick(c);   /* what waited behind it may leave */
    }
    if (s->close_after_exec && s->valid && c->state == MYR__CS_READY && !c->closing)
        (void)queue_close(c, s->id);   /* not cached: not needed any more */
    if (s->prep_status != 0) {
        myr__results_clear(&cmd->res);
        status = s->prep_status;
        if (s->prep_err != NULL)
            e = *s->prep_err;
        else
            myr__error_set(&e, status, 0, NULL, "the statement's prepare failed: %s", myr_strerror(status));
        err = &e;
    } else if (status == 0 && s->nparams != s->guess_nparams) {
        myr__results_clear(&cmd->res);
        myr__error_set(&e, MYR_EINVAL, 2034, NULL,
                       "Invalid parameter number: the server counts %u parameters, %u given",
                       (unsigned)s->nparams, (unsigned)s->guess_nparams);
        status = MYR_EINVAL;
        err = &e;
    }
    myr__stmt_execute_finish(c, cmd, status, err);
}

static const myr__cmd_kind cmd_prepare_part = {
    .name = "STMT_PREPARE", .com = MYR__COM_STMT_PREPARE, .fut_kind = MYR__FUT_PLAIN, .reply = 1,
    .encode = encode_prepare, .sink = &myr__stmt_prepare_sink,
    .finish = finish_prepare_part, .resp_mode = MYR__RMODE_PREPARE,
};
static const myr__cmd_kind cmd_execute_direct = {
    .name = "STMT_EXECUTE", .com = MYR__COM_STMT_EXECUTE, .fut_kind = MYR__FUT_RESULT, .reply = 1,
    .encode = myr__stmt_execute_encode, .sink = &myr__results_sink,
    .finish = finish_execute_direct, .resp_mode = MYR__RMODE_BINARY, .stmt_ctx = 1,
};
static const myr__cmd_kind cmd_execute_held = {
    .name = "STMT_EXECUTE", .com = MYR__COM_STMT_EXECUTE, .fut_kind = MYR__FUT_RESULT, .reply = 1,
    .encode = encode_held, .sink = &myr__results_sink,
    .finish = finish_execute_direct, .resp_mode = MYR__RMODE_BINARY, .held = 1, .stmt_ctx = 1,
};

/* ---------------------------------------------------------------- API */

myr_future *myr_query_params(myr_conn *c, const char *sql, size_t len, const myr_param *params,
                             size_t n)
{
    myr_future *refused;
    if (myr__conn_refuse(c, &cmd_execute_direct, &refused))
        return refused;   /* NULL: not even the failed future could be allocated */
    if (sql == NULL)
        len = 0;
    myr_error err;
    size_t est = 16 + len;
    if (n > 0 && params == NULL) {
        myr__error_set(&err, MYR_EINVAL, 2034, NULL, "Invalid parameter number: %zu given without an array", n);
        return myr__future_failed(NULL, MYR__FUT_RESULT, &err);
    }
    for (size_t i = 0; i < n; i++) {
        if (myr__param_check(&params[i]) != 0) {
            myr__error_set(&err, MYR_EINVAL, 2036, NULL,
                           "Using unsupported buffer type or value for parameter %zu", i);
            return myr__future_failed(NULL, MYR__FUT_RESULT, &err);
        }
        est += 16 + (params[i].type == MYR_PARAM_STR || params[i].type == MYR_PARAM_BLOB
                         ? params[i].v.bytes.len : 0);
    }
    myr__stmt_cache *sc = cache_of(c);
    cache_ent *e = sc != NULL ? lookup(sc, sql, len) : NULL;
    if (e != NULL && e->stmt->valid)
        return myr_stmt_execute(e->stmt, params, n);   /* a hit: no prepare */
    size_t guess = e != NULL ? e->stmt->guess_nparams
                             : count_params(sql, len, !(c->server_status & MYR_SERVER_STATUS_NO_BACKSLASH_ESCAPES));
    if (n != guess) {
        myr__error_set(&err, MYR_EINVAL, 2034, NULL,
                       "Invalid parameter number: the statement has %zu parameters, %zu given", guess, n);
        return myr__future_failed(NULL, MYR__FUT_RESULT, &err);
    }
    myr_stmt *s;
    if (e != NULL) {
        s = e->stmt;   /* prepared before, not answered yet */
    } else {
        s = myr__stmt_new(c);
        if (s == NULL) {
            myr__error_set(&err, MYR_ENOMEM, 2008, NULL, "out of memory for a statement");
            return myr__future_failed(NULL, MYR__FUT_RESULT, &err);
        }
        s->pending = 1;
        s->guess_nparams = (uint16_t)n;
        s->id = MYR__STMT_ID_LAST;
        int rc = myr__conn_queue(c, &cmd_prepare_part, sql, len, NULL);
        if (rc != 0) {
            myr__stmt_unref(s);
            myr__error_set(&err, rc, 2008, NULL, "cannot queue a prepare: %s", myr_strerror(rc));
            return myr__future_failed(NULL, MYR__FUT_RESULT, &err);
        }
        c->cmd_tail->ctx = s;   /* the part just queued holds the first reference */
        c->last_prep = s;
        if (sc != NULL)
            (void)insert(c, sc, sql, len, s);   /* out of memory: just not cached */
    }
    /* Id -1 names s while no other prepare was queued after it (MariaDB);
     * otherwise the execute waits for the prepare's answer. */
    int direct = c->direct_exec && c->last_prep == s;
    myr__exec_arg a = {.stmt = s, .params = params, .n = n};
    if (!direct && (a.held = myr__calloc(1, sizeof *a.held)) == NULL) {
        myr__error_set(&err, MYR_ENOMEM, 2008, NULL, "out of memory for an execute");
        return myr__future_failed(NULL, MYR__FUT_RESULT, &err);
    }
    if (!s->cached && !direct)
        s->close_after_exec = 1;
    myr__stmt_ref(s);
    myr_future *f = myr__conn_command(c, direct ? &cmd_execute_direct : &cmd_execute_held, &a, est, s);
    if (f == NULL || f->cmd.ctx == NULL) {
        myr__stmt_unref(s);   /* refused: no command holds it */
    } else if (!f->done && a.held != NULL) {
        f->cmd.held = a.held;   /* the command's until it is put in place */
        a.held = NULL;
    } else if (!f->done && !s->cached) {
        (void)queue_close(c, MYR__STMT_ID_LAST);   /* not kept: closed right after its execute */
    }
    if (a.held != NULL) {
        myr__buf_free(a.held);
        myr__free(a.held);
    }
    return f;
}
