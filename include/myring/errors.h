/*
 * myring/errors.h -- myring's own error codes, one table.
 *
 * Functions return 0 on success or a negative code: either a MYR_E* value
 * from the table below or a negative errno passed through from the kernel
 * (e.g. -ECONNREFUSED). myr_strerror() describes both. Where MySQL has a
 * client error number users know, myr_error.mysql_errno carries it beside
 * our code (see the third column).
 */
#ifndef MYRING_ERRORS_H
#define MYRING_ERRORS_H

/* X(name, value, mysql client errno or 0, description) */
#define MYR_ERRNO_MAP(X)                                                              \
    X(PENDING,   -30000, 0,    "operation still pending")                             \
    X(TIMEDOUT,  -30001, 0,    "operation timed out")                                 \
    X(CANCELED,  -30002, 0,    "operation canceled")                                  \
    X(CLOSED,    -30003, 0,    "connection closed by the application")                \
    X(URING,     -30004, 0,    "io_uring is unavailable")                             \
    X(NOMEM,     -30005, 2008, "out of memory")                                       \
    X(INVAL,     -30006, 0,    "invalid argument")                                    \
    X(SERVER,    -30007, 0,    "the server returned an error")                        \
    X(CONNECT,   -30008, 2003, "cannot connect to the server")                        \
    X(CONNLOST,  -30009, 2013, "lost connection to server during query")              \
    X(GONE,      -30010, 2006, "server has gone away")                                \
    X(MALFORMED, -30011, 2027, "malformed packet")                                    \
    X(AUTH,      -30012, 2059, "authentication plugin not supported")                 \
    X(ABORTED,   -30013, 0,    "command aborted: an earlier failure ended the connection") \
    X(BUSY,      -30014, 0,    "resource busy")                                       \
    X(NOTSUP,    -30015, 0,    "not supported")                                       \
    X(UNIXSOCK,  -30016, 2002, "cannot connect to the local server through the socket") \
    X(HOSTNAME,  -30017, 2005, "unknown server host")                              \
    X(THREAD,    -30018, 0,    "loop used from a thread other than the one that runs it") \
    X(FORKED,    -30019, 0,    "loop used in a child process after fork()")           \
    X(TLS,       -30020, 2026, "TLS/SSL error")

enum {
#define MYR__ERR_ENUM(name, val, mysql, desc) MYR_E##name = (val),
    MYR_ERRNO_MAP(MYR__ERR_ENUM)
#undef MYR__ERR_ENUM
};

/* MySQL client error numbers that have no MYR_E* code of their own. */
#define MYR_CR_UNKNOWN_ERROR 2000

#endif
