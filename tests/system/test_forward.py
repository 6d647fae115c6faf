# SPDX-License-Identifier: Apache-2.0
"""Forwarding real traffic: two namespace hosts joined by a datapath.

For each port type (afxdp, afpacket, tap), two hosts in their own network
namespaces reach the datapath (veth pairs for afxdp and afpacket; for tap,
the TAP devices the ports create, moved into the hosts).  The test installs
the flows itself (ARP and IPv4, each direction), starts one PMD thread,
then pings and runs a 4 MiB TCP transfer, checked end to end by SHA-256.
A capture on the receiving host verifies every forwarded TCP/IPv4 frame:
no larger than the MTU and with correct IP and TCP checksums (seed 001
"Packet Format").  The sending veth keeps TSO on for afpacket, so the
datapath receives 64 KiB super-packets and must segment them: the test
checks that the port received more frames than the kernel delivered
(super-packets in, segments out).
"""

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

import systest
from netlab import (TCP_CLIENT, TCP_SERVER, DpShell, Lab, require_netlab,
                    run, wait_for)

systest.summary(__file__, "forwarding between namespaces (afxdp, "
                "afpacket, tap)")

TRANSFER = 4 * 1024 * 1024
A_IP, B_IP = "10.97.0.1", "10.97.0.2"

SERVER, CLIENT = TCP_SERVER, TCP_CLIENT



@pytest.fixture(params=["afxdp", "afpacket", "tap"])
def fabric(request):
    """Two hosts joined by a datapath with ports of the given type.
    Yields (lab, shell, ns_a, ns_b, dev_a, dev_b, port names)."""
    kind = request.param
    require_netlab()
    lab = Lab("wf")
    shell = None
    try:
        ns_a, ns_b = lab.host("fa"), lab.host("fb")
        shell = DpShell("--name", lab.name("wdp"))
        if kind == "tap":
            names = [lab.name("ta"), lab.name("tb")]
            for n in names:
                shell.cmd("port-add tap %s" % n)
            lab.adopt(names[0], ns_a, A_IP + "/24")
            lab.adopt(names[1], ns_b, B_IP + "/24")
            devs = names
        else:
            names = [lab.name("sa"), lab.name("sb")]
            devs = ["e0", "e0"]
            lab.veth(names[0], ns_a, "e0", A_IP + "/24")
            lab.veth(names[1], ns_b, "e0", B_IP + "/24")
            if kind == "afxdp":
                # AF_XDP carries no checksum metadata: frames must leave
                # the hosts checksummed (Open vSwitch asks the same).
                for ns in (ns_a, ns_b):
                    lab.ns(ns, "ethtool", "-K", "e0", "tx", "off")
            for n in names:
                shell.cmd("port-add %s %s" % (kind, n))
        # See the wire, not GRO's merges, in the capture.
        lab.ns(ns_b, "ethtool", "-K", devs[1], "gro", "off", check=False)
        for a, b in ((1, 2), (2, 1)):
            shell.cmd("flow-add in_port(%d),eth(),eth_type(0x0806),arp() %d"
                      % (a, b))
            shell.cmd("flow-add in_port(%d),eth(),eth_type(0x0800),"
                      "ipv4(frag=no) %d" % (a, b))
        shell.cmd("pmd 1")
        yield kind, lab, shell, ns_a, ns_b, devs, names
    finally:
        if shell:
            rc = shell.close()
            assert rc == 0, "dp-shell exited with %s" % rc
        lab.close()


def _verify_capture(path):
    """Checks every TCP/IPv4 frame in 'path'; returns how many."""
    from scapy.all import IP, TCP, rdpcap  # noqa: E402
    n = 0
    for frame in rdpcap(path):
        if IP not in frame or TCP not in frame:
            continue
        n += 1
        raw = bytes(frame)
        assert len(raw) <= 1514, "frame of %d bytes" % len(raw)
        ip = frame[IP]
        got_ip, got_tcp = ip.chksum, frame[TCP].chksum
        again = IP(bytes(ip))
        del again.chksum
        del again[TCP].chksum
        again = IP(bytes(again))
        assert got_ip == again.chksum, "bad IPv4 checksum"
        assert got_tcp == again[TCP].chksum, "bad TCP checksum"
    return n


