/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for packet/packet-offload.c (software GSO and checksum
 * completion) and for what the "afpacket" port provider does without a
 * network (option and device errors).
 *
 * Super-packets are built byte by byte here, with a known payload, and
 * every output is checked against values the test computes on its own:
 * the Internet checksums and the CRC32c with this file's implementations
 * (not packet-edit.c's), lengths and sequence numbers by arithmetic, the
 * payload by reassembling it.  Each frame handed to the code under test is
 * an exact-size heap copy, so that ASan reports any read past its end. */

#include "packet/packet-offload.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "lib/errbuf.h"
#include "packet/packet.h"
#include "port/port.h"
#include "tests/unit/csum-ref.h"

/* ---- Building super-packets. ---- */

/* What a test frame holds. */
struct spec {
    int n_tags;                 /* In-frame VLAN tags, 0 to 2. */
    bool ipv6;
    bool tcp;                   /* TCP, or UDP. */
    size_t ip_opts;             /* IPv4 option bytes (multiple of 4). */
    size_t hbh_len;             /* IPv6 hop-by-hop header (0 or 8n). */
    size_t tcp_opts;            /* TCP option bytes (multiple of 4). */
    size_t payload;
    uint8_t tcp_flags;
    uint16_t ip_id;
    uint32_t seq;
};

/* A built frame and where its headers are. */
struct built {
    uint8_t *b;
    size_t len;
    size_t l3, l4, hdr;         /* IP header, transport header, payload. */
};

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_ECE 0x40
#define TCP_CWR 0x80

static uint8_t
payload_byte(size_t k)
{
    return (uint8_t) ((k * 7 + 3) % 251);
}

static void
w16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

static void
w32(uint8_t *p, uint32_t v)
{
    w16(p, (uint16_t) (v >> 16));
    w16(p + 2, (uint16_t) v);
}

static uint16_t
r16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static uint32_t
r32(const uint8_t *p)
{
    return (uint32_t) r16(p) << 16 | r16(p + 2);
}

/* ---- Independent checksums. ---- */

/* Bitwise CRC32c (reflected 0x82f63b78), pre- and post-inverted. */
static uint32_t
crc32c(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffff;

    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) {
            crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78 : crc >> 1;
        }
    }
    return ~crc;
}

/* ---- Frames. ---- */

/* Builds the frame 'sp' describes, with addresses 10.0.0.1 -> 10.0.0.2 or
 * 2001:db8::1 -> 2001:db8::2, ports 1000 -> 2000, and the transport
 * checksum field holding the pseudo-header sum, as a sender leaves it for
 * NEEDS_CSUM. */
static struct built
build(const struct spec *sp)
{
    static const uint8_t mac[12] = {
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
    };
    size_t l3 = 14 + 4 * (size_t) sp->n_tags;
    size_t ip_len = sp->ipv6 ? 40 + sp->hbh_len : 20 + sp->ip_opts;
    size_t th_len = sp->tcp ? 20 + sp->tcp_opts : 8;
    struct built f;
    uint8_t *ip, *th;

    f.l3 = l3;
    f.l4 = l3 + ip_len;
    f.hdr = f.l4 + th_len;
    f.len = f.hdr + sp->payload;
    f.b = calloc(1, f.len);
    assert_non_null(f.b);

    memcpy(f.b, mac, 12);
    for (int i = 0; i < sp->n_tags; i++) {
        w16(f.b + 12 + 4 * i, i == 0 && sp->n_tags == 2 ? 0x88a8 : 0x8100);
        w16(f.b + 14 + 4 * i, (uint16_t) (100 + i));
    }
    w16(f.b + l3 - 2, sp->ipv6 ? 0x86dd : 0x0800);

    ip = f.b + l3;
    if (sp->ipv6) {
        ip[0] = 0x60;
        w16(ip + 4, (uint16_t) (f.len - l3 - 40));
        ip[6] = sp->hbh_len ? 0 : sp->tcp ? 6 : 17;
        ip[7] = 64;
        ip[8] = 0x20, ip[9] = 0x01, ip[10] = 0x0d, ip[11] = 0xb8;
        ip[23] = 1;
        ip[24] = 0x20, ip[25] = 0x01, ip[26] = 0x0d, ip[27] = 0xb8;
        ip[39] = 2;
        if (sp->hbh_len) {
            ip[40] = sp->tcp ? 6 : 17;
            ip[41] = (uint8_t) (sp->hbh_len / 8 - 1);
            ip[42] = 1;                         /* PadN over the rest. */
            ip[43] = (uint8_t) (sp->hbh_len - 4);
        }
    } else {
        ip[0] = (uint8_t) (0x40 | (20 + sp->ip_opts) / 4);
        w16(ip + 2, (uint16_t) (f.len - l3));
        w16(ip + 4, sp->ip_id);
        w16(ip + 6, 0x4000);                    /* DF. */
        ip[8] = 64;
        ip[9] = sp->tcp ? 6 : 17;
        ip[12] = 10, ip[15] = 1;
        ip[16] = 10, ip[19] = 2;
        memset(ip + 20, 1, sp->ip_opts);        /* NOPs. */
        w16(ip + 10, (uint16_t) ~ref_fold(ref_sum_words(ip, 20 + sp->ip_opts, 0)));
    }

    th = f.b + f.l4;
    w16(th, 1000);
    w16(th + 2, 2000);
    if (sp->tcp) {
        w32(th + 4, sp->seq);
        w32(th + 8, 0x01020304);
        th[12] = (uint8_t) ((20 + sp->tcp_opts) / 4 << 4);
        th[13] = sp->tcp_flags;
        w16(th + 14, 65000);
        memset(th + 20, 1, sp->tcp_opts);       /* NOPs. */
        w16(th + 16, ref_fold(ref_pseudo(ip, sp->ipv6, 6, f.len - f.l4)));
    } else {
        w16(th + 4, (uint16_t) (f.len - f.l4));
        w16(th + 6, ref_fold(ref_pseudo(ip, sp->ipv6, 17, f.len - f.l4)));
    }
    for (size_t k = 0; k < sp->payload; k++) {
        f.b[f.hdr + k] = payload_byte(k);
    }
    return f;
}

