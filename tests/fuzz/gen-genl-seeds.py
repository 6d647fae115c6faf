#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes seed inputs for tests/fuzz/fuzz-genl.c into a directory.

Each seed is the target's input layout: one options byte, then records of
a 2-byte big-endian length and one datagram.  The datagrams are valid
requests of every family (datapath fz0 is addressed as dp_ifindex 1, which
the target rewrites), so the fuzzer starts from messages that reach deep
into each command.

usage: gen-genl-seeds.py DIR
"""

import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "system"))

import weirdlib as wl  # noqa: E402

DP, VPORT, FLOW, PACKET = 0x20, 0x21, 0x22, 0x23
METER, CT_LIMIT = 0x24, 0x25
REQ, ACK, ECHO, DUMP = wl.NLM_F_REQUEST, wl.NLM_F_ACK, wl.NLM_F_ECHO, \
    wl.NLM_F_DUMP
CREATE = wl.NLM_F_CREATE


def key(in_port=1, src=2):
    return (wl.nla_u32(3, in_port)
            + wl.nla(4, bytes([2, 0, 0, 0, 0, src, 2, 0, 0, 0, 0, 1]))
            + wl.nla(6, struct.pack(">H", 0x0800))
            + wl.nla(7, bytes([10, 0, 0, src, 10, 0, 0, 1, 6, 0, 64, 0]))
            + wl.nla(9, struct.pack(">HH", 1000 + src, 80))
            + wl.nla(16, b"\0\0"))


def mask():
    return (wl.nla_u32(3, 0xffffffff) + wl.nla(4, b"\xff" * 12)
            + wl.nla(6, b"\xff\xff")
            + wl.nla(7, b"\xff" * 8 + b"\xff\0\0\xff")
            + wl.nla(9, b"\xff\xff\xff\xff"))


def output(port):
    return wl.nla_u32(1, port)


def flow_new(seq, src, ufid=True, flags=ACK | CREATE):
    attrs = (wl.nla_nest(1, key(1, src)) + wl.nla_nest(7, mask())
             + wl.nla_nest(2, output(2)))
    if ufid:
        attrs += wl.nla(9, struct.pack(">QQ", 1, src))
    return wl.genlmsg(FLOW, 1, REQ | flags, seq, attrs, ovs_ifindex=1)


def meter_band(rate=1, burst=1):
    """One band as Open vSwitch's meter set puts it: TYPE drop, RATE,
    BURST in a nest of type 0."""
    return wl.nla_nest(0, wl.nla_u32(1, 1) + wl.nla_u32(2, rate)
                       + wl.nla_u32(3, burst))


def zone_limits(*limits):
    """OVS_CT_LIMIT_ATTR_ZONE_LIMIT with struct ovs_zone_limit entries
    (zone id, limit, count)."""
    return wl.nla_nest(1, b"".join(struct.pack("=iII", z, lim, 0)
                                   for z, lim in limits))


def frame():
    eth = bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0])
    ip = bytes([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0,
                10, 0, 0, 2, 10, 0, 0, 1])
    tcp = struct.pack(">HHIIBBHHH", 1002, 80, 0, 0, 0x50, 2, 1024, 0, 0)
    return eth + ip + tcp


SEEDS = {
    "ctrl-getfamily": [wl.genlmsg(0x10, 3, REQ, 1,
                                  wl.nla_str(2, "ovs_flow"), version=2)],
    "ctrl-dump": [wl.genlmsg(0x10, 3, REQ | DUMP, 1, version=2)],
    "dp-new-get-set-del": [
        wl.genlmsg(DP, 1, REQ | ACK | ECHO, 1,
                   wl.nla_str(1, "fzx") + wl.nla_u32(2, 100)
                   + wl.nla_u32(5, 1), version=2, ovs_ifindex=0),
        wl.genlmsg(DP, 3, REQ, 2, wl.nla_str(1, "fzx"), version=2,
                   ovs_ifindex=0),
        wl.genlmsg(DP, 4, REQ | ACK, 3, wl.nla_str(1, "fzx")
                   + wl.nla_u32(5, 8) + wl.nla(8, struct.pack("=II", 100,
                                                               200)),
                   version=2, ovs_ifindex=0),
        wl.genlmsg(DP, 3, REQ | DUMP, 4, version=2, ovs_ifindex=0),
        wl.genlmsg(DP, 2, REQ | ACK, 5, wl.nla_str(1, "fzx"), version=2,
                   ovs_ifindex=0),
    ],
    "vport-new-get-del": [
        wl.genlmsg(VPORT, 1, REQ | ACK | ECHO, 1,
                   wl.nla_str(3, "fzv") + wl.nla_u32(2, 1)
                   + wl.nla(5, struct.pack("=II", 100, 200))
                   + wl.nla_nest(4, wl.nla_str(wl.WEIR_VPORT_OPT_PROVIDER,
                                               "dummy")),
                   ovs_ifindex=1),
        wl.genlmsg(VPORT, 3, REQ, 2, wl.nla_str(3, "fzv"), ovs_ifindex=0),
        wl.genlmsg(VPORT, 4, REQ | ACK, 3, wl.nla_str(3, "fzv")
                   + wl.nla(5, struct.pack("=I", 300)), ovs_ifindex=1),
        wl.genlmsg(VPORT, 3, REQ | DUMP, 4, ovs_ifindex=1),
        wl.genlmsg(VPORT, 2, REQ | ACK, 5, wl.nla_str(3, "fzv"),
                   ovs_ifindex=1),
    ],
    "flow-new-get-del": [
        flow_new(1, 2),
        flow_new(2, 3, ufid=False),
        wl.genlmsg(FLOW, 3, REQ, 3, wl.nla(9, struct.pack(">QQ", 1, 2)),
                   ovs_ifindex=1),
        wl.genlmsg(FLOW, 3, REQ, 4, wl.nla_nest(1, key(1, 3)),
                   ovs_ifindex=1),
        wl.genlmsg(FLOW, 4, REQ | ACK, 5, wl.nla(9, struct.pack(">QQ", 1, 2))
                   + wl.nla(6, b""), ovs_ifindex=1),
        wl.genlmsg(FLOW, 2, REQ | ACK | ECHO, 6,
                   wl.nla(9, struct.pack(">QQ", 1, 2)), ovs_ifindex=1),
        wl.genlmsg(FLOW, 2, REQ | ACK, 7, ovs_ifindex=1),
    ],
    "flow-dump-terse": [flow_new(i, i) for i in range(1, 40)] + [
        wl.genlmsg(FLOW, 3, REQ | DUMP, 100, wl.nla_u32(10, 7),
                   ovs_ifindex=1),
        wl.genlmsg(FLOW, 3, REQ | DUMP, 101, ovs_ifindex=1),
    ],
    "flow-probe-bad": [
        wl.genlmsg(FLOW, 1, REQ | ACK | CREATE, 1,
                   wl.nla_nest(1, wl.nla(4, b"\0" * 5)) + wl.nla(8, b""),
                   ovs_ifindex=1),
        wl.genlmsg(FLOW, 1, REQ | ACK | CREATE, 2,
                   wl.nla_nest(1, key()) + wl.nla(9, b"\1" * 17)
                   + wl.nla_nest(2, output(2)), ovs_ifindex=1),
    ],
    "packet-execute": [
        wl.genlmsg(PACKET, 3, REQ | ACK, 1,
                   wl.nla(1, frame()) + wl.nla_nest(2, wl.nla_u32(3, 1))
                   + wl.nla_nest(3, output(2)), ovs_ifindex=1),
        wl.genlmsg(PACKET, 3, REQ | ACK, 2,
                   wl.nla(1, frame()) + wl.nla_nest(2, wl.nla_u32(3, 1))
                   + wl.nla_nest(3, wl.nla_nest(2, wl.nla_u32(1, 100)
                                                + wl.nla(2, b"cookie"))),
                   ovs_ifindex=1),
    ],
    "meter-features-set-get-del": [
        wl.genlmsg(METER, 1, REQ | ECHO, 1, ovs_ifindex=1),
        wl.genlmsg(METER, 2, REQ | ECHO, 2, wl.nla_u32(1, 54545401)
                   + wl.nla(2, b"") + wl.nla_nest(4, meter_band()),
                   ovs_ifindex=1),
        wl.genlmsg(METER, 2, REQ | ACK, 3, wl.nla_u32(1, 7)
                   + wl.nla_nest(4, meter_band(0) + meter_band(2, 2)),
                   ovs_ifindex=1),
        wl.genlmsg(METER, 4, REQ | ECHO, 4, wl.nla_u32(1, 54545401),
                   ovs_ifindex=1),
        wl.genlmsg(METER, 3, REQ | ECHO, 5, wl.nla_u32(1, 54545401)
                   + wl.nla(3, b"\0" * 16), ovs_ifindex=1),
    ],
    "ct-limit-set-get-del": [
        wl.genlmsg(CT_LIMIT, 1, REQ | ECHO, 1,
                   zone_limits((-1, 10), (5, 3)), ovs_ifindex=0),
        wl.genlmsg(CT_LIMIT, 3, REQ | ECHO, 2, ovs_ifindex=0),
        wl.genlmsg(CT_LIMIT, 3, REQ | ECHO, 3, zone_limits((-1, 0), (5, 0)),
                   ovs_ifindex=0),
        wl.genlmsg(CT_LIMIT, 2, REQ | ECHO, 4, zone_limits((5, 0)),
                   ovs_ifindex=0),
    ],
    "batch-in-one-dgram": [flow_new(1, 5) + flow_new(2, 6)
                           + wl.genlmsg(FLOW, 3, REQ | DUMP, 3,
                                        ovs_ifindex=1)],
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, dgrams in SEEDS.items():
        for opts in (0x1, 0xf, 0x1f):
            data = bytes([opts]) + b"".join(
                struct.pack(">H", len(d)) + d for d in dgrams)
            with open(os.path.join(out, "%s-%x" % (name, opts)), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
