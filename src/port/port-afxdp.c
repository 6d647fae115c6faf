/* SPDX-License-Identifier: Apache-2.0 */
/* The "afxdp" port provider (port/port-afxdp.h).
 *
 * What
 * ====
 *
 * An AF_XDP socket per receive queue of an existing interface, bound with
 * libxdp, and the XDP program libxdp attaches to send the queue's frames
 * to it.  rx copies frames out of the socket's memory into weir packets;
 * tx copies weir packets into it.
 *
 * Design
 * ======
 *
 * Memory.  Each queue has its own UMEM (the memory the kernel and the
 * socket share) and its own socket: no UMEM is shared between queues, so
 * no frame ever moves between threads and nothing on the receive path
 * takes a lock.  With R = ring_size, a UMEM is 2R frames of 4 KiB (a page:
 * the kernel's default, and what native XDP on a veth wants) in two fixed
 * halves:
 *
 *   frames 0 .. R-1    receive frames.  All start in the fill ring.  The
 *                      kernel takes one per frame it receives and hands it
 *                      back in the rx ring (R slots); rx copies the frame
 *                      out, puts the address on the queue's receive free
 *                      stack and refills the fill ring from that stack.
 *   frames R .. 2R-1   transmit frames, on a free stack owned by the
 *                      queue's transmit mutex.  tx pops one per packet,
 *                      copies the packet in and queues it on the tx ring;
 *                      the kernel returns it in the completion ring (R
 *                      slots), and the next tx (or the same one, after the
 *                      kick) pushes it back.  A queue without a tx ring
 *                      (see below) has only the first half.
 *
 * The fill and tx rings have 2R slots.  The kernel reads them ahead and
 * publishes how far it has read only when it runs out of what it has
 * seen, so a slot it has in fact emptied can still look full; with R
 * frames it can see at most R entries ahead, and 2R slots are enough for
 * a free frame to always find a free slot: refilling never fails in
 * practice (the free stack is there if it ever does) and tx never finds
 * the ring full while it has a frame.
 *
 * Copying.  rx copies every frame into a packet from the port's pool
 * (2,048-byte buffers after PKT_HEADROOM; packet_create() for longer
 * frames, up to the 3,840 bytes a frame can hold).  Handing out the UMEM
 * frames themselves would save that copy but tie the socket's frames to
 * wherever the packets go (other ports' queues, upcalls, other threads)
 * and to their lifetime; with copies, a packet is an ordinary pooled
 * packet, and UMEM frames never leave the provider.  Zero-copy, where the
 * driver supports it, still spares the kernel's own copy: the NIC DMAs
 * straight into the UMEM.  When the pool is empty, rx leaves frames in the
 * rx ring, as a NIC whose ring has run dry would.
 *
 * Transmit.  port_tx() may be called by several threads at once and has
 * no queue argument.  Every socket bound to a queue the interface can
 * also transmit on (queue ids below its tx queue count) gets a tx ring and
 * a mutex; a thread takes a slot number the first time it transmits on
 * any afxdp port (a process-wide counter) and always uses socket
 * slot % n_txq, so that PMD threads spread over the sockets instead of
 * contending for one.  Under the mutex, tx first recycles completed
 * frames, copies as many packets as there are free frames (min(len,
 * cutlen) bytes each), submits them and kicks the kernel with
 * sendto(MSG_DONTWAIT) when the ring asks for a wakeup (copy mode always
 * does).  In copy mode the kernel transmits at most 32 frames per kick and
 * says EAGAIN when some are left, so tx kicks again a bounded number of
 * times; frames left over (the device queue was full) go with the next
 * kick.  Packets that find no free frame, are longer than a frame or
 * shorter than an Ethernet header are dropped and counted as not sent.
 *
 * Attaching.  mode=auto tries the driver's hook (XDP_FLAGS_DRV_MODE) on
 * queue 0 first and the generic hook (XDP_FLAGS_SKB_MODE) if that fails;
 * the other queues use whatever queue 0 got.  zerocopy=auto binds with
 * neither XDP_COPY nor XDP_ZEROCOPY, so the kernel picks zero-copy when
 * the driver has it and copy mode otherwise; the port then asks the
 * socket (XDP_OPTIONS) which one it got.  The generic hook is always
 * bound in copy mode.  The mode reported is read back from the interface
 * (bpf_xdp_query()), not assumed.
 *
 * The XDP program.  The port lets xsk_socket__create() load and attach
 * libxdp's default program (xsk_def_xdp_prog.o, or its variant for old
 * kernels: redirect to the socket of the frame's queue if there is one,
 * else XDP_PASS), rather than inhibiting that
 * (XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD) and loading a program of its own:
 * libxdp keeps a reference count in the program, so the sockets of all
 * queues (and of other processes on other queues) share one program, and
 * the last socket to close detaches it.  Where /sys/fs/bpf is a mounted
 * bpffs, libxdp tries to attach the program through its multi-program
 * dispatcher, so that it can share the interface with other programs;
 * where it is not, or where the dispatcher does not load (libxdp 1.3.1 on
 * Linux 6.18: its compatibility check fails with EPERM), libxdp warns and
 * attaches the program alone.  That works as well, unless some other XDP
 * program is on the interface already.  The port never mounts a bpffs (a
 * library has no business changing the host's mounts) nor sets
 * LIBXDP_SKIP_DISPATCHER (setenv() is not thread-safe; whoever runs weir
 * may set it).
 *
 * libxdp refuses an interface that has another program with EBUSY, which
 * would look like a busy queue, so open() looks first (check_attached())
 * and names the program in its reason.  libxdp also reuses its own
 * program where it finds one, in whatever mode that one was attached: an
 * explicit mode= that differs fails; mode=auto follows it.  A process that
 * dies without closing its ports leaves the program attached with a
 * stale reference; the next open reuses it, and 'xdp-loader unload -a IF'
 * removes it.
 *
 * Re-opening.  Closing a socket frees its queue in the kernel a moment
 * later (the UMEM is released from a workqueue), so binding the same
 * queue right after a close fails with EBUSY for a few milliseconds.
 * open() retries a bind that fails with EBUSY for up to about a second,
 * with a fresh UMEM each time (libxdp cannot set up a UMEM's rings twice);
 * a queue that another process holds fails after that second.
 *
 * Messages.  libxdp and libbpf print to stderr by default.  The port
 * installs print callbacks once per process (they are process-wide, for
 * any other libxdp/libbpf user too) that print nothing: warnings are kept,
 * per thread, so that a failing open() can quote the last one in its
 * reason; informational and debug messages are dropped.
 *
 * Locked memory.  Registering a UMEM pins its pages: they count against
 * RLIMIT_MEMLOCK (per user) unless the process has CAP_IPC_LOCK (root
 * does).  BPF maps and programs are charged to the memory cgroup instead
 * since Linux 5.11 (libbpf 1.x raises the limit itself on older kernels).
 * The port does not touch the limit; an open that hits it says so.
 *
 * Checksums.  An AF_XDP socket gets the frame's bytes and nothing else:
 * not the skb's checksum state.  Frames from the wire are complete, but a
 * veth's peer hands over what its local sockets sent with partial
 * checksums when the peer offloads transmit checksums (a veth does by
 * default), and rx cannot tell those apart (port/port-afxdp.h says to
 * turn the offload off).
 *
 * Counters.  The socket's XDP_STATISTICS are cumulative since the socket
 * was created (reading them resets nothing), which is when the port
 * opened: get_stats adds them as they are.  rx_dropped gets the kernel's
 * rx_dropped (a frame too long for a UMEM frame, or no free frame in the
 * fill ring, in copy mode) and rx_ring_full (rx did not keep up), plus
 * frames rx could not allocate a packet for; rx_errors gets
 * rx_invalid_descs (bad fill ring addresses: a bug) plus frames shorter
 * than an Ethernet header.  rx_fill_ring_empty_descs is not added: it
 * counts attempts, not frames (in copy mode each such drop is in
 * rx_dropped already).
 *
 * Thread-safety
 * =============
 *
 * rx of queue q touches only that queue's rx and fill rings and receive
 * free stack (one thread at a time, port-provider.h).  tx touches a
 * queue's tx and completion rings and transmit free stack under that
 * queue's 'tx_mutex'.  get_info and get_stats make syscalls only.  The
 * print callbacks use thread-local buffers.
 */

