/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DPIF_H
#define WEIR_DPIF_H 1

/* dpif: the datapath interface of libweir (seed 001).
 *
 * What
 * ====
 *
 * A client's handle on one datapath: its ports, its flow table (flows of
 * key + mask + actions, optionally named by a UFID), packet execution,
 * upcalls and statistics.  Keys, masks and actions are netlink attribute
 * streams exactly as in <linux/openvswitch.h> (the payload of
 * OVS_FLOW_ATTR_KEY, _MASK, _ACTIONS): what ovs-dpctl prints and parses,
 * and what dpif_flow_parse() / dpif_flow_format() convert from and to
 * text.
 *
 * Two providers implement it:
 *
 *   - "netlink": over weird's control socket (weir/control.h), speaking
 *     the kernel module's generic-netlink protocol.  The datapaths live
 *     in weird; any number of clients may open them.
 *   - "local": in this process, over the datapath engine directly.  The
 *     datapaths live in the process and disappear with it; every open of
 *     a name in the process shares one datapath.
 *
 * Both behave the same; one conformance suite checks both
 * (tests/unit/test-dpif.c).
 *
 * Errors
 * ======
 *
 * Functions returning int return 0 (or a count) on success and a negative
 * errno on failure, the errno the kernel module would return (-ENOENT no
 * such flow/port/datapath, -EEXIST, -EINVAL malformed, -EOPNOTSUPP,
 * -EFBIG table full, -ENODEV no such device, ...).  dpif_last_error()
 * returns the reason text of the last failure on the calling thread,
 * from weird's extack message for the netlink provider.
 *
 * Transport errors.  Every call of the netlink provider that talks to
 * weird (every call below that takes a dpif or monitor, but for
 * dpif_name(), dpif_type() and the fd getters) may also fail with:
 *
 *   -ETIMEDOUT    weird did not answer, or left its socket full, for 30 s
 *                 (a weird that hangs); the call's outcome is unknown.
 *                 The dpif still works; a late answer is skipped.
 *   -ECONNRESET   weird closed the connection (it stopped or restarted).
 *                 The dpif is dead: every later call on it fails the
 *                 same way; close it and open the datapath again.
 *   -EPROTO       weird sent a malformed answer (the reason says what);
 *                 the call failed, the dpif still works.
 *   -ECONNREFUSED, -ENOENT  weird is not running (opening anything).
 *   -ENOMEM, -EMFILE  out of memory or file descriptors.
 *
 * The local provider never fails with the first four.  The "Returns:" of
 * each function lists its own errnos and says "transport errors" for
 * these.
 *
 * fork()
 * ======
 *
 * A dpif, dump or monitor belongs to the process that made it.  In a
 * child of fork() every call on one made before the fork fails with
 * -ECHILD (a netlink dpif's connections are shared with the parent, whose
 * replies the child would read; a local datapath's threads do not exist
 * in the child), and dpif_close(), dpif_flow_dump_destroy(),
 * dpif_flow_dump_thread_destroy() and dpif_monitor_destroy() release
 * nothing there (their locks may have been held by a parent thread): the
 * child opens what it needs anew.  dpif_name() and dpif_type() still
 * answer; dpif_handler_pid() returns 0.
 *
 * Thread-safety
 * =============
 *
 * As seed 001: every function may be called from any thread on the same
 * or different dpifs, except:
 *
 *   - dpif_port_poll() is for one thread per dpif.
 *   - dpif_flow_dump_next() may be called from several threads on one dump,
 *     each with its own struct dpif_flow_dump_thread.
 *   - dpif_flow_dump_destroy() once, after every thread is done.
 *   - a port dump belongs to one thread.
 *   - dpif_recv() for one handler id is for one thread at a time.
 *   - a monitor (dpif_monitor_next(), _destroy()) belongs to one thread
 *     at a time; dpif_monitor_fd() may be called from any.
 *   - dpif_close() when no other call on the dpif runs.
 *
 * Upcall handlers belong to the dpif, not to the datapath: see
 * dpif_handlers_set().
 *
 * Ownership
 * =========
 *
 * Inputs are borrowed for the call.  Outputs that point into memory
 * (flows from a dump or a get, upcalls) stay valid until the next call
 * that refills the same object (the next dpif_flow_dump_next() on that
 * thread, the next dpif_recv() on that handler, the next
 * dpif_monitor_next() on that monitor, or the buffer the caller
 * passed).  dpif_recv_purge() refills nothing: the upcall a handler last
 * returned stays valid. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dpif;

#define DPIF_NAME_MAX 16            /* Datapath and port names, with NUL. */
#define DPIF_LOCAL_PORT 0           /* Named after the datapath. */
#define DPIF_PORT_ANY UINT32_MAX    /* dpif_port_add(): choose a number. */
#define DPIF_OPTIONS_MAX 1024       /* A port's provider options, with NUL. */

