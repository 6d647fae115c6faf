/* SPDX-License-Identifier: Apache-2.0 */
/* "weir dp" flow commands: dump-flows, add-flow, mod-flow, get-flow,
 * del-flow, del-flows, add-flows, mod-flows -- ovs-dpctl's, with its
 * arguments, output and "[DP]" default (lib/dpctl.c), over libweir's dpif
 * API.  Keys and actions are parsed by the codec (codec/fkey-text.h,
 * codec/actions-text.h) and printed by weir-dp-text.c. */

#include "tools/weir-dp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "codec/actions-text.h"
#include "codec/fkey-text.h"
#include "codec/ufid.h"
#include "lib/errbuf.h"
#include "lib/text.h"
#include "tools/weir.h"

/* Room for a key or a mask (the kernel's keys are far smaller), and for
 * the longest action list a netlink attribute can hold. */
#define KEY_BUF_SIZE 8192
#define ACT_BUF_SIZE (MNL_NLMSG_HDRLEN + 65535)

/* A bare attribute stream built with libmnl: a message header followed by
 * attributes; the stream is the payload. */
struct stream {
    struct nlmsghdr *nlh;
    size_t size;
};

static void
stream_init(struct stream *s, size_t size)
{
    void *buf = calloc(1, size);

    if (!buf) {
        abort();
    }
    s->nlh = mnl_nlmsg_put_header(buf);
    s->size = size;
}

static void
stream_uninit(struct stream *s)
{
    free(s->nlh);
}

static const void *
stream_data(const struct stream *s)
{
    return mnl_nlmsg_get_payload(s->nlh);
}

static size_t
stream_len(const struct stream *s)
{
    return s->nlh->nlmsg_len - MNL_NLMSG_HDRLEN;
}

static const char *
skip_spaces(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
        s++;
    }
    return s;
}

static void
to_dpif_ufid(const struct ufid *in, struct dpif_ufid *out)
{
    memset(out, 0, sizeof *out);
    out->len = in->len;
    memcpy(out->id, in->id, in->len);
}

/* Parses a leading "ufid:..." of 's' (then an optional ','), as OVS's
 * odp_ufid_from_string().  Returns the characters used (0 if 's' does not
 * start with "ufid:"), or -EINVAL with the reason in 'err'. */
static int
parse_leading_ufid(const char *s, struct dpif_ufid *ufid, struct errbuf *err)
{
    const char *p = skip_spaces(s);
    struct ufid u;
    size_t used;

    if (strncmp(p, "ufid:", 5)) {
        return 0;
    }
    if (ufid_parse(p, &used, &u, err) < 0) {
        return -EINVAL;
    }
    to_dpif_ufid(&u, ufid);
    p = skip_spaces(p + used);
    if (*p == ',') {
        p = skip_spaces(p + 1);
    }
    return p - s;
}

char *
dp_subst_port_names(const char *text, const struct dp_port_names *names)
{
    struct sbuf sb = SBUF_INIT;
    const char *p = text;
    char *copy;

    while (*p) {
        const char *hit = strstr(p, "in_port(");
        const char *val, *end;
        uint32_t port_no;
        char *name;

        if (!hit) {
            break;
        }
        val = hit + strlen("in_port(");
        end = strchr(val, ')');
        sbuf_putn(&sb, p, val - p);
        p = val;
        if (!end || (hit != text && hit[-1] != ',' && hit[-1] != ' ')) {
            continue;
        }
        name = strndup(val, end - val);
        if (!name) {
            abort();
        }
        if (name[strspn(name, "0123456789")]
            && dp_port_names_find(names, name, &port_no)) {
            sbuf_printf(&sb, "%"PRIu32, port_no);
            p = end;
        }
        free(name);
    }
    sbuf_put(&sb, p);
    copy = strdup(sbuf_str(&sb));
    sbuf_uninit(&sb);
    if (!copy) {
        abort();
    }
    return copy;
}

/* A flow key, mask and (optionally) actions parsed from command-line
 * text. */
struct flow_input {
    bool has_ufid;
    struct dpif_ufid ufid;
    struct stream key, mask, acts;
};

