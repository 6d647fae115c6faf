/* SPDX-License-Identifier: Apache-2.0 */
/* The dpif conformance suite, monitors (dpif_monitor_*() of
 * include/weir/dpif.h): every change of dpif.h's table and the events it
 * makes, lost events, monitors made and destroyed while changes go on,
 * against both providers (dpif-test-util.h's groups); then the netlink
 * monitor against a scripted weird that sends what the real one does
 * not (malformed notifications, overruns, a hang-up).  Runs under
 * ThreadSanitizer too (meson suite 'tsan'). */

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/openvswitch.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "weir/control.h"

#include "dpif-test-util.h"

/* ---- Events. ---- */

static const char *
ev_kind_name(enum dpif_event_kind k)
{
    return k == DPIF_EV_DP ? "dp" : k == DPIF_EV_PORT ? "port"
           : k == DPIF_EV_FLOW ? "flow" : k == DPIF_EV_LOST ? "lost" : "?";
}

static const char *
ev_op_name(enum dpif_event_op op)
{
    return op == DPIF_EV_NEW ? "new" : op == DPIF_EV_DEL ? "del"
           : op == DPIF_EV_SET ? "set" : "?";
}

/* Takes the next event of 'mon' (waiting up to 5 s) and checks that it
 * is of 'kind' and 'op' about datapath 'dp'. */
#define want_event(MON, EV, KIND, OP, DP) \
    want_event_(MON, EV, KIND, OP, DP, __LINE__)

static void
want_event_(struct dpif_monitor *mon, struct dpif_event *ev,
            enum dpif_event_kind kind, enum dpif_event_op op,
            const char *dp, int line)
{
    int r = dpif_monitor_next(mon, ev, 5000);

    if (r) {
        fail_msg("line %d: no %s %s event: %s (%s)", line,
                 ev_kind_name(kind), ev_op_name(op), strerror(-r),
                 dpif_last_error());
    }
    if (ev->kind != kind || (kind != DPIF_EV_LOST
                             && (ev->op != op
                                 || strcmp(ev->dp_name, dp)))) {
        fail_msg("line %d: event %s %s %s, want %s %s %s", line,
                 ev_kind_name(ev->kind), ev_op_name(ev->op), ev->dp_name,
                 ev_kind_name(kind), ev_op_name(op), dp);
    }
}

/* Checks that a flow event carries UFID 'ufid' and statistics only. */
static void
assert_terse_flow(const struct dpif_flow *flow, const struct dpif_ufid *ufid)
{
    assert_null(flow->key);
    assert_null(flow->mask);
    assert_null(flow->actions);
    assert_int_equal(flow->ufid.len, ufid->len);
    assert_memory_equal(flow->ufid.id, ufid->id, ufid->len);
}

static void
assert_no_event(struct dpif_monitor *mon, int ms)
{
    struct dpif_event ev;
    int r = dpif_monitor_next(mon, &ev, ms);

    if (r != -EAGAIN) {
        fail_msg("unexpected: %d, event %s %s %s", r, ev_kind_name(ev.kind),
                 ev_op_name(ev.op), ev.dp_name);
    }
}

