/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the datapath's in-process upcall readers (dp/dp.c on top
 * of dp/upcall.c): dp_handlers_set(), dp_recv(), dp_recv_wait(),
 * dp_recv_purge().  Packets come in through dummy ports and a dp_thread:
 * a miss reaches exactly one handler, with the packet's key and one of
 * its port's PIDs; a flow always reaches the same handler, and flows
 * spread over all; userspace() to the special PID reaches handler 0;
 * per-CPU dispatch follows the thread's number, for misses and for
 * userspace() actions whatever PID they name; a packet without an
 * Ethernet header recirculates and misses as an L3 packet; lost upcalls (no
 * handlers, a full queue) are counted and nothing else is lost; wait,
 * wake-up and purge.  The last test polls and reads on threads while the
 * handlers are reconfigured (for TSan). */

#include <errno.h>
#include <linux/openvswitch.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "dp/dp.h"
#include "dp/upcall.h"
#include "lib/errbuf.h"
#include "lib/rcu.h"
#include "packet/packet.h"
#include "port/port-dummy.h"
#include "port/port.h"
#include "tests/unit/dp-test-util.h"
#include "tests/unit/test-util.h"

#define FRAME_LEN 60

/* Matches every frame_for(i < 256, ...) (to 10.0.0.2) from port 1. */
#define FLOW_A "recirc_id(0),in_port(1),eth(),eth_type(0x0800)," \
               "ipv4(src=10.0.0.1,dst=10.0.0.2/255.255.255.0,proto=17," \
               "frag=no),udp()"

struct fixture {
    struct datapath *dp;
    struct dp_thread *thr;
};

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct errbuf err;
    uint32_t no;

    assert_non_null(fx);
    qsbr_register();
    assert_int_equal(dp_create("dp0", NULL, &fx->dp, &err), 0);
    for (no = 1; no <= 2; no++) {
        char name[8];
        uint32_t want = no;

        snprintf(name, sizeof name, "p%u", no);
        assert_int_equal(dp_port_add(fx->dp, "dummy", name, NULL, &want,
                                     &err), 0);
        assert_int_equal(want, no);
    }
    fx->thr = dp_thread_create(fx->dp, NULL);
    assert_non_null(fx->thr);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    dp_thread_destroy(fx->thr);
    qsbr_offline();
    dp_destroy(fx->dp);
    qsbr_online();
    qsbr_unregister();
    free(fx);
    return 0;
}

/* Writes frame number 'i' into 'f': a UDP flow of its own for every 'i'
 * (source port 1000 + i), from 10.0.0.1 to 10.0.<i / 256>.2, with 'tag'
 * in the payload (not part of the key). */
static void
frame_for(uint8_t *f, uint32_t i, uint8_t tag)
{
    tu_udp_frame(f, FRAME_LEN, 0x0a000001, 0x0a000002 | (i / 256) << 8,
                 (uint16_t) (1000 + i % 256), 53);
    f[FRAME_LEN - 1] = tag;
}

/* Injects frame 'i' with 'tag' on port 'port_no' and polls it on 'thr';
 * checks that one packet was processed. */
static void
send_frame(struct datapath *dp, struct dp_thread *thr, uint32_t port_no,
           uint32_t i, uint8_t tag)
{
    uint8_t f[FRAME_LEN];

    frame_for(f, i, tag);
    assert_int_equal(port_dummy_inject(dp_port_get(dp, port_no), f,
                                       sizeof f), 0);
    assert_int_equal(dp_poll(thr, port_no, 0), 1);
}

/* The key the datapath extracts from frame 'i' received on 'port_no'. */
static void
key_for(uint32_t i, uint32_t port_no, struct flow_key *key)
{
    uint8_t f[FRAME_LEN];
    struct packet *p;

    frame_for(f, i, 0);
    p = packet_create(f, sizeof f);
    assert_non_null(p);
    p->md.in_port = port_no;
    assert_int_equal(packet_parse(p, key), 0);
    packet_free(p);
}

/* Reads the one upcall queued for any of the 'n' handlers; returns it and
 * the handler in '*h'.  Fails if there is none or more than one. */
static struct dp_upcall *
recv_one(struct datapath *dp, uint32_t n, uint32_t *h)
{
    struct dp_upcall *u = NULL, *v;
    int found = 0;

    *h = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++) {
        while (!dp_recv(dp, i, &v)) {
            found++;
            *h = i;
            if (u) {
                dp_upcall_free(v);
            } else {
                u = v;
            }
        }
    }
    assert_int_equal(found, 1);
    return u;
}

/* Asserts that no handler of 'n' has anything. */
static void
assert_all_empty(struct datapath *dp, uint32_t n)
{
    struct dp_upcall *u;

    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(dp_recv(dp, i, &u), -EAGAIN);
    }
}

