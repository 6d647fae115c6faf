# SPDX-License-Identifier: Apache-2.0
"""Unmodified Open vSwitch 3.1 (Debian's binaries) on weir's datapath,
through the LD_PRELOAD shim libweir-ovscompat.so (issue 6, acceptance 1
and 2).

ovs-vswitchd: weird (TAP local ports) with ovsdb-server and ovs-vswitchd
in a network namespace of this run; a bridge br0 of datapath type
"system" made with ovs-vsctl, two veth ports into two host namespaces.
Ping both ways and an 8 MiB TCP transfer (SHA-256 checked) go across it
first with the NORMAL action (a standalone bridge's default flow), then
with `ovs-ofctl add-flow` rules in a secure bridge.  ovs-vswitchd's view of
the datapath flows (`ovs-appctl dpctl/dump-flows`) must be what `weir dp
dump-flows` says; the datapath's ports are what `ovs-dpctl show` and
`weir dp show` list, and ovs-system and br0 are TAP devices; del-port
removes the port from the datapath; a restarted ovs-vswitchd takes the
same datapath back.  ovs-vswitchd's log has no WARN/ERR line that weir
caused (ovslib.VSWITCHD_ALLOWED says what is excused and why), weird's log
no ERR line.

ovs-dpctl: every command of the issue's list against a fresh weird,
through the shim: exact output where it is stable, compared with `weir dp`
where both print the same thing, and ovs-dpctl's own messages and a
non-zero exit status for the error cases.  The expected texts come from
Open vSwitch 3.1's lib/dpctl.c and the kernel module's errnos.
"""

import hashlib
import os
import re
import subprocess
import sys
import time

import pytest

import systest
from netlab import TCP_CLIENT, TCP_SERVER
from ovslib import (Netns, NetnsWeird, OvsSandbox, require_odpflow,
                    require_ovs, require_root, require_shim, require_tools,
                    run, wait_for)

SUMMARY = {"flows_compared": 0, "allowed": {}, "transfers": 0}


def _summary_lines():
    """Extra lines for the closing summary (systest.summary())."""
    lines = ["%d datapath flows compared (ovs-appctl dpctl/dump-flows vs "
             "weir dp dump-flows)" % SUMMARY["flows_compared"],
             "%d TCP transfers checked by SHA-256" % SUMMARY["transfers"]]
    for why, n in sorted(SUMMARY["allowed"].items()):
        lines.append("ovs-vswitchd.log: %d WARN lines allowed (%s)"
                     % (n, why))
    return lines


systest.summary(__file__, "unmodified Open vSwitch 3.1 through the shim",
                _summary_lines)

A_IP, B_IP = "10.93.0.1", "10.93.0.2"
TRANSFER = 8 * 1024 * 1024

SERVER, CLIENT = TCP_SERVER, TCP_CLIENT


# dpif_flow_stats_format()'s part of a dump line, and "dp:ovs" (-m), which
# the flow comparison leaves out.
STATS_RE = re.compile(r"packets:\d+, bytes:\d+, used:(?:never|[\d.]+s)"
                      r"(?:, flags:[^,]*)?(?:, dp:\w+)?, ")


def weir_cli():
    """`weir` of the build under test: $WEIR_BIN, else
    $WEIR_BUILD/src/tools/weir."""
    path = os.environ.get("WEIR_BIN") or os.path.join(
        os.environ.get("WEIR_BUILD", "build"), "src", "tools", "weir")
    path = path if os.path.isabs(path) else os.path.join(systest.ROOT, path)
    if not os.access(path, os.X_OK):
        pytest.skip(systest.MISSING_PEER + "no weir binary at %s" % path)
    return path


def weir_dp(netns, weird, *args, check=0):
    """`weir dp --control=... ARGS` in the switch namespace; returns the
    CompletedProcess, its exit status asserted unless check=None."""
    r = run(netns.argv(weir_cli(), "dp", "--control=" + weird.control,
                       *args), check=False)
    if check is not None:
        assert r.returncode == check, (args, r.stdout, r.stderr)
    return r


