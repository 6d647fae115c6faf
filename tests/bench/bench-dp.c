/* SPDX-License-Identifier: Apache-2.0 */
/* Datapath benchmarks: one thread, dummy ports, 64-byte UDP frames.
 *
 *   dp_1flow_mpps                 one flow, every packet a cache hit
 *   dp_1k_1mask_mpps              1,000 flows on one mask
 *   dp_100k_20mask_mpps           100,000 flows over 20 masks
 *   dp_100k_20mask_nocache_mpps   the same without the exact-match cache
 *   dp_insert_per_s               flow installs (dp_flow_new, with UFID)
 *   dp_dump_full_per_s            flows dumped with key, mask, actions
 *   dp_dump_terse_per_s           flows dumped with UFID and stats only
 *
 * The receive port cycles through the injected frames (dummy "loop=true",
 * packets from a pool), the flows output to a dummy port that frees them
 * ("capture=false"): what is timed is parse, lookup, actions, stats and
 * the ports' queue handling, with no allocation per packet.  The frames
 * are injected in a shuffled order, so consecutive packets belong to
 * different flows.  usage: bench-dp [SECONDS_PER_CASE] [ONLY]
 *
 * ONLY selects the cases whose name it contains or is contained in;
 * ONLY=diag instead prints "DIAG" lines (not BENCH figures) that separate
 * the cost of probing many subtables from the cost of cache misses on
 * many flows, with the exact-match cache off: 100,000 flows on 1 mask,
 * 20 on 20 masks, 2,000 and 20,000 on 20 masks. */

#include <errno.h>
#include <linux/openvswitch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp/dp.h"
#include "lib/errbuf.h"
#include "lib/rcu.h"
#include "port/port-dummy.h"
#include "port/port.h"
#include "tests/bench/bench-util.h"
#include "tests/unit/dp-test-util.h"

static double seconds = 2.0;

