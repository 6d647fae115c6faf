/* SPDX-License-Identifier: Apache-2.0 */

/* The generic-netlink server core: connections, request dispatch, errors
 * and acknowledgements, dumps, multicast and upcall delivery.  The
 * families (genl-ctrl.c, genl-dp.c, ...) and the datapath registry
 * (genl-registry.c) plug into it through genl-private.h.
 *
 * Input: a datagram is walked as net/netlink/af_netlink.c
 * netlink_rcv_skb() walks an skb: while at least a header's worth of bytes
 * remain, a message whose nlmsg_len is shorter than its header or longer
 * than what remains ends the datagram silently; a message that is not a
 * request (no NLM_F_REQUEST) or a control message (type below
 * NLMSG_MIN_TYPE) is skipped, acknowledged only if it asks for NLM_F_ACK;
 * anything else goes to genl_rcv_msg(), whose error (or NLM_F_ACK) earns
 * an NLMSG_ERROR, except for a dump that started.  weir's transport
 * messages (WEIR_NLMSG_HELLO, WEIR_NLMSG_SOCKOPT) are the transport's
 * business (daemon/ctl.c takes them out before handing a datagram over);
 * should one reach this file it is a control message like any other and
 * is skipped as the kernel skips it.  Every datagram, even one in which
 * nothing could be read, ends with a sync marker when the connection asked
 * for them.
 *
 * Dispatch follows net/netlink/genetlink.c genl_family_rcv_msg(): unknown
 * family -ENOENT; shorter than genlmsghdr + family header -EINVAL;
 * genlmsghdr 'reserved' set on a command past the family's last one
 * -EINVAL (the kernel's resv_start_op, which for every family weird
 * serves is one past its last command); no such command, or no handler of
 * the kind asked (NLM_F_DUMP or not) -EOPNOTSUPP.  Permissions are not
 * checked: the control socket is only open to root and weird's group
 * (docs/design/control-socket.md "Permissions").
 *
 * Attributes are parsed and checked as lib/nlattr.c __nla_parse() does in
 * the liberal mode every family here uses (GENL_DONT_VALIDATE_STRICT):
 * attributes of type 0 or above the family's maxattr are skipped; the last
 * of duplicates wins; values longer than their type are accepted; too
 * short ones, strings without a NUL in bounds or too long, and non-empty
 * flags are refused with the kernel's errno (-ERANGE, or -EINVAL for a
 * missing NUL) and extack "Attribute failed policy validation" pointing
 * at the attribute; bytes left over after the last whole attribute are
 * accepted with the warning "bytes leftover after parsing attributes" (an
 * extack message even on success, as the kernel's).  The kernel also
 * reports the violated policy (NLMSGERR_ATTR_POLICY); weird does not.
 *
 * Errors are built as netlink_ack() builds them (6.1): struct nlmsgerr
 * with the request's header; for an error, the request's payload after
 * it unless NETLINK_CAP_ACK is on; NLM_F_CAPPED when the payload is not
 * there (so on every success ACK); with NETLINK_EXT_ACK, NLMSGERR_ATTR_MSG
 * when there is a message and, for an error, NLMSGERR_ATTR_OFFS (offset
 * of the bad attribute from the start of the request), with
 * NLM_F_ACK_TLVS.  Addressed to the requester's port id, with its seq.
 *
 * Dumps follow netlink_dump(): one per connection (-EBUSY for another, as
 * __netlink_dump_start()); a dump that starts is never acknowledged, even
 * with NLM_F_ACK (-EINTR in the kernel); the request is kept.  Its
 * attributes are neither checked nor seen by the dumpit (every family here
 * has GENL_DONT_VALIDATE_DUMP), unless the op says that its dumpit reads
 * them ('dump_attrs', ovs_flow): then they are parsed again for every
 * part, and a policy violation ends the dump like any error of the
 * dumpit, as the kernel's ovs_flow_cmd_dump() parses them itself.  The end
 * is NLMSG_DONE with NLM_F_MULTI and the dump's error as an int, plus
 * NLMSGERR_ATTR_MSG and NLM_F_ACK_TLVS when the dumpit left a message and
 * NETLINK_EXT_ACK is on; it goes in the last part when there is room, else
 * alone.  A part in which not even one entry fits ends the dump with
 * -EMSGSIZE.
 *
 * Queues: every connection has a FIFO of datagrams and sync markers, with
 * the bytes of its datagrams counted against its receive buffer, as the
 * kernel counts a netlink socket's queue against sk_rcvbuf.  A datagram
 * that would take a queue that is not empty past its budget is dropped
 * (into an empty queue a datagram goes whatever its size, as the kernel
 * lets one skb past the limit).  The budget of multicast datagrams is the
 * receive buffer; that of replies, ACKs, errors and echoes is the receive
 * buffer but at least GENL_REPLY_FLOOR, two of the largest doit replies,
 * so that one request's reply and its ACK always fit an empty queue.  The
 * first drop queues one NLMSG_OVERRUN datagram (header only, type
 * NLMSG_OVERRUN, port id 0, then the int -ENOBUFS) and marks the
 * connection congested, and a congested connection gets no reply and no
 * multicast at all (as the kernel's NETLINK_S_CONGESTED) until the
 * transport has taken that NLMSG_OVERRUN datagram: the kernel drops what
 * netlink_unicast() and netlink_broadcast() cannot queue in the same way
 * (netlink_attachskb(), netlink_broadcast_deliver()).  Dump parts and
 * upcalls are never dropped: the next part of a dump, and an upcall, are
 * made only when the queue is empty.  A dump's first part is made while
 * its request is handled only if the queue is below the reply budget; a
 * dump that starts on a fuller queue waits for it to empty, and its
 * request is answered -ENOBUFS (an error that does not fit either), as
 * netlink_dump() refuses to fill a full socket.  So a connection queues
 * at most its budget plus one dump part, whatever the datagram it sent
 * (many dumps that each end in their first part included).
 *
 * Port ids: a connection bound with id 0 gets its 'hint' (the client's
 * process id, as the kernel's autobind tries the tgid first) if no
 * connection has it, else the next free id counting down from 0xfffff000
 * (the kernel counts down from -4096), wrapping back to 0xfffff000 below
 * 0x80000000.
 *
 * Channels: every bound connection has an upcall channel under its port
 * id in every datapath; the registry calls genl_conns_dp_added() and
 * genl_conns_dp_removed() as datapaths come and go.
 *
 * RCVBUF: WEIR_SOCK_RCVBUF's value is the buffer size itself (what
 * getsockopt(SO_RCVBUF) reads back, the kernel's doubled figure), taken
 * into [WEIR_SOCK_RCVBUF_MIN, WEIR_SOCK_RCVBUF_MAX] (weir/control.h). */

