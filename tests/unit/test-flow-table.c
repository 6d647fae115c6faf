/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for dp/flow-index.c, dp/flow-table.c and dp/emc.c: lookups
 * against a brute-force model, identity indexes, dump slots under change,
 * ranking, statistics, the exact-match cache, and a reader/writer stress
 * run (also built under TSan). */

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "dp/dp.h"
#include "dp/emc.h"
#include "dp/flow-index.h"
#include "dp/flow-table.h"
#include "lib/rcu.h"

static uint32_t rng_state = 12345;

static uint32_t
rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* An IPv4/UDP key on 'in_port'. */
static struct flow_key
mk_key(uint32_t in_port, uint32_t src, uint32_t dst, uint16_t sport,
       uint16_t dport)
{
    struct flow_key k;

    memset(&k, 0, sizeof k);
    k.in_port = in_port;
    k.eth_type = htons(ETH_TYPE_IP);
    k.nw_proto = 17;
    k.nw_ttl = 64;
    k.addr.ipv4.src = htonl(src);
    k.addr.ipv4.dst = htonl(dst);
    k.tp_src = htons(sport);
    k.tp_dst = htons(dport);
    return k;
}

/* Mask number 'i' of a family of masks that all match in_port exactly
 * and differ in which address/port bits they match. */
static struct flow_mask
mk_mask(int i)
{
    struct flow_mask m;

    memset(&m, 0, sizeof m);
    m.bits.in_port = UINT32_MAX;
    m.bits.eth_type = 0xffff;
    m.bits.addr.ipv4.dst = htonl(0xffffffffu << (i % 8));
    if (i & 8) {
        m.bits.nw_proto = 0xff;
        m.bits.tp_dst = 0xffff;
    }
    if (i & 16) {
        m.bits.addr.ipv4.src = htonl(0xffffff00u);
    }
    return m;
}

static bool
masked_equal(const struct flow_key *a, const struct flow_key *b,
             const struct flow_mask *m)
{
    const uint8_t *x = (const void *) a, *y = (const void *) b;
    const uint8_t *mb = (const void *) &m->bits;

    for (size_t i = 0; i < sizeof *a; i++) {
        if ((x[i] ^ y[i]) & mb[i]) {
            return false;
        }
    }
    return true;
}

static const uint8_t acts_out1[] = { 8, 0, 1, 0, 1, 0, 0, 0 };  /* output:1 */

static struct dp_flow *
add_flow(struct ftbl *t, const struct flow_key *k, const struct flow_mask *m,
         const struct ufid *u)
{
    struct dp_flow *f = ftbl_flow_create(t, k, m, u, acts_out1,
                                         sizeof acts_out1);

    assert_non_null(f);
    assert_int_equal(ftbl_insert_locked(t, f, m), 0);
    return f;
}

/* Waits until every deferred free has run (the caller is online). */
static void
drain(void)
{
    qsbr_offline();
    qsbr_barrier();
    qsbr_online();
}

static int
setup(void **state)
{
    (void) state;
    qsbr_register();
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    qsbr_offline();
    qsbr_barrier();
    qsbr_unregister();
    return 0;
}

/* findex against a model: random inserts and removes, with rebuilds
 * growing and shrinking the array and tombstones in between. */
