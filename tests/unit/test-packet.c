/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for packet/flow-extract.c.  Frames are built by hand, byte by
 * byte, with the small builder in frames.h, so each test shows exactly
 * which bytes are on the wire.  Expected values follow the kernel datapath's
 * key_extract() (see packet/flow-extract.h); the cases where OVS userspace
 * differs are marked. */

#include "packet/flow-extract.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "frames.h"

static const uint8_t ZERO_MAC[6];

/* Writes 'n' at offset 'ofs' (network order). */
static void
poke16(struct frame *f, size_t ofs, uint16_t n)
{
    f->b[ofs] = n >> 8;
    f->b[ofs + 1] = n & 0xff;
}

static void
put_ports(struct frame *f, uint16_t sport, uint16_t dport, size_t len)
{
    put16(f, sport);
    put16(f, dport);
    put_zeros(f, len - 4);
}

static struct flow_key
extract_n(const struct frame *f, size_t n)
{
    struct pkt_metadata md = { .in_port = 1 };
    struct flow_key key;

    assert_int_equal(0, fkey_extract(f->b, n, &md, &key));
    return key;
}

static struct flow_key
extract(const struct frame *f)
{
    return extract_n(f, f->n);
}

static void
assert_l3_zero(const struct flow_key *k)
{
    struct flow_key zero;

    memset(&zero, 0, sizeof zero);
    assert_memory_equal((const char *) k + FKEY_OFS_L3,
                        (const char *) &zero + FKEY_OFS_L3,
                        sizeof zero - FKEY_OFS_L3);
}

static void
assert_l4_zero(const struct flow_key *k)
{
    assert_int_equal(0, k->tp_src);
    assert_int_equal(0, k->tp_dst);
    assert_int_equal(0, k->tcp_flags);
}

/* Ethernet and metadata. */

static void
test_short_frame(void **state)
{
    struct pkt_metadata md = { 7, 8, 9, 10, 11 };
    uint8_t b[13] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
    struct flow_key key, zero;

    (void) state;
    memset(&key, 0xff, sizeof key);
    assert_int_equal(-EINVAL, fkey_extract(b, sizeof b, &md, &key));
    assert_int_equal(7, key.in_port);
    assert_int_equal(8, key.priority);
    assert_int_equal(9, key.skb_mark);
    assert_int_equal(10, key.recirc_id);
    assert_int_equal(11, key.dp_hash);
    memset(&zero, 0, sizeof zero);
    /* Everything but the metadata is zero. */
    assert_memory_equal((const char *) &key + FKEY_OFS_L2,
                        (const char *) &zero + FKEY_OFS_L2,
                        sizeof key - FKEY_OFS_L2);

    assert_int_equal(-EINVAL, fkey_extract(b, 0, NULL, &key));
    assert_memory_equal(&key, &zero, sizeof key);
}

static void
test_eth_and_metadata(void **state)
{
    struct pkt_metadata md = { 3, 4, 5, 6, 7 };
    struct frame f = { .n = 0 };
    struct flow_key key, expected;

    (void) state;
    put_eth(&f, 0x88b5);
    put_zeros(&f, 46);

    memset(&key, 0xa5, sizeof key);
    assert_int_equal(0, fkey_extract(f.b, f.n, &md, &key));

    /* Every byte, padding included, is defined. */
    memset(&expected, 0, sizeof expected);
    expected.in_port = 3;
    expected.priority = 4;
    expected.skb_mark = 5;
    expected.recirc_id = 6;
    expected.dp_hash = 7;
    memcpy(expected.eth_src, FRAME_SRC, 6);
    memcpy(expected.eth_dst, FRAME_DST, 6);
    expected.eth_type = htons(0x88b5);
    assert_memory_equal(&key, &expected, sizeof key);

    /* NULL metadata is all-zero metadata; exactly 14 bytes is enough. */
    assert_int_equal(0, fkey_extract(f.b, 14, NULL, &key));
    expected.in_port = expected.priority = expected.skb_mark = 0;
    expected.recirc_id = expected.dp_hash = 0;
    assert_memory_equal(&key, &expected, sizeof key);
}

/* IPv4. */

static void
test_ipv4_tcp(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    put_eth(&f, ETH_TYPE_IP);
    put_ipv4(&f, 5, IPPROTO_TCP, 0, 40);
    put_tcp(&f, 1234, 80, 5, 0x0fff);
    k = extract(&f);

    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_IP);
    assert_int_equal(ntohl(k.addr.ipv4.src), 0x0a000001);
    assert_int_equal(ntohl(k.addr.ipv4.dst), 0x0a000002);
    assert_int_equal(k.nw_proto, IPPROTO_TCP);
    assert_int_equal(k.nw_tos, 0xb9);
    assert_int_equal(k.nw_ttl, 64);
    assert_int_equal(k.nw_frag, FKEY_FRAG_NONE);
    assert_int_equal(ntohs(k.tp_src), 1234);
    assert_int_equal(ntohs(k.tp_dst), 80);
    assert_int_equal(ntohs(k.tcp_flags), 0x0fff);   /* Not the offset. */
    assert_int_equal(k.vlan[0].tpid, 0);
    assert_int_equal(k.n_mpls, 0);
}

static void
test_ipv4_udp_sctp_icmp(void **state)
{
    static const uint8_t protos[] = { IPPROTO_UDP, IPPROTO_SCTP,
                                      IPPROTO_ICMP };
    static const size_t lens[] = { 8, 12, 8 };

    (void) state;
    for (size_t i = 0; i < 3; i++) {
        struct frame f = { .n = 0 };
        struct flow_key k;

        put_eth(&f, ETH_TYPE_IP);
        put_ipv4(&f, 5, protos[i], 0, (uint16_t) (20 + lens[i]));
        if (protos[i] == IPPROTO_ICMP) {
            put8(&f, 3);            /* Type. */
            put8(&f, 13);           /* Code. */
            put_zeros(&f, 6);
        } else {
            put_ports(&f, 5000, 6000, lens[i]);
        }
        k = extract(&f);
        assert_int_equal(k.nw_proto, protos[i]);
        if (protos[i] == IPPROTO_ICMP) {
            /* Stored as htons(type), htons(code). */
            assert_int_equal(k.tp_src, htons(3));
            assert_int_equal(k.tp_dst, htons(13));
            assert_int_equal(fkey_icmp_type(&k), 3);
            assert_int_equal(fkey_icmp_code(&k), 13);
        } else {
            assert_int_equal(ntohs(k.tp_src), 5000);
            assert_int_equal(ntohs(k.tp_dst), 6000);
        }
        assert_int_equal(k.tcp_flags, 0);

        /* One byte short of the L4 header: ports zero, L3 kept. */
        k = extract_n(&f, f.n - 1);
        assert_int_equal(k.nw_proto, protos[i]);
        assert_l4_zero(&k);
    }
}

