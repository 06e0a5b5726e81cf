/* src/opts_defaults.c -- myr_conn_opts_read_defaults(): connection options
 * from the environment and the operator's option files, with the meaning
 * the reference clients give them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "myring/optfile.h"

enum key { K_HOST, K_PORT, K_SOCKET, K_USER, K_PASSWORD, K_DATABASE, K_CHARSET,
           K_CONNECT_TIMEOUT, K_READ_TIMEOUT, K_PROTOCOL, K_SSL, K_SKIP_SSL, K_SSL_MODE,
           K_SSL_VERIFY, K_SSL_FILE, K_TLS_VERSION, K_PUBKEY_PATH, K_GET_PUBKEY, K_CLEARTEXT };

/* Names as the reference clients spell them ('_' and '-' are the same). */
static const struct { const char *name; enum key key; } keys[] = {
    {"host", K_HOST},
    {"port", K_PORT},
    {"socket", K_SOCKET},
    {"user", K_USER},
    {"password", K_PASSWORD},
    {"database", K_DATABASE},
    {"default-character-set", K_CHARSET},
    {"connect-timeout", K_CONNECT_TIMEOUT},
    {"timeout", K_CONNECT_TIMEOUT},
    {"read-timeout", K_READ_TIMEOUT},
    {"protocol", K_PROTOCOL},
    {"ssl", K_SSL},
    {"skip-ssl", K_SKIP_SSL},
    {"ssl-mode", K_SSL_MODE},
    {"ssl-verify-server-cert", K_SSL_VERIFY},
    {"ssl-ca", K_SSL_FILE},
    {"ssl-capath", K_SSL_FILE},
    {"ssl-cert", K_SSL_FILE},
    {"ssl-key", K_SSL_FILE},
    {"ssl-cipher", K_SSL_FILE},
    {"tls-version", K_TLS_VERSION},
    {"server-public-key-path", K_PUBKEY_PATH},
    {"get-server-public-key", K_GET_PUBKEY},
    {"enable-cleartext-plugin", K_CLEARTEXT},
};

static int same_name(const char *written, const char *canon);

/* The string option behind each ssl-* file name. */
static myr_opt ssl_file_opt(const char *name)
{
    const char *n = name + 4; /* after "ssl-" / "ssl_" */
    return same_name(n, "ca") ? MYR_OPT_SSL_CA
         : same_name(n, "capath") ? MYR_OPT_SSL_CAPATH
         : same_name(n, "cert") ? MYR_OPT_SSL_CERT
         : same_name(n, "key") ? MYR_OPT_SSL_KEY
                               : MYR_OPT_SSL_CIPHER;
}

/* A boolean option's value as the reference reads it: none, 1/0,
 * on/off, true/false. -1 if it is none of these. */
static int bool_value(const char *v)
{
    if (v == NULL || !strcmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "true"))
        return 1;
    if (!strcmp(v, "0") || !strcasecmp(v, "off") || !strcasecmp(v, "false"))
        return 0;
    return -1;
}

typedef struct apply_ctx {
    myr_conn_opts *o;
    int force_tcp;
    int ssl_mode;        /* from ssl-mode / ssl / skip-ssl, 0 = not set */
    int ssl_implied;     /* an ssl-* file option: TLS required (MariaDB's rule) */
    int ssl_verify;      /* ssl-verify-server-cert */
    char *err;
    size_t errlen;
} apply_ctx;

static int same_name(const char *written, const char *canon)
{
    for (; *written && *canon; written++, canon++) {
        char w = *written == '_' ? '-' : *written;
        if (w != *canon)
            return 0;
    }
    return *written == '\0' && *canon == '\0';
}

/* A whole decimal number in 0..max, or -1. */
static int parse_num(const char *v, long max, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < 0 || n > max)
        return -1;
    *out = n;
    return 0;
}

