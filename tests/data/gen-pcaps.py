#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the packet parser's pcap corpus.

Usage: gen-pcaps.py OUTDIR [--raw RAWDIR]

Writes OUTDIR/corpus.pcap, one Ethernet frame per case in a fixed order,
and OUTDIR/cases.txt, the case names in the same order (one per line).
With --raw, also writes each frame as a raw binary file RAWDIR/<case>
(used to seed tests/fuzz/corpus/packet/).

The output is deterministic: fixed addresses everywhere (scapy's defaults
depend on the host's interfaces and routes), fixed timestamps, and the
pcap file is written by pcaputil.py rather than by scapy.

Cases that cut a frame short inside L4 also shrink the IPv4 total length
or IPv6 payload length to match (see cut_ip()), so that a parser which
honours those fields (OVS userspace) and one that does not (the kernel)
still agree on L3 and both see the short L4 header.  Cases about length
fields themselves say so in their names.
"""

import os
import struct
import sys

# pcaputil first: importing it quietens scapy.
from pcaputil import DST, IP_A, IP_B, SRC, eth, ip4, ip6, write_pcap
from scapy.all import (ARP, Dot1AD, Dot1Q, Dot3, ICMP, ICMPv6EchoRequest,
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,
                       ICMPv6NDOptSrcLLAddr, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrRouting, LLC, SNAP, TCP, UDP, Raw)
from scapy.layers.sctp import SCTP
from scapy.contrib.mpls import MPLS

PAYLOAD = b"weir-payload"


def cut(pkt, n):
    """The first 'n' bytes of 'pkt'."""
    return bytes(pkt)[:n]


def cut_ip(pkt, n, l3_ofs=14):
    """The first 'n' bytes of 'pkt', with the IP length field at 'l3_ofs'
    rewritten to end where the frame now ends."""
    b = bytearray(bytes(pkt)[:n])
    if b[l3_ofs] >> 4 == 4:
        struct.pack_into("!H", b, l3_ofs + 2, n - l3_ofs)
    else:
        struct.pack_into("!H", b, l3_ofs + 4, n - l3_ofs - 40)
    return bytes(b)


def set_u16(pkt, ofs, value):
    b = bytearray(bytes(pkt))
    struct.pack_into("!H", b, ofs, value)
    return bytes(b)


def ah(nh, length_words=4):
    """An IPsec AH header: (length_words + 2) * 4 bytes."""
    size = (length_words + 2) * 4
    return (struct.pack("!BBHII", nh, length_words, 0, 0x1234, 1)
            + b"\xaa" * (size - 12))


def nd_opt(opt_type, length, body=b""):
    data = struct.pack("!BB", opt_type, length) + body
    return data + b"\x00" * (length * 8 - len(data))


def cases():
    """Yields (name, frame bytes) in corpus order."""
    # IPv4 and its transports.
    yield "ipv4_tcp_syn", eth() / ip4() / TCP(sport=1234, dport=80,
                                              flags="S")
    yield "ipv4_tcp_all_flags", eth() / ip4(tos=0xb9, ttl=3) / TCP(
        sport=1, dport=2, flags=0x1ff, reserved=7)
    yield "ipv4_tcp_options", eth() / ip4() / TCP(
        sport=5, dport=6, flags="SA", options=[("MSS", 1460), ("NOP", None),
                                               ("WScale", 7)])
    yield "ipv4_udp", eth() / ip4(tos=0x10) / UDP(sport=53, dport=5353) / \
        PAYLOAD
    yield "ipv4_sctp", eth() / ip4() / SCTP(sport=2905, dport=2906)
    yield "ipv4_icmp_echo", eth() / ip4() / ICMP(type=8, code=0)
    yield "ipv4_icmp_unreach", eth() / ip4() / ICMP(type=3, code=13)
    yield "ipv4_other_proto", eth() / ip4(proto=47) / PAYLOAD
    yield "ipv4_options_tcp", eth() / ip4(
        options=[b"\x94\x04\x00\x00", b"\x01\x01\x01\x00"]) / TCP(
        sport=1000, dport=2000, flags="A")
    yield "ipv4_frag_first", eth() / ip4(flags="MF", id=7) / UDP(
        sport=10, dport=20) / PAYLOAD
    yield "ipv4_frag_later", eth() / ip4(frag=185, id=7, proto=17) / PAYLOAD
    yield "ipv4_frag_last", eth() / ip4(frag=3, id=7, proto=6) / PAYLOAD
    yield "ipv4_df_tcp", eth() / ip4(flags="DF") / TCP(sport=7, dport=8)
    # Padding: a short IPv4 packet in a 60-byte frame with junk trailer.
    yield "ipv4_udp_padding", (bytes(eth() / ip4() / UDP(sport=1, dport=2))
                               + b"\xee" * 18)

    # IPv4 malformations.
    yield "ipv4_bad_ihl_4", eth() / ip4(ihl=4) / UDP(sport=1, dport=2)
    yield "ipv4_bad_ihl_0", eth() / ip4(ihl=0) / UDP(sport=1, dport=2)
    yield "ipv4_ihl_beyond_frame", cut_ip(eth() / ip4(ihl=15) / PAYLOAD,
                                          14 + 24)
    yield "ipv4_totlen_too_long", set_u16(
        eth() / ip4() / UDP(sport=11, dport=12), 16, 400)
    yield "ipv4_totlen_too_short", set_u16(
        eth() / ip4() / TCP(sport=13, dport=14), 16, 20)
    yield "ipv4_trunc_in_header", cut(eth() / ip4() / UDP(), 14 + 10)
    yield "ipv4_trunc_after_header", cut_ip(eth() / ip4() / TCP(), 14 + 20)
    yield "ipv4_tcp_trunc", cut_ip(eth() / ip4() / TCP(sport=1, dport=2),
                                   14 + 20 + 10)
    yield "ipv4_tcp_bad_doff_small", eth() / ip4() / TCP(
        sport=3, dport=4, dataofs=4)
    yield "ipv4_tcp_doff_beyond_frame", eth() / ip4() / TCP(
        sport=3, dport=4, dataofs=15)
    yield "ipv4_udp_trunc", cut_ip(eth() / ip4() / UDP(sport=1, dport=2),
                                   14 + 20 + 4)
    yield "ipv4_sctp_trunc", cut_ip(eth() / ip4() / SCTP(sport=1, dport=2),
                                    14 + 20 + 8)
    yield "ipv4_icmp_trunc", cut_ip(eth() / ip4() / ICMP(type=8),
                                    14 + 20 + 4)

    # Ethernet, VLAN, 802.3.
    yield "eth_trunc_13", cut(eth(type=0x0800) / ip4(), 13)
    yield "eth_only", cut(eth(type=0x88b5), 14)
    yield "vlan_ipv4_udp", eth() / Dot1Q(vlan=10, prio=5) / ip4() / UDP(
        sport=1, dport=2)
    yield "vlan_cfi_set", eth() / Dot1Q(vlan=11, id=1) / ip4() / ICMP()
    yield "qinq_ipv4_tcp", eth() / Dot1AD(vlan=100, prio=1) / Dot1Q(
        vlan=200, prio=2) / ip4() / TCP(sport=9, dport=10)
    yield "qinq_8100_8100", eth() / Dot1Q(vlan=1) / Dot1Q(vlan=2) / ip4()
    yield "vlan_3_tags", eth() / Dot1AD(vlan=1) / Dot1Q(vlan=2) / Dot1Q(
        vlan=3) / ip4() / UDP()
    yield "vlan_trunc_no_type", cut(eth() / Dot1Q(vlan=5) / ip4(), 14 + 2)
    yield "vlan_trunc_tpid_only", cut(eth() / Dot1Q(vlan=5) / ip4(), 14)
    yield "vlan_trunc_inner", cut(eth() / Dot1AD(vlan=6) / Dot1Q(vlan=7) /
                                  ip4(), 14 + 4 + 2)
    yield "vlan_ipv4_trunc", cut(eth() / Dot1Q(vlan=8) / ip4(), 18 + 12)
    yield "llc_802_2", Dot3(src=SRC, dst=DST) / LLC(
        dsap=0x42, ssap=0x42, ctrl=3) / PAYLOAD
    yield "llc_short", Dot3(src=SRC, dst=DST, len=3) / b"\x42\x42\x03"
    yield "snap_ipv4_udp", Dot3(src=SRC, dst=DST) / LLC(
        dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=0x0800) / ip4() / \
        UDP(sport=31, dport=32)
    yield "snap_oui_nonzero", Dot3(src=SRC, dst=DST) / LLC(
        dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0x00000c, code=0x2000) / \
        PAYLOAD
    yield "snap_small_type", Dot3(src=SRC, dst=DST) / LLC(
        dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=0x0100) / PAYLOAD

    # MPLS.
    yield "mpls_1", eth() / MPLS(label=100, cos=3, ttl=64, s=1) / ip4()
    yield "mpls_2", eth() / MPLS(label=100, cos=1, ttl=9, s=0) / MPLS(
        label=200, cos=2, ttl=8, s=1) / ip4()
    yield "mpls_3", eth() / MPLS(label=1, s=0, ttl=1) / MPLS(
        label=2, s=0, ttl=2) / MPLS(label=3, s=1, ttl=3) / ip4()
    yield "mpls_4", eth() / MPLS(label=1, s=0) / MPLS(label=2, s=0) / MPLS(
        label=3, s=0) / MPLS(label=4, s=1, ttl=4) / ip4()
    yield "mpls_mcast", eth(type=0x8848) / MPLS(label=77, s=1, ttl=5)
    yield "mpls_no_bos", eth(type=0x8847) / MPLS(label=5, s=0) / MPLS(
        label=6, s=0)
    yield "mpls_trunc_lse", cut(eth() / MPLS(label=9, s=1), 14 + 2)

    # IPv6 and its extension headers.
    yield "ipv6_tcp", eth() / ip6() / TCP(sport=1234, dport=80, flags="S")
    yield "ipv6_udp_label_tclass", eth() / ip6(tc=0xb8, fl=0xabcde,
                                               hlim=17) / UDP(
        sport=546, dport=547)
    yield "ipv6_sctp", eth() / ip6() / SCTP(sport=3868, dport=3869)
    yield "ipv6_hbh_udp", eth() / ip6() / IPv6ExtHdrHopByHop() / UDP(
        sport=1, dport=2)
    yield "ipv6_routing_tcp", eth() / ip6() / IPv6ExtHdrRouting(
        addresses=["2001:db8::9"]) / TCP(sport=3, dport=4)
    yield "ipv6_dstopt_udp", eth() / ip6() / IPv6ExtHdrDestOpt() / UDP(
        sport=5, dport=6)
    yield "ipv6_frag_first_udp", eth() / ip6() / IPv6ExtHdrFragment(
        offset=0, m=1, id=99) / UDP(sport=7, dport=8)
    yield "ipv6_frag_later", eth() / ip6() / IPv6ExtHdrFragment(
        offset=100, m=0, id=99, nh=17) / PAYLOAD
    yield "ipv6_frag_atomic", eth() / ip6() / IPv6ExtHdrFragment(
        offset=0, m=0, id=5) / TCP(sport=11, dport=12)
    yield "ipv6_ah_tcp", eth() / ip6(nh=51) / Raw(ah(6)) / TCP(
        sport=13, dport=14)
    yield "ipv6_esp", eth() / ip6(nh=50) / Raw(
        struct.pack("!II", 0x100, 1) + PAYLOAD)
    yield "ipv6_no_next", eth() / ip6(nh=59)
    yield "ipv6_chain_all", eth() / ip6() / IPv6ExtHdrHopByHop() / \
        IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting() / IPv6ExtHdrFragment(
            offset=0, m=1) / IPv6ExtHdrDestOpt() / UDP(sport=15, dport=16)
    yield "ipv6_chain_unseq", eth() / ip6() / IPv6ExtHdrDestOpt() / \
        IPv6ExtHdrHopByHop() / TCP(sport=17, dport=18)
    yield "ipv6_trunc_header", cut(eth() / ip6() / TCP(), 14 + 30)
    yield "ipv6_trunc_exthdr", cut_ip(eth() / ip6() / IPv6ExtHdrHopByHop() /
                                      UDP(), 14 + 40 + 1)
    yield "ipv6_trunc_frag_hdr", cut_ip(eth() / ip6() / IPv6ExtHdrFragment(
        offset=0, m=1) / UDP(), 14 + 40 + 3)
    yield "ipv6_tcp_trunc", cut_ip(eth() / ip6() / TCP(sport=1, dport=2),
                                   14 + 40 + 12)
    yield "ipv6_udp_trunc", cut_ip(eth() / ip6() / UDP(sport=1, dport=2),
                                   14 + 40 + 6)
    yield "ipv6_frag_later_then_dstopt", eth() / ip6() / IPv6ExtHdrFragment(
        offset=8, nh=60) / Raw(b"\x11\x00" + b"\x00" * 6) / PAYLOAD
    yield "ipv6_plen_too_long", set_u16(eth() / ip6() / UDP(sport=21,
                                                             dport=22),
                                        18, 500)

    # ICMPv6 and neighbour discovery.
    yield "icmpv6_echo", eth() / ip6() / ICMPv6EchoRequest()
    yield "icmpv6_trunc", cut_ip(eth() / ip6() / ICMPv6EchoRequest(),
                                 14 + 40 + 4)
    yield "nd_ns_sll", eth() / ip6(hlim=255) / ICMPv6ND_NS(
        tgt="fe80::1") / ICMPv6NDOptSrcLLAddr(lladdr="00:11:22:33:44:55")
    yield "nd_na_tll", eth() / ip6(hlim=255) / ICMPv6ND_NA(
        tgt="fe80::2", R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(
        lladdr="66:77:88:99:aa:bb")
    yield "nd_ns_no_opts", eth() / ip6(hlim=255) / ICMPv6ND_NS(
        tgt="2001:db8::77")
    yield "nd_na_sll_and_tll", eth() / ip6(hlim=255) / ICMPv6ND_NA(
        tgt="fe80::3") / ICMPv6NDOptSrcLLAddr(
        lladdr="00:00:00:00:00:01") / ICMPv6NDOptDstLLAddr(
        lladdr="00:00:00:00:00:02")
    yield "nd_ns_dup_sll", eth() / ip6(hlim=255) / ICMPv6ND_NS(
        tgt="fe80::4") / ICMPv6NDOptSrcLLAddr(
        lladdr="00:00:00:00:00:03") / ICMPv6NDOptSrcLLAddr(
        lladdr="00:00:00:00:00:04")
    yield "nd_ns_opt_len_0", eth() / ip6(hlim=255) / ICMPv6ND_NS(
        tgt="fe80::5") / Raw(nd_opt(1, 0) + b"\x00" * 6)
    yield "nd_ns_opt_overlong", eth() / ip6(hlim=255) / ICMPv6ND_NS(
        tgt="fe80::6") / Raw(nd_opt(1, 1, b"\x00\x00\x00\x00\x00\x05")
                             + struct.pack("!BB", 2, 2) + b"\x00" * 6)
    yield "nd_ns_unknown_opt", eth() / ip6(hlim=255) / ICMPv6ND_NS(
        tgt="fe80::7") / Raw(nd_opt(14, 1, b"\x01" * 6)) / \
        ICMPv6NDOptSrcLLAddr(lladdr="00:00:00:00:00:06")
    yield "nd_ns_code_1", eth() / ip6(hlim=255) / ICMPv6ND_NS(
        code=1, tgt="fe80::8") / ICMPv6NDOptSrcLLAddr(
        lladdr="00:00:00:00:00:07")
    yield "nd_trunc_target", cut_ip(eth() / ip6(hlim=255) / ICMPv6ND_NS(
        tgt="fe80::9"), 14 + 40 + 8 + 10)
    yield "nd_trunc_option", cut_ip(eth() / ip6(hlim=255) / ICMPv6ND_NS(
        tgt="fe80::a") / ICMPv6NDOptSrcLLAddr(lladdr="00:00:00:00:00:08"),
        14 + 40 + 24 + 6)

    # ARP.
    yield "arp_request", eth(dst="ff:ff:ff:ff:ff:ff") / ARP(
        op=1, hwsrc=SRC, psrc=IP_A, hwdst="00:00:00:00:00:00", pdst=IP_B)
    yield "arp_reply", eth() / ARP(op=2, hwsrc=SRC, psrc=IP_A, hwdst=DST,
                                   pdst=IP_B)
    yield "arp_op_300", eth() / ARP(op=300, hwsrc=SRC, psrc=IP_A, hwdst=DST,
                                    pdst=IP_B)
    yield "arp_op_255", eth() / ARP(op=255, hwsrc=SRC, psrc=IP_A, hwdst=DST,
                                    pdst=IP_B)
    yield "arp_bad_hlen", eth() / ARP(op=1, hwlen=8, hwsrc=SRC, psrc=IP_A,
                                      pdst=IP_B)
    yield "arp_trunc", cut(eth() / ARP(op=1, hwsrc=SRC, psrc=IP_A,
                                       pdst=IP_B), 14 + 20)
    yield "rarp_request", eth(type=0x8035) / ARP(
        op=3, hwsrc=SRC, psrc="0.0.0.0", hwdst=SRC, pdst="0.0.0.0")


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--raw"):
        sys.stderr.write("usage: gen-pcaps.py OUTDIR [--raw RAWDIR]\n")
        return 2
    outdir = argv[1]
    names, frames = [], []
    for name, pkt in cases():
        assert name not in names, name
        names.append(name)
        frames.append(bytes(pkt))

    os.makedirs(outdir, exist_ok=True)
    write_pcap(os.path.join(outdir, "corpus.pcap"), frames)
    with open(os.path.join(outdir, "cases.txt"), "w") as f:
        f.write("".join(n + "\n" for n in names))
    if len(argv) == 4:
        os.makedirs(argv[3], exist_ok=True)
        for name, frame in zip(names, frames):
            with open(os.path.join(argv[3], name), "wb") as f:
                f.write(frame)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
