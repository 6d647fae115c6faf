/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_TESTS_UNIT_GENL_TEST_UTIL_H
#define WEIR_TESTS_UNIT_GENL_TEST_UTIL_H 1

/* Helpers for tests of the generic-netlink server (src/genl): a server
 * whose datapaths get "dummy" local ports (no TAP device, a made-up
 * ifindex), connections bound to chosen pids, requests built with libmnl
 * and handed to genl_conn_input(), and the datagrams the server queues
 * taken back out and picked apart.
 *
 * Family ids are the fixed GENL_FAMILY_ID_* / GENL_ID_CTRL constants of
 * genl-private.h, so nothing is resolved.  Requests for the OVS families
 * carry a struct ovs_header after the genlmsghdr; nlctrl requests carry
 * none.
 *
 * Every helper fails the running cmocka test on misuse or on output it
 * cannot take apart: a test that hits one is wrong or has found a bug.
 *
 * Typical use:
 *
 *     uint8_t buf[GTU_BUF_SIZE];
 *     struct nlmsghdr *nlh = gtu_req(buf, sizeof buf, GENL_FAMILY_ID_DATAPATH,
 *                                    OVS_DP_CMD_NEW, NLM_F_ACK, 1, 0);
 *     mnl_attr_put_strz_check(nlh, sizeof buf, OVS_DP_ATTR_NAME, "dp0");
 *     gtu_send(conn, nlh);
 *     size_t len = gtu_recv(conn, buf, sizeof buf);   (the reply)
 *     assert_int_equal(gtu_recv_err(conn, NULL), 0);   (the ACK)
 *
 * The thread that runs the tests must be an RCU reader (gtu_rcu_init()
 * in a group setup), as genl.h requires. */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/openvswitch.h>

#include "genl/genl-private.h"
#include "genl/genl.h"
#include "lib/errbuf.h"
#include "lib/rcu.h"

/* Big enough for any request or datagram the server sends. */
#define GTU_BUF_SIZE 65536

/* Registers the calling thread as an RCU reader, once per executable. */
static inline void
gtu_rcu_init(void)
{
    static bool done;

    if (!done) {
        qsbr_register();
        done = true;
    }
}

/* A server with dummy local ports and 'pmd_threads' PMD threads per
 * datapath (0 = 1, as the config says). */
static inline struct genl_server *
gtu_server(uint32_t pmd_threads)
{
    struct genl_config cfg;
    struct genl_server *srv;
    struct errbuf err;

    memset(&cfg, 0, sizeof cfg);
    cfg.local_type = "dummy";
    cfg.system_type = "auto";
    cfg.pmd_threads = pmd_threads;
    errbuf_clear(&err);
    srv = genl_server_create(&cfg, &err);
    if (!srv) {
        fail_msg("genl_server_create: %s", err.msg);
    }
    return srv;
}

/* A connection bound to 'pid' (0: any; see genl_conn_pid()). */
static inline struct genl_conn *
gtu_conn(struct genl_server *srv, uint32_t pid)
{
    struct genl_conn *conn = genl_conn_create(srv, NULL, NULL);
    int error;

    assert_non_null(conn);
    error = genl_conn_bind(conn, pid, 0);
    if (error) {
        fail_msg("genl_conn_bind(%u): %d", pid, error);
    }
    return conn;
}

/* Size of the family header that follows the genlmsghdr in messages of
 * family 'family_id': struct ovs_header for the OVS families, none for
 * nlctrl (and anything else). */
static inline size_t
gtu_fam_hdrsize(uint16_t family_id)
{
    switch (family_id) {
    case GENL_FAMILY_ID_DATAPATH:
    case GENL_FAMILY_ID_VPORT:
    case GENL_FAMILY_ID_FLOW:
    case GENL_FAMILY_ID_PACKET:
    case GENL_FAMILY_ID_METER:
    case GENL_FAMILY_ID_CT_LIMIT:
        return sizeof(struct ovs_header);
    default:
        return 0;
    }
}

/* Starts a request in 'buf' ('size' bytes): nlmsghdr (type 'family_id',
 * NLM_F_REQUEST | 'flags', 'seq', port id 0), genlmsghdr ('cmd', the
 * version Open vSwitch sends: OVS_DATAPATH_VERSION for ovs_datapath, 1 for
 * the others) and, for the OVS families, an ovs_header with 'dp_ifindex'.  Add
 * attributes with mnl_attr_put_*_check(nlh, size, ...). */
