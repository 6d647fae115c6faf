/* SPDX-License-Identifier: Apache-2.0 */
/* The dpif conformance suite (include/weir/dpif.h).
 *
 * One set of tests, run as two groups: against the "local" provider
 * (datapaths in this process) and against the "netlink" provider, talking
 * to a whole weird server (genl + control socket) that ctl_thread_start()
 * runs on a thread of this process, at a socket in a temporary directory.
 * Both providers must give the same answers, errnos included.  A third
 * group covers what does not depend on a provider (the text helpers, the
 * control path, the per-thread last error).
 *
 * Nothing needs root: local ports are "dummy" ports (dpif-local.h's
 * knob, the server's genl_config), traffic comes from pcap ports that
 * replay files the tests write (rx=FILE) and goes to pcap files the tests
 * read back (tx=FILE).  Each group prefixes its datapath and port names
 * ("l-", "n-"), since port names are unique in the process.
 *
 * Threads: the flow dump tests share one dump between 2 and 4 threads;
 * the suite runs under ThreadSanitizer too (meson suite 'tsan'). */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/genetlink.h>
#include <linux/openvswitch.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include <libmnl/libmnl.h>

#include "codec/fkey-nl.h"
#include "daemon/ctl.h"
#include "dpif/dpif-local.h"
#include "genl/genl.h"
#include "lib/errbuf.h"
#include "lib/rcu.h"
#include "packet/flow-extract.h"
#include "packet/flow-key.h"
#include "weir/control.h"
#include "weir/dpif.h"

#include "dp-test-util.h"
#include "test-util.h"

/* ---- The groups' state. ---- */

struct suite {
    const char *type;           /* dpif provider. */
    const char *prefix;         /* Of datapath and port names. */
    struct ctl_thread *server;  /* netlink: weird on a thread. */
    char dir[64];               /* Socket, pcap files. */
    char sock[128];
};

static struct suite suite_local = { .type = "local", .prefix = "l-" };
static struct suite suite_netlink = { .type = "netlink", .prefix = "n-" };

static int
suite_dir(struct suite *s)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/weir-dpif-XXXXXX");
    if (!mkdtemp(s->dir)) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(s->sock, sizeof s->sock, "%s/weird.sock", s->dir);
    return 0;
}

static void
suite_dir_remove(struct suite *s)
{
    DIR *d = opendir(s->dir);
    struct dirent *e;
    char path[sizeof s->dir + sizeof e->d_name + 2];

    if (!d) {
        return;
    }
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", s->dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    rmdir(s->dir);
}

static int
setup_local(void **state)
{
    if (suite_dir(&suite_local) || dpif_local_set_local_type("dummy")) {
        return -1;
    }
    *state = &suite_local;
    return 0;
}

static int
setup_netlink(void **state)
{
    struct genl_config cfg = { .local_type = "dummy" };
    struct errbuf err;

    errbuf_clear(&err);
    if (suite_dir(&suite_netlink)) {
        return -1;
    }
    suite_netlink.server = ctl_thread_start(suite_netlink.sock, &cfg, &err);
    if (!suite_netlink.server) {
        fprintf(stderr, "netlink group: cannot start weird on a thread: "
                "%s\n", err.msg);
        suite_dir_remove(&suite_netlink);
        return -1;
    }
    dpif_set_control_path(suite_netlink.sock);
    *state = &suite_netlink;
    return 0;
}

static int
teardown_suite(void **state)
{
    struct suite *s = *state;

    ctl_thread_stop(s->server);
    s->server = NULL;
    dpif_set_control_path(NULL);
    suite_dir_remove(s);
    return 0;
}

/* ---- Helpers. ---- */

/* "l-" or "n-" + 'base', in a ring of 16 buffers: for arguments.  A
 * name kept longer goes in a variable of its own (NM()). */
static const char *
nm(const struct suite *s, const char *base)
{
    static char ring[16][DPIF_NAME_MAX];
    static unsigned int next;
    char *buf = ring[next++ % 16];

    snprintf(buf, DPIF_NAME_MAX, "%s%s", s->prefix, base);
    return buf;
}

#define NM(VAR, S, BASE)                                                   \
    char VAR[DPIF_NAME_MAX];                                               \
    snprintf(VAR, sizeof VAR, "%s%s", (S)->prefix, BASE)

static void
tpath(const struct suite *s, const char *file, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s%s", s->dir, s->prefix, file);
}

