#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Runs Open vSwitch 3.1's kernel-datapath system tests against weird.

Open vSwitch ships its kernel system tests as a pre-generated autotest
script, tests/system-kmod-testsuite, inside the openvswitch-source
tarball.  The tests drive Debian's unmodified ovs-vswitchd, ovs-vsctl,
ovs-ofctl, ovs-appctl and ovs-dpctl against the "system" datapath, which
they expect to be the openvswitch kernel module.  Here every process the
suite starts runs with weir's LD_PRELOAD shim (libweir-ovscompat.so), so
that their NETLINK_GENERIC sockets talk to a weird started by this script
instead, and a stand-in for modprobe answers `modprobe openvswitch`.
docs/design/ovs-kmod-suite.md explains the setup and the results.

What this script does:
  1. extracts the tarball into the work directory (build-ovs-kmod/ by
     default) and writes what `configure` would have written for the
     suite: atconfig (where the source and build trees are) and atlocal
     (which optional tools exist), both in <workdir>/run;
  2. writes <workdir>/bin/modprobe, the stand-in, first on the suite's
     PATH;
  3. starts weird on private paths in the work directory, with TAP local
     ports so that the datapath's ports exist as kernel devices;
  4. runs the selected tests one at a time, one suite invocation each,
     and after each checks that weird is still alive (a death is a failure
     of the test that was running; weird is then restarted);
  5. writes a Markdown table and a JSON file: one row per test with its
     result and, for a test that did not pass, the reason read from its
     log: the check that failed and what it printed, or the skip condition.

Exit status: 0 if every test named in --expect-pass passed (or no
--expect-pass was given), 1 with a list of regressions otherwise, 2 if
the run itself could not be set up.
"""

import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
import weirdlib  # noqa: E402  (needs the path above)

TARBALL = "/usr/src/openvswitch/openvswitch.tar.gz"
SUITE = "system-kmod-testsuite"
SUITE_DIR = SUITE + ".dir"
REAL_MODPROBE = ("/usr/sbin/modprobe", "/sbin/modprobe")

# What weir has no datapath support for (yet), and how a test's source
# shows that it uses it.  Matched against the test's .at text (macros
# unexpanded), so that a failing test's row says what it exercises; the
# table never claims that a use is the cause: the failing check says that.
USES = [
    ("conntrack", re.compile(r"\bct\(|ct_state|ct_clear|ct_zone|ct_mark|"
                             r"ct_label|CHECK_CONNTRACK|conntrack|"
                             r"ct-[a-z]+-limit|ct_nw_|ct_tp_")),
    ("NAT", re.compile(r"\bnat\b|nat\(")),
    ("IPsec", re.compile(r"ipsec", re.I)),
    ("tunnel", re.compile(
        r"ADD_OVS_TUNNEL6?\(\[?(\w+)|type=(vxlan|geneve|gre|erspan|"
        r"ip6gre|ip6erspan|bareudp|gtpu|stt|lisp|srv6)\b|"
        r"OVS_CHECK_(VXLAN|GENEVE|GRE|ERSPAN)")),
    ("meters", re.compile(r"\bmeters?\b|add-meter")),
    ("NSH", re.compile(r"\bnsh\b", re.I)),
    ("MPLS", re.compile(r"mpls", re.I)),
    ("bond", re.compile(r"ADD_VETH_BOND|add-bond")),
    ("VLAN devices", re.compile(r"ADD_[CS]?VLAN|type vlan")),
    ("QoS/tc", re.compile(r"QoS|ingress_policing|\btc (qdisc|filter)")),
    ("patch ports", re.compile(r"type=patch")),
    ("truncate", re.compile(r"output\(port=|max_len=")),
    ("check_pkt_len", re.compile(r"check_pkt_larger|check_pkt_len")),
]


def fail_setup(msg):
    """Stops the run before any test: prints why and exits with 2."""
    print("ovs-kmod-tests: " + msg, file=sys.stderr)
    sys.exit(2)


# ---- The source tree and the configuration the suite reads. ----

def extract(tarball, workdir):
    """Extracts 'tarball' into 'workdir'/openvswitch once; a stamp file
    with the tarball's size and time makes later runs reuse the tree (and
    a changed tarball replace it).  Returns the tree's path."""
    tree = os.path.join(workdir, "openvswitch")
    st = os.stat(tarball)
    want = "%s %d %d\n" % (tarball, st.st_size, int(st.st_mtime))
    stamp = os.path.join(workdir, "openvswitch.stamp")
    try:
        with open(stamp) as f:
            if f.read() == want and os.path.isfile(
                    os.path.join(tree, "tests", SUITE)):
                return tree
    except FileNotFoundError:
        pass
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(workdir, exist_ok=True)
    subprocess.run(["tar", "-xzf", tarball, "-C", workdir], check=True)
    if not os.path.isfile(os.path.join(tree, "tests", SUITE)):
        fail_setup("%s has no openvswitch/tests/%s" % (tarball, SUITE))
    # On a failure the suite appends the build tree's config.log to its
    # log; there was no configure run, so say that instead of letting sed
    # complain.
    with open(os.path.join(tree, "config.log"), "w") as f:
        f.write("(no configure run: the tree was extracted from %s by "
                "scripts/ovs-kmod-tests.py)\n" % tarball)
    with open(stamp, "w") as f:
        f.write(want)
    return tree