/* Every change of dpif.h's table, and the events it makes. */
static void
test_monitor(void **state)
{
    const struct suite *s = *state;
    NM(dpn, s, "mon");
    NM(pa, s, "ma");
    static uint8_t buf[DPIF_FLOW_BUFSIZE];
    struct dpif_ufid ua = mkufid(0x3, 1);
    struct dpif_monitor *mon, *late, *bad = (struct dpif_monitor *) 1;
    struct dpif_flow_stats st;
    struct tacts drop, out2;
    struct tflow fa, fd;
    struct tframe frames[3];
    struct dpif_event ev;
    struct dpif_flow flow;
    struct dpif_op op, *opp = &op;
    struct dpif *dpif;
    uint32_t no = DPIF_PORT_ANY, features;
    char rx[200];
    int fd_mon;

    tflow(&fa, FLOW_A);
    tflow(&fd, "in_port(5),eth(),eth_type(0x0800),"
          "ipv4(src=10.0.0.9,proto=17),udp()");
    tacts(&drop, "drop");
    tacts(&out2, "2");

    assert_errno(dpif_monitor_create(s->type, &mon), 0);
    fd_mon = dpif_monitor_fd(mon);
    assert_true(fd_mon >= 0);
    assert_errno(dpif_monitor_next(mon, &ev, 0), -EAGAIN);
    assert_false(tu_fd_readable(fd_mon, 0));

    /* A datapath, a port with options. */
    dpif = dp_open(s, dpn);
    assert_true(tu_fd_readable(fd_mon, 5000));
    want_event(mon, &ev, DPIF_EV_DP, DPIF_EV_NEW, dpn);
    assert_errno(dpif_port_add(dpif, pa, "dummy", "n_rxq=2,loop=true", &no),
                 0);
    want_event(mon, &ev, DPIF_EV_PORT, DPIF_EV_NEW, dpn);
    assert_string_equal(ev.port.name, pa);
    assert_string_equal(ev.port.type, "dummy");
    assert_int_equal(ev.port.port_no, no);
    assert_string_equal(ev.port.options, "n_rxq=2,loop=true");

    /* Flow puts: NEW with DPIF_FP_CREATE, SET without, whole. */
    assert_errno(put(dpif, DPIF_FP_CREATE, &fa, &ua, &drop, NULL), 0);
    want_event(mon, &ev, DPIF_EV_FLOW, DPIF_EV_NEW, dpn);
    assert_flow(&ev.flow, &fa, &ua, &drop);
    assert_int_equal(ev.flow.stats.n_packets, 0);
    assert_int_equal(ev.flow.stats.used_ms, 0);
    assert_errno(put(dpif, DPIF_FP_MODIFY, &fa, &ua, &out2, NULL), 0);
    want_event(mon, &ev, DPIF_EV_FLOW, DPIF_EV_SET, dpn);
    assert_flow(&ev.flow, &fa, &ua, &out2);

    /* Traffic: three frames through the flow. */
    for (int i = 0; i < 3; i++) {
        tframe_udp(&frames[i], 60, 0x0a000001, 1000);
    }
    tpath(s, "mon-rx.pcap", rx, sizeof rx);
    pcap_write(rx, frames, 3);
    assert_int_equal(add_pcap(dpif, nm(s, "mon-rx"), "rx", rx, 5), 5);
    want_event(mon, &ev, DPIF_EV_PORT, DPIF_EV_NEW, dpn);
    assert_string_equal(ev.port.type, "pcap");
    wait_packets(dpif, &ua, 3);
    assert_errno(dpif_port_del(dpif, 5), 0);
    want_event(mon, &ev, DPIF_EV_PORT, DPIF_EV_DEL, dpn);
    assert_int_equal(ev.port.port_no, 5);
    assert_non_null(strstr(ev.port.options, "rx="));

    /* Zeroing that asks for statistics: a SET with the statistics only,
     * then the zeroing SET, whole; both with the statistics before. */
    assert_errno(put(dpif, DPIF_FP_MODIFY | DPIF_FP_ZERO_STATS, &fa, &ua,
                     &drop, &st), 0);
    assert_int_equal(st.n_packets, 3);
    want_event(mon, &ev, DPIF_EV_FLOW, DPIF_EV_SET, dpn);
    assert_terse_flow(&ev.flow, &ua);
    assert_int_equal(ev.flow.stats.n_packets, 3);
    assert_int_equal(ev.flow.stats.n_bytes, 180);
    assert_true(ev.flow.stats.used_ms > 0);
    want_event(mon, &ev, DPIF_EV_FLOW, DPIF_EV_SET, dpn);
    assert_flow(&ev.flow, &fa, &ua, &drop);
    assert_int_equal(ev.flow.stats.n_packets, 3);
    assert_errno(dpif_flow_get(dpif, NULL, 0, &ua, buf, sizeof buf, &flow),
                 0);
    assert_int_equal(flow.stats.n_packets, 0);

    /* CREATE | MODIFY | ZERO_STATS: NEW, then the zeroing SET. */
    assert_errno(put(dpif, DPIF_FP_CREATE | DPIF_FP_MODIFY
                     | DPIF_FP_ZERO_STATS, &fa, &ua, &out2, NULL), 0);
    want_event(mon, &ev, DPIF_EV_FLOW, DPIF_EV_NEW, dpn);
    assert_flow(&ev.flow, &fa, &ua, &out2);
    want_event(mon, &ev, DPIF_EV_FLOW, DPIF_EV_SET, dpn);
    assert_flow(&ev.flow, &fa, &ua, &out2);

    /* dpif_flow_del() is terse: UFID and statistics. */
    assert_errno(dpif_flow_del(dpif, NULL, 0, &ua, &st), 0);
    want_event(mon, &ev, DPIF_EV_FLOW, DPIF_EV_DEL, dpn);
    assert_terse_flow(&ev.flow, &ua);

    /* A flow without UFID, and deletes that are not terse. */
    assert_errno(put(dpif, DPIF_FP_CREATE, &fd, NULL, &drop, NULL), 0);
    want_event(mon, &ev, DPIF_EV_FLOW, DPIF_EV_NEW, dpn);
    assert_flow(&ev.flow, &fd, NULL, &drop);
    memset(&op, 0, sizeof op);
    op.type = DPIF_OP_FLOW_DEL;
    op.u.flow_del.key = fd.key;
    op.u.flow_del.key_len = fd.key_len;
    dpif_operate(dpif, &opp, 1);
    assert_errno(op.error, 0);
    want_event(mon, &ev, DPIF_EV_FLOW, DPIF_EV_DEL, dpn);
    assert_flow(&ev.flow, &fd, NULL, &drop);
    assert_errno(put(dpif, DPIF_FP_CREATE, &fa, &ua, &drop, NULL), 0);
    want_event(mon, &ev, DPIF_EV_FLOW, DPIF_EV_NEW, dpn);
    memset(&op, 0, sizeof op);
    op.type = DPIF_OP_FLOW_DEL;
    op.u.flow_del.ufid = &ua;
    dpif_operate(dpif, &opp, 1);
    assert_errno(op.error, 0);
    want_event(mon, &ev, DPIF_EV_FLOW, DPIF_EV_DEL, dpn);
    assert_flow(&ev.flow, &fa, &ua, &drop);

    /* Nothing for a flush, nor for changes that fail. */
    assert_errno(put(dpif, DPIF_FP_CREATE, &fd, NULL, &drop, NULL), 0);
    want_event(mon, &ev, DPIF_EV_FLOW, DPIF_EV_NEW, dpn);
    assert_errno(dpif_flow_flush(dpif), 0);
    assert_errno(put(dpif, DPIF_FP_MODIFY, &fa, &ua, &drop, NULL), -ENOENT);
    assert_errno(dpif_port_del(dpif, 99), -ENOENT);
    assert_errno(dpif_port_set_options(dpif, no, "loop=false"),
                 -EOPNOTSUPP);
    assert_no_event(mon, 300);

    /* Features; handlers: DP SET, then every port's SET in order. */
    assert_errno(dpif_get_features(dpif, &features), 0);
    assert_errno(dpif_set_features(dpif, features), 0);
    want_event(mon, &ev, DPIF_EV_DP, DPIF_EV_SET, dpn);
    assert_errno(dpif_handlers_set(dpif, 1), 0);
    want_event(mon, &ev, DPIF_EV_DP, DPIF_EV_SET, dpn);
    want_event(mon, &ev, DPIF_EV_PORT, DPIF_EV_SET, dpn);
    assert_int_equal(ev.port.port_no, DPIF_LOCAL_PORT);
    assert_string_equal(ev.port.name, dpn);
    want_event(mon, &ev, DPIF_EV_PORT, DPIF_EV_SET, dpn);
    assert_int_equal(ev.port.port_no, no);
    assert_string_equal(ev.port.options, "n_rxq=2,loop=true");
    assert_errno(dpif_handlers_set(dpif, 1), 0);
    assert_no_event(mon, 200);
    assert_errno(dpif_handlers_set(dpif, 0), 0);
    want_event(mon, &ev, DPIF_EV_DP, DPIF_EV_SET, dpn);
    want_event(mon, &ev, DPIF_EV_PORT, DPIF_EV_SET, dpn);
    want_event(mon, &ev, DPIF_EV_PORT, DPIF_EV_SET, dpn);

    /* A second monitor sees what comes after it, as the first does. */
    assert_errno(dpif_monitor_create(s->type, &late), 0);
    assert_errno(dpif_port_del(dpif, no), 0);
    want_event(mon, &ev, DPIF_EV_PORT, DPIF_EV_DEL, dpn);
    assert_string_equal(ev.port.name, pa);
    assert_string_equal(ev.port.options, "n_rxq=2,loop=true");
    want_event(late, &ev, DPIF_EV_PORT, DPIF_EV_DEL, dpn);
    assert_string_equal(ev.port.name, pa);
    dp_done(dpif);
    want_event(mon, &ev, DPIF_EV_DP, DPIF_EV_DEL, dpn);
    want_event(late, &ev, DPIF_EV_DP, DPIF_EV_DEL, dpn);
    assert_no_event(mon, 200);
    assert_no_event(late, 0);
    assert_false(tu_fd_readable(fd_mon, 0));
    dpif_monitor_destroy(late);
    dpif_monitor_destroy(mon);

    /* Bad arguments. */
    dpif_monitor_destroy(NULL);
    assert_errno(dpif_monitor_create(s->type, NULL), -EINVAL);
    assert_errno(dpif_monitor_create("nosuch", &bad), -EINVAL);
    assert_null(bad);
    assert_errno(dpif_monitor_next(NULL, &ev, 0), -EINVAL);
    assert_errno(dpif_monitor_fd(NULL), -EINVAL);
}

