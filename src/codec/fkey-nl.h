/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_CODEC_FKEY_NL_H
#define WEIR_CODEC_FKEY_NL_H 1

/* Flow keys and masks <-> OVS_KEY_ATTR_* netlink attributes.
 *
 * What
 * ====
 *
 * Converts a 'struct flow_key' (and a 'struct flow_mask' for it) to and from
 * the attribute stream that the Linux openvswitch module puts in
 * OVS_FLOW_ATTR_KEY, OVS_FLOW_ATTR_MASK and OVS_PACKET_ATTR_KEY, byte for
 * byte as the module composes it, so that ovs-vswitchd and other peers of
 * the kernel datapath can talk to weir unchanged.
 *
 * Design
 * ======
 *
 * Output.  The encoders follow the kernel's canonical composition: one
 * fixed order, every attribute that the key implies, nothing else, so that
 * equal keys encode to equal bytes (peers hash and compare keys they cannot
 * parse).  The order is
 *
 *   recirc_id, dp_hash, skb_priority, in_port, skb_mark, eth,
 *   [eth_type(tpid), vlan(tci), encap(                 -- 0 to 2 times
 *   eth_type, ipv4 | ipv6, ipv6_exthdrs | arp | mpls,
 *   tcp, tcp_flags | udp | sctp | icmp | icmpv6 [, nd]  )...]
 *
 * Which attributes appear is decided by the key alone (packet/flow-key.h
 * explains how); a mask is written in the same shape as its key with the
 * mask's values (the kernel's "is_mask" encoding), with these special
 * values: the TPID of a tag is written as 0xffff; in_port is written as
 * 0xffff0000 | the low 16 bits of the mask, or, for a key without a port,
 * as 0xffffffff when the mask is exact and not at all otherwise; an 802.2
 * key, which has no eth_type attribute, has one in its mask if the mask of
 * 'eth_type' is nonzero; an MPLS mask that does not match the label count
 * ('n_mpls' 0) has an empty mpls attribute, as the kernel writes as many
 * labels as the mask has.  The encoders never fail halfway: on -EMSGSIZE the
 * caller's message is exactly as it was (the attributes are composed in a
 * scratch buffer first, then copied in one go).
 *
 * Input.  Decoders accept what the kernel accepts, in any order, with
 * these exceptions and choices:
 *
 *   - Attribute types unknown to this build (above OVS_KEY_ATTR_MAX, or
 *     with no entry in codec/fkey-attrs.h) are skipped: FKEY_FIT_TOO_MUCH.
 *     The kernel rejects them; ovs-vswitchd skips them.
 *   - Conntrack (ct_state, ct_zone, ct_mark, ct_label, ct_tuple4/6),
 *     tunnel, nsh, packet_type and nd_ext are known but not supported yet.
 *     Their length is checked (a nested one must be a well-formed stream),
 *     then they are skipped.  An all-zero value says nothing that the
 *     key's reserved, zero fields do not already say (a kernel built with
 *     conntrack reports ct_state(0),ct_zone(0),ct_mark(0),ct_label(0) for
 *     every packet), so it is skipped silently; a nonzero value or mask
 *     makes the result FKEY_FIT_TOO_MUCH.  A caller that installs flows
 *     MUST refuse TOO_MUCH: the bits it dropped would otherwise widen the
 *     match.
 *   - Levels are not merged.  The kernel folds the attributes inside an
 *     encap into one set with the outer ones; here every attribute must sit
 *     at the level where the kernel emits it.  Metadata and eth inside an
 *     encap are an error; an L3 or L4 attribute at the wrong level is not
 *     expected there (TOO_MUCH) and is missing where it belongs
 *     (TOO_LITTLE).  Duplicates are an error within one level only.
 *   - Attributes that the key does not call for (tcp in a UDP key, tcp in
 *     a later fragment, nd for an ICMPv6 echo, anything after a third VLAN
 *     tag, ...) are skipped: FKEY_FIT_TOO_MUCH.  Attributes the key calls
 *     for but that are absent (ipv4 for eth_type 0x0800, tcp and tcp_flags
 *     for proto 6, nd for ICMPv6 type 135/136, nsh for eth_type 0x894f)
 *     give FKEY_FIT_TOO_LITTLE with the missing fields zero.  The kernel
 *     rejects the latter; ovs-vswitchd uses the same fitness.  ipv6_exthdrs
 *     (Linux 5.18+) is optional on input and always written for IPv6.
 *   - Errors (FKEY_FIT_ERROR, with a reason): a truncated attribute or
 *     trailing bytes; a duplicate; a wrong length for a fixed-size
 *     attribute; an MPLS attribute that is not 0 to 3 whole LSEs (0 is a
 *     truncated MPLS header, which the kernel emits but does not accept
 *     back; weir accepts it so that its own keys round-trip); neither eth
 *     nor eth_type; eth_type below 0x0600; in_port 65535 or above (the
 *     kernel's DP_MAX_PORTS); vlan or encap without a VLAN eth_type, a VLAN
 *     eth_type without vlan and encap, a nonzero TCI without VLAN_CFI, a
 *     truncated tag (TCI 0) with a nonempty encap; IPv4/IPv6 frag above 2;
 *     an IPv6 flow label above 20 bits; an ARP opcode above 255.
 *
 * Masks.  fmask_from_nl() reads a mask in the shape of its key, like the
 * kernel: an all-zero mask attribute counts as absent, an absent one
 * wildcards its fields, and attributes the key does not have are an error
 * (the kernel's "Unexpected mask").  The installed mask may be narrower
 * than the one requested; these are the rules, kernel ones first:
 *
 *   - in_port is exact or wildcarded, never partial: exact when the low 16
 *     bits of the attribute are nonzero.  (The kernel makes any nonzero
 *     value exact, but writes a wildcarded port as 0xffff0000; reading that
 *     as a wildcard keeps kernel dumps meaningful.)
 *   - eth_type, when present, is exact; mac_proto is always exact.
 *   - The TCI of every VLAN level is exact unless the mask has an encap for
 *     that level; then the mask's TCI is used and must include VLAN_CFI,
 *     and the mask's TPID must be 0xffff.  An encap mask for a truncated
 *     tag is an error.  The TPIDs of all levels are exact.  A vlan mask
 *     without encap is ignored (the kernel rejects it); a TPID mask
 *     without encap makes 'eth_type' exact, as the kernel reads it as the
 *     eth_type mask.
 *   - L3 masks (ipv4, ipv6, ipv6_exthdrs, arp, mpls) need an exact eth_type
 *     mask, L4 masks (tcp, tcp_flags, udp, sctp, icmp, icmpv6) an exact
 *     nw_proto mask, and nd an ICMPv6 type mask of 0xff; otherwise error.
 *   - (weir) An 802.2 key's eth_type is always exact.  The kernel would
 *     let a mask without eth_type match Ethernet II frames too.
 *   - (weir) With an mpls mask, the number of labels is exact ('n_mpls'
 *     mask 0xff); the mask may not have more labels than the key.  The
 *     kernel's label-count bitmap also matches packets with more labels.
 *   - Duplicates are an error even when all-zero (the kernel would let two
 *     all-zero copies through).
 *
 * Fields that no attribute covers (reserved tunnel and conntrack room,
 * padding) are zero in decoded keys and masks.  A truncated tag ("vlan(0),
 * encap()") decodes with 'eth_type' equal to its TPID, as packet
 * extraction sets it; the encoders ignore everything after such a tag.
 *
 * Thread-safety
 * =============
 *
 * Pure functions of their arguments.
 *
 * Ownership
 * =========
 *
 * Nothing is allocated.  Encoders write only inside the caller's buffer;
 * decoders only read their input.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct errbuf;
struct flow_key;
struct flow_mask;
struct nlmsghdr;

/* 'in_port' of a key that has no in_port attribute ("no port").  Real
 * ports are below 65535, the kernel's DP_MAX_PORTS. */
