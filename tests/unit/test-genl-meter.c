/* SPDX-License-Identifier: Apache-2.0 */

/* The ovs_meter and ovs_ct_limit families (src/genl/genl-meter.c,
 * genl-ct-limit.c) through a genl server with dummy local ports: nlctrl's
 * description of both, the FEATURES reply byte for byte, and every
 * refusal with its errno, extack message and attribute offset, in the
 * kernel's order of checks.  The requests are built as Open vSwitch 3.1
 * builds them (lib/dpif-netlink.c), including its meter probe.  Last, the
 * answers to the other start-up probes of ovs-vswitchd for what weir
 * lacks (ofproto-dpif.c check_support(): flow and execute probes,
 * genl-flow.c and genl-packet.c). */

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include "genl-test-util.h"
#include "weir/control.h"

#define PID_A 2001              /* Requester, extack on. */
#define PID_B 2002              /* Member of both families' groups. */

#define T_METER_MSG "meters are not supported by weir"
#define T_CT_LIMIT_MSG "conntrack limits are not supported by weir"

struct fixture {
    struct genl_server *srv;
    struct genl_conn *a;
    struct genl_conn *b;
    uint32_t ifindex;           /* Of datapath "mdp0". */
};

static uint8_t buf[GTU_BUF_SIZE];
static uint8_t rbuf[GTU_BUF_SIZE];
static uint32_t seq = 1;

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct errbuf err;

    gtu_rcu_init();
    assert_non_null(f);
    f->srv = gtu_server(1);
    f->a = gtu_conn(f->srv, PID_A);
    f->b = gtu_conn(f->srv, PID_B);
    assert_int_equal(genl_conn_setsockopt(f->a, WEIR_SOCK_EXT_ACK, 1), 0);
    assert_int_equal(genl_conn_setsockopt(f->b, WEIR_SOCK_ADD_MEMBERSHIP,
                                          GENL_MCGRP_ID_METER), 0);
    assert_int_equal(genl_conn_setsockopt(f->b, WEIR_SOCK_ADD_MEMBERSHIP,
                                          GENL_MCGRP_ID_CT_LIMIT), 0);
    errbuf_clear(&err);
    assert_int_equal(genl_server_dp_create(f->srv, "mdp0", 0, &err), 0);
    f->ifindex = genl_dp_by_name(f->srv, "mdp0")->ifindex;
    assert_int_not_equal(f->ifindex, 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    genl_conn_destroy(f->a);
    genl_conn_destroy(f->b);
    genl_server_destroy(f->srv);
    free(f);
    return 0;
}

/* ---- Requests. ---- */

/* A request of 'family' (ovs_meter or ovs_ct_limit) as Open vSwitch sends
 * it: version 1, an ovs_header with 'dp_ifindex'. */
static struct nlmsghdr *
req(uint16_t family, uint8_t cmd, uint16_t flags, uint32_t dp_ifindex)
{
    return gtu_req(buf, sizeof buf, family, cmd, flags, seq++, dp_ifindex);
}

static void
put_u32(struct nlmsghdr *nlh, uint16_t type, uint32_t v)
{
    assert_true(mnl_attr_put_u32_check(nlh, sizeof buf, type, v));
}

static void
put_bytes(struct nlmsghdr *nlh, uint16_t type, const void *p, size_t len)
{
    assert_true(mnl_attr_put_check(nlh, sizeof buf, type, len, p));
}

static struct nlattr *
nest_start(struct nlmsghdr *nlh, uint16_t type)
{
    struct nlattr *nest = mnl_attr_nest_start_check(nlh, sizeof buf, type);

    assert_non_null(nest);
    return nest;
}

/* Appends one band { TYPE, RATE, BURST } as dpif_netlink_meter_set__()
 * does (a nest of type OVS_BAND_ATTR_UNSPEC). */
static void
put_band(struct nlmsghdr *nlh, uint32_t type, uint32_t rate, uint32_t burst)
{
    struct nlattr *band = nest_start(nlh, OVS_BAND_ATTR_UNSPEC);

    put_u32(nlh, OVS_BAND_ATTR_TYPE, type);
    put_u32(nlh, OVS_BAND_ATTR_RATE, rate);
    put_u32(nlh, OVS_BAND_ATTR_BURST, burst);
    mnl_attr_nest_end(nlh, band);
}

/* OVS_METER_CMD_SET of meter 'id' as Open vSwitch's probe sends it:
 * NLM_F_ECHO, ID, KBPS, BANDS with one drop band of rate 1, burst 1. */
