/* SPDX-License-Identifier: Apache-2.0 */
/* dpif provider "local": upcall handlers.  The design is in
 * dpif/dpif-local.h.
 *
 * Handlers belong to the dpif, as the netlink provider's do: each handler
 * is an upcall channel of the datapath (dp/upcall.h) that this dpif opens
 * with a PID of its own, what a handler socket's port id is to weird.
 * dpif_handlers_set() then does to the datapath what the netlink
 * provider's requests do: turns per-CPU dispatch on (off with no
 * handlers), makes the handlers' PIDs the per-CPU PIDs and every port's
 * PIDs (0 with no handlers).  So another dpif of the same datapath has no
 * handlers until it sets its own (dpif_handler_pid() 0, dpif_recv()
 * -EINVAL), and the datapath sends its misses to the handlers of the dpif
 * that set them last; the handlers of the others stay theirs, with their
 * own buffers, and receive what is sent to their PIDs (a userspace()
 * action's).  A port added through a dpif with handlers gets their PIDs,
 * as the netlink provider's port add sends them.
 *
 * Locks: a dpif's handler array changes under its datapath's lock held
 * for writing (dpif_handlers_set(), dpif_close(), dpif_delete()); every
 * other call holds it for reading, so a channel is never closed under a
 * reader.  Closing a channel waits for a grace period: it is done
 * offline. */

#include "dpif/dpif-local-private.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/fkey-nl.h"
#include "dp/dp.h"
#include "dp/upcall.h"
#include "lib/errbuf.h"
#include "lib/rcu.h"
#include "packet/flow-key.h"
#include "packet/packet.h"

