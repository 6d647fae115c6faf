/* SPDX-License-Identifier: Apache-2.0 */
/* Ethernet frame -> 'struct flow_key', with the kernel datapath's rules for
 * short and malformed headers.  The rules themselves are listed in
 * flow-extract.h; comments here explain the less obvious ones where the
 * code applies them.
 *
 * All reads go through a 'struct pkt_cursor': the frame and its length.
 * Offsets are absolute (from the first byte of the frame), as the kernel's
 * are from the MAC header, so "is this header complete" is always the
 * same question: does [ofs, ofs + n) fit inside the frame?  Frame bytes
 * are read with memcpy(), never through casts, because headers after VLAN
 * tags or IPv4 options have no useful alignment.
 *
 * The header offsets of 'struct fkey_layout' come out of the same pass:
 * each parser records the offset of a header in the same place where it
 * fills the key fields read from it, so "offset present" and "key has
 * those fields" cannot drift apart.  The parser is compiled twice, into
 * fkey_extract_layout() and into fkey_extract(), whose layout the compiler
 * drops (see extract() at the end). */

#include "packet/flow-extract.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

_Static_assert(FKEY_OFS_NONE == UINT16_MAX, "FKEY_OFS_NONE is UINT16_MAX");

/* The parsers below are each called from one place in extract(), which
 * is compiled twice.  With two copies GCC stops inlining them (it did with
 * one), and the key-only copy then pays calls and layout stores: 12% more
 * instructions per packet.  Forced inline, it costs what it did before
 * layouts existed (bench-extract, callgrind). */
#define PARSER_INLINE static inline __attribute__((always_inline))

#define ETH_HEADER_LEN   14
#define VLAN_HEADER_LEN  4
#define LLC_SNAP_LEN     8      /* DSAP, SSAP, control, OUI[3], type. */
#define MPLS_LSE_LEN     4
#define IPV4_HEADER_LEN  20
#define IPV4_MF          0x2000
#define IPV4_FRAG_OFFSET 0x1fff
#define IPV6_HEADER_LEN  40
#define IPV6_LABEL_MASK  0x000fffff
#define ARP_ETH_LEN      28     /* Ethernet/IPv4 ARP, struct arp_eth_header */
#define TCP_HEADER_LEN   20
#define UDP_HEADER_LEN   8
#define SCTP_HEADER_LEN  12
#define ICMP_HEADER_LEN  8      /* ICMP and ICMPv6 alike. */
#define ND_MSG_LEN       24     /* ICMPv6 header + target address. */
#define ND_OPT_SLL       1
#define ND_OPT_TLL       2
#define ND_NS            135
#define ND_NA            136

/* IPv6 next-header values the extension header walk cares about. */
#define IP6_NH_HOP       0
#define IP6_NH_ROUTING   43
#define IP6_NH_FRAGMENT  44
#define IP6_NH_ESP       50
#define IP6_NH_AUTH      51
#define IP6_NH_NONE      59
#define IP6_NH_DEST      60

/* A frame being parsed. */
struct pkt_cursor {
    const uint8_t *p;           /* First byte of the Ethernet header. */
    size_t len;                 /* Bytes at 'p'. */
};

/* Returns true if the 'n' bytes at offset 'ofs' are inside the frame. */
static inline bool
pc_has(const struct pkt_cursor *c, size_t ofs, size_t n)
{
    return ofs <= c->len && n <= c->len - ofs;
}

/* Returns the byte at 'ofs'.  The caller has checked pc_has(). */
static inline uint8_t
pc_u8(const struct pkt_cursor *c, size_t ofs)
{
    return c->p[ofs];
}

/* Returns the 16 bits at 'ofs' in network order.  Checked by the caller. */
static inline be16
pc_be16(const struct pkt_cursor *c, size_t ofs)
{
    return load_u16(c->p + ofs);
}

/* Returns the 32 bits at 'ofs' in network order.  Checked by the caller. */
static inline be32
pc_be32(const struct pkt_cursor *c, size_t ofs)
{
    return load_u32(c->p + ofs);
}

/* Parses up to two VLAN tags starting with the TPID at '*ofs' and advances
 * '*ofs' past the complete ones.  As in the kernel's parse_vlan_tag(), a
 * tag counts only if its TCI and the following type field fit in the frame;
 * a TPID without them stays in place (it becomes 'eth_type') and is also
 * recorded in vlan[i].tpid with a zero TCI, the key's "vlan(0)" form. */
