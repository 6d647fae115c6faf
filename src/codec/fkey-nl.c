/* SPDX-License-Identifier: Apache-2.0 */
/* Flow keys and masks <-> OVS_KEY_ATTR_* attributes.  The wire rules and
 * every choice made where the kernel and ovs-vswitchd differ are in
 * fkey-nl.h.  Attribute lengths and names come from fkey-attrs.c.
 *
 * Encoding is one function for keys and masks, as in the kernel: the key
 * decides which attributes appear, the "values" key (the key itself, or
 * the mask) supplies their contents.  Decoding indexes one nesting level at
 * a time and walks the levels in the order the key's structure dictates;
 * for a mask that structure comes from the already decoded key. */

#include "codec/fkey-nl.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>

#include "codec/fkey-attrs.h"
#include "codec/nl-attr.h"
#include "lib/errbuf.h"
#include "packet/flow-key.h"

static_assert(OVS_KEY_ATTR_MAX < 64, "attribute bitmaps are 64 bits wide");

#define BIT(TYPE) (UINT64_C(1) << (TYPE))

#define ICMPV6_ND_SOLICIT 135
#define ICMPV6_ND_ADVERT  136

/* Attributes that only the outermost level may hold. */
static const uint64_t top_only_attrs =
    BIT(OVS_KEY_ATTR_PRIORITY) | BIT(OVS_KEY_ATTR_IN_PORT)
    | BIT(OVS_KEY_ATTR_SKB_MARK) | BIT(OVS_KEY_ATTR_DP_HASH)
    | BIT(OVS_KEY_ATTR_RECIRC_ID) | BIT(OVS_KEY_ATTR_ETHERNET)
    | BIT(OVS_KEY_ATTR_TUNNEL) | BIT(OVS_KEY_ATTR_CT_STATE)
    | BIT(OVS_KEY_ATTR_CT_ZONE) | BIT(OVS_KEY_ATTR_CT_MARK)
    | BIT(OVS_KEY_ATTR_CT_LABELS) | BIT(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4)
    | BIT(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6) | BIT(OVS_KEY_ATTR_PACKET_TYPE);

/* Known to the kernel, not yet to 'struct flow_key': length-checked and
 * skipped (see "Input" in fkey-nl.h). */
static const uint64_t unsupported_attrs =
    BIT(OVS_KEY_ATTR_TUNNEL) | BIT(OVS_KEY_ATTR_CT_STATE)
    | BIT(OVS_KEY_ATTR_CT_ZONE) | BIT(OVS_KEY_ATTR_CT_MARK)
    | BIT(OVS_KEY_ATTR_CT_LABELS) | BIT(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4)
    | BIT(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6) | BIT(OVS_KEY_ATTR_NSH)
    | BIT(OVS_KEY_ATTR_PACKET_TYPE) | BIT(OVS_KEY_ATTR_ND_EXTENSIONS);

const char *
fkey_fit_to_string(enum fkey_fit fit)
{
    switch (fit) {
    case FKEY_FIT_PERFECT:
        return "perfect";
    case FKEY_FIT_TOO_MUCH:
        return "too_much";
    case FKEY_FIT_TOO_LITTLE:
        return "too_little";
    case FKEY_FIT_ERROR:
        return "error";
    }
    return "unknown";
}

static const char *
attr_name(uint16_t type)
{
    const char *name = fkey_attr_name(type);

    return name ? name : "unknown";
}

/* ---------------------------------------------------------------------
 * Encoding.
 * --------------------------------------------------------------------- */

/* A scratch message that the attributes are composed in before they are
 * copied to the caller's buffer, so that a failure changes nothing. */
struct scratch {
    union {
        struct nlmsghdr nlh;
        alignas(8) uint8_t bytes[MNL_NLMSG_HDRLEN + FKEY_NL_MAX_LEN];
    } u;
};

/* Starts an empty scratch message.  Every byte put after the header is
 * defined (codec_attr_put() zeroes the padding), so equal keys give equal
 * bytes without clearing the whole buffer first. */
static void
scratch_init(struct scratch *s)
{
    mnl_nlmsg_put_header(s->u.bytes);
}

static bool
put_attr(struct scratch *s, uint16_t type, const void *data, size_t len)
{
    static const uint8_t nothing[1];

    return codec_attr_put(&s->u.nlh, sizeof s->u.bytes, type, len,
                          len ? data : nothing);
}

static bool
put_u32(struct scratch *s, uint16_t type, uint32_t value)
{
    return put_attr(s, type, &value, sizeof value);
}

static bool
put_be16(struct scratch *s, uint16_t type, be16 value)
{
    return put_attr(s, type, &value, sizeof value);
}

/* Opens an encap nest.  libmnl's nest functions set NLA_F_NESTED, which
 * the kernel does not set in keys it writes, so the header is written as
 * a plain empty attribute and its length fixed by close_nest().  Returns
 * the nest's offset in 's', or 0 if it does not fit. */
static size_t
open_nest(struct scratch *s, uint16_t type)
{
    size_t ofs = s->u.nlh.nlmsg_len;

    return put_attr(s, type, NULL, 0) ? ofs : 0;
}

static void
close_nest(struct scratch *s, size_t ofs)
{
    struct nlattr nla;

    memcpy(&nla, &s->u.bytes[ofs], sizeof nla);
    nla.nla_len = s->u.nlh.nlmsg_len - ofs;
    memcpy(&s->u.bytes[ofs], &nla, sizeof nla);
}

