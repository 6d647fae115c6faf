/* SPDX-License-Identifier: Apache-2.0 */
/* A fast IPv4/UDP frame generator for the forwarding benchmarks
 * (scripts/bench-fwd.sh).
 *
 *   pktgen IFACE SECONDS NFLOWS [--src-mac M] [--dst-mac M] [--size N]
 *          [--mode ring|mmsg]
 *
 * Sends frames on IFACE for SECONDS through an AF_PACKET socket bound to
 * it (protocol 0, so it receives nothing), with PACKET_QDISC_BYPASS, then
 * prints on stdout
 *
 *   sent N        frames the kernel accepted
 *   pps P         N divided by the time taken
 *
 * Frames
 * ======
 *
 * --size is the length of the frame as the kernel sees it: Ethernet header
 * to the end of the UDP payload, no FCS (the kernel neither adds nor
 * counts one).  The default, 64, is therefore a 68-byte frame on a real
 * wire; rx_bytes/rx_packets on the receiving veth read 64.  60 (the
 * smallest Ethernet frame without FCS) to 1514 are accepted.
 *
 * Frame i of NFLOWS (flow i) is, for k = i / 50000 and j = i % 50000:
 *
 *   SRC-MAC -> DST-MAC, IPv4 10.1.0.(1 + k) -> 10.2.0.1, TTL 64, DF clear,
 *   UDP source port 1024 + j, destination port 9, zero payload
 *
 * so up to 50,000 flows differ only in the UDP source port (1024 up), and
 * flow text "udp(src=1024+j)" matches flow j.  The IPv4 and UDP checksums
 * are valid.  Flows are sent round robin: consecutive frames belong to
 * different flows.  The defaults are SRC-MAC 02:00:00:00:00:01 and DST-MAC
 * 02:00:00:00:00:02, an address no interface of the benchmark has: the
 * receiver classifies the frames PACKET_OTHERHOST and IPv4 drops them on
 * entry, without replying.
 *
 * Modes
 * =====
 *
 * "mmsg" (the default) calls sendmmsg() with 64 frames at a time; "ring"
 * fills a PACKET_TX_RING (TPACKET_V2) and flushes it with send() every 256
 * frames.  On the machine bench-fwd.sh was written on (veth, sender and
 * receiver on one CPU) mmsg reached 0.90 Mpps and ring 0.80 Mpps,
 * probably because the ring hands the receiver skbs whose data past the
 * Ethernet header sits in page fragments of the ring, which IPv4 must pull
 * into the linear area, and the sender must wait for each skb to be freed
 * before it can reuse the slot.  Batches of 32, 256 and 1024 did no
 * better than 64.  SECONDS is checked between batches. */

#define _GNU_SOURCE             /* sendmmsg(). */

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/bench/bench-util.h"

#define FLOWS_PER_SRC 50000     /* UDP source ports per source address. */
#define MMSG_BATCH    64        /* Frames per sendmmsg(). */
#define RING_BATCH    256       /* Frames per flush of the TX ring. */
#define RING_FRAMES   4096      /* Slots in the TX ring. */

static void
usage(void)
{
    fprintf(stderr,
            "usage: pktgen IFACE SECONDS NFLOWS [--src-mac M] "
            "[--dst-mac M] [--size N] [--mode ring|mmsg]\n");
    exit(2);
}

static void
fail(const char *what)
{
    fprintf(stderr, "pktgen: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void
parse_mac(const char *s, uint8_t mac[6])
{
    unsigned int b[6];
    char extra;

    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
               &b[5], &extra)
        != 6) {
        fprintf(stderr, "pktgen: bad MAC address \"%s\"\n", s);
        exit(2);
    }
    for (int i = 0; i < 6; i++) {
        if (b[i] > 0xff) {
            fprintf(stderr, "pktgen: bad MAC address \"%s\"\n", s);
            exit(2);
        }
        mac[i] = (uint8_t) b[i];
    }
}

static long
parse_long(const char *s, long min, long max, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        fprintf(stderr, "pktgen: %s must be %ld to %ld, not \"%s\"\n", what,
                min, max, s);
        exit(2);
    }
    return v;
}

