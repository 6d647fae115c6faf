/* SPDX-License-Identifier: Apache-2.0 */
/* The control socket's transport: listener, HELLO, datagrams in and out,
 * back-pressure.  The rules are in ctl.h and docs/design/control-socket.md;
 * the choices this file makes where those leave room are:
 *
 *   - Permissions.  The socket is made mode 0660 (set on the socket before
 *     bind(), so it never exists with wider permissions, and again with
 *     chmod()) in a directory made 0755 (state_make_dirs()).  Changing
 *     the datapath is for root, as the kernel asks CAP_NET_ADMIN for it;
 *     the group lets an administrator delegate.  listen() comes after
 *     chmod(): nobody can connect before the mode is right.
 *   - One weird per path.  The listener holds an flock() on "PATH.lock"
 *     for its life, so two daemons starting at once cannot both decide
 *     that the socket is stale and take turns unlinking it.  With the lock
 *     held, a socket file that accepts a connection is someone else's
 *     (-EADDRINUSE); one that refuses is a leftover and is replaced.  A
 *     path that exists and is not a socket is never removed (-EEXIST).
 *   - SOCKOPT framing.  A datagram whose first message is
 *     WEIR_NLMSG_SOCKOPT is a socket-option datagram: it must hold exactly
 *     that one message (a client sets one option per setsockopt() call,
 *     so there is nothing to batch), else the connection is closed as a
 *     transport violation.  An option the server refuses (unknown op,
 *     group 0) leaves the connection as it was, as a failed setsockopt()
 *     leaves a socket; it is logged (rate-limited), since there is no
 *     answer to carry the error.  A SOCKOPT message later in a protocol
 *     datagram is the protocol's business: genl skips it as the kernel
 *     skips control-type messages.
 *   - Oversized datagrams.  Datagrams are read into one buffer of
 *     CTL_RX_BUF bytes, more than the largest datagram a client can send
 *     with default buffer sizes (the kernel caps a netlink send at the
 *     socket's send buffer, 208 KiB by default).  A longer one (MSG_TRUNC)
 *     is dropped whole and logged: the kernel would have refused it with
 *     EMSGSIZE, which cannot be reported through a send that has already
 *     returned, and a cut netlink message is what the kernel never
 *     processes.
 *   - Empty datagrams.  On SOCK_SEQPACKET, recv() returns 0 both for an
 *     empty datagram and at end of file; poll(POLLRDHUP) tells them
 *     apart.  An empty datagram goes to genl like any other, which
 *     ignores it (the kernel ignores a datagram too short for a header).
 *   - Sync markers.  Every datagram read after HELLO earns the client
 *     exactly one sync signal (WEIR_HELLO_F_SYNC) behind the replies it
 *     caused: genl_conn_input() queues the marker of a datagram it is
 *     given, and the datagrams this file consumes itself (a SOCKOPT, an
 *     oversized datagram) get theirs from genl_conn_mark_sync().  Only a
 *     datagram that closes the connection gets none: the client sees the
 *     socket hang up instead.
 *   - File descriptors.  Any passed with a datagram other than the HELLO
 *     that asks for WEIR_HELLO_F_SYNC are closed at once.  The sync fd
 *     must be an eventfd (checked through /proc/self/fd): weird writes to
 *     it, and must not write into whatever else a client could pass.
 *   - Fairness.  One callback reads at most CTL_READ_BATCH datagrams and
 *     sends at most CTL_SEND_BATCH; a connection with more to do is
 *     re-activated (event_active()) behind the others.  A connection is
 *     read (and its upcall fd watched) only while everything it was owed
 *     has gone out, so genl's queue holds what one datagram caused: at
 *     most the connection's receive buffer (genl drops the replies past
 *     it, as the kernel does) plus one dump part.
 */

#define _GNU_SOURCE             /* struct ucred, accept4(), POLLRDHUP. */

#include "daemon/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <urcu/list.h>

#include "daemon/state.h"
#include "genl/genl.h"
#include "lib/errbuf.h"
#include "lib/log.h"
#include "lib/rcu.h"
#include "weir/control.h"

#define CTL_RX_BUF (256 * 1024)   /* Receive buffer, shared by all. */
#define CTL_READ_BATCH 16         /* Datagrams read per callback. */
#define CTL_SEND_BATCH 64         /* Datagrams sent per callback. */
#define CTL_MAX_FDS 4             /* Room for passed fds (1 is valid). */
#define CTL_SOCK_MODE 0660

