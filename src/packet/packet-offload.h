/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_PACKET_PACKET_OFFLOAD_H
#define WEIR_PACKET_PACKET_OFFLOAD_H 1

/* Receive offloads in software: partial checksums and GSO super-packets.
 *
 * What
 * ====
 *
 * A Linux packet socket with PACKET_VNET_HDR (or a TAP device with
 * IFF_VNET_HDR) hands over frames the way the kernel holds them, each
 * with a 'struct virtio_net_hdr' that says what is left to do:
 *
 *   - VIRTIO_NET_HDR_F_NEEDS_CSUM: one checksum is partial.  The kernel
 *     has put the pseudo-header sum in the field 'csum_offset' bytes after
 *     'csum_start'; the checksum of everything from 'csum_start' to the
 *     end of the frame goes there.
 *   - gso_type TCPV4, TCPV6 (either with the ECN bit) or UDP_L4: the frame
 *     is a super-packet, up to 64 KiB or more, to be cut into segments of
 *     at most 'gso_size' bytes of TCP or UDP payload each.
 *
 * Seed 001 "Packet Format" wants neither in the datapath: a received
 * packet is fully checksummed and no larger than the MTU.  This module
 * turns one such frame into the packets the datapath wants.  It also puts
 * back a VLAN tag that the kernel took out of the frame into metadata
 * (TPACKET_V3's tp_vlan_tci), because in the datapath VLAN tags are
 * 802.1Q headers in the packet.
 *
 * Design
 * ======
 *
 * poff_frame_init() reads the virtio-net header and the frame's own
 * headers, checks everything it will rely on, and fills a 'struct
 * poff_frame': a recipe, which says how many packets ("outputs") the
 * frame becomes and how to write each of them.  It does not touch the
 * frame, which may be in a ring shared with the kernel; poff_out_len()
 * and poff_out_write() produce output 'i' into a buffer the caller gives,
 * and poff_emit() produces the next outputs into pooled packets, as many
 * as fit in a batch, remembering where it stopped.  A port can thus hand
 * the 45 segments of a 64 KiB super-packet to the datapath over several
 * receive calls without copying the super-packet anywhere first.
 *
 * The rules, those of the kernel's own software GSO (tcp_gso_segment(),
 * __udp_gso_segment(), inet_gso_segment()):
 *
 *   - Every segment starts with a copy of all the headers (Ethernet, up
 *     to two VLAN tags, IPv4 with options or IPv6 with extension headers,
 *     TCP with options or UDP), then the next 'gso_size' bytes of payload
 *     (the last segment gets what is left).
 *   - IPv4: total length for the segment, identification incremented by
 *     one per segment (modulo 2^16), header checksum recomputed.  IPv6:
 *     payload length for the segment.  The lengths the super-packet
 *     carries are ignored: they are rewritten in every segment, and a
 *     super-packet of more than 64 KiB (BIG TCP) has none that fits.
 *   - TCP: sequence number advanced by the payload of the segments
 *     before; FIN and PSH only on the last segment, CWR only on the
 *     first; checksum computed from scratch over the pseudo header and
 *     the segment.  UDP: length for the segment, checksum computed from
 *     scratch (0 is written as 0xffff).
 *   - The header lengths come from the frame itself.  The vnet header's
 *     'hdr_len' is only a hint (the kernel sets it to the length of the
 *     skb's linear part) and is not used.  When NEEDS_CSUM comes with a
 *     super-packet, 'csum_start' must be where the frame's TCP or UDP
 *     header is, and 'csum_offset' that header's checksum field.
 *   - A partial checksum on a frame that is not a super-packet is
 *     completed as the kernel's skb_checksum_help() does: the Internet
 *     checksum from 'csum_start' to the end, 0 written as 0xffff.  The
 *     exception is SCTP, whose checksum is a CRC32c that the kernel also
 *     leaves partial (csum_not_inet) and reports with the same flag: when
 *     'csum_start' is the frame's SCTP header and 'csum_offset' is 8, the
 *     CRC32c is computed instead.
 *
 * Offsets in the virtio-net header are relative to the frame as given,
 * without the tag to put back; that tag goes after the Ethernet addresses
 * of every output, and the outputs' other headers move by 4 bytes.
 *
 * What is refused.  Every field of the vnet header and every header of
 * the frame is bounds-checked before use; nothing is read or written
 * outside the frame or the output buffer.  poff_frame_init() returns
 * -EINVAL for a malformed frame or vnet header: a frame shorter than an
 * Ethernet header; a checksum field outside the frame or a 'csum_start'
 * inside the Ethernet header; a super-packet whose headers are truncated,
 * whose network or transport protocol does not match 'gso_type' (TCPV4
 * on a UDP packet, TCPV6 on IPv4, ...), that is an IP fragment, that has
 * no payload, whose 'gso_size' is 0 or so large that a segment's length
 * fields would overflow, whose NEEDS_CSUM offsets disagree with its
 * headers, or whose ECN bit is set without TCP.  It returns -EOPNOTSUPP
 * for a super-packet it cannot segment: gso_type UDP (UFO, which needs
 * IP fragmentation), any gso_type it does not know, and IPv6 extension
 * headers that change the pseudo header (a routing header with segments
 * left) or are not plain options (AH, ESP).  A receiving port drops such
 * a frame and counts it in rx_errors.  Flags other than NEEDS_CSUM
 * (DATA_VALID, RSC_INFO) are ignored.
 *
 * The vnet header's 16-bit fields are in the host's byte order: the
 * legacy virtio rule, which is what packet sockets use and TAP devices
 * use by default.
 *
 * Thread-safety
 * =============
 *
 * Reentrant: a 'struct poff_frame' belongs to one thread at a time, and
 * the frame it describes must not change while it is in use.
 *
 * Ownership
 * =========
 *
 * A 'struct poff_frame' points into the caller's frame and owns nothing;
 * the frame must stay in place until the last output is written.  Packets
 * poff_emit() adds to a batch belong to the batch's owner.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>

#include "lib/byteorder.h"

struct pkt_batch;
struct pkt_pool;

/* Older kernel headers (before Linux 6.2) lack USO. */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/* What becomes of a frame. */
enum poff_kind {
    POFF_PLAIN,                 /* One output: the frame as it is. */
    POFF_CSUM,                  /* One output, one checksum completed. */
    POFF_GSO,                   /* One output per segment. */
};

