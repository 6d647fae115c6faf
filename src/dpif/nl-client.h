/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DPIF_NL_CLIENT_H
#define WEIR_DPIF_NL_CLIENT_H 1

/* nl-client: a small generic-netlink client over weird's control socket,
 * for the "netlink" dpif provider (dpif-netlink.c).
 *
 * What
 * ====
 *
 * A 'struct nlc_sock' is one connection to weird (weir/control.h): what a
 * NETLINK_GENERIC socket is to a kernel client.  nlc_open() connects to
 * dpif_control_path() (nlc_open_path() to a path of the caller's, e.g.
 * nlc_path() of a socket it already has), does the HELLO exchange (weird
 * chooses the port id) and turns on NETLINK_EXT_ACK and NETLINK_CAP_ACK.
 * On top of it:
 *
 *   - family and multicast group ids by name (nlctrl CTRL_CMD_GETFAMILY),
 *     cached for the process;
 *   - transactions: one or many requests, sent in as few datagrams as fit
 *     (each under NLC_DGRAM_MAX), each request's outcome (its reply, if
 *     any, and its error) matched up by sequence number;
 *   - dumps: one request, then parts until NLMSG_DONE, matched up by
 *     sequence number and port id; read whole by one call
 *     (nlc_dump_all()), or part by part, possibly by several threads in
 *     turn (nlc_dump_start(), nlc_dump_recv());
 *   - non-blocking receives of notifications and upcalls, with weird's
 *     NLMSG_OVERRUN reported as -ENOBUFS.
 *
 * Design
 * ======
 *
 * Requests are built by the caller into its own buffers (nlc_msg_start()
 * and libmnl's _check calls), then handed over; a batch goes out as one
 * sendmsg() with an iovec per request, so nothing is copied.  Only the
 * last request of each datagram asks for an ACK: weird handles the
 * messages of a datagram in order and queues what it owes for each in
 * order, so when that ACK (or error) arrives every earlier request has
 * either failed (its NLMSG_ERROR came first) or succeeded (its reply, if
 * it has one, came first).  A batch of N flow puts costs one datagram
 * each way, not N acknowledgements.  One datagram is outstanding at a
 * time, so a client can never fill its socket while weird waits for it to
 * read.
 *
 * Everything received is outside input: the framing of every datagram,
 * the error and done messages, the generic-netlink headers and the
 * attributes of replies are checked before use (nlc_parse_*()).  A
 * malformed datagram fails the call with -EPROTO and a reason in
 * dpif_last_error(); nothing received is trusted to be in bounds.
 * Messages that belong to no outstanding request (a reply to an earlier
 * call that gave up, a notification) are skipped.
 *
 * Blocking receives and sends time out after NLC_TIMEOUT_MS (SO_RCVTIMEO
 * and SO_SNDTIMEO, set before connect(): -ETIMEDOUT), so a weird that
 * stops answering, or stops reading, cannot hang a client for ever.
 * weird closing the connection (it stopped) fails every call at once with
 * -ECONNRESET; the socket is then dead and stays so.
 *
 * Thread-safety
 * =============
 *
 * Each socket has one mutex.  nlc_transact*(), nlc_dump_all(),
 * nlc_dump_start(), nlc_dump_recv(), nlc_recv_nb() and nlc_setsockopt()
 * take it for their whole exchange, so threads may share a socket (the
 * dpif's main socket is shared by every thread using the dpif).
 * nlc_dump_all() holds it from the request to NLMSG_DONE: a transaction
 * of another thread in between would otherwise read, and skip as not
 * its own, parts of the dump.  A dump read part by part
 * (nlc_dump_start(), nlc_dump_recv()) releases it between parts, so that
 * several threads can share the dump: that is only for a socket that
 * carries nothing else until the dump has ended (the netlink provider
 * gives every flow dump a socket of its own).  The family cache has a
 * mutex of its own, taken inside a socket's (never the other way round).
 *
 * Ownership
 * =========
 *
 * The caller owns a socket from nlc_open() until nlc_close(), its request
 * buffers, and the buffers it receives into.  Reply callbacks see a
 * message in the socket's receive buffer, valid only during the
 * callback. */

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NLC_DGRAM_MAX 65536     /* Largest datagram sent in a batch (a
                                 * single larger request goes alone). */
#define NLC_RECV_SIZE (256 * 1024)  /* Receive buffer: any datagram weird
                                     * sends fits (an upcall may carry a
                                     * 64 KiB packet plus key and actions). */
#define NLC_TIMEOUT_MS 30000    /* Longest wait for an answer. */

struct nlc_sock;

/* Connects to weird at 'path' and sets the socket up: SO_RCVTIMEO and
 * SO_SNDTIMEO (before connect(), which waits for a full listen queue no
 * longer than NLC_TIMEOUT_MS either), HELLO (any port id),
 * NETLINK_EXT_ACK, NETLINK_CAP_ACK.
 * Returns: 0 and '*sockp'; -ENOENT or -ECONNREFUSED (weird is not
 * running); -ENAMETOOLONG (path); -EPROTO (bad HELLO answer); -ETIMEDOUT
 * (weird did not accept, read or answer in time); -ECONNRESET (weird
 * closed the connection); the errno of HELLO's answer (-EADDRINUSE);
 * -ENOMEM; other -errno from socket(). */
