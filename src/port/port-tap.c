/* SPDX-License-Identifier: Apache-2.0 */
/* The "tap" port provider: internal ports.
 *
 * What
 * ====
 *
 * A tap port creates a TAP device named after the port (IFF_TAP |
 * IFF_NO_PI: plain Ethernet frames, no header in front) and brings it up
 * (unless up=false), so that the host's own stack can use it: what the host transmits on the
 * device, the port receives; what the port transmits, the host receives
 * on the device.  A datapath's local port (port 0, named after the
 * datapath) is a tap port.  The device is not persistent: it goes away
 * when the port closes its file descriptor.
 *
 * The port creates the device; it never attaches to one that exists.  If
 * any network device of that name exists, open() fails with -EEXIST ("a
 * network device with this name exists") and leaves it alone.
 *
 * Options (comma-separated key=value; an unknown key, a repeated one or a
 * bad value is -EINVAL with a reason):
 *
 *   mac=xx:xx:xx:xx:xx:xx  the device's MAC address, a unicast one
 *                          (default: the random locally administered
 *                          address the kernel gives a new TAP device).
 *   mtu=N                  the device's MTU, 68 to 65535 (default: the
 *                          kernel's, 1500).
 *   up=true|false          bring the device up (default true).  The dpif
 *                          type "internal" (port.c) is a tap port with
 *                          up=false: the kernel module's internal devices
 *                          start down, and what the port sends to a
 *                          device that is down is dropped (as the kernel's
 *                          internal_dev_recv() does).
 *
 * Design
 * ======
 *
 * One non-blocking file descriptor on /dev/net/tun does everything: read()
 * returns one frame the host transmitted (EAGAIN when there is none),
 * write() hands one frame to the host, and it is the fd that rx_fd()
 * gives the polling thread.  The device has no offloads turned on, so the
 * kernel segments and checksums what it sends us; frames arrive complete,
 * with VLAN tags in the frame.
 *
 * rx reads into packets of a pool the port owns, each big enough for a
 * frame of the MTU given at open time with two VLAN tags, and keeps a
 * batch of them at hand ('spare') so that it takes the pool's mutex once
 * per batch.  A frame does not always fit (the host may raise the MTU
 * later): each read() is a readv() whose second part lands in a scratch
 * buffer, and a frame that spilled into it is copied into an ordinary
 * packet.
 *
 * The device may move to another network namespace while the port has it
 * open ("ip link set NAME netns NS"; the system tests do that to give a
 * namespace a TAP interface).  The fd keeps working: rx and tx do not
 * care.  Device ioctls by name, though, go to the namespace of the socket
 * they are made on.  get_info therefore asks the fd for what it can (the
 * MAC address, SIOCGIFHWADDR; the device's current name, TUNGETIFF; its
 * namespace, TUNGETDEVNETNS) and, when the device is no longer in the
 * namespace it was created in, makes a socket in its new namespace: a
 * short-lived thread joins that namespace (setns() changes only the
 * calling thread's), creates the socket and exits, leaving the caller's
 * thread untouched.  The socket is closed at the end of the query, so the
 * port never keeps another namespace alive.  When none of that works
 * (older kernels, no privilege, the device destroyed with its namespace),
 * get_info returns the last values it could read.
 *
 * Thread-safety
 * =============
 *
 * As port/port-provider.h says.  tx may run on several threads at once:
 * one write() is one frame, atomically.  rx has one queue (qid 0), which
 * one thread at a time polls; 'spare' and 'scratch' are that thread's.
 * get_info serialises on 'info_mutex', which guards the last known values.
 *
 * Ownership
 * =========
 *
 * The port owns the fd (and so the device), the ioctl socket, the pool
 * and the scratch buffer.  Pool packets handed out by rx may outlive the
 * port: the pool goes when the last one comes back (packet/packet.h). */

#define _GNU_SOURCE             /* setns(), CLONE_NEWNET. */

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "lib/errbuf.h"
#include "lib/mutex.h"
#include "lib/options.h"
#include "packet/packet.h"
#include "port/port.h"
#include "port/port-provider.h"

#define TAP_ETH_HLEN 14         /* Ethernet header. */
#define TAP_VLAN_ROOM 8         /* Two 802.1Q tags. */
#define TAP_MTU_MIN 68          /* IPv4's minimum MTU. */
#define TAP_MTU_MAX 65535       /* The tun driver's maximum. */

