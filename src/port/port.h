/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_PORT_PORT_H
#define WEIR_PORT_PORT_H 1

/* Ports: the devices a datapath receives from and transmits to.
 *
 * What
 * ====
 *
 * port_open() finds the provider for a type name and opens a device with
 * it; port_rx() and port_tx() move batches and count packets and bytes.
 * Providers: "dummy" (port/port-dummy.h: in memory, for tests and
 * benchmarks).  Real devices come with later providers.
 *
 * Thread-safety
 * =============
 *
 * See port/port-provider.h.  Counters are per port, updated with relaxed
 * atomics by the rx and tx paths and read at any time.
 *
 * Ownership
 * =========
 *
 * The datapath owns its ports; port_close() frees one.
 */

#include <stdatomic.h>
#include <stdint.h>

struct errbuf;
struct pkt_batch;
struct port_class;

#define PORT_NAME_MAX 16        /* IFNAMSIZ, with the NUL. */

/* Counters since the port was opened.  Bytes are frame bytes ('len' of
 * each packet).  tx_packets and tx_bytes count what the provider sent,
 * tx_dropped what it could not; a provider does not say which packets of
 * a batch it dropped, so for a partly dropped batch the dropped bytes are
 * taken to be the batch's average. */
struct port_stats {
    uint64_t rx_packets, rx_bytes;
    uint64_t tx_packets, tx_bytes;
    uint64_t tx_dropped;
};

struct port {
    char name[PORT_NAME_MAX];
    const struct port_class *class;
    void *priv;                         /* Provider's state. */
    _Atomic uint64_t rx_packets, rx_bytes;
    _Atomic uint64_t tx_packets, tx_bytes, tx_dropped;
};

/* Opens the device 'name' as a port of type 'type' ("dummy", ...).
 * Returns: 0 and '*portp'; -EINVAL for a name that is empty or longer
 * than PORT_NAME_MAX - 1; -EAFNOSUPPORT for an unknown type; or the
 * provider's error.  The reason is in 'err'. */
int port_open(const char *type, const char *name, const char *options,
              struct port **portp, struct errbuf *err);

/* Closes 'port' and frees it (NULL is a no-op). */
void port_close(struct port *port);

/* Returns the type name of 'port'. */
const char *port_type(const struct port *port);

/* Receives up to PKT_BATCH_MAX packets into the empty 'batch'.
 * Returns: the number received, or a negative errno. */
int port_rx(struct port *port, struct pkt_batch *batch);

/* Transmits and frees every packet of 'batch'; empties it.
 * Returns: the number of packets that could not be sent (freed,
 * counted in tx_dropped). */
int port_tx(struct port *port, struct pkt_batch *batch);

/* Reads the counters of 'port'. */
void port_get_stats(const struct port *port, struct port_stats *stats);

#endif /* port/port.h */