#define assert_errno(EXPR, WANT)                                           \
    do {                                                                   \
        int r_ = (EXPR);                                                   \
        int w_ = (WANT);                                                   \
        if (r_ != w_) {                                                    \
            fail_msg("%s:%d: %s = %d (%s), want %d (%s); last error: %s",  \
                     __FILE__, __LINE__, #EXPR, r_,                        \
                     r_ < 0 ? strerror(-r_) : "ok", w_,                    \
                     w_ < 0 ? strerror(-w_) : "ok", dpif_last_error());    \
        }                                                                  \
    } while (0)

static struct dpif *
dp_open(const struct suite *s, const char *name)
{
    struct dpif *dpif = NULL;
    int error = dpif_open(s->type, name, true, &dpif);

    if (error || !dpif) {
        fail_msg("dpif_open(%s, %s): %s (%s)", s->type, name,
                 strerror(-error), dpif_last_error());
    }
    return dpif;
}

static void
dp_done(struct dpif *dpif)
{
    int error = dpif_delete(dpif);

    dpif_close(dpif);
    assert_errno(error, 0);
}

/* A flow key and mask from text (ovs-dpctl syntax). */
struct tflow {
    uint8_t key[512], mask[512];
    size_t key_len, mask_len;
    struct dpif_ufid ufid;
};

