/* SPDX-License-Identifier: Apache-2.0 */
#include "dp/dp.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "codec/actions-nl.h"
#include "codec/fkey-nl.h"
#include "dp/emc.h"
#include "dp/execute.h"
#include "dp/flow-table.h"
#include "dp/pmd.h"
#include "dp/upcall.h"
#include "lib/errbuf.h"
#include "lib/mutex.h"
#include "lib/rcu.h"
#include "packet/packet.h"
#include "port/port.h"

#define DP_DEFAULT_MAX_THREADS 8

_Static_assert(PKT_BATCH_MAX <= PKT_BATCH_LOOKUP_MAX,
               "a batch must fit the lookup arrays");
#define DP_RERANK_INTERVAL_MS 1000

/* Upcall PIDs (of a port, or per CPU), replaced as a whole. */
struct dp_pids {
    struct qsbr_head rcu;
    uint32_t n;
    uint32_t pid[];
};

/* A port as the datapath holds it. */
struct dp_vport {
    struct port *port;
    uint32_t no;
    _Atomic(struct dp_pids *) pids;     /* NULL: PID 0, no upcalls. */
    _Atomic uint64_t upcall_ok, upcall_fail;
};

/* The in-process handlers' channels (dp_handlers_set()). */
struct dp_handlers {
    uint32_t n;
    int epfd;                           /* Handler 0's channel + special. */
    bool special_next;                  /* Handler 0 tries it first next. */
    struct upcall_channel *special;
    struct upcall_channel *ch[];
};

/* Packets output to one port, sent at the end of the batch. */
struct dp_txq {
    uint32_t port_no;
    struct port *port;
    struct pkt_batch batch;
};

#define DP_TXQ_MAX 8            /* Ports with pending output per thread. */

/* An upcall waiting for the end of its input batch (dp_input()), so that
 * the upcalls of a batch are queued in the order their packets arrived,
 * misses and userspace() actions alike (seed 001). */
struct dp_pending_upcall {
    uint32_t seq;                       /* Packet's position in the batch. */
    struct dp_vport *v;                 /* Its input port, or NULL. */
    struct dp_upcall *u;
};

#define DP_PENDING_MIN 64       /* Pending upcalls a thread starts with. */

/* Ports by number, replaced as a whole on every change. */
struct dp_ports {
    struct qsbr_head rcu;
    uint32_t n;                         /* Numbers 0 .. n-1. */
    struct dp_vport *v[];
};

/* Counters one thread keeps; written by it alone, read by anyone. */
struct dp_counters {
    _Atomic uint64_t n_hit;
    _Atomic uint64_t n_missed;
    _Atomic uint64_t n_lost;
    _Atomic uint64_t n_mask_hit;
    _Atomic uint64_t n_cache_hit;
    _Atomic uint64_t drops[DP_N_DROP_REASONS];
};

struct dp_thread {
    struct datapath *dp;
    uint32_t slot;                      /* Statistics slot in flows. */
    struct emc *emc;                    /* NULL: cache off. */
    uint32_t rng;
    uint64_t now_ms;
    struct dpx_env env;
    uint32_t n_txq;
    struct dp_txq txq[DP_TXQ_MAX];
    uint32_t n_pending, max_pending;
    struct dp_pending_upcall *pending;  /* Grows as needed. */
    struct dp_counters c;
};

struct datapath {
    char name[DP_NAME_MAX];
    struct wmutex mutex;                /* The writer mutex. */
    struct ftbl *ftbl;
    _Atomic(struct dp_ports *) ports;
    _Atomic uint32_t user_features;
    _Atomic uint32_t flow_limit;
    _Atomic uint64_t next_rerank_ms;    /* When subtables are next ranked. */
    uint32_t max_threads;

    struct upcall_reg *upcalls;         /* Channels by PID. */
    _Atomic(struct dp_pids *) percpu_pids;
    _Atomic(struct dp_handlers *) handlers;
    struct pmd_set *pmds;

    /* Threads, for summing their counters. */
    struct wmutex threads_mutex;        /* Guards the next two. */
    struct dp_thread **threads;         /* [max_threads] */
    struct dp_counters retired;         /* Of destroyed threads. */
};

struct dp_flow_dump {
    struct datapath *dp;
    uint32_t ufid_flags;
    _Atomic uint64_t cursor;
};

/* Adds 'n' to a counter only its owner writes. */
static inline void
ctr_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed)
                          + n, memory_order_relaxed);
}

static uint64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* ---- Datapath objects. ---- */

static struct dp_ports *
ports_alloc(uint32_t n)
{
    struct dp_ports *p = calloc(1, sizeof *p + n * sizeof p->v[0]);

    if (p) {
        p->n = n;
    }
    return p;
}

static void
ports_free_cb(struct qsbr_head *h)
{
    free(QSBR_OBJ(h, struct dp_ports, rcu));
}

static void
pids_free_cb(struct qsbr_head *h)
{
    free(QSBR_OBJ(h, struct dp_pids, rcu));
}

/* Returns a PID list holding the 'n' PIDs at 'pids', or NULL. */
static struct dp_pids *
pids_create(const uint32_t *pids, size_t n)
{
    struct dp_pids *p = malloc(sizeof *p + n * sizeof p->pid[0]);

    if (p) {
        p->n = (uint32_t) n;
        memcpy(p->pid, pids, n * sizeof p->pid[0]);
    }
    return p;
}

static void
vport_free(struct dp_vport *v)
{
    port_close(v->port);
    free(atomic_load_explicit(&v->pids, memory_order_relaxed));
    free(v);
}

int
dp_create(const char *name, const struct dp_config *cfg,
          struct datapath **dpp, struct errbuf *err)
{
    struct dp_config defaults = { 0 };
    struct datapath *dp;
    uint32_t local = DP_LOCAL_PORT;
    int error;