/* A miss: one upcall, to one handler, with the key and a port PID. */
static void
test_miss(void **state)
{
    struct fixture *fx = *state;
    uint32_t pids[4], h = UINT32_MAX;
    struct flow_key key;
    struct dp_upcall *u;
    struct errbuf err;
    uint8_t f[FRAME_LEN];

    assert_int_equal(dp_recv(fx->dp, 0, &u), -EINVAL);
    assert_int_equal(dp_handlers_set(fx->dp, 2, &err), 0);
    assert_int_equal(dp_recv(fx->dp, 2, &u), -EINVAL);
    assert_all_empty(fx->dp, 2);

    /* Every port has the two handlers' PIDs, the special one aside. */
    assert_int_equal(dp_port_get_upcall_pids(fx->dp, 1, pids, 4), 2);
    assert_int_not_equal(pids[0], 0);
    assert_int_not_equal(pids[1], 0);
    assert_int_not_equal(pids[0], pids[1]);
    assert_int_not_equal(dp_special_pid(fx->dp), 0);
    assert_int_not_equal(dp_special_pid(fx->dp), pids[0]);
    assert_int_not_equal(dp_special_pid(fx->dp), pids[1]);
    assert_int_equal(dp_port_get_upcall_pids(fx->dp, 0, pids + 2, 2), 2);
    assert_memory_equal(pids, pids + 2, 2 * sizeof pids[0]);

    send_frame(fx->dp, fx->thr, 1, 7, 0x5a);
    u = recv_one(fx->dp, 2, &h);
    assert_int_equal(u->type, DP_UPCALL_MISS);
    assert_int_equal(u->pid, pids[h]);
    key_for(7, 1, &key);
    assert_memory_equal(&u->key, &key, sizeof key);
    assert_int_equal(u->packet->len, FRAME_LEN);
    frame_for(f, 7, 0x5a);
    assert_memory_equal(u->packet->data, f, FRAME_LEN);
    assert_int_equal(u->packet->md.in_port, 1);
    assert_null(u->userdata);
    dp_upcall_free(u);
    assert_all_empty(fx->dp, 2);

    /* A port added later gets the handlers' PIDs too. */
    uint32_t no = 3, pids3[2];
    assert_int_equal(dp_port_add(fx->dp, "dummy", "p3", NULL, &no, &err),
                     0);
    assert_int_equal(dp_port_get_upcall_pids(fx->dp, 3, pids3, 2), 2);
    assert_memory_equal(pids3, pids, sizeof pids3);
    send_frame(fx->dp, fx->thr, 3, 7, 0);
    u = recv_one(fx->dp, 2, &h);
    assert_int_equal(u->pid, pids[h]);
    key_for(7, 3, &key);
    assert_memory_equal(&u->key, &key, sizeof key);
    dp_upcall_free(u);

    uint64_t ok, fail;
    assert_int_equal(dp_port_get_upcall_stats(fx->dp, 1, &ok, &fail), 0);
    assert_int_equal(ok, 1);
    assert_int_equal(fail, 0);
}

/* One flow, one handler; many flows, every handler; order kept within a
 * flow. */
static void
test_spread(void **state)
{
    struct fixture *fx = *state;
    uint32_t pids[2], h = 0, count[2] = { 0, 0 };
    struct dp_upcall *u;
    struct errbuf err;

    assert_int_equal(dp_handlers_set(fx->dp, 2, &err), 0);
    assert_int_equal(dp_port_get_upcall_pids(fx->dp, 1, pids, 2), 2);

    /* Flow i: the same handler every time, whatever the payload. */
    for (uint32_t i = 0; i < 64; i++) {
        uint32_t first = UINT32_MAX;

        for (uint8_t tag = 0; tag < 3; tag++) {
            send_frame(fx->dp, fx->thr, 1, i, tag);
            u = recv_one(fx->dp, 2, &h);
            assert_int_equal(u->pid, pids[h]);
            assert_int_equal(u->packet->data[FRAME_LEN - 1], tag);
            if (first == UINT32_MAX) {
                first = h;
                count[h]++;
            }
            assert_int_equal(h, first);
            dp_upcall_free(u);
        }
    }
    /* 64 flows over 2 handlers: both get some. */
    assert_true(count[0] > 0);
    assert_true(count[1] > 0);

    /* Queued together, a flow's upcalls come out in order. */
    for (uint8_t tag = 0; tag < 10; tag++) {
        send_frame(fx->dp, fx->thr, 1, 5, tag);
    }
    for (uint32_t i = 0; i < 2; i++) {
        uint8_t next = 0;

        while (!dp_recv(fx->dp, i, &u)) {
            assert_int_equal(u->packet->data[FRAME_LEN - 1], next);
            next++;
            dp_upcall_free(u);
        }
        assert_true(next == 0 || next == 10);
    }
}

/* userspace(pid=<special>): an action upcall that handler 0 reads. */
static void
test_action_special(void **state)
{
    struct fixture *fx = *state;
    struct flow_key key, fk;
    struct flow_mask mask;
    struct dp_upcall *u;
    struct errbuf err;
    uint8_t acts[256];
    char text[128];
    size_t len;

    assert_int_equal(dp_handlers_set(fx->dp, 2, &err), 0);
    snprintf(text, sizeof text, "userspace(pid=%u,userdata(01020304))",
             dp_special_pid(fx->dp));
    len = tu_parse_actions(text, acts, sizeof acts);
    tu_parse_flow(FLOW_A, &fk, &mask);
    struct dp_flow_req r = {
        .key = &fk, .mask = &mask, .actions = acts, .actions_len = len,
        .has_actions = true,
    };
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, NULL, &err), 0);

    /* Frame 1: 10.0.0.1 -> 10.0.0.2, UDP: the flow. */
    send_frame(fx->dp, fx->thr, 1, 1, 0x11);
    assert_int_equal(dp_recv(fx->dp, 1, &u), -EAGAIN);
    assert_int_equal(dp_recv(fx->dp, 0, &u), 0);
    assert_int_equal(u->type, DP_UPCALL_ACTION);
    assert_int_equal(u->pid, dp_special_pid(fx->dp));
    assert_int_equal(u->userdata_len, 4);
    assert_memory_equal(u->userdata, "\x01\x02\x03\x04", 4);
    key_for(1, 1, &key);
    assert_memory_equal(&u->key, &key, sizeof key);
    assert_int_equal(u->packet->data[FRAME_LEN - 1], 0x11);
    dp_upcall_free(u);
    assert_all_empty(fx->dp, 2);

    /* Handler 0 reads its own channel and the special one in turn: with
     * two upcalls in each, the kinds alternate. */
    uint32_t pids[2];
    assert_int_equal(dp_port_get_upcall_pids(fx->dp, 2, pids, 2), 2);
    assert_int_equal(dp_port_set_upcall_pids(fx->dp, 2, &pids[0], 1), 0);
    send_frame(fx->dp, fx->thr, 2, 1, 0x22);   /* Port 2: misses... */
    send_frame(fx->dp, fx->thr, 2, 2, 0x23);
    send_frame(fx->dp, fx->thr, 1, 1, 0x33);   /* ...and actions. */
    send_frame(fx->dp, fx->thr, 1, 1, 0x34);
    enum dp_upcall_type last = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(dp_recv(fx->dp, 0, &u), 0);
        if (i) {
            assert_int_not_equal(u->type, last);
        }
        last = u->type;
        dp_upcall_free(u);
    }
    assert_all_empty(fx->dp, 2);

    struct dp_stats st;
    dp_get_stats(fx->dp, &st);
    assert_int_equal(st.n_lost, 0);
}

