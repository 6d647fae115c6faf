/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_COMPAT_OVSCOMPAT_H
#define WEIR_COMPAT_OVSCOMPAT_H 1

/* ovscompat: the inside of libweir-ovscompat.so, the LD_PRELOAD shim that
 * gives an unmodified netlink program (ovs-vswitchd, ovs-dpctl) weird in
 * place of the kernel's NETLINK_GENERIC sockets.
 *
 * What
 * ====
 *
 * socket(AF_NETLINK, SOCK_RAW or SOCK_DGRAM, NETLINK_GENERIC) returns an
 * AF_UNIX SOCK_SEQPACKET socket connected to weird's control socket
 * (weir/control.h).  That fd is what the program gets, so poll, epoll,
 * fcntl and the fd's flags are the kernel's own.  The shim keeps a little
 * state per such fd (struct ovsc_sock) and turns the netlink socket calls
 * (bind, connect, getsockname, setsockopt, send, recv, ...) into weird's
 * transport: HELLO for a port id, SOCKOPT for options, the sync eventfd
 * for the kernel's "replies are queued when send returns", and the four
 * rules of docs/design/control-socket.md ("Clients that stand in for the
 * kernel").  docs/design/ovscompat.md is the whole story.
 *
 * Every other socket, and every fd the shim did not create, goes straight
 * to libc after one lock-free table lookup.
 *
 * Design
 * ======
 *
 * ovscompat.c holds everything but the interposed libc names: ovsc_X() is
 * libc's X() for every X the shim interposes, with libc's contract
 * (returns -1 with errno on failure).  ovscompat-preload.c (only in the
 * shared library) defines X() as a call of ovsc_X(), so the unit test and
 * the fuzz target link the core and call ovsc_X() themselves, without
 * interposing anything in their own process.  The real libc functions are
 * found with dlsym(RTLD_NEXT) once (ovsc_real()); the core never calls
 * an interposed name directly, since inside the shared library that name
 * is the shim's own.
 *
 * ovscompat-scan.c reads netlink bytes (requests going out, datagrams
 * coming in): pure, bounds-checked functions, the fuzz target.
 *
 * Thread-safety
 * =============
 *
 * Every ovsc_X() may be called from any thread, on any fd, as libc's.  A
 * tracked fd's state has two mutexes (senders in order; the state), never
 * held while the shim waits for weird but during HELLO (bounded).  fork()
 * is handled (pthread_atfork): the state mutexes are taken over it, so
 * the child gets every state whole (no HELLO half done), with its locks
 * free.
 *
 * Ownership
 * =========
 *
 * The shim owns its per-fd state and each socket's sync eventfd; they go
 * when the program closes the fd (close(), or dup2()/dup3() onto it). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

struct mmsghdr;
struct timespec;

/* ---- The interposed calls (ovscompat.c).  Each is libc's, with its
 * contract, on fds the shim did not make. ---- */

int ovsc_socket(int domain, int type, int protocol);
int ovsc_bind(int fd, const struct sockaddr *addr, socklen_t len);
int ovsc_connect(int fd, const struct sockaddr *addr, socklen_t len);
int ovsc_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int ovsc_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
int ovsc_setsockopt(int fd, int level, int name, const void *val,
                    socklen_t len);
int ovsc_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
ssize_t ovsc_send(int fd, const void *buf, size_t len, int flags);
ssize_t ovsc_sendto(int fd, const void *buf, size_t len, int flags,
                    const struct sockaddr *addr, socklen_t alen);
ssize_t ovsc_sendmsg(int fd, const struct msghdr *msg, int flags);
int ovsc_sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags);
ssize_t ovsc_recv(int fd, void *buf, size_t len, int flags);
ssize_t ovsc_recvfrom(int fd, void *buf, size_t len, int flags,
                      struct sockaddr *addr, socklen_t *alen);
ssize_t ovsc_recvmsg(int fd, struct msghdr *msg, int flags);
int ovsc_recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags,
                  struct timespec *timeout);
ssize_t ovsc_read(int fd, void *buf, size_t len);
ssize_t ovsc_write(int fd, const void *buf, size_t len);
int ovsc_close(int fd);
int ovsc_dup2(int oldfd, int newfd);
int ovsc_dup3(int oldfd, int newfd, int flags);

/* Returns true if 'fd' is a netlink socket of the shim's (tests). */
bool ovsc_is_tracked(int fd);

/* Sets how long socket() (and a rebind after EADDRINUSE) waits for weird
 * to accept a connection, in ms (default 5000; tests shorten it).  Returns
 * the previous value. */
int ovsc_set_connect_timeout(int ms);

/* The libc functions behind the interposed names. */
struct ovsc_libc {
    int (*socket)(int, int, int);
    int (*bind)(int, const struct sockaddr *, socklen_t);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*getsockname)(int, struct sockaddr *, socklen_t *);
    int (*getpeername)(int, struct sockaddr *, socklen_t *);
    int (*setsockopt)(int, int, int, const void *, socklen_t);
    int (*getsockopt)(int, int, int, void *, socklen_t *);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*sendto)(int, const void *, size_t, int,
                      const struct sockaddr *, socklen_t);
    ssize_t (*sendmsg)(int, const struct msghdr *, int);
    int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *,
                        socklen_t *);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int,
                    struct timespec *);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*write)(int, const void *, size_t);
    int (*close)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
};

/* Returns the real functions (resolved on first use, thread-safely).  A
 * function that cannot be found aborts the process with a message: the
 * shim cannot do without any of them. */
const struct ovsc_libc *ovsc_real(void);

/* ---- Scanning netlink bytes (ovscompat-scan.c).  Pure functions;
 * every read is bounds-checked against the lengths given. ---- */

/* Length of the NLMSG_OVERRUN datagram weird sends (control-socket.md):
 * one header, port id 0, then the int -ENOBUFS. */
#define OVSC_OVERRUN_LEN 20

/* Copies up to 'len' bytes from offset 'off' of the bytes that 'iov'
 * (n_iov entries) describes into 'dst'.  Returns the number copied (less
 * than 'len' at the end of the data). */
size_t ovsc_iov_copy(const struct iovec *iov, size_t n_iov, size_t off,
                     void *dst, size_t len);

/* Total length of 'iov' (n_iov entries), saturating at SIZE_MAX. */
size_t ovsc_iov_len(const struct iovec *iov, size_t n_iov);

/* Returns true if the 'len' bytes at 'iov' are exactly weird's
 * NLMSG_OVERRUN datagram. */
bool ovsc_scan_overrun(const struct iovec *iov, size_t n_iov, size_t len);

/* Walks the netlink messages of an outgoing datagram ('len' bytes at
 * 'iov') as the kernel's netlink_rcv_skb() would (stopping at a bad
 * length) and stores the sequence number of each dump request (a request
 * of a protocol type with both NLM_F_DUMP bits) in 'seqs', up to 'max'.
 * Returns the number of dump requests found (may exceed 'max'). */
size_t ovsc_scan_dump_requests(const struct iovec *iov, size_t n_iov,
                               size_t len, uint32_t *seqs, size_t max);

/* Walks the netlink messages of a received datagram ('len' bytes at
 * 'iov') and removes from 'open' (n_open sequence numbers) every one for
 * which an NLMSG_DONE or NLMSG_ERROR with that sequence number is found:
 * that dump has ended.  Returns the new number of entries. */
size_t ovsc_scan_dump_ends(const struct iovec *iov, size_t n_iov,
                           size_t len, uint32_t *open, size_t n_open);

#endif /* compat/ovscompat.h */
