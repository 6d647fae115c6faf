/* SPDX-License-Identifier: Apache-2.0 */
/* ovs_flow: the kernel module's flow family over the datapath's flow
 * operations (dp/dp.h).
 *
 * What
 * ====
 *
 * OVS_FLOW_CMD_NEW, _SET, _GET (and its dump) and _DEL, answered message
 * for message as net/openvswitch/datapath.c answers them: the same
 * checks in the same order (so a request with two faults gets the same
 * errno), the same replies and notifications, the same attributes in
 * them in the same order.  The flow semantics themselves (UFID or key as
 * the flow's name, modification versus -EEXIST, overlap) are the
 * datapath's (dp/dp.h essay, seed 000); this file translates.
 *
 * Design
 * ======
 *
 * Requests.  The policy refuses what the kernel's flow_policy refuses; the
 * one rule the core's policy kinds cannot say, "UFID at least one byte"
 * (NLA_UNSPEC with .len = 1, -ERANGE), is checked first thing by every
 * command.  A UFID longer than 16 bytes is not an error in the kernel:
 * ovs_nla_get_ufid() logs it and treats the request as one without UFID,
 * so a NEW with it makes a flow named by its key and a DEL with it and no
 * key flushes the table.  weird does the same (Open vSwitch never sends
 * such a UFID).  A key or mask is decoded with the codec (codec/fkey-nl.h);
 * anything but a perfect fit is refused with -EINVAL, as the kernel
 * refuses unknown and missing attributes (ovs_nla_get_match()), and, since
 * weird cannot match on them, tunnel, conntrack and NSH values.  Actions
 * are validated here against the masked key of the request, as the kernel
 * does before it looks at the datapath, then again by the datapath (which
 * also refuses actions this build does not run: -EOPNOTSUPP, or for a
 * feature probe -EINVAL as from a kernel that does not know the action:
 * flow_dp_error()).
 *
 * NEW with NLM_F_CREATE or NLM_F_EXCL may only create: the kernel takes
 * NLM_F_CREATE for "exclusive" because generic netlink reads NLM_F_EXCL
 * as half of NLM_F_DUMP, and Open vSwitch sends NLM_F_CREATE for
 * DPIF_FP_CREATE without DPIF_FP_MODIFY (DP_FLOW_EXCL).
 *
 * Replies.  A flow message is, in this order: the flow's identifier (UFID
 * if it has one, else KEY, its unmasked key), KEY again as the masked key
 * for a flow with UFID unless OVS_UFID_F_OMIT_KEY, MASK unless _OMIT_MASK,
 * USED, STATS and TCP_FLAGS when nonzero, ACTIONS unless _OMIT_ACTIONS.
 * Nests carry no NLA_F_NESTED flag (the kernel's nla_nest_start_noflag());
 * USED and STATS go through genl_put_64bit(), padded with
 * OVS_FLOW_ATTR_PAD where the kernel pads (never on x86-64 or arm64).
 * The mask is written in the shape of the masked key, as the kernel's
 * ovs_nla_put_mask() writes it with the flow's (masked) key.  NEW, SET and
 * DEL build a message only when someone will read it (genl_must_notify():
 * a group member or NLM_F_ECHO) and send it with genl_notify(); GET
 * replies to the requester; DEL without key and without UFID flushes and
 * says nothing but the ACK.  A message for any flow fits GENL_REPLY_SIZE
 * (static assertion below: the largest action list the datapath accepts
 * is ACT_MAX_LEN bytes).
 *
 * Dumps.  The cursor of dp_flow_dump_at() lives in st->args[0].  Each part
 * holds as many flows as fit the datagram; a flow that does not fit is
 * taken again by the next part.  As in the kernel, the actions of the
 * first flow of a part are left out if they alone do not fit (they never
 * do not, with GENL_DUMP_DGRAM_SIZE at 32 KiB and actions up to 32 KiB,
 * only nearly).  A part returns 1 while it put flows in and 0 when it
 * found none, as the kernel's dumpit returns skb->len: NLMSG_DONE then
 * comes in a datagram of its own, as the kernel sends it.
 *
 * Thread-safety
 * =============
 *
 * The server's thread, an RCU reader: action pointers in dp_flow_info stay
 * valid until its next quiescent state, after the message is built.
 *
 * Ownership
 * =========
 *
 * Request attributes are borrowed; reply buffers are made and freed here.
 */