/* Per-CPU dispatch: thread t's misses go to pids[t % n]. */
static void
test_per_cpu(void **state)
{
    struct fixture *fx = *state;
    struct dp_thread *thr2 = dp_thread_create(fx->dp, NULL);
    uint32_t pids[2], rev[2], got[2], h = 0;
    struct dp_upcall *u;
    struct errbuf err;

    assert_non_null(thr2);
    assert_int_not_equal(dp_thread_id(fx->thr), dp_thread_id(thr2));
    assert_int_equal(dp_handlers_set(fx->dp, 2, &err), 0);
    assert_int_equal(dp_port_get_upcall_pids(fx->dp, 1, pids, 2), 2);
    /* dp_handlers_set() points the per-CPU PIDs at the handlers too. */
    assert_int_equal(dp_get_upcall_pids_per_cpu(fx->dp, got, 2), 2);
    assert_memory_equal(got, pids, sizeof got);

    /* Reversed, so that thread t's handler is not simply t. */
    rev[0] = pids[1];
    rev[1] = pids[0];
    assert_int_equal(dp_set_upcall_pids_per_cpu(fx->dp, rev, 2), 0);
    assert_int_equal(dp_get_upcall_pids_per_cpu(fx->dp, got, 2), 2);
    assert_memory_equal(got, rev, sizeof got);
    dp_set_user_features(fx->dp, OVS_DP_F_DISPATCH_UPCALL_PER_CPU);

    /* Whatever the flow, the thread decides. */
    for (uint32_t i = 0; i < 16; i++) {
        struct dp_thread *t = i % 2 ? thr2 : fx->thr;
        uint32_t want = rev[dp_thread_id(t) % 2];

        send_frame(fx->dp, t, 1 + i % 2, i, 0);
        u = recv_one(fx->dp, 2, &h);
        assert_int_equal(u->pid, want);
        assert_int_equal(pids[h], want);
        dp_upcall_free(u);
    }

    /* One per-CPU PID: every thread uses it. */
    assert_int_equal(dp_set_upcall_pids_per_cpu(fx->dp, &pids[1], 1), 0);
    send_frame(fx->dp, fx->thr, 1, 3, 0);
    send_frame(fx->dp, thr2, 1, 4, 0);
    assert_int_equal(dp_recv(fx->dp, 0, &u), -EAGAIN);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(dp_recv(fx->dp, 1, &u), 0);
        assert_int_equal(u->pid, pids[1]);
        dp_upcall_free(u);
    }

    /* Bad lists. */
    assert_int_equal(dp_set_upcall_pids_per_cpu(fx->dp, pids, 0), -EINVAL);
    assert_int_equal(dp_set_upcall_pids_per_cpu(fx->dp, pids,
                                                DP_UPCALL_PIDS_MAX + 1),
                     -EINVAL);

    /* Back to per-port dispatch: the port's PIDs again. */
    dp_set_user_features(fx->dp, 0);
    send_frame(fx->dp, thr2, 1, 9, 0);
    u = recv_one(fx->dp, 2, &h);
    assert_int_equal(u->pid, pids[h]);
    dp_upcall_free(u);
    dp_thread_destroy(thr2);
}

/* Per-CPU dispatch: a userspace() action's upcall whose PID no channel
 * has goes to the thread's per-CPU PID, as the kernel sends it (Open
 * vSwitch writes UINT32_MAX there); a PID a channel has is kept;
 * per-port dispatch keeps the action's PID whatever it is. */
