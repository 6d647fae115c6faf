/* SPDX-License-Identifier: Apache-2.0 */
/* The dpif conformance suite, threads: a flow dump shared by 2 to 4
 * threads (enough flows that every thread gets some), client threads
 * that put, get, execute and delete at once, handler changes and port
 * dumps while other threads use the dpif, datapaths deleted under busy
 * threads, callers that are RCU readers, two dpifs reading upcalls of one
 * datapath, and weird stopping while calls wait.  Both providers
 * (dpif-test-util.h's groups); runs under ThreadSanitizer too (meson
 * suite 'tsan'). */

#define _GNU_SOURCE             /* pthread_timedjoin_np() */

#include <errno.h>
#include <linux/openvswitch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "lib/rcu.h"

#include "dpif-test-util.h"

/* ---- Flow dumps. ---- */

/* Enough flows for many dump parts (weird's are 32 KiB, a flow here
 * about 200 bytes whole, 60 terse), so that threads sharing a dump
 * really share it. */
#define DUMP_UFID_FLOWS 2400
#define DUMP_KEY_FLOWS 8
#define DUMP_FLOWS (DUMP_UFID_FLOWS + DUMP_KEY_FLOWS)
#define DUMP_THREADS_MAX 4

/* Installs the dump tests' flows, in batches: UFID flows (0xd, i) with
 * actions "drop", and flows without UFID with actions "i + 1". */
static void
dump_flows_install(struct dpif *dpif)
{
    static struct tflow flows[DUMP_FLOWS];
    static struct dpif_ufid ufids[DUMP_UFID_FLOWS];
    static struct tacts acts[DUMP_FLOWS];
    static struct dpif_op ops[DUMP_FLOWS], *opps[DUMP_FLOWS];

    for (int i = 0; i < DUMP_FLOWS; i++) {
        bool ufid = i < DUMP_UFID_FLOWS;
        int k = ufid ? i : i - DUMP_UFID_FLOWS;

        if (ufid) {
            ufids[i] = mkufid(0xd, (uint16_t) i);
            tflow(&flows[i], "in_port(1),eth(),eth_type(0x0800),"
                  "ipv4(src=10.1.%d.%d,proto=17),udp()", k / 200, k % 200);
            tacts(&acts[i], "drop");
        } else {
            tflow(&flows[i], "in_port(1),eth(),eth_type(0x0800),"
                  "ipv4(src=10.2.0.%d,proto=17),udp()", k);
            tacts(&acts[i], "%d", k + 1);
        }
        memset(&ops[i], 0, sizeof ops[i]);
        ops[i].type = DPIF_OP_FLOW_PUT;
        ops[i].u.flow_put = (struct dpif_flow_put) {
            .flags = DPIF_FP_CREATE,
            .key = flows[i].key, .key_len = flows[i].key_len,
            .mask = flows[i].mask, .mask_len = flows[i].mask_len,
            .ufid = ufid ? &ufids[i] : NULL,
            .actions = acts[i].a, .actions_len = acts[i].len,
        };
        opps[i] = &ops[i];
    }
    dpif_operate(dpif, opps, DUMP_FLOWS);
    for (int i = 0; i < DUMP_FLOWS; i++) {
        assert_errno(ops[i].error, 0);
    }
}

/* Which of the dump tests' flows 'flow' is: 0..DUMP_UFID_FLOWS-1 for the
 * UFID flows, then the others; -1 if it is none or is not as a dump
 * should give it. */
static int
dump_flow_index(const struct dpif_flow *flow, bool terse)
{
    if (flow->ufid.len) {
        int i = flow->ufid.id[1] << 8 | flow->ufid.id[2];

        if (flow->ufid.len != DPIF_UFID_LEN || flow->ufid.id[0] != 0xd
            || i >= DUMP_UFID_FLOWS) {
            return -1;
        }
        /* Terse: UFID and statistics only. */
        if (terse != (!flow->key && !flow->mask && !flow->actions)) {
            return -1;
        }
        if (!terse && (!flow->key_len || !flow->mask_len
                       || flow->actions_len)) {
            return -1;
        }
        return i;
    }
    /* Without UFID: always whole, named by key; actions "i + 1". */
    if (!flow->key || !flow->key_len || !flow->mask || !flow->mask_len
        || !flow->actions || flow->actions_len != 8) {
        return -1;
    }
    {
        uint32_t port;
        int i;

        memcpy(&port, (const uint8_t *) flow->actions + 4, 4);
        i = (int) port - 1;
        return i >= 0 && i < DUMP_KEY_FLOWS ? DUMP_UFID_FLOWS + i : -1;
    }
}

