/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for codec/fkey-text.c.  Expected bytes are written out in hex
 * by hand (host is little-endian for the host-order u32/u16 attributes,
 * which the test checks first); expected text is what OVS 3.1 prints. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>

#include "codec/fkey-text.h"
#include "lib/errbuf.h"
#include "lib/text.h"

#define BUF 4096

struct nlbuf {
    char b[BUF] __attribute__((aligned(4)));
    struct nlmsghdr *nlh;
};

static void
nlbuf_init(struct nlbuf *nb)
{
    memset(nb->b, 0xa5, sizeof nb->b);      /* Catch unzeroed padding. */
    nb->nlh = mnl_nlmsg_put_header(nb->b);
}

static char *
nlbuf_hex(const struct nlbuf *nb)
{
    struct sbuf sb = SBUF_INIT;
    char *s;

    sbuf_put_hex(&sb, mnl_nlmsg_get_payload(nb->nlh),
                 mnl_nlmsg_get_payload_len(nb->nlh));
    s = strdup(sbuf_str(&sb));
    sbuf_uninit(&sb);
    return s;
}

/* Parses 'text' (with a mask if 'mask_hex' is nonnull) and checks the
 * key (and mask) bytes against the hex strings. */
static void
check_parse(const char *text, const char *key_hex, const char *mask_hex)
{
    struct nlbuf k, m;
    struct errbuf eb;
    size_t used;
    char *hex;
    int error;

    nlbuf_init(&k);
    nlbuf_init(&m);
    error = fkey_parse(text, &used, k.nlh, BUF, mask_hex ? m.nlh : NULL,
                       mask_hex ? BUF : 0, &eb);
    if (error) {
        fail_msg("parse '%s': %d %s", text, error, eb.msg);
    }
    assert_int_equal(used, strlen(text));
    hex = nlbuf_hex(&k);
    assert_string_equal(hex, key_hex);
    free(hex);
    if (mask_hex) {
        hex = nlbuf_hex(&m);
        assert_string_equal(hex, mask_hex);
        free(hex);
    }
}

/* Formats the hex streams and checks the text. */
static void
check_format(const char *key_hex, const char *mask_hex, bool verbose,
             const char *expected)
{
    uint8_t key[BUF], mask[BUF];
    struct sbuf sb = SBUF_INIT;
    int kn, mn = 0;

    kn = hex_to_bytes(key_hex, key, sizeof key);
    assert_true(kn >= 0);
    if (mask_hex) {
        mn = hex_to_bytes(mask_hex, mask, sizeof mask);
        assert_true(mn >= 0);
    }
    fkey_format(key, kn, mask_hex ? mask : NULL, mn, verbose, &sb);
    assert_string_equal(sbuf_str(&sb), expected);
    sbuf_uninit(&sb);
}

/* text -> netlink -> text must give 'text' back. */
static void
check_round_trip(const char *text, bool with_mask)
{
    struct nlbuf k, m;
    struct sbuf sb = SBUF_INIT;
    struct errbuf eb;
    size_t used;
    int error;

    nlbuf_init(&k);
    nlbuf_init(&m);
    error = fkey_parse(text, &used, k.nlh, BUF, with_mask ? m.nlh : NULL,
                       with_mask ? BUF : 0, &eb);
    if (error) {
        fail_msg("parse '%s': %d %s", text, error, eb.msg);
    }
    fkey_format(mnl_nlmsg_get_payload(k.nlh),
                mnl_nlmsg_get_payload_len(k.nlh),
                with_mask ? mnl_nlmsg_get_payload(m.nlh) : NULL,
                with_mask ? mnl_nlmsg_get_payload_len(m.nlh) : 0, false,
                &sb);
    assert_string_equal(sbuf_str(&sb), text);
    sbuf_uninit(&sb);
}

/* check_round_trip() for each of 'exact' without a mask and each of
 * 'masked' with one. */
static void
check_round_trips(const char *const *exact, size_t n_exact,
                  const char *const *masked, size_t n_masked)
{
    for (size_t i = 0; i < n_exact; i++) {
        check_round_trip(exact[i], false);
    }
    for (size_t i = 0; i < n_masked; i++) {
        check_round_trip(masked[i], true);
    }
}

static void
check_error(const char *text, bool with_mask, int expected_error,
            const char *reason)
{
    struct nlbuf k, m;
    struct errbuf eb;
    size_t used;
    uint32_t klen, mlen;

    nlbuf_init(&k);
    nlbuf_init(&m);
    klen = k.nlh->nlmsg_len;
    mlen = m.nlh->nlmsg_len;
    assert_int_equal(fkey_parse(text, &used, k.nlh, BUF,
                                with_mask ? m.nlh : NULL,
                                with_mask ? BUF : 0, &eb),
                     expected_error);
    assert_string_equal(eb.msg, reason);
    /* Buffers left as they were. */
    assert_int_equal(k.nlh->nlmsg_len, klen);
    assert_int_equal(m.nlh->nlmsg_len, mlen);
}

/* ---- Tests. ---- */

static void
test_host_is_little_endian(void **state)
{
    uint32_t x = 1;

    (void) state;
    /* The hand-written hex below assumes it for host-order attributes. */
    assert_int_equal(*(uint8_t *) &x, 1);
}

