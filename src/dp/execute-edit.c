/* SPDX-License-Identifier: Apache-2.0 */
/* The executor's header edits: set() and set_masked() on every field the
 * kernel lets them write, and the VLAN, MPLS and Ethernet pushes and pops
 * (kernel net/openvswitch/actions.c semantics; see execute.h and
 * docs/design/actions.md).
 *
 * Each action is parsed once per batch and applied packet by packet.  A
 * masked write takes the old value from the flow key, which is current
 * and, wherever the packet's header offset is present, equal to the
 * header's bytes (packet/flow-extract.h, struct fkey_layout).  set() is a
 * set_masked() with an all-ones mask, which is what the kernel turns it
 * into (except that the IPv6 flow label mask is 20 bits). */

#include <errno.h>
#include <string.h>
#include <linux/openvswitch.h>

#include "codec/actions-nl.h"
#include "dp/execute-private.h"
#include "packet/packet-edit.h"


/* What pedit_*() errors mean for the packet. */
static enum dp_drop_reason
edit_result(int error)
{
    return (!error ? DPX_KEEP
            : error == -ENOMEM ? DP_DROP_NOMEM : DP_DROP_MALFORMED);
}

static bool
has_eth(const struct flow_key *key)
{
    return key->mac_proto != FKEY_MAC_NONE;
}

/* ---- set() and set_masked(). ---- */

/* value | (old & ~mask), for values already inside their masks. */
#define MASKED(OLD, V, M) ((V) | ((OLD) & ~(M)))

struct set_eth {
    struct ovs_key_ethernet v, m;
};

static enum dp_drop_reason
set_eth_one(struct packet *p, struct flow_key *key, const void *arg)
{
    const struct set_eth *s = arg;
    uint8_t src[ETH_ADDR_LEN], dst[ETH_ADDR_LEN];

    if (!has_eth(key)) {
        return DP_DROP_MALFORMED;
    }
    for (int i = 0; i < ETH_ADDR_LEN; i++) {
        src[i] = MASKED(key->eth_src[i], s->v.eth_src[i], s->m.eth_src[i]);
        dst[i] = MASKED(key->eth_dst[i], s->v.eth_dst[i], s->m.eth_dst[i]);
    }
    if (pedit_set_eth_addrs(p, src, dst)) {
        return DP_DROP_MALFORMED;
    }
    memcpy(key->eth_src, src, ETH_ADDR_LEN);
    memcpy(key->eth_dst, dst, ETH_ADDR_LEN);
    return DPX_KEEP;
}

struct set_ipv4 {
    struct ovs_key_ipv4 v, m;
};

static enum dp_drop_reason
set_ipv4_one(struct packet *p, struct flow_key *key, const void *arg)
{
    const struct set_ipv4 *s = arg;
    int error = 0;

    /* The whole header is there exactly when l3_ofs is (fkey_layout). */
    if (key->eth_type != htons(ETH_TYPE_IP) || p->l3_ofs == PKT_OFS_NONE) {
        return DP_DROP_MALFORMED;
    }
    if (s->m.ipv4_src) {
        be32 a = MASKED(key->addr.ipv4.src, s->v.ipv4_src, s->m.ipv4_src);

        error |= pedit_set_ipv4_addr(p, false, a);
        key->addr.ipv4.src = a;
    }
    if (s->m.ipv4_dst) {
        be32 a = MASKED(key->addr.ipv4.dst, s->v.ipv4_dst, s->m.ipv4_dst);

        error |= pedit_set_ipv4_addr(p, true, a);
        key->addr.ipv4.dst = a;
    }
    if (s->m.ipv4_tos) {
        key->nw_tos = MASKED(key->nw_tos, s->v.ipv4_tos, s->m.ipv4_tos);
        error |= pedit_set_ipv4_tos(p, key->nw_tos);
    }
    if (s->m.ipv4_ttl) {
        key->nw_ttl = MASKED(key->nw_ttl, s->v.ipv4_ttl, s->m.ipv4_ttl);
        error |= pedit_set_ipv4_ttl(p, key->nw_ttl);
    }
    /* Cannot fail once the header is there; checked all the same. */
    return error ? DP_DROP_MALFORMED : DPX_KEEP;
}

struct set_ipv6 {
    struct ovs_key_ipv6 v, m;
};