static void
test_ipv4_other_proto(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    put_eth(&f, ETH_TYPE_IP);
    put_ipv4(&f, 5, 47, 0, 28);
    put32(&f, 0x11223344);
    put32(&f, 0x55667788);
    k = extract(&f);
    assert_int_equal(k.nw_proto, 47);
    assert_l4_zero(&k);
}

static void
test_ipv4_options(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    put_eth(&f, ETH_TYPE_IP);
    put_ipv4(&f, 7, IPPROTO_TCP, 0, 48);
    put_tcp(&f, 1000, 2000, 5, 0x010);
    k = extract(&f);
    assert_int_equal(ntohs(k.tp_src), 1000);
    assert_int_equal(ntohs(k.tp_dst), 2000);
    assert_int_equal(ntohs(k.tcp_flags), 0x010);

    /* Cut inside the options: the header is incomplete, L3 all zero. */
    k = extract_n(&f, 14 + 24);
    assert_l3_zero(&k);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_IP);
}

static void
test_ipv4_bad_ihl(void **state)
{
    (void) state;
    for (uint8_t ihl = 0; ihl < 16; ihl++) {
        struct frame f = { .n = 0 };
        struct flow_key k;

        put_eth(&f, ETH_TYPE_IP);
        put_ipv4(&f, 5, IPPROTO_UDP, 0, 28);
        put_ports(&f, 1, 2, 8);
        f.b[14] = 0x40 | ihl;
        k = extract(&f);
        if (ihl < 5 || ihl > 7) {
            /* Below 5, or longer than the 28 bytes present. */
            assert_l3_zero(&k);
        } else {
            assert_int_equal(k.nw_proto, IPPROTO_UDP);
            assert_int_equal(k.nw_ttl, 64);
        }
    }
}

/* Every cut point of an IPv4/TCP frame, with and without options. */
static void
test_ipv4_truncation_points(void **state)
{
    (void) state;
    for (uint8_t ihl = 5; ihl <= 6; ihl++) {
        struct frame f = { .n = 0 };
        size_t l4 = 14 + (size_t) ihl * 4;

        put_eth(&f, ETH_TYPE_IP);
        put_ipv4(&f, ihl, IPPROTO_TCP, 0, (uint16_t) (ihl * 4 + 24));
        put_tcp(&f, 7, 8, 6, 0x002);
        for (size_t n = 14; n <= f.n; n++) {
            struct flow_key k = extract_n(&f, n);

            assert_int_equal(ntohs(k.eth_type), ETH_TYPE_IP);
            if (n < l4) {
                assert_l3_zero(&k);
            } else if (n < l4 + 24) {
                /* Data offset 6: the TCP header is 24 bytes. */
                assert_int_equal(k.nw_proto, IPPROTO_TCP);
                assert_int_equal(ntohl(k.addr.ipv4.dst), 0x0a000002);
                assert_l4_zero(&k);
            } else {
                assert_int_equal(ntohs(k.tp_src), 7);
                assert_int_equal(ntohs(k.tcp_flags), 0x002);
            }
        }
    }
}

static void
test_ipv4_tcp_bad_doff(void **state)
{
    (void) state;
    for (uint8_t doff = 0; doff < 16; doff++) {
        struct frame f = { .n = 0 };
        struct flow_key k;

        put_eth(&f, ETH_TYPE_IP);
        put_ipv4(&f, 5, IPPROTO_TCP, 0, 48);
        put_tcp(&f, 9, 10, 7, 0x012);
        f.b[14 + 20 + 12] = (uint8_t) (doff << 4);
        k = extract(&f);
        if (doff < 5 || doff > 7) {
            assert_l4_zero(&k);
        } else {
            assert_int_equal(ntohs(k.tp_src), 9);
        }
        assert_int_equal(k.nw_proto, IPPROTO_TCP);
    }
}

static void
test_ipv4_fragments(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    put_eth(&f, ETH_TYPE_IP);
    put_ipv4(&f, 5, IPPROTO_UDP, 0x2000, 28);       /* MF, offset 0. */
    put_ports(&f, 10, 20, 8);
    k = extract(&f);
    assert_int_equal(k.nw_frag, FKEY_FRAG_FIRST);
    assert_int_equal(ntohs(k.tp_src), 10);

    poke16(&f, 14 + 6, 0x2000 | 185);               /* MF, offset. */
    k = extract(&f);
    assert_int_equal(k.nw_frag, FKEY_FRAG_LATER);
    assert_int_equal(k.nw_proto, IPPROTO_UDP);
    assert_l4_zero(&k);

    poke16(&f, 14 + 6, 3);                          /* Last fragment. */
    k = extract(&f);
    assert_int_equal(k.nw_frag, FKEY_FRAG_LATER);
    assert_l4_zero(&k);

    poke16(&f, 14 + 6, 0x4000);                     /* DF only. */
    k = extract(&f);
    assert_int_equal(k.nw_frag, FKEY_FRAG_NONE);
    assert_int_equal(ntohs(k.tp_dst), 20);
}

/* The kernel never reads the IPv4 total length: Ethernet padding is just
 * more frame, and a too-small or too-large total length changes nothing.
 * (OVS userspace trims to, or rejects on, the total length.) */