    *dpp = NULL;
    if (!cfg) {
        cfg = &defaults;
    }
    if (!name || !name[0] || strlen(name) >= DP_NAME_MAX) {
        errbuf_set(err, "datapath name must be 1 to %d characters",
                   DP_NAME_MAX - 1);
        return -EINVAL;
    }
    dp = calloc(1, sizeof *dp);
    if (!dp) {
        return -ENOMEM;
    }
    snprintf(dp->name, sizeof dp->name, "%s", name);
    dp->max_threads = cfg->max_threads ? cfg->max_threads
                                       : DP_DEFAULT_MAX_THREADS;
    atomic_init(&dp->flow_limit, cfg->flow_limit ? cfg->flow_limit
                                                 : DP_DEFAULT_FLOW_LIMIT);
    dp->ftbl = ftbl_create(dp->max_threads);
    dp->threads = calloc(dp->max_threads, sizeof *dp->threads);
    dp->upcalls = upcall_reg_create();
    atomic_init(&dp->ports, ports_alloc(0));
    if (!dp->ftbl || !dp->threads || !dp->upcalls
        || !atomic_load(&dp->ports)) {
        ftbl_destroy(dp->ftbl);
        free(dp->threads);
        upcall_reg_destroy(dp->upcalls);
        free(atomic_load(&dp->ports));
        free(dp);
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    wmutex_init(&dp->mutex);
    wmutex_init(&dp->threads_mutex);
    dp->pmds = pmd_set_create(dp);
    if (!dp->pmds) {
        errbuf_set(err, "out of memory");
        dp_destroy(dp);
        return -ENOMEM;
    }
    error = dp_port_add(dp, cfg->local_type ? cfg->local_type : "dummy",
                        name, cfg->local_options, &local, err);
    if (error) {
        errbuf_prefix(err, "local port: ");
        dp_destroy(dp);
        return error;
    }
    *dpp = dp;
    return 0;
}

void
dp_destroy(struct datapath *dp)
{
    struct dp_ports *ports;

    if (!dp) {
        return;
    }
    /* The polling threads go first: nothing receives or upcalls after. */
    pmd_set_destroy(dp->pmds);
    wmutex_lock(&dp->mutex);
    ftbl_flush_locked(dp->ftbl);
    ports = atomic_load_explicit(&dp->ports, memory_order_relaxed);
    for (uint32_t i = 0; i < ports->n; i++) {
        if (ports->v[i]) {
            vport_free(ports->v[i]);
        }
    }
    free(ports);
    free(atomic_load_explicit(&dp->percpu_pids, memory_order_relaxed));
    free(atomic_load_explicit(&dp->handlers, memory_order_relaxed));
    wmutex_unlock(&dp->mutex);
    /* Flows and arrays freed with qsbr_defer() must be gone before the
     * table is. */
    qsbr_synchronize();
    qsbr_barrier();
    upcall_reg_destroy(dp->upcalls);
    ftbl_destroy(dp->ftbl);
    free(dp->threads);
    wmutex_destroy(&dp->mutex);
    wmutex_destroy(&dp->threads_mutex);
    free(dp);
}

const char *
dp_name(const struct datapath *dp)
{
    return dp->name;
}

uint32_t
dp_get_user_features(const struct datapath *dp)
{
    return atomic_load_explicit(&dp->user_features, memory_order_relaxed);
}

void
dp_set_user_features(struct datapath *dp, uint32_t features)
{
    atomic_store_explicit(&dp->user_features, features,
                          memory_order_relaxed);
}

uint32_t
dp_get_flow_limit(const struct datapath *dp)
{
    return atomic_load_explicit(&dp->flow_limit, memory_order_relaxed);
}

void
dp_set_flow_limit(struct datapath *dp, uint32_t limit)
{
    atomic_store_explicit(&dp->flow_limit, limit, memory_order_relaxed);
}

/* ---- Ports. ---- */

static struct dp_vport *
vport_get(const struct datapath *dp, uint32_t no)
{
    /* Acquire: the array and the vports it points to are fully built. */
    const struct dp_ports *ports = atomic_load_explicit(
        &dp->ports, memory_order_acquire);

    return no < ports->n ? ports->v[no] : NULL;
}

struct port *
dp_port_get(const struct datapath *dp, uint32_t port_no)
{
    struct dp_vport *v = vport_get(dp, port_no);

    return v ? v->port : NULL;
}

int64_t
dp_port_by_name(const struct datapath *dp, const char *name)
{
    const struct dp_ports *ports = atomic_load_explicit(
        &dp->ports, memory_order_acquire);

    for (uint32_t i = 0; i < ports->n; i++) {
        if (ports->v[i] && !strcmp(ports->v[i]->port->name, name)) {
            return i;
        }
    }
    return -ENOENT;
}

/* Returns a new list of the in-process handlers' PIDs, or NULL if there are
 * no handlers (or no memory: the port then has PID 0 until set).
 * Context: the writer mutex held. */
static struct dp_pids *
handler_pids(const struct datapath *dp)
{
    const struct dp_handlers *h = atomic_load_explicit(
        &dp->handlers, memory_order_relaxed);
    struct dp_pids *p;

    if (!h || !h->n) {
        return NULL;
    }
    p = malloc(sizeof *p + h->n * sizeof p->pid[0]);
    if (p) {
        p->n = h->n;
        for (uint32_t i = 0; i < h->n; i++) {
            p->pid[i] = upcall_channel_pid(h->ch[i]);
        }
    }
    return p;
}

int
dp_port_add(struct datapath *dp, const char *type, const char *name,
            const char *options, uint32_t *port_no, struct errbuf *err)
{
    struct dp_ports *old, *ports;
    struct dp_vport *v;
    struct port *port;
    uint32_t no = *port_no;
    int error;

    wmutex_lock(&dp->mutex);
    old = atomic_load_explicit(&dp->ports, memory_order_relaxed);
    if (name && dp_port_by_name(dp, name) >= 0) {
        errbuf_set(err, "a port named \"%s\" exists", name);
        error = -EEXIST;
        goto out;
    }
    if (no == DP_PORT_ANY) {
        for (no = 0; no < old->n && old->v[no]; no++) {
            continue;
        }
    }
    if (no >= DP_MAX_PORTS) {
        errbuf_set(err, "port number %u is not below %d", no, DP_MAX_PORTS);
        error = -EFBIG;
        goto out;
    }
    if (no < old->n && old->v[no]) {
        errbuf_set(err, "port number %u is in use", no);
        error = -EEXIST;
        goto out;
    }
    /* Opening a device may take a while (an AF_XDP queue still being
     * released by the kernel is retried for up to a second): not a reason
     * to hold up grace periods.  Offline is safe here: only writers, who
     * hold the mutex, replace 'old'. */
    qsbr_offline();
    error = port_open(type, name, options, &port, err);
    qsbr_online();
    if (error) {
        goto out;
    }
    v = calloc(1, sizeof *v);
    ports = ports_alloc(no < old->n ? old->n : no + 1);
    if (!v || !ports) {
        free(v);
        free(ports);
        port_close(port);
        errbuf_set(err, "out of memory");
        error = -ENOMEM;
        goto out;
    }
    v->port = port;
    v->no = no;
    atomic_init(&v->pids, handler_pids(dp));
    memcpy(ports->v, old->v, old->n * sizeof old->v[0]);
    ports->v[no] = v;
    /* Release: publishes the new vport with the array. */
    atomic_store_explicit(&dp->ports, ports, memory_order_release);
    qsbr_defer(&old->rcu, ports_free_cb);
    pmd_set_ports_changed(dp->pmds);
    *port_no = no;
out:
    wmutex_unlock(&dp->mutex);
    return error;
}

int
dp_port_del(struct datapath *dp, uint32_t port_no)
{
    struct dp_ports *old, *ports;
    struct dp_vport *v;
    int error = 0;

    if (port_no == DP_LOCAL_PORT) {
        return -EINVAL;
    }
    wmutex_lock(&dp->mutex);
    old = atomic_load_explicit(&dp->ports, memory_order_relaxed);
    v = port_no < old->n ? old->v[port_no] : NULL;
    if (!v) {
        error = -ENOENT;
        goto out;
    }
    ports = ports_alloc(old->n);
    if (!ports) {
        error = -ENOMEM;
        goto out;
    }
    memcpy(ports->v, old->v, old->n * sizeof old->v[0]);
    ports->v[port_no] = NULL;
    /* Release: see dp_port_add(). */
    atomic_store_explicit(&dp->ports, ports, memory_order_release);
    qsbr_defer(&old->rcu, ports_free_cb);
    pmd_set_ports_changed(dp->pmds);
out:
    wmutex_unlock(&dp->mutex);
    if (!error) {
        /* Threads may be receiving from or sending to it: close it after a
         * grace period, before returning, so that the device and its name
         * are free when the caller goes on. */
        qsbr_synchronize();
        vport_free(v);
    }
    return error;
}

/* Replaces '*slot' with a list of the 'n' PIDs at 'pids'.
 * Returns 0, -EINVAL or -ENOMEM.  Context: the writer mutex held. */
static int
pids_set(_Atomic(struct dp_pids *) *slot, const uint32_t *pids, size_t n)
{
    struct dp_pids *p, *old;

    if (!n || n > DP_UPCALL_PIDS_MAX) {
        return -EINVAL;
    }
    p = pids_create(pids, n);
    if (!p) {
        return -ENOMEM;
    }
    /* Release: readers see the list's contents. */
    old = atomic_exchange_explicit(slot, p, memory_order_acq_rel);
    if (old) {
        qsbr_defer(&old->rcu, pids_free_cb);
    }
    return 0;
}

/* Copies up to 'max' PIDs of 'slot' into 'pids'; returns the count (a
 * missing list counts as the single PID 0). */
static size_t
pids_get(_Atomic(struct dp_pids *) const *slot, uint32_t *pids, size_t max)
{
    /* Acquire: pairs with pids_set(). */
    const struct dp_pids *p = atomic_load_explicit(
        (_Atomic(struct dp_pids *) *) slot, memory_order_acquire);

    if (!p) {
        if (max) {
            pids[0] = 0;
        }
        return 1;
    }
    memcpy(pids, p->pid, (p->n < max ? p->n : max) * sizeof *pids);
    return p->n;
}

int
dp_port_set_upcall_pids(struct datapath *dp, uint32_t port_no,
                        const uint32_t *pids, size_t n)
{
    struct dp_vport *v;
    int error;

    wmutex_lock(&dp->mutex);
    v = vport_get(dp, port_no);
    error = v ? pids_set(&v->pids, pids, n) : -ENOENT;
    wmutex_unlock(&dp->mutex);
    return error;
}

int
dp_port_get_upcall_pids(const struct datapath *dp, uint32_t port_no,
                        uint32_t *pids, size_t max)
{
    struct dp_vport *v = vport_get(dp, port_no);

    return v ? (int) pids_get(&v->pids, pids, max) : -ENOENT;
}

int
dp_port_get_upcall_stats(const struct datapath *dp, uint32_t port_no,
                         uint64_t *success, uint64_t *fail)
{
    struct dp_vport *v = vport_get(dp, port_no);

    if (!v) {
        return -ENOENT;
    }
    *success = atomic_load_explicit(&v->upcall_ok, memory_order_relaxed);
    *fail = atomic_load_explicit(&v->upcall_fail, memory_order_relaxed);
    return 0;
}

size_t
dp_port_list(const struct datapath *dp, uint32_t *cursor, uint32_t *nums,
             size_t max)
{
    const struct dp_ports *ports = atomic_load_explicit(
        &dp->ports, memory_order_acquire);
    size_t n = 0;
    uint32_t i;

    for (i = *cursor; i < ports->n && n < max; i++) {
        if (ports->v[i]) {
            nums[n++] = i;
        }
    }
    *cursor = i;
    return n;
}

/* ---- Upcalls. ---- */

void
dp_upcall_free(struct dp_upcall *u)
{
    if (u) {
        packet_free(u->packet);
        free(u->userdata);
        free(u->actions);
        free(u);
    }
}

struct upcall_reg *
dp_upcalls(struct datapath *dp)
{
    return dp->upcalls;
}

struct pmd_set *
dp_pmds(struct datapath *dp)
{
    return dp->pmds;
}

int
dp_set_upcall_pids_per_cpu(struct datapath *dp, const uint32_t *pids,
                           size_t n)
{
    int error;

    wmutex_lock(&dp->mutex);
    error = pids_set(&dp->percpu_pids, pids, n);
    wmutex_unlock(&dp->mutex);
    return error;
}

size_t
dp_get_upcall_pids_per_cpu(const struct datapath *dp, uint32_t *pids,
                           size_t max)
{
    /* Acquire: pairs with pids_set(). */
    const struct dp_pids *p = atomic_load_explicit(&dp->percpu_pids,
                                                   memory_order_acquire);
    size_t n = p ? p->n : 0;

    memcpy(pids, p ? p->pid : pids, (n < max ? n : max) * sizeof *pids);
    return n;
}

/* The per-CPU PID of thread 'thr' (its number stands for the kernel's
 * CPU), or 0 if no per-CPU PIDs are set.  Context: RCU reader. */
static uint32_t
percpu_pid(const struct dp_thread *thr)
{
    /* Acquire: pairs with pids_set(). */
    const struct dp_pids *p = atomic_load_explicit(&thr->dp->percpu_pids,
                                                   memory_order_acquire);

    return p ? p->pid[thr->slot % p->n] : 0;
}

/* Whether upcalls go to the per-CPU PIDs (the user features say so). */
static bool
dispatch_per_cpu(const struct dp_thread *thr)
{
    return (dp_get_user_features(thr->dp)
            & OVS_DP_F_DISPATCH_UPCALL_PER_CPU) != 0;
}

/* Picks the PID of a "miss" upcall for a packet from 'v' with flow key
 * hash 'hash' on thread 'thr'.  Context: RCU reader. */
static uint32_t
miss_pid(const struct dp_thread *thr, const struct dp_vport *v,
         uint32_t hash)
{
    const struct dp_pids *p;

    if (dispatch_per_cpu(thr)) {
        return percpu_pid(thr);
    }
    p = atomic_load_explicit(&v->pids, memory_order_acquire);
    return !p ? 0 : p->pid[p->n == 1 ? 0 : (uint32_t) (
                              ((uint64_t) hash * p->n) >> 32)];
}

/* Queues 'u' (taking it) and counts the outcome on its input port.
 * Returns 0, or a negative errno if it was lost. */
static int
upcall_deliver_counted(struct datapath *dp, struct dp_vport *v,
                       struct dp_upcall *u)
{
    int error = upcall_deliver(dp->upcalls, u);

