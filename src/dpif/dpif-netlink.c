/* SPDX-License-Identifier: Apache-2.0 */
/* dpif provider "netlink": every dpif operation as the Open vSwitch kernel
 * module's generic-netlink messages (ovs_datapath, ovs_vport, ovs_flow,
 * ovs_packet), sent to weird over its control socket (nl-client.h).
 *
 * What
 * ====
 *
 * A dpif here is a client of a datapath that lives in weird.  It holds:
 *
 *   - the main socket, shared by every thread using the dpif, for
 *     requests and their replies (and port dumps, read whole under the
 *     socket's lock, nl-client.h);
 *   - a port-change socket, a member of the ovs_vport multicast group,
 *     for dpif_port_poll();
 *   - one socket per upcall handler (dpif_handlers_set()), whose port ids
 *     weird sends upcalls to: the handlers are this dpif's, not the
 *     datapath's;
 *   - a small pool of sockets for flow dumps, one per dump in progress.
 *
 * Every socket after the main one connects to the path the main one was
 * opened with (nlc_path()), not to dpif_control_path() of the moment: a
 * program may change the path to open a dpif of another weird.
 *
 * A monitor (dpif_monitor_create()) is no dpif's: it has a connection of
 * its own, a member of the ovs_datapath, ovs_vport and ovs_flow groups.
 *
 * The provider is four files around dpif-netlink-private.h: this one
 * (datapaths, ports, port changes, the class), dpif-netlink-flow.c (flow
 * operations and dumps), dpif-netlink-upcall.c (handlers and upcalls)
 * and dpif-netlink-monitor.c (monitors).
 *
 * Design
 * ======
 *
 * Requests are what Open vSwitch's dpif-netlink sends a kernel: flow puts
 * as OVS_FLOW_CMD_NEW (DPIF_FP_CREATE; with NLM_F_CREATE unless
 * DPIF_FP_MODIFY allows replacing) or OVS_FLOW_CMD_SET (DPIF_FP_MODIFY
 * only), NLM_F_ECHO only when the caller wants the flow's statistics
 * back, OVS_FLOW_ATTR_UFID_FLAGS with every OMIT flag for terse deletes
 * and dumps.  dpif_operate() builds its operations back to back into one
 * buffer and sends them as one datagram per NLC_DGRAM_MAX bytes; weird
 * answers only the failures and the last request of each datagram
 * (nl-client.h), so a batch of puts is one round trip.
 *
 * Where the kernel's errno differs from the one dpif.h promises (the
 * kernel answers -ENODEV for a missing port and -EBUSY for a port number
 * or device in use), this file translates, so both providers answer
 * alike.
 *
 * Flow dumps: one socket per dump, shared by the dump's threads under the
 * socket's mutex; each thread receives a whole dump part (one datagram)
 * into a buffer of its own and hands out flows that point into it, so a
 * flow stays valid until that thread's next call and a dump allocates
 * nothing per flow.  A dump socket that saw its NLMSG_DONE is clean and
 * goes back to the pool.
 *
 * Port changes: weird notifies the ovs_vport group of every NEW, DEL and
 * SET.  With the kernel, a notification caused by a request is queued
 * before the request's ACK; over the control socket the ACK and the
 * notification travel on two connections, so the notification may land a
 * moment after the request returns.  dpif_port_poll() therefore waits
 * briefly (DPN_OWN_CHANGE_WAIT_MS) when this dpif itself changed ports
 * and their notifications have not all arrived.
 *
 * Port options: a port added with a weir provider carries it and its
 * options in OVS_VPORT_ATTR_OPTIONS (weir/control.h), which weird reports
 * back; dpif_port_set_options() sends them in OVS_VPORT_CMD_SET, which
 * weird, as the kernel, refuses for the ports it has (-EOPNOTSUPP).
 *
 * Upcalls: per-CPU dispatch (OVS_DP_F_DISPATCH_UPCALL_PER_CPU with
 * OVS_DP_ATTR_PER_CPU_PIDS = the handlers' port ids), and every port's
 * UPCALL_PID array set to the same ids for readers of per-port dispatch.
 * A dpif_handlers_set() that fails after the datapath changed sets it
 * back (features, per-CPU PIDs, port PIDs as they were) and keeps the
 * old handlers.  dpif_recv_purge() reads what it drops into scratch
 * space, so the upcall a handler returned last stays valid.
 *
 * Monitors: weird's notifications decoded with the same decoders as the
 * replies; the datapath of a port or flow notification is named from a
 * table of ifindexes that the monitor keeps from a datapath dump and the
 * datapath notifications (dpif-netlink-monitor.c says more).
 *
 * Thread-safety
 * =============
 *
 * Each socket has its own mutex (nl-client.h).  'handlers_lock' (a
 * writer-preferring rwlock) guards the handler array: dpif_recv() and
 * friends read it, dpif_handlers_set() and dpif_recv_purge() write it;
 * it is taken before any socket's mutex.  'poll_mutex' guards the
 * port-change socket's buffer.  'pool_mutex' guards the dump socket pool.
 *
 * Ownership
 * =========
 *
 * The dpif owns its sockets.  Flows from dumps and gets point into the
 * dump thread's buffer or the caller's; upcalls into the handler's
 * buffer. */

#define _GNU_SOURCE             /* pthread_rwlockattr_setkind_np() */

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/openvswitch.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "codec/nl-attr.h"
#include "dpif/dpif-netlink-private.h"
#include "lib/errbuf.h"
#include "port/port.h"
#include "weir/control.h"

