/* SPDX-License-Identifier: Apache-2.0 */

/* The ovs_datapath and ovs_vport families (src/genl/genl-dp.c,
 * genl-vport.c) through a genl server with dummy local ports: every
 * request as a client sends it, every answer taken apart byte by byte
 * where the kernel fixes the layout (header fields, struct sizes,
 * attribute order). */

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "genl-test-util.h"
#include "dp/dp.h"
#include "port/port-dummy.h"
#include "port/port.h"
#include "weir/control.h"

/* Newer than the 6.1 headers (see genl-vport.c). */
#define T_VPORT_ATTR_UPCALL_STATS (OVS_VPORT_ATTR_NETNSID + 1)
#define T_VPORT_UPCALL_ATTR_SUCCESS 0
#define T_VPORT_UPCALL_ATTR_FAIL 1

#define PID_A 1001
#define PID_B 1002

struct fixture {
    struct genl_server *srv;
    struct genl_conn *a;        /* Requester, extack on. */
    struct genl_conn *b;        /* Listener. */
};

static uint8_t buf[GTU_BUF_SIZE];
static uint8_t rbuf[GTU_BUF_SIZE];
static uint32_t seq = 1;

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    gtu_rcu_init();
    assert_non_null(f);
    f->srv = gtu_server(1);
    f->a = gtu_conn(f->srv, PID_A);
    f->b = gtu_conn(f->srv, PID_B);
    assert_int_equal(genl_conn_setsockopt(f->a, WEIR_SOCK_EXT_ACK, 1), 0);
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

/* ---- Request building. ---- */

/* A request as Open vSwitch sends it: with the family's version (2 for
 * ovs_datapath: a version-1 client is one that predates user features,
 * which the kernel treats differently; see test_dp_old_client()). */
static struct nlmsghdr *
req(uint16_t family, uint8_t cmd, uint16_t flags, uint32_t dp_ifindex)
{
    struct nlmsghdr *nlh = gtu_req(buf, sizeof buf, family, cmd, flags,
                                   seq++, dp_ifindex);
    struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

    g->version = (family == GENL_FAMILY_ID_DATAPATH ? OVS_DATAPATH_VERSION
                  : OVS_VPORT_VERSION);
    return nlh;
}