#include <errno.h>
#include <inttypes.h>
#include <libmnl/libmnl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "dp/dp.h"
#include "dp/pmd.h"
#include "dp/upcall.h"
#include "genl/genl-private.h"
#include "lib/errbuf.h"
#include "lib/log.h"
#include "weir/control.h"

#define GENL_DEFAULT_RCVBUF 212992  /* The kernel's default rmem. */
#define GENL_REPLY_FLOOR (2 * GENL_REPLY_SIZE)  /* Least reply budget. */
#define GENL_AUTOPID_FIRST 0xfffff000u
#define GENL_AUTOPID_LAST 0x80000000u
#define GENL_MAX_GROUP 63           /* Group ids 1..63 can be joined. */
#define GENL_DUMP_STARTED 1         /* genl_rcv_msg(): no ACK (-EINTR). */
#define GENL_UPCALL_TRIES 16        /* Undeliverable upcalls skipped per
                                     * genl_conn_output() call. */

/* ---- Structures. ---- */

enum genl_qkind {
    GENL_Q_DGRAM,
    GENL_Q_SYNC,
};

/* How a datagram counts against the receive buffer (see the essay). */
enum genl_dlv {
    GENL_DLV_REPLY,             /* Replies, ACKs, errors, echoes. */
    GENL_DLV_MCAST,             /* Multicast notifications. */
    GENL_DLV_ALWAYS,            /* Dump parts and upcalls: never dropped. */
};

/* One entry of a connection's queue. */
struct genl_qitem {
    struct genl_qitem *next;
    enum genl_qkind kind;
    bool overrun;               /* The NLMSG_OVERRUN datagram. */
    size_t len;                 /* Bytes in 'data' (0 for a marker). */
    _Alignas(8) uint8_t data[];
};

/* A connection's upcall channel in one datapath. */
struct genl_chan {
    struct genl_dp *gdp;
    struct upcall_channel *ch;
};

/* The dump in progress, as the kernel's netlink_callback. */
struct genl_dump {
    bool running;
    const struct genl_family *fam;
    const struct genl_op *op;
    struct nlmsghdr *req;       /* Copy of the request. */
    struct genl_dump_state st;
};

struct genl_conn {
    struct genl_server *srv;
    struct genl_conn *next;     /* Server's list. */
    void (*wake)(void *aux);
    void *wake_aux;

    bool bound;
    uint32_t pid;
    uint64_t groups;            /* Bit g: member of group g. */
    bool ext_ack;
    bool cap_ack;
    bool strict_chk;            /* Stored: nothing in genl depends on it. */
    uint32_t rcvbuf;
    bool sync;

    struct genl_qitem *head;
    struct genl_qitem **tail;
    size_t queued;              /* Bytes of queued datagrams. */
    bool congested;             /* NLMSG_OVERRUN queued, not yet taken. */
    uint64_t n_dropped;         /* Datagrams dropped (full, OOM). */

    struct genl_dump dump;
    bool dump_turn;             /* The next fill tries the dump first. */

    struct genl_chan *chans;    /* In datapath creation order. */
    size_t n_chans;
    size_t rr;                  /* Next channel to read. */
    int epfd;                   /* Over the channels' fds. */
};

struct genl_server {
    struct genl_config cfg;     /* Strings point to the copies below. */
    char *local_type;
    char *system_type;
    char *pmd_cpus;

    struct genl_registry reg;   /* Datapaths (genl-registry.c). */
    struct genl_conn *conns;
    struct genl_conn *busy_conn;    /* Inside genl_conn_input() or
                                     * genl_conn_output() of this one: no
                                     * wake-up for it. */
    uint32_t rover;             /* Next automatic port id to try. */
};

static struct wlog_rl genl_rl = WLOG_RL_INIT(20, 10000);

static void genl_chan_open(struct genl_conn *, struct genl_dp *);
static void genl_dump_part(struct genl_conn *);

/* ---- Message buffers. ---- */

int
genl_msgbuf_init(struct genl_msgbuf *mb, size_t cap)
{
    mb->data = malloc(cap ? cap : 1);
    mb->len = 0;
    mb->cap = mb->data ? cap : 0;
    return mb->data ? 0 : -ENOMEM;
}

void
genl_msgbuf_uninit(struct genl_msgbuf *mb)
{
    if (mb) {
        free(mb->data);
        mb->data = NULL;
        mb->len = mb->cap = 0;
    }
}

/* Opens a message of any type at the tail of 'mb' with 'payload' zeroed
 * bytes after the header.  Returns it, or NULL if it does not fit. */
static struct nlmsghdr *
genl_raw_start(struct genl_msgbuf *mb, uint16_t type, uint16_t flags,
               uint32_t portid, uint32_t seq, size_t payload)
{
    size_t need = MNL_NLMSG_HDRLEN + MNL_ALIGN(payload);
    struct nlmsghdr *nlh;

    if (mb->cap - mb->len < need) {
        return NULL;
    }
    memset(mb->data + mb->len, 0, need);
    nlh = mnl_nlmsg_put_header(mb->data + mb->len);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    nlh->nlmsg_pid = portid;
    nlh->nlmsg_seq = seq;
    if (payload) {
        mnl_nlmsg_put_extra_header(nlh, payload);
    }
    return nlh;
}

struct nlmsghdr *
genl_msg_start(struct genl_msgbuf *mb, const struct genl_family *fam,
               uint8_t cmd, uint32_t portid, uint32_t seq, uint16_t flags,
               uint32_t dp_ifindex)
{
    struct nlmsghdr *nlh;
    struct genlmsghdr *g;

    nlh = genl_raw_start(mb, fam->id, flags, portid, seq,
                         GENL_HDRLEN + MNL_ALIGN(fam->hdrsize));
    if (!nlh) {
        return NULL;
    }
    g = mnl_nlmsg_get_payload(nlh);
    g->cmd = cmd;
    g->version = fam->version;
    if (fam->hdrsize >= sizeof(struct ovs_header)) {
        struct ovs_header oh = { .dp_ifindex = (int) dp_ifindex };

        memcpy((uint8_t *) g + GENL_HDRLEN, &oh, sizeof oh);
    }
    return nlh;
}