static struct nlmsghdr *
meter_set_req(uint32_t ifindex, uint32_t id)
{
    struct nlmsghdr *nlh = req(GENL_FAMILY_ID_METER, OVS_METER_CMD_SET,
                               NLM_F_ECHO, ifindex);
    struct nlattr *bands;

    put_u32(nlh, OVS_METER_ATTR_ID, id);
    put_bytes(nlh, OVS_METER_ATTR_KBPS, NULL, 0);
    bands = nest_start(nlh, OVS_METER_ATTR_BANDS);
    put_band(nlh, OVS_METER_BAND_TYPE_DROP, 1, 1);
    mnl_attr_nest_end(nlh, bands);
    return nlh;
}

/* Sends 'nlh' from 'c' and expects one NLMSG_ERROR with 'error' for its
 * sequence number and, unless NULL, an extack message containing 'text';
 * then nothing more for 'c' (no reply, no echo).  Returns the error taken
 * apart. */
static struct gtu_err
send_expect(struct genl_conn *c, const struct nlmsghdr *nlh, int error,
            const char *text)
{
    uint32_t sq = nlh->nlmsg_seq;
    struct gtu_err e;

    gtu_send(c, nlh);
    e = gtu_expect_err(c, error, text);
    assert_int_equal(e.seq, sq);
    gtu_expect_none(c);
    return e;
}

/* Expects an extack offset pointing at 'attr' inside request 'nlh'. */
static void
expect_offs(const struct gtu_err *e, const struct nlmsghdr *nlh,
            const struct nlattr *attr)
{
    assert_true(e->has_offs);
    assert_int_equal(e->offs, (uint32_t) ((const uint8_t *) attr
                                          - (const uint8_t *) nlh));
}

/* ---- nlctrl. ---- */

/* Asks nlctrl for family 'name' from 'c' and checks every attribute of
 * the reply against what the kernel reports for it. */
static void
check_ctrl(struct genl_conn *c, const char *name, uint16_t id,
           uint32_t maxattr, const uint32_t (*ops)[2], size_t n_ops,
           uint32_t group)
{
    const struct nlattr *tb[CTRL_ATTR_MAX + 1];
    const struct nlattr *grp[CTRL_ATTR_MCAST_GRP_MAX + 1];
    const struct nlattr *a, *nest;
    const struct nlmsghdr *r;
    struct nlmsghdr *nlh;
    size_t i = 0;

    nlh = gtu_req(buf, sizeof buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0,
                  seq++, 0);
    ((struct genlmsghdr *) mnl_nlmsg_get_payload(nlh))->version = 2;
    assert_true(mnl_attr_put_strz_check(nlh, sizeof buf,
                                        CTRL_ATTR_FAMILY_NAME, name));
    gtu_send(c, nlh);
    r = gtu_recv_msg(c, rbuf, sizeof rbuf, GENL_ID_CTRL, CTRL_CMD_NEWFAMILY);
    gtu_attrs(r, tb, CTRL_ATTR_MAX);
    assert_string_equal(mnl_attr_get_str(tb[CTRL_ATTR_FAMILY_NAME]), name);
    assert_int_equal(mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]), id);
    assert_int_equal(mnl_attr_get_u32(tb[CTRL_ATTR_VERSION]), 1);
    assert_int_equal(mnl_attr_get_u32(tb[CTRL_ATTR_HDRSIZE]),
                     sizeof(struct ovs_header));
    assert_int_equal(mnl_attr_get_u32(tb[CTRL_ATTR_MAXATTR]), maxattr);

    /* One nest per command, in the kernel's order, with its flags:
     * GENL_CMD_CAP_DO | GENL_CMD_CAP_HASPOL, plus GENL_UNS_ADMIN_PERM for
     * those that change something. */
    mnl_attr_for_each_nested(a, tb[CTRL_ATTR_OPS]) {
        const struct nlattr *op[CTRL_ATTR_OP_MAX + 1];

        assert_true(i < n_ops);
        assert_int_equal(a->nla_type, i + 1);
        gtu_nested(a, op, CTRL_ATTR_OP_MAX);
        assert_int_equal(mnl_attr_get_u32(op[CTRL_ATTR_OP_ID]), ops[i][0]);
        assert_int_equal(mnl_attr_get_u32(op[CTRL_ATTR_OP_FLAGS]),
                         ops[i][1]);
        i++;
    }
    assert_int_equal(i, n_ops);

    nest = mnl_attr_get_payload(tb[CTRL_ATTR_MCAST_GROUPS]);
    gtu_nested(nest, grp, CTRL_ATTR_MCAST_GRP_MAX);
    assert_int_equal(mnl_attr_get_u32(grp[CTRL_ATTR_MCAST_GRP_ID]), group);
    assert_string_equal(mnl_attr_get_str(grp[CTRL_ATTR_MCAST_GRP_NAME]),
                        name);
    gtu_expect_none(c);
}