static void
test_findex_model(void **state)
{
    enum { N = 3000 };
    static uintptr_t present[N];
    struct findex fi;

    (void) state;
    memset(present, 0, sizeof present);
    assert_int_equal(findex_init(&fi), 0);
    for (int round = 0; round < 60000; round++) {
        uint32_t i = rnd() % N;
        /* Few distinct hashes: collisions on purpose. */
        uint32_t hash = (i % 97) * 0x01000193u;
        void *p = (void *) (uintptr_t) (i + 1);

        if (present[i]) {
            assert_int_equal(findex_remove_locked(&fi, hash, p), 0);
            assert_int_equal(findex_remove_locked(&fi, hash, p), -ENOENT);
            present[i] = 0;
        } else {
            assert_int_equal(findex_insert_locked(&fi, hash, p), 0);
            present[i] = 1;
        }
        if (round % 1000 == 0) {
            uint32_t n = 0;

            for (uint32_t j = 0; j < N; j++) {
                struct findex_probe pr;
                bool found = false;
                void *q;

                findex_probe_start(&fi, (j % 97) * 0x01000193u, &pr);
                while ((q = findex_probe_next(&pr))) {
                    found |= q == (void *) (uintptr_t) (j + 1);
                }
                assert_int_equal(found, present[j] != 0);
                n += present[j] != 0;
            }
            assert_int_equal(findex_count(&fi), n);
        }
        if (round == 40000) {
            /* Empty most of it: the array shrinks. */
            for (uint32_t j = 0; j < N; j++) {
                if (present[j] && j % 50) {
                    findex_remove_locked(&fi, (j % 97) * 0x01000193u,
                                         (void *) (uintptr_t) (j + 1));
                    present[j] = 0;
                }
            }
        }
    }
    qsbr_synchronize();
    drain();
    findex_uninit(&fi);
}

/* Lookups of random packets agree with a brute-force model over 24
 * masks, through inserts and removes. */
static void
test_lookup_model(void **state)
{
    enum { N = 4000, MASKS = 24 };
    static struct dp_flow *flows[N];
    static struct flow_key keys[N];
    struct ftbl *t = ftbl_create(1);
    int live = 0;

    (void) state;
    memset(flows, 0, sizeof flows);
    for (int i = 0; i < N; i++) {
        int m = i % MASKS;
        struct flow_mask mask = mk_mask(m);

        keys[i] = mk_key(m, rnd(), rnd(), rnd() & 0xffff, rnd() & 7);
        /* Only insert if no flow of this mask has the same masked key
         * (the table requires that of its callers). */
        uint32_t hits = 0;
        struct dp_flow *dup = ftbl_lookup(t, &keys[i], &hits);
        if (!dup) {
            flows[i] = add_flow(t, &keys[i], &mask, NULL);
            live++;
        }
    }
    assert_int_equal(ftbl_count(t), live);
    assert_int_equal(ftbl_count_masks(t), MASKS);
    for (int round = 0; round < 3; round++) {
        for (int p = 0; p < 2000; p++) {
            /* Half the packets derive from a flow's key with unmasked
             * bits changed, half are random. */
            int i = rnd() % N;
            struct flow_key pk = keys[i];
            struct dp_flow *expect = NULL, *got;
            uint32_t hits = 0;

            if (p & 1) {
                pk.addr.ipv4.src ^= htonl(rnd() & 0xff);
                pk.tp_src = htons(rnd() & 0xffff);
            } else {
                pk = mk_key(rnd() % MASKS, rnd(), rnd(), 1, rnd() & 7);
            }
            for (int j = 0; j < N; j++) {
                if (flows[j] && masked_equal(&pk, &keys[j],
                                             ftbl_flow_mask(flows[j]))) {
                    expect = flows[j];
                    break;
                }
            }
            got = ftbl_lookup(t, &pk, &hits);
            assert_ptr_equal(got, expect);
            assert_true(hits >= 1 && hits <= MASKS);

            /* The batch form agrees. */
            const struct flow_key *kp[1] = { &pk };
            struct dp_flow *bf[1] = { NULL };
            uint64_t bhits = 0;
            ftbl_lookup_batch(t, kp, 1, bf, &bhits);
            assert_ptr_equal(bf[0], expect);
            assert_int_equal(bhits, hits);
        }
        /* Remove a third of the flows. */
        for (int i = 0; i < N; i++) {
            if (flows[i] && rnd() % 3 == 0) {
                ftbl_remove_locked(t, flows[i]);
                flows[i] = NULL;
                live--;
            }
        }
        assert_int_equal(ftbl_count(t), live);
        qsbr_quiesce();
    }
    ftbl_flush_locked(t);
    assert_int_equal(ftbl_count(t), 0);
    assert_int_equal(ftbl_count_masks(t), 0);
    drain();
    ftbl_destroy(t);
}