    if (v) {
        atomic_fetch_add_explicit(error ? &v->upcall_fail : &v->upcall_ok,
                                  1, memory_order_relaxed);
    }
    return error;
}

static void
handlers_close(struct dp_handlers *h)
{
    if (h) {
        for (uint32_t i = 0; i < h->n; i++) {
            upcall_channel_close(h->ch[i]);
        }
        upcall_channel_close(h->special);
        if (h->epfd >= 0) {
            close(h->epfd);
        }
        free(h);
    }
}

int
dp_handlers_set(struct datapath *dp, uint32_t n, struct errbuf *err)
{
    struct dp_handlers *h = NULL, *old;
    int error = 0;

    if (n > DP_UPCALL_PIDS_MAX) {
        errbuf_set(err, "%u handlers: at most %d", n, DP_UPCALL_PIDS_MAX);
        return -EINVAL;
    }
    if (n) {
        h = calloc(1, sizeof *h + n * sizeof h->ch[0]);
        if (!h) {
            errbuf_set(err, "out of memory");
            return -ENOMEM;
        }
        h->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (h->epfd < 0) {
            error = -errno;
            errbuf_set(err, "epoll: %s", strerror(errno));
        }
        if (!error) {
            error = upcall_channel_open(dp->upcalls, 0, &h->special, err);
        }
        for (uint32_t i = 0; i < n && !error; i++, h->n++) {
            error = upcall_channel_open(dp->upcalls, 0, &h->ch[i], err);
        }
        for (int i = 0; i < 2 && !error; i++) {
            struct epoll_event ev = { .events = EPOLLIN };
            int fd = upcall_channel_fd(i ? h->special : h->ch[0]);

            if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev)) {
                error = -errno;
                errbuf_set(err, "epoll: %s", strerror(errno));
            }
        }
        if (error) {
            handlers_close(h);
            return error;
        }
    }

    wmutex_lock(&dp->mutex);
    old = atomic_exchange_explicit(&dp->handlers, h, memory_order_acq_rel);
    {
        const struct dp_ports *ports = atomic_load_explicit(
            &dp->ports, memory_order_relaxed);
        struct dp_pids *pids = handler_pids(dp);
        uint32_t zero = 0;
        const uint32_t *list = pids ? pids->pid : &zero;
        size_t len = pids ? pids->n : 1;

        for (uint32_t i = 0; i < ports->n; i++) {
            if (ports->v[i] && !error) {
                error = pids_set(&ports->v[i]->pids, list, len);
            }
        }
        if (!error) {
            error = pids_set(&dp->percpu_pids, list, len);
        }
        free(pids);
    }
    wmutex_unlock(&dp->mutex);
    if (error) {
        errbuf_set(err, "out of memory");
    }
    /* No thread is in dp_recv() (the contract): close the old channels. */
    handlers_close(old);
    return error;
}

