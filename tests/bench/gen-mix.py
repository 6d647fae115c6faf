#!/usr/bin/python3
"""Writes a mixed-protocol pcap for the extraction benchmark.

usage: gen-mix.py OUT.pcap [N]

N packets (default 4096) in a fixed pseudo-random order, a rough data
centre mix: TCP/IPv4 50%, UDP/IPv4 15%, TCP/IPv6 10%, UDP/IPv6 5%,
802.1Q-tagged TCP/IPv4 10%, ICMP 4%, ARP 3%, ICMPv6 ND 3%.  Deterministic:
the same N always gives the same file.
"""

import random
import sys

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6ND_NS,
                       ICMPv6NDOptSrcLLAddr, IPv6, wrpcap)


def packet(rng):
    src = "02:00:00:00:%02x:%02x" % (rng.randrange(256), rng.randrange(256))
    dst = "02:00:00:01:%02x:%02x" % (rng.randrange(256), rng.randrange(256))
    eth = Ether(src=src, dst=dst)
    a4 = "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256),
                          rng.randrange(1, 255))
    b4 = "10.1.%d.%d" % (rng.randrange(256), rng.randrange(1, 255))
    a6 = "fd00::%x" % rng.randrange(1, 65535)
    b6 = "fd00:1::%x" % rng.randrange(1, 65535)
    sport = rng.randrange(1024, 65535)
    dport = rng.choice([80, 443, 53, 22, 8080])
    payload = b"x" * rng.choice([0, 64, 512, 1400])
    r = rng.random()
    if r < 0.50:
        return eth / IP(src=a4, dst=b4) / TCP(sport=sport, dport=dport,
                                              flags="A") / payload
    if r < 0.65:
        return eth / IP(src=a4, dst=b4) / UDP(sport=sport,
                                              dport=dport) / payload
    if r < 0.75:
        return eth / IPv6(src=a6, dst=b6) / TCP(sport=sport, dport=dport,
                                                flags="PA") / payload
    if r < 0.80:
        return eth / IPv6(src=a6, dst=b6) / UDP(sport=sport,
                                                dport=dport) / payload
    if r < 0.90:
        return (eth / Dot1Q(vlan=rng.randrange(1, 4095)) /
                IP(src=a4, dst=b4) / TCP(sport=sport, dport=dport) / payload)
    if r < 0.94:
        return eth / IP(src=a4, dst=b4) / ICMP(type=8) / payload
    if r < 0.97:
        return eth / ARP(op=1, psrc=a4, pdst=b4, hwsrc=src)
    return (eth / IPv6(src=a6, dst="ff02::1:ff00:1") /
            ICMPv6ND_NS(tgt=b6) / ICMPv6NDOptSrcLLAddr(lladdr=src))


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 4096
    rng = random.Random(20261121)
    pkts = []
    for i in range(n):
        p = packet(rng)
        p.time = 1700000000 + i / 1000.0
        pkts.append(p)
    wrpcap(out, pkts)


if __name__ == "__main__":
    main()