struct ctl_server {
    struct event_base *base;    /* Borrowed. */
    struct genl_server *genl;   /* Borrowed. */
    char *path;                 /* Socket path (unlinked on destroy). */
    char *lock_path;            /* "PATH.lock". */
    int lock_fd;
    int listen_fd;
    struct event *ev_accept;    /* EV_READ|EV_PERSIST on listen_fd. */
    struct event *ev_resume;    /* Timer: accept again after EMFILE. */
    struct cds_list_head conns; /* struct ctl_conn. */
    unsigned int n_conns;
    uint8_t *rx;                /* CTL_RX_BUF bytes. */
};

/* What a flush left behind. */
enum ctl_flush {
    CTL_FLUSH_DONE,             /* Everything owed is out. */
    CTL_FLUSH_MORE,             /* Send budget used up: re-activated. */
    CTL_FLUSH_FULL,             /* The socket is full: EV_WRITE armed. */
    CTL_FLUSH_CLOSE,            /* The connection broke: close it. */
};

struct ctl_conn {
    struct cds_list_head node;  /* In ctl_server's 'conns'. */
    struct ctl_server *ctl;
    int fd;
    int sync_fd;                /* Client's eventfd, or -1. */
    uint32_t peer_pid;          /* SO_PEERCRED, 0 if unknown. */
    struct genl_conn *gc;       /* NULL until HELLO succeeded. */
    struct event *ev_read;      /* EV_READ|EV_PERSIST on fd. */
    struct event *ev_write;     /* EV_WRITE on fd, armed when full. */
    struct event *ev_upcall;    /* EV_READ|EV_PERSIST on the upcall fd,
                                 * or NULL. */
    struct event *ev_flush;     /* No fd: activated to flush. */
    bool paused;                /* ev_read and ev_upcall removed. */
};

/* Rate limits for what clients can cause. */
static struct wlog_rl rl_hello = WLOG_RL_INIT(10, 1000);
static struct wlog_rl rl_proto = WLOG_RL_INIT(10, 1000);
static struct wlog_rl rl_io = WLOG_RL_INIT(10, 1000);

/* ---- Connections. ---- */

static void
conn_close(struct ctl_conn *c)
{
    struct ctl_server *ctl = c->ctl;

    wlog("ctl", WLOG_DBG, "connection %d (pid %u) closed", c->fd,
         c->gc ? genl_conn_pid(c->gc) : 0);
    cds_list_del(&c->node);
    ctl->n_conns--;
    genl_conn_destroy(c->gc);
    if (c->ev_upcall) {
        event_free(c->ev_upcall);
    }
    event_free(c->ev_read);
    event_free(c->ev_write);
    event_free(c->ev_flush);
    if (c->sync_fd >= 0) {
        close(c->sync_fd);
    }
    close(c->fd);
    free(c);
}

/* Stops or resumes reading the client and watching its upcalls. */
static void
conn_pause(struct ctl_conn *c, bool pause)
{
    if (pause == c->paused) {
        return;
    }
    c->paused = pause;
    if (pause) {
        event_del(c->ev_read);
        if (c->ev_upcall) {
            event_del(c->ev_upcall);
        }
    } else {
        event_add(c->ev_read, NULL);
        if (c->ev_upcall) {
            event_add(c->ev_upcall, NULL);
        }
    }
}

/* Adds 1 to the client's sync eventfd.  The counter of an eventfd cannot
 * reach its limit in practice (2^64 - 2), so the write does not block;
 * errors are logged only. */
static void
conn_signal_sync(struct ctl_conn *c)
{
    uint64_t one = 1;

    if (c->sync_fd < 0) {
        return;
    }
    if (write(c->sync_fd, &one, sizeof one) != (ssize_t) sizeof one) {
        wlog_rl(&rl_io, "ctl", WLOG_WARN,
                "pid %u: writing the sync eventfd failed: %s",
                genl_conn_pid(c->gc), strerror(errno));
    }
}

/* Sends what the connection's genl queue holds, up to CTL_SEND_BATCH
 * datagrams. */
