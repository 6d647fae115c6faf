/* SPDX-License-Identifier: Apache-2.0 */
/* Ports: the provider registry and the counting wrappers around a
 * provider's rx and tx (port/port.h).
 *
 * The registry is a constant table: providers are compiled in, so there is
 * nothing to register at run time and nothing to lock.  Counters are
 * relaxed atomics: rx and tx of one port run on different threads, and a
 * reader wants each counter's latest value, not a snapshot consistent
 * across counters (the kernel's per-CPU vport stats give no more). */

#include "port/port.h"

#include <assert.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errbuf.h"
#include "packet/packet.h"
#include "port/port-provider.h"

static const struct port_class *const port_classes[] = {
    &port_afxdp_class,
    &port_afpacket_class,
    &port_tap_class,
    &port_pcap_class,
    &port_dummy_class,
};

/* Names of the open ports: a port name is unique on the host. */
static pthread_mutex_t names_mutex = PTHREAD_MUTEX_INITIALIZER;
static char (*names)[PORT_NAME_MAX];    /* Guarded by 'names_mutex'. */
static size_t n_names, max_names;       /* Guarded by 'names_mutex'. */

/* Claims 'name'.  Returns 0, -EEXIST or -ENOMEM. */
static int
name_claim(const char *name)
{
    int error = 0;

    pthread_mutex_lock(&names_mutex);
    for (size_t i = 0; i < n_names; i++) {
        if (!strcmp(names[i], name)) {
            error = -EEXIST;
            goto out;
        }
    }
    if (n_names == max_names) {
        size_t max = max_names ? 2 * max_names : 16;
        char (*p)[PORT_NAME_MAX] = realloc(names, max * sizeof *names);

        if (!p) {
            error = -ENOMEM;
            goto out;
        }
        names = p;
        max_names = max;
    }
    snprintf(names[n_names++], PORT_NAME_MAX, "%s", name);
out:
    pthread_mutex_unlock(&names_mutex);
    return error;
}

static void
name_release(const char *name)
{
    pthread_mutex_lock(&names_mutex);
    for (size_t i = 0; i < n_names; i++) {
        if (!strcmp(names[i], name)) {
            memcpy(names[i], names[--n_names], PORT_NAME_MAX);
            break;
        }
    }
    if (!n_names) {
        free(names);
        names = NULL;
        max_names = 0;
    }
    pthread_mutex_unlock(&names_mutex);
}

/* Returns the provider for 'type', or NULL. */
static const struct port_class *
port_class_find(const char *type)
{
    for (size_t i = 0; i < sizeof port_classes / sizeof *port_classes; i++) {
        if (!strcmp(port_classes[i]->type, type)) {
            return port_classes[i];
        }
    }
    return NULL;
}

bool
port_provider_exists(const char *type)
{
    return type && port_class_find(type);
}

/* Opens 'name' with provider 'class'. */
static int
port_open_class(const struct port_class *class, const char *name,
                const char *options, struct port **portp, struct errbuf *err)
{
    size_t len = strlen(name);
    struct port *port;
    int error;

    error = name_claim(name);
    if (error) {
        errbuf_set(err, "%s: %s", name, error == -EEXIST
                   ? "a port with this name is open already"
                   : "out of memory");
        return error;
    }
    port = calloc(1, sizeof *port);
    if (!port) {
        name_release(name);
        errbuf_set(err, "%s: out of memory", name);
        return -ENOMEM;
    }
    memcpy(port->name, name, len + 1);
    port->class = class;
    port->n_rxq = 1;
    atomic_init(&port->rx_packets, 0);
    atomic_init(&port->rx_bytes, 0);
    atomic_init(&port->tx_packets, 0);
    atomic_init(&port->tx_bytes, 0);
    atomic_init(&port->tx_dropped, 0);

    error = class->open(port, options, err);
    if (error) {
        assert(error < 0);
        errbuf_prefix(err, "%s: ", name);
        name_release(name);
        free(port);
        return error;
    }
    assert(port->n_rxq >= 1);
    *portp = port;
    return 0;
}

int
port_open(const char *type, const char *name, const char *options,
          struct port **portp, struct errbuf *err)
{
    const struct port_class *class;
    size_t len;
    int error;

