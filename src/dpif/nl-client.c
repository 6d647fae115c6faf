/* SPDX-License-Identifier: Apache-2.0 */
/* nl-client: generic netlink over weird's control socket (nl-client.h). */
#include "dpif/nl-client.h"

#include <errno.h>
#include <limits.h>
#include <linux/genetlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "dpif/dpif-provider.h"
#include "lib/mutex.h"
#include "weir/control.h"
#include "weir/dpif.h"

/* Most requests in one sendmsg(): the kernel's UIO_MAXIOV. */
#define NLC_IOV_MAX 1024

/* Highest errno a peer may report (the kernel's MAX_ERRNO). */
#define NLC_MAX_ERRNO 4095

struct nlc_sock {
    struct wmutex mutex;
    int fd;
    uint32_t pid;               /* Port id from HELLO. */
    uint32_t seq;               /* Next sequence number; under 'mutex'. */
    bool overrun;               /* NLMSG_OVERRUN seen by a transaction,
                                 * not yet reported; under 'mutex'. */
    uint8_t *rbuf;              /* NLC_RECV_SIZE bytes, allocated on first
                                 * use; under 'mutex'. */
    int timeout_ms;             /* SO_RCVTIMEO and SO_SNDTIMEO; under
                                 * 'mutex' (read for reasons only). */
    char path[sizeof ((struct sockaddr_un *) 0)->sun_path];
};

/* Sets SO_RCVTIMEO and SO_SNDTIMEO of 'fd' to 'ms'.  Returns 0 or
 * -errno (with the reason set). */
static int
nlc_set_fd_timeouts(int fd, int ms)
{
    struct timeval tv = {
        .tv_sec = ms / 1000,
        .tv_usec = (ms % 1000) * 1000,
    };

    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0
        || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) {
        int err = errno;

        dpif_set_error("control socket: setting timeouts: %s",
                       strerror(err));
        return -err;
    }
    return 0;
}

/* The errno of a failed send of 'sock' ('err', positive) as the call
 * returns it, with the reason set.  SO_SNDTIMEO ran out (EAGAIN): weird
 * left its socket full for the whole timeout. */
static int
nlc_send_error(const struct nlc_sock *sock, int err)
{
    if (err == EAGAIN || err == EWOULDBLOCK) {
        dpif_set_error("weird did not take a request within %d ms (its "
                       "control socket stayed full)", sock->timeout_ms);
        return -ETIMEDOUT;
    }
    dpif_set_error("control socket: send failed: %s", strerror(err));
    return err == EPIPE || err == ECONNRESET ? -ECONNRESET : -err;
}

/* ---- Low-level send and receive. ---- */

/* Sends 'len' bytes as one datagram.  Returns 0 or -errno. */
static int
nlc_send_raw(struct nlc_sock *sock, const void *data, size_t len)
{
    for (;;) {
        ssize_t n = send(sock->fd, data, len, MSG_NOSIGNAL);

        if (n >= 0) {
            return 0;
        }
        if (errno != EINTR) {
            return nlc_send_error(sock, errno);
        }
    }
}

int
nlc_next_msg(const void *buf, size_t len, size_t *offset,
             const struct nlmsghdr **nlhp)
{
    size_t off = *offset;
    const struct nlmsghdr *nlh;

    if (off >= len) {
        return 0;
    }
    if (len - off < NLMSG_HDRLEN) {
        dpif_set_error("netlink: %zu trailing bytes after the last message",
                       len - off);
        return -EPROTO;
    }
    nlh = (const struct nlmsghdr *) ((const uint8_t *) buf + off);
    if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > len - off) {
        dpif_set_error("netlink: message length %u with %zu bytes left",
                       nlh->nlmsg_len, len - off);
        return -EPROTO;
    }
    off += NLMSG_ALIGN(nlh->nlmsg_len);
    *offset = off < len ? off : len;
    *nlhp = nlh;
    return 1;
}

/* Checks the framing of a whole datagram.  Returns 0 or -EPROTO. */
static int
nlc_check_dgram(const void *buf, size_t len)
{
    const struct nlmsghdr *nlh;
    size_t off = 0;
    int r;

    if (len == 0) {
        dpif_set_error("netlink: empty datagram");
        return -EPROTO;
    }
    while ((r = nlc_next_msg(buf, len, &off, &nlh)) > 0) {
        continue;
    }
    return r;
}

/* Receives one datagram into 'buf', blocking (up to NLC_TIMEOUT_MS, the
 * socket's SO_RCVTIMEO) or not, and checks its framing.
 * Returns its length; -EAGAIN (non-blocking, none); -ETIMEDOUT;
 * -ECONNRESET; -EPROTO (truncated or malformed); -errno. */
