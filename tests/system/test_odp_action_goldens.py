# SPDX-License-Identifier: Apache-2.0
"""Datapath action goldens from Open vSwitch's tests/odp.at.

Every action line of odp.at's "OVS datapath actions parsing and formatting
- valid forms" section must survive text -> netlink -> text byte-for-byte
through the CLI: `weir flow encode-nl --actions -` (one hex line per text
line) and `weir flow decode-nl --actions -` (one text line per hex line).

Lines using actions weir does not implement are skipped, each with its
reason (skip_reason()), and counted; the counts are printed in the
closing "weir system tests" summary.

Each CLI command runs once for the whole module (a module-scoped fixture,
batch mode); every golden line is then its own test case, with an id made
of its index in odp_at.action_cases() and the start of the line.

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
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "codec"))

import odp_at  # noqa: E402
import systest  # noqa: E402

# (substring, reason): a line containing the substring is skipped.
UNSUPPORTED = (
    ("tnl_push(", "tnl_push is an OVS userspace-datapath action, not a "
                  "kernel OVS_ACTION_ATTR_*"),
    ("tnl_pop(", "tnl_pop is an OVS userspace-datapath action, not a "
                 "kernel OVS_ACTION_ATTR_*"),
    ("lb_output(", "lb_output is an OVS userspace-datapath action, not a "
                   "kernel OVS_ACTION_ATTR_*"),
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
    """Returns why weir cannot run this golden line yet, or None."""
    for needle, reason in UNSUPPORTED:
        if needle in line:
            return reason
    return None


def run(args, lines):
    out, _, err = systest.run_batch(args, lines, timeout=60)
    assert len(out) == len(lines), (args, err)
    return out


def _load_cases():
    try:
        return odp_at.action_cases(), None
    except (OSError, KeyError, ValueError, StopIteration,
            AttributeError) as e:
        return [], systest.MISSING_PEER + "cannot read odp.at from %s: %s" \
            % (odp_at.TARBALL, e)


CASES, LOAD_ERROR = _load_cases()
SUPPORTED = [i for i, c in enumerate(CASES) if not skip_reason(c)]


def _params():
    if LOAD_ERROR:
        return [pytest.param(None, id="no-odp.at",
                             marks=pytest.mark.skip(reason=LOAD_ERROR))]
    params = []
    for i, line in enumerate(CASES):
        reason = skip_reason(line)
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        params.append(pytest.param(i, id=systest.case_id(i, line),
                                   marks=marks))
    return params


def _refused_summary():
    refused = sum(1 for i in SUPPORTED if refused_reason(CASES[i]))
    return ["%d lines round-trip, %d of them refused by --check as the "
            "kernel would" % (len(SUPPORTED), refused)]


systest.summary(__file__, "odp.at action goldens", _refused_summary)


@pytest.fixture(scope="module")
def results():
    """Runs the supported lines through encode-nl, decode-nl and
    decode-nl --check, one batch each.  Returns {case index: (hex, text,
    check output)}."""
    systest.require_weir()
    supported = [CASES[i] for i in SUPPORTED]
    hexes = run(["flow", "encode-nl", "--actions", "-"], supported)
    texts = run(["flow", "decode-nl", "--actions", "-"], hexes)
    checked = run(["flow", "decode-nl", "--actions", "--check", "-"],
                  hexes)
    return dict(zip(SUPPORTED, zip(hexes, texts, checked)))


def test_enough_action_goldens_supported():
    """At least 100 of odp.at's action lines are in weir's reach."""
    assert not LOAD_ERROR, LOAD_ERROR
    assert len(SUPPORTED) >= 100


@pytest.mark.parametrize("index", _params())
def test_action_goldens_round_trip(results, index):
    """One odp.at action line: encode-nl accepts it, decode-nl gives back
    exactly the line, and decode-nl --check refuses it with the
    KERNEL_REFUSES reason if the kernel would, else passes it unchanged."""
    want = CASES[index]
    h, got, chk = results[index]
    assert not h.startswith("error"), "encode failed:\n%s -> %s" % (want, h)
    assert want == got, "round trip differs:\nwant %s\n got  %s" % (
        want, got)
    reason = refused_reason(want)
    if reason:
        assert chk.startswith("error: actions: " + reason), \
            "want %s  [--check must refuse: %s]\n got  %s" % (
                want, reason, chk)
    else:
        assert chk == want, "want %s  [--check]\n got  %s" % (want, chk)