static void
test_parse_bytes(void **state)
{
    (void) state;
    check_parse("in_port(1)", "0800030001000000", NULL);
    check_parse("in_port(1)", "0800030001000000", "08000300ffffffff");
    check_parse("in_port(1/0xff)", "0800030001000000", "08000300ff000000");
    check_parse("eth_type(0x0800)", "0600060008000000", "06000600ffff0000");
    check_parse("skb_priority(0x1234),recirc_id(0)",
                "08000200341200000800140000000000",
                "08000200ffffffff08001400ffffffff");
    check_parse("eth(src=00:01:02:03:04:05,dst=10:11:12:13:14:15)",
                "10000400000102030405101112131415", NULL);
    /* vid 99, pcp 7, CFI set: 0xf063. */
    check_parse("vlan(vid=99,pcp=7)", "06000500f0630000", "06000500ffff0000");
    check_parse("vlan(vid=99,cfi=0)", "0600050000630000", "060005001fff0000");
    /* label 100, tc 3, bos 1, ttl 64. */
    check_parse("mpls(label=100,tc=3,ttl=64,bos=1)", "0800150000064740",
                NULL);
    check_parse("mpls(label=1,tc=0,ttl=1,bos=0,label=2,tc=0,ttl=2,bos=1)",
                "0c0015000000100100002102", NULL);
    check_parse("tcp(src=80,dst=8080)", "0800090000501f90", NULL);
    check_parse("tcp_flags(syn|ack)", "0600120000120000", NULL);
    check_parse("tcp_flags(+syn-ack)", "0600120000020000",
                "0600120000120000");
    check_parse("ct_state(+trk-inv)", "0800160020000000",
                "0800160030000000");
    check_parse("ct_zone(0x5/0xff)", "0600170005000000", "06001700ff000000");
    check_parse("ct_label(0x1)",
                "1400190001000000000000000000000000000000", NULL);
    check_parse("packet_type(ns=1,id=0x894f)", "08001d000001894f", NULL);
    check_parse("ipv6_exthdrs(0x12)", "0600200012000000", NULL);
    check_parse("key40(01 02 03)", "0700280001020300", NULL);
    check_parse("key40(01 02 03/ff 00 ff)", "0700280001020300",
                "07002800ff00ff00");
    check_parse("<empty>", "", NULL);
    check_parse("", "", NULL);
}

static void
test_parse_bytes_masked(void **state)
{
    (void) state;
    /* Missing fields are zero in the key and wildcarded in the mask. */
    check_parse("ipv4(src=1.2.3.4)", "10000700010203040000000000000000",
                "10000700ffffffff0000000000000000");
    check_parse("ipv4(dst=10.0.0.1/255.0.0.0,ttl=64,frag=later)",
                "10000700000000000a00000100004002",
                "1000070000000000ff0000000000ffff");
    check_parse("ipv6(label=0x12345)",
                "2c000800" "0000000000000000000000000000000000000000000000"
                "000000000000000000" "00012345" "00000000",
                "2c000800" "0000000000000000000000000000000000000000000000"
                "000000000000000000" "000fffff" "00000000");
    check_parse("encap(eth_type(0x0800))", "0c0001000600060008000000",
                "0c00010006000600ffff0000");
    check_parse("eth()", "10000400000000000000000000000000",
                "10000400000000000000000000000000");
}

static void
test_format_exact(void **state)
{
    (void) state;
    check_format("0800030001000000", NULL, false, "in_port(1)");
    check_format("08000200341200000800140000000000", NULL, false,
                 "skb_priority(0x1234),recirc_id(0)");
    check_format("10000700230802291000001405800001", NULL, false,
                 "ipv4(src=35.8.2.41,dst=16.0.0.20,proto=5,tos=0x80,"
                 "ttl=0,frag=first)");
    check_format("0800150000064740", NULL, false,
                 "mpls(label=100,tc=3,ttl=64,bos=1)");
    check_format("0c0015000000100100002102", NULL, false,
                 "mpls(label=1,tc=0,ttl=1,bos=0,label=2,tc=0,ttl=2,bos=1)");
    check_format("06000500f0630000", NULL, false, "vlan(vid=99,pcp=7)");
    check_format("0600050000630000", NULL, false,
                 "vlan(vid=99,pcp=0,cfi=0)");
    check_format("0600120010120000", NULL, false, "tcp_flags(syn|ack|0x1000)");
    /* Without a mask ct_state is printed in hex (verbose), as OVS's
     * odp_flow_key_format() does. */
    check_format("0800160021000000", NULL, false, "ct_state(0x21)");
    check_format("1400190001000000000000000000000000000080", NULL, false,
                 "ct_label(0x80000000000000000000000000000001)");
    check_format("", NULL, false, "<empty>");
}

static void
test_format_masked(void **state)
{
    (void) state;
    /* Partial masks print as value/mask; zero masks are left out. */
    check_format("10000700230802291000001405800001",
                 "10000700ffffff00000000000000ffff", false,
                 "ipv4(src=35.8.2.41/255.255.255.0,ttl=0,frag=first)");
    /* An all-zero mask leaves the attribute out, except eth(). */
    check_format("0800030001000000" "10000400000102030405101112131415"
                 "0600060008000000",
                 "0800030000000000" "10000400000000000000000000000000"
                 "06000600ffff0000", false, "eth(),eth_type(0x0800)");
    /* Missing from the mask: wildcarded, left out. */
    check_format("08000300010000000600060008000000", "06000600ffff0000",
                 false, "eth_type(0x0800)");
    check_format("0600120000020000", "0600120000120000", false,
                 "tcp_flags(+syn-ack)");
    /* Flags in bit order, lowest first. */
    check_format("0800160020000000", "0800160030000000", false,
                 "ct_state(-inv+trk)");
    check_format("0700280001020300", "07002800ff00ff00", false,
                 "key40(01 02 03/ff 00 ff)");
    /* Mask has eth_type, key has not. */
    check_format("0800030001000000", "08000300ffffffff0600060012340000",
                 false, "in_port(1),eth_type(0/0x1234)");
}

static void
test_format_verbose(void **state)
{
    (void) state;
    check_format("0800030001000000" "0600060008000000",
                 "0800030000000000" "06000600ffff0000", true,
                 "in_port(1/0),eth_type(0x0800)");
    check_format("08000900005001bb", "08000900ffff0000", true,
                 "tcp(src=80,dst=443/0)");
    check_format("0800160020000000", "0800160030000000", true,
                 "ct_state(0x20/0x30)");
    /* Not in the mask at all: formatted against an all-zero mask. */
    check_format("08000f0001000000", "0800030000000000", true,
                 "skb_mark(0x1/0)");
    /* An empty mask stream counts as no mask (as in OVS). */
    check_format("08000f0001000000", "", true, "skb_mark(0x1)");
}

static void
test_format_malformed(void **state)
{
    (void) state;
    /* in_port with a 2-byte payload. */
    check_format("0600030001000000", NULL, false,
                 "in_port(bad key length 2, expected 4)(01 00)");
    check_format("0800030001000000", "06000300ffff0000", false,
                 "in_port(bad mask length 2, expected 4)(01 00 00 00/ff ff)");
    /* Truncated attribute: leftover bytes. */
    check_format("0800030001000000" "0c0006", NULL, false,
                 "in_port(1),***3 leftover bytes*** (0c0006)");
    check_format("ff", NULL, false, "<empty>,***1 leftover bytes*** (ff)");
    /* Bad mpls length, bad frag mask. */
    check_format("0700150001020300", NULL, false,
                 "mpls((bad key length 3))");
    check_format("10000700010203040506070806400102",
                 "10000700ffffffffffffffffffffff0f", false,
                 "ipv4(src=1.2.3.4,dst=5.6.7.8,proto=6,tos=0x40,ttl=1,"
                 "error: partial mask not supported for frag (0xf))");
    /* Unknown attributes in hex. */
    check_format("0600630001020000", NULL, false, "key99(01 02)");
}

