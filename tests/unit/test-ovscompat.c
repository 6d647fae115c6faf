/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the LD_PRELOAD shim's core (src/compat/ovscompat.h):
 * the test calls ovsc_socket(), ovsc_send(), ... itself, against a whole
 * weird (genl + control socket) that ctl_thread_start() runs on a thread
 * of this process, found through $WEIR_CONTROL as the shim finds it.
 * Nothing is interposed in this process, so plain socket(), setsockopt(),
 * ... are the kernel's: where the kernel's netlink socket has a rule the
 * shim copies (option checks, SO_RCVBUF figures, bind errors), the test
 * asks a real NETLINK_GENERIC socket and compares.
 *
 * What the kernel guarantees and Open vSwitch relies on is tested as Open
 * vSwitch does it: a non-blocking receive right after send() finds the
 * replies (never EAGAIN), a dump read with MSG_DONTWAIT runs to its
 * NLMSG_DONE without EAGAIN, an overflow is one ENOBUFS. */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/openvswitch.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>

#include "compat/ovscompat.h"
#include "daemon/ctl.h"
#include "genl/genl.h"
#include "lib/errbuf.h"
#include "weir/control.h"

#include "test-util.h"

#define BUFSZ 65536
#define N_FLOWS 3000

static struct ctl_thread *server;
static char dir[64];
static char sock_path[128];

/* The families and the datapath group, looked up by the first test that
 * needs them. */
static uint16_t fam_dp, fam_flow;
static uint32_t grp_dp, grp_flow;

/* ---- Helpers. ---- */

/* Asserts that 'expr' (an int or ssize_t call) fails with 'err'. */
#define assert_fails(EXPR, ERR)                                            \
    do {                                                                   \
        errno = 0;                                                         \
        long r_ = (long) (EXPR);                                           \
        int e_ = errno;                                                    \
        if (r_ != -1 || e_ != (ERR)) {                                     \
            fail_msg("%s:%d: %s = %ld (%s), want -1 (%s)", __FILE__,       \
                     __LINE__, #EXPR, r_, strerror(e_), strerror(ERR));    \
        }                                                                  \
    } while (0)

/* A new shim socket (SOCK_RAW | 'flags'). */
static int
nl_open(int flags)
{
    int fd = ovsc_socket(AF_NETLINK, SOCK_RAW | flags, NETLINK_GENERIC);

    assert_true(fd >= 0);
    assert_true(ovsc_is_tracked(fd));
    return fd;
}

/* The port id of 'fd' (0 if unbound). */
static uint32_t
nl_pid(int fd)
{
    struct sockaddr_nl nl;
    socklen_t len = sizeof nl;

    assert_int_equal(ovsc_getsockname(fd, (struct sockaddr *) &nl, &len), 0);
    assert_int_equal(len, sizeof nl);
    assert_int_equal(nl.nl_family, AF_NETLINK);
    return nl.nl_pid;
}

/* The netlink header at 'p' (a receive buffer). */
static struct nlmsghdr *
hdr(void *p)
{
    return p;
}

/* Starts a generic-netlink request in 'buf'; with 'ovs', a struct
 * ovs_header for datapath 'ifindex'. */
static struct nlmsghdr *
req_start(void *buf, uint16_t type, uint16_t flags, uint32_t seq,
          uint8_t cmd, bool ovs, int ifindex)
{
    struct nlmsghdr *nlh;
    struct genlmsghdr *g;

    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    nlh->nlmsg_seq = seq;
    g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
    g->cmd = cmd;
    g->version = 1;
    if (ovs) {
        struct ovs_header *oh = mnl_nlmsg_put_extra_header(nlh, sizeof *oh);

        oh->dp_ifindex = ifindex;
    }
    return nlh;
}

/* A CTRL_CMD_GETFAMILY request for 'name' in 'buf'. */
static struct nlmsghdr *
getfamily(void *buf, const char *name, uint32_t seq)
{
    struct nlmsghdr *nlh = req_start(buf, GENL_ID_CTRL, 0, seq,
                                     CTRL_CMD_GETFAMILY, false, 0);

    mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
    return nlh;
}

/* Sends the message at 'nlh' as one datagram. */
static void
send_msg(int fd, const struct nlmsghdr *nlh)
{
    assert_int_equal(ovsc_send(fd, nlh, nlh->nlmsg_len, 0),
                     (ssize_t) nlh->nlmsg_len);
}

/* Receives one datagram without waiting, as Open vSwitch reads replies
 * after a send: EAGAIN fails the test. */
static ssize_t
recv_now(int fd, void *buf, size_t size)
{
    ssize_t n = ovsc_recv(fd, buf, size, MSG_DONTWAIT);

    if (n < 0) {
        fail_msg("non-blocking receive: %s", strerror(errno));
    }
    assert_true(n >= (ssize_t) NLMSG_HDRLEN);
    return n;
}

/* Asserts that nothing is waiting on 'fd' (a non-blocking receive says
 * EAGAIN). */
static void
assert_empty(int fd)
{
    char buf[256];

    assert_fails(ovsc_recv(fd, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
}

struct family_info {
    uint16_t id;
    const char *group;          /* Wanted group name, or NULL. */
    uint32_t group_id;
};

/* Collects a multicast group's id from CTRL_ATTR_MCAST_GROUPS. */
static int
group_cb(const struct nlattr *a, void *fi_)
{
    struct family_info *fi = fi_;
    const struct nlattr *g;
    const char *name = NULL;
    uint32_t id = 0;

    mnl_attr_for_each_nested(g, a) {
        if (mnl_attr_get_type(g) == CTRL_ATTR_MCAST_GRP_NAME) {
            name = mnl_attr_get_str(g);
        } else if (mnl_attr_get_type(g) == CTRL_ATTR_MCAST_GRP_ID) {
            id = mnl_attr_get_u32(g);
        }
    }
    if (fi->group && name && !strcmp(name, fi->group)) {
        fi->group_id = id;
    }
    return MNL_CB_OK;
}

/* Reads a family's id and group out of a GETFAMILY reply's attribute. */
static int
family_cb(const struct nlattr *a, void *fi_)
{
    struct family_info *fi = fi_;
    const struct nlattr *g;

    if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID) {
        fi->id = mnl_attr_get_u16(a);
    } else if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GROUPS) {
        mnl_attr_for_each_nested(g, a) {
            group_cb(g, fi);
        }
    }
    return MNL_CB_OK;
}

/* Looks family 'name' up on 'fd' the way Open vSwitch does (send, then a
 * non-blocking receive): returns its id, and the id of 'group' in
 * '*group_id' if asked. */
static uint16_t
family(int fd, const char *name, const char *group, uint32_t *group_id)
{
    static uint32_t seq = 1000;
    uint64_t buf[BUFSZ / 8];
    struct family_info fi = { .group = group };
    const struct nlmsghdr *nlh;
    ssize_t n;

    send_msg(fd, getfamily(buf, name, ++seq));
    n = recv_now(fd, buf, sizeof buf);
    nlh = (const struct nlmsghdr *) buf;
    assert_true(mnl_nlmsg_ok(nlh, (int) n));
    assert_int_equal(nlh->nlmsg_type, GENL_ID_CTRL);
    assert_int_equal(nlh->nlmsg_seq, seq);
    mnl_attr_parse(nlh, GENL_HDRLEN, family_cb, &fi);
    assert_true(fi.id >= NLMSG_MIN_TYPE);
    if (group_id) {
        assert_true(fi.group_id > 0);
        *group_id = fi.group_id;
    }
    return fi.id;
}

/* Looks up the OVS families once. */
static void
families(void)
{
    int fd;

    if (fam_dp) {
        return;
    }
    fd = nl_open(0);
    fam_dp = family(fd, OVS_DATAPATH_FAMILY, OVS_DATAPATH_MCGROUP, &grp_dp);
    fam_flow = family(fd, OVS_FLOW_FAMILY, OVS_FLOW_MCGROUP, &grp_flow);
    assert_int_equal(ovsc_close(fd), 0);
}

/* Returns the error of the NLMSG_ERROR at 'nlh' (0: ACK), failing if it
 * is something else. */
static int
nl_error(const struct nlmsghdr *nlh)
{
    const struct nlmsgerr *e;

    assert_int_equal(nlh->nlmsg_type, NLMSG_ERROR);
    e = mnl_nlmsg_get_payload(nlh);
    return e->error;
}

/* Creates datapath 'name' on 'fd' and returns its ifindex (from the
 * reply, read without waiting). */
static int
dp_new(int fd, const char *name, uint32_t seq)
{
    uint64_t buf[BUFSZ / 8];
    struct nlmsghdr *nlh;
    const struct ovs_header *oh;
    int ifindex;

    nlh = req_start(buf, fam_dp, NLM_F_ACK | NLM_F_ECHO, seq,
                    OVS_DP_CMD_NEW, true, 0);
    mnl_attr_put_strz(nlh, OVS_DP_ATTR_NAME, name);
    mnl_attr_put_u32(nlh, OVS_DP_ATTR_UPCALL_PID, nl_pid(fd));
    send_msg(fd, nlh);
    recv_now(fd, buf, sizeof buf);
    nlh = hdr(buf);
    if (nlh->nlmsg_type == NLMSG_ERROR) {
        fail_msg("OVS_DP_CMD_NEW %s: %s", name, strerror(-nl_error(nlh)));
    }
    assert_int_equal(nlh->nlmsg_type, fam_dp);
    assert_int_equal(nlh->nlmsg_seq, seq);
    oh = (const struct ovs_header *) ((const char *) mnl_nlmsg_get_payload(nlh)
                                      + GENL_HDRLEN);
    ifindex = oh->dp_ifindex;
    /* Then its ACK, also already there. */
    recv_now(fd, buf, sizeof buf);
    assert_int_equal(nl_error(hdr(buf)), 0);
    return ifindex;
}

/* Deletes datapath 'name' on 'fd'; the ACK must be there at once. */
static void
dp_del(int fd, const char *name, uint32_t seq)
{
    uint64_t buf[BUFSZ / 8];
    struct nlmsghdr *nlh;

    nlh = req_start(buf, fam_dp, NLM_F_ACK, seq, OVS_DP_CMD_DEL, true, 0);
    mnl_attr_put_strz(nlh, OVS_DP_ATTR_NAME, name);
    send_msg(fd, nlh);
    recv_now(fd, buf, sizeof buf);
    assert_int_equal(nl_error(hdr(buf)), 0);
}

/* Appends to 'nlh' an OVS_FLOW_CMD_NEW of flow 'i' (in_port 0, a made-up
 * Ethernet source, ethertype 0x1234; no actions) for datapath 'ifindex'.
 * Returns the next free byte. */
static char *
put_flow(char *at, int ifindex, uint32_t i, uint32_t seq, uint16_t flags)
{
    struct nlmsghdr *nlh = req_start(at, fam_flow, flags, seq,
                                     OVS_FLOW_CMD_NEW, true, ifindex);
    struct ovs_key_ethernet eth = {
        .eth_src = { 0x02, 0, (uint8_t) (i >> 16), (uint8_t) (i >> 8),
                     (uint8_t) i, 1 },
        .eth_dst = { 0x02, 0, 0, 0, 0, 2 },
    };
    struct nlattr *key = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);

    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 0);
    mnl_attr_put(nlh, OVS_KEY_ATTR_ETHERNET, sizeof eth, &eth);
    mnl_attr_put_u16(nlh, OVS_KEY_ATTR_ETHERTYPE, htons(0x1234));
    mnl_attr_nest_end(nlh, key);
    mnl_attr_nest_end(nlh, mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_ACTIONS));
    return at + NLMSG_ALIGN(nlh->nlmsg_len);
}