/* The pool: enough packets for a few batches in every stage of a
 * datapath.  A buffer holds a frame of the MTU with two tags, but no
 * more than a jumbo frame's worth: with a larger MTU, longer frames are
 * copied into ordinary packets rather than making every buffer 64 kB. */
#define TAP_POOL_SIZE 1024
#define TAP_POOL_MTU_MAX 9216

/* The scratch buffer takes whatever of a frame does not fit a pool
 * buffer: room for the largest frame the device can send. */
#define TAP_SCRATCH_SIZE (TAP_MTU_MAX + TAP_ETH_HLEN + TAP_VLAN_ROOM)

/* Identifies a network namespace: the device and inode numbers of its
 * nsfs file. */
struct tap_netns {
    dev_t dev;
    ino_t ino;
};

struct tap {
    int fd;                     /* /dev/net/tun, attached to the device. */
    int sock;                   /* For ioctls by name in the namespace the
                                 * device was created in. */
    bool home_known;            /* 'home' could be read at open time. */
    struct tap_netns home;      /* Where the device was created. */

    /* rx (one thread at a time). */
    struct pkt_pool *pool;
    struct pkt_batch spare;     /* Pool packets not handed out yet. */
    uint8_t *scratch;           /* Pool buffer's size + TAP_SCRATCH_SIZE. */
    size_t buf_room;            /* Frame bytes a pool buffer holds. */
    _Atomic uint64_t rx_errors; /* Frames rx discarded. */

    /* get_info. */
    struct wmutex info_mutex;
    struct port_info last;      /* Last values read; guarded by
                                 * 'info_mutex'. */
};

/* The options of a tap port. */
struct tap_options {
    bool has_mac;
    uint8_t mac[6];
    uint32_t mtu;               /* 0: the kernel's default. */
    bool up;                    /* Bring the device up (default). */
};

/* Parses 'options' ("key=value,...", NULL or "" for none) into 'o'.
 * Returns 0, or -EINVAL (-ENOMEM) with a reason. */
static int
parse_options(const char *options, struct tap_options *o,
              struct errbuf *err)
{
    const struct opt_def defs[] = {
        { .key = "mac", .type = OPT_MAC, .mac = o->mac,
          .seen = &o->has_mac },
        { .key = "mtu", .type = OPT_U32, .u32 = &o->mtu,
          .min = TAP_MTU_MIN, .max = TAP_MTU_MAX },
        { .key = "up", .type = OPT_BOOL, .b = &o->up },
    };
    int error;

    memset(o, 0, sizeof *o);
    o->up = true;
    error = opts_parse(options, defs, sizeof defs / sizeof *defs,
                       "tap ports", err);
    if (error || !o->has_mac) {
        return error;
    }
    if (o->mac[0] & 1) {
        errbuf_set(err, "option 'mac': %02x:%02x:%02x:%02x:%02x:%02x is a "
                   "multicast address", o->mac[0], o->mac[1], o->mac[2],
                   o->mac[3], o->mac[4], o->mac[5]);
        return -EINVAL;
    }
    if (!memcmp(o->mac, "\0\0\0\0\0\0", 6)) {
        errbuf_set(err, "option 'mac': the address must not be zero");
        return -EINVAL;
    }
    return 0;
}

/* Returns a socket for device ioctls in the calling thread's network
 * namespace, or -1 with errno set.  Any socket serves: the kernel falls
 * back to its device ioctls for what the protocol does not handle. */
static int
ioctl_socket(void)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (sock < 0) {
        sock = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    }
    return sock;
}

/* Reads the identity of the namespace the device of 'fd' is in.
 * Returns 0 or a negative errno (-EINVAL or -ENOTTY before Linux 5.2,
 * -EPERM without CAP_NET_ADMIN over that namespace, -EBADFD if the
 * device is gone). */
static int
tap_device_netns(int fd, struct tap_netns *ns)
{
    struct stat st;
    int nsfd = ioctl(fd, TUNGETDEVNETNS);
    int error = 0;

    if (nsfd < 0) {
        return -errno;
    }
    if (fstat(nsfd, &st)) {
        error = -errno;
    } else {
        ns->dev = st.st_dev;
        ns->ino = st.st_ino;
    }
    close(nsfd);
    return error;
}