struct dump_ctx {
    struct dpif_flow_dump *dump;
    bool terse;
    int max;
    int n_threads;
    pthread_barrier_t start;        /* All threads begin together. */
    _Atomic int next_id;
    _Atomic int seen[DUMP_FLOWS];
    _Atomic int got[DUMP_THREADS_MAX];  /* Flows each thread got. */
    _Atomic int bad;
};

/* Flows the threads other than 'id' got so far. */
static int
dump_others_got(struct dump_ctx *ctx, int id)
{
    int n = 0;

    for (int i = 0; i < ctx->n_threads; i++) {
        n += i != id ? atomic_load(&ctx->got[i]) : 0;
    }
    return n;
}

static void *
dump_worker(void *ctx_)
{
    struct dump_ctx *ctx = ctx_;
    int id = atomic_fetch_add(&ctx->next_id, 1);
    struct dpif_flow_dump_thread *t = dpif_flow_dump_thread_create(
        ctx->dump);
    struct dpif_flow flows[8];
    int n;

    pthread_barrier_wait(&ctx->start);
    if (!t) {
        atomic_fetch_add(&ctx->bad, 1);
        return NULL;
    }
    while ((n = dpif_flow_dump_next(t, flows, ctx->max)) > 0) {
        bool first = !atomic_fetch_add(&ctx->got[id], n);

        if (n > ctx->max) {
            atomic_fetch_add(&ctx->bad, 1);
        }
        if (first && ctx->n_threads > 1) {
            /* Holding the first flows it got, this thread lets another
             * take its share of the same dump (up to 2 s), whatever the
             * scheduler does: the point is that they can share it. */
            uint64_t deadline = tu_now_ms() + 2000;

            while (!dump_others_got(ctx, id) && tu_now_ms() < deadline) {
                tu_sleep_ms(1);
            }
        }
        for (int i = 0; i < n && i < ctx->max; i++) {
            int k = dump_flow_index(&flows[i], ctx->terse);

            if (k < 0) {
                char text[2048];

                dpif_flow_format(&flows[i], true, text, sizeof text);
                fprintf(stderr, "%s dump: unexpected flow (key %p/%zu, "
                        "mask %p/%zu, actions %p/%zu): %s\n",
                        ctx->terse ? "terse" : "full", flows[i].key,
                        flows[i].key_len, flows[i].mask, flows[i].mask_len,
                        flows[i].actions, flows[i].actions_len, text);
                atomic_fetch_add(&ctx->bad, 1);
            } else {
                atomic_fetch_add(&ctx->seen[k], 1);
            }
        }
    }
    dpif_flow_dump_thread_destroy(t);
    return NULL;
}

/* Dumps with 'n_threads' threads sharing one dump, started together;
 * checks that every flow came exactly once, in the right shape, and that
 * with several threads at least two of them got flows. */