/* How one received frame turns into packets (see the essay above).  Filled
 * by poff_frame_init(); the caller reads 'n_out' and 'next' only. */
struct poff_frame {
    const uint8_t *data;        /* The frame as received. */
    uint32_t len;               /* Its length. */
    be16 vlan_tpid;             /* Tag to put back after the addresses; */
    be16 vlan_tci;              /* 'vlan_tpid' 0: none. */
    enum poff_kind kind;
    uint32_t n_out;             /* Outputs: 1, or the segments. */
    uint32_t next;              /* Next output poff_emit() writes. */

    /* POFF_CSUM: where the checksum is, relative to 'data'. */
    uint16_t csum_start;
    uint16_t csum_offset;
    bool csum_crc32c;           /* SCTP: CRC32c, not the Internet sum. */

    /* POFF_GSO: the super-packet's headers, relative to 'data'. */
    uint16_t l3_ofs;            /* IPv4 or IPv6 header. */
    uint16_t l4_ofs;            /* TCP or UDP header. */
    uint16_t hdr_len;           /* All headers: payload starts here. */
    uint16_t gso_size;          /* Payload bytes per segment. */
    bool ipv6;                  /* IPv6 (true) or IPv4. */
    bool tcp;                   /* TCP (true) or UDP. */
};

/* Reads the virtio-net header '*vh' that came with the 'len'-byte frame
 * at 'data' and fills '*f' with the recipe for its outputs.  'vlan_tpid'
 * and 'vlan_tci' (as stored: network byte order) give a VLAN tag to put
 * back into every output after the Ethernet addresses; 'vlan_tpid' 0 for
 * none.  The frame is not changed and must stay in place while 'f' is in
 * use.
 * Returns: 0; -EINVAL for a malformed frame or vnet header; -EOPNOTSUPP
 * for a super-packet this module cannot segment ('f' is then unusable). */
int poff_frame_init(struct poff_frame *f, const struct virtio_net_hdr *vh,
                    const void *data, size_t len, be16 vlan_tpid,
                    be16 vlan_tci);

/* Returns true once every output of 'f' has been emitted. */
static inline bool
poff_frame_done(const struct poff_frame *f)
{
    return f->next >= f->n_out;
}

/* Returns the length of output 'i' (< f->n_out) of 'f'. */
size_t poff_out_len(const struct poff_frame *f, uint32_t i);

/* Writes output 'i' (< f->n_out) of 'f', poff_out_len() bytes, to
 * 'out'. */
void poff_out_write(const struct poff_frame *f, uint32_t i, uint8_t *out);

/* Writes the next outputs of 'f' into packets appended to 'batch', until
 * 'f' is done or 'batch' is full.  Packets come from 'pool' when one is
 * large enough (pkt_pool_get()); an output larger than the pool's buffers,
 * and every output when 'pool' is NULL, gets a packet of its own.  Stops
 * early, leaving 'f' to resume later, when the pool is empty or memory
 * runs out.
 * Returns: the number of packets appended (0 if none could be had). */
uint32_t poff_emit(struct poff_frame *f, struct pkt_pool *pool,
                   struct pkt_batch *batch);

/* Completes, in place, the partial checksum that '*vh' describes in the
 * 'len'-byte frame at 'frame' (the POFF_CSUM rule above).  For a frame
 * that needs nothing, does nothing.
 * Returns: 0; -EINVAL for a frame shorter than an Ethernet header or
 * offsets that do not fit it (as poff_frame_init() would say);
 * -EOPNOTSUPP if '*vh' says the frame is a super-packet (use
 * poff_frame_init()). */
int poff_csum_complete(const struct virtio_net_hdr *vh, void *frame,
                       size_t len);

#endif /* packet/packet-offload.h */
