/* SPDX-License-Identifier: Apache-2.0 */
/* dpif provider "local": datapaths in this process.  The design is in
 * dpif/dpif-local.h. */

#include "dpif/dpif-local.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "codec/fkey-nl.h"
#include "codec/ufid.h"
#include "dp/dp.h"
#include "dp/pmd.h"
#include "dpif/dpif-provider.h"
#include "lib/errbuf.h"
#include "lib/mutex.h"
#include "lib/rcu.h"
#include "packet/flow-key.h"
#include "packet/packet.h"
#include "port/port.h"

#define LOCAL_POLL_MAX 256      /* Port changes a dpif holds. */
#define LOCAL_EXEC_MAX 4        /* dp_threads for dpif_execute(). */
#define LOCAL_DUMP_BATCH 64     /* Flows one dump call fetches at most. */
#define LOCAL_WAIT_SLICE_MS 100 /* dpif_recv_wait() holds the lock. */
#define LOCAL_PMD_THREADS 1

/* User features of a new datapath. */
#define LOCAL_CREATE_FEATURES (OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS)

/* OVS_DP_ATTR_MASKS_CACHE_SIZE as the kernel (and weird) report it for a
 * new datapath.  weir's datapath has a per-thread exact-match cache
 * instead of the kernel's per-CPU mask cache, so the size changes
 * nothing; it is reported so that both providers say the same. */
#define LOCAL_MASKS_CACHE_SIZE 256

#define LOCAL_OMIT_ALL (OVS_UFID_F_OMIT_KEY | OVS_UFID_F_OMIT_MASK \
                        | OVS_UFID_F_OMIT_ACTIONS)

/* The type a port was added with ("system", "internal" or a provider),
 * which is what dpif_port_query reports, as the netlink provider does. */
struct local_port_type {
    uint32_t port_no;
    char type[DPIF_NAME_MAX];
};

/* What dpif_recv() returned last on one handler. */
struct local_handler {
    void *buf;
    size_t size;
};

/* A datapath of the process. */
struct local_dp {
    struct local_dp *next;          /* In 'registry' (registry_mutex). */
    char name[DPIF_NAME_MAX];
    unsigned int n_opens;           /* Open dpifs (registry_mutex). */
    bool deleted;                   /* Out of the registry (same). */

    /* Read: any call using 'dp'.  Write: delete, handlers_set. */
    pthread_rwlock_t lock;
    struct datapath *dp;            /* NULL once deleted. */

    /* Handlers (written under the write lock). */
    uint32_t n_handlers;
    uint32_t *handler_pids;
    struct local_handler *handlers;

    struct wmutex port_mutex;       /* One port add/del at a time. */
    struct wmutex types_mutex;      /* Guards the next three. */
    struct local_port_type *types;
    size_t n_types, max_types;

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
};

struct local_dump {
    struct dpif_flow_dump up;
    struct local_dp *ldp;
    struct dp_flow_dump *dd;
    bool terse;
    _Atomic int error;              /* -ENODEV if the datapath went. */
};

struct local_dump_thread {
    struct dpif_flow_dump_thread up;
    struct local_dump *dump;
    struct dp_flow_info *infos;     /* [LOCAL_DUMP_BATCH] */
    char *buf;                      /* The bytes of the last flows. */
    size_t size;
};

/* What an RCU-aware call remembers about its caller. */
struct local_call {
    bool was_online;                /* Caller was an online RCU reader. */
};

static struct wmutex registry_mutex = { PTHREAD_MUTEX_INITIALIZER };
static struct local_dp *registry;                   /* registry_mutex */
static char local_port_type[DPIF_NAME_MAX] = "tap"; /* registry_mutex */

/* ---- RCU: readers only inside calls. ---- */

static pthread_key_t rcu_key;
static pthread_once_t rcu_once = PTHREAD_ONCE_INIT;

static void
rcu_thread_exit(void *arg)
{
    (void) arg;
    qsbr_unregister();
}

static void
rcu_key_init(void)
{
    if (pthread_key_create(&rcu_key, rcu_thread_exit)) {
        abort();
    }
}

/* Starts a call: a caller that is an online reader goes offline until
 * call_end(), so that it can wait for locks. */
static void
call_begin(struct local_call *c)
{
    c->was_online = rcu_read_ongoing();
    if (c->was_online) {
        qsbr_offline();
    }
}

/* Makes the calling thread an online RCU reader, registering it on its
 * first call. */
static void
call_online(struct local_call *c)
{
    if (c->was_online) {
        qsbr_online();
        return;
    }
    pthread_once(&rcu_once, rcu_key_init);
    if (pthread_getspecific(rcu_key)) {
        qsbr_online();
    } else {
        qsbr_register();
        /* Any non-NULL value: the destructor runs at thread exit. */
        pthread_setspecific(rcu_key, &rcu_key);
    }
}

static void
call_end(struct local_call *c)
{
    if (c->was_online) {
        qsbr_online();
    }
}

/* Takes 'ldp' for a call (for writing if 'exclusive'), offline.
 * Returns 0, or -ENODEV (the datapath was deleted). */
static int
ldp_lock(struct local_dp *ldp, bool exclusive, struct local_call *c)
{
    call_begin(c);
    if (exclusive) {
        pthread_rwlock_wrlock(&ldp->lock);
    } else {
        pthread_rwlock_rdlock(&ldp->lock);
    }
    if (!ldp->dp) {
        pthread_rwlock_unlock(&ldp->lock);
        call_end(c);
        dpif_set_error("datapath %s was deleted", ldp->name);
        return -ENODEV;
    }
    return 0;
}

static void
ldp_unlock(struct local_dp *ldp, struct local_call *c)
{
    pthread_rwlock_unlock(&ldp->lock);
    call_end(c);
}

/* ldp_lock(), then online. */
static int
ldp_enter(struct local_dp *ldp, bool exclusive, struct local_call *c)
{
    int error = ldp_lock(ldp, exclusive, c);

    if (!error) {
        call_online(c);
    }
    return error;
}

/* Offline, then ldp_unlock(). */
static void
ldp_exit(struct local_dp *ldp, struct local_call *c)
{
    qsbr_offline();
    ldp_unlock(ldp, c);
}

static struct local_dpif *
local_dpif_cast(const struct dpif *dpif)
{
    return (struct local_dpif *) dpif;
}

static struct local_dp *
ldp_of(const struct dpif *dpif)
{
    return local_dpif_cast(dpif)->ldp;
}

/* Passes the reason in 'err', if any, to dpif_last_error(); returns
 * 'error'. */
static int
pass_error(const struct errbuf *err, int error)
{
    if (error < 0 && errbuf_is_set(err)) {
        dpif_set_error("%s", err->msg);
    }
    return error;
}

/* ---- Port types and changes. ---- */

