/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for dp/execute.c, dp/execute-edit.c, packet/packet-edit.c
 * and dp/drop.c.
 *
 * The executor runs against a recording environment: outputs, upcalls and
 * recirculations are kept (packets copied), drops counted by reason.
 * Action lists are written in ovs-dpctl text and encoded by the codec.
 * Frames are built by hand (frames.h); checksums are checked with a
 * from-scratch implementation here, not with the incremental code under
 * test.  Every upcall's key is compared with a fresh parse of the
 * upcalled bytes, so any edit that leaves the key stale fails.  The
 * byte-exact goldens against scapy are in
 * tests/system/test_action_goldens.py. */

#include "dp/execute.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>

#include "codec/actions-nl.h"
#include "codec/actions-text.h"
#include "dp/drop.h"
#include "lib/errbuf.h"
#include "packet/flow-extract.h"
#include "packet/packet-edit.h"
#include "packet/packet.h"

#include "frames.h"

/* ---- Recording environment. ---- */

#define REC_MAX 64

struct rec_pkt {
    uint32_t port;              /* Output port, or recirc depth. */
    uint8_t bytes[1600];
    uint32_t len;
    struct pkt_metadata md;
    const struct packet *ptr;   /* The packet handed over (identity). */
};

struct rec_upcall {
    uint8_t bytes[1600];
    uint32_t len;
    struct flow_key key;
    uint32_t pid;
    size_t userdata_len;
    const void *actions;
    size_t actions_len;
};

/* Off for upcalls of trunc()ated packets, whose key is the whole one's. */
static bool check_upcall_keys = true;

struct rec {
    struct rec_pkt out[REC_MAX];
    int n_out;
    struct rec_upcall up[REC_MAX];
    int n_up;
    struct rec_pkt recirc[REC_MAX];
    int n_recirc;
    uint32_t drops[DP_N_DROP_REASONS];
    uint32_t random;
};

static void
rec_keep(struct rec_pkt *r, uint32_t port, const struct packet *p)
{
    assert_true(p->len <= sizeof r->bytes);
    r->port = port;
    memcpy(r->bytes, p->data, p->len);
    r->len = p->len;
    r->md = p->md;
    r->ptr = p;
}

static void
rec_output(void *aux, uint32_t port, struct pkt_batch *b)
{
    struct rec *r = aux;

    for (uint32_t i = 0; i < b->n; i++) {
        assert_true(r->n_out < REC_MAX);
        assert_int_equal(b->pkts[i]->cutlen, 0);
        rec_keep(&r->out[r->n_out++], port, b->pkts[i]);
    }
    pkt_batch_free(b);
}

static int
rec_upcall(void *aux, const struct packet *p, const struct flow_key *key,
           const struct act_userspace *u, const void *actions,
           size_t actions_len)
{
    struct rec *r = aux;
    struct rec_upcall *up;
    struct flow_key fresh;

    assert_true(r->n_up < REC_MAX);
    up = &r->up[r->n_up++];
    memcpy(up->bytes, p->data, p->len);
    up->len = p->len;
    up->key = *key;
    up->pid = u->pid;
    up->userdata_len = u->userdata_len;
    up->actions = actions;
    up->actions_len = actions_len;

    /* The key must describe the bytes, with or without an Ethernet
     * header (the packet's metadata says which). */
    if (check_upcall_keys) {
        assert_int_equal(0, fkey_extract(p->data, p->len, &p->md, &fresh));
        assert_memory_equal(&fresh, key, sizeof fresh);
    }
    return 0;
}

static void
rec_recirc(void *aux, struct pkt_batch *b, int depth)
{
    struct rec *r = aux;

    for (uint32_t i = 0; i < b->n; i++) {
        assert_true(r->n_recirc < REC_MAX);
        rec_keep(&r->recirc[r->n_recirc++], (uint32_t) depth, b->pkts[i]);
    }
    pkt_batch_free(b);
}

static void
rec_drop(void *aux, enum dp_drop_reason reason, uint32_t n)
{
    struct rec *r = aux;

    assert_true(reason < DP_N_DROP_REASONS);
    r->drops[reason] += n;
}

static uint32_t
rec_random(void *aux)
{
    return ((struct rec *) aux)->random;
}

static struct rec *
rec_new(struct dpx_env *env)
{
    struct rec *r = calloc(1, sizeof *r);

    assert_non_null(r);
    memset(env, 0, sizeof *env);
    env->aux = r;
    env->output = rec_output;
    env->upcall = rec_upcall;
    env->recirc = rec_recirc;
    env->drop = rec_drop;
    env->random = rec_random;
    return r;
}

static uint32_t
total_drops(const struct rec *r)
{
    uint32_t n = 0;

    for (int i = 0; i < DP_N_DROP_REASONS; i++) {
        n += r->drops[i];
    }
    return n;
}

/* ---- Actions and packets. ---- */

struct acts {
    uint8_t b[2048];
    size_t len;
};

/* Encodes ovs-dpctl action text. */
static void
acts_parse(struct acts *a, const char *text)
{
    union {
        struct nlmsghdr nlh;
        uint8_t b[2048 + MNL_NLMSG_HDRLEN];
    } u;
    struct errbuf eb;
    size_t used;

    memset(&u, 0, sizeof u);
    mnl_nlmsg_put_header(u.b);
    if (act_parse(text, &used, &u.nlh, sizeof u, &eb)) {
        fail_msg("act_parse(%s): %s", text, eb.msg);
    }
    a->len = mnl_nlmsg_get_payload_len(&u.nlh);
    memcpy(a->b, mnl_nlmsg_get_payload(&u.nlh), a->len);
    assert_int_equal(0, act_validate(a->b, a->len, NULL, &eb));
}

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