static void
test_ctrl(void **state)
{
    struct fixture *f = *state;
    enum {
        RO = GENL_CMD_CAP_DO | GENL_CMD_CAP_HASPOL,
        RW = GENL_CMD_CAP_DO | GENL_CMD_CAP_HASPOL | GENL_UNS_ADMIN_PERM,
    };
    static const uint32_t meter_ops[][2] = {
        { OVS_METER_CMD_FEATURES, RO }, { OVS_METER_CMD_SET, RW },
        { OVS_METER_CMD_GET, RO }, { OVS_METER_CMD_DEL, RW },
    };
    static const uint32_t ct_limit_ops[][2] = {
        { OVS_CT_LIMIT_CMD_SET, RW }, { OVS_CT_LIMIT_CMD_DEL, RW },
        { OVS_CT_LIMIT_CMD_GET, RO },
    };

    /* The numbers are the kernel ABI's: RO = 0x0a, RW = 0x1a. */
    assert_int_equal(RO, 0x0a);
    assert_int_equal(RW, 0x1a);
    check_ctrl(f->a, "ovs_meter", GENL_FAMILY_ID_METER, 9, meter_ops, 4,
               GENL_MCGRP_ID_METER);
    check_ctrl(f->a, "ovs_ct_limit", GENL_FAMILY_ID_CT_LIMIT, 1,
               ct_limit_ops, 3, GENL_MCGRP_ID_CT_LIMIT);
}

/* ---- ovs_meter. ---- */

static void
test_meter_features(void **state)
{
    struct fixture *f = *state;
    struct nlmsghdr *nlh;
    uint32_t sq;
    size_t len;
    struct gtu_err e;

    /* As dpif_netlink_meter_get_features() asks (NLM_F_ECHO). */
    nlh = req(GENL_FAMILY_ID_METER, OVS_METER_CMD_FEATURES,
              NLM_F_ECHO | NLM_F_ACK, f->ifindex);
    sq = nlh->nlmsg_seq;
    gtu_send(f->a, nlh);
    len = gtu_recv(f->a, rbuf, sizeof rbuf);

    /* The kernel's ovs_meter_cmd_features() layout, with zeros: MAX_METERS
     * 0, MAX_BANDS 0, an empty BANDS nest without NLA_F_NESTED. */
    {
        uint8_t want[44];
        struct nlmsghdr h = {
            .nlmsg_len = 44, .nlmsg_type = GENL_FAMILY_ID_METER,
            .nlmsg_flags = 0, .nlmsg_seq = sq, .nlmsg_pid = PID_A,
        };
        struct genlmsghdr g = { .cmd = OVS_METER_CMD_FEATURES,
                                .version = 1 };
        struct ovs_header oh = { .dp_ifindex = (int) f->ifindex };
        struct { uint16_t len, type; uint32_t v; } max_meters = {
            8, OVS_METER_ATTR_MAX_METERS, 0 }, max_bands = {
            8, OVS_METER_ATTR_MAX_BANDS, 0 };
        struct { uint16_t len, type; } bands = { 4, OVS_METER_ATTR_BANDS };

        memcpy(want, &h, 16);
        memcpy(want + 16, &g, 4);
        memcpy(want + 20, &oh, 4);
        memcpy(want + 24, &max_meters, 8);
        memcpy(want + 32, &max_bands, 8);
        memcpy(want + 40, &bands, 4);
        assert_int_equal(len, sizeof want);
        assert_memory_equal(rbuf, want, sizeof want);
    }
    assert_int_equal(gtu_recv_err(f->a, NULL), 0);      /* NLM_F_ACK. */
    gtu_expect_none(f->a);
    gtu_expect_none(f->b);                               /* Not notified. */

    /* No such datapath. */
    e = send_expect(f->a, req(GENL_FAMILY_ID_METER, OVS_METER_CMD_FEATURES,
                              0, f->ifindex + 1000), -ENODEV,
                    "no datapath");
    assert_false(e.has_offs);

    /* A short STATS fails the policy first, for every command. */
    nlh = req(GENL_FAMILY_ID_METER, OVS_METER_CMD_FEATURES, 0,
              f->ifindex + 1000);
    put_bytes(nlh, OVS_METER_ATTR_STATS, "12345678", 8);
    e = send_expect(f->a, nlh, -ERANGE, "policy");
    expect_offs(&e, nlh, (const void *) ((const uint8_t *) nlh
                                         + MNL_NLMSG_HDRLEN + GENL_HDRLEN
                                         + 4));
}