static bool
put_l3_l4(struct scratch *s, const struct flow_key *key,
          const struct flow_key *v, bool is_mask)
{
    uint16_t eth_type = ntohs(key->eth_type);

    if (eth_type == ETH_TYPE_IP) {
        struct ovs_key_ipv4 ipv4;

        memset(&ipv4, 0, sizeof ipv4);
        ipv4.ipv4_src = v->addr.ipv4.src;
        ipv4.ipv4_dst = v->addr.ipv4.dst;
        ipv4.ipv4_proto = v->nw_proto;
        ipv4.ipv4_tos = v->nw_tos;
        ipv4.ipv4_ttl = v->nw_ttl;
        ipv4.ipv4_frag = v->nw_frag;
        if (!put_attr(s, OVS_KEY_ATTR_IPV4, &ipv4, sizeof ipv4)) {
            return false;
        }
    } else if (eth_type == ETH_TYPE_IPV6) {
        struct ovs_key_ipv6_exthdrs exthdrs;
        struct ovs_key_ipv6 ipv6;

        memset(&ipv6, 0, sizeof ipv6);
        memcpy(ipv6.ipv6_src, &v->addr.ipv6.src, sizeof ipv6.ipv6_src);
        memcpy(ipv6.ipv6_dst, &v->addr.ipv6.dst, sizeof ipv6.ipv6_dst);
        ipv6.ipv6_label = v->ipv6_label;
        ipv6.ipv6_proto = v->nw_proto;
        ipv6.ipv6_tclass = v->nw_tos;
        ipv6.ipv6_hlimit = v->nw_ttl;
        ipv6.ipv6_frag = v->nw_frag;
        exthdrs.hdrs = v->ipv6_exthdrs;
        if (!put_attr(s, OVS_KEY_ATTR_IPV6, &ipv6, sizeof ipv6)
            || !put_attr(s, OVS_KEY_ATTR_IPV6_EXTHDRS, &exthdrs,
                         sizeof exthdrs)) {
            return false;
        }
    } else if (eth_type == ETH_TYPE_ARP || eth_type == ETH_TYPE_RARP) {
        struct ovs_key_arp arp;

        memset(&arp, 0, sizeof arp);
        arp.arp_sip = v->addr.ipv4.src;
        arp.arp_tip = v->addr.ipv4.dst;
        arp.arp_op = v->arp_op;
        memcpy(arp.arp_sha, v->arp_sha, ETH_ADDR_LEN);
        memcpy(arp.arp_tha, v->arp_tha, ETH_ADDR_LEN);
        return put_attr(s, OVS_KEY_ATTR_ARP, &arp, sizeof arp);
    } else if (fkey_eth_type_is_mpls(key->eth_type)) {
        size_t n = key->n_mpls < FKEY_MAX_MPLS ? key->n_mpls : FKEY_MAX_MPLS;

        /* A truncated MPLS header gives an empty attribute, as in the
         * kernel.  So does a mask without labels ('n_mpls' 0): the kernel
         * writes as many labels as the mask's own label count. */
        if (is_mask && !v->n_mpls) {
            n = 0;
        }
        return put_attr(s, OVS_KEY_ATTR_MPLS, v->mpls_lse,
                        n * sizeof v->mpls_lse[0]);
    } else {
        /* NSH is not supported yet; other types carry no L3 attribute. */
        return true;
    }

    /* IPv4 or IPv6: L4, unless this is a later fragment. */
    if (key->nw_frag == FKEY_FRAG_LATER) {
        return true;
    }
    switch (key->nw_proto) {
    case IPPROTO_TCP: {
        struct ovs_key_tcp tcp = { .tcp_src = v->tp_src,
                                   .tcp_dst = v->tp_dst };

        return put_attr(s, OVS_KEY_ATTR_TCP, &tcp, sizeof tcp)
               && put_be16(s, OVS_KEY_ATTR_TCP_FLAGS, v->tcp_flags);
    }
    case IPPROTO_UDP: {
        struct ovs_key_udp udp = { .udp_src = v->tp_src,
                                   .udp_dst = v->tp_dst };

        return put_attr(s, OVS_KEY_ATTR_UDP, &udp, sizeof udp);
    }
    case IPPROTO_SCTP: {
        struct ovs_key_sctp sctp = { .sctp_src = v->tp_src,
                                     .sctp_dst = v->tp_dst };

        return put_attr(s, OVS_KEY_ATTR_SCTP, &sctp, sizeof sctp);
    }
    case IPPROTO_ICMP:
        if (eth_type == ETH_TYPE_IP) {
            struct ovs_key_icmp icmp = {
                .icmp_type = (uint8_t) ntohs(v->tp_src),
                .icmp_code = (uint8_t) ntohs(v->tp_dst),
            };

            return put_attr(s, OVS_KEY_ATTR_ICMP, &icmp, sizeof icmp);
        }
        return true;
    case IPPROTO_ICMPV6:
        if (eth_type == ETH_TYPE_IPV6) {
            struct ovs_key_icmpv6 icmpv6 = {
                .icmpv6_type = (uint8_t) ntohs(v->tp_src),
                .icmpv6_code = (uint8_t) ntohs(v->tp_dst),
            };
            struct ovs_key_nd nd;

            if (!put_attr(s, OVS_KEY_ATTR_ICMPV6, &icmpv6, sizeof icmpv6)) {
                return false;
            }
            /* Whether nd appears depends on the key's type, not on the
             * mask's. */
            if (key->tp_src != htons(ICMPV6_ND_SOLICIT)
                && key->tp_src != htons(ICMPV6_ND_ADVERT)) {
                return true;
            }
            memset(&nd, 0, sizeof nd);
            memcpy(nd.nd_target, &v->nd_target, sizeof nd.nd_target);
            memcpy(nd.nd_sll, v->arp_sha, ETH_ADDR_LEN);
            memcpy(nd.nd_tll, v->arp_tha, ETH_ADDR_LEN);
            return put_attr(s, OVS_KEY_ATTR_ND, &nd, sizeof nd);
        }
        return true;
    default:
        return true;
    }
}

/* Composes the attributes of 'key' with the values of 'v' ('key' itself,
 * or a mask if 'is_mask') in 's', in the kernel's order. */