static enum ctl_flush
conn_flush(struct ctl_conn *c)
{
    if (!c->gc) {
        return CTL_FLUSH_DONE;
    }
    for (int i = 0; i < CTL_SEND_BATCH; i++) {
        const void *data;
        size_t len;

        switch (genl_conn_output(c->gc, &data, &len)) {
        case GENL_OUT_NONE:
            return CTL_FLUSH_DONE;
        case GENL_OUT_SYNC:
            conn_signal_sync(c);
            genl_conn_output_pop(c->gc);
            continue;
        case GENL_OUT_DGRAM:
            break;
        }

        ssize_t n = send(c->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return CTL_FLUSH_FULL;
            }
            if (errno == EINTR) {
                i--;
                continue;
            }
            if (errno == EMSGSIZE || errno == ENOBUFS) {
                /* Bigger than the socket's send buffer can ever hold:
                 * it cannot go, and keeping it would block the queue. */
                wlog_rl(&rl_io, "ctl", WLOG_ERR,
                        "pid %u: dropped a %zu-byte datagram: %s",
                        genl_conn_pid(c->gc), len, strerror(errno));
                genl_conn_output_pop(c->gc);
                continue;
            }
            if (errno != EPIPE && errno != ECONNRESET) {
                wlog_rl(&rl_io, "ctl", WLOG_WARN, "pid %u: send: %s",
                        genl_conn_pid(c->gc), strerror(errno));
            }
            return CTL_FLUSH_CLOSE;
        }
        genl_conn_output_pop(c->gc);
    }
    return CTL_FLUSH_MORE;
}

/* Flushes 'c' and sets its events for what is left.  Returns false if
 * the connection was closed. */
static bool
conn_flush_and_arm(struct ctl_conn *c)
{
    switch (conn_flush(c)) {
    case CTL_FLUSH_DONE:
        conn_pause(c, false);
        return true;
    case CTL_FLUSH_MORE:
        conn_pause(c, true);
        event_active(c->ev_flush, EV_TIMEOUT, 0);
        return true;
    case CTL_FLUSH_FULL:
        conn_pause(c, true);
        event_add(c->ev_write, NULL);
        return true;
    case CTL_FLUSH_CLOSE:
    default:
        conn_close(c);
        return false;
    }
}

/* genl's wake callback: never send from here (it runs inside another
 * connection's request); flush from the event loop instead. */
static void
conn_wake(void *aux)
{
    struct ctl_conn *c = aux;

    event_active(c->ev_flush, EV_TIMEOUT, 0);
}

/* The callback of ev_flush (activated), ev_write (the socket has room
 * again) and ev_upcall (upcalls wait in the channels): each time, send
 * what there is and re-arm. */
static void
conn_flush_cb(evutil_socket_t fd, short what, void *aux)
{
    struct ctl_conn *c = aux;

    qsbr_online();
    conn_flush_and_arm(c);
    qsbr_offline();
}

/* Returns true if 'fd' is an eventfd. */
static bool
fd_is_eventfd(int fd)
{
    char link[64], target[64];
    ssize_t n;

    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, target, sizeof target - 1);
    if (n < 0) {
        return false;
    }
    target[n] = '\0';
    return !strcmp(target, "anon_inode:[eventfd]");
}

