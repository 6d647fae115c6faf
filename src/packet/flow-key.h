/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_PACKET_FLOW_KEY_H
#define WEIR_PACKET_FLOW_KEY_H 1

/* The flow key: what the datapath knows about one packet.
 *
 * What
 * ====
 *
 * 'struct flow_key' holds every field of the kernel's OVS_KEY_ATTR_* flow
 * key (linux/openvswitch.h) in a fixed layout: packet metadata, Ethernet,
 * up to two VLAN tags, up to three MPLS labels, IPv4/IPv6/ARP, TCP/UDP/SCTP
 * ports, TCP flags, ICMP/ICMPv6 type and code, and IPv6 neighbour discovery.
 * Conntrack and tunnel fields have reserved room (always zero until those
 * features land) so that adding them does not move the others.  NSH has no
 * room yet: an NSH packet's key stops at 'eth_type'.
 *
 * Design
 * ======
 *
 * The same struct doubles as a mask ('struct flow_mask'): a 1 bit means
 * "this key bit must match".  Megaflow lookup ANDs a packet's key with a
 * mask and compares bytes, so:
 *
 *   - every byte of a key, padding included, is defined: extraction starts
 *     from memset(0) and never leaves holes;
 *   - fields are grouped metadata, L2, L3, L4 so that a mask's nonzero
 *     bytes form one short range; the reserved tunnel and conntrack blocks
 *     come last for the same reason.
 *
 * Which attributes a key has is not stored separately; it follows from the
 * key itself, exactly as in the kernel (see codec/fkey-nl.h):
 *
 *   - 'eth_type' is the innermost Ethernet type after the VLAN tags, or
 *     ETH_TYPE_802_2 (0x0004) for 802.3 frames without SNAP, for which no
 *     eth_type attribute is sent;
 *   - vlan[i].tci has VLAN_CFI set when a complete tag was present; a tag
 *     whose TPID was seen but whose TCI was truncated leaves vlan[i].tpid
 *     set and vlan[i].tci zero: "eth_type(0x8100),vlan(0),encap()";
 *   - L3 fields are meaningful when eth_type is IPv4, IPv6, ARP/RARP or
 *     MPLS; L4 fields when the L3 protocol says so and 'nw_frag' is not
 *     FKEY_FRAG_LATER.  A header that is missing or truncated leaves its
 *     fields zero, but the attribute is still reported (seed 004).
 *
 * Thread-safety
 * =============
 *
 * Plain data.
 *
 * Ownership
 * =========
 *
 * Plain data, copied by value.
 */

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/byteorder.h"

#define ETH_ADDR_LEN 6

/* Ethernet types the key code cares about (host byte order). */
#define ETH_TYPE_802_2      0x0004  /* 802.3 frame without SNAP ethertype. */
#define ETH_TYPE_MIN        0x0600  /* Smaller values are 802.3 lengths. */
#define ETH_TYPE_IP         0x0800
#define ETH_TYPE_ARP        0x0806
#define ETH_TYPE_RARP       0x8035
#define ETH_TYPE_VLAN_8021Q 0x8100
#define ETH_TYPE_VLAN_8021AD 0x88a8
#define ETH_TYPE_IPV6       0x86dd
#define ETH_TYPE_MPLS       0x8847
#define ETH_TYPE_MPLS_MCAST 0x8848
#define ETH_TYPE_NSH        0x894f
#define ETH_TYPE_TEB        0x6558  /* Transparent Ethernet bridging. */

#define MPLS_BOS_BIT        0x00000100  /* Bottom of stack, in an LSE. */

#define VLAN_VID_MASK 0x0fff
#define VLAN_CFI      0x1000        /* "Tag present" in a key's TCI. */
#define VLAN_PCP_MASK 0xe000
#define VLAN_PCP_SHIFT 13

/* The kernel's DP_MAX_PORTS (USHRT_MAX): datapath port numbers (in_port,
 * output) are below it; the kernel keeps ports in 16 bits and uses 65535
 * itself for "no port". */