def shq(value):
    """Single-quotes 'value' for a shell assignment."""
    return shlex.quote(str(value))


def write_atconfig(rundir, tree):
    """Writes the atconfig that `configure` makes: where the suite's
    source and build trees are.  Absolute paths, so that the suite can run
    in a directory of its own (rundir) while the tree stays untouched."""
    tests = os.path.join(tree, "tests")
    lines = [
        "# Written by scripts/ovs-kmod-tests.py (what configure would "
        "write).",
        "at_testdir=" + shq("tests"),
        "abs_builddir=" + shq(tests),
        "at_srcdir=" + shq(tests),
        "abs_srcdir=" + shq(tests),
        "at_top_srcdir=" + shq(tree),
        "abs_top_srcdir=" + shq(tree),
        "at_top_build_prefix=" + shq(tree + "/"),
        "abs_top_builddir=" + shq(tree),
        "SHELL=" + shq("/bin/sh"),
    ]
    with open(os.path.join(rundir, "atconfig"), "w") as f:
        f.write("\n".join(lines) + "\n")


def have(cmd):
    """'yes' if 'cmd' is on PATH (what atlocal's find_command sets)."""
    return "yes" if shutil.which(cmd, path="/usr/sbin:/usr/bin:/sbin:/bin") \
        else "no"


def links(binary, libname):
    """'yes' if 'binary' is dynamically linked with 'libname'."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True,
                         check=False).stdout
    return "yes" if libname in out else "no"


def probe_atlocal(tree):
    """Works out the values that atlocal.in computes at `configure` time
    or when it is sourced, for the programs this suite runs: Debian's
    Open vSwitch binaries and the tools installed here.  Returns a list
    of (name, value, exported)."""
    python = "/usr/bin/python3"
    vswitchd = shutil.which("ovs-vswitchd", path="/usr/sbin:/usr/bin")
    if not vswitchd:
        fail_setup("ovs-vswitchd is not installed (package "
                   "openvswitch-switch)")
    l7 = subprocess.run([python, os.path.join(tree, "tests", "test-l7.py"),
                         "--help"], capture_output=True, text=True,
                        check=False).stdout
    protos = re.search(r"\((\[.*?\])\)", l7)
    protos = protos.group(1) if protos else ""
    ipv6 = "yes"
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0, 0, 0))
        s.close()
    except OSError:
        ipv6 = "no"
    nc_eof = "-q 1 -w 5"
    nc = shutil.which("nc", path="/usr/bin:/bin")
    if nc:
        ver = subprocess.run([nc, "--version"], capture_output=True,
                             text=True, check=False)
        if "nmap.org" in ver.stdout + ver.stderr:
            nc_eof = "--send-only -w 5"
    return [
        ("HAVE_OPENSSL", links(vswitchd, "libssl"), False),
        ("OPENSSL_SUPPORTS_SNI", links(vswitchd, "libssl"), False),
        ("HAVE_UNBOUND", links(vswitchd, "libunbound"), False),
        ("EGREP", "grep -E", False),
        ("PYTHON3", python, False),
        ("CFLAGS", "", False),
        ("PYTHONCOERCECLOCALE", "0", True),
        ("PYTHONPATH", "$abs_top_srcdir/python:$abs_top_builddir/tests:"
         "$PYTHONPATH", True),
        ("PYTHONIOENCODING", "utf_8", True),
        ("PYTHONDONTWRITEBYTECODE", "yes", True),
        ("non_ascii_cwd", "false", False),
        ("MALLOC_PERTURB_", "165", True),
        ("MALLOC_CHECK_", "2", True),
        ("LOOPBACK_INTERFACE", "lo", False),
        ("IS_WIN32", "no", False),
        ("IS_BSD", "no", False),
        ("IS_ARM64", "yes" if os.uname().machine == "aarch64" else "no",
         False),
        ("HAVE_IPV6", ipv6, False),
        ("HAVE_FTP", "yes" if "'ftp'" in protos else "no", False),
        ("HAVE_TFTP", "yes" if "'tftp'" in protos else "no", False),
        ("HAVE_NC", have("nc"), False),
        ("NC_EOF_OPT", nc_eof, False),
        ("HAVE_TC", have("tc"), False),
        # atlocal.in probes this by adding veth0/veth1 in the root
        # namespace each time it is sourced; no test of this suite reads
        # it, so it is not probed.
        ("SUPPORT_TC_INGRESS_PPS", "no", False),
        ("HAVE_TCPDUMP", have("tcpdump"), False),
        ("HAVE_LFTP", have("lftp"), False),
        ("CURL_OPT", "-g -v --max-time 1 --retry 2 --retry-delay 1 "
         "--connect-timeout 1", False),
        ("DIFF_SUPPORTS_NORMAL_FORMAT", "yes", False),
        ("TESTS_WITH_UBSAN", "no", False),
        ("OVS_SYSLOG_METHOD", "null", True),
        ("OVS_CTL_TIMEOUT", "30", True),
        # A shim built with sanitizers reports into asan.PID / ubsan.PID
        # in the test's directory, which the suite's cleanup turns into a
        # failure, as for a sanitized Open vSwitch build.
        ("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=true:"
         "log_path=asan:$ASAN_OPTIONS", True),
        ("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=true:"
         "log_path=ubsan:$UBSAN_OPTIONS", True),
        ("HAVE_PYTEST", "no", False),
    ]


def write_atlocal(rundir, values):
    """Writes atlocal from probe_atlocal()'s values.  Variables are
    assigned with double quotes where they refer to other variables."""
    lines = ["# Written by scripts/ovs-kmod-tests.py: the values "
             "tests/atlocal.in computes,", "# probed on this machine."]
    for name, value, export in values:
        if "$" in value:
            lines.append('%s="%s"' % (name, value))
        else:
            lines.append("%s=%s" % (name, shq(value)))
        if export:
            lines.append("export " + name)
    lines += ["unset http_proxy https_proxy ftp_proxy no_proxy",
              "unset HTTP_PROXY HTTPS_PROXY FTP_PROXY NO_PROXY"]
    with open(os.path.join(rundir, "atlocal"), "w") as f:
        f.write("\n".join(lines) + "\n")


MODPROBE = r"""#!/bin/sh
# modprobe stand-in, written by scripts/ovs-kmod-tests.py, first on the PATH
# of Open vSwitch's kernel system tests while they run against weird.
#
#   openvswitch   "loading" succeeds when weird is running (its pidfile
#                 names a live process and its control socket exists): the
#                 datapath the module would provide is there.  Removing it
#                 succeeds and changes nothing: weird keeps running, and
#                 the tests delete their datapath themselves.
#   vport_*       the tunnel vport modules, which extend the openvswitch
#                 module: weir has no compat tunnel vports, so they are
#                 reported missing, as modprobe reports a module that does
#                 not exist (silently with -q), exit status 1.
#   anything else (nf_conntrack_*, nf_nat_*, nfnetlink_cttimeout ...) is
#                 the host kernel's business: the real modprobe decides.
#
# Every call is logged to @LOG@.
control=@CONTROL@
pidfile=@PIDFILE@
real=@REAL@
echo "$(date +%H:%M:%S) modprobe $*" >> @LOG@