#define FKEY_IN_PORT_NONE UINT32_MAX

/* Upper bound on the bytes fkey_to_nl() or fmask_to_nl() append, for
 * sizing buffers.  The largest key (two VLAN tags around IPv6 + ICMPv6 +
 * nd) needs 196. */
#define FKEY_NL_MAX_LEN 320

/* How well an attribute stream matched what this build expects.  Values
 * are ordered: a worse fitness is a larger value. */
enum fkey_fit {
    FKEY_FIT_PERFECT,       /* Exactly the attributes the key implies. */
    FKEY_FIT_TOO_MUCH,      /* Also attributes skipped or not understood. */
    FKEY_FIT_TOO_LITTLE,    /* Attributes the key implies are missing. */
    FKEY_FIT_ERROR,         /* Malformed; the reason is in the errbuf. */
};

/* Returns "perfect", "too_much", "too_little" or "error" ("unknown" for
 * other values). */
const char *fkey_fit_to_string(enum fkey_fit);

/* Appends the attributes of 'key' at the tail of 'nlh', a buffer of
 * 'buflen' bytes, in the kernel's canonical order.  The caller opens a nest
 * first if it wants one (mnl_attr_nest_start_check()).
 *
 * 'key' must be consistent as packet/flow-key.h describes, as every key
 * from fkey_from_nl() or packet extraction is.  Fields the key's
 * attributes do not cover are not written.
 *
 * Ownership: writes only inside 'nlh', at most FKEY_NL_MAX_LEN bytes.
 * Returns: 0, or -EMSGSIZE if they do not fit, leaving 'nlh' unchanged. */