/* Returns the handlers, or NULL.  The set stays until dp_handlers_set(),
 * which no reader runs concurrently with (dp.h). */
static struct dp_handlers *
handlers_get(const struct datapath *dp)
{
    return atomic_load_explicit(&dp->handlers, memory_order_acquire);
}

int
dp_recv(struct datapath *dp, uint32_t handler_id, struct dp_upcall **up)
{
    struct dp_handlers *h = handlers_get(dp);

    if (!h || handler_id >= h->n) {
        return -EINVAL;
    }
    if (handler_id == 0) {
        /* Handler 0 reads its own channel and the special one in turn, so
         * that neither can starve the other. */
        struct upcall_channel *first = h->ch[0], *second = h->special;

        h->special_next = !h->special_next;
        if (h->special_next) {
            first = h->special;
            second = h->ch[0];
        }
        return !upcall_channel_recv(first, up) ? 0
               : upcall_channel_recv(second, up);
    }
    return upcall_channel_recv(h->ch[handler_id], up);
}

int
dp_recv_wait(struct datapath *dp, uint32_t handler_id, int timeout_ms)
{
    struct dp_handlers *h = handlers_get(dp);
    struct pollfd pfd[2];
    int n = 0, ret;

    if (!h || handler_id >= h->n) {
        return -EINVAL;
    }
    pfd[n++] = (struct pollfd) { .fd = upcall_channel_fd(h->ch[handler_id]),
                                 .events = POLLIN };
    if (handler_id == 0) {
        pfd[n++] = (struct pollfd) { .fd = upcall_channel_fd(h->special),
                                     .events = POLLIN };
    }
    qsbr_offline();
    do {
        ret = poll(pfd, (nfds_t) n, timeout_ms);
    } while (ret < 0 && errno == EINTR);
    qsbr_online();
    return ret > 0 ? 0 : -ETIMEDOUT;
}

int
dp_recv_fd(struct datapath *dp, uint32_t handler_id)
{
    struct dp_handlers *h = handlers_get(dp);

    if (!h || handler_id >= h->n) {
        return -EINVAL;
    }
    return handler_id ? upcall_channel_fd(h->ch[handler_id]) : h->epfd;
}

void
dp_recv_purge(struct datapath *dp)
{
    struct dp_handlers *h = handlers_get(dp);

    if (h) {
        upcall_channel_purge(h->special);
        for (uint32_t i = 0; i < h->n; i++) {
            upcall_channel_purge(h->ch[i]);
        }
    }
}

uint32_t
dp_special_pid(const struct datapath *dp)
{
    struct dp_handlers *h = handlers_get(dp);

    return h ? upcall_channel_pid(h->special) : 0;
}

/* ---- Flows. ---- */

/* Finds the flow that 'req' names: by UFID, else by unmasked key.
 * Returns: 0 and '*flowp'; -EINVAL if 'req' names none; -ENOENT. */
static int
flow_find(struct datapath *dp, const struct dp_flow_req *req,
          struct dp_flow **flowp, struct errbuf *err)
{
    if (req->ufid && req->ufid->len) {
        if (req->ufid->len > UFID_MAX_LEN) {
            errbuf_set(err, "UFID longer than %d bytes", UFID_MAX_LEN);
            return -EINVAL;
        }
        *flowp = ftbl_find_ufid(dp->ftbl, req->ufid);
    } else if (req->key) {
        *flowp = ftbl_find_key(dp->ftbl, req->key);
    } else {
        errbuf_set(err, "flow key attribute not present");
        return -EINVAL;
    }
    if (!*flowp) {
        errbuf_set(err, "no such flow");
        return -ENOENT;
    }
    return 0;
}

/* Fills 'info' from 'flow' as a reply shaped by 'ufid_flags'. */
static void
flow_info(const struct datapath *dp, const struct dp_flow *flow,
          uint32_t ufid_flags, struct dp_flow_info *info)
{
    const struct flow_mask *mask = ftbl_flow_mask(flow);

    info->has_ufid = flow->has_ufid;
    if (flow->has_ufid) {
        info->ufid = flow->cold->ufid;
    }
    /* OMIT_KEY only for flows with a UFID: the key is the only name of
     * the others (seed 000). */
    info->has_key = !(ufid_flags & OVS_UFID_F_OMIT_KEY) || !flow->has_ufid;
    if (info->has_key) {
        if (flow->has_ufid) {
            /* A UFID flow reports its masked key, like the kernel. */
            fkey_mask_apply(&info->key, &flow->cold->key, mask);
        } else {
            info->key = flow->cold->key;
        }
    }
    info->has_mask = !(ufid_flags & OVS_UFID_F_OMIT_MASK);
    if (info->has_mask) {
        info->mask = *mask;
    }
    info->has_actions = !(ufid_flags & OVS_UFID_F_OMIT_ACTIONS);
    if (info->has_actions) {
        /* Acquire: the list is fully written before it is published. */
        const struct ftbl_actions *a = atomic_load_explicit(
            &flow->actions, memory_order_acquire);

        info->actions = a->data;
        info->actions_len = a->len;
    } else {
        info->actions = NULL;
        info->actions_len = 0;
    }
    ftbl_flow_get_stats(dp->ftbl, flow, &info->stats);
}

