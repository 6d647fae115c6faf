/* SPDX-License-Identifier: Apache-2.0 */
/* dpif provider "local": datapaths in this process.  This file: the
 * registry, datapaths, ports, port changes, the class; the others are
 * named in dpif-local-private.h.  The design is in dpif/dpif-local.h. */

#include "dpif/dpif-local-private.h"

#include <errno.h>
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

#include "dp/dp.h"
#include "dp/pmd.h"
#include "lib/errbuf.h"
#include "lib/rcu.h"
#include "port/port.h"

#define LOCAL_PMD_THREADS 1

/* User features of a new datapath. */
#define LOCAL_CREATE_FEATURES (OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS)

/* OVS_DP_ATTR_MASKS_CACHE_SIZE as the kernel (and weird) report it for a
 * new datapath.  weir's datapath has a per-thread exact-match cache
 * instead of the kernel's per-CPU mask cache, so the size changes
 * nothing; it is reported so that both providers say the same. */
#define LOCAL_MASKS_CACHE_SIZE 256

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

void
dpif_local_call_begin(struct local_call *c)
{
    c->was_online = rcu_read_ongoing();
    if (c->was_online) {
        qsbr_offline();
    }
}

void
dpif_local_call_online(struct local_call *c)
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

void
dpif_local_call_end(struct local_call *c)
{
    if (c->was_online) {
        qsbr_online();
    }
}

int
dpif_local_lock(struct local_dp *ldp, bool exclusive, struct local_call *c)
{
    dpif_local_call_begin(c);
    if (exclusive) {
        pthread_rwlock_wrlock(&ldp->lock);
    } else {
        pthread_rwlock_rdlock(&ldp->lock);
    }
    if (!ldp->dp) {
        pthread_rwlock_unlock(&ldp->lock);
        dpif_local_call_end(c);
        dpif_set_error("datapath %s was deleted", ldp->name);
        return -ENODEV;
    }
    return 0;
}

void
dpif_local_unlock(struct local_dp *ldp, struct local_call *c)
{
    pthread_rwlock_unlock(&ldp->lock);
    dpif_local_call_end(c);
}

int
dpif_local_enter(struct local_dp *ldp, bool exclusive, struct local_call *c)
{
    int error = dpif_local_lock(ldp, exclusive, c);

    if (!error) {
        dpif_local_call_online(c);
    }
    return error;
}

void
dpif_local_exit(struct local_dp *ldp, struct local_call *c)
{
    qsbr_offline();
    dpif_local_unlock(ldp, c);
}

int
dpif_local_pass_error(const struct errbuf *err, int error)
{
    if (error < 0 && errbuf_is_set(err)) {
        dpif_set_error("%s", err->msg);
    }
    return error;
}

int64_t
dpif_local_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
dpif_local_buf_put(char *buf, size_t size, size_t *ofs, const void *p,
                   size_t len)
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

/* ---- Port records and changes. ---- */

/* Records that port 'port_no' was added with 'type' and 'options' (NULL:
 * none).  Context: the port mutex held. */
static void
recs_set(struct local_dp *ldp, uint32_t port_no, const char *type,
         const char *options)
{
    struct local_port_rec *rec = NULL;

    wmutex_lock(&ldp->recs_mutex);
    for (size_t i = 0; i < ldp->n_recs; i++) {
        if (ldp->recs[i].port_no == port_no) {
            rec = &ldp->recs[i];
        }
    }
    if (!rec && ldp->n_recs == ldp->max_recs) {
        size_t max = ldp->max_recs ? 2 * ldp->max_recs : 8;
        struct local_port_rec *r = realloc(ldp->recs, max * sizeof *r);

        if (!r) {
            /* The port then reports its provider's name, no options. */
            wmutex_unlock(&ldp->recs_mutex);
            return;
        }
        ldp->recs = r;
        ldp->max_recs = max;
    }
    if (!rec) {
        rec = &ldp->recs[ldp->n_recs++];
    }
    rec->port_no = port_no;
    snprintf(rec->type, sizeof rec->type, "%s", type);
    /* dpif.c checked that the options fit. */
    snprintf(rec->options, sizeof rec->options, "%s",
             options ? options : "");
    wmutex_unlock(&ldp->recs_mutex);
}