/* From-scratch RFC 1071 sum of 'n' bytes, not complemented, as a host
 * value; the reference the incremental updates are checked against. */
static uint32_t
ref_sum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i < n; i += 2) {
        sum += (uint32_t) p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
    }
    return sum;
}

static uint16_t
ref_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t) ~sum;
}

/* True if the IPv4 header at 'l3' and its TCP/UDP checksum (over 'l4len'
 * bytes) are correct; a zero UDP checksum counts as correct. */
static bool
ipv4_csums_ok(const uint8_t *frame, size_t l3, size_t l4len)
{
    const uint8_t *ip = frame + l3, *l4 = ip + 20;
    uint32_t sum;

    if (ref_fold(ref_sum(ip, 20, 0))) {
        return false;
    }
    if (ip[9] == 17 && !get16(l4 + 6)) {
        return true;
    }
    sum = ref_sum(ip + 12, 8, 0) + ip[9] + (uint32_t) l4len;
    return ref_fold(ref_sum(l4, l4len, sum)) == 0;
}

static bool
ipv6_l4_csum_ok(const uint8_t *frame, size_t l3, size_t l4len)
{
    const uint8_t *ip = frame + l3, *l4 = ip + 40;
    uint32_t sum = ref_sum(ip + 8, 32, 0) + ip[6] + (uint32_t) l4len;

    return ref_fold(ref_sum(l4, l4len, sum)) == 0;
}

/* Fills in the IPv4 header checksum and the L4 checksum (TCP, or UDP
 * unless 'udp_zero') of the frame's IPv4 packet at 'l3'. */
static void
fix_ipv4(struct frame *f, size_t l3, bool udp_zero)
{
    uint8_t *ip = f->b + l3, *l4 = ip + 20;
    size_t l4len = f->n - l3 - 20;
    size_t csum_ofs = ip[9] == 6 ? 16 : 6;
    uint32_t sum;
    uint16_t c;

    ip[10] = ip[11] = 0;
    c = ref_fold(ref_sum(ip, 20, 0));
    ip[10] = (uint8_t) (c >> 8);
    ip[11] = (uint8_t) c;
    l4[csum_ofs] = l4[csum_ofs + 1] = 0;
    if (udp_zero) {
        return;
    }
    sum = ref_sum(ip + 12, 8, 0) + ip[9] + (uint32_t) l4len;
    c = ref_fold(ref_sum(l4, l4len, sum));
    if (ip[9] == 17 && !c) {
        c = 0xffff;
    }
    l4[csum_ofs] = (uint8_t) (c >> 8);
    l4[csum_ofs + 1] = (uint8_t) c;
}

/* Ethernet + IPv4 (10.0.0.1 > 10.0.0.2, TTL 'ttl') + TCP 1000 > 80 or
 * UDP 1000 > 53, 'payload' bytes of payload, checksums right. */
static void
build_ipv4(struct frame *f, uint8_t proto, uint8_t ttl, size_t payload,
           bool udp_zero)
{
    size_t l4len = (proto == 6 ? 20 : 8) + payload;

    f->n = 0;
    put_eth(f, 0x0800);
    put16(f, 0x4500);
    put16(f, (uint16_t) (20 + l4len));
    put32(f, 0x12340000);
    put8(f, ttl);
    put8(f, proto);
    put16(f, 0);
    put32(f, 0x0a000001);
    put32(f, 0x0a000002);
    put16(f, 1000);
    put16(f, proto == 6 ? 80 : 53);
    if (proto == 6) {
        put32(f, 1);
        put32(f, 0);
        put16(f, 0x5018);
        put16(f, 8192);
        put32(f, 0);
    } else {
        put16(f, (uint16_t) l4len);
        put16(f, 0);
    }
    for (size_t i = 0; i < payload; i++) {
        put8(f, (uint8_t) (i * 7 + 3));
    }
    fix_ipv4(f, 14, udp_zero);
}

/* Ethernet + IPv6 (2001:db8::1 > 2001:db8::2, hop limit 'hlim') + UDP
 * 1000 > 53 with 'payload' bytes. */
static void
build_ipv6_udp(struct frame *f, uint8_t hlim, size_t payload)
{
    size_t l4len = 8 + payload;
    uint32_t sum;
    uint16_t c;

    f->n = 0;
    put_eth(f, 0x86dd);
    put32(f, 0x60012345);
    put16(f, (uint16_t) l4len);
    put8(f, 17);
    put8(f, hlim);
    put_ip6(f, "2001:db8::1");
    put_ip6(f, "2001:db8::2");
    put16(f, 1000);
    put16(f, 53);
    put16(f, (uint16_t) l4len);
    put16(f, 0);
    for (size_t i = 0; i < payload; i++) {
        put8(f, (uint8_t) i);
    }
    sum = ref_sum(f->b + 22, 32, 0) + 17 + (uint32_t) l4len;
    c = ref_fold(ref_sum(f->b + 54, l4len, sum));
    f->b[60] = (uint8_t) (c >> 8);
    f->b[61] = (uint8_t) c;
}

/* Makes a batch of 'n' parsed copies of 'f' (in_port 1) with keys. */
static void
make_batch(struct pkt_batch *b, struct flow_key *keys, const struct frame *f,
           int n)
{
    pkt_batch_init(b);
    for (int i = 0; i < n; i++) {
        struct packet *p = packet_create(f->b, f->n);

        assert_non_null(p);
        p->md.in_port = 1;
        assert_int_equal(0, packet_parse(p, &keys[i]));
        pkt_batch_add(b, p);
    }
}