/* Checks an action list for installation on a flow with 'key'. */
static int
check_actions(const void *acts, size_t len, const struct flow_key *key,
              struct errbuf *err)
{
    int error = act_validate(acts, len, key, err);

    if (!error) {
        error = dpx_check_supported(acts, len, err);
    }
    return error;
}

/* Computes the installed mask for 'key' and the requested 'mask' (NULL:
 * exact): the codec's kernel rules (codec/fkey-nl.h "Masks") decide which
 * bits can be wildcarded, so the in-process API narrows exactly as the
 * netlink one does. */
static int
install_mask(const struct flow_key *key, const struct flow_mask *mask,
             struct flow_mask *out, struct errbuf *err)
{
    char buf[MNL_NLMSG_HDRLEN + FKEY_NL_MAX_LEN];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    enum fkey_fit fit;

    if (!mask) {
        fit = fmask_from_nl(NULL, 0, key, out, err);
    } else if (fmask_to_nl(key, mask, nlh, sizeof buf)) {
        errbuf_set(err, "mask does not encode");
        return -EINVAL;
    } else {
        fit = fmask_from_nl(mnl_nlmsg_get_payload(nlh),
                            nlh->nlmsg_len - MNL_NLMSG_HDRLEN, key, out, err);
    }
    if (fit == FKEY_FIT_ERROR) {
        errbuf_prefix(err, "mask: ");
        return -EINVAL;
    }
    return 0;
}

int
dp_flow_new(struct datapath *dp, const struct dp_flow_req *req,
            unsigned int flags, struct dp_flow_info *reply,
            struct errbuf *err)
{
    const struct ufid *ufid = req->ufid && req->ufid->len ? req->ufid : NULL;
    struct flow_key masked;
    struct flow_mask mask;
    struct dp_flow *flow, *old;
    uint32_t n_mask_hit = 0;
    int error;

    if (!req->key) {
        errbuf_set(err, "flow key attribute not present in new flow");
        return -EINVAL;
    }
    if (!req->has_actions) {
        errbuf_set(err, "flow actions attribute not present in new flow");
        return -EINVAL;
    }
    if (ufid && ufid->len > UFID_MAX_LEN) {
        errbuf_set(err, "UFID longer than %d bytes", UFID_MAX_LEN);
        return -EINVAL;
    }
    error = install_mask(req->key, req->mask, &mask, err);
    if (error) {
        return error;
    }
    /* Actions are checked against what the flow matches, the masked key,
     * as the kernel does: set(udp()) on a flow that does not match UDP
     * is refused, not run on packets without a UDP header. */
    fkey_mask_apply(&masked, req->key, &mask);
    error = check_actions(req->actions, req->actions_len, &masked, err);
    if (error) {
        return error;
    }

    wmutex_lock(&dp->mutex);
    /* The same identifier: a modification (or -EEXIST if exclusive). */
    old = ufid ? ftbl_find_ufid(dp->ftbl, ufid)
               : ftbl_find_key(dp->ftbl, req->key);
    if (!old) {
        /* Another flow that already matches this one's packets: the
         * kernel's best-effort overlap check. */
        old = ftbl_lookup(dp->ftbl, &masked, &n_mask_hit);
        if (old && !(flags & DP_FLOW_EXCL)) {
            errbuf_set(err, "flow overlaps an existing flow with another "
                       "identifier");
            error = -ENOENT;
            goto out;
        }
    }
    if (old) {
        if (flags & DP_FLOW_EXCL) {
            errbuf_set(err, "flow already exists");
            error = -EEXIST;
            goto out;
        }
        error = ftbl_set_actions_locked(old, req->actions, req->actions_len);
        if (!error) {
            error = 1;
            if (reply) {
                flow_info(dp, old, req->ufid_flags, reply);
            }
        }
        goto out;
    }
    if (ftbl_count(dp->ftbl) >= dp_get_flow_limit(dp)) {
        errbuf_set(err, "flow table full (limit %u flows)",
                   dp_get_flow_limit(dp));
        error = -EFBIG;
        goto out;
    }
    flow = ftbl_flow_create(dp->ftbl, req->key, &mask, ufid, req->actions,
                            req->actions_len);
    error = flow ? ftbl_insert_locked(dp->ftbl, flow, &mask) : -ENOMEM;
    if (error) {
        ftbl_flow_discard(dp->ftbl, flow);
        errbuf_set(err, "out of memory");
        goto out;
    }
    if (reply) {
        flow_info(dp, flow, req->ufid_flags, reply);
    }
out:
    wmutex_unlock(&dp->mutex);
    return error;
}

int
dp_flow_set(struct datapath *dp, const struct dp_flow_req *req,
            struct dp_flow_info *reply, struct errbuf *err)
{
    struct dp_flow *flow;
    int error;

    wmutex_lock(&dp->mutex);
    error = flow_find(dp, req, &flow, err);
    if (error) {
        goto out;
    }
    if (req->has_actions) {
        struct flow_key masked;

        fkey_mask_apply(&masked, &flow->cold->key, ftbl_flow_mask(flow));
        error = check_actions(req->actions, req->actions_len, &masked, err);
        if (!error) {
            error = ftbl_set_actions_locked(flow, req->actions,
                                            req->actions_len);
        }
        if (error) {
            goto out;
        }
    }
    /* The reply carries the statistics from before the clear, as the
     * kernel's does. */
    if (reply) {
        flow_info(dp, flow, req->ufid_flags, reply);
    }
    if (req->clear) {
        ftbl_flow_clear_stats(flow);
    }
out:
    wmutex_unlock(&dp->mutex);
    return error;
}

int
dp_flow_get(struct datapath *dp, const struct dp_flow_req *req,
            struct dp_flow_info *reply, struct errbuf *err)
{
    struct dp_flow *flow;
    int error = flow_find(dp, req, &flow, err);

    if (error) {
        return error;
    }
    if (reply) {
        flow_info(dp, flow, req->ufid_flags, reply);
    }
    return 0;
}

int
dp_flow_del(struct datapath *dp, const struct dp_flow_req *req,
            struct dp_flow_info *reply, struct errbuf *err)
{
    struct dp_flow *flow;
    int error;

    wmutex_lock(&dp->mutex);
    error = flow_find(dp, req, &flow, err);
    if (!error) {
        /* The reply is taken before removal; the flow stays readable
         * until this thread's next quiescent state. */
        if (reply) {
            flow_info(dp, flow, req->ufid_flags, reply);
        }
        ftbl_remove_locked(dp->ftbl, flow);
    }
    wmutex_unlock(&dp->mutex);
    return error;
}

void
dp_flow_flush(struct datapath *dp)
{
    wmutex_lock(&dp->mutex);
    ftbl_flush_locked(dp->ftbl);
    wmutex_unlock(&dp->mutex);
}

struct dp_flow_dump *
dp_flow_dump_create(struct datapath *dp, uint32_t ufid_flags)
{
    struct dp_flow_dump *d = calloc(1, sizeof *d);

    if (d) {
        d->dp = dp;
        d->ufid_flags = ufid_flags;
        atomic_init(&d->cursor, 0);
    }
    return d;
}