static void
dump_check(struct dpif *dpif, bool terse, int n_threads, int max)
{
    struct dump_ctx *ctx = calloc(1, sizeof *ctx);
    pthread_t threads[DUMP_THREADS_MAX];
    int busy = 0;

    assert_non_null(ctx);
    assert_true(n_threads <= DUMP_THREADS_MAX);
    ctx->terse = terse;
    ctx->max = max;
    ctx->n_threads = n_threads;
    assert_int_equal(pthread_barrier_init(&ctx->start, NULL,
                                          (unsigned int) n_threads), 0);
    ctx->dump = dpif_flow_dump_create(dpif, terse);
    assert_non_null(ctx->dump);
    for (int i = 0; i < n_threads; i++) {
        assert_int_equal(pthread_create(&threads[i], NULL, dump_worker, ctx),
                         0);
    }
    for (int i = 0; i < n_threads; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_barrier_destroy(&ctx->start);
    assert_errno(dpif_flow_dump_destroy(ctx->dump), 0);
    assert_int_equal(atomic_load(&ctx->bad), 0);
    for (int i = 0; i < DUMP_FLOWS; i++) {
        if (atomic_load(&ctx->seen[i]) != 1) {
            fail_msg("%s dump, %d threads: flow %d seen %d times",
                     terse ? "terse" : "full", n_threads, i,
                     atomic_load(&ctx->seen[i]));
        }
    }
    for (int i = 0; i < n_threads; i++) {
        busy += atomic_load(&ctx->got[i]) > 0;
    }
    if (n_threads > 1 && busy < 2) {
        fail_msg("%s dump, %d threads: only %d thread(s) got flows",
                 terse ? "terse" : "full", n_threads, busy);
    }
    free(ctx);
}

static void
test_flow_dump(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "dump"));
    struct dpif_flow_dump_thread *t;
    struct dpif_flow_dump *dump;
    struct dpif_flow flows[4];

    /* Empty. */
    dump = dpif_flow_dump_create(dpif, false);
    assert_non_null(dump);
    t = dpif_flow_dump_thread_create(dump);
    assert_non_null(t);
    assert_int_equal(dpif_flow_dump_next(t, flows, 4), 0);
    dpif_flow_dump_thread_destroy(t);
    assert_errno(dpif_flow_dump_destroy(dump), 0);
    assert_errno(dpif_flow_dump_destroy(NULL), 0);
    assert_null(dpif_flow_dump_thread_create(NULL));

    dump_flows_install(dpif);
    dump_check(dpif, false, 1, 5);
    dump_check(dpif, true, 1, 7);
    dump_check(dpif, false, 2, 3);
    dump_check(dpif, true, 2, 4);
    dump_check(dpif, false, 4, 1);
    dump_check(dpif, true, 4, 8);
    dp_done(dpif);
}

/* ---- Many client threads at once. ---- */

#define CLIENT_THREADS 4
#define CLIENT_ROUNDS 100

struct client_ctx {
    struct dpif *dpif;
    int id;
    uint32_t tx_no;
    _Atomic int *errors;
};

/* Puts, reads, executes and deletes flows of its own, as a handler
 * thread does; counts what goes wrong. */
static void *
client_worker(void *ctx_)
{
    struct client_ctx *ctx = ctx_;
    static _Thread_local uint8_t buf[4096];
    struct dpif_execute ex;
    struct dpif_flow flow;
    struct tframe frame;
    uint8_t key[512], mask[512], acts[64];
    size_t mask_len;
    char text[256];
    int key_len, acts_len;

    snprintf(text, sizeof text, "%u", ctx->tx_no);
    acts_len = dpif_actions_parse(text, acts, sizeof acts);
    tframe_udp(&frame, 60, 0x0a070000u + (uint32_t) ctx->id, 7);
    for (int i = 0; i < CLIENT_ROUNDS && acts_len > 0; i++) {
        struct dpif_ufid u = mkufid((uint8_t) (0x70 + ctx->id),
                                    (uint16_t) i);

        snprintf(text, sizeof text, "in_port(1),eth(),eth_type(0x0800),"
                 "ipv4(src=10.7.%d.%d,proto=17),udp()", ctx->id, i);
        key_len = dpif_key_parse(text, key, sizeof key, mask, sizeof mask,
                                 &mask_len, NULL);
        if (key_len <= 0
            || dpif_flow_put(ctx->dpif, DPIF_FP_CREATE, key,
                             (size_t) key_len, mask, mask_len, &u, acts,
                             (size_t) acts_len, NULL)
            || dpif_flow_get(ctx->dpif, NULL, 0, &u, buf, sizeof buf, &flow)
            || flow.actions_len != (size_t) acts_len) {
            atomic_fetch_add(ctx->errors, 1);
        }
        ex = (struct dpif_execute) {
            .packet = frame.data, .packet_len = frame.len,
            .actions = acts, .actions_len = (size_t) acts_len,
            .in_port = DPIF_PORT_ANY,
        };
        if (dpif_execute(ctx->dpif, &ex)
            || dpif_flow_del(ctx->dpif, NULL, 0, &u, NULL)) {
            atomic_fetch_add(ctx->errors, 1);
        }
    }
    if (acts_len <= 0) {
        atomic_fetch_add(ctx->errors, 1);
    }
    return NULL;
}