/* Open vSwitch's meter probe (probe_broken_meters__()): two SETs and a
 * GET, each refused with the reason; nothing reaches the group. */
static void
test_meter_ovs_probe(void **state)
{
    struct fixture *f = *state;
    struct nlmsghdr *nlh;
    struct gtu_err e;

    e = send_expect(f->a, meter_set_req(f->ifindex, 54545401), -EOPNOTSUPP,
                    T_METER_MSG);
    assert_string_equal(e.msg, T_METER_MSG);
    assert_false(e.has_offs);
    send_expect(f->a, meter_set_req(f->ifindex, 54545402), -EOPNOTSUPP,
                T_METER_MSG);
    nlh = req(GENL_FAMILY_ID_METER, OVS_METER_CMD_GET, NLM_F_ECHO,
              f->ifindex);
    put_u32(nlh, OVS_METER_ATTR_ID, 54545401);
    send_expect(f->a, nlh, -EOPNOTSUPP, T_METER_MSG);
    nlh = req(GENL_FAMILY_ID_METER, OVS_METER_CMD_DEL, NLM_F_ECHO,
              f->ifindex);
    put_u32(nlh, OVS_METER_ATTR_ID, 54545401);
    send_expect(f->a, nlh, -EOPNOTSUPP, T_METER_MSG);
    gtu_expect_none(f->b);

    /* Without extack: the bare errno, the request echoed. */
    gtu_send(f->b, meter_set_req(f->ifindex, 7));
    e = gtu_expect_err(f->b, -EOPNOTSUPP, NULL);
    assert_false(e.has_msg);
    assert_true(e.echoed > 0);
    gtu_expect_none(f->b);
}

