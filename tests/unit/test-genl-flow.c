/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the ovs_flow and ovs_packet families (src/genl/
 * genl-flow.c, genl-packet.c), through the server as a client sees it:
 * requests handed to genl_conn_input(), datagrams taken back out.
 *
 * Flows are created, modified, read, deleted and flushed by key and by
 * UFID, with and without the OMIT flags; every reply is checked attribute
 * by attribute (which ones, in which order, no NLA_F_NESTED) and byte by
 * byte against what the codec makes of the same key, mask and actions.
 * Then the errors (each errno the kernel gives, with extack text and the
 * offset of the attribute at fault), notifications to a group member and
 * with NLM_F_ECHO, statistics and CLEAR, a dump over several datagrams,
 * EXECUTE (output to a dummy port, userspace() upcalls, malformed
 * requests), and the MISS and ACTION upcall messages, aligned and
 * OVS_DP_F_UNALIGNED. */

#include <errno.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/openvswitch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <libmnl/libmnl.h>

#include "codec/fkey-nl.h"
#include "codec/ufid.h"
#include "dp/dp.h"
#include "genl/genl-private.h"
#include "genl/genl.h"
#include "lib/errbuf.h"
#include "lib/log.h"
#include "packet/flow-extract.h"
#include "packet/flow-key.h"
#include "packet/packet.h"
#include "port/port-dummy.h"
#include "tests/unit/dp-test-util.h"
#include "tests/unit/genl-test-util.h"
#include "tests/unit/test-util.h"
#include "weir/control.h"

#define CONN_PID 100
#define MEMBER_PID 200
#define FRAME_LEN 60

struct fx {
    struct genl_server *srv;
    struct genl_conn *conn;     /* CONN_PID, NETLINK_EXT_ACK on. */
    struct genl_dp *gdp;        /* "dp0", OVS_DP_F_UNALIGNED. */
    uint32_t ifindex;
    uint32_t p1, p2;            /* Dummy ports; p1 upcalls to CONN_PID. */
    uint32_t seq;
};

static uint8_t req_buf[GTU_BUF_SIZE];
static uint8_t rep_buf[GTU_BUF_SIZE];

/* An attribute stream encoded by the codec, to compare replies with. */
struct enc {
    union {
        struct nlmsghdr nlh;
        uint8_t b[2048];
    } u;
};

static const void *
enc_data(const struct enc *e)
{
    return mnl_nlmsg_get_payload(&e->u.nlh);
}

static size_t
enc_len(const struct enc *e)
{
    return e->u.nlh.nlmsg_len - MNL_NLMSG_HDRLEN;
}

static void
enc_key(struct enc *e, const struct flow_key *key)
{
    mnl_nlmsg_put_header(e->u.b);
    assert_int_equal(fkey_to_nl(key, &e->u.nlh, sizeof e->u.b), 0);
}

static void
enc_mask(struct enc *e, const struct flow_key *key,
         const struct flow_mask *mask)
{
    mnl_nlmsg_put_header(e->u.b);
    assert_int_equal(fmask_to_nl(key, mask, &e->u.nlh, sizeof e->u.b), 0);
}

/* The exact key of 'frame' received on 'in_port'. */
static void
frame_key(const uint8_t *frame, size_t len, uint32_t in_port,
          struct flow_key *key)
{
    struct pkt_metadata md = { .in_port = in_port };

    assert_int_equal(fkey_extract(frame, len, &md, key), 0);
}

/* A 'len'-byte UDP frame, 10.0.0.1:sport -> 10.0.0.2:2000. */
static void
udp_frame(uint8_t *f, size_t len, uint16_t sport)
{
    tu_udp_frame(f, len, 0x0a000001, 0x0a000002, sport, 2000);
}

/* A 60-byte TCP frame 10.0.0.1:1234 -> 10.0.0.2:80 with TCP flags
 * 'flags'. */
static void
tcp_frame(uint8_t *f, uint8_t flags)
{
    tu_udp_frame(f, FRAME_LEN, 0x0a000001, 0x0a000002, 1234, 80);
    f[23] = 6;                  /* proto */
    memset(f + 38, 0, FRAME_LEN - 38);
    f[46] = 0x50;               /* data offset 5 */
    f[47] = flags;
}

static struct ufid
ufid_make(uint32_t i)
{
    struct ufid u;

    memset(&u, 0, sizeof u);
    u.len = 16;
    for (int b = 0; b < 16; b++) {
        u.id[b] = (uint8_t) (i * 7 + (uint32_t) b * 13 + 1);
    }
    memcpy(u.id, &i, sizeof i);
    return u;
}

/* ---- Fixture. ---- */

static int
setup(void **state)
{
    struct fx *fx = calloc(1, sizeof *fx);
    uint32_t pid = CONN_PID;
    struct errbuf err;

    gtu_rcu_init();
    fx->srv = gtu_server(1);
    fx->conn = gtu_conn(fx->srv, CONN_PID);
    assert_int_equal(genl_conn_setsockopt(fx->conn, WEIR_SOCK_EXT_ACK, 1),
                     0);
    errbuf_clear(&err);
    if (genl_server_dp_create(fx->srv, "dp0",
                              OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS,
                              &err)) {
        fail_msg("genl_server_dp_create: %s", err.msg);
    }
    fx->gdp = genl_dp_by_name(fx->srv, "dp0");
    assert_non_null(fx->gdp);
    fx->ifindex = fx->gdp->ifindex;
    assert_true(fx->ifindex != 0);
    fx->p1 = UINT32_MAX;
    fx->p2 = UINT32_MAX;
    if (genl_server_port_add(fx->srv, "dp0", "gf-p1", "dummy", NULL,
                             &fx->p1, &err)
        || genl_server_port_add(fx->srv, "dp0", "gf-p2", "dummy", NULL,
                                &fx->p2, &err)) {
        fail_msg("genl_server_port_add: %s", err.msg);
    }
    assert_int_equal(dp_port_set_upcall_pids(fx->gdp->dp, fx->p1, &pid, 1),
                     0);
    fx->seq = 1;
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *fx = *state;

    genl_conn_destroy(fx->conn);
    genl_server_destroy(fx->srv);
    free(fx);
    return 0;
}

/* ---- Requests. ---- */

static struct nlmsghdr *
flow_req(struct fx *fx, uint8_t cmd, uint16_t flags)
{
    return gtu_req(req_buf, sizeof req_buf, GENL_FAMILY_ID_FLOW, cmd,
                   flags, fx->seq++, fx->ifindex);
}

static const struct nlattr *
put_attr(struct nlmsghdr *nlh, uint16_t type, const void *data, size_t len)
{
    const struct nlattr *a = mnl_nlmsg_get_payload_tail(nlh);

    assert_true(mnl_attr_put_check(nlh, sizeof req_buf, type, len, data));
    return a;
}

static const struct nlattr *
put_key(struct nlmsghdr *nlh, const struct flow_key *key)
{
    struct enc e;

    enc_key(&e, key);
    return put_attr(nlh, OVS_FLOW_ATTR_KEY, enc_data(&e), enc_len(&e));
}

static const struct nlattr *
put_mask(struct nlmsghdr *nlh, const struct flow_key *key,
         const struct flow_mask *mask)
{
    struct enc e;

    enc_mask(&e, key, mask);
    return put_attr(nlh, OVS_FLOW_ATTR_MASK, enc_data(&e), enc_len(&e));
}

static void
put_ufid(struct nlmsghdr *nlh, const struct ufid *u)
{
    put_attr(nlh, OVS_FLOW_ATTR_UFID, u->id, u->len);
}

static void
put_u32(struct nlmsghdr *nlh, uint16_t type, uint32_t v)
{
    put_attr(nlh, type, &v, sizeof v);
}

/* Actions from ovs-dpctl text; returns their bytes in 'out' (may be
 * NULL). */
static const struct nlattr *
put_acts(struct nlmsghdr *nlh, uint16_t type, const char *text,
         struct enc *out)
{
    struct enc local;
    struct enc *e = out ? out : &local;
    size_t len;

    mnl_nlmsg_put_header(e->u.b);
    len = tu_parse_actions(text, mnl_nlmsg_get_payload(&e->u.nlh),
                           sizeof e->u.b - MNL_NLMSG_HDRLEN);
    e->u.nlh.nlmsg_len += (uint32_t) len;
    return put_attr(nlh, type, enc_data(e), enc_len(e));
}

/* Sends NEW of the exact flow 'key' (with 'mask' if nonnull, 'ufid' if
 * nonnull) with actions 'acts'; NLM_F_ACK | 'flags'. */
static void
send_new(struct fx *fx, const struct flow_key *key,
         const struct flow_mask *mask, const struct ufid *ufid,
         const char *acts, uint16_t flags, uint32_t ufid_flags)
{
    struct nlmsghdr *nlh = flow_req(fx, OVS_FLOW_CMD_NEW, NLM_F_ACK | flags);

    put_key(nlh, key);
    if (mask) {
        put_mask(nlh, key, mask);
    }
    if (ufid) {
        put_ufid(nlh, ufid);
    }
    if (ufid_flags) {
        put_u32(nlh, OVS_FLOW_ATTR_UFID_FLAGS, ufid_flags);
    }
    put_acts(nlh, OVS_FLOW_ATTR_ACTIONS, acts, NULL);
    gtu_send(fx->conn, nlh);
}