static bool
put_key(struct scratch *s, const struct flow_key *key,
        const struct flow_key *v, bool is_mask)
{
    size_t nests[FKEY_MAX_VLANS];
    size_t n_nests = 0;
    bool ok = false;

    if (!put_u32(s, OVS_KEY_ATTR_RECIRC_ID, v->recirc_id)
        || !put_u32(s, OVS_KEY_ATTR_DP_HASH, v->dp_hash)
        || !put_u32(s, OVS_KEY_ATTR_PRIORITY, v->priority)) {
        return false;
    }

    /* Tunnel metadata would go here; not supported yet. */

    if (key->in_port == FKEY_IN_PORT_NONE) {
        if (is_mask && v->in_port == UINT32_MAX
            && !put_u32(s, OVS_KEY_ATTR_IN_PORT, UINT32_MAX)) {
            return false;
        }
    } else {
        uint32_t port = is_mask ? 0xffff0000u | (v->in_port & 0xffff)
                                : v->in_port;

        if (!put_u32(s, OVS_KEY_ATTR_IN_PORT, port)) {
            return false;
        }
    }

    if (!put_u32(s, OVS_KEY_ATTR_SKB_MARK, v->skb_mark)) {
        return false;
    }

    /* Conntrack state would go here; not supported yet. */

    if (key->mac_proto == FKEY_MAC_ETHERNET) {
        struct ovs_key_ethernet eth;

        memcpy(eth.eth_src, v->eth_src, ETH_ADDR_LEN);
        memcpy(eth.eth_dst, v->eth_dst, ETH_ADDR_LEN);
        if (!put_attr(s, OVS_KEY_ATTR_ETHERNET, &eth, sizeof eth)) {
            return false;
        }

        for (size_t i = 0; i < FKEY_MAX_VLANS && key->vlan[i].tpid; i++) {
            be16 tpid = is_mask ? htons(0xffff) : key->vlan[i].tpid;

            if (!put_be16(s, OVS_KEY_ATTR_ETHERTYPE, tpid)
                || !put_be16(s, OVS_KEY_ATTR_VLAN, v->vlan[i].tci)) {
                goto out;
            }
            nests[n_nests] = open_nest(s, OVS_KEY_ATTR_ENCAP);
            if (!nests[n_nests]) {
                goto out;
            }
            n_nests++;
            if (!(key->vlan[i].tci & htons(VLAN_CFI))) {
                /* Truncated tag: nothing is known beyond it. */
                ok = true;
                goto out;
            }
        }

        if (key->eth_type == htons(ETH_TYPE_802_2)) {
            /* No eth_type attribute in the key; in a mask, only if the
             * type is not wildcarded. */
            ok = !(is_mask && v->eth_type)
                 || put_be16(s, OVS_KEY_ATTR_ETHERTYPE, v->eth_type);
            goto out;
        }
    }

    if (!put_be16(s, OVS_KEY_ATTR_ETHERTYPE, v->eth_type)) {
        goto out;
    }
    if (fkey_eth_type_is_vlan(key->eth_type)) {
        /* A third tag (or a VLAN type after pop_eth): stop here. */
        ok = true;
        goto out;
    }
    ok = put_l3_l4(s, key, v, is_mask);

out:
    while (n_nests > 0) {
        close_nest(s, nests[--n_nests]);
    }
    return ok;
}

/* Composes into a scratch buffer, then appends to 'nlh' in one go. */
static int
append_key(const struct flow_key *key, const struct flow_key *v,
           bool is_mask, struct nlmsghdr *nlh, size_t buflen)
{
    struct scratch s;
    size_t tail, len;

    scratch_init(&s);
    if (!put_key(&s, key, v, is_mask)) {
        /* FKEY_NL_MAX_LEN is too small: a bug, but report it the same. */
        return -EMSGSIZE;
    }
    len = s.u.nlh.nlmsg_len - MNL_NLMSG_HDRLEN;
    tail = MNL_ALIGN(nlh->nlmsg_len);
    if (tail > buflen || len > buflen - tail) {
        return -EMSGSIZE;
    }
    memcpy((uint8_t *) nlh + tail, &s.u.bytes[MNL_NLMSG_HDRLEN], len);
    nlh->nlmsg_len = tail + len;
    return 0;
}

int
fkey_to_nl(const struct flow_key *key, struct nlmsghdr *nlh, size_t buflen)
{
    return append_key(key, key, false, nlh, buflen);
}

int
fmask_to_nl(const struct flow_key *key, const struct flow_mask *mask,
            struct nlmsghdr *nlh, size_t buflen)
{
    return append_key(key, &mask->bits, true, nlh, buflen);
}

bool
fkey_nl_equal(const struct flow_key *a, const struct flow_key *b)
{
    struct scratch sa, sb;
    bool ok_a, ok_b;

    scratch_init(&sa);
    scratch_init(&sb);
    ok_a = put_key(&sa, a, a, false);
    ok_b = put_key(&sb, b, b, false);
    return ok_a && ok_b && sa.u.nlh.nlmsg_len == sb.u.nlh.nlmsg_len
           && !memcmp(sa.u.bytes, sb.u.bytes, sa.u.nlh.nlmsg_len);
}

/* ---------------------------------------------------------------------
 * Decoding.
 * --------------------------------------------------------------------- */

/* One attribute found in the input; 'data' may be unaligned. */
struct attr {
    const uint8_t *data;
    uint16_t len;
};

/* The attributes directly inside one nesting level. */
struct level {
    struct attr a[OVS_KEY_ATTR_MAX + 1];
    uint64_t present;       /* Types recorded in 'a'. */
    uint64_t used;          /* Types consumed by the decoder. */
    uint64_t seen;          /* Types found, including skipped ones. */
};

struct decoder {
    const struct flow_key *key;     /* Structure source (the key). */
    struct flow_key *out;           /* Key or mask being decoded. */
    bool is_mask;
    enum fkey_fit fit;
    struct errbuf *err;
};

static void
worsen(struct decoder *d, enum fkey_fit fit)
{
    if (fit > d->fit) {
        d->fit = fit;
    }
}

static bool
has(const struct level *lv, uint16_t type)
{
    return (lv->present & BIT(type)) != 0;
}

/* Marks 'type' consumed and returns its attribute, or NULL if absent. */
static const struct attr *
take(struct level *lv, uint16_t type)
{
    if (!has(lv, type)) {
        return NULL;
    }
    lv->used |= BIT(type);
    return &lv->a[type];
}

static be16
attr_be16(const struct attr *a)
{
    be16 x;

    memcpy(&x, a->data, sizeof x);
    return x;
}

static uint32_t
attr_u32(const struct attr *a)
{
    uint32_t x;

    memcpy(&x, a->data, sizeof x);
    return x;
}

static bool
is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

/* Reads the header of the attribute at 'ofs' of the 'len'-byte stream
 * 'data'.  Returns its total length (header included, unpadded), or 0 if
 * the stream is truncated there. */
