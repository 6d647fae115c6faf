/* SPDX-License-Identifier: Apache-2.0 */

/* The generic-netlink server core (src/genl/genl.c) and nlctrl
 * (src/genl/genl-ctrl.c): requests built by hand, handed to
 * genl_conn_input(), and the bytes of what the server queues checked
 * against what the kernel (6.1) would send.
 *
 * A test family ("gtest", registered through genl_test_family) exercises
 * what no real family can on demand: every attribute policy kind, dumps
 * of any number and size of entries, dumpit errors, notifications. */

#define _GNU_SOURCE             /* unshare(), setns(), CLONE_NEWNET. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "genl-test-util.h"

#include "dp/dp.h"
#include "dp/upcall.h"
#include "packet/packet.h"
#include "weir/control.h"

/* ---- The test family. ---- */

#define GT_FAMILY_ID 0x3f
#define GT_MCGRP_ID 9
#define GT_UNKNOWN_FAMILY 0x30

enum {
    GT_ATTR_UNSPEC,
    GT_ATTR_U8,         /* DUMP: fail after this many entries. */
    GT_ATTR_U16,
    GT_ATTR_U32,        /* DUMP: number of entries. */
    GT_ATTR_U64,        /* DUMP: payload bytes of each entry. */
    GT_ATTR_STR,
    GT_ATTR_FLAG,
    GT_ATTR_NEST,
    GT_ATTR_BIN,
    GT_ATTR_EXACT,
    GT_ATTR_ANY,
    GT_ATTR_MAX = GT_ATTR_ANY,
};

enum {
    GT_CMD_ECHO = 1,    /* Replies: R_PRESENT bitmap, R_U32 value. */
    GT_CMD_DUMP = 2,    /* Reads its attributes (dump_attrs). */
    GT_CMD_FAIL = 3,    /* -ENOSPC, message, U32 as the bad attribute. */
    GT_CMD_NOTIFY = 4,  /* genl_notify() of an ECHO-like message. */
    GT_CMD_PROBE = 5,   /* Fails as a probe. */
    GT_CMD_LIST = 6,    /* A dump of 3 entries that sees no attributes. */
    GT_CMD_BULK = 7,    /* Replies: R_DATA of U32 bytes. */
};

enum {
    GT_R_PRESENT = 1,
    GT_R_U32 = 2,
    GT_R_INDEX = 3,
    GT_R_DATA = 4,
};

static const struct genl_policy gt_policy[GT_ATTR_MAX + 1] = {
    [GT_ATTR_U8] = { GENL_ATTR_U8, 0 },
    [GT_ATTR_U16] = { GENL_ATTR_U16, 0 },
    [GT_ATTR_U32] = { GENL_ATTR_U32, 0 },
    [GT_ATTR_U64] = { GENL_ATTR_U64, 0 },
    [GT_ATTR_STR] = { GENL_ATTR_STRING, 8 },
    [GT_ATTR_FLAG] = { GENL_ATTR_FLAG, 0 },
    [GT_ATTR_NEST] = { GENL_ATTR_NESTED, 0 },
    [GT_ATTR_BIN] = { GENL_ATTR_BINARY, 4 },
    [GT_ATTR_EXACT] = { GENL_ATTR_EXACT, 6 },
    [GT_ATTR_ANY] = { GENL_ATTR_UNSPEC, 0 },
};

static const struct genl_family gt_family;
static int gt_notify_must;      /* genl_must_notify() results, counted. */

static int
gt_echo(struct genl_req *req)
{
    struct genl_msgbuf mb;
    struct nlmsghdr *nlh;
    uint32_t present = 0;

    for (int i = 0; i <= GT_ATTR_MAX; i++) {
        if (req->tb[i]) {
            present |= 1u << i;
        }
    }
    assert_int_equal(genl_msgbuf_init(&mb, 4096), 0);
    nlh = genl_msg_start(&mb, &gt_family, GT_CMD_ECHO,
                         genl_conn_pid(req->conn), req->nlh->nlmsg_seq, 0,
                         0);
    assert_non_null(nlh);
    mnl_attr_put_u32_check(nlh, genl_msg_room(&mb, nlh), GT_R_PRESENT,
                           present);
    if (req->tb[GT_ATTR_U32]) {
        mnl_attr_put_u32_check(nlh, genl_msg_room(&mb, nlh), GT_R_U32,
                               mnl_attr_get_u32(req->tb[GT_ATTR_U32]));
    }
    genl_msg_end(&mb, nlh);
    genl_unicast(req->conn, &mb);
    assert_int_equal(mb.len, 0);
    genl_msgbuf_uninit(&mb);
    return 0;
}

static int
gt_dump(struct genl_req *req, struct genl_msgbuf *out,
        struct genl_dump_state *st)
{
    uint32_t count = req->tb[GT_ATTR_U32]
                     ? mnl_attr_get_u32(req->tb[GT_ATTR_U32]) : 0;
    uint64_t size = req->tb[GT_ATTR_U64]
                    ? mnl_attr_get_u64(req->tb[GT_ATTR_U64]) : 0;
    uint32_t fail = req->tb[GT_ATTR_U8]
                    ? mnl_attr_get_u8(req->tb[GT_ATTR_U8]) : UINT32_MAX;
    static uint8_t data[65536];

    assert_true(size <= sizeof data);
    while (st->args[0] < count) {
        struct nlmsghdr *nlh;

        if (st->args[0] == fail) {
            errbuf_set(req->err, "gtest dump failed at %" PRIu32, fail);
            return -EIO;
        }
        nlh = genl_msg_start(out, &gt_family, GT_CMD_DUMP,
                             genl_conn_pid(req->conn), req->nlh->nlmsg_seq,
                             NLM_F_MULTI, 0);
        if (!nlh) {
            return 1;
        }
        memset(data, (int) st->args[0], size);
        if (!mnl_attr_put_u32_check(nlh, genl_msg_room(out, nlh),
                                    GT_R_INDEX, (uint32_t) st->args[0])
            || !mnl_attr_put_check(nlh, genl_msg_room(out, nlh), GT_R_DATA,
                                   size, data)) {
            genl_msg_cancel(out, nlh);
            return 1;
        }
        genl_msg_end(out, nlh);
        st->args[0]++;
    }
    return 0;
}

static int
gt_bulk(struct genl_req *req)
{
    static const uint8_t zeros[GENL_REPLY_SIZE - 64];
    uint32_t n = req->tb[GT_ATTR_U32] ? mnl_attr_get_u32(req->tb[GT_ATTR_U32])
                                      : 0;
    struct genl_msgbuf mb;
    struct nlmsghdr *nlh;

    assert_true(n <= sizeof zeros);
    assert_int_equal(genl_msgbuf_init(&mb, GENL_REPLY_SIZE), 0);
    nlh = genl_msg_start(&mb, &gt_family, GT_CMD_BULK,
                         genl_conn_pid(req->conn), req->nlh->nlmsg_seq, 0,
                         0);
    assert_non_null(nlh);
    assert_true(mnl_attr_put_check(nlh, genl_msg_room(&mb, nlh), GT_R_DATA,
                                   n, zeros));
    genl_msg_end(&mb, nlh);
    genl_unicast(req->conn, &mb);
    genl_msgbuf_uninit(&mb);
    return 0;
}

static int
gt_list(struct genl_req *req, struct genl_msgbuf *out,
        struct genl_dump_state *st)
{
    /* GENL_DONT_VALIDATE_DUMP: the attributes are not there. */
    for (int i = 0; i <= GENL_MAX_ATTR; i++) {
        assert_null(req->tb[i]);
    }
    while (st->args[0] < 3) {
        struct nlmsghdr *nlh;

        nlh = genl_msg_start(out, &gt_family, GT_CMD_LIST,
                             genl_conn_pid(req->conn), req->nlh->nlmsg_seq,
                             NLM_F_MULTI, 0);
        assert_non_null(nlh);
        assert_true(mnl_attr_put_u32_check(nlh, genl_msg_room(out, nlh),
                                           GT_R_INDEX,
                                           (uint32_t) st->args[0]));
        genl_msg_end(out, nlh);
        st->args[0]++;
    }
    return 0;
}

static int
gt_fail(struct genl_req *req)
{
    errbuf_set(req->err, "gtest failure");
    req->bad_attr = req->tb[GT_ATTR_U32];
    return -ENOSPC;
}

static int
gt_notify(struct genl_req *req)
{
    struct genl_msgbuf mb;
    struct nlmsghdr *nlh;

    if (!genl_must_notify(req, &gt_family)) {
        return 0;
    }
    gt_notify_must++;
    assert_int_equal(genl_msgbuf_init(&mb, 4096), 0);
    nlh = genl_msg_start(&mb, &gt_family, GT_CMD_NOTIFY,
                         genl_conn_pid(req->conn), req->nlh->nlmsg_seq, 0,
                         0);
    assert_non_null(nlh);
    genl_msg_end(&mb, nlh);
    genl_notify(req, &gt_family, &mb);
    assert_int_equal(mb.len, 0);
    genl_msgbuf_uninit(&mb);
    return 0;
}

static int
gt_probe(struct genl_req *req)
{
    req->probe = true;
    return -EINVAL;
}

static const struct genl_op gt_ops[] = {
    { .cmd = GT_CMD_ECHO, .doit = gt_echo },
    { .cmd = GT_CMD_DUMP, .dumpit = gt_dump, .dump_attrs = true },
    { .cmd = GT_CMD_FAIL, .admin = true, .doit = gt_fail },
    { .cmd = GT_CMD_NOTIFY, .doit = gt_notify },
    { .cmd = GT_CMD_PROBE, .doit = gt_probe },
    { .cmd = GT_CMD_LIST, .dumpit = gt_list },
    { .cmd = GT_CMD_BULK, .doit = gt_bulk },
};

static const struct genl_family gt_family = {
    .name = "gtest",
    .id = GT_FAMILY_ID,
    .version = 1,
    .hdrsize = 0,
    .maxattr = GT_ATTR_MAX,
    .policy = gt_policy,
    .ops = gt_ops,
    .n_ops = sizeof gt_ops / sizeof gt_ops[0],
    .mcgrp_name = "gtest",
    .mcgrp_id = GT_MCGRP_ID,
};

/* ---- Helpers. ---- */

static uint8_t qbuf[GTU_BUF_SIZE];     /* Requests. */
static uint8_t rbuf[GTU_BUF_SIZE];     /* What the server sends. */

static struct nlmsghdr *
gt_req(uint8_t cmd, uint16_t flags, uint32_t seq)
{
    return gtu_req(qbuf, sizeof qbuf, GT_FAMILY_ID, cmd, flags, seq, 0);
}

static struct nlmsghdr *
ctrl_req(uint16_t flags, uint32_t seq)
{
    return gtu_req(qbuf, sizeof qbuf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                   flags, seq, 0);
}

/* Pops the next datagram into 'rbuf'; fails if there is none. */
static size_t
recv_dgram(struct genl_conn *conn)
{
    size_t len = gtu_recv(conn, rbuf, sizeof rbuf);

    if (!len) {
        fail_msg("expected a datagram, nothing queued");
    }
    return len;
}

/* The reply of the ECHO command in 'nlh': its R_PRESENT bitmap. */
static uint32_t
echo_present(const struct nlmsghdr *nlh, uint32_t *u32)
{
    const struct nlattr *tb[GT_R_DATA + 1];

    gtu_attrs(nlh, tb, GT_R_DATA);
    assert_non_null(tb[GT_R_PRESENT]);
    if (u32) {
        *u32 = tb[GT_R_U32] ? mnl_attr_get_u32(tb[GT_R_U32]) : 0xdeadbeef;
    }
    return mnl_attr_get_u32(tb[GT_R_PRESENT]);
}