static void tflow(struct tflow *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
tflow(struct tflow *f, const char *fmt, ...)
{
    char text[1024];
    va_list args;
    int n;

    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    n = dpif_key_parse(text, f->key, sizeof f->key, f->mask, sizeof f->mask,
                       &f->mask_len, &f->ufid);
    if (n < 0) {
        fail_msg("dpif_key_parse(\"%s\"): %s", text, dpif_last_error());
    }
    f->key_len = (size_t) n;
}

struct tacts {
    uint8_t a[1024];
    size_t len;
};

static void tacts(struct tacts *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
tacts(struct tacts *t, const char *fmt, ...)
{
    char text[1024];
    va_list args;
    int n;

    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    n = dpif_actions_parse(text, t->a, sizeof t->a);
    if (n < 0) {
        fail_msg("dpif_actions_parse(\"%s\"): %s", text, dpif_last_error());
    }
    t->len = (size_t) n;
}

static struct dpif_ufid
mkufid(uint8_t tag, uint16_t i)
{
    struct dpif_ufid u = { .len = DPIF_UFID_LEN };

    for (int k = 0; k < DPIF_UFID_LEN; k++) {
        u.id[k] = (uint8_t) (0x40 + k);
    }
    u.id[0] = tag;
    u.id[1] = (uint8_t) (i >> 8);
    u.id[2] = (uint8_t) i;
    return u;
}

static int
put(struct dpif *dpif, unsigned int flags, const struct tflow *f,
    const struct dpif_ufid *ufid, const struct tacts *a,
    struct dpif_flow_stats *stats)
{
    return dpif_flow_put(dpif, flags, f->key, f->key_len, f->mask,
                         f->mask_len, ufid, a ? a->a : NULL,
                         a ? a->len : 0, stats);
}

/* The key of a flow as the datapath names it. */
static void
decode_key(const void *attrs, size_t len, struct flow_key *key)
{
    struct errbuf err;
    enum fkey_fit fit;

    errbuf_clear(&err);
    fit = fkey_from_nl(attrs, len, key, &err);
    if (fit != FKEY_FIT_PERFECT) {
        fail_msg("key does not decode: %s %s", fkey_fit_to_string(fit),
                 err.msg);
    }
}

/* What a datapath reports for the flow 'f': its key (masked for a flow
 * with UFID) and installed mask, in canonical attributes. */
struct texpect {
    uint8_t key[FKEY_NL_MAX_LEN], mask[FKEY_NL_MAX_LEN];
    size_t key_len, mask_len;
};

static void
expect_of(const struct tflow *f, bool masked_key, struct texpect *e)
{
    char kb[MNL_NLMSG_HDRLEN + FKEY_NL_MAX_LEN];
    char mb[MNL_NLMSG_HDRLEN + FKEY_NL_MAX_LEN];
    struct nlmsghdr *k = mnl_nlmsg_put_header(kb);
    struct nlmsghdr *m = mnl_nlmsg_put_header(mb);
    struct flow_key key, masked;
    struct flow_mask mask;
    struct errbuf err;

    errbuf_clear(&err);
    decode_key(f->key, f->key_len, &key);
    if (fmask_from_nl(f->mask, f->mask_len, &key, &mask, &err)
        != FKEY_FIT_PERFECT) {
        fail_msg("mask does not decode: %s", err.msg);
    }
    fkey_mask_apply(&masked, &key, &mask);
    assert_int_equal(fkey_to_nl(masked_key ? &masked : &key, k, sizeof kb),
                     0);
    assert_int_equal(fmask_to_nl(&masked, &mask, m, sizeof mb), 0);
    e->key_len = k->nlmsg_len - MNL_NLMSG_HDRLEN;
    e->mask_len = m->nlmsg_len - MNL_NLMSG_HDRLEN;
    memcpy(e->key, mnl_nlmsg_get_payload(k), e->key_len);
    memcpy(e->mask, mnl_nlmsg_get_payload(m), e->mask_len);
}

static void
assert_bytes_(const void *got, size_t got_len, const void *want,
              size_t want_len, const char *what, int line)
{
    if (!got || got_len != want_len) {
        fail_msg("line %d: %s: %p/%zu bytes, want %zu", line, what, got,
                 got_len, want_len);
    }
    assert_memory_equal(got, want, want_len);
}

#define assert_bytes(GOT, GOT_LEN, WANT, WANT_LEN) \
    assert_bytes_(GOT, GOT_LEN, WANT, WANT_LEN, #GOT, __LINE__)

/* Checks that 'flow' is 'f' with actions 'a' (as installed). */
static void
assert_flow(const struct dpif_flow *flow, const struct tflow *f,
            const struct dpif_ufid *ufid, const struct tacts *a)
{
    struct texpect e;

    expect_of(f, ufid != NULL, &e);
    assert_bytes(flow->key, flow->key_len, e.key, e.key_len);
    assert_bytes(flow->mask, flow->mask_len, e.mask, e.mask_len);
    assert_int_equal(flow->actions_len, a->len);
    if (a->len) {
        assert_memory_equal(flow->actions, a->a, a->len);
    } else {
        assert_non_null(flow->actions);
    }
    if (ufid) {
        assert_int_equal(flow->ufid.len, ufid->len);
        assert_memory_equal(flow->ufid.id, ufid->id, ufid->len);
    } else {
        assert_int_equal(flow->ufid.len, 0);
    }
}

/* An Ethernet/IPv4/UDP frame. */
struct tframe {
    uint8_t data[256];
    size_t len;
};

static void
tframe_udp(struct tframe *f, size_t len, uint32_t src, uint16_t sport)
{
    f->len = len;
    tu_udp_frame(f->data, len, src, 0x0a000002, sport, 2000);
}

static void
put32(FILE *f, uint32_t v)
{
    assert_int_equal(fwrite(&v, sizeof v, 1, f), 1);
}

/* Writes a pcap file (microsecond stamps, Ethernet) of 'n' frames. */
static void
pcap_write(const char *path, const struct tframe *frames, size_t n)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    put32(f, 0xa1b2c3d4);
    put32(f, 0x00040002);               /* Version 2.4. */
    put32(f, 0);
    put32(f, 0);
    put32(f, 65535);                    /* Snap length. */
    put32(f, 1);                        /* LINKTYPE_ETHERNET. */
    for (size_t i = 0; i < n; i++) {
        put32(f, (uint32_t) i);
        put32(f, 0);
        put32(f, (uint32_t) frames[i].len);
        put32(f, (uint32_t) frames[i].len);
        assert_int_equal(fwrite(frames[i].data, 1, frames[i].len, f),
                         frames[i].len);
    }
    assert_int_equal(fclose(f), 0);
}

/* Reads up to 'max' frames of the pcap file at 'path' (as libpcap
 * writes it on this host).  Returns the count. */
static size_t
pcap_read(const char *path, struct tframe *frames, size_t max)
{
    uint8_t buf[65536];
    size_t len, ofs = 24, n = 0;
    uint32_t magic;
    FILE *f = fopen(path, "rb");

    assert_non_null(f);
    len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(len >= 24);
    memcpy(&magic, buf, 4);
    assert_true(magic == 0xa1b2c3d4 || magic == 0xa1b23c4d);
    while (ofs + 16 <= len && n < max) {
        uint32_t caplen;

        memcpy(&caplen, buf + ofs + 8, 4);
        ofs += 16;
        assert_true(caplen <= sizeof frames[n].data && ofs + caplen <= len);
        memcpy(frames[n].data, buf + ofs, caplen);
        frames[n].len = caplen;
        ofs += caplen;
        n++;
    }
    return n;
}

/* Adds a pcap port 'name' with "rx=PATH" or "tx=PATH" at 'port_no'. */
static uint32_t
add_pcap(struct dpif *dpif, const char *name, const char *dir,
         const char *path, uint32_t port_no)
{
    char opts[300];

    snprintf(opts, sizeof opts, "%s=%s", dir, path);
    assert_errno(dpif_port_add(dpif, name, "pcap", opts, &port_no), 0);
    return port_no;
}

/* Waits up to 5 s for flow 'ufid' to have counted 'n' packets; returns
 * its final stats. */
static struct dpif_flow_stats
wait_packets(struct dpif *dpif, const struct dpif_ufid *ufid, uint64_t n)
{
    static uint8_t buf[DPIF_FLOW_BUFSIZE];
    uint64_t deadline = tu_now_ms() + 5000;
    struct dpif_flow flow;

    for (;;) {
        assert_errno(dpif_flow_get(dpif, NULL, 0, ufid, buf, sizeof buf,
                                   &flow), 0);
        if (flow.stats.n_packets >= n || tu_now_ms() > deadline) {
            break;
        }
        tu_sleep_ms(5);
    }
    if (flow.stats.n_packets != n) {
        struct dpif_dp_stats ds;

        dpif_get_dp_stats(dpif, &ds);
        fail_msg("flow has %" PRIu64 " packets, want %" PRIu64 " (datapath:"
                 " %" PRIu64 " hit, %" PRIu64 " missed, %" PRIu64 " flows)",
                 flow.stats.n_packets, n, ds.n_hit, ds.n_missed, ds.n_flows);
    }
    return flow.stats;
}

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
    struct dpif *dpif = dp_open(s, dpn);
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

#define FLOW_A "in_port(5),eth(src=00:00:00:00:00:01,"                    \
               "dst=00:00:00:00:00:02),eth_type(0x0800),"                 \
               "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,"    \
               "frag=no),udp(src=1000,dst=2000)"

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
    /* A buffer too small for it. */
    assert_true(dpif_flow_get(dpif, NULL, 0, &ua, buf, 8, &flow) < 0);

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

/* ---- Flow dumps. ---- */

#define DUMP_UFID_FLOWS 40
#define DUMP_KEY_FLOWS 8

/* Installs the dump tests' flows: UFID flows (0xd, i) with actions
 * "drop", and flows without UFID with actions "i + 1". */
static void
dump_flows_install(struct dpif *dpif)
{
    struct tacts drop, out;
    struct tflow f;

    tacts(&drop, "drop");
    for (int i = 0; i < DUMP_UFID_FLOWS; i++) {
        struct dpif_ufid u = mkufid(0xd, (uint16_t) i);

        tflow(&f, "in_port(1),eth(),eth_type(0x0800),"
              "ipv4(src=10.1.%d.%d,proto=17),udp()", i / 200, i % 200);
        assert_errno(put(dpif, DPIF_FP_CREATE, &f, &u, &drop, NULL), 0);
    }
    for (int i = 0; i < DUMP_KEY_FLOWS; i++) {
        tflow(&f, "in_port(1),eth(),eth_type(0x0800),"
              "ipv4(src=10.2.0.%d,proto=17),udp()", i);
        tacts(&out, "%d", i + 1);
        assert_errno(put(dpif, DPIF_FP_CREATE, &f, NULL, &out, NULL), 0);
    }
}

/* Which of the dump tests' flows 'flow' is: 0..DUMP_UFID_FLOWS-1 for the
 * UFID flows, then the others; -1 if it is none or is not as a dump
 * should give it. */
static int
dump_flow_index(const struct dpif_flow *flow, bool terse)
{
    if (flow->ufid.len) {
        int i = flow->ufid.id[1] << 8 | flow->ufid.id[2];

        if (flow->ufid.len != DPIF_UFID_LEN || flow->ufid.id[0] != 0xd
            || i >= DUMP_UFID_FLOWS) {
            return -1;
        }
        /* Terse: UFID and statistics only. */
        if (terse != (!flow->key && !flow->mask && !flow->actions)) {
            return -1;
        }
        if (!terse && (!flow->key_len || !flow->mask_len
                       || flow->actions_len)) {
            return -1;
        }
        return i;
    }
    /* Without UFID: always whole, named by key; actions "i + 1". */
    if (!flow->key || !flow->key_len || !flow->mask || !flow->mask_len
        || !flow->actions || flow->actions_len != 8) {
        return -1;
    }
    {
        uint32_t port;
        int i;

        memcpy(&port, (const uint8_t *) flow->actions + 4, 4);
        i = (int) port - 1;
        return i >= 0 && i < DUMP_KEY_FLOWS ? DUMP_UFID_FLOWS + i : -1;
    }
}

struct dump_ctx {
    struct dpif_flow_dump *dump;
    bool terse;
    int max;
    _Atomic int seen[DUMP_UFID_FLOWS + DUMP_KEY_FLOWS];
    _Atomic int bad;
    _Atomic int calls;
};

static void *
dump_worker(void *ctx_)
{
    struct dump_ctx *ctx = ctx_;
    struct dpif_flow_dump_thread *t = dpif_flow_dump_thread_create(
        ctx->dump);
    struct dpif_flow flows[8];
    int n;

    if (!t) {
        atomic_fetch_add(&ctx->bad, 1);
        return NULL;
    }
    while ((n = dpif_flow_dump_next(t, flows, ctx->max)) > 0) {
        atomic_fetch_add(&ctx->calls, 1);
        if (n > ctx->max) {
            atomic_fetch_add(&ctx->bad, 1);
        }
        for (int i = 0; i < n && i < ctx->max; i++) {
            int k = dump_flow_index(&flows[i], ctx->terse);

            if (k < 0) {
                char text[2048];

                dpif_flow_format(&flows[i], true, text, sizeof text);
                fprintf(stderr, "%s dump: unexpected flow (key %p/%zu, "
                        "mask %p/%zu, actions %p/%zu): %s\n",
                        ctx->terse ? "terse" : "full", flows[i].key,
                        flows[i].key_len, flows[i].mask, flows[i].mask_len,
                        flows[i].actions, flows[i].actions_len, text);
                atomic_fetch_add(&ctx->bad, 1);
            } else {
                atomic_fetch_add(&ctx->seen[k], 1);
            }
        }
    }
    dpif_flow_dump_thread_destroy(t);
    return NULL;
}

/* Dumps with 'n_threads' threads sharing one dump; checks that every
 * flow came exactly once, in the right shape. */
static void
dump_check(struct dpif *dpif, bool terse, int n_threads, int max)
{
    struct dump_ctx *ctx = calloc(1, sizeof *ctx);
    pthread_t threads[4];

    assert_non_null(ctx);
    ctx->terse = terse;
    ctx->max = max;
    ctx->dump = dpif_flow_dump_create(dpif, terse);
    assert_non_null(ctx->dump);
    for (int i = 0; i < n_threads; i++) {
        assert_int_equal(pthread_create(&threads[i], NULL, dump_worker, ctx),
                         0);
    }
    for (int i = 0; i < n_threads; i++) {
        pthread_join(threads[i], NULL);
    }
    assert_errno(dpif_flow_dump_destroy(ctx->dump), 0);
    assert_int_equal(atomic_load(&ctx->bad), 0);
    for (int i = 0; i < DUMP_UFID_FLOWS + DUMP_KEY_FLOWS; i++) {
        if (atomic_load(&ctx->seen[i]) != 1) {
            fail_msg("%s dump, %d threads: flow %d seen %d times",
                     terse ? "terse" : "full", n_threads, i,
                     atomic_load(&ctx->seen[i]));
        }
    }
    assert_true(atomic_load(&ctx->calls) >= (DUMP_UFID_FLOWS
                                             + DUMP_KEY_FLOWS) / max);
    free(ctx);
}

static void
test_flow_dump(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "dump"));
    struct dpif_flow_dump_thread *t;
    struct dpif_flow_dump *dump;
    struct dpif_flow flows[4];

    /* Empty. */
    dump = dpif_flow_dump_create(dpif, false);
    assert_non_null(dump);
    t = dpif_flow_dump_thread_create(dump);
    assert_non_null(t);
    assert_int_equal(dpif_flow_dump_next(t, flows, 4), 0);
    dpif_flow_dump_thread_destroy(t);
    assert_errno(dpif_flow_dump_destroy(dump), 0);
    assert_errno(dpif_flow_dump_destroy(NULL), 0);
    assert_null(dpif_flow_dump_thread_create(NULL));

    dump_flows_install(dpif);
    dump_check(dpif, false, 1, 5);
    dump_check(dpif, true, 1, 7);
    dump_check(dpif, false, 2, 3);
    dump_check(dpif, true, 2, 4);
    dump_check(dpif, false, 4, 1);
    dump_check(dpif, true, 4, 8);
    dp_done(dpif);
}

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
    assert_errno(dpif_port_get_stats(dpif, tx_no, &ps), 0);
    assert_int_equal(ps.tx_packets, 2);
    dp_done(dpif);
}

