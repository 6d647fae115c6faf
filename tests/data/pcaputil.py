# SPDX-License-Identifier: Apache-2.0
"""What the packet generators of tests/data/ share.

Imported by gen-pcaps.py (the parser's corpus) and gen-action-goldens.py
(the action executor's goldens), which run as scripts from this directory
and so find it on their path.  Both promise deterministic output, which
is why everything here is fixed:

- SRC, DST, IP_A, IP_B, IP6_A, IP6_B: the addresses every frame uses
  unless a case says otherwise (scapy's own defaults depend on the host's
  interfaces and routes);
- eth(), ip4(), ip6(): scapy's Ether, IP and IPv6 with those addresses as
  defaults;
- write_pcap(): a classic little-endian pcap file (Ethernet link type)
  written here rather than by scapy, with timestamps that count up from
  a fixed second, one per frame.

Importing this module quietens scapy's runtime warnings, so import it
before scapy.
"""

import struct

import logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.all import Ether, IP, IPv6  # noqa: E402

SRC = "00:01:02:03:04:05"
DST = "10:11:12:13:14:15"
IP_A, IP_B = "10.0.0.1", "10.0.0.2"
IP6_A, IP6_B = "2001:db8::1", "2001:db8::2"

PCAP_MAGIC = 0xa1b2c3d4         # Microsecond timestamps.
PCAP_SNAPLEN = 65535
LINKTYPE_ETHERNET = 1
PCAP_EPOCH = 1700000000         # The first frame's timestamp, in seconds.


def eth(**kw):
    kw.setdefault("src", SRC)
    kw.setdefault("dst", DST)
    return Ether(**kw)


def ip4(**kw):
    kw.setdefault("src", IP_A)
    kw.setdefault("dst", IP_B)
    return IP(**kw)


def ip6(**kw):
    kw.setdefault("src", IP6_A)
    kw.setdefault("dst", IP6_B)
    return IPv6(**kw)


def write_pcap(path, frames):
    """Writes 'frames' (bytes each) to the pcap file 'path'."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0,
                            PCAP_SNAPLEN, LINKTYPE_ETHERNET))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", PCAP_EPOCH + i, 0, len(frame),
                                len(frame)))
            f.write(frame)