quiet=false
remove=false
flags=
mods=
for arg in "$@"; do
    case $arg in
        --quiet) quiet=true; flags="$flags $arg" ;;
        --remove) remove=true; flags="$flags $arg" ;;
        --*) flags="$flags $arg" ;;
        -*)
            case $arg in *q*) quiet=true ;; esac
            case $arg in *r*) remove=true ;; esac
            flags="$flags $arg" ;;
        *) mods="$mods $arg" ;;
    esac
done

rc=0
for mod in $mods; do
    case $mod in
        openvswitch)
            if $remove; then
                continue
            fi
            pid=$(cat "$pidfile" 2>/dev/null)
            if [ -S "$control" ] && [ -n "$pid" ] \
                    && kill -0 "$pid" 2>/dev/null; then
                continue
            fi
            $quiet || echo "modprobe: FATAL: weird is not running" \
                "(no live pid in $pidfile or no socket $control)" >&2
            rc=1 ;;
        vport_*)
            if $remove; then
                $quiet || echo "modprobe: FATAL: Module $mod not found." >&2
            else
                $quiet || echo "modprobe: FATAL: Module $mod not found in" \
                    "directory /lib/modules/$(uname -r)" >&2
            fi
            rc=1 ;;
        *)
            if [ -x "$real" ]; then
                "$real" $flags "$mod" || rc=$?
            else
                $quiet || echo "modprobe: FATAL: Module $mod not found." >&2
                rc=1
            fi ;;
    esac