#define LOST_FLOWS 800
#define LOST_OUTPUTS 1000       /* Output actions per flow: 8000 bytes. */

/* A monitor that does not read loses events: those that fit come, then
 * one DPIF_EV_LOST, and events again after. */
static void
test_monitor_lost(void **state)
{
    const struct suite *s = *state;
    NM(dpn, s, "lost");
    static uint8_t acts[LOST_OUTPUTS * 8];
    static struct tflow flows[LOST_FLOWS];
    static struct dpif_ufid ufids[LOST_FLOWS];
    static struct dpif_op ops[LOST_FLOWS], *opps[LOST_FLOWS];
    struct dpif *dpif = dp_open(s, dpn);
    struct dpif_monitor *mon;
    struct dpif_event ev;
    int before = 0, lost = 0, after = 0, r;
    uint32_t no = DPIF_PORT_ANY;

    for (int i = 0; i < LOST_OUTPUTS; i++) {
        uint8_t *a = acts + 8 * i;

        a[0] = 8;                       /* nla_len */
        a[1] = 0;
        a[2] = OVS_ACTION_ATTR_OUTPUT;  /* nla_type */
        a[3] = 0;
        memcpy(a + 4, &(uint32_t) { 1 }, 4);
    }
    for (int i = 0; i < LOST_FLOWS; i++) {
        tflow(&flows[i], "in_port(1),eth(),eth_type(0x0800),"
              "ipv4(src=10.1.%d.%d,proto=17),udp()", i / 250, i % 250);
        ufids[i] = mkufid(0x7, (uint16_t) i);
        opps[i] = &ops[i];
    }
    assert_errno(dpif_monitor_create(s->type, &mon), 0);

    /* 1600 events of about 8 KiB: more than the local provider's queue
     * and weird's buffer for a monitor hold. */
    for (int i = 0; i < LOST_FLOWS; i++) {
        memset(&ops[i], 0, sizeof ops[i]);
        ops[i].type = DPIF_OP_FLOW_PUT;
        ops[i].u.flow_put.flags = DPIF_FP_CREATE;
        ops[i].u.flow_put.key = flows[i].key;
        ops[i].u.flow_put.key_len = flows[i].key_len;
        ops[i].u.flow_put.mask = flows[i].mask;
        ops[i].u.flow_put.mask_len = flows[i].mask_len;
        ops[i].u.flow_put.ufid = &ufids[i];
        ops[i].u.flow_put.actions = acts;
        ops[i].u.flow_put.actions_len = sizeof acts;
    }
    dpif_operate(dpif, opps, LOST_FLOWS);
    for (int i = 0; i < LOST_FLOWS; i++) {
        assert_errno(ops[i].error, 0);
        memset(&ops[i], 0, sizeof ops[i]);
        ops[i].type = DPIF_OP_FLOW_DEL;
        ops[i].u.flow_del.ufid = &ufids[i];
    }
    dpif_operate(dpif, opps, LOST_FLOWS);
    for (int i = 0; i < LOST_FLOWS; i++) {
        assert_errno(ops[i].error, 0);
    }

    while ((r = dpif_monitor_next(mon, &ev, 1000)) == 0) {
        if (ev.kind == DPIF_EV_LOST) {
            lost++;
            continue;
        }
        assert_int_equal(ev.kind, DPIF_EV_FLOW);
        assert_string_equal(ev.dp_name, dpn);
        if (ev.op == DPIF_EV_NEW) {
            assert_int_equal(ev.flow.actions_len, sizeof acts);
        }
        if (lost) {
            after++;
        } else {
            before++;
        }
    }
    assert_errno(r, -EAGAIN);
    assert_int_equal(lost, 1);
    assert_true(before > 0);
    assert_true(before + after < 2 * LOST_FLOWS);

    /* Caught up: events come again. */
    assert_errno(dpif_port_add(dpif, nm(s, "la"), "dummy", NULL, &no), 0);
    want_event(mon, &ev, DPIF_EV_PORT, DPIF_EV_NEW, dpn);
    assert_no_event(mon, 0);
    dpif_monitor_destroy(mon);
    dp_done(dpif);
}

