/* SPDX-License-Identifier: Apache-2.0 */
/* "weir dp ...": the datapath commands of ovs-dpctl, over libweir's dpif
 * API (provider "netlink", i.e. weird's control socket).
 *
 * This file parses the command line (ovs-dpctl's options, accepted before
 * or after the command as getopt would), dispatches, and runs the
 * datapath commands: show, dump-dps, add-dp, del-dp.  The port commands
 * are in weir-dp-port.c, the flow commands in weir-dp-flow.c, the monitor
 * in weir-dp-monitor.c; weir-dp.h says how the files fit together.
 *
 * Exit status: 0 ok; 1 the command failed (for commands that take several
 * datapaths or ports, if any of them failed: the others are still done,
 * as ovs-dpctl does); 2 usage error. */

#include "tools/weir-dp.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/text.h"
#include "tools/weir.h"
#include "weir/control.h"

static void
dp_usage(FILE *f)
{
    fprintf(f,
"usage: weir dp [OPTIONS] COMMAND [ARG...]\n"
"\n"
"Datapaths and ports (DP is [system@]NAME):\n"
"  show [DP...]                 datapaths, their statistics and ports\n"
"  dump-dps                     the name of every datapath\n"
"  add-dp DP [IFACE...]         add datapath DP (with ports IFACE...)\n"
"  del-dp DP                    delete datapath DP\n"
"  add-if DP IFACE...           add ports: NAME[,type=T][,port_no=N]"
"[,k=v]...\n"
"  set-if DP IFACE...           change port options: NAME[,k=v|,k=]...\n"
"  del-if DP IFACE...           delete ports (by name or number)\n"
"\n"
"Flows (DP may be left out when there is exactly one datapath):\n"
"  dump-flows [DP] [filter=F]   every flow (F: in_port=1,tcp,tp_dst=80"
" ...)\n"
"  add-flow [DP] FLOW ACTIONS   add a flow\n"
"  mod-flow [DP] FLOW ACTIONS   change a flow's actions\n"
"  get-flow [DP] ufid:UFID      one flow\n"
"  del-flow [DP] FLOW|ufid:UFID delete a flow\n"
"  del-flows [DP] [FILE]        delete every flow (or those in FILE)\n"
"  add-flows [DP] FILE          add flows from FILE ('-': stdin)\n"
"  mod-flows [DP] FILE          change flows from FILE\n"
"  monitor [DP]                 print datapath, port and flow events\n"
"                               until interrupted\n"
"\n"
"Options:\n"
"  -s, --statistics   show: port statistics; add/mod/del-flow: the flow's\n"
"                     statistics\n"
"  -m, --more         dump-flows, get-flow: UFIDs and wildcarded fields\n"
"  --names            port names instead of numbers in flows\n"
"  --no-names         port numbers (the default without -m)\n"
"  --terse            dump-flows: UFID and statistics only\n"
"  --json             one JSON document (monitor: one object per line)\n"
"  --clear            mod-flow: zero the flow's statistics\n"
"  --may-create       mod-flow: create the flow if it does not exist\n"
"  --read-only        refuse commands that change anything\n"
"  -t, --timeout=SECS give up after SECS seconds\n"
"  --control=PATH     weird's control socket (default: $%s, else %s)\n"
"\n"
"Exit status: 0 ok, 1 the command failed, 2 usage error.\n",
            WEIR_CONTROL_ENV, WEIR_CONTROL_DEFAULT);
}

/* ---- Datapath names and errors. ---- */

bool
dp_parse_name(const char *arg, char name[DPIF_NAME_MAX])
{
    const char *at = strchr(arg, '@');
    const char *base = arg;

    if (at) {
        size_t tlen = at - arg;

        /* ovs-dpctl's "system" datapaths are the kernel module's, which
         * weird stands in for; "netlink" names the dpif provider. */
        if (!(tlen == 6 && !strncmp(arg, "system", 6))
            && !(tlen == 7 && !strncmp(arg, "netlink", 7))) {
            weir_error("%s: unknown datapath type '%.*s' (weir's datapaths "
                       "are of type 'system')", arg, (int) tlen, arg);
            return false;
        }
        base = at + 1;
    }
    if (!*base || strlen(base) >= DPIF_NAME_MAX) {
        weir_error("%s: a datapath name is 1 to %d characters", arg,
                   DPIF_NAME_MAX - 1);
        return false;
    }
    strcpy(name, base);
    return true;
}