static int
nlc_recv_dgram(struct nlc_sock *sock, void *buf, size_t size, bool block)
{
    for (;;) {
        ssize_t n = recv(sock->fd, buf, size,
                         MSG_TRUNC | (block ? 0 : MSG_DONTWAIT));
        int r;

        if (n < 0) {
            int err = errno;

            if (err == EINTR) {
                continue;
            }
            if (err == EAGAIN || err == EWOULDBLOCK) {
                if (!block) {
                    return -EAGAIN;
                }
                dpif_set_error("weird did not answer within %d ms",
                               sock->timeout_ms);
                return -ETIMEDOUT;
            }
            dpif_set_error("control socket: receive failed: %s",
                           strerror(err));
            return err == ECONNRESET || err == EPIPE ? -ECONNRESET : -err;
        }
        if (n == 0) {
            dpif_set_error("weird closed the control connection");
            return -ECONNRESET;
        }
        if ((size_t) n > size) {
            dpif_set_error("netlink: datagram of %zd bytes does not fit "
                           "the %zu-byte receive buffer", n, size);
            return -EPROTO;
        }
        if (n > INT_MAX) {
            return -EPROTO;
        }
        r = nlc_check_dgram(buf, (size_t) n);
        return r < 0 ? r : (int) n;
    }
}

static int
nlc_alloc_rbuf_locked(struct nlc_sock *sock) WEIR_REQUIRES(&sock->mutex)
{
    if (!sock->rbuf) {
        sock->rbuf = malloc(NLC_RECV_SIZE);
        if (!sock->rbuf) {
            dpif_set_error("out of memory for a receive buffer");
            return -ENOMEM;
        }
    }
    return 0;
}

/* ---- Error and done messages. ---- */

/* Finds the extack message among the TLVs of 'nlh' from 'off' on.
 * Returns 0 with '*msgp' (NULL if none) or -EPROTO. */
static int
nlc_parse_ext_ack(const struct nlmsghdr *nlh, size_t off, const char **msgp)
{
    const uint8_t *payload = mnl_nlmsg_get_payload(nlh);
    size_t plen = nlh->nlmsg_len - NLMSG_HDRLEN;
    const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
    const struct nlattr *a;
    int r;

    *msgp = NULL;
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) {
        return 0;
    }
    off = NLMSG_ALIGN(off);
    if (off > plen) {
        dpif_set_error("netlink: extended ACK past the end of its message");
        return -EPROTO;
    }
    /* Reuse the attribute parser on the range after the fixed part. */
    memset(tb, 0, sizeof tb);
    while (off < plen) {
        uint16_t type;

        if (plen - off < NLA_HDRLEN) {
            dpif_set_error("netlink: %zu trailing bytes in an extended ACK",
                           plen - off);
            return -EPROTO;
        }
        a = (const struct nlattr *) (payload + off);
        if (a->nla_len < NLA_HDRLEN || a->nla_len > plen - off) {
            dpif_set_error("netlink: extended ACK attribute of length %u "
                           "with %zu bytes left", a->nla_len, plen - off);
            return -EPROTO;
        }
        type = a->nla_type & NLA_TYPE_MASK;
        if (type <= NLMSGERR_ATTR_MAX) {
            if (tb[type]) {
                dpif_set_error("netlink: duplicate extended ACK "
                               "attribute %u", type);
                return -EPROTO;
            }
            tb[type] = a;
        }
        off += NLA_ALIGN(a->nla_len);
    }
    a = tb[NLMSGERR_ATTR_MSG];
    if (a) {
        r = nlc_attr_str_ok(a, 4096, "extended ACK message");
        if (!r) {
            return -EPROTO;
        }
        *msgp = mnl_attr_get_str(a);
    }
    return 0;
}

/* Parses NLMSG_ERROR 'nlh' into '*errorp' (0 for an ACK, else -errno) and
 * '*msgp' (its extack text or NULL).  Returns 0 or -EPROTO. */
static int
nlc_parse_error(const struct nlmsghdr *nlh, int *errorp, const char **msgp)
{
    size_t plen = nlh->nlmsg_len - NLMSG_HDRLEN;
    struct nlmsgerr e;
    size_t off;

    if (plen < sizeof e) {
        dpif_set_error("netlink: NLMSG_ERROR of %zu bytes", plen);
        return -EPROTO;
    }
    memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof e);
    if (e.error > 0 || e.error < -NLC_MAX_ERRNO) {
        dpif_set_error("netlink: NLMSG_ERROR with error %d", e.error);
        return -EPROTO;
    }
    off = sizeof e;
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
        /* The whole request is echoed after the header copy. */
        if (e.msg.nlmsg_len < NLMSG_HDRLEN
            || e.msg.nlmsg_len - NLMSG_HDRLEN > plen - off) {
            dpif_set_error("netlink: NLMSG_ERROR echoes a request of %u "
                           "bytes in %zu", e.msg.nlmsg_len, plen - off);
            return -EPROTO;
        }
        off += e.msg.nlmsg_len - NLMSG_HDRLEN;
    }
    *errorp = e.error;
    return nlc_parse_ext_ack(nlh, off, msgp);
}

/* Parses NLMSG_DONE 'nlh' into '*errorp'.  Returns 0 or -EPROTO. */
static int
nlc_parse_done(const struct nlmsghdr *nlh, int *errorp, const char **msgp)
{
    size_t plen = nlh->nlmsg_len - NLMSG_HDRLEN;
    int32_t error = 0;

    *msgp = NULL;
    if (plen == 0) {
        *errorp = 0;            /* Old kernels sent an empty DONE. */
        return 0;
    }
    if (plen < sizeof error) {
        dpif_set_error("netlink: NLMSG_DONE of %zu bytes", plen);
        return -EPROTO;
    }
    memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof error);
    if (error > 0 || error < -NLC_MAX_ERRNO) {
        dpif_set_error("netlink: NLMSG_DONE with error %d", (int) error);
        return -EPROTO;
    }
    *errorp = error;
    return nlc_parse_ext_ack(nlh, sizeof error, msgp);
}

