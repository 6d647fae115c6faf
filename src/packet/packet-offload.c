/* SPDX-License-Identifier: Apache-2.0 */
/* Receive offloads in software; the rules are in packet-offload.h.
 *
 * poff_frame_init() does all the checking, so that writing an output
 * needs none: once a frame is accepted, every offset in its recipe is
 * inside the frame, every segment's length fields fit in 16 bits, and
 * each output's length is known in advance.  Headers are read and written
 * with the byte-order helpers of lib/byteorder.h (memcpy), since a frame
 * in a packet socket's ring, or a header after one VLAN tag, can start at
 * any byte. */

#include "packet/packet-offload.h"

#include <errno.h>
#include <string.h>

#include "packet/flow-key.h"
#include "packet/packet-edit.h"
#include "packet/packet.h"

/* Header field offsets and lengths (RFC 791, 8200, 793, 768, 9260). */
#define ETH_ADDRS_LEN  (2 * ETH_ADDR_LEN)  /* Where a tag goes. */
#define ETH_LEN        PEDIT_ETH_LEN
#define VLAN_LEN       PEDIT_VLAN_LEN

#define IP4_TOT_LEN    2
#define IP4_ID         4
#define IP4_FRAG_OFF   6
#define IP4_PROTO      9
#define IP4_CSUM       10
#define IP4_MIN_LEN    20
#define IP4_MF         0x2000   /* "More fragments" bit of frag_off. */
#define IP4_OFFSET     0x1fff   /* Fragment offset bits of frag_off. */

#define IP6_PLEN       4
#define IP6_NEXT       6
#define IP6_LEN        40
#define IP6_MAX_EXTS   8        /* Extension headers walked at most. */

#define TCP_SEQ        4
#define TCP_DOFF       12       /* Data offset: high 4 bits, words. */
#define TCP_FLAGS      13
#define TCP_CSUM       16
#define TCP_MIN_LEN    20
#define TCP_FIN        0x01
#define TCP_PSH        0x08
#define TCP_CWR        0x80

#define UDP_LEN_FIELD  4
#define UDP_CSUM       6
#define UDP_HDR_LEN    8

#define SCTP_CSUM      8
#define SCTP_HDR_LEN   12

/* IPv6 next-header values the extension walk knows. */
#define NEXT_HOP       0
#define NEXT_ROUTING   43
#define NEXT_FRAGMENT  44
#define NEXT_ESP       50
#define NEXT_AUTH      51
#define NEXT_DEST      60

#define GSO_TYPE_MASK  ((uint8_t) ~VIRTIO_NET_HDR_GSO_ECN)

/* ---- Parsing the frame's own headers. ---- */

/* Where a frame's network and transport headers are. */
struct l4_loc {
    uint16_t l3_ofs;            /* IPv4 or IPv6 header. */
    uint16_t l4_ofs;            /* Transport header (not checked). */
    uint8_t proto;              /* Transport protocol. */
    bool ipv6;
};

/* Finds the IPv4 header of the 'len'-byte frame 'd' and its transport
 * header, which starts after the options.  Returns 0, or -EINVAL for a
 * truncated header, a bad version or IHL, or a fragment. */
static int
find_l4_ipv4(const uint8_t *d, size_t len, size_t l3, struct l4_loc *loc)
{
    size_t ihl;

    if (len - l3 < IP4_MIN_LEN || d[l3] >> 4 != 4) {
        return -EINVAL;
    }
    ihl = (size_t) (d[l3] & 0x0f) * 4;
    if (ihl < IP4_MIN_LEN || len - l3 < ihl
        || ntohs(load_u16(d + l3 + IP4_FRAG_OFF)) & (IP4_MF | IP4_OFFSET)) {
        return -EINVAL;
    }
    loc->l3_ofs = (uint16_t) l3;
    loc->l4_ofs = (uint16_t) (l3 + ihl);
    loc->proto = d[l3 + IP4_PROTO];
    loc->ipv6 = false;
    return 0;
}

