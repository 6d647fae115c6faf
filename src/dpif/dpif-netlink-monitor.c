/* SPDX-License-Identifier: Apache-2.0 */
/* dpif provider "netlink": event monitors (dpif_monitor_*() of
 * include/weir/dpif.h) over weird's multicast groups.
 *
 * A monitor is a connection of its own to weird, a member of the
 * ovs_datapath, ovs_vport and ovs_flow groups (ids from nlctrl, through
 * nl-client's family cache), with a large receive buffer so that a burst
 * of changes does not overrun a monitor that keeps reading.  Each
 * notification is decoded by the decoders of the replies
 * (dpif-netlink-private.h) into a struct dpif_event; the flow of a flow
 * event points into the monitor's receive buffer, which the next call
 * refills.  weird's NLMSG_OVERRUN becomes a DPIF_EV_LOST event.
 *
 * Datapath names.  Port and flow notifications name their datapath by
 * ifindex only (struct ovs_header), so a monitor keeps a table of the
 * datapaths it knows: filled by a datapath dump when it starts, updated
 * by the datapath notifications (NEW and SET add, DEL removes), emptied
 * when events are lost (one that was missed could have made an entry
 * wrong).  An ifindex not in the table is looked up with an
 * OVS_DP_CMD_GET on a second connection (the monitor's own must not carry
 * requests: their replies would be mixed with the notifications); a
 * datapath gone meanwhile leaves the event's name empty.
 *
 * The dump at the start is also what makes the memberships certain: weird
 * applies a socket option before it reads the connection's next
 * datagram, so once the dump's reply is in, the monitor is a member, and
 * every change made after dpif_monitor_create() returns is notified to
 * it.  Notifications that arrive during that dump are dropped (changes
 * made while the monitor starts may or may not be reported, dpif.h).
 *
 * Everything received is checked before use; a notification that does
 * not decode is skipped with -EPROTO and a reason.  A monitor belongs to
 * one thread at a time (dpif.h), so it has no lock of its own; its
 * sockets' mutexes are nl-client's. */

#include <errno.h>
#include <linux/openvswitch.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dpif/dpif-netlink-private.h"
#include "weir/control.h"

/* The receive buffer weird keeps for a monitor: room for thousands of
 * flow events while the reader catches up. */
#define DPN_MON_RCVBUF (8u << 20)

struct dpn_mon_dp {
    uint32_t ifindex;
    char name[DPIF_NAME_MAX];
};

struct dpn_monitor {
    struct dpif_monitor up;
    struct nlc_sock *sock;          /* A member of the three groups. */
    struct nlc_sock *query;         /* For name lookups; NULL until one. */
    struct dpn_families fam;        /* 'dp', 'vport', 'flow' are used. */
    uint8_t *buf;                   /* NLC_RECV_SIZE: the last datagram. */
    size_t len, off;                /* Its messages not yet returned. */
    struct dpn_mon_dp *dps;         /* The datapaths known by name. */
    size_t n_dps, max_dps;
};

static struct dpn_monitor *
dpn_monitor_cast(const struct dpif_monitor *mon)
{
    return (struct dpn_monitor *) mon;
}

/* ---- Datapath names. ---- */

static struct dpn_mon_dp *
dpn_mon_dp_find(struct dpn_monitor *m, uint32_t ifindex)
{
    for (size_t i = 0; i < m->n_dps; i++) {
        if (m->dps[i].ifindex == ifindex) {
            return &m->dps[i];
        }
    }
    return NULL;
}

/* Records that datapath 'ifindex' is named 'name'.  Returns 0 or
 * -ENOMEM (the name is then looked up when needed). */
static int
dpn_mon_dp_remember(struct dpn_monitor *m, uint32_t ifindex,
                    const char *name)
{
    struct dpn_mon_dp *e = dpn_mon_dp_find(m, ifindex);

    if (!e) {
        if (m->n_dps == m->max_dps) {
            size_t max = m->max_dps ? 2 * m->max_dps : 8;
            struct dpn_mon_dp *p = realloc(m->dps, max * sizeof *p);

            if (!p) {
                return -ENOMEM;
            }
            m->dps = p;
            m->max_dps = max;
        }
        e = &m->dps[m->n_dps++];
        e->ifindex = ifindex;
    }
    snprintf(e->name, sizeof e->name, "%s", name);
    return 0;
}

static void
dpn_mon_dp_forget(struct dpn_monitor *m, uint32_t ifindex)
{
    struct dpn_mon_dp *e = dpn_mon_dp_find(m, ifindex);

    if (e) {
        *e = m->dps[--m->n_dps];
    }
}

