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
 *     requests and their replies (and port dumps, read whole);
 *   - a port-change socket, a member of the ovs_vport multicast group,
 *     for dpif_port_poll();
 *   - one socket per upcall handler (dpif_handlers_set()), whose port ids
 *     weird sends upcalls to;
 *   - a small pool of sockets for flow dumps, one per dump in progress.
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
 * in use), this file translates, so both providers answer alike.
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
 * Upcalls: per-CPU dispatch (OVS_DP_F_DISPATCH_UPCALL_PER_CPU with
 * OVS_DP_ATTR_PER_CPU_PIDS = the handlers' port ids), and every port's
 * UPCALL_PID array set to the same ids for readers of per-port dispatch.
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
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>

#include "codec/nl-attr.h"
#include "dpif/dpif-provider.h"
#include "dpif/nl-client.h"
#include "lib/errbuf.h"
#include "lib/mutex.h"
#include "weir/control.h"

/* Added by Linux 6.2, after the headers weir builds with. */
#define DPN_VPORT_ATTR_UPCALL_STATS (OVS_VPORT_ATTR_NETNSID + 1)
#define DPN_VPORT_ATTR_MAX DPN_VPORT_ATTR_UPCALL_STATS
#define DPN_VPORT_UPCALL_ATTR_SUCCESS 0
#define DPN_VPORT_UPCALL_ATTR_FAIL 1

#define DPN_UFID_TERSE (OVS_UFID_F_OMIT_KEY | OVS_UFID_F_OMIT_MASK \
                        | OVS_UFID_F_OMIT_ACTIONS)

#define DPN_POOL_MAX 2                  /* Idle dump sockets kept. */
#define DPN_DUMP_RCVBUF (4u << 20)      /* WEIR_SOCK_RCVBUF of dumps. */
#define DPN_POLL_BUF 65536              /* Any doit-sized message. */
#define DPN_OWN_CHANGE_WAIT_MS 1000
#define DPN_HANDLERS_MAX 1024
#define DPN_SMALL_MSG 2048              /* A lone small request is built on
                                         * the stack. */
#define DPN_MSG_OVERHEAD 128            /* Headers and fixed attributes of
                                         * any request, with room. */

/* The weir port providers a dpif port type may name. */
static const char *const dpn_providers[] = {
    "afxdp", "afpacket", "tap", "dummy", "pcap",
};

struct dpn_families {
    uint16_t dp, vport, flow, packet;
    uint32_t vport_group;
};

struct dpn_handler {
    struct nlc_sock *sock;
    uint8_t *buf;               /* NLC_RECV_SIZE: the last datagram. */
    size_t len, off;            /* Its messages not yet returned. */
};

struct dpn {
    struct dpif up;
    struct nlc_sock *sock;      /* Main socket. */
    struct dpn_families fam;
    uint32_t dp_ifindex;

    struct wmutex poll_mutex;
    struct nlc_sock *poll_sock;
    uint8_t *poll_buf;          /* DPN_POLL_BUF; under 'poll_mutex'. */
    size_t poll_len, poll_off;  /* Under 'poll_mutex'. */
    atomic_uint own_changes;    /* Port changes made here, not yet seen. */

    pthread_rwlock_t handlers_lock;
    struct dpn_handler *handlers;   /* Under 'handlers_lock'. */
    uint32_t n_handlers;            /* Under 'handlers_lock'. */

    struct wmutex pool_mutex;
    struct nlc_sock *pool[DPN_POOL_MAX];    /* Under 'pool_mutex'. */
    size_t n_pool;                          /* Under 'pool_mutex'. */
};

static struct dpn *
dpn_cast(const struct dpif *dpif)
{
    return (struct dpn *) dpif;
}

/* ---- Messages. ---- */

/* Starts a request of an OVS family in 'buf' with the datapath's ifindex
 * (or 0 without 'd').  Returns NULL if 'size' is too small. */
static struct nlmsghdr *
dpn_msg(const struct dpn *d, void *buf, size_t size, uint16_t family,
        uint8_t cmd, uint8_t version, uint16_t flags)
{
    struct ovs_header *oh;
    struct nlmsghdr *nlh;

    nlh = nlc_msg_start(buf, size, family, flags, cmd, version, sizeof *oh,
                        (void **) &oh);
    if (nlh) {
        oh->dp_ifindex = d ? d->dp_ifindex : 0;
    }
    return nlh;
}

/* Parses the headers and attributes of a reply of an OVS family. */
static int
dpn_parse_ovs(const struct nlmsghdr *nlh, uint16_t family, uint8_t *cmd,
              uint32_t *dp_ifindex, const struct nlattr **tb,
              uint16_t maxtype)
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

static bool
dpn_get_u32(const struct nlattr *a, uint32_t *v, const char *what)
{
    if (!nlc_attr_len_ok(a, sizeof *v, what)) {
        return false;
    }
    memcpy(v, mnl_attr_get_payload(a), sizeof *v);
    return true;
}

static bool
dpn_get_u64(const struct nlattr *a, uint64_t *v, const char *what)
{
    if (!nlc_attr_len_ok(a, sizeof *v, what)) {
        return false;
    }
    memcpy(v, mnl_attr_get_payload(a), sizeof *v);
    return true;
}

/* Starts a nest without NLA_F_NESTED, as Open vSwitch and the kernel's
 * OVS families write them. */
static struct nlattr *
dpn_nest_start(struct nlmsghdr *nlh, size_t size, uint16_t type)
{
    struct nlattr *nest = mnl_attr_nest_start_check(nlh, size, type);

    if (nest) {
        nest->nla_type = type;
    }
    return nest;
}

static int
dpn_resolve(struct nlc_sock *sock, struct dpn_families *fam)
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

struct dpn_dp_reply {
    uint16_t family;            /* In. */
    uint32_t dp_ifindex;
    char name[DPIF_NAME_MAX];
    uint32_t features;
    struct ovs_dp_stats stats;
    struct ovs_dp_megaflow_stats mstats;
    uint32_t masks_cache_size;
};

