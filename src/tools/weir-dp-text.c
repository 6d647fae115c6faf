/* SPDX-License-Identifier: Apache-2.0 */
/* "weir dp": what the commands print -- flow lines, statistics, ports,
 * port names and JSON -- in the forms of Open vSwitch 3.1's ovs-dpctl
 * (lib/dpctl.c, lib/dpif.c dpif_flow_stats_format(), lib/packets.c
 * packet_format_tcp_flags()).  See weir-dp.h. */

#include "tools/weir-dp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/actions-text.h"
#include "codec/fkey-text.h"
#include "codec/ufid.h"
#include "lib/text.h"

/* ---- Port names. ---- */

static int
cmp_port_no(const void *a_, const void *b_)
{
    const struct dpif_port *a = a_, *b = b_;

    return a->port_no < b->port_no ? -1 : a->port_no > b->port_no;
}

int
dp_port_names_load(const struct dpif *dpif, struct dp_port_names *pn)
{
    struct dpif_port_dump *dump;
    struct dpif_port port;
    size_t cap = 0;
    int error;

    pn->ports = NULL;
    pn->n = 0;
    dump = dpif_port_dump_start(dpif);
    if (!dump) {
        return -ENOMEM;
    }
    while (dpif_port_dump_next(dump, &port)) {
        if (pn->n == cap) {
            cap = cap ? 2 * cap : 16;
            pn->ports = realloc(pn->ports, cap * sizeof *pn->ports);
            if (!pn->ports) {
                abort();
            }
        }
        pn->ports[pn->n++] = port;
    }
    error = dpif_port_dump_done(dump);
    if (pn->n) {
        qsort(pn->ports, pn->n, sizeof *pn->ports, cmp_port_no);
    }
    return error;
}

void
dp_port_names_free(struct dp_port_names *pn)
{
    if (pn) {
        free(pn->ports);
        pn->ports = NULL;
        pn->n = 0;
    }
}

