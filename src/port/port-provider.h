/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_PORT_PORT_PROVIDER_H
#define WEIR_PORT_PORT_PROVIDER_H 1

/* The port-provider interface: what a kind of port ("dummy", "afxdp",
 * "afpacket", "tap", "pcap") implements.
 *
 * What
 * ====
 *
 * A provider moves batches of packets in and out of one kind of device.
 * The datapath sees only 'struct port' (port/port.h), which holds a
 * pointer to its provider's 'struct port_class' and the provider's private
 * state.  A port has one or more receive queues (numbered 0 .. n_rxq - 1,
 * fixed by open()), each polled by one thread at a time, and one transmit
 * function that any thread may call.
 *
 * Packets a provider receives follow seed 001 "Packet Format": a complete
 * Ethernet header, VLAN tags as 802.1Q headers, fully checksummed, no
 * larger than the MTU (a provider that gets GSO super-packets or partial
 * checksums from the kernel completes and segments them; see
 * packet/packet-offload.h).
 *
 * Thread-safety
 * =============
 *
 * open/close run under the datapath's writer mutex.  rx of one queue runs
 * on one thread at a time; rx of different queues and tx may run on
 * different threads at once (one receiving per queue, several
 * transmitting): a provider serialises transmits itself if its device
 * needs it.  get_info and get_stats may run on any thread at any time.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct errbuf;
struct pkt_batch;
struct port;
struct port_info;
struct port_stats;

struct port_class {
    const char *type;           /* "dummy", "afxdp", ... */

    /* Opens device 'port->name' for 'port'; sets 'port->priv' and
     * 'port->n_rxq' (port_open() preset it to 1).  'options' is a
     * comma-separated list of key=value pairs, or NULL, for opts_parse()
     * (lib/options.h): an unknown key, a repeated key or a bad value is
     * -EINVAL with a reason.  A device that does not exist is -ENODEV
     * ("no such device").
     * Returns 0, or a negative errno with a reason in 'err'. */
    int (*open)(struct port *port, const char *options, struct errbuf *err);

    /* Releases everything open() acquired (a TAP device it created goes
     * away).  No rx or tx is running. */
    void (*close)(struct port *port);

    /* Receives up to PKT_BATCH_MAX packets from queue 'qid' into 'batch'
     * (which is empty).  Never blocks, never allocates per packet in the
     * common case (pooled buffers).  Returns the number received, or a
     * negative errno.  A received packet has zero metadata; the caller
     * sets in_port. */
    int (*rx)(struct port *port, uint32_t qid, struct pkt_batch *batch);

    /* Transmits every packet of 'batch' and frees them; 'batch' is empty
     * after.  A packet with a nonzero 'cutlen' is sent truncated to
     * min(len, cutlen) bytes.  Returns the number of packets that could
     * not be sent (they are freed too), 0 if all went. */
    int (*tx)(struct port *port, struct pkt_batch *batch);

    /* Returns a file descriptor that poll() reports readable when queue
     * 'qid' may have packets to receive, or -1 if there is none (the
     * polling thread then wakes up on a timer).  May be NULL: no fd. */
    int (*rx_fd)(struct port *port, uint32_t qid);

    /* Fills 'info' (MTU, MAC, link state, ifindex); port_get_info() has
     * preset it to: MTU 1500, MAC 0, link up, ifindex 0.  May be NULL. */
    void (*get_info)(struct port *port, struct port_info *info);

    /* Adds the counters only the device knows (rx_dropped: frames the
     * device or kernel dropped before rx saw them; rx_errors) into
     * 'stats'.  May be NULL. */
    void (*get_stats)(struct port *port, struct port_stats *stats);
};

/* For providers of kernel network devices: reads the ifindex, MTU, MAC
 * and link state (up with carrier) of the device named 'name' in the
 * network namespace of socket 'sock' into 'info'.  Returns 0, or a
 * negative errno (the device is gone, or 'sock' cannot ask) with 'info'
 * partly filled. */
int port_query_netdev(int sock, const char *name, struct port_info *info);

/* The providers compiled in; port.c's table lists them by type name. */
extern const struct port_class port_dummy_class;     /* port-dummy.c */
extern const struct port_class port_afpacket_class;  /* port-afpacket.c */
extern const struct port_class port_afxdp_class;     /* port-afxdp.c */
extern const struct port_class port_tap_class;       /* port-tap.c */
extern const struct port_class port_pcap_class;      /* port-pcap.c */

#endif /* port/port-provider.h */
