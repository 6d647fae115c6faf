# SPDX-License-Identifier: Apache-2.0
"""The weird daemon: command line, control socket transport, pidfile,
--detach, log lines, signals, the state file, back-pressure.

Each test starts its own weird (weirdlib.Weird) on private paths in a
temporary directory, with --local-type=dummy unless it checks TAP devices
(then weird runs in a network namespace this test creates), and stops it
by the PID it started.  HELLO and the other transport messages are built
by hand with struct.  The parts that need datapaths (state file round
trip, TAP removal) make them with hand-built OVS_DP_CMD_NEW and
OVS_VPORT_CMD_NEW requests.
"""

import array
import atexit
import errno
import os
import re
import resource
import select
import signal
import socket
import shutil
import stat
import struct
import subprocess
import tempfile
import time

import pytest

import systest
import weirdlib as wl
from weirdlib import NlConn, NlError

systest.summary(__file__, "weird: daemon, control socket, state file")

OVS_DP_CMD_NEW, OVS_DP_CMD_GET = 1, 3
OVS_DP_ATTR_NAME, OVS_DP_ATTR_UPCALL_PID, OVS_DP_ATTR_USER_FEATURES = 1, 2, 5
OVS_DP_F_VPORT_PIDS = 2
OVS_VPORT_CMD_NEW, OVS_VPORT_CMD_GET, OVS_VPORT_CMD_SET = 1, 3, 4
OVS_VPORT_ATTR_PORT_NO, OVS_VPORT_ATTR_TYPE, OVS_VPORT_ATTR_NAME = 1, 2, 3
OVS_VPORT_ATTR_OPTIONS, OVS_VPORT_ATTR_UPCALL_PID = 4, 5
OVS_VPORT_TYPE_NETDEV = 1
WEIR_HELLO_F_SYNC = 1
SO_SNDBUFFORCE = 32     # <asm-generic/socket.h>; not in every Python.

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
                      r"\|[a-z]+\|(DBG|INFO|WARN|ERR)\|.*$")


@pytest.fixture
def weird():
    w = wl.Weird()
    yield w
    if w.alive():
        w.stop()


def scratch(prefix):
    """A temporary directory, removed when pytest exits."""
    d = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, d, True)
    return d


def wait_for(pred, timeout=10.0, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def hello_raw(sock, version=wl.WEIR_HELLO_VERSION, pid=0, flags=0,
              fds=None, mtype=wl.WEIR_NLMSG_HELLO):
    """Sends a HELLO built by hand; returns (pid, error, flags) of the
    answer."""
    msg = wl.nlmsg(mtype, wl.NLM_F_REQUEST, 7,
                   struct.pack("=IIiI", version, pid, 0, flags))
    if fds:
        sock.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                              array.array("i", fds))])
    else:
        sock.send(msg)
    data = sock.recv(65536)
    msgs = wl.parse_msgs(data)
    assert len(msgs) == 1
    rtype, _, seq, _, payload = msgs[0]
    assert rtype == wl.WEIR_NLMSG_HELLO
    assert len(payload) == 16
    rversion, rpid, rerror, rflags = struct.unpack("=IIiI", payload)
    assert rversion == wl.WEIR_HELLO_VERSION
    return rpid, rerror, rflags


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5.0)
    s.connect(path)
    return s


def closed_by_peer(sock, timeout=5.0):
    sock.settimeout(timeout)
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


def ctrl_request(seq):
    """CTRL_CMD_GETFAMILY for "nlctrl": answered by weird's genl (and
    echoed back by a bare transport)."""
    return wl.genlmsg(wl.GENL_ID_CTRL, wl.CTRL_CMD_GETFAMILY,
                      wl.NLM_F_REQUEST, seq,
                      wl.nla_str(wl.CTRL_ATTR_FAMILY_NAME, "nlctrl"),
                      version=2)


def require_genl(conn):
    """Skips unless weird serves the OVS families (genl is complete)."""
    try:
        return conn.family("ovs_datapath")[0], conn.family("ovs_vport")[0]
    except (NlError, KeyError, ValueError, TimeoutError, OSError) as e:
        pytest.skip("weird's genl does not serve ovs_datapath/ovs_vport "
                    "yet (%r)" % (e,))


def make_dp(conn, dp_fam, name, features=0):
    reply = conn.transact(dp_fam, OVS_DP_CMD_NEW,
                          wl.nla_str(OVS_DP_ATTR_NAME, name)
                          + wl.nla_u32(OVS_DP_ATTR_UPCALL_PID, 0)
                          + wl.nla_u32(OVS_DP_ATTR_USER_FEATURES, features),
                          flags=wl.NLM_F_ACK | wl.NLM_F_ECHO, version=2,
                          ovs_ifindex=0)
    return struct.unpack_from("=i", reply[0][2], 4)[0]