/* Changes on one thread, a monitor read on another, a monitor created
 * and destroyed on a third meanwhile. */
struct monitor_churn {
    const struct suite *s;
    atomic_bool stop;
};

static void *
monitor_churn_main(void *ctx_)
{
    struct monitor_churn *ctx = ctx_;

    while (!atomic_load(&ctx->stop)) {
        struct dpif_monitor *mon;
        struct dpif_event ev;

        if (dpif_monitor_create(ctx->s->type, &mon)) {
            break;
        }
        dpif_monitor_next(mon, &ev, 1);
        dpif_monitor_destroy(mon);
    }
    return NULL;
}

#define CHURN_PAIRS 40

static void
test_monitor_threads(void **state)
{
    const struct suite *s = *state;
    NM(dpn, s, "mthr");
    struct monitor_churn churn = { .s = s };
    struct dpif *dpif = dp_open(s, dpn);
    struct dpif_monitor *mon;
    struct dpif_event ev;
    pthread_t thread;
    int news = 0, dels = 0;

    assert_errno(dpif_monitor_create(s->type, &mon), 0);
    atomic_init(&churn.stop, false);
    assert_int_equal(pthread_create(&thread, NULL, monitor_churn_main,
                                    &churn), 0);
    for (int i = 0; i < CHURN_PAIRS; i++) {
        uint32_t no = DPIF_PORT_ANY;

        assert_errno(dpif_port_add(dpif, nm(s, "mt"), "dummy", "loop=true",
                                   &no), 0);
        assert_errno(dpif_port_del(dpif, no), 0);
    }
    while (news + dels < 2 * CHURN_PAIRS) {
        want_event(mon, &ev, DPIF_EV_PORT, news == dels ? DPIF_EV_NEW
                                                        : DPIF_EV_DEL, dpn);
        assert_string_equal(ev.port.options, "loop=true");
        if (ev.op == DPIF_EV_NEW) {
            news++;
        } else {
            dels++;
        }
    }
    atomic_store(&churn.stop, true);
    pthread_join(thread, NULL);
    assert_no_event(mon, 100);
    dpif_monitor_destroy(mon);
    dp_done(dpif);
}