#include <errno.h>
#include <libmnl/libmnl.h>
#include <string.h>

#include "codec/actions-nl.h"
#include "codec/fkey-nl.h"
#include "codec/nl-attr.h"
#include "codec/ufid.h"
#include "genl/genl-private.h"
#include "lib/errbuf.h"
#include "lib/log.h"
#include "packet/flow-key.h"

/* The longest flow message: headers, UFID, KEY twice (identifier and
 * masked key: a flow has one or the other as identifier, but budget
 * both), MASK, USED, STATS, TCP_FLAGS, ACTIONS. */
#define FLOW_MSG_MAX                                                     \
    (MNL_NLMSG_HDRLEN + GENL_HDRLEN + MNL_ALIGN(sizeof(struct ovs_header)) \
     + MNL_ATTR_HDRLEN + MNL_ALIGN(UFID_MAX_LEN)                          \
     + 3 * (MNL_ATTR_HDRLEN + FKEY_NL_MAX_LEN)                            \
     + MNL_ATTR_HDRLEN + 8                                                \
     + MNL_ATTR_HDRLEN + sizeof(struct ovs_flow_stats)                    \
     + MNL_ATTR_HDRLEN + 4                                                \
     + MNL_ATTR_HDRLEN + ACT_MAX_LEN)

_Static_assert(FLOW_MSG_MAX <= GENL_REPLY_SIZE,
               "a flow message must fit a doit reply");

static const struct genl_policy flow_policy[OVS_FLOW_ATTR_MAX + 1] = {
    [OVS_FLOW_ATTR_KEY] = { GENL_ATTR_NESTED, 0 },
    [OVS_FLOW_ATTR_MASK] = { GENL_ATTR_NESTED, 0 },
    [OVS_FLOW_ATTR_ACTIONS] = { GENL_ATTR_NESTED, 0 },
    [OVS_FLOW_ATTR_CLEAR] = { GENL_ATTR_FLAG, 0 },
    [OVS_FLOW_ATTR_PROBE] = { GENL_ATTR_FLAG, 0 },
    /* At least 1 byte: flow_check_policy(). */
    [OVS_FLOW_ATTR_UFID] = { GENL_ATTR_UNSPEC, 0 },
    [OVS_FLOW_ATTR_UFID_FLAGS] = { GENL_ATTR_U32, 0 },
};

/* What every flow request starts with. */
struct flow_args {
    struct ufid ufid;           /* Valid when 'has_ufid'. */
    bool has_ufid;
    uint32_t ufid_flags;        /* OVS_FLOW_ATTR_UFID_FLAGS, or 0. */
};

/* The header fields and shape of one flow message. */
struct flow_msg {
    uint8_t cmd;
    uint16_t flags;
    uint32_t portid;
    uint32_t seq;
    uint32_t dp_ifindex;
    uint32_t ufid_flags;
};

/* The flow_policy rule the core cannot check: an empty UFID is refused as
 * the kernel's NLA_UNSPEC .len = 1 refuses it.  Returns 0 or -ERANGE. */
static int
flow_check_policy(struct genl_req *req)
{
    const struct nlattr *a = req->tb[OVS_FLOW_ATTR_UFID];

    if (a && mnl_attr_get_payload_len(a) < 1) {
        errbuf_set(req->err, "Attribute failed policy validation");
        req->bad_attr = a;
        return -ERANGE;
    }
    return 0;
}

