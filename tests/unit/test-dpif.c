/* SPDX-License-Identifier: Apache-2.0 */
/* The dpif conformance suite (include/weir/dpif.h).
 *
 * One set of tests, run as two groups: against the "local" provider
 * (datapaths in this process) and against the "netlink" provider, talking
 * to a whole weird server (genl + control socket) that ctl_thread_start()
 * runs on a thread of this process, at a socket in a temporary directory
 * (dpif-test-util.h).  Both providers must give the same answers, errnos
 * included.  A third group covers what does not depend on a provider (the
 * text helpers, the control path, the per-thread last error, fork()).
 *
 * The tests with threads are in test-dpif-threads.c, those of monitors in
 * test-dpif-monitor.c; the three run under ThreadSanitizer too (meson
 * suite 'tsan'). */

#include <errno.h>
#include <linux/openvswitch.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "lib/rcu.h"
#include "weir/control.h"

#include "dpif-test-util.h"

/* ---- Datapaths. ---- */

struct names {
    char names[32][DPIF_NAME_MAX];
    int n;
};

static void
collect_name(const char *name, void *aux)
{
    struct names *ns = aux;

    if (ns->n < 32) {
        snprintf(ns->names[ns->n++], DPIF_NAME_MAX, "%s", name);
    }
}

static bool
names_have(const struct names *ns, const char *name)
{
    for (int i = 0; i < ns->n; i++) {
        if (!strcmp(ns->names[i], name)) {
            return true;
        }
    }
    return false;
}

static void
test_datapaths(void **state)
{
    const struct suite *s = *state;
    struct dpif *a, *b, *c, *x = (struct dpif *) 1;
    struct dpif_port p;
    struct dpif_dp_stats st;
    struct names ns = { .n = 0 };
    uint32_t no = DPIF_PORT_ANY;
    NM(name, s, "life");
    NM(port, s, "life-p");

    assert_errno(dpif_open(s->type, nm(s, "nothere"), false, &x), -ENODEV);
    assert_null(x);
    assert_true(dpif_last_error()[0] != '\0');
    assert_errno(dpif_open(s->type, "", true, &x), -EINVAL);
    assert_errno(dpif_open(s->type, "sixteen-chars-xx", true, &x), -EINVAL);
    assert_errno(dpif_open(s->type, NULL, true, &x), -EINVAL);
    assert_errno(dpif_open("nosuch", name, true, &x), -EINVAL);
    assert_errno(dpif_open(s->type, name, true, NULL), -EINVAL);

    a = dp_open(s, name);
    assert_string_equal(dpif_name(a), name);
    assert_string_equal(dpif_type(a), s->type);

    /* Opens of one name share the datapath, with or without create. */
    assert_errno(dpif_open(s->type, name, false, &b), 0);
    assert_errno(dpif_open(s->type, name, true, &c), 0);
    assert_errno(dpif_port_add(a, port, "dummy", NULL, &no), 0);
    assert_errno(dpif_port_query_by_name(b, port, &p), 0);
    assert_int_equal(p.port_no, no);
    assert_errno(dpif_port_query_by_number(c, no, &p), 0);
    assert_string_equal(p.name, port);

    assert_errno(dpif_enumerate(s->type, collect_name, &ns), 0);
    assert_true(names_have(&ns, name));
    assert_errno(dpif_enumerate(s->type, NULL, NULL), -EINVAL);
    assert_errno(dpif_enumerate("nosuch", collect_name, &ns), -EINVAL);

    /* Deleting takes the datapath away from every open. */
    assert_errno(dpif_delete(a), 0);
    ns.n = 0;
    assert_errno(dpif_enumerate(s->type, collect_name, &ns), 0);
    assert_false(names_have(&ns, name));
    assert_errno(dpif_open(s->type, name, false, &x), -ENODEV);
    assert_errno(dpif_get_dp_stats(b, &st), -ENODEV);
    assert_errno(dpif_flow_flush(b), -ENODEV);
    assert_errno(dpif_delete(c), -ENODEV);
    dpif_close(a);
    dpif_close(b);
    dpif_close(c);
    dpif_close(NULL);

    /* The name is free again: a new, empty datapath. */
    a = dp_open(s, name);
    assert_errno(dpif_port_query_by_name(a, port, &p), -ENOENT);
    dp_done(a);
}

static void
test_stats_features(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "stats"));
    struct dpif_dp_stats st;
    struct tflow f1, f2;
    struct tacts drop;
    uint32_t features;
    const uint32_t want = OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS;

    /* A new datapath: what Open vSwitch asks for at creation. */
    assert_errno(dpif_get_features(dpif, &features), 0);
    assert_int_equal(features, want);
    assert_errno(dpif_get_dp_stats(dpif, &st), 0);
    assert_int_equal(st.n_flows, 0);
    assert_int_equal(st.n_masks, 0);
    assert_int_equal(st.masks_cache_size, 256);
    assert_int_equal(st.n_hit, 0);
    assert_int_equal(st.n_missed, 0);
    assert_int_equal(st.n_lost, 0);

    /* Two flows with different masks. */
    tflow(&f1, "in_port(1),eth(),eth_type(0x0800),"
          "ipv4(src=10.0.0.1,proto=17),udp()");
    tflow(&f2, "in_port(1),eth(),eth_type(0x0800),"
          "ipv4(dst=10.0.0.1,proto=17),udp()");
    tacts(&drop, "drop");
    assert_errno(put(dpif, DPIF_FP_CREATE, &f1, NULL, &drop, NULL), 0);
    assert_errno(put(dpif, DPIF_FP_CREATE, &f2, NULL, &drop, NULL), 0);
    assert_errno(dpif_get_dp_stats(dpif, &st), 0);
    assert_int_equal(st.n_flows, 2);
    assert_int_equal(st.n_masks, 2);
    assert_errno(dpif_get_dp_stats(dpif, NULL), -EINVAL);
    assert_errno(dpif_get_dp_stats(NULL, &st), -EINVAL);

    assert_errno(dpif_set_features(dpif, OVS_DP_F_UNALIGNED), 0);
    assert_errno(dpif_get_features(dpif, &features), 0);
    assert_int_equal(features, OVS_DP_F_UNALIGNED);
    assert_errno(dpif_set_features(dpif, want), 0);
    assert_errno(dpif_get_features(dpif, &features), 0);
    assert_int_equal(features, want);
    assert_errno(dpif_set_features(dpif, 1u << 30), -EOPNOTSUPP);
    assert_errno(dpif_get_features(dpif, &features), 0);
    assert_int_equal(features, want);
    assert_errno(dpif_get_features(dpif, NULL), -EINVAL);
    dp_done(dpif);
}

/* ---- Ports. ---- */

/* Dumps the ports of 'dpif' into 'nos' (up to 16); returns the count. */
static int
dump_ports(struct dpif *dpif, uint32_t *nos, struct dpif_port *ports)
{
    struct dpif_port_dump *dump = dpif_port_dump_start(dpif);
    struct dpif_port p;
    int n = 0;

    assert_non_null(dump);
    while (dpif_port_dump_next(dump, &p)) {
        assert_true(n < 16);
        nos[n] = p.port_no;
        if (ports) {
            ports[n] = p;
        }
        n++;
    }
    assert_errno(dpif_port_dump_done(dump), 0);
    return n;
}