bool
dp_is_unreachable(int error)
{
    return error == -ECONNREFUSED || error == -ENOENT || error == -EACCES
           || error == -ECONNRESET || error == -EPIPE;
}

/* Errors of any call that mean the connection to weird broke.  (-ENOENT
 * is not one: after the open, it says "no such flow or port".) */
static bool
is_disconnected(int error)
{
    return error == -ECONNREFUSED || error == -ECONNRESET
           || error == -EPIPE;
}

int
dp_unreachable(int error)
{
    weir_error("cannot reach weird at %s (%s): is weird running? (set the "
               "socket with --control=PATH or $%s)", dpif_control_path(),
               strerror(-error), WEIR_CONTROL_ENV);
    return WEIR_EXIT_ERROR;
}

int
dp_fail(const char *prefix, int error)
{
    const char *reason = dpif_last_error();

    if (is_disconnected(error) && (!reason || !*reason)) {
        return dp_unreachable(error);
    }
    if (reason && *reason) {
        weir_error("%s: %s (%s)", prefix, reason, strerror(-error));
    } else {
        weir_error("%s: %s", prefix, strerror(-error));
    }
    return WEIR_EXIT_ERROR;
}

struct name_list {
    char (*names)[DPIF_NAME_MAX];
    size_t n, cap;
};

