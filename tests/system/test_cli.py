# SPDX-License-Identifier: Apache-2.0
"""The `weir` command line itself: help, exit statuses, error reasons,
batch mode, and the canonical forms `weir flow parse` prints.

Exit statuses are 0 (ok), 1 (bad input) and 2 (usage).  Every error goes
to stderr as "weir: <reason>", and a bad input's reason names the token
that is wrong.  In batch mode ('-') each input line gives exactly one
output line, an "error: ..." line for a bad one, and the exit status is 1
if any line failed.
"""

import subprocess

import pytest

from systest import require_weir, run_batch, weir_bin


def weir(*args, stdin=None):
    require_weir()
    return subprocess.run([weir_bin()] + list(args), input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60, check=False)


HELP = [(), ("flow",), ("flow", "extract"), ("flow", "parse"),
        ("flow", "encode-nl"), ("flow", "decode-nl")]


@pytest.mark.parametrize("cmd", HELP, ids=lambda c: " ".join(c) or "weir")
def test_help_exits_zero(cmd):
    """--help works on every command and prints a usage text."""
    r = weir(*cmd, "--help")
    assert r.returncode == 0
    assert "usage: weir" in r.stdout


USAGE_ERRORS = [
    ((), "usage: weir"),
    (("bogus",), "unknown command 'bogus'"),
    (("flow",), "usage: weir flow"),
    (("flow", "bogus"), "unknown flow command 'bogus'"),
    (("flow", "extract"), "missing FILE.pcap"),
    (("flow", "extract", "x.pcap", "--in-port", "one"), "not a port number"),
    (("flow", "parse"), "missing flow text"),
    (("flow", "parse", "in_port(1)", "extra"), "unexpected argument"),
    (("flow", "encode-nl"), "missing input"),
]


@pytest.mark.parametrize("cmd,reason", USAGE_ERRORS,
                         ids=lambda x: " ".join(x) if isinstance(x, tuple)
                         else None)
def test_usage_errors_exit_two(cmd, reason):
    """A wrong command line exits 2 with a reason on stderr."""
    r = weir(*cmd)
    assert r.returncode == 2
    assert reason in r.stderr


BAD_INPUTS = [
    (("flow", "parse", "in_port(1),ipv4(sorc=1.2.3.4)"),
     "ipv4: unknown field 'sorc'"),
    (("flow", "encode-nl", "eth(src=zz)"), "bad value for 'src' at 'zz'"),
    (("flow", "parse", "in_port(1) frobnicate(3)"), "frobnicate"),
    (("flow", "encode-nl", "--actions", "set(ipv4(src=1.2.3.4)"),
     "expected ')' at end of input"),
    (("flow", "encode-nl", "--actions", "1,frob(2)"), "frob"),
    (("flow", "decode-nl", "--check", "0102"), "trailing bytes"),
    (("flow", "decode-nl", "--check", "0400030001"),
     "in_port attribute has length 0, expected 4"),
    (("flow", "decode-nl", "--actions", "--check", "08000100ffff0000"),
     "port 65535 is out of range"),
    (("flow", "decode-nl", "zz"), "not a hex string"),
    (("flow", "extract", "/nonexistent/x.pcap"), "No such file"),
]


@pytest.mark.parametrize("cmd,reason", BAD_INPUTS,
                         ids=lambda x: x[1] if isinstance(x, tuple)
                         else None)
def test_bad_input_exits_one_with_reason(cmd, reason):
    """Bad input exits 1 and the reason names what is wrong."""
    r = weir(*cmd)
    assert r.returncode == 1, r.stdout
    assert r.stderr.startswith("weir: ")
    assert reason in r.stderr


