# SPDX-License-Identifier: Apache-2.0
"""odp.at key goldens: text -> netlink -> text through the weir CLI.

Every key case of OVS's tests/odp.at ("OVS datapath key parsing and
formatting - valid forms" and "... wildcarded key ... - valid forms",
expanded by tests/codec/odp_at.py) goes through

    weir flow encode-nl -   (text -> "KEYHEX" or "KEYHEX MASKHEX")
    weir flow decode-nl -   (hex -> text)

and must come back byte-for-byte.  Cases using field sets weir does not
parse yet are skipped with a reason and counted.  Run with
/usr/bin/python3 -m pytest; WEIR_BIN overrides the binary
(default build/src/tools/weir under the repository root).
"""

import collections
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

# (substring, reason): cases containing it are skipped.
UNSUPPORTED = (
    ("tunnel(", "tunnel() not supported yet"),
    ("nsh(", "nsh() not supported yet"),
)


def skip_reason(line):
    for token, reason in UNSUPPORTED:
        if token in line:
            return reason
    return None


def run_weir(command, lines):
    """Runs 'weir flow <command> -' on 'lines'; returns its stdout lines."""
    proc = subprocess.run([WEIR, "flow", command, "-"],
                          input="".join(l + "\n" for l in lines),
                          capture_output=True, text=True, timeout=120)
    out = proc.stdout.splitlines()
    if proc.returncode != 0 or len(out) != len(lines):
        return None, proc.stderr
    return out, proc.stderr


def round_trip_one(line):
    hexes, err = run_weir("encode-nl", [line])
    if hexes is None:
        return None, "encode-nl failed: " + err.strip()
    texts, err = run_weir("decode-nl", hexes)
    if texts is None:
        return None, "decode-nl of %s failed: %s" % (hexes[0], err.strip())
    return texts[0], None


def test_odp_at_key_round_trips():
    if not os.access(WEIR, os.X_OK):
        pytest.skip("no weir binary at %s (set WEIR_BIN)" % WEIR)

    cases = odp_at.key_cases()
    assert len(cases) > 400, "odp.at expansion lost cases"

    run = []
    skipped = collections.Counter()
    for comment, line in cases:
        reason = skip_reason(line)
        if reason:
            skipped[reason] += 1
        else:
            run.append((comment, line))

    # One batch each way; fall back to one process per case if the CLI
    # rejected a line (so the report names it).
    lines = [line for _, line in run]
    hexes, _ = run_weir("encode-nl", lines)
    texts = run_weir("decode-nl", hexes)[0] if hexes else None

    failures = []
    for i, (comment, line) in enumerate(run):
        if texts is not None:
            out, err = texts[i], None
        else:
            out, err = round_trip_one(line)
        if err or out != line:
            failures.append("%s\n  in:  %s\n  out: %s" % (
                comment, line, err or out))

    print("\nodp.at key goldens: %d cases, %d ran, %d skipped"
          % (len(cases), len(run), sum(skipped.values())))
    for reason, n in sorted(skipped.items()):
        print("  skipped %d: %s" % (n, reason))
    print("  failed %d" % len(failures))
    assert not failures, "%d of %d round trips differ:\n%s" % (
        len(failures), len(run), "\n".join(failures[:20]))