static void
collect_name(const char *name, void *list_)
{
    struct name_list *list = list_;

    if (list->n == list->cap) {
        list->cap = list->cap ? 2 * list->cap : 8;
        list->names = realloc(list->names, list->cap * sizeof *list->names);
        if (!list->names) {
            abort();
        }
    }
    snprintf(list->names[list->n++], DPIF_NAME_MAX, "%s", name);
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Fills 'list' with every datapath, sorted by name (as ovs-dpctl's sset
 * iteration is not, but a stable order is kinder to scripts).
 * Returns 0, or -errno after printing the reason. */
static int
enumerate_dps(struct name_list *list)
{
    int error;

    memset(list, 0, sizeof *list);
    error = dpif_enumerate("netlink", collect_name, list);
    if (error) {
        if (dp_is_unreachable(error)) {
            dp_unreachable(error);
        } else {
            dp_fail("listing datapaths", error);
        }
        free(list->names);
        memset(list, 0, sizeof *list);
        return error;
    }
    if (list->n > 1) {
        qsort(list->names, list->n, sizeof *list->names, cmp_names);
    }
    return 0;
}

/* Opens 'name' (already parsed), printing why not. */
static int
open_named(const char *arg, const char *name, bool create,
           struct dpif **dpifp)
{
    int error = dpif_open("netlink", name, create, dpifp);

    if (error == -ENODEV) {
        weir_error("%s: no such datapath", arg);
    } else if (error && dp_is_unreachable(error)) {
        dp_unreachable(error);
    } else if (error) {
        dp_fail(arg, error);
    }
    return error;
}

int
dp_open(const char *arg, struct dpif **dpifp)
{
    char name[DPIF_NAME_MAX];

    *dpifp = NULL;
    if (!arg) {
        struct name_list list;
        int error = enumerate_dps(&list);

        if (error) {
            return error;
        }
        if (list.n != 1) {
            weir_error(list.n ? "multiple datapaths, specify one"
                              : "no datapaths exist");
            free(list.names);
            return -EINVAL;
        }
        snprintf(name, sizeof name, "%s", list.names[0]);
        free(list.names);
        return open_named(name, name, false, dpifp);
    }
    if (!dp_parse_name(arg, name)) {
        return -EINVAL;
    }
    return open_named(arg, name, false, dpifp);
}

/* ---- show, dump-dps ---- */

static void
print_stat(struct sbuf *out, const char *leader, uint64_t v)
{
    sbuf_put(out, leader);
    if (v == UINT64_MAX) {
        sbuf_putc(out, '?');
    } else {
        sbuf_printf(out, "%"PRIu64, v);
    }
}

/* "show" of one datapath, in text.  Returns the exit status. */
static int
show_text(struct dpif *dpif, const char *name, const struct dp_opts *o)
{
    struct dpif_dp_stats st;
    struct dp_port_names ports;
    struct sbuf sb = SBUF_INIT;
    int status = WEIR_EXIT_OK;
    int error;

    sbuf_printf(&sb, "system@%s:\n", name);
    error = dpif_get_dp_stats(dpif, &st);
    if (!error) {
        uint64_t n_pkts = st.n_hit + st.n_missed;

        sbuf_printf(&sb, "  lookups: hit:%"PRIu64" missed:%"PRIu64
                    " lost:%"PRIu64"\n  flows: %"PRIu64"\n",
                    st.n_hit, st.n_missed, st.n_lost, st.n_flows);
        if (st.n_masks != UINT32_MAX) {
            sbuf_printf(&sb, "  masks: hit:%"PRIu64" total:%"PRIu32
                        " hit/pkt:%.2f\n", st.n_mask_hit, st.n_masks,
                        n_pkts ? (double) st.n_mask_hit / n_pkts : 0.0);
            /* ovs-dpctl leaves the line out when the datapath reports no
             * cache hits at all (old kernels always report 0). */
            if (st.n_cache_hit && st.n_cache_hit != UINT64_MAX) {
                sbuf_printf(&sb, "  cache: hit:%"PRIu64" hit-rate:%.2f%%\n",
                            st.n_cache_hit,
                            n_pkts ? (double) st.n_cache_hit / n_pkts * 100
                                   : 0.0);
            }
        }
        if (st.masks_cache_size != UINT32_MAX) {
            sbuf_printf(&sb, "  caches:\n    masks-cache: size:%"PRIu32"\n",
                        st.masks_cache_size);
        }
    } else {
        status = dp_fail(name, error);
    }

    error = dp_port_names_load(dpif, &ports);
    if (error) {
        status = dp_fail(name, error);
    }
    for (size_t i = 0; i < ports.n; i++) {
        const struct dpif_port *p = &ports.ports[i];
        struct dpif_port_stats ps;

        sbuf_put(&sb, "  ");
        dp_format_port(p, &sb);
        sbuf_putc(&sb, '\n');
        if (!o->statistics) {
            continue;
        }
        error = dpif_port_get_stats(dpif, p->port_no, &ps);
        if (error) {
            const char *why = dpif_last_error();

            sbuf_printf(&sb, "    could not retrieve stats (%s)\n",
                        why && *why ? why : strerror(-error));
            status = WEIR_EXIT_ERROR;
            continue;
        }
        /* Port counters come from the vport, as OVS's netdev_get_stats()
         * reads them for a kernel vport: the error kinds a vport does not
         * count are 0. */
        print_stat(&sb, "    RX packets:", ps.rx_packets);
        print_stat(&sb, " errors:", ps.rx_errors);
        print_stat(&sb, " dropped:", ps.rx_dropped);
        print_stat(&sb, " overruns:", 0);
        print_stat(&sb, " frame:", 0);
        print_stat(&sb, "\n    TX packets:", ps.tx_packets);
        print_stat(&sb, " errors:", ps.tx_errors);
        print_stat(&sb, " dropped:", ps.tx_dropped);
        print_stat(&sb, " aborted:", 0);
        print_stat(&sb, " carrier:", 0);
        print_stat(&sb, "\n    collisions:", 0);
        print_stat(&sb, "\n    RX bytes:", ps.rx_bytes);
        dp_format_human_size(ps.rx_bytes, &sb);
        print_stat(&sb, "  TX bytes:", ps.tx_bytes);
        dp_format_human_size(ps.tx_bytes, &sb);
        sbuf_putc(&sb, '\n');
    }
    fputs(sbuf_str(&sb), stdout);
    sbuf_uninit(&sb);
    dp_port_names_free(&ports);
    return status;
}

/* "show" of one datapath, as a member of the "datapaths" array. */
static int
show_json(struct dpif *dpif, const char *name, const struct dp_opts *o,
          struct dp_json *j)
{
    struct dpif_dp_stats st;
    struct dp_port_names ports;
    int status = WEIR_EXIT_OK;
    int error;

    dp_json_open(j, NULL, '{');
    dp_json_str(j, "name", name);
    dp_json_str(j, "type", "system");
    error = dpif_get_dp_stats(dpif, &st);
    if (!error) {
        uint64_t n_pkts = st.n_hit + st.n_missed;

        dp_json_open(j, "lookups", '{');
        dp_json_u64(j, "hit", st.n_hit);
        dp_json_u64(j, "missed", st.n_missed);
        dp_json_u64(j, "lost", st.n_lost);
        dp_json_close(j, '}');
        dp_json_u64(j, "flows", st.n_flows);
        if (st.n_masks != UINT32_MAX) {
            dp_json_open(j, "masks", '{');
            dp_json_u64(j, "hit", st.n_mask_hit);
            dp_json_u64(j, "total", st.n_masks);
            dp_json_double(j, "hit_per_pkt",
                           n_pkts ? (double) st.n_mask_hit / n_pkts : 0.0, 2);
            dp_json_close(j, '}');
        }
        if (st.n_cache_hit != UINT64_MAX) {
            dp_json_open(j, "cache", '{');
            dp_json_u64(j, "hit", st.n_cache_hit);
            dp_json_double(j, "hit_rate",
                           n_pkts ? (double) st.n_cache_hit / n_pkts * 100
                                  : 0.0, 2);
            dp_json_close(j, '}');
        }
        if (st.masks_cache_size != UINT32_MAX) {
            dp_json_open(j, "caches", '{');
            dp_json_open(j, "masks-cache", '{');
            dp_json_u64(j, "size", st.masks_cache_size);
            dp_json_close(j, '}');
            dp_json_close(j, '}');
        }
    } else {
        status = dp_fail(name, error);
    }

    error = dp_port_names_load(dpif, &ports);
    if (error) {
        status = dp_fail(name, error);
    }
    dp_json_open(j, "ports", '[');
    for (size_t i = 0; i < ports.n; i++) {
        const struct dpif_port *p = &ports.ports[i];
        struct dpif_port_stats ps;

        dp_json_open(j, NULL, '{');
        dp_json_port_members(j, p);
        if (o->statistics) {
            error = dpif_port_get_stats(dpif, p->port_no, &ps);
            if (error) {
                dp_fail(p->name, error);
                status = WEIR_EXIT_ERROR;
                dp_json_null(j, "stats");
            } else {
                dp_json_open(j, "stats", '{');
                dp_json_u64(j, "rx_packets", ps.rx_packets);
                dp_json_u64(j, "rx_bytes", ps.rx_bytes);
                dp_json_u64(j, "rx_errors", ps.rx_errors);
                dp_json_u64(j, "rx_dropped", ps.rx_dropped);
                dp_json_u64(j, "tx_packets", ps.tx_packets);
                dp_json_u64(j, "tx_bytes", ps.tx_bytes);
                dp_json_u64(j, "tx_errors", ps.tx_errors);
                dp_json_u64(j, "tx_dropped", ps.tx_dropped);
                dp_json_u64(j, "upcall_success", ps.upcall_success);
                dp_json_u64(j, "upcall_fail", ps.upcall_fail);
                dp_json_close(j, '}');
            }
        }
        dp_json_close(j, '}');
    }
    dp_json_close(j, ']');
    dp_json_close(j, '}');
    dp_port_names_free(&ports);
    return status;
}

static int
cmd_show(int argc, char *argv[], const struct dp_opts *o)
{
    struct name_list list = { NULL, 0, 0 };
    struct sbuf sb = SBUF_INIT;
    struct dp_json j;
    int status = WEIR_EXIT_OK;

    if (!argc && enumerate_dps(&list)) {
        return WEIR_EXIT_ERROR;
    }
    dp_json_init(&j, &sb);
    if (o->json) {
        dp_json_open(&j, NULL, '{');
        dp_json_open(&j, "datapaths", '[');
    }
    for (size_t i = 0; i < (argc ? (size_t) argc : list.n); i++) {
        const char *arg = argc ? argv[i] : list.names[i];
        char name[DPIF_NAME_MAX];
        struct dpif *dpif;
        int st;

        if (!dp_parse_name(arg, name)) {
            status = WEIR_EXIT_ERROR;
            continue;
        }
        if (open_named(arg, name, false, &dpif)) {
            status = WEIR_EXIT_ERROR;
            continue;
        }
        if (o->json) {
            st = show_json(dpif, name, o, &j);
        } else {
            fflush(stdout);
            st = show_text(dpif, name, o);
        }
        if (st) {
            status = st;
        }
        dpif_close(dpif);
    }
    if (o->json) {
        dp_json_close(&j, ']');
        dp_json_close(&j, '}');
        puts(sbuf_str(&sb));
    }
    sbuf_uninit(&sb);
    free(list.names);
    return status;
}

static int
cmd_dump_dps(int argc, char *argv[], const struct dp_opts *o)
{
    struct name_list list;
    struct sbuf sb = SBUF_INIT;
    struct dp_json j;

    if (enumerate_dps(&list)) {
        return WEIR_EXIT_ERROR;
    }
    if (o->json) {
        dp_json_init(&j, &sb);
        dp_json_open(&j, NULL, '{');
        dp_json_open(&j, "datapaths", '[');
        for (size_t i = 0; i < list.n; i++) {
            dp_json_open(&j, NULL, '{');
            dp_json_str(&j, "name", list.names[i]);
            dp_json_str(&j, "type", "system");
            dp_json_close(&j, '}');
        }
        dp_json_close(&j, ']');
        dp_json_close(&j, '}');
        puts(sbuf_str(&sb));
    } else {
        for (size_t i = 0; i < list.n; i++) {
            printf("system@%s\n", list.names[i]);
        }
    }
    sbuf_uninit(&sb);
    free(list.names);
    return WEIR_EXIT_OK;
}

/* ---- add-dp, del-dp ---- */

static int
cmd_add_dp(int argc, char *argv[], const struct dp_opts *o)
{
    char name[DPIF_NAME_MAX];
    struct dpif *dpif;
    int error;

    if (!dp_parse_name(argv[0], name)) {
        return WEIR_EXIT_ERROR;
    }
    /* dpif_open(create) opens an existing datapath; ovs-dpctl's add-dp
     * refuses one, so look first. */
    error = dpif_open("netlink", name, false, &dpif);
    if (!error) {
        dpif_close(dpif);
        weir_error("%s: datapath exists (%s)", argv[0], strerror(EEXIST));
        return WEIR_EXIT_ERROR;
    }
    if (error != -ENODEV) {
        return dp_is_unreachable(error) ? dp_unreachable(error)
                                     : dp_fail(argv[0], error);
    }
    error = dpif_open("netlink", name, true, &dpif);
    if (error) {
        return dp_is_unreachable(error) ? dp_unreachable(error)
                                     : dp_fail(argv[0], error);
    }
    dpif_close(dpif);
    return argc > 1 ? dp_cmd_add_if(argc, argv, o) : WEIR_EXIT_OK;
}

static int
cmd_del_dp(int argc, char *argv[], const struct dp_opts *o)
{
    struct dpif *dpif;
    int error;

    if (dp_open(argv[0], &dpif)) {
        return WEIR_EXIT_ERROR;
    }
    error = dpif_delete(dpif);
    dpif_close(dpif);
    return error ? dp_fail(argv[0], error) : WEIR_EXIT_OK;
}

/* ---- Command line. ---- */

struct dp_command {
    const char *name;
    int min_args, max_args;     /* Positional arguments; -1: no limit. */
    int (*run)(int argc, char *argv[], const struct dp_opts *o);
    bool writes;                /* Refused with --read-only. */
    bool lists;                 /* Has a listing for --json. */
};

static int
cmd_add_flow(int argc, char *argv[], const struct dp_opts *o)
{
    return dp_cmd_put_flow(argc, argv, o, false);
}

static int
cmd_mod_flow(int argc, char *argv[], const struct dp_opts *o)
{
    return dp_cmd_put_flow(argc, argv, o, true);
}

static int
cmd_add_flows(int argc, char *argv[], const struct dp_opts *o)
{
    return dp_cmd_process_flows(argc, argv, o, DP_FLOWS_ADD);
}

static int
cmd_mod_flows(int argc, char *argv[], const struct dp_opts *o)
{
    return dp_cmd_process_flows(argc, argv, o, DP_FLOWS_MOD);
}

static const struct dp_command commands[] = {
    { "show", 0, -1, cmd_show, false, true },
    { "dump-dps", 0, 0, cmd_dump_dps, false, true },
    { "add-dp", 1, -1, cmd_add_dp, true, false },
    { "del-dp", 1, 1, cmd_del_dp, true, false },
    { "add-if", 2, -1, dp_cmd_add_if, true, false },
    { "set-if", 2, -1, dp_cmd_set_if, true, false },
    { "del-if", 2, -1, dp_cmd_del_if, true, false },
    { "dump-flows", 0, 2, dp_cmd_dump_flows, false, true },
    { "add-flow", 2, 3, cmd_add_flow, true, false },
    { "mod-flow", 2, 3, cmd_mod_flow, true, false },
    { "get-flow", 1, 2, dp_cmd_get_flow, false, true },
    { "del-flow", 1, 2, dp_cmd_del_flow, true, false },
    { "del-flows", 0, 2, dp_cmd_del_flows, true, false },
    { "add-flows", 1, 2, cmd_add_flows, true, false },
    { "mod-flows", 1, 2, cmd_mod_flows, true, false },
    { "monitor", 0, 1, dp_cmd_monitor, false, true },
};

static volatile sig_atomic_t timeout_secs;

static void
on_alarm(int sig)
{
    static const char msg[] = "weir: timed out\n";
    ssize_t n;

    (void) sig;
    n = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void) n;
    _exit(WEIR_EXIT_ERROR);
}