/* Sends the HELLO answer.  Returns 0 or -errno. */
static int
conn_send_hello(struct ctl_conn *c, uint32_t seq, uint32_t pid, int error,
                uint32_t flags)
{
    struct {
        struct nlmsghdr nlh;
        struct weir_hello hello;
    } msg;

    memset(&msg, 0, sizeof msg);
    msg.nlh.nlmsg_len = sizeof msg;
    msg.nlh.nlmsg_type = WEIR_NLMSG_HELLO;
    msg.nlh.nlmsg_seq = seq;
    msg.hello.version = WEIR_HELLO_VERSION;
    msg.hello.pid = pid;
    msg.hello.error = error;
    msg.hello.flags = flags;
    if (send(c->fd, &msg, sizeof msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        return -errno;
    }
    return 0;
}

/* Handles the first datagram, which must be a HELLO.  'fds' (n_fds of
 * them) were passed with it; this takes them.  Returns false if the
 * connection was closed. */
static bool
conn_hello(struct ctl_conn *c, const uint8_t *buf, size_t len, int *fds,
           size_t n_fds)
{
    const struct nlmsghdr *nlh = (const struct nlmsghdr *) buf;
    struct weir_hello req;
    uint32_t seq = 0;
    const char *why = NULL;
    int error = 0;
    int sync_fd = -1;

    if (len < NLMSG_LENGTH(sizeof req)) {
        why = "first datagram too short for a HELLO";
        error = -EPROTO;
    } else if (nlh->nlmsg_type != WEIR_NLMSG_HELLO) {
        why = "first datagram is not a HELLO";
        error = -EPROTO;
        seq = nlh->nlmsg_seq;
    } else if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof req)
               || nlh->nlmsg_len > len) {
        why = "HELLO with a bad length";
        error = -EPROTO;
        seq = nlh->nlmsg_seq;
    } else {
        seq = nlh->nlmsg_seq;
        memcpy(&req, NLMSG_DATA(nlh), sizeof req);
        if (req.version != WEIR_HELLO_VERSION) {
            why = "unsupported HELLO version";
            error = -EPROTONOSUPPORT;
        } else if (req.flags & ~(uint32_t) WEIR_HELLO_F_SYNC) {
            why = "unknown HELLO flags";
            error = -EINVAL;
        } else if ((req.flags & WEIR_HELLO_F_SYNC) && n_fds != 1) {
            why = "WEIR_HELLO_F_SYNC needs exactly one fd";
            error = -EINVAL;
        } else if (!(req.flags & WEIR_HELLO_F_SYNC) && n_fds) {
            why = "fd passed without WEIR_HELLO_F_SYNC";
            error = -EINVAL;
        } else if (n_fds && !fd_is_eventfd(fds[0])) {
            why = "the sync fd is not an eventfd";
            error = -EINVAL;
        }
    }
    if (!error && n_fds) {
        sync_fd = fds[0];
        fds[0] = -1;
    }
    for (size_t i = 0; i < n_fds; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }

    if (!error) {
        c->gc = genl_conn_create(c->ctl->genl, conn_wake, c);
        if (!c->gc) {
            why = "out of memory";
            error = -ENOMEM;
        } else {
            error = genl_conn_bind(c->gc, req.pid, c->peer_pid);
            if (error) {
                why = error == -EADDRINUSE ? "port id in use"
                                           : "cannot bind the port id";
            }
        }
    }

    if (error) {
        wlog_rl(&rl_hello, "ctl", WLOG_WARN,
                "connection from process %u refused: %s (%s)", c->peer_pid,
                why, strerror(-error));
        conn_send_hello(c, seq, 0, error, 0);
        if (sync_fd >= 0) {
            close(sync_fd);
        }
        conn_close(c);
        return false;
    }

    c->sync_fd = sync_fd;
    genl_conn_set_sync(c->gc, sync_fd >= 0);
    int err = conn_send_hello(c, seq, genl_conn_pid(c->gc), 0,
                              req.flags & WEIR_HELLO_F_SYNC);
    if (err) {
        wlog_rl(&rl_io, "ctl", WLOG_WARN,
                "process %u: sending HELLO failed: %s", c->peer_pid,
                strerror(-err));
        conn_close(c);
        return false;
    }

    int ufd = genl_conn_upcall_fd(c->gc);
    if (ufd >= 0) {
        c->ev_upcall = event_new(c->ctl->base, ufd, EV_READ | EV_PERSIST,
                                 conn_flush_cb, c);
        if (!c->ev_upcall) {
            conn_close(c);
            return false;
        }
        if (!c->paused) {
            event_add(c->ev_upcall, NULL);
        }
    }
    wlog("ctl", WLOG_DBG, "process %u connected as pid %u%s", c->peer_pid,
         genl_conn_pid(c->gc), sync_fd >= 0 ? " (sync)" : "");
    return true;
}

/* Handles a datagram after HELLO.  Returns false if the connection was
 * closed. */
static bool
conn_datagram(struct ctl_conn *c, const uint8_t *buf, size_t len)
{
    const struct nlmsghdr *nlh = (const struct nlmsghdr *) buf;

    if (len >= NLMSG_HDRLEN && nlh->nlmsg_type == WEIR_NLMSG_SOCKOPT) {
        struct weir_sockopt so;

        if (nlh->nlmsg_len != NLMSG_LENGTH(sizeof so)
            || len != NLMSG_ALIGN(nlh->nlmsg_len)) {
            wlog_rl(&rl_proto, "ctl", WLOG_WARN,
                    "pid %u: malformed SOCKOPT datagram (%zu bytes): "
                    "closing", genl_conn_pid(c->gc), len);
            conn_close(c);
            return false;
        }
        memcpy(&so, NLMSG_DATA(nlh), sizeof so);
        int error = genl_conn_setsockopt(c->gc, so.op, so.value);
        if (error) {
            wlog_rl(&rl_proto, "ctl", WLOG_WARN,
                    "pid %u: socket option %u = %u refused: %s",
                    genl_conn_pid(c->gc), so.op, so.value,
                    strerror(-error));
        }
        genl_conn_mark_sync(c->gc);
        return true;
    }
    if (len >= NLMSG_HDRLEN && nlh->nlmsg_type == WEIR_NLMSG_HELLO) {
        wlog_rl(&rl_proto, "ctl", WLOG_WARN,
                "pid %u: second HELLO: closing", genl_conn_pid(c->gc));
        conn_close(c);
        return false;
    }
    genl_conn_input(c->gc, buf, len);
    return true;
}