static void
types_set(struct local_dp *ldp, uint32_t port_no, const char *type)
{
    wmutex_lock(&ldp->types_mutex);
    for (size_t i = 0; i < ldp->n_types; i++) {
        if (ldp->types[i].port_no == port_no) {
            snprintf(ldp->types[i].type, sizeof ldp->types[i].type, "%s",
                     type);
            wmutex_unlock(&ldp->types_mutex);
            return;
        }
    }
    if (ldp->n_types == ldp->max_types) {
        size_t max = ldp->max_types ? 2 * ldp->max_types : 8;
        struct local_port_type *t = realloc(ldp->types, max * sizeof *t);

        if (!t) {
            /* The port then reports its provider's name. */
            wmutex_unlock(&ldp->types_mutex);
            return;
        }
        ldp->types = t;
        ldp->max_types = max;
    }
    ldp->types[ldp->n_types].port_no = port_no;
    snprintf(ldp->types[ldp->n_types].type,
             sizeof ldp->types[ldp->n_types].type, "%s", type);
    ldp->n_types++;
    wmutex_unlock(&ldp->types_mutex);
}

static void
types_del(struct local_dp *ldp, uint32_t port_no)
{
    wmutex_lock(&ldp->types_mutex);
    for (size_t i = 0; i < ldp->n_types; i++) {
        if (ldp->types[i].port_no == port_no) {
            ldp->types[i] = ldp->types[--ldp->n_types];
            break;
        }
    }
    wmutex_unlock(&ldp->types_mutex);
}

/* Copies the type port 'port_no' was added with into 'type'; the local
 * port is "internal"; a port not recorded reports its provider. */
static void
types_get(struct local_dp *ldp, uint32_t port_no, const struct port *port,
          char type[DPIF_NAME_MAX])
{
    snprintf(type, DPIF_NAME_MAX, "%s",
             port_no == DP_LOCAL_PORT ? "internal" : port_type(port));
    wmutex_lock(&ldp->types_mutex);
    for (size_t i = 0; i < ldp->n_types; i++) {
        if (ldp->types[i].port_no == port_no) {
            memcpy(type, ldp->types[i].type, DPIF_NAME_MAX);
            break;
        }
    }
    wmutex_unlock(&ldp->types_mutex);
}

/* Tells every dpif open on 'ldp' that port 'name' changed. */
static void
ports_changed(struct local_dp *ldp, const char *name)
{
    wmutex_lock(&ldp->poll_mutex);
    for (struct local_dpif *ld = ldp->dpifs; ld; ld = ld->next) {
        bool was_empty = !ld->n && !ld->overflow;

        if (ld->n == LOCAL_POLL_MAX) {
            ld->overflow = true;
        } else {
            unsigned int i = (ld->head + ld->n++) % LOCAL_POLL_MAX;

            snprintf(ld->changes[i], DPIF_NAME_MAX, "%s", name);
        }
        if (was_empty) {
            uint64_t one = 1;

            if (write(ld->poll_fd, &one, sizeof one) < 0) {
                /* Cannot fail: the counter is reset when the queue
                 * empties, far below its limit. */
            }
        }
    }
    wmutex_unlock(&ldp->poll_mutex);
}

/* ---- Registry, open, close, delete. ---- */

int
dpif_local_set_local_type(const char *type)
{
    struct local_call c;

    if (type && strlen(type) >= DPIF_NAME_MAX) {
        return -EINVAL;
    }
    call_begin(&c);
    wmutex_lock(&registry_mutex);
    snprintf(local_port_type, sizeof local_port_type, "%s",
             type ? type : "tap");
    wmutex_unlock(&registry_mutex);
    call_end(&c);
    return 0;
}

/* Returns the datapath named 'name', or NULL.
 * Context: registry_mutex held. */
static struct local_dp *
registry_find(const char *name) WEIR_REQUIRES(registry_mutex)
{
    for (struct local_dp *ldp = registry; ldp; ldp = ldp->next) {
        if (!strcmp(ldp->name, name)) {
            return ldp;
        }
    }
    return NULL;
}

static void
ldp_free(struct local_dp *ldp)
{
    pthread_rwlock_destroy(&ldp->lock);
    wmutex_destroy(&ldp->port_mutex);
    wmutex_destroy(&ldp->types_mutex);
    wmutex_destroy(&ldp->exec_mutex);
    pthread_cond_destroy(&ldp->exec_cond);
    wmutex_destroy(&ldp->poll_mutex);
    free(ldp->types);
    free(ldp->handler_pids);
    free(ldp->handlers);
    free(ldp);
}

static void
handlers_free(struct local_handler *h, uint32_t n)
{
    for (uint32_t i = 0; h && i < n; i++) {
        free(h[i].buf);
    }
    free(h);
}

/* Creates datapath 'name' with its PMD thread.
 * Context: registry_mutex held; 'c' offline. */