static bool
words_nonzero(const be32 w[4])
{
    return (w[0] | w[1] | w[2] | w[3]) != 0;
}

/* Writes the IPv6 address 'old' (the key's) masked with 'v'/'m'. */
static int
set_ipv6_addr(struct packet *p, const struct flow_key *key, bool dst,
              struct in6_addr *old, const be32 v[4], const be32 m[4])
{
    struct in6_addr a;
    be32 w[4];
    int error;

    memcpy(w, old, sizeof w);
    for (int i = 0; i < 4; i++) {
        w[i] = MASKED(w[i], v[i], m[i]);
    }
    memcpy(&a, w, sizeof a);
    error = pedit_set_ipv6_addr(p, dst, &a, key->nw_proto);
    *old = a;
    return error;
}

static enum dp_drop_reason
set_ipv6_one(struct packet *p, struct flow_key *key, const void *arg)
{
    const struct set_ipv6 *s = arg;
    int error = 0;

    if (key->eth_type != htons(ETH_TYPE_IPV6)
        || p->l3_ofs == PKT_OFS_NONE) {
        return DP_DROP_MALFORMED;
    }
    if (words_nonzero(s->m.ipv6_src)) {
        error |= set_ipv6_addr(p, key, false, &key->addr.ipv6.src,
                               s->v.ipv6_src, s->m.ipv6_src);
    }
    if (words_nonzero(s->m.ipv6_dst)) {
        error |= set_ipv6_addr(p, key, true, &key->addr.ipv6.dst,
                               s->v.ipv6_dst, s->m.ipv6_dst);
    }
    if (s->m.ipv6_tclass) {
        key->nw_tos = MASKED(key->nw_tos, s->v.ipv6_tclass,
                             s->m.ipv6_tclass);
        error |= pedit_set_ipv6_tclass(p, key->nw_tos);
    }
    if (s->m.ipv6_label) {
        key->ipv6_label = MASKED(key->ipv6_label, s->v.ipv6_label,
                                 s->m.ipv6_label);
        error |= pedit_set_ipv6_label(p, ntohl(key->ipv6_label));
    }
    if (s->m.ipv6_hlimit) {
        key->nw_ttl = MASKED(key->nw_ttl, s->v.ipv6_hlimit,
                             s->m.ipv6_hlimit);
        error |= pedit_set_ipv6_hlimit(p, key->nw_ttl);
    }
    return error ? DP_DROP_MALFORMED : DPX_KEEP;
}

/* set(tcp()), set(udp()) and set(sctp()) share their shape: two ports. */
struct set_ports {
    uint8_t proto;              /* IPPROTO_TCP, _UDP or _SCTP. */
    be16 v_src, v_dst, m_src, m_dst;
};

static enum dp_drop_reason
set_ports_one(struct packet *p, struct flow_key *key, const void *arg)
{
    const struct set_ports *s = arg;
    be16 src, dst;
    int error;

    if ((key->eth_type != htons(ETH_TYPE_IP)
         && key->eth_type != htons(ETH_TYPE_IPV6))
        || key->nw_proto != s->proto) {
        return DP_DROP_MALFORMED;
    }
    if (p->l4_ofs == PKT_OFS_NONE) {
        /* A later fragment has no ports to set (the kernel would write
         * into its payload); anything else lacks a complete header. */
        return key->nw_frag == FKEY_FRAG_LATER ? DPX_KEEP
                                               : DP_DROP_MALFORMED;
    }
    src = MASKED(key->tp_src, s->v_src, s->m_src);
    dst = MASKED(key->tp_dst, s->v_dst, s->m_dst);
    switch (s->proto) {
    case IPPROTO_TCP:
        error = pedit_set_tcp_ports(p, src, dst);
        break;
    case IPPROTO_UDP:
        error = pedit_set_udp_ports(p, src, dst);
        break;
    default:
        error = pedit_set_sctp_ports(p, src, dst);
        break;
    }
    if (error) {
        return DP_DROP_MALFORMED;
    }
    key->tp_src = src;
    key->tp_dst = dst;
    return DPX_KEEP;
}

struct set_mpls {
    be32 v, m;
};