static void
close_fds(const int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        close(fds[i]);
    }
}

/* Returns true if the peer has shut the connection down. */
static bool
conn_peer_gone(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

    return poll(&pfd, 1, 0) > 0
           && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

enum ctl_recv {
    CTL_RECV_AGAIN,             /* Nothing to read now. */
    CTL_RECV_DONE,              /* A datagram was handled (or dropped). */
    CTL_RECV_CLOSED,            /* The connection was closed. */
};

/* Reads and handles one datagram. */
static enum ctl_recv
conn_recv_one(struct ctl_conn *c)
{
    struct ctl_server *ctl = c->ctl;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
    } cbuf;
    struct iovec iov = { .iov_base = ctl->rx, .iov_len = CTL_RX_BUF };
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = cbuf.buf,
        .msg_controllen = sizeof cbuf.buf,
    };
    int fds[CTL_MAX_FDS];
    size_t n_fds = 0;
    ssize_t n;

    n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return CTL_RECV_AGAIN;
        }
        if (errno != ECONNRESET) {
            wlog_rl(&rl_io, "ctl", WLOG_WARN, "recvmsg: %s",
                    strerror(errno));
        }
        conn_close(c);
        return CTL_RECV_CLOSED;
    }

    /* Take every passed fd first, so that none leaks on any path. */
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm;
         cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;

            memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
            if (n_fds < CTL_MAX_FDS) {
                fds[n_fds++] = fd;
            } else {
                close(fd);
            }
        }
    }

    if (n == 0 && conn_peer_gone(c->fd)) {
        close_fds(fds, n_fds);
        conn_close(c);
        return CTL_RECV_CLOSED;
    }

    if (!c->gc) {
        if ((size_t) n > CTL_RX_BUF) {
            n = 0;              /* A truncated HELLO is no HELLO. */
        }
        if (msg.msg_flags & MSG_CTRUNC) {
            /* More fds than HELLO allows (the kernel dropped the rest). */
            close_fds(fds, n_fds);
            wlog_rl(&rl_hello, "ctl", WLOG_WARN,
                    "process %u: too many fds with HELLO", c->peer_pid);
            conn_send_hello(c, 0, 0, -EINVAL, 0);
            conn_close(c);
            return CTL_RECV_CLOSED;
        }
        return conn_hello(c, ctl->rx, (size_t) n, fds, n_fds)
                   ? CTL_RECV_DONE : CTL_RECV_CLOSED;
    }

    close_fds(fds, n_fds);
    if (n_fds || (msg.msg_flags & MSG_CTRUNC)) {
        wlog_rl(&rl_proto, "ctl", WLOG_WARN,
                "pid %u: fds passed after HELLO closed",
                genl_conn_pid(c->gc));
    }
    if ((size_t) n > CTL_RX_BUF) {
        wlog_rl(&rl_proto, "ctl", WLOG_WARN,
                "pid %u: dropped a %zd-byte datagram (longer than %d)",
                genl_conn_pid(c->gc), n, CTL_RX_BUF);
        genl_conn_mark_sync(c->gc);
        return CTL_RECV_DONE;
    }
    return conn_datagram(c, ctl->rx, (size_t) n) ? CTL_RECV_DONE
                                                 : CTL_RECV_CLOSED;
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *aux)
{
    struct ctl_conn *c = aux;

    qsbr_online();
    for (int i = 0; i < CTL_READ_BATCH && !c->paused; i++) {
        enum ctl_recv r = conn_recv_one(c);

        if (r == CTL_RECV_CLOSED) {
            goto out;
        }
        if (r == CTL_RECV_AGAIN) {
            break;
        }
        if (!conn_flush_and_arm(c)) {
            goto out;
        }
    }
out:
    qsbr_offline();
}

/* ---- The listener. ---- */