static int
ldp_create(const char *name, struct local_call *c, struct local_dp **ldpp)
    WEIR_REQUIRES(registry_mutex)
{
    struct dp_pmd_config pmd = { .n_threads = LOCAL_PMD_THREADS };
    struct dp_config cfg = { .local_type = local_port_type };
    pthread_rwlockattr_t attr;
    struct local_dp *ldp;
    struct errbuf err;
    int error;

    errbuf_clear(&err);
    ldp = calloc(1, sizeof *ldp);
    if (!ldp) {
        dpif_set_error("out of memory");
        return -ENOMEM;
    }
    snprintf(ldp->name, sizeof ldp->name, "%s", name);
    /* Writers first: a handler thread looping on dpif_recv_wait() must
     * not keep dpif_delete() or dpif_handlers_set() out forever. */
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(
        &attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&ldp->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    wmutex_init(&ldp->port_mutex);
    wmutex_init(&ldp->types_mutex);
    wmutex_init(&ldp->exec_mutex);
    pthread_cond_init(&ldp->exec_cond, NULL);
    wmutex_init(&ldp->poll_mutex);

    call_online(c);
    error = dp_create(name, &cfg, &ldp->dp, &err);
    if (!error) {
        /* What the netlink provider asks for when it creates one, as
         * Open vSwitch does. */
        dp_set_user_features(ldp->dp, LOCAL_CREATE_FEATURES);
        error = dp_pmd_configure(ldp->dp, &pmd, &err);
        if (error) {
            errbuf_prefix(&err, "polling thread: ");
        }
    }
    qsbr_offline();
    if (error) {
        dp_destroy(ldp->dp);
        ldp_free(ldp);
        return pass_error(&err, error);
    }
    ldp->next = registry;
    registry = ldp;
    *ldpp = ldp;
    return 0;
}

static int
local_open(const struct dpif_class *cls, const char *name, bool create,
           struct dpif **dpifp)
{
    struct local_dpif *ld = calloc(1, sizeof *ld);
    struct local_dp *ldp;
    struct local_call c;
    int error = 0;

    if (ld) {
        ld->changes = calloc(LOCAL_POLL_MAX, sizeof *ld->changes);
        ld->poll_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
    if (!ld || !ld->changes || ld->poll_fd < 0) {
        if (ld) {
            free(ld->changes);
            if (ld->poll_fd >= 0) {
                close(ld->poll_fd);
            }
        }
        free(ld);
        dpif_set_error("out of memory or file descriptors");
        return -ENOMEM;
    }

    call_begin(&c);
    wmutex_lock(&registry_mutex);
    ldp = registry_find(name);
    if (!ldp && !create) {
        dpif_set_error("no datapath named %s", name);
        error = -ENODEV;
    } else if (!ldp) {
        error = ldp_create(name, &c, &ldp);
    }
    if (!error) {
        ldp->n_opens++;
        ld->ldp = ldp;
        wmutex_lock(&ldp->poll_mutex);
        ld->next = ldp->dpifs;
        ldp->dpifs = ld;
        wmutex_unlock(&ldp->poll_mutex);
    }
    wmutex_unlock(&registry_mutex);
    call_end(&c);

    if (error) {
        free(ld->changes);
        close(ld->poll_fd);
        free(ld);
        return error;
    }
    ld->up.cls = cls;
    snprintf(ld->up.name, sizeof ld->up.name, "%s", name);
    *dpifp = &ld->up;
    return 0;
}

static void
local_close(struct dpif *dpif)
{
    struct local_dpif *ld = local_dpif_cast(dpif);
    struct local_dp *ldp = ld->ldp;
    struct local_call c;
    bool free_ldp;

    wmutex_lock(&ldp->poll_mutex);
    for (struct local_dpif **p = &ldp->dpifs; *p; p = &(*p)->next) {
        if (*p == ld) {
            *p = ld->next;
            break;
        }
    }
    wmutex_unlock(&ldp->poll_mutex);

    /* Offline while waiting: dpif_delete() holds the registry mutex
     * while it waits for a grace period. */
    call_begin(&c);
    wmutex_lock(&registry_mutex);
    free_ldp = !--ldp->n_opens && ldp->deleted;
    wmutex_unlock(&registry_mutex);
    call_end(&c);
    if (free_ldp) {
        ldp_free(ldp);
    }
    free(ld->changes);
    close(ld->poll_fd);
    free(ld);
}

/* Destroys the execute pool.  Context: the write lock held. */
static void
exec_pool_destroy(struct local_dp *ldp)
{
    wmutex_lock(&ldp->exec_mutex);
    for (unsigned int i = 0; i < ldp->n_exec_free; i++) {
        dp_thread_destroy(ldp->exec_free[i]);
    }
    ldp->n_exec_free = 0;
    ldp->n_exec = 0;
    wmutex_unlock(&ldp->exec_mutex);
}

static int
local_destroy(struct dpif *dpif)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;
    int error = ldp_lock(ldp, true, &c);

    if (error) {
        return error;
    }
    wmutex_lock(&registry_mutex);
    for (struct local_dp **p = &registry; *p; p = &(*p)->next) {
        if (*p == ldp) {
            *p = ldp->next;
            break;
        }
    }
    ldp->deleted = true;
    /* Still under the registry mutex, so that a new datapath of the
     * same name (with a local port of the same name) waits for this one
     * to be gone.  Offline, as dp_destroy() wants. */
    exec_pool_destroy(ldp);
    dp_destroy(ldp->dp);
    ldp->dp = NULL;
    wmutex_unlock(&registry_mutex);
    handlers_free(ldp->handlers, ldp->n_handlers);
    ldp->handlers = NULL;
    free(ldp->handler_pids);
    ldp->handler_pids = NULL;
    ldp->n_handlers = 0;
    ldp_unlock(ldp, &c);
    return 0;
}

static int
local_enumerate(void (*cb)(const char *name, void *aux), void *aux)
{
    char (*names)[DPIF_NAME_MAX] = NULL;
    size_t n = 0, max = 0;
    struct local_call c;
    int error = 0;

    call_begin(&c);
    wmutex_lock(&registry_mutex);
    for (struct local_dp *ldp = registry; ldp; ldp = ldp->next) {
        if (n == max) {
            size_t new_max = max ? 2 * max : 8;
            char (*p)[DPIF_NAME_MAX] = realloc(names,
                                               new_max * sizeof *names);

            if (!p) {
                error = -ENOMEM;
                break;
            }
            names = p;
            max = new_max;
        }
        memcpy(names[n++], ldp->name, DPIF_NAME_MAX);
    }
    wmutex_unlock(&registry_mutex);
    call_end(&c);
    /* The callback runs without the lock: it may open datapaths. */
    for (size_t i = 0; !error && i < n; i++) {
        cb(names[i], aux);
    }
    free(names);
    return error;
}

/* ---- Datapath statistics and features. ---- */

static int
local_get_stats(const struct dpif *dpif, struct dpif_dp_stats *stats)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;
    struct dp_stats s;
    int error = ldp_enter(ldp, false, &c);

    if (error) {
        return error;
    }
    dp_get_stats(ldp->dp, &s);
    ldp_exit(ldp, &c);
    stats->n_hit = s.n_hit;
    stats->n_missed = s.n_missed;
    stats->n_lost = s.n_lost;
    stats->n_flows = s.n_flows;
    stats->n_mask_hit = s.n_mask_hit;
    stats->n_masks = s.n_masks;
    stats->masks_cache_size = LOCAL_MASKS_CACHE_SIZE;
    stats->n_cache_hit = s.n_cache_hit;
    return 0;
}

static int
local_get_features(const struct dpif *dpif, uint32_t *features)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;
    int error = ldp_lock(ldp, false, &c);

    if (!error) {
        *features = dp_get_user_features(ldp->dp);
        ldp_unlock(ldp, &c);
    }
    return error;
}

/* The features the kernel module accepts (ovs_dp_change()). */
#define LOCAL_KNOWN_FEATURES (OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS \
                              | OVS_DP_F_TC_RECIRC_SHARING \
                              | OVS_DP_F_DISPATCH_UPCALL_PER_CPU)

static int
local_set_features(struct dpif *dpif, uint32_t features)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;
    int error;

    if (features & ~LOCAL_KNOWN_FEATURES) {
        dpif_set_error("unknown user features %#x",
                       features & ~LOCAL_KNOWN_FEATURES);
        return -EOPNOTSUPP;
    }
    error = ldp_lock(ldp, false, &c);
    if (!error) {
        dp_set_user_features(ldp->dp, features);
        ldp_unlock(ldp, &c);
    }
    return error;
}

/* ---- Ports. ---- */

static int
local_port_add(struct dpif *dpif, const char *name, const char *type,
               const char *options, uint32_t *port_no)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;
    struct errbuf err;
    uint32_t no = *port_no;
    int error;

    errbuf_clear(&err);
    error = ldp_lock(ldp, false, &c);
    if (error) {
        return error;
    }
    /* One add or delete at a time keeps the port types in step with the
     * ports.  Taken offline: dp_port_del() waits for a grace period. */
    wmutex_lock(&ldp->port_mutex);
    call_online(&c);
    error = dp_port_add(ldp->dp, type, name, options, &no, &err);
    qsbr_offline();
    if (!error) {
        types_set(ldp, no, type);
        *port_no = no;
    }
    wmutex_unlock(&ldp->port_mutex);
    ldp_unlock(ldp, &c);
    if (!error) {
        ports_changed(ldp, name);
    }
    return pass_error(&err, error);
}

