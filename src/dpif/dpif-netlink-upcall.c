/* SPDX-License-Identifier: Apache-2.0 */
/* dpif provider "netlink": upcall handlers.  Each handler is a socket of
 * its own whose port id weird sends upcalls to; dpif_handlers_set() gives
 * the datapath their ids for per-CPU dispatch and every port the same
 * ids for per-port dispatch.  The design is in dpif-netlink.c's essay. */

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

int
dpif_netlink_handlers_set(struct dpif *dpif, uint32_t n)
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

    r = dpif_netlink_dp_transact(d->sock, &d->fam, d->dp_ifindex,
                                 OVS_DP_CMD_GET, 0, NULL, NULL, NULL, 0,
                                 &rep);
    if (r) {
        goto error;
    }
    features = rep.features & ~(uint32_t) OVS_DP_F_DISPATCH_UPCALL_PER_CPU;
    if (n) {
        features |= OVS_DP_F_DISPATCH_UPCALL_PER_CPU;
    }
    r = dpif_netlink_dp_transact(d->sock, &d->fam, d->dp_ifindex,
                                 OVS_DP_CMD_SET, 0, NULL, &features, pids,
                                 n, NULL);
    if (r) {
        goto error;
    }
    {
        uint32_t zero = 0;

        n_pids = n ? n : 1;
        r = dpn_set_port_pids(d, n ? pids : &zero, n_pids);
    }
    dpif_netlink_handlers_free(d->handlers, d->n_handlers);
    d->handlers = handlers;
    d->n_handlers = n;
    pthread_rwlock_unlock(&d->handlers_lock);
    free(pids);
    return r;

error:
    pthread_rwlock_unlock(&d->handlers_lock);
    if (handlers) {
        dpif_netlink_handlers_free(handlers, n);
    }
    free(pids);
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