def add_dummy_port(conn, vport_fam, ifindex, name):
    opts = wl.nla_nest(OVS_VPORT_ATTR_OPTIONS,
                       wl.nla_str(wl.WEIR_VPORT_OPT_PROVIDER, "dummy"))
    reply = conn.transact(vport_fam, OVS_VPORT_CMD_NEW,
                          wl.nla_str(OVS_VPORT_ATTR_NAME, name)
                          + wl.nla_u32(OVS_VPORT_ATTR_TYPE,
                                       OVS_VPORT_TYPE_NETDEV)
                          + wl.nla_u32(OVS_VPORT_ATTR_UPCALL_PID, 0)
                          + opts,
                          flags=wl.NLM_F_ACK | wl.NLM_F_ECHO,
                          ovs_ifindex=ifindex)
    attrs = wl.attr_dict(reply[0][2][8:])
    return struct.unpack("=I", attrs[OVS_VPORT_ATTR_PORT_NO])[0]


def dp_names(conn, dp_fam):
    entries, _ = conn.dump(dp_fam, OVS_DP_CMD_GET, version=2,
                           ovs_ifindex=0)
    names = {}
    for payload in entries:
        attrs = wl.attr_dict(payload[8:])
        name = attrs[OVS_DP_ATTR_NAME].rstrip(b"\0").decode()
        names[name] = struct.unpack_from("=i", payload, 4)[0]
    return names


def vports(conn, vport_fam, ifindex):
    entries, _ = conn.dump(vport_fam, OVS_VPORT_CMD_GET,
                           ovs_ifindex=ifindex)
    out = {}
    for payload in entries:
        attrs = wl.attr_dict(payload[8:])
        out[attrs[OVS_VPORT_ATTR_NAME].rstrip(b"\0").decode()] = \
            struct.unpack("=I", attrs[OVS_VPORT_ATTR_PORT_NO])[0]
    return out


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_weird(args, timeout=20):
    return subprocess.run([wl.require_weird()] + args,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=timeout, check=False)


# ---- Command line. ----

def test_help_version_and_usage_errors():
    r = run_weird(["--help"])
    assert r.returncode == 0
    for opt in ("--control=PATH", "--state=PATH", "--pidfile[=PATH]",
                "--log-file[=PATH]", "--detach", "--pmd-threads=N",
                "--pmd-cpus=LIST", "--local-type=TYPE", "--system-type=TYPE"):
        assert opt in r.stdout
    r = run_weird(["--version"])
    assert r.returncode == 0 and r.stdout.startswith("weird (weir) ")
    for bad in (["-v", "loud"], ["-v", "nosuchmodule:dbg"],
                ["--local-type=veth"], ["--system-type=dpdk"],
                ["--pmd-threads=0"], ["--pmd-threads=x"], ["extra"],
                ["--no-such-option"]):
        r = run_weird(bad)
        assert r.returncode == 2, bad
        assert "weird" in r.stderr, bad


# ---- Socket, pidfile, log. ----

def test_socket_pidfile_and_log_lines(weird):
    st = os.stat(weird.control)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660
    with open(weird.pidfile) as f:
        assert int(f.read().strip()) == weird.proc.pid
    log = weird.log()
    lines = log.splitlines()
    assert lines, "empty log"
    for line in lines:
        assert LOG_LINE.match(line), line
    assert any("|weird|INFO|" in l and "started" in l
               and str(weird.proc.pid) in l for l in lines)
    assert any("|ctl|INFO|listening on " + weird.control in l
               for l in lines)


def test_sigterm_removes_socket_and_pidfile(weird):
    lock = weird.control + ".lock"
    assert os.path.exists(lock)
    assert weird.stop(signal.SIGTERM) == 0
    assert not os.path.exists(weird.control)
    assert not os.path.exists(weird.pidfile)
    assert not os.path.exists(lock)
    lines = weird.log().splitlines()
    assert any("|weird|INFO|SIGTERM: stopping" in l for l in lines)
    assert lines[-1].endswith("|weird|INFO|weird stopped")


def test_sigint_is_a_clean_stop_too(weird):
    assert weird.stop(signal.SIGINT) == 0
    assert not os.path.exists(weird.control)


