#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the action executor's golden cases.

Usage: gen-action-goldens.py OUTDIR

For each case, OUTDIR/<case>/ holds:

  actions       the action list, ovs-dpctl text (one line)
  input.pcap    the packets, run through the actions as one batch
  out-<N>.pcap  the packets expected on datapath port N, in order
  upcalls.pcap  the packets expected in userspace() upcalls, in order
  recirc.pcap   the packets expected to be recirculated, in order
  expect        everything else, one item per line:
                  in_port N        input port (default 1)
                  depth N          recirculation depth of the pass (0)
                  random N         what the environment's random() returns
                  validate key     act_validate() with the first packet's
                                   key (the default); "validate none"
                                   without a key, for lists that only a
                                   keyless check accepts
                  supported no     dpx_check_supported() must refuse
                  drop REASON N    N packets dropped for REASON (drop.h
                                   names); reasons not listed: 0
                  upcall pid=N userdata=HEX|- actions=TEXT|- [priority=N]
                         [mark=N] [dp_hash=N|nonzero]
                                   one per expected upcall, in order
                  recirc id=N depth=N [priority=N] [mark=N]
                         [dp_hash=N|nonzero] [l3_type=N]
                                   one per recirculated packet, in order
                  hash-groups G...  recirculated packets with equal G have
                                   equal dp_hash, others differ
and OUTDIR/cases.txt lists the case names in order.

Expected packets are built by scapy from the input with the fields the
actions change set to their new values and every checksum recomputed by
scapy from scratch; nothing here runs weir's code.  Where scapy cannot
rebuild a packet (truncated headers), the expected bytes are the input's
with the changed bytes patched and the IPv4 header checksum recomputed with
scapy's checksum().  Deterministic: fixed addresses, timestamps, payloads.
"""

import os
import struct
import sys

# pcaputil first: importing it quietens scapy.
from pcaputil import IP_A, IP_B, eth, ip4, ip6, write_pcap
from scapy.all import (ARP, Dot1Q, Ether, ICMP, ICMPv6EchoRequest, IP,
                       IPv6, IPv6ExtHdrFragment, IPv6ExtHdrRouting, TCP,
                       UDP, Raw, checksum)
from scapy.layers.sctp import SCTP
from scapy.contrib.mpls import MPLS

PAYLOAD = b"weir-action-goldens-payload"


def frozen(pkt):
    """'pkt' built (lengths, checksums) and parsed back, so that copies and
    edits start from its real bytes."""
    return Ether(bytes(pkt))


def rebuilt(pkt):
    """bytes of 'pkt' with every checksum recomputed by scapy, except a
    UDP checksum of 0 (none), which stays 0."""
    pkt = pkt.copy()
    lay = pkt
    while lay:
        for field in ("chksum", "cksum"):
            if field in lay.fields:
                if not (isinstance(lay, UDP) and lay.chksum == 0):
                    setattr(lay, field, None)
        lay = lay.payload
    return bytes(pkt)


def tcp4(**kw):
    return frozen(eth() / ip4(**kw) / TCP(sport=1000, dport=80, flags="PA",
                                          seq=1, ack=2) / PAYLOAD)


def udp4(**kw):
    return frozen(eth() / ip4(**kw) / UDP(sport=1000, dport=53) / PAYLOAD)


def tcp6(**kw):
    return frozen(eth() / ip6(**kw) / TCP(sport=1000, dport=80, flags="PA")
                  / PAYLOAD)


def udp6(**kw):
    return frozen(eth() / ip6(**kw) / UDP(sport=1000, dport=53) / PAYLOAD)


def patch_ipv4(frame, l3, **fields):
    """'frame' (bytes) with IPv4 header fields at 'l3' patched (ttl, tos,
    src, dst as dotted quads) and the header checksum recomputed by
    scapy's checksum()."""
    b = bytearray(frame)
    if "tos" in fields:
        b[l3 + 1] = fields["tos"]
    if "ttl" in fields:
        b[l3 + 8] = fields["ttl"]
    for name, ofs in (("src", 12), ("dst", 16)):
        if name in fields:
            b[l3 + ofs:l3 + ofs + 4] = bytes(int(x) for x in
                                             fields[name].split("."))
    ihl = (b[l3] & 0x0f) * 4
    b[l3 + 10:l3 + 12] = b"\x00\x00"
    struct.pack_into("!H", b, l3 + 10, checksum(bytes(b[l3:l3 + ihl])))
    return bytes(b)