/* Runs 'text' on 'n' copies of 'f' and returns the recorder (to free). */
static struct rec *
run(const char *text, const struct frame *f, int n, int depth,
    uint32_t random)
{
    struct flow_key keys[PKT_BATCH_MAX];
    struct pkt_batch b;
    struct dpx_env env;
    struct rec *r = rec_new(&env);
    struct acts a;

    env.depth = depth;
    r->random = random;
    acts_parse(&a, text);
    make_batch(&b, keys, f, n);
    dpx_execute(&env, &b, keys, a.b, a.len);
    assert_int_equal(b.n, 0);
    return r;
}

/* ---- Tests. ---- */

static void
test_drop_names(void **state)
{
    (void) state;
    assert_string_equal(dp_drop_name(DP_DROP_TOO_SHORT), "too_short");
    assert_string_equal(dp_drop_name(DP_DROP_UNSUPPORTED), "unsupported");
    assert_string_equal(dp_drop_name(DP_DROP_NO_ETHERNET), "no_ethernet");
    assert_string_equal(dp_drop_name(DP_N_DROP_REASONS), "unknown");
    assert_string_equal(dp_drop_description(DP_DROP_ACTION_DROP),
                        "flow actions end without output");
    assert_string_equal(dp_drop_description((enum dp_drop_reason) -1),
                        "unknown");
    for (int i = 0; i < DP_N_DROP_REASONS; i++) {
        assert_non_null(dp_drop_name((enum dp_drop_reason) i));
        assert_string_not_equal(dp_drop_name((enum dp_drop_reason) i),
                                "unknown");
    }
}

/* Incremental updates agree with a full recomputation. */
static void
test_csum_incremental(void **state)
{
    uint8_t buf[64];
    uint32_t seed = 12345;

    (void) state;
    for (int round = 0; round < 20000; round++) {
        uint16_t before, after, inc;
        be16 old16, new16, csum;
        be32 old32, new32;
        size_t at;

        for (size_t i = 0; i < sizeof buf; i++) {
            seed = seed * 1103515245 + 12345;
            buf[i] = (uint8_t) (seed >> 16);
        }
        before = ref_fold(ref_sum(buf, sizeof buf, 0));
        seed = seed * 1103515245 + 12345;
        at = (seed >> 8) % (sizeof buf / 4) * 4;
        memcpy(&old32, buf + at, 4);
        new32 = round & 1 ? 0 : (be32) (seed * 2654435761u);
        memcpy(buf + at, &new32, 4);
        after = ref_fold(ref_sum(buf, sizeof buf, 0));
        csum = htons(before);
        inc = ntohs(pedit_csum_update32(csum, old32, new32));
        /* Both forms of zero are one value in one's complement. */
        assert_true(inc == after || (inc == 0 && after == 0xffff)
                    || (inc == 0xffff && after == 0));

        memcpy(&old16, buf + at, 2);
        new16 = (be16) (seed >> 3);
        memcpy(buf + at, &new16, 2);
        before = after;
        after = ref_fold(ref_sum(buf, sizeof buf, 0));
        inc = ntohs(pedit_csum_update16(htons(before), old16, new16));
        assert_true(inc == after || (inc == 0 && after == 0xffff)
                    || (inc == 0xffff && after == 0));
    }
    assert_int_equal(ntohs(pedit_csum(buf, 0)), 0xffff);
}

static void
test_crc32c(void **state)
{
    (void) state;
    assert_int_equal(pedit_crc32c(0, "123456789", 9), 0xe3069283);
    assert_int_equal(pedit_crc32c(pedit_crc32c(0, "1234", 4), "56789", 5),
                     0xe3069283);
    assert_int_equal(pedit_crc32c(0, "", 0), 0);
}

static void
test_output_last_hands_packets(void **state)
{
    struct flow_key keys[3];
    struct pkt_batch b;
    struct dpx_env env;
    struct rec *r = rec_new(&env);
    struct packet *orig[3];
    struct frame f;
    struct acts a;

    (void) state;
    build_ipv4(&f, 6, 64, 10, false);
    make_batch(&b, keys, &f, 3);
    memcpy(orig, b.pkts, sizeof orig);
    acts_parse(&a, "2");
    dpx_execute(&env, &b, keys, a.b, a.len);
    assert_int_equal(r->n_out, 3);
    for (int i = 0; i < 3; i++) {
        assert_ptr_equal(r->out[i].ptr, orig[i]);
        assert_int_equal(r->out[i].port, 2);
        assert_memory_equal(r->out[i].bytes, f.b, f.n);
    }
    assert_int_equal(total_drops(r), 0);
    free(r);
}

static void
test_output_copies_when_not_last(void **state)
{
    struct frame f;
    struct rec *r;

    (void) state;
    build_ipv4(&f, 6, 64, 10, false);
    r = run("1,2,3", &f, 2, 0, 0);
    assert_int_equal(r->n_out, 6);
    /* Per action, the whole batch. */
    for (int i = 0; i < 6; i++) {
        assert_int_equal(r->out[i].port, (uint32_t) (1 + i / 2));
        assert_int_equal(r->out[i].len, f.n);
    }
    assert_int_equal(total_drops(r), 0);
    free(r);
}

