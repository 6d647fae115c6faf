/* SPDX-License-Identifier: Apache-2.0 */
/* Header edits for the datapath's actions; the rules are in
 * packet-edit.h.  Headers are read and written with memcpy(): after a
 * VLAN push or an MPLS pop they can start at any byte. */

#include "packet/packet-edit.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "packet/flow-key.h"
#include "packet/packet.h"

/* Header field offsets (RFC 791, 8200, 793, 768, 9260, 4443). */
#define IP4_TOS      1
#define IP4_FRAG_OFF 6
#define IP4_TTL      8
#define IP4_PROTO    9
#define IP4_CSUM     10
#define IP4_SRC      12
#define IP4_DST      16
#define IP4_LEN      20          /* Without options. */
#define IP4_OFFSET_MASK 0x1fff  /* Fragment offset bits of frag_off. */

#define IP6_HLIMIT   7
#define IP6_SRC      8
#define IP6_DST      24
#define IP6_LEN      40

#define TCP_CSUM     16
#define TCP_LEN      20
#define UDP_CSUM     6
#define UDP_LEN      8
#define SCTP_CSUM    8
#define SCTP_LEN     12
#define ICMP6_CSUM   2
#define ICMP6_LEN    8

/* IPv6 extension headers that the routing-header search walks. */
#define IP6_NEXT_HOP     0
#define IP6_NEXT_ROUTING 43
#define IP6_NEXT_FRAG    44
#define IP6_NEXT_AUTH    51
#define IP6_NEXT_DEST    60


/* ---- Checksums. ---- */

/* Folds a 32-bit sum of 16-bit words into 16 bits with end-around carry. */
static inline uint16_t
csum_fold(uint32_t sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t) sum;
}

be16
pedit_csum_update16(be16 csum, be16 old, be16 new)
{
    /* RFC 1624 (3): HC' = ~(~HC + ~m + m'). */
    uint32_t sum = (uint16_t) ~csum;

    sum += (uint16_t) ~old;
    sum += new;
    return (be16) ~csum_fold(sum);
}

be16
pedit_csum_update32(be16 csum, be32 old, be32 new)
{
    uint32_t sum = (uint16_t) ~csum;

    sum += (uint16_t) ~(old >> 16);
    sum += (uint16_t) ~(old & 0xffff);
    sum += new >> 16;
    sum += new & 0xffff;
    return (be16) ~csum_fold(sum);
}

be16
pedit_csum_update_bytes(be16 csum, const void *old_, const void *new_,
                        size_t n)
{
    const uint8_t *old = old_, *new = new_;
    uint32_t sum = (uint16_t) ~csum;

    /* At most 0xffff per word added: fold every 32K words to stay in 32
     * bits.  Callers pass addresses (16 bytes), so that never happens,
     * but nothing here relies on it. */
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint16_t) ~load_u16(old + i);
        sum += load_u16(new + i);
        if (sum & 0x80000000u) {
            sum = csum_fold(sum);
        }
    }
    return (be16) ~csum_fold(sum);
}

be16
pedit_csum(const void *data_, size_t n)
{
    const uint8_t *data = data_;
    uint64_t sum = 0;
    size_t i;

    for (i = 0; i + 1 < n; i += 2) {
        sum += load_u16(data + i);
    }
    if (i < n) {
        /* The odd last byte is padded with a zero byte, in memory order. */
        uint8_t last[2] = { data[i], 0 };

        sum += load_u16(last);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (be16) ~sum;
}

/* CRC32c, reflected, polynomial 0x1edc6f41 (0x82f63b78 reversed).  The
 * table is built once; a byte at a time is plenty for an action (set of
 * SCTP ports) that is rare on the fast path. */
static uint32_t crc32c_table[256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void
crc32c_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++) {
            c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        }
        crc32c_table[i] = c;
    }
}

