# SPDX-License-Identifier: Apache-2.0
"""Unmodified Open vSwitch on top of weird, for the system tests.

- require_ovs(), require_shim(), require_odpflow(), require_tools():
  skip (a missing peer, see systest.MISSING_PEER) when Debian's Open
  vSwitch binaries, libweir-ovscompat.so, python3-openvswitch's flow
  parser or the network tools are not there; without root, a plain skip.
- Netns: one network namespace of this test run ("sys-<random>", the
  helper's prefix), in which weird, ovsdb-server and ovs-vswitchd run, so
  that the TAP devices weird makes (the datapath's local port
  "ovs-system", a bridge's "br0") are private to it; plus the traffic
  hosts (namespaces too) hanging off veth pairs whose switch ends live in
  it.  close() deletes every namespace and device it made.
- NetnsWeird: weirdlib.Weird run inside such a namespace.
- OvsSandbox: ovsdb-server and ovs-vswitchd on private directories
  (OVS_RUNDIR, OVS_DBDIR, OVS_LOGDIR, OVS_SYSCONFDIR), ovs-vswitchd
  through the shim (weirdlib.ovscompat_env()), both inside the namespace;
  the ovs-* commands with the right environment; log_problems(): the
  WARN/ERR/EMER lines of ovs-vswitchd.log that an allow-list of causes
  other than weir does not explain.  Daemons are stopped by the PIDs in
  their pidfiles: `ovs-appctl exit`, then SIGTERM, then SIGKILL.

Nothing here stops a process or deletes a device it did not start or make.
"""

import atexit
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

import systest
import weirdlib

OVS_SBIN = "/usr/sbin"
OVS_BIN = "/usr/bin"
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
OVS_PROGRAMS = [os.path.join(OVS_SBIN, p) for p in ("ovsdb-server",
                                                      "ovs-vswitchd")] + \
    [os.path.join(OVS_BIN, p) for p in ("ovsdb-tool", "ovs-vsctl",
                                        "ovs-ofctl", "ovs-appctl",
                                        "ovs-dpctl")]

# ovs-vswitchd's log levels.  The file gets INFO from every module, and
# DBG from the modules that show what passes between ovs-vswitchd and the
# datapath (each flow put/del/execute, each netlink transaction), which is
# what one reads first when something fails here.  Nothing goes to the
# console (its stderr is /dev/null once detached) or to the host's syslog.
VSWITCHD_LOG_ARGS = ["-vconsole:off", "-vsyslog:off", "-vfile:info",
                     "-vdpif:file:dbg", "-vdpif_netlink:file:dbg",
                     "-vnetlink_socket:file:dbg"]

# Log lines of ovs-vswitchd at WARN or above that are not caused by weir.
# Each pattern is searched in the line's message part ("module|LEVEL|text")
# and says why it is not weir's doing.  Keep this list short: a line that
# needs a new entry is first a finding to understand.
VSWITCHD_ALLOWED = [
    # The main loop took long: a figure of the host's load (sanitizer
    # runtimes in ovs-vswitchd, two cores shared with parallel suites),
    # logged with the resource usage lines that follow it.  Open vSwitch's
    # own check_logs ignores these for the same reason.
    (r"^timeval\|WARN\|Unreasonably long \d+ms poll interval",
     "host load"),
    (r"^timeval\|WARN\|(faults: \d+ minor|disk: \d+ reads|"
     r"context switches: \d+ voluntary)", "host load"),
    (r"^ovs_rcu\|WARN\|blocked \d+ ms waiting for \S+ to quiesce",
     "host load"),
]


def _missing(what):
    """Skips as a missing peer (a failure under WEIR_REQUIRE_PEERS)."""
    pytest.skip(systest.MISSING_PEER + what)


def require_root():
    """Namespaces, veths and TAPs need root: a plain skip without."""
    if os.geteuid() != 0:
        pytest.skip("needs root for network namespaces and TAP devices")


