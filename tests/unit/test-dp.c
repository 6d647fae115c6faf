/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for dp/dp.c: datapath objects and ports, the OVS_FLOW_CMD_*
 * semantics of seed 000 (UFID and key identity, EEXIST/ENOENT, OMIT
 * flags, mask narrowing, flow limit), dumps under concurrent change from
 * several threads, and packets through dummy ports (hits, misses,
 * upcalls, statistics, the exact-match cache, recirculation, execute). */

#include <errno.h>
#include <linux/openvswitch.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dp/dp.h"
#include "dp/upcall.h"
#include "lib/errbuf.h"
#include "lib/rcu.h"
#include "packet/packet.h"
#include "port/port-dummy.h"
#include "port/port.h"
#include "tests/unit/dp-test-util.h"

#define FLOW_A "recirc_id(0),in_port(1),eth(),eth_type(0x0800)," \
               "ipv4(src=10.0.0.1,dst=10.0.0.2/255.255.255.0,proto=17," \
               "frag=no),udp()"
#define FLOW_B "recirc_id(0),in_port(1),eth(),eth_type(0x0800)," \
               "ipv4(src=10.0.0.1,dst=10.0.1.2/255.255.255.0,proto=17," \
               "frag=no),udp()"

struct fixture {
    struct datapath *dp;
    struct flow_key ka, kb;
    struct flow_mask ma, mb;
    uint8_t out2[64];
    size_t out2_len;
    uint8_t out3[64];
    size_t out3_len;
};

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct errbuf err;

    qsbr_register();
    assert_int_equal(dp_create("dp0", NULL, &fx->dp, &err), 0);
    tu_parse_flow(FLOW_A, &fx->ka, &fx->ma);
    tu_parse_flow(FLOW_B, &fx->kb, &fx->mb);
    fx->out2_len = tu_parse_actions("2", fx->out2, sizeof fx->out2);
    fx->out3_len = tu_parse_actions("3", fx->out3, sizeof fx->out3);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    qsbr_offline();
    dp_destroy(fx->dp);
    qsbr_online();
    qsbr_unregister();
    free(fx);
    return 0;
}

static struct dp_flow_req
req_for(const struct flow_key *k, const struct flow_mask *m,
        const struct ufid *u, const void *acts, size_t len)
{
    struct dp_flow_req r = {
        .key = k, .mask = m, .ufid = u, .actions = acts,
        .actions_len = len, .has_actions = acts != NULL,
    };
    return r;
}

static void
test_ports(void **state)
{
    struct fixture *fx = *state;
    struct errbuf err;
    uint32_t no = DP_PORT_ANY, nums[8], cursor = 0;

    assert_string_equal(dp_name(fx->dp), "dp0");
    assert_int_equal(dp_get_user_features(fx->dp), 0);
    dp_set_user_features(fx->dp, OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS);
    assert_int_equal(dp_get_user_features(fx->dp),
                     OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS);
    assert_int_equal(dp_get_flow_limit(fx->dp), DP_DEFAULT_FLOW_LIMIT);
    assert_non_null(dp_port_get(fx->dp, 0));
    assert_string_equal(dp_port_get(fx->dp, 0)->name, "dp0");
    assert_int_equal(dp_port_by_name(fx->dp, "dp0"), 0);
    assert_int_equal(dp_port_add(fx->dp, "dummy", "p1", NULL, &no, &err), 0);
    assert_int_equal(no, 1);
    no = 5;
    assert_int_equal(dp_port_add(fx->dp, "dummy", "p5", NULL, &no, &err), 0);
    assert_int_equal(no, 5);
    no = DP_PORT_ANY;
    assert_int_equal(dp_port_add(fx->dp, "dummy", "p1", NULL, &no, &err),
                     -EEXIST);
    no = 5;
    assert_int_equal(dp_port_add(fx->dp, "dummy", "px", NULL, &no, &err),
                     -EEXIST);
    no = 65535;
    assert_int_equal(dp_port_add(fx->dp, "dummy", "py", NULL, &no, &err),
                     -EFBIG);
    no = DP_PORT_ANY;
    assert_true(dp_port_add(fx->dp, "nosuchtype", "pz", NULL, &no, &err)
                < 0);
    assert_int_equal(dp_port_list(fx->dp, &cursor, nums, 8), 3);
    assert_int_equal(nums[0], 0);
    assert_int_equal(nums[1], 1);
    assert_int_equal(nums[2], 5);
    assert_int_equal(dp_port_del(fx->dp, 0), -EINVAL);
    assert_int_equal(dp_port_del(fx->dp, 5), 0);
    assert_int_equal(dp_port_del(fx->dp, 5), -ENOENT);
    assert_null(dp_port_get(fx->dp, 5));
    uint32_t pids[4] = { 77, 78 };
    assert_int_equal(dp_port_get_upcall_pids(fx->dp, 1, pids, 4), 1);
    assert_int_equal(pids[0], 0);               /* None set: PID 0. */
    pids[0] = 77;
    assert_int_equal(dp_port_set_upcall_pids(fx->dp, 1, pids, 2), 0);
    memset(pids, 0, sizeof pids);
    assert_int_equal(dp_port_get_upcall_pids(fx->dp, 1, pids, 4), 2);
    assert_int_equal(pids[0], 77);
    assert_int_equal(pids[1], 78);
    assert_int_equal(dp_port_get_upcall_pids(fx->dp, 1, pids, 1), 2);
    assert_int_equal(dp_port_set_upcall_pids(fx->dp, 9, pids, 1), -ENOENT);
    assert_int_equal(dp_port_set_upcall_pids(fx->dp, 1, pids, 0), -EINVAL);
    assert_int_equal(dp_port_set_upcall_pids(fx->dp, 1, pids,
                                             DP_UPCALL_PIDS_MAX + 1),
                     -EINVAL);

    struct datapath *bad;
    assert_int_equal(dp_create("", NULL, &bad, &err), -EINVAL);
    assert_int_equal(dp_create("a-name-much-too-long", NULL, &bad, &err),
                     -EINVAL);
}