static int set_str(myr_conn_opts *o, myr_opt opt, const char *v)
{
    return myr_conn_opts_set_str(o, opt, v);
}

static int on_option(const char *file, unsigned line, const char *group, const char *name,
                     const char *value, void *arg)
{
    apply_ctx *a = arg;
    (void)group;
    if (strncmp(name, "loose-", 6) == 0 || strncmp(name, "loose_", 6) == 0)
        name += 6;
    size_t i;
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (same_name(name, keys[i].name))
            break;
    if (i == sizeof keys / sizeof keys[0])
        return 0; /* not a connection option: another program's, ignored */
    /* "password" alone means "ask": a library cannot prompt, so it is no
     * password from this file. */
    const char *v = value ? value : "";
    long n;
    int rc = 0;
    switch (keys[i].key) {
    case K_HOST: rc = set_str(a->o, MYR_OPT_HOST, v); break;
    case K_SOCKET: rc = set_str(a->o, MYR_OPT_UNIX_SOCKET, v); break;
    case K_USER: rc = set_str(a->o, MYR_OPT_USER, v); break;
    case K_PASSWORD: rc = set_str(a->o, MYR_OPT_PASSWORD, value ? value : NULL); break;
    case K_DATABASE: rc = set_str(a->o, MYR_OPT_DATABASE, v); break;
    case K_CHARSET: rc = set_str(a->o, MYR_OPT_CHARSET, v); break;
    case K_PORT:
        /* A port from a file does not force TCP (only the host decides). */
        if (parse_num(v, 65535, &n) < 0)
            rc = MYR_EINVAL;
        else
            a->o->port = (int)n;
        break;
    case K_CONNECT_TIMEOUT:
    case K_READ_TIMEOUT:
        if (parse_num(v, 0x7fffffff / 1000, &n) < 0)
            rc = MYR_EINVAL;
        else
            rc = myr_conn_opts_set_int(a->o, keys[i].key == K_CONNECT_TIMEOUT
                                                   ? MYR_OPT_CONNECT_TIMEOUT
                                                   : MYR_OPT_READ_TIMEOUT,
                                       n * 1000);
        break;
    case K_SSL:
    case K_SKIP_SSL: {
        int on = bool_value(value);
        if (on < 0)
            rc = MYR_EINVAL;
        else if ((keys[i].key == K_SSL) == (on == 1))
            a->ssl_mode = MYR_SSL_REQUIRED;
        else {
            a->ssl_mode = MYR_SSL_DISABLED;
            a->ssl_verify = 0;
        }
        break;
    }
    case K_SSL_MODE: {
        static const char *const names[] = {"DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA",
                                            "VERIFY_IDENTITY"};
        int m = 0;
        for (int k = 0; k < 5; k++)
            if (strcasecmp(v, names[k]) == 0)
                m = MYR_SSL_DISABLED + k;
        if (m == 0)
            rc = MYR_EINVAL;
        else
            a->ssl_mode = m;
        break;
    }
    case K_SSL_VERIFY:
        if ((n = bool_value(value)) < 0)
            rc = MYR_EINVAL;
        else
            a->ssl_verify = (int)n;
        break;
    case K_SSL_FILE:
        rc = set_str(a->o, ssl_file_opt(name), v);
        a->ssl_implied = 1;
        break;
    case K_TLS_VERSION: rc = set_str(a->o, MYR_OPT_TLS_VERSION, v); break;
    case K_PUBKEY_PATH: rc = set_str(a->o, MYR_OPT_SERVER_PUBLIC_KEY, v); break;
    case K_GET_PUBKEY:
    case K_CLEARTEXT:
        if ((n = bool_value(value)) < 0)
            rc = MYR_EINVAL;
        else
            rc = myr_conn_opts_set_int(a->o, keys[i].key == K_GET_PUBKEY
                                                   ? MYR_OPT_GET_SERVER_PUBLIC_KEY
                                                   : MYR_OPT_ENABLE_CLEARTEXT_PLUGIN,
                                       n);
        break;
    case K_PROTOCOL:
        if (strcasecmp(v, "tcp") == 0)
            a->force_tcp = 1;
        else if (strcasecmp(v, "socket") == 0)
            a->force_tcp = 0;
        else
            rc = MYR_EINVAL;
        break;
    }
    if (rc == MYR_ENOMEM)
        snprintf(a->err, a->errlen, "out of memory applying %s from %s", name, file);
    else if (rc != 0)
        /* Never echo the value: it may be a password. */
        snprintf(a->err, a->errlen, "bad value for option '%s' in config file: %s at line %u",
                 name, file, line);
    return rc;
}

