/* SPDX-License-Identifier: Apache-2.0 */

/* The ovs_datapath family: OVS_DP_CMD_NEW, _DEL, _GET (and its dump) and
 * _SET, answered as net/openvswitch/datapath.c answers them.
 *
 * Every reply is the kernel's ovs_dp_cmd_fill_info(): the ovs_header
 * carries the datapath's ifindex, then NAME, STATS (struct ovs_dp_stats),
 * MEGAFLOW_STATS (struct ovs_dp_megaflow_stats), USER_FEATURES,
 * MASKS_CACHE_SIZE and, while upcalls are dispatched per CPU and PIDs were
 * given, PER_CPU_PIDS (all of them: the kernel cuts the array to its
 * number of possible CPUs, weir keeps what it was given, up to
 * DP_UPCALL_PIDS_MAX).  No kernel puts OVS_DP_ATTR_IFINDEX in a reply: it
 * is a request attribute of OVS_DP_CMD_NEW, the ifindex wanted for the
 * local port (6.1 added it).  weird takes 0 ("any") and refuses another
 * value with -EOPNOTSUPP: a TAP device's ifindex is the kernel's choice.
 *
 * The two 64-bit statistics go through genl_put_64bit(), padded with
 * OVS_DP_ATTR_PAD where the kernel pads (never on x86-64 or arm64).
 *
 * Checks the kernel makes in its attribute policy that the core's policy
 * kinds cannot express (ranges) are made by genl_dp_check_policy() before
 * anything else, with the kernel's errno and extack text.
 *
 * What weird does not do and refuses as a kernel built without it would:
 * OVS_DP_F_TC_RECIRC_SHARING (-EOPNOTSUPP, as without
 * CONFIG_NET_TC_SKB_EXT).  The masks cache size is checked and reported
 * like the kernel's but sizes nothing: weir's datapath has no mask cache
 * (its exact-match cache is sized by itself). */

#include <errno.h>
#include <inttypes.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp/dp.h"
#include "genl/genl-private.h"
#include "lib/errbuf.h"
#include "lib/log.h"

/* The kernel's policy bound on OVS_DP_ATTR_MASKS_CACHE_SIZE:
 * PCPU_MIN_UNIT_SIZE (32 KiB) over the 8-byte struct mask_cache_entry. */
#define GENL_DP_MASKS_CACHE_MAX 4096u

/* User features weird accepts: what ovs_dp_change() accepts, less
 * OVS_DP_F_TC_RECIRC_SHARING (no TC offload here). */
#define GENL_DP_FEATURES (OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS \
                          | OVS_DP_F_DISPATCH_UPCALL_PER_CPU)

static const struct genl_policy genl_dp_policy[OVS_DP_ATTR_MAX + 1] = {
    [OVS_DP_ATTR_NAME] = { GENL_ATTR_STRING, IFNAMSIZ },
    [OVS_DP_ATTR_UPCALL_PID] = { GENL_ATTR_U32, 0 },
    [OVS_DP_ATTR_USER_FEATURES] = { GENL_ATTR_U32, 0 },
    [OVS_DP_ATTR_MASKS_CACHE_SIZE] = { GENL_ATTR_U32, 0 },
    [OVS_DP_ATTR_IFINDEX] = { GENL_ATTR_U32, 0 },
};

/* ---- Replies. ---- */

/* Appends the kernel's ovs_dp_cmd_fill_info() message for 'gdp' to 'mb'.
 * Returns 0, or -EMSGSIZE ('mb' unchanged). */