class Case:
    def __init__(self, name, actions, inputs, outs=None, upcalls=(),
                 recircs=(), drops=None, validate="key", supported=True,
                 random=0, depth=0, hash_groups=None, in_port=1):
        self.name = name
        self.actions = actions
        self.inputs = [bytes(p) for p in inputs]
        self.outs = {port: [bytes(p) for p in pkts]
                     for port, pkts in (outs or {}).items()}
        self.upcalls = [(bytes(p), tokens) for p, tokens in upcalls]
        self.recircs = [(bytes(p), tokens) for p, tokens in recircs]
        self.drops = drops or {}
        self.validate = validate
        self.supported = supported
        self.random = random
        self.depth = depth
        self.hash_groups = hash_groups
        self.in_port = in_port


def up(pkt, pid=1, userdata="-", actions="-", **md):
    """An expected upcall of 'pkt'."""
    tokens = "pid=%d userdata=%s actions=%s" % (pid, userdata, actions)
    for k, v in md.items():
        tokens += " %s=%s" % (k, v)
    return pkt, tokens


def rc(pkt, rid, depth=1, **md):
    """An expected recirculation of 'pkt'."""
    tokens = "id=%d depth=%d" % (rid, depth)
    for k, v in md.items():
        tokens += " %s=%s" % (k, v)
    return pkt, tokens


def basic_cases():
    t = tcp4()
    u = udp4()
    yield Case("output_single", "1", [t], {1: [t]})
    batch = [tcp4(), udp4(), tcp6()]
    yield Case("output_batch", "2", batch, {2: batch})
    yield Case("output_multi", "1,2,3", [t, u], {1: [t, u], 2: [t, u],
                                                 3: [t, u]})
    yield Case("output_same_port_twice", "4,4", [t], {4: [t, t]})
    yield Case("empty_actions", "drop", [t, u], drops={"action_drop": 2})
    yield Case("no_output_end", "set(skb_mark(5))", [t],
               drops={"action_drop": 1})
    big = frozen(eth() / ip4() / UDP(sport=1, dport=2) / (b"x" * 200))
    yield Case("trunc_output", "trunc(100),1,2", [big],
               {1: [bytes(big)[:100]], 2: [big]})
    yield Case("trunc_last_output", "trunc(60),3", [big],
               {3: [bytes(big)[:60]]})
    yield Case("trunc_longer_than_packet", "trunc(1000),1", [t], {1: [t]})
    yield Case("trunc_twice", "trunc(100),trunc(70),1,trunc(50),2", [big],
               {1: [bytes(big)[:70]], 2: [bytes(big)[:50]]})
    yield Case("trunc_clone", "trunc(80),clone(1),2", [big],
               {1: [bytes(big)[:80]], 2: [bytes(big)[:80]]})
    yield Case("trunc_userspace", "trunc(64),userspace(pid=3),1", [big],
               {1: [big]}, upcalls=[up(bytes(big)[:64], pid=3,
                                       keycheck="no")])


def userspace_cases():
    t = tcp4()
    yield Case("userspace_userdata", "userspace(pid=7,userdata(0a0b0c0d))",
               [t], upcalls=[up(t, pid=7, userdata="0a0b0c0d")])
    yield Case("userspace_actions", "userspace(pid=7,actions),1", [t],
               {1: [t]}, upcalls=[up(t, pid=7,
                                     actions="userspace(pid=7,actions),1")])
    yield Case("userspace_in_clone_actions",
               "clone(userspace(pid=2,actions)),1", [t], {1: [t]},
               upcalls=[up(t, pid=2, actions="userspace(pid=2,actions)")])
    yield Case("userspace_tunnel_port", "userspace(pid=7,tunnel_out_port=3)",
               [t], upcalls=[up(t, pid=7)])
    yield Case("userspace_batch", "userspace(pid=9),2", [t, udp4()],
               {2: [t, udp4()]}, upcalls=[up(t, pid=9), up(udp4(), pid=9)])
    yield Case("set_metadata_userspace",
               "set(skb_priority(0x5)),set(skb_mark(0x10)),"
               "userspace(pid=1),set(skb_mark(0x3/0xf)),userspace(pid=1)",
               [t], upcalls=[up(t, priority=5, mark=0x10),
                             up(t, priority=5, mark=0x13)])


def set_l2_cases():
    t = tcp4()
    e = t.copy()
    e[Ether].src = "02:aa:bb:cc:dd:ee"
    e[Ether].dst = "02:11:22:33:44:55"
    yield Case("set_eth", "set(eth(src=02:aa:bb:cc:dd:ee,"
               "dst=02:11:22:33:44:55)),1", [t], {1: [e]})
    e = t.copy()
    e[Ether].dst = "12:11:12:13:14:15"
    yield Case("set_eth_masked",
               "set(eth(dst=02:00:00:00:00:00/02:00:00:00:00:00)),1", [t],
               {1: [e]})
    v = frozen(eth() / Dot1Q(vlan=7) / ip4() / UDP() / PAYLOAD)
    e = v.copy()
    e[Ether].src = "02:aa:bb:cc:dd:ee"
    yield Case("set_eth_vlan", "set(eth(src=02:aa:bb:cc:dd:ee)),1", [v],
               {1: [e]})


