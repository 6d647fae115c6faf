/* SPDX-License-Identifier: Apache-2.0 */
/* The "pcap" port provider: a pcap file in, a pcap file out.
 *
 * What
 * ====
 *
 * For tests, replays and benchmarks.  rx serves the frames of one pcap
 * file; tx appends what it sends to another.  Options (comma-separated
 * key=value; an unknown key, a repeated one or a bad value is -EINVAL
 * with a reason; at least one of rx and tx):
 *
 *   rx=FILE             the pcap (or pcapng) file rx serves, link type
 *                       Ethernet.  A file that does not exist is -ENOENT,
 *                       one that is not a pcap file or not Ethernet
 *                       -EINVAL.  Frames shorter than an Ethernet header
 *                       are left out and counted once in rx_errors.
 *   tx=FILE             the pcap file tx writes (created, or truncated),
 *                       link type Ethernet, each frame stamped with the
 *                       time it was sent.
 *   loop=true|false     false (default): rx serves each frame once, then
 *                       receives nothing.  true: rx starts over at the end
 *                       of the file, forever (with an empty file: nothing).
 *
 * A file name cannot hold a comma.  Without rx=, rx receives nothing;
 * without tx=, tx drops everything (counted in tx_dropped).  rx_fd is -1:
 * the port is always ready while frames remain, and the polling thread
 * uses its timer.  get_info reports an MTU of 65535, a zero MAC address
 * and the link up.
 *
 * Design
 * ======
 *
 * open() reads the whole rx file into memory, one buffer for the bytes of
 * every frame and an array of where each starts, so that rx is a memcpy()
 * per frame into a packet from the port's pool, as a NIC writes into the
 * buffers of its ring (like the dummy port's loop mode, port-dummy.c).  A
 * frame too long for a pool buffer is copied into an ordinary packet.
 * When every pool packet is in flight, rx receives fewer, or none, until
 * some come back.
 *
 * tx writes through libpcap's dumper and flushes it after every batch, so
 * that a test can read the file while the port is open.
 *
 * Thread-safety
 * =============
 *
 * As port/port-provider.h says.  rx has one queue, polled by one thread at
 * a time: its position in the file is that thread's.  tx serialises on
 * 'tx_mutex'.  The frames rx serves do not change after open().
 *
 * Ownership
 * =========
 *
 * The port owns the frames, the dumper and the pool.  Pool packets handed
 * out by rx may outlive the port: the pool goes when the last one comes
 * back (packet/packet.h). */

#include <errno.h>
#include <pcap/pcap.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "lib/errbuf.h"
#include "lib/mutex.h"
#include "lib/options.h"
#include "packet/packet.h"
#include "port/port.h"
#include "port/port-provider.h"

#define PCAP_ETH_HLEN 14

/* What the written files say they may hold, and what libpcap reads at
 * most: its MAXIMUM_SNAPLEN. */
#define PCAP_TX_SNAPLEN 262144

/* What get_info reports as the MTU. */
#define PCAP_PORT_MTU 65535

/* The pool: enough packets for a few batches in every stage of a
 * datapath (fewer when the file has fewer frames and does not loop),
 * each big enough for the longest frame of the file up to a jumbo frame.
 * Longer frames are copied into ordinary packets. */
#define PCAP_POOL_SIZE 1024
#define PCAP_POOL_FRAME_MAX (9216 + 14 + 8)

/* Where one frame of the rx file is in 'bytes'. */
struct pcap_frame {
    size_t ofs;
    uint32_t len;
};

struct pcap_port {
    /* rx: read-only after open, except 'next' (the rx thread's). */
    uint8_t *bytes;             /* Every frame, one after another. */
    struct pcap_frame *frames;
    size_t n_frames;
    size_t next;                /* Index of the next frame rx serves. */
    bool loop;
    struct pkt_pool *pool;      /* NULL without frames. */
    size_t buf_room;            /* Frame bytes a pool buffer holds. */
    uint64_t rx_errors;         /* Frames left out at open. */

    /* tx. */
    struct wmutex tx_mutex;
    pcap_t *dead;               /* What the dumper writes for. */
    pcap_dumper_t *dumper;      /* NULL without tx=; guarded by
                                 * 'tx_mutex'. */
};

/* The options of a pcap port. */
struct pcap_options {
    char *rx;                   /* File names, or NULL; malloc'd. */
    char *tx;
    bool loop;
};

/* Parses 'options' into 'o'.  On success the caller frees 'o->rx' and
 * 'o->tx'.  Returns 0, or -EINVAL (-ENOMEM) with a reason. */
static int
parse_options(const char *options, struct pcap_options *o,
              struct errbuf *err)
{
    const struct opt_def defs[] = {
        { .key = "rx", .type = OPT_STR, .str = &o->rx,
          .what = "a file name" },
        { .key = "tx", .type = OPT_STR, .str = &o->tx,
          .what = "a file name" },
        { .key = "loop", .type = OPT_BOOL, .b = &o->loop },
    };
    int error;

