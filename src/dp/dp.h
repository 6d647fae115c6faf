/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DP_DP_H
#define WEIR_DP_DP_H 1

/* Datapaths: ports, a megaflow table, action execution, upcalls, stats.
 *
 * What
 * ====
 *
 * A datapath is the flow-based fast path of seeds 000, 001 and 004, in
 * process.  It has a name, ports numbered with 32-bit numbers (port 0 is
 * the local port, named after the datapath), a flow table of megaflows
 * (key + mask + actions, optionally named by a UFID), statistics and user
 * features.  Packets received on a port are parsed into flow keys and
 * looked up; a hit runs the flow's actions, a miss becomes an upcall to
 * the handler the client registered.
 *
 * The flow operations follow the kernel module's OVS_FLOW_CMD_* semantics
 * (seed 000) so that the generic-netlink layer is a thin translation:
 *
 *   - A flow created with a UFID is found, changed and deleted only by its
 *     UFID; a flow created without one only by its unmasked key (the key
 *     as installed, which the datapath keeps).
 *   - dp_flow_new(): if no flow has the UFID and no flow's mask matches the
 *     new masked key, the flow is created.  Otherwise, with DP_FLOW_EXCL
 *     it fails with -EEXIST; without, it is a modification of the
 *     existing flow's actions when that flow has the same identifier
 *     (same UFID; or, for flows without UFID, same unmasked key whatever
 *     its mask: the requested mask is then ignored, as in the kernel),
 *     and -ENOENT otherwise (an overlapping flow with another
 *     identifier).  Actions are checked against the masked key.
 *   - dp_flow_set(), dp_flow_get(), dp_flow_del(): by UFID when one is
 *     given (the key is then ignored), else by unmasked key; -ENOENT when
 *     there is no such flow.
 *   - Replies omit the key, mask or actions on request (OVS_UFID_F_OMIT_*);
 *     OMIT_KEY is ignored for a flow without UFID.  A flow with a UFID
 *     reports its masked key, one without its unmasked key; the mask
 *     reported is the installed one, which may be narrower than the one
 *     requested (dp_flow_new() applies the codec's kernel rules,
 *     codec/fkey-nl.h "Masks").
 *
 * Design
 * ======
 *
 * See dp/flow-table.h for the table and docs/design/flow-table.md for the
 * whole picture.  Packet processing runs on threads that each own a
 * 'struct dp_thread' (exact-match cache, statistics slot, counters),
 * passed explicitly.
 *
 * Thread-safety
 * =============
 *
 * Every caller of this API is an RCU reader thread (lib/rcu.h:
 * qsbr_register()).  Changes (ports, flows, configuration) take the
 * datapath's writer mutex; lookups, dumps and packet processing take no
 * lock.  Pointers in a reply ('struct dp_flow_info' actions) stay valid
 * until the calling thread's next quiescent state.
 *
 * Ownership
 * =========
 *
 * The datapath owns its ports and flows.  Packets given to dp_input() or
 * dp_execute() are consumed.  An upcall hands its packet to the handler.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/ufid.h"
#include "dp/drop.h"
#include "packet/flow-key.h"

struct datapath;
struct dp_thread;
struct errbuf;
struct packet;
struct pkt_batch;
struct port;
struct upcall_reg;

#define DP_NAME_MAX 16          /* With the NUL, like a device name. */
#define DP_PORT_ANY UINT32_MAX  /* dp_port_add(): choose a number. */
#define DP_LOCAL_PORT 0

/* Configuration fixed at creation. */
struct dp_config {
    uint32_t max_threads;       /* dp_thread objects alive at once (each
                                 * owns a statistics slot in every flow);
                                 * 0 = default (8). */
    uint32_t flow_limit;        /* 0 = default (DP_DEFAULT_FLOW_LIMIT). */
    const char *local_type;     /* Port type of port 0; NULL = "dummy". */
    const char *local_options;  /* Its options; NULL = none. */
};