size_t
dp_flow_dump_next(struct dp_flow_dump *d, struct dp_flow_info *infos,
                  size_t max)
{
    size_t n = 0;

    while (n < max) {
        /* One slot per claim: each thread returns exactly the flows of
         * the slots it claimed, so nothing is held back between calls. */
        uint64_t slot = ftbl_slot_claim(d->dp->ftbl, &d->cursor, 1);
        struct dp_flow *f;

        if (slot == UINT64_MAX) {
            break;
        }
        f = ftbl_slot_get(d->dp->ftbl, slot);
        if (f) {
            flow_info(d->dp, f, d->ufid_flags, &infos[n++]);
        }
    }
    return n;
}

void
dp_flow_dump_destroy(struct dp_flow_dump *d)
{
    free(d);
}

size_t
dp_flow_dump_at(struct datapath *dp, uint64_t *cursor, uint32_t ufid_flags,
                struct dp_flow_info *infos, size_t max)
{
    size_t n = 0;
    struct dp_flow *f;

    while (n < max && (f = ftbl_slot_next(dp->ftbl, cursor))) {
        flow_info(dp, f, ufid_flags, &infos[n++]);
    }
    return n;
}

/* ---- Threads and packets. ---- */

/* Transmits the packets gathered for 'q'. */
static void
txq_send(struct dp_thread *thr, struct dp_txq *q)
{
    int failed = port_tx(q->port, &q->batch);

    if (failed > 0) {
        ctr_add(&thr->c.drops[DP_DROP_TX_FAILED], (uint64_t) failed);
    }
}

/* Transmits everything the thread has gathered. */
static void
tx_flush(struct dp_thread *thr)
{
    for (uint32_t i = 0; i < thr->n_txq; i++) {
        txq_send(thr, &thr->txq[i]);
    }
    thr->n_txq = 0;
}

/* Output: gathers the packets per port, so that flows with a packet or
 * two each still reach a port in batches; tx_flush() sends them at the
 * end of the input batch. */
static void
exec_output(void *aux, uint32_t port_no, struct pkt_batch *batch)
{
    struct dp_thread *thr = aux;
    struct dp_txq *q = NULL;

    for (uint32_t i = 0; i < thr->n_txq; i++) {
        if (thr->txq[i].port_no == port_no) {
            q = &thr->txq[i];
            break;
        }
    }
    if (!q) {
        struct port *port = dp_port_get(thr->dp, port_no);

        if (!port) {
            ctr_add(&thr->c.drops[DP_DROP_NO_PORT], batch->n);
            pkt_batch_free(batch);
            return;
        }
        if (thr->n_txq == DP_TXQ_MAX) {
            tx_flush(thr);
        }
        q = &thr->txq[thr->n_txq++];
        q->port_no = port_no;
        q->port = port;
        pkt_batch_init(&q->batch);
    }
    for (uint32_t i = 0; i < batch->n; i++) {
        if (q->batch.n == PKT_BATCH_MAX) {
            txq_send(thr, q);
        }
        pkt_batch_add(&q->batch, batch->pkts[i]);
    }
    pkt_batch_init(batch);
}

static void *
memdup(const void *p, size_t n)
{
    void *q = n ? malloc(n) : NULL;

    if (q) {
        memcpy(q, p, n);
    }
    return q;
}

/* Queues the upcalls the thread holds, in packet order (a stable sort:
 * the upcalls of one packet keep the order they were made in), and
 * counts the lost ones: a lost miss is a dropped packet; after a lost
 * action upcall the packet went on. */
static void
upcall_flush(struct dp_thread *thr)
{
    struct dp_pending_upcall *pu = thr->pending;
    uint32_t n = thr->n_pending;

    for (uint32_t i = 1; i < n; i++) {
        struct dp_pending_upcall x = pu[i];
        uint32_t j = i;

        for (; j > 0 && pu[j - 1].seq > x.seq; j--) {
            pu[j] = pu[j - 1];
        }
        pu[j] = x;
    }
    for (uint32_t i = 0; i < n; i++) {
        bool miss = pu[i].u->type == DP_UPCALL_MISS;

        if (upcall_deliver_counted(thr->dp, pu[i].v, pu[i].u)) {
            ctr_add(&thr->c.n_lost, 1);
            if (miss) {
                ctr_add(&thr->c.drops[DP_DROP_UPCALL_LOST], 1);
            }
        }
    }
    thr->n_pending = 0;
}

/* Holds 'u', for the packet at position 'seq' of the input batch, until
 * upcall_flush().  A batch may make any number of upcalls (several
 * userspace() actions per packet, recirculation): the array grows; only
 * if it cannot are the held ones queued early (out of order). */
static void
upcall_hold(struct dp_thread *thr, struct dp_vport *v, struct dp_upcall *u,
            uint32_t seq)
{
    if (thr->n_pending == thr->max_pending) {
        uint32_t max = 2 * thr->max_pending;
        struct dp_pending_upcall *p = realloc(thr->pending,
                                              max * sizeof *p);

        if (p) {
            thr->pending = p;
            thr->max_pending = max;
        } else {
            upcall_flush(thr);
        }
    }
    thr->pending[thr->n_pending++] = (struct dp_pending_upcall) {
        .seq = seq, .v = v, .u = u,
    };
}

/* Picks the PID of a userspace() action's upcall that names 'pid', on
 * thread 'thr'.  In per-CPU dispatch the kernel ignores the action's PID
 * and sends the upcall where this CPU's misses go; Open vSwitch counts on
 * that and writes a placeholder PID (UINT32_MAX) that no socket has.  The
 * datapath does the same for a PID no channel has, but keeps a PID that a
 * channel has: the in-process handlers (dp_handlers_set(), dpif-local)
 * and each dpif's own handlers (docs/design/dpif.md) are addressed by
 * their PIDs in per-CPU dispatch too.  Context: RCU reader. */
static uint32_t
action_pid(const struct dp_thread *thr, uint32_t pid)
{
    if (dispatch_per_cpu(thr)
        && !upcall_reg_has_pid(thr->dp->upcalls, pid)) {
        return percpu_pid(thr);
    }
    return pid;
}

static int
exec_upcall(void *aux, const struct packet *p, const struct flow_key *key,
            const struct act_userspace *u, const void *actions,
            size_t actions_len)
{
    struct dp_thread *thr = aux;
    struct dp_upcall *up = calloc(1, sizeof *up);

    if (up) {
        up->type = DP_UPCALL_ACTION;
        up->packet = packet_clone(p);
        up->key = *key;
        up->pid = action_pid(thr, u->pid);
        up->userdata = memdup(u->userdata, u->userdata_len);
        up->userdata_len = up->userdata ? u->userdata_len : 0;
        up->actions = memdup(actions, actions_len);
        up->actions_len = up->actions ? actions_len : 0;
        up->has_egress_tun_port = u->has_tun_port;
        up->egress_tun_port = u->tun_port;
    }
    if (!up || !up->packet || (u->userdata_len && !up->userdata)
        || (actions_len && !up->actions)) {
        struct dp_vport *v = vport_get(thr->dp, p->md.in_port);

        dp_upcall_free(up);
        if (v) {
            atomic_fetch_add_explicit(&v->upcall_fail, 1,
                                      memory_order_relaxed);
        }
        ctr_add(&thr->c.n_lost, 1);
        return -ENOMEM;
    }
    upcall_hold(thr, vport_get(thr->dp, p->md.in_port), up, p->seq);
    return 0;
}

