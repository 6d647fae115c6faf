/* SPDX-License-Identifier: Apache-2.0 */

/* The ovs_meter family: the kernel module's meter commands, for a
 * datapath that has no meters.
 *
 * What
 * ====
 *
 * The family itself is the kernel's (net/openvswitch/meter.c): name,
 * version 1, a struct ovs_header, OVS_METER_ATTR_MAX, the same attribute
 * policy, the commands FEATURES, SET, GET and DEL in the kernel's order
 * (with GENL_UNS_ADMIN_PERM on SET and DEL) and the multicast group
 * "ovs_meter", so that clients find what they look for in nlctrl.  What
 * weird does with the commands is that of a datapath without meters:
 *
 *   - FEATURES answers as the kernel's ovs_meter_cmd_features() does, with
 *     the same attributes in the same order, saying "none": MAX_METERS 0,
 *     MAX_BANDS 0 and an empty BANDS nest (no band type).  -ENODEV when
 *     the ovs_header names no datapath.
 *   - SET, GET and DEL make the kernel's request checks first, in its
 *     order, with its errno (no OVS_METER_ATTR_ID: -EINVAL; for SET, bands
 *     missing, more than the kernel's DP_MAX_BANDS (1), malformed, without
 *     type, rate or burst, or with rate 0: -EINVAL or the band policy's
 *     -ERANGE; no such datapath: -ENODEV), and then refuse with
 *     -EOPNOTSUPP and the extack message "meters are not supported by
 *     weir".
 *
 * Design
 * ======
 *
 * Why these answers (docs/design/genl.md, "ovs_meter and ovs_ct_limit"):
 * Open vSwitch 3.1 (lib/dpif-netlink.c) first checks for the broken meter
 * ids of Linux 4.15-4.17 by setting two meters and reading them back; a
 * refused SET and GET make it conclude, at INFO level, that meters are
 * unusable, and it never asks for FEATURES or sends any other meter
 * command; ovs-vswitchd then reports zero meters to OpenFlow
 * (`ovs-ofctl meter-features`) and refuses every meter mod with
 * OFPMMFC_INVALID_METER itself.  FEATURES saying zero is for any other
 * client, which then knows as much without trying.  GET is refused
 * rather than answered -ENOENT (the kernel's answer for a meter that does
 * not exist), and DEL rather than acknowledged (the kernel's answer for
 * deleting one that does not exist): either would tell a client that a
 * meter table is there.
 *
 * The kernel's policy gives OVS_METER_ATTR_STATS a minimum length, which
 * the core's policy kinds cannot say: genl_meter_check_policy() checks it
 * first thing, as the kernel's validation does before any command.
 *
 * Thread-safety
 * =============
 *
 * The server's thread, like every command handler.
 *
 * Ownership
 * =========
 *
 * Request attributes are borrowed; the FEATURES reply is made and freed
 * here. */

#include <errno.h>
#include <inttypes.h>
#include <libmnl/libmnl.h>
#include <stdint.h>

#include "genl/genl-private.h"
#include "lib/errbuf.h"

/* The kernel's DP_MAX_BANDS (net/openvswitch/meter.h): bands per meter
 * that SET accepts. */
#define GENL_METER_KERNEL_MAX_BANDS 1

/* A FEATURES reply: headers and three small attributes. */
#define GENL_METER_REPLY_SIZE 256

#define GENL_METER_UNSUPPORTED "meters are not supported by weir"

static const struct genl_policy genl_meter_policy[OVS_METER_ATTR_MAX + 1] = {
    [OVS_METER_ATTR_ID] = { GENL_ATTR_U32, 0 },
    [OVS_METER_ATTR_KBPS] = { GENL_ATTR_FLAG, 0 },
    /* The kernel's minimum length: genl_meter_check_policy(). */
    [OVS_METER_ATTR_STATS] = { GENL_ATTR_UNSPEC, 0 },
    [OVS_METER_ATTR_BANDS] = { GENL_ATTR_NESTED, 0 },
    [OVS_METER_ATTR_USED] = { GENL_ATTR_U64, 0 },
    [OVS_METER_ATTR_CLEAR] = { GENL_ATTR_FLAG, 0 },
    [OVS_METER_ATTR_MAX_METERS] = { GENL_ATTR_U32, 0 },
    [OVS_METER_ATTR_MAX_BANDS] = { GENL_ATTR_U32, 0 },
};

/* ---- Requests. ---- */