#define DPN_POLL_BUF 65536              /* Any doit-sized message. */
#define DPN_OWN_CHANGE_WAIT_MS 1000

/* ---- Messages. ---- */

struct nlmsghdr *
dpif_netlink_msg(uint32_t dp_ifindex, void *buf, size_t size,
                 uint16_t family, uint8_t cmd, uint8_t version,
                 uint16_t flags)
{
    struct ovs_header *oh;
    struct nlmsghdr *nlh;

    nlh = nlc_msg_start(buf, size, family, flags, cmd, version, sizeof *oh,
                        (void **) &oh);
    if (nlh) {
        oh->dp_ifindex = dp_ifindex;
    }
    return nlh;
}

int
dpif_netlink_parse_ovs(const struct nlmsghdr *nlh, uint16_t family,
                       uint8_t *cmd, uint32_t *dp_ifindex,
                       const struct nlattr **tb, uint16_t maxtype)
{
    struct ovs_header oh;
    const void *hdr;
    int r;

    r = nlc_parse_genl(nlh, family, sizeof oh, cmd, &hdr);
    if (r) {
        return r;
    }
    memcpy(&oh, hdr, sizeof oh);
    *dp_ifindex = oh.dp_ifindex;
    return nlc_parse_attrs(nlh, sizeof oh, tb, maxtype);
}

bool
dpif_netlink_get_u32(const struct nlattr *a, uint32_t *v, const char *what)
{
    if (!nlc_attr_len_ok(a, sizeof *v, what)) {
        return false;
    }
    memcpy(v, mnl_attr_get_payload(a), sizeof *v);
    return true;
}

bool
dpif_netlink_get_u64(const struct nlattr *a, uint64_t *v, const char *what)
{
    if (!nlc_attr_len_ok(a, sizeof *v, what)) {
        return false;
    }
    memcpy(v, mnl_attr_get_payload(a), sizeof *v);
    return true;
}

struct nlattr *
dpif_netlink_nest_start(struct nlmsghdr *nlh, size_t size, uint16_t type)
{
    struct nlattr *nest = mnl_attr_nest_start_check(nlh, size, type);

    if (nest) {
        nest->nla_type = type;
    }
    return nest;
}

int
dpif_netlink_resolve(struct nlc_sock *sock, struct dpn_families *fam)
{
    int r;

    r = nlc_family(sock, OVS_DATAPATH_FAMILY, &fam->dp, NULL, NULL);
    if (!r) {
        r = nlc_family(sock, OVS_VPORT_FAMILY, &fam->vport,
                       OVS_VPORT_MCGROUP, &fam->vport_group);
    }
    if (!r) {
        r = nlc_family(sock, OVS_FLOW_FAMILY, &fam->flow, NULL, NULL);
    }
    if (!r) {
        r = nlc_family(sock, OVS_PACKET_FAMILY, &fam->packet, NULL, NULL);
    }
    return r;
}

/* ---- Datapaths. ---- */

int
dpif_netlink_parse_dp(const struct nlmsghdr *nlh, void *rep_)
{
    struct dpn_dp_reply *rep = rep_;
    const struct nlattr *tb[OVS_DP_ATTR_MAX + 1];
    uint16_t family = rep->family;
    int r;

    memset(rep, 0, sizeof *rep);
    rep->family = family;
    r = dpif_netlink_parse_ovs(nlh, family, &rep->cmd, &rep->dp_ifindex, tb,
                               OVS_DP_ATTR_MAX);
    if (r) {
        return r;
    }
    if (!tb[OVS_DP_ATTR_NAME]
        || !nlc_attr_str_ok(tb[OVS_DP_ATTR_NAME], DPIF_NAME_MAX,
                            "datapath name")) {
        dpif_set_error("datapath reply without a valid name");
        return -EPROTO;
    }
    strcpy(rep->name, mnl_attr_get_str(tb[OVS_DP_ATTR_NAME]));
    if ((tb[OVS_DP_ATTR_USER_FEATURES]
         && !dpif_netlink_get_u32(tb[OVS_DP_ATTR_USER_FEATURES],
                                  &rep->features,
                                  "OVS_DP_ATTR_USER_FEATURES"))
        || (tb[OVS_DP_ATTR_MASKS_CACHE_SIZE]
            && !dpif_netlink_get_u32(tb[OVS_DP_ATTR_MASKS_CACHE_SIZE],
                                     &rep->masks_cache_size,
                                     "OVS_DP_ATTR_MASKS_CACHE_SIZE"))
        || !nlc_attr_len_ok(tb[OVS_DP_ATTR_STATS], sizeof rep->stats,
                            "OVS_DP_ATTR_STATS")
        || !nlc_attr_len_ok(tb[OVS_DP_ATTR_MEGAFLOW_STATS],
                            sizeof rep->mstats,
                            "OVS_DP_ATTR_MEGAFLOW_STATS")) {
        return -EPROTO;
    }
    if (tb[OVS_DP_ATTR_STATS]) {
        memcpy(&rep->stats, mnl_attr_get_payload(tb[OVS_DP_ATTR_STATS]),
               sizeof rep->stats);
    }
    if (tb[OVS_DP_ATTR_MEGAFLOW_STATS]) {
        memcpy(&rep->mstats,
               mnl_attr_get_payload(tb[OVS_DP_ATTR_MEGAFLOW_STATS]),
               sizeof rep->mstats);
    }
    return 0;
}

