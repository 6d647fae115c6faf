/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for codec/fkey-nl.c.  Expected attribute bytes are built by
 * hand with the builder in test-util.h, not with the code under test. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>

#include "codec/fkey-attrs.h"
#include "codec/fkey-nl.h"
#include "lib/errbuf.h"
#include "packet/flow-key.h"
#include "test-util.h"

/* ---- Hand-built attribute streams (builder in test-util.h). ---- */

/* The metadata every key starts with: recirc_id, dp_hash, priority,
 * in_port (unless negative), skb_mark. */
static void
bb_meta(struct bb *bb, long in_port)
{
    bb_u32(bb, OVS_KEY_ATTR_RECIRC_ID, 0);
    bb_u32(bb, OVS_KEY_ATTR_DP_HASH, 0);
    bb_u32(bb, OVS_KEY_ATTR_PRIORITY, 0);
    if (in_port >= 0) {
        bb_u32(bb, OVS_KEY_ATTR_IN_PORT, (uint32_t) in_port);
    }
    bb_u32(bb, OVS_KEY_ATTR_SKB_MARK, 0);
}

static const uint8_t mac_src[6] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05 };
static const uint8_t mac_dst[6] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15 };

static void
bb_eth(struct bb *bb)
{
    uint8_t eth[12];

    memcpy(eth, mac_src, 6);
    memcpy(eth + 6, mac_dst, 6);
    bb_put(bb, OVS_KEY_ATTR_ETHERNET, eth, sizeof eth);
}

/* ---- Keys. ---- */

static struct flow_key
base_key(uint16_t eth_type)
{
    struct flow_key k;

    memset(&k, 0, sizeof k);
    k.in_port = 1;
    memcpy(k.eth_src, mac_src, 6);
    memcpy(k.eth_dst, mac_dst, 6);
    k.mac_proto = FKEY_MAC_ETHERNET;
    k.eth_type = htons(eth_type);
    return k;
}

static struct flow_key
ipv4_key(uint8_t proto, uint16_t src, uint16_t dst)
{
    struct flow_key k = base_key(ETH_TYPE_IP);

    k.nw_proto = proto;
    k.nw_ttl = 64;
    k.nw_tos = 0x10;
    k.addr.ipv4.src = htonl(0x0a000001);
    k.addr.ipv4.dst = htonl(0x0a000002);
    k.tp_src = htons(src);
    k.tp_dst = htons(dst);
    if (proto == IPPROTO_TCP) {
        k.tcp_flags = htons(0x012);
    }
    return k;
}

static struct flow_key
ipv6_key(uint8_t proto, uint16_t src, uint16_t dst)
{
    struct flow_key k = base_key(ETH_TYPE_IPV6);

    k.nw_proto = proto;
    k.nw_ttl = 255;
    k.ipv6_label = htonl(0x12345);
    k.ipv6_exthdrs = FKEY_IPV6_EH_DEST | FKEY_IPV6_EH_HOP;
    k.addr.ipv6.src.s6_addr[0] = 0xfe;
    k.addr.ipv6.src.s6_addr[15] = 1;
    k.addr.ipv6.dst.s6_addr[0] = 0xff;
    k.addr.ipv6.dst.s6_addr[15] = 2;
    k.tp_src = htons(src);
    k.tp_dst = htons(dst);
    if (proto == IPPROTO_TCP) {
        k.tcp_flags = htons(0x010);
    }
    if (proto == IPPROTO_ICMPV6 && (src == 135 || src == 136)) {
        k.nd_target.s6_addr[0] = 0x20;
        k.nd_target.s6_addr[15] = 9;
        k.arp_sha[0] = src == 135 ? 0xaa : 0;
        k.arp_tha[0] = src == 136 ? 0xbb : 0;
    }
    return k;
}

static struct flow_key
arp_key(uint16_t eth_type)
{
    struct flow_key k = base_key(eth_type);

    k.arp_op = htons(1);
    k.addr.ipv4.src = htonl(0xc0a80001);
    k.addr.ipv4.dst = htonl(0xc0a80002);
    memcpy(k.arp_sha, mac_src, 6);
    return k;
}

static struct flow_key
mpls_key(int n)
{
    struct flow_key k = base_key(ETH_TYPE_MPLS);

    k.n_mpls = (uint8_t) n;
    for (int i = 0; i < n; i++) {
        k.mpls_lse[i] = htonl(((uint32_t) (100 + i) << 12)
                              | (i == n - 1 ? 0x100 : 0) | 64);
    }
    return k;
}

static void
add_vlan(struct flow_key *k, int i, uint16_t tpid, uint16_t tci)
{
    k->vlan[i].tpid = htons(tpid);
    k->vlan[i].tci = htons(tci);
}

/* ---- Helpers around the code under test. ---- */

struct msg {
    union {
        struct nlmsghdr nlh;
        uint8_t b[2048];
    } u;
};

static void
msg_init(struct msg *m)
{
    memset(m, 0, sizeof *m);
    mnl_nlmsg_put_header(m->u.b);
}

static const uint8_t *
msg_payload(const struct msg *m)
{
    return m->u.b + MNL_NLMSG_HDRLEN;
}

static size_t
msg_len(const struct msg *m)
{
    return m->u.nlh.nlmsg_len - MNL_NLMSG_HDRLEN;
}

static void
encode_key(const struct flow_key *k, struct msg *m)
{
    msg_init(m);
    assert_int_equal(0, fkey_to_nl(k, &m->u.nlh, sizeof m->u.b));
    assert_true(msg_len(m) <= FKEY_NL_MAX_LEN);
}

static void
encode_mask(const struct flow_key *k, const struct flow_mask *mk,
            struct msg *m)
{
    msg_init(m);
    assert_int_equal(0, fmask_to_nl(k, mk, &m->u.nlh, sizeof m->u.b));
    assert_true(msg_len(m) <= FKEY_NL_MAX_LEN);
}

static enum fkey_fit
decode(const struct bb *bb, struct flow_key *k, struct errbuf *err)
{
    return fkey_from_nl(bb->b, bb->len, k, err);
}

static void
assert_bytes(const struct msg *m, const struct bb *bb)
{
    assert_int_equal(bb->len, msg_len(m));
    assert_memory_equal(bb->b, msg_payload(m), bb->len);
}

static void
assert_keys_equal(const struct flow_key *a, const struct flow_key *b)
{
    assert_memory_equal(a, b, sizeof *a);
}

/* Checks key -> nl -> key and exact-mask -> nl -> mask, and that the key
 * decodes perfectly. */
static void
check_round_trip(const struct flow_key *k)
{
    struct flow_mask mk, mk2;
    struct flow_key k2;
    struct errbuf err;
    struct msg m, m2;

    errbuf_clear(&err);
    encode_key(k, &m);
    assert_int_equal(FKEY_FIT_PERFECT,
                     fkey_from_nl(msg_payload(&m), msg_len(&m), &k2, &err));
    assert_keys_equal(k, &k2);
    assert_true(fkey_nl_equal(k, &k2));

    /* Re-encoding gives the same bytes. */
    encode_key(&k2, &m2);
    assert_int_equal(msg_len(&m), msg_len(&m2));
    assert_memory_equal(msg_payload(&m), msg_payload(&m2), msg_len(&m));

    /* Exact mask, then mask -> nl -> mask. */
    assert_int_equal(FKEY_FIT_PERFECT, fmask_from_nl(NULL, 0, k, &mk, &err));
    encode_mask(k, &mk, &m);
    assert_int_equal(FKEY_FIT_PERFECT,
                     fmask_from_nl(msg_payload(&m), msg_len(&m), k, &mk2,
                                   &err));
    assert_memory_equal(&mk, &mk2, sizeof mk);

    /* The mask has the key's shape, except that an 802.2 key's exact mask
     * has an eth_type attribute. */
    encode_key(k, &m2);
    assert_int_equal(msg_len(&m),
                     msg_len(&m2) + (k->eth_type == htons(ETH_TYPE_802_2)
                                     && k->mac_proto == FKEY_MAC_ETHERNET
                                     ? 8 : 0));
}

