/* SPDX-License-Identifier: Apache-2.0 */
/* dpif provider "local": flows.  Puts, deletes and gets through the
 * datapath's flow table with the kernel's rules (and the events of the
 * changes, dpif-local-private.h), packet execution on a small pool of
 * dp_threads, flushes, and flow dumps.  The design is in
 * dpif/dpif-local.h. */

#include "dpif/dpif-local-private.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/fkey-nl.h"
#include "codec/ufid.h"
#include "dp/dp.h"
#include "lib/errbuf.h"
#include "lib/rcu.h"
#include "packet/flow-key.h"
#include "packet/packet.h"

/* ---- Requests. ---- */

/* Decodes the flow key 'attrs' as the kernel module would, with the
 * same errno for what it refuses.  Returns 0 or -EINVAL. */
static int
key_decode(const void *attrs, size_t len, struct flow_key *key)
{
    struct errbuf err;

    errbuf_clear(&err);
    switch (fkey_from_nl(attrs, len, key, &err)) {
    case FKEY_FIT_PERFECT:
        return 0;
    case FKEY_FIT_TOO_MUCH:
        dpif_set_error("flow key: attributes this datapath does not "
                       "support or the key does not call for");
        return -EINVAL;
    case FKEY_FIT_TOO_LITTLE:
        dpif_set_error("flow key: attributes the key calls for are "
                       "missing");
        return -EINVAL;
    case FKEY_FIT_ERROR:
    default:
        dpif_set_error("flow key: %s", err.msg);
        return -EINVAL;
    }
}

static int
mask_decode(const void *attrs, size_t len, const struct flow_key *key,
            struct flow_mask *mask)
{
    struct errbuf err;

    errbuf_clear(&err);
    switch (fmask_from_nl(attrs, len, key, mask, &err)) {
    case FKEY_FIT_PERFECT:
        return 0;
    case FKEY_FIT_TOO_MUCH:
    case FKEY_FIT_TOO_LITTLE:
        dpif_set_error("flow mask: attributes this datapath does not "
                       "support");
        return -EINVAL;
    case FKEY_FIT_ERROR:
    default:
        dpif_set_error("flow mask: %s", err.msg);
        return -EINVAL;
    }
}

static void
ufid_from_dpif(struct ufid *out, const struct dpif_ufid *in)
{
    memset(out, 0, sizeof *out);
    out->len = in->len;
    memcpy(out->id, in->id, in->len);
}

static void
stats_from_dp(struct dpif_flow_stats *out, const struct dp_flow_stats *in)
{
    out->n_packets = in->n_packets;
    out->n_bytes = in->n_bytes;
    out->used_ms = (int64_t) in->used_ms;
    out->tcp_flags = in->tcp_flags;
}

/* Fills 'req' to name the flow given by 'ufid' (if it has a length, into
 * 'u') or else by 'key' (decoded into 'k').  Returns 0 or -EINVAL. */
static int
req_name(struct dp_flow_req *req, const struct dpif_ufid *ufid,
         struct ufid *u, const void *key, size_t key_len,
         struct flow_key *k)
{
    if (ufid && ufid->len) {
        ufid_from_dpif(u, ufid);
        req->ufid = u;
        return 0;
    }
    req->key = k;
    return key_decode(key, key_len, k);
}

/* The netlink attributes of the key and mask 'info' carries, in
 * 'kbuf' / 'mbuf' (each MNL_NLMSG_HDRLEN + FKEY_NL_MAX_LEN bytes). */
struct flow_nl {
    char kbuf[MNL_NLMSG_HDRLEN + FKEY_NL_MAX_LEN];
    char mbuf[MNL_NLMSG_HDRLEN + FKEY_NL_MAX_LEN];
    const void *key, *mask;
    size_t key_len, mask_len;
};

/* Encodes what 'info' has of key and mask.  The mask takes its shape
 * from the masked key, as the kernel writes it.  Returns 0 or
 * -EMSGSIZE. */