int
dpif_netlink_dp_transact(struct nlc_sock *sock,
                         const struct dpn_families *fam, uint32_t dp_ifindex,
                         uint8_t cmd, uint16_t flags, const char *name,
                         const uint32_t *features, const uint32_t *pids,
                         size_t n_pids, struct dpn_dp_reply *rep)
{
    size_t size = DPN_MSG_OVERHEAD + n_pids * sizeof *pids;
    struct nlc_txn txn = { .reply_cb = rep ? dpif_netlink_parse_dp : NULL,
                           .aux = rep };
    struct nlmsghdr *nlh;
    void *buf = malloc(size);
    bool ok;

    if (!buf) {
        return -ENOMEM;
    }
    if (rep) {
        rep->family = fam->dp;
    }
    nlh = dpif_netlink_msg(name ? 0 : dp_ifindex, buf, size, fam->dp, cmd,
                           OVS_DATAPATH_VERSION, flags);
    ok = nlh != NULL;
    if (ok && name) {
        ok = mnl_attr_put_strz_check(nlh, size, OVS_DP_ATTR_NAME, name);
    }
    if (ok && cmd == OVS_DP_CMD_NEW) {
        ok = mnl_attr_put_u32_check(nlh, size, OVS_DP_ATTR_UPCALL_PID, 0);
    }
    if (ok && features) {
        ok = mnl_attr_put_u32_check(nlh, size, OVS_DP_ATTR_USER_FEATURES,
                                    *features);
    }
    if (ok && n_pids) {
        ok = codec_attr_put(nlh, size, OVS_DP_ATTR_PER_CPU_PIDS,
                            n_pids * sizeof *pids, pids);
    }
    if (!ok) {
        free(buf);
        dpif_set_error("datapath request does not fit");
        return -EMSGSIZE;
    }
    txn.request = nlh;
    nlc_transact_batch(sock, &txn, 1);
    free(buf);
    if (!txn.error && rep && !txn.replied) {
        dpif_set_error("no reply to a datapath request");
        return -EPROTO;
    }
    return txn.error;
}

/* dpif_netlink_dp_transact() on the dpif's main socket and datapath. */
static int
dpn_dp_transact(const struct dpn *d, uint8_t cmd, uint16_t flags,
                const char *name, const uint32_t *features,
                struct dpn_dp_reply *rep)
{
    return dpif_netlink_dp_transact(d->sock, &d->fam, d->dp_ifindex, cmd,
                                    flags, name, features, NULL, 0, rep);
}

static void
dpn_free(struct dpn *d)
{
    nlc_close(d->sock);
    nlc_close(d->poll_sock);
    dpif_netlink_handlers_free(d->handlers, d->n_handlers);
    for (size_t i = 0; i < d->n_pool; i++) {
        nlc_close(d->pool[i]);
    }
    free(d->poll_buf);
    pthread_rwlock_destroy(&d->handlers_lock);
    wmutex_destroy(&d->poll_mutex);
    wmutex_destroy(&d->pool_mutex);
    free(d);
}

static int
dpn_open(const struct dpif_class *cls, const char *name, bool create,
         struct dpif **dpifp)
{
    uint32_t features = OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS;
    pthread_rwlockattr_t attr;
    struct dpn_dp_reply rep;
    struct dpn *d;
    int r;

    (void) cls;
    d = calloc(1, sizeof *d);
    if (!d) {
        return -ENOMEM;
    }
    wmutex_init(&d->poll_mutex);
    wmutex_init(&d->pool_mutex);
    atomic_init(&d->own_changes, 0);
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(
        &attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&d->handlers_lock, &attr);
    pthread_rwlockattr_destroy(&attr);

    r = nlc_open(&d->sock);
    if (!r) {
        /* Room for the answers of a whole batch (dpif_operate() puts up
         * to 64 KiB of requests in a datagram; gets and echoes answer with
         * whole flows): what does not fit is dropped, as by the kernel. */
        r = nlc_setsockopt(d->sock, WEIR_SOCK_RCVBUF, DPN_TXN_RCVBUF);
    }
    if (!r) {
        r = dpif_netlink_resolve(d->sock, &d->fam);
    }
    if (r) {
        goto error;
    }
    r = -ENODEV;
    if (create) {
        r = dpn_dp_transact(d, OVS_DP_CMD_NEW, NLM_F_ECHO, name, &features,
                            &rep);
    }
    if (!create || r == -EEXIST) {
        r = dpn_dp_transact(d, OVS_DP_CMD_GET, 0, name, NULL, &rep);
    }
    if (r) {
        goto error;
    }
    d->dp_ifindex = rep.dp_ifindex;

    d->poll_buf = malloc(DPN_POLL_BUF);
    if (!d->poll_buf) {
        r = -ENOMEM;
        goto error;
    }
    r = nlc_open_path(nlc_path(d->sock), &d->poll_sock);
    if (!r) {
        r = nlc_setsockopt(d->poll_sock, WEIR_SOCK_ADD_MEMBERSHIP,
                           d->fam.vport_group);
    }
    if (r) {
        goto error;
    }
    *dpifp = &d->up;
    return 0;

error:
    dpn_free(d);
    return r;
}

static void
dpn_close(struct dpif *dpif)
{
    dpn_free(dpn_cast(dpif));
}

static int
dpn_destroy(struct dpif *dpif)
{
    struct dpn *d = dpn_cast(dpif);

    return dpn_dp_transact(d, OVS_DP_CMD_DEL, 0, NULL, NULL, NULL);
}

struct dpn_names {
    uint16_t family;
    char (*names)[DPIF_NAME_MAX];
    size_t n, cap;
};