static size_t
attr_at(const uint8_t *data, size_t len, size_t ofs, uint16_t *type)
{
    struct nlattr nla;

    if (len - ofs < sizeof nla) {
        return 0;
    }
    memcpy(&nla, data + ofs, sizeof nla);
    if (nla.nla_len < sizeof nla || nla.nla_len > len - ofs) {
        return 0;
    }
    *type = nla.nla_type & NLA_TYPE_MASK;
    return nla.nla_len;
}

/* Checks that 'data' is a well-formed attribute stream and returns true in
 * '*zero' if every attribute payload in it is all-zero.  Used for nested
 * attributes that are skipped. */
static bool
check_nested(struct decoder *d, uint16_t type, const uint8_t *data,
             size_t len, bool *zero)
{
    size_t ofs = 0;

    *zero = true;
    while (ofs < len) {
        uint16_t sub;
        size_t n = attr_at(data, len, ofs, &sub);

        if (!n) {
            errbuf_set(d->err, "%zu trailing bytes inside %s attribute",
                       len - ofs, attr_name(type));
            return false;
        }
        if (!is_zero(data + ofs + NLA_HDRLEN, n - NLA_HDRLEN)) {
            *zero = false;
        }
        ofs += MNL_ALIGN(n);
    }
    return true;
}

/* Indexes the attributes of the 'len'-byte stream 'data' into 'lv'.
 * 'depth' is 0 for the outermost level.  Returns false on error. */
static bool
index_level(struct decoder *d, const void *data_, size_t len, int depth,
            struct level *lv)
{
    const uint8_t *data = data_;
    size_t ofs = 0;

    /* lv->a[] entries are read only for types in 'present'. */
    lv->present = lv->used = lv->seen = 0;
    while (ofs < len) {
        const uint8_t *payload;
        size_t n, plen;
        uint16_t type;
        int expected;

        n = attr_at(data, len, ofs, &type);
        if (!n) {
            errbuf_set(d->err, "%zu trailing bytes after key attributes "
                       "(truncated attribute?)", len - ofs);
            return false;
        }
        payload = data + ofs + NLA_HDRLEN;
        plen = n - NLA_HDRLEN;
        /* The last attribute's padding may be missing. */
        ofs = MNL_ALIGN(n) < len - ofs ? ofs + MNL_ALIGN(n) : len;

        expected = type <= OVS_KEY_ATTR_MAX ? fkey_attr_len(type)
                                            : FKEY_ATTR_UNKNOWN;
        if (expected == FKEY_ATTR_UNKNOWN) {
            /* From a newer peer, or not for us: skip it. */
            worsen(d, FKEY_FIT_TOO_MUCH);
            continue;
        }
        if (lv->seen & BIT(type)) {
            errbuf_set(d->err, "duplicate %s attribute", attr_name(type));
            return false;
        }
        lv->seen |= BIT(type);
        if (depth > 0 && top_only_attrs & BIT(type)) {
            errbuf_set(d->err, "%s attribute inside encap", attr_name(type));
            return false;
        }
        if (expected > 0 && plen != (size_t) expected) {
            errbuf_set(d->err, "%s attribute has length %zu, expected %d",
                       attr_name(type), plen, expected);
            return false;
        }
        if (expected == FKEY_ATTR_VARIABLE
            && (plen % sizeof(struct ovs_key_mpls)
                || plen > FKEY_MAX_MPLS * sizeof(struct ovs_key_mpls))) {
            errbuf_set(d->err, "%s attribute has length %zu, expected a "
                       "multiple of 4 up to %zu", attr_name(type), plen,
                       FKEY_MAX_MPLS * sizeof(struct ovs_key_mpls));
            return false;
        }

        if (unsupported_attrs & BIT(type)) {
            bool zero = true;

            if (expected == FKEY_ATTR_NESTED) {
                if (!check_nested(d, type, payload, plen, &zero)) {
                    return false;
                }
            } else {
                zero = is_zero(payload, plen);
            }
            if (!zero) {
                worsen(d, FKEY_FIT_TOO_MUCH);
            }
            continue;
        }

        /* The kernel ignores all-zero mask attributes: "don't care". */
        if (d->is_mask && is_zero(payload, plen)) {
            continue;
        }
        lv->present |= BIT(type);
        lv->a[type].data = payload;
        lv->a[type].len = plen;
    }
    return true;
}

/* Attributes present but not consumed: skipped in a key, an error in a
 * mask. */
static bool
check_leftovers(struct decoder *d, const struct level *lv)
{
    uint64_t extra = lv->present & ~lv->used;

    if (!extra) {
        return true;
    }
    if (!d->is_mask) {
        worsen(d, FKEY_FIT_TOO_MUCH);
        return true;
    }
    for (uint16_t t = 0; t <= OVS_KEY_ATTR_MAX; t++) {
        if (extra & BIT(t)) {
            errbuf_set(d->err, "unexpected %s mask attribute for this key",
                       attr_name(t));
            break;
        }
    }
    return false;
}

/* Fillers shared by keys and masks: copy attribute payloads to fields. */

static void
fill_ipv4(struct flow_key *out, const struct ovs_key_ipv4 *ipv4)
{
    out->addr.ipv4.src = ipv4->ipv4_src;
    out->addr.ipv4.dst = ipv4->ipv4_dst;
    out->nw_proto = ipv4->ipv4_proto;
    out->nw_tos = ipv4->ipv4_tos;
    out->nw_ttl = ipv4->ipv4_ttl;
    out->nw_frag = ipv4->ipv4_frag;
}

static void
fill_ipv6(struct flow_key *out, const struct ovs_key_ipv6 *ipv6)
{
    memcpy(&out->addr.ipv6.src, ipv6->ipv6_src, sizeof ipv6->ipv6_src);
    memcpy(&out->addr.ipv6.dst, ipv6->ipv6_dst, sizeof ipv6->ipv6_dst);
    out->ipv6_label = ipv6->ipv6_label;
    out->nw_proto = ipv6->ipv6_proto;
    out->nw_tos = ipv6->ipv6_tclass;
    out->nw_ttl = ipv6->ipv6_hlimit;
    out->nw_frag = ipv6->ipv6_frag;
}