size_t
genl_msg_room(const struct genl_msgbuf *mb, const struct nlmsghdr *nlh)
{
    return mb->cap - (size_t) ((const uint8_t *) nlh - mb->data);
}

void
genl_msg_end(struct genl_msgbuf *mb, struct nlmsghdr *nlh)
{
    mb->len = (size_t) ((uint8_t *) nlh - mb->data)
              + MNL_ALIGN(nlh->nlmsg_len);
}

void
genl_msg_cancel(struct genl_msgbuf *mb, struct nlmsghdr *nlh)
{
    /* Nothing was committed: 'mb->len' still ends before 'nlh'. */
    (void) mb;
    (void) nlh;
}

/* Whether the kernel pads 64-bit attributes on this architecture: only
 * where CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS is unset, so never on
 * x86-64 or arm64. */
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) \
    || defined(__powerpc64__) || defined(__s390x__)
#define GENL_PAD_64BIT 0
#else
#define GENL_PAD_64BIT 1
#endif

bool
genl_put_64bit(struct nlmsghdr *nlh, size_t room, uint16_t type,
               size_t len, const void *data, uint16_t pad_type)
{
    if (GENL_PAD_64BIT) {
        uintptr_t tail = (uintptr_t) mnl_nlmsg_get_payload_tail(nlh);

        /* An empty pad attribute moves the value's payload (after its
         * own 4-byte header) onto an 8-byte boundary. */
        if (tail % 8 == 0
            && !mnl_attr_put_check(nlh, room, pad_type, 0, NULL)) {
            return false;
        }
    }
    return mnl_attr_put_check(nlh, room, type, len, data);
}

/* ---- Connection queues. ---- */

static struct genl_qitem *
genl_qitem_new(enum genl_qkind kind, const void *data, size_t len)
{
    struct genl_qitem *it = malloc(sizeof *it + len);

    if (!it) {
        return NULL;
    }
    it->next = NULL;
    it->kind = kind;
    it->overrun = false;
    it->len = len;
    if (len) {
        memcpy(it->data, data, len);
    }
    return it;
}

static void
genl_conn_push(struct genl_conn *conn, struct genl_qitem *it)
{
    bool was_empty = !conn->head;

    *conn->tail = it;
    conn->tail = &it->next;
    conn->queued += it->len;
    if (was_empty && conn->wake && conn->srv->busy_conn != conn) {
        conn->wake(conn->wake_aux);
    }
}

/* The bytes of datagrams of kind 'dlv' the queue may hold (see the
 * essay). */
static size_t
genl_conn_budget(const struct genl_conn *conn, enum genl_dlv dlv)
{
    if (dlv == GENL_DLV_REPLY && conn->rcvbuf < GENL_REPLY_FLOOR) {
        return GENL_REPLY_FLOOR;
    }
    return conn->rcvbuf;
}

/* Drops a datagram that does not fit.  The first drop queues one
 * NLMSG_OVERRUN datagram and marks the connection congested. */
static void
genl_conn_drop(struct genl_conn *conn, enum genl_dlv dlv)
{
    static const struct {
        struct nlmsghdr nlh;
        int32_t error;
    } overrun = {
        { sizeof overrun, NLMSG_OVERRUN, 0, 0, 0 }, -ENOBUFS,
    };
    struct genl_qitem *it;

    conn->n_dropped++;
    if (conn->congested) {
        return;
    }
    it = genl_qitem_new(GENL_Q_DGRAM, &overrun, sizeof overrun);
    if (it) {
        it->overrun = true;
        conn->congested = true;
        genl_conn_push(conn, it);
    }
    wlog_rl(&genl_rl, "genl", WLOG_DBG, "pid %" PRIu32 ": receive buffer "
            "of %zu bytes full, dropping %s", conn->pid,
            genl_conn_budget(conn, dlv),
            dlv == GENL_DLV_REPLY ? "replies" : "multicast");
}

/* Queues a copy of a datagram of kind 'dlv', or drops it when the
 * connection is congested or the datagram would take a queue that is not
 * empty past its budget (see the essay). */
static void
genl_conn_deliver(struct genl_conn *conn, const void *data, size_t len,
                  enum genl_dlv dlv)
{
    struct genl_qitem *it;

    if (dlv != GENL_DLV_ALWAYS
        && (conn->congested
            || (conn->queued
                && conn->queued + len > genl_conn_budget(conn, dlv)))) {
        genl_conn_drop(conn, dlv);
        return;
    }
    it = genl_qitem_new(GENL_Q_DGRAM, data, len);
    if (!it) {
        wlog_rl(&genl_rl, "genl", WLOG_ERR, "pid %" PRIu32 ": out of "
                "memory queuing a %zu-byte datagram", conn->pid, len);
        conn->n_dropped++;
        return;
    }
    genl_conn_push(conn, it);
}

/* Queues the datagram in 'mb' as 'dlv' and empties 'mb'. */
static void
genl_conn_send_mb(struct genl_conn *conn, struct genl_msgbuf *mb,
                  enum genl_dlv dlv)
{
    if (mb->len) {
        genl_conn_deliver(conn, mb->data, mb->len, dlv);
    }
    mb->len = 0;
}

void
genl_unicast(struct genl_conn *conn, struct genl_msgbuf *mb)
{
    genl_conn_send_mb(conn, mb, GENL_DLV_REPLY);
}

static bool
genl_conn_member(const struct genl_conn *conn, uint32_t group)
{
    return group && group <= GENL_MAX_GROUP
           && (conn->groups & (UINT64_C(1) << group));
}

static bool
genl_group_has_members(const struct genl_server *srv, uint32_t group)
{
    for (const struct genl_conn *c = srv->conns; c; c = c->next) {
        if (genl_conn_member(c, group)) {
            return true;
        }
    }
    return false;
}