/* ---- Datapaths. ---- */

/* Sets the control socket path the netlink provider connects to in this
 * process (NULL: back to $WEIR_CONTROL, else WEIR_CONTROL_DEFAULT) for
 * what is opened from now on: dpif_open(), dpif_monitor_create(),
 * dpif_enumerate().  A dpif or monitor keeps the path it was opened with
 * for every connection it makes later (dump, handler and port-change
 * sockets), so a program may talk to several weirds at once.
 * Thread-safety: any thread, any time. */
void dpif_set_control_path(const char *path);

/* The path dpif_open() would connect to now.
 * Ownership: the string is the library's and stays valid, unchanged, for
 * the life of the process (a later dpif_set_control_path() or setenv()
 * makes a new one; the library keeps one copy of each path). */
const char *dpif_control_path(void);

/* Opens datapath 'name' with provider 'type' ("netlink" or "local"; NULL
 * means "netlink").  With 'create', makes it if it does not exist (-EEXIST
 * never: an existing one is opened).
 * Returns: 0 and '*dpifp'; -ENODEV (no such datapath); -ECONNREFUSED or
 * -ENOENT (weird is not running: no control socket); -ENAMETOOLONG (the
 * control path); -EINVAL (bad name or type, 'dpifp' NULL); -ENOMEM;
 * -EMFILE; transport errors. */
int dpif_open(const char *type, const char *name, bool create,
              struct dpif **dpifp);

/* Closes 'dpif' (NULL is a no-op), with its upcall handlers; the
 * datapath stays.  Nothing else may run on 'dpif' meanwhile, and its
 * dumps must be destroyed before. */
void dpif_close(struct dpif *dpif);

/* Deletes the datapath (with its ports and flows, and the upcall handlers
 * of every dpif on it); 'dpif' must still be closed, and every call on a
 * dpif of the deleted datapath fails with -ENODEV.
 * Returns: 0; -ENODEV (already deleted); -EINVAL ('dpif' NULL); -ECHILD;
 * transport errors. */
int dpif_delete(struct dpif *dpif);

const char *dpif_name(const struct dpif *dpif);
const char *dpif_type(const struct dpif *dpif);

/* Calls 'cb' with the name of every datapath of provider 'type'.
 * Returns: 0; -EINVAL (unknown type, 'cb' NULL); -ENOMEM; transport
 * errors. */
int dpif_enumerate(const char *type, void (*cb)(const char *name, void *aux),
                   void *aux);

struct dpif_dp_stats {
    uint64_t n_hit;             /* Packets that matched a flow. */
    uint64_t n_missed;          /* Packets that matched none. */
    uint64_t n_lost;            /* Upcalls not delivered. */
    uint64_t n_flows;           /* Flows in the table. */
    uint64_t n_mask_hit;        /* Masks visited for matches. */
    uint32_t n_masks;           /* Masks (subtables). */
    uint32_t masks_cache_size;  /* OVS_DP_ATTR_MASKS_CACHE_SIZE. */
    uint64_t n_cache_hit;       /* OVS_DP_ATTR_MEGAFLOW_STATS cache hits. */
};

/* Returns: 0 and '*stats'; -ENODEV (datapath deleted); -EINVAL (NULL
 * argument); -ECHILD; transport errors. */
int dpif_get_dp_stats(const struct dpif *dpif, struct dpif_dp_stats *stats);

/* User features (OVS_DP_F_*).
 * Returns: 0; -EOPNOTSUPP (set: a feature the kernel module does not
 * know); -ENODEV; -EINVAL (NULL argument); -ECHILD; transport errors. */