/* ---- A monitor against a scripted weird. ---- */

/* What weird does not send, or not on purpose: a minimal server on a
 * socket of its own answers HELLO, nlctrl, socket options and datapath
 * GETs, and the test writes notifications straight to the monitor's
 * connection, malformed ones among them.  (The conformance groups above
 * run the netlink monitor against the real server.) */

#define FAKE_DP_IFINDEX 7
#define FAKE_FAM_DP 0x20
#define FAKE_FAM_VPORT 0x21
#define FAKE_FAM_FLOW 0x22
#define FAKE_FAM_PACKET 0x23
#define FAKE_CONNS 8

struct fakew {
    char dir[64], path[128];
    int lfd;
    int conns[FAKE_CONNS];
    int n_conns;
    atomic_int mon_fd;          /* The connection that joined a group. */
    atomic_bool stop;
    pthread_t thread;
};

static void
fk_send(int fd, const void *buf, size_t len)
{
    assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t) len);
}

/* Starts a generic-netlink message in 'buf' ('size' bytes); with 'ovs',
 * a struct ovs_header for datapath 'ifindex'. */
static struct nlmsghdr *
fk_start(void *buf, size_t size, uint16_t type, uint16_t flags,
         uint32_t seq, uint32_t pid, uint8_t cmd, bool ovs,
         uint32_t ifindex)
{
    struct nlmsghdr *nlh;
    struct genlmsghdr *g;

    memset(buf, 0, size);
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    nlh->nlmsg_seq = seq;
    nlh->nlmsg_pid = pid;
    g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
    g->cmd = cmd;
    g->version = 1;
    if (ovs) {
        struct ovs_header *oh = mnl_nlmsg_put_extra_header(nlh, sizeof *oh);

        oh->dp_ifindex = ifindex;
    }
    return nlh;
}

/* Appends NLMSG_ERROR 'error' (0: an ACK) for 'req' at 'at'. */
static size_t
fk_put_error(void *at, const struct nlmsghdr *req, int error)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(at);
    struct nlmsgerr *e;

    nlh->nlmsg_type = NLMSG_ERROR;
    nlh->nlmsg_flags = NLM_F_CAPPED;
    nlh->nlmsg_seq = req->nlmsg_seq;
    nlh->nlmsg_pid = req->nlmsg_pid;
    e = mnl_nlmsg_put_extra_header(nlh, sizeof *e);
    e->error = error;
    e->msg = *req;
    return NLMSG_ALIGN(nlh->nlmsg_len);
}

/* Appends datapath "fk" as a reply to 'req' at 'at'. */
static size_t
fk_put_dp(void *at, size_t size, const struct nlmsghdr *req,
          uint16_t flags)
{
    struct nlmsghdr *nlh = fk_start(at, size, FAKE_FAM_DP, flags,
                                    req->nlmsg_seq, req->nlmsg_pid,
                                    OVS_DP_CMD_GET, true, FAKE_DP_IFINDEX);

    assert_true(mnl_attr_put_strz_check(nlh, size, OVS_DP_ATTR_NAME, "fk"));
    return NLMSG_ALIGN(nlh->nlmsg_len);
}

static int
fk_family_attr(const struct nlattr *a, void *name_)
{
    const char **name = name_;

    if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_NAME
        && !mnl_attr_validate(a, MNL_TYPE_NUL_STRING)) {
        *name = mnl_attr_get_str(a);
    }
    return MNL_CB_OK;
}

/* Answers CTRL_CMD_GETFAMILY 'req' on 'fd'. */
static void
fk_ctrl(int fd, const struct nlmsghdr *req)
{
    static const struct {
        const char *name, *group;
        uint16_t id;
        uint32_t group_id;
    } fams[] = {
        { OVS_DATAPATH_FAMILY, OVS_DATAPATH_MCGROUP, FAKE_FAM_DP, 1 },
        { OVS_VPORT_FAMILY, OVS_VPORT_MCGROUP, FAKE_FAM_VPORT, 2 },
        { OVS_FLOW_FAMILY, OVS_FLOW_MCGROUP, FAKE_FAM_FLOW, 3 },
        { OVS_PACKET_FAMILY, NULL, FAKE_FAM_PACKET, 0 },
    };
    uint64_t buf[512];
    const char *name = NULL;
    size_t len = 0;

    mnl_attr_parse(req, GENL_HDRLEN, fk_family_attr, &name);
    for (size_t i = 0; name && i < sizeof fams / sizeof fams[0]; i++) {
        struct nlmsghdr *nlh;
        struct nlattr *grps, *grp;

        if (strcmp(name, fams[i].name)) {
            continue;
        }
        nlh = fk_start(buf, sizeof buf, GENL_ID_CTRL, 0, req->nlmsg_seq,
                       req->nlmsg_pid, CTRL_CMD_NEWFAMILY, false, 0);
        assert_true(mnl_attr_put_u16_check(nlh, sizeof buf,
                                           CTRL_ATTR_FAMILY_ID,
                                           fams[i].id));
        assert_true(mnl_attr_put_strz_check(nlh, sizeof buf,
                                            CTRL_ATTR_FAMILY_NAME, name));
        if (fams[i].group) {
            grps = mnl_attr_nest_start_check(nlh, sizeof buf,
                                             CTRL_ATTR_MCAST_GROUPS);
            grp = grps ? mnl_attr_nest_start_check(nlh, sizeof buf, 1)
                       : NULL;
            assert_non_null(grp);
            assert_true(mnl_attr_put_u32_check(nlh, sizeof buf,
                                               CTRL_ATTR_MCAST_GRP_ID,
                                               fams[i].group_id));
            assert_true(mnl_attr_put_strz_check(nlh, sizeof buf,
                                                CTRL_ATTR_MCAST_GRP_NAME,
                                                fams[i].group));
            mnl_attr_nest_end(nlh, grp);
            mnl_attr_nest_end(nlh, grps);
        }
        len = NLMSG_ALIGN(nlh->nlmsg_len);
        break;
    }
    len += fk_put_error((uint8_t *) buf + len, req, len ? 0 : -ENOENT);
    fk_send(fd, buf, len);
}