static struct genl_server *srv;

static int
setup(void **state)
{
    (void) state;
    gtu_rcu_init();
    genl_test_family = &gt_family;
    gt_notify_must = 0;
    srv = gtu_server(1);
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    genl_server_destroy(srv);
    srv = NULL;
    genl_test_family = NULL;
    qsbr_quiesce();
    return 0;
}

/* ---- nlctrl. ---- */

/* Checks a CTRL_CMD_NEWFAMILY message against family 'fam': attributes
 * in the kernel's order, values, op flags, groups. */
static void
check_family_msg(const struct nlmsghdr *nlh, const struct genl_family *fam,
                 uint32_t seq, uint32_t pid, uint16_t flags)
{
    static const uint16_t order[] = {
        CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_VERSION,
        CTRL_ATTR_HDRSIZE, CTRL_ATTR_MAXATTR, CTRL_ATTR_OPS,
        CTRL_ATTR_MCAST_GROUPS,
    };
    size_t n_expected = fam->mcgrp_name ? 7 : 6;
    const struct nlattr *tb[CTRL_ATTR_MAX + 1];
    const struct nlattr *a;
    size_t i = 0;

    assert_int_equal(nlh->nlmsg_type, GENL_ID_CTRL);
    assert_int_equal(nlh->nlmsg_flags, flags);
    assert_int_equal(nlh->nlmsg_seq, seq);
    assert_int_equal(nlh->nlmsg_pid, pid);
    assert_int_equal(gtu_genl(nlh)->cmd, CTRL_CMD_NEWFAMILY);
    assert_int_equal(gtu_genl(nlh)->version, 2);

    mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
        assert_true(i < n_expected);
        /* No NLA_F_NESTED anywhere, as nla_nest_start_noflag(). */
        assert_int_equal(a->nla_type, order[i]);
        i++;
    }
    assert_int_equal(i, n_expected);

    gtu_attrs(nlh, tb, CTRL_ATTR_MAX);
    assert_string_equal(mnl_attr_get_str(tb[CTRL_ATTR_FAMILY_NAME]),
                        fam->name);
    assert_int_equal(mnl_attr_get_payload_len(tb[CTRL_ATTR_FAMILY_NAME]),
                     strlen(fam->name) + 1);
    assert_int_equal(mnl_attr_get_payload_len(tb[CTRL_ATTR_FAMILY_ID]), 2);
    assert_int_equal(mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]), fam->id);
    assert_int_equal(mnl_attr_get_u32(tb[CTRL_ATTR_VERSION]), fam->version);
    assert_int_equal(mnl_attr_get_u32(tb[CTRL_ATTR_HDRSIZE]), fam->hdrsize);
    assert_int_equal(mnl_attr_get_u32(tb[CTRL_ATTR_MAXATTR]),
                     fam->id == GENL_ID_CTRL ? 0 : fam->maxattr);

    i = 0;
    mnl_attr_for_each_nested(a, tb[CTRL_ATTR_OPS]) {
        const struct nlattr *op[CTRL_ATTR_OP_MAX + 1];
        const struct genl_op *o = &fam->ops[i];
        uint32_t f = (o->admin ? GENL_UNS_ADMIN_PERM : 0)
                     | (o->doit ? GENL_CMD_CAP_DO : 0)
                     | (o->dumpit ? GENL_CMD_CAP_DUMP : 0)
                     | GENL_CMD_CAP_HASPOL;
        const struct nlattr *first;

        assert_true(i < fam->n_ops);
        assert_int_equal(a->nla_type, i + 1);
        first = mnl_attr_get_payload(a);
        assert_int_equal(first->nla_type, CTRL_ATTR_OP_ID);
        gtu_nested(a, op, CTRL_ATTR_OP_MAX);
        assert_int_equal(mnl_attr_get_u32(op[CTRL_ATTR_OP_ID]), o->cmd);
        assert_int_equal(mnl_attr_get_u32(op[CTRL_ATTR_OP_FLAGS]), f);
        i++;
    }
    assert_int_equal(i, fam->n_ops);

    if (fam->mcgrp_name) {
        const struct nlattr *grp[CTRL_ATTR_MCAST_GRP_MAX + 1];
        const struct nlattr *nest, *first;

        nest = mnl_attr_get_payload(tb[CTRL_ATTR_MCAST_GROUPS]);
        assert_int_equal(nest->nla_type, 1);
        assert_int_equal(mnl_attr_get_payload_len(tb[CTRL_ATTR_MCAST_GROUPS]),
                         MNL_ALIGN(nest->nla_len));
        first = mnl_attr_get_payload(nest);
        assert_int_equal(first->nla_type, CTRL_ATTR_MCAST_GRP_ID);
        gtu_nested(nest, grp, CTRL_ATTR_MCAST_GRP_MAX);
        assert_int_equal(mnl_attr_get_u32(grp[CTRL_ATTR_MCAST_GRP_ID]),
                         fam->mcgrp_id);
        assert_string_equal(mnl_attr_get_str(grp[CTRL_ATTR_MCAST_GRP_NAME]),
                            fam->mcgrp_name);
    }
}

static void
test_ctrl_by_name(void **state)
{
    static const struct {
        const char *name;
        uint16_t id;
        uint32_t group;
    } expect[] = {
        { "nlctrl", GENL_ID_CTRL, GENL_ID_CTRL },
        { OVS_DATAPATH_FAMILY, 0x20, 5 },
        { OVS_VPORT_FAMILY, 0x21, 6 },
        { OVS_FLOW_FAMILY, 0x22, 7 },
        { OVS_PACKET_FAMILY, 0x23, 0 },
        { OVS_METER_FAMILY, 0x24, 8 },
        { OVS_CT_LIMIT_FAMILY, 0x25, 9 },
    };
    struct genl_conn *c = gtu_conn(srv, 100);

    (void) state;
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        const struct genl_family *fam = genl_family_by_name(expect[i].name);
        struct nlmsghdr *nlh = ctrl_req(0, 10 + i);
        size_t len;

        assert_non_null(fam);
        assert_int_equal(fam->id, expect[i].id);
        assert_int_equal(fam->mcgrp_name ? fam->mcgrp_id : 0,
                         expect[i].group);
        mnl_attr_put_strz_check(nlh, sizeof qbuf, CTRL_ATTR_FAMILY_NAME,
                                expect[i].name);
        gtu_send(c, nlh);
        len = recv_dgram(c);
        assert_int_equal(gtu_count_msgs(rbuf, len), 1);
        check_family_msg((const void *) rbuf, fam, 10 + i, 100, 0);
        gtu_expect_none(c);       /* No ACK without NLM_F_ACK. */
    }
    genl_conn_destroy(c);
}

static void
test_ctrl_by_id(void **state)
{
    struct genl_conn *c = gtu_conn(srv, 101);
    struct nlmsghdr *nlh;
    struct gtu_err e;

    (void) state;
    /* By id, with an ACK after the reply. */
    nlh = ctrl_req(NLM_F_ACK, 7);
    mnl_attr_put_u16_check(nlh, sizeof qbuf, CTRL_ATTR_FAMILY_ID, 0x22);
    gtu_send(c, nlh);
    recv_dgram(c);
    check_family_msg((const void *) rbuf, &genl_flow_family, 7, 101, 0);
    assert_int_equal(gtu_recv_err(c, &e), 0);
    assert_int_equal(e.seq, 7);
    assert_int_equal(e.portid, 101);
    gtu_expect_none(c);

    /* The name wins over the id. */
    nlh = ctrl_req(0, 8);
    mnl_attr_put_u16_check(nlh, sizeof qbuf, CTRL_ATTR_FAMILY_ID, 0x22);
    mnl_attr_put_strz_check(nlh, sizeof qbuf, CTRL_ATTR_FAMILY_NAME,
                            OVS_VPORT_FAMILY);
    gtu_send(c, nlh);
    recv_dgram(c);
    check_family_msg((const void *) rbuf, &genl_vport_family, 8, 101, 0);

    /* Neither: -EINVAL.  Unknown name or id: -ENOENT, no message. */
    genl_conn_setsockopt(c, WEIR_SOCK_EXT_ACK, 1);
    gtu_send(c, ctrl_req(0, 9));
    assert_int_equal(gtu_recv_err(c, NULL), -EINVAL);
    nlh = ctrl_req(0, 10);
    mnl_attr_put_strz_check(nlh, sizeof qbuf, CTRL_ATTR_FAMILY_NAME,
                            "nl80211");
    gtu_send(c, nlh);
    assert_int_equal(gtu_recv_err(c, &e), -ENOENT);
    assert_false(e.has_msg);
    assert_int_equal(e.flags & NLM_F_ACK_TLVS, 0);
    nlh = ctrl_req(0, 11);
    mnl_attr_put_u16_check(nlh, sizeof qbuf, CTRL_ATTR_FAMILY_ID, 0x26);
    gtu_send(c, nlh);
    assert_int_equal(gtu_recv_err(c, NULL), -ENOENT);
    /* The test family is found by id only. */
    nlh = ctrl_req(0, 12);
    mnl_attr_put_strz_check(nlh, sizeof qbuf, CTRL_ATTR_FAMILY_NAME,
                            "gtest");
    gtu_send(c, nlh);
    assert_int_equal(gtu_recv_err(c, NULL), -ENOENT);
    gtu_expect_none(c);
    genl_conn_destroy(c);
}

static void
test_ctrl_dump(void **state)
{
    struct genl_conn *c = gtu_conn(srv, 102);
    const struct nlmsghdr *nlh;
    struct nlmsghdr *q;
    size_t len, n = 0;

    (void) state;
    /* NLM_F_ACK on a dump earns no ACK. */
    gtu_send(c, ctrl_req(NLM_F_DUMP | NLM_F_ACK, 21));
    len = recv_dgram(c);
    assert_int_equal(gtu_count_msgs(rbuf, len), 8);
    GTU_FOR_EACH_MSG (nlh, rbuf, len) {
        if (n < 7) {
            check_family_msg(nlh, genl_families[n], 21, 102, NLM_F_MULTI);
        } else {
            int32_t err;

            assert_int_equal(nlh->nlmsg_type, NLMSG_DONE);
            assert_int_equal(nlh->nlmsg_flags, NLM_F_MULTI);
            assert_int_equal(nlh->nlmsg_seq, 21);
            assert_int_equal(nlh->nlmsg_pid, 102);
            assert_int_equal(nlh->nlmsg_len, MNL_NLMSG_HDRLEN + 4);
            memcpy(&err, mnl_nlmsg_get_payload(nlh), 4);
            assert_int_equal(err, 0);
        }
        n++;
    }
    assert_null(genl_families[7]);
    gtu_expect_none(c);

    /* The kernel does not validate the family dump's attributes
     * (GENL_DONT_VALIDATE_DUMP): a bad one changes nothing. */
    q = ctrl_req(NLM_F_DUMP, 24);
    mnl_attr_put_check(q, sizeof qbuf, CTRL_ATTR_FAMILY_ID, 1, "\1");
    mnl_attr_put_check(q, sizeof qbuf, CTRL_ATTR_FAMILY_NAME, 3, "abc");
    gtu_send(c, q);
    len = recv_dgram(c);
    assert_int_equal(gtu_count_msgs(rbuf, len), 8);
    nlh = (const void *) (rbuf + len - MNL_NLMSG_HDRLEN - 4);
    assert_int_equal(nlh->nlmsg_type, NLMSG_DONE);
    assert_int_equal(*(const int32_t *) mnl_nlmsg_get_payload(nlh), 0);
    gtu_expect_none(c);

    /* GETPOLICY is listed but refused, with a reason. */
    genl_conn_setsockopt(c, WEIR_SOCK_EXT_ACK, 1);
    gtu_send(c, gtu_req(qbuf, sizeof qbuf, GENL_ID_CTRL,
                        CTRL_CMD_GETPOLICY, NLM_F_DUMP, 22, 0));
    len = recv_dgram(c);
    nlh = (const void *) rbuf;
    assert_int_equal(gtu_count_msgs(rbuf, len), 1);
    assert_int_equal(nlh->nlmsg_type, NLMSG_DONE);
    assert_int_equal(nlh->nlmsg_flags, NLM_F_MULTI | NLM_F_ACK_TLVS);
    {
        int32_t err;
        const struct nlattr *a;

        memcpy(&err, mnl_nlmsg_get_payload(nlh), 4);
        assert_int_equal(err, -EOPNOTSUPP);
        a = (const void *) ((const uint8_t *) nlh + MNL_NLMSG_HDRLEN + 4);
        assert_int_equal(a->nla_type, NLMSGERR_ATTR_MSG);
        assert_non_null(strstr(mnl_attr_get_str(a), "GETPOLICY"));
    }
    /* Without NLM_F_DUMP it has no handler. */
    gtu_send(c, gtu_req(qbuf, sizeof qbuf, GENL_ID_CTRL,
                        CTRL_CMD_GETPOLICY, 0, 23, 0));
    assert_int_equal(gtu_recv_err(c, NULL), -EOPNOTSUPP);
    genl_conn_destroy(c);
}

