/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_GENL_GENL_H
#define WEIR_GENL_GENL_H 1

/* The server side of the Open vSwitch kernel module's generic-netlink
 * protocol: families nlctrl, ovs_datapath, ovs_vport, ovs_flow and
 * ovs_packet, over datapaths of this process.
 *
 * What
 * ====
 *
 * A 'struct genl_server' owns the datapaths that clients make (each with
 * PMD threads and a local port) and the connections of its clients.  A
 * connection is what a NETLINK_GENERIC socket is to the kernel: it has a
 * port id (its "pid"), multicast memberships and options (NETLINK_EXT_ACK,
 * NETLINK_CAP_ACK, receive buffer size), a queue of datagrams for it to
 * read, at most one dump in progress, and an upcall channel in every
 * datapath under its pid.
 *
 * The server knows nothing of sockets: the transport (ctl/ctl.c, or a test
 * or a fuzz target) hands it each datagram a client sent
 * (genl_conn_input()) and takes from it the datagrams to send
 * (genl_conn_output()), so the whole protocol can be tested and fuzzed
 * without a socket.  Every request is handled as the kernel handles it:
 *
 *   - each message of a datagram in turn; NLMSG_ERROR with the errno and,
 *     with NETLINK_EXT_ACK, an extack message (NLMSGERR_ATTR_MSG, and
 *     NLMSGERR_ATTR_OFFS for a bad attribute) for every rejection; an ACK
 *     for NLM_F_ACK; doit replies and ACKs in datagrams of their own;
 *   - NEW/DEL/SET of datapaths, vports and flows notify the family's
 *     multicast group (and the requester with NLM_F_ECHO);
 *   - a dump's first datagram is queued while its request is handled, the
 *     rest each time the queue runs empty, ending in NLMSG_DONE;
 *   - what a connection has queued counts against its receive buffer:
 *     replies, ACKs, echoes and multicast messages that do not fit are
 *     dropped, and the connection reads NLMSG_OVERRUN (ENOBUFS) once, as
 *     the kernel drops what does not fit a netlink socket (a request's
 *     reply and ACK always fit an empty queue); dump parts are made only
 *     as the queue empties, so a connection's queue stays bounded
 *     whatever it sends;
 *   - upcalls for a connection's pid are moved from its channels into its
 *     queue only while the queue is empty, so they stay in the channels'
 *     fair per-port FIFOs (dp/upcall.h) until the client reads.
 *
 * Thread-safety
 * =============
 *
 * One thread (the transport's event loop) calls every function here.  It
 * must be a registered RCU reader (qsbr_register()) and report quiescent
 * states between events; datapath changes pass through grace periods.
 * The datapaths' PMD threads run on their own.
 *
 * Ownership
 * =========
 *
 * The server owns datapaths and connections; genl_server_destroy() removes
 * the datapaths (their ports, TAP devices and threads).  Datagrams handed
 * to genl_conn_input() are borrowed; those from genl_conn_output() belong
 * to the connection until genl_conn_output_pop(). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct errbuf;
struct genl_conn;
struct genl_server;

struct genl_config {
    const char *local_type;     /* Port type of each datapath's local port:
                                 * "tap" (default) or "dummy" (tests:
                                 * then the datapath gets a made-up
                                 * ifindex). */
    const char *system_type;    /* Provider of "system" vports: "auto"
                                 * (default: afxdp, falling back to
                                 * afpacket), or a provider name. */
    uint32_t pmd_threads;       /* Per datapath; 0 = 1. */
    const char *pmd_cpus;       /* CPU list for them, or NULL. */
    uint32_t flow_limit;        /* Per datapath; 0 = default. */

    /* Called after datapaths or ports were added, deleted or changed
     * (for the daemon's state file); may be NULL. */
    void (*changed)(void *aux);
    void *changed_aux;
};

/* Returns a server, or NULL with the reason in 'err'. */
struct genl_server *genl_server_create(const struct genl_config *cfg,
                                       struct errbuf *err);

/* Destroys every connection and datapath, then 'srv' (NULL is a no-op). */
void genl_server_destroy(struct genl_server *srv);

/* ---- Datapaths and ports outside of requests (state restore). ---- */

/* Creates datapath 'name' as OVS_DP_CMD_NEW would, with user features
 * 'features'.  Returns 0, -EEXIST, -EINVAL, or the local port's error. */
int genl_server_dp_create(struct genl_server *srv, const char *name,
                          uint32_t features, struct errbuf *err);