/* NEW that must succeed with just an ACK. */
static void
new_ok(struct fx *fx, const struct flow_key *key,
       const struct flow_mask *mask, const struct ufid *ufid,
       const char *acts)
{
    struct gtu_err e;

    send_new(fx, key, mask, ufid, acts, NLM_F_CREATE, 0);
    if (gtu_recv_err(fx->conn, &e)) {
        fail_msg("flow NEW: %d (%s)", e.error, e.msg);
    }
}

/* Sends GET by 'key' and/or 'ufid' with 'ufid_flags'. */
static void
send_get(struct fx *fx, const struct flow_key *key, const struct ufid *ufid,
         uint32_t ufid_flags)
{
    struct nlmsghdr *nlh = flow_req(fx, OVS_FLOW_CMD_GET, 0);

    if (key) {
        put_key(nlh, key);
    }
    if (ufid) {
        put_ufid(nlh, ufid);
    }
    if (ufid_flags) {
        put_u32(nlh, OVS_FLOW_ATTR_UFID_FLAGS, ufid_flags);
    }
    gtu_send(fx->conn, nlh);
}

/* ---- Replies. ---- */

/* The top-level attributes of a flow or packet message, in order. */
struct attrs {
    size_t n;
    uint16_t types[32];
    const struct nlattr *a[32];
};

static void
msg_attrs(const struct nlmsghdr *nlh, struct attrs *at)
{
    const struct nlattr *a;
    size_t off = GENL_HDRLEN + MNL_ALIGN(sizeof(struct ovs_header));

    memset(at, 0, sizeof *at);
    mnl_attr_for_each(a, nlh, off) {
        assert_true(at->n < 32);
        /* The kernel's nests carry no NLA_F_NESTED (nor byte order). */
        assert_int_equal(a->nla_type & ~NLA_TYPE_MASK, 0);
        at->types[at->n] = mnl_attr_get_type(a);
        at->a[at->n] = a;
        at->n++;
    }
}

/* Asserts the attribute types of 'at', terminated by 0. */
static void
expect_types(const struct attrs *at, ...)
{
    va_list ap;
    size_t i = 0;
    int t;

    va_start(ap, at);
    while ((t = va_arg(ap, int)) != 0) {
        if (i >= at->n) {
            fail_msg("attribute %zu missing (expected type %d)", i, t);
        }
        if (at->types[i] != t) {
            fail_msg("attribute %zu: type %u, expected %d", i,
                     at->types[i], t);
        }
        i++;
    }
    va_end(ap);
    if (i != at->n) {
        fail_msg("%zu attributes, expected %zu (extra type %u)", at->n, i,
                 at->types[i]);
    }
}

static const struct nlattr *
find_attr(const struct attrs *at, uint16_t type)
{
    for (size_t i = 0; i < at->n; i++) {
        if (at->types[i] == type) {
            return at->a[i];
        }
    }
    fail_msg("no attribute of type %u", type);
    return NULL;
}

static void
expect_bytes(const struct nlattr *a, const void *data, size_t len)
{
    assert_int_equal(mnl_attr_get_payload_len(a), len);
    assert_memory_equal(mnl_attr_get_payload(a), data, len);
}

static void
expect_enc(const struct nlattr *a, const struct enc *e)
{
    expect_bytes(a, enc_data(e), enc_len(e));
}

/* Pops a flow message 'cmd' that answers request 'seq' of CONN_PID. */
static const struct nlmsghdr *
recv_flow(struct fx *fx, struct genl_conn *conn, uint8_t cmd, uint32_t seq,
          struct attrs *at)
{
    const struct nlmsghdr *nlh = gtu_recv_msg(conn, rep_buf, sizeof rep_buf,
                                              GENL_FAMILY_ID_FLOW, cmd);

    assert_int_equal(nlh->nlmsg_pid, CONN_PID);
    assert_int_equal(nlh->nlmsg_seq, seq);
    assert_int_equal(nlh->nlmsg_flags, 0);
    assert_int_equal(gtu_genl(nlh)->version, OVS_FLOW_VERSION);
    assert_int_equal(gtu_dp_ifindex(nlh), fx->ifindex);
    msg_attrs(nlh, at);
    return nlh;
}

/* Pops an error that must be 'error', with extack text containing
 * 'text' (if nonnull) and, if 'bad' is nonnull, pointing at it. */
static void
expect_err(struct fx *fx, int error, const char *text,
           const struct nlattr *bad)
{
    struct gtu_err e = gtu_expect_err(fx->conn, error, text);

    if (bad) {
        assert_true(e.has_offs);
        assert_int_equal(e.offs, (const uint8_t *) bad - req_buf);
    }
}

/* Sends 'nlh' and expects 'error' as expect_err() does. */
static void
send_expect(struct fx *fx, struct nlmsghdr *nlh, int error, const char *text,
            const struct nlattr *bad)
{
    gtu_send(fx->conn, nlh);
    expect_err(fx, error, text, bad);
}

/* Sends NEW with the 'len' bytes at 'key' as its KEY attribute and
 * actions "2".  Returns the KEY attribute (where an error points). */
static const struct nlattr *
send_raw_key(struct fx *fx, const void *key, size_t len)
{
    struct nlmsghdr *nlh = flow_req(fx, OVS_FLOW_CMD_NEW, NLM_F_ACK);
    const struct nlattr *a = put_attr(nlh, OVS_FLOW_ATTR_KEY, key, len);

    put_acts(nlh, OVS_FLOW_ATTR_ACTIONS, "2", NULL);
    gtu_send(fx->conn, nlh);
    return a;
}

/* ---- Flows by key. ---- */

/* Flow "in_port(p1),eth(..),eth_type(0x0800),ipv4(src=10.0.0.1/24,..),
 * udp(src=1000,dst=2000/0xff00)": a wildcarded flow whose masked key
 * differs from its key. */
static void
wild_flow(struct fx *fx, uint16_t sport, struct flow_key *key,
          struct flow_mask *mask)
{
    char text[512];

    snprintf(text, sizeof text,
             "in_port(%u),eth(src=00:00:00:00:00:01,"
             "dst=00:00:00:00:00:02),eth_type(0x0800),"
             "ipv4(src=10.0.0.1/255.255.255.0,dst=10.0.0.2,proto=17,tos=0,"
             "ttl=64,frag=no),udp(src=%u,dst=2000/0xff00)", fx->p1, sport);
    tu_parse_flow(text, key, mask);
}

static void
test_key_flows(void **state)
{
    struct fx *fx = *state;
    struct flow_key key, masked;
    struct flow_mask mask;
    struct enc ek, em, ea;
    struct attrs at;
    struct nlmsghdr *nlh;
    uint32_t seq;

    wild_flow(fx, 1000, &key, &mask);
    fkey_mask_apply(&masked, &key, &mask);
    assert_false(fkey_nl_equal(&key, &masked));
    enc_key(&ek, &key);
    enc_mask(&em, &masked, &mask);

    /* NEW without ECHO and no group member: just the ACK. */
    nlh = flow_req(fx, OVS_FLOW_CMD_NEW, NLM_F_ACK | NLM_F_CREATE);
    put_key(nlh, &key);
    put_mask(nlh, &key, &mask);
    put_acts(nlh, OVS_FLOW_ATTR_ACTIONS, "push_vlan(vid=10,pcp=0),2", &ea);
    gtu_send(fx->conn, nlh);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    gtu_expect_none(fx->conn);

    /* GET by key: KEY (unmasked), MASK (in the masked key's shape),
     * ACTIONS as sent; no statistics yet. */
    seq = fx->seq;
    send_get(fx, &key, NULL, 0);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_KEY, OVS_FLOW_ATTR_MASK,
                 OVS_FLOW_ATTR_ACTIONS, 0);
    expect_enc(at.a[0], &ek);
    expect_enc(at.a[1], &em);
    expect_enc(at.a[2], &ea);
    gtu_expect_none(fx->conn);

    /* OMIT_KEY is ignored for a flow without UFID: the key is its name. */
    seq = fx->seq;
    send_get(fx, &key, NULL, OVS_UFID_F_OMIT_KEY);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_KEY, OVS_FLOW_ATTR_MASK,
                 OVS_FLOW_ATTR_ACTIONS, 0);
    expect_enc(at.a[0], &ek);

    /* OMIT_MASK and OMIT_ACTIONS are honoured. */
    seq = fx->seq;
    send_get(fx, &key, NULL, OVS_UFID_F_OMIT_KEY | OVS_UFID_F_OMIT_MASK
                             | OVS_UFID_F_OMIT_ACTIONS);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_KEY, 0);
    expect_enc(at.a[0], &ek);

    /* The masked key is not the flow's name. */
    send_get(fx, &masked, NULL, 0);
    expect_err(fx, -ENOENT, NULL, NULL);

    /* DEL by key with ECHO: the flow as it was, then the ACK. */
    seq = fx->seq;
    nlh = flow_req(fx, OVS_FLOW_CMD_DEL, NLM_F_ACK | NLM_F_ECHO);
    put_key(nlh, &key);
    gtu_send(fx->conn, nlh);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_DEL, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_KEY, OVS_FLOW_ATTR_MASK,
                 OVS_FLOW_ATTR_ACTIONS, 0);
    expect_enc(at.a[0], &ek);
    expect_enc(at.a[1], &em);
    expect_enc(at.a[2], &ea);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);

    send_get(fx, &key, NULL, 0);
    expect_err(fx, -ENOENT, NULL, NULL);
    nlh = flow_req(fx, OVS_FLOW_CMD_DEL, NLM_F_ACK);
    put_key(nlh, &key);
    send_expect(fx, nlh, -ENOENT, NULL, NULL);
}

