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
