/*
 * src/transport_tls.c -- the TLS transport: wolfSSL over memory buffers,
 * driven only by the loop's completions (no blocking handshake).
 *
 * wolfSSL never touches the socket. Its I/O callbacks read ciphertext from
 * t->cin (filled by a recv op; empty -> WANT_READ) and append ciphertext to
 * t->cout (sent by one send op at a time, swapped into c->sending first so
 * that new records never land in memory the kernel is reading). Plaintext
 * moves as with the plain transport: flush encrypts all of c->out at once
 * (pipelined commands' records leave in one send), and decrypted bytes are
 * appended to c->in before myr__conn_input.
 *
 * It takes over from the plaintext transport after the greeting
 * (conn_tls.c): start() queues the SSLRequest (raw) and the ClientHello in
 * one send; each recv completion advances the handshake; when it is over,
 * the login that waited in c->out leaves encrypted.
 *
 * The loop keeps the wolfSSL contexts (one per set of TLS options: CA,
 * certificate, ciphers, versions), so a thousand connections load the CA
 * once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "conn_internal.h"

#define RECV_MIN 16384
/* Plaintext room offered to one wolfSSL_read: a whole record. */
#define READ_CHUNK 16384

/* ChaCha20-Poly1305 first (no AES-NI in the target's wolfSSL build: it is
 * the fastest AEAD there), then AES-GCM; forward secrecy only. */
static const char default_ciphers[] =
    "TLS13-CHACHA20-POLY1305-SHA256:TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "DHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384";

struct myr__tls {
    WOLFSSL *ssl;
    char *server;           /* session cache key ("host port") */
    uint8_t saved;          /* its session went to the loop's cache */
    myr__buf cin;           /* ciphertext received, not yet taken by wolfSSL */
    myr__buf cout;          /* ciphertext made, not yet sent */
    size_t plain_pending;   /* plaintext bytes whose records are in cout */
    size_t plain_flight;    /* ... in the send in flight (c->sending) */
    uint8_t hs_done;        /* handshake over: plaintext flows */
    uint8_t eof;            /* the server closed the stream */
    uint8_t nomem;          /* an I/O callback ran out of memory */
    uint8_t untrusted;      /* no CA vouched for the certificate: the login's OK
                               must prove it (c->tls_certproof, conn_tls.c) */
    uint8_t misnamed;       /* ... and it does not name the host (VERIFY_IDENTITY) */
    uint8_t psk_ke;         /* it offered a resumption with psk_ke only */
    int mode;               /* enum myr_ssl_mode in force */
};

/* ------------------------------------------------------- per-loop state */

typedef struct tls_ctx {
    struct tls_ctx *next;
    WOLFSSL_CTX *ctx;
    char *key;              /* the options it was made from */
} tls_ctx;

/* A resumable session per server (host, port and the context's options):
 * the newest one wins. A thousand reconnections to a server then cost one
 * full handshake and 999 resumptions (TLS 1.3 tickets, TLS 1.2 tickets or
 * session ids). */
#define MAX_SESSIONS 64
typedef struct tls_session {
    struct tls_session *next;
    WOLFSSL_SESSION *sess;
    const WOLFSSL_CTX *ctx;
    char *server;           /* "host port" */
    uint8_t tls13;          /* a TLS 1.3 session (MYR_OPT_TLS_RESUME_PSK_ONLY applies) */
    uint8_t psk_ke_refused; /* the server answered a psk_ke-only resumption with a
                               full handshake: offer psk_dhe_ke again */
} tls_session;

typedef struct tls_loop {
    tls_ctx *ctxs;
    tls_session *sessions;  /* most recently stored first */
    unsigned nsessions;
} tls_loop;

static void session_free(tls_session *s)
{
    wolfSSL_SESSION_free(s->sess);
    myr__free(s->server);
    myr__free(s);
}