static void
test_ipv4_padding_and_total_length(void **state)
{
    static const uint16_t tot_lens[] = { 28, 20, 0, 400, 65535 };

    (void) state;
    for (size_t i = 0; i < sizeof tot_lens / sizeof tot_lens[0]; i++) {
        struct frame f = { .n = 0 };
        struct flow_key k;

        put_eth(&f, ETH_TYPE_IP);
        put_ipv4(&f, 5, IPPROTO_UDP, 0, tot_lens[i]);
        put_ports(&f, 1, 2, 8);
        while (f.n < 60) {
            put8(&f, 0xee);
        }
        k = extract(&f);
        assert_int_equal(k.nw_proto, IPPROTO_UDP);
        assert_int_equal(ntohs(k.tp_src), 1);
        assert_int_equal(ntohs(k.tp_dst), 2);
    }
}

/* VLAN. */

static void
test_vlan_single(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    put_eth(&f, ETH_TYPE_VLAN_8021Q);
    put16(&f, (5 << VLAN_PCP_SHIFT) | 10);
    put16(&f, ETH_TYPE_IP);
    put_ipv4(&f, 5, IPPROTO_UDP, 0, 28);
    put_ports(&f, 1, 2, 8);
    k = extract(&f);
    assert_int_equal(ntohs(k.vlan[0].tpid), ETH_TYPE_VLAN_8021Q);
    assert_int_equal(ntohs(k.vlan[0].tci),
                     VLAN_CFI | (5 << VLAN_PCP_SHIFT) | 10);
    assert_int_equal(k.vlan[1].tpid, 0);
    assert_int_equal(k.vlan[1].tci, 0);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_IP);
    assert_int_equal(ntohs(k.tp_dst), 2);

    /* A TCI with the CFI bit already set keeps it; VID 0 is a tag. */
    poke16(&f, 14, VLAN_CFI);
    k = extract(&f);
    assert_int_equal(ntohs(k.vlan[0].tci), VLAN_CFI);
}

static void
test_vlan_qinq_and_third_tag(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    put_eth(&f, ETH_TYPE_VLAN_8021AD);
    put16(&f, 100);
    put16(&f, ETH_TYPE_VLAN_8021Q);
    put16(&f, (2 << VLAN_PCP_SHIFT) | 200);
    put16(&f, ETH_TYPE_IP);
    put_ipv4(&f, 5, IPPROTO_TCP, 0, 40);
    put_tcp(&f, 9, 10, 5, 0x002);
    k = extract(&f);
    assert_int_equal(ntohs(k.vlan[0].tpid), ETH_TYPE_VLAN_8021AD);
    assert_int_equal(ntohs(k.vlan[0].tci), VLAN_CFI | 100);
    assert_int_equal(ntohs(k.vlan[1].tpid), ETH_TYPE_VLAN_8021Q);
    assert_int_equal(ntohs(k.vlan[1].tci),
                     VLAN_CFI | (2 << VLAN_PCP_SHIFT) | 200);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_IP);
    assert_int_equal(ntohs(k.tp_src), 9);

    /* Three tags: the third TPID is the Ethernet type, nothing more. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_VLAN_8021AD);
    put16(&f, 1);
    put16(&f, ETH_TYPE_VLAN_8021Q);
    put16(&f, 2);
    put16(&f, ETH_TYPE_VLAN_8021Q);
    put16(&f, 3);
    put16(&f, ETH_TYPE_IP);
    put_ipv4(&f, 5, IPPROTO_UDP, 0, 28);
    put_ports(&f, 1, 2, 8);
    k = extract(&f);
    assert_int_equal(ntohs(k.vlan[0].tci), VLAN_CFI | 1);
    assert_int_equal(ntohs(k.vlan[1].tci), VLAN_CFI | 2);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_VLAN_8021Q);
    assert_l3_zero(&k);
}

static void
test_vlan_truncated(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    put_eth(&f, ETH_TYPE_VLAN_8021Q);
    put16(&f, 5);
    put16(&f, ETH_TYPE_IP);
    put_ipv4(&f, 5, IPPROTO_UDP, 0, 28);

    /* TPID only, or TPID + TCI without the next type: "vlan(0)". */
    for (size_t n = 14; n < 18; n++) {
        k = extract_n(&f, n);
        assert_int_equal(ntohs(k.vlan[0].tpid), ETH_TYPE_VLAN_8021Q);
        assert_int_equal(k.vlan[0].tci, 0);
        assert_int_equal(k.vlan[1].tpid, 0);
        assert_int_equal(ntohs(k.eth_type), ETH_TYPE_VLAN_8021Q);
        assert_l3_zero(&k);
    }

    /* Complete tag, IPv4 cut short. */
    k = extract_n(&f, 18 + 10);
    assert_int_equal(ntohs(k.vlan[0].tci), VLAN_CFI | 5);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_IP);
    assert_l3_zero(&k);

    /* Outer tag complete, inner one truncated. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_VLAN_8021AD);
    put16(&f, 6);
    put16(&f, ETH_TYPE_VLAN_8021Q);
    put16(&f, 7);
    k = extract(&f);
    assert_int_equal(ntohs(k.vlan[0].tci), VLAN_CFI | 6);
    assert_int_equal(ntohs(k.vlan[1].tpid), ETH_TYPE_VLAN_8021Q);
    assert_int_equal(k.vlan[1].tci, 0);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_VLAN_8021Q);
}

/* 802.3. */

