# SPDX-License-Identifier: Apache-2.0
"""examples/learning-switch, the dpif client of seed 001's "Typical Usage",
switching real traffic: two namespace hosts on veths, ports added to a
datapath in weird with `weir dp add-if`, the learning switch reading
upcalls through libweir.  Checks: ping both ways, the flows it installed
are named by UFIDs and match in_port + Ethernet addresses only, packets
then stay in the datapath (flow hits), and idle flows expire through its
terse dumps."""

import os
import signal
import subprocess
import time

import pytest

import systest
import weirdlib as wl
from netlab import Lab, require_netlab, wait_for

systest.summary(__file__, "examples/learning-switch between namespaces")


def learning_switch_bin():
    return os.path.join(os.environ.get("WEIR_BUILD", "build"), "examples",
                        "learning-switch")


def weir(w, *args):
    r = subprocess.run([systest.require_weir(), "dp"] + list(args),
                       env=w.env(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture
def setup():
    require_netlab()
    exe = learning_switch_bin()
    if not os.path.isabs(exe):
        exe = os.path.join(systest.ROOT, exe)
    if not os.access(exe, os.X_OK):
        pytest.skip(systest.MISSING_PEER + "no learning-switch at " + exe)
    lab = Lab("lsw")
    w = proc = None
    try:
        ns_a, ns_b = lab.host("la"), lab.host("lb")
        ports = [lab.name("pa"), lab.name("pb")]
        lab.veth(ports[0], ns_a, "eth0", "10.98.0.1/24")
        lab.veth(ports[1], ns_b, "eth0", "10.98.0.2/24")
        w = wl.Weird()
        dp = lab.name("dp")
        weir(w, "add-dp", dp)
        weir(w, "add-if", dp, ports[0] + ",type=afpacket",
             ports[1] + ",type=afpacket")
        log = os.path.join(w.dir, "learning-switch.log")
        with open(log, "w") as out:
            proc = subprocess.Popen([exe, "--idle=2", "--verbose", dp],
                                    env=dict(w.env(),
                                             ASAN_OPTIONS="detect_leaks=1"),
                                    stdout=out, stderr=subprocess.STDOUT)
        assert wait_for(lambda: "running on" in open(log).read())
        yield lab, w, dp, ns_a, ns_b, proc
    finally:
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            assert proc.returncode == 0
        if w:
            w.stop()
        lab.close()


def flows(w, dp):
    out = weir(w, "dump-flows", "-m", dp)
    return [line for line in out.splitlines() if line.strip()]


def test_ping_learn_flows_expire(setup):
    lab, w, dp, ns_a, ns_b, proc = setup
    r = lab.ns(ns_a, "ping", "-c", "5", "-i", "0.2", "-W", "2",
               "10.98.0.2", check=False)
    assert r.returncode == 0, r.stdout
    r = lab.ns(ns_b, "ping", "-c", "3", "-i", "0.2", "-W", "2",
               "10.98.0.1", check=False)
    assert r.returncode == 0, r.stdout

    lines = flows(w, dp)
    assert lines
    unicast = []
    for line in lines:
        assert line.startswith("ufid:"), line
        key = line.split(", packets:")[0]
        # The mask covers in_port and the Ethernet addresses only (-m
        # prints wildcarded fields with a zero mask).
        assert "ipv4" not in key and "arp" not in key, line
        assert "eth_type(0x0000/0x0000)" in key, line
        if "dst=ff:ff:ff:ff:ff:ff" not in key and "dst=33:33" not in key:
            unicast.append(line)
    # Both directions learned: unicast flows with hits, single output.
    hit = [l for l in unicast if ", packets:0," not in l]
    assert len(hit) >= 2, lines
    for line in hit:
        actions = line.split("actions:")[1]
        assert "," not in actions, line

    # No traffic: every flow is gone after --idle=2 plus a dump period.
    assert wait_for(lambda: not flows(w, dp), timeout=10), flows(w, dp)

    # And traffic comes back through new upcalls.
    r = lab.ns(ns_a, "ping", "-c", "2", "-i", "0.2", "-W", "2",
               "10.98.0.2", check=False)
    assert r.returncode == 0, r.stdout
    time.sleep(0.2)
    assert flows(w, dp)


def test_port_added_while_flooding(setup):
    """A host on a port added while a flood flow for its address exists
    must become reachable: the switch drops its flows on port changes.
    IPv6 is off in the namespaces, so no chatter of the new host's own
    teaches the switch its MAC and hides a stale flood flow."""
    lab, w, dp, ns_a, ns_b, proc = setup
    for ns in (ns_a, ns_b):
        lab.ns(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
    ns_c = lab.host("lc")
    lab.ns(ns_c, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
    port_c = lab.name("pc")
    lab.veth(port_c, ns_c, "eth0", "10.98.0.3/24")
    # a pings c before c's port exists: ARP floods, a flood flow appears.
    pinger = subprocess.Popen(["ip", "netns", "exec", ns_a, "ping", "-i",
                               "0.2", "-w", "8", "10.98.0.3"],
                              stdout=subprocess.PIPE,
                              universal_newlines=True)
    try:
        time.sleep(1.0)
        weir(w, "add-if", dp, port_c + ",type=afpacket")
        out, _ = pinger.communicate(timeout=20)
    finally:
        if pinger.poll() is None:
            pinger.kill()
            pinger.wait()
    received = int(out.split(" received")[0].rsplit(" ", 1)[1])
    assert received >= 10, out
