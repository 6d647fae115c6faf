/* SPDX-License-Identifier: Apache-2.0 */
/* OVS_ACTION_ATTR_* <-> ovs-dpctl text.  See actions-text.h for the rules
 * and for where weir's text differs from OVS 3.1's.  This file walks the
 * action lists and handles most actions; ct() is in actions-text-ct.c and
 * userspace() in actions-text-userspace.c. */

#include "codec/actions-text.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>

#include "codec/actions-nl.h"
#include "codec/actions-text-private.h"
#include "codec/nl-attr.h"
#include "codec/fkey-text.h"
#include "lib/byteorder.h"
#include "lib/errbuf.h"
#include "lib/text.h"

/* Formatting recursion stops here; deeper lists print as hex.  Above
 * ACT_MAX_DEPTH so that every list act_validate() accepts prints fully. */
#define FORMAT_MAX_DEPTH (ACT_MAX_DEPTH + 8)

/* ---- Formatting. ---- */

static void format_list(const void *acts, size_t len, struct sbuf *out,
                        int depth);

static void
format_generic(const struct nlattr *a, struct sbuf *out)
{
    const uint8_t *p = actt_payload(a);
    size_t len = actt_payload_len(a);

    sbuf_printf(out, "action%d", a->nla_type & NLA_TYPE_MASK);
    for (size_t i = 0; i < len; i++) {
        sbuf_printf(out, "%c%02x", i ? ' ' : '(', p[i]);
    }
    if (len) {
        sbuf_putc(out, ')');
    }
}

static void
format_mpls_lse(be32 lse_, struct sbuf *out)
{
    uint32_t lse = ntohl(lse_);

    sbuf_printf(out, "label=%"PRIu32",tc=%d,ttl=%d,bos=%d", lse >> 12,
                (int) (lse >> 9) & 7, (int) lse & 0xff, (int) (lse >> 8) & 1);
}

static void
format_push_nsh(const struct nlattr *a, struct sbuf *out)
{
    const struct nlattr *k = actt_payload(a), *n, *base = NULL, *md1 = NULL;
    const struct nlattr *md2 = NULL;
    size_t len = actt_payload_len(a), rem;

    if (len < sizeof *k || k->nla_len < sizeof *k || k->nla_len > len) {
        sbuf_put(out, "push_nsh(error)");
        return;
    }
    n = actt_payload(k);
    rem = actt_payload_len(k);
    while (rem >= sizeof *n && n->nla_len >= sizeof *n && n->nla_len <= rem) {
        uint16_t t = n->nla_type & NLA_TYPE_MASK;
        size_t step = MNL_ALIGN(n->nla_len);

        if (t == OVS_NSH_KEY_ATTR_BASE && actt_payload_len(n) == 8) {
            base = n;
        } else if (t == OVS_NSH_KEY_ATTR_MD1 && actt_payload_len(n) == 16) {
            md1 = n;
        } else if (t == OVS_NSH_KEY_ATTR_MD2) {
            md2 = n;
        }
        rem = step < rem ? rem - step : 0;
        n = (const struct nlattr *) ((const char *) n + step);
    }
    if (!base) {
        sbuf_put(out, "push_nsh(error)");
        return;
    }
    {
        const struct ovs_nsh_key_base *b = actt_payload(base);

        sbuf_put(out, "push_nsh(");
        if (b->mdtype == 1 && md1) {
            fkey_format_nsh_fields(b, actt_payload(md1), NULL, 0, out);
        } else if (b->mdtype == 2 && md2) {
            fkey_format_nsh_fields(b, NULL, actt_payload(md2),
                                   actt_payload_len(md2), out);
        } else {
            fkey_format_nsh_fields(b, NULL, NULL, 0, out);
            sbuf_put(out, ",<error: unknown mdtype>");
        }
        sbuf_putc(out, ')');
    }
}