static void
recs_del(struct local_dp *ldp, uint32_t port_no)
{
    wmutex_lock(&ldp->recs_mutex);
    for (size_t i = 0; i < ldp->n_recs; i++) {
        if (ldp->recs[i].port_no == port_no) {
            ldp->recs[i] = ldp->recs[--ldp->n_recs];
            break;
        }
    }
    wmutex_unlock(&ldp->recs_mutex);
}

/* Copies the type and options port 'port_no' was added with into 'out';
 * the local port is "internal"; a port not recorded reports its
 * provider and no options. */
static void
recs_get(struct local_dp *ldp, uint32_t port_no, const struct port *port,
         struct dpif_port *out)
{
    snprintf(out->type, sizeof out->type, "%s",
             port_no == DP_LOCAL_PORT ? "internal" : port_type(port));
    out->options[0] = '\0';
    wmutex_lock(&ldp->recs_mutex);
    for (size_t i = 0; i < ldp->n_recs; i++) {
        if (ldp->recs[i].port_no == port_no) {
            memcpy(out->type, ldp->recs[i].type, sizeof out->type);
            memcpy(out->options, ldp->recs[i].options,
                   sizeof out->options);
            break;
        }
    }
    wmutex_unlock(&ldp->recs_mutex);
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
    dpif_local_call_begin(&c);
    wmutex_lock(&registry_mutex);
    snprintf(local_port_type, sizeof local_port_type, "%s",
             type ? type : "tap");
    wmutex_unlock(&registry_mutex);
    dpif_local_call_end(&c);
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
    wmutex_destroy(&ldp->recs_mutex);
    wmutex_destroy(&ldp->exec_mutex);
    pthread_cond_destroy(&ldp->exec_cond);
    wmutex_destroy(&ldp->poll_mutex);
    free(ldp->recs);
    free(ldp);
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
    wmutex_init(&ldp->recs_mutex);
    wmutex_init(&ldp->exec_mutex);
    pthread_cond_init(&ldp->exec_cond, NULL);
    wmutex_init(&ldp->poll_mutex);

    dpif_local_call_online(c);
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
        return dpif_local_pass_error(&err, error);
    }
    ldp->next = registry;
    registry = ldp;
    /* Under the registry mutex: before any event of a change that
     * another open of the new datapath makes. */
    dpif_local_emit_dp(DPIF_EV_NEW, name);
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

    dpif_local_call_begin(&c);
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
    dpif_local_call_end(&c);

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

    /* The handlers first, while the dpif is still on the datapath's list:
     * a dpif_delete() that ran before took them already. */
    if (!dpif_local_lock(ldp, true, &c)) {
        dpif_local_handlers_free(ld->handlers, ld->n_handlers, true);
        ld->handlers = NULL;
        ld->n_handlers = 0;
        dpif_local_unlock(ldp, &c);
    }

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
    dpif_local_call_begin(&c);
    wmutex_lock(&registry_mutex);
    free_ldp = !--ldp->n_opens && ldp->deleted;
    wmutex_unlock(&registry_mutex);
    dpif_local_call_end(&c);
    if (free_ldp) {
        ldp_free(ldp);
    }
    free(ld->changes);
    close(ld->poll_fd);
    free(ld);
}

static int
local_destroy(struct dpif *dpif)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;
    int error = dpif_local_lock(ldp, true, &c);

    if (error) {
        return error;
    }
    /* Every dpif's handlers go with the datapath: dp_destroy() frees
     * their channels.  The write lock keeps their calls out. */
    wmutex_lock(&ldp->poll_mutex);
    for (struct local_dpif *ld = ldp->dpifs; ld; ld = ld->next) {
        dpif_local_handlers_free(ld->handlers, ld->n_handlers, false);
        ld->handlers = NULL;
        ld->n_handlers = 0;
    }
    wmutex_unlock(&ldp->poll_mutex);
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
    dpif_local_exec_pool_destroy(ldp);
    dp_destroy(ldp->dp);
    ldp->dp = NULL;
    /* Before the NEW of a datapath of the same name. */
    dpif_local_emit_dp(DPIF_EV_DEL, ldp->name);
    wmutex_unlock(&registry_mutex);
    dpif_local_unlock(ldp, &c);
    return 0;
}