/* Flows without UFID: named by their unmasked key. */
static void
test_key_flows(void **state)
{
    struct fixture *fx = *state;
    struct dp_flow_req r = req_for(&fx->ka, &fx->ma, NULL, fx->out2,
                                   fx->out2_len);
    struct dp_flow_info info;
    struct errbuf err;

    assert_int_equal(dp_flow_new(fx->dp, &r, 0, &info, &err), 0);
    assert_true(info.has_key && info.has_mask && info.has_actions);
    assert_false(info.has_ufid);
    /* The key as installed, not masked. */
    assert_memory_equal(&info.key, &fx->ka, sizeof fx->ka);
    assert_int_equal(info.actions_len, fx->out2_len);

    /* Same key: a modification, or -EEXIST when exclusive. */
    r.actions = fx->out3;
    r.actions_len = fx->out3_len;
    assert_int_equal(dp_flow_new(fx->dp, &r, DP_FLOW_EXCL, NULL, &err),
                     -EEXIST);
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, &info, &err), 1);
    assert_memory_equal(info.actions, fx->out3, fx->out3_len);

    /* A different unmasked key that the flow matches: an overlap. */
    struct flow_key k2 = fx->ka;
    k2.addr.ipv4.dst = htonl(0x0a000063);   /* 10.0.0.99: same /24. */
    r.key = &k2;
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, NULL, &err), -ENOENT);
    assert_int_equal(dp_flow_new(fx->dp, &r, DP_FLOW_EXCL, NULL, &err),
                     -EEXIST);
    /* ... and it does not name the flow. */
    assert_int_equal(dp_flow_get(fx->dp, &r, &info, &err), -ENOENT);
    assert_int_equal(dp_flow_del(fx->dp, &r, &info, &err), -ENOENT);

    r.key = &fx->ka;
    assert_int_equal(dp_flow_get(fx->dp, &r, &info, &err), 0);
    /* OMIT_KEY is ignored for a flow without UFID; the others apply. */
    r.ufid_flags = OVS_UFID_F_OMIT_KEY | OVS_UFID_F_OMIT_MASK
                   | OVS_UFID_F_OMIT_ACTIONS;
    assert_int_equal(dp_flow_get(fx->dp, &r, &info, &err), 0);
    assert_true(info.has_key);
    assert_false(info.has_mask);
    assert_false(info.has_actions);
    assert_int_equal(dp_flow_del(fx->dp, &r, &info, &err), 0);
    assert_int_equal(dp_flow_del(fx->dp, &r, &info, &err), -ENOENT);

    r.key = NULL;
    assert_int_equal(dp_flow_get(fx->dp, &r, &info, &err), -EINVAL);
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, &info, &err), -EINVAL);
}