static void
format_action(const struct nlattr *a, struct sbuf *out, int depth)
{
    uint16_t type = a->nla_type & NLA_TYPE_MASK;
    int expected = act_attr_len(type);
    const uint8_t *p = actt_payload(a);
    size_t len = actt_payload_len(a);

    if (expected == ACT_LEN_INVALID) {
        format_generic(a, out);
        return;
    }
    if (expected >= 0 && len != (size_t) expected) {
        sbuf_printf(out, "bad length %zu, expected %d for: ", len, expected);
        format_generic(a, out);
        return;
    }
    if (depth >= FORMAT_MAX_DEPTH && expected == ACT_LEN_VARIABLE) {
        format_generic(a, out);
        return;
    }

    switch (type) {
    case OVS_ACTION_ATTR_OUTPUT:
        sbuf_printf(out, "%"PRIu32, load_u32(p));
        break;
    case OVS_ACTION_ATTR_USERSPACE:
        actt_format_userspace(a, out);
        break;
    case OVS_ACTION_ATTR_SET:
    case OVS_ACTION_ATTR_SET_MASKED: {
        const struct nlattr *k;
        const void *mask;
        size_t klen;

        if (act_set_parse(a, &k, &klen, &mask)) {
            sbuf_printf(out, "%s(error)", act_attr_name(type));
            break;
        }
        sbuf_put(out, "set(");
        if (mask) {
            fkey_format_payload(k->nla_type & NLA_TYPE_MASK, actt_payload(k),
                                mask, klen, false, out);
        } else {
            fkey_format_attr(k, NULL, true, out);
        }
        sbuf_putc(out, ')');
        break;
    }
    case OVS_ACTION_ATTR_PUSH_VLAN: {
        const struct ovs_action_push_vlan *v = (const void *) p;
        uint16_t tci = ntohs(v->vlan_tci);

        sbuf_put(out, "push_vlan(");
        if (v->vlan_tpid != htons(0x8100)) {
            sbuf_printf(out, "tpid=0x%04"PRIx16",", ntohs(v->vlan_tpid));
        }
        sbuf_printf(out, "vid=%d,pcp=%d%s)", tci & 0xfff, tci >> 13,
                    tci & 0x1000 ? "" : ",cfi=0");
        break;
    }
    case OVS_ACTION_ATTR_POP_VLAN:
        sbuf_put(out, "pop_vlan");
        break;
    case OVS_ACTION_ATTR_SAMPLE: {
        const struct nlattr *acts;
        uint32_t prob;

        if (act_sample_parse(a, &prob, &acts)) {
            sbuf_put(out, "sample(error)");
            break;
        }
        sbuf_printf(out, "sample(sample=%.1f%%,actions(",
                    100.0 * prob / UINT32_MAX);
        format_list(actt_payload(acts), actt_payload_len(acts), out,
                    depth + 1);
        sbuf_put(out, "))");
        break;
    }
    case OVS_ACTION_ATTR_RECIRC:
        sbuf_printf(out, "recirc(%#"PRIx32")", load_u32(p));
        break;
    case OVS_ACTION_ATTR_HASH: {
        const struct ovs_action_hash *h = (const void *) p;

        if (h->hash_alg == OVS_HASH_ALG_L4) {
            sbuf_printf(out, "hash(l4(%"PRIu32"))", h->hash_basis);
        } else if (h->hash_alg == 1) {
            sbuf_printf(out, "hash(sym_l4(%"PRIu32"))", h->hash_basis);
        } else {
            sbuf_printf(out, "hash(Unknown hash algorithm(%"PRIu32"))",
                        h->hash_alg);
        }
        break;
    }
    case OVS_ACTION_ATTR_PUSH_MPLS:
    case OVS_ACTION_ATTR_ADD_MPLS: {
        const struct ovs_action_add_mpls *m = (const void *) p;

        sbuf_put(out, type == OVS_ACTION_ATTR_PUSH_MPLS ? "push_mpls("
                                                        : "add_mpls(");
        format_mpls_lse(m->mpls_lse, out);
        sbuf_printf(out, ",eth_type=0x%"PRIx16, ntohs(m->mpls_ethertype));
        if (type == OVS_ACTION_ATTR_ADD_MPLS && m->tun_flags) {
            sbuf_printf(out, ",tun_flags=%"PRIu16, m->tun_flags);
        }
        sbuf_putc(out, ')');
        break;
    }
    case OVS_ACTION_ATTR_POP_MPLS:
        sbuf_printf(out, "pop_mpls(eth_type=0x%"PRIx16")",
                    ntohs(load_u16(p)));
        break;
    case OVS_ACTION_ATTR_CT:
        actt_format_ct(a, out);
        break;
    case OVS_ACTION_ATTR_TRUNC:
        sbuf_printf(out, "trunc(%"PRIu32")", load_u32(p));
        break;
    case OVS_ACTION_ATTR_PUSH_ETH:
        sbuf_printf(out, "push_eth(src=%02x:%02x:%02x:%02x:%02x:%02x,"
                    "dst=%02x:%02x:%02x:%02x:%02x:%02x)", p[0], p[1], p[2],
                    p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11]);
        break;
    case OVS_ACTION_ATTR_POP_ETH:
        sbuf_put(out, "pop_eth");
        break;
    case OVS_ACTION_ATTR_CT_CLEAR:
        sbuf_put(out, "ct_clear");
        break;
    case OVS_ACTION_ATTR_PUSH_NSH:
        format_push_nsh(a, out);
        break;
    case OVS_ACTION_ATTR_POP_NSH:
        sbuf_put(out, "pop_nsh()");
        break;
    case OVS_ACTION_ATTR_METER:
        sbuf_printf(out, "meter(%"PRIu32")", load_u32(p));
        break;
    case OVS_ACTION_ATTR_CLONE:
        sbuf_put(out, "clone(");
        format_list(p, len, out, depth + 1);
        sbuf_putc(out, ')');
        break;
    case OVS_ACTION_ATTR_CHECK_PKT_LEN: {
        const struct nlattr *gt, *le;
        uint16_t pkt_len;

        if (act_cpl_parse(a, &pkt_len, &gt, &le)) {
            sbuf_put(out, "check_pkt_len(error)");
            break;
        }
        sbuf_printf(out, "check_pkt_len(size=%"PRIu16",gt(", pkt_len);
        format_list(actt_payload(gt), actt_payload_len(gt), out, depth + 1);
        sbuf_put(out, "),le(");
        format_list(actt_payload(le), actt_payload_len(le), out, depth + 1);
        sbuf_put(out, "))");
        break;
    }
    case OVS_ACTION_ATTR_DEC_TTL: {
        const struct nlattr *acts;

        if (act_dec_ttl_parse(a, &acts)) {
            sbuf_put(out, "dec_ttl(error)");
            break;
        }
        sbuf_put(out, "dec_ttl(le_1(");
        format_list(actt_payload(acts), actt_payload_len(acts), out,
                    depth + 1);
        sbuf_put(out, "))");
        break;
    }
    default:
        format_generic(a, out);
        break;
    }
}