/* The rule of the kernel's meter_policy that the core cannot check:
 * STATS is at least a struct ovs_flow_stats.  Returns 0 or -ERANGE. */
static int
genl_meter_check_policy(struct genl_req *req)
{
    const struct nlattr *a = req->tb[OVS_METER_ATTR_STATS];

    if (a && mnl_attr_get_payload_len(a) < sizeof(struct ovs_flow_stats)) {
        errbuf_set(req->err, "Attribute failed policy validation");
        req->bad_attr = a;
        return -ERANGE;
    }
    return 0;
}

/* The datapath of the request's ovs_header, as the kernel's get_dp().
 * Returns 0 or -ENODEV with the reason in 'req'. */
static int
genl_meter_dp(struct genl_req *req)
{
    if (!genl_dp_by_ifindex(req->srv, req->dp_ifindex)) {
        errbuf_set(req->err, "no datapath with ifindex %" PRIu32,
                   req->dp_ifindex);
        return -ENODEV;
    }
    return 0;
}

/* The start of SET, GET and DEL: the policy, then the meter id every one
 * of them needs.  Returns 0, -ERANGE or -EINVAL. */
static int
genl_meter_start(struct genl_req *req)
{
    int error = genl_meter_check_policy(req);

    if (error) {
        return error;
    }
    if (!req->tb[OVS_METER_ATTR_ID]) {
        errbuf_set(req->err, "a meter request needs OVS_METER_ATTR_ID");
        return -EINVAL;
    }
    return 0;
}

/* Checks one band of a SET as the kernel's dp_meter_create() parses it:
 * the band policy (TYPE, RATE and BURST u32, STATS at least a struct
 * ovs_flow_stats; other types skipped, the last of duplicates wins), then
 * TYPE, RATE and BURST present and RATE nonzero.
 * Returns 0, -ERANGE or -EINVAL, with the reason in 'req'. */
static int
genl_meter_check_band(struct genl_req *req, const struct nlattr *band)
{
    const struct nlattr *tb[OVS_BAND_ATTR_MAX + 1] = { NULL };
    const struct nlattr *a;

    mnl_attr_for_each_nested(a, band) {
        uint16_t type = mnl_attr_get_type(a);
        size_t min;

        if (type == OVS_BAND_ATTR_UNSPEC || type > OVS_BAND_ATTR_MAX) {
            continue;
        }
        min = (type == OVS_BAND_ATTR_STATS ? sizeof(struct ovs_flow_stats)
               : sizeof(uint32_t));
        if (mnl_attr_get_payload_len(a) < min) {
            errbuf_set(req->err, "meter band: Attribute failed policy "
                       "validation");
            req->bad_attr = a;
            return -ERANGE;
        }
        tb[type] = a;
    }
    if (!tb[OVS_BAND_ATTR_TYPE] || !tb[OVS_BAND_ATTR_RATE]
        || !tb[OVS_BAND_ATTR_BURST]) {
        errbuf_set(req->err, "a meter band needs OVS_BAND_ATTR_TYPE, "
                   "_RATE and _BURST");
        req->bad_attr = band;
        return -EINVAL;
    }
    if (!mnl_attr_get_u32(tb[OVS_BAND_ATTR_RATE])) {
        errbuf_set(req->err, "a meter band's rate may not be 0");
        req->bad_attr = tb[OVS_BAND_ATTR_RATE];
        return -EINVAL;
    }
    return 0;
}

/* Checks the bands of a SET in the kernel's order: present, at most
 * GENL_METER_KERNEL_MAX_BANDS of them (every attribute in the nest
 * counts), each well formed.  Returns 0, -EINVAL or -ERANGE. */
static int
genl_meter_check_bands(struct genl_req *req)
{
    const struct nlattr *bands = req->tb[OVS_METER_ATTR_BANDS];
    const struct nlattr *a;
    size_t n = 0;

    if (!bands) {
        errbuf_set(req->err, "a meter needs OVS_METER_ATTR_BANDS");
        return -EINVAL;
    }
    mnl_attr_for_each_nested(a, bands) {
        if (++n > GENL_METER_KERNEL_MAX_BANDS) {
            errbuf_set(req->err, "a meter has at most %d band",
                       GENL_METER_KERNEL_MAX_BANDS);
            req->bad_attr = a;
            return -EINVAL;
        }
    }
    mnl_attr_for_each_nested(a, bands) {
        int error = genl_meter_check_band(req, a);

        if (error) {
            return error;
        }
    }
    return 0;
}

