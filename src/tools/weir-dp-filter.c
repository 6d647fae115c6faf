/* SPDX-License-Identifier: Apache-2.0 */
/* The dump-flows filter: "filter=..." as ovs-dpctl takes it.
 *
 * ovs-dpctl parses the filter as an exact OpenFlow match (ovs-ofctl's
 * syntax, "in_port=1,tcp,tp_dst=80"), converts every dumped flow to a
 * struct flow with wildcards, and shows a flow if the filter agrees with it
 * on every bit that both the filter and the flow match: a field the flow
 * wildcards passes any filter value ("filter='tcp,tp_src=100' matches
 * tcp(src=80/0xff00)", as its manual says).
 *
 * weir applies the same rule on the netlink key itself: the filter text
 * becomes a key and a mask (OVS_KEY_ATTR_* streams); both it and each flow
 * are indexed by attribute type, the attributes inside encap() (the
 * VLAN-tagged part) taking the place of the outer ones as struct flow's
 * fields do; then every filter attribute is compared bytewise under both
 * masks.  The filter may also be written directly as a datapath key
 * ("in_port(1),eth_type(0x0800),ipv4(src=10.0.0.0/255.0.0.0)"), and
 * either form may name a UFID ("ufid:UUID").
 *
 * The OpenFlow fields weir knows (others are refused by name): in_port,
 * dl_src, dl_dst, dl_type, nw_src, nw_dst, nw_proto, nw_tos, nw_ttl,
 * ipv6_src, ipv6_dst, tp_src, tp_dst, icmp_type, icmp_code, arp_spa,
 * arp_tpa, arp_op, arp_sha, arp_tha, pkt_mark, skb_priority, recirc_id,
 * dp_hash, and the shorthands ip, ipv6, arp, rarp, tcp, udp, sctp, icmp,
 * tcp6, udp6, sctp6, icmp6.  Not supported: VLAN and MPLS fields,
 * tunnel, conntrack and register fields (which a datapath key carries
 * differently or not at all). */

#include "tools/weir-dp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/netlink.h>
#include <linux/openvswitch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "codec/fkey-text.h"
#include "codec/ufid.h"
#include "lib/errbuf.h"
#include "lib/text.h"

/* Attribute types indexed; larger ones (none today) cannot be filtered
 * on and are ignored in flows. */
#define MAX_TYPE 64

/* ---- The OpenFlow-style form, translated to a datapath key. ---- */

struct of_filter {
    const char *in_port;
    const char *dl_src, *dl_dst;
    long dl_type;               /* -1: not given. */
    long nw_proto;
    const char *nw_src, *nw_dst;
    const char *nw_tos, *nw_ttl;
    const char *ipv6_src, *ipv6_dst;
    const char *tp_src, *tp_dst;
    const char *icmp_type, *icmp_code;
    const char *arp_spa, *arp_tpa, *arp_op, *arp_sha, *arp_tha;
    const char *skb_mark, *skb_priority, *recirc_id, *dp_hash;
};

/* Sets '*slot' to 'value', refusing a second, different value. */
static int
set_long(long *slot, long value, const char *what, struct errbuf *err)
{
    if (*slot >= 0 && *slot != value) {
        errbuf_set(err, "conflicting values for %s", what);
        return -EINVAL;
    }
    *slot = value;
    return 0;
}

static int
parse_number(const char *s, long max, long *v, const char *what,
             struct errbuf *err)
{
    char *end;
    long long x;

    errno = 0;
    x = strtoll(s, &end, 0);
    if (errno || *end || end == s || x < 0 || x > max) {
        errbuf_set(err, "%s: '%s' is not a number from 0 to %ld", what, s,
                   max);
        return -EINVAL;
    }
    *v = x;
    return 0;
}

/* Appends 'addr' to 'out', turning a "/N" prefix length into the mask
 * the key syntax wants. */
