/* SPDX-License-Identifier: Apache-2.0 */
/* The "afpacket" port provider: an existing network interface, through an
 * AF_PACKET socket with a TPACKET_V3 receive ring.
 *
 * What
 * ====
 *
 * The port attaches to the interface named after it (it never creates
 * one): it receives every frame that arrives on it, for any MAC address
 * (the socket puts the interface in promiscuous mode for as long as it is
 * open), and transmits frames out of it.  Frames the host itself sends
 * out of the interface are not received (PACKET_IGNORE_OUTGOING), nor are
 * the port's own transmits.  The host's stack keeps seeing the
 * interface's traffic too: a packet socket is a tap, not a takeover.
 *
 * There are no options yet; any option is -EINVAL.  An interface that
 * does not exist is -ENODEV.  Opening needs CAP_NET_RAW.
 *
 * Design
 * ======
 *
 * The socket.  socket(AF_PACKET, SOCK_RAW) is made with protocol 0, so
 * that it receives nothing until it is set up; then PACKET_VNET_HDR (each
 * frame comes with a 'struct virtio_net_hdr', and each transmit takes
 * one), PACKET_VERSION TPACKET_V3, PACKET_IGNORE_OUTGOING, the receive
 * ring, and only then bind() to the interface with protocol ETH_P_ALL and
 * PACKET_ADD_MEMBERSHIP for promiscuous mode.
 *
 * The ring.  AFP_BLOCK_NR blocks of AFP_BLOCK_SIZE bytes, mapped into
 * our memory.  The kernel fills one block at a time with as many frames
 * as fit, each a 'struct tpacket3_hdr', the vnet header right before the
 * frame, then the frame; it "retires" the block to us (block_status gets
 * TP_STATUS_USER) when the block is full or AFP_BLOCK_TOV_MS milliseconds
 * after its first frame, and moves on to the next block in ring order.  A
 * block is large enough for several 64 KiB super-packets; the short
 * timeout keeps latency low when traffic is light.  We walk the blocks in
 * the same order: 'block' is the next one to look at; once it is ours we
 * go through its 'num_pkts' frames (first at 'offset_to_first_pkt', each
 * 'tp_next_offset' after the previous), then give it back (block_status
 * TP_STATUS_KERNEL) and move on.  When all blocks are ours, the kernel
 * drops what arrives, and counts it (PACKET_STATISTICS' tp_drops, our
 * rx_dropped).  The socket polls readable while a retired block is ours.
 * The walk through a block's frames, with every check of what the kernel
 * wrote there, is port/afpacket-ring.c: it reads only memory, so that
 * unit tests and a fuzz target (tests/fuzz/fuzz-afpacket-ring.c) run it
 * without a socket.  This file keeps what touches the shared ring: which
 * block is next, block_status, and the atomics on it.
 *
 * Receiving.  Each frame is copied out of the ring into packets of the
 * port's pool (no allocation per packet; buffers sized for a frame of the
 * interface's MTU at open time with two VLAN tags, an ordinary packet for
 * a larger one), and the offloads its vnet header asks for are done on
 * the way (packet/packet-offload.h): a partial checksum is completed, a
 * GSO super-packet is cut into MTU-sized segments.  The kernel takes the
 * outer VLAN tag out of the frame into tp_vlan_tci/tp_vlan_tpid
 * (TP_STATUS_VLAN_VALID); it goes back into every packet as an 802.1Q
 * (or 802.1ad, as tp_vlan_tpid says) header, since VLAN tags are headers
 * in the packet in our datapath.  One receive call hands at most
 * PKT_BATCH_MAX packets: when a frame yields more (a super-packet), or the
 * pool runs dry, the walk stops in the middle of the frame ('cur' says
 * which outputs are left) and the next call resumes there.  The block
 * stays ours until its last frame is all out, so nothing is lost and
 * nothing is copied twice.  A frame that cannot be used (truncated by the
 * ring, a malformed vnet header, a super-packet type we cannot segment) is
 * dropped and counted in rx_errors.  A slot without TP_STATUS_USER is a
 * hole: the kernel reserved it, then dropped the frame (it could not
 * describe it in a vnet header: UFO, tunnel GSO) and counted it in
 * tp_drops; it is skipped.
 *
 * Transmitting.  One sendmmsg() per batch, each message a zero vnet header
 * (no offload asked) and the frame, cut to 'cutlen' if that is set.  The
 * socket is non-blocking: a frame the kernel refuses (EAGAIN or ENOBUFS
 * when the queue is full, EMSGSIZE when it is larger than the MTU allows,
 * ENETDOWN...) is dropped and counted by port.c.
 *
 * Thread-safety
 * =============
 *
 * As port/port-provider.h says.  One receive queue (qid 0), whose walk
 * state ('block', 'bd', 'walk', 'cur', 'busy') belongs to the thread
 * polling it.  tx may run on several threads at once:
 * sendmmsg() on one socket needs no lock.  get_info and get_stats run
 * anywhere; the counters they read are atomics, and a PACKET_STATISTICS
 * read (which resets the kernel's counters) is added to ours atomically.
 *
 * Ownership
 * =========
 *
 * The port owns the socket, the ring mapping and the pool.  Pool packets
 * handed out by rx may outlive the port: the pool goes when the last one
 * comes back (packet/packet.h). */