/* The Internet checksum of 'n' bytes at 'p', added to 'sum'. */
static uint32_t
csum_add(uint32_t sum, const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t) (b[i] << 8 | b[i + 1]);
    }
    if (n & 1) {
        sum += (uint32_t) b[n - 1] << 8;
    }
    return sum;
}

static uint16_t
csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t) ~sum;
}

/* Writes flow 'i' into 'f' ('size' bytes, zeroed).  The headers are built
 * in aligned local copies: in the frame the IPv4 header starts at offset
 * 14, not on a 4-byte boundary. */
static void
build_frame(uint8_t *f, size_t size, long i, const uint8_t src_mac[6],
            const uint8_t dst_mac[6])
{
    struct ether_header eth;
    struct iphdr ip;
    struct udphdr udp;
    size_t ip_len = size - sizeof eth;
    size_t udp_len = ip_len - sizeof ip;
    uint32_t sum;

    memcpy(eth.ether_dhost, dst_mac, 6);
    memcpy(eth.ether_shost, src_mac, 6);
    eth.ether_type = htons(ETHERTYPE_IP);

    memset(&ip, 0, sizeof ip);
    ip.version = 4;
    ip.ihl = 5;
    ip.tot_len = htons((uint16_t) ip_len);
    ip.id = htons((uint16_t) i);
    ip.ttl = 64;
    ip.protocol = IPPROTO_UDP;
    ip.saddr = htonl(0x0a010001u + (uint32_t) (i / FLOWS_PER_SRC));
    ip.daddr = htonl(0x0a020001u);
    ip.check = htons(csum_fold(csum_add(0, &ip, sizeof ip)));

    memset(&udp, 0, sizeof udp);
    udp.source = htons((uint16_t) (1024 + i % FLOWS_PER_SRC));
    udp.dest = htons(9);
    udp.len = htons((uint16_t) udp_len);
    /* Pseudo-header, then the UDP header; the payload is zeros. */
    sum = csum_add(0, &ip.saddr, 8);
    sum += IPPROTO_UDP + (uint32_t) udp_len;
    sum = csum_add(sum, &udp, sizeof udp);
    udp.check = htons(csum_fold(sum));
    if (!udp.check) {
        udp.check = 0xffff;
    }

    memcpy(f, &eth, sizeof eth);
    memcpy(f + sizeof eth, &ip, sizeof ip);
    memcpy(f + sizeof eth + sizeof ip, &udp, sizeof udp);
}

/* Sends round robin from 'frames' until 'deadline' with sendmmsg(). */
static unsigned long long
run_mmsg(int fd, uint8_t *frames, size_t size, long nflows, double deadline)
{
    struct mmsghdr msgs[MMSG_BATCH];
    struct iovec iovs[MMSG_BATCH];
    unsigned long long sent = 0;
    long next = 0;

    memset(msgs, 0, sizeof msgs);
    for (int k = 0; k < MMSG_BATCH; k++) {
        iovs[k].iov_len = size;
        msgs[k].msg_hdr.msg_iov = &iovs[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
    }
    while (bench_now() < deadline) {
        int n;

        for (int k = 0; k < MMSG_BATCH; k++) {
            iovs[k].iov_base = frames + (size_t) ((next + k) % nflows) * size;
        }
        n = sendmmsg(fd, msgs, MMSG_BATCH, 0);
        if (n < 0) {
            if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
                continue;
            }
            fail("sendmmsg");
        }
        sent += (unsigned long long) n;
        next = (next + n) % nflows;
    }
    return sent;
}

/* Sends round robin from 'frames' until 'deadline' through a
 * PACKET_TX_RING. */
