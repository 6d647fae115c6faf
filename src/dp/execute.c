/* SPDX-License-Identifier: Apache-2.0 */
/* Action execution: the list walker and the actions that move packets
 * (output, userspace, recirc, sample, clone, check_pkt_len, dec_ttl) or
 * only touch metadata (trunc, hash).  Header edits are in execute-edit.c.
 * The semantics are the Linux kernel's (net/openvswitch/actions.c); the
 * design, and where weir differs, is in execute.h and
 * docs/design/actions.md.
 *
 * The list is walked once per batch: each action is applied to every
 * packet of the batch before the next one.  Actions act on each packet
 * independently, so every packet sees its actions in order, as in the
 * kernel; only the interleaving of different packets on one port can
 * differ (the copies a clone() sends for the whole batch leave before the
 * originals that follow).  Where packets part ways (check_pkt_len(),
 * dec_ttl(), sample()), the batch splits and each part walks its own
 * list.
 *
 * Nested lists run on copies unless the action is the list's last, in
 * which case the packets themselves go in, as in the kernel.  The copies
 * and their keys live in a 'struct xbatch' on the stack (about 7 KiB) of
 * a non-inlined function, one per nesting level in use, so the deepest
 * list validation accepts (ACT_MAX_DEPTH) needs about 120 KiB of stack per
 * recirculation pass. */

#include "dp/execute.h"

#include <errno.h>
#include <string.h>
#include <linux/openvswitch.h>
#include <xxhash.h>

#include "codec/actions-nl.h"
#include "codec/fkey-attrs.h"
#include "dp/execute-private.h"
#include "lib/errbuf.h"
#include "packet/packet-edit.h"

/* Packet selections within a batch are 32-bit masks. */
_Static_assert(PKT_BATCH_MAX <= 32, "batch selections are uint32_t masks");

#define NOINLINE __attribute__((noinline))

/* A batch with its own keys: copies for a nested list, or the part of a
 * batch that took another branch. */
struct xbatch {
    struct pkt_batch b;
    struct flow_key keys[PKT_BATCH_MAX];
};

static void exec_list(struct dpx_ctx *x, struct pkt_batch *b,
                      struct flow_key *keys, const void *acts, size_t len);

/* ---- Batches. ---- */

/* Frees 'p' and counts it under 'r'; DP_N_DROP_REASONS counts nothing
 * (a packet that ended quietly, see x->in_sample). */
static void
drop_packet(struct dpx_ctx *x, struct packet *p, enum dp_drop_reason r)
{
    packet_free(p);
    if (r < DP_N_DROP_REASONS) {
        x->drops[r]++;
    }
}

static void
drop_batch(struct dpx_ctx *x, struct pkt_batch *b, enum dp_drop_reason r)
{
    x->drops[r] += b->n;
    pkt_batch_free(b);
}

void
dpx_for_each(struct dpx_ctx *x, struct pkt_batch *b, struct flow_key *keys,
             dpx_edit_fn *fn, const void *arg)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < b->n; i++) {
        struct packet *p = b->pkts[i];
        enum dp_drop_reason r = fn(p, &keys[i], arg);

        if (r != DPX_KEEP) {
            drop_packet(x, p, r);
            continue;
        }
        if (n != i) {
            b->pkts[n] = p;
            keys[n] = keys[i];
        }
        n++;
    }
    b->n = n;
}

/* Keeps in 'b' the packets selected by 'sel' (bit i for packet i) and
 * moves the others, with their keys, to 'out' (which may be NULL: they are
 * dropped for 'r'). */
static void
split_batch(struct dpx_ctx *x, struct pkt_batch *b, struct flow_key *keys,
            uint32_t sel, struct xbatch *out, enum dp_drop_reason r)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < b->n; i++) {
        struct packet *p = b->pkts[i];

        if (!(sel & (UINT32_C(1) << i))) {
            if (out) {
                out->keys[out->b.n] = keys[i];
                pkt_batch_add(&out->b, p);
            } else {
                drop_packet(x, p, r);
            }
            continue;
        }
        if (n != i) {
            b->pkts[n] = p;
            keys[n] = keys[i];
        }
        n++;
    }
    b->n = n;
}