static void
test_ports(void **state)
{
    const struct suite *s = *state;
    NM(dpn, s, "ports");
    struct dpif *dpif = dp_open(s, dpn), *other;
    struct dpif_port_stats ps;
    struct dpif_port_dump *dump;
    struct dpif_port p, ports[16];
    uint32_t nos[16], no;
    char tx[200];
    int n;

    /* The local port. */
    assert_errno(dpif_port_query_by_number(dpif, DPIF_LOCAL_PORT, &p), 0);
    assert_string_equal(p.name, dpn);
    assert_string_equal(p.type, "internal");
    assert_int_equal(p.port_no, 0);
    assert_errno(dpif_port_query_by_name(dpif, dpn, &p), 0);
    assert_int_equal(p.port_no, 0);

    /* A dummy port, a pcap port, and one at a number of our choosing. */
    no = DPIF_PORT_ANY;
    assert_errno(dpif_port_add(dpif, nm(s, "pa"), "dummy", NULL, &no), 0);
    assert_int_equal(no, 1);
    tpath(s, "ports-tx.pcap", tx, sizeof tx);
    assert_int_equal(add_pcap(dpif, nm(s, "pb"), "tx", tx, DPIF_PORT_ANY),
                     2);
    no = 7;
    assert_errno(dpif_port_add(dpif, nm(s, "pc"), "dummy", NULL, &no), 0);
    assert_int_equal(no, 7);

    assert_errno(dpif_port_query_by_name(dpif, nm(s, "pb"), &p), 0);
    assert_int_equal(p.port_no, 2);
    assert_string_equal(p.type, "pcap");
    assert_string_equal(p.name, nm(s, "pb"));
    assert_errno(dpif_port_query_by_number(dpif, 7, &p), 0);
    assert_string_equal(p.name, nm(s, "pc"));
    assert_string_equal(p.type, "dummy");

    n = dump_ports(dpif, nos, ports);
    assert_int_equal(n, 4);
    assert_int_equal(nos[0], 0);
    assert_int_equal(nos[1], 1);
    assert_int_equal(nos[2], 2);
    assert_int_equal(nos[3], 7);
    assert_string_equal(ports[0].name, dpn);
    assert_string_equal(ports[1].name, nm(s, "pa"));
    assert_string_equal(ports[1].type, "dummy");
    assert_string_equal(ports[2].type, "pcap");

    /* Errors. */
    no = DPIF_PORT_ANY;
    assert_errno(dpif_port_add(dpif, nm(s, "pa"), "dummy", NULL, &no),
                 -EEXIST);
    no = 7;
    assert_errno(dpif_port_add(dpif, nm(s, "pd"), "dummy", NULL, &no),
                 -EEXIST);
    no = DPIF_PORT_ANY;
    assert_errno(dpif_port_add(dpif, nm(s, "pe"), "nosuchtype", NULL, &no),
                 -EAFNOSUPPORT);
    assert_errno(dpif_port_add(dpif, "0123456789abcdef", "dummy", NULL,
                               &no), -EINVAL);
    assert_errno(dpif_port_add(dpif, NULL, "dummy", NULL, &no), -EINVAL);
    assert_errno(dpif_port_add(dpif, nm(s, "pe"), NULL, NULL, &no),
                 -EINVAL);
    assert_errno(dpif_port_add(dpif, nm(s, "pe"), "dummy", NULL, NULL),
                 -EINVAL);
    no = 70000;
    assert_errno(dpif_port_add(dpif, nm(s, "pe"), "dummy", NULL, &no),
                 -EFBIG);
    /* A device that is a port of another datapath: -EEXIST, and the
     * reason names no port number when none was asked for. */
    other = dp_open(s, nm(s, "ports2"));
    no = DPIF_PORT_ANY;
    assert_errno(dpif_port_add(other, nm(s, "pa"), "dummy", NULL, &no),
                 -EEXIST);
    assert_null(strstr(dpif_last_error(), "4294967295"));
    assert_non_null(strstr(dpif_last_error(), nm(s, "pa")));
    assert_int_equal(no, DPIF_PORT_ANY);
    dp_done(other);
    assert_errno(dpif_port_del(dpif, DPIF_LOCAL_PORT), -EINVAL);
    assert_errno(dpif_port_del(dpif, 99), -ENOENT);
    assert_errno(dpif_port_query_by_number(dpif, 99, &p), -ENOENT);
    assert_errno(dpif_port_query_by_name(dpif, nm(s, "none"), &p), -ENOENT);
    assert_errno(dpif_port_query_by_name(dpif, "", &p), -EINVAL);
    assert_errno(dpif_port_query_by_number(dpif, 1, NULL), -EINVAL);
    assert_errno(dpif_port_get_stats(dpif, 99, &ps), -ENOENT);

    /* Statistics of a port that moved nothing. */
    assert_errno(dpif_port_get_stats(dpif, 1, &ps), 0);
    assert_int_equal(ps.rx_packets + ps.tx_packets + ps.rx_bytes
                     + ps.tx_bytes + ps.upcall_success + ps.upcall_fail, 0);

    /* Deletion, and the lowest free number reused. */
    assert_errno(dpif_port_del(dpif, 2), 0);
    assert_errno(dpif_port_query_by_number(dpif, 2, &p), -ENOENT);
    assert_errno(dpif_port_query_by_name(dpif, nm(s, "pb"), &p), -ENOENT);
    n = dump_ports(dpif, nos, NULL);
    assert_int_equal(n, 3);
    assert_int_equal(nos[2], 7);
    no = DPIF_PORT_ANY;
    assert_errno(dpif_port_add(dpif, nm(s, "pb"), "dummy", NULL, &no), 0);
    assert_int_equal(no, 2);

    /* A dump may stop early. */
    dump = dpif_port_dump_start(dpif);
    assert_true(dpif_port_dump_next(dump, &p));
    assert_int_equal(p.port_no, 0);
    assert_errno(dpif_port_dump_done(dump), 0);
    dp_done(dpif);
}

static void
test_port_poll(void **state)
{
    const struct suite *s = *state;
    NM(dpn, s, "poll");
    struct dpif *a = dp_open(s, dpn), *b;
    int pairs = !strcmp(s->type, "local") ? 200 : 2000;
    int fd, enobufs = 0, names = 0;
    uint32_t no = DPIF_PORT_ANY;
    char *name = (char *) 1;

    assert_errno(dpif_open(s->type, dpn, false, &b), 0);
    assert_errno(dpif_port_poll(a, &name), -EAGAIN);
    assert_null(name);
    fd = dpif_port_poll_fd(a);
    assert_true(fd >= 0);
    assert_false(tu_fd_readable(fd, 0));

    /* A change made through 'a' reaches 'a' and 'b'. */
    assert_errno(dpif_port_add(a, nm(s, "qa"), "dummy", NULL, &no), 0);
    assert_true(tu_fd_readable(fd, 2000));
    assert_errno(dpif_port_poll(a, &name), 0);
    assert_string_equal(name, nm(s, "qa"));
    free(name);
    assert_errno(dpif_port_poll(a, &name), -EAGAIN);
    assert_false(tu_fd_readable(fd, 0));
    assert_true(tu_fd_readable(dpif_port_poll_fd(b), 2000));
    assert_errno(dpif_port_poll(b, &name), 0);
    assert_string_equal(name, nm(s, "qa"));
    free(name);

    /* A deletion through 'b' reaches 'a'. */
    assert_errno(dpif_port_del(b, no), 0);
    assert_true(tu_fd_readable(fd, 2000));
    assert_errno(dpif_port_poll(a, &name), 0);
    assert_string_equal(name, nm(s, "qa"));
    free(name);
    assert_errno(dpif_port_poll(b, &name), 0);
    free(name);

    /* More changes than a dpif holds: -ENOBUFS, then on. */
    for (int i = 0; i < pairs; i++) {
        no = DPIF_PORT_ANY;
        assert_errno(dpif_port_add(b, nm(s, "qb"), "dummy", NULL, &no), 0);
        assert_errno(dpif_port_del(b, no), 0);
    }
    for (int i = 0; i < 4 * pairs + 10; i++) {
        int error = dpif_port_poll(a, &name);

        if (error == -EAGAIN) {
            if (tu_fd_readable(fd, 200)) {
                continue;
            }
            break;
        }
        if (error == -ENOBUFS) {
            enobufs++;
        } else {
            assert_errno(error, 0);
            free(name);
            names++;
        }
    }
    assert_true(enobufs >= 1);
    assert_true(names < 2 * pairs);
    assert_errno(dpif_port_poll(a, &name), -EAGAIN);
    dpif_close(b);
    dp_done(a);
}

/* ---- Port options. ---- */

static void
test_port_options(void **state)
{
    const struct suite *s = *state;
    NM(dpn, s, "opts");
    struct dpif *dpif = dp_open(s, dpn);
    char big[DPIF_OPTIONS_MAX + 8];
    struct dpif_port p, ports[16];
    uint32_t nos[16], no, tx_no;
    char tx[200], want[260];
    int n;

    /* The local port has none; a port without options has none. */
    assert_errno(dpif_port_query_by_number(dpif, DPIF_LOCAL_PORT, &p), 0);
    assert_string_equal(p.options, "");
    no = DPIF_PORT_ANY;
    assert_errno(dpif_port_add(dpif, nm(s, "oa"), "dummy", NULL, &no), 0);
    assert_errno(dpif_port_query_by_number(dpif, no, &p), 0);
    assert_string_equal(p.options, "");

    /* Options come back as given, in the caller's order. */
    no = DPIF_PORT_ANY;
    assert_errno(dpif_port_add(dpif, nm(s, "ob"), "dummy",
                               "n_rxq=2,loop=true", &no), 0);
    assert_errno(dpif_port_query_by_name(dpif, nm(s, "ob"), &p), 0);
    assert_string_equal(p.type, "dummy");
    assert_string_equal(p.options, "n_rxq=2,loop=true");
    tpath(s, "opts-tx.pcap", tx, sizeof tx);
    tx_no = add_pcap(dpif, nm(s, "oc"), "tx", tx, DPIF_PORT_ANY);
    snprintf(want, sizeof want, "tx=%s", tx);
    n = dump_ports(dpif, nos, ports);
    assert_int_equal(n, 4);
    assert_string_equal(ports[0].options, "");
    assert_string_equal(ports[1].options, "");
    assert_string_equal(ports[2].options, "n_rxq=2,loop=true");
    assert_int_equal(nos[3], tx_no);
    assert_string_equal(ports[3].type, "pcap");
    assert_string_equal(ports[3].options, want);

    /* Options of a running port do not change (the kernel's rule). */
    assert_errno(dpif_port_set_options(dpif, no, "n_rxq=2,loop=false"),
                 -EOPNOTSUPP);
    assert_non_null(strstr(dpif_last_error(), "cannot be changed"));
    assert_errno(dpif_port_set_options(dpif, no, ""), -EOPNOTSUPP);
    assert_errno(dpif_port_query_by_number(dpif, no, &p), 0);
    assert_string_equal(p.options, "n_rxq=2,loop=true");
    assert_errno(dpif_port_set_options(dpif, 99, "a=b"), -ENOENT);
    assert_errno(dpif_port_set_options(dpif, no, NULL), -EINVAL);
    assert_errno(dpif_port_set_options(NULL, no, "a=b"), -EINVAL);

    /* Options that do not fit a struct dpif_port are refused. */
    memset(big, 'a', sizeof big);
    memcpy(big, "loop=", 5);
    big[DPIF_OPTIONS_MAX] = '\0';
    no = DPIF_PORT_ANY;
    assert_errno(dpif_port_add(dpif, nm(s, "od"), "dummy", big, &no),
                 -EINVAL);
    assert_errno(dpif_port_query_by_name(dpif, nm(s, "od"), &p), -ENOENT);
    assert_errno(dpif_port_set_options(dpif, 1, big), -EINVAL);
    dp_done(dpif);
}