#define DP_DEFAULT_FLOW_LIMIT 1000000

/* Creates datapath 'name' with its local port.
 * Returns: 0 and '*dpp'; -EINVAL (bad name), -ENOMEM, or the local port's
 * error, with a reason in 'err'. */
int dp_create(const char *name, const struct dp_config *cfg,
              struct datapath **dpp, struct errbuf *err);

/* Destroys 'dp' (NULL is a no-op) with its PMD threads, channels,
 * ports and flows.  Every other dp_thread of 'dp' must have been
 * destroyed.  Waits for a grace period
 * and for deferred frees.
 * Context: a thread that is not an online RCU reader (qsbr_offline()
 * first, or an unregistered thread). */
void dp_destroy(struct datapath *dp);

const char *dp_name(const struct datapath *dp);

/* User features (OVS_DP_ATTR_USER_FEATURES): stored and reported. */
uint32_t dp_get_user_features(const struct datapath *dp);
void dp_set_user_features(struct datapath *dp, uint32_t features);

/* The flow limit: dp_flow_new() fails with -EFBIG when the table holds
 * this many flows. */
uint32_t dp_get_flow_limit(const struct datapath *dp);
void dp_set_flow_limit(struct datapath *dp, uint32_t limit);

/* ---- Ports. ---- */

/* Adds a port of 'type' for device 'name' (port/port.h).  '*port_no' is
 * the number wanted, or DP_PORT_ANY for the lowest free one; it receives
 * the number used.
 * Returns: 0; -EEXIST (name or number in use); -EFBIG (no free number,
 * or a number >= DP_MAX_PORTS); -EINVAL; or the provider's error.
 * Context: an online RCU reader; it passes through a quiescent state (the
 * device is opened offline), so pointers from earlier replies are no
 * longer valid after it (dp_create() too: it adds the local port). */
int dp_port_add(struct datapath *dp, const char *type, const char *name,
                const char *options, uint32_t *port_no, struct errbuf *err);

/* Deletes port 'port_no'; the device is closed when this returns (after
 * a grace period), so its name can be used again at once.
 * Returns: 0; -ENOENT; -EINVAL for the local port (which cannot be
 * deleted).  Context: as qsbr_synchronize(). */
int dp_port_del(struct datapath *dp, uint32_t port_no);

/* Returns port 'port_no', or NULL.  Context: RCU reader. */
struct port *dp_port_get(const struct datapath *dp, uint32_t port_no);

/* Returns the number of the port named 'name', or -ENOENT. */
int64_t dp_port_by_name(const struct datapath *dp, const char *name);

/* Sets and reads the upcall PIDs of a port (OVS_VPORT_ATTR_UPCALL_PID):
 * a "miss" upcall from the port goes to pids[hash(flow) % n], so one flow
 * always reaches the same reader.  PID 0 means "no upcalls" (they are
 * lost).  At most DP_UPCALL_PIDS_MAX PIDs.
 * Returns 0; -ENOENT (no port); -EINVAL (n 0 or too many);
 * dp_port_get_upcall_pids() returns the count, copying at most 'max'. */
#define DP_UPCALL_PIDS_MAX 1024
int dp_port_set_upcall_pids(struct datapath *dp, uint32_t port_no,
                            const uint32_t *pids, size_t n);
int dp_port_get_upcall_pids(const struct datapath *dp, uint32_t port_no,
                            uint32_t *pids, size_t max);

/* Upcalls of one port so far (OVS_VPORT_ATTR_UPCALL_STATS): queued to a
 * channel, and lost (no channel, queue full, out of memory).
 * Returns 0 or -ENOENT. */
int dp_port_get_upcall_stats(const struct datapath *dp, uint32_t port_no,
                             uint64_t *success, uint64_t *fail);

/* Fills 'nums' with up to 'max' port numbers in increasing order, from
 * the first one >= '*cursor'; sets '*cursor' past the last one returned.
 * Returns: the count (0 at the end). */