int fkey_to_nl(const struct flow_key *key, struct nlmsghdr *nlh,
               size_t buflen);

/* Same for a mask of 'key' (the kernel's is_mask encoding): which
 * attributes appear is decided by 'key', values come from 'mask'.
 *
 * Returns: 0, or -EMSGSIZE leaving 'nlh' unchanged. */
int fmask_to_nl(const struct flow_key *key, const struct flow_mask *mask,
                struct nlmsghdr *nlh, size_t buflen);

/* Decodes the attribute stream 'attrs' of 'len' bytes (the payload of an
 * OVS_FLOW_ATTR_KEY nest, or any bare stream) into 'key'.  Order of input
 * attributes is not significant.  See "Input" above for what is skipped,
 * what is missing and what is an error.
 *
 * 'attrs' needs no particular alignment.  A key without in_port gets
 * FKEY_IN_PORT_NONE; every field the attributes do not set is zero.
 *
 * Returns: the fitness.  On FKEY_FIT_ERROR, 'key' is all-zero and 'err'
 * (may be NULL) holds the reason; otherwise 'err' is not touched. */
enum fkey_fit fkey_from_nl(const void *attrs, size_t len,
                           struct flow_key *key, struct errbuf *err);

/* Decodes a mask stream for 'key', a key as fkey_from_nl() returns it.
 * 'attrs' NULL means "no mask attribute": exact match on every field the
 * key's attributes carry (kernel semantics; fields of attributes the key
 * does not have stay wildcarded).  Attributes missing from a present mask
 * are wildcarded.  The result may be narrower than requested; see "Masks"
 * above for the rules.
 *
 * Returns: FKEY_FIT_PERFECT, FKEY_FIT_TOO_MUCH (unknown or unsupported
 * nonzero mask attributes skipped: refuse to install), or FKEY_FIT_ERROR
 * with 'mask' all-zero and the reason in 'err' (may be NULL). */
enum fkey_fit fmask_from_nl(const void *attrs, size_t len,
                            const struct flow_key *key,
                            struct flow_mask *mask, struct errbuf *err);

/* Returns true if 'a' and 'b' encode to the same attribute bytes, that is,
 * if they are the same key as far as the datapath interface can tell
 * (fields their attributes do not cover are ignored). */
bool fkey_nl_equal(const struct flow_key *a, const struct flow_key *b);

#endif /* codec/fkey-nl.h */