/* Reads the UFID (ovs_nla_get_ufid(): one over 16 bytes is ignored, with a
 * log line) and UFID flags of 'req'. */
static void
flow_get_args(struct genl_req *req, struct flow_args *args)
{
    static struct wlog_rl rl = WLOG_RL_INIT(5, 1000);
    const struct nlattr *a = req->tb[OVS_FLOW_ATTR_UFID];
    const struct nlattr *f = req->tb[OVS_FLOW_ATTR_UFID_FLAGS];

    memset(args, 0, sizeof *args);
    if (a) {
        size_t len = mnl_attr_get_payload_len(a);

        if (len <= UFID_MAX_LEN) {
            args->ufid.len = (uint8_t) len;
            memcpy(args->ufid.id, mnl_attr_get_payload(a), len);
            args->has_ufid = true;
        } else if (!req->probe) {
            wlog_rl(&rl, "genl", WLOG_INFO,
                    "ovs_flow: UFID of %zu bytes (at most %d) ignored",
                    len, UFID_MAX_LEN);
        }
    }
    if (f) {
        uint32_t flags;

        memcpy(&flags, mnl_attr_get_payload(f), sizeof flags);
        args->ufid_flags = flags;
    }
}

/* Starts a flow request: probe flag, policy, UFID and flags. */
static int
flow_start(struct genl_req *req, struct flow_args *args)
{
    int error;

    req->probe = req->tb[OVS_FLOW_ATTR_PROBE] != NULL;
    error = flow_check_policy(req);
    if (!error) {
        flow_get_args(req, args);
    }
    return error;
}

/* Refuses a key or mask that did not decode perfectly. */
static int
flow_bad_fit(struct genl_req *req, const struct nlattr *a, const char *what,
             enum fkey_fit fit)
{
    switch (fit) {
    case FKEY_FIT_ERROR:
        errbuf_prefix(req->err, "%s: ", what);
        break;
    case FKEY_FIT_TOO_MUCH:
        errbuf_set(req->err, "%s: attributes this datapath does not know "
                   "or cannot match on, or that the key does not call for",
                   what);
        break;
    case FKEY_FIT_TOO_LITTLE:
        errbuf_set(req->err, "%s: attributes that the key calls for are "
                   "missing", what);
        break;
    case FKEY_FIT_PERFECT:
    default:
        errbuf_set(req->err, "%s: %s", what, fkey_fit_to_string(fit));
        break;
    }
    req->bad_attr = a;
    return -EINVAL;
}

/* Decodes the request's key and, if 'mask' is nonnull, its mask (absent:
 * exact on the key's attributes), as the kernel's ovs_nla_get_match().
 * Returns 0 or -EINVAL. */
static int
flow_get_match(struct genl_req *req, struct flow_key *key,
               struct flow_mask *mask)
{
    const struct nlattr *ka = req->tb[OVS_FLOW_ATTR_KEY];
    const struct nlattr *ma = req->tb[OVS_FLOW_ATTR_MASK];
    enum fkey_fit fit;

    fit = fkey_from_nl(mnl_attr_get_payload(ka),
                       mnl_attr_get_payload_len(ka), key, req->err);
    if (fit != FKEY_FIT_PERFECT) {
        return flow_bad_fit(req, ka, "key", fit);
    }
    if (!mask) {
        return 0;
    }
    if (ma) {
        fit = fmask_from_nl(mnl_attr_get_payload(ma),
                            mnl_attr_get_payload_len(ma), key, mask,
                            req->err);
    } else {
        fit = fmask_from_nl(NULL, 0, key, mask, req->err);
    }
    if (fit != FKEY_FIT_PERFECT) {
        return flow_bad_fit(req, ma ? ma : req->tb[OVS_FLOW_ATTR_KEY],
                            "mask", fit);
    }
    return 0;
}

/* Checks the request's actions for a flow matching 'key' under 'mask', as
 * the kernel's ovs_nla_copy_actions() on the masked key. */