/* ---- Flows by UFID. ---- */

static void
test_ufid_flows(void **state)
{
    struct fx *fx = *state;
    struct ufid u1 = ufid_make(1), u2 = ufid_make(2);
    struct flow_key key, masked;
    struct flow_mask mask;
    struct enc ekm, em, ea;
    struct attrs at;
    struct nlmsghdr *nlh;
    uint32_t seq;

    wild_flow(fx, 1000, &key, &mask);
    fkey_mask_apply(&masked, &key, &mask);
    enc_key(&ekm, &masked);
    enc_mask(&em, &masked, &mask);

    /* NEW with ECHO and OMIT_KEY | OMIT_ACTIONS: UFID and MASK only. */
    seq = fx->seq;
    nlh = flow_req(fx, OVS_FLOW_CMD_NEW,
                   NLM_F_ACK | NLM_F_CREATE | NLM_F_ECHO);
    put_key(nlh, &key);
    put_mask(nlh, &key, &mask);
    put_ufid(nlh, &u1);
    put_u32(nlh, OVS_FLOW_ATTR_UFID_FLAGS,
            OVS_UFID_F_OMIT_KEY | OVS_UFID_F_OMIT_ACTIONS);
    put_acts(nlh, OVS_FLOW_ATTR_ACTIONS, "2", &ea);
    gtu_send(fx->conn, nlh);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_NEW, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_UFID, OVS_FLOW_ATTR_MASK, 0);
    expect_bytes(at.a[0], u1.id, 16);
    expect_enc(at.a[1], &em);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);

    /* GET by UFID alone: UFID, the masked KEY, MASK, ACTIONS. */
    seq = fx->seq;
    send_get(fx, NULL, &u1, 0);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_UFID, OVS_FLOW_ATTR_KEY,
                 OVS_FLOW_ATTR_MASK, OVS_FLOW_ATTR_ACTIONS, 0);
    expect_bytes(at.a[0], u1.id, 16);
    expect_enc(at.a[1], &ekm);
    expect_enc(at.a[2], &em);
    expect_enc(at.a[3], &ea);

    /* OMIT_KEY without OMIT_MASK: the mask is still right. */
    seq = fx->seq;
    send_get(fx, NULL, &u1, OVS_UFID_F_OMIT_KEY);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_UFID, OVS_FLOW_ATTR_MASK,
                 OVS_FLOW_ATTR_ACTIONS, 0);
    expect_enc(at.a[1], &em);

    /* Everything omitted: the UFID alone. */
    seq = fx->seq;
    send_get(fx, NULL, &u1, OVS_UFID_F_OMIT_KEY | OVS_UFID_F_OMIT_MASK
                            | OVS_UFID_F_OMIT_ACTIONS);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_UFID, 0);

    /* A flow with UFID is found by its UFID only; the key is ignored
     * when a UFID is given. */
    send_get(fx, &key, NULL, 0);
    expect_err(fx, -ENOENT, NULL, NULL);
    seq = fx->seq;
    {
        struct flow_key other;
        struct flow_mask om;

        wild_flow(fx, 999, &other, &om);
        send_get(fx, &other, &u1, OVS_UFID_F_OMIT_ACTIONS);
    }
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_UFID, OVS_FLOW_ATTR_KEY,
                 OVS_FLOW_ATTR_MASK, 0);
    send_get(fx, NULL, &u2, 0);
    expect_err(fx, -ENOENT, NULL, NULL);

    /* NEW of the same UFID without NLM_F_CREATE modifies its actions. */
    send_new(fx, &key, &mask, &u1, "3", 0, 0);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    seq = fx->seq;
    send_get(fx, NULL, &u1, 0);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    {
        uint8_t acts[64];
        size_t len = tu_parse_actions("3", acts, sizeof acts);

        expect_bytes(find_attr(&at, OVS_FLOW_ATTR_ACTIONS), acts, len);
    }

    /* Another UFID on the same match: exclusive -EEXIST, modification
     * -ENOENT (it is another flow's). */
    send_new(fx, &key, &mask, &u2, "2", NLM_F_CREATE, 0);
    expect_err(fx, -EEXIST, NULL, NULL);
    send_new(fx, &key, &mask, &u2, "2", 0, 0);
    expect_err(fx, -ENOENT, NULL, NULL);

    /* SET by UFID (with the key, as Open vSwitch sends it) and ECHO. */
    seq = fx->seq;
    nlh = flow_req(fx, OVS_FLOW_CMD_SET, NLM_F_ACK | NLM_F_ECHO);
    put_key(nlh, &key);
    put_mask(nlh, &key, &mask);
    put_ufid(nlh, &u1);
    put_acts(nlh, OVS_FLOW_ATTR_ACTIONS, "2", NULL);
    gtu_send(fx->conn, nlh);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_SET, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_UFID, OVS_FLOW_ATTR_KEY,
                 OVS_FLOW_ATTR_MASK, OVS_FLOW_ATTR_ACTIONS, 0);
    expect_enc(at.a[3], &ea);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);

    /* DEL by UFID with ECHO and OMIT_ACTIONS. */
    seq = fx->seq;
    nlh = flow_req(fx, OVS_FLOW_CMD_DEL, NLM_F_ACK | NLM_F_ECHO);
    put_ufid(nlh, &u1);
    put_u32(nlh, OVS_FLOW_ATTR_UFID_FLAGS, OVS_UFID_F_OMIT_ACTIONS);
    gtu_send(fx->conn, nlh);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_DEL, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_UFID, OVS_FLOW_ATTR_KEY,
                 OVS_FLOW_ATTR_MASK, 0);
    expect_bytes(at.a[0], u1.id, 16);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    send_get(fx, NULL, &u1, 0);
    expect_err(fx, -ENOENT, NULL, NULL);
}

/* UFIDs of unusual lengths: 1 byte is a UFID; 0 bytes fails the policy
 * (-ERANGE); 17 bytes is ignored, as the kernel ignores it. */
static void
test_ufid_lengths(void **state)
{
    struct fx *fx = *state;
    uint8_t long_id[17];
    uint8_t one = 0x5a;
    struct flow_key key;
    struct attrs at;
    struct nlmsghdr *nlh;
    const struct nlattr *bad;
    uint8_t frame[FRAME_LEN];
    uint32_t seq;

    memset(long_id, 0xab, sizeof long_id);
    udp_frame(frame, sizeof frame, 1);
    frame_key(frame, sizeof frame, fx->p1, &key);

    /* Empty: the policy's -ERANGE, pointing at the attribute. */
    nlh = flow_req(fx, OVS_FLOW_CMD_GET, 0);
    put_key(nlh, &key);
    bad = put_attr(nlh, OVS_FLOW_ATTR_UFID, NULL, 0);
    send_expect(fx, nlh, -ERANGE, "policy", bad);

    /* 17 bytes and no key: "key attribute missing". */
    nlh = flow_req(fx, OVS_FLOW_CMD_GET, 0);
    put_attr(nlh, OVS_FLOW_ATTR_UFID, long_id, sizeof long_id);
    send_expect(fx, nlh, -EINVAL, "key attribute missing", NULL);

    /* NEW with 17 bytes: a flow named by its key. */
    seq = fx->seq;
    nlh = flow_req(fx, OVS_FLOW_CMD_NEW, NLM_F_ACK | NLM_F_ECHO);
    put_key(nlh, &key);
    put_attr(nlh, OVS_FLOW_ATTR_UFID, long_id, sizeof long_id);
    put_acts(nlh, OVS_FLOW_ATTR_ACTIONS, "2", NULL);
    gtu_send(fx->conn, nlh);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_NEW, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_KEY, OVS_FLOW_ATTR_MASK,
                 OVS_FLOW_ATTR_ACTIONS, 0);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    seq = fx->seq;
    send_get(fx, &key, NULL, 0);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);

    /* A 1-byte UFID names a flow. */
    udp_frame(frame, sizeof frame, 2);
    frame_key(frame, sizeof frame, fx->p1, &key);
    nlh = flow_req(fx, OVS_FLOW_CMD_NEW, NLM_F_ACK | NLM_F_CREATE);
    put_key(nlh, &key);
    put_attr(nlh, OVS_FLOW_ATTR_UFID, &one, 1);
    put_acts(nlh, OVS_FLOW_ATTR_ACTIONS, "2", NULL);
    gtu_send(fx->conn, nlh);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    seq = fx->seq;
    nlh = flow_req(fx, OVS_FLOW_CMD_GET, 0);
    put_attr(nlh, OVS_FLOW_ATTR_UFID, &one, 1);
    gtu_send(fx->conn, nlh);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_UFID, OVS_FLOW_ATTR_KEY,
                 OVS_FLOW_ATTR_MASK, OVS_FLOW_ATTR_ACTIONS, 0);
    expect_bytes(at.a[0], &one, 1);
}

/* ---- NEW's flags. ---- */