static int
local_enumerate(void (*cb)(const char *name, void *aux), void *aux)
{
    char (*names)[DPIF_NAME_MAX] = NULL;
    size_t n = 0, max = 0;
    struct local_call c;
    int error = 0;

    dpif_local_call_begin(&c);
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
    dpif_local_call_end(&c);
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
    int error = dpif_local_enter(ldp, false, &c);

    if (error) {
        return error;
    }
    dp_get_stats(ldp->dp, &s);
    dpif_local_exit(ldp, &c);
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
    int error = dpif_local_lock(ldp, false, &c);

    if (!error) {
        *features = dp_get_user_features(ldp->dp);
        dpif_local_unlock(ldp, &c);
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
    error = dpif_local_lock(ldp, false, &c);
    if (!error) {
        dp_set_user_features(ldp->dp, features);
        dpif_local_emit_dp(DPIF_EV_SET, ldp->name);
        dpif_local_unlock(ldp, &c);
    }
    return error;
}

/* ---- Ports. ---- */

static int
local_port_add(struct dpif *dpif, const char *name, const char *type,
               const char *options, uint32_t *port_no)
{
    struct local_dpif *ld = local_dpif_cast(dpif);
    struct local_dp *ldp = ld->ldp;
    struct dpif_port added;
    bool monitored = false;
    struct local_call c;
    struct errbuf err;
    uint32_t no = *port_no;
    uint32_t *pids;
    size_t n_pids = 0;
    int error;

    errbuf_clear(&err);
    pids = malloc(DP_UPCALL_PIDS_MAX * sizeof *pids);
    if (!pids) {
        dpif_set_error("out of memory");
        return -ENOMEM;
    }
    error = dpif_local_lock(ldp, false, &c);
    if (error) {
        free(pids);
        return error;
    }
    /* The new port's upcall PIDs: this dpif's handlers', as the netlink
     * provider sends them with the port (none: 0, which a new port of
     * the datapath has). */
    n_pids = dpif_local_handler_pids(ld, pids);
    /* One add or delete at a time keeps the port records, and the order
     * of the port events, in step with the ports.  Taken offline:
     * dp_port_del() waits for a grace period. */
    wmutex_lock(&ldp->port_mutex);
    dpif_local_call_online(&c);
    error = dp_port_add(ldp->dp, type, name, options, &no, &err);
    if (!error && n_pids) {
        error = dp_port_set_upcall_pids(ldp->dp, no, pids, n_pids);
        if (error) {
            /* Only memory can run out: the port goes again. */
            dp_port_del(ldp->dp, no);
            errbuf_set(&err, "out of memory for the port's upcall PIDs");
        }
    }
    if (!error) {
        recs_set(ldp, no, type, options);
        *port_no = no;
        monitored = dpif_local_monitored()
                    && !dpif_local_port_fill(ldp, no, &added);
    }
    qsbr_offline();
    if (monitored) {
        dpif_local_emit_port(DPIF_EV_NEW, ldp->name, &added);
    }
    wmutex_unlock(&ldp->port_mutex);
    dpif_local_unlock(ldp, &c);
    free(pids);
    if (!error) {
        ports_changed(ldp, name);
    }
    return dpif_local_pass_error(&err, error);
}

static int
local_port_del(struct dpif *dpif, uint32_t port_no)
{
    struct local_dp *ldp = ldp_of(dpif);
    char name[DPIF_NAME_MAX] = "";
    struct dpif_port as_was;
    struct local_call c;
    struct port *port;
    bool monitored;
    int error;

    if (port_no == DP_LOCAL_PORT) {
        dpif_set_error("the local port cannot be deleted");
        return -EINVAL;
    }
    error = dpif_local_lock(ldp, false, &c);
    if (error) {
        return error;
    }
    wmutex_lock(&ldp->port_mutex);
    dpif_local_call_online(&c);
    port = dp_port_get(ldp->dp, port_no);
    monitored = port && dpif_local_monitored()
                && !dpif_local_port_fill(ldp, port_no, &as_was);
    if (port) {
        snprintf(name, sizeof name, "%s", port->name);
        error = dp_port_del(ldp->dp, port_no);
    } else {
        error = -ENOENT;
    }
    qsbr_offline();
    if (!error) {
        recs_del(ldp, port_no);
        if (monitored) {
            dpif_local_emit_port(DPIF_EV_DEL, ldp->name, &as_was);
        }
    }
    wmutex_unlock(&ldp->port_mutex);
    dpif_local_unlock(ldp, &c);
    if (error == -ENOENT) {
        dpif_set_error("no port %u", port_no);
    } else if (!error) {
        ports_changed(ldp, name);
    }
    return error;
}

int
dpif_local_port_fill(struct local_dp *ldp, uint32_t port_no,
                     struct dpif_port *out)
{
    struct port *port = dp_port_get(ldp->dp, port_no);
    struct port_info info;

    if (!port) {
        return -ENOENT;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", port->name);
    recs_get(ldp, port_no, port, out);
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
    int error = dpif_local_enter(ldp, false, &c);

    if (error) {
        return error;
    }
    if (name) {
        int64_t no = dp_port_by_name(ldp->dp, name);

        error = no < 0 ? -ENOENT
                       : dpif_local_port_fill(ldp, (uint32_t) no, port);
    } else {
        error = dpif_local_port_fill(ldp, port_no, port);
    }
    dpif_local_exit(ldp, &c);
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
    int error = dpif_local_enter(ldp, false, &c);

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
    dpif_local_exit(ldp, &c);
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
local_port_set_options(struct dpif *dpif, uint32_t port_no,
                       const char *options)
{
    struct local_dp *ldp = ldp_of(dpif);
    struct local_call c;
    bool exists;
    int error = dpif_local_enter(ldp, false, &c);

    (void) options;
    if (error) {
        return error;
    }
    exists = dp_port_get(ldp->dp, port_no) != NULL;
    dpif_local_exit(ldp, &c);
    if (!exists) {
        dpif_set_error("no port %u", port_no);
        return -ENOENT;
    }
    /* A port provider takes its options when it opens; the words are
     * weird's for the same request. */
    dpif_set_error("the options of port %u cannot be changed: delete and "
                   "add it again", port_no);
    return -EOPNOTSUPP;
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
    int ret = dpif_local_enter(ldp, false, &c);

    if (ret) {
        return ret;
    }
    for (;;) {
        uint32_t no;

        if (!dp_port_list(ldp->dp, cursor, &no, 1)) {
            ret = 0;
            break;
        }
        if (!dpif_local_port_fill(ldp, no, port)) {
            ret = 1;
            break;
        }
    }
    dpif_local_exit(ldp, &c);
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
    .port_set_options = local_port_set_options,
    .operate = dpif_local_operate,
    .flow_flush = dpif_local_flow_flush,
    .flow_dump_create = dpif_local_flow_dump_create,
    .flow_dump_destroy = dpif_local_flow_dump_destroy,
    .flow_dump_thread_create = dpif_local_flow_dump_thread_create,
    .flow_dump_thread_destroy = dpif_local_flow_dump_thread_destroy,
    .flow_dump_next = dpif_local_flow_dump_next,
    .handlers_set = dpif_local_handlers_set,
    .handler_pid = dpif_local_handler_pid,
    .recv = dpif_local_recv,
    .recv_wait = dpif_local_recv_wait,
    .recv_fd = dpif_local_recv_fd,
    .recv_purge = dpif_local_recv_purge,
    .monitor_create = dpif_local_monitor_create,
    .monitor_next = dpif_local_monitor_next,
    .monitor_fd = dpif_local_monitor_fd,
    .monitor_destroy = dpif_local_monitor_destroy,
};