static int
flow_check_actions(struct genl_req *req, const struct flow_key *key,
                   const struct flow_mask *mask)
{
    const struct nlattr *a = req->tb[OVS_FLOW_ATTR_ACTIONS];
    struct flow_key masked;
    int error;

    fkey_mask_apply(&masked, key, mask);
    error = act_validate(mnl_attr_get_payload(a),
                         mnl_attr_get_payload_len(a), &masked, req->err);
    if (error) {
        errbuf_prefix(req->err, "actions: ");
        req->bad_attr = a;
    }
    return error;
}

/* The datapath the request names.  Returns it, or NULL with -ENODEV's
 * reason set. */
static struct genl_dp *
flow_dp(struct genl_req *req)
{
    struct genl_dp *gdp = genl_dp_by_ifindex(req->srv, req->dp_ifindex);

    if (!gdp) {
        errbuf_set(req->err, "no datapath with ifindex %u",
                   req->dp_ifindex);
    }
    return gdp;
}

/* The OVS_UFID_F_* flags to ask the datapath for: it fills the key only
 * without OMIT_KEY, but the mask is written in the shape of the key, so
 * the key is asked for whenever the mask is wanted. */
static uint32_t
flow_dp_flags(uint32_t ufid_flags)
{
    if (!(ufid_flags & OVS_UFID_F_OMIT_MASK)) {
        ufid_flags &= ~(uint32_t) OVS_UFID_F_OMIT_KEY;
    }
    return ufid_flags;
}

/* Opens nest 'type' without NLA_F_NESTED, as the kernel's
 * nla_nest_start_noflag() (libmnl sets the flag). */
static struct nlattr *
flow_nest_start(struct nlmsghdr *nlh, size_t room, uint16_t type)
{
    struct nlattr *nest = mnl_attr_nest_start_check(nlh, room, type);

    if (nest) {
        nest->nla_type = type;
    }
    return nest;
}

/* Appends nest 'type' holding the attributes of 'key' or, if 'mask' is
 * nonnull, of 'mask' in the shape of 'key'.  Returns true if it fit. */
static bool
flow_put_key(struct nlmsghdr *nlh, size_t room, uint16_t type,
             const struct flow_key *key, const struct flow_mask *mask)
{
    struct nlattr *nest = flow_nest_start(nlh, room, type);

    if (!nest) {
        return false;
    }
    if (mask ? fmask_to_nl(key, mask, nlh, room) : fkey_to_nl(key, nlh,
                                                                room)) {
        mnl_attr_nest_cancel(nlh, nest);
        return false;
    }
    mnl_attr_nest_end(nlh, nest);
    return true;
}

/* Appends USED, STATS and TCP_FLAGS, each only when nonzero, in the
 * kernel's order (ovs_flow_cmd_fill_stats()). */
static bool
flow_put_stats(struct nlmsghdr *nlh, size_t room,
               const struct dp_flow_stats *s)
{
    if (s->used_ms && !genl_put_64bit(nlh, room, OVS_FLOW_ATTR_USED,
                                      sizeof s->used_ms, &s->used_ms,
                                      OVS_FLOW_ATTR_PAD)) {
        return false;
    }
    if (s->n_packets) {
        struct ovs_flow_stats st = {
            .n_packets = s->n_packets,
            .n_bytes = s->n_bytes,
        };

        if (!genl_put_64bit(nlh, room, OVS_FLOW_ATTR_STATS, sizeof st, &st,
                            OVS_FLOW_ATTR_PAD)) {
            return false;
        }
    }
    if ((uint8_t) s->tcp_flags
        && !codec_attr_put(nlh, room, OVS_FLOW_ATTR_TCP_FLAGS, 1,
                           &(uint8_t) { (uint8_t) s->tcp_flags })) {
        return false;
    }
    return true;
}

/* Appends the message for flow 'info' to 'mb' (ovs_flow_cmd_fill_info()).
 * 'first' says that it is the first message of a dump part: its actions
 * are then left out if they alone do not fit.
 * Returns 0, or -EMSGSIZE with 'mb' unchanged. */
