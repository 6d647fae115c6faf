#!/usr/bin/python3
"""Adds up the results of scripts/check.sh into one closing line.

Reads, from the results directory given as argv[1]:
  meson.json   Meson's testlog (one JSON object per line).  A cmocka unit
               executable counts as its individual test cases (from its
               "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)" lines);
               any other Meson test counts as one.
  meson-tsan.json  the same, from the ThreadSanitizer build's 'tsan' suite.
  pytest.xml   pytest's JUnit XML: one per test case, skips counted apart.
  fuzz.txt     lines "pass ..." / "fail ..." from the fuzz smoke run.
  builds.txt   the same for builds that are checked only for compiling.
  ovs-kmod.json  scripts/ovs-kmod-tests.py's results: one per Open vSwitch
               kernel system test run; a test of the expected-pass set
               that did not pass counts as failed (even if it skipped),
               and so does a run that stopped early.
Prints a per-part breakdown and then "N passed, N failed, N skipped".
Exits 1 if anything failed or a part is missing.
"""

import json
import os
import re
import sys
import xml.etree.ElementTree as ET


def meson_counts(path):
    passed = failed = 0
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            t = json.loads(line)
            # cmocka prints its summary lines on stderr.
            out = (t.get("stdout") or "") + (t.get("stderr") or "")
            ok = t.get("result") == "OK"
            p = sum(int(n) for n in
                    re.findall(r"\[  PASSED  \] (\d+) test", out))
            fl = sum(int(n) for n in
                     re.findall(r"\[  FAILED  \] (\d+) test", out))
            if p or fl:
                passed += p
                failed += fl
                if not ok and not fl:
                    failed += 1     # Crashed after its last case.
            elif ok:
                passed += 1
            else:
                failed += 1
    return passed, failed


def pytest_counts(path):
    passed = failed = skipped = 0
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        if case.find("skipped") is not None:
            skipped += 1
        elif (case.find("failure") is not None
              or case.find("error") is not None):
            failed += 1
        else:
            passed += 1
    return passed, failed, skipped


def pass_fail_counts(path):
    passed = failed = 0
    with open(path) as f:
        for line in f:
            if line.startswith("pass"):
                passed += 1
            elif line.startswith("fail"):
                failed += 1
    return passed, failed


def ovs_kmod_counts(path):
    """Counts scripts/ovs-kmod-tests.py's JSON (see the module text)."""
    passed = failed = skipped = 0
    with open(path) as f:
        data = json.load(f)
    for t in data["tests"]:
        if t["result"] == "pass":
            passed += 1
        elif t["result"] == "fail" or t.get("expected") == "pass":
            failed += 1
        else:
            skipped += 1
    meta = data["meta"]
    if len(data["tests"]) < meta.get("selected", 0):
        failed += 1         # The run stopped before its last test.
    return passed, failed, skipped


def main():
    d = sys.argv[1]
    total_p = total_f = total_s = 0
    missing = []

    parts = [("unit+replay", "meson.json", meson_counts),
             ("tsan", "meson-tsan.json", meson_counts),
             ("system", "pytest.xml", pytest_counts),
             ("fuzz", "fuzz.txt", pass_fail_counts),
             ("builds", "builds.txt", pass_fail_counts),
             ("ovs-kmod", "ovs-kmod.json", ovs_kmod_counts)]
    for name, fname, fn in parts:
        path = os.path.join(d, fname)
        if not os.path.exists(path):
            missing.append(name)
            total_f += 1
            print(f"{name}: no results ({fname} missing)")
            continue
        r = fn(path)
        p, fl = r[0], r[1]
        s = r[2] if len(r) > 2 else 0
        print(f"{name}: {p} passed, {fl} failed, {s} skipped")
        total_p += p
        total_f += fl
        total_s += s

    print(f"{total_p} passed, {total_f} failed, {total_s} skipped")
    sys.exit(1 if total_f else 0)


if __name__ == "__main__":
    main()