/* Flows with a UFID: named by it alone; terse replies. */
static void
test_ufid_flows(void **state)
{
    struct fixture *fx = *state;
    struct ufid u1 = { 16, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                             15, 16 } };
    struct ufid u2 = { 1, { 0x42 } };
    struct ufid u3 = { 16, { 3 } };
    struct dp_flow_req r = req_for(&fx->ka, &fx->ma, &u1, fx->out2,
                                   fx->out2_len);
    struct dp_flow_info info;
    struct errbuf err;
    struct dp_stats st;

    assert_int_equal(dp_flow_new(fx->dp, &r, 0, &info, &err), 0);
    assert_true(info.has_ufid);
    assert_true(ufid_equal(&info.ufid, &u1));
    /* A UFID flow reports its masked key. */
    assert_int_equal(info.key.addr.ipv4.dst, htonl(0x0a000000));
    assert_int_equal(info.mask.bits.addr.ipv4.dst, htonl(0xffffff00));

    /* Not by key. */
    struct dp_flow_req byk = req_for(&fx->ka, NULL, NULL, NULL, 0);
    assert_int_equal(dp_flow_get(fx->dp, &byk, &info, &err), -ENOENT);

    /* A 1-byte UFID for another flow. */
    struct dp_flow_req r2 = req_for(&fx->kb, &fx->mb, &u2, fx->out3,
                                    fx->out3_len);
    assert_int_equal(dp_flow_new(fx->dp, &r2, DP_FLOW_EXCL, NULL, &err), 0);

    /* Same UFID again: EEXIST exclusive, else a modification (even with
     * another key: the UFID names the flow). */
    assert_int_equal(dp_flow_new(fx->dp, &r, DP_FLOW_EXCL, NULL, &err),
                     -EEXIST);
    r.actions = fx->out3;
    r.actions_len = fx->out3_len;
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, &info, &err), 1);
    assert_memory_equal(info.actions, fx->out3, fx->out3_len);

    /* Another UFID whose masked key an existing flow matches. */
    struct dp_flow_req r3 = req_for(&fx->ka, &fx->ma, &u3, fx->out2,
                                    fx->out2_len);
    assert_int_equal(dp_flow_new(fx->dp, &r3, 0, NULL, &err), -ENOENT);
    assert_int_equal(dp_flow_new(fx->dp, &r3, DP_FLOW_EXCL, NULL, &err),
                     -EEXIST);

    /* Lookup by a UFID that is not there; a key in the request is then
     * ignored. */
    r3.key = &fx->ka;
    assert_int_equal(dp_flow_get(fx->dp, &r3, &info, &err), -ENOENT);

    /* Terse replies. */
    r.ufid_flags = OVS_UFID_F_OMIT_KEY | OVS_UFID_F_OMIT_MASK
                   | OVS_UFID_F_OMIT_ACTIONS;
    r.key = NULL;
    assert_int_equal(dp_flow_get(fx->dp, &r, &info, &err), 0);
    assert_false(info.has_key || info.has_mask || info.has_actions);
    assert_true(info.has_ufid);

    /* SET by UFID without key. */
    r.has_actions = true;
    r.actions = fx->out2;
    r.actions_len = fx->out2_len;
    assert_int_equal(dp_flow_set(fx->dp, &r, &info, &err), 0);
    r.ufid = &u3;
    assert_int_equal(dp_flow_set(fx->dp, &r, &info, &err), -ENOENT);

    /* Bad UFID length. */
    struct ufid bad = { 17, { 0 } };
    r.ufid = &bad;
    assert_int_equal(dp_flow_get(fx->dp, &r, &info, &err), -EINVAL);

    dp_get_stats(fx->dp, &st);
    assert_int_equal(st.n_flows, 2);
    assert_int_equal(st.n_masks, 1);        /* Both are /24 flows. */
    dp_flow_flush(fx->dp);
    dp_get_stats(fx->dp, &st);
    assert_int_equal(st.n_flows, 0);
    assert_int_equal(st.n_masks, 0);
    r.ufid = &u1;
    assert_int_equal(dp_flow_get(fx->dp, &r, &info, &err), -ENOENT);
    r.ufid = &u2;
    assert_int_equal(dp_flow_del(fx->dp, &r, &info, &err), -ENOENT);
}

/* The installed mask follows the kernel's rules, which may narrow the
 * request; the mask reported is the installed one. */