static void
die(const char *what, const struct errbuf *err)
{
    fprintf(stderr, "bench-dp: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

/* A datapath with ports 1 (loop rx) and 2 (discarding tx). */
static struct datapath *
bench_dp(void)
{
    struct datapath *dp;
    struct errbuf err;
    uint32_t p1 = 1, p2 = 2;

    errbuf_clear(&err);
    if (dp_create("bench", NULL, &dp, &err)
        || dp_port_add(dp, "dummy", "in", "loop=true", &p1, &err)
        || dp_port_add(dp, "dummy", "out", "capture=false", &p2, &err)) {
        die("datapath", &err);
    }
    return dp;
}

static void
bench_dp_destroy(struct datapath *dp)
{
    qsbr_offline();
    dp_destroy(dp);
    qsbr_online();
}

/* Mask 'i' of 20: every mask matches recirc_id, in_port, eth_type, the
 * IPv4 source /16 (which says which mask a flow belongs to, so flows of
 * different masks never overlap), proto and frag; they differ in the
 * destination prefix (32 down to 25 bits), and in whether they match the
 * UDP destination port and the TTL. */
static void
mask_text(int i, char *buf, size_t size)
{
    uint32_t dmask = 0xffffffffu << (i % 8);

    snprintf(buf, size,
             "recirc_id(0),in_port(1),eth(),eth_type(0x0800),"
             "ipv4(src=10.%d.0.0/255.255.0.0,dst=0.0.0.0/%u.%u.%u.%u,"
             "proto=17%s,frag=no),udp(%s)",
             i, dmask >> 24, (dmask >> 16) & 0xff, (dmask >> 8) & 0xff,
             dmask & 0xff, i >= 16 ? ",ttl=64" : "",
             i & 8 ? "dst=53" : "");
}

/* Installs 'n' flows spread over 'n_masks' masks, flow j of mask i
 * matching destination (j << (i % 8)).  Injects one frame per flow into
 * port 1 in shuffled order.  Returns the install rate (flows/s). */
static double
install(struct datapath *dp, int n, int n_masks, bool inject)
{
    struct flow_key *keys = calloc((size_t) n, sizeof *keys);
    struct flow_mask *masks = calloc((size_t) n_masks, sizeof *masks);
    struct flow_key *mkeys = calloc((size_t) n_masks, sizeof *mkeys);
    uint8_t acts[64];
    size_t acts_len = tu_parse_actions("2", acts, sizeof acts);
    int *order = malloc((size_t) n * sizeof *order);
    uint32_t r = 1;
    struct errbuf err;
    double t0, t1;

    for (int i = 0; i < n_masks; i++) {
        char text[512];

        mask_text(i, text, sizeof text);
        tu_parse_flow(text, &mkeys[i], &masks[i]);
    }
    for (int j = 0; j < n; j++) {
        int i = j % n_masks;
        uint32_t dst = (uint32_t) (j / n_masks) << (i % 8);

        keys[j] = mkeys[i];
        keys[j].addr.ipv4.src = htonl(0x0a000001u | (uint32_t) i << 16);
        keys[j].addr.ipv4.dst = htonl(dst);
        keys[j].nw_ttl = 64;
        keys[j].tp_dst = htons(53);
        order[j] = j;
    }
    t0 = bench_now();
    for (int j = 0; j < n; j++) {
        struct ufid u = { 16, { 0 } };
        struct dp_flow_req req = {
            .key = &keys[j], .mask = &masks[j % n_masks], .ufid = &u,
            .actions = acts, .actions_len = acts_len, .has_actions = true,
        };

        memcpy(u.id, &j, sizeof j);
        if (dp_flow_new(dp, &req, DP_FLOW_EXCL, NULL, &err) != 0) {
            die("flow install", &err);
        }
    }
    t1 = bench_now();
    if (inject) {
        struct port *in = dp_port_get(dp, 1);

        for (int j = n - 1; j > 0; j--) {
            r = r * 1103515245u + 12345u;
            int k = (int) ((r >> 8) % (uint32_t) (j + 1));
            int tmp = order[j];

            order[j] = order[k];
            order[k] = tmp;
        }
        for (int j = 0; j < n; j++) {
            const struct flow_key *k = &keys[order[j]];
            uint8_t frame[60];

            /* 60 bytes + FCS = a 64-byte frame on the wire. */
            tu_udp_frame(frame, sizeof frame, ntohl(k->addr.ipv4.src),
                         ntohl(k->addr.ipv4.dst), (uint16_t) (1024 + j % 999),
                         53);
            if (port_dummy_inject(in, frame, sizeof frame)) {
                die("inject", NULL);
            }
        }
    }
    free(keys);
    free(masks);
    free(mkeys);
    free(order);
    return n / (t1 - t0);
}

/* Polls port 1 for 'seconds'; returns Mpps. */
static double
run(struct datapath *dp, bool emc)
{
    struct dp_thread_config tc = { .emc = emc };
    struct dp_thread *thr = dp_thread_create(dp, &tc);
    uint64_t packets = 0;
    double t0, t1;
    struct dp_stats st;

    /* Warm up: caches, ranking (after one second). */
    t0 = bench_now();
    while (bench_now() - t0 < 1.1) {
        for (int i = 0; i < 64; i++) {
            dp_poll(thr, 1, 0);
        }
        dp_thread_quiesce(thr);
    }
    t0 = bench_now();
    do {
        for (int i = 0; i < 256; i++) {
            int n = dp_poll(thr, 1, 0);

            packets += n > 0 ? (uint64_t) n : 0;
        }
        dp_thread_quiesce(thr);
        t1 = bench_now();
    } while (t1 - t0 < seconds);
    dp_get_stats(dp, &st);
    if (st.n_missed || !st.n_hit) {
        fprintf(stderr, "bench-dp: %llu misses, %llu hits\n",
                (unsigned long long) st.n_missed,
                (unsigned long long) st.n_hit);
        exit(1);
    }
    fprintf(stderr, "  (%.2f subtables probed per packet, %.0f%% cache "
            "hits)\n", (double) st.n_mask_hit / st.n_hit,
            100.0 * st.n_cache_hit / st.n_hit);
    dp_thread_destroy(thr);
    return packets / (t1 - t0) / 1e6;
}

static double
dump_rate(struct datapath *dp, uint32_t flags)
{
    struct dp_flow_info *infos = malloc(64 * sizeof *infos);
    uint64_t flows = 0;
    double t0 = bench_now(), t1;

    do {
        uint64_t cursor = 0;
        size_t n;

        while ((n = dp_flow_dump_at(dp, &cursor, flags, infos, 64)) > 0) {
            flows += n;
        }
        qsbr_quiesce();
        t1 = bench_now();
    } while (t1 - t0 < seconds);
    free(infos);
    return flows / (t1 - t0);
}

static bool
want(const char *only, const char *name)
{
    return !only || strstr(name, only) || strstr(only, name);
}

int
main(int argc, char *argv[])
{
    const char *only = argc > 2 ? argv[2] : NULL;
    struct datapath *dp;

    if (argc > 1) {
        seconds = atof(argv[1]);
    }
    qsbr_register();
    if (want(only, "dp_1flow_mpps")) {
        dp = bench_dp();
        install(dp, 1, 1, true);
        printf("BENCH dp_1flow_mpps %.2f Mpps\n", run(dp, true));
        bench_dp_destroy(dp);
    }
    if (want(only, "dp_1k_1mask_mpps")) {
        dp = bench_dp();
        install(dp, 1000, 1, true);
        printf("BENCH dp_1k_1mask_mpps %.2f Mpps\n", run(dp, true));
        bench_dp_destroy(dp);
    }
    if (only && !strcmp(only, "diag")) {
        int cases[][2] = { { 100000, 1 }, { 20, 20 }, { 2000, 20 },
                           { 20000, 20 } };
        for (int c = 0; c < 4; c++) {
            dp = bench_dp();
            install(dp, cases[c][0], cases[c][1], true);
            printf("DIAG %d flows %d masks: %.2f Mpps nocache\n",
                   cases[c][0], cases[c][1], run(dp, false));
            bench_dp_destroy(dp);
        }
    }
    if (want(only, "dp_100k_20mask")) {
        double ins;

        dp = bench_dp();
        ins = install(dp, 100000, 20, true);
        printf("BENCH dp_100k_20mask_mpps %.2f Mpps\n", run(dp, true));
        if (!only || strcmp(only, "dp_100k_20mask_mpps")) {
            printf("BENCH dp_100k_20mask_nocache_mpps %.2f Mpps\n",
                   run(dp, false));
        }
        if (!only || strcmp(only, "dp_100k_20mask_mpps")) {
            printf("BENCH dp_insert_per_s %.0f flows/s\n", ins);
            printf("BENCH dp_dump_full_per_s %.0f flows/s\n",
                   dump_rate(dp, 0));
            printf("BENCH dp_dump_terse_per_s %.0f flows/s\n",
                   dump_rate(dp, OVS_UFID_F_OMIT_KEY | OVS_UFID_F_OMIT_MASK
                                 | OVS_UFID_F_OMIT_ACTIONS));
        }
        bench_dp_destroy(dp);
    }
    qsbr_unregister();
    return 0;
}