/* Sets the calling thread's error text for a request that failed with
 * 'error' (extack text 'msg', or NULL). */
static void
nlc_report(int error, const char *msg)
{
    if (msg && msg[0]) {
        dpif_set_error("%s", msg);
    } else {
        dpif_set_error("weird: %s", strerror(-error));
    }
}

/* ---- Open and close. ---- */

static int
nlc_hello(struct nlc_sock *sock)
{
    struct {
        struct nlmsghdr nlh;
        struct weir_hello hello;
    } req;
    uint8_t buf[512];
    const struct nlmsghdr *nlh;
    struct weir_hello ans;
    int n;
    int r;

    memset(&req, 0, sizeof req);
    req.nlh.nlmsg_len = sizeof req;
    req.nlh.nlmsg_type = WEIR_NLMSG_HELLO;
    req.nlh.nlmsg_flags = NLM_F_REQUEST;
    req.hello.version = WEIR_HELLO_VERSION;
    req.hello.pid = 0;
    r = nlc_send_raw(sock, &req, sizeof req);
    if (r) {
        return r;
    }
    n = nlc_recv_dgram(sock, buf, sizeof buf, true);
    if (n < 0) {
        return n;
    }
    nlh = (const struct nlmsghdr *) buf;
    if (nlh->nlmsg_type != WEIR_NLMSG_HELLO
        || nlh->nlmsg_len < NLMSG_HDRLEN + sizeof ans) {
        dpif_set_error("control socket: expected a HELLO answer, got "
                       "message type %u of %u bytes",
                       nlh->nlmsg_type, nlh->nlmsg_len);
        return -EPROTO;
    }
    memcpy(&ans, buf + NLMSG_HDRLEN, sizeof ans);
    if (ans.error) {
        if (ans.error > 0 || ans.error < -NLC_MAX_ERRNO) {
            dpif_set_error("control socket: HELLO answer with error %d",
                           (int) ans.error);
            return -EPROTO;
        }
        dpif_set_error("weird refused the connection: %s",
                       strerror(-ans.error));
        return ans.error;
    }
    if (ans.version != WEIR_HELLO_VERSION) {
        dpif_set_error("control socket: weird speaks HELLO version %u, "
                       "not %u", ans.version, WEIR_HELLO_VERSION);
        return -EPROTO;
    }
    if (ans.pid == 0) {
        dpif_set_error("control socket: HELLO answer without a port id");
        return -EPROTO;
    }
    sock->pid = ans.pid;
    return 0;
}

int
nlc_open_fd(int fd, struct nlc_sock **sockp)
{
    struct nlc_sock *sock;
    int r;

    *sockp = NULL;
    sock = calloc(1, sizeof *sock);
    if (!sock) {
        close(fd);
        dpif_set_error("out of memory");
        return -ENOMEM;
    }
    wmutex_init(&sock->mutex);
    sock->fd = fd;
    sock->seq = 1;
    sock->timeout_ms = NLC_TIMEOUT_MS;
    /* nlc_open_path() set them before connect(); a socket from elsewhere
     * gets them here. */
    r = nlc_set_fd_timeouts(fd, NLC_TIMEOUT_MS);
    if (r) {
        goto error;
    }
    r = nlc_hello(sock);
    if (!r) {
        r = nlc_setsockopt(sock, WEIR_SOCK_EXT_ACK, 1);
    }
    if (!r) {
        r = nlc_setsockopt(sock, WEIR_SOCK_CAP_ACK, 1);
    }
    if (r) {
        goto error;
    }
    *sockp = sock;
    return 0;

error:
    nlc_close(sock);
    return r;
}

int
nlc_open(struct nlc_sock **sockp)
{
    return nlc_open_path(dpif_control_path(), sockp);
}

int
nlc_open_path(const char *path, struct nlc_sock **sockp)
{
    struct sockaddr_un sun;
    int fd;
    int r;

    *sockp = NULL;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    if (!path || strlen(path) >= sizeof sun.sun_path) {
        dpif_set_error("control socket path too long");
        return -ENAMETOOLONG;
    }
    strcpy(sun.sun_path, path);
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        r = -errno;
        dpif_set_error("control socket: %s", strerror(-r));
        return r;
    }
    /* Before connect(): a weird whose listen queue is full makes connect()
     * wait, for at most SO_SNDTIMEO (then EAGAIN). */
    r = nlc_set_fd_timeouts(fd, NLC_TIMEOUT_MS);
    if (r) {
        close(fd);
        return r;
    }
    while (connect(fd, (struct sockaddr *) &sun, sizeof sun) < 0) {
        if (errno != EINTR) {
            int err = errno;

            if (err == EAGAIN || err == EWOULDBLOCK) {
                dpif_set_error("weird at %s did not accept the connection "
                               "within %d ms", path, NLC_TIMEOUT_MS);
                r = -ETIMEDOUT;
            } else {
                dpif_set_error("cannot connect to weird at %s: %s", path,
                               strerror(err));
                r = -err;
            }
            close(fd);
            return r;
        }
    }
    r = nlc_open_fd(fd, sockp);
    if (!r) {
        strcpy((*sockp)->path, path);
    }
    return r;
}