static void
test_narrowing(void **state)
{
    struct fixture *fx = *state;
    struct flow_mask m = fx->ma;
    struct dp_flow_info info;
    struct errbuf err;

    m.bits.in_port = 0x000000ff;    /* Partial: becomes exact. */
    m.bits.eth_type = htons(0x00ff);        /* Partial: becomes exact. */
    struct dp_flow_req r = req_for(&fx->ka, &m, NULL, fx->out2,
                                   fx->out2_len);
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, &info, &err), 0);
    assert_int_equal(info.mask.bits.in_port, UINT32_MAX);
    assert_int_equal(info.mask.bits.eth_type, 0xffff);
    assert_int_equal(info.mask.bits.addr.ipv4.dst, htonl(0xffffff00));

    /* No mask: exact on every field the key's attributes carry. */
    struct dp_flow_req rb = req_for(&fx->kb, NULL, NULL, fx->out2,
                                    fx->out2_len);
    assert_int_equal(dp_flow_new(fx->dp, &rb, 0, &info, &err), 0);
    assert_int_equal(info.mask.bits.addr.ipv4.dst, UINT32_MAX);
    assert_int_equal(info.mask.bits.nw_ttl, 0xff);
    dp_flow_flush(fx->dp);
}

static void
test_limit_and_actions(void **state)
{
    struct fixture *fx = *state;
    struct dp_flow_info info;
    struct errbuf err;
    uint8_t acts[256];
    size_t len;

    dp_set_flow_limit(fx->dp, 1);
    struct dp_flow_req r = req_for(&fx->ka, &fx->ma, NULL, fx->out2,
                                   fx->out2_len);
    struct dp_flow_req r2 = req_for(&fx->kb, &fx->mb, NULL, fx->out2,
                                    fx->out2_len);
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, &info, &err), 0);
    errbuf_clear(&err);
    assert_int_equal(dp_flow_new(fx->dp, &r2, 0, &info, &err), -EFBIG);
    assert_non_null(strstr(err.msg, "limit"));
    assert_int_equal(dp_flow_del(fx->dp, &r, &info, &err), 0);
    assert_int_equal(dp_flow_new(fx->dp, &r2, 0, &info, &err), 0);
    dp_set_flow_limit(fx->dp, DP_DEFAULT_FLOW_LIMIT);

    /* Actions the datapath does not execute yet. */
    len = tu_parse_actions("ct(commit),2", acts, sizeof acts);
    r.actions = acts;
    r.actions_len = len;
    errbuf_clear(&err);
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, &info, &err), -EOPNOTSUPP);
    assert_true(errbuf_is_set(&err));
    len = tu_parse_actions("meter(1),2", acts, sizeof acts);
    r.actions_len = len;
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, &info, &err), -EOPNOTSUPP);

    /* Actions that do not fit the key: set(tcp) on a UDP flow. */
    len = tu_parse_actions("set(tcp(src=1,dst=2))", acts, sizeof acts);
    r.actions_len = len;
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, &info, &err), -EINVAL);

    /* ... judged on the masked key, as the kernel does: a UDP key whose
     * mask matches only in_port is no UDP flow, so set(udp) is refused
     * (it would meet packets without a UDP header). */
    dp_flow_flush(fx->dp);
    struct flow_mask port_only;
    memset(&port_only, 0, sizeof port_only);
    port_only.bits.in_port = UINT32_MAX;
    len = tu_parse_actions("set(udp(src=7,dst=8)),2", acts, sizeof acts);
    r.mask = &port_only;
    r.actions_len = len;
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, &info, &err), -EINVAL);
    r.mask = &fx->ma;
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, &info, &err), 0);
    r.mask = &port_only;
    struct dp_flow_req rs = req_for(&fx->kb, &port_only, NULL, acts, len);
    rs.actions_len = tu_parse_actions("2", acts + 128, 64);
    rs.actions = acts + 128;
    assert_int_equal(dp_flow_new(fx->dp, &rs, 0, &info, &err), 0);
    rs.actions = acts;
    rs.actions_len = len;
    assert_int_equal(dp_flow_set(fx->dp, &rs, &info, &err), -EINVAL);
    dp_flow_flush(fx->dp);

    /* NEW needs actions (the kernel's "Flow actions attr not present"). */
    struct dp_flow_req noacts = req_for(&fx->ka, &fx->ma, NULL, NULL, 0);
    assert_int_equal(dp_flow_new(fx->dp, &noacts, 0, &info, &err), -EINVAL);
    dp_flow_flush(fx->dp);
    struct dp_stats st;
    dp_get_stats(fx->dp, &st);
    assert_int_equal(st.n_flows, 0);
}

/* Two threads share one dump while the writer churns flows: each flow
 * present all along is returned exactly once. */