static inline struct nlmsghdr *
gtu_req(void *buf, size_t size, uint16_t family_id, uint8_t cmd,
        uint16_t flags, uint32_t seq, uint32_t dp_ifindex)
{
    size_t hdrsize = gtu_fam_hdrsize(family_id);
    struct nlmsghdr *nlh;
    struct genlmsghdr *g;

    assert_true(size >= MNL_NLMSG_HDRLEN + GENL_HDRLEN
                        + MNL_ALIGN(hdrsize));
    memset(buf, 0, MNL_NLMSG_HDRLEN + GENL_HDRLEN + MNL_ALIGN(hdrsize));
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = family_id;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    nlh->nlmsg_seq = seq;
    nlh->nlmsg_pid = 0;
    g = mnl_nlmsg_put_extra_header(nlh, GENL_HDRLEN);
    g->cmd = cmd;
    g->version = family_id == GENL_FAMILY_ID_DATAPATH ? OVS_DATAPATH_VERSION
                                                      : 1;
    if (hdrsize) {
        struct ovs_header *oh = mnl_nlmsg_put_extra_header(nlh, hdrsize);

        oh->dp_ifindex = (int) dp_ifindex;
    }
    return nlh;
}

/* Hands one message to the server as a datagram of its own. */
static inline void
gtu_send(struct genl_conn *conn, const struct nlmsghdr *nlh)
{
    genl_conn_input(conn, nlh, nlh->nlmsg_len);
}

/* Pops what the connection has to send next into 'buf': returns the
 * datagram's length and sets '*kind' to GENL_OUT_DGRAM; or 0 with
 * GENL_OUT_SYNC (a sync marker, popped) or GENL_OUT_NONE (nothing). */
static inline size_t
gtu_next(struct genl_conn *conn, void *buf, size_t size,
         enum genl_out *kind)
{
    const void *data;
    size_t len = 0;
    enum genl_out k = genl_conn_output(conn, &data, &len);

    *kind = k;
    if (k == GENL_OUT_NONE) {
        return 0;
    }
    if (k == GENL_OUT_SYNC) {
        genl_conn_output_pop(conn);
        return 0;
    }
    assert_int_equal(k, GENL_OUT_DGRAM);
    if (len > size) {
        fail_msg("datagram of %zu bytes in a buffer of %zu", len, size);
    }
    memcpy(buf, data, len);
    genl_conn_output_pop(conn);
    return len;
}

/* Pops the next datagram into 'buf', skipping sync markers.  Returns its
 * length, or 0 when nothing is queued. */
static inline size_t
gtu_recv(struct genl_conn *conn, void *buf, size_t size)
{
    enum genl_out kind;

    for (;;) {
        size_t len = gtu_next(conn, buf, size, &kind);

        if (kind != GENL_OUT_SYNC) {
            return len;
        }
    }
}

/* Fails the test unless nothing (but sync markers) is queued. */
static inline void
gtu_expect_none(struct genl_conn *conn)
{
    static uint8_t buf[GTU_BUF_SIZE];
    size_t len = gtu_recv(conn, buf, sizeof buf);

    if (len) {
        const struct nlmsghdr *nlh = (const void *) buf;

        fail_msg("unexpected datagram of %zu bytes (type %u)", len,
                 len >= sizeof *nlh ? nlh->nlmsg_type : 0);
    }
}

/* Walks the messages of a datagram:
 *     GTU_FOR_EACH_MSG (nlh, buf, len) { ... } */
#define GTU_FOR_EACH_MSG(NLH, BUF, LEN)                                  \
    for (int gtu_rem_ = ((NLH) = (const struct nlmsghdr *) (BUF),        \
                         (int) (LEN));                                   \
         mnl_nlmsg_ok((NLH), gtu_rem_);                                  \
         (NLH) = mnl_nlmsg_next((NLH), &gtu_rem_))

/* Returns how many messages the datagram holds; fails the test if it has
 * trailing bytes that are not a message. */
static inline size_t
gtu_count_msgs(const void *buf, size_t len)
{
    const struct nlmsghdr *nlh = buf;
    int rem = (int) len;
    size_t n = 0;

    while (mnl_nlmsg_ok(nlh, rem)) {
        n++;
        nlh = mnl_nlmsg_next(nlh, &rem);
    }
    if (rem != 0) {
        fail_msg("%d trailing bytes after %zu messages", rem, n);
    }
    return n;
}

