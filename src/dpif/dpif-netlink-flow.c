/* SPDX-License-Identifier: Apache-2.0 */
/* dpif provider "netlink": flows.  Puts, deletes, gets and executes as
 * OVS_FLOW_CMD_* and OVS_PACKET_CMD_EXECUTE requests, batched into as few
 * datagrams as hold them; flushes; flow dumps on sockets of their own.
 * The design is in dpif-netlink.c's essay. */

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/openvswitch.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "codec/nl-attr.h"
#include "dpif/dpif-netlink-private.h"
#include "weir/control.h"

#define DPN_DUMP_RCVBUF (4u << 20)      /* WEIR_SOCK_RCVBUF of dumps. */
#define DPN_SMALL_MSG 2048              /* A lone small request is built on
                                         * the stack. */

/* Starts a request of an OVS family for the dpif's datapath. */
static struct nlmsghdr *
dpn_msg(const struct dpn *d, void *buf, size_t size, uint16_t family,
        uint8_t cmd, uint8_t version, uint16_t flags)
{
    return dpif_netlink_msg(d->dp_ifindex, buf, size, family, cmd, version,
                            flags);
}

/* ---- Flows. ---- */

int
dpif_netlink_parse_flow(const struct nlmsghdr *nlh, uint16_t family,
                        uint8_t *cmdp, uint32_t *dp_ifindexp,
                        struct dpif_flow *flow)
{
    const struct nlattr *tb[OVS_FLOW_ATTR_MAX + 1];
    const struct nlattr *a;
    uint32_t dp_ifindex;
    uint8_t cmd;
    int r;

    r = dpif_netlink_parse_ovs(nlh, family, &cmd, &dp_ifindex, tb,
                               OVS_FLOW_ATTR_MAX);
    if (r) {
        return r;
    }
    if (cmdp) {
        *cmdp = cmd;
    }
    if (dp_ifindexp) {
        *dp_ifindexp = dp_ifindex;
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

        if (!dpif_netlink_get_u64(a, &used, "OVS_FLOW_ATTR_USED")) {
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
    int r = dpif_netlink_parse_flow(nlh, ctx->d->fam.flow, NULL, NULL,
                                    &flow);

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
    int r = dpif_netlink_parse_flow(nlh, ctx->d->fam.flow, NULL, NULL,
                                    &flow);

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
        key = ok ? dpif_netlink_nest_start(nlh, size, OVS_PACKET_ATTR_KEY)
                 : NULL;
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

void
dpif_netlink_operate(struct dpif *dpif, struct dpif_op **ops, size_t n)
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

int
dpif_netlink_flow_flush(struct dpif *dpif)
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
    /* To the weird the dpif was opened on, whatever the control path is
     * now. */
    r = nlc_open_path(nlc_path(d->sock), sockp);
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

int
dpif_netlink_flow_dump_create(const struct dpif *dpif, bool terse,
                              struct dpif_flow_dump **dumpp)
{
    struct dpn *d = dpn_cast(dpif);
    uint64_t buf[DPN_MSG_OVERHEAD / 8];
    struct dpn_flow_dump *dump;
    struct nlmsghdr *nlh;
    int r;

    dump = calloc(1, sizeof *dump);
    if (!dump) {
        dpif_set_error("out of memory");
        return -ENOMEM;
    }
    dump->d = d;
    atomic_init(&dump->parse_error, 0);
    r = dpn_dump_sock_get(d, &dump->sock);
    if (r) {
        free(dump);
        return r;
    }
    nlh = dpn_msg(d, buf, sizeof buf, d->fam.flow, OVS_FLOW_CMD_GET,
                  OVS_FLOW_VERSION, 0);
    if (terse) {
        /* DPN_MSG_OVERHEAD leaves room for this. */
        mnl_attr_put_u32_check(nlh, sizeof buf, OVS_FLOW_ATTR_UFID_FLAGS,
                               DPN_UFID_TERSE);
    }
    r = nlc_dump_start(dump->sock, nlh, &dump->nd);
    if (r) {
        nlc_close(dump->sock);
        free(dump);
        return r;
    }
    *dumpp = &dump->up;
    return 0;
}

int
dpif_netlink_flow_dump_destroy(struct dpif_flow_dump *dump_)
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

struct dpif_flow_dump_thread *
dpif_netlink_flow_dump_thread_create(struct dpif_flow_dump *dump)
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

void
dpif_netlink_flow_dump_thread_destroy(struct dpif_flow_dump_thread *thread)
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
    dpif_netlink_operate(&d->up, &opp, 1);
    if (!op.error) {
        *flow = got;
    }
    return op.error;
}

int
dpif_netlink_flow_dump_next(struct dpif_flow_dump_thread *thread,
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
            r = dpif_netlink_parse_flow(nlh, dump->d->fam.flow, NULL, NULL,
                                        &flows[n]);

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