/* ---- Tests. ---- */

static void
test_fit_to_string(void **state)
{
    (void) state;
    assert_string_equal("perfect", fkey_fit_to_string(FKEY_FIT_PERFECT));
    assert_string_equal("too_much", fkey_fit_to_string(FKEY_FIT_TOO_MUCH));
    assert_string_equal("too_little",
                        fkey_fit_to_string(FKEY_FIT_TOO_LITTLE));
    assert_string_equal("error", fkey_fit_to_string(FKEY_FIT_ERROR));
}

static void
test_ipv4_tcp_bytes(void **state)
{
    struct flow_key k = ipv4_key(IPPROTO_TCP, 1234, 80), k2;
    struct bb bb = { .len = 0 };
    uint8_t ipv4[12] = { 10, 0, 0, 1, 10, 0, 0, 2, 6, 0x10, 64, 0 };
    uint8_t tcp[4] = { 0x04, 0xd2, 0x00, 0x50 };
    struct msg m;

    (void) state;
    bb_meta(&bb, 1);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    bb_put(&bb, OVS_KEY_ATTR_IPV4, ipv4, sizeof ipv4);
    bb_put(&bb, OVS_KEY_ATTR_TCP, tcp, sizeof tcp);
    bb_be16(&bb, OVS_KEY_ATTR_TCP_FLAGS, 0x012);

    encode_key(&k, &m);
    assert_bytes(&m, &bb);
    assert_int_equal(FKEY_FIT_PERFECT, decode(&bb, &k2, NULL));
    assert_keys_equal(&k, &k2);
    check_round_trip(&k);
}

static void
test_icmp_bytes(void **state)
{
    struct flow_key k = ipv4_key(IPPROTO_ICMP, 8, 3), k2;
    struct bb bb = { .len = 0 };
    uint8_t ipv4[12] = { 10, 0, 0, 1, 10, 0, 0, 2, 1, 0x10, 64, 0 };
    uint8_t icmp[2] = { 8, 3 };
    struct msg m;

    (void) state;
    bb_meta(&bb, 1);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    bb_put(&bb, OVS_KEY_ATTR_IPV4, ipv4, sizeof ipv4);
    bb_put(&bb, OVS_KEY_ATTR_ICMP, icmp, sizeof icmp);
    encode_key(&k, &m);
    assert_bytes(&m, &bb);
    assert_int_equal(FKEY_FIT_PERFECT, decode(&bb, &k2, NULL));
    assert_int_equal(htons(8), k2.tp_src);
    assert_int_equal(htons(3), k2.tp_dst);
    assert_int_equal(8, fkey_icmp_type(&k2));
}

static void
test_ipv6_nd_bytes(void **state)
{
    struct flow_key k = ipv6_key(IPPROTO_ICMPV6, 135, 0), k2;
    struct bb bb = { .len = 0 };
    uint8_t ipv6[40], icmpv6[2] = { 135, 0 }, nd[28];
    uint16_t eh = FKEY_IPV6_EH_DEST | FKEY_IPV6_EH_HOP;
    uint32_t label = htonl(0x12345);
    struct msg m;

    (void) state;
    memset(ipv6, 0, sizeof ipv6);
    ipv6[0] = 0xfe;
    ipv6[15] = 1;
    ipv6[16] = 0xff;
    ipv6[31] = 2;
    memcpy(ipv6 + 32, &label, 4);
    ipv6[36] = IPPROTO_ICMPV6;
    ipv6[38] = 255;
    memset(nd, 0, sizeof nd);
    nd[0] = 0x20;
    nd[15] = 9;
    nd[16] = 0xaa;

    bb_meta(&bb, 1);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x86dd);
    bb_put(&bb, OVS_KEY_ATTR_IPV6, ipv6, sizeof ipv6);
    bb_put(&bb, OVS_KEY_ATTR_IPV6_EXTHDRS, &eh, sizeof eh);
    bb_put(&bb, OVS_KEY_ATTR_ICMPV6, icmpv6, sizeof icmpv6);
    bb_put(&bb, OVS_KEY_ATTR_ND, nd, sizeof nd);
    encode_key(&k, &m);
    assert_bytes(&m, &bb);
    assert_int_equal(FKEY_FIT_PERFECT, decode(&bb, &k2, NULL));
    assert_keys_equal(&k, &k2);
}

static void
test_round_trip_protocols(void **state)
{
    struct flow_key k;

    (void) state;
    k = ipv4_key(IPPROTO_TCP, 1, 2);
    check_round_trip(&k);
    k = ipv4_key(IPPROTO_UDP, 53, 5353);
    check_round_trip(&k);
    k = ipv4_key(IPPROTO_SCTP, 9, 10);
    check_round_trip(&k);
    k = ipv4_key(IPPROTO_ICMP, 0, 0);
    check_round_trip(&k);
    k = ipv4_key(47, 0, 0);                 /* GRE: no L4 attribute. */
    check_round_trip(&k);
    k = ipv4_key(IPPROTO_TCP, 0, 0);
    k.nw_frag = FKEY_FRAG_LATER;
    k.tcp_flags = 0;
    check_round_trip(&k);
    k = ipv4_key(IPPROTO_UDP, 7, 7);
    k.nw_frag = FKEY_FRAG_FIRST;
    check_round_trip(&k);
    k = ipv6_key(IPPROTO_TCP, 443, 5555);
    check_round_trip(&k);
    k = ipv6_key(IPPROTO_UDP, 1, 2);
    check_round_trip(&k);
    k = ipv6_key(IPPROTO_SCTP, 3, 4);
    check_round_trip(&k);
    k = ipv6_key(IPPROTO_ICMPV6, 128, 0);
    check_round_trip(&k);
    k = ipv6_key(IPPROTO_ICMPV6, 135, 0);
    check_round_trip(&k);
    k = ipv6_key(IPPROTO_ICMPV6, 136, 0);
    check_round_trip(&k);
    k = arp_key(ETH_TYPE_ARP);
    check_round_trip(&k);
    k = arp_key(ETH_TYPE_RARP);
    check_round_trip(&k);
    for (int n = 0; n <= 3; n++) {
        k = mpls_key(n);
        check_round_trip(&k);
    }
    k = base_key(ETH_TYPE_802_2);
    check_round_trip(&k);
    k = base_key(0x88cc);                   /* LLDP. */
    check_round_trip(&k);
    k = ipv4_key(IPPROTO_UDP, 1, 2);
    k.in_port = FKEY_IN_PORT_NONE;
    k.recirc_id = 7;
    k.dp_hash = 0xdeadbeef;
    k.priority = 3;
    k.skb_mark = 0x55;
    check_round_trip(&k);
    k = ipv4_key(IPPROTO_UDP, 1, 2);
    memset(k.eth_src, 0, 6);
    memset(k.eth_dst, 0, 6);
    k.mac_proto = FKEY_MAC_NONE;
    check_round_trip(&k);
}

