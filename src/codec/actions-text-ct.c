/* SPDX-License-Identifier: Apache-2.0 */
/* OVS_ACTION_ATTR_CT <-> ovs-dpctl text: ct(commit,zone=N,mark=V/M,
 * label=V/M,helper=NAME,timeout=NAME,nat(...)) and the nat(...) inside it.
 * See actions-text.h for where weir's nat() text keeps more than OVS's. */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>

#include "codec/actions-nl.h"
#include "codec/actions-text-private.h"
#include "lib/text.h"

/* ---- Formatting. ---- */

/* Prints like OVS's ds_put_hex(): "0x" and the bytes without leading
 * zero bytes, or "0". */
static void
put_hex_trimmed(struct sbuf *out, const uint8_t *p, size_t n)
{
    bool printed = false;

    for (size_t i = 0; i < n; i++) {
        if (p[i] || printed) {
            sbuf_printf(out, printed ? "%02x" : "0x%x", p[i]);
            printed = true;
        }
    }
    if (!printed) {
        sbuf_putc(out, '0');
    }
}

static void
format_ip(struct sbuf *out, const uint8_t *addr, size_t len, bool bracket)
{
    char buf[INET6_ADDRSTRLEN];

    inet_ntop(len == 4 ? AF_INET : AF_INET6, addr, buf, sizeof buf);
    sbuf_printf(out, bracket ? "[%s]" : "%s", buf);
}

static void
format_nat(const struct act_ct *ct, struct sbuf *out)
{
    const struct nlattr *const *nat = ct->nat;
    const struct nlattr *min = nat[OVS_NAT_ATTR_IP_MIN];
    const struct nlattr *max = nat[OVS_NAT_ATTR_IP_MAX];
    const struct nlattr *pmin = nat[OVS_NAT_ATTR_PROTO_MIN];
    const struct nlattr *pmax = nat[OVS_NAT_ATTR_PROTO_MAX];
    bool src = nat[OVS_NAT_ATTR_SRC], dst = nat[OVS_NAT_ATTR_DST];
    uint16_t proto_min = pmin ? load_u16(actt_payload(pmin)) : 0;
    uint16_t proto_max = pmax ? load_u16(actt_payload(pmax)) : 0;
    size_t alen = min ? actt_payload_len(min) : 0;

    if (!src && !dst) {
        for (int t = OVS_NAT_ATTR_IP_MIN; t <= OVS_NAT_ATTR_MAX; t++) {
            if (nat[t]) {
                sbuf_put(out, "nat(error: options allowed only with "
                         "\"src\" or \"dst\")");
                return;
            }
        }
        sbuf_put(out, "nat");
        return;
    }
    if (src && dst) {
        sbuf_put(out, "nat(error: Only one of \"src\" or \"dst\" may be "
                 "present.)");
        return;
    }
    if (!min && pmin) {
        sbuf_put(out, "nat(error: proto but no IP.)");
        return;
    }
    if ((!min && max) || (!pmin && pmax)) {
        sbuf_put(out, "nat(error: range max without min.)");
        return;
    }
    if (max && actt_payload_len(max) != alen) {
        sbuf_put(out, "nat(error: IP address sizes do not match)");
        return;
    }
    if ((max && memcmp(actt_payload(min), actt_payload(max), alen) > 0)
        || (pmax && proto_min > proto_max)) {
        sbuf_put(out, "nat(range error)");
        return;
    }
    sbuf_put(out, src ? "nat(src" : "nat(dst");
    if (min) {
        bool bracket = alen == 16 && proto_min;

        sbuf_putc(out, '=');
        format_ip(out, actt_payload(min), alen, bracket);
        if (max) {
            sbuf_putc(out, '-');
            format_ip(out, actt_payload(max), alen, bracket);
        }
        if (proto_min) {
            sbuf_printf(out, ":%"PRIu16, proto_min);
            if (pmax) {
                sbuf_printf(out, "-%"PRIu16, proto_max);
            }
        }
    }
    if (nat[OVS_NAT_ATTR_PERSISTENT]) {
        sbuf_put(out, ",persistent");
    }
    if (nat[OVS_NAT_ATTR_PROTO_HASH]) {
        sbuf_put(out, ",hash");
    }
    if (nat[OVS_NAT_ATTR_PROTO_RANDOM]) {
        sbuf_put(out, ",random");
    }
    sbuf_putc(out, ')');
}