def test_sighup_reopens_the_log(weird):
    rotated = weird.logfile + ".1"
    os.rename(weird.logfile, rotated)
    os.kill(weird.proc.pid, signal.SIGHUP)
    assert wait_for(lambda: "log file reopened" in weird.log())
    with open(rotated) as f:
        assert "started" in f.read()
    assert weird.alive()


def test_second_weird_on_the_same_socket_is_refused(weird):
    other_pid = os.path.join(weird.dir, "other.pid")
    r = run_weird(["--control=" + weird.control, "--state=",
                   "--pidfile=" + other_pid, "--local-type=dummy"])
    assert r.returncode == 1
    assert "in use" in r.stderr
    assert weird.alive()
    assert not os.path.exists(other_pid)
    # The first weird's socket was left alone.
    s = connect(weird.control)
    assert hello_raw(s)[1] == 0
    s.close()


def test_second_weird_leaves_the_first_ones_state_alone():
    """A second weird on the same socket and state file fails before it
    reads the state: it makes no datapath (TAP devices of the first) and
    writes nothing."""
    w = wl.Weird()
    try:
        c = NlConn(w.control)
        dp_fam, _ = require_genl(c)
        make_dp(c, dp_fam, "wtwice0")
        assert wait_for(lambda: os.path.exists(w.statefile)
                        and "wtwice0" in open(w.statefile).read())
        before = os.stat(w.statefile)
        r = run_weird(["--control=" + w.control, "--state=" + w.statefile,
                       "--local-type=dummy", "-v", "state:dbg"])
        assert r.returncode == 1
        assert "in use" in r.stderr
        assert "|state|" not in r.stderr, r.stderr
        after = os.stat(w.statefile)
        assert (before.st_ino, before.st_mtime_ns) == \
            (after.st_ino, after.st_mtime_ns)
        assert "wtwice0" in dp_names(c, dp_fam)
        c.close()
    finally:
        assert w.stop() == 0


def test_pidfile_of_a_live_weird_is_refused(weird):
    r = run_weird(["--control=" + os.path.join(weird.dir, "other.sock"),
                   "--state=", "--pidfile=" + weird.pidfile,
                   "--local-type=dummy"])
    assert r.returncode == 1
    assert "names a running weird" in r.stderr
    with open(weird.pidfile) as f:
        assert int(f.read()) == weird.proc.pid


def test_stale_socket_and_pidfile_are_replaced():
    d = scratch("weird-stale-")
    path = os.path.join(d, "weird.sock")
    pidfile = os.path.join(d, "weird.pid")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(path)                # Bound, never listening: a leftover.
    s.close()
    with open(pidfile, "w") as f:
        f.write("%d\n" % os.getpid())   # Live, but not a weird.
    r = run_weird(["--control=" + path, "--state=", "--pidfile=" + pidfile,
                   "--local-type=dummy", "--detach",
                   "--log-file=" + os.path.join(d, "log")])
    assert r.returncode == 0, r.stderr
    with open(pidfile) as f:
        pid = int(f.read())
    try:
        assert pid != os.getpid()
        c = connect(path)
        assert hello_raw(c)[1] == 0
        c.close()
        assert "removed stale socket" in open(os.path.join(d, "log")).read()
    finally:
        os.kill(pid, signal.SIGTERM)
        assert wait_for(lambda: not os.path.exists("/proc/%d" % pid))


def test_path_that_is_not_a_socket_is_kept():
    d = scratch("weird-notsock-")
    path = os.path.join(d, "weird.sock")
    with open(path, "w") as f:
        f.write("precious\n")
    r = run_weird(["--control=" + path, "--state=", "--local-type=dummy"])
    assert r.returncode == 1
    assert "not a socket" in r.stderr
    with open(path) as f:
        assert f.read() == "precious\n"


def test_control_from_environment():
    d = scratch("weird-env-")
    path = os.path.join(d, "sub", "dir", "weird.sock")
    pidfile = os.path.join(d, "weird.pid")
    env = dict(os.environ)
    env["WEIR_CONTROL"] = path
    r = subprocess.run([wl.require_weird(), "--state=", "--detach",
                        "--pidfile=" + pidfile, "--local-type=dummy",
                        "--log-file=" + os.path.join(d, "log")],
                       env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=20, check=False)
    assert r.returncode == 0, r.stderr
    pid = int(open(pidfile).read())
    try:
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o755
    finally:
        os.kill(pid, signal.SIGTERM)
        assert wait_for(lambda: not os.path.exists("/proc/%d" % pid))
    assert not os.path.exists(path)