#define DP_MAX_PORTS 65535

#define FKEY_MAX_VLANS 2
#define FKEY_MAX_MPLS  3

/* 'nw_frag' values: the kernel's OVS_FRAG_TYPE_*. */
enum fkey_frag {
    FKEY_FRAG_NONE = 0,         /* Not a fragment. */
    FKEY_FRAG_FIRST = 1,        /* Fragment with offset 0. */
    FKEY_FRAG_LATER = 2,        /* Fragment with nonzero offset. */
};

/* 'mac_proto' values. */
enum fkey_mac_proto {
    FKEY_MAC_ETHERNET = 0,      /* Frame starts with an Ethernet header. */
    FKEY_MAC_NONE = 1,          /* L3 packet (after pop_eth); reserved. */
};

/* IPv6 extension headers seen, OVS_KEY_ATTR_IPV6_EXTHDRS bits (the
 * kernel's OFPIEH12_* numbering). */
enum fkey_ipv6_exthdr {
    FKEY_IPV6_EH_NONEXT = 1 << 0,   /* "No next header" was seen. */
    FKEY_IPV6_EH_ESP    = 1 << 1,   /* Encrypted Sec Payload header. */
    FKEY_IPV6_EH_AUTH   = 1 << 2,   /* Authentication header. */
    FKEY_IPV6_EH_DEST   = 1 << 3,   /* 1 or 2 destination options headers. */
    FKEY_IPV6_EH_FRAG   = 1 << 4,   /* Fragment header. */
    FKEY_IPV6_EH_ROUTER = 1 << 5,   /* Router header. */
    FKEY_IPV6_EH_HOP    = 1 << 6,   /* Hop-by-hop header. */
    FKEY_IPV6_EH_UNREP  = 1 << 7,   /* Unexpected repeats encountered. */
    FKEY_IPV6_EH_UNSEQ  = 1 << 8,   /* Unexpected sequencing encountered. */
};

/* One VLAN tag. */
struct fkey_vlan {
    be16 tpid;                  /* 0x8100 or 0x88a8; 0 when no tag. */
    be16 tci;                   /* With VLAN_CFI set when tag is complete. */
};

/* Reserved: tunnel metadata (OVS_KEY_ATTR_TUNNEL).  Always zero today. */
struct fkey_tunnel {
    be64 tun_id;
    be32 ipv4_src;
    be32 ipv4_dst;
    struct in6_addr ipv6_src;
    struct in6_addr ipv6_dst;
    be16 tp_src;
    be16 tp_dst;
    uint16_t flags;
    uint8_t tos;
    uint8_t ttl;
};

/* Reserved: conntrack state (OVS_KEY_ATTR_CT_*).  Always zero today. */
struct fkey_ct {
    uint32_t state;
    uint32_t mark;
    uint8_t labels[16];
    uint16_t zone;
    uint8_t orig_proto;
    uint8_t pad;
};

struct flow_key {
    /* Metadata: not from packet bytes.  20 bytes. */
    uint32_t recirc_id;         /* OVS_KEY_ATTR_RECIRC_ID. */
    uint32_t dp_hash;           /* OVS_KEY_ATTR_DP_HASH; 0 = not computed. */
    uint32_t priority;          /* OVS_KEY_ATTR_PRIORITY (skb_priority). */
    uint32_t in_port;           /* OVS_KEY_ATTR_IN_PORT. */
    uint32_t skb_mark;          /* OVS_KEY_ATTR_SKB_MARK. */

    /* L2. */
    uint8_t eth_src[ETH_ADDR_LEN];
    uint8_t eth_dst[ETH_ADDR_LEN];
    struct fkey_vlan vlan[FKEY_MAX_VLANS];  /* [0] is the outer tag. */
    be16 eth_type;              /* Innermost type; see the essay above. */
    uint8_t mac_proto;          /* enum fkey_mac_proto. */
    uint8_t n_mpls;             /* Labels in 'mpls_lse' (0 to 3). */
    be32 mpls_lse[FKEY_MAX_MPLS];   /* Outermost first, as on the wire. */

