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
 *     an eventfd (SCM_RIGHTS) on which weird adds 1 each time it has
 *     finished a datagram from the client and the replies it owes for it
 *     are in the socket: a client that must see its replies queued when
 *     its send returns (as with the kernel) waits on that eventfd.
 *   - WEIR_NLMSG_SOCKOPT: the client changes an option of its netlink
 *     "socket" (membership, NETLINK_EXT_ACK, ...).  No answer; it takes
 *     effect before weird reads the client's next datagram.
 *   - NLMSG_OVERRUN (from weird): multicast messages or upcalls were
 *     dropped because the client did not read fast enough; a netlink
 *     client reports it as ENOBUFS from its next receive.
 *
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
    WEIR_SOCK_RCVBUF = 6,           /* value: bytes, SO_RCVBUF(FORCE). */
};

/* weir extensions inside OVS_VPORT_ATTR_OPTIONS.  A kernel ignores the
 * options of netdev and internal vports, so these never change what a
 * kernel-only client sees; weird reports them only for ports made with
 * them.  Both are NUL-terminated strings. */
#define WEIR_VPORT_OPT_PROVIDER 0x3e01  /* afxdp, afpacket, tap, dummy,
                                         * pcap. */
#define WEIR_VPORT_OPT_ARGS 0x3e02      /* Provider options, "k=v,k=v". */

#endif /* weir/control.h */