/* Makes flows 'first' .. 'first' + n - 1 in datapath 'ifindex' on 'fd',
 * 50 to a datagram, the last of each acknowledged (read at once). */
static void
make_flows(int fd, int ifindex, uint32_t first, uint32_t n)
{
    static char out[BUFSZ];
    uint64_t buf[BUFSZ / 8];

    for (uint32_t i = first; i < first + n;) {
        char *at = out;
        uint32_t start = i;

        for (; i < first + n && i - start < 50; i++) {
            at = put_flow(at, ifindex, i, 10 + i,
                          i + 1 == first + n || i - start == 49 ? NLM_F_ACK
                                                                : 0);
        }
        assert_int_equal(ovsc_send(fd, out, (size_t) (at - out), 0),
                         at - out);
        recv_now(fd, buf, sizeof buf);
        assert_int_equal(nl_error(hdr(buf)), 0);
    }
    assert_empty(fd);
}

/* ---- Fixture. ---- */

static int
setup_suite(void **state)
{
    struct genl_config cfg = { .local_type = "dummy" };
    cpu_set_t all_cpus, cpus[2];
    bool pinned = false;
    struct errbuf err;

    (void) state;
    errbuf_clear(&err);
    snprintf(dir, sizeof dir, "/tmp/weir-ovsc-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(sock_path, sizeof sock_path, "%s/weird.sock", dir);
    /* weird's thread on one CPU, the test on another where there are
     * two: then nothing but the shim's waits makes a reply be there when
     * send returns (on one CPU, the woken weird thread usually runs
     * before the sender goes on, and the rules would go untested). */
    if (sched_getaffinity(0, sizeof all_cpus, &all_cpus) == 0
        && CPU_COUNT(&all_cpus) >= 2) {
        for (int c = 0, n = 0; c < CPU_SETSIZE && n < 2; c++) {
            if (CPU_ISSET(c, &all_cpus)) {
                CPU_ZERO(&cpus[n]);
                CPU_SET(c, &cpus[n]);
                n++;
            }
        }
        pinned = sched_setaffinity(0, sizeof cpus[0], &cpus[0]) == 0;
    }
    server = ctl_thread_start(sock_path, &cfg, &err);
    if (pinned) {
        sched_setaffinity(0, sizeof cpus[1], &cpus[1]);
    }
    if (!server) {
        fprintf(stderr, "cannot start weird: %s\n", err.msg);
        rmdir(dir);
        return -1;
    }
    setenv(WEIR_CONTROL_ENV, sock_path, 1);
    return 0;
}

static int
teardown_suite(void **state)
{
    (void) state;
    ctl_thread_stop(server);
    unlink(sock_path);
    rmdir(dir);
    return 0;
}

/* ---- Tests. ---- */

/* Only NETLINK_GENERIC sockets are the shim's; the rest are the kernel's,
 * untouched. */
static void
test_socket_selection(void **state)
{
    int route, inet, gen, dgram, v;
    socklen_t len = sizeof v;

    (void) state;
    route = ovsc_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    assert_true(route >= 0);
    assert_false(ovsc_is_tracked(route));
    /* The kernel's own socket, asked through libc. */
    assert_int_equal(getsockopt(route, SOL_SOCKET, SO_PROTOCOL, &v, &len), 0);
    assert_int_equal(v, NETLINK_ROUTE);
    len = sizeof v;
    assert_int_equal(getsockopt(route, SOL_SOCKET, SO_DOMAIN, &v, &len), 0);
    assert_int_equal(v, AF_NETLINK);
    assert_int_equal(ovsc_close(route), 0);

    inet = ovsc_socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(inet >= 0);
    assert_false(ovsc_is_tracked(inet));
    assert_int_equal(ovsc_close(inet), 0);

    /* NETLINK_GENERIC: an AF_UNIX socket underneath, a netlink socket to
     * getsockopt. */
    gen = nl_open(SOCK_CLOEXEC);
    len = sizeof v;
    assert_int_equal(getsockopt(gen, SOL_SOCKET, SO_DOMAIN, &v, &len), 0);
    assert_int_equal(v, AF_UNIX);
    len = sizeof v;
    assert_int_equal(ovsc_getsockopt(gen, SOL_SOCKET, SO_DOMAIN, &v, &len),
                     0);
    assert_int_equal(v, AF_NETLINK);
    len = sizeof v;
    assert_int_equal(ovsc_getsockopt(gen, SOL_SOCKET, SO_PROTOCOL, &v, &len),
                     0);
    assert_int_equal(v, NETLINK_GENERIC);
    len = sizeof v;
    assert_int_equal(ovsc_getsockopt(gen, SOL_SOCKET, SO_TYPE, &v, &len), 0);
    assert_int_equal(v, SOCK_RAW);
    assert_true(fcntl(gen, F_GETFD) & FD_CLOEXEC);
    assert_false(fcntl(gen, F_GETFL) & O_NONBLOCK);

    dgram = ovsc_socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK,
                        NETLINK_GENERIC);
    assert_true(dgram >= 0);
    len = sizeof v;
    assert_int_equal(ovsc_getsockopt(dgram, SOL_SOCKET, SO_TYPE, &v, &len),
                     0);
    assert_int_equal(v, SOCK_DGRAM);
    assert_true(fcntl(dgram, F_GETFL) & O_NONBLOCK);
    assert_false(fcntl(dgram, F_GETFD) & FD_CLOEXEC);

    /* Unbound: nothing to receive, and no waiting for it. */
    assert_empty(dgram);
    assert_int_equal(ovsc_close(dgram), 0);
    assert_int_equal(ovsc_close(gen), 0);
}

