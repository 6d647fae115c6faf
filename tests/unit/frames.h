/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_TESTS_UNIT_FRAMES_H
#define WEIR_TESTS_UNIT_FRAMES_H 1

/* Frames built by hand, for the unit tests of the packet parser, packet
 * buffers and the action executor.
 *
 * What
 * ====
 *
 * 'struct frame' is an Ethernet frame under construction; put*() append
 * bytes and headers to it, in network byte order, so that each test shows
 * exactly which bytes are on the wire and does not build them with the
 * code under test.
 *
 * Design
 * ======
 *
 * Fixed addresses everywhere: Ethernet FRAME_DST and FRAME_SRC, IPv4
 * 10.0.0.1 -> 10.0.0.2, IPv6 2001:db8::1 -> 2001:db8::2.  Header builders
 * leave checksums zero (the parser does not look at them); tests that need
 * them right compute them themselves.  put() fails the test (cmocka) if
 * the frame would overflow.  Every helper is static inline, so a test that
 * does not use one does not warn.
 *
 * Thread-safety
 * =============
 *
 * None needed: each test owns its frames.
 *
 * Ownership
 * =========
 *
 * A struct frame is plain data the test owns; set 'n' to 0 (or
 * "= { .n = 0 }") to start an empty frame.
 */

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

/* A frame under construction. */
struct frame {
    uint8_t b[1600];            /* The bytes, 'n' of them so far. */
    size_t n;
};

/* The addresses put_eth() writes. */
static const uint8_t FRAME_SRC[6] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05 };
static const uint8_t FRAME_DST[6] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15 };

/* Appends the 'n' bytes at 'p'. */
static inline void
put(struct frame *f, const void *p, size_t n)
{
    assert_true(f->n + n <= sizeof f->b);
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static inline void
put8(struct frame *f, uint8_t x)
{
    put(f, &x, 1);
}

static inline void
put16(struct frame *f, uint16_t x)
{
    put8(f, (uint8_t) (x >> 8));
    put8(f, (uint8_t) x);
}

static inline void
put32(struct frame *f, uint32_t x)
{
    put16(f, (uint16_t) (x >> 16));
    put16(f, (uint16_t) x);
}

static inline void
put_zeros(struct frame *f, size_t n)
{
    while (n--) {
        put8(f, 0);
    }
}

/* Appends the IPv6 address written 's'. */
static inline void
put_ip6(struct frame *f, const char *s)
{
    struct in6_addr a;

    assert_int_equal(1, inet_pton(AF_INET6, s, &a));
    put(f, &a, sizeof a);
}

/* Ethernet: FRAME_DST, FRAME_SRC, then 'type'. */
static inline void
put_eth(struct frame *f, uint16_t type)
{
    put(f, FRAME_DST, sizeof FRAME_DST);
    put(f, FRAME_SRC, sizeof FRAME_SRC);
    put16(f, type);
}

/* An IPv4 header of 'ihl' words (options, if any, as NOPs), TOS 0xb9
 * (DSCP 46, ECN 1), TTL 64, 10.0.0.1 -> 10.0.0.2, total length
 * 'tot_len', checksum zero. */
static inline void
put_ipv4(struct frame *f, uint8_t ihl, uint8_t proto, uint16_t frag_off,
         uint16_t tot_len)
{
    put8(f, (uint8_t) (0x40 | ihl));
    put8(f, 0xb9);
    put16(f, tot_len);
    put16(f, 0x1234);               /* ID. */
    put16(f, frag_off);
    put8(f, 64);
    put8(f, proto);
    put16(f, 0);
    put32(f, 0x0a000001);
    put32(f, 0x0a000002);
    for (int i = 5; i < ihl && i < 15; i++) {
        put32(f, 0x01010101);
    }
}

/* A TCP header: ports, data offset 'doff' words (options as NOPs), the
 * 12-bit 'flags', sequence 1, window 8192, checksum zero. */
static inline void
put_tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t doff,
        uint16_t flags)
{
    put16(f, sport);
    put16(f, dport);
    put32(f, 1);                    /* Sequence. */
    put32(f, 0);                    /* Ack. */
    put16(f, (uint16_t) ((doff << 12) | (flags & 0x0fff)));
    put16(f, 8192);                 /* Window. */
    put32(f, 0);                    /* Checksum, urgent pointer. */
    for (int i = 5; i < doff; i++) {
        put32(f, 0x01010101);
    }
}

/* An IPv6 header 2001:db8::1 -> 2001:db8::2, hop limit 64, next header
 * 'nh', payload length 0 (for the caller to fix up where it matters). */
static inline void
put_ipv6(struct frame *f, uint8_t tclass, uint32_t label, uint8_t nh)
{
    put32(f, (6u << 28) | ((uint32_t) tclass << 20) | label);
    put16(f, 0);
    put8(f, nh);
    put8(f, 64);
    put_ip6(f, "2001:db8::1");
    put_ip6(f, "2001:db8::2");
}

/* A generic IPv6 extension header of 8 * (len + 1) bytes. */
static inline void
put_ext(struct frame *f, uint8_t nh, uint8_t len)
{
    put8(f, nh);
    put8(f, len);
    put_zeros(f, 6 + 8 * (size_t) len);
}

/* An IPv6 fragment header; 'offset' in 8-byte units. */
static inline void
put_frag(struct frame *f, uint8_t nh, uint16_t offset, int more)
{
    put8(f, nh);
    put8(f, 0);
    put16(f, (uint16_t) ((offset << 3) | (more ? 1 : 0)));
    put32(f, 0xabcd);
}

/* An Ethernet/IPv4 ARP packet with operation 'op': FRAME_SRC 10.0.0.1
 * asks about FRAME_DST 10.0.0.2. */
static inline void
put_arp(struct frame *f, uint16_t op)
{
    put16(f, 1);                    /* Ethernet. */
    put16(f, 0x0800);               /* IPv4. */
    put8(f, 6);
    put8(f, 4);
    put16(f, op);
    put(f, FRAME_SRC, sizeof FRAME_SRC);
    put32(f, 0x0a000001);
    put(f, FRAME_DST, sizeof FRAME_DST);
    put32(f, 0x0a000002);
}

#endif /* tests/unit/frames.h */