def require_tools():
    """ip and ping, which every test here uses."""
    for tool in ("ip", "ping"):
        if not shutil.which(tool):
            _missing("no %s" % tool)


def require_ovs():
    """Debian's Open vSwitch 3.1 binaries and the database schema."""
    for path in OVS_PROGRAMS + [OVS_SCHEMA]:
        if not os.path.exists(path):
            _missing("no %s (install openvswitch-switch)" % path)


def require_shim(build=None):
    """libweir-ovscompat.so in the build under test."""
    lib = weirdlib.ovscompat_lib(build)
    if not os.path.exists(lib):
        _missing("no shim at %s (build it or set WEIR_BUILD)" % lib)
    return lib


def require_odpflow():
    """python3-openvswitch's datapath flow parser; returns ODPFlow."""
    try:
        from ovs.flow.odp import ODPFlow
    except ImportError as e:      # python3-openvswitch or python3-netaddr.
        _missing("ovs.flow is not importable (%s); install "
                 "python3-openvswitch and python3-netaddr" % e)
    return ODPFlow


def run(cmd, check=True, timeout=60, **kw):
    """Runs 'cmd' (a list); returns the CompletedProcess (text)."""
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=timeout, **kw)


def pid_alive(pid):
    """True while 'pid' exists and is not a zombie.  A daemon that
    detached is not our child: when it exits, whoever adopted it reaps it,
    maybe late, so a zombie counts as gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    # "PID (COMM) STATE ...": COMM may hold spaces and parentheses.
    return stat[stat.rindex(")") + 2:].split()[0] not in ("Z", "X")


def wait_for(pred, timeout=10.0, step=0.05):
    """Polls 'pred' until it returns a true value or 'timeout' passes;
    returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def kill_pid(pid, graceful=None, timeout=10.0):
    """Stops process 'pid': calls 'graceful()' first if given, then
    SIGTERM, then SIGKILL, each time waiting up to 'timeout' seconds.
    Returns how it ended: "graceful", "SIGTERM", "SIGKILL" or "gone"."""
    if not pid_alive(pid):
        return "gone"
    if graceful is not None:
        try:
            graceful()
        except (subprocess.SubprocessError, OSError):
            pass
        if wait_for(lambda: not pid_alive(pid), timeout):
            return "graceful"
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return "gone"
        if wait_for(lambda: not pid_alive(pid), timeout):
            return sig.name
    raise RuntimeError("process %d survived SIGKILL" % pid)