/* Runs 'acts' on copies of the packets of 'b' selected by 'sel'; 'b' is
 * left as it was.  A copy that cannot be made is counted (DP_DROP_NOMEM),
 * as the packet its list would have sent. */
static NOINLINE void
exec_on_copies(struct dpx_ctx *x, const struct pkt_batch *b,
               const struct flow_key *keys, uint32_t sel, const void *acts,
               size_t len)
{
    struct xbatch sub;

    sub.b.n = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        struct packet *c;

        if (!(sel & (UINT32_C(1) << i))) {
            continue;
        }
        c = packet_clone(b->pkts[i]);
        if (!c) {
            x->drops[DP_DROP_NOMEM]++;
            continue;
        }
        sub.keys[sub.b.n] = keys[i];
        pkt_batch_add(&sub.b, c);
    }
    if (sub.b.n) {
        exec_list(x, &sub.b, sub.keys, acts, len);
    }
}

static uint32_t
all_of(const struct pkt_batch *b)
{
    return b->n >= 32 ? UINT32_MAX : (UINT32_C(1) << b->n) - 1;
}

/* ---- Keys. ---- */

enum dp_drop_reason
dpx_reparse(struct packet *p, struct flow_key *key)
{
    /* The packet carries its type from here on (recirc() parses it again
     * from its bytes and metadata alone). */
    p->md.l3_type = key->mac_proto == FKEY_MAC_NONE ? key->eth_type : 0;
    if (packet_parse(p, key) && key->mac_proto != FKEY_MAC_NONE) {
        /* An Ethernet frame never gets shorter than 14 bytes here (only
         * pop_eth removes its header), so this cannot happen. */
        return DP_DROP_MALFORMED;
    }
    /* An L3 packet of a VLAN type (pop_mpls to 0x8100 after pop_eth) has
     * no fields to read: it keeps just its type, as in the kernel, which
     * refuses it only when it recirculates. */
    return DPX_KEEP;
}

size_t
dpx_l2_end(const struct packet *p, const struct flow_key *key)
{
    if (key->mac_proto == FKEY_MAC_NONE) {
        return 0;
    }
    if (p->mpls_ofs != PKT_OFS_NONE) {
        return p->mpls_ofs;
    }
    if (p->l3_ofs != PKT_OFS_NONE) {
        return p->l3_ofs;
    }
    return pedit_l2_len(p);
}

/* ---- output, trunc, userspace. ---- */

/* Applies 'p''s trunc() length and clears it. */
static void
apply_cutlen(struct packet *p)
{
    if (p->cutlen && p->cutlen < p->len) {
        p->len = p->cutlen;
    }
    p->cutlen = 0;
}

/* Returns a copy of 'p' to output: its first min(len, cutlen) bytes and
 * its metadata.  NULL if out of memory. */
static struct packet *
copy_for_output(const struct packet *p)
{
    struct packet *c;

    if (p->cutlen && p->cutlen < p->len) {
        c = packet_create(p->data, p->cutlen);
        if (c) {
            c->md = p->md;
        }
        return c;
    }
    c = packet_clone(p);
    if (c) {
        c->cutlen = 0;
    }
    return c;
}

