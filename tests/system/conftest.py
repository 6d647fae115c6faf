# SPDX-License-Identifier: Apache-2.0
"""Prints the system tests' closing summary.

Each test module registers a title with systest.summary(); after the run
this prints, per module, how many cases passed, failed and were skipped,
the skips grouped by reason, and any extra figures the module reports
(fields compared, lines refused by --check, ...).  Shown even with -q.
"""

import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import systest  # noqa: E402


def _skip_reason(report):
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = longrepr[2]
    else:
        reason = str(longrepr)
    return reason[len("Skipped: "):] if reason.startswith(
        "Skipped: ") else reason


import pytest  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With WEIR_REQUIRE_PEERS=1 (scripts/check.sh sets it, because
    scripts/install-deps.sh installs every peer), a test skipped because a
    peer is missing (a reason starting with systest.MISSING_PEER) fails
    instead: a suite that silently ran nothing must not pass."""
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and os.environ.get("WEIR_REQUIRE_PEERS")
            and _skip_reason(report).startswith(systest.MISSING_PEER)):
        report.outcome = "failed"
        report.longrepr = _skip_reason(report)


def pytest_terminal_summary(terminalreporter):
    if not systest.SUMMARIES:
        return
    outcomes = {}
    for key in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(key, []):
            nodeid = getattr(report, "nodeid", None)
            if not nodeid:
                continue
            # A failure or error in any phase wins over a pass.
            if key in ("failed", "error") or nodeid not in outcomes:
                outcomes[nodeid] = (key, report)
    lines = []
    for test_file, title, extra in systest.SUMMARIES:
        counts = collections.Counter()
        reasons = collections.Counter()
        for nodeid, (key, report) in outcomes.items():
            if nodeid.split("::")[0].endswith("/" + test_file) \
                    or nodeid.split("::")[0] == test_file:
                counts[key] += 1
                if key == "skipped":
                    reasons[_skip_reason(report)] += 1
        if not sum(counts.values()):
            continue
        lines.append("%s: %d cases: %d passed, %d failed, %d skipped"
                     % (title, sum(counts.values()), counts["passed"],
                        counts["failed"] + counts["error"],
                        counts["skipped"]))
        for reason, n in sorted(reasons.items()):
            lines.append("  skipped %3d: %s" % (n, reason))
        if extra:
            lines.extend("  " + l for l in extra())
    if lines:
        terminalreporter.write_sep("=", "weir system tests")
        for line in lines:
            terminalreporter.write_line(line)