/* Finds the IPv6 header of the 'len'-byte frame 'd' and its transport
 * header, after the extension headers that are plain options (hop-by-hop,
 * destination options, a routing header with no segments left).
 * Returns 0; -EINVAL for a truncated header, a bad version, too many
 * extension headers or a fragment; -EOPNOTSUPP for a routing header with
 * segments left (the pseudo header's destination is then elsewhere), AH
 * or ESP. */
static int
find_l4_ipv6(const uint8_t *d, size_t len, size_t l3, struct l4_loc *loc)
{
    size_t ofs = l3 + IP6_LEN;
    uint8_t next;

    if (len - l3 < IP6_LEN || d[l3] >> 4 != 6) {
        return -EINVAL;
    }
    next = d[l3 + IP6_NEXT];
    for (int i = 0; ; i++) {
        size_t ext_len;

        if (next == NEXT_FRAGMENT) {
            return -EINVAL;
        }
        if (next == NEXT_AUTH || next == NEXT_ESP) {
            return -EOPNOTSUPP;
        }
        if (next != NEXT_HOP && next != NEXT_DEST && next != NEXT_ROUTING) {
            break;
        }
        /* Each of these starts with next header and a length in 8-byte
         * units, not counting the first 8; a routing header's fourth byte
         * is its segments left. */
        if (i == IP6_MAX_EXTS || len - ofs < 8) {
            return -EINVAL;
        }
        ext_len = ((size_t) d[ofs + 1] + 1) * 8;
        if (len - ofs < ext_len) {
            return -EINVAL;
        }
        if (next == NEXT_ROUTING && d[ofs + 3]) {
            return -EOPNOTSUPP;
        }
        next = d[ofs];
        ofs += ext_len;
    }
    loc->l3_ofs = (uint16_t) l3;
    loc->l4_ofs = (uint16_t) ofs;
    loc->proto = next;
    loc->ipv6 = true;
    return 0;
}

/* Finds the network and transport headers of the 'len'-byte frame 'd':
 * an Ethernet header, up to two VLAN tags (802.1Q or 802.1ad), then IPv4
 * or IPv6.  Returns 0, -EINVAL (not IP, or a malformed header) or
 * -EOPNOTSUPP (see find_l4_ipv6()). */
static int
find_l4(const uint8_t *d, size_t len, struct l4_loc *loc)
{
    size_t ofs = ETH_ADDRS_LEN;
    be16 type;

    if (len < ETH_LEN) {
        return -EINVAL;
    }
    type = load_u16(d + ofs);
    for (int i = 0; i < FKEY_MAX_VLANS && fkey_eth_type_is_vlan(type); i++) {
        if (len - ofs < VLAN_LEN + 2) {
            return -EINVAL;
        }
        ofs += VLAN_LEN;
        type = load_u16(d + ofs);
    }
    ofs += 2;
    if (type == htons(ETH_TYPE_IP)) {
        return find_l4_ipv4(d, len, ofs, loc);
    } else if (type == htons(ETH_TYPE_IPV6)) {
        return find_l4_ipv6(d, len, ofs, loc);
    }
    return -EINVAL;
}

/* ---- Checksums. ---- */

/* Folds a 32-bit sum of 16-bit words into 16 bits with end-around
 * carry. */
static uint16_t
csum_fold(uint32_t sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t) sum;
}

/* Returns the one's complement sum (folded, not complemented) of 'n'
 * bytes at 'p', in memory order, from pedit_csum(). */
static uint16_t
csum_sum(const uint8_t *p, size_t n)
{
    return (uint16_t) ~pedit_csum(p, n);
}

/* Returns the sum of the TCP/UDP pseudo header for the IPv4 or IPv6
 * ('ipv6') header at 'ip', transport protocol 'proto' and a transport
 * length of 'l4_len' bytes.  Words are summed as stored; the protocol and
 * the length are converted to network order to match. */
