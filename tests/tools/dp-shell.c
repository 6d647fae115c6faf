/* SPDX-License-Identifier: Apache-2.0 */
/* dp-shell: runs one datapath in this process and drives it with
 * commands read from stdin, for system tests and benchmarks (until the
 * weird daemon and its control socket exist, issue 5).
 *
 * Usage: dp-shell [--name NAME] [--local-type TYPE] [--local-options O]
 *
 * The local port (port 0, named after the datapath) is a TAP device unless
 * --local-type says otherwise (e.g. "dummy").
 *
 * Each command is one line; each reply is one JSON line on stdout,
 * {"ok":true,...} or {"ok":false,"error":"..."}.  Commands:
 *
 *   port-add TYPE NAME [OPTIONS|-] [PORT_NO]  -> "port_no"
 *   port-del PORT_NO
 *   flow-add FLOW ACTIONS      flow text (no spaces) as ovs-dpctl prints
 *                              it, then the actions
 *   flow-flush
 *   flows                      -> "flows": [{flow, actions, packets, bytes}]
 *   pmd N [CPULIST]            N polling threads (0 stops them)
 *   rxq-assign PORT_NO QID PMD
 *   handlers N [DELAY_US]      N upcall reader threads, each pausing
 *                              DELAY_US after every upcall (a slow
 *                              handler, for fairness tests)
 *   features N                 user features (OVS_DP_F_*)
 *   upcalls                    -> "upcalls": the last ones read (at most
 *                              256; each read once), "received", per-port
 *                              counts
 *   execute PORT_NO HEXFRAME ACTIONS
 *   stats                      -> "dp", "drops", "ports", "pmds", "upcalls"
 *   quit
 *
 * The datapath is destroyed on quit or end of input, which removes TAP
 * devices and XDP programs. */

#include <errno.h>
#include <getopt.h>
#include <libmnl/libmnl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/actions-text.h"
#include "codec/fkey-nl.h"
#include "codec/fkey-text.h"
#include "dp/dp.h"
#include "dp/pmd.h"
#include "lib/errbuf.h"
#include "lib/rcu.h"
#include "lib/text.h"
#include "packet/packet.h"
#include "port/port-afxdp.h"
#include "port/port.h"

#define MAX_HANDLERS 16
#define KEPT_UPCALLS 256

struct shell {
    struct datapath *dp;
    struct dp_thread *thr;              /* For execute. */

    /* Upcall readers. */
    pthread_t handlers[MAX_HANDLERS];
    uint32_t n_handlers;
    uint32_t handler_delay_us;
    _Atomic bool stop_handlers;
    pthread_mutex_t mutex;              /* Guards the members below. */
    uint64_t received;
    uint64_t per_port[DP_MAX_PORTS < 1024 ? DP_MAX_PORTS : 1024];
    struct dp_upcall *kept[KEPT_UPCALLS];   /* A ring: the latest ones. */
    size_t kept_head, n_kept;
};

struct handler_arg {
    struct shell *sh;
    uint32_t id;
};

/* Appends 's' to 'out' as a JSON string. */
static void
json_str(struct sbuf *out, const char *s)
{
    sbuf_putc(out, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            sbuf_putc(out, '\\');
            sbuf_putc(out, *s);
        } else if ((unsigned char) *s < 0x20) {
            sbuf_printf(out, "\\u%04x", (unsigned char) *s);
        } else {
            sbuf_putc(out, *s);
        }
    }
    sbuf_putc(out, '"');
}

static void reply_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
reply_error(const char *fmt, ...)
{
    struct sbuf msg, out;
    va_list args;

    sbuf_init(&msg);
    sbuf_init(&out);
    va_start(args, fmt);
    sbuf_vprintf(&msg, fmt, args);
    va_end(args);
    sbuf_put(&out, "{\"ok\":false,\"error\":");
    json_str(&out, sbuf_str(&msg));
    sbuf_put(&out, "}");
    printf("%s\n", sbuf_str(&out));
    fflush(stdout);
    sbuf_uninit(&msg);
    sbuf_uninit(&out);
}

/* Prints {"ok":true<extra>}: 'extra' is "" or ",\"k\":v...". */
static void
reply_ok(const char *extra)
{
    printf("{\"ok\":true%s}\n", extra);
    fflush(stdout);
}