bool
genl_must_notify(const struct genl_req *req, const struct genl_family *fam)
{
    return (req->nlh->nlmsg_flags & NLM_F_ECHO)
           || (fam->mcgrp_name
               && genl_group_has_members(req->srv, fam->mcgrp_id));
}

void
genl_notify(struct genl_req *req, const struct genl_family *fam,
            struct genl_msgbuf *mb)
{
    bool report = req->nlh->nlmsg_flags & NLM_F_ECHO;

    /* As the kernel's genl_notify(): nothing at all for a family without
     * a multicast group. */
    if (mb->len && fam->mcgrp_name) {
        for (struct genl_conn *c = req->srv->conns; c; c = c->next) {
            if (genl_conn_member(c, fam->mcgrp_id)
                && !(report && c == req->conn)) {
                genl_conn_deliver(c, mb->data, mb->len, GENL_DLV_MCAST);
            }
        }
        if (report) {
            genl_conn_deliver(req->conn, mb->data, mb->len,
                              GENL_DLV_REPLY);
        }
    }
    mb->len = 0;
}

void
genl_multicast(struct genl_server *srv, const struct genl_family *fam,
               struct genl_msgbuf *mb)
{
    if (mb->len && fam->mcgrp_name) {
        for (struct genl_conn *c = srv->conns; c; c = c->next) {
            if (genl_conn_member(c, fam->mcgrp_id)) {
                genl_conn_deliver(c, mb->data, mb->len, GENL_DLV_MCAST);
            }
        }
    }
    mb->len = 0;
}

/* ---- Attributes. ---- */

/* Checks attribute 'a' against 'pol' as lib/nlattr.c validate_nla() does
 * in liberal mode.  Returns 0, or -ERANGE/-EINVAL with the kernel's extack
 * text in '*msg'. */
static int
genl_check_attr(const struct nlattr *a, const struct genl_policy *pol,
                const char **msg)
{
    size_t len = mnl_attr_get_payload_len(a);
    const char *data = mnl_attr_get_payload(a);
    static const uint8_t int_len[] = {
        [GENL_ATTR_U8] = 1, [GENL_ATTR_U16] = 2,
        [GENL_ATTR_U32] = 4, [GENL_ATTR_U64] = 8,
    };

    *msg = "Attribute failed policy validation";
    switch (pol->kind) {
    case GENL_ATTR_UNSPEC:
        return 0;
    case GENL_ATTR_FLAG:
        return len > 0 ? -ERANGE : 0;
    case GENL_ATTR_U8:
    case GENL_ATTR_U16:
    case GENL_ATTR_U32:
    case GENL_ATTR_U64:
        return len < int_len[pol->kind] ? -ERANGE : 0;
    case GENL_ATTR_STRING: {
        /* The kernel's NLA_NUL_STRING with len = max_len - 1. */
        size_t max = pol->max_len ? pol->max_len - 1u : 0;
        size_t scan = max && len > max + 1 ? max + 1 : len;

        if (!scan || !memchr(data, '\0', scan)) {
            return -EINVAL;
        }
        if (max && len - (data[len - 1] == '\0') > max) {
            return -ERANGE;
        }
        return 0;
    }
    case GENL_ATTR_NESTED:
        return len && len < MNL_ATTR_HDRLEN ? -ERANGE : 0;
    case GENL_ATTR_BINARY:
        return pol->max_len && len > pol->max_len ? -ERANGE : 0;
    case GENL_ATTR_EXACT:
        if (len != pol->max_len) {
            *msg = "binary attribute size out of range";
            return -ERANGE;
        }
        return 0;
    }
    return 0;
}

/* Fills 'tb' with the attributes of request 'nlh' of family 'fam' (its
 * header length checked already).  On a policy violation returns its
 * errno with the reason in 'err' and the attribute in '*bad' (both may be
 * NULL: dumps).  Leftover bytes are a warning in 'err'. */
static int
genl_parse(const struct genl_family *fam, const struct nlmsghdr *nlh,
           const struct nlattr **tb, struct errbuf *err,
           const struct nlattr **bad)
{
    size_t off = MNL_NLMSG_HDRLEN + MNL_ALIGN(GENL_HDRLEN + fam->hdrsize);
    uint16_t max = fam->maxattr < GENL_MAX_ATTR ? fam->maxattr
                                                : GENL_MAX_ATTR;
    const uint8_t *p = (const uint8_t *) nlh + off;
    long rem = (long) nlh->nlmsg_len - (long) off;

    memset(tb, 0, (GENL_MAX_ATTR + 1) * sizeof *tb);
    while (rem >= (long) sizeof(struct nlattr)) {
        const struct nlattr *a = (const struct nlattr *) p;
        uint16_t type = a->nla_type & NLA_TYPE_MASK;

        if (a->nla_len < sizeof *a || a->nla_len > rem) {
            break;
        }
        if (type && type <= max) {
            const char *msg;
            int error = fam->policy
                        ? genl_check_attr(a, &fam->policy[type], &msg) : 0;

            if (error) {
                errbuf_set(err, "%s", msg);
                if (bad) {
                    *bad = a;
                }
                return error;
            }
            tb[type] = a;
        }
        p += MNL_ALIGN(a->nla_len);
        rem -= (long) MNL_ALIGN(a->nla_len);
    }
    if (rem > 0) {
        errbuf_set(err, "bytes leftover after parsing attributes");
    }
    return 0;
}

static uint32_t
genl_req_ifindex(const struct genl_family *fam, const struct nlmsghdr *nlh)
{
    struct ovs_header oh;

    if (fam->hdrsize < sizeof oh) {
        return 0;
    }
    memcpy(&oh, (const uint8_t *) mnl_nlmsg_get_payload(nlh) + GENL_HDRLEN,
           sizeof oh);
    return (uint32_t) oh.dp_ifindex;
}

/* ---- Acknowledgements. ---- */

