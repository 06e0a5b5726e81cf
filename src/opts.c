/* src/opts.c -- connection options: creation, setters, copies. */
#include <string.h>

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

void myr__opts_clear(myr_conn_opts *o)
{
    myr__free(o->host);
    myr__free(o->unix_socket);
    myr__free(o->user);
    myr__free(o->password);
    myr__free(o->database);
    myr__free(o->charset);
    myr__free(o->defaults_error);
    memset(o, 0, sizeof *o);
}

void myr_conn_opts_free(myr_conn_opts *o)
{
    if (o == NULL)
        return;
    myr__opts_clear(o);
    myr__free(o);
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
    char *copy = NULL;
    if (value != NULL && (copy = myr__strdup(value)) == NULL)
        return MYR_ENOMEM;
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
    case MYR_OPT_MULTI_STATEMENTS:
        o->multi_statements = value != 0;
        return 0;
    case MYR_OPT_LOCAL_INFILE:
        return value ? MYR_ENOTSUP : 0;
    case MYR_OPT_PIPELINE_REFILL:
        if (value < -1 || value > 0x7fffffff)
            return MYR_EINVAL;
        o->pipeline_refill = (int)value;
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
    if ((src->host && !(dst->host = myr__strdup(src->host))) ||
        (src->unix_socket && !(dst->unix_socket = myr__strdup(src->unix_socket))) ||
        (src->user && !(dst->user = myr__strdup(src->user))) ||
        (src->password && !(dst->password = myr__strdup(src->password))) ||
        (src->database && !(dst->database = myr__strdup(src->database))) ||
        (src->charset && !(dst->charset = myr__strdup(src->charset)))) {
        myr__opts_clear(dst);
        return MYR_ENOMEM;
    }
    return 0;
}