/* UFID flows are found by UFID only, others by unmasked key only. */
static void
test_identity(void **state)
{
    struct ftbl *t = ftbl_create(1);
    struct flow_mask m = mk_mask(3);
    struct flow_key k1 = mk_key(1, 0x0a000001, 0x0a000102, 10, 20);
    struct flow_key k2 = mk_key(1, 0x0a000001, 0x0a000202, 10, 20);
    struct ufid u = { 4, { 1, 2, 3, 4 } };
    struct ufid u_other = { 5, { 1, 2, 3, 4, 0 } };
    struct dp_flow *f1, *f2;

    (void) state;
    f1 = add_flow(t, &k1, &m, NULL);
    f2 = add_flow(t, &k2, &m, &u);
    assert_ptr_equal(ftbl_find_key(t, &k1), f1);
    assert_null(ftbl_find_key(t, &k2));         /* UFID flow: not by key. */
    assert_ptr_equal(ftbl_find_ufid(t, &u), f2);
    assert_null(ftbl_find_ufid(t, &u_other));   /* Same bytes, longer. */

    /* The unmasked key must match exactly, not just under the mask. */
    struct flow_key k1b = k1;
    k1b.tp_src = htons(11);
    assert_null(ftbl_find_key(t, &k1b));
    uint32_t hits = 0;
    assert_ptr_equal(ftbl_lookup(t, &k1b, &hits), f1);

    ftbl_remove_locked(t, f2);
    assert_null(ftbl_find_ufid(t, &u));
    assert_int_equal(ftbl_count(t), 1);
    drain();
    ftbl_destroy(t);
}

/* A dump returns every flow present throughout exactly once while flows
 * come and go between its steps. */
static void
test_dump_under_change(void **state)
{
    enum { N = 3000 };
    static struct dp_flow *flows[N];
    static int seen[N];
    static bool stable[N];
    struct ftbl *t = ftbl_create(1);
    _Atomic uint64_t cursor = 0;
    struct flow_mask m = mk_mask(0);
    int next = 0;

    (void) state;
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < N / 2; i++) {
        struct flow_key k = mk_key(0, 1, (uint32_t) i, 0, 0);

        flows[i] = add_flow(t, &k, &m, NULL);
        stable[i] = i % 3 != 0;         /* Every third will go. */
        next = i + 1;
    }
    for (;;) {
        uint64_t slot = ftbl_slot_claim(t, &cursor, 1);
        struct dp_flow *f;

        if (slot == UINT64_MAX) {
            break;
        }
        f = ftbl_slot_get(t, slot);
        if (f) {
            uint32_t i = ntohl(f->cold->key.addr.ipv4.dst);

            assert_true(i < N);
            seen[i]++;
        }
        /* Churn: remove an unstable flow, add a new one (new flows may
         * reuse the freed slots, before or after the cursor). */
        if (slot % 2 == 0) {
            for (int i = 0; i < N / 2; i++) {
                if (flows[i] && !stable[i]) {
                    ftbl_remove_locked(t, flows[i]);
                    flows[i] = NULL;
                    break;
                }
            }
            if (next < N) {
                struct flow_key k = mk_key(0, 1, (uint32_t) next, 0, 0);

                flows[next] = add_flow(t, &k, &m, NULL);
                stable[next] = false;
                next++;
            }
        }
        qsbr_quiesce();
    }
    for (int i = 0; i < N / 2; i++) {
        if (stable[i]) {
            assert_int_equal(seen[i], 1);
        } else {
            assert_true(seen[i] <= 1);
        }
    }
    for (int i = N / 2; i < next; i++) {
        assert_true(seen[i] <= 1);
    }
    ftbl_flush_locked(t);
    drain();
    ftbl_destroy(t);
}

