/* SPDX-License-Identifier: Apache-2.0 */
/* dpif provider "netlink": upcall handlers.  Each handler is a socket of
 * its own whose port id weird sends upcalls to; dpif_handlers_set() gives
 * the datapath their ids for per-CPU dispatch and every port the same
 * ids for per-port dispatch.  The handlers are the dpif's: another dpif
 * of the same datapath has its own (or none), and the datapath sends its
 * misses to those of the dpif that set them last.  The design is in
 * dpif-netlink.c's essay. */

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
#include "dpif/dpif-netlink-private.h"
#include "lib/errbuf.h"

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

    r = dpif_netlink_parse_ovs(nlh, d->fam.packet, &cmd, &dp_ifindex, tb,
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
        && !dpif_netlink_get_u32(ktb[OVS_KEY_ATTR_IN_PORT], &up->in_port,
                                 "upcall key in_port")) {
        return -EPROTO;
    }
    return 0;
}

size_t
dpif_netlink_handler_pids(const struct dpn *d, uint32_t *pids)
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

void
dpif_netlink_handlers_free(struct dpn_handler *handlers, uint32_t n)
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

    r = dpif_netlink_port_list(d, &list);
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

        nlh = dpif_netlink_vport_msg(d, buf, msg_size, OVS_VPORT_CMD_SET, 0,
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

/* Sets the datapath's user features to 'features' and, if 'n' > 0, its
 * per-CPU PIDs to 'pids'; then every port's PIDs to 'pids' if
 * 'features' has per-CPU dispatch and 'n' > 0, else to 0 (no upcalls):
 * the state dpif_handlers_set() leaves.  Returns 0 or the first error;
 * what was done before it stays done. */
static int
dpn_point_upcalls(struct dpn *d, uint32_t features, const uint32_t *pids,
                  uint32_t n)
{
    bool to_pids = n && (features & OVS_DP_F_DISPATCH_UPCALL_PER_CPU);
    uint32_t zero = 0;
    int r;

    r = dpif_netlink_dp_transact(d->sock, &d->fam, d->dp_ifindex,
                                 OVS_DP_CMD_SET, 0, NULL, &features, pids, n,
                                 NULL);
    if (!r) {
        r = dpn_set_port_pids(d, to_pids ? pids : &zero, to_pids ? n : 1);
    }
    return r;
}

/* The datapath as dpif_handlers_set() finds it, to go back to. */
struct dpn_dp_upcalls {
    struct dpn_dp_reply rep;    /* Its user features. */
    uint32_t *pids;             /* In: room for DPN_HANDLERS_MAX. */
    size_t n_pids;              /* Its per-CPU PIDs (as many as fit). */
};

/* Decodes a datapath reply with its per-CPU PIDs, as an nlc_reply_cb. */
static int
dpn_parse_dp_upcalls(const struct nlmsghdr *nlh, void *up_)
{
    struct dpn_dp_upcalls *up = up_;
    const struct nlattr *tb[OVS_DP_ATTR_MAX + 1];
    const struct nlattr *a;
    uint32_t ifindex;
    uint8_t cmd;
    size_t len;
    int r;

    r = dpif_netlink_parse_dp(nlh, &up->rep);
    if (!r) {
        r = dpif_netlink_parse_ovs(nlh, up->rep.family, &cmd, &ifindex, tb,
                                   OVS_DP_ATTR_MAX);
    }
    if (r) {
        return r;
    }
    up->n_pids = 0;
    a = tb[OVS_DP_ATTR_PER_CPU_PIDS];
    if (a) {
        len = mnl_attr_get_payload_len(a);
        if (len % sizeof(uint32_t)) {
            dpif_set_error("datapath reply: OVS_DP_ATTR_PER_CPU_PIDS of "
                           "%zu bytes", len);
            return -EPROTO;
        }
        up->n_pids = len / sizeof(uint32_t);
        if (up->n_pids > DPN_HANDLERS_MAX) {
            up->n_pids = DPN_HANDLERS_MAX;
        }
        memcpy(up->pids, mnl_attr_get_payload(a),
               up->n_pids * sizeof(uint32_t));
    }
    return 0;
}

/* Reads the datapath's user features and per-CPU PIDs into 'up'.
 * Returns 0 or -errno. */
static int
dpn_get_dp_upcalls(struct dpn *d, struct dpn_dp_upcalls *up)
{
    uint64_t buf[DPN_MSG_OVERHEAD / 8];
    struct nlc_txn txn = { .reply_cb = dpn_parse_dp_upcalls, .aux = up };

    up->rep.family = d->fam.dp;
    txn.request = dpif_netlink_msg(d->dp_ifindex, buf, sizeof buf,
                                   d->fam.dp, OVS_DP_CMD_GET,
                                   OVS_DATAPATH_VERSION, 0);
    nlc_transact_batch(d->sock, &txn, 1);
    if (!txn.error && !txn.replied) {
        dpif_set_error("no reply to a datapath request");
        return -EPROTO;
    }
    return txn.error;
}

int
dpif_netlink_handlers_set(struct dpif *dpif, uint32_t n)
{
    struct dpn *d = dpn_cast(dpif);
    struct dpn_handler *handlers = NULL;
    struct dpn_dp_upcalls old = { .pids = NULL };
    uint32_t *pids = NULL;
    uint32_t features;
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
    handlers = calloc(n ? n : 1, sizeof *handlers);
    pids = malloc((n ? n : 1) * sizeof *pids);
    old.pids = malloc(DPN_HANDLERS_MAX * sizeof *old.pids);
    if (!handlers || !pids || !old.pids) {
        dpif_set_error("out of memory");
        r = -ENOMEM;
        goto error;
    }
    for (uint32_t i = 0; i < n; i++) {
        handlers[i].buf = malloc(NLC_RECV_SIZE);
        if (!handlers[i].buf) {
            dpif_set_error("out of memory");
            r = -ENOMEM;
            goto error;
        }
        /* On the weird the dpif was opened on. */
        r = nlc_open_path(nlc_path(d->sock), &handlers[i].sock);
        if (r) {
            goto error;
        }
        pids[i] = nlc_pid(handlers[i].sock);
    }

    r = dpn_get_dp_upcalls(d, &old);
    if (r) {
        goto error;
    }
    features = old.rep.features
               & ~(uint32_t) OVS_DP_F_DISPATCH_UPCALL_PER_CPU;
    if (n) {
        features |= OVS_DP_F_DISPATCH_UPCALL_PER_CPU;
    }
    r = dpn_point_upcalls(d, features, pids, n);
    if (r) {
        /* Back to where the datapath was (as a dpif_handlers_set() of
         * either provider leaves it), and this dpif keeps its handlers:
         * a failure changes nothing, as far as weird still answers.  The
         * reason is that of the failure. */
        char why[ERRBUF_SIZE];

        snprintf(why, sizeof why, "%s", dpif_last_error());
        (void) dpn_point_upcalls(d, old.rep.features, old.pids,
                                 (uint32_t) old.n_pids);
        dpif_set_error("%s", why);
        goto error;
    }
    dpif_netlink_handlers_free(d->handlers, d->n_handlers);
    d->handlers = handlers;
    d->n_handlers = n;
    pthread_rwlock_unlock(&d->handlers_lock);
    free(pids);
    free(old.pids);
    return 0;

error:
    pthread_rwlock_unlock(&d->handlers_lock);
    if (handlers) {
        dpif_netlink_handlers_free(handlers, n);
    }
    free(pids);
    free(old.pids);
    return r;
}

uint32_t
dpif_netlink_handler_pid(const struct dpif *dpif, uint32_t handler_id)
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

int
dpif_netlink_recv(struct dpif *dpif, uint32_t handler_id,
                  struct dpif_upcall *upcall)
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

int
dpif_netlink_recv_wait(struct dpif *dpif, uint32_t handler_id, int timeout_ms)
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

int
dpif_netlink_recv_fd(struct dpif *dpif, uint32_t handler_id)
{
    struct dpn *d = dpn_cast(dpif);
    int fd;

    pthread_rwlock_rdlock(&d->handlers_lock);
    fd = handler_id < d->n_handlers ? nlc_fd(d->handlers[handler_id].sock)
                                    : -1;
    pthread_rwlock_unlock(&d->handlers_lock);
    return fd >= 0 ? fd : dpn_no_handler(handler_id);
}

void
dpif_netlink_recv_purge(struct dpif *dpif)
{
    struct dpn *d = dpn_cast(dpif);
    /* What is dropped is read into scratch space: the upcall a handler
     * last returned points into its buffer and stays valid until that
     * handler's next dpif_recv() (dpif.h). */
    uint8_t *scratch = malloc(NLC_RECV_SIZE);

    if (!scratch) {
        dpif_set_error("out of memory: upcalls not purged");
        return;
    }
    pthread_rwlock_wrlock(&d->handlers_lock);
    for (uint32_t i = 0; i < d->n_handlers; i++) {
        struct dpn_handler *h = &d->handlers[i];

        /* Bounded: weird refills the socket from the datapath's queues
         * as it empties, so "until empty" could last while traffic
         * flows. */
        for (int k = 0; k < 100000; k++) {
            int r = nlc_recv_nb(h->sock, scratch, NLC_RECV_SIZE);

            if (r < 0 && r != -EPROTO && r != -ENOBUFS) {
                break;
            }
        }
        /* The rest of the last datagram goes too; its bytes stay. */
        h->off = h->len;
    }
    pthread_rwlock_unlock(&d->handlers_lock);
    free(scratch);
}