static unsigned long long
run_ring(int fd, uint8_t *frames, size_t size, long nflows, double deadline)
{
    int version = TPACKET_V2;
    struct tpacket_req req;
    unsigned int slot, head = 0;
    unsigned long long sent = 0;
    long next = 0;
    size_t data_off = TPACKET2_HDRLEN - sizeof(struct sockaddr_ll);
    uint8_t *ring;

    slot = (unsigned int) TPACKET_ALIGN(data_off + size);
    /* Whole slots per 64 kB block, as the kernel requires. */
    req.tp_block_size = 1u << 16;
    req.tp_frame_size = slot;
    req.tp_frame_nr = RING_FRAMES;
    req.tp_block_nr = RING_FRAMES / (req.tp_block_size / slot);
    if (req.tp_frame_nr % (req.tp_block_size / slot)) {
        req.tp_block_nr++;
    }
    req.tp_frame_nr = req.tp_block_nr * (req.tp_block_size / slot);
    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version)
        || setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req)) {
        fail("PACKET_TX_RING");
    }
    ring = mmap(NULL, (size_t) req.tp_block_size * req.tp_block_nr,
                PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (ring == MAP_FAILED) {
        fail("mmap");
    }

    while (bench_now() < deadline) {
        int queued = 0;

        while (queued < RING_BATCH) {
            unsigned int per_block = req.tp_block_size / slot;
            uint8_t *p = ring + (size_t) (head / per_block) * req.tp_block_size
                         + (size_t) (head % per_block) * slot;
            struct tpacket2_hdr *h = (struct tpacket2_hdr *) p;

            if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE)
                & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING)) {
                break;          /* Ring full: flush what is queued. */
            }
            memcpy(p + data_off, frames + (size_t) next * size, size);
            h->tp_len = (uint32_t) size;
            __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST,
                             __ATOMIC_RELEASE);
            head = (head + 1) % req.tp_frame_nr;
            next = (next + 1) % nflows;
            queued++;
        }
        /* Blocking: returns once every queued frame has been handed to
         * the device. */
        if (send(fd, NULL, 0, 0) < 0 && errno != ENOBUFS && errno != EAGAIN
            && errno != EINTR) {
            fail("send");
        }
        sent += (unsigned long long) queued;
    }
    return sent;
}

int
main(int argc, char *argv[])
{
    uint8_t src_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
    uint8_t dst_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
    struct sockaddr_ll sll;
    unsigned long long sent;
    bool ring = false;
    size_t size = 64;
    double seconds, t0, t1;
    const char *iface;
    uint8_t *frames;
    long nflows;
    int one = 1, sndbuf = 4 << 20;
    int fd;

    if (argc < 4) {
        usage();
    }
    iface = argv[1];
    seconds = (double) parse_long(argv[2], 1, 3600, "SECONDS");
    nflows = parse_long(argv[3], 1, 255L * FLOWS_PER_SRC, "NFLOWS");
    for (int i = 4; i < argc; i++) {
        if (i + 1 >= argc) {
            usage();
        }
        if (!strcmp(argv[i], "--src-mac")) {
            parse_mac(argv[++i], src_mac);
        } else if (!strcmp(argv[i], "--dst-mac")) {
            parse_mac(argv[++i], dst_mac);
        } else if (!strcmp(argv[i], "--size")) {
            size = (size_t) parse_long(argv[++i], 60, 1514, "--size");
        } else if (!strcmp(argv[i], "--mode")) {
            i++;
            if (!strcmp(argv[i], "ring") || !strcmp(argv[i], "mmsg")) {
                ring = !strcmp(argv[i], "ring");
            } else {
                usage();
            }
        } else {
            usage();
        }
    }

    frames = calloc((size_t) nflows, size);
    if (!frames) {
        fail("calloc");
    }
    for (long i = 0; i < nflows; i++) {
        build_frame(frames + (size_t) i * size, size, i, src_mac, dst_mac);
    }

    fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) {
        fail("socket");
    }
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = (int) if_nametoindex(iface);
    if (!sll.sll_ifindex) {
        fail(iface);
    }
    if (bind(fd, (struct sockaddr *) &sll, sizeof sll)) {
        fail("bind");
    }
    if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one)) {
        fail("PACKET_QDISC_BYPASS");
    }
    /* Best effort: a larger send buffer only helps. */
    (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);

    t0 = bench_now();
    sent = ring ? run_ring(fd, frames, size, nflows, t0 + seconds)
                : run_mmsg(fd, frames, size, nflows, t0 + seconds);
    t1 = bench_now();

    printf("sent %llu\npps %.0f\n", sent, sent / (t1 - t0));
    close(fd);
    free(frames);
    return 0;
}