static int
dpn_collect_name(const struct nlmsghdr *nlh, void *names_)
{
    struct dpn_names *names = names_;
    struct dpn_dp_reply rep = { .family = names->family };
    int r = dpif_netlink_parse_dp(nlh, &rep);

    if (r) {
        return r;
    }
    if (names->n == names->cap) {
        size_t cap = names->cap ? names->cap * 2 : 8;
        void *p = realloc(names->names, cap * sizeof *names->names);

        if (!p) {
            return -ENOMEM;
        }
        names->names = p;
        names->cap = cap;
    }
    strcpy(names->names[names->n++], rep.name);
    return 0;
}

static int
dpn_enumerate(void (*cb)(const char *name, void *aux), void *aux)
{
    struct dpn_families fam;
    struct dpn_names names = { .names = NULL };
    struct nlc_sock *sock;
    uint64_t buf[DPN_MSG_OVERHEAD / 8];
    struct nlmsghdr *nlh;
    int r;

    r = nlc_open(&sock);
    if (r) {
        return r;
    }
    r = dpif_netlink_resolve(sock, &fam);
    if (!r) {
        names.family = fam.dp;
        nlh = dpif_netlink_msg(0, buf, sizeof buf, fam.dp, OVS_DP_CMD_GET,
                               OVS_DATAPATH_VERSION, 0);
        r = nlc_dump_all(sock, nlh, dpn_collect_name, &names);
    }
    nlc_close(sock);
    for (size_t i = 0; !r && i < names.n; i++) {
        cb(names.names[i], aux);
    }
    free(names.names);
    return r;
}

static int
dpn_get_stats(const struct dpif *dpif, struct dpif_dp_stats *stats)
{
    struct dpn *d = dpn_cast(dpif);
    struct dpn_dp_reply rep;
    int r;

    r = dpn_dp_transact(d, OVS_DP_CMD_GET, 0, NULL, NULL, &rep);
    if (r) {
        return r;
    }
    stats->n_hit = rep.stats.n_hit;
    stats->n_missed = rep.stats.n_missed;
    stats->n_lost = rep.stats.n_lost;
    stats->n_flows = rep.stats.n_flows;
    stats->n_mask_hit = rep.mstats.n_mask_hit;
    stats->n_masks = rep.mstats.n_masks;
    stats->n_cache_hit = rep.mstats.n_cache_hit;
    stats->masks_cache_size = rep.masks_cache_size;
    return 0;
}

static int
dpn_get_features(const struct dpif *dpif, uint32_t *features)
{
    struct dpn *d = dpn_cast(dpif);
    struct dpn_dp_reply rep;
    int r;

    r = dpn_dp_transact(d, OVS_DP_CMD_GET, 0, NULL, NULL, &rep);
    if (!r) {
        *features = rep.features;
    }
    return r;
}

static int
dpn_set_features(struct dpif *dpif, uint32_t features)
{
    struct dpn *d = dpn_cast(dpif);

    return dpn_dp_transact(d, OVS_DP_CMD_SET, 0, NULL, &features, NULL);
}

/* ---- Ports. ---- */

static const char *
dpn_vport_type_name(uint32_t type)
{
    switch (type) {
    case OVS_VPORT_TYPE_NETDEV:
        return "system";
    case OVS_VPORT_TYPE_INTERNAL:
        return "internal";
    case OVS_VPORT_TYPE_GRE:
        return "gre";
    case OVS_VPORT_TYPE_VXLAN:
        return "vxlan";
    case OVS_VPORT_TYPE_GENEVE:
        return "geneve";
    default:
        return "unknown";
    }
}

/* Copies provider options 'opts' into 'out' (DPIF_OPTIONS_MAX bytes).
 * Options too long for it (which only a client other than libweir can
 * have given weird) are cut after the last whole "k=v" item that fits,
 * as dpif.h says. */
static void
dpn_copy_options(const char *opts, char *out)
{
    size_t len = strlen(opts);

    if (len >= DPIF_OPTIONS_MAX) {
        len = DPIF_OPTIONS_MAX - 1;
        while (len && opts[len] != ',') {
            len--;
        }
    }
    memcpy(out, opts, len);
    out[len] = '\0';
}

/* Reads weir's extension out of OVS_VPORT_ATTR_OPTIONS 'opts': the
 * provider into 'port->type' (left alone if there is none) and its
 * options into 'port->options'.  Other attributes are skipped, as the
 * kernel's netdev and internal vports have none.
 * Returns 0 or -EPROTO (malformed, repeated, not a string). */
static int
dpn_parse_vport_options(const struct nlattr *opts, struct dpif_port *port)
{
    const uint8_t *p = mnl_attr_get_payload(opts);
    size_t len = mnl_attr_get_payload_len(opts);
    bool has_provider = false, has_args = false;
    size_t off = 0;

    /* Type numbers above 0x3fff are out of reach of a 'tb' array, so
     * this walks the options itself. */
    while (off < len) {
        const struct nlattr *a = (const struct nlattr *) (p + off);
        uint16_t type;

        if (len - off < NLA_HDRLEN || a->nla_len < NLA_HDRLEN
            || a->nla_len > len - off) {
            dpif_set_error("vport reply: malformed OVS_VPORT_ATTR_OPTIONS");
            return -EPROTO;
        }
        type = a->nla_type & NLA_TYPE_MASK;
        if (type == WEIR_VPORT_OPT_PROVIDER
            || type == WEIR_VPORT_OPT_ARGS) {
            bool *seen = (type == WEIR_VPORT_OPT_PROVIDER ? &has_provider
                          : &has_args);

            if (*seen) {
                dpif_set_error("vport reply: weir option %#x repeated",
                               type);
                return -EPROTO;
            }
            *seen = true;
        }
        if (type == WEIR_VPORT_OPT_PROVIDER) {
            if (!nlc_attr_str_ok(a, DPIF_NAME_MAX, "port provider")) {
                return -EPROTO;
            }
            strcpy(port->type, mnl_attr_get_str(a));
        } else if (type == WEIR_VPORT_OPT_ARGS) {
            if (!nlc_attr_str_ok(a, mnl_attr_get_payload_len(a),
                                 "port options")) {
                return -EPROTO;
            }
            dpn_copy_options(mnl_attr_get_str(a), port->options);
        }
        off += NLA_ALIGN(a->nla_len);
    }
    return 0;
}

