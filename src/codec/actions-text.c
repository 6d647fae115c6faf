/* SPDX-License-Identifier: Apache-2.0 */
/* OVS_ACTION_ATTR_* <-> ovs-dpctl text.  See actions-text.h for the rules
 * and for where weir's text differs from OVS 3.1's. */

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
#include "codec/fkey-text.h"
#include "lib/byteorder.h"
#include "lib/errbuf.h"
#include "lib/text.h"

/* Formatting recursion stops here; deeper lists print as hex.  Above
 * ACT_MAX_DEPTH so that every list act_validate() accepts prints fully. */
#define FORMAT_MAX_DEPTH (ACT_MAX_DEPTH + 8)

/* Open vSwitch's userspace cookie ('struct user_action_cookie' in OVS
 * lib/odp-util.h): 48 bytes in host byte order, the layout ovs-vswitchd
 * puts in OVS_USERSPACE_ATTR_USERDATA. */
#define COOKIE_LEN 48
enum cookie_type {
    COOKIE_SFLOW = 1,
    COOKIE_SLOW_PATH = 2,
    COOKIE_FLOW_SAMPLE = 3,
    COOKIE_IPFIX = 4,
    COOKIE_CONTROLLER = 5,
};
#define OFPP_NONE 0xffff

struct cookie {
    uint16_t type;
    uint16_t vlan_tci;          /* sFlow, host order of the be16. */
    uint32_t output;            /* sFlow output; ipfix/flow_sample port. */
    uint32_t reason32;          /* slow_path reason. */
    uint16_t probability;
    uint32_t collector_set_id, obs_domain_id, obs_point_id;
    uint32_t direction;
    uint8_t dont_send, continuation;
    uint16_t reason16;
    uint32_t recirc_id;
    uint64_t rule_cookie;
    uint16_t controller_id, max_len;
};

static const char *const slow_path_names[] = {
    "cfm", "bfd", "lacp", "stp", "lldp", "action", "match",
};
#define N_SLOW_PATH (sizeof slow_path_names / sizeof *slow_path_names)

/* ---- Small helpers. ---- */

static void
put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void
put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static uint16_t
get16(const uint8_t *p)
{
    uint16_t v;

    memcpy(&v, p, 2);
    return v;
}

static uint32_t
get32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

static void
cookie_encode(const struct cookie *c, uint8_t out[COOKIE_LEN])
{
    memset(out, 0, COOKIE_LEN);
    put16(out, c->type);
    put32(out + 4, OFPP_NONE);
    switch (c->type) {
    case COOKIE_SFLOW:
        put16(out + 24, htons(c->vlan_tci));
        put32(out + 28, c->output);
        break;
    case COOKIE_SLOW_PATH:
        put32(out + 28, c->reason32);
        break;
    case COOKIE_FLOW_SAMPLE:
        put16(out + 24, c->probability);
        put32(out + 28, c->collector_set_id);
        put32(out + 32, c->obs_domain_id);
        put32(out + 36, c->obs_point_id);
        put32(out + 40, c->output);
        put32(out + 44, c->direction);
        break;
    case COOKIE_IPFIX:
        put32(out + 24, c->output);
        break;
    case COOKIE_CONTROLLER:
        out[24] = c->dont_send;
        out[25] = c->continuation;
        put16(out + 26, c->reason16);
        put32(out + 28, c->recirc_id);
        put32(out + 32, htonl(c->rule_cookie >> 32));
        put32(out + 36, htonl(c->rule_cookie & 0xffffffff));
        put16(out + 40, c->controller_id);
        put16(out + 42, c->max_len);
        break;
    default:
        break;
    }
}

static void
cookie_decode(const uint8_t *p, struct cookie *c)
{
    memset(c, 0, sizeof *c);
    c->type = get16(p);
    switch (c->type) {
    case COOKIE_SFLOW:
        c->vlan_tci = ntohs(get16(p + 24));
        c->output = get32(p + 28);
        break;
    case COOKIE_SLOW_PATH:
        c->reason32 = get32(p + 28);
        break;
    case COOKIE_FLOW_SAMPLE:
        c->probability = get16(p + 24);
        c->collector_set_id = get32(p + 28);
        c->obs_domain_id = get32(p + 32);
        c->obs_point_id = get32(p + 36);
        c->output = get32(p + 40);
        c->direction = get32(p + 44);
        break;
    case COOKIE_IPFIX:
        c->output = get32(p + 24);
        break;
    case COOKIE_CONTROLLER:
        c->dont_send = !!p[24];
        c->continuation = !!p[25];
        c->reason16 = get16(p + 26);
        c->recirc_id = get32(p + 28);
        c->rule_cookie = ((uint64_t) ntohl(get32(p + 32)) << 32)
                         | ntohl(get32(p + 36));
        c->controller_id = get16(p + 40);
        c->max_len = get16(p + 42);
        break;
    default:
        break;
    }
}

/* ---- Formatting. ---- */

static void format_list(const void *acts, size_t len, struct sbuf *out,
                        int depth);

static const void *
payload(const struct nlattr *a)
{
    return a + 1;
}

static size_t
payload_len(const struct nlattr *a)
{
    return a->nla_len - sizeof *a;
}

static void
format_generic(const struct nlattr *a, struct sbuf *out)
{
    const uint8_t *p = payload(a);
    size_t len = payload_len(a);

    sbuf_printf(out, "action%d", a->nla_type & NLA_TYPE_MASK);
    for (size_t i = 0; i < len; i++) {
        sbuf_printf(out, "%c%02x", i ? ' ' : '(', p[i]);
    }
    if (len) {
        sbuf_putc(out, ')');
    }
}

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