static void
format_list(const void *acts, size_t len, struct sbuf *out, int depth)
{
    const struct nlattr *a = acts;
    size_t rem = len;
    bool first = true;

    if (!len) {
        sbuf_put(out, "drop");
        return;
    }
    while (rem >= sizeof *a && a->nla_len >= sizeof *a && a->nla_len <= rem) {
        size_t step = MNL_ALIGN(a->nla_len);

        if (!first) {
            sbuf_putc(out, ',');
        }
        first = false;
        format_action(a, out, depth);
        rem = step < rem ? rem - step : 0;
        a = (const struct nlattr *) ((const char *) a + step);
    }
    if (rem) {
        if (rem == len) {
            sbuf_put(out, "<empty>");
        }
        sbuf_printf(out, ",***%zu leftover bytes*** (", rem);
        sbuf_put_hex(out, a, rem);
        sbuf_putc(out, ')');
    }
}

void
act_format(const void *acts, size_t len, struct sbuf *out)
{
    format_list(acts, len, out, 0);
}

/* ---- Parsing. ---- */

/* The grammar helpers that actions-text-private.h declares. */

int
actt_syntax(struct actt_parser *p, const char *what)
{
    int n = 0;

    while (p->s[n] && n < 24 && p->s[n] != ',' && p->s[n] != ')') {
        n++;
    }
    if (*p->s) {
        errbuf_set(p->err, "%s at '%.*s'", what, n ? n : 1, p->s);
    } else {
        errbuf_set(p->err, "%s at end of input", what);
    }
    return -EINVAL;
}