#include "port/port-afxdp.h"

#include <errno.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/magic.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "lib/errbuf.h"
#include "lib/mutex.h"
#include "lib/options.h"
#include "packet/packet.h"
#include "port/port.h"
#include "port/port-provider.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define AFXDP_FRAME_SIZE 4096   /* One UMEM frame: a page. */
#define AFXDP_ETH_HLEN 14
#define AFXDP_MAX_QUEUES 64
#define AFXDP_RING_DEFAULT 2048
#define AFXDP_RING_MIN 64
#define AFXDP_RING_MAX 16384

/* The packet pool: a standard frame with two tags fits in a buffer; enough
 * packets for a few batches in flight from each queue. */
#define AFXDP_BUF_SIZE (PKT_HEADROOM + 2048)
#define AFXDP_POOL_PER_QUEUE 1024
#define AFXDP_POOL_MAX 8192

/* Frames the kernel transmits per kick in copy mode (TX_BATCH_SIZE in
 * net/xdp/xsk.c); tx uses it only to bound how often it kicks. */
#define AFXDP_KICK_BUDGET 32

/* open() retries a bind that fails with EBUSY (the queue's last socket is
 * still being released) this many times, waiting 1, 2, 4 ... 32 ms, then
 * 32 ms: about a second in all. */
#define AFXDP_BUSY_RETRIES 36

enum afxdp_mode {
    AFXDP_MODE_AUTO,
    AFXDP_MODE_NATIVE,
    AFXDP_MODE_GENERIC,
};

enum afxdp_zc {
    AFXDP_ZC_AUTO,
    AFXDP_ZC_ON,
    AFXDP_ZC_OFF,
};

/* One receive queue of the interface: a socket and its UMEM.  The receive
 * half and the transmit half are on separate cache lines: different
 * threads use them. */
struct afxdp_queue {
    /* Receive side: the polling thread's alone. */
    struct xsk_ring_cons rx;
    struct xsk_ring_prod fq;
    uint64_t *rx_free;          /* Receive frames (UMEM addresses) out of
                                 * both rings, waiting for the fill ring. */
    uint32_t n_rx_free;
    uint8_t *area;              /* The UMEM: 'n_frames' frames. */
    int fd;                     /* The socket's; -1 before it exists. */

    /* Set up by open(), read-only after. */
    struct xsk_umem *umem;
    struct xsk_socket *xsk;
    size_t area_size;
    uint32_t n_frames;          /* ring_size, twice that with tx. */
    uint32_t ring_size;         /* Frames per direction. */
    uint32_t qid;
    bool has_tx;

    /* Transmit side (only with 'has_tx'). */
    _Alignas(64) struct wmutex tx_mutex;
    struct xsk_ring_prod tx;    /* Guarded by 'tx_mutex'. */
    struct xsk_ring_cons cq;    /* Guarded by 'tx_mutex'. */
    uint64_t *tx_free;          /* Free tx frames (UMEM addresses), a
                                 * stack; guarded by 'tx_mutex'. */
    uint32_t n_tx_free;         /* Guarded by 'tx_mutex'. */
    uint32_t tx_outstanding;    /* Frames in the tx or completion ring;
                                 * guarded by 'tx_mutex'. */
};

