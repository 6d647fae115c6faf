/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DAEMON_CTL_H
#define WEIR_DAEMON_CTL_H 1

/* The control socket: weird's AF_UNIX SOCK_SEQPACKET listener and the
 * connections of its clients, driven by libevent, carrying the
 * generic-netlink protocol of src/genl (transport: weir/control.h,
 * docs/design/control-socket.md).
 *
 * What
 * ====
 *
 * ctl_server_create() binds and listens on a path (making its directory,
 * replacing a stale socket nobody answers on, refusing a live one with
 * -EADDRINUSE).  Each accepted connection does the HELLO exchange (port
 * id: the one asked for, else the peer's process id if free, else a free
 * one), then every datagram it sends goes to genl_conn_input(), and what
 * genl_conn_output() has goes out with non-blocking sends: when the
 * socket is full the connection waits for EV_WRITE and stops taking
 * upcalls; a client that sends while its replies back up is not read
 * until they drain, and the replies to one datagram are bounded by the
 * connection's receive buffer (genl drops the rest, reported with
 * NLMSG_OVERRUN), so the queue cannot grow without bound.  Every datagram
 * after HELLO earns exactly one sync signal (WEIR_HELLO_F_SYNC) once its
 * replies are in the socket.  A connection that breaks the transport
 * rules (no HELLO first, a malformed SOCKOPT, a second HELLO) is
 * closed.
 *
 * ctl_thread_start() runs a whole server (genl + control socket + event
 * loop) on a thread of its own, for tests and benchmarks.
 *
 * Thread-safety
 * =============
 *
 * A ctl_server lives on the thread of its event_base.  That thread must
 * be a registered RCU reader; event callbacks go online on entry and
 * offline on exit (qsbr_online()/qsbr_offline()), so the loop never holds
 * up grace periods while it sleeps.
 *
 * Ownership
 * =========
 *
 * The ctl_server owns its connections and the socket path (unlinked by
 * ctl_server_destroy()); it borrows the event_base and the genl_server. */

struct errbuf;
struct event_base;
struct genl_config;
struct genl_server;
struct ctl_server;
struct ctl_thread;

/* Returns the server, or NULL with the reason in 'err' (and errno-like
 * cause: path too long, in use by a live weird, permissions). */
struct ctl_server *ctl_server_create(struct event_base *base,
                                     struct genl_server *genl,
                                     const char *path, struct errbuf *err);

/* Closes every connection and the listener, unlinks the path.  NULL is a
 * no-op. */
void ctl_server_destroy(struct ctl_server *ctl);

/* Number of connected clients. */
unsigned int ctl_server_n_conns(const struct ctl_server *ctl);

/* Starts a genl server with 'cfg' and a control socket at 'path' on a new
 * thread.  Returns NULL with the reason in 'err'. */
struct ctl_thread *ctl_thread_start(const char *path,
                                    const struct genl_config *cfg,
                                    struct errbuf *err);

/* Stops the thread, destroys its servers (datapaths included).  NULL is a
 * no-op. */
void ctl_thread_stop(struct ctl_thread *t);

#endif /* daemon/ctl.h */