    memset(o, 0, sizeof *o);
    error = opts_parse(options, defs, sizeof defs / sizeof *defs,
                       "pcap ports", err);
    if (!error && !o->rx && !o->tx) {
        errbuf_set(err, "a pcap port needs rx=FILE or tx=FILE (or both)");
        error = -EINVAL;
    }
    return error;
}

/* Appends the 'len' bytes at 'data' to the frames of 'pp'; '*cap_bytes'
 * and '*cap_frames' are the room allocated.  Returns 0 or -ENOMEM. */
static int
add_frame(struct pcap_port *pp, const uint8_t *data, uint32_t len,
          size_t *cap_bytes, size_t *cap_frames)
{
    size_t used = pp->n_frames
                  ? pp->frames[pp->n_frames - 1].ofs
                    + pp->frames[pp->n_frames - 1].len
                  : 0;

    if (pp->n_frames == *cap_frames) {
        size_t cap = *cap_frames ? 2 * *cap_frames : 256;
        struct pcap_frame *f = reallocarray(pp->frames, cap, sizeof *f);

        if (!f) {
            return -ENOMEM;
        }
        pp->frames = f;
        *cap_frames = cap;
    }
    if (len > *cap_bytes - used) {
        size_t cap = *cap_bytes ? *cap_bytes : 65536;
        uint8_t *b;

        while (len > cap - used) {
            if (cap > SIZE_MAX / 2) {
                return -ENOMEM;
            }
            cap *= 2;
        }
        b = realloc(pp->bytes, cap);
        if (!b) {
            return -ENOMEM;
        }
        pp->bytes = b;
        *cap_bytes = cap;
    }
    memcpy(pp->bytes + used, data, len);
    pp->frames[pp->n_frames].ofs = used;
    pp->frames[pp->n_frames].len = len;
    pp->n_frames++;
    return 0;
}

/* Reads every frame of the pcap file 'file' into 'pp'.
 * Returns 0, or a negative errno with a reason. */
static int
load_rx_file(struct pcap_port *pp, const char *file, struct errbuf *err)
{
    char pcap_err[PCAP_ERRBUF_SIZE];
    size_t cap_bytes = 0, cap_frames = 0;
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int error = 0, dlt, r;
    pcap_t *pcap;
    FILE *fp;

    /* fopen() first, for the errno of a file that cannot be opened. */
    fp = fopen(file, "rb");
    if (!fp) {
        error = -errno;
        errbuf_set(err, "%s: %s", file, strerror(errno));
        return error;
    }
    pcap_err[0] = '\0';
    pcap = pcap_fopen_offline(fp, pcap_err);
    if (!pcap) {
        errbuf_set(err, "%s: not a pcap file: %s", file, pcap_err);
        fclose(fp);
        return -EINVAL;
    }
    /* From here on, pcap_close() closes 'fp'. */
    dlt = pcap_datalink(pcap);
    if (dlt != DLT_EN10MB) {
        const char *name = pcap_datalink_val_to_name(dlt);

        errbuf_set(err, "%s: link type %d (%s) is not Ethernet", file, dlt,
                   name ? name : "unknown");
        pcap_close(pcap);
        return -EINVAL;
    }
    while ((r = pcap_next_ex(pcap, &hdr, &data)) == 1) {
        if (hdr->caplen < PCAP_ETH_HLEN) {
            pp->rx_errors++;
            continue;
        }
        if (add_frame(pp, data, hdr->caplen, &cap_bytes, &cap_frames)) {
            errbuf_set(err, "%s: out of memory", file);
            error = -ENOMEM;
            break;
        }
    }
    if (!error && r != PCAP_ERROR_BREAK) {
        errbuf_set(err, "%s: truncated or corrupt: %s", file,
                   pcap_geterr(pcap));
        error = -EINVAL;
    }
    pcap_close(pcap);
    return error;
}

/* Creates the pcap file 'file' for tx.  Returns 0, or a negative errno
 * with a reason. */