bool
actt_match(struct actt_parser *p, const char *lit)
{
    size_t n = strlen(lit);

    if (!strncmp(p->s, lit, n)) {
        p->s += n;
        return true;
    }
    return false;
}

int
actt_expect(struct actt_parser *p, const char *lit)
{
    if (!actt_match(p, lit)) {
        char what[64];

        snprintf(what, sizeof what, "expected '%s'", lit);
        return actt_syntax(p, what);
    }
    return 0;
}

int
actt_parse_num(struct actt_parser *p, uint64_t max, bool hex, uint64_t *v)
{
    const char *s = p->s;
    int base = hex ? 16 : 10;
    char *end;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        base = 16;
    }
    if (!isxdigit((unsigned char) *s) || (base == 10 && !isdigit(
                                              (unsigned char) *s))) {
        return actt_syntax(p, "expected a number");
    }
    errno = 0;
    *v = strtoull(s, &end, base);
    if (errno || *v > max) {
        return actt_syntax(p, "number out of range");
    }
    p->s = end;
    return 0;
}

int
actt_field(struct actt_parser *p, const char *name, uint64_t max, bool hex,
           uint64_t *v)
{
    int error = actt_expect(p, name);

    return error ? error : actt_parse_num(p, max, hex, v);
}

int
actt_put_attr(struct actt_parser *p, uint16_t type, size_t len,
              const void *data)
{
    if (!codec_attr_put(p->nlh, p->buflen, type, len, data)) {
        if (len > UINT16_MAX - MNL_ATTR_HDRLEN) {
            errbuf_set(p->err, "action attribute %"PRIu16" of %zu bytes is "
                       "more than a netlink attribute can hold", type, len);
        } else {
            errbuf_set(p->err, "actions do not fit in %zu bytes",
                       p->buflen);
        }
        return -EMSGSIZE;
    }
    return 0;
}

int
actt_put_u32(struct actt_parser *p, uint16_t type, uint32_t v)
{
    return actt_put_attr(p, type, 4, &v);
}

struct nlattr *
actt_nest_start(struct actt_parser *p, uint16_t type)
{
    struct nlattr *n = mnl_attr_nest_start_check(p->nlh, p->buflen, type);

    if (!n) {
        errbuf_set(p->err, "actions do not fit in %zu bytes", p->buflen);
    } else {
        n->nla_type = type;     /* libmnl added NLA_F_NESTED. */
    }
    return n;
}

int
actt_nest_end(struct actt_parser *p, struct nlattr *nest)
{
    size_t len = (size_t) ((char *) mnl_nlmsg_get_payload_tail(p->nlh)
                           - (char *) nest);

    if (len > UINT16_MAX) {
        errbuf_set(p->err, "action attribute %"PRIu16" would be %zu bytes, "
                   "more than a netlink attribute can hold (65535)",
                   nest->nla_type, len);
        return -EMSGSIZE;
    }
    mnl_attr_nest_end(p->nlh, nest);
    return 0;
}

/* ---- Parsing actions. ---- */

static int parse_list_until(struct actt_parser *, char close);

static int
parse_mac(struct actt_parser *p, uint8_t mac[6])
{
    unsigned int b[6];
    int n = 0;

    if (sscanf(p->s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2],
               &b[3], &b[4], &b[5], &n) != 6 || !n) {
        return actt_syntax(p, "expected an Ethernet address");
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = b[i];
    }
    p->s += n;
    return 0;
}

static bool
all_ones(const uint8_t *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (m[i] != 0xff) {
            return false;
        }
    }
    return true;
}