/* Copies the name of datapath 'ifindex' into 'name', asking weird if the
 * table does not have it; "" if weird does not know it either. */
static void
dpn_mon_dp_name(struct dpn_monitor *m, uint32_t ifindex,
                char name[DPIF_NAME_MAX])
{
    const struct dpn_mon_dp *e = dpn_mon_dp_find(m, ifindex);
    struct dpn_dp_reply rep;
    int r;

    name[0] = '\0';
    if (e) {
        memcpy(name, e->name, DPIF_NAME_MAX);
        return;
    }
    if (!m->query && nlc_open_path(nlc_path(m->sock), &m->query)) {
        m->query = NULL;
        return;
    }
    r = dpif_netlink_dp_transact(m->query, &m->fam, ifindex, OVS_DP_CMD_GET,
                                 0, NULL, NULL, NULL, 0, &rep);
    if (!r) {
        memcpy(name, rep.name, DPIF_NAME_MAX);
        dpn_mon_dp_remember(m, ifindex, rep.name);
    } else if (r != -ENODEV) {
        /* A broken connection: a new one next time. */
        nlc_close(m->query);
        m->query = NULL;
    }
}

/* A datapath dump's reply on the monitor's socket: the replies are the
 * GETs stamped with our port id; a notification that happens to carry
 * the dump's sequence number is not one of them. */
static int
dpn_mon_collect_dp(const struct nlmsghdr *nlh, void *m_)
{
    struct dpn_monitor *m = m_;
    struct dpn_dp_reply rep = { .family = m->fam.dp };
    int r;

    if (nlh->nlmsg_type != m->fam.dp || nlh->nlmsg_pid != nlc_pid(m->sock)) {
        return 0;
    }
    r = dpif_netlink_parse_dp(nlh, &rep);
    if (r) {
        return r;
    }
    if (rep.cmd != OVS_DP_CMD_GET) {
        return 0;
    }
    return dpn_mon_dp_remember(m, rep.dp_ifindex, rep.name);
}

/* ---- Decoding notifications. ---- */

/* The event operation of OVS command 'cmd' (NEW, DEL and SET have the
 * same numbers in the three families).  Returns 0, or -EPROTO for a
 * command that is no change. */
static int
dpn_mon_op(uint8_t cmd, enum dpif_event_op *op)
{
    switch (cmd) {
    case OVS_DP_CMD_NEW:
        *op = DPIF_EV_NEW;
        return 0;
    case OVS_DP_CMD_DEL:
        *op = DPIF_EV_DEL;
        return 0;
    case OVS_DP_CMD_SET:
        *op = DPIF_EV_SET;
        return 0;
    default:
        dpif_set_error("monitor: notification with command %u, not a "
                       "change", cmd);
        return -EPROTO;
    }
}

/* Decodes notification 'nlh' into 'ev'.  Returns 1 (an event), 0 (not a
 * notification of the three families: skipped) or -EPROTO. */
static int
dpn_mon_decode(struct dpn_monitor *m, const struct nlmsghdr *nlh,
               struct dpif_event *ev)
{
    uint16_t type = nlh->nlmsg_type;
    int r;

    if (type == m->fam.dp) {
        struct dpn_dp_reply rep = { .family = m->fam.dp };

        r = dpif_netlink_parse_dp(nlh, &rep);
        if (!r) {
            r = dpn_mon_op(rep.cmd, &ev->op);
        }
        if (r) {
            return r;
        }
        ev->kind = DPIF_EV_DP;
        memcpy(ev->dp_name, rep.name, DPIF_NAME_MAX);
        if (ev->op == DPIF_EV_DEL) {
            dpn_mon_dp_forget(m, rep.dp_ifindex);
        } else {
            dpn_mon_dp_remember(m, rep.dp_ifindex, rep.name);
        }
    } else if (type == m->fam.vport) {
        struct dpn_vport_reply rep = { .family = m->fam.vport };

        r = dpif_netlink_parse_vport(nlh, &rep);
        if (!r) {
            r = dpn_mon_op(rep.cmd, &ev->op);
        }
        if (r) {
            return r;
        }
        ev->kind = DPIF_EV_PORT;
        ev->port = rep.port;
        dpn_mon_dp_name(m, rep.dp_ifindex, ev->dp_name);
    } else if (type == m->fam.flow) {
        uint32_t dp_ifindex;
        uint8_t cmd;

        r = dpif_netlink_parse_flow(nlh, m->fam.flow, &cmd, &dp_ifindex,
                                    &ev->flow);
        if (!r) {
            r = dpn_mon_op(cmd, &ev->op);
        }
        if (r) {
            memset(&ev->flow, 0, sizeof ev->flow);
            return r;
        }
        ev->kind = DPIF_EV_FLOW;
        dpn_mon_dp_name(m, dp_ifindex, ev->dp_name);
    } else {
        return 0;
    }
    return 1;
}