/* Queues the NLMSG_ERROR for request 'nlh' as the kernel's netlink_ack(). */
static void
genl_ack(struct genl_conn *conn, const struct nlmsghdr *nlh, int error,
         const struct errbuf *err, const struct nlattr *bad)
{
    bool echo = error && !conn->cap_ack;
    size_t echo_len = echo ? nlh->nlmsg_len - MNL_NLMSG_HDRLEN : 0;
    const char *msg = conn->ext_ack && errbuf_is_set(err) ? err->msg : NULL;
    const uint8_t *b = (const uint8_t *) bad;
    const uint8_t *start = (const uint8_t *) nlh;
    bool offs = conn->ext_ack && error && b && b >= start
                && b < start + nlh->nlmsg_len;
    struct genl_msgbuf mb;
    struct nlmsghdr *rep;
    struct nlmsgerr *e;
    size_t cap;

    cap = MNL_NLMSG_HDRLEN + sizeof *e + MNL_ALIGN(echo_len)
          + (msg ? MNL_ATTR_HDRLEN + MNL_ALIGN(strlen(msg) + 1) : 0)
          + (offs ? MNL_ATTR_HDRLEN + sizeof(uint32_t) : 0);
    if (genl_msgbuf_init(&mb, cap)) {
        wlog_rl(&genl_rl, "genl", WLOG_ERR, "pid %" PRIu32 ": out of "
                "memory for an acknowledgement", conn->pid);
        return;
    }
    rep = genl_raw_start(&mb, NLMSG_ERROR,
                         (echo ? 0 : NLM_F_CAPPED)
                         | (msg || offs ? NLM_F_ACK_TLVS : 0),
                         conn->pid, nlh->nlmsg_seq, sizeof *e);
    e = mnl_nlmsg_get_payload(rep);
    e->error = error;
    memcpy(&e->msg, nlh, sizeof e->msg);
    if (echo_len) {
        void *p = mnl_nlmsg_put_extra_header(rep, echo_len);

        memcpy(p, mnl_nlmsg_get_payload(nlh), echo_len);
    }
    if (msg) {
        mnl_attr_put_strz_check(rep, cap, NLMSGERR_ATTR_MSG, msg);
    }
    if (offs) {
        mnl_attr_put_u32_check(rep, cap, NLMSGERR_ATTR_OFFS,
                               (uint32_t) (b - start));
    }
    mb.len = rep->nlmsg_len;
    genl_unicast(conn, &mb);
    genl_msgbuf_uninit(&mb);
}

/* ---- Dumps. ---- */

static void
genl_dump_end(struct genl_conn *conn)
{
    free(conn->dump.req);
    memset(&conn->dump, 0, sizeof conn->dump);
}

/* Ends the dump with NLMSG_DONE carrying 'error' (and 'msg' with
 * NETLINK_EXT_ACK), appended to the part in 'mb' if it fits. */
static void
genl_dump_done(struct genl_conn *conn, struct genl_msgbuf *mb, int error,
               const char *msg)
{
    const struct nlmsghdr *req = conn->dump.req;
    struct genl_msgbuf own = { NULL, 0, 0 };
    struct nlmsghdr *done;
    size_t need;

    if (!conn->ext_ack) {
        msg = NULL;
    }
    need = MNL_NLMSG_HDRLEN + sizeof(int32_t)
           + (msg ? MNL_ATTR_HDRLEN + MNL_ALIGN(strlen(msg) + 1) : 0);
    if (!mb->data || mb->cap - mb->len < need) {
        if (mb->data) {
            genl_conn_send_mb(conn, mb, GENL_DLV_ALWAYS);
        }
        if (genl_msgbuf_init(&own, need)) {
            wlog_rl(&genl_rl, "genl", WLOG_ERR, "pid %" PRIu32 ": out of "
                    "memory ending a dump", conn->pid);
            genl_dump_end(conn);
            return;
        }
        mb = &own;
    }
    done = genl_raw_start(mb, NLMSG_DONE,
                          NLM_F_MULTI | (msg ? NLM_F_ACK_TLVS : 0),
                          conn->pid, req->nlmsg_seq, sizeof(int32_t));
    memcpy(mnl_nlmsg_get_payload(done), &error, sizeof error);
    if (msg) {
        mnl_attr_put_strz_check(done, genl_msg_room(mb, done),
                                NLMSGERR_ATTR_MSG, msg);
    }
    genl_msg_end(mb, done);
    genl_conn_send_mb(conn, mb, GENL_DLV_ALWAYS);
    genl_msgbuf_uninit(&own);
    genl_dump_end(conn);
}

/* Queues the next part of the connection's dump (the last one ends with
 * NLMSG_DONE). */
static void
genl_dump_part(struct genl_conn *conn)
{
    struct genl_dump *d = &conn->dump;
    struct genl_msgbuf mb;
    struct genl_req req;
    struct errbuf err;
    int rc;

    if (genl_msgbuf_init(&mb, GENL_DUMP_DGRAM_SIZE)) {
        genl_dump_done(conn, &mb, -ENOMEM, NULL);
        return;
    }
    errbuf_clear(&err);
    memset(&req, 0, sizeof req);
    req.srv = conn->srv;
    req.conn = conn;
    req.nlh = d->req;
    req.genl = mnl_nlmsg_get_payload(d->req);
    req.dp_ifindex = genl_req_ifindex(d->fam, d->req);
    req.err = &err;

    /* Only for a dumpit that reads its attributes, as the kernel's
     * ovs_flow dump parses them itself: no extack.  Other dumps' are
     * neither checked nor seen (GENL_DONT_VALIDATE_DUMP). */
    rc = 0;
    if (d->op->dump_attrs) {
        rc = genl_parse(d->fam, d->req, req.tb, NULL, NULL);
    }
    if (!rc) {
        rc = d->op->dumpit(&req, &mb, &d->st);
    }
    if (rc > 0 && !mb.len) {
        if (!req.probe) {
            wlog_rl(&genl_rl, "genl", WLOG_WARN, "%s dump: an entry does "
                    "not fit in %d bytes", d->fam->name,
                    GENL_DUMP_DGRAM_SIZE);
        }
        rc = -EMSGSIZE;
    }
    if (rc > 0) {
        genl_conn_send_mb(conn, &mb, GENL_DLV_ALWAYS);
    } else {
        genl_dump_done(conn, &mb, rc,
                       errbuf_is_set(&err) ? err.msg : NULL);
    }
    genl_msgbuf_uninit(&mb);
}

