/* SPDX-License-Identifier: Apache-2.0 */
/* "weir dp": a small netlink client of weird's control socket, for the
 * two things libweir's dpif API does not offer yet -- a port's provider
 * options (show, set-if) and the multicast groups (monitor).  Once
 * include/weir/dpif.h has them, this file goes away.
 *
 * The transport (weir/control.h): an AF_UNIX SOCK_SEQPACKET connection,
 * a HELLO each way, then netlink datagrams as a NETLINK_GENERIC socket
 * would exchange with the kernel; socket options travel as
 * WEIR_NLMSG_SOCKOPT messages.  Every message read is bounds-checked with
 * libmnl; requests are built with its bounded _check calls. */

#include "tools/weir-dp.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/openvswitch.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <libmnl/libmnl.h>

#include "lib/errbuf.h"
#include "weir/control.h"

#define SEND_BUF_SIZE 8192
/* weird's largest datagram is a 64 KiB doit reply; more never hurts. */
#define RECV_BUF_SIZE (128 * 1024)
/* How long a request may wait for weird's answer. */
#define ANSWER_TIMEOUT_MS 10000

/* A datagram kept for later (events that arrived during a dump). */
struct pending {
    struct pending *next;
    size_t len;
    uint8_t data[];
};

struct family {
    uint16_t id;
    uint32_t group;             /* 0: none. */
};

struct dp_nl {
    int fd;
    uint32_t pid;
    uint32_t seq;
    struct family dp, vport, flow;
    bool resolved;
    bool keep_events;           /* Queue non-matching datagrams. */
    struct pending *head, **tail;
    uint8_t *rbuf;
    uint8_t sbuf[SEND_BUF_SIZE];
};

/* ---- Transport. ---- */

/* Receives one datagram within 'timeout_ms' (-1: no limit).  Returns its
 * length, 0 on timeout or EINTR, or -errno. */
static ssize_t
recv_dgram(struct dp_nl *nl, int timeout_ms, struct errbuf *err)
{
    struct pollfd pfd = { .fd = nl->fd, .events = POLLIN };
    ssize_t n;
    int r;

    r = poll(&pfd, 1, timeout_ms);
    if (r < 0) {
        if (errno == EINTR) {
            return 0;
        }
        errbuf_set(err, "poll: %s", strerror(errno));
        return -errno;
    }
    if (!r) {
        return 0;
    }
    n = recv(nl->fd, nl->rbuf, RECV_BUF_SIZE, MSG_TRUNC);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) {
            return 0;
        }
        errbuf_set(err, "receiving from weird: %s", strerror(errno));
        return -errno;
    }
    if (n == 0) {
        errbuf_set(err, "weird closed the connection");
        return -ECONNRESET;
    }
    if (n > RECV_BUF_SIZE) {
        errbuf_set(err, "weird sent a %zd-byte datagram (more than %d)", n,
                   RECV_BUF_SIZE);
        return -EMSGSIZE;
    }
    return n;
}

static int
send_msg(struct dp_nl *nl, const struct nlmsghdr *nlh, struct errbuf *err)
{
    if (send(nl->fd, nlh, nlh->nlmsg_len, MSG_NOSIGNAL) < 0) {
        errbuf_set(err, "sending to weird: %s", strerror(errno));
        return -errno;
    }
    return 0;
}

static int
send_sockopt(struct dp_nl *nl, uint32_t op, uint32_t value,
             struct errbuf *err)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->sbuf);
    struct weir_sockopt *so;

    nlh->nlmsg_type = WEIR_NLMSG_SOCKOPT;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    so = mnl_nlmsg_put_extra_header(nlh, sizeof *so);
    so->op = op;
    so->value = value;
    return send_msg(nl, nlh, err);
}