static void
test_empty_list_drops(void **state)
{
    struct frame f;
    struct rec *r;

    (void) state;
    build_ipv4(&f, 6, 64, 0, false);
    r = run("drop", &f, 5, 0, 0);
    assert_int_equal(r->n_out, 0);
    assert_int_equal(r->drops[DP_DROP_ACTION_DROP], 5);
    assert_int_equal(total_drops(r), 5);
    free(r);

    /* Actions that do not output end the same way. */
    r = run("set(skb_mark(7)),hash(l4(0))", &f, 2, 0, 0);
    assert_int_equal(r->drops[DP_DROP_ACTION_DROP], 2);
    free(r);
}

static void
test_trunc(void **state)
{
    struct frame f;
    struct rec *r;

    (void) state;
    build_ipv4(&f, 17, 64, 100, false);
    r = run("trunc(50),1,2,trunc(60),3,trunc(1000),4", &f, 1, 0, 0);
    assert_int_equal(r->n_out, 4);
    assert_int_equal(r->out[0].len, 50);
    assert_int_equal(r->out[1].len, f.n);   /* Output consumed trunc. */
    assert_int_equal(r->out[2].len, 60);
    assert_int_equal(r->out[3].len, f.n);   /* Longer than the packet. */
    assert_memory_equal(r->out[0].bytes, f.b, 50);
    free(r);

    /* Into userspace, then cleared. */
    check_upcall_keys = false;
    r = run("trunc(40),userspace(pid=9),2", &f, 1, 0, 0);
    check_upcall_keys = true;
    assert_int_equal(r->n_up, 1);
    assert_int_equal(r->up[0].len, 40);
    assert_int_equal(r->out[0].len, f.n);
    free(r);
}

static void
test_userspace(void **state)
{
    struct flow_key keys[2];
    struct pkt_batch b;
    struct dpx_env env;
    struct rec *r = rec_new(&env);
    struct frame f;
    struct acts a;

    (void) state;
    build_ipv4(&f, 6, 64, 4, false);
    make_batch(&b, keys, &f, 2);
    acts_parse(&a, "userspace(pid=7,userdata(01020304),actions),"
               "clone(userspace(pid=8,actions)),3");
    dpx_execute(&env, &b, keys, a.b, a.len);
    assert_int_equal(r->n_up, 4);
    assert_int_equal(r->up[0].pid, 7);
    assert_int_equal(r->up[0].userdata_len, 4);
    assert_ptr_equal(r->up[0].actions, a.b);        /* The whole list. */
    assert_int_equal(r->up[0].actions_len, a.len);
    assert_int_equal(r->up[2].pid, 8);
    assert_int_equal(r->up[2].actions_len, 16);     /* The clone's list. */
    assert_int_equal(r->n_out, 2);
    assert_int_equal(total_drops(r), 0);
    free(r);

    /* Last: consumed, not dropped. */
    r = run("userspace(pid=1)", &f, 3, 0, 0);
    assert_int_equal(r->n_up, 3);
    assert_null(r->up[0].actions);
    assert_int_equal(total_drops(r), 0);
    free(r);
}

static void
test_set_ipv4_tcp_udp(void **state)
{
    struct frame f;
    struct rec *r;
    uint8_t *o;

    (void) state;
    build_ipv4(&f, 6, 64, 33, false);
    r = run("set(ipv4(src=192.168.7.9,dst=10.9.8.7,tos=0x2e,ttl=9)),"
            "set(tcp(src=4321,dst=8080)),1", &f, 1, 0, 0);
    assert_int_equal(r->n_out, 1);
    o = r->out[0].bytes;
    assert_int_equal(get16(o + 26), 0xc0a8);
    assert_int_equal(o[15], 0x2e);
    assert_int_equal(o[22], 9);
    assert_int_equal(get16(o + 34), 4321);
    assert_int_equal(get16(o + 36), 8080);
    assert_true(ipv4_csums_ok(o, 14, f.n - 34));
    free(r);

    /* Masked: only the low byte of the source and of the port. */
    r = run("set(ipv4(src=0.0.0.77/0.0.0.255)),"
            "set(tcp(dst=0x0033/0x00ff)),1", &f, 1, 0, 0);
    o = r->out[0].bytes;
    assert_memory_equal(o + 26, "\x0a\x00\x00\x4d", 4);
    assert_int_equal(get16(o + 36), 0x0033);
    assert_true(ipv4_csums_ok(o, 14, f.n - 34));
    free(r);

    /* UDP with a checksum: updated.  Without (0): stays 0. */
    build_ipv4(&f, 17, 64, 21, false);
    r = run("set(ipv4(dst=172.16.0.1)),set(udp(src=5,dst=6)),1", &f, 1, 0,
            0);
    o = r->out[0].bytes;
    assert_int_not_equal(get16(o + 40), 0);
    assert_true(ipv4_csums_ok(o, 14, f.n - 34));
    free(r);
    build_ipv4(&f, 17, 64, 21, true);
    r = run("set(ipv4(dst=172.16.0.1)),set(udp(src=5,dst=6)),1", &f, 1, 0,
            0);
    o = r->out[0].bytes;
    assert_int_equal(get16(o + 40), 0);
    assert_int_equal(get16(o + 34), 5);
    assert_true(ipv4_csums_ok(o, 14, f.n - 34));
    free(r);
}

static void
test_set_ipv6(void **state)
{
    struct frame f;
    struct rec *r;
    uint8_t *o;

    (void) state;
    build_ipv6_udp(&f, 64, 13);
    assert_true(ipv6_l4_csum_ok(f.b, 14, f.n - 54));
    r = run("set(ipv6(src=2001:db8::99,dst=fe80::1,label=0xabcde,"
            "tclass=0x88,hlimit=3)),userspace(pid=1),1", &f, 1, 0, 0);
    o = r->out[0].bytes;
    assert_int_equal(o[14], 0x68);          /* Version 6, tclass 0x88. */
    assert_int_equal(o[15] >> 4, 8);
    assert_int_equal(o[15] & 0x0f, 0xa);
    assert_int_equal(get16(o + 16), 0xbcde);
    assert_int_equal(o[21], 3);
    assert_int_equal(o[37], 0x99);
    assert_int_equal(o[38], 0xfe);
    assert_true(ipv6_l4_csum_ok(o, 14, f.n - 54));
    assert_int_equal(ntohl(r->up[0].key.ipv6_label), 0xabcde);
    free(r);
}