static void
do_output(struct dpx_ctx *x, struct pkt_batch *b, struct flow_key *keys,
          uint32_t port, bool last)
{
    const struct dpx_env *env = x->env;
    struct pkt_batch out;
    uint32_t n = 0;

    if (last) {
        /* The common case: the packets themselves go, untouched. */
        for (uint32_t i = 0; i < b->n; i++) {
            struct packet *p = b->pkts[i];

            if (keys[i].mac_proto == FKEY_MAC_NONE) {
                /* Every port is Ethernet: the kernel drops L3 packets
                 * sent to one (ovs_vport_send()). */
                drop_packet(x, p, DP_DROP_NO_ETHERNET);
                continue;
            }
            if (p->cutlen) {
                apply_cutlen(p);
            }
            b->pkts[n++] = p;
        }
        b->n = n;
        if (n) {
            env->output(env->aux, port, b);
        }
        b->n = 0;
        return;
    }

    /* More actions follow: send copies.  As in the kernel, an output
     * consumes the trunc() before it. */
    out.n = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        struct packet *p = b->pkts[i];
        struct packet *c = NULL;

        if (keys[i].mac_proto == FKEY_MAC_NONE) {
            x->drops[DP_DROP_NO_ETHERNET]++;
        } else if (!(c = copy_for_output(p))) {
            x->drops[DP_DROP_NOMEM]++;
        }
        p->cutlen = 0;
        if (c) {
            pkt_batch_add(&out, c);
        }
    }
    if (out.n) {
        env->output(env->aux, port, &out);
    }
}

static void
do_trunc(struct pkt_batch *b, const struct nlattr *a)
{
    struct ovs_action_trunc t;

    memcpy(&t, dpx_attr_data(a), sizeof t);
    for (uint32_t i = 0; i < b->n; i++) {
        b->pkts[i]->cutlen = t.max_len;
    }
}

/* 'list'/'list_len' is the list being walked: the kernel hands that one to
 * userspace with OVS_USERSPACE_ATTR_ACTIONS. */
static void
do_userspace(struct dpx_ctx *x, struct pkt_batch *b, struct flow_key *keys,
             const struct nlattr *a, const void *list, size_t list_len,
             bool last)
{
    const struct dpx_env *env = x->env;
    struct act_userspace u;

    if (act_userspace_parse(a, &u)) {
        drop_batch(x, b, DP_DROP_MALFORMED);
        return;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        struct packet *p = b->pkts[i];
        const struct packet *up = p;
        struct packet view;

        if (p->cutlen && p->cutlen < p->len) {
            /* Userspace gets the trunc()ated packet: a shorter view of the
             * same bytes, for the callee to copy. */
            view = *p;
            view.len = p->cutlen;
            view.cutlen = 0;
            if (view.l3_ofs >= view.len) {
                view.l3_ofs = PKT_OFS_NONE;
            }
            if (view.l4_ofs >= view.len) {
                view.l4_ofs = PKT_OFS_NONE;
            }
            if (view.mpls_ofs >= view.len) {
                view.mpls_ofs = PKT_OFS_NONE;
            }
            up = &view;
        }
        env->upcall(env->aux, up, &keys[i], &u,
                    u.include_actions ? list : NULL,
                    u.include_actions ? list_len : 0);
        p->cutlen = 0;
    }
    if (last) {
        /* Delivered to userspace: consumed, not dropped (kernel). */
        pkt_batch_free(b);
    }
}

/* ---- recirc, hash. ---- */

static void
do_recirc(struct dpx_ctx *x, struct pkt_batch *b, struct flow_key *keys,
          uint32_t recirc_id, bool last)
{
    const struct dpx_env *env = x->env;
    int depth = env->depth + 1;
    struct pkt_batch rb;

    if (depth > DPX_MAX_RECIRC) {
        if (last) {
            drop_batch(x, b, DP_DROP_RECIRC_DEPTH);
        } else {
            x->drops[DP_DROP_RECIRC_DEPTH] += b->n;
        }
        return;
    }

    rb.n = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        struct packet *p = b->pkts[i];
        struct packet *c;

        /* A packet without an Ethernet header goes round too: its
         * metadata says so (md.l3_type, kept by dpx_reparse()). */
        c = last ? p : packet_clone(p);
        if (!c) {
            x->drops[DP_DROP_NOMEM]++;
            continue;
        }
        c->md.recirc_id = recirc_id;
        pkt_batch_add(&rb, c);
    }
    if (last) {
        b->n = 0;
    }
    if (rb.n) {
        env->recirc(env->aux, &rb, depth);
    }
}

/* The L4 hash: addresses, protocol and ports, as Open vSwitch's
 * flow_hash_5tuple() picks them (the kernel's skb_get_hash() uses a
 * per-boot random key, so no two datapaths agree anyway).  Fields of
 * other packets are zero. */