static void
test_new_flags(void **state)
{
    struct fx *fx = *state;
    struct flow_key key;
    struct attrs at;
    uint8_t frame[FRAME_LEN];
    uint8_t acts[64];
    size_t len;
    uint32_t seq;

    udp_frame(frame, sizeof frame, 7);
    frame_key(frame, sizeof frame, fx->p1, &key);
    new_ok(fx, &key, NULL, NULL, "2");

    /* NLM_F_CREATE (DPIF_FP_CREATE) and NLM_F_EXCL: never modify. */
    send_new(fx, &key, NULL, NULL, "3", NLM_F_CREATE, 0);
    expect_err(fx, -EEXIST, NULL, NULL);
    send_new(fx, &key, NULL, NULL, "3", NLM_F_EXCL, 0);
    expect_err(fx, -EEXIST, NULL, NULL);
    seq = fx->seq;
    send_get(fx, &key, NULL, 0);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    len = tu_parse_actions("2", acts, sizeof acts);
    expect_bytes(find_attr(&at, OVS_FLOW_ATTR_ACTIONS), acts, len);

    /* Neither (DPIF_FP_MODIFY): the actions change. */
    send_new(fx, &key, NULL, NULL, "3", 0, 0);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    seq = fx->seq;
    send_get(fx, &key, NULL, 0);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    len = tu_parse_actions("3", acts, sizeof acts);
    expect_bytes(find_attr(&at, OVS_FLOW_ATTR_ACTIONS), acts, len);

    /* An empty action list is a valid one (drop), and is reported. */
    {
        struct nlmsghdr *nlh = flow_req(fx, OVS_FLOW_CMD_NEW, NLM_F_ACK);

        put_key(nlh, &key);
        put_attr(nlh, OVS_FLOW_ATTR_ACTIONS, NULL, 0);
        gtu_send(fx->conn, nlh);
        assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    }
    seq = fx->seq;
    send_get(fx, &key, NULL, 0);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_KEY, OVS_FLOW_ATTR_MASK,
                 OVS_FLOW_ATTR_ACTIONS, 0);
    assert_int_equal(mnl_attr_get_payload_len(at.a[2]), 0);
}

/* ---- SET, statistics, CLEAR. ---- */

/* Runs 'frame' through the datapath as received on 'port'. */
static void
inject(struct fx *fx, uint32_t port, const uint8_t *frame, size_t len)
{
    struct dp_thread *thr = dp_thread_create(fx->gdp->dp, NULL);
    struct pkt_batch b;

    assert_non_null(thr);
    pkt_batch_init(&b);
    pkt_batch_add(&b, packet_create(frame, len));
    assert_non_null(b.pkts[0]);
    dp_input(thr, port, &b);
    dp_thread_destroy(thr);
}

static void
test_set_stats_clear(void **state)
{
    struct fx *fx = *state;
    struct flow_key key, tkey;
    struct ovs_flow_stats st;
    struct attrs at;
    struct nlmsghdr *nlh;
    uint8_t frame[FRAME_LEN], tframe[FRAME_LEN];
    uint8_t acts[64];
    struct packet *p;
    size_t len;
    uint32_t seq;

    udp_frame(frame, sizeof frame, 3000);
    frame_key(frame, sizeof frame, fx->p1, &key);

    /* SET of a flow that does not exist. */
    nlh = flow_req(fx, OVS_FLOW_CMD_SET, NLM_F_ACK);
    put_key(nlh, &key);
    put_acts(nlh, OVS_FLOW_ATTR_ACTIONS, "2", NULL);
    send_expect(fx, nlh, -ENOENT, NULL, NULL);

    {
        char text[32];

        snprintf(text, sizeof text, "%u", fx->p2);
        new_ok(fx, &key, NULL, NULL, text);
    }
    inject(fx, fx->p1, frame, sizeof frame);
    inject(fx, fx->p1, frame, sizeof frame);
    p = port_dummy_take(dp_port_get(fx->gdp->dp, fx->p2));
    assert_non_null(p);
    assert_int_equal(p->len, sizeof frame);
    assert_memory_equal(p->data, frame, sizeof frame);
    packet_free(p);
    packet_free(port_dummy_take(dp_port_get(fx->gdp->dp, fx->p2)));

    /* USED, STATS (2 packets, 120 bytes); no TCP_FLAGS for UDP. */
    seq = fx->seq;
    send_get(fx, &key, NULL, 0);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_KEY, OVS_FLOW_ATTR_MASK,
                 OVS_FLOW_ATTR_USED, OVS_FLOW_ATTR_STATS,
                 OVS_FLOW_ATTR_ACTIONS, 0);
    assert_int_equal(mnl_attr_get_payload_len(at.a[2]), 8);
    assert_true(mnl_attr_get_u64(at.a[2]) > 0);
    assert_true(mnl_attr_get_u64(at.a[2]) <= tu_now_ms());
    assert_int_equal(mnl_attr_get_payload_len(at.a[3]), sizeof st);
    memcpy(&st, mnl_attr_get_payload(at.a[3]), sizeof st);
    assert_int_equal(st.n_packets, 2);
    assert_int_equal(st.n_bytes, 2 * FRAME_LEN);

    /* SET without ACTIONS keeps them; CLEAR zeroes the statistics after
     * the reply is built, so the reply has the ones from before (as the
     * kernel's ovs_flow_cmd_set()), and a GET after it has none. */
    seq = fx->seq;
    nlh = flow_req(fx, OVS_FLOW_CMD_SET, NLM_F_ACK | NLM_F_ECHO);
    put_key(nlh, &key);
    put_attr(nlh, OVS_FLOW_ATTR_CLEAR, NULL, 0);
    gtu_send(fx->conn, nlh);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_SET, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_KEY, OVS_FLOW_ATTR_MASK,
                 OVS_FLOW_ATTR_USED, OVS_FLOW_ATTR_STATS,
                 OVS_FLOW_ATTR_ACTIONS, 0);
    memcpy(&st, mnl_attr_get_payload(at.a[3]), sizeof st);
    assert_int_equal(st.n_packets, 2);
    {
        char text[32];

        snprintf(text, sizeof text, "%u", fx->p2);
        len = tu_parse_actions(text, acts, sizeof acts);
        expect_bytes(at.a[4], acts, len);
    }
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    seq = fx->seq;
    nlh = flow_req(fx, OVS_FLOW_CMD_GET, 0);
    put_key(nlh, &key);
    gtu_send(fx->conn, nlh);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_KEY, OVS_FLOW_ATTR_MASK,
                 OVS_FLOW_ATTR_ACTIONS, 0);

    /* SET with ACTIONS replaces them. */
    nlh = flow_req(fx, OVS_FLOW_CMD_SET, NLM_F_ACK);
    put_key(nlh, &key);
    put_acts(nlh, OVS_FLOW_ATTR_ACTIONS, "set(tcp(src=1,dst=2))", NULL);
    gtu_send(fx->conn, nlh);
    /* ... checked against the flow's key: not a TCP flow. */
    expect_err(fx, -EINVAL, "actions: ", NULL);
    nlh = flow_req(fx, OVS_FLOW_CMD_SET, NLM_F_ACK);
    put_key(nlh, &key);
    put_acts(nlh, OVS_FLOW_ATTR_ACTIONS, "push_vlan(vid=5,pcp=1)", NULL);
    gtu_send(fx->conn, nlh);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    seq = fx->seq;
    send_get(fx, &key, NULL, 0);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    len = tu_parse_actions("push_vlan(vid=5,pcp=1)", acts, sizeof acts);
    expect_bytes(find_attr(&at, OVS_FLOW_ATTR_ACTIONS), acts, len);

    /* TCP_FLAGS: the OR of the flags seen, low 8 bits. */
    tcp_frame(tframe, 0x02);
    frame_key(tframe, sizeof tframe, fx->p1, &tkey);
    new_ok(fx, &tkey, NULL, NULL, "drop");
    tcp_frame(tframe, 0x02);
    inject(fx, fx->p1, tframe, sizeof tframe);
    seq = fx->seq;
    send_get(fx, &tkey, NULL, OVS_UFID_F_OMIT_MASK);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_KEY, OVS_FLOW_ATTR_USED,
                 OVS_FLOW_ATTR_STATS, OVS_FLOW_ATTR_TCP_FLAGS,
                 OVS_FLOW_ATTR_ACTIONS, 0);
    assert_int_equal(mnl_attr_get_payload_len(at.a[3]), 1);
    assert_int_equal(mnl_attr_get_u8(at.a[3]), 0x02);
}

/* ---- Errors. ---- */