static int
flow_msg_put(struct genl_msgbuf *mb, const struct flow_msg *m,
             const struct dp_flow_info *info, bool first)
{
    struct nlmsghdr *nlh = genl_msg_start(mb, &genl_flow_family, m->cmd,
                                          m->portid, m->seq, m->flags,
                                          m->dp_ifindex);
    size_t room;

    if (!nlh) {
        return -EMSGSIZE;
    }
    room = genl_msg_room(mb, nlh);

    /* The identifier: the UFID, or the unmasked key. */
    if (info->has_ufid) {
        if (!codec_attr_put(nlh, room, OVS_FLOW_ATTR_UFID, info->ufid.len,
                            info->ufid.id)) {
            goto nospace;
        }
    } else if (!flow_put_key(nlh, room, OVS_FLOW_ATTR_KEY, &info->key,
                             NULL)) {
        goto nospace;
    }

    /* The masked key of a flow with UFID (dp fills it masked). */
    if (info->has_ufid && !(m->ufid_flags & OVS_UFID_F_OMIT_KEY)
        && !flow_put_key(nlh, room, OVS_FLOW_ATTR_KEY, &info->key, NULL)) {
        goto nospace;
    }

    if (info->has_mask) {
        struct flow_key masked;

        fkey_mask_apply(&masked, &info->key, &info->mask);
        if (!flow_put_key(nlh, room, OVS_FLOW_ATTR_MASK, &masked,
                          &info->mask)) {
            goto nospace;
        }
    }

    if (!flow_put_stats(nlh, room, &info->stats)) {
        goto nospace;
    }

    if (info->has_actions
        && !codec_attr_put(nlh, room, OVS_FLOW_ATTR_ACTIONS,
                           info->actions_len,
                           info->actions ? info->actions : "")
        && !first) {
        goto nospace;
    }

    genl_msg_end(mb, nlh);
    return 0;

nospace:
    genl_msg_cancel(mb, nlh);
    return -EMSGSIZE;
}

/* Header fields of a reply or notification to 'req'. */
static struct flow_msg
flow_reply_hdr(const struct genl_req *req, uint8_t cmd, uint32_t ufid_flags)
{
    return (struct flow_msg) {
        .cmd = cmd,
        .flags = 0,
        .portid = genl_conn_pid(req->conn),
        .seq = req->nlh->nlmsg_seq,
        .dp_ifindex = req->dp_ifindex,
        .ufid_flags = ufid_flags,
    };
}

/* Sends the notification of a change (NEW, SET, DEL) of flow 'info'. */
static void
flow_notify(struct genl_req *req, struct genl_msgbuf *mb, uint8_t cmd,
            uint32_t ufid_flags, const struct dp_flow_info *info)
{
    static struct wlog_rl rl = WLOG_RL_INIT(5, 1000);
    struct flow_msg m = flow_reply_hdr(req, cmd, ufid_flags);

    if (flow_msg_put(mb, &m, info, false)) {
        /* Cannot happen: FLOW_MSG_MAX fits.  The change is made; only
         * its notification is lost. */
        wlog_rl(&rl, "genl", WLOG_ERR,
                "ovs_flow: flow message does not fit %d bytes",
                GENL_REPLY_SIZE);
        return;
    }
    genl_notify(req, &genl_flow_family, mb);
}

/* The errno for an error the datapath reported: a request may be at
 * fault in its actions (-EOPNOTSUPP: an action this build does not run),
 * and the extack then points there.  A feature probe (OVS_FLOW_ATTR_PROBE)
 * gets -EINVAL for it instead, what the kernel answers for an action type
 * it does not know: Open vSwitch's dpif_probe_feature() takes -EINVAL as
 * "not supported" and any other errno as a fault, which it logs as a
 * warning.  Other requests keep weir's -EOPNOTSUPP, which says more (and
 * is what libweir promises). */