/* Answers one request of a client. */
static void
fk_request(struct fakew *fw, int fd, uint32_t pid, const struct nlmsghdr *req)
{
    uint64_t buf[512];
    size_t len = 0;

    if (req->nlmsg_type == WEIR_NLMSG_HELLO) {
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct weir_hello *h;

        nlh->nlmsg_type = WEIR_NLMSG_HELLO;
        h = mnl_nlmsg_put_extra_header(nlh, sizeof *h);
        h->version = WEIR_HELLO_VERSION;
        h->pid = pid;
        fk_send(fd, buf, nlh->nlmsg_len);
    } else if (req->nlmsg_type == WEIR_NLMSG_SOCKOPT) {
        struct weir_sockopt so;

        memcpy(&so, mnl_nlmsg_get_payload(req), sizeof so);
        if (so.op == WEIR_SOCK_ADD_MEMBERSHIP) {
            atomic_store(&fw->mon_fd, fd);
        }
    } else if (req->nlmsg_type == GENL_ID_CTRL) {
        fk_ctrl(fd, req);
    } else if (req->nlmsg_type == FAKE_FAM_DP
               && (req->nlmsg_flags & NLM_F_DUMP)) {
        struct nlmsghdr *done;

        len = fk_put_dp(buf, sizeof buf, req, NLM_F_MULTI);
        done = mnl_nlmsg_put_header((uint8_t *) buf + len);
        done->nlmsg_type = NLMSG_DONE;
        done->nlmsg_flags = NLM_F_MULTI;
        done->nlmsg_seq = req->nlmsg_seq;
        done->nlmsg_pid = req->nlmsg_pid;
        *(int32_t *) mnl_nlmsg_put_extra_header(done, sizeof(int32_t)) = 0;
        fk_send(fd, buf, len + done->nlmsg_len);
    } else if (req->nlmsg_type == FAKE_FAM_DP) {
        /* A GET by ifindex: only datapath FAKE_DP_IFINDEX exists. */
        struct ovs_header oh;

        memcpy(&oh, (const uint8_t *) mnl_nlmsg_get_payload(req)
                    + GENL_HDRLEN, sizeof oh);
        if (oh.dp_ifindex == FAKE_DP_IFINDEX) {
            len = fk_put_dp(buf, sizeof buf, req, 0);
        }
        len += fk_put_error((uint8_t *) buf + len, req,
                            len ? 0 : -ENODEV);
        fk_send(fd, buf, len);
    }
}

static void *
fk_main(void *fw_)
{
    struct fakew *fw = fw_;

    while (!atomic_load(&fw->stop)) {
        struct pollfd pfds[FAKE_CONNS + 1];
        int n = fw->n_conns;

        pfds[0] = (struct pollfd) { .fd = fw->lfd, .events = POLLIN };
        for (int i = 0; i < n; i++) {
            pfds[i + 1] = (struct pollfd) { .fd = fw->conns[i],
                                            .events = POLLIN };
        }
        if (poll(pfds, n + 1, 20) <= 0) {
            continue;
        }
        if ((pfds[0].revents & POLLIN) && fw->n_conns < FAKE_CONNS) {
            int fd = accept(fw->lfd, NULL, NULL);

            if (fd >= 0) {
                fw->conns[fw->n_conns++] = fd;
            }
        }
        for (int i = 0; i < n; i++) {
            uint8_t buf[4096];
            const struct nlmsghdr *nlh;
            ssize_t got;
            int len;

            if (!(pfds[i + 1].revents & POLLIN)) {
                continue;
            }
            got = recv(fw->conns[i], buf, sizeof buf, MSG_DONTWAIT);
            if (got <= 0) {
                continue;
            }
            len = (int) got;
            for (nlh = (const struct nlmsghdr *) buf; mnl_nlmsg_ok(nlh, len);
                 nlh = mnl_nlmsg_next(nlh, &len)) {
                fk_request(fw, fw->conns[i], 0x1000 + (uint32_t) i, nlh);
            }
        }
    }
    return NULL;
}