static int
parse_set(struct actt_parser *p)
{
    union {
        struct nlmsghdr nlh;
        uint8_t b[2048];
    } kbuf, mbuf;
    const struct nlattr *k, *m;
    struct nlattr *nest;
    bool whole;
    size_t klen;
    int n;

    mnl_nlmsg_put_header(kbuf.b);
    mnl_nlmsg_put_header(mbuf.b);
    /* The kernel sets a tunnel only whole (set, never set_masked), and
     * takes no masked nsh() either, so tunnel() and nsh() are parsed
     * without a mask: "/mask" in them is an error. */
    whole = !strncmp(p->s, "tunnel(", 7) || !strncmp(p->s, "nsh(", 4);
    n = fkey_parse_attr(p->s, &kbuf.nlh, sizeof kbuf,
                        whole ? NULL : &mbuf.nlh, whole ? 0 : sizeof mbuf,
                        p->err);
    if (n < 0) {
        errbuf_prefix(p->err, "set: ");
        return n;
    }
    p->s += n;
    k = mnl_nlmsg_get_payload(&kbuf.nlh);
    m = mnl_nlmsg_get_payload(&mbuf.nlh);
    klen = actt_payload_len(k);
    if (mbuf.nlh.nlmsg_len <= MNL_NLMSG_HDRLEN || actt_payload_len(m) != klen
        || all_ones(actt_payload(m), klen)) {
        nest = actt_nest_start(p, OVS_ACTION_ATTR_SET);
        if (!nest || actt_put_attr(p, k->nla_type, klen, actt_payload(k))) {
            return -EMSGSIZE;
        }
    } else {
        uint8_t both[1024];

        if (2 * klen > sizeof both) {
            return actt_syntax(p, "key too long for set_masked");
        }
        memcpy(both, actt_payload(k), klen);
        memcpy(both + klen, actt_payload(m), klen);
        nest = actt_nest_start(p, OVS_ACTION_ATTR_SET_MASKED);
        if (!nest || actt_put_attr(p, k->nla_type, 2 * klen, both)) {
            return -EMSGSIZE;
        }
    }
    if (actt_nest_end(p, nest)) {
        return -EMSGSIZE;
    }
    return actt_expect(p, ")");
}

static int
parse_mpls(struct actt_parser *p, uint16_t type)
{
    struct ovs_action_add_mpls m;
    uint64_t label, tc, ttl, bos, et, flags = 0;
    int error;

    if ((error = actt_field(p, "label=", 0xfffff, false, &label))
        || (error = actt_field(p, ",tc=", 7, false, &tc))
        || (error = actt_field(p, ",ttl=", 255, false, &ttl))
        || (error = actt_field(p, ",bos=", 1, false, &bos))
        || (error = actt_field(p, ",eth_type=", UINT16_MAX, true, &et))) {
        return error;
    }
    if (type == OVS_ACTION_ATTR_ADD_MPLS && actt_match(p, ",tun_flags=")
        && (error = actt_parse_num(p, UINT16_MAX, false, &flags))) {
        return error;
    }
    if ((error = actt_expect(p, ")"))) {
        return error;
    }
    memset(&m, 0, sizeof m);
    m.mpls_lse = htonl(label << 12 | tc << 9 | bos << 8 | ttl);
    m.mpls_ethertype = htons(et);
    m.tun_flags = flags;
    return actt_put_attr(p, type, type == OVS_ACTION_ATTR_ADD_MPLS
                         ? sizeof m : sizeof(struct ovs_action_push_mpls),
                         &m);
}