def test_detach_returns_once_listening():
    d = scratch("weird-detach-")
    path = os.path.join(d, "weird.sock")
    pidfile = os.path.join(d, "weird.pid")
    logfile = os.path.join(d, "log", "weird.log")
    r = run_weird(["--control=" + path, "--state=", "--detach",
                   "--pidfile=" + pidfile, "--log-file=" + logfile,
                   "--local-type=dummy"])
    assert r.returncode == 0, r.stderr
    # Listening and the pidfile written before the parent exited.
    c = connect(path)
    pid = int(open(pidfile).read())
    try:
        assert hello_raw(c)[1] == 0
        assert os.path.exists("/proc/%d" % pid)
        # A session of its own, cwd /, stdio on /dev/null.
        assert os.getsid(pid) == pid
        assert os.readlink("/proc/%d/cwd" % pid) == "/"
        for fd in (0, 1, 2):
            assert os.readlink("/proc/%d/fd/%d" % (pid, fd)) == "/dev/null"
        assert r.stderr == ""
        for line in open(logfile).read().splitlines():
            assert LOG_LINE.match(line), line
    finally:
        c.close()
        os.kill(pid, signal.SIGTERM)
    assert wait_for(lambda: not os.path.exists("/proc/%d" % pid))
    assert not os.path.exists(path) and not os.path.exists(pidfile)
    assert open(logfile).read().splitlines()[-1].endswith("weird stopped")


def test_detach_with_stdio_closed():
    """Started with fds 0-2 closed, weird opens /dev/null on them first:
    its log file and sockets land elsewhere, and detaching (which puts
    /dev/null over 0-2) loses neither the log nor the parent's pipe."""
    d = scratch("weird-closedfds-")
    path = os.path.join(d, "weird.sock")
    pidfile = os.path.join(d, "weird.pid")
    logfile = os.path.join(d, "weird.log")

    def close_stdio():
        for fd in (0, 1, 2):
            os.close(fd)

    p = subprocess.Popen([wl.require_weird(), "--control=" + path,
                          "--state=", "--detach", "--pidfile=" + pidfile,
                          "--log-file=" + logfile, "--local-type=dummy",
                          "-v", "ctl:dbg"],
                         preexec_fn=close_stdio, close_fds=True)
    assert p.wait(timeout=20) == 0
    pid = int(open(pidfile).read())
    try:
        for fd in (0, 1, 2):
            assert os.readlink("/proc/%d/fd/%d" % (pid, fd)) == "/dev/null"
        targets = {os.readlink("/proc/%d/fd/%s" % (pid, fd))
                   for fd in os.listdir("/proc/%d/fd" % pid)}
        assert logfile in targets
        # A line logged after detaching reaches the log file.
        c = connect(path)
        assert hello_raw(c)[1] == 0
        c.close()
        assert wait_for(lambda: "connected as pid" in open(logfile).read())
    finally:
        os.kill(pid, signal.SIGTERM)
    assert wait_for(lambda: not os.path.exists("/proc/%d" % pid))
    assert open(logfile).read().splitlines()[-1].endswith("weird stopped")


