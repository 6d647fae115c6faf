/* SPDX-License-Identifier: Apache-2.0 */

/* The ovs_vport family: OVS_VPORT_CMD_NEW, _DEL, _GET (and its dump) and
 * _SET, answered as net/openvswitch/datapath.c answers them, and the
 * vport records of genl-private.h (genl_vport_add(), genl_vport_forget()).
 *
 * Types.  OVS_VPORT_TYPE_NETDEV is an existing device, opened with the
 * dpif type "system" (AF_PACKET; or the server's configured
 * system_type); OVS_VPORT_TYPE_INTERNAL is a device
 * of the datapath's own, "internal" (a TAP device).  weir's extension
 * (weir/control.h) lets OVS_VPORT_ATTR_OPTIONS of those two types name the
 * port provider (WEIR_VPORT_OPT_PROVIDER) and its options
 * (WEIR_VPORT_OPT_ARGS); a kernel ignores the options of these types, so
 * a kernel-only client never notices.  Tunnel types (GRE, VXLAN, GENEVE,
 * ...) are refused with -EAFNOSUPPORT, what the kernel answers when the
 * vport module of a type cannot be loaded.
 *
 * Replies are the kernel's ovs_vport_cmd_fill_info(), in its attribute
 * order since 6.2 (which added UPCALL_STATS): PORT_NO, TYPE, NAME,
 * IFINDEX, STATS (struct ovs_vport_stats), UPCALL_STATS (nest of
 * OVS_VPORT_UPCALL_ATTR_SUCCESS and _FAIL, u64), UPCALL_PID (the whole
 * array with OVS_DP_F_VPORT_PIDS, else the first PID as the kernel does)
 * and OPTIONS (only for ports made with weir's provider extension).  6.1
 * sends the same without UPCALL_STATS; a client that does not know the
 * attribute (Open vSwitch 3.1) skips it.  NETNSID is never sent: every
 * port is in the client's namespace.
 *
 * Records.  'gdp->vports' holds, sorted by port number, what the datapath
 * engine does not know of a port: the OVS type reported, the dpif type and
 * provider, the provider options.  The core (genl.c) frees the records of
 * a datapath it destroys. */

#include <errno.h>
#include <inttypes.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp/dp.h"
#include "genl/genl-private.h"
#include "lib/errbuf.h"
#include "port/port.h"
#include "weir/control.h"

/* Added by Linux 6.2, after the 6.1 headers weir builds with. */
#define GENL_VPORT_ATTR_UPCALL_STATS (OVS_VPORT_ATTR_NETNSID + 1)
#define GENL_VPORT_ATTR_MAX GENL_VPORT_ATTR_UPCALL_STATS
#define GENL_VPORT_UPCALL_ATTR_SUCCESS 0
#define GENL_VPORT_UPCALL_ATTR_FAIL 1

static const struct genl_policy genl_vport_policy[GENL_VPORT_ATTR_MAX + 1] = {
    [OVS_VPORT_ATTR_PORT_NO] = { GENL_ATTR_U32, 0 },
    [OVS_VPORT_ATTR_TYPE] = { GENL_ATTR_U32, 0 },
    [OVS_VPORT_ATTR_NAME] = { GENL_ATTR_STRING, IFNAMSIZ },
    [OVS_VPORT_ATTR_OPTIONS] = { GENL_ATTR_NESTED, 0 },
    [OVS_VPORT_ATTR_UPCALL_PID] = { GENL_ATTR_UNSPEC, 0 },
    /* The kernel's minimum length is checked by genl_vport_check_policy(). */
    [OVS_VPORT_ATTR_STATS] = { GENL_ATTR_UNSPEC, 0 },
    [OVS_VPORT_ATTR_IFINDEX] = { GENL_ATTR_U32, 0 },
    [OVS_VPORT_ATTR_NETNSID] = { GENL_ATTR_U32, 0 },
    [GENL_VPORT_ATTR_UPCALL_STATS] = { GENL_ATTR_NESTED, 0 },
};


static const char *
genl_vport_type_name(uint32_t type)
{
    switch (type) {
    case OVS_VPORT_TYPE_UNSPEC:
        return "unspec";
    case OVS_VPORT_TYPE_NETDEV:
        return "netdev";
    case OVS_VPORT_TYPE_INTERNAL:
        return "internal";
    case OVS_VPORT_TYPE_GRE:
        return "gre";
    case OVS_VPORT_TYPE_VXLAN:
        return "vxlan";
    case OVS_VPORT_TYPE_GENEVE:
        return "geneve";
    /* Numbers of types newer than the 6.1 headers. */
    case 6:
        return "erspan";
    case 7:
        return "ip6erspan";
    case 8:
        return "ip6gre";
    case 9:
        return "gtpu";
    case 10:
        return "srv6";
    default:
        return "unknown";
    }
}