static void
test_round_trip_vlans(void **state)
{
    struct flow_key k;

    (void) state;
    k = ipv4_key(IPPROTO_TCP, 1, 2);
    add_vlan(&k, 0, 0x8100, VLAN_CFI | 10);
    check_round_trip(&k);
    k = ipv6_key(IPPROTO_UDP, 1, 2);
    add_vlan(&k, 0, 0x88a8, VLAN_CFI | (5 << VLAN_PCP_SHIFT) | 100);
    add_vlan(&k, 1, 0x8100, VLAN_CFI | 200);
    check_round_trip(&k);
    k = ipv6_key(IPPROTO_ICMPV6, 136, 0);
    add_vlan(&k, 0, 0x88a8, VLAN_CFI | 1);
    add_vlan(&k, 1, 0x8100, VLAN_CFI | 2);
    check_round_trip(&k);
    k = base_key(ETH_TYPE_802_2);
    add_vlan(&k, 0, 0x8100, VLAN_CFI | 3);
    check_round_trip(&k);
    k = base_key(0x8100);                   /* Truncated outer tag. */
    add_vlan(&k, 0, 0x8100, 0);
    check_round_trip(&k);
    k = base_key(0x8100);                   /* Truncated inner tag. */
    add_vlan(&k, 0, 0x88a8, VLAN_CFI | 7);
    add_vlan(&k, 1, 0x8100, 0);
    check_round_trip(&k);
    k = base_key(0x8100);                   /* Third tag. */
    add_vlan(&k, 0, 0x88a8, VLAN_CFI | 7);
    add_vlan(&k, 1, 0x8100, VLAN_CFI | 8);
    check_round_trip(&k);
    k = mpls_key(2);
    add_vlan(&k, 0, 0x8100, VLAN_CFI);
    check_round_trip(&k);
}

static void
test_vlan_bytes(void **state)
{
    struct flow_key k = base_key(0x8100), k2;
    struct bb bb = { .len = 0 };
    struct msg m;

    (void) state;
    /* Truncated: eth_type(0x8100),vlan(0),encap(). */
    add_vlan(&k, 0, 0x8100, 0);
    bb_meta(&bb, 1);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
    bb_be16(&bb, OVS_KEY_ATTR_VLAN, 0);
    bb_open(&bb, OVS_KEY_ATTR_ENCAP);
    bb_close(&bb);
    encode_key(&k, &m);
    assert_bytes(&m, &bb);
    assert_int_equal(FKEY_FIT_PERFECT, decode(&bb, &k2, NULL));
    assert_keys_equal(&k, &k2);

    /* QinQ around ARP, with both nests closed at the end. */
    k = arp_key(ETH_TYPE_ARP);
    add_vlan(&k, 0, 0x88a8, VLAN_CFI | 100);
    add_vlan(&k, 1, 0x8100, VLAN_CFI | 200);
    memset(&bb, 0, sizeof bb);
    bb_meta(&bb, 1);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x88a8);
    bb_be16(&bb, OVS_KEY_ATTR_VLAN, VLAN_CFI | 100);
    bb_open(&bb, OVS_KEY_ATTR_ENCAP);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
    bb_be16(&bb, OVS_KEY_ATTR_VLAN, VLAN_CFI | 200);
    bb_open(&bb, OVS_KEY_ATTR_ENCAP);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0806);
    {
        uint8_t arp[24];

        memset(arp, 0, sizeof arp);
        arp[0] = 192, arp[1] = 168, arp[3] = 1;
        arp[4] = 192, arp[5] = 168, arp[7] = 2;
        arp[9] = 1;
        memcpy(arp + 10, mac_src, 6);
        bb_put(&bb, OVS_KEY_ATTR_ARP, arp, sizeof arp);
    }
    bb_close(&bb);
    bb_close(&bb);
    encode_key(&k, &m);
    assert_bytes(&m, &bb);
    assert_int_equal(FKEY_FIT_PERFECT, decode(&bb, &k2, NULL));
    assert_keys_equal(&k, &k2);
}

static void
test_8022_and_in_port_masks(void **state)
{
    struct flow_key k = base_key(ETH_TYPE_802_2), k2;
    struct flow_mask mk;
    struct bb bb = { .len = 0 };
    struct msg m;
    uint8_t ones[12];

    (void) state;
    /* Key: no eth_type attribute at all. */
    bb_meta(&bb, 1);
    bb_eth(&bb);
    encode_key(&k, &m);
    assert_bytes(&m, &bb);
    assert_int_equal(FKEY_FIT_PERFECT, decode(&bb, &k2, NULL));
    assert_int_equal(htons(ETH_TYPE_802_2), k2.eth_type);

    /* Exact mask: in_port 0xffffffff, eth_type 0xffff. */
    memset(ones, 0xff, sizeof ones);
    assert_int_equal(FKEY_FIT_PERFECT, fmask_from_nl(NULL, 0, &k, &mk, NULL));
    assert_int_equal(UINT32_MAX, mk.bits.in_port);
    assert_int_equal(0xffff, mk.bits.eth_type);
    memset(&bb, 0, sizeof bb);
    bb_u32(&bb, OVS_KEY_ATTR_RECIRC_ID, UINT32_MAX);
    bb_u32(&bb, OVS_KEY_ATTR_DP_HASH, UINT32_MAX);
    bb_u32(&bb, OVS_KEY_ATTR_PRIORITY, UINT32_MAX);
    bb_u32(&bb, OVS_KEY_ATTR_IN_PORT, UINT32_MAX);
    bb_u32(&bb, OVS_KEY_ATTR_SKB_MARK, UINT32_MAX);
    bb_put(&bb, OVS_KEY_ATTR_ETHERNET, ones, 12);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    encode_mask(&k, &mk, &m);
    assert_bytes(&m, &bb);

    /* A mask with only eth: in_port wildcarded (written 0xffff0000), and
     * the 802.2 eth_type still exact. */
    memset(&bb, 0, sizeof bb);
    bb_put(&bb, OVS_KEY_ATTR_ETHERNET, ones, 12);
    assert_int_equal(FKEY_FIT_PERFECT,
                     fmask_from_nl(bb.b, bb.len, &k, &mk, NULL));
    assert_int_equal(0, mk.bits.in_port);
    assert_int_equal(0xffff, mk.bits.eth_type);
    memset(&bb, 0, sizeof bb);
    bb_u32(&bb, OVS_KEY_ATTR_RECIRC_ID, 0);
    bb_u32(&bb, OVS_KEY_ATTR_DP_HASH, 0);
    bb_u32(&bb, OVS_KEY_ATTR_PRIORITY, 0);
    bb_u32(&bb, OVS_KEY_ATTR_IN_PORT, 0xffff0000);
    bb_u32(&bb, OVS_KEY_ATTR_SKB_MARK, 0);
    bb_put(&bb, OVS_KEY_ATTR_ETHERNET, ones, 12);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    encode_mask(&k, &mk, &m);
    assert_bytes(&m, &bb);
    /* ... and reading that back keeps the port wildcarded. */
    assert_int_equal(FKEY_FIT_PERFECT,
                     fmask_from_nl(bb.b, bb.len, &k, &mk, NULL));
    assert_int_equal(0, mk.bits.in_port);

    /* Key without in_port: "no port"; its exact mask has no in_port
     * attribute, but an explicit exact in_port mask is kept. */
    memset(&bb, 0, sizeof bb);
    bb_meta(&bb, -1);
    bb_eth(&bb);
    assert_int_equal(FKEY_FIT_PERFECT, decode(&bb, &k2, NULL));
    assert_int_equal(FKEY_IN_PORT_NONE, k2.in_port);
    encode_key(&k2, &m);
    assert_bytes(&m, &bb);
    assert_int_equal(FKEY_FIT_PERFECT, fmask_from_nl(NULL, 0, &k2, &mk, NULL));
    assert_int_equal(0, mk.bits.in_port);
    memset(&bb, 0, sizeof bb);
    bb_u32(&bb, OVS_KEY_ATTR_IN_PORT, UINT32_MAX);
    assert_int_equal(FKEY_FIT_PERFECT,
                     fmask_from_nl(bb.b, bb.len, &k2, &mk, NULL));
    assert_int_equal(UINT32_MAX, mk.bits.in_port);
    encode_mask(&k2, &mk, &m);
    assert_int_equal(OVS_KEY_ATTR_IN_PORT,
                     ((const struct nlattr *) (msg_payload(&m) + 24))
                     ->nla_type);
}

