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
 * (port_dummy_take()).  Options: "capture=false" frees transmitted
 * packets instead of queueing them (benchmarks); "loop=true" makes rx
 * return clones of the injected packets forever, cycling through them
 * (benchmarks: no allocation by the test in the timed loop... rx clones).
 *
 * Thread-safety
 * =============
 *
 * Each queue has its own mutex: inject and take may run on any thread,
 * concurrently with rx and tx.
 */

#include <stddef.h>

struct packet;
struct port;

/* Appends a copy of the 'len' bytes at 'data' to the receive queue of the
 * dummy port 'port'.
 * Returns: 0, -ENOMEM, or -EINVAL if 'port' is not a dummy port. */
int port_dummy_inject(struct port *port, const void *data, size_t len);

/* Removes and returns the oldest transmitted packet of the dummy port
 * 'port', or NULL if there is none (or 'port' is not a dummy port).  The
 * caller frees it. */
struct packet *port_dummy_take(struct port *port);

/* Returns how many transmitted packets are queued on 'port'. */
size_t port_dummy_tx_queued(struct port *port);

#endif /* port/port-dummy.h */
