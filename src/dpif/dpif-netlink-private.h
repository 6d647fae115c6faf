/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DPIF_DPIF_NETLINK_PRIVATE_H
#define WEIR_DPIF_DPIF_NETLINK_PRIVATE_H 1

/* The "netlink" dpif provider's insides, shared by its files (private to
 * src/dpif).
 *
 * What
 * ====
 *
 * dpif-netlink.c holds the design essay, the dpif itself (datapaths,
 * ports, port changes) and dpif_netlink_class; dpif-netlink-flow.c the
 * flow operations and dumps; dpif-netlink-upcall.c the upcall handlers;
 * dpif-netlink-monitor.c the event monitors.  This header gives them the
 * dpif's state, the message helpers and decoders they share, and the
 * class members each file implements.
 *
 * Design
 * ======
 *
 * Every decoder here checks a message received from weird completely
 * (nl-client.h's parsers) before anything is taken out of it, and says
 * why on failure with dpif_set_error(): their callers hand -EPROTO on.
 *
 * Thread-safety
 * =============
 *
 * As dpif-netlink.c's essay: the locks are members of struct dpn, each
 * with what it guards.
 *
 * Ownership
 * =========
 *
 * Decoded flows and ports point into (or are copied out of) the message
 * they were decoded from; the caller keeps the message alive. */

#include <linux/openvswitch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

#include "dpif/dpif-provider.h"
#include "dpif/nl-client.h"
#include "lib/mutex.h"

/* Added by Linux 6.2, after the headers weir builds with. */
#define DPN_VPORT_ATTR_UPCALL_STATS (OVS_VPORT_ATTR_NETNSID + 1)
#define DPN_VPORT_ATTR_MAX DPN_VPORT_ATTR_UPCALL_STATS
#define DPN_VPORT_UPCALL_ATTR_SUCCESS 0
#define DPN_VPORT_UPCALL_ATTR_FAIL 1

#define DPN_UFID_TERSE (OVS_UFID_F_OMIT_KEY | OVS_UFID_F_OMIT_MASK \
                        | OVS_UFID_F_OMIT_ACTIONS)

#define DPN_POOL_MAX 2                  /* Idle dump sockets kept. */
#define DPN_TXN_RCVBUF (4u << 20)       /* WEIR_SOCK_RCVBUF of the request
                                         * socket. */
#define DPN_HANDLERS_MAX 1024
#define DPN_MSG_OVERHEAD 128            /* Headers and fixed attributes of
                                         * any request, with room. */

struct dpn_families {
    uint16_t dp, vport, flow, packet;
    uint32_t vport_group;
};

struct dpn_handler {
    struct nlc_sock *sock;
    uint8_t *buf;               /* NLC_RECV_SIZE: the last datagram. */
    size_t len, off;            /* Its messages not yet returned. */
};

struct dpn {
    struct dpif up;
    struct nlc_sock *sock;      /* Main socket. */
    struct dpn_families fam;
    uint32_t dp_ifindex;

    struct wmutex poll_mutex;
    struct nlc_sock *poll_sock;
    uint8_t *poll_buf;          /* DPN_POLL_BUF; under 'poll_mutex'. */
    size_t poll_len, poll_off;  /* Under 'poll_mutex'. */
    atomic_uint own_changes;    /* Port changes made here, not yet seen. */

    pthread_rwlock_t handlers_lock;
    struct dpn_handler *handlers;   /* Under 'handlers_lock'. */
    uint32_t n_handlers;            /* Under 'handlers_lock'. */

    struct wmutex pool_mutex;
    struct nlc_sock *pool[DPN_POOL_MAX];    /* Under 'pool_mutex'. */
    size_t n_pool;                          /* Under 'pool_mutex'. */
};

static inline struct dpn *
dpn_cast(const struct dpif *dpif)
{
    return (struct dpn *) dpif;
}

/* ---- Messages (dpif-netlink.c). ---- */

/* Starts a request of an OVS family in 'buf' with datapath ifindex
 * 'dp_ifindex' (0: none).  Returns NULL if 'size' is too small. */
struct nlmsghdr *dpif_netlink_msg(uint32_t dp_ifindex, void *buf,
                                  size_t size, uint16_t family, uint8_t cmd,
                                  uint8_t version, uint16_t flags);

/* Checks the headers of message 'nlh' of OVS family 'family' and parses
 * its attributes into 'tb' (up to 'maxtype').  Returns 0 or -EPROTO. */
int dpif_netlink_parse_ovs(const struct nlmsghdr *nlh, uint16_t family,
                           uint8_t *cmd, uint32_t *dp_ifindex,
                           const struct nlattr **tb, uint16_t maxtype);

/* Reads a u32 or u64 attribute of exactly that size ('what' names it in
 * the reason).  Returns false (reason set) on a wrong length. */
bool dpif_netlink_get_u32(const struct nlattr *a, uint32_t *v,
                          const char *what);
bool dpif_netlink_get_u64(const struct nlattr *a, uint64_t *v,
                          const char *what);

/* Starts a nest without NLA_F_NESTED, as Open vSwitch and the kernel's
 * OVS families write them.  Returns NULL if it does not fit. */
struct nlattr *dpif_netlink_nest_start(struct nlmsghdr *nlh, size_t size,
                                       uint16_t type);

/* Resolves the four OVS families (and the vport group) over 'sock'.
 * Returns 0 or nlc_family()'s error. */
int dpif_netlink_resolve(struct nlc_sock *sock, struct dpn_families *fam);

/* ---- Datapaths (dpif-netlink.c). ---- */