static void
test_short_headers_malformed(void **state)
{
    struct frame f;
    struct rec *r;

    (void) state;
    /* TCP header cut to 10 bytes: the key has no ports, set(tcp) fails;
     * set(ipv4) still works, leaving the L4 checksum alone. */
    build_ipv4(&f, 6, 64, 0, false);
    f.n = 14 + 20 + 10;
    r = run("set(tcp(src=1)),1", &f, 2, 0, 0);
    assert_int_equal(r->n_out, 0);
    assert_int_equal(r->drops[DP_DROP_MALFORMED], 2);
    free(r);
    r = run("set(ipv4(ttl=5)),1", &f, 1, 0, 0);
    assert_int_equal(r->n_out, 1);
    assert_int_equal(r->out[0].bytes[22], 5);
    free(r);

    /* IPv4 header cut to 16 bytes. */
    f.n = 14 + 16;
    r = run("set(ipv4(ttl=5)),1", &f, 1, 0, 0);
    assert_int_equal(r->drops[DP_DROP_MALFORMED], 1);
    free(r);
    r = run("dec_ttl(le_1(drop)),1", &f, 1, 0, 0);
    assert_int_equal(r->drops[DP_DROP_MALFORMED], 1);
    free(r);
}

static void
test_vlan(void **state)
{
    struct frame f;
    struct rec *r;
    uint8_t *o;

    (void) state;
    build_ipv4(&f, 6, 64, 0, false);
    r = run("push_vlan(vid=10,pcp=3),userspace(pid=1),"
            "push_vlan(tpid=0x88a8,vid=20,pcp=0),userspace(pid=1),1,"
            "pop_vlan,userspace(pid=1),2,pop_vlan,3,pop_vlan,4", &f, 1, 0,
            0);
    assert_int_equal(r->n_out, 4);
    o = r->out[0].bytes;
    assert_int_equal(r->out[0].len, f.n + 8);
    assert_int_equal(get16(o + 12), 0x88a8);
    assert_int_equal(get16(o + 14), 20);
    assert_int_equal(get16(o + 16), 0x8100);
    assert_int_equal(get16(o + 18), 0x6000 | 10);
    assert_int_equal(get16(o + 20), 0x0800);
    assert_int_equal(r->out[1].len, f.n + 4);
    assert_int_equal(get16(r->out[1].bytes + 12), 0x8100);
    assert_memory_equal(r->out[2].bytes, f.b, f.n);
    assert_memory_equal(r->out[3].bytes, f.b, f.n);  /* No tag: no-op. */
    /* Keys (checked against fresh parses by the recorder). */
    assert_int_equal(r->n_up, 3);
    assert_int_equal(ntohs(r->up[1].key.vlan[0].tpid), 0x88a8);
    assert_int_equal(ntohs(r->up[1].key.vlan[1].tci), 0x7000 | 10);
    free(r);
}

static void
test_mpls_and_eth(void **state)
{
    struct frame f;
    struct rec *r;
    uint8_t *o;

    (void) state;
    build_ipv4(&f, 17, 64, 5, false);
    r = run("push_mpls(label=100,tc=3,ttl=64,bos=1,eth_type=0x8847),"
            "userspace(pid=1),1,set(mpls(label=200,tc=1,ttl=9,bos=1)),2,"
            "pop_mpls(eth_type=0x800),userspace(pid=1),3", &f, 1, 0, 0);
    assert_int_equal(r->n_out, 3);
    o = r->out[0].bytes;
    assert_int_equal(get16(o + 12), 0x8847);
    assert_memory_equal(o + 14, "\x00\x06\x47\x40", 4);
    assert_memory_equal(o + 18, f.b + 14, f.n - 14);
    assert_memory_equal(r->out[1].bytes + 14, "\x00\x0c\x83\x09", 4);
    assert_memory_equal(r->out[2].bytes, f.b, f.n);
    assert_int_equal(r->up[0].key.n_mpls, 1);
    free(r);

    /* pop_eth: an L3 packet, which no Ethernet port takes; push_eth makes
     * it a frame again. */
    r = run("pop_eth,userspace(pid=1),1,push_eth(src=02:00:00:00:00:01,"
            "dst=02:00:00:00:00:02),2", &f, 2, 0, 0);
    assert_int_equal(r->drops[DP_DROP_NO_ETHERNET], 2);
    assert_int_equal(r->n_up, 2);
    assert_int_equal(r->up[0].len, f.n - 14);
    assert_int_equal(r->up[0].key.mac_proto, FKEY_MAC_NONE);
    assert_int_equal(ntohs(r->up[0].key.eth_type), 0x0800);
    assert_int_equal(r->up[0].key.nw_ttl, 64);
    assert_int_equal(r->n_out, 2);
    assert_int_equal(r->out[0].len, f.n);
    assert_memory_equal(r->out[0].bytes + 12, f.b + 12, f.n - 12);
    assert_int_equal(r->out[0].bytes[5], 2);
    free(r);

    /* add_mpls without the L3 flag: the label in front of the frame. */
    r = run("add_mpls(label=5,tc=0,ttl=1,bos=1,eth_type=0x8847),"
            "userspace(pid=1),push_eth(src=02:00:00:00:00:01,"
            "dst=02:00:00:00:00:02),1", &f, 1, 0, 0);
    assert_int_equal(r->n_out, 1);
    assert_int_equal(r->out[0].len, f.n + 18);
    assert_int_equal(get16(r->out[0].bytes + 12), 0x8847);
    assert_memory_equal(r->out[0].bytes + 18, f.b, f.n);
    assert_int_equal(r->up[0].key.n_mpls, 1);
    free(r);
}