/* weird out of reach: socket() fails with the reason. */
static void
test_unreachable(void **state)
{
    (void) state;
    setenv(WEIR_CONTROL_ENV, "/tmp/weir-ovsc-nonexistent/weird.sock", 1);
    assert_fails(ovsc_socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC), ENOENT);
    setenv(WEIR_CONTROL_ENV, sock_path, 1);
}

/* The SOL_SOCKET options a netlink program sets, as getsockopt reads
 * them. */
struct sock_opts {
    int rcvbuf, sndbuf, passcred;
    struct timeval rcvtimeo, sndtimeo;
};

/* Sets unusual values of the options of struct sock_opts on 'fd': a
 * receive buffer past net.core.rmem_max (SO_RCVBUFFORCE, where the test
 * may; else SO_RCVBUF), a send buffer, both timeouts, SO_PASSCRED. */
static void
set_opts(int fd)
{
    struct timeval rt = { 3, 250000 }, st = { 7, 0 };
    int big = 3 << 20, snd = 90000, one = 1;

    if (ovsc_setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big)) {
        big = 150000;
        assert_int_equal(ovsc_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big,
                                         sizeof big), 0);
    }
    assert_int_equal(ovsc_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd,
                                     sizeof snd), 0);
    assert_int_equal(ovsc_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rt,
                                     sizeof rt), 0);
    assert_int_equal(ovsc_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &st,
                                     sizeof st), 0);
    assert_int_equal(ovsc_setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one,
                                     sizeof one), 0);
}

/* Reads the options of struct sock_opts of 'fd'. */
static void
get_opts(int fd, struct sock_opts *o)
{
    socklen_t len;

    memset(o, 0, sizeof *o);
    len = sizeof o->rcvbuf;
    assert_int_equal(ovsc_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf,
                                     &len), 0);
    len = sizeof o->sndbuf;
    assert_int_equal(ovsc_getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf,
                                     &len), 0);
    len = sizeof o->passcred;
    assert_int_equal(ovsc_getsockopt(fd, SOL_SOCKET, SO_PASSCRED,
                                     &o->passcred, &len), 0);
    len = sizeof o->rcvtimeo;
    assert_int_equal(ovsc_getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO,
                                     &o->rcvtimeo, &len), 0);
    len = sizeof o->sndtimeo;
    assert_int_equal(ovsc_getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO,
                                     &o->sndtimeo, &len), 0);
}

/* bind with a chosen port id, its clash and a retry on the same fd;
 * getsockname before and after; rebinding as the kernel allows it. */
static void
test_bind(void **state)
{
    struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
    uint32_t pid = 0x7e57000 + (uint32_t) getpid() % 4096;
    struct sock_opts before, after;
    int a, b, k;

    (void) state;
    a = nl_open(0);
    b = nl_open(SOCK_NONBLOCK);
    assert_int_equal(nl_pid(a), 0);

    nl.nl_pid = pid;
    assert_int_equal(ovsc_bind(a, (struct sockaddr *) &nl, sizeof nl), 0);
    assert_int_equal(nl_pid(a), pid);
    /* Bound: the same id again is fine, another is not (kernel). */
    assert_int_equal(ovsc_bind(a, (struct sockaddr *) &nl, sizeof nl), 0);
    nl.nl_pid = pid + 1;
    assert_fails(ovsc_bind(a, (struct sockaddr *) &nl, sizeof nl), EINVAL);

    /* The clash; then the same fd binds to a free id, still
     * non-blocking and with the options it had (the shim gives the fd a
     * new connection: they must be copied to it). */
    set_opts(b);
    get_opts(b, &before);
    nl.nl_pid = pid;
    assert_fails(ovsc_bind(b, (struct sockaddr *) &nl, sizeof nl),
                 EADDRINUSE);
    assert_true(ovsc_is_tracked(b));
    assert_int_equal(nl_pid(b), 0);
    get_opts(b, &after);
    assert_memory_equal(&before, &after, sizeof before);
    nl.nl_pid = pid + 2;
    assert_int_equal(ovsc_bind(b, (struct sockaddr *) &nl, sizeof nl), 0);
    assert_int_equal(nl_pid(b), pid + 2);
    assert_true(fcntl(b, F_GETFL) & O_NONBLOCK);
    get_opts(b, &after);
    assert_memory_equal(&before, &after, sizeof before);
    families();
    assert_int_equal(family(b, OVS_FLOW_FAMILY, NULL, NULL), fam_flow);

    /* Bad addresses, as the kernel says. */
    nl.nl_family = AF_INET;
    assert_fails(ovsc_bind(a, (struct sockaddr *) &nl, sizeof nl), EINVAL);
    nl.nl_family = AF_NETLINK;
    assert_fails(ovsc_bind(a, (struct sockaddr *) &nl, sizeof nl - 1),
                 EINVAL);
    k = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
    assert_true(k >= 0);
    assert_fails(bind(k, (struct sockaddr *) &nl, sizeof nl - 1), EINVAL);
    close(k);

    assert_int_equal(ovsc_close(a), 0);
    assert_int_equal(ovsc_close(b), 0);
}

/* connect() to the kernel binds (autobind); to another port id it is
 * accepted and sends are refused, as the kernel does with an id nobody
 * has; AF_UNSPEC undoes it. */