static inline void
parse_vlans(const struct pkt_cursor *c, size_t *ofs, struct flow_key *key)
{
    for (int i = 0; i < FKEY_MAX_VLANS; i++) {
        be16 tpid = pc_be16(c, *ofs);

        if (!fkey_eth_type_is_vlan(tpid)) {
            return;
        }
        key->vlan[i].tpid = tpid;
        if (!pc_has(c, *ofs, VLAN_HEADER_LEN + 2)) {
            return;
        }
        key->vlan[i].tci = pc_be16(c, *ofs + 2) | htons(VLAN_CFI);
        *ofs += VLAN_HEADER_LEN;
    }
}

/* Returns the Ethernet type at '*ofs' and advances '*ofs' to the L3
 * header.  The type field itself is known to be in the frame. */
static inline be16
parse_ethertype(const struct pkt_cursor *c, size_t *ofs)
{
    be16 type = pc_be16(c, *ofs);
    size_t llc = *ofs + 2;

    *ofs = llc;
    if (ntohs(type) >= ETH_TYPE_MIN) {
        return type;
    }

    /* 802.3: a length, then LLC.  Only SNAP with the Ethernet OUI carries
     * an Ethernet type.  Unlike OVS userspace, the kernel does not look at
     * the LLC control byte. */
    if (!pc_has(c, llc, LLC_SNAP_LEN)
        || pc_u8(c, llc) != 0xaa || pc_u8(c, llc + 1) != 0xaa
        || (pc_u8(c, llc + 3) | pc_u8(c, llc + 4) | pc_u8(c, llc + 5))) {
        return htons(ETH_TYPE_802_2);
    }
    *ofs = llc + LLC_SNAP_LEN;
    type = pc_be16(c, llc + 6);
    return ntohs(type) >= ETH_TYPE_MIN ? type : htons(ETH_TYPE_802_2);
}

/* Reads the MPLS label stack at 'ofs'.  Returns true if the key has the
 * labels, false if the stack was truncated (no labels in the key). */
PARSER_INLINE bool
parse_mpls(const struct pkt_cursor *c, size_t ofs, struct flow_key *key)
{
    unsigned int n = 0;

    for (;;) {
        be32 lse;

        if (!pc_has(c, ofs, MPLS_LSE_LEN)) {
            /* No bottom of stack before the end of the frame.  The kernel
             * then reports zero labels; keep the key equal to that. */
            memset(key->mpls_lse, 0, sizeof key->mpls_lse);
            return false;
        }
        lse = pc_be32(c, ofs);
        if (n < FKEY_MAX_MPLS) {
            key->mpls_lse[n] = lse;
        }
        n++;
        ofs += MPLS_LSE_LEN;
        if (lse & htonl(MPLS_BOS_BIT)) {
            break;
        }
    }
    key->n_mpls = n < FKEY_MAX_MPLS ? n : FKEY_MAX_MPLS;
    return true;
}

/* Parses ARP/RARP at 'ofs'.  Only Ethernet/IPv4 ARP is understood; any
 * other or truncated ARP leaves the fields zero.  Returns true if the
 * fields were filled. */
PARSER_INLINE bool
parse_arp(const struct pkt_cursor *c, size_t ofs, struct flow_key *key)
{
    uint16_t op;

    if (!pc_has(c, ofs, ARP_ETH_LEN)
        || pc_be16(c, ofs) != htons(1)
        || pc_be16(c, ofs + 2) != htons(ETH_TYPE_IP)
        || pc_u8(c, ofs + 4) != ETH_ADDR_LEN
        || pc_u8(c, ofs + 5) != 4) {
        return false;
    }

    /* The kernel keeps the opcode in an 8-bit field; larger ones read 0. */
    op = ntohs(pc_be16(c, ofs + 6));
    key->arp_op = htons(op <= 0xff ? op : 0);
    memcpy(key->arp_sha, c->p + ofs + 8, ETH_ADDR_LEN);
    memcpy(&key->addr.ipv4.src, c->p + ofs + 14, 4);
    memcpy(key->arp_tha, c->p + ofs + 18, ETH_ADDR_LEN);
    memcpy(&key->addr.ipv4.dst, c->p + ofs + 24, 4);
    return true;
}

/* Parses the TCP, UDP or SCTP header at 'ofs' for 'proto'.  Used for
 * both IPv4 and IPv6.  Returns true if the ports were filled, false for
 * another protocol or a header too short for its protocol. */