static int
open_tx_file(struct pcap_port *pp, const char *file, struct errbuf *err)
{
    FILE *fp;
    int error;

    pp->dead = pcap_open_dead(DLT_EN10MB, PCAP_TX_SNAPLEN);
    if (!pp->dead) {
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    /* fopen() first, for the errno of a file that cannot be created. */
    fp = fopen(file, "wb");
    if (!fp) {
        error = -errno;
        errbuf_set(err, "%s: %s", file, strerror(errno));
        return error;
    }
    pp->dumper = pcap_dump_fopen(pp->dead, fp);
    if (!pp->dumper) {
        errbuf_set(err, "%s: cannot write a pcap file: %s", file,
                   pcap_geterr(pp->dead));
        fclose(fp);
        return -EIO;
    }
    /* The file header, at once: a reader may open the file before the
     * first packet goes out. */
    if (pcap_dump_flush(pp->dumper)) {
        errbuf_set(err, "%s: cannot write the pcap header", file);
        return -EIO;
    }
    return 0;
}

/* Frees what pcap_port_open() and pcap_port_close() share to free. */
static void
pcap_port_destroy(struct pcap_port *pp)
{
    if (pp->dumper) {
        pcap_dump_close(pp->dumper);    /* Flushes and closes the file. */
    }
    if (pp->dead) {
        pcap_close(pp->dead);
    }
    /* Packets still out keep the pool alive until they come back. */
    pkt_pool_destroy(pp->pool);
    free(pp->frames);
    free(pp->bytes);
    wmutex_destroy(&pp->tx_mutex);
    free(pp);
}

static int
pcap_port_open(struct port *port, const char *options, struct errbuf *err)
{
    struct pcap_options o;
    struct pcap_port *pp;
    int error;

    error = parse_options(options, &o, err);
    if (error) {
        return error;
    }
    pp = calloc(1, sizeof *pp);
    if (!pp) {
        free(o.rx);
        free(o.tx);
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    wmutex_init(&pp->tx_mutex);
    pp->loop = o.loop;

    if (o.rx) {
        error = load_rx_file(pp, o.rx, err);
    }
    if (!error && pp->n_frames) {
        size_t longest = 0, n;

        for (size_t i = 0; i < pp->n_frames; i++) {
            if (pp->frames[i].len > longest) {
                longest = pp->frames[i].len;
            }
        }
        pp->buf_room = longest < PCAP_POOL_FRAME_MAX
                       ? longest : PCAP_POOL_FRAME_MAX;
        n = pp->loop || pp->n_frames > PCAP_POOL_SIZE
            ? PCAP_POOL_SIZE : pp->n_frames;
        pp->pool = pkt_pool_create(n, PKT_HEADROOM + pp->buf_room);
        if (!pp->pool) {
            errbuf_set(err, "out of memory for the receive buffers");
            error = -ENOMEM;
        }
    }
    if (!error && o.tx) {
        error = open_tx_file(pp, o.tx, err);
    }
    free(o.rx);
    free(o.tx);
    if (error) {
        pcap_port_destroy(pp);
        return error;
    }
    port->priv = pp;
    port->n_rxq = 1;
    return 0;
}

static void
pcap_port_close(struct port *port)
{
    pcap_port_destroy(port->priv);
    port->priv = NULL;
}

static int
pcap_port_rx(struct port *port, uint32_t qid, struct pkt_batch *batch)
{
    struct pcap_port *pp = port->priv;
    size_t n, want;

    (void) qid;
    if (!pp->n_frames || (!pp->loop && pp->next >= pp->n_frames)) {
        return 0;
    }
    want = pp->loop ? PKT_BATCH_MAX : pp->n_frames - pp->next;
    n = pkt_pool_get(pp->pool, batch, want);
    for (size_t i = 0; i < n; i++) {
        const struct pcap_frame *f = &pp->frames[pp->next];

        /* A frame too long for a pool buffer gets an ordinary packet. */
        batch->pkts[i] = packet_fill(batch->pkts[i], pp->bytes + f->ofs,
                                     f->len);
        if (!batch->pkts[i]) {
            /* Out of memory: receive the packets made so far; this frame
             * comes next time. */
            for (size_t j = i + 1; j < n; j++) {
                packet_free(batch->pkts[j]);
            }
            batch->n = (uint32_t) i;
            return (int) i;
        }
        pp->next++;
        if (pp->loop && pp->next == pp->n_frames) {
            pp->next = 0;
        }
    }
    return (int) n;
}

static int
pcap_port_tx(struct port *port, struct pkt_batch *batch)
{
    struct pcap_port *pp = port->priv;
    int dropped = 0;

    wmutex_lock(&pp->tx_mutex);
    if (!pp->dumper) {
        dropped = (int) batch->n;
    } else {
        struct pcap_pkthdr hdr;
        struct timeval now;

        gettimeofday(&now, NULL);
        for (uint32_t i = 0; i < batch->n; i++) {
            const struct packet *p = batch->pkts[i];
            uint32_t len = p->cutlen && p->cutlen < p->len
                           ? p->cutlen : p->len;

            hdr.ts = now;
            hdr.len = len;
            hdr.caplen = len < PCAP_TX_SNAPLEN ? len : PCAP_TX_SNAPLEN;
            pcap_dump((u_char *) pp->dumper, &hdr, p->data);
        }
        /* A write error shows here; which packets it lost is unknown. */
        if (pcap_dump_flush(pp->dumper)) {
            dropped = (int) batch->n;
        }
    }
    wmutex_unlock(&pp->tx_mutex);
    pkt_batch_free(batch);
    return dropped;
}

static int
pcap_port_rx_fd(struct port *port, uint32_t qid)
{
    (void) port;
    (void) qid;
    return -1;
}

static void
pcap_port_get_info(struct port *port, struct port_info *info)
{
    (void) port;
    info->mtu = PCAP_PORT_MTU;
}

static void
pcap_port_get_stats(struct port *port, struct port_stats *stats)
{
    struct pcap_port *pp = port->priv;

    stats->rx_errors += pp->rx_errors;
}

const struct port_class port_pcap_class = {
    .type = "pcap",
    .open = pcap_port_open,
    .close = pcap_port_close,
    .rx = pcap_port_rx,
    .tx = pcap_port_tx,
    .rx_fd = pcap_port_rx_fd,
    .get_info = pcap_port_get_info,
    .get_stats = pcap_port_get_stats,
};