static int
dpn_parse_dp(const struct nlmsghdr *nlh, void *rep_)
{
    struct dpn_dp_reply *rep = rep_;
    const struct nlattr *tb[OVS_DP_ATTR_MAX + 1];
    uint16_t family = rep->family;
    uint8_t cmd;
    int r;

    memset(rep, 0, sizeof *rep);
    rep->family = family;
    r = dpn_parse_ovs(nlh, family, &cmd, &rep->dp_ifindex, tb,
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
         && !dpn_get_u32(tb[OVS_DP_ATTR_USER_FEATURES], &rep->features,
                         "OVS_DP_ATTR_USER_FEATURES"))
        || (tb[OVS_DP_ATTR_MASKS_CACHE_SIZE]
            && !dpn_get_u32(tb[OVS_DP_ATTR_MASKS_CACHE_SIZE],
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

/* Sends datapath request 'cmd' ('flags', by 'name' if not NULL, else by
 * the dpif's ifindex), with user features 'features' if not NULL and
 * per-CPU PIDs if 'n_pids', and parses the reply into 'rep' if not NULL.
 * Returns 0 or -errno; -EPROTO if a reply was wanted and none came. */
static int
dpn_dp_transact(const struct dpn *d, struct nlc_sock *sock,
                const struct dpn_families *fam, uint8_t cmd,
                uint16_t flags, const char *name, const uint32_t *features,
                const uint32_t *pids, size_t n_pids,
                struct dpn_dp_reply *rep)
{
    size_t size = DPN_MSG_OVERHEAD + n_pids * sizeof *pids;
    struct nlc_txn txn = { .reply_cb = rep ? dpn_parse_dp : NULL,
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
    nlh = dpn_msg(name ? NULL : d, buf, size, fam->dp, cmd,
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

static void
dpn_free(struct dpn *d)
{
    nlc_close(d->sock);
    nlc_close(d->poll_sock);
    for (uint32_t i = 0; i < d->n_handlers; i++) {
        nlc_close(d->handlers[i].sock);
        free(d->handlers[i].buf);
    }
    free(d->handlers);
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
        r = dpn_resolve(d->sock, &d->fam);
    }
    if (r) {
        goto error;
    }
    r = -ENODEV;
    if (create) {
        r = dpn_dp_transact(d, d->sock, &d->fam, OVS_DP_CMD_NEW,
                            NLM_F_ECHO, name, &features, NULL, 0, &rep);
    }
    if (!create || r == -EEXIST) {
        r = dpn_dp_transact(d, d->sock, &d->fam, OVS_DP_CMD_GET, 0, name,
                            NULL, NULL, 0, &rep);
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
    r = nlc_open(&d->poll_sock);
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

    return dpn_dp_transact(d, d->sock, &d->fam, OVS_DP_CMD_DEL, 0, NULL,
                           NULL, NULL, 0, NULL);
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
    int r = dpn_parse_dp(nlh, &rep);

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
    r = dpn_resolve(sock, &fam);
    if (!r) {
        names.family = fam.dp;
        nlh = dpn_msg(NULL, buf, sizeof buf, fam.dp, OVS_DP_CMD_GET,
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

    r = dpn_dp_transact(d, d->sock, &d->fam, OVS_DP_CMD_GET, 0, NULL, NULL,
                        NULL, 0, &rep);
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

    r = dpn_dp_transact(d, d->sock, &d->fam, OVS_DP_CMD_GET, 0, NULL, NULL,
                        NULL, 0, &rep);
    if (!r) {
        *features = rep.features;
    }
    return r;
}

static int
dpn_set_features(struct dpif *dpif, uint32_t features)
{
    struct dpn *d = dpn_cast(dpif);

    return dpn_dp_transact(d, d->sock, &d->fam, OVS_DP_CMD_SET, 0, NULL,
                           &features, NULL, 0, NULL);
}

/* ---- Ports. ---- */

struct dpn_vport_reply {
    uint16_t family;            /* In. */
    uint32_t dp_ifindex;
    uint8_t cmd;
    struct dpif_port port;
    struct ovs_vport_stats stats;
    uint64_t upcall_success, upcall_fail;
};

static bool
dpn_is_provider(const char *type)
{
    for (size_t i = 0; i < sizeof dpn_providers / sizeof *dpn_providers;
         i++) {
        if (!strcmp(type, dpn_providers[i])) {
            return true;
        }
    }
    return false;
}

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

/* Reads the weir provider out of OVS_VPORT_ATTR_OPTIONS 'opts' into
 * 'type' (left alone if there is none).  Returns 0 or -EPROTO. */
static int
dpn_parse_vport_options(const struct nlattr *opts, char *type)
{
    const uint8_t *p = mnl_attr_get_payload(opts);
    size_t len = mnl_attr_get_payload_len(opts);
    size_t off = 0;

    /* Type numbers above 0x3fff are out of reach of a 'tb' array, so
     * this walks the options itself. */
    while (off < len) {
        const struct nlattr *a = (const struct nlattr *) (p + off);

        if (len - off < NLA_HDRLEN || a->nla_len < NLA_HDRLEN
            || a->nla_len > len - off) {
            dpif_set_error("vport reply: malformed OVS_VPORT_ATTR_OPTIONS");
            return -EPROTO;
        }
        if ((a->nla_type & NLA_TYPE_MASK) == WEIR_VPORT_OPT_PROVIDER) {
            if (!nlc_attr_str_ok(a, DPIF_NAME_MAX, "port provider")) {
                return -EPROTO;
            }
            strcpy(type, mnl_attr_get_str(a));
        }
        off += NLA_ALIGN(a->nla_len);
    }
    return 0;
}

static int
dpn_parse_vport(const struct nlmsghdr *nlh, void *rep_)
{
    struct dpn_vport_reply *rep = rep_;
    const struct nlattr *tb[DPN_VPORT_ATTR_MAX + 1];
    uint16_t family = rep->family;
    uint32_t type = 0;
    int r;

    memset(rep, 0, sizeof *rep);
    rep->family = family;
    r = dpn_parse_ovs(nlh, family, &rep->cmd, &rep->dp_ifindex, tb,
                      DPN_VPORT_ATTR_MAX);
    if (r) {
        return r;
    }
    if (!tb[OVS_VPORT_ATTR_NAME] || !tb[OVS_VPORT_ATTR_PORT_NO]
        || !tb[OVS_VPORT_ATTR_TYPE]
        || !nlc_attr_str_ok(tb[OVS_VPORT_ATTR_NAME], DPIF_NAME_MAX,
                            "port name")
        || !dpn_get_u32(tb[OVS_VPORT_ATTR_PORT_NO], &rep->port.port_no,
                        "OVS_VPORT_ATTR_PORT_NO")
        || !dpn_get_u32(tb[OVS_VPORT_ATTR_TYPE], &type,
                        "OVS_VPORT_ATTR_TYPE")
        || (tb[OVS_VPORT_ATTR_IFINDEX]
            && !dpn_get_u32(tb[OVS_VPORT_ATTR_IFINDEX], &rep->port.ifindex,
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
                                    rep->port.type);
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
             && !dpn_get_u64(utb[DPN_VPORT_UPCALL_ATTR_SUCCESS],
                             &rep->upcall_success, "upcall successes"))
            || (utb[DPN_VPORT_UPCALL_ATTR_FAIL]
                && !dpn_get_u64(utb[DPN_VPORT_UPCALL_ATTR_FAIL],
                                &rep->upcall_fail, "upcall failures"))) {
            return -EPROTO;
        }
    }
    return 0;
}

/* Builds a vport request for the dpif's datapath into 'buf'.  Returns it
 * or NULL if it does not fit. */
static struct nlmsghdr *
dpn_vport_msg(const struct dpn *d, void *buf, size_t size, uint8_t cmd,
              uint16_t flags, uint32_t port_no, const char *name)
{
    struct nlmsghdr *nlh = dpn_msg(d, buf, size, d->fam.vport, cmd,
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
    if (dpn_dp_transact(d, d->sock, &d->fam, OVS_DP_CMD_GET, 0, NULL, NULL,
                        NULL, 0, &rep) == -ENODEV) {
        dpif_set_error("datapath %s no longer exists", d->up.name);
        return -ENODEV;
    }
    dpif_set_error("%s", why);
    return -ENOENT;
}

/* Fills 'pids' with the handlers' port ids (or one 0).  Returns the
 * count.  Context: 'handlers_lock' held. */
static size_t
dpn_handler_pids(const struct dpn *d, uint32_t *pids)
{
    if (!d->n_handlers) {
        pids[0] = 0;
        return 1;
    }
    for (uint32_t i = 0; i < d->n_handlers; i++) {
        pids[i] = nlc_pid(d->handlers[i].sock);
    }
    return d->n_handlers;
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
    bool provider = dpn_is_provider(type);
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
    n_pids = dpn_handler_pids(d, pids);
    nlh = dpn_vport_msg(d, buf, size, OVS_VPORT_CMD_NEW, NLM_F_ECHO, 0,
                        name);
    ok = nlh
         && mnl_attr_put_u32_check(nlh, size, OVS_VPORT_ATTR_TYPE, ovs_type)
         && codec_attr_put(nlh, size, OVS_VPORT_ATTR_UPCALL_PID,
                           n_pids * sizeof *pids, pids);
    if (ok && *port_no != DPIF_PORT_ANY) {
        ok = mnl_attr_put_u32_check(nlh, size, OVS_VPORT_ATTR_PORT_NO,
                                    *port_no);
    }
    if (ok && (provider || options)) {
        struct nlattr *nest = dpn_nest_start(nlh, size,
                                             OVS_VPORT_ATTR_OPTIONS);

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
        r = nlc_transact(d->sock, nlh, dpn_parse_vport, &rep);
    }
    pthread_rwlock_unlock(&d->handlers_lock);
    free(buf);
    free(pids);
    if (r == -EBUSY) {
        dpif_set_error("port number %u is in use", *port_no);
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
    nlh = dpn_vport_msg(d, buf, sizeof buf, OVS_VPORT_CMD_DEL, 0, port_no,
                        NULL);
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
    struct nlc_txn txn = { .reply_cb = dpn_parse_vport, .aux = rep };

    rep->family = d->fam.vport;
    nlh = dpn_vport_msg(d, buf, sizeof buf, OVS_VPORT_CMD_GET, 0, port_no,
                        name);
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

struct dpn_port_list {
    const struct dpn *d;
    struct dpif_port *ports;
    size_t n, cap, next;
};

static int
dpn_collect_port(const struct nlmsghdr *nlh, void *list_)
{
    struct dpn_port_list *list = list_;
    struct dpn_vport_reply rep = { .family = list->d->fam.vport };
    int r = dpn_parse_vport(nlh, &rep);

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

/* Reads every port of the datapath into 'list', sorted by number. */
static int
dpn_port_list(const struct dpn *d, struct dpn_port_list *list)
{
    uint64_t buf[DPN_MSG_OVERHEAD / 8];
    struct nlmsghdr *nlh;
    int r;

    memset(list, 0, sizeof *list);
    list->d = d;
    nlh = dpn_msg(d, buf, sizeof buf, d->fam.vport, OVS_VPORT_CMD_GET,
                  OVS_VPORT_VERSION, 0);
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
    r = dpn_port_list(dpn_cast(dpif), list);
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
            || dpn_parse_vport(nlh, &rep)
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

/* ---- Flows. ---- */

/* Parses flow message 'nlh' into 'flow' (pointing into 'nlh').
 * Returns 0 or -EPROTO. */
static int
dpn_parse_flow(const struct dpn *d, const struct nlmsghdr *nlh,
               struct dpif_flow *flow)
{
    const struct nlattr *tb[OVS_FLOW_ATTR_MAX + 1];
    const struct nlattr *a;
    uint32_t dp_ifindex;
    uint8_t cmd;
    int r;

    r = dpn_parse_ovs(nlh, d->fam.flow, &cmd, &dp_ifindex, tb,
                      OVS_FLOW_ATTR_MAX);
    if (r) {
        return r;
    }
    memset(flow, 0, sizeof *flow);
    if ((a = tb[OVS_FLOW_ATTR_KEY])) {
        flow->key = mnl_attr_get_payload(a);
        flow->key_len = mnl_attr_get_payload_len(a);
    }
    if ((a = tb[OVS_FLOW_ATTR_MASK])) {
        flow->mask = mnl_attr_get_payload(a);
        flow->mask_len = mnl_attr_get_payload_len(a);
    }
    if ((a = tb[OVS_FLOW_ATTR_ACTIONS])) {
        flow->actions = mnl_attr_get_payload(a);
        flow->actions_len = mnl_attr_get_payload_len(a);
    }
    if ((a = tb[OVS_FLOW_ATTR_UFID])) {
        size_t len = mnl_attr_get_payload_len(a);

        if (len < 1 || len > DPIF_UFID_LEN) {
            dpif_set_error("flow reply: UFID of %zu bytes", len);
            return -EPROTO;
        }
        flow->ufid.len = (uint8_t) len;
        memcpy(flow->ufid.id, mnl_attr_get_payload(a), len);
    }
    if ((a = tb[OVS_FLOW_ATTR_STATS])) {
        struct ovs_flow_stats st;

        if (!nlc_attr_len_ok(a, sizeof st, "OVS_FLOW_ATTR_STATS")) {
            return -EPROTO;
        }
        memcpy(&st, mnl_attr_get_payload(a), sizeof st);
        flow->stats.n_packets = st.n_packets;
        flow->stats.n_bytes = st.n_bytes;
    }
    if ((a = tb[OVS_FLOW_ATTR_USED])) {
        uint64_t used;

        if (!dpn_get_u64(a, &used, "OVS_FLOW_ATTR_USED")) {
            return -EPROTO;
        }
        flow->stats.used_ms = (int64_t) used;
    }
    if ((a = tb[OVS_FLOW_ATTR_TCP_FLAGS])) {
        if (!nlc_attr_len_ok(a, 1, "OVS_FLOW_ATTR_TCP_FLAGS")) {
            return -EPROTO;
        }
        flow->stats.tcp_flags = mnl_attr_get_u8(a);
    }
    if (!flow->key && !flow->ufid.len) {
        dpif_set_error("flow reply with neither key nor UFID");
        return -EPROTO;
    }
    return 0;
}

/* Per-operation state of a batch, the 'aux' of its reply callback. */
struct dpn_op_ctx {
    const struct dpn *d;
    struct dpif_op *op;
};

/* Reply to a put or delete that asked for the flow's statistics. */
static int
dpn_stats_reply(const struct nlmsghdr *nlh, void *ctx_)
{
    struct dpn_op_ctx *ctx = ctx_;
    struct dpif_flow_stats *stats;
    struct dpif_flow flow;
    int r = dpn_parse_flow(ctx->d, nlh, &flow);

    if (r) {
        return r;
    }
    stats = ctx->op->type == DPIF_OP_FLOW_PUT ? ctx->op->u.flow_put.stats
                                              : ctx->op->u.flow_del.stats;
    if (stats) {
        *stats = flow.stats;
    }
    return 0;
}

/* Copies 'len' bytes to the caller's buffer at '*off' (8-aligned).
 * Returns where, or NULL if they do not fit. */
static const void *
dpn_copy_out(struct dpif_flow_get *get, size_t *off, const void *p,
             size_t len)
{
    uint8_t *dst;

    if (!p) {
        return NULL;
    }
    if (len > get->buf_size || *off > get->buf_size - len) {
        return NULL;
    }
    dst = (uint8_t *) get->buf + *off;
    memcpy(dst, p, len);
    *off = (*off + len + 7) & ~(size_t) 7;
    return dst;
}

static int
dpn_get_reply(const struct nlmsghdr *nlh, void *ctx_)
{
    struct dpn_op_ctx *ctx = ctx_;
    struct dpif_flow_get *get = &ctx->op->u.flow_get;
    struct dpif_flow flow, *out = get->flow;
    size_t off = 0;
    int r = dpn_parse_flow(ctx->d, nlh, &flow);

    if (r) {
        return r;
    }
    *out = flow;
    out->key = dpn_copy_out(get, &off, flow.key, flow.key_len);
    out->mask = dpn_copy_out(get, &off, flow.mask, flow.mask_len);
    out->actions = dpn_copy_out(get, &off, flow.actions, flow.actions_len);
    if ((flow.key && !out->key) || (flow.mask && !out->mask)
        || (flow.actions && !out->actions)) {
        memset(out, 0, sizeof *out);
        dpif_set_error("flow get: the flow does not fit the %zu-byte "
                       "buffer", get->buf_size);
        return -EMSGSIZE;
    }
    return 0;
}

static size_t
dpn_attr_size(size_t len)
{
    return NLA_ALIGN(NLA_HDRLEN + len);
}

/* Whether put 'op' zeroes the statistics with a second request, a SET
 * with OVS_FLOW_ATTR_CLEAR sent once the put succeeded.  The kernel
 * honours CLEAR only in OVS_FLOW_CMD_SET, and a SET reports the
 * statistics from before the clearing only by the order of its own code;
 * dpif.h promises "the stats before a modify" and zeroed statistics
 * after, for DPIF_FP_CREATE | DPIF_FP_MODIFY too.  So a put that may
 * modify and must zero, and either may create (a NEW) or wants the
 * statistics back, is the put without CLEAR, then, only if it worked,
 * the clearing SET: what the caller reads back is the statistics before
 * the change whichever way the server orders its reply, and a failed put
 * changes nothing.  A put that may only modify and wants no statistics
 * is one SET with CLEAR. */
static bool
dpn_put_clear_msg(const struct dpif_op *op)
{
    unsigned int flags = op->u.flow_put.flags;

    return op->type == DPIF_OP_FLOW_PUT
           && (flags & DPIF_FP_ZERO_STATS) && (flags & DPIF_FP_MODIFY)
           && ((flags & DPIF_FP_CREATE) || op->u.flow_put.stats);
}

/* An upper bound on the size of the request(s) for 'op'. */
static size_t
dpn_op_size(const struct dpif_op *op)
{
    size_t size = DPN_MSG_OVERHEAD;

    switch (op->type) {
    case DPIF_OP_FLOW_PUT:
        size += dpn_attr_size(op->u.flow_put.key_len)
                + dpn_attr_size(op->u.flow_put.mask_len)
                + dpn_attr_size(op->u.flow_put.actions_len);
        break;
    case DPIF_OP_FLOW_DEL:
        size += dpn_attr_size(op->u.flow_del.key_len);
        break;
    case DPIF_OP_FLOW_GET:
        size += dpn_attr_size(op->u.flow_get.key_len);
        break;
    case DPIF_OP_EXECUTE:
        size += dpn_attr_size(op->u.execute.packet_len)
                + dpn_attr_size(op->u.execute.actions_len);
        break;
    }
    return size;
}

/* Puts the flow's name: UFID if given, else (or also, 'with_key') the
 * key.  Returns false if it does not fit. */
static bool
dpn_put_flow_id(struct nlmsghdr *nlh, size_t size,
                const struct dpif_ufid *ufid, const void *key,
                size_t key_len, bool with_key)
{
    bool has_ufid = ufid && ufid->len;

    if (has_ufid
        && !codec_attr_put(nlh, size, OVS_FLOW_ATTR_UFID, ufid->len,
                           ufid->id)) {
        return false;
    }
    if ((!has_ufid || with_key)
        && !codec_attr_put(nlh, size, OVS_FLOW_ATTR_KEY, key_len, key)) {
        return false;
    }
    return true;
}

/* Builds the request for 'op' into 'buf' ('size' bytes, at least
 * dpn_op_size(op)).  Returns it, or NULL with the reason set if it cannot
 * be a netlink message (an attribute over 64 KiB). */
static struct nlmsghdr *
dpn_build_op(const struct dpn *d, const struct dpif_op *op, void *buf,
             size_t size)
{
    struct nlmsghdr *nlh = NULL;
    bool ok = false;

    switch (op->type) {
    case DPIF_OP_FLOW_PUT: {
        const struct dpif_flow_put *put = &op->u.flow_put;
        uint8_t cmd = put->flags & DPIF_FP_CREATE ? OVS_FLOW_CMD_NEW
                                                  : OVS_FLOW_CMD_SET;
        uint16_t flags = put->flags & DPIF_FP_MODIFY ? 0 : NLM_F_CREATE;

        if (put->stats) {
            flags |= NLM_F_ECHO;
        }
        nlh = dpn_msg(d, buf, size, d->fam.flow, cmd, OVS_FLOW_VERSION,
                      flags);
        ok = nlh
             && dpn_put_flow_id(nlh, size, put->ufid, put->key,
                                put->key_len, true)
             && (!put->mask
                 || codec_attr_put(nlh, size, OVS_FLOW_ATTR_MASK,
                                   put->mask_len, put->mask))
             && codec_attr_put(nlh, size, OVS_FLOW_ATTR_ACTIONS,
                               put->actions_len, put->actions);
        if (ok && put->stats && put->ufid && put->ufid->len) {
            /* Only the statistics are read back. */
            ok = mnl_attr_put_u32_check(nlh, size, OVS_FLOW_ATTR_UFID_FLAGS,
                                        DPN_UFID_TERSE);
        }
        if (ok && (put->flags & DPIF_FP_ZERO_STATS) && cmd == OVS_FLOW_CMD_SET
            && !dpn_put_clear_msg(op)) {
            ok = mnl_attr_put_check(nlh, size, OVS_FLOW_ATTR_CLEAR, 0, NULL);
        }
        if (ok && (put->flags & DPIF_FP_PROBE)) {
            ok = mnl_attr_put_check(nlh, size, OVS_FLOW_ATTR_PROBE, 0, NULL);
        }
        break;
    }
    case DPIF_OP_FLOW_DEL: {
        const struct dpif_flow_del *del = &op->u.flow_del;

        nlh = dpn_msg(d, buf, size, d->fam.flow, OVS_FLOW_CMD_DEL,
                      OVS_FLOW_VERSION, del->stats ? NLM_F_ECHO : 0);
        ok = nlh
             && dpn_put_flow_id(nlh, size, del->ufid, del->key,
                                del->key_len, false);
        if (ok && del->terse && del->ufid && del->ufid->len) {
            ok = mnl_attr_put_u32_check(nlh, size, OVS_FLOW_ATTR_UFID_FLAGS,
                                        DPN_UFID_TERSE);
        }
        break;
    }
    case DPIF_OP_FLOW_GET: {
        const struct dpif_flow_get *get = &op->u.flow_get;

        nlh = dpn_msg(d, buf, size, d->fam.flow, OVS_FLOW_CMD_GET,
                      OVS_FLOW_VERSION, 0);
        ok = nlh
             && dpn_put_flow_id(nlh, size, get->ufid, get->key,
                                get->key_len, false);
        break;
    }
    case DPIF_OP_EXECUTE: {
        const struct dpif_execute *ex = &op->u.execute;
        struct nlattr *key;

        nlh = dpn_msg(d, buf, size, d->fam.packet, OVS_PACKET_CMD_EXECUTE,
                      OVS_PACKET_VERSION, 0);
        ok = nlh
             && codec_attr_put(nlh, size, OVS_PACKET_ATTR_PACKET,
                               ex->packet_len, ex->packet);
        key = ok ? dpn_nest_start(nlh, size, OVS_PACKET_ATTR_KEY) : NULL;
        ok = key
             && mnl_attr_put_u32_check(nlh, size, OVS_KEY_ATTR_PRIORITY,
                                       ex->priority)
             && mnl_attr_put_u32_check(nlh, size, OVS_KEY_ATTR_SKB_MARK,
                                       ex->mark)
             && mnl_attr_put_u32_check(nlh, size, OVS_KEY_ATTR_RECIRC_ID,
                                       ex->recirc_id)
             && (!ex->dp_hash
                 || mnl_attr_put_u32_check(nlh, size, OVS_KEY_ATTR_DP_HASH,
                                           ex->dp_hash))
             && (ex->in_port == DPIF_PORT_ANY
                 || mnl_attr_put_u32_check(nlh, size, OVS_KEY_ATTR_IN_PORT,
                                           ex->in_port));
        if (ok) {
            mnl_attr_nest_end(nlh, key);
            ok = codec_attr_put(nlh, size, OVS_PACKET_ATTR_ACTIONS,
                                ex->actions_len, ex->actions);
        }
        if (ok && ex->probe) {
            ok = mnl_attr_put_check(nlh, size, OVS_PACKET_ATTR_PROBE, 0,
                                    NULL);
        }
        if (ok && ex->mru) {
            ok = mnl_attr_put_u16_check(nlh, size, OVS_PACKET_ATTR_MRU,
                                        ex->mru);
        }
        break;
    }
    }
    if (!ok) {
        dpif_set_error("operation does not fit a netlink message (an "
                       "attribute is limited to 64 KiB)");
        return NULL;
    }
    return nlh;
}

/* Builds the statistics-clearing SET that follows put 'op' (see
 * dpn_put_clear_msg()) into 'buf'.  Returns it or NULL. */
static struct nlmsghdr *
dpn_build_clear(const struct dpn *d, const struct dpif_op *op, void *buf,
                size_t size)
{
    const struct dpif_flow_put *put = &op->u.flow_put;
    struct nlmsghdr *nlh;

    nlh = dpn_msg(d, buf, size, d->fam.flow, OVS_FLOW_CMD_SET,
                  OVS_FLOW_VERSION, 0);
    if (!nlh
        || !dpn_put_flow_id(nlh, size, put->ufid, put->key, put->key_len,
                            true)
        || (put->mask
            && !codec_attr_put(nlh, size, OVS_FLOW_ATTR_MASK, put->mask_len,
                               put->mask))
        || !mnl_attr_put_check(nlh, size, OVS_FLOW_ATTR_CLEAR, 0, NULL)
        || ((put->flags & DPIF_FP_PROBE)
            && !mnl_attr_put_check(nlh, size, OVS_FLOW_ATTR_PROBE, 0,
                                   NULL))) {
        dpif_set_error("operation does not fit a netlink message (an "
                       "attribute is limited to 64 KiB)");
        return NULL;
    }
    return nlh;
}

/* Sets up 'txn' for 'op', whose request is 'nlh'. */
static void
dpn_txn_init(struct nlc_txn *txn, struct dpn_op_ctx *ctx,
             const struct dpn *d, struct dpif_op *op, struct nlmsghdr *nlh)
{
    ctx->d = d;
    ctx->op = op;
    txn->request = nlh;
    txn->aux = ctx;
    txn->reply_cb = NULL;
    if (op->type == DPIF_OP_FLOW_GET) {
        txn->reply_cb = dpn_get_reply;
    } else if ((op->type == DPIF_OP_FLOW_PUT && op->u.flow_put.stats)
               || (op->type == DPIF_OP_FLOW_DEL && op->u.flow_del.stats)) {
        txn->reply_cb = dpn_stats_reply;
    }
}

/* Takes the outcome of 'txn' into its operation. */
static void
dpn_txn_done(const struct nlc_txn *txn, struct dpif_op *op)
{
    op->error = txn->error;
    if (!op->error && op->type == DPIF_OP_FLOW_GET && !txn->replied) {
        dpif_set_error("no reply to a flow get");
        op->error = -EPROTO;
    }
}

/* Sends the clearing SETs of the puts among ctxs[0..n) that succeeded
 * and need one (dpn_put_clear_msg()).  Their outcomes are not the puts':
 * a flow deleted in between has nothing left to clear.  Only running
 * out of memory for them fails the puts (-ENOMEM): their statistics
 * were not zeroed. */
static void
dpn_clear_after(struct dpn *d, struct nlc_txn *txns,
                const struct dpn_op_ctx *ctxs, size_t n)
{
    struct nlc_txn *clears;
    size_t need = 0, m = 0, used = 0;
    uint8_t *buf;

    for (size_t j = 0; j < n; j++) {
        if (!txns[j].error && dpn_put_clear_msg(ctxs[j].op)) {
            need += dpn_op_size(ctxs[j].op);
            m++;
        }
    }
    if (!m) {
        return;
    }
    buf = malloc(need);
    clears = calloc(m, sizeof *clears);
    if (!buf || !clears) {
        dpif_set_error("out of memory for zeroing flow statistics");
        for (size_t j = 0; j < n; j++) {
            if (!txns[j].error && dpn_put_clear_msg(ctxs[j].op)) {
                txns[j].error = -ENOMEM;
            }
        }
    }
    m = 0;
    for (size_t j = 0; buf && clears && j < n; j++) {
        if (!txns[j].error && dpn_put_clear_msg(ctxs[j].op)) {
            size_t size = dpn_op_size(ctxs[j].op);
            struct nlmsghdr *nlh = dpn_build_clear(d, ctxs[j].op,
                                                   buf + used, size);

            if (nlh) {
                clears[m++].request = nlh;
                used += size;
            }
        }
    }
    if (m) {
        nlc_transact_batch(d->sock, clears, m);
    }
    free(buf);
    free(clears);
}

/* Sends the requests built for 'n' operations and takes their outcomes
 * into the operations. */
static void
dpn_run(struct dpn *d, struct nlc_txn *txns, struct dpn_op_ctx *ctxs,
        size_t n)
{
    nlc_transact_batch(d->sock, txns, n);
    dpn_clear_after(d, txns, ctxs, n);
    for (size_t j = 0; j < n; j++) {
        dpn_txn_done(&txns[j], ctxs[j].op);
    }
}

/* Runs 'op' alone from 'buf' ('size' bytes). */
static void
dpn_operate_one(struct dpn *d, struct dpif_op *op, uint8_t *buf,
                size_t size)
{
    struct nlmsghdr *nlh = dpn_build_op(d, op, buf, size);
    struct dpn_op_ctx ctx;
    struct nlc_txn txn;

    if (!nlh) {
        op->error = -EINVAL;
        return;
    }
    dpn_txn_init(&txn, &ctx, d, op, nlh);
    dpn_run(d, &txn, &ctx, 1);
}

#define DPN_BATCH_MAX 512       /* Operations per datagram. */

static void
dpn_operate(struct dpif *dpif, struct dpif_op **ops, size_t n)
{
    struct dpn *d = dpn_cast(dpif);
    uint64_t small[DPN_SMALL_MSG / 8];
    struct nlc_txn *txns;
    struct dpn_op_ctx *ctxs;
    uint8_t *chunk;
    size_t i = 0;

    if (n == 1 && dpn_op_size(ops[0]) <= sizeof small) {
        /* The common single operation: nothing to allocate. */
        dpn_operate_one(d, ops[0], (uint8_t *) small, sizeof small);
        return;
    }

    chunk = malloc(NLC_DGRAM_MAX);
    txns = malloc(DPN_BATCH_MAX * sizeof *txns);
    ctxs = malloc(DPN_BATCH_MAX * sizeof *ctxs);
    if (!chunk || !txns || !ctxs) {
        dpif_set_error("out of memory");
        for (size_t k = 0; k < n; k++) {
            ops[k]->error = -ENOMEM;
        }
        goto out;
    }
    while (i < n) {
        size_t used = 0, k = 0;

        while (i < n && k < DPN_BATCH_MAX) {
            struct dpif_op *op = ops[i];
            size_t size = dpn_op_size(op);
            struct nlmsghdr *nlh;

            if (size > NLC_DGRAM_MAX) {
                if (k) {
                    break;      /* Send what we have first. */
                }
                /* Too big to share a datagram: a buffer of its own. */
                {
                    uint8_t *buf = malloc(size);

                    if (buf) {
                        dpn_operate_one(d, op, buf, size);
                    } else {
                        dpif_set_error("out of memory");
                        op->error = -ENOMEM;
                    }
                    free(buf);
                }
                i++;
                continue;
            }
            if (size > NLC_DGRAM_MAX - used) {
                break;
            }
            nlh = dpn_build_op(d, op, chunk + used, NLC_DGRAM_MAX - used);
            i++;
            if (!nlh) {
                op->error = -EINVAL;
                continue;
            }
            used += NLMSG_ALIGN(nlh->nlmsg_len);
            dpn_txn_init(&txns[k], &ctxs[k], d, op, nlh);
            k++;
        }
        if (k) {
            dpn_run(d, txns, ctxs, k);
        }
    }
out:
    free(chunk);
    free(txns);
    free(ctxs);
}

static int
dpn_flow_flush(struct dpif *dpif)
{
    struct dpn *d = dpn_cast(dpif);
    uint64_t buf[DPN_MSG_OVERHEAD / 8];
    struct nlmsghdr *nlh;

    nlh = dpn_msg(d, buf, sizeof buf, d->fam.flow, OVS_FLOW_CMD_DEL,
                  OVS_FLOW_VERSION, 0);
    return nlc_transact(d->sock, nlh, NULL, NULL);
}

/* ---- Flow dumps. ---- */

struct dpn_flow_dump {
    struct dpif_flow_dump up;
    struct dpn *d;
    struct nlc_sock *sock;
    struct nlc_dump nd;
    atomic_int parse_error;     /* First malformed flow's error. */
};

struct dpn_flow_dump_thread {
    struct dpif_flow_dump_thread up;
    uint8_t *buf;               /* NLC_RECV_SIZE: one dump part. */
    size_t len, off;
    uint8_t *get_buf;           /* DPIF_FLOW_BUFSIZE, for a flow fetched
                                 * again (dpn_flow_refetch()); or NULL. */
};

/* A socket for a dump: from the pool, or a new one. */
static int
dpn_dump_sock_get(struct dpn *d, struct nlc_sock **sockp)
{
    int r;

    wmutex_lock(&d->pool_mutex);
    *sockp = d->n_pool ? d->pool[--d->n_pool] : NULL;
    wmutex_unlock(&d->pool_mutex);
    if (*sockp) {
        return 0;
    }
    r = nlc_open(sockp);
    if (!r) {
        r = nlc_setsockopt(*sockp, WEIR_SOCK_RCVBUF, DPN_DUMP_RCVBUF);
        if (r) {
            nlc_close(*sockp);
            *sockp = NULL;
        }
    }
    return r;
}

static void
dpn_dump_sock_put(struct dpn *d, struct nlc_sock *sock)
{
    wmutex_lock(&d->pool_mutex);
    if (d->n_pool < DPN_POOL_MAX) {
        d->pool[d->n_pool++] = sock;
        sock = NULL;
    }
    wmutex_unlock(&d->pool_mutex);
    nlc_close(sock);
}

static struct dpif_flow_dump *
dpn_flow_dump_create(const struct dpif *dpif, bool terse)
{
    struct dpn *d = dpn_cast(dpif);
    uint64_t buf[DPN_MSG_OVERHEAD / 8];
    struct dpn_flow_dump *dump;
    struct nlmsghdr *nlh;

    dump = calloc(1, sizeof *dump);
    if (!dump) {
        dpif_set_error("out of memory");
        return NULL;
    }
    dump->d = d;
    atomic_init(&dump->parse_error, 0);
    if (dpn_dump_sock_get(d, &dump->sock)) {
        free(dump);
        return NULL;
    }
    nlh = dpn_msg(d, buf, sizeof buf, d->fam.flow, OVS_FLOW_CMD_GET,
                  OVS_FLOW_VERSION, 0);
    if (terse) {
        /* DPN_MSG_OVERHEAD leaves room for this. */
        mnl_attr_put_u32_check(nlh, sizeof buf, OVS_FLOW_ATTR_UFID_FLAGS,
                               DPN_UFID_TERSE);
    }
    if (nlc_dump_start(dump->sock, nlh, &dump->nd)) {
        nlc_close(dump->sock);
        free(dump);
        return NULL;
    }
    return &dump->up;
}

static int
dpn_flow_dump_destroy(struct dpif_flow_dump *dump_)
{
    struct dpn_flow_dump *dump = (struct dpn_flow_dump *) dump_;
    int parse_error = atomic_load(&dump->parse_error);
    int r = dump->nd.status ? dump->nd.status : parse_error;

    if (dump->nd.done && dump->nd.status != -EPROTO
        && dump->nd.status != -ETIMEDOUT
        && dump->nd.status != -ECONNRESET) {
        dpn_dump_sock_put(dump->d, dump->sock);
    } else {
        nlc_close(dump->sock);
    }
    free(dump);
    return r;
}

static struct dpif_flow_dump_thread *
dpn_flow_dump_thread_create(struct dpif_flow_dump *dump)
{
    struct dpn_flow_dump_thread *t = calloc(1, sizeof *t);

    (void) dump;
    if (!t) {
        return NULL;
    }
    t->buf = malloc(NLC_RECV_SIZE);
    if (!t->buf) {
        free(t);
        return NULL;
    }
    return &t->up;
}

static void
dpn_flow_dump_thread_destroy(struct dpif_flow_dump_thread *thread)
{
    struct dpn_flow_dump_thread *t = (struct dpn_flow_dump_thread *) thread;

    free(t->buf);
    free(t->get_buf);
    free(t);
}

/* Whether 'flow' from a dump lacks parts the caller should get: a flow
 * without UFID comes whole even in a terse dump (dpif.h), but the kernel
 * (and weird) omit mask and actions of every flow when asked; and the
 * kernel leaves out the actions of a part's first flow if they do not
 * fit.  Open vSwitch fetches such flows again one by one; so does this. */
static bool
dpn_flow_incomplete(const struct dpif_flow *flow, bool terse)
{
    return !flow->actions && !(terse && flow->ufid.len);
}

/* Gets 'flow' again, whole, into the thread's own buffer.  Returns 0,
 * -ENOENT (deleted meanwhile), or another error. */
static int
dpn_flow_refetch(struct dpn *d, struct dpn_flow_dump_thread *t,
                 struct dpif_flow *flow)
{
    struct dpif_op op, *opp = &op;
    struct dpif_ufid ufid = flow->ufid;
    struct dpif_flow got;

    if (!t->get_buf) {
        t->get_buf = malloc(DPIF_FLOW_BUFSIZE);
        if (!t->get_buf) {
            return -ENOMEM;
        }
    }
    memset(&op, 0, sizeof op);
    op.type = DPIF_OP_FLOW_GET;
    op.u.flow_get.key = flow->key;
    op.u.flow_get.key_len = flow->key_len;
    op.u.flow_get.ufid = ufid.len ? &ufid : NULL;
    op.u.flow_get.buf = t->get_buf;
    op.u.flow_get.buf_size = DPIF_FLOW_BUFSIZE;
    op.u.flow_get.flow = &got;
    dpn_operate(&d->up, &opp, 1);
    if (!op.error) {
        *flow = got;
    }
    return op.error;
}

static int
dpn_flow_dump_next(struct dpif_flow_dump_thread *thread,
                   struct dpif_flow *flows, int max)
{
    struct dpn_flow_dump_thread *t = (struct dpn_flow_dump_thread *) thread;
    struct dpn_flow_dump *dump = (struct dpn_flow_dump *) thread->dump;
    int n = 0;

    for (;;) {
        int len;

        while (n < max) {
            size_t at = t->off;
            const struct nlmsghdr *nlh = nlc_dump_next_msg(&dump->nd, t->buf,
                                                           t->len, &t->off);
            int r;

            if (!nlh) {
                break;
            }
            r = dpn_parse_flow(dump->d, nlh, &flows[n]);

            if (!r && dpn_flow_incomplete(&flows[n], dump->up.terse)) {
                if (n) {
                    /* Hand out what we have; this one next time, alone,
                     * as it will live in 't->get_buf'. */
                    t->off = at;
                    return n;
                }
                r = dpn_flow_refetch(dump->d, t, &flows[n]);
                if (r == -ENOENT) {
                    continue;   /* Gone meanwhile: not in the dump. */
                }
                if (!r) {
                    return 1;
                }
            }
            if (r) {
                int zero = 0;

                atomic_compare_exchange_strong(&dump->parse_error, &zero, r);
                continue;
            }
            n++;
        }
        if (n) {
            return n;
        }
        len = nlc_dump_recv(&dump->nd, t->buf, NLC_RECV_SIZE);
        if (len <= 0) {
            t->len = t->off = 0;
            return 0;
        }
        t->len = (size_t) len;
        t->off = 0;
    }
}

/* ---- Upcalls. ---- */

/* Parses upcall message 'nlh' into 'up'.  Returns 0 or -EPROTO. */
static int
dpn_parse_upcall(const struct dpn *d, const struct nlmsghdr *nlh,
                 struct dpif_upcall *up)
{
    const struct nlattr *tb[OVS_PACKET_ATTR_MAX + 1];
    const struct nlattr *ktb[OVS_KEY_ATTR_IN_PORT + 1];
    const struct nlattr *a;
    uint32_t dp_ifindex;
    uint8_t cmd;
    int r;

    r = dpn_parse_ovs(nlh, d->fam.packet, &cmd, &dp_ifindex, tb,
                      OVS_PACKET_ATTR_MAX);
    if (r) {
        return r;
    }
    if (cmd != OVS_PACKET_CMD_MISS && cmd != OVS_PACKET_CMD_ACTION) {
        dpif_set_error("upcall: packet command %u", cmd);
        return -EPROTO;
    }
    if (!tb[OVS_PACKET_ATTR_PACKET] || !tb[OVS_PACKET_ATTR_KEY]) {
        dpif_set_error("upcall without packet or key");
        return -EPROTO;
    }
    r = nlc_parse_nested(tb[OVS_PACKET_ATTR_KEY], ktb, OVS_KEY_ATTR_IN_PORT);
    if (r) {
        return r;
    }
    memset(up, 0, sizeof *up);
    up->type = cmd == OVS_PACKET_CMD_MISS ? DPIF_UC_MISS : DPIF_UC_ACTION;
    up->packet = mnl_attr_get_payload(tb[OVS_PACKET_ATTR_PACKET]);
    up->packet_len = mnl_attr_get_payload_len(tb[OVS_PACKET_ATTR_PACKET]);
    up->key = mnl_attr_get_payload(tb[OVS_PACKET_ATTR_KEY]);
    up->key_len = mnl_attr_get_payload_len(tb[OVS_PACKET_ATTR_KEY]);
    if ((a = tb[OVS_PACKET_ATTR_USERDATA])) {
        up->userdata = mnl_attr_get_payload(a);
        up->userdata_len = mnl_attr_get_payload_len(a);
    }
    if ((a = tb[OVS_PACKET_ATTR_ACTIONS])) {
        up->actions = mnl_attr_get_payload(a);
        up->actions_len = mnl_attr_get_payload_len(a);
    }
    up->in_port = DPIF_PORT_ANY;
    if (ktb[OVS_KEY_ATTR_IN_PORT]
        && !dpn_get_u32(ktb[OVS_KEY_ATTR_IN_PORT], &up->in_port,
                        "upcall key in_port")) {
        return -EPROTO;
    }
    return 0;
}

/* Closes handlers[0..n) and frees the array. */
static void
dpn_handlers_free(struct dpn_handler *handlers, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        nlc_close(handlers[i].sock);
        free(handlers[i].buf);
    }
    free(handlers);
}

/* Sets the UPCALL_PID array of every port of the datapath to 'pids'.
 * Ports that went away meanwhile are skipped. */
static int
dpn_set_port_pids(struct dpn *d, const uint32_t *pids, size_t n_pids)
{
    size_t msg_size = DPN_MSG_OVERHEAD + n_pids * sizeof *pids;
    struct dpn_port_list list;
    struct nlc_txn *txns;
    uint8_t *arena;
    int r;

    r = dpn_port_list(d, &list);
    if (r || !list.n) {
        free(list.ports);
        return r;
    }
    arena = malloc(list.n * msg_size);
    txns = calloc(list.n, sizeof *txns);
    if (!arena || !txns) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < list.n; i++) {
        void *buf = arena + i * msg_size;
        struct nlmsghdr *nlh;

        nlh = dpn_vport_msg(d, buf, msg_size, OVS_VPORT_CMD_SET, 0,
                            list.ports[i].port_no, NULL);
        if (!nlh || !codec_attr_put(nlh, msg_size, OVS_VPORT_ATTR_UPCALL_PID,
                                    n_pids * sizeof *pids, pids)) {
            r = -EMSGSIZE;
            goto out;
        }
        txns[i].request = nlh;
    }
    r = nlc_transact_batch(d->sock, txns, list.n);
    for (size_t i = 0; !r && i < list.n; i++) {
        if (txns[i].error && txns[i].error != -ENODEV) {
            r = txns[i].error;
        }
    }
    if (!r) {
        /* weird notifies the group of each of these SETs. */
        atomic_fetch_add(&d->own_changes, (unsigned int) list.n);
    }
out:
    free(arena);
    free(txns);
    free(list.ports);
    return r;
}

static int
dpn_handlers_set(struct dpif *dpif, uint32_t n)
{
    struct dpn *d = dpn_cast(dpif);
    struct dpn_handler *handlers = NULL;
    struct dpn_dp_reply rep;
    uint32_t *pids = NULL;
    uint32_t features;
    size_t n_pids;
    int r;

    if (n > DPN_HANDLERS_MAX) {
        dpif_set_error("%u handlers: at most %d", n, DPN_HANDLERS_MAX);
        return -EINVAL;
    }
    pthread_rwlock_wrlock(&d->handlers_lock);
    if (n == d->n_handlers) {
        pthread_rwlock_unlock(&d->handlers_lock);
        return 0;
    }
    if (n) {
        handlers = calloc(n, sizeof *handlers);
        pids = malloc(n * sizeof *pids);
        if (!handlers || !pids) {
            r = -ENOMEM;
            goto error;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        handlers[i].buf = malloc(NLC_RECV_SIZE);
        if (!handlers[i].buf) {
            r = -ENOMEM;
            goto error;
        }
        r = nlc_open(&handlers[i].sock);
        if (r) {
            goto error;
        }
        pids[i] = nlc_pid(handlers[i].sock);
    }

    r = dpn_dp_transact(d, d->sock, &d->fam, OVS_DP_CMD_GET, 0, NULL, NULL,
                        NULL, 0, &rep);
    if (r) {
        goto error;
    }
    features = rep.features & ~(uint32_t) OVS_DP_F_DISPATCH_UPCALL_PER_CPU;
    if (n) {
        features |= OVS_DP_F_DISPATCH_UPCALL_PER_CPU;
    }
    r = dpn_dp_transact(d, d->sock, &d->fam, OVS_DP_CMD_SET, 0, NULL,
                        &features, pids, n, NULL);
    if (r) {
        goto error;
    }
    {
        uint32_t zero = 0;

        n_pids = n ? n : 1;
        r = dpn_set_port_pids(d, n ? pids : &zero, n_pids);
    }
    dpn_handlers_free(d->handlers, d->n_handlers);
    d->handlers = handlers;
    d->n_handlers = n;
    pthread_rwlock_unlock(&d->handlers_lock);
    free(pids);
    return r;

error:
    pthread_rwlock_unlock(&d->handlers_lock);
    if (handlers) {
        dpn_handlers_free(handlers, n);
    }
    free(pids);
    return r;
}

static uint32_t
dpn_handler_pid(const struct dpif *dpif, uint32_t handler_id)
{
    struct dpn *d = dpn_cast(dpif);
    uint32_t pid = 0;

    pthread_rwlock_rdlock(&d->handlers_lock);
    if (handler_id < d->n_handlers) {
        pid = nlc_pid(d->handlers[handler_id].sock);
    }
    pthread_rwlock_unlock(&d->handlers_lock);
    return pid;
}

static int
dpn_no_handler(uint32_t handler_id)
{
    dpif_set_error("no upcall handler %u", handler_id);
    return -EINVAL;
}

static int
dpn_recv(struct dpif *dpif, uint32_t handler_id, struct dpif_upcall *upcall)
{
    struct dpn *d = dpn_cast(dpif);
    struct dpn_handler *h;
    int r;

    pthread_rwlock_rdlock(&d->handlers_lock);
    if (handler_id >= d->n_handlers) {
        pthread_rwlock_unlock(&d->handlers_lock);
        return dpn_no_handler(handler_id);
    }
    h = &d->handlers[handler_id];
    for (;;) {
        const struct nlmsghdr *nlh;

        while (nlc_next_msg(h->buf, h->len, &h->off, &nlh) > 0) {
            if (nlh->nlmsg_type == d->fam.packet
                && !dpn_parse_upcall(d, nlh, upcall)) {
                upcall->pid = nlc_pid(h->sock);
                pthread_rwlock_unlock(&d->handlers_lock);
                return 0;
            }
        }
        h->len = h->off = 0;
        r = nlc_recv_nb(h->sock, h->buf, NLC_RECV_SIZE);
        if (r == -EPROTO) {
            continue;           /* That datagram is dropped; read on. */
        }
        if (r < 0) {
            break;
        }
        h->len = (size_t) r;
    }
    pthread_rwlock_unlock(&d->handlers_lock);
    if (r == -ENOBUFS) {
        dpif_set_error("upcalls were lost: handler %u read too slowly",
                       handler_id);
    }
    return r;
}

static int64_t
dpn_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
dpn_recv_wait(struct dpif *dpif, uint32_t handler_id, int timeout_ms)
{
    struct dpn *d = dpn_cast(dpif);
    int64_t deadline = timeout_ms < 0 ? -1 : dpn_now_ms() + timeout_ms;

    /* Waits in slices, dropping the lock between them, so that
     * dpif_handlers_set() never waits for a sleeping reader for long. */
    for (;;) {
        struct pollfd pfd = { .events = POLLIN };
        int slice = 100;
        int r;

        if (deadline >= 0) {
            int64_t left = deadline - dpn_now_ms();

            slice = left < 0 ? 0 : left < slice ? (int) left : slice;
        }
        pthread_rwlock_rdlock(&d->handlers_lock);
        if (handler_id >= d->n_handlers) {
            pthread_rwlock_unlock(&d->handlers_lock);
            return dpn_no_handler(handler_id);
        }
        if (d->handlers[handler_id].off < d->handlers[handler_id].len) {
            pthread_rwlock_unlock(&d->handlers_lock);
            return 0;
        }
        pfd.fd = nlc_fd(d->handlers[handler_id].sock);
        r = poll(&pfd, 1, slice);
        pthread_rwlock_unlock(&d->handlers_lock);
        if (r > 0) {
            return 0;
        }
        if (deadline >= 0 && dpn_now_ms() >= deadline) {
            return -ETIMEDOUT;
        }
    }
}

static int
dpn_recv_fd(struct dpif *dpif, uint32_t handler_id)
{
    struct dpn *d = dpn_cast(dpif);
    int fd;

    pthread_rwlock_rdlock(&d->handlers_lock);
    fd = handler_id < d->n_handlers ? nlc_fd(d->handlers[handler_id].sock)
                                    : -1;
    pthread_rwlock_unlock(&d->handlers_lock);
    return fd >= 0 ? fd : dpn_no_handler(handler_id);
}

static void
dpn_recv_purge(struct dpif *dpif)
{
    struct dpn *d = dpn_cast(dpif);

    pthread_rwlock_wrlock(&d->handlers_lock);
    for (uint32_t i = 0; i < d->n_handlers; i++) {
        struct dpn_handler *h = &d->handlers[i];

        /* Bounded: weird refills the socket from the datapath's queues
         * as it empties, so "until empty" could last while traffic
         * flows. */
        for (int k = 0; k < 100000; k++) {
            int r = nlc_recv_nb(h->sock, h->buf, NLC_RECV_SIZE);

            if (r < 0 && r != -EPROTO && r != -ENOBUFS) {
                break;
            }
        }
        h->len = h->off = 0;
    }
    pthread_rwlock_unlock(&d->handlers_lock);
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
    .operate = dpn_operate,
    .flow_flush = dpn_flow_flush,
    .flow_dump_create = dpn_flow_dump_create,
    .flow_dump_destroy = dpn_flow_dump_destroy,
    .flow_dump_thread_create = dpn_flow_dump_thread_create,
    .flow_dump_thread_destroy = dpn_flow_dump_thread_destroy,
    .flow_dump_next = dpn_flow_dump_next,
    .handlers_set = dpn_handlers_set,
    .handler_pid = dpn_handler_pid,
    .recv = dpn_recv,
    .recv_wait = dpn_recv_wait,
    .recv_fd = dpn_recv_fd,
    .recv_purge = dpn_recv_purge,
};