static void
fakew_start(struct fakew *fw)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };

    memset(fw, 0, sizeof *fw);
    snprintf(fw->dir, sizeof fw->dir, "/tmp/weir-dpif-fake-XXXXXX");
    assert_non_null(mkdtemp(fw->dir));
    snprintf(fw->path, sizeof fw->path, "%s/weird.sock", fw->dir);
    assert_true(strlen(fw->path) < sizeof sun.sun_path);
    memcpy(sun.sun_path, fw->path, strlen(fw->path) + 1);
    fw->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    assert_true(fw->lfd >= 0);
    assert_int_equal(bind(fw->lfd, (struct sockaddr *) &sun, sizeof sun),
                     0);
    assert_int_equal(listen(fw->lfd, 8), 0);
    atomic_init(&fw->mon_fd, -1);
    atomic_init(&fw->stop, false);
    assert_int_equal(pthread_create(&fw->thread, NULL, fk_main, fw), 0);
    dpif_set_control_path(fw->path);
}

static void
fakew_stop(struct fakew *fw)
{
    atomic_store(&fw->stop, true);
    pthread_join(fw->thread, NULL);
    for (int i = 0; i < fw->n_conns; i++) {
        close(fw->conns[i]);
    }
    close(fw->lfd);
    unlink(fw->path);
    rmdir(fw->dir);
    dpif_set_control_path(NULL);
}

/* Writes a vport notification ('cmd', datapath 'ifindex') to 'fd' with
 * weir's options 'provider' and 'args' (either may be NULL); with
 * 'twice', the provider a second time; with 'cut', a last attribute
 * that claims more bytes than the message has. */
static void
fk_vport(int fd, uint8_t cmd, uint32_t ifindex, const char *provider,
         const char *args, bool twice, bool cut)
{
    static uint64_t buf[1024];
    struct nlmsghdr *nlh;
    struct nlattr *opts;

    nlh = fk_start(buf, sizeof buf, FAKE_FAM_VPORT, 0, 1, 0x999, cmd, true,
                   ifindex);
    assert_true(mnl_attr_put_u32_check(nlh, sizeof buf,
                                       OVS_VPORT_ATTR_PORT_NO, 3)
                && mnl_attr_put_u32_check(nlh, sizeof buf,
                                          OVS_VPORT_ATTR_TYPE,
                                          OVS_VPORT_TYPE_NETDEV)
                && mnl_attr_put_strz_check(nlh, sizeof buf,
                                           OVS_VPORT_ATTR_NAME, "fp"));
    opts = mnl_attr_nest_start_check(nlh, sizeof buf,
                                     OVS_VPORT_ATTR_OPTIONS);
    assert_non_null(opts);
    for (int i = 0; provider && i < (twice ? 2 : 1); i++) {
        assert_true(mnl_attr_put_strz_check(nlh, sizeof buf,
                                            WEIR_VPORT_OPT_PROVIDER,
                                            provider));
    }
    if (args) {
        assert_true(mnl_attr_put_strz_check(nlh, sizeof buf,
                                            WEIR_VPORT_OPT_ARGS, args));
    }
    mnl_attr_nest_end(nlh, opts);
    if (cut) {
        struct nlattr *a = mnl_nlmsg_get_payload_tail(nlh);

        assert_true(mnl_attr_put_u32_check(nlh, sizeof buf,
                                           OVS_VPORT_ATTR_IFINDEX, 5));
        a->nla_len = 64;
    }
    fk_send(fd, buf, nlh->nlmsg_len);
}