static void
test_errors(void **state)
{
    struct fx *fx = *state;
    struct flow_key key;
    struct nlmsghdr *nlh;
    const struct nlattr *bad;
    uint8_t frame[FRAME_LEN];
    struct bb bb;

    udp_frame(frame, sizeof frame, 5);
    frame_key(frame, sizeof frame, fx->p1, &key);

    /* NEW without key, without actions. */
    nlh = flow_req(fx, OVS_FLOW_CMD_NEW, NLM_F_ACK);
    put_acts(nlh, OVS_FLOW_ATTR_ACTIONS, "2", NULL);
    send_expect(fx, nlh, -EINVAL, "key attribute not present", NULL);
    nlh = flow_req(fx, OVS_FLOW_CMD_NEW, NLM_F_ACK);
    put_key(nlh, &key);
    send_expect(fx, nlh, -EINVAL, "actions attribute not present", NULL);

    /* A truncated key attribute. */
    memset(&bb, 0, sizeof bb);
    bb_raw(&bb, OVS_KEY_ATTR_PRIORITY, 8, "\1\2", 2);
    bad = send_raw_key(fx, bb.b, 6);
    expect_err(fx, -EINVAL, "key: ", bad);

    /* A key that calls for attributes it lacks: eth_type IPv4 without
     * ipv4 (the kernel's "missing attributes"). */
    memset(&bb, 0, sizeof bb);
    bb_u32(&bb, OVS_KEY_ATTR_IN_PORT, fx->p1);
    bb_put(&bb, OVS_KEY_ATTR_ETHERNET, frame, 12);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    bad = send_raw_key(fx, bb.b, bb.len);
    expect_err(fx, -EINVAL, "key: attributes that the key calls for", bad);

    /* An attribute type the datapath does not know. */
    memset(&bb, 0, sizeof bb);
    bb_u32(&bb, OVS_KEY_ATTR_IN_PORT, fx->p1);
    bb_put(&bb, OVS_KEY_ATTR_ETHERNET, frame, 12);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x88cc);
    bb_u32(&bb, 200, 1);
    bad = send_raw_key(fx, bb.b, bb.len);
    expect_err(fx, -EINVAL, "key: attributes this datapath does not know",
               bad);

    /* A mask attribute the key does not have (tcp for a UDP key). */
    memset(&bb, 0, sizeof bb);
    bb_put(&bb, OVS_KEY_ATTR_TCP, "\xff\xff\xff\xff", 4);
    nlh = flow_req(fx, OVS_FLOW_CMD_NEW, NLM_F_ACK);
    put_key(nlh, &key);
    bad = put_attr(nlh, OVS_FLOW_ATTR_MASK, bb.b, bb.len);
    put_acts(nlh, OVS_FLOW_ATTR_ACTIONS, "2", NULL);
    send_expect(fx, nlh, -EINVAL, "mask: ", bad);

    /* Malformed actions: output with 2 bytes; set(tcp()) on UDP. */
    memset(&bb, 0, sizeof bb);
    bb_put(&bb, OVS_ACTION_ATTR_OUTPUT, "\1\0", 2);
    nlh = flow_req(fx, OVS_FLOW_CMD_NEW, NLM_F_ACK);
    put_key(nlh, &key);
    bad = put_attr(nlh, OVS_FLOW_ATTR_ACTIONS, bb.b, bb.len);
    send_expect(fx, nlh, -EINVAL, "actions: ", bad);
    nlh = flow_req(fx, OVS_FLOW_CMD_NEW, NLM_F_ACK);
    put_key(nlh, &key);
    bad = put_acts(nlh, OVS_FLOW_ATTR_ACTIONS, "set(tcp(src=1,dst=2))",
                   NULL);
    send_expect(fx, nlh, -EINVAL, "actions: ", bad);

    /* No such datapath; checked after the request itself. */
    nlh = gtu_req(req_buf, sizeof req_buf, GENL_FAMILY_ID_FLOW,
                  OVS_FLOW_CMD_NEW, NLM_F_ACK, fx->seq++, 0x7ffffff0);
    put_key(nlh, &key);
    put_acts(nlh, OVS_FLOW_ATTR_ACTIONS, "2", NULL);
    send_expect(fx, nlh, -ENODEV, "no datapath", NULL);
    nlh = gtu_req(req_buf, sizeof req_buf, GENL_FAMILY_ID_FLOW,
                  OVS_FLOW_CMD_GET, 0, fx->seq++, 0x7ffffff0);
    send_expect(fx, nlh, -EINVAL, "key attribute missing", NULL);

    /* GET and SET that name no flow. */
    nlh = flow_req(fx, OVS_FLOW_CMD_GET, 0);
    send_expect(fx, nlh, -EINVAL, "key attribute missing", NULL);
    nlh = flow_req(fx, OVS_FLOW_CMD_SET, NLM_F_ACK);
    send_expect(fx, nlh, -EINVAL, "key attribute missing", NULL);
    {
        struct ufid u = ufid_make(9);

        /* SET with actions needs the key even with a UFID (kernel). */
        nlh = flow_req(fx, OVS_FLOW_CMD_SET, NLM_F_ACK);
        put_ufid(nlh, &u);
        put_acts(nlh, OVS_FLOW_ATTR_ACTIONS, "2", NULL);
        send_expect(fx, nlh, -EINVAL,
                    "key attribute not present in set", NULL);
        nlh = flow_req(fx, OVS_FLOW_CMD_SET, NLM_F_ACK);
        put_ufid(nlh, &u);
        send_expect(fx, nlh, -ENOENT, NULL, NULL);
    }
    gtu_expect_none(fx->conn);
}

/* ---- Notifications. ---- */

static void
test_notify(void **state)
{
    struct fx *fx = *state;
    struct genl_conn *member = gtu_conn(fx->srv, MEMBER_PID);
    struct flow_key key;
    struct ufid u = ufid_make(3);
    struct attrs at;
    struct nlmsghdr *nlh;
    uint8_t frame[FRAME_LEN];
    uint32_t seq;

    assert_int_equal(genl_conn_setsockopt(member, WEIR_SOCK_ADD_MEMBERSHIP,
                                          GENL_MCGRP_ID_FLOW), 0);
    udp_frame(frame, sizeof frame, 11);
    frame_key(frame, sizeof frame, fx->p1, &key);

    /* NEW: the member gets it (the requester's port id and sequence);
     * the requester only its ACK. */
    seq = fx->seq;
    send_new(fx, &key, NULL, &u, "2", NLM_F_CREATE,
             OVS_UFID_F_OMIT_ACTIONS);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    gtu_expect_none(fx->conn);
    recv_flow(fx, member, OVS_FLOW_CMD_NEW, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_UFID, OVS_FLOW_ATTR_KEY,
                 OVS_FLOW_ATTR_MASK, 0);
    gtu_expect_none(member);

    /* SET with ECHO: both get it, once each. */
    seq = fx->seq;
    nlh = flow_req(fx, OVS_FLOW_CMD_SET, NLM_F_ACK | NLM_F_ECHO);
    put_key(nlh, &key);
    put_ufid(nlh, &u);
    put_attr(nlh, OVS_FLOW_ATTR_CLEAR, NULL, 0);
    gtu_send(fx->conn, nlh);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_SET, seq, &at);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    gtu_expect_none(fx->conn);
    recv_flow(fx, member, OVS_FLOW_CMD_SET, seq, &at);
    gtu_expect_none(member);

    /* GET: a reply to the requester only. */
    seq = fx->seq;
    send_get(fx, NULL, &u, 0);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_GET, seq, &at);
    gtu_expect_none(member);

    /* The requester as a member, with ECHO, gets one copy. */
    assert_int_equal(genl_conn_setsockopt(fx->conn,
                                          WEIR_SOCK_ADD_MEMBERSHIP,
                                          GENL_MCGRP_ID_FLOW), 0);
    seq = fx->seq;
    nlh = flow_req(fx, OVS_FLOW_CMD_DEL, NLM_F_ACK | NLM_F_ECHO);
    put_ufid(nlh, &u);
    gtu_send(fx->conn, nlh);
    recv_flow(fx, fx->conn, OVS_FLOW_CMD_DEL, seq, &at);
    expect_types(&at, OVS_FLOW_ATTR_UFID, OVS_FLOW_ATTR_KEY,
                 OVS_FLOW_ATTR_MASK, OVS_FLOW_ATTR_ACTIONS, 0);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    gtu_expect_none(fx->conn);
    recv_flow(fx, member, OVS_FLOW_CMD_DEL, seq, &at);
    gtu_expect_none(member);

    /* A flush: no notification at all, only the ACK. */
    assert_int_equal(genl_conn_setsockopt(fx->conn,
                                          WEIR_SOCK_DROP_MEMBERSHIP,
                                          GENL_MCGRP_ID_FLOW), 0);
    new_ok(fx, &key, NULL, NULL, "2");
    gtu_expect_none(fx->conn);
    recv_flow(fx, member, OVS_FLOW_CMD_NEW, fx->seq - 1, &at);
    nlh = flow_req(fx, OVS_FLOW_CMD_DEL, NLM_F_ACK);
    gtu_send(fx->conn, nlh);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    gtu_expect_none(fx->conn);
    gtu_expect_none(member);
    send_get(fx, &key, NULL, 0);
    expect_err(fx, -ENOENT, NULL, NULL);

    genl_conn_destroy(member);
}

/* ---- Probes: not logged. ---- */