#define _GNU_SOURCE             /* sendmmsg(). */

#include <errno.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>

#include "lib/byteorder.h"
#include "lib/errbuf.h"
#include "lib/options.h"
#include "packet/packet-edit.h"
#include "packet/packet-offload.h"
#include "packet/packet.h"
#include "port/afpacket-ring.h"
#include "port/port.h"
#include "port/port-provider.h"

/* The receive ring: 64 blocks of 128 KiB, 8 MiB in all.  A block holds
 * a 64 KiB super-packet or hundreds of small frames.  At light load each
 * block retires on its timer, partly filled, so the ring holds
 * AFP_BLOCK_NR timer periods of traffic: many small blocks ride out a
 * polling thread that wakes up late on a busy machine better than a few
 * big ones (16 x 256 KiB dropped floods after 16 ms of delay). */
#define AFP_BLOCK_SIZE   (128u * 1024)
#define AFP_BLOCK_NR     64u
#define AFP_FRAME_SIZE   2048u  /* Only for the kernel's checks: V3 packs
                                 * frames by their real size. */
#define AFP_BLOCK_TOV_MS 1u     /* A block retires 1 ms after it opens. */

/* The pool rx copies into: enough packets for a few batches in flight in
 * every stage of a datapath, and for a super-packet's segments. */
#define AFP_POOL_SIZE    1024
#define AFP_BUF_MIN      2048   /* Frame bytes per buffer, at least. */

struct afpacket {
    int fd;                     /* The AF_PACKET socket. */
    int ifindex;
    uint8_t *ring;              /* AFP_BLOCK_NR blocks, mapped. */
    size_t ring_size;
    struct pkt_pool *pool;

    /* The ring walk; the rx thread's. */
    uint32_t block;             /* Block being read, or next to look at. */
    struct tpacket_block_desc *bd;  /* That block while it is ours, or
                                     * NULL. */
    struct afp_ring_walk walk;  /* Through 'bd': the frames not yet
                                 * started. */
    struct poff_frame cur;      /* The frame being turned into packets, */
    bool busy;                  /* while this is true. */

    _Atomic uint64_t rx_errors; /* Frames rx dropped as unusable. */
    _Atomic uint64_t rx_dropped;    /* Sum of the kernel's tp_drops. */
};

/* ---- Opening. ---- */

/* Sets integer socket option 'opt' (SOL_PACKET) of 'fd' to 'value'.
 * Returns 0 or a negative errno, with a reason naming 'what'. */
static int
set_packet_opt(int fd, int opt, int value, const char *what,
               struct errbuf *err)
{
    if (setsockopt(fd, SOL_PACKET, opt, &value, sizeof value) < 0) {
        int error = -errno;

        errbuf_set(err, "setsockopt(%s): %s", what, strerror(errno));
        return error;
    }
    return 0;
}