struct dump_ctx {
    struct datapath *dp;
    struct dp_flow_dump *dump;
    int *seen;
    pthread_mutex_t lock;
};

static void *
dump_thread(void *arg)
{
    struct dump_ctx *c = arg;
    struct dp_flow_info infos[7];
    size_t n;

    qsbr_register();
    while ((n = dp_flow_dump_next(c->dump, infos, 7)) > 0) {
        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i < n; i++) {
            assert_true(infos[i].has_ufid);
            assert_false(infos[i].has_key);
            c->seen[infos[i].ufid.id[0] | (infos[i].ufid.id[1] << 8)]++;
        }
        pthread_mutex_unlock(&c->lock);
        qsbr_quiesce();
    }
    qsbr_unregister();
    return NULL;
}

static void
test_dump_threads(void **state)
{
    enum { N = 2000 };
    struct fixture *fx = *state;
    static int seen[N + 20000];
    struct dump_ctx c = { .dp = fx->dp, .seen = seen };
    pthread_t th[2];
    struct errbuf err;

    memset(seen, 0, sizeof seen);
    pthread_mutex_init(&c.lock, NULL);
    for (int i = 0; i < N; i++) {
        struct flow_key k = fx->ka;
        struct ufid u = { 2, { (uint8_t) i, (uint8_t) (i >> 8) } };
        struct dp_flow_req r = req_for(&k, &fx->ma, &u, fx->out2,
                                       fx->out2_len);

        k.addr.ipv4.dst = htonl(0x0b000000u + ((uint32_t) i << 8));
        assert_int_equal(dp_flow_new(fx->dp, &r, 0, NULL, &err), 0);
    }
    c.dump = dp_flow_dump_create(fx->dp, OVS_UFID_F_OMIT_KEY
                                         | OVS_UFID_F_OMIT_MASK
                                         | OVS_UFID_F_OMIT_ACTIONS);
    for (int i = 0; i < 2; i++) {
        pthread_create(&th[i], NULL, dump_thread, &c);
    }
    /* Churn: odd flows are deleted, new ones added. */
    for (int i = 1; i < N; i += 2) {
        struct ufid u = { 2, { (uint8_t) i, (uint8_t) (i >> 8) } };
        struct dp_flow_req r = req_for(NULL, NULL, &u, NULL, 0);
        struct flow_key k = fx->ka;
        int j = N + i;
        struct ufid nu = { 2, { (uint8_t) j, (uint8_t) (j >> 8) } };
        struct dp_flow_req nr = req_for(&k, &fx->ma, &nu, fx->out2,
                                        fx->out2_len);

        assert_int_equal(dp_flow_del(fx->dp, &r, NULL, &err), 0);
        k.addr.ipv4.dst = htonl(0x0c000000u + ((uint32_t) j << 8));
        assert_int_equal(dp_flow_new(fx->dp, &nr, 0, NULL, &err), 0);
        qsbr_quiesce();
    }
    qsbr_offline();
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
    }
    qsbr_online();
    dp_flow_dump_destroy(c.dump);
    for (int i = 0; i < N; i += 2) {
        assert_int_equal(seen[i], 1);
    }
    for (int i = 1; i < 2 * N; i++) {
        assert_true(seen[i] <= 1);
    }

    /* The resumable form sees the final table. */
    uint64_t cursor = 0;
    struct dp_flow_info infos[100];
    size_t n, total = 0;
    while ((n = dp_flow_dump_at(fx->dp, &cursor, 0, infos, 100)) > 0) {
        total += n;
        assert_true(infos[0].has_key && infos[0].has_actions);
    }
    assert_int_equal(total, N);
    dp_flow_flush(fx->dp);
    pthread_mutex_destroy(&c.lock);
}

/* Upcalls received by the test. */
struct upcalls {
    int n;
    struct dp_upcall *u[16];
};

/* Moves what channel 'ch' holds into 'ups'. */
static void
record_upcalls(struct upcall_channel *ch, struct upcalls *ups)
{
    struct dp_upcall *u;

    while (ups->n < 16 && !upcall_channel_recv(ch, &u)) {
        ups->u[ups->n++] = u;
    }
}

static void
upcalls_clear(struct upcalls *ups)
{
    for (int i = 0; i < ups->n; i++) {
        dp_upcall_free(ups->u[i]);
    }
    ups->n = 0;
}

/* Packets through dummy ports: miss -> upcall, flow -> output, stats,
 * cache, clear, userspace(), recirculation, execute. */
