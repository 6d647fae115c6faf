/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DPIF_DPIF_LOCAL_PRIVATE_H
#define WEIR_DPIF_DPIF_LOCAL_PRIVATE_H 1

/* The "local" dpif provider's insides, shared by its files (private to
 * src/dpif).
 *
 * What
 * ====
 *
 * dpif-local.c holds the registry, datapaths, ports, port changes and
 * dpif_local_class; dpif-local-flow.c the flow operations, packet
 * execution and flow dumps; dpif-local-upcall.c the upcall handlers;
 * dpif-local-monitor.c the event monitors and the events the other files
 * send them.  The design is in dpif/dpif-local.h.
 *
 * Design
 * ======
 *
 * Every call that uses a datapath brackets its work with
 * dpif_local_enter() / dpif_local_exit() (or _lock() / _unlock() when it
 * needs no RCU): the datapath's lock for reading (for writing when
 * 'exclusive'), and the caller online as an RCU reader only in between.
 *
 * Events: a file that changes something builds the event
 * (dpif_local_event_new(), which copies what it is given, so it may be
 * called online with RCU-protected flow bytes) and hands it to
 * dpif_local_emit() offline, still holding the lock under which it made
 * the change, so that the events of one datapath come in the order of
 * its changes.  Both are skipped when dpif_local_monitored() says no
 * monitor exists.
 *
 * Thread-safety
 * =============
 *
 * Lock order (dpif-local.h): a datapath's lock, then the registry mutex,
 * then a datapath's small mutexes (ports, port records, port changes,
 * execute pool); the monitors' mutex (dpif-local-monitor.c) comes last
 * of all and nothing is taken under it.  None is waited for online but
 * the port records' mutex, which is only ever held for a copy.
 *
 * Ownership
 * =========
 *
 * As dpif-local.h.  An event belongs to the monitors it was queued on
 * (reference counted); dpif_local_emit() takes the caller's reference. */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/openvswitch.h>

#include "dpif/dpif-local.h"
#include "dpif/dpif-provider.h"
#include "lib/mutex.h"

struct dp_flow_info;
struct errbuf;
struct upcall_channel;

#define LOCAL_POLL_MAX 256      /* Port changes a dpif holds. */
#define LOCAL_EXEC_MAX 4        /* dp_threads for dpif_execute(). */
#define LOCAL_DUMP_BATCH 64     /* Flows one dump call fetches at most. */
#define LOCAL_WAIT_SLICE_MS 100 /* dpif_recv_wait() holds the lock. */
#define LOCAL_MONITOR_MAX 1024  /* Events a monitor holds (dpif.h). */

#define LOCAL_OMIT_ALL (OVS_UFID_F_OMIT_KEY | OVS_UFID_F_OMIT_MASK \
                        | OVS_UFID_F_OMIT_ACTIONS)

/* What the datapath does not know of a port: the type it was added with
 * ("system", "internal" or a provider), which dpif_port_query() reports
 * as the netlink provider does, and its provider options as given. */
struct local_port_rec {
    uint32_t port_no;
    char type[DPIF_NAME_MAX];
    char options[DPIF_OPTIONS_MAX];
};

/* One upcall handler of a dpif: a channel of the datapath, and what
 * dpif_recv() returned last from it. */
struct local_handler {
    struct upcall_channel *ch;
    void *buf;
    size_t size;
};

/* A datapath of the process. */
struct local_dp {
    struct local_dp *next;          /* In the registry (registry mutex). */
    char name[DPIF_NAME_MAX];
    unsigned int n_opens;           /* Open dpifs (registry mutex). */
    bool deleted;                   /* Out of the registry (same). */

    /* Read: any call using 'dp'.  Write: delete, handlers_set, close. */
    pthread_rwlock_t lock;
    struct datapath *dp;            /* NULL once deleted. */

    struct wmutex port_mutex;       /* One port add/del at a time. */
    struct wmutex recs_mutex;       /* Guards the next three. */
    struct local_port_rec *recs;
    size_t n_recs, max_recs;

    struct wmutex exec_mutex;       /* Guards the execute pool. */
    pthread_cond_t exec_cond;       /* Signalled when one is put back. */
    struct dp_thread *exec_free[LOCAL_EXEC_MAX];
    unsigned int n_exec_free;       /* In 'exec_free'. */
    unsigned int n_exec;            /* Created, free or in use. */

    struct wmutex poll_mutex;       /* Guards 'dpifs' and their queues. */
    struct local_dpif *dpifs;
};

/* One open of a datapath. */
struct local_dpif {
    struct dpif up;
    struct local_dp *ldp;
    struct local_dpif *next;        /* In ldp->dpifs. */

    /* Names of ports changed since the last dpif_port_poll() (a ring,
     * under ldp->poll_mutex) and an eventfd readable while it has
     * something to report. */
    char (*changes)[DPIF_NAME_MAX];
    unsigned int head, n;
    bool overflow;
    int poll_fd;

    /* Upcall handlers (dpif-local-upcall.c): changed under ldp->lock
     * held for writing, read under it held for reading. */
    uint32_t n_handlers;
    struct local_handler *handlers;
};

/* What an RCU-aware call remembers about its caller. */
struct local_call {
    bool was_online;                /* Caller was an online RCU reader. */
};

static inline struct local_dpif *
local_dpif_cast(const struct dpif *dpif)
{
    return (struct local_dpif *) dpif;
}

static inline struct local_dp *
ldp_of(const struct dpif *dpif)
{
    return local_dpif_cast(dpif)->ldp;
}

/* ---- Calls (dpif-local.c). ---- */

/* Starts a call: a caller that is an online reader goes offline until
 * dpif_local_call_end(), so that it can wait for locks. */