static void
test_threads(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "threads"));
    struct client_ctx ctx[CLIENT_THREADS];
    pthread_t threads[CLIENT_THREADS];
    struct dpif_port_stats ps;
    struct dpif_dp_stats ds;
    _Atomic int errors = 0;
    uint32_t tx_no;
    char tx[200];

    tpath(s, "threads-tx.pcap", tx, sizeof tx);
    tx_no = add_pcap(dpif, nm(s, "thr-tx"), "tx", tx, DPIF_PORT_ANY);
    for (int i = 0; i < CLIENT_THREADS; i++) {
        ctx[i] = (struct client_ctx) {
            .dpif = dpif, .id = i, .tx_no = tx_no, .errors = &errors,
        };
        assert_int_equal(pthread_create(&threads[i], NULL, client_worker,
                                        &ctx[i]), 0);
    }
    for (int i = 0; i < CLIENT_THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    assert_int_equal(atomic_load(&errors), 0);
    assert_errno(dpif_get_dp_stats(dpif, &ds), 0);
    assert_int_equal(ds.n_flows, 0);
    assert_errno(dpif_port_get_stats(dpif, tx_no, &ps), 0);
    assert_int_equal(ps.tx_packets, CLIENT_THREADS * CLIENT_ROUNDS);
    dp_done(dpif);
}

struct waiter_ctx {
    struct dpif *dpif;
    _Atomic bool stop;
    _Atomic int waits, errors;
};

/* Waits on handler 0 in short turns until told to stop. */
static void *
waiter(void *ctx_)
{
    struct waiter_ctx *ctx = ctx_;

    while (!atomic_load(&ctx->stop)) {
        int error = dpif_recv_wait(ctx->dpif, 0, 20);

        atomic_fetch_add(&ctx->waits, 1);
        if (error && error != -ETIMEDOUT) {
            atomic_fetch_add(&ctx->errors, 1);
            tu_sleep_ms(1);
        }
    }
    return NULL;
}

/* A thread waits for upcalls while another changes the handlers: the
 * change waits for the waiter's turn, the waiter then finds its handler
 * gone (-EINVAL) or back. */
static void
test_handlers_change_while_waiting(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "hwait"));
    struct waiter_ctx ctx = { .dpif = dpif };
    pthread_t t;

    assert_errno(dpif_handlers_set(dpif, 1), 0);
    assert_int_equal(pthread_create(&t, NULL, waiter, &ctx), 0);
    for (int i = 0; i < 5; i++) {
        tu_sleep_ms(30);
        assert_errno(dpif_handlers_set(dpif, i % 2 ? 1 : 0), 0);
    }
    tu_sleep_ms(30);
    atomic_store(&ctx.stop, true);
    pthread_join(t, NULL);
    assert_true(atomic_load(&ctx.waits) > 0);
    /* The handler was gone part of the time. */
    assert_true(atomic_load(&ctx.errors) > 0);
    assert_errno(dpif_recv_wait(dpif, 0, 0), -EINVAL);
    dp_done(dpif);
}

struct busy_ctx {
    struct dpif *dpif;
    _Atomic int ok, enodev, other;
};

/* Uses a datapath through its own dpif until the datapath is gone. */
static void *
busy_worker(void *ctx_)
{
    struct busy_ctx *ctx = ctx_;
    uint64_t deadline = tu_now_ms() + 5000;
    struct dpif_dp_stats st;

    while (tu_now_ms() < deadline) {
        int e1 = dpif_get_dp_stats(ctx->dpif, &st);
        int e2 = dpif_flow_flush(ctx->dpif);

        if ((e1 && e1 != -ENODEV) || (e2 && e2 != -ENODEV)) {
            atomic_fetch_add(&ctx->other, 1);
        } else if (!e1 && !e2) {
            atomic_fetch_add(&ctx->ok, 1);
        } else if (e1 && e2) {
            atomic_fetch_add(&ctx->enodev, 1);
            break;
        }
    }
    return NULL;
}

/* dpif_delete() while another thread uses the datapath through another
 * dpif: that thread's calls fail cleanly with -ENODEV. */
static void
test_delete_while_busy(void **state)
{
    const struct suite *s = *state;
    NM(name, s, "busy");
    struct dpif *a = dp_open(s, name);
    struct busy_ctx ctx = { .dpif = NULL };
    pthread_t t;

    assert_errno(dpif_open(s->type, name, false, &ctx.dpif), 0);
    assert_int_equal(pthread_create(&t, NULL, busy_worker, &ctx), 0);
    while (atomic_load(&ctx.ok) < 10 && !atomic_load(&ctx.other)) {
        tu_sleep_ms(1);
    }
    assert_errno(dpif_delete(a), 0);
    pthread_join(t, NULL);
    assert_int_equal(atomic_load(&ctx.other), 0);
    assert_int_equal(atomic_load(&ctx.enodev), 1);
    dpif_close(ctx.dpif);
    dpif_close(a);
}