static void
test_per_cpu_action(void **state)
{
    struct fixture *fx = *state;
    struct dp_thread *thr2 = dp_thread_create(fx->dp, NULL);
    uint32_t pids[2], rev[2], h = 0;
    struct flow_key fk;
    struct flow_mask mask;
    struct dp_upcall *u;
    struct dp_stats st;
    struct errbuf err;
    uint8_t acts[256];
    char text[96];
    size_t len;

    assert_non_null(thr2);
    assert_int_equal(dp_handlers_set(fx->dp, 2, &err), 0);
    assert_int_equal(dp_port_get_upcall_pids(fx->dp, 1, pids, 2), 2);
    rev[0] = pids[1];
    rev[1] = pids[0];
    assert_int_equal(dp_set_upcall_pids_per_cpu(fx->dp, rev, 2), 0);
    dp_set_user_features(fx->dp, OVS_DP_F_DISPATCH_UPCALL_PER_CPU);

    len = tu_parse_actions("userspace(pid=4294967295,userdata(0a0b))",
                           acts, sizeof acts);
    tu_parse_flow(FLOW_A, &fk, &mask);
    struct dp_flow_req r = {
        .key = &fk, .mask = &mask, .actions = acts, .actions_len = len,
        .has_actions = true,
    };
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, NULL, &err), 0);

    for (uint32_t i = 0; i < 4; i++) {
        struct dp_thread *t = i % 2 ? thr2 : fx->thr;
        uint32_t want = rev[dp_thread_id(t) % 2];

        send_frame(fx->dp, t, 1, 1, (uint8_t) i);
        u = recv_one(fx->dp, 2, &h);
        assert_int_equal(u->type, DP_UPCALL_ACTION);
        assert_int_equal(u->pid, want);
        assert_int_equal(pids[h], want);
        assert_int_equal(u->userdata_len, 2);
        assert_memory_equal(u->userdata, "\x0a\x0b", 2);
        assert_int_equal(u->packet->data[FRAME_LEN - 1], i);
        dp_upcall_free(u);
        dp_get_stats(fx->dp, &st);
        assert_int_equal(st.n_lost, 0);
    }

    /* Per-port dispatch: the action's own PID, here one nobody has. */
    dp_set_user_features(fx->dp, 0);
    send_frame(fx->dp, fx->thr, 1, 1, 0);
    assert_all_empty(fx->dp, 2);
    dp_get_stats(fx->dp, &st);
    assert_int_equal(st.n_lost, 1);

    /* Per-CPU dispatch and a PID a channel has: that channel, from both
     * threads (whose per-CPU PIDs differ). */
    dp_set_user_features(fx->dp, OVS_DP_F_DISPATCH_UPCALL_PER_CPU);
    snprintf(text, sizeof text, "userspace(pid=%u,userdata(0c))", pids[0]);
    len = tu_parse_actions(text, acts, sizeof acts);
    r.actions_len = len;
    assert_int_equal(dp_flow_set(fx->dp, &r, NULL, &err), 0);
    for (uint32_t i = 0; i < 2; i++) {
        send_frame(fx->dp, i ? thr2 : fx->thr, 1, 1, (uint8_t) i);
        u = recv_one(fx->dp, 2, &h);
        assert_int_equal(u->pid, pids[0]);
        assert_int_equal(h, 0);
        dp_upcall_free(u);
    }
    dp_thread_destroy(thr2);
}

/* A packet without an Ethernet header recirculates (the kernel's
 * MAC_PROTO_NONE): the next pass looks it up as an L3 packet, a miss
 * upcalls the L3 bytes with a key without eth, and a flow that matches
 * eth_type without eth() takes it. */
static void
test_l3_recirc(void **state)
{
    static const uint8_t src[6] = { 2, 0, 0, 0, 0, 1 };
    static const uint8_t dst[6] = { 2, 0, 0, 0, 0, 2 };
    struct fixture *fx = *state;
    struct pkt_metadata md = { .in_port = 1, .recirc_id = 1,
                               .l3_type = htons(0x0800) };
    struct flow_key fk, key;
    struct flow_mask mask;
    struct dp_upcall *u;
    struct packet *p;
    struct dp_stats st;
    struct errbuf err;
    uint8_t acts[256], f[FRAME_LEN];
    size_t len;
    uint32_t h;

    assert_int_equal(dp_handlers_set(fx->dp, 2, &err), 0);
    len = tu_parse_actions("pop_eth,recirc(1)", acts, sizeof acts);
    tu_parse_flow(FLOW_A, &fk, &mask);
    struct dp_flow_req r = {
        .key = &fk, .mask = &mask, .actions = acts, .actions_len = len,
        .has_actions = true,
    };
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, NULL, &err), 0);

    /* No flow for recirc_id 1 yet: a miss with the L3 packet. */
    frame_for(f, 1, 0x44);
    send_frame(fx->dp, fx->thr, 1, 1, 0x44);
    u = recv_one(fx->dp, 2, &h);
    assert_int_equal(u->type, DP_UPCALL_MISS);
    assert_int_equal(u->key.mac_proto, FKEY_MAC_NONE);
    assert_int_equal(u->key.recirc_id, 1);
    assert_int_equal(ntohs(u->key.eth_type), 0x0800);
    assert_int_equal(u->key.nw_proto, 17);
    assert_int_equal(fkey_extract(f + 14, FRAME_LEN - 14, &md, &key), 0);
    assert_memory_equal(&u->key, &key, sizeof key);
    assert_int_equal(u->packet->len, FRAME_LEN - 14);
    assert_memory_equal(u->packet->data, f + 14, FRAME_LEN - 14);
    dp_upcall_free(u);

    /* The second pass's flow: push_eth and out of port 2. */
    len = tu_parse_actions("push_eth(src=02:00:00:00:00:01,"
                           "dst=02:00:00:00:00:02),2", acts, sizeof acts);
    tu_parse_flow("recirc_id(1),in_port(1),eth_type(0x0800),"
                  "ipv4(frag=no)", &fk, &mask);
    assert_int_equal(fk.mac_proto, FKEY_MAC_NONE);
    r.key = &fk;
    r.actions_len = len;
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, NULL, &err), 0);
    send_frame(fx->dp, fx->thr, 1, 1, 0x45);
    assert_all_empty(fx->dp, 2);
    p = port_dummy_take(dp_port_get(fx->dp, 2));
    assert_non_null(p);
    assert_int_equal(p->len, FRAME_LEN);
    assert_memory_equal(p->data, dst, 6);
    assert_memory_equal(p->data + 6, src, 6);
    frame_for(f, 1, 0x45);
    assert_memory_equal(p->data + 12, f + 12, FRAME_LEN - 12);
    packet_free(p);
    dp_get_stats(fx->dp, &st);
    assert_int_equal(st.n_lost, 0);
}