/* Formats flow key 'key' (exact) as text into 'out'. */
static void
format_key(const struct flow_key *key, struct sbuf *out)
{
    char buf[2048];
    struct nlmsghdr *n = mnl_nlmsg_put_header(buf);

    if (fkey_to_nl(key, n, sizeof buf)) {
        sbuf_put(out, "(key too long)");
        return;
    }
    fkey_format(mnl_nlmsg_get_payload(n), n->nlmsg_len - MNL_NLMSG_HDRLEN,
                NULL, 0, false, out);
}

/* Appends upcall 'u' to 'o' as a JSON object. */
static void
format_upcall(const struct dp_upcall *u, struct sbuf *o)
{
    struct sbuf k;

    sbuf_printf(o, "{\"type\":\"%s\",\"in_port\":%u,\"pid\":%u,"
                "\"len\":%u,\"key\":",
                u->type == DP_UPCALL_MISS ? "miss" : "action",
                u->packet->md.in_port, u->pid, u->packet->len);
    sbuf_init(&k);
    format_key(&u->key, &k);
    json_str(o, sbuf_str(&k));
    sbuf_uninit(&k);
    sbuf_put(o, ",\"userdata\":\"");
    sbuf_put_hex(o, u->userdata, u->userdata_len);
    sbuf_put(o, "\"}");
}

/* Counts upcall 'u' and keeps it among the latest KEPT_UPCALLS (the
 * oldest kept one is freed).  Formatting waits for the "upcalls"
 * command, so that a handler costs little and upcall_per_s measures the
 * datapath's delivery. */
static void
record_upcall(struct shell *sh, struct dp_upcall *u)
{
    uint32_t in_port = u->packet->md.in_port;
    struct dp_upcall *old = NULL;

    pthread_mutex_lock(&sh->mutex);
    sh->received++;
    if (in_port < sizeof sh->per_port / sizeof sh->per_port[0]) {
        sh->per_port[in_port]++;
    }
    if (sh->n_kept == KEPT_UPCALLS) {
        old = sh->kept[sh->kept_head];
        sh->kept_head = (sh->kept_head + 1) % KEPT_UPCALLS;
        sh->n_kept--;
    }
    sh->kept[(sh->kept_head + sh->n_kept++) % KEPT_UPCALLS] = u;
    pthread_mutex_unlock(&sh->mutex);
    dp_upcall_free(old);
}

static void *
handler_main(void *arg_)
{
    struct handler_arg *arg = arg_;
    struct shell *sh = arg->sh;
    uint32_t id = arg->id;

    free(arg);
    qsbr_register();
    while (!atomic_load(&sh->stop_handlers)) {
        struct dp_upcall *u;

        if (!dp_recv(sh->dp, id, &u)) {
            record_upcall(sh, u);
            if (sh->handler_delay_us) {
                qsbr_offline();
                usleep(sh->handler_delay_us);
                qsbr_online();
            }
        } else {
            dp_recv_wait(sh->dp, id, 100);
        }
        qsbr_quiesce();
    }
    qsbr_unregister();
    return NULL;
}

static void
handlers_stop(struct shell *sh)
{
    atomic_store(&sh->stop_handlers, true);
    qsbr_offline();
    for (uint32_t i = 0; i < sh->n_handlers; i++) {
        pthread_join(sh->handlers[i], NULL);
    }
    qsbr_online();
    sh->n_handlers = 0;
    atomic_store(&sh->stop_handlers, false);
}

static int
cmd_handlers(struct shell *sh, uint32_t n, uint32_t delay_us,
             struct errbuf *err)
{
    int error;

    if (n > MAX_HANDLERS) {
        errbuf_set(err, "at most %d handlers", MAX_HANDLERS);
        return -EINVAL;
    }
    handlers_stop(sh);
    sh->handler_delay_us = delay_us;
    error = dp_handlers_set(sh->dp, n, err);
    if (error) {
        return error;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct handler_arg *arg = malloc(sizeof *arg);

        arg->sh = sh;
        arg->id = i;
        if (pthread_create(&sh->handlers[i], NULL, handler_main, arg)) {
            free(arg);
            errbuf_set(err, "cannot start a handler thread");
            return -EAGAIN;
        }
        sh->n_handlers++;
    }
    return 0;
}

/* Parses flow text into key and mask.  Returns 0 or -EINVAL. */
static int
parse_flow(const char *text, struct flow_key *key, struct flow_mask *mask,
           struct errbuf *err)
{
    char kbuf[2048], mbuf[2048];
    struct nlmsghdr *k = mnl_nlmsg_put_header(kbuf);
    struct nlmsghdr *m = mnl_nlmsg_put_header(mbuf);
    size_t used;