static int
genl_dp_fill(struct genl_msgbuf *mb, const struct genl_dp *gdp,
             uint8_t cmd, uint32_t portid, uint32_t seq, uint16_t flags)
{
    uint32_t pids[DP_UPCALL_PIDS_MAX];
    struct ovs_dp_megaflow_stats mf;
    struct ovs_dp_stats st;
    struct nlmsghdr *nlh;
    struct dp_stats s;
    uint32_t features;
    size_t n_pids = 0;

    nlh = genl_msg_start(mb, &genl_dp_family, cmd, portid, seq, flags,
                         gdp->ifindex);
    if (!nlh) {
        return -EMSGSIZE;
    }

    dp_get_stats(gdp->dp, &s);
    memset(&st, 0, sizeof st);
    st.n_hit = s.n_hit;
    st.n_missed = s.n_missed;
    st.n_lost = s.n_lost;
    st.n_flows = s.n_flows;
    memset(&mf, 0, sizeof mf);
    mf.n_mask_hit = s.n_mask_hit;
    mf.n_masks = s.n_masks;
    mf.n_cache_hit = s.n_cache_hit;

    features = dp_get_user_features(gdp->dp);
    if (features & OVS_DP_F_DISPATCH_UPCALL_PER_CPU) {
        n_pids = dp_get_upcall_pids_per_cpu(gdp->dp, pids,
                                            DP_UPCALL_PIDS_MAX);
        if (n_pids > DP_UPCALL_PIDS_MAX) {
            n_pids = DP_UPCALL_PIDS_MAX;
        }
    }

    if (!mnl_attr_put_strz_check(nlh, genl_msg_room(mb, nlh),
                                 OVS_DP_ATTR_NAME, gdp->name)
        || !genl_put_64bit(nlh, genl_msg_room(mb, nlh), OVS_DP_ATTR_STATS,
                           sizeof st, &st, OVS_DP_ATTR_PAD)
        || !genl_put_64bit(nlh, genl_msg_room(mb, nlh),
                           OVS_DP_ATTR_MEGAFLOW_STATS, sizeof mf, &mf,
                           OVS_DP_ATTR_PAD)
        || !mnl_attr_put_u32_check(nlh, genl_msg_room(mb, nlh),
                                   OVS_DP_ATTR_USER_FEATURES, features)
        || !mnl_attr_put_u32_check(nlh, genl_msg_room(mb, nlh),
                                   OVS_DP_ATTR_MASKS_CACHE_SIZE,
                                   gdp->masks_cache_size)
        || (n_pids
            && !mnl_attr_put_check(nlh, genl_msg_room(mb, nlh),
                                   OVS_DP_ATTR_PER_CPU_PIDS,
                                   n_pids * sizeof pids[0], pids))) {
        genl_msg_cancel(mb, nlh);
        return -EMSGSIZE;
    }
    genl_msg_end(mb, nlh);
    return 0;
}

/* Builds the reply to 'req' about 'gdp' with command 'cmd' into 'mb',
 * which it initializes.  Returns 0 (the caller then sends and uninits
 * 'mb'), or -ENOMEM / -EMSGSIZE ('mb' left uninitialized). */
static int
genl_dp_reply(struct genl_req *req, const struct genl_dp *gdp, uint8_t cmd,
              struct genl_msgbuf *mb)
{
    int error = genl_msgbuf_init(mb, GENL_REPLY_SIZE);

    if (error) {
        return error;
    }
    error = genl_dp_fill(mb, gdp, cmd, genl_conn_pid(req->conn),
                         req->nlh->nlmsg_seq, 0);
    if (error) {
        errbuf_set(req->err, "datapath reply does not fit in %d bytes",
                   GENL_REPLY_SIZE);
        genl_msgbuf_uninit(mb);
    }
    return error;
}

/* ---- Requests. ---- */

/* The range checks of the kernel's datapath_policy, made before the
 * command runs as the kernel's attribute validation does.
 * Returns 0 or -ERANGE. */
static int
genl_dp_check_policy(struct genl_req *req)
{
    const struct nlattr *a;

    a = req->tb[OVS_DP_ATTR_MASKS_CACHE_SIZE];
    if (a && mnl_attr_get_u32(a) > GENL_DP_MASKS_CACHE_MAX) {
        errbuf_set(req->err, "integer out of range");
        req->bad_attr = a;
        return -ERANGE;
    }
    /* The kernel's policy (since 6.2) is NLA_POLICY_MIN(NLA_S32, 0). */
    a = req->tb[OVS_DP_ATTR_IFINDEX];
    if (a && mnl_attr_get_u32(a) > INT32_MAX) {
        errbuf_set(req->err, "integer out of range");
        req->bad_attr = a;
        return -ERANGE;
    }
    return 0;
}

/* The kernel's lookup_datapath(): by OVS_DP_ATTR_NAME when present, else
 * by the ovs_header's dp_ifindex.  Returns the datapath, or NULL with the
 * reason in 'req' (the caller returns -ENODEV). */
static struct genl_dp *
genl_dp_lookup(struct genl_req *req)
{
    const struct nlattr *name = req->tb[OVS_DP_ATTR_NAME];
    struct genl_dp *gdp;

    if (name) {
        gdp = genl_dp_by_name(req->srv, mnl_attr_get_str(name));
        if (!gdp) {
            errbuf_set(req->err, "no datapath named '%s'",
                       mnl_attr_get_str(name));
        }
    } else {
        gdp = genl_dp_by_ifindex(req->srv, req->dp_ifindex);
        if (!gdp) {
            errbuf_set(req->err, "no datapath with ifindex %" PRIu32,
                       req->dp_ifindex);
        }
    }
    return gdp;
}

