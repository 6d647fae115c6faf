# SPDX-License-Identifier: Apache-2.0
"""Packet parser vs. Open vSwitch's own parser.

Generates the pcap corpus (tests/data/gen-pcaps.py), then parses it twice:
with `ovs-ofctl parse-pcap` (OVS userspace flow_extract(), one OpenFlow-
style line per packet) and with `weir flow extract FILE --in-port 1` (our
fkey_extract(), one ovs-dpctl key per packet).  Each line becomes a dict of
normalised field -> value, and every field that both sides print must be
equal.  Every field ovs-ofctl prints that has a kernel-key counterpart
must also be printed by weir.

Where OVS userspace and the kernel datapath legitimately disagree (weir
follows the kernel), the difference is written down below, with the
reason, in GENERIC_RULES or KNOWN_DIFFS; nothing else is excused.

Each tool runs once for the whole corpus (a module-scoped fixture); every
packet is then its own test case, named after its gen-pcaps.py case.  The
number of fields compared is printed in the closing summary.

Run: /usr/bin/python3 -m pytest tests/system/test_extract.py
The weir binary is $WEIR_BIN, default build/src/tools/weir.
"""

import ipaddress
import os
import re
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import systest  # noqa: E402

# ovs-ofctl protocol shorthands: (dl_type, nw_proto or None).
SHORTHANDS = {
    "ip": (0x0800, None), "tcp": (0x0800, 6), "udp": (0x0800, 17),
    "sctp": (0x0800, 132), "icmp": (0x0800, 1),
    "ipv6": (0x86dd, None), "tcp6": (0x86dd, 6), "udp6": (0x86dd, 17),
    "sctp6": (0x86dd, 132), "icmp6": (0x86dd, 58),
    "arp": (0x0806, None), "rarp": (0x8035, None),
    "mpls": (0x8847, None), "mplsm": (0x8848, None),
}

TCP_FLAG_NAMES = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr",
                  "ns", "[200]", "[400]", "[800]"]

CFI = 0x1000

# Fields of the kernel key that ovs-ofctl can show, after normalisation.
# ('in_port' is not compared: ovs-ofctl parse-pcap has no input port and
# prints in_port=ANY, while weir is run with --in-port 1.  Packet
# metadata - recirc_id, dp_hash, skb_priority, skb_mark - is not printed
# by ovs-ofctl at all.)
L3_FIELDS = {"nw_src", "nw_dst", "ipv6_src", "ipv6_dst", "ipv6_label",
             "nw_proto", "nw_tos", "nw_ttl", "nw_frag", "arp_op",
             "arp_sha", "arp_tha"}
L4_FIELDS = {"tp_src", "tp_dst", "tcp_flags", "nd_target", "nd_sll",
             "nd_tll"}
MPLS_FIELDS = {"mpls_lse0", "mpls_lse1", "mpls_lse2"}

# Differences between OVS userspace and the kernel key that hold for every
# packet of a kind, applied by normalize_ovs():
#
#  - 802.3 frames without a usable SNAP type: OVS userspace says
#    dl_type=0x05ff (FLOW_DL_TYPE_NONE); the kernel's key has
#    ETH_P_802_2 and sends no eth_type attribute at all.
#
# Differences that need no rule, for the record:
#
#  - ARP opcodes above 0xff: both store 0 (the kernel "only matches on
#    the lower 8 bits"); arp_op_300 checks that.
#  - ND attribute for ICMPv6 135/136 with a nonzero code: the kernel key
#    has an all-zero nd(), OVS prints no nd_* fields; only OVS's fields
#    are required on the weir side, so nothing is compared.
#  - IGMP: OVS userspace puts type/code into tp_src/tp_dst, the kernel
#    has no IGMP attribute.  The corpus has no IGMP.