static void
test_llc_snap(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    /* Plain LLC. */
    put_eth(&f, 20);
    put8(&f, 0x42);
    put8(&f, 0x42);
    put8(&f, 0x03);
    put_zeros(&f, 17);
    k = extract(&f);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_802_2);
    assert_l3_zero(&k);

    /* Fewer than 8 bytes after the length. */
    k = extract_n(&f, 14 + 7);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_802_2);
    k = extract_n(&f, 14);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_802_2);

    /* SNAP, OUI 0, IPv4 inside: parsed as IPv4 (whatever the control
     * byte; OVS userspace also wants it to be 3). */
    f.n = 0;
    put_eth(&f, 36);
    put8(&f, 0xaa);
    put8(&f, 0xaa);
    put8(&f, 0x07);
    put_zeros(&f, 3);
    put16(&f, ETH_TYPE_IP);
    put_ipv4(&f, 5, IPPROTO_UDP, 0, 28);
    put_ports(&f, 31, 32, 8);
    k = extract(&f);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_IP);
    assert_int_equal(ntohs(k.tp_src), 31);

    /* SNAP type below 0x0600. */
    poke16(&f, 20, 0x0100);
    k = extract(&f);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_802_2);

    /* Nonzero OUI. */
    poke16(&f, 20, ETH_TYPE_IP);
    f.b[19] = 0x0c;
    k = extract(&f);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_802_2);

    /* SNAP carrying a VLAN TPID: not a tag (the kernel parses tags only
     * before the length), reported like a truncated one, "vlan(0)". */
    f.n = 0;
    put_eth(&f, 30);
    put8(&f, 0xaa);
    put8(&f, 0xaa);
    put8(&f, 0x03);
    put_zeros(&f, 3);
    put16(&f, ETH_TYPE_VLAN_8021Q);
    put16(&f, 5);
    put16(&f, ETH_TYPE_IP);
    put_ipv4(&f, 5, IPPROTO_UDP, 0, 28);
    k = extract(&f);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_VLAN_8021Q);
    assert_int_equal(ntohs(k.vlan[0].tpid), ETH_TYPE_VLAN_8021Q);
    assert_int_equal(k.vlan[0].tci, 0);
    assert_int_equal(k.vlan[1].tpid, 0);
    assert_l3_zero(&k);

    /* The same inside a complete 802.1Q tag: the next slot. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_VLAN_8021Q);
    put16(&f, 7);
    put16(&f, 30);
    put8(&f, 0xaa);
    put8(&f, 0xaa);
    put8(&f, 0x03);
    put_zeros(&f, 3);
    put16(&f, ETH_TYPE_VLAN_8021AD);
    put_zeros(&f, 22);
    k = extract(&f);
    assert_int_equal(ntohs(k.vlan[0].tci), VLAN_CFI | 7);
    assert_int_equal(ntohs(k.vlan[1].tpid), ETH_TYPE_VLAN_8021AD);
    assert_int_equal(k.vlan[1].tci, 0);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_VLAN_8021AD);

    /* 0x05ff is still a length; 0x0600 is a type. */
    f.n = 0;
    put_eth(&f, 0x05ff);
    put_zeros(&f, 10);
    k = extract(&f);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_802_2);
    poke16(&f, 12, 0x0600);
    k = extract(&f);
    assert_int_equal(ntohs(k.eth_type), 0x0600);
}

/* MPLS. */

static uint32_t
lse(uint32_t label, uint8_t tc, int bos, uint8_t ttl)
{
    return (label << 12) | ((uint32_t) tc << 9) | (bos ? 0x100u : 0) | ttl;
}

static void
test_mpls_labels(void **state)
{
    (void) state;
    for (unsigned int n = 1; n <= 4; n++) {
        struct frame f = { .n = 0 };
        struct flow_key k;

        put_eth(&f, n == 2 ? ETH_TYPE_MPLS_MCAST : ETH_TYPE_MPLS);
        for (unsigned int i = 0; i < n; i++) {
            put32(&f, lse(100 + i, 3, i == n - 1, (uint8_t) (64 - i)));
        }
        put_ipv4(&f, 5, IPPROTO_UDP, 0, 28);
        put_ports(&f, 1, 2, 8);
        k = extract(&f);
        assert_int_equal(k.n_mpls, n < 3 ? n : 3);
        for (unsigned int i = 0; i < 3; i++) {
            uint32_t want = i < n ? lse(100 + i, 3, i == n - 1,
                                        (uint8_t) (64 - i)) : 0;

            assert_int_equal(ntohl(k.mpls_lse[i]), want);
        }
        /* Nothing is parsed after the label stack. */
        assert_l3_zero(&k);
    }
}

static void
test_mpls_no_bos_and_truncated(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    put_eth(&f, ETH_TYPE_MPLS);
    put32(&f, lse(5, 0, 0, 1));
    put32(&f, lse(6, 0, 0, 2));

    /* No bottom of stack before the end: no labels, as the kernel
     * reports it.  (OVS userspace shows the two labels.) */
    k = extract(&f);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_MPLS);
    assert_int_equal(k.n_mpls, 0);
    assert_int_equal(k.mpls_lse[0], 0);
    assert_int_equal(k.mpls_lse[1], 0);

    /* Every cut inside the stack, and a stack with BoS cut short. */
    for (size_t n = 14; n < f.n; n++) {
        k = extract_n(&f, n);
        assert_int_equal(k.n_mpls, 0);
        assert_int_equal(k.mpls_lse[0], 0);
    }
    f.n = 0;
    put_eth(&f, ETH_TYPE_MPLS);
    put32(&f, lse(9, 1, 1, 9));
    for (size_t n = 14; n < f.n; n++) {
        k = extract_n(&f, n);
        assert_int_equal(k.n_mpls, 0);
    }
    k = extract(&f);
    assert_int_equal(k.n_mpls, 1);
    assert_int_equal(ntohl(k.mpls_lse[0]), lse(9, 1, 1, 9));
}

/* IPv6. */

static void
ipv6_done(struct frame *f, size_t l3)
{
    poke16(f, l3 + 4, (uint16_t) (f->n - l3 - 40));
}

static void
test_ipv6_tcp(void **state)
{
    struct frame f = { .n = 0 };
    struct in6_addr a;
    struct flow_key k;

    (void) state;
    put_eth(&f, ETH_TYPE_IPV6);
    put_ipv6(&f, 0xb8, 0xabcde, IPPROTO_TCP);
    put_tcp(&f, 1234, 80, 5, 0x012);
    ipv6_done(&f, 14);
    k = extract(&f);
    assert_int_equal(ntohs(k.eth_type), ETH_TYPE_IPV6);
    assert_int_equal(k.nw_tos, 0xb8);
    assert_int_equal(ntohl(k.ipv6_label), 0xabcde);
    assert_int_equal(k.nw_ttl, 64);
    assert_int_equal(k.nw_proto, IPPROTO_TCP);
    assert_int_equal(k.nw_frag, FKEY_FRAG_NONE);
    assert_int_equal(k.ipv6_exthdrs, 0);
    inet_pton(AF_INET6, "2001:db8::1", &a);
    assert_memory_equal(&k.addr.ipv6.src, &a, sizeof a);
    inet_pton(AF_INET6, "2001:db8::2", &a);
    assert_memory_equal(&k.addr.ipv6.dst, &a, sizeof a);
    assert_int_equal(ntohs(k.tp_src), 1234);
    assert_int_equal(ntohs(k.tcp_flags), 0x012);

    /* Every cut point. */
    for (size_t n = 14; n < f.n; n++) {
        k = extract_n(&f, n);
        if (n < 54) {
            assert_l3_zero(&k);
        } else {
            assert_int_equal(k.nw_proto, IPPROTO_TCP);
            assert_int_equal(ntohl(k.ipv6_label), 0xabcde);
            assert_l4_zero(&k);
        }
    }
}