int dpif_get_features(const struct dpif *dpif, uint32_t *features);
int dpif_set_features(struct dpif *dpif, uint32_t features);

/* ---- Ports. ---- */

/* Port types: "system" (a network device, through AF_PACKET, whatever its
 * offloads), "internal" (a TAP device made for the port), or a weir
 * provider by name ("afxdp", "afpacket", "tap", "dummy", "pcap").
 *
 * 'options' are the provider options the port was added with, exactly as
 * given to dpif_port_add() ("k=v,k=v" in the caller's order, not sorted),
 * or "" for none (and for the local port).  dpif_port_add() refuses
 * options that do not fit; a port added by another client of weird
 * (raw netlink) may have longer ones, which are then cut after the last
 * whole "k=v" item that fits. */
struct dpif_port {
    char name[DPIF_NAME_MAX];
    char type[DPIF_NAME_MAX];
    uint32_t port_no;
    uint32_t ifindex;           /* 0 if the port has no kernel device. */
    char options[DPIF_OPTIONS_MAX];
};

struct dpif_port_stats {
    uint64_t rx_packets, tx_packets;
    uint64_t rx_bytes, tx_bytes;
    uint64_t rx_errors, tx_errors;
    uint64_t rx_dropped, tx_dropped;
    uint64_t upcall_success, upcall_fail;
};

/* Adds device 'name' as a port of 'type' with provider 'options' ("k=v,
 * k=v" or NULL).  '*port_no' is the number wanted or DPIF_PORT_ANY; it
 * receives the number used.  The port's upcall PIDs are those of this
 * dpif's handlers (dpif_handlers_set()), or none.
 * Returns: 0; -EEXIST (the name, the number, or the device as a port of
 * another datapath, is in use; the reason names a port number only when
 * one was asked for); -ENODEV (no such device, or the datapath was
 * deleted); -EAFNOSUPPORT (a type weir does not have); -EINVAL (also:
 * options of DPIF_OPTIONS_MAX bytes or more); -EFBIG (number too high);
 * -ECHILD; transport errors. */
int dpif_port_add(struct dpif *dpif, const char *name, const char *type,
                  const char *options, uint32_t *port_no);

/* Replaces the provider options of port 'port_no' with 'options' ("k=v,
 * k=v", "" for none).  Neither weird nor the local provider can change
 * the options of a running port, as the kernel cannot change those of
 * its netdev and internal vports: for an existing port both answer
 * -EOPNOTSUPP (with a reason in dpif_last_error()), and the way to new
 * options is dpif_port_del() then dpif_port_add().  The call exists so
 * that a client asks the datapath rather than assuming (the netlink
 * provider sends OVS_VPORT_CMD_SET with the options, as ovs-dpctl
 * set-if does).
 * Returns: -EOPNOTSUPP (see above); -ENOENT (no such port); -EINVAL
 * ('options' NULL or of DPIF_OPTIONS_MAX bytes or more); -ENODEV (the
 * datapath is gone); transport errors of the netlink provider. */
int dpif_port_set_options(struct dpif *dpif, uint32_t port_no,
                          const char *options);

/* Returns: 0; -ENOENT (no such port); -EINVAL (the local port, or
 * 'dpif' NULL); -ENODEV (datapath deleted); -ECHILD; transport errors. */
int dpif_port_del(struct dpif *dpif, uint32_t port_no);

/* Return: 0 and '*port'; -ENOENT (no such port in this datapath);
 * -EINVAL (NULL argument, bad name); -ENODEV; -ECHILD; transport
 * errors.  dpif_port_get_stats() likewise. */
int dpif_port_query_by_number(const struct dpif *dpif, uint32_t port_no,
                              struct dpif_port *port);
int dpif_port_query_by_name(const struct dpif *dpif, const char *name,
                            struct dpif_port *port);

int dpif_port_get_stats(const struct dpif *dpif, uint32_t port_no,
                        struct dpif_port_stats *stats);

/* Port dump: every port, in increasing number.  dpif_port_dump_start()
 * never returns NULL: a dump that could not start (out of memory, a
 * transport error) ends at once, and dpif_port_dump_done() returns
 * why. */
