/*
 * perf/peers/mdb_poll.h -- libmariadb's non-blocking API meets poll(): the
 * MYSQL_WAIT_* bits a connection waits for as poll events, and poll's
 * revents as the ready bits mysql_*_cont() takes. Shared by qps_mariadb.c
 * and fairness_mariadb.c.
 */
#ifndef PERF_MDB_POLL_H
#define PERF_MDB_POLL_H

#include <mysql.h>
#include <poll.h>

static inline short mdb_poll_events(int status)
{
    short ev = 0;
    if (status & MYSQL_WAIT_READ)
        ev |= POLLIN;
    if (status & MYSQL_WAIT_WRITE)
        ev |= POLLOUT;
    if (status & MYSQL_WAIT_EXCEPT)
        ev |= POLLPRI;
    return ev;
}

static inline int mdb_ready_status(short revents)
{
    int s = 0;
    if (revents & (POLLIN | POLLHUP | POLLERR))
        s |= MYSQL_WAIT_READ;
    if (revents & POLLOUT)
        s |= MYSQL_WAIT_WRITE;
    if (revents & POLLPRI)
        s |= MYSQL_WAIT_EXCEPT;
    return s;
}

#endif
