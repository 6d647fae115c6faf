/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_PORT_PORT_AFXDP_H
#define WEIR_PORT_PORT_AFXDP_H 1

/* The "afxdp" port: an existing network interface through AF_XDP sockets
 * (libxdp and libbpf).
 *
 * What
 * ====
 *
 * The port binds an AF_XDP socket to each of the first n_rxq receive
 * queues of the interface and lets libxdp attach its default XDP program,
 * which redirects every frame arriving on a bound queue to that queue's
 * socket.  Frames arriving on other queues go on to the kernel's stack as
 * if the port were not there: give n_rxq the interface's queue count, or
 * lower that count ('ethtool -L').  The port transmits through the same
 * sockets.  It needs CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF (or
 * CAP_SYS_ADMIN) and, for its packet memory, CAP_IPC_LOCK or a large
 * enough RLIMIT_MEMLOCK: root has all of them.
 *
 * Options (port_open()'s 'options', comma-separated key=value; an unknown
 * key, a repeated one or a bad value is -EINVAL with a reason):
 *
 *   n_rxq=N             1 (default) to 64: receive queues 0 .. N-1 of the
 *                       interface, one socket each.  More queues than the
 *                       interface has is -EINVAL.
 *   mode=M              auto (default): the driver's own XDP hook
 *                       ("native") if it has one that takes the program,
 *                       else the generic hook every interface has (after
 *                       the kernel built an skb: slower).  native or
 *                       generic: that hook only, or fail.
 *   zerocopy=Z          auto (default): zero-copy if the driver offers it
 *                       in native mode, copy mode otherwise.  on:
 *                       zero-copy or fail (native mode only).  off: copy
 *                       mode.
 *   ring_size=N         packet frames per queue and direction, a power of
 *                       2 from 64 to 16384; 2048 by default.  Each queue
 *                       has 2 * N frames of 4 KiB (16 MiB at the default),
 *                       locked in memory.
 *
 * port_afxdp_mode() says which hook and copy mode open() got.  When
 * libxdp's program is on the interface already (for another process's
 * sockets, or left by one that died), the port shares it and its hook:
 * mode=auto follows it, an explicit mode that differs fails.  Another XDP
 * program on the interface makes open() fail with -EBUSY.
 *
 * Frames are copied between the sockets' memory and weir's own packets,
 * at rx and at tx; "zero-copy" is the kernel's half: the driver DMAs
 * straight into (and out of) that memory instead of copying too.  A
 * received frame can have up to 3,840 bytes (a 4 KiB frame less the 256
 * bytes the kernel keeps in front of it); the kernel drops longer ones
 * (counted in rx_dropped).  A veth takes native XDP only up to an MTU of
 * about 3,500; above that, mode=auto gets the generic hook.
 *
 * The kernel does not tell an AF_XDP socket that a frame's checksum was
 * left to offload: with a veth, frames that local TCP or UDP sockets send
 * from the peer's side arrive with partial checksums (and the far end
 * drops them) unless transmit checksum offload is off on the peer
 * ('ethtool -K PEER tx off').
 *
 * Thread-safety
 * =============
 *
 * That of port/port-provider.h.  Each queue's receive rings belong to the
 * thread polling it; transmits take a per-socket mutex.
 *
 * Ownership
 * =========
 *
 * Received packets come from a pool the port owns (packet/packet.h): they
 * may outlive the port.  The XDP program stays attached while any AF_XDP
 * socket made by libxdp uses it; the last one to close detaches it.
 */

struct port;

/* Returns how the afxdp port 'port' runs: "native-zerocopy",
 * "native-copy" or "generic-copy"; NULL if 'port' is not an open afxdp
 * port. */
const char *port_afxdp_mode(const struct port *port);

#endif /* port/port-afxdp.h */
