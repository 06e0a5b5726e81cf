/*
 * src/conn_auth.c -- the connection's handshake: greeting, login, auth
 * switch and auth-more-data, up to the OK that makes it READY. What each
 * auth plugin answers is in conn_plugin.c. Packets in READY go to
 * conn_cmd.c.
 *
 * Secrets: the answers are built in stack buffers that are wiped once
 * queued; the packet bytes are wiped by the transport once sent
 * (c->secret_out). The password copy in c->opts stays while the
 * connection lives (myr_cancel logs a side connection in with it) and is
 * zeroed when the connection dies or is freed.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "conn_plugin.h"

/* What we ask for; the login sends this & the server's capabilities. */
#define MYR__CLIENT_CAPS                                                                    \
    (MYR__CLIENT_LONG_PASSWORD | MYR__CLIENT_LONG_FLAG | MYR__CLIENT_PROTOCOL_41 |          \
     MYR__CLIENT_TRANSACTIONS | MYR__CLIENT_SECURE_CONNECTION | MYR__CLIENT_MULTI_RESULTS |  \
     MYR__CLIENT_PS_MULTI_RESULTS | MYR__CLIENT_PLUGIN_AUTH |                                \
     MYR__CLIENT_PLUGIN_AUTH_LENENC_DATA | MYR__CLIENT_CONNECT_ATTRS |                       \
     MYR__CLIENT_DEPRECATE_EOF)

static void server_error(myr_conn *c, const uint8_t *p, size_t len)
{
    myr__err e;
    if (myr__err_parse(p, len, MYR__CLIENT_PROTOCOL_41, &e) != 0) {
        myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (error packet)");
        return;
    }
    myr_error err;
    myr__error_set(&err, MYR_ESERVER, e.code, e.sqlstate, "%.*s", (int)e.message_len,
                   (const char *)e.message);
    myr__conn_die(c, &err);
}

static void send_login(myr_conn *c)
{
    myr__greeting *g = &c->hs->greeting;
    if (!(g->caps & MYR__CLIENT_PROTOCOL_41)) {
        myr__conn_fail(c, MYR_ENOTSUP, 2027, "server does not speak protocol 4.1");
        return;
    }
    uint32_t want = MYR__CLIENT_CAPS;
    if (c->opts.multi_statements)
        want |= MYR__CLIENT_MULTI_STATEMENTS;
    if (c->opts.database && c->opts.database[0])
        want |= MYR__CLIENT_CONNECT_WITH_DB;
    c->caps = want & g->caps;
    if (!c->opts.no_mariadb_ext) {
        c->mariadb_caps = g->mariadb_caps & (MYR__MARIADB_CLIENT_STMT_BULK_OPERATIONS |
                                             MYR__MARIADB_CLIENT_CACHE_METADATA);
        c->direct_exec = myr__greeting_mariadb_at_least(g, 10, 2);
    }
    if (myr__conn_tls_begin(c) < 0)
        return;   /* failed (e.g. TLS required, server without it) */

    /* A greeting plugin we cannot use: offer native password instead; the
     * server switches us if it wants another. */
    const char *plugin = g->plugin[0] && myr__plugin_usable(c, g->plugin) ? g->plugin : "mysql_native_password";
    uint8_t auth[MYR__AUTH_MAX];
    size_t auth_len = 0;
    if (myr__plugin_start(c, plugin, g->scramble, g->scramble_len, auth, &auth_len) != 0)
        return;   /* failed the connection */

    char pid[24], os[80];
    struct utsname un;
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    snprintf(os, sizeof os, "%s", uname(&un) == 0 ? un.sysname : "Linux");
    const char *attrs[] = {"_client_name", "myring", "_client_version", MYR_VERSION_STRING,
                           "_os", os, "_pid", pid, NULL};
    const char *cs = c->opts.charset ? c->opts.charset : "utf8mb4";
    myr__login login = {
        .caps = c->caps,
        .max_packet = 0x40000000u,   /* 1 GiB (MYR__MAX_PACKET): rows over 16 MiB just work */
        .charset = myr__charset_id(cs),
        .user = c->opts.user ? c->opts.user : "",
        .auth = auth,
        .auth_len = auth_len,
        .database = (c->caps & MYR__CLIENT_CONNECT_WITH_DB) ? c->opts.database : NULL,
        .plugin = c->plugin,
        .attrs = attrs,
        .mariadb_caps = c->mariadb_caps,
    };
    /* In the handshake each side answers the other's last packet: the
     * writer's sequence id continues from the one just read. */
    c->wseq = c->reader.seq;
    /* Room for the whole login first: a buffer that grows while the packet
     * is built would leave a copy of the auth data in freed memory. */
    size_t room = 4 + 32 + 2 * 9 + 3 + auth_len + strlen(login.user) + strlen(login.plugin) +
                  (login.database ? strlen(login.database) : 0);   /* header, head, lengths, NULs */
    for (size_t i = 0; attrs[i] != NULL; i++)
        room += 9 + strlen(attrs[i]);
    int rc = myr__loop_buf_take(c->loop, &c->out);
    if (rc == 0)
        rc = myr__buf_reserve(&c->out, room);
    c->secret_out = 1;
    if (rc == 0)
        rc = myr__login_build(&c->out, c->wseq, &login);
    explicit_bzero(auth, auth_len);
    if (rc != 0) {
        myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory building the login packet");
        return;
    }
    c->reader.seq = ++c->wseq;
    myr__conn_set_state(c, MYR__CS_AUTH);
    myr__conn_kick(c);
}

