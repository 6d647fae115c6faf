/* SPDX-License-Identifier: Apache-2.0 */

/* The registry of the server's datapaths: lookups by ifindex and by name,
 * creation and destruction (with the connections' upcall channels, which
 * the core opens and closes through genl_conns_dp_added() and
 * genl_conns_dp_removed()), the vport records' index, and the state
 * restore entry points of genl.h (genl_server_dp_create(),
 * genl_server_port_add(), genl_server_walk()).
 *
 * Each datapath gets the local port type of the server's configuration;
 * its dp_ifindex is that port's kernel ifindex (a TAP device) or, when the
 * port has none (dummy), a made-up one counting up from 0x7f000000.  The
 * list is kept in creation order, which is the order of datapath dumps.
 *
 * genl_dp_destroy() frees 'vports' and each record's 'options' with
 * free(), so genl-vport.c allocates them with malloc()/strdup(), and
 * destroys genl-packet.c's 'exec_thr' before the datapath (every
 * dp_thread must be gone before dp_destroy()).
 *
 * The state restore entry points do not call the 'changed' callback: the
 * daemon restoring its state file knows.  A port restored by provider name
 * ("afpacket", "tap", ...) is added as if a client had named that provider
 * with WEIR_VPORT_OPT_PROVIDER (under dpif type "internal" for "tap", else
 * "system"), which is also how genl_server_walk() reports such a port, so
 * a state file round-trips. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp/dp.h"
#include "dp/pmd.h"
#include "genl/genl-private.h"
#include "lib/errbuf.h"
#include "lib/log.h"
#include "lib/rcu.h"
#include "port/port.h"

#define GENL_MADE_UP_IFINDEX 0x7f000000u

void
genl_registry_init(struct genl_registry *reg)
{
    reg->dps = NULL;
    reg->next_ifindex = GENL_MADE_UP_IFINDEX;
}

struct genl_dp *
genl_dp_by_ifindex(struct genl_server *srv, uint32_t ifindex)
{
    struct genl_dp *gdp = genl_server_registry(srv)->dps;

    for (; gdp; gdp = gdp->next) {
        if (gdp->ifindex == ifindex) {
            return gdp;
        }
    }
    return NULL;
}

struct genl_dp *
genl_dp_by_name(struct genl_server *srv, const char *name)
{
    struct genl_dp *gdp = genl_server_registry(srv)->dps;

    for (; gdp; gdp = gdp->next) {
        if (!strcmp(gdp->name, name)) {
            return gdp;
        }
    }
    return NULL;
}

struct genl_dp *
genl_dp_next(struct genl_server *srv, const struct genl_dp *prev)
{
    return prev ? prev->next : genl_server_registry(srv)->dps;
}

struct genl_dp *
genl_dp_at(struct genl_server *srv, uint64_t i)
{
    struct genl_dp *gdp = genl_server_registry(srv)->dps;

    while (gdp && i--) {
        gdp = gdp->next;
    }
    return gdp;
}

struct genl_vport *
genl_dp_vport(struct genl_dp *gdp, uint32_t port_no)
{
    size_t lo = 0, hi = gdp->n_vports;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (gdp->vports[mid].port_no == port_no) {
            return &gdp->vports[mid];
        } else if (gdp->vports[mid].port_no < port_no) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

/* Destroys the engine datapath of a half-made or unlinked 'gdp'. */
static void
genl_dp_free(struct genl_dp *gdp)
{
    for (size_t i = 0; i < gdp->n_vports; i++) {
        free(gdp->vports[i].options);
    }
    free(gdp->vports);
    /* genl-packet.c's thread state for OVS_PACKET_CMD_EXECUTE: every
     * dp_thread must be gone before the datapath. */
    if (gdp->exec_thr) {
        dp_thread_destroy(gdp->exec_thr);
        gdp->exec_thr = NULL;
    }
    if (gdp->dp) {
        qsbr_offline();
        dp_destroy(gdp->dp);
        qsbr_online();
    }
    free(gdp);
}

int
genl_dp_create(struct genl_server *srv, const char *name,
               uint32_t features, uint32_t upcall_pid,
               struct genl_dp **gdpp, struct errbuf *err)
{
    const struct genl_config *cfg = genl_server_config(srv);
    struct genl_registry *reg = genl_server_registry(srv);
    uint32_t n_pmd = cfg->pmd_threads ? cfg->pmd_threads : 1;
    struct dp_pmd_config pmd;
    struct dp_config dcfg;
    struct port_info info;
    struct genl_dp *gdp, **pp;
    struct port *local;
    int error;

    if (genl_dp_by_name(srv, name)) {
        errbuf_set(err, "a datapath named '%s' exists", name);
        return -EEXIST;
    }
    gdp = calloc(1, sizeof *gdp);
    if (gdp) {
        gdp->vports = calloc(1, sizeof *gdp->vports);
        gdp->masks_cache_size = GENL_MASKS_CACHE_DEFAULT;
    }
    if (!gdp || !gdp->vports) {
        free(gdp);
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }

    memset(&dcfg, 0, sizeof dcfg);
    dcfg.max_threads = n_pmd + 4 > 8 ? n_pmd + 4 : 8;
    dcfg.flow_limit = cfg->flow_limit;
    /* The local port of a TAP local type is an internal device: it
     * starts down, as the kernel module's does. */
    dcfg.local_type = (cfg->local_type && !strcmp(cfg->local_type, "tap")
                       ? "internal" : cfg->local_type);
    error = dp_create(name, &dcfg, &gdp->dp, err);
    if (error) {
        gdp->dp = NULL;
        genl_dp_free(gdp);
        return error;
    }
    snprintf(gdp->name, sizeof gdp->name, "%s", name);

    /* The local port's device names the datapath in every ovs_header. */
    local = dp_port_get(gdp->dp, DP_LOCAL_PORT);
    memset(&info, 0, sizeof info);
    if (local) {
        port_get_info(local, &info);
    }
    gdp->ifindex = info.ifindex > 0 ? (uint32_t) info.ifindex
                                    : reg->next_ifindex++;
    gdp->n_vports = 1;
    gdp->vports[0].port_no = DP_LOCAL_PORT;
    gdp->vports[0].ovs_type = OVS_VPORT_TYPE_INTERNAL;
    snprintf(gdp->vports[0].dpif_type, sizeof gdp->vports[0].dpif_type,
             "internal");
    snprintf(gdp->vports[0].provider, sizeof gdp->vports[0].provider,
             "%s", local ? port_type(local) : cfg->local_type);

    memset(&pmd, 0, sizeof pmd);
    pmd.n_threads = n_pmd;
    pmd.cpus = cfg->pmd_cpus;
    error = dp_pmd_configure(gdp->dp, &pmd, err);
    if (!error && upcall_pid) {
        error = dp_port_set_upcall_pids(gdp->dp, DP_LOCAL_PORT,
                                        &upcall_pid, 1);
        if (error) {
            errbuf_set(err, "cannot set the local port's upcall PID");
        }
    }
    if (error) {
        genl_dp_free(gdp);
        return error;
    }
    dp_set_user_features(gdp->dp, features);

    /* Appended: creation order is the order of dumps. */
    pp = &reg->dps;
    while (*pp) {
        pp = &(*pp)->next;
    }
    *pp = gdp;

    genl_conns_dp_added(srv, gdp);
    wlog("genl", WLOG_INFO, "datapath %s created (ifindex %" PRIu32 ")",
         gdp->name, gdp->ifindex);
    *gdpp = gdp;
    return 0;
}

void
genl_dp_destroy(struct genl_server *srv, struct genl_dp *gdp)
{
    struct genl_dp **pp;

    if (!gdp) {
        return;
    }
    for (pp = &genl_server_registry(srv)->dps; *pp; pp = &(*pp)->next) {
        if (*pp == gdp) {
            *pp = gdp->next;
            break;
        }
    }
    genl_conns_dp_removed(srv, gdp);
    wlog("genl", WLOG_INFO, "datapath %s destroyed", gdp->name);
    genl_dp_free(gdp);
}

/* ---- State restore (genl.h). ---- */

int
genl_server_dp_create(struct genl_server *srv, const char *name,
                      uint32_t features, struct errbuf *err)
{
    struct genl_dp *gdp;

    return genl_dp_create(srv, name, features, 0, &gdp, err);
}

int
genl_server_port_add(struct genl_server *srv, const char *dp_name,
                     const char *name, const char *type,
                     const char *options, uint32_t *port_no,
                     struct errbuf *err)
{
    struct genl_dp *gdp = genl_dp_by_name(srv, dp_name);
    const char *dpif_type = type;
    const char *provider = NULL;

    if (!gdp) {
        errbuf_set(err, "no datapath named '%s'", dp_name);
        return -ENODEV;
    }
    /* A provider name stands for itself, under the dpif type a client
     * would have used with WEIR_VPORT_OPT_PROVIDER. */
    if (strcmp(type, "system") && strcmp(type, "internal")) {
        provider = type;
        dpif_type = strcmp(type, "tap") ? "system" : "internal";
    }
    return genl_vport_add(srv, gdp, name, dpif_type, provider, options,
                          NULL, 0, port_no, err);
}

void
genl_server_walk(struct genl_server *srv,
                 void (*dp_cb)(const char *name, uint32_t features,
                               void *aux),
                 void (*port_cb)(const char *dp_name, const char *name,
                                 const char *type, const char *options,
                                 uint32_t port_no, void *aux),
                 void *aux)
{
    for (struct genl_dp *gdp = genl_dp_next(srv, NULL); gdp;
         gdp = gdp->next) {
        if (dp_cb) {
            dp_cb(gdp->name, dp_get_user_features(gdp->dp), aux);
        }
        for (size_t i = 0; port_cb && i < gdp->n_vports; i++) {
            const struct genl_vport *v = &gdp->vports[i];
            struct port *port;

            if (v->port_no == DP_LOCAL_PORT) {
                continue;
            }
            port = dp_port_get(gdp->dp, v->port_no);
            if (!port) {
                continue;
            }
            port_cb(gdp->name, port->name,
                    v->explicit_provider ? v->provider : v->dpif_type,
                    v->options, v->port_no, aux);
        }
    }
}