struct dpif_port_dump;
struct dpif_port_dump *dpif_port_dump_start(const struct dpif *dpif);
/* Returns true and '*port', or false at the end (or on error). */
bool dpif_port_dump_next(struct dpif_port_dump *dump, struct dpif_port *port);
/* Ends the dump and frees it.
 * Returns: 0; the error that ended the dump early (-ENOMEM, -ENODEV,
 * -ECHILD, transport errors); -EINVAL ('dump' NULL). */
int dpif_port_dump_done(struct dpif_port_dump *dump);

/* Port changes: returns 0 with '*name' (malloc'd, the caller frees it) of
 * a port that was added, deleted or changed since the last call; -EAGAIN
 * if nothing changed; -ENOBUFS if changes were lost (re-read every
 * port); -ENOMEM; -EINVAL (NULL argument); -ECHILD; transport errors.
 * dpif_port_poll_fd() is readable when a call may return 0 or -ENOBUFS.
 * The netlink provider learns of changes from weird's notifications,
 * which travel on a connection of their own: after a change made through
 * this dpif whose notification has not come yet, dpif_port_poll() waits
 * for it, up to 1 s, so that a change made here is always seen by the
 * next call. */
int dpif_port_poll(const struct dpif *dpif, char **name);
int dpif_port_poll_fd(const struct dpif *dpif);

/* ---- Flows. ---- */

#define DPIF_UFID_LEN 16

struct dpif_ufid {
    uint8_t len;                /* 0 = no UFID; 1..16. */
    uint8_t id[DPIF_UFID_LEN];
};

struct dpif_flow_stats {
    uint64_t n_packets;
    uint64_t n_bytes;
    int64_t used_ms;            /* CLOCK_MONOTONIC ms; 0 = never. */
    uint16_t tcp_flags;
};

/* A flow as read back.  Omitted parts (terse dumps) have NULL / 0. */
struct dpif_flow {
    const void *key;
    size_t key_len;
    const void *mask;
    size_t mask_len;
    const void *actions;
    size_t actions_len;
    struct dpif_ufid ufid;      /* len 0 for a flow without UFID. */
    struct dpif_flow_stats stats;
};

/* DPIF_FP_ZERO_STATS with DPIF_FP_MODIFY, on a put that also has
 * DPIF_FP_CREATE or asks for statistics, is two requests (the kernel
 * zeroes only in a modify that reports nothing): the put, then, if it
 * worked, the zeroing.  Packets that hit the flow between the two are
 * counted in neither the statistics returned nor those kept; a put that
 * fails changes nothing.  Without either, it is one request. */
enum dpif_flow_put_flags {
    DPIF_FP_CREATE = 1 << 0,    /* Allow creating a flow. */
    DPIF_FP_MODIFY = 1 << 1,    /* Allow modifying an existing flow. */
    DPIF_FP_ZERO_STATS = 1 << 2,/* Zero the stats of a modified flow. */
    DPIF_FP_PROBE = 1 << 3,     /* A feature probe: weird logs nothing. */
};

/* The operations, for dpif_operate() and the convenience calls below. */
struct dpif_flow_put {
    unsigned int flags;         /* DPIF_FP_*. */
    const void *key;            /* Required. */
    size_t key_len;
    const void *mask;           /* NULL: exact match. */
    size_t mask_len;
    const struct dpif_ufid *ufid;   /* NULL: none. */
    const void *actions;        /* Empty list: drop. */
    size_t actions_len;
    struct dpif_flow_stats *stats;  /* Out, optional: stats before a
                                     * modify (zeroes for a create). */
};

struct dpif_flow_del {
    const void *key;            /* Ignored when 'ufid' is given. */
    size_t key_len;
    const struct dpif_ufid *ufid;
    bool terse;                 /* Do not fetch key/mask/actions. */
    struct dpif_flow_stats *stats;  /* Out, optional: final stats. */
};

struct dpif_flow_get {
    const void *key;            /* Ignored when 'ufid' is given. */
    size_t key_len;
    const struct dpif_ufid *ufid;
    void *buf;                  /* Caller's buffer for the flow's bytes. */
    size_t buf_size;            /* DPIF_FLOW_BUFSIZE is always enough;
                                 * less may give -EMSGSIZE. */
    struct dpif_flow *flow;     /* Out: points into 'buf'. */
};