int
dpif_netlink_parse_vport(const struct nlmsghdr *nlh, void *rep_)
{
    struct dpn_vport_reply *rep = rep_;
    const struct nlattr *tb[DPN_VPORT_ATTR_MAX + 1];
    uint16_t family = rep->family;
    uint32_t type = 0;
    int r;

    memset(rep, 0, sizeof *rep);
    rep->family = family;
    r = dpif_netlink_parse_ovs(nlh, family, &rep->cmd, &rep->dp_ifindex, tb,
                               DPN_VPORT_ATTR_MAX);
    if (r) {
        return r;
    }
    if (!tb[OVS_VPORT_ATTR_NAME] || !tb[OVS_VPORT_ATTR_PORT_NO]
        || !tb[OVS_VPORT_ATTR_TYPE]
        || !nlc_attr_str_ok(tb[OVS_VPORT_ATTR_NAME], DPIF_NAME_MAX,
                            "port name")
        || !dpif_netlink_get_u32(tb[OVS_VPORT_ATTR_PORT_NO],
                                 &rep->port.port_no,
                                 "OVS_VPORT_ATTR_PORT_NO")
        || !dpif_netlink_get_u32(tb[OVS_VPORT_ATTR_TYPE], &type,
                                 "OVS_VPORT_ATTR_TYPE")
        || (tb[OVS_VPORT_ATTR_IFINDEX]
            && !dpif_netlink_get_u32(tb[OVS_VPORT_ATTR_IFINDEX],
                                     &rep->port.ifindex,
                                     "OVS_VPORT_ATTR_IFINDEX"))
        || !nlc_attr_len_ok(tb[OVS_VPORT_ATTR_STATS], sizeof rep->stats,
                            "OVS_VPORT_ATTR_STATS")) {
        dpif_set_error("vport reply without valid name, number and type");
        return -EPROTO;
    }
    strcpy(rep->port.name, mnl_attr_get_str(tb[OVS_VPORT_ATTR_NAME]));
    strcpy(rep->port.type, dpn_vport_type_name(type));
    if (tb[OVS_VPORT_ATTR_OPTIONS]) {
        r = dpn_parse_vport_options(tb[OVS_VPORT_ATTR_OPTIONS],
                                    &rep->port);
        if (r) {
            return r;
        }
    }
    if (tb[OVS_VPORT_ATTR_STATS]) {
        memcpy(&rep->stats, mnl_attr_get_payload(tb[OVS_VPORT_ATTR_STATS]),
               sizeof rep->stats);
    }
    if (tb[DPN_VPORT_ATTR_UPCALL_STATS]) {
        const struct nlattr *utb[DPN_VPORT_UPCALL_ATTR_FAIL + 1];

        r = nlc_parse_nested(tb[DPN_VPORT_ATTR_UPCALL_STATS], utb,
                             DPN_VPORT_UPCALL_ATTR_FAIL);
        if (r) {
            return r;
        }
        if ((utb[DPN_VPORT_UPCALL_ATTR_SUCCESS]
             && !dpif_netlink_get_u64(utb[DPN_VPORT_UPCALL_ATTR_SUCCESS],
                                      &rep->upcall_success,
                                      "upcall successes"))
            || (utb[DPN_VPORT_UPCALL_ATTR_FAIL]
                && !dpif_netlink_get_u64(utb[DPN_VPORT_UPCALL_ATTR_FAIL],
                                         &rep->upcall_fail,
                                         "upcall failures"))) {
            return -EPROTO;
        }
    }
    return 0;
}

struct nlmsghdr *
dpif_netlink_vport_msg(const struct dpn *d, void *buf, size_t size,
                       uint8_t cmd, uint16_t flags, uint32_t port_no,
                       const char *name)
{
    struct nlmsghdr *nlh = dpif_netlink_msg(d->dp_ifindex, buf, size,
                                            d->fam.vport, cmd,
                                            OVS_VPORT_VERSION, flags);

    if (nlh && name
        && !mnl_attr_put_strz_check(nlh, size, OVS_VPORT_ATTR_NAME, name)) {
        return NULL;
    }
    if (nlh && !name
        && !mnl_attr_put_u32_check(nlh, size, OVS_VPORT_ATTR_PORT_NO,
                                   port_no)) {
        return NULL;
    }
    return nlh;
}

/* The dpif.h errno for a port request that failed with 'r'.  The kernel
 * answers -ENODEV both for a missing port and for a missing datapath;
 * dpif.h distinguishes them (-ENOENT, -ENODEV), so on -ENODEV this asks
 * whether the datapath is still there. */
