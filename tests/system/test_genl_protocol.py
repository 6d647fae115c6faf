# SPDX-License-Identifier: Apache-2.0
"""The generic-netlink protocol on weird's control socket, byte by byte.

Every message here is built by hand with struct (tests/system/weirdlib.py)
and sent over the real socket to a real weird: family resolution, the
OVS families' replies, the kernel's error and ACK rules (NLMSG_ERROR with
the request echoed, CAP_ACK, extack), dumps split into datagrams ending
in NLMSG_DONE, notifications, ENOBUFS for a listener that does not read,
and malformed input of every kind, after which weird must still answer.
"""

import os
import random
import socket
import struct

import pytest

import systest
import weirdlib as wl
from weirdlib import NlConn, NlError

systest.summary(__file__, "generic netlink on the control socket")

OVS_DP_CMD_NEW, OVS_DP_CMD_DEL, OVS_DP_CMD_GET, OVS_DP_CMD_SET = 1, 2, 3, 4
OVS_DP_ATTR_NAME, OVS_DP_ATTR_UPCALL_PID, OVS_DP_ATTR_STATS = 1, 2, 3
OVS_DP_ATTR_MEGAFLOW_STATS, OVS_DP_ATTR_USER_FEATURES = 4, 5
OVS_VPORT_CMD_NEW, OVS_VPORT_CMD_DEL, OVS_VPORT_CMD_GET = 1, 2, 3
OVS_VPORT_ATTR_PORT_NO, OVS_VPORT_ATTR_TYPE, OVS_VPORT_ATTR_NAME = 1, 2, 3
OVS_VPORT_ATTR_OPTIONS, OVS_VPORT_ATTR_UPCALL_PID = 4, 5
OVS_VPORT_TYPE_NETDEV, OVS_VPORT_TYPE_INTERNAL, OVS_VPORT_TYPE_GRE = 1, 2, 3
OVS_FLOW_CMD_NEW, OVS_FLOW_CMD_DEL, OVS_FLOW_CMD_GET = 1, 2, 3
OVS_FLOW_ATTR_KEY, OVS_FLOW_ATTR_ACTIONS, OVS_FLOW_ATTR_STATS = 1, 2, 3
OVS_FLOW_ATTR_MASK, OVS_FLOW_ATTR_PROBE, OVS_FLOW_ATTR_UFID = 7, 8, 9
OVS_FLOW_ATTR_UFID_FLAGS = 10
OVS_UFID_F_OMIT_ALL = 7
OVS_KEY_ATTR_IN_PORT, OVS_KEY_ATTR_ETHERNET, OVS_KEY_ATTR_ETHERTYPE = 3, 4, 6
OVS_ACTION_ATTR_OUTPUT = 1

EINVAL, ENOENT, EEXIST, ENODEV, EBUSY = 22, 2, 17, 19, 16
EOPNOTSUPP, ERANGE, EAFNOSUPPORT, ENOBUFS = 95, 34, 97, 105


@pytest.fixture(scope="module")
def weird():
    w = wl.Weird()
    yield w
    assert w.stop() == 0


@pytest.fixture
def conn(weird):
    c = NlConn(weird.control)
    yield c
    c.close()


def fam(conn, name):
    return conn.family(name)[0]


def make_dp(conn, name, features=0):
    reply = conn.transact(fam(conn, "ovs_datapath"), OVS_DP_CMD_NEW,
                          wl.nla_str(OVS_DP_ATTR_NAME, name)
                          + wl.nla_u32(OVS_DP_ATTR_UPCALL_PID, 0)
                          + wl.nla_u32(OVS_DP_ATTR_USER_FEATURES, features),
                          flags=wl.NLM_F_ACK | wl.NLM_F_ECHO, version=2,
                          ovs_ifindex=0)
    (ifindex,) = struct.unpack_from("=i", reply[0][2], 4)
    return ifindex


def del_dp(conn, ifindex):
    conn.transact(fam(conn, "ovs_datapath"), OVS_DP_CMD_DEL, version=2,
                  ovs_ifindex=ifindex)