def ping(netns, host, addr, count=5):
    """Pings 'addr' from 'host'; asserts every echo was answered."""
    r = netns.hsh(host, "ping", "-c", str(count), "-i", "0.2", "-W", "2",
                  addr, check=False)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    assert m and m.group(1) == m.group(2) == str(count), \
        "ping %s from %s: %s%s" % (addr, host, r.stdout, r.stderr)


def tcp_transfer(netns, client_host, server_host, server_ip):
    """TRANSFER bytes from 'client_host' to 'server_ip' on
    'server_host', checked by length and SHA-256 at the receiver."""
    server = subprocess.Popen(
        ["ip", "netns", "exec", server_host, sys.executable, "-c", SERVER,
         server_ip], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True)
    try:
        assert server.stdout.readline().strip() == "listening"
        pattern = os.urandom(16).hex() * 2
        client = netns.hsh(client_host, sys.executable, "-c", CLIENT,
                           server_ip, str(TRANSFER), pattern, check=False,
                           timeout=60)
        assert client.returncode == 0, client.stderr
        out = server.stdout.readline().split()
        server.wait(timeout=30)
        data = bytes.fromhex(pattern) * (TRANSFER // 32)
        assert out == [str(TRANSFER), hashlib.sha256(data).hexdigest()], \
            (out, server.stderr.read())
        SUMMARY["transfers"] += 1
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stdout.close()
        server.stderr.close()


def show_ports(text):
    """{port number: "name" or "name (type...)"} of ovs-dpctl-style show
    output ("  port N: NAME[ (TYPE...)]")."""
    ports = {}
    for line in text.splitlines():
        m = re.fullmatch(r"  port (\d+): (.*)", line)
        if m:
            ports[int(m.group(1))] = m.group(2)
    return ports


def port_numbers(text):
    """{name: number} from show output."""
    return {v.split(" ")[0]: k for k, v in show_ports(text).items()}


# ---- ovs-vswitchd on weird. ----

class Switch:
    """What the module fixture built: the namespace, weird, the OVS
    sandbox, the two switch-side veth names and the two host
    namespaces."""

    def __init__(self, netns, weird, ovs, ports, hosts):
        self.netns = netns
        self.weird = weird
        self.ovs = ovs
        self.ports = ports
        self.hosts = hosts

    def weir(self, *args, check=0):
        """`weir dp ARGS` against this weird; the CompletedProcess."""
        return weir_dp(self.netns, self.weird, *args, check=check)

    def ofport(self, dev):
        """The OpenFlow port number OVS gave interface 'dev'."""
        return int(self.ovs.vsctl("get", "Interface", dev, "ofport"))

    def odp_ports(self):
        """{name: datapath port number} from `weir dp show`."""
        return port_numbers(self.weir("show").stdout)


@pytest.fixture(scope="module")
def switch():
    """weird, ovsdb-server and ovs-vswitchd in a namespace of their own;
    br0 with the two hosts' veths.  Everything is stopped and removed at
    the end of the module, by PID and name; weird must exit with 0."""
    require_root()
    require_tools()
    require_ovs()
    require_shim()
    weir_cli()
    netns = weird = ovs = None
    try:
        netns = Netns("sys")
        weird = NetnsWeird(netns, local_type="tap", state=True)
        ovs = OvsSandbox(netns, weird.control)
        ovs.start_db()
        # Megaflows stay while the test compares dumps (the default idle
        # time, 10 s, is about the length of the test).
        ovs.vsctl("--no-wait", "set", "Open_vSwitch", ".",
                  "other_config:max-idle=60000")
        ovs.start_vswitchd()
        ports = [netns.dev("sa"), netns.dev("sb")]
        hosts = [netns.host("a", ports[0], A_IP + "/24"),
                 netns.host("b", ports[1], B_IP + "/24")]
        ovs.vsctl("add-br", "br0")
        ovs.vsctl("add-port", "br0", ports[0], "--",
                  "add-port", "br0", ports[1])
        yield Switch(netns, weird, ovs, ports, hosts)
    finally:
        errors = []
        if ovs:
            SUMMARY["allowed"] = ovs.allowed_hits()
            ovs.close()
        if weird:
            rc = weird.stop()
            if rc != 0:
                errors.append("weird exited with %s; log:\n%s"
                              % (rc, weird.log()[-4000:]))
        if netns:
            netns.close()
        assert not errors, errors


def test_bridge_ports_and_devices(switch):
    """br0 of type system is a datapath "ovs-system" in weird with the
    local port, br0 (internal) and the two veths; the local port and br0
    are TAP devices; ovs-dpctl (through the shim) and weir dp show the
    same ports; OVS reports no interface error."""
    sw = switch
    assert sw.ovs.vsctl("get", "Bridge", "br0",
                        "datapath_type").strip() in ('""', "system")
    assert sw.weir("dump-dps").stdout == "system@ovs-system\n"
    weir_show = sw.weir("show").stdout
    ports = show_ports(weir_show)
    assert ports[0] == "ovs-system (internal)", weir_show
    assert sorted(ports.values()) == sorted(
        ["ovs-system (internal)", "br0 (internal)"] + sw.ports), weir_show

    r = sw.ovs.dpctl("show")
    assert r.returncode == 0, r.stderr
    assert show_ports(r.stdout) == ports, (r.stdout, weir_show)
    assert r.stdout.splitlines()[0] == "system@ovs-system:"
    r = sw.ovs.dpctl("dump-dps")
    assert (r.returncode, r.stdout) == (0, "system@ovs-system\n"), r.stderr

    links = sw.netns.links()
    for dev in ("ovs-system", "br0"):
        assert dev in links, links
        assert (links[dev]["kind"], links[dev]["tun_type"]) == \
            ("tun", "tap"), links[dev]
    # ovs-vswitchd leaves br0's administrative state alone (it brings
    # the local port up only for a controller's local_ip), and reads it
    # from the device: both must agree.
    assert sw.ovs.vsctl("get", "Interface", "br0",
                        "admin_state").strip() == \
        ("up" if links["br0"]["up"] else "down"), links["br0"]

    for dev in sw.ports + ["br0"]:
        assert sw.ovs.vsctl("get", "Interface", dev, "error").strip() \
            == "[]", dev
    for dev in sw.ports:
        assert sw.ovs.vsctl("get", "Interface", dev,
                            "link_state").strip() == "up", dev
    assert sw.ofport(sw.ports[0]) > 0 and sw.ofport(sw.ports[1]) > 0


def test_normal_action(switch):
    """A standalone bridge without controller forwards with NORMAL:
    ping both ways, a TCP transfer, and the datapath flows carry the
    traffic."""
    sw = switch
    flows = sw.ovs.ofctl("dump-flows", "br0")
    assert re.search(r"priority=0 actions=NORMAL", flows), flows
    ping(sw.netns, sw.hosts[0], B_IP)
    ping(sw.netns, sw.hosts[1], A_IP)
    tcp_transfer(sw.netns, sw.hosts[0], sw.hosts[1], B_IP)
    flows = sw.ovs.ofctl("dump-flows", "br0")
    m = re.search(r"n_packets=(\d+),.*priority=0 actions=NORMAL", flows)
    assert m and int(m.group(1)) > 0, flows
    dump = sw.weir("dump-flows").stdout
    odp = sw.odp_ports()
    pa, pb = odp[sw.ports[0]], odp[sw.ports[1]]
    # The transfer's direction: a megaflow from A's port that outputs to
    # B's port and has counted at least the transfer's segments.
    big = [l for l in dump.splitlines()
           if "in_port(%d)" % pa in l and l.endswith("actions:%d" % pb)
           and int(re.search(r"packets:(\d+)", l).group(1))
           > TRANSFER // 65536]
    assert big, dump


def test_openflow_rules(switch):
    """A secure bridge with only `ovs-ofctl add-flow` rules (each port to
    the other, IPv4 and ARP): ping both ways and a TCP transfer; every
    rule counted packets; the datapath flows follow the rules."""
    sw = switch
    # The hosts forget each other's MAC: ARP must cross the rules too.
    for host in sw.hosts:
        sw.netns.hsh(host, "ip", "neigh", "flush", "dev", "eth0")
    sw.ovs.vsctl("set-fail-mode", "br0", "secure")
    sw.ovs.ofctl("del-flows", "br0")
    a, b = sw.ofport(sw.ports[0]), sw.ofport(sw.ports[1])
    rules = []
    for src, dst in ((a, b), (b, a)):
        for proto in ("ip", "arp"):
            rules.append("%s,in_port=%d" % (proto, src))
            sw.ovs.ofctl("add-flow", "br0", "%s,in_port=%d,actions=output:%d"
                         % (proto, src, dst))
    flows = sw.ovs.ofctl("dump-flows", "br0")
    assert "NORMAL" not in flows, flows
    ping(sw.netns, sw.hosts[0], B_IP)
    ping(sw.netns, sw.hosts[1], A_IP)
    tcp_transfer(sw.netns, sw.hosts[1], sw.hosts[0], A_IP)

    flows = sw.ovs.ofctl("--no-names", "dump-flows", "br0")
    for rule in rules:
        proto, in_port = rule.split(",")
        m = re.search(r"n_packets=(\d+),.* %s,%s actions=output:\d+"
                      % (proto, in_port), flows)
        assert m and int(m.group(1)) > 0, (rule, flows)

    # What the datapath has now was made by the rules: from each port to
    # the other (or dropped: IPv6 or other traffic the rules do not take).
    odp = sw.odp_ports()
    pa, pb = odp[sw.ports[0]], odp[sw.ports[1]]
    dump = sw.weir("dump-flows").stdout.splitlines()
    assert dump
    for line in dump:
        actions = line.split("actions:")[1]
        if "in_port(%d)" % pa in line:
            assert actions in (str(pb), "drop"), line
        elif "in_port(%d)" % pb in line:
            assert actions in (str(pa), "drop"), line
    for pin, pout in ((pa, pb), (pb, pa)):
        assert [l for l in dump if "in_port(%d)" % pin in l
                and l.endswith("actions:%d" % pout)], dump


def _flow_sets(sw, more):
    """(ovs-vswitchd's flows, weird's flows) as sets of dump lines without
    their statistics."""
    opts = ["-m"] if more else []
    ovs_out = sw.ovs.appctl("dpctl/dump-flows", *opts).stdout
    weir_out = sw.weir("dump-flows", *opts).stdout

    def strip(text):
        """The dump's lines without their statistics."""
        return {STATS_RE.sub("", l) for l in text.splitlines() if l}
    return strip(ovs_out), strip(weir_out), ovs_out, weir_out


def _parsed(lines):
    """The lines parsed with python3-openvswitch's ODPFlow: a set of
    (ufid, match items, action items), statistics left out."""
    odpflow = require_odpflow()
    out = set()
    for line in lines:
        f = odpflow(line)
        # {"ufid": UUID}; no attribute at all for a line without one.
        ufid = getattr(f, "ufid", {}).get("ufid")
        out.add((ufid,
                 tuple((kv.key, str(kv.value)) for kv in f.match_kv),
                 tuple((kv.key, str(kv.value)) for kv in f.actions_kv)))
    return out


def test_dump_flows_agree(switch):
    """`ovs-appctl dpctl/dump-flows` (ovs-vswitchd's dpif through the
    shim) and `weir dp dump-flows` show the same flows, as text without
    statistics and parsed with ovs.flow.odp, with -m (UFIDs, every masked
    field) and without."""
    sw = switch
    require_odpflow()
    ping(sw.netns, sw.hosts[0], B_IP, count=2)
    for more in (True, False):
        # A dump is a moment: revalidation or a late packet may change the
        # table between the two, so a few tries for two equal pictures.
        for _ in range(10):
            ovs_set, weir_set, ovs_out, weir_out = _flow_sets(sw, more)
            if ovs_set == weir_set:
                break
            time.sleep(0.3)
        assert ovs_set, ovs_out
        assert ovs_set == weir_set, (sorted(ovs_set ^ weir_set), ovs_out,
                                     weir_out)
        assert _parsed(ovs_out.splitlines()) == \
            _parsed(weir_out.splitlines())
        if more:
            assert all(l.startswith("ufid:") for l in ovs_set), ovs_set
        SUMMARY["flows_compared"] += len(ovs_set)


def test_del_port(switch):
    """add-port puts a veth in the datapath, del-port takes it out; the
    kernel device stays (it is the system's, not the datapath's)."""
    sw = switch
    dev, peer = sw.netns.dev("sc"), sw.netns.dev("sp")
    sw.netns.veth(dev, peer)
    sw.ovs.vsctl("add-port", "br0", dev)
    assert dev in sw.odp_ports()
    assert sw.ovs.vsctl("get", "Interface", dev, "error").strip() == "[]"
    sw.ovs.vsctl("del-port", "br0", dev)
    assert dev not in sw.odp_ports()
    r = sw.ovs.dpctl("show")
    assert r.returncode == 0 and dev not in r.stdout, (r.stdout, r.stderr)
    assert dev in sw.netns.links()
    sw.netns.sh("ip", "link", "del", dev)


def test_restart_reuses_datapath(switch):
    """`ovs-appctl exit` leaves the datapath and its ports in weird, as
    with the kernel module; a new ovs-vswitchd takes them back (same
    port numbers, same TAP devices), and forwards again."""
    sw = switch
    before = sw.weir("show").stdout
    links = sw.netns.links()
    assert sw.ovs.stop_vswitchd() == "graceful"
    assert show_ports(sw.weir("show").stdout) == show_ports(before)
    sw.ovs.start_vswitchd()
    # ovs-vswitchd reconciles its ports after start; wait for br0's.
    assert wait_for(lambda: sw.ovs.vsctl(
        "get", "Interface", sw.ports[0], "ofport").strip() not in
        ("[]", "-1"), 10)
    assert sw.weir("dump-dps").stdout == "system@ovs-system\n"
    assert show_ports(sw.weir("show").stdout) == show_ports(before)
    after = sw.netns.links()
    for dev in ("ovs-system", "br0"):
        assert after[dev]["ifindex"] == links[dev]["ifindex"], dev
    created = [l for l in sw.weird.log().splitlines()
               if "datapath ovs-system created" in l]
    assert len(created) == 1, created
    # The OpenFlow rules went with the old process; standalone mode gives
    # NORMAL back.
    sw.ovs.vsctl("del-fail-mode", "br0")
    ping(sw.netns, sw.hosts[0], B_IP)
    ping(sw.netns, sw.hosts[1], A_IP)


def test_logs_clean(switch):
    """ovs-vswitchd's log (both runs) has no WARN/ERR/EMER line caused by
    weir; weird's log no ERR."""
    sw = switch
    assert sw.ovs.vswitchd_alive() and sw.weird.alive()
    text = sw.ovs.vswitchd_log_text()
    assert "dpif_netlink" in text     # The log is the one we think it is.
    bad = sw.ovs.log_problems()
    assert not bad, "\n".join(bad)
    assert not sw.weird.log_lines(), "\n".join(sw.weird.log_lines())
    # Nor did the shim trip a sanitizer in ovs-vswitchd or ovs-dpctl.
    assert not sw.ovs.sanitizer_reports(), sw.ovs.sanitizer_reports()


# ---- ovs-dpctl on weird. ----

class Dpctl:
    """A fresh weird in a namespace of its own, and ovs-dpctl / weir dp
    against it."""

    def __init__(self, netns, weird, sandbox):
        self.netns = netns
        self.weird = weird
        self.sandbox = sandbox

    def run(self, *args, rc=0):
        """ovs-dpctl ARGS; asserts exit status 'rc' (None: any non-zero)
        and returns the CompletedProcess."""
        r = self.sandbox.dpctl(*args)
        if rc is None:
            assert r.returncode != 0, (args, r.stdout, r.stderr)
        else:
            assert r.returncode == rc, (args, r.stdout, r.stderr)
        return r

    def ok(self, *args):
        """A command that must succeed with nothing on stderr but
        ovs-dpctl's INFO log lines (add-dp logs the upcall dispatch mode,
        as it does with the kernel module); returns its stdout."""
        r = self.run(*args)
        noise = [l for l in r.stderr.splitlines()
                 if not re.fullmatch(r"[\dTZ:.-]+\|\d+\|\w+\|INFO\|.*", l)]
        assert not noise, (args, r.stderr)
        return r.stdout

    def err(self, *args):
        """A command that must fail: returns its stderr lines (vlog lines
        of ovs-dpctl too)."""
        return self.run(*args, rc=None).stderr.splitlines()

    def weir(self, *args, check=0):
        """`weir dp ARGS` against this weird; its stdout."""
        return weir_dp(self.netns, self.weird, *args, check=check).stdout


@pytest.fixture
def dpctl():
    """A fresh weird in a namespace of its own for ovs-dpctl; at the end
    weird must exit with 0, with no ERR in its log, and no sanitizer
    report from the shim."""
    require_root()
    require_tools()
    require_ovs()
    require_shim()
    weir_cli()
    netns = weird = sandbox = None
    try:
        netns = Netns("sys")
        weird = NetnsWeird(netns, local_type="tap", state=False)
        sandbox = OvsSandbox(netns, weird.control)
        yield Dpctl(netns, weird, sandbox)
    finally:
        reports = sandbox.sanitizer_reports() if sandbox else []
        rc = weird.stop() if weird else 0
        log = weird.log() if weird else ""
        if netns:
            netns.close()
        assert rc == 0, "weird exited with %s; log:\n%s" % (rc, log)
        errs = [l for l in log.splitlines() if "|ERR|" in l]
        assert not errs, errs
        assert not reports, reports


ARP_KEY = "in_port(1),eth(),eth_type(0x0806),arp()"
UFID = "ufid:6a3c5f0e-8e4b-4d1a-9c2e-0b1d2e3f4a5b"
UDP_KEY = ("in_port(2),eth(),eth_type(0x0800),"
           "ipv4(src=10.0.0.3,dst=10.0.0.2,proto=17,frag=no),udp(dst=53)")


def test_dpctl_datapaths(dpctl):
    """show, dump-dps, add-dp, del-dp, and their errors."""
    d = dpctl
    assert d.ok("show") == ""
    assert d.ok("dump-dps") == ""
    assert d.ok("add-dp", "dp0") == ""
    assert d.ok("add-dp", "system@dp1") == ""
    # dump-dps walks a hash set: the order is Open vSwitch's business.
    assert sorted(d.ok("dump-dps").splitlines()) == ["system@dp0",
                                                      "system@dp1"]
    assert sorted(d.weir("dump-dps").splitlines()) == ["system@dp0",
                                                        "system@dp1"]
    # Idle datapaths: ovs-dpctl's show and weir's are the same text.
    assert d.ok("show", "dp0") == d.weir("show", "dp0")
    out = d.ok("show", "dp1").splitlines()
    assert out[:4] == ["system@dp1:", "  lookups: hit:0 missed:0 lost:0",
                       "  flows: 0", "  masks: hit:0 total:0 hit/pkt:0.00"]
    assert out[-1] == "  port 0: dp1 (internal)"
    # Each datapath's local port is a TAP device named after it.
    links = d.netns.links()
    assert links["dp0"]["tun_type"] == "tap" and "dp1" in links

    assert "ovs-dpctl: add_dp (File exists)" in d.err("add-dp", "dp0")
    assert "ovs-dpctl: opening datapath nodp failed (No such device)" in \
        d.err("show", "nodp")
    assert "ovs-dpctl: opening datapath (No such device)" in \
        d.err("del-dp", "nodp")
    assert "ovs-dpctl: multiple datapaths, specify one" in \
        d.err("dump-flows")

    assert d.ok("del-dp", "dp1") == ""
    assert d.ok("dump-dps") == "system@dp0\n"
    assert "dp1" not in d.netns.links()
    assert d.ok("del-dp", "system@dp0") == ""
    assert d.ok("dump-dps") == "" and d.weir("dump-dps") == ""
    assert "ovs-dpctl: no datapaths exist" in d.err("dump-flows")


def test_dpctl_ports(dpctl):
    """add-if of a veth end (type system) and of an internal port, show,
    del-if, and their errors."""
    d = dpctl
    veth, peer = d.netns.dev("vd"), d.netns.dev("vp")
    d.netns.veth(veth, peer)
    d.ok("add-dp", "dp0")
    assert d.ok("add-if", "dp0", veth) == ""
    assert d.ok("add-if", "dp0", "int0,type=internal") == ""
    out = d.ok("show", "dp0")
    assert show_ports(out) == {0: "dp0 (internal)", 1: veth,
                               2: "int0 (internal)"}, out
    assert out == d.weir("show", "dp0")
    # The internal port is a TAP device, and ovs-dpctl brought it up.
    links = d.netns.links()
    assert links["int0"]["tun_type"] == "tap" and links["int0"]["up"]

    # A port number of one's choosing.
    assert d.ok("add-if", "dp0", "int1,type=internal,port_no=9") == ""
    assert show_ports(d.ok("show"))[9] == "int1 (internal)"

    err = d.err("add-if", "dp0", "int0,type=internal")
    assert "ovs-dpctl: adding int0 to dp0 failed (File exists)" in err, err
    err = d.err("add-if", "dp0", "nodev0")
    assert [l for l in err if l.startswith("ovs-dpctl: ") and "nodev0" in l
            and "(No such device)" in l], err
    err = d.err("add-if", "nodp", "int2,type=internal")
    assert "ovs-dpctl: opening datapath (No such device)" in err

    assert d.ok("del-if", "dp0", "int0", veth) == ""
    assert show_ports(d.ok("show")) == {0: "dp0 (internal)",
                                        9: "int1 (internal)"}
    links = d.netns.links()
    assert "int0" not in links          # The TAP went with the port ...
    assert veth in links                # ... the veth is the system's.
    assert "ovs-dpctl: no port named nope" in d.err("del-if", "dp0", "nope")
    d.ok("del-dp", "dp0")


def _flow_lines(text):
    """The non-empty lines of a flow dump, sorted (dump order is the
    datapath's business)."""
    return sorted(l for l in text.splitlines() if l)


def test_dpctl_flows(dpctl):
    """add-flow, dump-flows, mod-flow, get-flow, del-flow, del-flows;
    errors for a flow that exists, a flow that does not, a bad key."""
    d = dpctl
    d.ok("add-dp", "dp0", "p1,type=internal", "p2,type=internal")
    assert d.ok("add-flow", "dp0", ARP_KEY, "2") == ""
    assert d.ok("dump-flows", "dp0") == \
        "in_port(1),eth(),eth_type(0x0806), packets:0, bytes:0, " \
        "used:never, actions:2\n"
    # With a UFID, and the default datapath (the only one).
    assert d.ok("add-flow", UFID + "," + UDP_KEY,
                "push_vlan(vid=5,pcp=0),1") == ""
    dump = _flow_lines(d.ok("dump-flows"))
    assert dump == _flow_lines(d.weir("dump-flows"))
    assert dump == sorted([
        "in_port(1),eth(),eth_type(0x0806), packets:0, bytes:0, "
        "used:never, actions:2",
        "in_port(2),eth(),eth_type(0x0800),ipv4(src=10.0.0.3,dst=10.0.0.2,"
        "proto=17,frag=no),udp(dst=53), packets:0, bytes:0, used:never, "
        "actions:push_vlan(vid=5,pcp=0),1"])
    # -m: both print port names unless told --no-names (ovs-dpctl's
    # default, which weir dp follows).
    more = _flow_lines(d.ok("dump-flows", "-m", "--no-names"))
    assert more == _flow_lines(d.weir("dump-flows", "-m", "--no-names"))
    assert [l for l in more if l.startswith(UFID + ", ")], more
    named = _flow_lines(d.ok("dump-flows", "-m"))
    assert named == _flow_lines(d.weir("dump-flows", "-m"))
    assert named != more
    assert [l for l in named if "in_port(p1)" in l
            and l.endswith("actions:p2")], named
    got = d.ok("get-flow", UFID).splitlines()
    assert got == [l for l in dump if "udp(dst=53)" in l]

    # add-flow of a flow that exists.
    err = d.err("add-flow", ARP_KEY, "1")
    assert "ovs-dpctl: updating flow table (File exists)" in err, err
    # mod-flow changes the actions; -s prints the statistics before.
    assert d.ok("mod-flow", "-s", "dp0", ARP_KEY, "1") == \
        "packets:0, bytes:0, used:never\n"
    assert [l for l in _flow_lines(d.ok("dump-flows"))
            if l.startswith("in_port(1)")][0].endswith("actions:1")
    other = ARP_KEY.replace("in_port(1)", "in_port(2)")
    err = d.err("mod-flow", other, "1")
    assert "ovs-dpctl: updating flow table (No such file or directory)" \
        in err, err
    assert d.ok("mod-flow", "--may-create", other, "1") == ""
    assert len(_flow_lines(d.ok("dump-flows"))) == 3

    # A key the kernel refuses: IPv4 without the ipv4() attribute.
    err = d.err("add-flow", "in_port(1),eth(),eth_type(0x0800)", "1")
    assert "ovs-dpctl: updating flow table (Invalid argument)" in err, err
    # Open vSwitch 3.1 writes "drop" as its userspace-only action
    # OVS_ACTION_ATTR_DROP (25), past the kernel's OVS_ACTION_ATTR_MAX: the
    # kernel module refuses it, and so does weird.
    err = d.err("add-flow", other, "drop")
    assert "ovs-dpctl: updating flow table (Invalid argument)" in err, err
    err = d.err("get-flow", "ufid:00000000-0000-0000-0000-0000000000ff")
    assert [l for l in err if l.startswith("ovs-dpctl: getting flow (")], \
        err

    # del-flow by key and by UFID, with -s.
    assert d.ok("del-flow", "dp0", ARP_KEY) == ""
    assert d.ok("del-flow", "-s", UFID) == \
        "packets:0, bytes:0, used:never\n"
    r = d.run("del-flow", ARP_KEY, rc=None)
    assert "ovs-dpctl: deleting flow (No such file or directory)" in \
        r.stderr.splitlines(), r.stderr
    assert r.stdout == "Perhaps you need to specify a UFID?\n"
    assert len(_flow_lines(d.ok("dump-flows"))) == 1

    assert d.ok("add-flow", ARP_KEY, "2") == ""
    assert d.ok("del-flows") == ""
    assert d.ok("dump-flows") == "" and d.weir("dump-flows") == ""
    assert d.ok("show").splitlines()[2] == "  flows: 0"
    d.ok("del-dp", "dp0")