static void
fill_arp(struct flow_key *out, const struct ovs_key_arp *arp)
{
    out->addr.ipv4.src = arp->arp_sip;
    out->addr.ipv4.dst = arp->arp_tip;
    out->arp_op = arp->arp_op;
    memcpy(out->arp_sha, arp->arp_sha, ETH_ADDR_LEN);
    memcpy(out->arp_tha, arp->arp_tha, ETH_ADDR_LEN);
}

static void
fill_ports(struct flow_key *out, const struct attr *a)
{
    /* tcp, udp and sctp payloads are all src, dst (be16 each). */
    memcpy(&out->tp_src, a->data, 2);
    memcpy(&out->tp_dst, a->data + 2, 2);
}

static void
fill_icmp(struct flow_key *out, const struct attr *a)
{
    /* icmp and icmpv6 payloads are both type, code (u8 each). */
    out->tp_src = htons(a->data[0]);
    out->tp_dst = htons(a->data[1]);
}

static void
fill_nd(struct flow_key *out, const struct ovs_key_nd *nd)
{
    memcpy(&out->nd_target, nd->nd_target, sizeof nd->nd_target);
    memcpy(out->arp_sha, nd->nd_sll, ETH_ADDR_LEN);
    memcpy(out->arp_tha, nd->nd_tll, ETH_ADDR_LEN);
}

static void
fill_mpls(struct flow_key *out, const struct attr *a)
{
    memcpy(out->mpls_lse, a->data, a->len);
}

/* Key decoding. */

/* Requires the attribute 'type' in a key: absent makes TOO_LITTLE. */
static const struct attr *
need(struct decoder *d, struct level *lv, uint16_t type)
{
    const struct attr *a = take(lv, type);

    if (!a) {
        worsen(d, FKEY_FIT_TOO_LITTLE);
    }
    return a;
}

static bool
key_l4(struct decoder *d, struct level *lv)
{
    struct flow_key *k = d->out;
    bool ipv4 = k->eth_type == htons(ETH_TYPE_IP);
    const struct attr *a;

    if (k->nw_frag == FKEY_FRAG_LATER) {
        return true;
    }
    switch (k->nw_proto) {
    case IPPROTO_TCP:
        if ((a = need(d, lv, OVS_KEY_ATTR_TCP))) {
            fill_ports(k, a);
        }
        if ((a = need(d, lv, OVS_KEY_ATTR_TCP_FLAGS))) {
            k->tcp_flags = attr_be16(a);
        }
        break;
    case IPPROTO_UDP:
        if ((a = need(d, lv, OVS_KEY_ATTR_UDP))) {
            fill_ports(k, a);
        }
        break;
    case IPPROTO_SCTP:
        if ((a = need(d, lv, OVS_KEY_ATTR_SCTP))) {
            fill_ports(k, a);
        }
        break;
    case IPPROTO_ICMP:
        if (ipv4 && (a = need(d, lv, OVS_KEY_ATTR_ICMP))) {
            fill_icmp(k, a);
        }
        break;
    case IPPROTO_ICMPV6:
        if (!ipv4 && (a = need(d, lv, OVS_KEY_ATTR_ICMPV6))) {
            fill_icmp(k, a);
            if (k->tp_src == htons(ICMPV6_ND_SOLICIT)
                || k->tp_src == htons(ICMPV6_ND_ADVERT)) {
                struct ovs_key_nd nd;

                if ((a = need(d, lv, OVS_KEY_ATTR_ND))) {
                    memcpy(&nd, a->data, sizeof nd);
                    fill_nd(k, &nd);
                }
            }
        }
        break;
    default:
        break;
    }
    return true;
}

static bool
key_l3(struct decoder *d, struct level *lv)
{
    struct flow_key *k = d->out;
    uint16_t eth_type = ntohs(k->eth_type);
    const struct attr *a;

    if (eth_type == ETH_TYPE_IP) {
        struct ovs_key_ipv4 ipv4;

        if (!(a = need(d, lv, OVS_KEY_ATTR_IPV4))) {
            return true;
        }
        memcpy(&ipv4, a->data, sizeof ipv4);
        if (ipv4.ipv4_frag > FKEY_FRAG_LATER) {
            errbuf_set(d->err, "ipv4 frag %"PRIu8" out of range (max %d)",
                       ipv4.ipv4_frag, FKEY_FRAG_LATER);
            return false;
        }
        fill_ipv4(k, &ipv4);
        return key_l4(d, lv);
    } else if (eth_type == ETH_TYPE_IPV6) {
        struct ovs_key_ipv6 ipv6;

        if ((a = take(lv, OVS_KEY_ATTR_IPV6_EXTHDRS))) {
            memcpy(&k->ipv6_exthdrs, a->data, sizeof k->ipv6_exthdrs);
        }
        if (!(a = need(d, lv, OVS_KEY_ATTR_IPV6))) {
            return true;
        }
        memcpy(&ipv6, a->data, sizeof ipv6);
        if (ipv6.ipv6_frag > FKEY_FRAG_LATER) {
            errbuf_set(d->err, "ipv6 frag %"PRIu8" out of range (max %d)",
                       ipv6.ipv6_frag, FKEY_FRAG_LATER);
            return false;
        }
        if (ipv6.ipv6_label & htonl(0xfff00000)) {
            errbuf_set(d->err, "ipv6 flow label %#"PRIx32" out of range "
                       "(max 0xfffff)", ntohl(ipv6.ipv6_label));
            return false;
        }
        fill_ipv6(k, &ipv6);
        return key_l4(d, lv);
    } else if (eth_type == ETH_TYPE_ARP || eth_type == ETH_TYPE_RARP) {
        struct ovs_key_arp arp;

        if ((a = need(d, lv, OVS_KEY_ATTR_ARP))) {
            memcpy(&arp, a->data, sizeof arp);
            if (arp.arp_op & htons(0xff00)) {
                errbuf_set(d->err, "arp opcode %"PRIu16" out of range "
                           "(max 255)", ntohs(arp.arp_op));
                return false;
            }
            fill_arp(k, &arp);
        }
    } else if (fkey_eth_type_is_mpls(k->eth_type)) {
        if ((a = need(d, lv, OVS_KEY_ATTR_MPLS))) {
            fill_mpls(k, a);
            k->n_mpls = a->len / sizeof(struct ovs_key_mpls);
        }
    } else if (eth_type == ETH_TYPE_NSH) {
        /* Skipped by index_level(); missing is still missing. */
        if (!(lv->seen & BIT(OVS_KEY_ATTR_NSH))) {
            worsen(d, FKEY_FIT_TOO_LITTLE);
        }
    }
    return true;
}