def add_dummy_port(conn, ifindex, name):
    opts = wl.nla_nest(OVS_VPORT_ATTR_OPTIONS,
                       wl.nla_str(wl.WEIR_VPORT_OPT_PROVIDER, "dummy"))
    reply = conn.transact(fam(conn, "ovs_vport"), OVS_VPORT_CMD_NEW,
                          wl.nla_str(OVS_VPORT_ATTR_NAME, name)
                          + wl.nla_u32(OVS_VPORT_ATTR_TYPE,
                                       OVS_VPORT_TYPE_NETDEV)
                          + wl.nla_u32(OVS_VPORT_ATTR_UPCALL_PID, 0)
                          + opts,
                          flags=wl.NLM_F_ACK | wl.NLM_F_ECHO,
                          ovs_ifindex=ifindex)
    attrs = wl.attr_dict(reply[0][2][8:])
    return struct.unpack("=I", attrs[OVS_VPORT_ATTR_PORT_NO])[0]


def flow_key(in_port, i):
    """in_port + eth with a distinct source MAC per 'i' + an ethertype
    with no layer 3 the key would then have to describe."""
    src = struct.pack(">HI", 0x0200, i)
    dst = bytes.fromhex("020000000001")
    return (wl.nla_u32(OVS_KEY_ATTR_IN_PORT, in_port)
            + wl.nla(OVS_KEY_ATTR_ETHERNET, src + dst)
            + wl.nla(OVS_KEY_ATTR_ETHERTYPE, struct.pack(">H", 0x88b5)))


def put_flow(conn, ifindex, key, out_port, ufid=None, extra=b"", flags=0):
    attrs = (wl.nla_nest(OVS_FLOW_ATTR_KEY, key)
             + wl.nla_nest(OVS_FLOW_ATTR_ACTIONS,
                           wl.nla_u32(OVS_ACTION_ATTR_OUTPUT, out_port)))
    if ufid is not None:
        attrs += wl.nla(OVS_FLOW_ATTR_UFID, ufid)
    return conn.transact(fam(conn, "ovs_flow"), OVS_FLOW_CMD_NEW,
                         attrs + extra,
                         flags=wl.NLM_F_ACK | wl.NLM_F_CREATE | flags,
                         ovs_ifindex=ifindex)


def expect_error(conn, data, seq, want):
    """Sends 'data' and returns (payload of the NLMSG_ERROR, flags) for
    'seq', checking its errno is -'want'."""
    conn.send(data)
    while True:
        msgs = conn.recv_msgs()
        assert msgs is not None, "no answer"
        for mtype, flags, mseq, _, payload in msgs:
            if mseq == seq and mtype == wl.NLMSG_ERROR:
                error, _, _ = wl.parse_error(payload, flags)
                assert error == -want, (error, want)
                return payload, flags


# ---- Transport. ----

def test_hello_pid_is_process_id(weird):
    c = NlConn(weird.control)
    assert c.pid == os.getpid()
    d = NlConn(weird.control)
    assert d.pid not in (0, c.pid)
    c.close()
    d.close()


def test_hello_chosen_pid_clash(weird):
    c = NlConn(weird.control, pid=0x5eed1)
    assert c.pid == 0x5eed1
    with pytest.raises(NlError) as e:
        NlConn(weird.control, pid=0x5eed1)
    assert e.value.errno == -98        # EADDRINUSE
    c.close()


# ---- nlctrl. ----

def test_ctrl_families(conn):
    for name, groups in (("ovs_datapath", {"ovs_datapath"}),
                         ("ovs_vport", {"ovs_vport"}),
                         ("ovs_flow", {"ovs_flow"}),
                         ("ovs_packet", set()),
                         ("ovs_meter", {"ovs_meter"}),
                         ("ovs_ct_limit", {"ovs_ct_limit"}),
                         ("nlctrl", {"notify"})):
        fid, grps = conn.family(name)
        assert fid >= 0x10
        assert set(grps) == groups
    assert conn.family("nlctrl") == (wl.GENL_ID_CTRL,
                                     {"notify": wl.GENL_ID_CTRL})


