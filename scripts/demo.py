#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The demo: weir switches real traffic between two network namespaces.

Two hosts, demo-a (10.99.0.1) and demo-b (10.99.0.2), each reach a weir
datapath through a veth pair.  The datapath lives in the weird daemon;
everything else talks to weird over its control socket, with the
protocol of the Open vSwitch kernel module:

1. weird starts (private control socket under build/demo/).
2. `weir dp add-dp` / `add-if` (ovs-dpctl syntax) build the datapath with
   the two veths as "system" ports (AF_XDP, or AF_PACKET if refused).
3. examples/learning-switch, a 400-line libweir client, runs a
   MAC-learning switch from upcalls: it learns, installs flows by UFID,
   executes the first packets, floods unknown destinations.
4. A ping and a 20 MB TCP transfer (checked by SHA-256) cross the switch.
5. `weir dp show -s` and `weir dp dump-flows` show what happened.

Everything the demo starts or creates is stopped and removed at the end.
"""

import hashlib
import os
import signal
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "system"))

from netlab import Lab, wait_for  # noqa: E402

BUILD = os.environ.get("WEIR_BUILD", os.path.join(TOP, "build"))
SIZE = 20 * 1024 * 1024

SERVER = r"""
import hashlib, socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.99.0.2", 5001))
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
h, n = hashlib.sha256(), 0
while True:
    b = c.recv(1 << 16)
    if not b:
        break
    h.update(b)
    n += len(b)
print(n, h.hexdigest(), flush=True)
"""

CLIENT = r"""
import socket, sys
c = socket.create_connection(("10.99.0.2", 5001), timeout=30)
c.sendall(bytes(range(256)) * (int(sys.argv[1]) // 256))
c.close()
"""


def say(text):
    print("\n== " + text, flush=True)


def weir(*args, env=None, check=True):
    """Runs the weir CLI; returns its stdout."""
    cmd = [os.path.join(BUILD, "src", "tools", "weir")] + list(args)
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=60)
    if check and r.returncode:
        raise SystemExit("demo: %s failed: %s" % (" ".join(args),
                                                   r.stderr.strip()))
    return r.stdout


def main():
    lab = Lab("demo")
    work = os.path.join(BUILD, "demo")
    os.makedirs(work, exist_ok=True)
    control = os.path.join(work, "weird.sock")
    env = dict(os.environ, WEIR_CONTROL=control)
    daemon = switch = None
    procs = []
    try:
        ns_a, ns_b = lab.host("da"), lab.host("db")
        ports = [lab.name("sa"), lab.name("sb")]
        lab.veth(ports[0], ns_a, "eth0", "10.99.0.1/24")
        lab.veth(ports[1], ns_b, "eth0", "10.99.0.2/24")
        # AF_XDP carries no checksum metadata (see docs/design/ports.md).
        for ns in (ns_a, ns_b):
            lab.ns(ns, "ethtool", "-K", "eth0", "tx", "off")

        say("start weird (control socket %s)" % control)
        daemon = subprocess.Popen(
            [os.path.join(BUILD, "src", "daemon", "weird"),
             "--control=" + control, "--state=",
             "--pidfile=" + os.path.join(work, "weird.pid"),
             "--log-file=" + os.path.join(work, "weird.log")],
            stdin=subprocess.DEVNULL)
        if not wait_for(lambda: os.path.exists(control)):
            raise SystemExit("demo: weird did not start")

        dp = lab.name("dp")
        say("weir dp add-dp %s; add-if %s %s %s" % (dp, dp, *ports))
        weir("dp", "add-dp", dp, env=env)
        weir("dp", "add-if", dp, *ports, env=env)
        print(weir("dp", "show", dp, env=env).rstrip())

        say("examples/learning-switch %s" % dp)
        switch_log = os.path.join(work, "learning-switch.log")
        with open(switch_log, "w") as out:
            switch = subprocess.Popen(
                [os.path.join(BUILD, "examples", "learning-switch"),
                 "--idle=30", dp], env=env, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT)
        if not wait_for(lambda: "running on" in open(switch_log).read()):
            raise SystemExit("demo: learning-switch did not start")

        say("ping 10.99.0.2 from %s" % ns_a)
        ping = lab.ns(ns_a, "ping", "-c", "4", "-i", "0.2", "-W", "2",
                      "10.99.0.2", check=False)
        print(ping.stdout.strip())
        if " 4 received" not in ping.stdout:
            raise SystemExit("demo: ping lost packets")

        say("TCP: %d MB from %s to %s" % (SIZE >> 20, ns_a, ns_b))
        server = subprocess.Popen(
            ["ip", "netns", "exec", ns_b, sys.executable, "-c", SERVER],
            stdout=subprocess.PIPE, universal_newlines=True)
        procs.append(server)
        assert server.stdout.readline().strip() == "ready"
        start = time.monotonic()
        lab.ns(ns_a, sys.executable, "-c", CLIENT, str(SIZE), timeout=120)
        n, digest = server.stdout.readline().split()
        server.wait(timeout=30)
        secs = time.monotonic() - start
        want = hashlib.sha256(bytes(range(256)) * (SIZE // 256)).hexdigest()
        print("received %s bytes in %.2f s (%.0f Mbit/s), sha256 %s"
              % (n, secs, int(n) * 8 / secs / 1e6,
                 "matches" if digest == want else "DIFFERS"))
        if digest != want or int(n) != SIZE:
            raise SystemExit("demo: transfer corrupted")

        say("weir dp show -s %s" % dp)
        show = weir("dp", "show", "-s", dp, env=env).rstrip()
        print(show)
        hits = int(show.split("lookups: hit:")[1].split()[0])
        if hits < SIZE // 1500:
            raise SystemExit("demo: the transfer did not go through the "
                             "flows (%d hits)" % hits)
        say("weir dp dump-flows %s" % dp)
        print(weir("dp", "dump-flows", dp, env=env).rstrip())
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for proc, sig in ((switch, signal.SIGINT), (daemon, signal.SIGTERM)):
            if proc and proc.poll() is None:
                proc.send_signal(sig)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        lab.close()
    if daemon and daemon.returncode:
        raise SystemExit("demo: weird exited with %d" % daemon.returncode)
    if switch:
        with open(switch_log) as f:
            log = f.read()
        print("\n== learning-switch output (first lines)")
        print("\n".join(log.splitlines()[:8]))
        if switch.returncode or "learning-switch: flow put" in log \
                or "learning-switch: execute" in log:
            raise SystemExit("demo: learning-switch failed (exit %d)"
                             % switch.returncode)
    print("\ndemo: done (learning switch and weird stopped; namespaces, "
          "veths and the datapath removed)")


if __name__ == "__main__":
    main()