static bool
cookie_format(const uint8_t *p, struct sbuf *out)
{
    uint8_t again[COOKIE_LEN];
    struct cookie c;

    cookie_decode(p, &c);
    cookie_encode(&c, again);
    if (memcmp(again, p, COOKIE_LEN)) {
        return false;           /* Text would lose bytes: print hex. */
    }
    switch (c.type) {
    case COOKIE_SFLOW:
        /* OVS's parser sets CFI whenever the TCI is nonzero. */
        if (!!(c.vlan_tci & 0x1000) != !!(c.vlan_tci & ~0x1000)) {
            return false;
        }
        sbuf_printf(out, ",sFlow(vid=%d,pcp=%d,output=%"PRIu32")",
                    c.vlan_tci & 0xfff, c.vlan_tci >> 13, c.output);
        return true;
    case COOKIE_SLOW_PATH:
        if (c.reason32 >> N_SLOW_PATH) {
            return false;
        }
        sbuf_put(out, ",slow_path(");
        if (!c.reason32) {
            sbuf_putc(out, '0');
        }
        for (size_t i = 0, n = 0; i < N_SLOW_PATH; i++) {
            if (c.reason32 & (1u << i)) {
                sbuf_printf(out, "%s%s", n++ ? "," : "", slow_path_names[i]);
            }
        }
        sbuf_putc(out, ')');
        return true;
    case COOKIE_FLOW_SAMPLE:
        if (c.direction > 2) {
            return false;
        }
        sbuf_printf(out, ",flow_sample(probability=%"PRIu16
                    ",collector_set_id=%"PRIu32",obs_domain_id=%"PRIu32
                    ",obs_point_id=%"PRIu32",output_port=%"PRIu32"%s)",
                    c.probability, c.collector_set_id, c.obs_domain_id,
                    c.obs_point_id, c.output,
                    c.direction == 1 ? ",ingress"
                    : c.direction == 2 ? ",egress" : "");
        return true;
    case COOKIE_IPFIX:
        sbuf_printf(out, ",ipfix(output_port=%"PRIu32")", c.output);
        return true;
    case COOKIE_CONTROLLER:
        sbuf_printf(out, ",controller(reason=%"PRIu16",dont_send=%d"
                    ",continuation=%d,recirc_id=%"PRIu32
                    ",rule_cookie=%#"PRIx64",controller_id=%"PRIu16
                    ",max_len=%"PRIu16")", c.reason16, c.dont_send,
                    c.continuation, c.recirc_id, c.rule_cookie,
                    c.controller_id, c.max_len);
        return true;
    default:
        return false;
    }
}

static void
format_userspace(const struct nlattr *a, struct sbuf *out)
{
    struct act_userspace u;

    if (act_userspace_parse(a, &u)) {
        sbuf_put(out, "userspace(error)");
        return;
    }
    sbuf_printf(out, "userspace(pid=%"PRIu32, u.pid);
    if (u.userdata
        && !(u.userdata_len == COOKIE_LEN
             && cookie_format(u.userdata, out))) {
        sbuf_put(out, ",userdata(");
        sbuf_put_hex(out, u.userdata, u.userdata_len);
        sbuf_putc(out, ')');
    }
    if (u.include_actions) {
        sbuf_put(out, ",actions");
    }
    if (u.has_tun_port) {
        sbuf_printf(out, ",tunnel_out_port=%"PRIu32, u.tun_port);
    }
    sbuf_putc(out, ')');
}

