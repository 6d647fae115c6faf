/* SPDX-License-Identifier: Apache-2.0 */
/* "weir dp" port commands: add-if, set-if, del-if, with ovs-dpctl's
 * arguments ("NAME[,type=T][,port_no=N][,key=value]...") and messages
 * (lib/dpctl.c), through the dpif API: a port's provider options come
 * with it (struct dpif_port) and set-if asks for new ones with
 * dpif_port_set_options(). */

#include "tools/weir-dp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/text.h"
#include "tools/weir.h"

/* ---- add-if, set-if, del-if ---- */

/* Port types weir has: OVS's two, and weir's providers by name. */
static const char *const port_types[] = {
    "system", "internal", "afxdp", "afpacket", "tap", "dummy", "pcap",
};

static bool
is_port_type(const char *t)
{
    for (size_t i = 0; i < sizeof port_types / sizeof port_types[0]; i++) {
        if (!strcmp(port_types[i], t)) {
            return true;
        }
    }
    return false;
}

/* Parses a decimal port number.  Returns false if 's' is not one. */
static bool
parse_port_no(const char *s, uint32_t *port_no)
{
    unsigned long long v;
    char *end;

    if (*s < '0' || *s > '9') {
        return false;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v >= DPIF_PORT_ANY) {
        return false;
    }
    *port_no = v;
    return true;
}

/* One "NAME[,key=value]..." argument of add-if or set-if, split.  The
 * pointers point into 'copy'. */
struct iface_arg {
    char *copy;
    const char *name;
    const char *type;           /* NULL if not given. */
    const char *port_no;        /* NULL if not given. */
    struct sbuf options;        /* The other items, "k=v,k=v". */
};

/* Splits 'arg'.  Returns false after printing the reason. */
static bool
iface_arg_parse(const char *arg, struct iface_arg *ia)
{
    char *save = NULL;
    char *item;

    memset(ia, 0, sizeof *ia);
    sbuf_init(&ia->options);
    ia->copy = strdup(arg);
    if (!ia->copy) {
        abort();
    }
    ia->name = strtok_r(ia->copy, ",", &save);
    if (!ia->name || strchr(ia->name, '=')) {
        weir_error("%s is not a valid network device name", arg);
        return false;
    }
    if (strlen(ia->name) >= DPIF_NAME_MAX) {
        weir_error("%s: a port name is 1 to %d characters", ia->name,
                   DPIF_NAME_MAX - 1);
        return false;
    }
    while ((item = strtok_r(NULL, ",", &save)) != NULL) {
        char *eq = strchr(item, '=');
        const char *value = eq ? eq + 1 : "";
        size_t klen = eq ? (size_t) (eq - item) : strlen(item);

        if (!klen) {
            weir_error("%s: option '%s' has no name", arg, item);
            return false;
        }
        if (eq) {
            *eq = '\0';
        }
        if (!strcmp(item, "type")) {
            ia->type = value;
        } else if (!strcmp(item, "port_no")) {
            ia->port_no = value;
        } else {
            /* Duplicates: ovs-dpctl complains and keeps the first. */
            const char *p = sbuf_str(&ia->options);
            bool dup = false;

            while (*p) {
                size_t len = strcspn(p, ",");
                size_t plen = strcspn(p, "=");

                if ((plen < len ? plen : len) == klen
                    && !strncmp(p, item, klen)) {
                    dup = true;
                }
                p += len + (p[len] == ',');
            }
            if (dup) {
                weir_error("%s: duplicate \"%s\" option", ia->name, item);
                continue;
            }
            if (ia->options.len) {
                sbuf_putc(&ia->options, ',');
            }
            sbuf_printf(&ia->options, "%s=%s", item, value);
        }
    }
    return true;
}

static void
iface_arg_free(struct iface_arg *ia)
{
    free(ia->copy);
    sbuf_uninit(&ia->options);
}

int
dp_cmd_add_if(int argc, char *argv[], const struct dp_opts *o)
{
    struct dpif *dpif;
    int status = WEIR_EXIT_OK;

    if (dp_open(argv[0], &dpif)) {
        return WEIR_EXIT_ERROR;
    }
    for (int i = 1; i < argc; i++) {
        struct iface_arg ia;
        uint32_t port_no = DPIF_PORT_ANY;
        char prefix[128];
        int error;

        if (!iface_arg_parse(argv[i], &ia)) {
            status = WEIR_EXIT_ERROR;
            goto next;
        }
        if (ia.type && !is_port_type(ia.type)) {
            weir_error("%s: unknown port type '%s' (weir has system, "
                       "internal, afxdp, afpacket, tap, dummy and pcap)",
                       ia.name, ia.type);
            status = WEIR_EXIT_ERROR;
            goto next;
        }
        if (ia.port_no && !parse_port_no(ia.port_no, &port_no)) {
            weir_error("%s: port_no=%s is not a port number", ia.name,
                       ia.port_no);
            status = WEIR_EXIT_ERROR;
            goto next;
        }
        error = dpif_port_add(dpif, ia.name, ia.type ? ia.type : "system",
                              ia.options.len ? sbuf_str(&ia.options) : NULL,
                              &port_no);
        if (error) {
            snprintf(prefix, sizeof prefix, "adding %s to %s failed",
                     ia.name, argv[0]);
            status = dp_fail(prefix, error);
        }
next:
        iface_arg_free(&ia);
    }
    dpif_close(dpif);
    return status;
}