static int
parse_push_vlan(struct actt_parser *p)
{
    struct ovs_action_push_vlan v;
    uint64_t tpid = 0x8100, vid, pcp, cfi = 1;
    int error;

    if (actt_match(p, "tpid=")
        && ((error = actt_parse_num(p, UINT16_MAX, false, &tpid))
            || (error = actt_expect(p, ",")))) {
        return error;
    }
    if ((error = actt_field(p, "vid=", 0xfff, false, &vid))
        || (error = actt_field(p, ",pcp=", 7, false, &pcp))) {
        return error;
    }
    if (actt_match(p, ",cfi=")
        && (error = actt_parse_num(p, 1, false, &cfi))) {
        return error;
    }
    if ((error = actt_expect(p, ")"))) {
        return error;
    }
    v.vlan_tpid = htons(tpid);
    v.vlan_tci = htons(vid | pcp << 13 | (cfi ? 0x1000 : 0));
    return actt_put_attr(p, OVS_ACTION_ATTR_PUSH_VLAN, sizeof v, &v);
}
static int
parse_push_nsh(struct actt_parser *p)
{
    uint64_t flags, ttl, mdtype, np, spi, si, c[4];
    struct ovs_nsh_key_base base;
    struct nlattr *outer, *inner;
    uint8_t md2[256];
    size_t md2_len = 0;
    int error;

    if ((error = actt_field(p, "flags=", UINT8_MAX, false, &flags))
        || (error = actt_field(p, ",ttl=", UINT8_MAX, false, &ttl))
        || (error = actt_field(p, ",mdtype=", UINT8_MAX, false, &mdtype))
        || (error = actt_field(p, ",np=", UINT8_MAX, false, &np))
        || (error = actt_field(p, ",spi=", 0xffffff, true, &spi))
        || (error = actt_field(p, ",si=", UINT8_MAX, false, &si))) {
        return error;
    }
    if (mdtype == 1) {
        static const char *const names[4] = {
            ",c1=", ",c2=", ",c3=", ",c4=",
        };

        for (int i = 0; i < 4; i++) {
            if ((error = actt_field(p, names[i], UINT32_MAX, true, &c[i]))) {
                return error;
            }
        }
    } else if (mdtype == 2) {
        int n;

        if ((error = actt_expect(p, ",md2=0x"))) {
            return error;
        }
        n = fkey_scan_hex_bytes(p->s, md2, sizeof md2, &md2_len);
        if (!n) {
            return actt_syntax(p, "bad md2");
        }
        p->s += n;
    } else {
        return actt_syntax(p, "push_nsh needs mdtype 1 or 2");
    }
    if ((error = actt_expect(p, ")"))) {
        return error;
    }
    memset(&base, 0, sizeof base);
    base.flags = flags;
    base.ttl = ttl;
    base.mdtype = mdtype;
    base.np = np;
    base.path_hdr = htonl(spi << 8 | si);
    outer = actt_nest_start(p, OVS_ACTION_ATTR_PUSH_NSH);
    inner = outer ? actt_nest_start(p, OVS_KEY_ATTR_NSH) : NULL;
    if (!inner
        || actt_put_attr(p, OVS_NSH_KEY_ATTR_BASE, sizeof base, &base)) {
        return -EMSGSIZE;
    }
    if (mdtype == 1) {
        be32 ctx[4];

        for (int i = 0; i < 4; i++) {
            ctx[i] = htonl(c[i]);
        }
        error = actt_put_attr(p, OVS_NSH_KEY_ATTR_MD1, sizeof ctx, ctx);
    } else {
        error = actt_put_attr(p, OVS_NSH_KEY_ATTR_MD2, md2_len, md2);
    }
    if (error) {
        return error;
    }
    if ((error = actt_nest_end(p, inner))) {
        return error;
    }
    if ((error = actt_nest_end(p, outer))) {
        return error;
    }
    return 0;
}

/* Parses a nested action list "...)" into attribute 'type' of 'nest'
 * already started by the caller; consumes the ')'. */
static int
parse_nested_list(struct actt_parser *p, uint16_t type)
{
    struct nlattr *nest = actt_nest_start(p, type);
    int error;

    if (!nest) {
        return -EMSGSIZE;
    }
    error = parse_list_until(p, ')');
    if (error) {
        return error;
    }
    if ((error = actt_nest_end(p, nest))) {
        return error;
    }
    return actt_expect(p, ")");
}

