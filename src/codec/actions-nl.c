/* SPDX-License-Identifier: Apache-2.0 */
/* Validation of OVS_ACTION_ATTR_* lists, with the kernel's rules (see the
 * essay in actions-nl.h), and accessors for the nested actions.  The text
 * form lives in actions-text.c. */

#include "codec/actions-nl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "codec/fkey-attrs.h"
#include "lib/errbuf.h"
#include "packet/flow-key.h"

#define ETH_HEADER_LEN  14      /* trunc() may not cut below this. */
#define TUN_OPTS_MAX    255     /* Kernel IP_TUNNEL_OPTS_MAX. */
#define NSH_MD2_MAX     248     /* Kernel NSH_CTX_HDRS_MAX_LEN. */
#define CT_HELPER_MAX   16      /* Kernel NF_CT_HELPER_NAME_LEN. */
#define CT_TIMEOUT_MAX  32      /* Kernel CTNL_TIMEOUT_NAME_MAX. */

/* Tunnel flags the kernel collects while parsing set(tunnel()). */
#define TUNF_KEY     (1u << 0)
#define TUNF_OTHER   (1u << 1)

static const struct {
    int len;
    const char *name;
} act_infos[OVS_ACTION_ATTR_MAX + 1] = {
    [OVS_ACTION_ATTR_UNSPEC] = { ACT_LEN_INVALID, "unspec" },
    [OVS_ACTION_ATTR_OUTPUT] = { 4, "output" },
    [OVS_ACTION_ATTR_USERSPACE] = { ACT_LEN_VARIABLE, "userspace" },
    [OVS_ACTION_ATTR_SET] = { ACT_LEN_VARIABLE, "set" },
    [OVS_ACTION_ATTR_PUSH_VLAN] = {
        sizeof(struct ovs_action_push_vlan), "push_vlan" },
    [OVS_ACTION_ATTR_POP_VLAN] = { 0, "pop_vlan" },
    [OVS_ACTION_ATTR_SAMPLE] = { ACT_LEN_VARIABLE, "sample" },
    [OVS_ACTION_ATTR_RECIRC] = { 4, "recirc" },
    [OVS_ACTION_ATTR_HASH] = { sizeof(struct ovs_action_hash), "hash" },
    [OVS_ACTION_ATTR_PUSH_MPLS] = {
        sizeof(struct ovs_action_push_mpls), "push_mpls" },
    [OVS_ACTION_ATTR_POP_MPLS] = { 2, "pop_mpls" },
    [OVS_ACTION_ATTR_SET_MASKED] = { ACT_LEN_VARIABLE, "set_masked" },
    [OVS_ACTION_ATTR_CT] = { ACT_LEN_VARIABLE, "ct" },
    [OVS_ACTION_ATTR_TRUNC] = { sizeof(struct ovs_action_trunc), "trunc" },
    [OVS_ACTION_ATTR_PUSH_ETH] = {
        sizeof(struct ovs_action_push_eth), "push_eth" },
    [OVS_ACTION_ATTR_POP_ETH] = { 0, "pop_eth" },
    [OVS_ACTION_ATTR_CT_CLEAR] = { 0, "ct_clear" },
    [OVS_ACTION_ATTR_PUSH_NSH] = { ACT_LEN_VARIABLE, "push_nsh" },
    [OVS_ACTION_ATTR_POP_NSH] = { 0, "pop_nsh" },
    [OVS_ACTION_ATTR_METER] = { 4, "meter" },
    [OVS_ACTION_ATTR_CLONE] = { ACT_LEN_VARIABLE, "clone" },
    [OVS_ACTION_ATTR_CHECK_PKT_LEN] = { ACT_LEN_VARIABLE, "check_pkt_len" },
    [OVS_ACTION_ATTR_ADD_MPLS] = {
        sizeof(struct ovs_action_add_mpls), "add_mpls" },
    [OVS_ACTION_ATTR_DEC_TTL] = { ACT_LEN_VARIABLE, "dec_ttl" },
};

int
act_attr_len(uint16_t type)
{
    return type <= OVS_ACTION_ATTR_MAX ? act_infos[type].len
                                       : ACT_LEN_INVALID;
}

const char *
act_attr_name(uint16_t type)
{
    return type <= OVS_ACTION_ATTR_MAX ? act_infos[type].name : "unknown";
}

/* What validation knows about the packet at the current action, as the
 * kernel's __ovs_nla_copy_actions() tracks it. */
enum mac_state {
    MAC_ETHERNET,               /* Packet starts with an Ethernet header. */
    MAC_NONE,                   /* L3 packet. */
    MAC_UNKNOWN,                /* After pop_nsh: depends on NSH fields. */
};

struct vstate {
    const struct flow_key *key; /* NULL: skip key-dependent checks. */
    be16 eth_type;              /* Current Ethernet type; 0 = unusable. */
    be16 vlan_tci;              /* Outer TCI; VLAN_CFI set = tagged. */
    uint32_t n_mpls;            /* MPLS labels on the packet. */
};

/* Walking attribute runs.  Like the kernel's nla_for_each_attr(), an
 * attribute must fit in what is left, but its trailing padding may be
 * missing at the very end. */
static const struct nlattr *
attr_first(const void *p, size_t len, size_t *rem)
{
    *rem = len;
    return p;
}

static bool
attr_ok(const struct nlattr *a, size_t rem)
{
    return rem >= sizeof *a && a->nla_len >= sizeof *a && a->nla_len <= rem;
}

static const struct nlattr *
attr_next(const struct nlattr *a, size_t *rem)
{
    size_t step = MNL_ALIGN(a->nla_len);

    *rem = step < *rem ? *rem - step : 0;
    return (const struct nlattr *) ((const char *) a + step);
}

#define ATTR_FOR_EACH(A, REM, P, LEN)                           \
    for ((A) = attr_first(P, LEN, &(REM)); attr_ok(A, REM);     \
         (A) = attr_next(A, &(REM)))

static uint16_t
attr_type(const struct nlattr *a)
{
    return a->nla_type & NLA_TYPE_MASK;
}

static size_t
attr_len(const struct nlattr *a)
{
    return a->nla_len - sizeof *a;
}

static const void *
attr_data(const struct nlattr *a)
{
    return a + 1;
}

static uint32_t
attr_u32(const struct nlattr *a)
{
    uint32_t v;

    memcpy(&v, attr_data(a), sizeof v);
    return v;
}