/* Without handlers every miss is lost and counted. */
static void
test_lost_no_handlers(void **state)
{
    struct fixture *fx = *state;
    uint64_t ok, fail;
    struct dp_upcall *u;
    struct dp_stats st;
    struct errbuf err;
    uint32_t pid;

    assert_int_equal(dp_special_pid(fx->dp), 0);
    assert_int_equal(dp_port_get_upcall_pids(fx->dp, 1, &pid, 1), 1);
    assert_int_equal(pid, 0);
    send_frame(fx->dp, fx->thr, 1, 1, 0);
    send_frame(fx->dp, fx->thr, 1, 2, 0);
    dp_get_stats(fx->dp, &st);
    assert_int_equal(st.n_missed, 2);
    assert_int_equal(st.n_lost, 2);
    assert_int_equal(dp_port_get_upcall_stats(fx->dp, 1, &ok, &fail), 0);
    assert_int_equal(ok, 0);
    assert_int_equal(fail, 2);

    /* With handlers, then without again (closed: the PIDs are 0). */
    assert_int_equal(dp_handlers_set(fx->dp, 2, &err), 0);
    send_frame(fx->dp, fx->thr, 1, 1, 0);
    assert_int_equal(dp_handlers_set(fx->dp, 0, &err), 0);
    assert_int_equal(dp_recv(fx->dp, 0, &u), -EINVAL);
    assert_int_equal(dp_special_pid(fx->dp), 0);
    assert_int_equal(dp_port_get_upcall_pids(fx->dp, 1, &pid, 1), 1);
    assert_int_equal(pid, 0);
    send_frame(fx->dp, fx->thr, 1, 1, 0);
    dp_get_stats(fx->dp, &st);
    assert_int_equal(st.n_missed, 4);
    assert_int_equal(st.n_lost, 3);
    assert_int_equal(dp_port_get_upcall_stats(fx->dp, 1, &ok, &fail), 0);
    assert_int_equal(ok, 1);
    assert_int_equal(fail, 3);

    /* A port pointed at a PID no channel has: lost. */
    assert_int_equal(dp_handlers_set(fx->dp, 1, &err), 0);
    pid = 12345;
    assert_int_equal(dp_port_set_upcall_pids(fx->dp, 2, &pid, 1), 0);
    send_frame(fx->dp, fx->thr, 2, 1, 0);
    assert_int_equal(dp_port_get_upcall_stats(fx->dp, 2, &ok, &fail), 0);
    assert_int_equal(ok, 0);
    assert_int_equal(fail, 1);
    assert_all_empty(fx->dp, 1);
    assert_int_equal(dp_handlers_set(fx->dp, DP_UPCALL_PIDS_MAX + 1, &err),
                     -EINVAL);
}

/* A full port FIFO: the new upcalls are lost and counted; nothing queued
 * and no other port loses anything. */
static void
test_lost_full(void **state)
{
    struct fixture *fx = *state;
    uint64_t ok, fail;
    struct dp_upcall *u;
    struct dp_stats st;
    struct errbuf err;

    upcall_reg_set_queue_len(dp_upcalls(fx->dp), 4);
    assert_int_equal(dp_handlers_set(fx->dp, 1, &err), 0);

    /* Six frames on port 1, one batch: four queued, two lost. */
    for (uint8_t tag = 0; tag < 6; tag++) {
        uint8_t f[FRAME_LEN];

        frame_for(f, tag, tag);
        assert_int_equal(port_dummy_inject(dp_port_get(fx->dp, 1), f,
                                           sizeof f), 0);
    }
    assert_int_equal(dp_poll(fx->thr, 1, 0), 6);
    send_frame(fx->dp, fx->thr, 2, 0, 0x22);
    dp_get_stats(fx->dp, &st);
    assert_int_equal(st.n_missed, 7);
    assert_int_equal(st.n_lost, 2);
    assert_int_equal(dp_port_get_upcall_stats(fx->dp, 1, &ok, &fail), 0);
    assert_int_equal(ok, 4);
    assert_int_equal(fail, 2);
    assert_int_equal(dp_port_get_upcall_stats(fx->dp, 2, &ok, &fail), 0);
    assert_int_equal(ok, 1);
    assert_int_equal(fail, 0);

    /* Round robin: port 1's first, port 2's, then port 1's in order. */
    uint8_t want_port[5] = { 1, 2, 1, 1, 1 };
    uint8_t want_tag[5] = { 0, 0x22, 1, 2, 3 };
    for (int i = 0; i < 5; i++) {
        assert_int_equal(dp_recv(fx->dp, 0, &u), 0);
        assert_int_equal(u->packet->md.in_port, want_port[i]);
        assert_int_equal(u->packet->data[FRAME_LEN - 1], want_tag[i]);
        dp_upcall_free(u);
    }
    assert_all_empty(fx->dp, 1);
}

struct late {
    struct datapath *dp;
    uint32_t port_no;
    long delay_ms;
};