static inline bool
parse_ports(const struct pkt_cursor *c, size_t ofs, uint8_t proto,
            struct flow_key *key)
{
    switch (proto) {
    case IPPROTO_TCP: {
        size_t doff;

        if (!pc_has(c, ofs, TCP_HEADER_LEN)) {
            return false;
        }
        doff = (size_t) (pc_u8(c, ofs + 12) >> 4) * 4;
        if (doff < TCP_HEADER_LEN || !pc_has(c, ofs, doff)) {
            return false;
        }
        key->tp_src = pc_be16(c, ofs);
        key->tp_dst = pc_be16(c, ofs + 2);
        key->tcp_flags = pc_be16(c, ofs + 12) & htons(0x0fff);
        return true;
    }
    case IPPROTO_UDP:
        if (!pc_has(c, ofs, UDP_HEADER_LEN)) {
            return false;
        }
        break;
    case IPPROTO_SCTP:
        if (!pc_has(c, ofs, SCTP_HEADER_LEN)) {
            return false;
        }
        break;
    default:
        return false;
    }
    key->tp_src = pc_be16(c, ofs);
    key->tp_dst = pc_be16(c, ofs + 2);
    return true;
}

/* Returns 'ofs' as a layout offset: FKEY_OFS_NONE if it does not fit in
 * 16 bits (only an IPv6 extension header chain can push the L4 header
 * that far, in a frame beyond any MTU). */
static inline uint16_t
layout_ofs(size_t ofs)
{
    return ofs < FKEY_OFS_NONE ? (uint16_t) ofs : FKEY_OFS_NONE;
}

/* Parses the IPv4 header at 'ofs' and what follows it; records the offsets
 * of the headers whose fields went into the key in 'lo'. */
PARSER_INLINE void
parse_ipv4(const struct pkt_cursor *c, size_t ofs, struct flow_key *key,
           struct fkey_layout *lo)
{
    size_t ihl;
    uint16_t frag_off;
    size_t l4;

    if (!pc_has(c, ofs, IPV4_HEADER_LEN)) {
        return;
    }
    ihl = (size_t) (pc_u8(c, ofs) & 0x0f) * 4;
    if (ihl < IPV4_HEADER_LEN || !pc_has(c, ofs, ihl)) {
        return;
    }

    lo->l3_ofs = (uint16_t) ofs;
    key->nw_tos = pc_u8(c, ofs + 1);
    key->nw_ttl = pc_u8(c, ofs + 8);
    key->nw_proto = pc_u8(c, ofs + 9);
    key->addr.ipv4.src = pc_be32(c, ofs + 12);
    key->addr.ipv4.dst = pc_be32(c, ofs + 16);

    frag_off = ntohs(pc_be16(c, ofs + 6));
    if (frag_off & IPV4_FRAG_OFFSET) {
        key->nw_frag = FKEY_FRAG_LATER;
        return;
    }
    key->nw_frag = frag_off & IPV4_MF ? FKEY_FRAG_FIRST : FKEY_FRAG_NONE;

    l4 = ofs + ihl;
    if (key->nw_proto == IPPROTO_ICMP) {
        if (pc_has(c, l4, ICMP_HEADER_LEN)) {
            key->tp_src = htons(pc_u8(c, l4));
            key->tp_dst = htons(pc_u8(c, l4 + 1));
            lo->l4_ofs = (uint16_t) l4;
        }
    } else if (parse_ports(c, l4, key->nw_proto, key)) {
        lo->l4_ofs = (uint16_t) l4;     /* At most 30 + 60 bytes in. */
    }
}

/* The kernel's ipv6_ext_hdr(): next-header values that its walks step
 * over.  ESP is not one of them. */
static inline bool
ipv6_is_ext(uint8_t nh)
{
    return nh == IP6_NH_HOP || nh == IP6_NH_ROUTING
           || nh == IP6_NH_FRAGMENT || nh == IP6_NH_AUTH
           || nh == IP6_NH_NONE || nh == IP6_NH_DEST;
}

/* Returns the OVS_KEY_ATTR_IPV6_EXTHDRS bits for the IPv6 header at 'nh',
 * computed as the kernel's get_ipv6_ext_hdrs() does.  Its quirks are kept
 * on purpose, because the bitmap is matched against kernel-made keys:
 *
 *   - the walk only visits headers ipv6_is_ext() accepts, so it stops at
 *     ESP without recording it: FKEY_IPV6_EH_ESP is never set;
 *   - every header, AH and fragment included, is assumed to be
 *     (hdrlen + 1) * 8 bytes long, and the walk goes on after a later
 *     fragment;
 *   - a header whose first two bytes are missing ends the walk quietly. */