int
dp_nl_open(struct dp_nl **nlp, struct errbuf *err)
{
    const char *path = dpif_control_path();
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct weir_hello *hello;
    struct nlmsghdr *nlh;
    struct dp_nl *nl;
    ssize_t n;
    int error;

    *nlp = NULL;
    if (strlen(path) >= sizeof sun.sun_path) {
        errbuf_set(err, "control socket path '%s' is too long", path);
        return -ENAMETOOLONG;
    }
    strcpy(sun.sun_path, path);
    nl = calloc(1, sizeof *nl);
    if (!nl || !(nl->rbuf = malloc(RECV_BUF_SIZE))) {
        abort();
    }
    nl->tail = &nl->head;
    nl->seq = 1;
    nl->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (nl->fd < 0 || connect(nl->fd, (struct sockaddr *) &sun,
                              sizeof sun) < 0) {
        error = -errno;
        errbuf_set(err, "cannot reach weird at %s (%s)", path,
                   strerror(errno));
        goto fail;
    }

    nlh = mnl_nlmsg_put_header(nl->sbuf);
    nlh->nlmsg_type = WEIR_NLMSG_HELLO;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    hello = mnl_nlmsg_put_extra_header(nlh, sizeof *hello);
    hello->version = WEIR_HELLO_VERSION;
    error = send_msg(nl, nlh, err);
    if (error) {
        goto fail;
    }
    n = recv_dgram(nl, ANSWER_TIMEOUT_MS, err);
    if (n <= 0) {
        error = n ? (int) n : -ETIMEDOUT;
        if (!n) {
            errbuf_set(err, "weird at %s did not answer HELLO", path);
        }
        goto fail;
    }
    nlh = (struct nlmsghdr *) nl->rbuf;
    if (!mnl_nlmsg_ok(nlh, n) || nlh->nlmsg_type != WEIR_NLMSG_HELLO
        || mnl_nlmsg_get_payload_len(nlh) < sizeof *hello) {
        errbuf_set(err, "weird at %s answered HELLO with something else",
                   path);
        error = -EPROTO;
        goto fail;
    }
    hello = mnl_nlmsg_get_payload(nlh);
    if (hello->error) {
        error = hello->error < 0 ? hello->error : -EPROTO;
        errbuf_set(err, "weird refused the connection (%s)",
                   strerror(-error));
        goto fail;
    }
    nl->pid = hello->pid;
    error = send_sockopt(nl, WEIR_SOCK_EXT_ACK, 1, err);
    if (error) {
        goto fail;
    }
    *nlp = nl;
    return 0;

fail:
    dp_nl_close(nl);
    return error;
}

void
dp_nl_close(struct dp_nl *nl)
{
    if (!nl) {
        return;
    }
    while (nl->head) {
        struct pending *p = nl->head;

        nl->head = p->next;
        free(p);
    }
    if (nl->fd >= 0) {
        close(nl->fd);
    }
    free(nl->rbuf);
    free(nl);
}

/* ---- Requests. ---- */

/* Starts a request in nl->sbuf: nlmsghdr, genlmsghdr and, for the OVS
 * families, struct ovs_header. */
static struct nlmsghdr *
req_start(struct dp_nl *nl, uint16_t family, uint8_t cmd, uint8_t version,
          uint16_t flags, bool ovs, uint32_t dp_ifindex)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->sbuf);
    struct genlmsghdr *g;

    nlh->nlmsg_type = family;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    nlh->nlmsg_seq = ++nl->seq;
    g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
    g->cmd = cmd;
    g->version = version;
    if (ovs) {
        struct ovs_header *oh = mnl_nlmsg_put_extra_header(nlh, sizeof *oh);

        oh->dp_ifindex = dp_ifindex;
    }
    return nlh;
}

static void
keep_dgram(struct dp_nl *nl, const void *data, size_t len)
{
    struct pending *p = malloc(sizeof *p + len);

    if (!p) {
        abort();
    }
    p->next = NULL;
    p->len = len;
    memcpy(p->data, data, len);
    *nl->tail = p;
    nl->tail = &p->next;
}

/* Reads an NLMSG_ERROR: returns its error and puts the extack text, if
 * any, in 'err'. */