/* ---- Flows. ---- */

static void
test_flow_put(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "put"));
    static uint8_t buf[DPIF_FLOW_BUFSIZE];
    struct dpif_ufid ua = mkufid(0xa, 1), ub = mkufid(0xb, 1);
    struct dpif_ufid uc = mkufid(0xc, 1), ue = mkufid(0xe, 1);
    struct dpif_ufid long_ufid = { .len = 17 };
    struct tacts drop, out2, out3, bad;
    struct tflow fa, fb, fd, little;
    struct dpif_flow_stats st;
    struct dpif_flow flow;
    struct dpif_dp_stats ds;
    struct tframe frames[3];
    char rx[200], text[1024];

    tflow(&fa, FLOW_A);
    tflow(&fb, "in_port(5),eth(),eth_type(0x0800),"
          "ipv4(src=10.0.0.7,proto=17),udp()");
    tflow(&fd, "in_port(5),eth(),eth_type(0x0800),"
          "ipv4(src=10.0.0.9,proto=17),udp()");
    tacts(&drop, "drop");
    tacts(&out2, "2");
    tacts(&out3, "3");
    /* An action of a type no datapath has. */
    memcpy(bad.a, (uint8_t[]) { 4, 0, 250, 0 }, 4);
    bad.len = 4;

    /* Flags: CREATE or MODIFY (or both) is needed. */
    assert_errno(put(dpif, 0, &fa, &ua, &drop, NULL), -EINVAL);
    assert_errno(put(dpif, DPIF_FP_ZERO_STATS, &fa, &ua, &drop, NULL),
                 -EINVAL);
    assert_errno(put(dpif, DPIF_FP_CREATE | 0x100, &fa, &ua, &drop, NULL),
                 -EINVAL);

    /* Create, once. */
    memset(&st, 0xff, sizeof st);
    assert_errno(put(dpif, DPIF_FP_CREATE, &fa, &ua, &drop, &st), 0);
    assert_int_equal(st.n_packets, 0);
    assert_int_equal(st.n_bytes, 0);
    assert_int_equal(st.used_ms, 0);
    assert_errno(put(dpif, DPIF_FP_CREATE, &fa, &ua, &drop, NULL), -EEXIST);
    /* Modify only: a flow that is not there. */
    assert_errno(put(dpif, DPIF_FP_MODIFY, &fb, &ub, &drop, NULL), -ENOENT);
    assert_errno(dpif_flow_get(dpif, NULL, 0, &ub, buf, sizeof buf, &flow),
                 -ENOENT);

    /* Read back by UFID: masked key, installed mask, actions. */
    assert_errno(dpif_flow_get(dpif, NULL, 0, &ua, buf, sizeof buf, &flow),
                 0);
    assert_flow(&flow, &fa, &ua, &drop);
    assert_int_equal(flow.stats.n_packets, 0);
    assert_int_equal(flow.stats.used_ms, 0);
    /* A flow with a UFID is not found by its key. */
    assert_errno(dpif_flow_get(dpif, fa.key, fa.key_len, NULL, buf,
                               sizeof buf, &flow), -ENOENT);
    /* A buffer too small for it: -EMSGSIZE, and nothing half-filled. */
    memset(&flow, 0xa5, sizeof flow);
    assert_errno(dpif_flow_get(dpif, NULL, 0, &ua, buf, 8, &flow),
                 -EMSGSIZE);
    assert_null(flow.key);
    assert_int_equal(flow.key_len, 0);
    assert_null(flow.actions);
    assert_int_equal(flow.ufid.len, 0);

    /* Traffic through it: a pcap port replays three matching frames. */
    for (int i = 0; i < 3; i++) {
        tframe_udp(&frames[i], 60, 0x0a000001, 1000);
    }
    tpath(s, "put-rx.pcap", rx, sizeof rx);
    pcap_write(rx, frames, 3);
    assert_int_equal(add_pcap(dpif, nm(s, "put-rx"), "rx", rx, 5), 5);
    st = wait_packets(dpif, &ua, 3);
    assert_int_equal(st.n_bytes, 180);
    assert_true(st.used_ms > 0);
    assert_errno(dpif_get_dp_stats(dpif, &ds), 0);
    assert_int_equal(ds.n_hit, 3);
    assert_int_equal(ds.n_missed, 0);
    assert_errno(dpif_flow_get(dpif, NULL, 0, &ua, buf, sizeof buf, &flow),
                 0);
    dpif_flow_format(&flow, false, text, sizeof text);
    assert_non_null(strstr(text, ", packets:3, bytes:180, used:"));
    assert_null(strstr(text, "used:never"));
    assert_non_null(strstr(text, ", actions:drop"));
    assert_null(strstr(text, "ufid:"));
    dpif_flow_format(&flow, true, text, sizeof text);
    assert_true(!strncmp(text, "ufid:", 5));

    /* Modify with ZERO_STATS: the stats before, then none. */
    memset(&st, 0, sizeof st);
    assert_errno(put(dpif, DPIF_FP_MODIFY | DPIF_FP_ZERO_STATS, &fa, &ua,
                     &out2, &st), 0);
    assert_int_equal(st.n_packets, 3);
    assert_int_equal(st.n_bytes, 180);
    assert_errno(dpif_flow_get(dpif, NULL, 0, &ua, buf, sizeof buf, &flow),
                 0);
    assert_flow(&flow, &fa, &ua, &out2);
    assert_int_equal(flow.stats.n_packets, 0);
    assert_int_equal(flow.stats.n_bytes, 0);

    /* Again through CREATE|MODIFY: replay the frames (a new port). */
    assert_errno(dpif_port_del(dpif, 5), 0);
    assert_int_equal(add_pcap(dpif, nm(s, "put-rx"), "rx", rx, 5), 5);
    wait_packets(dpif, &ua, 3);
    memset(&st, 0, sizeof st);
    assert_errno(put(dpif, DPIF_FP_CREATE | DPIF_FP_MODIFY
                     | DPIF_FP_ZERO_STATS, &fa, &ua, &drop, &st), 0);
    assert_int_equal(st.n_packets, 3);
    assert_errno(dpif_flow_get(dpif, NULL, 0, &ua, buf, sizeof buf, &flow),
                 0);
    assert_flow(&flow, &fa, &ua, &drop);
    assert_int_equal(flow.stats.n_packets, 0);

    /* Modify without ZERO_STATS keeps them. */
    assert_errno(dpif_port_del(dpif, 5), 0);
    assert_int_equal(add_pcap(dpif, nm(s, "put-rx"), "rx", rx, 5), 5);
    wait_packets(dpif, &ua, 3);
    assert_errno(put(dpif, DPIF_FP_MODIFY, &fa, &ua, &out3, &st), 0);
    assert_int_equal(st.n_packets, 3);
    wait_packets(dpif, &ua, 3);

    /* CREATE|MODIFY creates what is absent. */
    assert_errno(put(dpif, DPIF_FP_CREATE | DPIF_FP_MODIFY, &fb, &ub, &drop,
                     &st), 0);
    assert_int_equal(st.n_packets, 0);

    /* Another UFID whose match overlaps flow A: not a modification of A
     * (-ENOENT), and not a creation either (-EEXIST). */
    assert_errno(put(dpif, DPIF_FP_CREATE | DPIF_FP_MODIFY, &fa, &uc, &drop,
                     NULL), -ENOENT);
    assert_errno(put(dpif, DPIF_FP_CREATE, &fa, &uc, &drop, NULL), -EEXIST);

    /* A flow without UFID, named by its key. */
    assert_errno(put(dpif, DPIF_FP_CREATE, &fd, NULL, &drop, NULL), 0);
    assert_errno(put(dpif, DPIF_FP_CREATE, &fd, NULL, &drop, NULL), -EEXIST);
    assert_errno(dpif_flow_get(dpif, fd.key, fd.key_len, NULL, buf,
                               sizeof buf, &flow), 0);
    assert_flow(&flow, &fd, NULL, &drop);
    assert_errno(put(dpif, DPIF_FP_MODIFY, &fd, NULL, &out3, NULL), 0);
    assert_errno(dpif_flow_get(dpif, fd.key, fd.key_len, NULL, buf,
                               sizeof buf, &flow), 0);
    assert_flow(&flow, &fd, NULL, &out3);

    /* Probes: failures change nothing (and log nothing in weird). */
    assert_errno(put(dpif, DPIF_FP_CREATE | DPIF_FP_PROBE, &fb, &ue, &bad,
                     NULL), -EINVAL);
    assert_errno(dpif_flow_get(dpif, NULL, 0, &ue, buf, sizeof buf, &flow),
                 -ENOENT);
    tflow(&little, "in_port(6),eth(),eth_type(0x0800),"
          "ipv4(src=10.9.9.9,proto=17),udp()");
    assert_errno(put(dpif, DPIF_FP_CREATE | DPIF_FP_PROBE, &little, NULL,
                     &drop, NULL), 0);
    assert_errno(dpif_flow_del(dpif, little.key, little.key_len, NULL,
                               NULL), 0);

    /* Malformed requests. */
    assert_errno(put(dpif, DPIF_FP_CREATE, &fb, &long_ufid, &drop, NULL),
                 -EINVAL);
    assert_errno(dpif_flow_put(dpif, DPIF_FP_CREATE, NULL, 0, NULL, 0, NULL,
                               NULL, 0, NULL), -EINVAL);
    assert_errno(dpif_flow_put(dpif, DPIF_FP_CREATE,
                               (uint8_t[]) { 8, 0, 3, 0, 1, 0 }, 6, NULL, 0,
                               NULL, NULL, 0, NULL), -EINVAL);
    /* eth_type IPv4 without ipv4(): attributes missing. */
    tflow(&little, "in_port(1),eth(),eth_type(0x0800)");
    assert_errno(put(dpif, DPIF_FP_CREATE, &little, NULL, &drop, NULL),
                 -EINVAL);
    assert_errno(dpif_flow_get(dpif, NULL, 0, NULL, buf, sizeof buf, &flow),
                 -EINVAL);
    assert_errno(dpif_flow_get(dpif, NULL, 0, &ua, NULL, 0, &flow), -EINVAL);
    assert_errno(dpif_flow_del(dpif, NULL, 0, NULL, NULL), -EINVAL);

    /* Delete with final statistics. */
    memset(&st, 0, sizeof st);
    assert_errno(dpif_flow_del(dpif, NULL, 0, &ua, &st), 0);
    assert_int_equal(st.n_packets, 3);
    assert_int_equal(st.n_bytes, 180);
    assert_errno(dpif_flow_del(dpif, NULL, 0, &ua, &st), -ENOENT);
    assert_errno(dpif_flow_get(dpif, NULL, 0, &ua, buf, sizeof buf, &flow),
                 -ENOENT);
    assert_errno(dpif_flow_del(dpif, fd.key, fd.key_len, NULL, &st), 0);
    assert_int_equal(st.n_packets, 0);
    assert_errno(dpif_flow_del(dpif, fd.key, fd.key_len, NULL, NULL),
                 -ENOENT);

    /* Flush. */
    assert_errno(put(dpif, DPIF_FP_CREATE, &fd, NULL, &drop, NULL), 0);
    assert_errno(dpif_get_dp_stats(dpif, &ds), 0);
    assert_int_equal(ds.n_flows, 2);
    assert_errno(dpif_flow_flush(dpif), 0);
    assert_errno(dpif_get_dp_stats(dpif, &ds), 0);
    assert_int_equal(ds.n_flows, 0);
    assert_errno(dpif_flow_get(dpif, NULL, 0, &ub, buf, sizeof buf, &flow),
                 -ENOENT);
    dp_done(dpif);
}