/* ---- Dispatch and errors. ---- */

static void
test_unknown_family_and_cmd(void **state)
{
    struct genl_conn *c = gtu_conn(srv, 103);
    struct nlmsghdr *nlh;
    struct gtu_err e;

    (void) state;
    nlh = gtu_req(qbuf, sizeof qbuf, GT_UNKNOWN_FAMILY, 1, 0, 31, 0);
    mnl_attr_put_u32_check(nlh, sizeof qbuf, 1, 0x01020304);
    gtu_send(c, nlh);
    assert_int_equal(gtu_recv_err(c, &e), -ENOENT);
    assert_int_equal(e.flags, 0);           /* Echoed, no TLVs. */
    assert_int_equal(e.portid, 103);
    assert_int_equal(e.seq, 31);
    assert_memory_equal(&e.orig, nlh, sizeof *nlh);
    assert_int_equal(e.echoed, nlh->nlmsg_len - MNL_NLMSG_HDRLEN);
    assert_memory_equal(e.echo, mnl_nlmsg_get_payload(nlh), e.echoed);

    /* Unknown command; with 'reserved' set past the last command it is
     * -EINVAL (resv_start_op); on a known command 'reserved' is ignored. */
    gtu_send(c, gt_req(99, 0, 32));
    assert_int_equal(gtu_recv_err(c, NULL), -EOPNOTSUPP);
    nlh = gt_req(99, 0, 33);
    ((struct genlmsghdr *) mnl_nlmsg_get_payload(nlh))->reserved = 1;
    gtu_send(c, nlh);
    assert_int_equal(gtu_recv_err(c, NULL), -EINVAL);
    nlh = gt_req(GT_CMD_ECHO, 0, 34);
    ((struct genlmsghdr *) mnl_nlmsg_get_payload(nlh))->reserved = 1;
    gtu_send(c, nlh);
    gtu_recv_msg(c, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_ECHO);

    /* A dump of a doit-only command, a doit of a dump-only one. */
    gtu_send(c, gt_req(GT_CMD_ECHO, NLM_F_DUMP, 35));
    assert_int_equal(gtu_recv_err(c, NULL), -EOPNOTSUPP);
    gtu_send(c, gt_req(GT_CMD_DUMP, 0, 36));
    assert_int_equal(gtu_recv_err(c, NULL), -EOPNOTSUPP);
    gtu_send(c, gtu_req(qbuf, sizeof qbuf, GENL_FAMILY_ID_DATAPATH,
                        OVS_DP_CMD_NEW, NLM_F_DUMP, 37, 0));
    assert_int_equal(gtu_recv_err(c, NULL), -EOPNOTSUPP);
    gtu_expect_none(c);
    genl_conn_destroy(c);
}

static void
test_truncated(void **state)
{
    struct genl_conn *c = gtu_conn(srv, 104);
    struct nlmsghdr *nlh;
    uint8_t dg[256];
    size_t len;

    (void) state;
    /* nlmsg_len below the header: the datagram ends, silently. */
    nlh = ctrl_req(NLM_F_ACK, 41);
    nlh->nlmsg_len = 12;
    genl_conn_input(c, nlh, 20);
    gtu_expect_none(c);
    /* nlmsg_len past the datagram: the same. */
    nlh = ctrl_req(NLM_F_ACK, 42);
    genl_conn_input(c, nlh, nlh->nlmsg_len - 1);
    gtu_expect_none(c);
    /* Fewer bytes than a header: ignored. */
    genl_conn_input(c, nlh, 15);
    genl_conn_input(c, nlh, 0);
    gtu_expect_none(c);

    /* Too short for genlmsghdr (nlctrl) or the ovs_header: -EINVAL. */
    nlh = ctrl_req(0, 43);
    nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 2;
    gtu_send(c, nlh);
    assert_int_equal(gtu_recv_err(c, NULL), -EINVAL);
    nlh = gtu_req(qbuf, sizeof qbuf, GENL_FAMILY_ID_DATAPATH,
                  OVS_DP_CMD_GET, NLM_F_ACK, 44, 0);
    nlh->nlmsg_len = MNL_NLMSG_HDRLEN + GENL_HDRLEN;
    gtu_send(c, nlh);
    assert_int_equal(gtu_recv_err(c, NULL), -EINVAL);

    /* Two messages, the second truncated: only the first is answered.
     * Both ask for an ACK. */
    nlh = gt_req(GT_CMD_ECHO, NLM_F_ACK, 45);
    len = nlh->nlmsg_len;
    memcpy(dg, nlh, len);
    memcpy(dg + len, nlh, len);
    ((struct nlmsghdr *) (dg + len))->nlmsg_seq = 46;
    genl_conn_input(c, dg, 2 * len - 4);
    gtu_recv_msg(c, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_ECHO);
    assert_int_equal(((struct nlmsghdr *) rbuf)->nlmsg_seq, 45);
    assert_int_equal(gtu_recv_err(c, NULL), 0);
    gtu_expect_none(c);

    /* A last message of unaligned length takes the datagram's end. */
    nlh = gt_req(GT_CMD_ECHO, 0, 47);
    mnl_attr_put_u8_check(nlh, sizeof qbuf, GT_ATTR_U8, 1);
    nlh->nlmsg_len -= 3;
    gtu_send(c, nlh);
    recv_dgram(c);
    assert_int_equal(echo_present((const void *) rbuf, NULL),
                     1u << GT_ATTR_U8);
    gtu_expect_none(c);
    genl_conn_destroy(c);
}

static void
test_not_request(void **state)
{
    struct genl_conn *c = gtu_conn(srv, 105);
    struct nlmsghdr *nlh;
    struct gtu_err e;

    (void) state;
    /* No NLM_F_REQUEST: skipped; acknowledged only with NLM_F_ACK. */
    nlh = ctrl_req(0, 51);
    nlh->nlmsg_flags &= ~NLM_F_REQUEST;
    gtu_send(c, nlh);
    gtu_expect_none(c);
    nlh->nlmsg_flags |= NLM_F_ACK;
    gtu_send(c, nlh);
    assert_int_equal(gtu_recv_err(c, &e), 0);
    assert_int_equal(e.seq, 51);
    gtu_expect_none(c);

    /* Control messages, weir's transport types included, likewise. */
    nlh = gtu_req(qbuf, sizeof qbuf, NLMSG_NOOP, 0, 0, 52, 0);
    gtu_send(c, nlh);
    gtu_expect_none(c);
    nlh->nlmsg_flags |= NLM_F_ACK;
    gtu_send(c, nlh);
    assert_int_equal(gtu_recv_err(c, NULL), 0);
    {
        struct weir_sockopt so = { WEIR_SOCK_EXT_ACK, 1 };

        nlh = gtu_req(qbuf, sizeof qbuf, WEIR_NLMSG_SOCKOPT, 0, 0, 53, 0);
        memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof so), &so, sizeof so);
        gtu_send(c, nlh);
        gtu_expect_none(c);
    }
    /* ... and the option did not change: no extack below. */
    nlh = gt_req(GT_CMD_FAIL, 0, 54);
    gtu_send(c, nlh);
    assert_int_equal(gtu_recv_err(c, &e), -ENOSPC);
    assert_false(e.has_msg);
    genl_conn_destroy(c);
}

static void
test_ack_format(void **state)
{
    struct genl_conn *c = gtu_conn(srv, 106);
    const struct nlmsghdr *rep;
    struct nlmsghdr *nlh;
    struct gtu_err e;
    size_t len;

    (void) state;
    nlh = gt_req(GT_CMD_ECHO, NLM_F_ACK, 61);
    mnl_attr_put_u32_check(nlh, sizeof qbuf, GT_ATTR_U32, 5);
    gtu_send(c, nlh);
    gtu_recv_msg(c, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_ECHO);
    len = recv_dgram(c);
    rep = (const void *) rbuf;
    /* A success ACK: the header only, NLM_F_CAPPED (6.1). */
    assert_int_equal(len, MNL_NLMSG_HDRLEN + sizeof(struct nlmsgerr));
    assert_int_equal(rep->nlmsg_len, len);
    assert_int_equal(gtu_parse_err(rep, &e), 0);
    assert_int_equal(e.flags, NLM_F_CAPPED);
    assert_memory_equal(&e.orig, nlh, sizeof *nlh);

    /* ext_ack on, nothing to say: still no TLVs. */
    genl_conn_setsockopt(c, WEIR_SOCK_EXT_ACK, 1);
    gtu_send(c, nlh);
    gtu_recv_msg(c, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_ECHO);
    assert_int_equal(gtu_recv_err(c, &e), 0);
    assert_int_equal(e.flags, NLM_F_CAPPED);

    /* An error of a request of unaligned length: the echo is padded, the
     * message length is the whole. */
    genl_conn_setsockopt(c, WEIR_SOCK_EXT_ACK, 0);
    nlh = gt_req(GT_CMD_FAIL, 0, 62);
    mnl_attr_put_u8_check(nlh, sizeof qbuf, GT_ATTR_U8, 9);
    nlh->nlmsg_len -= 3;
    gtu_send(c, nlh);
    len = recv_dgram(c);
    rep = (const void *) rbuf;
    assert_int_equal(len, MNL_NLMSG_HDRLEN + sizeof(struct nlmsgerr)
                          + MNL_ALIGN(nlh->nlmsg_len - MNL_NLMSG_HDRLEN));
    assert_int_equal(rep->nlmsg_len, len);
    assert_int_equal(gtu_parse_err(rep, &e), -ENOSPC);
    assert_int_equal(e.flags, 0);
    assert_int_equal(e.echoed, nlh->nlmsg_len - MNL_NLMSG_HDRLEN);
    assert_memory_equal(e.echo, mnl_nlmsg_get_payload(nlh), e.echoed);
    genl_conn_destroy(c);
}