/* Prints "'name'=NAME," for the helper or timeout policy name that 'a'
 * holds (act_ct_parse() has checked that it is NUL-terminated). */
static void
format_name(struct sbuf *out, const char *name, const struct nlattr *a)
{
    sbuf_printf(out, "%s=%.*s,", name, (int) actt_payload_len(a),
                (const char *) actt_payload(a));
}

void
actt_format_ct(const struct nlattr *a, struct sbuf *out)
{
    const struct nlattr *const *t;
    struct act_ct ct;
    size_t start;
    uint16_t zone;

    if (act_ct_parse(a, &ct, NULL)) {
        sbuf_put(out, "ct(error)");
        return;
    }
    t = ct.attrs;
    zone = t[OVS_CT_ATTR_ZONE]
           ? load_u16(actt_payload(t[OVS_CT_ATTR_ZONE])) : 0;
    sbuf_put(out, "ct(");
    start = out->len;
    if (t[OVS_CT_ATTR_COMMIT]) {
        sbuf_put(out, "commit,");
    }
    if (t[OVS_CT_ATTR_FORCE_COMMIT]) {
        sbuf_put(out, "force_commit,");
    }
    if (zone) {
        sbuf_printf(out, "zone=%"PRIu16",", zone);
    }
    if (t[OVS_CT_ATTR_MARK]) {
        const uint8_t *m = actt_payload(t[OVS_CT_ATTR_MARK]);

        sbuf_printf(out, "mark=%#"PRIx32"/%#"PRIx32",", load_u32(m),
                    load_u32(m + 4));
    }
    if (t[OVS_CT_ATTR_LABELS]) {
        const uint8_t *l = actt_payload(t[OVS_CT_ATTR_LABELS]);
        static const uint8_t ones[16] = {
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        };
        uint8_t be[16];

        /* Host-order 128-bit value, printed most significant first. */
        sbuf_put(out, "label=");
        for (int i = 0; i < 16; i++) {
            be[i] = l[15 - i];
        }
        put_hex_trimmed(out, be, 16);
        if (memcmp(l + 16, ones, 16)) {
            for (int i = 0; i < 16; i++) {
                be[i] = l[31 - i];
            }
            sbuf_putc(out, '/');
            put_hex_trimmed(out, be, 16);
        }
        sbuf_putc(out, ',');
    }
    if (t[OVS_CT_ATTR_HELPER]) {
        format_name(out, "helper", t[OVS_CT_ATTR_HELPER]);
    }
    if (t[OVS_CT_ATTR_TIMEOUT]) {
        format_name(out, "timeout", t[OVS_CT_ATTR_TIMEOUT]);
    }
    if (t[OVS_CT_ATTR_NAT]) {
        format_nat(&ct, out);
    }
    if (out->len == start) {
        sbuf_chop(out, 1);      /* Plain "ct". */
        return;
    }
    if (out->s[out->len - 1] == ',') {
        sbuf_chop(out, 1);
    }
    sbuf_putc(out, ')');
}

/* ---- Parsing. ---- */

/* Parses the options of ct(...) or nat(...), if a '(' comes next: calls
 * 'parse_opt' for each comma-separated option, which consumes it or
 * fails, and consumes the closing ')'.  Without a '(' ("ct", "nat") there
 * are no options.
 *
 * Returns: 0, or the first error. */