static int
parse_error(const struct nlmsghdr *nlh, struct errbuf *err)
{
    const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
    size_t len = mnl_nlmsg_get_payload_len(nlh);
    size_t off;

    if (len < sizeof *e) {
        errbuf_set(err, "weird sent a truncated error message");
        return -EPROTO;
    }
    if (e->error >= 0) {
        return e->error ? -EPROTO : 0;
    }
    errbuf_set(err, "%s", strerror(-e->error));
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) {
        return e->error;
    }
    /* The TLVs follow the echoed request (only its header if capped). */
    off = sizeof *e;
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
        off += MNL_ALIGN(e->msg.nlmsg_len) - sizeof e->msg;
    }
    while (off + sizeof(struct nlattr) <= len) {
        const struct nlattr *a = (const struct nlattr *)
                                 ((const uint8_t *) e + off);

        if (a->nla_len < sizeof *a || off + a->nla_len > len) {
            break;
        }
        if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG
            && !mnl_attr_validate(a, MNL_TYPE_NUL_STRING)) {
            errbuf_set(err, "%s", mnl_attr_get_str(a));
        }
        off += MNL_ALIGN(a->nla_len);
    }
    return e->error;
}

/* Sends the request at nl->sbuf and reads until its ACK, error or
 * NLMSG_DONE, calling 'cb' with each reply message.  Messages that are
 * not replies (notifications) are kept if nl->keep_events, else
 * dropped.  Returns 0 or -errno with the reason in 'err'. */
static int
transact(struct dp_nl *nl, void (*cb)(const struct nlmsghdr *, void *),
         void *aux, struct errbuf *err)
{
    const struct nlmsghdr *req = (const struct nlmsghdr *) nl->sbuf;
    uint32_t seq = req->nlmsg_seq;
    int error = send_msg(nl, req, err);

    while (!error) {
        ssize_t n = recv_dgram(nl, ANSWER_TIMEOUT_MS, err);
        const struct nlmsghdr *nlh = (const struct nlmsghdr *) nl->rbuf;
        bool kept = false;
        int len = n;

        if (n <= 0) {
            if (!n) {
                errbuf_set(err, "weird did not answer within %d s",
                           ANSWER_TIMEOUT_MS / 1000);
            }
            return n ? (int) n : -ETIMEDOUT;
        }
        for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
            if (nlh->nlmsg_seq != seq || nlh->nlmsg_type == NLMSG_OVERRUN) {
                if (nl->keep_events && !kept) {
                    /* Keep the whole datagram; the event reader skips
                     * what is not an event. */
                    keep_dgram(nl, nl->rbuf, n);
                    kept = true;
                }
                continue;
            }
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                return parse_error(nlh, err);
            }
            if (nlh->nlmsg_type == NLMSG_DONE) {
                if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
                    int e = *(const int *) mnl_nlmsg_get_payload(nlh);

                    if (e < 0) {
                        errbuf_set(err, "%s", strerror(-e));
                        return e;
                    }
                }
                return 0;
            }
            if (cb) {
                cb(nlh, aux);
            }
        }
    }
    return error;
}

/* ---- Families. ---- */

struct family_reply {
    struct family *fam;
    const char *group;
    bool ok;
};

static int
group_cb(const struct nlattr *a, void *fr_)
{
    struct family_reply *fr = fr_;
    const struct nlattr *name = NULL, *id = NULL;
    const struct nlattr *sub;

    mnl_attr_for_each_nested(sub, a) {
        uint16_t t = mnl_attr_get_type(sub);

        if (t == CTRL_ATTR_MCAST_GRP_NAME
            && !mnl_attr_validate(sub, MNL_TYPE_NUL_STRING)) {
            name = sub;
        } else if (t == CTRL_ATTR_MCAST_GRP_ID
                   && !mnl_attr_validate(sub, MNL_TYPE_U32)) {
            id = sub;
        }
    }
    if (name && id && !strcmp(mnl_attr_get_str(name), fr->group)) {
        fr->fam->group = mnl_attr_get_u32(id);
    }
    return MNL_CB_OK;
}