static void
put_str(struct nlmsghdr *nlh, uint16_t type, const char *s)
{
    assert_true(mnl_attr_put_strz_check(nlh, sizeof buf, type, s));
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

/* Puts OPTIONS { PROVIDER 'provider' [, ARGS 'args'] }. */
static void
put_weir_opts(struct nlmsghdr *nlh, const char *provider, const char *args)
{
    struct nlattr *nest = mnl_attr_nest_start_check(nlh, sizeof buf,
                                                     OVS_VPORT_ATTR_OPTIONS);

    assert_non_null(nest);
    if (provider) {
        put_str(nlh, WEIR_VPORT_OPT_PROVIDER, provider);
    }
    if (args) {
        put_str(nlh, WEIR_VPORT_OPT_ARGS, args);
    }
    mnl_attr_nest_end(nlh, nest);
}

/* ---- Answer checking. ---- */

/* Checks the fixed part of a family message: type, flags, port id,
 * sequence number, command and version.  Returns its dp_ifindex. */
static uint32_t
check_hdr(const struct nlmsghdr *nlh, uint16_t family, uint8_t cmd,
          uint8_t version, uint32_t portid, uint32_t sq, uint16_t flags)
{
    const struct genlmsghdr *g = gtu_genl(nlh);

    assert_int_equal(nlh->nlmsg_type, family);
    assert_int_equal(nlh->nlmsg_flags, flags);
    assert_int_equal(nlh->nlmsg_pid, portid);
    assert_int_equal(nlh->nlmsg_seq, sq);
    assert_int_equal(g->cmd, cmd);
    assert_int_equal(g->version, version);
    assert_int_equal(g->reserved, 0);
    return gtu_dp_ifindex(nlh);
}

/* Checks that the top-level attributes of 'nlh' are exactly 'types', in
 * that order, with payload lengths 'lens' (-1: any). */
static void
check_order(const struct nlmsghdr *nlh, const uint16_t *types,
            const int *lens, size_t n)
{
    size_t off = GENL_HDRLEN + MNL_ALIGN(sizeof(struct ovs_header));
    const struct nlattr *a;
    size_t i = 0;

    mnl_attr_for_each(a, nlh, off) {
        if (i >= n) {
            fail_msg("extra attribute %u after %zu", mnl_attr_get_type(a),
                     n);
        }
        if (mnl_attr_get_type(a) != types[i]) {
            fail_msg("attribute %zu: type %u, expected %u", i,
                     mnl_attr_get_type(a), types[i]);
        }
        if (lens[i] >= 0 && mnl_attr_get_payload_len(a) != lens[i]) {
            fail_msg("attribute %zu (type %u): %u bytes, expected %d", i,
                     types[i], mnl_attr_get_payload_len(a), lens[i]);
        }
        i++;
    }
    assert_int_equal(i, n);
}

/* Expects an NLMSG_ERROR with 'error' for the request with sequence
 * number 'sq', with an extack message containing 'text' if not NULL. */
static void
expect_err(struct genl_conn *c, int error, uint32_t sq, const char *text)
{
    assert_int_equal(gtu_expect_err(c, error, text).seq, sq);
}

/* Copies the payload of 'a' into 'dst' ('size' bytes, which must be its
 * exact length): 64-bit structures sit unaligned in the message, as in
 * the kernel's on x86-64. */
static void
get_struct(const struct nlattr *a, void *dst, size_t size)
{
    assert_non_null(a);
    assert_int_equal(mnl_attr_get_payload_len(a), size);
    memcpy(dst, mnl_attr_get_payload(a), size);
}

/* Reads the dump that answers request 'sq' of 'c' until its NLMSG_DONE,
 * which must carry 0, calling 'check' with each entry and its index.
 * Returns the number of entries. */
static size_t
read_dump(struct genl_conn *c, uint32_t sq,
          void (*check)(const struct nlmsghdr *, size_t i, void *aux),
          void *aux)
{
    size_t n = 0;

    for (;;) {
        size_t len = gtu_recv(c, rbuf, sizeof rbuf);
        const struct nlmsghdr *nlh;

        assert_true(len > 0);
        gtu_count_msgs(rbuf, len);
        GTU_FOR_EACH_MSG (nlh, rbuf, len) {
            if (nlh->nlmsg_type == NLMSG_DONE) {
                assert_int_equal(nlh->nlmsg_seq, sq);
                assert_int_equal(*(const int32_t *)
                                 mnl_nlmsg_get_payload(nlh), 0);
                /* The last message. */
                assert_true((const uint8_t *) nlh + MNL_ALIGN(nlh->nlmsg_len)
                            >= rbuf + len);
                gtu_expect_none(c);
                return n;
            }
            check(nlh, n++, aux);
        }
    }
}

/* ---- Datapath helpers. ---- */

/* Creates datapath 'name' (asking for an echo) and returns its ifindex. */
static uint32_t
dp_new(struct genl_conn *c, const char *name, uint32_t features)
{
    struct nlmsghdr *nlh = req(GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_NEW,
                               NLM_F_ACK | NLM_F_ECHO, 0);
    uint32_t sq = nlh->nlmsg_seq;
    const struct nlmsghdr *r;
    uint32_t ifindex;

    put_str(nlh, OVS_DP_ATTR_NAME, name);
    put_u32(nlh, OVS_DP_ATTR_UPCALL_PID, genl_conn_pid(c));
    put_u32(nlh, OVS_DP_ATTR_USER_FEATURES, features);
    gtu_send(c, nlh);
    r = gtu_recv_msg(c, rbuf, sizeof rbuf, GENL_FAMILY_ID_DATAPATH,
                     OVS_DP_CMD_NEW);
    ifindex = check_hdr(r, GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_NEW,
                        OVS_DATAPATH_VERSION, genl_conn_pid(c), sq, 0);
    assert_int_not_equal(ifindex, 0);
    expect_err(c, 0, sq, NULL);
    return ifindex;
}

/* OVS_DP_CMD_NEW of 'name' with NLM_F_ACK and the attributes it needs
 * (NAME, UPCALL_PID); more may be added. */
static struct nlmsghdr *
dp_new_req(const char *name)
{
    struct nlmsghdr *nlh = req(GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_NEW,
                               NLM_F_ACK, 0);

    put_str(nlh, OVS_DP_ATTR_NAME, name);
    put_u32(nlh, OVS_DP_ATTR_UPCALL_PID, PID_A);
    return nlh;
}

/* Sends 'nlh' from 'c' and expects 'error' as expect_err() does. */
static void
send_expect(struct genl_conn *c, struct nlmsghdr *nlh, int error,
            const char *text)
{
    gtu_send(c, nlh);
    expect_err(c, error, nlh->nlmsg_seq, text);
}

/* Sends a datapath request with only 'name' (or 'ifindex' when NULL) and
 * returns the sequence number. */
static uint32_t
dp_simple(struct genl_conn *c, uint8_t cmd, uint16_t flags,
          const char *name, uint32_t ifindex)
{
    struct nlmsghdr *nlh = req(GENL_FAMILY_ID_DATAPATH, cmd, flags,
                               ifindex);

    if (name) {
        put_str(nlh, OVS_DP_ATTR_NAME, name);
    }
    gtu_send(c, nlh);
    return nlh->nlmsg_seq;
}

/* GETs datapath 'name' into 'tb' (whose messages live in rbuf). */
static const struct nlmsghdr *
dp_get(struct genl_conn *c, const char *name, const struct nlattr **tb)
{
    const struct nlmsghdr *r;

    dp_simple(c, OVS_DP_CMD_GET, 0, name, 0);
    r = gtu_recv_msg(c, rbuf, sizeof rbuf, GENL_FAMILY_ID_DATAPATH,
                     OVS_DP_CMD_GET);
    gtu_attrs(r, tb, OVS_DP_ATTR_MAX);
    gtu_expect_none(c);
    return r;
}

static const uint16_t dp_order[] = {
    OVS_DP_ATTR_NAME, OVS_DP_ATTR_STATS, OVS_DP_ATTR_MEGAFLOW_STATS,
    OVS_DP_ATTR_USER_FEATURES, OVS_DP_ATTR_MASKS_CACHE_SIZE,
    OVS_DP_ATTR_PER_CPU_PIDS,
};

/* ---- Datapath tests. ---- */

static void
test_dp_new_get_del(void **state)
{
    struct fixture *f = *state;
    const int lens[] = { 5, sizeof(struct ovs_dp_stats),
                         sizeof(struct ovs_dp_megaflow_stats), 4, 4 };
    const struct nlattr *tb[OVS_DP_ATTR_MAX + 1];
    struct ovs_dp_megaflow_stats mf;
    struct ovs_dp_stats st;
    const struct nlmsghdr *r;
    uint32_t ifindex, ifindex2, sq;

    assert_int_equal(sizeof(struct ovs_dp_stats), 32);
    assert_int_equal(sizeof(struct ovs_dp_megaflow_stats), 32);

    ifindex = dp_new(f->a, "gdp0", OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS);

    /* GET by name: the kernel's attributes, in its order. */
    sq = dp_simple(f->a, OVS_DP_CMD_GET, 0, "gdp0", 0);
    r = gtu_recv_msg(f->a, rbuf, sizeof rbuf, GENL_FAMILY_ID_DATAPATH,
                     OVS_DP_CMD_GET);
    assert_int_equal(check_hdr(r, GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_GET,
                               OVS_DATAPATH_VERSION, PID_A, sq, 0),
                     ifindex);
    check_order(r, dp_order, lens, 5);
    gtu_attrs(r, tb, OVS_DP_ATTR_MAX);
    assert_string_equal(mnl_attr_get_str(tb[OVS_DP_ATTR_NAME]), "gdp0");
    assert_int_equal(mnl_attr_get_u32(tb[OVS_DP_ATTR_USER_FEATURES]),
                     OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS);
    get_struct(tb[OVS_DP_ATTR_STATS], &st, sizeof st);
    assert_int_equal(st.n_hit, 0);
    assert_int_equal(st.n_missed, 0);
    assert_int_equal(st.n_lost, 0);
    assert_int_equal(st.n_flows, 0);
    get_struct(tb[OVS_DP_ATTR_MEGAFLOW_STATS], &mf, sizeof mf);
    assert_int_equal(mf.n_masks, 0);
    assert_int_equal(mf.pad0, 0);
    assert_int_equal(mf.pad1, 0);
    gtu_expect_none(f->a);          /* No ACK without NLM_F_ACK. */

    /* GET by the header's ifindex, with an ACK after the reply. */
    sq = dp_simple(f->a, OVS_DP_CMD_GET, NLM_F_ACK, NULL, ifindex);
    r = gtu_recv_msg(f->a, rbuf, sizeof rbuf, GENL_FAMILY_ID_DATAPATH,
                     OVS_DP_CMD_GET);
    assert_int_equal(gtu_dp_ifindex(r), ifindex);
    gtu_attrs(r, tb, OVS_DP_ATTR_MAX);
    assert_string_equal(mnl_attr_get_str(tb[OVS_DP_ATTR_NAME]), "gdp0");
    expect_err(f->a, 0, sq, NULL);

    /* A second datapath gets another ifindex. */
    ifindex2 = dp_new(f->a, "gdp1", 0);
    assert_int_not_equal(ifindex, ifindex2);

    /* DEL by ifindex with an echo: the datapath as it was. */
    sq = dp_simple(f->a, OVS_DP_CMD_DEL, NLM_F_ACK | NLM_F_ECHO, NULL,
                   ifindex);
    r = gtu_recv_msg(f->a, rbuf, sizeof rbuf, GENL_FAMILY_ID_DATAPATH,
                     OVS_DP_CMD_DEL);
    assert_int_equal(check_hdr(r, GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_DEL,
                               OVS_DATAPATH_VERSION, PID_A, sq, 0),
                     ifindex);
    check_order(r, dp_order, lens, 5);
    expect_err(f->a, 0, sq, NULL);

    sq = dp_simple(f->a, OVS_DP_CMD_GET, 0, "gdp0", 0);
    expect_err(f->a, -ENODEV, sq, "gdp0");
    sq = dp_simple(f->a, OVS_DP_CMD_GET, 0, NULL, ifindex);
    expect_err(f->a, -ENODEV, sq, NULL);
    /* The other one is still there, and its name can be used again. */
    dp_get(f->a, "gdp1", tb);
    dp_new(f->a, "gdp0", 0);
    gtu_expect_none(f->a);
}

static void
test_dp_errors(void **state)
{
    struct fixture *f = *state;
    struct nlmsghdr *nlh;
    uint32_t sq;

    /* NAME and UPCALL_PID are required. */
    nlh = req(GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_NEW, NLM_F_ACK, 0);
    put_u32(nlh, OVS_DP_ATTR_UPCALL_PID, PID_A);
    send_expect(f->a, nlh, -EINVAL, "NAME");

    nlh = req(GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_NEW, NLM_F_ACK, 0);
    put_str(nlh, OVS_DP_ATTR_NAME, "gerr0");
    send_expect(f->a, nlh, -EINVAL, "UPCALL_PID");

    /* Unknown user features: -EOPNOTSUPP, as Open vSwitch probes with
     * bit 31; TC recirculation sharing is not supported either. */
    nlh = dp_new_req("gerr0");
    put_u32(nlh, OVS_DP_ATTR_USER_FEATURES,
            OVS_DP_F_UNALIGNED | (1u << 31));
    send_expect(f->a, nlh, -EOPNOTSUPP, "0x80000000");

    nlh = dp_new_req("gerr0");
    put_u32(nlh, OVS_DP_ATTR_USER_FEATURES, OVS_DP_F_TC_RECIRC_SHARING);
    send_expect(f->a, nlh, -EOPNOTSUPP, "tc-recirc");

    /* Masks cache size: out of the policy's range, not a power of 2. */
    nlh = dp_new_req("gerr0");
    put_u32(nlh, OVS_DP_ATTR_MASKS_CACHE_SIZE, 8192);
    send_expect(f->a, nlh, -ERANGE, "out of range");

    nlh = dp_new_req("gerr0");
    put_u32(nlh, OVS_DP_ATTR_MASKS_CACHE_SIZE, 100);
    send_expect(f->a, nlh, -EINVAL, "power of 2");

    /* Per-CPU PIDs that are not an array of u32. */
    nlh = dp_new_req("gerr0");
    put_u32(nlh, OVS_DP_ATTR_USER_FEATURES,
            OVS_DP_F_DISPATCH_UPCALL_PER_CPU);
    put_bytes(nlh, OVS_DP_ATTR_PER_CPU_PIDS, "\1\2\3\4\5\6", 6);
    send_expect(f->a, nlh, -EINVAL, "per-CPU");

    /* A chosen ifindex weird cannot give. */
    nlh = dp_new_req("gerr0");
    put_u32(nlh, OVS_DP_ATTR_IFINDEX, 4242);
    send_expect(f->a, nlh, -EOPNOTSUPP, "ifindex");

    /* None of that made a datapath. */
    sq = dp_simple(f->a, OVS_DP_CMD_GET, 0, "gerr0", 0);
    expect_err(f->a, -ENODEV, sq, NULL);

    /* IFINDEX 0 is "any". */
    nlh = dp_new_req("gerr0");
    put_u32(nlh, OVS_DP_ATTR_IFINDEX, 0);
    send_expect(f->a, nlh, 0, NULL);

    /* Duplicate name. */
    send_expect(f->a, dp_new_req("gerr0"), -EEXIST, NULL);

    /* Unknown datapaths, for every command that looks one up. */
    sq = dp_simple(f->a, OVS_DP_CMD_GET, NLM_F_ACK, NULL, 987654);
    expect_err(f->a, -ENODEV, sq, "987654");
    sq = dp_simple(f->a, OVS_DP_CMD_SET, NLM_F_ACK, "nosuch", 0);
    expect_err(f->a, -ENODEV, sq, "nosuch");
    sq = dp_simple(f->a, OVS_DP_CMD_DEL, NLM_F_ACK, NULL, 987654);
    expect_err(f->a, -ENODEV, sq, NULL);

    /* SET with unknown features changes nothing. */
    nlh = req(GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_SET, NLM_F_ACK, 0);
    put_str(nlh, OVS_DP_ATTR_NAME, "gerr0");
    put_u32(nlh, OVS_DP_ATTR_USER_FEATURES, 1u << 30);
    send_expect(f->a, nlh, -EOPNOTSUPP, NULL);
    gtu_expect_none(f->a);
    gtu_expect_none(f->b);
}

static void
test_dp_set(void **state)
{
    struct fixture *f = *state;
    const struct nlattr *tb[OVS_DP_ATTR_MAX + 1];
    const uint32_t cpu_pids[3] = { 7, 8, 9 };
    const int lens[] = { 5, 32, 32, 4, 4, sizeof cpu_pids };
    const struct nlmsghdr *r;
    struct nlmsghdr *nlh;
    uint32_t sq;

    dp_new(f->a, "gset", OVS_DP_F_VPORT_PIDS);
    dp_get(f->a, "gset", tb);
    /* The kernel's default masks cache size. */
    assert_int_equal(mnl_attr_get_u32(tb[OVS_DP_ATTR_MASKS_CACHE_SIZE]),
                     256);

    nlh = req(GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_SET,
              NLM_F_ACK | NLM_F_ECHO, 0);
    put_str(nlh, OVS_DP_ATTR_NAME, "gset");
    put_u32(nlh, OVS_DP_ATTR_USER_FEATURES,
            OVS_DP_F_VPORT_PIDS | OVS_DP_F_DISPATCH_UPCALL_PER_CPU);
    put_u32(nlh, OVS_DP_ATTR_MASKS_CACHE_SIZE, 1024);
    put_bytes(nlh, OVS_DP_ATTR_PER_CPU_PIDS, cpu_pids, sizeof cpu_pids);
    sq = nlh->nlmsg_seq;
    gtu_send(f->a, nlh);
    r = gtu_recv_msg(f->a, rbuf, sizeof rbuf, GENL_FAMILY_ID_DATAPATH,
                     OVS_DP_CMD_SET);
    check_hdr(r, GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_SET,
              OVS_DATAPATH_VERSION, PID_A, sq, 0);
    check_order(r, dp_order, lens, 6);
    gtu_attrs(r, tb, OVS_DP_ATTR_MAX);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_DP_ATTR_USER_FEATURES]),
                     OVS_DP_F_VPORT_PIDS | OVS_DP_F_DISPATCH_UPCALL_PER_CPU);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_DP_ATTR_MASKS_CACHE_SIZE]),
                     1024);
    assert_memory_equal(mnl_attr_get_payload(tb[OVS_DP_ATTR_PER_CPU_PIDS]),
                        cpu_pids, sizeof cpu_pids);
    expect_err(f->a, 0, sq, NULL);

    /* As in the kernel, a SET without USER_FEATURES clears them (and the
     * per-CPU PIDs are no longer reported). */
    sq = dp_simple(f->a, OVS_DP_CMD_SET, NLM_F_ACK, "gset", 0);
    expect_err(f->a, 0, sq, NULL);
    r = dp_get(f->a, "gset", tb);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_DP_ATTR_USER_FEATURES]), 0);
    assert_null(tb[OVS_DP_ATTR_PER_CPU_PIDS]);
    check_order(r, dp_order, lens, 5);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_DP_ATTR_MASKS_CACHE_SIZE]),
                     1024);

    /* The datapath kept its per-CPU PIDs. */
    {
        struct genl_dp *gdp = genl_dp_by_name(f->srv, "gset");
        uint32_t got[4];

        assert_non_null(gdp);
        assert_int_equal(dp_get_upcall_pids_per_cpu(gdp->dp, got, 4), 3);
        assert_memory_equal(got, cpu_pids, sizeof cpu_pids);
    }
}