/* ---- Flow dumps (those with threads: test-dpif-threads.c). ---- */

/* A full dump's flows are those a get returns. */
static void
test_flow_dump_contents(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "dumpc"));
    struct dpif_ufid u = mkufid(0xd, 3);
    struct dpif_flow_dump_thread *t;
    struct dpif_flow_dump *dump;
    struct dpif_flow flows[4];
    struct tflow fu, fk;
    struct tacts a2, a3;
    bool seen_u = false, seen_k = false;
    int n;

    tflow(&fu, "in_port(1),eth(),eth_type(0x0800),"
          "ipv4(src=10.1.0.0/255.255.0.0,proto=17),udp(dst=53)");
    tflow(&fk, "in_port(2),eth(src=00:00:00:00:00:01,"
          "dst=00:00:00:00:00:02),eth_type(0x86dd),"
          "ipv6(src=2001:db8::1,dst=2001:db8::2,proto=6),tcp(dst=80),"
          "tcp_flags(0/0)");
    tacts(&a2, "push_vlan(vid=5,pcp=1),2");
    tacts(&a3, "3,4");
    assert_errno(put(dpif, DPIF_FP_CREATE, &fu, &u, &a2, NULL), 0);
    assert_errno(put(dpif, DPIF_FP_CREATE, &fk, NULL, &a3, NULL), 0);

    dump = dpif_flow_dump_create(dpif, false);
    t = dpif_flow_dump_thread_create(dump);
    while ((n = dpif_flow_dump_next(t, flows, 4)) > 0) {
        for (int i = 0; i < n; i++) {
            if (flows[i].ufid.len) {
                assert_flow(&flows[i], &fu, &u, &a2);
                seen_u = true;
            } else {
                assert_flow(&flows[i], &fk, NULL, &a3);
                seen_k = true;
            }
        }
    }
    dpif_flow_dump_thread_destroy(t);
    assert_errno(dpif_flow_dump_destroy(dump), 0);
    assert_true(seen_u && seen_k);

    /* Terse: the UFID flow bare, the other whole. */
    seen_u = seen_k = false;
    dump = dpif_flow_dump_create(dpif, true);
    t = dpif_flow_dump_thread_create(dump);
    while ((n = dpif_flow_dump_next(t, flows, 4)) > 0) {
        for (int i = 0; i < n; i++) {
            if (flows[i].ufid.len) {
                assert_null(flows[i].key);
                assert_null(flows[i].mask);
                assert_null(flows[i].actions);
                assert_int_equal(flows[i].ufid.len, u.len);
                assert_memory_equal(flows[i].ufid.id, u.id, u.len);
                seen_u = true;
            } else {
                assert_flow(&flows[i], &fk, NULL, &a3);
                seen_k = true;
            }
        }
    }
    dpif_flow_dump_thread_destroy(t);
    assert_errno(dpif_flow_dump_destroy(dump), 0);
    assert_true(seen_u && seen_k);
    dp_done(dpif);
}


/* ---- Batches. ---- */

static void
test_operate(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "operate"));
    static uint8_t buf[DPIF_FLOW_BUFSIZE];
    struct dpif_ufid ua = mkufid(0x1, 1), ub = mkufid(0x1, 2);
    struct dpif_flow_stats st = { .n_packets = 99 };
    struct dpif_flow flow_a, flow_b;
    struct dpif_op ops[10], *opp[10];
    struct dpif_dp_stats ds;
    struct tframe frame;
    struct tflow fa, fb;
    struct tacts drop, out2;

    tflow(&fa, "in_port(1),eth(),eth_type(0x0800),"
          "ipv4(src=10.3.0.1,proto=17),udp()");
    tflow(&fb, "in_port(1),eth(),eth_type(0x0800),"
          "ipv4(src=10.3.0.2,proto=17),udp()");
    tacts(&drop, "drop");
    tacts(&out2, "2");
    tframe_udp(&frame, 64, 0x0a030001, 7);
    memset(ops, 0, sizeof ops);
    for (int i = 0; i < 10; i++) {
        opp[i] = &ops[i];
        ops[i].error = 12345;
    }
#define OP_PUT(I, FLAGS, F, U, A)                                          \
    ops[I].type = DPIF_OP_FLOW_PUT;                                        \
    ops[I].u.flow_put = (struct dpif_flow_put) {                           \
        .flags = (FLAGS), .key = (F)->key, .key_len = (F)->key_len,        \
        .mask = (F)->mask, .mask_len = (F)->mask_len, .ufid = (U),         \
        .actions = (A)->a, .actions_len = (A)->len }
#define OP_GET(I, U, FLOW)                                                 \
    ops[I].type = DPIF_OP_FLOW_GET;                                        \
    ops[I].u.flow_get = (struct dpif_flow_get) {                           \
        .ufid = (U), .buf = buf + (I) * 4096, .buf_size = 4096,            \
        .flow = (FLOW) }

    OP_PUT(0, DPIF_FP_CREATE, &fa, &ua, &drop);
    OP_PUT(1, DPIF_FP_CREATE, &fa, &ua, &drop);         /* -EEXIST */
    OP_GET(2, &ub, &flow_b);                            /* -ENOENT */
    OP_PUT(3, DPIF_FP_CREATE, &fb, &ub, &out2);
    OP_GET(4, &ua, &flow_a);
    ops[5].type = DPIF_OP_FLOW_DEL;
    ops[5].u.flow_del = (struct dpif_flow_del) { .ufid = &ua, .stats = &st };
    OP_GET(6, &ua, &flow_b);                            /* -ENOENT */
    ops[7].type = DPIF_OP_EXECUTE;                      /* -EINVAL */
    ops[7].u.execute = (struct dpif_execute) {
        .packet = frame.data, .packet_len = 10, .in_port = DPIF_PORT_ANY };
    ops[8].type = DPIF_OP_EXECUTE;
    ops[8].u.execute = (struct dpif_execute) {
        .packet = frame.data, .packet_len = frame.len,
        .actions = drop.a, .actions_len = drop.len, .in_port = 0 };
    OP_PUT(9, 0, &fb, &ub, &out2);                      /* -EINVAL */