static uint32_t
pseudo_sum(const uint8_t *ip, bool ipv6, uint8_t proto, uint32_t l4_len)
{
    const uint8_t *addrs = ip + (ipv6 ? 8 : 12);
    size_t n = ipv6 ? 32 : 8;
    uint32_t sum = 0;

    for (size_t i = 0; i < n; i += 2) {
        sum += load_u16(addrs + i);
    }
    sum += htons(proto);
    sum += htons((uint16_t) (l4_len >> 16));
    sum += htons((uint16_t) l4_len);
    return sum;
}

/* Computes, from scratch, the checksum of the 'l4_len'-byte TCP or UDP
 * packet at 'l4' under the IP header 'ip', and stores it at 'l4 +
 * csum_ofs'.  A UDP checksum of 0 is stored as 0xffff (0 means "none");
 * a TCP one stays 0, as the kernel's TCP segmentation leaves it. */
static void
l4_csum_fill(const uint8_t *ip, bool ipv6, uint8_t proto, uint8_t *l4,
             size_t l4_len, size_t csum_ofs)
{
    uint32_t sum = pseudo_sum(ip, ipv6, proto, (uint32_t) l4_len);
    uint16_t csum;

    store_u16(l4 + csum_ofs, 0);
    sum += csum_sum(l4, l4_len);
    csum = (uint16_t) ~csum_fold(sum);
    store_u16(l4 + csum_ofs,
              csum || proto != IPPROTO_UDP ? csum : 0xffff);
}

/* Completes a partial checksum in the 'len'-byte frame 'd': the field at
 * 'start + offset' holds the pseudo-header sum; the Internet checksum from
 * 'start' to the end replaces it (0 as 0xffff, as skb_checksum_help()
 * does).  With 'crc32c', the SCTP CRC32c from 'start' replaces it
 * instead.  The caller has checked the offsets. */
static void
csum_complete(uint8_t *d, size_t len, size_t start, size_t offset,
              bool crc32c)
{
    if (crc32c) {
        uint32_t crc = pedit_sctp_csum(d + start, len - start);

        memcpy(d + start + offset, &crc, sizeof crc);
    } else {
        uint16_t csum = (uint16_t) ~csum_sum(d + start, len - start);

        store_u16(d + start + offset, csum ? csum : 0xffff);
    }
}

/* Checks the NEEDS_CSUM offsets '*vh' gives for the 'len'-byte frame 'd'
 * and says whether the checksum is SCTP's CRC32c.  Returns 0 or
 * -EINVAL. */
static int
csum_check(const struct virtio_net_hdr *vh, const uint8_t *d, size_t len,
           bool *crc32c)
{
    size_t start = vh->csum_start, offset = vh->csum_offset;
    struct l4_loc loc;

    if (start < ETH_LEN || start + offset + 2 > len) {
        return -EINVAL;
    }
    *crc32c = (!find_l4(d, len, &loc) && loc.proto == IPPROTO_SCTP
               && loc.l4_ofs == start && offset == SCTP_CSUM
               && len - start >= SCTP_HDR_LEN);
    return 0;
}

int
poff_csum_complete(const struct virtio_net_hdr *vh, void *frame, size_t len)
{
    bool crc32c;
    int error;

    if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
        return -EOPNOTSUPP;
    }
    if (len < ETH_LEN) {
        return -EINVAL;
    }
    if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
        return 0;
    }
    error = csum_check(vh, frame, len, &crc32c);
    if (!error) {
        csum_complete(frame, len, vh->csum_start, vh->csum_offset, crc32c);
    }
    return error;
}

/* ---- Reading a frame into a recipe. ---- */

/* Checks that 'gso_type' (without the ECN bit) is one this module
 * segments and that the ECN bit goes with TCP.  Returns 0, -EINVAL or
 * -EOPNOTSUPP. */
