/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_PACKET_FLOW_EXTRACT_H
#define WEIR_PACKET_FLOW_EXTRACT_H 1

/* Flow extraction: an Ethernet frame in, a 'struct flow_key' out.
 *
 * What
 * ====
 *
 * fkey_extract() is the datapath's packet parser.  It reads Ethernet, up to
 * two 802.1Q/802.1ad tags, 802.3 LLC/SNAP, up to three MPLS labels,
 * IPv4 (options skipped), IPv6 (extension header chain walked), ARP/RARP,
 * TCP, UDP, SCTP, ICMP, ICMPv6 and IPv6 neighbour discovery, and fills the
 * key exactly as the Linux kernel's openvswitch module (key_extract() in
 * net/openvswitch/flow.c) would, so that keys we send upward are the keys
 * an OVS userspace expects from a kernel datapath.
 *
 * Design
 * ======
 *
 * The key is zeroed first and only ever written forward, so a header that
 * is absent, truncated or malformed simply leaves its fields zero; the
 * codec still reports the attribute (packet/flow-key.h, seed 004).  A frame
 * with a complete 14-byte Ethernet header is never rejected; only a shorter
 * one is, since it has no key.  The kernel rules this implies, in short:
 *
 *   - A VLAN TPID is a tag only if the TCI and the next Ethernet type (6
 *     bytes in all) are present.  Otherwise vlan[i].tpid keeps the TPID,
 *     vlan[i].tci stays 0 and 'eth_type' is the TPID.  A third TPID is
 *     left as 'eth_type'.  A TPID found in a SNAP header (802.3 frame)
 *     is recorded like a truncated tag in the next free vlan[i].
 *   - An Ethernet type below 0x0600 is an 802.3 length: LLC/SNAP with
 *     DSAP=SSAP=0xaa and OUI 0 yields the SNAP type if it is at least
 *     0x0600; anything else is ETH_TYPE_802_2 (0x0004).
 *   - IPv4 with fewer than 20 bytes, IHL below 5 or a header longer than
 *     the frame leaves all L3 and L4 fields zero.  The total length field
 *     is not consulted, so trailer bytes count as payload.
 *   - IPv6 with fewer than 40 bytes leaves all L3 and L4 fields zero.  The
 *     extension header chain is walked as the kernel's ipv6_find_hdr()
 *     does; a truncated chain leaves 'nw_proto' at 59 (no next header)
 *     with no L4, and a later fragment has nw_proto 44.  'ipv6_exthdrs'
 *     follows the kernel's get_ipv6_ext_hdrs() bit for bit, including its
 *     quirks (see flow-extract.c).
 *   - Later fragments (IPv4 or IPv6) have no L4 fields.
 *   - L4 headers too short for the protocol (TCP 20 bytes and its data
 *     offset, UDP 8, SCTP 12, ICMP/ICMPv6 8) leave the ports zero.
 *   - ARP/RARP fields are filled only for Ethernet/IPv4 ARP with all 28
 *     bytes present; an opcode above 0xff is stored as 0.
 *   - ND (ICMPv6 type 135/136, code 0) fills the target if 24 bytes are
 *     present, then SLL/TLL options; a zero-length or overlong option stops
 *     option parsing, a repeated SLL or TLL zeroes all three ND fields.
 *   - MPLS: labels are read up to the bottom of stack and the first three
 *     kept.  A stack truncated before its bottom reports no labels at all
 *     (n_mpls 0, all LSEs zero), which is what the kernel sends upward.
 *   - Nothing beyond the label stack is parsed for MPLS, and NSH is not
 *     parsed yet ('eth_type' only).
 *
 * fkey_extract_layout() is the same pass, also reporting where the
 * headers it read sit in the frame (struct fkey_layout), for code that
 * edits them (packet_parse() in packet/packet.h keeps them with the
 * packet).
 *
 * The parser touches only the frame and the key: no allocation, no
 * logging, no state.  It is on the per-packet path, so it is one forward
 * pass with a bounds check before every read.
 *
 * Thread-safety
 * =============
 *
 * Reentrant: any number of threads may call fkey_extract() at once.
 *
 * Ownership
 * =========
 *
 * The caller owns the frame, the metadata and the key; nothing is kept.
 */