static struct virtio_net_hdr
vnet(uint8_t flags, uint8_t gso_type, uint16_t gso_size, uint16_t cs,
     uint16_t co)
{
    struct virtio_net_hdr vh;

    memset(&vh, 0, sizeof vh);
    vh.flags = flags;
    vh.gso_type = gso_type;
    vh.gso_size = gso_size;
    vh.hdr_len = 0x7777;                /* A hint only: never used. */
    vh.csum_start = cs;
    vh.csum_offset = co;
    return vh;
}

/* The vnet header a kernel gives for super-packet 'f' of 'sp'. */
static struct virtio_net_hdr
gso_vnet(const struct spec *sp, const struct built *f, uint16_t gso_size)
{
    uint8_t type = !sp->tcp ? VIRTIO_NET_HDR_GSO_UDP_L4
                   : sp->ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6
                   : VIRTIO_NET_HDR_GSO_TCPV4;

    return vnet(VIRTIO_NET_HDR_F_NEEDS_CSUM, type, gso_size,
                (uint16_t) f->l4, sp->tcp ? 16 : 6);
}

/* ---- Checking segments. ---- */

/* Checks output 'i' of 'n' ('out', 'len' bytes) of the super-packet 'f'
 * built from 'sp', cut at 'gso_size', with 'tag' (0 or 4) bytes of VLAN
 * tag put back with TPID 'tpid' and TCI 'tci'; appends its payload to
 * 'data' at '*data_len'. */
static void
check_segment(const struct spec *sp, const struct built *f,
              uint16_t gso_size, const uint8_t *out, size_t len, uint32_t i,
              uint32_t n, size_t tag, uint16_t tpid, uint16_t tci,
              uint8_t *data, size_t *data_len)
{
    size_t pl = sp->payload - (size_t) i * gso_size;
    const uint8_t *ip, *th;
    size_t l4_len;

    if (pl > gso_size) {
        pl = gso_size;
    }
    assert_int_equal(len, f->hdr + tag + pl);

    /* L2: the addresses, the tag put back, then the frame's own tags. */
    assert_memory_equal(out, f->b, 12);
    if (tag) {
        assert_int_equal(r16(out + 12), tpid);
        assert_int_equal(r16(out + 14), tci);
    }
    assert_memory_equal(out + 12 + tag, f->b + 12, f->l3 - 12);

    ip = out + f->l3 + tag;
    th = out + f->l4 + tag;
    l4_len = len - (f->l4 + tag);
    if (sp->ipv6) {
        assert_int_equal(r16(ip + 4), len - (f->l3 + tag) - 40);
        /* Everything else of the IPv6 header and extensions unchanged. */
        assert_memory_equal(ip + 6, f->b + f->l3 + 6, f->l4 - f->l3 - 6);
    } else {
        size_t ihl = (size_t) (ip[0] & 0xf) * 4;

        assert_int_equal(r16(ip + 2), len - (f->l3 + tag));
        assert_int_equal(r16(ip + 4), (uint16_t) (sp->ip_id + i));
        assert_int_equal(ref_fold(ref_sum_words(ip, ihl, 0)), 0xffff);
        assert_memory_equal(ip + 6, f->b + f->l3 + 6, 4);      /* To TTL. */
        assert_memory_equal(ip + 12, f->b + f->l3 + 12, ihl - 12);
    }

    assert_memory_equal(th, f->b + f->l4, 4);                  /* Ports. */
    if (sp->tcp) {
        uint8_t flags = sp->tcp_flags;

        if (i > 0) {
            flags &= (uint8_t) ~TCP_CWR;
        }
        if (i + 1 < n) {
            flags &= (uint8_t) ~(TCP_FIN | TCP_PSH);
        }
        assert_int_equal(r32(th + 4), sp->seq + i * (uint32_t) gso_size);
        assert_int_equal(th[13], flags);
        assert_memory_equal(th + 8, f->b + f->l4 + 8, 5);      /* Ack. */
        assert_memory_equal(th + 14, f->b + f->l4 + 14, 2);
        assert_memory_equal(th + 18, f->b + f->l4 + 18,
                            f->hdr - f->l4 - 18);
        assert_true(ref_l4_csum_ok(ip, sp->ipv6, 6, th, l4_len));
    } else {
        assert_int_equal(r16(th + 4), l4_len);
        assert_int_not_equal(r16(th + 6), 0);
        assert_true(ref_l4_csum_ok(ip, sp->ipv6, 17, th, l4_len));
    }
    memcpy(data + *data_len, out + f->hdr + tag, pl);
    *data_len += pl;
}