def test_ctrl_by_id_and_dump(conn):
    fid, _ = conn.family("ovs_flow")
    reply = conn.transact(wl.GENL_ID_CTRL, wl.CTRL_CMD_GETFAMILY,
                          wl.nla_u16(wl.CTRL_ATTR_FAMILY_ID, fid),
                          flags=0, version=2)
    attrs = wl.attr_dict(reply[0][2][4:])
    assert attrs[wl.CTRL_ATTR_FAMILY_NAME] == b"ovs_flow\0"
    assert struct.unpack("=I", attrs[wl.CTRL_ATTR_VERSION])[0] == 1
    assert struct.unpack("=I", attrs[wl.CTRL_ATTR_HDRSIZE])[0] == 4
    entries, _ = conn.dump(wl.GENL_ID_CTRL, wl.CTRL_CMD_GETFAMILY,
                           version=2)
    names = {wl.attr_dict(p[4:])[wl.CTRL_ATTR_FAMILY_NAME].rstrip(b"\0")
             for p in entries}
    assert {b"nlctrl", b"ovs_datapath", b"ovs_vport", b"ovs_flow",
            b"ovs_packet", b"ovs_meter", b"ovs_ct_limit"} <= names


def test_meter_and_ct_limit_refused(conn):
    """ovs_meter and ovs_ct_limit over the socket: FEATURES says "no
    meters" in the kernel's layout; a meter as Open vSwitch's probe sets
    it, and every conntrack limit request, is refused with -EOPNOTSUPP and
    a reason (genl-meter.c, genl-ct-limit.c)."""
    ifindex = make_dp(conn, "wmeter0")
    try:
        meter = fam(conn, "ovs_meter")
        reply = conn.transact(meter, 1, flags=wl.NLM_F_ECHO,
                              ovs_ifindex=ifindex)     # FEATURES
        mtype, _, payload = reply[0]
        assert mtype == meter
        assert payload == (struct.pack("=BBHi", 1, 1, 0, ifindex)
                           + wl.nla_u32(7, 0) + wl.nla_u32(8, 0)
                           + wl.nla(4, b""))
        band = wl.nla(0, wl.nla_u32(1, 1) + wl.nla_u32(2, 1)
                      + wl.nla_u32(3, 1))
        with pytest.raises(NlError) as e:
            conn.transact(meter, 2, wl.nla_u32(1, 54545401) + wl.nla(2, b"")
                          + wl.nla(4, band), flags=wl.NLM_F_ECHO,
                          ovs_ifindex=ifindex)         # SET
        assert e.value.errno == -EOPNOTSUPP
        assert e.value.msg == "meters are not supported by weir"
        with pytest.raises(NlError) as e:
            conn.transact(meter, 1, ovs_ifindex=ifindex + 1000)
        assert e.value.errno == -ENODEV

        ct_limit = fam(conn, "ovs_ct_limit")
        for cmd, attrs in ((1, wl.nla(1, struct.pack("=iII", -1, 10, 0))),
                           (3, b"")):                  # SET, GET
            with pytest.raises(NlError) as e:
                conn.transact(ct_limit, cmd, attrs, flags=wl.NLM_F_ECHO,
                              ovs_ifindex=0)
            assert e.value.errno == -EOPNOTSUPP
            assert "conntrack limits are not supported" in e.value.msg
    finally:
        del_dp(conn, ifindex)


def test_ctrl_unknown_family_name(conn):
    with pytest.raises(NlError) as e:
        conn.transact(wl.GENL_ID_CTRL, wl.CTRL_CMD_GETFAMILY,
                      wl.nla_str(wl.CTRL_ATTR_FAMILY_NAME, "no_such"),
                      flags=0, version=2)
    assert e.value.errno == -ENOENT


# ---- Errors as the kernel builds them. ----

def test_unknown_family_echoes_request(conn):
    seq = conn.next_seq()
    req = wl.genlmsg(0x7777, 1, wl.NLM_F_REQUEST, seq, wl.nla_u32(1, 5))
    payload, flags = expect_error(conn, req, seq, ENOENT)
    # The whole request comes back after the errno.
    assert payload[4:4 + len(req)] == req
    assert not flags & wl.NLM_F_CAPPED


