# SPDX-License-Identifier: Apache-2.0
"""Running weird for the system tests, and talking to it by hand.

- weird_bin(): the daemon under test ($WEIRD_BIN, else
  $WEIR_BUILD/src/daemon/weird); require_weird() skips when it is missing.
- Weird: starts weird on a private control socket, pidfile, log file and
  state file in a temporary directory, waits until the socket answers, and
  stops it (SIGTERM, then SIGKILL after a timeout) by the PID it started.
- NlConn: a netlink client over the control socket written with struct
  only (no netlink library), for byte-level protocol tests: HELLO, SOCKOPT,
  send datagrams, receive datagrams, build genetlink requests, parse
  messages and attributes.
"""

import atexit
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

import pytest

import systest

# <linux/netlink.h>
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_ECHO = 0x8
NLM_F_DUMP = 0x300
NLM_F_CREATE = 0x400
NLM_F_EXCL = 0x200
NLM_F_CAPPED = 0x100
NLM_F_ACK_TLVS = 0x200
NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSG_OVERRUN = 4
NLMSGERR_ATTR_MSG = 1
NLMSGERR_ATTR_OFFS = 2

# <weir/control.h>
WEIR_NLMSG_HELLO = 0x0E
WEIR_NLMSG_SOCKOPT = 0x0F
WEIR_HELLO_VERSION = 1
WEIR_SOCK_ADD_MEMBERSHIP = 1
WEIR_SOCK_DROP_MEMBERSHIP = 2
WEIR_SOCK_EXT_ACK = 3
WEIR_SOCK_CAP_ACK = 4
WEIR_SOCK_STRICT_CHK = 5
WEIR_SOCK_RCVBUF = 6
WEIR_VPORT_OPT_PROVIDER = 0x3E01
WEIR_VPORT_OPT_ARGS = 0x3E02

# <linux/genetlink.h>
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
CTRL_ATTR_VERSION = 3
CTRL_ATTR_HDRSIZE = 4
CTRL_ATTR_MAXATTR = 5
CTRL_ATTR_OPS = 6
CTRL_ATTR_MCAST_GROUPS = 7
CTRL_ATTR_MCAST_GRP_NAME = 1
CTRL_ATTR_MCAST_GRP_ID = 2

NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3FFF


def weird_bin():
    """Returns the path of the weird binary under test: $WEIRD_BIN, else
    src/daemon/weird in $WEIR_BUILD (default build/)."""
    path = os.environ.get("WEIRD_BIN") or os.path.join(
        os.environ.get("WEIR_BUILD", "build"), "src", "daemon", "weird")
    return path if os.path.isabs(path) else os.path.join(systest.ROOT, path)


def ovscompat_lib(build=None):
    """Returns the path of libweir-ovscompat.so in 'build' (default
    $WEIR_BUILD, else build/)."""
    build = build or os.environ.get("WEIR_BUILD", "build")
    path = os.path.join(build, "src", "compat", "libweir-ovscompat.so")
    return path if os.path.isabs(path) else os.path.join(systest.ROOT, path)


def ovscompat_env(control, build=None, base=None):
    """Returns a copy of 'base' (default os.environ) that runs an
    unmodified program through the shim against the weird listening on
    'control': WEIR_CONTROL and LD_PRELOAD.  A shim built with sanitizers
    needs their runtimes loaded first (a program that is not instrumented
    does not load them), so those that the shim links are put ahead of it,
    with leak checking off: the program's own exit-time allocations are not
    the shim's."""
    env = dict(os.environ if base is None else base)
    lib = ovscompat_lib(build)
    runtimes = []
    out = subprocess.run(["ldd", lib], capture_output=True, text=True,
                         check=False).stdout
    for line in out.splitlines():
        parts = line.split()
        if (len(parts) >= 3 and parts[1] == "=>"
                and ("libasan" in parts[0] or "libubsan" in parts[0])):
            runtimes.append(parts[2])
    runtimes.sort(key=lambda p: "libubsan" in p)  # ASan's runtime first.
    env["LD_PRELOAD"] = " ".join(runtimes + [lib])
    env["WEIR_CONTROL"] = control
    if runtimes:
        env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    return env


def require_weird():
    """Skips the current test (or fixture) if there is no weird binary."""
    path = weird_bin()
    if not os.access(path, os.X_OK):
        pytest.skip(systest.MISSING_PEER + "no weird binary at %s (build "
                    "it or set WEIRD_BIN)" % path)
    return path