def set_ipv4_cases():
    t, u = tcp4(), udp4()

    def ch(pkt, **fields):
        e = pkt.copy()
        for k, v in fields.items():
            setattr(e[IP], k, v)
        return rebuilt(e)

    yield Case("set_ipv4_src_tcp", "set(ipv4(src=192.168.1.1)),1", [t],
               {1: [ch(t, src="192.168.1.1")]})
    yield Case("set_ipv4_dst_udp", "set(ipv4(dst=172.16.5.4)),1", [u],
               {1: [ch(u, dst="172.16.5.4")]})
    u0 = frozen(eth() / ip4() / UDP(sport=1000, dport=53, chksum=0) /
                PAYLOAD)
    yield Case("set_ipv4_udp_csum_zero",
               "set(ipv4(src=1.1.1.1,dst=2.2.2.2)),1", [u0],
               {1: [ch(u0, src="1.1.1.1", dst="2.2.2.2")]})
    yield Case("set_ipv4_tos", "set(ipv4(tos=0xb8)),1", [t],
               {1: [ch(t, tos=0xb8)]})
    yield Case("set_ipv4_ttl", "set(ipv4(ttl=3)),1", [t],
               {1: [ch(t, ttl=3)]})
    yield Case("set_ipv4_all",
               "set(ipv4(src=9.8.7.6,dst=5.4.3.2,proto=6,tos=0x4,ttl=200,"
               "frag=no)),1", [t],
               {1: [ch(t, src="9.8.7.6", dst="5.4.3.2", tos=4, ttl=200)]})
    yield Case("set_ipv4_masked",
               "set(ipv4(src=192.168.0.0/255.255.0.0,tos=0x3/0x3)),1", [t],
               {1: [ch(t, src="192.168.0.1", tos=3)]})
    yield Case("set_ipv4_same_value", "set(ipv4(src=10.0.0.1)),1", [t],
               {1: [t]})
    i = frozen(eth() / ip4() / ICMP(type=8, id=1, seq=2) / PAYLOAD)
    yield Case("set_ipv4_icmp", "set(ipv4(src=3.3.3.3,ttl=1)),1", [i],
               {1: [ch(i, src="3.3.3.3", ttl=1)]})
    o = frozen(eth() / ip4(options=b"\x94\x04\x00\x00") /
               TCP(sport=1, dport=2) / PAYLOAD)
    yield Case("set_ipv4_options", "set(ipv4(dst=4.4.4.4)),1", [o],
               {1: [ch(o, dst="4.4.4.4")]})
    # First fragment: the TCP header is there and is updated.  A later
    # fragment's transport checksum is not touched (only IP's).
    f1 = frozen(eth() / ip4(flags="MF") / TCP(sport=5, dport=6) / PAYLOAD)
    yield Case("set_ipv4_first_fragment", "set(ipv4(src=7.7.7.7)),1", [f1],
               {1: [ch(f1, src="7.7.7.7")]})
    f2 = frozen(eth() / ip4(frag=100, proto=6) / Raw(b"\x01" * 40))
    yield Case("set_ipv4_later_fragment", "set(ipv4(src=7.7.7.7)),1", [f2],
               {1: [ch(f2, src="7.7.7.7")]})
    v = frozen(eth() / Dot1Q(vlan=9) / ip4() / TCP(sport=1, dport=2) /
               PAYLOAD)
    yield Case("set_ipv4_vlan", "set(ipv4(ttl=9)),1", [v],
               {1: [ch(v, ttl=9)]})