struct online_ctx {
    char port[DPIF_NAME_MAX];
    struct dpif *dpif;
    bool register_rcu;
    _Atomic int errors;
};

/* Runs calls that pass through grace periods (port add and delete)
 * while being, itself, a registered RCU reader that stays online. */
static void *
online_worker(void *ctx_)
{
    struct online_ctx *ctx = ctx_;
    struct dpif_dp_stats st;

    if (ctx->register_rcu) {
        qsbr_register();
    }
    for (int i = 0; i < 20; i++) {
        uint32_t no = DPIF_PORT_ANY;

        if (dpif_port_add(ctx->dpif, ctx->port, "dummy", NULL, &no)
            || dpif_get_dp_stats(ctx->dpif, &st)
            || dpif_port_del(ctx->dpif, no)) {
            atomic_fetch_add(&ctx->errors, 1);
        }
        if (ctx->register_rcu && !rcu_read_ongoing()) {
            atomic_fetch_add(&ctx->errors, 1);
        }
        if (ctx->register_rcu) {
            qsbr_quiesce();
        }
    }
    if (ctx->register_rcu) {
        qsbr_unregister();
    }
    return NULL;
}

/* A caller that is an online RCU reader of its own (weird's threads)
 * stays one, and does not hold up the grace periods that another
 * thread's calls wait for meanwhile.  (With the netlink provider the
 * worker does not register: its server runs in this process, and a
 * reader online while waiting for the server's reply would hold up the
 * server's own grace periods, which a real client in another process
 * never does.) */
static void
test_online_caller(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "online"));
    struct online_ctx ctx = {
        .dpif = dpif, .register_rcu = !strcmp(s->type, "local"),
    };
    pthread_t t;

    snprintf(ctx.port, sizeof ctx.port, "%sonl", s->prefix);
    assert_int_equal(pthread_create(&t, NULL, online_worker, &ctx), 0);
    for (int i = 0; i < 20; i++) {
        uint32_t no = DPIF_PORT_ANY;

        assert_errno(dpif_port_add(dpif, nm(s, "onm"), "dummy", NULL, &no),
                     0);
        assert_errno(dpif_port_del(dpif, no), 0);
    }
    pthread_join(t, NULL);
    assert_int_equal(atomic_load(&ctx.errors), 0);
    dp_done(dpif);
}

/* ---- Listings and handler changes while other threads call. ---- */

struct busy_calls {
    struct dpif *dpif;
    _Atomic bool stop;
    _Atomic int ok, errors, last_error;
};

/* Transactions on the dpif's main connection until told to stop. */
static void *
stats_worker(void *ctx_)
{
    struct busy_calls *ctx = ctx_;

    while (!atomic_load(&ctx->stop)) {
        struct dpif_dp_stats st;
        int error = dpif_get_dp_stats(ctx->dpif, &st);

        if (error) {
            atomic_store(&ctx->last_error, error);
            atomic_fetch_add(&ctx->errors, 1);
            tu_sleep_ms(1);
        } else {
            atomic_fetch_add(&ctx->ok, 1);
        }
    }
    return NULL;
}

#define BUSY_WORKERS 2

static void
busy_start(struct busy_calls *ctx, struct dpif *dpif, pthread_t *threads)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->dpif = dpif;
    for (int i = 0; i < BUSY_WORKERS; i++) {
        assert_int_equal(pthread_create(&threads[i], NULL, stats_worker,
                                        ctx), 0);
    }
    /* The workers are calling before the test goes on (on a loaded
     * machine they may otherwise not have run at all by busy_stop()). */
    for (int i = 0; i < 5000 && atomic_load(&ctx->ok) == 0; i++) {
        tu_sleep_ms(1);
    }
}

static void
busy_stop(struct busy_calls *ctx, pthread_t *threads)
{
    atomic_store(&ctx->stop, true);
    for (int i = 0; i < BUSY_WORKERS; i++) {
        pthread_join(threads[i], NULL);
    }
    if (atomic_load(&ctx->errors)) {
        fail_msg("%d calls of the other threads failed, the last with %s",
                 atomic_load(&ctx->errors),
                 strerror(-atomic_load(&ctx->last_error)));
    }
    assert_true(atomic_load(&ctx->ok) > 0);
}

/* Port dumps while other threads run transactions on the same dpif: every
 * dump complete, every call answered (the netlink provider reads a port
 * dump on the dpif's shared connection). */