#include <stddef.h>
#include <stdint.h>

#include "packet/flow-key.h"

/* Where a packet came from and what earlier processing decided about it:
 * the part of a flow key that is not in the packet bytes. */
struct pkt_metadata {
    uint32_t in_port;           /* Datapath port number. */
    uint32_t priority;          /* skb_priority. */
    uint32_t skb_mark;          /* skb_mark (pkt_mark). */
    uint32_t recirc_id;         /* 0 on first pass. */
    uint32_t dp_hash;           /* 0 = not computed. */
    be16 l3_type;               /* 0: the bytes are an Ethernet frame.
                                 * Else they have no Ethernet header (after
                                 * pop_eth or add_mpls) and start with a
                                 * header of this Ethernet type. */
};

/* Fills 'key' from the Ethernet frame 'data' of 'len' bytes and 'md'.
 * 'md' may be NULL, meaning all-zero metadata.  Every byte of 'key',
 * padding included, is written, so keys can be compared and hashed as
 * bytes.
 *
 * Never fails for len >= 14: malformed or truncated headers leave their
 * fields zero as the essay above describes.
 *
 * If md->l3_type is nonzero, 'data' is an L3 packet instead (no Ethernet
 * header; the kernel's MAC_PROTO_NONE): the key gets FKEY_MAC_NONE,
 * 'eth_type' md->l3_type, no addresses or tags, and the L3 and L4 fields
 * read from offset 0, with no minimum length.
 *
 * Context: any; does not allocate, log or block.
 * Ownership: reads 'len' bytes at 'data'; keeps no pointer into it.
 * Returns: 0; or -EINVAL if 'len' < 14 (Ethernet), with 'key' zeroed
 * except for the metadata taken from 'md'; or -EINVAL for an L3 packet
 * whose type is a VLAN TPID (the kernel refuses those too), with the
 * metadata, 'mac_proto' and 'eth_type' in 'key'. */
int fkey_extract(const void *data, size_t len,
                 const struct pkt_metadata *md, struct flow_key *key);

#define FKEY_OFS_NONE UINT16_MAX        /* struct fkey_layout: no header. */

/* Where the headers that filled a key sit in the frame: byte offsets from
 * its first byte, or FKEY_OFS_NONE.  An offset is present exactly when the
 * key holds fields read from that header, so code that edits a header the
 * key says is there (a set() action validated against the key) finds it
 * complete:
 *
 *   - 'mpls_ofs': the first label, when the key has labels ('n_mpls' > 0;
 *     a stack truncated before its bottom has none).
 *   - 'l3_ofs': the IPv4 header (at least 20 bytes and its IHL present),
 *     the IPv6 header (40 bytes) or the Ethernet/IPv4 ARP body (28 bytes).
 *   - 'l4_ofs': the TCP (20 bytes and its data offset), UDP (8), SCTP (12),
 *     ICMP or ICMPv6 (8) header whose fields are in the key.  None for a
 *     later fragment, another protocol, or a header too short.
 *
 * The one exception: an L4 header more than 65,534 bytes into the frame
 * (reachable only through a long IPv6 extension header chain in a frame
 * beyond any MTU) has its fields in the key but 'l4_ofs' FKEY_OFS_NONE. */
struct fkey_layout {
    uint16_t mpls_ofs;
    uint16_t l3_ofs;
    uint16_t l4_ofs;
};

/* fkey_extract(), which also fills 'layout' with the header offsets (all
 * FKEY_OFS_NONE when it returns -EINVAL).  The key is the one
 * fkey_extract() would give, byte for byte.
 * Context: any; does not allocate, log or block.
 * Ownership: as fkey_extract().
 * Returns: as fkey_extract(). */
int fkey_extract_layout(const void *data, size_t len,
                        const struct pkt_metadata *md, struct flow_key *key,
                        struct fkey_layout *layout);

#endif /* packet/flow-extract.h */