/* ---- Records. ---- */

/* Index of the first record of 'gdp' with a port number >= 'port_no'. */
static size_t
genl_vport_find(const struct genl_dp *gdp, uint32_t port_no)
{
    size_t lo = 0, hi = gdp->n_vports;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (gdp->vports[mid].port_no < port_no) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Copies 's' into the 'size'-byte 'dst'.  Returns false if it does not
 * fit (then 'dst' is untouched). */
static bool
genl_vport_copy_str(char *dst, size_t size, const char *s)
{
    size_t len = strlen(s);

    if (len >= size) {
        return false;
    }
    memcpy(dst, s, len + 1);
    return true;
}

/* Adds a port to 'gdp' and records it.
 *
 * 'dpif_type' is the dpif type: "system" (an existing device: opened with
 * the server's configured system_type, "auto" by default, with which
 * port_open() uses AF_PACKET) or "internal" (a
 * TAP device), or a provider name.  'provider', if not NULL, is the
 * provider a client chose with WEIR_VPORT_OPT_PROVIDER (genl.c's state
 * restore passes it the same way): the port is opened with it, and
 * reports it and 'options' back in OVS_VPORT_ATTR_OPTIONS.  The OVS type
 * recorded is OVS_VPORT_TYPE_INTERNAL for "internal", else
 * OVS_VPORT_TYPE_NETDEV. */
int
genl_vport_add(struct genl_server *srv, struct genl_dp *gdp,
               const char *name, const char *dpif_type,
               const char *provider, const char *options,
               const uint32_t *pids, size_t n_pids,
               uint32_t *port_no, struct errbuf *err)
{
    const struct genl_config *cfg = genl_server_config(srv);
    const char *open_type = provider ? provider : dpif_type;
    struct genl_vport rec, *vports;
    const struct port *port;
    uint32_t no = *port_no;
    size_t at;
    int error;

    memset(&rec, 0, sizeof rec);
    if (!genl_vport_copy_str(rec.dpif_type, sizeof rec.dpif_type,
                             dpif_type)) {
        errbuf_set(err, "port type '%s' is too long", dpif_type);
        return -EINVAL;
    }
    if (n_pids > DP_UPCALL_PIDS_MAX) {
        errbuf_set(err, "%zu upcall PIDs: weird takes at most %d", n_pids,
                   DP_UPCALL_PIDS_MAX);
        return -EINVAL;
    }
    if (!provider && !strcmp(dpif_type, "system") && cfg
        && cfg->system_type && cfg->system_type[0]
        && strcmp(cfg->system_type, "auto")) {
        open_type = cfg->system_type;
    }

    /* Everything that can fail without undoing comes first. */
    vports = realloc(gdp->vports, (gdp->n_vports + 1) * sizeof *vports);
    if (!vports) {
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    gdp->vports = vports;
    if (options) {
        rec.options = strdup(options);
        if (!rec.options) {
            errbuf_set(err, "out of memory");
            return -ENOMEM;
        }
    }

    error = dp_port_add(gdp->dp, open_type, name, options, &no, err);
    if (error) {
        free(rec.options);
        return error;
    }
    if (n_pids) {
        error = dp_port_set_upcall_pids(gdp->dp, no, pids, n_pids);
        if (error) {
            errbuf_set(err, "cannot set %zu upcall PIDs on port %s",
                       n_pids, name);
            dp_port_del(gdp->dp, no);
            free(rec.options);
            return error;
        }
    }

    port = dp_port_get(gdp->dp, no);
    genl_vport_copy_str(rec.provider, sizeof rec.provider,
                        port ? port_type(port) : open_type);
    rec.port_no = no;
    rec.ovs_type = (!strcmp(dpif_type, "internal")
                    ? OVS_VPORT_TYPE_INTERNAL : OVS_VPORT_TYPE_NETDEV);
    rec.explicit_provider = provider != NULL;

    at = genl_vport_find(gdp, no);
    if (at < gdp->n_vports && gdp->vports[at].port_no == no) {
        /* A stale record of a number the datapath reused: replace it. */
        free(gdp->vports[at].options);
    } else {
        memmove(&gdp->vports[at + 1], &gdp->vports[at],
                (gdp->n_vports - at) * sizeof *gdp->vports);
        gdp->n_vports++;
    }
    gdp->vports[at] = rec;
    *port_no = no;
    return 0;
}

void
genl_vport_forget(struct genl_dp *gdp, uint32_t port_no)
{
    size_t at = genl_vport_find(gdp, port_no);

    if (at < gdp->n_vports && gdp->vports[at].port_no == port_no) {
        free(gdp->vports[at].options);
        memmove(&gdp->vports[at], &gdp->vports[at + 1],
                (gdp->n_vports - at - 1) * sizeof *gdp->vports);
        gdp->n_vports--;
    }
}

/* ---- Replies. ---- */

/* Appends the UPCALL_STATS nest.  Returns false if it does not fit. */
static bool
genl_vport_put_upcall_stats(struct genl_msgbuf *mb, struct nlmsghdr *nlh,
                            uint64_t success, uint64_t fail)
{
    struct nlattr *nest;

    nest = mnl_attr_nest_start_check(nlh, genl_msg_room(mb, nlh),
                                     GENL_VPORT_ATTR_UPCALL_STATS);
    if (!nest) {
        return false;
    }
    /* The kernel pads these with OVS_VPORT_ATTR_PAD too. */
    if (!genl_put_64bit(nlh, genl_msg_room(mb, nlh),
                        GENL_VPORT_UPCALL_ATTR_SUCCESS, sizeof success,
                        &success, OVS_VPORT_ATTR_PAD)
        || !genl_put_64bit(nlh, genl_msg_room(mb, nlh),
                           GENL_VPORT_UPCALL_ATTR_FAIL, sizeof fail, &fail,
                           OVS_VPORT_ATTR_PAD)) {
        mnl_attr_nest_cancel(nlh, nest);
        return false;
    }
    mnl_attr_nest_end(nlh, nest);
    return true;
}

/* Appends the OPTIONS nest of a port made with weir's provider extension.
 * Returns false if it does not fit. */
static bool
genl_vport_put_options(struct genl_msgbuf *mb, struct nlmsghdr *nlh,
                       const struct genl_vport *rec)
{
    struct nlattr *nest;

    nest = mnl_attr_nest_start_check(nlh, genl_msg_room(mb, nlh),
                                     OVS_VPORT_ATTR_OPTIONS);
    if (!nest) {
        return false;
    }
    if (!mnl_attr_put_strz_check(nlh, genl_msg_room(mb, nlh),
                                 WEIR_VPORT_OPT_PROVIDER, rec->provider)
        || (rec->options
            && !mnl_attr_put_strz_check(nlh, genl_msg_room(mb, nlh),
                                        WEIR_VPORT_OPT_ARGS,
                                        rec->options))) {
        mnl_attr_nest_cancel(nlh, nest);
        return false;
    }
    mnl_attr_nest_end(nlh, nest);
    return true;
}

/* Appends the kernel's ovs_vport_cmd_fill_info() message for port
 * 'port_no' of 'gdp' to 'mb'.
 * Context: RCU reader.  Returns 0, -ENOENT (no such port) or -EMSGSIZE
 * ('mb' unchanged). */
static int
genl_vport_fill(struct genl_msgbuf *mb, struct genl_dp *gdp,
                uint32_t port_no, uint8_t cmd, uint32_t portid,
                uint32_t seq, uint16_t flags)
{
    uint32_t pids[DP_UPCALL_PIDS_MAX];
    const struct genl_vport *rec;
    struct ovs_vport_stats vs;
    const struct port *port;
    uint64_t success, fail;
    struct port_stats ps;
    struct port_info info;
    struct nlmsghdr *nlh;
    uint32_t ovs_type;
    uint32_t ifindex;
    int n_pids;

    port = dp_port_get(gdp->dp, port_no);
    if (!port) {
        return -ENOENT;
    }
    rec = genl_dp_vport(gdp, port_no);
    if (rec) {
        ovs_type = rec->ovs_type;
    } else {
        ovs_type = (port_no == DP_LOCAL_PORT ? OVS_VPORT_TYPE_INTERNAL
                    : OVS_VPORT_TYPE_NETDEV);
    }

    port_get_stats(port, &ps);
    memset(&vs, 0, sizeof vs);
    vs.rx_packets = ps.rx_packets;
    vs.tx_packets = ps.tx_packets;
    vs.rx_bytes = ps.rx_bytes;
    vs.tx_bytes = ps.tx_bytes;
    vs.rx_errors = ps.rx_errors;
    vs.tx_errors = 0;
    vs.rx_dropped = ps.rx_dropped;
    vs.tx_dropped = ps.tx_dropped;

    /* The local port's ifindex is the datapath's (made up for a dummy
     * local port), so that the two always agree. */
    port_get_info(port, &info);
    ifindex = (port_no == DP_LOCAL_PORT ? gdp->ifindex
               : (uint32_t) (info.ifindex > 0 ? info.ifindex : 0));

    success = fail = 0;
    dp_port_get_upcall_stats(gdp->dp, port_no, &success, &fail);

    n_pids = dp_port_get_upcall_pids(gdp->dp, port_no, pids,
                                     DP_UPCALL_PIDS_MAX);
    if (n_pids <= 0) {
        /* No PIDs: the kernel's "no upcalls" is a single 0. */
        pids[0] = 0;
        n_pids = 1;
    } else if (n_pids > DP_UPCALL_PIDS_MAX) {
        n_pids = DP_UPCALL_PIDS_MAX;
    }
    if (!(dp_get_user_features(gdp->dp) & OVS_DP_F_VPORT_PIDS)) {
        n_pids = 1;
    }

    nlh = genl_msg_start(mb, &genl_vport_family, cmd, portid, seq, flags,
                         gdp->ifindex);
    if (!nlh) {
        return -EMSGSIZE;
    }
    if (!mnl_attr_put_u32_check(nlh, genl_msg_room(mb, nlh),
                                OVS_VPORT_ATTR_PORT_NO, port_no)
        || !mnl_attr_put_u32_check(nlh, genl_msg_room(mb, nlh),
                                   OVS_VPORT_ATTR_TYPE, ovs_type)
        || !mnl_attr_put_strz_check(nlh, genl_msg_room(mb, nlh),
                                    OVS_VPORT_ATTR_NAME, port->name)
        || !mnl_attr_put_u32_check(nlh, genl_msg_room(mb, nlh),
                                   OVS_VPORT_ATTR_IFINDEX, ifindex)
        || !genl_put_64bit(nlh, genl_msg_room(mb, nlh), OVS_VPORT_ATTR_STATS,
                           sizeof vs, &vs, OVS_VPORT_ATTR_PAD)
        || !genl_vport_put_upcall_stats(mb, nlh, success, fail)
        || !mnl_attr_put_check(nlh, genl_msg_room(mb, nlh),
                               OVS_VPORT_ATTR_UPCALL_PID,
                               (size_t) n_pids * sizeof pids[0], pids)
        || (rec && rec->explicit_provider
            && !genl_vport_put_options(mb, nlh, rec))) {
        genl_msg_cancel(mb, nlh);
        return -EMSGSIZE;
    }
    genl_msg_end(mb, nlh);
    return 0;
}

/* Builds the reply to 'req' about port 'port_no' of 'gdp' into 'mb',
 * which it initializes.  Returns 0 (the caller then sends and uninits
 * 'mb'), or -errno ('mb' left uninitialized). */
static int
genl_vport_reply(struct genl_req *req, struct genl_dp *gdp,
                 uint32_t port_no, uint8_t cmd, struct genl_msgbuf *mb)
{
    int error = genl_msgbuf_init(mb, GENL_REPLY_SIZE);

    if (error) {
        return error;
    }
    error = genl_vport_fill(mb, gdp, port_no, cmd, genl_conn_pid(req->conn),
                            req->nlh->nlmsg_seq, 0);
    if (error) {
        errbuf_set(req->err, "cannot build the reply for port %" PRIu32,
                   port_no);
        genl_msgbuf_uninit(mb);
    }
    return error;
}

/* Sends the reply in 'mb' as the kernel's ovs_notify() and frees it. */
static void
genl_vport_notify(struct genl_req *req, struct genl_msgbuf *mb)
{
    genl_notify(req, &genl_vport_family, mb);
    genl_msgbuf_uninit(mb);
}

/* Notifies command 'cmd' (NEW or SET) of port 'port_no' of 'gdp' as it is
 * now, building the message only when someone will read it.  Returns 0
 * or the reply's error. */
static int
genl_vport_notify_now(struct genl_req *req, struct genl_dp *gdp,
                      uint32_t port_no, uint8_t cmd)
{
    struct genl_msgbuf mb;
    int error;

    if (!genl_must_notify(req, &genl_vport_family)) {
        return 0;
    }
    error = genl_vport_reply(req, gdp, port_no, cmd, &mb);
    if (!error) {
        genl_vport_notify(req, &mb);
    }
    return error;
}

/* ---- Requests. ---- */

/* The checks of the kernel's vport_policy that the core's policy kinds
 * cannot express, made first as the kernel's attribute validation is.
 * Returns 0 or -ERANGE. */
static int
genl_vport_check_policy(struct genl_req *req)
{
    const struct nlattr *a;

    a = req->tb[OVS_VPORT_ATTR_STATS];
    if (a && mnl_attr_get_payload_len(a) < sizeof(struct ovs_vport_stats)) {
        errbuf_set(req->err, "Attribute failed policy validation");
        req->bad_attr = a;
        return -ERANGE;
    }
    /* The kernel's policy (since 6.2) is NLA_POLICY_MIN(NLA_S32, 0). */
    a = req->tb[OVS_VPORT_ATTR_IFINDEX];
    if (a && mnl_attr_get_u32(a) > INT32_MAX) {
        errbuf_set(req->err, "integer out of range");
        req->bad_attr = a;
        return -ERANGE;
    }
    return 0;
}

/* Checks an OVS_VPORT_ATTR_UPCALL_PID array as the kernel's
 * ovs_vport_set_upcall_portids() does and copies it into 'pids'
 * (DP_UPCALL_PIDS_MAX entries).  Returns the count, or -EINVAL. */
static int
genl_vport_get_pids(struct genl_req *req, const struct nlattr *a,
                    uint32_t *pids)
{
    size_t len = mnl_attr_get_payload_len(a);

    if (len == 0 || len % sizeof(uint32_t)) {
        errbuf_set(req->err, "upcall PIDs: %zu bytes is not a non-empty "
                   "array of u32", len);
        req->bad_attr = a;
        return -EINVAL;
    }
    if (len / sizeof(uint32_t) > DP_UPCALL_PIDS_MAX) {
        errbuf_set(req->err, "%zu upcall PIDs: weird takes at most %d",
                   len / sizeof(uint32_t), DP_UPCALL_PIDS_MAX);
        req->bad_attr = a;
        return -EINVAL;
    }
    /* Copied: the request may sit anywhere in the caller's buffer. */
    memcpy(pids, mnl_attr_get_payload(a), len);
    return (int) (len / sizeof(uint32_t));
}

/* Returns the NUL-terminated string in attribute 'a', or NULL. */
static const char *
genl_vport_attr_str(const struct nlattr *a)
{
    const char *s = mnl_attr_get_payload(a);
    size_t len = mnl_attr_get_payload_len(a);

    return len && memchr(s, '\0', len) ? s : NULL;
}

/* Takes weir's extension out of OVS_VPORT_ATTR_OPTIONS 'opts' (may be
 * NULL): '*provider' and '*args' point into the request, or are NULL.
 * Other attributes are skipped, as the kernel ignores the options of
 * netdev and internal ports.  Returns 0; -EINVAL (malformed, repeated,
 * arguments without a provider); -EAFNOSUPPORT (unknown provider). */
static int
genl_vport_parse_options(struct genl_req *req, const struct nlattr *opts,
                         const char **provider, const char **args)
{
    const struct nlattr *a;
    size_t rem;

    *provider = NULL;
    *args = NULL;
    if (!opts) {
        return 0;
    }

    a = mnl_attr_get_payload(opts);
    rem = mnl_attr_get_payload_len(opts);
    while (rem) {
        const char **slot;
        const char *s;
        size_t step;

        if (rem < sizeof *a || a->nla_len < sizeof *a || a->nla_len > rem) {
            errbuf_set(req->err, "OVS_VPORT_ATTR_OPTIONS: malformed "
                       "attribute (%zu bytes left)", rem);
            req->bad_attr = opts;
            return -EINVAL;
        }
        switch (mnl_attr_get_type(a)) {
        case WEIR_VPORT_OPT_PROVIDER:
            slot = provider;
            break;
        case WEIR_VPORT_OPT_ARGS:
            slot = args;
            break;
        default:
            slot = NULL;
            break;
        }
        if (slot) {
            s = genl_vport_attr_str(a);
            if (!s) {
                errbuf_set(req->err, "weir vport option %#x is not a "
                           "NUL-terminated string", mnl_attr_get_type(a));
                req->bad_attr = a;
                return -EINVAL;
            }
            if (*slot) {
                errbuf_set(req->err, "weir vport option %#x repeated",
                           mnl_attr_get_type(a));
                req->bad_attr = a;
                return -EINVAL;
            }
            *slot = s;
        }
        step = MNL_ALIGN((size_t) a->nla_len);
        if (step >= rem) {
            break;
        }
        rem -= step;
        a = (const struct nlattr *) ((const uint8_t *) a + step);
    }

    if (*args && !*provider) {
        errbuf_set(req->err, "WEIR_VPORT_OPT_ARGS needs "
                   "WEIR_VPORT_OPT_PROVIDER");
        req->bad_attr = opts;
        return -EINVAL;
    }
    if (*provider && !port_provider_exists(*provider)) {
        errbuf_set(req->err, "unknown port provider '%s' (afxdp, "
                   "afpacket, tap, dummy or pcap)", *provider);
        req->bad_attr = opts;
        return -EAFNOSUPPORT;
    }
    return 0;
}

/* The kernel's lookup_vport(): by name across every datapath (and then in
 * the header's datapath, if it names one), or by the header's datapath
 * and OVS_VPORT_ATTR_PORT_NO.  Returns 0 with '*gdpp' and '*port_no';
 * -EOPNOTSUPP (by ifindex); -ENODEV; -EFBIG (port number too big);
 * -EINVAL (neither name nor number). */
static int
genl_vport_lookup(struct genl_req *req, struct genl_dp **gdpp,
                  uint32_t *port_no)
{
    const struct nlattr *name = req->tb[OVS_VPORT_ATTR_NAME];
    const struct nlattr *no = req->tb[OVS_VPORT_ATTR_PORT_NO];
    struct genl_dp *gdp;

    if (req->tb[OVS_VPORT_ATTR_IFINDEX]) {
        errbuf_set(req->err, "ports cannot be looked up by ifindex");
        req->bad_attr = req->tb[OVS_VPORT_ATTR_IFINDEX];
        return -EOPNOTSUPP;
    }
    if (name) {
        const char *s = mnl_attr_get_str(name);

        for (gdp = genl_dp_next(req->srv, NULL); gdp;
             gdp = genl_dp_next(req->srv, gdp)) {
            int64_t n = dp_port_by_name(gdp->dp, s);

            if (n >= 0) {
                if (req->dp_ifindex && req->dp_ifindex != gdp->ifindex) {
                    errbuf_set(req->err, "port %s is not in the datapath "
                               "with ifindex %" PRIu32, s, req->dp_ifindex);
                    return -ENODEV;
                }
                *gdpp = gdp;
                *port_no = (uint32_t) n;
                return 0;
            }
        }
        errbuf_set(req->err, "no port named %s", s);
        return -ENODEV;
    }
    if (no) {
        uint32_t n = mnl_attr_get_u32(no);

        if (n >= DP_MAX_PORTS) {
            errbuf_set(req->err, "port number %" PRIu32 " is not below %d",
                       n, DP_MAX_PORTS);
            req->bad_attr = no;
            return -EFBIG;
        }
        gdp = genl_dp_by_ifindex(req->srv, req->dp_ifindex);
        if (!gdp) {
            errbuf_set(req->err, "no datapath with ifindex %" PRIu32,
                       req->dp_ifindex);
            return -ENODEV;
        }
        if (!dp_port_get(gdp->dp, n)) {
            errbuf_set(req->err, "datapath %s has no port %" PRIu32,
                       gdp->name, n);
            return -ENODEV;
        }
        *gdpp = gdp;
        *port_no = n;
        return 0;
    }
    errbuf_set(req->err, "a port is named by OVS_VPORT_ATTR_NAME or "
               "OVS_VPORT_ATTR_PORT_NO");
    return -EINVAL;
}

static int
genl_vport_cmd_new(struct genl_req *req)
{
    const struct nlattr *name = req->tb[OVS_VPORT_ATTR_NAME];
    const struct nlattr *type_attr = req->tb[OVS_VPORT_ATTR_TYPE];
    const struct nlattr *pid_attr = req->tb[OVS_VPORT_ATTR_UPCALL_PID];
    const struct nlattr *ifindex = req->tb[OVS_VPORT_ATTR_IFINDEX];
    const struct nlattr *no_attr = req->tb[OVS_VPORT_ATTR_PORT_NO];
    uint32_t pids[DP_UPCALL_PIDS_MAX];
    const char *provider, *args;
    const char *dpif_type;
    struct genl_dp *gdp;
    uint32_t type, port_no;
    int n_pids;
    int error;

    error = genl_vport_check_policy(req);
    if (error) {
        return error;
    }
    if (!name || !type_attr || !pid_attr) {
        errbuf_set(req->err, "a new port needs OVS_VPORT_ATTR_NAME, "
                   "OVS_VPORT_ATTR_TYPE and OVS_VPORT_ATTR_UPCALL_PID");
        return -EINVAL;
    }
    type = mnl_attr_get_u32(type_attr);
    if (ifindex && type != OVS_VPORT_TYPE_INTERNAL) {
        errbuf_set(req->err, "only internal ports take an ifindex");
        req->bad_attr = ifindex;
        return -EOPNOTSUPP;
    }
    port_no = no_attr ? mnl_attr_get_u32(no_attr) : 0;
    if (port_no >= DP_MAX_PORTS) {
        errbuf_set(req->err, "port number %" PRIu32 " is not below %d",
                   port_no, DP_MAX_PORTS);
        req->bad_attr = no_attr;
        return -EFBIG;
    }

    gdp = genl_dp_by_ifindex(req->srv, req->dp_ifindex);
    if (!gdp) {
        errbuf_set(req->err, "no datapath with ifindex %" PRIu32,
                   req->dp_ifindex);
        return -ENODEV;
    }
    if (port_no && dp_port_get(gdp->dp, port_no)) {
        errbuf_set(req->err, "datapath %s already has a port %" PRIu32,
                   gdp->name, port_no);
        req->bad_attr = no_attr;
        return -EBUSY;
    }
    if (type != OVS_VPORT_TYPE_NETDEV && type != OVS_VPORT_TYPE_INTERNAL) {
        errbuf_set(req->err, "vport type %" PRIu32 " (%s) is not "
                   "supported: weird has only netdev and internal ports",
                   type, genl_vport_type_name(type));
        req->bad_attr = type_attr;
        return -EAFNOSUPPORT;
    }

    n_pids = genl_vport_get_pids(req, pid_attr, pids);
    if (n_pids < 0) {
        return n_pids;
    }
    /* A TAP device's ifindex is the kernel's choice.  0 is "any". */
    if (ifindex && mnl_attr_get_u32(ifindex)) {
        errbuf_set(req->err, "weird cannot give port %s a chosen ifindex "
                   "(%" PRIu32 ")", mnl_attr_get_str(name),
                   mnl_attr_get_u32(ifindex));
        req->bad_attr = ifindex;
        return -EOPNOTSUPP;
    }
    error = genl_vport_parse_options(req, req->tb[OVS_VPORT_ATTR_OPTIONS],
                                     &provider, &args);
    if (error) {
        return error;
    }

    dpif_type = type == OVS_VPORT_TYPE_NETDEV ? "system" : "internal";
    if (!port_no) {
        port_no = DP_PORT_ANY;
    }
    error = genl_vport_add(req->srv, gdp, mnl_attr_get_str(name), dpif_type,
                           provider, args, pids, (size_t) n_pids, &port_no,
                           req->err);
    if (error) {
        /* The kernel: a device that is already some datapath's port is
         * busy. */
        if (error == -EEXIST && type == OVS_VPORT_TYPE_NETDEV) {
            error = -EBUSY;
        }
        return error;
    }
    genl_changed(req->srv);
    return genl_vport_notify_now(req, gdp, port_no, OVS_VPORT_CMD_NEW);
}

static int
genl_vport_cmd_del(struct genl_req *req)
{
    struct genl_msgbuf mb;
    struct genl_dp *gdp;
    uint32_t port_no;
    bool notify;
    int error;

    error = genl_vport_check_policy(req);
    if (error) {
        return error;
    }
    error = genl_vport_lookup(req, &gdp, &port_no);
    if (error) {
        return error;
    }
    if (port_no == DP_LOCAL_PORT) {
        errbuf_set(req->err, "the local port %s goes with its datapath",
                   gdp->name);
        return -EINVAL;
    }

    /* The reply describes the port as it was. */
    notify = genl_must_notify(req, &genl_vport_family);
    if (notify) {
        error = genl_vport_reply(req, gdp, port_no, OVS_VPORT_CMD_DEL, &mb);
        if (error) {
            return error;
        }
    }
    error = dp_port_del(gdp->dp, port_no);
    if (error) {
        errbuf_set(req->err, "cannot delete port %" PRIu32 " of %s",
                   port_no, gdp->name);
        if (notify) {
            genl_msgbuf_uninit(&mb);
        }
        return error;
    }
    genl_vport_forget(gdp, port_no);
    genl_changed(req->srv);
    if (notify) {
        genl_vport_notify(req, &mb);
    }
    return 0;
}

static int
genl_vport_cmd_set(struct genl_req *req)
{
    const struct nlattr *type_attr = req->tb[OVS_VPORT_ATTR_TYPE];
    const struct nlattr *pid_attr = req->tb[OVS_VPORT_ATTR_UPCALL_PID];
    const struct nlattr *opts = req->tb[OVS_VPORT_ATTR_OPTIONS];
    uint32_t pids[DP_UPCALL_PIDS_MAX];
    const struct genl_vport *rec;
    struct genl_dp *gdp;
    uint32_t port_no, ovs_type;
    int error;

    error = genl_vport_check_policy(req);
    if (error) {
        return error;
    }
    error = genl_vport_lookup(req, &gdp, &port_no);
    if (error) {
        return error;
    }
    rec = genl_dp_vport(gdp, port_no);
    if (rec) {
        ovs_type = rec->ovs_type;
    } else {
        ovs_type = (port_no == DP_LOCAL_PORT ? OVS_VPORT_TYPE_INTERNAL
                    : OVS_VPORT_TYPE_NETDEV);
    }
    if (type_attr && mnl_attr_get_u32(type_attr) != ovs_type) {
        errbuf_set(req->err, "port %" PRIu32 " is of type %" PRIu32
                   " (%s), not %" PRIu32, port_no, ovs_type,
                   genl_vport_type_name(ovs_type),
                   mnl_attr_get_u32(type_attr));
        req->bad_attr = type_attr;
        return -EINVAL;
    }
    /* The kernel's netdev and internal ports have no options to set. */
    if (opts) {
        errbuf_set(req->err, "the options of port %" PRIu32 " cannot be "
                   "changed: delete and add it again", port_no);
        req->bad_attr = opts;
        return -EOPNOTSUPP;
    }
    if (pid_attr) {
        int n_pids = genl_vport_get_pids(req, pid_attr, pids);

        if (n_pids < 0) {
            return n_pids;
        }
        error = dp_port_set_upcall_pids(gdp->dp, port_no, pids,
                                        (size_t) n_pids);
        if (error) {
            errbuf_set(req->err, "cannot set the upcall PIDs of port "
                       "%" PRIu32, port_no);
            return error;
        }
        genl_changed(req->srv);
    }
    return genl_vport_notify_now(req, gdp, port_no, OVS_VPORT_CMD_SET);
}

static int
genl_vport_cmd_get(struct genl_req *req)
{
    struct genl_msgbuf mb;
    struct genl_dp *gdp;
    uint32_t port_no;
    int error;

    error = genl_vport_check_policy(req);
    if (error) {
        return error;
    }
    error = genl_vport_lookup(req, &gdp, &port_no);
    if (error) {
        return error;
    }
    error = genl_vport_reply(req, gdp, port_no, OVS_VPORT_CMD_GET, &mb);
    if (error) {
        return error;
    }
    genl_unicast(req->conn, &mb);
    genl_msgbuf_uninit(&mb);
    return 0;
}

/* The ports of the header's datapath in port number order; st->args[0]
 * is the number to go on from. */
static int
genl_vport_cmd_dump(struct genl_req *req, struct genl_msgbuf *out,
                    struct genl_dump_state *st)
{
    uint32_t portid = genl_conn_pid(req->conn);
    struct genl_dp *gdp;
    bool added = false;

    gdp = genl_dp_by_ifindex(req->srv, req->dp_ifindex);
    if (!gdp) {
        errbuf_set(req->err, "no datapath with ifindex %" PRIu32,
                   req->dp_ifindex);
        return -ENODEV;
    }
    for (;;) {
        uint32_t cursor = (uint32_t) st->args[0];
        uint32_t port_no;
        int error;

        if (st->args[0] > UINT32_MAX
            || !dp_port_list(gdp->dp, &cursor, &port_no, 1)) {
            return 0;
        }
        error = genl_vport_fill(out, gdp, port_no, OVS_VPORT_CMD_GET,
                                portid, req->nlh->nlmsg_seq, NLM_F_MULTI);
        if (error) {
            if (!added) {
                /* Cannot happen with GENL_DUMP_DGRAM_SIZE datagrams. */
                errbuf_set(req->err, "port %" PRIu32 " does not fit in a "
                           "dump datagram", port_no);
                return -EMSGSIZE;
            }
            return 1;
        }
        added = true;
        st->args[0] = (uint64_t) port_no + 1;
    }
}

static const struct genl_op genl_vport_ops[] = {
    { .cmd = OVS_VPORT_CMD_NEW, .admin = true, .doit = genl_vport_cmd_new },
    { .cmd = OVS_VPORT_CMD_DEL, .admin = true, .doit = genl_vport_cmd_del },
    { .cmd = OVS_VPORT_CMD_GET, .admin = false, .doit = genl_vport_cmd_get,
      .dumpit = genl_vport_cmd_dump },
    { .cmd = OVS_VPORT_CMD_SET, .admin = true, .doit = genl_vport_cmd_set },
};

const struct genl_family genl_vport_family = {
    .name = OVS_VPORT_FAMILY,
    .id = GENL_FAMILY_ID_VPORT,
    .version = OVS_VPORT_VERSION,
    .hdrsize = sizeof(struct ovs_header),
    .maxattr = GENL_VPORT_ATTR_MAX,
    .policy = genl_vport_policy,
    .ops = genl_vport_ops,
    .n_ops = sizeof genl_vport_ops / sizeof genl_vport_ops[0],
    .mcgrp_name = OVS_VPORT_MCGROUP,
    .mcgrp_id = GENL_MCGRP_ID_VPORT,
};