    if (fkey_parse(text, &used, k, sizeof kbuf, m, sizeof mbuf, err)) {
        return -EINVAL;
    }
    if (text[used]) {
        errbuf_set(err, "trailing text after the flow: \"%s\"", text + used);
        return -EINVAL;
    }
    if (fkey_from_nl(mnl_nlmsg_get_payload(k),
                     k->nlmsg_len - MNL_NLMSG_HDRLEN, key, err)
        != FKEY_FIT_PERFECT
        || fmask_from_nl(mnl_nlmsg_get_payload(m),
                         m->nlmsg_len - MNL_NLMSG_HDRLEN, key, mask, err)
           == FKEY_FIT_ERROR) {
        return -EINVAL;
    }
    return 0;
}

/* Parses action text into 'buf'; returns the length or -EINVAL. */
static int
parse_actions(const char *text, void *buf, size_t size, struct errbuf *err)
{
    char nbuf[8192];
    struct nlmsghdr *n = mnl_nlmsg_put_header(nbuf);
    size_t used, len;

    if (act_parse(text, &used, n, sizeof nbuf, err)) {
        return -EINVAL;
    }
    len = n->nlmsg_len - MNL_NLMSG_HDRLEN;
    if (len > size) {
        errbuf_set(err, "actions too long");
        return -EINVAL;
    }
    memcpy(buf, mnl_nlmsg_get_payload(n), len);
    return (int) len;
}

static int
cmd_flow_add(struct shell *sh, const char *flow, const char *actions,
             struct errbuf *err)
{
    uint8_t acts[4096];
    struct flow_key key;
    struct flow_mask mask;
    struct dp_flow_req req = { 0 };
    int len, error;

    error = parse_flow(flow, &key, &mask, err);
    if (error) {
        return error;
    }
    len = parse_actions(actions, acts, sizeof acts, err);
    if (len < 0) {
        return len;
    }
    req.key = &key;
    req.mask = &mask;
    req.actions = acts;
    req.actions_len = (size_t) len;
    req.has_actions = true;
    error = dp_flow_new(sh->dp, &req, DP_FLOW_EXCL, NULL, err);
    return error < 0 ? error : 0;
}

static void
cmd_flows(struct shell *sh)
{
    struct dp_flow_dump *dump = dp_flow_dump_create(sh->dp, 0);
    struct dp_flow_info infos[64];
    struct sbuf out;
    bool first = true;
    size_t n;

    sbuf_init(&out);
    sbuf_put(&out, ",\"flows\":[");
    while ((n = dp_flow_dump_next(dump, infos, 64)) > 0) {
        for (size_t i = 0; i < n; i++) {
            char kbuf[2048], mbuf[2048];
            struct nlmsghdr *k = mnl_nlmsg_put_header(kbuf);
            struct nlmsghdr *m = mnl_nlmsg_put_header(mbuf);
            struct sbuf t;

            sbuf_init(&t);
            if (!fkey_to_nl(&infos[i].key, k, sizeof kbuf)
                && !fmask_to_nl(&infos[i].key, &infos[i].mask, m,
                                sizeof mbuf)) {
                fkey_format(mnl_nlmsg_get_payload(k),
                            k->nlmsg_len - MNL_NLMSG_HDRLEN,
                            mnl_nlmsg_get_payload(m),
                            m->nlmsg_len - MNL_NLMSG_HDRLEN, false, &t);
            }
            sbuf_put(&out, first ? "{\"flow\":" : ",{\"flow\":");
            first = false;
            json_str(&out, sbuf_str(&t));
            sbuf_clear(&t);
            act_format(infos[i].actions, infos[i].actions_len, &t);
            sbuf_put(&out, ",\"actions\":");
            json_str(&out, sbuf_str(&t));
            sbuf_printf(&out, ",\"packets\":%llu,\"bytes\":%llu}",
                        (unsigned long long) infos[i].stats.n_packets,
                        (unsigned long long) infos[i].stats.n_bytes);
            sbuf_uninit(&t);
        }
    }
    dp_flow_dump_destroy(dump);
    sbuf_put(&out, "]");
    reply_ok(sbuf_str(&out));
    sbuf_uninit(&out);
}