PARSER_INLINE uint16_t
ipv6_exthdrs(const struct pkt_cursor *c, size_t nh)
{
    const uint16_t hop = FKEY_IPV6_EH_HOP, dest = FKEY_IPV6_EH_DEST;
    const uint16_t router = FKEY_IPV6_EH_ROUTER, frag = FKEY_IPV6_EH_FRAG;
    const uint16_t auth = FKEY_IPV6_EH_AUTH, esp = FKEY_IPV6_EH_ESP;
    const uint16_t unrep = FKEY_IPV6_EH_UNREP, unseq = FKEY_IPV6_EH_UNSEQ;
    uint8_t next = pc_u8(c, nh + 6);
    size_t ofs = nh + IPV6_HEADER_LEN;
    int n_dest = 0;
    uint16_t h = 0;

    while (ipv6_is_ext(next)) {
        switch (next) {
        case IP6_NH_NONE:
            return h | FKEY_IPV6_EH_NONEXT;

        case IP6_NH_AUTH:
            if (h & auth) {
                h |= unrep;
            }
            if ((h & ~(hop | dest | router | frag | unrep)) || n_dest >= 2) {
                h |= unseq;
            }
            h |= auth;
            break;

        case IP6_NH_DEST:
            if (n_dest == 0) {
                if (h & ~(hop | unrep)) {
                    h |= unseq;
                }
                h |= dest;
            } else if (n_dest == 1) {
                if (h & ~(hop | dest | router | frag | auth | esp | unrep)) {
                    h |= unseq;
                }
            } else {
                h |= unrep;
            }
            n_dest++;
            break;

        case IP6_NH_FRAGMENT:
            if (h & frag) {
                h |= unrep;
            }
            if ((h & ~(hop | dest | router | unrep)) || n_dest >= 2) {
                h |= unseq;
            }
            h |= frag;
            break;

        case IP6_NH_ROUTING:
            if (h & router) {
                h |= unrep;
            }
            if ((h & ~(hop | dest | unrep)) || n_dest >= 2) {
                h |= unseq;
            }
            h |= router;
            break;

        case IP6_NH_HOP:
            if (h & hop) {
                h |= unrep;
            }
            /* Hop-by-hop counts only as the very first header. */
            h |= h ? unseq : hop;
            break;

        default:
            return h;           /* Unreachable: ipv6_is_ext() said no. */
        }

        if (!pc_has(c, ofs, 2)) {
            break;
        }
        next = pc_u8(c, ofs);
        ofs += ((size_t) pc_u8(c, ofs + 1) + 1) * 8;
    }
    return h;
}

/* Result of walking an IPv6 extension header chain. */
struct ipv6_walk {
    size_t l4;                  /* Offset of the upper-layer header. */
    uint16_t frag_off;          /* Fragment offset (bytes), 0 if none. */
    bool frag;                  /* A fragment header was seen. */
};

/* Walks the extension headers after the IPv6 header at 'nh' as the
 * kernel's ipv6_find_hdr(skb, &ofs, -1, &frag_off, &flags) does.  Returns
 * the upper-layer protocol (which may be 59, "no next header", or 50, ESP,
 * where the walk must stop), or -1 if a header is truncated or a later
 * fragment is followed by another extension header. */
PARSER_INLINE int
ipv6_find_l4(const struct pkt_cursor *c, size_t nh, struct ipv6_walk *w)
{
    uint8_t next = pc_u8(c, nh + 6);
    size_t ofs = nh + IPV6_HEADER_LEN;

    w->frag = false;
    w->frag_off = 0;
    for (;;) {
        uint8_t hdr_next;
        size_t hdr_len;

        if (!ipv6_is_ext(next) || next == IP6_NH_NONE) {
            w->l4 = ofs;
            return next;
        }
        if (!pc_has(c, ofs, 2)) {
            return -1;
        }
        hdr_next = pc_u8(c, ofs);

        if (next == IP6_NH_FRAGMENT) {
            uint16_t off;

            w->frag = true;
            if (!pc_has(c, ofs + 2, 2)) {
                return -1;
            }
            off = ntohs(pc_be16(c, ofs + 2)) & ~7u;
            if (off) {
                /* A later fragment: what follows is payload, so the
                 * fragment header's next-header is the last word.  The
                 * kernel gives up (ENOENT) if that is another extension
                 * header, without recording the offset. */
                if (ipv6_is_ext(hdr_next) && hdr_next != IP6_NH_NONE) {
                    return -1;
                }
                w->frag_off = off;
                return hdr_next;
            }
            hdr_len = 8;
        } else if (next == IP6_NH_AUTH) {
            hdr_len = ((size_t) pc_u8(c, ofs + 1) + 2) * 4;
        } else {
            if (next == IP6_NH_ROUTING && !pc_has(c, ofs, 4)) {
                return -1;      /* The kernel reads a 4-byte rt header. */
            }
            hdr_len = ((size_t) pc_u8(c, ofs + 1) + 1) * 8;
        }
        next = hdr_next;
        ofs += hdr_len;
    }
}