class Netns:
    """A network namespace "sys-<random>" for the switch side, traffic
    hosts (namespaces "sys-<random>-<x>") and veth pairs between them."""

    def __init__(self, prefix="sys"):
        self.tag = secrets.token_hex(3)
        self.name = "%s-%s" % (prefix, self.tag)
        self.hosts = []
        self.closed = False
        run(["ip", "netns", "add", self.name])
        atexit.register(self.close)
        # No IPv6 on the switch side: the TAPs and veths then stay quiet
        # (no router solicitations, no MLD), so datapath counters only
        # move with the test's own traffic.
        for key in ("all", "default"):
            self.sh("sysctl", "-qw",
                    "net.ipv6.conf.%s.disable_ipv6=1" % key)
        self.sh("ip", "link", "set", "lo", "up")

    def dev(self, base):
        """A device name unique to this run (at most 15 characters)."""
        return ("%s-%s" % (base, self.tag))[:15]

    def argv(self, *cmd):
        """'cmd' run inside the switch namespace."""
        return ["ip", "netns", "exec", self.name] + list(cmd)

    def sh(self, *cmd, check=True, **kw):
        """Runs 'cmd' in the switch namespace; returns CompletedProcess."""
        return run(self.argv(*cmd), check=check, **kw)

    def host(self, letter, switch_dev, addr):
        """A traffic host: namespace NAME-LETTER with "eth0" (address
        'addr', CIDR) whose veth peer 'switch_dev' is in the switch
        namespace, both up.  IPv6 is off in the host; offloads stay as
        the kernel sets them (partial checksums, TSO), as in Open vSwitch's
        kernel tests: "system" ports must cope, as the kernel module does.
        Returns the host's namespace name."""
        ns = "%s-%s" % (self.name, letter)
        run(["ip", "netns", "add", ns])
        self.hosts.append(ns)
        self.hsh(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        self.hsh(ns, "sysctl", "-qw",
                 "net.ipv6.conf.default.disable_ipv6=1")
        self.hsh(ns, "ip", "link", "set", "lo", "up")
        self.sh("ip", "link", "add", switch_dev, "type", "veth", "peer",
                "name", "eth0", "netns", ns)
        self.sh("ip", "link", "set", switch_dev, "up")
        self.hsh(ns, "ip", "addr", "add", addr, "dev", "eth0")
        self.hsh(ns, "ip", "link", "set", "eth0", "up")
        return ns

    def veth(self, dev, peer):
        """A veth pair with both ends in the switch namespace, up."""
        self.sh("ip", "link", "add", dev, "type", "veth", "peer", "name",
                peer)
        self.sh("ip", "link", "set", dev, "up")
        self.sh("ip", "link", "set", peer, "up")

    def hsh(self, ns, *cmd, check=True, **kw):
        """Runs 'cmd' in host namespace 'ns'."""
        return run(["ip", "netns", "exec", ns] + list(cmd), check=check,
                   **kw)

    def links(self):
        """{name: {"ifindex": N, "kind": "veth"|"tun"|..., "up": bool}}
        of the switch namespace, from `ip -d -j link`."""
        out = self.sh("ip", "-d", "-j", "link", "show").stdout
        links = {}
        for link in json.loads(out or "[]"):
            info = link.get("linkinfo", {})
            links[link["ifname"]] = {
                "ifindex": link["ifindex"],
                "kind": info.get("info_kind"),
                "tun_type": info.get("info_data", {}).get("type"),
                "up": "UP" in link.get("flags", []),
            }
        return links

    def close(self):
        """Deletes the hosts and the switch namespace (their devices go
        with them).  Processes still running in them must be stopped
        first; the caller does that by PID."""
        if self.closed:
            return
        self.closed = True
        for ns in self.hosts + [self.name]:
            run(["ip", "netns", "del", ns], check=False)


class NetnsWeird(weirdlib.Weird):
    """weirdlib.Weird run inside network namespace 'netns' (a Netns).
    `ip netns exec` execs weird, so the PID Weird keeps is weird's."""

    def __init__(self, netns, *extra, **kw):
        self.netns = netns
        super().__init__(*extra, **kw)
        atexit.register(self.stop)

    def start(self, timeout=10.0):
        """Starts weird under `ip netns exec` (also on a restart)."""
        if self.args[0] != "ip":
            self.args = self.netns.argv(*self.args)
        super().start(timeout)

    def log_lines(self, levels=("ERR", "EMER")):
        """weird's log lines at one of 'levels' ("time|module|LEVEL|..."),
        e.g. ("WARN",)."""
        out = []
        for line in self.log().splitlines():
            parts = line.split("|", 3)
            if len(parts) >= 3 and parts[2] in levels:
                out.append(line)
        return out


class OvsError(AssertionError):
    """An ovs-* command failed."""


class OvsSandbox:
    """ovsdb-server and ovs-vswitchd of one test run, inside 'netns', with
    ovs-vswitchd (and, on request, ovs-dpctl) running through the shim
    against the weird listening on 'control'."""

    def __init__(self, netns, control, build=None):
        require_ovs()
        self.netns = netns
        self.control = control
        self.dir = tempfile.mkdtemp(prefix="ovs-sandbox-")
        atexit.register(shutil.rmtree, self.dir, True)
        atexit.register(self.close)
        env = dict(os.environ)
        for var in ("OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR",
                    "OVS_SYSCONFDIR"):
            env[var] = self.dir
        # Nothing of the host's Open vSwitch or of a caller's shim leaks
        # into the plain commands.
        env.pop("LD_PRELOAD", None)
        env.pop("OVS_DB", None)
        self.env = env
        self.shim_env = weirdlib.ovscompat_env(control, build, base=env)
        # A sanitizer report from the shim inside a detached ovs-vswitchd
        # would go to its stderr, /dev/null: into files here instead, which
        # sanitizer_reports() finds.
        for var, name in (("ASAN_OPTIONS", "asan"),
                          ("UBSAN_OPTIONS", "ubsan")):
            if var in self.shim_env:
                self.shim_env[var] += ":log_path=" + os.path.join(self.dir,
                                                                  name)
        self.db_sock = os.path.join(self.dir, "db.sock")
        self.vswitchd_log = os.path.join(self.dir, "ovs-vswitchd.log")
        self.db_pid = None
        self.vswitchd_pid = None
        self.vswitchd_starts = 0
        self.closed = False

    # ---- Daemons. ----

    def _pidfile(self, program):
        """The PID in OVS_RUNDIR/PROGRAM.pid, or None."""
        path = os.path.join(self.dir, program + ".pid")
        try:
            with open(path) as f:
                return int(f.read().strip())
        except (FileNotFoundError, ValueError):
            return None

    def start_db(self):
        """Creates conf.db, starts ovsdb-server and initializes the
        database (`ovs-vsctl --no-wait init`)."""
        db = os.path.join(self.dir, "conf.db")
        self._ok([os.path.join(OVS_BIN, "ovsdb-tool"), "create", db,
                  OVS_SCHEMA])
        self._ok(self.netns.argv(
            os.path.join(OVS_SBIN, "ovsdb-server"), "--detach",
            "--no-chdir", "--pidfile", "--log-file", "-vconsole:off",
            "-vsyslog:off", "--remote=punix:" + self.db_sock, db))
        self.db_pid = self._pidfile("ovsdb-server")
        assert self.db_pid, "ovsdb-server wrote no pidfile"
        self.vsctl("--no-wait", "init")

    def start_vswitchd(self, *extra):
        """Starts ovs-vswitchd through the shim.  With --detach it
        returns once ovs-vswitchd has read the database and configured
        its bridges (daemonize_complete())."""
        self.vswitchd_starts += 1
        r = run(self.netns.argv(
            os.path.join(OVS_SBIN, "ovs-vswitchd"), "--detach",
            "--no-chdir", "--pidfile", "--log-file",
            *VSWITCHD_LOG_ARGS, *extra, "unix:" + self.db_sock),
            check=False, env=self.shim_env, timeout=60)
        if r.returncode != 0:
            raise OvsError("ovs-vswitchd did not start (%d): %s\nlog:\n%s"
                           % (r.returncode, r.stderr,
                              self.vswitchd_log_text()[-4000:]))
        self.vswitchd_pid = self._pidfile("ovs-vswitchd")
        assert self.vswitchd_pid, "ovs-vswitchd wrote no pidfile"

    def stop_vswitchd(self):
        """`ovs-appctl exit` (the datapath and its ports stay, as with the
        kernel module), else SIGTERM, else SIGKILL.  Returns how it
        ended."""
        pid, self.vswitchd_pid = self.vswitchd_pid, None
        if pid is None:
            return None
        return kill_pid(pid, lambda: self.appctl("exit", check=False,
                                                  timeout=15))

    def stop_db(self):
        """`ovs-appctl -t ovsdb-server exit`, else SIGTERM, else SIGKILL."""
        pid, self.db_pid = self.db_pid, None
        if pid is None:
            return None
        return kill_pid(pid, lambda: self.appctl(
            "exit", target="ovsdb-server", check=False, timeout=15))

    def close(self):
        """Stops both daemons (ovs-vswitchd first).  Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        self.stop_vswitchd()
        self.stop_db()

    def vswitchd_alive(self):
        """True while the ovs-vswitchd we started runs."""
        return self.vswitchd_pid is not None and pid_alive(
            self.vswitchd_pid)

    # ---- Commands. ----

    def _ok(self, argv, env=None, timeout=60, check=True):
        """Runs 'argv' with the sandbox's environment; with 'check',
        raises OvsError on a non-zero exit.  Returns CompletedProcess."""
        r = run(argv, check=False, env=env or self.env, timeout=timeout)
        if check and r.returncode != 0:
            raise OvsError("%s exited with %d\nstdout: %s\nstderr: %s"
                           % (" ".join(argv), r.returncode, r.stdout,
                              r.stderr))
        return r

    def vsctl(self, *args, check=True, timeout=60):
        """ovs-vsctl ARGS against this sandbox's database; returns its
        stdout.  A change waits until ovs-vswitchd has applied it (the
        default), for at most 30 seconds."""
        return self._ok([os.path.join(OVS_BIN, "ovs-vsctl"), "--timeout=30",
                         "--db=unix:" + self.db_sock] + list(args),
                        check=check, timeout=timeout).stdout

    def ofctl(self, *args, check=True):
        """ovs-ofctl ARGS (bridges by name: their management sockets are
        in OVS_RUNDIR); returns stdout."""
        return self._ok([os.path.join(OVS_BIN, "ovs-ofctl")] + list(args),
                        check=check).stdout

    def appctl(self, *args, target="ovs-vswitchd", check=True, timeout=60):
        """ovs-appctl -t TARGET ARGS; returns the CompletedProcess."""
        return self._ok([os.path.join(OVS_BIN, "ovs-appctl"),
                         "--timeout=30", "-t", target] + list(args),
                        check=check, timeout=timeout)

    def dpctl(self, *args, timeout=60):
        """Debian's ovs-dpctl ARGS, through the shim against weird, inside
        the namespace (it opens the ports' network devices there).
        Returns the CompletedProcess; the caller checks it."""
        return run(self.netns.argv(os.path.join(OVS_BIN, "ovs-dpctl"),
                                   *args),
                   check=False, env=self.shim_env, timeout=timeout)

    # ---- Logs. ----

    def sanitizer_reports(self):
        """The text of every ASan/UBSan report that a program run through
        the shim wrote (files asan.PID, ubsan.PID in the sandbox)."""
        out = []
        for name in sorted(os.listdir(self.dir)):
            if name.startswith(("asan.", "ubsan.")):
                with open(os.path.join(self.dir, name), errors="replace") \
                        as f:
                    out.append("%s:\n%s" % (name, f.read()))
        return out

    def vswitchd_log_text(self):
        """ovs-vswitchd.log as it is now ("" before the first start)."""
        try:
            with open(self.vswitchd_log, encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_problems(self, allowed=VSWITCHD_ALLOWED, text=None):
        """The lines of ovs-vswitchd.log at WARN, ERR or EMER that no
        pattern of 'allowed' explains.  A line is
        "TIME|SEQ|MODULE|LEVEL|MESSAGE"; continuation lines (a multi-line
        message) carry no level and count with their first line."""
        text = self.vswitchd_log_text() if text is None else text
        bad = []
        for line in text.splitlines():
            parts = line.split("|", 4)
            if len(parts) < 5 or parts[3] not in ("WARN", "ERR", "EMER"):
                continue
            rest = "|".join(parts[2:])
            if not any(re.search(p, rest) for p, _ in allowed):
                bad.append(line)
        return bad

    def allowed_hits(self, allowed=VSWITCHD_ALLOWED):
        """How many WARN+ lines each allow-list reason excused."""
        counts = {}
        for line in self.vswitchd_log_text().splitlines():
            parts = line.split("|", 4)
            if len(parts) < 5 or parts[3] not in ("WARN", "ERR", "EMER"):
                continue
            rest = "|".join(parts[2:])
            for pattern, why in allowed:
                if re.search(pattern, rest):
                    counts[why] = counts.get(why, 0) + 1
                    break
        return counts