def test_cap_ack_echoes_header_only(weird):
    c = NlConn(weird.control)
    c.sockopt(wl.WEIR_SOCK_CAP_ACK, 1)
    seq = c.next_seq()
    req = wl.genlmsg(0x7777, 1, wl.NLM_F_REQUEST, seq, wl.nla_u32(1, 5))
    payload, flags = expect_error(c, req, seq, ENOENT)
    assert flags & wl.NLM_F_CAPPED
    assert payload[4:20] == req[:16]
    c.close()


def test_unknown_command(conn):
    seq = conn.next_seq()
    req = wl.genlmsg(fam(conn, "ovs_flow"), 99, wl.NLM_F_REQUEST, seq,
                     ovs_ifindex=0)
    expect_error(conn, req, seq, EOPNOTSUPP)


def test_ack_only_when_asked(conn):
    """A GET of nlctrl without NLM_F_ACK gets its reply and no ACK."""
    seq = conn.next_seq()
    conn.send(wl.genlmsg(wl.GENL_ID_CTRL, wl.CTRL_CMD_GETFAMILY,
                         wl.NLM_F_REQUEST, seq,
                         wl.nla_str(wl.CTRL_ATTR_FAMILY_NAME, "ovs_flow"),
                         version=2))
    msgs = conn.recv_msgs()
    assert [m[0] for m in msgs] == [wl.GENL_ID_CTRL]
    assert conn.recv(timeout=0.3) is None


def test_truncated_messages_are_dropped(conn):
    """A datagram shorter than a netlink header, or whose nlmsg_len runs
    past it, is dropped as the kernel drops it: no answer, and the
    connection keeps working."""
    conn.send(b"\x01\x02\x03")
    seq = conn.next_seq()
    req = wl.genlmsg(wl.GENL_ID_CTRL, wl.CTRL_CMD_GETFAMILY,
                     wl.NLM_F_REQUEST | wl.NLM_F_ACK, seq, version=2)
    bad = struct.pack("=I", len(req) + 100) + req[4:]
    conn.send(bad)
    assert conn.recv(timeout=0.3) is None
    assert conn.family("ovs_vport")[0] > 0


def test_short_genl_header_is_einval(conn):
    seq = conn.next_seq()
    fid = fam(conn, "ovs_flow")
    # nlmsghdr + genlmsghdr but no ovs_header.
    req = wl.nlmsg(fid, wl.NLM_F_REQUEST, seq, struct.pack("=BBH", 3, 1, 0))
    expect_error(conn, req, seq, EINVAL)


def test_bad_attribute_has_extack(conn):
    seq = conn.next_seq()
    fid = fam(conn, "ovs_datapath")
    req = wl.genlmsg(fid, OVS_DP_CMD_NEW, wl.NLM_F_REQUEST | wl.NLM_F_ACK,
                     seq, wl.nla_str(OVS_DP_ATTR_NAME, "wbad0")
                     + wl.nla(OVS_DP_ATTR_UPCALL_PID, b"\1\2"),
                     version=2, ovs_ifindex=0)
    conn.send(req)
    msgs = conn.recv_msgs()
    mtype, flags, mseq, _, payload = msgs[0]
    assert (mtype, mseq) == (wl.NLMSG_ERROR, seq)
    error, _, tlvs = wl.parse_error(payload, flags)
    assert error in (-EINVAL, -ERANGE)
    assert flags & wl.NLM_F_ACK_TLVS
    assert tlvs.get(wl.NLMSGERR_ATTR_MSG, b"\0") != b"\0"


def test_no_extack_unless_asked(weird):
    c = NlConn(weird.control, ext_ack=False)
    seq = c.next_seq()
    req = wl.genlmsg(fam(c, "ovs_datapath"), OVS_DP_CMD_NEW,
                     wl.NLM_F_REQUEST | wl.NLM_F_ACK, seq,
                     wl.nla_str(OVS_DP_ATTR_NAME, "wbad1"),
                     version=2, ovs_ifindex=0)
    _, flags = expect_error(c, req, seq, EINVAL)   # no UPCALL_PID
    assert not flags & wl.NLM_F_ACK_TLVS
    c.close()