def set_ipv6_cases():
    t, u = tcp6(), udp6()

    def ch(pkt, **fields):
        e = pkt.copy()
        for k, v in fields.items():
            setattr(e[IPv6], k, v)
        return rebuilt(e)

    yield Case("set_ipv6_src_tcp", "set(ipv6(src=2001:db8::99)),1", [t],
               {1: [ch(t, src="2001:db8::99")]})
    yield Case("set_ipv6_dst_udp", "set(ipv6(dst=fe80::1)),1", [u],
               {1: [ch(u, dst="fe80::1")]})
    i = frozen(eth() / ip6() / ICMPv6EchoRequest(id=1, seq=2, data=PAYLOAD))
    yield Case("set_ipv6_icmpv6", "set(ipv6(src=2001:db8::7)),1", [i],
               {1: [ch(i, src="2001:db8::7")]})
    yield Case("set_ipv6_tclass", "set(ipv6(tclass=0xb8)),1", [t],
               {1: [ch(t, tc=0xb8)]})
    yield Case("set_ipv6_label", "set(ipv6(label=0x12345)),1", [t],
               {1: [ch(t, fl=0x12345)]})
    yield Case("set_ipv6_hlimit", "set(ipv6(hlimit=7)),1", [t],
               {1: [ch(t, hlim=7)]})
    # Every writable field (proto and frag are not; with them the text
    # would be a set(), which the codec writes as set_masked because the
    # label mask has 20 bits: act_validate() refuses it).
    yield Case("set_ipv6_all",
               "set(ipv6(src=::1,dst=::2,label=0xfffff,tclass=0xff,"
               "hlimit=255)),1", [t],
               {1: [ch(t, src="::1", dst="::2", fl=0xfffff, tc=0xff,
                       hlim=255)]})
    yield Case("set_ipv6_masked",
               "set(ipv6(dst=2001:db8:ffff::/ffff:ffff:ffff::,"
               "label=0x5/0xf)),1", [t],
               {1: [ch(t, dst="2001:db8:ffff::2", fl=0x5)]})
    # A routing header with segments left: the pseudo header holds the
    # final destination, so a new IPv6 destination leaves the checksum.
    for segleft in (0, 1):
        r = frozen(eth() / ip6() / IPv6ExtHdrRouting(
            addresses=["2001:db8::9"], segleft=segleft) /
            TCP(sport=1, dport=2) / PAYLOAD)
        yield Case("set_ipv6_dst_routing_segleft%d" % segleft,
                   "set(ipv6(dst=2001:db8::5)),1", [r],
                   {1: [ch(r, dst="2001:db8::5")]})
    fr = frozen(eth() / ip6() / IPv6ExtHdrFragment(offset=0, m=1, id=5) /
                UDP(sport=3, dport=4) / PAYLOAD)
    yield Case("set_ipv6_first_fragment", "set(ipv6(src=2001:db8::8)),1",
               [fr], {1: [ch(fr, src="2001:db8::8")]})


def set_l4_cases():
    def ports(pkt, layer, **fields):
        e = pkt.copy()
        for k, v in fields.items():
            setattr(e[layer], k, v)
        return rebuilt(e)

    t, u = tcp4(), udp4()
    yield Case("set_tcp_ports", "set(tcp(src=4321,dst=8080)),1", [t],
               {1: [ports(t, TCP, sport=4321, dport=8080)]})
    yield Case("set_tcp_masked", "set(tcp(dst=0x100/0xff00)),1", [t],
               {1: [ports(t, TCP, dport=0x150)]})
    yield Case("set_tcp_ipv6", "set(tcp(src=1)),1", [tcp6()],
               {1: [ports(tcp6(), TCP, sport=1)]})
    yield Case("set_udp_ports", "set(udp(src=5353,dst=5354)),1", [u],
               {1: [ports(u, UDP, sport=5353, dport=5354)]})
    u0 = frozen(eth() / ip4() / UDP(sport=1000, dport=53, chksum=0) /
                PAYLOAD)
    yield Case("set_udp_csum_zero", "set(udp(dst=99)),1", [u0],
               {1: [ports(u0, UDP, dport=99)]})
    yield Case("set_udp_ipv6", "set(udp(src=7,dst=8)),1", [udp6()],
               {1: [ports(udp6(), UDP, sport=7, dport=8)]})
    s = frozen(eth() / ip4() / SCTP(sport=100, dport=200, tag=7) / PAYLOAD)
    yield Case("set_sctp_ports", "set(sctp(src=300,dst=400)),1", [s],
               {1: [ports(s, SCTP, sport=300, dport=400)]})
    # A wrong CRC stays wrong by the same amount (kernel set_sctp()).
    good = bytes(s)
    bad = bytearray(good)
    bad[14 + 20 + 8] ^= 0x5a
    want = bytearray(ports(s, SCTP, dport=9))
    want[14 + 20 + 8] ^= 0x5a
    yield Case("set_sctp_bad_csum", "set(sctp(dst=9)),1", [bytes(bad)],
               {1: [bytes(want)]})
    s6 = frozen(eth() / ip6() / SCTP(sport=1, dport=2) / PAYLOAD)
    yield Case("set_sctp_ipv6", "set(sctp(src=3)),1", [s6],
               {1: [ports(s6, SCTP, sport=3)]})