static int
dpn_port_errno(const struct dpn *d, int r)
{
    struct dpn_dp_reply rep;
    char why[ERRBUF_SIZE];

    if (r != -ENODEV) {
        return r;
    }
    snprintf(why, sizeof why, "%s", dpif_last_error());
    if (dpn_dp_transact(d, OVS_DP_CMD_GET, 0, NULL, NULL, &rep)
        == -ENODEV) {
        dpif_set_error("datapath %s no longer exists", d->up.name);
        return -ENODEV;
    }
    dpif_set_error("%s", why);
    return -ENOENT;
}

static int
dpn_port_add(struct dpif *dpif, const char *name, const char *type,
             const char *options, uint32_t *port_no)
{
    struct dpn *d = dpn_cast(dpif);
    size_t size = DPN_MSG_OVERHEAD + 2 * DPIF_NAME_MAX
                  + (options ? strlen(options) + 8 : 0)
                  + (DPN_HANDLERS_MAX + 1) * sizeof(uint32_t);
    struct dpn_vport_reply rep = { .family = d->fam.vport };
    bool provider = port_provider_exists(type);
    uint32_t ovs_type;
    uint32_t *pids;
    size_t n_pids;
    struct nlmsghdr *nlh;
    uint8_t *buf;
    bool ok;
    int r;

    if (!strcmp(type, "system") || provider) {
        ovs_type = OVS_VPORT_TYPE_NETDEV;
    } else if (!strcmp(type, "internal")) {
        ovs_type = OVS_VPORT_TYPE_INTERNAL;
    } else if (!strcmp(type, "gre")) {
        ovs_type = OVS_VPORT_TYPE_GRE;
    } else if (!strcmp(type, "vxlan")) {
        ovs_type = OVS_VPORT_TYPE_VXLAN;
    } else if (!strcmp(type, "geneve")) {
        ovs_type = OVS_VPORT_TYPE_GENEVE;
    } else {
        dpif_set_error("port type \"%s\" is not one weir has (system, "
                       "internal, afxdp, afpacket, tap, dummy, pcap)", type);
        return -EAFNOSUPPORT;
    }

    buf = malloc(size);
    pids = malloc((DPN_HANDLERS_MAX + 1) * sizeof *pids);
    if (!buf || !pids) {
        free(buf);
        free(pids);
        return -ENOMEM;
    }
    pthread_rwlock_rdlock(&d->handlers_lock);
    n_pids = dpif_netlink_handler_pids(d, pids);
    nlh = dpif_netlink_vport_msg(d, buf, size, OVS_VPORT_CMD_NEW, NLM_F_ECHO,
                                 0, name);
    ok = nlh
         && mnl_attr_put_u32_check(nlh, size, OVS_VPORT_ATTR_TYPE, ovs_type)
         && codec_attr_put(nlh, size, OVS_VPORT_ATTR_UPCALL_PID,
                           n_pids * sizeof *pids, pids);
    if (ok && *port_no != DPIF_PORT_ANY) {
        ok = mnl_attr_put_u32_check(nlh, size, OVS_VPORT_ATTR_PORT_NO,
                                    *port_no);
    }
    if (ok && (provider || options)) {
        struct nlattr *nest;

        nest = dpif_netlink_nest_start(nlh, size, OVS_VPORT_ATTR_OPTIONS);

        ok = nest != NULL;
        if (ok && provider) {
            ok = mnl_attr_put_strz_check(nlh, size, WEIR_VPORT_OPT_PROVIDER,
                                         type);
        }
        if (ok && options) {
            ok = mnl_attr_put_strz_check(nlh, size, WEIR_VPORT_OPT_ARGS,
                                         options);
        }
        if (ok) {
            mnl_attr_nest_end(nlh, nest);
        }
    }
    if (!ok) {
        r = -EINVAL;
        dpif_set_error("port request does not fit a netlink message");
    } else {
        r = nlc_transact(d->sock, nlh, dpif_netlink_parse_vport, &rep);
    }
    pthread_rwlock_unlock(&d->handlers_lock);
    free(buf);
    free(pids);
    if (r == -EBUSY) {
        /* weird, as the kernel, answers -EBUSY both for a number in use
         * and for a device that is a port already (of this datapath or
         * another); its reason says which. */
        char why[ERRBUF_SIZE];

        snprintf(why, sizeof why, "%s", dpif_last_error());
        if (*port_no == DPIF_PORT_ANY) {
            dpif_set_error("device %s is in use: %s", name, why);
        } else {
            dpif_set_error("port number %u or device %s is in use: %s",
                           *port_no, name, why);
        }
        r = -EEXIST;
    }
    if (!r) {
        *port_no = rep.port.port_no;
        atomic_fetch_add(&d->own_changes, 1);
    }
    return r;
}

static int
dpn_port_del(struct dpif *dpif, uint32_t port_no)
{
    struct dpn *d = dpn_cast(dpif);
    uint64_t buf[DPN_MSG_OVERHEAD / 8];
    struct nlmsghdr *nlh;
    int r;

    if (port_no == DPIF_LOCAL_PORT) {
        dpif_set_error("the local port goes only with its datapath");
        return -EINVAL;
    }
    nlh = dpif_netlink_vport_msg(d, buf, sizeof buf, OVS_VPORT_CMD_DEL, 0,
                                 port_no, NULL);
    r = dpn_port_errno(d, nlc_transact(d->sock, nlh, NULL, NULL));
    if (!r) {
        atomic_fetch_add(&d->own_changes, 1);
    }
    return r;
}

/* Gets port 'port_no' (or 'name') of the dpif's datapath into 'rep'. */
static int
dpn_port_get(const struct dpn *d, uint32_t port_no, const char *name,
             struct dpn_vport_reply *rep)
{
    uint64_t buf[(DPN_MSG_OVERHEAD + DPIF_NAME_MAX) / 8];
    struct nlmsghdr *nlh;
    struct nlc_txn txn = { .reply_cb = dpif_netlink_parse_vport,
                           .aux = rep };