static int
genl_dump_start(struct genl_conn *conn, const struct genl_family *fam,
                const struct genl_op *op, const struct nlmsghdr *nlh)
{
    struct nlmsghdr *copy;

    if (conn->dump.running) {
        return -EBUSY;
    }
    copy = malloc(MNL_ALIGN(nlh->nlmsg_len));
    if (!copy) {
        return -ENOMEM;
    }
    memcpy(copy, nlh, nlh->nlmsg_len);
    conn->dump.running = true;
    conn->dump.fam = fam;
    conn->dump.op = op;
    conn->dump.req = copy;
    memset(&conn->dump.st, 0, sizeof conn->dump.st);
    conn->dump_turn = false;
    /* As netlink_dump(): a queue already at its budget gets no part now.
     * The dump waits for the queue to empty, and the request gets
     * -ENOBUFS, which does not fit either (NLMSG_OVERRUN). */
    if (conn->queued >= genl_conn_budget(conn, GENL_DLV_REPLY)) {
        return -ENOBUFS;
    }
    genl_dump_part(conn);
    return GENL_DUMP_STARTED;
}

/* ---- Requests. ---- */

static const struct genl_op *
genl_family_op(const struct genl_family *fam, uint8_t cmd)
{
    for (size_t i = 0; i < fam->n_ops; i++) {
        if (fam->ops[i].cmd == cmd) {
            return &fam->ops[i];
        }
    }
    return NULL;
}

/* The kernel's resv_start_op: one past the family's last command. */
static unsigned int
genl_resv_start_op(const struct genl_family *fam)
{
    unsigned int max = 0;

    for (size_t i = 0; i < fam->n_ops; i++) {
        if (fam->ops[i].cmd + 1u > max) {
            max = fam->ops[i].cmd + 1u;
        }
    }
    return max;
}

/* Handles one request as genl_rcv_msg().  Returns 0, -errno (with the
 * reason in 'err' and the attribute at fault in '*bad'), or
 * GENL_DUMP_STARTED. */
static int
genl_rcv_msg(struct genl_conn *conn, const struct nlmsghdr *nlh,
             struct errbuf *err, const struct nlattr **bad)
{
    const struct genl_family *fam = genl_family_by_id(nlh->nlmsg_type);
    const struct genlmsghdr *g;
    const struct genl_op *op;
    struct genl_req req;
    bool dump;
    int rc;

    if (!fam) {
        return -ENOENT;
    }
    if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + GENL_HDRLEN + fam->hdrsize) {
        return -EINVAL;
    }
    g = mnl_nlmsg_get_payload(nlh);
    if (g->cmd >= genl_resv_start_op(fam) && g->reserved) {
        return -EINVAL;
    }
    dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    op = genl_family_op(fam, g->cmd);
    if (!op || (dump ? !op->dumpit : !op->doit)) {
        return -EOPNOTSUPP;
    }
    if (dump) {
        return genl_dump_start(conn, fam, op, nlh);
    }

    memset(&req, 0, sizeof req);
    req.srv = conn->srv;
    req.conn = conn;
    req.nlh = nlh;
    req.genl = g;
    req.dp_ifindex = genl_req_ifindex(fam, nlh);
    req.err = err;
    rc = genl_parse(fam, nlh, req.tb, err, bad);
    if (rc) {
        return rc;
    }
    rc = op->doit(&req);
    *bad = req.bad_attr;
    if (rc < 0 && !req.probe) {
        wlog_rl(&genl_rl, "genl", WLOG_DBG, "pid %" PRIu32 ": %s command "
                "%u failed (%s): %s", conn->pid, fam->name, g->cmd,
                strerror(-rc), err->msg);
    }
    return rc < 0 ? rc : 0;
}

/* One message of a datagram, as the body of netlink_rcv_skb()'s loop. */
static void
genl_handle_msg(struct genl_conn *conn, const struct nlmsghdr *nlh)
{
    const struct nlattr *bad = NULL;
    struct errbuf err;
    int rc = 0;

    errbuf_clear(&err);
    if ((nlh->nlmsg_flags & NLM_F_REQUEST)
        && nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
        rc = genl_rcv_msg(conn, nlh, &err, &bad);
        if (rc == GENL_DUMP_STARTED) {
            return;
        }
    }
    if ((nlh->nlmsg_flags & NLM_F_ACK) || rc) {
        genl_ack(conn, nlh, rc, &err, bad);
    }
}

void
genl_conn_input(struct genl_conn *conn, const void *data, size_t len)
{
    struct genl_server *srv = conn->srv;
    struct genl_conn *prev = srv->busy_conn;
    const uint8_t *p = data;
    void *copy = NULL;

    if (!conn->bound) {
        /* As netlink_sendmsg() autobinds an unbound socket. */
        genl_conn_bind(conn, 0, 0);
    }
    /* The headers are read in place: a datagram at an odd address is
     * copied to one suitably aligned first. */
    if (len && (uintptr_t) data % 8) {
        copy = malloc(len);
        if (copy) {
            memcpy(copy, data, len);
        } else {
            /* Dropped, but its sync marker still goes. */
            wlog_rl(&genl_rl, "genl", WLOG_ERR, "pid %" PRIu32 ": out of "
                    "memory reading a %zu-byte datagram", conn->pid, len);
            len = 0;
        }
        p = copy;
    }

    srv->busy_conn = conn;
    while (len >= MNL_NLMSG_HDRLEN) {
        const struct nlmsghdr *nlh = (const struct nlmsghdr *) p;
        size_t msglen;

        if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN || nlh->nlmsg_len > len) {
            break;
        }
        genl_handle_msg(conn, nlh);
        msglen = MNL_ALIGN(nlh->nlmsg_len);
        if (msglen > len) {
            msglen = len;
        }
        p += msglen;
        len -= msglen;
    }
    genl_conn_mark_sync(conn);
    srv->busy_conn = prev;
    free(copy);
}

void
genl_conn_mark_sync(struct genl_conn *conn)
{
    struct genl_qitem *it;

    if (!conn->sync) {
        return;
    }
    it = genl_qitem_new(GENL_Q_SYNC, NULL, 0);
    if (!it) {
        /* The client waits for it: worth a line, though nothing else
         * can be done without memory. */
        wlog_rl(&genl_rl, "genl", WLOG_ERR, "pid %" PRIu32 ": out of "
                "memory for a sync marker", conn->pid);
        return;
    }
    genl_conn_push(conn, it);
}