struct afxdp {
    struct afxdp_queue *queues; /* 'n_rxq' of them. */
    uint32_t n_rxq;             /* Sockets, one per receive queue. */
    uint32_t n_txq;             /* Sockets 0 .. n_txq-1 have tx rings. */
    uint32_t ring_size;
    enum afxdp_mode mode;       /* Asked for. */
    enum afxdp_zc zc;           /* Asked for. */
    const char *mode_name;      /* Got: "native-copy", ... */
    int ifindex;
    int ctl_fd;                 /* AF_UNIX datagram socket for ioctls. */
    struct pkt_pool *pool;
    _Atomic uint64_t rx_runts;  /* Frames shorter than 14 bytes. */
    _Atomic uint64_t rx_nomem;  /* Frames without a packet to go in. */
};

/* Library messages
 * ================ */

/* The last warning libxdp or libbpf printed on this thread, without its
 * newline; "" if none since afxdp_lib_msg_clear().  Messages carry their
 * library's name ("libxdp: ..."). */
static _Thread_local char afxdp_lib_msg[160];

static void
afxdp_lib_msg_clear(void)
{
    afxdp_lib_msg[0] = '\0';
}

static void __attribute__((format(printf, 1, 0)))
afxdp_lib_msg_keep(const char *fmt, va_list ap)
{
    char msg[sizeof afxdp_lib_msg];
    size_t len;

    vsnprintf(msg, sizeof msg, fmt, ap);
    if (strstr(msg, "bpffs") || strstr(msg, "dispatcher")) {
        /* libxdp falling back from its dispatcher (see above): expected,
         * and never why an open fails (check_attached() sees to that). */
        return;
    }
    len = strlen(msg);
    while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' ')) {
        msg[--len] = '\0';
    }
    if (len) {
        memcpy(afxdp_lib_msg, msg, len + 1);
    }
}

static int __attribute__((format(printf, 2, 0)))
afxdp_libxdp_print(enum libxdp_print_level level, const char *fmt,
                   va_list ap)
{
    if (level == LIBXDP_WARN) {
        afxdp_lib_msg_keep(fmt, ap);
    }
    return 0;
}

static int __attribute__((format(printf, 2, 0)))
afxdp_libbpf_print(enum libbpf_print_level level, const char *fmt,
                   va_list ap)
{
    if (level == LIBBPF_WARN) {
        afxdp_lib_msg_keep(fmt, ap);
    }
    return 0;
}

static pthread_once_t afxdp_print_once = PTHREAD_ONCE_INIT;

static void
afxdp_install_print(void)
{
    libxdp_set_print(afxdp_libxdp_print);
    libbpf_set_print(afxdp_libbpf_print);
}

/* Appends the last library warning, if any, to the reason in 'err'. */
static void
afxdp_add_lib_msg(struct errbuf *err)
{
    char reason[ERRBUF_SIZE];

    if (!err || !afxdp_lib_msg[0]) {
        return;
    }
    snprintf(reason, sizeof reason, "%s", err->msg);
    errbuf_set(err, "%s (%s)", reason, afxdp_lib_msg);
}

/* Options
 * ======= */

/* Parses 'options' (port-afxdp.h) into 'd', which holds the defaults.
 * Returns 0, or -EINVAL (-ENOMEM) with a reason. */
static int
parse_options(struct afxdp *d, const char *options, struct errbuf *err)
{
    /* In the order of enum afxdp_mode and enum afxdp_zc. */
    static const char *const modes[] = { "auto", "native", "generic", NULL };
    static const char *const zcs[] = { "auto", "on", "off", NULL };
    int mode = d->mode, zc = d->zc;
    const struct opt_def defs[] = {
        { .key = "n_rxq", .type = OPT_U32, .u32 = &d->n_rxq, .min = 1,
          .max = AFXDP_MAX_QUEUES },
        { .key = "mode", .type = OPT_ENUM, .index = &mode, .names = modes },
        { .key = "zerocopy", .type = OPT_ENUM, .index = &zc, .names = zcs },
        { .key = "ring_size", .type = OPT_U32, .u32 = &d->ring_size,
          .min = AFXDP_RING_MIN, .max = AFXDP_RING_MAX, .pow2 = true },
    };
    int error;

    error = opts_parse(options, defs, sizeof defs / sizeof *defs,
                       "afxdp ports", err);
    if (error) {
        return error;
    }
    d->mode = (enum afxdp_mode) mode;
    d->zc = (enum afxdp_zc) zc;
    if (d->zc == AFXDP_ZC_ON && d->mode == AFXDP_MODE_GENERIC) {
        errbuf_set(err, "zerocopy=on needs native mode (the generic hook "
                   "always copies)");
        return -EINVAL;
    }
    return 0;
}

/* The interface
 * ============= */

/* Counts the entries of /sys/class/net/'name'/queues/ that start with
 * 'prefix' ("rx-" or "tx-"), provided that directory is the interface with
 * 'ifindex' (sysfs shows the network namespace it was mounted in, which
 * need not be ours).  Returns the count, or 0 if it cannot tell. */
static uint32_t
sysfs_queue_count(const char *name, int ifindex, const char *prefix)
{
    char path[128], buf[32];
    uint32_t n = 0;
    FILE *f;

    snprintf(path, sizeof path, "/sys/class/net/%s/ifindex", name);
    f = fopen(path, "re");
    if (!f) {
        return 0;
    }
    if (!fgets(buf, sizeof buf, f) || atoi(buf) != ifindex) {
        fclose(f);
        return 0;
    }
    fclose(f);

    for (uint32_t i = 0; i < 4096; i++) {
        snprintf(path, sizeof path, "/sys/class/net/%s/queues/%s%u", name,
                 prefix, i);
        if (access(path, F_OK)) {
            break;
        }
        n++;
    }
    return n;
}

/* Finds how many receive and transmit queues interface 'name' has: from
 * sysfs (the kernel's real_num_rx_queues and real_num_tx_queues, which
 * bind checks against), else from the driver's ethtool channels, else 1
 * each. */