static void
flow_input_init(struct flow_input *in)
{
    memset(in, 0, sizeof *in);
    stream_init(&in->key, KEY_BUF_SIZE);
    stream_init(&in->mask, KEY_BUF_SIZE);
    stream_init(&in->acts, ACT_BUF_SIZE);
}

static void
flow_input_uninit(struct flow_input *in)
{
    stream_uninit(&in->key);
    stream_uninit(&in->mask);
    stream_uninit(&in->acts);
}

/* Parses "[ufid:U,]KEY" from 'key_s' and, if 'acts_s' is nonnull, the
 * actions.  Port names in in_port() become numbers.  Returns true, or
 * false after printing the reason. */
static bool
flow_input_parse(struct flow_input *in, const char *key_s,
                 const char *acts_s, const struct dp_port_names *names)
{
    struct errbuf eb;
    const char *s;
    char *key_text;
    size_t used;
    int n;

    errbuf_clear(&eb);
    n = parse_leading_ufid(key_s, &in->ufid, &eb);
    if (n < 0) {
        weir_error("parsing flow ufid: %s", eb.msg);
        return false;
    }
    in->has_ufid = n > 0;
    key_text = dp_subst_port_names(key_s + n, names);
    s = skip_spaces(key_text);
    if (*s && fkey_parse(s, &used, in->key.nlh, in->key.size, in->mask.nlh,
                         in->mask.size, &eb) < 0) {
        weir_error("parsing flow key (%s)", eb.msg);
        free(key_text);
        return false;
    }
    if (*s && *skip_spaces(s + used)) {
        weir_error("parsing flow key (unexpected text '%s' after the key)",
                   skip_spaces(s + used));
        free(key_text);
        return false;
    }
    free(key_text);
    if (!acts_s) {
        return true;
    }
    s = skip_spaces(acts_s);
    if (!strncmp(s, "actions:", 8)) {
        s += 8;
    }
    if (act_parse(s, &used, in->acts.nlh, in->acts.size, &eb) < 0) {
        weir_error("parsing actions (%s)", eb.msg);
        return false;
    }
    if (*skip_spaces(s + used)) {
        weir_error("parsing actions (unexpected text '%s' after the "
                   "actions)", skip_spaces(s + used));
        return false;
    }
    return true;
}

/* Prints a flow's statistics for -s, as text or as a JSON document. */
static void
print_stats(const struct dpif_flow_stats *stats, const struct dp_opts *o)
{
    struct sbuf sb = SBUF_INIT;

    if (o->json) {
        struct dp_json j;

        dp_json_init(&j, &sb);
        dp_json_stats(&j, NULL, stats, dp_now_ms());
    } else {
        dp_format_stats(stats, dp_now_ms(), &sb);
    }
    puts(sbuf_str(&sb));
    sbuf_uninit(&sb);
}

/* ---- Flow changes, one at a time. ---- */

static int
put_flow(struct dpif *dpif, const char *key_s, const char *acts_s,
         unsigned int flags, const struct dp_opts *o,
         const struct dp_port_names *names)
{
    struct dpif_flow_stats stats;
    struct flow_input in;
    int error;

    flow_input_init(&in);
    if (!flow_input_parse(&in, key_s, acts_s, names)) {
        flow_input_uninit(&in);
        return WEIR_EXIT_ERROR;
    }
    memset(&stats, 0, sizeof stats);
    error = dpif_flow_put(dpif, flags, stream_data(&in.key),
                          stream_len(&in.key),
                          stream_len(&in.mask) ? stream_data(&in.mask)
                                               : NULL,
                          stream_len(&in.mask),
                          in.has_ufid ? &in.ufid : NULL,
                          stream_data(&in.acts), stream_len(&in.acts),
                          o->statistics ? &stats : NULL);
    flow_input_uninit(&in);
    if (error) {
        return dp_fail("updating flow table", error);
    }
    if (o->statistics) {
        print_stats(&stats, o);
    }
    return WEIR_EXIT_OK;
}