#undef OP_PUT
#undef OP_GET

    dpif_operate(dpif, opp, 10);
    assert_errno(ops[0].error, 0);
    assert_errno(ops[1].error, -EEXIST);
    assert_errno(ops[2].error, -ENOENT);
    assert_errno(ops[3].error, 0);
    assert_errno(ops[4].error, 0);
    assert_flow(&flow_a, &fa, &ua, &drop);
    assert_errno(ops[5].error, 0);
    assert_int_equal(st.n_packets, 0);
    assert_errno(ops[6].error, -ENOENT);
    assert_errno(ops[7].error, -EINVAL);
    assert_errno(ops[8].error, 0);
    assert_errno(ops[9].error, -EINVAL);
    assert_errno(dpif_get_dp_stats(dpif, &ds), 0);
    assert_int_equal(ds.n_flows, 1);
    dpif_operate(dpif, opp, 0);
    dp_done(dpif);
}

/* ---- Execute. ---- */

static void
test_execute(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "exec"));
    struct dpif_port_stats ps;
    struct tframe f1, f2, got[4];
    struct tacts out, vlan_out, badout;
    struct dpif_execute ex;
    uint32_t tx_no;
    char tx[200];

    tpath(s, "exec-tx.pcap", tx, sizeof tx);
    tx_no = add_pcap(dpif, nm(s, "exec-tx"), "tx", tx, DPIF_PORT_ANY);
    tframe_udp(&f1, 60, 0x0a000001, 1);
    tframe_udp(&f2, 90, 0x0a000003, 2);
    tacts(&out, "%u", tx_no);
    tacts(&vlan_out, "push_vlan(vid=5,pcp=0),%u", tx_no);
    /* output with a 2-byte port: malformed. */
    memcpy(badout.a, (uint8_t[]) { 6, 0, OVS_ACTION_ATTR_OUTPUT, 0, 1, 0,
                                   0, 0 }, 8);
    badout.len = 8;

    ex = (struct dpif_execute) {
        .packet = f1.data, .packet_len = f1.len,
        .actions = out.a, .actions_len = out.len, .in_port = DPIF_PORT_ANY,
    };
    assert_errno(dpif_execute(dpif, &ex), 0);
    ex = (struct dpif_execute) {
        .packet = f2.data, .packet_len = f2.len, .actions = vlan_out.a,
        .actions_len = vlan_out.len, .in_port = 0, .priority = 3,
        .mark = 4,
    };
    assert_errno(dpif_execute(dpif, &ex), 0);

    assert_errno(dpif_port_get_stats(dpif, tx_no, &ps), 0);
    assert_int_equal(ps.tx_packets, 2);
    assert_int_equal(ps.tx_bytes, f1.len + f2.len + 4);
    assert_int_equal(pcap_read(tx, got, 4), 2);
    assert_bytes(got[0].data, got[0].len, f1.data, f1.len);
    assert_int_equal(got[1].len, f2.len + 4);
    assert_memory_equal(got[1].data, f2.data, 12);
    assert_memory_equal(got[1].data + 12, ((uint8_t[]) { 0x81, 0, 0, 5 }),
                        4);
    assert_memory_equal(got[1].data + 16, f2.data + 12, f2.len - 12);

    /* Refusals. */
    ex = (struct dpif_execute) {
        .packet = f1.data, .packet_len = f1.len, .actions = badout.a,
        .actions_len = badout.len, .in_port = DPIF_PORT_ANY,
    };
    assert_errno(dpif_execute(dpif, &ex), -EINVAL);
    ex.actions = out.a;
    ex.actions_len = out.len;
    ex.packet_len = 13;
    assert_errno(dpif_execute(dpif, &ex), -EINVAL);
    ex.packet = NULL;
    assert_errno(dpif_execute(dpif, &ex), -EINVAL);
    assert_errno(dpif_execute(dpif, NULL), -EINVAL);
    /* An MRU: both providers refuse it, and send nothing. */
    ex = (struct dpif_execute) DPIF_EXECUTE_INIT;
    ex.packet = f1.data;
    ex.packet_len = f1.len;
    ex.actions = out.a;
    ex.actions_len = out.len;
    ex.mru = 1400;
    assert_errno(dpif_execute(dpif, &ex), -EOPNOTSUPP);
    assert_non_null(strstr(dpif_last_error(), "mru"));
    assert_errno(dpif_port_get_stats(dpif, tx_no, &ps), 0);
    assert_int_equal(ps.tx_packets, 2);
    dp_done(dpif);
}

/* ---- Upcalls. ---- */

static void
test_upcalls(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "upcall"));
    const uint8_t userdata[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    struct tframe frames[4], probe, other;
    struct dpif_port_stats ps;
    struct dpif_upcall up;
    struct dpif_dp_stats ds;
    uint32_t pid0, pid1, features;
    bool seen[4] = { false };
    int got = 0, fd;
    uint64_t t0, deadline;
    char rx[200];

    /* No handlers yet. */
    assert_errno(dpif_recv(dpif, 0, &up), -EINVAL);
    assert_int_equal(dpif_handler_pid(dpif, 0), 0);

    assert_errno(dpif_handlers_set(dpif, 2), 0);
    /* Misses are dispatched per polling thread. */
    assert_errno(dpif_get_features(dpif, &features), 0);
    assert_true(features & OVS_DP_F_DISPATCH_UPCALL_PER_CPU);
    pid0 = dpif_handler_pid(dpif, 0);
    pid1 = dpif_handler_pid(dpif, 1);
    assert_true(pid0 && pid1 && pid0 != pid1);
    assert_int_equal(dpif_handler_pid(dpif, 2), 0);
    assert_errno(dpif_recv(dpif, 0, &up), -EAGAIN);
    assert_errno(dpif_recv(dpif, 1, &up), -EAGAIN);
    assert_errno(dpif_recv(dpif, 2, &up), -EINVAL);
    assert_errno(dpif_recv(dpif, 0, NULL), -EINVAL);

    t0 = tu_now_ms();
    assert_errno(dpif_recv_wait(dpif, 0, 60), -ETIMEDOUT);
    assert_true(tu_now_ms() - t0 >= 50);
    assert_errno(dpif_recv_wait(dpif, 2, 10), -EINVAL);
    assert_errno(dpif_recv_wait(dpif, 0, -2), -EINVAL);

    /* Misses: a pcap port replays four frames no flow matches. */
    for (int i = 0; i < 4; i++) {
        tframe_udp(&frames[i], 60 + 10 * (size_t) i, 0x0a000001,
                   (uint16_t) (3000 + i));
    }
    tpath(s, "upcall-rx.pcap", rx, sizeof rx);
    pcap_write(rx, frames, 4);
    assert_int_equal(add_pcap(dpif, nm(s, "upc-rx"), "rx", rx, 3), 3);
    deadline = tu_now_ms() + 5000;
    while (got < 4 && tu_now_ms() < deadline) {
        for (uint32_t h = 0; h < 2; h++) {
            int error = dpif_recv_wait(dpif, h, 20);

            assert_true(error == 0 || error == -ETIMEDOUT);
            while (!(error = dpif_recv(dpif, h, &up))) {
                int k = -1;

                assert_int_equal(up.type, DPIF_UC_MISS);
                assert_int_equal(up.in_port, 3);
                assert_null(up.userdata);
                for (int i = 0; i < 4; i++) {
                    if (up.packet_len == frames[i].len
                        && !memcmp(up.packet, frames[i].data,
                                   frames[i].len)) {
                        k = i;
                    }
                }
                assert_true(k >= 0);
                assert_false(seen[k]);
                seen[k] = true;
                assert_upcall_key(&up, 3, 0, 0);
                got++;
            }
            assert_errno(error, -EAGAIN);
        }
    }
    assert_int_equal(got, 4);
    /* The datapath counts an upcall just after it queues it. */
    deadline = tu_now_ms() + 2000;
    do {
        assert_errno(dpif_port_get_stats(dpif, 3, &ps), 0);
    } while (ps.upcall_success < 4 && tu_now_ms() < deadline
             && (tu_sleep_ms(1), true));
    assert_int_equal(ps.rx_packets, 4);
    assert_int_equal(ps.upcall_success, 4);
    assert_int_equal(ps.upcall_fail, 0);
    assert_errno(dpif_get_dp_stats(dpif, &ds), 0);
    assert_int_equal(ds.n_missed, 4);
    assert_int_equal(ds.n_lost, 0);

    /* userspace() actions, with userdata and the packet's metadata. */
    tframe_udp(&probe, 70, 0x0a000009, 9);
    exec_userspace(dpif, &probe, pid1, "0102030405060708", 0, 7, 9);
    assert_errno(dpif_recv_wait(dpif, 1, 2000), 0);
    assert_errno(dpif_recv(dpif, 1, &up), 0);
    assert_int_equal(up.type, DPIF_UC_ACTION);
    assert_int_equal(up.pid, pid1);
    assert_int_equal(up.in_port, 0);
    assert_bytes(up.userdata, up.userdata_len, userdata, sizeof userdata);
    assert_bytes(up.packet, up.packet_len, probe.data, probe.len);
    assert_upcall_key(&up, 0, 7, 9);
    assert_errno(dpif_recv(dpif, 1, &up), -EAGAIN);

    exec_userspace(dpif, &probe, pid0, "aa", DPIF_PORT_ANY, 0, 0);
    assert_errno(dpif_recv_wait(dpif, 0, 2000), 0);
    assert_errno(dpif_recv(dpif, 0, &up), 0);
    assert_int_equal(up.type, DPIF_UC_ACTION);
    assert_int_equal(up.pid, pid0);
    assert_int_equal(up.userdata_len, 1);
    assert_int_equal(((const uint8_t *) up.userdata)[0], 0xaa);

    /* An fd for event loops. */
    fd = dpif_recv_fd(dpif, 0);
    assert_true(fd >= 0);
    exec_userspace(dpif, &probe, pid0, "bb", DPIF_PORT_ANY, 0, 0);
    assert_true(tu_fd_readable(fd, 2000));
    assert_errno(dpif_recv(dpif, 0, &up), 0);
    assert_int_equal(((const uint8_t *) up.userdata)[0], 0xbb);
    assert_errno(dpif_recv_fd(dpif, 5), -EINVAL);

    /* Purge drops what is queued, and leaves alone the upcall a handler
     * holds: it stays valid until that handler's next dpif_recv(). */
    exec_userspace(dpif, &probe, pid1, "dd", DPIF_PORT_ANY, 0, 0);
    assert_errno(dpif_recv_wait(dpif, 1, 2000), 0);
    assert_errno(dpif_recv(dpif, 1, &up), 0);
    assert_int_equal(up.in_port, DPIF_PORT_ANY);
    tframe_udp(&other, 90, 0x0a0000ee, 77);
    for (int i = 0; i < 3; i++) {
        exec_userspace(dpif, &other, pid1, "cc", DPIF_PORT_ANY, 0, 0);
    }
    assert_errno(dpif_recv_wait(dpif, 1, 2000), 0);
    tu_sleep_ms(200);
    dpif_recv_purge(dpif);
    assert_bytes(up.packet, up.packet_len, probe.data, probe.len);
    assert_int_equal(up.userdata_len, 1);
    assert_int_equal(((const uint8_t *) up.userdata)[0], 0xdd);
    assert_errno(dpif_recv(dpif, 1, &up), -EAGAIN);
    assert_errno(dpif_recv_wait(dpif, 1, 100), -ETIMEDOUT);

    /* No handlers: nothing to read; recv_set makes one again. */
    assert_errno(dpif_handlers_set(dpif, 0), 0);
    assert_errno(dpif_get_features(dpif, &features), 0);
    assert_false(features & OVS_DP_F_DISPATCH_UPCALL_PER_CPU);
    assert_errno(dpif_recv(dpif, 0, &up), -EINVAL);
    assert_int_equal(dpif_handler_pid(dpif, 0), 0);
    assert_errno(dpif_recv_set(dpif, true), 0);
    assert_true(dpif_handler_pid(dpif, 0) != 0);
    assert_int_equal(dpif_handler_pid(dpif, 1), 0);
    assert_errno(dpif_recv_set(dpif, false), 0);
    assert_int_equal(dpif_handler_pid(dpif, 0), 0);
    dp_done(dpif);
}