/* Adds a port as OVS_VPORT_CMD_NEW would: 'type' is a dpif port type
 * ("system", "internal", or a provider name), 'options' provider options
 * or NULL, '*port_no' wanted or UINT32_MAX (gets the number used).
 * Returns 0, -ENODEV (no datapath 'dp_name', or no device), -EEXIST, ... */
int genl_server_port_add(struct genl_server *srv, const char *dp_name,
                         const char *name, const char *type,
                         const char *options, uint32_t *port_no,
                         struct errbuf *err);

/* Calls 'dp_cb' for each datapath and 'port_cb' for each of its ports
 * but the local one (in port number order), for writing a state file. */
void genl_server_walk(struct genl_server *srv,
                      void (*dp_cb)(const char *name, uint32_t features,
                                    void *aux),
                      void (*port_cb)(const char *dp_name, const char *name,
                                      const char *type, const char *options,
                                      uint32_t port_no, void *aux),
                      void *aux);

/* ---- Connections. ---- */

/* Creates a connection.  'wake' is called (from inside genl_conn_input()
 * of another connection, or a timer) when the connection gets something
 * to send while its queue was empty; may be NULL. */
struct genl_conn *genl_conn_create(struct genl_server *srv,
                                   void (*wake)(void *aux), void *aux);

/* Gives the connection port id 'pid', or a free one if 'pid' is 0 (the
 * process id 'hint' if free, as the kernel's autobind tries first).
 * Once only.  Returns 0; -EADDRINUSE; -EINVAL (already bound). */
int genl_conn_bind(struct genl_conn *conn, uint32_t pid, uint32_t hint);

uint32_t genl_conn_pid(const struct genl_conn *conn);

/* Closes the connection: its dump ends, its channels close (their
 * upcalls are lost), its memberships go.  NULL is a no-op. */
void genl_conn_destroy(struct genl_conn *conn);

/* Sets an option (weir/control.h enum weir_sockopt_op).  A receive
 * buffer size is taken into [WEIR_SOCK_RCVBUF_MIN, WEIR_SOCK_RCVBUF_MAX].
 * Returns 0 or -EINVAL (unknown op, group 0 or above 63). */
int genl_conn_setsockopt(struct genl_conn *conn, uint32_t op, uint32_t value);

/* Asks for a GENL_OUT_SYNC marker after the replies of every datagram
 * handed to genl_conn_input() (weir/control.h WEIR_HELLO_F_SYNC). */
void genl_conn_set_sync(struct genl_conn *conn, bool sync);

/* Handles one datagram the client sent: every netlink message in it, in
 * order.  Replies, notifications and errors are queued (never sent from
 * here), then the datagram's sync marker (genl_conn_mark_sync()).
 * Malformed input is answered as the kernel answers it (or dropped where
 * the kernel drops it) and changes nothing. */
void genl_conn_input(struct genl_conn *conn, const void *data, size_t len);

/* Queues a GENL_OUT_SYNC marker behind everything queued, if the
 * connection asked for them (genl_conn_set_sync()).  genl_conn_input()
 * does it for each datagram; the transport does it for a datagram it
 * consumes without handing it over (a socket option, a datagram too long
 * to read), so that the client gets exactly one marker per datagram. */
void genl_conn_mark_sync(struct genl_conn *conn);

enum genl_out {
    GENL_OUT_NONE,              /* Nothing to send now. */
    GENL_OUT_DGRAM,             /* A datagram in '*data', '*len'. */
    GENL_OUT_SYNC,              /* The replies to a datagram are all out:
                                 * signal the client's sync eventfd. */
};

/* Returns what the connection should send next, without removing it.
 * When the queue is empty this continues the dump in progress or takes
 * the next upcall from the connection's channels, so call it again after
 * each pop until it says GENL_OUT_NONE (or the socket is full). */
enum genl_out genl_conn_output(struct genl_conn *conn, const void **data,
                               size_t *len);

/* Removes what genl_conn_output() returned. */
void genl_conn_output_pop(struct genl_conn *conn);

/* An fd readable while upcalls wait in the connection's channels (an
 * epoll set of their eventfds): the transport polls it while the socket
 * can take more. */
int genl_conn_upcall_fd(const struct genl_conn *conn);

/* Bytes queued in the connection (what counts against its receive
 * buffer). */
size_t genl_conn_queued(const struct genl_conn *conn);

#endif /* genl/genl.h */