/* SET's checks come in the kernel's order: id, bands, datapath. */
static void
test_meter_set_checks(void **state)
{
    struct fixture *f = *state;
    struct nlattr *bands, *band, *rate;
    struct nlmsghdr *nlh;
    struct gtu_err e;

    /* No id, on a datapath that does not exist either: -EINVAL first. */
    nlh = req(GENL_FAMILY_ID_METER, OVS_METER_CMD_SET, 0, f->ifindex + 99);
    bands = nest_start(nlh, OVS_METER_ATTR_BANDS);
    put_band(nlh, OVS_METER_BAND_TYPE_DROP, 1, 1);
    mnl_attr_nest_end(nlh, bands);
    send_expect(f->a, nlh, -EINVAL, "OVS_METER_ATTR_ID");

    /* No bands. */
    nlh = req(GENL_FAMILY_ID_METER, OVS_METER_CMD_SET, 0, f->ifindex + 99);
    put_u32(nlh, OVS_METER_ATTR_ID, 1);
    send_expect(f->a, nlh, -EINVAL, "OVS_METER_ATTR_BANDS");

    /* Two bands: more than the kernel's DP_MAX_BANDS, pointed at. */
    nlh = req(GENL_FAMILY_ID_METER, OVS_METER_CMD_SET, 0, f->ifindex);
    put_u32(nlh, OVS_METER_ATTR_ID, 1);
    bands = nest_start(nlh, OVS_METER_ATTR_BANDS);
    put_band(nlh, OVS_METER_BAND_TYPE_DROP, 1, 1);
    band = (struct nlattr *) mnl_nlmsg_get_payload_tail(nlh);
    put_band(nlh, OVS_METER_BAND_TYPE_DROP, 2, 2);
    mnl_attr_nest_end(nlh, bands);
    e = send_expect(f->a, nlh, -EINVAL, "at most 1 band");
    expect_offs(&e, nlh, band);

    /* A band without burst. */
    nlh = req(GENL_FAMILY_ID_METER, OVS_METER_CMD_SET, 0, f->ifindex);
    put_u32(nlh, OVS_METER_ATTR_ID, 1);
    bands = nest_start(nlh, OVS_METER_ATTR_BANDS);
    band = nest_start(nlh, OVS_BAND_ATTR_UNSPEC);
    put_u32(nlh, OVS_BAND_ATTR_TYPE, OVS_METER_BAND_TYPE_DROP);
    put_u32(nlh, OVS_BAND_ATTR_RATE, 10);
    mnl_attr_nest_end(nlh, band);
    mnl_attr_nest_end(nlh, bands);
    e = send_expect(f->a, nlh, -EINVAL, "_BURST");
    expect_offs(&e, nlh, band);

    /* Rate 0. */
    nlh = req(GENL_FAMILY_ID_METER, OVS_METER_CMD_SET, 0, f->ifindex);
    put_u32(nlh, OVS_METER_ATTR_ID, 1);
    bands = nest_start(nlh, OVS_METER_ATTR_BANDS);
    band = nest_start(nlh, OVS_BAND_ATTR_UNSPEC);
    put_u32(nlh, OVS_BAND_ATTR_TYPE, OVS_METER_BAND_TYPE_DROP);
    rate = (struct nlattr *) mnl_nlmsg_get_payload_tail(nlh);
    put_u32(nlh, OVS_BAND_ATTR_RATE, 0);
    put_u32(nlh, OVS_BAND_ATTR_BURST, 10);
    mnl_attr_nest_end(nlh, band);
    mnl_attr_nest_end(nlh, bands);
    e = send_expect(f->a, nlh, -EINVAL, "rate may not be 0");
    expect_offs(&e, nlh, rate);

    /* A two-byte rate fails the band policy (-ERANGE), before the
     * missing burst is noticed; an unknown band attribute is skipped. */
    nlh = req(GENL_FAMILY_ID_METER, OVS_METER_CMD_SET, 0, f->ifindex);
    put_u32(nlh, OVS_METER_ATTR_ID, 1);
    bands = nest_start(nlh, OVS_METER_ATTR_BANDS);
    band = nest_start(nlh, OVS_BAND_ATTR_UNSPEC);
    put_bytes(nlh, OVS_BAND_ATTR_MAX + 1, "x", 1);
    put_u32(nlh, OVS_BAND_ATTR_TYPE, OVS_METER_BAND_TYPE_DROP);
    rate = (struct nlattr *) mnl_nlmsg_get_payload_tail(nlh);
    put_bytes(nlh, OVS_BAND_ATTR_RATE, "\1\0", 2);
    mnl_attr_nest_end(nlh, band);
    mnl_attr_nest_end(nlh, bands);
    e = send_expect(f->a, nlh, -ERANGE, "policy");
    expect_offs(&e, nlh, rate);

    /* A band's STATS shorter than struct ovs_flow_stats: -ERANGE. */
    nlh = req(GENL_FAMILY_ID_METER, OVS_METER_CMD_SET, 0, f->ifindex);
    put_u32(nlh, OVS_METER_ATTR_ID, 1);
    bands = nest_start(nlh, OVS_METER_ATTR_BANDS);
    band = nest_start(nlh, OVS_BAND_ATTR_UNSPEC);
    put_u32(nlh, OVS_BAND_ATTR_TYPE, OVS_METER_BAND_TYPE_DROP);
    put_u32(nlh, OVS_BAND_ATTR_RATE, 1);
    put_u32(nlh, OVS_BAND_ATTR_BURST, 1);
    rate = (struct nlattr *) mnl_nlmsg_get_payload_tail(nlh);
    put_bytes(nlh, OVS_BAND_ATTR_STATS, "12345678", 8);
    mnl_attr_nest_end(nlh, band);
    mnl_attr_nest_end(nlh, bands);
    e = send_expect(f->a, nlh, -ERANGE, "policy");
    expect_offs(&e, nlh, rate);

    /* A well-formed meter for a datapath that does not exist. */
    send_expect(f->a, meter_set_req(f->ifindex + 99, 1), -ENODEV,
                "no datapath");

    /* KBPS is a flag: with a payload it fails the core's policy. */
    nlh = req(GENL_FAMILY_ID_METER, OVS_METER_CMD_SET, 0, f->ifindex);
    put_u32(nlh, OVS_METER_ATTR_ID, 1);
    put_u32(nlh, OVS_METER_ATTR_KBPS, 1);
    send_expect(f->a, nlh, -ERANGE, "policy");

    /* Everything right: refused. */
    send_expect(f->a, meter_set_req(f->ifindex, 1), -EOPNOTSUPP,
                T_METER_MSG);
    gtu_expect_none(f->b);
}

static void
test_meter_get_del_checks(void **state)
{
    static const uint8_t cmds[] = { OVS_METER_CMD_GET, OVS_METER_CMD_DEL };
    struct fixture *f = *state;

    for (size_t i = 0; i < sizeof cmds; i++) {
        struct nlmsghdr *nlh;

        nlh = req(GENL_FAMILY_ID_METER, cmds[i], 0, f->ifindex + 5);
        send_expect(f->a, nlh, -EINVAL, "OVS_METER_ATTR_ID");
        nlh = req(GENL_FAMILY_ID_METER, cmds[i], 0, f->ifindex + 5);
        put_u32(nlh, OVS_METER_ATTR_ID, 3);
        send_expect(f->a, nlh, -ENODEV, "no datapath");
        nlh = req(GENL_FAMILY_ID_METER, cmds[i], NLM_F_ACK, f->ifindex);
        put_u32(nlh, OVS_METER_ATTR_ID, 3);
        send_expect(f->a, nlh, -EOPNOTSUPP, T_METER_MSG);
    }
    gtu_expect_none(f->b);
}