/* Decodes eth_type, VLAN tags and what follows from 'lv', the level at
 * 'depth' encaps, of a key with an Ethernet header. */
static bool
key_l2(struct decoder *d, struct level *lv, int depth)
{
    struct flow_key *k = d->out;
    const struct attr *a = take(lv, OVS_KEY_ATTR_ETHERTYPE);
    be16 type;

    if (!a) {
        /* 802.3 without SNAP, at any depth. */
        k->eth_type = htons(ETH_TYPE_802_2);
        goto no_vlan;
    }
    type = attr_be16(a);
    if (ntohs(type) < ETH_TYPE_MIN) {
        errbuf_set(d->err, "eth_type %#"PRIx16" is below %#x", ntohs(type),
                   ETH_TYPE_MIN);
        return false;
    }

    if (fkey_eth_type_is_vlan(type) && depth < FKEY_MAX_VLANS) {
        const struct attr *vlan = take(lv, OVS_KEY_ATTR_VLAN);
        const struct attr *encap = take(lv, OVS_KEY_ATTR_ENCAP);
        struct level inner;
        be16 tci;
        bool ok;

        if (!vlan || !encap) {
            errbuf_set(d->err, "VLAN eth_type %#"PRIx16" without %s",
                       ntohs(type), vlan ? "encap" : "vlan");
            return false;
        }
        tci = attr_be16(vlan);
        k->vlan[depth].tpid = type;
        k->vlan[depth].tci = tci;
        if (!(tci & htons(VLAN_CFI))) {
            if (tci) {
                errbuf_set(d->err, "vlan TCI %#"PRIx16" without VLAN_CFI",
                           ntohs(tci));
                return false;
            }
            if (encap->len) {
                errbuf_set(d->err, "truncated VLAN header (vlan(0)) with "
                           "nonempty encap");
                return false;
            }
            /* Nothing is known beyond a truncated tag; its TPID is also
             * the key's type, as packet extraction leaves it. */
            k->eth_type = type;
            return true;
        }

        if (!index_level(d, encap->data, encap->len, depth + 1, &inner)) {
            errbuf_prefix(d->err, "in encap: ");
            return false;
        }
        ok = key_l2(d, &inner, depth + 1) && check_leftovers(d, &inner);
        return ok;
    }

    k->eth_type = type;
    if (fkey_eth_type_is_vlan(type)) {
        /* A third tag: no room for it, and nothing is expected after it,
         * so its vlan and encap, if any, are leftovers (TOO_MUCH). */
        return true;
    }

no_vlan:
    if (has(lv, OVS_KEY_ATTR_VLAN) || has(lv, OVS_KEY_ATTR_ENCAP)) {
        errbuf_set(d->err, "%s without a VLAN eth_type",
                   has(lv, OVS_KEY_ATTR_ENCAP) ? "encap" : "vlan");
        return false;
    }
    if (k->eth_type == htons(ETH_TYPE_802_2)) {
        return true;
    }
    return key_l3(d, lv);
}

static bool
key_decode(struct decoder *d, const void *attrs, size_t len)
{
    struct flow_key *k = d->out;
    struct level top;
    const struct attr *a;

    if (!index_level(d, attrs, len, 0, &top)) {
        return false;
    }

    if ((a = take(&top, OVS_KEY_ATTR_RECIRC_ID))) {
        k->recirc_id = attr_u32(a);
    }
    if ((a = take(&top, OVS_KEY_ATTR_DP_HASH))) {
        k->dp_hash = attr_u32(a);
    }
    if ((a = take(&top, OVS_KEY_ATTR_PRIORITY))) {
        k->priority = attr_u32(a);
    }
    if ((a = take(&top, OVS_KEY_ATTR_SKB_MARK))) {
        k->skb_mark = attr_u32(a);
    }
    k->in_port = FKEY_IN_PORT_NONE;
    if ((a = take(&top, OVS_KEY_ATTR_IN_PORT))) {
        uint32_t port = attr_u32(a);

        if (port >= DP_MAX_PORTS) {
            errbuf_set(d->err, "in_port %"PRIu32" out of range (max %d)",
                       port, DP_MAX_PORTS - 1);
            return false;
        }
        k->in_port = port;
    }

    if ((a = take(&top, OVS_KEY_ATTR_ETHERNET))) {
        struct ovs_key_ethernet eth;

        memcpy(&eth, a->data, sizeof eth);
        memcpy(k->eth_src, eth.eth_src, ETH_ADDR_LEN);
        memcpy(k->eth_dst, eth.eth_dst, ETH_ADDR_LEN);
        k->mac_proto = FKEY_MAC_ETHERNET;
        if (!key_l2(d, &top, 0)) {
            return false;
        }
    } else if ((a = take(&top, OVS_KEY_ATTR_ETHERTYPE))) {
        /* An L3 packet (after pop_eth): the type is metadata. */
        k->mac_proto = FKEY_MAC_NONE;
        k->eth_type = attr_be16(a);
        if (ntohs(k->eth_type) < ETH_TYPE_MIN) {
            errbuf_set(d->err, "eth_type %#"PRIx16" is below %#x",
                       ntohs(k->eth_type), ETH_TYPE_MIN);
            return false;
        }
        if (has(&top, OVS_KEY_ATTR_VLAN) || has(&top, OVS_KEY_ATTR_ENCAP)) {
            errbuf_set(d->err, "vlan or encap without an eth attribute");
            return false;
        }
        if (!fkey_eth_type_is_vlan(k->eth_type) && !key_l3(d, &top)) {
            return false;
        }
    } else {
        errbuf_set(d->err, "key has neither eth nor eth_type");
        return false;
    }
    return check_leftovers(d, &top);
}

enum fkey_fit
fkey_from_nl(const void *attrs, size_t len, struct flow_key *key,
             struct errbuf *err)
{
    struct decoder d = {
        .key = key, .out = key, .is_mask = false,
        .fit = FKEY_FIT_PERFECT, .err = err,
    };