/* Segments 'sp' at 'gso_size' with poff_out_write() (tag 'tpid'/'tci'
 * put back unless 'tpid' is 0) and checks every segment and the
 * reassembled payload.  Returns the number of segments. */
static uint32_t
segment_and_check(const struct spec *sp, uint16_t gso_size, uint16_t tpid,
                  uint16_t tci)
{
    struct built f = build(sp);
    struct virtio_net_hdr vh = gso_vnet(sp, &f, gso_size);
    size_t tag = tpid ? 4 : 0, data_len = 0;
    uint8_t *data = malloc(sp->payload);
    struct poff_frame pf;
    uint32_t n;

    assert_non_null(data);
    assert_int_equal(0, poff_frame_init(&pf, &vh, f.b, f.len, htons(tpid),
                                        htons(tci)));
    n = (uint32_t) ((sp->payload + gso_size - 1) / gso_size);
    assert_int_equal(pf.kind, POFF_GSO);
    assert_int_equal(pf.n_out, n);
    for (uint32_t i = 0; i < n; i++) {
        size_t len = poff_out_len(&pf, i);
        uint8_t *out = malloc(len);

        assert_non_null(out);
        poff_out_write(&pf, i, out);
        check_segment(sp, &f, gso_size, out, len, i, n, tag, tpid, tci,
                      data, &data_len);
        free(out);
    }
    assert_int_equal(data_len, sp->payload);
    assert_memory_equal(data, f.b + f.hdr, sp->payload);
    free(data);
    free(f.b);
    return n;
}

/* ---- GSO. ---- */

static void
test_tso4(void **state)
{
    struct spec sp = {
        .tcp = true, .tcp_opts = 12, .payload = 10000,
        .tcp_flags = TCP_CWR | TCP_ECE | TCP_PSH | TCP_FIN | TCP_ACK,
        .ip_id = 0xfffd, .seq = 0xfffff000,     /* Both wrap around. */
    };

    (void) state;
    assert_int_equal(7, segment_and_check(&sp, 1448, 0, 0));
    /* IPv4 options; the payload an exact multiple of the segment size. */
    sp.ip_opts = 8;
    sp.payload = 4 * 1000;
    assert_int_equal(4, segment_and_check(&sp, 1000, 0, 0));
    /* Less than one segment of payload: one segment, all flags kept. */
    sp.payload = 100;
    assert_int_equal(1, segment_and_check(&sp, 1448, 0, 0));
    /* One byte per segment. */
    sp.payload = 40;
    assert_int_equal(40, segment_and_check(&sp, 1, 0, 0));
}

static void
test_tso4_vlan(void **state)
{
    struct spec sp = {
        .tcp = true, .payload = 5000, .tcp_flags = TCP_PSH | TCP_ACK,
        .ip_id = 7, .seq = 1,
    };

    (void) state;
    /* A tag in the frame; one the kernel stripped, put back; both. */
    sp.n_tags = 1;
    assert_int_equal(4, segment_and_check(&sp, 1448, 0, 0));
    sp.n_tags = 0;
    assert_int_equal(4, segment_and_check(&sp, 1448, 0x8100, 0xa064));
    sp.n_tags = 1;
    assert_int_equal(4, segment_and_check(&sp, 1448, 0x88a8, 0x0005));
    sp.n_tags = 2;
    assert_int_equal(4, segment_and_check(&sp, 1448, 0, 0));
}

static void
test_tso6(void **state)
{
    struct spec sp = {
        .ipv6 = true, .tcp = true, .tcp_opts = 12, .payload = 20000,
        .tcp_flags = TCP_CWR | TCP_PSH | TCP_ACK, .seq = 12345,
    };

    (void) state;
    assert_int_equal(15, segment_and_check(&sp, 1428, 0, 0));
    /* A hop-by-hop header, QinQ in the frame. */
    sp.hbh_len = 16;
    sp.n_tags = 2;
    assert_int_equal(17, segment_and_check(&sp, 1200, 0, 0));
    sp.n_tags = 0;
    assert_int_equal(17, segment_and_check(&sp, 1200, 0x8100, 42));
}

static void
test_tso6_ecn(void **state)
{
    struct spec sp = {
        .ipv6 = true, .tcp = true, .payload = 3000,
        .tcp_flags = TCP_CWR | TCP_ECE | TCP_ACK | TCP_FIN,
    };
    struct built f = build(&sp);
    struct virtio_net_hdr vh = gso_vnet(&sp, &f, 1000);
    struct poff_frame pf;

    (void) state;
    vh.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
    assert_int_equal(0, poff_frame_init(&pf, &vh, f.b, f.len, 0, 0));
    assert_int_equal(3, pf.n_out);
    free(f.b);
    assert_int_equal(3, segment_and_check(&sp, 1000, 0, 0));
}

static void
test_uso(void **state)
{
    struct spec sp = { .payload = 30000 };

    (void) state;
    assert_int_equal(22, segment_and_check(&sp, 1400, 0, 0));
    sp.ipv6 = true;
    assert_int_equal(30, segment_and_check(&sp, 1000, 0, 0));
    sp.n_tags = 1;
    sp.payload = 1001;
    assert_int_equal(2, segment_and_check(&sp, 1000, 0x8100, 9));
}

