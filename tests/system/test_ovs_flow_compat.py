# SPDX-License-Identifier: Apache-2.0
"""weir's flow text vs. python3-openvswitch's parser (ovs.flow.odp).

Tools built on OVS's Python library (ovs-flowviz, ovn-detrace, ...) read
datapath flows with ovs.flow.odp.ODPFlow, which wants a whole flow line,
"[ufid:U,]MATCH[ INFO], actions:ACTIONS".  Whatever weir prints must be
readable by it:

(a) Every line of `weir flow extract` over the gen-pcaps.py corpus, with
    ", actions:drop" appended, must parse (test_extract_line_parses), and
    the values ODPFlow reads must be the packet's: equal to the fields of
    the same weir line read by test_extract.parse_weir(), and equal to
    what `ovs-ofctl parse-pcap` prints for the packet, field by field,
    outside the differences test_extract.KNOWN_DIFFS excuses
    (test_extract_values).
(b) Every odp.at key golden and action golden weir supports, as printed
    by `weir flow decode-nl` (-> "KEY, actions:drop" and
    "in_port(1), actions:ACTIONS"), must parse, and the parsed top-level
    names must be exactly those of the text.

ODPFlow does not know everything OVS prints.  A failure is excused only
if ODPFlow fails the same way on OVS's own text: for odp.at, the golden
line itself (which OVS prints byte-for-byte); for the packet corpus, the
constructs listed in LIMITATIONS, each checked by showing that ODPFlow
fails on the line and succeeds once the construct is removed.  Those
cases are skipped with the reason.  If ODPFlow rejects weir's text but
accepts OVS's, the case fails: that is a weir bug.

Each CLI command runs once per module (batch mode); each packet and each
golden line is its own test case.
"""

import ipaddress
import os
import re
import shutil
import sys
import tarfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "codec"))

import odp_at  # noqa: E402
import systest  # noqa: E402
import test_extract  # noqa: E402
import test_odp_action_goldens  # noqa: E402
import test_odp_goldens  # noqa: E402

try:
    from ovs.flow.odp import ODPFlow
except ImportError as e:      # python3-openvswitch or python3-netaddr.
    ODPFlow = None
    IMPORT_ERROR = systest.MISSING_PEER + "ovs.flow is not importable " \
        "(%s); install python3-openvswitch, python3-netaddr and " \
        "python3-pyparsing" % e

pytestmark = pytest.mark.skipif(ODPFlow is None,
                                reason=globals().get("IMPORT_ERROR", ""))

ACTION_KEY = "in_port(1)"


def _remove_attr(text, start):
    """Removes the attribute that begins at text[start] (name(...)),
    with one adjacent comma."""
    depth, i = 0, text.index("(", start)
    while True:
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if not depth:
                break
        i += 1
    end = i + 1
    if end < len(text) and text[end] == ",":
        end += 1
    elif start and text[start - 1] == ",":
        start -= 1
    return text[:start] + text[end:]


def _strip(pattern):
    """Returns a function removing every attribute whose start matches
    'pattern' (innermost last, so that offsets stay valid)."""
    def strip(text):
        while True:
            found = list(re.finditer(pattern, text))
            if not found:
                return text
            text = _remove_attr(text, found[-1].start(1))
    return strip


# An encap() inside an encap(), with something in it.
INNER_ENCAP = r"encap\([^()]*(?:\([^()]*\)[^()]*)*(encap)\((?!\))"

# Constructs that OVS prints and that ODPFlow (python3-openvswitch 3.1)
# cannot read: (regex finding it, reason, function removing it).
LIMITATIONS = (
    (r"(?:^|,)(ipv6_exthdrs)\(",
     "ODPFlow 3.1 has no decoder for ipv6_exthdrs() (the kernel's "
     "OVS_KEY_ATTR_IPV6_EXTHDRS, in every IPv6 key; OVS 3.1's odp-util.c "
     "does not know it either)",
     _strip(r"(?:^|,)(ipv6_exthdrs)\(")),
    (INNER_ENCAP,
     "ODPFlow's encap() decoder does not nest: it cannot read a non-empty "
     "inner encap() (OVS prints one for two VLAN tags)",
     _strip(INNER_ENCAP)),
    (r"(?:^|,)(mpls)\(\(bad key length",
     "ODPFlow cannot read OVS's \"mpls((bad key length N))\" (odp-util.c "
     "format_odp_key_attr__ for an MPLS attribute of no complete label)",
     _strip(r"(?:^|,)(mpls)\(\(bad key length")),
)