static int
family_attr_cb(const struct nlattr *a, void *fr_)
{
    struct family_reply *fr = fr_;
    uint16_t t = mnl_attr_get_type(a);

    if (t == CTRL_ATTR_FAMILY_ID && !mnl_attr_validate(a, MNL_TYPE_U16)) {
        fr->fam->id = mnl_attr_get_u16(a);
        fr->ok = true;
    } else if (t == CTRL_ATTR_MCAST_GROUPS
               && !mnl_attr_validate(a, MNL_TYPE_NESTED)) {
        mnl_attr_parse_nested(a, group_cb, fr);
    }
    return MNL_CB_OK;
}

static void
family_msg_cb(const struct nlmsghdr *nlh, void *fr)
{
    if (mnl_nlmsg_get_payload_len(nlh) >= GENL_HDRLEN) {
        mnl_attr_parse(nlh, GENL_HDRLEN, family_attr_cb, fr);
    }
}

static int
resolve_family(struct dp_nl *nl, const char *name, struct family *fam,
               struct errbuf *err)
{
    struct family_reply fr = { fam, name, false };
    struct nlmsghdr *nlh;
    int error;

    nlh = req_start(nl, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 2, NLM_F_ACK,
                    false, 0);
    if (!mnl_attr_put_strz_check(nlh, SEND_BUF_SIZE, CTRL_ATTR_FAMILY_NAME,
                                 name)) {
        return -EMSGSIZE;
    }
    error = transact(nl, family_msg_cb, &fr, err);
    if (!error && !fr.ok) {
        errbuf_set(err, "weird did not say the id of family %s", name);
        error = -EPROTO;
    } else if (error) {
        errbuf_prefix(err, "family %s: ", name);
    }
    return error;
}

static int
resolve(struct dp_nl *nl, struct errbuf *err)
{
    int error;

    if (nl->resolved) {
        return 0;
    }
    error = resolve_family(nl, OVS_DATAPATH_FAMILY, &nl->dp, err);
    if (!error) {
        error = resolve_family(nl, OVS_VPORT_FAMILY, &nl->vport, err);
    }
    if (!error) {
        error = resolve_family(nl, OVS_FLOW_FAMILY, &nl->flow, err);
    }
    nl->resolved = !error;
    return error;
}

/* ---- Decoding OVS messages. ---- */

/* The attributes of an OVS message by type (up to 'max'), with the
 * ovs_header.  Returns false for a malformed message. */
static bool
ovs_parse(const struct nlmsghdr *nlh, const struct nlattr **tb, int max,
          uint8_t *cmd, uint32_t *dp_ifindex)
{
    size_t hdr = GENL_HDRLEN + sizeof(struct ovs_header);
    const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
    const struct ovs_header *oh;
    const struct nlattr *a;

    if (mnl_nlmsg_get_payload_len(nlh) < hdr) {
        return false;
    }
    oh = (const struct ovs_header *) ((const uint8_t *) g + GENL_HDRLEN);
    *cmd = g->cmd;
    *dp_ifindex = oh->dp_ifindex;
    memset(tb, 0, (max + 1) * sizeof *tb);
    mnl_attr_for_each(a, nlh, hdr) {
        uint16_t t = mnl_attr_get_type(a);

        if (t <= max) {
            tb[t] = a;
        }
    }
    /* mnl_attr_for_each stops at the first attribute that does not fit
     * in what is left: if a header's worth of bytes is left, that
     * attribute is malformed. */
    return (const uint8_t *) mnl_nlmsg_get_payload_tail(nlh)
           - (const uint8_t *) a < (ptrdiff_t) sizeof(struct nlattr);
}

static bool
attr_ok(const struct nlattr *a, enum mnl_attr_data_type type)
{
    return !a || !mnl_attr_validate(a, type);
}

