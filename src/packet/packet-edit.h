/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_PACKET_PACKET_EDIT_H
#define WEIR_PACKET_PACKET_EDIT_H 1

/* Header edits: what the datapath's actions do to a packet's bytes.
 *
 * What
 * ====
 *
 * Field writes (Ethernet addresses, IPv4 and IPv6 fields, TCP/UDP/SCTP
 * ports, the top MPLS label) with the checksum updates they imply, and
 * structural edits (push/pop of VLAN tags, MPLS labels and the Ethernet
 * header).  The executor (dp/execute.c) decides what to write, from an
 * action and the flow key; this file knows where the bytes are and how to
 * change them without breaking the packet.
 *
 * Design
 * ======
 *
 * Field writes find their header through the packet's offsets
 * ('l3_ofs', 'l4_ofs', set by packet_parse()), which are present exactly
 * when the whole header is (packet/flow-extract.h, struct fkey_layout), and
 * refuse with -EINVAL when it is not: the kernel fails such an action and
 * drops the packet, and so does the executor.  Values are full field
 * values, already merged with the old ones under the action's mask.
 *
 * Checksums are updated incrementally (RFC 1624, equation 3), as the
 * kernel's csum_replace*() do: the IPv4 header checksum for every IPv4
 * field; the TCP, UDP and ICMPv6 checksums for addresses in their pseudo
 * header and for ports.  A UDP checksum of 0 means "none" and stays 0; an
 * update that yields 0 stores 0xffff instead.  The SCTP CRC32c is
 * recomputed over the whole SCTP packet, and an error in the old one is
 * carried into the new one (new = old ^ correct_old ^ correct_new), as the
 * kernel does, so that a corrupt packet stays detectably corrupt.
 *
 * Structural edits move bytes in place, using the headroom
 * (packet_push()) for growth.  Pushing or popping a VLAN tag shifts the
 * header offsets; MPLS and Ethernet pushes and pops change which headers a
 * parser would find, so they set every offset to PKT_OFS_NONE and the
 * caller runs packet_parse() again.  Where an Ethernet type must change
 * (MPLS push/pop) it is the innermost one, after the VLAN tags.
 *
 * Thread-safety
 * =============
 *
 * Reentrant; each call touches only the packet it is given.
 *
 * Ownership
 * =========
 *
 * The caller owns the packet; nothing is kept.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "lib/byteorder.h"

struct packet;

#define PEDIT_ETH_LEN  14       /* Ethernet header. */
#define PEDIT_VLAN_LEN 4        /* One 802.1Q/802.1ad tag. */
#define PEDIT_MPLS_LEN 4        /* One label stack entry. */

/* ---- Checksums. ---- */

/* Returns the Internet checksum 'csum' (as stored in the packet) updated
 * for a 16-bit word of the data it covers changing from 'old' to 'new'
 * (both as stored).  One's complement sums do not depend on byte order, so
 * no conversion is needed. */
be16 pedit_csum_update16(be16 csum, be16 old, be16 new);

/* The same for a 32-bit word (two 16-bit words). */
be16 pedit_csum_update32(be16 csum, be32 old, be32 new);

/* The same for 'n' bytes (even) at 'old' replaced by those at 'new'; 'old'
 * and 'new' need no alignment. */
be16 pedit_csum_update_bytes(be16 csum, const void *old, const void *new,
                             size_t n);

/* Returns the Internet checksum (RFC 1071) of 'n' bytes at 'data', as it
 * would be stored in a header: the complement of their one's complement
 * sum.  For tests and for callers that compute a checksum from scratch. */
be16 pedit_csum(const void *data, size_t n);

/* Returns the CRC32c (Castagnoli) of 'n' bytes at 'data', continuing from
 * 'crc' (pass 0 to start): the conventional pre- and post-inverted value,
 * 0xe3069283 for "123456789". */
uint32_t pedit_crc32c(uint32_t crc, const void *data, size_t n);

/* Returns the SCTP checksum of the 'n'-byte SCTP packet at 'sctp' (common
 * header first, n >= 12), with its checksum field taken as zero, in the
 * form it is stored (RFC 4960 appendix B): write it with memcpy(). */
uint32_t pedit_sctp_csum(const void *sctp, size_t n);

/* ---- Field writes. ----
 *
 * Each returns 0, or -EINVAL (and changes nothing) when the packet lacks
 * the header: its offset is PKT_OFS_NONE or the header does not fit. */

/* Sets the Ethernet source and destination addresses (14-byte header
 * needed). */
int pedit_set_eth_addrs(struct packet *p, const uint8_t src[6],
                        const uint8_t dst[6]);

/* Sets the IPv4 source or destination address ('dst') to 'addr', updating
 * the header checksum and, unless the packet is a later fragment, the TCP
 * or UDP checksum (if at least 20 or 8 bytes of that header are there;
 * the transport header is found from the IHL, as the kernel finds it). */
int pedit_set_ipv4_addr(struct packet *p, bool dst, be32 addr);