void
nlc_close(struct nlc_sock *sock)
{
    if (!sock) {
        return;
    }
    close(sock->fd);
    free(sock->rbuf);
    wmutex_destroy(&sock->mutex);
    free(sock);
}

uint32_t
nlc_pid(const struct nlc_sock *sock)
{
    return sock->pid;
}

const char *
nlc_path(const struct nlc_sock *sock)
{
    return sock->path;
}

int
nlc_set_timeout(struct nlc_sock *sock, int timeout_ms)
{
    int r;

    if (timeout_ms <= 0) {
        dpif_set_error("timeout %d ms: must be positive", timeout_ms);
        return -EINVAL;
    }
    wmutex_lock(&sock->mutex);
    r = nlc_set_fd_timeouts(sock->fd, timeout_ms);
    if (!r) {
        sock->timeout_ms = timeout_ms;
    }
    wmutex_unlock(&sock->mutex);
    return r;
}

int
nlc_fd(const struct nlc_sock *sock)
{
    return sock->fd;
}

int
nlc_setsockopt(struct nlc_sock *sock, uint32_t op, uint32_t value)
{
    struct {
        struct nlmsghdr nlh;
        struct weir_sockopt opt;
    } req;
    int r;

    memset(&req, 0, sizeof req);
    req.nlh.nlmsg_len = sizeof req;
    req.nlh.nlmsg_type = WEIR_NLMSG_SOCKOPT;
    req.nlh.nlmsg_flags = NLM_F_REQUEST;
    req.opt.op = op;
    req.opt.value = value;
    wmutex_lock(&sock->mutex);
    req.nlh.nlmsg_pid = sock->pid;
    r = nlc_send_raw(sock, &req, sizeof req);
    wmutex_unlock(&sock->mutex);
    return r;
}

/* ---- Building. ---- */

struct nlmsghdr *
nlc_msg_start(void *buf, size_t size, uint16_t type, uint16_t flags,
              uint8_t cmd, uint8_t version, size_t hdrsize, void **hdrp)
{
    struct nlmsghdr *nlh;
    struct genlmsghdr *genl;
    void *hdr;

    if (size < NLMSG_HDRLEN + GENL_HDRLEN + MNL_ALIGN(hdrsize)) {
        return NULL;
    }
    /* The headers fit: the size check above bounds every put below. */
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    genl = mnl_nlmsg_put_extra_header(nlh, sizeof *genl);
    genl->cmd = cmd;
    genl->version = version;
    hdr = hdrsize ? mnl_nlmsg_put_extra_header(nlh, hdrsize) : NULL;
    if (hdrp) {
        *hdrp = hdr;
    }
    return nlh;
}

/* ---- Transactions. ---- */

/* Sends txns[0..n) (whose total fits one datagram) and collects their
 * outcomes.  Returns 0 or a transport error. */
static int
nlc_transact_dgram_locked(struct nlc_sock *sock, struct nlc_txn *txns,
                          size_t n) WEIR_REQUIRES(&sock->mutex)
{
    struct iovec iov[NLC_IOV_MAX];
    struct msghdr msg;
    uint32_t base = sock->seq;
    bool finished = false;
    size_t answered = 0;        /* Requests known to have been handled. */
    ssize_t sent;

    sock->seq += n;
    for (size_t i = 0; i < n; i++) {
        struct nlmsghdr *nlh = txns[i].request;

        nlh->nlmsg_seq = base + i;
        nlh->nlmsg_pid = sock->pid;
        nlh->nlmsg_flags |= NLM_F_REQUEST;
        nlh->nlmsg_flags &= ~NLM_F_ACK;
        if (i == n - 1) {
            nlh->nlmsg_flags |= NLM_F_ACK;
        }
        txns[i].error = 0;
        txns[i].replied = false;
        iov[i].iov_base = nlh;
        iov[i].iov_len = NLMSG_ALIGN(nlh->nlmsg_len);
    }
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = iov;
    msg.msg_iovlen = n;
    do {
        sent = sendmsg(sock->fd, &msg, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
        return nlc_send_error(sock, errno);
    }

    while (!finished) {
        const struct nlmsghdr *nlh;
        size_t off = 0;
        int len = nlc_recv_dgram(sock, sock->rbuf, NLC_RECV_SIZE, true);

        if (len < 0) {
            return len;
        }
        while (nlc_next_msg(sock->rbuf, len, &off, &nlh) > 0) {
            uint32_t i = nlh->nlmsg_seq - base;
            struct nlc_txn *txn;

            if (nlh->nlmsg_type == NLMSG_OVERRUN) {
                /* weird, like the kernel, dropped answers that did not fit
                 * our receive buffer, and drops the rest of this
                 * datagram's: the requests after the last one answered
                 * have no known outcome.  (Transaction sockets join no
                 * group, so the overrun is ours.) */
                for (size_t k = answered; k < n; k++) {
                    if (!txns[k].error) {
                        txns[k].error = -ENOBUFS;
                    }
                }
                nlc_report(-ENOBUFS, "replies dropped: the receive buffer "
                           "overflowed");
                finished = true;
                continue;
            }
            if (nlh->nlmsg_type == NLMSG_NOOP || i >= n) {
                continue;       /* Not ours: an abandoned earlier call. */
            }
            /* Answers come in request order: every request before this
             * one has been handled. */
            if (i + 1 > answered) {
                answered = i + 1;
            }
            txn = &txns[i];
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                const char *text;
                int error;
                int r = nlc_parse_error(nlh, &error, &text);

                if (r) {
                    return r;
                }
                if (error) {
                    txn->error = error;
                    nlc_report(error, text);
                }
                if (i == n - 1) {
                    finished = true;
                }
            } else if (nlh->nlmsg_type == NLMSG_DONE) {
                dpif_set_error("netlink: NLMSG_DONE answers a request "
                               "that is not a dump");
                return -EPROTO;
            } else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
                txn->replied = true;
                if (txn->reply_cb && !txn->error) {
                    int r = txn->reply_cb(nlh, txn->aux);

                    if (r < 0) {
                        txn->error = r;
                    }
                }
            }
        }
    }
    return 0;
}