def test_open_files_limit_is_raised():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(soft, hard, 256)
    if low >= hard:
        pytest.skip("the hard open files limit is %d" % hard)
    d = scratch("weird-nofile-")
    logfile = os.path.join(d, "weird.log")
    p = subprocess.Popen([wl.require_weird(),
                          "--control=" + os.path.join(d, "weird.sock"),
                          "--state=", "--log-file=" + logfile,
                          "--local-type=dummy", "-v", "weird:dbg"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL,
                         preexec_fn=lambda: resource.setrlimit(
                             resource.RLIMIT_NOFILE, (low, hard)))
    try:
        assert wait_for(lambda: os.path.exists(logfile)
                        and "started" in open(logfile).read())
        with open("/proc/%d/limits" % p.pid) as f:
            line = [l for l in f if l.startswith("Max open files")][0]
        assert line.split()[3:5] == [str(hard), str(hard)], line
        assert ("open files limit raised from %d to %d" % (low, hard)
                in open(logfile).read())
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0


def test_detach_failure_exits_1():
    d = scratch("weird-detachfail-")
    blocker = os.path.join(d, "file")
    open(blocker, "w").close()
    # The socket's directory cannot be made: a file is in the way.
    r = run_weird(["--control=" + os.path.join(blocker, "weird.sock"),
                   "--state=", "--detach", "--local-type=dummy",
                   "--log-file=" + os.path.join(d, "log")])
    assert r.returncode == 1
    assert "cannot create the directory" in r.stderr


# ---- HELLO. ----

def test_hello_assigns_client_pid_then_others(weird):
    a = connect(weird.control)
    pid_a, err, _ = hello_raw(a)
    assert (pid_a, err) == (os.getpid(), 0)
    b = connect(weird.control)
    pid_b, err, _ = hello_raw(b)
    assert err == 0 and pid_b not in (0, pid_a)
    c = connect(weird.control)
    assert hello_raw(c, pid=0x7e57) == (0x7e57, 0, 0)
    d = connect(weird.control)
    assert hello_raw(d, pid=0x7e57)[1] == -errno.EADDRINUSE
    assert closed_by_peer(d)
    # The id is free again once weird has seen its connection go.
    c.close()
    got = None
    for _ in range(100):
        e = connect(weird.control)
        got = hello_raw(e, pid=0x7e57)
        if got[1] == 0:
            break
        e.close()
        time.sleep(0.02)
    assert got == (0x7e57, 0, 0)
    for s in (a, b, d, e):
        s.close()
    assert weird.alive()


def test_hello_errors_close_the_connection(weird):
    cases = [
        (dict(version=99), -errno.EPROTONOSUPPORT),
        (dict(flags=0x80), -errno.EINVAL),
        (dict(flags=1), -errno.EINVAL),          # SYNC, no fd.
        (dict(mtype=0x10), -errno.EPROTO),       # Not a HELLO.
    ]
    for kw, want in cases:
        s = connect(weird.control)
        assert hello_raw(s, **kw)[1] == want, kw
        assert closed_by_peer(s), kw
        s.close()
    # An fd without SYNC, and a sync fd that is not an eventfd.
    r, w = os.pipe()
    s = connect(weird.control)
    assert hello_raw(s, fds=[r])[1] == -errno.EINVAL
    assert closed_by_peer(s)
    s = connect(weird.control)
    assert hello_raw(s, flags=1, fds=[w])[1] == -errno.EINVAL
    assert closed_by_peer(s)
    efd = os.eventfd(0)
    s = connect(weird.control)
    assert hello_raw(s, flags=1, fds=[efd, efd])[1] == -errno.EINVAL
    assert closed_by_peer(s)
    # A datagram too short for a HELLO.
    s = connect(weird.control)
    s.send(b"\x01\x02\x03")
    _, _, _, _, payload = wl.parse_msgs(s.recv(100))[0]
    assert struct.unpack("=IIiI", payload)[2] == -errno.EPROTO
    assert closed_by_peer(s)
    mine = "pipe:[%d]" % os.fstat(r).st_ino
    os.close(r)
    os.close(w)
    os.close(efd)
    assert weird.alive()
    # weird kept none of the fds passed to it (the pipe's read end was
    # passed without SYNC, its write end as a sync fd).
    for fd in os.listdir("/proc/%d/fd" % weird.proc.pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (weird.proc.pid, fd))
        except OSError:
            continue
        assert target != mine, (fd, target)


def test_sync_eventfd_counts_after_replies(weird):
    efd = os.eventfd(0)
    s = connect(weird.control)
    pid, err, flags = hello_raw(s, flags=WEIR_HELLO_F_SYNC, fds=[efd])
    assert err == 0 and flags == 1
    for i in range(20):
        s.send(ctrl_request(100 + i))
        assert os.eventfd_read(efd) >= 1
        # The reply is in the socket when the eventfd says so.
        data = s.recv(65536, socket.MSG_DONTWAIT)
        assert wl.parse_msgs(data)[0][2] == 100 + i
    s.close()
    os.close(efd)


def sync_conn(weird):
    """A connection with a sync eventfd: (socket, eventfd)."""
    efd = os.eventfd(0, os.EFD_NONBLOCK)
    s = connect(weird.control)
    _, err, flags = hello_raw(s, flags=WEIR_HELLO_F_SYNC, fds=[efd])
    assert err == 0 and flags == WEIR_HELLO_F_SYNC
    return s, efd


def sync_count(efd, timeout=5.0):
    """Waits up to 'timeout' for the eventfd, then a moment for more
    signals; returns the count (0 if none came)."""
    if not select.select([efd], [], [], timeout)[0]:
        return 0
    time.sleep(0.05)
    return os.eventfd_read(efd)


def recv_all(sock, timeout=1.0):
    """Every message until nothing comes for 'timeout' seconds."""
    msgs = []
    sock.settimeout(timeout)
    while True:
        try:
            msgs.extend(wl.parse_msgs(sock.recv(1 << 20)))
        except socket.timeout:
            return msgs


def test_every_datagram_gets_one_sync(weird):
    """Whatever a datagram holds, weird signals its sync exactly once,
    after the replies it owes for it: a client waiting on the eventfd
    after a send never hangs."""
    s, efd = sync_conn(weird)
    cases = [
        ("an empty datagram", b""),
        ("a 10-byte datagram", b"x" * 10),
        ("a SOCKOPT", wl.nlmsg(wl.WEIR_NLMSG_SOCKOPT, wl.NLM_F_REQUEST, 0,
                               struct.pack("=II", wl.WEIR_SOCK_EXT_ACK, 1))),
        ("a refused SOCKOPT",
         wl.nlmsg(wl.WEIR_NLMSG_SOCKOPT, wl.NLM_F_REQUEST, 0,
                  struct.pack("=II", 999, 1))),
        ("a request", ctrl_request(5)),
        ("a dump", wl.genlmsg(wl.GENL_ID_CTRL, wl.CTRL_CMD_GETFAMILY,
                              wl.NLM_F_REQUEST | wl.NLM_F_DUMP, 6,
                              version=2)),
    ]
    for what, data in cases:
        s.send(data)
        assert sync_count(efd) == 1, what
    # A datagram with an fd: the fd is closed, the request answered.
    r, w = os.pipe()
    s.sendmsg([ctrl_request(7)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                   array.array("i", [r]))])
    assert sync_count(efd) == 1
    os.close(r)
    os.close(w)
    if os.geteuid() == 0:
        # Longer than weird reads: dropped, and signalled all the same.
        s.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, 4 << 20)
        s.send(b"\0" * (300 << 10))
        assert sync_count(efd) == 1
    seqs = [m[2] for m in recv_all(s, 0.5)]
    assert seqs[0] == 5 and seqs[-1] == 7 and set(seqs) == {5, 6, 7}
    assert sync_count(efd, 0.2) == 0
    s.close()
    os.close(efd)