static void
ctl_accept_one(struct ctl_server *ctl, int fd)
{
    struct ctl_conn *c = calloc(1, sizeof *c);
    struct ucred cred;
    socklen_t clen = sizeof cred;

    if (!c) {
        close(fd);
        return;
    }
    c->ctl = ctl;
    c->fd = fd;
    c->sync_fd = -1;
    if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen)
        && cred.pid > 0) {
        c->peer_pid = (uint32_t) cred.pid;
    }
    c->ev_read = event_new(ctl->base, fd, EV_READ | EV_PERSIST, conn_read_cb,
                           c);
    c->ev_write = event_new(ctl->base, fd, EV_WRITE, conn_flush_cb, c);
    c->ev_flush = event_new(ctl->base, -1, 0, conn_flush_cb, c);
    if (!c->ev_read || !c->ev_write || !c->ev_flush
        || event_add(c->ev_read, NULL)) {
        if (c->ev_read) {
            event_free(c->ev_read);
        }
        if (c->ev_write) {
            event_free(c->ev_write);
        }
        if (c->ev_flush) {
            event_free(c->ev_flush);
        }
        close(fd);
        free(c);
        return;
    }
    cds_list_add_tail(&c->node, &ctl->conns);
    ctl->n_conns++;
}

static void
ctl_resume_cb(evutil_socket_t fd, short what, void *aux)
{
    struct ctl_server *ctl = aux;

    qsbr_online();
    event_add(ctl->ev_accept, NULL);
    qsbr_offline();
}

static void
ctl_accept_cb(evutil_socket_t lfd, short what, void *aux)
{
    struct ctl_server *ctl = aux;

    qsbr_online();
    for (int i = 0; i < CTL_READ_BATCH; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd >= 0) {
            ctl_accept_one(ctl, fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) {
            continue;
        }
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS
            || errno == ENOMEM) {
            /* The pending connection stays in the backlog and would wake
             * us again at once: pause accepting for a moment. */
            struct timeval tv = { 0, 100 * 1000 };

            wlog_rl(&rl_io, "ctl", WLOG_ERR, "accept: %s", strerror(errno));
            event_del(ctl->ev_accept);
            evtimer_add(ctl->ev_resume, &tv);
        }
        break;
    }
    qsbr_offline();
}

/* Takes the lock of 'ctl' ("PATH.lock").  Returns 0, -EADDRINUSE (held by
 * another server) or -errno. */
static int
ctl_lock(struct ctl_server *ctl)
{
    for (int tries = 0; tries < 10; tries++) {
        struct stat st_fd, st_path;
        int fd = open(ctl->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

        if (fd < 0) {
            return -errno;
        }
        if (flock(fd, LOCK_EX | LOCK_NB)) {
            int error = errno == EWOULDBLOCK ? -EADDRINUSE : -errno;

            close(fd);
            return error;
        }
        /* The holder before us may have unlinked the file between our
         * open() and flock(): then the lock is on a file nobody else will
         * find.  Try again with the file at the path. */
        if (!fstat(fd, &st_fd) && !stat(ctl->lock_path, &st_path)
            && st_fd.st_dev == st_path.st_dev
            && st_fd.st_ino == st_path.st_ino) {
            ctl->lock_fd = fd;
            return 0;
        }
        close(fd);
    }
    return -EAGAIN;
}

/* Checks what is at the socket path.  Returns 0 if it is free (a stale
 * socket removed), -EADDRINUSE if something answers there, -EEXIST if it
 * is not a socket, or -errno. */
static int
ctl_claim_path(const char *path, const struct sockaddr_un *sun)
{
    struct stat st;

    if (lstat(path, &st)) {
        return errno == ENOENT ? 0 : -errno;
    }
    if (!S_ISSOCK(st.st_mode)) {
        return -EEXIST;
    }
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    0);
    if (fd < 0) {
        return -errno;
    }
    int r = connect(fd, (const struct sockaddr *) sun, sizeof *sun);
    int error = r ? errno : 0;
    close(fd);
    if (!r || error == EAGAIN || error == EINPROGRESS) {
        /* Accepted, or a full backlog: someone is listening. */
        return -EADDRINUSE;
    }
    if (error == ECONNREFUSED || error == EPROTOTYPE) {
        if (unlink(path) && errno != ENOENT) {
            return -errno;
        }
        wlog("ctl", WLOG_INFO, "removed stale socket %s", path);
        return 0;
    }
    return -error;
}

