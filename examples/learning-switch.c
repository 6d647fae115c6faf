/* SPDX-License-Identifier: Apache-2.0 */

/* learning-switch: a MAC-learning Ethernet switch as a small dpif client.
 *
 * This is seed 001's "Typical Usage" in a few hundred lines, using nothing
 * but libweir's public API (weir/dpif.h):
 *
 *   - read upcalls: the datapath sends every packet that matches no flow;
 *   - learn: the packet's source MAC, on its VLAN, lives behind the port it
 *     came in on;
 *   - decide: a known destination (MAC and VLAN) goes out of its port,
 *     anything else (broadcast, multicast, not learned yet) is flooded to
 *     every other port, the local port included;
 *   - install a flow, named by a UFID, matching in_port, both MACs and the
 *     VLAN tag (everything else wildcarded), so the next packets of the
 *     conversation stay in the datapath;
 *   - execute the packet with the same actions;
 *   - every second, a terse flow dump (UFID and statistics only) finds the
 *     flows this switch installed that have been idle for longer than
 *     --idle, and deletes them by UFID.
 *
 * Flooded flows are installed too, so a conversation whose reply has not
 * been seen yet does not upcall every packet.  They become wrong when a
 * MAC is learned, moves, or the set of ports changes: then the switch
 * deletes every flow it installed (simple, and rare in a steady network).
 * Flows installed by anyone else are left alone.
 *
 * Usage: learning-switch [--provider=netlink|local] [--idle=SECONDS]
 *                        [--verbose] DATAPATH
 * The datapath and its ports must exist (weir dp add-dp / add-if); with
 * the netlink provider weird must be running ($WEIR_CONTROL or
 * /run/weir/weird.sock).  Exit status: 0 after SIGINT/SIGTERM, 1 if the
 * datapath or weird goes away, 2 for a usage error. */

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

#define MAX_MACS 4096           /* Learning table slots (power of 2). */
#define MAX_PORTS 256
#define MAX_FLOWS 65536         /* Installed-flow table slots (power of 2). */

struct mac_entry {
    uint8_t mac[6];
    uint16_t vlan;              /* VLAN id, 0 for untagged. */
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
static size_t n_flows;
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
hash_bytes(const void *p_, size_t n, uint32_t h)
{
    const uint8_t *p = p_;

    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 16777619u;     /* FNV-1a */
    }
    return h;
}