static void
get_queue_counts(struct afxdp *d, const char *name, uint32_t *n_rx,
                 uint32_t *n_tx)
{
    struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
    struct ifreq ifr;

    *n_rx = sysfs_queue_count(name, d->ifindex, "rx-");
    *n_tx = sysfs_queue_count(name, d->ifindex, "tx-");
    if (*n_rx && *n_tx) {
        return;
    }
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    ifr.ifr_data = (void *) &ch;
    if (!ioctl(d->ctl_fd, SIOCETHTOOL, &ifr)) {
        *n_rx = ch.rx_count + ch.combined_count;
        *n_tx = ch.tx_count + ch.combined_count;
    }
    *n_rx = *n_rx ? *n_rx : 1;
    *n_tx = *n_tx ? *n_tx : 1;
}

/* Returns true if /sys/fs/bpf is a mounted bpffs. */
static bool
have_bpffs(void)
{
    struct statfs st;

    return !statfs("/sys/fs/bpf", &st) && st.f_type == BPF_FS_MAGIC;
}

/* Finds the XDP program attached to the interface: sets '*prog_id' (0 if
 * none), '*hook' (XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE; 0 for none or
 * offloaded) and 'name'. */
static void
get_attached(const struct afxdp *d, uint32_t *prog_id, uint32_t *hook,
             char name[BPF_OBJ_NAME_LEN])
{
    LIBBPF_OPTS(bpf_xdp_query_opts, opts);
    struct bpf_prog_info info;
    uint32_t len = sizeof info;
    int fd;

    *prog_id = 0;
    *hook = 0;
    name[0] = '\0';
    if (bpf_xdp_query(d->ifindex, 0, &opts)) {
        return;
    }
    if (opts.attach_mode == XDP_ATTACHED_DRV) {
        *prog_id = opts.drv_prog_id;
        *hook = XDP_FLAGS_DRV_MODE;
    } else if (opts.attach_mode == XDP_ATTACHED_SKB) {
        *prog_id = opts.skb_prog_id;
        *hook = XDP_FLAGS_SKB_MODE;
    } else if (opts.attach_mode != XDP_ATTACHED_NONE) {
        *prog_id = opts.prog_id ? opts.prog_id : opts.hw_prog_id;
    }
    if (!*prog_id) {
        return;
    }
    fd = bpf_prog_get_fd_by_id(*prog_id);
    if (fd < 0) {
        return;
    }
    memset(&info, 0, sizeof info);
    if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
        memcpy(name, info.name, BPF_OBJ_NAME_LEN);
        name[BPF_OBJ_NAME_LEN - 1] = '\0';
    }
    close(fd);
}

/* Checks what is attached to the interface before libxdp tries to attach
 * its program.  libxdp shares an interface with the program it attached
 * for other AF_XDP sockets ("xsk_def_prog": of another process, or of one
 * that died) and, through a bpffs, with its dispatcher
 * ("xdp_dispatcher"); it refuses anything else with EBUSY, which would
 * look like a busy queue.  Sets '*hook' to the hook of a program the
 * port will share (0 if none), which the port then has to use.
 * Returns 0, or -EBUSY with a reason. */
static int
check_attached(const struct afxdp *d, uint32_t *hook, struct errbuf *err)
{
    char name[BPF_OBJ_NAME_LEN];
    uint32_t prog_id;

    get_attached(d, &prog_id, hook, name);
    if (!prog_id) {
        return 0;
    }
    if (!*hook) {
        errbuf_set(err, "an offloaded XDP program (id %u) is attached to "
                   "the interface", prog_id);
        return -EBUSY;
    }
    if (!strcmp(name, "xdp_dispatcher") && !have_bpffs()) {
        errbuf_set(err, "a libxdp dispatcher (id %u) is attached to the "
                   "interface; adding to it needs a bpffs at /sys/fs/bpf",
                   prog_id);
        return -EBUSY;
    }
    if (strcmp(name, "xsk_def_prog") && strcmp(name, "xdp_dispatcher")) {
        errbuf_set(err, "another XDP program ('%s', id %u) is attached to "
                   "the interface; unload it first", name, prog_id);
        return -EBUSY;
    }
    if ((d->mode == AFXDP_MODE_NATIVE && *hook != XDP_FLAGS_DRV_MODE)
        || (d->mode == AFXDP_MODE_GENERIC && *hook != XDP_FLAGS_SKB_MODE)
        || (d->zc == AFXDP_ZC_ON && *hook != XDP_FLAGS_DRV_MODE)) {
        errbuf_set(err, "libxdp's AF_XDP program (id %u) is attached in %s "
                   "mode already, for other sockets or left by a process "
                   "that died ('xdp-loader unload -a' removes it): "
                   "cannot use %s mode", prog_id,
                   *hook == XDP_FLAGS_DRV_MODE ? "native" : "generic",
                   *hook == XDP_FLAGS_DRV_MODE ? "generic" : "native");
        return -EBUSY;
    }
    return 0;
}

/* Says in 'err' why binding queue 'qid' failed with 'error' (a negative
 * errno or libxdp error) in 'how' ("native mode", ...). */
static void
explain_bind_error(struct afxdp *d, uint32_t qid, const char *how,
                   int error, struct errbuf *err)
{
    char text[128];
    uint32_t prog_id = 0;

    libxdp_strerror(error, text, sizeof text);
    switch (-error) {
    case EOPNOTSUPP:
        errbuf_set(err, "%s not supported by the driver (%s)", how, text);
        break;
    case EBUSY:
        errbuf_set(err, "queue %u is busy: another AF_XDP socket is bound "
                   "to it", qid);
        break;
    case EEXIST:
        if (!bpf_xdp_query_id(d->ifindex, 0, &prog_id) && prog_id) {
            errbuf_set(err, "another XDP program (id %u) is attached to the "
                       "interface%s", prog_id, have_bpffs() ? ""
                       : "; libxdp can share an interface only through its "
                       "dispatcher, which needs a bpffs at /sys/fs/bpf");
        } else {
            errbuf_set(err, "cannot attach the XDP program in %s (%s)", how,
                       text);
        }
        break;
    case EPERM:
    case EACCES:
        errbuf_set(err, "not permitted to bind an AF_XDP socket or load "
                   "XDP (needs CAP_NET_ADMIN, CAP_NET_RAW and CAP_BPF): %s",
                   text);
        break;
    case ENOENT:
        errbuf_set(err, "cannot find libxdp's AF_XDP program "
                   "xsk_def_xdp_prog.o (see LIBXDP_OBJECT_PATH): %s", text);
        break;
    default:
        errbuf_set(err, "cannot bind an AF_XDP socket to queue %u in %s: %s",
                   qid, how, text);
        break;
    }
    afxdp_add_lib_msg(err);
}

