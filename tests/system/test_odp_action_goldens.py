# SPDX-License-Identifier: Apache-2.0
"""Datapath action goldens from Open vSwitch's tests/odp.at.

Every action line of odp.at's "OVS datapath actions parsing and formatting
- valid forms" section must survive text -> netlink -> text byte-for-byte
through the CLI: `weir flow encode-nl --actions -` (one hex line per text
line) and `weir flow decode-nl --actions -` (one text line per hex line).

Lines using actions weir does not implement are skipped, each with its
reason, and counted; the counts are printed at the end of the run.

Some odp.at lines are syntax tests that the kernel refuses (set(in_port),
a masked value with bits outside its mask, push_vlan without CFI, ...).
They must still round-trip (decode-nl is a plain formatter), and
`decode-nl --actions --check`, which validates with the kernel's rules
(act_validate(), no flow key), must refuse exactly those lines, with the
reason listed in KERNEL_REFUSES; every other line must pass the check.

Run: /usr/bin/python3 -m pytest tests/system/test_odp_action_goldens.py
The weir binary is $WEIR_BIN, default build/src/tools/weir.
"""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "codec"))

import odp_at  # noqa: E402

WEIR = os.environ.get("WEIR_BIN",
                      os.path.join(ROOT, "build", "src", "tools", "weir"))

# (substring, reason): a line containing the substring is skipped.
UNSUPPORTED = (
    ("tnl_push(", "tnl_push is an OVS userspace-datapath action, not a "
                  "kernel OVS_ACTION_ATTR_*"),
    ("tnl_pop(", "tnl_pop is an OVS userspace-datapath action, not a "
                 "kernel OVS_ACTION_ATTR_*"),
    ("lb_output(", "lb_output is an OVS userspace-datapath action, not a "
                   "kernel OVS_ACTION_ATTR_*"),
    ("set(tunnel(", "the key text codec does not parse tunnel() yet"),
    ("nsh(", "the key text codec does not parse nsh() yet"),
)


# odp.at lines that act_validate() refuses, with the reason's start.
KERNEL_REFUSES = {
    "set(in_port(2))": "set: key attribute in_port may not be set",
    "set(eth_type(0x1234))": "set: key attribute eth_type may not be set",
    "set(icmp(type=1,code=2))": "set: key attribute icmp may not be set",
    "set(icmpv6(type=1,code=2))": "set: key attribute icmpv6 may not be",
    "set(vlan(vid=5))": "set_masked: key attribute vlan may not be set",
    "set(vlan(vid=3,pcp=5))": "set: key attribute vlan may not be set",
    "set(vlan(vid=3,pcp=5,cfi=0))": "set: key attribute vlan may not be",
    "set(vlan(vid=5/0x3))": "set_masked: value of vlan has bits outside",
    "set(vlan(vid=5/0x1)),3": "set_masked: value of vlan has bits outside",
    "push_vlan(vid=13,pcp=5,cfi=0)": "push_vlan: tci 0xa00d lacks the CFI",
    "push_vlan(tpid=0x9100,vid=13,pcp=5)": "push_vlan: tpid 0x9100",
    "push_vlan(tpid=0x9100,vid=13,pcp=5,cfi=0)": "push_vlan: tpid 0x9100",
}
# Prefixes of refused lines whose reason is generic.
KERNEL_REFUSES_PREFIX = (
    ("set(eth(src=00:01:02:03:04:05,dst=10:11:12:13:14:15/",
     "set_masked: value of eth has bits outside the mask"),
    ("set(ipv4(src=35.8.2.41/", "set_masked: value of ipv4 has bits"),
    ("set(ipv4(src=35.8.2.41,dst=172.16.0.20,proto=5,ttl=128",
     "set_masked: ipv4 proto and frag may not be set"),
    ("set(ipv4(ttl=128,frag=no))", "set_masked: ipv4 proto and frag"),
    ("set(ipv4(frag=no))", "set_masked: ipv4 proto and frag"),
    ("set(tcp(src=80/0xff00", "set_masked: value of tcp has bits"),
    ("set(udp(src=81/0xff00", "set_masked: value of udp has bits"),
    ("set(sctp(src=82/0xff00", "set_masked: value of sctp has bits"),
    ("set(ipv6(src=::1,dst=::2,label=0,proto=10",
     "set_masked: ipv6 proto and frag may not be set"),
    ("set(ipv6(label=0,proto=10", "set_masked: ipv6 proto and frag"),
    ("set(ipv6(label=0/0xfff,proto=10", "set_masked: ipv6 proto and frag"),
)


def refused_reason(line):
    if line in KERNEL_REFUSES:
        return KERNEL_REFUSES[line]
    for prefix, reason in KERNEL_REFUSES_PREFIX:
        if line.startswith(prefix):
            return reason
    return None


def skip_reason(line):
    for needle, reason in UNSUPPORTED:
        if needle in line:
            return reason
    return None


def run(args, lines):
    proc = subprocess.run([WEIR] + args, input="".join(l + "\n"
                                                       for l in lines),
                          capture_output=True, text=True, timeout=60)
    out = proc.stdout.splitlines()
    assert len(out) == len(lines), (args, proc.stderr)
    return out


@pytest.fixture(scope="module")
def cases():
    if not os.access(WEIR, os.X_OK):
        pytest.skip("weir binary not found at %s (set WEIR_BIN)" % WEIR)
    return odp_at.action_cases()


def test_action_goldens_round_trip(cases):
    supported = [c for c in cases if not skip_reason(c)]
    skipped = {}
    for c in cases:
        reason = skip_reason(c)
        if reason:
            skipped[reason] = skipped.get(reason, 0) + 1

    hexes = run(["flow", "encode-nl", "--actions", "-"], supported)
    bad = [(text, h) for text, h in zip(supported, hexes)
           if h.startswith("error")]
    texts = run(["flow", "decode-nl", "--actions", "-"], hexes)
    checked = run(["flow", "decode-nl", "--actions", "--check", "-"],
                  hexes)
    diffs = []
    refused = 0
    for want, got, chk in zip(supported, texts, checked):
        if want != got:
            diffs.append((want, got))
        reason = refused_reason(want)
        if reason:
            refused += 1
            if not chk.startswith("error: actions: " + reason):
                diffs.append((want + "  [--check must refuse: %s]" % reason,
                              chk))
        elif chk != want:
            diffs.append((want + "  [--check]", chk))

    print("\nodp.at action goldens: %d cases, %d round-tripped (%d of them "
          "refused by --check as the kernel would), %d skipped"
          % (len(cases), len(supported), refused,
             len(cases) - len(supported)))
    for reason, n in sorted(skipped.items()):
        print("  skipped %3d: %s" % (n, reason))
    assert not bad, "encode failed:\n" + "\n".join(
        "%s -> %s" % b for b in bad)
    assert not diffs, "round trip differs:\n" + "\n".join(
        "want %s\n got  %s" % d for d in diffs)
    assert len(supported) >= 100