static void
format_mac(const uint8_t *m, char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
             m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* ---- The learning table: (MAC, VLAN) -> port. ---- */

/* Returns the entry for 'mac' on 'vlan' (a free slot if unknown), or NULL
 * if the table is full. */
static struct mac_entry *
mac_slot(const uint8_t mac[6], uint16_t vlan)
{
    uint32_t h = hash_bytes(mac, 6, 2166136261u ^ vlan);

    for (size_t i = 0; i < MAX_MACS; i++) {
        struct mac_entry *e = &macs[(h + i) & (MAX_MACS - 1)];

        if (!e->used || (!memcmp(e->mac, mac, 6) && e->vlan == vlan)) {
            return e;
        }
    }
    return NULL;
}

static bool
port_exists(uint32_t port)
{
    for (size_t i = 0; i < n_ports; i++) {
        if (ports[i] == port) {
            return true;
        }
    }
    return false;
}

/* Forgets MACs learned on ports that are gone (rebuilding the table, as
 * open addressing cannot just clear a slot). */
static void
forget_gone_ports(void)
{
    static struct mac_entry old[MAX_MACS];

    memcpy(old, macs, sizeof macs);
    memset(macs, 0, sizeof macs);
    for (size_t i = 0; i < MAX_MACS; i++) {
        if (old[i].used && port_exists(old[i].port)) {
            *mac_slot(old[i].mac, old[i].vlan) = old[i];
        }
    }
}

/* ---- Flows this switch installed, by UFID. ---- */

static struct flow_entry *
flow_slot(const struct dpif_ufid *ufid)
{
    uint32_t h = hash_bytes(ufid->id, ufid->len, 2166136261u);

    for (size_t i = 0; i < MAX_FLOWS; i++) {
        struct flow_entry *f = &flows[(h + i) & (MAX_FLOWS - 1)];

        if (!f->used || !memcmp(&f->ufid, ufid, sizeof *ufid)) {
            return f;
        }
    }
    return NULL;
}

static void
remember_flow(const struct dpif_ufid *ufid)
{
    struct flow_entry *f = flow_slot(ufid);

    if (f && !f->used) {
        f->ufid = *ufid;
        f->created_ms = now_ms();
        f->used = true;
        n_flows++;
    }
}

/* Deletes from the datapath every flow this switch installed. */
static void
delete_own_flows(struct dpif *dpif)
{
    for (size_t i = 0; i < MAX_FLOWS; i++) {
        if (flows[i].used) {
            dpif_flow_del(dpif, NULL, 0, &flows[i].ufid, NULL);
        }
    }
    memset(flows, 0, sizeof flows);
    n_flows = 0;
}

/* Reads the port list; the local port is flooded to like any other. */
static int
reload_ports(const struct dpif *dpif)
{
    struct dpif_port_dump *dump = dpif_port_dump_start(dpif);
    struct dpif_port port;

    n_ports = 0;
    while (dump && dpif_port_dump_next(dump, &port)) {
        if (n_ports < MAX_PORTS) {
            ports[n_ports++] = port.port_no;
        }
    }
    if (!dump) {
        return -ENOMEM;
    }
    return dpif_port_dump_done(dump);
}

/* ---- Packets. ---- */

/* Appends an OVS_ACTION_ATTR_OUTPUT attribute; returns the new length. */
static size_t
put_output(uint8_t *acts, size_t len, uint32_t port)
{
    uint16_t hdr[2] = { 8, OVS_ACTION_ATTR_OUTPUT };

    memcpy(acts + len, hdr, 4);
    memcpy(acts + len + 4, &port, 4);
    return len + 8;
}

/* Appends one mask attribute of 'len' bytes of all-ones. */
static size_t
put_exact(uint8_t *mask, size_t off, uint16_t type, size_t len)
{
    uint16_t hdr[2] = { (uint16_t) (4 + len), type };

    memcpy(mask + off, hdr, 4);
    memset(mask + off + 4, 0xff, len);
    return off + 4 + ((len + 3) & ~(size_t) 3);
}

/* The mask: exact in_port and Ethernet addresses (and, as the datapath
 * always matches it, the VLAN tag), everything else wildcarded (a mask
 * attribute left out wildcards its fields). */
static size_t
build_mask(uint8_t *mask)
{
    size_t len = put_exact(mask, 0, OVS_KEY_ATTR_IN_PORT, 4);

    return put_exact(mask, len, OVS_KEY_ATTR_ETHERNET, 12);
}

static void
handle_upcall(struct dpif *dpif, const struct dpif_upcall *up)
{
    const uint8_t *pkt = up->packet;
    uint8_t acts[8 * MAX_PORTS];
    uint8_t mask[64];
    struct dpif_ufid ufid;
    struct mac_entry *src, *dst;
    size_t acts_len = 0;
    uint16_t vlan = 0;
    char s[18], d[18];
    int error;

    if (up->packet_len < 14) {
        return;
    }
    if (up->packet_len >= 18 && pkt[12] == 0x81 && pkt[13] == 0x00) {
        vlan = (uint16_t) ((pkt[14] << 8 | pkt[15]) & 0xfff);
    }
    format_mac(pkt + 6, s);
    format_mac(pkt, d);

    /* Learn. */
    src = (pkt[6] & 1) ? NULL : mac_slot(pkt + 6, vlan);
    if (src && (!src->used || src->port != up->in_port)) {
        bool moved = src->used;

        memcpy(src->mac, pkt + 6, 6);
        src->vlan = vlan;
        src->port = up->in_port;
        src->used = true;
        printf("learned %s vlan %u on port %" PRIu32 "%s\n", s, vlan,
               up->in_port, moved ? " (moved)" : "");
        /* Flows flooded towards this MAC, or sent to its old port, are
         * stale now. */
        delete_own_flows(dpif);
    }

    /* Decide. */
    dst = (pkt[0] & 1) ? NULL : mac_slot(pkt, vlan);
    if (dst && dst->used) {
        if (dst->port != up->in_port) {
            acts_len = put_output(acts, 0, dst->port);
        }                           /* Else same segment: drop. */
    } else {
        for (size_t i = 0; i < n_ports; i++) {
            if (ports[i] != up->in_port) {
                acts_len = put_output(acts, acts_len, ports[i]);
            }
        }
    }

    /* Install: one UFID per (in_port, source, destination, VLAN). */
    memset(&ufid, 0, sizeof ufid);
    ufid.len = 16;
    uint32_t h1 = hash_bytes(pkt, 12, 2166136261u ^ up->in_port ^ vlan);
    uint32_t h2 = hash_bytes(pkt, 12, h1 ^ 0x9e3779b9u);
    memcpy(ufid.id, &h1, 4);
    memcpy(ufid.id + 4, &h2, 4);
    memcpy(ufid.id + 8, pkt, 6);
    memcpy(ufid.id + 14, &vlan, 2);
    if (n_flows < MAX_FLOWS / 2) {
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

/* Deletes the flows this switch installed that have been idle for more
 * than 'idle_ms'. */
static void
expire_flows(struct dpif *dpif, int64_t idle_ms)
{
    struct dpif_flow_dump *dump = dpif_flow_dump_create(dpif, true);
    struct dpif_flow_dump_thread *thr;
    static struct dpif_ufid victims[MAX_FLOWS];
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

            fe = f->ufid.len ? flow_slot(&f->ufid) : NULL;
            if (!fe || !fe->used) {
                continue;       /* Not ours. */
            }
            last = f->stats.used_ms > fe->created_ms ? f->stats.used_ms
                                                     : fe->created_ms;
            if (now - last > idle_ms && n_victims < MAX_FLOWS) {
                victims[n_victims++] = f->ufid;
            }
        }
    }
    dpif_flow_dump_thread_destroy(thr);
    dpif_flow_dump_destroy(dump);
    if (!n_victims) {
        return;
    }

    /* Delete them, then rebuild the table of those that remain. */
    for (size_t i = 0; i < n_victims; i++) {
        flow_slot(&victims[i])->used = false;
        dpif_flow_del(dpif, NULL, 0, &victims[i], NULL);
    }
    static struct flow_entry old[MAX_FLOWS];
    memcpy(old, flows, sizeof flows);
    memset(flows, 0, sizeof flows);
    n_flows = 0;
    for (size_t i = 0; i < MAX_FLOWS; i++) {
        if (old[i].used) {
            *flow_slot(&old[i].ufid) = old[i];
            n_flows++;
        }
    }
    if (verbose) {
        printf("expired %zu flows idle for more than %" PRId64 " s\n",
               n_victims, idle_ms / 1000);
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
    int c, error, status = 0;

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
    if (!error) {
        error = reload_ports(dpif);
    }
    if (error) {
        fprintf(stderr, "learning-switch: %s: %s (%s)\n", argv[optind],
                strerror(-error), dpif_last_error());
        dpif_close(dpif);
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("learning-switch: running on %s with %zu ports\n",
           argv[optind], n_ports);

    last_expire = now_ms();
    while (!stop && !status) {
        struct dpif_upcall up;
        char *changed = NULL;

        /* Port changes: re-read the ports, forget what was learned on
         * ports that went, and drop the flows (floods now miss or hit a
         * port that is gone). */
        error = dpif_port_poll(dpif, &changed);
        free(changed);
        if (!error || error == -ENOBUFS) {
            while (dpif_port_poll(dpif, &changed) == 0) {
                free(changed);
            }
            error = reload_ports(dpif);
            forget_gone_ports();
            delete_own_flows(dpif);
            if (verbose) {
                printf("ports changed: %zu ports\n", n_ports);
            }
        }
        if (error && error != -EAGAIN) {
            fprintf(stderr, "learning-switch: ports: %s\n",
                    strerror(-error));
            status = 1;
            break;
        }

        error = dpif_recv_wait(dpif, 0, 200);
        if (error && error != -ETIMEDOUT) {
            fprintf(stderr, "learning-switch: wait: %s\n", strerror(-error));
            status = 1;
            break;
        }
        for (int i = 0; i < 64 && !stop; i++) {
            error = dpif_recv(dpif, 0, &up);
            if (error == -EAGAIN) {
                break;
            } else if (error == -ENOBUFS) {
                fprintf(stderr, "learning-switch: upcalls were lost\n");
                continue;
            } else if (error) {
                fprintf(stderr, "learning-switch: recv: %s\n",
                        strerror(-error));
                status = 1;
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
    if (!status) {
        delete_own_flows(dpif);
        dpif_handlers_set(dpif, 0);
    }
    dpif_close(dpif);
    return status;
}