#define DPIF_FLOW_BUFSIZE 65536

/* A packet to run through actions.
 *
 * CAUTION: 'in_port' 0 is a port, the datapath's local port (as in the
 * kernel's OVS_KEY_ATTR_IN_PORT), not "none": a zero-initialized struct
 * executes the packet as if received on the local port.  A packet that
 * comes from no port has 'in_port' DPIF_PORT_ANY; start from
 * DPIF_EXECUTE_INIT (which sets that, all else 0) to get it:
 *
 *     struct dpif_execute ex = DPIF_EXECUTE_INIT;
 *     ex.packet = frame; ex.packet_len = len; ...
 */
struct dpif_execute {
    const void *packet;         /* Ethernet frame, >= 14 bytes. */
    size_t packet_len;
    const void *actions;
    size_t actions_len;
    uint32_t in_port;           /* DPIF_PORT_ANY: none.  0: the LOCAL
                                 * port (see above). */
    uint32_t priority, mark, recirc_id, dp_hash;
    uint16_t mru;               /* Must be 0: weir does not fragment on
                                 * output (no conntrack reassembly);
                                 * anything else is -EOPNOTSUPP with both
                                 * providers. */
    bool probe;                 /* A feature probe: weird logs nothing. */
};

/* A struct dpif_execute for a packet from no port (C designated
 * initializer). */
#define DPIF_EXECUTE_INIT { .in_port = DPIF_PORT_ANY }

enum dpif_op_type {
    DPIF_OP_FLOW_PUT = 1,
    DPIF_OP_FLOW_DEL,
    DPIF_OP_FLOW_GET,
    DPIF_OP_EXECUTE,
};

struct dpif_op {
    enum dpif_op_type type;
    int error;                  /* Out: 0 or -errno. */
    union {
        struct dpif_flow_put flow_put;
        struct dpif_flow_del flow_del;
        struct dpif_flow_get flow_get;
        struct dpif_execute execute;
    } u;
};

/* Runs 'n' operations, as few round trips as the provider can (the
 * netlink provider sends them in one datagram per batch), each setting
 * its own 'error'.  Operations are applied in order.  A transport error
 * becomes the error of every operation whose outcome did not arrive
 * (those before it in the batch have theirs). */
void dpif_operate(struct dpif *dpif, struct dpif_op **ops, size_t n);

/* One-operation forms of dpif_operate(); each returns the op's error.
 * Every one: -EINVAL (malformed, NULL arguments); -ENODEV (datapath
 * deleted); -ECHILD; transport errors; and:
 * dpif_flow_put(): -EEXIST (exists, no DPIF_FP_MODIFY; or another flow
 * overlaps); -ENOENT (absent, no DPIF_FP_CREATE); -EOPNOTSUPP (an action
 * or key field weir does not have); -EFBIG (table full).
 * dpif_flow_del(): -ENOENT (no such flow).
 * dpif_flow_get(): -ENOENT (no such flow); -EMSGSIZE ('buf_size' too
 * small for the flow's key, mask and actions: '*flow' is then zeroed).
 * dpif_execute(): -EOPNOTSUPP (an action weir does not have; 'mru' not
 * 0). */
int dpif_flow_put(struct dpif *dpif, unsigned int flags,
                  const void *key, size_t key_len,
                  const void *mask, size_t mask_len,
                  const struct dpif_ufid *ufid,
                  const void *actions, size_t actions_len,
                  struct dpif_flow_stats *stats);
int dpif_flow_del(struct dpif *dpif, const void *key, size_t key_len,
                  const struct dpif_ufid *ufid,
                  struct dpif_flow_stats *stats);
int dpif_flow_get(struct dpif *dpif, const void *key, size_t key_len,
                  const struct dpif_ufid *ufid, void *buf, size_t buf_size,
                  struct dpif_flow *flow);
int dpif_execute(struct dpif *dpif, const struct dpif_execute *exec);

/* Deletes every flow.
 * Returns: 0; -ENODEV; -EINVAL; -ECHILD; transport errors. */
