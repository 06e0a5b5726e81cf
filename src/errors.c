/* src/errors.c -- myr_strerror() and the helpers that fill a myr_error. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char *myr_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define MYR__ERR_CASE(name, val, mysql, desc) case MYR_E##name: return desc;
        MYR_ERRNO_MAP(MYR__ERR_CASE)
#undef MYR__ERR_CASE
    default:
        break;
    }
    if (code < 0 && code > -4096)
        return strerror(-code);
    return "unknown error";
}

unsigned myr__error_default_errno(int code)
{
    switch (code) {
#define MYR__ERR_NUM(name, val, mysql, desc) case MYR_E##name: return mysql;
        MYR_ERRNO_MAP(MYR__ERR_NUM)
#undef MYR__ERR_NUM
    default:
        return 0;
    }
}

void myr__error_set(myr_error *e, int code, unsigned mysql_errno, const char *sqlstate,
                    const char *fmt, ...)
{
    if (e == NULL)
        return;
    e->code = code;
    e->sys_errno = 0;
    e->mysql_errno = mysql_errno ? mysql_errno : myr__error_default_errno(code);
    if (sqlstate != NULL && sqlstate[0] != '\0')
        snprintf(e->sqlstate, sizeof e->sqlstate, "%s", sqlstate);
    else
        snprintf(e->sqlstate, sizeof e->sqlstate, "%s", e->mysql_errno ? "HY000" : "");
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
    } else {
        e->message[0] = '\0';
    }
    if (e->message[0] == '\0')
        snprintf(e->message, sizeof e->message, "%s", myr_strerror(code));
}

const char *myr_version(void) { return MYR_VERSION_STRING; }

int myr_error_server_unusable(const myr_error *e)
{
    if (e == NULL || e->code == 0)
        return 0;
    if (e->code == MYR_EGONE || e->code == MYR_ECONNLOST)
        return 1;
    switch (e->mysql_errno) {
    case 1040:   /* ER_CON_COUNT_ERROR: too many connections */
    case 1053:   /* ER_SERVER_SHUTDOWN: shutdown in progress */
    case 1077:   /* ER_NORMAL_SHUTDOWN */
    case 1079:   /* ER_SHUTDOWN_COMPLETE */
    case 1080:   /* ER_FORCING_CLOSE: forcing close of thread */
    case 1203:   /* ER_TOO_MANY_USER_CONNECTIONS */
    case 1290:   /* ER_OPTION_PREVENTS_STATEMENT: e.g. --read-only */
    case 1792:   /* ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION */
    case 1836:   /* ER_READ_ONLY_MODE */
    case 1927:   /* ER_CONNECTION_KILLED (MariaDB) */
    case 2006:   /* server has gone away */
    case 2013:   /* lost connection during query */
        return 1;
    default:
        return 0;
    }
}