static uint32_t
l4_hash(const struct flow_key *k, uint32_t basis)
{
    struct {
        uint8_t addrs[32];
        be16 ports[2];
        uint8_t proto;
        uint8_t pad[3];
    } t;
    bool ip = false;

    memset(&t, 0, sizeof t);
    if (k->eth_type == htons(ETH_TYPE_IPV6)) {
        memcpy(t.addrs, &k->addr.ipv6, sizeof k->addr.ipv6);
        ip = true;
    } else if (k->eth_type == htons(ETH_TYPE_IP)
               || k->eth_type == htons(ETH_TYPE_ARP)) {
        memcpy(t.addrs, &k->addr.ipv4, sizeof k->addr.ipv4);
        ip = true;
    }
    if (ip) {
        t.proto = k->nw_proto;
        switch (k->nw_proto) {
        case IPPROTO_TCP:
        case IPPROTO_UDP:
        case IPPROTO_SCTP:
        case IPPROTO_ICMP:
        case IPPROTO_ICMPV6:
            t.ports[0] = k->tp_src;
            t.ports[1] = k->tp_dst;
            break;
        default:
            break;
        }
    }
    return XXH32(&t, sizeof t, basis);
}

static void
do_hash(struct pkt_batch *b, struct flow_key *keys, const struct nlattr *a)
{
    struct ovs_action_hash h;

    memcpy(&h, dpx_attr_data(a), sizeof h);
    for (uint32_t i = 0; i < b->n; i++) {
        uint32_t hash = l4_hash(&keys[i], h.hash_basis);

        /* 0 means "not computed". */
        hash = hash ? hash : 1;
        b->pkts[i]->md.dp_hash = hash;
        keys[i].dp_hash = hash;
    }
}

/* ---- Nested lists. ---- */

static bool
sampled(struct dpx_ctx *x, uint32_t probability)
{
    /* The kernel's test: UINT32_MAX always, 0 never, else a random value
     * not above the probability. */
    if (probability == UINT32_MAX) {
        return true;
    }
    return probability && x->env->random(x->env->aux) <= probability;
}

static NOINLINE void
do_sample(struct dpx_ctx *x, struct pkt_batch *b, struct flow_key *keys,
          const struct nlattr *a, bool last)
{
    const struct nlattr *list;
    uint32_t probability;
    uint32_t sel = 0;

    if (act_sample_parse(a, &probability, &list)) {
        drop_batch(x, b, DP_DROP_MALFORMED);
        return;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        if (sampled(x, probability)) {
            sel |= UINT32_C(1) << i;
        }
    }
    /* Packets that end inside a sample() list, at any depth of nested
     * lists, were observed (sFlow, IPFIX), not dropped: the kernel
     * consumes them quietly, and so do we (x->in_sample). */
    x->in_sample++;
    if (last) {
        /* The packets themselves: those not taken end here, counted
         * unless this sample() is itself inside one. */
        if (x->in_sample > 1) {
            split_batch(x, b, keys, sel, NULL, DP_N_DROP_REASONS);
        } else {
            split_batch(x, b, keys, sel, NULL, DP_DROP_ACTION_DROP);
        }
        exec_list(x, b, keys, dpx_attr_data(list), dpx_attr_len(list));
    } else {
        exec_on_copies(x, b, keys, sel, dpx_attr_data(list),
                       dpx_attr_len(list));
    }
    x->in_sample--;
}

static void
do_clone(struct dpx_ctx *x, struct pkt_batch *b, struct flow_key *keys,
         const struct nlattr *a, bool last)
{
    if (last) {
        exec_list(x, b, keys, dpx_attr_data(a), dpx_attr_len(a));
    } else {
        exec_on_copies(x, b, keys, all_of(b), dpx_attr_data(a),
                       dpx_attr_len(a));
    }
}