/* Parses the neighbour discovery message whose ICMPv6 header is at 'ofs'.
 * The kernel looks at everything up to the end of the frame, Ethernet
 * padding included, not just the IPv6 payload length. */
PARSER_INLINE void
parse_nd(const struct pkt_cursor *c, size_t ofs, struct flow_key *key)
{
    size_t opt, rem;

    if (!pc_has(c, ofs, ND_MSG_LEN)) {
        return;
    }
    memcpy(&key->nd_target, c->p + ofs + 8, sizeof key->nd_target);

    opt = ofs + ND_MSG_LEN;
    rem = c->len - opt;
    while (rem >= 8) {
        size_t opt_len = (size_t) pc_u8(c, opt + 1) * 8;
        uint8_t type = pc_u8(c, opt);
        uint8_t *lla = NULL;

        if (!opt_len || opt_len > rem) {
            return;             /* Keep what was parsed so far. */
        }
        if (opt_len == 8 && type == ND_OPT_SLL) {
            lla = key->arp_sha;
        } else if (opt_len == 8 && type == ND_OPT_TLL) {
            lla = key->arp_tha;
        }
        if (lla) {
            static const uint8_t zero[ETH_ADDR_LEN];

            if (memcmp(lla, zero, ETH_ADDR_LEN)) {
                /* A second SLL (or TLL) makes the message invalid. */
                memset(&key->nd_target, 0, sizeof key->nd_target);
                memset(key->arp_sha, 0, ETH_ADDR_LEN);
                memset(key->arp_tha, 0, ETH_ADDR_LEN);
                return;
            }
            memcpy(lla, c->p + opt + 2, ETH_ADDR_LEN);
        }
        rem -= opt_len;
        opt += opt_len;
    }
}

/* Parses the IPv6 header at 'nh' and what follows it; records the offsets
 * of the headers whose fields went into the key in 'lo'. */
PARSER_INLINE void
parse_ipv6(const struct pkt_cursor *c, size_t nh, struct flow_key *key,
           struct fkey_layout *lo)
{
    struct ipv6_walk w;
    uint32_t first;
    int proto;

    if (!pc_has(c, nh, IPV6_HEADER_LEN)) {
        return;
    }
    lo->l3_ofs = (uint16_t) nh;
    first = ntohl(pc_be32(c, nh));
    key->nw_tos = (uint8_t) (first >> 20);
    key->ipv6_label = htonl(first & IPV6_LABEL_MASK);
    key->nw_ttl = pc_u8(c, nh + 7);
    memcpy(&key->addr.ipv6.src, c->p + nh + 8, sizeof key->addr.ipv6.src);
    memcpy(&key->addr.ipv6.dst, c->p + nh + 24, sizeof key->addr.ipv6.dst);
    key->ipv6_exthdrs = ipv6_exthdrs(c, nh);

    /* Until the chain is known good, the protocol is "no next header". */
    key->nw_proto = IP6_NH_NONE;
    proto = ipv6_find_l4(c, nh, &w);
    if (w.frag) {
        if (w.frag_off) {
            key->nw_frag = FKEY_FRAG_LATER;
            key->nw_proto = IP6_NH_FRAGMENT;
            return;
        }
        key->nw_frag = FKEY_FRAG_FIRST;
    }
    if (proto < 0) {
        return;
    }
    key->nw_proto = (uint8_t) proto;