# ---- Datapaths, ports, flows. ----

def test_datapath_lifecycle_and_notifications(weird, conn):
    listener = NlConn(weird.control)
    _, groups = listener.family("ovs_datapath")
    listener.sockopt(wl.WEIR_SOCK_ADD_MEMBERSHIP, groups["ovs_datapath"])
    ifindex = make_dp(conn, "wproto0")
    msgs = listener.recv_msgs()
    assert msgs[0][0] == fam(conn, "ovs_datapath")
    attrs = wl.attr_dict(msgs[0][4][8:])
    assert attrs[OVS_DP_ATTR_NAME] == b"wproto0\0"
    assert len(attrs[OVS_DP_ATTR_STATS]) == 32
    assert len(attrs[OVS_DP_ATTR_MEGAFLOW_STATS]) == 32

    with pytest.raises(NlError) as e:
        make_dp(conn, "wproto0")
    assert e.value.errno == -EEXIST

    reply = conn.transact(fam(conn, "ovs_datapath"), OVS_DP_CMD_GET,
                          wl.nla_str(OVS_DP_ATTR_NAME, "wproto0"), flags=0,
                          version=2, ovs_ifindex=0)
    assert struct.unpack_from("=i", reply[0][2], 4)[0] == ifindex
    del_dp(conn, ifindex)
    msgs = listener.recv_msgs()
    assert msgs[0][4][0] == OVS_DP_CMD_DEL
    with pytest.raises(NlError) as e:
        del_dp(conn, ifindex)
    assert e.value.errno == -ENODEV
    listener.close()


def test_vport_types(conn):
    ifindex = make_dp(conn, "wproto1")
    try:
        assert add_dummy_port(conn, ifindex, "wpd1a") == 1
        with pytest.raises(NlError) as e:
            add_dummy_port(conn, ifindex, "wpd1a")
        # The kernel's answer for a device that is a port already.
        assert e.value.errno == -EBUSY
        with pytest.raises(NlError) as e:
            conn.transact(fam(conn, "ovs_vport"), OVS_VPORT_CMD_NEW,
                          wl.nla_str(OVS_VPORT_ATTR_NAME, "wpgre")
                          + wl.nla_u32(OVS_VPORT_ATTR_TYPE,
                                       OVS_VPORT_TYPE_GRE)
                          + wl.nla_u32(OVS_VPORT_ATTR_UPCALL_PID, 0),
                          ovs_ifindex=ifindex)
        assert e.value.errno == -EAFNOSUPPORT
        entries, _ = conn.dump(fam(conn, "ovs_vport"), OVS_VPORT_CMD_GET,
                               ovs_ifindex=ifindex)
        nums = [struct.unpack("=I", wl.attr_dict(p[8:])
                              [OVS_VPORT_ATTR_PORT_NO])[0]
                for p in entries]
        assert nums == [0, 1]
    finally:
        del_dp(conn, ifindex)


