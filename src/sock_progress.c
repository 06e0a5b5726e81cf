/* src/sock_progress.c -- how far the peer has acknowledged what a TCP socket
 * sent (the kernel's tcpi_bytes_acked), so the read timeout can tell a large
 * command still going out from one stuck in a stalled connection. Its own
 * file: the kernel's struct tcp_info is newer than glibc's and their headers
 * do not mix. */
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/tcp.h>

#include "internal.h"

int myr__sock_acked(int fd, uint64_t *acked)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof ti.tcpi_bytes_acked)
        return -1;   /* not TCP (a Unix socket), or a kernel without the field */
    *acked = ti.tcpi_bytes_acked;
    return 0;
}