int
nlc_transact_batch(struct nlc_sock *sock, struct nlc_txn *txns, size_t n)
{
    size_t i = 0;
    int r = 0;

    for (size_t k = 0; k < n; k++) {
        txns[k].error = 0;
        txns[k].replied = false;
    }
    wmutex_lock(&sock->mutex);
    r = nlc_alloc_rbuf_locked(sock);
    while (!r && i < n) {
        size_t bytes = NLMSG_ALIGN(txns[i].request->nlmsg_len);
        size_t j = i + 1;

        while (j < n && j - i < NLC_IOV_MAX) {
            size_t len = NLMSG_ALIGN(txns[j].request->nlmsg_len);

            if (bytes + len > NLC_DGRAM_MAX) {
                break;
            }
            bytes += len;
            j++;
        }
        r = nlc_transact_dgram_locked(sock, txns + i, j - i);
        if (r) {
            break;
        }
        i = j;
    }
    wmutex_unlock(&sock->mutex);
    if (r) {
        /* The requests of the datagram that broke, and those never sent,
         * have no outcome: they take the transport error. */
        for (; i < n; i++) {
            txns[i].error = r;
        }
    }
    return r;
}

int
nlc_transact(struct nlc_sock *sock, struct nlmsghdr *request,
             nlc_reply_cb *reply_cb, void *aux)
{
    struct nlc_txn txn = {
        .request = request,
        .reply_cb = reply_cb,
        .aux = aux,
    };

    nlc_transact_batch(sock, &txn, 1);
    return txn.error;
}

/* ---- Dumps. ---- */

/* Sends dump request 'request' and sets up 'dump' for it.  Returns 0 or
 * a transport error (which also ends the dump). */
static int
nlc_dump_send_locked(struct nlc_sock *sock, struct nlmsghdr *request,
                     struct nlc_dump *dump) WEIR_REQUIRES(&sock->mutex)
{
    int r;

    dump->sock = sock;
    dump->seq = sock->seq++;
    dump->done = false;
    dump->status = 0;
    request->nlmsg_seq = dump->seq;
    request->nlmsg_pid = sock->pid;
    request->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
    request->nlmsg_flags &= ~NLM_F_ACK;
    r = nlc_send_raw(sock, request, NLMSG_ALIGN(request->nlmsg_len));
    if (r) {
        dump->done = true;
        dump->status = r;
    }
    return r;
}

int
nlc_dump_start(struct nlc_sock *sock, struct nlmsghdr *request,
               struct nlc_dump *dump)
{
    int r;

    wmutex_lock(&sock->mutex);
    r = nlc_dump_send_locked(sock, request, dump);
    wmutex_unlock(&sock->mutex);
    return r;
}

/* Whether 'nlh' belongs to 'dump': its sequence number, and addressed to
 * its socket's port id. */
static bool
nlc_dump_owns(const struct nlc_dump *dump, const struct nlmsghdr *nlh)
{
    return nlh->nlmsg_seq == dump->seq
           && nlh->nlmsg_pid == dump->sock->pid;
}

/* Looks for the end of 'dump' in the datagram 'buf': sets 'done' and
 * 'status' on NLMSG_DONE or NLMSG_ERROR.  Returns 0 or -EPROTO. */
static int
nlc_dump_scan_locked(struct nlc_sock *sock, struct nlc_dump *dump,
                     const void *buf, size_t len)
    WEIR_REQUIRES(&sock->mutex)
{
    const struct nlmsghdr *nlh;
    size_t off = 0;

    while (nlc_next_msg(buf, len, &off, &nlh) > 0) {
        const char *text = NULL;
        int error = 0;
        int r;

        if (nlh->nlmsg_type == NLMSG_OVERRUN) {
            sock->overrun = true;
            continue;
        }
        if (!nlc_dump_owns(dump, nlh)) {
            continue;
        }
        if (nlh->nlmsg_type == NLMSG_ERROR) {
            r = nlc_parse_error(nlh, &error, &text);
        } else if (nlh->nlmsg_type == NLMSG_DONE) {
            r = nlc_parse_done(nlh, &error, &text);
        } else {
            continue;
        }
        if (r) {
            return r;
        }
        dump->done = true;
        dump->status = error;
        if (error) {
            nlc_report(error, text);
        }
        break;
    }
    return 0;
}