/* ---- Upcalls. ---- */

/* Executes 'frame' with a userspace(pid=PID,userdata(...)) action. */
static void
exec_userspace(struct dpif *dpif, const struct tframe *frame, uint32_t pid,
               const char *userdata_hex, uint32_t in_port,
               uint32_t priority, uint32_t mark)
{
    struct dpif_execute ex;
    struct tacts a;

    tacts(&a, "userspace(pid=%u,userdata(%s))", pid, userdata_hex);
    ex = (struct dpif_execute) {
        .packet = frame->data, .packet_len = frame->len,
        .actions = a.a, .actions_len = a.len, .in_port = in_port,
        .priority = priority, .mark = mark,
    };
    assert_errno(dpif_execute(dpif, &ex), 0);
}

/* Decodes the key of 'up' and checks it is the key of its packet as
 * received on 'in_port' with metadata 'priority' and 'mark'. */
static void
assert_upcall_key(const struct dpif_upcall *up, uint32_t in_port,
                  uint32_t priority, uint32_t mark)
{
    struct pkt_metadata md = {
        .in_port = in_port, .priority = priority, .skb_mark = mark,
    };
    struct flow_key got, want;

    decode_key(up->key, up->key_len, &got);
    assert_int_equal(fkey_extract(up->packet, up->packet_len, &md, &want),
                     0);
    assert_true(fkey_nl_equal(&got, &want));
    assert_int_equal(got.in_port, in_port);
    assert_int_equal(got.priority, priority);
    assert_int_equal(got.skb_mark, mark);
}