static void
test_recirc(void **state)
{
    struct frame f;
    struct rec *r;

    (void) state;
    build_ipv4(&f, 6, 64, 0, false);
    r = run("set(skb_priority(5)),recirc(0x42),1", &f, 2, 2, 0);
    assert_int_equal(r->n_recirc, 2);
    assert_int_equal(r->recirc[0].port, 3);     /* depth */
    assert_int_equal(r->recirc[0].md.recirc_id, 0x42);
    assert_int_equal(r->recirc[0].md.priority, 5);
    assert_int_equal(r->n_out, 2);
    assert_int_equal(r->out[0].md.recirc_id, 0);
    free(r);

    r = run("recirc(1)", &f, 3, DPX_MAX_RECIRC, 0);
    assert_int_equal(r->n_recirc, 0);
    assert_int_equal(r->drops[DP_DROP_RECIRC_DEPTH], 3);
    assert_int_equal(total_drops(r), 3);
    free(r);
}

static void
test_hash(void **state)
{
    struct flow_key keys[2];
    struct pkt_batch b;
    struct dpx_env env;
    struct rec *r = rec_new(&env);
    struct frame f;
    struct acts a;

    (void) state;
    build_ipv4(&f, 6, 64, 10, false);
    make_batch(&b, keys, &f, 2);
    /* Same 5-tuple, other bytes: same hash. */
    b.pkts[1]->data[0] ^= 0x02;
    b.pkts[1]->data[60] ^= 0xff;
    acts_parse(&a, "hash(l4(0)),recirc(1)");
    dpx_execute(&env, &b, keys, a.b, a.len);
    assert_int_equal(r->n_recirc, 2);
    assert_int_not_equal(r->recirc[0].md.dp_hash, 0);
    assert_int_equal(r->recirc[0].md.dp_hash, r->recirc[1].md.dp_hash);
    free(r);

    /* Another basis, another hash. */
    r = run("hash(l4(1)),recirc(1)", &f, 1, 0, 0);
    {
        struct rec *r2 = run("hash(l4(0)),recirc(1)", &f, 1, 0, 0);

        assert_int_not_equal(r->recirc[0].md.dp_hash,
                             r2->recirc[0].md.dp_hash);
        free(r2);
    }
    free(r);
}

static void
test_sample_clone(void **state)
{
    struct frame f;
    struct rec *r;

    (void) state;
    build_ipv4(&f, 6, 64, 0, false);
    r = run("sample(sample=0%,actions(1)),2", &f, 2, 0, 0);
    assert_int_equal(r->n_out, 2);
    assert_int_equal(r->out[0].port, 2);
    free(r);
    r = run("sample(sample=100%,actions(1)),2", &f, 2, 0, 0);
    assert_int_equal(r->n_out, 4);
    free(r);
    /* 50%: random at or under the probability samples. */
    r = run("sample(sample=50%,actions(1)),2", &f, 1, 0, 0x7fffffff);
    assert_int_equal(r->n_out, 2);
    free(r);
    r = run("sample(sample=50%,actions(1)),2", &f, 1, 0, 0xf0000000);
    assert_int_equal(r->n_out, 1);
    free(r);

    /* A sampled copy ending its list is not a drop; the original, when
     * sample() is last and does not take it, is. */
    r = run("sample(sample=100%,actions(set(skb_mark(1)))),2", &f, 1, 0, 0);
    assert_int_equal(total_drops(r), 0);
    free(r);
    r = run("sample(sample=0%,actions(1))", &f, 3, 0, 0);
    assert_int_equal(r->drops[DP_DROP_ACTION_DROP], 3);
    free(r);
    /* Lists nested inside a sample() inherit that: their ends are not
     * drops either, copies or not, taken or not. */
    r = run("sample(sample=100%,actions(clone(set(skb_mark(1))))),2", &f, 1,
            0, 0);
    assert_int_equal(total_drops(r), 0);
    assert_int_equal(r->n_out, 1);
    free(r);
    r = run("sample(sample=100%,actions(check_pkt_len(size=10,"
            "gt(set(skb_mark(1))),le(drop)),1)),2", &f, 1, 0, 0);
    assert_int_equal(total_drops(r), 0);
    assert_int_equal(r->n_out, 2);
    free(r);
    r = run("sample(sample=100%,actions(sample(sample=0%,actions(1)))),2",
            &f, 1, 0, 0);
    assert_int_equal(total_drops(r), 0);
    free(r);
    /* Outside any sample(), the same clone() end is a drop. */
    r = run("clone(set(skb_mark(1))),2", &f, 1, 0, 0);
    assert_int_equal(r->drops[DP_DROP_ACTION_DROP], 1);
    free(r);

    /* clone: edits stay inside. */
    r = run("clone(set(ipv4(ttl=1)),1),2", &f, 1, 0, 0);
    assert_int_equal(r->n_out, 2);
    assert_int_equal(r->out[0].bytes[22], 1);
    assert_int_equal(r->out[1].bytes[22], 64);
    assert_int_equal(total_drops(r), 0);
    free(r);
    r = run("clone(drop),1", &f, 1, 0, 0);
    assert_int_equal(r->drops[DP_DROP_ACTION_DROP], 1);
    assert_int_equal(r->n_out, 1);
    free(r);
}