/* The start of DEL, GET and SET: the policy's range checks, then the
 * datapath the request names.  Returns 0 with '*gdpp', -ERANGE or -ENODEV
 * (the reason in 'req'). */
static int
genl_dp_find(struct genl_req *req, struct genl_dp **gdpp)
{
    int error = genl_dp_check_policy(req);

    if (error) {
        return error;
    }
    *gdpp = genl_dp_lookup(req);
    return *gdpp ? 0 : -ENODEV;
}

/* What ovs_dp_change() would change, checked before anything is. */
struct genl_dp_change {
    uint32_t features;          /* 0 when the attribute is absent, as in
                                 * the kernel: SET without it clears
                                 * them. */
    bool has_cache_size;
    uint32_t cache_size;
    size_t n_cpu_pids;          /* 0: leave the per-CPU PIDs alone. */
    uint32_t cpu_pids[DP_UPCALL_PIDS_MAX];
};

/* Checks the attributes of a NEW or SET as ovs_dp_change() does, into
 * 'ch'.  Returns 0; -EOPNOTSUPP (unknown or unsupported user features);
 * -EINVAL (a masks cache size that is not 0 or a power of 2; a per-CPU
 * PID array that is empty, not made of u32s, or longer than weir's
 * DP_UPCALL_PIDS_MAX). */
static int
genl_dp_change_parse(struct genl_req *req, uint32_t cur_cache_size,
                     struct genl_dp_change *ch)
{
    const struct nlattr *a;

    ch->features = 0;
    ch->has_cache_size = false;
    ch->cache_size = 0;
    ch->n_cpu_pids = 0;

    a = req->tb[OVS_DP_ATTR_USER_FEATURES];
    if (a) {
        uint32_t f = mnl_attr_get_u32(a);

        if (f & ~(GENL_DP_FEATURES | OVS_DP_F_TC_RECIRC_SHARING)) {
            errbuf_set(req->err, "unknown user features 0x%" PRIx32,
                       f & ~(GENL_DP_FEATURES | OVS_DP_F_TC_RECIRC_SHARING));
            req->bad_attr = a;
            return -EOPNOTSUPP;
        }
        if (f & OVS_DP_F_TC_RECIRC_SHARING) {
            errbuf_set(req->err, "user feature tc-recirc-sharing "
                       "(0x%x) is not supported: weird has no TC "
                       "offload", OVS_DP_F_TC_RECIRC_SHARING);
            req->bad_attr = a;
            return -EOPNOTSUPP;
        }
        ch->features = f;
    }

    a = req->tb[OVS_DP_ATTR_MASKS_CACHE_SIZE];
    if (a) {
        uint32_t size = mnl_attr_get_u32(a);

        /* The kernel accepts the current size without checking it. */
        if (size != cur_cache_size && size & (size - 1)) {
            errbuf_set(req->err, "masks cache size %" PRIu32 " is not 0 "
                       "or a power of 2", size);
            req->bad_attr = a;
            return -EINVAL;
        }
        ch->has_cache_size = true;
        ch->cache_size = size;
    }

    a = req->tb[OVS_DP_ATTR_PER_CPU_PIDS];
    if (a && ch->features & OVS_DP_F_DISPATCH_UPCALL_PER_CPU) {
        size_t len = mnl_attr_get_payload_len(a);

        if (len == 0 || len % sizeof(uint32_t)) {
            errbuf_set(req->err, "per-CPU upcall PIDs: %zu bytes is not "
                       "a non-empty array of u32", len);
            req->bad_attr = a;
            return -EINVAL;
        }
        if (len / sizeof(uint32_t) > DP_UPCALL_PIDS_MAX) {
            errbuf_set(req->err, "%zu per-CPU upcall PIDs: weird takes "
                       "at most %d", len / sizeof(uint32_t),
                       DP_UPCALL_PIDS_MAX);
            req->bad_attr = a;
            return -EINVAL;
        }
        ch->n_cpu_pids = len / sizeof(uint32_t);
        /* Copied: the request may sit anywhere in the caller's buffer. */
        memcpy(ch->cpu_pids, mnl_attr_get_payload(a), len);
    }
    return 0;
}

/* Applies a checked change to 'gdp' ('features' already set when
 * 'set_features').  Returns 0 or -errno (memory). */