/* Without NEEDS_CSUM (a GRO'd frame with DATA_VALID), the transport
 * checksum field holds anything: segments get correct ones anyway. */
static void
test_gso_without_needs_csum(void **state)
{
    struct spec sp = { .tcp = true, .payload = 3000, .tcp_flags = TCP_ACK };
    struct built f = build(&sp);
    struct virtio_net_hdr vh = vnet(VIRTIO_NET_HDR_F_DATA_VALID,
                                    VIRTIO_NET_HDR_GSO_TCPV4, 1448, 0, 0);
    struct poff_frame pf;

    (void) state;
    w16(f.b + f.l4 + 16, 0xdead);
    assert_int_equal(0, poff_frame_init(&pf, &vh, f.b, f.len, 0, 0));
    assert_int_equal(3, pf.n_out);
    for (uint32_t i = 0; i < pf.n_out; i++) {
        uint8_t out[1600];
        size_t len = poff_out_len(&pf, i);

        assert_true(len <= sizeof out);
        poff_out_write(&pf, i, out);
        assert_true(ref_l4_csum_ok(out + f.l3, false, 6, out + f.l4,
                               len - f.l4));
    }
    free(f.b);
}

/* ---- Partial checksums. ---- */

/* Builds a frame of 'sp', puts the pseudo-header sum in place (build()
 * did) and completes it with poff_csum_complete(), then checks it. */
static void
csum_case(const struct spec *sp)
{
    struct built f = build(sp);
    struct virtio_net_hdr vh = vnet(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0,
                                    (uint16_t) f.l4, sp->tcp ? 16 : 6);
    uint8_t proto = sp->tcp ? 6 : 17;
    struct poff_frame pf;
    uint8_t *out;

    /* Through a recipe, with a tag put back: the offsets move by 4. */
    assert_int_equal(0, poff_frame_init(&pf, &vh, f.b, f.len, htons(0x8100),
                                        htons(3)));
    assert_int_equal(pf.kind, POFF_CSUM);
    assert_int_equal(pf.n_out, 1);
    assert_int_equal(poff_out_len(&pf, 0), f.len + 4);
    out = malloc(f.len + 4);
    assert_non_null(out);
    poff_out_write(&pf, 0, out);
    assert_int_equal(r16(out + 12), 0x8100);
    assert_int_equal(r16(out + 14), 3);
    assert_memory_equal(out + 16, f.b + 12, f.l4 - 12);
    assert_true(ref_l4_csum_ok(out + f.l3 + 4, sp->ipv6, proto, out + f.l4 + 4,
                           f.len - f.l4));
    free(out);

    /* In place. */
    assert_int_equal(0, poff_csum_complete(&vh, f.b, f.len));
    assert_true(ref_l4_csum_ok(f.b + f.l3, sp->ipv6, proto, f.b + f.l4,
                           f.len - f.l4));
    free(f.b);
}

static void
test_csum_complete(void **state)
{
    struct spec sp = { .tcp = true, .tcp_opts = 4, .payload = 1001 };

    (void) state;
    csum_case(&sp);                     /* TCP over IPv4, odd length. */
    sp.ipv6 = true;
    csum_case(&sp);                     /* TCP over IPv6. */
    sp.tcp = false;
    sp.payload = 77;
    csum_case(&sp);                     /* UDP over IPv6. */
    sp.ipv6 = false;
    sp.n_tags = 2;
    csum_case(&sp);                     /* UDP over IPv4, QinQ. */
}

/* A TCP segment's checksum that comes out 0 stays 0, as the kernel's
 * segmentation leaves it (only UDP writes 0 as 0xffff). */
static void
test_tso_csum_zero(void **state)
{
    struct spec sp = { .tcp = true, .payload = 2, .tcp_flags = TCP_ACK };
    struct built f = build(&sp);
    struct virtio_net_hdr vh = gso_vnet(&sp, &f, 1448);
    struct poff_frame pf;
    uint8_t out[128];
    uint64_t sum;

    (void) state;
    /* Choose the payload word so that the whole segment, pseudo header
     * and a zero checksum field included, sums to 0xffff. */
    w16(f.b + f.hdr, 0);
    w16(f.b + f.l4 + 16, 0);
    sum = ref_fold(ref_sum_words(f.b + f.l4, f.len - f.l4,
                         ref_pseudo(f.b + f.l3, false, 6, f.len - f.l4)));
    w16(f.b + f.hdr, (uint16_t) ~sum);
    w16(f.b + f.l4 + 16, ref_fold(ref_pseudo(f.b + f.l3, false, 6, f.len - f.l4)));
    assert_int_equal(0, poff_frame_init(&pf, &vh, f.b, f.len, 0, 0));
    assert_int_equal(pf.n_out, 1);
    assert_true(poff_out_len(&pf, 0) <= sizeof out);
    poff_out_write(&pf, 0, out);
    assert_int_equal(r16(out + f.l4 + 16), 0);
    assert_true(ref_l4_csum_ok(out + f.l3, false, 6, out + f.l4, f.len - f.l4));
    free(f.b);
}

