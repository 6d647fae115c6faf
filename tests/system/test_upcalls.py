# SPDX-License-Identifier: Apache-2.0
"""Upcalls from real ports (seed 001 "Upcalls", "Upcall Queuing and
Ordering"), through dp-shell's handler threads.

Two namespace hosts reach a datapath through afpacket ports.  Senders in
the hosts write raw UDP frames, each with a new UDP source port (a new
flow, so with no flows installed every frame is a miss):

- one frame gives exactly one miss upcall, with its key;
- a userspace() action gives an action upcall with its userdata, and the
  packet still goes on;
- fairness: with a deliberately slow handler (200 us per upcall), when both
  ports flood, each gets between 35% and 65% of the upcalls delivered
  (round robin across per-port queues: 50% each when both are
  backlogged); when only port 1 floods (thousands of new flows per second)
  and port 2 sends a slow stream, every one of port 2's upcalls is
  delivered, and port 1's overflow is counted as lost;
- execute: a packet userspace supplies leaves through the named port.
"""

import sys
import subprocess
import time

import pytest

import systest
from netlab import DpShell, Lab, require_netlab, wait_for

systest.summary(__file__, "upcalls and execute with real ports (miss, "
                "action, fairness, lost)")

SENDER = r"""
import socket, struct, sys, time
dev, src_ip, dst_ip, base, count, rate, seconds = sys.argv[1:8]
base, count, rate, seconds = int(base), int(count), float(rate), float(seconds)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
mac = open("/sys/class/net/%s/address" % dev).read().strip()
src = bytes.fromhex(mac.replace(":", ""))
dst = bytes.fromhex("020000000099")
sip, dip = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
def frame(sport):
    udp = struct.pack("!HHHH", sport, 5353, 8 + 18, 0) + bytes(18)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17,
                     0, sip, dip)
    csum = sum(struct.unpack("!10H", ip))
    csum = (csum & 0xffff) + (csum >> 16)
    csum = (csum & 0xffff) + (csum >> 16)
    ip = ip[:10] + struct.pack("!H", ~csum & 0xffff) + ip[12:]
    return dst + src + b"\x08\x00" + ip + udp
sent = 0
end = time.monotonic() + seconds
gap = 1.0 / rate if rate > 0 else 0
nxt = time.monotonic()
while (count == 0 or sent < count) and time.monotonic() < end:
    try:
        s.send(frame(base + sent % 60000))
        sent += 1
    except BlockingIOError:
        pass
    except OSError:
        time.sleep(0.0005)
    if gap:
        nxt += gap
        pause = nxt - time.monotonic()
        if pause > 0:
            time.sleep(pause)
print(sent, flush=True)
"""