static int
put_prefix(struct sbuf *out, const char *addr, bool ipv6, struct errbuf *err)
{
    const char *slash = strchr(addr, '/');
    unsigned long n;
    char *end;

    if (!slash || strchr(slash + 1, (ipv6 ? ':' : '.'))) {
        sbuf_put(out, addr);
        return 0;
    }
    n = strtoul(slash + 1, &end, 10);
    if (*end || end == slash + 1 || n > (ipv6 ? 128u : 32u)) {
        errbuf_set(err, "'%s': bad prefix length", addr);
        return -EINVAL;
    }
    sbuf_putn(out, addr, slash - addr + 1);
    if (ipv6) {
        uint8_t m[16] = { 0 };
        char text[INET6_ADDRSTRLEN];

        for (unsigned long i = 0; i < n; i++) {
            m[i / 8] |= 0x80 >> (i % 8);
        }
        inet_ntop(AF_INET6, m, text, sizeof text);
        sbuf_put(out, text);
    } else {
        uint32_t m = n ? UINT32_MAX << (32 - n) : 0;

        sbuf_printf(out, "%"PRIu32".%"PRIu32".%"PRIu32".%"PRIu32, m >> 24,
                    (m >> 16) & 0xff, (m >> 8) & 0xff, m & 0xff);
    }
    return 0;
}

/* Field list for one attribute: "name(" then "f=v" items then ")". */
struct attr_text {
    struct sbuf *out;
    bool open;
};

static void
attr_field(struct attr_text *at, const char *attr, const char *field,
           const char *value)
{
    if (!value) {
        return;
    }
    if (!at->open) {
        if (at->out->len) {
            sbuf_putc(at->out, ',');
        }
        sbuf_printf(at->out, "%s(", attr);
        at->open = true;
    } else {
        sbuf_putc(at->out, ',');
    }
    sbuf_printf(at->out, "%s=%s", field, value);
}

static void
attr_close(struct attr_text *at)
{
    if (at->open) {
        sbuf_putc(at->out, ')');
        at->open = false;
    }
}

static void
put_attr(struct sbuf *out, const char *attr, const char *value)
{
    if (value) {
        if (out->len) {
            sbuf_putc(out, ',');
        }
        sbuf_printf(out, "%s(%s)", attr, value);
    }
}

/* Shorthands: dl_type and nw_proto (-1: none). */
static const struct {
    const char *name;
    long dl_type, nw_proto;
} shorthands[] = {
    { "ip", 0x0800, -1 }, { "ipv4", 0x0800, -1 }, { "ipv6", 0x86dd, -1 },
    { "arp", 0x0806, -1 }, { "rarp", 0x8035, -1 },
    { "tcp", 0x0800, 6 }, { "udp", 0x0800, 17 }, { "sctp", 0x0800, 132 },
    { "icmp", 0x0800, 1 }, { "tcp6", 0x86dd, 6 }, { "udp6", 0x86dd, 17 },
    { "sctp6", 0x86dd, 132 }, { "icmp6", 0x86dd, 58 },
};

/* Fields: name, alias, and where the value goes. */
#define OFF(MEMBER) offsetof(struct of_filter, MEMBER)
static const struct {
    const char *name, *alias;
    size_t off;                 /* A 'const char *' member. */
} of_fields[] = {
    { "in_port", NULL, OFF(in_port) },
    { "dl_src", "eth_src", OFF(dl_src) },
    { "dl_dst", "eth_dst", OFF(dl_dst) },
    { "nw_src", "ip_src", OFF(nw_src) },
    { "nw_dst", "ip_dst", OFF(nw_dst) },
    { "nw_tos", NULL, OFF(nw_tos) },
    { "nw_ttl", NULL, OFF(nw_ttl) },
    { "ipv6_src", NULL, OFF(ipv6_src) },
    { "ipv6_dst", NULL, OFF(ipv6_dst) },
    { "tp_src", NULL, OFF(tp_src) },
    { "tp_dst", NULL, OFF(tp_dst) },
    { "icmp_type", "icmpv6_type", OFF(icmp_type) },
    { "icmp_code", "icmpv6_code", OFF(icmp_code) },
    { "arp_spa", NULL, OFF(arp_spa) },
    { "arp_tpa", NULL, OFF(arp_tpa) },
    { "arp_op", NULL, OFF(arp_op) },
    { "arp_sha", NULL, OFF(arp_sha) },
    { "arp_tha", NULL, OFF(arp_tha) },
    { "pkt_mark", "skb_mark", OFF(skb_mark) },
    { "skb_priority", NULL, OFF(skb_priority) },
    { "recirc_id", NULL, OFF(recirc_id) },
    { "dp_hash", NULL, OFF(dp_hash) },
};
#undef OFF