/* A request to the thread that makes a socket in another namespace. */
struct netns_socket_req {
    int nsfd;                   /* The namespace to make it in. */
    int sock;                   /* Out: the socket, or -1. */
};

static void *
netns_socket_main(void *req_)
{
    struct netns_socket_req *req = req_;

    /* Only this thread moves; it ends right after. */
    if (!setns(req->nsfd, CLONE_NEWNET)) {
        req->sock = ioctl_socket();
    }
    return NULL;
}

/* Returns a new socket in the namespace the device of 'fd' is in, or -1.
 * The caller closes it. */
static int
tap_foreign_socket(int fd)
{
    struct netns_socket_req req = { .sock = -1 };
    pthread_t thread;

    req.nsfd = ioctl(fd, TUNGETDEVNETNS);
    if (req.nsfd < 0) {
        return -1;
    }
    if (pthread_create(&thread, NULL, netns_socket_main, &req)) {
        close(req.nsfd);
        return -1;
    }
    pthread_join(thread, NULL);
    close(req.nsfd);
    return req.sock;
}

/* Returns true if the device of TAP fd 'fd' is still named 'name' (a
 * query by name answered for it, not for a device that took the name
 * after a rename). */
static bool
tap_name_unchanged(int fd, const char *name)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    return !ioctl(fd, TUNGETIFF, &ifr)
           && !strncmp(ifr.ifr_name, name, IFNAMSIZ);
}

/* Reads the device's current state into 't->last', as far as it can.
 * Context: 'info_mutex' held, or the port not yet visible to others. */
static void
tap_refresh_info(struct tap *t)
{
    struct port_info info = t->last;
    struct tap_netns ns = { 0 };
    struct ifreq ifr;
    int sock, foreign = -1;

    memset(&ifr, 0, sizeof ifr);
    if (!ioctl(t->fd, SIOCGIFHWADDR, &ifr)) {
        memcpy(info.mac, ifr.ifr_hwaddr.sa_data, 6);
    }
    /* The device's name now: it may have been renamed, in its new
     * namespace or in this one.  If the fd has no device any more, its
     * namespace was destroyed with it: it is down for good. */
    memset(&ifr, 0, sizeof ifr);
    if (ioctl(t->fd, TUNGETIFF, &ifr)) {
        t->last.link_up = false;
        return;
    }
    ifr.ifr_name[IFNAMSIZ - 1] = '\0';

    if (t->home_known && !tap_device_netns(t->fd, &ns)) {
        if (ns.dev == t->home.dev && ns.ino == t->home.ino) {
            sock = t->sock;
        } else {
            sock = foreign = tap_foreign_socket(t->fd);
        }
        if (sock >= 0 && !port_query_netdev(sock, ifr.ifr_name, &info)
            && tap_name_unchanged(t->fd, ifr.ifr_name)) {
            t->last = info;
        } else {
            /* Keep what was read last, but the MAC is right. */
            memcpy(t->last.mac, info.mac, 6);
        }
    } else {
        /* The namespace cannot be told: ask by name in the home namespace,
         * and believe the answer only if it is about the same device (a
         * device that moved away usually keeps its ifindex). */
        struct port_info home = info;

        if (!port_query_netdev(t->sock, ifr.ifr_name, &home)
            && (!t->last.ifindex || home.ifindex == t->last.ifindex)) {
            t->last = home;
        } else {
            memcpy(t->last.mac, info.mac, 6);
        }
    }
    if (foreign >= 0) {
        close(foreign);
    }
}

/* Sets the flags in 'set' on device 'name' through 'sock'.
 * Returns 0 or a negative errno. */
static int
set_flags(int sock, const char *name, short set)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr)) {
        return -errno;
    }
    ifr.ifr_flags |= set;
    return ioctl(sock, SIOCSIFFLAGS, &ifr) ? -errno : 0;
}

/* Creates the TAP device 'name' and returns its fd, or a negative errno
 * with a reason. */