static int
flow_nl_encode(const struct dp_flow_info *info, struct flow_nl *nl)
{
    struct nlmsghdr *k = mnl_nlmsg_put_header(nl->kbuf);
    struct nlmsghdr *m = mnl_nlmsg_put_header(nl->mbuf);

    nl->key = nl->mask = NULL;
    nl->key_len = nl->mask_len = 0;
    if (info->has_key) {
        if (fkey_to_nl(&info->key, k, sizeof nl->kbuf)) {
            return -EMSGSIZE;
        }
        nl->key = mnl_nlmsg_get_payload(k);
        nl->key_len = k->nlmsg_len - MNL_NLMSG_HDRLEN;
    }
    if (info->has_mask && info->has_key) {
        struct flow_key masked;

        fkey_mask_apply(&masked, &info->key, &info->mask);
        if (fmask_to_nl(&masked, &info->mask, m, sizeof nl->mbuf)) {
            return -EMSGSIZE;
        }
        nl->mask = mnl_nlmsg_get_payload(m);
        nl->mask_len = m->nlmsg_len - MNL_NLMSG_HDRLEN;
    }
    return 0;
}

/* Writes the flow 'info' into 'buf' ('size' bytes) from offset '*ofs'
 * and describes it in 'flow' with offsets from 'buf' (pointers are set
 * by flow_rebase()).  Context: online ('info' actions). */
static int
flow_write(const struct dp_flow_info *info, char *buf, size_t size,
           size_t *ofs, struct dpif_flow *flow, int64_t offsets[3])
{
    struct flow_nl nl;
    int error = flow_nl_encode(info, &nl);

    offsets[0] = offsets[1] = offsets[2] = -1;
    if (error) {
        return error;
    }
    memset(flow, 0, sizeof *flow);
    if (nl.key) {
        offsets[0] = dpif_local_buf_put(buf, size, ofs, nl.key, nl.key_len);
        flow->key_len = nl.key_len;
    }
    if (nl.mask) {
        offsets[1] = dpif_local_buf_put(buf, size, ofs, nl.mask, nl.mask_len);
        flow->mask_len = nl.mask_len;
    }
    if (info->has_actions) {
        offsets[2] = dpif_local_buf_put(buf, size, ofs, info->actions,
                                        info->actions_len);
        flow->actions_len = info->actions_len;
    }
    if ((nl.key && offsets[0] < 0) || (nl.mask && offsets[1] < 0)
        || (info->has_actions && offsets[2] < 0)) {
        return -EMSGSIZE;
    }
    if (info->has_ufid) {
        flow->ufid.len = info->ufid.len;
        memcpy(flow->ufid.id, info->ufid.id, info->ufid.len);
    }
    stats_from_dp(&flow->stats, &info->stats);
    return 0;
}

/* Points 'flow' at its bytes in 'buf'. */
static void
flow_rebase(struct dpif_flow *flow, const char *buf,
            const int64_t offsets[3])
{
    flow->key = offsets[0] >= 0 ? buf + offsets[0] : NULL;
    flow->mask = offsets[1] >= 0 ? buf + offsets[1] : NULL;
    flow->actions = offsets[2] >= 0 ? buf + offsets[2] : NULL;
}

/* Upper bound of the bytes flow_write() needs for 'info'. */
static size_t
flow_size(const struct dp_flow_info *info)
{
    return 2 * (FKEY_NL_MAX_LEN + 4)
           + (info->has_actions ? info->actions_len + 4 : 0);
}

/* ---- Changes, and their events. ---- */

/* The events of flow changes are what weird notifies for the requests the
 * netlink provider sends for the same operations (dpif-netlink-flow.c):
 * the same commands, in the same order, with the flow shaped by the same
 * OVS_UFID_F_OMIT_* flags.  So a put is done here as the netlink
 * provider asks for it, and these two helpers say how. */

/* Whether put 'put' is followed by a second, statistics-zeroing SET, as
 * the netlink provider follows it (its dpn_put_clear_msg()): a put that
 * may modify and must zero, and either may create or wants the
 * statistics back. */
static bool
put_clears_after(const struct dpif_flow_put *put)
{
    unsigned int flags = put->flags;

    return (flags & DPIF_FP_ZERO_STATS) && (flags & DPIF_FP_MODIFY)
           && ((flags & DPIF_FP_CREATE) || put->stats);
}

/* The OMIT flags the netlink provider puts in a request that names a
 * flow by 'ufid' and wants only statistics back if 'terse'. */
static uint32_t
event_ufid_flags(const struct dpif_ufid *ufid, bool terse)
{
    return terse && ufid && ufid->len ? LOCAL_OMIT_ALL : 0;
}

/* Makes the event of change 'op' of flow 'info' in 'ldp', 'info' being
 * the datapath's reply shaped by event_ufid_flags(): as weird's
 * notification, the UFID or else the key as identifier, the key of a
 * UFID flow unless omitted, mask, actions and statistics as 'info' has
 * them.  NULL if memory ran out (emitting NULL reports the loss).
 * Context: online ('info' actions). */