def test_replies_past_the_receive_buffer_are_dropped(monkeypatch):
    """One datagram of 6,000 requests whose replies (4 KiB each, 25 MB in
    all) far exceed the receive buffer: as the kernel, weird queues what
    fits, drops the rest and reports it with one NLMSG_OVERRUN; it does
    not grow with the replies; the sync comes once; the connection goes
    on."""
    # Under ASan, freed buffers wait in a quarantine (256 MB by default)
    # and would count in weird's RSS: keep it small for this weird.
    monkeypatch.setenv("ASAN_OPTIONS", os.environ.get("ASAN_OPTIONS", "")
                       + ":quarantine_size_mb=4")
    weird = wl.Weird()
    try:
        replies_past_the_receive_buffer(weird)
    finally:
        assert weird.stop() == 0


def replies_past_the_receive_buffer(weird):
    c = NlConn(weird.control)
    dp_fam, vport_fam = require_genl(c)
    ifindex = make_dp(c, dp_fam, "amp", features=OVS_DP_F_VPORT_PIDS)
    c.transact(vport_fam, OVS_VPORT_CMD_SET,
               wl.nla_u32(OVS_VPORT_ATTR_PORT_NO, 0)
               + wl.nla(OVS_VPORT_ATTR_UPCALL_PID,
                        struct.pack("=1024I", *range(1, 1025))),
               ovs_ifindex=ifindex)
    c.close()
    s, efd = sync_conn(weird)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    reqs = [wl.genlmsg(vport_fam, OVS_VPORT_CMD_GET, wl.NLM_F_REQUEST,
                       10 + i, wl.nla_u32(OVS_VPORT_ATTR_PORT_NO, 0),
                       ovs_ifindex=ifindex) for i in range(6000)]
    before = rss_kib(weird.proc.pid)
    s.send(b"".join(reqs))
    time.sleep(1.0)
    grown = rss_kib(weird.proc.pid) - before
    assert grown < 12 * 1024, "weird grew by %d KiB" % grown
    msgs = recv_all(s)
    kinds = [m[0] for m in msgs]
    assert kinds.count(wl.NLMSG_OVERRUN) == 1
    assert kinds[-1] == wl.NLMSG_OVERRUN
    seqs = [m[2] for m in msgs[:-1]]
    assert seqs == list(range(10, 10 + len(seqs)))
    assert 10 < len(seqs) < 200
    assert sync_count(efd) == 1
    s.send(ctrl_request(9))
    assert sync_count(efd) == 1
    assert [m[2] for m in recv_all(s, 0.5)] == [9]
    s.close()
    os.close(efd)
    assert weird.alive()


# ---- Datagrams. ----