static void
test_upcalls(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "upcall"));
    const uint8_t userdata[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    struct tframe frames[4], probe;
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

    /* Purge drops what is queued. */
    for (int i = 0; i < 3; i++) {
        exec_userspace(dpif, &probe, pid1, "cc", DPIF_PORT_ANY, 0, 0);
    }
    assert_errno(dpif_recv_wait(dpif, 1, 2000), 0);
    tu_sleep_ms(200);
    dpif_recv_purge(dpif);
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

/* ---- Many client threads at once. ---- */

#define CLIENT_THREADS 4
#define CLIENT_ROUNDS 100

struct client_ctx {
    struct dpif *dpif;
    int id;
    uint32_t tx_no;
    _Atomic int *errors;
};

/* Puts, reads, executes and deletes flows of its own, as a handler
 * thread does; counts what goes wrong. */
static void *
client_worker(void *ctx_)
{
    struct client_ctx *ctx = ctx_;
    static _Thread_local uint8_t buf[4096];
    struct dpif_execute ex;
    struct dpif_flow flow;
    struct tframe frame;
    uint8_t key[512], mask[512], acts[64];
    size_t mask_len;
    char text[256];
    int key_len, acts_len;

    snprintf(text, sizeof text, "%u", ctx->tx_no);
    acts_len = dpif_actions_parse(text, acts, sizeof acts);
    tframe_udp(&frame, 60, 0x0a070000u + (uint32_t) ctx->id, 7);
    for (int i = 0; i < CLIENT_ROUNDS && acts_len > 0; i++) {
        struct dpif_ufid u = mkufid((uint8_t) (0x70 + ctx->id),
                                    (uint16_t) i);

        snprintf(text, sizeof text, "in_port(1),eth(),eth_type(0x0800),"
                 "ipv4(src=10.7.%d.%d,proto=17),udp()", ctx->id, i);
        key_len = dpif_key_parse(text, key, sizeof key, mask, sizeof mask,
                                 &mask_len, NULL);
        if (key_len <= 0
            || dpif_flow_put(ctx->dpif, DPIF_FP_CREATE, key,
                             (size_t) key_len, mask, mask_len, &u, acts,
                             (size_t) acts_len, NULL)
            || dpif_flow_get(ctx->dpif, NULL, 0, &u, buf, sizeof buf, &flow)
            || flow.actions_len != (size_t) acts_len) {
            atomic_fetch_add(ctx->errors, 1);
        }
        ex = (struct dpif_execute) {
            .packet = frame.data, .packet_len = frame.len,
            .actions = acts, .actions_len = (size_t) acts_len,
            .in_port = DPIF_PORT_ANY,
        };
        if (dpif_execute(ctx->dpif, &ex)
            || dpif_flow_del(ctx->dpif, NULL, 0, &u, NULL)) {
            atomic_fetch_add(ctx->errors, 1);
        }
    }
    if (acts_len <= 0) {
        atomic_fetch_add(ctx->errors, 1);
    }
    return NULL;
}

static void
test_threads(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "threads"));
    struct client_ctx ctx[CLIENT_THREADS];
    pthread_t threads[CLIENT_THREADS];
    struct dpif_port_stats ps;
    struct dpif_dp_stats ds;
    _Atomic int errors = 0;
    uint32_t tx_no;
    char tx[200];

    tpath(s, "threads-tx.pcap", tx, sizeof tx);
    tx_no = add_pcap(dpif, nm(s, "thr-tx"), "tx", tx, DPIF_PORT_ANY);
    for (int i = 0; i < CLIENT_THREADS; i++) {
        ctx[i] = (struct client_ctx) {
            .dpif = dpif, .id = i, .tx_no = tx_no, .errors = &errors,
        };
        assert_int_equal(pthread_create(&threads[i], NULL, client_worker,
                                        &ctx[i]), 0);
    }
    for (int i = 0; i < CLIENT_THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    assert_int_equal(atomic_load(&errors), 0);
    assert_errno(dpif_get_dp_stats(dpif, &ds), 0);
    assert_int_equal(ds.n_flows, 0);
    assert_errno(dpif_port_get_stats(dpif, tx_no, &ps), 0);
    assert_int_equal(ps.tx_packets, CLIENT_THREADS * CLIENT_ROUNDS);
    dp_done(dpif);
}

