/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_CODEC_ACTIONS_NL_H
#define WEIR_CODEC_ACTIONS_NL_H 1

/* Datapath action lists (OVS_ACTION_ATTR_*): validation and walking.
 *
 * What
 * ====
 *
 * A flow's actions, and the actions of an OVS_PACKET_CMD_EXECUTE, arrive
 * as a run of OVS_ACTION_ATTR_* netlink attributes.  act_validate() decides
 * whether the datapath accepts such a list, with the same rules as the
 * Linux kernel's openvswitch module (net/openvswitch/flow_netlink.c,
 * __ovs_nla_copy_actions() and its helpers, plus conntrack.c's parse_ct()).
 * The small accessors below let the executor and the text formatter read
 * the nested actions without repeating the parsing.
 *
 * Design
 * ======
 *
 * Validation walks the list once, recursing into sample, clone,
 * check_pkt_len and dec_ttl, and tracks what the kernel tracks while it
 * walks: the Ethernet type, the outer VLAN TCI, whether the packet has an
 * Ethernet header and how many MPLS labels it carries.  Those start from
 * the flow key, change with push/pop actions and decide which later
 * actions are allowed (set(ipv4) needs an IPv4 packet, pop_mpls an MPLS
 * one, and so on).  When no key is given every check that depends on this
 * state is skipped; everything else (lengths, nesting, masks, attribute
 * sets) is still checked.
 *
 * Where the kernel is lax only because of its generic netlink parser
 * (duplicate, oversized or unknown attributes inside userspace(),
 * check_pkt_len() and dec_ttl(), which it silently ignores), we reject
 * instead: house style rejects duplicates, wrong lengths and unknown
 * bytes, and it guarantees that every accepted list has exactly one text
 * form (codec/actions-text.h).  Open vSwitch never sends such lists.
 *
 * Thread-safety
 * =============
 *
 * Pure functions of their arguments.
 *
 * Ownership
 * =========
 *
 * Nothing is allocated.  Pointers returned by the accessors point into the
 * caller's action list.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/openvswitch.h>

struct errbuf;
struct flow_key;
struct nlattr;

/* Deepest nesting of action lists inside sample(), clone(),
 * check_pkt_len() and dec_ttl() that validation accepts: the top-level list
 * is depth 0 and a list at depth ACT_MAX_DEPTH + 1 is refused, as the
 * kernel's OVS_COPY_ACTIONS_MAX_DEPTH. */
#define ACT_MAX_DEPTH 16

/* Longest action list that validation accepts: the kernel's
 * MAX_ACTIONS_BUFSIZE.  The kernel applies it to its internal copy, which
 * can be larger than the list it was given (a set becomes a set_masked
 * twice the size), so a few lists shorter than this that the kernel would
 * still refuse are accepted here; none longer. */
#define ACT_MAX_LEN (32 * 1024)

/* Special values of act_attr_len(). */
#define ACT_LEN_INVALID  -1     /* Not an action this build accepts. */
#define ACT_LEN_VARIABLE -2     /* Nested or variable-length payload. */

/* Returns the payload length of action type 'type' (>= 0), or
 * ACT_LEN_VARIABLE, or ACT_LEN_INVALID for OVS_ACTION_ATTR_UNSPEC and
 * types this build does not know. */
int act_attr_len(uint16_t type);

/* Returns the ovs-dpctl name of action 'type' ("output", "userspace",
 * "set", ...) for error messages, or "unknown". */
const char *act_attr_name(uint16_t type);

/* Validates the action list 'acts' ('len' bytes, the payload of
 * OVS_FLOW_ATTR_ACTIONS or OVS_PACKET_ATTR_ACTIONS) for a flow whose key
 * is 'key' (may be NULL to skip the key-dependent checks) as the kernel
 * does.  The padding bytes between attributes are not looked at.
 *
 * Returns: 0; -EMSGSIZE for a list longer than ACT_MAX_LEN; -EINVAL for
 * a malformed or refused action (bad length,
 * unknown type, a field that may not be set, an action that does not fit
 * the packet the key describes, trailing bytes, ...); -EOVERFLOW when
 * lists nest deeper than ACT_MAX_DEPTH; -ERANGE for a ct(nat()) with both
 * src and dst; -EOPNOTSUPP for set(nsh()) with MD type 2 metadata (the
 * kernel's -ENOTSUPP).  On error 'err' names the action and what is
 * wrong. */