static int
flow_dp_error(struct genl_req *req, int error)
{
    if (error == -EOPNOTSUPP && req->tb[OVS_FLOW_ATTR_ACTIONS]) {
        req->bad_attr = req->tb[OVS_FLOW_ATTR_ACTIONS];
        if (req->probe) {
            return -EINVAL;
        }
    }
    return error;
}

/* The end of NEW and SET, once the request is checked: the reply buffer
 * when someone will read the notification (allocated first, as the
 * kernel's ovs_flow_cmd_alloc_info(), so that -ENOMEM changes nothing),
 * the datapath, the change ('excl' for NEW), the notification.  'dreq'
 * is complete but for its datapath flags; 'ufid_flags' are the request's.
 * Returns 0 or -errno. */
static int
flow_change(struct genl_req *req, uint8_t cmd, struct dp_flow_req *dreq,
            unsigned int excl, uint32_t ufid_flags)
{
    bool notify = genl_must_notify(req, &genl_flow_family);
    struct dp_flow_info info;
    struct genl_msgbuf mb;
    struct genl_dp *gdp;
    int error;

    if (notify && genl_msgbuf_init(&mb, GENL_REPLY_SIZE)) {
        errbuf_set(req->err, "out of memory for the reply");
        return -ENOMEM;
    }
    gdp = flow_dp(req);
    dreq->ufid_flags = flow_dp_flags(ufid_flags);
    if (!gdp) {
        error = -ENODEV;
    } else if (cmd == OVS_FLOW_CMD_NEW) {
        error = dp_flow_new(gdp->dp, dreq, excl, notify ? &info : NULL,
                            req->err);
    } else {
        error = dp_flow_set(gdp->dp, dreq, notify ? &info : NULL, req->err);
    }
    if (error < 0) {
        error = flow_dp_error(req, error);
    } else {
        error = 0;
        if (notify) {
            flow_notify(req, &mb, cmd, ufid_flags, &info);
        }
    }
    if (notify) {
        genl_msgbuf_uninit(&mb);
    }
    return error;
}

/* OVS_FLOW_CMD_NEW (ovs_flow_cmd_new()). */
static int
flow_cmd_new(struct genl_req *req)
{
    const struct nlattr *acts = req->tb[OVS_FLOW_ATTR_ACTIONS];
    struct flow_args args;
    struct flow_key key;
    struct flow_mask mask;
    struct dp_flow_req dreq;
    int error;

    error = flow_start(req, &args);
    if (error) {
        return error;
    }
    if (!req->tb[OVS_FLOW_ATTR_KEY]) {
        errbuf_set(req->err, "flow key attribute not present in new flow");
        return -EINVAL;
    }
    if (!acts) {
        errbuf_set(req->err,
                   "flow actions attribute not present in new flow");
        return -EINVAL;
    }
    error = flow_get_match(req, &key, &mask);
    if (!error) {
        error = flow_check_actions(req, &key, &mask);
    }
    if (error) {
        return error;
    }

    memset(&dreq, 0, sizeof dreq);
    dreq.key = &key;
    dreq.mask = req->tb[OVS_FLOW_ATTR_MASK] ? &mask : NULL;
    dreq.ufid = args.has_ufid ? &args.ufid : NULL;
    dreq.actions = mnl_attr_get_payload(acts);
    dreq.actions_len = mnl_attr_get_payload_len(acts);
    dreq.has_actions = true;
    return flow_change(req, OVS_FLOW_CMD_NEW, &dreq,
                       req->nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL)
                       ? DP_FLOW_EXCL : 0, args.ufid_flags);
}