static void
test_monitor_fake_weird(void **state)
{
    struct ovs_flow_stats fst = { .n_packets = 4, .n_bytes = 400 };
    uint8_t ufid[16] = { 0xf1, 0xf2 };
    struct dpif_monitor *mon;
    struct dpif_event ev;
    char args[1400];
    uint64_t buf[256];
    struct nlmsghdr *nlh;
    struct fakew fw;
    size_t len;
    int mfd;

    (void) state;
    fakew_start(&fw);
    assert_errno(dpif_monitor_create("netlink", &mon), 0);
    mfd = atomic_load(&fw.mon_fd);
    assert_true(mfd >= 0);
    assert_no_event(mon, 0);

    /* A port notification: named from the datapath dump, with options. */
    fk_vport(mfd, OVS_VPORT_CMD_NEW, FAKE_DP_IFINDEX, "dummy", "loop=true",
             false, false);
    want_event(mon, &ev, DPIF_EV_PORT, DPIF_EV_NEW, "fk");
    assert_string_equal(ev.port.name, "fp");
    assert_string_equal(ev.port.type, "dummy");
    assert_int_equal(ev.port.port_no, 3);
    assert_string_equal(ev.port.options, "loop=true");

    /* Options longer than a struct dpif_port holds: cut after the last
     * whole item that fits. */
    len = 0;
    for (int i = 0; len + 16 < sizeof args; i++) {
        len += (size_t) snprintf(args + len, sizeof args - len, "%sk%d=%d",
                                 i ? "," : "", i, i);
    }
    fk_vport(mfd, OVS_VPORT_CMD_SET, FAKE_DP_IFINDEX, "dummy", args, false,
             false);
    want_event(mon, &ev, DPIF_EV_PORT, DPIF_EV_SET, "fk");
    len = strlen(ev.port.options);
    assert_true(len > DPIF_OPTIONS_MAX - 16 && len < DPIF_OPTIONS_MAX);
    assert_memory_equal(ev.port.options, args, len);
    assert_int_equal(args[len], ',');

    /* Malformed: skipped with -EPROTO and a reason, then on. */
    fk_vport(mfd, OVS_VPORT_CMD_NEW, FAKE_DP_IFINDEX, "dummy", NULL, false,
             true);
    assert_errno(dpif_monitor_next(mon, &ev, 5000), -EPROTO);
    assert_true(dpif_last_error()[0] != '\0');
    fk_vport(mfd, OVS_VPORT_CMD_NEW, FAKE_DP_IFINDEX, "dummy", NULL, true,
             false);
    assert_errno(dpif_monitor_next(mon, &ev, 5000), -EPROTO);
    assert_non_null(strstr(dpif_last_error(), "repeated"));
    fk_vport(mfd, OVS_VPORT_CMD_GET, FAKE_DP_IFINDEX, NULL, NULL, false,
             false);
    assert_errno(dpif_monitor_next(mon, &ev, 5000), -EPROTO);
    assert_non_null(strstr(dpif_last_error(), "not a change"));

    /* Weird's overrun: a loss, after which names are asked for again. */
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = NLMSG_OVERRUN;
    *(int32_t *) mnl_nlmsg_put_extra_header(nlh, sizeof(int32_t)) = -ENOBUFS;
    fk_send(mfd, buf, nlh->nlmsg_len);
    want_event(mon, &ev, DPIF_EV_LOST, 0, "");
    fk_vport(mfd, OVS_VPORT_CMD_DEL, FAKE_DP_IFINDEX, NULL, NULL, false,
             false);
    want_event(mon, &ev, DPIF_EV_PORT, DPIF_EV_DEL, "fk");
    assert_string_equal(ev.port.type, "system");
    assert_string_equal(ev.port.options, "");

    /* A flow of a datapath weird no longer knows: no name. */
    nlh = fk_start(buf, sizeof buf, FAKE_FAM_FLOW, 0, 1, 0x999,
                   OVS_FLOW_CMD_DEL, true, 9);
    assert_true(mnl_attr_put_check(nlh, sizeof buf, OVS_FLOW_ATTR_UFID,
                                   sizeof ufid, ufid)
                && mnl_attr_put_check(nlh, sizeof buf, OVS_FLOW_ATTR_STATS,
                                      sizeof fst, &fst));
    fk_send(mfd, buf, nlh->nlmsg_len);
    want_event(mon, &ev, DPIF_EV_FLOW, DPIF_EV_DEL, "");
    assert_int_equal(ev.flow.ufid.len, 16);
    assert_memory_equal(ev.flow.ufid.id, ufid, 16);
    assert_int_equal(ev.flow.stats.n_packets, 4);
    assert_null(ev.flow.key);

    /* What is not a notification of the three families is skipped. */
    nlh = fk_start(buf, sizeof buf, 0x30, 0, 1, 0x999, 1, true, 7);
    fk_send(mfd, buf, nlh->nlmsg_len);
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = NLMSG_NOOP;
    fk_send(mfd, buf, nlh->nlmsg_len);
    assert_no_event(mon, 200);

    /* Weird goes away: -ECONNRESET. */
    assert_int_equal(shutdown(mfd, SHUT_RDWR), 0);
    assert_errno(dpif_monitor_next(mon, &ev, 5000), -ECONNRESET);
    dpif_monitor_destroy(mon);
    fakew_stop(&fw);
}

int
main(void)
{
    const struct CMUnitTest provider_tests[] = {
        cmocka_unit_test(test_monitor),
        cmocka_unit_test(test_monitor_lost),
        cmocka_unit_test(test_monitor_threads),
    };
    const struct CMUnitTest fake_tests[] = {
        cmocka_unit_test(test_monitor_fake_weird),
    };
    const char *only = getenv("DPIF_TEST_PROVIDER");
    int failed = 0;

    /* One group on its own: DPIF_TEST_PROVIDER=local (or netlink). */
    if (!only || !strcmp(only, "local")) {
        failed += cmocka_run_group_tests_name("dpif-monitor-local",
                                              provider_tests, setup_local,
                                              teardown_suite);
    }
    if (!only || !strcmp(only, "netlink")) {
        failed += cmocka_run_group_tests_name("dpif-monitor-netlink",
                                              provider_tests, setup_netlink,
                                              teardown_suite);
        failed += cmocka_run_group_tests_name("dpif-monitor-fake",
                                              fake_tests, NULL, NULL);
    }
    return failed;
}