static void
test_format_attr(void **state)
{
    struct sbuf sb = SBUF_INIT;
    uint8_t key[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 6, 0, 64, 0 };
    uint8_t mask[12] = { 255, 255, 255, 0 };

    (void) state;
    /* set_masked(ipv4(src=1.2.3.4/255.255.255.0)) */
    fkey_format_payload(OVS_KEY_ATTR_IPV4, key, mask, sizeof key, false,
                        &sb);
    assert_string_equal(sbuf_str(&sb), "ipv4(src=1.2.3.4/255.255.255.0)");
    sbuf_clear(&sb);
    /* set(ipv4(...)) */
    fkey_format_payload(OVS_KEY_ATTR_IPV4, key, NULL, sizeof key, true, &sb);
    assert_string_equal(sbuf_str(&sb), "ipv4(src=1.2.3.4,dst=5.6.7.8,"
                        "proto=6,tos=0,ttl=64,frag=no)");
    sbuf_uninit(&sb);

    assert_true(fkey_mask_is_exact(OVS_KEY_ATTR_TCP_FLAGS,
                                   "\x0f\xff", 2));
    assert_false(fkey_mask_is_exact(OVS_KEY_ATTR_IPV4, mask, sizeof mask));
}

static void
test_parse_attr(void **state)
{
    struct nlbuf k, m;
    struct errbuf eb;

    (void) state;
    nlbuf_init(&k);
    nlbuf_init(&m);
    assert_int_equal(fkey_parse_attr("ipv4(src=1.2.3.4)),drop", k.nlh, BUF,
                                     m.nlh, BUF, &eb), 17);
    assert_int_equal(mnl_nlmsg_get_payload_len(k.nlh), 16);
}

static void
test_round_trips(void **state)
{
    static const char *const exact[] = {
        "skb_priority(0),skb_mark(0),recirc_id(0),dp_hash(0),in_port(1),"
        "eth(src=00:01:02:03:04:05,dst=10:11:12:13:14:15),eth_type(0x8100),"
        "vlan(vid=99,pcp=7),encap(eth_type(0x0800),ipv4(src=35.8.2.41,"
        "dst=172.16.0.20,proto=6,tos=0,ttl=128,frag=no),tcp(src=80,"
        "dst=8080))",
        "in_port(1),eth_type(0x86dd),ipv6(src=::1,dst=::2,label=0,"
        "proto=58,tclass=0,hlimit=128,frag=no),icmpv6(type=136,code=0),"
        "nd(target=::3,sll=00:05:06:07:08:09,tll=00:0a:0b:0c:0d:0e),"
        "nd_ext(nd_reserved=0x0,nd_options_type=2)",
        "eth_type(0x0806),arp(sip=1.2.3.4,tip=5.6.7.8,op=1,"
        "sha=00:0f:10:11:12:13,tha=00:14:15:16:17:18)",
        "ct_zone(0x5),ct_mark(0x12345678),"
        "ct_label(0x1234567890abcdef1234567890abcdef),"
        "ct_tuple4(src=10.10.10.10,dst=20.20.20.20,proto=17,tp_src=1,"
        "tp_dst=2),ct_tuple6(src=::1,dst=::2,proto=6,src_port=3,"
        "dst_port=4)",
        "packet_type(ns=1,id=0x894f),sctp(src=1,dst=2),"
        "tcp_flags(fin|syn|[800]),icmp(type=3,code=4)",
        "mpls(label=1,tc=0,ttl=1,bos=0,label=2,tc=7,ttl=2,bos=0,label=3,"
        "tc=1,ttl=3,bos=1)",
        "<empty>",
    };
    static const char *const masked[] = {
        "in_port(1/0xff),eth(src=00:01:02:03:04:05/ff:ff:ff:ff:ff:f0,"
        "dst=10:11:12:13:14:15/ff:ff:ff:ff:ff:f0)",
        "skb_mark(0x1234/0xfff0),eth(),eth_type(0x1234/0xfff0)",
        "eth_type(0x0800),ipv4(src=35.8.2.41/255.255.255.0,"
        "dst=172.16.0.20/255.255.255.0,proto=5/0xf0,tos=0x80/0xf0,"
        "ttl=128/0xf0,frag=no)",
        "eth_type(0x86dd),ipv6(src=::1/::255,dst=::2/::255,label=0/0xf0,"
        "proto=10/0xf0,tclass=0x70/0xf0,hlimit=128/0xf0,frag=no)",
        "ipv4(frag=no),udp(src=81/0xff00,dst=6632/0xff)",
        "eth_type(0x8100),vlan(vid=99/0xff0,pcp=7),encap(eth_type(0x0800))",
        "eth_type(0x8847),mpls(label=100/0xff,tc=7/7,ttl=64/0xff,bos=1/1)",
        "ct_state(+trk),ct_zone(0x5/0xff),ct_mark(0x10305070/0xf0f0f0f0),"
        "ct_label(0x1234567890abcdef1234567890abcdef/"
        "0x102030405060708090a0b0c0d0e0f0)",
        "tcp_flags(-fin+syn-rst),icmp(type=1/0xf0,code=2)",
        "nd(target=::3/::250,sll=00:05:06:07:08:09/ff:ff:ff:ff:ff:00)",
        "key40(01 02/ff 00)",
    };

    (void) state;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        check_round_trip(exact[i], false);
        check_round_trip(exact[i], true);
    }
    for (size_t i = 0; i < sizeof masked / sizeof masked[0]; i++) {
        check_round_trip(masked[i], true);
    }
    /* ct_state prints in hex without a mask, as flags with one. */
    check_round_trip("ct_state(0x21)", false);
    check_round_trip("ct_state(new|trk)", true);
    check_round_trip("ct_state(0)", true);
    /* Unknown types always show their mask when there is one. */
    check_round_trip("key40(01 02 03),key31(),ipv6_exthdrs(0x41)", false);
    check_round_trip("key40(01 02 03/ff ff ff),key31(/),ipv6_exthdrs(0x41)",
                     true);
}