/* Parses one "key=value" or shorthand item into 'of'.  The strings stay
 * pointers into the caller's copy. */
static int
of_item(char *item, const struct dp_port_names *names, struct of_filter *of,
        char *port_buf, size_t port_buf_size, struct errbuf *err)
{
    char *eq = strchr(item, '=');
    const char *value;
    long v;

    if (!eq) {
        for (size_t i = 0; i < sizeof shorthands / sizeof shorthands[0];
             i++) {
            if (!strcmp(item, shorthands[i].name)) {
                if (set_long(&of->dl_type, shorthands[i].dl_type, "dl_type",
                             err)) {
                    return -EINVAL;
                }
                if (shorthands[i].nw_proto >= 0
                    && set_long(&of->nw_proto, shorthands[i].nw_proto,
                                "nw_proto", err)) {
                    return -EINVAL;
                }
                return 0;
            }
        }
        errbuf_set(err, "unknown keyword '%s'", item);
        return -EINVAL;
    }
    *eq = '\0';
    value = eq + 1;
    if (!*value) {
        errbuf_set(err, "field '%s' has no value", item);
        return -EINVAL;
    }
    if (!strcmp(item, "dl_type") || !strcmp(item, "eth_type")) {
        return parse_number(value, 0xffff, &v, item, err)
               || set_long(&of->dl_type, v, "dl_type", err) ? -EINVAL : 0;
    }
    if (!strcmp(item, "nw_proto") || !strcmp(item, "ip_proto")) {
        return parse_number(value, 0xff, &v, item, err)
               || set_long(&of->nw_proto, v, "nw_proto", err) ? -EINVAL : 0;
    }
    for (size_t i = 0; i < sizeof of_fields / sizeof of_fields[0]; i++) {
        if (!strcmp(item, of_fields[i].name)
            || (of_fields[i].alias && !strcmp(item, of_fields[i].alias))) {
            const char **slot = (const char **) ((char *) of
                                                 + of_fields[i].off);

            if (*slot) {
                errbuf_set(err, "field '%s' given twice", item);
                return -EINVAL;
            }
            if (!strcmp(item, "in_port")
                && value[strspn(value, "0123456789")]) {
                uint32_t port_no;

                if (!strcmp(value, "LOCAL")) {
                    port_no = DPIF_LOCAL_PORT;
                } else if (!dp_port_names_find(names, value, &port_no)) {
                    errbuf_set(err, "in_port: no port named '%s'", value);
                    return -EINVAL;
                }
                snprintf(port_buf, port_buf_size, "%"PRIu32, port_no);
                value = port_buf;
            }
            *slot = value;
            return 0;
        }
    }
    errbuf_set(err, "field '%s' is not supported in weir's filters "
               "(supported: in_port, dl_src, dl_dst, dl_type, nw_src, "
               "nw_dst, nw_proto, nw_tos, nw_ttl, ipv6_src, ipv6_dst, "
               "tp_src, tp_dst, icmp_type, icmp_code, arp_*, pkt_mark, "
               "skb_priority, recirc_id, dp_hash)", item);
    return -EINVAL;
}