static int
tap_create(const char *name, struct errbuf *err)
{
    struct ifreq ifr;
    int fd, error;

    /* The kernel would take "%d" in a name as a template for a free name:
     * the device would not be named after the port. */
    if (strchr(name, '%')) {
        errbuf_set(err, "'%%' is not allowed in a network device name");
        return -EINVAL;
    }
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        error = -errno;
        errbuf_set(err, "cannot open /dev/net/tun: %s", strerror(errno));
        return error;
    }
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    /* IFF_TUN_EXCL: fail if any device of that name exists, rather than
     * attach to an existing TAP device (and never anything else). */
    ifr.ifr_flags = (short) (IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL);
    if (ioctl(fd, TUNSETIFF, &ifr)) {
        error = -errno;
        if (errno == EBUSY) {
            errbuf_set(err, "a network device with this name exists");
            error = -EEXIST;
        } else if (errno == EPERM) {
            errbuf_set(err, "creating a TAP device needs CAP_NET_ADMIN");
        } else if (errno == EINVAL) {
            errbuf_set(err, "cannot create a TAP device with this name "
                       "(TUNSETIFF: %s)", strerror(errno));
        } else {
            errbuf_set(err, "cannot create a TAP device (TUNSETIFF: %s)",
                       strerror(errno));
        }
        close(fd);
        return error;
    }
    return fd;
}

/* Frees what tap_open() and tap_close() share to free. */
static void
tap_destroy(struct tap *t)
{
    pkt_batch_free(&t->spare);
    /* Packets still out keep the pool alive until they come back. */
    pkt_pool_destroy(t->pool);
    free(t->scratch);
    if (t->sock >= 0) {
        close(t->sock);
    }
    if (t->fd >= 0) {
        close(t->fd);           /* Not persistent: the device goes. */
    }
    wmutex_destroy(&t->info_mutex);
    free(t);
}

static int
tap_open(struct port *port, const char *options, struct errbuf *err)
{
    struct tap_options o;
    struct ifreq ifr;
    struct tap *t;
    uint32_t mtu;
    int error;

    error = parse_options(options, &o, err);
    if (error) {
        return error;
    }
    t = calloc(1, sizeof *t);
    if (!t) {
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    t->fd = t->sock = -1;
    wmutex_init(&t->info_mutex);
    pkt_batch_init(&t->spare);
    atomic_init(&t->rx_errors, 0);

    t->fd = tap_create(port->name, err);
    if (t->fd < 0) {
        error = t->fd;
        goto error;
    }
    t->sock = ioctl_socket();
    if (t->sock < 0) {
        error = -errno;
        errbuf_set(err, "cannot create a socket for ioctls: %s",
                   strerror(errno));
        goto error;
    }

    if (o.has_mac) {
        memset(&ifr, 0, sizeof ifr);
        ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
        memcpy(ifr.ifr_hwaddr.sa_data, o.mac, 6);
        if (ioctl(t->fd, SIOCSIFHWADDR, &ifr)) {
            error = -errno;
            errbuf_set(err, "cannot set the MAC address: %s",
                       strerror(errno));
            goto error;
        }
    }
    if (o.mtu) {
        memset(&ifr, 0, sizeof ifr);
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", port->name);
        ifr.ifr_mtu = (int) o.mtu;
        if (ioctl(t->sock, SIOCSIFMTU, &ifr)) {
            error = -errno;
            errbuf_set(err, "cannot set the MTU to %u: %s", o.mtu,
                       strerror(errno));
            goto error;
        }
    }
    error = o.up ? set_flags(t->sock, port->name, IFF_UP) : 0;
    if (error) {
        errbuf_set(err, "cannot bring the device up: %s", strerror(-error));
        goto error;
    }
    t->home_known = !tap_device_netns(t->fd, &t->home);

    /* What the device is now; the pool is sized for its MTU. */
    t->last.mtu = 1500;
    tap_refresh_info(t);
    if (!t->last.ifindex) {
        error = -ENODEV;
        errbuf_set(err, "the new TAP device cannot be found");
        goto error;
    }
    mtu = t->last.mtu < TAP_POOL_MTU_MAX ? t->last.mtu : TAP_POOL_MTU_MAX;
    t->buf_room = mtu + TAP_ETH_HLEN + TAP_VLAN_ROOM;
    t->pool = pkt_pool_create(TAP_POOL_SIZE, PKT_HEADROOM + t->buf_room);
    t->scratch = malloc(t->buf_room + TAP_SCRATCH_SIZE);
    if (!t->pool || !t->scratch) {
        error = -ENOMEM;
        errbuf_set(err, "out of memory for the receive buffers");
        goto error;
    }

    port->priv = t;
    port->n_rxq = 1;
    return 0;

error:
    tap_destroy(t);
    return error;
}

static void
tap_close(struct port *port)
{
    tap_destroy(port->priv);
    port->priv = NULL;
}

/* Counts a frame rx discarded. */
static void
count_rx_error(struct tap *t)
{
    atomic_fetch_add_explicit(&t->rx_errors, 1, memory_order_relaxed);
}

static int
tap_rx(struct port *port, uint32_t qid, struct pkt_batch *batch)
{
    struct tap *t = port->priv;
    int error = 0;

    (void) qid;
    while (batch->n < PKT_BATCH_MAX) {
        struct iovec iov[2];
        struct packet *p;
        ssize_t n;

        if (!t->spare.n && !pkt_pool_get(t->pool, &t->spare, PKT_BATCH_MAX)) {
            /* Every pool packet is in flight: like a NIC whose ring has
             * run dry, receive no more until some come back. */
            break;
        }
        p = t->spare.pkts[t->spare.n - 1];
        iov[0].iov_base = p->data;
        iov[0].iov_len = t->buf_room;
        iov[1].iov_base = t->scratch + t->buf_room;
        iov[1].iov_len = TAP_SCRATCH_SIZE;
        n = readv(t->fd, iov, 2);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                /* EBADFD: the device is gone (destroyed along with the
                 * namespace it moved to). */
                error = -errno;
            }
            break;
        }
        if (n < TAP_ETH_HLEN || (size_t) n > t->buf_room + TAP_SCRATCH_SIZE) {
            /* Too short for Ethernet, or longer than we read: the tun
             * driver returns a frame's full length even when it had to cut
             * it. */
            count_rx_error(t);
            continue;           /* 'p' stays in 'spare'. */
        }
        if ((size_t) n <= t->buf_room) {
            t->spare.n--;
            p->len = (uint32_t) n;
        } else {
            /* Spilled into the scratch buffer: join the parts in an
             * ordinary packet. */
            memcpy(t->scratch, p->data, t->buf_room);
            p = packet_create(t->scratch, (size_t) n);
            if (!p) {
                count_rx_error(t);
                continue;
            }
        }
        pkt_batch_add(batch, p);
    }
    return batch->n ? (int) batch->n : error;
}