static void
test_partial_masks(void **state)
{
    struct flow_key k = ipv4_key(IPPROTO_TCP, 1, 2);
    struct flow_mask mk, mk2;
    struct bb bb = { .len = 0 };
    uint8_t ipv4[12] = { 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0xff, 0, 0, 0 };
    uint8_t tcp[4] = { 0, 0, 0xff, 0xff };
    struct msg m;

    (void) state;
    add_vlan(&k, 0, 0x8100, VLAN_CFI | 10);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    bb_be16(&bb, OVS_KEY_ATTR_VLAN, VLAN_CFI | VLAN_VID_MASK);
    bb_open(&bb, OVS_KEY_ATTR_ENCAP);
    bb_put(&bb, OVS_KEY_ATTR_TCP, tcp, sizeof tcp);
    bb_put(&bb, OVS_KEY_ATTR_IPV4, ipv4, sizeof ipv4);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x1234);   /* Made exact. */
    bb_close(&bb);
    assert_int_equal(FKEY_FIT_PERFECT,
                     fmask_from_nl(bb.b, bb.len, &k, &mk, NULL));
    assert_int_equal(htons(VLAN_CFI | VLAN_VID_MASK), mk.bits.vlan[0].tci);
    assert_int_equal(0xffff, mk.bits.vlan[0].tpid);
    assert_int_equal(0xffff, mk.bits.vlan[1].tci);  /* No inner tag. */
    assert_int_equal(0xffff, mk.bits.eth_type);
    assert_int_equal(htonl(0xffffff00), mk.bits.addr.ipv4.src);
    assert_int_equal(0, mk.bits.addr.ipv4.dst);
    assert_int_equal(0xff, mk.bits.nw_proto);
    assert_int_equal(0, mk.bits.tp_src);
    assert_int_equal(0xffff, mk.bits.tp_dst);
    assert_int_equal(0, mk.bits.tcp_flags);
    assert_int_equal(0, mk.bits.in_port);
    assert_int_equal(0xff, mk.bits.mac_proto);

    encode_mask(&k, &mk, &m);
    assert_int_equal(FKEY_FIT_PERFECT,
                     fmask_from_nl(msg_payload(&m), msg_len(&m), &k, &mk2,
                                   NULL));
    assert_memory_equal(&mk, &mk2, sizeof mk);

    /* Without an encap mask, the tag stays exact, the TPID mask is read
     * as the eth_type mask (exact, as the kernel does) and the rest is
     * wildcarded.  The echo is what the kernel dumps for that mask. */
    memset(&bb, 0, sizeof bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    assert_int_equal(FKEY_FIT_PERFECT,
                     fmask_from_nl(bb.b, bb.len, &k, &mk, NULL));
    assert_int_equal(0xffff, mk.bits.vlan[0].tci);
    assert_int_equal(0xffff, mk.bits.eth_type);
    assert_int_equal(0, mk.bits.nw_proto);
    {
        uint8_t zeros[12] = { 0 };

        memset(&bb, 0, sizeof bb);
        bb_u32(&bb, OVS_KEY_ATTR_RECIRC_ID, 0);
        bb_u32(&bb, OVS_KEY_ATTR_DP_HASH, 0);
        bb_u32(&bb, OVS_KEY_ATTR_PRIORITY, 0);
        bb_u32(&bb, OVS_KEY_ATTR_IN_PORT, 0xffff0000);
        bb_u32(&bb, OVS_KEY_ATTR_SKB_MARK, 0);
        bb_put(&bb, OVS_KEY_ATTR_ETHERNET, zeros, 12);
        bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
        bb_be16(&bb, OVS_KEY_ATTR_VLAN, 0xffff);
        bb_open(&bb, OVS_KEY_ATTR_ENCAP);
        bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
        bb_put(&bb, OVS_KEY_ATTR_IPV4, zeros, 12);
        bb_put(&bb, OVS_KEY_ATTR_TCP, zeros, 4);
        bb_be16(&bb, OVS_KEY_ATTR_TCP_FLAGS, 0);
        bb_close(&bb);
        encode_mask(&k, &mk, &m);
        assert_bytes(&m, &bb);
    }

    /* MPLS: fewer labels than the key is fine; the count is exact. */
    k = mpls_key(3);
    memset(&bb, 0, sizeof bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    bb_u32(&bb, OVS_KEY_ATTR_MPLS, htonl(0xfffff000));
    assert_int_equal(FKEY_FIT_PERFECT,
                     fmask_from_nl(bb.b, bb.len, &k, &mk, NULL));
    assert_int_equal(0xff, mk.bits.n_mpls);
    assert_int_equal(htonl(0xfffff000), mk.bits.mpls_lse[0]);
    assert_int_equal(0, mk.bits.mpls_lse[1]);
    encode_mask(&k, &mk, &m);
    assert_int_equal(FKEY_FIT_PERFECT,
                     fmask_from_nl(msg_payload(&m), msg_len(&m), &k, &mk2,
                                   NULL));
    assert_memory_equal(&mk, &mk2, sizeof mk);

    /* MPLS key, mask without mpls: the label count is wildcarded and the
     * kernel dumps an empty mpls attribute (no labels in the mask). */
    memset(&bb, 0, sizeof bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    assert_int_equal(FKEY_FIT_PERFECT,
                     fmask_from_nl(bb.b, bb.len, &k, &mk, NULL));
    assert_int_equal(0, mk.bits.n_mpls);
    {
        uint8_t zeros[12] = { 0 };

        memset(&bb, 0, sizeof bb);
        bb_u32(&bb, OVS_KEY_ATTR_RECIRC_ID, 0);
        bb_u32(&bb, OVS_KEY_ATTR_DP_HASH, 0);
        bb_u32(&bb, OVS_KEY_ATTR_PRIORITY, 0);
        bb_u32(&bb, OVS_KEY_ATTR_IN_PORT, 0xffff0000);
        bb_u32(&bb, OVS_KEY_ATTR_SKB_MARK, 0);
        bb_put(&bb, OVS_KEY_ATTR_ETHERNET, zeros, 12);
        bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
        bb_put(&bb, OVS_KEY_ATTR_MPLS, NULL, 0);
        encode_mask(&k, &mk, &m);
        assert_bytes(&m, &bb);
    }

    /* ICMPv6 ND with an exact type mask. */
    k = ipv6_key(IPPROTO_ICMPV6, 136, 0);
    memset(&bb, 0, sizeof bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    {
        uint8_t ipv6[40] = { 0 }, icmpv6[2] = { 0xff, 0 }, nd[28] = { 0 };

        ipv6[36] = 0xff;
        nd[0] = 0xff;
        bb_put(&bb, OVS_KEY_ATTR_IPV6, ipv6, sizeof ipv6);
        bb_put(&bb, OVS_KEY_ATTR_ICMPV6, icmpv6, sizeof icmpv6);
        bb_put(&bb, OVS_KEY_ATTR_ND, nd, sizeof nd);
    }
    assert_int_equal(FKEY_FIT_PERFECT,
                     fmask_from_nl(bb.b, bb.len, &k, &mk, NULL));
    assert_int_equal(htons(0xff), mk.bits.tp_src);
    assert_int_equal(0, mk.bits.tp_dst);
    assert_int_equal(0xff, mk.bits.nd_target.s6_addr[0]);
}

static void
expect_mask_error(const struct flow_key *k, const struct bb *bb,
                  const char *reason)
{
    struct flow_mask mk;
    struct errbuf err;

    errbuf_clear(&err);
    assert_int_equal(FKEY_FIT_ERROR,
                     fmask_from_nl(bb->b, bb->len, k, &mk, &err));
    assert_non_null(strstr(err.msg, reason));
}

/* Found by fuzz-key-nl: an empty mask for a key with a VLAN tag (here a
 * truncated one) must decode to the same mask as its own encoding.  The
 * TPID mask is always exact and is written as eth_type(0xffff), which the
 * kernel applies to the key's eth_type; so eth_type is exact both times. */
static void
test_vlan_mask_without_tpid(void **state)
{
    struct flow_mask mk, mk2;
    struct flow_key k;
    struct errbuf err;
    struct msg m;

    (void) state;
    memset(&k, 0, sizeof k);
    k.in_port = 3;
    k.eth_type = htons(ETH_TYPE_VLAN_8021Q);
    k.vlan[0].tpid = htons(ETH_TYPE_VLAN_8021Q);  /* TCI truncated. */

    assert_int_equal(FKEY_FIT_PERFECT, fmask_from_nl("", 0, &k, &mk, &err));
    assert_int_equal(0xffff, ntohs(mk.bits.eth_type));
    assert_int_equal(0xffff, ntohs(mk.bits.vlan[0].tpid));
    assert_int_equal(0, mk.bits.in_port);

    encode_mask(&k, &mk, &m);
    assert_int_equal(FKEY_FIT_PERFECT,
                     fmask_from_nl(msg_payload(&m), msg_len(&m), &k, &mk2,
                                   &err));
    assert_memory_equal(&mk, &mk2, sizeof mk);
}

static void
test_mask_errors(void **state)
{
    struct flow_key k = ipv4_key(IPPROTO_TCP, 1, 2), kv;
    uint8_t ipv4[12] = { 0xff }, tcp[4] = { 0xff };
    struct bb bb = { .len = 0 };

    (void) state;
    /* L3 mask without an exact eth_type. */
    bb_put(&bb, OVS_KEY_ATTR_IPV4, ipv4, sizeof ipv4);
    expect_mask_error(&k, &bb, "exact eth_type");

    /* L4 mask without an exact nw_proto. */
    memset(&bb, 0, sizeof bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    bb_put(&bb, OVS_KEY_ATTR_IPV4, ipv4, sizeof ipv4);
    bb_put(&bb, OVS_KEY_ATTR_TCP, tcp, sizeof tcp);
    expect_mask_error(&k, &bb, "exact nw_proto");

    /* Attribute the key does not have. */
    memset(&bb, 0, sizeof bb);
    bb_put(&bb, OVS_KEY_ATTR_UDP, tcp, sizeof tcp);
    expect_mask_error(&k, &bb, "unexpected udp");

    /* VLAN rules. */
    kv = k;
    add_vlan(&kv, 0, 0x8100, VLAN_CFI | 1);
    memset(&bb, 0, sizeof bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xfff0);
    bb_be16(&bb, OVS_KEY_ATTR_VLAN, 0xffff);
    bb_open(&bb, OVS_KEY_ATTR_ENCAP);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    bb_close(&bb);
    expect_mask_error(&kv, &bb, "TPID");
    memset(&bb, 0, sizeof bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    bb_be16(&bb, OVS_KEY_ATTR_VLAN, 0x0fff);
    bb_open(&bb, OVS_KEY_ATTR_ENCAP);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    bb_close(&bb);
    expect_mask_error(&kv, &bb, "VLAN_CFI");
    kv = base_key(0);
    add_vlan(&kv, 0, 0x8100, 0);
    memset(&bb, 0, sizeof bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    bb_be16(&bb, OVS_KEY_ATTR_VLAN, 0xffff);
    bb_open(&bb, OVS_KEY_ATTR_ENCAP);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    bb_close(&bb);
    expect_mask_error(&kv, &bb, "truncated");

    /* MPLS mask longer than the key. */
    kv = mpls_key(1);
    memset(&bb, 0, sizeof bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    {
        uint32_t lse[2] = { UINT32_MAX, UINT32_MAX };

        bb_put(&bb, OVS_KEY_ATTR_MPLS, lse, sizeof lse);
    }
    expect_mask_error(&kv, &bb, "labels");

    /* ND mask without an exact ICMPv6 type. */
    kv = ipv6_key(IPPROTO_ICMPV6, 135, 0);
    memset(&bb, 0, sizeof bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    {
        uint8_t ipv6[40] = { 0 }, icmpv6[2] = { 0x0f, 0 }, nd[28] = { 1 };

        ipv6[36] = 0xff;
        bb_put(&bb, OVS_KEY_ATTR_IPV6, ipv6, sizeof ipv6);
        bb_put(&bb, OVS_KEY_ATTR_ICMPV6, icmpv6, sizeof icmpv6);
        bb_put(&bb, OVS_KEY_ATTR_ND, nd, sizeof nd);
    }
    expect_mask_error(&kv, &bb, "icmpv6 type");

    /* Structural errors apply to masks too. */
    memset(&bb, 0, sizeof bb);
    bb_u32(&bb, OVS_KEY_ATTR_SKB_MARK, 1);
    bb_u32(&bb, OVS_KEY_ATTR_SKB_MARK, 1);
    expect_mask_error(&k, &bb, "duplicate");

    /* Unknown and unsupported mask attributes are TOO_MUCH. */
    {
        struct flow_mask mk;

        memset(&bb, 0, sizeof bb);
        bb_u32(&bb, OVS_KEY_ATTR_CT_MARK, 0xff);
        assert_int_equal(FKEY_FIT_TOO_MUCH,
                         fmask_from_nl(bb.b, bb.len, &k, &mk, NULL));
        memset(&bb, 0, sizeof bb);
        bb_u32(&bb, OVS_KEY_ATTR_CT_MARK, 0);
        bb_u32(&bb, 1000, 1);
        assert_int_equal(FKEY_FIT_TOO_MUCH,
                         fmask_from_nl(bb.b, bb.len, &k, &mk, NULL));
        memset(&bb, 0, sizeof bb);
        bb_u32(&bb, OVS_KEY_ATTR_CT_MARK, 0);
        assert_int_equal(FKEY_FIT_PERFECT,
                         fmask_from_nl(bb.b, bb.len, &k, &mk, NULL));
    }
}

/* Splits the top level (and every encap) of 'in' into attributes and
 * writes them to 'out' in a different order: reversed at even depths,
 * rotated by one at odd ones. */
static void
shuffle_level(const uint8_t *in, size_t len, struct bb *out, int depth)
{
    size_t ofs[64], lens[64], n = 0, pos = 0;

    while (pos < len) {
        uint16_t nla_len;

        memcpy(&nla_len, in + pos, 2);
        ofs[n] = pos;
        lens[n++] = nla_len;
        pos += (nla_len + 3u) & ~3u;
    }
    for (size_t i = 0; i < n; i++) {
        size_t j = depth % 2 ? (i + 1) % n : n - 1 - i;
        uint16_t type;

        memcpy(&type, in + ofs[j] + 2, 2);
        if (type == OVS_KEY_ATTR_ENCAP) {
            bb_open(out, type);
            shuffle_level(in + ofs[j] + 4, lens[j] - 4, out, depth + 1);
            bb_close(out);
        } else {
            bb_put(out, type, in + ofs[j] + 4, lens[j] - 4);
        }
    }
}

static void
test_shuffled_order(void **state)
{
    struct flow_key keys[5], k2;

    (void) state;
    keys[0] = ipv4_key(IPPROTO_TCP, 1, 2);
    keys[1] = ipv6_key(IPPROTO_ICMPV6, 135, 0);
    add_vlan(&keys[1], 0, 0x88a8, VLAN_CFI | 1);
    add_vlan(&keys[1], 1, 0x8100, VLAN_CFI | 2);
    keys[2] = mpls_key(3);
    keys[3] = arp_key(ETH_TYPE_ARP);
    add_vlan(&keys[3], 0, 0x8100, VLAN_CFI | 9);
    keys[4] = ipv6_key(IPPROTO_UDP, 1, 2);
    for (size_t i = 0; i < 5; i++) {
        struct bb bb = { .len = 0 };
        struct msg m;

        encode_key(&keys[i], &m);
        shuffle_level(msg_payload(&m), msg_len(&m), &bb, 0);
        assert_int_equal(msg_len(&m), bb.len);
        assert_memory_not_equal(msg_payload(&m), bb.b, bb.len);
        assert_int_equal(FKEY_FIT_PERFECT, decode(&bb, &k2, NULL));
        assert_keys_equal(&keys[i], &k2);
    }
}

static void
test_equal_keys_equal_bytes(void **state)
{
    struct flow_key a = arp_key(ETH_TYPE_ARP), b = a;
    struct msg ma, mb;

    (void) state;
    /* Fields the attributes do not cover do not count. */
    b.tp_src = htons(99);
    b.nw_ttl = 5;
    b.tcp_flags = htons(1);
    assert_true(fkey_nl_equal(&a, &b));
    encode_key(&a, &ma);
    encode_key(&b, &mb);
    assert_int_equal(msg_len(&ma), msg_len(&mb));
    assert_memory_equal(msg_payload(&ma), msg_payload(&mb), msg_len(&ma));

    b.arp_op = htons(2);
    assert_false(fkey_nl_equal(&a, &b));

    /* A truncated tag hides everything after it. */
    a = base_key(0);
    add_vlan(&a, 0, 0x8100, 0);
    b = a;
    b.eth_type = htons(ETH_TYPE_IP);
    b.nw_proto = 6;
    assert_true(fkey_nl_equal(&a, &b));
}

static void
expect_key_error(const struct bb *bb, const char *reason)
{
    struct flow_key k, zero;
    struct errbuf err;

    errbuf_clear(&err);
    memset(&zero, 0, sizeof zero);
    assert_int_equal(FKEY_FIT_ERROR, decode(bb, &k, &err));
    if (!strstr(err.msg, reason)) {
        fail_msg("reason \"%s\" does not contain \"%s\"", err.msg, reason);
    }
    assert_keys_equal(&zero, &k);
}

static void
test_key_errors(void **state)
{
    struct bb bb;
    uint8_t ipv4[12] = { 0 }, ipv6[40] = { 0 }, arp[24] = { 0 };
    uint32_t lse[4] = { 0 };

    (void) state;
    /* Duplicates, at the top and inside encap. */
    memset(&bb, 0, sizeof bb);
    bb_meta(&bb, 1);
    bb_u32(&bb, OVS_KEY_ATTR_IN_PORT, 2);
    bb_eth(&bb);
    expect_key_error(&bb, "duplicate in_port");
    memset(&bb, 0, sizeof bb);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
    bb_be16(&bb, OVS_KEY_ATTR_VLAN, VLAN_CFI | 1);
    bb_open(&bb, OVS_KEY_ATTR_ENCAP);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    bb_close(&bb);
    expect_key_error(&bb, "in encap: duplicate eth_type");

    /* Metadata inside encap. */
    memset(&bb, 0, sizeof bb);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
    bb_be16(&bb, OVS_KEY_ATTR_VLAN, VLAN_CFI | 1);
    bb_open(&bb, OVS_KEY_ATTR_ENCAP);
    bb_u32(&bb, OVS_KEY_ATTR_IN_PORT, 1);
    bb_close(&bb);
    expect_key_error(&bb, "inside encap");

    /* Wrong length for every fixed-size attribute. */
    for (uint16_t t = 0; t <= OVS_KEY_ATTR_MAX; t++) {
        int len = fkey_attr_len(t);
        uint8_t junk[64] = { 0 };

        if (len <= 0) {
            continue;
        }
        for (int delta = -1; delta <= 1; delta += 2) {
            memset(&bb, 0, sizeof bb);
            if (t != OVS_KEY_ATTR_ETHERNET) {
                bb_eth(&bb);
            }
            bb_put(&bb, t, junk, (size_t) (len + delta));
            expect_key_error(&bb, "has length");
        }
    }

    /* Truncated attribute and trailing bytes. */
    memset(&bb, 0, sizeof bb);
    bb_meta(&bb, 1);
    bb_eth(&bb);
    bb.len -= 2;
    expect_key_error(&bb, "trailing bytes");
    memset(&bb, 0, sizeof bb);
    bb_meta(&bb, 1);
    bb_eth(&bb);
    bb.len += 3;
    expect_key_error(&bb, "3 trailing bytes");
    memset(&bb, 0, sizeof bb);
    bb_eth(&bb);
    bb_raw(&bb, OVS_KEY_ATTR_SKB_MARK, 2, NULL, 0);    /* nla_len < 4. */
    expect_key_error(&bb, "trailing bytes");

    /* Encap nesting. */
    memset(&bb, 0, sizeof bb);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    bb_open(&bb, OVS_KEY_ATTR_ENCAP);
    bb_close(&bb);
    expect_key_error(&bb, "encap without a VLAN eth_type");
    memset(&bb, 0, sizeof bb);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_VLAN, VLAN_CFI);
    expect_key_error(&bb, "vlan without a VLAN eth_type");
    memset(&bb, 0, sizeof bb);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
    bb_be16(&bb, OVS_KEY_ATTR_VLAN, VLAN_CFI | 1);
    expect_key_error(&bb, "without encap");
    memset(&bb, 0, sizeof bb);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
    bb_be16(&bb, OVS_KEY_ATTR_VLAN, 5);
    bb_open(&bb, OVS_KEY_ATTR_ENCAP);
    bb_close(&bb);
    expect_key_error(&bb, "without VLAN_CFI");
    memset(&bb, 0, sizeof bb);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
    bb_be16(&bb, OVS_KEY_ATTR_VLAN, 0);
    bb_open(&bb, OVS_KEY_ATTR_ENCAP);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    bb_close(&bb);
    expect_key_error(&bb, "nonempty encap");
    memset(&bb, 0, sizeof bb);              /* Malformed encap payload. */
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
    bb_be16(&bb, OVS_KEY_ATTR_VLAN, VLAN_CFI);
    bb_put(&bb, OVS_KEY_ATTR_ENCAP, "\x08\x00\x06", 3);
    expect_key_error(&bb, "in encap: ");

    /* MPLS lengths. */
    memset(&bb, 0, sizeof bb);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, ETH_TYPE_MPLS);
    bb_put(&bb, OVS_KEY_ATTR_MPLS, lse, 16);
    expect_key_error(&bb, "mpls attribute has length 16");
    memset(&bb, 0, sizeof bb);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, ETH_TYPE_MPLS);
    bb_put(&bb, OVS_KEY_ATTR_MPLS, lse, 6);
    expect_key_error(&bb, "mpls attribute has length 6");

    /* Values out of range. */
    memset(&bb, 0, sizeof bb);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    ipv4[11] = 3;
    bb_put(&bb, OVS_KEY_ATTR_IPV4, ipv4, sizeof ipv4);
    expect_key_error(&bb, "ipv4 frag 3");
    memset(&bb, 0, sizeof bb);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x86dd);
    ipv6[39] = 3;
    bb_put(&bb, OVS_KEY_ATTR_IPV6, ipv6, sizeof ipv6);
    expect_key_error(&bb, "ipv6 frag 3");
    memset(&bb, 0, sizeof bb);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x86dd);
    ipv6[39] = 0;
    ipv6[33] = 0x10;                        /* Label 0x100000. */
    bb_put(&bb, OVS_KEY_ATTR_IPV6, ipv6, sizeof ipv6);
    expect_key_error(&bb, "flow label");
    memset(&bb, 0, sizeof bb);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0806);
    arp[8] = 1;                             /* Opcode 256. */
    bb_put(&bb, OVS_KEY_ATTR_ARP, arp, sizeof arp);
    expect_key_error(&bb, "arp opcode");
    memset(&bb, 0, sizeof bb);
    bb_u32(&bb, OVS_KEY_ATTR_IN_PORT, 65536);
    bb_eth(&bb);
    expect_key_error(&bb, "in_port 65536");
    /* The kernel's DP_MAX_PORTS is USHRT_MAX: 65535 is already out. */
    memset(&bb, 0, sizeof bb);
    bb_u32(&bb, OVS_KEY_ATTR_IN_PORT, 65535);
    bb_eth(&bb);
    expect_key_error(&bb, "in_port 65535");
    {
        struct flow_key k;

        memset(&bb, 0, sizeof bb);
        bb_u32(&bb, OVS_KEY_ATTR_IN_PORT, 65534);
        bb_eth(&bb);
        assert_int_equal(FKEY_FIT_PERFECT, decode(&bb, &k, NULL));
        assert_int_equal(65534, k.in_port);
    }
    memset(&bb, 0, sizeof bb);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x05ff);
    expect_key_error(&bb, "below");
    memset(&bb, 0, sizeof bb);
    bb_meta(&bb, 1);
    expect_key_error(&bb, "neither eth nor eth_type");

    /* Unsupported nested attribute that is not a valid stream. */
    memset(&bb, 0, sizeof bb);
    bb_eth(&bb);
    bb_put(&bb, OVS_KEY_ATTR_TUNNEL, "\x09\x00\x09\x00\x01", 5);
    expect_key_error(&bb, "inside tunnel");
}

static void
test_fitness(void **state)
{
    struct flow_key ref = ipv4_key(IPPROTO_TCP, 1, 2), k;
    uint8_t ipv4[12] = { 10, 0, 0, 1, 10, 0, 0, 2, 6, 0x10, 64, 0 };
    uint8_t tcp[4] = { 0, 1, 0, 2 };
    struct bb bb;

    (void) state;
    /* Unknown types are skipped. */
    memset(&bb, 0, sizeof bb);
    bb_meta(&bb, 1);
    bb_u32(&bb, OVS_KEY_ATTR_MAX + 1, 7);
    bb_eth(&bb);
    bb_u32(&bb, 0x3fff, 7);
    bb_u32(&bb, OVS_KEY_ATTR_UNSPEC, 7);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    bb_put(&bb, OVS_KEY_ATTR_IPV4, ipv4, sizeof ipv4);
    bb_put(&bb, OVS_KEY_ATTR_TCP, tcp, sizeof tcp);
    bb_be16(&bb, OVS_KEY_ATTR_TCP_FLAGS, 0x012);
    assert_int_equal(FKEY_FIT_TOO_MUCH, decode(&bb, &k, NULL));
    assert_keys_equal(&ref, &k);

    /* Zero conntrack attributes (as a conntrack kernel sends them) are
     * perfect; a nonzero one is too much. */
    memset(&bb, 0, sizeof bb);
    bb_meta(&bb, 1);
    bb_u32(&bb, OVS_KEY_ATTR_CT_STATE, 0);
    bb_be16(&bb, OVS_KEY_ATTR_CT_ZONE, 0);
    bb_u32(&bb, OVS_KEY_ATTR_CT_MARK, 0);
    {
        uint8_t labels[16] = { 0 };

        bb_put(&bb, OVS_KEY_ATTR_CT_LABELS, labels, sizeof labels);
    }
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    bb_put(&bb, OVS_KEY_ATTR_IPV4, ipv4, sizeof ipv4);
    bb_put(&bb, OVS_KEY_ATTR_TCP, tcp, sizeof tcp);
    bb_be16(&bb, OVS_KEY_ATTR_TCP_FLAGS, 0x012);
    assert_int_equal(FKEY_FIT_PERFECT, decode(&bb, &k, NULL));
    assert_keys_equal(&ref, &k);
    bb_u32(&bb, OVS_KEY_ATTR_DP_HASH + 0, 0);   /* Duplicate dp_hash. */
    assert_int_equal(FKEY_FIT_ERROR, decode(&bb, &k, NULL));
    bb.len -= 8;
    bb_u32(&bb, OVS_KEY_ATTR_PACKET_TYPE, htonl(0x00010800));
    assert_int_equal(FKEY_FIT_TOO_MUCH, decode(&bb, &k, NULL));
    assert_keys_equal(&ref, &k);
    bb.len -= 8;
    {
        struct bb t = { .len = 0 };

        bb_u32(&t, OVS_TUNNEL_KEY_ATTR_IPV4_DST, htonl(0x01020304));
        bb_put(&bb, OVS_KEY_ATTR_TUNNEL, t.b, t.len);
    }
    assert_int_equal(FKEY_FIT_TOO_MUCH, decode(&bb, &k, NULL));

    /* Attributes the key does not call for. */
    memset(&bb, 0, sizeof bb);
    bb_meta(&bb, 1);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    bb_put(&bb, OVS_KEY_ATTR_IPV4, ipv4, sizeof ipv4);
    bb_put(&bb, OVS_KEY_ATTR_TCP, tcp, sizeof tcp);
    bb_be16(&bb, OVS_KEY_ATTR_TCP_FLAGS, 0x012);
    bb_put(&bb, OVS_KEY_ATTR_UDP, tcp, sizeof tcp);
    assert_int_equal(FKEY_FIT_TOO_MUCH, decode(&bb, &k, NULL));
    assert_keys_equal(&ref, &k);

    /* Later fragment: L4 attributes are not expected. */
    memset(&bb, 0, sizeof bb);
    bb_meta(&bb, 1);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    ipv4[11] = FKEY_FRAG_LATER;
    bb_put(&bb, OVS_KEY_ATTR_IPV4, ipv4, sizeof ipv4);
    assert_int_equal(FKEY_FIT_PERFECT, decode(&bb, &k, NULL));
    bb_put(&bb, OVS_KEY_ATTR_TCP, tcp, sizeof tcp);
    assert_int_equal(FKEY_FIT_TOO_MUCH, decode(&bb, &k, NULL));
    assert_int_equal(0, k.tp_src);
    ipv4[11] = 0;

    /* Missing attributes. */
    memset(&bb, 0, sizeof bb);
    bb_meta(&bb, 1);
    bb_eth(&bb);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    assert_int_equal(FKEY_FIT_TOO_LITTLE, decode(&bb, &k, NULL));
    assert_int_equal(htons(ETH_TYPE_IP), k.eth_type);
    bb_put(&bb, OVS_KEY_ATTR_IPV4, ipv4, sizeof ipv4);
    bb_put(&bb, OVS_KEY_ATTR_TCP, tcp, sizeof tcp);
    assert_int_equal(FKEY_FIT_TOO_LITTLE, decode(&bb, &k, NULL));
    bb_be16(&bb, OVS_KEY_ATTR_TCP_FLAGS, 0x012);
    assert_int_equal(FKEY_FIT_PERFECT, decode(&bb, &k, NULL));

    /* A duplicate after an unknown attribute is still an error. */
    bb_u32(&bb, 500, 0);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);   /* Now a duplicate. */
    assert_int_equal(FKEY_FIT_ERROR, decode(&bb, &k, NULL));

    /* ipv6_exthdrs is optional on input. */
    {
        struct flow_key v6 = ipv6_key(IPPROTO_UDP, 1, 2);
        uint8_t ipv6[40] = { 0 }, udp[4] = { 0, 1, 0, 2 };
        uint32_t label = htonl(0x12345);

        v6.ipv6_exthdrs = 0;
        ipv6[0] = 0xfe, ipv6[15] = 1, ipv6[16] = 0xff, ipv6[31] = 2;
        memcpy(ipv6 + 32, &label, 4);
        ipv6[36] = IPPROTO_UDP;
        ipv6[38] = 255;
        memset(&bb, 0, sizeof bb);
        bb_meta(&bb, 1);
        bb_eth(&bb);
        bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x86dd);
        bb_put(&bb, OVS_KEY_ATTR_IPV6, ipv6, sizeof ipv6);
        bb_put(&bb, OVS_KEY_ATTR_UDP, udp, sizeof udp);
        assert_int_equal(FKEY_FIT_PERFECT, decode(&bb, &k, NULL));
        assert_keys_equal(&v6, &k);
    }

    /* A third tag's vlan and encap are skipped. */
    {
        struct flow_key q = base_key(0x8100);

        add_vlan(&q, 0, 0x88a8, VLAN_CFI | 1);
        add_vlan(&q, 1, 0x8100, VLAN_CFI | 2);
        memset(&bb, 0, sizeof bb);
        bb_meta(&bb, 1);
        bb_eth(&bb);
        bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x88a8);
        bb_be16(&bb, OVS_KEY_ATTR_VLAN, VLAN_CFI | 1);
        bb_open(&bb, OVS_KEY_ATTR_ENCAP);
        bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
        bb_be16(&bb, OVS_KEY_ATTR_VLAN, VLAN_CFI | 2);
        bb_open(&bb, OVS_KEY_ATTR_ENCAP);
        bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
        bb_be16(&bb, OVS_KEY_ATTR_VLAN, VLAN_CFI | 3);
        bb_open(&bb, OVS_KEY_ATTR_ENCAP);
        bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
        bb_close(&bb);
        bb_close(&bb);
        bb_close(&bb);
        assert_int_equal(FKEY_FIT_TOO_MUCH, decode(&bb, &k, NULL));
        assert_keys_equal(&q, &k);
    }
}