static void
test_dp_notify(void **state)
{
    struct fixture *f = *state;
    const struct nlmsghdr *r;
    struct nlmsghdr *nlh;
    uint32_t sq;

    assert_int_equal(genl_conn_setsockopt(f->b, WEIR_SOCK_ADD_MEMBERSHIP,
                                          GENL_MCGRP_ID_DATAPATH), 0);

    /* Without NLM_F_ECHO: the member is told, the requester gets its
     * ACK only. */
    nlh = req(GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_NEW, NLM_F_ACK, 0);
    put_str(nlh, OVS_DP_ATTR_NAME, "gnot0");
    put_u32(nlh, OVS_DP_ATTR_UPCALL_PID, PID_A);
    sq = nlh->nlmsg_seq;
    gtu_send(f->a, nlh);
    expect_err(f->a, 0, sq, NULL);
    gtu_expect_none(f->a);
    r = gtu_recv_msg(f->b, rbuf, sizeof rbuf, GENL_FAMILY_ID_DATAPATH,
                     OVS_DP_CMD_NEW);
    /* A notification carries the requester's port id and sequence. */
    check_hdr(r, GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_NEW,
              OVS_DATAPATH_VERSION, PID_A, sq, 0);
    gtu_expect_none(f->b);

    /* SET and DEL notify too; with NLM_F_ECHO the requester also gets
     * it. */
    nlh = req(GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_SET, NLM_F_ECHO, 0);
    put_str(nlh, OVS_DP_ATTR_NAME, "gnot0");
    put_u32(nlh, OVS_DP_ATTR_USER_FEATURES, OVS_DP_F_UNALIGNED);
    sq = nlh->nlmsg_seq;
    gtu_send(f->a, nlh);
    gtu_recv_msg(f->a, rbuf, sizeof rbuf, GENL_FAMILY_ID_DATAPATH,
                 OVS_DP_CMD_SET);
    gtu_expect_none(f->a);
    r = gtu_recv_msg(f->b, rbuf, sizeof rbuf, GENL_FAMILY_ID_DATAPATH,
                     OVS_DP_CMD_SET);
    check_hdr(r, GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_SET,
              OVS_DATAPATH_VERSION, PID_A, sq, 0);
    gtu_expect_none(f->b);

    /* GET is not a change: nobody else hears of it. */
    dp_simple(f->a, OVS_DP_CMD_GET, 0, "gnot0", 0);
    gtu_recv_msg(f->a, rbuf, sizeof rbuf, GENL_FAMILY_ID_DATAPATH,
                 OVS_DP_CMD_GET);
    gtu_expect_none(f->b);

    /* A member that asks for an echo gets one copy. */
    sq = dp_simple(f->b, OVS_DP_CMD_DEL, NLM_F_ECHO, "gnot0", 0);
    r = gtu_recv_msg(f->b, rbuf, sizeof rbuf, GENL_FAMILY_ID_DATAPATH,
                     OVS_DP_CMD_DEL);
    check_hdr(r, GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_DEL,
              OVS_DATAPATH_VERSION, PID_B, sq, 0);
    gtu_expect_none(f->b);
    gtu_expect_none(f->a);
}