static void
cmd_upcalls(struct shell *sh)
{
    struct sbuf out;

    sbuf_init(&out);
    pthread_mutex_lock(&sh->mutex);
    sbuf_printf(&out, ",\"received\":%llu,\"upcalls\":[",
                (unsigned long long) sh->received);
    for (size_t i = 0; i < sh->n_kept; i++) {
        struct dp_upcall *u = sh->kept[(sh->kept_head + i) % KEPT_UPCALLS];

        sbuf_put(&out, i ? "," : "");
        format_upcall(u, &out);
        dp_upcall_free(u);
    }
    sh->n_kept = 0;
    sbuf_put(&out, "],\"per_port\":{");
    bool first = true;
    for (size_t i = 0; i < sizeof sh->per_port / sizeof sh->per_port[0];
         i++) {
        if (sh->per_port[i]) {
            sbuf_printf(&out, "%s\"%zu\":%llu", first ? "" : ",", i,
                        (unsigned long long) sh->per_port[i]);
            first = false;
        }
    }
    pthread_mutex_unlock(&sh->mutex);
    sbuf_put(&out, "}");
    reply_ok(sbuf_str(&out));
    sbuf_uninit(&out);
}

static void
cmd_stats(struct shell *sh)
{
    uint64_t drops[DP_N_DROP_REASONS] = { 0 };
    struct dp_pmd_stats pmds[DP_PMD_MAX];
    struct dp_stats st;
    uint32_t cursor = 0, nums[64];
    struct sbuf out;
    size_t n;

    dp_get_stats(sh->dp, &st);
    dp_get_drops(sh->dp, drops);
    sbuf_init(&out);
    sbuf_printf(&out, ",\"dp\":{\"hit\":%llu,\"missed\":%llu,\"lost\":%llu,"
                "\"flows\":%llu,\"masks\":%u,\"mask_hit\":%llu,"
                "\"cache_hit\":%llu},\"drops\":{",
                (unsigned long long) st.n_hit,
                (unsigned long long) st.n_missed,
                (unsigned long long) st.n_lost,
                (unsigned long long) st.n_flows, st.n_masks,
                (unsigned long long) st.n_mask_hit,
                (unsigned long long) st.n_cache_hit);
    for (int i = 0; i < DP_N_DROP_REASONS; i++) {
        sbuf_printf(&out, "%s\"%s\":%llu", i ? "," : "",
                    dp_drop_name((enum dp_drop_reason) i),
                    (unsigned long long) drops[i]);
    }
    sbuf_put(&out, "},\"ports\":[");
    bool first = true;
    while ((n = dp_port_list(sh->dp, &cursor, nums, 64)) > 0) {
        for (size_t i = 0; i < n; i++) {
            struct port *p = dp_port_get(sh->dp, nums[i]);
            struct port_stats ps;
            struct port_info pi;
            uint64_t ok = 0, fail = 0;

            if (!p) {
                continue;
            }
            port_get_stats(p, &ps);
            port_get_info(p, &pi);
            dp_port_get_upcall_stats(sh->dp, nums[i], &ok, &fail);
            uint32_t pids[8];
            int n_pids = dp_port_get_upcall_pids(sh->dp, nums[i], pids, 8);
            sbuf_printf(&out, "%s{\"port_no\":%u,\"name\":", first ? "" : ",",
                        nums[i]);
            first = false;
            json_str(&out, p->name);
            sbuf_printf(&out, ",\"type\":\"%s\",\"n_rxq\":%u,\"mtu\":%u,"
                        "\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\","
                        "\"link_up\":%s,\"ifindex\":%d,"
                        "\"rx_packets\":%llu,\"rx_bytes\":%llu,"
                        "\"tx_packets\":%llu,\"tx_bytes\":%llu,"
                        "\"tx_dropped\":%llu,\"rx_dropped\":%llu,"
                        "\"rx_errors\":%llu,\"upcall_ok\":%llu,"
                        "\"upcall_fail\":%llu,\"pids\":[",
                        port_type(p), p->n_rxq, pi.mtu, pi.mac[0], pi.mac[1],
                        pi.mac[2], pi.mac[3], pi.mac[4], pi.mac[5],
                        pi.link_up ? "true" : "false", pi.ifindex,
                        (unsigned long long) ps.rx_packets,
                        (unsigned long long) ps.rx_bytes,
                        (unsigned long long) ps.tx_packets,
                        (unsigned long long) ps.tx_bytes,
                        (unsigned long long) ps.tx_dropped,
                        (unsigned long long) ps.rx_dropped,
                        (unsigned long long) ps.rx_errors,
                        (unsigned long long) ok, (unsigned long long) fail);
            for (int j = 0; j < n_pids && j < 8; j++) {
                sbuf_printf(&out, "%s%u", j ? "," : "", pids[j]);
            }
            sbuf_put(&out, "]");
            if (!strcmp(port_type(p), "afxdp")) {
                sbuf_printf(&out, ",\"afxdp_mode\":\"%s\"",
                            port_afxdp_mode(p));
            }
            sbuf_put(&out, "}");
        }
    }
    sbuf_put(&out, "],\"pmds\":[");
    n = dp_pmd_get_stats(sh->dp, pmds, DP_PMD_MAX);
    for (size_t i = 0; i < n && i < DP_PMD_MAX; i++) {
        sbuf_printf(&out, "%s{\"id\":%u,\"cpu\":%d,\"n_rxq\":%u,"
                    "\"packets\":%llu,\"batches\":%llu,\"busy_ns\":%llu,"
                    "\"idle_ns\":%llu,\"sleep_ns\":%llu,\"wakeups\":%llu}",
                    i ? "," : "", pmds[i].id, pmds[i].cpu, pmds[i].n_rxq,
                    (unsigned long long) pmds[i].packets,
                    (unsigned long long) pmds[i].batches,
                    (unsigned long long) pmds[i].busy_ns,
                    (unsigned long long) pmds[i].idle_ns,
                    (unsigned long long) pmds[i].sleep_ns,
                    (unsigned long long) pmds[i].wakeups);
    }
    pthread_mutex_lock(&sh->mutex);
    sbuf_printf(&out, "],\"upcalls\":{\"received\":%llu,"
                "\"special_pid\":%u}",
                (unsigned long long) sh->received, dp_special_pid(sh->dp));
    pthread_mutex_unlock(&sh->mutex);
    reply_ok(sbuf_str(&out));
    sbuf_uninit(&out);
}