static int
ctl_listen(struct ctl_server *ctl, struct errbuf *err)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int error;

    if (strlen(ctl->path) >= sizeof sun.sun_path) {
        errbuf_set(err, "control socket path too long (%zu bytes, at most "
                   "%zu): %s", strlen(ctl->path), sizeof sun.sun_path - 1,
                   ctl->path);
        return -ENAMETOOLONG;
    }
    memcpy(sun.sun_path, ctl->path, strlen(ctl->path) + 1);

    error = state_make_dirs(ctl->path);
    if (error) {
        errbuf_set(err, "cannot create the directory of %s: %s", ctl->path,
                   strerror(-error));
        return error;
    }
    error = ctl_lock(ctl);
    if (error) {
        errbuf_set(err, error == -EADDRINUSE
                   ? "%s is in use by another weird (%s is locked)"
                   : "cannot lock %s: %s",
                   error == -EADDRINUSE ? ctl->path : ctl->lock_path,
                   error == -EADDRINUSE ? ctl->lock_path : strerror(-error));
        return error;
    }
    error = ctl_claim_path(ctl->path, &sun);
    if (error) {
        errbuf_set(err, error == -EADDRINUSE
                   ? "%s is in use: something accepts connections there"
                   : error == -EEXIST
                   ? "%s exists and is not a socket (not removed)"
                   : "cannot check %s", ctl->path);
        if (error != -EADDRINUSE && error != -EEXIST) {
            errbuf_prefix(err, "%s: ", strerror(-error));
        }
        return error;
    }

    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    0);
    if (fd < 0) {
        error = -errno;
        errbuf_set(err, "socket: %s", strerror(errno));
        return error;
    }
    /* The mode of the socket inode becomes that of the file (less the
     * umask) on Linux: the path never exists with wider permissions. */
    (void) fchmod(fd, CTL_SOCK_MODE);
    if (bind(fd, (const struct sockaddr *) &sun, sizeof sun)) {
        error = -errno;
        errbuf_set(err, "cannot bind %s: %s", ctl->path, strerror(errno));
        close(fd);
        return error;
    }
    if (chmod(ctl->path, CTL_SOCK_MODE) || listen(fd, SOMAXCONN)) {
        error = -errno;
        errbuf_set(err, "cannot listen on %s: %s", ctl->path,
                   strerror(errno));
        unlink(ctl->path);
        close(fd);
        return error;
    }
    ctl->listen_fd = fd;
    return 0;
}

struct ctl_server *
ctl_server_create(struct event_base *base, struct genl_server *genl,
                  const char *path, struct errbuf *err)
{
    struct ctl_server *ctl = calloc(1, sizeof *ctl);
    size_t plen = strlen(path);

    errbuf_clear(err);
    if (!ctl) {
        errbuf_set(err, "out of memory");
        return NULL;
    }
    ctl->base = base;
    ctl->genl = genl;
    ctl->lock_fd = -1;
    ctl->listen_fd = -1;
    CDS_INIT_LIST_HEAD(&ctl->conns);
    ctl->path = strdup(path);
    ctl->lock_path = malloc(plen + sizeof ".lock");
    ctl->rx = malloc(CTL_RX_BUF);
    if (!ctl->path || !ctl->lock_path || !ctl->rx) {
        errbuf_set(err, "out of memory");
        goto fail;
    }
    memcpy(ctl->lock_path, path, plen);
    memcpy(ctl->lock_path + plen, ".lock", sizeof ".lock");
    if (!plen) {
        errbuf_set(err, "empty control socket path");
        goto fail;
    }

    if (ctl_listen(ctl, err)) {
        goto fail;
    }
    ctl->ev_accept = event_new(base, ctl->listen_fd, EV_READ | EV_PERSIST,
                               ctl_accept_cb, ctl);
    ctl->ev_resume = evtimer_new(base, ctl_resume_cb, ctl);
    if (!ctl->ev_accept || !ctl->ev_resume
        || event_add(ctl->ev_accept, NULL)) {
        errbuf_set(err, "cannot add the listener to the event loop");
        goto fail;
    }
    wlog("ctl", WLOG_INFO, "listening on %s", path);
    return ctl;

fail:
    ctl_server_destroy(ctl);
    return NULL;
}