struct dp_dump_expect {
    const char *const *names;
    const uint32_t *ifindex;
    uint32_t sq;
};

static void
check_dp_entry(const struct nlmsghdr *nlh, size_t i, void *aux)
{
    const struct dp_dump_expect *x = aux;
    const struct nlattr *tb[OVS_DP_ATTR_MAX + 1];

    assert_true(i < 3);
    /* Creation order. */
    assert_int_equal(check_hdr(nlh, GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_GET,
                               OVS_DATAPATH_VERSION, PID_A, x->sq,
                               NLM_F_MULTI),
                     x->ifindex[i]);
    gtu_attrs(nlh, tb, OVS_DP_ATTR_MAX);
    assert_string_equal(mnl_attr_get_str(tb[OVS_DP_ATTR_NAME]), x->names[i]);
}

static void
test_dp_dump(void **state)
{
    static const char *const names[] = { "gdump2", "gdump0", "gdump1" };
    struct fixture *f = *state;
    uint32_t ifindex[3];
    struct dp_dump_expect x = { names, ifindex, 0 };

    for (size_t i = 0; i < 3; i++) {
        ifindex[i] = dp_new(f->a, names[i], 0);
    }
    /* The second time with attributes that a doit would refuse: the
     * kernel does not validate this dump's (GENL_DONT_VALIDATE_DUMP). */
    for (int bad = 0; bad < 2; bad++) {
        struct nlmsghdr *q = req(GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_GET,
                                 NLM_F_DUMP, 0);

        if (bad) {
            put_bytes(q, OVS_DP_ATTR_NAME, "no NUL", 6);
            put_bytes(q, OVS_DP_ATTR_UPCALL_PID, "\1\2", 2);
        }
        x.sq = q->nlmsg_seq;
        gtu_send(f->a, q);
        assert_int_equal(read_dump(f->a, x.sq, check_dp_entry, &x), 3);
    }
}

/* A client that predates user features (genl version 1) creating an
 * existing datapath makes the kernel drop its features. */
static void
test_dp_old_client(void **state)
{
    struct fixture *f = *state;
    const struct nlattr *tb[OVS_DP_ATTR_MAX + 1];
    struct nlmsghdr *nlh;

    dp_new(f->a, "gold", OVS_DP_F_UNALIGNED);
    nlh = req(GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_NEW, NLM_F_ACK, 0);
    put_str(nlh, OVS_DP_ATTR_NAME, "gold");
    put_u32(nlh, OVS_DP_ATTR_UPCALL_PID, PID_A);
    ((struct genlmsghdr *) mnl_nlmsg_get_payload(nlh))->version = 1;
    send_expect(f->a, nlh, -EEXIST, NULL);
    dp_get(f->a, "gold", tb);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_DP_ATTR_USER_FEATURES]), 0);

    /* A current client keeps them. */
    nlh = req(GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_SET, NLM_F_ACK, 0);
    put_str(nlh, OVS_DP_ATTR_NAME, "gold");
    put_u32(nlh, OVS_DP_ATTR_USER_FEATURES, OVS_DP_F_UNALIGNED);
    send_expect(f->a, nlh, 0, NULL);
    nlh = req(GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_NEW, NLM_F_ACK, 0);
    put_str(nlh, OVS_DP_ATTR_NAME, "gold");
    put_u32(nlh, OVS_DP_ATTR_UPCALL_PID, PID_A);
    send_expect(f->a, nlh, -EEXIST, NULL);
    dp_get(f->a, "gold", tb);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_DP_ATTR_USER_FEATURES]),
                     OVS_DP_F_UNALIGNED);
}

/* ---- Vport helpers. ---- */

static const uint16_t vport_order[] = {
    OVS_VPORT_ATTR_PORT_NO, OVS_VPORT_ATTR_TYPE, OVS_VPORT_ATTR_NAME,
    OVS_VPORT_ATTR_IFINDEX, OVS_VPORT_ATTR_STATS, T_VPORT_ATTR_UPCALL_STATS,
    OVS_VPORT_ATTR_UPCALL_PID, OVS_VPORT_ATTR_OPTIONS,
};

/* Adds a dummy port (through weir's provider option) named 'name' to the
 * datapath 'ifindex' with number 'port_no' (0: any) and PIDs 'pids'.
 * Returns the port number from the echoed reply. */