static void on_greeting(myr_conn *c, const uint8_t *p, size_t len)
{
    if (myr__is_err(p, len)) {   /* e.g. 1040 too many connections, 1129 host blocked */
        server_error(c, p, len);
        return;
    }
    if (myr__greeting_parse(p, len, &c->hs->greeting) != 0) {
        myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (server greeting)");
        return;
    }
    c->thread_id = c->hs->greeting.thread_id;
    /* MariaDB prefixes "5.5.5-" for old replication clients: not the version. */
    const char *v = c->hs->greeting.server_version;
    if (strncmp(v, "5.5.5-", 6) == 0)
        v += 6;
    snprintf(c->server_version, sizeof c->server_version, "%s", v);
    send_login(c);
}

/* Queue an answer of the plugin (and wipe it from the caller's buffer). */
static void send_auth_data(myr_conn *c, uint8_t *data, size_t len)
{
    c->wseq = c->reader.seq;
    int rc = myr__loop_buf_take(c->loop, &c->out);
    if (rc == 0)
        rc = myr__buf_reserve(&c->out, 4 + len);
    c->secret_out = 1;
    if (rc == 0)
        rc = myr__auth_data_build(&c->out, c->wseq, data, len);
    explicit_bzero(data, len);
    if (rc != 0) {
        myr__conn_fail(c, MYR_ENOMEM, 2008, "out of memory");
        return;
    }
    c->reader.seq = ++c->wseq;
    myr__conn_kick(c);
}

static void connected(myr_conn *c, const uint8_t *p, size_t len)
{
    myr__ok ok;
    if (myr__ok_parse(p, len, c->caps, &ok) != 0) {
        myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (login OK)");
        return;
    }
    if (myr__conn_tls_certproof(c, ok.info, ok.info_len) != 0)
        return;   /* failed the connection */
    c->server_status = ok.status;
    myr__conn_hs_free(c);   /* the handshake is over */
    myr__conn_set_state(c, MYR__CS_READY);
    ur_timer_stop(c->loop->ur, &c->timer);
    myr_future *f = c->connect_fut;
    c->connect_fut = NULL;
    c->user_owned = 1;
    f->val.conn = c;
    myr__future_resolve(f, 0, NULL);   /* myr__conn_input then returns the idle buffers */
}

static void on_auth_packet(myr_conn *c, const uint8_t *p, size_t len)
{
    if (len == 0) {
        myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (empty auth reply)");
        return;
    }
    switch (p[0]) {
    case 0x00:
        connected(c, p, len);
        return;
    case 0xFF:
        myr__plugin_refused(c);
        server_error(c, p, len);
        return;
    case 0xFE: {   /* AuthSwitchRequest */
        myr__auth_switch sw;
        if (myr__auth_switch_parse(p, len, &sw) != 0) {
            myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (auth switch)");
            return;
        }
        uint8_t auth[MYR__AUTH_MAX];
        size_t auth_len = 0;
        if (myr__plugin_start(c, sw.plugin, sw.data, sw.raw_len, auth, &auth_len) != 0)
            return;   /* failed the connection */
        send_auth_data(c, auth, auth_len);
        return;
    }
    case 0x01: {   /* AuthMoreData */
        uint8_t auth[MYR__AUTH_MAX];
        size_t auth_len = 0;
        if (myr__plugin_more(c, p + 1, len - 1, auth, &auth_len) == 1)
            send_auth_data(c, auth, auth_len);
        return;
    }
    default:
        myr__conn_fail(c, MYR_EMALFORMED, 2027, "Malformed packet (auth reply 0x%02x)", p[0]);
        return;
    }
}

void myr__conn_auth_packet(myr_conn *c, const uint8_t *p, size_t len)
{
    switch (c->state) {
    case MYR__CS_GREETING:
        on_greeting(c, p, len);
        break;
    case MYR__CS_AUTH:
        on_auth_packet(c, p, len);
        break;
    default:
        break;
    }
}
