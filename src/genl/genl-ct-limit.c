/* SPDX-License-Identifier: Apache-2.0 */

/* The ovs_ct_limit family: the kernel module's per-zone conntrack limits,
 * for a datapath that has no conntrack.
 *
 * What
 * ====
 *
 * The family is the kernel's (the ct_limit part of
 * net/openvswitch/conntrack.c): name, version 1, a struct ovs_header,
 * OVS_CT_LIMIT_ATTR_MAX with ZONE_LIMIT a nest, the commands SET, DEL and
 * GET in the kernel's order (GENL_UNS_ADMIN_PERM on SET and DEL) and the
 * multicast group "ovs_ct_limit".  Every command is refused with
 * -EOPNOTSUPP and the extack message "conntrack limits are not supported
 * by weir (it has no conntrack)", after the one check the kernel makes
 * itself: SET and DEL without OVS_CT_LIMIT_ATTR_ZONE_LIMIT are -EINVAL.
 * The limits are per network namespace in the kernel, not per datapath:
 * the ovs_header is not looked at (Open vSwitch sends 0).
 *
 * Design
 * ======
 *
 * ovs-vswitchd 3.1 never sends these commands by itself; only
 * `ovs-appctl dpctl/ct-set-limits`, `ct-del-limits` and `ct-get-limits`
 * (and `ovs-dpctl` with them) do, and then fail with "failed to set
 * conntrack limit (Operation not supported)" and the like: what Open
 * vSwitch prints as well when the family is missing, since it then
 * answers EOPNOTSUPP itself.  An answer of "no limits" to GET would be
 * true but would suggest that there is conntrack to limit.
 *
 * Thread-safety
 * =============
 *
 * The server's thread, like every command handler.
 *
 * Ownership
 * =========
 *
 * Nothing is kept. */

#include <errno.h>

#include "genl/genl-private.h"
#include "lib/errbuf.h"

#define GENL_CT_LIMIT_UNSUPPORTED \
    "conntrack limits are not supported by weir (it has no conntrack)"

static const struct genl_policy
genl_ct_limit_policy[OVS_CT_LIMIT_ATTR_MAX + 1] = {
    [OVS_CT_LIMIT_ATTR_ZONE_LIMIT] = { GENL_ATTR_NESTED, 0 },
};

/* OVS_CT_LIMIT_CMD_SET and _DEL: the zone limits must be there, as the
 * kernel checks; then refused. */
static int
genl_ct_limit_cmd_set_del(struct genl_req *req)
{
    if (!req->tb[OVS_CT_LIMIT_ATTR_ZONE_LIMIT]) {
        errbuf_set(req->err, "a conntrack limit request needs "
                   "OVS_CT_LIMIT_ATTR_ZONE_LIMIT");
        return -EINVAL;
    }
    errbuf_set(req->err, GENL_CT_LIMIT_UNSUPPORTED);
    return -EOPNOTSUPP;
}

/* OVS_CT_LIMIT_CMD_GET: refused (the kernel requires nothing). */
static int
genl_ct_limit_cmd_get(struct genl_req *req)
{
    errbuf_set(req->err, GENL_CT_LIMIT_UNSUPPORTED);
    return -EOPNOTSUPP;
}

/* In the kernel's order (ct_limit_genl_ops), which nlctrl reports. */
static const struct genl_op genl_ct_limit_ops[] = {
    { .cmd = OVS_CT_LIMIT_CMD_SET, .admin = true,
      .doit = genl_ct_limit_cmd_set_del },
    { .cmd = OVS_CT_LIMIT_CMD_DEL, .admin = true,
      .doit = genl_ct_limit_cmd_set_del },
    { .cmd = OVS_CT_LIMIT_CMD_GET, .admin = false,
      .doit = genl_ct_limit_cmd_get },
};

const struct genl_family genl_ct_limit_family = {
    .name = OVS_CT_LIMIT_FAMILY,
    .id = GENL_FAMILY_ID_CT_LIMIT,
    .version = OVS_CT_LIMIT_VERSION,
    .hdrsize = sizeof(struct ovs_header),
    .maxattr = OVS_CT_LIMIT_ATTR_MAX,
    .policy = genl_ct_limit_policy,
    .ops = genl_ct_limit_ops,
    .n_ops = sizeof genl_ct_limit_ops / sizeof genl_ct_limit_ops[0],
    .mcgrp_name = OVS_CT_LIMIT_MCGROUP,
    .mcgrp_id = GENL_MCGRP_ID_CT_LIMIT,
};