/* OVS_FLOW_CMD_SET (ovs_flow_cmd_set()). */
static int
flow_cmd_set(struct genl_req *req)
{
    const struct nlattr *ka = req->tb[OVS_FLOW_ATTR_KEY];
    const struct nlattr *acts = req->tb[OVS_FLOW_ATTR_ACTIONS];
    struct flow_args args;
    struct flow_key key;
    struct flow_mask mask;
    struct dp_flow_req dreq;
    int error;

    error = flow_start(req, &args);
    if (error) {
        return error;
    }
    if (!ka && !args.has_ufid) {
        errbuf_set(req->err,
                   "flow set message rejected: key attribute missing");
        return -EINVAL;
    }
    if (ka) {
        error = flow_get_match(req, &key, &mask);
        if (error) {
            return error;
        }
    }
    if (acts) {
        if (!ka) {
            errbuf_set(req->err,
                       "flow key attribute not present in set flow");
            return -EINVAL;
        }
        error = flow_check_actions(req, &key, &mask);
        if (error) {
            return error;
        }
    }

    memset(&dreq, 0, sizeof dreq);
    dreq.key = ka ? &key : NULL;
    dreq.ufid = args.has_ufid ? &args.ufid : NULL;
    if (acts) {
        dreq.actions = mnl_attr_get_payload(acts);
        dreq.actions_len = mnl_attr_get_payload_len(acts);
        dreq.has_actions = true;
    }
    dreq.clear = req->tb[OVS_FLOW_ATTR_CLEAR] != NULL;
    return flow_change(req, OVS_FLOW_CMD_SET, &dreq, 0, args.ufid_flags);
}

/* OVS_FLOW_CMD_GET of one flow (ovs_flow_cmd_get()). */
static int
flow_cmd_get(struct genl_req *req)
{
    struct flow_args args;
    struct flow_key key;
    struct dp_flow_info info;
    struct dp_flow_req dreq;
    struct genl_msgbuf mb;
    struct flow_msg m;
    struct genl_dp *gdp;
    int error;

    error = flow_start(req, &args);
    if (error) {
        return error;
    }
    if (req->tb[OVS_FLOW_ATTR_KEY]) {
        error = flow_get_match(req, &key, NULL);
        if (error) {
            return error;
        }
    } else if (!args.has_ufid) {
        errbuf_set(req->err,
                   "flow get message rejected: key attribute missing");
        return -EINVAL;
    }
    gdp = flow_dp(req);
    if (!gdp) {
        return -ENODEV;
    }

    memset(&dreq, 0, sizeof dreq);
    dreq.key = req->tb[OVS_FLOW_ATTR_KEY] ? &key : NULL;
    dreq.ufid = args.has_ufid ? &args.ufid : NULL;
    dreq.ufid_flags = flow_dp_flags(args.ufid_flags);
    error = dp_flow_get(gdp->dp, &dreq, &info, req->err);
    if (error) {
        return error;
    }

    if (genl_msgbuf_init(&mb, GENL_REPLY_SIZE)) {
        errbuf_set(req->err, "out of memory for the reply");
        return -ENOMEM;
    }
    m = flow_reply_hdr(req, OVS_FLOW_CMD_GET, args.ufid_flags);
    error = flow_msg_put(&mb, &m, &info, false);
    if (!error) {
        genl_unicast(req->conn, &mb);
    } else {
        errbuf_set(req->err, "flow message does not fit %d bytes",
                   GENL_REPLY_SIZE);
    }
    genl_msgbuf_uninit(&mb);
    return error;
}

/* OVS_FLOW_CMD_DEL (ovs_flow_cmd_del()): one flow, or every flow when
 * the request names none. */
