/* SPDX-License-Identifier: Apache-2.0 */
/* dpif provider "local": upcall handlers, over the datapath's upcall
 * channels (dp/dp.h).  The design is in dpif/dpif-local.h. */

#include "dpif/dpif-local-private.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/fkey-nl.h"
#include "dp/dp.h"
#include "lib/errbuf.h"
#include "lib/rcu.h"
#include "packet/flow-key.h"
#include "packet/packet.h"

void
dpif_local_handlers_free(struct local_handler *h, uint32_t n)
{
    for (uint32_t i = 0; h && i < n; i++) {
        free(h[i].buf);
    }
    free(h);
}

/* The events of a change of the number of handlers, as weird notifies
 * the netlink provider's requests for it: DP SET (the user features and
 * per-CPU PIDs), then PORT SET for every port in increasing number (its
 * upcall PIDs).  Returns a malloc'd array of '*n' events (an event that
 * could not be made is a NULL entry: a loss, when emitted), or NULL if
 * memory ran out.  Context: online, under the write lock. */
static struct dpif_local_event **
handlers_events(struct local_dp *ldp, size_t *n)
{
    struct dpif_local_event **events;
    uint32_t cursor = 0, no;
    size_t n_ports = 0;

    *n = 0;
    while (dp_port_list(ldp->dp, &cursor, &no, 1)) {
        n_ports++;
    }
    events = calloc(n_ports + 1, sizeof *events);
    if (!events) {
        return NULL;
    }
    events[(*n)++] = dpif_local_event_new(DPIF_EV_DP, DPIF_EV_SET, ldp->name,
                                          NULL, NULL);
    cursor = 0;
    while (*n <= n_ports && dp_port_list(ldp->dp, &cursor, &no, 1)) {
        struct dpif_port port;

        events[(*n)++] = (dpif_local_port_fill(ldp, no, &port) ? NULL
                          : dpif_local_event_new(DPIF_EV_PORT, DPIF_EV_SET,
                                                 ldp->name, &port, NULL));
    }
    return events;
}

int
dpif_local_handlers_set(struct dpif *dpif, uint32_t n)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct dpif_local_event **events = NULL;
    struct local_handler *handlers = NULL;
    uint32_t *pids = NULL;
    size_t n_events = 0;
    struct local_call c;
    struct errbuf err;
    bool lost = false;
    bool changed;
    int error;

    errbuf_clear(&err);
    if (n > DP_UPCALL_PIDS_MAX) {
        dpif_set_error("%u handlers: at most %d", n, DP_UPCALL_PIDS_MAX);
        return -EINVAL;
    }
    if (n) {
        handlers = calloc(n, sizeof *handlers);
        pids = calloc(n, sizeof *pids);
        if (!handlers || !pids) {
            free(handlers);
            free(pids);
            dpif_set_error("out of memory");
            return -ENOMEM;
        }
    }
    /* For writing: no dpif_recv() runs while the channels change. */
    error = dpif_local_enter(ldp, true, &c);
    if (error) {
        free(handlers);
        free(pids);
        return error;
    }
    changed = n != ldp->n_handlers;
    error = dp_handlers_set(ldp->dp, n, &err);
    if (!error) {
        uint32_t features = dp_get_user_features(ldp->dp);

        /* Per-CPU dispatch (dpif.h): each polling thread's misses go to
         * one handler.  Without handlers, back to per-port PIDs (all 0),
         * as the netlink provider does. */
        if (n) {
            features |= OVS_DP_F_DISPATCH_UPCALL_PER_CPU;
        } else {
            features &= ~(uint32_t) OVS_DP_F_DISPATCH_UPCALL_PER_CPU;
        }
        dp_set_user_features(ldp->dp, features);
        if (n) {
            /* The handlers' PIDs are every port's and the per-CPU ones,
             * in handler order. */
            dp_get_upcall_pids_per_cpu(ldp->dp, pids, n);
        }
        dpif_local_handlers_free(ldp->handlers, ldp->n_handlers);
        free(ldp->handler_pids);
        ldp->handlers = handlers;
        ldp->handler_pids = pids;
        ldp->n_handlers = n;
        handlers = NULL;
        pids = NULL;
        if (changed && dpif_local_monitored()) {
            events = handlers_events(ldp, &n_events);
            lost = !events;
        }
    }
    qsbr_offline();
    if (lost) {
        dpif_local_emit(NULL);
    }
    for (size_t i = 0; i < n_events; i++) {
        dpif_local_emit(events[i]);
    }
    dpif_local_unlock(ldp, &c);
    free(events);
    free(handlers);
    free(pids);
    return dpif_local_pass_error(&err, error);
}

uint32_t
dpif_local_handler_pid(const struct dpif *dpif, uint32_t handler_id)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;
    uint32_t pid = 0;

    if (dpif_local_lock(ldp, false, &c)) {
        return 0;
    }
    if (handler_id < ldp->n_handlers) {
        pid = ldp->handler_pids[handler_id];
    }
    dpif_local_unlock(ldp, &c);
    return pid;
}

/* Returns -EINVAL with the reason if 'handler_id' is no handler.
 * Context: under the lock. */