static void
test_packets(void **state)
{
    struct fixture *fx = *state;
    struct dp_thread_config tc = { .emc = true, .emc_insert_inv_prob = 1 };
    struct dp_thread *thr = dp_thread_create(fx->dp, &tc);
    struct upcalls ups = { 0 };
    uint32_t p1 = 1, p2 = 2;
    struct dp_flow_info info;
    struct errbuf err;
    struct dp_stats st;
    uint64_t drops[DP_N_DROP_REASONS];
    uint8_t frame[60];
    struct packet *p;

    assert_non_null(thr);
    assert_int_equal(dp_port_add(fx->dp, "dummy", "p1", NULL, &p1, &err), 0);
    assert_int_equal(dp_port_add(fx->dp, "dummy", "p2", NULL, &p2, &err), 0);
    uint32_t pid1001 = 1001;
    assert_int_equal(dp_port_set_upcall_pids(fx->dp, 1, &pid1001, 1), 0);
    struct port *port1 = dp_port_get(fx->dp, 1);
    struct port *port2 = dp_port_get(fx->dp, 2);

    /* No channel has the port's PID: the miss is lost and counted. */
    tu_udp_frame(frame, sizeof frame, 0x0a000001, 0x0a000002, 1000, 53);
    assert_int_equal(port_dummy_inject(port1, frame, sizeof frame), 0);
    assert_int_equal(dp_poll(thr, 1, 0), 1);
    dp_get_stats(fx->dp, &st);
    assert_int_equal(st.n_missed, 1);
    assert_int_equal(st.n_lost, 1);
    memset(drops, 0, sizeof drops);
    dp_get_drops(fx->dp, drops);
    assert_int_equal(drops[DP_DROP_UPCALL_LOST], 1);

    uint64_t ok, fail;
    assert_int_equal(dp_port_get_upcall_stats(fx->dp, 1, &ok, &fail), 0);
    assert_int_equal(ok, 0);
    assert_int_equal(fail, 1);

    /* With a channel: a miss upcall with the key and the port's PID. */
    struct upcall_channel *ch, *ch7;
    assert_int_equal(upcall_channel_open(dp_upcalls(fx->dp), 1001, &ch,
                                         &err), 0);
    assert_int_equal(upcall_channel_open(dp_upcalls(fx->dp), 7, &ch7,
                                         &err), 0);
    port_dummy_inject(port1, frame, sizeof frame);
    assert_int_equal(dp_poll(thr, 1, 0), 1);
    record_upcalls(ch, &ups);
    assert_int_equal(ups.n, 1);
    assert_int_equal(ups.u[0]->type, DP_UPCALL_MISS);
    assert_int_equal(ups.u[0]->pid, 1001);
    assert_int_equal(ups.u[0]->key.in_port, 1);
    assert_int_equal(ups.u[0]->key.tp_dst, htons(53));
    assert_int_equal(ups.u[0]->packet->len, sizeof frame);
    assert_memory_equal(ups.u[0]->packet->data, frame, sizeof frame);
    upcalls_clear(&ups);

    /* Install the flow (as a handler would), then packets hit it. */
    struct dp_flow_req r = req_for(&fx->ka, &fx->ma, NULL, fx->out2,
                                   fx->out2_len);
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, NULL, &err), 0);
    for (int i = 0; i < 3; i++) {
        port_dummy_inject(port1, frame, sizeof frame);
    }
    assert_int_equal(dp_poll(thr, 1, 0), 3);
    assert_int_equal(port_dummy_tx_queued(port2), 3);
    for (int i = 0; i < 3; i++) {
        p = port_dummy_take(port2);
        assert_non_null(p);
        assert_int_equal(p->len, sizeof frame);
        assert_memory_equal(p->data, frame, sizeof frame);
        packet_free(p);
    }
    assert_int_equal(dp_flow_get(fx->dp, &r, &info, &err), 0);
    assert_int_equal(info.stats.n_packets, 3);
    assert_int_equal(info.stats.n_bytes, 3 * sizeof frame);
    assert_true(info.stats.used_ms > 0);

    /* Again: now from the exact-match cache (inserted every time). */
    port_dummy_inject(port1, frame, sizeof frame);
    assert_int_equal(dp_poll(thr, 1, 0), 1);
    packet_free(port_dummy_take(port2));
    dp_get_stats(fx->dp, &st);
    assert_int_equal(st.n_hit, 4);
    assert_true(st.n_cache_hit >= 1);
    assert_true(st.n_mask_hit >= 1);
    assert_int_equal(st.n_masks, 1);

    /* CLEAR: the reply has the statistics from before it. */
    r.clear = true;
    assert_int_equal(dp_flow_set(fx->dp, &r, &info, &err), 0);
    assert_int_equal(info.stats.n_packets, 4);
    r.clear = false;
    assert_int_equal(dp_flow_get(fx->dp, &r, &info, &err), 0);
    assert_int_equal(info.stats.n_packets, 0);
    assert_int_equal(info.stats.used_ms, 0);

    /* A changed action takes effect, even through the cache. */
    r.actions = fx->out3;
    r.actions_len = fx->out3_len;
    assert_int_equal(dp_flow_set(fx->dp, &r, NULL, &err), 0);
    port_dummy_inject(port1, frame, sizeof frame);
    dp_poll(thr, 1, 0);
    assert_int_equal(port_dummy_tx_queued(port2), 0);
    memset(drops, 0, sizeof drops);
    dp_get_drops(fx->dp, drops);
    assert_int_equal(drops[DP_DROP_NO_PORT], 1);       /* No port 3. */

    /* A deleted flow no longer matches, cache or not. */
    assert_int_equal(dp_flow_del(fx->dp, &r, NULL, &err), 0);
    port_dummy_inject(port1, frame, sizeof frame);
    dp_poll(thr, 1, 0);
    record_upcalls(ch, &ups);
    assert_int_equal(ups.n, 1);
    upcalls_clear(&ups);
    dp_thread_quiesce(thr);

    /* userspace(): an action upcall; the packet goes on. */
    uint8_t acts[256];
    size_t len = tu_parse_actions(
        "userspace(pid=7,userdata(01020304)),2", acts, sizeof acts);
    r.actions = acts;
    r.actions_len = len;
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, NULL, &err), 0);
    port_dummy_inject(port1, frame, sizeof frame);
    dp_poll(thr, 1, 0);
    record_upcalls(ch7, &ups);
    assert_int_equal(ups.n, 1);
    assert_int_equal(ups.u[0]->type, DP_UPCALL_ACTION);
    assert_int_equal(ups.u[0]->pid, 7);
    assert_int_equal(ups.u[0]->userdata_len, 4);
    assert_memory_equal(ups.u[0]->userdata, "\x01\x02\x03\x04", 4);
    assert_int_equal(port_dummy_tx_queued(port2), 1);
    packet_free(port_dummy_take(port2));
    upcalls_clear(&ups);
    dp_flow_flush(fx->dp);

    /* recirc(): the second pass matches a recirc_id(5) flow. */
    len = tu_parse_actions("recirc(5)", acts, sizeof acts);
    r.actions = acts;
    r.actions_len = len;
    assert_int_equal(dp_flow_new(fx->dp, &r, 0, NULL, &err), 0);
    struct flow_key k5;
    struct flow_mask m5;
    tu_parse_flow("recirc_id(5),in_port(1),eth(),eth_type(0x0800),"
                  "ipv4(proto=17,frag=no),udp()", &k5,
                  &m5);
    struct dp_flow_req r5 = req_for(&k5, &m5, NULL, fx->out2,
                                    fx->out2_len);
    assert_int_equal(dp_flow_new(fx->dp, &r5, 0, NULL, &err), 0);
    port_dummy_inject(port1, frame, sizeof frame);
    dp_poll(thr, 1, 0);
    assert_int_equal(port_dummy_tx_queued(port2), 1);
    packet_free(port_dummy_take(port2));
    assert_int_equal(dp_flow_get(fx->dp, &r5, &info, &err), 0);
    assert_int_equal(info.stats.n_packets, 1);
    dp_flow_flush(fx->dp);

    /* execute: actions on a packet the client supplies. */
    p = packet_create(frame, sizeof frame);
    p->md.in_port = 1;
    assert_int_equal(dp_execute(thr, p, fx->out2, fx->out2_len, &err), 0);
    assert_int_equal(port_dummy_tx_queued(port2), 1);
    packet_free(port_dummy_take(port2));
    p = packet_create(frame, 10);
    assert_int_equal(dp_execute(thr, p, fx->out2, fx->out2_len, &err),
                     -EINVAL);

    /* A frame shorter than 14 bytes is dropped and counted. */
    port_dummy_inject(port1, frame, 13);
    dp_poll(thr, 1, 0);
    memset(drops, 0, sizeof drops);
    dp_get_drops(fx->dp, drops);
    assert_int_equal(drops[DP_DROP_TOO_SHORT], 1);

    assert_int_equal(dp_port_get_upcall_stats(fx->dp, 1, &ok, &fail), 0);
    assert_int_equal(ok, 3);
    assert_int_equal(fail, 1);
    upcall_channel_close(ch);
    upcall_channel_close(ch7);
    dp_thread_destroy(thr);
}

