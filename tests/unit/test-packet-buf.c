/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for packet/packet.c: packet buffers (create, clone, push,
 * pull, reallocation), pools and batches, and the header offsets that
 * packet_parse() records (fkey_extract_layout()).  Frames are built byte
 * by byte (frames.h), as in test-packet.c, so each offset can be checked
 * against the bytes that put it there. */

#include "packet/packet.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "frames.h"

/* A VLAN tag's TCI and the type after it (the TPID is already there). */
static void
put_tag(struct frame *f, uint16_t tci, uint16_t next)
{
    put16(f, tci);
    put16(f, next);
}

static void
put_udp(struct frame *f, uint16_t sport, uint16_t dport)
{
    put16(f, sport);
    put16(f, dport);
    put16(f, 8);
    put16(f, 0);
}

/* Makes a packet of the first 'n' bytes of 'f', parses it and checks the
 * three offsets (PKT_OFS_NONE for none) and packet_parse()'s result
 * 'rc'.  Returns the key. */
static struct flow_key
parse_n(const struct frame *f, size_t n, int rc, uint16_t mpls,
        uint16_t l3, uint16_t l4)
{
    struct packet *p = packet_create(f->b, n);
    struct flow_key key, ref;

    assert_non_null(p);
    p->md.in_port = 7;
    assert_int_equal(rc, packet_parse(p, &key));
    assert_int_equal(mpls, p->mpls_ofs);
    assert_int_equal(l3, p->l3_ofs);
    assert_int_equal(l4, p->l4_ofs);
    assert_int_equal(7, key.in_port);

    /* The same key as fkey_extract(), byte for byte. */
    fkey_extract(f->b, n, &p->md, &ref);
    assert_memory_equal(&ref, &key, sizeof key);
    packet_free(p);
    return key;
}

static struct flow_key
parse(const struct frame *f, uint16_t mpls, uint16_t l3, uint16_t l4)
{
    return parse_n(f, f->n, 0, mpls, l3, l4);
}

#define NONE PKT_OFS_NONE

/* --- Buffers. ----------------------------------------------------------- */