int dpif_flow_flush(struct dpif *dpif);

/* Flow dump.  Every flow present for the whole dump is returned exactly
 * once; flows added or removed meanwhile may or may not be.  'terse'
 * asks for UFID and statistics only (seed 000's OMIT flags): flows with
 * a UFID then come without key, mask and actions.  The netlink provider
 * reads each dump on a connection of its own. */
struct dpif_flow_dump;
struct dpif_flow_dump_thread;

/* Returns the dump, or NULL on failure with errno set to why (ENOMEM,
 * EMFILE, ENODEV, EINVAL, ECHILD, or a transport error's) and the reason
 * in dpif_last_error(). */
struct dpif_flow_dump *dpif_flow_dump_create(const struct dpif *dpif,
                                             bool terse);
/* Returns a thread's state for 'dump', or NULL (out of memory, 'dump'
 * NULL, -ECHILD) with the reason in dpif_last_error(). */
struct dpif_flow_dump_thread *
dpif_flow_dump_thread_create(struct dpif_flow_dump *dump);
void dpif_flow_dump_thread_destroy(struct dpif_flow_dump_thread *thread);

/* Fills up to 'max' of 'flows'.  Returns the count, 0 at the end (or
 * after an error, which dpif_flow_dump_destroy() returns).  The flows
 * stay valid until the next call on 'thread'. */
int dpif_flow_dump_next(struct dpif_flow_dump_thread *thread,
                        struct dpif_flow *flows, int max);

/* Ends the dump (NULL: 0).
 * Returns: 0, or the error that cut it short: -ENODEV (datapath deleted
 * meanwhile); -ENOMEM; -EPROTO (a flow weird sent was malformed: skipped,
 * the rest came); -ECHILD; transport errors. */
int dpif_flow_dump_destroy(struct dpif_flow_dump *dump);

/* ---- Upcalls. ---- */

enum dpif_upcall_type {
    DPIF_UC_MISS,               /* No flow matched. */
    DPIF_UC_ACTION,             /* A userspace() action. */
};

struct dpif_upcall {
    enum dpif_upcall_type type;
    const void *packet;         /* The Ethernet frame. */
    size_t packet_len;
    const void *key;            /* The packet's flow key (attributes). */
    size_t key_len;
    const void *userdata;       /* userspace() cookie, or NULL. */
    size_t userdata_len;
    const void *actions;        /* The flow's actions, if the action asked
                                 * for them, else NULL. */
    size_t actions_len;
    uint32_t in_port;           /* From the key. */
    uint32_t pid;               /* The PID the upcall was sent to. */
};

/* Creates 'n' handlers (upcall readers) numbered 0..n-1 for this dpif,
 * replacing the ones it had, or removes them all with 0; the datapath
 * then sends its miss upcalls to them (per-CPU dispatch: each polling
 * thread to one handler, one flow always to the same one), fairly across
 * ports, and every port's upcall PIDs are theirs.  The same 'n' as now
 * changes nothing.  dpif_recv_set(false) is dpif_handlers_set(0).
 *
 * Handlers belong to the dpif (in both providers): another dpif of the
 * same datapath has none until it sets its own (dpif_handler_pid() 0,
 * dpif_recv() -EINVAL), each has its own buffers, and a datapath sends
 * its misses to the handlers of the dpif that set them last (the kernel
 * module's rule: the last OVS_DP_CMD_SET wins).  The handlers of the
 * other dpifs stay theirs and still receive what is addressed to their
 * PIDs (userspace() actions).  dpif_close() removes a dpif's handlers.
 *
 * On failure the dpif keeps the handlers it had, and the datapath is set
 * back as it was, as far as it still answers.
 * Returns: 0; -EINVAL (more than 1024, 'dpif' NULL); -ENODEV; -ENOMEM;
 * -EMFILE; -ECHILD; transport errors. */
int dpif_handlers_set(struct dpif *dpif, uint32_t n);
int dpif_recv_set(struct dpif *dpif, bool enable);

/* The PID of this dpif's handler 'handler_id', for userspace(pid=...)
 * actions, or 0 (no such handler). */
uint32_t dpif_handler_pid(const struct dpif *dpif, uint32_t handler_id);