static void dp_process(struct dp_thread *thr, struct pkt_batch *batch,
                       int depth);

static void
exec_recirc(void *aux, struct pkt_batch *batch, int depth)
{
    dp_process(aux, batch, depth);
}

static void
exec_drop(void *aux, enum dp_drop_reason reason, uint32_t n)
{
    struct dp_thread *thr = aux;

    ctr_add(&thr->c.drops[reason], n);
}

static uint32_t
exec_random(void *aux)
{
    struct dp_thread *thr = aux;
    uint32_t x = thr->rng;

    /* xorshift32. */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    thr->rng = x;
    return x;
}

struct dp_thread *
dp_thread_create(struct datapath *dp, const struct dp_thread_config *cfg)
{
    struct dp_thread *thr = calloc(1, sizeof *thr);
    uint32_t slot;

    if (!thr) {
        return NULL;
    }
    thr->max_pending = DP_PENDING_MIN;
    thr->pending = malloc(thr->max_pending * sizeof *thr->pending);
    if (!thr->pending) {
        free(thr);
        return NULL;
    }
    if (!cfg || cfg->emc) {
        thr->emc = emc_create(cfg ? cfg->emc_insert_inv_prob : 0);
        if (!thr->emc) {
            free(thr->pending);
            free(thr);
            return NULL;
        }
    }
    wmutex_lock(&dp->threads_mutex);
    for (slot = 0; slot < dp->max_threads && dp->threads[slot]; slot++) {
        continue;
    }
    if (slot < dp->max_threads) {
        dp->threads[slot] = thr;
    }
    wmutex_unlock(&dp->threads_mutex);
    if (slot == dp->max_threads) {
        emc_destroy(thr->emc);
        free(thr->pending);
        free(thr);
        return NULL;
    }
    thr->dp = dp;
    thr->slot = slot;
    thr->rng = 0x2545f491u ^ (slot * 0x9e3779b9u);
    thr->env = (struct dpx_env) {
        .aux = thr,
        .output = exec_output,
        .upcall = exec_upcall,
        .recirc = exec_recirc,
        .drop = exec_drop,
        .random = exec_random,
        .depth = 0,
    };
    return thr;
}

/* Adds the counters 'c' into 'sum' (relaxed reads of live counters). */
static void
counters_add(struct dp_counters *sum, const struct dp_counters *c)
{
    ctr_add(&sum->n_hit, atomic_load(&c->n_hit));
    ctr_add(&sum->n_missed, atomic_load(&c->n_missed));
    ctr_add(&sum->n_lost, atomic_load(&c->n_lost));
    ctr_add(&sum->n_mask_hit, atomic_load(&c->n_mask_hit));
    ctr_add(&sum->n_cache_hit, atomic_load(&c->n_cache_hit));
    for (int i = 0; i < DP_N_DROP_REASONS; i++) {
        ctr_add(&sum->drops[i], atomic_load(&c->drops[i]));
    }
}

void
dp_thread_destroy(struct dp_thread *thr)
{
    struct datapath *dp;

    if (!thr) {
        return;
    }
    dp = thr->dp;
    emc_destroy(thr->emc);
    wmutex_lock(&dp->threads_mutex);
    counters_add(&dp->retired, &thr->c);
    dp->threads[thr->slot] = NULL;
    wmutex_unlock(&dp->threads_mutex);
    free(thr->pending);
    free(thr);
}

uint32_t
dp_thread_id(const struct dp_thread *thr)
{
    return thr->slot;
}

void
dp_thread_quiesce(struct dp_thread *thr)
{
    (void) thr;
    qsbr_quiesce();
}

/* Hands the packets that missed to userspace as "miss" upcalls. */
static void
upcall_misses(struct dp_thread *thr, struct packet **pkts,
              const struct flow_key *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct dp_vport *v = vport_get(thr->dp, pkts[i]->md.in_port);
        struct dp_upcall *u = calloc(1, sizeof *u);
        struct packet *p = pkts[i];

        ctr_add(&thr->c.n_missed, 1);
        if (u && p->pool) {
            /* A pooled buffer belongs to its port's receive ring: an
             * upcall that waits in a queue must not hold it (a burst of
             * new flows would leave the port nothing to receive into). */
            p = packet_clone(pkts[i]);
            packet_free(pkts[i]);
        }
        if (!u || !p) {
            free(u);
            packet_free(p);
            if (v) {
                atomic_fetch_add_explicit(&v->upcall_fail, 1,
                                          memory_order_relaxed);
            }
            ctr_add(&thr->c.n_lost, 1);
            ctr_add(&thr->c.drops[DP_DROP_UPCALL_LOST], 1);
            continue;
        }
        u->type = DP_UPCALL_MISS;
        u->packet = p;
        u->key = keys[i];
        u->pid = v ? miss_pid(thr, v, (uint32_t) emc_hash(&keys[i])) : 0;
        upcall_hold(thr, v, u, p->seq);
    }
}

/* Looks up every packet of 'batch' (parsed here), runs the actions of the
 * flows found and upcalls the rest.  Consumes the batch. */