    rep->family = d->fam.vport;
    nlh = dpif_netlink_vport_msg(d, buf, sizeof buf, OVS_VPORT_CMD_GET, 0,
                                 port_no, name);
    if (!nlh) {
        return -EINVAL;
    }
    txn.request = nlh;
    nlc_transact_batch(d->sock, &txn, 1);
    if (txn.error) {
        return dpn_port_errno(d, txn.error);
    }
    if (!txn.replied) {
        dpif_set_error("no reply to a port query");
        return -EPROTO;
    }
    if (rep->dp_ifindex != d->dp_ifindex) {
        dpif_set_error("port %s is in another datapath", rep->port.name);
        return -ENOENT;
    }
    return 0;
}

static int
dpn_port_query(const struct dpif *dpif, uint32_t port_no, const char *name,
               struct dpif_port *port)
{
    struct dpn_vport_reply rep;
    int r = dpn_port_get(dpn_cast(dpif), port_no, name, &rep);

    if (!r) {
        *port = rep.port;
    }
    return r;
}

static int
dpn_port_get_stats(const struct dpif *dpif, uint32_t port_no,
                   struct dpif_port_stats *stats)
{
    struct dpn_vport_reply rep;
    int r = dpn_port_get(dpn_cast(dpif), port_no, NULL, &rep);

    if (!r) {
        stats->rx_packets = rep.stats.rx_packets;
        stats->tx_packets = rep.stats.tx_packets;
        stats->rx_bytes = rep.stats.rx_bytes;
        stats->tx_bytes = rep.stats.tx_bytes;
        stats->rx_errors = rep.stats.rx_errors;
        stats->tx_errors = rep.stats.tx_errors;
        stats->rx_dropped = rep.stats.rx_dropped;
        stats->tx_dropped = rep.stats.tx_dropped;
        stats->upcall_success = rep.upcall_success;
        stats->upcall_fail = rep.upcall_fail;
    }
    return r;
}

static int
dpn_port_set_options(struct dpif *dpif, uint32_t port_no,
                     const char *options)
{
    struct dpn *d = dpn_cast(dpif);
    size_t size = DPN_MSG_OVERHEAD + DPIF_NAME_MAX + DPIF_OPTIONS_MAX + 16;
    struct dpn_vport_reply rep;
    struct nlmsghdr *nlh;
    struct nlattr *nest;
    uint8_t *buf;
    bool provider;
    int r;

    /* The provider goes with the options, as in a NEW (weird wants both
     * or neither), so the port's type is read first. */
    r = dpn_port_get(d, port_no, NULL, &rep);
    if (r) {
        return r;
    }
    provider = port_provider_exists(rep.port.type);
    buf = malloc(size);
    if (!buf) {
        return -ENOMEM;
    }
    nlh = dpif_netlink_vport_msg(d, buf, size, OVS_VPORT_CMD_SET, 0, port_no,
                                 NULL);
    nest = nlh ? dpif_netlink_nest_start(nlh, size, OVS_VPORT_ATTR_OPTIONS)
               : NULL;
    if (!nest
        || (provider
            && !mnl_attr_put_strz_check(nlh, size, WEIR_VPORT_OPT_PROVIDER,
                                        rep.port.type))
        || !mnl_attr_put_strz_check(nlh, size, WEIR_VPORT_OPT_ARGS,
                                    options)) {
        free(buf);
        dpif_set_error("port request does not fit a netlink message");
        return -EINVAL;
    }
    mnl_attr_nest_end(nlh, nest);
    r = dpn_port_errno(d, nlc_transact(d->sock, nlh, NULL, NULL));
    free(buf);
    if (!r) {
        atomic_fetch_add(&d->own_changes, 1);
    }
    return r;
}

static int
dpn_collect_port(const struct nlmsghdr *nlh, void *list_)
{
    struct dpn_port_list *list = list_;
    struct dpn_vport_reply rep = { .family = list->d->fam.vport };
    int r = dpif_netlink_parse_vport(nlh, &rep);

    if (r) {
        return r;
    }
    if (rep.dp_ifindex != list->d->dp_ifindex) {
        return 0;
    }
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        void *p = realloc(list->ports, cap * sizeof *list->ports);

        if (!p) {
            return -ENOMEM;
        }
        list->ports = p;
        list->cap = cap;
    }
    list->ports[list->n++] = rep.port;
    return 0;
}

static int
dpn_port_cmp(const void *a_, const void *b_)
{
    const struct dpif_port *a = a_, *b = b_;

    return a->port_no < b->port_no ? -1 : a->port_no > b->port_no;
}

int
dpif_netlink_port_list(const struct dpn *d, struct dpn_port_list *list)
{
    uint64_t buf[DPN_MSG_OVERHEAD / 8];
    struct nlmsghdr *nlh;
    int r;

    memset(list, 0, sizeof *list);
    list->d = d;
    nlh = dpif_netlink_msg(d->dp_ifindex, buf, sizeof buf, d->fam.vport,
                           OVS_VPORT_CMD_GET, OVS_VPORT_VERSION, 0);
    r = nlc_dump_all(d->sock, nlh, dpn_collect_port, list);
    if (r) {
        free(list->ports);
        list->ports = NULL;
        return r;
    }
    if (list->n) {
        qsort(list->ports, list->n, sizeof *list->ports, dpn_port_cmp);
    }
    return 0;
}