/* A UDP checksum that comes out 0 is written 0xffff (0 means none). */
static void
test_csum_udp_zero(void **state)
{
    struct spec sp = { .payload = 2 };
    struct built f = build(&sp);
    struct virtio_net_hdr vh = vnet(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0,
                                    (uint16_t) f.l4, 6);
    uint64_t sum;

    (void) state;
    /* Choose the payload word so that everything sums to 0xffff. */
    w16(f.b + f.hdr, 0);
    sum = ref_fold(ref_sum_words(f.b + f.l4, f.len - f.l4, 0));
    w16(f.b + f.hdr, (uint16_t) ~sum);
    assert_int_equal(0, poff_csum_complete(&vh, f.b, f.len));
    assert_int_equal(r16(f.b + f.l4 + 6), 0xffff);
    assert_true(ref_l4_csum_ok(f.b + f.l3, false, 17, f.b + f.l4, f.len - f.l4));
    free(f.b);
}

/* SCTP's checksum is a CRC32c, which the kernel leaves partial too. */
static void
test_csum_sctp(void **state)
{
    struct spec sp = { .payload = 52 };
    struct built f = build(&sp);
    struct virtio_net_hdr vh = vnet(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0,
                                    (uint16_t) f.l4, 8);
    uint8_t *copy;
    uint32_t crc;

    (void) state;
    f.b[f.l3 + 9] = 132;                /* SCTP; 'build' made it UDP. */
    memset(f.b + f.l4 + 8, 0, 4);
    copy = malloc(f.len);
    assert_non_null(copy);
    memcpy(copy, f.b, f.len);
    crc = crc32c(f.b + f.l4, f.len - f.l4);
    memset(f.b + f.l4 + 8, 0x5a, 4);    /* Whatever the sender left. */
    assert_int_equal(0, poff_csum_complete(&vh, f.b, f.len));
    /* Least significant byte first (RFC 9260 appendix A). */
    assert_int_equal(f.b[f.l4 + 8], crc & 0xff);
    assert_int_equal(f.b[f.l4 + 9], (crc >> 8) & 0xff);
    assert_int_equal(f.b[f.l4 + 10], (crc >> 16) & 0xff);
    assert_int_equal(f.b[f.l4 + 11], crc >> 24);

    /* Offset 8 of a UDP packet is payload: the Internet checksum goes
     * there (whatever a kernel meant by it). */
    copy[f.l3 + 9] = 17;
    assert_int_equal(0, poff_csum_complete(&vh, copy, f.len));
    assert_int_equal(ref_fold(ref_sum_words(copy + f.l4, f.len - f.l4, 0)), 0xffff);
    free(copy);
    free(f.b);
}

static void
test_plain(void **state)
{
    struct spec sp = { .tcp = true, .payload = 10 };
    struct built f = build(&sp);
    struct virtio_net_hdr vh = vnet(0, 0, 0, 0, 0);
    struct poff_frame pf;
    uint8_t out[200];

    (void) state;
    assert_int_equal(0, poff_frame_init(&pf, &vh, f.b, f.len, 0, 0));
    assert_int_equal(pf.kind, POFF_PLAIN);
    assert_int_equal(poff_out_len(&pf, 0), f.len);
    poff_out_write(&pf, 0, out);
    assert_memory_equal(out, f.b, f.len);
    /* Nothing to do in place either. */
    assert_int_equal(0, poff_csum_complete(&vh, f.b, f.len));
    assert_memory_equal(out, f.b, f.len);
    /* A super-packet is not for poff_csum_complete(). */
    vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    assert_int_equal(-EOPNOTSUPP, poff_csum_complete(&vh, f.b, f.len));
    free(f.b);
}

/* ---- Emitting into packets. ---- */

/* Checks that the 'n' packets of 'b' are outputs 'first'... of 'pf'. */
static void
check_emitted(const struct poff_frame *pf, const struct pkt_batch *b,
              uint32_t first)
{
    for (uint32_t k = 0; k < b->n; k++) {
        size_t len = poff_out_len(pf, first + k);
        uint8_t *want = malloc(len);

        assert_non_null(want);
        poff_out_write(pf, first + k, want);
        assert_int_equal(b->pkts[k]->len, len);
        assert_memory_equal(b->pkts[k]->data, want, len);
        free(want);
    }
}

static void
test_emit_batches(void **state)
{
    struct spec sp = { .tcp = true, .payload = 64000, .tcp_flags = TCP_ACK };
    struct built f = build(&sp);
    struct virtio_net_hdr vh = gso_vnet(&sp, &f, 1448);
    struct pkt_pool *pool = pkt_pool_create(64, PKT_HEADROOM + 2048);
    struct poff_frame pf;
    struct pkt_batch b;

    (void) state;
    assert_non_null(pool);
    assert_int_equal(0, poff_frame_init(&pf, &vh, f.b, f.len, 0, 0));
    assert_int_equal(pf.n_out, 45);

    /* A batch holds 32; the rest comes on the next call. */
    pkt_batch_init(&b);
    assert_int_equal(32, poff_emit(&pf, pool, &b));
    assert_false(poff_frame_done(&pf));
    check_emitted(&pf, &b, 0);
    for (uint32_t k = 0; k < b.n; k++) {
        assert_ptr_equal(b.pkts[k]->pool, pool);
    }
    pkt_batch_free(&b);
    assert_int_equal(13, poff_emit(&pf, pool, &b));
    assert_true(poff_frame_done(&pf));
    check_emitted(&pf, &b, 32);
    /* Done: nothing more. */
    assert_int_equal(0, poff_emit(&pf, pool, &b));
    assert_int_equal(b.n, 13);
    pkt_batch_free(&b);

    /* A batch that already holds packets gets the rest of its room. */
    assert_int_equal(0, poff_frame_init(&pf, &vh, f.b, f.len, 0, 0));
    assert_int_equal(1, pkt_pool_get(pool, &b, 1));
    assert_int_equal(31, poff_emit(&pf, pool, &b));
    assert_int_equal(pf.next, 31);
    pkt_batch_free(&b);

    pkt_pool_destroy(pool);
    free(f.b);
}