static int
parse_options(struct actt_parser *p,
              int (*parse_opt)(struct actt_parser *, void *aux), void *aux)
{
    int error;

    if (!actt_match(p, "(")) {
        return 0;
    }
    for (;;) {
        error = parse_opt(p, aux);
        if (error) {
            return error;
        }
        if (actt_match(p, ")")) {
            return 0;
        }
        error = actt_expect(p, ",");
        if (error) {
            return error;
        }
    }
}

/* Parses an IPv4 or IPv6 address, the latter optionally in brackets. */
static int
parse_ip(struct actt_parser *p, uint8_t addr[16], size_t *len)
{
    char buf[INET6_ADDRSTRLEN + 1];
    bool bracket = actt_match(p, "[");
    size_t n = strspn(p->s, "0123456789.");

    /* Try IPv4 first: its ":port" must not be taken for IPv6. */
    if (n && n < sizeof buf && !bracket) {
        memcpy(buf, p->s, n);
        buf[n] = '\0';
        if (inet_pton(AF_INET, buf, addr) == 1) {
            *len = 4;
            p->s += n;
            return 0;
        }
    }
    n = strspn(p->s, "0123456789abcdefABCDEF:.");
    if (!n || n >= sizeof buf) {
        return actt_syntax(p, "expected an IP address");
    }
    memcpy(buf, p->s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET6, buf, addr) == 1) {
        *len = 16;
    } else {
        return actt_syntax(p, "bad IP address");
    }
    p->s += n;
    return bracket ? actt_expect(p, "]") : 0;
}

/* nat(...) as parsed, before it goes into the message. */
struct nat_opts {
    int kind;                   /* OVS_NAT_ATTR_SRC or _DST; 0: neither. */
    uint8_t min[16], max[16];   /* Address range. */
    size_t min_len, max_len;    /* 4 or 16; 0 if not given. */
    uint64_t pmin, pmax;        /* Port range; pmin 0 if not given. */
    bool has_pmax;
    bool persistent, hash, random;
};

/* Parses "ADDR[-ADDR][:PORT[-PORT]]" after "src=" or "dst=". */
static int
parse_nat_range(struct actt_parser *p, struct nat_opts *o)
{
    int error;

    if ((error = parse_ip(p, o->min, &o->min_len))) {
        return error;
    }
    if (actt_match(p, "-") && (error = parse_ip(p, o->max, &o->max_len))) {
        return error;
    }
    if (o->max_len && o->max_len != o->min_len) {
        return actt_syntax(p, "nat address families differ");
    }
    if (actt_match(p, ":")) {
        if ((error = actt_parse_num(p, UINT16_MAX, false, &o->pmin))) {
            return error;
        }
        if (actt_match(p, "-")) {
            if ((error = actt_parse_num(p, UINT16_MAX, false, &o->pmax))) {
                return error;
            }
            o->has_pmax = true;
        }
    }
    return 0;
}

/* One option of nat(...), for parse_options(). */
static int
parse_nat_opt(struct actt_parser *p, void *o_)
{
    struct nat_opts *o = o_;

    if (actt_match(p, "src") || actt_match(p, "dst")) {
        o->kind = p->s[-3] == 's' ? OVS_NAT_ATTR_SRC : OVS_NAT_ATTR_DST;
        if (actt_match(p, "=")) {
            return parse_nat_range(p, o);
        }
    } else if (actt_match(p, "persistent")) {
        o->persistent = true;
    } else if (actt_match(p, "hash")) {
        o->hash = true;
    } else if (actt_match(p, "random")) {
        o->random = true;
    } else {
        return actt_syntax(p, "unknown nat option");
    }
    return 0;
}

/* Parses "nat" or "nat(...)" ('p' is after "nat"), appending
 * OVS_CT_ATTR_NAT. */