    *portp = NULL;
    len = name ? strlen(name) : 0;
    if (!len || len >= PORT_NAME_MAX) {
        errbuf_set(err, "port name '%s' must have 1 to %d characters",
                   name ? name : "", PORT_NAME_MAX - 1);
        return -EINVAL;
    }
    if (type && !strcmp(type, "internal")) {
        /* A tap port that starts down, as the kernel's internal devices
         * do; options may still say up=true. */
        size_t n = (options ? strlen(options) : 0) + sizeof "up=false,";
        char *opts = malloc(n);

        if (!opts) {
            errbuf_set(err, "out of memory");
            return -ENOMEM;
        }
        if (options && (!strncmp(options, "up=", 3)
                        || strstr(options, ",up="))) {
            snprintf(opts, n, "%s", options);
        } else {
            snprintf(opts, n, "up=false%s%s", options && *options ? "," : "",
                     options ? options : "");
        }
        error = port_open_class(&port_tap_class, name, opts, portp, err);
        free(opts);
        return error;
    }
    if (type && !strcmp(type, "system")) {
        /* AF_PACKET: with its virtio-net header it receives what the
         * kernel module would, offloads included (partial checksums, GSO
         * super-frames from veth peers, which it completes); AF_XDP
         * carries no checksum state, so it is only used when asked for by
         * name (docs/design/ports.md, "system ports"). */
        return port_open_class(&port_afpacket_class, name, options, portp,
                               err);
    }
    class = type ? port_class_find(type) : NULL;
    if (!class) {
        errbuf_set(err, "%s: unknown port type '%s'", name,
                   type ? type : "");
        return -EAFNOSUPPORT;
    }
    return port_open_class(class, name, options, portp, err);
}

void
port_close(struct port *port)
{
    if (!port) {
        return;
    }
    port->class->close(port);
    name_release(port->name);
    free(port);
}

const char *
port_type(const struct port *port)
{
    return port->class->type;
}

/* Returns the bytes in the packets of 'b'. */
static uint64_t
batch_bytes(const struct pkt_batch *b)
{
    uint64_t bytes = 0;

    for (uint32_t i = 0; i < b->n; i++) {
        bytes += b->pkts[i]->len;
    }
    return bytes;
}

int
port_rx(struct port *port, uint32_t qid, struct pkt_batch *batch)
{
    int n;

    assert(batch->n == 0 && qid < port->n_rxq);
    n = port->class->rx(port, qid, batch);
    if (n > 0) {
        atomic_fetch_add_explicit(&port->rx_packets, (uint64_t) n,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&port->rx_bytes, batch_bytes(batch),
                                  memory_order_relaxed);
    }
    return n;
}

int
port_rx_fd(struct port *port, uint32_t qid)
{
    return port->class->rx_fd ? port->class->rx_fd(port, qid) : -1;
}

int
port_tx(struct port *port, struct pkt_batch *batch)
{
    uint32_t n = batch->n;
    uint64_t bytes;
    int dropped;

    if (!n) {
        return 0;
    }
    /* Counted before the provider frees the packets. */
    bytes = batch_bytes(batch);
    dropped = port->class->tx(port, batch);
    assert(dropped >= 0 && (uint32_t) dropped <= n && batch->n == 0);
    if (dropped) {
        /* The provider does not say which packets it dropped; their bytes
         * are taken to be the batch's average (see port_stats). */
        atomic_fetch_add_explicit(&port->tx_dropped, (uint64_t) dropped,
                                  memory_order_relaxed);
        bytes -= bytes * (uint64_t) dropped / n;
    }
    atomic_fetch_add_explicit(&port->tx_packets, n - (uint64_t) dropped,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&port->tx_bytes, bytes, memory_order_relaxed);
    return dropped;
}

void
port_get_stats(const struct port *port, struct port_stats *stats)
{
    stats->rx_packets = atomic_load_explicit(&port->rx_packets,
                                             memory_order_relaxed);
    stats->rx_bytes = atomic_load_explicit(&port->rx_bytes,
                                           memory_order_relaxed);
    stats->tx_packets = atomic_load_explicit(&port->tx_packets,
                                             memory_order_relaxed);
    stats->tx_bytes = atomic_load_explicit(&port->tx_bytes,
                                           memory_order_relaxed);
    stats->tx_dropped = atomic_load_explicit(&port->tx_dropped,
                                             memory_order_relaxed);
    stats->rx_dropped = 0;
    stats->rx_errors = 0;
    if (port->class->get_stats) {
        port->class->get_stats((struct port *) port, stats);
    }
}

void
port_get_info(const struct port *port, struct port_info *info)
{
    memset(info, 0, sizeof *info);
    info->mtu = 1500;
    info->link_up = true;
    if (port->class->get_info) {
        port->class->get_info((struct port *) port, info);
    }
}

int
port_query_netdev(int sock, const char *name, struct port_info *info)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(sock, SIOCGIFINDEX, &ifr)) {
        return -errno;
    }
    info->ifindex = ifr.ifr_ifindex;
    if (ioctl(sock, SIOCGIFMTU, &ifr)) {
        return -errno;
    }
    info->mtu = (uint32_t) ifr.ifr_mtu;
    if (ioctl(sock, SIOCGIFHWADDR, &ifr)) {
        return -errno;
    }
    memcpy(info->mac, ifr.ifr_hwaddr.sa_data, sizeof info->mac);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr)) {
        return -errno;
    }
    /* IFF_RUNNING: the carrier is on (for a TAP device: a queue is
     * attached and TUNSETCARRIER did not turn it off). */
    info->link_up = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
    return 0;
}