static void
test_stops(void **state)
{
    struct nlbuf k, m;
    struct errbuf eb;
    size_t used;

    (void) state;
    nlbuf_init(&k);
    nlbuf_init(&m);
    assert_int_equal(fkey_parse("in_port(1),eth() actions:drop", &used,
                                k.nlh, BUF, m.nlh, BUF, &eb), 0);
    assert_int_equal(used, 16);
    nlbuf_init(&k);
    assert_int_equal(fkey_parse("  in_port(1), eth(), packets:0", &used,
                                k.nlh, BUF, NULL, 0, &eb), 0);
    assert_int_equal(used, 19);
    assert_int_equal(mnl_nlmsg_get_payload_len(k.nlh), 8 + 16);
}

static void
test_errors(void **state)
{
    (void) state;
    check_error("ipv4(sorc=1.2.3.4)", true, -EINVAL,
                "ipv4: unknown field 'sorc'");
    check_error("ipv4(src=1.2.3)", true, -EINVAL,
                "ipv4: bad value for 'src' at '1.2.3'");
    check_error("ipv4(src=1.2.3.4,src=1.2.3.4)", true, -EINVAL,
                "ipv4: duplicate field 'src'");
    check_error("ipv4(ttl=256)", true, -EINVAL,
                "ipv4: bad value for 'ttl' at '256'");
    check_error("ipv4(src=1.2.3.4/255.0.0.0)", false, -EINVAL,
                "ipv4: mask on 'src' but no mask is being parsed");
    check_error("ipv4(frag=no/0xff)", true, -EINVAL,
                "ipv4: 'frag' cannot be masked");
    check_error("in_port(1),foo(2)", true, -EINVAL,
                "unknown key attribute 'foo'");
    check_error("in_port(1),in_port(2)", true, -EINVAL,
                "duplicate key attribute 'in_port'");
    check_error("in_port(x)", true, -EINVAL, "in_port: bad value at 'x'");
    check_error("in_port(1", true, -EINVAL,
                "in_port: expected ')' at end of input");
    check_error("recirc_id(1/2)", true, -EINVAL,
                "recirc_id: cannot be masked");
    check_error("vlan(vid=4096)", true, -EINVAL,
                "vlan: bad value for 'vid' at '4096'");
    check_error("vlan(pcp=8)", true, -EINVAL,
                "vlan: bad value for 'pcp' at '8'");
    check_error("mpls(label=1,label=2,label=3,label=4)", true, -EINVAL,
                "mpls: more than 3 label stack entries");
    check_error("tcp_flags(+syn+fin+syn)", true, -EINVAL,
                "tcp_flags: flag 'syn' given twice");
    check_error("ct_state(+bogus)", true, -EINVAL,
                "ct_state: unknown flag at 'bogus'");
    check_error("key7(01)", true, -EINVAL,
                "key7: type 7 is 'ipv4'; use that name");
    check_error("encap(in_port(1)", true, -EINVAL,
                "encap: expected ',' or ')' at end of input");
    check_error("1234", true, -EINVAL,
                "expected a key attribute at '1234'");
}

/* "key<N>" names a type only up to 0x3fff: above, N would spill into the
 * NLA_F_* flag bits or wrap around to another type (key65537 was encap,
 * key16384 came out as type 0 with NLA_F_NET_BYTEORDER set). */
static void
test_raw_type_range(void **state)
{
    (void) state;
    check_parse("key16383(01)", "0500ff3f01000000", NULL);
    check_error("key16384(01)", true, -EINVAL,
                "unknown key attribute 'key16384'");
    check_error("key65537(01)", true, -EINVAL,
                "unknown key attribute 'key65537'");
    check_error("key99999999999(01)", true, -EINVAL,
                "unknown key attribute 'key99999999999'");
    check_error("tunnel(key65551(01))", true, -EINVAL,
                "tunnel: unknown field 'key65551'");
    check_error("tunnel(vxlan(key65537(01)))", true, -EINVAL,
                "tunnel: vxlan: expected 'gbp(' at 'key65537'");
}

/* The kernel sends an 802.2 frame's flow (STP, say) with the Ethertype in
 * the mask only; OVS prints that as a trailing "eth_type(0/0xffff)".  It
 * used to parse as a key Ethertype of 0 and print back as
 * "eth_type(0x0000)". */
static void
test_mask_only_ethertype(void **state)
{
    (void) state;
    check_parse("in_port(1),eth_type(0/0xffff)", "0800030001000000",
                "08000300ffffffff06000600ffff0000");
    check_parse("in_port(1),eth_type(0x0000/0xff00)",
                "08000300010000000600060000000000",
                "08000300ffffffff06000600ff000000");
    check_round_trip("recirc_id(0),in_port(1),"
                     "eth(src=00:00:00:00:00:01,dst=01:80:c2:00:00:00),"
                     "eth_type(0/0xffff)", true);
    check_round_trip("in_port(1),eth_type(0x0000/0xff00)", true);
    check_round_trip("in_port(1),eth_type(0x8100),vlan(vid=5),"
                     "encap(in_port(2),eth_type(0/0xffff))", true);
    /* Nothing before it: no leading ','. */
    check_format("0800030001000000", "08000300000000000600060000ff0000",
                 false, "eth_type(0/0x00ff)");
    /* Not even a key (OVS prints just "<empty>"; found by fuzz-text). */
    check_format("", "060006001fa40000", false, "eth_type(0/0x1fa4)");
    check_parse("eth_type(0/0x1fa4)", "", "060006001fa40000");
    check_format("", "", false, "<empty>");
    check_error("in_port(1),eth_type(0/0xffff),eth_type(0x0800)", true,
                -EINVAL, "duplicate key attribute 'eth_type'");
    check_error("in_port(1),eth_type(0x0800),eth_type(0/0xffff)", true,
                -EINVAL, "duplicate key attribute 'eth_type'");
    check_error("eth_type(0/0xffff)", false, -EINVAL,
                "eth_type: mask given but no mask is being parsed");
    check_error("eth_type(0/x)", true, -EINVAL, "eth_type: bad mask at 'x'");
}