static void
test_extack_and_cap_ack(void **state)
{
    struct genl_conn *c = gtu_conn(srv, 107);
    struct nlmsghdr *nlh;
    struct gtu_err e;
    size_t off;

    (void) state;
    nlh = gt_req(GT_CMD_FAIL, 0, 71);
    mnl_attr_put_u8_check(nlh, sizeof qbuf, GT_ATTR_U8, 1);
    off = nlh->nlmsg_len;
    mnl_attr_put_u32_check(nlh, sizeof qbuf, GT_ATTR_U32, 2);

    /* Off: no TLVs, the request echoed. */
    gtu_send(c, nlh);
    assert_int_equal(gtu_recv_err(c, &e), -ENOSPC);
    assert_int_equal(e.flags, 0);
    assert_false(e.has_msg || e.has_offs);

    /* NETLINK_EXT_ACK: message and offset after the echo. */
    genl_conn_setsockopt(c, WEIR_SOCK_EXT_ACK, 1);
    gtu_send(c, nlh);
    assert_int_equal(gtu_recv_err(c, &e), -ENOSPC);
    assert_int_equal(e.flags, NLM_F_ACK_TLVS);
    assert_int_equal(e.echoed, nlh->nlmsg_len - MNL_NLMSG_HDRLEN);
    assert_string_equal(e.msg, "gtest failure");
    assert_true(e.has_offs);
    assert_int_equal(e.offs, off);

    /* NETLINK_CAP_ACK too: the TLVs follow the header at once. */
    genl_conn_setsockopt(c, WEIR_SOCK_CAP_ACK, 1);
    gtu_send(c, nlh);
    assert_int_equal(gtu_recv_err(c, &e), -ENOSPC);
    assert_int_equal(e.flags, NLM_F_CAPPED | NLM_F_ACK_TLVS);
    assert_int_equal(e.echoed, 0);
    assert_string_equal(e.msg, "gtest failure");
    assert_int_equal(e.offs, off);
    {
        const struct nlattr *first =
            (const void *) (rbuf + MNL_NLMSG_HDRLEN
                            + sizeof(struct nlmsgerr));

        /* gtu_recv_err() read into its own buffer: look again. */
        gtu_send(c, nlh);
        recv_dgram(c);
        assert_int_equal(first->nla_type, NLMSGERR_ATTR_MSG);
    }

    /* CAP_ACK alone: capped, nothing after the header. */
    genl_conn_setsockopt(c, WEIR_SOCK_EXT_ACK, 0);
    gtu_send(c, nlh);
    assert_int_equal(gtu_recv_err(c, &e), -ENOSPC);
    assert_int_equal(e.flags, NLM_F_CAPPED);
    assert_false(e.has_msg);

    /* A bad attribute that is not in the request gives no offset. */
    genl_conn_setsockopt(c, WEIR_SOCK_EXT_ACK, 1);
    genl_conn_setsockopt(c, WEIR_SOCK_CAP_ACK, 0);
    nlh = gt_req(GT_CMD_FAIL, 0, 72);
    gtu_send(c, nlh);
    assert_int_equal(gtu_recv_err(c, &e), -ENOSPC);
    assert_true(e.has_msg);
    assert_false(e.has_offs);

    /* A probe's failure is answered like any other. */
    gtu_send(c, gt_req(GT_CMD_PROBE, 0, 73));
    assert_int_equal(gtu_recv_err(c, NULL), -EINVAL);
    genl_conn_destroy(c);
}

/* Sends ECHO with one attribute of 'type' and 'len' bytes of 'data';
 * returns the error (0: the reply was read), with the extack in 'e'. */
static int
policy_try(struct genl_conn *c, uint16_t type, const void *data,
           size_t len, struct gtu_err *e, size_t *attr_off)
{
    struct nlmsghdr *nlh = gt_req(GT_CMD_ECHO, 0, 80);
    const struct nlmsghdr *rep;

    *attr_off = nlh->nlmsg_len;
    mnl_attr_put_check(nlh, sizeof qbuf, type, len, data);
    gtu_send(c, nlh);
    recv_dgram(c);
    rep = (const void *) rbuf;
    memset(e, 0, sizeof *e);
    if (rep->nlmsg_type == NLMSG_ERROR) {
        return gtu_parse_err(rep, e);
    }
    assert_int_equal(rep->nlmsg_type, GT_FAMILY_ID);
    assert_int_equal(echo_present(rep, NULL), 1u << type);
    return 0;
}

static void
test_policy(void **state)
{
    static const struct {
        uint16_t type;
        const char *data;
        size_t len;
        int error;
    } cases[] = {
        { GT_ATTR_U8, "", 0, -ERANGE },
        { GT_ATTR_U8, "\1", 1, 0 },
        { GT_ATTR_U8, "\1\2\3\4\5", 5, 0 },     /* Longer: accepted. */
        { GT_ATTR_U16, "\1", 1, -ERANGE },
        { GT_ATTR_U16, "\1\2", 2, 0 },
        { GT_ATTR_U32, "\1\2\3", 3, -ERANGE },
        { GT_ATTR_U32, "\1\2\3\4\5\6\7\10", 8, 0 },
        { GT_ATTR_U64, "\1\2\3\4\5\6\7", 7, -ERANGE },
        { GT_ATTR_U64, "\1\2\3\4\5\6\7\10", 8, 0 },
        { GT_ATTR_STR, "", 0, -EINVAL },
        { GT_ATTR_STR, "abc", 3, -EINVAL },      /* No NUL. */
        { GT_ATTR_STR, "abc", 4, 0 },
        { GT_ATTR_STR, "abcdefg", 8, 0 },        /* 7 + NUL: the most. */
        { GT_ATTR_STR, "abcdefgh", 9, -EINVAL },  /* No NUL in 8. */
        { GT_ATTR_STR, "abcdefg\0\0", 9, -ERANGE },
        { GT_ATTR_STR, "abcdefghijk", 12, -EINVAL },  /* NUL too far. */
        { GT_ATTR_STR, "ab\0\0\0\0\0\0\0\0", 10, -ERANGE },
        { GT_ATTR_STR, "ab\0cd\0", 7, 0 },
        { GT_ATTR_FLAG, "", 0, 0 },
        { GT_ATTR_FLAG, "\1", 1, -ERANGE },
        { GT_ATTR_NEST, "", 0, 0 },
        { GT_ATTR_NEST, "\1\2", 2, -ERANGE },
        { GT_ATTR_NEST, "\4\0\1\0", 4, 0 },
        { GT_ATTR_BIN, "\1\2\3\4", 4, 0 },
        { GT_ATTR_BIN, "\1\2\3\4\5", 5, -ERANGE },
        { GT_ATTR_EXACT, "\1\2\3\4\5", 5, -ERANGE },
        { GT_ATTR_EXACT, "\1\2\3\4\5\6", 6, 0 },
        { GT_ATTR_EXACT, "\1\2\3\4\5\6\7", 7, -ERANGE },
        { GT_ATTR_ANY, "", 0, 0 },
        { GT_ATTR_ANY, "\1\2\3", 3, 0 },
    };
    struct genl_conn *c = gtu_conn(srv, 108);
    struct gtu_err e;
    size_t off;

    (void) state;
    genl_conn_setsockopt(c, WEIR_SOCK_EXT_ACK, 1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int error = policy_try(c, cases[i].type, cases[i].data,
                               cases[i].len, &e, &off);

        if (error != cases[i].error) {
            fail_msg("case %zu (type %u, %zu bytes): %d, expected %d", i,
                     cases[i].type, cases[i].len, error, cases[i].error);
        }
        if (error) {
            assert_string_equal(e.msg, cases[i].type == GT_ATTR_EXACT
                                ? "binary attribute size out of range"
                                : "Attribute failed policy validation");
            assert_true(e.has_offs);
            assert_int_equal(e.offs, off);
        }
        gtu_expect_none(c);
    }
    genl_conn_destroy(c);
}

static void
test_attr_parsing(void **state)
{
    struct genl_conn *c = gtu_conn(srv, 109);
    const struct nlmsghdr *rep;
    struct nlmsghdr *nlh;
    struct nlattr *a;
    struct gtu_err e;
    uint32_t v;

    (void) state;
    /* Duplicates: the last wins.  Type 0 and types past maxattr are
     * skipped; NLA_F_NESTED and NLA_F_NET_BYTEORDER are not the type. */
    nlh = gt_req(GT_CMD_ECHO, 0, 91);
    mnl_attr_put_u32_check(nlh, sizeof qbuf, GT_ATTR_U32, 1);
    mnl_attr_put_u32_check(nlh, sizeof qbuf, GT_ATTR_U32, 2);
    mnl_attr_put_u32_check(nlh, sizeof qbuf, 0, 3);
    mnl_attr_put_u32_check(nlh, sizeof qbuf, GT_ATTR_MAX + 1, 4);
    mnl_attr_put_check(nlh, sizeof qbuf, 0x7ff, 1, "x");
    mnl_attr_put_u16_check(nlh, sizeof qbuf,
                           GT_ATTR_U16 | NLA_F_NET_BYTEORDER, 5);
    a = mnl_attr_nest_start(nlh, GT_ATTR_NEST);
    mnl_attr_nest_end(nlh, a);
    gtu_send(c, nlh);
    recv_dgram(c);
    rep = (const void *) rbuf;
    assert_int_equal(echo_present(rep, &v),
                     (1u << GT_ATTR_U32) | (1u << GT_ATTR_U16)
                     | (1u << GT_ATTR_NEST));
    assert_int_equal(v, 2);

    /* Leftover bytes after the last attribute: accepted, with a warning
     * in the ACK when extack is on. */
    genl_conn_setsockopt(c, WEIR_SOCK_EXT_ACK, 1);
    nlh = gt_req(GT_CMD_ECHO, NLM_F_ACK, 92);
    mnl_attr_put_u32_check(nlh, sizeof qbuf, GT_ATTR_U32, 7);
    memset(mnl_nlmsg_get_payload_tail(nlh), 0, 8);
    nlh->nlmsg_len += 8;        /* An attribute header of length 0. */
    gtu_send(c, nlh);
    recv_dgram(c);
    assert_int_equal(echo_present((const void *) rbuf, &v),
                     1u << GT_ATTR_U32);
    assert_int_equal(v, 7);
    assert_int_equal(gtu_recv_err(c, &e), 0);
    assert_int_equal(e.flags, NLM_F_CAPPED | NLM_F_ACK_TLVS);
    assert_string_equal(e.msg, "bytes leftover after parsing attributes");
    assert_false(e.has_offs);

    /* The warning stays the message of an error with none of its own. */
    nlh = gt_req(GT_CMD_PROBE, 0, 93);
    memset(mnl_nlmsg_get_payload_tail(nlh), 0, 2);
    nlh->nlmsg_len += 2;
    gtu_send(c, nlh);
    assert_int_equal(gtu_recv_err(c, &e), -EINVAL);
    assert_string_equal(e.msg, "bytes leftover after parsing attributes");
    gtu_expect_none(c);
    genl_conn_destroy(c);
}

static void
test_datagram_of_many(void **state)
{
    struct genl_conn *c = gtu_conn(srv, 110);
    _Alignas(8) uint8_t dg[1024];
    size_t len = 0;

    (void) state;
    for (uint32_t seq = 1; seq <= 3; seq++) {
        struct nlmsghdr *nlh = gt_req(seq == 2 ? GT_CMD_FAIL : GT_CMD_ECHO,
                                      NLM_F_ACK, seq);

        memcpy(dg + len, nlh, nlh->nlmsg_len);
        len += nlh->nlmsg_len;
    }
    genl_conn_input(c, dg, len);
    /* Each reply and each ACK in a datagram of its own, in order. */
    gtu_recv_msg(c, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_ECHO);
    assert_int_equal(((struct nlmsghdr *) rbuf)->nlmsg_seq, 1);
    assert_int_equal(gtu_recv_err(c, NULL), 0);
    assert_int_equal(gtu_recv_err(c, NULL), -ENOSPC);
    gtu_recv_msg(c, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_ECHO);
    assert_int_equal(((struct nlmsghdr *) rbuf)->nlmsg_seq, 3);
    assert_int_equal(gtu_recv_err(c, NULL), 0);
    gtu_expect_none(c);

    /* An odd address works too. */
    memmove(dg + 1, dg, len);
    genl_conn_input(c, dg + 1, len);
    gtu_recv_msg(c, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_ECHO);
    assert_int_equal(gtu_recv_err(c, NULL), 0);
    assert_int_equal(gtu_recv_err(c, NULL), -ENOSPC);
    gtu_recv_msg(c, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_ECHO);
    assert_int_equal(gtu_recv_err(c, NULL), 0);
    gtu_expect_none(c);
    genl_conn_destroy(c);
}