struct waiter_ctx {
    struct dpif *dpif;
    _Atomic bool stop;
    _Atomic int waits, errors;
};

/* Waits on handler 0 in short turns until told to stop. */
static void *
waiter(void *ctx_)
{
    struct waiter_ctx *ctx = ctx_;

    while (!atomic_load(&ctx->stop)) {
        int error = dpif_recv_wait(ctx->dpif, 0, 20);

        atomic_fetch_add(&ctx->waits, 1);
        if (error && error != -ETIMEDOUT) {
            atomic_fetch_add(&ctx->errors, 1);
            tu_sleep_ms(1);
        }
    }
    return NULL;
}

/* A thread waits for upcalls while another changes the handlers: the
 * change waits for the waiter's turn, the waiter then finds its handler
 * gone (-EINVAL) or back. */
static void
test_handlers_change_while_waiting(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "hwait"));
    struct waiter_ctx ctx = { .dpif = dpif };
    pthread_t t;

    assert_errno(dpif_handlers_set(dpif, 1), 0);
    assert_int_equal(pthread_create(&t, NULL, waiter, &ctx), 0);
    for (int i = 0; i < 5; i++) {
        tu_sleep_ms(30);
        assert_errno(dpif_handlers_set(dpif, i % 2 ? 1 : 0), 0);
    }
    tu_sleep_ms(30);
    atomic_store(&ctx.stop, true);
    pthread_join(t, NULL);
    assert_true(atomic_load(&ctx.waits) > 0);
    /* The handler was gone part of the time. */
    assert_true(atomic_load(&ctx.errors) > 0);
    assert_errno(dpif_recv_wait(dpif, 0, 0), -EINVAL);
    dp_done(dpif);
}