static void
test_connect(void **state)
{
    struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
    struct sockaddr_nl peer;
    socklen_t len = sizeof peer;
    uint64_t buf[BUFSZ / 8];
    struct sockaddr sa = { .sa_family = AF_UNSPEC };
    int fd;

    (void) state;
    families();
    fd = nl_open(0);
    assert_int_equal(ovsc_connect(fd, (struct sockaddr *) &nl, sizeof nl),
                     0);
    assert_int_not_equal(nl_pid(fd), 0);
    assert_int_equal(ovsc_getpeername(fd, (struct sockaddr *) &peer, &len),
                     0);
    assert_int_equal(peer.nl_pid, 0);

    if (geteuid()) {
        /* Naming a destination needs CAP_NET_ADMIN; the rest is root's. */
        nl.nl_pid = 777777;
        assert_fails(ovsc_connect(fd, (struct sockaddr *) &nl, sizeof nl),
                     EPERM);
        assert_int_equal(ovsc_close(fd), 0);
        return;
    }
    nl.nl_pid = 777777;
    assert_int_equal(ovsc_connect(fd, (struct sockaddr *) &nl, sizeof nl),
                     0);
    len = sizeof peer;
    assert_int_equal(ovsc_getpeername(fd, (struct sockaddr *) &peer, &len),
                     0);
    assert_int_equal(peer.nl_pid, 777777);
    getfamily(buf, OVS_FLOW_FAMILY, 5);
    assert_fails(ovsc_send(fd, buf, hdr(buf)->nlmsg_len, 0),
                 ECONNREFUSED);
    /* sendto() the kernel overrides the connected destination. */
    nl.nl_pid = 0;
    assert_int_equal(ovsc_sendto(fd, buf, hdr(buf)->nlmsg_len,
                                 0, (struct sockaddr *) &nl, sizeof nl),
                     hdr(buf)->nlmsg_len);
    recv_now(fd, buf, sizeof buf);
    nl.nl_pid = 4242;
    assert_fails(ovsc_sendto(fd, buf, NLMSG_HDRLEN, 0,
                             (struct sockaddr *) &nl, sizeof nl),
                 ECONNREFUSED);
    assert_fails(ovsc_sendto(fd, buf, NLMSG_HDRLEN, 0,
                             (struct sockaddr *) &nl, sizeof nl - 2),
                 EINVAL);

    assert_int_equal(ovsc_connect(fd, &sa, sizeof sa), 0);
    assert_int_equal(family(fd, OVS_FLOW_FAMILY, NULL, NULL), fam_flow);
    assert_int_equal(ovsc_close(fd), 0);
}

/* A send binds the socket, and its reply is queued when send returns:
 * a non-blocking receive gets it, poll says readable at once.  The
 * receive fills msg_name as the kernel does. */
static void
test_transaction(void **state)
{
    uint64_t buf[BUFSZ / 8];
    struct sockaddr_nl from;
    struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
    struct msghdr msg = {
        .msg_name = &from, .msg_namelen = sizeof from,
        .msg_iov = &iov, .msg_iovlen = 1,
    };
    struct nlmsghdr *nlh;
    ssize_t n;
    int fd;

    (void) state;
    fd = nl_open(SOCK_NONBLOCK);
    nlh = getfamily(buf, OVS_DATAPATH_FAMILY, 77);
    send_msg(fd, nlh);
    assert_int_not_equal(nl_pid(fd), 0);
    assert_true(tu_fd_readable(fd, 0));
    memset(&from, 0xff, sizeof from);
    n = ovsc_recvmsg(fd, &msg, 0);
    assert_true(n > (ssize_t) NLMSG_HDRLEN);
    assert_int_equal(msg.msg_namelen, sizeof from);
    assert_int_equal(from.nl_family, AF_NETLINK);
    assert_int_equal(from.nl_pid, 0);
    assert_int_equal(from.nl_groups, 0);
    assert_int_equal(nlh->nlmsg_seq, 77);
    assert_int_equal(nlh->nlmsg_pid, nl_pid(fd));
    assert_empty(fd);

    /* sendmsg() with no name but a name length: the kernel ignores the
     * length. */
    {
        struct iovec siov;
        struct msghdr smsg = { .msg_iov = &siov, .msg_iovlen = 1,
                               .msg_namelen = sizeof(struct sockaddr_nl) };

        nlh = getfamily(buf, OVS_FLOW_FAMILY, 80);
        siov = (struct iovec) { .iov_base = nlh, .iov_len = nlh->nlmsg_len };
        assert_int_equal(ovsc_sendmsg(fd, &smsg, 0), nlh->nlmsg_len);
        recv_now(fd, buf, sizeof buf);
        assert_int_equal(nlh->nlmsg_seq, 80);
        assert_empty(fd);
    }

    /* write() and read() are send() and recv(). */
    nlh = getfamily(buf, OVS_FLOW_FAMILY, 78);
    assert_int_equal(ovsc_write(fd, nlh, nlh->nlmsg_len), nlh->nlmsg_len);
    n = ovsc_read(fd, buf, sizeof buf);
    assert_true(n > (ssize_t) NLMSG_HDRLEN);
    assert_int_equal(nlh->nlmsg_seq, 78);
    assert_fails(ovsc_read(fd, buf, sizeof buf), EAGAIN);

    /* An unknown family: the error is there at once too. */
    nlh = getfamily(buf, "no_such_family", 79);
    nlh->nlmsg_flags |= NLM_F_ACK;
    send_msg(fd, nlh);
    recv_now(fd, buf, sizeof buf);
    assert_int_equal(nl_error(nlh), -ENOENT);
    assert_empty(fd);
    assert_int_equal(ovsc_close(fd), 0);
}

/* Several requests in one datagram (as Open vSwitch batches them with
 * sendmsg): every reply and ACK is queued when sendmsg returns. */
static void
test_batch(void **state)
{
    static char out[BUFSZ];
    uint64_t buf[BUFSZ / 8];
    struct iovec iov[40];
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 40 };
    char *at = out;
    int acks = 0, fd, ifindex;

    (void) state;
    families();
    fd = nl_open(0);
    ifindex = dp_new(fd, "ovsc-batch", 1);
    for (uint32_t i = 0; i < 40; i++) {
        char *next = put_flow(at, ifindex, i, 100 + i, NLM_F_ACK);

        iov[i].iov_base = at;
        iov[i].iov_len = (size_t) (next - at);
        at = next;
    }
    assert_int_equal(ovsc_sendmsg(fd, &msg, 0), at - out);
    while (acks < 40) {
        struct nlmsghdr *nlh = hdr(buf);

        recv_now(fd, buf, sizeof buf);
        assert_int_equal(nl_error(nlh), 0);
        assert_int_equal(nlh->nlmsg_seq, 100 + (uint32_t) acks);
        acks++;
    }
    assert_empty(fd);

    /* sendmmsg() and recvmmsg(): two datagrams each way. */
    {
        struct mmsghdr mv[2];
        struct iovec io[2], ii[2];
        static char in[2][4096];

        memset(mv, 0, sizeof mv);
        for (int i = 0; i < 2; i++) {
            io[i] = iov[i];
            mv[i].msg_hdr.msg_iov = &io[i];
            mv[i].msg_hdr.msg_iovlen = 1;
        }
        /* The same flows again: updated (no NLM_F_EXCL), ACKed. */
        assert_int_equal(ovsc_sendmmsg(fd, mv, 2, 0), 2);
        memset(mv, 0, sizeof mv);
        for (int i = 0; i < 2; i++) {
            ii[i].iov_base = in[i];
            ii[i].iov_len = sizeof in[i];
            mv[i].msg_hdr.msg_iov = &ii[i];
            mv[i].msg_hdr.msg_iovlen = 1;
        }
        assert_int_equal(ovsc_recvmmsg(fd, mv, 2, MSG_DONTWAIT, NULL), 2);
        assert_int_equal(nl_error(hdr(in[0])), 0);
        assert_int_equal(nl_error(hdr(in[1])), 0);
        assert_int_equal(hdr(in[1])->nlmsg_seq, 101);
    }
    dp_del(fd, "ovsc-batch", 2);
    assert_int_equal(ovsc_close(fd), 0);
}

/* Rule 1's other half: one datagram whose replies are more than the
 * socket holds (2000 ACKs, each a datagram of its own: several hundred
 * KiB of socket space, within weird's reply budget) cannot get its sync
 * until the program reads, so send returns when the socket becomes
 * readable, not after the 10 s bound; every ACK then arrives, read
 * without waiting. */