static void
test_port_dump_while_busy(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "pdbusy"));
    pthread_t threads[BUSY_WORKERS];
    struct busy_calls ctx;
    char why[256] = "";
    uint64_t deadline;
    uint32_t no;
    int dumps = 0, error;

    no = DPIF_PORT_ANY;
    assert_errno(dpif_port_add(dpif, nm(s, "pdb1"), "dummy", NULL, &no), 0);
    no = DPIF_PORT_ANY;
    assert_errno(dpif_port_add(dpif, nm(s, "pdb2"), "dummy", NULL, &no), 0);
    busy_start(&ctx, dpif, threads);
    deadline = tu_now_ms() + 60000;
    while (dumps < 300 && tu_now_ms() < deadline) {
        struct dpif_port_dump *dump = dpif_port_dump_start(dpif);
        struct dpif_port port;
        int n = 0;

        while (dpif_port_dump_next(dump, &port)) {
            n++;
        }
        error = dpif_port_dump_done(dump);
        if (error || n != 3) {
            snprintf(why, sizeof why, "port dump %d: %d ports, %s (%s)",
                     dumps, n, strerror(-error), dpif_last_error());
            break;
        }
        dumps++;
    }
    /* The other threads stop before the test may fail: they use 'ctx'. */
    busy_stop(&ctx, threads);
    if (why[0]) {
        fail_msg("%s", why);
    }
    assert_int_equal(dumps, 300);
    dp_done(dpif);
}

/* dpif_handlers_set() (which reads the ports, on the netlink provider's
 * shared connection, and sets each one's PIDs) while other threads run
 * transactions on the same dpif. */
static void
test_handlers_set_while_busy(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "hsbusy"));
    pthread_t threads[BUSY_WORKERS];
    struct busy_calls ctx;
    char why[256] = "";
    uint32_t no;

    no = DPIF_PORT_ANY;
    assert_errno(dpif_port_add(dpif, nm(s, "hsb1"), "dummy", NULL, &no), 0);
    no = DPIF_PORT_ANY;
    assert_errno(dpif_port_add(dpif, nm(s, "hsb2"), "dummy", NULL, &no), 0);
    busy_start(&ctx, dpif, threads);
    for (uint32_t i = 0; i < 100 && !why[0]; i++) {
        int error = dpif_handlers_set(dpif, 1 + i % 3);

        if (error) {
            snprintf(why, sizeof why, "handlers_set %u: %s (%s)", i,
                     strerror(-error), dpif_last_error());
        } else if (!dpif_handler_pid(dpif, i % 3)
                   || dpif_handler_pid(dpif, 1 + i % 3)) {
            snprintf(why, sizeof why, "handlers_set %u: wrong handlers", i);
        }
    }
    /* The other threads stop before the test may fail: they use 'ctx'. */
    busy_stop(&ctx, threads);
    if (why[0]) {
        fail_msg("%s", why);
    }
    assert_errno(dpif_handlers_set(dpif, 0), 0);
    dp_done(dpif);
}

/* ---- Two dpifs reading upcalls of one datapath. ---- */

#define TWO_PACKETS 2000

struct reader_ctx {
    struct dpif *dpif;
    uint32_t pid;
    _Atomic bool stop;
    _Atomic int got, bad;
};

/* Whether 'up' is one of test_two_dpifs_recv()'s packets, intact: every
 * byte after the Ethernet header is its length's low byte. */
static bool
two_packet_ok(const struct dpif_upcall *up)
{
    const uint8_t *p = up->packet;

    if (up->packet_len < 60) {
        return false;
    }
    for (size_t i = 14; i < up->packet_len; i++) {
        if (p[i] != (uint8_t) up->packet_len) {
            return false;
        }
    }
    return true;
}

/* Reads handler 0 of its dpif until told to stop and nothing is left. */
static void *
two_reader(void *ctx_)
{
    struct reader_ctx *ctx = ctx_;

    for (;;) {
        struct dpif_upcall up;
        int error = dpif_recv(ctx->dpif, 0, &up);

        if (error == -EAGAIN) {
            if (atomic_load(&ctx->stop)) {
                break;
            }
            dpif_recv_wait(ctx->dpif, 0, 10);
        } else if (error || up.pid != ctx->pid || !two_packet_ok(&up)) {
            atomic_fetch_add(&ctx->bad, 1);
        } else {
            atomic_fetch_add(&ctx->got, 1);
        }
    }
    return NULL;
}

