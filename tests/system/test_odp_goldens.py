# SPDX-License-Identifier: Apache-2.0
"""odp.at key goldens: text -> netlink -> text through the weir CLI.

Every key case of OVS's tests/odp.at ("OVS datapath key parsing and
formatting - valid forms" and "... wildcarded key ... - valid forms",
expanded by tests/codec/odp_at.py) goes through

    weir flow encode-nl -   (text -> "KEYHEX" or "KEYHEX MASKHEX")
    weir flow decode-nl -   (hex -> text)

and must come back byte-for-byte.  Cases using field sets weir does not
parse yet are skipped with a reason (skip_reason()) and counted.

The CLI runs once per direction for the whole module (a module-scoped
fixture, batch mode); every golden line is then its own test case, with
an id made of its index in odp_at.key_cases() and the start of the line.
The counts are printed in the closing "weir system tests" summary.

Run with /usr/bin/python3 -m pytest; WEIR_BIN overrides the binary
(default build/src/tools/weir under the repository root).
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "codec"))

import odp_at  # noqa: E402
import systest  # noqa: E402

# (substring, reason): cases containing it are skipped.
UNSUPPORTED = (
)


def skip_reason(line):
    """Returns why weir cannot run this golden line yet, or None."""
    for token, reason in UNSUPPORTED:
        if token in line:
            return reason
    return None


def run_weir(command, lines):
    """Runs 'weir flow <command> -' on 'lines'; returns its stdout lines,
    or None if it did not print exactly one line per input."""
    out, _, err = systest.run_batch(["flow", command, "-"], lines)
    if len(out) != len(lines):
        return None, err
    return out, err


def round_trip_one(line):
    hexes, err = run_weir("encode-nl", [line])
    if hexes is None or hexes[0].startswith("error"):
        return None, "encode-nl failed: " + err.strip()
    texts, err = run_weir("decode-nl", hexes)
    if texts is None or texts[0].startswith("error"):
        return None, "decode-nl of %s failed: %s" % (hexes[0], err.strip())
    return texts[0], None


def _load_cases():
    try:
        return odp_at.key_cases(), None
    except (OSError, KeyError, ValueError, StopIteration) as e:
        return [], systest.MISSING_PEER + "cannot read odp.at from %s: %s" \
            % (odp_at.TARBALL, e)


CASES, LOAD_ERROR = _load_cases()


def _params():
    if LOAD_ERROR:
        return [pytest.param(None, id="no-odp.at",
                             marks=pytest.mark.skip(reason=LOAD_ERROR))]
    params = []
    for i, (_, line) in enumerate(CASES):
        reason = skip_reason(line)
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        params.append(pytest.param(i, id=systest.case_id(i, line),
                                   marks=marks))
    return params


systest.summary(__file__, "odp.at key goldens")


@pytest.fixture(scope="module")
def round_trips():
    """Runs every supported golden through encode-nl and decode-nl, one
    batch each way.  Returns {case index: decoded text}, or None if a
    batch did not keep one output line per input (the cases then run one
    process each, so that the failure names its line)."""
    systest.require_weir()
    run = [i for i, (_, line) in enumerate(CASES) if not skip_reason(line)]
    hexes, _ = run_weir("encode-nl", [CASES[i][1] for i in run])
    texts = run_weir("decode-nl", hexes)[0] if hexes else None
    if texts is None:
        return None
    return dict(zip(run, texts))


def test_odp_at_expansion_complete():
    """The odp.at recipe replay yields all of OVS's key goldens."""
    cases = odp_at.key_cases()
    assert len(cases) > 400, "odp.at expansion lost cases"


@pytest.mark.parametrize("index", _params())
def test_odp_at_key_round_trips(round_trips, index):
    """One odp.at key golden: text -> netlink (encode-nl) -> text
    (decode-nl) gives back exactly the golden line."""
    comment, line = CASES[index]
    if round_trips is not None:
        out, err = round_trips[index], None
    else:
        out, err = round_trip_one(line)
    assert not err and out == line, "%s\n  in:  %s\n  out: %s" % (
        comment, line, err or out)