static void
format_mpls_lse(be32 lse_, struct sbuf *out)
{
    uint32_t lse = ntohl(lse_);

    sbuf_printf(out, "label=%"PRIu32",tc=%d,ttl=%d,bos=%d", lse >> 12,
                (int) (lse >> 9) & 7, (int) lse & 0xff, (int) (lse >> 8) & 1);
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
    uint16_t proto_min = pmin ? get16(payload(pmin)) : 0;
    uint16_t proto_max = pmax ? get16(payload(pmax)) : 0;
    size_t alen = min ? payload_len(min) : 0;

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
    if (max && payload_len(max) != alen) {
        sbuf_put(out, "nat(error: IP address sizes do not match)");
        return;
    }
    if ((max && memcmp(payload(min), payload(max), alen) > 0)
        || (pmax && proto_min > proto_max)) {
        sbuf_put(out, "nat(range error)");
        return;
    }
    sbuf_put(out, src ? "nat(src" : "nat(dst");
    if (min) {
        bool bracket = alen == 16 && proto_min;

        sbuf_putc(out, '=');
        format_ip(out, payload(min), alen, bracket);
        if (max) {
            sbuf_putc(out, '-');
            format_ip(out, payload(max), alen, bracket);
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

static void
format_ct(const struct nlattr *a, struct sbuf *out)
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
    zone = t[OVS_CT_ATTR_ZONE] ? get16(payload(t[OVS_CT_ATTR_ZONE])) : 0;
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
        const uint8_t *m = payload(t[OVS_CT_ATTR_MARK]);

        sbuf_printf(out, "mark=%#"PRIx32"/%#"PRIx32",", get32(m),
                    get32(m + 4));
    }
    if (t[OVS_CT_ATTR_LABELS]) {
        const uint8_t *l = payload(t[OVS_CT_ATTR_LABELS]);
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
        sbuf_printf(out, "helper=%.*s,", (int) payload_len(
                        t[OVS_CT_ATTR_HELPER]),
                    (const char *) payload(t[OVS_CT_ATTR_HELPER]));
    }
    if (t[OVS_CT_ATTR_TIMEOUT]) {
        sbuf_printf(out, "timeout=%.*s,", (int) payload_len(
                        t[OVS_CT_ATTR_TIMEOUT]),
                    (const char *) payload(t[OVS_CT_ATTR_TIMEOUT]));
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

static void
format_push_nsh(const struct nlattr *a, struct sbuf *out)
{
    const struct nlattr *k = payload(a), *n, *base = NULL, *md1 = NULL;
    const struct nlattr *md2 = NULL;
    size_t len = payload_len(a), rem;

    if (len < sizeof *k || k->nla_len < sizeof *k || k->nla_len > len) {
        sbuf_put(out, "push_nsh(error)");
        return;
    }
    n = payload(k);
    rem = payload_len(k);
    while (rem >= sizeof *n && n->nla_len >= sizeof *n && n->nla_len <= rem) {
        uint16_t t = n->nla_type & NLA_TYPE_MASK;
        size_t step = MNL_ALIGN(n->nla_len);

        if (t == OVS_NSH_KEY_ATTR_BASE && payload_len(n) == 8) {
            base = n;
        } else if (t == OVS_NSH_KEY_ATTR_MD1 && payload_len(n) == 16) {
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
        const struct ovs_nsh_key_base *b = payload(base);
        uint32_t path = ntohl(b->path_hdr);

        sbuf_printf(out, "push_nsh(flags=%d,ttl=%d,mdtype=%d,np=%d,"
                    "spi=0x%"PRIx32",si=%d", b->flags, b->ttl, b->mdtype,
                    b->np, path >> 8, (int) (path & 0xff));
        if (b->mdtype == 1 && md1) {
            const uint8_t *c = payload(md1);

            for (int i = 0; i < 4; i++) {
                sbuf_printf(out, ",c%d=0x%"PRIx32, i + 1,
                            ntohl(get32(c + 4 * i)));
            }
        } else if (b->mdtype == 2 && md2) {
            sbuf_put(out, ",md2=0x");
            sbuf_put_hex(out, payload(md2), payload_len(md2));
        } else {
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
    const uint8_t *p = payload(a);
    size_t len = payload_len(a);

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
        sbuf_printf(out, "%"PRIu32, get32(p));
        break;
    case OVS_ACTION_ATTR_USERSPACE:
        format_userspace(a, out);
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
            fkey_format_payload(k->nla_type & NLA_TYPE_MASK, payload(k),
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
        format_list(payload(acts), payload_len(acts), out, depth + 1);
        sbuf_put(out, "))");
        break;
    }
    case OVS_ACTION_ATTR_RECIRC:
        sbuf_printf(out, "recirc(%#"PRIx32")", get32(p));
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
        sbuf_printf(out, "pop_mpls(eth_type=0x%"PRIx16")", ntohs(get16(p)));
        break;
    case OVS_ACTION_ATTR_CT:
        format_ct(a, out);
        break;
    case OVS_ACTION_ATTR_TRUNC:
        sbuf_printf(out, "trunc(%"PRIu32")", get32(p));
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
        sbuf_printf(out, "meter(%"PRIu32")", get32(p));
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
        format_list(payload(gt), payload_len(gt), out, depth + 1);
        sbuf_put(out, "),le(");
        format_list(payload(le), payload_len(le), out, depth + 1);
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
        format_list(payload(acts), payload_len(acts), out, depth + 1);
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

struct parser {
    const char *s;              /* Current position. */
    struct nlmsghdr *nlh;
    size_t buflen;
    struct errbuf *err;
    int depth;
};

static int parse_list_until(struct parser *, char close);

static int
syntax(struct parser *p, const char *what)
{
    int n = 0;

    while (p->s[n] && n < 24 && p->s[n] != ',' && p->s[n] != ')') {
        n++;
    }
    errbuf_set(p->err, "%s at '%.*s'", what, n ? n : 1,
               *p->s ? p->s : "<end>");
    return -EINVAL;
}

static bool
match(struct parser *p, const char *lit)
{
    size_t n = strlen(lit);

    if (!strncmp(p->s, lit, n)) {
        p->s += n;
        return true;
    }
    return false;
}

static int
expect(struct parser *p, const char *lit)
{
    if (!match(p, lit)) {
        char what[64];

        snprintf(what, sizeof what, "expected '%s'", lit);
        return syntax(p, what);
    }
    return 0;
}

/* Reads an unsigned number: "0x" hex, else decimal ('hex': hex even
 * without the prefix, as OVS's %x). */
static int
parse_num(struct parser *p, uint64_t max, bool hex, uint64_t *v)
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
        return syntax(p, "expected a number");
    }
    errno = 0;
    *v = strtoull(s, &end, base);
    if (errno || *v > max) {
        return syntax(p, "number out of range");
    }
    p->s = end;
    return 0;
}

static int
field(struct parser *p, const char *name, uint64_t max, bool hex,
      uint64_t *v)
{
    int error = expect(p, name);

    return error ? error : parse_num(p, max, hex, v);
}

static int
put_attr(struct parser *p, uint16_t type, size_t len, const void *data)
{
    if (!mnl_attr_put_check(p->nlh, p->buflen, type, len, data)) {
        errbuf_set(p->err, "actions do not fit in %zu bytes", p->buflen);
        return -EMSGSIZE;
    }
    return 0;
}

static int
put_u32(struct parser *p, uint16_t type, uint32_t v)
{
    return put_attr(p, type, 4, &v);
}

static struct nlattr *
nest_start(struct parser *p, uint16_t type)
{
    struct nlattr *n = mnl_attr_nest_start_check(p->nlh, p->buflen, type);

    if (!n) {
        errbuf_set(p->err, "actions do not fit in %zu bytes", p->buflen);
    }
    return n;
}

static int
parse_mac(struct parser *p, uint8_t mac[6])
{
    unsigned int b[6];
    int n = 0;

    if (sscanf(p->s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2],
               &b[3], &b[4], &b[5], &n) != 6 || !n) {
        return syntax(p, "expected an Ethernet address");
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = b[i];
    }
    p->s += n;
    return 0;
}

static int
parse_userspace(struct parser *p)
{
    uint8_t cookie[COOKIE_LEN], *ud = NULL;
    uint8_t hexbuf[1024];
    size_t ud_len = 0;
    bool include_actions = false;
    uint64_t pid, v[8];
    struct nlattr *nest;
    struct cookie c;
    int error;

    memset(&c, 0, sizeof c);
    if ((error = field(p, "pid=", UINT32_MAX, false, &pid))) {
        return error;
    }
    if (match(p, ",sFlow(")) {
        if ((error = field(p, "vid=", 0xfff, false, &v[0]))
            || (error = field(p, ",pcp=", 7, false, &v[1]))
            || (error = field(p, ",output=", UINT32_MAX, false, &v[2]))
            || (error = expect(p, ")"))) {
            return error;
        }
        c.type = COOKIE_SFLOW;
        c.vlan_tci = v[0] | v[1] << 13;
        if (c.vlan_tci) {
            c.vlan_tci |= 0x1000;
        }
        c.output = v[2];
        ud = cookie;
    } else if (match(p, ",slow_path(")) {
        c.type = COOKIE_SLOW_PATH;
        if (!match(p, "0)")) {
            for (;;) {
                size_t i;

                for (i = 0; i < N_SLOW_PATH; i++) {
                    size_t n = strlen(slow_path_names[i]);

                    if (!strncmp(p->s, slow_path_names[i], n)
                        && (p->s[n] == ',' || p->s[n] == ')')) {
                        c.reason32 |= 1u << i;
                        p->s += n;
                        break;
                    }
                }
                if (i == N_SLOW_PATH) {
                    return syntax(p, "unknown slow_path reason");
                }
                if (match(p, ")")) {
                    break;
                }
                p->s++;         /* ',' */
            }
        }
        ud = cookie;
    } else if (match(p, ",flow_sample(")) {
        if ((error = field(p, "probability=", UINT16_MAX, false, &v[0]))
            || (error = field(p, ",collector_set_id=", UINT32_MAX, false,
                              &v[1]))
            || (error = field(p, ",obs_domain_id=", UINT32_MAX, false,
                              &v[2]))
            || (error = field(p, ",obs_point_id=", UINT32_MAX, false,
                              &v[3]))
            || (error = field(p, ",output_port=", UINT32_MAX, false,
                              &v[4]))) {
            return error;
        }
        c.type = COOKIE_FLOW_SAMPLE;
        c.probability = v[0];
        c.collector_set_id = v[1];
        c.obs_domain_id = v[2];
        c.obs_point_id = v[3];
        c.output = v[4];
        c.direction = match(p, ",ingress") ? 1 : match(p, ",egress") ? 2 : 0;
        if ((error = expect(p, ")"))) {
            return error;
        }
        ud = cookie;
    } else if (match(p, ",ipfix(")) {
        if ((error = field(p, "output_port=", UINT32_MAX, false, &v[0]))
            || (error = expect(p, ")"))) {
            return error;
        }
        c.type = COOKIE_IPFIX;
        c.output = v[0];
        ud = cookie;
    } else if (match(p, ",controller(")) {
        if ((error = field(p, "reason=", UINT16_MAX, false, &v[0]))
            || (error = field(p, ",dont_send=", UINT8_MAX, false, &v[1]))
            || (error = field(p, ",continuation=", UINT8_MAX, false, &v[2]))
            || (error = field(p, ",recirc_id=", UINT32_MAX, false, &v[3]))
            || (error = field(p, ",rule_cookie=", UINT64_MAX, true, &v[4]))
            || (error = field(p, ",controller_id=", UINT16_MAX, false,
                              &v[5]))
            || (error = field(p, ",max_len=", UINT16_MAX, false, &v[6]))
            || (error = expect(p, ")"))) {
            return error;
        }
        c.type = COOKIE_CONTROLLER;
        c.reason16 = v[0];
        c.dont_send = !!v[1];
        c.continuation = !!v[2];
        c.recirc_id = v[3];
        c.rule_cookie = v[4];
        c.controller_id = v[5];
        c.max_len = v[6];
        ud = cookie;
    } else if (match(p, ",userdata(")) {
        const char *end = strchr(p->s, ')');
        char tmp[2 * sizeof hexbuf + 1];
        int n;

        if (!end || (size_t) (end - p->s) >= sizeof tmp) {
            return syntax(p, "bad userdata");
        }
        memcpy(tmp, p->s, end - p->s);
        tmp[end - p->s] = '\0';
        n = end == p->s ? 0 : hex_to_bytes(tmp, hexbuf, sizeof hexbuf);
        if (n < 0) {
            return syntax(p, "bad userdata hex");
        }
        ud = hexbuf;
        ud_len = n;
        p->s = end + 1;
    }
    if (ud == cookie) {
        cookie_encode(&c, cookie);
        ud_len = COOKIE_LEN;
    }
    if (match(p, ",actions")) {
        include_actions = true;
    }

    nest = nest_start(p, OVS_ACTION_ATTR_USERSPACE);
    if (!nest) {
        return -EMSGSIZE;
    }
    if ((error = put_u32(p, OVS_USERSPACE_ATTR_PID, pid))
        || (ud && (error = put_attr(p, OVS_USERSPACE_ATTR_USERDATA, ud_len,
                                    ud)))
        || (include_actions
            && (error = put_attr(p, OVS_USERSPACE_ATTR_ACTIONS, 0, NULL)))) {
        return error;
    }
    if (match(p, ",tunnel_out_port=")) {
        if ((error = parse_num(p, UINT32_MAX, false, &v[0]))
            || (error = put_u32(p, OVS_USERSPACE_ATTR_EGRESS_TUN_PORT,
                                v[0]))) {
            return error;
        }
    }
    mnl_attr_nest_end(p->nlh, nest);
    return expect(p, ")");
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
parse_set(struct parser *p)
{
    union {
        struct nlmsghdr nlh;
        uint8_t b[2048];
    } kbuf, mbuf;
    const struct nlattr *k, *m;
    struct nlattr *nest;
    size_t klen;
    int n;

    mnl_nlmsg_put_header(kbuf.b);
    mnl_nlmsg_put_header(mbuf.b);
    n = fkey_parse_attr(p->s, &kbuf.nlh, sizeof kbuf, &mbuf.nlh,
                        sizeof mbuf, p->err);
    if (n < 0) {
        errbuf_prefix(p->err, "set: ");
        return n;
    }
    p->s += n;
    k = mnl_nlmsg_get_payload(&kbuf.nlh);
    m = mnl_nlmsg_get_payload(&mbuf.nlh);
    klen = payload_len(k);
    if (mbuf.nlh.nlmsg_len <= MNL_NLMSG_HDRLEN || payload_len(m) != klen
        || all_ones(payload(m), klen)) {
        nest = nest_start(p, OVS_ACTION_ATTR_SET);
        if (!nest || put_attr(p, k->nla_type, klen, payload(k))) {
            return -EMSGSIZE;
        }
    } else {
        uint8_t both[1024];

        if (2 * klen > sizeof both) {
            return syntax(p, "key too long for set_masked");
        }
        memcpy(both, payload(k), klen);
        memcpy(both + klen, payload(m), klen);
        nest = nest_start(p, OVS_ACTION_ATTR_SET_MASKED);
        if (!nest || put_attr(p, k->nla_type, 2 * klen, both)) {
            return -EMSGSIZE;
        }
    }
    mnl_attr_nest_end(p->nlh, nest);
    return expect(p, ")");
}

static int
parse_mpls(struct parser *p, uint16_t type)
{
    struct ovs_action_add_mpls m;
    uint64_t label, tc, ttl, bos, et, flags = 0;
    int error;

    if ((error = field(p, "label=", 0xfffff, false, &label))
        || (error = field(p, ",tc=", 7, false, &tc))
        || (error = field(p, ",ttl=", 255, false, &ttl))
        || (error = field(p, ",bos=", 1, false, &bos))
        || (error = field(p, ",eth_type=", UINT16_MAX, true, &et))) {
        return error;
    }
    if (type == OVS_ACTION_ATTR_ADD_MPLS && match(p, ",tun_flags=")
        && (error = parse_num(p, UINT16_MAX, false, &flags))) {
        return error;
    }
    if ((error = expect(p, ")"))) {
        return error;
    }
    memset(&m, 0, sizeof m);
    m.mpls_lse = htonl(label << 12 | tc << 9 | bos << 8 | ttl);
    m.mpls_ethertype = htons(et);
    m.tun_flags = flags;
    return put_attr(p, type, type == OVS_ACTION_ATTR_ADD_MPLS
                    ? sizeof m : sizeof(struct ovs_action_push_mpls), &m);
}

static int
parse_push_vlan(struct parser *p)
{
    struct ovs_action_push_vlan v;
    uint64_t tpid = 0x8100, vid, pcp, cfi = 1;
    int error;

    if (match(p, "tpid=")
        && ((error = parse_num(p, UINT16_MAX, false, &tpid))
            || (error = expect(p, ",")))) {
        return error;
    }
    if ((error = field(p, "vid=", 0xfff, false, &vid))
        || (error = field(p, ",pcp=", 7, false, &pcp))) {
        return error;
    }
    if (match(p, ",cfi=") && (error = parse_num(p, 1, false, &cfi))) {
        return error;
    }
    if ((error = expect(p, ")"))) {
        return error;
    }
    v.vlan_tpid = htons(tpid);
    v.vlan_tci = htons(vid | pcp << 13 | (cfi ? 0x1000 : 0));
    return put_attr(p, OVS_ACTION_ATTR_PUSH_VLAN, sizeof v, &v);
}

/* Parses an IPv4 or IPv6 address, the latter optionally in brackets. */
static int
parse_ip(struct parser *p, uint8_t addr[16], size_t *len)
{
    char buf[INET6_ADDRSTRLEN + 1];
    bool bracket = match(p, "[");
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
        return syntax(p, "expected an IP address");
    }
    memcpy(buf, p->s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET6, buf, addr) == 1) {
        *len = 16;
    } else {
        return syntax(p, "bad IP address");
    }
    p->s += n;
    return bracket ? expect(p, "]") : 0;
}

static int
parse_nat(struct parser *p)
{
    uint8_t min[16], max[16];
    size_t min_len = 0, max_len = 0;
    uint64_t pmin = 0, pmax = 0;
    bool has_pmax = false, persistent = false, hash = false, random = false;
    int kind = 0;               /* OVS_NAT_ATTR_SRC or _DST. */
    struct nlattr *nest;
    int error;

    if (match(p, "(")) {
        for (;;) {
            if (match(p, "src") || match(p, "dst")) {
                kind = p->s[-3] == 's' ? OVS_NAT_ATTR_SRC : OVS_NAT_ATTR_DST;
                if (match(p, "=")) {
                    if ((error = parse_ip(p, min, &min_len))) {
                        return error;
                    }
                    if (match(p, "-")
                        && (error = parse_ip(p, max, &max_len))) {
                        return error;
                    }
                    if (max_len && max_len != min_len) {
                        return syntax(p, "nat address families differ");
                    }
                    if (match(p, ":")) {
                        if ((error = parse_num(p, UINT16_MAX, false,
                                               &pmin))) {
                            return error;
                        }
                        if (match(p, "-")) {
                            if ((error = parse_num(p, UINT16_MAX, false,
                                                   &pmax))) {
                                return error;
                            }
                            has_pmax = true;
                        }
                    }
                }
            } else if (match(p, "persistent")) {
                persistent = true;
            } else if (match(p, "hash")) {
                hash = true;
            } else if (match(p, "random")) {
                random = true;
            } else {
                return syntax(p, "unknown nat option");
            }
            if (match(p, ")")) {
                break;
            }
            if ((error = expect(p, ","))) {
                return error;
            }
        }
    }
    nest = nest_start(p, OVS_CT_ATTR_NAT);
    if (!nest) {
        return -EMSGSIZE;
    }
    if (kind && (error = put_attr(p, kind, 0, NULL))) {
        return error;
    }
    if (min_len && (error = put_attr(p, OVS_NAT_ATTR_IP_MIN, min_len, min))) {
        return error;
    }
    if (max_len && (error = put_attr(p, OVS_NAT_ATTR_IP_MAX, max_len, max))) {
        return error;
    }
    if (pmin) {
        uint16_t v = pmin;

        if ((error = put_attr(p, OVS_NAT_ATTR_PROTO_MIN, 2, &v))) {
            return error;
        }
        v = pmax;
        if (has_pmax
            && (error = put_attr(p, OVS_NAT_ATTR_PROTO_MAX, 2, &v))) {
            return error;
        }
    }
    if ((persistent && (error = put_attr(p, OVS_NAT_ATTR_PERSISTENT, 0,
                                         NULL)))
        || (hash && (error = put_attr(p, OVS_NAT_ATTR_PROTO_HASH, 0, NULL)))
        || (random && (error = put_attr(p, OVS_NAT_ATTR_PROTO_RANDOM, 0,
                                        NULL)))) {
        return error;
    }
    mnl_attr_nest_end(p->nlh, nest);
    return 0;
}

/* Parses a 128-bit hex (or decimal up to 64 bits) number into host-order
 * bytes, as the ct label attribute holds it. */
static int
parse_u128(struct parser *p, uint8_t out[16])
{
    memset(out, 0, 16);
    if (match(p, "0x") || match(p, "0X")) {
        size_t n = strspn(p->s, "0123456789abcdefABCDEF");

        if (!n || n > 32) {
            return syntax(p, "bad 128-bit number");
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
        int error = parse_num(p, UINT64_MAX, false, &v);

        if (error) {
            return error;
        }
        for (int i = 0; i < 8; i++) {
            out[i] = v >> (8 * i);
        }
    }
    return 0;
}

static int
parse_ct(struct parser *p)
{
    bool commit = false, force = false;
    uint64_t zone = 0, mark[2] = { 0, 0 };
    uint8_t label[32];
    bool has_label = false, has_nat = false;
    const char *helper = NULL, *timeout = NULL, *nat_text = NULL;
    size_t helper_len = 0, timeout_len = 0;
    struct nlattr *nest;
    int error;

    memset(label, 0, sizeof label);
    if (match(p, "(")) {
        for (;;) {
            if (match(p, "commit")) {
                commit = true;
            } else if (match(p, "force_commit")) {
                force = true;
            } else if (match(p, "zone=")) {
                if ((error = parse_num(p, UINT16_MAX, false, &zone))) {
                    return error;
                }
            } else if (match(p, "mark=")) {
                if ((error = parse_num(p, UINT32_MAX, true, &mark[0]))) {
                    return error;
                }
                mark[1] = UINT32_MAX;
                if (match(p, "/")
                    && (error = parse_num(p, UINT32_MAX, true, &mark[1]))) {
                    return error;
                }
            } else if (match(p, "label=")) {
                if ((error = parse_u128(p, label))) {
                    return error;
                }
                memset(label + 16, 0xff, 16);
                if (match(p, "/") && (error = parse_u128(p, label + 16))) {
                    return error;
                }
                has_label = true;
            } else if (match(p, "helper=") || match(p, "timeout=")) {
                bool is_helper = p->s[-2] == 'r';
                size_t n = strcspn(p->s, ", \t\r\n)");

                if (!n || n > (is_helper ? 15u : 31u)) {
                    return syntax(p, is_helper ? "bad helper name"
                                               : "bad timeout name");
                }
                if (is_helper) {
                    helper = p->s;
                    helper_len = n;
                } else {
                    timeout = p->s;
                    timeout_len = n;
                }
                p->s += n;
            } else if (!strncmp(p->s, "nat", 3)) {
                /* Parsed into the netlink message last, in OVS order. */
                struct parser skip = *p;
                int depth = 0;

                nat_text = p->s;
                has_nat = true;
                skip.s += 3;
                if (*skip.s == '(') {
                    while (*skip.s && !(*skip.s == ')' && depth == 1)) {
                        depth += *skip.s == '(' ? 1 : *skip.s == ')' ? -1
                                                                     : 0;
                        skip.s++;
                    }
                    if (!*skip.s) {
                        return syntax(p, "unterminated nat(");
                    }
                    skip.s++;
                }
                p->s = skip.s;
            } else {
                return syntax(p, "unknown ct option");
            }
            if (match(p, ")")) {
                break;
            }
            if ((error = expect(p, ","))) {
                return error;
            }
        }
    }

    nest = nest_start(p, OVS_ACTION_ATTR_CT);
    if (!nest) {
        return -EMSGSIZE;
    }
    if ((commit && (error = put_attr(p, OVS_CT_ATTR_COMMIT, 0, NULL)))
        || (force && (error = put_attr(p, OVS_CT_ATTR_FORCE_COMMIT, 0,
                                       NULL)))) {
        return error;
    }
    if (zone) {
        uint16_t z = zone;

        if ((error = put_attr(p, OVS_CT_ATTR_ZONE, 2, &z))) {
            return error;
        }
    }
    if (mark[1]) {
        uint32_t mm[2] = { mark[0], mark[1] };

        if ((error = put_attr(p, OVS_CT_ATTR_MARK, sizeof mm, mm))) {
            return error;
        }
    }
    if (has_label) {
        static const uint8_t zero[16];

        if (memcmp(label + 16, zero, 16)
            && (error = put_attr(p, OVS_CT_ATTR_LABELS, 32, label))) {
            return error;
        }
    }
    for (int i = 0; i < 2; i++) {
        const char *str = i ? timeout : helper;
        size_t n = i ? timeout_len : helper_len;
        char tmp[32];

        if (str) {
            memcpy(tmp, str, n);
            tmp[n] = '\0';
            if ((error = put_attr(p, i ? OVS_CT_ATTR_TIMEOUT
                                       : OVS_CT_ATTR_HELPER, n + 1, tmp))) {
                return error;
            }
        }
    }
    if (has_nat) {
        const char *resume = p->s;

        p->s = nat_text + 3;
        error = parse_nat(p);
        if (error) {
            return error;
        }
        p->s = resume;
    }
    mnl_attr_nest_end(p->nlh, nest);
    return 0;
}

static int
parse_push_nsh(struct parser *p)
{
    uint64_t flags, ttl, mdtype, np, spi, si, c[4];
    struct ovs_nsh_key_base base;
    struct nlattr *outer, *inner;
    uint8_t md2[256];
    size_t md2_len = 0;
    int error;

    if ((error = field(p, "flags=", UINT8_MAX, false, &flags))
        || (error = field(p, ",ttl=", UINT8_MAX, false, &ttl))
        || (error = field(p, ",mdtype=", UINT8_MAX, false, &mdtype))
        || (error = field(p, ",np=", UINT8_MAX, false, &np))
        || (error = field(p, ",spi=", 0xffffff, true, &spi))
        || (error = field(p, ",si=", UINT8_MAX, false, &si))) {
        return error;
    }
    if (mdtype == 1) {
        static const char *const names[4] = {
            ",c1=", ",c2=", ",c3=", ",c4=",
        };

        for (int i = 0; i < 4; i++) {
            if ((error = field(p, names[i], UINT32_MAX, true, &c[i]))) {
                return error;
            }
        }
    } else if (mdtype == 2) {
        char tmp[2 * sizeof md2 + 1];
        size_t n;
        int r;

        if ((error = expect(p, ",md2=0x"))) {
            return error;
        }
        n = strspn(p->s, "0123456789abcdefABCDEF");
        if (!n || n >= sizeof tmp) {
            return syntax(p, "bad md2");
        }
        memcpy(tmp, p->s, n);
        tmp[n] = '\0';
        r = hex_to_bytes(tmp, md2, sizeof md2);
        if (r <= 0) {
            return syntax(p, "bad md2");
        }
        md2_len = r;
        p->s += n;
    } else {
        return syntax(p, "push_nsh needs mdtype 1 or 2");
    }
    if ((error = expect(p, ")"))) {
        return error;
    }
    memset(&base, 0, sizeof base);
    base.flags = flags;
    base.ttl = ttl;
    base.mdtype = mdtype;
    base.np = np;
    base.path_hdr = htonl(spi << 8 | si);
    outer = nest_start(p, OVS_ACTION_ATTR_PUSH_NSH);
    inner = outer ? nest_start(p, OVS_KEY_ATTR_NSH) : NULL;
    if (!inner
        || put_attr(p, OVS_NSH_KEY_ATTR_BASE, sizeof base, &base)) {
        return -EMSGSIZE;
    }
    if (mdtype == 1) {
        be32 ctx[4];

        for (int i = 0; i < 4; i++) {
            ctx[i] = htonl(c[i]);
        }
        error = put_attr(p, OVS_NSH_KEY_ATTR_MD1, sizeof ctx, ctx);
    } else {
        error = put_attr(p, OVS_NSH_KEY_ATTR_MD2, md2_len, md2);
    }
    if (error) {
        return error;
    }
    mnl_attr_nest_end(p->nlh, inner);
    mnl_attr_nest_end(p->nlh, outer);
    return 0;
}

/* Parses a nested action list "...)" into attribute 'type' of 'nest'
 * already started by the caller; consumes the ')'. */
static int
parse_nested_list(struct parser *p, uint16_t type)
{
    struct nlattr *nest = nest_start(p, type);
    int error;

    if (!nest) {
        return -EMSGSIZE;
    }
    error = parse_list_until(p, ')');
    if (error) {
        return error;
    }
    mnl_attr_nest_end(p->nlh, nest);
    return expect(p, ")");
}

static int
parse_action(struct parser *p)
{
    struct nlattr *nest;
    uint64_t v;
    int error;

    if (isdigit((unsigned char) *p->s)) {
        return (error = parse_num(p, UINT32_MAX, false, &v))
               ? error : put_u32(p, OVS_ACTION_ATTR_OUTPUT, v);
    }
    if (match(p, "userspace(")) {
        return parse_userspace(p);
    }
    if (match(p, "set(")) {
        return parse_set(p);
    }
    if (match(p, "push_vlan(")) {
        return parse_push_vlan(p);
    }
    if (match(p, "pop_vlan")) {
        return put_attr(p, OVS_ACTION_ATTR_POP_VLAN, 0, NULL);
    }
    if (match(p, "sample(sample=")) {
        char *end;
        double pct = strtod(p->s, &end);
        double prob;

        if (end == p->s || !(pct >= 0.0 && pct <= 100.0)) {
            return syntax(p, "bad sample percentage");
        }
        p->s = end;
        if ((error = expect(p, "%,actions("))) {
            return error;
        }
        prob = floor(UINT32_MAX * (pct / 100.0) + .5);
        nest = nest_start(p, OVS_ACTION_ATTR_SAMPLE);
        if (!nest || put_u32(p, OVS_SAMPLE_ATTR_PROBABILITY,
                             prob <= 0 ? 0 : prob >= UINT32_MAX
                             ? UINT32_MAX : (uint32_t) prob)) {
            return -EMSGSIZE;
        }
        if ((error = parse_nested_list(p, OVS_SAMPLE_ATTR_ACTIONS))) {
            return error;
        }
        mnl_attr_nest_end(p->nlh, nest);
        return expect(p, ")");
    }
    if (match(p, "recirc(")) {
        return (error = parse_num(p, UINT32_MAX, false, &v))
               || (error = expect(p, ")"))
               ? error : put_u32(p, OVS_ACTION_ATTR_RECIRC, v);
    }
    if (match(p, "hash(l4(") || match(p, "hash(sym_l4(")) {
        struct ovs_action_hash h;

        h.hash_alg = p->s[-4] == '_' ? 1 : OVS_HASH_ALG_L4;
        if ((error = parse_num(p, UINT32_MAX, false, &v))
            || (error = expect(p, "))"))) {
            return error;
        }
        h.hash_basis = v;
        return put_attr(p, OVS_ACTION_ATTR_HASH, sizeof h, &h);
    }
    if (match(p, "push_mpls(")) {
        return parse_mpls(p, OVS_ACTION_ATTR_PUSH_MPLS);
    }
    if (match(p, "add_mpls(")) {
        return parse_mpls(p, OVS_ACTION_ATTR_ADD_MPLS);
    }
    if (match(p, "pop_mpls(")) {
        uint16_t et;

        if ((error = field(p, "eth_type=", UINT16_MAX, true, &v))
            || (error = expect(p, ")"))) {
            return error;
        }
        et = htons(v);
        return put_attr(p, OVS_ACTION_ATTR_POP_MPLS, 2, &et);
    }
    if (match(p, "ct_clear")) {
        return put_attr(p, OVS_ACTION_ATTR_CT_CLEAR, 0, NULL);
    }
    if (match(p, "ct")) {
        return parse_ct(p);
    }
    if (match(p, "trunc(")) {
        return (error = parse_num(p, UINT32_MAX, false, &v))
               || (error = expect(p, ")"))
               ? error : put_u32(p, OVS_ACTION_ATTR_TRUNC, v);
    }
    if (match(p, "push_eth(")) {
        struct ovs_action_push_eth e;

        if ((error = expect(p, "src="))
            || (error = parse_mac(p, e.addresses.eth_src))
            || (error = expect(p, ",dst="))
            || (error = parse_mac(p, e.addresses.eth_dst))) {
            return error;
        }
        if (match(p, ",type=")
            && (error = parse_num(p, UINT16_MAX, false, &v))) {
            return error;
        }
        return (error = expect(p, ")"))
               ? error : put_attr(p, OVS_ACTION_ATTR_PUSH_ETH, sizeof e, &e);
    }
    if (match(p, "pop_eth")) {
        return put_attr(p, OVS_ACTION_ATTR_POP_ETH, 0, NULL);
    }
    if (match(p, "push_nsh(")) {
        return parse_push_nsh(p);
    }
    if (match(p, "pop_nsh()")) {
        return put_attr(p, OVS_ACTION_ATTR_POP_NSH, 0, NULL);
    }
    if (match(p, "meter(")) {
        return (error = parse_num(p, UINT32_MAX, false, &v))
               || (error = expect(p, ")"))
               ? error : put_u32(p, OVS_ACTION_ATTR_METER, v);
    }
    if (match(p, "clone(")) {
        return parse_nested_list(p, OVS_ACTION_ATTR_CLONE);
    }
    if (match(p, "check_pkt_len(size=")) {
        uint16_t len;

        if ((error = parse_num(p, UINT16_MAX, false, &v))
            || (error = expect(p, ",gt("))) {
            return error;
        }
        len = v;
        nest = nest_start(p, OVS_ACTION_ATTR_CHECK_PKT_LEN);
        if (!nest
            || put_attr(p, OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, 2, &len)) {
            return -EMSGSIZE;
        }
        if ((error = parse_nested_list(
                 p, OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER))
            || (error = expect(p, ",le("))
            || (error = parse_nested_list(
                    p, OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL))) {
            return error;
        }
        mnl_attr_nest_end(p->nlh, nest);
        return expect(p, ")");
    }
    if (match(p, "dec_ttl(le_1(")) {
        nest = nest_start(p, OVS_ACTION_ATTR_DEC_TTL);
        if (!nest) {
            return -EMSGSIZE;
        }
        if ((error = parse_nested_list(p, OVS_DEC_TTL_ATTR_ACTION))) {
            return error;
        }
        mnl_attr_nest_end(p->nlh, nest);
        return expect(p, ")");
    }
    return syntax(p, "unknown action");
}

/* Parses a comma-separated action list ending before 'close' (a ')' for
 * nested lists; '\0' at top level, where parsing also stops at anything
 * that is not ','). */
static int
parse_list_until(struct parser *p, char close)
{
    int error;

    if (++p->depth > FORMAT_MAX_DEPTH) {
        return syntax(p, "actions nest too deeply");
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
    struct parser p = {
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