static void
test_emsgsize(void **state)
{
    struct flow_key k = ipv6_key(IPPROTO_ICMPV6, 135, 0);
    struct flow_mask mk;
    struct msg m, before;
    size_t need;

    (void) state;
    add_vlan(&k, 0, 0x88a8, VLAN_CFI | 1);
    add_vlan(&k, 1, 0x8100, VLAN_CFI | 2);
    encode_key(&k, &m);
    need = m.u.nlh.nlmsg_len;
    assert_true(msg_len(&m) <= FKEY_NL_MAX_LEN);

    for (size_t buflen = MNL_NLMSG_HDRLEN; buflen < need; buflen += 3) {
        msg_init(&m);
        memset(m.u.b + MNL_NLMSG_HDRLEN, 0xa5,
               sizeof m.u.b - MNL_NLMSG_HDRLEN);
        before = m;
        assert_int_equal(-EMSGSIZE, fkey_to_nl(&k, &m.u.nlh, buflen));
        assert_memory_equal(&before, &m, sizeof m);
        assert_int_equal(FKEY_FIT_PERFECT,
                         fmask_from_nl(NULL, 0, &k, &mk, NULL));
        assert_int_equal(-EMSGSIZE,
                         fmask_to_nl(&k, &mk, &m.u.nlh, buflen));
        assert_memory_equal(&before, &m, sizeof m);
    }
    msg_init(&m);
    assert_int_equal(0, fkey_to_nl(&k, &m.u.nlh, need));
    assert_int_equal(need, m.u.nlh.nlmsg_len);

    /* Inside a caller's nest, after other attributes. */
    msg_init(&m);
    mnl_attr_put_u32(&m.u.nlh, 1, 42);
    {
        struct nlattr *nest = mnl_attr_nest_start(&m.u.nlh, 2);
        struct flow_key k2;

        assert_int_equal(0, fkey_to_nl(&k, &m.u.nlh, sizeof m.u.b));
        mnl_attr_nest_end(&m.u.nlh, nest);
        assert_int_equal(FKEY_FIT_PERFECT,
                         fkey_from_nl(mnl_attr_get_payload(nest),
                                      mnl_attr_get_payload_len(nest), &k2,
                                      NULL));
        assert_keys_equal(&k, &k2);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_to_string),
        cmocka_unit_test(test_ipv4_tcp_bytes),
        cmocka_unit_test(test_icmp_bytes),
        cmocka_unit_test(test_ipv6_nd_bytes),
        cmocka_unit_test(test_round_trip_protocols),
        cmocka_unit_test(test_round_trip_vlans),
        cmocka_unit_test(test_vlan_bytes),
        cmocka_unit_test(test_8022_and_in_port_masks),
        cmocka_unit_test(test_partial_masks),
        cmocka_unit_test(test_vlan_mask_without_tpid),
        cmocka_unit_test(test_mask_errors),
        cmocka_unit_test(test_shuffled_order),
        cmocka_unit_test(test_equal_keys_equal_bytes),
        cmocka_unit_test(test_key_errors),
        cmocka_unit_test(test_fitness),
        cmocka_unit_test(test_emsgsize),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