/* Sends one frame from a thread of its own after a delay. */
static void *
late_main(void *arg)
{
    struct late *l = arg;
    struct dp_thread *thr;
    uint8_t f[FRAME_LEN];
    int n;

    tu_sleep_ms(l->delay_ms);
    qsbr_register();
    thr = dp_thread_create(l->dp, NULL);
    if (!thr) {
        abort();
    }
    frame_for(f, 42, 0x42);
    port_dummy_inject(dp_port_get(l->dp, l->port_no), f, sizeof f);
    n = dp_poll(thr, l->port_no, 0);
    dp_thread_destroy(thr);
    qsbr_unregister();
    return (void *) (intptr_t) n;
}

/* dp_recv_wait(): times out, wakes up on a miss from another thread, and
 * handler 0 wakes up for the special channel too. */
static void
test_wait(void **state)
{
    struct fixture *fx = *state;
    struct late l = { fx->dp, 1, 100 };
    struct dp_upcall *u;
    struct errbuf err;
    pthread_t th;
    uint32_t h = 0;
    int64_t t0;
    void *ret;

    assert_int_equal(dp_recv_wait(fx->dp, 0, 0), -EINVAL);
    assert_int_equal(dp_handlers_set(fx->dp, 2, &err), 0);
    assert_int_equal(dp_recv_wait(fx->dp, 2, 0), -EINVAL);
    t0 = tu_now_ms();
    assert_int_equal(dp_recv_wait(fx->dp, 0, 50), -ETIMEDOUT);
    assert_true(tu_now_ms() - t0 >= 45);
    assert_int_equal(dp_recv_wait(fx->dp, 1, 0), -ETIMEDOUT);

    /* Flow 42 goes to one handler: find which, with a first frame. */
    send_frame(fx->dp, fx->thr, 1, 42, 0);
    u = recv_one(fx->dp, 2, &h);
    dp_upcall_free(u);

    assert_int_equal(pthread_create(&th, NULL, late_main, &l), 0);
    assert_int_equal(dp_recv_wait(fx->dp, h, -1), 0);
    assert_int_equal(dp_recv_wait(fx->dp, 1 - h, 0), -ETIMEDOUT);
    assert_int_equal(dp_recv(fx->dp, h, &u), 0);
    assert_int_equal(u->packet->data[FRAME_LEN - 1], 0x42);
    dp_upcall_free(u);
    assert_int_equal(pthread_join(th, &ret), 0);
    assert_int_equal((intptr_t) ret, 1);
    assert_int_equal(dp_recv_wait(fx->dp, h, 0), -ETIMEDOUT);

    /* The special channel wakes handler 0 only. */
    struct dp_upcall *s = calloc(1, sizeof *s);
    uint8_t f[FRAME_LEN];
    assert_non_null(s);
    frame_for(f, 0, 0x55);
    s->type = DP_UPCALL_ACTION;
    s->packet = packet_create(f, sizeof f);
    assert_non_null(s->packet);
    s->pid = dp_special_pid(fx->dp);
    assert_int_equal(upcall_deliver(dp_upcalls(fx->dp), s), 0);
    assert_int_equal(dp_recv_wait(fx->dp, 1, 0), -ETIMEDOUT);
    assert_int_equal(dp_recv_wait(fx->dp, 0, 1000), 0);
    assert_int_equal(dp_recv(fx->dp, 1, &u), -EAGAIN);
    assert_int_equal(dp_recv(fx->dp, 0, &u), 0);
    assert_int_equal(u->packet->data[FRAME_LEN - 1], 0x55);
    dp_upcall_free(u);
    assert_int_equal(dp_recv_wait(fx->dp, 0, 0), -ETIMEDOUT);
}

