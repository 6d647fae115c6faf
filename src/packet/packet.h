/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_PACKET_PACKET_H
#define WEIR_PACKET_PACKET_H 1

/* Packet buffers and batches.
 *
 * What
 * ====
 *
 * 'struct packet' is one Ethernet frame in a buffer with room in front of
 * it (headroom) for headers that actions push (VLAN tags, MPLS labels, an
 * Ethernet header), plus the metadata the datapath keeps with it
 * ('struct pkt_metadata': in_port, priority, mark, recirc_id, dp_hash,
 * and the type of a packet without an Ethernet header)
 * and the offsets of its headers.  'struct pkt_batch' is up to
 * PKT_BATCH_MAX packets that travel through the datapath together: a port
 * receives a batch, the flow lookup splits it by flow, actions run on each
 * part, ports transmit batches.
 *
 * Design
 * ======
 *
 * A packet is one allocation: the struct, then 'alloc_len' bytes of
 * buffer.  'data' points inside the buffer; data - buffer is the
 * headroom, which starts at PKT_HEADROOM.  Pushing headers moves 'data'
 * back; when the headroom runs out, packet_push() reallocates the buffer
 * (the struct stays where it is).  Header offsets ('l3_ofs', 'l4_ofs',
 * 'mpls_ofs') are relative to 'data' and are PKT_OFS_NONE when the header
 * is absent; they are filled by packet_parse() and kept current by the
 * code that moves headers.
 *
 * Thread-safety
 * =============
 *
 * A packet or batch belongs to one thread at a time.
 *
 * Ownership
 * =========
 *
 * Whoever holds a packet frees it, hands it on, or queues it; a function
 * given a batch consumes every packet in it (house style: no silent
 * drops).  packet_free(NULL) is a no-op.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet/flow-extract.h"

#define PKT_HEADROOM 128        /* Initial room for pushed headers. */
#define PKT_BATCH_MAX 32        /* Packets in one batch. */
#define PKT_OFS_NONE UINT16_MAX /* Header absent. */

struct packet {
    uint8_t *data;              /* First byte of the frame. */
    uint32_t len;               /* Bytes at 'data'. */
    uint32_t alloc_len;         /* Bytes in the buffer at 'buf'. */
    uint8_t *buf;               /* Start of the buffer (headroom first). */
    struct pkt_metadata md;     /* in_port, priority, mark, recirc, hash. */
    uint32_t cutlen;            /* Bytes trunc() removes at output; 0 none.
                                 * Output sends min(len, cutlen) bytes. */
    uint16_t mpls_ofs;          /* First MPLS label, or PKT_OFS_NONE. */
    uint16_t l3_ofs;            /* IPv4/IPv6/ARP header, or PKT_OFS_NONE. */
    uint16_t l4_ofs;            /* TCP/UDP/SCTP/ICMP header, or NONE. */
    uint16_t seq;               /* Position in its input batch: the
                                 * datapath queues upcalls in this order. */
    struct pkt_pool *pool;      /* Where packet_free() returns it; NULL
                                 * for a packet from packet_create(). */
};

struct pkt_batch {
    uint32_t n;                         /* Packets in 'pkts'. */
    struct packet *pkts[PKT_BATCH_MAX];
};

/* Returns a new packet holding a copy of the 'len' bytes at 'data', with
 * PKT_HEADROOM bytes of headroom, zero metadata and no offsets parsed.
 * Returns: the packet, or NULL if out of memory. */
struct packet *packet_create(const void *data, size_t len);

/* Returns a copy of 'p' (bytes, metadata, offsets, cutlen), or NULL if out
 * of memory. */
struct packet *packet_clone(const struct packet *p);

/* Puts a copy of the 'len' bytes at 'data' into 'p', an empty packet of
 * a pool (pkt_pool_get()), and returns it; if its buffer is too small,
 * frees 'p' and returns a packet_create() copy instead (NULL if out of
 * memory).  For ports that copy received frames into pooled buffers. */
struct packet *packet_fill(struct packet *p, const void *data, size_t len);

/* Frees 'p' (may be NULL). */
void packet_free(struct packet *p);

/* Makes room for 'n' more bytes in front of 'data' (reallocating the
 * buffer if the headroom is too small), moves 'data' back by 'n' and
 * returns it; 'len' grows by 'n'.  Offsets are not adjusted.
 * Returns: the new 'data', or NULL if out of memory ('p' unchanged). */
uint8_t *packet_push(struct packet *p, size_t n);

/* Drops 'n' bytes from the front ('n' <= 'len'); offsets not adjusted. */
void packet_pull(struct packet *p, size_t n);

/* Fills 'key' from the packet's bytes and metadata (fkey_extract()) and
 * sets its header offsets: an offset is set exactly when the key holds
 * fields read from that header, which is then complete in the frame
 * (struct fkey_layout in packet/flow-extract.h has the rules), and is
 * PKT_OFS_NONE otherwise, for all three on -EINVAL.  A packet whose
 * md.l3_type is set has no Ethernet header and is parsed as an L3 packet
 * of that type (fkey_extract()).
 * Returns: 0, or -EINVAL for a frame shorter than 14 bytes (or an L3
 * packet of a VLAN type). */
int packet_parse(struct packet *p, struct flow_key *key);

/* A pool of preallocated packets, for ports that receive at a high rate
 * (no allocation per packet).  A pooled packet has a fixed buffer of
 * 'buf_size' bytes including PKT_HEADROOM; packet_push() beyond it
 * fails.  packet_free() and pkt_batch_free() return pooled packets to
 * their pool from any thread (the pool has a mutex, taken once per batch
 * by pkt_batch_free() and pkt_pool_get()).  pkt_pool_destroy() may run
 * while packets are out: the memory goes when the last one comes back. */
struct pkt_pool;

/* Creates a pool of 'n' packets of 'buf_size' bytes each.
 * Returns: the pool, or NULL if out of memory or if 'buf_size' is not more
 * than PKT_HEADROOM. */
struct pkt_pool *pkt_pool_create(size_t n, size_t buf_size);

/* Frees 'pool' (NULL is a no-op).  If packets are still out, the pool is
 * freed when the last one comes back (through packet_free() or
 * pkt_batch_free(), on whatever thread); no pkt_pool_get() may follow. */
void pkt_pool_destroy(struct pkt_pool *pool);

/* Moves up to 'n' free packets from 'pool' into 'b' (appended), each with
 * 'len' 0, 'data' after PKT_HEADROOM, zero metadata, no offsets.
 * Returns: the number added (0 if the pool is empty). */
size_t pkt_pool_get(struct pkt_pool *pool, struct pkt_batch *b, size_t n);

/* Empties 'b' without touching packets (they must have moved on). */
static inline void
pkt_batch_init(struct pkt_batch *b)
{
    b->n = 0;
}

/* Adds 'p' to 'b', which must not be full. */
static inline void
pkt_batch_add(struct pkt_batch *b, struct packet *p)
{
    b->pkts[b->n++] = p;
}

/* Frees every packet in 'b' and empties it. */
void pkt_batch_free(struct pkt_batch *b);

#endif /* packet/packet.h */