@pytest.fixture
def lab():
    require_netlab()
    lab = Lab("wu")
    shell = None
    try:
        ns_a, ns_b = lab.host("ua"), lab.host("ub")
        for ns in (ns_a, ns_b):
            lab.ns(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
            lab.ns(ns, "sysctl", "-qw",
                   "net.ipv6.conf.default.disable_ipv6=1")
        names = [lab.name("sa"), lab.name("sb")]
        lab.veth(names[0], ns_a, "e0", "10.98.0.1/24")
        lab.veth(names[1], ns_b, "e0", "10.98.0.2/24")
        shell = DpShell("--name", lab.name("wdp"))
        for n in names:
            shell.cmd("port-add afpacket %s" % n)
        shell.cmd("pmd 1")
        yield lab, shell, ns_a, ns_b
    finally:
        if shell:
            assert shell.close() == 0
        lab.close()


def _send(lab, ns, src, base, count, rate=0, seconds=10, wait=True):
    args = ["ip", "netns", "exec", ns, sys.executable, "-c", SENDER, "e0",
            src, "10.98.0.200", str(base), str(count), str(rate),
            str(seconds)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                            universal_newlines=True)
    if not wait:
        return proc
    out, _ = proc.communicate(timeout=seconds + 30)
    return int(out)


def _ours(upcalls, sport):
    return [u for u in upcalls if "udp(src=%d," % sport in u["key"]]


def test_one_miss_one_upcall(lab):
    lab, shell, ns_a, ns_b = lab
    shell.cmd("handlers 2")
    assert _send(lab, ns_a, "10.98.0.1", 4242, 1) == 1
    wait_for(lambda: shell.cmd("stats")["upcalls"]["received"] >= 1)
    time.sleep(0.2)
    got = _ours(shell.cmd("upcalls")["upcalls"], 4242)
    assert len(got) == 1, got
    u = got[0]
    assert u["type"] == "miss" and u["in_port"] == 1
    assert "in_port(1)" in u["key"]
    assert "ipv4(src=10.98.0.1,dst=10.98.0.200,proto=17" in u["key"]
    assert "udp(src=4242,dst=5353)" in u["key"]
    stats = shell.cmd("stats")
    assert u["pid"] in shell.port(lab.name("sa"), stats)["pids"]


def test_action_upcall_carries_userdata(lab):
    lab, shell, ns_a, ns_b = lab
    shell.cmd("handlers 1")
    special = shell.cmd("stats")["upcalls"]["special_pid"]
    shell.cmd("flow-add in_port(1),eth(),eth_type(0x0800),ipv4(proto=17,"
              "frag=no),udp(dst=5353) userspace(pid=%d,userdata("
              "0102030405060708)),2" % special)
    before = shell.port(lab.name("sb"))["tx_packets"]
    assert _send(lab, ns_a, "10.98.0.1", 4444, 1) == 1
    got = []

    def seen():
        got.extend(_ours(shell.cmd("upcalls")["upcalls"], 4444))
        return got
    wait_for(seen, timeout=5)
    assert len(got) == 1, got
    assert got[0]["type"] == "action"
    assert got[0]["pid"] == special
    assert got[0]["userdata"] == "0102030405060708"
    # The packet went on to port 2 as well.
    assert wait_for(lambda: shell.port(lab.name("sb"))["tx_packets"]
                    == before + 1, timeout=5)


def test_fair_share_when_both_flood(lab):
    lab, shell, ns_a, ns_b = lab
    shell.cmd("handlers 1 200")
    a = _send(lab, ns_a, "10.98.0.1", 1000, 0, seconds=3, wait=False)
    b = _send(lab, ns_b, "10.98.0.2", 1000, 0, seconds=3, wait=False)
    sent_a, sent_b = int(a.communicate(timeout=60)[0]), \
        int(b.communicate(timeout=60)[0])
    time.sleep(0.5)
    per_port = shell.cmd("upcalls")["per_port"]
    got_a, got_b = per_port.get("1", 0), per_port.get("2", 0)
    stats = shell.cmd("stats")
    share = got_a / float(got_a + got_b)
    print("both flood: sent %d/%d, delivered %d/%d, share %.3f, lost %d"
          % (sent_a, sent_b, got_a, got_b, share, stats["dp"]["lost"]))
    # Both backlogged (each sent far more than the handler can take).
    assert sent_a > 2 * got_a and sent_b > 2 * got_b
    assert 0.35 <= share <= 0.65, (got_a, got_b)
    assert stats["dp"]["lost"] > 0


def test_flood_does_not_starve_other_port(lab):
    lab, shell, ns_a, ns_b = lab
    shell.cmd("handlers 1 200")
    flood = _send(lab, ns_a, "10.98.0.1", 1000, 0, seconds=4, wait=False)
    time.sleep(0.5)
    slow = _send(lab, ns_b, "10.98.0.2", 20000, 600, rate=300, seconds=10)
    sent_flood = int(flood.communicate(timeout=60)[0])
    wait_for(lambda: shell.cmd("upcalls")["per_port"].get("2", 0) >= slow,
             timeout=10)
    # Let the datapath drain its rings: counters stop moving.
    last = [None]

    def settled():
        now = shell.cmd("stats")
        ok = last[0] is not None and now["dp"] == last[0]["dp"]
        last[0] = now
        return now if ok else None
    stats = wait_for(settled, timeout=10, step=0.3) or last[0]
    port_b = shell.port(lab.name("sb"), stats)
    port_a = shell.port(lab.name("sa"), stats)
    per_port = shell.cmd("upcalls")["per_port"]
    print("flood %d from port 1: delivered %d, lost %d; port 2 sent %d, "
          "delivered %d, lost %d" % (sent_flood, per_port.get("1", 0),
                                     port_a["upcall_fail"], slow,
                                     per_port.get("2", 0),
                                     port_b["upcall_fail"]))
    assert sent_flood > 5000            # Thousands of new flows a second.
    assert port_a["upcall_fail"] > 0    # The flood overflowed its queue...
    assert port_b["upcall_fail"] == 0   # ...and port 2 lost nothing.
    assert per_port.get("2", 0) >= slow
    assert stats["dp"]["lost"] == sum(p["upcall_fail"]
                                      for p in stats["ports"])


def test_execute(lab):
    """Execute: userspace hands the datapath a packet with its metadata
    and an action list; the packet leaves through port 2 and reaches the
    far host."""
    lab, shell, ns_a, ns_b = lab
    from scapy.all import IP, UDP, Ether, raw  # noqa: E402
    frame = raw(Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") /
                IP(src="10.98.0.1", dst="10.98.0.2") /
                UDP(sport=7, dport=9) / b"weir-execute")
    before = shell.port(lab.name("sb"))["tx_packets"]
    rx = "/sys/class/net/e0/statistics/rx_packets"
    seen = int(lab.ns(ns_b, "cat", rx).stdout)
    shell.cmd("execute 1 %s 2" % frame.hex())
    assert shell.port(lab.name("sb"))["tx_packets"] == before + 1
    assert wait_for(lambda: int(lab.ns(ns_b, "cat", rx).stdout) > seen,
                    timeout=5)
    # Bad input is refused with a reason, and changes nothing.
    reply = shell.cmd("execute 1 0102 2", check=False)
    assert not reply["ok"] and "shorter" in reply["error"]
    reply = shell.cmd("execute 1 %s nosuchaction" % frame.hex(), check=False)
    assert not reply["ok"]