uint32_t
pedit_crc32c(uint32_t crc, const void *data_, size_t n)
{
    const uint8_t *data = data_;

    pthread_once(&crc32c_once, crc32c_init);
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc = crc32c_table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

uint32_t
pedit_sctp_csum(const void *sctp_, size_t n)
{
    static const uint8_t zero[4];
    const uint8_t *sctp = sctp_;
    uint32_t crc;
    uint8_t out[4];
    uint32_t v;

    crc = pedit_crc32c(0, sctp, SCTP_CSUM);
    crc = pedit_crc32c(crc, zero, sizeof zero);
    crc = pedit_crc32c(crc, sctp + SCTP_LEN, n - SCTP_LEN);

    /* RFC 4960 appendix B: the CRC goes on the wire least significant
     * byte first. */
    out[0] = (uint8_t) crc;
    out[1] = (uint8_t) (crc >> 8);
    out[2] = (uint8_t) (crc >> 16);
    out[3] = (uint8_t) (crc >> 24);
    memcpy(&v, out, sizeof v);
    return v;
}

/* ---- Finding headers. ---- */

/* Returns the header at 'ofs' if 'need' bytes of it are in the packet,
 * else NULL. */
static uint8_t *
hdr_at(const struct packet *p, uint16_t ofs, size_t need)
{
    if (ofs == PKT_OFS_NONE || (size_t) ofs + need > p->len) {
        return NULL;
    }
    return p->data + ofs;
}

static uint8_t *
l3_hdr(const struct packet *p, size_t need)
{
    return hdr_at(p, p->l3_ofs, need);
}

static uint8_t *
l4_hdr(const struct packet *p, size_t need)
{
    return hdr_at(p, p->l4_ofs, need);
}

/* Replaces the 16-bit checksum at 'field' with its update for the 'n'
 * bytes 'old' becoming 'new'.  For UDP ('udp'), a zero checksum (none) is
 * left alone and a result of zero is stored as 0xffff. */
static void
l4_csum_replace(uint8_t *field, const void *old, const void *new, size_t n,
                bool udp)
{
    be16 csum = load_u16(field);

    if (udp && !csum) {
        return;
    }
    csum = pedit_csum_update_bytes(csum, old, new, n);
    if (udp && !csum) {
        csum = 0xffff;
    }
    store_u16(field, csum);
}

/* ---- Field writes. ---- */

int
pedit_set_eth_addrs(struct packet *p, const uint8_t src[6],
                    const uint8_t dst[6])
{
    if (p->len < PEDIT_ETH_LEN) {
        return -EINVAL;
    }
    memcpy(p->data, dst, ETH_ADDR_LEN);
    memcpy(p->data + ETH_ADDR_LEN, src, ETH_ADDR_LEN);
    return 0;
}

/* The TCP or UDP header of the IPv4 packet 'nh' (at 'l3' in 'p'), for a
 * pseudo-header update: found from the IHL, none for a later fragment or
 * a transport header shorter than the checksummed part the kernel wants
 * (TCP 20 bytes, UDP 8).  Sets '*udp' for UDP. */
static uint8_t *
ipv4_l4_for_csum(const struct packet *p, const uint8_t *nh, size_t l3,
                 bool *udp)
{
    size_t ihl = (size_t) (nh[0] & 0x0f) * 4;
    size_t l4 = l3 + ihl;
    size_t left;

    if (ihl < IP4_LEN || l4 > p->len
        || load_u16(nh + IP4_FRAG_OFF) & htons(IP4_OFFSET_MASK)) {
        return NULL;
    }
    left = p->len - l4;
    *udp = nh[IP4_PROTO] == IPPROTO_UDP;
    if (nh[IP4_PROTO] == IPPROTO_TCP && left >= TCP_LEN) {
        return p->data + l4 + TCP_CSUM;
    }
    if (*udp && left >= UDP_LEN) {
        return p->data + l4 + UDP_CSUM;
    }
    return NULL;
}

int
pedit_set_ipv4_addr(struct packet *p, bool dst, be32 addr)
{
    uint8_t *nh = l3_hdr(p, IP4_LEN);
    uint8_t *field, *csum;
    be32 old;
    bool udp;

    if (!nh) {
        return -EINVAL;
    }
    field = nh + (dst ? IP4_DST : IP4_SRC);
    old = load_u32(field);
    if (old == addr) {
        return 0;
    }
    csum = ipv4_l4_for_csum(p, nh, p->l3_ofs, &udp);
    if (csum) {
        l4_csum_replace(csum, &old, &addr, sizeof addr, udp);
    }
    store_u16(nh + IP4_CSUM, pedit_csum_update32(load_u16(nh + IP4_CSUM), old, addr));
    store_u32(field, addr);
    return 0;
}

/* Replaces the 16-bit word at 'ofs' in the IPv4 header 'nh' with 'new',
 * updating the header checksum. */
static void
ipv4_replace16(uint8_t *nh, size_t ofs, be16 new)
{
    be16 old = load_u16(nh + ofs);

    store_u16(nh + IP4_CSUM, pedit_csum_update16(load_u16(nh + IP4_CSUM), old, new));
    store_u16(nh + ofs, new);
}

int
pedit_set_ipv4_tos(struct packet *p, uint8_t tos)
{
    uint8_t *nh = l3_hdr(p, IP4_LEN);
    uint8_t word[2];

    if (!nh) {
        return -EINVAL;
    }
    /* The TOS shares a checksummed 16-bit word with version and IHL. */
    word[0] = nh[0];
    word[1] = tos;
    ipv4_replace16(nh, 0, load_u16(word));
    return 0;
}

int
pedit_set_ipv4_ttl(struct packet *p, uint8_t ttl)
{
    uint8_t *nh = l3_hdr(p, IP4_LEN);
    uint8_t word[2];

    if (!nh) {
        return -EINVAL;
    }
    word[0] = ttl;
    word[1] = nh[IP4_PROTO];
    ipv4_replace16(nh, IP4_TTL, load_u16(word));
    return 0;
}

/* Returns true if the extension header chain of the IPv6 packet at
 * 'l3' holds a routing header with segments left, as the kernel's
 * ipv6_find_hdr(..., NEXTHDR_ROUTING, IP6_FH_F_SKIP_RH) finds it: the walk
 * stops at the first header that is not an extension header, at a
 * non-first fragment, or at a truncated header (none found). */
static bool
ipv6_has_live_routing_hdr(const struct packet *p, size_t l3)
{
    const uint8_t *d = p->data;
    uint8_t next = d[l3 + 6];
    size_t ofs = l3 + IP6_LEN;

    for (;;) {
        size_t hlen;

        if (ofs + 8 > p->len) {
            return false;
        }
        switch (next) {
        case IP6_NEXT_HOP:
        case IP6_NEXT_DEST:
            hlen = ((size_t) d[ofs + 1] + 1) * 8;
            break;
        case IP6_NEXT_ROUTING:
            if (d[ofs + 3]) {
                return true;
            }
            hlen = ((size_t) d[ofs + 1] + 1) * 8;
            break;
        case IP6_NEXT_AUTH:
            hlen = ((size_t) d[ofs + 1] + 2) * 4;
            break;
        case IP6_NEXT_FRAG:
            if (load_u16(d + ofs + 2) & htons(0xfff8)) {
                return false;
            }
            hlen = 8;
            break;
        default:
            return false;
        }
        next = d[ofs];
        ofs += hlen;
    }
}

int
pedit_set_ipv6_addr(struct packet *p, bool dst, const struct in6_addr *addr,
                    uint8_t l4_proto)
{
    uint8_t *nh = l3_hdr(p, IP6_LEN);
    uint8_t *field, *csum = NULL;
    bool udp = false;

    if (!nh) {
        return -EINVAL;
    }
    field = nh + (dst ? IP6_DST : IP6_SRC);
    if (!memcmp(field, addr, sizeof *addr)) {
        return 0;
    }
    if (l4_proto == IPPROTO_TCP) {
        uint8_t *th = l4_hdr(p, TCP_LEN);

        csum = th ? th + TCP_CSUM : NULL;
    } else if (l4_proto == IPPROTO_UDP) {
        uint8_t *uh = l4_hdr(p, UDP_LEN);

        csum = uh ? uh + UDP_CSUM : NULL;
        udp = true;
    } else if (l4_proto == IPPROTO_ICMPV6) {
        uint8_t *ih = l4_hdr(p, ICMP6_LEN);

        csum = ih ? ih + ICMP6_CSUM : NULL;
    }
    if (csum && dst && ipv6_has_live_routing_hdr(p, p->l3_ofs)) {
        csum = NULL;
    }
    if (csum) {
        l4_csum_replace(csum, field, addr, sizeof *addr, udp);
    }
    memcpy(field, addr, sizeof *addr);
    return 0;
}

/* The first 32 bits of an IPv6 header: version 4, traffic class 8, flow
 * label 20. */
static int
ipv6_set_word0(struct packet *p, uint32_t keep_mask, uint32_t bits)
{
    uint8_t *nh = l3_hdr(p, IP6_LEN);
    uint32_t w;

    if (!nh) {
        return -EINVAL;
    }
    w = ntohl(load_u32(nh));
    store_u32(nh, htonl((w & keep_mask) | bits));
    return 0;
}

int
pedit_set_ipv6_tclass(struct packet *p, uint8_t tclass)
{
    return ipv6_set_word0(p, 0xf00fffffu, (uint32_t) tclass << 20);
}

int
pedit_set_ipv6_label(struct packet *p, uint32_t label)
{
    return ipv6_set_word0(p, 0xfff00000u, label & 0x000fffffu);
}

int
pedit_set_ipv6_hlimit(struct packet *p, uint8_t hlimit)
{
    uint8_t *nh = l3_hdr(p, IP6_LEN);

    if (!nh) {
        return -EINVAL;
    }
    nh[IP6_HLIMIT] = hlimit;
    return 0;
}

/* Writes ports 'src' and 'dst' into the TCP or UDP header 'th', whose
 * checksum is 'csum_ofs' bytes in. */
static void
set_ports_csum(uint8_t *th, size_t csum_ofs, be16 src, be16 dst, bool udp)
{
    be16 old_src = load_u16(th), old_dst = load_u16(th + 2);

    if (old_src != src) {
        l4_csum_replace(th + csum_ofs, &old_src, &src, sizeof src, udp);
        store_u16(th, src);
    }
    if (old_dst != dst) {
        l4_csum_replace(th + csum_ofs, &old_dst, &dst, sizeof dst, udp);
        store_u16(th + 2, dst);
    }
}

int
pedit_set_tcp_ports(struct packet *p, be16 src, be16 dst)
{
    uint8_t *th = l4_hdr(p, TCP_LEN);

    if (!th) {
        return -EINVAL;
    }
    set_ports_csum(th, TCP_CSUM, src, dst, false);
    return 0;
}

int
pedit_set_udp_ports(struct packet *p, be16 src, be16 dst)
{
    uint8_t *uh = l4_hdr(p, UDP_LEN);

    if (!uh) {
        return -EINVAL;
    }
    set_ports_csum(uh, UDP_CSUM, src, dst, true);
    return 0;
}

int
pedit_set_sctp_ports(struct packet *p, be16 src, be16 dst)
{
    uint8_t *sh = l4_hdr(p, SCTP_LEN);
    uint32_t old, old_correct, new_correct;
    size_t n;

    if (!sh) {
        return -EINVAL;
    }
    n = p->len - p->l4_ofs;     /* To the end of the frame, as the kernel. */
    memcpy(&old, sh + SCTP_CSUM, sizeof old);
    old_correct = pedit_sctp_csum(sh, n);
    store_u16(sh, src);
    store_u16(sh + 2, dst);
    new_correct = pedit_sctp_csum(sh, n);
    old ^= old_correct ^ new_correct;
    memcpy(sh + SCTP_CSUM, &old, sizeof old);
    return 0;
}

int
pedit_get_mpls_lse(const struct packet *p, size_t l2_len, be32 *lse)
{
    if (l2_len + PEDIT_MPLS_LEN > p->len) {
        return -EINVAL;
    }
    *lse = load_u32(p->data + l2_len);
    return 0;
}

int
pedit_set_mpls_lse(struct packet *p, size_t l2_len, be32 lse)
{
    if (l2_len + PEDIT_MPLS_LEN > p->len) {
        return -EINVAL;
    }
    store_u32(p->data + l2_len, lse);
    return 0;
}

/* ---- Structural edits. ---- */

size_t
pedit_l2_len(const struct packet *p)
{
    size_t ofs = 2 * ETH_ADDR_LEN;      /* The first Ethernet type. */

    if (p->len < PEDIT_ETH_LEN) {
        return 0;
    }
    for (int i = 0; i < FKEY_MAX_VLANS; i++) {
        /* A tag counts if its TCI and the type after it are there. */
        if (!fkey_eth_type_is_vlan(load_u16(p->data + ofs))
            || ofs + 2 + PEDIT_VLAN_LEN > p->len) {
            break;
        }
        ofs += PEDIT_VLAN_LEN;
    }
    return ofs + 2;
}

/* Moves offset 'ofs' by 'delta' bytes. */
static uint16_t
shift_ofs(uint16_t ofs, int delta)
{
    long v;

    if (ofs == PKT_OFS_NONE) {
        return ofs;
    }
    v = (long) ofs + delta;
    return v < 0 || v >= PKT_OFS_NONE ? PKT_OFS_NONE : (uint16_t) v;
}

static void
shift_offsets(struct packet *p, int delta)
{
    p->mpls_ofs = shift_ofs(p->mpls_ofs, delta);
    p->l3_ofs = shift_ofs(p->l3_ofs, delta);
    p->l4_ofs = shift_ofs(p->l4_ofs, delta);
}

static void
clear_offsets(struct packet *p)
{
    p->mpls_ofs = p->l3_ofs = p->l4_ofs = PKT_OFS_NONE;
}

/* Opens a gap of 'n' bytes 'at' bytes into the frame by moving the first
 * 'at' bytes forward into the headroom.  Returns the gap, or NULL if the
 * packet cannot grow. */
static uint8_t *
open_gap(struct packet *p, size_t at, size_t n)
{
    uint8_t *d = packet_push(p, n);

    if (!d) {
        return NULL;
    }
    memmove(d, d + n, at);
    return d + at;
}

/* Closes the 'n' bytes 'at' bytes into the frame by moving the first 'at'
 * bytes back over them. */
static void
close_gap(struct packet *p, size_t at, size_t n)
{
    memmove(p->data + n, p->data, at);
    packet_pull(p, n);
}

int
pedit_push_vlan(struct packet *p, be16 tpid, be16 tci)
{
    uint8_t *tag;

    if (p->len < PEDIT_ETH_LEN) {
        return -EINVAL;
    }
    tag = open_gap(p, 2 * ETH_ADDR_LEN, PEDIT_VLAN_LEN);
    if (!tag) {
        return -ENOMEM;
    }
    store_u16(tag, tpid);
    store_u16(tag + 2, tci);
    shift_offsets(p, PEDIT_VLAN_LEN);
    return 0;
}

int
pedit_pop_vlan(struct packet *p)
{
    if (p->len < PEDIT_ETH_LEN
        || !fkey_eth_type_is_vlan(load_u16(p->data + 2 * ETH_ADDR_LEN))) {
        return 0;
    }
    if (p->len < PEDIT_ETH_LEN + PEDIT_VLAN_LEN) {
        return -EINVAL;
    }
    close_gap(p, 2 * ETH_ADDR_LEN, PEDIT_VLAN_LEN);
    shift_offsets(p, -PEDIT_VLAN_LEN);
    return 1;
}

int
pedit_push_mpls(struct packet *p, size_t l2_len, be16 eth_type, be32 lse)
{
    uint8_t *label;

    if (l2_len > p->len) {
        return -EINVAL;
    }
    label = open_gap(p, l2_len, PEDIT_MPLS_LEN);
    if (!label) {
        return -ENOMEM;
    }
    store_u32(label, lse);
    if (l2_len >= PEDIT_ETH_LEN) {
        store_u16(label - 2, eth_type);
    }
    clear_offsets(p);
    return 0;
}

int
pedit_pop_mpls(struct packet *p, size_t l2_len, be16 next_type)
{
    if (l2_len + PEDIT_MPLS_LEN > p->len) {
        return -EINVAL;
    }
    close_gap(p, l2_len, PEDIT_MPLS_LEN);
    if (l2_len >= PEDIT_ETH_LEN) {
        store_u16(p->data + l2_len - 2, next_type);
    }
    clear_offsets(p);
    return 0;
}

int
pedit_push_eth(struct packet *p, const uint8_t dst[6], const uint8_t src[6],
               be16 eth_type)
{
    uint8_t *d = packet_push(p, PEDIT_ETH_LEN);

    if (!d) {
        return -ENOMEM;
    }
    memcpy(d, dst, ETH_ADDR_LEN);
    memcpy(d + ETH_ADDR_LEN, src, ETH_ADDR_LEN);
    store_u16(d + 2 * ETH_ADDR_LEN, eth_type);
    clear_offsets(p);
    return 0;
}

int
pedit_pop_eth(struct packet *p, size_t l2_len)
{
    if (l2_len > p->len) {
        return -EINVAL;
    }
    packet_pull(p, l2_len);
    clear_offsets(p);
    return 0;
}