static void tls_loop_free(void *p)
{
    tls_loop *L = p;
    while (L->sessions != NULL) {
        tls_session *s = L->sessions;
        L->sessions = s->next;
        session_free(s);
    }
    while (L->ctxs != NULL) {
        tls_ctx *x = L->ctxs;
        L->ctxs = x->next;
        wolfSSL_CTX_free(x->ctx);
        myr__free(x->key);
        myr__free(x);
    }
    myr__free(L);
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;
static void init_wolfssl(void) { init_rc = wolfSSL_Init(); }

static tls_loop *loop_tls(myr_loop *loop)
{
    if (loop->tls == NULL) {
        pthread_once(&init_once, init_wolfssl);
        if (init_rc != WOLFSSL_SUCCESS)
            return NULL;
        loop->tls = myr__calloc(1, sizeof(tls_loop));
        loop->tls_free = tls_loop_free;
    }
    return loop->tls;
}

static const char *s_or(const char *s) { return s ? s : ""; }

/* A context for these options: the loop's, or a new one it keeps. */
static WOLFSSL_CTX *ctx_get(myr_loop *loop, const myr_conn_opts *o, int sys_ca, char *why, size_t wl)
{
    tls_loop *L = loop_tls(loop);
    if (L == NULL) {
        snprintf(why, wl, "cannot initialise wolfSSL");
        return NULL;
    }
    int v = myr__tls_versions(o->tls_version);
    size_t klen = strlen(s_or(o->ssl_ca)) + strlen(s_or(o->ssl_capath)) + strlen(s_or(o->ssl_cert)) +
                  strlen(s_or(o->ssl_key)) + strlen(s_or(o->ssl_cipher)) + 32;
    char *key = myr__malloc(klen);
    if (key == NULL) {
        snprintf(why, wl, "out of memory");
        return NULL;
    }
    snprintf(key, klen, "%d\1%d\1%s\1%s\1%s\1%s\1%s", v, sys_ca, s_or(o->ssl_ca), s_or(o->ssl_capath),
             s_or(o->ssl_cert), s_or(o->ssl_key), s_or(o->ssl_cipher));
    for (tls_ctx *x = L->ctxs; x != NULL; x = x->next)
        if (strcmp(x->key, key) == 0) {
            myr__free(key);
            return x->ctx;
        }

    WOLFSSL_METHOD *m = v == MYR__TLS12   ? wolfTLSv1_2_client_method()
                        : v == MYR__TLS13 ? wolfTLSv1_3_client_method()
                                          : wolfSSLv23_client_method();
    WOLFSSL_CTX *ctx = m ? wolfSSL_CTX_new(m) : NULL;
    tls_ctx *x = myr__calloc(1, sizeof *x);
    if (ctx == NULL || x == NULL) {
        snprintf(why, wl, "out of memory");
        goto fail;
    }
    if (v == (MYR__TLS12 | MYR__TLS13))
        wolfSSL_CTX_SetMinVersion(ctx, WOLFSSL_TLSV1_2);
    /* X25519 first: the key exchange of every TLS 1.3 handshake (resumed
     * ones too); far cheaper than P-256 in this wolfSSL build. P-256 stays
     * for servers without it. (wolfSSL takes the list only for 1.3.) */
    int groups[] = {WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1, WOLFSSL_ECC_SECP384R1};
    if ((v & MYR__TLS13) && wolfSSL_CTX_set_groups(ctx, groups, 3) != WOLFSSL_SUCCESS) {
        snprintf(why, wl, "cannot set the key exchange groups");
        goto fail;
    }
    /* TLS 1.2 only: the same order through the supported-curves extension
     * (left to wolfSSL's default, the server picked P-256 and a storm of
     * TLS 1.2 handshakes cost ~10x the client CPU of TLS 1.3 ones). */
    for (int i = 0; v == MYR__TLS12 && i < 3; i++)
        if (wolfSSL_CTX_UseSupportedCurve(ctx, (word16)groups[i]) != WOLFSSL_SUCCESS) {
            snprintf(why, wl, "cannot set the key exchange curves");
            goto fail;
        }
    /* Checking is per connection (wolfSSL_set_verify), by mode. */
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
    const char *ciphers = o->ssl_cipher ? o->ssl_cipher : default_ciphers;
    if (wolfSSL_CTX_set_cipher_list(ctx, ciphers) != WOLFSSL_SUCCESS) {
        snprintf(why, wl, "no usable cipher in the cipher list '%.200s'", ciphers);
        goto fail;
    }
    if (o->ssl_ca && wolfSSL_CTX_load_verify_locations(ctx, o->ssl_ca, NULL) != WOLFSSL_SUCCESS) {
        snprintf(why, wl, "cannot load the CA file '%.200s'", o->ssl_ca);
        goto fail;
    }
    if (o->ssl_capath && wolfSSL_CTX_load_verify_locations_ex(ctx, NULL, o->ssl_capath,
                                                               WOLFSSL_LOAD_FLAG_IGNORE_ERR) !=
                             WOLFSSL_SUCCESS) {
        snprintf(why, wl, "cannot load CA certificates from the directory '%.200s'", o->ssl_capath);
        goto fail;
    }
    if (sys_ca && wolfSSL_CTX_load_system_CA_certs(ctx) != WOLFSSL_SUCCESS) {
        snprintf(why, wl, "no CA given (MYR_OPT_SSL_CA / MYR_OPT_SSL_CAPATH) and the system's CA "
                          "store cannot be loaded");
        goto fail;
    }
    if (o->ssl_cert) {
        const char *kf = o->ssl_key ? o->ssl_key : o->ssl_cert;
        if (wolfSSL_CTX_use_certificate_chain_file(ctx, o->ssl_cert) != WOLFSSL_SUCCESS) {
            snprintf(why, wl, "cannot load the client certificate '%.200s'", o->ssl_cert);
            goto fail;
        }
        if (wolfSSL_CTX_use_PrivateKey_file(ctx, kf, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS) {
            snprintf(why, wl, "cannot load the client key '%.200s'", kf);
            goto fail;
        }
        if (wolfSSL_CTX_check_private_key(ctx) != WOLFSSL_SUCCESS) {
            snprintf(why, wl, "the client key '%.200s' does not match the certificate '%.200s'", kf,
                     o->ssl_cert);
            goto fail;
        }
    } else if (o->ssl_key) {
        snprintf(why, wl, "a client key without a client certificate (MYR_OPT_SSL_CERT)");
        goto fail;
    }
    x->ctx = ctx;
    x->key = key;
    x->next = L->ctxs;
    L->ctxs = x;
    return ctx;
fail:
    if (ctx != NULL)
        wolfSSL_CTX_free(ctx);
    myr__free(x);
    myr__free(key);
    return NULL;
}

static tls_session **session_find(tls_loop *L, const WOLFSSL_CTX *ctx, const char *server)
{
    for (tls_session **p = &L->sessions; *p != NULL; p = &(*p)->next)
        if ((*p)->ctx == ctx && strcmp((*p)->server, server) == 0)
            return p;
    return NULL;
}

/* Once the session can be resumed (under TLS 1.3 that is after the
 * server's ticket arrived, which follows the handshake), keep it for the
 * next connection to this server. */
static void session_save(myr_conn *c)
{
    struct myr__tls *t = c->tls;
    tls_loop *L = c->loop->tls;
    if (t->saved || L == NULL || t->server == NULL)
        return;
    if (t->untrusted) {   /* a resumption would skip the certificate and its proof */
        t->saved = 1;
        return;
    }
    /* A resumed session's ticket came from the one we hold: keep that one
     * (replacing it at every resumption made a thousand concurrent
     * resumptions fail with the server's illegal_parameter alert). A full
     * handshake (first, or the server refused the old ticket) refreshes it. */
    if (wolfSSL_session_reused(t->ssl)) {
        t->saved = 1;
        return;
    }
    WOLFSSL_SESSION *sess = wolfSSL_get1_session(t->ssl);
    if (sess == NULL)
        return;
    /* Under TLS 1.3 the legacy session id alone makes wolfSSL call a
     * session resumable: only a ticket does. */
    int ok = wolfSSL_version(t->ssl) == TLS1_3_VERSION ? wolfSSL_SESSION_has_ticket(sess)
                                                       : wolfSSL_SESSION_is_resumable(sess);
    if (!ok) {
        wolfSSL_SESSION_free(sess);
        return;
    }
    t->saved = 1;
    const WOLFSSL_CTX *ctx = wolfSSL_get_SSL_CTX(t->ssl);
    tls_session **p = session_find(L, ctx, t->server), *s;
    if (p != NULL) {
        s = *p;
        *p = s->next;
        wolfSSL_SESSION_free(s->sess);
    } else {
        s = myr__calloc(1, sizeof *s);
        if (s == NULL || (s->server = myr__strdup(t->server)) == NULL) {
            myr__free(s);
            wolfSSL_SESSION_free(sess);
            return;
        }
        s->ctx = ctx;
        if (++L->nsessions > MAX_SESSIONS) {   /* drop the oldest */
            tls_session **q = &L->sessions;
            while ((*q)->next != NULL)
                q = &(*q)->next;
            session_free(*q);
            *q = NULL;
            L->nsessions--;
        }
    }
    s->sess = sess;
    s->tls13 = wolfSSL_version(t->ssl) == TLS1_3_VERSION;
    /* OpenSSL servers refuse psk_ke unless told to accept it
     * (SSL_OP_ALLOW_NO_DHE_KEX): every psk_ke-only offer would then end in
     * a full handshake. */
    if (t->psk_ke)
        s->psk_ke_refused = 1;
    s->next = L->sessions;
    L->sessions = s;
}

/* ------------------------------------------------------ wolfSSL's I/O */

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    (void)ssl;
    myr_conn *c = ctx;
    struct myr__tls *t = c->tls;
    size_t have = myr__buf_unread(&t->cin);
    if (have == 0)
        return t->eof ? WOLFSSL_CBIO_ERR_CONN_CLOSE : WOLFSSL_CBIO_ERR_WANT_READ;
    size_t n = have < (size_t)sz ? have : (size_t)sz;
    memcpy(buf, myr__buf_rptr(&t->cin), n);
    t->cin.rpos += n;
    return (int)n;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    (void)ssl;
    myr_conn *c = ctx;
    struct myr__tls *t = c->tls;
    if (myr__loop_buf_take(c->loop, &t->cout) != 0 || myr__buf_append(&t->cout, buf, (size_t)sz) != 0) {
        t->nomem = 1;
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
    return sz;
}

/* ---------------------------------------------------------- errors */

/* Why wolfSSL failed, in words users can act on. */
static void describe(myr_conn *c, int err, char *why, size_t wl)
{
    struct myr__tls *t = c->tls;
    const char *host = c->opts.host ? c->opts.host : "localhost";
    if (t->misnamed)
        err = DOMAIN_NAME_MISMATCH;
    switch (err) {
    case ASN_NO_SIGNER_E:
    case ASN_SELF_SIGNED_E:
        snprintf(why, wl, "certificate verification failed: unknown CA (the server's certificate "
                          "does not chain to a trusted CA; set MYR_OPT_SSL_CA)");
        return;
    case DOMAIN_NAME_MISMATCH:
    case IPADDR_MISMATCH:
        snprintf(why, wl, "certificate verification failed: name mismatch (the server's certificate "
                          "does not name '%.200s')", host);
        return;
    case ASN_AFTER_DATE_E:
        snprintf(why, wl, "certificate verification failed: the server's certificate has expired");
        return;
    case ASN_BEFORE_DATE_E:
        snprintf(why, wl, "certificate verification failed: the server's certificate is not valid yet");
        return;
    case ASN_SIG_CONFIRM_E:
        snprintf(why, wl, "certificate verification failed: bad signature on the server's certificate");
        return;
    default:
        break;
    }
    if (t->nomem) {
        snprintf(why, wl, "out of memory");
        return;
    }
    if (t->eof || err == SOCKET_PEER_CLOSED_E) {
        snprintf(why, wl, "the server closed the connection during the TLS handshake");
        return;
    }
    char buf[WOLFSSL_MAX_ERROR_SZ];
    wolfSSL_ERR_error_string_n((unsigned long)err, buf, sizeof buf);
    WOLFSSL_ALERT_HISTORY h;
    if (err == FATAL_ERROR && wolfSSL_get_alert_history(t->ssl, &h) == WOLFSSL_SUCCESS &&
        h.last_rx.level == alert_fatal) {
        snprintf(why, wl, "TLS handshake failed: the server sent the alert '%s' (%d)",
                 wolfSSL_alert_desc_string_long(h.last_rx.code), h.last_rx.code);
        return;
    }
    snprintf(why, wl, "TLS handshake failed: %s (%d)", buf, err);
}

static void tls_fail(myr_conn *c, int err)
{
    char why[320];
    describe(c, err, why, sizeof why);
    myr__conn_fail(c, MYR_ETLS, 2026, "SSL connection error: %s", why);
}

/* ---------------------------------------------------------- sending */

/* Send what is unread in c->sending; quiet (ur_send_quiet: its success
 * does not wake the loop, so a round trip costs one io_uring_enter, as in
 * plaintext) when asked, ordinary otherwise. */
static int send_sending(myr_conn *c, int quiet)
{
    const void *p = myr__buf_rptr(&c->sending);
    size_t n = myr__buf_unread(&c->sending);
    int flags = MSG_WAITALL | MSG_NOSIGNAL;
    int rc = quiet ? ur_send_quiet(&c->owner, MYR__TAG_SEND, c->fd, p, n, flags, &c->send_id)
                   : ur_send(&c->owner, MYR__TAG_SEND, c->fd, p, n, flags, &c->send_id);
    if (rc == 0) {
        c->send_busy = 1;
        c->send_quiet = (uint8_t)quiet;
    }
    return rc;
}

/* Ciphertext waiting in cout goes out, unless a send is in flight; quiet
 * only when it ends with records of a command the server will answer
 * (tls_flush). Handshake records and alerts go ordinary. */
static int pump(myr_conn *c, int quiet)
{
    struct myr__tls *t = c->tls;
    if (c->send_busy || myr__buf_unread(&t->cout) == 0)
        return 0;
    myr__buf tmp = c->sending;
    myr__buf_reset(&tmp);
    c->sending = t->cout;
    t->cout = tmp;
    t->plain_flight = t->plain_pending;
    t->plain_pending = 0;
    int rc = send_sending(c, quiet);
    return rc < 0 ? rc : 1;
}

static int tls_flush(myr_conn *c)
{
    struct myr__tls *t = c->tls;
    if (!t->hs_done || c->send_busy || myr__buf_unread(&c->out) == 0)
        return 0;
    size_t n = myr__buf_unread(&c->out);
    const uint8_t *p = myr__buf_rptr(&c->out);
    size_t done = 0;
    while (done < n) {
        size_t chunk = n - done > (1u << 30) ? (1u << 30) : n - done;
        int w = wolfSSL_write(t->ssl, p + done, (int)chunk);
        if (w <= 0)
            return t->nomem ? MYR_ENOMEM : MYR_ETLS;
        done += (size_t)w;
    }
    t->plain_pending += n;
    if (c->secret_out) {   /* login bytes (a password): no plaintext copy stays behind */
        myr__buf_wipe(&c->out);
        c->secret_out = 0;
    }
    myr__buf_reset(&c->out);
    int rc = pump(c, myr__conn_out_answered(c));
    return rc < 0 ? rc : 1;
}

static void on_send(myr_conn *c, int res)
{
    struct myr__tls *t = c->tls;
    c->send_busy = 0;
    if (c->state == MYR__CS_DEAD)
        return;
    if (res == -EAGAIN && c->send_quiet)
        res = 0;   /* no room in the socket buffer: the whole send goes again, waiting */
    if (res < 0) {
        myr__conn_lost(c, -res);
        return;
    }
    c->sending.rpos += (size_t)res;
    if (myr__buf_unread(&c->sending) > 0) {
        /* A short send (a quiet one that found the socket buffer full, a
         * signal): the rest now, waiting for room. */
        int rc = send_sending(c, 0);
        if (rc < 0)
            myr__conn_lost(c, -rc);
        return;
    }
    myr__buf_reset(&c->sending);
    if (c->ncmds == 0 || c->sending.cap > (1u << 16))
        myr__loop_buf_give(c->loop, &c->sending);
    size_t n = t->plain_flight;
    t->plain_flight = 0;
    int rc = pump(c, 0);   /* records made meanwhile (handshake, alerts) */
    if (rc < 0) {
        myr__conn_lost(c, -rc);
        return;
    }
    myr__conn_sent(c, n);
}

/* ---------------------------------------------------------- receiving */

static int tls_recv(myr_conn *c, int idle)
{
    struct myr__tls *t = c->tls;
    if (c->recv_busy)
        return 0;
    /* On the loop's ring, as the plaintext transport (the ciphertext is
     * copied into cin for wolfSSL). */
    int armed = myr__socket_recv_ring(c);
    if (armed != 0)
        return armed;
    if (idle)
        return 0;   /* a receive of our own would hold a buffer */
    c->recv_ring = 0;
    size_t want = RECV_MIN;
    size_t unread = myr__buf_unread(&c->in);
    if (c->need > unread && c->need - unread > want)
        want = c->need - unread + 64;
    if (t->cin.rpos == t->cin.len)
        myr__buf_reset(&t->cin);
    if (myr__loop_buf_take(c->loop, &t->cin) != 0 || myr__buf_reserve(&t->cin, want) != 0)
        return MYR_ENOMEM;
    size_t room = t->cin.cap - t->cin.len;
    int rc = ur_recv(&c->owner, MYR__TAG_RECV, c->fd, t->cin.data + t->cin.len, room, 0, &c->recv_id);
    if (rc < 0)
        return rc;
    c->recv_busy = 1;
    return 1;
}

/* Decrypt what wolfSSL can from cin into c->in. Returns bytes added, or -1
 * when the connection died. */
static long decrypt(myr_conn *c)
{
    struct myr__tls *t = c->tls;
    long added = 0;
    for (;;) {
        if (c->in.rpos == c->in.len)
            myr__buf_reset(&c->in);
        if (myr__loop_buf_take(c->loop, &c->in) != 0 || myr__buf_reserve(&c->in, READ_CHUNK) != 0) {
            myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory for a receive buffer");
            return -1;
        }
        size_t room = c->in.cap - c->in.len;
        if (room > 0x40000000u)
            room = 0x40000000u;
        int r = wolfSSL_read(t->ssl, c->in.data + c->in.len, (int)room);
        if (r > 0) {
            c->in.len += (size_t)r;
            added += r;
            continue;
        }
        int err = wolfSSL_get_error(t->ssl, r);
        if (err == WOLFSSL_ERROR_WANT_READ)
            return added;
        if (err == WOLFSSL_ERROR_ZERO_RETURN || t->eof) {
            if (added > 0)
                return added;   /* parse what came before the close first */
            myr__conn_lost(c, 0);
            return -1;
        }
        if (t->nomem)
            myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory in TLS");
        else
            tls_fail(c, err);
        return -1;
    }
}

static void received(myr_conn *c);

static void on_recv(myr_conn *c, int res)
{
    struct myr__tls *t = c->tls;
    c->recv_busy = 0;
    if (c->state == MYR__CS_DEAD)
        return;
    if (res < 0) {
        myr__conn_lost(c, -res);
        return;
    }
    if (res == 0)
        t->eof = 1;
    else
        t->cin.len += (size_t)res;
    received(c);
}

/* A completion of the receive on the loop's ring. */
static void on_ring_recv(myr_conn *c, int res, uint32_t flags)
{
    struct myr__tls *t = c->tls;
    ur_bufring *br = c->loop->bufring;
    int more = (flags & UR_CQE_MORE) != 0;
    if (!more)
        c->recv_busy = 0;
    unsigned bid;
    uint8_t *data = ur_bufring_get(br, flags, &bid);
    if (data != NULL) {
        int keep = res > 0 && c->state != MYR__CS_DEAD;
        if (keep) {
            if (t->cin.rpos == t->cin.len)
                myr__buf_reset(&t->cin);
            if (((size_t)res > MYR__IOBUF_SIZE || myr__loop_buf_take(c->loop, &t->cin) == 0) &&
                myr__buf_append(&t->cin, data, (size_t)res) == 0) {
                ur_bufring_put(br, bid, flags, res);
                received(c);
            } else {
                ur_bufring_put(br, bid, flags, res);
                myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory for a receive buffer");
            }
        } else {
            ur_bufring_put(br, bid, flags, res);
        }
        myr__socket_ring_next(c, more, res);
        return;
    }
    if (more || c->state == MYR__CS_DEAD || myr__socket_ring_rearm(c, res))
        return;
    if (res < 0) {
        myr__conn_lost(c, -res);
        return;
    }
    t->eof = 1;
    received(c);
}

/* Ciphertext came (or the end of the stream: t->eof): the handshake goes
 * on, or records are decrypted into c->in and parsed. */
static void received(myr_conn *c)
{
    struct myr__tls *t = c->tls;
    if (!t->hs_done) {
        int r = wolfSSL_connect(t->ssl);
        if (r != WOLFSSL_SUCCESS) {
            int err = wolfSSL_get_error(t->ssl, r);
            if (err == WOLFSSL_ERROR_WANT_READ && !t->eof) {
                int rc = pump(c, 0);
                if (rc < 0) {
                    myr__conn_lost(c, -rc);
                    return;
                }
                myr__conn_kick(c);   /* re-arm the recv */
                return;
            }
            tls_fail(c, err);
            return;
        }
        t->hs_done = 1;
        /* The login waiting in c->out can go now (with the Finished). */
        myr__conn_sent(c, 0);
        if (c->state == MYR__CS_DEAD)
            return;
    }
    long got = decrypt(c);
    if (got < 0 || c->state == MYR__CS_DEAD)
        return;
    if (!t->saved)
        session_save(c);
    if (myr__buf_unread(&t->cin) == 0)
        myr__buf_reset(&t->cin);
    int rc = pump(c, 0);
    if (rc < 0) {
        myr__conn_lost(c, -rc);
        return;
    }
    if (got > 0)
        myr__conn_input(c);
    else if (t->eof)
        myr__conn_lost(c, 0);
    else
        myr__conn_kick(c);
}

static void tls_complete(myr_conn *c, uint32_t tag, int res, uint32_t cqe_flags)
{
    if (tag == MYR__TAG_SEND)
        on_send(c, res);
    else if (c->recv_ring)
        on_ring_recv(c, res, cqe_flags);
    else
        on_recv(c, res);
}

static void tls_idle(myr_conn *c)
{
    struct myr__tls *t = c->tls;
    if (!c->send_busy)
        myr__loop_buf_give(c->loop, &c->sending);
    if ((!c->recv_busy || c->recv_ring) && myr__buf_unread(&t->cin) == 0) {
        myr__buf_reset(&t->cin);
        myr__loop_buf_give(c->loop, &t->cin);
    }
    myr__loop_buf_give(c->loop, &t->cout);
}

static void tls_free(myr_conn *c)
{
    struct myr__tls *t = c->tls;
    myr__buf_reset(&c->sending);
    myr__loop_buf_give(c->loop, &c->sending);
    if (t == NULL)
        return;
    if (t->ssl != NULL)
        wolfSSL_free(t->ssl);
    myr__free(t->server);
    myr__buf_reset(&t->cin);
    myr__buf_reset(&t->cout);
    myr__loop_buf_give(c->loop, &t->cin);
    myr__loop_buf_give(c->loop, &t->cout);
    myr__free(t);
    c->tls = NULL;
}

/* 1 if host is an IP address literal; an IPv6 one is rewritten into ip6
 * the way wolfSSL prints the IP SANs it compares with (eight groups of four
 * upper-case hex digits: "::1" is 0000:...:0001). */
static int is_ip(const char *host, char ip6[40])
{
    unsigned char a[16];
    ip6[0] = '\0';
    if (inet_pton(AF_INET, host, a) == 1)
        return 1;
    if (inet_pton(AF_INET6, host, a) != 1)
        return 0;
    for (int i = 0; i < 8; i++)
        snprintf(ip6 + 5 * i, 6, "%02X%02X%s", a[2 * i], a[2 * i + 1], i < 7 ? ":" : "");
    return 1;
}

static int is_ip(const char *host, char ip6[40]);

/* Does the certificate name host (VERIFY_IDENTITY)? */
static int names_host(const myr_conn *c, WOLFSSL_X509 *x)
{
    const char *host = c->opts.host && c->addr_family != AF_UNIX ? c->opts.host : "localhost";
    char ip6[40];
    if (x == NULL)
        return 0;
    if (is_ip(host, ip6))
        return wolfSSL_X509_check_ip_asc(x, ip6[0] ? ip6 : host, 0) == WOLFSSL_SUCCESS;
    return wolfSSL_X509_check_host(x, host, strlen(host), 0, NULL) == WOLFSSL_SUCCESS;
}

/* wolfSSL's verdict on each certificate of the chain. With
 * c->tls_certproof, one that fails only because no CA we know signed it
 * passes, marked untrusted: the login's OK must prove it. */
static int verify_cb(int ok, WOLFSSL_X509_STORE_CTX *st)
{
    myr_conn *c = st->userCtx;
    if (ok || c == NULL || c->tls == NULL || !c->tls_certproof)
        return ok;
    switch (st->error) {   /* wolfSSL's codes, or OpenSSL's with its compatibility layer */
    case ASN_NO_SIGNER_E:
    case ASN_SELF_SIGNED_E:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        break;
    default:
        return 0;
    }
    /* wolfSSL checks the host name only on a chain it verified itself. */
    if (c->tls->mode == MYR_SSL_VERIFY_IDENTITY && wolfSSL_X509_STORE_CTX_get_error_depth(st) == 0 &&
        !names_host(c, wolfSSL_X509_STORE_CTX_get_current_cert(st))) {
        c->tls->misnamed = 1;
        return 0;
    }
    c->tls->untrusted = 1;
    return 1;
}

static int tls_untrusted(const myr_conn *c, uint8_t fp[32])
{
    const struct myr__tls *t = c->tls;
    if (t == NULL || !t->untrusted)
        return 0;
    if (fp == NULL)
        return 1;
    WOLFSSL_X509_CHAIN *chain = wolfSSL_get_peer_chain(t->ssl);
    int len = chain && wolfSSL_get_chain_count(chain) > 0 ? wolfSSL_get_chain_length(chain, 0) : 0;
    const unsigned char *der = len > 0 ? wolfSSL_get_chain_cert(chain, 0) : NULL;
    if (der == NULL || wc_Sha256Hash(der, (word32)len, fp) != 0)
        return -1;
    return 1;
}

static int tls_start(myr_conn *c, const void *raw, size_t n, char *why, size_t wl)
{
    const myr_conn_opts *o = &c->opts;
    int mode = o->ssl_mode ? o->ssl_mode : MYR_SSL_PREFERRED;
    int verify = mode >= MYR_SSL_VERIFY_CA;
    WOLFSSL_CTX *ctx = ctx_get(c->loop, o, verify && !o->ssl_ca && !o->ssl_capath, why, wl);
    if (ctx == NULL)
        return MYR_ETLS;
    struct myr__tls *t = myr__calloc(1, sizeof *t);
    if (t == NULL) {
        snprintf(why, wl, "out of memory");
        return MYR_ENOMEM;
    }
    c->tls = t;
    t->mode = mode;
    t->ssl = wolfSSL_new(ctx);
    if (t->ssl == NULL) {
        snprintf(why, wl, "out of memory");
        return MYR_ENOMEM;
    }
    wolfSSL_SSLSetIORecv(t->ssl, io_recv);
    wolfSSL_SSLSetIOSend(t->ssl, io_send);
    wolfSSL_SetIOReadCtx(t->ssl, c);
    wolfSSL_SetIOWriteCtx(t->ssl, c);
    const char *host = o->host && c->addr_family != AF_UNIX ? o->host : "localhost";
    char ip6[40];
    int ip = is_ip(host, ip6);
    if (!ip && wolfSSL_UseSNI(t->ssl, WOLFSSL_SNI_HOST_NAME, host, (unsigned short)strlen(host)) !=
                   WOLFSSL_SUCCESS) {
        snprintf(why, wl, "cannot set the server name (SNI) '%.200s'", host);
        return MYR_ETLS;
    }
    if (verify) {
        wolfSSL_set_verify(t->ssl, WOLFSSL_VERIFY_PEER, c->tls_certproof ? verify_cb : NULL);
        wolfSSL_SetCertCbCtx(t->ssl, c);
        if (mode == MYR_SSL_VERIFY_IDENTITY) {
            int ok = ip ? wolfSSL_X509_VERIFY_PARAM_set1_ip_asc(wolfSSL_get0_param(t->ssl),
                                                                ip6[0] ? ip6 : host)
                        : wolfSSL_check_domain_name(t->ssl, host);
            if (ok != WOLFSSL_SUCCESS) {
                snprintf(why, wl, "cannot set the host name '%.200s' to check", host);
                return MYR_ETLS;
            }
        }
    }
    /* Resume the last session with this server, if the loop has one. */
    char server[300];
    snprintf(server, sizeof server, "%s %d", c->addr_family == AF_UNIX ? s_or(o->unix_socket) : host,
             c->addr_family == AF_UNIX ? 0 : o->port);
    if ((t->server = myr__strdup(server)) == NULL) {
        snprintf(why, wl, "out of memory");
        return MYR_ENOMEM;
    }
    tls_session **sp = o->tls_no_resume ? NULL : session_find(c->loop->tls, ctx, server);
    t->saved = o->tls_no_resume;   /* nothing to keep either */
    if (sp != NULL) {
        wolfSSL_set_session(t->ssl, (*sp)->sess);
        /* Opt-in: resume with psk_ke only (no X25519 on either side, no
         * forward secrecy for this connection). Only a TLS 1.3 session has
         * the choice (TLS 1.2 resumptions never exchange keys). */
        if (o->tls_psk_only && (*sp)->tls13 && !(*sp)->psk_ke_refused) {
            if (wolfSSL_no_dhe_psk(t->ssl) != 0) {
                snprintf(why, wl, "cannot restrict the resumption to psk_ke");
                return MYR_ETLS;
            }
            t->psk_ke = 1;
        }
    }
    /* The SSLRequest leaves first, in clear, with the ClientHello behind it. */
    if (myr__loop_buf_take(c->loop, &t->cout) != 0 || myr__buf_append(&t->cout, raw, n) != 0) {
        snprintf(why, wl, "out of memory");
        return MYR_ENOMEM;
    }
    t->plain_pending = n;
    int r = wolfSSL_connect(t->ssl);
    int err = r == WOLFSSL_SUCCESS ? 0 : wolfSSL_get_error(t->ssl, r);
    if (err != WOLFSSL_ERROR_WANT_READ) {
        describe(c, err, why, wl);
        return MYR_ETLS;
    }
    int rc = pump(c, 0);
    if (rc < 0) {
        snprintf(why, wl, "cannot queue a send: %s", myr_strerror(rc));
        return rc;
    }
    return 0;
}

const myr__transport myr__transport_tls = {
    .name = "tls",
    .flush = tls_flush,
    .recv = tls_recv,
    .complete = tls_complete,
    .abort = myr__socket_abort,   /* the socket's ops: as plaintext */
    .idle = tls_idle,
    .free = tls_free,
    .start = tls_start,
    .untrusted = tls_untrusted,
    .secure = 1,   /* the auth plugins may send a password in clear over it */
};

/* ---------------------------------------------------------- accessors */

const char *myr_conn_tls_version(const myr_conn *c)
{
    if (c == NULL || c->tls == NULL || !c->tls->hs_done)
        return "";
    return wolfSSL_get_version(c->tls->ssl);
}

int myr_conn_tls_resumed(const myr_conn *c)
{
    if (c == NULL || c->tls == NULL || !c->tls->hs_done)
        return 0;
    return wolfSSL_session_reused(c->tls->ssl) ? 1 : 0;
}

const char *myr_conn_tls_cipher(const myr_conn *c)
{
    if (c == NULL || c->tls == NULL || !c->tls->hs_done)
        return "";
    const char *s = wolfSSL_get_cipher_name(c->tls->ssl);
    return s ? s : "";
}

const char *myr_conn_tls_group(const myr_conn *c)
{
    if (c == NULL || c->tls == NULL || !c->tls->hs_done)
        return "";
    const char *s = wolfSSL_get_curve_name(c->tls->ssl);
    return s ? s : "";
}