static off_t
file_size(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static void
test_probe_not_logged(void **state)
{
    struct fx *fx = *state;
    char path[] = "/tmp/test-genl-flow-log-XXXXXX";
    uint8_t long_id[17];
    struct nlmsghdr *nlh;
    struct flow_key key;
    uint8_t frame[FRAME_LEN];
    int fd = mkstemp(path);
    off_t size;

    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(wlog_set_file(path), 0);
    wlog_set_stderr(false);
    memset(long_id, 1, sizeof long_id);
    udp_frame(frame, sizeof frame, 77);
    frame_key(frame, sizeof frame, fx->p1, &key);

    /* A probe with an ignored UFID and a failure: nothing logged. */
    nlh = flow_req(fx, OVS_FLOW_CMD_GET, 0);
    put_key(nlh, &key);
    put_attr(nlh, OVS_FLOW_ATTR_UFID, long_id, sizeof long_id);
    put_attr(nlh, OVS_FLOW_ATTR_PROBE, NULL, 0);
    send_expect(fx, nlh, -ENOENT, NULL, NULL);
    nlh = flow_req(fx, OVS_FLOW_CMD_NEW, NLM_F_ACK);
    put_attr(nlh, OVS_FLOW_ATTR_PROBE, NULL, 0);
    send_expect(fx, nlh, -EINVAL, NULL, NULL);
    size = file_size(path);
    assert_int_equal(size, 0);

    /* The same without PROBE: the ignored UFID is logged. */
    nlh = flow_req(fx, OVS_FLOW_CMD_GET, 0);
    put_key(nlh, &key);
    put_attr(nlh, OVS_FLOW_ATTR_UFID, long_id, sizeof long_id);
    send_expect(fx, nlh, -ENOENT, NULL, NULL);
    assert_true(file_size(path) > size);

    wlog_set_file(NULL);
    wlog_set_stderr(true);
    unlink(path);
}

/* ---- Dumps. ---- */

#define N_DUMP 300

/* Dumps the flows of dp0 with 'ufid_flags'; checks every message and the
 * datagram structure; returns the number of data datagrams and marks the
 * UFIDs seen in 'seen'. */
static size_t
dump_all(struct fx *fx, uint32_t ufid_flags, uint8_t seen[N_DUMP],
         size_t *n_flows)
{
    struct nlmsghdr *nlh = flow_req(fx, OVS_FLOW_CMD_GET, NLM_F_DUMP);
    uint32_t seq = fx->seq - 1;
    size_t n_dgrams = 0;
    bool done = false;

    if (ufid_flags) {
        put_u32(nlh, OVS_FLOW_ATTR_UFID_FLAGS, ufid_flags);
    }
    gtu_send(fx->conn, nlh);
    *n_flows = 0;
    while (!done) {
        size_t len = gtu_recv(fx->conn, rep_buf, sizeof rep_buf);
        const struct nlmsghdr *m;
        size_t n_msgs;

        assert_true(len > 0);
        assert_true(len <= GENL_DUMP_DGRAM_SIZE);
        n_msgs = gtu_count_msgs(rep_buf, len);
        m = (const void *) rep_buf;
        if (m->nlmsg_type == NLMSG_DONE) {
            /* NLMSG_DONE alone, as the kernel sends it. */
            assert_int_equal(n_msgs, 1);
            assert_int_equal(m->nlmsg_seq, seq);
            done = true;
            break;
        }
        n_dgrams++;
        GTU_FOR_EACH_MSG (m, rep_buf, len) {
            struct attrs at;
            const struct nlattr *ua;
            uint32_t i;

            assert_int_equal(m->nlmsg_type, GENL_FAMILY_ID_FLOW);
            assert_int_equal(m->nlmsg_flags, NLM_F_MULTI);
            assert_int_equal(m->nlmsg_seq, seq);
            assert_int_equal(m->nlmsg_pid, CONN_PID);
            assert_int_equal(gtu_genl(m)->cmd, OVS_FLOW_CMD_GET);
            msg_attrs(m, &at);
            if (ufid_flags == (OVS_UFID_F_OMIT_KEY | OVS_UFID_F_OMIT_MASK
                               | OVS_UFID_F_OMIT_ACTIONS)) {
                expect_types(&at, OVS_FLOW_ATTR_UFID, 0);
            } else {
                expect_types(&at, OVS_FLOW_ATTR_UFID, OVS_FLOW_ATTR_KEY,
                             OVS_FLOW_ATTR_MASK, OVS_FLOW_ATTR_ACTIONS, 0);
            }
            ua = at.a[0];
            assert_int_equal(mnl_attr_get_payload_len(ua), 16);
            memcpy(&i, mnl_attr_get_payload(ua), sizeof i);
            assert_true(i < N_DUMP);
            {
                struct ufid u = ufid_make(i);

                expect_bytes(ua, u.id, 16);
            }
            assert_int_equal(seen[i], 0);
            seen[i] = 1;
            (*n_flows)++;
        }
    }
    gtu_expect_none(fx->conn);
    return n_dgrams;
}

static void
test_dump(void **state)
{
    struct fx *fx = *state;
    uint8_t seen[N_DUMP];
    size_t n_flows, n_dgrams;

    /* An empty table: NLMSG_DONE only. */
    memset(seen, 0, sizeof seen);
    assert_int_equal(dump_all(fx, 0, seen, &n_flows), 0);
    assert_int_equal(n_flows, 0);

    for (uint32_t i = 0; i < N_DUMP; i++) {
        uint8_t frame[FRAME_LEN];
        struct flow_key key;
        struct ufid u = ufid_make(i);

        udp_frame(frame, sizeof frame, (uint16_t) (10000 + i));
        frame_key(frame, sizeof frame, fx->p1, &key);
        new_ok(fx, &key, NULL, &u, "2");
    }

    /* Full messages (~400 bytes): several datagrams. */
    memset(seen, 0, sizeof seen);
    n_dgrams = dump_all(fx, 0, seen, &n_flows);
    assert_int_equal(n_flows, N_DUMP);
    assert_true(n_dgrams >= 2);

    /* Terse: UFIDs only, all in one datagram. */
    memset(seen, 0, sizeof seen);
    n_dgrams = dump_all(fx, OVS_UFID_F_OMIT_KEY | OVS_UFID_F_OMIT_MASK
                        | OVS_UFID_F_OMIT_ACTIONS, seen, &n_flows);
    assert_int_equal(n_flows, N_DUMP);
    assert_int_equal(n_dgrams, 1);

    /* Unlike the other families' dumps, this one reads its attributes,
     * as the kernel's ovs_flow_cmd_dump() parses them: a policy violation
     * ends it, without an extack message. */
    {
        struct nlmsghdr *nlh = flow_req(fx, OVS_FLOW_CMD_GET, NLM_F_DUMP);
        const struct nlmsghdr *m = (const void *) rep_buf;
        size_t len;
        int32_t err;

        put_attr(nlh, OVS_FLOW_ATTR_UFID_FLAGS, "\1\2", 2);
        gtu_send(fx->conn, nlh);
        len = gtu_recv(fx->conn, rep_buf, sizeof rep_buf);
        assert_int_equal(gtu_count_msgs(rep_buf, len), 1);
        assert_int_equal(m->nlmsg_type, NLMSG_DONE);
        assert_int_equal(m->nlmsg_len, MNL_NLMSG_HDRLEN + sizeof err);
        memcpy(&err, mnl_nlmsg_get_payload(m), sizeof err);
        assert_int_equal(err, -ERANGE);
        gtu_expect_none(fx->conn);
    }

    /* Flush and dump again. */
    {
        struct nlmsghdr *nlh = flow_req(fx, OVS_FLOW_CMD_DEL, NLM_F_ACK);

        gtu_send(fx->conn, nlh);
        assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    }
    memset(seen, 0, sizeof seen);
    assert_int_equal(dump_all(fx, 0, seen, &n_flows), 0);
    assert_int_equal(n_flows, 0);
}

/* ---- EXECUTE. ---- */

static struct nlmsghdr *
exec_req(struct fx *fx, uint32_t ifindex)
{
    return gtu_req(req_buf, sizeof req_buf, GENL_FAMILY_ID_PACKET,
                   OVS_PACKET_CMD_EXECUTE, NLM_F_ACK, fx->seq++, ifindex);
}

/* The metadata-only key Open vSwitch sends with EXECUTE. */
static void
ovs_exec_key(struct bb *bb, uint32_t priority, uint32_t mark,
             uint32_t in_port)
{
    memset(bb, 0, sizeof *bb);
    bb_u32(bb, OVS_KEY_ATTR_PRIORITY, priority);
    bb_u32(bb, OVS_KEY_ATTR_SKB_MARK, mark);
    bb_u32(bb, OVS_KEY_ATTR_IN_PORT, in_port);
}

/* Pops an upcall message of 'len' bytes (unaligned: no padding after
 * the packet) and checks its header. */
static const struct nlmsghdr *
recv_upcall(struct fx *fx, uint8_t cmd, struct attrs *at)
{
    size_t len = gtu_recv(fx->conn, rep_buf, sizeof rep_buf);
    const struct nlmsghdr *nlh = (const void *) rep_buf;

    assert_true(len >= MNL_NLMSG_HDRLEN);
    assert_int_equal(nlh->nlmsg_len, len);
    assert_int_equal(nlh->nlmsg_type, GENL_FAMILY_ID_PACKET);
    assert_int_equal(nlh->nlmsg_flags, 0);
    assert_int_equal(nlh->nlmsg_seq, 0);
    assert_int_equal(nlh->nlmsg_pid, 0);
    assert_int_equal(gtu_genl(nlh)->cmd, cmd);
    assert_int_equal(gtu_genl(nlh)->version, OVS_PACKET_VERSION);
    assert_int_equal(gtu_dp_ifindex(nlh), fx->ifindex);
    msg_attrs(nlh, at);
    return nlh;
}

static void
test_execute(void **state)
{
    struct fx *fx = *state;
    uint8_t frame[FRAME_LEN + 1];
    struct pkt_metadata md = { .priority = 7, .skb_mark = 9 };
    struct flow_key key;
    struct nlmsghdr *nlh;
    struct attrs at;
    struct enc ea, ek;
    struct packet *p;
    struct bb bb;
    char acts[128];
    uint64_t hash;

    /* An odd length: the upcall's PACKET ends unpadded (UNALIGNED). */
    udp_frame(frame, sizeof frame, 4242);
    md.in_port = fx->p1;
    assert_int_equal(fkey_extract(frame, sizeof frame, &md, &key), 0);
    enc_key(&ek, &key);

    snprintf(acts, sizeof acts,
             "userspace(pid=%u,userdata(01020304),actions),%u", CONN_PID,
             fx->p2);
    ovs_exec_key(&bb, 7, 9, fx->p1);
    nlh = exec_req(fx, fx->ifindex);
    put_attr(nlh, OVS_PACKET_ATTR_PACKET, frame, sizeof frame);
    put_attr(nlh, OVS_PACKET_ATTR_KEY, bb.b, bb.len);
    put_acts(nlh, OVS_PACKET_ATTR_ACTIONS, acts, &ea);
    put_attr(nlh, OVS_PACKET_ATTR_MRU, &(uint16_t) { 1500 }, 2);
    put_attr(nlh, OVS_PACKET_ATTR_HASH, &(uint64_t) { 0x100000123ull }, 8);
    gtu_send(fx->conn, nlh);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);

    /* The output. */
    p = port_dummy_take(dp_port_get(fx->gdp->dp, fx->p2));
    assert_non_null(p);
    assert_int_equal(p->len, sizeof frame);
    assert_memory_equal(p->data, frame, sizeof frame);
    packet_free(p);

    /* The userspace() upcall: KEY (with the metadata sent), USERDATA,
     * ACTIONS (the list), HASH, PACKET last and unpadded. */
    recv_upcall(fx, OVS_PACKET_CMD_ACTION, &at);
    expect_types(&at, OVS_PACKET_ATTR_KEY, OVS_PACKET_ATTR_USERDATA,
                 OVS_PACKET_ATTR_ACTIONS, OVS_PACKET_ATTR_HASH,
                 OVS_PACKET_ATTR_PACKET, 0);
    expect_enc(at.a[0], &ek);
    expect_bytes(at.a[1], "\1\2\3\4", 4);
    expect_enc(at.a[2], &ea);
    assert_int_equal(mnl_attr_get_payload_len(at.a[3]), 8);
    memcpy(&hash, mnl_attr_get_payload(at.a[3]), 8);
    assert_true(hash == 0);
    expect_bytes(at.a[4], frame, sizeof frame);
    assert_int_equal((const uint8_t *) at.a[4] + at.a[4]->nla_len,
                     rep_buf + ((const struct nlmsghdr *) rep_buf)
                                   ->nlmsg_len);
    gtu_expect_none(fx->conn);

    /* No in_port: the packet is still executed. */
    memset(&bb, 0, sizeof bb);
    bb_u32(&bb, OVS_KEY_ATTR_PRIORITY, 0);
    nlh = exec_req(fx, fx->ifindex);
    put_attr(nlh, OVS_PACKET_ATTR_PACKET, frame, sizeof frame);
    put_attr(nlh, OVS_PACKET_ATTR_KEY, bb.b, bb.len);
    snprintf(acts, sizeof acts, "%u", fx->p2);
    put_acts(nlh, OVS_PACKET_ATTR_ACTIONS, acts, NULL);
    gtu_send(fx->conn, nlh);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    p = port_dummy_take(dp_port_get(fx->gdp->dp, fx->p2));
    assert_non_null(p);
    packet_free(p);

    /* A full key with eth (as ovs-dpctl may send): fine; zero conntrack
     * values are fine too. */
    memset(&bb, 0, sizeof bb);
    bb_u32(&bb, OVS_KEY_ATTR_IN_PORT, fx->p1);
    bb_put(&bb, OVS_KEY_ATTR_ETHERNET, frame, 12);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    bb_u32(&bb, OVS_KEY_ATTR_CT_STATE, 0);
    nlh = exec_req(fx, fx->ifindex);
    put_attr(nlh, OVS_PACKET_ATTR_PACKET, frame, sizeof frame);
    put_attr(nlh, OVS_PACKET_ATTR_KEY, bb.b, bb.len);
    put_attr(nlh, OVS_PACKET_ATTR_ACTIONS, NULL, 0);
    gtu_send(fx->conn, nlh);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    assert_int_equal(port_dummy_tx_queued(dp_port_get(fx->gdp->dp, fx->p2)),
                     0);
    gtu_expect_none(fx->conn);
}

