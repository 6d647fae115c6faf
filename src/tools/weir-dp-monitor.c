/* SPDX-License-Identifier: Apache-2.0 */
/* "weir dp monitor [DP]": one line per datapath, port and flow event,
 * from the multicast groups of ovs_datapath, ovs_vport and ovs_flow, until
 * SIGINT or SIGTERM (exit 0) or until weird goes away (exit 1).
 *
 *   dp new system@dp0
 *   port new system@dp0: port 1: p1 (dummy)
 *   flow new system@dp0: ufid:..., in_port(1),..., packets:0, bytes:0,
 *       used:never, actions:2          (one line)
 *   flow del system@dp0: ...           (with the final statistics)
 *   events lost                        (weird dropped events: the monitor
 *                                       fell behind)
 *
 * The operation is the netlink command: new, del or set.  After "DP: " a
 * port prints as in "show", a flow as in "dump-flows -m" but always with
 * its UFID (when it has one) and, unless -m, without wildcarded fields.
 * With --json each event is one JSON object on a line of its own (schema
 * in man/weir.1).  The events come from a dpif monitor of the "netlink"
 * provider (include/weir/dpif.h). */

#include "tools/weir-dp.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/text.h"
#include "tools/weir.h"

struct monitor {
    const struct dp_opts *o;
    const char *only;           /* Datapath name to show, or NULL. */
    struct sbuf line;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
    (void) sig;
    stop = 1;
}

static void
print_event(const struct dpif_event *ev, struct monitor *m)
{
    static const char *const kinds[] = { "dp", "port", "flow", "lost" };
    static const char *const ops[] = { "new", "del", "set" };
    const struct dp_opts *o = m->o;
    char dpname[DPIF_NAME_MAX + 16];
    const char *op = ops[ev->op];
    struct sbuf *sb = &m->line;

    if (ev->kind != DPIF_EV_LOST && m->only
        && strcmp(ev->dp_name, m->only)) {
        return;
    }
    /* A datapath whose name weird could not say any more (gone while
     * events were lost) prints as "system@?". */
    snprintf(dpname, sizeof dpname, "system@%s",
             ev->dp_name[0] ? ev->dp_name : "?");

    sbuf_clear(sb);
    if (o->json) {
        struct dp_json j;

        dp_json_init(&j, sb);
        dp_json_open(&j, NULL, '{');
        dp_json_str(&j, "event", kinds[ev->kind]);
        if (ev->kind != DPIF_EV_LOST) {
            dp_json_str(&j, "op", op);
            dp_json_str(&j, "datapath", dpname);
        }
        if (ev->kind == DPIF_EV_PORT) {
            dp_json_open(&j, "port", '{');
            dp_json_port_members(&j, &ev->port);
            dp_json_close(&j, '}');
        } else if (ev->kind == DPIF_EV_FLOW) {
            dp_json_flow(&j, "flow", &ev->flow, o->more > 0, NULL,
                         dp_now_ms());
        }
        dp_json_close(&j, '}');
    } else if (ev->kind == DPIF_EV_LOST) {
        sbuf_put(sb, "events lost");
        fprintf(stderr, "weir: weird dropped events for this monitor (it "
                "did not read fast enough)\n");
    } else {
        sbuf_printf(sb, "%s %s %s", kinds[ev->kind], op, dpname);
        if (ev->kind == DPIF_EV_PORT) {
            sbuf_put(sb, ": ");
            dp_format_port(&ev->port, sb);
        } else if (ev->kind == DPIF_EV_FLOW) {
            sbuf_put(sb, ": ");
            dp_format_flow(&ev->flow, o->more > 0, true, NULL, dp_now_ms(),
                           sb);
        }
    }
    puts(sbuf_str(sb));
    fflush(stdout);
}

int
dp_cmd_monitor(int argc, char *argv[], const struct dp_opts *o)
{
    struct monitor m = { .o = o };
    struct dpif_monitor *mon;
    char only[DPIF_NAME_MAX];
    struct sigaction sa;
    int status = WEIR_EXIT_OK;
    int error;

    if (argc && !dp_parse_name(argv[0], only)) {
        return WEIR_EXIT_ERROR;
    }
    /* Join first, then look: a datapath made in between is seen. */
    error = dpif_monitor_create("netlink", &mon);
    if (error) {
        if (dp_is_unreachable(error)) {
            return dp_unreachable(error);
        }
        weir_error("monitor: %s", dpif_last_error());
        return WEIR_EXIT_ERROR;
    }
    if (argc) {
        struct dpif *dpif;

        error = dpif_open("netlink", only, false, &dpif);
        if (error == -ENODEV) {
            weir_error("%s: no such datapath", argv[0]);
        } else if (error) {
            weir_error("monitor: %s", dpif_last_error());
        }
        if (error) {
            dpif_monitor_destroy(mon);
            return WEIR_EXIT_ERROR;
        }
        dpif_close(dpif);
        m.only = only;
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;      /* No SA_RESTART: poll() returns. */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sbuf_init(&m.line);
    while (!stop) {
        struct dpif_event ev;

        /* A bounded wait, so that a signal that lands just before poll()
         * is seen within half a second. */
        error = dpif_monitor_next(mon, &ev, 500);
        if (!error) {
            print_event(&ev, &m);
        } else if (error == -EPROTO) {
            weir_error("skipped a malformed event (%s)", dpif_last_error());
        } else if (error != -EAGAIN) {
            weir_error("monitor: %s", dpif_last_error());
            status = WEIR_EXIT_ERROR;
            break;
        }
    }
    sbuf_uninit(&m.line);
    dpif_monitor_destroy(mon);
    return status;
}