struct busy_ctx {
    struct dpif *dpif;
    _Atomic int ok, enodev, other;
};

/* Uses a datapath through its own dpif until the datapath is gone. */
static void *
busy_worker(void *ctx_)
{
    struct busy_ctx *ctx = ctx_;
    uint64_t deadline = tu_now_ms() + 5000;
    struct dpif_dp_stats st;

    while (tu_now_ms() < deadline) {
        int e1 = dpif_get_dp_stats(ctx->dpif, &st);
        int e2 = dpif_flow_flush(ctx->dpif);

        if ((e1 && e1 != -ENODEV) || (e2 && e2 != -ENODEV)) {
            atomic_fetch_add(&ctx->other, 1);
        } else if (!e1 && !e2) {
            atomic_fetch_add(&ctx->ok, 1);
        } else if (e1 && e2) {
            atomic_fetch_add(&ctx->enodev, 1);
            break;
        }
    }
    return NULL;
}

/* dpif_delete() while another thread uses the datapath through another
 * dpif: that thread's calls fail cleanly with -ENODEV. */
static void
test_delete_while_busy(void **state)
{
    const struct suite *s = *state;
    NM(name, s, "busy");
    struct dpif *a = dp_open(s, name);
    struct busy_ctx ctx = { .dpif = NULL };
    pthread_t t;

    assert_errno(dpif_open(s->type, name, false, &ctx.dpif), 0);
    assert_int_equal(pthread_create(&t, NULL, busy_worker, &ctx), 0);
    while (atomic_load(&ctx.ok) < 10 && !atomic_load(&ctx.other)) {
        tu_sleep_ms(1);
    }
    assert_errno(dpif_delete(a), 0);
    pthread_join(t, NULL);
    assert_int_equal(atomic_load(&ctx.other), 0);
    assert_int_equal(atomic_load(&ctx.enodev), 1);
    dpif_close(ctx.dpif);
    dpif_close(a);
}