/* ---- Dumps. ---- */

static struct nlmsghdr *
dump_req(uint32_t count, uint64_t size, int fail_at, uint32_t seq)
{
    struct nlmsghdr *nlh = gt_req(GT_CMD_DUMP, NLM_F_DUMP | NLM_F_ACK, seq);

    mnl_attr_put_u32_check(nlh, sizeof qbuf, GT_ATTR_U32, count);
    mnl_attr_put_u64_check(nlh, sizeof qbuf, GT_ATTR_U64, size);
    if (fail_at >= 0) {
        mnl_attr_put_u8_check(nlh, sizeof qbuf, GT_ATTR_U8,
                              (uint8_t) fail_at);
    }
    return nlh;
}

/* Reads dump parts until NLMSG_DONE.  Checks that entries come in order
 * from 0 and each part is at most GENL_DUMP_DGRAM_SIZE.  Returns the
 * entries seen; '*parts', '*done_err', '*done_alone' describe the rest. */
static uint32_t
read_dump(struct genl_conn *c, uint32_t seq, size_t *parts, int *done_err,
          bool *done_alone, char *msg, size_t msg_size)
{
    uint32_t next = 0;

    *parts = 0;
    msg[0] = '\0';
    for (;;) {
        size_t len = recv_dgram(c), n = 0;
        const struct nlmsghdr *nlh;

        assert_true(len <= GENL_DUMP_DGRAM_SIZE);
        (*parts)++;
        GTU_FOR_EACH_MSG (nlh, rbuf, len) {
            assert_int_equal(nlh->nlmsg_seq, seq);
            assert_int_equal(nlh->nlmsg_pid, genl_conn_pid(c));
            assert_true(nlh->nlmsg_flags & NLM_F_MULTI);
            if (nlh->nlmsg_type == NLMSG_DONE) {
                int32_t err;

                memcpy(&err, mnl_nlmsg_get_payload(nlh), 4);
                *done_err = err;
                *done_alone = n == 0;
                if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
                    const struct nlattr *a = (const void *)
                        ((const uint8_t *) nlh + MNL_NLMSG_HDRLEN + 4);

                    assert_int_equal(a->nla_type, NLMSGERR_ATTR_MSG);
                    snprintf(msg, msg_size, "%s", mnl_attr_get_str(a));
                } else {
                    assert_int_equal(nlh->nlmsg_len, MNL_NLMSG_HDRLEN + 4);
                }
                /* The last message of its datagram. */
                assert_int_equal((size_t) ((const uint8_t *) nlh - rbuf)
                                 + MNL_ALIGN(nlh->nlmsg_len), len);
                return next;
            } else {
                const struct nlattr *tb[GT_R_DATA + 1];

                assert_int_equal(nlh->nlmsg_type, GT_FAMILY_ID);
                gtu_attrs(nlh, tb, GT_R_DATA);
                assert_int_equal(mnl_attr_get_u32(tb[GT_R_INDEX]), next);
                next++;
            }
            n++;
        }
        assert_true(n > 0);
    }
}

static void
test_dump_parts(void **state)
{
    struct genl_conn *c = gtu_conn(srv, 111);
    bool alone;
    size_t parts;
    char msg[256];
    int err;

    (void) state;
    /* 300 entries of 1000 bytes: ten parts, the DONE in the last. */
    gtu_send(c, dump_req(300, 1000, -1, 201));
    assert_true(genl_conn_queued(c) > GENL_DUMP_DGRAM_SIZE - 1100);
    assert_int_equal(read_dump(c, 201, &parts, &err, &alone, msg,
                               sizeof msg), 300);
    assert_int_equal(parts, 10);
    assert_int_equal(err, 0);
    assert_false(alone);
    gtu_expect_none(c);     /* No ACK, NLM_F_ACK notwithstanding. */

    /* An entry filling a part to 8 bytes of its end: DONE goes alone. */
    gtu_send(c, dump_req(1, GENL_DUMP_DGRAM_SIZE - 16 - 4 - 8 - 4 - 8,
                         -1, 202));
    assert_int_equal(read_dump(c, 202, &parts, &err, &alone, msg,
                               sizeof msg), 1);
    assert_int_equal(parts, 2);
    assert_true(alone);
    assert_int_equal(err, 0);

    /* Nothing to dump: DONE alone at once. */
    gtu_send(c, dump_req(0, 0, -1, 203));
    assert_int_equal(read_dump(c, 203, &parts, &err, &alone, msg,
                               sizeof msg), 0);
    assert_int_equal(parts, 1);

    /* An entry that cannot fit: -EMSGSIZE. */
    gtu_send(c, dump_req(2, GENL_DUMP_DGRAM_SIZE, -1, 204));
    assert_int_equal(read_dump(c, 204, &parts, &err, &alone, msg,
                               sizeof msg), 0);
    assert_int_equal(err, -EMSGSIZE);
    gtu_expect_none(c);
    genl_conn_destroy(c);
}

static void
test_dump_errors(void **state)
{
    struct genl_conn *c = gtu_conn(srv, 112);
    struct nlmsghdr *nlh;
    bool alone;
    size_t parts;
    char msg[256];
    int err;

    (void) state;
    /* A dumpit error after some parts: DONE carries it, and the message
     * only with NETLINK_EXT_ACK. */
    gtu_send(c, dump_req(100, 1000, 40, 211));
    assert_int_equal(read_dump(c, 211, &parts, &err, &alone, msg,
                               sizeof msg), 40);
    assert_int_equal(err, -EIO);
    assert_string_equal(msg, "");
    genl_conn_setsockopt(c, WEIR_SOCK_EXT_ACK, 1);
    gtu_send(c, dump_req(100, 1000, 40, 212));
    assert_int_equal(read_dump(c, 212, &parts, &err, &alone, msg,
                               sizeof msg), 40);
    assert_int_equal(err, -EIO);
    assert_string_equal(msg, "gtest dump failed at 40");

    /* A policy violation in a dump request ends the dump, no message. */
    nlh = gt_req(GT_CMD_DUMP, NLM_F_DUMP, 213);
    mnl_attr_put_check(nlh, sizeof qbuf, GT_ATTR_U32, 2, "\1\2");
    gtu_send(c, nlh);
    assert_int_equal(read_dump(c, 213, &parts, &err, &alone, msg,
                               sizeof msg), 0);
    assert_int_equal(err, -ERANGE);
    assert_string_equal(msg, "");
    gtu_expect_none(c);

    /* A dumpit that does not read its attributes neither sees them nor
     * has them checked (GENL_DONT_VALIDATE_DUMP): the same violation
     * changes nothing. */
    nlh = gt_req(GT_CMD_LIST, NLM_F_DUMP, 214);
    mnl_attr_put_check(nlh, sizeof qbuf, GT_ATTR_U32, 2, "\1\2");
    mnl_attr_put_check(nlh, sizeof qbuf, GT_ATTR_STR, 3, "abc");
    gtu_send(c, nlh);
    {
        size_t len = recv_dgram(c), n = 0;
        const struct nlmsghdr *m;
        int32_t done = 1;

        GTU_FOR_EACH_MSG (m, rbuf, len) {
            if (m->nlmsg_type == NLMSG_DONE) {
                memcpy(&done, mnl_nlmsg_get_payload(m), 4);
            } else {
                assert_int_equal(gtu_genl(m)->cmd, GT_CMD_LIST);
                n++;
            }
        }
        assert_int_equal(n, 3);
        assert_int_equal(done, 0);
    }
    gtu_expect_none(c);
    genl_conn_destroy(c);
}

static void
test_dump_busy(void **state)
{
    struct genl_conn *c = gtu_conn(srv, 113);
    struct genl_conn *d = gtu_conn(srv, 114);
    bool alone;
    size_t parts;
    char msg[256];
    int err;

    (void) state;
    gtu_send(c, dump_req(100, 1000, -1, 221));
    /* Another dump on the same connection: -EBUSY, after the first
     * part. */
    gtu_send(c, dump_req(1, 0, -1, 222));
    recv_dgram(c);
    assert_int_equal(((struct nlmsghdr *) rbuf)->nlmsg_type, GT_FAMILY_ID);
    assert_int_equal(gtu_recv_err(c, NULL), -EBUSY);
    /* Other requests go on; another connection may dump. */
    gtu_send(c, gt_req(GT_CMD_ECHO, 0, 223));
    gtu_recv_msg(c, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_ECHO);
    gtu_send(d, dump_req(3, 10, -1, 224));
    assert_int_equal(read_dump(d, 224, &parts, &err, &alone, msg,
                               sizeof msg), 3);
    /* The rest of the first dump, then a new one works. */
    {
        uint32_t seen = 0;

        for (;;) {
            size_t len = recv_dgram(c);
            const struct nlmsghdr *nlh;
            bool done = false;

            GTU_FOR_EACH_MSG (nlh, rbuf, len) {
                if (nlh->nlmsg_type == NLMSG_DONE) {
                    done = true;
                } else {
                    seen++;
                }
            }
            if (done) {
                break;
            }
        }
        assert_true(seen > 60 && seen < 100);
    }
    gtu_send(c, dump_req(2, 10, -1, 225));
    assert_int_equal(read_dump(c, 225, &parts, &err, &alone, msg,
                               sizeof msg), 2);

    /* A connection closed in the middle of a dump. */
    gtu_send(d, dump_req(100, 1000, -1, 226));
    genl_conn_destroy(d);
    genl_conn_destroy(c);
}

/* ---- Sync markers and reply budgets. ---- */

/* Appends to 'dg' (at '*off', 'size' bytes) a BULK request with
 * NLM_F_ACK whose reply carries 'data_len' bytes of R_DATA. */
static void
put_bulk(uint8_t *dg, size_t size, size_t *off, uint32_t seq,
         uint32_t data_len)
{
    struct nlmsghdr *nlh;

    assert_true(*off + 32 <= size);
    nlh = gtu_req(dg + *off, 32, GT_FAMILY_ID, GT_CMD_BULK, NLM_F_ACK, seq,
                  0);
    assert_true(mnl_attr_put_u32_check(nlh, 32, GT_ATTR_U32, data_len));
    *off += MNL_ALIGN(nlh->nlmsg_len);
}

/* Takes every datagram queued for 'c', which must be the reply and the
 * ACK of BULK requests with sequence numbers from 'first' on, in order,
 * then (if 'overrun') one NLMSG_OVERRUN, which may come between a reply
 * and its ACK.  Returns the number of replies. */
static uint32_t
take_bulk(struct genl_conn *c, uint32_t first, bool overrun)
{
    bool saw_overrun = false;
    uint32_t replies = 0, acks = 0;
    size_t len;

    while ((len = gtu_recv(c, rbuf, sizeof rbuf))) {
        const struct nlmsghdr *nlh = (const void *) rbuf;
        struct gtu_err e;

        assert_false(saw_overrun);
        assert_int_equal(gtu_count_msgs(rbuf, len), 1);
        if (nlh->nlmsg_type == NLMSG_OVERRUN) {
            saw_overrun = true;
        } else if (replies == acks) {
            assert_int_equal(nlh->nlmsg_type, GT_FAMILY_ID);
            assert_int_equal(gtu_genl(nlh)->cmd, GT_CMD_BULK);
            assert_int_equal(nlh->nlmsg_seq, first + replies);
            replies++;
        } else {
            assert_int_equal(gtu_parse_err(nlh, &e), 0);
            assert_int_equal(e.seq, first + acks);
            acks++;
        }
    }
    assert_int_equal(saw_overrun, overrun);
    assert_true(overrun || replies == acks);
    return replies;
}