/* One IPv6 packet per extension header type. */
static void
test_ipv6_each_extension_header(void **state)
{
    struct {
        uint8_t nh;             /* First next-header. */
        uint16_t exthdrs;       /* Expected bitmap. */
        uint8_t proto;          /* Expected nw_proto. */
        uint8_t frag;           /* Expected nw_frag. */
        int l4;                 /* UDP ports expected? */
    } cases[] = {
        { 0, FKEY_IPV6_EH_HOP, IPPROTO_UDP, FKEY_FRAG_NONE, 1 },
        { 43, FKEY_IPV6_EH_ROUTER, IPPROTO_UDP, FKEY_FRAG_NONE, 1 },
        { 60, FKEY_IPV6_EH_DEST, IPPROTO_UDP, FKEY_FRAG_NONE, 1 },
        { 44, FKEY_IPV6_EH_FRAG, IPPROTO_UDP, FKEY_FRAG_FIRST, 1 },
        { 51, FKEY_IPV6_EH_AUTH, IPPROTO_UDP, FKEY_FRAG_NONE, 1 },
        /* ESP ends the chain; the kernel's walk never records it. */
        { 50, 0, 50, FKEY_FRAG_NONE, 0 },
        { 59, FKEY_IPV6_EH_NONEXT, 59, FKEY_FRAG_NONE, 0 },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct frame f = { .n = 0 };
        struct flow_key k;

        put_eth(&f, ETH_TYPE_IPV6);
        put_ipv6(&f, 0, 0, cases[i].nh);
        switch (cases[i].nh) {
        case 44:
            put_frag(&f, IPPROTO_UDP, 0, 1);
            break;
        case 51:
            /* AH: 24 bytes, length field 4 ((24 / 4) - 2). */
            put8(&f, IPPROTO_UDP);
            put8(&f, 4);
            put_zeros(&f, 22);
            break;
        case 50:
        case 59:
            break;
        default:
            put_ext(&f, IPPROTO_UDP, 1);
            break;
        }
        if (cases[i].nh != 59) {
            put_ports(&f, 7, 8, 8);
        }
        ipv6_done(&f, 14);
        k = extract(&f);
        assert_int_equal(k.ipv6_exthdrs, cases[i].exthdrs);
        assert_int_equal(k.nw_proto, cases[i].proto);
        assert_int_equal(k.nw_frag, cases[i].frag);
        assert_int_equal(ntohs(k.tp_src), cases[i].l4 ? 7 : 0);
        assert_int_equal(ntohs(k.tp_dst), cases[i].l4 ? 8 : 0);
    }
}

static void
test_ipv6_fragments(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    /* Later fragment: proto 44, no L4, bitmap still has FRAG. */
    put_eth(&f, ETH_TYPE_IPV6);
    put_ipv6(&f, 0, 0, 44);
    put_frag(&f, IPPROTO_UDP, 100, 0);
    put_ports(&f, 7, 8, 8);
    ipv6_done(&f, 14);
    k = extract(&f);
    assert_int_equal(k.nw_frag, FKEY_FRAG_LATER);
    assert_int_equal(k.nw_proto, 44);
    assert_int_equal(k.ipv6_exthdrs, FKEY_IPV6_EH_FRAG);
    assert_l4_zero(&k);

    /* Atomic fragment (offset 0, M=0): the kernel says first. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IPV6);
    put_ipv6(&f, 0, 0, 44);
    put_frag(&f, IPPROTO_TCP, 0, 0);
    put_tcp(&f, 11, 12, 5, 0x002);
    ipv6_done(&f, 14);
    k = extract(&f);
    assert_int_equal(k.nw_frag, FKEY_FRAG_FIRST);
    assert_int_equal(k.nw_proto, IPPROTO_TCP);
    assert_int_equal(ntohs(k.tp_src), 11);

    /* Later fragment whose next header is an extension header: the
     * kernel's ipv6_find_hdr() fails before it records the offset. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IPV6);
    put_ipv6(&f, 0, 0, 44);
    put_frag(&f, 60, 8, 0);
    put_ext(&f, IPPROTO_UDP, 0);
    put_ports(&f, 7, 8, 8);
    ipv6_done(&f, 14);
    k = extract(&f);
    assert_int_equal(k.nw_frag, FKEY_FRAG_FIRST);
    assert_int_equal(k.nw_proto, 59);
    assert_l4_zero(&k);
}

static void
test_ipv6_chain_order_bits(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    /* The recommended order: HOP, DEST, ROUTING, FRAG, AUTH, DEST. */
    put_eth(&f, ETH_TYPE_IPV6);
    put_ipv6(&f, 0, 0, 0);
    put_ext(&f, 60, 0);
    put_ext(&f, 43, 0);
    put_ext(&f, 44, 0);
    put_frag(&f, 51, 0, 1);
    put8(&f, 60);                   /* AH, 16 bytes (length 2). */
    put8(&f, 2);
    put_zeros(&f, 14);
    put_ext(&f, IPPROTO_UDP, 0);
    put_ports(&f, 15, 16, 8);
    ipv6_done(&f, 14);
    k = extract(&f);
    assert_int_equal(k.nw_proto, IPPROTO_UDP);
    assert_int_equal(k.nw_frag, FKEY_FRAG_FIRST);
    assert_int_equal(ntohs(k.tp_src), 15);
    /* The kernel's bitmap walk takes AH as (2 + 1) * 8 = 24 bytes, not
     * 16, so it reads the second DEST's payload as a header: byte 0 of
     * the UDP ports is 0, a hop-by-hop header out of place. */
    assert_int_equal(k.ipv6_exthdrs,
                     FKEY_IPV6_EH_HOP | FKEY_IPV6_EH_DEST
                     | FKEY_IPV6_EH_ROUTER | FKEY_IPV6_EH_FRAG
                     | FKEY_IPV6_EH_AUTH | FKEY_IPV6_EH_UNREP
                     | FKEY_IPV6_EH_UNSEQ);

    /* Out of order (DEST then HOP), and three DEST headers. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IPV6);
    put_ipv6(&f, 0, 0, 60);
    put_ext(&f, 0, 0);
    put_ext(&f, 60, 0);
    put_ext(&f, 60, 0);
    put_ext(&f, IPPROTO_TCP, 0);
    put_tcp(&f, 17, 18, 5, 0x002);
    ipv6_done(&f, 14);
    k = extract(&f);
    assert_int_equal(k.ipv6_exthdrs,
                     FKEY_IPV6_EH_DEST | FKEY_IPV6_EH_UNSEQ
                     | FKEY_IPV6_EH_UNREP);
    assert_int_equal(k.nw_proto, IPPROTO_TCP);

    /* Two routing headers. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IPV6);
    put_ipv6(&f, 0, 0, 43);
    put_ext(&f, 43, 0);
    put_ext(&f, 59, 0);
    ipv6_done(&f, 14);
    k = extract(&f);
    /* The kernel also calls a repeat "out of sequence". */
    assert_int_equal(k.ipv6_exthdrs, FKEY_IPV6_EH_ROUTER
                     | FKEY_IPV6_EH_UNREP | FKEY_IPV6_EH_UNSEQ
                     | FKEY_IPV6_EH_NONEXT);
    assert_int_equal(k.nw_proto, 59);
}