static int
vport_opt_cb(const struct nlattr *a, void *v_)
{
    struct dp_nl_vport *v = v_;
    uint16_t t = mnl_attr_get_type(a);

    if (t == WEIR_VPORT_OPT_PROVIDER
        && !mnl_attr_validate(a, MNL_TYPE_NUL_STRING)) {
        v->provider = mnl_attr_get_str(a);
    } else if (t == WEIR_VPORT_OPT_ARGS
               && !mnl_attr_validate(a, MNL_TYPE_NUL_STRING)) {
        v->args = mnl_attr_get_str(a);
    }
    return MNL_CB_OK;
}

static bool
parse_vport(const struct nlmsghdr *nlh, struct dp_nl_vport *v, uint8_t *cmd)
{
    const struct nlattr *tb[OVS_VPORT_ATTR_MAX + 1];
    const char *name;

    memset(v, 0, sizeof *v);
    if (!ovs_parse(nlh, tb, OVS_VPORT_ATTR_MAX, cmd, &v->dp_ifindex)
        || !tb[OVS_VPORT_ATTR_PORT_NO] || !tb[OVS_VPORT_ATTR_NAME]
        || !attr_ok(tb[OVS_VPORT_ATTR_PORT_NO], MNL_TYPE_U32)
        || !attr_ok(tb[OVS_VPORT_ATTR_TYPE], MNL_TYPE_U32)
        || !attr_ok(tb[OVS_VPORT_ATTR_NAME], MNL_TYPE_NUL_STRING)
        || !attr_ok(tb[OVS_VPORT_ATTR_IFINDEX], MNL_TYPE_U32)
        || !attr_ok(tb[OVS_VPORT_ATTR_OPTIONS], MNL_TYPE_NESTED)) {
        return false;
    }
    name = mnl_attr_get_str(tb[OVS_VPORT_ATTR_NAME]);
    snprintf(v->port.name, sizeof v->port.name, "%s", name);
    v->port.port_no = mnl_attr_get_u32(tb[OVS_VPORT_ATTR_PORT_NO]);
    if (tb[OVS_VPORT_ATTR_IFINDEX]) {
        v->port.ifindex = mnl_attr_get_u32(tb[OVS_VPORT_ATTR_IFINDEX]);
    }
    if (tb[OVS_VPORT_ATTR_OPTIONS]) {
        mnl_attr_parse_nested(tb[OVS_VPORT_ATTR_OPTIONS], vport_opt_cb, v);
    }
    /* The type as the dpif API names it: the weir provider the port was
     * made with, else OVS's name for the vport type. */
    if (v->provider) {
        snprintf(v->port.type, sizeof v->port.type, "%s", v->provider);
    } else if (tb[OVS_VPORT_ATTR_TYPE]) {
        uint32_t t = mnl_attr_get_u32(tb[OVS_VPORT_ATTR_TYPE]);

        snprintf(v->port.type, sizeof v->port.type, "%s",
                 t == OVS_VPORT_TYPE_NETDEV ? "system"
                 : t == OVS_VPORT_TYPE_INTERNAL ? "internal" : "unknown");
    }
    if (tb[OVS_VPORT_ATTR_STATS]
        && mnl_attr_get_payload_len(tb[OVS_VPORT_ATTR_STATS])
           >= sizeof(struct ovs_vport_stats)) {
        struct ovs_vport_stats s;

        memcpy(&s, mnl_attr_get_payload(tb[OVS_VPORT_ATTR_STATS]), sizeof s);
        v->has_stats = true;
        v->stats.rx_packets = s.rx_packets;
        v->stats.tx_packets = s.tx_packets;
        v->stats.rx_bytes = s.rx_bytes;
        v->stats.tx_bytes = s.tx_bytes;
        v->stats.rx_errors = s.rx_errors;
        v->stats.tx_errors = s.tx_errors;
        v->stats.rx_dropped = s.rx_dropped;
        v->stats.tx_dropped = s.tx_dropped;
    }
    return true;
}