static int
del_flow(struct dpif *dpif, const char *key_s, const struct dp_opts *o,
         const struct dp_port_names *names)
{
    struct dpif_flow_stats stats;
    struct flow_input in;
    int error;

    flow_input_init(&in);
    if (!flow_input_parse(&in, key_s, NULL, names)) {
        flow_input_uninit(&in);
        return WEIR_EXIT_ERROR;
    }
    if (!in.has_ufid && !stream_len(&in.key)) {
        /* An OVS_FLOW_CMD_DEL without key or UFID deletes every flow:
         * never do that by accident. */
        weir_error("deleting flow: give a flow key or ufid:UFID (del-flows "
                   "deletes every flow)");
        flow_input_uninit(&in);
        return WEIR_EXIT_ERROR;
    }
    memset(&stats, 0, sizeof stats);
    error = dpif_flow_del(dpif, stream_data(&in.key), stream_len(&in.key),
                          in.has_ufid ? &in.ufid : NULL,
                          o->statistics ? &stats : NULL);
    if (error) {
        dp_fail("deleting flow", error);
        if (error == -ENOENT && !in.has_ufid) {
            /* As ovs-dpctl: a flow put with a UFID is found by it only. */
            puts("Perhaps you need to specify a UFID?");
        }
        flow_input_uninit(&in);
        return WEIR_EXIT_ERROR;
    }
    flow_input_uninit(&in);
    if (o->statistics) {
        print_stats(&stats, o);
    }
    return WEIR_EXIT_OK;
}

/* Loads port names if 'needed'; returns false after printing why not. */
static bool
load_names(struct dpif *dpif, bool needed, struct dp_port_names *names)
{
    int error;

    names->ports = NULL;
    names->n = 0;
    if (!needed) {
        return true;
    }
    error = dp_port_names_load(dpif, names);
    if (error) {
        dp_fail("listing ports", error);
        dp_port_names_free(names);
        return false;
    }
    return true;
}

/* Does 'text' name a port in in_port(), i.e. need the port list? */
static bool
mentions_port_name(const char *text)
{
    const char *p = text;

    while ((p = strstr(p, "in_port(")) != NULL) {
        p += strlen("in_port(");
        if (*p != ')' && (*p < '0' || *p > '9')) {
            return true;
        }
    }
    return false;
}

int
dp_cmd_put_flow(int argc, char *argv[], const struct dp_opts *o,
                bool modify)
{
    struct dp_port_names names;
    unsigned int flags;
    struct dpif *dpif;
    int status;

    if (dp_open(argc == 3 ? argv[0] : NULL, &dpif)) {
        return WEIR_EXIT_ERROR;
    }
    if (!load_names(dpif, mentions_port_name(argv[argc - 2]), &names)) {
        dpif_close(dpif);
        return WEIR_EXIT_ERROR;
    }
    if (modify) {
        flags = DPIF_FP_MODIFY;
        if (o->may_create) {
            flags |= DPIF_FP_CREATE;
        }
        if (o->clear) {
            flags |= DPIF_FP_ZERO_STATS;
        }
    } else {
        flags = DPIF_FP_CREATE;
    }
    status = put_flow(dpif, argv[argc - 2], argv[argc - 1], flags, o,
                      &names);
    dp_port_names_free(&names);
    dpif_close(dpif);
    return status;
}

int
dp_cmd_del_flow(int argc, char *argv[], const struct dp_opts *o)
{
    struct dp_port_names names;
    struct dpif *dpif;
    int status;

    if (dp_open(argc == 2 ? argv[0] : NULL, &dpif)) {
        return WEIR_EXIT_ERROR;
    }
    if (!load_names(dpif, mentions_port_name(argv[argc - 1]), &names)) {
        dpif_close(dpif);
        return WEIR_EXIT_ERROR;
    }
    status = del_flow(dpif, argv[argc - 1], o, &names);
    dp_port_names_free(&names);
    dpif_close(dpif);
    return status;
}

/* ---- get-flow ---- */