/* Stress: two packet threads poll their own looping ports while the
 * writer installs, changes, clears and deletes the flows they hit (and
 * dumps).  Run under ASan here and under TSan in the 'tsan' suite. */
struct pkt_stress {
    struct datapath *dp;
    uint32_t port;
    _Atomic bool *stop;
    uint64_t polled;
};

static void *
pkt_thread(void *arg)
{
    struct pkt_stress *ps = arg;
    struct dp_thread *thr;

    qsbr_register();
    thr = dp_thread_create(ps->dp, NULL);
    assert_non_null(thr);
    while (!atomic_load(ps->stop)) {
        int n = dp_poll(thr, ps->port, 0);

        ps->polled += n > 0 ? (uint64_t) n : 0;
        dp_thread_quiesce(thr);
    }
    dp_thread_destroy(thr);
    qsbr_unregister();
    return NULL;
}

static void
test_packet_stress(void **state)
{
    enum { FLOWS = 64 };
    struct fixture *fx = *state;
    _Atomic bool stop = false;
    struct pkt_stress ps[2];
    pthread_t th[2];
    struct errbuf err;
    uint8_t frame[60];
    struct dp_flow_info info;
    uint32_t out = 9;

    assert_int_equal(dp_port_add(fx->dp, "dummy", "out", "capture=false",
                                 &out, &err), 0);
    /* With 2 handlers, misses queue up (and overflow) meanwhile. */
    assert_int_equal(dp_handlers_set(fx->dp, 2, &err), 0);
    for (int i = 0; i < 2; i++) {
        uint32_t no = (uint32_t) (i + 1);
        char name[8];

        snprintf(name, sizeof name, "in%d", i);
        assert_int_equal(dp_port_add(fx->dp, "dummy", name, "loop=true",
                                     &no, &err), 0);
        for (int f = 0; f < FLOWS; f++) {
            tu_udp_frame(frame, sizeof frame, 0x0a000001,
                         0x0a000000u | ((uint32_t) f << 8), 1, 2);
            port_dummy_inject(dp_port_get(fx->dp, no), frame, sizeof frame);
        }
        ps[i] = (struct pkt_stress) { fx->dp, no, &stop, 0 };
    }
    for (int i = 0; i < 2; i++) {
        pthread_create(&th[i], NULL, pkt_thread, &ps[i]);
    }
    uint8_t acts9[16];
    size_t acts9_len = tu_parse_actions("9", acts9, sizeof acts9);
    for (int round = 0; round < 300; round++) {
        for (int f = 0; f < FLOWS; f++) {
            struct flow_key k = fx->ka;
            struct ufid u = { 1, { (uint8_t) f } };
            struct dp_flow_req r = req_for(&k, &fx->ma, &u, acts9,
                                           acts9_len);

            k.in_port = (uint32_t) (1 + f % 2);
            k.addr.ipv4.dst = htonl(0x0a000000u | ((uint32_t) f << 8));
            switch ((round + f) % 4) {
            case 0:
                dp_flow_new(fx->dp, &r, 0, NULL, &err);
                break;
            case 1:
                r.clear = true;
                dp_flow_set(fx->dp, &r, &info, &err);
                break;
            case 2:
                dp_flow_get(fx->dp, &r, &info, &err);
                break;
            default:
                dp_flow_del(fx->dp, &r, &info, &err);
                break;
            }
        }
        uint64_t cursor = 0;
        struct dp_flow_info infos[16];
        while (dp_flow_dump_at(fx->dp, &cursor, 0, infos, 16) > 0) {
            continue;
        }
        qsbr_quiesce();
    }
    atomic_store(&stop, true);
    qsbr_offline();
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
    }
    qsbr_online();
    assert_true(ps[0].polled > 0 && ps[1].polled > 0);
    struct dp_stats st;
    dp_get_stats(fx->dp, &st);
    assert_int_equal(st.n_hit + st.n_missed, ps[0].polled + ps[1].polled);
    assert_int_equal(dp_handlers_set(fx->dp, 0, &err), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_flows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ufid_flows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_narrowing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_and_actions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dump_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_packets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_packet_stress, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
