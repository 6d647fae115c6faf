/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_PORT_PORT_DUMMY_H
#define WEIR_PORT_PORT_DUMMY_H 1

/* The "dummy" port: an in-memory device for tests and benchmarks.
 *
 * What
 * ====
 *
 * A dummy port has a receive queue that the test fills
 * (port_dummy_inject()) and the datapath drains (rx), and a transmit
 * queue that the datapath fills (tx) and the test drains
 * (port_dummy_take()).
 *
 * Options (port_open()'s 'options', comma-separated key=value; an unknown
 * key, a repeated one or a bad value is -EINVAL with a reason):
 *
 *   capture=true|false  true (default): tx queues packets for
 *                       port_dummy_take().  false: tx frees them (back to
 *                       their pool, for pooled ones); the port's tx
 *                       counters still count them.  For benchmarks.
 *   loop=true|false     false (default): rx hands out the injected
 *                       packets once, oldest first.  true: rx never
 *                       empties the receive queue; it cycles through the
 *                       injected frames forever, copying each into a
 *                       packet from a pool the port owns (1,024 packets
 *                       of 2,048 bytes; a longer frame is copied into an
 *                       ordinary packet), the way a NIC writes into the
 *                       buffers of its ring.  With capture=false on the
 *                       output side, a benchmark moves millions of packets
 *                       without a malloc().  When every pool packet is in
 *                       flight, rx receives fewer (or none) until some
 *                       come back, as a NIC would.
 *   n_rxq=N             1 (default) to 64 receive queues, all draining
 *                       the one receive queue (for polling-thread
 *                       tests).
 *
 * Outside loop mode, port_rx_fd() is an eventfd readable while injected
 * packets wait.
 *
 * Thread-safety
 * =============
 *
 * Each queue has its own mutex: inject and take may run on any thread,
 * concurrently with rx and tx.
 *
 * Ownership
 * =========
 *
 * The port owns what is queued; port_close() frees it.  Packets from a
 * loop port's pool may outlive the port (queued elsewhere): the pool is
 * freed when the last one comes back (packet/packet.h).
 */

#include <stddef.h>

struct packet;
struct port;

/* Appends a copy of the 'len' bytes at 'data' to the receive queue of the
 * dummy port 'port' (with loop=true: to the frames that rx cycles
 * through).
 * Context: any thread.
 * Returns: 0, -ENOMEM, or -EINVAL if 'port' is not a dummy port. */
int port_dummy_inject(struct port *port, const void *data, size_t len);

/* Removes and returns the oldest transmitted packet of the dummy port
 * 'port', or NULL if there is none (or 'port' is not a dummy port).  The
 * caller frees it. */
struct packet *port_dummy_take(struct port *port);

/* Returns how many transmitted packets are queued on 'port'. */
size_t port_dummy_tx_queued(struct port *port);

#endif /* port/port-dummy.h */