/* An empty value or mask names what stands there instead, never ''. */
static void
test_errors_name_token(void **state)
{
    (void) state;
    check_error("ipv4(src=)", true, -EINVAL,
                "ipv4: bad value for 'src' at ')'");
    check_error("ipv4(src=1.2.3.4/)", true, -EINVAL,
                "ipv4: bad mask for 'src' at ')'");
    check_error("ipv4(src=1.2.3.4/,dst=1.2.3.4)", true, -EINVAL,
                "ipv4: bad mask for 'src' at ','");
    check_error("eth(src=", true, -EINVAL,
                "eth: bad value for 'src' at end of input");
    check_error("vlan(vid=,pcp=1)", true, -EINVAL,
                "vlan: bad value for 'vid' at ','");
    check_error("mpls(label=1/)", true, -EINVAL,
                "mpls: bad mask for 'label' at ')'");
    check_error("encap(", true, -EINVAL,
                "expected a key attribute at end of input");
}

static void
test_deep_encap(void **state)
{
    char text[1024] = "";
    struct nlbuf k;
    struct errbuf eb;
    size_t used;

    (void) state;
    for (int i = 0; i < FKEY_TEXT_MAX_DEPTH + 1; i++) {
        strcat(text, "encap(");
    }
    for (int i = 0; i < FKEY_TEXT_MAX_DEPTH + 1; i++) {
        strcat(text, ")");
    }
    nlbuf_init(&k);
    assert_int_equal(fkey_parse(text, &used, k.nlh, BUF, NULL, 0, &eb),
                     -EINVAL);
    assert_string_equal(eb.msg, "encap: nested more than 32 deep");
    /* One level less is fine; the extra ')' stops the key. */
    nlbuf_init(&k);
    assert_int_equal(fkey_parse(text + 6, &used, k.nlh, BUF, NULL, 0, &eb),
                     0);
    assert_int_equal(used, strlen(text + 6) - 1);
}

static void
test_buffer_too_small(void **state)
{
    char kb[MNL_NLMSG_HDRLEN + 12] __attribute__((aligned(4)));
    char mb[MNL_NLMSG_HDRLEN + 8] __attribute__((aligned(4)));
    struct nlmsghdr *k = mnl_nlmsg_put_header(kb);
    struct nlmsghdr *m = mnl_nlmsg_put_header(mb);
    struct errbuf eb;
    size_t used;

    (void) state;
    assert_int_equal(fkey_parse("in_port(1),skb_mark(2)", &used, k,
                                sizeof kb, NULL, 0, &eb), -EMSGSIZE);
    assert_string_equal(eb.msg, "key buffer too small");
    assert_int_equal(k->nlmsg_len, MNL_NLMSG_HDRLEN);
    assert_int_equal(fkey_parse("in_port(1)", &used, k, sizeof kb, m,
                                sizeof mb, &eb), 0);
    assert_int_equal(fkey_parse("skb_mark(1)", &used, k, sizeof kb, m,
                                sizeof mb, &eb), -EMSGSIZE);
    assert_string_equal(eb.msg, "key buffer too small");
    assert_int_equal(k->nlmsg_len, MNL_NLMSG_HDRLEN + 8);
    assert_int_equal(m->nlmsg_len, MNL_NLMSG_HDRLEN + 8);
}

/* ---- tunnel(). ---- */

static void
test_tunnel_parse_bytes(void **state)
{
    (void) state;
    /* ID (type 0), IPV4_DST (2), then the DONT_FRAGMENT flag (5). */
    check_parse("tunnel(tun_id=0x1,dst=1.1.1.1,flags(df|key))",
                "1c001000" "0c000000" "0000000000000001"
                "08000200" "01010101" "04000500", NULL);
    /* With a mask: a flag's mask is its attribute in the mask nest. */
    check_parse("tunnel(tun_id=0x1/0xff,dst=1.1.1.1,flags(+df-csum+key))",
                "1c001000" "0c000000" "0000000000000001"
                "08000200" "01010101" "04000500",
                "20001000" "0c000000" "00000000000000ff"
                "08000200" "ffffffff" "04000500" "04000600");
    /* "key" without tun_id writes tun_id 0, wildcarded. */
    check_parse("tunnel(flags(+key))",
                "10001000" "0c000000" "0000000000000000",
                "10001000" "0c000000" "0000000000000000");
    /* vxlan: nested GBP, host-order u32 flags << 16 | id. */
    check_parse("tunnel(vxlan(gbp(id=10,flags=0xb)),flags(0))",
                "10001000" "0c000b00" "08000100" "0a000b00", NULL);
    /* geneve: class, type, length in 4-byte words, data. */
    check_parse("tunnel(geneve({class=0xffff,type=0x1,len=4,0xa}))",
                "10001000" "0c000800" "ffff0101" "0000000a", NULL);
    /* erspan: int version, then index (v1) or md2 (v2). */
    check_parse("tunnel(erspan(ver=1,idx=0x7))",
                "14001000" "10000f00" "01000000" "00000007" "00000000",
                NULL);
    check_parse("tunnel(erspan(ver=2,dir=1,hwid=0x7))",
                "14001000" "10000f00" "02000000" "00000000" "00000078",
                NULL);
}

