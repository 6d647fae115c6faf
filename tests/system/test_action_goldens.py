# SPDX-License-Identifier: Apache-2.0
"""Action executor vs. scapy: golden packets for every action.

tests/data/gen-action-goldens.py writes the cases (input packets, an
ovs-dpctl action list, and what must come out: packets per port, upcalls,
recirculations, drop counts), all computed by scapy.  Each case is one
test: the runner dpx-golden (tests/unit/dpx-golden.c) runs the actions
through dpx_execute() with a recording environment and compares byte for
byte; its report is the failure message.

The cases are generated once per pytest process, at collection time (the
case names are the test ids), into a temporary directory.

Run: /usr/bin/python3 -m pytest tests/system/test_action_goldens.py
The runner is $WEIR_BUILD/tests/unit/dpx-golden; WEIR_BUILD is the Meson
build directory, default build/ (relative paths are taken from the
repository root).
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import systest  # noqa: E402

GEN = os.path.join(systest.ROOT, "tests", "data", "gen-action-goldens.py")


def runner_path():
    """The dpx-golden executable under $WEIR_BUILD (default build/)."""
    build = os.environ.get("WEIR_BUILD", "build")
    if not os.path.isabs(build):
        build = os.path.join(systest.ROOT, build)
    return os.path.join(build, "tests", "unit", "dpx-golden")


def generate():
    """Returns (case directory, [case names]), or (None, reason) when the
    generator (scapy) fails."""
    out = tempfile.mkdtemp(prefix="weir-action-goldens-")
    atexit.register(shutil.rmtree, out, True)
    proc = subprocess.run([sys.executable, GEN, out], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True,
                          check=False)
    if proc.returncode != 0:
        return None, ("gen-action-goldens.py failed (%d): %s"
                      % (proc.returncode, proc.stderr.strip()))
    with open(os.path.join(out, "cases.txt")) as f:
        return out, [line.strip() for line in f if line.strip()]


CASE_DIR, CASES = generate()


def params():
    if CASE_DIR is None:
        return [pytest.param(None, id="no-cases", marks=pytest.mark.skip(
            reason=systest.MISSING_PEER + CASES))]
    return [pytest.param(name, id=name) for name in CASES]


_counts = {"packets": 0}


def _extra():
    if CASE_DIR is None:
        return []
    return ["%d golden cases from gen-action-goldens.py, %d expected "
            "packets compared" % (len(CASES), _counts["packets"])]


systest.summary(__file__, "action goldens (dpx_execute vs scapy)", _extra)


def _count_expected(case_dir):
    """Expected packets in a case: one per pcap record."""
    n = 0
    for name in os.listdir(case_dir):
        if name.endswith(".pcap") and name != "input.pcap":
            with open(os.path.join(case_dir, name), "rb") as f:
                data = f.read()
            ofs = 24
            while ofs + 16 <= len(data):
                caplen = int.from_bytes(data[ofs + 8:ofs + 12], "little")
                ofs += 16 + caplen
                n += 1
    return n


@pytest.mark.parametrize("name", params())
def test_action_golden(name):
    runner = runner_path()
    if not os.access(runner, os.X_OK):
        pytest.skip(systest.MISSING_PEER + "no dpx-golden at %s (build it "
                    "or set WEIR_BUILD)" % runner)
    case_dir = os.path.join(CASE_DIR, name)
    proc = subprocess.run([runner, case_dir], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=60, check=False)
    with open(os.path.join(case_dir, "actions")) as f:
        actions = f.read().strip()
    assert proc.returncode == 0, "actions: %s\n%s" % (actions, proc.stdout)
    _counts["packets"] += _count_expected(case_dir)