static struct dpif_local_event *
flow_event(const struct local_dp *ldp, enum dpif_event_op op,
           const struct dp_flow_info *info)
{
    struct dpif_flow flow;
    struct flow_nl nl;

    if (flow_nl_encode(info, &nl)) {
        return NULL;
    }
    memset(&flow, 0, sizeof flow);
    flow.key = nl.key;
    flow.key_len = nl.key_len;
    flow.mask = nl.mask;
    flow.mask_len = nl.mask_len;
    if (info->has_actions) {
        /* Present even when empty (a drop), as in a netlink message. */
        flow.actions = info->actions ? info->actions : "";
        flow.actions_len = info->actions_len;
    }
    if (info->has_ufid) {
        flow.ufid.len = info->ufid.len;
        memcpy(flow.ufid.id, info->ufid.id, info->ufid.len);
    }
    stats_from_dp(&flow.stats, &info->stats);
    return dpif_local_event_new(DPIF_EV_FLOW, op, ldp->name, NULL, &flow);
}

/* Ends a flow change entered with dpif_local_enter(): offline, emits
 * 'ev' (if 'monitored') while still holding the datapath's lock (so that
 * it comes before the datapath's DEL), then unlocks. */
static void
change_exit(struct local_dp *ldp, struct local_call *c, bool monitored,
            struct dpif_local_event *ev)
{
    qsbr_offline();
    if (monitored) {
        dpif_local_emit(ev);
    }
    dpif_local_unlock(ldp, c);
}

static int
local_flow_put(struct local_dp *ldp, const struct dpif_flow_put *put)
{
    struct dp_flow_req req = { .has_actions = true };
    struct dpif_local_event *ev = NULL;
    enum dpif_event_op op;
    struct dp_flow_info reply;
    struct flow_mask mask;
    struct flow_key key;
    struct local_call c;
    struct errbuf err;
    bool monitored;
    struct ufid u;
    int error;

    errbuf_clear(&err);
    error = key_decode(put->key, put->key_len, &key);
    if (!error && put->mask) {
        error = mask_decode(put->mask, put->mask_len, &key, &mask);
    }
    if (error) {
        return error;
    }
    req.key = &key;
    req.mask = put->mask ? &mask : NULL;
    if (put->ufid && put->ufid->len) {
        ufid_from_dpif(&u, put->ufid);
        req.ufid = &u;
    }
    req.actions = put->actions ? put->actions : "";
    req.actions_len = put->actions_len;
    monitored = dpif_local_monitored();
    /* Only the statistics are reported back, unless a monitor wants the
     * flow as weird would notify it. */
    req.ufid_flags = monitored ? event_ufid_flags(put->ufid,
                                                  put->stats != NULL)
                               : LOCAL_OMIT_ALL;

    error = dpif_local_enter(ldp, false, &c);
    if (error) {
        return error;
    }
    if (put->flags & DPIF_FP_CREATE) {
        /* OVS_FLOW_CMD_NEW: 0 created, 1 modified (the statistics from
         * before: the kernel's NEW keeps them). */
        op = DPIF_EV_NEW;
        error = dp_flow_new(ldp->dp, &req,
                            put->flags & DPIF_FP_MODIFY ? 0 : DP_FLOW_EXCL,
                            &reply, &err);
        if (error >= 0 && put->stats) {
            if (error == 1) {
                stats_from_dp(put->stats, &reply.stats);
            } else {
                memset(put->stats, 0, sizeof *put->stats);
            }
        }
    } else {
        /* OVS_FLOW_CMD_SET, with OVS_FLOW_ATTR_CLEAR unless a second SET
         * does the zeroing; its reply has the statistics from before. */
        op = DPIF_EV_SET;
        req.clear = (put->flags & DPIF_FP_ZERO_STATS)
                    && !put_clears_after(put);
        error = dp_flow_set(ldp->dp, &req, &reply, &err);
        if (!error && put->stats) {
            stats_from_dp(put->stats, &reply.stats);
        }
    }
    if (error >= 0 && monitored) {
        ev = flow_event(ldp, op, &reply);
    }
    change_exit(ldp, &c, monitored && error >= 0, ev);
    return dpif_local_pass_error(&err, error < 0 ? error : 0);
}

/* The second SET of put 'put' (put_clears_after()), once the put has
 * worked: zeroes the statistics.  Its outcome is not the put's: a flow
 * deleted in between has nothing left to zero. */
