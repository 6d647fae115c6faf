/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_CONTROL_H
#define WEIR_CONTROL_H 1

/* weird's control socket: the transport that carries the Open vSwitch
 * kernel module's generic-netlink protocol between weird and its clients.
 *
 * What
 * ====
 *
 * A client connects an AF_UNIX SOCK_SEQPACKET socket to weird's control
 * path and then exchanges netlink datagrams exactly as it would with a
 * NETLINK_GENERIC socket: every datagram it sends holds one or more
 * netlink messages, every datagram it receives is what the kernel would
 * have queued on the netlink socket (replies, ACKs and errors, dump parts,
 * multicast notifications, upcalls).
 *
 * What a netlink socket gets from the kernel outside of messages (its
 * port id, group membership, socket options, overrun errors) is carried
 * by a few messages of types below NLMSG_MIN_TYPE, which the kernel never
 * sends and silently skips when a client sends them, so they cannot be
 * mistaken for protocol traffic:
 *
 *   - WEIR_NLMSG_HELLO: the first datagram in each direction.  The client
 *     asks for a port id ('pid', 0 for "choose one", as the kernel's
 *     autobind does); weird answers with the id it assigned or an error
 *     (-EADDRINUSE when a chosen id is taken).  Nothing else is sent to a
 *     client before the answer.  With WEIR_HELLO_F_SYNC the client passes
 *     an eventfd (SCM_RIGHTS) on which weird adds 1 for every datagram it
 *     reads from the client after HELLO (requests, SOCKOPTs, empty or
 *     oversized ones alike), once the datagrams it owes for it (replies,
 *     ACKs, errors, echoes, a dump's first part if there was room for
 *     it, an NLMSG_OVERRUN) are in the socket.  Only a datagram after
 *     which weird closes the connection gets none: the socket hangs up
 *     instead.
 *   - WEIR_NLMSG_SOCKOPT: the client changes an option of its netlink
 *     "socket" (membership, NETLINK_EXT_ACK, ...).  No answer; it takes
 *     effect before weird reads the client's next datagram.
 *   - NLMSG_OVERRUN (from weird): replies, ACKs, multicast messages were
 *     dropped because they did not fit the client's receive buffer
 *     (WEIR_SOCK_RCVBUF), as the kernel drops them; a netlink client
 *     reports it as ENOBUFS from its receive.  It comes where the drop
 *     happened, after what fitted.
 *
 * A client that stands in for the kernel behind an unmodified netlink
 * program (the LD_PRELOAD shim) must follow three rules that the kernel
 * makes unnecessary (docs/design/control-socket.md, "Clients that stand
 * in for the kernel"):
 *
 *   1. After a send, wait for the datagram's sync signal while polling
 *      the socket too, and let receives return what is there meanwhile.
 *      weird writes into the socket only as it has room, so the replies
 *      to one datagram (up to the receive buffer) may need the client to
 *      read before the last of them, and the sync, can go in.
 *   2. A receive that finds the socket empty while a sync is owed waits
 *      (poll on the socket and the eventfd) instead of failing with
 *      EAGAIN: the replies are on their way.
 *   3. A receive that finds the socket empty while a dump is open (its
 *      NLM_F_DUMP request sent, its NLMSG_DONE or NLMSG_ERROR not yet
 *      received) waits for weird (poll on the socket) instead of failing
 *      with EAGAIN.  weird makes a dump's next part once the socket has
 *      taken the previous ones, where the kernel makes it inside the
 *      reader's recvmsg(); Open vSwitch's nl_dump_refill() takes EAGAIN
 *      for the end of the dump.
 *
 * and turn each NLMSG_OVERRUN datagram into one ENOBUFS from recv().
 * docs/design/control-socket.md describes the whole exchange.
 *
 * Thread-safety / Ownership
 * =========================
 *
 * Plain definitions. */

#include <stdint.h>

/* Where clients find weird: --control=PATH, else $WEIR_CONTROL, else the
 * default. */
#define WEIR_CONTROL_DEFAULT "/run/weir/weird.sock"
#define WEIR_CONTROL_ENV "WEIR_CONTROL"

/* Transport message types (nlmsg_type), below NLMSG_MIN_TYPE (0x10) and
 * above the kernel's NLMSG_* control types. */
#define WEIR_NLMSG_HELLO 0x0e
#define WEIR_NLMSG_SOCKOPT 0x0f

#define WEIR_HELLO_VERSION 1

/* Payload of WEIR_NLMSG_HELLO, both directions. */
struct weir_hello {
    uint32_t version;       /* WEIR_HELLO_VERSION. */
    uint32_t pid;           /* Request: wanted port id, 0 = any.
                             * Answer: the port id assigned. */
    int32_t error;          /* Answer: 0 or -errno (then weird closes). */
    uint32_t flags;         /* WEIR_HELLO_F_*. */
};

#define WEIR_HELLO_F_SYNC 0x1   /* Request: an eventfd is attached. */

/* Payload of WEIR_NLMSG_SOCKOPT. */
struct weir_sockopt {
    uint32_t op;            /* enum weir_sockopt_op. */
    uint32_t value;
};

enum weir_sockopt_op {
    WEIR_SOCK_ADD_MEMBERSHIP = 1,   /* value: multicast group id. */
    WEIR_SOCK_DROP_MEMBERSHIP = 2,  /* value: multicast group id. */
    WEIR_SOCK_EXT_ACK = 3,          /* value: 0/1, NETLINK_EXT_ACK. */
    WEIR_SOCK_CAP_ACK = 4,          /* value: 0/1, NETLINK_CAP_ACK. */
    WEIR_SOCK_STRICT_CHK = 5,       /* value: 0/1, NETLINK_GET_STRICT_CHK. */
    WEIR_SOCK_RCVBUF = 6,           /* value: bytes, SO_RCVBUF(FORCE):
                                     * taken into [WEIR_SOCK_RCVBUF_MIN,
                                     * WEIR_SOCK_RCVBUF_MAX]. */
};

/* Bounds of WEIR_SOCK_RCVBUF, the size that SO_RCVBUF would read back.
 * The kernel caps SO_RCVBUF at net.core.rmem_max (SO_RCVBUFFORCE goes
 * past it); weird caps every request at 64 MiB, which is also the most
 * that weird queues for one connection (plus one 32 KiB dump part). */
#define WEIR_SOCK_RCVBUF_MIN 2048u
#define WEIR_SOCK_RCVBUF_MAX (64u << 20)

/* weir extensions inside OVS_VPORT_ATTR_OPTIONS.  A kernel ignores the
 * options of netdev and internal vports, so these never change what a
 * kernel-only client sees; weird reports them only for ports made with
 * them.  Both are NUL-terminated strings. */
#define WEIR_VPORT_OPT_PROVIDER 0x3e01  /* afxdp, afpacket, tap, dummy,
                                         * pcap. */
#define WEIR_VPORT_OPT_ARGS 0x3e02      /* Provider options, "k=v,k=v". */

#endif /* weir/control.h */