/* What the core decides for these families: a message too short for the
 * ovs_header, an unknown command, a dump, the reserved byte. */
static void
test_meter_core(void **state)
{
    struct fixture *f = *state;
    struct nlmsghdr *nlh;

    nlh = gtu_req(buf, sizeof buf, GENL_ID_CTRL, OVS_METER_CMD_FEATURES, 0,
                  seq++, 0);
    nlh->nlmsg_type = GENL_FAMILY_ID_METER;
    send_expect(f->a, nlh, -EINVAL, NULL);
    nlh = gtu_req(buf, sizeof buf, GENL_ID_CTRL, OVS_CT_LIMIT_CMD_GET, 0,
                  seq++, 0);
    nlh->nlmsg_type = GENL_FAMILY_ID_CT_LIMIT;
    send_expect(f->a, nlh, -EINVAL, NULL);

    send_expect(f->a, req(GENL_FAMILY_ID_METER, OVS_METER_CMD_GET + 1, 0,
                          f->ifindex), -EOPNOTSUPP, NULL);
    send_expect(f->a, req(GENL_FAMILY_ID_METER, OVS_METER_CMD_FEATURES,
                          NLM_F_DUMP, f->ifindex), -EOPNOTSUPP, NULL);
    send_expect(f->a, req(GENL_FAMILY_ID_CT_LIMIT, OVS_CT_LIMIT_CMD_GET,
                          NLM_F_DUMP, 0), -EOPNOTSUPP, NULL);

    /* 'reserved' set: refused past the last command (the kernel's
     * resv_start_op = GET + 1), ignored before it. */
    nlh = req(GENL_FAMILY_ID_METER, OVS_METER_CMD_GET + 1, 0, f->ifindex);
    ((struct genlmsghdr *) mnl_nlmsg_get_payload(nlh))->reserved = 1;
    send_expect(f->a, nlh, -EINVAL, NULL);
    nlh = req(GENL_FAMILY_ID_CT_LIMIT, OVS_CT_LIMIT_CMD_GET + 1, 0, 0);
    ((struct genlmsghdr *) mnl_nlmsg_get_payload(nlh))->reserved = 1;
    send_expect(f->a, nlh, -EINVAL, NULL);
    nlh = req(GENL_FAMILY_ID_METER, OVS_METER_CMD_FEATURES, 0, f->ifindex);
    ((struct genlmsghdr *) mnl_nlmsg_get_payload(nlh))->reserved = 1;
    gtu_send(f->a, nlh);
    gtu_recv_msg(f->a, rbuf, sizeof rbuf, GENL_FAMILY_ID_METER,
                 OVS_METER_CMD_FEATURES);
    gtu_expect_none(f->a);
}

/* ---- ovs_ct_limit. ---- */

/* Appends ZONE_LIMIT with 'n' struct ovs_zone_limit, as
 * dpif_netlink_ct_set_limits() builds it. */
static void
put_zone_limits(struct nlmsghdr *nlh, const struct ovs_zone_limit *zl,
                size_t n)
{
    struct nlattr *nest = nest_start(nlh, OVS_CT_LIMIT_ATTR_ZONE_LIMIT);

    for (size_t i = 0; i < n; i++) {
        memcpy(mnl_nlmsg_get_payload_tail(nlh), &zl[i], sizeof zl[i]);
        nlh->nlmsg_len += MNL_ALIGN(sizeof zl[i]);
    }
    mnl_attr_nest_end(nlh, nest);
}