static uint32_t
vport_new(struct genl_conn *c, uint32_t ifindex, const char *name,
          uint32_t type, uint32_t port_no, const uint32_t *pids,
          size_t n_pids, const char *args)
{
    struct nlmsghdr *nlh = req(GENL_FAMILY_ID_VPORT, OVS_VPORT_CMD_NEW,
                               NLM_F_ACK | NLM_F_ECHO, ifindex);
    const struct nlattr *tb[T_VPORT_ATTR_UPCALL_STATS + 1];
    const struct nlmsghdr *r;
    uint32_t sq = nlh->nlmsg_seq;
    uint32_t no;

    put_str(nlh, OVS_VPORT_ATTR_NAME, name);
    put_u32(nlh, OVS_VPORT_ATTR_TYPE, type);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, pids, n_pids * sizeof *pids);
    if (port_no) {
        put_u32(nlh, OVS_VPORT_ATTR_PORT_NO, port_no);
    }
    put_weir_opts(nlh, "dummy", args);
    gtu_send(c, nlh);
    r = gtu_recv_msg(c, rbuf, sizeof rbuf, GENL_FAMILY_ID_VPORT,
                     OVS_VPORT_CMD_NEW);
    assert_int_equal(check_hdr(r, GENL_FAMILY_ID_VPORT, OVS_VPORT_CMD_NEW,
                               OVS_VPORT_VERSION, genl_conn_pid(c), sq, 0),
                     ifindex);
    gtu_attrs(r, tb, T_VPORT_ATTR_UPCALL_STATS);
    assert_string_equal(mnl_attr_get_str(tb[OVS_VPORT_ATTR_NAME]), name);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_VPORT_ATTR_TYPE]), type);
    no = mnl_attr_get_u32(tb[OVS_VPORT_ATTR_PORT_NO]);
    if (port_no) {
        assert_int_equal(no, port_no);
    }
    expect_err(c, 0, sq, NULL);
    return no;
}

/* Starts (in 'buf') a vport request naming the port by 'name', or by
 * 'port_no' when 'name' is NULL; the header names datapath 'ifindex'.
 * Returns it, for more attributes and gtu_send(). */
static struct nlmsghdr *
vport_req(uint8_t cmd, uint16_t flags, uint32_t ifindex, const char *name,
          uint32_t port_no)
{
    struct nlmsghdr *nlh = req(GENL_FAMILY_ID_VPORT, cmd, flags, ifindex);

    if (name) {
        put_str(nlh, OVS_VPORT_ATTR_NAME, name);
    } else {
        put_u32(nlh, OVS_VPORT_ATTR_PORT_NO, port_no);
    }
    return nlh;
}

/* GETs a port into 'tb' (the message lives in rbuf). */
static const struct nlmsghdr *
vport_get(struct genl_conn *c, uint32_t ifindex, const char *name,
          uint32_t port_no, const struct nlattr **tb)
{
    struct nlmsghdr *nlh = vport_req(OVS_VPORT_CMD_GET, 0, ifindex, name,
                                     port_no);
    const struct nlmsghdr *r;

    gtu_send(c, nlh);
    r = gtu_recv_msg(c, rbuf, sizeof rbuf, GENL_FAMILY_ID_VPORT,
                     OVS_VPORT_CMD_GET);
    check_hdr(r, GENL_FAMILY_ID_VPORT, OVS_VPORT_CMD_GET, OVS_VPORT_VERSION,
              genl_conn_pid(c), nlh->nlmsg_seq, 0);
    gtu_attrs(r, tb, T_VPORT_ATTR_UPCALL_STATS);
    gtu_expect_none(c);
    return r;
}

/* ---- Vport tests. ---- */

static void
test_vport_new_get(void **state)
{
    struct fixture *f = *state;
    const struct nlattr *tb[T_VPORT_ATTR_UPCALL_STATS + 1];
    const struct nlattr *up[T_VPORT_UPCALL_ATTR_FAIL + 1];
    const struct nlattr *opt[WEIR_VPORT_OPT_ARGS + 1];
    const int lens[] = { 4, 4, 6, 4, sizeof(struct ovs_vport_stats), 24,
                         4, -1 };
    const int local_lens[] = { 4, 4, 5, 4, sizeof(struct ovs_vport_stats),
                               24, 4 };
    const uint32_t pids[1] = { PID_A };
    struct ovs_vport_stats vs;
    const struct nlmsghdr *r;
    uint32_t ifindex, no;

    assert_int_equal(sizeof(struct ovs_vport_stats), 64);
    ifindex = dp_new(f->a, "gvp0", 0);
    no = vport_new(f->a, ifindex, "gport", OVS_VPORT_TYPE_NETDEV, 0, pids, 1,
                   "n_rxq=2");
    assert_int_equal(no, 1);    /* The lowest free number. */

    /* By name (no datapath in the header) and by number. */
    r = vport_get(f->a, 0, "gport", 0, tb);
    assert_int_equal(gtu_dp_ifindex(r), ifindex);
    check_order(r, vport_order, lens, 8);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_VPORT_ATTR_PORT_NO]), 1);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_VPORT_ATTR_TYPE]),
                     OVS_VPORT_TYPE_NETDEV);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_VPORT_ATTR_UPCALL_PID]),
                     PID_A);
    get_struct(tb[OVS_VPORT_ATTR_STATS], &vs, sizeof vs);
    assert_int_equal(vs.rx_packets, 0);
    assert_int_equal(vs.tx_packets, 0);
    gtu_nested(tb[T_VPORT_ATTR_UPCALL_STATS], up, T_VPORT_UPCALL_ATTR_FAIL);
    assert_int_equal(mnl_attr_get_payload_len(
                         up[T_VPORT_UPCALL_ATTR_SUCCESS]), 8);
    assert_int_equal(mnl_attr_get_u64(up[T_VPORT_UPCALL_ATTR_SUCCESS]), 0);
    assert_int_equal(mnl_attr_get_u64(up[T_VPORT_UPCALL_ATTR_FAIL]), 0);
    /* weir's options come back for a port made with them. */
    gtu_nested(tb[OVS_VPORT_ATTR_OPTIONS], opt, WEIR_VPORT_OPT_ARGS);
    assert_string_equal(mnl_attr_get_str(opt[WEIR_VPORT_OPT_PROVIDER]),
                        "dummy");
    assert_string_equal(mnl_attr_get_str(opt[WEIR_VPORT_OPT_ARGS]),
                        "n_rxq=2");

    r = vport_get(f->a, ifindex, NULL, 1, tb);
    assert_string_equal(mnl_attr_get_str(tb[OVS_VPORT_ATTR_NAME]), "gport");
    /* By name with the right datapath in the header too. */
    vport_get(f->a, ifindex, "gport", 0, tb);

    /* The local port: internal, named after the datapath, no options,
     * the datapath's ifindex. */
    r = vport_get(f->a, ifindex, NULL, 0, tb);
    check_order(r, vport_order, local_lens, 7);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_VPORT_ATTR_TYPE]),
                     OVS_VPORT_TYPE_INTERNAL);
    assert_string_equal(mnl_attr_get_str(tb[OVS_VPORT_ATTR_NAME]), "gvp0");
    assert_int_equal(mnl_attr_get_u32(tb[OVS_VPORT_ATTR_IFINDEX]), ifindex);

    /* An internal port with a chosen number. */
    no = vport_new(f->a, ifindex, "gint", OVS_VPORT_TYPE_INTERNAL, 7, pids,
                   1, NULL);
    r = vport_get(f->a, 0, "gint", 0, tb);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_VPORT_ATTR_TYPE]),
                     OVS_VPORT_TYPE_INTERNAL);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_VPORT_ATTR_PORT_NO]), 7);
    gtu_nested(tb[OVS_VPORT_ATTR_OPTIONS], opt, WEIR_VPORT_OPT_ARGS);
    assert_non_null(opt[WEIR_VPORT_OPT_PROVIDER]);
    assert_null(opt[WEIR_VPORT_OPT_ARGS]);

    /* The records are kept sorted. */
    {
        struct genl_dp *gdp = genl_dp_by_name(f->srv, "gvp0");
        size_t i;

        assert_non_null(gdp);
        for (i = 1; i < gdp->n_vports; i++) {
            assert_true(gdp->vports[i - 1].port_no
                        < gdp->vports[i].port_no);
        }
        assert_non_null(genl_dp_vport(gdp, 7));
        assert_string_equal(genl_dp_vport(gdp, 7)->provider, "dummy");
        assert_true(genl_dp_vport(gdp, 7)->explicit_provider);
    }
}