static int
check_handler(const struct local_dp *ldp, uint32_t handler_id)
{
    if (handler_id >= ldp->n_handlers) {
        dpif_set_error("no handler %u (%u handlers)", handler_id,
                       ldp->n_handlers);
        return -EINVAL;
    }
    return 0;
}

/* Copies upcall 'up' into handler 'h''s buffer and describes it in
 * 'out'.  Returns 0 or -ENOMEM. */
static int
upcall_convert(const struct dp_upcall *up, struct local_handler *h,
               struct dpif_upcall *out)
{
    char kbuf[MNL_NLMSG_HDRLEN + FKEY_NL_MAX_LEN];
    struct nlmsghdr *k = mnl_nlmsg_put_header(kbuf);
    size_t key_len, need, ofs = 0;
    int64_t at[4];

    if (fkey_to_nl(&up->key, k, sizeof kbuf)) {
        return -EMSGSIZE;
    }
    key_len = k->nlmsg_len - MNL_NLMSG_HDRLEN;
    need = up->packet->len + key_len + up->userdata_len + up->actions_len
           + 16;
    if (need > h->size) {
        char *p = realloc(h->buf, need);

        if (!p) {
            return -ENOMEM;
        }
        h->buf = p;
        h->size = need;
    }
    at[0] = dpif_local_buf_put(h->buf, h->size, &ofs, up->packet->data,
                               up->packet->len);
    at[1] = dpif_local_buf_put(h->buf, h->size, &ofs,
                               mnl_nlmsg_get_payload(k), key_len);
    at[2] = dpif_local_buf_put(h->buf, h->size, &ofs, up->userdata,
                               up->userdata_len);
    at[3] = dpif_local_buf_put(h->buf, h->size, &ofs, up->actions,
                               up->actions_len);
    out->type = up->type == DP_UPCALL_MISS ? DPIF_UC_MISS : DPIF_UC_ACTION;
    out->packet = (char *) h->buf + at[0];
    out->packet_len = up->packet->len;
    out->key = (char *) h->buf + at[1];
    out->key_len = key_len;
    out->userdata = up->userdata ? (char *) h->buf + at[2] : NULL;
    out->userdata_len = up->userdata ? up->userdata_len : 0;
    out->actions = up->actions ? (char *) h->buf + at[3] : NULL;
    out->actions_len = up->actions ? up->actions_len : 0;
    out->in_port = up->key.in_port == FKEY_IN_PORT_NONE ? DPIF_PORT_ANY
                                                        : up->key.in_port;
    out->pid = up->pid;
    return 0;
}

int
dpif_local_recv(struct dpif *dpif, uint32_t handler_id,
                struct dpif_upcall *upcall)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct dp_upcall *up = NULL;
    struct local_call c;
    int error = dpif_local_enter(ldp, false, &c);

    if (error) {
        return error;
    }
    error = check_handler(ldp, handler_id);
    if (!error) {
        error = dp_recv(ldp->dp, handler_id, &up);
    }
    if (!error) {
        error = upcall_convert(up, &ldp->handlers[handler_id], upcall);
        if (error) {
            dpif_set_error("upcall lost: out of memory");
        }
        dp_upcall_free(up);
    }
    dpif_local_exit(ldp, &c);
    return error;
}

int
dpif_local_recv_wait(struct dpif *dpif, uint32_t handler_id, int timeout_ms)
{
    struct local_dp *ldp = ldp_of(dpif);
    int64_t deadline = dpif_local_now_ms()
                       + (timeout_ms > 0 ? timeout_ms : 0);

    /* In slices, releasing the lock in between: dpif_delete() and
     * dpif_handlers_set() wait for at most one slice. */
    for (;;) {
        int64_t left = timeout_ms < 0 ? LOCAL_WAIT_SLICE_MS
                                      : deadline - dpif_local_now_ms();
        struct local_call c;
        int error;

        if (left < 0) {
            left = 0;
        }
        error = dpif_local_enter(ldp, false, &c);
        if (error) {
            return error;
        }
        error = check_handler(ldp, handler_id);
        if (!error) {
            error = dp_recv_wait(ldp->dp, handler_id,
                                 left < LOCAL_WAIT_SLICE_MS
                                 ? (int) left : LOCAL_WAIT_SLICE_MS);
        }
        dpif_local_exit(ldp, &c);
        if (error != -ETIMEDOUT) {
            return error;
        }
        if (timeout_ms >= 0 && dpif_local_now_ms() >= deadline) {
            return -ETIMEDOUT;
        }
    }
}

int
dpif_local_recv_fd(struct dpif *dpif, uint32_t handler_id)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;
    int error = dpif_local_lock(ldp, false, &c);

    if (error) {
        return error;
    }
    error = check_handler(ldp, handler_id);
    if (!error) {
        error = dp_recv_fd(ldp->dp, handler_id);
    }
    dpif_local_unlock(ldp, &c);
    return error;
}

void
dpif_local_recv_purge(struct dpif *dpif)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;

    if (!dpif_local_enter(ldp, false, &c)) {
        dp_recv_purge(ldp->dp);
        dpif_local_exit(ldp, &c);
    }
}