static void
test_create(void **state)
{
    static const uint8_t bytes[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    struct packet *p = packet_create(bytes, sizeof bytes);

    (void) state;
    assert_non_null(p);
    assert_int_equal(sizeof bytes, p->len);
    assert_memory_equal(bytes, p->data, sizeof bytes);
    assert_int_equal(PKT_HEADROOM, p->data - p->buf);
    assert_true(p->alloc_len >= PKT_HEADROOM + sizeof bytes);
    assert_int_equal(0, p->md.in_port);
    assert_int_equal(0, p->md.priority);
    assert_int_equal(0, p->md.skb_mark);
    assert_int_equal(0, p->md.recirc_id);
    assert_int_equal(0, p->md.dp_hash);
    assert_int_equal(0, p->cutlen);
    assert_int_equal(NONE, p->mpls_ofs);
    assert_int_equal(NONE, p->l3_ofs);
    assert_int_equal(NONE, p->l4_ofs);
    assert_null(p->pool);
    packet_free(p);

    /* Empty packets exist (a pool hands them out too). */
    p = packet_create(NULL, 0);
    assert_non_null(p);
    assert_int_equal(0, p->len);
    packet_free(p);

    packet_free(NULL);
}

static void
test_clone(void **state)
{
    static const uint8_t bytes[] = { 0xde, 0xad, 0xbe, 0xef, 0x01 };
    struct packet *p = packet_create(bytes, sizeof bytes);
    struct packet *c;

    (void) state;
    assert_non_null(p);
    p->md = (struct pkt_metadata) {
        .in_port = 3, .priority = 4, .skb_mark = 5, .recirc_id = 6,
        .dp_hash = 7,
    };
    p->cutlen = 2;
    p->mpls_ofs = 14;
    p->l3_ofs = 18;
    p->l4_ofs = 38;

    c = packet_clone(p);
    assert_non_null(c);
    assert_ptr_not_equal(p->data, c->data);
    assert_int_equal(p->len, c->len);
    assert_memory_equal(p->data, c->data, p->len);
    assert_memory_equal(&p->md, &c->md, sizeof p->md);
    assert_int_equal(2, c->cutlen);
    assert_int_equal(14, c->mpls_ofs);
    assert_int_equal(18, c->l3_ofs);
    assert_int_equal(38, c->l4_ofs);
    assert_null(c->pool);

    /* Independent bytes. */
    c->data[0] = 0;
    assert_int_equal(0xde, p->data[0]);
    packet_free(p);
    assert_int_equal(0xbe, c->data[2]);
    packet_free(c);
}

static void
test_push_pull(void **state)
{
    static const uint8_t bytes[] = { 0xaa, 0xbb, 0xcc, 0xdd };
    struct packet *p = packet_create(bytes, sizeof bytes);
    uint8_t *buf, *h;

    (void) state;
    assert_non_null(p);
    buf = p->buf;

    /* Within the headroom: the same buffer, 'data' moves back. */
    h = packet_push(p, 4);
    assert_ptr_equal(h, p->data);
    assert_ptr_equal(buf, p->buf);
    assert_int_equal(8, p->len);
    assert_int_equal(PKT_HEADROOM - 4, p->data - p->buf);
    memset(h, 0x11, 4);
    assert_memory_equal(bytes, p->data + 4, sizeof bytes);

    /* All the headroom. */
    h = packet_push(p, PKT_HEADROOM - 4);
    assert_non_null(h);
    assert_ptr_equal(buf, p->data);
    assert_int_equal(PKT_HEADROOM + 4, p->len);

    /* Pull it back, then past the original start. */
    packet_pull(p, PKT_HEADROOM - 4);
    assert_int_equal(8, p->len);
    packet_pull(p, 5);
    assert_int_equal(3, p->len);
    assert_int_equal(0xbb, p->data[0]);
    packet_pull(p, 3);
    assert_int_equal(0, p->len);

    /* Pushing after a pull reuses the room the pull made. */
    h = packet_push(p, 9);
    assert_non_null(h);
    assert_ptr_equal(buf, p->buf);
    assert_int_equal(9, p->len);
    packet_free(p);
}

static void
test_push_realloc(void **state)
{
    struct packet *p;
    uint8_t bytes[300];
    uint8_t *old_buf, *h;

    (void) state;
    for (size_t i = 0; i < sizeof bytes; i++) {
        bytes[i] = (uint8_t) i;
    }
    p = packet_create(bytes, sizeof bytes);
    assert_non_null(p);
    p->l3_ofs = 14;
    old_buf = p->buf;

    /* More than the headroom: a new buffer, the bytes moved intact. */
    h = packet_push(p, PKT_HEADROOM + 50);
    assert_non_null(h);
    assert_ptr_not_equal(old_buf, p->buf);
    assert_ptr_equal(h, p->data);
    assert_int_equal(sizeof bytes + PKT_HEADROOM + 50, p->len);
    assert_memory_equal(bytes, p->data + PKT_HEADROOM + 50, sizeof bytes);
    assert_true(p->data >= p->buf);
    assert_true(p->data + p->len <= p->buf + p->alloc_len);
    assert_int_equal(14, p->l3_ofs);           /* Not adjusted. */
    memset(h, 0x77, PKT_HEADROOM + 50);

    /* The new buffer has PKT_HEADROOM to spare: no second reallocation
     * for the next pushes. */
    old_buf = p->buf;
    assert_int_equal(PKT_HEADROOM, p->data - p->buf);
    assert_non_null(packet_push(p, PKT_HEADROOM));
    assert_ptr_equal(old_buf, p->buf);

    /* A second reallocation frees the first separate buffer (ASan would
     * report the leak). */
    assert_non_null(packet_push(p, 1));
    assert_ptr_not_equal(old_buf, p->buf);
    assert_memory_equal(bytes, p->data + p->len - sizeof bytes,
                        sizeof bytes);

    /* A clone of a reallocated packet is an ordinary packet. */
    {
        struct packet *c = packet_clone(p);

        assert_non_null(c);
        assert_int_equal(p->len, c->len);
        assert_memory_equal(p->data, c->data, p->len);
        assert_int_equal(PKT_HEADROOM, c->data - c->buf);
        packet_free(c);
    }
    packet_free(p);

    /* A push whose size cannot be represented fails and changes
     * nothing. */
    p = packet_create(bytes, 10);
    assert_non_null(p);
    assert_null(packet_push(p, (size_t) UINT32_MAX));
    assert_int_equal(10, p->len);
    assert_memory_equal(bytes, p->data, 10);
    packet_free(p);
}

/* --- Pools and batches. ------------------------------------------------- */

static void
test_pool_basic(void **state)
{
    struct pkt_pool *pool = pkt_pool_create(40, 256);
    struct pkt_batch b, b2;

    (void) state;
    assert_non_null(pool);

    /* At most a batch at a time. */
    pkt_batch_init(&b);
    assert_int_equal(PKT_BATCH_MAX, pkt_pool_get(pool, &b, 100));
    assert_int_equal(PKT_BATCH_MAX, b.n);
    assert_int_equal(0, pkt_pool_get(pool, &b, 1));

    /* The rest, then an empty pool. */
    pkt_batch_init(&b2);
    assert_int_equal(40 - PKT_BATCH_MAX, pkt_pool_get(pool, &b2, 100));
    assert_int_equal(0, pkt_pool_get(pool, &b2, 1));

    for (uint32_t i = 0; i < b.n; i++) {
        struct packet *p = b.pkts[i];

        assert_ptr_equal(pool, p->pool);
        assert_int_equal(0, p->len);
        assert_int_equal(256, p->alloc_len);
        assert_int_equal(PKT_HEADROOM, p->data - p->buf);
        assert_int_equal(NONE, p->l3_ofs);
        for (uint32_t j = 0; j < i; j++) {
            assert_ptr_not_equal(p, b.pkts[j]);
        }
    }

    /* One packet back, and it is the next one out (LIFO). */
    {
        struct packet *p = b2.pkts[--b2.n];
        struct pkt_batch one;

        packet_free(p);
        pkt_batch_init(&one);
        assert_int_equal(1, pkt_pool_get(pool, &one, 1));
        assert_ptr_equal(p, one.pkts[0]);
        pkt_batch_add(&b2, one.pkts[0]);
    }

    pkt_batch_free(&b);
    assert_int_equal(0, b.n);
    pkt_batch_free(&b2);

    /* Everything is back: the pool hands out all 40 again. */
    pkt_batch_init(&b);
    assert_int_equal(PKT_BATCH_MAX, pkt_pool_get(pool, &b, PKT_BATCH_MAX));
    pkt_batch_init(&b2);
    assert_int_equal(40 - PKT_BATCH_MAX, pkt_pool_get(pool, &b2, 100));
    pkt_batch_free(&b);
    pkt_batch_free(&b2);
    pkt_pool_destroy(pool);
    pkt_pool_destroy(NULL);

    /* No room for the headroom: refused. */
    assert_null(pkt_pool_create(4, PKT_HEADROOM));
}

/* packet_fill(): into the pool buffer when the frame fits, else an
 * ordinary packet (and the pool buffer goes back). */
static void
test_pool_fill(void **state)
{
    struct pkt_pool *pool = pkt_pool_create(2, PKT_HEADROOM + 64);
    uint8_t frame[100];
    struct pkt_batch b;
    struct packet *p;

    (void) state;
    assert_non_null(pool);
    for (size_t i = 0; i < sizeof frame; i++) {
        frame[i] = (uint8_t) i;
    }
    pkt_batch_init(&b);
    assert_int_equal(pkt_pool_get(pool, &b, 2), 2);
    p = packet_fill(b.pkts[0], frame, 64);
    assert_ptr_equal(p, b.pkts[0]);
    assert_ptr_equal(p->pool, pool);
    assert_int_equal(p->len, 64);
    assert_memory_equal(p->data, frame, 64);
    packet_free(p);
    p = packet_fill(b.pkts[1], frame, sizeof frame);
    assert_non_null(p);
    assert_null(p->pool);
    assert_int_equal(p->len, sizeof frame);
    assert_memory_equal(p->data, frame, sizeof frame);
    packet_free(p);
    /* Both pool buffers are back. */
    pkt_batch_init(&b);
    assert_int_equal(pkt_pool_get(pool, &b, 3), 2);
    pkt_batch_free(&b);
    pkt_pool_destroy(pool);
}

static void
test_pool_reset(void **state)
{
    static const uint8_t bytes[64] = { 0x45 };
    struct pkt_pool *pool = pkt_pool_create(1, 2048);
    struct pkt_batch b;
    struct packet *p;

    (void) state;
    assert_non_null(pool);
    pkt_batch_init(&b);
    assert_int_equal(1, pkt_pool_get(pool, &b, 1));
    p = b.pkts[0];

    /* Use it like a port does: bytes after the headroom, then parse. */
    memcpy(p->data, bytes, sizeof bytes);
    p->len = sizeof bytes;
    p->md.in_port = 9;
    p->md.recirc_id = 3;
    p->cutlen = 10;
    p->l3_ofs = 14;
    p->mpls_ofs = 14;
    p->l4_ofs = 34;
    packet_pull(p, 14);
    packet_free(p);

    /* It comes back fresh. */
    pkt_batch_init(&b);
    assert_int_equal(1, pkt_pool_get(pool, &b, 1));
    assert_ptr_equal(p, b.pkts[0]);
    assert_int_equal(0, p->len);
    assert_int_equal(PKT_HEADROOM, p->data - p->buf);
    assert_int_equal(0, p->md.in_port);
    assert_int_equal(0, p->md.recirc_id);
    assert_int_equal(0, p->cutlen);
    assert_int_equal(NONE, p->mpls_ofs);
    assert_int_equal(NONE, p->l3_ofs);
    assert_int_equal(NONE, p->l4_ofs);
    pkt_batch_free(&b);
    pkt_pool_destroy(pool);
}

static void
test_pool_push_and_clone(void **state)
{
    static const uint8_t bytes[100] = { 1, 2, 3 };
    struct pkt_pool *pool = pkt_pool_create(2, PKT_HEADROOM + 200);
    struct pkt_batch b;
    struct packet *p, *c;

    (void) state;
    assert_non_null(pool);
    pkt_batch_init(&b);
    assert_int_equal(1, pkt_pool_get(pool, &b, 1));
    p = b.pkts[0];
    memcpy(p->data, bytes, sizeof bytes);
    p->len = sizeof bytes;

    /* Within the headroom: fine. */
    assert_non_null(packet_push(p, PKT_HEADROOM));
    assert_int_equal(PKT_HEADROOM + sizeof bytes, p->len);

    /* Beyond the fixed buffer: refused, packet unchanged. */
    assert_null(packet_push(p, 1));
    assert_int_equal(PKT_HEADROOM + sizeof bytes, p->len);
    assert_ptr_equal(p->buf, p->data);
    packet_pull(p, PKT_HEADROOM);
    assert_memory_equal(bytes, p->data, sizeof bytes);

    /* A clone of a pooled packet is an ordinary one, which can grow. */
    c = packet_clone(p);
    assert_non_null(c);
    assert_null(c->pool);
    assert_non_null(packet_push(c, 3 * PKT_HEADROOM));
    assert_memory_equal(bytes, c->data + 3 * PKT_HEADROOM, sizeof bytes);

    /* A batch mixing pooled and ordinary packets frees each its way. */
    pkt_batch_add(&b, c);
    pkt_batch_free(&b);
    pkt_batch_init(&b);
    assert_int_equal(2, pkt_pool_get(pool, &b, 2));
    pkt_batch_free(&b);
    pkt_pool_destroy(pool);
}

static void
test_batch_two_pools(void **state)
{
    struct pkt_pool *a = pkt_pool_create(8, 512);
    struct pkt_pool *z = pkt_pool_create(8, 512);
    struct pkt_batch ba, bz, mix;

    (void) state;
    assert_non_null(a);
    assert_non_null(z);
    pkt_batch_init(&ba);
    pkt_batch_init(&bz);
    assert_int_equal(8, pkt_pool_get(a, &ba, 8));
    assert_int_equal(8, pkt_pool_get(z, &bz, 8));

    /* Interleaved, with ordinary packets between. */
    pkt_batch_init(&mix);
    for (int i = 0; i < 8; i++) {
        pkt_batch_add(&mix, ba.pkts[i]);
        pkt_batch_add(&mix, bz.pkts[i]);
        if (i % 3 == 0) {
            pkt_batch_add(&mix, packet_create("x", 1));
        }
    }
    pkt_batch_free(&mix);
    assert_int_equal(0, mix.n);

    /* Both pools are full again. */
    pkt_batch_init(&ba);
    pkt_batch_init(&bz);
    assert_int_equal(8, pkt_pool_get(a, &ba, 9));
    assert_int_equal(8, pkt_pool_get(z, &bz, 9));
    pkt_batch_free(&ba);
    pkt_batch_free(&bz);
    pkt_pool_destroy(a);
    pkt_pool_destroy(z);
}

/* pkt_pool_destroy() with packets out: the pool lives until the last one
 * is back (ASan reports a leak or a use after free otherwise). */
static void
test_pool_destroy_with_packets_out(void **state)
{
    struct pkt_pool *pool = pkt_pool_create(8, 256);
    struct pkt_batch b;
    struct packet *last;

    (void) state;
    assert_non_null(pool);
    pkt_batch_init(&b);
    assert_int_equal(5, pkt_pool_get(pool, &b, 5));
    last = b.pkts[--b.n];
    pkt_pool_destroy(pool);

    /* Still usable memory. */
    memset(last->data, 0xee, 64);
    last->len = 64;
    pkt_batch_free(&b);
    packet_free(last);          /* Frees the pool. */

    /* Destroying an idle pool frees it at once. */
    pkt_pool_destroy(pkt_pool_create(2, 256));
}

/* Threads that take batches from one pool and give them back, each
 * packet also freed alone now and then, for the sanitizers (the TSan
 * suite runs this file too). */
struct pool_worker {
    struct pkt_pool *pool;
    unsigned int seed;
    size_t got;
};

static void *
pool_worker_main(void *arg)
{
    struct pool_worker *w = arg;

    for (int round = 0; round < 2000; round++) {
        struct pkt_batch b;
        size_t n;

        pkt_batch_init(&b);
        n = pkt_pool_get(w->pool, &b, 1 + (size_t) (rand_r(&w->seed) % 16));
        w->got += n;
        for (size_t i = 0; i < n; i++) {
            b.pkts[i]->data[0] = (uint8_t) round;
            b.pkts[i]->len = 1;
        }
        if (n && round % 5 == 0) {
            packet_free(b.pkts[--b.n]);
        }
        pkt_batch_free(&b);
    }
    return NULL;
}

static void
test_pool_threads(void **state)
{
    struct pkt_pool *pool = pkt_pool_create(48, 256);
    struct pool_worker w[4];
    pthread_t th[4];
    struct pkt_batch b1, b2;

    (void) state;
    assert_non_null(pool);
    for (int i = 0; i < 4; i++) {
        w[i] = (struct pool_worker) { .pool = pool, .seed = (unsigned) i };
        assert_int_equal(0, pthread_create(&th[i], NULL, pool_worker_main,
                                           &w[i]));
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(0, pthread_join(th[i], NULL));
        assert_true(w[i].got > 0);
    }

    /* Nothing lost, nothing doubled. */
    pkt_batch_init(&b1);
    pkt_batch_init(&b2);
    assert_int_equal(32, pkt_pool_get(pool, &b1, 32));
    assert_int_equal(16, pkt_pool_get(pool, &b2, 32));
    pkt_batch_free(&b1);
    pkt_batch_free(&b2);
    pkt_pool_destroy(pool);
}

/* --- Header offsets (packet_parse()). ----------------------------------- */

static void
test_ofs_ethernet(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    /* LLDP: no L3 the key knows. */
    put_eth(&f, 0x88cc);
    put_zeros(&f, 30);
    parse(&f, NONE, NONE, NONE);

    /* IPv4/TCP. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IP);
    put_ipv4(&f, 5, IPPROTO_TCP, 0, 100);
    put_tcp(&f, 1000, 80, 5, 0x002);
    k = parse(&f, NONE, 14, 34);
    assert_int_equal(htons(80), k.tp_dst);

    /* 802.2 with SNAP carrying IPv4/UDP: L3 after the 8 SNAP bytes. */
    f.n = 0;
    put_eth(&f, 100);
    put8(&f, 0xaa);
    put8(&f, 0xaa);
    put8(&f, 0x03);
    put_zeros(&f, 3);
    put16(&f, ETH_TYPE_IP);
    put_ipv4(&f, 5, IPPROTO_UDP, 0, 100);
    put_udp(&f, 53, 5353);
    parse(&f, NONE, 22, 42);

    /* Shorter than an Ethernet header: no key, no offsets. */
    parse_n(&f, 13, -EINVAL, NONE, NONE, NONE);
    parse_n(&f, 0, -EINVAL, NONE, NONE, NONE);
}

static void
test_ofs_vlan(void **state)
{
    struct frame f = { .n = 0 };

    (void) state;
    /* One tag. */
    put_eth(&f, ETH_TYPE_VLAN_8021Q);
    put_tag(&f, 10, ETH_TYPE_IP);
    put_ipv4(&f, 5, IPPROTO_UDP, 0, 100);
    put_udp(&f, 1, 2);
    parse(&f, NONE, 18, 38);

    /* QinQ. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_VLAN_8021AD);
    put_tag(&f, 100, ETH_TYPE_VLAN_8021Q);
    put_tag(&f, 10, ETH_TYPE_IPV6);
    put_ipv6(&f, 0, 0, IPPROTO_UDP);
    put_udp(&f, 1, 2);
    parse(&f, NONE, 22, 62);

    /* A truncated tag: the TPID is the type, nothing after it. */
    parse_n(&f, 16, 0, NONE, NONE, NONE);
}

static void
test_ofs_mpls(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    /* Two labels, bottom of stack on the second; IPv4 behind them is not
     * parsed, so no L3 offset. */
    put_eth(&f, ETH_TYPE_MPLS);
    put32(&f, (16u << 12) | 64);
    put32(&f, (17u << 12) | 0x100 | 64);
    put_ipv4(&f, 5, IPPROTO_TCP, 0, 100);
    put_tcp(&f, 1, 2, 5, 0x002);
    k = parse(&f, 14, NONE, NONE);
    assert_int_equal(2, k.n_mpls);

    /* Behind a VLAN tag. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_VLAN_8021Q);
    put_tag(&f, 5, ETH_TYPE_MPLS_MCAST);
    put32(&f, (16u << 12) | 0x100 | 64);
    parse(&f, 18, NONE, NONE);

    /* No bottom of stack before the end: no labels in the key, so no
     * offset either. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_MPLS);
    put32(&f, (16u << 12) | 64);
    put32(&f, (17u << 12) | 64);
    k = parse(&f, NONE, NONE, NONE);
    assert_int_equal(0, k.n_mpls);

    /* Half a label. */
    parse_n(&f, 16, 0, NONE, NONE, NONE);
}

static void
test_ofs_ipv4(void **state)
{
    struct frame f = { .n = 0 };

    (void) state;
    /* Options: IHL 8, so L4 is 32 bytes after L3. */
    put_eth(&f, ETH_TYPE_IP);
    put_ipv4(&f, 8, IPPROTO_TCP, 0, 100);
    put_tcp(&f, 1, 2, 5, 0x002);
    parse(&f, NONE, 14, 46);

    /* TCP cut short: L3 but no L4. */
    parse_n(&f, 46 + 19, 0, NONE, 14, NONE);
    parse_n(&f, 46 + 20, 0, NONE, 14, 46);

    /* Options cut short: no L3 at all. */
    parse_n(&f, 14 + 31, 0, NONE, NONE, NONE);
    parse_n(&f, 14 + 19, 0, NONE, NONE, NONE);

    /* IHL below 5: no L3. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IP);
    put_ipv4(&f, 4, IPPROTO_UDP, 0, 100);
    put_zeros(&f, 4);
    put_udp(&f, 1, 2);
    parse(&f, NONE, NONE, NONE);

    /* First fragment: L4 parsed; a later one: none. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IP);
    put_ipv4(&f, 5, IPPROTO_UDP, 0x2000, 100);
    put_udp(&f, 1, 2);
    parse(&f, NONE, 14, 34);
    f.n = 0;
    put_eth(&f, ETH_TYPE_IP);
    put_ipv4(&f, 5, IPPROTO_UDP, 0x0010, 100);
    put_udp(&f, 1, 2);
    parse(&f, NONE, 14, NONE);

    /* ICMP: 8 bytes needed. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IP);
    put_ipv4(&f, 5, IPPROTO_ICMP, 0, 100);
    put8(&f, 8);
    put_zeros(&f, 7);
    parse(&f, NONE, 14, 34);
    parse_n(&f, 41, 0, NONE, 14, NONE);

    /* A protocol without L4 fields (GRE): no L4 offset. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IP);
    put_ipv4(&f, 5, 47, 0, 100);
    put_zeros(&f, 8);
    parse(&f, NONE, 14, NONE);
}

static void
test_ofs_ipv6(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    /* Hop-by-hop (16 bytes), routing (8), first fragment (8), TCP. */
    put_eth(&f, ETH_TYPE_IPV6);
    put_ipv6(&f, 0, 0, 0);
    put_ext(&f, 43, 1);
    put_ext(&f, 44, 0);
    put_frag(&f, IPPROTO_TCP, 0, 1);
    put_tcp(&f, 1, 2, 5, 0x002);
    k = parse(&f, NONE, 14, 14 + 40 + 16 + 8 + 8);
    assert_int_equal(IPPROTO_TCP, k.nw_proto);
    assert_int_equal(FKEY_FRAG_FIRST, k.nw_frag);

    /* The chain cut inside the routing header: L3 only (proto 59). */
    k = parse_n(&f, 14 + 40 + 16 + 1, 0, NONE, 14, NONE);
    assert_int_equal(59, k.nw_proto);

    /* The IPv6 header itself cut: nothing. */
    parse_n(&f, 14 + 39, 0, NONE, NONE, NONE);

    /* Later fragment. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IPV6);
    put_ipv6(&f, 0, 0, 44);
    put_frag(&f, IPPROTO_UDP, 100, 0);
    put_udp(&f, 1, 2);
    parse(&f, NONE, 14, NONE);

    /* ICMPv6 neighbour solicitation: L4 is the ICMPv6 header. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IPV6);
    put_ipv6(&f, 0, 0, IPPROTO_ICMPV6);
    put8(&f, 135);
    put8(&f, 0);
    put_zeros(&f, 6);
    put_zeros(&f, 16);
    k = parse(&f, NONE, 14, 54);
    assert_int_equal(htons(135), k.tp_src);

    /* No next header: L3 only. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_IPV6);
    put_ipv6(&f, 0, 0, 59);
    parse(&f, NONE, 14, NONE);
}

static void
test_ofs_arp(void **state)
{
    struct frame f = { .n = 0 };

    (void) state;
    put_eth(&f, ETH_TYPE_ARP);
    put_arp(&f, 1);
    parse(&f, NONE, 14, NONE);

    /* One byte short: no ARP fields, no offset. */
    parse_n(&f, 14 + 27, 0, NONE, NONE, NONE);

    /* RARP behind a tag. */
    f.n = 0;
    put_eth(&f, ETH_TYPE_VLAN_8021Q);
    put_tag(&f, 1, ETH_TYPE_RARP);
    put_arp(&f, 1);
    parse(&f, NONE, 18, NONE);
}

/* packet_parse() on a packet that was pushed and pulled: offsets follow
 * 'data', not the buffer. */
static void
test_ofs_after_pull(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key key;
    struct packet *p;

    (void) state;
    put_eth(&f, ETH_TYPE_VLAN_8021Q);
    put_tag(&f, 10, ETH_TYPE_IP);
    put_ipv4(&f, 5, IPPROTO_UDP, 0, 100);
    put_udp(&f, 1, 2);

    p = packet_create(f.b, f.n);
    assert_non_null(p);
    assert_non_null(packet_push(p, PKT_HEADROOM + 8));  /* Reallocates. */
    packet_pull(p, PKT_HEADROOM + 8);
    assert_int_equal(0, packet_parse(p, &key));
    assert_int_equal(18, p->l3_ofs);
    assert_int_equal(38, p->l4_ofs);
    assert_int_equal(ETH_TYPE_IP, p->data[p->l3_ofs - 2] << 8
                                  | p->data[p->l3_ofs - 1]);
    packet_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_clone),
        cmocka_unit_test(test_push_pull),
        cmocka_unit_test(test_push_realloc),
        cmocka_unit_test(test_pool_basic),
        cmocka_unit_test(test_pool_fill),
        cmocka_unit_test(test_pool_reset),
        cmocka_unit_test(test_pool_push_and_clone),
        cmocka_unit_test(test_batch_two_pools),
        cmocka_unit_test(test_pool_destroy_with_packets_out),
        cmocka_unit_test(test_pool_threads),
        cmocka_unit_test(test_ofs_ethernet),
        cmocka_unit_test(test_ofs_vlan),
        cmocka_unit_test(test_ofs_mpls),
        cmocka_unit_test(test_ofs_ipv4),
        cmocka_unit_test(test_ofs_ipv6),
        cmocka_unit_test(test_ofs_arp),
        cmocka_unit_test(test_ofs_after_pull),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