const char *
dp_port_names_get(const struct dp_port_names *pn, uint32_t port_no)
{
    size_t lo = 0, hi = pn ? pn->n : 0;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (pn->ports[mid].port_no == port_no) {
            return pn->ports[mid].name;
        } else if (pn->ports[mid].port_no < port_no) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

bool
dp_port_names_find(const struct dp_port_names *pn, const char *name,
                   uint32_t *port_no)
{
    for (size_t i = 0; pn && i < pn->n; i++) {
        if (!strcmp(pn->ports[i].name, name)) {
            *port_no = pn->ports[i].port_no;
            return true;
        }
    }
    return false;
}

/* ---- Statistics. ---- */

int64_t
dp_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
dp_format_tcp_flags(uint16_t flags, struct sbuf *out)
{
    /* OVS's order: SYN, FIN, PSH, RST, URG, ACK, ECE, CWR, NS; the other
     * bits of the 12-bit field in brackets. */
    static const struct {
        uint16_t bit;
        const char *name;
    } names[] = {
        { 0x002, "S" }, { 0x001, "F" }, { 0x008, "P" }, { 0x004, "R" },
        { 0x020, "U" }, { 0x010, "." }, { 0x040, "E" }, { 0x080, "C" },
        { 0x100, "N" }, { 0x200, "[200]" }, { 0x400, "[400]" },
        { 0x800, "[800]" },
    };

    if (!flags) {
        sbuf_put(out, "none");
        return;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (flags & names[i].bit) {
            sbuf_put(out, names[i].name);
        }
    }
}

void
dp_format_stats(const struct dpif_flow_stats *stats, int64_t now_ms,
                struct sbuf *out)
{
    sbuf_printf(out, "packets:%"PRIu64", bytes:%"PRIu64", used:",
                stats->n_packets, stats->n_bytes);
    if (stats->used_ms) {
        int64_t age = now_ms - stats->used_ms;

        /* weird and this process read the same monotonic clock; a flow
         * used between our reading and weird's answer is "0.000s" old,
         * not negative. */
        sbuf_printf(out, "%.3fs", (age > 0 ? age : 0) / 1000.0);
    } else {
        sbuf_put(out, "never");
    }
    if (stats->tcp_flags) {
        sbuf_put(out, ", flags:");
        dp_format_tcp_flags(stats->tcp_flags, out);
    }
}

void
dp_format_human_size(uint64_t bytes, struct sbuf *out)
{
    static const char *const units[] = { "TiB", "GiB", "MiB", "KiB" };

    for (int i = 0; i < 4; i++) {
        double scale = (double) (1ULL << (10 * (4 - i)));

        if (bytes >= (1ULL << (10 * (4 - i)))) {
            sbuf_printf(out, " (%.1f %s)", bytes / scale, units[i]);
            return;
        }
    }
}

/* ---- Port names in flow text. ---- */

static bool
is_digits(const char *s, size_t n)
{
    if (!n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

/* Returns the port named by the 'n' decimal digits at 's', if 'names' has
 * one, else NULL. */
static const char *
name_of_digits(const char *s, size_t n, const struct dp_port_names *names)
{
    char buf[16];
    unsigned long long v;

    if (n >= sizeof buf) {
        return NULL;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    v = strtoull(buf, NULL, 10);
    if (v > UINT32_MAX) {
        return NULL;
    }
    return dp_port_names_get(names, v);
}

/* Is 'name' (the 'n' characters before a '(') a group whose items are
 * actions? */
static bool
is_action_list_group(const char *name, size_t n)
{
    static const char *const groups[] = {
        "clone", "actions", "gt", "le", "le_1",
    };

    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        if (strlen(groups[i]) == n && !memcmp(groups[i], name, n)) {
            return true;
        }
    }
    return false;
}

void
dp_names_in_actions(const char *text, const struct dp_port_names *names,
                    struct sbuf *out)
{
    /* One flag per open parenthesis: whether its items are actions.  The
     * top level is an action list.  Deeper nesting than this is printed
     * as it is. */
    enum { MAX_DEPTH = 64 };
    bool lists[MAX_DEPTH + 1];
    int depth = 0;
    size_t word = 0;            /* Start of the current name or number. */
    size_t len = strlen(text);

    lists[0] = true;
    for (size_t i = 0; i <= len; i++) {
        char c = text[i];

        if (c == '(' || c == ')' || c == ',' || c == '\0') {
            const char *name = NULL;

            /* A bare number that is a whole item of an action list is an
             * output action. */
            if ((c != '(') && depth <= MAX_DEPTH && lists[depth]
                && is_digits(text + word, i - word)) {
                name = name_of_digits(text + word, i - word, names);
            }
            if (name) {
                sbuf_put(out, name);
            } else {
                sbuf_putn(out, text + word, i - word);
            }
            if (c == '(') {
                depth++;
                if (depth <= MAX_DEPTH) {
                    lists[depth] = is_action_list_group(text + word,
                                                        i - word);
                }
            } else if (c == ')' && depth > 0) {
                depth--;
            }
            if (c) {
                sbuf_putc(out, c);
            }
            word = i + 1;
        }
    }
}

/* Replaces the number in a leading or ","-preceded "in_port(N)" of key
 * text 'text' by the port's name. */
static void
names_in_key(const char *text, const struct dp_port_names *names,
             struct sbuf *out)
{
    const char *p = text;
    const char *hit = NULL;

    while ((p = strstr(p, "in_port(")) != NULL) {
        if (p == text || p[-1] == ',') {
            hit = p;
            break;
        }
        p++;
    }
    if (hit) {
        const char *num = hit + strlen("in_port(");
        size_t n = strspn(num, "0123456789");
        const char *name = num[n] == ')' ? name_of_digits(num, n, names)
                                         : NULL;

        if (name) {
            sbuf_putn(out, text, num - text);
            sbuf_put(out, name);
            sbuf_put(out, num + n);
            return;
        }
    }
    sbuf_put(out, text);
}

/* ---- Flows. ---- */

void
dp_format_key(const struct dpif_flow *flow, bool verbose,
              const struct dp_port_names *names, struct sbuf *out)
{
    struct sbuf key = SBUF_INIT;

    fkey_format(flow->key, flow->key_len, flow->mask_len ? flow->mask : NULL,
                flow->mask_len, verbose, &key);
    if (names) {
        names_in_key(sbuf_str(&key), names, out);
    } else {
        sbuf_put(out, sbuf_str(&key));
    }
    sbuf_uninit(&key);
}

void
dp_format_actions(const struct dpif_flow *flow,
                  const struct dp_port_names *names, struct sbuf *out)
{
    struct sbuf acts = SBUF_INIT;

    act_format(flow->actions, flow->actions_len, &acts);
    if (names) {
        dp_names_in_actions(sbuf_str(&acts), names, out);
    } else {
        sbuf_put(out, sbuf_str(&acts));
    }
    sbuf_uninit(&acts);
}

static void
format_ufid(const struct dpif_ufid *u, struct sbuf *out)
{
    struct ufid ufid = { .len = u->len };

    memcpy(ufid.id, u->id, u->len <= UFID_MAX_LEN ? u->len : 0);
    ufid_format(&ufid, out);
}

void
dp_format_flow(const struct dpif_flow *flow, bool verbose, bool with_ufid,
               const struct dp_port_names *names, int64_t now_ms,
               struct sbuf *out)
{
    bool terse = !flow->key && flow->ufid.len;

    if ((verbose || with_ufid || terse) && flow->ufid.len) {
        format_ufid(&flow->ufid, out);
        sbuf_put(out, ", ");
    }
    if (!terse) {
        dp_format_key(flow, verbose, names, out);
        sbuf_put(out, ", ");
    }
    dp_format_stats(&flow->stats, now_ms, out);
    if (terse || !flow->actions) {
        return;                 /* Actions left out of the dump. */
    }
    if (verbose) {
        /* ovs-dpctl -m shows which datapath layer holds the flow; for a
         * kernel datapath (which weird is, to its clients) that is
         * "ovs". */
        sbuf_put(out, ", dp:ovs");
    }
    sbuf_put(out, ", actions:");
    dp_format_actions(flow, names, out);
}

/* ---- Ports. ---- */

/* One "k=v" item of an option string. */
struct opt_item {
    const char *s;
    size_t len;
};

static int
cmp_opt_item(const void *a_, const void *b_)
{
    const struct opt_item *a = a_, *b = b_;
    size_t ka = strcspn(a->s, "="), kb = strcspn(b->s, "=");
    int c;

    ka = ka < a->len ? ka : a->len;
    kb = kb < b->len ? kb : b->len;
    c = memcmp(a->s, b->s, ka < kb ? ka : kb);
    return c ? c : (ka < kb ? -1 : ka > kb);
}

/* Splits 'options' ("k=v,k=v") into a malloc'd array of items sorted by
 * key; '*n' gets the count.  NULL if there are none. */
static struct opt_item *
split_options(const char *options, size_t *n)
{
    struct opt_item *items = NULL;
    size_t cap = 0;

    *n = 0;
    while (options && *options) {
        size_t len = strcspn(options, ",");

        if (len) {
            if (*n == cap) {
                cap = cap ? 2 * cap : 8;
                items = realloc(items, cap * sizeof *items);
                if (!items) {
                    abort();
                }
            }
            items[*n].s = options;
            items[*n].len = len;
            (*n)++;
        }
        options += len + (options[len] == ',');
    }
    if (*n > 1) {
        qsort(items, *n, sizeof *items, cmp_opt_item);
    }
    return items;
}

void
dp_format_port(const struct dpif_port *port, struct sbuf *out)
{
    struct opt_item *items;
    size_t n;

    sbuf_printf(out, "port %"PRIu32": %s", port->port_no, port->name);
    items = split_options(port->options, &n);
    if (strcmp(port->type, "system") || n) {
        sbuf_printf(out, " (%s", port->type);
        for (size_t i = 0; i < n; i++) {
            size_t klen = strcspn(items[i].s, "=");

            /* ovs-dpctl prints "key=value" pairs; an item without '='
             * (which weird does not make) prints as a key with an empty
             * value. */
            sbuf_printf(out, "%c ", i ? ',' : ':');
            sbuf_putn(out, items[i].s, items[i].len);
            if (klen >= items[i].len) {
                sbuf_putc(out, '=');
            }
        }
        sbuf_putc(out, ')');
    }
    free(items);
}

/* ---- JSON. ---- */

void
dp_json_init(struct dp_json *j, struct sbuf *out)
{
    memset(j, 0, sizeof *j);
    j->out = out;
}

static void
json_put_string(struct sbuf *out, const char *s, size_t n)
{
    sbuf_putc(out, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];

        switch (c) {
        case '"':
            sbuf_put(out, "\\\"");
            break;
        case '\\':
            sbuf_put(out, "\\\\");
            break;
        case '\n':
            sbuf_put(out, "\\n");
            break;
        case '\t':
            sbuf_put(out, "\\t");
            break;
        case '\r':
            sbuf_put(out, "\\r");
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                sbuf_printf(out, "\\u%04x", c);
            } else {
                sbuf_putc(out, c);
            }
            break;
        }
    }
    sbuf_putc(out, '"');
}

/* Puts the comma before an item and its "key": part. */
static void
json_item(struct dp_json *j, const char *key)
{
    if (j->has_item[j->depth]) {
        sbuf_putc(j->out, ',');
    }
    j->has_item[j->depth] = true;
    if (key) {
        json_put_string(j->out, key, strlen(key));
        sbuf_putc(j->out, ':');
    }
}

void
dp_json_open(struct dp_json *j, const char *key, char bracket)
{
    json_item(j, key);
    sbuf_putc(j->out, bracket);
    if (j->depth + 1 < DP_JSON_MAX_DEPTH) {
        j->depth++;
        j->has_item[j->depth] = false;
    }
}

void
dp_json_close(struct dp_json *j, char bracket)
{
    if (j->depth > 0) {
        j->depth--;
    }
    sbuf_putc(j->out, bracket);
}

void
dp_json_strn(struct dp_json *j, const char *key, const char *s, size_t n)
{
    json_item(j, key);
    json_put_string(j->out, s, n);
}

void
dp_json_str(struct dp_json *j, const char *key, const char *s)
{
    if (!s) {
        dp_json_null(j, key);
    } else {
        dp_json_strn(j, key, s, strlen(s));
    }
}

void
dp_json_u64(struct dp_json *j, const char *key, uint64_t v)
{
    json_item(j, key);
    sbuf_printf(j->out, "%"PRIu64, v);
}

void
dp_json_double(struct dp_json *j, const char *key, double v, int decimals)
{
    json_item(j, key);
    sbuf_printf(j->out, "%.*f", decimals, v);
}

void
dp_json_bool(struct dp_json *j, const char *key, bool v)
{
    json_item(j, key);
    sbuf_put(j->out, v ? "true" : "false");
}

void
dp_json_null(struct dp_json *j, const char *key)
{
    json_item(j, key);
    sbuf_put(j->out, "null");
}

/* The stats members, shared by flow objects and stats objects. */
static void
json_stats_members(struct dp_json *j, const struct dpif_flow_stats *stats,
                   int64_t now_ms)
{
    struct sbuf flags = SBUF_INIT;

    dp_json_u64(j, "packets", stats->n_packets);
    dp_json_u64(j, "bytes", stats->n_bytes);
    if (stats->used_ms) {
        int64_t age = now_ms - stats->used_ms;

        dp_json_double(j, "used", (age > 0 ? age : 0) / 1000.0, 3);
    } else {
        dp_json_null(j, "used");
    }
    if (stats->tcp_flags) {
        dp_format_tcp_flags(stats->tcp_flags, &flags);
    }
    dp_json_str(j, "tcp_flags", sbuf_str(&flags));
    sbuf_uninit(&flags);
}

void
dp_json_stats(struct dp_json *j, const char *key,
              const struct dpif_flow_stats *stats, int64_t now_ms)
{
    dp_json_open(j, key, '{');
    json_stats_members(j, stats, now_ms);
    dp_json_close(j, '}');
}

void
dp_json_flow(struct dp_json *j, const char *key, const struct dpif_flow *flow,
             bool verbose, const struct dp_port_names *names, int64_t now_ms)
{
    struct sbuf sb = SBUF_INIT;

    dp_json_open(j, key, '{');
    if (flow->ufid.len) {
        static const char prefix[] = "ufid:";

        format_ufid(&flow->ufid, &sb);
        dp_json_str(j, "ufid", sbuf_str(&sb) + strlen(prefix));
    } else {
        dp_json_null(j, "ufid");
    }
    if (flow->key) {
        sbuf_clear(&sb);
        dp_format_key(flow, verbose, names, &sb);
        dp_json_str(j, "match", sbuf_str(&sb));
    } else {
        dp_json_null(j, "match");
    }
    json_stats_members(j, &flow->stats, now_ms);
    if (flow->actions) {
        sbuf_clear(&sb);
        dp_format_actions(flow, names, &sb);
        dp_json_str(j, "actions", sbuf_str(&sb));
    } else {
        dp_json_null(j, "actions");
    }
    dp_json_close(j, '}');
    sbuf_uninit(&sb);
}

void
dp_json_port_members(struct dp_json *j, const struct dpif_port *port)
{
    struct opt_item *items;
    size_t n;

    dp_json_u64(j, "port_no", port->port_no);
    dp_json_str(j, "name", port->name);
    dp_json_str(j, "type", port->type);
    dp_json_open(j, "options", '{');
    items = split_options(port->options, &n);
    for (size_t i = 0; i < n; i++) {
        size_t klen = strcspn(items[i].s, "=");
        char *k;

        klen = klen < items[i].len ? klen : items[i].len;
        k = strndup(items[i].s, klen);
        if (!k) {
            abort();
        }
        if (klen < items[i].len) {
            dp_json_strn(j, k, items[i].s + klen + 1,
                         items[i].len - klen - 1);
        } else {
            dp_json_str(j, k, "");
        }
        free(k);
    }
    free(items);
    dp_json_close(j, '}');
}