static void
test_ct_limit(void **state)
{
    static const struct ovs_zone_limit zl[] = {
        { .zone_id = OVS_ZONE_LIMIT_DEFAULT_ZONE, .limit = 10 },
        { .zone_id = 5, .limit = 3 },
    };
    struct fixture *f = *state;
    struct nlmsghdr *nlh;
    struct gtu_err e;

    /* As Open vSwitch sends them: dp_ifindex 0 (limits are per network
     * namespace), NLM_F_ECHO.  No datapath is looked up: an ifindex that
     * names none changes nothing. */
    for (uint32_t ifindex = 0; ifindex < 2; ifindex++) {
        nlh = req(GENL_FAMILY_ID_CT_LIMIT, OVS_CT_LIMIT_CMD_SET, NLM_F_ECHO,
                  ifindex ? f->ifindex + 77 : 0);
        put_zone_limits(nlh, zl, 2);
        e = send_expect(f->a, nlh, -EOPNOTSUPP, T_CT_LIMIT_MSG);
        assert_false(e.has_offs);

        nlh = req(GENL_FAMILY_ID_CT_LIMIT, OVS_CT_LIMIT_CMD_DEL, NLM_F_ECHO,
                  ifindex ? f->ifindex + 77 : 0);
        put_zone_limits(nlh, zl + 1, 1);
        send_expect(f->a, nlh, -EOPNOTSUPP, T_CT_LIMIT_MSG);

        /* GET with and without zones. */
        send_expect(f->a, req(GENL_FAMILY_ID_CT_LIMIT, OVS_CT_LIMIT_CMD_GET,
                              NLM_F_ECHO, ifindex ? f->ifindex + 77 : 0),
                    -EOPNOTSUPP, T_CT_LIMIT_MSG);
        nlh = req(GENL_FAMILY_ID_CT_LIMIT, OVS_CT_LIMIT_CMD_GET, NLM_F_ECHO,
                  ifindex ? f->ifindex + 77 : 0);
        put_zone_limits(nlh, zl, 2);
        send_expect(f->a, nlh, -EOPNOTSUPP, T_CT_LIMIT_MSG);
    }

    /* SET and DEL need the zone limits (the kernel's -EINVAL). */
    send_expect(f->a, req(GENL_FAMILY_ID_CT_LIMIT, OVS_CT_LIMIT_CMD_SET, 0,
                          0), -EINVAL, "OVS_CT_LIMIT_ATTR_ZONE_LIMIT");
    send_expect(f->a, req(GENL_FAMILY_ID_CT_LIMIT, OVS_CT_LIMIT_CMD_DEL, 0,
                          0), -EINVAL, "OVS_CT_LIMIT_ATTR_ZONE_LIMIT");

    /* ZONE_LIMIT is a nest: two bytes fail the policy. */
    nlh = req(GENL_FAMILY_ID_CT_LIMIT, OVS_CT_LIMIT_CMD_GET, 0, 0);
    put_bytes(nlh, OVS_CT_LIMIT_ATTR_ZONE_LIMIT, "ab", 2);
    e = send_expect(f->a, nlh, -ERANGE, "policy");
    expect_offs(&e, nlh, (const void *) ((const uint8_t *) nlh
                                         + MNL_NLMSG_HDRLEN + GENL_HDRLEN
                                         + 4));
    gtu_expect_none(f->b);
}

/* ---- ovs-vswitchd's feature probes. ---- */

/* A flow key Open vSwitch probes with (check_ufid()'s shape): Ethernet
 * with zero addresses and EtherType 0x1234; 'ct_state' nonzero adds
 * OVS_KEY_ATTR_CT_STATE as CHECK_FEATURE(ct_state) does. */
static void
put_probe_key(struct nlmsghdr *nlh, uint16_t type, uint32_t ct_state)
{
    struct nlattr *key = nest_start(nlh, type);
    static const uint8_t zero_eth[12];

    put_bytes(nlh, OVS_KEY_ATTR_ETHERNET, zero_eth, sizeof zero_eth);
    assert_true(mnl_attr_put_u16_check(nlh, sizeof buf,
                                       OVS_KEY_ATTR_ETHERTYPE, htons(0x1234)));
    if (ct_state) {
        put_u32(nlh, OVS_KEY_ATTR_CT_STATE, ct_state);
    }
    mnl_attr_nest_end(nlh, key);
}

/* OVS_FLOW_CMD_NEW as dpif_probe_feature() sends it (NLM_F_CREATE, with
 * or without OVS_FLOW_ATTR_PROBE), with 'n' actions of type 'act' and
 * payload 'pl' ('len' bytes).  '*acts' gets the ACTIONS attribute. */
static struct nlmsghdr *
probe_put_req(uint32_t ifindex, bool probe, uint32_t ct_state,
              uint16_t act, const void *pl, size_t len,
              const struct nlattr **acts)
{
    struct nlmsghdr *nlh = gtu_req(buf, sizeof buf, GENL_FAMILY_ID_FLOW,
                                   OVS_FLOW_CMD_NEW, NLM_F_CREATE, seq++,
                                   ifindex);
    struct nlattr *a;

    put_probe_key(nlh, OVS_FLOW_ATTR_KEY, ct_state);
    a = nest_start(nlh, OVS_FLOW_ATTR_ACTIONS);
    put_bytes(nlh, act, pl, len);
    mnl_attr_nest_end(nlh, a);
    *acts = a;
    if (probe) {
        put_bytes(nlh, OVS_FLOW_ATTR_PROBE, NULL, 0);
    }
    return nlh;
}