static int apply_env(apply_ctx *a)
{
    const char *v;
    int rc = 0;
    if ((v = getenv("MYSQL_HOST")) != NULL && *v)
        rc = set_str(a->o, MYR_OPT_HOST, v);
    if (rc == 0 && (v = getenv("MYSQL_UNIX_PORT")) != NULL && *v)
        rc = set_str(a->o, MYR_OPT_UNIX_SOCKET, v);
    if (rc == 0 && (v = getenv("MYSQL_PWD")) != NULL)
        rc = set_str(a->o, MYR_OPT_PASSWORD, v);
    long n;
    if (rc == 0 && (v = getenv("MYSQL_TCP_PORT")) != NULL && *v) {
        if (parse_num(v, 65535, &n) < 0) {
            snprintf(a->err, a->errlen, "bad value in MYSQL_TCP_PORT");
            return MYR_EINVAL;
        }
        a->o->port = (int)n;
    }
    if (rc != 0)
        snprintf(a->err, a->errlen, "%s", myr_strerror(rc));
    return rc;
}

int myr_conn_opts_read_defaults(myr_conn_opts *o, const char *file, const char *group)
{
    if (o == NULL)
        return MYR_EINVAL;
    const char *groups[] = {"client", "client-server", "client-mariadb", "myring", group, NULL};
    char err[320];
    apply_ctx a = {.o = o, .err = err, .errlen = sizeof err};
    err[0] = '\0';
    int rc = apply_env(&a);
    if (rc == 0)
        rc = file ? myr_optfile_read(file, 1, groups, on_option, &a, err, sizeof err)
                  : myr_optfile_read_defaults(NULL, groups, on_option, &a, err, sizeof err);
    myr__free(o->defaults_error);
    o->defaults_error = NULL;
    if (rc != 0) {
        /* NULL when out of memory: myr_conn_opts_error() then says so. */
        o->defaults_error = myr__strdup(err[0] ? err : myr_strerror(rc));
        return rc < 0 ? rc : MYR_EINVAL;
    }
    /* As the reference clients: a socket is for localhost only; any other
     * host (or protocol=tcp) means TCP to that host. */
    int remote = o->host != NULL && strcmp(o->host, "localhost") != 0;
    if ((remote || a.force_tcp) && o->unix_socket != NULL) {
        myr__free(o->unix_socket);
        o->unix_socket = NULL;
    }
    if (a.force_tcp)
        o->port_set = 1;
    /* TLS as the CLI decides it: ssl-mode/ssl/skip-ssl, else any ssl-*
     * file option means REQUIRED; ssl-verify-server-cert checks the
     * certificate and the name. Nothing said: the option keeps its value. */
    int mode = a.ssl_mode ? a.ssl_mode : a.ssl_implied ? MYR_SSL_REQUIRED : 0;
    if (a.ssl_verify && mode != MYR_SSL_DISABLED)
        mode = MYR_SSL_VERIFY_IDENTITY;
    if (mode)
        myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, mode);
    return 0;
}

const char *myr_conn_opts_error(const myr_conn_opts *o)
{
    if (o == NULL || o->defaults_error == NULL)
        return "";
    return o->defaults_error;
}