/* Takes the next upcall of this dpif's handler 'handler_id'.  The upcall
 * stays valid until the next dpif_recv() for that handler (or until the
 * handler goes: dpif_handlers_set(), dpif_close()).
 * Returns: 0; -EAGAIN (none waiting); -EINVAL (no such handler);
 * -ENOBUFS (upcalls were lost; go on reading); -ENODEV; -ECHILD;
 * -ECONNRESET (netlink: weird closed the handler's connection: the dpif
 * is dead). */
int dpif_recv(struct dpif *dpif, uint32_t handler_id,
              struct dpif_upcall *upcall);

/* Waits up to 'timeout_ms' (-1: forever) for handler 'handler_id' to have
 * an upcall (or, netlink, for its connection to close: dpif_recv() then
 * says -ECONNRESET).
 * Returns: 0; -ETIMEDOUT; -EINVAL (no such handler, 'timeout_ms' below
 * -1); -ENODEV; -ECHILD. */
int dpif_recv_wait(struct dpif *dpif, uint32_t handler_id, int timeout_ms);

/* An fd readable while handler 'handler_id' may have upcalls, valid until
 * the handler goes (dpif_handlers_set(), dpif_close()).
 * Returns: the fd; -EINVAL (no such handler); -ENODEV; -ECHILD. */
int dpif_recv_fd(struct dpif *dpif, uint32_t handler_id);

/* Drops every upcall queued for this dpif's handlers.  The upcall each
 * handler returned last stays valid. */
void dpif_recv_purge(struct dpif *dpif);

/* ---- Events. ---- */

/* A monitor reports every change to the datapaths of a provider, their
 * ports and their flows, as the kernel module's multicast groups
 * (ovs_datapath, ovs_vport, ovs_flow) report them to Open vSwitch:
 *
 *   change                              events, in this order
 *   ----------------------------------  ---------------------------------
 *   dpif_open() that creates            DP NEW
 *   dpif_delete()                       DP DEL (nothing for the ports and
 *                                       flows that go with it)
 *   dpif_set_features()                 DP SET
 *   dpif_handlers_set() that changes    DP SET, then PORT SET for every
 *     the number of handlers            port in increasing number
 *   dpif_port_add(), dpif_port_del()    PORT NEW, PORT DEL (the port as it
 *                                       was)
 *   flow put with DPIF_FP_CREATE        FLOW NEW (created or modified)
 *   flow put with DPIF_FP_MODIFY only   FLOW SET
 *   flow put with DPIF_FP_MODIFY and    a second FLOW SET, for the zeroing
 *     DPIF_FP_ZERO_STATS that also has  (in a dpif_operate() batch, after
 *     DPIF_FP_CREATE or asks for        the other events of the batch; with
 *     statistics                        the netlink provider, of the part
 *                                       of the batch that shares its
 *                                       datagram)
 *   flow delete                         FLOW DEL (final statistics)
 *   dpif_flow_flush(), dpif_execute(),  nothing (the kernel sends nothing
 *     traffic, upcalls                  for a flush either)
 *
 * A failed change sends nothing, but for a dpif_handlers_set() that
 * failed after changing the datapath: setting it back sends the events
 * of both changes.  A flow event carries the flow's UFID
 * (if it has one), its statistics at the change (before any zeroing) and
 * its key (masked, for a flow with a UFID), mask and actions, except
 * that a flow with a UFID changed by a put that asks for statistics, or
 * deleted with 'terse' (as dpif_flow_del() always is), comes with UFID
 * and statistics only: what the request asked the datapath to echo, as
 * in the kernel's notifications.
 *
 * The netlink provider reports the changes every client of weird makes
 * (weird's notifications); the local provider those made through any
 * dpif of this process.  Both report the same events for the same
 * changes (the local provider's flow statistics keep all 12 TCP flag
 * bits, as everywhere).  Changes made while dpif_monitor_create() runs
 * may or may not be reported; every change made after it returned is,
 * unless events are lost: a monitor that falls behind (weird's socket
 * buffer for it, or the local provider's queue of 1024 events, is full)
 * loses the events that do not fit, and reports DPIF_EV_LOST at the place
 * of the first one; the caller then reads the state again.  Events of
 * changes that different threads make at the same time may come in
 * either order. */