void
ctl_server_destroy(struct ctl_server *ctl)
{
    struct ctl_conn *c, *next;

    if (!ctl) {
        return;
    }
    cds_list_for_each_entry_safe(c, next, &ctl->conns, node) {
        conn_close(c);
    }
    if (ctl->ev_accept) {
        event_free(ctl->ev_accept);
    }
    if (ctl->ev_resume) {
        event_free(ctl->ev_resume);
    }
    if (ctl->listen_fd >= 0) {
        close(ctl->listen_fd);
        unlink(ctl->path);
    }
    if (ctl->lock_fd >= 0) {
        /* Unlinked while still held: see ctl_lock() for the other side. */
        unlink(ctl->lock_path);
        close(ctl->lock_fd);
    }
    free(ctl->rx);
    free(ctl->lock_path);
    free(ctl->path);
    free(ctl);
}

unsigned int
ctl_server_n_conns(const struct ctl_server *ctl)
{
    return ctl->n_conns;
}

/* ---- A server on a thread of its own. ---- */

struct ctl_thread {
    pthread_t thread;
    char *path;
    struct genl_config cfg;
    int stop_fd;                /* eventfd: written to stop the loop. */
    sem_t started;
    int start_error;            /* Set before 'started' is posted. */
    struct errbuf err;
};

static void
ctl_thread_stop_cb(evutil_socket_t fd, short what, void *aux)
{
    struct event_base *base = aux;

    qsbr_online();
    event_base_loopbreak(base);
    qsbr_offline();
}

static void *
ctl_thread_main(void *aux)
{
    struct ctl_thread *t = aux;
    struct event_base *base = NULL;
    struct genl_server *genl = NULL;
    struct ctl_server *ctl = NULL;
    struct event *ev_stop = NULL;

    qsbr_register();
    base = event_base_new();
    if (!base) {
        errbuf_set(&t->err, "cannot create an event base");
        goto fail;
    }
    ev_stop = event_new(base, t->stop_fd, EV_READ, ctl_thread_stop_cb, base);
    if (!ev_stop || event_add(ev_stop, NULL)) {
        errbuf_set(&t->err, "cannot add an event");
        goto fail;
    }
    genl = genl_server_create(&t->cfg, &t->err);
    if (!genl) {
        goto fail;
    }
    ctl = ctl_server_create(base, genl, t->path, &t->err);
    if (!ctl) {
        goto fail;
    }
    sem_post(&t->started);

    qsbr_offline();
    event_base_dispatch(base);
    qsbr_online();

    ctl_server_destroy(ctl);
    genl_server_destroy(genl);
    event_free(ev_stop);
    event_base_free(base);
    qsbr_unregister();
    return NULL;

fail:
    genl_server_destroy(genl);
    if (ev_stop) {
        event_free(ev_stop);
    }
    if (base) {
        event_base_free(base);
    }
    qsbr_unregister();
    t->start_error = -1;
    sem_post(&t->started);
    return NULL;
}

struct ctl_thread *
ctl_thread_start(const char *path, const struct genl_config *cfg,
                 struct errbuf *err)
{
    struct ctl_thread *t = calloc(1, sizeof *t);
    int error;

    errbuf_clear(err);
    if (!t) {
        errbuf_set(err, "out of memory");
        return NULL;
    }
    t->path = strdup(path);
    t->cfg = *cfg;
    t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!t->path || t->stop_fd < 0) {
        errbuf_set(err, "cannot set up the server thread: %s",
                   t->path ? strerror(errno) : "out of memory");
        goto fail;
    }
    sem_init(&t->started, 0, 0);
    error = pthread_create(&t->thread, NULL, ctl_thread_main, t);
    if (error) {
        errbuf_set(err, "cannot start the server thread: %s",
                   strerror(error));
        sem_destroy(&t->started);
        goto fail;
    }
    while (sem_wait(&t->started) && errno == EINTR) {
        continue;
    }
    sem_destroy(&t->started);
    if (t->start_error) {
        pthread_join(t->thread, NULL);
        errbuf_set(err, "%s", t->err.msg);
        goto fail;
    }
    return t;

fail:
    if (t->stop_fd >= 0) {
        close(t->stop_fd);
    }
    free(t->path);
    free(t);
    return NULL;
}

void
ctl_thread_stop(struct ctl_thread *t)
{
    uint64_t one = 1;

    if (!t) {
        return;
    }
    if (write(t->stop_fd, &one, sizeof one) != (ssize_t) sizeof one) {
        abort();                /* An eventfd write of 1 cannot fail. */
    }
    pthread_join(t->thread, NULL);
    close(t->stop_fd);
    free(t->path);
    free(t);
}
