/* SPDX-License-Identifier: Apache-2.0 */

/* nlctrl: how clients find the families weird serves, by name or id, and
 * the list of every family, answered as net/netlink/genetlink.c answers:
 *
 *   - CTRL_CMD_GETFAMILY with CTRL_ATTR_FAMILY_NAME or CTRL_ATTR_FAMILY_ID
 *     (the name wins when both are there; neither: -EINVAL; no such
 *     family: -ENOENT, without an extack message, as ctrl_getfamily())
 *     replies CTRL_CMD_NEWFAMILY;
 *   - its dump lists every family, nlctrl first, in id order (the
 *     kernel's idr walk), one CTRL_CMD_NEWFAMILY message each.
 *
 * A family message is ctrl_fill_info()'s: FAMILY_NAME, FAMILY_ID (u16),
 * VERSION, HDRSIZE, MAXATTR (u32 each), then an OPS nest with one nest per
 * command (types 1, 2, ...: OP_ID, then OP_FLAGS) and, for a family with a
 * multicast group, a MCAST_GROUPS nest with one nest per group (MCAST_GRP_ID
 * before MCAST_GRP_NAME).  Nests carry no NLA_F_NESTED flag, as the
 * kernel's nla_nest_start_noflag().  The flags of an op are those the
 * kernel reports: GENL_CMD_CAP_DO / _DUMP for the handlers it has,
 * GENL_CMD_CAP_HASPOL when the family has a policy, and
 * GENL_UNS_ADMIN_PERM for commands that need CAP_NET_ADMIN (every OVS
 * family marks them so, not with GENL_ADMIN_PERM).  nlctrl's own MAXATTR
 * is 0: its policies are per command in the kernel.
 *
 * CTRL_CMD_GETPOLICY is listed (the kernel has it) but its dump ends at
 * once with -EOPNOTSUPP: weird does not describe its policies. */

#include <errno.h>
#include <libmnl/libmnl.h>
#include <string.h>

#include "genl/genl-private.h"
#include "lib/errbuf.h"

#define GENL_CTRL_NAME "nlctrl"
#define GENL_CTRL_VERSION 2             /* The kernel's genl_ctrl. */
#define GENL_CTRL_MCGRP "notify"
#define GENL_CTRL_REPLY_SIZE 4096       /* Any family message fits. */

/* ---- The list of families. ---- */

/* In id order, as nlctrl dumps them. */
const struct genl_family *const genl_families[] = {
    &genl_ctrl_family,
    &genl_dp_family,
    &genl_vport_family,
    &genl_flow_family,
    &genl_packet_family,
    &genl_meter_family,
    &genl_ct_limit_family,
    NULL,
};

const struct genl_family *genl_test_family;

const struct genl_family *
genl_family_by_id(uint16_t id)
{
    for (size_t i = 0; genl_families[i]; i++) {
        if (genl_families[i]->id == id) {
            return genl_families[i];
        }
    }
    if (genl_test_family && genl_test_family->id == id) {
        return genl_test_family;
    }
    return NULL;
}

const struct genl_family *
genl_family_by_name(const char *name)
{
    for (size_t i = 0; genl_families[i]; i++) {
        if (!strcmp(genl_families[i]->name, name)) {
            return genl_families[i];
        }
    }
    return NULL;
}

/* ---- Family messages. ---- */

/* Opens a nest as nla_nest_start_noflag() does: no NLA_F_NESTED. */
static struct nlattr *
genl_ctrl_nest_start(struct genl_msgbuf *mb, struct nlmsghdr *nlh,
                     uint16_t type)
{
    struct nlattr *nest = mnl_attr_nest_start_check(nlh,
                                                    genl_msg_room(mb, nlh),
                                                    type);

    if (nest) {
        nest->nla_type = type;
    }
    return nest;
}

/* Appends the CTRL_CMD_NEWFAMILY message for 'fam' to 'mb'.
 * Returns 0 or -EMSGSIZE ('mb' unchanged). */