static int
local_port_del(struct dpif *dpif, uint32_t port_no)
{
    struct local_dp *ldp = ldp_of(dpif);
    char name[DPIF_NAME_MAX] = "";
    struct local_call c;
    struct port *port;
    int error;

    if (port_no == DP_LOCAL_PORT) {
        dpif_set_error("the local port cannot be deleted");
        return -EINVAL;
    }
    error = ldp_lock(ldp, false, &c);
    if (error) {
        return error;
    }
    wmutex_lock(&ldp->port_mutex);
    call_online(&c);
    port = dp_port_get(ldp->dp, port_no);
    if (port) {
        snprintf(name, sizeof name, "%s", port->name);
        error = dp_port_del(ldp->dp, port_no);
    } else {
        error = -ENOENT;
    }
    qsbr_offline();
    if (!error) {
        types_del(ldp, port_no);
    }
    wmutex_unlock(&ldp->port_mutex);
    ldp_unlock(ldp, &c);
    if (error == -ENOENT) {
        dpif_set_error("no port %u", port_no);
    } else if (!error) {
        ports_changed(ldp, name);
    }
    return error;
}

/* Fills 'out' for port 'port_no'.  Returns 0 or -ENOENT.
 * Context: online, under the lock. */
static int
port_fill(struct local_dp *ldp, uint32_t port_no, struct dpif_port *out)
{
    struct port *port = dp_port_get(ldp->dp, port_no);
    struct port_info info;

    if (!port) {
        return -ENOENT;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", port->name);
    types_get(ldp, port_no, port, out->type);
    out->port_no = port_no;
    port_get_info(port, &info);
    out->ifindex = info.ifindex > 0 ? (uint32_t) info.ifindex : 0;
    return 0;
}

static int
local_port_query(const struct dpif *dpif, uint32_t port_no,
                 const char *name, struct dpif_port *port)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;
    int error = ldp_enter(ldp, false, &c);

    if (error) {
        return error;
    }
    if (name) {
        int64_t no = dp_port_by_name(ldp->dp, name);

        error = no < 0 ? -ENOENT : port_fill(ldp, (uint32_t) no, port);
    } else {
        error = port_fill(ldp, port_no, port);
    }
    ldp_exit(ldp, &c);
    if (error == -ENOENT) {
        if (name) {
            dpif_set_error("no port named %s", name);
        } else {
            dpif_set_error("no port %u", port_no);
        }
    }
    return error;
}

static int
local_port_get_stats(const struct dpif *dpif, uint32_t port_no,
                     struct dpif_port_stats *stats)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;
    struct port_stats ps;
    struct port *port;
    int error = ldp_enter(ldp, false, &c);

    if (error) {
        return error;
    }
    port = dp_port_get(ldp->dp, port_no);
    if (port) {
        port_get_stats(port, &ps);
        error = dp_port_get_upcall_stats(ldp->dp, port_no,
                                         &stats->upcall_success,
                                         &stats->upcall_fail);
    } else {
        error = -ENOENT;
    }
    ldp_exit(ldp, &c);
    if (error) {
        dpif_set_error("no port %u", port_no);
        return error;
    }
    stats->rx_packets = ps.rx_packets;
    stats->tx_packets = ps.tx_packets;
    stats->rx_bytes = ps.rx_bytes;
    stats->tx_bytes = ps.tx_bytes;
    stats->rx_errors = ps.rx_errors;
    stats->tx_errors = 0;
    stats->rx_dropped = ps.rx_dropped;
    stats->tx_dropped = ps.tx_dropped;
    return 0;
}

static int
local_port_dump_start(const struct dpif *dpif, void **statep)
{
    uint32_t *cursor = calloc(1, sizeof *cursor);

    (void) dpif;
    if (!cursor) {
        dpif_set_error("out of memory");
        return -ENOMEM;
    }
    *statep = cursor;
    return 0;
}

static int
local_port_dump_next(const struct dpif *dpif, void *state,
                     struct dpif_port *port)
{
    struct local_dp *ldp = ldp_of(dpif);
    uint32_t *cursor = state;
    struct local_call c;
    int ret = ldp_enter(ldp, false, &c);

    if (ret) {
        return ret;
    }
    for (;;) {
        uint32_t no;

        if (!dp_port_list(ldp->dp, cursor, &no, 1)) {
            ret = 0;
            break;
        }
        if (!port_fill(ldp, no, port)) {
            ret = 1;
            break;
        }
    }
    ldp_exit(ldp, &c);
    return ret;
}

static void
local_port_dump_done(const struct dpif *dpif, void *state)
{
    (void) dpif;
    free(state);
}

static int
local_port_poll(const struct dpif *dpif, char **name)
{
    struct local_dpif *ld = local_dpif_cast(dpif);
    struct local_dp *ldp = ld->ldp;
    int error;

    wmutex_lock(&ldp->poll_mutex);
    if (ld->overflow) {
        ld->overflow = false;
        ld->n = 0;
        error = -ENOBUFS;
    } else if (ld->n) {
        *name = strdup(ld->changes[ld->head]);
        if (*name) {
            ld->head = (ld->head + 1) % LOCAL_POLL_MAX;
            ld->n--;
            error = 0;
        } else {
            error = -ENOMEM;
        }
    } else {
        error = -EAGAIN;
    }
    if (!ld->n && !ld->overflow) {
        uint64_t count;

        /* Nothing left to report: the fd stops being readable. */
        if (read(ld->poll_fd, &count, sizeof count) < 0) {
            /* EAGAIN: it was not. */
        }
    }
    wmutex_unlock(&ldp->poll_mutex);
    if (error == -ENOBUFS) {
        dpif_set_error("port changes were lost; read every port again");
    }
    return error;
}

static int
local_port_poll_fd(const struct dpif *dpif)
{
    return local_dpif_cast(dpif)->poll_fd;
}

/* ---- Flows. ---- */

/* Decodes the flow key 'attrs' as the kernel module would, with the
 * same errno for what it refuses.  Returns 0 or -EINVAL. */
static int
key_decode(const void *attrs, size_t len, struct flow_key *key)
{
    struct errbuf err;

    errbuf_clear(&err);
    switch (fkey_from_nl(attrs, len, key, &err)) {
    case FKEY_FIT_PERFECT:
        return 0;
    case FKEY_FIT_TOO_MUCH:
        dpif_set_error("flow key: attributes this datapath does not "
                       "support or the key does not call for");
        return -EINVAL;
    case FKEY_FIT_TOO_LITTLE:
        dpif_set_error("flow key: attributes the key calls for are "
                       "missing");
        return -EINVAL;
    case FKEY_FIT_ERROR:
    default:
        dpif_set_error("flow key: %s", err.msg);
        return -EINVAL;
    }
}