# Packet-specific disagreements: case name -> (fields excused, reason).
KNOWN_DIFFS = {
    "eth_trunc_13": (
        "*", "shorter than an Ethernet header: the kernel builds no key "
        "(key_extract() fails with -EINVAL), OVS prints zeros"),
    "ipv4_totlen_too_long": (
        L3_FIELDS | L4_FIELDS,
        "OVS userspace discards IPv4 whose total length exceeds the frame "
        "(ipv4_sanity_check); the kernel never reads the total length"),
    "ipv4_totlen_too_short": (
        L4_FIELDS,
        "OVS userspace trims the packet to the IPv4 total length (20, so "
        "no TCP header); the kernel reads L4 up to the end of the frame"),
    "ipv6_plen_too_long": (
        L3_FIELDS | L4_FIELDS,
        "OVS userspace discards IPv6 whose payload length exceeds the "
        "frame (ipv6_sanity_check); the kernel ignores the payload length"),
    "ipv6_trunc_exthdr": (
        {"nw_proto", "nw_tos", "nw_ttl", "nw_frag", "ipv6_label"},
        "OVS userspace wants 8 bytes of every extension header and drops "
        "the rest of L3 otherwise; the kernel reads 2 bytes, keeps the "
        "IPv6 fields and reports nw_proto 59 (ipv6_find_hdr failed)"),
    "ipv6_trunc_frag_hdr": (
        {"nw_proto", "nw_tos", "nw_ttl", "nw_frag", "ipv6_label"},
        "as ipv6_trunc_exthdr; the kernel also marks the packet a first "
        "fragment because it saw the fragment header's type"),
    "ipv6_frag_later_then_dstopt": (
        {"nw_proto", "nw_frag"},
        "a later fragment whose next header is an extension header: the "
        "kernel's ipv6_find_hdr() returns -ENOENT before recording the "
        "offset, so the key says frag=first, proto=59; OVS says later/44"),
    "ipv6_frag_atomic": (
        {"nw_frag"},
        "fragment header with offset 0 and M=0: the kernel marks any "
        "packet with a fragment header and offset 0 as frag=first; OVS "
        "userspace ignores an all-zero offset/flags word (frag=no)"),
    "mpls_no_bos": (
        MPLS_FIELDS,
        "label stack without bottom of stack: the kernel reports zero "
        "labels (num_labels_mask stays 0), OVS shows the labels it read"),
    "mpls_trunc_lse": (
        MPLS_FIELDS,
        "no complete label: the kernel reports zero labels, OVS prints "
        "mpls_label=0 etc."),
}


def mac(s):
    return s.lower()


def ip(s):
    return str(ipaddress.ip_address(s))


def tcp_flags(s):
    if re.fullmatch(r"0x[0-9a-fA-F]+|\d+", s):
        return int(s, 0)
    bits = 0
    for name in s.split("|"):
        if name in TCP_FLAG_NAMES:
            bits |= 1 << TCP_FLAG_NAMES.index(name)
        else:
            bits |= int(name.strip("[]"), 16)
    return bits


def frag(s):
    assert s in ("no", "first", "later"), s
    return s


def parse_ovs(line):
    """ovs-ofctl flow line -> normalised dict."""
    d = {}
    vlan = [None, None]
    for tok in line.strip().split(","):
        if "=" not in tok:
            dl_type, proto = SHORTHANDS[tok]
            d["dl_type"] = dl_type
            if proto is not None:
                d["nw_proto"] = proto
            continue
        k, v = tok.split("=", 1)
        if k == "in_port":
            continue
        elif k in ("dl_src", "dl_dst", "arp_sha", "arp_tha", "nd_sll",
                   "nd_tll"):
            d[k] = mac(v)
        elif k in ("nw_src", "nw_dst", "arp_spa", "arp_tpa", "ipv6_src",
                   "ipv6_dst", "nd_target"):
            d[{"arp_spa": "nw_src", "arp_tpa": "nw_dst"}.get(k, k)] = ip(v)
        elif k in ("dl_type", "ipv6_label", "nw_proto", "nw_ttl", "arp_op",
                   "tp_src", "tp_dst", "mpls_label", "mpls_tc", "mpls_ttl",
                   "mpls_bos", "mpls_lse1", "mpls_lse2"):
            d[k] = int(v, 0)
        elif k == "icmp_type":
            d["tp_src"] = int(v)
        elif k == "icmp_code":
            d["tp_dst"] = int(v)
        elif k == "nw_tos":
            d["nw_tos"] = d.get("nw_tos", 0) | int(v)
        elif k == "nw_ecn":
            d["nw_tos"] = d.get("nw_tos", 0) | int(v)
        elif k == "nw_frag":
            d[k] = frag(v)
        elif k == "tcp_flags":
            d[k] = tcp_flags(v)
        elif k in ("vlan_tci", "vlan_tci1"):
            vlan[k == "vlan_tci1"] = int(v, 0)
        elif k in ("dl_vlan", "dl_vlan1"):
            i = k == "dl_vlan1"
            vlan[i] = (vlan[i] or 0) | CFI | int(v)
        elif k in ("dl_vlan_pcp", "dl_vlan_pcp1"):
            i = k == "dl_vlan_pcp1"
            vlan[i] = (vlan[i] or 0) | CFI | (int(v) << 13)
        else:
            raise AssertionError("unknown ovs-ofctl field %r in %s"
                                 % (k, line))
    d["vlan0"] = vlan[0] or 0
    d["vlan1"] = vlan[1] or 0
    # MPLS: the first LSE comes as fields, the others as whole values.
    if "mpls_label" in d:
        d["mpls_lse0"] = ((d.pop("mpls_label") << 12)
                          | (d.pop("mpls_tc") << 9)
                          | (d.pop("mpls_bos") << 8) | d.pop("mpls_ttl"))
    for i in (1, 2):
        if "mpls_lse%d" % i in d:
            d["mpls_lse%d" % i] = d.pop("mpls_lse%d" % i)
    return d