static void
test_ipv6_truncated_chain(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    put_eth(&f, ETH_TYPE_IPV6);
    put_ipv6(&f, 0, 7, 0);
    put_ext(&f, 43, 0);
    put_ext(&f, 44, 0);
    put_frag(&f, IPPROTO_UDP, 0, 1);
    put_ports(&f, 1, 2, 8);
    ipv6_done(&f, 14);

    /* Every cut inside the chain leaves proto 59 and no L4, but keeps
     * the IPv6 fields.  Once 2 bytes of the fragment header are there,
     * the packet is a first fragment; with 4 (offset included) the walk
     * is complete, even though 4 bytes of that header are missing. */
    for (size_t n = 54; n < 54 + 24; n++) {
        size_t frag_ofs = 54 + 16;

        k = extract_n(&f, n);
        assert_int_equal(ntohl(k.ipv6_label), 7);
        assert_int_equal(k.nw_ttl, 64);
        assert_int_equal(k.nw_proto,
                         n >= frag_ofs + 4 ? IPPROTO_UDP : 59);
        assert_int_equal(k.nw_frag,
                         n >= frag_ofs + 2 ? FKEY_FRAG_FIRST
                                           : FKEY_FRAG_NONE);
        assert_l4_zero(&k);
    }
    k = extract_n(&f, 54 + 24);
    assert_int_equal(k.nw_proto, IPPROTO_UDP);
    assert_int_equal(k.ipv6_exthdrs, FKEY_IPV6_EH_HOP | FKEY_IPV6_EH_ROUTER
                     | FKEY_IPV6_EH_FRAG);
    assert_l4_zero(&k);

    /* A routing header needs 4 bytes in the chain walk (the bitmap walk
     * needs 2). */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IPV6);
    put_ipv6(&f, 0, 0, 43);
    put8(&f, IPPROTO_UDP);
    put8(&f, 0);
    put8(&f, 0);
    k = extract(&f);
    assert_int_equal(k.nw_proto, 59);
    assert_int_equal(k.ipv6_exthdrs, FKEY_IPV6_EH_ROUTER);
    put8(&f, 0);
    k = extract(&f);
    assert_int_equal(k.nw_proto, IPPROTO_UDP);
    assert_int_equal(k.ipv6_exthdrs, FKEY_IPV6_EH_ROUTER);
    assert_l4_zero(&k);
}

/* ICMPv6 and neighbour discovery. */

static size_t
put_nd(struct frame *f, uint8_t type, uint8_t code, const char *target)
{
    size_t l3 = f->n;

    put_ipv6(f, 0, 0, IPPROTO_ICMPV6);
    put8(f, type);
    put8(f, code);
    put16(f, 0);
    put32(f, 0x60000000);
    put_ip6(f, target);
    return l3;
}

static void
put_lla(struct frame *f, uint8_t type, uint8_t last)
{
    uint8_t mac[6] = { 0, 0x11, 0x22, 0x33, 0x44, last };

    put8(f, type);
    put8(f, 1);
    put(f, mac, 6);
}

static void
assert_lla(const uint8_t *lla, uint8_t last)
{
    uint8_t mac[6] = { 0, 0x11, 0x22, 0x33, 0x44, last };

    assert_memory_equal(lla, last ? mac : ZERO_MAC, 6);
}