    /* L3.  'nw_*' serve IPv4 and IPv6; ARP uses the addresses below. */
    uint8_t nw_proto;           /* IPv4 proto / IPv6 last next-header. */
    uint8_t nw_tos;             /* IPv4 TOS / IPv6 traffic class. */
    uint8_t nw_ttl;             /* IPv4 TTL / IPv6 hop limit. */
    uint8_t nw_frag;            /* enum fkey_frag. */
    be32 ipv6_label;            /* Flow label, low 20 bits. */
    uint16_t ipv6_exthdrs;      /* enum fkey_ipv6_exthdr bits. */
    be16 arp_op;                /* ARP/RARP opcode. */
    union {
        struct {
            be32 src;           /* IPv4 source, or ARP SPA. */
            be32 dst;           /* IPv4 destination, or ARP TPA. */
        } ipv4;
        struct {
            struct in6_addr src;
            struct in6_addr dst;
        } ipv6;
    } addr;
    struct in6_addr nd_target;  /* IPv6 ND target. */
    uint8_t arp_sha[ETH_ADDR_LEN];  /* ARP SHA, or ND source link-layer. */
    uint8_t arp_tha[ETH_ADDR_LEN];  /* ARP THA, or ND target link-layer. */

    /* L4. */
    be16 tp_src;                /* TCP/UDP/SCTP port; ICMP(v6) type. */
    be16 tp_dst;                /* TCP/UDP/SCTP port; ICMP(v6) code. */
    be16 tcp_flags;             /* Low 12 bits of the TCP flags word. */
    uint16_t pad_l4;            /* Zero. */

    /* Reserved, zero until tunnels and conntrack land.  Last, so that the
     * common megaflow masks (metadata, L2, L3, L4) span a short range. */
    struct fkey_tunnel tunnel;
    struct fkey_ct ct;
};

/* A mask has the layout of a key; 1 bits must match. */
struct flow_mask {
    struct flow_key bits;
};

/* Offsets that split the key into its layers, for range hashing. */
#define FKEY_OFS_L2   offsetof(struct flow_key, eth_src)
#define FKEY_OFS_L3   offsetof(struct flow_key, nw_proto)
#define FKEY_OFS_L4   offsetof(struct flow_key, tp_src)
#define FKEY_OFS_RESERVED offsetof(struct flow_key, tunnel)

/* ICMP/ICMPv6 type and code live in 'tp_src'/'tp_dst' as the kernel
 * stores them: htons(type), htons(code). */
static inline uint8_t
fkey_icmp_type(const struct flow_key *k)
{
    return (uint8_t) ntohs(k->tp_src);
}

static inline uint8_t
fkey_icmp_code(const struct flow_key *k)
{
    return (uint8_t) ntohs(k->tp_dst);
}

/* Sets 'out' to 'key' with every bit that 'mask' wildcards cleared. */
static inline void
fkey_mask_apply(struct flow_key *out, const struct flow_key *key,
                const struct flow_mask *mask)
{
    const uint8_t *k = (const uint8_t *) key;
    const uint8_t *m = (const uint8_t *) &mask->bits;
    uint8_t *o = (uint8_t *) out;

    for (size_t i = 0; i < sizeof *key; i++) {
        o[i] = k[i] & m[i];
    }
}

/* Returns true if 'eth_type' (network order) is a VLAN TPID. */
static inline int
fkey_eth_type_is_vlan(be16 eth_type)
{
    return eth_type == htons(ETH_TYPE_VLAN_8021Q)
           || eth_type == htons(ETH_TYPE_VLAN_8021AD);
}

/* Returns true if 'eth_type' (network order) is an MPLS type. */
static inline int
fkey_eth_type_is_mpls(be16 eth_type)
{
    return eth_type == htons(ETH_TYPE_MPLS)
           || eth_type == htons(ETH_TYPE_MPLS_MCAST);
}

#endif /* packet/flow-key.h */
