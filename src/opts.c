/* src/opts.c -- connection options: creation, setters, copies. */
#include <string.h>
#include <strings.h>

#include "internal.h"

myr_conn_opts *myr_conn_opts_new(void)
{
    myr_conn_opts *o = myr__calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    o->port = 3306;
    o->multi_statements = 1;
    return o;
}

/* Free a secret: its bytes are zeroed first, so that a password does not
 * linger in freed memory. */
void myr__free_secret(char *s)
{
    if (s == NULL)
        return;
    explicit_bzero(s, strlen(s));
    myr__free(s);
}

void myr__opts_clear(myr_conn_opts *o)
{
    myr__free(o->host);
    myr__free(o->unix_socket);
    myr__free(o->user);
    myr__free_secret(o->password);
    myr__free(o->server_public_key);
    myr__free(o->database);
    myr__free(o->charset);
    myr__free(o->defaults_error);
    myr__free(o->ssl_ca);
    myr__free(o->ssl_capath);
    myr__free(o->ssl_cert);
    myr__free(o->ssl_key);
    myr__free(o->ssl_cipher);
    myr__free(o->tls_version);
    memset(o, 0, sizeof *o);
}

void myr_conn_opts_free(myr_conn_opts *o)
{
    if (o == NULL)
        return;
    myr__opts_clear(o);
    myr__free(o);
}

int myr__tls_versions(const char *s)
{
    if (s == NULL)
        return MYR__TLS12 | MYR__TLS13;
    int v = 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        while (n > 0 && s[0] == ' ')
            s++, n--;
        size_t m = n;
        while (m > 0 && s[m - 1] == ' ')
            m--;
        if (m == 7 && strncasecmp(s, "TLSv1.2", 7) == 0)
            v |= MYR__TLS12;
        else if (m == 7 && strncasecmp(s, "TLSv1.3", 7) == 0)
            v |= MYR__TLS13;
        else
            return -1;   /* TLSv1, TLSv1.1 and anything else: not offered */
        s += n;
        if (*s == ',')
            s++;
    }
    return v ? v : -1;
}

static char **str_slot(myr_conn_opts *o, myr_opt opt)
{
    switch (opt) {
    case MYR_OPT_HOST: return &o->host;
    case MYR_OPT_UNIX_SOCKET: return &o->unix_socket;
    case MYR_OPT_USER: return &o->user;
    case MYR_OPT_PASSWORD: return &o->password;
    case MYR_OPT_DATABASE: return &o->database;
    case MYR_OPT_CHARSET: return &o->charset;
    case MYR_OPT_SSL_CA: return &o->ssl_ca;
    case MYR_OPT_SSL_CAPATH: return &o->ssl_capath;
    case MYR_OPT_SSL_CERT: return &o->ssl_cert;
    case MYR_OPT_SSL_KEY: return &o->ssl_key;
    case MYR_OPT_SSL_CIPHER: return &o->ssl_cipher;
    case MYR_OPT_TLS_VERSION: return &o->tls_version;
    case MYR_OPT_SERVER_PUBLIC_KEY: return &o->server_public_key;
    default: return NULL;
    }
}

int myr_conn_opts_set_str(myr_conn_opts *o, myr_opt opt, const char *value)
{
    char **slot = o ? str_slot(o, opt) : NULL;
    if (slot == NULL)
        return MYR_EINVAL;
    if (opt == MYR_OPT_CHARSET && value != NULL && myr__charset_id(value) == 0)
        return MYR_EINVAL;
    if (opt == MYR_OPT_TLS_VERSION && value != NULL && myr__tls_versions(value) < 0)
        return MYR_EINVAL;
    char *copy = NULL;
    if (value != NULL && (copy = myr__strdup(value)) == NULL)
        return MYR_ENOMEM;
    if (opt == MYR_OPT_PASSWORD)
        myr__free_secret(*slot);
    else
        myr__free(*slot);
    *slot = copy;
    return 0;
}