/* Queues
 * ====== */

static void
queue_destroy(struct afxdp_queue *q)
{
    if (q->xsk) {
        xsk_socket__delete(q->xsk);
        q->xsk = NULL;
    }
    if (q->umem) {
        /* Cannot fail: its only socket is gone. */
        xsk_umem__delete(q->umem);
        q->umem = NULL;
    }
    if (q->area) {
        munmap(q->area, q->area_size);
        q->area = NULL;
    }
    q->fd = -1;
}

/* Moves as many frames from the receive free stack of 'q' to its fill
 * ring as the ring has room for. */
static void
rx_refill(struct afxdp_queue *q)
{
    uint32_t n = xsk_prod_nb_free(&q->fq, q->n_rx_free);
    uint32_t idx = 0;

    n = n < q->n_rx_free ? n : q->n_rx_free;
    if (!n || xsk_ring_prod__reserve(&q->fq, n, &idx) != n) {
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        *xsk_ring_prod__fill_addr(&q->fq, idx + i) =
            q->rx_free[--q->n_rx_free];
    }
    xsk_ring_prod__submit(&q->fq, n);
}

/* Puts every receive frame in the fill ring, and every transmit frame on
 * the transmit free stack. */
static void
queue_prime(struct afxdp_queue *q)
{
    q->n_rx_free = 0;
    for (uint32_t i = q->ring_size; i-- > 0; ) {
        q->rx_free[q->n_rx_free++] = (uint64_t) i * AFXDP_FRAME_SIZE;
    }
    rx_refill(q);

    q->n_tx_free = 0;
    for (uint32_t i = q->n_frames; q->has_tx && i-- > q->ring_size; ) {
        q->tx_free[q->n_tx_free++] = (uint64_t) i * AFXDP_FRAME_SIZE;
    }
    q->tx_outstanding = 0;
}

/* Makes the UMEM and the socket of queue 'q' (whose 'qid', 'has_tx',
 * 'ring_size', 'n_frames', 'rx_free' and 'tx_free' are set), binding with
 * 'xdp_flags' and 'bind_flags'.  Returns 0, or a negative error: a libxdp
 * one from the bind (for explain_bind_error()) with '*bind_failed' set, or
 * an errno with a reason in 'err'. */