static void
test_send_readable(void **state)
{
    enum { N = 2000 };
    static struct nlmsghdr out[N];
    uint64_t buf[4096 / 8];
    uint64_t t0;
    int fd, acks = 0;

    (void) state;
    fd = nl_open(0);
    for (uint32_t i = 0; i < N; i++) {
        out[i] = (struct nlmsghdr) {
            .nlmsg_len = sizeof out[i], .nlmsg_type = NLMSG_NOOP,
            .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = i + 1,
        };
    }
    t0 = tu_now_ms();
    assert_int_equal(ovsc_send(fd, out, sizeof out, 0), sizeof out);
    assert_true(tu_now_ms() - t0 < 2000);
    while (acks < N) {
        recv_now(fd, buf, sizeof buf);
        assert_int_equal(nl_error(hdr(buf)), 0);
        assert_int_equal(hdr(buf)->nlmsg_seq, (uint32_t) acks + 1);
        acks++;
    }
    assert_empty(fd);
    assert_true(tu_now_ms() - t0 < 4000);
    assert_int_equal(ovsc_close(fd), 0);
}

/* Sends OVS_FLOW_CMD_GET with NLM_F_DUMP for datapath 'ifindex'. */
static void
dump_start(int fd, int ifindex, uint32_t seq)
{
    uint64_t buf[256];

    send_msg(fd, req_start(buf, fam_flow, NLM_F_DUMP | NLM_F_ACK, seq,
                           OVS_FLOW_CMD_GET, true, ifindex));
}

/* Counts the flow messages of a dump read as Open vSwitch's
 * nl_dump_refill() reads it: MSG_DONTWAIT, EAGAIN ends it.  Returns the
 * count; '*done' says whether NLMSG_DONE was seen. */
static int
dump_read(int fd, uint32_t seq, size_t bufsize, bool *done)
{
    static uint64_t buf[BUFSZ / 8];
    int flows = 0;

    *done = false;
    for (;;) {
        ssize_t n = ovsc_recv(fd, buf, bufsize, MSG_DONTWAIT);
        const struct nlmsghdr *nlh = (const struct nlmsghdr *) buf;
        int len = (int) n;

        if (n < 0) {
            assert_int_equal(errno, EAGAIN);
            return flows;
        }
        for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
            assert_int_equal(nlh->nlmsg_seq, seq);
            if (nlh->nlmsg_type == NLMSG_DONE) {
                *done = true;
                return flows;
            }
            assert_int_equal(nlh->nlmsg_type, fam_flow);
            flows++;
        }
    }
}

/* A dump far larger than the socket holds, read non-blocking to its end
 * without ever seeing EAGAIN (rule 3); then a dump that fails to start
 * (its NLMSG_ERROR ends it). */
static void
test_big_dump(void **state)
{
    uint64_t buf[BUFSZ / 8];
    int fd, ifindex;
    bool done;

    (void) state;
    families();
    fd = nl_open(0);
    ifindex = dp_new(fd, "ovsc-dump", 1);
    make_flows(fd, ifindex, 0, N_FLOWS);

    dump_start(fd, ifindex, 5000);
    assert_int_equal(dump_read(fd, 5000, sizeof buf, &done), N_FLOWS);
    assert_true(done);
    assert_empty(fd);

    /* Twice, to be sure the socket holds no leftover. */
    dump_start(fd, ifindex, 5001);
    assert_int_equal(dump_read(fd, 5001, sizeof buf, &done), N_FLOWS);
    assert_true(done);

    /* A dump of a datapath that does not exist: its NLMSG_DONE carries
     * the error; of a family that does not exist: NLMSG_ERROR ends it. */
    dump_start(fd, 999999, 5002);
    recv_now(fd, buf, sizeof buf);
    assert_int_equal(hdr(buf)->nlmsg_seq, 5002);
    assert_int_equal(hdr(buf)->nlmsg_type, NLMSG_DONE);
    assert_empty(fd);
    send_msg(fd, req_start(buf, 0x7ff0, NLM_F_DUMP, 5003, 1, false, 0));
    recv_now(fd, buf, sizeof buf);
    assert_int_equal(hdr(buf)->nlmsg_seq, 5003);
    assert_int_equal(nl_error(hdr(buf)), -ENOENT);
    assert_empty(fd);

    dp_del(fd, "ovsc-dump", 2);
    assert_int_equal(ovsc_close(fd), 0);
}

/* MSG_PEEK|MSG_TRUNC gives the datagram's length and leaves it; a short
 * buffer truncates (MSG_TRUNC in msg_flags) and drops the rest, as
 * netlink does; with a dump open, a truncating reader still sees its
 * end. */