static enum dp_drop_reason
set_mpls_one(struct packet *p, struct flow_key *key, const void *arg)
{
    const struct set_mpls *s = arg;
    size_t l2 = dpx_l2_end(p, key);
    be32 old, lse;

    if (!fkey_eth_type_is_mpls(key->eth_type)
        || pedit_get_mpls_lse(p, l2, &old)) {
        return DP_DROP_MALFORMED;
    }
    lse = MASKED(old, s->v, s->m);
    pedit_set_mpls_lse(p, l2, lse);
    if (key->n_mpls && !((lse ^ old) & htonl(MPLS_BOS_BIT))) {
        key->mpls_lse[0] = lse;
        return DPX_KEEP;
    }
    /* The bottom of the stack moved: what the key holds changes. */
    return dpx_reparse(p, key);
}

/* set(skb_priority()) and set(skb_mark()): metadata, no bytes. */
struct set_meta {
    bool mark;                  /* skb_mark, else priority. */
    uint32_t v, m;
};

static enum dp_drop_reason
set_meta_one(struct packet *p, struct flow_key *key, const void *arg)
{
    const struct set_meta *s = arg;

    if (s->mark) {
        p->md.skb_mark = MASKED(p->md.skb_mark, s->v, s->m);
        key->skb_mark = p->md.skb_mark;
    } else {
        p->md.priority = MASKED(p->md.priority, s->v, s->m);
        key->priority = p->md.priority;
    }
    return DPX_KEEP;
}

/* Copies the value and mask of a set action's key attribute into 'v' and
 * 'm' ('size' bytes each), or returns false if the attribute has another
 * length. */
static bool
get_value_mask(const void *value, const void *mask, size_t len, void *v,
               void *m, size_t size)
{
    if (len != size) {
        return false;
    }
    memcpy(v, value, size);
    memcpy(m, mask, size);
    return true;
}

void
dpx_do_set(struct dpx_ctx *x, struct pkt_batch *b, struct flow_key *keys,
           const struct nlattr *a)
{
    /* Large enough for an all-ones mask of any settable key attribute
     * (the largest is ovs_key_ipv6, 40 bytes). */
    uint8_t ones[64];
    const struct nlattr *k;
    const void *mask;
    const void *value;
    size_t len;
    bool ok = false;

    if (act_set_parse(a, &k, &len, &mask)) {
        goto malformed;
    }
    value = dpx_attr_data(k);
    if (!mask) {
        if (len > sizeof ones) {
            goto unsupported;   /* tunnel(): nested, not modelled. */
        }
        memset(ones, 0xff, len);
        if (dpx_attr_type(k) == OVS_KEY_ATTR_IPV6
            && len == sizeof(struct ovs_key_ipv6)) {
            be32 label = htonl(0x000fffff);

            memcpy(ones + offsetof(struct ovs_key_ipv6, ipv6_label), &label,
                   sizeof label);
        }
        mask = ones;
    }

    switch (dpx_attr_type(k)) {
    case OVS_KEY_ATTR_PRIORITY:
    case OVS_KEY_ATTR_SKB_MARK: {
        struct set_meta s = {
            .mark = dpx_attr_type(k) == OVS_KEY_ATTR_SKB_MARK
        };

        ok = get_value_mask(value, mask, len, &s.v, &s.m, sizeof s.v);
        if (ok) {
            dpx_for_each(x, b, keys, set_meta_one, &s);
        }
        break;
    }
    case OVS_KEY_ATTR_ETHERNET: {
        struct set_eth s;

        ok = get_value_mask(value, mask, len, &s.v, &s.m, sizeof s.v);
        if (ok) {
            dpx_for_each(x, b, keys, set_eth_one, &s);
        }
        break;
    }
    case OVS_KEY_ATTR_IPV4: {
        struct set_ipv4 s;

        ok = get_value_mask(value, mask, len, &s.v, &s.m, sizeof s.v);
        if (ok) {
            dpx_for_each(x, b, keys, set_ipv4_one, &s);
        }
        break;
    }
    case OVS_KEY_ATTR_IPV6: {
        struct set_ipv6 s;

        ok = get_value_mask(value, mask, len, &s.v, &s.m, sizeof s.v);
        if (ok) {
            dpx_for_each(x, b, keys, set_ipv6_one, &s);
        }
        break;
    }
    case OVS_KEY_ATTR_TCP:
    case OVS_KEY_ATTR_UDP:
    case OVS_KEY_ATTR_SCTP: {
        /* ovs_key_tcp, _udp and _sctp are all { be16 src, dst; }. */
        struct ovs_key_tcp v, m;
        struct set_ports s;

        ok = get_value_mask(value, mask, len, &v, &m, sizeof v);
        if (ok) {
            s.proto = (dpx_attr_type(k) == OVS_KEY_ATTR_TCP ? IPPROTO_TCP
                       : dpx_attr_type(k) == OVS_KEY_ATTR_UDP ? IPPROTO_UDP
                       : IPPROTO_SCTP);
            s.v_src = v.tcp_src;
            s.v_dst = v.tcp_dst;
            s.m_src = m.tcp_src;
            s.m_dst = m.tcp_dst;
            dpx_for_each(x, b, keys, set_ports_one, &s);
        }
        break;
    }
    case OVS_KEY_ATTR_MPLS: {
        struct set_mpls s;

        ok = get_value_mask(value, mask, len, &s.v, &s.m, sizeof s.v);
        if (ok) {
            dpx_for_each(x, b, keys, set_mpls_one, &s);
        }
        break;
    }
    default:
        /* tunnel(), ct_mark(), ct_labels(), nsh(): refused by
         * dpx_check_supported(). */
        goto unsupported;
    }
    if (ok) {
        return;
    }

malformed:
    x->drops[DP_DROP_MALFORMED] += b->n;
    pkt_batch_free(b);
    return;

unsupported:
    x->drops[DP_DROP_UNSUPPORTED] += b->n;
    pkt_batch_free(b);
}

