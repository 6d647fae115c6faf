# SPDX-License-Identifier: Apache-2.0
"""Size limits and hostile text, after the limit sections of Open vSwitch
3.1's tests/odp.at ("invalid forms", "userdata overflow", "actions too
long", "keys too long", "33 nested encap").

weir's text parsers must agree with OVS's on where the limits are: an
action list or one action attribute may be up to 65535 bytes (a netlink
length is 16 bits), userdata counts towards its userspace() attribute,
and key text may not nest encap() 33 deep.  Past a limit the answer is an
"error:" line with a reason, never a hang, a crash or a wrapped length.
"""

import pytest

from systest import require_weir, run_batch


def encode(args, lines):
    require_weir()
    out, _, err = run_batch(["flow", "encode-nl"] + args + ["-"], lines,
                            timeout=60)
    assert len(out) == len(lines), err
    return out


def test_garbage_action_is_an_error_not_a_hang():
    """A string that once made OVS's parser loop is refused at once."""
    out = encode(["--actions"], ["encap_nsh@:{@"])
    assert out[0].startswith("error: actions: ")


# (bytes of userdata, what follows it, accepted?)  A userspace() action
# holds a 4-byte nest header, pid (8), userdata (4 + data, rounded up to
# 4) and "actions" (4) or tunnel_out_port (8): the largest userdata that
# keeps it within 65535 bytes is 65512 with "actions", 65508 with
# tunnel_out_port.
USERDATA = [
    (65512, ",actions", True),
    (65513, ",actions", False),
    (65508, ",tunnel_out_port=10", True),
    (65509, ",tunnel_out_port=10", False),
]


@pytest.mark.parametrize("n,tail,ok", USERDATA,
                         ids=["%d%s" % (u[0], u[1]) for u in USERDATA])
def test_userdata_limit(n, tail, ok):
    """Userdata up to the attribute limit encodes and round-trips; one
    byte more is refused."""
    text = "userspace(pid=1234567,userdata(%s)%s)" % ("a" * (2 * n), tail)
    out = encode(["--actions"], [text])
    if not ok:
        assert out[0].startswith("error: actions: "), out[0][:80]
        return
    assert not out[0].startswith("error"), out[0][:200]
    back, rc, err = run_batch(["flow", "decode-nl", "--actions", "-"],
                              out, timeout=60)
    assert rc == 0, err
    assert back == [text]


@pytest.mark.parametrize("n,ok", [(8191, True), (8192, False)])
def test_action_list_limit(n, ok):
    """set(encap()) encodes to 8 bytes: 8191 of them fit in 65535 bytes,
    8192 do not."""
    out = encode(["--actions"], [",".join(["set(encap())"] * n)])
    if ok:
        assert len(out[0]) == 2 * 8 * n
    else:
        assert out[0].startswith("error: actions: more than 65535 bytes")


@pytest.mark.parametrize("n", [16383, 16384])
def test_key_repeated_encap_refused(n):
    """A key of thousands of encap() is refused (a repeated attribute),
    whatever its size."""
    out = encode([], [",".join(["encap()"] * n)])
    assert out[0].startswith("error: key: ")


def test_key_nesting_limit():
    """encap() nested 33 deep is refused; 32 deep is not a parse error."""
    deep = "encap(" * 33 + ")" * 33
    out = encode([], [deep, "encap(" * 32 + ")" * 32])
    assert out[0].startswith("error: key: ")
    assert "nested more than 32 deep" in out[0]
    assert not out[1].startswith("error"), out[1]