/* Writes the datapath key text for 'of' into 'out'. */
static int
of_to_key(const struct of_filter *of, struct sbuf *out, struct errbuf *err)
{
    struct attr_text at = { out, false };
    struct sbuf addr = SBUF_INIT;
    char buf[32];
    bool ip4 = of->dl_type == 0x0800, ip6 = of->dl_type == 0x86dd;
    bool arp = of->dl_type == 0x0806 || of->dl_type == 0x8035;
    int error = 0;

    put_attr(out, "recirc_id", of->recirc_id);
    put_attr(out, "dp_hash", of->dp_hash);
    put_attr(out, "skb_priority", of->skb_priority);
    put_attr(out, "skb_mark", of->skb_mark);
    put_attr(out, "in_port", of->in_port);
    attr_field(&at, "eth", "src", of->dl_src);
    attr_field(&at, "eth", "dst", of->dl_dst);
    attr_close(&at);
    if (of->dl_type >= 0) {
        snprintf(buf, sizeof buf, "0x%04lx", of->dl_type);
        put_attr(out, "eth_type", buf);
    }

    if ((of->nw_src || of->nw_dst || of->nw_tos || of->nw_ttl) && !ip4
        && !arp) {
        errbuf_set(err, "nw_src, nw_dst, nw_tos and nw_ttl need ip or arp "
                   "(or dl_type=0x0800)");
        error = -EINVAL;
        goto out;
    }
    if ((of->ipv6_src || of->ipv6_dst) && !ip6) {
        errbuf_set(err, "ipv6_src and ipv6_dst need ipv6 (or "
                   "dl_type=0x86dd)");
        error = -EINVAL;
        goto out;
    }
    if ((of->arp_spa || of->arp_tpa || of->arp_op || of->arp_sha
         || of->arp_tha) && !arp) {
        errbuf_set(err, "arp_* fields need arp (or dl_type=0x0806)");
        error = -EINVAL;
        goto out;
    }
    if (of->nw_proto >= 0 && !ip4 && !ip6 && !arp) {
        errbuf_set(err, "nw_proto needs ip, ipv6 or arp");
        error = -EINVAL;
        goto out;
    }
    if (ip4 || ip6) {
        const char *attr = ip4 ? "ipv4" : "ipv6";
        const char *src = ip4 ? of->nw_src : of->ipv6_src;
        const char *dst = ip4 ? of->nw_dst : of->ipv6_dst;

        if (src) {
            error = put_prefix(&addr, src, ip6, err);
            if (error) {
                goto out;
            }
            attr_field(&at, attr, "src", sbuf_str(&addr));
            sbuf_clear(&addr);
        }
        if (dst) {
            error = put_prefix(&addr, dst, ip6, err);
            if (error) {
                goto out;
            }
            attr_field(&at, attr, "dst", sbuf_str(&addr));
            sbuf_clear(&addr);
        }
        if (of->nw_proto >= 0) {
            snprintf(buf, sizeof buf, "%ld", of->nw_proto);
            attr_field(&at, attr, "proto", buf);
        }
        if (of->nw_tos) {
            long tos;

            /* OpenFlow's nw_tos is the DSCP part of the byte. */
            if (parse_number(of->nw_tos, 0xff, &tos, "nw_tos", err)) {
                error = -EINVAL;
                goto out;
            }
            snprintf(buf, sizeof buf, "%#lx/0xfc", tos & 0xfc);
            attr_field(&at, attr, ip4 ? "tos" : "tclass", buf);
        }
        attr_field(&at, attr, ip4 ? "ttl" : "hlimit", of->nw_ttl);
        attr_close(&at);
    } else if (arp) {
        char op[24];

        if (of->nw_proto >= 0) {
            snprintf(op, sizeof op, "%ld", of->nw_proto);
        }
        attr_field(&at, "arp", "sip", of->arp_spa ? of->arp_spa
                                                  : of->nw_src);
        attr_field(&at, "arp", "tip", of->arp_tpa ? of->arp_tpa
                                                  : of->nw_dst);
        attr_field(&at, "arp", "op", of->arp_op ? of->arp_op
                   : of->nw_proto >= 0 ? op : NULL);
        attr_field(&at, "arp", "sha", of->arp_sha);
        attr_field(&at, "arp", "tha", of->arp_tha);
        attr_close(&at);
    }

    if (of->tp_src || of->tp_dst) {
        const char *l4 = of->nw_proto == 6 ? "tcp"
                         : of->nw_proto == 17 ? "udp"
                         : of->nw_proto == 132 ? "sctp" : NULL;

        if (!l4 || (!ip4 && !ip6)) {
            errbuf_set(err, "tp_src and tp_dst need tcp, udp or sctp (or "
                       "nw_proto=6, 17 or 132)");
            error = -EINVAL;
            goto out;
        }
        attr_field(&at, l4, "src", of->tp_src);
        attr_field(&at, l4, "dst", of->tp_dst);
        attr_close(&at);
    }
    if (of->icmp_type || of->icmp_code) {
        const char *attr = ip4 && of->nw_proto == 1 ? "icmp"
                           : ip6 && of->nw_proto == 58 ? "icmpv6" : NULL;

        if (!attr) {
            errbuf_set(err, "icmp_type and icmp_code need icmp or icmp6");
            error = -EINVAL;
            goto out;
        }
        attr_field(&at, attr, "type", of->icmp_type);
        attr_field(&at, attr, "code", of->icmp_code);
        attr_close(&at);
    }
out:
    sbuf_uninit(&addr);
    return error;
}