int
dp_cmd_get_flow(int argc, char *argv[], const struct dp_opts *o)
{
    const char *ufid_s = argv[argc - 1];
    struct dp_port_names names;
    struct dpif_flow flow;
    struct dpif_ufid ufid;
    struct sbuf sb = SBUF_INIT;
    struct errbuf eb;
    struct dpif *dpif;
    void *buf;
    int status = WEIR_EXIT_OK;
    int n, error;

    errbuf_clear(&eb);
    n = parse_leading_ufid(ufid_s, &ufid, &eb);
    if (n <= 0 || *skip_spaces(ufid_s + n)) {
        weir_error("parsing flow ufid: %s", n < 0 ? eb.msg
                   : "expected ufid:UUID (or ufid:0xHEX) and nothing else");
        return WEIR_EXIT_ERROR;
    }
    if (dp_open(argc == 2 ? argv[0] : NULL, &dpif)) {
        return WEIR_EXIT_ERROR;
    }
    if (!load_names(dpif, o->names, &names)) {
        dpif_close(dpif);
        return WEIR_EXIT_ERROR;
    }
    buf = malloc(DPIF_FLOW_BUFSIZE);
    if (!buf) {
        abort();
    }
    error = dpif_flow_get(dpif, NULL, 0, &ufid, buf, DPIF_FLOW_BUFSIZE,
                          &flow);
    if (error) {
        status = dp_fail("getting flow", error);
    } else if (o->json) {
        struct dp_json j;

        char dpname[DPIF_NAME_MAX + 8];

        snprintf(dpname, sizeof dpname, "system@%s", dpif_name(dpif));
        dp_json_init(&j, &sb);
        dp_json_open(&j, NULL, '{');
        dp_json_str(&j, "datapath", dpname);
        dp_json_flow(&j, "flow", &flow, o->more > 0,
                     o->names ? &names : NULL, dp_now_ms());
        dp_json_close(&j, '}');
        puts(sbuf_str(&sb));
    } else {
        dp_format_flow(&flow, o->more > 0, false, o->names ? &names : NULL,
                       dp_now_ms(), &sb);
        puts(sbuf_str(&sb));
    }
    sbuf_uninit(&sb);
    free(buf);
    dp_port_names_free(&names);
    dpif_close(dpif);
    return status;
}

/* ---- dump-flows ---- */

/* Prints one flow of a dump: text line or JSON array member. */
static void
dump_one(const struct dpif_flow *flow, const struct dp_opts *o,
         const struct dp_port_names *names, int64_t now_ms,
         struct dp_json *j, struct sbuf *sb)
{
    if (o->json) {
        struct dpif_flow copy = *flow;

        if (o->terse) {
            /* What the text shows: a flow without UFID comes whole even
             * in a terse dump (weir/dpif.h), but --terse leaves its
             * actions out too. */
            copy.actions = NULL;
            copy.actions_len = 0;
        }
        dp_json_flow(j, NULL, &copy, o->more > 0, names, now_ms);
        return;
    }
    if (o->terse) {
        /* UFID and statistics; a flow without UFID has only its key to
         * name it. */
        if (flow->ufid.len) {
            struct dpif_flow idonly = *flow;

            idonly.key = NULL;
            idonly.key_len = 0;
            dp_format_flow(&idonly, false, true, NULL, now_ms, sb);
        } else {
            dp_format_key(flow, o->more > 0, names, sb);
            sbuf_put(sb, ", ");
            dp_format_stats(&flow->stats, now_ms, sb);
        }
    } else {
        dp_format_flow(flow, o->more > 0, false, names, now_ms, sb);
    }
    sbuf_putc(sb, '\n');
}