/* Applies the "k=v" (set) and "k=" (remove) items of 'changes' to
 * 'old' ("k=v,k=v" or ""), appending the result to 'out': existing keys
 * keep their place, new ones go at the end. */
static void
merge_options(const char *old, const char *changes, struct sbuf *out)
{
    const char *p;

    for (p = old; *p; ) {
        size_t len = strcspn(p, ",");
        size_t klen = strcspn(p, "=");
        const char *c = changes;
        const char *repl = NULL;
        size_t repl_len = 0;

        klen = klen < len ? klen : len;
        while (*c) {
            size_t clen = strcspn(c, ",");
            size_t cklen = strcspn(c, "=");

            cklen = cklen < clen ? cklen : clen;
            if (cklen == klen && !strncmp(c, p, klen)) {
                repl = c;
                repl_len = clen;
            }
            c += clen + (c[clen] == ',');
        }
        if (!repl) {
            repl = p;
            repl_len = len;
        }
        /* "k=" removes the key. */
        if (repl_len > klen + 1) {
            if (out->len) {
                sbuf_putc(out, ',');
            }
            sbuf_putn(out, repl, repl_len);
        }
        p += len + (p[len] == ',');
    }
    for (p = changes; *p; ) {
        size_t len = strcspn(p, ",");
        size_t klen = strcspn(p, "=");
        const char *q = old;
        bool known = false;

        klen = klen < len ? klen : len;
        while (*q) {
            size_t qlen = strcspn(q, ",");
            size_t qklen = strcspn(q, "=");

            qklen = qklen < qlen ? qklen : qlen;
            known |= qklen == klen && !strncmp(q, p, klen);
            q += qlen + (q[qlen] == ',');
        }
        if (!known && len > klen + 1) {
            if (out->len) {
                sbuf_putc(out, ',');
            }
            sbuf_putn(out, p, len);
        }
        p += len + (p[len] == ',');
    }
}

int
dp_cmd_set_if(int argc, char *argv[], const struct dp_opts *o)
{
    struct dpif *dpif;
    int status = WEIR_EXIT_OK;

    if (dp_open(argv[0], &dpif)) {
        return WEIR_EXIT_ERROR;
    }
    for (int i = 1; i < argc; i++) {
        struct sbuf merged = SBUF_INIT;
        struct dpif_port port;
        struct iface_arg ia;
        const char *reason;
        uint32_t port_no;
        int error;

        if (!iface_arg_parse(argv[i], &ia)) {
            status = WEIR_EXIT_ERROR;
            goto next;
        }
        error = dpif_port_query_by_name(dpif, ia.name, &port);
        if (error) {
            char prefix[128];

            snprintf(prefix, sizeof prefix, "%s: failed to query port in %s",
                     ia.name, argv[0]);
            status = dp_fail(prefix, error);
            goto next;
        }
        if (ia.type && strcmp(ia.type, port.type)) {
            weir_error("%s: can't change type from %s to %s", ia.name,
                       port.type, ia.type);
            status = WEIR_EXIT_ERROR;
            goto next;
        }
        if (ia.port_no && (!parse_port_no(ia.port_no, &port_no)
                           || port_no != port.port_no)) {
            weir_error("%s: can't change port number from %"PRIu32" to %s",
                       ia.name, port.port_no, ia.port_no);
            status = WEIR_EXIT_ERROR;
            goto next;
        }
        if (!ia.options.len) {
            goto next;          /* Nothing to change. */
        }
        merge_options(port.options, sbuf_str(&ia.options), &merged);
        if (!strcmp(sbuf_str(&merged), port.options)) {
            goto next;          /* The same options. */
        }
        error = dpif_port_set_options(dpif, port.port_no, sbuf_str(&merged));
        reason = dpif_last_error();
        if (error == -EOPNOTSUPP && !strcmp(reason, strerror(-error))) {
            weir_error("%s: weird cannot change the options of a port in "
                       "place (%s): delete the port and add it again with "
                       "the new options", ia.name, strerror(-error));
            status = WEIR_EXIT_ERROR;
        } else if (error) {
            weir_error("%s: %s (%s)", ia.name,
                       reason[0] ? reason : "Error updating configuration",
                       strerror(-error));
            status = WEIR_EXIT_ERROR;
        }
next:
        sbuf_uninit(&merged);
        iface_arg_free(&ia);
    }
    dpif_close(dpif);
    return status;
}

int
dp_cmd_del_if(int argc, char *argv[], const struct dp_opts *o)
{
    struct dpif *dpif;
    int status = WEIR_EXIT_OK;

    if (dp_open(argv[0], &dpif)) {
        return WEIR_EXIT_ERROR;
    }
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        struct dpif_port port;
        uint32_t port_no;
        char prefix[128];
        int error;

        if (!parse_port_no(name, &port_no)) {
            if (dpif_port_query_by_name(dpif, name, &port)) {
                weir_error("no port named %s", name);
                status = WEIR_EXIT_ERROR;
                continue;
            }
            port_no = port.port_no;
        }
        error = dpif_port_del(dpif, port_no);
        if (error) {
            snprintf(prefix, sizeof prefix, "deleting port %s from %s "
                     "failed", name, argv[0]);
            status = dp_fail(prefix, error);
        }
    }
    dpif_close(dpif);
    return status;
}