    memset(key, 0, sizeof *key);
    if (!key_decode(&d, attrs, len)) {
        memset(key, 0, sizeof *key);
        return FKEY_FIT_ERROR;
    }
    return d.fit;
}

/* Mask decoding.  'd->key' is the key, 'd->out' the mask's bits. */

/* Returns the mask attribute 'type' if present (nonzero), checking that
 * the mask field 'guard' is exact ('guard_exact'), which the kernel
 * requires before it lets a mask match deeper headers. */
static const struct attr *
take_guarded(struct decoder *d, struct level *lv, uint16_t type,
             bool guard_exact, const char *guard)
{
    const struct attr *a = take(lv, type);

    if (a && !guard_exact) {
        errbuf_set(d->err, "%s mask needs an exact %s mask",
                   attr_name(type), guard);
        d->fit = FKEY_FIT_ERROR;
        return NULL;
    }
    return a;
}

static bool
mask_l3_l4(struct decoder *d, struct level *lv)
{
    const struct flow_key *k = d->key;
    struct flow_key *m = d->out;
    bool l3_ok = m->eth_type == htons(0xffff);
    uint16_t eth_type = ntohs(k->eth_type);
    const struct attr *a;
    bool l4_ok;

#define GUARD(TYPE, OK, WHAT)                                   \
    (a = take_guarded(d, lv, TYPE, OK, WHAT), d->fit == FKEY_FIT_ERROR)

    if (eth_type == ETH_TYPE_IP) {
        if (GUARD(OVS_KEY_ATTR_IPV4, l3_ok, "eth_type")) {
            return false;
        }
        if (a) {
            struct ovs_key_ipv4 ipv4;

            memcpy(&ipv4, a->data, sizeof ipv4);
            fill_ipv4(m, &ipv4);
        }
    } else if (eth_type == ETH_TYPE_IPV6) {
        if (GUARD(OVS_KEY_ATTR_IPV6, l3_ok, "eth_type")) {
            return false;
        }
        if (a) {
            struct ovs_key_ipv6 ipv6;

            memcpy(&ipv6, a->data, sizeof ipv6);
            fill_ipv6(m, &ipv6);
        }
        if (GUARD(OVS_KEY_ATTR_IPV6_EXTHDRS, l3_ok, "eth_type")) {
            return false;
        }
        if (a) {
            memcpy(&m->ipv6_exthdrs, a->data, sizeof m->ipv6_exthdrs);
        }
    } else if (eth_type == ETH_TYPE_ARP || eth_type == ETH_TYPE_RARP) {
        if (GUARD(OVS_KEY_ATTR_ARP, l3_ok, "eth_type")) {
            return false;
        }
        if (a) {
            struct ovs_key_arp arp;

            memcpy(&arp, a->data, sizeof arp);
            fill_arp(m, &arp);
        }
        return true;
    } else if (fkey_eth_type_is_mpls(k->eth_type)) {
        if (GUARD(OVS_KEY_ATTR_MPLS, l3_ok, "eth_type")) {
            return false;
        }
        if (a) {
            size_t n = a->len / sizeof(struct ovs_key_mpls);

            if (n > k->n_mpls) {
                errbuf_set(d->err, "mpls mask has %zu labels, key has "
                           "%"PRIu8, n, k->n_mpls);
                return false;
            }
            fill_mpls(m, a);
            m->n_mpls = 0xff;
        }
        return true;
    } else {
        return true;
    }

    /* IPv4 or IPv6. */
    if (k->nw_frag == FKEY_FRAG_LATER) {
        return true;
    }
    l4_ok = m->nw_proto == 0xff;
    switch (k->nw_proto) {
    case IPPROTO_TCP:
        if (GUARD(OVS_KEY_ATTR_TCP, l4_ok, "nw_proto")) {
            return false;
        }
        if (a) {
            fill_ports(m, a);
        }
        if (GUARD(OVS_KEY_ATTR_TCP_FLAGS, l4_ok, "nw_proto")) {
            return false;
        }
        if (a) {
            m->tcp_flags = attr_be16(a);
        }
        break;
    case IPPROTO_UDP:
        if (GUARD(OVS_KEY_ATTR_UDP, l4_ok, "nw_proto")) {
            return false;
        }
        if (a) {
            fill_ports(m, a);
        }
        break;
    case IPPROTO_SCTP:
        if (GUARD(OVS_KEY_ATTR_SCTP, l4_ok, "nw_proto")) {
            return false;
        }
        if (a) {
            fill_ports(m, a);
        }
        break;
    case IPPROTO_ICMP:
        if (eth_type != ETH_TYPE_IP) {
            break;
        }
        if (GUARD(OVS_KEY_ATTR_ICMP, l4_ok, "nw_proto")) {
            return false;
        }
        if (a) {
            fill_icmp(m, a);
        }
        break;
    case IPPROTO_ICMPV6:
        if (eth_type != ETH_TYPE_IPV6) {
            break;
        }
        if (GUARD(OVS_KEY_ATTR_ICMPV6, l4_ok, "nw_proto")) {
            return false;
        }
        if (a) {
            fill_icmp(m, a);
        }
        if (k->tp_src == htons(ICMPV6_ND_SOLICIT)
            || k->tp_src == htons(ICMPV6_ND_ADVERT)) {
            if (GUARD(OVS_KEY_ATTR_ND, m->tp_src == htons(0xff),
                      "icmpv6 type")) {
                return false;
            }
            if (a) {
                struct ovs_key_nd nd;

                memcpy(&nd, a->data, sizeof nd);
                fill_nd(m, &nd);
            }
        }
        break;
    default:
        break;
    }
#undef GUARD
    return true;
}

/* Decodes the mask level 'lv' at 'depth' encaps of a key with an Ethernet
 * header. */