/* Two dpifs of one datapath, each with a handler of its own read by a
 * thread of its own, while packets go to both handlers' PIDs: each gets
 * exactly what was sent to it, intact (each dpif has its own buffers). */
static void
test_two_dpifs_recv(void **state)
{
    const struct suite *s = *state;
    NM(dpn, s, "tworecv");
    struct dpif *a = dp_open(s, dpn), *b;
    /* Static: the readers use them until they are joined, whatever
     * happens to this frame. */
    static struct reader_ctx ra, rb;
    static uint8_t frame[1024];
    pthread_t ta, tb;
    uint64_t deadline;
    int error = 0;

    assert_errno(dpif_open(s->type, dpn, false, &b), 0);
    assert_errno(dpif_handlers_set(a, 1), 0);
    assert_errno(dpif_handlers_set(b, 1), 0);
    memset(&ra, 0, sizeof ra);
    memset(&rb, 0, sizeof rb);
    ra.dpif = a;
    ra.pid = dpif_handler_pid(a, 0);
    rb.dpif = b;
    rb.pid = dpif_handler_pid(b, 0);
    assert_true(ra.pid && rb.pid && ra.pid != rb.pid);
    assert_int_equal(pthread_create(&ta, NULL, two_reader, &ra), 0);
    assert_int_equal(pthread_create(&tb, NULL, two_reader, &rb), 0);

    for (int i = 0; i < TWO_PACKETS && !error; i++) {
        struct dpif_execute ex = DPIF_EXECUTE_INIT;
        size_t len = 60 + (size_t) (i * 7) % 900;
        struct tacts act;

        memset(frame, 0, 12);
        frame[12] = 0x08;
        frame[13] = 0x00;
        memset(frame + 14, (uint8_t) len, len - 14);
        tacts(&act, "userspace(pid=%u)", i % 2 ? ra.pid : rb.pid);
        ex.packet = frame;
        ex.packet_len = len;
        ex.actions = act.a;
        ex.actions_len = act.len;
        error = dpif_execute(i % 3 ? a : b, &ex);
        /* At most 64 in flight: no queue overflows. */
        deadline = tu_now_ms() + 5000;
        while (i + 1 - (atomic_load(&ra.got) + atomic_load(&rb.got)
                        + atomic_load(&ra.bad) + atomic_load(&rb.bad)) > 64
               && tu_now_ms() < deadline) {
            tu_sleep_us(100);
        }
    }
    deadline = tu_now_ms() + 10000;
    while (atomic_load(&ra.got) + atomic_load(&rb.got) < TWO_PACKETS
           && !atomic_load(&ra.bad) && !atomic_load(&rb.bad)
           && tu_now_ms() < deadline) {
        tu_sleep_ms(1);
    }
    atomic_store(&ra.stop, true);
    atomic_store(&rb.stop, true);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_errno(error, 0);
    assert_int_equal(atomic_load(&ra.bad), 0);
    assert_int_equal(atomic_load(&rb.bad), 0);
    assert_int_equal(atomic_load(&ra.got), TWO_PACKETS / 2);
    assert_int_equal(atomic_load(&rb.got), TWO_PACKETS / 2);
    assert_errno(dpif_handlers_set(a, 0), 0);
    assert_errno(dpif_handlers_set(b, 0), 0);
    dpif_close(b);
    dp_done(a);
}

/* ---- weird stopping under waiting calls. ---- */

enum stop_kind { STOP_RECV, STOP_TXN, STOP_MONITOR, STOP_POLL, STOP_N };

struct stop_ctx {
    struct dpif *dpif;
    struct dpif_monitor *mon;
    enum stop_kind kind;
    _Atomic bool running;
    _Atomic int result;
};

/* Waits in, or loops on, one kind of call until it fails; keeps the
 * error. */