/* Returns the MTU of interface 'name' through socket 'fd', or 0 if it
 * cannot be read. */
static uint32_t
get_mtu(int fd, const char *name)
{
    struct port_info info = { .mtu = 0 };

    port_query_netdev(fd, name, &info);
    return info.mtu;
}

/* Sets up the receive ring of 'a->fd' and maps it.  Returns 0 or a
 * negative errno with a reason. */
static int
ring_setup(struct afpacket *a, struct errbuf *err)
{
    struct tpacket_req3 req;
    void *ring;

    memset(&req, 0, sizeof req);
    req.tp_block_size = AFP_BLOCK_SIZE;
    req.tp_block_nr = AFP_BLOCK_NR;
    req.tp_frame_size = AFP_FRAME_SIZE;
    req.tp_frame_nr = AFP_BLOCK_SIZE / AFP_FRAME_SIZE * AFP_BLOCK_NR;
    req.tp_retire_blk_tov = AFP_BLOCK_TOV_MS;
    if (setsockopt(a->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) {
        int error = -errno;

        errbuf_set(err, "setsockopt(PACKET_RX_RING): %s", strerror(errno));
        return error;
    }
    a->ring_size = (size_t) AFP_BLOCK_SIZE * AFP_BLOCK_NR;
    ring = mmap(NULL, a->ring_size, PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_POPULATE, a->fd, 0);
    if (ring == MAP_FAILED) {
        int error = -errno;

        errbuf_set(err, "mmap of the receive ring: %s", strerror(errno));
        return error;
    }
    a->ring = ring;
    return 0;
}

/* Binds 'a->fd' to the interface and turns promiscuous mode on.  Returns
 * 0 or a negative errno with a reason. */
static int
socket_attach(struct afpacket *a, struct errbuf *err)
{
    struct sockaddr_ll sll;
    struct packet_mreq mreq;

    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = a->ifindex;
    if (bind(a->fd, (struct sockaddr *) &sll, sizeof sll) < 0) {
        int error = -errno;

        errbuf_set(err, "bind: %s", strerror(errno));
        return error;
    }
    memset(&mreq, 0, sizeof mreq);
    mreq.mr_ifindex = a->ifindex;
    mreq.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(a->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq,
                   sizeof mreq) < 0) {
        int error = -errno;

        errbuf_set(err, "cannot turn promiscuous mode on: %s",
                   strerror(errno));
        return error;
    }
    return 0;
}

/* Makes the socket of 'a': options, ring, binding to 'a->ifindex'.
 * Returns 0 or a negative errno with a reason. */
static int
socket_setup(struct afpacket *a, struct errbuf *err)
{
    int error;

    a->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (a->fd < 0) {
        error = -errno;
        errbuf_set(err, "cannot open an AF_PACKET socket: %s%s",
                   strerror(errno), errno == EPERM
                   ? " (CAP_NET_RAW is needed)" : "");
        return error;
    }
    /* The vnet header and the version must come before the ring. */
    error = set_packet_opt(a->fd, PACKET_VNET_HDR, 1, "PACKET_VNET_HDR",
                           err);
    if (!error) {
        error = set_packet_opt(a->fd, PACKET_VERSION, TPACKET_V3,
                               "PACKET_VERSION", err);
    }
    if (!error) {
        error = set_packet_opt(a->fd, PACKET_IGNORE_OUTGOING, 1,
                               "PACKET_IGNORE_OUTGOING", err);
    }
    if (!error) {
        error = ring_setup(a, err);
    }
    if (!error) {
        error = socket_attach(a, err);
    }
    if (error == -ENODEV || error == -ENXIO) {
        /* The interface went away while we were at it. */
        errbuf_set(err, "no such network device");
        error = -ENODEV;
    }
    return error;
}

/* Frees what 'a' holds and 'a' itself. */
static void
afpacket_destroy(struct afpacket *a)
{
    if (a->ring) {
        munmap(a->ring, a->ring_size);
    }
    if (a->fd >= 0) {
        close(a->fd);
    }
    pkt_pool_destroy(a->pool);
    free(a);
}