static int
mask_decode(const void *attrs, size_t len, const struct flow_key *key,
            struct flow_mask *mask)
{
    struct errbuf err;

    errbuf_clear(&err);
    switch (fmask_from_nl(attrs, len, key, mask, &err)) {
    case FKEY_FIT_PERFECT:
        return 0;
    case FKEY_FIT_TOO_MUCH:
    case FKEY_FIT_TOO_LITTLE:
        dpif_set_error("flow mask: attributes this datapath does not "
                       "support");
        return -EINVAL;
    case FKEY_FIT_ERROR:
    default:
        dpif_set_error("flow mask: %s", err.msg);
        return -EINVAL;
    }
}

static void
ufid_from_dpif(struct ufid *out, const struct dpif_ufid *in)
{
    memset(out, 0, sizeof *out);
    out->len = in->len;
    memcpy(out->id, in->id, in->len);
}

static void
stats_from_dp(struct dpif_flow_stats *out, const struct dp_flow_stats *in)
{
    out->n_packets = in->n_packets;
    out->n_bytes = in->n_bytes;
    out->used_ms = (int64_t) in->used_ms;
    out->tcp_flags = in->tcp_flags;
}

/* Fills 'req' to name the flow given by 'ufid' (if it has a length, into
 * 'u') or else by 'key' (decoded into 'k').  Returns 0 or -EINVAL. */
static int
req_name(struct dp_flow_req *req, const struct dpif_ufid *ufid,
         struct ufid *u, const void *key, size_t key_len,
         struct flow_key *k)
{
    if (ufid && ufid->len) {
        ufid_from_dpif(u, ufid);
        req->ufid = u;
        return 0;
    }
    req->key = k;
    return key_decode(key, key_len, k);
}

static int
local_flow_put(struct local_dp *ldp, const struct dpif_flow_put *put)
{
    struct dp_flow_req req = { .has_actions = true };
    struct dp_flow_info reply;
    struct flow_mask mask;
    struct flow_key key;
    struct local_call c;
    struct errbuf err;
    struct ufid u;
    int error;

    errbuf_clear(&err);
    error = key_decode(put->key, put->key_len, &key);
    if (!error && put->mask) {
        error = mask_decode(put->mask, put->mask_len, &key, &mask);
    }
    if (error) {
        return error;
    }
    req.key = &key;
    req.mask = put->mask ? &mask : NULL;
    if (put->ufid && put->ufid->len) {
        ufid_from_dpif(&u, put->ufid);
        req.ufid = &u;
    }
    req.actions = put->actions ? put->actions : "";
    req.actions_len = put->actions_len;
    /* Only the statistics are reported back. */
    req.ufid_flags = LOCAL_OMIT_ALL;

    error = ldp_enter(ldp, false, &c);
    if (error) {
        return error;
    }
    if (put->flags & DPIF_FP_CREATE) {
        error = dp_flow_new(ldp->dp, &req,
                            put->flags & DPIF_FP_MODIFY ? 0 : DP_FLOW_EXCL,
                            &reply, &err);
    } else {
        error = dp_flow_set(ldp->dp, &req, &reply, &err);
        error = error ? error : 1;
    }
    if (error == 1) {
        /* Modified: report the statistics before, then zero them if
         * asked (the kernel's OVS_FLOW_CMD_SET does the same, in that
         * order). */
        if (put->stats) {
            stats_from_dp(put->stats, &reply.stats);
        }
        if (put->flags & DPIF_FP_ZERO_STATS) {
            struct dp_flow_req clear = {
                .key = req.ufid ? NULL : &key,
                .ufid = req.ufid,
                .clear = true,
                .ufid_flags = LOCAL_OMIT_ALL,
            };

            error = dp_flow_set(ldp->dp, &clear, NULL, &err);
        } else {
            error = 0;
        }
    } else if (!error && put->stats) {
        memset(put->stats, 0, sizeof *put->stats);
    }
    ldp_exit(ldp, &c);
    return pass_error(&err, error);
}

static int
local_flow_del(struct local_dp *ldp, const struct dpif_flow_del *del)
{
    struct dp_flow_req req = { .ufid_flags = LOCAL_OMIT_ALL };
    struct dp_flow_info reply;
    struct flow_key key;
    struct local_call c;
    struct errbuf err;
    struct ufid u;
    int error;

    errbuf_clear(&err);
    error = req_name(&req, del->ufid, &u, del->key, del->key_len, &key);
    if (!error) {
        error = ldp_enter(ldp, false, &c);
    }
    if (error) {
        return error;
    }
    error = dp_flow_del(ldp->dp, &req, &reply, &err);
    ldp_exit(ldp, &c);
    if (!error && del->stats) {
        stats_from_dp(del->stats, &reply.stats);
    }
    return pass_error(&err, error);
}

/* Appends the 'len' bytes at 'p' at offset '*ofs' of 'buf' ('size'
 * bytes), 4-byte aligned as netlink attributes are.  Returns the offset
 * used, or -EMSGSIZE. */
static int64_t
buf_put(char *buf, size_t size, size_t *ofs, const void *p, size_t len)
{
    size_t at = (*ofs + 3) & ~(size_t) 3;

    if (at > size || len > size - at) {
        return -EMSGSIZE;
    }
    if (len) {
        memcpy(buf + at, p, len);
    }
    *ofs = at + len;
    return (int64_t) at;
}

/* The netlink attributes of the key and mask 'info' carries, in
 * 'kbuf' / 'mbuf' (each MNL_NLMSG_HDRLEN + FKEY_NL_MAX_LEN bytes). */
struct flow_nl {
    char kbuf[MNL_NLMSG_HDRLEN + FKEY_NL_MAX_LEN];
    char mbuf[MNL_NLMSG_HDRLEN + FKEY_NL_MAX_LEN];
    const void *key, *mask;
    size_t key_len, mask_len;
};

/* Encodes what 'info' has of key and mask.  The mask takes its shape
 * from the masked key, as the kernel writes it.  Returns 0 or
 * -EMSGSIZE. */
static int
flow_nl_encode(const struct dp_flow_info *info, struct flow_nl *nl)
{
    struct nlmsghdr *k = mnl_nlmsg_put_header(nl->kbuf);
    struct nlmsghdr *m = mnl_nlmsg_put_header(nl->mbuf);

    nl->key = nl->mask = NULL;
    nl->key_len = nl->mask_len = 0;
    if (info->has_key) {
        if (fkey_to_nl(&info->key, k, sizeof nl->kbuf)) {
            return -EMSGSIZE;
        }
        nl->key = mnl_nlmsg_get_payload(k);
        nl->key_len = k->nlmsg_len - MNL_NLMSG_HDRLEN;
    }
    if (info->has_mask && info->has_key) {
        struct flow_key masked;

        fkey_mask_apply(&masked, &info->key, &info->mask);
        if (fmask_to_nl(&masked, &info->mask, m, sizeof nl->mbuf)) {
            return -EMSGSIZE;
        }
        nl->mask = mnl_nlmsg_get_payload(m);
        nl->mask_len = m->nlmsg_len - MNL_NLMSG_HDRLEN;
    }
    return 0;
}