static void
test_peek_trunc(void **state)
{
    uint64_t buf[BUFSZ / 8];
    char small[16];
    char mid[40];
    struct iovec iov = { .iov_base = small, .iov_len = sizeof small };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    ssize_t len, n;
    int fd, ifindex, parts = 0;

    (void) state;
    families();
    fd = nl_open(0);
    send_msg(fd, getfamily(buf, OVS_DATAPATH_FAMILY, 9));
    len = ovsc_recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    assert_true(len > (ssize_t) sizeof small);
    assert_int_equal(ovsc_recv(fd, small, 1, MSG_PEEK | MSG_TRUNC), len);
    assert_int_equal(ovsc_recv(fd, small, sizeof small, MSG_PEEK),
                     sizeof small);
    n = ovsc_recvmsg(fd, &msg, MSG_DONTWAIT);
    assert_int_equal(n, sizeof small);
    assert_true(msg.msg_flags & MSG_TRUNC);
    assert_int_equal(hdr(small)->nlmsg_len, len);
    assert_empty(fd);

    /* With MSG_TRUNC asked, the length is the datagram's. */
    send_msg(fd, getfamily(buf, OVS_DATAPATH_FAMILY, 10));
    assert_int_equal(ovsc_recv(fd, small, sizeof small,
                               MSG_TRUNC | MSG_DONTWAIT), len);
    assert_empty(fd);

    /* A dump read 16 bytes at a time: every part truncated, and the end
     * still seen, so the next receive does not wait. */
    ifindex = dp_new(fd, "ovsc-peek", 11);
    for (uint32_t i = 0; i < 200; i++) {
        char *at = put_flow((char *) buf, ifindex, i, 20 + i, 0);

        assert_int_equal(ovsc_send(fd, buf, (size_t) (at - (char *) buf), 0),
                         at - (char *) buf);
    }
    dump_start(fd, ifindex, 12);
    for (;;) {
        int64_t t0 = (int64_t) tu_now_ms();

        n = ovsc_recvmsg(fd, &msg, MSG_DONTWAIT);
        if (n < 0) {
            assert_int_equal(errno, EAGAIN);
            /* Not after waiting out the bounded wait. */
            assert_true((int64_t) tu_now_ms() - t0 < 1000);
            break;
        }
        assert_int_equal(hdr(small)->nlmsg_seq, 12);
        parts++;
    }
    assert_true(parts >= 2);

    /* A dump that ends in a message longer than a buffer that holds an
     * NLMSG_OVERRUN (so that only the open dump makes the shim read
     * through its bounce buffer): the NLMSG_ERROR of a dump that cannot
     * start, echoing its request.  (weird's NLMSG_DONE of a flow dump
     * comes alone, 20 bytes, which such a buffer holds.)  The end is
     * seen only through the bounce buffer; the next receive does not
     * wait. */
    iov.iov_base = mid;
    iov.iov_len = sizeof mid;
    {
        struct nlmsghdr *req = req_start(buf, 0x7ff0, NLM_F_DUMP, 15, 1,
                                         false, 0);
        int64_t t0;

        mnl_attr_put_strz(req, 1, "long enough to be truncated");
        send_msg(fd, req);
        n = ovsc_recvmsg(fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
        assert_true(n > (ssize_t) sizeof mid);
        assert_true(msg.msg_flags & MSG_TRUNC);
        assert_int_equal(hdr(mid)->nlmsg_seq, 15);
        assert_int_equal(hdr(mid)->nlmsg_type, NLMSG_ERROR);
        t0 = (int64_t) tu_now_ms();
        assert_fails(ovsc_recvmsg(fd, &msg, MSG_DONTWAIT), EAGAIN);
        assert_true((int64_t) tu_now_ms() - t0 < 1000);
    }
    dp_del(fd, "ovsc-peek", 13);
    assert_int_equal(ovsc_close(fd), 0);
}

/* Socket options as the kernel checks them, and read back. */
static void
test_sockopts(void **state)
{
    static const int sizes[] = { 0, 1, 1000, 3000, 100000, 1 << 22,
                                 1 << 24, -5 };
    int fd, k, v, w;
    socklen_t len;
    uint32_t groups[4];
    char one = 1;

    (void) state;
    fd = nl_open(0);
    k = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
    assert_true(k >= 0);

    /* SO_RCVBUF and SO_RCVBUFFORCE read back as the kernel's. */
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (int force = 0; force < 2; force++) {
            int name = force ? SO_RCVBUFFORCE : SO_RCVBUF;

            assert_int_equal(setsockopt(k, SOL_SOCKET, name, &sizes[i],
                                        sizeof sizes[i]), 0);
            assert_int_equal(ovsc_setsockopt(fd, SOL_SOCKET, name, &sizes[i],
                                             sizeof sizes[i]), 0);
            len = sizeof v;
            assert_int_equal(getsockopt(k, SOL_SOCKET, SO_RCVBUF, &v, &len),
                             0);
            len = sizeof w;
            assert_int_equal(ovsc_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &w,
                                             &len), 0);
            assert_int_equal(w, v);
        }
    }
    assert_fails(setsockopt(k, SOL_SOCKET, SO_RCVBUF, &one, 1), EINVAL);
    assert_fails(ovsc_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, 1),
                 EINVAL);

    /* SOL_NETLINK flags: set, read back, a short value clears. */
    v = 1;
    assert_int_equal(ovsc_setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &v,
                                     sizeof v), 0);
    assert_int_equal(ovsc_setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &v,
                                     sizeof v), 0);
    assert_int_equal(ovsc_setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK,
                                     &v, sizeof v), 0);
    len = sizeof w;
    assert_int_equal(ovsc_getsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &w,
                                     &len), 0);
    assert_int_equal(w, 1);
    assert_int_equal(len, sizeof w);
    assert_int_equal(ovsc_setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
                                     1), 0);
    assert_int_equal(setsockopt(k, SOL_NETLINK, NETLINK_EXT_ACK, &one, 1), 0);
    len = sizeof w;
    assert_int_equal(ovsc_getsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &w,
                                     &len), 0);
    assert_int_equal(w, 0);
    len = sizeof v;
    assert_int_equal(getsockopt(k, SOL_NETLINK, NETLINK_EXT_ACK, &v, &len),
                     0);
    assert_int_equal(v, 0);
    len = 2;
    assert_fails(ovsc_getsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &w, &len),
                 EINVAL);
    len = 2;
    assert_fails(getsockopt(k, SOL_NETLINK, NETLINK_CAP_ACK, &w, &len),
                 EINVAL);

    /* Unknown options and levels. */
    v = 1;
    assert_fails(ovsc_setsockopt(fd, SOL_NETLINK, 99, &v, sizeof v),
                 ENOPROTOOPT);
    assert_fails(setsockopt(k, SOL_NETLINK, 99, &v, sizeof v), ENOPROTOOPT);
    assert_fails(ovsc_setsockopt(fd, SOL_IP, IP_TTL, &v, sizeof v),
                 ENOPROTOOPT);
    assert_fails(setsockopt(k, SOL_IP, IP_TTL, &v, sizeof v), ENOPROTOOPT);
    len = sizeof v;
    assert_fails(ovsc_getsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, &len),
                 ENOPROTOOPT);

    /* Memberships: none listed on a fresh socket; group 0 refused, but
     * the groups have room from then on (both). */
    len = sizeof groups;
    assert_int_equal(getsockopt(k, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS,
                                groups, &len), 0);
    assert_int_equal(len, 0);
    len = sizeof groups;
    assert_int_equal(ovsc_getsockopt(fd, SOL_NETLINK,
                                     NETLINK_LIST_MEMBERSHIPS, groups, &len),
                     0);
    assert_int_equal(len, 0);
    v = 0;
    assert_fails(ovsc_setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &v,
                                 sizeof v), EINVAL);
    assert_fails(setsockopt(k, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &v,
                            sizeof v), EINVAL);
    len = sizeof groups;
    assert_int_equal(getsockopt(k, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS,
                                groups, &len), 0);
    assert_true(len >= 8);
    len = sizeof groups;
    assert_int_equal(ovsc_getsockopt(fd, SOL_NETLINK,
                                     NETLINK_LIST_MEMBERSHIPS, groups, &len),
                     0);
    assert_int_equal(len, 8);
    v = 35;
    assert_int_equal(ovsc_setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
                                     &v, sizeof v), 0);
    memset(groups, 0, sizeof groups);
    len = sizeof groups;
    assert_int_equal(ovsc_getsockopt(fd, SOL_NETLINK,
                                     NETLINK_LIST_MEMBERSHIPS, groups, &len),
                     0);
    assert_int_equal(len, 8);
    assert_int_equal(groups[0], 0);
    assert_int_equal(groups[1], 1u << 2);

    /* Set before binding, in force after: the socket works. */
    families();
    assert_int_equal(family(fd, OVS_VPORT_FAMILY, NULL, NULL) > 0, 1);
    assert_int_equal(ovsc_setsockopt(fd, SOL_NETLINK, NETLINK_DROP_MEMBERSHIP,
                                     &v, sizeof v), 0);
    len = sizeof groups;
    assert_int_equal(ovsc_getsockopt(fd, SOL_NETLINK,
                                     NETLINK_LIST_MEMBERSHIPS, groups, &len),
                     0);
    assert_int_equal(groups[1], 0);

    /* SOL_SOCKET options that are not the shim's: the socket's. */
    v = 65536;
    assert_int_equal(ovsc_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v),
                     0);
    len = sizeof w;
    assert_int_equal(ovsc_getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &w, &len), 0);
    assert_int_equal(w, 2 * 65536);
    close(k);
    assert_int_equal(ovsc_close(fd), 0);
}

/* Extended ACKs and capped ACKs reach weird: the error of a bad request
 * carries a message with NETLINK_EXT_ACK, the request without
 * NETLINK_CAP_ACK. */
static void
test_ext_ack(void **state)
{
    uint64_t buf[BUFSZ / 8];
    struct nlmsghdr *nlh;
    int fd, one = 1;

    (void) state;
    families();
    fd = nl_open(0);
    /* Set before the socket is bound: sent with HELLO. */
    assert_int_equal(ovsc_setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
                                     sizeof one), 0);
    nlh = req_start(buf, fam_dp, NLM_F_ACK, 3, OVS_DP_CMD_NEW, true, 0);
    send_msg(fd, nlh);      /* No name: refused. */
    recv_now(fd, buf, sizeof buf);
    nlh = hdr(buf);
    assert_true(nl_error(nlh) < 0);
    assert_true(nlh->nlmsg_flags & NLM_F_ACK_TLVS);
    assert_false(nlh->nlmsg_flags & NLM_F_CAPPED);

    assert_int_equal(ovsc_setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one,
                                     sizeof one), 0);
    nlh = req_start(buf, fam_dp, NLM_F_ACK, 4, OVS_DP_CMD_NEW, true, 0);
    send_msg(fd, nlh);
    recv_now(fd, buf, sizeof buf);
    nlh = hdr(buf);
    assert_true(nl_error(nlh) < 0);
    assert_true(nlh->nlmsg_flags & NLM_F_CAPPED);
    assert_int_equal(ovsc_close(fd), 0);
}

/* Multicast: a member gets the datapath group's notifications, made by
 * another socket; after DROP_MEMBERSHIP it gets none. */