/* ---- Output and upcalls. ---- */

/* Moves one upcall from the connection's channels (round robin over its
 * datapaths) into its queue.  Returns true if one was queued. */
static bool
genl_conn_take_upcall(struct genl_conn *conn)
{
    for (int tries = 0; tries < GENL_UPCALL_TRIES; tries++) {
        struct dp_upcall *u = NULL;
        struct genl_chan *c = NULL;
        struct genl_msgbuf mb;
        int error = -EMSGSIZE;

        for (size_t i = 0; i < conn->n_chans; i++) {
            size_t idx = (conn->rr + i) % conn->n_chans;

            if (!upcall_channel_recv(conn->chans[idx].ch, &u)) {
                c = &conn->chans[idx];
                conn->rr = idx + 1;
                break;
            }
        }
        if (!c) {
            return false;
        }
        /* Most upcalls fit in a reply-sized buffer; one with a large
         * packet, cookie or action list gets a bigger one. */
        for (size_t cap = GENL_REPLY_SIZE; cap <= 4 * GENL_REPLY_SIZE
             && error == -EMSGSIZE; cap *= 4) {
            if (genl_msgbuf_init(&mb, cap)) {
                error = -ENOMEM;
                break;
            }
            error = genl_packet_upcall_put(&mb, c->gdp, u, conn->pid);
            if (!error) {
                genl_conn_send_mb(conn, &mb, GENL_DLV_ALWAYS);
            }
            genl_msgbuf_uninit(&mb);
        }
        dp_upcall_free(u);
        if (!error) {
            return true;
        }
        wlog_rl(&genl_rl, "genl", WLOG_WARN, "%s: upcall for pid %" PRIu32
                " dropped: %s", c->gdp->name, conn->pid, strerror(-error));
    }
    return false;
}

/* Refills an empty queue: the dump in progress and the upcalls take
 * turns. */
static void
genl_conn_fill(struct genl_conn *conn)
{
    if (conn->dump.running && conn->dump_turn) {
        conn->dump_turn = false;
        genl_dump_part(conn);
        if (conn->head) {
            return;
        }
    }
    if (genl_conn_take_upcall(conn)) {
        conn->dump_turn = true;
        return;
    }
    if (conn->dump.running) {
        genl_dump_part(conn);
    }
}

enum genl_out
genl_conn_output(struct genl_conn *conn, const void **data, size_t *len)
{
    if (!conn->head) {
        struct genl_conn *prev = conn->srv->busy_conn;

        conn->srv->busy_conn = conn;
        genl_conn_fill(conn);
        conn->srv->busy_conn = prev;
    }
    if (!conn->head) {
        *data = NULL;
        *len = 0;
        return GENL_OUT_NONE;
    }
    if (conn->head->kind == GENL_Q_SYNC) {
        *data = NULL;
        *len = 0;
        return GENL_OUT_SYNC;
    }
    *data = conn->head->data;
    *len = conn->head->len;
    return GENL_OUT_DGRAM;
}

void
genl_conn_output_pop(struct genl_conn *conn)
{
    struct genl_qitem *it = conn->head;

    if (!it) {
        return;
    }
    conn->head = it->next;
    if (!conn->head) {
        conn->tail = &conn->head;
    }
    conn->queued -= it->len;
    if (it->overrun) {
        conn->congested = false;
    }
    free(it);
}

int
genl_conn_upcall_fd(const struct genl_conn *conn)
{
    return conn->epfd;
}

size_t
genl_conn_queued(const struct genl_conn *conn)
{
    return conn->queued;
}

/* ---- Connections. ---- */

struct genl_conn *
genl_conn_create(struct genl_server *srv, void (*wake)(void *aux), void *aux)
{
    struct genl_conn *conn = calloc(1, sizeof *conn);

    if (!conn) {
        return NULL;
    }
    conn->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (conn->epfd < 0) {
        wlog("genl", WLOG_ERR, "epoll_create1: %s", strerror(errno));
        free(conn);
        return NULL;
    }
    conn->srv = srv;
    conn->wake = wake;
    conn->wake_aux = aux;
    conn->rcvbuf = GENL_DEFAULT_RCVBUF;
    conn->tail = &conn->head;
    conn->next = srv->conns;
    srv->conns = conn;
    return conn;
}

static bool
genl_pid_used(const struct genl_server *srv, uint32_t pid)
{
    for (const struct genl_conn *c = srv->conns; c; c = c->next) {
        if (c->bound && c->pid == pid) {
            return true;
        }
    }
    return false;
}

int
genl_conn_bind(struct genl_conn *conn, uint32_t pid, uint32_t hint)
{
    struct genl_server *srv = conn->srv;

    if (conn->bound) {
        return -EINVAL;
    }
    if (pid) {
        if (genl_pid_used(srv, pid)) {
            return -EADDRINUSE;
        }
    } else if (hint && !genl_pid_used(srv, hint)) {
        pid = hint;
    } else {
        /* Fewer connections than ids: this ends. */
        do {
            pid = srv->rover--;
            if (srv->rover < GENL_AUTOPID_LAST) {
                srv->rover = GENL_AUTOPID_FIRST;
            }
        } while (genl_pid_used(srv, pid));
    }
    conn->pid = pid;
    conn->bound = true;
    for (struct genl_dp *gdp = genl_dp_next(srv, NULL); gdp;
         gdp = genl_dp_next(srv, gdp)) {
        genl_chan_open(conn, gdp);
    }
    return 0;
}

uint32_t
genl_conn_pid(const struct genl_conn *conn)
{
    return conn->pid;
}

