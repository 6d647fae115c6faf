# SPDX-License-Identifier: Apache-2.0
"""Shared plumbing for the system tests (not a test module itself).

- weir_bin() / require_weir(): the CLI under test ($WEIR_BIN, default
  build/src/tools/weir under the repository root); require_weir() skips
  the calling test or fixture when it is missing, so that collection never
  depends on a build.
- run_batch(): one `weir ... -` process for a whole list of inputs (one
  input per stdin line, one output line per input).
- pcap_corpus(): the tests/data/gen-pcaps.py corpus, generated once per
  pytest process into a temporary directory at collection time, because
  the packet names are the test ids.
- case_id(): a readable, node-id-safe test id from an index and a line.
- split_top(): the top-level comma-separated items of flow text.
- summary(): registers a block for the closing "weir system tests"
  section that conftest.py prints (per-module counts, skip reasons and
  extra figures such as the number of fields compared).
"""

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GEN_PCAPS = os.path.join(ROOT, "tests", "data", "gen-pcaps.py")

# Prefix of every skip reason that means "a peer the test needs (the weir
# binary, ovs-ofctl, Open vSwitch's source, python3-openvswitch) is not
# installed".  conftest.py turns such skips into failures when
# WEIR_REQUIRE_PEERS is set, as scripts/check.sh does.
MISSING_PEER = "missing peer: "

# (test file basename, title, callable returning extra summary lines).
SUMMARIES = []


def weir_bin():
    """Returns the path of the weir binary under test."""
    path = os.environ.get("WEIR_BIN", os.path.join("build", "src", "tools",
                                                   "weir"))
    return path if os.path.isabs(path) else os.path.join(ROOT, path)


def require_weir():
    """Skips the current test (or fixture) if there is no weir binary."""
    path = weir_bin()
    if not os.access(path, os.X_OK):
        pytest.skip(MISSING_PEER + "no weir binary at %s (build it or set "
                    "WEIR_BIN)" % path)
    return path


def run_batch(args, lines, timeout=120):
    """Runs 'weir ARGS' with 'lines' on stdin, one per line.  Returns
    (stdout lines, returncode, stderr).  The caller checks that there is
    one output line per input."""
    proc = subprocess.run([weir_bin()] + list(args),
                          input="".join(l + "\n" for l in lines),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout,
                          check=False)
    return proc.stdout.splitlines(), proc.returncode, proc.stderr


_corpus = {}


def pcap_corpus():
    """Generates the pcap corpus once per process.  Returns (pcap path,
    [case names]) or (None, error text) if gen-pcaps.py failed."""
    if "result" not in _corpus:
        out = tempfile.mkdtemp(prefix="weir-pcaps-")
        atexit.register(shutil.rmtree, out, True)
        proc = subprocess.run([sys.executable, GEN_PCAPS, out],
                              stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE,
                              universal_newlines=True, check=False)
        if proc.returncode != 0:
            _corpus["result"] = (None, "gen-pcaps.py failed (%d): %s"
                                 % (proc.returncode, proc.stderr.strip()))
        else:
            with open(os.path.join(out, "cases.txt")) as f:
                names = [l.strip() for l in f if l.strip()]
            _corpus["result"] = (os.path.join(out, "corpus.pcap"), names)
    return _corpus["result"]


def packet_params():
    """Returns (pcap path, pytest params): one param per corpus packet,
    indexed and named by its case, or a single skipped param (a missing
    peer: scapy) when the corpus could not be generated."""
    pcap, names = pcap_corpus()
    if pcap is None:
        return None, [pytest.param(None, id="no-corpus",
                                   marks=pytest.mark.skip(
                                       reason=MISSING_PEER + names))]
    return pcap, [pytest.param(i, id=name) for i, name in enumerate(names)]


def case_id(index, line, width=36):
    """'017-in_port(1),eth(src=00_01_...' : the index keeps ids unique and
    stable, the prefix makes them readable.  Characters that are awkward
    in pytest node ids or shells ('[', ']', ':', spaces, ...) become
    '_'."""
    return "%03d-%s" % (index, re.sub(r"[^A-Za-z0-9_.,=()/+-]", "_",
                                       line[:width]))


def split_top(text):
    """Top-level comma-separated items of 'text': 'a(b,c),d' -> ['a(b,c)',
    'd'].  Empty items are kept, except a last one."""
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    if text[start:]:
        items.append(text[start:])
    return items


def summary(test_file, title, extra=None):
    """Registers 'title' for the closing summary of the outcomes of the
    tests in 'test_file'; 'extra()' may return further lines."""
    SUMMARIES.append((os.path.basename(test_file), title, extra))