int
dp_cmd_dump_flows(int argc, char *argv[], const struct dp_opts *o)
{
    struct dp_filter *filter = NULL;
    const char *filter_s = NULL;
    const char *dp_arg = NULL;
    struct dp_port_names names = { NULL, 0 };
    struct dpif_flow_dump_thread *thread;
    struct dpif_flow_dump *dump;
    struct dpif_flow flows[64];
    struct sbuf sb = SBUF_INIT;
    struct dp_json j;
    struct dpif *dpif;
    int status = WEIR_EXIT_OK;
    int n, error;

    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "filter=", 7) && !filter_s) {
            filter_s = argv[i] + 7;
        } else if (!strncmp(argv[i], "type=", 5)) {
            weir_error("Invalid argument 'type'. weir's datapath has one "
                       "type of flows (ovs)");
            return WEIR_EXIT_USAGE;
        } else if (!strncmp(argv[i], "pmd=", 4)) {
            weir_error("Invalid argument 'pmd': weir's datapath shares one "
                       "flow table between its PMD threads");
            return WEIR_EXIT_USAGE;
        } else if (!dp_arg) {
            dp_arg = argv[i];
        } else {
            weir_error("'dump-flows' takes at most one datapath and one "
                       "filter=... (try 'weir dp --help')");
            return WEIR_EXIT_USAGE;
        }
    }
    if (dp_open(dp_arg, &dpif)) {
        return WEIR_EXIT_ERROR;
    }
    if (!load_names(dpif, o->names || filter_s, &names)) {
        dpif_close(dpif);
        return WEIR_EXIT_ERROR;
    }
    if (filter_s) {
        struct errbuf eb;

        errbuf_clear(&eb);
        filter = malloc(sizeof *filter);
        if (!filter) {
            abort();
        }
        if (dp_filter_parse(filter_s, &names, filter, &eb)) {
            weir_error("Failed to parse filter (%s)", eb.msg);
            status = WEIR_EXIT_ERROR;
            goto out;
        }
        if (o->terse && filter->key_len) {
            weir_error("--terse: the flows of a terse dump have no keys to "
                       "filter on (filter on ufid only)");
            status = WEIR_EXIT_USAGE;
            goto out;
        }
    }

    dump = dpif_flow_dump_create(dpif, o->terse);
    if (!dump) {
        status = dp_fail("Failed to dump flows from datapath", -ENOMEM);
        goto out;
    }
    thread = dpif_flow_dump_thread_create(dump);
    dp_json_init(&j, &sb);
    if (o->json) {
        char dpname[DPIF_NAME_MAX + 8];

        snprintf(dpname, sizeof dpname, "system@%s", dpif_name(dpif));
        dp_json_open(&j, NULL, '{');
        dp_json_str(&j, "datapath", dpname);
        dp_json_open(&j, "flows", '[');
    }
    while (thread && (n = dpif_flow_dump_next(thread, flows, 64)) > 0) {
        int64_t now_ms = dp_now_ms();

        for (int i = 0; i < n; i++) {
            if (filter && !dp_filter_match(filter, &flows[i])) {
                continue;
            }
            dump_one(&flows[i], o, o->names ? &names : NULL, now_ms, &j,
                     &sb);
        }
        /* Stream the output: a dump can be long. */
        fputs(sbuf_str(&sb), stdout);
        sbuf_clear(&sb);
    }
    dpif_flow_dump_thread_destroy(thread);
    error = dpif_flow_dump_destroy(dump);
    if (o->json) {
        dp_json_close(&j, ']');
        dp_json_close(&j, '}');
        sbuf_putc(&sb, '\n');
        fputs(sbuf_str(&sb), stdout);
    }
    if (error) {
        status = dp_fail("Failed to dump flows from datapath", error);
    }

out:
    sbuf_uninit(&sb);
    free(filter);
    dp_port_names_free(&names);
    dpif_close(dpif);
    return status;
}

/* ---- del-flows, add-flows, mod-flows ---- */

/* Is 'arg' the name of an existing datapath? */
struct exists_ctx {
    const char *name;
    bool found;
};

static void
exists_cb(const char *name, void *ctx_)
{
    struct exists_ctx *ctx = ctx_;

    ctx->found |= !strcmp(name, ctx->name);
}

static bool
dp_exists(const char *arg)
{
    char name[DPIF_NAME_MAX];
    struct exists_ctx ctx = { name, false };
    const char *at = strchr(arg, '@');
    const char *base = at ? at + 1 : arg;

    if (strlen(base) >= DPIF_NAME_MAX || !*base) {
        return false;
    }
    strcpy(name, base);
    return !dpif_enumerate("netlink", exists_cb, &ctx) && ctx.found;
}