/* dp_recv_purge(): every handler's upcalls and the special channel's. */
static void
test_purge(void **state)
{
    struct fixture *fx = *state;
    struct dp_upcall *u;
    struct errbuf err;

    dp_recv_purge(fx->dp);      /* No handlers: nothing to do. */
    assert_int_equal(dp_handlers_set(fx->dp, 2, &err), 0);
    for (uint32_t i = 0; i < 40; i++) {
        send_frame(fx->dp, fx->thr, 1 + i % 2, i, 0);
    }
    u = calloc(1, sizeof *u);
    assert_non_null(u);
    u->packet = packet_create("\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 14);
    assert_non_null(u->packet);
    u->pid = dp_special_pid(fx->dp);
    assert_int_equal(upcall_deliver(dp_upcalls(fx->dp), u), 0);
    assert_int_equal(dp_recv_wait(fx->dp, 0, 0), 0);

    dp_recv_purge(fx->dp);
    assert_all_empty(fx->dp, 2);
    assert_int_equal(dp_recv_wait(fx->dp, 0, 0), -ETIMEDOUT);
    assert_int_equal(dp_recv_wait(fx->dp, 1, 0), -ETIMEDOUT);

    /* The handlers work on after a purge. */
    uint32_t h = 0;
    send_frame(fx->dp, fx->thr, 1, 3, 0x33);
    u = recv_one(fx->dp, 2, &h);
    assert_int_equal(u->packet->data[FRAME_LEN - 1], 0x33);
    dp_upcall_free(u);

    /* Replacing the handlers frees what the old ones held. */
    for (uint32_t i = 0; i < 10; i++) {
        send_frame(fx->dp, fx->thr, 1, i, 0);
    }
    assert_int_equal(dp_handlers_set(fx->dp, 3, &err), 0);
    assert_all_empty(fx->dp, 3);
    /* And destroying the datapath frees what the handlers hold. */
    for (uint32_t i = 0; i < 10; i++) {
        send_frame(fx->dp, fx->thr, 1, i, 0);
    }
}

/* Threads: one polls packets all along; handler threads read with
 * dp_recv_wait()/dp_recv(); between rounds the main thread stops them
 * and changes the number of handlers (the packet thread goes on). */
struct mt {
    struct datapath *dp;
    atomic_bool stop_packets;
    atomic_bool stop_handlers;
    atomic_ullong n_read;
    uint64_t n_sent;            /* The packet thread's. */
};

struct mt_handler {
    struct mt *mt;
    uint32_t id;
    bool bad;
};

static void *
mt_packet_main(void *arg)
{
    struct mt *mt = arg;
    struct dp_thread *thr;
    uint8_t f[FRAME_LEN];
    uint32_t i = 0;

    qsbr_register();
    thr = dp_thread_create(mt->dp, NULL);
    if (!thr) {
        abort();
    }
    while (!atomic_load(&mt->stop_packets)) {
        for (int k = 0; k < 8; k++, i++) {
            frame_for(f, i % 1000, (uint8_t) i);
            port_dummy_inject(dp_port_get(mt->dp, 1 + i % 2), f, sizeof f);
        }
        for (uint32_t port = 1; port <= 2; port++) {
            int n = dp_poll(thr, port, 0);

            mt->n_sent += n > 0 ? (uint64_t) n : 0;
        }
        dp_thread_quiesce(thr);
    }
    dp_thread_destroy(thr);
    qsbr_unregister();
    return NULL;
}

static void *
mt_handler_main(void *arg)
{
    struct mt_handler *h = arg;
    struct mt *mt = h->mt;
    struct dp_upcall *u;

    qsbr_register();
    while (!atomic_load(&mt->stop_handlers)) {
        int error = dp_recv_wait(mt->dp, h->id, 10);

        if (error && error != -ETIMEDOUT) {
            h->bad = true;
        }
        while (!dp_recv(mt->dp, h->id, &u)) {
            if (u->type != DP_UPCALL_MISS || u->key.in_port < 1
                || u->key.in_port > 2) {
                h->bad = true;
            }
            atomic_fetch_add(&mt->n_read, 1);
            dp_upcall_free(u);
        }
        qsbr_quiesce();
    }
    qsbr_unregister();
    return NULL;
}

static void
test_threads(void **state)
{
    struct fixture *fx = *state;
    struct mt mt = { .dp = fx->dp };
    static const uint32_t n_handlers[] = { 2, 1, 0, 3, 2 };
    struct mt_handler hs[4];
    pthread_t pkt, th[4];
    struct errbuf err;
    uint64_t ok1, fail1, ok2, fail2;
    struct dp_stats st;

    atomic_init(&mt.stop_packets, false);
    atomic_init(&mt.n_read, 0);
    upcall_reg_set_queue_len(dp_upcalls(fx->dp), 64);
    assert_int_equal(pthread_create(&pkt, NULL, mt_packet_main, &mt), 0);
    for (size_t r = 0; r < sizeof n_handlers / sizeof n_handlers[0]; r++) {
        uint32_t n = n_handlers[r];

        /* No thread is in dp_recv() now; packets keep coming. */
        assert_int_equal(dp_handlers_set(fx->dp, n, &err), 0);
        atomic_store(&mt.stop_handlers, false);
        for (uint32_t i = 0; i < n; i++) {
            hs[i] = (struct mt_handler) { &mt, i, false };
            assert_int_equal(pthread_create(&th[i], NULL, mt_handler_main,
                                            &hs[i]), 0);
        }
        qsbr_offline();
        tu_sleep_ms(100);
        atomic_store(&mt.stop_handlers, true);
        for (uint32_t i = 0; i < n; i++) {
            assert_int_equal(pthread_join(th[i], NULL), 0);
            assert_false(hs[i].bad);
        }
        qsbr_online();
    }
    atomic_store(&mt.stop_packets, true);
    qsbr_offline();
    assert_int_equal(pthread_join(pkt, NULL), 0);
    qsbr_online();

    /* Every miss was queued or lost, and counted as such; no more was
     * read than queued. */
    dp_get_stats(fx->dp, &st);
    assert_int_equal(dp_port_get_upcall_stats(fx->dp, 1, &ok1, &fail1), 0);
    assert_int_equal(dp_port_get_upcall_stats(fx->dp, 2, &ok2, &fail2), 0);
    assert_int_equal(st.n_missed, mt.n_sent);
    assert_int_equal(ok1 + fail1 + ok2 + fail2, st.n_missed);
    assert_int_equal(fail1 + fail2, st.n_lost);
    assert_true(atomic_load(&mt.n_read) <= ok1 + ok2);
    assert_true(atomic_load(&mt.n_read) > 0);
    assert_true(st.n_lost > 0);         /* The round without handlers. */
    printf("threads: %llu misses, %llu lost, %llu read\n",
           (unsigned long long) st.n_missed,
           (unsigned long long) st.n_lost,
           (unsigned long long) atomic_load(&mt.n_read));
}

/* Returns a UDP frame from 10.0.0.1 to 'dst' whose last byte is 'tag'. */
static struct packet *
tagged_frame(uint32_t dst, uint8_t tag)
{
    uint8_t f[FRAME_LEN];

    tu_udp_frame(f, sizeof f, 0x0a000001, dst, 1000, 53);
    f[FRAME_LEN - 1] = tag;
    return packet_create(f, sizeof f);
}

/* Misses and userspace() upcalls of one batch reach their port's FIFO in
 * the order the packets arrived (seed 001). */
static void
test_batch_order(void **state)
{
    struct fixture *fx = *state;
    struct flow_key key;
    struct flow_mask mask;
    struct dp_flow_req r = { 0 };
    struct errbuf err;
    struct pkt_batch b;
    struct dp_upcall *u;
    uint8_t acts[256];
    char text[256], got[8] = "";
    uint32_t pid;
    size_t n = 0;

    assert_int_equal(dp_handlers_set(fx->dp, 1, &err), 0);
    assert_int_equal(dp_port_get_upcall_pids(fx->dp, 1, &pid, 1), 1);
    tu_parse_flow("recirc_id(0),in_port(1),eth(),eth_type(0x0800),"
                  "ipv4(dst=10.0.0.2,frag=no)", &key, &mask);
    snprintf(text, sizeof text, "userspace(pid=%u)", pid);
    r.key = &key;
    r.mask = &mask;
    r.actions = acts;
    r.actions_len = tu_parse_actions(text, acts, sizeof acts);
    r.has_actions = true;
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, NULL, &err), 0);

    /* A and C miss; B and D hit the flow and make action upcalls. */
    pkt_batch_init(&b);
    pkt_batch_add(&b, tagged_frame(0x0a000003, 'A'));
    pkt_batch_add(&b, tagged_frame(0x0a000002, 'B'));
    pkt_batch_add(&b, tagged_frame(0x0a000004, 'C'));
    pkt_batch_add(&b, tagged_frame(0x0a000002, 'D'));
    dp_input(fx->thr, 1, &b);
    while (n < 6 && !dp_recv(fx->dp, 0, &u)) {
        got[n++] = (char) u->packet->data[FRAME_LEN - 1];
        assert_int_equal(u->type, got[n - 1] == 'A' || got[n - 1] == 'C'
                                  ? DP_UPCALL_MISS : DP_UPCALL_ACTION);
        dp_upcall_free(u);
    }
    assert_string_equal(got, "ABCD");

    /* Three upcalls per packet, 32 packets: more than a thread holds at
     * first (64); still in packet order, and in action order within a
     * packet. */
    snprintf(text, sizeof text, "userspace(pid=%u,userdata(01)),"
             "userspace(pid=%u,userdata(02)),userspace(pid=%u,"
             "userdata(03))", pid, pid, pid);
    r.actions_len = tu_parse_actions(text, acts, sizeof acts);
    assert_int_equal(dp_flow_set(fx->dp, &r, NULL, &err), 0);
    pkt_batch_init(&b);
    for (int i = 0; i < PKT_BATCH_MAX; i++) {
        pkt_batch_add(&b, tagged_frame(0x0a000002, (uint8_t) i));
    }
    dp_input(fx->thr, 1, &b);
    for (int i = 0; i < 3 * PKT_BATCH_MAX; i++) {
        assert_int_equal(dp_recv(fx->dp, 0, &u), 0);
        assert_int_equal(u->packet->data[FRAME_LEN - 1], i / 3);
        assert_int_equal(u->userdata_len, 1);
        assert_int_equal(((uint8_t *) u->userdata)[0], i % 3 + 1);
        dp_upcall_free(u);
    }
    assert_int_equal(dp_recv(fx->dp, 0, &u), -EAGAIN);
}