static int
parse_nat(struct actt_parser *p)
{
    struct nat_opts o;
    struct nlattr *nest;
    int error;

    memset(&o, 0, sizeof o);
    if ((error = parse_options(p, parse_nat_opt, &o))) {
        return error;
    }
    nest = actt_nest_start(p, OVS_CT_ATTR_NAT);
    if (!nest) {
        return -EMSGSIZE;
    }
    if (o.kind && (error = actt_put_attr(p, o.kind, 0, NULL))) {
        return error;
    }
    if (o.min_len
        && (error = actt_put_attr(p, OVS_NAT_ATTR_IP_MIN, o.min_len,
                                  o.min))) {
        return error;
    }
    if (o.max_len
        && (error = actt_put_attr(p, OVS_NAT_ATTR_IP_MAX, o.max_len,
                                  o.max))) {
        return error;
    }
    if (o.pmin) {
        uint16_t v = o.pmin;

        if ((error = actt_put_attr(p, OVS_NAT_ATTR_PROTO_MIN, 2, &v))) {
            return error;
        }
        v = o.pmax;
        if (o.has_pmax
            && (error = actt_put_attr(p, OVS_NAT_ATTR_PROTO_MAX, 2, &v))) {
            return error;
        }
    }
    if ((o.persistent
         && (error = actt_put_attr(p, OVS_NAT_ATTR_PERSISTENT, 0, NULL)))
        || (o.hash
            && (error = actt_put_attr(p, OVS_NAT_ATTR_PROTO_HASH, 0, NULL)))
        || (o.random
            && (error = actt_put_attr(p, OVS_NAT_ATTR_PROTO_RANDOM, 0,
                                      NULL)))) {
        return error;
    }
    if ((error = actt_nest_end(p, nest))) {
        return error;
    }
    return 0;
}

/* Parses a 128-bit hex (or decimal up to 64 bits) number into host-order
 * bytes, as the ct label attribute holds it. */
static int
parse_u128(struct actt_parser *p, uint8_t out[16])
{
    memset(out, 0, 16);
    if (actt_match(p, "0x") || actt_match(p, "0X")) {
        size_t n = strspn(p->s, "0123456789abcdefABCDEF");

        if (!n || n > 32) {
            return actt_syntax(p, "bad 128-bit number");
        }
        for (size_t i = 0; i < n; i++) {
            char c = p->s[n - 1 - i];
            int d = isdigit((unsigned char) c) ? c - '0'
                    : tolower((unsigned char) c) - 'a' + 10;

            out[i / 2] |= d << (4 * (i % 2));
        }
        p->s += n;
    } else {
        uint64_t v;
        int error = actt_parse_num(p, UINT64_MAX, false, &v);

        if (error) {
            return error;
        }
        for (int i = 0; i < 8; i++) {
            out[i] = v >> (8 * i);
        }
    }
    return 0;
}

/* ct(...) as parsed, before it goes into the message in OVS's attribute
 * order. */
struct ct_opts {
    bool commit, force;
    uint64_t zone;
    uint64_t mark[2];           /* Value and mask; mask 0 if not given. */
    uint8_t label[32];          /* Value and mask, host order. */
    bool has_label;
    const char *helper, *timeout;       /* Names in the input, or NULL. */
    size_t helper_len, timeout_len;
    const char *nat;            /* "nat..." in the input, or NULL. */
};

/* Steps over "nat" or "nat(...)" inside ct(...), setting '*text' to where
 * it starts: it goes into the message last, parsed by parse_nat(). */
static int
skip_nat(struct actt_parser *p, const char **text)
{
    const char *s = p->s + 3;
    int depth = 0;

    *text = p->s;
    if (*s == '(') {
        while (*s && !(*s == ')' && depth == 1)) {
            depth += *s == '(' ? 1 : *s == ')' ? -1 : 0;
            s++;
        }
        if (!*s) {
            return actt_syntax(p, "unterminated nat(");
        }
        s++;
    }
    p->s = s;
    return 0;
}