int nlc_open_path(const char *path, struct nlc_sock **sockp);

/* nlc_open_path(dpif_control_path()). */
int nlc_open(struct nlc_sock **sockp);

/* As nlc_open(), over 'fd', an already connected SOCK_SEQPACKET socket
 * (tests: one end of a socketpair standing in for weird).  Its path is
 * "".
 * Ownership: 'fd' passes to the socket, even on failure (closed then). */
int nlc_open_fd(int fd, struct nlc_sock **sockp);

/* Closes 'sock' (NULL is a no-op). */
void nlc_close(struct nlc_sock *sock);

/* The port id weird assigned. */
uint32_t nlc_pid(const struct nlc_sock *sock);

/* The control socket path 'sock' was opened with, for opening more
 * connections to the same weird ("" for nlc_open_fd()).  Valid as long
 * as 'sock'. */
const char *nlc_path(const struct nlc_sock *sock);

/* Sets the longest wait of 'sock''s blocking sends and receives to
 * 'timeout_ms' (> 0; NLC_TIMEOUT_MS by default).  For tests, which cannot
 * wait 30 s for a timeout.
 * Returns 0, -EINVAL ('timeout_ms' <= 0), or -errno of setsockopt(). */
int nlc_set_timeout(struct nlc_sock *sock, int timeout_ms);

/* The socket's fd, readable when a datagram is waiting (for poll()). */
int nlc_fd(const struct nlc_sock *sock);

/* Sets option 'op' (enum weir_sockopt_op) to 'value'.  It takes effect
 * before weird reads the next datagram sent on 'sock'.
 * Returns 0, -ETIMEDOUT (weird's socket stayed full), -ECONNRESET, or
 * another -errno from send(). */
int nlc_setsockopt(struct nlc_sock *sock, uint32_t op, uint32_t value);

/* ---- Families. ---- */

/* Resolves generic-netlink family 'name' into '*id' and, if 'mcgrp' is
 * not NULL, its multicast group 'mcgrp' into '*mcgrp_id', asking nlctrl
 * over 'sock' the first time (per control path) and from a process-wide
 * cache afterwards.
 * Returns: 0; -EOPNOTSUPP (no such family or group: weird does not speak
 * it); -EPROTO (malformed answer); transport errors. */
int nlc_family(struct nlc_sock *sock, const char *name, uint16_t *id,
               const char *mcgrp, uint32_t *mcgrp_id);

/* ---- Building requests. ---- */

/* Starts a generic-netlink request in 'buf' ('size' bytes): nlmsghdr with
 * 'type' (the family id) and 'flags' (NLM_F_REQUEST added), genlmsghdr
 * with 'cmd' and 'version', then 'hdrsize' zeroed bytes of family header
 * (for the OVS families, a struct ovs_header), returned in '*hdrp' if
 * 'hdrp' is not NULL.  Attributes are then added with libmnl's _check
 * calls, bounded by 'size'.  Sequence number and port id are set when the
 * request is sent.
 * Returns the message, or NULL if 'size' cannot hold the headers. */
struct nlmsghdr *nlc_msg_start(void *buf, size_t size, uint16_t type,
                               uint16_t flags, uint8_t cmd, uint8_t version,
                               size_t hdrsize, void **hdrp);

/* ---- Transactions. ---- */

/* Called with each reply (not ACK or error) to a request, in the socket's
 * receive buffer, already checked to be a whole netlink message.  Returns
 * 0, or -errno to fail the request (e.g. -EPROTO for a malformed reply,
 * with dpif_set_error()). */
typedef int nlc_reply_cb(const struct nlmsghdr *reply, void *aux);

struct nlc_txn {
    struct nlmsghdr *request;   /* In: a complete request. */
    nlc_reply_cb *reply_cb;     /* In: NULL to ignore replies. */
    void *aux;                  /* In: for 'reply_cb'. */
    int error;                  /* Out: 0 or -errno. */
    bool replied;               /* Out: a reply was seen. */
};

/* Sends the requests of 'txns' in order, in as few datagrams of at most
 * NLC_DGRAM_MAX bytes as hold them, and sets every txn's 'error' and
 * 'replied'.  An error weird sent with an extack message sets
 * dpif_last_error() to it.
 * Returns: 0 if every request got its outcome (each may still have
 * failed); otherwise the transport error (-EPROTO malformed answer,
 * -ETIMEDOUT no answer, or no room to send, within the timeout,
 * -ECONNRESET weird closed the connection, -errno of send/recv), which is
 * then also the 'error' of each request that did not get an outcome. */
int nlc_transact_batch(struct nlc_sock *sock, struct nlc_txn *txns,
                       size_t n);