static void *
stop_worker(void *ctx_)
{
    struct stop_ctx *ctx = ctx_;
    int error = 0;

    atomic_store(&ctx->running, true);
    while (!error) {
        struct dpif_dp_stats st;
        struct dpif_upcall up;
        struct dpif_event ev;
        char *name;

        switch (ctx->kind) {
        case STOP_RECV:
            error = dpif_recv_wait(ctx->dpif, 0, -1);
            if (!error) {
                error = dpif_recv(ctx->dpif, 0, &up);
                error = error == -EAGAIN ? 0 : error;
            }
            break;
        case STOP_TXN:
            error = dpif_get_dp_stats(ctx->dpif, &st);
            break;
        case STOP_MONITOR:
            error = dpif_monitor_next(ctx->mon, &ev, -1);
            error = error == -EAGAIN ? 0 : error;
            break;
        case STOP_POLL:
            error = dpif_port_poll(ctx->dpif, &name);
            if (!error) {
                free(name);
            } else if (error == -EAGAIN) {
                tu_fd_readable(dpif_port_poll_fd(ctx->dpif), 1000);
                error = 0;
            }
            break;
        case STOP_N:
            error = -EINVAL;
            break;
        }
    }
    atomic_store(&ctx->result, error);
    return NULL;
}

/* netlink: weird stops while calls wait for it (an upcall, a reply, an
 * event, a port change): every one ends with -ECONNRESET, none hangs, and
 * the dpif's later calls fail at once. */
static void
test_weird_stops(void **state)
{
    const struct suite *s = *state;
    struct suite w = { .type = "netlink", .prefix = "n3-" };
    /* Static: a worker that did not end uses it after a failure. */
    static struct stop_ctx ctx[STOP_N];
    pthread_t threads[STOP_N];
    struct dpif_dp_stats st;
    struct dpif_port_dump *dump;
    struct dpif_port port;
    struct dpif *dpif;
    struct dpif_monitor *mon;

    if (strcmp(s->type, "netlink")) {
        skip();                 /* Nothing to stop. */
    }
    assert_int_equal(weird_start(&w), 0);
    dpif_set_control_path(w.sock);
    dpif = dp_open(&w, nm(&w, "stop"));
    assert_errno(dpif_handlers_set(dpif, 1), 0);
    assert_errno(dpif_monitor_create("netlink", &mon), 0);
    dpif_set_control_path(s->sock);

    for (int i = 0; i < STOP_N; i++) {
        ctx[i] = (struct stop_ctx) { .dpif = dpif, .mon = mon,
                                     .kind = (enum stop_kind) i };
        assert_int_equal(pthread_create(&threads[i], NULL, stop_worker,
                                        &ctx[i]), 0);
    }
    for (int i = 0; i < STOP_N; i++) {
        while (!atomic_load(&ctx[i].running)) {
            tu_sleep_ms(1);
        }
    }
    tu_sleep_ms(100);
    weird_stop(&w);
    for (int i = 0; i < STOP_N; i++) {
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 10;
        if (pthread_timedjoin_np(threads[i], NULL, &until)) {
            fail_msg("call %d still waits 10 s after weird stopped", i);
        }
        if (atomic_load(&ctx[i].result) != -ECONNRESET) {
            fail_msg("call %d ended with %s, not ECONNRESET", i,
                     strerror(-atomic_load(&ctx[i].result)));
        }
    }

    /* The dpif is dead: its calls fail at once. */
    assert_errno(dpif_get_dp_stats(dpif, &st), -ECONNRESET);
    dump = dpif_port_dump_start(dpif);
    assert_false(dpif_port_dump_next(dump, &port));
    assert_errno(dpif_port_dump_done(dump), -ECONNRESET);
    assert_null(dpif_flow_dump_create(dpif, false));
    dpif_monitor_destroy(mon);
    dpif_close(dpif);
}

int
main(void)
{
    const struct CMUnitTest provider_tests[] = {
        cmocka_unit_test(test_flow_dump),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_handlers_change_while_waiting),
        cmocka_unit_test(test_delete_while_busy),
        cmocka_unit_test(test_online_caller),
        cmocka_unit_test(test_port_dump_while_busy),
        cmocka_unit_test(test_handlers_set_while_busy),
        cmocka_unit_test(test_two_dpifs_recv),
        cmocka_unit_test(test_weird_stops),
    };
    const char *only = getenv("DPIF_TEST_PROVIDER");
    int failed = 0;

    /* One group on its own: DPIF_TEST_PROVIDER=local (or netlink). */
    if (!only || !strcmp(only, "local")) {
        failed += cmocka_run_group_tests_name("dpif-threads-local",
                                              provider_tests, setup_local,
                                              teardown_suite);
    }
    if (!only || !strcmp(only, "netlink")) {
        failed += cmocka_run_group_tests_name("dpif-threads-netlink",
                                              provider_tests, setup_netlink,
                                              teardown_suite);
    }
    return failed;
}