def test_batch_keeps_one_line_per_input():
    """A bad line in the middle yields an error line in its place."""
    require_weir()
    lines = ["in_port(1),eth_type(0x0806)", "in_port(1),bogus(2)",
             "in_port(2),eth_type(0x86dd)"]
    out, rc, _ = run_batch(["flow", "encode-nl", "-"], lines)
    assert rc == 1
    assert len(out) == 3
    assert out[1].startswith("error: key: ")
    assert not out[0].startswith("error") and not out[2].startswith("error")
    back, rc, _ = run_batch(["flow", "decode-nl", "-"], [out[0], out[2]])
    assert rc == 0
    assert back == [lines[0], lines[2]]


CANONICAL = [
    # Masked fields print as value/mask, wildcarded attributes disappear,
    # and the order becomes the kernel's.
    ("eth(src=00:01:02:03:04:05,dst=10:11:12:13:14:15),in_port(1),"
     "eth_type(0x0800),ipv4(src=10.0.0.1/255.255.255.0,dst=10.0.0.2,"
     "proto=6,tos=0,ttl=64,frag=no) 2",
     "in_port(1),eth(src=00:01:02:03:04:05,dst=10:11:12:13:14:15),"
     "eth_type(0x0800),ipv4(src=10.0.0.1/255.255.255.0,dst=10.0.0.2,"
     "proto=6,tos=0,ttl=64,frag=no) actions:2"),
    # A UFID comes first; "actions:" is optional on input.
    ("ufid:12345678-1234-5678-9abc-def012345678,in_port(1),"
     "eth_type(0x0806),arp(sip=1.2.3.4) actions:drop",
     "ufid:12345678-1234-5678-9abc-def012345678,in_port(1),"
     "eth_type(0x0806),arp(sip=1.2.3.4) actions:drop"),
    # A VLAN megaflow: the tag's type and the inner type are exact.
    # A wildcarded eth() still prints: it says "this is an Ethernet packet"
    # (OVS prints it too).
    ("in_port(3),eth(),eth_type(0x8100),vlan(vid=10),"
     "encap(eth_type(0x0800),ipv4(frag=no)) pop_vlan,1",
     "in_port(3),eth(),eth_type(0x8100),vlan(vid=10),"
     "encap(eth_type(0x0800),ipv4(frag=no)) actions:pop_vlan,1"),
]


@pytest.mark.parametrize("text,want", CANONICAL,
                         ids=["masked-ipv4", "ufid-arp", "vlan-megaflow"])
def test_parse_prints_canonical_form(text, want):
    """`weir flow parse` decodes as the datapath would and prints the
    result as ovs-dpctl dump-flows shows an installed flow; its output
    parses back to itself."""
    r = weir("flow", "parse", text)
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip("\n") == want
    again = weir("flow", "parse", want)
    assert again.stdout.rstrip("\n") == want


def test_parse_refuses_what_the_datapath_cannot_model():
    """A flow with tunnel metadata would lose it on install (FIT_TOO_MUCH):
    `weir flow parse` refuses it, while encode-nl/decode-nl still show the
    text round-trip."""
    text = "tunnel(tun_id=0x1,dst=1.1.1.1,flags(key)),in_port(1)," \
           "eth_type(0x1234)"
    r = weir("flow", "parse", text)
    assert r.returncode == 1
    assert "does not model yet" in r.stderr
    out, rc, _ = run_batch(["flow", "encode-nl", "-"], [text])
    back, rc, _ = run_batch(["flow", "decode-nl", "-"], out)
    assert back == [text]


def test_extract_in_port_range():
    """--in-port takes a datapath port number: decimal, 0 to 65534."""
    for bad in ("65535", "-1", "0x10", "one"):
        r = weir("flow", "extract", "x.pcap", "--in-port", bad)
        assert r.returncode == 2, bad
        assert "not a port number" in r.stderr


def test_unknown_options_are_usage_errors():
    """An option no command knows is a usage error, not flow text."""
    for cmd in (("flow", "parse"), ("flow", "encode-nl"),
                ("flow", "decode-nl")):
        r = weir(*cmd, "--bogus")
        assert r.returncode == 2
        assert "unknown option '--bogus'" in r.stderr