static int
genl_dp_change_apply(struct genl_req *req, struct genl_dp *gdp,
                     const struct genl_dp_change *ch, bool set_features)
{
    int error;

    if (ch->has_cache_size) {
        gdp->masks_cache_size = ch->cache_size;
    }
    if (set_features) {
        dp_set_user_features(gdp->dp, ch->features);
    }
    if (ch->n_cpu_pids) {
        error = dp_set_upcall_pids_per_cpu(gdp->dp, ch->cpu_pids,
                                           ch->n_cpu_pids);
        if (error) {
            errbuf_set(req->err, "cannot set %zu per-CPU upcall PIDs",
                       ch->n_cpu_pids);
            return error;
        }
    }
    return 0;
}

/* Sends the reply in 'mb' as the kernel's ovs_notify() and frees it. */
static void
genl_dp_notify(struct genl_req *req, struct genl_msgbuf *mb)
{
    genl_notify(req, &genl_dp_family, mb);
    genl_msgbuf_uninit(mb);
}

/* Notifies command 'cmd' (NEW or SET) of 'gdp' as it is now, building the
 * message only when someone will read it.  Returns 0 or the reply's
 * error. */
static int
genl_dp_notify_now(struct genl_req *req, const struct genl_dp *gdp,
                   uint8_t cmd)
{
    struct genl_msgbuf mb;
    int error;

    if (!genl_must_notify(req, &genl_dp_family)) {
        return 0;
    }
    error = genl_dp_reply(req, gdp, cmd, &mb);
    if (!error) {
        genl_dp_notify(req, &mb);
    }
    return error;
}

static int
genl_dp_cmd_new(struct genl_req *req)
{
    const struct nlattr *name = req->tb[OVS_DP_ATTR_NAME];
    const struct nlattr *pid = req->tb[OVS_DP_ATTR_UPCALL_PID];
    const struct nlattr *ifindex = req->tb[OVS_DP_ATTR_IFINDEX];
    uint32_t local_pids[DP_UPCALL_PIDS_MAX];
    struct genl_dp_change ch;
    size_t n_local_pids;
    struct genl_dp *gdp;
    int error;

    error = genl_dp_check_policy(req);
    if (error) {
        return error;
    }
    if (!name || !pid) {
        errbuf_set(req->err, "a new datapath needs OVS_DP_ATTR_NAME and "
                   "OVS_DP_ATTR_UPCALL_PID");
        return -EINVAL;
    }

    /* The local port's upcall PIDs: the policy says u32, but the kernel
     * hands the attribute to the port as an array. */
    n_local_pids = mnl_attr_get_payload_len(pid) / sizeof(uint32_t);
    if (mnl_attr_get_payload_len(pid) % sizeof(uint32_t)
        || n_local_pids > DP_UPCALL_PIDS_MAX) {
        errbuf_set(req->err, "upcall PID: %" PRIu16 " bytes is not an "
                   "array of at most %d u32",
                   mnl_attr_get_payload_len(pid), DP_UPCALL_PIDS_MAX);
        req->bad_attr = pid;
        return -EINVAL;
    }
    memcpy(local_pids, mnl_attr_get_payload(pid),
           n_local_pids * sizeof(uint32_t));

    error = genl_dp_change_parse(req, UINT32_MAX, &ch);
    if (error) {
        return error;
    }

    /* The ifindex of a TAP device is the kernel's choice, and a dummy
     * local port's is made up by the server: weird cannot take one it is
     * told.  0 is "any", as in the kernel. */
    if (ifindex && mnl_attr_get_u32(ifindex)) {
        errbuf_set(req->err, "weird cannot give a datapath's local port "
                   "a chosen ifindex (%" PRIu32 ")",
                   mnl_attr_get_u32(ifindex));
        req->bad_attr = ifindex;
        return -EOPNOTSUPP;
    }

    error = genl_dp_create(req->srv, mnl_attr_get_str(name), ch.features,
                           local_pids[0], &gdp, req->err);
    if (error) {
        /* The kernel: a client too old to know user features that tries
         * to create an existing datapath will reuse it, so the features
         * a newer client announced are dropped. */
        if (error == -EEXIST && req->genl->version < OVS_DP_VER_FEATURES) {
            struct genl_dp *old = genl_dp_by_name(req->srv,
                                                  mnl_attr_get_str(name));

            if (old) {
                static struct wlog_rl rl = WLOG_RL_INIT(5, 60000);

                wlog_rl(&rl, "genl", WLOG_WARN, "%s: dropping previously "
                        "announced user features", old->name);
                dp_set_user_features(old->dp, 0);
                genl_changed(req->srv);
            }
        }
        return error;
    }

    error = genl_dp_change_apply(req, gdp, &ch, false);
    if (!error && n_local_pids > 1) {
        error = dp_port_set_upcall_pids(gdp->dp, DP_LOCAL_PORT, local_pids,
                                        n_local_pids);
        if (error) {
            errbuf_set(req->err, "cannot set the local port's %zu upcall "
                       "PIDs", n_local_pids);
        }
    }
    if (error) {
        genl_dp_destroy(req->srv, gdp);
        genl_changed(req->srv);
        return error;
    }

    genl_changed(req->srv);
    return genl_dp_notify_now(req, gdp, OVS_DP_CMD_NEW);
}