static void
test_tunnel_round_trips(void **state)
{
    static const char *const exact[] = {
        "tunnel(tun_id=0x7f10354,src=10.10.10.10,dst=20.20.20.20,ttl=64,"
        "flags(csum|key)),in_port(1)",
        "tunnel(tun_id=0xfedcba9876543210,src=10.0.0.1,dst=10.0.0.2,"
        "tos=0x8,ttl=128,erspan(ver=1,idx=0x7),flags(df|key))",
        "tunnel(ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,tp_src=1,"
        "tp_dst=4789,flags(oam|df|csum))",
        "tunnel(dst=1.1.1.1,vxlan(gbp(id=1,flags=0),gbp(id=2,flags=0x1)),"
        "flags(0))",
        "tunnel(dst=1.1.1.1,vxlan(),flags(0))",
        "tunnel(geneve(),flags(0))",
        "tunnel(geneve({class=0x102,type=0x80,len=8,0x1020304050607}"
        "{class=0,type=0,len=0}),flags(0))",
        "tunnel(dst=1.1.1.1,key16(),flags(0))",
        "tunnel(dst=1.1.1.1,key15(01 02 03 04),flags(0))",
        "tunnel(erspan(ver=3),flags(0))",
        "tunnel(flags(0)),encap(tunnel(dst=1.1.1.1,flags(0)))",
    };
    static const char *const masked[] = {
        "tunnel(tun_id=0x7f10354/0xff,src=10.10.10.10/255.255.255.0,"
        "dst=20.20.20.20/255.255.255.0,ttl=64,"
        "vxlan(gbp(id=10/0xff,flags=0xb)),flags(oam|csum|key))",
        "tunnel(tun_id=0x7f10354/0xff,src=10.10.10.10/255.255.255.0,"
        "dst=20.20.20.20/255.255.255.0,ttl=64,geneve({class=0,type=0,"
        "len=4,0xa/0xff}{class=0xffff,type=0x1,len=4,0xffffffff}),"
        "flags(-df+csum+key))",
        ("tunnel(ipv6_dst=2001:db8::2/ffff::,tp_dst=4789/0xff00,"
         "flags(-oam+df))"),     /* Parenthesized: one string on purpose. */
        "tunnel(flags(+key))",
        "tunnel(dst=1.1.1.1,erspan(ver=2,dir=1,hwid=0x3/0x7))",
        "tunnel(erspan(ver=1,idx=0x7/0xff))",
        "tunnel(geneve({len=4/0x1c}{type=0x5}),vxlan(gbp(flags=0x1/0x3)))",
        "tunnel(key15(01 02/ff 00))",
        "tunnel()",
    };

    (void) state;
    check_round_trips(exact, sizeof exact / sizeof *exact, masked,
                      sizeof masked / sizeof *masked);
}

static void
test_tunnel_format(void **state)
{
    struct sbuf sb = SBUF_INIT;
    uint8_t a[16];

    (void) state;
    /* An empty tunnel: without a mask flags() always prints. */
    check_format("04001000", NULL, false, "tunnel(flags(0))");
    /* A tunnel missing from the mask is wildcarded, yet still says that
     * it has a key. */
    check_format("10001000" "0c000000" "0000000000000001",
                 "08000300" "ffffffff", false, "tunnel(flags(+key))");
    check_format("10001000" "0c000000" "0000000000000001",
                 "08000300" "ffffffff", true,
                 "tunnel(tun_id=0x1/0,flags(+key))");
    /* Masked fields left out, partial masks shown. */
    check_format("14001000" "0800010001020304" "0500040040000000",
                 "14001000" "08000100ffffff00" "0500040000000000", false,
                 "tunnel(src=1.2.3.4/255.255.255.0)");
    /* Malformed: bad length, truncated attribute, geneve overrun, geneve
     * mask of another length, bad gbp length. */
    check_format("0c0010000800030001020304", NULL, false,
                 "tunnel(key3(bad key length 4, expected 1)(01 02 03 04),"
                 "flags(0))");
    check_format("0a0010000c000000aabb0000", NULL, false,
                 "tunnel(***6 leftover bytes*** (0c 00 00 00 aa bb),"
                 "flags(0))");
    check_format("0c00100008000800ffff0101", NULL, false,
                 "tunnel(geneve(opt len 8 greater than remaining 4),"
                 "flags(0))");
    check_format("0c00100008000800ffff0001",
                 "0c0010000400080000000000", false,
                 "tunnel(geneve(value len 4 different from mask len 0))");
    check_format("10001000" "0c000b00" "06000100aabb0000", NULL, false,
                 "tunnel(vxlan(key1(bad key length 2, expected 4)(aa bb)),"
                 "flags(0))");

    /* set(tunnel(...)) goes through fkey_format_attr(). */
    assert_int_equal(hex_to_bytes("10001000" "08000200" "02020202"
                                  "04000600", a, sizeof a), 16);
    fkey_format_attr((const struct nlattr *) a, NULL, true, &sb);
    assert_string_equal(sbuf_str(&sb), "tunnel(dst=2.2.2.2,flags(csum))");
    sbuf_uninit(&sb);
}

static void
test_tunnel_errors(void **state)
{
    (void) state;
    check_error("tunnel(tun_id=0x1,tun_id=0x2)", true, -EINVAL,
                "tunnel: duplicate field 'tun_id'");
    check_error("tunnel(flags(df),flags(csum))", true, -EINVAL,
                "tunnel: duplicate field 'flags'");
    check_error("tunnel(foo=1)", true, -EINVAL,
                "tunnel: unknown field 'foo'");
    check_error("tunnel(ttl=256)", true, -EINVAL,
                "tunnel: bad value for 'ttl' at '256'");
    check_error("tunnel(tun_id=0x1/0x1g)", true, -EINVAL,
                "tunnel: expected ',' or ')' at 'g'");
    check_error("tunnel(src=1.2.3.4/255.0.0.0)", false, -EINVAL,
                "tunnel: mask on 'src' but no mask is being parsed");
    check_error("tunnel(dst=1.1.1.1", true, -EINVAL,
                "tunnel: expected ',' or ')' at end of input");
    check_error("tunnel(flags(df|bogus))", true, -EINVAL,
                "tunnel: flags: unknown flag at 'bogus'");
    check_error("tunnel(flags(+df))", false, -EINVAL,
                "tunnel: flags: +/- needs a mask at '+df'");
    check_error("tunnel(flags(0x10))", true, -EINVAL,
                "tunnel: flags: unknown flag bits at '0x10'");
    check_error("tunnel(geneve({len=5}))", true, -EINVAL,
                "tunnel: geneve: len must be a multiple of 4 up to 124 "
                "at '5'");
    check_error("tunnel(geneve({len=4,0x1ffffffff}))", true, -EINVAL,
                "tunnel: geneve: bad data at '0x1ffffffff'");
    check_error("tunnel(geneve({type=1,0x1}))", true, -EINVAL,
                "tunnel: geneve: data without a nonzero len at '0x1'");
    check_error("tunnel(geneve({class=1,class=2}))", true, -EINVAL,
                "tunnel: geneve: duplicate field 'class'");
    check_error("tunnel(erspan(idx=1))", true, -EINVAL,
                "tunnel: erspan: 'ver' missing");
    check_error("tunnel(erspan(ver=2,idx=1))", true, -EINVAL,
                "tunnel: erspan: 'idx' needs ver=1");
    check_error("tunnel(erspan(ver=1,dir=2))", true, -EINVAL,
                "tunnel: bad value for 'dir' at '2'");
    check_error("tunnel(vxlan(gbp(id=70000)))", true, -EINVAL,
                "tunnel: bad value for 'id' at '70000'");
    check_error("tunnel(vxlan(foo))", true, -EINVAL,
                "tunnel: vxlan: expected 'gbp(' at 'foo'");
    check_error("tunnel(key3(01))", true, -EINVAL,
                "tunnel: key3 has a named form; use it");
    check_error("tunnel(key15(00 00 00 01 00 00 00 00 00 00 00 00))", true,
                -EINVAL, "tunnel: key15 has a named form; use it");
    check_error("tunnel(key16(01/ff ff))", true, -EINVAL,
                "tunnel: key16 mask has 2 bytes, value 1");
}