static void
test_sync(void **state)
{
    struct genl_conn *c = gtu_conn(srv, 115);
    enum genl_out kind;
    size_t len;

    (void) state;
    genl_conn_set_sync(c, true);
    gtu_send(c, gt_req(GT_CMD_ECHO, NLM_F_ACK, 231));
    len = gtu_next(c, rbuf, sizeof rbuf, &kind);
    assert_int_equal(kind, GENL_OUT_DGRAM);
    assert_int_equal(((struct nlmsghdr *) rbuf)->nlmsg_type, GT_FAMILY_ID);
    len = gtu_next(c, rbuf, sizeof rbuf, &kind);
    assert_int_equal(kind, GENL_OUT_DGRAM);
    assert_int_equal(((struct nlmsghdr *) rbuf)->nlmsg_type, NLMSG_ERROR);
    len = gtu_next(c, rbuf, sizeof rbuf, &kind);
    assert_int_equal(kind, GENL_OUT_SYNC);
    assert_int_equal(len, 0);
    len = gtu_next(c, rbuf, sizeof rbuf, &kind);
    assert_int_equal(kind, GENL_OUT_NONE);

    /* A datagram that asks for nothing still gets its marker. */
    gtu_send(c, gt_req(GT_CMD_ECHO, 0, 232));
    gtu_next(c, rbuf, sizeof rbuf, &kind);
    assert_int_equal(kind, GENL_OUT_DGRAM);
    gtu_next(c, rbuf, sizeof rbuf, &kind);
    assert_int_equal(kind, GENL_OUT_SYNC);
    genl_conn_input(c, rbuf, 0);
    gtu_next(c, rbuf, sizeof rbuf, &kind);
    assert_int_equal(kind, GENL_OUT_SYNC);

    /* A dump: first part, marker, then the other parts. */
    gtu_send(c, dump_req(100, 1000, -1, 233));
    gtu_next(c, rbuf, sizeof rbuf, &kind);
    assert_int_equal(kind, GENL_OUT_DGRAM);
    gtu_next(c, rbuf, sizeof rbuf, &kind);
    assert_int_equal(kind, GENL_OUT_SYNC);
    for (int i = 0; i < 3; i++) {
        gtu_next(c, rbuf, sizeof rbuf, &kind);
        assert_int_equal(kind, GENL_OUT_DGRAM);
    }
    gtu_next(c, rbuf, sizeof rbuf, &kind);
    assert_int_equal(kind, GENL_OUT_NONE);

    /* One marker per datagram, behind its replies, even when they did
     * not all fit; and one for a datagram the transport consumes itself
     * (genl_conn_mark_sync()). */
    genl_conn_setsockopt(c, WEIR_SOCK_RCVBUF, 2048);
    {
        size_t off = 0;

        for (uint32_t i = 0; i < 3; i++) {
            put_bulk(qbuf, sizeof qbuf, &off, 240 + i, 60000);
        }
        genl_conn_input(c, qbuf, off);
    }
    for (int i = 0; i < 5; i++) {
        gtu_next(c, rbuf, sizeof rbuf, &kind);
        assert_int_equal(kind, GENL_OUT_DGRAM);
    }
    assert_int_equal(((struct nlmsghdr *) rbuf)->nlmsg_type, NLMSG_OVERRUN);
    gtu_next(c, rbuf, sizeof rbuf, &kind);
    assert_int_equal(kind, GENL_OUT_SYNC);
    genl_conn_mark_sync(c);
    gtu_next(c, rbuf, sizeof rbuf, &kind);
    assert_int_equal(kind, GENL_OUT_SYNC);
    gtu_next(c, rbuf, sizeof rbuf, &kind);
    assert_int_equal(kind, GENL_OUT_NONE);

    /* Off again: no markers. */
    genl_conn_set_sync(c, false);
    genl_conn_mark_sync(c);
    gtu_send(c, gt_req(GT_CMD_ECHO, 0, 234));
    gtu_next(c, rbuf, sizeof rbuf, &kind);
    assert_int_equal(kind, GENL_OUT_DGRAM);
    gtu_next(c, rbuf, sizeof rbuf, &kind);
    assert_int_equal(kind, GENL_OUT_NONE);
    genl_conn_destroy(c);
}

/* ---- Multicast. ---- */

static int wakes[2];

static void
count_wake(void *aux)
{
    (*(int *) aux)++;
}

/* Multicasts one gtest message with a 'size'-byte attribute. */
static void
mcast(size_t size, uint32_t tag)
{
    static uint8_t data[8192];
    struct genl_msgbuf mb;
    struct nlmsghdr *nlh;

    assert_int_equal(genl_msgbuf_init(&mb, sizeof data + 256), 0);
    nlh = genl_msg_start(&mb, &gt_family, GT_CMD_NOTIFY, 0, tag, 0, 0);
    mnl_attr_put_check(nlh, genl_msg_room(&mb, nlh), GT_R_DATA, size,
                       data);
    genl_msg_end(&mb, nlh);
    genl_multicast(srv, &gt_family, &mb);
    assert_int_equal(mb.len, 0);
    genl_msgbuf_uninit(&mb);
}

static void
test_notify_echo(void **state)
{
    struct genl_conn *a = genl_conn_create(srv, count_wake, &wakes[0]);
    struct genl_conn *b = genl_conn_create(srv, count_wake, &wakes[1]);
    const struct nlmsghdr *nlh;

    (void) state;
    wakes[0] = wakes[1] = 0;
    assert_int_equal(genl_conn_bind(a, 120, 0), 0);
    assert_int_equal(genl_conn_bind(b, 121, 0), 0);

    /* Nobody listens, no echo: nothing built. */
    gtu_send(a, gt_req(GT_CMD_NOTIFY, 0, 241));
    assert_int_equal(gt_notify_must, 0);
    gtu_expect_none(a);

    /* NLM_F_ECHO: the requester alone gets it. */
    gtu_send(a, gt_req(GT_CMD_NOTIFY, NLM_F_ECHO, 242));
    nlh = gtu_recv_msg(a, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_NOTIFY);
    assert_int_equal(nlh->nlmsg_seq, 242);
    gtu_expect_none(b);

    /* B listens: it gets the multicast (and is woken: its queue was
     * empty); A, not a member, nothing. */
    assert_int_equal(genl_conn_setsockopt(b, WEIR_SOCK_ADD_MEMBERSHIP,
                                          GT_MCGRP_ID), 0);
    gtu_send(a, gt_req(GT_CMD_NOTIFY, 0, 243));
    assert_int_equal(wakes[1], 1);
    assert_int_equal(wakes[0], 0);
    nlh = gtu_recv_msg(b, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_NOTIFY);
    assert_int_equal(nlh->nlmsg_seq, 243);
    assert_int_equal(nlh->nlmsg_pid, 120);
    gtu_expect_none(a);

    /* A a member too: without ECHO it gets the multicast; with ECHO one
     * copy only. */
    genl_conn_setsockopt(a, WEIR_SOCK_ADD_MEMBERSHIP, GT_MCGRP_ID);
    gtu_send(a, gt_req(GT_CMD_NOTIFY, 0, 244));
    gtu_recv_msg(a, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_NOTIFY);
    gtu_expect_none(a);
    gtu_recv_msg(b, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_NOTIFY);
    gtu_send(a, gt_req(GT_CMD_NOTIFY, NLM_F_ECHO | NLM_F_ACK, 245));
    gtu_recv_msg(a, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_NOTIFY);
    assert_int_equal(gtu_recv_err(a, NULL), 0);
    gtu_expect_none(a);
    gtu_recv_msg(b, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_NOTIFY);
    gtu_expect_none(b);
    /* A's own requests never woke A. */
    assert_int_equal(wakes[0], 0);

    /* Dropped membership: nothing more. */
    genl_conn_setsockopt(b, WEIR_SOCK_DROP_MEMBERSHIP, GT_MCGRP_ID);
    gtu_send(a, gt_req(GT_CMD_NOTIFY, 0, 246));
    gtu_expect_none(b);
    gtu_recv_msg(a, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_NOTIFY);

    /* Options. */
    assert_int_equal(genl_conn_setsockopt(a, WEIR_SOCK_ADD_MEMBERSHIP, 0),
                     -EINVAL);
    assert_int_equal(genl_conn_setsockopt(a, WEIR_SOCK_DROP_MEMBERSHIP, 0),
                     -EINVAL);
    assert_int_equal(genl_conn_setsockopt(a, WEIR_SOCK_ADD_MEMBERSHIP, 64),
                     -EINVAL);
    assert_int_equal(genl_conn_setsockopt(a, 99, 1), -EINVAL);
    assert_int_equal(genl_conn_setsockopt(a, WEIR_SOCK_STRICT_CHK, 1), 0);
    genl_conn_destroy(a);
    genl_conn_destroy(b);
}

static void
test_overrun(void **state)
{
    struct genl_conn *b = gtu_conn(srv, 130);
    size_t n_queued = 0, len;
    const struct nlmsghdr *nlh;
    int32_t err;

    (void) state;
    genl_conn_setsockopt(b, WEIR_SOCK_ADD_MEMBERSHIP, GT_MCGRP_ID);
    genl_conn_setsockopt(b, WEIR_SOCK_RCVBUF, 4096);

    /* Into an empty queue a datagram goes whatever its size. */
    mcast(6000, 1);
    assert_int_equal(genl_conn_queued(b), MNL_NLMSG_HDRLEN + GENL_HDRLEN
                                          + MNL_ATTR_HDRLEN + 6000);
    recv_dgram(b);
    assert_int_equal(genl_conn_queued(b), 0);

    /* 1000-byte datagrams: four fit, the fifth is dropped and one
     * NLMSG_OVERRUN queued; later ones are dropped without another. */
    for (uint32_t i = 0; i < 10; i++) {
        mcast(1000 - MNL_NLMSG_HDRLEN - GENL_HDRLEN - MNL_ATTR_HDRLEN,
              100 + i);
    }
    /* While the overrun waits, replies are dropped too (the kernel's
     * NETLINK_S_CONGESTED). */
    gtu_send(b, gt_req(GT_CMD_ECHO, 0, 250));
    for (;;) {
        len = gtu_recv(b, rbuf, sizeof rbuf);
        if (!len) {
            break;
        }
        nlh = (const void *) rbuf;
        if (nlh->nlmsg_type == GT_FAMILY_ID
            && gtu_genl(nlh)->cmd == GT_CMD_NOTIFY) {
            assert_int_equal(nlh->nlmsg_seq, 100 + n_queued);
            n_queued++;
            continue;
        }
        if (nlh->nlmsg_type == NLMSG_OVERRUN) {
            assert_int_equal(n_queued, 4);
            assert_int_equal(len, MNL_NLMSG_HDRLEN + 4);
            memcpy(&err, mnl_nlmsg_get_payload(nlh), 4);
            assert_int_equal(err, -ENOBUFS);
            n_queued += 1000;
            continue;
        }
        fail_msg("unexpected datagram of type %u", nlh->nlmsg_type);
    }
    assert_int_equal(n_queued, 1004);
    assert_int_equal(genl_conn_queued(b), 0);
    gtu_send(b, gt_req(GT_CMD_ECHO, 0, 251));
    nlh = gtu_recv_msg(b, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_ECHO);
    assert_int_equal(nlh->nlmsg_seq, 251);

    /* The overrun was taken: multicasts flow again, and a second
     * overrun is reported again. */
    for (uint32_t i = 0; i < 6; i++) {
        mcast(1000 - MNL_NLMSG_HDRLEN - GENL_HDRLEN - MNL_ATTR_HDRLEN,
              300 + i);
    }
    n_queued = 0;
    while ((len = gtu_recv(b, rbuf, sizeof rbuf))) {
        nlh = (const void *) rbuf;
        n_queued += nlh->nlmsg_type == NLMSG_OVERRUN ? 100 : 1;
    }
    assert_int_equal(n_queued, 104);
    genl_conn_destroy(b);
}