static int
gso_type_check(uint8_t gso_type)
{
    uint8_t base = gso_type & GSO_TYPE_MASK;
    bool ecn = gso_type & VIRTIO_NET_HDR_GSO_ECN;

    switch (base) {
    case VIRTIO_NET_HDR_GSO_NONE:       /* ECN alone. */
        return -EINVAL;
    case VIRTIO_NET_HDR_GSO_TCPV4:
    case VIRTIO_NET_HDR_GSO_TCPV6:
        return 0;
    case VIRTIO_NET_HDR_GSO_UDP_L4:
        return ecn ? -EINVAL : 0;
    case VIRTIO_NET_HDR_GSO_UDP:        /* UFO: IP fragmentation. */
    default:
        return -EOPNOTSUPP;
    }
}

/* Returns true if the protocols at 'loc' are those that 'base' (a
 * gso_type without the ECN bit, which gso_type_check() accepted) names:
 * TCP over IPv4, TCP over IPv6, or UDP over either. */
static bool
gso_protocols_match(uint8_t base, const struct l4_loc *loc)
{
    switch (base) {
    case VIRTIO_NET_HDR_GSO_TCPV4:
        return !loc->ipv6 && loc->proto == IPPROTO_TCP;
    case VIRTIO_NET_HDR_GSO_TCPV6:
        return loc->ipv6 && loc->proto == IPPROTO_TCP;
    default:
        return loc->proto == IPPROTO_UDP;
    }
}

/* Fills the POFF_GSO part of 'f' (whose 'data' and 'len' are set) from
 * the super-packet's headers and '*vh'.  Returns 0, -EINVAL or
 * -EOPNOTSUPP (see packet-offload.h). */
static int
gso_init(struct poff_frame *f, const struct virtio_net_hdr *vh)
{
    uint8_t base = vh->gso_type & GSO_TYPE_MASK;
    const uint8_t *d = f->data;
    size_t len = f->len, hdr_len, payload, seg_max, l3_len;
    struct l4_loc loc;
    int error;

    error = gso_type_check(vh->gso_type);
    if (error) {
        return error;
    }
    if (!vh->gso_size) {
        return -EINVAL;
    }
    error = find_l4(d, len, &loc);
    if (error) {
        return error;
    }

    if (!gso_protocols_match(base, &loc)) {
        return -EINVAL;
    }

    /* The transport header, whole, and at least one byte of payload. */
    if (loc.proto == IPPROTO_TCP) {
        size_t doff;

        if (len - loc.l4_ofs < TCP_MIN_LEN) {
            return -EINVAL;
        }
        doff = (size_t) (d[loc.l4_ofs + TCP_DOFF] >> 4) * 4;
        if (doff < TCP_MIN_LEN || len - loc.l4_ofs < doff) {
            return -EINVAL;
        }
        hdr_len = loc.l4_ofs + doff;
    } else {
        if (len - loc.l4_ofs < UDP_HDR_LEN) {
            return -EINVAL;
        }
        hdr_len = loc.l4_ofs + UDP_HDR_LEN;
    }
    if (hdr_len >= len || hdr_len > UINT16_MAX) {
        return -EINVAL;
    }

    /* A partial checksum must be the transport header's. */
    if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM
        && (vh->csum_start != loc.l4_ofs
            || vh->csum_offset != (loc.proto == IPPROTO_TCP
                                   ? TCP_CSUM : UDP_CSUM))) {
        return -EINVAL;
    }

    /* The largest segment's IP length field (which covers the UDP length
     * field too) must fit in 16 bits. */
    payload = len - hdr_len;
    seg_max = payload < vh->gso_size ? payload : vh->gso_size;
    l3_len = hdr_len - loc.l3_ofs - (loc.ipv6 ? IP6_LEN : 0);
    if (l3_len + seg_max > UINT16_MAX) {
        return -EINVAL;
    }

    f->kind = POFF_GSO;
    f->l3_ofs = loc.l3_ofs;
    f->l4_ofs = loc.l4_ofs;
    f->hdr_len = (uint16_t) hdr_len;
    f->gso_size = vh->gso_size;
    f->ipv6 = loc.ipv6;
    f->tcp = loc.proto == IPPROTO_TCP;
    f->n_out = (uint32_t) (((uint64_t) payload + vh->gso_size - 1)
                           / vh->gso_size);
    return 0;
}