static void
test_emit_pool_dry(void **state)
{
    struct spec sp = { .tcp = true, .payload = 20000, .tcp_flags = TCP_ACK };
    struct built f = build(&sp);
    struct virtio_net_hdr vh = gso_vnet(&sp, &f, 1000);
    struct pkt_pool *pool = pkt_pool_create(8, PKT_HEADROOM + 2048);
    struct poff_frame pf;
    struct pkt_batch b, held;

    (void) state;
    assert_non_null(pool);
    assert_int_equal(0, poff_frame_init(&pf, &vh, f.b, f.len, 0, 0));
    assert_int_equal(pf.n_out, 20);

    /* 8 packets in the pool: 8 outputs, then nothing until some come
     * back; then it resumes where it stopped. */
    pkt_batch_init(&b);
    assert_int_equal(8, poff_emit(&pf, pool, &b));
    check_emitted(&pf, &b, 0);
    held = b;
    pkt_batch_init(&b);
    assert_int_equal(0, poff_emit(&pf, pool, &b));
    assert_int_equal(pf.next, 8);
    pkt_batch_free(&held);
    assert_int_equal(8, poff_emit(&pf, pool, &b));
    check_emitted(&pf, &b, 8);
    pkt_batch_free(&b);
    assert_int_equal(4, poff_emit(&pf, pool, &b));
    assert_true(poff_frame_done(&pf));
    pkt_batch_free(&b);

    pkt_pool_destroy(pool);
    free(f.b);
}

/* Outputs larger than the pool's buffers, or with no pool at all, get
 * packets of their own. */
static void
test_emit_large(void **state)
{
    struct spec sp = { .tcp = true, .payload = 30000, .tcp_flags = TCP_ACK };
    struct built f = build(&sp);
    struct virtio_net_hdr vh = gso_vnet(&sp, &f, 8948);   /* Jumbo MSS. */
    struct pkt_pool *pool = pkt_pool_create(8, PKT_HEADROOM + 2048);
    struct poff_frame pf;
    struct pkt_batch b;

    (void) state;
    assert_non_null(pool);
    assert_int_equal(0, poff_frame_init(&pf, &vh, f.b, f.len, htons(0x8100),
                                        htons(1)));
    pkt_batch_init(&b);
    assert_int_equal(4, poff_emit(&pf, pool, &b));
    check_emitted(&pf, &b, 0);
    for (uint32_t k = 0; k < b.n; k++) {
        assert_null(b.pkts[k]->pool);
        /* Room for a VLAN push, as on any packet. */
        assert_true(b.pkts[k]->data - b.pkts[k]->buf >= 4);
    }
    pkt_batch_free(&b);

    assert_int_equal(0, poff_frame_init(&pf, &vh, f.b, f.len, htons(0x8100),
                                        htons(1)));
    assert_int_equal(4, poff_emit(&pf, NULL, &b));
    check_emitted(&pf, &b, 0);
    pkt_batch_free(&b);

    /* A small frame with no pool. */
    vh = vnet(0, 0, 0, 0, 0);
    assert_int_equal(0, poff_frame_init(&pf, &vh, f.b, 60, 0, 0));
    assert_int_equal(1, poff_emit(&pf, NULL, &b));
    check_emitted(&pf, &b, 0);
    pkt_batch_free(&b);

    pkt_pool_destroy(pool);
    free(f.b);
}

/* ---- Malformed and unsupported. ---- */

/* Returns what poff_frame_init() says about the first 'len' bytes of 'f'
 * (an exact-size copy) with 'vh'. */
static int
init_result(const struct built *f, size_t len,
            const struct virtio_net_hdr *vh)
{
    uint8_t *copy = malloc(len ? len : 1);
    struct poff_frame pf;
    int error;

    assert_non_null(copy);
    memcpy(copy, f->b, len);
    error = poff_frame_init(&pf, vh, copy, len, htons(0x8100), htons(1));
    if (!error) {
        /* Accepted: every output can be written. */
        for (uint32_t i = 0; i < pf.n_out; i++) {
            uint8_t *out = malloc(poff_out_len(&pf, i));

            assert_non_null(out);
            poff_out_write(&pf, i, out);
            free(out);
        }
    }
    free(copy);
    return error;
}

static void
test_bad_csum(void **state)
{
    struct spec sp = { .tcp = true, .payload = 100 };
    struct built f = build(&sp);
    struct virtio_net_hdr vh;

    (void) state;
    /* Shorter than an Ethernet header. */
    vh = vnet(0, 0, 0, 0, 0);
    assert_int_equal(-EINVAL, init_result(&f, 13, &vh));
    assert_int_equal(-EINVAL, init_result(&f, 0, &vh));
    assert_int_equal(0, init_result(&f, 14, &vh));
    /* The checksum field beyond the frame, or at its very end. */
    vh = vnet(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, (uint16_t) f.len, 0);
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    vh = vnet(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 60000, 16);
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    vh = vnet(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, (uint16_t) f.l4, 65535);
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    vh = vnet(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, (uint16_t) (f.len - 2), 1);
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    vh = vnet(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, (uint16_t) (f.len - 2), 0);
    assert_int_equal(0, init_result(&f, f.len, &vh));
    /* Inside the Ethernet header. */
    vh = vnet(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 13, 16);
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    /* ECN without GSO. */
    vh = vnet(0, VIRTIO_NET_HDR_GSO_ECN, 0, 0, 0);
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    free(f.b);
}