def test_flow_dump_parts_full_and_terse(conn):
    """2000 flows: the dump comes in several datagrams of at most 32 KiB,
    each flow once, ending in NLMSG_DONE; the terse dump (OMIT_*) carries
    only UFID and stats and needs fewer bytes."""
    ifindex = make_dp(conn, "wproto2")
    try:
        add_dummy_port(conn, ifindex, "wpd2a")
        add_dummy_port(conn, ifindex, "wpd2b")
        fid = fam(conn, "ovs_flow")
        batch = b""
        n = 2000
        for i in range(n):
            seq = conn.next_seq()
            attrs = (wl.nla_nest(OVS_FLOW_ATTR_KEY, flow_key(1, i))
                     + wl.nla_nest(OVS_FLOW_ATTR_ACTIONS,
                                   wl.nla_u32(OVS_ACTION_ATTR_OUTPUT, 2))
                     + wl.nla(OVS_FLOW_ATTR_UFID, struct.pack(">QQ", 7, i)))
            batch += wl.genlmsg(fid, OVS_FLOW_CMD_NEW,
                                wl.NLM_F_REQUEST | wl.NLM_F_CREATE, seq,
                                attrs, ovs_ifindex=ifindex)
            if len(batch) > 30000 or i == n - 1:
                conn.send(batch)
                batch = b""
                # Successful NEWs without ACK or ECHO answer nothing;
                # an error would, and must not pile up unread.
                assert conn.recv(timeout=0) is None, "flow put refused"
        full, full_sizes = conn.dump(fid, OVS_FLOW_CMD_GET,
                                     ovs_ifindex=ifindex)
        assert len(full) == n
        assert len(full_sizes) > 1
        assert max(full_sizes) <= 32768
        ufids = set()
        for p in full:
            a = wl.attr_dict(p[8:])
            assert OVS_FLOW_ATTR_KEY in a and OVS_FLOW_ATTR_MASK in a
            assert OVS_FLOW_ATTR_ACTIONS in a
            ufids.add(a[OVS_FLOW_ATTR_UFID])
        assert len(ufids) == n
        terse, terse_sizes = conn.dump(
            fid, OVS_FLOW_CMD_GET,
            wl.nla_u32(OVS_FLOW_ATTR_UFID_FLAGS, OVS_UFID_F_OMIT_ALL),
            ovs_ifindex=ifindex)
        assert len(terse) == n
        for p in terse:
            a = wl.attr_dict(p[8:])
            assert OVS_FLOW_ATTR_KEY not in a
            assert OVS_FLOW_ATTR_MASK not in a
            assert OVS_FLOW_ATTR_ACTIONS not in a
            assert OVS_FLOW_ATTR_UFID in a
        assert sum(terse_sizes) * 2 < sum(full_sizes)
    finally:
        del_dp(conn, ifindex)


def test_dump_attributes_are_not_validated_but_ovs_flows(conn):
    """As the kernel (GENL_DONT_VALIDATE_DUMP): the datapath, vport and
    family dumps ignore attributes that a doit would refuse; the flow dump
    reads its own, so a bad one ends it with -ERANGE."""
    ifindex = make_dp(conn, "wproto5")
    try:
        add_dummy_port(conn, ifindex, "wpd5a")
        short = wl.nla(OVS_DP_ATTR_UPCALL_PID, b"\1\2")
        nonul = wl.nla(OVS_DP_ATTR_NAME, b"no NUL")
        dps, _ = conn.dump(fam(conn, "ovs_datapath"), OVS_DP_CMD_GET,
                           short + nonul, version=2, ovs_ifindex=0)
        assert b"wproto5\0" in [wl.attr_dict(p[8:])[OVS_DP_ATTR_NAME]
                                 for p in dps]
        ports, _ = conn.dump(fam(conn, "ovs_vport"), OVS_VPORT_CMD_GET,
                             wl.nla(OVS_VPORT_ATTR_PORT_NO, b"\1")
                             + wl.nla(OVS_VPORT_ATTR_NAME, b"no NUL"),
                             ovs_ifindex=ifindex)
        assert len(ports) == 2
        families, _ = conn.dump(wl.GENL_ID_CTRL, wl.CTRL_CMD_GETFAMILY,
                                wl.nla(wl.CTRL_ATTR_FAMILY_ID, b"\1"),
                                version=2)
        assert len(families) == 7
        with pytest.raises(NlError) as e:
            conn.dump(fam(conn, "ovs_flow"), OVS_FLOW_CMD_GET,
                      wl.nla(OVS_FLOW_ATTR_UFID_FLAGS, b"\1\2"),
                      ovs_ifindex=ifindex)
        assert e.value.errno == -ERANGE
    finally:
        del_dp(conn, ifindex)