/* Returns the pool buffer size for an interface of MTU 'mtu' (0:
 * unknown): headroom, then a frame of that MTU with two VLAN tags, at
 * least AFP_BUF_MIN bytes, rounded up to a cache line. */
static size_t
pool_buf_size(uint32_t mtu)
{
    size_t frame = (size_t) mtu + ETH_HLEN + 2 * PEDIT_VLAN_LEN;

    if (frame < AFP_BUF_MIN) {
        frame = AFP_BUF_MIN;
    }
    return (PKT_HEADROOM + frame + 63) & ~(size_t) 63;
}

static int
afpacket_open(struct port *port, const char *options, struct errbuf *err)
{
    struct afpacket *a;
    unsigned int ifindex;
    int error;

    error = opts_parse(options, NULL, 0, "afpacket ports", err);
    if (error) {
        return error;
    }
    ifindex = if_nametoindex(port->name);
    if (!ifindex) {
        error = errno && errno != ENODEV && errno != ENXIO ? -errno
                                                          : -ENODEV;
        errbuf_set(err, "%s", error == -ENODEV ? "no such network device"
                   : strerror(-error));
        return error;
    }

    a = calloc(1, sizeof *a);
    if (!a) {
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    a->fd = -1;
    a->ifindex = (int) ifindex;
    atomic_init(&a->rx_errors, 0);
    atomic_init(&a->rx_dropped, 0);
    error = socket_setup(a, err);
    if (error) {
        afpacket_destroy(a);
        return error;
    }
    a->pool = pkt_pool_create(AFP_POOL_SIZE,
                              pool_buf_size(get_mtu(a->fd, port->name)));
    if (!a->pool) {
        errbuf_set(err, "out of memory for the receive pool");
        afpacket_destroy(a);
        return -ENOMEM;
    }
    port->priv = a;
    port->n_rxq = 1;
    return 0;
}

static void
afpacket_close(struct port *port)
{
    afpacket_destroy(port->priv);
    port->priv = NULL;
}

/* ---- Receiving: the ring walk. ---- */

/* Returns block 'i' of the ring. */
static struct tpacket_block_desc *
block_at(const struct afpacket *a, uint32_t i)
{
    return (struct tpacket_block_desc *) (void *) (a->ring
                                                   + (size_t) i
                                                   * AFP_BLOCK_SIZE);
}

/* Makes the next block of the ring the current one if the kernel has
 * retired it to us.  Returns true if it has. */
static bool
block_open(struct afpacket *a)
{
    struct tpacket_block_desc *bd = block_at(a, a->block);
    uint32_t status = __atomic_load_n(&bd->hdr.bh1.block_status,
                                      __ATOMIC_ACQUIRE);

    if (!(status & TP_STATUS_USER)) {
        return false;
    }
    a->bd = bd;
    /* Cannot fail: a block is larger than its descriptor. */
    afp_ring_start(&a->walk, bd, AFP_BLOCK_SIZE);
    return true;
}

/* Gives the current block back to the kernel and moves on to the next.
 * Its frames must all be out of the ring. */
static void
block_release(struct afpacket *a)
{
    __atomic_store_n(&a->bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
                     __ATOMIC_RELEASE);
    a->bd = NULL;
    a->block = (a->block + 1) % AFP_BLOCK_NR;
}

/* Takes the next frame of the current block and, if it is usable, makes
 * it 'cur'.  Returns 1 if it did; 0 for a hole the kernel left (a slot it
 * reserved and then dropped the frame of, counting it in tp_drops: it
 * lacks TP_STATUS_USER); a negative errno for a frame that cannot be used,
 * which the caller counts. */
static int
frame_start(struct afpacket *a)
{
    struct afp_ring_frame fr;
    int found, error;

    found = afp_ring_next(&a->walk, &fr);
    if (found != AFP_RING_FRAME) {
        return found < 0 ? found : 0;
    }
    error = poff_frame_init(&a->cur, &fr.vnet, fr.data, fr.len,
                            fr.vlan_tpid, fr.vlan_tci);
    return error ? error : 1;
}

static int
afpacket_rx(struct port *port, uint32_t qid, struct pkt_batch *batch)
{
    struct afpacket *a = port->priv;

    (void) qid;
    for (;;) {
        int started;

        if (a->busy) {
            poff_emit(&a->cur, a->pool, batch);
            if (!poff_frame_done(&a->cur)) {
                break;          /* The batch is full or the pool dry. */
            }
            a->busy = false;
        }
        if (a->bd && afp_ring_done(&a->walk)) {
            block_release(a);
        }
        if (batch->n == PKT_BATCH_MAX || (!a->bd && !block_open(a))) {
            break;
        }
        if (afp_ring_done(&a->walk)) {
            continue;           /* An empty block: retired by the timer. */
        }
        started = frame_start(a);
        if (started < 0) {
            atomic_fetch_add_explicit(&a->rx_errors, 1, memory_order_relaxed);
        }
        a->busy = started > 0;
    }
    return (int) batch->n;
}

static int
afpacket_rx_fd(struct port *port, uint32_t qid)
{
    struct afpacket *a = port->priv;

    (void) qid;
    return a->fd;
}

/* ---- Transmitting. ---- */

static int
afpacket_tx(struct port *port, struct pkt_batch *batch)
{
    struct afpacket *a = port->priv;
    struct virtio_net_hdr vh;   /* Zero: no offload asked. */
    struct mmsghdr msgs[PKT_BATCH_MAX];
    struct iovec iov[PKT_BATCH_MAX][2];
    uint32_t n = batch->n, i = 0;
    int dropped = 0;

    memset(&vh, 0, sizeof vh);
    memset(msgs, 0, n * sizeof *msgs);
    for (uint32_t k = 0; k < n; k++) {
        const struct packet *p = batch->pkts[k];

        iov[k][0].iov_base = &vh;
        iov[k][0].iov_len = sizeof vh;
        iov[k][1].iov_base = p->data;
        iov[k][1].iov_len = p->cutlen && p->cutlen < p->len ? p->cutlen
                                                              : p->len;
        msgs[k].msg_hdr.msg_iov = iov[k];
        msgs[k].msg_hdr.msg_iovlen = 2;
    }
    /* sendmmsg() stops at the first message that fails; the next call
     * reports that failure for it alone, and we skip it. */
    while (i < n) {
        int sent = sendmmsg(a->fd, msgs + i, n - i, MSG_DONTWAIT);

        if (sent > 0) {
            i += (uint32_t) sent;
        } else if (sent < 0 && errno == EINTR) {
            continue;
        } else {
            dropped++;
            i++;
        }
    }
    pkt_batch_free(batch);
    return dropped;
}

/* ---- What the port knows. ---- */

static void
afpacket_get_info(struct port *port, struct port_info *info)
{
    struct afpacket *a = port->priv;

    info->ifindex = a->ifindex;
    if (port_query_netdev(a->fd, port->name, info)) {
        info->link_up = false;          /* Gone. */
    }
}

static void
afpacket_get_stats(struct port *port, struct port_stats *stats)
{
    struct afpacket *a = port->priv;
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;
    uint64_t dropped;

    /* Reading the kernel's counters resets them: add them to ours. */
    memset(&st, 0, sizeof st);
    if (!getsockopt(a->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len)) {
        dropped = atomic_fetch_add_explicit(&a->rx_dropped, st.tp_drops,
                                            memory_order_relaxed)
                  + st.tp_drops;
    } else {
        dropped = atomic_load_explicit(&a->rx_dropped, memory_order_relaxed);
    }
    stats->rx_dropped += dropped;
    stats->rx_errors += atomic_load_explicit(&a->rx_errors,
                                             memory_order_relaxed);
}

const struct port_class port_afpacket_class = {
    .type = "afpacket",
    .open = afpacket_open,
    .close = afpacket_close,
    .rx = afpacket_rx,
    .tx = afpacket_tx,
    .rx_fd = afpacket_rx_fd,
    .get_info = afpacket_get_info,
    .get_stats = afpacket_get_stats,
};