/* ---- Parsing. ---- */

/* Parses key text 'text' (ovs-dpctl syntax) into the filter's streams. */
static int
parse_key(const char *text, struct dp_filter *f, struct errbuf *err)
{
    char kbuf[MNL_NLMSG_HDRLEN + DP_FILTER_BUF];
    char mbuf[MNL_NLMSG_HDRLEN + DP_FILTER_BUF];
    struct nlmsghdr *knlh = mnl_nlmsg_put_header(kbuf);
    struct nlmsghdr *mnlh = mnl_nlmsg_put_header(mbuf);
    size_t used;

    if (fkey_parse(text, &used, knlh, sizeof kbuf, mnlh, sizeof mbuf,
                   err) < 0) {
        return -EINVAL;
    }
    if (text[used]) {
        errbuf_set(err, "unexpected text '%s' after the key", text + used);
        return -EINVAL;
    }
    f->key_len = knlh->nlmsg_len - MNL_NLMSG_HDRLEN;
    f->mask_len = mnlh->nlmsg_len - MNL_NLMSG_HDRLEN;
    memcpy(f->key, mnl_nlmsg_get_payload(knlh), f->key_len);
    memcpy(f->mask, mnl_nlmsg_get_payload(mnlh), f->mask_len);
    return 0;
}

/* Splits 's' at top-level commas into items (modifying 's'); returns the
 * count, at most 'max'. */
static size_t
split_items(char *s, char **items, size_t max)
{
    size_t n = 0;
    int depth = 0;
    char *start = s;

    for (char *p = s; ; p++) {
        if (*p == '(') {
            depth++;
        } else if (*p == ')') {
            depth--;
        } else if ((*p == ',' && !depth) || !*p) {
            bool end = !*p;

            *p = '\0';
            if (*start && n < max) {
                items[n++] = start;
            }
            if (end) {
                break;
            }
            start = p + 1;
        }
    }
    return n;
}

static bool has_nested(const uint8_t *attrs, size_t len);

int
dp_filter_parse(const char *text, const struct dp_port_names *names,
                struct dp_filter *f, struct errbuf *err)
{
    enum { MAX_ITEMS = 64 };
    char *items[MAX_ITEMS];
    char port_buf[16];
    struct sbuf rest = SBUF_INIT;
    struct of_filter of;
    bool odp_form = false;
    char *copy;
    size_t n;
    int error = 0;

    memset(f, 0, sizeof *f);
    memset(&of, 0, sizeof of);
    of.dl_type = of.nw_proto = -1;
    copy = strdup(text);
    if (!copy) {
        abort();
    }
    n = split_items(copy, items, MAX_ITEMS);
    if (!n) {
        errbuf_set(err, "empty filter");
        error = -EINVAL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        char *item = items[i] + strspn(items[i], " \t");

        if (!strncmp(item, "ufid:", 5) || !strncmp(item, "ufid=", 5)) {
            struct ufid u;

            item[4] = ':';
            if (f->has_ufid) {
                errbuf_set(err, "ufid given twice");
                error = -EINVAL;
                goto out;
            }
            if (ufid_parse(item, NULL, &u, err) < 0) {
                error = -EINVAL;
                goto out;
            }
            f->has_ufid = true;
            f->ufid.len = u.len;
            memcpy(f->ufid.id, u.id, u.len);
            items[i] = NULL;
        } else {
            items[i] = item;
            odp_form |= strchr(item, '(') != NULL;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!items[i]) {
            continue;
        }
        if (odp_form) {
            if (rest.len) {
                sbuf_putc(&rest, ',');
            }
            sbuf_put(&rest, items[i]);
        } else {
            error = of_item(items[i], names, &of, port_buf, sizeof port_buf,
                            err);
            if (error) {
                goto out;
            }
        }
    }
    if (!odp_form) {
        error = of_to_key(&of, &rest, err);
        if (error) {
            goto out;
        }
    }
    if (rest.len) {
        char *key_text = dp_subst_port_names(sbuf_str(&rest), names);

        error = parse_key(key_text, f, err);
        free(key_text);
        if (!error && has_nested(f->key, f->key_len)) {
            errbuf_set(err, "filtering on tunnel() or nsh() is not "
                       "supported");
            error = -EINVAL;
        }
    }
out:
    sbuf_uninit(&rest);
    free(copy);
    return error;
}