int
dp_cmd_del_flows(int argc, char *argv[], const struct dp_opts *o)
{
    struct dpif *dpif;
    int error;

    /* As ovs-dpctl: "del-flows X" flushes datapath X if there is one,
     * else reads flows to delete from file X. */
    if (argc == 2 || (argc == 1 && !dp_exists(argv[0]))) {
        return dp_cmd_process_flows(argc, argv, o, DP_FLOWS_DEL);
    }
    if (dp_open(argc ? argv[0] : NULL, &dpif)) {
        return WEIR_EXIT_ERROR;
    }
    error = dpif_flow_flush(dpif);
    dpif_close(dpif);
    return error ? dp_fail("deleting all flows", error) : WEIR_EXIT_OK;
}

/* Splits a flow file line as ovs-dpctl does: an optional command word
 * (any leading part of "add", "modify" or "delete"), the flow (up to a
 * blank), the actions (the rest).  Returns the command; '*flow' and
 * '*acts' point into 'line' (NUL-terminated there), NULL if absent. */
static int
split_flow_line(char *line, int cmd, char **flow, char **acts)
{
    static const struct {
        const char *word;
        int cmd;
    } words[] = {
        { "add", DP_FLOWS_ADD },
        { "modify", DP_FLOWS_MOD },
        { "delete", DP_FLOWS_DEL },
    };
    char *p = line + strspn(line, " \t\r\n");
    size_t len = strcspn(p, ", \t\r\n");

    for (size_t i = 0; len && i < sizeof words / sizeof words[0]; i++) {
        if (len <= strlen(words[i].word) && !strncmp(p, words[i].word, len)) {
            cmd = words[i].cmd;
            p += len;
            break;
        }
    }
    p += strspn(p, " \t\r\n");
    len = strcspn(p, " \t\r\n");
    *flow = NULL;
    *acts = NULL;
    if (!len) {
        return cmd;
    }
    *flow = p;
    p += len;
    if (*p) {
        *p++ = '\0';
    }
    p += strspn(p, " \t\r\n");
    if (*p) {
        size_t end = strlen(p);

        while (end && strchr(" \t\r\n", p[end - 1])) {
            p[--end] = '\0';
        }
        *acts = p;
    }
    return cmd;
}

int
dp_cmd_process_flows(int argc, char *argv[], const struct dp_opts *o,
                     int default_cmd)
{
    const char *file = argv[argc - 1];
    struct dp_port_names names;
    struct dpif *dpif;
    char *line = NULL;
    size_t cap = 0;
    unsigned int line_no = 0;
    int status = WEIR_EXIT_OK;
    FILE *f;

    if (dp_open(argc == 2 ? argv[0] : NULL, &dpif)) {
        return WEIR_EXIT_ERROR;
    }
    if (!load_names(dpif, true, &names)) {
        dpif_close(dpif);
        return WEIR_EXIT_ERROR;
    }
    f = !strcmp(file, "-") ? stdin : fopen(file, "r");
    if (!f) {
        weir_error("Opening file \"%s\" failed (%s)", file, strerror(errno));
        dp_port_names_free(&names);
        dpif_close(dpif);
        return WEIR_EXIT_ERROR;
    }
    while (getline(&line, &cap, f) >= 0) {
        char *hash = strchr(line, '#');
        char *flow, *acts;
        int cmd;

        line_no++;
        if (hash) {
            *hash = '\0';
        }
        if (!line[strspn(line, " \t\r\n")]) {
            continue;
        }
        cmd = split_flow_line(line, default_cmd, &flow, &acts);
        if (!flow || (cmd != DP_FLOWS_DEL && !acts)
            || (cmd == DP_FLOWS_DEL && acts)) {
            weir_error("Failed parsing line number %u, skipped!", line_no);
            status = WEIR_EXIT_ERROR;
            continue;
        }
        if ((cmd == DP_FLOWS_DEL ? del_flow(dpif, flow, o, &names)
             : put_flow(dpif, flow, acts,
                        cmd == DP_FLOWS_ADD ? DPIF_FP_CREATE
                                            : DPIF_FP_MODIFY, o, &names))) {
            status = WEIR_EXIT_ERROR;
        }
    }
    free(line);
    if (f != stdin) {
        fclose(f);
    }
    dp_port_names_free(&names);
    dpif_close(dpif);
    return status;
}