/* ---- nsh(). ---- */

static void
test_nsh_parse_bytes(void **state)
{
    (void) state;
    /* NSH (28) nests BASE (1: flags, ttl, mdtype, np, be32 spi << 8 | si)
     * and, for mdtype 1, MD1 (2: four be32 words). */
    check_parse("nsh(flags=0,ttl=63,mdtype=1,np=3,spi=0x123,si=255,"
                "c1=0x1,c2=0x2,c3=0x3,c4=0x4)",
                "24001c00" "0c000100" "003f0103" "000123ff"
                "14000200" "00000001" "00000002" "00000003" "00000004",
                NULL);
    /* With a mask: the mask gets BASE and MD1 always; fields not given
     * are wildcarded. */
    check_parse("nsh(flags=2/0x3,mdtype=1,spi=0x5/0xff,si=3,c1=0x7/0xffff)",
                "24001c00" "0c000100" "02000100" "00000503"
                "14000200" "00000007" "00000000" "00000000" "00000000",
                "24001c00" "0c000100" "0300ff00" "0000ffff"
                "14000200" "0000ffff" "00000000" "00000000" "00000000");
    /* mdtype 2: no MD1 in the key; md2= gives MD2 (3). */
    check_parse("nsh(mdtype=2,md2=0x0102)",
                "18001c00" "0c000100" "00000200" "00000000"
                "06000300" "01020000", NULL);
    /* A wildcarded mdtype keeps MD1 in the key (weir, not OVS). */
    check_parse("nsh()",
                "24001c00" "0c000100" "00000000" "00000000"
                "14000200" "00000000" "00000000" "00000000" "00000000",
                "24001c00" "0c000100" "00000000" "00000000"
                "14000200" "00000000" "00000000" "00000000" "00000000");
    check_parse("nsh(mdtype=2)", "10001c00" "0c000100" "00000200"
                "00000000",
                "24001c00" "0c000100" "0000ff00" "00000000"
                "14000200" "00000000" "00000000" "00000000" "00000000");
}

static void
test_nsh_round_trips(void **state)
{
    static const char *const exact[] = {
        "nsh(flags=0,ttl=63,mdtype=1,np=3,spi=0x123,si=255,c1=0x1,c2=0x2,"
        "c3=0x3,c4=0x4)",
        "nsh(flags=0,ttl=63,mdtype=2,np=3,spi=0x123,si=255)",
        "nsh(flags=0,ttl=63,mdtype=2,np=3,spi=0x123,si=255,md2=0x0102)",
        "eth_type(0x894f),nsh(flags=255,ttl=1,mdtype=1,np=4,spi=0xffffff,"
        "si=0,c1=0xffffffff,c2=0x0,c3=0x0,c4=0x0)",
    };
    static const char *const masked[] = {
        "eth_type(0x894f),nsh(flags=0x02/0x03,mdtype=1,spi=0x5/0x000000ff,"
        "si=3,c1=0x7/0x0000ffff)",
        "nsh(flags=0,ttl=63,mdtype=1,np=3,spi=0x123,si=255,c1=0x1,c2=0x2,"
        "c3=0x3,c4=0x4)",
        "nsh(ttl=64,np=0x01/0x0f,c1=0x0,c2=0x0,c3=0x0,c4=0x0)",
        "nsh(mdtype=2,c1=0x0,c2=0x0,c3=0x0,c4=0x0,md2=0x0102/0x00ff)",
        "nsh(c1=0x0,c2=0x0,c3=0x0,c4=0x0)",
        "nsh()",
        "nsh(mdtype=0x02/0x0f,c2=0x5/0x000000ff,md2=0x01)",
        "nsh(c1=0x5)",
    };

    (void) state;
    check_round_trips(exact, sizeof exact / sizeof *exact, masked,
                      sizeof masked / sizeof *masked);
}