/* A miss upcall does not keep its port's receive buffer: a burst of new
 * flows that nobody reads yet must not stop the port from receiving
 * packets of established flows. */
static void
test_miss_frees_rx_buffer(void **state)
{
    struct fixture *fx = *state;
    struct errbuf err;
    uint32_t no = 3, out = 4;
    uint8_t f[FRAME_LEN], acts[16];
    struct flow_key key;
    struct flow_mask mask;
    struct dp_flow_req r = { 0 };
    struct dp_stats st;
    uint64_t polled = 0;

    /* A looping port: 1024 pooled buffers, 64 frames cycled through. */
    assert_int_equal(dp_port_add(fx->dp, "dummy", "loop", "loop=true", &no,
                                 &err), 0);
    assert_int_equal(dp_port_add(fx->dp, "dummy", "out", "capture=false",
                                 &out, &err), 0);
    for (uint32_t i = 0; i < 64; i++) {
        /* Frame 0 is the established flow, the rest are new flows. */
        tu_udp_frame(f, sizeof f, 0x0a000001, 0x0a000100 + i, 1000, 53);
        assert_int_equal(port_dummy_inject(dp_port_get(fx->dp, no), f,
                                           sizeof f), 0);
    }
    tu_parse_flow("recirc_id(0),in_port(3),eth(),eth_type(0x0800),"
                  "ipv4(dst=10.0.1.0,frag=no)", &key, &mask);
    r.key = &key;
    r.mask = &mask;
    r.actions = acts;
    r.actions_len = tu_parse_actions("4", acts, sizeof acts);
    r.has_actions = true;
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, NULL, &err), 0);
    /* Handlers that do not read: every miss stays queued. */
    upcall_reg_set_queue_len(dp_upcalls(fx->dp), 4096);
    assert_int_equal(dp_handlers_set(fx->dp, 4, &err), 0);

    for (int i = 0; i < 200; i++) {
        int n = dp_poll(fx->thr, no, 0);

        assert_true(n >= 0);
        polled += (uint64_t) n;
    }
    /* 200 full batches: far more than the pool's 1024 buffers. */
    assert_int_equal(polled, 200 * PKT_BATCH_MAX);
    dp_get_stats(fx->dp, &st);
    assert_int_equal(st.n_hit, polled / 64);
    assert_int_equal(st.n_missed, polled - polled / 64);
    assert_int_equal(st.n_lost, 0);
    dp_recv_purge(fx->dp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_action_special, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_per_cpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_cpu_action, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_l3_recirc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_no_handlers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lost_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_miss_frees_rx_buffer, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