int act_validate(const void *acts, size_t len, const struct flow_key *key,
                 struct errbuf *err);

/* The parts of a userspace() action.  Absent parts are NULL / false. */
struct act_userspace {
    uint32_t pid;                       /* OVS_USERSPACE_ATTR_PID. */
    const void *userdata;               /* Cookie bytes, or NULL. */
    size_t userdata_len;
    bool has_tun_port;                  /* EGRESS_TUN_PORT present? */
    uint32_t tun_port;                  /* EGRESS_TUN_PORT value. */
    bool include_actions;               /* OVS_USERSPACE_ATTR_ACTIONS. */
};

/* Fills 'u' from the OVS_ACTION_ATTR_USERSPACE attribute 'a'.
 *
 * Returns: 0, or -EINVAL if 'a' is malformed (missing or zero pid, wrong
 * lengths, duplicates, unknown attributes, trailing bytes). */
int act_userspace_parse(const struct nlattr *a, struct act_userspace *u);

/* Fills '*probability' and '*acts' (the nested OVS_SAMPLE_ATTR_ACTIONS
 * attribute) from OVS_ACTION_ATTR_SAMPLE 'a'.
 *
 * Returns: 0, or -EINVAL if 'a' is malformed. */
int act_sample_parse(const struct nlattr *a, uint32_t *probability,
                     const struct nlattr **acts);

/* Fills '*pkt_len' and the two nested action lists from
 * OVS_ACTION_ATTR_CHECK_PKT_LEN 'a'.
 *
 * Returns: 0, or -EINVAL if 'a' is malformed (zero length, a branch
 * missing, duplicates, unknown attributes, trailing bytes). */
int act_cpl_parse(const struct nlattr *a, uint16_t *pkt_len,
                  const struct nlattr **gt, const struct nlattr **le);

/* Sets '*acts' to the OVS_DEC_TTL_ATTR_ACTION attribute of
 * OVS_ACTION_ATTR_DEC_TTL 'a', whose payload is the action list run when
 * the TTL would drop to 0 or below.
 *
 * Returns: 0, or -EINVAL if 'a' is malformed. */
int act_dec_ttl_parse(const struct nlattr *a, const struct nlattr **acts);

/* The OVS_CT_ATTR_* attributes of a ct() action, indexed by type (NULL
 * when absent), and the OVS_NAT_ATTR_* attributes of its nat(). */
struct act_ct {
    const struct nlattr *attrs[OVS_CT_ATTR_MAX + 1];
    const struct nlattr *nat[OVS_NAT_ATTR_MAX + 1];
};

/* Indexes OVS_ACTION_ATTR_CT 'a' into 'ct', checking each attribute's
 * length (kernel parse_ct() / parse_nat() tables; NAT addresses may be 4
 * or 16 bytes) and rejecting unknown and duplicate attributes.  Rules that
 * involve several attributes or the flow key are act_validate()'s.
 *
 * Returns: 0, or -EINVAL with a reason in 'err'. */
int act_ct_parse(const struct nlattr *a, struct act_ct *ct,
                 struct errbuf *err);

/* For OVS_ACTION_ATTR_SET or OVS_ACTION_ATTR_SET_MASKED 'a', sets '*key' to
 * the one key attribute inside and '*key_len' to the length of its value:
 * the whole payload for set, half of it for set_masked, whose mask
 * (*mask, else NULL) follows the value.
 *
 * Returns: 0, or -EINVAL if 'a' does not hold exactly one key attribute
 * (for set_masked, one of even length). */
int act_set_parse(const struct nlattr *a, const struct nlattr **key,
                  size_t *key_len, const void **mask);

#endif /* codec/actions-nl.h */