/* Sends an EXECUTE of 'frame' with key stream 'bb' and actions 'acts'
 * text; returns the KEY attribute in the request. */
static const struct nlattr *
send_exec(struct fx *fx, const uint8_t *frame, size_t len,
          const struct bb *bb, const char *acts)
{
    struct nlmsghdr *nlh = exec_req(fx, fx->ifindex);
    const struct nlattr *ka;

    put_attr(nlh, OVS_PACKET_ATTR_PACKET, frame, len);
    ka = put_attr(nlh, OVS_PACKET_ATTR_KEY, bb->b, bb->len);
    put_acts(nlh, OVS_PACKET_ATTR_ACTIONS, acts, NULL);
    gtu_send(fx->conn, nlh);
    return ka;
}

static void
test_execute_errors(void **state)
{
    struct fx *fx = *state;
    uint8_t frame[FRAME_LEN];
    const struct nlattr *bad;
    struct nlmsghdr *nlh;
    struct bb bb;

    udp_frame(frame, sizeof frame, 1);

    /* Shorter than an Ethernet header: the policy's -ERANGE. */
    ovs_exec_key(&bb, 0, 0, fx->p1);
    nlh = exec_req(fx, fx->ifindex);
    bad = put_attr(nlh, OVS_PACKET_ATTR_PACKET, frame, 13);
    put_attr(nlh, OVS_PACKET_ATTR_KEY, bb.b, bb.len);
    put_acts(nlh, OVS_PACKET_ATTR_ACTIONS, "2", NULL);
    send_expect(fx, nlh, -ERANGE, "policy", bad);

    /* Missing PACKET, KEY, ACTIONS. */
    nlh = exec_req(fx, fx->ifindex);
    put_attr(nlh, OVS_PACKET_ATTR_KEY, bb.b, bb.len);
    put_acts(nlh, OVS_PACKET_ATTR_ACTIONS, "2", NULL);
    send_expect(fx, nlh, -EINVAL, "packet attribute missing", NULL);
    nlh = exec_req(fx, fx->ifindex);
    put_attr(nlh, OVS_PACKET_ATTR_PACKET, frame, sizeof frame);
    put_acts(nlh, OVS_PACKET_ATTR_ACTIONS, "2", NULL);
    send_expect(fx, nlh, -EINVAL, "key attribute missing", NULL);
    nlh = exec_req(fx, fx->ifindex);
    put_attr(nlh, OVS_PACKET_ATTR_PACKET, frame, sizeof frame);
    put_attr(nlh, OVS_PACKET_ATTR_KEY, bb.b, bb.len);
    send_expect(fx, nlh, -EINVAL, "actions attribute missing", NULL);

    /* Bad keys. */
    ovs_exec_key(&bb, 0, 0, 65535);
    bad = send_exec(fx, frame, sizeof frame, &bb, "2");
    expect_err(fx, -EINVAL, "in_port 65535", bad);

    ovs_exec_key(&bb, 0, 0, fx->p1);
    bb_u32(&bb, OVS_KEY_ATTR_PRIORITY, 1);
    bad = send_exec(fx, frame, sizeof frame, &bb, "2");
    expect_err(fx, -EINVAL, "duplicate", bad);

    ovs_exec_key(&bb, 0, 0, fx->p1);
    bb_u32(&bb, OVS_KEY_ATTR_MAX + 1, 1);
    bad = send_exec(fx, frame, sizeof frame, &bb, "2");
    expect_err(fx, -EINVAL, "out of range", bad);

    memset(&bb, 0, sizeof bb);
    bb_u16(&bb, OVS_KEY_ATTR_PRIORITY, 1);
    bad = send_exec(fx, frame, sizeof frame, &bb, "2");
    expect_err(fx, -EINVAL, "expected 4", bad);

    ovs_exec_key(&bb, 0, 0, fx->p1);
    bb.b[bb.len++] = 0;         /* A stray byte after the last one. */
    bad = send_exec(fx, frame, sizeof frame, &bb, "2");
    expect_err(fx, -EINVAL, "left over", bad);

    /* What weird cannot do: conntrack, tunnels. */
    ovs_exec_key(&bb, 0, 0, fx->p1);
    bb_u32(&bb, OVS_KEY_ATTR_CT_STATE, 0x21);
    bad = send_exec(fx, frame, sizeof frame, &bb, "2");
    expect_err(fx, -EOPNOTSUPP, "conntrack", bad);

    ovs_exec_key(&bb, 0, 0, fx->p1);
    bb_open(&bb, OVS_KEY_ATTR_TUNNEL);
    bb_u32(&bb, OVS_TUNNEL_KEY_ATTR_IPV4_DST, 0x0100000a);
    bb_close(&bb);
    bad = send_exec(fx, frame, sizeof frame, &bb, "2");
    expect_err(fx, -EOPNOTSUPP, "tunnel", bad);

    /* L3 packets (eth_type without eth): a type below 0x600 or a VLAN
     * type is refused, as the kernel refuses them. */
    ovs_exec_key(&bb, 0, 0, fx->p1);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0500);
    send_exec(fx, frame, sizeof frame, &bb, "2");
    expect_err(fx, -EINVAL, "less than min", NULL);
    ovs_exec_key(&bb, 0, 0, fx->p1);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
    send_exec(fx, frame, sizeof frame, &bb, "2");
    expect_err(fx, -EINVAL, "VLAN type", NULL);

    /* Bad actions: refused before the datapath is looked at. */
    ovs_exec_key(&bb, 0, 0, fx->p1);
    nlh = exec_req(fx, 0x7ffffff0);
    put_attr(nlh, OVS_PACKET_ATTR_PACKET, frame, sizeof frame);
    put_attr(nlh, OVS_PACKET_ATTR_KEY, bb.b, bb.len);
    bad = put_acts(nlh, OVS_PACKET_ATTR_ACTIONS, "set(tcp(src=1,dst=2))",
                   NULL);
    send_expect(fx, nlh, -EINVAL, "actions: ", bad);

    /* No such datapath. */
    nlh = exec_req(fx, 0x7ffffff0);
    put_attr(nlh, OVS_PACKET_ATTR_PACKET, frame, sizeof frame);
    put_attr(nlh, OVS_PACKET_ATTR_KEY, bb.b, bb.len);
    put_acts(nlh, OVS_PACKET_ATTR_ACTIONS, "2", NULL);
    send_expect(fx, nlh, -ENODEV, "no datapath", NULL);

    assert_int_equal(port_dummy_tx_queued(dp_port_get(fx->gdp->dp, fx->p2)),
                     0);
    gtu_expect_none(fx->conn);
}

