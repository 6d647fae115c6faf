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
 * in man/weir.1).  libweir's dpif API has no multicast subscription yet,
 * so this goes over the control socket by itself (weir-dp-nl.c). */

#include "tools/weir-dp.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/openvswitch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errbuf.h"
#include "lib/text.h"
#include "tools/weir.h"

struct dp_entry {
    uint32_t ifindex;
    char name[DPIF_NAME_MAX];
};

struct monitor {
    const struct dp_opts *o;
    const char *only;           /* Datapath name to show, or NULL. */
    struct dp_entry *dps;
    size_t n_dps, cap_dps;
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
remember_dp(const char *name, uint32_t ifindex, void *m_)
{
    struct monitor *m = m_;
    struct dp_entry *e = NULL;

    for (size_t i = 0; i < m->n_dps; i++) {
        if (m->dps[i].ifindex == ifindex) {
            e = &m->dps[i];
        }
    }
    if (!e) {
        if (m->n_dps == m->cap_dps) {
            m->cap_dps = m->cap_dps ? 2 * m->cap_dps : 8;
            m->dps = realloc(m->dps, m->cap_dps * sizeof *m->dps);
            if (!m->dps) {
                abort();
            }
        }
        e = &m->dps[m->n_dps++];
        e->ifindex = ifindex;
    }
    snprintf(e->name, sizeof e->name, "%s", name);
}

static const char *
dp_name_of(const struct monitor *m, uint32_t ifindex)
{
    for (size_t i = 0; i < m->n_dps; i++) {
        if (m->dps[i].ifindex == ifindex) {
            return m->dps[i].name;
        }
    }
    return NULL;
}

static const char *
op_name(uint8_t cmd, char buf[16])
{
    switch (cmd) {
    case OVS_FLOW_CMD_NEW:      /* The same numbers in every family. */
        return "new";
    case OVS_FLOW_CMD_DEL:
        return "del";
    case OVS_FLOW_CMD_SET:
        return "set";
    default:
        snprintf(buf, 16, "cmd%u", cmd);
        return buf;
    }
}

static void
print_event(const struct dp_nl_event *ev, void *m_)
{
    static const char *const kinds[] = { "dp", "port", "flow", "lost" };
    struct monitor *m = m_;
    const struct dp_opts *o = m->o;
    char dpname[DPIF_NAME_MAX + 16];
    const char *name;
    char opbuf[16];
    const char *op = op_name(ev->cmd, opbuf);
    struct sbuf *sb = &m->line;

    if (ev->kind == DP_NL_EV_DP && ev->cmd != OVS_DP_CMD_DEL) {
        remember_dp(ev->dp_name, ev->dp_ifindex, m);
    }
    name = ev->kind == DP_NL_EV_DP ? ev->dp_name
                                   : dp_name_of(m, ev->dp_ifindex);
    if (ev->kind != DP_NL_EV_LOST && m->only
        && (!name || strcmp(name, m->only))) {
        return;
    }
    if (name) {
        snprintf(dpname, sizeof dpname, "system@%s", name);
    } else {
        snprintf(dpname, sizeof dpname, "ifindex:%"PRIu32, ev->dp_ifindex);
    }

    sbuf_clear(sb);
    if (o->json) {
        struct dp_json j;

        dp_json_init(&j, sb);
        dp_json_open(&j, NULL, '{');
        dp_json_str(&j, "event", kinds[ev->kind]);
        if (ev->kind != DP_NL_EV_LOST) {
            dp_json_str(&j, "op", op);
            dp_json_str(&j, "datapath", dpname);
        }
        if (ev->kind == DP_NL_EV_PORT) {
            dp_json_open(&j, "port", '{');
            dp_json_port_members(&j, &ev->vport.port, ev->vport.args);
            dp_json_close(&j, '}');
        } else if (ev->kind == DP_NL_EV_FLOW) {
            dp_json_flow(&j, "flow", &ev->flow, o->more > 0, NULL,
                         dp_now_ms());
        }
        dp_json_close(&j, '}');
    } else if (ev->kind == DP_NL_EV_LOST) {
        sbuf_put(sb, "events lost");
        fprintf(stderr, "weir: weird dropped events for this monitor (it "
                "did not read fast enough)\n");
    } else {
        sbuf_printf(sb, "%s %s %s", kinds[ev->kind], op, dpname);
        if (ev->kind == DP_NL_EV_PORT) {
            sbuf_put(sb, ": ");
            dp_format_port(&ev->vport.port, ev->vport.args, sb);
        } else if (ev->kind == DP_NL_EV_FLOW) {
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
    char only[DPIF_NAME_MAX];
    struct sigaction sa;
    struct errbuf err;
    struct dp_nl *nl;
    int status = WEIR_EXIT_OK;
    int error;

    if (argc && !dp_parse_name(argv[0], only)) {
        return WEIR_EXIT_ERROR;
    }
    errbuf_clear(&err);
    error = dp_nl_open(&nl, &err);
    if (error) {
        weir_error("%s: is weird running? (set the socket with "
                   "--control=PATH or $WEIR_CONTROL)", err.msg);
        return WEIR_EXIT_ERROR;
    }
    /* Join first, then list: a datapath made in between is seen in one
     * or the other. */
    error = dp_nl_subscribe(nl, &err);
    if (!error) {
        error = dp_nl_dp_dump(nl, remember_dp, &m, &err);
    }
    if (error) {
        weir_error("monitor: %s", err.msg);
        dp_nl_close(nl);
        free(m.dps);
        return WEIR_EXIT_ERROR;
    }
    if (argc) {
        bool found = false;

        for (size_t i = 0; i < m.n_dps; i++) {
            found |= !strcmp(m.dps[i].name, only);
        }
        if (!found) {
            weir_error("%s: no such datapath", argv[0]);
            dp_nl_close(nl);
            free(m.dps);
            return WEIR_EXIT_ERROR;
        }
        m.only = only;
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;      /* No SA_RESTART: poll() returns. */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sbuf_init(&m.line);
    while (!stop) {
        /* A bounded wait, so that a signal that lands just before poll()
         * is seen within half a second. */
        error = dp_nl_next_event(nl, 500, print_event, &m, &err);
        if (error < 0) {
            weir_error("monitor: %s", err.msg);
            status = WEIR_EXIT_ERROR;
            break;
        }
    }
    sbuf_uninit(&m.line);
    dp_nl_close(nl);
    free(m.dps);
    return status;
}