static int
dpn_port_dump_start(const struct dpif *dpif, void **statep)
{
    struct dpn_port_list *list = malloc(sizeof *list);
    int r;

    if (!list) {
        return -ENOMEM;
    }
    r = dpif_netlink_port_list(dpn_cast(dpif), list);
    if (r) {
        free(list);
        return r;
    }
    *statep = list;
    return 0;
}

static int
dpn_port_dump_next(const struct dpif *dpif, void *state,
                   struct dpif_port *port)
{
    struct dpn_port_list *list = state;

    (void) dpif;
    if (list->next >= list->n) {
        return 0;
    }
    *port = list->ports[list->next++];
    return 1;
}

static void
dpn_port_dump_done(const struct dpif *dpif, void *state)
{
    struct dpn_port_list *list = state;

    (void) dpif;
    free(list->ports);
    free(list);
}

/* Takes the next change notification for this datapath out of the poll
 * buffer.  Returns 1 with '*name', 0 if the buffer is used up, -ENOMEM.
 * Context: 'poll_mutex' held. */
static int
dpn_poll_next_locked(struct dpn *d, char **name)
    WEIR_REQUIRES(&d->poll_mutex)
{
    const struct nlmsghdr *nlh;

    while (nlc_next_msg(d->poll_buf, d->poll_len, &d->poll_off, &nlh) > 0) {
        struct dpn_vport_reply rep = { .family = d->fam.vport };

        if (nlh->nlmsg_type != d->fam.vport
            || dpif_netlink_parse_vport(nlh, &rep)
            || rep.dp_ifindex != d->dp_ifindex
            || (rep.cmd != OVS_VPORT_CMD_NEW && rep.cmd != OVS_VPORT_CMD_DEL
                && rep.cmd != OVS_VPORT_CMD_SET)) {
            continue;
        }
        *name = strdup(rep.port.name);
        if (!*name) {
            return -ENOMEM;
        }
        {
            unsigned int n = atomic_load(&d->own_changes);

            while (n && !atomic_compare_exchange_weak(&d->own_changes, &n,
                                                      n - 1)) {
                continue;
            }
        }
        return 1;
    }
    d->poll_len = d->poll_off = 0;
    return 0;
}

static int
dpn_port_poll(const struct dpif *dpif, char **name)
{
    struct dpn *d = dpn_cast(dpif);
    bool waited = false;
    int r;

    wmutex_lock(&d->poll_mutex);
    for (;;) {
        r = dpn_poll_next_locked(d, name);
        if (r) {
            break;
        }
        r = nlc_recv_nb(d->poll_sock, d->poll_buf, DPN_POLL_BUF);
        if (r > 0) {
            d->poll_len = (size_t) r;
            d->poll_off = 0;
            continue;
        }
        if (r == -ENOBUFS) {
            atomic_store(&d->own_changes, 0);
            dpif_set_error("port change notifications were lost");
            break;
        }
        if (r == -EPROTO) {
            continue;           /* Dropped; read on. */
        }
        if (r == -EAGAIN && !waited && atomic_load(&d->own_changes)) {
            /* Our own change's notification is on its way. */
            struct pollfd pfd = { .fd = nlc_fd(d->poll_sock),
                                  .events = POLLIN };

            waited = true;
            if (poll(&pfd, 1, DPN_OWN_CHANGE_WAIT_MS) > 0) {
                continue;
            }
            atomic_store(&d->own_changes, 0);
        }
        break;
    }
    wmutex_unlock(&d->poll_mutex);
    return r > 0 ? 0 : r;
}

static int
dpn_port_poll_fd(const struct dpif *dpif)
{
    return nlc_fd(dpn_cast(dpif)->poll_sock);
}

const struct dpif_class dpif_netlink_class = {
    .type = "netlink",
    .open = dpn_open,
    .close = dpn_close,
    .destroy = dpn_destroy,
    .enumerate = dpn_enumerate,
    .get_stats = dpn_get_stats,
    .get_features = dpn_get_features,
    .set_features = dpn_set_features,
    .port_add = dpn_port_add,
    .port_del = dpn_port_del,
    .port_query = dpn_port_query,
    .port_get_stats = dpn_port_get_stats,
    .port_dump_start = dpn_port_dump_start,
    .port_dump_next = dpn_port_dump_next,
    .port_dump_done = dpn_port_dump_done,
    .port_poll = dpn_port_poll,
    .port_poll_fd = dpn_port_poll_fd,
    .port_set_options = dpn_port_set_options,
    .operate = dpif_netlink_operate,
    .flow_flush = dpif_netlink_flow_flush,
    .flow_dump_create = dpif_netlink_flow_dump_create,
    .flow_dump_destroy = dpif_netlink_flow_dump_destroy,
    .flow_dump_thread_create = dpif_netlink_flow_dump_thread_create,
    .flow_dump_thread_destroy = dpif_netlink_flow_dump_thread_destroy,
    .flow_dump_next = dpif_netlink_flow_dump_next,
    .handlers_set = dpif_netlink_handlers_set,
    .handler_pid = dpif_netlink_handler_pid,
    .recv = dpif_netlink_recv,
    .recv_wait = dpif_netlink_recv_wait,
    .recv_fd = dpif_netlink_recv_fd,
    .recv_purge = dpif_netlink_recv_purge,
    .monitor_create = dpif_netlink_monitor_create,
    .monitor_next = dpif_netlink_monitor_next,
    .monitor_fd = dpif_netlink_monitor_fd,
    .monitor_destroy = dpif_netlink_monitor_destroy,
};