/* One option of ct(...), for parse_options(). */
static int
parse_ct_opt(struct actt_parser *p, void *o_)
{
    struct ct_opts *o = o_;
    int error;

    if (actt_match(p, "commit")) {
        o->commit = true;
    } else if (actt_match(p, "force_commit")) {
        o->force = true;
    } else if (actt_match(p, "zone=")) {
        return actt_parse_num(p, UINT16_MAX, false, &o->zone);
    } else if (actt_match(p, "mark=")) {
        if ((error = actt_parse_num(p, UINT32_MAX, true, &o->mark[0]))) {
            return error;
        }
        o->mark[1] = UINT32_MAX;
        if (actt_match(p, "/")) {
            return actt_parse_num(p, UINT32_MAX, true, &o->mark[1]);
        }
    } else if (actt_match(p, "label=")) {
        if ((error = parse_u128(p, o->label))) {
            return error;
        }
        memset(o->label + 16, 0xff, 16);
        if (actt_match(p, "/")
            && (error = parse_u128(p, o->label + 16))) {
            return error;
        }
        o->has_label = true;
    } else if (actt_match(p, "helper=") || actt_match(p, "timeout=")) {
        bool is_helper = p->s[-2] == 'r';
        size_t n = strcspn(p->s, ", \t\r\n)");

        if (!n || n > (is_helper ? 15u : 31u)) {
            return actt_syntax(p, is_helper ? "bad helper name"
                                            : "bad timeout name");
        }
        if (is_helper) {
            o->helper = p->s;
            o->helper_len = n;
        } else {
            o->timeout = p->s;
            o->timeout_len = n;
        }
        p->s += n;
    } else if (!strncmp(p->s, "nat", 3)) {
        return skip_nat(p, &o->nat);
    } else {
        return actt_syntax(p, "unknown ct option");
    }
    return 0;
}

int
actt_parse_ct(struct actt_parser *p)
{
    struct ct_opts o;
    struct nlattr *nest;
    int error;

    memset(&o, 0, sizeof o);
    if ((error = parse_options(p, parse_ct_opt, &o))) {
        return error;
    }

    nest = actt_nest_start(p, OVS_ACTION_ATTR_CT);
    if (!nest) {
        return -EMSGSIZE;
    }
    if ((o.commit
         && (error = actt_put_attr(p, OVS_CT_ATTR_COMMIT, 0, NULL)))
        || (o.force
            && (error = actt_put_attr(p, OVS_CT_ATTR_FORCE_COMMIT, 0,
                                      NULL)))) {
        return error;
    }
    if (o.zone) {
        uint16_t z = o.zone;

        if ((error = actt_put_attr(p, OVS_CT_ATTR_ZONE, 2, &z))) {
            return error;
        }
    }
    if (o.mark[1]) {
        uint32_t mm[2] = { o.mark[0], o.mark[1] };

        if ((error = actt_put_attr(p, OVS_CT_ATTR_MARK, sizeof mm, mm))) {
            return error;
        }
    }
    if (o.has_label) {
        static const uint8_t zero[16];

        if (memcmp(o.label + 16, zero, 16)
            && (error = actt_put_attr(p, OVS_CT_ATTR_LABELS, 32,
                                      o.label))) {
            return error;
        }
    }
    for (int i = 0; i < 2; i++) {
        const char *str = i ? o.timeout : o.helper;
        size_t n = i ? o.timeout_len : o.helper_len;
        char tmp[32];

        if (str) {
            memcpy(tmp, str, n);
            tmp[n] = '\0';
            if ((error = actt_put_attr(p, i ? OVS_CT_ATTR_TIMEOUT
                                            : OVS_CT_ATTR_HELPER,
                                       n + 1, tmp))) {
                return error;
            }
        }
    }
    if (o.nat) {
        const char *resume = p->s;

        p->s = o.nat + 3;
        error = parse_nat(p);
        if (error) {
            return error;
        }
        p->s = resume;
    }
    if ((error = actt_nest_end(p, nest))) {
        return error;
    }
    return 0;
}