/* Replies, ACKs and echoes count against the receive buffer too, with a
 * budget of at least GENL_REPLY_FLOOR: what does not fit is dropped and
 * reported with one NLMSG_OVERRUN, so that one datagram of requests
 * cannot make the server queue without bound. */
static void
test_reply_budget(void **state)
{
    static uint8_t dg[256 * 1024];
    struct genl_conn *c = gtu_conn(srv, 131);
    const size_t big = 60000;
    size_t off, n;

    (void) state;
    genl_conn_setsockopt(c, WEIR_SOCK_RCVBUF, 2048);

    /* A reply of nearly GENL_REPLY_SIZE and its ACK fit an empty queue,
     * whatever the buffer. */
    off = 0;
    put_bulk(dg, sizeof dg, &off, 1, big);
    genl_conn_input(c, dg, off);
    assert_int_equal(take_bulk(c, 1, false), 1);

    /* Three in one datagram: two replies and their ACKs fit the floor of
     * two replies, the third and its ACK are dropped, reported once. */
    off = 0;
    for (uint32_t i = 0; i < 3; i++) {
        put_bulk(dg, sizeof dg, &off, 10 + i, big);
    }
    genl_conn_input(c, dg, off);
    assert_true(genl_conn_queued(c) <= 2 * GENL_REPLY_SIZE + 20);
    assert_int_equal(take_bulk(c, 10, true), 2);

    /* The overrun taken, replies flow again. */
    off = 0;
    put_bulk(dg, sizeof dg, &off, 20, 0);
    genl_conn_input(c, dg, off);
    assert_int_equal(take_bulk(c, 20, false), 1);

    /* A whole datagram of small requests (8,000 and more): what is
     * queued stays within the receive buffer, the requests are answered
     * in order up to the first drop, and one NLMSG_OVERRUN ends it. */
    genl_conn_setsockopt(c, WEIR_SOCK_RCVBUF, 212992);
    for (off = 0, n = 0; off + 32 <= sizeof dg; n++) {
        put_bulk(dg, sizeof dg, &off, 1000 + (uint32_t) n, 0);
    }
    genl_conn_input(c, dg, off);
    assert_true(genl_conn_queued(c) <= 212992 + 20);
    assert_true(take_bulk(c, 1000, true) < n);

    /* With room for all of it, all of it is answered. */
    genl_conn_setsockopt(c, WEIR_SOCK_RCVBUF, 4u << 20);
    genl_conn_input(c, dg, off);
    assert_int_equal(take_bulk(c, 1000, false), n);

    /* WEIR_SOCK_RCVBUF is capped at WEIR_SOCK_RCVBUF_MAX: 1,200 replies
     * of 60 KB (72 MB) do not all fit. */
    genl_conn_setsockopt(c, WEIR_SOCK_RCVBUF, UINT32_MAX);
    off = 0;
    for (uint32_t i = 0; i < 1200; i++) {
        put_bulk(dg, sizeof dg, &off, 2000 + i, big);
    }
    genl_conn_input(c, dg, off);
    assert_true(genl_conn_queued(c) <= WEIR_SOCK_RCVBUF_MAX + 20);
    n = take_bulk(c, 2000, true);
    assert_true(n > 1000 && n < 1200);
    genl_conn_destroy(c);
}

/* Dumps that end in their first part stop at the budget too: the dump
 * that finds the queue at its budget waits for it to empty (its request
 * answered -ENOBUFS, which does not fit: the overrun), the requests after
 * it are -EBUSY (dropped as well). */
static void
test_dump_budget(void **state)
{
    static uint8_t dg[64 * 1024];
    struct genl_conn *c = gtu_conn(srv, 132);
    size_t off = 0, n = 0, parts;
    uint32_t i;
    char msg[256];
    bool alone;
    int err;

    (void) state;
    genl_conn_setsockopt(c, WEIR_SOCK_RCVBUF, 2048);
    while (off + 64 <= sizeof dg) {
        struct nlmsghdr *nlh = gtu_req(dg + off, 64, GT_FAMILY_ID,
                                       GT_CMD_DUMP, NLM_F_DUMP,
                                       500 + (uint32_t) n, 0);

        mnl_attr_put_u32_check(nlh, 64, GT_ATTR_U32, 20);
        mnl_attr_put_u64_check(nlh, 64, GT_ATTR_U64, 1000);
        off += MNL_ALIGN(nlh->nlmsg_len);
        n++;
    }
    genl_conn_input(c, dg, off);
    assert_true(genl_conn_queued(c)
                <= 2 * GENL_REPLY_SIZE + GENL_DUMP_DGRAM_SIZE + 20);
    for (i = 0;; i++) {
        const struct nlmsghdr *nlh = (const void *) rbuf;
        size_t len = recv_dgram(c);

        if (nlh->nlmsg_type == NLMSG_OVERRUN) {
            break;
        }
        /* A whole dump in one datagram: 20 entries and NLMSG_DONE. */
        assert_int_equal(nlh->nlmsg_seq, 500 + i);
        assert_int_equal(gtu_count_msgs(rbuf, len), 21);
    }
    assert_true(i > 0 && i < n);
    assert_int_equal(read_dump(c, 500 + i, &parts, &err, &alone, msg,
                               sizeof msg), 20);
    assert_int_equal(err, 0);
    gtu_expect_none(c);
    genl_conn_destroy(c);
}

/* ---- Port ids. ---- */

static void
test_bind(void **state)
{
    struct genl_conn *a = genl_conn_create(srv, NULL, NULL);
    struct genl_conn *b = genl_conn_create(srv, NULL, NULL);
    struct genl_conn *c = genl_conn_create(srv, NULL, NULL);
    struct genl_conn *d = genl_conn_create(srv, NULL, NULL);
    struct genl_conn *e = genl_conn_create(srv, NULL, NULL);
    struct nlmsghdr *nlh;

    (void) state;
    assert_int_equal(genl_conn_pid(a), 0);
    assert_int_equal(genl_conn_bind(a, 4242, 0), 0);
    assert_int_equal(genl_conn_pid(a), 4242);
    assert_int_equal(genl_conn_bind(a, 4243, 0), -EINVAL);
    assert_int_equal(genl_conn_bind(b, 4242, 0), -EADDRINUSE);
    /* The hint when free, else counting down from 0xfffff000. */
    assert_int_equal(genl_conn_bind(b, 0, 777), 0);
    assert_int_equal(genl_conn_pid(b), 777);
    assert_int_equal(genl_conn_bind(c, 0, 777), 0);
    assert_int_equal(genl_conn_pid(c), 0xfffff000u);
    assert_int_equal(genl_conn_bind(d, 0, 0), 0);
    assert_int_equal(genl_conn_pid(d), 0xffffefffu);
    /* A taken automatic id is skipped. */
    assert_int_equal(genl_conn_bind(e, 0xffffeffeu, 0), 0);
    genl_conn_destroy(e);
    e = genl_conn_create(srv, NULL, NULL);
    genl_conn_destroy(c);
    c = gtu_conn(srv, 0xffffeffeu);
    assert_int_equal(genl_conn_bind(e, 0, 0), 0);
    assert_int_equal(genl_conn_pid(e), 0xffffeffdu);
    /* An id is free again once its connection is gone. */
    genl_conn_destroy(a);
    a = gtu_conn(srv, 4242);

    /* An unbound connection is bound when it first sends. */
    genl_conn_destroy(d);
    d = genl_conn_create(srv, NULL, NULL);
    nlh = gt_req(GT_CMD_FAIL, 0, 260);
    gtu_send(d, nlh);
    assert_int_equal(gtu_recv_err(d, NULL), -ENOSPC);
    assert_int_equal(genl_conn_pid(d), 0xffffeffcu);

    genl_conn_destroy(a);
    genl_conn_destroy(b);
    genl_conn_destroy(c);
    genl_conn_destroy(d);
    genl_conn_destroy(e);
    genl_conn_destroy(NULL);
}

/* ---- Datapaths. ---- */

static int n_changed;

static void
count_changed(void *aux)
{
    (void) aux;
    n_changed++;
}

struct walk_log {
    char text[1024];
};

static void
walk_dp(const char *name, uint32_t features, void *aux)
{
    struct walk_log *w = aux;
    size_t n = strlen(w->text);

    snprintf(w->text + n, sizeof w->text - n, "dp %s %#x;", name, features);
}

static void
walk_port(const char *dp_name, const char *name, const char *type,
          const char *options, uint32_t port_no, void *aux)
{
    struct walk_log *w = aux;
    size_t n = strlen(w->text);

    snprintf(w->text + n, sizeof w->text - n, "port %s %s %s %s %u;",
             dp_name, name, type, options ? options : "-", port_no);
}

static void
test_dp_registry(void **state)
{
    struct genl_config cfg;
    struct genl_server *s;
    struct genl_dp *d0, *d1, *gdp;
    struct genl_vport *v;
    struct walk_log w;
    struct errbuf err;
    uint32_t pids[4];
    uint32_t port_no;

    (void) state;
    memset(&cfg, 0, sizeof cfg);
    cfg.local_type = "dummy";
    cfg.changed = count_changed;
    errbuf_clear(&err);
    s = genl_server_create(&cfg, &err);
    assert_non_null(s);
    assert_string_equal(genl_server_config(s)->local_type, "dummy");
    assert_string_equal(genl_server_config(s)->system_type, "auto");
    n_changed = 0;
    genl_changed(s);
    assert_int_equal(n_changed, 1);

    assert_int_equal(genl_server_dp_create(s, "gdp0", 0, &err), 0);
    assert_int_equal(genl_dp_create(s, "gdp1", OVS_DP_F_UNALIGNED, 55, &d1,
                                    &err), 0);
    assert_int_equal(genl_server_dp_create(s, "gdp0", 0, &err), -EEXIST);
    assert_non_null(strstr(err.msg, "gdp0"));
    assert_int_equal(genl_server_dp_create(s, "a-name-too-long-for-it", 0,
                                           &err), -EINVAL);

    d0 = genl_dp_by_name(s, "gdp0");
    assert_non_null(d0);
    assert_ptr_equal(genl_dp_by_name(s, "gdp1"), d1);
    assert_null(genl_dp_by_name(s, "gdp2"));
    assert_int_equal(d0->ifindex, 0x7f000000);
    assert_int_equal(d1->ifindex, 0x7f000001);
    assert_ptr_equal(genl_dp_by_ifindex(s, 0x7f000001), d1);
    assert_null(genl_dp_by_ifindex(s, 0));
    assert_ptr_equal(genl_dp_at(s, 0), d0);
    assert_ptr_equal(genl_dp_at(s, 1), d1);
    assert_null(genl_dp_at(s, 2));
    assert_ptr_equal(genl_dp_next(s, NULL), d0);
    assert_ptr_equal(genl_dp_next(s, d0), d1);
    assert_null(genl_dp_next(s, d1));
    assert_string_equal(d0->name, "gdp0");
    assert_string_equal(dp_name(d0->dp), "gdp0");

    /* The local port's record and upcall PID. */
    assert_int_equal(d0->n_vports, 1);
    v = genl_dp_vport(d0, 0);
    assert_non_null(v);
    assert_int_equal(v->ovs_type, OVS_VPORT_TYPE_INTERNAL);
    assert_string_equal(v->dpif_type, "internal");
    assert_string_equal(v->provider, "dummy");
    assert_null(v->options);
    assert_null(genl_dp_vport(d0, 1));
    assert_int_equal(dp_get_user_features(d1->dp), OVS_DP_F_UNALIGNED);
    assert_int_equal(dp_port_get_upcall_pids(d1->dp, 0, pids, 4), 1);
    assert_int_equal(pids[0], 55);

    /* A port through the state-restore entry point. */
    port_no = UINT32_MAX;
    assert_int_equal(genl_server_port_add(s, "gdp0", "gport1", "dummy",
                                          NULL, &port_no, &err), 0);
    assert_int_equal(port_no, 1);
    assert_non_null(genl_dp_vport(d0, 1));
    assert_int_equal(genl_server_port_add(s, "nodp", "gport2", "dummy",
                                          NULL, &port_no, &err), -ENODEV);

    memset(&w, 0, sizeof w);
    genl_server_walk(s, walk_dp, walk_port, &w);
    assert_string_equal(w.text, "dp gdp0 0;port gdp0 gport1 dummy - 1;"
                        "dp gdp1 0x1;");

    gdp = d0;
    genl_dp_destroy(s, gdp);
    assert_null(genl_dp_by_name(s, "gdp0"));
    assert_null(genl_dp_by_ifindex(s, 0x7f000000));
    assert_ptr_equal(genl_dp_at(s, 0), d1);
    /* A new one gets a new ifindex; the name is free again. */
    assert_int_equal(genl_dp_create(s, "gdp0", 0, 0, &d0, &err), 0);
    assert_int_equal(d0->ifindex, 0x7f000002);
    assert_ptr_equal(genl_dp_at(s, 1), d0);
    genl_dp_destroy(s, NULL);
    genl_server_destroy(s);
    genl_server_destroy(NULL);
}