    if (proto == IPPROTO_ICMPV6) {
        uint8_t type, code;

        if (!pc_has(c, w.l4, ICMP_HEADER_LEN)) {
            return;
        }
        type = pc_u8(c, w.l4);
        code = pc_u8(c, w.l4 + 1);
        key->tp_src = htons(type);
        key->tp_dst = htons(code);
        lo->l4_ofs = layout_ofs(w.l4);
        if (code == 0 && (type == ND_NS || type == ND_NA)) {
            parse_nd(c, w.l4, key);
        }
    } else if (parse_ports(c, w.l4, (uint8_t) proto, key)) {
        lo->l4_ofs = layout_ofs(w.l4);
    }
}

/* Reads the Ethernet header at the start of 'c' (at least 14 bytes), its
 * tags and LLC/SNAP into 'key'; returns the offset of what follows. */
PARSER_INLINE size_t
parse_l2(const struct pkt_cursor *c, struct flow_key *key)
{
    size_t ofs;

    /* The frame is destination first, then source. */
    key->mac_proto = FKEY_MAC_ETHERNET;
    memcpy(key->eth_dst, c->p, ETH_ADDR_LEN);
    memcpy(key->eth_src, c->p + ETH_ADDR_LEN, ETH_ADDR_LEN);
    ofs = 2 * ETH_ADDR_LEN;
    parse_vlans(c, &ofs, key);
    key->eth_type = parse_ethertype(c, &ofs);
    if (fkey_eth_type_is_vlan(key->eth_type)) {
        /* A VLAN type that is not a complete tag: a truncated tag (TPID
         * already recorded), a third tag, or a SNAP header carrying a
         * TPID.  The kernel reports the last like a truncated tag, with
         * "vlan(0),encap()" in the next free slot, so record it there. */
        int i = 0;

        while (i < FKEY_MAX_VLANS && key->vlan[i].tci & htons(VLAN_CFI)) {
            i++;
        }
        if (i < FKEY_MAX_VLANS) {
            key->vlan[i].tpid = key->eth_type;
        }
    }
    return ofs;
}

/* The parser.  It is inlined into fkey_extract_layout() and into
 * fkey_extract(); the latter passes a layout on its stack that the
 * compiler then drops, stores and all, so the key-only path costs what it
 * did before layouts existed. */
PARSER_INLINE int
extract(const void *data, size_t len, const struct pkt_metadata *md,
        struct flow_key *key, struct fkey_layout *lo)
{
    struct pkt_cursor c = { data, len };
    size_t ofs;

    lo->mpls_ofs = lo->l3_ofs = lo->l4_ofs = FKEY_OFS_NONE;
    memset(key, 0, sizeof *key);
    if (md) {
        key->recirc_id = md->recirc_id;
        key->dp_hash = md->dp_hash;
        key->priority = md->priority;
        key->in_port = md->in_port;
        key->skb_mark = md->skb_mark;
    }
    if (md && md->l3_type) {
        /* No Ethernet header: the type is metadata and the L3 header comes
         * first (the kernel's key_extract() for MAC_PROTO_NONE, which also
         * refuses a VLAN type there). */
        key->mac_proto = FKEY_MAC_NONE;
        key->eth_type = md->l3_type;
        if (fkey_eth_type_is_vlan(key->eth_type)) {
            return -EINVAL;
        }
        ofs = 0;
    } else if (len < ETH_HEADER_LEN) {
        return -EINVAL;
    } else {
        ofs = parse_l2(&c, key);
    }

    /* L3 and L4.  'ofs' is at most 30 here (two tags and LLC/SNAP). */
    switch (ntohs(key->eth_type)) {
    case ETH_TYPE_IP:
        parse_ipv4(&c, ofs, key, lo);
        break;
    case ETH_TYPE_IPV6:
        parse_ipv6(&c, ofs, key, lo);
        break;
    case ETH_TYPE_ARP:
    case ETH_TYPE_RARP:
        if (parse_arp(&c, ofs, key)) {
            lo->l3_ofs = (uint16_t) ofs;
        }
        break;
    case ETH_TYPE_MPLS:
    case ETH_TYPE_MPLS_MCAST:
        if (parse_mpls(&c, ofs, key)) {
            lo->mpls_ofs = (uint16_t) ofs;
        }
        break;
    default:
        break;
    }
    return 0;
}

int
fkey_extract(const void *data, size_t len, const struct pkt_metadata *md,
             struct flow_key *key)
{
    struct fkey_layout unused;

    return extract(data, len, md, key, &unused);
}

int
fkey_extract_layout(const void *data, size_t len,
                    const struct pkt_metadata *md, struct flow_key *key,
                    struct fkey_layout *layout)
{
    return extract(data, len, md, key, layout);
}