static void
local_flow_clear(struct local_dp *ldp, const struct dpif_flow_put *put)
{
    struct dp_flow_req req = { .clear = true };
    struct dpif_local_event *ev = NULL;
    struct dp_flow_info reply;
    struct flow_key key;
    struct local_call c;
    bool monitored;
    struct ufid u;
    int error;

    /* Named as the put was: it decoded. */
    if (req_name(&req, put->ufid, &u, put->key, put->key_len, &key)
        || dpif_local_enter(ldp, false, &c)) {
        return;
    }
    monitored = dpif_local_monitored();
    error = dp_flow_set(ldp->dp, &req, &reply, NULL);
    if (!error && monitored) {
        ev = flow_event(ldp, DPIF_EV_SET, &reply);
    }
    change_exit(ldp, &c, monitored && !error, ev);
}

static int
local_flow_del(struct local_dp *ldp, const struct dpif_flow_del *del)
{
    struct dp_flow_req req = { .ufid_flags = LOCAL_OMIT_ALL };
    struct dpif_local_event *ev = NULL;
    struct dp_flow_info reply;
    struct flow_key key;
    struct local_call c;
    struct errbuf err;
    bool monitored;
    struct ufid u;
    int error;

    errbuf_clear(&err);
    error = req_name(&req, del->ufid, &u, del->key, del->key_len, &key);
    if (!error) {
        error = dpif_local_enter(ldp, false, &c);
    }
    if (error) {
        return error;
    }
    monitored = dpif_local_monitored();
    if (monitored) {
        req.ufid_flags = event_ufid_flags(del->ufid, del->terse);
    }
    error = dp_flow_del(ldp->dp, &req, &reply, &err);
    if (!error && monitored) {
        ev = flow_event(ldp, DPIF_EV_DEL, &reply);
    }
    change_exit(ldp, &c, monitored && !error, ev);
    if (!error && del->stats) {
        stats_from_dp(del->stats, &reply.stats);
    }
    return dpif_local_pass_error(&err, error);
}

static int
local_flow_get(struct local_dp *ldp, const struct dpif_flow_get *get)
{
    struct dp_flow_req req = { .ufid_flags = 0 };
    struct dp_flow_info reply;
    struct flow_key key;
    struct local_call c;
    struct errbuf err;
    int64_t offsets[3];
    size_t ofs = 0;
    struct ufid u;
    int error;

    errbuf_clear(&err);
    error = req_name(&req, get->ufid, &u, get->key, get->key_len, &key);
    if (!error) {
        error = dpif_local_enter(ldp, false, &c);
    }
    if (error) {
        return error;
    }
    error = dp_flow_get(ldp->dp, &req, &reply, &err);
    if (!error) {
        error = flow_write(&reply, get->buf, get->buf_size, &ofs, get->flow,
                           offsets);
        if (error) {
            memset(get->flow, 0, sizeof *get->flow);
            dpif_set_error("flow does not fit in a %zu-byte buffer",
                           get->buf_size);
        } else {
            flow_rebase(get->flow, get->buf, offsets);
        }
    }
    dpif_local_exit(ldp, &c);
    return dpif_local_pass_error(&err, error);
}

/* Takes a dp_thread from the execute pool, making one if there are
 * fewer than LOCAL_EXEC_MAX, else waiting for one.
 * Context: offline, under the read lock. */
static struct dp_thread *
exec_get(struct local_dp *ldp)
{
    const struct dp_thread_config cfg = { .emc = false };
    struct dp_thread *thr = NULL;

    wmutex_lock(&ldp->exec_mutex);
    for (;;) {
        if (ldp->n_exec_free) {
            thr = ldp->exec_free[--ldp->n_exec_free];
            break;
        }
        if (ldp->n_exec < LOCAL_EXEC_MAX) {
            thr = dp_thread_create(ldp->dp, &cfg);
            if (thr) {
                ldp->n_exec++;
                break;
            }
            if (!ldp->n_exec) {
                /* No slot free and none of ours to wait for. */
                break;
            }
        }
        pthread_cond_wait(&ldp->exec_cond, &ldp->exec_mutex.m);
    }
    wmutex_unlock(&ldp->exec_mutex);
    return thr;
}

static void
exec_put(struct local_dp *ldp, struct dp_thread *thr)
{
    wmutex_lock(&ldp->exec_mutex);
    ldp->exec_free[ldp->n_exec_free++] = thr;
    pthread_cond_signal(&ldp->exec_cond);
    wmutex_unlock(&ldp->exec_mutex);
}