static int
flow_cmd_del(struct genl_req *req)
{
    struct flow_args args;
    struct flow_key key;
    struct dp_flow_info info;
    struct dp_flow_req dreq;
    struct genl_msgbuf mb;
    struct genl_dp *gdp;
    bool notify;
    int error;

    error = flow_start(req, &args);
    if (error) {
        return error;
    }
    if (req->tb[OVS_FLOW_ATTR_KEY]) {
        error = flow_get_match(req, &key, NULL);
        if (error) {
            return error;
        }
    }
    gdp = flow_dp(req);
    if (!gdp) {
        return -ENODEV;
    }
    if (!req->tb[OVS_FLOW_ATTR_KEY] && !args.has_ufid) {
        /* A flush: no notification, as in the kernel. */
        dp_flow_flush(gdp->dp);
        return 0;
    }

    /* Out of memory for the notification: the flow is deleted all the
     * same, as the kernel deletes it (and sets an error on the group). */
    notify = genl_must_notify(req, &genl_flow_family)
             && !genl_msgbuf_init(&mb, GENL_REPLY_SIZE);

    memset(&dreq, 0, sizeof dreq);
    dreq.key = req->tb[OVS_FLOW_ATTR_KEY] ? &key : NULL;
    dreq.ufid = args.has_ufid ? &args.ufid : NULL;
    dreq.ufid_flags = flow_dp_flags(args.ufid_flags);
    error = dp_flow_del(gdp->dp, &dreq, notify ? &info : NULL, req->err);
    if (!error && notify) {
        flow_notify(req, &mb, OVS_FLOW_CMD_DEL, args.ufid_flags, &info);
    }
    if (notify) {
        genl_msgbuf_uninit(&mb);
    }
    return error;
}

/* The dump of OVS_FLOW_CMD_GET (ovs_flow_cmd_dump()). */
static int
flow_cmd_dump(struct genl_req *req, struct genl_msgbuf *out,
              struct genl_dump_state *st)
{
    struct flow_args args;
    struct flow_msg m;
    struct genl_dp *gdp;
    size_t start = out->len;
    uint32_t dp_flags;
    int error;

    error = flow_start(req, &args);
    if (error) {
        return error;
    }
    gdp = flow_dp(req);
    if (!gdp) {
        return -ENODEV;
    }
    m = (struct flow_msg) {
        .cmd = OVS_FLOW_CMD_GET,
        .flags = NLM_F_MULTI,
        .portid = genl_conn_pid(req->conn),
        .seq = req->nlh->nlmsg_seq,
        .dp_ifindex = req->dp_ifindex,
        .ufid_flags = args.ufid_flags,
    };
    dp_flags = flow_dp_flags(args.ufid_flags);
    for (;;) {
        uint64_t cursor = st->args[0];
        struct dp_flow_info info;

        if (!dp_flow_dump_at(gdp->dp, &cursor, dp_flags, &info, 1)) {
            break;
        }
        if (flow_msg_put(out, &m, &info, out->len == 0)) {
            if (out->len == start) {
                /* Not even alone in a datagram: never with the sizes
                 * above, but a dump must not spin. */
                errbuf_set(req->err, "flow message does not fit a dump "
                           "datagram");
                return -EMSGSIZE;
            }
            break;
        }
        st->args[0] = cursor;
    }
    return out->len > start;
}

static const struct genl_op flow_ops[] = {
    { .cmd = OVS_FLOW_CMD_NEW, .admin = true, .doit = flow_cmd_new },
    { .cmd = OVS_FLOW_CMD_DEL, .admin = true, .doit = flow_cmd_del },
    { .cmd = OVS_FLOW_CMD_GET, .admin = false, .doit = flow_cmd_get,
      .dumpit = flow_cmd_dump, .dump_attrs = true },
    { .cmd = OVS_FLOW_CMD_SET, .admin = true, .doit = flow_cmd_set },
};

const struct genl_family genl_flow_family = {
    .name = OVS_FLOW_FAMILY,
    .id = GENL_FAMILY_ID_FLOW,
    .version = OVS_FLOW_VERSION,
    .hdrsize = sizeof(struct ovs_header),
    .maxattr = OVS_FLOW_ATTR_MAX,
    .policy = flow_policy,
    .ops = flow_ops,
    .n_ops = sizeof flow_ops / sizeof flow_ops[0],
    .mcgrp_name = OVS_FLOW_MCGROUP,
    .mcgrp_id = GENL_MCGRP_ID_FLOW,
};