static void
test_check_pkt_len(void **state)
{
    struct flow_key keys[4];
    struct pkt_batch b;
    struct dpx_env env;
    struct rec *r = rec_new(&env);
    struct frame f;
    struct acts a;

    (void) state;
    build_ipv4(&f, 17, 64, 100, false);     /* 142 bytes. */
    make_batch(&b, keys, &f, 4);
    b.pkts[1]->len = 100;
    b.pkts[3]->len = 101;
    acts_parse(&a, "check_pkt_len(size=100,gt(1),le(2))");
    dpx_execute(&env, &b, keys, a.b, a.len);
    assert_int_equal(r->n_out, 4);
    assert_int_equal(r->out[0].port, 2);    /* The le part first. */
    assert_int_equal(r->out[0].len, 100);
    assert_int_equal(r->out[1].port, 1);
    assert_int_equal(r->out[2].port, 1);
    assert_int_equal(r->out[3].port, 1);
    assert_int_equal(r->out[3].len, 101);
    free(r);

    /* Not last: copies, the original goes on. */
    r = run("check_pkt_len(size=200,gt(1),le(set(ipv4(ttl=3)),2)),3", &f, 1,
            0, 0);
    assert_int_equal(r->n_out, 2);
    assert_int_equal(r->out[0].port, 2);
    assert_int_equal(r->out[0].bytes[22], 3);
    assert_int_equal(r->out[1].bytes[22], 64);
    free(r);
}

static void
test_dec_ttl(void **state)
{
    struct frame f;
    struct rec *r;

    (void) state;
    build_ipv4(&f, 6, 2, 0, false);
    r = run("dec_ttl(le_1(userspace(pid=5))),1", &f, 1, 0, 0);
    assert_int_equal(r->n_out, 1);
    assert_int_equal(r->out[0].bytes[22], 1);
    assert_true(ipv4_csums_ok(r->out[0].bytes, 14, 20));
    assert_int_equal(r->n_up, 0);
    free(r);

    build_ipv4(&f, 6, 1, 0, false);
    r = run("dec_ttl(le_1(userspace(pid=5))),1", &f, 2, 0, 0);
    assert_int_equal(r->n_out, 0);
    assert_int_equal(r->n_up, 2);
    assert_int_equal(r->up[0].key.nw_ttl, 1);
    assert_int_equal(total_drops(r), 0);
    free(r);
    r = run("dec_ttl(le_1(drop)),1", &f, 2, 0, 0);
    assert_int_equal(r->drops[DP_DROP_TTL_EXPIRED], 2);
    free(r);

    build_ipv6_udp(&f, 1, 0);
    r = run("dec_ttl(le_1(drop)),1", &f, 1, 0, 0);
    assert_int_equal(r->drops[DP_DROP_TTL_EXPIRED], 1);
    free(r);
    build_ipv6_udp(&f, 200, 0);
    r = run("dec_ttl(le_1(drop)),1", &f, 1, 0, 0);
    assert_int_equal(r->out[0].bytes[21], 199);
    free(r);

    /* Two VLAN tags: the kernel's dec_ttl sees no IP packet (skb->protocol
     * is the inner TPID), leaves the TTL alone and does not expire it. */
    build_ipv4(&f, 6, 1, 0, false);
    r = run("push_vlan(vid=5,pcp=0),push_vlan(tpid=0x88a8,vid=6,pcp=0),"
            "dec_ttl(le_1(drop)),1", &f, 1, 0, 0);
    assert_int_equal(r->n_out, 1);
    assert_int_equal(r->out[0].bytes[14 + 8 + 8], 1);   /* TTL still 1. */
    assert_int_equal(total_drops(r), 0);
    free(r);
}

static void
test_unsupported(void **state)
{
    static const char *const refused[] = {
        "ct(commit),1", "ct_clear,1", "meter(1),1", "clone(ct_clear),1",
        "set(tunnel(tun_id=1,dst=1.1.1.1,ttl=64)),1", "set(ct_mark(1)),1",
        "check_pkt_len(size=10,gt(meter(2)),le(1))",
    };
    struct errbuf eb;
    struct frame f;
    struct acts a;
    struct rec *r;

    (void) state;
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        acts_parse(&a, refused[i]);
        assert_int_equal(-EOPNOTSUPP,
                         dpx_check_supported(a.b, a.len, &eb));
        assert_non_null(strstr(eb.msg, "not supported"));
    }
    acts_parse(&a, "ct_clear");
    dpx_check_supported(a.b, a.len, &eb);
    assert_string_equal(eb.msg,
                        "ct_clear action is not supported by this datapath "
                        "yet");
    acts_parse(&a, "set(ipv4(ttl=1)),push_vlan(vid=1,pcp=0),trunc(100),"
               "sample(sample=5%,actions(userspace(pid=1))),hash(l4(2)),"
               "dec_ttl(le_1(drop)),check_pkt_len(size=5,gt(1),le(2))");
    assert_int_equal(0, dpx_check_supported(a.b, a.len, &eb));
    assert_string_equal(eb.msg, "");

    build_ipv4(&f, 6, 64, 0, false);
    r = run("1,ct(commit),2", &f, 2, 0, 0);
    assert_int_equal(r->n_out, 2);
    assert_int_equal(r->drops[DP_DROP_UNSUPPORTED], 2);
    free(r);
}