static void
test_bad_gso_type(void **state)
{
    struct spec tcp4 = { .tcp = true, .payload = 3000 };
    struct spec tcp6 = { .tcp = true, .ipv6 = true, .payload = 3000 };
    struct spec udp4 = { .payload = 3000 };
    struct built t4 = build(&tcp4), t6 = build(&tcp6), u4 = build(&udp4);
    struct virtio_net_hdr vh;

    (void) state;
    /* The protocols must match the type. */
    vh = vnet(0, VIRTIO_NET_HDR_GSO_TCPV4, 1000, 0, 0);
    assert_int_equal(0, init_result(&t4, t4.len, &vh));
    assert_int_equal(-EINVAL, init_result(&u4, u4.len, &vh));
    assert_int_equal(-EINVAL, init_result(&t6, t6.len, &vh));
    vh = vnet(0, VIRTIO_NET_HDR_GSO_TCPV6, 1000, 0, 0);
    assert_int_equal(0, init_result(&t6, t6.len, &vh));
    assert_int_equal(-EINVAL, init_result(&t4, t4.len, &vh));
    vh = vnet(0, VIRTIO_NET_HDR_GSO_UDP_L4, 1000, 0, 0);
    assert_int_equal(0, init_result(&u4, u4.len, &vh));
    assert_int_equal(-EINVAL, init_result(&t4, t4.len, &vh));
    /* ECN goes with TCP only. */
    vh.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
    assert_int_equal(-EINVAL, init_result(&u4, u4.len, &vh));
    vh = vnet(0, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1000, 0,
              0);
    assert_int_equal(0, init_result(&t4, t4.len, &vh));
    /* UFO and unknown types: not supported. */
    vh = vnet(0, VIRTIO_NET_HDR_GSO_UDP, 1000, 0, 0);
    assert_int_equal(-EOPNOTSUPP, init_result(&u4, u4.len, &vh));
    for (unsigned t = 2; t < 0x100; t++) {
        uint8_t base = (uint8_t) (t & ~VIRTIO_NET_HDR_GSO_ECN);

        if (base == 0 || base == VIRTIO_NET_HDR_GSO_TCPV4
            || base == VIRTIO_NET_HDR_GSO_TCPV6
            || base == VIRTIO_NET_HDR_GSO_UDP_L4) {
            continue;
        }
        vh = vnet(0, (uint8_t) t, 1000, 0, 0);
        assert_int_equal(-EOPNOTSUPP, init_result(&t4, t4.len, &vh));
    }
    /* gso_size 0. */
    vh = vnet(0, VIRTIO_NET_HDR_GSO_TCPV4, 0, 0, 0);
    assert_int_equal(-EINVAL, init_result(&t4, t4.len, &vh));
    /* NEEDS_CSUM offsets that are not the transport checksum's. */
    vh = vnet(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1000,
              (uint16_t) t4.l4, 16);
    assert_int_equal(0, init_result(&t4, t4.len, &vh));
    vh.csum_offset = 6;
    assert_int_equal(-EINVAL, init_result(&t4, t4.len, &vh));
    vh.csum_offset = 16;
    vh.csum_start = (uint16_t) (t4.l4 + 4);
    assert_int_equal(-EINVAL, init_result(&t4, t4.len, &vh));
    vh = vnet(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP_L4, 1000,
              (uint16_t) u4.l4, 16);
    assert_int_equal(-EINVAL, init_result(&u4, u4.len, &vh));
    free(t4.b);
    free(t6.b);
    free(u4.b);
}

static void
test_bad_gso_headers(void **state)
{
    struct spec tcp4 = { .tcp = true, .tcp_opts = 8, .payload = 3000 };
    struct built f = build(&tcp4);
    struct virtio_net_hdr vh = vnet(0, VIRTIO_NET_HDR_GSO_TCPV4, 1000, 0, 0);
    uint8_t *ip = f.b + f.l3, *th = f.b + f.l4;

    (void) state;
    /* Truncated anywhere in the headers, or no payload at all. */
    for (size_t len = 0; len <= f.hdr; len++) {
        assert_int_equal(-EINVAL, init_result(&f, len, &vh));
    }
    assert_int_equal(0, init_result(&f, f.hdr + 1, &vh));

    /* Not IP. */
    w16(f.b + 12, 0x0806);
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    w16(f.b + 12, 0x0800);
    /* IPv4 version, IHL. */
    ip[0] = 0x65;
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    ip[0] = 0x44;
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    ip[0] = 0x4f;                       /* 60 bytes: into the payload. */
    assert_int_equal(-EINVAL, init_result(&f, f.hdr + 10, &vh));
    ip[0] = 0x45;
    /* Fragments: MF, or an offset. */
    w16(ip + 6, 0x2000);
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    w16(ip + 6, 0x0001);
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    w16(ip + 6, 0x4000);
    /* TCP data offset below 5, or beyond the frame. */
    th[12] = 0x40;
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    th[12] = 0xf0;
    assert_int_equal(-EINVAL, init_result(&f, f.l4 + 50, &vh));
    th[12] = 0x70;
    assert_int_equal(0, init_result(&f, f.len, &vh));
    free(f.b);
}