static void
test_icmpv6_and_nd(void **state)
{
    struct in6_addr target, zero = IN6ADDR_ANY_INIT;
    struct frame f = { .n = 0 };
    struct flow_key k;
    size_t l3;

    (void) state;
    inet_pton(AF_INET6, "fe80::1", &target);

    /* Echo request: type and code only. */
    put_eth(&f, ETH_TYPE_IPV6);
    put_ipv6(&f, 0, 0, IPPROTO_ICMPV6);
    put8(&f, 128);
    put8(&f, 0);
    put_zeros(&f, 6);
    ipv6_done(&f, 14);
    k = extract(&f);
    assert_int_equal(k.tp_src, htons(128));
    assert_int_equal(k.tp_dst, 0);
    k = extract_n(&f, f.n - 1);
    assert_l4_zero(&k);
    assert_int_equal(k.nw_proto, IPPROTO_ICMPV6);

    /* NS with SLL. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IPV6);
    l3 = put_nd(&f, 135, 0, "fe80::1");
    put_lla(&f, 1, 0x55);
    ipv6_done(&f, l3);
    k = extract(&f);
    assert_int_equal(k.tp_src, htons(135));
    assert_memory_equal(&k.nd_target, &target, 16);
    assert_lla(k.arp_sha, 0x55);
    assert_lla(k.arp_tha, 0);

    /* Cut inside the option: target kept, no SLL; inside the target:
     * nothing. */
    k = extract_n(&f, f.n - 1);
    assert_memory_equal(&k.nd_target, &target, 16);
    assert_lla(k.arp_sha, 0);
    k = extract_n(&f, f.n - 9);
    assert_memory_equal(&k.nd_target, &zero, 16);
    assert_int_equal(k.tp_src, htons(135));

    /* NA with TLL and SLL, then a duplicate SLL: all three zeroed. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IPV6);
    l3 = put_nd(&f, 136, 0, "fe80::1");
    put_lla(&f, 2, 0x66);
    put_lla(&f, 1, 0x77);
    ipv6_done(&f, l3);
    k = extract(&f);
    assert_memory_equal(&k.nd_target, &target, 16);
    assert_lla(k.arp_sha, 0x77);
    assert_lla(k.arp_tha, 0x66);
    put_lla(&f, 1, 0x78);
    ipv6_done(&f, l3);
    k = extract(&f);
    assert_memory_equal(&k.nd_target, &zero, 16);
    assert_lla(k.arp_sha, 0);
    assert_lla(k.arp_tha, 0);
    assert_int_equal(k.tp_src, htons(136));

    /* Zero-length option: parsing stops, what was found stays. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IPV6);
    l3 = put_nd(&f, 135, 0, "fe80::1");
    put_lla(&f, 1, 0x01);
    put8(&f, 2);
    put8(&f, 0);
    put_zeros(&f, 6);
    put_lla(&f, 2, 0x02);
    ipv6_done(&f, l3);
    k = extract(&f);
    assert_lla(k.arp_sha, 0x01);
    assert_lla(k.arp_tha, 0);

    /* Option longer than what is left: same. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IPV6);
    l3 = put_nd(&f, 135, 0, "fe80::1");
    put8(&f, 2);
    put8(&f, 2);
    put_zeros(&f, 6);
    ipv6_done(&f, l3);
    k = extract(&f);
    assert_memory_equal(&k.nd_target, &target, 16);
    assert_lla(k.arp_tha, 0);

    /* Unknown option skipped; a 16-byte SLL is not an Ethernet SLL. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IPV6);
    l3 = put_nd(&f, 135, 0, "fe80::1");
    put8(&f, 14);
    put8(&f, 1);
    put_zeros(&f, 6);
    put8(&f, 1);
    put8(&f, 2);
    put_zeros(&f, 14);
    put_lla(&f, 2, 0x09);
    ipv6_done(&f, l3);
    k = extract(&f);
    assert_lla(k.arp_sha, 0);
    assert_lla(k.arp_tha, 0x09);

    /* Options in the Ethernet trailer count (the kernel reads to the end
     * of the frame, not the payload length). */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IPV6);
    l3 = put_nd(&f, 135, 0, "fe80::1");
    ipv6_done(&f, l3);
    put_lla(&f, 1, 0x0a);
    k = extract(&f);
    assert_lla(k.arp_sha, 0x0a);

    /* Nonzero code: not ND. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IPV6);
    l3 = put_nd(&f, 135, 1, "fe80::1");
    put_lla(&f, 1, 0x0b);
    ipv6_done(&f, l3);
    k = extract(&f);
    assert_int_equal(k.tp_dst, htons(1));
    assert_memory_equal(&k.nd_target, &zero, 16);
    assert_lla(k.arp_sha, 0);
}

/* ARP. */

static void
test_arp(void **state)
{
    static const uint16_t ops[] = { 1, 2, 255, 256, 300, 0xffff };

    (void) state;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        struct frame f = { .n = 0 };
        struct flow_key k;

        put_eth(&f, i == 1 ? ETH_TYPE_RARP : ETH_TYPE_ARP);
        put_arp(&f, ops[i]);
        k = extract(&f);
        assert_int_equal(ntohs(k.arp_op), ops[i] <= 0xff ? ops[i] : 0);
        assert_int_equal(ntohl(k.addr.ipv4.src), 0x0a000001);
        assert_int_equal(ntohl(k.addr.ipv4.dst), 0x0a000002);
        assert_memory_equal(k.arp_sha, FRAME_SRC, 6);
        assert_memory_equal(k.arp_tha, FRAME_DST, 6);
        assert_int_equal(k.nw_proto, 0);

        /* Every cut point: nothing until all 28 bytes are there. */
        for (size_t n = 14; n < f.n; n++) {
            k = extract_n(&f, n);
            assert_l3_zero(&k);
        }
    }
}

static void
test_arp_not_ethernet_ipv4(void **state)
{
    static const size_t ofs[] = { 1, 3, 4, 5 };   /* htype, ptype, hlen,
                                                   * plen. */

    (void) state;
    for (size_t i = 0; i < sizeof ofs / sizeof ofs[0]; i++) {
        struct frame f = { .n = 0 };
        struct flow_key k;

        put_eth(&f, ETH_TYPE_ARP);
        put_arp(&f, 1);
        f.b[14 + ofs[i]] ^= 0x40;
        k = extract(&f);
        assert_int_equal(ntohs(k.eth_type), ETH_TYPE_ARP);
        assert_l3_zero(&k);
    }
}

/* Packets without an Ethernet header (md.l3_type set: after pop_eth, as
 * they recirculate).  The key is that of the same packet with an Ethernet
 * header, but for FKEY_MAC_NONE and no addresses; there is no minimum
 * length; a VLAN type is refused (the kernel's key_extract()). */