/* Reads the misses that 'dpif''s 'n' handlers get within 'ms' ms, until
 * 'want' (then stops).  Returns their count. */
static int
recv_misses(struct dpif *dpif, uint32_t n, int want, int ms)
{
    uint64_t deadline = tu_now_ms() + (uint64_t) ms;
    struct dpif_upcall up;
    int got = 0;

    while (got < want && tu_now_ms() < deadline) {
        for (uint32_t h = 0; h < n; h++) {
            int error = dpif_recv_wait(dpif, h, 20);

            assert_true(error == 0 || error == -ETIMEDOUT);
            while (!(error = dpif_recv(dpif, h, &up))) {
                assert_int_equal(up.type, DPIF_UC_MISS);
                got++;
            }
            assert_errno(error, -EAGAIN);
        }
    }
    return got;
}

/* Upcall handlers belong to the dpif (dpif.h): another dpif of the same
 * datapath has none until it sets its own; the datapath's misses go to
 * the handlers set last; the other dpif keeps its handlers, their PIDs
 * and what is addressed to them; each dpif's upcalls live in buffers of
 * its own. */
static void
test_handlers_per_dpif(void **state)
{
    const struct suite *s = *state;
    NM(dpn, s, "hown");
    struct dpif *a = dp_open(s, dpn), *b;
    struct tframe frames[2], pa, pb;
    struct dpif_upcall ua, ub;
    uint32_t pa0, pa1, pb0;
    char rx[200];

    assert_errno(dpif_open(s->type, dpn, false, &b), 0);
    assert_errno(dpif_handlers_set(a, 2), 0);
    pa0 = dpif_handler_pid(a, 0);
    pa1 = dpif_handler_pid(a, 1);
    assert_true(pa0 && pa1 && pa0 != pa1);

    /* 'b' has no handlers of its own. */
    assert_int_equal(dpif_handler_pid(b, 0), 0);
    assert_errno(dpif_recv(b, 0, &ub), -EINVAL);
    assert_errno(dpif_recv_wait(b, 0, 0), -EINVAL);
    assert_errno(dpif_recv_fd(b, 0), -EINVAL);

    /* Misses go to 'a''s handlers. */
    for (int i = 0; i < 2; i++) {
        tframe_udp(&frames[i], 60, 0x0a000001, (uint16_t) (4000 + i));
    }
    tpath(s, "hown-rx1.pcap", rx, sizeof rx);
    pcap_write(rx, frames, 2);
    add_pcap(a, nm(s, "hown-r1"), "rx", rx, 3);
    assert_int_equal(recv_misses(a, 2, 2, 5000), 2);

    /* 'b' sets its own: new PIDs, and the misses from now on; 'a' keeps
     * its handlers and gets none of them. */
    assert_errno(dpif_handlers_set(b, 1), 0);
    pb0 = dpif_handler_pid(b, 0);
    assert_true(pb0 && pb0 != pa0 && pb0 != pa1);
    assert_int_equal(dpif_handler_pid(a, 0), pa0);
    assert_int_equal(dpif_handler_pid(a, 1), pa1);
    for (int i = 0; i < 2; i++) {
        tframe_udp(&frames[i], 60, 0x0a000002, (uint16_t) (4100 + i));
    }
    tpath(s, "hown-rx2.pcap", rx, sizeof rx);
    pcap_write(rx, frames, 2);
    add_pcap(b, nm(s, "hown-r2"), "rx", rx, 4);
    assert_int_equal(recv_misses(b, 1, 2, 5000), 2);
    assert_int_equal(recv_misses(a, 2, 1, 300), 0);

    /* What is addressed to 'a''s PIDs still reaches 'a'; each dpif's
     * upcall stays its own while the other reads. */
    tframe_udp(&pa, 70, 0x0a0000aa, 10);
    tframe_udp(&pb, 110, 0x0a0000bb, 11);
    exec_userspace(a, &pa, pa1, "a1", DPIF_PORT_ANY, 0, 0);
    exec_userspace(b, &pb, pb0, "b0", DPIF_PORT_ANY, 0, 0);
    assert_errno(dpif_recv_wait(a, 1, 2000), 0);
    assert_errno(dpif_recv(a, 1, &ua), 0);
    assert_errno(dpif_recv_wait(b, 0, 2000), 0);
    assert_errno(dpif_recv(b, 0, &ub), 0);
    assert_int_equal(ua.pid, pa1);
    assert_int_equal(ub.pid, pb0);
    assert_bytes(ua.packet, ua.packet_len, pa.data, pa.len);
    assert_bytes(ub.packet, ub.packet_len, pb.data, pb.len);
    assert_int_equal(((const uint8_t *) ua.userdata)[0], 0xa1);
    assert_int_equal(((const uint8_t *) ub.userdata)[0], 0xb0);

    /* Closing 'b' takes its handlers, not 'a''s. */
    dpif_close(b);
    assert_int_equal(dpif_handler_pid(a, 1), pa1);
    exec_userspace(a, &pa, pa0, "a0", DPIF_PORT_ANY, 0, 0);
    assert_errno(dpif_recv_wait(a, 0, 2000), 0);
    assert_errno(dpif_recv(a, 0, &ua), 0);
    assert_int_equal(ua.pid, pa0);
    assert_errno(dpif_handlers_set(a, 0), 0);
    dp_done(a);
}

/* A dpif used in a child of fork(): every call fails with -ECHILD, the
 * parent's dpif goes on working, and the child can open its own. */