/* ---- VLAN. ---- */

static enum dp_drop_reason
push_vlan_one(struct packet *p, struct flow_key *key, const void *arg)
{
    const struct ovs_action_push_vlan *v = arg;
    int error;

    if (!has_eth(key)) {
        return DP_DROP_MALFORMED;
    }
    /* The key's "tag present" bit sits where the wire has DEI; the kernel
     * clears it on the wire. */
    error = pedit_push_vlan(p, v->vlan_tpid, v->vlan_tci & ~htons(VLAN_CFI));
    if (error) {
        return edit_result(error);
    }
    if (!key->vlan[0].tpid) {
        key->vlan[0].tpid = v->vlan_tpid;
        key->vlan[0].tci = v->vlan_tci | htons(VLAN_CFI);
        return DPX_KEEP;
    }
    /* The tags shift in the key, and a third one may hide the L3. */
    return dpx_reparse(p, key);
}

void
dpx_do_push_vlan(struct dpx_ctx *x, struct pkt_batch *b,
                 struct flow_key *keys, const struct nlattr *a)
{
    struct ovs_action_push_vlan v;

    memcpy(&v, dpx_attr_data(a), sizeof v);
    dpx_for_each(x, b, keys, push_vlan_one, &v);
}

static enum dp_drop_reason
pop_vlan_one(struct packet *p, struct flow_key *key, const void *arg)
{
    int n;

    (void) arg;
    if (!has_eth(key)) {
        return DP_DROP_MALFORMED;
    }
    n = pedit_pop_vlan(p);
    if (n <= 0) {
        /* No tag: nothing to do, as in the kernel; a truncated one: the
         * kernel cannot make it writable and drops the packet. */
        return n ? DP_DROP_MALFORMED : DPX_KEEP;
    }
    if (!key->vlan[1].tpid && key->vlan[0].tci & htons(VLAN_CFI)) {
        key->vlan[0].tpid = 0;
        key->vlan[0].tci = 0;
        return DPX_KEEP;
    }
    return dpx_reparse(p, key);
}

void
dpx_do_pop_vlan(struct dpx_ctx *x, struct pkt_batch *b,
                struct flow_key *keys)
{
    dpx_for_each(x, b, keys, pop_vlan_one, NULL);
}

/* ---- MPLS. ---- */

struct push_mpls {
    be32 lse;
    be16 eth_type;
    bool after_l2;              /* Label after the L2 header (push_mpls, or
                                 * add_mpls with the L3 tunnel flag), else
                                 * in front of the whole frame. */
};