static void
dp_process(struct dp_thread *thr, struct pkt_batch *batch, int depth)
{
    struct datapath *dp = thr->dp;
    struct flow_key keys[PKT_BATCH_MAX];
    const struct flow_key *kp[PKT_BATCH_MAX] = { NULL };
    struct dp_flow *flows[PKT_BATCH_MAX];
    uint32_t hashes[PKT_BATCH_MAX] = { 0 };
    struct packet *pkts[PKT_BATCH_MAX];
    struct packet *missed[PKT_BATCH_MAX];
    struct flow_key missed_keys[PKT_BATCH_MAX];
    uint64_t mask_hits = 0, cache_hits = 0;
    size_t n = 0, n_missed = 0;
    bool done[PKT_BATCH_MAX];

    for (uint32_t i = 0; i < batch->n; i++) {
        struct packet *p = batch->pkts[i];

        if (packet_parse(p, &keys[n]) < 0) {
            packet_free(p);
            ctr_add(&thr->c.drops[DP_DROP_TOO_SHORT], 1);
            continue;
        }
        pkts[n] = p;
        kp[n] = &keys[n];
        flows[n] = NULL;
        if (thr->emc) {
            hashes[n] = emc_hash(&keys[n]);
            emc_prefetch(thr->emc, hashes[n]);
        }
        n++;
    }
    if (thr->emc) {
        cache_hits = emc_lookup_batch(thr->emc, dp->ftbl, kp, hashes, n,
                                      flows);
    }
    batch->n = 0;
    if (cache_hits < n) {
        bool from_cache[PKT_BATCH_MAX];

        for (size_t i = 0; i < n; i++) {
            from_cache[i] = flows[i] != NULL;
        }
        ftbl_lookup_batch(dp->ftbl, kp, n, flows, &mask_hits);
        for (size_t i = 0; i < n; i++) {
            if (!flows[i]) {
                missed[n_missed] = pkts[i];
                missed_keys[n_missed++] = keys[i];
            } else if (thr->emc && !from_cache[i]) {
                emc_insert(thr->emc, hashes[i], flows[i]);
            }
        }
    }
    /* The flows' statistics slots and action lists are next: start
     * loading them for all packets at once. */
    for (size_t i = 0; i < n; i++) {
        if (flows[i]) {
            __builtin_prefetch(&flows[i]->stats[thr->slot], 1);
            __builtin_prefetch(atomic_load_explicit(&flows[i]->actions,
                                                    memory_order_relaxed));
        }
    }
    ctr_add(&thr->c.n_hit, n - n_missed);
    ctr_add(&thr->c.n_mask_hit, mask_hits);
    ctr_add(&thr->c.n_cache_hit, cache_hits);

    /* Run each flow's actions once on all of its packets, keeping their
     * order within the flow. */
    memset(done, 0, sizeof done);
    for (size_t i = 0; i < n; i++) {
        struct dp_flow *flow = flows[i];
        struct flow_key gkeys_buf[PKT_BATCH_MAX];
        struct flow_key *gkeys = &keys[i];
        struct pkt_batch group;
        uint32_t bytes = 0;
        uint16_t tcp_flags = 0;
        const struct ftbl_actions *acts;
        size_t k = 0;

        if (!flow || done[i]) {
            continue;
        }
        pkt_batch_init(&group);
        for (size_t j = i; j < n; j++) {
            if (flows[j] == flow && !done[j]) {
                done[j] = true;
                if (j != i + k) {
                    gkeys = gkeys_buf;
                }
                pkt_batch_add(&group, pkts[j]);
                bytes += pkts[j]->len;
                tcp_flags |= ntohs(keys[j].tcp_flags);
                k++;
            }
        }
        if (gkeys == gkeys_buf) {
            /* Not one contiguous run: gather the keys. */
            k = 0;
            for (size_t j = i; j < n; j++) {
                if (flows[j] == flow) {
                    gkeys_buf[k++] = keys[j];
                }
            }
        }
        ftbl_flow_account(flow, thr->slot, group.n, bytes, thr->now_ms,
                          tcp_flags);
        /* Acquire: the list was fully written before it was published. */
        acts = atomic_load_explicit(&flow->actions, memory_order_acquire);
        if (depth == thr->env.depth) {
            dpx_execute(&thr->env, &group, gkeys, acts->data, acts->len);
        } else {
            struct dpx_env env = thr->env;

            env.depth = depth;
            dpx_execute(&env, &group, gkeys, acts->data, acts->len);
        }
    }
    if (n_missed) {
        upcall_misses(thr, missed, missed_keys, n_missed);
    }
}

/* Re-ranks the subtables about once a second, from whichever packet
 * thread first sees the time has come (one per datapath, whatever the
 * number of threads), if the writer mutex is free.  A packet thread must
 * never wait for the writer mutex: a port change holds it while it waits
 * for the PMD set's mutex, whose holder may wait for a PMD thread
 * (dp/pmd.h). */
static void
maybe_rerank(struct datapath *dp, uint64_t now)
{
    uint64_t next = atomic_load_explicit(&dp->next_rerank_ms,
                                         memory_order_relaxed);

    if (now >= next
        && atomic_compare_exchange_strong_explicit(
               &dp->next_rerank_ms, &next, now + DP_RERANK_INTERVAL_MS,
               memory_order_relaxed, memory_order_relaxed)
        && wmutex_trylock(&dp->mutex)) {
        ftbl_rerank_locked(dp->ftbl);
        wmutex_unlock(&dp->mutex);
    }
}

void
dp_input(struct dp_thread *thr, uint32_t in_port, struct pkt_batch *batch)
{
    thr->now_ms = now_ms();
    for (uint32_t i = 0; i < batch->n; i++) {
        struct pkt_metadata *md = &batch->pkts[i]->md;

        memset(md, 0, sizeof *md);
        md->in_port = in_port;
        batch->pkts[i]->seq = (uint16_t) i;
    }
    dp_process(thr, batch, 0);
    upcall_flush(thr);
    tx_flush(thr);
    maybe_rerank(thr->dp, thr->now_ms);
}

int
dp_poll(struct dp_thread *thr, uint32_t port_no, uint32_t qid)
{
    struct port *port = dp_port_get(thr->dp, port_no);
    struct pkt_batch batch;
    int n;

    if (!port || qid >= port->n_rxq) {
        return -ENOENT;
    }
    pkt_batch_init(&batch);
    n = port_rx(port, qid, &batch);
    if (n > 0) {
        dp_input(thr, port_no, &batch);
    }
    return n;
}

int
dp_execute(struct dp_thread *thr, struct packet *packet, const void *actions,
           size_t actions_len, struct errbuf *err)
{
    struct flow_key key;
    struct pkt_batch batch;
    int error;

    thr->now_ms = now_ms();
    if (packet_parse(packet, &key) < 0) {
        errbuf_set(err, "packet shorter than an Ethernet header, or "
                   "without one and of a VLAN type");
        packet_free(packet);
        return -EINVAL;
    }
    error = check_actions(actions, actions_len, &key, err);
    if (error) {
        packet_free(packet);
        return error;
    }
    pkt_batch_init(&batch);
    pkt_batch_add(&batch, packet);
    dpx_execute(&thr->env, &batch, &key, actions, actions_len);
    upcall_flush(thr);
    tx_flush(thr);
    return 0;
}

/* ---- Statistics. ---- */

static void
sum_counters(const struct datapath *dp, struct dp_counters *sum)
{
    struct datapath *mdp = (struct datapath *) dp;

    memset(sum, 0, sizeof *sum);
    wmutex_lock(&mdp->threads_mutex);
    counters_add(sum, &dp->retired);
    for (uint32_t i = 0; i < dp->max_threads; i++) {
        if (dp->threads[i]) {
            counters_add(sum, &dp->threads[i]->c);
        }
    }
    wmutex_unlock(&mdp->threads_mutex);
}

void
dp_get_stats(const struct datapath *dp, struct dp_stats *stats)
{
    struct dp_counters c;

    sum_counters(dp, &c);
    stats->n_hit = atomic_load(&c.n_hit);
    stats->n_missed = atomic_load(&c.n_missed);
    stats->n_lost = atomic_load(&c.n_lost);
    stats->n_mask_hit = atomic_load(&c.n_mask_hit);
    stats->n_cache_hit = atomic_load(&c.n_cache_hit);
    stats->n_flows = ftbl_count(dp->ftbl);
    stats->n_masks = ftbl_count_masks(dp->ftbl);
}

void
dp_get_drops(const struct datapath *dp, uint64_t counts[DP_N_DROP_REASONS])
{
    struct dp_counters c;

    sum_counters(dp, &c);
    for (int i = 0; i < DP_N_DROP_REASONS; i++) {
        counts[i] += atomic_load(&c.drops[i]);
    }
}