class Weird:
    """One weird process on private paths under a temporary directory."""

    def __init__(self, *extra, local_type="dummy", state=True,
                 timeout=10.0):
        self.bin = require_weird()
        self.dir = tempfile.mkdtemp(prefix="weird-test-")
        # Tests read the files after stop(); the directory goes at exit.
        atexit.register(shutil.rmtree, self.dir, True)
        self.control = os.path.join(self.dir, "weird.sock")
        self.pidfile = os.path.join(self.dir, "weird.pid")
        self.logfile = os.path.join(self.dir, "weird.log")
        self.statefile = os.path.join(self.dir, "weird.state")
        self.args = [self.bin, "--control=" + self.control,
                     "--pidfile=" + self.pidfile,
                     "--log-file=" + self.logfile,
                     "--state=" + (self.statefile if state else ""),
                     "--local-type=" + local_type] + list(extra)
        self.proc = None
        self.start(timeout)

    def start(self, timeout=10.0):
        """Starts weird and waits until its control socket accepts."""
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")
                raise RuntimeError("weird exited with %d: %s"
                                   % (self.proc.returncode, err))
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                s.connect(self.control)
                s.close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("weird did not listen within %.0f s" % timeout)

    def env(self):
        """Environment for a client of this weird."""
        env = dict(os.environ)
        env["WEIR_CONTROL"] = self.control
        return env

    def log(self):
        try:
            with open(self.logfile, encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Stops weird; returns its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc.stderr.close()
        self.proc = None
        return rc


# ---- Netlink by hand. ----

def nla(atype, payload):
    """One attribute with its padding."""
    hdr = struct.pack("=HH", 4 + len(payload), atype)
    pad = (-len(payload)) % 4
    return hdr + payload + b"\0" * pad


def nla_u32(atype, v):
    return nla(atype, struct.pack("=I", v))


def nla_u16(atype, v):
    return nla(atype, struct.pack("=H", v))


def nla_str(atype, s):
    return nla(atype, s.encode() + b"\0")


def nla_nest(atype, *attrs):
    return nla(atype | NLA_F_NESTED, b"".join(attrs))


def nlmsg(mtype, flags, seq, payload, pid=0):
    """One netlink message (header + payload), padded to 4 bytes."""
    return struct.pack("=IHHII", 16 + len(payload), mtype, flags, seq,
                       pid) + payload + b"\0" * ((-len(payload)) % 4)


def genlmsg(family, cmd, flags, seq, attrs=b"", version=1, ovs_ifindex=None):
    """A generic netlink request; with 'ovs_ifindex' an ovs_header too."""
    payload = struct.pack("=BBH", cmd, version, 0)
    if ovs_ifindex is not None:
        payload += struct.pack("=i", ovs_ifindex)
    return nlmsg(family, flags, seq, payload + attrs)


def parse_msgs(dgram):
    """Splits a datagram into (type, flags, seq, pid, payload) tuples."""
    out = []
    off = 0
    while off + 16 <= len(dgram):
        length, mtype, flags, seq, pid = struct.unpack_from("=IHHII", dgram,
                                                            off)
        if length < 16 or off + length > len(dgram):
            raise ValueError("bad message length %d at %d" % (length, off))
        out.append((mtype, flags, seq, pid, dgram[off + 16:off + length]))
        off += (length + 3) & ~3
    return out


def parse_attrs(buf):
    """Returns a list of (type, payload) of an attribute stream."""
    out = []
    off = 0
    while off + 4 <= len(buf):
        length, atype = struct.unpack_from("=HH", buf, off)
        if length < 4 or off + length > len(buf):
            raise ValueError("bad attribute length %d at %d" % (length, off))
        out.append((atype & NLA_TYPE_MASK, buf[off + 4:off + length]))
        off += (length + 3) & ~3
    return out


def attr_dict(buf):
    return {t: v for t, v in parse_attrs(buf)}


class NlError(Exception):
    def __init__(self, errno_, msg=""):
        super().__init__("netlink error %d %s" % (errno_, msg))
        self.errno = errno_
        self.msg = msg


def parse_error(payload, flags):
    """Decodes an NLMSG_ERROR payload: (error, echoed header+payload,
    {tlv type: value})."""
    (error,) = struct.unpack_from("=i", payload, 0)
    orig_len = struct.unpack_from("=I", payload, 4)[0]
    if error == 0 or flags & NLM_F_CAPPED:
        echoed = payload[4:20]
        rest = payload[20:]
    else:
        echoed = payload[4:4 + orig_len]
        rest = payload[4 + ((orig_len + 3) & ~3):]
    tlvs = attr_dict(rest) if flags & NLM_F_ACK_TLVS else {}
    return error, echoed, tlvs


class NlConn:
    """One client connection to weird's control socket."""

    def __init__(self, control, pid=0, ext_ack=True, hello=True):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(5.0)
        self.sock.connect(control)
        self.seq = 1000
        self.pid = None
        if hello:
            self.pid = self.hello(pid)
            if ext_ack:
                self.sockopt(WEIR_SOCK_EXT_ACK, 1)
        self._families = {}

    def close(self):
        self.sock.close()

    def hello(self, pid=0):
        """Sends HELLO; returns the pid assigned or raises NlError."""
        self.sock.send(nlmsg(WEIR_NLMSG_HELLO, NLM_F_REQUEST, 0,
                             struct.pack("=IIiI", WEIR_HELLO_VERSION, pid,
                                         0, 0)))
        msgs = parse_msgs(self.sock.recv(65536))
        mtype, _, _, _, payload = msgs[0]
        assert mtype == WEIR_NLMSG_HELLO, msgs
        _, got, error, _ = struct.unpack_from("=IIiI", payload)
        if error:
            raise NlError(error)
        return got

    def sockopt(self, op, value):
        self.sock.send(nlmsg(WEIR_NLMSG_SOCKOPT, NLM_F_REQUEST, 0,
                             struct.pack("=II", op, value)))

    def next_seq(self):
        self.seq += 1
        return self.seq

    def send(self, data):
        self.sock.send(data)

    def recv(self, timeout=5.0, bufsize=1 << 20):
        """One datagram, or None after 'timeout'."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(bufsize)
        except (socket.timeout, BlockingIOError):
            return None

    def recv_msgs(self, timeout=5.0):
        d = self.recv(timeout)
        return None if d is None else parse_msgs(d)

    def transact(self, family, cmd, attrs=b"", flags=NLM_F_ACK, version=1,
                 ovs_ifindex=None):
        """Sends one request; returns the list of reply messages before
        the ACK.  Raises NlError on NLMSG_ERROR."""
        seq = self.next_seq()
        self.send(genlmsg(family, cmd, NLM_F_REQUEST | flags, seq, attrs,
                          version, ovs_ifindex))
        replies = []
        while True:
            d = self.recv()
            if d is None:
                raise TimeoutError("no answer to seq %d" % seq)
            for mtype, mflags, mseq, _, payload in parse_msgs(d):
                if mseq != seq:
                    continue
                if mtype == NLMSG_ERROR:
                    error, _, tlvs = parse_error(payload, mflags)
                    if error:
                        msg = tlvs.get(NLMSGERR_ATTR_MSG, b"")
                        raise NlError(error, msg.rstrip(b"\0").decode())
                    return replies
                replies.append((mtype, mflags, payload))
                if not flags & NLM_F_ACK:
                    return replies

    def dump(self, family, cmd, attrs=b"", version=1, ovs_ifindex=None):
        """Runs a dump; returns (list of payloads, list of datagram
        sizes)."""
        seq = self.next_seq()
        self.send(genlmsg(family, cmd, NLM_F_REQUEST | NLM_F_DUMP, seq,
                          attrs, version, ovs_ifindex))
        out, sizes = [], []
        while True:
            d = self.recv()
            if d is None:
                raise TimeoutError("dump seq %d did not end" % seq)
            sizes.append(len(d))
            for mtype, mflags, mseq, _, payload in parse_msgs(d):
                if mseq != seq:
                    continue
                if mtype == NLMSG_DONE:
                    (error,) = struct.unpack_from("=i", payload)
                    if error:
                        raise NlError(error)
                    return out, sizes
                if mtype == NLMSG_ERROR:
                    error, _, tlvs = parse_error(payload, mflags)
                    raise NlError(error, tlvs.get(NLMSGERR_ATTR_MSG, b"")
                                  .rstrip(b"\0").decode())
                out.append(payload)

    def family(self, name):
        """Resolves a family: returns (id, {group name: group id})."""
        if name not in self._families:
            reply = self.transact(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                                  nla_str(CTRL_ATTR_FAMILY_NAME, name),
                                  flags=0, version=2)
            attrs = attr_dict(reply[0][2][4:])
            fid = struct.unpack("=H", attrs[CTRL_ATTR_FAMILY_ID][:2])[0]
            groups = {}
            for _, grp in parse_attrs(attrs.get(CTRL_ATTR_MCAST_GROUPS,
                                                b"")):
                g = attr_dict(grp)
                groups[g[CTRL_ATTR_MCAST_GRP_NAME].rstrip(b"\0").decode()] = \
                    struct.unpack("=I", g[CTRL_ATTR_MCAST_GRP_ID])[0]
            self._families[name] = (fid, groups)
        return self._families[name]