static int
genl_ctrl_fill(struct genl_msgbuf *mb, const struct genl_family *fam,
               uint32_t portid, uint32_t seq, uint16_t flags)
{
    struct nlmsghdr *nlh;
    struct nlattr *outer;

    nlh = genl_msg_start(mb, &genl_ctrl_family, CTRL_CMD_NEWFAMILY, portid,
                         seq, flags, 0);
    if (!nlh) {
        return -EMSGSIZE;
    }
    if (!mnl_attr_put_strz_check(nlh, genl_msg_room(mb, nlh),
                                 CTRL_ATTR_FAMILY_NAME, fam->name)
        || !mnl_attr_put_u16_check(nlh, genl_msg_room(mb, nlh),
                                   CTRL_ATTR_FAMILY_ID, fam->id)
        || !mnl_attr_put_u32_check(nlh, genl_msg_room(mb, nlh),
                                   CTRL_ATTR_VERSION, fam->version)
        || !mnl_attr_put_u32_check(nlh, genl_msg_room(mb, nlh),
                                   CTRL_ATTR_HDRSIZE, fam->hdrsize)
        || !mnl_attr_put_u32_check(nlh, genl_msg_room(mb, nlh),
                                   CTRL_ATTR_MAXATTR,
                                   fam->id == GENL_ID_CTRL
                                   ? 0 : fam->maxattr)) {
        goto full;
    }

    if (fam->n_ops) {
        outer = genl_ctrl_nest_start(mb, nlh, CTRL_ATTR_OPS);
        if (!outer) {
            goto full;
        }
        for (size_t i = 0; i < fam->n_ops; i++) {
            const struct genl_op *op = &fam->ops[i];
            uint32_t op_flags = 0;
            struct nlattr *nest;

            if (op->admin) {
                op_flags |= GENL_UNS_ADMIN_PERM;
            }
            if (op->dumpit) {
                op_flags |= GENL_CMD_CAP_DUMP;
            }
            if (op->doit) {
                op_flags |= GENL_CMD_CAP_DO;
            }
            if (fam->policy) {
                op_flags |= GENL_CMD_CAP_HASPOL;
            }
            nest = genl_ctrl_nest_start(mb, nlh, (uint16_t) (i + 1));
            if (!nest
                || !mnl_attr_put_u32_check(nlh, genl_msg_room(mb, nlh),
                                           CTRL_ATTR_OP_ID, op->cmd)
                || !mnl_attr_put_u32_check(nlh, genl_msg_room(mb, nlh),
                                           CTRL_ATTR_OP_FLAGS, op_flags)) {
                goto full;
            }
            mnl_attr_nest_end(nlh, nest);
        }
        mnl_attr_nest_end(nlh, outer);
    }

    if (fam->mcgrp_name) {
        struct nlattr *nest;

        outer = genl_ctrl_nest_start(mb, nlh, CTRL_ATTR_MCAST_GROUPS);
        if (!outer) {
            goto full;
        }
        nest = genl_ctrl_nest_start(mb, nlh, 1);
        if (!nest
            || !mnl_attr_put_u32_check(nlh, genl_msg_room(mb, nlh),
                                       CTRL_ATTR_MCAST_GRP_ID,
                                       fam->mcgrp_id)
            || !mnl_attr_put_strz_check(nlh, genl_msg_room(mb, nlh),
                                        CTRL_ATTR_MCAST_GRP_NAME,
                                        fam->mcgrp_name)) {
            goto full;
        }
        mnl_attr_nest_end(nlh, nest);
        mnl_attr_nest_end(nlh, outer);
    }
    genl_msg_end(mb, nlh);
    return 0;

full:
    genl_msg_cancel(mb, nlh);
    return -EMSGSIZE;
}

/* ---- Commands. ---- */

static int
genl_ctrl_getfamily(struct genl_req *req)
{
    const struct nlattr *id = req->tb[CTRL_ATTR_FAMILY_ID];
    const struct nlattr *name = req->tb[CTRL_ATTR_FAMILY_NAME];
    const struct genl_family *fam = NULL;
    struct genl_msgbuf mb;
    int error = -EINVAL;

    if (id) {
        fam = genl_family_by_id(mnl_attr_get_u16(id));
        error = -ENOENT;
    }
    if (name) {
        fam = genl_family_by_name(mnl_attr_get_str(name));
        error = -ENOENT;
    }
    if (!fam) {
        return error;
    }

    error = genl_msgbuf_init(&mb, GENL_CTRL_REPLY_SIZE);
    if (error) {
        return error;
    }
    error = genl_ctrl_fill(&mb, fam, genl_conn_pid(req->conn),
                           req->nlh->nlmsg_seq, 0);
    if (!error) {
        genl_unicast(req->conn, &mb);
    } else {
        errbuf_set(req->err, "family %s does not fit in %d bytes",
                   fam->name, GENL_CTRL_REPLY_SIZE);
    }
    genl_msgbuf_uninit(&mb);
    return error;
}

/* Every family; st->args[0] counts those already sent, as the kernel's
 * cb->args[0]. */
static int
genl_ctrl_dumpfamily(struct genl_req *req, struct genl_msgbuf *out,
                     struct genl_dump_state *st)
{
    uint32_t portid = genl_conn_pid(req->conn);

    for (;;) {
        const struct genl_family *fam;

        if (st->args[0] >= sizeof genl_families / sizeof genl_families[0]
            || !(fam = genl_families[st->args[0]])) {
            return 0;
        }
        if (genl_ctrl_fill(out, fam, portid, req->nlh->nlmsg_seq,
                           NLM_F_MULTI)) {
            /* The core ends the dump with -EMSGSIZE if nothing fit. */
            return 1;
        }
        st->args[0]++;
    }
}

static int
genl_ctrl_getpolicy(struct genl_req *req, struct genl_msgbuf *out,
                    struct genl_dump_state *st)
{
    (void) out;
    (void) st;
    errbuf_set(req->err, "weird does not report attribute policies "
               "(CTRL_CMD_GETPOLICY)");
    return -EOPNOTSUPP;
}

/* What the kernel's GETFAMILY and GETPOLICY policies accept, merged. */
static const struct genl_policy genl_ctrl_policy[CTRL_ATTR_OP + 1] = {
    [CTRL_ATTR_FAMILY_ID] = { GENL_ATTR_U16, 0 },
    [CTRL_ATTR_FAMILY_NAME] = { GENL_ATTR_STRING, GENL_NAMSIZ },
    [CTRL_ATTR_OP] = { GENL_ATTR_U32, 0 },
};

static const struct genl_op genl_ctrl_ops[] = {
    { .cmd = CTRL_CMD_GETFAMILY, .admin = false,
      .doit = genl_ctrl_getfamily, .dumpit = genl_ctrl_dumpfamily },
    { .cmd = CTRL_CMD_GETPOLICY, .admin = false,
      .dumpit = genl_ctrl_getpolicy },
};

const struct genl_family genl_ctrl_family = {
    .name = GENL_CTRL_NAME,
    .id = GENL_ID_CTRL,
    .version = GENL_CTRL_VERSION,
    .hdrsize = 0,
    .maxattr = CTRL_ATTR_OP,
    .policy = genl_ctrl_policy,
    .ops = genl_ctrl_ops,
    .n_ops = sizeof genl_ctrl_ops / sizeof genl_ctrl_ops[0],
    .mcgrp_name = GENL_CTRL_MCGRP,
    .mcgrp_id = GENL_MCGRP_ID_CTRL,
};