static void
test_nsh_format(void **state)
{
    struct sbuf sb = SBUF_INIT;
    uint8_t a[64];

    (void) state;
    /* Without a mask c1..c4 print for mdtype 1 only, zero if MD1 is
     * missing; an empty nest prints zeros. */
    check_format("10001c00" "0c000100" "00400103" "00000a05", NULL, false,
                 "nsh(flags=0,ttl=64,mdtype=1,np=3,spi=0xa,si=5,c1=0x0,"
                 "c2=0x0,c3=0x0,c4=0x0)");
    check_format("24001c00" "0c000100" "00400203" "00000a05"
                 "14000200" "00000001" "00000002" "00000003" "00000004",
                 NULL, false,
                 "nsh(flags=0,ttl=64,mdtype=2,np=3,spi=0xa,si=5)");
    check_format("04001c00", NULL, false,
                 "nsh(flags=0,ttl=0,mdtype=0,np=0,spi=0x0,si=0)");
    /* Missing from the mask stream: every field exact, as OVS. */
    check_format("06000600894f0000" "10001c00" "0c000100" "00400203"
                 "00000a05", "06000600ffff0000", false,
                 "eth_type(0x894f),nsh(flags=0,ttl=64,mdtype=2,np=3,"
                 "spi=0xa,si=5,c1=0x0,c2=0x0,c3=0x0,c4=0x0)");
    /* A zero BASE mask leaves the fields out; c1..c4 without an MD1 key
     * attribute keep an exact mask. */
    check_format("10001c00" "0c000100" "00400203" "000000a5",
                 "10001c00" "0c000100" "00000000" "00000000", false,
                 "nsh(c1=0x0,c2=0x0,c3=0x0,c4=0x0)");
    /* Malformed: bad BASE length, bytes left over, an unknown type, an
     * MD2 mask of another length. */
    check_format("0c001c00" "08000100" "01020304", NULL, false,
                 "nsh(key1(bad key length 4, expected 8)(01 02 03 04),"
                 "flags=0,ttl=0,mdtype=0,np=0,spi=0x0,si=0)");
    check_format("0a001c00" "0c000100" "aabb0000", NULL, false,
                 "nsh(***6 leftover bytes*** (0c 00 01 00 aa bb),flags=0,"
                 "ttl=0,mdtype=0,np=0,spi=0x0,si=0)");
    check_format("06001c00" "aabb0000", NULL, false,
                 "nsh(***2 leftover bytes*** (aa bb),flags=0,ttl=0,"
                 "mdtype=0,np=0,spi=0x0,si=0)");
    check_format("0c001c00" "05000700" "ab000000", NULL, false,
                 "nsh(key7(ab),flags=0,ttl=0,mdtype=0,np=0,spi=0x0,si=0)");
    check_format("18001c00" "0c000100" "00000200" "00000000"
                 "06000300" "01020000",
                 "18001c00" "0c000100" "0000ff00" "00000000"
                 "05000300" "00000000", false,
                 "nsh(key3(bad mask length 1, expected 2)(01 02/00),"
                 "mdtype=2,c1=0x0,c2=0x0,c3=0x0,c4=0x0)");
    check_format("10001c00" "0c000100" "00400103" "00000a05",
                 "0c001c00" "08000100" "ffffffff", false,
                 "nsh(key1(bad mask length 4, expected 8)"
                 "(00 40 01 03 00 00 0a 05/ff ff ff ff),flags=0,ttl=0,"
                 "mdtype=0,np=0,spi=0x0,si=0,c1=0x0,c2=0x0,c3=0x0,"
                 "c4=0x0)");

    /* set(nsh(...)) goes through fkey_format_attr(), without a mask. */
    assert_int_equal(hex_to_bytes("18001c00" "0c000100" "00010203"
                                  "00000101" "06000300" "0a0b0000",
                                  a, sizeof a), 24);
    fkey_format_attr((const struct nlattr *) a, NULL, true, &sb);
    assert_string_equal(sbuf_str(&sb), "nsh(flags=0,ttl=1,mdtype=2,np=3,"
                        "spi=0x1,si=1,md2=0x0a0b)");
    sbuf_uninit(&sb);
}

static void
test_nsh_errors(void **state)
{
    char md2[600];

    (void) state;
    check_error("nsh(foo=1)", true, -EINVAL, "nsh: unknown field 'foo'");
    check_error("nsh(flags)", true, -EINVAL,
                "nsh: unknown field 'flags'");
    check_error("nsh(ttl=1,ttl=2)", true, -EINVAL,
                "nsh: duplicate field 'ttl'");
    check_error("nsh(ttl=256)", true, -EINVAL,
                "nsh: bad value for 'ttl' at '256'");
    check_error("nsh(spi=0x1000000)", true, -EINVAL,
                "nsh: bad value for 'spi' at '0x1000000'");
    check_error("nsh(si=1/0x1ff)", true, -EINVAL,
                "nsh: bad mask for 'si' at '0x1ff'");
    check_error("nsh(flags=1/2)", false, -EINVAL,
                "nsh: mask on 'flags' but no mask is being parsed");
    check_error("nsh(mdtype=2,c1=5)", true, -EINVAL,
                "nsh: 'c1' needs mdtype=1");
    check_error("nsh(c4=5)", false, -EINVAL, "nsh: 'c4' needs mdtype=1");
    check_error("nsh(md2=0x01)", false, -EINVAL,
                "nsh: 'md2' needs mdtype=2");
    check_error("nsh(mdtype=1,md2=0x01)", true, -EINVAL,
                "nsh: 'md2' needs mdtype=2");
    check_error("nsh(mdtype=2,md2=0x1)", true, -EINVAL,
                "nsh: md2 needs 0x and 1 to 248 bytes in hex at '0x1'");
    check_error("nsh(mdtype=2,md2=0102)", true, -EINVAL,
                "nsh: md2 needs 0x and 1 to 248 bytes in hex at '0102'");
    check_error("nsh(mdtype=2,md2=0x01/0x0102)", true, -EINVAL,
                "nsh: md2 mask has 2 bytes, value 1");
    check_error("nsh(mdtype=2,md2=0x01/0x01)", false, -EINVAL,
                "nsh: mask on 'md2' but no mask is being parsed");
    check_error("nsh(md2=0x01,md2=0x02)", true, -EINVAL,
                "nsh: duplicate field 'md2'");
    check_error("nsh(flags=1", true, -EINVAL,
                "nsh: expected ',' or ')' at end of input");
    check_error("nsh(flags=1;)", true, -EINVAL,
                "nsh: expected ',' or ')' at ';'");
    check_error("nsh(flags=1,)", true, -EINVAL,
                "nsh: expected a field at ')'");
    check_error("nsh(key7(01))", true, -EINVAL,
                "nsh: unknown field 'key7'");
    /* 249 bytes of md2 are one too many. */
    strcpy(md2, "nsh(mdtype=2,md2=0x");
    for (int i = 0; i < 249; i++) {
        strcat(md2, "ab");
    }
    strcat(md2, ")");
    check_error(md2, true, -EINVAL, "nsh: md2 needs 0x and 1 to 248 bytes "
                "in hex at '0xababababababababababababababababababab'");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_is_little_endian),
        cmocka_unit_test(test_parse_bytes),
        cmocka_unit_test(test_parse_bytes_masked),
        cmocka_unit_test(test_format_exact),
        cmocka_unit_test(test_format_masked),
        cmocka_unit_test(test_format_verbose),
        cmocka_unit_test(test_format_malformed),
        cmocka_unit_test(test_format_attr),
        cmocka_unit_test(test_parse_attr),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_stops),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_raw_type_range),
        cmocka_unit_test(test_errors_name_token),
        cmocka_unit_test(test_mask_only_ethertype),
        cmocka_unit_test(test_deep_encap),
        cmocka_unit_test(test_buffer_too_small),
        cmocka_unit_test(test_tunnel_parse_bytes),
        cmocka_unit_test(test_tunnel_round_trips),
        cmocka_unit_test(test_tunnel_format),
        cmocka_unit_test(test_tunnel_errors),
        cmocka_unit_test(test_nsh_parse_bytes),
        cmocka_unit_test(test_nsh_round_trips),
        cmocka_unit_test(test_nsh_format),
        cmocka_unit_test(test_nsh_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