static void
test_membership(void **state)
{
    uint64_t buf[BUFSZ / 8];
    struct nlmsghdr *nlh = hdr(buf);
    struct sockaddr_nl nl;
    socklen_t len = sizeof nl;
    int a, m, g;

    (void) state;
    families();
    a = nl_open(0);
    m = nl_open(SOCK_NONBLOCK);
    g = (int) grp_dp;
    assert_int_equal(ovsc_setsockopt(m, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
                                     &g, sizeof g), 0);
    /* Bind after: the membership goes with HELLO; getsockname shows the
     * groups up to 32. */
    memset(&nl, 0, sizeof nl);
    nl.nl_family = AF_NETLINK;
    if (grp_dp <= 32) {
        nl.nl_groups = 1u << (grp_dp - 1);
    }
    assert_int_equal(ovsc_bind(m, (struct sockaddr *) &nl, sizeof nl), 0);
    assert_int_equal(ovsc_getsockname(m, (struct sockaddr *) &nl, &len), 0);
    assert_int_equal(nl.nl_groups, grp_dp <= 32 ? 1u << (grp_dp - 1) : 0);

    dp_new(a, "ovsc-mc1", 1);
    assert_true(tu_fd_readable(m, 2000));
    recv_now(m, buf, sizeof buf);
    assert_int_equal(nlh->nlmsg_type, fam_dp);
    assert_int_equal(((struct genlmsghdr *) mnl_nlmsg_get_payload(nlh))->cmd,
                     OVS_DP_CMD_NEW);
    assert_empty(m);

    assert_int_equal(ovsc_setsockopt(m, SOL_NETLINK, NETLINK_DROP_MEMBERSHIP,
                                     &g, sizeof g), 0);
    dp_del(a, "ovsc-mc1", 2);
    assert_false(tu_fd_readable(m, 300));
    assert_empty(m);
    assert_int_equal(ovsc_close(a), 0);
    assert_int_equal(ovsc_close(m), 0);
}

/* Reads 'fd' (with MSG_PEEK first if 'peek') until it stays empty for
 * 300 ms; returns the datagrams read and counts ENOBUFS in '*enobufs'. */
static int
drain_count(int fd, bool peek, int *enobufs)
{
    uint64_t buf[BUFSZ / 8];
    int msgs = 0;

    *enobufs = 0;
    for (;;) {
        ssize_t n = ovsc_recv(fd, buf, sizeof buf,
                              MSG_DONTWAIT | (peek ? MSG_PEEK : 0));

        if (n < 0 && errno == ENOBUFS) {
            (*enobufs)++;
            continue;
        }
        if (n < 0) {
            assert_int_equal(errno, EAGAIN);
            if (!tu_fd_readable(fd, 300)) {
                return msgs;
            }
            continue;
        }
        if (peek) {
            assert_int_equal(ovsc_recv(fd, buf, sizeof buf, MSG_DONTWAIT),
                             n);
        }
        msgs++;
    }
}

/* drain_count() with recvmmsg(), up to VLEN at a time: more than what
 * fits before the overrun, so that an overrun comes after the first
 * datagram of a call, and must come back from the next call. */
static int
drain_count_mmsg(int fd, int *enobufs)
{
    enum { VLEN = 64 };
    static char in[VLEN][4096];
    struct mmsghdr mv[VLEN];
    struct iovec iov[VLEN];
    int msgs = 0;

    *enobufs = 0;
    for (;;) {
        int r;

        memset(mv, 0, sizeof mv);
        for (int i = 0; i < VLEN; i++) {
            iov[i] = (struct iovec) { .iov_base = in[i],
                                      .iov_len = sizeof in[i] };
            mv[i].msg_hdr.msg_iov = &iov[i];
            mv[i].msg_hdr.msg_iovlen = 1;
        }
        r = ovsc_recvmmsg(fd, mv, VLEN, MSG_DONTWAIT, NULL);
        if (r < 0 && errno == ENOBUFS) {
            (*enobufs)++;
            continue;
        }
        if (r < 0) {
            assert_int_equal(errno, EAGAIN);
            if (!tu_fd_readable(fd, 300)) {
                return msgs;
            }
            continue;
        }
        msgs += r;
    }
}

/* A member with a small receive buffer that does not read while flows
 * are made: weird drops notifications and says so once; the reader gets
 * exactly one ENOBUFS among what fitted, then the socket works again.
 * An overrun seen with MSG_PEEK is reported and taken too, as the kernel
 * clears its error on a peek. */
static void
test_overrun(void **state)
{
    enum { FLOOD = 50 };    /* One datagram: one burst of notifications. */
    uint64_t buf[BUFSZ / 8];
    int a, m, g, small = 2048, enobufs, msgs, ifindex;

    (void) state;
    families();
    a = nl_open(0);
    m = nl_open(SOCK_NONBLOCK);
    g = (int) grp_flow;
    assert_int_equal(ovsc_setsockopt(m, SOL_SOCKET, SO_RCVBUF, &small,
                                     sizeof small), 0);
    assert_int_equal(ovsc_setsockopt(m, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
                                     &g, sizeof g), 0);
    assert_int_equal(nl_pid(m), 0);
    /* Bound by its first send. */
    assert_int_equal(family(m, OVS_DATAPATH_FAMILY, NULL, NULL), fam_dp);
    ifindex = dp_new(a, "ovsc-over", 1);

    make_flows(a, ifindex, 0, FLOOD);
    msgs = drain_count(m, false, &enobufs);
    assert_int_equal(enobufs, 1);
    assert_true(msgs > 0 && msgs < FLOOD);

    /* Recovered: the next notification arrives. */
    make_flows(a, ifindex, FLOOD, 1);
    assert_true(tu_fd_readable(m, 2000));
    recv_now(m, buf, sizeof buf);
    assert_int_equal(((struct genlmsghdr *)
                      mnl_nlmsg_get_payload(hdr(buf)))->cmd,
                     OVS_FLOW_CMD_NEW);
    assert_empty(m);

    make_flows(a, ifindex, FLOOD + 1, FLOOD);
    msgs = drain_count(m, true, &enobufs);
    assert_int_equal(enobufs, 1);
    assert_true(msgs > 0 && msgs < FLOOD);

    /* recvmmsg(): the ENOBUFS of an overrun after its first datagram is
     * kept for the next receive (the kernel's sk_err), not lost. */
    make_flows(a, ifindex, 4 * FLOOD, FLOOD);
    tu_sleep_ms(100);   /* All of it in the socket: one call meets it. */
    msgs = drain_count_mmsg(m, &enobufs);
    assert_int_equal(enobufs, 1);
    assert_true(msgs > 0 && msgs < FLOOD);

    /* NETLINK_NO_ENOBUFS: the overrun is not reported. */
    g = 1;
    assert_int_equal(ovsc_setsockopt(m, SOL_NETLINK, NETLINK_NO_ENOBUFS, &g,
                                     sizeof g), 0);
    make_flows(a, ifindex, 2 * FLOOD + 1, FLOOD);
    msgs = drain_count(m, false, &enobufs);
    assert_int_equal(enobufs, 0);
    assert_true(msgs > 0 && msgs < FLOOD);

    dp_del(a, "ovsc-over", 2);
    assert_int_equal(ovsc_close(a), 0);
    assert_int_equal(ovsc_close(m), 0);
}

/* A blocking receive on an unbound socket waits for a bind, but no
 * longer than SO_RCVTIMEO: then EAGAIN, as the kernel's socket. */
static void
test_unbound_rcvtimeo(void **state)
{
    struct timeval tv = { 0, 150000 };
    char buf[64];
    uint64_t t0, dt;
    int fd, k;

    (void) state;
    fd = nl_open(0);
    k = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
    assert_true(k >= 0);
    assert_int_equal(ovsc_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
                                     sizeof tv), 0);
    assert_int_equal(setsockopt(k, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv),
                     0);
    t0 = tu_now_ms();
    assert_fails(recv(k, buf, sizeof buf, 0), EAGAIN);
    dt = tu_now_ms() - t0;
    assert_true(dt >= 100 && dt < 2000);
    t0 = tu_now_ms();
    assert_fails(ovsc_recv(fd, buf, sizeof buf, 0), EAGAIN);
    dt = tu_now_ms() - t0;
    assert_true(dt >= 100 && dt < 2000);
    assert_int_equal(nl_pid(fd), 0);
    close(k);
    assert_int_equal(ovsc_close(fd), 0);
}