def short_cases():
    t = bytes(tcp4())
    # TCP header cut to 10 bytes: the key has no ports; set(tcp) fails and
    # the kernel drops the packet.  set(ipv4) still works (the L4 checksum
    # is left alone: the transport header is too short).
    short_tcp = t[:14 + 20 + 10]
    yield Case("short_set_tcp", "set(tcp(src=1)),1", [short_tcp],
               drops={"malformed": 1})
    yield Case("short_set_ipv4_l4_cut", "set(ipv4(src=1.2.3.4)),1",
               [short_tcp], {1: [patch_ipv4(short_tcp, 14, src="1.2.3.4")]})
    short_udp = bytes(udp4())[:14 + 20 + 6]
    yield Case("short_set_udp", "set(udp(dst=1)),1", [short_udp],
               drops={"malformed": 1})
    short_ip = t[:14 + 16]
    yield Case("short_set_ipv4", "set(ipv4(ttl=1)),1", [short_ip],
               drops={"malformed": 1})
    yield Case("short_dec_ttl_ipv4", "dec_ttl(le_1(drop)),1", [short_ip],
               drops={"malformed": 1})
    short_ip6 = bytes(udp6())[:14 + 30]
    yield Case("short_set_ipv6", "set(ipv6(hlimit=1)),1", [short_ip6],
               drops={"malformed": 1})
    short_sctp = bytes(frozen(eth() / ip4() / SCTP(sport=1, dport=2)))[:40]
    yield Case("short_set_sctp", "set(sctp(src=5)),1", [short_sctp],
               drops={"malformed": 1})
    # Frames under 14 bytes have no key: the datapath drops them before
    # any action (the runner does what dp.c does).
    yield Case("short_frame_13_bytes", "1", [t[:13], t],
               {1: [t]}, drops={"too_short": 1})
    # Only the later fragment is unharmed (the kernel would write "ports"
    # into its payload; weir leaves it alone).
    f2 = frozen(eth() / ip4(frag=100, proto=6) / Raw(b"\x01" * 40))
    yield Case("set_tcp_later_fragment", "set(tcp(src=1)),1", [f2],
               {1: [f2]})
    batch = [t, short_tcp, t]
    e = tcp4()
    e[TCP].sport = 1
    want = rebuilt(e)
    yield Case("short_in_batch", "set(tcp(src=1)),1", batch,
               {1: [want, want]}, drops={"malformed": 1})


def vlan_cases():
    t = tcp4()
    payload = t[Ether].payload
    q = frozen(eth() / Dot1Q(prio=3, vlan=10) / payload)
    yield Case("push_vlan_8021q", "push_vlan(vid=10,pcp=3),1", [t], {1: [q]})
    ad = frozen(eth(type=0x88a8) / Dot1Q(prio=0, vlan=20) / payload)
    yield Case("push_vlan_8021ad", "push_vlan(tpid=0x88a8,vid=20,pcp=0),1",
               [t], {1: [ad]})
    qinq = frozen(eth(type=0x88a8) / Dot1Q(prio=1, vlan=100, type=0x8100) /
                  Dot1Q(prio=3, vlan=10) / payload)
    yield Case("push_vlan_double",
               "push_vlan(vid=10,pcp=3),push_vlan(tpid=0x88a8,vid=100,"
               "pcp=1),1", [t], {1: [qinq]})
    yield Case("push_vlan_on_tagged", "push_vlan(tpid=0x88a8,vid=100,pcp=1),"
               "userspace(pid=1),1", [q], {1: [qinq]}, upcalls=[up(qinq)])
    yield Case("pop_vlan_single", "pop_vlan,1", [q], {1: [t]})
    yield Case("pop_vlan_double", "pop_vlan,userspace(pid=1),1", [qinq],
               {1: [q]}, upcalls=[up(q)])
    yield Case("pop_vlan_both", "pop_vlan,pop_vlan,1", [qinq], {1: [t]})
    yield Case("pop_vlan_untagged", "pop_vlan,1", [t], {1: [t]})
    trunc_tag = bytes(eth(type=0x8100)) + b"\x00\x05"
    yield Case("pop_vlan_truncated_tag", "pop_vlan,1", [trunc_tag],
               drops={"malformed": 1}, validate="none")
    e = q.copy()
    e[IP].ttl = 5
    yield Case("push_vlan_then_set_ipv4", "push_vlan(vid=10,pcp=3),"
               "set(ipv4(ttl=5)),1", [t], {1: [rebuilt(e)]})
    e = t.copy()
    e[TCP].dport = 443
    yield Case("pop_vlan_then_set_tcp", "pop_vlan,set(tcp(dst=443)),1", [q],
               {1: [rebuilt(e)]})
    yield Case("push_vlan_cfi_cleared",
               "push_vlan(vid=4095,pcp=7),userspace(pid=1),1", [t],
               {1: [frozen(eth() / Dot1Q(prio=7, vlan=4095) / payload)]},
               upcalls=[up(frozen(eth() / Dot1Q(prio=7, vlan=4095) /
                                  payload))])