static bool
parse_flow(const struct nlmsghdr *nlh, struct dpif_flow *f, uint8_t *cmd,
           uint32_t *dp_ifindex)
{
    const struct nlattr *tb[OVS_FLOW_ATTR_MAX + 1];
    const struct nlattr *a;

    memset(f, 0, sizeof *f);
    if (!ovs_parse(nlh, tb, OVS_FLOW_ATTR_MAX, cmd, dp_ifindex)
        || !attr_ok(tb[OVS_FLOW_ATTR_KEY], MNL_TYPE_NESTED)
        || !attr_ok(tb[OVS_FLOW_ATTR_MASK], MNL_TYPE_NESTED)
        || !attr_ok(tb[OVS_FLOW_ATTR_ACTIONS], MNL_TYPE_NESTED)
        || !attr_ok(tb[OVS_FLOW_ATTR_TCP_FLAGS], MNL_TYPE_U8)
        || !attr_ok(tb[OVS_FLOW_ATTR_USED], MNL_TYPE_U64)) {
        return false;
    }
    if ((a = tb[OVS_FLOW_ATTR_KEY]) != NULL) {
        f->key = mnl_attr_get_payload(a);
        f->key_len = mnl_attr_get_payload_len(a);
    }
    if ((a = tb[OVS_FLOW_ATTR_MASK]) != NULL) {
        f->mask = mnl_attr_get_payload(a);
        f->mask_len = mnl_attr_get_payload_len(a);
    }
    if ((a = tb[OVS_FLOW_ATTR_ACTIONS]) != NULL) {
        f->actions = mnl_attr_get_payload(a);
        f->actions_len = mnl_attr_get_payload_len(a);
    }
    if ((a = tb[OVS_FLOW_ATTR_UFID]) != NULL) {
        size_t len = mnl_attr_get_payload_len(a);

        if (len < 1 || len > DPIF_UFID_LEN) {
            return false;
        }
        f->ufid.len = len;
        memcpy(f->ufid.id, mnl_attr_get_payload(a), len);
    }
    if ((a = tb[OVS_FLOW_ATTR_STATS]) != NULL) {
        struct ovs_flow_stats s;

        if (mnl_attr_get_payload_len(a) < sizeof s) {
            return false;
        }
        memcpy(&s, mnl_attr_get_payload(a), sizeof s);
        f->stats.n_packets = s.n_packets;
        f->stats.n_bytes = s.n_bytes;
    }
    if (tb[OVS_FLOW_ATTR_TCP_FLAGS]) {
        f->stats.tcp_flags = mnl_attr_get_u8(tb[OVS_FLOW_ATTR_TCP_FLAGS]);
    }
    if (tb[OVS_FLOW_ATTR_USED]) {
        f->stats.used_ms = mnl_attr_get_u64(tb[OVS_FLOW_ATTR_USED]);
    }
    return true;
}

/* ---- Datapaths and ports. ---- */

struct ifindex_reply {
    uint32_t ifindex;
    bool ok;
};

static void
ifindex_cb(const struct nlmsghdr *nlh, void *r_)
{
    struct ifindex_reply *r = r_;
    const struct nlattr *tb[OVS_DP_ATTR_MAX + 1];
    uint8_t cmd;

    if (ovs_parse(nlh, tb, OVS_DP_ATTR_MAX, &cmd, &r->ifindex)) {
        r->ok = true;
    }
}

int
dp_nl_dp_ifindex(struct dp_nl *nl, const char *name, uint32_t *ifindex,
                 struct errbuf *err)
{
    struct ifindex_reply r = { 0, false };
    struct nlmsghdr *nlh;
    int error = resolve(nl, err);

    if (error) {
        return error;
    }
    nlh = req_start(nl, nl->dp.id, OVS_DP_CMD_GET, OVS_DATAPATH_VERSION,
                    NLM_F_ACK, true, 0);
    if (!mnl_attr_put_strz_check(nlh, SEND_BUF_SIZE, OVS_DP_ATTR_NAME,
                                 name)) {
        return -EMSGSIZE;
    }
    error = transact(nl, ifindex_cb, &r, err);
    if (!error && !r.ok) {
        errbuf_set(err, "weird's answer about datapath %s is malformed",
                   name);
        error = -EPROTO;
    }
    *ifindex = r.ifindex;
    return error;
}