/* Sets the IPv4 TOS byte (DSCP and ECN) or TTL, updating the header
 * checksum. */
int pedit_set_ipv4_tos(struct packet *p, uint8_t tos);
int pedit_set_ipv4_ttl(struct packet *p, uint8_t ttl);

/* Sets the IPv6 source or destination address ('dst') to '*addr'.  The
 * TCP, UDP or ICMPv6 checksum at 'l4_ofs' is updated when 'l4_proto' (the
 * flow key's nw_proto) names one of them and the header is there, except
 * for a destination change when a routing header with segments left is
 * in the chain (the pseudo header then holds the final destination, which
 * did not change), as the kernel does. */
int pedit_set_ipv6_addr(struct packet *p, bool dst,
                        const struct in6_addr *addr, uint8_t l4_proto);

/* Sets the IPv6 traffic class, flow label (low 20 bits of 'label') or hop
 * limit.  IPv6 has no header checksum and these are outside the pseudo
 * header. */
int pedit_set_ipv6_tclass(struct packet *p, uint8_t tclass);
int pedit_set_ipv6_label(struct packet *p, uint32_t label);
int pedit_set_ipv6_hlimit(struct packet *p, uint8_t hlimit);

/* Set the source and destination ports of the TCP, UDP or SCTP header at
 * 'l4_ofs' (whose protocol the caller has checked), updating the TCP or
 * UDP checksum (a UDP checksum of 0 stays 0) or recomputing the SCTP
 * CRC32c over the rest of the frame. */
int pedit_set_tcp_ports(struct packet *p, be16 src, be16 dst);
int pedit_set_udp_ports(struct packet *p, be16 src, be16 dst);
int pedit_set_sctp_ports(struct packet *p, be16 src, be16 dst);

/* Returns the top MPLS label stack entry, which starts 'l2_len' bytes into
 * the frame, in '*lse'.  Returns -EINVAL if it is not all there. */
int pedit_get_mpls_lse(const struct packet *p, size_t l2_len, be32 *lse);

/* Writes 'lse' as the top MPLS label stack entry, 'l2_len' bytes into the
 * frame. */
int pedit_set_mpls_lse(struct packet *p, size_t l2_len, be32 lse);

/* ---- Structural edits. ---- */

/* Returns the length of the Ethernet frame's L2 header: 14 bytes plus 4
 * for each VLAN tag (at most two) that is complete and followed by an
 * Ethernet type, the way packet/flow-extract.h counts tags; this is where
 * an MPLS label stack or the L3 header starts (the kernel's mac_len).
 * Returns 0 for a frame shorter than 14 bytes. */
size_t pedit_l2_len(const struct packet *p);

/* Inserts a VLAN tag with 'tpid' and 'tci' (both as stored; the caller
 * clears the key's "present" bit) as the outermost tag, after the
 * Ethernet addresses.  Offsets move by 4.
 * Returns: 0; -EINVAL for a frame shorter than 14 bytes; -ENOMEM if the
 * packet cannot grow. */
int pedit_push_vlan(struct packet *p, be16 tpid, be16 tci);

/* Removes the outermost VLAN tag.  Offsets move by 4.
 * Returns: 1 if a tag was removed; 0 if the Ethernet type after the
 * addresses is not a VLAN type (nothing to do, as in the kernel); -EINVAL
 * if the frame is too short for the tag and the type after it. */
int pedit_pop_vlan(struct packet *p);

/* Inserts the label stack entry 'lse' 'l2_len' bytes into the frame (after
 * the L2 header; 0 for a packet without one) and, when 'l2_len' is at
 * least 14, sets the innermost Ethernet type (the 2 bytes before the
 * label) to 'eth_type'.  Offsets become PKT_OFS_NONE.
 * Returns: 0; -EINVAL if 'l2_len' exceeds the packet; -ENOMEM. */
int pedit_push_mpls(struct packet *p, size_t l2_len, be16 eth_type,
                    be32 lse);

/* Removes the label stack entry 'l2_len' bytes into the frame and, when
 * 'l2_len' is at least 14, sets the innermost Ethernet type to
 * 'next_type'.  Offsets become PKT_OFS_NONE.
 * Returns: 0, or -EINVAL if the label is not all there. */
int pedit_pop_mpls(struct packet *p, size_t l2_len, be16 next_type);

/* Adds an Ethernet header (dst, src, 'eth_type') in front of an L3
 * packet.  Offsets become PKT_OFS_NONE.
 * Returns: 0, or -ENOMEM. */
int pedit_push_eth(struct packet *p, const uint8_t dst[6],
                   const uint8_t src[6], be16 eth_type);

/* Removes the first 'l2_len' bytes (the L2 header).  Offsets become
 * PKT_OFS_NONE.
 * Returns: 0, or -EINVAL if the packet is shorter. */
int pedit_pop_eth(struct packet *p, size_t l2_len);

#endif /* packet/packet-edit.h */