/* The genlmsghdr of a family message. */
static inline const struct genlmsghdr *
gtu_genl(const struct nlmsghdr *nlh)
{
    assert_true(nlh->nlmsg_len >= MNL_NLMSG_HDRLEN + GENL_HDRLEN);
    return mnl_nlmsg_get_payload(nlh);
}

/* The dp_ifindex of an OVS family message. */
static inline uint32_t
gtu_dp_ifindex(const struct nlmsghdr *nlh)
{
    const struct ovs_header *oh;

    assert_true(nlh->nlmsg_len >= MNL_NLMSG_HDRLEN + GENL_HDRLEN
                                  + sizeof *oh);
    oh = (const void *) ((const uint8_t *) mnl_nlmsg_get_payload(nlh)
                         + GENL_HDRLEN);
    return (uint32_t) oh->dp_ifindex;
}

struct gtu_attr_ctx {
    const struct nlattr **tb;
    uint16_t max;
};

static inline int
gtu_attr_cb(const struct nlattr *a, void *aux)
{
    struct gtu_attr_ctx *ctx = aux;
    uint16_t type = mnl_attr_get_type(a);

    if (type <= ctx->max) {
        ctx->tb[type] = a;
    }
    return MNL_CB_OK;
}

/* Fills 'tb' (max + 1 entries) with the top-level attributes of a family
 * message (after its genlmsghdr and family header); unknown types above
 * 'max' are ignored.  Fails the test if the attributes do not parse. */
static inline void
gtu_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb, uint16_t max)
{
    struct gtu_attr_ctx ctx = { tb, max };
    size_t off = GENL_HDRLEN + MNL_ALIGN(gtu_fam_hdrsize(nlh->nlmsg_type));

    memset(tb, 0, (max + 1) * sizeof *tb);
    assert_true(nlh->nlmsg_len >= MNL_NLMSG_HDRLEN + off);
    assert_int_equal(mnl_attr_parse(nlh, (unsigned int) off, gtu_attr_cb,
                                    &ctx), MNL_CB_OK);
}

/* The same for the attributes nested in 'nest'. */
static inline void
gtu_nested(const struct nlattr *nest, const struct nlattr **tb,
           uint16_t max)
{
    struct gtu_attr_ctx ctx = { tb, max };

    memset(tb, 0, (max + 1) * sizeof *tb);
    assert_int_equal(mnl_attr_parse_nested(nest, gtu_attr_cb, &ctx),
                     MNL_CB_OK);
}

/* An NLMSG_ERROR message taken apart. */
struct gtu_err {
    int error;                  /* 0 for an ACK, else -errno. */
    uint16_t flags;             /* nlmsg_flags: NLM_F_CAPPED, _ACK_TLVS. */
    uint32_t portid;            /* nlmsg_pid and nlmsg_seq of the error. */
    uint32_t seq;
    struct nlmsghdr orig;       /* The request's header, as echoed. */
    size_t echoed;              /* Request payload bytes echoed after it. */
    const uint8_t *echo;        /* Those bytes (inside the datagram). */
    char msg[256];              /* NLMSGERR_ATTR_MSG, or "". */
    bool has_msg;
    bool has_offs;
    uint32_t offs;              /* NLMSGERR_ATTR_OFFS. */
};

/* Takes apart NLMSG_ERROR message 'nlh' (fails the test if it is not
 * one, or is malformed).  Returns its error. */