int myr_conn_opts_set_int(myr_conn_opts *o, myr_opt opt, long value)
{
    if (o == NULL)
        return MYR_EINVAL;
    switch (opt) {
    case MYR_OPT_PORT:
        if (value < 0 || value > 65535)
            return MYR_EINVAL;
        o->port = (int)value;
        o->port_set = 1;
        return 0;
    case MYR_OPT_CONNECT_TIMEOUT:
    case MYR_OPT_READ_TIMEOUT:
        if (value < 0 || value > 0x7fffffff)
            return MYR_EINVAL;
        if (opt == MYR_OPT_CONNECT_TIMEOUT)
            o->connect_timeout_ms = (int)value;
        else
            o->read_timeout_ms = (int)value;
        return 0;
    case MYR_OPT_QUERY_TIMEOUT:
    case MYR_OPT_LOGIN_TIMEOUT:
        if (value < 0 || value > 0x7fffffff)
            return MYR_EINVAL;
        if (opt == MYR_OPT_QUERY_TIMEOUT) {
            o->query_timeout_ms = (int)value;
        } else {
            o->login_timeout_ms = (int)value;
            o->login_timeout_set = 1;
        }
        return 0;
    case MYR_OPT_MULTI_STATEMENTS:
        o->multi_statements = value != 0;
        return 0;
    case MYR_OPT_LOCAL_INFILE:
        return value ? MYR_ENOTSUP : 0;
    case MYR_OPT_SSL_MODE:
        if (value < MYR_SSL_DISABLED || value > MYR_SSL_VERIFY_IDENTITY)
            return MYR_EINVAL;
        o->ssl_mode = (int)value;
        return 0;
    case MYR_OPT_TLS_RESUME:
        o->tls_no_resume = value == 0;
        return 0;
    case MYR_OPT_TLS_RESUME_PSK_ONLY:
        if (value != 0 && value != 1)
            return MYR_EINVAL;
        o->tls_psk_only = (uint8_t)value;
        return 0;
    case MYR_OPT_MARIADB_EXTENSIONS:
        o->no_mariadb_ext = value == 0;
        return 0;
    case MYR_OPT_STMT_CACHE_SIZE:
        if (value < 0 || value > 65536)
            return MYR_EINVAL;
        o->stmt_cache_size = (int)value;
        o->stmt_cache_set = 1;
        return 0;
    case MYR_OPT_PIPELINE_REFILL:
        if (value < -1 || value > 0x7fffffff)
            return MYR_EINVAL;
        o->pipeline_refill = (int)value;
        return 0;
    case MYR_OPT_GET_SERVER_PUBLIC_KEY:
        o->get_server_public_key = value != 0;
        return 0;
    case MYR_OPT_ENABLE_CLEARTEXT_PLUGIN:
        o->enable_cleartext_plugin = value != 0;
        return 0;
    default:
        return MYR_EINVAL;
    }
}

int myr__opts_copy(myr_conn_opts *dst, const myr_conn_opts *src)
{
    memset(dst, 0, sizeof *dst);
    if (src == NULL) {
        dst->port = 3306;
        dst->multi_statements = 1;
        return 0;
    }
    *dst = *src;
    dst->host = dst->unix_socket = dst->user = dst->password = dst->database = dst->charset = NULL;
    dst->defaults_error = NULL;
    dst->ssl_ca = dst->ssl_capath = dst->ssl_cert = dst->ssl_key = dst->ssl_cipher = dst->tls_version = NULL;
    dst->server_public_key = NULL;
    if ((src->host && !(dst->host = myr__strdup(src->host))) ||
        (src->unix_socket && !(dst->unix_socket = myr__strdup(src->unix_socket))) ||
        (src->user && !(dst->user = myr__strdup(src->user))) ||
        (src->password && !(dst->password = myr__strdup(src->password))) ||
        (src->database && !(dst->database = myr__strdup(src->database))) ||
        (src->charset && !(dst->charset = myr__strdup(src->charset))) ||
        (src->ssl_ca && !(dst->ssl_ca = myr__strdup(src->ssl_ca))) ||
        (src->ssl_capath && !(dst->ssl_capath = myr__strdup(src->ssl_capath))) ||
        (src->ssl_cert && !(dst->ssl_cert = myr__strdup(src->ssl_cert))) ||
        (src->ssl_key && !(dst->ssl_key = myr__strdup(src->ssl_key))) ||
        (src->ssl_cipher && !(dst->ssl_cipher = myr__strdup(src->ssl_cipher))) ||
        (src->tls_version && !(dst->tls_version = myr__strdup(src->tls_version))) ||
        (src->server_public_key && !(dst->server_public_key = myr__strdup(src->server_public_key)))) {
        myr__opts_clear(dst);
        return MYR_ENOMEM;
    }
    return 0;
}