/* Subtables with more hits move to the front after a rerank: fewer
 * subtables are probed for the same packets. */
static void
test_rerank(void **state)
{
    enum { MASKS = 8 };
    struct ftbl *t = ftbl_create(1);
    struct flow_key hot;
    uint64_t before = 0, after = 0;

    (void) state;
    for (int i = 0; i < MASKS; i++) {
        struct flow_mask m = mk_mask(i);
        struct flow_key k = mk_key((uint32_t) i, 1, 2, 3, 4);

        add_flow(t, &k, &m, NULL);
    }
    hot = mk_key(MASKS - 1, 1, 2, 3, 4);        /* In the last subtable. */
    for (int i = 0; i < 100; i++) {
        const struct flow_key *kp[1] = { &hot };
        struct dp_flow *f[1] = { NULL };

        ftbl_lookup_batch(t, kp, 1, f, &before);
        assert_non_null(f[0]);
    }
    assert_int_equal(before, 100 * MASKS);
    ftbl_rerank_locked(t);
    for (int i = 0; i < 100; i++) {
        const struct flow_key *kp[1] = { &hot };
        struct dp_flow *f[1] = { NULL };

        ftbl_lookup_batch(t, kp, 1, f, &after);
        assert_non_null(f[0]);
    }
    assert_int_equal(after, 100);
    ftbl_flush_locked(t);
    drain();
    ftbl_destroy(t);
}

/* Per-thread statistics slots sum up; clearing restarts them without
 * writing other threads' slots. */
static void
test_stats(void **state)
{
    struct ftbl *t = ftbl_create(3);
    struct flow_mask m = mk_mask(1);
    struct flow_key k = mk_key(1, 1, 2, 3, 4);
    struct dp_flow *f = add_flow(t, &k, &m, NULL);
    struct dp_flow_stats s;

    (void) state;
    ftbl_flow_get_stats(t, f, &s);
    assert_int_equal(s.n_packets, 0);
    assert_int_equal(s.used_ms, 0);
    ftbl_flow_account(f, 0, 2, 128, 1000, 0x02);
    ftbl_flow_account(f, 2, 3, 300, 1500, 0x10);
    ftbl_flow_account(f, 0, 1, 64, 1200, 0x01);
    ftbl_flow_get_stats(t, f, &s);
    assert_int_equal(s.n_packets, 6);
    assert_int_equal(s.n_bytes, 492);
    assert_int_equal(s.used_ms, 1500);
    assert_int_equal(s.tcp_flags, 0x13);
    ftbl_flow_clear_stats(f);
    ftbl_flow_get_stats(t, f, &s);
    assert_int_equal(s.n_packets, 0);
    assert_int_equal(s.n_bytes, 0);
    assert_int_equal(s.used_ms, 0);
    assert_int_equal(s.tcp_flags, 0);
    ftbl_flow_account(f, 2, 1, 60, 2000, 0);
    ftbl_flow_get_stats(t, f, &s);
    assert_int_equal(s.n_packets, 1);
    assert_int_equal(s.n_bytes, 60);
    assert_int_equal(s.used_ms, 2000);
    ftbl_flush_locked(t);
    drain();
    ftbl_destroy(t);
}

/* The cache returns flows that match: a removed flow, or a slot reused
 * by a flow the packet does not match, is a miss; full buckets are
 * replaced only now and then. */