static int
parse_action(struct actt_parser *p)
{
    struct nlattr *nest;
    uint64_t v;
    int error;

    if (isdigit((unsigned char) *p->s)) {
        return (error = actt_parse_num(p, UINT32_MAX, false, &v))
               ? error : actt_put_u32(p, OVS_ACTION_ATTR_OUTPUT, v);
    }
    if (actt_match(p, "userspace(")) {
        return actt_parse_userspace(p);
    }
    if (actt_match(p, "set(")) {
        return parse_set(p);
    }
    if (actt_match(p, "push_vlan(")) {
        return parse_push_vlan(p);
    }
    if (actt_match(p, "pop_vlan")) {
        return actt_put_attr(p, OVS_ACTION_ATTR_POP_VLAN, 0, NULL);
    }
    if (actt_match(p, "sample(sample=")) {
        char *end;
        double pct = strtod(p->s, &end);
        double prob;

        if (end == p->s || !(pct >= 0.0 && pct <= 100.0)) {
            return actt_syntax(p, "bad sample percentage");
        }
        p->s = end;
        if ((error = actt_expect(p, "%,actions("))) {
            return error;
        }
        prob = floor(UINT32_MAX * (pct / 100.0) + .5);
        nest = actt_nest_start(p, OVS_ACTION_ATTR_SAMPLE);
        if (!nest || actt_put_u32(p, OVS_SAMPLE_ATTR_PROBABILITY,
                                  prob <= 0 ? 0 : prob >= UINT32_MAX
                                  ? UINT32_MAX : (uint32_t) prob)) {
            return -EMSGSIZE;
        }
        if ((error = parse_nested_list(p, OVS_SAMPLE_ATTR_ACTIONS))) {
            return error;
        }
        if ((error = actt_nest_end(p, nest))) {
            return error;
        }
        return actt_expect(p, ")");
    }
    if (actt_match(p, "recirc(")) {
        return (error = actt_parse_num(p, UINT32_MAX, false, &v))
               || (error = actt_expect(p, ")"))
               ? error : actt_put_u32(p, OVS_ACTION_ATTR_RECIRC, v);
    }
    if (actt_match(p, "hash(l4(") || actt_match(p, "hash(sym_l4(")) {
        struct ovs_action_hash h;

        h.hash_alg = p->s[-4] == '_' ? 1 : OVS_HASH_ALG_L4;
        if ((error = actt_parse_num(p, UINT32_MAX, false, &v))
            || (error = actt_expect(p, "))"))) {
            return error;
        }
        h.hash_basis = v;
        return actt_put_attr(p, OVS_ACTION_ATTR_HASH, sizeof h, &h);
    }
    if (actt_match(p, "push_mpls(")) {
        return parse_mpls(p, OVS_ACTION_ATTR_PUSH_MPLS);
    }
    if (actt_match(p, "add_mpls(")) {
        return parse_mpls(p, OVS_ACTION_ATTR_ADD_MPLS);
    }
    if (actt_match(p, "pop_mpls(")) {
        uint16_t et;

        if ((error = actt_field(p, "eth_type=", UINT16_MAX, true, &v))
            || (error = actt_expect(p, ")"))) {
            return error;
        }
        et = htons(v);
        return actt_put_attr(p, OVS_ACTION_ATTR_POP_MPLS, 2, &et);
    }
    if (actt_match(p, "ct_clear")) {
        return actt_put_attr(p, OVS_ACTION_ATTR_CT_CLEAR, 0, NULL);
    }
    if (actt_match(p, "ct")) {
        return actt_parse_ct(p);
    }
    if (actt_match(p, "trunc(")) {
        return (error = actt_parse_num(p, UINT32_MAX, false, &v))
               || (error = actt_expect(p, ")"))
               ? error : actt_put_u32(p, OVS_ACTION_ATTR_TRUNC, v);
    }
    if (actt_match(p, "push_eth(")) {
        struct ovs_action_push_eth e;

        if ((error = actt_expect(p, "src="))
            || (error = parse_mac(p, e.addresses.eth_src))
            || (error = actt_expect(p, ",dst="))
            || (error = parse_mac(p, e.addresses.eth_dst))) {
            return error;
        }
        if (actt_match(p, ",type=")
            && (error = actt_parse_num(p, UINT16_MAX, false, &v))) {
            return error;
        }
        return (error = actt_expect(p, ")"))
               ? error : actt_put_attr(p, OVS_ACTION_ATTR_PUSH_ETH,
                                       sizeof e, &e);
    }
    if (actt_match(p, "pop_eth")) {
        return actt_put_attr(p, OVS_ACTION_ATTR_POP_ETH, 0, NULL);
    }
    if (actt_match(p, "push_nsh(")) {
        return parse_push_nsh(p);
    }
    if (actt_match(p, "pop_nsh()")) {
        return actt_put_attr(p, OVS_ACTION_ATTR_POP_NSH, 0, NULL);
    }
    if (actt_match(p, "meter(")) {
        return (error = actt_parse_num(p, UINT32_MAX, false, &v))
               || (error = actt_expect(p, ")"))
               ? error : actt_put_u32(p, OVS_ACTION_ATTR_METER, v);
    }
    if (actt_match(p, "clone(")) {
        return parse_nested_list(p, OVS_ACTION_ATTR_CLONE);
    }
    if (actt_match(p, "check_pkt_len(size=")) {
        uint16_t len;

        if ((error = actt_parse_num(p, UINT16_MAX, false, &v))
            || (error = actt_expect(p, ",gt("))) {
            return error;
        }
        len = v;
        nest = actt_nest_start(p, OVS_ACTION_ATTR_CHECK_PKT_LEN);
        if (!nest
            || actt_put_attr(p, OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, 2, &len)) {
            return -EMSGSIZE;
        }
        if ((error = parse_nested_list(
                 p, OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER))
            || (error = actt_expect(p, ",le("))
            || (error = parse_nested_list(
                    p, OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL))) {
            return error;
        }
        if ((error = actt_nest_end(p, nest))) {
            return error;
        }
        return actt_expect(p, ")");
    }
    if (actt_match(p, "dec_ttl(le_1(")) {
        nest = actt_nest_start(p, OVS_ACTION_ATTR_DEC_TTL);
        if (!nest) {
            return -EMSGSIZE;
        }
        if ((error = parse_nested_list(p, OVS_DEC_TTL_ATTR_ACTION))) {
            return error;
        }
        if ((error = actt_nest_end(p, nest))) {
            return error;
        }
        return actt_expect(p, ")");
    }
    return actt_syntax(p, "unknown action");
}