static void
test_vport_pids(void **state)
{
    struct fixture *f = *state;
    const struct nlattr *tb[T_VPORT_ATTR_UPCALL_STATS + 1];
    const uint32_t pids[1] = { PID_A };
    const uint32_t two[2] = { 5, 6 };
    const struct nlmsghdr *r;
    struct nlmsghdr *nlh;
    uint32_t ifindex, no;

    ifindex = dp_new(f->a, "gpid", OVS_DP_F_VPORT_PIDS);
    no = vport_new(f->a, ifindex, "gpidp", OVS_VPORT_TYPE_NETDEV, 0, pids, 1,
                   NULL);

    /* SET the PIDs, by number, with an echo. */
    nlh = vport_req(OVS_VPORT_CMD_SET, NLM_F_ACK | NLM_F_ECHO, ifindex, NULL,
                    no);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, two, sizeof two);
    put_u32(nlh, OVS_VPORT_ATTR_TYPE, OVS_VPORT_TYPE_NETDEV);
    gtu_send(f->a, nlh);
    r = gtu_recv_msg(f->a, rbuf, sizeof rbuf, GENL_FAMILY_ID_VPORT,
                     OVS_VPORT_CMD_SET);
    check_hdr(r, GENL_FAMILY_ID_VPORT, OVS_VPORT_CMD_SET, OVS_VPORT_VERSION,
              PID_A, nlh->nlmsg_seq, 0);
    gtu_attrs(r, tb, T_VPORT_ATTR_UPCALL_STATS);
    assert_int_equal(mnl_attr_get_payload_len(tb[OVS_VPORT_ATTR_UPCALL_PID]),
                     sizeof two);
    assert_memory_equal(mnl_attr_get_payload(tb[OVS_VPORT_ATTR_UPCALL_PID]),
                        two, sizeof two);
    expect_err(f->a, 0, nlh->nlmsg_seq, NULL);

    /* Without OVS_DP_F_VPORT_PIDS the kernel reports the first PID. */
    nlh = req(GENL_FAMILY_ID_DATAPATH, OVS_DP_CMD_SET, NLM_F_ACK, 0);
    put_str(nlh, OVS_DP_ATTR_NAME, "gpid");
    put_u32(nlh, OVS_DP_ATTR_USER_FEATURES, 0);
    send_expect(f->a, nlh, 0, NULL);
    vport_get(f->a, 0, "gpidp", 0, tb);
    assert_int_equal(mnl_attr_get_payload_len(tb[OVS_VPORT_ATTR_UPCALL_PID]),
                     4);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_VPORT_ATTR_UPCALL_PID]), 5);

    /* The datapath has both. */
    {
        struct genl_dp *gdp = genl_dp_by_name(f->srv, "gpid");
        uint32_t got[4];

        assert_int_equal(dp_port_get_upcall_pids(gdp->dp, no, got, 4), 2);
        assert_memory_equal(got, two, sizeof two);
    }

    /* Bad arrays: empty, not u32s. */
    nlh = vport_req(OVS_VPORT_CMD_SET, NLM_F_ACK, ifindex, NULL, no);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, NULL, 0);
    send_expect(f->a, nlh, -EINVAL, "upcall PIDs");
    nlh = vport_req(OVS_VPORT_CMD_SET, NLM_F_ACK, ifindex, NULL, no);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, "\1\2\3\4\5", 5);
    send_expect(f->a, nlh, -EINVAL, "upcall PIDs");

    /* TYPE must match; OPTIONS cannot be changed. */
    nlh = vport_req(OVS_VPORT_CMD_SET, NLM_F_ACK, ifindex, NULL, no);
    put_u32(nlh, OVS_VPORT_ATTR_TYPE, OVS_VPORT_TYPE_INTERNAL);
    send_expect(f->a, nlh, -EINVAL, "type");
    nlh = vport_req(OVS_VPORT_CMD_SET, NLM_F_ACK, ifindex, NULL, no);
    put_weir_opts(nlh, "dummy", NULL);
    send_expect(f->a, nlh, -EOPNOTSUPP, "options");
    gtu_expect_none(f->a);
}

static void
test_vport_del(void **state)
{
    struct fixture *f = *state;
    const struct nlattr *tb[T_VPORT_ATTR_UPCALL_STATS + 1];
    const uint32_t pids[1] = { PID_A };
    const struct nlmsghdr *r;
    struct nlmsghdr *nlh;
    uint32_t ifindex, no;

    ifindex = dp_new(f->a, "gdel", 0);
    no = vport_new(f->a, ifindex, "gdelp", OVS_VPORT_TYPE_NETDEV, 0, pids, 1,
                   NULL);

    /* The local port goes only with its datapath. */
    nlh = vport_req(OVS_VPORT_CMD_DEL, NLM_F_ACK, ifindex, NULL, 0);
    send_expect(f->a, nlh, -EINVAL, "local");
    nlh = vport_req(OVS_VPORT_CMD_DEL, NLM_F_ACK, 0, "gdel", 0);
    send_expect(f->a, nlh, -EINVAL, NULL);

    /* By name, with an echo of the port as it was. */
    nlh = vport_req(OVS_VPORT_CMD_DEL, NLM_F_ACK | NLM_F_ECHO, 0, "gdelp",
                    0);
    gtu_send(f->a, nlh);
    r = gtu_recv_msg(f->a, rbuf, sizeof rbuf, GENL_FAMILY_ID_VPORT,
                     OVS_VPORT_CMD_DEL);
    assert_int_equal(check_hdr(r, GENL_FAMILY_ID_VPORT, OVS_VPORT_CMD_DEL,
                               OVS_VPORT_VERSION, PID_A, nlh->nlmsg_seq, 0),
                     ifindex);
    gtu_attrs(r, tb, T_VPORT_ATTR_UPCALL_STATS);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_VPORT_ATTR_PORT_NO]), no);
    expect_err(f->a, 0, nlh->nlmsg_seq, NULL);

    nlh = vport_req(OVS_VPORT_CMD_GET, 0, 0, "gdelp", 0);
    send_expect(f->a, nlh, -ENODEV, "gdelp");
    nlh = vport_req(OVS_VPORT_CMD_GET, 0, ifindex, NULL, no);
    send_expect(f->a, nlh, -ENODEV, NULL);
    assert_null(genl_dp_vport(genl_dp_by_name(f->srv, "gdel"), no));

    /* The name and number are free again. */
    assert_int_equal(vport_new(f->a, ifindex, "gdelp",
                               OVS_VPORT_TYPE_NETDEV, 0, pids, 1, NULL), no);
}