/* The deepest nesting validation accepts, every level on copies. */
static void
test_deep_nesting(void **state)
{
    char text[1024];
    size_t n = 0;
    struct frame f;
    struct rec *r;

    (void) state;
    for (int i = 0; i < ACT_MAX_DEPTH; i++) {
        n += (size_t) snprintf(text + n, sizeof text - n, "clone(");
    }
    n += (size_t) snprintf(text + n, sizeof text - n, "1");
    for (int i = 0; i < ACT_MAX_DEPTH; i++) {
        n += (size_t) snprintf(text + n, sizeof text - n, "),2");
    }
    assert_true(n < sizeof text);
    build_ipv4(&f, 6, 64, 0, false);
    r = run(text, &f, 2, 0, 0);
    assert_int_equal(r->n_out, 2 * (ACT_MAX_DEPTH + 1));
    assert_int_equal(total_drops(r), 0);
    free(r);
}

/* Pooled packets have a fixed buffer: a push that does not fit fails
 * cleanly (DP_DROP_NOMEM), one that fits works. */
static void
test_pool_headroom(void **state)
{
    struct pkt_pool *pool = pkt_pool_create(4, PKT_HEADROOM + 200);
    struct flow_key keys[2];
    struct pkt_batch b;
    struct dpx_env env;
    struct rec *r = rec_new(&env);
    struct frame f;
    struct acts a;

    (void) state;
    assert_non_null(pool);
    build_ipv4(&f, 6, 64, 0, false);
    pkt_batch_init(&b);
    assert_int_equal(2, pkt_pool_get(pool, &b, 2));
    for (int i = 0; i < 2; i++) {
        struct packet *p = b.pkts[i];

        memcpy(p->data, f.b, f.n);
        p->len = (uint32_t) f.n;
        assert_int_equal(0, packet_parse(p, &keys[i]));
    }
    /* Use up packet 1's headroom. */
    b.pkts[1]->data = b.pkts[1]->buf + 2;
    memcpy(b.pkts[1]->data, f.b, f.n);
    acts_parse(&a, "push_vlan(vid=1,pcp=0),1");
    dpx_execute(&env, &b, keys, a.b, a.len);
    assert_int_equal(r->n_out, 1);
    assert_int_equal(r->out[0].len, f.n + 4);
    assert_int_equal(r->drops[DP_DROP_NOMEM], 1);
    free(r);
    pkt_pool_destroy(pool);
}

/* Every prefix of a frame, every action: no crash, every packet
 * accounted for (output, upcalled-and-dropped, or counted). */
static void
test_every_prefix_is_safe(void **state)
{
    static const char *const lists[] = {
        "set(ipv4(src=1.2.3.4,dst=5.6.7.8,tos=1,ttl=2)),1",
        "set(tcp(src=1,dst=2)),1", "set(udp(src=1,dst=2)),1",
        "set(sctp(src=1,dst=2)),1", "set(eth(src=02:00:00:00:00:01)),1",
        "set(ipv6(src=::1,dst=::2,label=1,tclass=2,hlimit=3)),1",
        "set(mpls(label=1,tc=0,ttl=1,bos=1)),1", "push_vlan(vid=1,pcp=0),1",
        "pop_vlan,1", "push_mpls(label=1,tc=0,ttl=1,bos=1,eth_type=0x8847),1",
        "pop_mpls(eth_type=0x800),1",
        ("pop_eth,push_eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02),"
         "1"),
        "dec_ttl(le_1(drop)),1", "hash(l4(0)),1",
        "add_mpls(label=1,tc=0,ttl=1,bos=1,eth_type=0x8847),1",
    };
    struct frame frames[4];

    (void) state;
    build_ipv4(&frames[0], 6, 64, 8, false);
    build_ipv4(&frames[1], 17, 64, 8, false);
    build_ipv6_udp(&frames[2], 64, 8);
    /* Ethernet, VLAN, MPLS, IPv4, SCTP. */
    frames[3].n = 0;
    put_eth(&frames[3], 0x8100);
    put16(&frames[3], 5);
    put16(&frames[3], 0x8847);
    put32(&frames[3], 0x00001140);
    put(&frames[3], frames[0].b + 14, 20);
    frames[3].b[18 + 4 + 9] = 132;
    put(&frames[3], "\x00\x01\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00", 12);

    for (size_t fi = 0; fi < 4; fi++) {
        for (size_t li = 0; li < sizeof lists / sizeof *lists; li++) {
            for (size_t n = 14; n <= frames[fi].n; n++) {
                struct frame cut = frames[fi];
                struct rec *r;

                cut.n = n;
                r = run(lists[li], &cut, 2, 0, 0);
                assert_int_equal((uint32_t) r->n_out + total_drops(r), 2);
                free(r);
            }
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_names),
        cmocka_unit_test(test_csum_incremental),
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_output_last_hands_packets),
        cmocka_unit_test(test_output_copies_when_not_last),
        cmocka_unit_test(test_empty_list_drops),
        cmocka_unit_test(test_trunc),
        cmocka_unit_test(test_userspace),
        cmocka_unit_test(test_set_ipv4_tcp_udp),
        cmocka_unit_test(test_set_ipv6),
        cmocka_unit_test(test_short_headers_malformed),
        cmocka_unit_test(test_vlan),
        cmocka_unit_test(test_mpls_and_eth),
        cmocka_unit_test(test_recirc),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_sample_clone),
        cmocka_unit_test(test_check_pkt_len),
        cmocka_unit_test(test_dec_ttl),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_pool_headroom),
        cmocka_unit_test(test_every_prefix_is_safe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
