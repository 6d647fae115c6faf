/* SPDX-License-Identifier: Apache-2.0 */

/* learning-switch: a MAC-learning Ethernet switch as a small dpif client.
 *
 * This is seed 001's "Typical Usage" in about 400 lines, using nothing
 * but libweir's public API (weir/dpif.h):
 *
 *   - read upcalls: the datapath sends every packet that matches no flow;
 *   - learn: the packet's source MAC lives behind the port it came in on;
 *   - decide: a known destination MAC goes out of its port, anything else
 *     (broadcast, multicast, not learned yet) is flooded to every other
 *     port;
 *   - install a flow, named by a UFID, matching in_port and both MACs (all
 *     other fields wildcarded), so the next packets of the conversation
 *     stay in the datapath;
 *   - execute the packet with the same actions;
 *   - every second, a terse flow dump (UFID and statistics only) finds
 *     flows idle for longer than --idle and deletes them by UFID.
 *
 * Flooded flows are installed too, so a conversation whose reply has not
 * been seen yet does not upcall every packet; they go when the MAC is
 * learned (all flows are flushed whenever a MAC is learned on a new port
 * or moves: simple, and rare in a steady network) or when idle.
 *
 * Usage: learning-switch [--provider=netlink|local] [--idle=SECONDS]
 *                        [--verbose] DATAPATH
 * The datapath and its ports must exist (weir dp add-dp / add-if); with
 * the netlink provider weird must be running ($WEIR_CONTROL or
 * /run/weir/weird.sock). */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/openvswitch.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <weir/dpif.h>

#define MAX_MACS 4096
#define MAX_PORTS 256
#define MAX_FLOWS 65536

struct mac_entry {
    uint8_t mac[6];
    uint32_t port;
    bool used;
};

struct flow_entry {
    struct dpif_ufid ufid;
    int64_t created_ms;
    bool used;
};

static struct mac_entry macs[MAX_MACS];
static struct flow_entry flows[MAX_FLOWS];
static uint32_t ports[MAX_PORTS];
static size_t n_ports;
static bool verbose;
static volatile sig_atomic_t stop;

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_signal(int sig)
{
    (void) sig;
    stop = 1;
}

static uint32_t
hash_bytes(const uint8_t *p, size_t n, uint32_t h)
{
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 16777619u;     /* FNV-1a */
    }
    return h;
}

/* Returns the entry for 'mac' (open addressing), or NULL if the table is
 * full. */
static struct mac_entry *
mac_slot(const uint8_t mac[6])
{
    uint32_t h = hash_bytes(mac, 6, 2166136261u);

    for (size_t i = 0; i < MAX_MACS; i++) {
        struct mac_entry *e = &macs[(h + i) % MAX_MACS];

        if (!e->used || !memcmp(e->mac, mac, 6)) {
            return e;
        }
    }
    return NULL;
}