static void
genl_chan_open(struct genl_conn *conn, struct genl_dp *gdp)
{
    struct upcall_channel *ch;
    struct genl_chan *chans;
    struct epoll_event ev;
    struct errbuf err;
    int error;

    errbuf_clear(&err);
    chans = realloc(conn->chans, (conn->n_chans + 1) * sizeof *chans);
    if (!chans) {
        wlog("genl", WLOG_ERR, "%s: out of memory for pid %" PRIu32
             "'s upcall channel", gdp->name, conn->pid);
        return;
    }
    conn->chans = chans;
    error = upcall_channel_open(dp_upcalls(gdp->dp), conn->pid, &ch, &err);
    if (error) {
        wlog("genl", WLOG_WARN, "%s: no upcall channel for pid %" PRIu32
             ": %s", gdp->name, conn->pid, err.msg);
        return;
    }
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = ch;
    if (epoll_ctl(conn->epfd, EPOLL_CTL_ADD, upcall_channel_fd(ch), &ev)) {
        wlog("genl", WLOG_ERR, "%s: epoll_ctl for pid %" PRIu32 ": %s",
             gdp->name, conn->pid, strerror(errno));
    }
    conn->chans[conn->n_chans].gdp = gdp;
    conn->chans[conn->n_chans].ch = ch;
    conn->n_chans++;
}

/* Closes the connection's channel in 'gdp', if it has one. */
static void
genl_chan_close(struct genl_conn *conn, const struct genl_dp *gdp)
{
    for (size_t i = 0; i < conn->n_chans; i++) {
        struct genl_chan *c = &conn->chans[i];

        if (c->gdp != gdp) {
            continue;
        }
        epoll_ctl(conn->epfd, EPOLL_CTL_DEL, upcall_channel_fd(c->ch), NULL);
        upcall_channel_close(c->ch);
        memmove(c, c + 1, (conn->n_chans - i - 1) * sizeof *c);
        conn->n_chans--;
        if (conn->rr > i) {
            conn->rr--;
        }
        return;
    }
}

void
genl_conns_dp_added(struct genl_server *srv, struct genl_dp *gdp)
{
    for (struct genl_conn *c = srv->conns; c; c = c->next) {
        if (c->bound) {
            genl_chan_open(c, gdp);
        }
    }
}

void
genl_conns_dp_removed(struct genl_server *srv, const struct genl_dp *gdp)
{
    for (struct genl_conn *c = srv->conns; c; c = c->next) {
        genl_chan_close(c, gdp);
    }
}

void
genl_conn_destroy(struct genl_conn *conn)
{
    struct genl_conn **pp;

    if (!conn) {
        return;
    }
    for (pp = &conn->srv->conns; *pp; pp = &(*pp)->next) {
        if (*pp == conn) {
            *pp = conn->next;
            break;
        }
    }
    genl_dump_end(conn);
    while (conn->n_chans) {
        genl_chan_close(conn, conn->chans[conn->n_chans - 1].gdp);
    }
    free(conn->chans);
    while (conn->head) {
        genl_conn_output_pop(conn);
    }
    close(conn->epfd);
    free(conn);
}

int
genl_conn_setsockopt(struct genl_conn *conn, uint32_t op, uint32_t value)
{
    switch (op) {
    case WEIR_SOCK_ADD_MEMBERSHIP:
    case WEIR_SOCK_DROP_MEMBERSHIP:
        if (!value || value > GENL_MAX_GROUP) {
            return -EINVAL;
        }
        if (op == WEIR_SOCK_ADD_MEMBERSHIP) {
            conn->groups |= UINT64_C(1) << value;
        } else {
            conn->groups &= ~(UINT64_C(1) << value);
        }
        return 0;
    case WEIR_SOCK_EXT_ACK:
        conn->ext_ack = value != 0;
        return 0;
    case WEIR_SOCK_CAP_ACK:
        conn->cap_ack = value != 0;
        return 0;
    case WEIR_SOCK_STRICT_CHK:
        conn->strict_chk = value != 0;
        return 0;
    case WEIR_SOCK_RCVBUF:
        /* The buffer size itself (what SO_RCVBUF reads back), within
         * bounds, as the kernel caps SO_RCVBUF at net.core.rmem_max. */
        conn->rcvbuf = (value < WEIR_SOCK_RCVBUF_MIN ? WEIR_SOCK_RCVBUF_MIN
                        : value > WEIR_SOCK_RCVBUF_MAX ? WEIR_SOCK_RCVBUF_MAX
                        : value);
        return 0;
    default:
        return -EINVAL;
    }
}

void
genl_conn_set_sync(struct genl_conn *conn, bool sync)
{
    conn->sync = sync;
}

void
genl_changed(struct genl_server *srv)
{
    if (srv->cfg.changed) {
        srv->cfg.changed(srv->cfg.changed_aux);
    }
}

const struct genl_config *
genl_server_config(const struct genl_server *srv)
{
    return &srv->cfg;
}

struct genl_registry *
genl_server_registry(struct genl_server *srv)
{
    return &srv->reg;
}

/* ---- The server. ---- */

struct genl_server *
genl_server_create(const struct genl_config *cfg, struct errbuf *err)
{
    struct genl_server *srv;

    if (cfg->pmd_threads > DP_PMD_MAX) {
        errbuf_set(err, "%" PRIu32 " PMD threads per datapath: at most %d",
                   cfg->pmd_threads, DP_PMD_MAX);
        return NULL;
    }
    srv = calloc(1, sizeof *srv);
    if (!srv) {
        errbuf_set(err, "out of memory");
        return NULL;
    }
    srv->cfg = *cfg;
    srv->local_type = strdup(cfg->local_type ? cfg->local_type : "tap");
    srv->system_type = strdup(cfg->system_type ? cfg->system_type : "auto");
    srv->pmd_cpus = cfg->pmd_cpus ? strdup(cfg->pmd_cpus) : NULL;
    if (!srv->local_type || !srv->system_type
        || (cfg->pmd_cpus && !srv->pmd_cpus)) {
        errbuf_set(err, "out of memory");
        genl_server_destroy(srv);
        return NULL;
    }
    srv->cfg.local_type = srv->local_type;
    srv->cfg.system_type = srv->system_type;
    srv->cfg.pmd_cpus = srv->pmd_cpus;
    genl_registry_init(&srv->reg);
    srv->rover = GENL_AUTOPID_FIRST;
    return srv;
}

void
genl_server_destroy(struct genl_server *srv)
{
    if (!srv) {
        return;
    }
    while (srv->conns) {
        genl_conn_destroy(srv->conns);
    }
    while (genl_dp_next(srv, NULL)) {
        genl_dp_destroy(srv, genl_dp_next(srv, NULL));
    }
    free(srv->local_type);
    free(srv->system_type);
    free(srv->pmd_cpus);
    free(srv);
}