size_t dp_port_list(const struct datapath *dp, uint32_t *cursor,
                    uint32_t *nums, size_t max);

/* ---- Upcalls. ---- */

enum dp_upcall_type {
    DP_UPCALL_MISS,             /* No flow matched. */
    DP_UPCALL_ACTION,           /* userspace() action. */
};

/* One packet passed to userspace.  Everything is owned by the upcall:
 * dp_upcall_free() releases it. */
struct dp_upcall {
    enum dp_upcall_type type;
    struct packet *packet;      /* The packet as it was at the upcall. */
    struct flow_key key;        /* Its flow key. */
    uint32_t pid;               /* Port's PID (miss) or the action's. */
    void *userdata;             /* userspace() cookie copy, or NULL. */
    size_t userdata_len;
    void *actions;              /* Flow actions copy (include_actions). */
    size_t actions_len;
    bool has_egress_tun_port;
    uint32_t egress_tun_port;
};

void dp_upcall_free(struct dp_upcall *u);

/* The datapath's upcall queues (dp/upcall.h): channels by PID. */
struct upcall_reg *dp_upcalls(struct datapath *dp);

/* Per-CPU dispatch (OVS_DP_ATTR_PER_CPU_PIDS): while the user features
 * have OVS_DP_F_DISPATCH_UPCALL_PER_CPU, a "miss" upcall goes to
 * pids[t % n] where t is the number of the thread processing the packet
 * (dp_thread_id()), instead of to its port's PIDs; so does the upcall of
 * a userspace() action whose PID no channel has (the kernel ignores the
 * action's PID in this mode, and Open vSwitch writes a placeholder there;
 * weir keeps a PID a channel has, so that in-process handlers can still
 * be addressed).
 * Returns 0, -EINVAL (n 0 or > DP_UPCALL_PIDS_MAX), -ENOMEM;
 * dp_get_upcall_pids_per_cpu() returns the count, copying at most
 * 'max'. */
int dp_set_upcall_pids_per_cpu(struct datapath *dp, const uint32_t *pids,
                               size_t n);
size_t dp_get_upcall_pids_per_cpu(const struct datapath *dp, uint32_t *pids,
                                  size_t max);

/* In-process readers (seed 001 dpif_handlers_set()/dpif_recv(); see
 * dp/upcall.h): opens 'n' channels, one per handler, plus the special
 * channel, and points every port, present and future, at the handlers'
 * PIDs (and the per-CPU PIDs at them too).  0 closes them all (upcalls are
 * then lost).  Queued upcalls of closed channels are freed.
 * Returns 0; -EINVAL (n > DP_UPCALL_PIDS_MAX); -ENOMEM. */
int dp_handlers_set(struct datapath *dp, uint32_t n, struct errbuf *err);

/* Takes the next upcall for handler 'handler_id' (handler 0 reads its
 * own channel and the special one in turn).
 * Returns: 0 and '*up' (the caller frees it with dp_upcall_free());
 * -EAGAIN (none queued); -EINVAL (no such handler). */
int dp_recv(struct datapath *dp, uint32_t handler_id, struct dp_upcall **up);

/* Waits until handler 'handler_id' has an upcall to read or 'timeout_ms'
 * pass (-1: forever).  Returns 0, -ETIMEDOUT, -EINVAL.  Context: takes the
 * caller offline (RCU) while it waits. */
int dp_recv_wait(struct datapath *dp, uint32_t handler_id, int timeout_ms);

/* An fd that poll() reports readable while handler 'handler_id' may have
 * an upcall (handler 0: its channel or the special one), for event loops.
 * Valid until the next dp_handlers_set().
 * Returns: the fd; -EINVAL (no such handler). */
int dp_recv_fd(struct datapath *dp, uint32_t handler_id);

/* Frees every upcall queued for the handlers. */
void dp_recv_purge(struct datapath *dp);