static bool
mask_l2(struct decoder *d, struct level *lv, int depth)
{
    const struct flow_key *k = d->key;
    struct flow_key *m = d->out;
    const struct attr *a;

    if (depth < FKEY_MAX_VLANS && k->vlan[depth].tpid) {
        const struct attr *tpid = take(lv, OVS_KEY_ATTR_ETHERTYPE);
        const struct attr *vlan = take(lv, OVS_KEY_ATTR_VLAN);
        const struct attr *encap = take(lv, OVS_KEY_ATTR_ENCAP);
        struct level inner;
        be16 tci;

        /* TPID and TCI stay exact (set by the caller) unless an encap
         * mask says otherwise for the TCI.  Without an encap, the kernel
         * applies this level's eth_type mask to the key's (innermost)
         * eth_type, which it always makes exact.  The TPID mask is exact
         * whether or not the mask had this level's eth_type, and it is
         * written back as eth_type(0xffff), so make eth_type exact in
         * both cases: decoding what we encode must give the same mask
         * (found by fuzz-key-nl). */
        if (!encap) {
            m->eth_type = htons(0xffff);
            return true;
        }
        if (!(k->vlan[depth].tci & htons(VLAN_CFI))) {
            errbuf_set(d->err, "encap mask for a truncated VLAN tag");
            return false;
        }
        if (!tpid || attr_be16(tpid) != htons(0xffff)) {
            errbuf_set(d->err, "VLAN TPID mask must be exact (0xffff)");
            return false;
        }
        tci = vlan ? attr_be16(vlan) : 0;
        if (!(tci & htons(VLAN_CFI))) {
            errbuf_set(d->err, "vlan TCI mask %#"PRIx16" does not match "
                       "VLAN_CFI exactly", ntohs(tci));
            return false;
        }
        m->vlan[depth].tci = tci;
        if (!index_level(d, encap->data, encap->len, depth + 1, &inner)) {
            errbuf_prefix(d->err, "in encap: ");
            return false;
        }
        return mask_l2(d, &inner, depth + 1) && check_leftovers(d, &inner);
    }

    if ((a = take(lv, OVS_KEY_ATTR_ETHERTYPE))
        || k->eth_type == htons(ETH_TYPE_802_2)) {
        /* Always exact, like the kernel; for 802.2 even when absent. */
        m->eth_type = htons(0xffff);
    }
    if (k->eth_type == htons(ETH_TYPE_802_2)
        || fkey_eth_type_is_vlan(k->eth_type)) {
        return true;
    }
    return mask_l3_l4(d, lv);
}

static bool
mask_decode(struct decoder *d, const void *attrs, size_t len)
{
    const struct flow_key *k = d->key;
    struct flow_key *m = d->out;
    struct level top;
    const struct attr *a;

    if (!index_level(d, attrs, len, 0, &top)) {
        return false;
    }

    if ((a = take(&top, OVS_KEY_ATTR_RECIRC_ID))) {
        m->recirc_id = attr_u32(a);
    }
    if ((a = take(&top, OVS_KEY_ATTR_DP_HASH))) {
        m->dp_hash = attr_u32(a);
    }
    if ((a = take(&top, OVS_KEY_ATTR_PRIORITY))) {
        m->priority = attr_u32(a);
    }
    if ((a = take(&top, OVS_KEY_ATTR_SKB_MARK))) {
        m->skb_mark = attr_u32(a);
    }
    if ((a = take(&top, OVS_KEY_ATTR_IN_PORT))) {
        /* Exact or wildcard; 0xffff0000 is the kernel's wildcard. */
        m->in_port = attr_u32(a) & 0xffff ? UINT32_MAX : 0;
    }

    m->mac_proto = 0xff;
    for (size_t i = 0; i < FKEY_MAX_VLANS; i++) {
        m->vlan[i].tpid = htons(0xffff);
        m->vlan[i].tci = htons(0xffff);
    }

    if (k->mac_proto == FKEY_MAC_ETHERNET) {
        if ((a = take(&top, OVS_KEY_ATTR_ETHERNET))) {
            struct ovs_key_ethernet eth;

            memcpy(&eth, a->data, sizeof eth);
            memcpy(m->eth_src, eth.eth_src, ETH_ADDR_LEN);
            memcpy(m->eth_dst, eth.eth_dst, ETH_ADDR_LEN);
        }
        if (!mask_l2(d, &top, 0)) {
            return false;
        }
        if (k->eth_type == htons(ETH_TYPE_802_2)) {
            /* Even inside a tag whose encap the mask left out. */
            m->eth_type = htons(0xffff);
        }
    } else {
        /* The type of an L3 packet is always exact. */
        take(&top, OVS_KEY_ATTR_ETHERTYPE);
        m->eth_type = htons(0xffff);
        if (!fkey_eth_type_is_vlan(k->eth_type) && !mask_l3_l4(d, &top)) {
            return false;
        }
    }
    return check_leftovers(d, &top);
}

/* Sets every payload byte of the attribute stream 'data' to 0xff,
 * descending into encap nests, as the kernel does to make an exact mask
 * from a key. */
static void
set_all_ones(uint8_t *data, size_t len)
{
    size_t ofs = 0;

    while (ofs < len) {
        uint16_t type;
        size_t n = attr_at(data, len, ofs, &type);

        if (!n) {
            return;
        }
        if (type == OVS_KEY_ATTR_ENCAP) {
            set_all_ones(data + ofs + NLA_HDRLEN, n - NLA_HDRLEN);
        } else {
            memset(data + ofs + NLA_HDRLEN, 0xff, n - NLA_HDRLEN);
        }
        ofs += MNL_ALIGN(n);
    }
}

enum fkey_fit
fmask_from_nl(const void *attrs, size_t len, const struct flow_key *key,
              struct flow_mask *mask, struct errbuf *err)
{
    struct decoder d = {
        .key = key, .out = &mask->bits, .is_mask = true,
        .fit = FKEY_FIT_PERFECT, .err = err,
    };
    struct scratch s;
    bool ok;

    memset(mask, 0, sizeof *mask);
    if (attrs) {
        ok = mask_decode(&d, attrs, len);
    } else {
        /* No mask: the key's own attributes with every bit set. */
        scratch_init(&s);
        ok = put_key(&s, key, key, false);
        if (ok) {
            uint8_t *payload = &s.u.bytes[MNL_NLMSG_HDRLEN];

            len = s.u.nlh.nlmsg_len - MNL_NLMSG_HDRLEN;
            set_all_ones(payload, len);
            ok = mask_decode(&d, payload, len);
        } else {
            errbuf_set(err, "key too large to encode");
        }
    }
    if (!ok) {
        memset(mask, 0, sizeof *mask);
        return FKEY_FIT_ERROR;
    }
    return d.fit;
}