static int
cmd_execute(struct shell *sh, uint32_t in_port, const char *hex,
            const char *actions, struct errbuf *err)
{
    uint8_t frame[9216], acts[4096];
    struct packet *p;
    int len, alen;

    len = hex_to_bytes(hex, frame, sizeof frame);
    if (len < 0) {
        errbuf_set(err, "bad hex frame");
        return -EINVAL;
    }
    alen = parse_actions(actions, acts, sizeof acts, err);
    if (alen < 0) {
        return alen;
    }
    p = packet_create(frame, (size_t) len);
    if (!p) {
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    p->md.in_port = in_port;
    return dp_execute(sh->thr, p, acts, (size_t) alen, err);
}

/* Parses an unsigned decimal argument. */
static bool
parse_u32(const char *s, uint32_t *v)
{
    char *end;
    unsigned long x;

    if (!s || *s < '0' || *s > '9') {
        return false;
    }
    errno = 0;
    x = strtoul(s, &end, 10);
    if (*end || errno || x > UINT32_MAX) {
        return false;
    }
    *v = (uint32_t) x;
    return true;
}

/* Runs one command line.  Returns false on "quit". */
static bool
run_command(struct shell *sh, char *line)
{
    char *argv[6] = { NULL };
    char *rest = line, *save = NULL;
    struct errbuf err;
    int argc = 0, error = 0;
    char extra[64] = "";
    uint32_t a, b, c;

    errbuf_clear(&err);
    /* Split off up to 5 words; the 6th argument is the rest of the line. */
    while (argc < 5) {
        char *w = strtok_r(argc ? NULL : rest, " \t", &save);

        if (!w) {
            break;
        }
        argv[argc++] = w;
        if (!strcmp(argv[0], "flow-add") && argc == 2) {
            break;
        }
        if (!strcmp(argv[0], "execute") && argc == 3) {
            break;
        }
    }
    if (!argc) {
        reply_error("empty command");
        return true;
    }
    /* The remainder, for commands whose last argument has spaces. */
    {
        char *r = strtok_r(NULL, "", &save);

        while (r && (*r == ' ' || *r == '\t')) {
            r++;
        }
        argv[5] = r;
    }

    const char *cmd = argv[0];
    if (!strcmp(cmd, "quit")) {
        reply_ok("");
        return false;
    } else if (!strcmp(cmd, "port-add") && argc >= 3) {
        uint32_t no = DP_PORT_ANY;
        const char *opts = argc >= 4 && strcmp(argv[3], "-") ? argv[3]
                                                              : NULL;

        if (argc >= 5 && !parse_u32(argv[4], &no)) {
            reply_error("bad port number '%s'", argv[4]);
            return true;
        }
        error = dp_port_add(sh->dp, argv[1], argv[2], opts, &no, &err);
        snprintf(extra, sizeof extra, ",\"port_no\":%u", no);
    } else if (!strcmp(cmd, "port-del") && argc == 2 && parse_u32(argv[1], &a)) {
        error = dp_port_del(sh->dp, a);
        if (error) {
            errbuf_set(&err, "%s", strerror(-error));
        }
    } else if (!strcmp(cmd, "flow-add") && argc == 2 && argv[5]) {
        error = cmd_flow_add(sh, argv[1], argv[5], &err);
    } else if (!strcmp(cmd, "flow-flush") && argc == 1) {
        dp_flow_flush(sh->dp);
    } else if (!strcmp(cmd, "flows") && argc == 1) {
        cmd_flows(sh);
        return true;
    } else if (!strcmp(cmd, "pmd") && argc >= 2 && parse_u32(argv[1], &a)) {
        struct dp_pmd_config cfg = { .n_threads = a,
                                     .cpus = argc >= 3 ? argv[2] : NULL };

        error = dp_pmd_configure(sh->dp, &cfg, &err);
    } else if (!strcmp(cmd, "rxq-assign") && argc == 4
               && parse_u32(argv[1], &a) && parse_u32(argv[2], &b)
               && parse_u32(argv[3], &c)) {
        error = dp_pmd_rxq_assign(sh->dp, a, b, c, &err);
    } else if (!strcmp(cmd, "handlers") && (argc == 2 || argc == 3)
               && parse_u32(argv[1], &a)
               && (argc == 2 || parse_u32(argv[2], &b))) {
        error = cmd_handlers(sh, a, argc == 3 ? b : 0, &err);
    } else if (!strcmp(cmd, "features") && argc == 2
               && parse_u32(argv[1], &a)) {
        dp_set_user_features(sh->dp, a);
    } else if (!strcmp(cmd, "upcalls") && argc == 1) {
        cmd_upcalls(sh);
        return true;
    } else if (!strcmp(cmd, "stats") && argc == 1) {
        cmd_stats(sh);
        return true;
    } else if (!strcmp(cmd, "execute") && argc == 3 && argv[5]
               && parse_u32(argv[1], &a)) {
        error = cmd_execute(sh, a, argv[2], argv[5], &err);
    } else {
        reply_error("unknown command or bad arguments: '%s'", cmd);
        return true;
    }
    if (error) {
        reply_error("%s", err.msg[0] ? err.msg : strerror(-error));
    } else {
        reply_ok(extra);
    }
    qsbr_quiesce();
    return true;
}

int
main(int argc, char *argv[])
{
    static const struct option longopts[] = {
        { "name", required_argument, NULL, 'n' },
        { "local-type", required_argument, NULL, 't' },
        { "local-options", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    struct dp_config cfg = { .local_type = "tap" };
    const char *name = "wdp0";
    struct shell sh = { 0 };
    struct errbuf err;
    char *line = NULL;
    size_t cap = 0;
    int opt;

    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            name = optarg;
            break;
        case 't':
            cfg.local_type = optarg;
            break;
        case 'o':
            cfg.local_options = optarg;
            break;
        default:
            fprintf(stderr, "usage: dp-shell [--name NAME] "
                    "[--local-type TYPE] [--local-options OPTS]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    qsbr_register();
    pthread_mutex_init(&sh.mutex, NULL);
    errbuf_clear(&err);
    if (dp_create(name, &cfg, &sh.dp, &err)) {
        fprintf(stderr, "dp-shell: %s\n", err.msg);
        return 1;
    }
    sh.thr = dp_thread_create(sh.dp, NULL);
    reply_ok(",\"ready\":true");
    for (;;) {
        ssize_t n;

        /* Waiting for input blocks: offline, so grace periods go on. */
        qsbr_offline();
        n = getline(&line, &cap, stdin);
        qsbr_online();
        if (n <= 0) {
            break;
        }
        line[strcspn(line, "\r\n")] = '\0';
        if (!run_command(&sh, line)) {
            break;
        }
    }
    free(line);
    handlers_stop(&sh);
    dp_thread_destroy(sh.thr);
    {
        struct errbuf e;

        errbuf_clear(&e);
        dp_handlers_set(sh.dp, 0, &e);
    }
    qsbr_offline();
    dp_destroy(sh.dp);
    qsbr_online();
    for (size_t i = 0; i < sh.n_kept; i++) {
        dp_upcall_free(sh.kept[(sh.kept_head + i) % KEPT_UPCALLS]);
    }
    pthread_mutex_destroy(&sh.mutex);
    qsbr_unregister();
    return 0;
}