static inline int
gtu_parse_err(const struct nlmsghdr *nlh, struct gtu_err *e)
{
    const struct nlmsgerr *ne;
    size_t payload, at, orig_total;

    memset(e, 0, sizeof *e);
    if (nlh->nlmsg_type != NLMSG_ERROR) {
        fail_msg("expected NLMSG_ERROR, got type %u", nlh->nlmsg_type);
    }
    payload = nlh->nlmsg_len - MNL_NLMSG_HDRLEN;
    assert_true(payload >= sizeof *ne);
    ne = mnl_nlmsg_get_payload(nlh);
    e->error = ne->error;
    e->flags = nlh->nlmsg_flags;
    e->portid = nlh->nlmsg_pid;
    e->seq = nlh->nlmsg_seq;
    e->orig = ne->msg;

    /* The request is echoed in full only for an error without
     * NLM_F_CAPPED. */
    orig_total = sizeof *ne;
    if (ne->error && !(nlh->nlmsg_flags & NLM_F_CAPPED)) {
        assert_true(ne->msg.nlmsg_len >= MNL_NLMSG_HDRLEN);
        e->echoed = ne->msg.nlmsg_len - MNL_NLMSG_HDRLEN;
        orig_total = sizeof *ne - sizeof ne->msg
                     + MNL_ALIGN(ne->msg.nlmsg_len);
        assert_true(payload >= orig_total - (MNL_ALIGN(ne->msg.nlmsg_len)
                                             - ne->msg.nlmsg_len));
        e->echo = (const uint8_t *) (ne + 1);
    }
    at = orig_total;
    if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
        const uint8_t *p = (const uint8_t *) ne;

        while (at + sizeof(struct nlattr) <= payload) {
            const struct nlattr *a = (const void *) (p + at);

            assert_true(a->nla_len >= sizeof *a);
            assert_true(at + a->nla_len <= payload);
            switch (mnl_attr_get_type(a)) {
            case NLMSGERR_ATTR_MSG: {
                size_t n = mnl_attr_get_payload_len(a);

                assert_true(n > 0);
                assert_int_equal(((const char *) mnl_attr_get_payload(a))
                                 [n - 1], '\0');
                snprintf(e->msg, sizeof e->msg, "%s",
                         (const char *) mnl_attr_get_payload(a));
                e->has_msg = true;
                break;
            }
            case NLMSGERR_ATTR_OFFS:
                assert_int_equal(mnl_attr_get_payload_len(a), 4);
                e->offs = mnl_attr_get_u32(a);
                e->has_offs = true;
                break;
            default:
                break;
            }
            at += MNL_ALIGN(a->nla_len);
        }
        assert_true(at >= payload);
    } else {
        assert_true(payload == orig_total || payload
                    == orig_total - (MNL_ALIGN(ne->msg.nlmsg_len)
                                     - ne->msg.nlmsg_len));
    }
    return e->error;
}

/* Pops the next datagram, which must be exactly one NLMSG_ERROR message,
 * and takes it apart into 'e' (may be NULL).  Returns its error (0 for
 * an ACK).  Fails the test if nothing is queued. */
static inline int
gtu_recv_err(struct genl_conn *conn, struct gtu_err *e)
{
    static uint8_t buf[GTU_BUF_SIZE];
    struct gtu_err local;
    size_t len = gtu_recv(conn, buf, sizeof buf);

    if (!len) {
        fail_msg("expected NLMSG_ERROR, nothing queued");
    }
    assert_int_equal(gtu_count_msgs(buf, len), 1);
    if (!e) {
        e = &local;
    }
    return gtu_parse_err((const struct nlmsghdr *) buf, e);
}

/* Pops the next datagram, which must be exactly one NLMSG_ERROR carrying
 * 'error' (0: an ACK) and, unless 'text' is NULL, an extack message that
 * contains 'text'.  Returns it taken apart, for further checks. */
static inline struct gtu_err
gtu_expect_err(struct genl_conn *conn, int error, const char *text)
{
    struct gtu_err e;
    int got = gtu_recv_err(conn, &e);

    if (got != error) {
        fail_msg("error %d (%s), expected %d", got, e.msg, error);
    }
    if (text && (!e.has_msg || !strstr(e.msg, text))) {
        fail_msg("extack \"%s\" lacks \"%s\"", e.msg, text);
    }
    return e;
}

/* Pops the next datagram, which must be exactly one message of family
 * 'family_id' with command 'cmd', into 'buf'.  Returns the message. */
static inline const struct nlmsghdr *
gtu_recv_msg(struct genl_conn *conn, void *buf, size_t size,
             uint16_t family_id, uint8_t cmd)
{
    size_t len = gtu_recv(conn, buf, size);
    const struct nlmsghdr *nlh = buf;

    if (!len) {
        fail_msg("expected a message of family %u, nothing queued",
                 family_id);
    }
    assert_int_equal(gtu_count_msgs(buf, len), 1);
    if (nlh->nlmsg_type == NLMSG_ERROR) {
        struct gtu_err e;

        gtu_parse_err(nlh, &e);
        fail_msg("expected a message of family %u, got error %d (%s)",
                 family_id, e.error, e.msg);
    }
    assert_int_equal(nlh->nlmsg_type, family_id);
    assert_int_equal(gtu_genl(nlh)->cmd, cmd);
    return nlh;
}

#endif /* tests/unit/genl-test-util.h */