static void
test_fork(void **state)
{
    const struct suite *s = *state;
    NM(dpn, s, "fork");
    static uint8_t buf[DPIF_FLOW_BUFSIZE];
    struct dpif *dpif = dp_open(s, dpn);
    struct dpif_ufid u = mkufid(0xf, 1);
    struct dpif_flow_dump *dump;
    struct dpif_flow flow;
    struct tflow f;
    struct tacts drop;
    int status;
    pid_t pid;

    tflow(&f, "in_port(1),eth(),eth_type(0x0800),"
          "ipv4(src=10.9.0.1,proto=17),udp()");
    tacts(&drop, "drop");
    assert_errno(put(dpif, DPIF_FP_CREATE, &f, &u, &drop, NULL), 0);
    assert_errno(dpif_handlers_set(dpif, 1), 0);
    dump = dpif_flow_dump_create(dpif, false);
    assert_non_null(dump);

    pid = fork();
    assert_true(pid >= 0);
    if (!pid) {
        /* The child: no cmocka here; the exit status names the first
         * check that failed. */
        struct dpif_port_dump *pdump;
        struct dpif_dp_stats st;
        struct dpif_upcall up;
        struct dpif_port port;
        int step = 0;

        if (++step && dpif_flow_get(dpif, NULL, 0, &u, buf, sizeof buf,
                                    &flow) != -ECHILD) {
            _exit(step);
        }
        if (++step && !strstr(dpif_last_error(), "fork()")) {
            _exit(step);
        }
        if (++step && dpif_get_dp_stats(dpif, &st) != -ECHILD) {
            _exit(step);
        }
        if (++step && (dpif_recv(dpif, 0, &up) != -ECHILD
                       || dpif_handler_pid(dpif, 0) != 0)) {
            _exit(step);
        }
        if (++step && strcmp(dpif_name(dpif), dpn)) {
            _exit(step);
        }
        errno = 0;
        if (++step && (dpif_flow_dump_create(dpif, false)
                       || errno != ECHILD)) {
            _exit(step);
        }
        if (++step && dpif_flow_dump_destroy(dump) != -ECHILD) {
            _exit(step);
        }
        pdump = dpif_port_dump_start(dpif);
        if (++step && (dpif_port_dump_next(pdump, &port)
                       || dpif_port_dump_done(pdump) != -ECHILD)) {
            _exit(step);
        }
        dpif_close(dpif);       /* Releases nothing. */
        if (!strcmp(s->type, "netlink")) {
            /* A dpif of the child's own works (a local datapath would
             * need threads, which a child of a threaded process should
             * not start). */
            struct dpif *mine = NULL;

            if (++step && (dpif_open(s->type, dpn, false, &mine)
                           || dpif_flow_get(mine, NULL, 0, &u, buf,
                                            sizeof buf, &flow)
                           || flow.ufid.len != u.len
                           || memcmp(flow.ufid.id, u.id, u.len))) {
                _exit(step);
            }
            dpif_close(mine);
        }
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        fail_msg("the child failed check %d (status %#x)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, status);
    }

    /* The parent's dpif and dump are as they were. */
    assert_errno(dpif_flow_get(dpif, NULL, 0, &u, buf, sizeof buf, &flow),
                 0);
    assert_true(dpif_handler_pid(dpif, 0) != 0);
    {
        struct dpif_flow_dump_thread *t = dpif_flow_dump_thread_create(dump);
        struct dpif_flow flows[4];

        assert_non_null(t);
        assert_int_equal(dpif_flow_dump_next(t, flows, 4), 1);
        assert_int_equal(dpif_flow_dump_next(t, flows, 4), 0);
        dpif_flow_dump_thread_destroy(t);
    }
    assert_errno(dpif_flow_dump_destroy(dump), 0);
    assert_errno(dpif_handlers_set(dpif, 0), 0);
    dp_done(dpif);
}

/* netlink: a dpif keeps the control path it was opened with for every
 * connection it makes later (dump, handler sockets), whatever the
 * process's path is meanwhile. */
static void
test_control_path_kept(void **state)
{
    const struct suite *s = *state;
    struct suite two = { .type = "netlink", .prefix = "n2-" };
    struct dpif_ufid u = mkufid(0xc, 1);
    struct dpif_flow_dump_thread *t;
    struct dpif_flow_dump *dump;
    struct dpif_flow flows[4];
    struct dpif_upcall up;
    struct tframe probe;
    struct dpif *a, *b;
    struct tacts drop;
    struct tflow f;

    if (strcmp(s->type, "netlink")) {
        skip();                 /* One datapath space per process. */
    }
    a = dp_open(s, nm(s, "path1"));
    tflow(&f, "in_port(1),eth(),eth_type(0x0800),"
          "ipv4(src=10.9.1.1,proto=17),udp()");
    tacts(&drop, "drop");
    assert_errno(put(a, DPIF_FP_CREATE, &f, &u, &drop, NULL), 0);
    assert_int_equal(weird_start(&two), 0);
    dpif_set_control_path(two.sock);
    assert_string_equal(dpif_control_path(), two.sock);
    b = dp_open(&two, nm(&two, "path2"));

    /* 'a' dumps from its own weird: the flow is there. */
    dump = dpif_flow_dump_create(a, false);
    assert_non_null(dump);
    t = dpif_flow_dump_thread_create(dump);
    assert_int_equal(dpif_flow_dump_next(t, flows, 4), 1);
    assert_int_equal(flows[0].ufid.len, u.len);
    assert_memory_equal(flows[0].ufid.id, u.id, u.len);
    assert_int_equal(dpif_flow_dump_next(t, flows, 4), 0);
    dpif_flow_dump_thread_destroy(t);
    assert_errno(dpif_flow_dump_destroy(dump), 0);

    /* Its handlers are sockets of its weird: upcalls reach them. */
    assert_errno(dpif_handlers_set(a, 1), 0);
    tframe_udp(&probe, 64, 0x0a090101, 1);
    exec_userspace(a, &probe, dpif_handler_pid(a, 0), "12", DPIF_PORT_ANY,
                   0, 0);
    assert_errno(dpif_recv_wait(a, 0, 2000), 0);
    assert_errno(dpif_recv(a, 0, &up), 0);
    assert_bytes(up.packet, up.packet_len, probe.data, probe.len);
    assert_errno(dpif_handlers_set(a, 0), 0);

    /* 'b''s weird has nothing of it. */
    dump = dpif_flow_dump_create(b, false);
    assert_non_null(dump);
    t = dpif_flow_dump_thread_create(dump);
    assert_int_equal(dpif_flow_dump_next(t, flows, 4), 0);
    dpif_flow_dump_thread_destroy(t);
    assert_errno(dpif_flow_dump_destroy(dump), 0);

    dpif_set_control_path(s->sock);
    dp_done(b);
    dp_done(a);
    weird_stop(&two);
}

/* Bad arguments are refused before any provider sees them. */
static void
test_bad_args(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "args"));
    struct dpif_port_stats ps;
    struct dpif_flow flow;
    struct dpif_upcall up;
    struct dpif_port p;
    uint8_t buf[64];
    char *name;

    assert_errno(dpif_get_features(NULL, NULL), -EINVAL);
    assert_errno(dpif_set_features(NULL, 0), -EINVAL);
    assert_errno(dpif_port_del(NULL, 1), -EINVAL);
    assert_errno(dpif_port_query_by_number(NULL, 0, &p), -EINVAL);
    assert_errno(dpif_port_get_stats(dpif, 0, NULL), -EINVAL);
    assert_errno(dpif_port_get_stats(NULL, 0, &ps), -EINVAL);
    assert_errno(dpif_port_poll(dpif, NULL), -EINVAL);
    assert_errno(dpif_port_poll(NULL, &name), -EINVAL);
    assert_errno(dpif_port_poll_fd(NULL), -EINVAL);
    assert_false(dpif_port_dump_next(NULL, &p));
    assert_errno(dpif_port_dump_done(NULL), -EINVAL);
    assert_non_null(strstr(dpif_last_error(), "no port dump"));
    assert_errno(dpif_flow_flush(NULL), -EINVAL);
    assert_errno(dpif_flow_get(NULL, NULL, 0, &(struct dpif_ufid) {
                     .len = 1 }, buf, sizeof buf, &flow), -EINVAL);
    errno = 0;
    assert_null(dpif_flow_dump_create(NULL, false));
    assert_int_equal(errno, EINVAL);
    assert_non_null(strstr(dpif_last_error(), "no dpif"));
    assert_errno(dpif_handlers_set(NULL, 1), -EINVAL);
    assert_int_equal(dpif_handler_pid(NULL, 0), 0);
    assert_errno(dpif_recv(NULL, 0, &up), -EINVAL);
    assert_errno(dpif_recv_wait(NULL, 0, 0), -EINVAL);
    assert_errno(dpif_recv_fd(NULL, 0), -EINVAL);
    dpif_recv_purge(NULL);
    assert_errno(dpif_delete(NULL), -EINVAL);
    assert_int_equal(dpif_flow_dump_next(NULL, &flow, 1), 0);
    dp_done(dpif);
}

/* ---- Provider-independent: text, control path, last error. ---- */

