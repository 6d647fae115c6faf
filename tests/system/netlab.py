# SPDX-License-Identifier: Apache-2.0
"""Network-namespace hosts and the dp-shell datapath, for system tests.

- DpShell: runs $WEIR_BUILD/tests/tools/dp-shell (a datapath in one
  process, driven by one-line commands, one JSON reply each).
- Lab: creates network namespaces ("hosts") and veth pairs, runs commands
  in them, and removes everything it created on close().  Names carry the
  test process's PID so that parallel runs do not collide.

Only namespaces and devices a Lab created are touched.
"""

import json
import os
import shutil
import subprocess
import time

import pytest

import systest


# A TCP transfer between two hosts, as python -c scripts: SERVER ADDR
# listens on ADDR:5001 and prints "listening", then the byte count and
# SHA-256 of what it received; CLIENT ADDR SIZE HEX32 sends SIZE bytes (a
# 32-byte pattern repeated).  Every wait is bounded (40 s).
TCP_SERVER = r"""
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5001))
s.listen(1)
s.settimeout(40)
print("listening", flush=True)
c, _ = s.accept()
c.settimeout(40)
h = hashlib.sha256()
n = 0
while True:
    b = c.recv(1 << 16)
    if not b:
        break
    h.update(b)
    n += len(b)
print(n, h.hexdigest(), flush=True)
"""

TCP_CLIENT = r"""
import socket, sys
data = bytes.fromhex(sys.argv[3]) * (int(sys.argv[2]) // 32)
c = socket.create_connection((sys.argv[1], 5001), timeout=40)
for i in range(0, len(data), 262144):
    c.sendall(data[i:i + 262144])
c.close()
"""


def weir_build():
    """The build directory under test ($WEIR_BUILD, default build)."""
    path = os.environ.get("WEIR_BUILD", "build")
    return path if os.path.isabs(path) else os.path.join(systest.ROOT, path)


def require_netlab():
    """Skips unless we can make namespaces and have dp-shell and tools."""
    shell = os.path.join(weir_build(), "tests", "tools", "dp-shell")
    if not os.access(shell, os.X_OK):
        pytest.skip(systest.MISSING_PEER + "no dp-shell at %s" % shell)
    for tool in ("ip", "ping", "tcpdump", "ethtool"):
        if not shutil.which(tool):
            pytest.skip(systest.MISSING_PEER + "no %s" % tool)
    if os.geteuid() != 0:
        pytest.skip("needs root for network namespaces")
    return shell


class DpShell:
    """One dp-shell process."""

    def __init__(self, *args):
        self.proc = subprocess.Popen(
            [require_netlab()] + list(args), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, bufsize=1)
        ready = self._read()
        assert ready.get("ok"), ready

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read()
            raise AssertionError("dp-shell exited: %s" % err)
        return json.loads(line)

    def cmd(self, line, check=True):
        """Sends one command; returns the reply (asserting ok if 'check')."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self._read()
        if check and not reply.get("ok"):
            raise AssertionError("%s: %s" % (line, reply.get("error")))
        return reply

    def port(self, name, stats=None):
        """The 'stats' entry of port 'name'."""
        stats = stats or self.cmd("stats")
        for p in stats["ports"]:
            if p["name"] == name:
                return p
        raise KeyError(name)

    def close(self):
        """Quits (the datapath is destroyed) and waits for the process."""
        if self.proc.poll() is None:
            try:
                self.cmd("quit", check=False)
            except (AssertionError, BrokenPipeError, ValueError):
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except (BrokenPipeError, OSError):
                pass
        return self.proc.returncode


def run(cmd, check=True, **kw):
    """Runs 'cmd' (a list); returns the CompletedProcess."""
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True,
                          **kw)


class Lab:
    """Namespaces and veth pairs created for one test."""

    def __init__(self, tag):
        self.tag = "%s%d" % (tag, os.getpid() % 100000)
        self.netns = []
        self.links = []         # Root-namespace ends to delete.

    def name(self, base):
        """A device or namespace name unique to this lab (<= 15 chars)."""
        return ("%s%s" % (base, self.tag))[:15]

    def host(self, base):
        ns = self.name(base)
        run(["ip", "netns", "add", ns])
        self.netns.append(ns)
        self.ns(ns, "ip", "link", "set", "lo", "up")
        return ns

    def ns(self, ns, *cmd, check=True, **kw):
        return run(["ip", "netns", "exec", ns] + list(cmd), check=check,
                   **kw)

    def veth(self, outside, ns, inside, addr):
        """A veth pair: 'outside' in the root namespace (up), 'inside' in
        'ns' with address 'addr' (CIDR), up."""
        run(["ip", "link", "add", outside, "type", "veth", "peer", "name",
             inside, "netns", ns])
        self.links.append(outside)
        run(["ip", "link", "set", outside, "up"])
        self.ns(ns, "ip", "addr", "add", addr, "dev", inside)
        self.ns(ns, "ip", "link", "set", inside, "up")

    def adopt(self, dev, ns, addr):
        """Moves root-namespace device 'dev' (a TAP) into 'ns' with 'addr'."""
        run(["ip", "link", "set", dev, "netns", ns])
        self.ns(ns, "ip", "addr", "add", addr, "dev", dev)
        self.ns(ns, "ip", "link", "set", dev, "up")

    def close(self):
        for link in self.links:
            run(["ip", "link", "del", link], check=False)
        for ns in self.netns:
            run(["ip", "netns", "del", ns], check=False)
        self.links = []
        self.netns = []


def wait_for(pred, timeout=10.0, step=0.05):
    """Polls 'pred' until it returns a true value or 'timeout' passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)