/* Parses "--timeout" / "-t" values. */
static bool
parse_timeout(const char *s)
{
    unsigned long v;
    char *end;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || end == s || *s == '-' || v > 86400 * 365) {
        weir_error("--timeout: '%s' is not a number of seconds", s);
        return false;
    }
    timeout_secs = v;
    return true;
}

/* Parses one option at argv[*i] (which starts with '-').  Returns 0, 1
 * for --help (usage printed), or -1 for a usage error (reason printed). */
static int
parse_option(int argc, char *argv[], int *i, struct dp_opts *o)
{
    const char *arg = argv[*i];

    if (!strcmp(arg, "--statistics")) {
        o->statistics = true;
    } else if (!strcmp(arg, "--more")) {
        o->more++;
    } else if (!strcmp(arg, "--names")) {
        o->names = o->names_set = true;
    } else if (!strcmp(arg, "--no-names")) {
        o->names = false;
        o->names_set = true;
    } else if (!strcmp(arg, "--clear")) {
        o->clear = true;
    } else if (!strcmp(arg, "--may-create")) {
        o->may_create = true;
    } else if (!strcmp(arg, "--read-only")) {
        o->read_only = true;
    } else if (!strcmp(arg, "--terse")) {
        o->terse = true;
    } else if (!strcmp(arg, "--json")) {
        o->json = true;
    } else if (!strcmp(arg, "--help")) {
        dp_usage(stdout);
        return 1;
    } else if (!strncmp(arg, "--control=", 10)) {
        if (!arg[10]) {
            weir_error("--control needs a path");
            return -1;
        }
        dpif_set_control_path(arg + 10);
    } else if (!strcmp(arg, "--control") || !strcmp(arg, "--timeout")) {
        if (*i + 1 >= argc) {
            weir_error("%s needs a value", arg);
            return -1;
        }
        (*i)++;
        if (arg[2] == 'c') {
            dpif_set_control_path(argv[*i]);
        } else if (!parse_timeout(argv[*i])) {
            return -1;
        }
    } else if (!strncmp(arg, "--timeout=", 10)) {
        return parse_timeout(arg + 10) ? 0 : -1;
    } else if (arg[1] != '-') {
        /* Bundled short options: -s, -m, -h, -t SECS. */
        for (const char *c = arg + 1; *c; c++) {
            if (*c == 's') {
                o->statistics = true;
            } else if (*c == 'm') {
                o->more++;
            } else if (*c == 'h') {
                dp_usage(stdout);
                return 1;
            } else if (*c == 't') {
                if (c[1]) {
                    return parse_timeout(c + 1) ? 0 : -1;
                }
                if (*i + 1 >= argc) {
                    weir_error("-t needs a number of seconds");
                    return -1;
                }
                (*i)++;
                return parse_timeout(argv[*i]) ? 0 : -1;
            } else {
                weir_error("unknown option '-%c' (try 'weir dp --help')",
                           *c);
                return -1;
            }
        }
    } else {
        weir_error("unknown option '%s' (try 'weir dp --help')", arg);
        return -1;
    }
    return 0;
}