/* ---- The monitor. ---- */

static void
dpn_monitor_free(struct dpn_monitor *m)
{
    nlc_close(m->sock);
    nlc_close(m->query);
    free(m->buf);
    free(m->dps);
    free(m);
}

int
dpif_netlink_monitor_create(const struct dpif_class *cls,
                            struct dpif_monitor **monp)
{
    uint32_t groups[3];
    struct dpn_monitor *m;
    uint64_t buf[DPN_MSG_OVERHEAD / 8];
    struct nlmsghdr *nlh;
    int r;

    (void) cls;
    m = calloc(1, sizeof *m);
    if (!m || !(m->buf = malloc(NLC_RECV_SIZE))) {
        free(m);
        dpif_set_error("out of memory");
        return -ENOMEM;
    }
    r = nlc_open(&m->sock);
    if (!r) {
        r = nlc_family(m->sock, OVS_DATAPATH_FAMILY, &m->fam.dp,
                       OVS_DATAPATH_MCGROUP, &groups[0]);
    }
    if (!r) {
        r = nlc_family(m->sock, OVS_VPORT_FAMILY, &m->fam.vport,
                       OVS_VPORT_MCGROUP, &groups[1]);
    }
    if (!r) {
        r = nlc_family(m->sock, OVS_FLOW_FAMILY, &m->fam.flow,
                       OVS_FLOW_MCGROUP, &groups[2]);
    }
    if (!r) {
        r = nlc_setsockopt(m->sock, WEIR_SOCK_RCVBUF, DPN_MON_RCVBUF);
    }
    for (size_t i = 0; !r && i < sizeof groups / sizeof groups[0]; i++) {
        r = nlc_setsockopt(m->sock, WEIR_SOCK_ADD_MEMBERSHIP, groups[i]);
    }
    if (!r) {
        /* After the memberships, on the same connection: see the essay. */
        nlh = dpif_netlink_msg(0, buf, sizeof buf, m->fam.dp,
                               OVS_DP_CMD_GET, OVS_DATAPATH_VERSION, 0);
        r = nlc_dump_all(m->sock, nlh, dpn_mon_collect_dp, m);
    }
    if (r) {
        dpn_monitor_free(m);
        return r;
    }
    *monp = &m->up;
    return 0;
}

static int64_t
dpn_mon_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
dpif_netlink_monitor_next(struct dpif_monitor *mon, struct dpif_event *ev,
                          int timeout_ms)
{
    struct dpn_monitor *m = dpn_monitor_cast(mon);
    int64_t deadline = timeout_ms > 0 ? dpn_mon_now_ms() + timeout_ms : 0;

    for (;;) {
        const struct nlmsghdr *nlh;
        struct pollfd pfd;
        int wait, r;

        while (nlc_next_msg(m->buf, m->len, &m->off, &nlh) > 0) {
            r = dpn_mon_decode(m, nlh, ev);
            if (r) {
                return r < 0 ? r : 0;
            }
        }
        m->len = m->off = 0;
        r = nlc_recv_nb(m->sock, m->buf, NLC_RECV_SIZE);
        if (r > 0) {
            m->len = (size_t) r;
            continue;
        }
        if (r == -ENOBUFS) {
            /* A datapath change may be among the lost: names are looked
             * up again. */
            m->n_dps = 0;
            ev->kind = DPIF_EV_LOST;
            return 0;
        }
        if (r != -EAGAIN) {
            return r;           /* -EPROTO (that datagram is dropped),
                                 * -ECONNRESET, other receive errors. */
        }
        if (!timeout_ms) {
            return -EAGAIN;
        }
        wait = -1;
        if (timeout_ms > 0) {
            int64_t left = deadline - dpn_mon_now_ms();

            if (left <= 0) {
                return -EAGAIN;
            }
            wait = left < INT32_MAX ? (int) left : INT32_MAX;
        }
        pfd.fd = nlc_fd(m->sock);
        pfd.events = POLLIN;
        pfd.revents = 0;
        r = poll(&pfd, 1, wait);
        if (r < 0) {
            /* A signal ends the wait, as dpif.h says. */
            return errno == EINTR ? -EAGAIN : -errno;
        }
    }
}

int
dpif_netlink_monitor_fd(const struct dpif_monitor *mon)
{
    return nlc_fd(dpn_monitor_cast(mon)->sock);
}

void
dpif_netlink_monitor_destroy(struct dpif_monitor *mon)
{
    dpn_monitor_free(dpn_monitor_cast(mon));
}