static NOINLINE void
do_check_pkt_len(struct dpx_ctx *x, struct pkt_batch *b,
                 struct flow_key *keys, const struct nlattr *a, bool last)
{
    const struct nlattr *gt, *le;
    struct xbatch gt_part;
    uint16_t pkt_len;
    uint32_t le_sel = 0;

    if (act_cpl_parse(a, &pkt_len, &gt, &le)) {
        drop_batch(x, b, DP_DROP_MALFORMED);
        return;
    }
    /* The whole frame counts, as skb->len does for an Ethernet packet. */
    for (uint32_t i = 0; i < b->n; i++) {
        if (b->pkts[i]->len <= pkt_len) {
            le_sel |= UINT32_C(1) << i;
        }
    }
    if (!last) {
        exec_on_copies(x, b, keys, le_sel, dpx_attr_data(le),
                       dpx_attr_len(le));
        exec_on_copies(x, b, keys, all_of(b) & ~le_sel, dpx_attr_data(gt),
                       dpx_attr_len(gt));
        return;
    }
    gt_part.b.n = 0;
    split_batch(x, b, keys, le_sel, &gt_part, DP_N_DROP_REASONS);
    if (b->n) {
        exec_list(x, b, keys, dpx_attr_data(le), dpx_attr_len(le));
    }
    if (gt_part.b.n) {
        exec_list(x, &gt_part.b, gt_part.keys, dpx_attr_data(gt),
                  dpx_attr_len(gt));
    }
}

/* Decrements the TTL or hop limit of one packet.  Returns DPX_KEEP,
 * DP_DROP_TTL_EXPIRED when it is 1 or 0 (left as it is), or
 * DP_DROP_MALFORMED when the IP header is not all there. */
static enum dp_drop_reason
dec_ttl_one(struct packet *p, struct flow_key *key)
{
    bool ipv6 = key->eth_type == htons(ETH_TYPE_IPV6);

    if (!ipv6 && key->eth_type != htons(ETH_TYPE_IP)) {
        return DPX_KEEP;        /* Not IP: nothing to do (kernel). */
    }
    if (key->vlan[1].tci & htons(VLAN_CFI)) {
        /* Two tags: the kernel leaves skb->protocol at the inner TPID
         * (key_extract(), for skb_vlan_pop()), so its dec_ttl sees no IP
         * packet and does nothing.  So do we. */
        return DPX_KEEP;
    }
    if (p->l3_ofs == PKT_OFS_NONE) {
        return DP_DROP_MALFORMED;
    }
    if (key->nw_ttl <= 1) {
        return DP_DROP_TTL_EXPIRED;
    }
    key->nw_ttl--;
    if (ipv6) {
        pedit_set_ipv6_hlimit(p, key->nw_ttl);
    } else {
        pedit_set_ipv4_ttl(p, key->nw_ttl);
    }
    return DPX_KEEP;
}

static NOINLINE void
do_dec_ttl(struct dpx_ctx *x, struct pkt_batch *b, struct flow_key *keys,
           const struct nlattr *a)
{
    const struct nlattr *list;
    struct xbatch expired;
    uint32_t n = 0;

    if (act_dec_ttl_parse(a, &list)) {
        drop_batch(x, b, DP_DROP_MALFORMED);
        return;
    }
    expired.b.n = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        struct packet *p = b->pkts[i];
        enum dp_drop_reason r = dec_ttl_one(p, &keys[i]);

        if (r == DP_DROP_TTL_EXPIRED) {
            expired.keys[expired.b.n] = keys[i];
            pkt_batch_add(&expired.b, p);
        } else if (r != DPX_KEEP) {
            drop_packet(x, p, r);
        } else {
            if (n != i) {
                b->pkts[n] = p;
                keys[n] = keys[i];
            }
            n++;
        }
    }
    b->n = n;

    /* Expired packets leave the outer list for the nested one, which gets
     * the packets themselves; an empty one drops them. */
    if (!expired.b.n) {
        return;
    }
    if (!dpx_attr_len(list)) {
        drop_batch(x, &expired.b, DP_DROP_TTL_EXPIRED);
    } else {
        exec_list(x, &expired.b, expired.keys, dpx_attr_data(list),
                  dpx_attr_len(list));
    }
}