/* Writes the flow 'info' into 'buf' ('size' bytes) from offset '*ofs'
 * and describes it in 'flow' with offsets from 'buf' (pointers are set
 * by flow_rebase()).  Context: online ('info' actions). */
static int
flow_write(const struct dp_flow_info *info, char *buf, size_t size,
           size_t *ofs, struct dpif_flow *flow, int64_t offsets[3])
{
    struct flow_nl nl;
    int error = flow_nl_encode(info, &nl);

    offsets[0] = offsets[1] = offsets[2] = -1;
    if (error) {
        return error;
    }
    memset(flow, 0, sizeof *flow);
    if (nl.key) {
        offsets[0] = buf_put(buf, size, ofs, nl.key, nl.key_len);
        flow->key_len = nl.key_len;
    }
    if (nl.mask) {
        offsets[1] = buf_put(buf, size, ofs, nl.mask, nl.mask_len);
        flow->mask_len = nl.mask_len;
    }
    if (info->has_actions) {
        offsets[2] = buf_put(buf, size, ofs, info->actions,
                             info->actions_len);
        flow->actions_len = info->actions_len;
    }
    if ((nl.key && offsets[0] < 0) || (nl.mask && offsets[1] < 0)
        || (info->has_actions && offsets[2] < 0)) {
        return -EMSGSIZE;
    }
    if (info->has_ufid) {
        flow->ufid.len = info->ufid.len;
        memcpy(flow->ufid.id, info->ufid.id, info->ufid.len);
    }
    stats_from_dp(&flow->stats, &info->stats);
    return 0;
}

/* Points 'flow' at its bytes in 'buf'. */
static void
flow_rebase(struct dpif_flow *flow, const char *buf,
            const int64_t offsets[3])
{
    flow->key = offsets[0] >= 0 ? buf + offsets[0] : NULL;
    flow->mask = offsets[1] >= 0 ? buf + offsets[1] : NULL;
    flow->actions = offsets[2] >= 0 ? buf + offsets[2] : NULL;
}

/* Upper bound of the bytes flow_write() needs for 'info'. */
static size_t
flow_size(const struct dp_flow_info *info)
{
    return 2 * (FKEY_NL_MAX_LEN + 4)
           + (info->has_actions ? info->actions_len + 4 : 0);
}

static int
local_flow_get(struct local_dp *ldp, const struct dpif_flow_get *get)
{
    struct dp_flow_req req = { .ufid_flags = 0 };
    struct dp_flow_info reply;
    struct flow_key key;
    struct local_call c;
    struct errbuf err;
    int64_t offsets[3];
    size_t ofs = 0;
    struct ufid u;
    int error;

    errbuf_clear(&err);
    error = req_name(&req, get->ufid, &u, get->key, get->key_len, &key);
    if (!error) {
        error = ldp_enter(ldp, false, &c);
    }
    if (error) {
        return error;
    }
    error = dp_flow_get(ldp->dp, &req, &reply, &err);
    if (!error) {
        error = flow_write(&reply, get->buf, get->buf_size, &ofs, get->flow,
                           offsets);
        if (error) {
            dpif_set_error("flow does not fit in a %zu-byte buffer",
                           get->buf_size);
        } else {
            flow_rebase(get->flow, get->buf, offsets);
        }
    }
    ldp_exit(ldp, &c);
    return pass_error(&err, error);
}

/* Takes a dp_thread from the execute pool, making one if there are
 * fewer than LOCAL_EXEC_MAX, else waiting for one.
 * Context: offline, under the read lock. */
static struct dp_thread *
exec_get(struct local_dp *ldp)
{
    const struct dp_thread_config cfg = { .emc = false };
    struct dp_thread *thr = NULL;

    wmutex_lock(&ldp->exec_mutex);
    for (;;) {
        if (ldp->n_exec_free) {
            thr = ldp->exec_free[--ldp->n_exec_free];
            break;
        }
        if (ldp->n_exec < LOCAL_EXEC_MAX) {
            thr = dp_thread_create(ldp->dp, &cfg);
            if (thr) {
                ldp->n_exec++;
                break;
            }
            if (!ldp->n_exec) {
                /* No slot free and none of ours to wait for. */
                break;
            }
        }
        pthread_cond_wait(&ldp->exec_cond, &ldp->exec_mutex.m);
    }
    wmutex_unlock(&ldp->exec_mutex);
    return thr;
}

static void
exec_put(struct local_dp *ldp, struct dp_thread *thr)
{
    wmutex_lock(&ldp->exec_mutex);
    ldp->exec_free[ldp->n_exec_free++] = thr;
    pthread_cond_signal(&ldp->exec_cond);
    wmutex_unlock(&ldp->exec_mutex);
}

static int
local_execute(struct local_dp *ldp, const struct dpif_execute *exec)
{
    struct dp_thread *thr;
    struct packet *pkt;
    struct local_call c;
    struct errbuf err;
    int error;

    errbuf_clear(&err);
    if (exec->mru) {
        /* Fragmenting to an MRU belongs with conntrack reassembly, which
         * this datapath does not have yet. */
        dpif_set_error("execute: mru (fragmentation on output) is not "
                       "supported");
        return -EOPNOTSUPP;
    }
    pkt = packet_create(exec->packet, exec->packet_len);
    if (!pkt) {
        dpif_set_error("out of memory");
        return -ENOMEM;
    }
    pkt->md.in_port = exec->in_port == DPIF_PORT_ANY ? FKEY_IN_PORT_NONE
                                                     : exec->in_port;
    pkt->md.priority = exec->priority;
    pkt->md.skb_mark = exec->mark;
    pkt->md.recirc_id = exec->recirc_id;
    pkt->md.dp_hash = exec->dp_hash;

    error = ldp_lock(ldp, false, &c);
    if (error) {
        packet_free(pkt);
        return error;
    }
    thr = exec_get(ldp);
    if (!thr) {
        ldp_unlock(ldp, &c);
        packet_free(pkt);
        dpif_set_error("execute: no packet thread slot free in datapath "
                       "%s", ldp->name);
        return -ENOMEM;
    }
    call_online(&c);
    error = dp_execute(thr, pkt, exec->actions ? exec->actions : "",
                       exec->actions_len, &err);
    qsbr_offline();
    exec_put(ldp, thr);
    ldp_unlock(ldp, &c);
    return pass_error(&err, error);
}