def parses(text):
    """Returns (ODPFlow or None, error text)."""
    try:
        return ODPFlow(text), None
    except Exception as e:   # ODPFlow raises ParseError, ValueError, ...
        cause = e.__cause__ or e.__context__
        return None, "%s: %s%s" % (type(e).__name__, e,
                                   " (%s)" % cause if cause else "")


def key_flow(key):
    return "%s, actions:drop" % key


def limitations_of(line):
    return [(reason, strip) for pattern, reason, strip in LIMITATIONS
            if re.search(pattern, line)]


def reduce_line(line):
    """'line' without the constructs of LIMITATIONS, and their reasons."""
    reasons = []
    for reason, strip in limitations_of(line):
        line = strip(line)
        reasons.append(reason)
    return line, reasons


def item_name(item, free="output"):
    """The name ODPFlow gives a top-level item: the text before '(' or
    '=' / ':', or 'free' for a bare port number."""
    if re.fullmatch(r"\d+", item):
        return free
    return re.match(r"[^(=:]*", item).group(0)


# --- field extraction from a parsed ODPFlow ------------------------------

def mac_text(eth_mask):
    return ":".join("%02x" % b for b in eth_mask.eth.value.to_bytes(
        6, "big"))


def ip_text(ip_mask):
    return str(ipaddress.ip_address(str(ip_mask.ip)))


def odpflow_fields(flow):
    """Normalised fields (test_extract's names and units) from an ODPFlow
    match, plus 'in_port' and 'mpls_last' (ODPFlow keeps only the last
    label stack entry of a multi-label mpls())."""
    d = {"vlan0": 0, "vlan1": 0}
    n_vlan = 0

    def walk(pairs):
        nonlocal n_vlan
        for key, v in pairs:
            if key == "in_port":
                d["in_port"] = v
            elif key == "eth":
                d["dl_src"], d["dl_dst"] = mac_text(v["src"]), \
                    mac_text(v["dst"])
            elif key == "eth_type":
                d["dl_type"] = v.value
            elif key == "vlan":
                tci = 0
                if isinstance(v, dict) and v:
                    tci = test_extract.CFI
                    tci |= v["vid"].value | (v["pcp"].value << 13)
                    if "cfi" in v and not v["cfi"].value:
                        tci &= ~test_extract.CFI
                d["vlan%d" % n_vlan] = tci
                n_vlan += 1
            elif key == "encap":
                walk(v.items() if isinstance(v, dict) else [])
            elif key == "ipv4":
                d["nw_src"], d["nw_dst"] = ip_text(v["src"]), \
                    ip_text(v["dst"])
                d["nw_proto"] = v["proto"].value
                d["nw_tos"] = v["tos"].value
                d["nw_ttl"] = v["ttl"].value
                d["nw_frag"] = v["frag"]
            elif key == "ipv6":
                d["ipv6_src"], d["ipv6_dst"] = ip_text(v["src"]), \
                    ip_text(v["dst"])
                d["ipv6_label"] = v["label"].value
                d["nw_proto"] = v["proto"].value
                d["nw_tos"] = v["tclass"].value
                d["nw_ttl"] = v["hlimit"].value
                d["nw_frag"] = v["frag"]
            elif key == "arp":
                d["nw_src"], d["nw_dst"] = ip_text(v["sip"]), \
                    ip_text(v["tip"])
                d["arp_op"] = v["op"].value
                d["arp_sha"], d["arp_tha"] = mac_text(v["sha"]), \
                    mac_text(v["tha"])
            elif key in ("tcp", "udp", "sctp"):
                d["tp_src"], d["tp_dst"] = v["src"].value, v["dst"].value
            elif key in ("icmp", "icmpv6"):
                d["tp_src"], d["tp_dst"] = v["type"].value, v["code"].value
            elif key == "tcp_flags":
                d["tcp_flags"] = test_extract.tcp_flags(str(v))
            elif key == "nd":
                d["nd_target"] = ip_text(v["target"])
                d["nd_sll"], d["nd_tll"] = mac_text(v["sll"]), \
                    mac_text(v["tll"])
            elif key == "mpls":
                d["mpls_last"] = ((v["label"].value << 12)
                                  | (v["tc"].value << 9)
                                  | (v["bos"].value << 8) | v["ttl"].value)

    walk((kv.key, kv.value) for kv in flow.match_kv)
    return d


# --- (a) the packet corpus -----------------------------------------------

PCAP, PACKETS = systest.packet_params()
NAMES = systest.pcap_corpus()[1]     # Case names, or the error text.


