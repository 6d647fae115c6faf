/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_CODEC_ACTIONS_TEXT_H
#define WEIR_CODEC_ACTIONS_TEXT_H 1

/* Datapath action lists as text, in the ovs-dpctl syntax.
 *
 * What
 * ====
 *
 * Converts OVS_ACTION_ATTR_* lists to and from the text Open vSwitch 3.1
 * prints after "actions:" in "ovs-dpctl dump-flows", e.g.
 *
 *     set(ipv4(src=10.0.0.1,ttl=63)),push_vlan(vid=5,pcp=0),2
 *
 * Design
 * ======
 *
 * Formatting follows OVS's format_odp_actions() rule for rule; the key
 * inside set() and set_masked() is printed by codec/fkey-text.h (set:
 * verbose, no mask; set_masked: value/mask, fields with a zero mask left
 * out, so a set_masked with an all-ones mask reads like a set).  Parsing
 * follows parse_odp_actions(): set(field(...)) becomes OVS_ACTION_ATTR_SET
 * when every mask bit is one, else OVS_ACTION_ATTR_SET_MASKED with the
 * value followed by the mask.
 *
 * OVS's text is lossy in a few places (it leaves out ct zone 0 and
 * eventmask, prints sample probabilities to 0.1%, drops add_mpls tunnel
 * flags, and leaves the OpenFlow in_port and bridge UUID out of a decoded
 * userspace cookie); weir prints what OVS prints wherever OVS would, so
 * that dump-flows output is the same, and the text (not always the bytes)
 * round-trips.  A 48-byte userspace cookie of a known type prints decoded
 * (sFlow(), slow_path(), flow_sample(), ipfix(), controller()), anything
 * else as userdata(hex).  Where OVS's text has no form for bytes weir must
 * keep, weir adds one:
 *
 *   - add_mpls(...,tun_flags=N) when the tunnel flags are nonzero;
 *   - nat(src=a-a), and ports p-p, when an IP_MAX (PROTO_MAX) equal to
 *     IP_MIN (PROTO_MIN) is present, and nat flags (persistent, hash,
 *     random) are kept even without an address;
 *   - dec_ttl(le_1(...)), which OVS 3.1 prints as "action23(...)", in the
 *     form later OVS releases use;
 *   - push_nsh(...,md2=0x0102) with every metadata byte, where OVS drops
 *     leading zero bytes and the leading zero of the first ("md2=0x102").
 *
 * Malformed input prints in OVS's error forms ("action99(01 02)", "bad
 * length 3, expected 4 for: action1(...)", "ct(error)", "***N leftover
 * bytes*** (...)"), which do not parse back.
 *
 * Thread-safety
 * =============
 *
 * Reentrant.
 *
 * Ownership
 * =========
 *
 * Inputs are borrowed; output goes to the caller's sbuf or bounded netlink
 * buffer.
 */

#include <stddef.h>

struct errbuf;
struct nlmsghdr;
struct sbuf;

/* Appends ovs-dpctl text for the action list 'acts' ('len' bytes) to
 * 'out': "drop" for an empty list.  Malformed input is printed in a clear
 * error form; it never crashes or reads out of bounds. */
void act_format(const void *acts, size_t len, struct sbuf *out);

/* Parses ovs-dpctl action text at 's' ("2,set(ipv4(src=1.2.3.4)),
 * userspace(pid=7)" or "drop"), appending OVS_ACTION_ATTR_* attributes at
 * the tail of 'nlh', a caller-provided buffer of 'buflen' bytes.  Parsing
 * stops at the end of the string or at the first character that cannot
 * continue the list (a blank, ')', ...); '*consumed' is set to the number
 * of characters used.
 *
 * Returns: 0; -EINVAL for a syntax error, with a reason naming the bad
 * token in 'err'; -EMSGSIZE if the result does not fit; -ENOMEM if the
 * scratch copy of a userdata() cookie cannot be allocated.  On error 'nlh'
 * is left as it was on entry. */
int act_parse(const char *s, size_t *consumed, struct nlmsghdr *nlh,
              size_t buflen, struct errbuf *err);

#endif /* codec/actions-text.h */