/* One request.  Returns its error (or the transport error). */
int nlc_transact(struct nlc_sock *sock, struct nlmsghdr *request,
                 nlc_reply_cb *reply_cb, void *aux);

/* ---- Dumps. ---- */

/* A dump in progress on a socket.  Only one per socket at a time.  Its
 * messages are those with its sequence number and the socket's port id
 * (weird, as the kernel, addresses every part and the NLMSG_DONE to the
 * requesting socket). */
struct nlc_dump {
    struct nlc_sock *sock;
    uint32_t seq;
    bool done;                  /* NLMSG_DONE or an error was seen. */
    int status;                 /* 0 or the error that ended the dump. */
};

/* Sends dump request 'request' (NLM_F_DUMP is added) on 'sock', for
 * nlc_dump_recv().  'sock' must carry nothing else (no transaction of any
 * thread) until the dump has ended: see "Thread-safety" above.
 * Returns 0 or a transport error. */
int nlc_dump_start(struct nlc_sock *sock, struct nlmsghdr *request,
                   struct nlc_dump *dump);

/* Receives the next part of 'dump' into 'buf' ('size' bytes, at least
 * NLC_RECV_SIZE is always enough) and returns its length (its messages
 * are then read with nlc_dump_next_msg()), or 0 once the dump has ended
 * (see 'dump->status'), or a transport error (which also ends the dump).
 * Several threads may call this on one dump, each with its own buffer. */
int nlc_dump_recv(struct nlc_dump *dump, void *buf, size_t size);

/* Returns the next data message of 'dump' in 'buf' (a part from
 * nlc_dump_recv() of 'len' bytes) at '*offset', advancing it, or NULL at
 * the end of the part.  Control messages and messages of other requests
 * (another sequence number or port id) are skipped. */
const struct nlmsghdr *nlc_dump_next_msg(const struct nlc_dump *dump,
                                         const void *buf, size_t len,
                                         size_t *offset);

/* Sends dump request 'request' on 'sock' and receives the whole dump,
 * calling 'cb' for each data message (stopping at its first error, then
 * reading on to NLMSG_DONE so that the socket stays clean).  It holds the
 * socket's lock from the request to the end, so 'sock' may be shared:
 * other threads' calls on it wait for the dump.
 * Returns 0, the dump's error, 'cb''s error, or a transport error. */
int nlc_dump_all(struct nlc_sock *sock, struct nlmsghdr *request,
                 nlc_reply_cb *cb, void *aux);

/* ---- Notifications and upcalls. ---- */

/* Receives one datagram without blocking into 'buf' ('size' bytes).
 * Returns: its length (> 0; messages read with nlc_next_msg()); -EAGAIN
 * (nothing waiting); -ENOBUFS (weird dropped messages for this socket:
 * NLMSG_OVERRUN); -EPROTO (malformed or truncated datagram, dropped);
 * -ECONNRESET (weird closed the connection). */
int nlc_recv_nb(struct nlc_sock *sock, void *buf, size_t size);

/* Walks the messages of a datagram: returns 1 and '*nlhp' for the message
 * at '*offset' (advancing it), 0 at the end, -EPROTO if the framing is
 * broken.  Checks only the framing (nlmsg_len within the datagram). */
int nlc_next_msg(const void *buf, size_t len, size_t *offset,
                 const struct nlmsghdr **nlhp);

/* ---- Parsing replies. ---- */

/* Checks that 'nlh' is a message of generic-netlink family 'family' with
 * a family header of 'hdrsize' bytes; sets '*cmd' and '*hdrp' (the
 * family header, may be NULL when 'hdrsize' is 0).
 * Returns 0 or -EPROTO (with a reason set by dpif_set_error()). */
int nlc_parse_genl(const struct nlmsghdr *nlh, uint16_t family,
                   size_t hdrsize, uint8_t *cmd, const void **hdrp);

/* Parses the attributes of generic-netlink message 'nlh' after 'hdrsize'
 * bytes of family header into 'tb' ('maxtype' + 1 entries, zeroed first):
 * every attribute must lie within the message; unknown types (above
 * 'maxtype') are skipped; a duplicate is an error.
 * Returns 0 or -EPROTO (with a reason). */
int nlc_parse_attrs(const struct nlmsghdr *nlh, size_t hdrsize,
                    const struct nlattr **tb, uint16_t maxtype);

/* The same for the attributes nested in 'nest'. */
int nlc_parse_nested(const struct nlattr *nest, const struct nlattr **tb,
                     uint16_t maxtype);

/* Checks that attribute 'a' (may be NULL: then true) has exactly 'len'
 * bytes of payload; on a mismatch sets a reason naming 'what' and returns
 * false. */
bool nlc_attr_len_ok(const struct nlattr *a, size_t len, const char *what);

/* Checks that 'a' (not NULL) holds a NUL-terminated string of at most
 * 'max' bytes with the NUL; else sets a reason and returns false. */
bool nlc_attr_str_ok(const struct nlattr *a, size_t max, const char *what);

#endif /* dpif/nl-client.h */