struct vport_dump_expect {
    const uint32_t *port_nos;
    uint32_t ifindex;
    uint32_t sq;
};

static void
check_vport_entry(const struct nlmsghdr *nlh, size_t i, void *aux)
{
    const struct vport_dump_expect *x = aux;
    const struct nlattr *tb[T_VPORT_ATTR_UPCALL_STATS + 1];

    assert_true(i < 5);
    assert_int_equal(check_hdr(nlh, GENL_FAMILY_ID_VPORT, OVS_VPORT_CMD_GET,
                               OVS_VPORT_VERSION, PID_A, x->sq,
                               NLM_F_MULTI),
                     x->ifindex);
    gtu_attrs(nlh, tb, T_VPORT_ATTR_UPCALL_STATS);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_VPORT_ATTR_PORT_NO]),
                     x->port_nos[i]);
}

static void
test_vport_dump(void **state)
{
    static const uint32_t nums[] = { 5, 2, 9, 300 };
    static const char *const names[] = { "gd5", "gd2", "gd9", "gd300" };
    static const uint32_t expect[] = { 0, 2, 5, 9, 300 };
    struct fixture *f = *state;
    const uint32_t pids[1] = { PID_A };
    struct vport_dump_expect x = { expect, 0, 0 };
    uint32_t other;
    struct nlmsghdr *nlh;

    x.ifindex = dp_new(f->a, "gdump", 0);
    /* Another datapath's ports stay out of the dump. */
    other = dp_new(f->a, "gother", 0);
    vport_new(f->a, other, "gotherp", OVS_VPORT_TYPE_NETDEV, 0, pids, 1,
              NULL);
    for (size_t i = 0; i < 4; i++) {
        vport_new(f->a, x.ifindex, names[i], OVS_VPORT_TYPE_NETDEV, nums[i],
                  pids, 1, NULL);
    }

    /* The second time with attributes that a doit would refuse: the
     * kernel does not validate this dump's (GENL_DONT_VALIDATE_DUMP). */
    for (int bad = 0; bad < 2; bad++) {
        nlh = req(GENL_FAMILY_ID_VPORT, OVS_VPORT_CMD_GET, NLM_F_DUMP,
                  x.ifindex);
        if (bad) {
            put_bytes(nlh, OVS_VPORT_ATTR_PORT_NO, "\1", 1);
            put_bytes(nlh, OVS_VPORT_ATTR_STATS, "\1\2\3\4", 4);
        }
        x.sq = nlh->nlmsg_seq;
        gtu_send(f->a, nlh);
        assert_int_equal(read_dump(f->a, x.sq, check_vport_entry, &x), 5);
    }

    /* A dump of a datapath that does not exist ends with -ENODEV. */
    nlh = req(GENL_FAMILY_ID_VPORT, OVS_VPORT_CMD_GET, NLM_F_DUMP, 987654);
    gtu_send(f->a, nlh);
    {
        size_t len = gtu_recv(f->a, rbuf, sizeof rbuf);
        const struct nlmsghdr *end = (const void *) rbuf;
        int error;

        assert_int_equal(gtu_count_msgs(rbuf, len), 1);
        assert_true(len >= MNL_NLMSG_HDRLEN + sizeof(int));
        assert_true(end->nlmsg_type == NLMSG_DONE
                    || end->nlmsg_type == NLMSG_ERROR);
        memcpy(&error, mnl_nlmsg_get_payload(end), sizeof error);
        assert_int_equal(error, -ENODEV);
    }
    gtu_expect_none(f->a);
}

static void
test_vport_errors(void **state)
{
    struct fixture *f = *state;
    const uint32_t pids[1] = { PID_A };
    struct nlmsghdr *nlh;
    uint32_t ifindex;

    ifindex = dp_new(f->a, "gverr", 0);
    vport_new(f->a, ifindex, "gverrp", OVS_VPORT_TYPE_NETDEV, 3, pids, 1,
              NULL);

#define NEW_REQ(NAME, TYPE)                                             \
    nlh = req(GENL_FAMILY_ID_VPORT, OVS_VPORT_CMD_NEW, NLM_F_ACK,       \
              ifindex);                                                 \
    put_str(nlh, OVS_VPORT_ATTR_NAME, NAME);                            \
    put_u32(nlh, OVS_VPORT_ATTR_TYPE, TYPE)

    /* UPCALL_PID is required (as are NAME and TYPE). */
    NEW_REQ("gv1", OVS_VPORT_TYPE_NETDEV);
    put_weir_opts(nlh, "dummy", NULL);
    send_expect(f->a, nlh, -EINVAL, "UPCALL_PID");

    /* Tunnels and unknown types: -EAFNOSUPPORT, as a kernel without the
     * vport module. */
    NEW_REQ("gv1", OVS_VPORT_TYPE_GRE);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, pids, sizeof pids);
    send_expect(f->a, nlh, -EAFNOSUPPORT, "gre");
    NEW_REQ("gv1", OVS_VPORT_TYPE_VXLAN);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, pids, sizeof pids);
    send_expect(f->a, nlh, -EAFNOSUPPORT, "vxlan");
    NEW_REQ("gv1", 99);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, pids, sizeof pids);
    send_expect(f->a, nlh, -EAFNOSUPPORT, "99");

    /* An unknown provider; arguments without one. */
    NEW_REQ("gv1", OVS_VPORT_TYPE_NETDEV);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, pids, sizeof pids);
    put_weir_opts(nlh, "nosuch", NULL);
    send_expect(f->a, nlh, -EAFNOSUPPORT, "nosuch");
    NEW_REQ("gv1", OVS_VPORT_TYPE_NETDEV);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, pids, sizeof pids);
    put_weir_opts(nlh, NULL, "n_rxq=2");
    send_expect(f->a, nlh, -EINVAL, "PROVIDER");
    /* The provider's own check of its options. */
    NEW_REQ("gv1", OVS_VPORT_TYPE_NETDEV);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, pids, sizeof pids);
    put_weir_opts(nlh, "dummy", "bogus=1");
    send_expect(f->a, nlh, -EINVAL, NULL);

    /* Number in use: -EBUSY; too big: -EFBIG. */
    NEW_REQ("gv1", OVS_VPORT_TYPE_NETDEV);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, pids, sizeof pids);
    put_u32(nlh, OVS_VPORT_ATTR_PORT_NO, 3);
    put_weir_opts(nlh, "dummy", NULL);
    send_expect(f->a, nlh, -EBUSY, NULL);
    NEW_REQ("gv1", OVS_VPORT_TYPE_NETDEV);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, pids, sizeof pids);
    put_u32(nlh, OVS_VPORT_ATTR_PORT_NO, 65535);
    send_expect(f->a, nlh, -EFBIG, NULL);

    /* A device already attached: -EBUSY for netdev (the kernel's
     * rx-handler check), -EEXIST for internal. */
    NEW_REQ("gverrp", OVS_VPORT_TYPE_NETDEV);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, pids, sizeof pids);
    put_weir_opts(nlh, "dummy", NULL);
    send_expect(f->a, nlh, -EBUSY, NULL);
    NEW_REQ("gverrp", OVS_VPORT_TYPE_INTERNAL);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, pids, sizeof pids);
    put_weir_opts(nlh, "dummy", NULL);
    send_expect(f->a, nlh, -EEXIST, NULL);

    /* IFINDEX: only for internal ports, and weird cannot honour it. */
    NEW_REQ("gv1", OVS_VPORT_TYPE_NETDEV);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, pids, sizeof pids);
    put_u32(nlh, OVS_VPORT_ATTR_IFINDEX, 0);
    send_expect(f->a, nlh, -EOPNOTSUPP, "internal");
    NEW_REQ("gv1", OVS_VPORT_TYPE_INTERNAL);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, pids, sizeof pids);
    put_u32(nlh, OVS_VPORT_ATTR_IFINDEX, 77);
    put_weir_opts(nlh, "dummy", NULL);
    send_expect(f->a, nlh, -EOPNOTSUPP, "ifindex");

    /* An unknown datapath. */
    nlh = req(GENL_FAMILY_ID_VPORT, OVS_VPORT_CMD_NEW, NLM_F_ACK, 987654);
    put_str(nlh, OVS_VPORT_ATTR_NAME, "gv1");
    put_u32(nlh, OVS_VPORT_ATTR_TYPE, OVS_VPORT_TYPE_NETDEV);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, pids, sizeof pids);
    send_expect(f->a, nlh, -ENODEV, NULL);