int
poff_frame_init(struct poff_frame *f, const struct virtio_net_hdr *vh,
                const void *data, size_t len, be16 vlan_tpid,
                be16 vlan_tci)
{
    memset(f, 0, sizeof *f);
    if (len < ETH_LEN || len > UINT32_MAX - VLAN_LEN) {
        return -EINVAL;
    }
    f->data = data;
    f->len = (uint32_t) len;
    f->vlan_tpid = vlan_tpid;
    f->vlan_tci = vlan_tpid ? vlan_tci : 0;
    f->n_out = 1;

    if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
        return gso_init(f, vh);
    }
    if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        int error = csum_check(vh, f->data, len, &f->csum_crc32c);

        if (error) {
            return error;
        }
        f->kind = POFF_CSUM;
        f->csum_start = vh->csum_start;
        f->csum_offset = vh->csum_offset;
        return 0;
    }
    f->kind = POFF_PLAIN;
    return 0;
}

/* ---- Writing outputs. ---- */

/* Returns the bytes of the tag 'f' puts back: 0 or 4. */
static size_t
tag_len(const struct poff_frame *f)
{
    return f->vlan_tpid ? VLAN_LEN : 0;
}

/* Returns the payload bytes of segment 'i' of a super-packet. */
static size_t
seg_payload(const struct poff_frame *f, uint32_t i)
{
    size_t payload = f->len - f->hdr_len;
    size_t ofs = (size_t) i * f->gso_size;
    size_t left = payload - ofs;

    return left < f->gso_size ? left : f->gso_size;
}

size_t
poff_out_len(const struct poff_frame *f, uint32_t i)
{
    if (f->kind == POFF_GSO) {
        return f->hdr_len + seg_payload(f, i) + tag_len(f);
    }
    return f->len + tag_len(f);
}

/* Copies the first 'n' (>= 12) bytes of the frame to 'out', with the tag
 * to put back, if any, after the Ethernet addresses.  Returns the bytes
 * written. */
static size_t
copy_with_tag(const struct poff_frame *f, uint8_t *out, size_t n)
{
    if (!f->vlan_tpid) {
        memcpy(out, f->data, n);
        return n;
    }
    memcpy(out, f->data, ETH_ADDRS_LEN);
    store_u16(out + ETH_ADDRS_LEN, f->vlan_tpid);
    store_u16(out + ETH_ADDRS_LEN + 2, f->vlan_tci);
    memcpy(out + ETH_ADDRS_LEN + VLAN_LEN, f->data + ETH_ADDRS_LEN,
           n - ETH_ADDRS_LEN);
    return n + VLAN_LEN;
}

/* Rewrites the IPv4 or IPv6 header at 'ip' of segment 'i', whose
 * network-layer payload (transport header and data) is 'l4_len' bytes. */
static void
seg_fix_ip(const struct poff_frame *f, uint32_t i, uint8_t *ip,
           size_t l4_len)
{
    size_t ext_len = f->l4_ofs - f->l3_ofs;     /* IP header, options. */

    if (f->ipv6) {
        store_u16(ip + IP6_PLEN, htons((uint16_t) (ext_len - IP6_LEN
                                                   + l4_len)));
        return;
    }
    store_u16(ip + IP4_TOT_LEN, htons((uint16_t) (ext_len + l4_len)));
    store_u16(ip + IP4_ID,
              htons((uint16_t) (ntohs(load_u16(ip + IP4_ID)) + i)));
    store_u16(ip + IP4_CSUM, 0);
    store_u16(ip + IP4_CSUM, pedit_csum(ip, ext_len));
}

/* Rewrites the TCP header at 'th' of segment 'i' (sequence number, flags;
 * not the checksum). */