done
exit $rc
"""


def write_modprobe(bindir, weird):
    """Writes the modprobe stand-in (see the text of MODPROBE)."""
    real = next((p for p in REAL_MODPROBE if os.access(p, os.X_OK)), "")
    text = (MODPROBE.replace("@CONTROL@", shq(weird.control))
            .replace("@PIDFILE@", shq(weird.pidfile))
            .replace("@REAL@", shq(real))
            .replace("@LOG@", shq(os.path.join(os.path.dirname(bindir),
                                               "modprobe.log"))))
    path = os.path.join(bindir, "modprobe")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


# ---- weird. ----

class Weird:
    """The weird this script runs: private control socket, pidfile, log
    and state file in the work directory, TAP local ports.  Its standard
    error goes to a file (a pipe nobody reads would stall it)."""

    def __init__(self, binary, workdir, extra=()):
        self.bin = binary
        self.extra = list(extra)
        self.dir = os.path.join(workdir, "weird")
        os.makedirs(self.dir, exist_ok=True)
        self.control = os.path.join(self.dir, "weird.sock")
        self.pidfile = os.path.join(self.dir, "weird.pid")
        self.logfile = os.path.join(self.dir, "weird.log")
        self.statefile = os.path.join(self.dir, "weird.state")
        self.errfile = os.path.join(self.dir, "weird.stderr")
        self.proc = None
        self.starts = 0

    def start(self, timeout=10.0):
        """Starts weird with no datapaths (the state file of an earlier
        instance is removed: a test starts from an empty datapath set, as
        after loading the module) and waits until its socket accepts."""
        for path in (self.statefile, self.pidfile):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        args = [self.bin, "--control=" + self.control,
                "--pidfile=" + self.pidfile, "--log-file=" + self.logfile,
                "--state=" + self.statefile, "--local-type=tap"] \
            + self.extra
        with open(self.errfile, "ab") as err:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("weird exited with %d (see %s)"
                                   % (self.proc.returncode, self.errfile))
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                s.connect(self.control)
                s.close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("weird did not listen within %.0f s" % timeout)

    def alive(self):
        """True while the weird this object started is running."""
        return self.proc is not None and self.proc.poll() is None

    def status(self):
        """How weird ended: 'exit N' or 'signal NAME'."""
        rc = self.proc.returncode if self.proc else None
        if rc is None:
            return "running"
        if rc < 0:
            return "killed by " + signal.Signals(-rc).name
        return "exited with status %d" % rc

    def stop(self, timeout=10.0):
        """Stops weird (SIGTERM, SIGKILL after 'timeout')."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log_tail(self, offset):
        """The log lines written since byte 'offset'."""
        try:
            with open(self.logfile, "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def log_size(self):
        """The log's current size: where a test's log lines start."""
        try:
            return os.path.getsize(self.logfile)
        except FileNotFoundError:
            return 0


# ---- Which tests. ----

class TestInfo:
    """One test group of the suite, as `--list` prints it."""

    def __init__(self, number, file, line, name):
        self.number = number
        self.file = file
        self.line = line
        self.name = name

    @property
    def location(self):
        """"file:line" of the test's AT_SETUP."""
        return "%s:%d" % (self.file, self.line)


def list_tests(suite):
    """Returns every test of the suite, from its own `--list`."""
    out = subprocess.run([suite, "--list"], capture_output=True, text=True,
                         check=True).stdout
    tests = []
    for line in out.splitlines():
        m = re.match(r"^\s*(\d+): (\S+):(\d+) (.*)$", line)
        if m:
            tests.append(TestInfo(int(m.group(1)), m.group(2),
                                  int(m.group(3)), m.group(4).strip()))
    if not tests:
        fail_setup("%s --list printed no tests" % suite)
    return tests


def read_list(path):
    """The entries of a test list file: one test number or name per line;
    '#' starts a comment."""
    entries = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                entries.append(line)
    return entries


def resolve(entries, tests, what):
    """Maps test numbers, ranges (N-M) and names to test numbers, in
    suite order.  An unknown entry stops the run."""
    by_name = {t.name: t.number for t in tests}
    numbers = {t.number for t in tests}
    chosen = set()
    for entry in entries:
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", entry)
        if m:
            lo = int(m.group(1))
            hi = int(m.group(2) or lo)
            picked = [n for n in range(lo, hi + 1) if n in numbers]
            if not picked:
                fail_setup("%s: no test %s" % (what, entry))
            chosen.update(picked)
        elif entry in by_name:
            chosen.add(by_name[entry])
        else:
            fail_setup("%s: no test named %r" % (what, entry))
    return sorted(chosen)


# ---- Reading a test's log. ----

def source_line(tree, file, line):
    """The text of line 'line' of tests/'file' in the tree, stripped."""
    try:
        with open(os.path.join(tree, "tests", file),
                  errors="replace") as f:
            for i, text in enumerate(f, 1):
                if i == line:
                    return text.strip()
    except FileNotFoundError:
        pass
    return ""


def test_source(tree, test):
    """The .at text of 'test', from its AT_SETUP to its AT_CLEANUP."""
    out = []
    try:
        with open(os.path.join(tree, "tests", test.file),
                  errors="replace") as f:
            for i, text in enumerate(f, 1):
                if i >= test.line:
                    out.append(text)
                    if text.startswith("AT_CLEANUP"):
                        break
    except FileNotFoundError:
        pass
    return "".join(out)


def uses(tree, test):
    """The features of USES that the test's source mentions."""
    src = test_source(tree, test)
    found = []
    for name, rx in USES:
        m = rx.search(src)
        if not m:
            continue
        if name == "tunnel":
            kinds = set()
            for mm in rx.finditer(src):
                kind = next((g for g in mm.groups() if g), "")
                kinds.add(kind.lower())
            name = "tunnel (%s)" % ", ".join(sorted(k for k in kinds if k))
        found.append(name)
    if test.file == "system-ipsec.at" and "IPsec" not in found:
        found.append("IPsec")
    return found


def evidence(log_lines, file, line):
    """What the failed check at 'file':'line' printed: the log lines
    after the check's command (its last echo in the log), up to the
    group's status line.  Returns (command, lines)."""
    tag = "%s:%d: " % (file, line)
    verdict = re.compile(r"^(exit code was|wait (failed|succeeded)|"
                         r"waiting |skipping)")
    start = None
    for i, text in enumerate(log_lines):
        m = re.search(r"(^|/)" + re.escape(tag), text)
        if m and not verdict.match(text[m.end():]):
            start = i
    if start is None:
        return "", []
    command = log_lines[start].split(tag, 1)[1]
    out = []
    rest = log_lines[start + 1:]
    for i, text in enumerate(rest):
        if re.match(r"^\d+\. \S+:\d+: \d+\. ", text):
            break
        # After a failure the suite appends the test's log files, each as
        # a "NAME:" line and its lines prefixed with "> ": those are not
        # what the check printed.
        if (re.match(r"^[\w.-]+:$", text) and i + 1 < len(rest)
                and rest[i + 1].startswith("> ")) or text.startswith("> "):
            break
        out.append(text)
    return command, out


def wait_failure(log_lines):
    """For a failed OVS_WAIT_UNTIL/OVS_WAIT_WHILE (whose status names
    ovs-macros.at, where the wait is implemented): (location of the wait
    in the test, what it waited for), from its "waiting" and "wait
    failed" log lines, or None."""
    for i in range(len(log_lines) - 1, -1, -1):
        m = re.search(r"(\S+\.at:\d+): wait failed after (\d+) seconds",
                      log_lines[i])
        if m:
            loc = m.group(1).rsplit("/", 1)[-1]
            what = ""
            for text in log_lines[:i]:
                mm = re.search(re.escape(m.group(1)) + r": waiting (.*)",
                               text)
                if mm:
                    what = mm.group(1)
            return loc, what, "wait failed after %s s" % m.group(2)
    return None


def summarize_evidence(lines):
    """One line out of a failed check's output: the exit status mismatch,
    the first differing lines of a diff, or a wait that timed out."""
    parts = []
    for text in lines:
        m = re.search(r"exit code was (\d+), expected (\d+)", text)
        if m:
            parts.append("exit status %s, expected %s"
                         % (m.group(1), m.group(2)))
        if re.search(r"wait failed after \d+ seconds", text):
            parts.append(text.split(": ", 1)[-1])
    minus = [t[1:].strip() for t in lines
             if t.startswith("-") and not t.startswith("---")]
    plus = [t[1:].strip() for t in lines
            if t.startswith("+") and not t.startswith("+++")]
    if minus:
        parts.append("expected: " + " / ".join(minus[:2])
                     + (" ..." if len(minus) > 2 else ""))
    if plus:
        parts.append("got: " + " / ".join(plus[:2])
                     + (" ..." if len(plus) > 2 else ""))
    if not parts:
        # A failed check with no diff or exit status mismatch: the last
        # non-empty line (e.g. a message printed by the suite).
        rest = [t for t in lines if t.strip()]
        if rest:
            parts.append(rest[-1].strip())
    return "; ".join(parts)


# The lines the suite's check_logs ignores (tests/ovs-macros.at).
LOG_IGNORED = re.compile(r"reset by peer|Broken pipe|is not connected|"
                         r"timeval.*(Unreasonably long|faults:|disk:|"
                         r"context switches:)|ovs_rcu.*blocked|"
                         r"Dropped [0-9]* log messages|"
                         r"setting extended ack support failed")


def daemon_warnings(path, limit=20):
    """The WARN/ERR/EMER lines of an Open vSwitch daemon's log that the
    suite's log check would count, without their timestamp and sequence
    number."""
    out = []
    try:
        with open(path, errors="replace") as f:
            for text in f:
                if not re.search(r"\|(WARN|ERR|EMER)\|", text):
                    continue
                if LOG_IGNORED.search(text):
                    continue
                # A device that vanishes under ovs-vswitchd: the suite's
                # cleanup deleting veths after a failed check (the suite's
                # own log check runs before that cleanup, never sees it).
                if re.search(r"(ethtool command|ioctl\().* failed: No such "
                             r"device", text):
                    continue
                parts = text.rstrip("\n").split("|", 2)
                out.append(parts[2] if len(parts) == 3 else text.strip())
                if len(out) >= limit:
                    break
    except FileNotFoundError:
        pass
    return out


def clip(text, width):
    """'text' cut to 'width' characters, "..." marking a cut."""
    return text if len(text) <= width else text[:width - 3] + "..."


# ---- Running one test. ----

STATUS_RE = re.compile(r"^\s*(\d+): .*?\s(ok|FAILED \((\S+)\)|"
                       r"skipped \((\S+)\)|expected failure \((\S+)\)|"
                       r"UNEXPECTED PASS)\s*$")


class Runner:
    """Runs tests one suite invocation at a time against one weird."""

    def __init__(self, args, tree, rundir, bindir, weird, env):
        self.args = args
        self.tree = tree
        self.rundir = rundir
        self.bindir = bindir
        self.weird = weird
        self.env = env
        self.suite = os.path.join(tree, "tests", SUITE)
        self.logdir = os.path.join(args.workdir, "logs")
        os.makedirs(self.logdir, exist_ok=True)
        self.width = 3

    def group_dir(self, number):
        """The directory the suite gives test 'number' (kept by -d)."""
        return os.path.join(self.rundir, SUITE_DIR,
                            "%0*d" % (self.width, number))

    def run(self, test):
        """Runs one test; returns its result record (a dict)."""
        rec = {"number": test.number, "name": test.name,
               "location": test.location, "result": None, "reason": None,
               "check": None, "command": None, "evidence": [],
               "uses": uses(self.tree, test), "notes": [], "seconds": 0.0,
               "log": None}
        if not self.weird.alive():
            self.weird.start()
            rec["notes"].append("weird restarted before this test")
        # The local port of the datapath the test will make is a TAP
        # device named ovs-system: a device of that name that is not
        # weird's (weird has no datapath now) makes the test's datapath
        # creation fail with EEXIST, as the kernel module's would.
        for dev in ("ovs-system", "br0"):
            if os.path.exists(os.path.join("/sys/class/net", dev)):
                rec["notes"].append("a network device %s existed before "
                                    "the test (not weird's)" % dev)
        log_offset = self.weird.log_size()
        out_path = os.path.join(self.logdir, "%03d.out" % test.number)
        cmd = [self.suite, "-C", self.rundir, "-d",
               "AUTOTEST_PATH=" + ":".join([self.bindir, "/usr/bin",
                                            "/usr/sbin"]),
               str(test.number)]
        t0 = time.monotonic()
        timed_out = False
        with open(out_path, "wb") as out:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    env=self.env, cwd=self.rundir,
                                    start_new_session=True)
            try:
                proc.wait(self.args.timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                self.kill_group(proc)
            except KeyboardInterrupt:
                # The suite runs in a session of its own, out of reach of
                # the terminal's ^C: end it and its cleanup here.
                self.kill_group(proc)
                self.run_cleanup(self.group_dir(test.number))
                raise
        rec["seconds"] = round(time.monotonic() - t0, 1)
        gdir = self.group_dir(test.number)
        rec["log"] = os.path.relpath(
            os.path.join(gdir, SUITE + ".log"), self.args.workdir)
        with open(out_path, errors="replace") as f:
            output = f.read()
        self.classify(test, rec, output, gdir, timed_out)
        self.after(test, rec, gdir, timed_out, log_offset)
        return rec

    def kill_group(self, proc):
        """Ends a suite invocation that ran past the timeout: SIGTERM to
        its process group (the suite runs its cleanup on it), SIGKILL
        after 15 s."""
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()

    def classify(self, test, rec, output, gdir, timed_out):
        """Fills result, reason, check and evidence from the suite's
        status line and the group's log."""
        status = None
        for line in output.splitlines():
            m = STATUS_RE.match(line)
            if m and int(m.group(1)) == test.number:
                status = m
        try:
            with open(os.path.join(gdir, SUITE + ".log"),
                      errors="replace") as f:
                log_lines = f.read().splitlines()
        except FileNotFoundError:
            log_lines = []
        if timed_out or status is None:
            rec["result"] = "fail"
            where = ""
            try:
                with open(os.path.join(self.rundir, SUITE_DIR, "at-groups",
                                       str(test.number),
                                       "check-line")) as f:
                    where = f.read().strip().rsplit("/", 1)[-1]
            except FileNotFoundError:
                pass
            rec["check"] = where or None
            rec["reason"] = ("timed out after %d s" % self.args.timeout
                             if timed_out else "no result line from the "
                             "suite") + (" (at %s)" % where if where else "")
            return
        word = status.group(2)
        if word == "ok":
            rec["result"] = "pass"
            return
        loc = status.group(3) or status.group(4) or status.group(5) or ""
        rec["check"] = loc
        file, _, line = loc.rpartition(":")
        src = source_line(self.tree, file, int(line)) if line.isdigit() \
            else ""
        if word.startswith("skipped"):
            rec["result"] = "skip"
            rec["reason"] = "skipped: %s `%s`" % (loc, src)
            return
        rec["result"] = "fail"
        waited = wait_failure(log_lines) if file == "ovs-macros.at" \
            else None
        if waited:
            wloc, what, how = waited
            wfile, _, wline = wloc.rpartition(":")
            rec["check"] = wloc
            rec["command"] = what
            rec["reason"] = "%s `%s`: %s (%s)" % (
                wloc, clip(source_line(self.tree, wfile, int(wline)), 90),
                how, clip(what, 120))
            return
        command, ev = evidence(log_lines, file, int(line)) \
            if line.isdigit() else ("", [])
        rec["command"] = command
        rec["evidence"] = ev[:80]
        rec["reason"] = "%s `%s`: %s" % (loc, clip(src, 90),
                                         summarize_evidence(ev)
                                         or "failed")

    def after(self, test, rec, gdir, timed_out, log_offset):
        """Checks the state a test left: weird alive (else the test
        fails and weird is restarted), no daemon of the test still
        running, no datapath left in weird."""
        new_log = self.weird.log_tail(log_offset)
        rec["weird_log"] = [l for l in new_log
                            if "|WARN|" in l or "|ERR|" in l
                            or " WARN " in l or " ERR " in l][:40]
        rec["vswitchd_log"] = daemon_warnings(
            os.path.join(gdir, "ovs-vswitchd.log"))
        if rec["result"] == "fail" and rec["vswitchd_log"]:
            first = rec["vswitchd_log"][0]
            if first not in (rec["reason"] or ""):
                rec["reason"] = "%s; ovs-vswitchd.log: %s" % (
                    rec["reason"], clip(first, 160))
        if not self.weird.alive():
            how = self.weird.status()
            rec["result"] = "fail"
            note = "weird died during this test (%s); see %s" % (
                how, os.path.relpath(self.weird.logfile, self.args.workdir))
            rec["reason"] = note + ("; then: " + rec["reason"]
                                    if rec["reason"] else "")
            rec["notes"].append(note)
            rec["weird_log"] = new_log[-40:]
            self.weird.proc = None
            self.weird.start()
            return
        # Daemons the test started that its cleanup did not stop (after a
        # timeout, or a cleanup that failed).
        for name in ("ovs-vswitchd", "ovsdb-server"):
            pid = read_pid(os.path.join(gdir, name + ".pid"))
            if pid and process_alive(pid):
                rec["notes"].append("%s (pid %d) still running after the "
                                    "test: stopped" % (name, pid))
                stop_pid(pid)
        if timed_out:
            self.run_cleanup(gdir)
        left = self.datapaths()
        for dp in left:
            rec["notes"].append("datapath %s left in weird: deleted" % dp)
            subprocess.run(["ovs-dpctl", "del-dp", dp], env=self.env,
                           capture_output=True, check=False, timeout=30)

    def run_cleanup(self, gdir):
        """Runs the on_exit commands a killed test left in its 'cleanup'
        file (namespaces, veths, tcpdump ...)."""
        path = os.path.join(gdir, "cleanup")
        if os.path.exists(path):
            subprocess.run(["sh", "-c", ". ./cleanup"], cwd=gdir,
                           env=self.env, capture_output=True, check=False,
                           timeout=60)

    def datapaths(self):
        """The datapaths weird has, by Debian's ovs-dpctl (through the
        shim)."""
        r = subprocess.run(["ovs-dpctl", "dump-dps"], env=self.env,
                           capture_output=True, text=True, check=False,
                           timeout=30)
        return [l.strip().split("@", 1)[-1] for l in r.stdout.splitlines()
                if l.strip()]


def read_pid(path):
    """The process id in pidfile 'path', or None."""
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (FileNotFoundError, ValueError):
        return None


def process_alive(pid):
    """True if process 'pid' exists."""
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def stop_pid(pid, timeout=5.0):
    """Stops a daemon a test started (SIGTERM, then SIGKILL)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# ---- Output. ----

def md_cell(text):
    """Text fit for one Markdown table cell."""
    return (text or "").replace("\\", "\\\\").replace("|", "\\|") \
        .replace("\n", " ")


def write_table(path, meta, records):
    """The Markdown table: counts, then one row per test."""
    c = meta["counts"]
    lines = [
        "# Open vSwitch 3.1 kernel system tests against weird",
        "",
        "Written by `scripts/ovs-kmod-tests.py` on %s: %s." % (
            meta["started"], meta["suite"]),
        "weird: `%s`; shim: `%s`." % (meta["weird"], meta["shim"]),
        "",
        "**%d tests: %d passed, %d failed, %d skipped** (%d s)." % (
            len(records), c["pass"], c["fail"], c["skip"],
            meta["seconds"]),
        "",
        "| # | test | file:line | result | reason |",
        "|---:|---|---|---|---|",
    ]
    for r in records:
        reason = r["reason"] or ""
        if r["result"] != "pass" and r["uses"]:
            reason = "uses %s. %s" % (", ".join(r["uses"]), reason)
        if r["notes"] and r["result"] == "pass":
            reason = "; ".join(r["notes"])
        lines.append("| %d | %s | %s | %s | %s |" % (
            r["number"], md_cell(r["name"]), r["location"], r["result"],
            md_cell(reason)))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def parse_args(argv):
    """The command line, with paths made absolute and defaults derived
    from the work directory."""
    p = argparse.ArgumentParser(
        description="Run Open vSwitch 3.1's kernel system tests "
        "(system-kmod-testsuite) against weird through the LD_PRELOAD "
        "shim.")
    p.add_argument("--workdir", default=os.path.join(ROOT, "build-ovs-kmod"),
                   help="work directory (default build-ovs-kmod/)")
    p.add_argument("--build", default=os.path.join(ROOT, "build"),
                   help="weir build directory with src/daemon/weird and "
                   "src/compat/libweir-ovscompat.so (default build/)")
    p.add_argument("--tarball", default=TARBALL,
                   help="openvswitch-source tarball (default %(default)s)")
    p.add_argument("--tests", action="append", default=[],
                   help="tests to run: numbers, ranges and names, "
                   "comma-separated (e.g. 1-10,12; a name with a comma "
                   "goes in a --list file); default all")
    p.add_argument("--list", action="append", default=[],
                   help="file of tests to run, one number or name per line")
    p.add_argument("--jobs", type=int, default=1,
                   help="must be 1: the tests use fixed namespace and "
                   "device names (at_ns0, ovs-p0 ...)")
    p.add_argument("--weird-arg", action="append", default=[],
                   metavar="ARG", help="an extra argument for weird "
                   "(repeatable), e.g. --weird-arg=--system-type=afxdp")
    p.add_argument("--timeout", type=int, default=400,
                   help="seconds one test may take (default 400: a "
                   "failing OVS_WAIT_UNTIL of pings takes ~340 s)")
    p.add_argument("--table", help="Markdown table (default "
                   "<workdir>/results.md)")
    p.add_argument("--json", help="machine-readable results (default: the "
                   "table's name with .json)")
    p.add_argument("--expect-pass", metavar="FILE",
                   help="tests that must pass; exit 1 listing any that "
                   "did not")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no per-test progress lines")
    args = p.parse_args(argv)
    if args.jobs != 1:
        p.error("--jobs must be 1: every test makes namespaces and devices "
                "with the same fixed names, so two cannot run at once")
    args.workdir = os.path.abspath(args.workdir)
    args.build = os.path.abspath(args.build)
    args.table = os.path.abspath(args.table or os.path.join(args.workdir,
                                                            "results.md"))
    if not args.json:
        args.json = os.path.splitext(args.table)[0] + ".json"
    args.json = os.path.abspath(args.json)
    return args


def main(argv):
    """Sets up, runs the selected tests, writes the results; returns the
    exit status."""
    args = parse_args(argv)
    if os.geteuid() != 0:
        fail_setup("must run as root (the tests make namespaces, veths "
                   "and run ovs-vswitchd)")
    weird_bin = os.path.join(args.build, "src", "daemon", "weird")
    shim = weirdlib.ovscompat_lib(args.build)
    for path in (weird_bin, shim):
        if not os.access(path, os.R_OK):
            fail_setup("%s is missing (build %s first)" % (path, args.build))
    if not os.path.exists(args.tarball):
        fail_setup("%s is missing (package openvswitch-source)"
                   % args.tarball)

    os.makedirs(args.workdir, exist_ok=True)
    tree = extract(args.tarball, args.workdir)
    suite = os.path.join(tree, "tests", SUITE)
    tests = list_tests(suite)
    by_number = {t.number: t for t in tests}
    entries = [e.strip() for spec in args.tests for e in spec.split(",")
               if e.strip()]
    for path in args.list:
        entries += read_list(path)
    selected = resolve(entries, tests, "--tests/--list") if entries \
        else [t.number for t in tests]
    expect = resolve(read_list(args.expect_pass), tests, args.expect_pass) \
        if args.expect_pass else []

    rundir = os.path.join(args.workdir, "run")
    bindir = os.path.join(args.workdir, "bin")
    shutil.rmtree(os.path.join(rundir, SUITE_DIR), ignore_errors=True)
    shutil.rmtree(os.path.join(args.workdir, "logs"), ignore_errors=True)
    os.makedirs(rundir, exist_ok=True)
    os.makedirs(bindir, exist_ok=True)
    write_atconfig(rundir, tree)
    write_atlocal(rundir, probe_atlocal(tree))
    weird = Weird(weird_bin, args.workdir, args.weird_arg)
    write_modprobe(bindir, weird)
    with open(os.path.join(args.workdir, "modprobe.log"), "w"):
        pass
    env = weirdlib.ovscompat_env(weird.control, args.build)
    env["PATH"] = ":".join([bindir, "/usr/sbin", "/usr/bin", "/sbin",
                            "/bin"])

    started = datetime.datetime.now().isoformat(timespec="seconds")
    t0 = time.monotonic()
    records = []
    try:
        weird.start()
        runner = Runner(args, tree, rundir, bindir, weird, env)
        runner.width = len(str(tests[-1].number))
        for i, number in enumerate(selected, 1):
            test = by_number[number]
            rec = runner.run(test)
            records.append(rec)
            if not args.quiet:
                print("%3d/%d  %3d %-60s %s (%.0f s)%s" % (
                    i, len(selected), number, clip(test.name, 60),
                    rec["result"], rec["seconds"],
                    "" if rec["result"] == "pass"
                    else "\n          " + clip(rec["reason"] or "", 200)),
                    flush=True)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    finally:
        weird.stop()

    counts = {k: sum(1 for r in records if r["result"] == k)
              for k in ("pass", "fail", "skip")}
    done = {r["number"]: r for r in records}
    regressions = [n for n in expect
                   if n in done and done[n]["result"] != "pass"]
    not_run = [n for n in expect if n not in done]
    for r in records:
        r["expected"] = "pass" if r["number"] in expect else None
    meta = {
        "suite": "openvswitch 3.1 tests/%s from %s" % (SUITE, args.tarball),
        "weird": " ".join([weird_bin] + args.weird_arg), "shim": shim,
        "started": started,
        "seconds": int(time.monotonic() - t0), "counts": counts,
        "selected": len(selected), "weird_starts": weird.starts,
        "expect_pass": args.expect_pass, "regressions": regressions,
        "not_run": not_run,
    }
    os.makedirs(os.path.dirname(args.table), exist_ok=True)
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    write_table(args.table, meta, records)
    with open(args.json, "w") as f:
        json.dump({"meta": meta, "tests": records}, f, indent=1)
        f.write("\n")

    print("ovs-kmod: %d tests: %d passed, %d failed, %d skipped (%d s); "
          "table %s" % (len(records), counts["pass"], counts["fail"],
                        counts["skip"], meta["seconds"], args.table))
    if len(records) < len(selected):
        print("ovs-kmod: run stopped after %d of %d tests"
              % (len(records), len(selected)))
        return 1
    if not_run:
        print("ovs-kmod: %d tests of %s were not selected, not checked"
              % (len(not_run), args.expect_pass))
    if regressions:
        print("ovs-kmod: REGRESSIONS: %d tests of %s did not pass:"
              % (len(regressions), args.expect_pass))
        for n in regressions:
            r = done[n]
            print("  %d %s: %s %s" % (n, r["name"], r["result"],
                                      r["reason"] or ""))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
