/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_TESTS_UNIT_DPIF_TEST_UTIL_H
#define WEIR_TESTS_UNIT_DPIF_TEST_UTIL_H 1

/* What the dpif conformance suites share (test-dpif.c,
 * test-dpif-threads.c, test-dpif-monitor.c): the two provider groups
 * ("local", and "netlink" against a whole weird on a thread of the test),
 * names, flows and actions from text, pcap files for traffic, and checks.
 *
 * Each group prefixes its datapath and port names ("l-", "n-"), since
 * port names are unique in the process.  Nothing needs root: local ports
 * are "dummy" ports, traffic comes from pcap ports that replay files the
 * tests write (rx=FILE) and goes to pcap files they read back (tx=FILE).
 * Everything here is static inline: each test program uses part of it. */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/openvswitch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <libmnl/libmnl.h>

#include "codec/fkey-nl.h"
#include "daemon/ctl.h"
#include "dpif/dpif-local.h"
#include "genl/genl.h"
#include "lib/errbuf.h"
#include "packet/flow-extract.h"
#include "packet/flow-key.h"
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

static inline int
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

static inline void
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

static inline int
setup_local(void **state)
{
    if (suite_dir(&suite_local) || dpif_local_set_local_type("dummy")) {
        return -1;
    }
    *state = &suite_local;
    return 0;
}

/* Starts a weird (genl + control socket) on a thread of this process, at
 * a socket in a new temporary directory: 's->server', 's->dir',
 * 's->sock'.  Returns 0 or -1 (with a message). */
static inline int
weird_start(struct suite *s)
{
    struct genl_config cfg = { .local_type = "dummy" };
    struct errbuf err;

    errbuf_clear(&err);
    if (suite_dir(s)) {
        return -1;
    }
    s->server = ctl_thread_start(s->sock, &cfg, &err);
    if (!s->server) {
        fprintf(stderr, "cannot start weird on a thread: %s\n", err.msg);
        suite_dir_remove(s);
        return -1;
    }
    return 0;
}

/* Stops the weird of 's' (if it still runs) and removes its directory. */
static inline void
weird_stop(struct suite *s)
{
    ctl_thread_stop(s->server);
    s->server = NULL;
    suite_dir_remove(s);
}

static inline int
setup_netlink(void **state)
{
    if (weird_start(&suite_netlink)) {
        return -1;
    }
    dpif_set_control_path(suite_netlink.sock);
    *state = &suite_netlink;
    return 0;
}

static inline int
teardown_suite(void **state)
{
    struct suite *s = *state;

    dpif_set_control_path(NULL);
    weird_stop(s);
    return 0;
}

/* ---- Helpers. ---- */

/* "l-" or "n-" + 'base', in a ring of 16 buffers: for arguments.  A
 * name kept longer goes in a variable of its own (NM()). */
static inline const char *
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

static inline void
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

static inline struct dpif *
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

static inline void
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

static inline void tflow(struct tflow *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline void
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

static inline void tacts(struct tacts *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline void
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

static inline struct dpif_ufid
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

static inline int
put(struct dpif *dpif, unsigned int flags, const struct tflow *f,
    const struct dpif_ufid *ufid, const struct tacts *a,
    struct dpif_flow_stats *stats)
{
    return dpif_flow_put(dpif, flags, f->key, f->key_len, f->mask,
                         f->mask_len, ufid, a ? a->a : NULL,
                         a ? a->len : 0, stats);
}

/* The key of a flow as the datapath names it. */
static inline void
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

static inline void
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

static inline void
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
static inline void
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

static inline void
tframe_udp(struct tframe *f, size_t len, uint32_t src, uint16_t sport)
{
    f->len = len;
    tu_udp_frame(f->data, len, src, 0x0a000002, sport, 2000);
}

static inline void
put32(FILE *f, uint32_t v)
{
    assert_int_equal(fwrite(&v, sizeof v, 1, f), 1);
}

/* Writes a pcap file (microsecond stamps, Ethernet) of 'n' frames. */
static inline void
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
static inline size_t
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
static inline uint32_t
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
static inline struct dpif_flow_stats
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


#define FLOW_A "in_port(5),eth(src=00:00:00:00:00:01,"                    \
               "dst=00:00:00:00:00:02),eth_type(0x0800),"                 \
               "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,"    \
               "frag=no),udp(src=1000,dst=2000)"


/* ---- Upcalls. ---- */

/* Executes 'frame' with a userspace(pid=PID,userdata(...)) action. */
static inline void
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
static inline void
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

#endif /* tests/unit/dpif-test-util.h */