/* ---- Matching. ---- */

struct attr_ref {
    const uint8_t *p;           /* Payload; NULL if absent. */
    size_t len;
};

/* Indexes the attributes of 'attrs' by type, those inside encap()
 * replacing outer ones.  Returns false for malformed bytes. */
static bool
index_attrs(const uint8_t *attrs, size_t len, struct attr_ref idx[MAX_TYPE],
            int depth)
{
    while (len >= sizeof(struct nlattr)) {
        const struct nlattr *a = (const struct nlattr *) attrs;
        uint16_t type = a->nla_type & NLA_TYPE_MASK;
        size_t alen = a->nla_len;
        size_t step;

        if (alen < sizeof *a || alen > len) {
            return false;
        }
        if (type == OVS_KEY_ATTR_ENCAP) {
            if (depth >= FKEY_TEXT_MAX_DEPTH
                || !index_attrs(attrs + sizeof *a, alen - sizeof *a, idx,
                                depth + 1)) {
                return false;
            }
        } else if (type < MAX_TYPE) {
            idx[type].p = attrs + sizeof *a;
            idx[type].len = alen - sizeof *a;
        }
        step = NLA_ALIGN(alen);
        if (step >= len) {
            break;
        }
        attrs += step;
        len -= step;
    }
    return true;
}

static bool
has_nested(const uint8_t *attrs, size_t len)
{
    struct attr_ref idx[MAX_TYPE];

    memset(idx, 0, sizeof idx);
    if (!index_attrs(attrs, len, idx, 0)) {
        return true;
    }
    return idx[OVS_KEY_ATTR_TUNNEL].p || idx[OVS_KEY_ATTR_NSH].p;
}

static bool
all_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

bool
dp_filter_match(const struct dp_filter *f, const struct dpif_flow *flow)
{
    struct attr_ref fk[MAX_TYPE], fm[MAX_TYPE];
    struct attr_ref k[MAX_TYPE], m[MAX_TYPE];
    bool exact;

    if (f->has_ufid
        && (flow->ufid.len != f->ufid.len
            || memcmp(flow->ufid.id, f->ufid.id, f->ufid.len))) {
        return false;
    }
    if (!f->key_len) {
        return true;
    }
    if (!flow->key) {
        return false;
    }
    memset(fk, 0, sizeof fk);
    memset(fm, 0, sizeof fm);
    memset(k, 0, sizeof k);
    memset(m, 0, sizeof m);
    exact = !flow->mask || !flow->mask_len;
    if (!index_attrs(f->key, f->key_len, fk, 0)
        || !index_attrs(f->mask, f->mask_len, fm, 0)
        || !index_attrs(flow->key, flow->key_len, k, 0)
        || (!exact && !index_attrs(flow->mask, flow->mask_len, m, 0))) {
        return false;
    }
    for (int t = 0; t < MAX_TYPE; t++) {
        size_t n;

        if (!fk[t].p || !fm[t].p || all_zero(fm[t].p, fm[t].len)) {
            continue;           /* The filter does not look here. */
        }
        if (!k[t].p) {
            /* The flow's packets lack this header (exact flow), or the
             * flow does not look at it (a mask without it). */
            if (exact || m[t].p) {
                return false;
            }
            continue;
        }
        if (!exact && !m[t].p) {
            continue;           /* Wildcarded by the flow. */
        }
        n = fk[t].len < k[t].len ? fk[t].len : k[t].len;
        n = n < fm[t].len ? n : fm[t].len;
        if (!exact) {
            n = n < m[t].len ? n : m[t].len;
        }
        for (size_t i = 0; i < n; i++) {
            uint8_t bits = fm[t].p[i] & (exact ? 0xff : m[t].p[i]);

            if ((fk[t].p[i] ^ k[t].p[i]) & bits) {
                return false;
            }
        }
    }
    return true;
}