static void
test_l3_packets(void **state)
{
    static const uint16_t types[] = {
        ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_ARP, 0x88b5,
    };

    (void) state;
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        struct pkt_metadata md = { .in_port = 4, .recirc_id = 9,
                                   .l3_type = htons(types[t]) };
        struct frame f = { .n = 0 };
        struct flow_key ke, kl;

        put_eth(&f, types[t]);
        if (types[t] == ETH_TYPE_IP) {
            put_ipv4(&f, 5, IPPROTO_TCP, 0, 40);
            put_tcp(&f, 1234, 80, 5, 0x012);
        } else if (types[t] == ETH_TYPE_IPV6) {
            put_ipv6(&f, 0, 0x12345, IPPROTO_UDP);
            put_ports(&f, 53, 5353, 8);
        } else if (types[t] == ETH_TYPE_MPLS) {
            put32(&f, lse(77, 1, 1, 9));
            put_ipv4(&f, 5, IPPROTO_UDP, 0, 28);
            put_ports(&f, 1, 2, 8);
        } else {
            while (f.n < 60) {
                put8(&f, (uint8_t) f.n);
            }
        }
        md.l3_type = 0;
        assert_int_equal(0, fkey_extract(f.b, f.n, &md, &ke));
        md.l3_type = htons(types[t]);
        memset(&kl, 0xa5, sizeof kl);
        assert_int_equal(0, fkey_extract(f.b + 14, f.n - 14, &md, &kl));
        assert_int_equal(kl.mac_proto, FKEY_MAC_NONE);
        assert_int_equal(ke.mac_proto, FKEY_MAC_ETHERNET);
        ke.mac_proto = FKEY_MAC_NONE;
        memset(ke.eth_src, 0, 6);
        memset(ke.eth_dst, 0, 6);
        assert_memory_equal(&kl, &ke, sizeof kl);
        if (types[t] == ETH_TYPE_IP) {
            assert_int_equal(ntohs(kl.tp_dst), 80);
        }

        /* Every prefix, down to nothing: no error, no read outside. */
        for (size_t n = 0; n <= f.n - 14; n++) {
            uint8_t *copy = malloc(n ? n : 1);

            memcpy(copy, f.b + 14, n);
            assert_int_equal(0, fkey_extract(copy, n, &md, &kl));
            assert_int_equal(kl.mac_proto, FKEY_MAC_NONE);
            assert_int_equal(ntohs(kl.eth_type), types[t]);
            free(copy);
        }
    }

    /* A VLAN type without an Ethernet header: refused, type kept. */
    for (int i = 0; i < 2; i++) {
        uint16_t tpid = i ? ETH_TYPE_VLAN_8021AD : ETH_TYPE_VLAN_8021Q;
        struct pkt_metadata md = { .in_port = 4, .l3_type = htons(tpid) };
        uint8_t b[64] = { 0 };
        struct flow_key k;

        assert_int_equal(-EINVAL, fkey_extract(b, sizeof b, &md, &k));
        assert_int_equal(k.mac_proto, FKEY_MAC_NONE);
        assert_int_equal(ntohs(k.eth_type), tpid);
        assert_int_equal(k.in_port, 4);
        assert_int_equal(k.vlan[0].tpid, 0);
    }
}

/* Robustness: every prefix of a long frame under each Ethernet type,
 * with garbage payloads, is parsed without reading outside the frame
 * (ASan) and gives the same key twice. */
static void
test_every_prefix_is_safe(void **state)
{
    static const uint16_t types[] = {
        ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_ARP, ETH_TYPE_RARP,
        ETH_TYPE_MPLS, ETH_TYPE_VLAN_8021Q, ETH_TYPE_VLAN_8021AD, 0x0020,
        ETH_TYPE_NSH,
    };

    (void) state;
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        for (uint8_t seed = 0; seed < 8; seed++) {
            struct frame f = { .n = 0 };
            uint32_t x = 0x9e3779b9u * (seed + 1);

            put_eth(&f, types[t]);
            while (f.n < 200) {
                x = x * 1103515245u + 12345u;
                put8(&f, (uint8_t) (x >> 16));
            }
            /* Steer some frames into the interesting paths. */
            if (types[t] == ETH_TYPE_IP) {
                f.b[14] = 0x45;
            } else if (types[t] == ETH_TYPE_IPV6) {
                f.b[14 + 6] = (uint8_t[]) { 0, 43, 44, 51, 60, 58, 6,
                                            59 }[seed];
            }
            for (size_t n = 14; n <= f.n; n++) {
                uint8_t *copy = malloc(n);  /* Exact size for ASan. */
                struct flow_key a, b;

                memcpy(copy, f.b, n);
                memset(&a, 0x00, sizeof a);
                memset(&b, 0xff, sizeof b);
                assert_int_equal(0, fkey_extract(copy, n, NULL, &a));
                assert_int_equal(0, fkey_extract(copy, n, NULL, &b));
                assert_memory_equal(&a, &b, sizeof a);
                free(copy);
            }
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_frame),
        cmocka_unit_test(test_eth_and_metadata),
        cmocka_unit_test(test_ipv4_tcp),
        cmocka_unit_test(test_ipv4_udp_sctp_icmp),
        cmocka_unit_test(test_ipv4_other_proto),
        cmocka_unit_test(test_ipv4_options),
        cmocka_unit_test(test_ipv4_bad_ihl),
        cmocka_unit_test(test_ipv4_truncation_points),
        cmocka_unit_test(test_ipv4_tcp_bad_doff),
        cmocka_unit_test(test_ipv4_fragments),
        cmocka_unit_test(test_ipv4_padding_and_total_length),
        cmocka_unit_test(test_vlan_single),
        cmocka_unit_test(test_vlan_qinq_and_third_tag),
        cmocka_unit_test(test_vlan_truncated),
        cmocka_unit_test(test_llc_snap),
        cmocka_unit_test(test_mpls_labels),
        cmocka_unit_test(test_mpls_no_bos_and_truncated),
        cmocka_unit_test(test_ipv6_tcp),
        cmocka_unit_test(test_ipv6_each_extension_header),
        cmocka_unit_test(test_ipv6_fragments),
        cmocka_unit_test(test_ipv6_chain_order_bits),
        cmocka_unit_test(test_ipv6_truncated_chain),
        cmocka_unit_test(test_icmpv6_and_nd),
        cmocka_unit_test(test_arp),
        cmocka_unit_test(test_arp_not_ethernet_ipv4),
        cmocka_unit_test(test_l3_packets),
        cmocka_unit_test(test_every_prefix_is_safe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