/* A datapath message, decoded. */
struct dpn_dp_reply {
    uint16_t family;            /* In: the ovs_datapath family id. */
    uint8_t cmd;
    uint32_t dp_ifindex;
    char name[DPIF_NAME_MAX];
    uint32_t features;
    struct ovs_dp_stats stats;
    struct ovs_dp_megaflow_stats mstats;
    uint32_t masks_cache_size;
};

/* Decodes datapath message 'nlh' into 'rep_' (a struct dpn_dp_reply with
 * 'family' set), as an nlc_reply_cb.  Returns 0 or -EPROTO. */
int dpif_netlink_parse_dp(const struct nlmsghdr *nlh, void *rep_);

/* Sends datapath request 'cmd' ('flags'; to datapath 'name' if not NULL,
 * else to 'dp_ifindex'), with user features '*features' if not NULL and
 * per-CPU PIDs if 'n_pids', over 'sock', and decodes the reply into
 * 'rep' if not NULL.  Returns 0 or -errno; -EPROTO if a reply was wanted
 * and none came. */
int dpif_netlink_dp_transact(struct nlc_sock *sock,
                             const struct dpn_families *fam,
                             uint32_t dp_ifindex, uint8_t cmd,
                             uint16_t flags, const char *name,
                             const uint32_t *features, const uint32_t *pids,
                             size_t n_pids, struct dpn_dp_reply *rep);

/* ---- Ports (dpif-netlink.c). ---- */

/* A vport message, decoded: 'port' with the type the dpif API names
 * (the weir provider if the message has one, else OVS's vport type name)
 * and the provider options (WEIR_VPORT_OPT_ARGS). */
struct dpn_vport_reply {
    uint16_t family;            /* In: the ovs_vport family id. */
    uint32_t dp_ifindex;
    uint8_t cmd;
    struct dpif_port port;
    struct ovs_vport_stats stats;
    uint64_t upcall_success, upcall_fail;
};

/* Decodes vport message 'nlh' into 'rep_' (a struct dpn_vport_reply with
 * 'family' set), as an nlc_reply_cb.  Returns 0 or -EPROTO. */
int dpif_netlink_parse_vport(const struct nlmsghdr *nlh, void *rep_);

/* Builds a vport request for the dpif's datapath into 'buf', naming the
 * port by 'name' if not NULL, else by 'port_no'.  Returns it or NULL if
 * it does not fit. */
struct nlmsghdr *dpif_netlink_vport_msg(const struct dpn *d, void *buf,
                                        size_t size, uint8_t cmd,
                                        uint16_t flags, uint32_t port_no,
                                        const char *name);

/* Every port of the datapath, sorted by number. */
struct dpn_port_list {
    const struct dpn *d;
    struct dpif_port *ports;
    size_t n, cap, next;
};

/* Reads every port of the dpif's datapath into 'list' (its 'ports' then
 * freed by the caller).  Returns 0 or -errno. */
int dpif_netlink_port_list(const struct dpn *d, struct dpn_port_list *list);

/* ---- Flows (dpif-netlink-flow.c). ---- */

/* Decodes flow message 'nlh' of family 'family' into 'flow' (pointing
 * into 'nlh'), its command into '*cmd' and its datapath into
 * '*dp_ifindex' (either may be NULL).  Returns 0 or -EPROTO. */
int dpif_netlink_parse_flow(const struct nlmsghdr *nlh, uint16_t family,
                            uint8_t *cmd, uint32_t *dp_ifindex,
                            struct dpif_flow *flow);

void dpif_netlink_operate(struct dpif *dpif, struct dpif_op **ops,
                          size_t n);
int dpif_netlink_flow_flush(struct dpif *dpif);
int dpif_netlink_flow_dump_create(const struct dpif *dpif, bool terse,
                                  struct dpif_flow_dump **dumpp);
int dpif_netlink_flow_dump_destroy(struct dpif_flow_dump *dump);
struct dpif_flow_dump_thread *
dpif_netlink_flow_dump_thread_create(struct dpif_flow_dump *dump);
void dpif_netlink_flow_dump_thread_destroy(
    struct dpif_flow_dump_thread *thread);
int dpif_netlink_flow_dump_next(struct dpif_flow_dump_thread *thread,
                                struct dpif_flow *flows, int max);

/* ---- Upcalls (dpif-netlink-upcall.c). ---- */

/* Fills 'pids' (room for DPN_HANDLERS_MAX) with the handlers' port ids,
 * or one 0 without handlers.  Returns the count.
 * Context: 'handlers_lock' held. */
size_t dpif_netlink_handler_pids(const struct dpn *d, uint32_t *pids);

/* Closes handlers[0..n) and frees the array. */
void dpif_netlink_handlers_free(struct dpn_handler *handlers, uint32_t n);

int dpif_netlink_handlers_set(struct dpif *dpif, uint32_t n);
uint32_t dpif_netlink_handler_pid(const struct dpif *dpif,
                                  uint32_t handler_id);
int dpif_netlink_recv(struct dpif *dpif, uint32_t handler_id,
                      struct dpif_upcall *upcall);
int dpif_netlink_recv_wait(struct dpif *dpif, uint32_t handler_id,
                           int timeout_ms);
int dpif_netlink_recv_fd(struct dpif *dpif, uint32_t handler_id);
void dpif_netlink_recv_purge(struct dpif *dpif);

/* ---- Monitors (dpif-netlink-monitor.c). ---- */

int dpif_netlink_monitor_create(const struct dpif_class *cls,
                                struct dpif_monitor **monp);
int dpif_netlink_monitor_next(struct dpif_monitor *mon,
                              struct dpif_event *event, int timeout_ms);
int dpif_netlink_monitor_fd(const struct dpif_monitor *mon);
void dpif_netlink_monitor_destroy(struct dpif_monitor *mon);

#endif /* dpif/dpif-netlink-private.h */
