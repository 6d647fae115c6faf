/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_PORT_PORT_PROVIDER_H
#define WEIR_PORT_PORT_PROVIDER_H 1

/* The port-provider interface: what a kind of port ("dummy", later
 * "afxdp", "afpacket", "tap", "pcap") implements.
 *
 * What
 * ====
 *
 * A provider moves batches of packets in and out of one kind of device.
 * The datapath sees only 'struct port' (port/port.h), which holds a
 * pointer to its provider's 'struct port_class' and the provider's private
 * state.
 *
 * Thread-safety
 * =============
 *
 * open/close run under the datapath's writer mutex.  rx and tx on one
 * port may run on different threads at once (one receiving, several
 * transmitting): a provider serialises transmits itself if its device
 * needs it.
 */

#include <stddef.h>
#include <stdint.h>

struct errbuf;
struct pkt_batch;
struct port;

struct port_class {
    const char *type;           /* "dummy", ... */

    /* Opens device 'port->name' for 'port' and sets 'port->priv'.
     * 'options' is a comma-separated list of key=value pairs, or NULL.
     * Returns 0, or a negative errno with a reason in 'err'. */
    int (*open)(struct port *port, const char *options, struct errbuf *err);

    /* Releases everything open() acquired.  No rx or tx is running. */
    void (*close)(struct port *port);

    /* Receives up to PKT_BATCH_MAX packets into 'batch' (which is empty).
     * Never blocks.  Returns the number received, or a negative errno.
     * A received packet has zero metadata; the caller sets in_port. */
    int (*rx)(struct port *port, struct pkt_batch *batch);

    /* Transmits every packet of 'batch' and frees them; 'batch' is empty
     * after.  Returns the number of packets that could not be sent (they
     * are freed too), 0 if all went. */
    int (*tx)(struct port *port, struct pkt_batch *batch);
};

/* The providers compiled in; port.c's table lists them by type name. */
extern const struct port_class port_dummy_class;     /* port-dummy.c */

#endif /* port/port-provider.h */