@pytest.fixture(scope="module")
def extracted():
    """`weir flow extract` over the corpus (one run), and `ovs-ofctl
    parse-pcap` (one run) if installed, else None."""
    assert PCAP is not None, NAMES
    weir = systest.require_weir()
    out = test_extract.run([weir, "flow", "extract", PCAP, "--in-port",
                            "1"])
    assert len(out) == len(NAMES), "weir printed %d lines for %d packets" \
        % (len(out), len(NAMES))
    ovs = None
    if shutil.which("ovs-ofctl"):
        ovs = test_extract.run(["ovs-ofctl", "parse-pcap", PCAP])
        assert len(ovs) == len(NAMES)
    return out, ovs


def weir_line(extracted, index):
    line = extracted[0][index]
    if line.startswith("error:"):
        name = NAMES[index]
        assert test_extract.KNOWN_DIFFS.get(name, ("",))[0] == "*", \
            "%s: weir printed no key: %s" % (name, line)
        pytest.skip("weir prints no key for this packet (%s)"
                    % test_extract.KNOWN_DIFFS[name][1])
    return line


@pytest.mark.parametrize("index", PACKETS)
def test_extract_line_parses(extracted, index):
    """ODPFlow parses weir's key line for the packet, and reads the same
    top-level attributes, in order.  If the line holds a construct of
    LIMITATIONS, ODPFlow must fail on it and parse the line without the
    construct, and the case is skipped with the reason."""
    line = weir_line(extracted, index)
    flow, err = parses(key_flow(line))
    reduced, reasons = reduce_line(line)
    if reasons:
        assert flow is None, "ODPFlow now parses %s; drop the " \
            "LIMITATIONS entry" % line
        rflow, rerr = parses(key_flow(reduced))
        assert rflow is not None, "ODPFlow fails on %s even without %s: %s" \
            % (line, "; ".join(reasons), rerr)
        pytest.skip("; ".join(reasons))
    assert flow is not None, "ODPFlow rejects weir's %s: %s" % (line, err)
    assert [kv.key for kv in flow.match_kv] == \
        [item_name(i) for i in systest.split_top(line) if i]


@pytest.mark.parametrize("index", PACKETS)
def test_extract_values(extracted, index):
    """The values ODPFlow reads from weir's line (without the LIMITATIONS
    constructs) are the packet's: in_port is 1, every field equals what
    test_extract.parse_weir() reads from the same line, no field of the
    weir line outside the removed constructs is lost, and every field
    ovs-ofctl parse-pcap prints (outside KNOWN_DIFFS) that ODPFlow has
    is equal, at least 4 of them for a packet without excuses."""
    line = weir_line(extracted, index)
    name = NAMES[index]
    reduced, _ = reduce_line(line)
    flow, err = parses(key_flow(reduced))
    assert flow is not None, "ODPFlow rejects weir's %s: %s" % (reduced, err)
    got = odpflow_fields(flow)
    assert got.pop("in_port") == 1

    want = test_extract.parse_weir(reduced)
    lses = [want.pop(k) for k in ("mpls_lse0", "mpls_lse1", "mpls_lse2")
            if k in want]
    if lses:
        want["mpls_last"] = lses[-1]
    assert got == want, "%s: ODPFlow read %r, the line says %r" % (
        name, got, want)

    ovs_lines = extracted[1]
    if ovs_lines is None:
        return
    # Fields the removed constructs held or changed (the inner encap()
    # holds the innermost eth_type) cannot be compared with ovs-ofctl.
    full = test_extract.parse_weir(line)
    excused = set(test_extract.KNOWN_DIFFS.get(name, (set(),))[0])
    excused |= {k for k in set(full) | set(want)
                if full.get(k) != want.get(k)}
    o = test_extract.normalize_ovs(test_extract.parse_ovs(ovs_lines[index]),
                                   got)
    compared = 0
    for k, v in sorted(o.items()):
        if k in excused or k not in got:
            continue
        assert got[k] == v, "%s: %s: ovs-ofctl %r, ODPFlow of weir's " \
            "line %r" % (name, k, v, got[k])
        compared += 1
    if name not in test_extract.KNOWN_DIFFS:
        assert compared >= 4, "%s: only %d fields compared" % (name,
                                                               compared)