/* A weird that does not accept (its backlog full) makes socket() fail
 * after the connect bound, not hang. */
static void
test_connect_bound(void **state)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    uint64_t t0, dt;
    int l, c, old;

    (void) state;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s/full.sock", dir);
    l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    assert_true(l >= 0);
    assert_int_equal(bind(l, (struct sockaddr *) &sun, sizeof sun), 0);
    assert_int_equal(listen(l, 0), 0);
    /* Backlog 0 takes one connection, never accepted. */
    c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    assert_true(c >= 0);
    assert_int_equal(connect(c, (struct sockaddr *) &sun, sizeof sun), 0);

    setenv(WEIR_CONTROL_ENV, sun.sun_path, 1);
    old = ovsc_set_connect_timeout(200);
    t0 = tu_now_ms();
    assert_fails(ovsc_socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC), EAGAIN);
    dt = tu_now_ms() - t0;
    ovsc_set_connect_timeout(old);
    setenv(WEIR_CONTROL_ENV, sock_path, 1);
    assert_true(dt >= 150 && dt < 3000);
    close(c);
    close(l);
    unlink(sun.sun_path);
}

/* ---- Threads. ---- */

struct txn_ctx {
    int fd;                     /* Shared socket, or -1: one of its own. */
    int rounds;
    atomic_int *replies;        /* Replies received on the shared socket. */
    atomic_int failures;
};

/* Transactions on one socket: own socket, each reply read at once; on
 * the shared socket, every reply counted by whoever reads it. */
static void *
txn_thread(void *ctx_)
{
    struct txn_ctx *ctx = ctx_;
    uint64_t buf[4096 / 8];
    int fd = ctx->fd >= 0 ? ctx->fd : nl_open(0);

    for (int i = 0; i < ctx->rounds; i++) {
        struct nlmsghdr *nlh = getfamily(buf, OVS_FLOW_FAMILY,
                                         (uint32_t) i + 1);
        ssize_t n;

        if (ovsc_send(fd, nlh, nlh->nlmsg_len, 0) < 0) {
            atomic_fetch_add(&ctx->failures, 1);
            continue;
        }
        if (ctx->fd < 0) {
            n = ovsc_recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n <= 0 || nlh->nlmsg_seq != (uint32_t) i + 1
                || nlh->nlmsg_type != GENL_ID_CTRL) {
                atomic_fetch_add(&ctx->failures, 1);
            }
            continue;
        }
        while ((n = ovsc_recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
            atomic_fetch_add(ctx->replies, 1);
        }
    }
    if (ctx->fd < 0) {
        ovsc_close(fd);
    }
    return NULL;
}

/* Two threads with sockets of their own and two sharing one, at once:
 * every reply is where the kernel would have put it. */
static void
test_threads(void **state)
{
    enum { ROUNDS = 200 };
    atomic_int replies = 0;
    struct txn_ctx ctx[4];
    pthread_t t[4];
    uint64_t buf[4096 / 8];
    int shared = nl_open(0);

    (void) state;
    for (int i = 0; i < 4; i++) {
        ctx[i] = (struct txn_ctx) { .fd = i < 2 ? -1 : shared,
                                    .rounds = ROUNDS, .replies = &replies };
        atomic_init(&ctx[i].failures, 0);
        assert_int_equal(pthread_create(&t[i], NULL, txn_thread, &ctx[i]),
                         0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(atomic_load(&ctx[i].failures), 0);
    }
    /* Whatever the two readers left. */
    while (ovsc_recv(shared, buf, sizeof buf, MSG_DONTWAIT) > 0) {
        atomic_fetch_add(&replies, 1);
    }
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(atomic_load(&replies), 2 * ROUNDS);
    assert_int_equal(ovsc_close(shared), 0);
}

/* fork(): the child uses a socket of its own; the parent's socket still
 * works, before and after. */
static void
test_fork(void **state)
{
    int fd, status;
    pid_t pid;

    (void) state;
    families();
    fd = nl_open(0);
    assert_int_equal(family(fd, OVS_FLOW_FAMILY, NULL, NULL), fam_flow);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        uint64_t buf[4096 / 8];
        struct nlmsghdr *nlh = getfamily(buf, OVS_VPORT_FAMILY, 3);
        int c = ovsc_socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
        ssize_t n;

        if (c < 0 || ovsc_send(c, nlh, nlh->nlmsg_len, 0) < 0) {
            _exit(2);
        }
        n = ovsc_recv(c, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0 || nlh->nlmsg_type != GENL_ID_CTRL
            || nlh->nlmsg_seq != 3) {
            _exit(3);
        }
        ovsc_close(c);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(family(fd, OVS_FLOW_FAMILY, NULL, NULL), fam_flow);
    assert_int_equal(ovsc_close(fd), 0);
}

/* close() forgets the socket: the fd number's next owner is libc's; so
 * does dup2() onto it. */
static void
test_close_reuse(void **state)
{
    int fd, p[2], q[2];
    char c = 'x';

    (void) state;
    fd = nl_open(0);
    assert_int_not_equal(nl_pid(fd) + 1, 0);
    families();
    assert_int_equal(family(fd, OVS_FLOW_FAMILY, NULL, NULL), fam_flow);
    assert_int_equal(ovsc_close(fd), 0);
    assert_false(ovsc_is_tracked(fd));
    /* The number goes to a pipe (weird, on a thread of this process, may
     * take it first for a while: wait until it is free). */
    assert_int_equal(pipe(p), 0);
    for (int i = 0; i < 100 && fcntl(fd, F_GETFD) >= 0; i++) {
        tu_sleep_ms(10);
    }
    if (p[0] != fd) {
        assert_int_equal(dup2(p[0], fd), fd);
        close(p[0]);
        p[0] = fd;
    }
    assert_false(ovsc_is_tracked(p[0]));
    assert_int_equal(ovsc_write(p[1], &c, 1), 1);
    c = 0;
    assert_int_equal(ovsc_read(p[0], &c, 1), 1);
    assert_int_equal(c, 'x');

    fd = nl_open(0);
    assert_int_equal(pipe(q), 0);
    assert_int_equal(ovsc_dup2(q[0], fd), fd);
    assert_false(ovsc_is_tracked(fd));
    assert_int_equal(ovsc_write(q[1], "y", 1), 1);
    assert_int_equal(ovsc_read(fd, &c, 1), 1);
    assert_int_equal(c, 'y');
    fd = ovsc_socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
    assert_true(fd >= 0);
    assert_int_equal(ovsc_dup3(q[0], fd, O_CLOEXEC), fd);
    assert_false(ovsc_is_tracked(fd));
    ovsc_close(fd);
    for (int i = 0; i < 2; i++) {
        ovsc_close(p[i]);
        ovsc_close(q[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_socket_selection),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_bind),
        cmocka_unit_test(test_connect),
        cmocka_unit_test(test_transaction),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_send_readable),
        cmocka_unit_test(test_big_dump),
        cmocka_unit_test(test_peek_trunc),
        cmocka_unit_test(test_sockopts),
        cmocka_unit_test(test_ext_ack),
        cmocka_unit_test(test_membership),
        cmocka_unit_test(test_overrun),
        cmocka_unit_test(test_unbound_rcvtimeo),
        cmocka_unit_test(test_connect_bound),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_close_reuse),
    };

    return cmocka_run_group_tests_name("ovscompat", tests, setup_suite,
                                       teardown_suite);
}