def test_sockopt_framing(weird):
    c = NlConn(weird.control, ext_ack=False)
    c.sockopt(wl.WEIR_SOCK_EXT_ACK, 1)
    c.sockopt(999, 1)           # Refused: logged, the connection stays.
    c.send(ctrl_request(5))
    assert wl.parse_msgs(c.recv())[0][2] == 5
    # A SOCKOPT datagram with anything else in it breaks the transport.
    c.send(wl.nlmsg(wl.WEIR_NLMSG_SOCKOPT, wl.NLM_F_REQUEST, 0,
                    struct.pack("=II", wl.WEIR_SOCK_EXT_ACK, 1))
           + ctrl_request(6))
    assert closed_by_peer(c.sock)
    c.close()
    # A second HELLO too.
    c = NlConn(weird.control)
    c.send(wl.nlmsg(wl.WEIR_NLMSG_HELLO, wl.NLM_F_REQUEST, 0,
                    struct.pack("=IIiI", 1, 0, 0, 0)))
    assert closed_by_peer(c.sock)
    c.close()
    assert "socket option 999 = 1 refused" in weird.log()
    assert weird.alive()


def test_no_loss_no_reordering_under_back_pressure(weird):
    """Thousands of requests sent faster than they are read: every reply
    arrives, once, in order."""
    c = NlConn(weird.control)
    c.sock.setblocking(False)
    n, sent, got = 3000, 0, []
    deadline = time.monotonic() + 60
    while len(got) < n and time.monotonic() < deadline:
        while sent < n:
            try:
                c.sock.send(ctrl_request(sent))
                sent += 1
            except BlockingIOError:
                break
        while True:
            try:
                data = c.sock.recv(1 << 20)
            except BlockingIOError:
                break
            got.extend(m[2] for m in wl.parse_msgs(data))
        time.sleep(0.001)
    assert got == list(range(n))
    c.close()


def test_client_that_never_reads_is_bounded(weird):
    """A client sends requests and never reads its replies: weird stops
    reading it (its sends block), does not grow, and serves others."""
    hog = NlConn(weird.control)
    hog.sock.setblocking(False)
    before = rss_kib(weird.proc.pid)
    sent = 0
    blocked_since = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            hog.sock.send(ctrl_request(sent))
            sent += 1
            blocked_since = None
        except BlockingIOError:
            if blocked_since is None:
                blocked_since = time.monotonic()
            elif time.monotonic() - blocked_since > 1.0:
                break
            time.sleep(0.01)
    assert blocked_since is not None, "weird kept reading %d requests" % sent
    assert sent < 100000
    grown = rss_kib(weird.proc.pid) - before
    assert grown < 64 * 1024, "weird grew by %d KiB" % grown
    # Others are served meanwhile.
    other = NlConn(weird.control)
    other.send(ctrl_request(77))
    assert wl.parse_msgs(other.recv())[0][2] == 77
    other.close()
    # Once the hog reads, weird goes on with it: every reply, in order.
    hog.sock.setblocking(True)
    hog.sock.settimeout(10)
    seqs = []
    while len(seqs) < sent:
        seqs.extend(m[2] for m in wl.parse_msgs(hog.sock.recv(1 << 20)))
    assert seqs == list(range(sent))
    hog.close()
    assert weird.alive()


def test_oversized_datagram_is_dropped(weird):
    if os.geteuid() != 0:
        pytest.skip("needs root (SO_SNDBUFFORCE for a 300 KiB datagram)")
    c = NlConn(weird.control)
    c.sock.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, 4 << 20)
    big = wl.nlmsg(wl.GENL_ID_CTRL, wl.NLM_F_REQUEST, 1, b"\0" * (300 << 10))
    c.send(big)
    c.send(ctrl_request(2))
    msgs = wl.parse_msgs(c.recv())
    assert msgs[0][2] == 2
    c.close()
    assert "dropped a 307216-byte datagram" in weird.log()


def test_empty_datagram_is_ignored(weird):
    c = NlConn(weird.control)
    c.send(b"")
    c.send(ctrl_request(3))
    assert wl.parse_msgs(c.recv())[0][2] == 3
    c.close()


# ---- State file. ----

