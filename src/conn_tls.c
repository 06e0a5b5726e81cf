/*
 * src/conn_tls.c -- whether a connection starts TLS after the server's
 * greeting (MYR_OPT_SSL_MODE against what the server offers), and the
 * switch itself: the SSLRequest packet, then the TLS transport takes over
 * (transport_tls.c, reached through c->tls_tp so that this file, called by
 * the handshake, stays below the transports).
 */
#include <string.h>
#include <sys/socket.h>

#include "conn_internal.h"

int myr__conn_tls_begin(myr_conn *c)
{
    int mode = c->opts.ssl_mode ? c->opts.ssl_mode : MYR_SSL_PREFERRED;
    if (mode == MYR_SSL_DISABLED || c->tls_tp == NULL)
        return 0;
    /* PREFERRED leaves a Unix socket alone: it is local, and TLS would only
     * cost time. REQUIRED and above mean it. */
    if (mode == MYR_SSL_PREFERRED && c->addr_family == AF_UNIX)
        return 0;
    if (!(c->greeting.caps & MYR__CLIENT_SSL)) {
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
