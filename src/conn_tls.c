/*
 * src/conn_tls.c -- whether a connection starts TLS after the server's
 * greeting (MYR_OPT_SSL_MODE against what the server offers), and the
 * switch itself: the SSLRequest packet, then the TLS transport takes over
 * (transport_tls.c, reached through c->tls_tp so that this file, called by
 * the handshake, stays below the transports).
 *
 * MariaDB 11.4+ zero-configuration TLS: a server that made itself a
 * self-signed certificate proves it in the login's OK (a SHA-256 over the
 * account's password hash, the scramble and the certificate;
 * proto/auth_certproof.c). With VERIFY_CA or VERIFY_IDENTITY and no CA
 * given, against such a server and with a password, a certificate that no
 * CA in the system's store vouches for is let through the handshake
 * (expired, not yet valid or misnamed ones are not) and the connection
 * only becomes usable when the OK carries the right proof; meanwhile it
 * does not count as secure (no clear-text password plugin). Against older
 * servers, or without a password, nothing changes: an unknown CA fails the
 * handshake, as MariaDB Connector/C does there. A session of such a
 * connection is never kept for resumption.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conn_internal.h"

/* Does the server prove its certificate in the login's OK? MariaDB from
 * 11.4 on (its greeting's version, after any "5.5.5-" prefix). */
static int proves_certificate(const myr_conn *c)
{
    const char *v = c->server_version;
    if (strstr(v, "MariaDB") == NULL)
        return 0;
    char *end;
    long major = strtol(v, &end, 10);
    long minor = *end == '.' ? strtol(end + 1, NULL, 10) : 0;
    return major > 11 || (major == 11 && minor >= 4);
}

int myr__conn_tls_begin(myr_conn *c)
{
    int mode = c->opts.ssl_mode ? c->opts.ssl_mode : MYR_SSL_PREFERRED;
    if (mode == MYR_SSL_DISABLED || c->tls_tp == NULL)
        return 0;
    /* PREFERRED leaves a Unix socket alone: it is local, and TLS would only
     * cost time. REQUIRED and above mean it. */
    if (mode == MYR_SSL_PREFERRED && c->addr_family == AF_UNIX)
        return 0;
    if (!(c->hs->greeting.caps & MYR__CLIENT_SSL)) {
        if (mode == MYR_SSL_PREFERRED)
            return 0;
        myr__conn_fail(c, MYR_ETLS, 2026,
                       "SSL connection error: SSL is required but the server doesn't support it "
                       "(its greeting does not offer TLS; MYR_OPT_SSL_MODE is %s)",
                       mode == MYR_SSL_REQUIRED    ? "REQUIRED"
                       : mode == MYR_SSL_VERIFY_CA ? "VERIFY_CA"
                                                   : "VERIFY_IDENTITY");
        return -1;
    }
    c->caps |= MYR__CLIENT_SSL;
    c->tls_certproof = mode >= MYR_SSL_VERIFY_CA && !c->opts.ssl_ca && !c->opts.ssl_capath &&
                       c->opts.password && c->opts.password[0] && proves_certificate(c);
    const char *cs = c->opts.charset ? c->opts.charset : "utf8mb4";
    myr__buf req;
    myr__buf_init(&req);
    if (myr__ssl_request_build_ext(&req, c->reader.seq, c->caps, 0x40000000u, myr__charset_id(cs),
                                   c->mariadb_caps) != 0) {
        myr__buf_free(&req);
        myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory building the SSLRequest");
        return -1;
    }
    c->reader.seq++;   /* the login follows the SSLRequest */
    c->tp = c->tls_tp;
    char why[320] = "";
    int rc = c->tp->start(c, myr__buf_rptr(&req), myr__buf_unread(&req), why, sizeof why);
    myr__buf_free(&req);
    if (rc != 0) {
        if (rc == MYR_ENOMEM)
            myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory starting TLS");
        else
            myr__conn_fail(c, MYR_ETLS, 2026, "SSL connection error: %s", why);
        return -1;
    }
    return 1;
}

int myr__conn_tls_certproof(myr_conn *c, const uint8_t *info, size_t info_len)
{
    if (c->tp->untrusted == NULL || c->tp->untrusted(c, NULL) == 0)
        return 0;
    static const char untrusted[] =
        "SSL connection error: certificate verification failed: the server's certificate is not "
        "trusted (no CA vouches for it: set MYR_OPT_SSL_CA) and ";
    uint8_t fp[32], hash[32];
    size_t hash_len = 0;
    const char *pw = c->opts.password ? c->opts.password : "";
    if (c->tp->untrusted(c, fp) < 0) {
        myr__conn_fail(c, MYR_ETLS, 2026, "%sits certificate cannot be read", untrusted);
        return -1;
    }
    int rc = myr__certproof_hash(c->plugin, pw, strlen(pw), hash, &hash_len);
    if (rc == 0)
        rc = myr__certproof_check(info, info_len, hash, hash_len, c->hs->greeting.scramble,
                                  c->hs->greeting.scramble_len, fp);
    explicit_bzero(hash, sizeof hash);
    switch (rc) {
    case 0:
        return 0;
    case MYR_ENOTSUP:
        if (hash_len == 0)
            myr__conn_fail(c, MYR_ETLS, 2026,
                           "%sthe login used '%s', which cannot prove it (zero-configuration TLS "
                           "needs mysql_native_password or client_ed25519)",
                           untrusted, c->plugin);
        else
            myr__conn_fail(c, MYR_ETLS, 2026,
                           "%sthe server sent no proof of it in its OK (zero-configuration TLS)",
                           untrusted);
        return -1;
    case MYR_EAUTH:
        myr__conn_fail(c, MYR_ETLS, 2026,
                       "%sthe server's proof of it does not match (zero-configuration TLS: "
                       "someone between us and the server?)",
                       untrusted);
        return -1;
    default:
        myr__conn_fail(c, MYR_ETLS, 2026, "%sthe server's proof of it is malformed", untrusted);
        return -1;
    }
}