def split_attrs(s):
    """'a(x),b(c(d))' -> [('a', 'x'), ('b', 'c(d)')]."""
    attrs = []
    for a in systest.split_top(s):
        m = re.fullmatch(r"([a-z0-9_]+)\((.*)\)", a.strip(), re.S)
        assert m, "bad attribute %r" % a
        attrs.append((m.group(1), m.group(2)))
    return attrs


def kv(body):
    return [tuple(p.split("=", 1)) for p in body.split(",") if "=" in p]


def parse_weir(line):
    """ovs-dpctl key line -> normalised dict, kernel key semantics."""
    d = {"vlan0": 0, "vlan1": 0}
    n_vlan = 0

    def walk(attrs):
        nonlocal n_vlan
        for name, body in attrs:
            f = dict(kv(body))
            if name == "eth":
                d["dl_src"], d["dl_dst"] = mac(f["src"]), mac(f["dst"])
            elif name == "eth_type":
                d["dl_type"] = int(body, 0)     # Innermost one wins.
            elif name == "vlan":
                tci = 0
                if body.strip() not in ("", "0"):
                    tci = CFI
                    tci |= int(f.get("vid", 0)) | (int(f.get("pcp", 0)) << 13)
                    if f.get("cfi") == "0":
                        tci &= ~CFI
                d["vlan%d" % n_vlan] = tci
                n_vlan += 1
            elif name == "encap":
                walk(split_attrs(body))
            elif name == "ipv4":
                d["nw_src"], d["nw_dst"] = ip(f["src"]), ip(f["dst"])
                d["nw_proto"] = int(f["proto"], 0)
                d["nw_tos"] = int(f["tos"], 0)
                d["nw_ttl"] = int(f["ttl"], 0)
                d["nw_frag"] = frag(f["frag"])
            elif name == "ipv6":
                d["ipv6_src"], d["ipv6_dst"] = ip(f["src"]), ip(f["dst"])
                d["ipv6_label"] = int(f["label"], 0)
                d["nw_proto"] = int(f["proto"], 0)
                d["nw_tos"] = int(f["tclass"], 0)
                d["nw_ttl"] = int(f["hlimit"], 0)
                d["nw_frag"] = frag(f["frag"])
            elif name == "arp":
                d["nw_src"], d["nw_dst"] = ip(f["sip"]), ip(f["tip"])
                d["arp_op"] = int(f["op"], 0)
                d["arp_sha"], d["arp_tha"] = mac(f["sha"]), mac(f["tha"])
            elif name in ("tcp", "udp", "sctp"):
                d["tp_src"], d["tp_dst"] = int(f["src"]), int(f["dst"])
            elif name in ("icmp", "icmpv6"):
                d["tp_src"], d["tp_dst"] = int(f["type"]), int(f["code"])
            elif name == "tcp_flags":
                d["tcp_flags"] = tcp_flags(body)
            elif name == "nd":
                d["nd_target"] = ip(f.get("target", "::"))
                d["nd_sll"] = mac(f.get("sll", "00:00:00:00:00:00"))
                d["nd_tll"] = mac(f.get("tll", "00:00:00:00:00:00"))
            elif name == "mpls":
                pairs = kv(body)
                if pairs and pairs[0][0].startswith("lse"):
                    for k, v in pairs:
                        d["mpls_" + k] = int(v, 0)
                else:
                    # label=,tc=,ttl=,bos= groups, one per LSE.
                    for i in range(0, len(pairs), 4):
                        g = dict(pairs[i:i + 4])
                        d["mpls_lse%d" % (i // 4)] = (
                            (int(g["label"]) << 12) | (int(g["tc"]) << 9)
                            | (int(g["bos"]) << 8) | int(g["ttl"]))
            # Metadata and attributes OVS cannot show (in_port,
            # recirc_id, ipv6_exthdrs, ...) are not compared.

    walk(split_attrs(line.strip()))
    return d


def normalize_ovs(o, w):
    """Applies the every-packet differences listed above to 'o', the
    ovs-ofctl dict, given 'w', the weir dict."""
    if o.get("dl_type") == 0x05ff and "dl_type" not in w:
        del o["dl_type"]        # 802.2: kernel sends no eth_type.
    return o


def compare(name, ovs_line, weir_line):
    """Returns (number of fields compared, list of mismatch strings)."""
    excused, _ = KNOWN_DIFFS.get(name, (set(), ""))
    if excused == "*":
        return 0, []
    w = parse_weir(weir_line)
    o = normalize_ovs(parse_ovs(ovs_line), w)
    problems, n = [], 0
    for k, v in sorted(o.items()):
        if k in excused:
            continue
        if k not in w:
            problems.append("%s: ovs-ofctl has %s=%r, weir lacks it"
                            % (name, k, v))
            continue
        n += 1
        if w[k] != v:
            problems.append("%s: %s differs: ovs-ofctl %r, weir %r"
                            % (name, k, v, w[k]))
    return n, problems


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, check=False)
    assert r.returncode == 0, "%s failed (%d): %s" % (cmd, r.returncode,
                                                      r.stderr)
    return [l for l in r.stdout.splitlines() if l.strip()]