static void
seg_fix_tcp(const struct poff_frame *f, uint32_t i, uint8_t *th)
{
    uint32_t seq = ntohl(load_u32(th + TCP_SEQ));
    uint8_t flags = th[TCP_FLAGS];

    store_u32(th + TCP_SEQ, htonl(seq + (uint32_t) ((uint64_t) i
                                                    * f->gso_size)));
    if (i > 0) {
        flags &= (uint8_t) ~TCP_CWR;
    }
    if (i + 1 < f->n_out) {
        flags &= (uint8_t) ~(TCP_FIN | TCP_PSH);
    }
    th[TCP_FLAGS] = flags;
}

/* Writes segment 'i' of a super-packet to 'out'. */
static void
seg_write(const struct poff_frame *f, uint32_t i, uint8_t *out)
{
    size_t tag = tag_len(f);
    size_t pl = seg_payload(f, i);
    size_t n = copy_with_tag(f, out, f->hdr_len);
    uint8_t *ip = out + f->l3_ofs + tag;
    uint8_t *l4 = out + f->l4_ofs + tag;
    size_t l4_len = f->hdr_len - f->l4_ofs + pl;

    memcpy(out + n, f->data + f->hdr_len + (size_t) i * f->gso_size, pl);
    seg_fix_ip(f, i, ip, l4_len);
    if (f->tcp) {
        seg_fix_tcp(f, i, l4);
        l4_csum_fill(ip, f->ipv6, IPPROTO_TCP, l4, l4_len, TCP_CSUM);
    } else {
        store_u16(l4 + UDP_LEN_FIELD, htons((uint16_t) l4_len));
        l4_csum_fill(ip, f->ipv6, IPPROTO_UDP, l4, l4_len, UDP_CSUM);
    }
}

void
poff_out_write(const struct poff_frame *f, uint32_t i, uint8_t *out)
{
    size_t n;

    if (f->kind == POFF_GSO) {
        seg_write(f, i, out);
        return;
    }
    n = copy_with_tag(f, out, f->len);
    if (f->kind == POFF_CSUM) {
        csum_complete(out, n, f->csum_start + tag_len(f), f->csum_offset,
                      f->csum_crc32c);
    }
}

/* Returns a packet of 'len' bytes, for the caller to fill, with
 * PKT_HEADROOM in front when 'len' is more than that; NULL if out of
 * memory.  packet.h has no constructor that does not copy, so an empty
 * packet is grown (a second allocation); this is the rare path, for
 * outputs larger than a pool's buffers. */
static struct packet *
packet_alloc_len(size_t len)
{
    struct packet *p = packet_create(NULL, 0);

    if (p && !packet_push(p, len)) {
        packet_free(p);
        return NULL;
    }
    return p;
}

uint32_t
poff_emit(struct poff_frame *f, struct pkt_pool *pool,
          struct pkt_batch *batch)
{
    uint32_t added = 0;

    while (!poff_frame_done(f) && batch->n < PKT_BATCH_MAX) {
        uint32_t start = batch->n;
        size_t want = f->n_out - f->next;
        size_t got;

        if (want > PKT_BATCH_MAX - start) {
            want = PKT_BATCH_MAX - start;
        }
        /* Pooled packets land in the batch's slots from 'start' on;
         * without a pool, the slots are filled below. */
        got = pool ? pkt_pool_get(pool, batch, want) : want;
        if (!got) {
            break;                      /* The pool is dry. */
        }
        for (size_t k = 0; k < got; k++) {
            struct packet *p = pool ? batch->pkts[start + k] : NULL;
            size_t len = poff_out_len(f, f->next);

            if (!p || len > p->alloc_len - (size_t) (p->data - p->buf)) {
                struct packet *big = packet_alloc_len(len);

                if (!big) {
                    /* Out of memory: keep what is written, give back the
                     * pooled packets not yet used. */
                    for (size_t j = k; pool && j < got; j++) {
                        packet_free(batch->pkts[start + j]);
                    }
                    batch->n = (uint32_t) (start + k);
                    return added;
                }
                packet_free(p);
                p = big;
            }
            poff_out_write(f, f->next, p->data);
            p->len = (uint32_t) len;
            batch->pkts[start + k] = p;
            f->next++;
            added++;
        }
        batch->n = (uint32_t) (start + got);
    }
    return added;
}