struct vport_dump_ctx {
    void (*cb)(const struct dp_nl_vport *, void *);
    void *aux;
    uint32_t dp_ifindex;
};

static void
vport_dump_cb(const struct nlmsghdr *nlh, void *ctx_)
{
    struct vport_dump_ctx *ctx = ctx_;
    struct dp_nl_vport v;
    uint8_t cmd;

    if (parse_vport(nlh, &v, &cmd) && v.dp_ifindex == ctx->dp_ifindex) {
        ctx->cb(&v, ctx->aux);
    }
}

int
dp_nl_vport_dump(struct dp_nl *nl, uint32_t dp_ifindex,
                 void (*cb)(const struct dp_nl_vport *, void *aux),
                 void *aux, struct errbuf *err)
{
    struct vport_dump_ctx ctx = { cb, aux, dp_ifindex };
    int error = resolve(nl, err);

    if (error) {
        return error;
    }
    req_start(nl, nl->vport.id, OVS_VPORT_CMD_GET, OVS_VPORT_VERSION,
              NLM_F_DUMP, true, dp_ifindex);
    return transact(nl, vport_dump_cb, &ctx, err);
}

int
dp_nl_vport_set_options(struct dp_nl *nl, uint32_t dp_ifindex,
                        const char *name, const char *provider,
                        const char *args, struct errbuf *err)
{
    struct nlmsghdr *nlh;
    struct nlattr *nest;
    int error = resolve(nl, err);

    if (error) {
        return error;
    }
    nlh = req_start(nl, nl->vport.id, OVS_VPORT_CMD_SET, OVS_VPORT_VERSION,
                    NLM_F_ACK, true, dp_ifindex);
    if (!mnl_attr_put_strz_check(nlh, SEND_BUF_SIZE, OVS_VPORT_ATTR_NAME,
                                 name)
        || !(nest = mnl_attr_nest_start_check(nlh, SEND_BUF_SIZE,
                                              OVS_VPORT_ATTR_OPTIONS))
        || (provider
            && !mnl_attr_put_strz_check(nlh, SEND_BUF_SIZE,
                                        WEIR_VPORT_OPT_PROVIDER, provider))
        || !mnl_attr_put_strz_check(nlh, SEND_BUF_SIZE, WEIR_VPORT_OPT_ARGS,
                                    args)) {
        errbuf_set(err, "the options do not fit in a request");
        return -EMSGSIZE;
    }
    mnl_attr_nest_end(nlh, nest);
    return transact(nl, NULL, NULL, err);
}

/* ---- Events. ---- */

int
dp_nl_subscribe(struct dp_nl *nl, struct errbuf *err)
{
    const struct family *fams[] = { &nl->dp, &nl->vport, &nl->flow };
    int error = resolve(nl, err);

    if (error) {
        return error;
    }
    /* Room for bursts: a monitor that falls behind loses events. */
    error = send_sockopt(nl, WEIR_SOCK_RCVBUF, 8 * 1024 * 1024, err);
    for (size_t i = 0; !error && i < sizeof fams / sizeof fams[0]; i++) {
        if (!fams[i]->group) {
            errbuf_set(err, "weird has no multicast group for family %u",
                       fams[i]->id);
            return -EOPNOTSUPP;
        }
        error = send_sockopt(nl, WEIR_SOCK_ADD_MEMBERSHIP, fams[i]->group,
                             err);
    }
    /* From now on, events that arrive while we wait for a reply are kept
     * for dp_nl_next_event(). */
    nl->keep_events = !error;
    return error;
}

struct dp_dump_ctx {
    void (*cb)(const char *name, uint32_t ifindex, void *aux);
    void *aux;
};

static void
dp_dump_cb(const struct nlmsghdr *nlh, void *ctx_)
{
    struct dp_dump_ctx *ctx = ctx_;
    const struct nlattr *tb[OVS_DP_ATTR_MAX + 1];
    uint32_t ifindex;
    uint8_t cmd;

    if (ovs_parse(nlh, tb, OVS_DP_ATTR_MAX, &cmd, &ifindex)
        && tb[OVS_DP_ATTR_NAME]
        && attr_ok(tb[OVS_DP_ATTR_NAME], MNL_TYPE_NUL_STRING)) {
        ctx->cb(mnl_attr_get_str(tb[OVS_DP_ATTR_NAME]), ifindex, ctx->aux);
    }
}