# The case names are the test ids, so the corpus is generated when the
# module is collected (once per pytest process, shared with the other
# modules that use it).
PCAP, PACKETS = systest.packet_params()
NAMES = systest.pcap_corpus()[1]     # Case names, or the error text.

FIELDS_COMPARED = []


def _fields_summary():
    return ["compared %d fields over %d packets"
            % (sum(FIELDS_COMPARED), len(FIELDS_COMPARED))]


systest.summary(__file__, "pcap corpus: weir flow extract vs ovs-ofctl",
                _fields_summary)


@pytest.fixture(scope="module")
def parsed():
    """Parses the whole corpus once with each tool; returns
    (ovs-ofctl lines, weir lines), one line per packet each."""
    assert PCAP is not None, NAMES
    if not shutil.which("ovs-ofctl"):
        pytest.skip(systest.MISSING_PEER
                    + "ovs-ofctl is not installed (openvswitch-common)")
    weir = systest.require_weir()
    ovs = run(["ovs-ofctl", "parse-pcap", PCAP])
    out = run([weir, "flow", "extract", PCAP, "--in-port", "1"])
    assert len(ovs) == len(NAMES), "ovs-ofctl printed %d lines for %d " \
        "packets" % (len(ovs), len(NAMES))
    assert len(out) == len(NAMES), "weir printed %d lines for %d " \
        "packets" % (len(out), len(NAMES))
    return ovs, out


def test_known_diffs_name_real_cases():
    """Every KNOWN_DIFFS entry names a packet of the corpus (no stale
    excuses)."""
    assert PCAP is not None, NAMES
    assert set(KNOWN_DIFFS) <= set(NAMES)


@pytest.mark.parametrize("index", PACKETS)
def test_extract_matches_ovs(parsed, index):
    """For one packet: every field ovs-ofctl parse-pcap prints that has a
    kernel-key counterpart is printed by weir with the same value, except
    the fields KNOWN_DIFFS excuses for this packet; and a packet without
    excuses has at least 4 fields compared."""
    ovs, weir = parsed
    name = NAMES[index]
    n, problems = compare(name, ovs[index], weir[index])
    FIELDS_COMPARED.append(n)
    if name not in KNOWN_DIFFS:
        assert n >= 4, "%s: only %d fields compared" % (name, n)
    assert not problems, "\n".join(
        problems + ["ovs-ofctl: " + ovs[index], "weir:      " + weir[index]])