struct online_ctx {
    char port[DPIF_NAME_MAX];
    struct dpif *dpif;
    bool register_rcu;
    _Atomic int errors;
};

/* Runs calls that pass through grace periods (port add and delete)
 * while being, itself, a registered RCU reader that stays online. */
static void *
online_worker(void *ctx_)
{
    struct online_ctx *ctx = ctx_;
    struct dpif_dp_stats st;

    if (ctx->register_rcu) {
        qsbr_register();
    }
    for (int i = 0; i < 20; i++) {
        uint32_t no = DPIF_PORT_ANY;

        if (dpif_port_add(ctx->dpif, ctx->port, "dummy", NULL, &no)
            || dpif_get_dp_stats(ctx->dpif, &st)
            || dpif_port_del(ctx->dpif, no)) {
            atomic_fetch_add(&ctx->errors, 1);
        }
        if (ctx->register_rcu && !rcu_read_ongoing()) {
            atomic_fetch_add(&ctx->errors, 1);
        }
        if (ctx->register_rcu) {
            qsbr_quiesce();
        }
    }
    if (ctx->register_rcu) {
        qsbr_unregister();
    }
    return NULL;
}

/* A caller that is an online RCU reader of its own (weird's threads)
 * stays one, and does not hold up the grace periods that another
 * thread's calls wait for meanwhile.  (With the netlink provider the
 * worker does not register: its server runs in this process, and a
 * reader online while waiting for the server's reply would hold up the
 * server's own grace periods, which a real client in another process
 * never does.) */
static void
test_online_caller(void **state)
{
    const struct suite *s = *state;
    struct dpif *dpif = dp_open(s, nm(s, "online"));
    struct online_ctx ctx = {
        .dpif = dpif, .register_rcu = !strcmp(s->type, "local"),
    };
    pthread_t t;

    snprintf(ctx.port, sizeof ctx.port, "%sonl", s->prefix);
    assert_int_equal(pthread_create(&t, NULL, online_worker, &ctx), 0);
    for (int i = 0; i < 20; i++) {
        uint32_t no = DPIF_PORT_ANY;

        assert_errno(dpif_port_add(dpif, nm(s, "onm"), "dummy", NULL, &no),
                     0);
        assert_errno(dpif_port_del(dpif, no), 0);
    }
    pthread_join(t, NULL);
    assert_int_equal(atomic_load(&ctx.errors), 0);
    dp_done(dpif);
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
    assert_errno(dpif_port_dump_done(NULL), -ENOMEM);
    assert_errno(dpif_flow_flush(NULL), -EINVAL);
    assert_errno(dpif_flow_get(NULL, NULL, 0, &(struct dpif_ufid) {
                     .len = 1 }, buf, sizeof buf, &flow), -EINVAL);
    assert_null(dpif_flow_dump_create(NULL, false));
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
        cmocka_unit_test(test_datapaths),
        cmocka_unit_test(test_stats_features),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_port_poll),
        cmocka_unit_test(test_port_options),
        cmocka_unit_test(test_flow_put),
        cmocka_unit_test(test_monitor),
        cmocka_unit_test(test_monitor_lost),
        cmocka_unit_test(test_monitor_threads),
        cmocka_unit_test(test_flow_dump),
        cmocka_unit_test(test_flow_dump_contents),
        cmocka_unit_test(test_operate),
        cmocka_unit_test(test_execute),
        cmocka_unit_test(test_upcalls),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_handlers_change_while_waiting),
        cmocka_unit_test(test_delete_while_busy),
        cmocka_unit_test(test_online_caller),
        cmocka_unit_test(test_bad_args),
    };
    const struct CMUnitTest text_tests[] = {
        cmocka_unit_test(test_text_flow),
        cmocka_unit_test(test_text_parse_errors),
        cmocka_unit_test(test_control_path),
        cmocka_unit_test(test_last_error),
        cmocka_unit_test(test_monitor_fake_weird),
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