#undef NEW_REQ

    /* None of that added a port. */
    nlh = vport_req(OVS_VPORT_CMD_GET, 0, 0, "gv1", 0);
    send_expect(f->a, nlh, -ENODEV, NULL);

    /* Lookups: neither name nor number; by ifindex; number too big;
     * a name in another datapath than the header's. */
    nlh = req(GENL_FAMILY_ID_VPORT, OVS_VPORT_CMD_GET, NLM_F_ACK, ifindex);
    send_expect(f->a, nlh, -EINVAL, NULL);
    nlh = vport_req(OVS_VPORT_CMD_GET, 0, ifindex, "gverrp", 0);
    put_u32(nlh, OVS_VPORT_ATTR_IFINDEX, 5);
    send_expect(f->a, nlh, -EOPNOTSUPP, "ifindex");
    nlh = vport_req(OVS_VPORT_CMD_GET, 0, ifindex, NULL, 70000);
    send_expect(f->a, nlh, -EFBIG, NULL);
    nlh = vport_req(OVS_VPORT_CMD_GET, 0, ifindex + 1000, "gverrp", 0);
    send_expect(f->a, nlh, -ENODEV, NULL);

    /* The kernel's policy: STATS shorter than struct ovs_vport_stats. */
    nlh = vport_req(OVS_VPORT_CMD_GET, 0, ifindex, "gverrp", 0);
    put_bytes(nlh, OVS_VPORT_ATTR_STATS, "\0\0\0\0\0\0\0\0", 8);
    send_expect(f->a, nlh, -ERANGE, "policy");
    gtu_expect_none(f->a);
}

static void
test_vport_notify(void **state)
{
    struct fixture *f = *state;
    const uint32_t pids[1] = { PID_A };
    const struct nlmsghdr *r;
    struct nlmsghdr *nlh;
    uint32_t ifindex, no;

    ifindex = dp_new(f->a, "gvnot", 0);
    assert_int_equal(genl_conn_setsockopt(f->b, WEIR_SOCK_ADD_MEMBERSHIP,
                                          GENL_MCGRP_ID_VPORT), 0);

    no = vport_new(f->a, ifindex, "gvnotp", OVS_VPORT_TYPE_NETDEV, 0, pids,
                   1, NULL);
    r = gtu_recv_msg(f->b, rbuf, sizeof rbuf, GENL_FAMILY_ID_VPORT,
                     OVS_VPORT_CMD_NEW);
    assert_int_equal(gtu_dp_ifindex(r), ifindex);
    assert_int_equal(r->nlmsg_pid, PID_A);
    gtu_expect_none(f->b);

    nlh = vport_req(OVS_VPORT_CMD_SET, NLM_F_ACK, ifindex, NULL, no);
    put_bytes(nlh, OVS_VPORT_ATTR_UPCALL_PID, pids, sizeof pids);
    send_expect(f->a, nlh, 0, NULL);
    gtu_expect_none(f->a);
    gtu_recv_msg(f->b, rbuf, sizeof rbuf, GENL_FAMILY_ID_VPORT,
                 OVS_VPORT_CMD_SET);

    nlh = vport_req(OVS_VPORT_CMD_DEL, NLM_F_ACK, ifindex, NULL, no);
    send_expect(f->a, nlh, 0, NULL);
    gtu_expect_none(f->a);
    r = gtu_recv_msg(f->b, rbuf, sizeof rbuf, GENL_FAMILY_ID_VPORT,
                     OVS_VPORT_CMD_DEL);
    assert_int_equal(r->nlmsg_seq, nlh->nlmsg_seq);
    gtu_expect_none(f->b);

    /* Datapath notifications go to another group. */
    dp_new(f->a, "gvnot2", 0);
    gtu_expect_none(f->b);
}

/* Statistics: a packet received on a port whose upcalls go nowhere (PID
 * 0) is a miss whose upcall is lost. */
static void
test_vport_stats(void **state)
{
    static const uint8_t frame[60] = {
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x66, 0x77, 0x88, 0x99,
        0xaa, 0x08, 0x06,
    };
    struct fixture *f = *state;
    const struct nlattr *tb[T_VPORT_ATTR_UPCALL_STATS + 1];
    const struct nlattr *dtb[OVS_DP_ATTR_MAX + 1];
    const struct nlattr *up[T_VPORT_UPCALL_ATTR_FAIL + 1];
    const uint32_t pids[1] = { 0 };
    struct ovs_vport_stats vs;
    struct ovs_dp_stats ds;
    struct genl_dp *gdp;
    uint32_t ifindex, no;
    int tries;

    ifindex = dp_new(f->a, "gstat", 0);
    no = vport_new(f->a, ifindex, "gstatp", OVS_VPORT_TYPE_NETDEV, 0, pids,
                   1, NULL);
    gdp = genl_dp_by_name(f->srv, "gstat");
    assert_non_null(gdp);
    assert_int_equal(port_dummy_inject(dp_port_get(gdp->dp, no), frame,
                                       sizeof frame), 0);

    /* The PMD thread takes it in its own time. */
    for (tries = 0; ; tries++) {
        vport_get(f->a, ifindex, NULL, no, tb);
        get_struct(tb[OVS_VPORT_ATTR_STATS], &vs, sizeof vs);
        gtu_nested(tb[T_VPORT_ATTR_UPCALL_STATS], up,
                   T_VPORT_UPCALL_ATTR_FAIL);
        if (mnl_attr_get_u64(up[T_VPORT_UPCALL_ATTR_FAIL]) == 1) {
            break;
        }
        assert_true(tries < 500);
        qsbr_quiesce();
        usleep(10000);
    }
    assert_int_equal(vs.rx_packets, 1);
    assert_int_equal(vs.rx_bytes, sizeof frame);
    assert_int_equal(vs.tx_packets, 0);
    assert_int_equal(mnl_attr_get_u64(up[T_VPORT_UPCALL_ATTR_SUCCESS]), 0);

    dp_get(f->a, "gstat", dtb);
    get_struct(dtb[OVS_DP_ATTR_STATS], &ds, sizeof ds);
    assert_int_equal(ds.n_missed, 1);
    assert_int_equal(ds.n_lost, 1);
    assert_int_equal(ds.n_hit, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dp_new_get_del, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dp_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dp_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dp_notify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dp_dump, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dp_old_client, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vport_new_get, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vport_pids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vport_del, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vport_dump, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vport_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vport_notify, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vport_stats, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