/* The special PID: a channel no port uses (handlers set), else 0.
 * Context: RCU reader (dp_handlers_set() frees the old channels after a
 * grace period). */
uint32_t dp_special_pid(const struct datapath *dp);

/* ---- Flows. ---- */

/* What a flow request names and carries.  Unused members are NULL/0. */
struct dp_flow_req {
    const struct flow_key *key;     /* Unmasked key (NEW: required). */
    const struct flow_mask *mask;   /* NEW: NULL = exact on the fields
                                     * the key's attributes carry. */
    const struct ufid *ufid;        /* NULL or len 0: no UFID. */
    const void *actions;            /* Validated by the datapath. */
    size_t actions_len;
    bool has_actions;               /* SET: replace actions. */
    bool clear;                     /* SET: reset statistics. */
    uint32_t ufid_flags;            /* OVS_UFID_F_OMIT_* for the reply. */
};

#define DP_FLOW_EXCL 1u             /* dp_flow_new(): never modify. */

struct dp_flow_stats {
    uint64_t n_packets;
    uint64_t n_bytes;
    uint64_t used_ms;               /* CLOCK_MONOTONIC ms; 0 = never. */
    uint16_t tcp_flags;             /* OR of TCP flags seen. */
};

/* A flow as a reply reports it.  'has_*' say what is filled. */
struct dp_flow_info {
    bool has_ufid, has_key, has_mask, has_actions;
    struct ufid ufid;
    struct flow_key key;
    struct flow_mask mask;
    const void *actions;            /* Valid until the next quiescent
                                     * state of the calling thread. */
    size_t actions_len;
    struct dp_flow_stats stats;
};

/* OVS_FLOW_CMD_NEW: creates a flow or (without DP_FLOW_EXCL) modifies the
 * actions of the flow with the same identifier (see the essay).  The
 * actions are required (req->has_actions; an empty list drops).  'reply'
 * (may be NULL) receives the flow after the change.
 * Returns: 0 created, 1 modified; -EEXIST; -ENOENT (overlaps a flow with
 * another identifier); -EINVAL (no key, no actions, bad UFID length, bad
 * actions);
 * -EOPNOTSUPP (an action this build does not execute); -EFBIG (flow
 * limit); -ENOMEM.  The reason is in 'err'. */
int dp_flow_new(struct datapath *dp, const struct dp_flow_req *req,
                unsigned int flags, struct dp_flow_info *reply,
                struct errbuf *err);

/* OVS_FLOW_CMD_SET: replaces the actions (if req->has_actions) and/or
 * clears the statistics (req->clear) of an existing flow.  'reply' gets
 * the flow with its statistics from before the clear.
 * Returns: 0; -ENOENT; -EINVAL; -EOPNOTSUPP; -ENOMEM. */
int dp_flow_set(struct datapath *dp, const struct dp_flow_req *req,
                struct dp_flow_info *reply, struct errbuf *err);

/* OVS_FLOW_CMD_GET.  Returns: 0, -ENOENT, -EINVAL (neither UFID nor key). */
int dp_flow_get(struct datapath *dp, const struct dp_flow_req *req,
                struct dp_flow_info *reply, struct errbuf *err);

/* OVS_FLOW_CMD_DEL of one flow; 'reply' gets its final statistics.
 * Returns: 0, -ENOENT, -EINVAL. */
int dp_flow_del(struct datapath *dp, const struct dp_flow_req *req,
                struct dp_flow_info *reply, struct errbuf *err);

/* Deletes every flow. */
void dp_flow_flush(struct datapath *dp);

/* A flow dump: every flow present for the whole dump is returned exactly
 * once, whatever is added or removed meanwhile; flows added or removed
 * during the dump may or may not be.  Several threads may call
 * dp_flow_dump_next() on one dump at once. */
struct dp_flow_dump;

/* Starts a dump; 'ufid_flags' (OVS_UFID_F_OMIT_*) shape its entries. */
struct dp_flow_dump *dp_flow_dump_create(struct datapath *dp,
                                         uint32_t ufid_flags);