/* ---- The walker. ---- */

static void
exec_list(struct dpx_ctx *x, struct pkt_batch *b, struct flow_key *keys,
          const void *acts, size_t len)
{
    const struct nlattr *a = acts;
    size_t rem = len;

    while (b->n && rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN
           && a->nla_len <= rem) {
        size_t step = NLA_ALIGN(a->nla_len);
        bool last = step >= rem;

        switch (dpx_attr_type(a)) {
        case OVS_ACTION_ATTR_OUTPUT:
            do_output(x, b, keys, dpx_attr_u32(a), last);
            break;
        case OVS_ACTION_ATTR_TRUNC:
            do_trunc(b, a);
            break;
        case OVS_ACTION_ATTR_USERSPACE:
            do_userspace(x, b, keys, a, acts, len, last);
            break;
        case OVS_ACTION_ATTR_SET:
        case OVS_ACTION_ATTR_SET_MASKED:
            dpx_do_set(x, b, keys, a);
            break;
        case OVS_ACTION_ATTR_PUSH_VLAN:
            dpx_do_push_vlan(x, b, keys, a);
            break;
        case OVS_ACTION_ATTR_POP_VLAN:
            dpx_do_pop_vlan(x, b, keys);
            break;
        case OVS_ACTION_ATTR_PUSH_MPLS:
        case OVS_ACTION_ATTR_ADD_MPLS:
            dpx_do_push_mpls(x, b, keys, a);
            break;
        case OVS_ACTION_ATTR_POP_MPLS:
            dpx_do_pop_mpls(x, b, keys, a);
            break;
        case OVS_ACTION_ATTR_PUSH_ETH:
            dpx_do_push_eth(x, b, keys, a);
            break;
        case OVS_ACTION_ATTR_POP_ETH:
            dpx_do_pop_eth(x, b, keys);
            break;
        case OVS_ACTION_ATTR_RECIRC:
            do_recirc(x, b, keys, dpx_attr_u32(a), last);
            break;
        case OVS_ACTION_ATTR_HASH:
            do_hash(b, keys, a);
            break;
        case OVS_ACTION_ATTR_SAMPLE:
            do_sample(x, b, keys, a, last);
            break;
        case OVS_ACTION_ATTR_CLONE:
            do_clone(x, b, keys, a, last);
            break;
        case OVS_ACTION_ATTR_CHECK_PKT_LEN:
            do_check_pkt_len(x, b, keys, a, last);
            break;
        case OVS_ACTION_ATTR_DEC_TTL:
            do_dec_ttl(x, b, keys, a);
            break;
        default:
            /* ct, ct_clear, meter, push_nsh, pop_nsh: refused by
             * dpx_check_supported(), so a flow never has them. */
            drop_batch(x, b, DP_DROP_UNSUPPORTED);
            break;
        }
        a = (const struct nlattr *) ((const char *) a + step);
        rem = step < rem ? rem - step : 0;
    }

    /* Packets still here reached the end of the list without leaving. */
    if (b->n) {
        if (x->in_sample) {
            pkt_batch_free(b);
        } else {
            drop_batch(x, b, DP_DROP_ACTION_DROP);
        }
    }
}

void
dpx_execute(const struct dpx_env *env, struct pkt_batch *batch,
            struct flow_key *keys, const void *acts, size_t len)
{
    struct dpx_ctx x;

    x.env = env;
    memset(x.drops, 0, sizeof x.drops);
    x.in_sample = 0;
    if (batch->n) {
        exec_list(&x, batch, keys, acts, len);
    }
    for (int r = 0; r < DP_N_DROP_REASONS; r++) {
        if (x.drops[r]) {
            env->drop(env->aux, (enum dp_drop_reason) r, x.drops[r]);
        }
    }
    batch->n = 0;
}

/* ---- Install-time check. ---- */

static int check_list(const void *acts, size_t len, struct errbuf *err);