int
dp_nl_dp_dump(struct dp_nl *nl,
              void (*cb)(const char *name, uint32_t ifindex, void *aux),
              void *aux, struct errbuf *err)
{
    struct dp_dump_ctx ctx = { cb, aux };
    int error = resolve(nl, err);

    if (error) {
        return error;
    }
    req_start(nl, nl->dp.id, OVS_DP_CMD_GET, OVS_DATAPATH_VERSION,
              NLM_F_DUMP, true, 0);
    return transact(nl, dp_dump_cb, &ctx, err);
}

/* Decodes one message into an event and calls 'cb'; skips what is not
 * an event. */
static void
dispatch(struct dp_nl *nl, const struct nlmsghdr *nlh,
         void (*cb)(const struct dp_nl_event *, void *), void *aux)
{
    struct dp_nl_event ev;
    bool ok = true;

    memset(&ev, 0, sizeof ev);
    if (nlh->nlmsg_type == NLMSG_OVERRUN) {
        ev.kind = DP_NL_EV_LOST;
    } else if (nlh->nlmsg_type == nl->dp.id) {
        const struct nlattr *tb[OVS_DP_ATTR_MAX + 1];

        ev.kind = DP_NL_EV_DP;
        ok = ovs_parse(nlh, tb, OVS_DP_ATTR_MAX, &ev.cmd, &ev.dp_ifindex)
             && tb[OVS_DP_ATTR_NAME]
             && attr_ok(tb[OVS_DP_ATTR_NAME], MNL_TYPE_NUL_STRING);
        if (ok) {
            ev.dp_name = mnl_attr_get_str(tb[OVS_DP_ATTR_NAME]);
        }
    } else if (nlh->nlmsg_type == nl->vport.id) {
        ev.kind = DP_NL_EV_PORT;
        ok = parse_vport(nlh, &ev.vport, &ev.cmd);
        ev.dp_ifindex = ev.vport.dp_ifindex;
    } else if (nlh->nlmsg_type == nl->flow.id) {
        ev.kind = DP_NL_EV_FLOW;
        ok = parse_flow(nlh, &ev.flow, &ev.cmd, &ev.dp_ifindex);
    } else {
        return;                 /* Replies, errors, other families. */
    }
    if (!ok) {
        fprintf(stderr, "weir: skipped a malformed event (message type "
                "%u, %u bytes)\n", nlh->nlmsg_type, nlh->nlmsg_len);
        return;
    }
    if (ev.kind != DP_NL_EV_LOST && ev.cmd == OVS_DP_CMD_GET) {
        return;                 /* A reply, not an event (the same number
                                 * in every OVS family). */
    }
    cb(&ev, aux);
}

static void
dispatch_dgram(struct dp_nl *nl, const void *data, size_t len,
               void (*cb)(const struct dp_nl_event *, void *), void *aux)
{
    const struct nlmsghdr *nlh = data;
    int rem = len;

    for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
        dispatch(nl, nlh, cb, aux);
    }
}

int
dp_nl_next_event(struct dp_nl *nl, int timeout_ms,
                 void (*cb)(const struct dp_nl_event *, void *aux),
                 void *aux, struct errbuf *err)
{
    ssize_t n;

    if (nl->head) {
        struct pending *p = nl->head;

        nl->head = p->next;
        if (!nl->head) {
            nl->tail = &nl->head;
        }
        dispatch_dgram(nl, p->data, p->len, cb, aux);
        free(p);
        return 1;
    }
    n = recv_dgram(nl, timeout_ms, err);
    if (n <= 0) {
        return n;
    }
    dispatch_dgram(nl, nl->rbuf, n, cb, aux);
    return 1;
}