static void
test_text_flow(void **state)
{
    char text[1024];
    struct dpif_flow flow;
    struct tflow f;
    struct tacts a;
    size_t len;

    (void) state;
    tflow(&f, "ufid:01234567-89ab-cdef-0123-456789abcdef, in_port(1),"
          "eth(src=00:01:02:03:04:05,dst=10:11:12:13:14:15),"
          "eth_type(0x0800),ipv4(src=10.0.0.1/255.255.255.0,dst=10.0.0.2,"
          "proto=6,tos=0,ttl=64,frag=no),tcp(src=80,dst=1024)");
    assert_int_equal(f.ufid.len, 16);
    tacts(&a, "2,3");
    memset(&flow, 0, sizeof flow);
    flow.key = f.key;
    flow.key_len = f.key_len;
    flow.mask = f.mask;
    flow.mask_len = f.mask_len;
    flow.actions = a.a;
    flow.actions_len = a.len;
    flow.ufid = f.ufid;
    flow.stats.n_packets = 2;
    flow.stats.n_bytes = 120;
    flow.stats.tcp_flags = 0x12;

    len = dpif_flow_format(&flow, false, text, sizeof text);
    assert_int_equal(len, strlen(text));
    assert_string_equal(text,
        "in_port(1),eth(src=00:01:02:03:04:05,dst=10:11:12:13:14:15),"
        "eth_type(0x0800),ipv4(src=10.0.0.1/255.255.255.0,dst=10.0.0.2,"
        "proto=6,tos=0,ttl=64,frag=no),tcp(src=80,dst=1024), packets:2, "
        "bytes:120, used:never, flags:S., actions:2,3");
    dpif_flow_format(&flow, true, text, sizeof text);
    assert_true(!strncmp(text, "ufid:01234567-89ab-cdef-0123-456789abcdef, "
                         "in_port(1),", 54));

    /* Last use 1.5 s ago; every TCP flag; no UFID. */
    flow.ufid.len = 0;
    flow.stats.used_ms = (int64_t) tu_now_ms() - 1500;
    flow.stats.tcp_flags = 0xfff;
    dpif_flow_format(&flow, true, text, sizeof text);
    assert_true(!strncmp(text, "in_port(1)", 10)
                || !strncmp(text, "recirc_id", 9));
    assert_non_null(strstr(text, ", used:1."));
    assert_non_null(strstr(text, ", flags:SFPRU.ECN[200][400][800], "));

    /* A short buffer gets a cut, terminated copy and the full length. */
    len = dpif_flow_format(&flow, false, text, 10);
    assert_int_equal(strlen(text), 9);
    assert_true(len > 100);
    assert_true(dpif_flow_format(&flow, false, NULL, 0) == len);

    /* Terse flows: UFID and stats only. */
    memset(&flow, 0, sizeof flow);
    dpif_flow_format(&flow, false, text, sizeof text);
    assert_non_null(strstr(text, "packets:0, bytes:0, used:never"));
}

static void
test_text_parse_errors(void **state)
{
    uint8_t key[512], mask[512], small[8];
    struct dpif_ufid u;
    size_t mask_len;

    (void) state;
    assert_errno(dpif_key_parse("in_port(1),ipv4(sorc=1.2.3.4)", key,
                                sizeof key, mask, sizeof mask, &mask_len,
                                &u), -EINVAL);
    assert_non_null(strstr(dpif_last_error(), "sorc"));
    assert_errno(dpif_key_parse("in_port(1),eth_type(0x0800)", small,
                                sizeof small, NULL, 0, NULL, NULL),
                 -EMSGSIZE);
    assert_errno(dpif_key_parse("in_port(1) xyz", key, sizeof key, NULL, 0,
                                NULL, NULL), -EINVAL);
    assert_errno(dpif_key_parse("ipv4(src=1.2.3.4/255.0.0.0)", key,
                                sizeof key, NULL, 0, NULL, NULL), -EINVAL);
    assert_errno(dpif_key_parse("ufid:nothex,in_port(1)", key, sizeof key,
                                NULL, 0, NULL, &u), -EINVAL);
    assert_errno(dpif_key_parse("ufid:0x0102 in_port(1)", key, sizeof key,
                                NULL, 0, NULL, &u), -EINVAL);
    assert_errno(dpif_key_parse(NULL, key, sizeof key, NULL, 0, NULL, NULL),
                 -EINVAL);
    assert_true(dpif_key_parse("ufid:0x0102,in_port(1)", key, sizeof key,
                               NULL, 0, NULL, &u) > 0);
    assert_int_equal(u.len, 2);
    assert_int_equal(u.id[0], 1);
    assert_int_equal(u.id[1], 2);
    assert_true(dpif_key_parse("in_port(1)", key, sizeof key, NULL, 0, NULL,
                               &u) > 0);
    assert_int_equal(u.len, 0);

    assert_errno(dpif_actions_parse("drop", key, sizeof key), 0);
    assert_errno(dpif_actions_parse("2,bogus(", key, sizeof key), -EINVAL);
    assert_true(dpif_last_error()[0] != '\0');
    assert_errno(dpif_actions_parse("2,3", small, 4), -EMSGSIZE);
    assert_errno(dpif_actions_parse("2 3", key, sizeof key), -EINVAL);
    assert_errno(dpif_actions_parse("2", key, sizeof key), 8);
}

static void
test_control_path(void **state)
{
    const char *kept;

    (void) state;
    dpif_set_control_path(NULL);
    unsetenv(WEIR_CONTROL_ENV);
    assert_string_equal(dpif_control_path(), WEIR_CONTROL_DEFAULT);
    setenv(WEIR_CONTROL_ENV, "/tmp/x/env.sock", 1);
    assert_string_equal(dpif_control_path(), "/tmp/x/env.sock");
    dpif_set_control_path("/tmp/x/set.sock");
    assert_string_equal(dpif_control_path(), "/tmp/x/set.sock");
    dpif_set_control_path(NULL);
    assert_string_equal(dpif_control_path(), "/tmp/x/env.sock");
    unsetenv(WEIR_CONTROL_ENV);
    assert_string_equal(dpif_control_path(), WEIR_CONTROL_DEFAULT);

    /* A path handed out stays as it was when the path changes. */
    dpif_set_control_path("/tmp/x/one.sock");
    kept = dpif_control_path();
    dpif_set_control_path("/tmp/x/two.sock");
    assert_string_equal(kept, "/tmp/x/one.sock");
    assert_string_equal(dpif_control_path(), "/tmp/x/two.sock");
    setenv(WEIR_CONTROL_ENV, "/tmp/x/env1.sock", 1);
    dpif_set_control_path(NULL);
    kept = dpif_control_path();
    setenv(WEIR_CONTROL_ENV, "/tmp/x/env2.sock", 1);
    assert_string_equal(kept, "/tmp/x/env1.sock");
    assert_string_equal(dpif_control_path(), "/tmp/x/env2.sock");
    unsetenv(WEIR_CONTROL_ENV);
}

static void *
fail_in_thread(void *arg)
{
    struct dpif *dpif;

    (void) arg;
    dpif_open("local", "0123456789abcdefg", true, &dpif);
    return strdup(dpif_last_error());
}

static void
test_last_error(void **state)
{
    struct dpif *dpif;
    char mine[256], *theirs;
    pthread_t t;

    (void) state;
    assert_errno(dpif_open("nosuchprovider", "x", true, &dpif), -EINVAL);
    snprintf(mine, sizeof mine, "%s", dpif_last_error());
    assert_non_null(strstr(mine, "nosuchprovider"));
    assert_int_equal(pthread_create(&t, NULL, fail_in_thread, NULL), 0);
    pthread_join(t, (void **) &theirs);
    assert_non_null(theirs);
    assert_non_null(strstr(theirs, "1 to 15 characters"));
    assert_string_equal(dpif_last_error(), mine);
    free(theirs);
}


int
main(void)
{
    const struct CMUnitTest provider_tests[] = {
        cmocka_unit_test(test_datapaths),
        cmocka_unit_test(test_stats_features),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_port_poll),
        cmocka_unit_test(test_port_options),
        cmocka_unit_test(test_flow_put),
        cmocka_unit_test(test_flow_dump_contents),
        cmocka_unit_test(test_operate),
        cmocka_unit_test(test_execute),
        cmocka_unit_test(test_upcalls),
        cmocka_unit_test(test_handlers_per_dpif),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_control_path_kept),
        cmocka_unit_test(test_bad_args),
    };
    const struct CMUnitTest text_tests[] = {
        cmocka_unit_test(test_text_flow),
        cmocka_unit_test(test_text_parse_errors),
        cmocka_unit_test(test_control_path),
        cmocka_unit_test(test_last_error),
    };
    const char *only = getenv("DPIF_TEST_PROVIDER");
    int failed = 0;

    /* The local group on its own: DPIF_TEST_PROVIDER=local (or
     * netlink). */
    if (!only || !strcmp(only, "local")) {
        failed += cmocka_run_group_tests_name("dpif-local", provider_tests,
                                              setup_local, teardown_suite);
    }
    if (!only || !strcmp(only, "netlink")) {
        failed += cmocka_run_group_tests_name("dpif-netlink", provider_tests,
                                              setup_netlink,
                                              teardown_suite);
    }
    failed += cmocka_run_group_tests_name("dpif-text", text_tests, NULL,
                                          NULL);
    return failed;
}