static void
test_bad_gso_ipv6(void **state)
{
    struct spec sp = { .tcp = true, .ipv6 = true, .hbh_len = 8,
                       .payload = 3000 };
    struct built f = build(&sp);
    struct virtio_net_hdr vh = vnet(0, VIRTIO_NET_HDR_GSO_TCPV6, 1000, 0, 0);
    uint8_t *ip = f.b + f.l3, *ext = ip + 40;

    (void) state;
    assert_int_equal(0, init_result(&f, f.len, &vh));
    /* An extension header that runs past the frame. */
    ext[1] = 255;
    assert_int_equal(-EINVAL, init_result(&f, f.l4 + 100, &vh));
    ext[1] = 0;
    /* A fragment header. */
    ip[6] = 44;
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    /* AH, ESP. */
    ip[6] = 51;
    assert_int_equal(-EOPNOTSUPP, init_result(&f, f.len, &vh));
    ip[6] = 50;
    assert_int_equal(-EOPNOTSUPP, init_result(&f, f.len, &vh));
    /* A routing header: fine with no segments left, not with some. */
    ip[6] = 43;
    ext[3] = 0;
    assert_int_equal(0, init_result(&f, f.len, &vh));
    ext[3] = 1;
    assert_int_equal(-EOPNOTSUPP, init_result(&f, f.len, &vh));
    ext[3] = 0;
    /* No next header: not TCP. */
    ext[0] = 59;
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    ext[0] = 6;
    /* Version. */
    ip[0] = 0x40;
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    free(f.b);
}

/* Eight extension headers are walked, not nine. */
static void
test_bad_gso_ipv6_chain(void **state)
{
    struct spec sp = { .tcp = true, .ipv6 = true, .hbh_len = 72,
                       .payload = 3000 };
    struct built f = build(&sp);
    struct virtio_net_hdr vh = vnet(0, VIRTIO_NET_HDR_GSO_TCPV6, 1000, 0, 0);
    uint8_t *ext = f.b + f.l3 + 40;

    (void) state;
    /* Nine headers of 8 bytes: hop-by-hop, then destination options. */
    memset(ext, 0, 72);
    for (int i = 0; i < 9; i++) {
        ext[8 * i] = i < 8 ? 60 : 6;
    }
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    /* Eight: the first header takes the 16 bytes of the first two. */
    ext[1] = 1;
    ext[0] = 60;
    assert_int_equal(0, init_result(&f, f.len, &vh));
    free(f.b);
}

/* A 'gso_size' so large that a segment's IP length would overflow. */
static void
test_bad_gso_size(void **state)
{
    struct spec sp = { .payload = 70000 };
    struct built f = build(&sp);
    struct virtio_net_hdr vh = vnet(0, VIRTIO_NET_HDR_GSO_UDP_L4, 65535, 0,
                                    0);

    (void) state;
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    /* IPv4: header 20 + UDP 8 + payload must stay within 65535. */
    vh.gso_size = 65535 - 28;
    assert_int_equal(0, init_result(&f, f.len, &vh));
    vh.gso_size = 65535 - 27;
    assert_int_equal(-EINVAL, init_result(&f, f.len, &vh));
    free(f.b);
}

/* ---- The afpacket port, without a network. ---- */

static void
test_afpacket_errors(void **state)
{
    struct errbuf err;
    struct port *port;

    (void) state;
    errbuf_clear(&err);
    assert_int_equal(-ENODEV, port_open("afpacket", "weir-nodev0", NULL,
                                        &port, &err));
    assert_null(port);
    assert_non_null(strstr(err.msg, "no such network device"));

    /* Options come first: none is known. */
    errbuf_clear(&err);
    assert_int_equal(-EINVAL, port_open("afpacket", "weir-nodev0", "foo=1",
                                        &port, &err));
    assert_non_null(strstr(err.msg, "unknown option"));
    errbuf_clear(&err);
    assert_int_equal(-EINVAL, port_open("afpacket", "lo", "n_rxq=2", &port,
                                        &err));
    assert_non_null(strstr(err.msg, "unknown option"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tso4),
        cmocka_unit_test(test_tso4_vlan),
        cmocka_unit_test(test_tso6),
        cmocka_unit_test(test_tso6_ecn),
        cmocka_unit_test(test_uso),
        cmocka_unit_test(test_gso_without_needs_csum),
        cmocka_unit_test(test_csum_complete),
        cmocka_unit_test(test_csum_udp_zero),
        cmocka_unit_test(test_tso_csum_zero),
        cmocka_unit_test(test_csum_sctp),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_emit_batches),
        cmocka_unit_test(test_emit_pool_dry),
        cmocka_unit_test(test_emit_large),
        cmocka_unit_test(test_bad_csum),
        cmocka_unit_test(test_bad_gso_type),
        cmocka_unit_test(test_bad_gso_headers),
        cmocka_unit_test(test_bad_gso_ipv6),
        cmocka_unit_test(test_bad_gso_ipv6_chain),
        cmocka_unit_test(test_bad_gso_size),
        cmocka_unit_test(test_afpacket_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
