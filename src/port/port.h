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
 * Providers, one file each:
 *
 *   afxdp     an existing interface through AF_XDP (port/port-afxdp.c)
 *   afpacket  an existing interface through AF_PACKET TPACKET_V3 rings
 *             (port/port-afpacket.c)
 *   tap       an internal port: a TAP device the port creates, named after
 *             it, for the host's own stack (port/port-tap.c)
 *   pcap      reads a pcap file, writes another (port/port-pcap.c)
 *   dummy     in memory, for unit tests (port/port-dummy.h)
 *
 * A port name is unique on the host (seed 001 "Ports"): opening a second
 * port with the name of an open one fails with -EEXIST.
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
#include <stdbool.h>
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
    uint64_t rx_dropped;        /* Dropped by the device before rx. */
    uint64_t rx_errors;         /* Malformed frames rx discarded. */
};

/* What a port reports about its device. */
struct port_info {
    uint32_t mtu;               /* Largest frame payload (IP MTU). */
    uint8_t mac[6];
    bool link_up;               /* Carrier. */
    int ifindex;                /* Kernel interface index; 0: none. */
};

struct port {
    char name[PORT_NAME_MAX];
    const struct port_class *class;
    void *priv;                         /* Provider's state. */
    uint32_t n_rxq;                     /* Receive queues (>= 1). */
    _Atomic uint64_t rx_packets, rx_bytes;
    _Atomic uint64_t tx_packets, tx_bytes, tx_dropped;
};

/* Opens the device 'name' as a port of type 'type': a provider name
 * ("afxdp", "afpacket", "tap", "pcap", "dummy"), or the dpif types
 * "system" (AF_PACKET, which handles the offloads of any device; AF_XDP
 * only by name) and "internal" (tap with up=false unless 'options' say
 * otherwise: the device starts down, as the kernel's internal devices
 * do).  port_type() then names the
 * provider used.
 * Returns: 0 and '*portp'; -EINVAL for a name that is empty or longer
 * than PORT_NAME_MAX - 1; -EAFNOSUPPORT for an unknown type; -EEXIST if a
 * port named 'name' is open; or the provider's error (-ENODEV for a
 * device that does not exist).  The reason is in 'err'. */
int port_open(const char *type, const char *name, const char *options,
              struct port **portp, struct errbuf *err);

/* Returns true if 'type' names a port provider ("afxdp", "afpacket",
 * "tap", "pcap", "dummy"); false for anything else, including the dpif
 * types "system" and "internal". */
bool port_provider_exists(const char *type);

/* Closes 'port' and frees it (NULL is a no-op). */
void port_close(struct port *port);

/* Returns the type name of 'port'. */
const char *port_type(const struct port *port);

/* Receives up to PKT_BATCH_MAX packets from queue 'qid' (< n_rxq) into
 * the empty 'batch'.
 * Returns: the number received, or a negative errno. */
int port_rx(struct port *port, uint32_t qid, struct pkt_batch *batch);

/* Returns the fd that becomes readable when queue 'qid' may have packets,
 * or -1 (poll on a timer). */
int port_rx_fd(struct port *port, uint32_t qid);

/* Transmits and frees every packet of 'batch'; empties it.
 * Returns: the number of packets that could not be sent (freed,
 * counted in tx_dropped). */
int port_tx(struct port *port, struct pkt_batch *batch);

/* Reads the counters of 'port'. */
void port_get_stats(const struct port *port, struct port_stats *stats);

/* Reads what 'port' reports about its device. */
void port_get_info(const struct port *port, struct port_info *info);

#endif /* port/port.h */