int
nlc_dump_recv(struct nlc_dump *dump, void *buf, size_t size)
{
    struct nlc_sock *sock = dump->sock;
    int len;

    wmutex_lock(&sock->mutex);
    if (dump->done) {
        wmutex_unlock(&sock->mutex);
        return 0;
    }
    len = nlc_recv_dgram(sock, buf, size, true);
    if (len >= 0) {
        int r = nlc_dump_scan_locked(sock, dump, buf, len);

        if (r) {
            len = r;
        }
    }
    if (len < 0) {
        dump->done = true;
        dump->status = len;
    }
    wmutex_unlock(&sock->mutex);
    return len;
}

const struct nlmsghdr *
nlc_dump_next_msg(const struct nlc_dump *dump, const void *buf, size_t len,
                  size_t *offset)
{
    const struct nlmsghdr *nlh;

    while (nlc_next_msg(buf, len, offset, &nlh) > 0) {
        if (nlc_dump_owns(dump, nlh) && nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
            return nlh;
        }
    }
    return NULL;
}

int
nlc_dump_all(struct nlc_sock *sock, struct nlmsghdr *request,
             nlc_reply_cb *cb, void *aux)
{
    struct nlc_dump dump;
    int cb_error = 0;
    int r;

    /* The lock is held from the request to NLMSG_DONE: see nl-client.h. */
    wmutex_lock(&sock->mutex);
    r = nlc_alloc_rbuf_locked(sock);
    if (!r) {
        r = nlc_dump_send_locked(sock, request, &dump);
    }
    if (r) {
        wmutex_unlock(&sock->mutex);
        return r;
    }
    while (!dump.done) {
        const struct nlmsghdr *nlh;
        size_t off = 0;
        int len = nlc_recv_dgram(sock, sock->rbuf, NLC_RECV_SIZE, true);

        if (len >= 0) {
            r = nlc_dump_scan_locked(sock, &dump, sock->rbuf, len);
            if (r) {
                len = r;
            }
        }
        if (len < 0) {
            dump.done = true;
            dump.status = len;
            break;
        }
        /* After a callback fails, read on to the end so that the socket
         * is clean (weird allows one dump at a time). */
        while (!cb_error
               && (nlh = nlc_dump_next_msg(&dump, sock->rbuf, len, &off))) {
            cb_error = cb(nlh, aux);
        }
    }
    wmutex_unlock(&sock->mutex);
    return dump.status ? dump.status : cb_error;
}

/* ---- Notifications and upcalls. ---- */

int
nlc_recv_nb(struct nlc_sock *sock, void *buf, size_t size)
{
    const struct nlmsghdr *nlh;
    size_t off = 0;
    int len;

    wmutex_lock(&sock->mutex);
    if (sock->overrun) {
        sock->overrun = false;
        wmutex_unlock(&sock->mutex);
        return -ENOBUFS;
    }
    len = nlc_recv_dgram(sock, buf, size, false);
    wmutex_unlock(&sock->mutex);
    if (len < 0) {
        return len;
    }
    while (nlc_next_msg(buf, len, &off, &nlh) > 0) {
        if (nlh->nlmsg_type == NLMSG_OVERRUN) {
            dpif_set_error("weird dropped messages for this socket");
            return -ENOBUFS;
        }
    }
    return len;
}

/* ---- Parsing. ---- */

int
nlc_parse_genl(const struct nlmsghdr *nlh, uint16_t family, size_t hdrsize,
               uint8_t *cmd, const void **hdrp)
{
    const struct genlmsghdr *genl;

    if (nlh->nlmsg_type != family) {
        dpif_set_error("netlink: message of type %u where family %u was "
                       "expected", nlh->nlmsg_type, family);
        return -EPROTO;
    }
    if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN + hdrsize) {
        dpif_set_error("netlink: message of %u bytes is too short for its "
                       "headers", nlh->nlmsg_len);
        return -EPROTO;
    }
    genl = mnl_nlmsg_get_payload(nlh);
    *cmd = genl->cmd;
    if (hdrp) {
        *hdrp = hdrsize ? (const uint8_t *) genl + GENL_HDRLEN : NULL;
    }
    return 0;
}