/* What the probes of ofproto-dpif.c check_support() get for what weir
 * lacks: -EINVAL, as from a kernel that does not know the action or key
 * attribute (dpif_probe_feature() warns about any other errno); the same
 * requests without the probe flag keep weir's -EOPNOTSUPP. */
static void
test_ovs_probes(void **state)
{
    struct ovs_action_hash hash = { .hash_alg = 1, .hash_basis = 0 };
    struct fixture *f = *state;
    const struct nlattr *acts;
    struct nlmsghdr *nlh;
    struct gtu_err e;
    uint8_t frame[14] = { [12] = 0x12, [13] = 0x34 };

    /* check_ct_clear(). */
    nlh = probe_put_req(f->ifindex, true, 0, OVS_ACTION_ATTR_CT_CLEAR, NULL,
                        0, &acts);
    e = send_expect(f->a, nlh, -EINVAL, "ct_clear");
    expect_offs(&e, nlh, acts);
    nlh = probe_put_req(f->ifindex, false, 0, OVS_ACTION_ATTR_CT_CLEAR,
                        NULL, 0, &acts);
    e = send_expect(f->a, nlh, -EOPNOTSUPP, "ct_clear");
    expect_offs(&e, nlh, acts);

    /* check_max_dp_hash_alg(): algorithm 1 (symmetric L4) is unknown. */
    nlh = probe_put_req(f->ifindex, true, 0, OVS_ACTION_ATTR_HASH, &hash,
                        sizeof hash, &acts);
    send_expect(f->a, nlh, -EINVAL, "algorithm");

    /* CHECK_FEATURE(ct_state): a key weird cannot match on. */
    nlh = probe_put_req(f->ifindex, true, 1, OVS_ACTION_ATTR_OUTPUT,
                        &(uint32_t) { 0 }, 4, &acts);
    send_expect(f->a, nlh, -EINVAL, "key");

    /* What weir has is accepted (and the probe flow deleted, as
     * dpif_probe_feature() does). */
    nlh = probe_put_req(f->ifindex, true, 0, OVS_ACTION_ATTR_OUTPUT,
                        &(uint32_t) { 0 }, 4, &acts);
    nlh->nlmsg_flags |= NLM_F_ACK;
    send_expect(f->a, nlh, 0, NULL);
    nlh = gtu_req(buf, sizeof buf, GENL_FAMILY_ID_FLOW, OVS_FLOW_CMD_DEL,
                  NLM_F_ACK, seq++, f->ifindex);
    put_probe_key(nlh, OVS_FLOW_ATTR_KEY, 0);
    send_expect(f->a, nlh, 0, NULL);

    /* An execute probe (check_ct_eventmask() and the like) with an action
     * weird does not run: -EINVAL with OVS_PACKET_ATTR_PROBE. */
    for (int probe = 0; probe < 2; probe++) {
        struct nlattr *nest;

        nlh = gtu_req(buf, sizeof buf, GENL_FAMILY_ID_PACKET,
                      OVS_PACKET_CMD_EXECUTE, 0, seq++, f->ifindex);
        put_bytes(nlh, OVS_PACKET_ATTR_PACKET, frame, sizeof frame);
        nest = nest_start(nlh, OVS_PACKET_ATTR_KEY);
        put_u32(nlh, OVS_KEY_ATTR_PRIORITY, 0);
        put_u32(nlh, OVS_KEY_ATTR_SKB_MARK, 0);
        mnl_attr_nest_end(nlh, nest);
        nest = nest_start(nlh, OVS_PACKET_ATTR_ACTIONS);
        put_bytes(nlh, OVS_ACTION_ATTR_CT_CLEAR, NULL, 0);
        mnl_attr_nest_end(nlh, nest);
        if (probe) {
            put_bytes(nlh, OVS_PACKET_ATTR_PROBE, NULL, 0);
        }
        e = send_expect(f->a, nlh, probe ? -EINVAL : -EOPNOTSUPP,
                        "ct_clear");
        expect_offs(&e, nlh, nest);
    }
    gtu_expect_none(f->b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ctrl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meter_features, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_meter_ovs_probe, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_meter_set_checks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_meter_get_del_checks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_meter_core, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ct_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ovs_probes, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