static int
check_set(const struct nlattr *a, struct errbuf *err)
{
    const struct nlattr *k;
    const void *mask;
    size_t len;
    const char *name;

    if (act_set_parse(a, &k, &len, &mask)) {
        errbuf_set(err, "%s: malformed", act_attr_name(dpx_attr_type(a)));
        return -EINVAL;
    }
    switch (dpx_attr_type(k)) {
    case OVS_KEY_ATTR_PRIORITY:
    case OVS_KEY_ATTR_SKB_MARK:
    case OVS_KEY_ATTR_ETHERNET:
    case OVS_KEY_ATTR_IPV4:
    case OVS_KEY_ATTR_IPV6:
    case OVS_KEY_ATTR_TCP:
    case OVS_KEY_ATTR_UDP:
    case OVS_KEY_ATTR_SCTP:
    case OVS_KEY_ATTR_MPLS:
        return 0;
    default:
        name = fkey_attr_name(dpx_attr_type(k));
        errbuf_set(err, "%s(%s()) is not supported by this datapath yet",
                   act_attr_name(dpx_attr_type(a)), name ? name : "?");
        return -EOPNOTSUPP;
    }
}

static int
check_nested(const struct nlattr *list, struct errbuf *err)
{
    return check_list(dpx_attr_data(list), dpx_attr_len(list), err);
}

static int
check_action(const struct nlattr *a, struct errbuf *err)
{
    uint16_t type = dpx_attr_type(a);

    switch (type) {
    case OVS_ACTION_ATTR_OUTPUT:
    case OVS_ACTION_ATTR_TRUNC:
    case OVS_ACTION_ATTR_USERSPACE:
    case OVS_ACTION_ATTR_PUSH_VLAN:
    case OVS_ACTION_ATTR_POP_VLAN:
    case OVS_ACTION_ATTR_PUSH_MPLS:
    case OVS_ACTION_ATTR_ADD_MPLS:
    case OVS_ACTION_ATTR_POP_MPLS:
    case OVS_ACTION_ATTR_PUSH_ETH:
    case OVS_ACTION_ATTR_POP_ETH:
    case OVS_ACTION_ATTR_RECIRC:
    case OVS_ACTION_ATTR_HASH:
        return 0;

    case OVS_ACTION_ATTR_SET:
    case OVS_ACTION_ATTR_SET_MASKED:
        return check_set(a, err);

    case OVS_ACTION_ATTR_SAMPLE: {
        const struct nlattr *list;
        uint32_t probability;

        if (act_sample_parse(a, &probability, &list)) {
            break;
        }
        return check_nested(list, err);
    }

    case OVS_ACTION_ATTR_CLONE:
        return check_nested(a, err);

    case OVS_ACTION_ATTR_CHECK_PKT_LEN: {
        const struct nlattr *gt, *le;
        uint16_t pkt_len;
        int error;

        if (act_cpl_parse(a, &pkt_len, &gt, &le)) {
            break;
        }
        error = check_nested(le, err);
        return error ? error : check_nested(gt, err);
    }

    case OVS_ACTION_ATTR_DEC_TTL: {
        const struct nlattr *list;

        if (act_dec_ttl_parse(a, &list)) {
            break;
        }
        return check_nested(list, err);
    }

    default:
        errbuf_set(err, "%s action is not supported by this datapath yet",
                   act_attr_name(type));
        return -EOPNOTSUPP;
    }
    errbuf_set(err, "%s: malformed", act_attr_name(type));
    return -EINVAL;
}

static int
check_list(const void *acts, size_t len, struct errbuf *err)
{
    const struct nlattr *a = acts;
    size_t rem = len;

    while (rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN
           && a->nla_len <= rem) {
        size_t step = NLA_ALIGN(a->nla_len);
        int error = check_action(a, err);

        if (error) {
            return error;
        }
        a = (const struct nlattr *) ((const char *) a + step);
        rem = step < rem ? rem - step : 0;
    }
    return 0;
}

int
dpx_check_supported(const void *acts, size_t len, struct errbuf *err)
{
    errbuf_clear(err);
    return check_list(acts, len, err);
}