static void
test_emc(void **state)
{
    struct ftbl *t = ftbl_create(1);
    struct emc *emc = emc_create(1);            /* Always replace. */
    struct flow_mask m = mk_mask(2);
    struct flow_key k = mk_key(2, 5, 6, 7, 8);
    struct flow_key k2 = k;
    struct dp_flow *f = add_flow(t, &k, &m, NULL);
    uint32_t h = emc_hash(&k);

    (void) state;
    assert_null(emc_lookup(emc, t, &k, h));
    emc_insert(emc, h, f);
    assert_ptr_equal(emc_lookup(emc, t, &k, h), f);
    /* Another key with the same hash (forced) that the flow does not
     * match: a miss, not a wrong answer. */
    k2.addr.ipv4.dst = htonl(99);
    assert_null(emc_lookup(emc, t, &k2, h));
    /* Unmasked fields may differ: the flow still matches. */
    k2 = k;
    k2.tp_src = htons(1234);
    assert_ptr_equal(emc_lookup(emc, t, &k2, h), f);

    /* Removed: a miss.  Its slot reused by a flow the key does not
     * match: still a miss. */
    ftbl_remove_locked(t, f);
    assert_null(emc_lookup(emc, t, &k, h));
    struct flow_key k3 = mk_key(2, 5, 77, 7, 8);
    struct dp_flow *g = add_flow(t, &k3, &m, NULL);
    assert_int_equal(g->slot, f->slot);
    assert_null(emc_lookup(emc, t, &k, h));
    assert_ptr_equal(emc_lookup(emc, t, &k3, emc_hash(&k3)), NULL);
    emc_insert(emc, emc_hash(&k3), g);
    assert_ptr_equal(emc_lookup(emc, t, &k3, emc_hash(&k3)), g);
    emc_destroy(emc);
    ftbl_flush_locked(t);
    drain();

    /* With 'inv_prob' 1000, a full bucket keeps its entries: flows with
     * the same bucket beyond the ways mostly do not get in. */
    emc = emc_create(1000);
    int cached = 0;
    struct dp_flow *fl[EMC_WAYS * 4];
    for (uint32_t i = 0; i < EMC_WAYS * 4; i++) {
        struct flow_key ki = mk_key(2, 5, (i + 1) << 2, 7, 8);
        uint32_t hi = 7 + i * EMC_BUCKETS;      /* One bucket. */

        fl[i] = add_flow(t, &ki, &m, NULL);
        emc_insert(emc, hi, fl[i]);
    }
    for (uint32_t i = 0; i < EMC_WAYS * 4; i++) {
        struct flow_key ki = mk_key(2, 5, (i + 1) << 2, 7, 8);

        cached += emc_lookup(emc, t, &ki, 7 + i * EMC_BUCKETS) == fl[i];
    }
    assert_true(cached >= (int) EMC_WAYS - 1 && cached <= (int) EMC_WAYS);
    emc_destroy(emc);
    ftbl_flush_locked(t);
    drain();
    ftbl_destroy(t);
}

/* Stress: reader threads look up (and dump) while a writer inserts,
 * changes actions and removes.  Every lookup result must be a flow that
 * matches; flows that are never removed must always be found.  Run under
 * ASan here and under TSan in the 'tsan' suite. */
struct stress {
    struct ftbl *t;
    pthread_mutex_t mutex;
    _Atomic bool stop;
    _Atomic uint64_t lookups;
    _Atomic uint64_t failures;
};

enum { STRESS_STABLE = 200, STRESS_CHURN = 400, STRESS_MASKS = 6 };

static struct flow_key
stress_key(int i)
{
    return mk_key((uint32_t) (i % STRESS_MASKS), 0x0a000000u + (uint32_t) i,
                  (uint32_t) i * 256, 7, 9);
}