static void
local_operate(struct dpif *dpif, struct dpif_op **ops, size_t n)
{
    struct local_dp *ldp = ldp_of(dpif);

    for (size_t i = 0; i < n; i++) {
        struct dpif_op *op = ops[i];

        switch (op->type) {
        case DPIF_OP_FLOW_PUT:
            op->error = local_flow_put(ldp, &op->u.flow_put);
            break;
        case DPIF_OP_FLOW_DEL:
            op->error = local_flow_del(ldp, &op->u.flow_del);
            break;
        case DPIF_OP_FLOW_GET:
            op->error = local_flow_get(ldp, &op->u.flow_get);
            break;
        case DPIF_OP_EXECUTE:
            op->error = local_execute(ldp, &op->u.execute);
            break;
        default:
            dpif_set_error("unknown operation type %d", (int) op->type);
            op->error = -EINVAL;
            break;
        }
    }
}

static int
local_flow_flush(struct dpif *dpif)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;
    int error = ldp_enter(ldp, false, &c);

    if (!error) {
        dp_flow_flush(ldp->dp);
        ldp_exit(ldp, &c);
    }
    return error;
}

/* ---- Flow dumps. ---- */

static struct dpif_flow_dump *
local_flow_dump_create(const struct dpif *dpif, bool terse)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_dump *dump = calloc(1, sizeof *dump);
    struct local_call c;

    if (!dump) {
        dpif_set_error("out of memory");
        return NULL;
    }
    if (ldp_enter(ldp, false, &c)) {
        free(dump);
        return NULL;
    }
    dump->dd = dp_flow_dump_create(ldp->dp, terse ? LOCAL_OMIT_ALL : 0);
    ldp_exit(ldp, &c);
    if (!dump->dd) {
        free(dump);
        dpif_set_error("out of memory");
        return NULL;
    }
    dump->ldp = ldp;
    dump->terse = terse;
    atomic_init(&dump->error, 0);
    return &dump->up;
}

static int
local_flow_dump_destroy(struct dpif_flow_dump *dump_)
{
    struct local_dump *dump = (struct local_dump *) dump_;
    int error = atomic_load(&dump->error);

    /* Frees the cursor only: safe after the datapath is gone. */
    dp_flow_dump_destroy(dump->dd);
    free(dump);
    if (error) {
        dpif_set_error("the datapath was deleted during the dump");
    }
    return error;
}

static struct dpif_flow_dump_thread *
local_flow_dump_thread_create(struct dpif_flow_dump *dump_)
{
    struct local_dump_thread *t = calloc(1, sizeof *t);

    if (t) {
        t->infos = calloc(LOCAL_DUMP_BATCH, sizeof *t->infos);
        if (!t->infos) {
            free(t);
            t = NULL;
        }
    }
    if (!t) {
        dpif_set_error("out of memory");
        return NULL;
    }
    t->dump = (struct local_dump *) dump_;
    return &t->up;
}

static void
local_flow_dump_thread_destroy(struct dpif_flow_dump_thread *thread)
{
    struct local_dump_thread *t = (struct local_dump_thread *) thread;

    free(t->infos);
    free(t->buf);
    free(t);
}

/* Makes 't->buf' hold at least 'size' bytes.  Returns 0 or -ENOMEM. */
static int
dump_buf_reserve(struct local_dump_thread *t, size_t size)
{
    char *p;

    if (size <= t->size) {
        return 0;
    }
    p = realloc(t->buf, size);
    if (!p) {
        return -ENOMEM;
    }
    t->buf = p;
    t->size = size;
    return 0;
}

static int
local_flow_dump_next(struct dpif_flow_dump_thread *thread,
                     struct dpif_flow *flows, int max)
{
    struct local_dump_thread *t = (struct local_dump_thread *) thread;
    struct local_dump *dump = t->dump;
    struct local_dp *ldp = dump->ldp;
    int64_t (*offsets)[3];
    struct local_call c;
    size_t n, need = 0, ofs = 0;
    int error = 0;

    if (atomic_load(&dump->error)) {
        return 0;
    }
    offsets = malloc(LOCAL_DUMP_BATCH * sizeof *offsets);
    if (!offsets) {
        atomic_store(&dump->error, -ENOMEM);
        return 0;
    }
    if (ldp_enter(ldp, false, &c)) {
        atomic_store(&dump->error, -ENODEV);
        free(offsets);
        return 0;
    }
    n = dp_flow_dump_next(dump->dd, t->infos,
                          max < LOCAL_DUMP_BATCH ? (size_t) max
                                                 : LOCAL_DUMP_BATCH);
    for (size_t i = 0; i < n; i++) {
        struct dp_flow_info *info = &t->infos[i];

        if (dump->terse && !info->has_ufid) {
            /* A flow without UFID is named by its key alone: a terse
             * dump still gives it whole (mask and actions too), fetched
             * again by that key.  If it went meanwhile, the key is all
             * there is. */
            struct dp_flow_req req = { .key = &info->key };
            struct dp_flow_info full;

            if (!dp_flow_get(ldp->dp, &req, &full, NULL)) {
                *info = full;
            }
        }
        need += flow_size(info);
    }
    if (dump_buf_reserve(t, need)) {
        error = -ENOMEM;
    }
    for (size_t i = 0; !error && i < n; i++) {
        error = flow_write(&t->infos[i], t->buf, t->size, &ofs, &flows[i],
                           offsets[i]);
    }
    ldp_exit(ldp, &c);
    if (error) {
        atomic_store(&dump->error, error);
        free(offsets);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        flow_rebase(&flows[i], t->buf, offsets[i]);
    }
    free(offsets);
    return (int) n;
}

/* ---- Upcalls. ---- */

static int
local_handlers_set(struct dpif *dpif, uint32_t n)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_handler *handlers = NULL;
    uint32_t *pids = NULL;
    struct local_call c;
    struct errbuf err;
    int error;

    errbuf_clear(&err);
    if (n > DP_UPCALL_PIDS_MAX) {
        dpif_set_error("%u handlers: at most %d", n, DP_UPCALL_PIDS_MAX);
        return -EINVAL;
    }
    if (n) {
        handlers = calloc(n, sizeof *handlers);
        pids = calloc(n, sizeof *pids);
        if (!handlers || !pids) {
            free(handlers);
            free(pids);
            dpif_set_error("out of memory");
            return -ENOMEM;
        }
    }
    /* For writing: no dpif_recv() runs while the channels change. */
    error = ldp_enter(ldp, true, &c);
    if (error) {
        free(handlers);
        free(pids);
        return error;
    }
    error = dp_handlers_set(ldp->dp, n, &err);
    if (!error) {
        uint32_t features = dp_get_user_features(ldp->dp);

        /* Per-CPU dispatch (dpif.h): each polling thread's misses go to
         * one handler.  Without handlers, back to per-port PIDs (all 0),
         * as the netlink provider does. */
        if (n) {
            features |= OVS_DP_F_DISPATCH_UPCALL_PER_CPU;
        } else {
            features &= ~(uint32_t) OVS_DP_F_DISPATCH_UPCALL_PER_CPU;
        }
        dp_set_user_features(ldp->dp, features);
        if (n) {
            /* The handlers' PIDs are every port's and the per-CPU ones,
             * in handler order. */
            dp_get_upcall_pids_per_cpu(ldp->dp, pids, n);
        }
        handlers_free(ldp->handlers, ldp->n_handlers);
        free(ldp->handler_pids);
        ldp->handlers = handlers;
        ldp->handler_pids = pids;
        ldp->n_handlers = n;
        handlers = NULL;
        pids = NULL;
    }
    ldp_exit(ldp, &c);
    free(handlers);
    free(pids);
    return pass_error(&err, error);
}