/* Parses the attributes in 'data' ('len' bytes) into 'tb'. */
static int
nlc_parse_range(const uint8_t *data, size_t len, const struct nlattr **tb,
                uint16_t maxtype)
{
    size_t off = 0;

    memset(tb, 0, (maxtype + 1) * sizeof *tb);
    while (off < len) {
        const struct nlattr *a;
        uint16_t type;

        if (len - off < NLA_HDRLEN) {
            dpif_set_error("netlink: %zu trailing bytes after attributes",
                           len - off);
            return -EPROTO;
        }
        a = (const struct nlattr *) (data + off);
        if (a->nla_len < NLA_HDRLEN || a->nla_len > len - off) {
            dpif_set_error("netlink: attribute %u of length %u with %zu "
                           "bytes left", a->nla_type & NLA_TYPE_MASK,
                           a->nla_len, len - off);
            return -EPROTO;
        }
        type = a->nla_type & NLA_TYPE_MASK;
        if (type <= maxtype) {
            if (tb[type]) {
                dpif_set_error("netlink: duplicate attribute %u", type);
                return -EPROTO;
            }
            tb[type] = a;
        }
        off += NLA_ALIGN(a->nla_len);
    }
    return 0;
}

int
nlc_parse_attrs(const struct nlmsghdr *nlh, size_t hdrsize,
                const struct nlattr **tb, uint16_t maxtype)
{
    size_t start = NLMSG_HDRLEN + GENL_HDRLEN + NLMSG_ALIGN(hdrsize);

    if (nlh->nlmsg_len < start) {
        /* A header that is not a multiple of 4 long leaves a message too
         * short for its padding only when there are no attributes. */
        if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN + hdrsize) {
            dpif_set_error("netlink: message of %u bytes is too short for "
                           "its headers", nlh->nlmsg_len);
            return -EPROTO;
        }
        memset(tb, 0, (maxtype + 1) * sizeof *tb);
        return 0;
    }
    return nlc_parse_range((const uint8_t *) nlh + start,
                           nlh->nlmsg_len - start, tb, maxtype);
}

int
nlc_parse_nested(const struct nlattr *nest, const struct nlattr **tb,
                 uint16_t maxtype)
{
    return nlc_parse_range(mnl_attr_get_payload(nest),
                           mnl_attr_get_payload_len(nest), tb, maxtype);
}

bool
nlc_attr_len_ok(const struct nlattr *a, size_t len, const char *what)
{
    if (a && mnl_attr_get_payload_len(a) != len) {
        dpif_set_error("netlink: %s has %u bytes, not %zu", what,
                       mnl_attr_get_payload_len(a), len);
        return false;
    }
    return true;
}

bool
nlc_attr_str_ok(const struct nlattr *a, size_t max, const char *what)
{
    size_t len = mnl_attr_get_payload_len(a);
    const char *s = mnl_attr_get_payload(a);

    if (len == 0 || len > max || !memchr(s, '\0', len)) {
        dpif_set_error("netlink: %s is not a string of at most %zu bytes",
                       what, max - 1);
        return false;
    }
    return true;
}

/* ---- Families. ---- */

#define NLC_CACHE_SIZE 16
#define NLC_MAX_GROUPS 4

struct nlc_family_entry {
    char path[sizeof ((struct sockaddr_un *) 0)->sun_path];
    char name[GENL_NAMSIZ];
    uint16_t id;
    size_t n_groups;
    struct {
        char name[GENL_NAMSIZ];
        uint32_t id;
    } groups[NLC_MAX_GROUPS];
};

static struct wmutex nlc_cache_mutex = { PTHREAD_MUTEX_INITIALIZER };
static struct nlc_family_entry nlc_cache[NLC_CACHE_SIZE];  /* Under it. */
static size_t nlc_cache_n, nlc_cache_next;                 /* Under it. */

/* Looks 'path' + 'name' up.  Returns 1 with the ids, 0 if not cached,
 * -EOPNOTSUPP if the family is cached without group 'mcgrp'. */
static int
nlc_cache_lookup(const char *path, const char *name, uint16_t *id,
                 const char *mcgrp, uint32_t *mcgrp_id)
{
    int r = 0;

    wmutex_lock(&nlc_cache_mutex);
    for (size_t i = 0; i < nlc_cache_n; i++) {
        const struct nlc_family_entry *e = &nlc_cache[i];

        if (strcmp(e->path, path) || strcmp(e->name, name)) {
            continue;
        }
        *id = e->id;
        r = 1;
        if (mcgrp) {
            r = -EOPNOTSUPP;
            for (size_t g = 0; g < e->n_groups; g++) {
                if (!strcmp(e->groups[g].name, mcgrp)) {
                    *mcgrp_id = e->groups[g].id;
                    r = 1;
                }
            }
        }
        break;
    }
    wmutex_unlock(&nlc_cache_mutex);
    return r;
}

static void
nlc_cache_insert(const struct nlc_family_entry *e)
{
    wmutex_lock(&nlc_cache_mutex);
    for (size_t i = 0; i < nlc_cache_n; i++) {
        if (!strcmp(nlc_cache[i].path, e->path)
            && !strcmp(nlc_cache[i].name, e->name)) {
            nlc_cache[i] = *e;
            wmutex_unlock(&nlc_cache_mutex);
            return;
        }
    }
    if (nlc_cache_n < NLC_CACHE_SIZE) {
        nlc_cache[nlc_cache_n++] = *e;
    } else {
        nlc_cache[nlc_cache_next] = *e;
        nlc_cache_next = (nlc_cache_next + 1) % NLC_CACHE_SIZE;
    }
    wmutex_unlock(&nlc_cache_mutex);
}