static void *
stress_reader(void *arg)
{
    struct stress *s = arg;
    uint32_t r = (uint32_t) (uintptr_t) &r;
    uint64_t n = 0;

    qsbr_register();
    while (!atomic_load(&s->stop)) {
        const struct flow_key *kp[16];
        struct flow_key keys[16];
        struct dp_flow *f[16];
        uint64_t hits = 0;

        for (int i = 0; i < 16; i++) {
            r ^= r << 13;
            r ^= r >> 17;
            r ^= r << 5;
            keys[i] = stress_key((int) (r % (STRESS_STABLE + STRESS_CHURN)));
            kp[i] = &keys[i];
            f[i] = NULL;
        }
        ftbl_lookup_batch(s->t, kp, 16, f, &hits);
        for (int i = 0; i < 16; i++) {
            int idx = (int) (ntohl(keys[i].addr.ipv4.src) - 0x0a000000u);

            if (f[i]) {
                const struct ftbl_actions *a = atomic_load_explicit(
                    &f[i]->actions, memory_order_acquire);
                if (!masked_equal(&keys[i], &f[i]->cold->key,
                                  ftbl_flow_mask(f[i]))
                    || a->len != sizeof acts_out1) {
                    atomic_fetch_add(&s->failures, 1);
                }
                ftbl_flow_account(f[i], 1, 1, 64, 1, 0);
            } else if (idx < STRESS_STABLE) {
                atomic_fetch_add(&s->failures, 1);
            }
        }
        n += 16;
        if ((n & 1023) == 0) {
            /* A short dump now and then. */
            uint64_t pos = 0;
            int k = 0;
            while (k < 50 && ftbl_slot_next(s->t, &pos)) {
                k++;
            }
        }
        qsbr_quiesce();
    }
    atomic_fetch_add(&s->lookups, n);
    qsbr_unregister();
    return NULL;
}

static void
test_stress(void **state)
{
    enum { READERS = 2 };
    static struct dp_flow *churn[STRESS_CHURN];
    struct stress s = { .t = ftbl_create(2) };
    pthread_t th[READERS];
    struct timespec t0, t1;
    uint64_t writes = 0;

    (void) state;
    memset(churn, 0, sizeof churn);
    for (int i = 0; i < STRESS_STABLE; i++) {
        struct flow_key k = stress_key(i);
        struct flow_mask m = mk_mask(i % STRESS_MASKS);

        add_flow(s.t, &k, &m, NULL);
    }
    for (int i = 0; i < READERS; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, stress_reader, &s), 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        for (int j = 0; j < 200; j++) {
            int i = (int) (rnd() % STRESS_CHURN);
            struct flow_key k = stress_key(STRESS_STABLE + i);
            /* Churn flows use their own masks too (more subtables come
             * and go). */
            struct flow_mask m = mk_mask(STRESS_MASKS + i % 4);

            m.bits.addr.ipv4.src = htonl(0xffffffff);
            if (churn[i] && rnd() % 2) {
                ftbl_remove_locked(s.t, churn[i]);
                churn[i] = NULL;
            } else if (churn[i]) {
                assert_int_equal(ftbl_set_actions_locked(
                                     churn[i], acts_out1,
                                     sizeof acts_out1), 0);
                ftbl_flow_clear_stats(churn[i]);
            } else {
                churn[i] = add_flow(s.t, &k, &m, NULL);
            }
            writes++;
        }
        if (writes % 2000 == 0) {
            ftbl_rerank_locked(s.t);
        }
        qsbr_quiesce();
        clock_gettime(CLOCK_MONOTONIC, &t1);
    } while ((t1.tv_sec - t0.tv_sec) * 1000
             + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1500);
    atomic_store(&s.stop, true);
    qsbr_offline();
    for (int i = 0; i < READERS; i++) {
        pthread_join(th[i], NULL);
    }
    qsbr_online();
    assert_int_equal(atomic_load(&s.failures), 0);
    assert_true(atomic_load(&s.lookups) > 0);
    assert_true(writes > 0);
    print_message("stress: %llu lookups, %llu writes\n",
                  (unsigned long long) atomic_load(&s.lookups),
                  (unsigned long long) writes);
    ftbl_flush_locked(s.t);
    drain();
    ftbl_destroy(s.t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_findex_model),
        cmocka_unit_test(test_lookup_model),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_dump_under_change),
        cmocka_unit_test(test_rerank),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_emc),
        cmocka_unit_test(test_stress),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