int
weir_dp_main(int argc, char *argv[])
{
    struct dp_opts o;
    const struct dp_command *cmd = NULL;
    char **pos;
    int n_pos = 0;
    bool only_args = false;
    int status;

    memset(&o, 0, sizeof o);
    pos = calloc(argc + 1, sizeof *pos);
    if (!pos) {
        abort();
    }
    /* Options may come anywhere, as with getopt's permutation; "--" ends
     * them.  A lone "-" is an argument (a file: stdin). */
    for (int i = 0; i < argc; i++) {
        if (!only_args && !strcmp(argv[i], "--")) {
            only_args = true;
        } else if (!only_args && argv[i][0] == '-' && argv[i][1]) {
            int r = parse_option(argc, argv, &i, &o);

            if (r) {
                free(pos);
                return r > 0 ? WEIR_EXIT_OK : WEIR_EXIT_USAGE;
            }
        } else {
            pos[n_pos++] = argv[i];
        }
    }
    if (!o.names_set) {
        o.names = o.more > 0;   /* ovs-dpctl's default. */
    }
    if (!n_pos) {
        dp_usage(stderr);
        free(pos);
        return WEIR_EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!strcmp(commands[i].name, pos[0])) {
            cmd = &commands[i];
        }
    }
    status = WEIR_EXIT_USAGE;
    if (!cmd) {
        weir_error("unknown dp command '%s' (try 'weir dp --help')", pos[0]);
    } else if (n_pos - 1 < cmd->min_args
               || (cmd->max_args >= 0 && n_pos - 1 > cmd->max_args
                   && strcmp(cmd->name, "dump-flows"))) {
        weir_error("'%s' takes %s%d argument%s (try 'weir dp --help')",
                   cmd->name,
                   n_pos - 1 < cmd->min_args ? "at least " : "at most ",
                   n_pos - 1 < cmd->min_args ? cmd->min_args
                                             : cmd->max_args,
                   (n_pos - 1 < cmd->min_args ? cmd->min_args
                                              : cmd->max_args) == 1
                   ? "" : "s");
    } else if (o.read_only && cmd->writes) {
        weir_error("'%s' command does not work in read only mode",
                   cmd->name);
    } else if (o.json && !cmd->lists
               && !(o.statistics && (!strcmp(cmd->name, "add-flow")
                                     || !strcmp(cmd->name, "mod-flow")
                                     || !strcmp(cmd->name, "del-flow")))) {
        weir_error("--json: '%s' prints no listing (--json applies to "
                   "show, dump-dps, dump-flows, get-flow, monitor, and with "
                   "-s to add-flow, mod-flow and del-flow)", cmd->name);
    } else if (o.terse && strcmp(cmd->name, "dump-flows")) {
        weir_error("--terse applies to dump-flows only");
    } else {
        if (timeout_secs) {
            signal(SIGALRM, on_alarm);
            alarm(timeout_secs);
        }
        status = cmd->run(n_pos - 1, pos + 1, &o);
    }
    free(pos);
    return status;
}