static void
test_server_config(void **state)
{
    struct genl_config cfg;
    struct errbuf err;

    (void) state;
    memset(&cfg, 0, sizeof cfg);
    cfg.pmd_threads = 1000;
    errbuf_clear(&err);
    assert_null(genl_server_create(&cfg, &err));
    assert_true(errbuf_is_set(&err));
}

/* Whether a channel with 'pid' is open in 'gdp'. */
static bool
channel_open(struct genl_dp *gdp, uint32_t pid)
{
    struct upcall_channel *ch;
    int error = upcall_channel_open(dp_upcalls(gdp->dp), pid, &ch, NULL);

    if (!error) {
        upcall_channel_close(ch);
        return false;
    }
    assert_int_equal(error, -EADDRINUSE);
    return true;
}

/* Queues a miss upcall for 'pid' in 'gdp' whose 60-byte frame starts with
 * 'tag'. */
static void
make_upcall(struct genl_dp *gdp, uint32_t pid, uint8_t tag)
{
    struct dp_upcall *u = calloc(1, sizeof *u);
    uint8_t frame[60];

    memset(frame, 0, sizeof frame);
    frame[0] = tag;
    frame[12] = 0x08;           /* IPv4, truncated: a key nonetheless. */
    assert_non_null(u);
    u->type = DP_UPCALL_MISS;
    u->packet = packet_create(frame, sizeof frame);
    assert_non_null(u->packet);
    u->packet->md.in_port = DP_LOCAL_PORT;
    packet_parse(u->packet, &u->key);
    u->pid = pid;
    assert_int_equal(upcall_deliver(dp_upcalls(gdp->dp), u), 0);
}

/* Pops the next datagram, which must be one upcall of 'gdp'; returns its
 * packet's first byte. */
static uint8_t
recv_upcall(struct genl_conn *c, const struct genl_dp *gdp)
{
    const struct nlattr *tb[OVS_PACKET_ATTR_MAX + 1];
    const struct nlmsghdr *nlh;

    nlh = gtu_recv_msg(c, rbuf, sizeof rbuf, GENL_FAMILY_ID_PACKET,
                       OVS_PACKET_CMD_MISS);
    assert_int_equal(gtu_dp_ifindex(nlh), gdp->ifindex);
    gtu_attrs(nlh, tb, OVS_PACKET_ATTR_MAX);
    assert_non_null(tb[OVS_PACKET_ATTR_PACKET]);
    assert_non_null(tb[OVS_PACKET_ATTR_KEY]);
    assert_int_equal(mnl_attr_get_payload_len(tb[OVS_PACKET_ATTR_PACKET]),
                     60);
    return *(const uint8_t *) mnl_attr_get_payload(tb[OVS_PACKET_ATTR_PACKET]);
}

static bool
fd_readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void
test_channels(void **state)
{
    struct genl_conn *a = gtu_conn(srv, 140);
    struct genl_conn *u = genl_conn_create(srv, NULL, NULL);
    struct genl_conn *b;
    struct genl_dp *d0, *d1;
    struct errbuf err;

    (void) state;
    errbuf_clear(&err);
    assert_int_equal(genl_dp_create(srv, "gch0", 0, 0, &d0, &err), 0);
    /* Bound connections have a channel, unbound ones none. */
    assert_true(channel_open(d0, 140));
    b = gtu_conn(srv, 141);
    assert_true(channel_open(d0, 141));
    assert_int_equal(genl_dp_create(srv, "gch1", 0, 0, &d1, &err), 0);
    assert_true(channel_open(d1, 140));
    assert_true(channel_open(d1, 141));
    assert_false(channel_open(d1, 142));

    /* The upcall fd is readable while an upcall waits. */
    assert_true(genl_conn_upcall_fd(a) >= 0);
    assert_false(fd_readable(genl_conn_upcall_fd(a)));
    make_upcall(d1, 140, 1);
    assert_true(fd_readable(genl_conn_upcall_fd(a)));
    assert_false(fd_readable(genl_conn_upcall_fd(b)));
    assert_int_equal(recv_upcall(a, d1), 1);
    assert_false(fd_readable(genl_conn_upcall_fd(a)));
    gtu_expect_none(a);

    /* A connection that goes closes its channels; a datapath that goes
     * closes its channel in every connection. */
    make_upcall(d0, 141, 2);
    genl_conn_destroy(b);
    assert_false(channel_open(d0, 141));
    assert_false(channel_open(d1, 141));
    genl_dp_destroy(srv, d0);
    make_upcall(d1, 140, 3);
    assert_int_equal(recv_upcall(a, d1), 3);
    genl_conn_destroy(u);
    genl_conn_destroy(a);
}

static void
test_upcall_delivery(void **state)
{
    struct genl_conn *a = gtu_conn(srv, 150);
    struct genl_dp *d0, *d1;
    struct errbuf err;
    enum genl_out kind;

    (void) state;
    errbuf_clear(&err);
    assert_int_equal(genl_dp_create(srv, "gup0", 0, 0, &d0, &err), 0);
    assert_int_equal(genl_dp_create(srv, "gup1", 0, 0, &d1, &err), 0);

    /* Round robin over the datapaths, FIFO in each. */
    make_upcall(d0, 150, 1);
    make_upcall(d0, 150, 2);
    make_upcall(d0, 150, 3);
    make_upcall(d1, 150, 11);
    make_upcall(d1, 150, 12);
    assert_int_equal(recv_upcall(a, d0), 1);
    assert_int_equal(recv_upcall(a, d1), 11);
    assert_int_equal(recv_upcall(a, d0), 2);
    assert_int_equal(recv_upcall(a, d1), 12);
    assert_int_equal(recv_upcall(a, d0), 3);
    gtu_expect_none(a);

    /* Upcalls wait while the queue holds something: replies first. */
    make_upcall(d0, 150, 4);
    gtu_send(a, gt_req(GT_CMD_ECHO, NLM_F_ACK, 270));
    assert_true(genl_conn_queued(a) > 0);
    gtu_recv_msg(a, rbuf, sizeof rbuf, GT_FAMILY_ID, GT_CMD_ECHO);
    assert_int_equal(gtu_recv_err(a, NULL), 0);
    assert_int_equal(recv_upcall(a, d0), 4);

    /* With a dump in progress, dump parts and upcalls take turns. */
    gtu_send(a, dump_req(100, 1000, -1, 271));
    make_upcall(d0, 150, 5);
    make_upcall(d1, 150, 13);
    gtu_next(a, rbuf, sizeof rbuf, &kind);        /* First part. */
    assert_int_equal(((struct nlmsghdr *) rbuf)->nlmsg_type, GT_FAMILY_ID);
    /* The round robin goes on where it was: gup1's turn. */
    assert_int_equal(recv_upcall(a, d1), 13);
    gtu_next(a, rbuf, sizeof rbuf, &kind);
    assert_int_equal(((struct nlmsghdr *) rbuf)->nlmsg_type, GT_FAMILY_ID);
    assert_int_equal(recv_upcall(a, d0), 5);
    for (int i = 0; i < 2; i++) {
        gtu_next(a, rbuf, sizeof rbuf, &kind);
        assert_int_equal(kind, GENL_OUT_DGRAM);
        assert_int_equal(((struct nlmsghdr *) rbuf)->nlmsg_type,
                         GT_FAMILY_ID);
    }
    gtu_expect_none(a);

    /* Upcalls for a pid nobody has are refused by the datapath. */
    {
        struct dp_upcall *u = calloc(1, sizeof *u);
        uint8_t frame[60] = { 0 };

        u->packet = packet_create(frame, sizeof frame);
        u->pid = 999;
        assert_int_equal(upcall_deliver(dp_upcalls(d0->dp), u),
                         -ECONNREFUSED);
    }
    /* Upcalls still queued when the connection goes are freed. */
    make_upcall(d1, 150, 14);
    genl_conn_destroy(a);
}

/* A datapath whose local port is a TAP device (the default): its
 * dp_ifindex is the device's.  In a network namespace of the test's own;
 * skipped without the privilege. */
static void
test_tap_local_port(void **state)
{
    int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    struct genl_config cfg;
    struct genl_server *s;
    struct genl_dp *gdp;
    struct errbuf err;
    char name[IFNAMSIZ];
    int error;

    (void) state;
    assert_true(home >= 0);
    if (tun < 0 || unshare(CLONE_NEWNET)) {
        if (tun >= 0) {
            close(tun);
        }
        close(home);
        skip();
    }
    close(tun);
    snprintf(name, sizeof name, "wg%u", (unsigned) getpid() % 100000);
    memset(&cfg, 0, sizeof cfg);
    errbuf_clear(&err);
    s = genl_server_create(&cfg, &err);
    assert_non_null(s);
    assert_string_equal(genl_server_config(s)->local_type, "tap");
    error = genl_dp_create(s, name, 0, 0, &gdp, &err);
    if (error) {
        fail_msg("tap datapath %s: %s", name, err.msg);
    }
    assert_true(if_nametoindex(name) > 0);
    assert_int_equal(gdp->ifindex, if_nametoindex(name));
    assert_ptr_equal(genl_dp_by_ifindex(s, gdp->ifindex), gdp);
    assert_string_equal(genl_dp_vport(gdp, 0)->provider, "tap");
    genl_server_destroy(s);
    assert_int_equal(if_nametoindex(name), 0);
    assert_int_equal(setns(home, CLONE_NEWNET), 0);
    close(home);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ctrl_by_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctrl_by_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctrl_dump, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_family_and_cmd, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extack_and_cap_ack, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attr_parsing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_datagram_of_many, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dump_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overrun, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dp_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_config, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_channels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upcall_delivery, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tap_local_port, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