/* Opens nest 'type' without NLA_F_NESTED, as the kernel's
 * nla_nest_start_noflag() (libmnl sets the flag). */
static struct nlattr *
genl_meter_nest_start(struct nlmsghdr *nlh, size_t room, uint16_t type)
{
    struct nlattr *nest = mnl_attr_nest_start_check(nlh, room, type);

    if (nest) {
        nest->nla_type = type;
    }
    return nest;
}

/* ---- Commands. ---- */

/* OVS_METER_CMD_FEATURES: the kernel's reply, with no meters, no bands
 * and no band types. */
static int
genl_meter_cmd_features(struct genl_req *req)
{
    struct genl_msgbuf mb;
    struct nlmsghdr *nlh;
    struct nlattr *bands;
    size_t room;
    int error;

    error = genl_meter_check_policy(req);
    if (!error) {
        error = genl_meter_dp(req);
    }
    if (error) {
        return error;
    }

    error = genl_msgbuf_init(&mb, GENL_METER_REPLY_SIZE);
    if (error) {
        errbuf_set(req->err, "out of memory for the reply");
        return error;
    }
    nlh = genl_msg_start(&mb, &genl_meter_family, OVS_METER_CMD_FEATURES,
                         genl_conn_pid(req->conn), req->nlh->nlmsg_seq, 0,
                         req->dp_ifindex);
    room = nlh ? genl_msg_room(&mb, nlh) : 0;
    bands = NULL;
    if (nlh
        && mnl_attr_put_u32_check(nlh, room, OVS_METER_ATTR_MAX_METERS, 0)
        && mnl_attr_put_u32_check(nlh, room, OVS_METER_ATTR_MAX_BANDS, 0)) {
        bands = genl_meter_nest_start(nlh, room, OVS_METER_ATTR_BANDS);
    }
    if (!bands) {
        /* Cannot happen: GENL_METER_REPLY_SIZE fits it. */
        errbuf_set(req->err, "meter features do not fit in %d bytes",
                   GENL_METER_REPLY_SIZE);
        genl_msgbuf_uninit(&mb);
        return -EMSGSIZE;
    }
    mnl_attr_nest_end(nlh, bands);   /* Empty: no band type. */
    genl_msg_end(&mb, nlh);
    genl_unicast(req->conn, &mb);
    genl_msgbuf_uninit(&mb);
    return 0;
}

/* OVS_METER_CMD_SET: the kernel's checks of the meter, then refused. */
static int
genl_meter_cmd_set(struct genl_req *req)
{
    int error = genl_meter_start(req);

    if (!error) {
        error = genl_meter_check_bands(req);
    }
    if (!error) {
        error = genl_meter_dp(req);
    }
    if (error) {
        return error;
    }
    errbuf_set(req->err, GENL_METER_UNSUPPORTED);
    return -EOPNOTSUPP;
}

/* OVS_METER_CMD_GET and _DEL: the meter id and the datapath, then
 * refused. */
static int
genl_meter_cmd_get_del(struct genl_req *req)
{
    int error = genl_meter_start(req);

    if (!error) {
        error = genl_meter_dp(req);
    }
    if (error) {
        return error;
    }
    errbuf_set(req->err, GENL_METER_UNSUPPORTED);
    return -EOPNOTSUPP;
}

/* In the kernel's order (dp_meter_genl_ops), which nlctrl reports. */
static const struct genl_op genl_meter_ops[] = {
    { .cmd = OVS_METER_CMD_FEATURES, .admin = false,
      .doit = genl_meter_cmd_features },
    { .cmd = OVS_METER_CMD_SET, .admin = true, .doit = genl_meter_cmd_set },
    { .cmd = OVS_METER_CMD_GET, .admin = false,
      .doit = genl_meter_cmd_get_del },
    { .cmd = OVS_METER_CMD_DEL, .admin = true,
      .doit = genl_meter_cmd_get_del },
};

const struct genl_family genl_meter_family = {
    .name = OVS_METER_FAMILY,
    .id = GENL_FAMILY_ID_METER,
    .version = OVS_METER_VERSION,
    .hdrsize = sizeof(struct ovs_header),
    .maxattr = OVS_METER_ATTR_MAX,
    .policy = genl_meter_policy,
    .ops = genl_meter_ops,
    .n_ops = sizeof genl_meter_ops / sizeof genl_meter_ops[0],
    .mcgrp_name = OVS_METER_MCGROUP,
    .mcgrp_id = GENL_MCGRP_ID_METER,
};