static enum dp_drop_reason
push_mpls_one(struct packet *p, struct flow_key *key, const void *arg)
{
    const struct push_mpls *m = arg;
    size_t l2 = m->after_l2 ? dpx_l2_end(p, key) : 0;
    int error;

    if (has_eth(key) && m->after_l2 && !l2) {
        return DP_DROP_MALFORMED;
    }
    error = pedit_push_mpls(p, l2, m->eth_type, m->lse);
    if (error) {
        return edit_result(error);
    }
    if (!l2) {
        /* The label is first: whatever followed, Ethernet or not, is now
         * payload of an L3 (MPLS) packet. */
        key->mac_proto = FKEY_MAC_NONE;
    }
    key->eth_type = m->eth_type;
    return dpx_reparse(p, key);
}

void
dpx_do_push_mpls(struct dpx_ctx *x, struct pkt_batch *b,
                 struct flow_key *keys, const struct nlattr *a)
{
    struct push_mpls m;

    if (dpx_attr_type(a) == OVS_ACTION_ATTR_PUSH_MPLS) {
        struct ovs_action_push_mpls pm;

        memcpy(&pm, dpx_attr_data(a), sizeof pm);
        m.lse = pm.mpls_lse;
        m.eth_type = pm.mpls_ethertype;
        m.after_l2 = true;
    } else {
        struct ovs_action_add_mpls am;

        memcpy(&am, dpx_attr_data(a), sizeof am);
        m.lse = am.mpls_lse;
        m.eth_type = am.mpls_ethertype;
        m.after_l2 = (am.tun_flags & OVS_MPLS_L3_TUNNEL_FLAG_MASK) != 0;
    }
    dpx_for_each(x, b, keys, push_mpls_one, &m);
}

static enum dp_drop_reason
pop_mpls_one(struct packet *p, struct flow_key *key, const void *arg)
{
    const be16 *next = arg;

    if (!fkey_eth_type_is_mpls(key->eth_type)) {
        return DPX_KEEP;        /* Not MPLS: nothing to pop (kernel). */
    }
    if (pedit_pop_mpls(p, dpx_l2_end(p, key), *next)) {
        return DP_DROP_MALFORMED;
    }
    if (!has_eth(key)) {
        if (*next == htons(ETH_TYPE_TEB)) {
            key->mac_proto = FKEY_MAC_ETHERNET;
        } else {
            key->eth_type = *next;
        }
    }
    return dpx_reparse(p, key);
}

void
dpx_do_pop_mpls(struct dpx_ctx *x, struct pkt_batch *b,
                struct flow_key *keys, const struct nlattr *a)
{
    be16 next;

    memcpy(&next, dpx_attr_data(a), sizeof next);
    dpx_for_each(x, b, keys, pop_mpls_one, &next);
}

/* ---- Ethernet. ---- */

static enum dp_drop_reason
push_eth_one(struct packet *p, struct flow_key *key, const void *arg)
{
    const struct ovs_action_push_eth *e = arg;
    int error;

    if (has_eth(key)) {
        return DP_DROP_MALFORMED;
    }
    error = pedit_push_eth(p, e->addresses.eth_dst, e->addresses.eth_src,
                           key->eth_type);
    if (error) {
        return edit_result(error);
    }
    key->mac_proto = FKEY_MAC_ETHERNET;
    return dpx_reparse(p, key);
}

void
dpx_do_push_eth(struct dpx_ctx *x, struct pkt_batch *b,
                struct flow_key *keys, const struct nlattr *a)
{
    struct ovs_action_push_eth e;

    memcpy(&e, dpx_attr_data(a), sizeof e);
    dpx_for_each(x, b, keys, push_eth_one, &e);
}

static enum dp_drop_reason
pop_eth_one(struct packet *p, struct flow_key *key, const void *arg)
{
    (void) arg;
    /* The kernel refuses (-EPROTO) to pop the header of a tagged frame. */
    if (!has_eth(key) || key->vlan[0].tpid) {
        return DP_DROP_MALFORMED;
    }
    if (pedit_pop_eth(p, dpx_l2_end(p, key))) {
        return DP_DROP_MALFORMED;
    }
    /* 'eth_type' stays: it is the L3 packet's protocol now. */
    key->mac_proto = FKEY_MAC_NONE;
    return dpx_reparse(p, key);
}

void
dpx_do_pop_eth(struct dpx_ctx *x, struct pkt_batch *b,
               struct flow_key *keys)
{
    dpx_for_each(x, b, keys, pop_eth_one, NULL);
}