def test_ping_and_tcp(fabric):
    kind, lab, shell, ns_a, ns_b, devs, names = fabric

    ping = lab.ns(ns_a, "ping", "-c", "3", "-i", "0.2", "-W", "2", B_IP,
                  check=False)
    assert ping.returncode == 0, ping.stdout + ping.stderr

    cap = tempfile.NamedTemporaryFile(suffix=".pcap", delete=False)
    cap.close()
    dump = subprocess.Popen(
        ["ip", "netns", "exec", ns_b, "tcpdump", "-i", devs[1], "-s", "0",
         "-B", "16384", "-U", "-w", cap.name, "tcp", "and", "src", A_IP],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = subprocess.Popen(
        ["ip", "netns", "exec", ns_b, sys.executable, "-c", SERVER, B_IP],
        stdout=subprocess.PIPE, universal_newlines=True)
    try:
        assert server.stdout.readline().strip() == "listening"
        # tcpdump prints "listening on ..." once it captures.
        wait_for(lambda: os.path.getsize(cap.name) > 0, timeout=5)
        time.sleep(0.3)
        pattern = os.urandom(16).hex() * 2
        client = lab.ns(ns_a, sys.executable, "-c", CLIENT, B_IP,
                        str(TRANSFER), pattern, check=False, timeout=60)
        assert client.returncode == 0, client.stderr
        out = server.stdout.readline().split()
        server.wait(timeout=30)
        data = bytes.fromhex(pattern) * (TRANSFER // 32)
        assert out == [str(TRANSFER), hashlib.sha256(data).hexdigest()]
        time.sleep(0.5)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=10)
    try:
        n = _verify_capture(cap.name)
    finally:
        os.unlink(cap.name)
    # Most of the transfer was seen (tcpdump may drop some under load).
    assert n >= TRANSFER // 1448 // 2, "only %d TCP frames captured" % n

    stats = shell.cmd("stats")
    port_a = shell.port(names[0], stats)
    assert port_a["type"] == kind
    assert port_a["link_up"] is True
    assert port_a["mtu"] == 1500
    assert port_a["ifindex"] > 0
    assert stats["dp"]["hit"] > n
    assert stats["pmds"] and stats["pmds"][0]["packets"] > n
    if kind == "afpacket":
        # TSO was on at the sender: the kernel handed the port fewer,
        # larger frames than the port passed on.
        kernel = int(open("/sys/class/net/%s/statistics/rx_packets"
                          % names[0]).read())
        assert port_a["rx_packets"] > kernel, (port_a, kernel)


def test_bad_ports(fabric):
    """Ports that cannot be added change nothing."""
    kind, lab, shell, ns_a, ns_b, devs, names = fabric
    before = shell.cmd("stats")["ports"]
    if kind == "tap":
        # The name of an existing network device ('lo').
        reply = shell.cmd("port-add tap lo", check=False)
    else:
        reply = shell.cmd("port-add %s nosuchdev%d" % (kind, os.getpid()),
                          check=False)
        assert "no such" in reply["error"].lower(), reply
    assert not reply["ok"]
    reply = shell.cmd("port-add %s %s" % (kind, names[0]), check=False)
    assert not reply["ok"] and "exist" in reply["error"], reply
    reply = shell.cmd("port-add dummy zz%d - 1" % os.getpid(), check=False)
    assert not reply["ok"] and "in use" in reply["error"], reply
    assert [p["name"] for p in shell.cmd("stats")["ports"]] == \
        [p["name"] for p in before]
    # Traffic still flows.
    ping = lab.ns(ns_a, "ping", "-c", "1", "-W", "2", B_IP, check=False)
    assert ping.returncode == 0


def test_device_gone(fabric):
    """A port whose device disappears (its veth deleted; for tap, its
    namespace) does not keep the polling thread awake: its fd reports an
    error for good, so the thread falls back to its timer for it."""
    kind, lab, shell, ns_a, ns_b, devs, names = fabric
    if kind == "tap":
        run(["ip", "netns", "del", ns_a])
        lab.netns.remove(ns_a)
    else:
        run(["ip", "link", "del", names[0]])
        lab.links.remove(names[0])
    time.sleep(0.5)
    before = shell.cmd("stats")["pmds"][0]
    time.sleep(1.0)
    after = shell.cmd("stats")["pmds"][0]
    wakeups = after["wakeups"] - before["wakeups"]
    assert wakeups < 400, "%d wake-ups in a second" % wakeups
    # The datapath still answers and removes the port cleanly.
    shell.cmd("port-del 1")


def test_link_flap(fabric):
    """A link that goes down and up again (which leaves an error on an
    AF_PACKET socket) keeps working, and the idle polling thread goes back
    to sleeping on its fds instead of waking on a timer."""
    kind, lab, shell, ns_a, ns_b, devs, names = fabric
    if kind == "tap":
        down = ["ip", "netns", "exec", ns_a, "ip", "link", "set", devs[0]]
    else:
        down = ["ip", "link", "set", names[0]]
    run(down + ["down"])
    time.sleep(0.2)
    run(down + ["up"])
    ping = lab.ns(ns_a, "ping", "-c", "2", "-i", "0.2", "-W", "2", B_IP,
                  check=False)
    assert ping.returncode == 0, ping.stdout
    time.sleep(1.0)
    before = shell.cmd("stats")["pmds"][0]
    time.sleep(1.0)
    after = shell.cmd("stats")["pmds"][0]
    # Idle: a few wake-ups for stray packets, not a timer's 125 a second.
    assert after["wakeups"] - before["wakeups"] < 60, (before, after)


def test_afxdp_queues_and_modes():
    """AF_XDP: native mode on veth, two queues polled by two PMD threads
    (a veth made with two queues each way), traffic through both; generic
    mode on request."""
    require_netlab()
    lab = Lab("wq")
    shell = None
    try:
        ns_a, ns_b = lab.host("qa"), lab.host("qb")
        names = [lab.name("sa"), lab.name("sb")]
        for name, ns, addr in ((names[0], ns_a, A_IP), (names[1], ns_b, B_IP)):
            run(["ip", "link", "add", name, "numrxqueues", "2",
                 "numtxqueues", "2", "type", "veth", "peer", "name", "e0",
                 "numrxqueues", "2", "numtxqueues", "2", "netns", ns])
            lab.links.append(name)
            run(["ip", "link", "set", name, "up"])
            lab.ns(ns, "ip", "addr", "add", addr + "/24", "dev", "e0")
            lab.ns(ns, "ip", "link", "set", "e0", "up")
            lab.ns(ns, "ethtool", "-K", "e0", "tx", "off")
        shell = DpShell("--name", lab.name("wdp"), "--local-type", "dummy")
        shell.cmd("port-add afxdp %s n_rxq=2" % names[0])
        shell.cmd("port-add afxdp %s mode=generic,n_rxq=2" % names[1])
        for a, b in ((1, 2), (2, 1)):
            shell.cmd("flow-add in_port(%d),eth(),eth_type(0x0806),arp() %d"
                      % (a, b))
            shell.cmd("flow-add in_port(%d),eth(),eth_type(0x0800),"
                      "ipv4(frag=no) %d" % (a, b))
        shell.cmd("pmd 2")
        stats = shell.cmd("stats")
        ports = {p["name"]: p for p in stats["ports"]}
        assert ports[names[0]]["afxdp_mode"] == "native-copy"
        assert ports[names[1]]["afxdp_mode"] == "generic-copy"
        assert ports[names[0]]["n_rxq"] == 2
        # Five queues (2 + 2 + the local port's) over two threads.
        assert sorted(t["n_rxq"] for t in stats["pmds"]) == [2, 3]
        ping = lab.ns(ns_a, "ping", "-c", "3", "-i", "0.2", "-W", "2", B_IP,
                      check=False)
        assert ping.returncode == 0, ping.stdout
        server = subprocess.Popen(
            ["ip", "netns", "exec", ns_b, sys.executable, "-c", SERVER,
             B_IP], stdout=subprocess.PIPE, universal_newlines=True)
        try:
            assert server.stdout.readline().strip() == "listening"
            pattern = os.urandom(16).hex() * 2
            client = lab.ns(ns_a, sys.executable, "-c", CLIENT, B_IP,
                            str(TRANSFER), pattern, check=False, timeout=60)
            assert client.returncode == 0, client.stderr
            out = server.stdout.readline().split()
            data = bytes.fromhex(pattern) * (TRANSFER // 32)
            assert out == [str(TRANSFER), hashlib.sha256(data).hexdigest()]
        finally:
            if server.poll() is None:
                server.kill()
            server.wait()
        stats = shell.cmd("stats")
        assert stats["dp"]["hit"] > TRANSFER // 1500
    finally:
        if shell:
            assert shell.close() == 0
        lab.close()