static uint16_t
attr_u16(const struct nlattr *a)
{
    uint16_t v;

    memcpy(&v, attr_data(a), sizeof v);
    return v;
}

static int
act_fail(struct errbuf *err, int error, uint16_t type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
act_fail(struct errbuf *err, int error, uint16_t type, const char *fmt, ...)
{
    char msg[ERRBUF_SIZE];
    va_list args;

    va_start(args, fmt);
    vsnprintf(msg, sizeof msg, fmt, args);
    va_end(args);
    errbuf_set(err, "%s: %s", act_attr_name(type), msg);
    return error;
}

/* Indexes the attributes of 'a' (types 1..'max') into 'tb', refusing
 * type 0, types above 'max', duplicates and trailing bytes. */
static int
index_nested(const struct nlattr *a, const struct nlattr **tb, uint16_t max,
             const char *what, struct errbuf *err)
{
    const struct nlattr *n;
    size_t rem;

    memset(tb, 0, (max + 1) * sizeof *tb);
    ATTR_FOR_EACH (n, rem, attr_data(a), attr_len(a)) {
        uint16_t t = attr_type(n);

        if (!t || t > max) {
            errbuf_set(err, "unknown %s attribute %"PRIu16, what, t);
            return -EINVAL;
        }
        if (tb[t]) {
            errbuf_set(err, "duplicate %s attribute %"PRIu16, what, t);
            return -EINVAL;
        }
        tb[t] = n;
    }
    if (rem) {
        errbuf_set(err, "%zu trailing bytes in %s attributes", rem, what);
        return -EINVAL;
    }
    return 0;
}

int
act_userspace_parse(const struct nlattr *a, struct act_userspace *u)
{
    const struct nlattr *tb[OVS_USERSPACE_ATTR_MAX + 1];
    const struct nlattr *pid, *tun, *acts;

    memset(u, 0, sizeof *u);
    if (index_nested(a, tb, OVS_USERSPACE_ATTR_MAX, "userspace", NULL)) {
        return -EINVAL;
    }
    pid = tb[OVS_USERSPACE_ATTR_PID];
    tun = tb[OVS_USERSPACE_ATTR_EGRESS_TUN_PORT];
    acts = tb[OVS_USERSPACE_ATTR_ACTIONS];
    if (!pid || attr_len(pid) != 4 || !attr_u32(pid)
        || (tun && attr_len(tun) != 4) || (acts && attr_len(acts))) {
        return -EINVAL;
    }
    u->pid = attr_u32(pid);
    if (tb[OVS_USERSPACE_ATTR_USERDATA]) {
        u->userdata = attr_data(tb[OVS_USERSPACE_ATTR_USERDATA]);
        u->userdata_len = attr_len(tb[OVS_USERSPACE_ATTR_USERDATA]);
    }
    if (tun) {
        u->has_tun_port = true;
        u->tun_port = attr_u32(tun);
    }
    u->include_actions = acts != NULL;
    return 0;
}

/* A nested action list may be empty, else it must hold a header. */
static bool
nested_list_ok(const struct nlattr *a)
{
    return !attr_len(a) || attr_len(a) >= sizeof(struct nlattr);
}

int
act_sample_parse(const struct nlattr *a, uint32_t *probability,
                 const struct nlattr **acts)
{
    const struct nlattr *tb[OVS_SAMPLE_ATTR_MAX + 1];
    const struct nlattr *p;

    if (index_nested(a, tb, OVS_SAMPLE_ATTR_MAX, "sample", NULL)) {
        return -EINVAL;
    }
    p = tb[OVS_SAMPLE_ATTR_PROBABILITY];
    *acts = tb[OVS_SAMPLE_ATTR_ACTIONS];
    if (!p || attr_len(p) != 4 || !*acts || !nested_list_ok(*acts)) {
        return -EINVAL;
    }
    *probability = attr_u32(p);
    return 0;
}

int
act_cpl_parse(const struct nlattr *a, uint16_t *pkt_len,
              const struct nlattr **gt, const struct nlattr **le)
{
    const struct nlattr *tb[OVS_CHECK_PKT_LEN_ATTR_MAX + 1];
    const struct nlattr *len;

    if (index_nested(a, tb, OVS_CHECK_PKT_LEN_ATTR_MAX, "check_pkt_len",
                     NULL)) {
        return -EINVAL;
    }
    len = tb[OVS_CHECK_PKT_LEN_ATTR_PKT_LEN];
    *gt = tb[OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER];
    *le = tb[OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL];
    if (!len || attr_len(len) != 2 || !attr_u16(len)
        || !*gt || !*le || !nested_list_ok(*gt) || !nested_list_ok(*le)) {
        return -EINVAL;
    }
    *pkt_len = attr_u16(len);
    return 0;
}

int
act_dec_ttl_parse(const struct nlattr *a, const struct nlattr **acts)
{
    const struct nlattr *tb[OVS_DEC_TTL_ATTR_MAX + 1];

    if (index_nested(a, tb, OVS_DEC_TTL_ATTR_MAX, "dec_ttl", NULL)) {
        return -EINVAL;
    }
    *acts = tb[OVS_DEC_TTL_ATTR_ACTION];
    return *acts && nested_list_ok(*acts) ? 0 : -EINVAL;
}

int
act_ct_parse(const struct nlattr *a, struct act_ct *ct, struct errbuf *err)
{
    /* Minimum and maximum payload length of each OVS_CT_ATTR_*. */
    static const int ct_lens[OVS_CT_ATTR_MAX + 1][2] = {
        [OVS_CT_ATTR_COMMIT] = { 0, 0 },
        [OVS_CT_ATTR_ZONE] = { 2, 2 },
        [OVS_CT_ATTR_MARK] = { 8, 8 },
        [OVS_CT_ATTR_LABELS] = { 32, 32 },
        [OVS_CT_ATTR_HELPER] = { 1, CT_HELPER_MAX },
        [OVS_CT_ATTR_NAT] = { 0, 65535 },
        [OVS_CT_ATTR_FORCE_COMMIT] = { 0, 0 },
        [OVS_CT_ATTR_EVENTMASK] = { 4, 4 },
        [OVS_CT_ATTR_TIMEOUT] = { 1, CT_TIMEOUT_MAX },
    };
    static const int nat_lens[OVS_NAT_ATTR_MAX + 1] = {
        [OVS_NAT_ATTR_IP_MIN] = -1,     /* 4 or 16. */
        [OVS_NAT_ATTR_IP_MAX] = -1,
        [OVS_NAT_ATTR_PROTO_MIN] = 2,
        [OVS_NAT_ATTR_PROTO_MAX] = 2,
    };
    int error;

    memset(ct, 0, sizeof *ct);
    error = index_nested(a, ct->attrs, OVS_CT_ATTR_MAX, "conntrack", err);
    if (error) {
        return error;
    }
    for (int t = 1; t <= OVS_CT_ATTR_MAX; t++) {
        const struct nlattr *n = ct->attrs[t];

        if (n && ((int) attr_len(n) < ct_lens[t][0]
                  || (int) attr_len(n) > ct_lens[t][1])) {
            errbuf_set(err, "conntrack attribute %d has length %zu", t,
                       attr_len(n));
            return -EINVAL;
        }
    }
    if (!ct->attrs[OVS_CT_ATTR_NAT]) {
        return 0;
    }
    error = index_nested(ct->attrs[OVS_CT_ATTR_NAT], ct->nat,
                         OVS_NAT_ATTR_MAX, "nat", err);
    if (error) {
        return error;
    }
    for (int t = 1; t <= OVS_NAT_ATTR_MAX; t++) {
        const struct nlattr *n = ct->nat[t];
        size_t len = n ? attr_len(n) : 0;

        if (n && (nat_lens[t] < 0 ? len != 4 && len != 16
                                  : len != (size_t) nat_lens[t])) {
            errbuf_set(err, "nat attribute %d has length %zu", t, len);
            return -EINVAL;
        }
    }
    return 0;
}

int
act_set_parse(const struct nlattr *a, const struct nlattr **key,
              size_t *key_len, const void **mask)
{
    const struct nlattr *k = attr_data(a);
    bool masked = attr_type(a) == OVS_ACTION_ATTR_SET_MASKED;

    /* Exactly one key attribute, filling the payload (kernel
     * validate_set()). */
    if (!attr_ok(k, attr_len(a))
        || (size_t) MNL_ALIGN(k->nla_len) != attr_len(a)) {
        return -EINVAL;
    }
    *key = k;
    *key_len = attr_len(k);
    *mask = NULL;
    if (masked) {
        if (*key_len % 2) {
            return -EINVAL;
        }
        *key_len /= 2;
        *mask = (const char *) attr_data(k) + *key_len;
    }
    return 0;
}

/* The kernel's ovs_key_lens[] as validate_set() applies it: the payload
 * length each settable key attribute must have, or -1 for nested. */
static int
set_key_len(uint16_t type)
{
    switch (type) {
    case OVS_KEY_ATTR_TUNNEL:
    case OVS_KEY_ATTR_NSH:
        return -1;
    case OVS_KEY_ATTR_MPLS:
        /* Only the top label stack entry can be set. */
        return sizeof(struct ovs_key_mpls);
    default:
        return fkey_attr_len(type);
    }
}

static bool
eth_type_is_ip(be16 eth_type)
{
    return eth_type == htons(ETH_TYPE_IP) || eth_type == htons(ETH_TYPE_IPV6);
}

static int
validate_tunnel(const struct nlattr *tun, struct errbuf *err)
{
    static const int lens[OVS_TUNNEL_KEY_ATTR_MAX + 1] = {
        [OVS_TUNNEL_KEY_ATTR_ID] = 8,
        [OVS_TUNNEL_KEY_ATTR_IPV4_SRC] = 4,
        [OVS_TUNNEL_KEY_ATTR_IPV4_DST] = 4,
        [OVS_TUNNEL_KEY_ATTR_TOS] = 1,
        [OVS_TUNNEL_KEY_ATTR_TTL] = 1,
        [OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT] = 0,
        [OVS_TUNNEL_KEY_ATTR_CSUM] = 0,
        [OVS_TUNNEL_KEY_ATTR_OAM] = 0,
        [OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS] = -1,
        [OVS_TUNNEL_KEY_ATTR_TP_SRC] = 2,
        [OVS_TUNNEL_KEY_ATTR_TP_DST] = 2,
        [OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS] = -1,
        [OVS_TUNNEL_KEY_ATTR_IPV6_SRC] = 16,
        [OVS_TUNNEL_KEY_ATTR_IPV6_DST] = 16,
        [OVS_TUNNEL_KEY_ATTR_PAD] = 0,
        [OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS] = -1,
        [OVS_TUNNEL_KEY_ATTR_IPV4_INFO_BRIDGE] = 0,
    };
    const struct nlattr *tb[OVS_TUNNEL_KEY_ATTR_MAX + 1] = { NULL };
    static const uint8_t zero16[16];
    bool ipv4 = false, ipv6 = false, bridge;
    unsigned int flags = 0;
    int n_opts = 0;
    const struct nlattr *a;
    size_t rem;

    ATTR_FOR_EACH (a, rem, attr_data(tun), attr_len(tun)) {
        uint16_t t = attr_type(a);
        size_t len = attr_len(a);

        if (t > OVS_TUNNEL_KEY_ATTR_MAX) {
            errbuf_set(err, "unknown tunnel attribute %"PRIu16, t);
            return -EINVAL;
        }
        if (tb[t]) {
            errbuf_set(err, "duplicate tunnel attribute %"PRIu16, t);
            return -EINVAL;
        }
        if (lens[t] >= 0 && len != (size_t) lens[t]) {
            errbuf_set(err, "tunnel attribute %"PRIu16" has length %zu, "
                       "expected %d", t, len, lens[t]);
            return -EINVAL;
        }
        tb[t] = a;
        switch (t) {
        case OVS_TUNNEL_KEY_ATTR_ID:
            flags |= TUNF_KEY;
            break;
        case OVS_TUNNEL_KEY_ATTR_IPV4_SRC:
        case OVS_TUNNEL_KEY_ATTR_IPV4_DST:
        case OVS_TUNNEL_KEY_ATTR_IPV4_INFO_BRIDGE:
            ipv4 = true;
            break;
        case OVS_TUNNEL_KEY_ATTR_IPV6_SRC:
        case OVS_TUNNEL_KEY_ATTR_IPV6_DST:
            ipv6 = true;
            break;
        case OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT:
        case OVS_TUNNEL_KEY_ATTR_CSUM:
        case OVS_TUNNEL_KEY_ATTR_OAM:
            flags |= TUNF_OTHER;
            break;
        case OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS: {
            const uint8_t *p = attr_data(a);
            size_t left = len;

            if (len > TUN_OPTS_MAX || len % 4) {
                errbuf_set(err, "bad geneve options length %zu", len);
                return -EINVAL;
            }
            while (left > 0) {
                size_t opt_len;

                if (left < 4) {
                    errbuf_set(err, "truncated geneve option");
                    return -EINVAL;
                }
                opt_len = 4 + (p[3] & 0x1f) * 4;
                if (opt_len > left) {
                    errbuf_set(err, "geneve option overruns options");
                    return -EINVAL;
                }
                p += opt_len;
                left -= opt_len;
            }
            n_opts++;
            flags |= TUNF_OTHER;
            break;
        }
        case OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS: {
            const struct nlattr *v;
            size_t vrem;

            ATTR_FOR_EACH (v, vrem, attr_data(a), len) {
                if (attr_type(v) != OVS_VXLAN_EXT_GBP
                    || attr_len(v) != 4) {
                    errbuf_set(err, "bad vxlan extension attribute %d",
                               attr_type(v));
                    return -EINVAL;
                }
            }
            if (vrem) {
                errbuf_set(err, "%zu trailing bytes in vxlan options", vrem);
                return -EINVAL;
            }
            n_opts++;
            flags |= TUNF_OTHER;
            break;
        }
        case OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS:
            if (len > TUN_OPTS_MAX) {
                errbuf_set(err, "bad erspan options length %zu", len);
                return -EINVAL;
            }
            n_opts++;
            flags |= TUNF_OTHER;
            break;
        default:
            break;
        }
        if (n_opts > 1) {
            errbuf_set(err, "multiple tunnel metadata blocks");
            return -EINVAL;
        }
    }
    if (rem) {
        errbuf_set(err, "%zu trailing bytes in tunnel attributes", rem);
        return -EINVAL;
    }
    if (ipv4 && ipv6) {
        errbuf_set(err, "mixed IPv4 and IPv6 tunnel attributes");
        return -EINVAL;
    }
    if (!ipv4 && !ipv6) {
        errbuf_set(err, "tunnel destination address not specified");
        return -EINVAL;
    }
    bridge = tb[OVS_TUNNEL_KEY_ATTR_IPV4_INFO_BRIDGE] != NULL;
    if (ipv4 && bridge) {
        static const int must_be_zero[] = {
            OVS_TUNNEL_KEY_ATTR_IPV4_SRC, OVS_TUNNEL_KEY_ATTR_IPV4_DST,
            OVS_TUNNEL_KEY_ATTR_TP_SRC, OVS_TUNNEL_KEY_ATTR_TP_DST,
            OVS_TUNNEL_KEY_ATTR_TTL, OVS_TUNNEL_KEY_ATTR_TOS,
        };

        for (size_t i = 0; i < sizeof must_be_zero / sizeof *must_be_zero;
             i++) {
            const struct nlattr *z = tb[must_be_zero[i]];

            if (z && memcmp(attr_data(z), zero16, attr_len(z))) {
                errbuf_set(err, "IPv4 bridge-mode tunnel info is not "
                           "correct");
                return -EINVAL;
            }
        }
        if (flags & ~TUNF_KEY) {
            errbuf_set(err, "IPv4 bridge-mode tunnel info is not correct");
            return -EINVAL;
        }
    } else if (ipv4) {
        const struct nlattr *dst = tb[OVS_TUNNEL_KEY_ATTR_IPV4_DST];

        if (!dst || !attr_u32(dst)) {
            errbuf_set(err, "IPv4 tunnel destination address is zero");
            return -EINVAL;
        }
    }
    if (ipv6) {
        const struct nlattr *dst = tb[OVS_TUNNEL_KEY_ATTR_IPV6_DST];

        if (!dst || !memcmp(attr_data(dst), zero16, 16)) {
            errbuf_set(err, "IPv6 tunnel destination address is zero");
            return -EINVAL;
        }
    }
    if (!tb[OVS_TUNNEL_KEY_ATTR_TTL] && !bridge) {
        errbuf_set(err, "tunnel TTL not specified");
        return -EINVAL;
    }
    return 0;
}

/* Validates the OVS_NSH_KEY_ATTR_* inside 'nsh' (kernel
 * nsh_key_put_from_nlattr()): for push_nsh a complete header, for set the
 * fields to write ('masked': each value followed by its mask). */
static int
validate_nsh(const struct nlattr *nsh, bool push, bool masked,
             struct errbuf *err)
{
    const struct nlattr *tb[OVS_NSH_KEY_ATTR_MAX + 1] = { NULL };
    size_t mult = masked ? 2 : 1;
    uint8_t mdtype = 0;
    const struct nlattr *a;
    size_t rem;

    ATTR_FOR_EACH (a, rem, attr_data(nsh), attr_len(nsh)) {
        uint16_t t = attr_type(a);
        size_t len = attr_len(a);

        if (!t || t > OVS_NSH_KEY_ATTR_MAX) {
            errbuf_set(err, "unknown nsh attribute %"PRIu16, t);
            return -EINVAL;
        }
        if (tb[t]) {
            errbuf_set(err, "duplicate nsh attribute %"PRIu16, t);
            return -EINVAL;
        }
        tb[t] = a;
        if (t == OVS_NSH_KEY_ATTR_BASE) {
            if (len != mult * sizeof(struct ovs_nsh_key_base)) {
                errbuf_set(err, "nsh base has length %zu", len);
                return -EINVAL;
            }
            mdtype = ((const struct ovs_nsh_key_base *) attr_data(a))->mdtype;
        } else if (t == OVS_NSH_KEY_ATTR_MD1) {
            if (len != mult * sizeof(struct ovs_nsh_key_md1)) {
                errbuf_set(err, "nsh md1 has length %zu", len);
                return -EINVAL;
            }
        } else {
            if (!push) {
                errbuf_set(err, "setting nsh md2 metadata is not "
                           "supported");
                return -EOPNOTSUPP;
            }
            if (!len || len > NSH_MD2_MAX) {
                errbuf_set(err, "nsh md2 has length %zu", len);
                return -EINVAL;
            }
        }
        if (masked) {
            const uint8_t *v = attr_data(a), *m = v + len / 2;

            for (size_t i = 0; i < len / 2; i++) {
                if (v[i] & ~m[i]) {
                    errbuf_set(err, "nsh value has bits outside its mask");
                    return -EINVAL;
                }
            }
        }
    }
    if (rem) {
        errbuf_set(err, "%zu trailing bytes in nsh attributes", rem);
        return -EINVAL;
    }
    if (tb[OVS_NSH_KEY_ATTR_MD1] && tb[OVS_NSH_KEY_ATTR_MD2]) {
        errbuf_set(err, "nsh md1 and md2 are exclusive");
        return -EINVAL;
    }
    if (!masked) {
        if ((tb[OVS_NSH_KEY_ATTR_MD1] && mdtype != 1)
            || (tb[OVS_NSH_KEY_ATTR_MD2] && mdtype != 2)) {
            errbuf_set(err, "nsh metadata does not match MD type %d",
                       mdtype);
            return -EINVAL;
        }
        if (push && (!tb[OVS_NSH_KEY_ATTR_BASE]
                     || (!tb[OVS_NSH_KEY_ATTR_MD1]
                         && !tb[OVS_NSH_KEY_ATTR_MD2]))) {
            errbuf_set(err, "missing nsh base or metadata");
            return -EINVAL;
        }
    }
    return 0;
}

/* The rules set(ipv4()) and set(ipv6()) share, as the kernel's
 * validate_set() has them: with a flow key, the packet must be of IP
 * version 'ver' (4 or 6); a mask may not cover proto or frag ('mask_pf'
 * is the OR of the mask's proto and frag bytes); without a mask both are
 * written, so they must equal the flow's.
 *
 * Returns: 0, or -EINVAL with a reason in 'err'. */
static int
validate_set_ip(uint16_t type, const struct vstate *st, int ver,
                uint8_t proto, uint8_t frag, uint8_t mask_pf, bool masked,
                struct errbuf *err)
{
    const struct flow_key *fk = st->key;
    be16 eth_type = htons(ver == 4 ? ETH_TYPE_IP : ETH_TYPE_IPV6);

    if (fk && st->eth_type != eth_type) {
        return act_fail(err, -EINVAL, type, "ipv%d() on a packet that is "
                        "not IPv%d", ver, ver);
    }
    if (masked && mask_pf) {
        return act_fail(err, -EINVAL, type, "ipv%d proto and frag may not "
                        "be set", ver);
    }
    /* A flow's frag is 0, 1 or 2, so a larger one never matches, with or
     * without a key. */
    if (!masked && (frag > FKEY_FRAG_LATER
                    || (fk && (proto != fk->nw_proto
                               || frag != fk->nw_frag)))) {
        return act_fail(err, -EINVAL, type, "ipv%d proto and frag must "
                        "equal the flow's", ver);
    }
    return 0;
}

static int
validate_set(const struct nlattr *a, const struct vstate *st,
             enum mac_state mac, struct errbuf *err)
{
    uint16_t type = attr_type(a);
    bool masked = type == OVS_ACTION_ATTR_SET_MASKED;
    const struct flow_key *fk = st->key;
    const struct nlattr *k;
    const uint8_t *value, *mask;
    const void *mask_;
    size_t klen;
    uint16_t kt;
    int expected, error;

    if (act_set_parse(a, &k, &klen, &mask_)) {
        return act_fail(err, -EINVAL, type,
                        "payload is not exactly one key attribute%s",
                        masked ? " of even length" : "");
    }
    kt = attr_type(k);
    value = attr_data(k);
    mask = mask_;
    expected = kt <= OVS_KEY_ATTR_MAX ? set_key_len(kt) : 0;
    if (expected > 0 && klen != (size_t) expected) {
        return act_fail(err, -EINVAL, type, "key attribute %s has length "
                        "%zu, expected %d", fkey_attr_name(kt), klen,
                        expected);
    }
    if (masked) {
        for (size_t i = 0; i < klen; i++) {
            if (value[i] & ~mask[i]) {
                return act_fail(err, -EINVAL, type, "value of %s has bits "
                                "outside the mask", fkey_attr_name(kt)
                                ? fkey_attr_name(kt) : "key");
            }
        }
    }

    switch (kt) {
    case OVS_KEY_ATTR_PRIORITY:
    case OVS_KEY_ATTR_SKB_MARK:
    case OVS_KEY_ATTR_CT_MARK:
    case OVS_KEY_ATTR_CT_LABELS:
        return 0;

    case OVS_KEY_ATTR_ETHERNET:
        if (fk && mac != MAC_ETHERNET && mac != MAC_UNKNOWN) {
            return act_fail(err, -EINVAL, type, "eth() on a packet "
                            "without an Ethernet header");
        }
        return 0;

    case OVS_KEY_ATTR_TUNNEL:
        if (masked) {
            return act_fail(err, -EINVAL, type,
                            "masked set of tunnel() is not supported");
        }
        error = validate_tunnel(k, err);
        if (error) {
            errbuf_prefix(err, "set: ");
        }
        return error;

    case OVS_KEY_ATTR_IPV4: {
        const struct ovs_key_ipv4 *v = (const void *) value;
        const struct ovs_key_ipv4 *m = (const void *) mask;

        return validate_set_ip(type, st, 4, v->ipv4_proto, v->ipv4_frag,
                               m ? m->ipv4_proto | m->ipv4_frag : 0,
                               m != NULL, err);
    }

    case OVS_KEY_ATTR_IPV6: {
        const struct ovs_key_ipv6 *v = (const void *) value;
        const struct ovs_key_ipv6 *m = (const void *) mask;

        error = validate_set_ip(type, st, 6, v->ipv6_proto, v->ipv6_frag,
                                m ? m->ipv6_proto | m->ipv6_frag : 0,
                                m != NULL, err);
        if (error) {
            return error;
        }
        if (m && ntohl(m->ipv6_label) & 0xfff00000) {
            return act_fail(err, -EINVAL, type, "ipv6 label mask has bits "
                            "above the 20-bit label");
        }
        if (ntohl(v->ipv6_label) & 0xfff00000) {
            return act_fail(err, -EINVAL, type, "ipv6 label has bits above "
                            "the 20-bit label");
        }
        return 0;
    }

    case OVS_KEY_ATTR_TCP:
    case OVS_KEY_ATTR_UDP:
    case OVS_KEY_ATTR_SCTP: {
        uint8_t proto = (kt == OVS_KEY_ATTR_TCP ? IPPROTO_TCP
                         : kt == OVS_KEY_ATTR_UDP ? IPPROTO_UDP
                         : IPPROTO_SCTP);

        if (fk && (!eth_type_is_ip(st->eth_type)
                   || fk->nw_proto != proto)) {
            return act_fail(err, -EINVAL, type, "%s() on a flow that is "
                            "not %s", fkey_attr_name(kt),
                            fkey_attr_name(kt));
        }
        return 0;
    }

    case OVS_KEY_ATTR_MPLS:
        if (fk && !fkey_eth_type_is_mpls(st->eth_type)) {
            return act_fail(err, -EINVAL, type, "mpls() on a packet that "
                            "is not MPLS");
        }
        return 0;

    case OVS_KEY_ATTR_NSH:
        /* The kernel checks a masked nsh() against the unmasked attribute
         * lengths (validate_nsh() with is_mask), so OVS's value/mask pairs
         * never pass; newer kernels refuse set(nsh()) altogether. */
        if (masked) {
            return act_fail(err, -EINVAL, type,
                            "masked set of nsh() is not supported");
        }
        if (fk && st->eth_type != htons(ETH_TYPE_NSH)) {
            return act_fail(err, -EINVAL, type, "nsh() on a packet that "
                            "is not NSH");
        }
        error = validate_nsh(k, false, masked, err);
        if (error) {
            errbuf_prefix(err, "%s: ", act_attr_name(type));
        }
        return error;

    default:
        return act_fail(err, -EINVAL, type, "key attribute %s may not be "
                        "set", fkey_attr_name(kt) ? fkey_attr_name(kt)
                        : "unknown");
    }
}

static int
validate_ct(const struct nlattr *a, const struct vstate *st,
            struct errbuf *err)
{
    static const uint8_t zero32[32];
    const struct flow_key *fk = st->key;
    const struct nlattr *helper, *timeout, *commit, *nat_attr;
    struct act_ct ct;
    size_t addr_len = 0;
    int error;

    error = act_ct_parse(a, &ct, err);
    if (error) {
        errbuf_prefix(err, "ct: ");
        return error;
    }
    if (fk && fk->eth_type != htons(ETH_TYPE_IP)
        && fk->eth_type != htons(ETH_TYPE_IPV6)) {
        return act_fail(err, -EINVAL, OVS_ACTION_ATTR_CT,
                        "flow is neither IPv4 nor IPv6");
    }
    if (ct.attrs[OVS_CT_ATTR_MARK]) {
        const uint8_t *m = attr_data(ct.attrs[OVS_CT_ATTR_MARK]);

        if (!memcmp(m + 4, zero32, 4)) {
            return act_fail(err, -EINVAL, OVS_ACTION_ATTR_CT,
                            "mark mask is zero");
        }
    }
    if (ct.attrs[OVS_CT_ATTR_LABELS]) {
        const uint8_t *l = attr_data(ct.attrs[OVS_CT_ATTR_LABELS]);

        if (!memcmp(l + 16, zero32, 16)) {
            return act_fail(err, -EINVAL, OVS_ACTION_ATTR_CT,
                            "label mask is zero");
        }
    }
    commit = ct.attrs[OVS_CT_ATTR_COMMIT] ? ct.attrs[OVS_CT_ATTR_COMMIT]
                                          : ct.attrs[OVS_CT_ATTR_FORCE_COMMIT];
    if (ct.attrs[OVS_CT_ATTR_COMMIT] && ct.attrs[OVS_CT_ATTR_FORCE_COMMIT]
        && ct.attrs[OVS_CT_ATTR_FORCE_COMMIT] < commit) {
        commit = ct.attrs[OVS_CT_ATTR_FORCE_COMMIT];
    }
    if (!commit && (ct.attrs[OVS_CT_ATTR_MARK]
                    || ct.attrs[OVS_CT_ATTR_LABELS])) {
        return act_fail(err, -EINVAL, OVS_ACTION_ATTR_CT,
                        "setting mark or label requires commit");
    }

    /* Strings must end with their only NUL. */
    helper = ct.attrs[OVS_CT_ATTR_HELPER];
    timeout = ct.attrs[OVS_CT_ATTR_TIMEOUT];
    for (int i = 0; i < 2; i++) {
        const struct nlattr *s = i ? timeout : helper;

        if (s && strnlen(attr_data(s), attr_len(s)) != attr_len(s) - 1) {
            return act_fail(err, -EINVAL, OVS_ACTION_ATTR_CT,
                            "%s is not a NUL-terminated string",
                            i ? "timeout" : "helper");
        }
        /* Stricter than the kernel: a name the ovs-dpctl syntax cannot
         * carry (OVS ends it at ',', ')' or a blank, and "timeout=" with
         * nothing after it does not parse) is refused. */
        if (s && attr_len(s) == 1) {
            return act_fail(err, -EINVAL, OVS_ACTION_ATTR_CT,
                            "%s name is empty", i ? "timeout" : "helper");
        }
        for (size_t j = 0; s && j + 1 < attr_len(s); j++) {
            char c = ((const char *) attr_data(s))[j];

            if (c <= ' ' || c > '~' || c == ',' || c == '(' || c == ')') {
                return act_fail(err, -EINVAL, OVS_ACTION_ATTR_CT,
                                "%s name has a character the text form "
                                "cannot carry", i ? "timeout" : "helper");
            }
        }
    }
    if (helper) {
        const char *name = attr_data(helper);
        uint8_t proto = !strcmp(name, "ftp") ? IPPROTO_TCP
                        : !strcmp(name, "tftp") ? IPPROTO_UDP : 0;

        if (!proto || (fk && fk->nw_proto != proto)) {
            return act_fail(err, -EINVAL, OVS_ACTION_ATTR_CT,
                            "unknown helper \"%s\" for this flow", name);
        }
    }

    nat_attr = ct.attrs[OVS_CT_ATTR_NAT];
    if (nat_attr) {
        const struct nlattr **nat = ct.nat;
        const struct nlattr *min = nat[OVS_NAT_ATTR_IP_MIN];
        const struct nlattr *max = nat[OVS_NAT_ATTR_IP_MAX];
        const struct nlattr *pmin = nat[OVS_NAT_ATTR_PROTO_MIN];
        const struct nlattr *pmax = nat[OVS_NAT_ATTR_PROTO_MAX];

        if (nat[OVS_NAT_ATTR_SRC] && nat[OVS_NAT_ATTR_DST]) {
            return act_fail(err, -ERANGE, OVS_ACTION_ATTR_CT,
                            "nat may not have both src and dst");
        }
        if (!nat[OVS_NAT_ATTR_SRC] && !nat[OVS_NAT_ATTR_DST]) {
            for (int t = OVS_NAT_ATTR_IP_MIN; t <= OVS_NAT_ATTR_MAX; t++) {
                if (nat[t]) {
                    return act_fail(err, -EINVAL, OVS_ACTION_ATTR_CT,
                                    "nat options need src or dst");
                }
            }
        } else if (!commit || commit > nat_attr) {
            return act_fail(err, -EINVAL, OVS_ACTION_ATTR_CT,
                            "nat(src/dst) requires an earlier commit");
        }
        if (fk) {
            addr_len = fk->eth_type == htons(ETH_TYPE_IP) ? 4 : 16;
        } else if (min) {
            addr_len = attr_len(min);
        }
        if ((min && attr_len(min) != addr_len)
            || (max && attr_len(max) != addr_len)) {
            return act_fail(err, -EINVAL, OVS_ACTION_ATTR_CT,
                            "nat address length does not match the flow");
        }
        /* The text form cannot express these, so refuse them. */
        if ((max && !min) || (pmax && !pmin) || (pmin && !min)) {
            return act_fail(err, -EINVAL, OVS_ACTION_ATTR_CT,
                            "nat range max without min, or ports "
                            "without addresses");
        }
        if ((max && memcmp(attr_data(min), attr_data(max), addr_len) > 0)
            || (pmax && attr_u16(pmin) > attr_u16(pmax))
            || (pmin && !attr_u16(pmin))) {
            return act_fail(err, -EINVAL, OVS_ACTION_ATTR_CT,
                            "nat range is empty");
        }
    }
    return 0;
}

static int validate_list(const void *acts, size_t len, struct vstate st,
                         unsigned int depth, struct errbuf *err);

static int
validate_nested(const struct nlattr *list, const struct vstate *st,
                unsigned int depth, const char *where, struct errbuf *err)
{
    int error = validate_list(attr_data(list), attr_len(list), *st,
                              depth + 1, err);

    if (error) {
        errbuf_prefix(err, "in %s: ", where);
    }
    return error;
}

static int
validate_action(const struct nlattr *a, struct vstate *st,
                enum mac_state *mac, unsigned int depth, struct errbuf *err)
{
    uint16_t type = attr_type(a);
    int expected = act_attr_len(type);
    bool known = st->key != NULL;
    size_t len = attr_len(a);
    int error;

    if (expected == ACT_LEN_INVALID) {
        errbuf_set(err, "unknown action type %"PRIu16, type);
        return -EINVAL;
    }
    if (expected >= 0 && len != (size_t) expected) {
        return act_fail(err, -EINVAL, type, "length %zu, expected %d",
                        len, expected);
    }

    switch (type) {
    case OVS_ACTION_ATTR_OUTPUT:
        if (attr_u32(a) >= DP_MAX_PORTS) {
            return act_fail(err, -EINVAL, type, "port %"PRIu32" is out of "
                            "range", attr_u32(a));
        }
        return 0;

    case OVS_ACTION_ATTR_USERSPACE: {
        struct act_userspace u;

        if (act_userspace_parse(a, &u)) {
            return act_fail(err, -EINVAL, type, "needs a nonzero 4-byte "
                            "pid and no unknown, duplicate or wrong-length "
                            "attributes");
        }
        return 0;
    }

    case OVS_ACTION_ATTR_TRUNC: {
        const struct ovs_action_trunc *t = attr_data(a);

        if (t->max_len < ETH_HEADER_LEN) {
            return act_fail(err, -EINVAL, type, "max_len %"PRIu32" is "
                            "below %d", t->max_len, ETH_HEADER_LEN);
        }
        return 0;
    }

    case OVS_ACTION_ATTR_HASH: {
        const struct ovs_action_hash *h = attr_data(a);

        if (h->hash_alg != OVS_HASH_ALG_L4) {
            return act_fail(err, -EINVAL, type, "unknown algorithm %"PRIu32,
                            h->hash_alg);
        }
        return 0;
    }

    case OVS_ACTION_ATTR_POP_VLAN:
        if (known && *mac == MAC_NONE) {
            return act_fail(err, -EINVAL, type, "packet has no Ethernet "
                            "header");
        }
        st->vlan_tci = 0;
        return 0;

    case OVS_ACTION_ATTR_PUSH_VLAN: {
        const struct ovs_action_push_vlan *v = attr_data(a);

        if (known && *mac == MAC_NONE) {
            return act_fail(err, -EINVAL, type, "packet has no Ethernet "
                            "header");
        }
        if (!fkey_eth_type_is_vlan(v->vlan_tpid)) {
            return act_fail(err, -EINVAL, type, "tpid 0x%04"PRIx16" is not "
                            "a VLAN type", ntohs(v->vlan_tpid));
        }
        if (!(v->vlan_tci & htons(VLAN_CFI))) {
            return act_fail(err, -EINVAL, type, "tci 0x%04"PRIx16" lacks "
                            "the CFI bit", ntohs(v->vlan_tci));
        }
        st->vlan_tci = v->vlan_tci;
        return 0;
    }

    case OVS_ACTION_ATTR_RECIRC:
    case OVS_ACTION_ATTR_CT_CLEAR:
    case OVS_ACTION_ATTR_METER:
        return 0;

    case OVS_ACTION_ATTR_PUSH_MPLS:
    case OVS_ACTION_ATTR_ADD_MPLS: {
        const struct ovs_action_add_mpls *m = attr_data(a);
        bool l3 = type == OVS_ACTION_ATTR_PUSH_MPLS
                  || m->tun_flags & OVS_MPLS_L3_TUNNEL_FLAG_MASK;

        if (!fkey_eth_type_is_mpls(m->mpls_ethertype)) {
            return act_fail(err, -EINVAL, type, "eth_type 0x%04"PRIx16" is "
                            "not 0x8847 or 0x8848", ntohs(m->mpls_ethertype));
        }
        if (l3 && known
            && (st->vlan_tci & htons(VLAN_CFI)
                || (!eth_type_is_ip(st->eth_type)
                    && st->eth_type != htons(ETH_TYPE_ARP)
                    && st->eth_type != htons(ETH_TYPE_RARP)
                    && !fkey_eth_type_is_mpls(st->eth_type)))) {
            return act_fail(err, -EINVAL, type, "packet is VLAN-tagged or "
                            "not IP, ARP or MPLS");
        }
        if (!l3 && *mac == MAC_ETHERNET) {
            st->n_mpls = 1;
            *mac = MAC_NONE;
        } else {
            st->n_mpls++;
        }
        st->eth_type = m->mpls_ethertype;
        return 0;
    }

    case OVS_ACTION_ATTR_POP_MPLS: {
        be16 proto;

        memcpy(&proto, attr_data(a), sizeof proto);
        if (known && (st->vlan_tci & htons(VLAN_CFI)
                      || !fkey_eth_type_is_mpls(st->eth_type))) {
            return act_fail(err, -EINVAL, type, "packet is VLAN-tagged or "
                            "not MPLS");
        }
        if (known && proto == htons(ETH_TYPE_TEB) && *mac != MAC_NONE) {
            return act_fail(err, -EINVAL, type, "eth_type 0x6558 needs an "
                            "L3 packet");
        }
        if (st->n_mpls) {
            st->n_mpls--;
        }
        st->eth_type = (fkey_eth_type_is_mpls(proto) && st->n_mpls
                        ? proto : 0);
        return 0;
    }

    case OVS_ACTION_ATTR_SET:
    case OVS_ACTION_ATTR_SET_MASKED:
        return validate_set(a, st, known ? *mac : MAC_UNKNOWN, err);

    case OVS_ACTION_ATTR_SAMPLE: {
        const struct nlattr *acts;
        uint32_t prob;

        if (act_sample_parse(a, &prob, &acts)) {
            return act_fail(err, -EINVAL, type, "needs one 4-byte "
                            "probability and one action list");
        }
        return validate_nested(acts, st, depth, "sample", err);
    }

    case OVS_ACTION_ATTR_CT:
        return validate_ct(a, st, err);

    case OVS_ACTION_ATTR_PUSH_ETH:
        if (known && *mac != MAC_NONE) {
            return act_fail(err, -EINVAL, type, "packet already has an "
                            "Ethernet header");
        }
        *mac = MAC_ETHERNET;
        return 0;

    case OVS_ACTION_ATTR_POP_ETH:
        if (known && (*mac == MAC_NONE || st->vlan_tci & htons(VLAN_CFI))) {
            return act_fail(err, -EINVAL, type, "packet has no Ethernet "
                            "header or is VLAN-tagged");
        }
        *mac = MAC_NONE;
        return 0;

    case OVS_ACTION_ATTR_PUSH_NSH: {
        const struct nlattr *k = attr_data(a);

        if (known && *mac != MAC_ETHERNET
            && !eth_type_is_ip(st->eth_type)
            && st->eth_type != htons(ETH_TYPE_NSH)
            && st->eth_type != htons(ETH_TYPE_TEB)
            && st->eth_type != htons(ETH_TYPE_MPLS)) {
            return act_fail(err, -EINVAL, type, "no NSH next protocol for "
                            "this packet");
        }
        if (!attr_ok(k, len) || (size_t) MNL_ALIGN(k->nla_len) != len
            || attr_type(k) != OVS_KEY_ATTR_NSH) {
            return act_fail(err, -EINVAL, type, "payload is not exactly "
                            "one nsh() key attribute");
        }
        error = validate_nsh(k, true, false, err);
        if (error) {
            errbuf_prefix(err, "push_nsh: ");
            return error;
        }
        *mac = MAC_NONE;
        return 0;
    }

    case OVS_ACTION_ATTR_POP_NSH:
        if (known && st->eth_type != htons(ETH_TYPE_NSH)) {
            return act_fail(err, -EINVAL, type, "packet is not NSH");
        }
        /* The next protocol is an NSH key field, not kept in 'struct
         * flow_key' yet, so the header that follows is unknown. */
        *mac = MAC_UNKNOWN;
        return 0;

    case OVS_ACTION_ATTR_CLONE:
        if (!nested_list_ok(a)) {
            return act_fail(err, -EINVAL, type, "length %zu is too short "
                            "for an action", len);
        }
        return validate_nested(a, st, depth, "clone", err);

    case OVS_ACTION_ATTR_CHECK_PKT_LEN: {
        const struct nlattr *gt, *le;
        uint16_t pkt_len;

        if (act_cpl_parse(a, &pkt_len, &gt, &le)) {
            return act_fail(err, -EINVAL, type, "needs a nonzero 2-byte "
                            "size and both action lists");
        }
        error = validate_nested(le, st, depth, "check_pkt_len le", err);
        return error ? error
                     : validate_nested(gt, st, depth, "check_pkt_len gt",
                                       err);
    }

    case OVS_ACTION_ATTR_DEC_TTL: {
        const struct nlattr *acts;

        if (act_dec_ttl_parse(a, &acts)) {
            return act_fail(err, -EINVAL, type, "needs exactly one action "
                            "list attribute");
        }
        return validate_nested(acts, st, depth, "dec_ttl", err);
    }

    default:
        errbuf_set(err, "unknown action type %"PRIu16, type);
        return -EINVAL;
    }
}

static int
validate_list(const void *acts, size_t len, struct vstate st,
              unsigned int depth, struct errbuf *err)
{
    enum mac_state mac = MAC_ETHERNET;
    const struct nlattr *a;
    size_t rem;

    if (depth > ACT_MAX_DEPTH) {
        errbuf_set(err, "actions nest deeper than %d levels",
                   ACT_MAX_DEPTH);
        return -EOVERFLOW;
    }
    /* Like the kernel, every list starts from the key's header type. */
    if (st.key) {
        mac = st.key->mac_proto == FKEY_MAC_NONE ? MAC_NONE : MAC_ETHERNET;
    }
    ATTR_FOR_EACH (a, rem, acts, len) {
        int error = validate_action(a, &st, &mac, depth, err);

        if (error) {
            return error;
        }
    }
    if (rem) {
        errbuf_set(err, "%zu trailing bytes after the actions (truncated "
                   "attribute?)", rem);
        return -EINVAL;
    }
    return 0;
}

int
act_validate(const void *acts, size_t len, const struct flow_key *key,
             struct errbuf *err)
{
    struct vstate st = { .key = key };

    errbuf_clear(err);
    if (len > ACT_MAX_LEN) {
        errbuf_set(err, "action list of %zu bytes is longer than the "
                   "kernel's limit of %d", len, ACT_MAX_LEN);
        return -EMSGSIZE;
    }
    if (key) {
        st.eth_type = key->eth_type;
        st.vlan_tci = key->vlan[0].tci;
        st.n_mpls = fkey_eth_type_is_mpls(key->eth_type) ? key->n_mpls : 0;
    }
    return validate_list(acts, len, st, 0, err);
}