/* Fills up to 'max' entries of 'infos'.  Returns the count; 0 at the
 * end. */
size_t dp_flow_dump_next(struct dp_flow_dump *dump,
                         struct dp_flow_info *infos, size_t max);

/* Ends a dump (NULL is a no-op); no thread may be using it. */
void dp_flow_dump_destroy(struct dp_flow_dump *dump);

/* Resumable form for protocols that keep a plain integer between calls
 * (a netlink dump's cb->args): '*cursor' starts at 0. */
size_t dp_flow_dump_at(struct datapath *dp, uint64_t *cursor,
                       uint32_t ufid_flags, struct dp_flow_info *infos,
                       size_t max);

/* ---- Packets. ---- */

/* Per-thread state for processing packets.  Create one per thread that
 * calls dp_input()/dp_poll()/dp_execute(); destroy it on that thread. */
struct dp_thread_config {
    bool emc;                   /* Exact-match cache on (default true). */
    uint32_t emc_insert_inv_prob;   /* Insert 1 in N misses; 0 = 100. */
};

/* Returns: the thread state, or NULL if 'max_threads' thread states
 * exist already or memory ran out.  'cfg' may be NULL for defaults. */
struct dp_thread *dp_thread_create(struct datapath *dp,
                                   const struct dp_thread_config *cfg);
void dp_thread_destroy(struct dp_thread *thr);

/* Reports a quiescent state for the calling thread (qsbr_quiesce()). */
void dp_thread_quiesce(struct dp_thread *thr);

/* The thread's number, 0 .. max_threads - 1 (per-CPU upcall dispatch). */
uint32_t dp_thread_id(const struct dp_thread *thr);

/* Processes 'batch', packets received on port 'in_port' (each packet's
 * md.in_port is set to it): lookup, actions, upcalls.  Packets output to
 * a port are gathered and transmitted in batches before it returns.
 * Ownership: consumes every packet; 'batch' is empty after. */
void dp_input(struct dp_thread *thr, uint32_t in_port,
              struct pkt_batch *batch);

/* Receives one batch from queue 'qid' of port 'port_no' and processes it.
 * Returns: packets processed, or a negative errno (-ENOENT: no port). */
int dp_poll(struct dp_thread *thr, uint32_t port_no, uint32_t qid);

/* OVS_PACKET_CMD_EXECUTE: runs 'actions' on 'packet', whose metadata
 * (in_port, priority, mark, recirc_id, dp_hash) is set by the caller.
 * The actions are validated against the packet's flow key.
 * Ownership: consumes 'packet' (also on error).
 * Returns: 0; -EINVAL (frame too short, bad actions); -EOPNOTSUPP. */
int dp_execute(struct dp_thread *thr, struct packet *packet,
               const void *actions, size_t actions_len, struct errbuf *err);

/* ---- Statistics. ---- */

/* The seed's dpif_dp_stats, plus exact-match-cache hits. */
struct dp_stats {
    uint64_t n_hit;             /* Packets that matched a flow. */
    uint64_t n_missed;          /* Packets that matched none. */
    uint64_t n_lost;            /* Upcalls (misses and userspace()
                                 * actions) not delivered to userspace. */
    uint64_t n_flows;           /* Flows in the table. */
    uint64_t n_mask_hit;        /* Subtables probed, hits and misses. */
    uint32_t n_masks;           /* Subtables (distinct masks). */
    uint64_t n_cache_hit;       /* Hits answered by the exact-match cache. */
};

void dp_get_stats(const struct datapath *dp, struct dp_stats *stats);

/* Adds the drop counters of every thread, indexed by enum
 * dp_drop_reason, into 'counts'. */
void dp_get_drops(const struct datapath *dp,
                  uint64_t counts[DP_N_DROP_REASONS]);

#endif /* dp/dp.h */