static void
format_mac(const uint8_t *m, char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
             m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void
reload_ports(const struct dpif *dpif)
{
    struct dpif_port_dump *dump = dpif_port_dump_start(dpif);
    struct dpif_port port;

    n_ports = 0;
    while (dump && dpif_port_dump_next(dump, &port)) {
        if (port.port_no != DPIF_LOCAL_PORT && n_ports < MAX_PORTS) {
            ports[n_ports++] = port.port_no;
        }
    }
    if (dump) {
        dpif_port_dump_done(dump);
    }
    if (verbose) {
        printf("ports: %zu\n", n_ports);
    }
}

/* Appends an OVS_ACTION_ATTR_OUTPUT attribute; returns the new length. */
static size_t
put_output(uint8_t *acts, size_t len, uint32_t port)
{
    uint16_t hdr[2] = { 8, OVS_ACTION_ATTR_OUTPUT };

    memcpy(acts + len, hdr, 4);
    memcpy(acts + len + 4, &port, 4);
    return len + 8;
}

/* Builds the mask: exact in_port and Ethernet addresses, everything else
 * wildcarded (a mask attribute left out wildcards its fields). */
static size_t
build_mask(uint8_t *mask)
{
    uint16_t hdr[2];
    size_t len = 0;

    hdr[0] = 8;
    hdr[1] = OVS_KEY_ATTR_IN_PORT;
    memcpy(mask, hdr, 4);
    memset(mask + 4, 0xff, 4);
    len = 8;
    hdr[0] = 4 + 12;
    hdr[1] = OVS_KEY_ATTR_ETHERNET;
    memcpy(mask + len, hdr, 4);
    memset(mask + len + 4, 0xff, 12);
    return len + 16;
}

static void
remember_flow(const struct dpif_ufid *ufid)
{
    uint32_t h = hash_bytes(ufid->id, ufid->len, 2166136261u);

    for (size_t i = 0; i < MAX_FLOWS; i++) {
        struct flow_entry *f = &flows[(h + i) % MAX_FLOWS];

        if (!f->used || !memcmp(&f->ufid, ufid, sizeof *ufid)) {
            f->ufid = *ufid;
            f->created_ms = now_ms();
            f->used = true;
            return;
        }
    }
}

static struct flow_entry *
find_flow(const struct dpif_ufid *ufid)
{
    uint32_t h = hash_bytes(ufid->id, ufid->len, 2166136261u);

    for (size_t i = 0; i < MAX_FLOWS; i++) {
        struct flow_entry *f = &flows[(h + i) % MAX_FLOWS];

        if (!f->used) {
            return NULL;
        }
        if (!memcmp(&f->ufid, ufid, sizeof *ufid)) {
            return f;
        }
    }
    return NULL;
}

static void
handle_upcall(struct dpif *dpif, const struct dpif_upcall *up)
{
    const uint8_t *pkt = up->packet;
    uint8_t acts[8 * MAX_PORTS];
    uint8_t mask[32];
    struct dpif_ufid ufid;
    struct mac_entry *src, *dst;
    size_t acts_len = 0;
    char s[18], d[18];
    int error;

    if (up->packet_len < 14) {
        return;
    }
    format_mac(pkt + 6, s);
    format_mac(pkt, d);

    /* Learn. */
    src = (pkt[6] & 1) ? NULL : mac_slot(pkt + 6);
    if (src && (!src->used || src->port != up->in_port)) {
        bool moved = src->used;

        memcpy(src->mac, pkt + 6, 6);
        src->port = up->in_port;
        src->used = true;
        printf("learned %s on port %" PRIu32 "%s\n", s, up->in_port,
               moved ? " (moved)" : "");
        /* Flows flooded towards this MAC, or sent to its old port, are
         * stale now. */
        dpif_flow_flush(dpif);
        memset(flows, 0, sizeof flows);
    }

    /* Decide. */
    dst = (pkt[0] & 1) ? NULL : mac_slot(pkt);
    if (dst && dst->used) {
        if (dst->port == up->in_port) {
            acts_len = 0;           /* Same segment: drop. */
        } else {
            acts_len = put_output(acts, 0, dst->port);
        }
    } else {
        for (size_t i = 0; i < n_ports; i++) {
            if (ports[i] != up->in_port) {
                acts_len = put_output(acts, acts_len, ports[i]);
            }
        }
    }

    /* Install: one UFID per (in_port, src, dst). */
    memset(&ufid, 0, sizeof ufid);
    ufid.len = 16;
    uint32_t h1 = hash_bytes(pkt, 12, 2166136261u ^ up->in_port);
    uint32_t h2 = hash_bytes(pkt, 12, h1 ^ 0x9e3779b9u);
    memcpy(ufid.id, &h1, 4);
    memcpy(ufid.id + 4, &h2, 4);
    memcpy(ufid.id + 8, pkt, 6);
    memcpy(ufid.id + 14, &up->in_port, 2);
    error = dpif_flow_put(dpif, DPIF_FP_CREATE | DPIF_FP_MODIFY,
                          up->key, up->key_len, mask, build_mask(mask),
                          &ufid, acts, acts_len, NULL);
    if (error) {
        fprintf(stderr, "learning-switch: flow put %s->%s: %s (%s)\n",
                s, d, strerror(-error), dpif_last_error());
    } else {
        remember_flow(&ufid);
        if (verbose) {
            printf("flow in_port(%" PRIu32 "),eth(src=%s,dst=%s): %s\n",
                   up->in_port, s, d,
                   dst && dst->used ? "output" : "flood");
        }
    }

    /* Execute the packet itself. */
    struct dpif_execute exec = {
        .packet = up->packet,
        .packet_len = up->packet_len,
        .actions = acts,
        .actions_len = acts_len,
        .in_port = up->in_port,
    };
    error = dpif_execute(dpif, &exec);
    if (error) {
        fprintf(stderr, "learning-switch: execute: %s (%s)\n",
                strerror(-error), dpif_last_error());
    }
}

/* Deletes the flows idle for more than 'idle_ms'. */
static void
expire_flows(struct dpif *dpif, int64_t idle_ms)
{
    struct dpif_flow_dump *dump = dpif_flow_dump_create(dpif, true);
    struct dpif_flow_dump_thread *thr;
    struct dpif_ufid victims[256];
    struct dpif_flow batch[64];
    size_t n_victims = 0;
    int64_t now = now_ms();
    int n;

    if (!dump) {
        return;
    }
    thr = dpif_flow_dump_thread_create(dump);
    while (thr && (n = dpif_flow_dump_next(thr, batch, 64)) > 0) {
        for (int i = 0; i < n; i++) {
            const struct dpif_flow *f = &batch[i];
            struct flow_entry *fe;
            int64_t last;

            if (!f->ufid.len) {
                continue;       /* Not ours. */
            }
            fe = find_flow(&f->ufid);
            last = f->stats.used_ms ? f->stats.used_ms
                   : fe ? fe->created_ms : 0;
            if (now - last > idle_ms && n_victims < 256) {
                victims[n_victims++] = f->ufid;
            }
        }
    }
    dpif_flow_dump_thread_destroy(thr);
    dpif_flow_dump_destroy(dump);

    for (size_t i = 0; i < n_victims; i++) {
        struct flow_entry *fe = find_flow(&victims[i]);

        if (!dpif_flow_del(dpif, NULL, 0, &victims[i], NULL) && verbose) {
            printf("expired a flow idle for more than %" PRId64 " s\n",
                   idle_ms / 1000);
        }
        if (fe) {
            fe->created_ms = INT64_MAX / 2;     /* Tombstone. */
        }
    }
}

static void
usage(void)
{
    printf("usage: learning-switch [--provider=netlink|local] "
           "[--idle=SECONDS] [--verbose] DATAPATH\n");
}

int
main(int argc, char *argv[])
{
    static const struct option longopts[] = {
        { "provider", required_argument, NULL, 'p' },
        { "idle", required_argument, NULL, 'i' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *provider = "netlink";
    int64_t idle_ms = 10000;
    struct dpif *dpif;
    int64_t last_expire;
    int c, error;

    while ((c = getopt_long(argc, argv, "p:i:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            provider = optarg;
            break;
        case 'i':
            idle_ms = strtoll(optarg, NULL, 10) * 1000;
            if (idle_ms <= 0) {
                fprintf(stderr, "learning-switch: bad --idle\n");
                return 2;
            }
            break;
        case 'v':
            verbose = true;
            break;
        case 'h':
            usage();
            return 0;
        default:
            usage();
            return 2;
        }
    }
    if (optind != argc - 1) {
        usage();
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    error = dpif_open(provider, argv[optind], false, &dpif);
    if (error) {
        fprintf(stderr, "learning-switch: %s: %s (%s)\n", argv[optind],
                strerror(-error), dpif_last_error());
        return 1;
    }
    error = dpif_handlers_set(dpif, 1);
    if (error) {
        fprintf(stderr, "learning-switch: handlers: %s (%s)\n",
                strerror(-error), dpif_last_error());
        dpif_close(dpif);
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    reload_ports(dpif);
    printf("learning-switch: running on %s with %zu ports\n",
           argv[optind], n_ports);

    last_expire = now_ms();
    while (!stop) {
        struct dpif_upcall up;
        char *changed;

        while (dpif_port_poll(dpif, &changed) != -EAGAIN) {
            free(changed);          /* NULL after -ENOBUFS. */
            changed = NULL;
            reload_ports(dpif);
        }
        error = dpif_recv_wait(dpif, 0, 200);
        if (error && error != -ETIMEDOUT) {
            fprintf(stderr, "learning-switch: wait: %s\n", strerror(-error));
            break;
        }
        for (int i = 0; i < 64; i++) {
            error = dpif_recv(dpif, 0, &up);
            if (error == -EAGAIN) {
                break;
            } else if (error == -ENOBUFS) {
                fprintf(stderr, "learning-switch: upcalls were lost\n");
                continue;
            } else if (error) {
                fprintf(stderr, "learning-switch: recv: %s\n",
                        strerror(-error));
                break;
            }
            handle_upcall(dpif, &up);
        }
        if (now_ms() - last_expire >= 1000) {
            expire_flows(dpif, idle_ms);
            last_expire = now_ms();
        }
    }

    printf("learning-switch: stopping\n");
    dpif_handlers_set(dpif, 0);
    dpif_close(dpif);
    return 0;
}
