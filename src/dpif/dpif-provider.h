/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DPIF_DPIF_PROVIDER_H
#define WEIR_DPIF_DPIF_PROVIDER_H 1

/* The dpif provider interface: what a datapath implementation supplies
 * behind include/weir/dpif.h.  dpif.c checks arguments, keeps the last
 * error text, and calls these; every member below is required and has the
 * contract of the dpif.h function of the same name unless it says
 * otherwise.  Providers embed the base structs first in their own. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir/dpif.h"

struct dpif_class {
    const char *type;           /* "local", "netlink". */

    /* Opens (creating if 'create') datapath 'name' (already checked: 1..15
     * bytes).  The provider fills the base 'struct dpif'. */
    int (*open)(const struct dpif_class *cls, const char *name, bool create,
                struct dpif **dpifp);
    void (*close)(struct dpif *dpif);
    int (*destroy)(struct dpif *dpif);          /* dpif_delete(). */
    int (*enumerate)(void (*cb)(const char *name, void *aux), void *aux);

    int (*get_stats)(const struct dpif *dpif, struct dpif_dp_stats *stats);
    int (*get_features)(const struct dpif *dpif, uint32_t *features);
    int (*set_features)(struct dpif *dpif, uint32_t features);

    int (*port_add)(struct dpif *dpif, const char *name, const char *type,
                    const char *options, uint32_t *port_no);
    int (*port_del)(struct dpif *dpif, uint32_t port_no);
    /* By number if 'name' is NULL, else by name. */
    int (*port_query)(const struct dpif *dpif, uint32_t port_no,
                      const char *name, struct dpif_port *port);
    int (*port_get_stats)(const struct dpif *dpif, uint32_t port_no,
                          struct dpif_port_stats *stats);
    /* Port dumps: start returns 0 and a state; next returns 1 with a port,
     * 0 at the end, or -errno; done frees the state. */
    int (*port_dump_start)(const struct dpif *dpif, void **statep);
    int (*port_dump_next)(const struct dpif *dpif, void *state,
                          struct dpif_port *port);
    void (*port_dump_done)(const struct dpif *dpif, void *state);
    int (*port_poll)(const struct dpif *dpif, char **name);
    int (*port_poll_fd)(const struct dpif *dpif);
    /* 'options' already checked: not NULL, shorter than
     * DPIF_OPTIONS_MAX. */
    int (*port_set_options)(struct dpif *dpif, uint32_t port_no,
                            const char *options);

    /* Every op's 'error' must be set. */
    void (*operate)(struct dpif *dpif, struct dpif_op **ops, size_t n);
    int (*flow_flush)(struct dpif *dpif);

    /* Returns 0 and '*dumpp' (dpif.c fills the base), or -errno with the
     * reason set. */
    int (*flow_dump_create)(const struct dpif *dpif, bool terse,
                            struct dpif_flow_dump **dumpp);
    int (*flow_dump_destroy)(struct dpif_flow_dump *dump);
    struct dpif_flow_dump_thread *(*flow_dump_thread_create)(
        struct dpif_flow_dump *dump);
    void (*flow_dump_thread_destroy)(struct dpif_flow_dump_thread *thread);
    int (*flow_dump_next)(struct dpif_flow_dump_thread *thread,
                          struct dpif_flow *flows, int max);

    int (*handlers_set)(struct dpif *dpif, uint32_t n);
    uint32_t (*handler_pid)(const struct dpif *dpif, uint32_t handler_id);
    int (*recv)(struct dpif *dpif, uint32_t handler_id,
                struct dpif_upcall *upcall);
    int (*recv_wait)(struct dpif *dpif, uint32_t handler_id, int timeout_ms);
    int (*recv_fd)(struct dpif *dpif, uint32_t handler_id);
    void (*recv_purge)(struct dpif *dpif);

    /* Monitors.  The provider allocates its monitor, with the base
     * 'struct dpif_monitor' first; dpif.c sets 'cls'.  monitor_next()
     * gets a zeroed 'event' and returns 0 with an event, -EAGAIN, or
     * another -errno of dpif_monitor_next(); it reports NLMSG_OVERRUN or
     * a full queue as a DPIF_EV_LOST event. */
    int (*monitor_create)(const struct dpif_class *cls,
                          struct dpif_monitor **monp);
    int (*monitor_next)(struct dpif_monitor *mon, struct dpif_event *event,
                        int timeout_ms);
    int (*monitor_fd)(const struct dpif_monitor *mon);
    void (*monitor_destroy)(struct dpif_monitor *mon);
};

/* Base of every provider's dpif (dpif.c fills it after open()). */
struct dpif {
    const struct dpif_class *cls;
    char name[DPIF_NAME_MAX];
    unsigned int fork_gen;      /* The process's fork count at open: see
                                 * dpif.c, "fork()". */
};

struct dpif_flow_dump {
    const struct dpif *dpif;
    bool terse;
};

struct dpif_flow_dump_thread {
    struct dpif_flow_dump *dump;
};

/* Base of every provider's monitor (dpif.c fills it after
 * monitor_create()). */
struct dpif_monitor {
    const struct dpif_class *cls;
    unsigned int fork_gen;      /* As struct dpif's. */
};

extern const struct dpif_class dpif_local_class;       /* dpif-local.c */
extern const struct dpif_class dpif_netlink_class;     /* dpif-netlink.c */

/* Sets the calling thread's last error text (dpif_last_error()). */
void dpif_set_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif /* dpif/dpif-provider.h */