static int
nlc_parse_family(const struct nlmsghdr *nlh, void *entry_)
{
    struct nlc_family_entry *e = entry_;
    const struct nlattr *tb[CTRL_ATTR_MAX + 1];
    const struct nlattr *grps;
    const struct nlattr *a;
    uint8_t cmd;
    int r;

    r = nlc_parse_genl(nlh, GENL_ID_CTRL, 0, &cmd, NULL);
    if (!r) {
        r = nlc_parse_attrs(nlh, 0, tb, CTRL_ATTR_MAX);
    }
    if (r) {
        return r;
    }
    if (cmd != CTRL_CMD_NEWFAMILY || !tb[CTRL_ATTR_FAMILY_ID]
        || !nlc_attr_len_ok(tb[CTRL_ATTR_FAMILY_ID], 2, "family id")) {
        dpif_set_error("nlctrl: answer without a family id");
        return -EPROTO;
    }
    if (tb[CTRL_ATTR_FAMILY_NAME]
        && (!nlc_attr_str_ok(tb[CTRL_ATTR_FAMILY_NAME], GENL_NAMSIZ,
                             "family name")
            || strcmp(mnl_attr_get_str(tb[CTRL_ATTR_FAMILY_NAME]),
                      e->name))) {
        dpif_set_error("nlctrl: answer for another family");
        return -EPROTO;
    }
    e->id = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
    e->n_groups = 0;
    grps = tb[CTRL_ATTR_MCAST_GROUPS];
    if (!grps) {
        return 0;
    }
    {
        const uint8_t *p = mnl_attr_get_payload(grps);
        size_t len = mnl_attr_get_payload_len(grps);
        size_t off = 0;

        while (off < len) {
            const struct nlattr *gtb[CTRL_ATTR_MCAST_GRP_MAX + 1];

            if (len - off < NLA_HDRLEN) {
                dpif_set_error("nlctrl: trailing bytes in the groups");
                return -EPROTO;
            }
            a = (const struct nlattr *) (p + off);
            if (a->nla_len < NLA_HDRLEN || a->nla_len > len - off) {
                dpif_set_error("nlctrl: group entry of length %u",
                               a->nla_len);
                return -EPROTO;
            }
            off += NLA_ALIGN(a->nla_len);
            r = nlc_parse_nested(a, gtb, CTRL_ATTR_MCAST_GRP_MAX);
            if (r) {
                return r;
            }
            if (!gtb[CTRL_ATTR_MCAST_GRP_NAME] || !gtb[CTRL_ATTR_MCAST_GRP_ID]
                || !nlc_attr_str_ok(gtb[CTRL_ATTR_MCAST_GRP_NAME],
                                    GENL_NAMSIZ, "group name")
                || !nlc_attr_len_ok(gtb[CTRL_ATTR_MCAST_GRP_ID], 4,
                                    "group id")) {
                dpif_set_error("nlctrl: malformed multicast group");
                return -EPROTO;
            }
            if (e->n_groups < NLC_MAX_GROUPS) {
                strcpy(e->groups[e->n_groups].name,
                       mnl_attr_get_str(gtb[CTRL_ATTR_MCAST_GRP_NAME]));
                e->groups[e->n_groups].id =
                    mnl_attr_get_u32(gtb[CTRL_ATTR_MCAST_GRP_ID]);
                e->n_groups++;
            }
        }
    }
    return 0;
}

int
nlc_family(struct nlc_sock *sock, const char *name, uint16_t *id,
           const char *mcgrp, uint32_t *mcgrp_id)
{
    struct nlc_family_entry e;
    uint64_t buf[256 / 8];
    struct nlmsghdr *nlh;
    int r;

    if (strlen(name) >= GENL_NAMSIZ) {
        dpif_set_error("family name '%s' too long", name);
        return -EINVAL;
    }
    r = nlc_cache_lookup(sock->path, name, id, mcgrp, mcgrp_id);
    if (r == 1) {
        return 0;
    }
    if (r == -EOPNOTSUPP) {
        dpif_set_error("family %s has no multicast group %s", name,
                       mcgrp);
        return r;
    }

    memset(&e, 0, sizeof e);
    strcpy(e.path, sock->path);
    strcpy(e.name, name);
    nlh = nlc_msg_start(buf, sizeof buf, GENL_ID_CTRL, 0,
                        CTRL_CMD_GETFAMILY, 1, 0, NULL);
    if (!nlh || !mnl_attr_put_strz_check(nlh, sizeof buf,
                                         CTRL_ATTR_FAMILY_NAME, name)) {
        return -EMSGSIZE;
    }
    r = nlc_transact(sock, nlh, nlc_parse_family, &e);
    if (r == -ENOENT) {
        dpif_set_error("weird does not serve generic-netlink family %s",
                       name);
        return -EOPNOTSUPP;
    }
    if (r) {
        return r;
    }
    if (e.id == 0) {
        dpif_set_error("nlctrl: no answer for family %s", name);
        return -EPROTO;
    }
    nlc_cache_insert(&e);
    r = nlc_cache_lookup(sock->path, name, id, mcgrp, mcgrp_id);
    if (r == -EOPNOTSUPP) {
        dpif_set_error("family %s has no multicast group %s", name,
                       mcgrp);
    }
    return r == 1 ? 0 : r;
}