static int
genl_dp_cmd_del(struct genl_req *req)
{
    struct genl_msgbuf mb;
    struct genl_dp *gdp;
    bool notify;
    int error;

    error = genl_dp_find(req, &gdp);
    if (error) {
        return error;
    }

    /* The reply describes the datapath as it was. */
    notify = genl_must_notify(req, &genl_dp_family);
    if (notify) {
        error = genl_dp_reply(req, gdp, OVS_DP_CMD_DEL, &mb);
        if (error) {
            return error;
        }
    }
    genl_dp_destroy(req->srv, gdp);
    genl_changed(req->srv);
    if (notify) {
        genl_dp_notify(req, &mb);
    }
    return 0;
}

static int
genl_dp_cmd_set(struct genl_req *req)
{
    struct genl_dp_change ch;
    struct genl_dp *gdp;
    int error;

    error = genl_dp_find(req, &gdp);
    if (error) {
        return error;
    }
    error = genl_dp_change_parse(req, gdp->masks_cache_size, &ch);
    if (error) {
        return error;
    }
    error = genl_dp_change_apply(req, gdp, &ch, true);
    genl_changed(req->srv);
    if (error) {
        return error;
    }
    return genl_dp_notify_now(req, gdp, OVS_DP_CMD_SET);
}

static int
genl_dp_cmd_get(struct genl_req *req)
{
    struct genl_msgbuf mb;
    struct genl_dp *gdp;
    int error;

    error = genl_dp_find(req, &gdp);
    if (error) {
        return error;
    }
    error = genl_dp_reply(req, gdp, OVS_DP_CMD_GET, &mb);
    if (error) {
        return error;
    }
    genl_unicast(req->conn, &mb);
    genl_msgbuf_uninit(&mb);
    return 0;
}

/* Every datapath in creation order; st->args[0] is the index of the next
 * one, as the kernel's cb->args[0]. */
static int
genl_dp_cmd_dump(struct genl_req *req, struct genl_msgbuf *out,
                 struct genl_dump_state *st)
{
    uint32_t portid = genl_conn_pid(req->conn);
    bool added = false;

    for (;;) {
        const struct genl_dp *gdp = genl_dp_at(req->srv, st->args[0]);

        if (!gdp) {
            return 0;
        }
        if (genl_dp_fill(out, gdp, OVS_DP_CMD_GET, portid,
                         req->nlh->nlmsg_seq, NLM_F_MULTI)) {
            if (!added) {
                /* Cannot happen with GENL_DUMP_DGRAM_SIZE datagrams. */
                errbuf_set(req->err, "datapath %s does not fit in a dump "
                           "datagram", gdp->name);
                return -EMSGSIZE;
            }
            return 1;
        }
        added = true;
        st->args[0]++;
    }
}

static const struct genl_op genl_dp_ops[] = {
    { .cmd = OVS_DP_CMD_NEW, .admin = true, .doit = genl_dp_cmd_new },
    { .cmd = OVS_DP_CMD_DEL, .admin = true, .doit = genl_dp_cmd_del },
    { .cmd = OVS_DP_CMD_GET, .admin = false, .doit = genl_dp_cmd_get,
      .dumpit = genl_dp_cmd_dump },
    { .cmd = OVS_DP_CMD_SET, .admin = true, .doit = genl_dp_cmd_set },
};

const struct genl_family genl_dp_family = {
    .name = OVS_DATAPATH_FAMILY,
    .id = GENL_FAMILY_ID_DATAPATH,
    .version = OVS_DATAPATH_VERSION,
    .hdrsize = sizeof(struct ovs_header),
    .maxattr = OVS_DP_ATTR_MAX,
    .policy = genl_dp_policy,
    .ops = genl_dp_ops,
    .n_ops = sizeof genl_dp_ops / sizeof genl_dp_ops[0],
    .mcgrp_name = OVS_DATAPATH_MCGROUP,
    .mcgrp_id = GENL_MCGRP_ID_DATAPATH,
};
