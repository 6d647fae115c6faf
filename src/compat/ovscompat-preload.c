/* SPDX-License-Identifier: Apache-2.0 */
/* ovscompat-preload: the libc names that libweir-ovscompat.so interposes
 * (ovscompat.h).  Each is a call of its ovsc_X(), which goes straight to
 * libc for an fd the shim does not own.  These are the calls through
 * which ovs-vswitchd and ovs-dpctl use a netlink socket; poll, epoll,
 * fcntl and ioctl need nothing, the fd being a real socket.
 *
 * The prototypes are glibc's (<sys/socket.h> with _GNU_SOURCE makes the
 * address arguments transparent unions; __SOCKADDR_ARG and
 * __CONST_SOCKADDR_ARG take them as glibc declares them). */

#define _GNU_SOURCE

#include <sys/socket.h>
#include <unistd.h>

#include "compat/ovscompat.h"

#define VISIBLE __attribute__((visibility("default")))

VISIBLE int
socket(int domain, int type, int protocol)
{
    return ovsc_socket(domain, type, protocol);
}

VISIBLE int
bind(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    return ovsc_bind(fd, addr.__sockaddr__, len);
}

VISIBLE int
connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    return ovsc_connect(fd, addr.__sockaddr__, len);
}

VISIBLE int
getsockname(int fd, __SOCKADDR_ARG addr, socklen_t *__restrict len)
{
    return ovsc_getsockname(fd, addr.__sockaddr__, len);
}

VISIBLE int
getpeername(int fd, __SOCKADDR_ARG addr, socklen_t *__restrict len)
{
    return ovsc_getpeername(fd, addr.__sockaddr__, len);
}

VISIBLE int
setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    return ovsc_setsockopt(fd, level, name, val, len);
}

VISIBLE int
getsockopt(int fd, int level, int name, void *__restrict val,
           socklen_t *__restrict len)
{
    return ovsc_getsockopt(fd, level, name, val, len);
}

VISIBLE ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
    return ovsc_send(fd, buf, len, flags);
}

VISIBLE ssize_t
sendto(int fd, const void *buf, size_t len, int flags,
       __CONST_SOCKADDR_ARG addr, socklen_t alen)
{
    return ovsc_sendto(fd, buf, len, flags, addr.__sockaddr__, alen);
}

VISIBLE ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
    return ovsc_sendmsg(fd, msg, flags);
}

VISIBLE int
sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags)
{
    return ovsc_sendmmsg(fd, vec, n, flags);
}

VISIBLE ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
    return ovsc_recv(fd, buf, len, flags);
}

VISIBLE ssize_t
recvfrom(int fd, void *__restrict buf, size_t len, int flags,
         __SOCKADDR_ARG addr, socklen_t *__restrict alen)
{
    return ovsc_recvfrom(fd, buf, len, flags, addr.__sockaddr__, alen);
}

VISIBLE ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
    return ovsc_recvmsg(fd, msg, flags);
}

VISIBLE int
recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags,
         struct timespec *timeout)
{
    return ovsc_recvmmsg(fd, vec, n, flags, timeout);
}

VISIBLE ssize_t
read(int fd, void *buf, size_t len)
{
    return ovsc_read(fd, buf, len);
}

VISIBLE ssize_t
write(int fd, const void *buf, size_t len)
{
    return ovsc_write(fd, buf, len);
}

VISIBLE int
close(int fd)
{
    return ovsc_close(fd);
}

VISIBLE int
dup2(int oldfd, int newfd)
{
    return ovsc_dup2(oldfd, newfd);
}

VISIBLE int
dup3(int oldfd, int newfd, int flags)
{
    return ovsc_dup3(oldfd, newfd, flags);
}