def mpls_cases():
    u = udp4()
    payload = u[Ether].payload
    one = frozen(eth() / MPLS(label=100, cos=3, s=1, ttl=64) / payload)
    yield Case("push_mpls_ipv4",
               "push_mpls(label=100,tc=3,ttl=64,bos=1,eth_type=0x8847),"
               "userspace(pid=1),1", [u], {1: [one]}, upcalls=[up(one)])
    two = frozen(eth() / MPLS(label=200, cos=0, s=0, ttl=10) /
                 MPLS(label=100, cos=3, s=1, ttl=64) / payload)
    yield Case("push_mpls_on_mpls",
               "push_mpls(label=200,tc=0,ttl=10,bos=0,eth_type=0x8847),1",
               [one], {1: [two]})
    mc = bytearray(bytes(one))
    mc[12:14] = b"\x88\x48"
    yield Case("push_mpls_multicast",
               "push_mpls(label=100,tc=3,ttl=64,bos=1,eth_type=0x8848),1",
               [u], {1: [bytes(mc)]})
    yield Case("pop_mpls_to_ipv4", "pop_mpls(eth_type=0x800),"
               "userspace(pid=1),1", [one], {1: [u]}, upcalls=[up(u)])
    yield Case("pop_mpls_inner", "pop_mpls(eth_type=0x8847),1", [two],
               {1: [one]})
    yield Case("pop_mpls_not_mpls", "pop_mpls(eth_type=0x800),1", [u],
               {1: [u]}, validate="none")
    sw = frozen(eth() / MPLS(label=5000, cos=1, s=1, ttl=9) / payload)
    yield Case("set_mpls", "set(mpls(label=5000,tc=1,ttl=9,bos=1)),1",
               [one], {1: [sw]})
    ttl = frozen(eth() / MPLS(label=100, cos=3, s=1, ttl=63) / payload)
    yield Case("set_mpls_masked_ttl", "set(mpls(ttl=63/0xff)),1", [one],
               {1: [ttl]})
    l3 = bytes(frozen(eth() / MPLS(label=7, cos=0, s=1, ttl=2) / payload))
    yield Case("add_mpls_l3_flag",
               "add_mpls(label=7,tc=0,ttl=2,bos=1,eth_type=0x8847,"
               "tun_flags=1),1", [u], {1: [l3]})
    # Without the flag the label goes in front of the whole frame (an L3
    # packet); push_eth makes it a frame again.
    eo = frozen(eth(src="02:00:00:00:00:01", dst="02:00:00:00:00:02",
                    type=0x8847) / MPLS(label=7, cos=0, s=1, ttl=2) /
                Raw(bytes(u)))
    yield Case("add_mpls_l2_push_eth",
               "add_mpls(label=7,tc=0,ttl=2,bos=1,eth_type=0x8847),"
               "push_eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02),1",
               [u], {1: [eo]})
    yield Case("add_mpls_l2_output",
               "add_mpls(label=7,tc=0,ttl=2,bos=1,eth_type=0x8847),1", [u],
               drops={"no_ethernet": 1})