void dpif_local_call_begin(struct local_call *c);

/* Makes the calling thread an online RCU reader, registering it on its
 * first call. */
void dpif_local_call_online(struct local_call *c);

/* Ends a call: the caller is online again if it was. */
void dpif_local_call_end(struct local_call *c);

/* Takes 'ldp' for a call (for writing if 'exclusive'), offline.
 * Returns 0, or -ENODEV (the datapath was deleted). */
int dpif_local_lock(struct local_dp *ldp, bool exclusive,
                    struct local_call *c);
void dpif_local_unlock(struct local_dp *ldp, struct local_call *c);

/* dpif_local_lock(), then online; offline, then dpif_local_unlock(). */
int dpif_local_enter(struct local_dp *ldp, bool exclusive,
                     struct local_call *c);
void dpif_local_exit(struct local_dp *ldp, struct local_call *c);

/* Passes the reason in 'err', if any, to dpif_last_error(); returns
 * 'error'. */
int dpif_local_pass_error(const struct errbuf *err, int error);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t dpif_local_now_ms(void);

/* Appends the 'len' bytes at 'p' at offset '*ofs' of 'buf' ('size'
 * bytes), 4-byte aligned as netlink attributes are.  Returns the offset
 * used, or -EMSGSIZE. */
int64_t dpif_local_buf_put(char *buf, size_t size, size_t *ofs,
                           const void *p, size_t len);

/* ---- Ports (dpif-local.c). ---- */

/* Fills 'out' for port 'port_no'.  Returns 0 or -ENOENT.
 * Context: online, under the lock. */
int dpif_local_port_fill(struct local_dp *ldp, uint32_t port_no,
                         struct dpif_port *out);

/* ---- Flows and execution (dpif-local-flow.c). ---- */

void dpif_local_operate(struct dpif *dpif, struct dpif_op **ops, size_t n);
int dpif_local_flow_flush(struct dpif *dpif);
int dpif_local_flow_dump_create(const struct dpif *dpif, bool terse,
                                struct dpif_flow_dump **dumpp);
int dpif_local_flow_dump_destroy(struct dpif_flow_dump *dump);
struct dpif_flow_dump_thread *
dpif_local_flow_dump_thread_create(struct dpif_flow_dump *dump);
void dpif_local_flow_dump_thread_destroy(
    struct dpif_flow_dump_thread *thread);
int dpif_local_flow_dump_next(struct dpif_flow_dump_thread *thread,
                              struct dpif_flow *flows, int max);

/* Destroys the execute pool.  Context: the write lock held. */
void dpif_local_exec_pool_destroy(struct local_dp *ldp);

/* ---- Upcalls (dpif-local-upcall.c). ---- */

/* Frees handlers[0..n) and the array (NULL is a no-op), closing their
 * channels if 'close' (not after the datapath is destroyed: that freed
 * them).  Context: offline; with 'close', under the datapath's lock. */
void dpif_local_handlers_free(struct local_handler *h, uint32_t n,
                              bool close);

/* Fills 'pids' (room for DP_UPCALL_PIDS_MAX) with the PIDs of the
 * handlers of 'ld'.  Returns their count (0: none).
 * Context: under the datapath's lock. */
size_t dpif_local_handler_pids(const struct local_dpif *ld, uint32_t *pids);

int dpif_local_handlers_set(struct dpif *dpif, uint32_t n);
uint32_t dpif_local_handler_pid(const struct dpif *dpif,
                                uint32_t handler_id);
int dpif_local_recv(struct dpif *dpif, uint32_t handler_id,
                    struct dpif_upcall *upcall);
int dpif_local_recv_wait(struct dpif *dpif, uint32_t handler_id,
                         int timeout_ms);
int dpif_local_recv_fd(struct dpif *dpif, uint32_t handler_id);
void dpif_local_recv_purge(struct dpif *dpif);

/* ---- Events and monitors (dpif-local-monitor.c). ---- */

struct dpif_local_event;

/* Whether any monitor exists (a hint: one may start or end meanwhile,
 * which dpif.h allows for changes made while it starts). */
bool dpif_local_monitored(void);

/* Makes an event of 'kind' and 'op' about datapath 'dp_name' with a copy
 * of 'port' (PORT events) or of 'flow' and the bytes it points to (FLOW
 * events), or NULL if memory ran out (dpif_local_emit(NULL) then reports
 * the loss).  Context: any; online is fine. */
struct dpif_local_event *dpif_local_event_new(enum dpif_event_kind kind,
                                              enum dpif_event_op op,
                                              const char *dp_name,
                                              const struct dpif_port *port,
                                              const struct dpif_flow *flow);

/* Queues 'ev' on every monitor and drops the caller's reference; a
 * monitor whose queue is full loses it (DPIF_EV_LOST), as does every
 * monitor if 'ev' is NULL.  Context: offline; any of the provider's other
 * locks may be held. */
void dpif_local_emit(struct dpif_local_event *ev);

/* dpif_local_emit() of a new DP or PORT event, if anyone monitors. */
void dpif_local_emit_dp(enum dpif_event_op op, const char *dp_name);
void dpif_local_emit_port(enum dpif_event_op op, const char *dp_name,
                          const struct dpif_port *port);

int dpif_local_monitor_create(const struct dpif_class *cls,
                              struct dpif_monitor **monp);
int dpif_local_monitor_next(struct dpif_monitor *mon,
                            struct dpif_event *event, int timeout_ms);
int dpif_local_monitor_fd(const struct dpif_monitor *mon);
void dpif_local_monitor_destroy(struct dpif_monitor *mon);

#endif /* dpif/dpif-local-private.h */