void
dpif_local_exec_pool_destroy(struct local_dp *ldp)
{
    wmutex_lock(&ldp->exec_mutex);
    for (unsigned int i = 0; i < ldp->n_exec_free; i++) {
        dp_thread_destroy(ldp->exec_free[i]);
    }
    ldp->n_exec_free = 0;
    ldp->n_exec = 0;
    wmutex_unlock(&ldp->exec_mutex);
}

static int
local_execute(struct local_dp *ldp, const struct dpif_execute *exec)
{
    struct dp_thread *thr;
    struct packet *pkt;
    struct local_call c;
    struct errbuf err;
    int error;

    errbuf_clear(&err);
    /* dpif.c refuses an MRU for both providers. */
    pkt = packet_create(exec->packet, exec->packet_len);
    if (!pkt) {
        dpif_set_error("out of memory");
        return -ENOMEM;
    }
    pkt->md.in_port = exec->in_port == DPIF_PORT_ANY ? FKEY_IN_PORT_NONE
                                                     : exec->in_port;
    pkt->md.priority = exec->priority;
    pkt->md.skb_mark = exec->mark;
    pkt->md.recirc_id = exec->recirc_id;
    pkt->md.dp_hash = exec->dp_hash;

    error = dpif_local_lock(ldp, false, &c);
    if (error) {
        packet_free(pkt);
        return error;
    }
    thr = exec_get(ldp);
    if (!thr) {
        dpif_local_unlock(ldp, &c);
        packet_free(pkt);
        dpif_set_error("execute: no packet thread slot free in datapath "
                       "%s", ldp->name);
        return -ENOMEM;
    }
    dpif_local_call_online(&c);
    error = dp_execute(thr, pkt, exec->actions ? exec->actions : "",
                       exec->actions_len, &err);
    qsbr_offline();
    exec_put(ldp, thr);
    dpif_local_unlock(ldp, &c);
    return dpif_local_pass_error(&err, error);
}

void
dpif_local_operate(struct dpif *dpif, struct dpif_op **ops, size_t n)
{
    struct local_dp *ldp = ldp_of(dpif);

    for (size_t i = 0; i < n; i++) {
        struct dpif_op *op = ops[i];

        switch (op->type) {
        case DPIF_OP_FLOW_PUT:
            op->error = local_flow_put(ldp, &op->u.flow_put);
            break;
        case DPIF_OP_FLOW_DEL:
            op->error = local_flow_del(ldp, &op->u.flow_del);
            break;
        case DPIF_OP_FLOW_GET:
            op->error = local_flow_get(ldp, &op->u.flow_get);
            break;
        case DPIF_OP_EXECUTE:
            op->error = local_execute(ldp, &op->u.execute);
            break;
        default:
            dpif_set_error("unknown operation type %d", (int) op->type);
            op->error = -EINVAL;
            break;
        }
    }
    /* The zeroing after the puts that need it, after the whole batch as
     * the netlink provider sends them after their datagram. */
    for (size_t i = 0; i < n; i++) {
        if (ops[i]->type == DPIF_OP_FLOW_PUT && !ops[i]->error
            && put_clears_after(&ops[i]->u.flow_put)) {
            local_flow_clear(ldp, &ops[i]->u.flow_put);
        }
    }
}

int
dpif_local_flow_flush(struct dpif *dpif)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;
    int error = dpif_local_enter(ldp, false, &c);

    /* No events: the kernel (and weird) notify nothing for a flush. */
    if (!error) {
        dp_flow_flush(ldp->dp);
        dpif_local_exit(ldp, &c);
    }
    return error;
}

/* ---- Flow dumps. ---- */

struct local_dump {
    struct dpif_flow_dump up;
    struct local_dp *ldp;
    struct dp_flow_dump *dd;
    bool terse;
    _Atomic int error;              /* -ENODEV if the datapath went. */
};

struct local_dump_thread {
    struct dpif_flow_dump_thread up;
    struct local_dump *dump;
    struct dp_flow_info *infos;     /* [LOCAL_DUMP_BATCH] */
    char *buf;                      /* The bytes of the last flows. */
    size_t size;
};