def test_state_round_trip():
    w = wl.Weird()
    try:
        c = NlConn(w.control)
        dp_fam, vport_fam = require_genl(c)
        ifindex = make_dp(c, dp_fam, "wstate0", features=0x3)
        p1 = add_dummy_port(c, vport_fam, ifindex, "wst0a")
        p2 = add_dummy_port(c, vport_fam, ifindex, "wst0b")
        make_dp(c, dp_fam, "wstate1")
        c.close()
        assert wait_for(lambda: os.path.exists(w.statefile)
                        and "wstate1" in open(w.statefile).read())
        text = open(w.statefile).read()
        assert re.search(r"^datapath wstate0 features=0x00000003$", text,
                         re.M), text
        assert re.search(r"^port wstate0 wst0a type=dummy port_no=%d( |$)"
                         % p1, text, re.M), text
        assert re.search(r"^port wstate0 wst0b type=dummy port_no=%d( |$)"
                         % p2, text, re.M), text
        assert re.search(r"^datapath wstate1 ", text, re.M), text
        assert stat.S_IMODE(os.stat(w.statefile).st_mode) == 0o600
        assert w.stop() == 0
        # Shutdown removed the datapaths but not their record.
        assert open(w.statefile).read() == text

        w.start()
        c = NlConn(w.control)
        names = dp_names(c, dp_fam)
        assert set(names) == {"wstate0", "wstate1"}
        ports = vports(c, vport_fam, names["wstate0"])
        assert ports["wst0a"] == p1 and ports["wst0b"] == p2
        c.close()
        assert "re-created 4 datapaths and ports" in w.log()
    finally:
        w.stop()


def test_state_restore_skips_a_port_whose_device_is_gone():
    d = scratch("weird-state-")
    statefile = os.path.join(d, "weird.state")
    with open(statefile, "w") as f:
        f.write("# by hand\n"
                "datapath wskip0 features=0x0\n"
                "port wskip0 wskp0a type=dummy port_no=3\n"
                "port wskip0 wnodev9 type=system port_no=4\n")
    w = wl.Weird("--state=" + statefile)
    try:
        c = NlConn(w.control)
        dp_fam, vport_fam = require_genl(c)
        names = dp_names(c, dp_fam)
        assert "wskip0" in names
        ports = vports(c, vport_fam, names["wskip0"])
        assert ports.get("wskp0a") == 3 and "wnodev9" not in ports
        c.close()
        assert re.search(r"\|state\|WARN\|.*line 4: port wnodev9 of wskip0 "
                         r"not re-created", w.log())
        # Rewritten without it.
        assert wait_for(lambda: "wnodev9" not in open(statefile).read())
        assert "wskp0a" in open(statefile).read()
    finally:
        w.stop()


def test_malformed_state_file_is_kept_aside():
    d = scratch("weird-bad-")
    statefile = os.path.join(d, "weird.state")
    bad = ("datapath good features=0x1\n"
           "port good p0 type=dummy port_no=1\n"
           "datapath broken features=zz\n")
    with open(statefile, "w") as f:
        f.write(bad)
    w = wl.Weird("--state=" + statefile)
    try:
        assert w.alive()
        log = w.log()
        assert re.search(r"\|state\|ERR\|state file .*weird\.state: line 3: "
                         r"features: want 0x", log), log
        assert not os.path.exists(statefile)
        assert open(statefile + ".bad").read() == bad
        c = NlConn(w.control)
        try:
            dp_fam, _ = c.family("ovs_datapath")
        except (NlError, KeyError, ValueError, TimeoutError):
            dp_fam = None
        if dp_fam is not None:
            # Nothing of the bad file was made.
            assert dp_names(c, dp_fam) == {}
        c.close()
    finally:
        assert w.stop() == 0


def test_unreadable_state_file_refuses_to_start():
    d = scratch("weird-unread-")
    statefile = os.path.join(d, "weird.state")
    os.mkdir(statefile)
    r = run_weird(["--control=" + os.path.join(d, "s"),
                   "--state=" + statefile, "--local-type=dummy"])
    assert r.returncode == 1
    assert "cannot read the state file" in r.stderr
    assert os.path.isdir(statefile)


# ---- TAP devices. ----

def test_sigterm_removes_tap_devices():
    if os.geteuid() != 0:
        pytest.skip("needs root (TAP devices in a network namespace)")
    ns = "weirdtest%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        class NsWeird(wl.Weird):
            def start(self, timeout=10.0):
                if self.args[0] != "ip":
                    self.args = ["ip", "netns", "exec", ns] + self.args
                super().start(timeout)

        w = NsWeird(local_type="tap", state=False)
        try:
            c = NlConn(w.control)
            dp_fam, _ = require_genl(c)
            make_dp(c, dp_fam, "wtap0")
            c.close()
            r = subprocess.run(["ip", "netns", "exec", ns, "ip", "link",
                                "show", "wtap0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, check=False)
            assert r.returncode == 0, r.stderr
            assert b"wtap0" in r.stdout
            assert w.stop() == 0
            r = subprocess.run(["ip", "netns", "exec", ns, "ip", "link",
                                "show", "wtap0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, check=False)
            assert r.returncode != 0, r.stdout
        finally:
            w.stop()
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)