/* Whether the nested attribute 'nest' has a direct child of 'type'. */
static bool
nest_has(const struct nlattr *nest, uint16_t type)
{
    const struct nlattr *a;

    mnl_attr_for_each_nested(a, nest) {
        if (mnl_attr_get_type(a) == type) {
            return true;
        }
    }
    return false;
}

/* EXECUTE of a packet without an Ethernet header (the key has eth_type
 * and no eth, as Open vSwitch sends it after pop_eth): it is parsed as an
 * L3 packet, push_eth makes it a frame again, and after recirc() its miss
 * upcall carries the L3 bytes and a key without eth. */
static void
test_execute_l3(void **state)
{
    struct fx *fx = *state;
    uint8_t frame[FRAME_LEN];
    const uint8_t *l3 = frame + 14;
    size_t l3_len = sizeof frame - 14;
    struct pkt_metadata md = { .in_port = fx->p1, .recirc_id = 5,
                               .l3_type = htons(0x0800) };
    struct flow_key key;
    struct attrs at;
    struct enc ek;
    struct packet *p;
    struct bb bb;
    char acts[128];

    udp_frame(frame, sizeof frame, 777);

    /* push_eth with the frame's own addresses: the frame comes back. */
    ovs_exec_key(&bb, 0, 0, fx->p1);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    snprintf(acts, sizeof acts,
             "push_eth(src=%02x:%02x:%02x:%02x:%02x:%02x,"
             "dst=%02x:%02x:%02x:%02x:%02x:%02x),%u",
             frame[6], frame[7], frame[8], frame[9], frame[10], frame[11],
             frame[0], frame[1], frame[2], frame[3], frame[4], frame[5],
             fx->p2);
    send_exec(fx, l3, l3_len, &bb, acts);
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    p = port_dummy_take(dp_port_get(fx->gdp->dp, fx->p2));
    assert_non_null(p);
    assert_int_equal(p->len, sizeof frame);
    assert_memory_equal(p->data, frame, sizeof frame);
    packet_free(p);

    /* recirc(5) with no flow: a miss whose key has eth_type and the IPv4
     * fields but no eth, and whose packet is the L3 bytes. */
    assert_int_equal(fkey_extract(l3, l3_len, &md, &key), 0);
    assert_int_equal(key.mac_proto, FKEY_MAC_NONE);
    assert_int_equal(key.nw_proto, 17);
    enc_key(&ek, &key);
    ovs_exec_key(&bb, 0, 0, fx->p1);
    bb_be16(&bb, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    send_exec(fx, l3, l3_len, &bb, "recirc(5)");
    assert_int_equal(gtu_recv_err(fx->conn, NULL), 0);
    recv_upcall(fx, OVS_PACKET_CMD_MISS, &at);
    expect_types(&at, OVS_PACKET_ATTR_KEY, OVS_PACKET_ATTR_HASH,
                 OVS_PACKET_ATTR_PACKET, 0);
    expect_enc(at.a[0], &ek);
    assert_false(nest_has(at.a[0], OVS_KEY_ATTR_ETHERNET));
    assert_true(nest_has(at.a[0], OVS_KEY_ATTR_ETHERTYPE));
    expect_bytes(at.a[2], l3, l3_len);
    gtu_expect_none(fx->conn);
}

/* ---- Upcalls. ---- */

static void
test_upcall_miss(void **state)
{
    struct fx *fx = *state;
    uint8_t frame[FRAME_LEN + 3];
    struct flow_key key;
    struct attrs at;
    struct enc ek;

    udp_frame(frame, sizeof frame, 555);
    frame_key(frame, sizeof frame, fx->p1, &key);
    enc_key(&ek, &key);
    inject(fx, fx->p1, frame, sizeof frame);

    recv_upcall(fx, OVS_PACKET_CMD_MISS, &at);
    expect_types(&at, OVS_PACKET_ATTR_KEY, OVS_PACKET_ATTR_HASH,
                 OVS_PACKET_ATTR_PACKET, 0);
    expect_enc(at.a[0], &ek);
    expect_bytes(at.a[2], frame, sizeof frame);
    /* OVS_DP_F_UNALIGNED: the message ends with the packet. */
    assert_int_equal(((const struct nlmsghdr *) rep_buf)->nlmsg_len % 4, 3);
    gtu_expect_none(fx->conn);
}

/* genl_packet_upcall_put() on its own: an aligned datapath pads the
 * packet; a buffer too small leaves the buffer as it was. */
static void
test_upcall_put(void **state)
{
    struct fx *fx = *state;
    uint8_t frame[FRAME_LEN + 1];
    uint8_t acts[64];
    struct dp_upcall u;
    struct genl_msgbuf mb;
    struct genl_dp *gdp;
    struct errbuf err;
    struct attrs at;
    struct enc ek;
    const struct nlmsghdr *nlh;

    errbuf_clear(&err);
    assert_int_equal(genl_server_dp_create(fx->srv, "dp1", 0, &err), 0);
    gdp = genl_dp_by_name(fx->srv, "dp1");
    assert_non_null(gdp);

    udp_frame(frame, sizeof frame, 9);
    memset(&u, 0, sizeof u);
    u.type = DP_UPCALL_ACTION;
    u.packet = packet_create(frame, sizeof frame);
    frame_key(frame, sizeof frame, 3, &u.key);
    u.pid = CONN_PID;
    u.userdata = "abcde";
    u.userdata_len = 5;
    u.actions_len = tu_parse_actions("userspace(pid=100,actions)", acts,
                                     sizeof acts);
    u.actions = acts;
    enc_key(&ek, &u.key);

    assert_int_equal(genl_msgbuf_init(&mb, 96), 0);
    assert_int_equal(genl_packet_upcall_put(&mb, gdp, &u, CONN_PID),
                     -EMSGSIZE);
    assert_int_equal(mb.len, 0);
    genl_msgbuf_uninit(&mb);

    assert_int_equal(genl_msgbuf_init(&mb, GENL_REPLY_SIZE), 0);
    assert_int_equal(genl_packet_upcall_put(&mb, gdp, &u, CONN_PID), 0);
    nlh = (const void *) mb.data;
    assert_int_equal(mb.len, nlh->nlmsg_len);
    assert_int_equal(nlh->nlmsg_len % 4, 0);
    assert_int_equal(nlh->nlmsg_type, GENL_FAMILY_ID_PACKET);
    assert_int_equal(nlh->nlmsg_pid, 0);
    assert_int_equal(gtu_genl(nlh)->cmd, OVS_PACKET_CMD_ACTION);
    assert_int_equal(gtu_dp_ifindex(nlh), gdp->ifindex);
    msg_attrs(nlh, &at);
    expect_types(&at, OVS_PACKET_ATTR_KEY, OVS_PACKET_ATTR_USERDATA,
                 OVS_PACKET_ATTR_ACTIONS, OVS_PACKET_ATTR_HASH,
                 OVS_PACKET_ATTR_PACKET, 0);
    expect_enc(at.a[0], &ek);
    expect_bytes(at.a[1], "abcde", 5);
    expect_bytes(at.a[2], acts, u.actions_len);
    expect_bytes(at.a[4], frame, sizeof frame);
    /* Padding after USERDATA and PACKET is zero. */
    assert_memory_equal((const uint8_t *) mnl_attr_get_payload(at.a[1]) + 5,
                        "\0\0\0", 3);
    assert_memory_equal((const uint8_t *) mnl_attr_get_payload(at.a[4])
                        + sizeof frame, "\0\0\0", 3);
    genl_msgbuf_uninit(&mb);

    /* A MISS has neither USERDATA nor ACTIONS. */
    u.type = DP_UPCALL_MISS;
    u.userdata = NULL;
    u.userdata_len = 0;
    u.actions = NULL;
    u.actions_len = 0;
    assert_int_equal(genl_msgbuf_init(&mb, GENL_REPLY_SIZE), 0);
    assert_int_equal(genl_packet_upcall_put(&mb, gdp, &u, CONN_PID), 0);
    nlh = (const void *) mb.data;
    assert_int_equal(gtu_genl(nlh)->cmd, OVS_PACKET_CMD_MISS);
    msg_attrs(nlh, &at);
    expect_types(&at, OVS_PACKET_ATTR_KEY, OVS_PACKET_ATTR_HASH,
                 OVS_PACKET_ATTR_PACKET, 0);
    genl_msgbuf_uninit(&mb);
    packet_free(u.packet);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_key_flows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ufid_flows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ufid_lengths, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_new_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_stats_clear, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_not_logged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dump, setup, teardown),
        cmocka_unit_test_setup_teardown(test_execute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_execute_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_execute_l3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upcall_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upcall_put, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