int
dpif_local_flow_dump_create(const struct dpif *dpif, bool terse,
                            struct dpif_flow_dump **dumpp)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_dump *dump = calloc(1, sizeof *dump);
    struct local_call c;
    int error;

    if (!dump) {
        dpif_set_error("out of memory");
        return -ENOMEM;
    }
    error = dpif_local_enter(ldp, false, &c);
    if (error) {
        free(dump);
        return error;
    }
    dump->dd = dp_flow_dump_create(ldp->dp, terse ? LOCAL_OMIT_ALL : 0);
    dpif_local_exit(ldp, &c);
    if (!dump->dd) {
        free(dump);
        dpif_set_error("out of memory");
        return -ENOMEM;
    }
    dump->ldp = ldp;
    dump->terse = terse;
    atomic_init(&dump->error, 0);
    *dumpp = &dump->up;
    return 0;
}

int
dpif_local_flow_dump_destroy(struct dpif_flow_dump *dump_)
{
    struct local_dump *dump = (struct local_dump *) dump_;
    int error = atomic_load(&dump->error);

    /* Frees the cursor only: safe after the datapath is gone. */
    dp_flow_dump_destroy(dump->dd);
    free(dump);
    if (error) {
        dpif_set_error("the datapath was deleted during the dump");
    }
    return error;
}

struct dpif_flow_dump_thread *
dpif_local_flow_dump_thread_create(struct dpif_flow_dump *dump_)
{
    struct local_dump_thread *t = calloc(1, sizeof *t);

    if (t) {
        t->infos = calloc(LOCAL_DUMP_BATCH, sizeof *t->infos);
        if (!t->infos) {
            free(t);
            t = NULL;
        }
    }
    if (!t) {
        dpif_set_error("out of memory");
        return NULL;
    }
    t->dump = (struct local_dump *) dump_;
    return &t->up;
}

void
dpif_local_flow_dump_thread_destroy(struct dpif_flow_dump_thread *thread)
{
    struct local_dump_thread *t = (struct local_dump_thread *) thread;

    free(t->infos);
    free(t->buf);
    free(t);
}

/* Makes 't->buf' hold at least 'size' bytes.  Returns 0 or -ENOMEM. */
static int
dump_buf_reserve(struct local_dump_thread *t, size_t size)
{
    char *p;

    if (size <= t->size) {
        return 0;
    }
    p = realloc(t->buf, size);
    if (!p) {
        return -ENOMEM;
    }
    t->buf = p;
    t->size = size;
    return 0;
}

int
dpif_local_flow_dump_next(struct dpif_flow_dump_thread *thread,
                          struct dpif_flow *flows, int max)
{
    struct local_dump_thread *t = (struct local_dump_thread *) thread;
    struct local_dump *dump = t->dump;
    struct local_dp *ldp = dump->ldp;
    int64_t (*offsets)[3];
    struct local_call c;
    size_t n, need = 0, ofs = 0;
    int error = 0;

    if (atomic_load(&dump->error)) {
        return 0;
    }
    offsets = malloc(LOCAL_DUMP_BATCH * sizeof *offsets);
    if (!offsets) {
        atomic_store(&dump->error, -ENOMEM);
        return 0;
    }
    if (dpif_local_enter(ldp, false, &c)) {
        atomic_store(&dump->error, -ENODEV);
        free(offsets);
        return 0;
    }
    n = dp_flow_dump_next(dump->dd, t->infos,
                          max < LOCAL_DUMP_BATCH ? (size_t) max
                                                 : LOCAL_DUMP_BATCH);
    for (size_t i = 0; i < n; i++) {
        struct dp_flow_info *info = &t->infos[i];

        if (dump->terse && !info->has_ufid) {
            /* A flow without UFID is named by its key alone: a terse
             * dump still gives it whole (mask and actions too), fetched
             * again by that key.  If it went meanwhile, the key is all
             * there is. */
            struct dp_flow_req req = { .key = &info->key };
            struct dp_flow_info full;

            if (!dp_flow_get(ldp->dp, &req, &full, NULL)) {
                *info = full;
            }
        }
        need += flow_size(info);
    }
    if (dump_buf_reserve(t, need)) {
        error = -ENOMEM;
    }
    for (size_t i = 0; !error && i < n; i++) {
        error = flow_write(&t->infos[i], t->buf, t->size, &ofs, &flows[i],
                           offsets[i]);
    }
    dpif_local_exit(ldp, &c);
    if (error) {
        atomic_store(&dump->error, error);
        free(offsets);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        flow_rebase(&flows[i], t->buf, offsets[i]);
    }
    free(offsets);
    return (int) n;
}