static int
queue_create(const char *name, struct afxdp_queue *q, uint32_t xdp_flags,
             uint16_t bind_flags, bool *bind_failed, struct errbuf *err)
{
    /* The kernel publishes how far it has read the fill and tx rings
     * lazily, after taking up to a ring's worth of entries: with twice as
     * many slots as frames, neither ever looks full to us while we hold a
     * frame for it. */
    struct xsk_umem_config ucfg = {
        .fill_size = 2 * q->ring_size,
        .comp_size = q->ring_size,
        .frame_size = AFXDP_FRAME_SIZE,
        .frame_headroom = 0,
        .flags = 0,
    };
    struct xsk_socket_config scfg = {
        .rx_size = q->ring_size,
        .tx_size = q->has_tx ? 2 * q->ring_size : 0,
        .libxdp_flags = 0,
        .xdp_flags = xdp_flags,
        .bind_flags = bind_flags,
    };
    struct timespec pause = { 0, 1000000 };
    int error;

    *bind_failed = false;
    q->area_size = (size_t) q->n_frames * AFXDP_FRAME_SIZE;
    for (int tries = 0; ; tries++) {
        void *area = mmap(NULL, q->area_size, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (area == MAP_FAILED) {
            error = -errno;
            errbuf_set(err, "cannot map %zu KiB for queue %u: %s",
                       q->area_size >> 10, q->qid, strerror(errno));
            return error;
        }
        q->area = area;
        error = xsk_umem__create(&q->umem, q->area, q->area_size, &q->fq,
                                 &q->cq, &ucfg);
        if (error) {
            q->umem = NULL;
            if (error == -ENOBUFS || error == -ENOMEM || error == -EPERM) {
                errbuf_set(err, "cannot register %zu KiB of packet memory "
                           "for queue %u (%s): RLIMIT_MEMLOCK is too low "
                           "without CAP_IPC_LOCK; raise it or lower "
                           "ring_size", q->area_size >> 10,
                           q->qid, strerror(-error));
            } else {
                errbuf_set(err, "cannot create an AF_XDP UMEM for queue "
                           "%u: %s", q->qid, strerror(-error));
            }
            queue_destroy(q);
            return error;
        }
        error = xsk_socket__create(&q->xsk, name, q->qid, q->umem, &q->rx,
                                   q->has_tx ? &q->tx : NULL, &scfg);
        if (!error) {
            break;
        }
        q->xsk = NULL;
        queue_destroy(q);
        if (error != -EBUSY || tries == AFXDP_BUSY_RETRIES) {
            *bind_failed = true;
            return error;
        }
        /* The queue's previous socket may still be on its way out. */
        nanosleep(&pause, NULL);
        if (pause.tv_nsec < 32000000) {
            pause.tv_nsec *= 2;
        }
    }
    q->fd = xsk_socket__fd(q->xsk);
    queue_prime(q);
    return 0;
}

/* Returns true if queue 'q''s socket runs in zero-copy mode. */
static bool
queue_is_zerocopy(const struct afxdp_queue *q)
{
    struct xdp_options opts = { 0 };
    socklen_t len = sizeof opts;

    return !getsockopt(q->fd, SOL_XDP, XDP_OPTIONS, &opts, &len)
           && (opts.flags & XDP_OPTIONS_ZEROCOPY);
}

/* Bind flags for zero-copy choice 'zc' on hook 'xdp_flags'. */
static uint16_t
bind_flags_for(enum afxdp_zc zc, uint32_t xdp_flags)
{
    uint16_t flags = XDP_USE_NEED_WAKEUP;

    if ((xdp_flags & XDP_FLAGS_SKB_MODE) || zc == AFXDP_ZC_OFF) {
        flags |= XDP_COPY;
    } else if (zc == AFXDP_ZC_ON) {
        flags |= XDP_ZEROCOPY;
    }
    return flags;
}

/* Opens queue 0 with the hook asked for, falling back from native to
 * generic for mode=auto; or, if 'shared_hook' is nonzero (libxdp's program
 * is on the interface already), with that one.  Sets '*xdp_flags' to the
 * hook used. */
static int
open_first_queue(struct afxdp *d, const char *name, uint32_t shared_hook,
                 uint32_t *xdp_flags, struct errbuf *err)
{
    struct afxdp_queue *q = &d->queues[0];
    char native_reason[ERRBUF_SIZE] = "";
    bool bind_failed;
    int error;

    if (shared_hook) {
        *xdp_flags = shared_hook;
        error = queue_create(name, q, *xdp_flags,
                             bind_flags_for(d->zc, *xdp_flags),
                             &bind_failed, err);
        if (error && bind_failed) {
            explain_bind_error(d, 0, *xdp_flags & XDP_FLAGS_DRV_MODE
                               ? "native mode" : "generic mode", error, err);
        }
        return error;
    }
    if (d->mode != AFXDP_MODE_GENERIC) {
        *xdp_flags = XDP_FLAGS_DRV_MODE;
        error = queue_create(name, q, *xdp_flags,
                             bind_flags_for(d->zc, *xdp_flags),
                             &bind_failed, err);
        if (!error) {
            return 0;
        }
        if (!bind_failed) {
            return error;
        }
        explain_bind_error(d, 0, d->zc == AFXDP_ZC_ON
                           ? "native zero-copy mode" : "native mode",
                           error, err);
        if (d->mode == AFXDP_MODE_NATIVE || d->zc == AFXDP_ZC_ON
            || error == -EBUSY) {
            return error;
        }
        snprintf(native_reason, sizeof native_reason, "%s",
                 err ? err->msg : "");
        afxdp_lib_msg_clear();
    }

    *xdp_flags = XDP_FLAGS_SKB_MODE;
    error = queue_create(name, q, *xdp_flags,
                         bind_flags_for(d->zc, *xdp_flags), &bind_failed,
                         err);
    if (error && bind_failed) {
        explain_bind_error(d, 0, "generic mode", error, err);
        if (d->mode == AFXDP_MODE_AUTO && err) {
            char generic_reason[ERRBUF_SIZE];

            snprintf(generic_reason, sizeof generic_reason, "%s", err->msg);
            errbuf_set(err, "%s; and in native mode: %s", generic_reason,
                       native_reason);
        }
    }
    return error;
}

/* The provider
 * ============ */

static void
afxdp_free(struct afxdp *d)
{
    if (d->queues) {
        for (uint32_t i = d->n_rxq; i-- > 0; ) {
            struct afxdp_queue *q = &d->queues[i];

            queue_destroy(q);
            free(q->rx_free);
            if (q->tx_free) {
                wmutex_destroy(&q->tx_mutex);
                free(q->tx_free);
            }
        }
        free(d->queues);
    }
    /* Packets of the pool still out (queued on another port, say) keep
     * it alive until they come back (packet.h). */
    pkt_pool_destroy(d->pool);
    if (d->ctl_fd >= 0) {
        close(d->ctl_fd);
    }
    free(d);
}

static int
afxdp_open(struct port *port, const char *options, struct errbuf *err)
{
    const char *name = port->name;
    uint32_t n_rx_queues, n_tx_queues, xdp_flags, shared_hook;
    char prog_name[BPF_OBJ_NAME_LEN];
    uint32_t prog_id, hook;
    struct afxdp *d;
    size_t pool_size;
    int error;

    pthread_once(&afxdp_print_once, afxdp_install_print);
    afxdp_lib_msg_clear();

    d = calloc(1, sizeof *d);
    if (!d) {
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    d->ctl_fd = -1;
    d->n_rxq = 1;
    d->ring_size = AFXDP_RING_DEFAULT;
    error = parse_options(d, options, err);
    if (error) {
        free(d);
        return error;
    }

    d->ifindex = (int) if_nametoindex(name);
    if (!d->ifindex) {
        errbuf_set(err, "no such network device");
        free(d);
        return -ENODEV;
    }
    d->ctl_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (d->ctl_fd < 0) {
        error = -errno;
        errbuf_set(err, "socket: %s", strerror(errno));
        afxdp_free(d);
        return error;
    }
    get_queue_counts(d, name, &n_rx_queues, &n_tx_queues);
    if (d->n_rxq > n_rx_queues) {
        errbuf_set(err, "n_rxq=%u but the interface has %u receive "
                   "queue%s", d->n_rxq, n_rx_queues,
                   n_rx_queues == 1 ? "" : "s");
        afxdp_free(d);
        return -EINVAL;
    }
    d->n_txq = d->n_rxq < n_tx_queues ? d->n_rxq : n_tx_queues;

    pool_size = (size_t) AFXDP_POOL_PER_QUEUE * d->n_rxq;
    d->pool = pkt_pool_create(pool_size < AFXDP_POOL_MAX ? pool_size
                              : AFXDP_POOL_MAX, AFXDP_BUF_SIZE);
    d->queues = aligned_alloc(64, ((d->n_rxq * sizeof *d->queues + 63)
                                   / 64) * 64);
    if (d->queues) {
        memset(d->queues, 0, d->n_rxq * sizeof *d->queues);
    }
    if (!d->pool || !d->queues) {
        errbuf_set(err, "out of memory");
        afxdp_free(d);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < d->n_rxq; i++) {
        struct afxdp_queue *q = &d->queues[i];

        q->fd = -1;
        q->qid = i;
        q->has_tx = i < d->n_txq;
        q->ring_size = d->ring_size;
        q->n_frames = d->ring_size * (q->has_tx ? 2 : 1);
        q->rx_free = malloc(d->ring_size * sizeof *q->rx_free);
        if (!q->rx_free) {
            errbuf_set(err, "out of memory");
            afxdp_free(d);
            return -ENOMEM;
        }
        if (q->has_tx) {
            q->tx_free = malloc(d->ring_size * sizeof *q->tx_free);
            if (!q->tx_free) {
                errbuf_set(err, "out of memory");
                afxdp_free(d);
                return -ENOMEM;
            }
            wmutex_init(&q->tx_mutex);
        }
    }

    error = check_attached(d, &shared_hook, err);
    if (!error) {
        error = open_first_queue(d, name, shared_hook, &xdp_flags, err);
    }
    for (uint32_t i = 1; !error && i < d->n_rxq; i++) {
        bool bind_failed;

        error = queue_create(name, &d->queues[i], xdp_flags,
                             bind_flags_for(d->zc, xdp_flags), &bind_failed,
                             err);
        if (error && bind_failed) {
            explain_bind_error(d, i, xdp_flags & XDP_FLAGS_DRV_MODE
                               ? "native mode" : "generic mode", error, err);
        }
    }
    if (error) {
        afxdp_free(d);
        /* libbpf's and libxdp's own error numbers start at 4000. */
        return error < 0 && error > -4000 ? error : -EIO;
    }

    /* The hook the program is really on (libxdp may have found one). */
    get_attached(d, &prog_id, &hook, prog_name);
    if (hook) {
        xdp_flags = hook;
    }
    if (xdp_flags & XDP_FLAGS_SKB_MODE) {
        d->mode_name = "generic-copy";
    } else if (queue_is_zerocopy(&d->queues[0])) {
        d->mode_name = "native-zerocopy";
    } else {
        d->mode_name = "native-copy";
    }
    port->priv = d;
    port->n_rxq = d->n_rxq;
    return 0;
}

static void
afxdp_close(struct port *port)
{
    afxdp_free(port->priv);
    port->priv = NULL;
}

static void tx_reap(struct afxdp_queue *q) WEIR_REQUIRES(q->tx_mutex);
static void tx_kick(struct afxdp_queue *q) WEIR_REQUIRES(q->tx_mutex);

/* Frames a transmit left in the tx ring (the device queue was full) go
 * out only when the kernel is kicked again: an idle receive on the same
 * socket does it, if no transmit holds the queue. */
static void
tx_nudge(struct afxdp_queue *q)
{
    if (q->has_tx && wmutex_trylock(&q->tx_mutex)) {
        if (q->tx_outstanding) {
            tx_reap(q);
            if (q->tx_outstanding) {
                tx_kick(q);
                tx_reap(q);
            }
        }
        wmutex_unlock(&q->tx_mutex);
    }
}

static int
afxdp_rx(struct port *port, uint32_t qid, struct pkt_batch *batch)
{
    struct afxdp *d = port->priv;
    struct afxdp_queue *q = &d->queues[qid];
    uint32_t idx = 0, n, got, kept = 0;
    uint64_t runts = 0, nomem = 0;

    if (q->n_rx_free) {
        rx_refill(q);
    }
    n = xsk_ring_cons__peek(&q->rx, PKT_BATCH_MAX, &idx);
    if (!n) {
        /* A driver that sleeps when its fill ring ran dry wants a
         * syscall to start again (zero-copy drivers do). */
        if (xsk_ring_prod__needs_wakeup(&q->fq)) {
            recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
        }
        tx_nudge(q);
        return 0;
    }
    got = (uint32_t) pkt_pool_get(d->pool, batch, n);
    if (got < n) {
        /* Out of packets: leave the rest in the ring, as a NIC would. */
        xsk_ring_cons__cancel(&q->rx, n - got);
        n = got;
        if (!n) {
            return 0;
        }
    }

    for (uint32_t i = 0; i < n; i++) {
        const struct xdp_desc *desc = xsk_ring_cons__rx_desc(&q->rx,
                                                             idx + i);
        struct packet *p = batch->pkts[i];
        uint32_t len = desc->len;
        uint64_t ofs = desc->addr & (AFXDP_FRAME_SIZE - 1);
        const uint8_t *frame;

        if (desc->addr >= (uint64_t) q->ring_size * AFXDP_FRAME_SIZE
            || ofs + len > AFXDP_FRAME_SIZE) {
            /* Not one of our receive frames: the kernel never does
             * this; count it and leave the frame alone. */
            runts++;
            packet_free(p);
            continue;
        }
        frame = xsk_umem__get_data(q->area, desc->addr);
        if (len < AFXDP_ETH_HLEN) {
            runts++;
            packet_free(p);
        } else if ((p = packet_fill(p, frame, len)) != NULL) {
            batch->pkts[kept++] = p;
        } else {
            nomem++;
        }
        /* The frame's start: 'addr' points past the kernel's headroom. */
        q->rx_free[q->n_rx_free++] =
            desc->addr & ~(uint64_t) (AFXDP_FRAME_SIZE - 1);
    }
    batch->n = kept;
    xsk_ring_cons__release(&q->rx, n);
    rx_refill(q);

    if (runts) {
        atomic_fetch_add_explicit(&d->rx_runts, runts,
                                  memory_order_relaxed);
    }
    if (nomem) {
        atomic_fetch_add_explicit(&d->rx_nomem, nomem,
                                  memory_order_relaxed);
    }
    return (int) kept;
}

static int
afxdp_rx_fd(struct port *port, uint32_t qid)
{
    struct afxdp *d = port->priv;

    return qid < d->n_rxq ? d->queues[qid].fd : -1;
}

/* Moves the frames the kernel has finished transmitting back to the free
 * stack of 'q'. */
static void
tx_reap(struct afxdp_queue *q) WEIR_REQUIRES(q->tx_mutex)
{
    uint32_t idx = 0;
    uint32_t n = xsk_ring_cons__peek(&q->cq, UINT32_MAX, &idx);

    for (uint32_t i = 0; i < n; i++) {
        uint64_t addr = *xsk_ring_cons__comp_addr(&q->cq, idx + i);

        /* The kernel returns what tx gave it; the bound is paranoia. */
        if (q->n_tx_free < q->ring_size) {
            q->tx_free[q->n_tx_free++] = addr;
        }
    }
    if (n) {
        xsk_ring_cons__release(&q->cq, n);
        q->tx_outstanding -= n < q->tx_outstanding ? n : q->tx_outstanding;
    }
}

/* Tells the kernel there are frames in the tx ring of 'q', if it wants to
 * be told (copy mode always does: it transmits only within the syscall). */
static void
tx_kick(struct afxdp_queue *q) WEIR_REQUIRES(q->tx_mutex)
{
    int tries;

    if (!xsk_ring_prod__needs_wakeup(&q->tx)) {
        return;
    }
    /* Copy mode transmits up to AFXDP_KICK_BUDGET frames per call and
     * says EAGAIN when some are left (or the device queue is full). */
    tries = (int) (q->tx_outstanding / AFXDP_KICK_BUDGET) + 2;
    while (tries-- > 0) {
        if (sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0) {
            return;
        }
        if (errno != EAGAIN && errno != EBUSY && errno != EINTR) {
            /* ENETDOWN, ENXIO, ...: the frames wait in the ring. */
            return;
        }
    }
}

/* Returns the transmit queue for the calling thread. */
static struct afxdp_queue *
tx_queue(struct afxdp *d)
{
    static atomic_uint next_slot;
    static _Thread_local unsigned int slot = UINT_MAX;

    if (d->n_txq == 1) {
        return &d->queues[0];
    }
    if (slot == UINT_MAX) {
        slot = atomic_fetch_add_explicit(&next_slot, 1,
                                         memory_order_relaxed)
               % (UINT_MAX - 1);
    }
    return &d->queues[slot % d->n_txq];
}

static int
afxdp_tx(struct port *port, struct pkt_batch *batch)
{
    struct afxdp *d = port->priv;
    struct afxdp_queue *q = tx_queue(d);
    uint32_t lens[PKT_BATCH_MAX];
    uint32_t n_ok = 0, n_sent = 0, idx = 0;
    int dropped;

    for (uint32_t i = 0; i < batch->n; i++) {
        const struct packet *p = batch->pkts[i];
        uint32_t len = p->cutlen && p->cutlen < p->len ? p->cutlen : p->len;

        /* 0: not sendable. */
        lens[i] = len >= AFXDP_ETH_HLEN && len <= AFXDP_FRAME_SIZE ? len : 0;
        n_ok += lens[i] != 0;
    }

    if (n_ok) {
        wmutex_lock(&q->tx_mutex);
        tx_reap(q);
        if (n_ok > q->n_tx_free) {
            n_ok = q->n_tx_free;
        }
        /* A free frame means a free slot: the ring has one for each. */
        if (n_ok && xsk_ring_prod__reserve(&q->tx, n_ok, &idx) == n_ok) {
            for (uint32_t i = 0; i < batch->n && n_sent < n_ok; i++) {
                struct xdp_desc *desc;
                uint64_t addr;

                if (!lens[i]) {
                    continue;
                }
                addr = q->tx_free[--q->n_tx_free];
                memcpy(xsk_umem__get_data(q->area, addr),
                       batch->pkts[i]->data, lens[i]);
                desc = xsk_ring_prod__tx_desc(&q->tx, idx + n_sent);
                desc->addr = addr;
                desc->len = lens[i];
                desc->options = 0;
                n_sent++;
            }
            xsk_ring_prod__submit(&q->tx, n_sent);
            q->tx_outstanding += n_sent;
            tx_kick(q);
            tx_reap(q);
        }
        wmutex_unlock(&q->tx_mutex);
    }

    dropped = (int) (batch->n - n_sent);
    pkt_batch_free(batch);
    return dropped;
}

static void
afxdp_get_info(struct port *port, struct port_info *info)
{
    struct afxdp *d = port->priv;

    info->ifindex = d->ifindex;
    if (port_query_netdev(d->ctl_fd, port->name, info)) {
        info->link_up = false;          /* Gone. */
    }
}

static void
afxdp_get_stats(struct port *port, struct port_stats *stats)
{
    struct afxdp *d = port->priv;

    for (uint32_t i = 0; i < d->n_rxq; i++) {
        struct xdp_statistics st;
        socklen_t len = sizeof st;

        memset(&st, 0, sizeof st);
        if (getsockopt(d->queues[i].fd, SOL_XDP, XDP_STATISTICS, &st,
                       &len)) {
            continue;
        }
        stats->rx_dropped += st.rx_dropped + st.rx_ring_full;
        stats->rx_errors += st.rx_invalid_descs;
    }
    stats->rx_dropped += atomic_load_explicit(&d->rx_nomem,
                                              memory_order_relaxed);
    stats->rx_errors += atomic_load_explicit(&d->rx_runts,
                                             memory_order_relaxed);
}

const struct port_class port_afxdp_class = {
    .type = "afxdp",
    .open = afxdp_open,
    .close = afxdp_close,
    .rx = afxdp_rx,
    .tx = afxdp_tx,
    .rx_fd = afxdp_rx_fd,
    .get_info = afxdp_get_info,
    .get_stats = afxdp_get_stats,
};

const char *
port_afxdp_mode(const struct port *port)
{
    const struct afxdp *d;

    if (!port || port->class != &port_afxdp_class || !port->priv) {
        return NULL;
    }
    d = port->priv;
    return d->mode_name;
}