def test_mpls_bad_length_is_ovs_text():
    """The "mpls((bad key length N))" LIMITATIONS excuses is OVS's own
    text: OVS's odp-util.c (from the openvswitch-source tarball) prints
    exactly "(bad key length %"PRIuSIZE")" inside mpls() for an MPLS
    attribute of no complete label, and ODPFlow fails on that text."""
    try:
        with tarfile.open(odp_at.TARBALL) as tar:
            member = next(m for m in tar.getmembers()
                          if m.name.endswith("lib/odp-util.c"))
            src = tar.extractfile(member).read().decode()
    except (OSError, StopIteration) as e:
        pytest.skip(systest.MISSING_PEER
                    + "no OVS source at %s: %s" % (odp_at.TARBALL, e))
    case = src[src.index("case OVS_KEY_ATTR_MPLS: {"):]
    case = case[:case.index("break;")]
    assert 'ds_put_format(ds, "(bad key length %"PRIuSIZE")", size);' \
        in case
    flow, _ = parses(key_flow("in_port(1),eth_type(0x8847),"
                              "mpls((bad key length 0))"))
    assert flow is None


# --- (b) odp.at goldens --------------------------------------------------

def _golden_params(cases, skip_reason):
    params = []
    for i, line in enumerate(cases):
        reason = skip_reason(line)
        marks = [pytest.mark.skip(reason="weir: " + reason)] if reason \
            else []
        params.append(pytest.param(i, id=systest.case_id(i, line),
                                   marks=marks))
    return params or [pytest.param(None, id="no-odp.at", marks=[
        pytest.mark.skip(reason="cannot read odp.at")])]


KEY_LINES = [line for _, line in test_odp_goldens.CASES]
ACTION_LINES = test_odp_action_goldens.CASES


@pytest.fixture(scope="module")
def decoded_keys():
    """{index: weir decode-nl text} for the supported key goldens (one
    encode-nl batch, one decode-nl batch)."""
    systest.require_weir()
    run = [i for i, l in enumerate(KEY_LINES)
           if not test_odp_goldens.skip_reason(l)]
    hexes = test_odp_action_goldens.run(["flow", "encode-nl", "-"],
                                        [KEY_LINES[i] for i in run])
    texts = test_odp_action_goldens.run(["flow", "decode-nl", "-"], hexes)
    return dict(zip(run, texts))


@pytest.fixture(scope="module")
def decoded_actions():
    """{index: weir decode-nl --actions text} for the supported action
    goldens (one batch each way)."""
    systest.require_weir()
    run = [i for i, l in enumerate(ACTION_LINES)
           if not test_odp_action_goldens.skip_reason(l)]
    hexes = test_odp_action_goldens.run(
        ["flow", "encode-nl", "--actions", "-"],
        [ACTION_LINES[i] for i in run])
    texts = test_odp_action_goldens.run(
        ["flow", "decode-nl", "--actions", "-"], hexes)
    return dict(zip(run, texts))


def check_golden(weir_text, golden, flow_of, section, free):
    """ODPFlow parses flow_of(weir_text) and its 'section' names are the
    text's top-level names; an ODPFlow failure is skipped only if ODPFlow
    also fails on flow_of(golden), OVS's text."""
    assert not weir_text.startswith("error"), weir_text
    flow, err = parses(flow_of(weir_text))
    if flow is None:
        ovs_flow, ovs_err = parses(flow_of(golden))
        assert ovs_flow is None, "weir bug: ODPFlow parses OVS's %r but " \
            "not weir's %r: %s" % (golden, weir_text, err)
        pytest.skip("ODPFlow cannot parse this OVS text either: %s"
                    % ovs_err)
    names = [kv.key for kv in getattr(flow, section + "_kv")]
    assert names == [item_name(i, free)
                     for i in systest.split_top(weir_text) if i], \
        "%s: ODPFlow read %s" % (weir_text, names)


@pytest.mark.parametrize("index", _golden_params(
    KEY_LINES, test_odp_goldens.skip_reason))
def test_key_golden_parses(decoded_keys, index):
    """ODPFlow parses weir's decode-nl text of an odp.at key golden as a
    flow match ("KEY, actions:drop") with the same top-level keys, in
    order (or fails on the golden itself too: skipped)."""
    check_golden(decoded_keys[index], KEY_LINES[index], key_flow, "match",
                 None)


@pytest.mark.parametrize("index", _golden_params(
    ACTION_LINES, test_odp_action_goldens.skip_reason))
def test_action_golden_parses(decoded_actions, index):
    """ODPFlow parses weir's decode-nl --actions text of an odp.at action
    golden ("in_port(1), actions:ACTIONS") with the same top-level action
    names, in order, bare port numbers read as 'output' (or fails on the
    golden itself too: skipped)."""
    check_golden(decoded_actions[index], ACTION_LINES[index],
                 lambda a: "%s, actions:%s" % (ACTION_KEY, a), "actions",
                 "output")


def _compat_summary():
    return ["ODPFlow = python3-openvswitch's ovs.flow.odp parser"]


systest.summary(__file__, "python3-openvswitch ODPFlow vs weir's text",
                _compat_summary)