static uint32_t
local_handler_pid(const struct dpif *dpif, uint32_t handler_id)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;
    uint32_t pid = 0;

    if (ldp_lock(ldp, false, &c)) {
        return 0;
    }
    if (handler_id < ldp->n_handlers) {
        pid = ldp->handler_pids[handler_id];
    }
    ldp_unlock(ldp, &c);
    return pid;
}

/* Returns -EINVAL with the reason if 'handler_id' is no handler.
 * Context: under the lock. */
static int
check_handler(const struct local_dp *ldp, uint32_t handler_id)
{
    if (handler_id >= ldp->n_handlers) {
        dpif_set_error("no handler %u (%u handlers)", handler_id,
                       ldp->n_handlers);
        return -EINVAL;
    }
    return 0;
}

/* Copies upcall 'up' into handler 'h''s buffer and describes it in
 * 'out'.  Returns 0 or -ENOMEM. */
static int
upcall_convert(const struct dp_upcall *up, struct local_handler *h,
               struct dpif_upcall *out)
{
    char kbuf[MNL_NLMSG_HDRLEN + FKEY_NL_MAX_LEN];
    struct nlmsghdr *k = mnl_nlmsg_put_header(kbuf);
    size_t key_len, need, ofs = 0;
    int64_t at[4];

    if (fkey_to_nl(&up->key, k, sizeof kbuf)) {
        return -EMSGSIZE;
    }
    key_len = k->nlmsg_len - MNL_NLMSG_HDRLEN;
    need = up->packet->len + key_len + up->userdata_len + up->actions_len
           + 16;
    if (need > h->size) {
        char *p = realloc(h->buf, need);

        if (!p) {
            return -ENOMEM;
        }
        h->buf = p;
        h->size = need;
    }
    at[0] = buf_put(h->buf, h->size, &ofs, up->packet->data,
                    up->packet->len);
    at[1] = buf_put(h->buf, h->size, &ofs, mnl_nlmsg_get_payload(k),
                    key_len);
    at[2] = buf_put(h->buf, h->size, &ofs, up->userdata, up->userdata_len);
    at[3] = buf_put(h->buf, h->size, &ofs, up->actions, up->actions_len);
    out->type = up->type == DP_UPCALL_MISS ? DPIF_UC_MISS : DPIF_UC_ACTION;
    out->packet = (char *) h->buf + at[0];
    out->packet_len = up->packet->len;
    out->key = (char *) h->buf + at[1];
    out->key_len = key_len;
    out->userdata = up->userdata ? (char *) h->buf + at[2] : NULL;
    out->userdata_len = up->userdata ? up->userdata_len : 0;
    out->actions = up->actions ? (char *) h->buf + at[3] : NULL;
    out->actions_len = up->actions ? up->actions_len : 0;
    out->in_port = up->key.in_port == FKEY_IN_PORT_NONE ? DPIF_PORT_ANY
                                                        : up->key.in_port;
    out->pid = up->pid;
    return 0;
}

static int
local_recv(struct dpif *dpif, uint32_t handler_id,
           struct dpif_upcall *upcall)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct dp_upcall *up = NULL;
    struct local_call c;
    int error = ldp_enter(ldp, false, &c);

    if (error) {
        return error;
    }
    error = check_handler(ldp, handler_id);
    if (!error) {
        error = dp_recv(ldp->dp, handler_id, &up);
    }
    if (!error) {
        error = upcall_convert(up, &ldp->handlers[handler_id], upcall);
        if (error) {
            dpif_set_error("upcall lost: out of memory");
        }
        dp_upcall_free(up);
    }
    ldp_exit(ldp, &c);
    return error;
}

static int64_t
monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
local_recv_wait(struct dpif *dpif, uint32_t handler_id, int timeout_ms)
{
    struct local_dp *ldp = ldp_of(dpif);
    int64_t deadline = monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 0);

    /* In slices, releasing the lock in between: dpif_delete() and
     * dpif_handlers_set() wait for at most one slice. */
    for (;;) {
        int64_t left = timeout_ms < 0 ? LOCAL_WAIT_SLICE_MS
                                      : deadline - monotonic_ms();
        struct local_call c;
        int error;

        if (left < 0) {
            left = 0;
        }
        error = ldp_enter(ldp, false, &c);
        if (error) {
            return error;
        }
        error = check_handler(ldp, handler_id);
        if (!error) {
            error = dp_recv_wait(ldp->dp, handler_id,
                                 left < LOCAL_WAIT_SLICE_MS
                                 ? (int) left : LOCAL_WAIT_SLICE_MS);
        }
        ldp_exit(ldp, &c);
        if (error != -ETIMEDOUT) {
            return error;
        }
        if (timeout_ms >= 0 && monotonic_ms() >= deadline) {
            return -ETIMEDOUT;
        }
    }
}

static int
local_recv_fd(struct dpif *dpif, uint32_t handler_id)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;
    int error = ldp_lock(ldp, false, &c);

    if (error) {
        return error;
    }
    error = check_handler(ldp, handler_id);
    if (!error) {
        error = dp_recv_fd(ldp->dp, handler_id);
    }
    ldp_unlock(ldp, &c);
    return error;
}

static void
local_recv_purge(struct dpif *dpif)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;

    if (!ldp_enter(ldp, false, &c)) {
        dp_recv_purge(ldp->dp);
        ldp_exit(ldp, &c);
    }
}

const struct dpif_class dpif_local_class = {
    .type = "local",
    .open = local_open,
    .close = local_close,
    .destroy = local_destroy,
    .enumerate = local_enumerate,
    .get_stats = local_get_stats,
    .get_features = local_get_features,
    .set_features = local_set_features,
    .port_add = local_port_add,
    .port_del = local_port_del,
    .port_query = local_port_query,
    .port_get_stats = local_port_get_stats,
    .port_dump_start = local_port_dump_start,
    .port_dump_next = local_port_dump_next,
    .port_dump_done = local_port_dump_done,
    .port_poll = local_port_poll,
    .port_poll_fd = local_port_poll_fd,
    .operate = local_operate,
    .flow_flush = local_flow_flush,
    .flow_dump_create = local_flow_dump_create,
    .flow_dump_destroy = local_flow_dump_destroy,
    .flow_dump_thread_create = local_flow_dump_thread_create,
    .flow_dump_thread_destroy = local_flow_dump_thread_destroy,
    .flow_dump_next = local_flow_dump_next,
    .handlers_set = local_handlers_set,
    .handler_pid = local_handler_pid,
    .recv = local_recv,
    .recv_wait = local_recv_wait,
    .recv_fd = local_recv_fd,
    .recv_purge = local_recv_purge,
};