def test_flow_errors(conn):
    ifindex = make_dp(conn, "wproto3")
    try:
        add_dummy_port(conn, ifindex, "wpd3a")
        put_flow(conn, ifindex, flow_key(1, 1), 1, ufid=b"\1" * 16)
        with pytest.raises(NlError) as e:
            put_flow(conn, ifindex, flow_key(1, 1), 1, ufid=b"\1" * 16,
                     flags=wl.NLM_F_EXCL)
        assert e.value.errno == -EEXIST
        with pytest.raises(NlError) as e:    # empty UFID: policy
            put_flow(conn, ifindex, flow_key(1, 2), 1, ufid=b"")
        assert e.value.errno == -ERANGE
        with pytest.raises(NlError) as e:    # malformed key attribute
            put_flow(conn, ifindex,
                     wl.nla(OVS_KEY_ATTR_ETHERNET, b"\0" * 5), 1)
        assert e.value.errno == -EINVAL
        assert e.value.msg
        with pytest.raises(NlError) as e:
            conn.transact(fam(conn, "ovs_flow"), OVS_FLOW_CMD_GET,
                          wl.nla(OVS_FLOW_ATTR_UFID, b"\3" * 16),
                          flags=0, ovs_ifindex=ifindex)
        assert e.value.errno == -ENOENT
        with pytest.raises(NlError) as e:    # no such datapath
            put_flow(conn, ifindex + 1000, flow_key(1, 1), 1)
        assert e.value.errno == -ENODEV
    finally:
        del_dp(conn, ifindex)


# ---- Overruns and garbage. ----

def test_listener_that_never_reads_gets_enobufs(weird, conn):
    ifindex = make_dp(conn, "wproto4")
    lazy = NlConn(weird.control)
    try:
        add_dummy_port(conn, ifindex, "wpd4a")
        _, groups = lazy.family("ovs_flow")
        lazy.sockopt(wl.WEIR_SOCK_RCVBUF, 16384)
        lazy.sockopt(wl.WEIR_SOCK_ADD_MEMBERSHIP, groups["ovs_flow"])
        lazy.family("ovs_flow")     # the sockopts are in force now
        for i in range(3000):
            put_flow(conn, ifindex, flow_key(1, i), 1)
        got_overrun = False
        while True:
            msgs = lazy.recv_msgs(timeout=1.0)
            if msgs is None:
                break
            if any(m[0] == wl.NLMSG_OVERRUN for m in msgs):
                got_overrun = True
        assert got_overrun
        # weird still answers both.
        assert lazy.family("ovs_vport")[0] > 0
        assert conn.family("ovs_vport")[0] > 0
    finally:
        lazy.close()
        del_dp(conn, ifindex)


def test_weird_survives_garbage(weird):
    rng = random.Random(5)
    c = NlConn(weird.control)
    fids = [c.family(n)[0] for n in ("ovs_datapath", "ovs_vport",
                                    "ovs_flow", "ovs_packet")]
    fids.append(wl.GENL_ID_CTRL)
    for i in range(3000):
        kind = rng.randrange(4)
        if kind == 0:
            data = bytes(rng.randrange(256)
                         for _ in range(rng.randrange(1, 200)))
        else:
            body = bytes(rng.randrange(256)
                         for _ in range(rng.randrange(0, 120)))
            data = wl.genlmsg(rng.choice(fids), rng.randrange(0, 8),
                              wl.NLM_F_REQUEST | rng.choice(
                                  [0, wl.NLM_F_ACK, wl.NLM_F_DUMP]),
                              i, body[4:] if len(body) > 4 else b"",
                              ovs_ifindex=rng.randrange(-2, 3)
                              if kind != 3 else None)
        try:
            c.send(data)
        except OSError:
            break
        while c.recv(timeout=0) is not None:
            pass
    c.close()
    assert weird.alive()
    d = NlConn(weird.control)
    assert d.family("ovs_flow")[0] > 0
    d.close()


def test_oversized_datagram(weird):
    """A datagram bigger than weird reads (>64 KiB) is dropped whole; the
    connection and weird go on."""
    c = NlConn(weird.control)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    seq = c.next_seq()
    big = wl.genlmsg(wl.GENL_ID_CTRL, wl.CTRL_CMD_GETFAMILY,
                     wl.NLM_F_REQUEST | wl.NLM_F_ACK, seq,
                     wl.nla(200, b"\0" * 60000) + wl.nla(201, b"\0" * 60000),
                     version=2)
    try:
        c.send(big)
    except OSError:
        pass
    assert c.family("ovs_flow")[0] > 0
    c.close()
    assert weird.alive()