void
dpif_local_handlers_free(struct local_handler *h, uint32_t n, bool close)
{
    for (uint32_t i = 0; h && i < n; i++) {
        if (close) {
            upcall_channel_close(h[i].ch);
        }
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

/* Sets the user features to 'features' and, if 'n' > 0, the per-CPU PIDs
 * to 'pids'; then every port's PIDs to 'pids' if 'features' has per-CPU
 * dispatch and 'n' > 0, else to 0: the state dpif_handlers_set() leaves,
 * as the netlink provider's requests leave it in weird.  Returns 0 or
 * -ENOMEM (what was done before stays done).
 * Context: online, under the write lock. */
static int
point_upcalls(struct local_dp *ldp, uint32_t features, const uint32_t *pids,
              uint32_t n)
{
    bool to_pids = n && (features & OVS_DP_F_DISPATCH_UPCALL_PER_CPU);
    uint32_t zero = 0, cursor = 0, no;
    int error = 0;

    if (n) {
        error = dp_set_upcall_pids_per_cpu(ldp->dp, pids, n);
    }
    if (!error) {
        dp_set_user_features(ldp->dp, features);
    }
    while (!error && dp_port_list(ldp->dp, &cursor, &no, 1)) {
        error = dp_port_set_upcall_pids(ldp->dp, no, to_pids ? pids : &zero,
                                        to_pids ? n : 1);
    }
    if (error) {
        dpif_set_error("out of memory for upcall PIDs");
    }
    return error;
}

int
dpif_local_handlers_set(struct dpif *dpif, uint32_t n)
{
    struct local_dpif *ld = local_dpif_cast(dpif);
    struct local_dp *ldp = ld->ldp;
    struct dpif_local_event **events = NULL;
    struct local_handler *handlers = NULL, *old = NULL;
    uint32_t *pids = NULL, *old_pids = NULL;
    uint32_t n_old = 0, features, old_features;
    size_t n_events = 0, n_old_pids;
    struct local_call c;
    struct errbuf err;
    uint32_t opened = 0;
    bool lost = false;
    int error;

    errbuf_clear(&err);
    if (n > DP_UPCALL_PIDS_MAX) {
        dpif_set_error("%u handlers: at most %d", n, DP_UPCALL_PIDS_MAX);
        return -EINVAL;
    }
    handlers = calloc(n ? n : 1, sizeof *handlers);
    pids = calloc(n ? n : 1, sizeof *pids);
    old_pids = calloc(DP_UPCALL_PIDS_MAX, sizeof *old_pids);
    if (!handlers || !pids || !old_pids) {
        free(handlers);
        free(pids);
        free(old_pids);
        dpif_set_error("out of memory");
        return -ENOMEM;
    }
    /* For writing: no call of this dpif uses its handlers meanwhile. */
    error = dpif_local_enter(ldp, true, &c);
    if (error) {
        free(handlers);
        free(pids);
        free(old_pids);
        return error;
    }
    if (n == ld->n_handlers) {
        /* As the netlink provider: the same number is no change. */
        goto out;
    }
    for (; opened < n && !error; opened++) {
        error = upcall_channel_open(dp_upcalls(ldp->dp), 0,
                                    &handlers[opened].ch, &err);
        if (!error) {
            pids[opened] = upcall_channel_pid(handlers[opened].ch);
        }
    }
    if (error) {
        opened--;               /* The one that failed is not open. */
        goto out;
    }
    old_features = dp_get_user_features(ldp->dp);
    n_old_pids = dp_get_upcall_pids_per_cpu(ldp->dp, old_pids,
                                            DP_UPCALL_PIDS_MAX);
    if (n_old_pids > DP_UPCALL_PIDS_MAX) {
        n_old_pids = DP_UPCALL_PIDS_MAX;
    }
    features = old_features & ~(uint32_t) OVS_DP_F_DISPATCH_UPCALL_PER_CPU;
    if (n) {
        features |= OVS_DP_F_DISPATCH_UPCALL_PER_CPU;
    }
    error = point_upcalls(ldp, features, pids, n);
    if (error) {
        /* Back to where the datapath was; this dpif keeps its handlers.
         * The reason stays that of the failure. */
        char why[ERRBUF_SIZE];

        snprintf(why, sizeof why, "%s", dpif_last_error());
        (void) point_upcalls(ldp, old_features, old_pids,
                             (uint32_t) n_old_pids);
        dpif_set_error("%s", why);
        goto out;
    }
    old = ld->handlers;
    n_old = ld->n_handlers;
    ld->handlers = handlers;
    ld->n_handlers = n;
    handlers = NULL;
    opened = 0;
    if (dpif_local_monitored()) {
        events = handlers_events(ldp, &n_events);
        lost = !events;
    }

out:
    qsbr_offline();
    if (lost) {
        dpif_local_emit(NULL);
    }
    for (size_t i = 0; i < n_events; i++) {
        dpif_local_emit(events[i]);
    }
    /* Offline, still under the lock: closing waits for a grace period,
     * and no reader of these channels runs. */
    dpif_local_handlers_free(old, n_old, true);
    dpif_local_handlers_free(handlers, opened, true);
    dpif_local_unlock(ldp, &c);
    free(events);
    free(pids);
    free(old_pids);
    return dpif_local_pass_error(&err, error);
}

uint32_t
dpif_local_handler_pid(const struct dpif *dpif, uint32_t handler_id)
{
    const struct local_dpif *ld = local_dpif_cast(dpif);
    struct local_dp *ldp = ld->ldp;
    struct local_call c;
    uint32_t pid = 0;

    if (dpif_local_lock(ldp, false, &c)) {
        return 0;
    }
    if (handler_id < ld->n_handlers) {
        pid = upcall_channel_pid(ld->handlers[handler_id].ch);
    }
    dpif_local_unlock(ldp, &c);
    return pid;
}

size_t
dpif_local_handler_pids(const struct local_dpif *ld, uint32_t *pids)
{
    for (uint32_t i = 0; i < ld->n_handlers; i++) {
        pids[i] = upcall_channel_pid(ld->handlers[i].ch);
    }
    return ld->n_handlers;
}

/* Returns handler 'handler_id' of 'ld', or NULL with the reason set.
 * Context: under the lock. */
static struct local_handler *
get_handler(const struct local_dpif *ld, uint32_t handler_id)
{
    if (handler_id >= ld->n_handlers) {
        dpif_set_error("no handler %u (%u handlers)", handler_id,
                       ld->n_handlers);
        return NULL;
    }
    return &ld->handlers[handler_id];
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
    struct local_dpif *ld = local_dpif_cast(dpif);
    struct local_dp *ldp = ld->ldp;
    struct dp_upcall *up = NULL;
    struct local_handler *h;
    struct local_call c;
    int error = dpif_local_enter(ldp, false, &c);

    if (error) {
        return error;
    }
    h = get_handler(ld, handler_id);
    error = h ? upcall_channel_recv(h->ch, &up) : -EINVAL;
    if (!error) {
        error = upcall_convert(up, h, upcall);
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
    struct local_dpif *ld = local_dpif_cast(dpif);
    struct local_dp *ldp = ld->ldp;
    int64_t deadline = dpif_local_now_ms()
                       + (timeout_ms > 0 ? timeout_ms : 0);

    /* In slices, releasing the lock in between: dpif_delete() and
     * dpif_handlers_set() wait for at most one slice.  Offline: the
     * channel's wait wants it. */
    for (;;) {
        int64_t left = timeout_ms < 0 ? LOCAL_WAIT_SLICE_MS
                                      : deadline - dpif_local_now_ms();
        struct local_handler *h;
        struct local_call c;
        int error;

        if (left < 0) {
            left = 0;
        }
        error = dpif_local_lock(ldp, false, &c);
        if (error) {
            return error;
        }
        h = get_handler(ld, handler_id);
        error = !h ? -EINVAL
                   : upcall_channel_wait(h->ch, left < LOCAL_WAIT_SLICE_MS
                                                ? (int) left
                                                : LOCAL_WAIT_SLICE_MS);
        dpif_local_unlock(ldp, &c);
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
    struct local_dpif *ld = local_dpif_cast(dpif);
    struct local_dp *ldp = ld->ldp;
    struct local_handler *h;
    struct local_call c;
    int error = dpif_local_lock(ldp, false, &c);

    if (error) {
        return error;
    }
    h = get_handler(ld, handler_id);
    error = h ? upcall_channel_fd(h->ch) : -EINVAL;
    dpif_local_unlock(ldp, &c);
    return error;
}

void
dpif_local_recv_purge(struct dpif *dpif)
{
    struct local_dpif *ld = local_dpif_cast(dpif);
    struct local_dp *ldp = ld->ldp;
    struct local_call c;

    /* The handlers' buffers are left alone: the upcall each returned last
     * stays valid until its next dpif_recv() (dpif.h). */
    if (!dpif_local_enter(ldp, false, &c)) {
        for (uint32_t i = 0; i < ld->n_handlers; i++) {
            upcall_channel_purge(ld->handlers[i].ch);
        }
        dpif_local_exit(ldp, &c);
    }
}