/* Parses a comma-separated action list ending before 'close' (a ')' for
 * nested lists; '\0' at top level, where parsing also stops at anything
 * that is not ','). */
static int
parse_list_until(struct actt_parser *p, char close)
{
    int error;

    if (++p->depth > FORMAT_MAX_DEPTH) {
        return actt_syntax(p, "actions nest too deeply");
    }
    p->s += strspn(p->s, " \t\r\n");
    if (*p->s == close && close) {
        p->depth--;
        return 0;
    }
    if (!strncmp(p->s, "drop", 4) && !isalnum((unsigned char) p->s[4])
        && p->s[4] != '_') {
        p->s += 4;
        p->depth--;
        return 0;
    }
    for (;;) {
        error = parse_action(p);
        if (error) {
            return error;
        }
        if (*p->s != ',') {
            break;
        }
        p->s++;
        p->s += strspn(p->s, " \t\r\n");
    }
    p->depth--;
    return 0;
}

int
act_parse(const char *s, size_t *consumed, struct nlmsghdr *nlh,
          size_t buflen, struct errbuf *err)
{
    struct actt_parser p = {
        .s = s, .nlh = nlh, .buflen = buflen, .err = err,
    };
    uint32_t old_len = nlh->nlmsg_len;
    int error;

    errbuf_clear(err);
    error = parse_list_until(&p, '\0');
    *consumed = p.s - s;
    if (error) {
        nlh->nlmsg_len = old_len;
        return error;
    }
    return 0;
}