static int
tap_tx(struct port *port, struct pkt_batch *batch)
{
    struct tap *t = port->priv;
    int dropped = 0;

    for (uint32_t i = 0; i < batch->n; i++) {
        const struct packet *p = batch->pkts[i];
        size_t len = p->cutlen && p->cutlen < p->len ? p->cutlen : p->len;
        ssize_t n;

        do {
            n = write(t->fd, p->data, len);
        } while (n < 0 && errno == EINTR);
        if (n < 0 || (size_t) n != len) {
            /* EIO: the device is down; EINVAL: shorter than an Ethernet
             * header; EAGAIN, ENOBUFS, ENOMEM: the host is overloaded;
             * EBADFD: the device is gone. */
            dropped++;
        }
    }
    pkt_batch_free(batch);
    return dropped;
}

static int
tap_rx_fd(struct port *port, uint32_t qid)
{
    struct tap *t = port->priv;

    (void) qid;
    return t->fd;
}

static void
tap_get_info(struct port *port, struct port_info *info)
{
    struct tap *t = port->priv;

    wmutex_lock(&t->info_mutex);
    tap_refresh_info(t);
    *info = t->last;
    wmutex_unlock(&t->info_mutex);
}

static void
tap_get_stats(struct port *port, struct port_stats *stats)
{
    struct tap *t = port->priv;

    stats->rx_errors += atomic_load_explicit(&t->rx_errors,
                                             memory_order_relaxed);
}

const struct port_class port_tap_class = {
    .type = "tap",
    .open = tap_open,
    .close = tap_close,
    .rx = tap_rx,
    .tx = tap_tx,
    .rx_fd = tap_rx_fd,
    .get_info = tap_get_info,
    .get_stats = tap_get_stats,
};