def eth_cases():
    u = udp4()
    payload = bytes(u[Ether].payload)
    e = frozen(eth(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") /
               u[Ether].payload)
    yield Case("pop_push_eth", "pop_eth,push_eth(src=02:00:00:00:00:01,"
               "dst=02:00:00:00:00:02),1", [u], {1: [e]})
    yield Case("pop_eth_output", "pop_eth,1", [u],
               drops={"no_ethernet": 1})
    yield Case("pop_eth_userspace", "pop_eth,userspace(pid=4)", [u],
               upcalls=[up(payload, pid=4)])
    # The L3 packet goes round with its type in its metadata.
    yield Case("pop_eth_recirc", "pop_eth,recirc(1)", [u],
               recircs=[rc(payload, 1, l3_type=0x0800)])
    yield Case("pop_eth_recirc_push_eth", "pop_eth,recirc(1),push_eth("
               "src=02:00:00:00:00:01,dst=02:00:00:00:00:02),1", [u],
               {1: [e]}, recircs=[rc(payload, 1, l3_type=0x0800)])
    yield Case("pop_push_eth_recirc", "pop_eth,push_eth(src=02:00:00:00:00:01,"
               "dst=02:00:00:00:00:02),recirc(2)", [u],
               recircs=[rc(e, 2, l3_type=0)])
    e2 = e.copy()
    e2[IP].ttl = 1
    yield Case("pop_eth_set_push_eth",
               "pop_eth,set(ipv4(ttl=1)),push_eth(src=02:00:00:00:00:01,"
               "dst=02:00:00:00:00:02),1", [u], {1: [rebuilt(e2)]})
    q = frozen(eth() / Dot1Q(vlan=3) / u[Ether].payload)
    yield Case("pop_eth_vlan_refused", "pop_eth,1", [q],
               drops={"malformed": 1}, validate="none")


def nested_cases():
    t = tcp4()
    e = t.copy()
    e[IP].ttl = 1
    ttl1 = rebuilt(e)
    yield Case("clone_set_output", "clone(set(ipv4(ttl=1)),2),3", [t],
               {2: [ttl1], 3: [t]})
    yield Case("clone_last", "clone(set(ipv4(ttl=1)),2)", [t], {2: [ttl1]})
    yield Case("clone_nested", "clone(clone(5),6),7", [t],
               {5: [t], 6: [t], 7: [t]})
    yield Case("clone_empty", "clone(drop),1", [t], {1: [t]},
               drops={"action_drop": 1})
    yield Case("sample_0", "sample(sample=0%,actions(1)),2", [t], {2: [t]})
    yield Case("sample_100", "sample(sample=100%,actions(1)),2", [t],
               {1: [t], 2: [t]})
    yield Case("sample_50_taken", "sample(sample=50%,actions(1)),2", [t],
               {1: [t], 2: [t]}, random=0x10)
    yield Case("sample_50_not_taken", "sample(sample=50%,actions(1)),2", [t],
               {2: [t]}, random=0xf0000000)
    yield Case("sample_last_not_taken", "sample(sample=0%,actions(1))", [t],
               drops={"action_drop": 1})
    yield Case("sample_last_taken",
               "sample(sample=100%,actions(set(ipv4(ttl=1)),1))", [t],
               {1: [ttl1]})
    yield Case("sample_copy_ends_quietly",
               "sample(sample=100%,actions(set(skb_mark(1)))),1", [t],
               {1: [t]})
    small = frozen(eth() / ip4() / UDP(sport=1, dport=2) / (b"s" * 10))
    large = frozen(eth() / ip4() / UDP(sport=1, dport=2) / (b"L" * 300))
    assert len(small) <= 200 < len(large)
    exact = frozen(eth() / ip4() / UDP(sport=1, dport=2) /
                   (b"e" * (200 - 42)))
    assert len(exact) == 200
    yield Case("check_pkt_len_both",
               "check_pkt_len(size=200,gt(1),le(2))", [small, large, exact],
               {2: [small, exact], 1: [large]})
    es = small.copy()
    es[IP].ttl = 9
    yield Case("check_pkt_len_not_last",
               "check_pkt_len(size=200,gt(1),le(set(ipv4(ttl=9)),2)),3",
               [small, large], {2: [rebuilt(es)], 1: [large],
                                3: [small, large]})
    yield Case("check_pkt_len_drop_branch",
               "check_pkt_len(size=100,gt(drop),le(4))", [small, large],
               {4: [small]}, drops={"action_drop": 1})


def dec_ttl_cases():
    t = tcp4(ttl=64)
    e = t.copy()
    e[IP].ttl = 63
    yield Case("dec_ttl_ipv4", "dec_ttl(le_1(userspace(pid=5))),1", [t],
               {1: [rebuilt(e)]})
    t1 = tcp4(ttl=1)
    yield Case("dec_ttl_ipv4_expired", "dec_ttl(le_1(userspace(pid=5))),1",
               [t1], upcalls=[up(t1, pid=5)])
    t0 = tcp4(ttl=0)
    yield Case("dec_ttl_ipv4_zero", "dec_ttl(le_1(drop)),1", [t0],
               drops={"ttl_expired": 1})
    yield Case("dec_ttl_batch", "dec_ttl(le_1(2)),1", [t, t1],
               {1: [rebuilt(e)], 2: [t1]})
    u = udp6(hlim=2)
    e = u.copy()
    e[IPv6].hlim = 1
    yield Case("dec_ttl_ipv6", "dec_ttl(le_1(drop)),1", [u],
               {1: [rebuilt(e)]})
    u1 = udp6(hlim=1)
    yield Case("dec_ttl_ipv6_expired", "dec_ttl(le_1(drop)),1", [u1],
               drops={"ttl_expired": 1})
    a = frozen(eth() / ARP(psrc=IP_A, pdst=IP_B))
    yield Case("dec_ttl_not_ip", "dec_ttl(le_1(drop)),1", [a], {1: [a]})
    v = frozen(eth() / Dot1Q(vlan=4) / ip4(ttl=30) / UDP() / PAYLOAD)
    e = v.copy()
    e[IP].ttl = 29
    yield Case("dec_ttl_vlan", "dec_ttl(le_1(drop)),1", [v],
               {1: [rebuilt(e)]})


def recirc_hash_cases():
    t = tcp4()
    yield Case("recirc_last", "recirc(5)", [t], recircs=[rc(t, 5)])
    yield Case("recirc_then_output", "recirc(6),1", [t], {1: [t]},
               recircs=[rc(t, 6)])
    yield Case("recirc_metadata", "set(skb_priority(3)),set(skb_mark(4)),"
               "recirc(7)", [t], recircs=[rc(t, 7, depth=3, priority=3,
                                              mark=4)], depth=2)
    yield Case("recirc_depth", "recirc(8)", [t, t],
               drops={"recirc_depth": 2}, depth=6)
    yield Case("recirc_depth_not_last", "recirc(8),1", [t], {1: [t]},
               drops={"recirc_depth": 1}, depth=6)
    # Same 5-tuple, other MACs and payload: same hash; other ports: other.
    a = tcp4()
    b = frozen(eth(src="02:02:02:02:02:02") / ip4(ttl=3, id=9) /
               TCP(sport=1000, dport=80, flags="S") / b"other")
    c = frozen(eth() / ip4() / TCP(sport=1001, dport=80) / PAYLOAD)
    d = udp4()
    yield Case("hash_groups", "hash(l4(0)),recirc(1)", [a, b, c, d],
               recircs=[rc(p, 1, dp_hash="nonzero") for p in (a, b, c, d)],
               hash_groups=[0, 0, 1, 2])
    yield Case("hash_userspace", "hash(l4(77)),userspace(pid=1)", [a],
               upcalls=[up(a, dp_hash="nonzero")])
    arp = frozen(eth() / ARP(psrc=IP_A, pdst=IP_B))
    yield Case("hash_not_l4", "hash(l4(0)),recirc(2)", [arp],
               recircs=[rc(arp, 2, dp_hash="nonzero")])


def unsupported_cases():
    t = tcp4()
    yield Case("ct_unsupported", "ct(commit),1", [t],
               drops={"unsupported": 1}, supported=False)
    yield Case("ct_clear_unsupported", "1,ct_clear,2", [t], {1: [t]},
               drops={"unsupported": 1}, supported=False)
    yield Case("meter_unsupported", "meter(3),1", [t],
               drops={"unsupported": 1}, supported=False)
    yield Case("set_tunnel_unsupported",
               "set(tunnel(tun_id=1,dst=1.1.1.1,ttl=64)),1", [t],
               drops={"unsupported": 1}, supported=False)


def cases():
    for gen in (basic_cases, userspace_cases, set_l2_cases, set_ipv4_cases,
                set_ipv6_cases, set_l4_cases, short_cases, vlan_cases,
                mpls_cases, eth_cases, nested_cases, dec_ttl_cases,
                recirc_hash_cases, unsupported_cases):
        yield from gen()


def write_case(outdir, c):
    d = os.path.join(outdir, c.name)
    os.makedirs(d)
    with open(os.path.join(d, "actions"), "w") as f:
        f.write(c.actions + "\n")
    write_pcap(os.path.join(d, "input.pcap"), c.inputs)
    for port, pkts in c.outs.items():
        write_pcap(os.path.join(d, "out-%d.pcap" % port), pkts)
    if c.upcalls:
        write_pcap(os.path.join(d, "upcalls.pcap"),
                   [p for p, _ in c.upcalls])
    if c.recircs:
        write_pcap(os.path.join(d, "recirc.pcap"), [p for p, _ in c.recircs])
    lines = ["in_port %d" % c.in_port, "depth %d" % c.depth,
             "random %d" % c.random, "validate %s" % c.validate,
             "supported %s" % ("yes" if c.supported else "no")]
    lines += ["drop %s %d" % (r, n) for r, n in sorted(c.drops.items())]
    lines += ["upcall " + tokens for _, tokens in c.upcalls]
    lines += ["recirc " + tokens for _, tokens in c.recircs]
    if c.hash_groups is not None:
        lines.append("hash-groups " + " ".join(str(g)
                                               for g in c.hash_groups))
    with open(os.path.join(d, "expect"), "w") as f:
        f.write("".join(line + "\n" for line in lines))


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: gen-action-goldens.py OUTDIR\n")
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    names = []
    for c in cases():
        assert c.name not in names, c.name
        names.append(c.name)
        write_case(outdir, c)
    with open(os.path.join(outdir, "cases.txt"), "w") as f:
        f.write("".join(n + "\n" for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