enum dpif_event_kind {
    DPIF_EV_DP,                 /* A datapath. */
    DPIF_EV_PORT,               /* A port. */
    DPIF_EV_FLOW,               /* A flow. */
    DPIF_EV_LOST,               /* Events were lost (only 'kind' is set). */
};

enum dpif_event_op {
    DPIF_EV_NEW,                /* Created (flows: OVS_FLOW_CMD_NEW). */
    DPIF_EV_DEL,                /* Deleted. */
    DPIF_EV_SET,                /* Changed. */
};

struct dpif_event {
    enum dpif_event_kind kind;
    enum dpif_event_op op;
    char dp_name[DPIF_NAME_MAX];    /* The datapath; "" if the netlink
                                     * provider could not learn the name
                                     * of one deleted meanwhile. */
    struct dpif_port port;          /* DPIF_EV_PORT. */
    struct dpif_flow flow;          /* DPIF_EV_FLOW: points into the
                                     * monitor, valid until its next
                                     * dpif_monitor_next(). */
};

struct dpif_monitor;

/* Starts a monitor of every datapath of provider 'type' (NULL:
 * "netlink").  The netlink provider joins weird's three multicast
 * groups on a connection of the monitor's own, to the weird at
 * dpif_control_path() (it keeps that path).
 * Returns: 0 and '*monp'; -EINVAL (unknown type, 'monp' NULL);
 * -ECONNREFUSED or -ENOENT (weird is not running); -EOPNOTSUPP (weird
 * lacks a family or multicast group); -ENOMEM; -EMFILE; other transport
 * errors. */
int dpif_monitor_create(const char *type, struct dpif_monitor **monp);

/* Takes the next event into '*event', waiting up to 'timeout_ms' for one
 * (0: not at all; -1: for ever).  The event's flow bytes stay valid until
 * the next call on 'mon'.
 * Returns: 0 and an event (DPIF_EV_LOST included); -EAGAIN (none within
 * the time, or a signal interrupted the wait); -EPROTO (netlink: weird
 * sent a malformed notification, which is skipped: the reason is in
 * dpif_last_error(); call again); -ECONNRESET (netlink: weird closed the
 * connection; the monitor is dead, destroy it); -EINVAL ('mon' or
 * 'event' NULL); -ECHILD. */
int dpif_monitor_next(struct dpif_monitor *mon, struct dpif_event *event,
                      int timeout_ms);

/* An fd that is readable while the monitor has events waiting, for
 * poll().  A monitor may hold events that the fd no longer signals, so a
 * caller woken by it calls dpif_monitor_next(mon, ev, 0) until -EAGAIN
 * before it waits again.  Returns the fd, -EINVAL or -ECHILD. */
int dpif_monitor_fd(const struct dpif_monitor *mon);

/* Ends the monitor (NULL is a no-op).
 * Ownership: a monitor is the caller's from dpif_monitor_create() until
 * this call; events it still holds go with it. */
void dpif_monitor_destroy(struct dpif_monitor *mon);

/* ---- Errors and text. ---- */

/* The reason text of the calling thread's last failed call ("" if
 * none). */
const char *dpif_last_error(void);

/* Parses ovs-dpctl flow text ("ufid:...,in_port(1),eth(...)" for a key
 * with masks; "2,push_vlan(...)" or "drop" for actions) into caller
 * buffers.  'ufid' (may be NULL) receives a leading "ufid:..." if any.
 * Return: the length written, or -EINVAL (reason in dpif_last_error()) or
 * -EMSGSIZE. */
int dpif_key_parse(const char *text, void *key, size_t key_size,
                   void *mask, size_t mask_size, size_t *mask_len,
                   struct dpif_ufid *ufid);
int dpif_actions_parse(const char *text, void *actions, size_t size);

/* Formats a flow in ovs-dpctl dump-flows syntax (with "ufid:..." first
 * when 'verbose' and the flow has one) into 'out' (of 'size' bytes,
 * always NUL-terminated).  Returns the length the full text needs. */
size_t dpif_flow_format(const struct dpif_flow *flow, bool verbose,
                        char *out, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* weir/dpif.h */
